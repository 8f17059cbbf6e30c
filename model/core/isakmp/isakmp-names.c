#include "isakmp/isakmp-names.h"

#include <stddef.h>

#include "isakmp/isakmp-const.h"

typedef struct name_entry {
    uint32_t v;
    const char *name;
} name_entry;

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *lookup(const name_entry *t, size_t n, uint32_t v)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].v == v)
            return t[i].name;
    return "UNKNOWN";
}

/* RFC 2408 3.1, RFC 2409 5.5/5.6, RFC 6407 3-4, RFC 8263. */
static const name_entry exch_common[] = {
    {VPN_ISAKMP_EXCH_NONE, "NONE"},
    {VPN_ISAKMP_EXCH_BASE, "Base"},
    {VPN_ISAKMP_EXCH_MAIN, "Identity Protection (Main Mode)"},
    {VPN_ISAKMP_EXCH_AUTH_ONLY, "Authentication Only"},
    {VPN_ISAKMP_EXCH_AGGRESSIVE, "Aggressive"},
    {VPN_ISAKMP_EXCH_INFO, "Informational"},
    {VPN_ISAKMP_EXCH_TRANSACTION, "Transaction (Config Mode)"},
};
static const name_entry exch_ipsec[] = {
    {VPN_ISAKMP_EXCH_QUICK, "Quick Mode"},
    {VPN_ISAKMP_EXCH_NEW_GROUP, "New Group Mode"},
};
static const name_entry exch_gdoi[] = {
    {VPN_GDOI_EXCH_PULL, "GROUPKEY-PULL"},
    {VPN_GDOI_EXCH_PUSH, "GROUPKEY-PUSH"},
    {VPN_GDOI_EXCH_PUSH_ACK, "GROUPKEY-PUSH ACK"},
    {VPN_GDOI_EXCH_COOP, "COOP announcement (private use)"},
};

const char *vpn_isakmp_exch_name(uint8_t exch, uint32_t doi)
{
    if (exch < 32)
        return lookup(exch_common, COUNT(exch_common), exch);
    if (doi == VPN_ISAKMP_DOI_GDOI)
        return lookup(exch_gdoi, COUNT(exch_gdoi), exch);
    return lookup(exch_ipsec, COUNT(exch_ipsec), exch);
}

static const name_entry pl_names[] = {
    {VPN_ISAKMP_PL_NONE, "NONE"},
    {VPN_ISAKMP_PL_SA, "Security Association"},
    {VPN_ISAKMP_PL_P, "Proposal"},
    {VPN_ISAKMP_PL_T, "Transform"},
    {VPN_ISAKMP_PL_KE, "Key Exchange"},
    {VPN_ISAKMP_PL_ID, "Identification"},
    {VPN_ISAKMP_PL_CERT, "Certificate"},
    {VPN_ISAKMP_PL_CR, "Certificate Request"},
    {VPN_ISAKMP_PL_HASH, "Hash"},
    {VPN_ISAKMP_PL_SIG, "Signature"},
    {VPN_ISAKMP_PL_NONCE, "Nonce"},
    {VPN_ISAKMP_PL_N, "Notification"},
    {VPN_ISAKMP_PL_D, "Delete"},
    {VPN_ISAKMP_PL_VID, "Vendor ID"},
    {VPN_GDOI_PL_SAK, "SA KEK"},
    {VPN_GDOI_PL_SAT, "SA TEK"},
    {VPN_GDOI_PL_KD, "Key Download"},
    {VPN_GDOI_PL_SEQ, "Sequence Number"},
    {VPN_GDOI_PL_POP, "Proof of Possession"},
    {VPN_ISAKMP_PL_NAT_D, "NAT-D"},
    {VPN_ISAKMP_PL_NAT_OA, "NAT-OA"},
    {VPN_GDOI_PL_GAP, "Group Associated Policy"},
    {VPN_GDOI_PL_COOP, "COOP announcement (private use)"},
};

const char *vpn_isakmp_pl_name(uint8_t type)
{
    return lookup(pl_names, COUNT(pl_names), type);
}

