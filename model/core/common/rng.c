#include "common/rng.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "common/vpn-err.h"

int vpn_rng_bytes(const vpn_rng *rng, void *out, size_t len)
{
    if (rng == NULL || rng->fill == NULL || (out == NULL && len))
        return VPN_ERR_INVAL;
    if (len == 0)
        return 0;
    return rng->fill(rng->ctx, out, len);
}

static int system_fill(void *ctx, uint8_t *out, size_t len)
{
    (void)ctx;
    while (len > 0) {
        int chunk = len > 1u << 20 ? 1 << 20 : (int)len;
        if (RAND_bytes(out, chunk) != 1)
            return VPN_ERR_CRYPTO;
        out += chunk;
        len -= (size_t)chunk;
    }
    return 0;
}

void vpn_rng_init_system(vpn_rng *rng)
{
    rng->fill = system_fill;
    rng->ctx = NULL;
}

/* HMAC(key, V || [sep || data]) into out; SP 800-90A 10.1.2.2 building block. */
static int drbg_hmac(const uint8_t key[32], const uint8_t v[32], int sep,
                     const uint8_t *data, size_t len, uint8_t out[32])
{
    uint8_t msg[32 + 1 + VPN_DRBG_SEED_MAX];
    size_t n = 32;
    unsigned int outlen = 0;
    int ok;

    memcpy(msg, v, 32);
    if (sep >= 0) {
        msg[n++] = (uint8_t)sep;
        if (len)
            memcpy(msg + n, data, len);
        n += len;
    }
    ok = HMAC(EVP_sha256(), key, 32, msg, n, out, &outlen) != NULL && outlen == 32;
    OPENSSL_cleanse(msg, sizeof msg);
    return ok ? 0 : VPN_ERR_CRYPTO;
}

/* HMAC_DRBG_Update (SP 800-90A 10.1.2.2). */
static int drbg_update(vpn_drbg *d, const uint8_t *data, size_t len)
{
    int rc;

    if ((rc = drbg_hmac(d->key, d->v, 0x00, data, len, d->key)) != 0)
        return rc;
    if ((rc = drbg_hmac(d->key, d->v, -1, NULL, 0, d->v)) != 0)
        return rc;
    if (len == 0)
        return 0;
    if ((rc = drbg_hmac(d->key, d->v, 0x01, data, len, d->key)) != 0)
        return rc;
    return drbg_hmac(d->key, d->v, -1, NULL, 0, d->v);
}

int vpn_drbg_init(vpn_drbg *d, const void *seed, size_t seed_len)
{
    if (d == NULL || seed_len > VPN_DRBG_SEED_MAX || (seed == NULL && seed_len))
        return VPN_ERR_INVAL;
    /* Instantiate (10.1.2.3): Key = 0x00.., V = 0x01.. */
    memset(d->key, 0x00, sizeof d->key);
    memset(d->v, 0x01, sizeof d->v);
    d->reseed_counter = 1;
    return drbg_update(d, seed, seed_len);
}

int vpn_drbg_reseed(vpn_drbg *d, const void *seed, size_t seed_len)
{
    int rc;

    if (d == NULL || seed_len > VPN_DRBG_SEED_MAX || (seed == NULL && seed_len))
        return VPN_ERR_INVAL;
    rc = drbg_update(d, seed, seed_len);
    d->reseed_counter = 1;
    return rc;
}

int vpn_drbg_generate(vpn_drbg *d, void *out, size_t len)
{
    uint8_t *p = out;
    int rc;

    if (d == NULL || (out == NULL && len))
        return VPN_ERR_INVAL;
    /* Generate (10.1.2.5) without additional input. A simulation never
     * reaches the 2^48 reseed interval, so no reseed is forced. */
    while (len > 0) {
        size_t n = len < 32 ? len : 32;
        if ((rc = drbg_hmac(d->key, d->v, -1, NULL, 0, d->v)) != 0)
            return rc;
        memcpy(p, d->v, n);
        p += n;
        len -= n;
    }
    rc = drbg_update(d, NULL, 0);
    d->reseed_counter++;
    return rc;
}

void vpn_drbg_free(vpn_drbg *d)
{
    if (d)
        OPENSSL_cleanse(d, sizeof *d);
}

static int drbg_fill(void *ctx, uint8_t *out, size_t len)
{
    return vpn_drbg_generate(ctx, out, len);
}

void vpn_rng_init_drbg(vpn_rng *rng, vpn_drbg *d)
{
    rng->fill = drbg_fill;
    rng->ctx = d;
}

int vpn_drbg_fork(vpn_drbg *parent, vpn_drbg *child, const char *label)
{
    uint8_t seed[32 + 128];
    size_t ll = label ? strlen(label) : 0;
    int rc;

    if (parent == NULL || child == NULL || ll > 128)
        return VPN_ERR_INVAL;
    if ((rc = vpn_drbg_generate(parent, seed, 32)) != 0)
        return rc;
    if (ll)
        memcpy(seed + 32, label, ll);
    rc = vpn_drbg_init(child, seed, 32 + ll);
    OPENSSL_cleanse(seed, sizeof seed);
    return rc;
}
