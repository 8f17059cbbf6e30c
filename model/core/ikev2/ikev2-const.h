/*
 * IKEv2 protocol numbers (RFC 7296 and the IANA "Internet Key Exchange
 * Version 2 (IKEv2) Parameters" registries it created) and their text
 * names for logs and show views.
 *
 * Transform IDs (encryption, PRF, integrity, DH groups) live in
 * crypto/crypto-ids.h because ESP and GDOI use them too; this header adds
 * the IKEv2-only numbers. Notify types are protocol errors, a space kept
 * apart from the library's VPN_ERR_* codes.
 */
#ifndef VPN_IKEV2_CONST_H
#define VPN_IKEV2_CONST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto-ids.h"

#ifdef __cplusplus
extern "C" {
#endif

/* RFC 7296 3.1: the fixed IKE header, version 2.0 on the wire. */
#define VPN_IKEV2_HDR_LEN 28u
#define VPN_IKEV2_VERSION 0x20u /* major 2, minor 0 */
#define VPN_IKEV2_MAJOR(v) ((uint8_t)(v) >> 4)

/* RFC 7296 3.1 flags; the other bits are ignored on receipt. */
#define VPN_IKEV2_FLAG_I 0x08u /* sent by the original initiator */
#define VPN_IKEV2_FLAG_V 0x10u /* "I can speak a higher major version" */
#define VPN_IKEV2_FLAG_R 0x20u /* this is a response */

/* RFC 7296 3.2: the generic payload header and its critical bit. */
#define VPN_IKEV2_GEN_HDR_LEN 4u
#define VPN_IKEV2_CRITICAL 0x80u

/* RFC 7296 3.1 Exchange Type. */
enum vpn_ikev2_exchange {
    VPN_IKEV2_IKE_SA_INIT = 34,
    VPN_IKEV2_IKE_AUTH = 35,
    VPN_IKEV2_CREATE_CHILD_SA = 36,
    VPN_IKEV2_INFORMATIONAL = 37,
    VPN_IKEV2_IKE_SESSION_RESUME = 38, /* RFC 5723 */
    VPN_IKEV2_IKE_INTERMEDIATE = 43,   /* RFC 9242 */
};

/* RFC 7296 3.2 Payload Type ("Next Payload" values). */
enum vpn_ikev2_payload_type {
    VPN_IKEV2_PL_NONE = 0,
    VPN_IKEV2_PL_SA = 33,      /* 3.3 */
    VPN_IKEV2_PL_KE = 34,      /* 3.4 */
    VPN_IKEV2_PL_IDI = 35,     /* 3.5 */
    VPN_IKEV2_PL_IDR = 36,     /* 3.5 */
    VPN_IKEV2_PL_CERT = 37,    /* 3.6 */
    VPN_IKEV2_PL_CERTREQ = 38, /* 3.7 */
    VPN_IKEV2_PL_AUTH = 39,    /* 3.8 */
    VPN_IKEV2_PL_NONCE = 40,   /* 3.9 */
    VPN_IKEV2_PL_NOTIFY = 41,  /* 3.10 */
    VPN_IKEV2_PL_DELETE = 42,  /* 3.11 */
    VPN_IKEV2_PL_VENDOR = 43,  /* 3.12 */
    VPN_IKEV2_PL_TSI = 44,     /* 3.13 */
    VPN_IKEV2_PL_TSR = 45,     /* 3.13 */
    VPN_IKEV2_PL_SK = 46,      /* 3.14 */
    VPN_IKEV2_PL_CP = 47,      /* 3.15 */
    VPN_IKEV2_PL_EAP = 48,     /* 3.16 */
    VPN_IKEV2_PL_GSPM = 49,    /* RFC 6467; not parsed */
    VPN_IKEV2_PL_SKF = 53,     /* RFC 7383 2.5 */
};

/*
 * RFC 7296 3.10.1 Notify Message Types. Below 16384 they are errors, from
 * 16384 on status; later RFCs are named beside their numbers.
 */
enum vpn_ikev2_notify {
    VPN_IKEV2_N_UNSUPPORTED_CRITICAL_PAYLOAD = 1,
    VPN_IKEV2_N_INVALID_IKE_SPI = 4,
    VPN_IKEV2_N_INVALID_MAJOR_VERSION = 5,
    VPN_IKEV2_N_INVALID_SYNTAX = 7,
    VPN_IKEV2_N_INVALID_MESSAGE_ID = 9,
    VPN_IKEV2_N_INVALID_SPI = 11,
    VPN_IKEV2_N_NO_PROPOSAL_CHOSEN = 14,
    VPN_IKEV2_N_INVALID_KE_PAYLOAD = 17,
    VPN_IKEV2_N_AUTHENTICATION_FAILED = 24,
    VPN_IKEV2_N_SINGLE_PAIR_REQUIRED = 34,
    VPN_IKEV2_N_NO_ADDITIONAL_SAS = 35,
    VPN_IKEV2_N_INTERNAL_ADDRESS_FAILURE = 36,
    VPN_IKEV2_N_FAILED_CP_REQUIRED = 37,
    VPN_IKEV2_N_TS_UNACCEPTABLE = 38,
    VPN_IKEV2_N_INVALID_SELECTORS = 39,
    VPN_IKEV2_N_UNACCEPTABLE_ADDRESSES = 40, /* RFC 4555 */
    VPN_IKEV2_N_UNEXPECTED_NAT_DETECTED = 41, /* RFC 4555 */
    VPN_IKEV2_N_TEMPORARY_FAILURE = 43,
    VPN_IKEV2_N_CHILD_SA_NOT_FOUND = 44,

    VPN_IKEV2_N_STATUS_MIN = 16384,
    VPN_IKEV2_N_INITIAL_CONTACT = 16384,
    VPN_IKEV2_N_SET_WINDOW_SIZE = 16385,
    VPN_IKEV2_N_ADDITIONAL_TS_POSSIBLE = 16386,
    VPN_IKEV2_N_IPCOMP_SUPPORTED = 16387,
    VPN_IKEV2_N_NAT_DETECTION_SOURCE_IP = 16388,
    VPN_IKEV2_N_NAT_DETECTION_DESTINATION_IP = 16389,
    VPN_IKEV2_N_COOKIE = 16390,
    VPN_IKEV2_N_USE_TRANSPORT_MODE = 16391,
    VPN_IKEV2_N_HTTP_CERT_LOOKUP_SUPPORTED = 16392,
    VPN_IKEV2_N_REKEY_SA = 16393,
    VPN_IKEV2_N_ESP_TFC_PADDING_NOT_SUPPORTED = 16394,
    VPN_IKEV2_N_NON_FIRST_FRAGMENTS_ALSO = 16395,
    VPN_IKEV2_N_MOBIKE_SUPPORTED = 16396,      /* RFC 4555 */
    VPN_IKEV2_N_MULTIPLE_AUTH_SUPPORTED = 16404, /* RFC 4739 */
    VPN_IKEV2_N_ANOTHER_AUTH_FOLLOWS = 16405,  /* RFC 4739 */
    VPN_IKEV2_N_REDIRECT_SUPPORTED = 16406,    /* RFC 5685 */
    VPN_IKEV2_N_EAP_ONLY_AUTHENTICATION = 16417, /* RFC 5998 */
    VPN_IKEV2_N_CHILDLESS_IKEV2_SUPPORTED = 16418, /* RFC 6023 */
    VPN_IKEV2_N_IKEV2_FRAGMENTATION_SUPPORTED = 16430, /* RFC 7383 2.3 */
    VPN_IKEV2_N_SIGNATURE_HASH_ALGORITHMS = 16431,   /* RFC 7427 4 */
    VPN_IKEV2_N_USE_PPK = 16435,                     /* RFC 8784 */
    VPN_IKEV2_N_INTERMEDIATE_EXCHANGE_SUPPORTED = 16438, /* RFC 9242 */
};

/* RFC 7296 3.3.1 Protocol ID (also used by Notify and Delete). */
enum vpn_ikev2_proto {
    VPN_IKEV2_PROTO_NONE = 0,
    VPN_IKEV2_PROTO_IKE = 1,
    VPN_IKEV2_PROTO_AH = 2,
    VPN_IKEV2_PROTO_ESP = 3,
};

/* RFC 7296 3.3.2 Transform Type. */
enum vpn_ikev2_xform_type {
    VPN_IKEV2_XF_ENCR = 1,
    VPN_IKEV2_XF_PRF = 2,
    VPN_IKEV2_XF_INTEG = 3,
    VPN_IKEV2_XF_DH = 4,   /* "Key Exchange Method" since RFC 9370 */
    VPN_IKEV2_XF_ESN = 5,
    VPN_IKEV2_XF_ADDKE1 = 6, /* RFC 9370: additional key exchanges 1..7 */
    VPN_IKEV2_XF_ADDKE7 = 12,
};
#define VPN_IKEV2_XF_TYPE_MAX 12u /* highest type this code knows */

/* RFC 7296 3.3.2 Transform Type 5 values. */
enum vpn_ikev2_esn {
    VPN_IKEV2_ESN_NO = 0,
    VPN_IKEV2_ESN_YES = 1,
};

/* RFC 7296 3.3.5 Transform Attribute Types; Key Length is TV-encoded. */
enum vpn_ikev2_xform_attr {
    VPN_IKEV2_ATTR_KEY_LENGTH = 14,
};
#define VPN_IKEV2_ATTR_TV 0x8000u /* AF bit: the value is in the header */

/* RFC 7296 3.5 ID Type. */
enum vpn_ikev2_id_type {
    VPN_IKEV2_ID_IPV4_ADDR = 1,
    VPN_IKEV2_ID_FQDN = 2,
    VPN_IKEV2_ID_RFC822_ADDR = 3,
    VPN_IKEV2_ID_IPV6_ADDR = 5,
    VPN_IKEV2_ID_DER_ASN1_DN = 9,
    VPN_IKEV2_ID_DER_ASN1_GN = 10,
    VPN_IKEV2_ID_KEY_ID = 11,
    VPN_IKEV2_ID_NULL = 13, /* RFC 7619 */
};

/* RFC 7296 3.6 Certificate Encoding (CERT and CERTREQ). */
enum vpn_ikev2_cert_encoding {
    VPN_IKEV2_CERT_PKCS7 = 1,
    VPN_IKEV2_CERT_PGP = 2,
    VPN_IKEV2_CERT_DNS_KEY = 3,
    VPN_IKEV2_CERT_X509_SIG = 4,
    VPN_IKEV2_CERT_KERBEROS = 6,
    VPN_IKEV2_CERT_CRL = 7,
    VPN_IKEV2_CERT_ARL = 8,
    VPN_IKEV2_CERT_SPKI = 9,
    VPN_IKEV2_CERT_X509_ATTR = 10,
    VPN_IKEV2_CERT_RAW_RSA = 11,
    VPN_IKEV2_CERT_HASH_URL_X509 = 12,
    VPN_IKEV2_CERT_HASH_URL_BUNDLE = 13,
    VPN_IKEV2_CERT_RAW_PUBLIC_KEY = 15, /* RFC 7670 */
};
/* RFC 7296 3.7: an X.509 CERTREQ lists SHA-1 hashes of CA public keys. */
#define VPN_IKEV2_CERTREQ_HASH_LEN 20u

/* RFC 7296 3.8 Auth Method. */
enum vpn_ikev2_auth_method {
    VPN_IKEV2_AUTH_RSA_SIG = 1,
    VPN_IKEV2_AUTH_PSK = 2, /* Shared Key Message Integrity Code */
    VPN_IKEV2_AUTH_DSS_SIG = 3,
    VPN_IKEV2_AUTH_ECDSA_256 = 9,  /* RFC 4754 */
    VPN_IKEV2_AUTH_ECDSA_384 = 10,
    VPN_IKEV2_AUTH_ECDSA_521 = 11,
    VPN_IKEV2_AUTH_NULL = 13,      /* RFC 7619 */
    VPN_IKEV2_AUTH_DIGITAL_SIGNATURE = 14, /* RFC 7427 3 */
};

/* RFC 7427 4: hash algorithms in SIGNATURE_HASH_ALGORITHMS. */
enum vpn_ikev2_hash_alg {
    VPN_IKEV2_HASH_SHA1 = 1,
    VPN_IKEV2_HASH_SHA2_256 = 2,
    VPN_IKEV2_HASH_SHA2_384 = 3,
    VPN_IKEV2_HASH_SHA2_512 = 4,
    VPN_IKEV2_HASH_IDENTITY = 5, /* RFC 8420 */
};

/* RFC 7296 3.9: Nonce Data is 16..256 octets. */
#define VPN_IKEV2_NONCE_MIN 16u
#define VPN_IKEV2_NONCE_MAX 256u

/* RFC 7296 3.13.1 TS Type. */
enum vpn_ikev2_ts_type {
    VPN_IKEV2_TS_IPV4_ADDR_RANGE = 7,
    VPN_IKEV2_TS_IPV6_ADDR_RANGE = 8,
};

/* RFC 7296 3.15 CFG Type. */
enum vpn_ikev2_cfg_type {
    VPN_IKEV2_CFG_REQUEST = 1,
    VPN_IKEV2_CFG_REPLY = 2,
    VPN_IKEV2_CFG_SET = 3,
    VPN_IKEV2_CFG_ACK = 4,
};

/* RFC 7296 3.15.1 Configuration Attributes. */
enum vpn_ikev2_cfg_attr {
    VPN_IKEV2_CFG_INTERNAL_IP4_ADDRESS = 1,
    VPN_IKEV2_CFG_INTERNAL_IP4_NETMASK = 2,
    VPN_IKEV2_CFG_INTERNAL_IP4_DNS = 3,
    VPN_IKEV2_CFG_INTERNAL_IP4_NBNS = 4,
    VPN_IKEV2_CFG_INTERNAL_IP4_DHCP = 6,
    VPN_IKEV2_CFG_APPLICATION_VERSION = 7,
    VPN_IKEV2_CFG_INTERNAL_IP6_ADDRESS = 8,
    VPN_IKEV2_CFG_INTERNAL_IP6_DNS = 10,
    VPN_IKEV2_CFG_INTERNAL_IP6_DHCP = 12,
    VPN_IKEV2_CFG_INTERNAL_IP4_SUBNET = 13,
    VPN_IKEV2_CFG_SUPPORTED_ATTRIBUTES = 14,
    VPN_IKEV2_CFG_INTERNAL_IP6_SUBNET = 15,
};

/* RFC 3748 4: EAP codes (RFC 6696 adds Initiate and Finish). */
enum vpn_ikev2_eap_code {
    VPN_IKEV2_EAP_REQUEST = 1,
    VPN_IKEV2_EAP_RESPONSE = 2,
    VPN_IKEV2_EAP_SUCCESS = 3,
    VPN_IKEV2_EAP_FAILURE = 4,
    VPN_IKEV2_EAP_INITIATE = 5,
    VPN_IKEV2_EAP_FINISH = 6,
};

/*
 * Text names. Each returns a static string, never NULL; numbers without a
 * name give "UNKNOWN". Payload names use RFC 7296's notation (SA, KE, IDi,
 * N, ...), as logs in the RFC and in strongSwan do.
 */
const char *vpn_ikev2_exchange_name(uint8_t exchange);
const char *vpn_ikev2_payload_name(uint8_t type);
const char *vpn_ikev2_notify_name(uint16_t type);
const char *vpn_ikev2_proto_name(uint8_t proto);
const char *vpn_ikev2_xform_type_name(uint8_t type);
/* IANA transform name for a (type, id) pair: "ENCR_AES_CBC", "MODP_2048", ... */
const char *vpn_ikev2_xform_id_name(uint8_t type, uint16_t id);
const char *vpn_ikev2_id_type_name(uint8_t type);
const char *vpn_ikev2_cert_encoding_name(uint8_t enc);
const char *vpn_ikev2_auth_method_name(uint8_t method);
const char *vpn_ikev2_ts_type_name(uint8_t type);
const char *vpn_ikev2_cfg_type_name(uint8_t type);
const char *vpn_ikev2_cfg_attr_name(uint16_t type);

/* True for notify types in the error range (RFC 7296 3.10.1). */
static inline bool vpn_ikev2_notify_is_error(uint16_t type)
{
    return type != 0 && type < VPN_IKEV2_N_STATUS_MIN;
}

/*
 * True for combined-mode (AEAD) encryption transforms, which take no
 * integrity transform (RFC 5282 8, RFC 7634 4, RFC 4543 for GMAC).
 */
bool vpn_ikev2_encr_is_aead(uint16_t id);

/*
 * Length of the Key Exchange Data for a DH group (RFC 7296 3.4; MODP:
 * the prime's length, RFC 3526; ECP: x || y, RFC 5903 7; Curve25519/448:
 * RFC 8031 2). Returns 0 for groups this table does not know.
 */
size_t vpn_ikev2_dh_ke_len(uint16_t group);

#ifdef __cplusplus
}
#endif

#endif
