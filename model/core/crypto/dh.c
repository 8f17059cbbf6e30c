#include "crypto/dh.h"
#include "crypto/ossl-err.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include "common/vpn-err.h"

/* Rejection sampling gives up after this many draws: only a broken RNG
 * (say, one stuck at zero) gets near it. */
#define DH_MAX_TRIES 64

/*
 * Security strengths: SP 800-57 part 1 table 2 and SP 800-56A rev3
 * appendix D (MODP-4096: 152). MODP-1536 is not in those tables; RFC 3526
 * section 8 puts it between 90 and 120 bits, so 96 here.
 * MODP priv_len is 2 * strength / 8 (SP 800-56A rev3 5.6.1.1.4).
 */
static const vpn_dh_info dh_groups[] = {
    {VPN_DH_MODP_1024, VPN_DH_KIND_MODP, 128, 128, 20, 80, "MODP-1024 (group 2)"},
    {VPN_DH_MODP_1536, VPN_DH_KIND_MODP, 192, 192, 24, 96, "MODP-1536 (group 5)"},
    {VPN_DH_MODP_2048, VPN_DH_KIND_MODP, 256, 256, 28, 112, "MODP-2048 (group 14)"},
    {VPN_DH_MODP_3072, VPN_DH_KIND_MODP, 384, 384, 32, 128, "MODP-3072 (group 15)"},
    {VPN_DH_MODP_4096, VPN_DH_KIND_MODP, 512, 512, 38, 152, "MODP-4096 (group 16)"},
    {VPN_DH_ECP_256, VPN_DH_KIND_ECP, 64, 32, 32, 128, "ECP-256 (group 19)"},
    {VPN_DH_ECP_384, VPN_DH_KIND_ECP, 96, 48, 48, 192, "ECP-384 (group 20)"},
    {VPN_DH_ECP_521, VPN_DH_KIND_ECP, 132, 66, 66, 256, "ECP-521 (group 21)"},
    {VPN_DH_CURVE25519, VPN_DH_KIND_X25519, 32, 32, 32, 128, "Curve25519 (group 31)"},
};

struct vpn_dh {
    const vpn_dh_info *info;
    bool full_check;
    /* MODP */
    BIGNUM *p, *pm1, *q, *x;
    BN_MONT_CTX *mont;
    /* ECP */
    EC_GROUP *group;
    BIGNUM *field; /* the prime p of the curve's field */
    BIGNUM *d;
    /* X25519 */
    EVP_PKEY *xkey;
    uint8_t pub[VPN_DH_MAX_LEN];
};

int vpn_dh_lookup(uint16_t group, const vpn_dh_info **out)
{
    for (size_t i = 0; i < sizeof dh_groups / sizeof dh_groups[0]; i++) {
        if (dh_groups[i].id == group) {
            if (out)
                *out = &dh_groups[i];
            return 0;
        }
    }
    return VPN_ERR_UNSUPPORTED;
}

/* OpenSSL failures we answer with our own code leave nothing queued. */
static int fail(int err)
{
    ERR_clear_error();
    return err;
}

static BIGNUM *modp_prime(uint16_t id)
{
    switch (id) {
    case VPN_DH_MODP_1024: return BN_get_rfc2409_prime_1024(NULL); /* RFC 2409 6.2 */
    case VPN_DH_MODP_1536: return BN_get_rfc3526_prime_1536(NULL); /* RFC 3526 2 */
    case VPN_DH_MODP_2048: return BN_get_rfc3526_prime_2048(NULL); /* RFC 3526 3 */
    case VPN_DH_MODP_3072: return BN_get_rfc3526_prime_3072(NULL); /* RFC 3526 4 */
    case VPN_DH_MODP_4096: return BN_get_rfc3526_prime_4096(NULL); /* RFC 3526 5 */
    default: return NULL;
    }
}

