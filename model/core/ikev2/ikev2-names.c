/*
 * Text names of IKEv2 numbers, as the IANA registries spell them, for logs
 * and show views; and two small per-algorithm facts the codec and the
 * proposal logic need (AEAD or not, KE length of a group).
 */
#include "ikev2/ikev2-const.h"

#include "ikev2/ikev2-codec.h"

typedef struct name16 {
    uint16_t v;
    const char *s;
} name16;

#define N(x) (sizeof(x) / sizeof((x)[0]))

static const char *lookup(const name16 *t, size_t n, unsigned v)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].v == v)
            return t[i].s;
    return "UNKNOWN";
}

const char *vpn_ikev2_exchange_name(uint8_t exchange)
{
    static const name16 t[] = {
        {VPN_IKEV2_IKE_SA_INIT, "IKE_SA_INIT"},
        {VPN_IKEV2_IKE_AUTH, "IKE_AUTH"},
        {VPN_IKEV2_CREATE_CHILD_SA, "CREATE_CHILD_SA"},
        {VPN_IKEV2_INFORMATIONAL, "INFORMATIONAL"},
        {VPN_IKEV2_IKE_SESSION_RESUME, "IKE_SESSION_RESUME"},
        {VPN_IKEV2_IKE_INTERMEDIATE, "IKE_INTERMEDIATE"},
    };
    return lookup(t, N(t), exchange);
}

const char *vpn_ikev2_payload_name(uint8_t type)
{
    const vpn_ikev2_pl_desc *d = vpn_ikev2_pl_desc_find(type);

    if (d)
        return d->name;
    if (type == VPN_IKEV2_PL_NONE)
        return "NONE";
    if (type == VPN_IKEV2_PL_GSPM)
        return "GSPM";
    return "UNKNOWN";
}