/* RFC 2408 3.14.1, RFC 2407 4.6.3, RFC 3706. */
static const name_entry notify_names[] = {
    {1, "INVALID-PAYLOAD-TYPE"},
    {2, "DOI-NOT-SUPPORTED"},
    {3, "SITUATION-NOT-SUPPORTED"},
    {4, "INVALID-COOKIE"},
    {5, "INVALID-MAJOR-VERSION"},
    {6, "INVALID-MINOR-VERSION"},
    {7, "INVALID-EXCHANGE-TYPE"},
    {8, "INVALID-FLAGS"},
    {9, "INVALID-MESSAGE-ID"},
    {10, "INVALID-PROTOCOL-ID"},
    {11, "INVALID-SPI"},
    {12, "INVALID-TRANSFORM-ID"},
    {13, "ATTRIBUTES-NOT-SUPPORTED"},
    {14, "NO-PROPOSAL-CHOSEN"},
    {15, "BAD-PROPOSAL-SYNTAX"},
    {16, "PAYLOAD-MALFORMED"},
    {17, "INVALID-KEY-INFORMATION"},
    {18, "INVALID-ID-INFORMATION"},
    {19, "INVALID-CERT-ENCODING"},
    {20, "INVALID-CERTIFICATE"},
    {21, "CERT-TYPE-UNSUPPORTED"},
    {22, "INVALID-CERT-AUTHORITY"},
    {23, "INVALID-HASH-INFORMATION"},
    {24, "AUTHENTICATION-FAILED"},
    {25, "INVALID-SIGNATURE"},
    {26, "ADDRESS-NOTIFICATION"},
    {27, "NOTIFY-SA-LIFETIME"},
    {28, "CERTIFICATE-UNAVAILABLE"},
    {29, "UNSUPPORTED-EXCHANGE-TYPE"},
    {30, "UNEQUAL-PAYLOAD-LENGTHS"},
    {VPN_ISAKMP_N_CONNECTED, "CONNECTED"},
    {VPN_IPSEC_DOI_N_RESPONDER_LIFETIME, "RESPONDER-LIFETIME"},
    {VPN_IPSEC_DOI_N_REPLAY_STATUS, "REPLAY-STATUS"},
    {VPN_IPSEC_DOI_N_INITIAL_CONTACT, "INITIAL-CONTACT"},
    {VPN_ISAKMP_N_R_U_THERE, "R-U-THERE"},
    {VPN_ISAKMP_N_R_U_THERE_ACK, "R-U-THERE-ACK"},
};

const char *vpn_isakmp_notify_name(uint16_t type)
{
    return lookup(notify_names, COUNT(notify_names), type);
}

static const name_entry doi_names[] = {
    {VPN_ISAKMP_DOI_ISAKMP, "ISAKMP"},
    {VPN_ISAKMP_DOI_IPSEC, "IPSEC"},
    {VPN_ISAKMP_DOI_GDOI, "GDOI"},
};

const char *vpn_isakmp_doi_name(uint32_t doi)
{
    return lookup(doi_names, COUNT(doi_names), doi);
}

static const name_entry proto_names[] = {
    {VPN_ISAKMP_PROTO_ISAKMP, "PROTO_ISAKMP"},
    {VPN_ISAKMP_PROTO_IPSEC_AH, "PROTO_IPSEC_AH"},
    {VPN_ISAKMP_PROTO_IPSEC_ESP, "PROTO_IPSEC_ESP"},
    {VPN_ISAKMP_PROTO_IPCOMP, "PROTO_IPCOMP"},
};

const char *vpn_isakmp_proto_name(uint8_t proto)
{
    return lookup(proto_names, COUNT(proto_names), proto);
}

static const name_entry id_names[] = {
    {VPN_ISAKMP_ID_IPV4_ADDR, "ID_IPV4_ADDR"},
    {VPN_ISAKMP_ID_FQDN, "ID_FQDN"},
    {VPN_ISAKMP_ID_USER_FQDN, "ID_USER_FQDN"},
    {VPN_ISAKMP_ID_IPV4_ADDR_SUBNET, "ID_IPV4_ADDR_SUBNET"},
    {VPN_ISAKMP_ID_IPV6_ADDR, "ID_IPV6_ADDR"},
    {VPN_ISAKMP_ID_IPV6_ADDR_SUBNET, "ID_IPV6_ADDR_SUBNET"},
    {VPN_ISAKMP_ID_IPV4_ADDR_RANGE, "ID_IPV4_ADDR_RANGE"},
    {VPN_ISAKMP_ID_IPV6_ADDR_RANGE, "ID_IPV6_ADDR_RANGE"},
    {VPN_ISAKMP_ID_DER_ASN1_DN, "ID_DER_ASN1_DN"},
    {VPN_ISAKMP_ID_DER_ASN1_GN, "ID_DER_ASN1_GN"},
    {VPN_ISAKMP_ID_KEY_ID, "ID_KEY_ID"},
};