static int ecp_nid(uint16_t id)
{
    switch (id) {
    case VPN_DH_ECP_256: return NID_X9_62_prime256v1; /* RFC 5903 3.1 */
    case VPN_DH_ECP_384: return NID_secp384r1;        /* RFC 5903 3.2 */
    case VPN_DH_ECP_521: return NID_secp521r1;        /* RFC 5903 3.3 */
    default: return NID_undef;
    }
}

/* Allocates the context and the group's fixed parameters. */
static int dh_alloc(vpn_dh **out, uint16_t group)
{
    const vpn_dh_info *info;
    vpn_dh *dh;
    int rc;

    if ((rc = vpn_dh_lookup(group, &info)) != 0)
        return rc;
    if ((dh = OPENSSL_zalloc(sizeof *dh)) == NULL)
        return VPN_ERR_NOMEM;
    dh->info = info;
    if (info->kind == VPN_DH_KIND_MODP) {
        BN_CTX *ctx = BN_CTX_new();
        dh->p = modp_prime(group);
        dh->pm1 = BN_new();
        dh->q = BN_new();
        dh->x = BN_secure_new();
        dh->mont = BN_MONT_CTX_new();
        if (ctx == NULL || dh->p == NULL || dh->pm1 == NULL || dh->q == NULL || dh->x == NULL ||
            dh->mont == NULL || !BN_sub(dh->pm1, dh->p, BN_value_one()) ||
            !BN_rshift1(dh->q, dh->pm1) || !BN_MONT_CTX_set(dh->mont, dh->p, ctx)) {
            BN_CTX_free(ctx);
            vpn_dh_del(dh);
            return fail(VPN_ERR_NOMEM);
        }
        BN_CTX_free(ctx);
        BN_set_flags(dh->x, BN_FLG_CONSTTIME);
    } else if (info->kind == VPN_DH_KIND_ECP) {
        dh->group = EC_GROUP_new_by_curve_name(ecp_nid(group));
        dh->field = BN_new();
        dh->d = BN_secure_new();
        if (dh->group == NULL || dh->field == NULL || dh->d == NULL ||
            !EC_GROUP_get_curve(dh->group, dh->field, NULL, NULL, NULL)) {
            vpn_dh_del(dh);
            return fail(VPN_ERR_NOMEM);
        }
        BN_set_flags(dh->d, BN_FLG_CONSTTIME);
    }
    *out = dh;
    return 0;
}

/* MODP: y = g^x mod p with g = 2 (RFC 2409 6.2, RFC 3526), left-padded. */
static int modp_public(vpn_dh *dh)
{
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *g = BN_new(), *y = BN_new();
    int rc = VPN_ERR_CRYPTO;

    if (ctx && g && y && BN_set_word(g, 2) &&
        BN_mod_exp_mont_consttime(y, g, dh->x, dh->p, ctx, dh->mont) &&
        BN_bn2binpad(y, dh->pub, (int)dh->info->pub_len) == (int)dh->info->pub_len)
        rc = 0;
    BN_free(g);
    BN_free(y);
    BN_CTX_free(ctx);
    return rc == 0 ? 0 : fail(rc);
}

/* ECP: Q = d * G, sent as x || y (RFC 5903 7). */
static int ecp_public(vpn_dh *dh)
{
    BN_CTX *ctx = BN_CTX_new();
    EC_POINT *q = EC_POINT_new(dh->group);
    BIGNUM *x = BN_new(), *y = BN_new();
    int flen = (int)dh->info->secret_len;
    int rc = VPN_ERR_CRYPTO;

    if (ctx && q && x && y && EC_POINT_mul(dh->group, q, dh->d, NULL, NULL, ctx) &&
        EC_POINT_get_affine_coordinates(dh->group, q, x, y, ctx) &&
        BN_bn2binpad(x, dh->pub, flen) == flen && BN_bn2binpad(y, dh->pub + flen, flen) == flen)
        rc = 0;
    EC_POINT_free(q);
    BN_free(x);
    BN_free(y);
    BN_CTX_free(ctx);
    return rc == 0 ? 0 : fail(rc);
}