const char *vpn_ikev2_notify_name(uint16_t type)
{
    static const name16 t[] = {
        {VPN_IKEV2_N_UNSUPPORTED_CRITICAL_PAYLOAD, "UNSUPPORTED_CRITICAL_PAYLOAD"},
        {VPN_IKEV2_N_INVALID_IKE_SPI, "INVALID_IKE_SPI"},
        {VPN_IKEV2_N_INVALID_MAJOR_VERSION, "INVALID_MAJOR_VERSION"},
        {VPN_IKEV2_N_INVALID_SYNTAX, "INVALID_SYNTAX"},
        {VPN_IKEV2_N_INVALID_MESSAGE_ID, "INVALID_MESSAGE_ID"},
        {VPN_IKEV2_N_INVALID_SPI, "INVALID_SPI"},
        {VPN_IKEV2_N_NO_PROPOSAL_CHOSEN, "NO_PROPOSAL_CHOSEN"},
        {VPN_IKEV2_N_INVALID_KE_PAYLOAD, "INVALID_KE_PAYLOAD"},
        {VPN_IKEV2_N_AUTHENTICATION_FAILED, "AUTHENTICATION_FAILED"},
        {VPN_IKEV2_N_SINGLE_PAIR_REQUIRED, "SINGLE_PAIR_REQUIRED"},
        {VPN_IKEV2_N_NO_ADDITIONAL_SAS, "NO_ADDITIONAL_SAS"},
        {VPN_IKEV2_N_INTERNAL_ADDRESS_FAILURE, "INTERNAL_ADDRESS_FAILURE"},
        {VPN_IKEV2_N_FAILED_CP_REQUIRED, "FAILED_CP_REQUIRED"},
        {VPN_IKEV2_N_TS_UNACCEPTABLE, "TS_UNACCEPTABLE"},
        {VPN_IKEV2_N_INVALID_SELECTORS, "INVALID_SELECTORS"},
        {VPN_IKEV2_N_UNACCEPTABLE_ADDRESSES, "UNACCEPTABLE_ADDRESSES"},
        {VPN_IKEV2_N_UNEXPECTED_NAT_DETECTED, "UNEXPECTED_NAT_DETECTED"},
        {VPN_IKEV2_N_TEMPORARY_FAILURE, "TEMPORARY_FAILURE"},
        {VPN_IKEV2_N_CHILD_SA_NOT_FOUND, "CHILD_SA_NOT_FOUND"},
        {VPN_IKEV2_N_INITIAL_CONTACT, "INITIAL_CONTACT"},
        {VPN_IKEV2_N_SET_WINDOW_SIZE, "SET_WINDOW_SIZE"},
        {VPN_IKEV2_N_ADDITIONAL_TS_POSSIBLE, "ADDITIONAL_TS_POSSIBLE"},
        {VPN_IKEV2_N_IPCOMP_SUPPORTED, "IPCOMP_SUPPORTED"},
        {VPN_IKEV2_N_NAT_DETECTION_SOURCE_IP, "NAT_DETECTION_SOURCE_IP"},
        {VPN_IKEV2_N_NAT_DETECTION_DESTINATION_IP, "NAT_DETECTION_DESTINATION_IP"},
        {VPN_IKEV2_N_COOKIE, "COOKIE"},
        {VPN_IKEV2_N_USE_TRANSPORT_MODE, "USE_TRANSPORT_MODE"},
        {VPN_IKEV2_N_HTTP_CERT_LOOKUP_SUPPORTED, "HTTP_CERT_LOOKUP_SUPPORTED"},
        {VPN_IKEV2_N_REKEY_SA, "REKEY_SA"},
        {VPN_IKEV2_N_ESP_TFC_PADDING_NOT_SUPPORTED, "ESP_TFC_PADDING_NOT_SUPPORTED"},
        {VPN_IKEV2_N_NON_FIRST_FRAGMENTS_ALSO, "NON_FIRST_FRAGMENTS_ALSO"},
        {VPN_IKEV2_N_MOBIKE_SUPPORTED, "MOBIKE_SUPPORTED"},
        {VPN_IKEV2_N_MULTIPLE_AUTH_SUPPORTED, "MULTIPLE_AUTH_SUPPORTED"},
        {VPN_IKEV2_N_ANOTHER_AUTH_FOLLOWS, "ANOTHER_AUTH_FOLLOWS"},
        {VPN_IKEV2_N_REDIRECT_SUPPORTED, "REDIRECT_SUPPORTED"},
        {VPN_IKEV2_N_EAP_ONLY_AUTHENTICATION, "EAP_ONLY_AUTHENTICATION"},
        {VPN_IKEV2_N_CHILDLESS_IKEV2_SUPPORTED, "CHILDLESS_IKEV2_SUPPORTED"},
        {VPN_IKEV2_N_IKEV2_FRAGMENTATION_SUPPORTED, "IKEV2_FRAGMENTATION_SUPPORTED"},
        {VPN_IKEV2_N_SIGNATURE_HASH_ALGORITHMS, "SIGNATURE_HASH_ALGORITHMS"},
        {VPN_IKEV2_N_USE_PPK, "USE_PPK"},
        {VPN_IKEV2_N_INTERMEDIATE_EXCHANGE_SUPPORTED, "INTERMEDIATE_EXCHANGE_SUPPORTED"},
    };
    return lookup(t, N(t), type);
}

const char *vpn_ikev2_proto_name(uint8_t proto)
{
    static const name16 t[] = {
        {VPN_IKEV2_PROTO_IKE, "IKE"},
        {VPN_IKEV2_PROTO_AH, "AH"},
        {VPN_IKEV2_PROTO_ESP, "ESP"},
    };
    return lookup(t, N(t), proto);
}

const char *vpn_ikev2_xform_type_name(uint8_t type)
{
    static const name16 t[] = {
        {VPN_IKEV2_XF_ENCR, "ENCR"}, {VPN_IKEV2_XF_PRF, "PRF"},
        {VPN_IKEV2_XF_INTEG, "INTEG"}, {VPN_IKEV2_XF_DH, "DH"},
        {VPN_IKEV2_XF_ESN, "ESN"},   {6, "ADDKE1"}, {7, "ADDKE2"}, {8, "ADDKE3"},
        {9, "ADDKE4"},               {10, "ADDKE5"}, {11, "ADDKE6"}, {12, "ADDKE7"},
    };
    return lookup(t, N(t), type);
}

