/*
 * Digital signatures for IKEv2 AUTH payloads and GDOI rekeys: RSASSA-
 * PKCS1-v1_5 and RSASSA-PSS (RFC 8017), ECDSA on P-256/384/521 (FIPS
 * 186-4), with SHA-256/384/512; SHA-1 only to verify legacy peers.
 *
 * Signing randomness comes from the injected vpn_rng (the PSS salt), so a
 * seeded simulation signs byte-identically. ECDSA nonces are deterministic
 * (RFC 6979 3.2), drawn from no RNG: a weak or replayed RNG stream cannot
 * repeat a nonce and give the private key away. OpenSSL still draws the
 * RSA blinding factor from its own DRBG (it does not change the output).
 * Verification is OpenSSL's.
 *
 * IKE encodings handled here:
 *   - RFC 7427 section 3 "Digital Signature" (auth method 14) data:
 *     1-octet length, DER AlgorithmIdentifier, signature (for ECDSA a DER
 *     Ecdsa-Sig-Value);
 *   - RFC 4754 (auth methods 9, 10, 11): r || s, fixed length;
 *   - RFC 7296 auth method 1 (RSASSA-PKCS1-v1_5 with SHA-1), verify only.
 *
 * Error convention: VPN_ERR_AUTH means "the signature does not verify";
 * VPN_ERR_MALFORMED means the encoding around it is broken;
 * VPN_ERR_UNSUPPORTED an algorithm we do not implement; VPN_ERR_POLICY a
 * combination we refuse (a key of the wrong type for the scheme, SHA-1
 * for signing, an ECDSA curve that does not match the auth method).
 */
#ifndef VPN_SIG_H
#define VPN_SIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/rng.h"
#include "common/wire.h"
#include "crypto/crypto-ids.h"

