/* HMAC PRFs and prf+ (RFC 7296 2.13), on the precomputed-state HMAC. */
#include "crypto/prf.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/vpn-err.h"
#include "crypto/hmac.h"

static const vpn_prf_info prf_table[] = {
    {VPN_PRF_HMAC_SHA1, 20, 20, "PRF_HMAC_SHA1"},
    {VPN_PRF_HMAC_SHA2_256, 32, 32, "PRF_HMAC_SHA2_256"},
    {VPN_PRF_HMAC_SHA2_384, 48, 48, "PRF_HMAC_SHA2_384"},
    {VPN_PRF_HMAC_SHA2_512, 64, 64, "PRF_HMAC_SHA2_512"},
};

int vpn_prf_lookup(uint16_t id, const vpn_prf_info **out)
{
    if (out == NULL)
        return VPN_ERR_INVAL;
    for (size_t i = 0; i < sizeof prf_table / sizeof prf_table[0]; i++) {
        if (prf_table[i].id == id) {
            *out = &prf_table[i];
            return 0;
        }
    }
    return VPN_ERR_UNSUPPORTED;
}

static enum vpn_hash prf_hash(uint16_t id)
{
    switch (id) {
    case VPN_PRF_HMAC_SHA2_256:
        return VPN_HASH_SHA256;
    case VPN_PRF_HMAC_SHA2_384:
        return VPN_HASH_SHA384;
    case VPN_PRF_HMAC_SHA2_512:
        return VPN_HASH_SHA512;
    default:
        return VPN_HASH_SHA1;
    }
}

static int check_iov(const vpn_iov *v, size_t n)
{
    if (v == NULL && n > 0)
        return VPN_ERR_INVAL;
    for (size_t i = 0; i < n; i++)
        if (v[i].p == NULL && v[i].len > 0)
            return VPN_ERR_INVAL;
    return 0;
}

int vpn_prf_compute(uint16_t id, const vpn_iov *key, size_t nk, const vpn_iov *data, size_t n,
                    uint8_t *out, size_t out_cap)
{
    const vpn_prf_info *info;
    vpn_hmac h;
    int rc;

    rc = vpn_prf_lookup(id, &info);
    if (rc != 0)
        return rc;
    if (out == NULL || check_iov(key, nk) != 0 || check_iov(data, n) != 0)
        return VPN_ERR_INVAL;
    if (out_cap < info->out_len)
        return VPN_ERR_NOSPACE;
    rc = vpn_hmac_init_iov(&h, prf_hash(id), key, nk);
    if (rc == 0)
        rc = vpn_hmac_compute(&h, data, n, out);
    vpn_hmac_free(&h);
    return rc;
}

int vpn_prf_plus(uint16_t id, const vpn_iov *key, size_t nk, const vpn_iov *seed, size_t n,
                 uint8_t *out, size_t out_len)
{
    const vpn_prf_info *info;
    vpn_hmac h;
    vpn_hash_state s;
    uint8_t t[VPN_PRF_MAX_LEN];
    size_t done = 0;
    int rc;

    rc = vpn_prf_lookup(id, &info);
    if (rc != 0)
        return rc;
    if ((out == NULL && out_len > 0) || check_iov(key, nk) != 0 || check_iov(seed, n) != 0)
        return VPN_ERR_INVAL;
    /* RFC 7296 2.13: the counter is a single octet, 0x01 .. 0xff. */
    if (out_len > 255 * info->out_len)
        return VPN_ERR_OVERFLOW;
    rc = vpn_hmac_init_iov(&h, prf_hash(id), key, nk);
    for (unsigned counter = 1; rc == 0 && done < out_len; counter++) {
        uint8_t c = (uint8_t)counter;
        size_t take = out_len - done < info->out_len ? out_len - done : info->out_len;

        rc = vpn_hmac_start(&h, &s);
        if (rc == 0 && counter > 1)
            rc = vpn_hmac_update(&h, &s, t, info->out_len); /* Tn-1 */
        for (size_t i = 0; rc == 0 && i < n; i++)
            rc = vpn_hmac_update(&h, &s, seed[i].p, seed[i].len);
        if (rc == 0)
            rc = vpn_hmac_update(&h, &s, &c, 1);
        if (rc == 0)
            rc = vpn_hmac_finish(&h, &s, t);
        else
            OPENSSL_cleanse(&s, sizeof s);
        if (rc == 0) {
            memcpy(out + done, t, take);
            done += take;
        }
    }
    vpn_hmac_free(&h);
    OPENSSL_cleanse(t, sizeof t);
    if (rc != 0 && out_len > 0)
        OPENSSL_cleanse(out, out_len);
    return rc;
}

int vpn_prf_from_ikev1_hash(uint16_t ikev1_hash, uint16_t *prf_id)
{
    if (prf_id == NULL)
        return VPN_ERR_INVAL;
    switch (ikev1_hash) {
    case 2: /* SHA (RFC 2409 appendix A) */
        *prf_id = VPN_PRF_HMAC_SHA1;
        return 0;
    case 4: /* SHA2-256 (RFC 4868 3) */
        *prf_id = VPN_PRF_HMAC_SHA2_256;
        return 0;
    case 5:
        *prf_id = VPN_PRF_HMAC_SHA2_384;
        return 0;
    case 6:
        *prf_id = VPN_PRF_HMAC_SHA2_512;
        return 0;
    default:
        return VPN_ERR_UNSUPPORTED;
    }
}

int vpn_prf_hash(uint16_t id, const vpn_iov *data, size_t n, uint8_t *out, size_t out_cap)
{
    static const char *const names[] = {"SHA1", "SHA256", "SHA384", "SHA512"};
    const vpn_prf_info *info;
    EVP_MD *md = NULL;
    EVP_MD_CTX *ctx = NULL;
    unsigned int len = 0;
    int rc;

    rc = vpn_prf_lookup(id, &info);
    if (rc != 0)
        return rc;
    if (out == NULL || check_iov(data, n) != 0)
        return VPN_ERR_INVAL;
    if (out_cap < info->out_len)
        return VPN_ERR_NOSPACE;
    rc = VPN_ERR_CRYPTO;
    /* Control-plane only: allocating here is fine. */
    md = EVP_MD_fetch(NULL, names[prf_hash(id)], NULL);
    ctx = EVP_MD_CTX_new();
    if (md == NULL || ctx == NULL || EVP_DigestInit_ex(ctx, md, NULL) != 1)
        goto out;
    for (size_t i = 0; i < n; i++)
        if (data[i].len > 0 && EVP_DigestUpdate(ctx, data[i].p, data[i].len) != 1)
            goto out;
    if (EVP_DigestFinal_ex(ctx, out, &len) != 1 || len != info->out_len)
        goto out;
    rc = 0;
out:
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(md);
    return rc;
}