static const name16 encr_names[] = {
    {3, "ENCR_3DES"},
    {VPN_ENCR_NULL, "ENCR_NULL"},
    {VPN_ENCR_AES_CBC, "ENCR_AES_CBC"},
    {VPN_ENCR_AES_CTR, "ENCR_AES_CTR"},
    {14, "ENCR_AES_CCM_8"},
    {15, "ENCR_AES_CCM_12"},
    {16, "ENCR_AES_CCM_16"},
    {VPN_ENCR_AES_GCM_8, "ENCR_AES_GCM_8"},
    {VPN_ENCR_AES_GCM_12, "ENCR_AES_GCM_12"},
    {VPN_ENCR_AES_GCM_16, "ENCR_AES_GCM_16"},
    {21, "ENCR_NULL_AUTH_AES_GMAC"},
    {23, "ENCR_CAMELLIA_CBC"},
    {24, "ENCR_CAMELLIA_CTR"},
    {25, "ENCR_CAMELLIA_CCM_8"},
    {26, "ENCR_CAMELLIA_CCM_12"},
    {27, "ENCR_CAMELLIA_CCM_16"},
    {VPN_ENCR_CHACHA20_POLY1305, "ENCR_CHACHA20_POLY1305"},
};

static const name16 prf_names[] = {
    {1, "PRF_HMAC_MD5"},
    {VPN_PRF_HMAC_SHA1, "PRF_HMAC_SHA1"},
    {4, "PRF_AES128_XCBC"},
    {VPN_PRF_HMAC_SHA2_256, "PRF_HMAC_SHA2_256"},
    {VPN_PRF_HMAC_SHA2_384, "PRF_HMAC_SHA2_384"},
    {VPN_PRF_HMAC_SHA2_512, "PRF_HMAC_SHA2_512"},
    {8, "PRF_AES128_CMAC"},
};

static const name16 integ_names[] = {
    {VPN_INTEG_NONE, "NONE"},
    {1, "AUTH_HMAC_MD5_96"},
    {VPN_AUTH_HMAC_SHA1_96, "AUTH_HMAC_SHA1_96"},
    {5, "AUTH_AES_XCBC_96"},
    {8, "AUTH_AES_CMAC_96"},
    {VPN_AUTH_HMAC_SHA2_256_128, "AUTH_HMAC_SHA2_256_128"},
    {VPN_AUTH_HMAC_SHA2_384_192, "AUTH_HMAC_SHA2_384_192"},
    {VPN_AUTH_HMAC_SHA2_512_256, "AUTH_HMAC_SHA2_512_256"},
};

static const name16 dh_names[] = {
    {VPN_DH_NONE, "NONE"},
    {1, "MODP_768"},
    {VPN_DH_MODP_1024, "MODP_1024"},
    {VPN_DH_MODP_1536, "MODP_1536"},
    {VPN_DH_MODP_2048, "MODP_2048"},
    {VPN_DH_MODP_3072, "MODP_3072"},
    {VPN_DH_MODP_4096, "MODP_4096"},
    {17, "MODP_6144"},
    {18, "MODP_8192"},
    {VPN_DH_ECP_256, "ECP_256"},
    {VPN_DH_ECP_384, "ECP_384"},
    {VPN_DH_ECP_521, "ECP_521"},
    {28, "BRAINPOOL_P256R1"},
    {29, "BRAINPOOL_P384R1"},
    {30, "BRAINPOOL_P512R1"},
    {VPN_DH_CURVE25519, "CURVE25519"},
    {32, "CURVE448"},
};

const char *vpn_ikev2_xform_id_name(uint8_t type, uint16_t id)
{
    switch (type) {
    case VPN_IKEV2_XF_ENCR:
        return lookup(encr_names, N(encr_names), id);
    case VPN_IKEV2_XF_PRF:
        return lookup(prf_names, N(prf_names), id);
    case VPN_IKEV2_XF_INTEG:
        return lookup(integ_names, N(integ_names), id);
    case VPN_IKEV2_XF_DH:
        return lookup(dh_names, N(dh_names), id);
    case VPN_IKEV2_XF_ESN:
        return id == VPN_IKEV2_ESN_NO ? "NO_ESN" : id == VPN_IKEV2_ESN_YES ? "ESN" : "UNKNOWN";
    default:
        if (type >= VPN_IKEV2_XF_ADDKE1 && type <= VPN_IKEV2_XF_ADDKE7)
            return lookup(dh_names, N(dh_names), id);
        return "UNKNOWN";
    }
}