const char *vpn_isakmp_id_type_name(uint8_t type)
{
    return lookup(id_names, COUNT(id_names), type);
}

static const name_entry ike_attr_names[] = {
    {1, "Encryption Algorithm"},
    {2, "Hash Algorithm"},
    {3, "Authentication Method"},
    {4, "Group Description"},
    {5, "Group Type"},
    {6, "Group Prime/Irreducible Polynomial"},
    {7, "Group Generator One"},
    {8, "Group Generator Two"},
    {9, "Group Curve A"},
    {10, "Group Curve B"},
    {11, "Life Type"},
    {12, "Life Duration"},
    {13, "PRF"},
    {14, "Key Length"},
    {15, "Field Size"},
    {16, "Group Order"},
};
static const name_entry ipsec_attr_names[] = {
    {1, "SA Life Type"},
    {2, "SA Life Duration"},
    {3, "Group Description"},
    {4, "Encapsulation Mode"},
    {5, "Authentication Algorithm"},
    {6, "Key Length"},
    {7, "Key Rounds"},
    {8, "Compress Dictionary Size"},
    {9, "Compress Private Algorithm"},
    {10, "ECN Tunnel"},
    {11, "Extended (64-bit) Sequence Number"},
    {12, "Authentication Key Length"},
    {13, "Signature Encoding Algorithm"},
    {14, "Address Preservation"},
    {15, "SA Direction"},
};
static const name_entry kek_attr_names[] = {
    {VPN_GDOI_KEK_MGMT_ALG, "KEK_MANAGEMENT_ALGORITHM"},
    {VPN_GDOI_KEK_ALG, "KEK_ALGORITHM"},
    {VPN_GDOI_KEK_KEY_LEN, "KEK_KEY_LENGTH"},
    {VPN_GDOI_KEK_LIFETIME, "KEK_KEY_LIFETIME"},
    {VPN_GDOI_KEK_SIG_HASH, "SIG_HASH_ALGORITHM"},
    {VPN_GDOI_KEK_SIG_ALG, "SIG_ALGORITHM"},
    {VPN_GDOI_KEK_SIG_KEY_LEN, "SIG_KEY_LENGTH"},
    {VPN_GDOI_KEK_ACK_REQUESTED, "KEK_ACK_REQUESTED"},
};
static const name_entry gap_attr_names[] = {
    {VPN_GDOI_GAP_ACTIVATION_DELAY, "ACTIVATION_TIME_DELAY"},
    {VPN_GDOI_GAP_DEACTIVATION_DELAY, "DEACTIVATION_TIME_DELAY"},
    {VPN_GDOI_GAP_SENDER_ID_REQUEST, "SENDER_ID_REQUEST"},
};
static const name_entry kd_tek_names[] = {
    {VPN_GDOI_TEK_ALGORITHM_KEY, "TEK_ALGORITHM_KEY"},
    {VPN_GDOI_TEK_INTEGRITY_KEY, "TEK_INTEGRITY_KEY"},
    {VPN_GDOI_TEK_SOURCE_AUTH_KEY, "TEK_SOURCE_AUTH_KEY"},
};
static const name_entry kd_kek_names[] = {
    {VPN_GDOI_KEK_ALGORITHM_KEY, "KEK_ALGORITHM_KEY"},
    {VPN_GDOI_SIG_ALGORITHM_KEY, "SIG_ALGORITHM_KEY"},
};
static const name_entry kd_sid_names[] = {
    {VPN_GDOI_SID_NUMBER_OF_BITS, "NUMBER_OF_SID_BITS"},
    {VPN_GDOI_SID_VALUE, "SID_VALUE"},
};

const char *vpn_isakmp_attr_name(vpn_isakmp_attr_space space, uint16_t type)
{
    switch (space) {
    case VPN_ATTRS_IKEV1: return lookup(ike_attr_names, COUNT(ike_attr_names), type);
    case VPN_ATTRS_IPSEC_DOI: return lookup(ipsec_attr_names, COUNT(ipsec_attr_names), type);
    case VPN_ATTRS_GDOI_KEK: return lookup(kek_attr_names, COUNT(kek_attr_names), type);
    case VPN_ATTRS_GDOI_GAP: return lookup(gap_attr_names, COUNT(gap_attr_names), type);
    case VPN_ATTRS_GDOI_KD_TEK: return lookup(kd_tek_names, COUNT(kd_tek_names), type);
    case VPN_ATTRS_GDOI_KD_KEK: return lookup(kd_kek_names, COUNT(kd_kek_names), type);
    case VPN_ATTRS_GDOI_KD_SID: return lookup(kd_sid_names, COUNT(kd_sid_names), type);
    }
    return "UNKNOWN";
}