static int x25519_set_private(vpn_dh *dh, const uint8_t *priv)
{
    size_t len = 32;

    dh->xkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, 32);
    if (dh->xkey == NULL || !EVP_PKEY_get_raw_public_key(dh->xkey, dh->pub, &len) || len != 32)
        return fail(VPN_ERR_CRYPTO);
    return 0;
}

int vpn_dh_new(vpn_dh **out, uint16_t group, const vpn_rng *rng)
{
    uint8_t buf[66];
    vpn_dh *dh = NULL;
    int rc;

    if (out == NULL || rng == NULL)
        return VPN_ERR_INVAL;
    *out = NULL;
    if ((rc = dh_alloc(&dh, group)) != 0)
        return rc;

    const vpn_dh_info *info = dh->info;
    rc = VPN_ERR_CRYPTO;
    if (info->kind == VPN_DH_KIND_X25519) {
        /* RFC 7748 5: any 32 bytes are a scalar; X25519 clamps them. */
        if ((rc = vpn_rng_bytes(rng, buf, 32)) == 0)
            rc = x25519_set_private(dh, buf);
    } else if (info->kind == VPN_DH_KIND_MODP) {
        /* x uniform in [2, 2^N - 1], N = 2 * strength (SP 800-56A rev3
         * 5.6.1.1.4); 2^N < q, so x is a valid exponent. */
        for (int i = 0; i < DH_MAX_TRIES; i++) {
            if ((rc = vpn_rng_bytes(rng, buf, info->priv_len)) != 0)
                break;
            rc = VPN_ERR_CRYPTO;
            if (BN_bin2bn(buf, (int)info->priv_len, dh->x) == NULL)
                break;
            if (BN_cmp(dh->x, BN_value_one()) > 0) {
                rc = modp_public(dh);
                break;
            }
        }
    } else {
        /* d uniform in [1, n-1]: draw as many bits as n has and reject
         * what falls outside (FIPS 186-4 B.4.2, "testing candidates"). */
        const BIGNUM *n = EC_GROUP_get0_order(dh->group);
        int bits = BN_num_bits(n);
        uint8_t mask = (uint8_t)(bits % 8 ? (1u << (bits % 8)) - 1 : 0xff);
        for (int i = 0; i < DH_MAX_TRIES; i++) {
            if ((rc = vpn_rng_bytes(rng, buf, info->priv_len)) != 0)
                break;
            rc = VPN_ERR_CRYPTO;
            buf[0] &= mask;
            if (BN_bin2bn(buf, (int)info->priv_len, dh->d) == NULL)
                break;
            if (!BN_is_zero(dh->d) && BN_cmp(dh->d, n) < 0) {
                rc = ecp_public(dh);
                break;
            }
        }
    }
    OPENSSL_cleanse(buf, sizeof buf);
    if (rc != 0) {
        vpn_dh_del(dh);
        return rc;
    }
    *out = dh;
    return 0;
}

int vpn_dh_new_private(vpn_dh **out, uint16_t group, const uint8_t *priv, size_t priv_len)
{
    vpn_dh *dh = NULL;
    int rc;

    if (out == NULL || priv == NULL)
        return VPN_ERR_INVAL;
    *out = NULL;
    if ((rc = dh_alloc(&dh, group)) != 0)
        return rc;

    const vpn_dh_info *info = dh->info;
    rc = VPN_ERR_INVAL;
    if (info->kind == VPN_DH_KIND_X25519) {
        if (priv_len == 32)
            rc = x25519_set_private(dh, priv);
    } else if (info->kind == VPN_DH_KIND_MODP) {
        if (priv_len >= 1 && priv_len <= info->pub_len &&
            BN_bin2bn(priv, (int)priv_len, dh->x) != NULL && BN_cmp(dh->x, BN_value_one()) > 0 &&
            BN_cmp(dh->x, dh->pm1) < 0)
            rc = modp_public(dh);
    } else {
        const BIGNUM *n = EC_GROUP_get0_order(dh->group);
        if (priv_len >= 1 && priv_len <= info->priv_len &&
            BN_bin2bn(priv, (int)priv_len, dh->d) != NULL && !BN_is_zero(dh->d) &&
            BN_cmp(dh->d, n) < 0)
            rc = ecp_public(dh);
    }
    if (rc != 0) {
        vpn_dh_del(dh);
        return rc == VPN_ERR_INVAL ? fail(rc) : rc;
    }
    *out = dh;
    return 0;
}