const char *vpn_ikev2_id_type_name(uint8_t type)
{
    static const name16 t[] = {
        {VPN_IKEV2_ID_IPV4_ADDR, "ID_IPV4_ADDR"},
        {VPN_IKEV2_ID_FQDN, "ID_FQDN"},
        {VPN_IKEV2_ID_RFC822_ADDR, "ID_RFC822_ADDR"},
        {VPN_IKEV2_ID_IPV6_ADDR, "ID_IPV6_ADDR"},
        {VPN_IKEV2_ID_DER_ASN1_DN, "ID_DER_ASN1_DN"},
        {VPN_IKEV2_ID_DER_ASN1_GN, "ID_DER_ASN1_GN"},
        {VPN_IKEV2_ID_KEY_ID, "ID_KEY_ID"},
        {VPN_IKEV2_ID_NULL, "ID_NULL"},
    };
    return lookup(t, N(t), type);
}

const char *vpn_ikev2_cert_encoding_name(uint8_t enc)
{
    static const name16 t[] = {
        {VPN_IKEV2_CERT_PKCS7, "PKCS #7 wrapped X.509 certificate"},
        {VPN_IKEV2_CERT_PGP, "PGP Certificate"},
        {VPN_IKEV2_CERT_DNS_KEY, "DNS Signed Key"},
        {VPN_IKEV2_CERT_X509_SIG, "X.509 Certificate - Signature"},
        {VPN_IKEV2_CERT_KERBEROS, "Kerberos Token"},
        {VPN_IKEV2_CERT_CRL, "Certificate Revocation List (CRL)"},
        {VPN_IKEV2_CERT_ARL, "Authority Revocation List (ARL)"},
        {VPN_IKEV2_CERT_SPKI, "SPKI Certificate"},
        {VPN_IKEV2_CERT_X509_ATTR, "X.509 Certificate - Attribute"},
        {VPN_IKEV2_CERT_RAW_RSA, "Raw RSA Key"},
        {VPN_IKEV2_CERT_HASH_URL_X509, "Hash and URL of X.509 certificate"},
        {VPN_IKEV2_CERT_HASH_URL_BUNDLE, "Hash and URL of X.509 bundle"},
        {VPN_IKEV2_CERT_RAW_PUBLIC_KEY, "Raw Public Key"},
    };
    return lookup(t, N(t), enc);
}

const char *vpn_ikev2_auth_method_name(uint8_t method)
{
    static const name16 t[] = {
        {VPN_IKEV2_AUTH_RSA_SIG, "RSA Digital Signature"},
        {VPN_IKEV2_AUTH_PSK, "Shared Key Message Integrity Code"},
        {VPN_IKEV2_AUTH_DSS_SIG, "DSS Digital Signature"},
        {VPN_IKEV2_AUTH_ECDSA_256, "ECDSA with SHA-256 on the P-256 curve"},
        {VPN_IKEV2_AUTH_ECDSA_384, "ECDSA with SHA-384 on the P-384 curve"},
        {VPN_IKEV2_AUTH_ECDSA_521, "ECDSA with SHA-512 on the P-521 curve"},
        {VPN_IKEV2_AUTH_NULL, "NULL Authentication"},
        {VPN_IKEV2_AUTH_DIGITAL_SIGNATURE, "Digital Signature"},
    };
    return lookup(t, N(t), method);
}

const char *vpn_ikev2_ts_type_name(uint8_t type)
{
    static const name16 t[] = {
        {VPN_IKEV2_TS_IPV4_ADDR_RANGE, "TS_IPV4_ADDR_RANGE"},
        {VPN_IKEV2_TS_IPV6_ADDR_RANGE, "TS_IPV6_ADDR_RANGE"},
    };
    return lookup(t, N(t), type);
}

