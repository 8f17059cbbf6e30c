/*
 * HMAC (RFC 2104) over SHA-1 and SHA-2 with the key's inner and outer hash
 * states computed once, so each MAC costs two hash runs and no allocation.
 * Internal to the crypto unit: integ.c and prf.c build on it.
 */
#ifndef VPN_HMAC_H
#define VPN_HMAC_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/sha.h>

#include "crypto/integ.h"

#ifdef __cplusplus
extern "C" {
#endif

enum vpn_hash {
    VPN_HASH_SHA1,
    VPN_HASH_SHA256,
    VPN_HASH_SHA384,
    VPN_HASH_SHA512,
};

#define VPN_HASH_MAX_LEN 64

typedef union vpn_hash_state {
    SHA_CTX sha1;
    SHA256_CTX sha256;
    SHA512_CTX sha512; /* also SHA-384 */
} vpn_hash_state;

/* An embedded, keyed HMAC. */
typedef struct vpn_hmac {
    enum vpn_hash hash;
    size_t out_len;      /* full digest length */
    vpn_hash_state inner; /* state after absorbing key ^ ipad */
    vpn_hash_state outer; /* state after absorbing key ^ opad */
} vpn_hmac;

/* Digest length of a hash, 0 if unknown. */
size_t vpn_hash_len(enum vpn_hash hash);

/*
 * Keys h with a key of any length (longer than the hash block is hashed
 * first, RFC 2104 2). Errors: VPN_ERR_INVAL, VPN_ERR_CRYPTO.
 */
int vpn_hmac_init(vpn_hmac *h, enum vpn_hash hash, const uint8_t *key, size_t key_len);

/* As vpn_hmac_init, the key being the concatenation of n pieces (IKE keys
 * its PRF with Ni | Nr). Same errors. */
int vpn_hmac_init_iov(vpn_hmac *h, enum vpn_hash hash, const vpn_iov *key, size_t n);

/*
 * Streaming use: start copies the keyed inner state into s, update absorbs
 * data, finish writes h->out_len bytes and wipes s. Errors: VPN_ERR_INVAL,
 * VPN_ERR_CRYPTO (finish wipes s on error too).
 */
int vpn_hmac_start(const vpn_hmac *h, vpn_hash_state *s);
int vpn_hmac_update(const vpn_hmac *h, vpn_hash_state *s, const void *p, size_t len);
int vpn_hmac_finish(const vpn_hmac *h, vpn_hash_state *s, uint8_t *out);

/* Writes h->out_len bytes of HMAC over the concatenated iov to out. Errors:
 * VPN_ERR_INVAL (NULL pointer with a nonzero length), VPN_ERR_CRYPTO. */
int vpn_hmac_compute(const vpn_hmac *h, const vpn_iov *iov, size_t n, uint8_t *out);

/* Wipes the key states. */
void vpn_hmac_free(vpn_hmac *h);

#ifdef __cplusplus
}
#endif

#endif