static const name_entry kd_type_names[] = {
    {VPN_GDOI_KD_TEK, "TEK"},
    {VPN_GDOI_KD_KEK, "KEK"},
    {VPN_GDOI_KD_LKH, "LKH"},
    {VPN_GDOI_KD_SID, "SID"},
};

const char *vpn_gdoi_kd_type_name(uint8_t type)
{
    return lookup(kd_type_names, COUNT(kd_type_names), type);
}

static const name_entry kek_alg_names[] = {
    {VPN_GDOI_KEK_ALG_DES, "DES"},
    {VPN_GDOI_KEK_ALG_3DES, "3DES"},
    {VPN_GDOI_KEK_ALG_AES, "AES"},
};

const char *vpn_gdoi_kek_alg_name(uint16_t alg)
{
    return lookup(kek_alg_names, COUNT(kek_alg_names), alg);
}

static const name_entry sig_hash_names[] = {
    {VPN_GDOI_SIG_HASH_MD5, "MD5"},
    {VPN_GDOI_SIG_HASH_SHA1, "SHA1"},
    {VPN_GDOI_SIG_HASH_SHA256, "SHA256"},
    {VPN_GDOI_SIG_HASH_SHA384, "SHA384"},
    {VPN_GDOI_SIG_HASH_SHA512, "SHA512"},
};

const char *vpn_gdoi_sig_hash_name(uint16_t hash)
{
    return lookup(sig_hash_names, COUNT(sig_hash_names), hash);
}

static const name_entry sig_alg_names[] = {
    {VPN_GDOI_SIG_RSA, "RSA"},
    {VPN_GDOI_SIG_DSS, "DSS"},
    {VPN_GDOI_SIG_ECDSS, "ECDSS"},
    {VPN_GDOI_SIG_ECDSA_256, "ECDSA-256"},
    {VPN_GDOI_SIG_ECDSA_384, "ECDSA-384"},
    {VPN_GDOI_SIG_ECDSA_521, "ECDSA-521"},
};

const char *vpn_gdoi_sig_alg_name(uint16_t alg)
{
    return lookup(sig_alg_names, COUNT(sig_alg_names), alg);
}

static const name_entry tek_proto_names[] = {
    {VPN_GDOI_TEK_PROTO_ESP, "PROTO_IPSEC_ESP"},
    {VPN_GDOI_TEK_PROTO_AH, "PROTO_IPSEC_AH"},
};

const char *vpn_gdoi_tek_proto_name(uint8_t proto)
{
    return lookup(tek_proto_names, COUNT(tek_proto_names), proto);
}

static const name_entry sa_dir_names[] = {
    {VPN_GDOI_SA_DIR_SENDER, "Sender-Only"},
    {VPN_GDOI_SA_DIR_RECEIVER, "Receiver-Only"},
    {VPN_GDOI_SA_DIR_SYMMETRIC, "Symmetric"},
};

const char *vpn_gdoi_sa_dir_name(uint16_t dir)
{
    return lookup(sa_dir_names, COUNT(sa_dir_names), dir);
}

static const name_entry addr_pres_names[] = {
    {VPN_GDOI_ADDR_PRES_NONE, "None"},
    {VPN_GDOI_ADDR_PRES_SRC, "Source-Only"},
    {VPN_GDOI_ADDR_PRES_DST, "Destination-Only"},
    {VPN_GDOI_ADDR_PRES_BOTH, "Source-and-Destination"},
};

const char *vpn_gdoi_addr_pres_name(uint16_t v)
{
    return lookup(addr_pres_names, COUNT(addr_pres_names), v);
}

static const name_entry encap_names[] = {
    {VPN_IPSEC_DOI_ENCAP_TUNNEL, "Tunnel"},
    {VPN_IPSEC_DOI_ENCAP_TRANSPORT, "Transport"},
    {VPN_IPSEC_DOI_ENCAP_UDP_TUNNEL, "UDP-Encapsulated-Tunnel"},
    {VPN_IPSEC_DOI_ENCAP_UDP_TRANSPORT, "UDP-Encapsulated-Transport"},
};

