/*
 * Injected randomness. Engines never call a global RNG: every nonce, SPI,
 * cookie, IV and DH private key comes through a vpn_rng handed in by the
 * driver. Two backends:
 *   - the system RNG (OpenSSL RAND_bytes), for the host daemon;
 *   - a deterministic HMAC_DRBG (NIST SP 800-90A section 10.1.2, SHA-256)
 *     seeded by the caller, so a simulation with the same seed produces
 *     byte-identical traces.
 */
#ifndef VPN_RNG_H
#define VPN_RNG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Fills out with len random bytes. Returns 0 or a negative VPN_ERR_*. */
typedef int (*vpn_rng_fill_fn)(void *ctx, uint8_t *out, size_t len);

typedef struct vpn_rng {
    vpn_rng_fill_fn fill;
    void *ctx;
} vpn_rng;

/* Returns 0, VPN_ERR_INVAL (no backend) or the backend's error. */
int vpn_rng_bytes(const vpn_rng *rng, void *out, size_t len);

/* The system backend: OpenSSL RAND_bytes. Errors: VPN_ERR_CRYPTO. */
void vpn_rng_init_system(vpn_rng *rng);

#define VPN_DRBG_SEED_MAX 256

/* HMAC_DRBG state; embed it, then point a vpn_rng at it. */
typedef struct vpn_drbg {
    uint8_t key[32];
    uint8_t v[32];
    uint64_t reseed_counter;
} vpn_drbg;

/*
 * Instantiates from seed (the entropy input and personalization string,
 * concatenated, at most VPN_DRBG_SEED_MAX bytes). The same seed always
 * yields the same stream. Errors: VPN_ERR_INVAL, VPN_ERR_CRYPTO.
 */
int vpn_drbg_init(vpn_drbg *d, const void *seed, size_t seed_len);
/* Mixes more seed material in (SP 800-90A reseed). Same errors. */
int vpn_drbg_reseed(vpn_drbg *d, const void *seed, size_t seed_len);
/* Generates len bytes. Errors: VPN_ERR_CRYPTO. */
int vpn_drbg_generate(vpn_drbg *d, void *out, size_t len);
/* Wipes the state. */
void vpn_drbg_free(vpn_drbg *d);
/* Makes rng draw from d (d must outlive rng). */
void vpn_rng_init_drbg(vpn_rng *rng, vpn_drbg *d);

/*
 * Derives an independent child DRBG from a parent (for one engine among
 * many on a node, say), labelled so that children with different labels
 * never share a stream.
 */
int vpn_drbg_fork(vpn_drbg *parent, vpn_drbg *child, const char *label);

#ifdef __cplusplus
}
#endif

#endif
