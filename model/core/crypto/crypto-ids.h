/*
 * IANA "Internet Key Exchange Version 2 (IKEv2) Parameters" transform IDs
 * (RFC 7296 section 3.3.2 and the registries it created). The core names
 * every algorithm by these numbers, in IKEv2, in ESP and in GDOI alike.
 */
#ifndef VPN_CRYPTO_IDS_H
#define VPN_CRYPTO_IDS_H

/* Transform Type 1: Encryption Algorithm */
enum vpn_encr_id {
    VPN_ENCR_3DES = 3,               /* RFC 2451: legacy GDOI peers only (gdoi.h) */
    VPN_ENCR_NULL = 11,              /* RFC 2410 (ESP only) */
    VPN_ENCR_AES_CBC = 12,           /* RFC 3602 */
    VPN_ENCR_AES_CTR = 13,           /* RFC 3686 */
    VPN_ENCR_AES_GCM_8 = 18,         /* RFC 4106, RFC 5282 */
    VPN_ENCR_AES_GCM_12 = 19,
    VPN_ENCR_AES_GCM_16 = 20,
    VPN_ENCR_CHACHA20_POLY1305 = 28, /* RFC 7634 */
};

/* Transform Type 2: Pseudorandom Function */
enum vpn_prf_id {
    VPN_PRF_HMAC_SHA1 = 2,      /* RFC 2104 */
    VPN_PRF_HMAC_SHA2_256 = 5,  /* RFC 4868 */
    VPN_PRF_HMAC_SHA2_384 = 6,
    VPN_PRF_HMAC_SHA2_512 = 7,
};

/* Transform Type 3: Integrity Algorithm */
enum vpn_integ_id {
    VPN_INTEG_NONE = 0,
    VPN_AUTH_HMAC_SHA1_96 = 2,        /* RFC 2404 */
    VPN_AUTH_HMAC_SHA2_256_128 = 12,  /* RFC 4868 */
    VPN_AUTH_HMAC_SHA2_384_192 = 13,
    VPN_AUTH_HMAC_SHA2_512_256 = 14,
};

/* Transform Type 4: Key Exchange Method (Diffie-Hellman group) */
enum vpn_dh_id {
    VPN_DH_NONE = 0,
    VPN_DH_MODP_1024 = 2,   /* RFC 2409 6.2; legacy, never a default */
    VPN_DH_MODP_1536 = 5,   /* RFC 3526 2; legacy, never a default */
    VPN_DH_MODP_2048 = 14,  /* RFC 3526 3 */
    VPN_DH_MODP_3072 = 15,
    VPN_DH_MODP_4096 = 16,
    VPN_DH_ECP_256 = 19,    /* RFC 5903 */
    VPN_DH_ECP_384 = 20,
    VPN_DH_ECP_521 = 21,
    VPN_DH_CURVE25519 = 31, /* RFC 8031 */
};

/*
 * IKEv2 Hash Algorithms (RFC 7427 section 7), the values a
 * SIGNATURE_HASH_ALGORITHMS notify carries. IKE_ in the name keeps these
 * wire numbers apart from the crypto unit's internal hash enum.
 */
enum vpn_ike_hash_id {
    VPN_IKE_HASH_NONE = 0,
    VPN_IKE_HASH_SHA1 = 1, /* verify only: legacy peers */
    VPN_IKE_HASH_SHA2_256 = 2,
    VPN_IKE_HASH_SHA2_384 = 3,
    VPN_IKE_HASH_SHA2_512 = 4,
};

/*
 * IKEv2 Authentication Method (RFC 7296 section 3.8 and the registry).
 * Spelled AUTH_METHOD to keep clear of the AUTH_HMAC_* integrity IDs.
 */
enum vpn_auth_method {
    VPN_AUTH_METHOD_RSA_SIG = 1,      /* RFC 7296: RSASSA-PKCS1-v1_5 with SHA-1 */
    VPN_AUTH_METHOD_PSK = 2,          /* RFC 7296: Shared Key Message Integrity Code */
    VPN_AUTH_METHOD_ECDSA_256 = 9,    /* RFC 4754: ECDSA with SHA-256 on P-256 */
    VPN_AUTH_METHOD_ECDSA_384 = 10,   /* RFC 4754: ECDSA with SHA-384 on P-384 */
    VPN_AUTH_METHOD_ECDSA_521 = 11,   /* RFC 4754: ECDSA with SHA-512 on P-521 */
    VPN_AUTH_METHOD_NULL = 13,        /* RFC 7619 */
    VPN_AUTH_METHOD_DIGITAL_SIG = 14, /* RFC 7427 */
};

#endif