void vpn_dh_del(vpn_dh *dh)
{
    if (dh == NULL)
        return;
    BN_free(dh->p);
    BN_free(dh->pm1);
    BN_free(dh->q);
    BN_clear_free(dh->x);
    BN_MONT_CTX_free(dh->mont);
    EC_GROUP_free(dh->group);
    BN_free(dh->field);
    BN_clear_free(dh->d);
    EVP_PKEY_free(dh->xkey); /* OpenSSL wipes the raw X25519 key */
    OPENSSL_clear_free(dh, sizeof *dh);
}

const vpn_dh_info *vpn_dh_get_info(const vpn_dh *dh)
{
    return dh ? dh->info : NULL;
}

const uint8_t *vpn_dh_public(const vpn_dh *dh, size_t *len)
{
    if (dh == NULL)
        return NULL;
    if (len)
        *len = dh->info->pub_len;
    return dh->pub;
}

void vpn_dh_set_full_check(vpn_dh *dh, bool on)
{
    if (dh)
        dh->full_check = on;
}

/* RFC 6989 2.2 for the safe-prime MODP groups. */
static int modp_compute(const vpn_dh *dh, const uint8_t *peer, uint8_t *out)
{
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *y = BN_new(), *t = BN_new(), *z = BN_secure_new();
    int len = (int)dh->info->secret_len;
    int rc = VPN_ERR_NOMEM;

    if (ctx == NULL || y == NULL || t == NULL || z == NULL ||
        BN_bin2bn(peer, (int)dh->info->pub_len, y) == NULL)
        goto done;
    rc = VPN_ERR_POLICY;
    /* 1 < y < p-1: rejects 0, 1, p-1 (the order-1 and order-2 subgroup)
     * and anything not reduced mod p. */
    if (BN_cmp(y, BN_value_one()) <= 0 || BN_cmp(y, dh->pm1) >= 0)
        goto done;
    if (dh->full_check) {
        /* y^q == 1: y lies in the prime-order subgroup generated by g. */
        if (!BN_mod_exp_mont(t, y, dh->q, dh->p, ctx, dh->mont)) {
            rc = VPN_ERR_CRYPTO;
            goto done;
        }
        if (!BN_is_one(t))
            goto done;
    }
    rc = VPN_ERR_CRYPTO;
    if (!BN_mod_exp_mont_consttime(z, y, dh->x, dh->p, ctx, dh->mont))
        goto done;
    /* Unreachable after the range check for these primes; cheap insurance. */
    if (BN_is_one(z)) {
        rc = VPN_ERR_POLICY;
        goto done;
    }
    if (BN_bn2binpad(z, out, len) == len)
        rc = 0;
done:
    BN_free(y);
    BN_free(t);
    BN_clear_free(z);
    BN_CTX_free(ctx);
    return rc == 0 ? 0 : fail(rc);
}