const char *vpn_ipsec_doi_encap_name(uint16_t mode)
{
    return lookup(encap_names, COUNT(encap_names), mode);
}

static const name_entry ipsec_auth_names[] = {
    {VPN_IPSEC_DOI_AUTH_HMAC_MD5, "HMAC-MD5"},
    {VPN_IPSEC_DOI_AUTH_HMAC_SHA1, "HMAC-SHA"},
    {VPN_IPSEC_DOI_AUTH_HMAC_SHA2_256, "HMAC-SHA2-256"},
    {VPN_IPSEC_DOI_AUTH_HMAC_SHA2_384, "HMAC-SHA2-384"},
    {VPN_IPSEC_DOI_AUTH_HMAC_SHA2_512, "HMAC-SHA2-512"},
    {VPN_IPSEC_DOI_AUTH_AES_XCBC_MAC, "AES-XCBC-MAC"},
};

const char *vpn_ipsec_doi_auth_name(uint16_t alg)
{
    return lookup(ipsec_auth_names, COUNT(ipsec_auth_names), alg);
}

static const name_entry esp_names[] = {
    {VPN_IPSEC_DOI_ESP_DES, "ESP_DES"},
    {VPN_IPSEC_DOI_ESP_3DES, "ESP_3DES"},
    {VPN_IPSEC_DOI_ESP_NULL, "ESP_NULL"},
    {VPN_IPSEC_DOI_ESP_AES_CBC, "ESP_AES-CBC"},
    {VPN_IPSEC_DOI_ESP_AES_CTR, "ESP_AES-CTR"},
    {VPN_IPSEC_DOI_ESP_AES_GCM_8, "ESP_AES-GCM-8"},
    {VPN_IPSEC_DOI_ESP_AES_GCM_12, "ESP_AES-GCM-12"},
    {VPN_IPSEC_DOI_ESP_AES_GCM_16, "ESP_AES-GCM-16"},
    {VPN_IPSEC_DOI_ESP_NULL_AUTH_AES_GMAC, "ESP_NULL_AUTH_AES-GMAC"},
};

const char *vpn_ipsec_doi_esp_name(uint8_t transform_id)
{
    return lookup(esp_names, COUNT(esp_names), transform_id);
}

static const name_entry ike_encr_names[] = {
    {VPN_IKEV1_ENCR_DES, "DES-CBC"},
    {2, "IDEA-CBC"},
    {3, "Blowfish-CBC"},
    {4, "RC5-R16-B64-CBC"},
    {VPN_IKEV1_ENCR_3DES, "3DES-CBC"},
    {6, "CAST-CBC"},
    {VPN_IKEV1_ENCR_AES_CBC, "AES-CBC"},
};

const char *vpn_ikev1_encr_name(uint16_t alg)
{
    return lookup(ike_encr_names, COUNT(ike_encr_names), alg);
}

static const name_entry ike_hash_names[] = {
    {VPN_IKEV1_HASH_MD5, "MD5"},
    {VPN_IKEV1_HASH_SHA1, "SHA"},
    {3, "Tiger"},
    {VPN_IKEV1_HASH_SHA2_256, "SHA2-256"},
    {VPN_IKEV1_HASH_SHA2_384, "SHA2-384"},
    {VPN_IKEV1_HASH_SHA2_512, "SHA2-512"},
};

const char *vpn_ikev1_hash_name(uint16_t alg)
{
    return lookup(ike_hash_names, COUNT(ike_hash_names), alg);
}

static const name_entry ike_auth_names[] = {
    {VPN_IKEV1_AUTH_PSK, "pre-shared key"},
    {VPN_IKEV1_AUTH_DSS, "DSS signatures"},
    {VPN_IKEV1_AUTH_RSA_SIG, "RSA signatures"},
    {VPN_IKEV1_AUTH_RSA_ENC, "Encryption with RSA"},
    {VPN_IKEV1_AUTH_RSA_ENC_REV, "Revised encryption with RSA"},
    {VPN_IKEV1_AUTH_ECDSA_256, "ECDSA with SHA-256 on the P-256 curve"},
    {VPN_IKEV1_AUTH_ECDSA_384, "ECDSA with SHA-384 on the P-384 curve"},
    {VPN_IKEV1_AUTH_ECDSA_521, "ECDSA with SHA-512 on the P-521 curve"},
};

const char *vpn_ikev1_auth_name(uint16_t method)
{
    return lookup(ike_auth_names, COUNT(ike_auth_names), method);
}