const char *vpn_ikev2_cfg_type_name(uint8_t type)
{
    static const name16 t[] = {
        {VPN_IKEV2_CFG_REQUEST, "CFG_REQUEST"},
        {VPN_IKEV2_CFG_REPLY, "CFG_REPLY"},
        {VPN_IKEV2_CFG_SET, "CFG_SET"},
        {VPN_IKEV2_CFG_ACK, "CFG_ACK"},
    };
    return lookup(t, N(t), type);
}

const char *vpn_ikev2_cfg_attr_name(uint16_t type)
{
    static const name16 t[] = {
        {VPN_IKEV2_CFG_INTERNAL_IP4_ADDRESS, "INTERNAL_IP4_ADDRESS"},
        {VPN_IKEV2_CFG_INTERNAL_IP4_NETMASK, "INTERNAL_IP4_NETMASK"},
        {VPN_IKEV2_CFG_INTERNAL_IP4_DNS, "INTERNAL_IP4_DNS"},
        {VPN_IKEV2_CFG_INTERNAL_IP4_NBNS, "INTERNAL_IP4_NBNS"},
        {VPN_IKEV2_CFG_INTERNAL_IP4_DHCP, "INTERNAL_IP4_DHCP"},
        {VPN_IKEV2_CFG_APPLICATION_VERSION, "APPLICATION_VERSION"},
        {VPN_IKEV2_CFG_INTERNAL_IP6_ADDRESS, "INTERNAL_IP6_ADDRESS"},
        {VPN_IKEV2_CFG_INTERNAL_IP6_DNS, "INTERNAL_IP6_DNS"},
        {VPN_IKEV2_CFG_INTERNAL_IP6_DHCP, "INTERNAL_IP6_DHCP"},
        {VPN_IKEV2_CFG_INTERNAL_IP4_SUBNET, "INTERNAL_IP4_SUBNET"},
        {VPN_IKEV2_CFG_SUPPORTED_ATTRIBUTES, "SUPPORTED_ATTRIBUTES"},
        {VPN_IKEV2_CFG_INTERNAL_IP6_SUBNET, "INTERNAL_IP6_SUBNET"},
    };
    return lookup(t, N(t), type);
}

bool vpn_ikev2_encr_is_aead(uint16_t id)
{
    switch (id) {
    case 14: case 15: case 16:     /* AES-CCM, RFC 4309 / RFC 5282 */
    case VPN_ENCR_AES_GCM_8:
    case VPN_ENCR_AES_GCM_12:
    case VPN_ENCR_AES_GCM_16:
    case 21:                       /* NULL_AUTH_AES_GMAC, RFC 4543 */
    case 25: case 26: case 27:     /* Camellia-CCM, RFC 5529 */
    case VPN_ENCR_CHACHA20_POLY1305:
        return true;
    default:
        return false;
    }
}

size_t vpn_ikev2_dh_ke_len(uint16_t group)
{
    switch (group) {
    case 1: return 96;                    /* MODP 768, RFC 2409 6.1 */
    case VPN_DH_MODP_1024: return 128;    /* RFC 2409 6.2 */
    case VPN_DH_MODP_1536: return 192;    /* RFC 3526 2 */
    case VPN_DH_MODP_2048: return 256;    /* RFC 3526 3 */
    case VPN_DH_MODP_3072: return 384;
    case VPN_DH_MODP_4096: return 512;
    case 17: return 768;                  /* MODP 6144 */
    case 18: return 1024;                 /* MODP 8192 */
    case VPN_DH_ECP_256: return 64;       /* RFC 5903 7: x || y */
    case VPN_DH_ECP_384: return 96;
    case VPN_DH_ECP_521: return 132;
    case 28: return 64;                   /* brainpool, RFC 6954 */
    case 29: return 96;
    case 30: return 128;
    case VPN_DH_CURVE25519: return 32;    /* RFC 8031 2 */
    case 32: return 56;                   /* Curve448 */
    default: return 0;
    }
}