/* RFC 5903 7 and RFC 6989 2.3. */
static int ecp_compute(const vpn_dh *dh, const uint8_t *peer, uint8_t *out)
{
    int flen = (int)dh->info->secret_len;
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *x = BN_new(), *y = BN_new(), *sx = BN_secure_new();
    EC_POINT *pt = EC_POINT_new(dh->group), *s = EC_POINT_new(dh->group);
    int rc = VPN_ERR_NOMEM;

    if (ctx == NULL || x == NULL || y == NULL || sx == NULL || pt == NULL || s == NULL ||
        BN_bin2bn(peer, flen, x) == NULL || BN_bin2bn(peer + flen, flen, y) == NULL)
        goto done;
    rc = VPN_ERR_POLICY;
    ERR_clear_error(); /* a refusal below may be OpenSSL's allocation failure (ossl-err.h) */
    /* Coordinates must be reduced field elements ... */
    if (BN_cmp(x, dh->field) >= 0 || BN_cmp(y, dh->field) >= 0)
        goto done;
    /* ... naming a point on the curve (OpenSSL refuses to set one that is
     * not). An affine point is never infinity; x = y = 0 is not on these
     * curves since b != 0. With cofactor 1 there is no small subgroup. */
    if (!EC_POINT_set_affine_coordinates(dh->group, pt, x, y, ctx) ||
        EC_POINT_is_on_curve(dh->group, pt, ctx) != 1 || EC_POINT_is_at_infinity(dh->group, pt)) {
        if (vpn_ossl_nomem_pending(NULL))
            rc = VPN_ERR_NOMEM; /* ours, not the peer's value */
        goto done;
    }
    rc = VPN_ERR_CRYPTO;
    if (!EC_POINT_mul(dh->group, s, NULL, pt, dh->d, ctx))
        goto done;
    if (EC_POINT_is_at_infinity(dh->group, s)) {
        rc = VPN_ERR_POLICY;
        goto done;
    }
    if (EC_POINT_get_affine_coordinates(dh->group, s, sx, NULL, ctx) &&
        BN_bn2binpad(sx, out, flen) == flen)
        rc = 0;
done:
    BN_free(x);
    BN_free(y);
    BN_clear_free(sx);
    EC_POINT_free(pt);
    EC_POINT_clear_free(s);
    BN_CTX_free(ctx);
    return rc == 0 ? 0 : fail(rc);
}

/* RFC 8031 2 and RFC 7748 5, 6.1. */
static int x25519_compute(const vpn_dh *dh, const uint8_t *peer, uint8_t *out)
{
    EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer, 32);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, dh->xkey, NULL);
    size_t len = 32;
    uint8_t acc = 0;
    int rc = VPN_ERR_NOMEM;

    if (pk == NULL || ctx == NULL)
        goto done;
    rc = VPN_ERR_CRYPTO;
    if (EVP_PKEY_derive_init(ctx) <= 0 || EVP_PKEY_derive_set_peer_ex(ctx, pk, 0) <= 0)
        goto done;
    /* OpenSSL's X25519 itself fails on an all-zero result (a low-order
     * peer point); no other input makes derive fail, so that is a policy
     * rejection. */
    ERR_clear_error();
    if (EVP_PKEY_derive(ctx, out, &len) <= 0 || len != 32) {
        /* an allocation failure inside is ours, not the peer's (ossl-err.h) */
        rc = vpn_ossl_nomem_pending(NULL) ? VPN_ERR_NOMEM : VPN_ERR_POLICY;
        goto done;
    }
    /* The same check done here, in case a build of OpenSSL does not. */
    for (size_t i = 0; i < 32; i++)
        acc |= out[i];
    rc = acc ? 0 : VPN_ERR_POLICY;
done:
    EVP_PKEY_free(pk);
    EVP_PKEY_CTX_free(ctx);
    return rc == 0 ? 0 : fail(rc);
}

int vpn_dh_compute(const vpn_dh *dh, const uint8_t *peer, size_t peer_len, uint8_t *out,
                   size_t *out_len)
{
    int rc;

    if (dh == NULL || peer == NULL || out == NULL || out_len == NULL)
        return VPN_ERR_INVAL;
    size_t cap = *out_len;
    const vpn_dh_info *info = dh->info;
    if (cap < info->secret_len) {
        OPENSSL_cleanse(out, cap);
        return VPN_ERR_NOSPACE;
    }
    if (peer_len != info->pub_len) {
        rc = VPN_ERR_MALFORMED;
    } else if (info->kind == VPN_DH_KIND_MODP) {
        rc = modp_compute(dh, peer, out);
    } else if (info->kind == VPN_DH_KIND_ECP) {
        rc = ecp_compute(dh, peer, out);
    } else {
        rc = x25519_compute(dh, peer, out);
    }
    if (rc != 0) {
        OPENSSL_cleanse(out, info->secret_len);
        return rc;
    }
    *out_len = info->secret_len;
    return 0;
}