#ifdef __cplusplus
extern "C" {
#endif

/* OpenSSL's key type, named without pulling in OpenSSL headers. */
struct evp_pkey_st;

/* ---- keys -------------------------------------------------------------- */

typedef enum vpn_sig_key_type {
    VPN_SIG_KEY_RSA = 1,
    VPN_SIG_KEY_EC_P256 = 2,
    VPN_SIG_KEY_EC_P384 = 3,
    VPN_SIG_KEY_EC_P521 = 4,
} vpn_sig_key_type;

/*
 * An RSA or EC key, public or private. Its value never changes once made,
 * but the signing calls take it const and still may write to it: when an
 * RSA signature does not verify (vpn_sig_sign, vpn_sig_auth_sign,
 * vpn_sig_rsa_raw_sign), the key's EVP_PKEY is freed and replaced by one
 * decoded afresh from the key's own DER, to drop OpenSSL's cached state
 * (blinding, Montgomery contexts) that a failed allocation can leave
 * broken. The const is therefore logical, not physical: a key must not be
 * used from two threads at once, and a pointer taken with vpn_sig_key_evp
 * may dangle after any signing call.
 */
typedef struct vpn_sig_key vpn_sig_key;

/*
 * Loads a private key from memory: PEM ("-----BEGIN ... PRIVATE KEY-----",
 * PKCS#8 or the traditional RSA/EC forms) or DER (same structures).
 * Encrypted keys are refused (there is no one to ask for a passphrase).
 * On success *out is owned by the caller (vpn_sig_key_del).
 * Errors: VPN_ERR_INVAL, VPN_ERR_MALFORMED (not a key, trailing bytes,
 * encrypted), VPN_ERR_UNSUPPORTED (a key type or curve not listed above,
 * or RSA below 1024 bits), VPN_ERR_NOMEM.
 */
int vpn_sig_key_load_private(vpn_sig_key **out, const uint8_t *buf, size_t len);

/* The same for a public key (SubjectPublicKeyInfo, PEM or DER). */
int vpn_sig_key_load_public(vpn_sig_key **out, const uint8_t *buf, size_t len);

/*
 * Wraps an OpenSSL key (for x509.c, and for tests that make keys with
 * OpenSSL). Takes a new reference: the caller keeps its own.
 * Errors: VPN_ERR_INVAL, VPN_ERR_UNSUPPORTED, VPN_ERR_NOMEM.
 */
int vpn_sig_key_from_evp(vpn_sig_key **out, struct evp_pkey_st *pkey);

/* The wrapped OpenSSL key, borrowed (valid while k lives). */
struct evp_pkey_st *vpn_sig_key_evp(const vpn_sig_key *k);

/* Drops the reference (OpenSSL wipes private material). NULL is fine. */
void vpn_sig_key_del(vpn_sig_key *k);

vpn_sig_key_type vpn_sig_key_type_of(const vpn_sig_key *k);
/* Modulus bits (RSA) or the order's bits (EC). */
unsigned vpn_sig_key_bits(const vpn_sig_key *k);
bool vpn_sig_key_is_private(const vpn_sig_key *k);
/* True if both hold the same public key. */
bool vpn_sig_key_equal(const vpn_sig_key *a, const vpn_sig_key *b);

/* ---- algorithms -------------------------------------------------------- */

typedef enum vpn_sig_scheme {
    VPN_SIG_RSA_PKCS1 = 1, /* RSASSA-PKCS1-v1_5, RFC 8017 8.2 */
    VPN_SIG_RSA_PSS = 2,   /* RSASSA-PSS, RFC 8017 8.1 */
    VPN_SIG_ECDSA = 3,     /* FIPS 186-4 6, RFC 5758 3.2 */
} vpn_sig_scheme;

/* A signature algorithm: what an RFC 7427 AlgorithmIdentifier names. */
typedef struct vpn_sig_alg {
    uint8_t scheme;    /* enum vpn_sig_scheme */
    uint8_t hash;      /* enum vpn_ike_hash_id */
    uint8_t mgf1_hash; /* PSS: MGF1's hash (enum vpn_ike_hash_id) */
    uint16_t salt_len; /* PSS: salt bytes */
} vpn_sig_alg;

/*
 * Fills alg for (scheme, hash). PSS gets MGF1 with the same hash and a
 * salt as long as the hash, as RFC 7427 A.4.3 and RFC 4055 3.1 use.
 * Errors: VPN_ERR_INVAL, VPN_ERR_UNSUPPORTED.
 */
int vpn_sig_alg_init(vpn_sig_alg *alg, vpn_sig_scheme scheme, uint8_t hash);

/* Digest length of an IKEv2 hash ID, 0 if unknown. */
size_t vpn_sig_hash_len(uint8_t hash);

/*
 * Writes alg as a DER AlgorithmIdentifier (RFC 5280 4.1.1.2):
 * sha{256,384,512}WithRSAEncryption with NULL parameters (RFC 4055 5),
 * id-RSASSA-PSS with RSASSA-PSS-params in DER (fields at their DEFAULT
 * omitted, RFC 4055 3.1), ecdsa-with-SHA{256,384,512} with no parameters
 * (RFC 5758 3.2). SHA-1 forms are written too (for tests and for peers
 * that asked for them).
 * Errors: VPN_ERR_UNSUPPORTED, VPN_ERR_NOSPACE (sticky on w).
 */
int vpn_sig_algid_write(vpn_wr *w, const vpn_sig_alg *alg);

/*
 * Reads one AlgorithmIdentifier from r into alg, accepting the forms
 * above, plus: absent parameters for the RSA PKCS#1 OIDs, NULL parameters
 * for ECDSA, absent hash parameters inside PSS, and PSS fields spelled out
 * at their defaults (RFC 7427 A.4.3 writes trailerField = 1). On failure
 * r is marked failed and alg is zeroed.
 * Errors: VPN_ERR_TRUNCATED, VPN_ERR_MALFORMED (not DER of the right
 * shape), VPN_ERR_UNSUPPORTED (an OID or parameter we do not implement,
 * e.g. DSA, or a trailer other than 0xBC).
 */
int vpn_sig_algid_read(vpn_rd *r, vpn_sig_alg *alg);

/* ---- sign and verify ---------------------------------------------------- */

/* Largest signature vpn_sig_sign can produce with k (DER for ECDSA). */
size_t vpn_sig_max_len(const vpn_sig_key *k);

/*
 * Signs msg with a private key; ECDSA signatures are DER Ecdsa-Sig-Value
 * (RFC 5480 / RFC 3279 2.2.3). rng supplies the PSS salt; it is not used
 * for PKCS#1 v1.5 or ECDSA (may be NULL then: the ECDSA nonce is RFC 6979's
 * deterministic one, so equal (key, alg, msg) give equal signatures). On input
 * *sig_len is the capacity of sig, on success the signature's length.
 * Errors: VPN_ERR_INVAL (NULL, or a public key), VPN_ERR_POLICY (key type
 * does not fit the scheme; SHA-1), VPN_ERR_UNSUPPORTED, VPN_ERR_NOSPACE,
 * VPN_ERR_NOMEM, VPN_ERR_CRYPTO, or the RNG's error.
 */
int vpn_sig_sign(const vpn_sig_key *key, const vpn_sig_alg *alg, const vpn_rng *rng,
                 const uint8_t *msg, size_t msg_len, uint8_t *sig, size_t *sig_len);

/*
 * RSA "raw" PKCS#1 v1.5: the type 1 padding (RFC 8017 9.2 step 3 onwards)
 * of in itself, without a DigestInfo: IKEv1's RSA signature over
 * HASH_I/HASH_R (RFC 2409 5.1) and the GDOI key server's gdoid-form rekey
 * signature over its digest. in must fit the key (at most the modulus
 * length less 11 octets). Like vpn_sig_sign the signature is verified
 * before it leaves (a faulty RSA-CRT signature gives the key away), and
 * on a mismatch the key is loaded afresh from its own DER and the
 * signature made once more; see the note on vpn_sig_key below.
 * Errors: VPN_ERR_INVAL (NULL, a public key, not RSA PKCS#1), VPN_ERR_NOSPACE
 * (*sig_len below vpn_sig_max_len), VPN_ERR_NOMEM, VPN_ERR_CRYPTO.
 */
int vpn_sig_rsa_raw_sign(const vpn_sig_key *key, const uint8_t *in, size_t in_len, uint8_t *sig,
                         size_t *sig_len);
/* Its check: 0 or VPN_ERR_AUTH (anything else, a non-RSA key included). */
int vpn_sig_rsa_raw_verify(const vpn_sig_key *key, const uint8_t *in, size_t in_len, const uint8_t *sig,
                           size_t sig_len);

/*
 * Verifies sig over msg. SHA-1 is accepted here (legacy peers); whether
 * to allow it is the caller's policy.
 * Errors: VPN_ERR_AUTH (does not verify, including a garbled signature),
 * VPN_ERR_POLICY (key type does not fit the scheme), VPN_ERR_INVAL,
 * VPN_ERR_UNSUPPORTED, VPN_ERR_NOMEM.
 */
int vpn_sig_verify(const vpn_sig_key *key, const vpn_sig_alg *alg, const uint8_t *msg,
                   size_t msg_len, const uint8_t *sig, size_t sig_len);

/*
 * ECDSA signature conversions between DER Ecdsa-Sig-Value and the
 * fixed-length r || s of RFC 4754 7 (each integer left-padded to
 * field_len = 32, 48 or 66 bytes). The DER reader takes only minimal
 * positive INTEGERs, 0 < r, s < 2^(8 field_len).
 * Errors: VPN_ERR_MALFORMED, VPN_ERR_TRUNCATED, VPN_ERR_NOSPACE,
 * VPN_ERR_INVAL.
 */
int vpn_sig_ecdsa_der_to_rs(const uint8_t *der, size_t der_len, size_t field_len, uint8_t *rs,
                            size_t rs_cap, size_t *rs_len);
int vpn_sig_ecdsa_rs_to_der(const uint8_t *rs, size_t rs_len, uint8_t *der, size_t der_cap,
                            size_t *der_len);

/* ---- IKEv2 AUTH payload data -------------------------------------------- */

/*
 * Builds the Authentication Data of an AUTH payload (RFC 7296 3.8) over
 * msg (the octets RFC 7296 2.15 defines), appended to w:
 *   VPN_AUTH_METHOD_DIGITAL_SIG: RFC 7427 3, with alg (required);
 *   VPN_AUTH_METHOD_ECDSA_256/384/521: RFC 4754 r || s; the key must be
 *     on the method's curve, alg is ignored (NULL is fine);
 *   VPN_AUTH_METHOD_RSA_SIG (1): RFC 7296 3.8 RSASSA-PKCS1-v1_5 with SHA-1,
 *     an RSA key, alg ignored (for peers without RFC 7427 only).
 * Errors: those of vpn_sig_sign, VPN_ERR_UNSUPPORTED (method),
 * VPN_ERR_POLICY (key and method mismatch), VPN_ERR_NOSPACE.
 */
int vpn_sig_auth_sign(const vpn_sig_key *key, uint8_t auth_method, const vpn_sig_alg *alg,
                      const vpn_rng *rng, const uint8_t *msg, size_t msg_len, vpn_wr *w);

/*
 * Verifies Authentication Data with the peer's public key. Methods 14 and
 * 9/10/11 as above, and 1 (RSASSA-PKCS1-v1_5 with SHA-1, RFC 7296 3.8).
 * used (optional) receives the algorithm the data named or implied, for
 * the caller's policy (e.g. refusing SHA-1, or a hash it did not offer in
 * SIGNATURE_HASH_ALGORITHMS); it is zeroed on failure.
 * Errors: VPN_ERR_AUTH, VPN_ERR_MALFORMED (length octet, AlgorithmIdentifier,
 * or r || s length), VPN_ERR_TRUNCATED, VPN_ERR_UNSUPPORTED, VPN_ERR_POLICY
 * (key type or curve does not fit), VPN_ERR_INVAL, VPN_ERR_NOMEM.
 */
int vpn_sig_auth_verify(const vpn_sig_key *key, uint8_t auth_method, const uint8_t *auth,
                        size_t auth_len, const uint8_t *msg, size_t msg_len, vpn_sig_alg *used);

#ifdef __cplusplus
}
#endif

#endif
