/*
 * Diffie-Hellman: RFC 5903 section 8 and RFC 7748 sections 5.2 and 6.1
 * known answers, agreement in every group, the RFC 6989 / RFC 8031 peer
 * value checks, and determinism under a seeded DRBG.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/dh.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include "common/rng.h"
#include "common/vpn-err.h"
#include "crypto/dh.h"
#include "test-util.h"

static const uint16_t all_groups[] = {
    VPN_DH_MODP_1024, VPN_DH_MODP_1536, VPN_DH_MODP_2048, VPN_DH_MODP_3072,
    VPN_DH_MODP_4096, VPN_DH_ECP_256,   VPN_DH_ECP_384,   VPN_DH_ECP_521,
    VPN_DH_CURVE25519,
};
#define N_GROUPS (sizeof all_groups / sizeof all_groups[0])

static void drbg_rng(vpn_drbg *d, vpn_rng *r, const char *seed)
{
    assert_int_equal(vpn_drbg_init(d, seed, strlen(seed)), 0);
    vpn_rng_init_drbg(r, d);
}

/* ---- RFC 5903 section 8 --------------------------------------------------- */

typedef struct ecp_vector {
    uint16_t group;
    const char *i, *gix, *giy, *r, *grx, *gry, *girx;
} ecp_vector;

static const ecp_vector rfc5903[] = {
    /* 8.1, 256-bit random ECP group */
    {VPN_DH_ECP_256,
     "C88F01F5 10D9AC3F 70A292DA A2316DE5 44E9AAB8 AFE84049 C62A9C57 862D1433",
     "DAD0B653 94221CF9 B051E1FE CA5787D0 98DFE637 FC90B9EF 945D0C37 72581180",
     "5271A046 1CDB8252 D61F1C45 6FA3E59A B1F45B33 ACCF5F58 389E0577 B8990BB3",
     "C6EF9C5D 78AE012A 011164AC B397CE20 88685D8F 06BF9BE0 B283AB46 476BEE53",
     "D12DFB52 89C8D4F8 1208B702 70398C34 2296970A 0BCCB74C 736FC755 4494BF63",
     "56FBF3CA 366CC23E 8157854C 13C58D6A AC23F046 ADA30F83 53E74F33 039872AB",
     "D6840F6B 42F6EDAF D13116E0 E1256520 2FEF8E9E CE7DCE03 812464D0 4B9442DE"},
    /* 8.2, 384-bit random ECP group */
    {VPN_DH_ECP_384,
     "099F3C70 34D4A2C6 99884D73 A375A67F 7624EF7C 6B3C0F16 0647B674 14DCE655"
     "E35B5380 41E649EE 3FAEF896 783AB194",
     "667842D7 D180AC2C DE6F74F3 7551F557 55C7645C 20EF73E3 1634FE72 B4C55EE6"
     "DE3AC808 ACB4BDB4 C88732AE E95F41AA",
     "9482ED1F C0EEB9CA FC498462 5CCFC23F 65032149 E0E144AD A0241815 35A0F38E"
     "EB9FCFF3 C2C947DA E69B4C63 4573A81C",
     "41CB0779 B4BDB85D 47846725 FBEC3C94 30FAB46C C8DC5060 855CC9BD A0AA2942"
     "E0308312 916B8ED2 960E4BD5 5A7448FC",
     "E558DBEF 53EECDE3 D3FCCFC1 AEA08A89 A987475D 12FD950D 83CFA417 32BC509D"
     "0D1AC43A 0336DEF9 6FDA41D0 774A3571",
     "DCFBEC7A ACF31964 72169E83 8430367F 66EEBE3C 6E70C416 DD5F0C68 759DD1FF"
     "F83FA401 42209DFF 5EAAD96D B9E6386C",
     "11187331 C279962D 93D60424 3FD592CB 9D0A926F 422E4718 7521287E 7156C5C4"
     "D6031355 69B9E9D0 9CF5D4A2 70F59746"},
    /* 8.3, 521-bit random ECP group */
    {VPN_DH_ECP_521,
     "0037ADE9 319A89F4 DABDB3EF 411AACCC A5123C61 ACAB57B5 393DCE47 608172A0"
     "95AA85A3 0FE1C295 2C6771D9 37BA9777 F5957B26 39BAB072 462F68C2 7A57382D"
     "4A52",
     "0015417E 84DBF28C 0AD3C278 713349DC 7DF153C8 97A1891B D98BAB43 57C9ECBE"
     "E1E3BF42 E00B8E38 0AEAE57C 2D107564 94188594 2AF5A7F4 601723C4 195D176C"
     "ED3E",
     "017CAE20 B6641D2E EB695786 D8C94614 6239D099 E18E1D5A 514C739D 7CB4A10A"
     "D8A78801 5AC405D7 799DC75E 7B7D5B6C F2261A6A 7F150743 8BF01BEB 6CA3926F"
     "9582",
     "0145BA99 A847AF43 793FDD0E 872E7CDF A16BE30F DC780F97 BCCC3F07 8380201E"
     "9C677D60 0B343757 A3BDBF2A 3163E4C2 F869CCA7 458AA4A4 EFFC311F 5CB15168"
     "5EB9",
     "00D0B397 5AC4B799 F5BEA16D 5E13E9AF 971D5E9B 984C9F39 728B5E57 39735A21"
     "9B97C356 436ADC6E 95BB0352 F6BE64A6 C2912D4E F2D0433C ED2B6171 640012D9"
     "460F",
     "015C6822 6383956E 3BD066E7 97B623C2 7CE0EAC2 F551A10C 2C724D98 52077B87"
     "220B6536 C5C408A1 D2AEBB8E 86D678AE 49CB5709 1F473229 6579AB44 FCD17F0F"
     "C56A",
     "01144C7D 79AE6956 BC8EDB8E 7C787C45 21CB086F A64407F9 7894E5E6 B2D79B04"
     "D1427E73 CA4BAA24 0A347868 59810C06 B3C715A3 A8CC3151 F2BEE417 996D19F3"
     "DDEA"},
};

/* Builds x || y, the KE payload data of RFC 5903 section 7. */
static uint8_t *concat_hex(const char *a, const char *b, size_t *len)
{
    size_t la, lb;
    uint8_t *pa = tu_hex(a, &la), *pb = tu_hex(b, &lb);
    uint8_t *out = malloc(la + lb);

    assert_non_null(out);
    memcpy(out, pa, la);
    memcpy(out + la, pb, lb);
    free(pa);
    free(pb);
    *len = la + lb;
    return out;
}

static void test_rfc5903_vectors(void **state)
{
    (void)state;
    for (size_t v = 0; v < sizeof rfc5903 / sizeof rfc5903[0]; v++) {
        const ecp_vector *t = &rfc5903[v];
        size_t il, rl, gil, grl, pl, sl;
        uint8_t *i = tu_hex(t->i, &il), *r = tu_hex(t->r, &rl);
        uint8_t *gi = concat_hex(t->gix, t->giy, &gil);
        uint8_t *gr = concat_hex(t->grx, t->gry, &grl);
        uint8_t secret[VPN_DH_MAX_LEN];
        vpn_dh *a, *b;

        /* Initiator: g^i is the KE payload's data, x(g^ir) the secret. */
        assert_int_equal(vpn_dh_new_private(&a, t->group, i, il), 0);
        const uint8_t *pub = vpn_dh_public(a, &pl);
        assert_int_equal(pl, gil);
        assert_memory_equal(pub, gi, gil);
        sl = sizeof secret;
        assert_int_equal(vpn_dh_compute(a, gr, grl, secret, &sl), 0);
        tu_assert_hex(secret, sl, t->girx);

        /* Responder. */
        assert_int_equal(vpn_dh_new_private(&b, t->group, r, rl), 0);
        pub = vpn_dh_public(b, &pl);
        assert_memory_equal(pub, gr, grl);
        sl = sizeof secret;
        assert_int_equal(vpn_dh_compute(b, gi, gil, secret, &sl), 0);
        tu_assert_hex(secret, sl, t->girx);

        vpn_dh_del(a);
        vpn_dh_del(b);
        free(i);
        free(r);
        free(gi);
        free(gr);
    }
}

/* ---- RFC 7748 ---------------------------------------------------------------- */

/* X25519(k, u) through the public API: k as the private value, u as peer. */
static void x25519(const uint8_t k[32], const uint8_t u[32], uint8_t out[32])
{
    vpn_dh *dh;
    size_t len = 32;

    assert_int_equal(vpn_dh_new_private(&dh, VPN_DH_CURVE25519, k, 32), 0);
    assert_int_equal(vpn_dh_compute(dh, u, 32, out, &len), 0);
    assert_int_equal(len, 32);
    vpn_dh_del(dh);
}

static void test_rfc7748_5_2(void **state)
{
    (void)state;
    static const char *const v[][3] = {
        {"a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
         "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
         "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"},
        /* The input u has its top bit set: it must be masked, not rejected. */
        {"4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
         "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
         "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"},
    };
    for (size_t i = 0; i < 2; i++) {
        size_t kl, ul;
        uint8_t *k = tu_hex(v[i][0], &kl), *u = tu_hex(v[i][1], &ul), out[32];
        x25519(k, u, out);
        tu_assert_hex(out, 32, v[i][2]);
        free(k);
        free(u);
    }
}

/* The iterated test: k = u = 9; repeatedly (k, u) = (X25519(k, u), k). */
static void test_rfc7748_5_2_iterated(void **state)
{
    (void)state;
    uint8_t k[32] = {9}, u[32] = {9}, r[32];

    for (int i = 1; i <= 1000; i++) {
        x25519(k, u, r);
        memcpy(u, k, 32);
        memcpy(k, r, 32);
        if (i == 1)
            tu_assert_hex(k, 32, "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
    }
    tu_assert_hex(k, 32, "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
}

static void test_rfc7748_6_1(void **state)
{
    (void)state;
    size_t al, bl, pl, sl = 32;
    uint8_t *a = tu_hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", &al);
    uint8_t *b = tu_hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", &bl);
    uint8_t s1[32], s2[32];
    vpn_dh *da, *db;

    assert_int_equal(vpn_dh_new_private(&da, VPN_DH_CURVE25519, a, al), 0);
    assert_int_equal(vpn_dh_new_private(&db, VPN_DH_CURVE25519, b, bl), 0);
    const uint8_t *pa = vpn_dh_public(da, &pl);
    tu_assert_hex(pa, pl, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    const uint8_t *pb = vpn_dh_public(db, &pl);
    tu_assert_hex(pb, pl, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    assert_int_equal(vpn_dh_compute(da, pb, 32, s1, &sl), 0);
    sl = 32;
    assert_int_equal(vpn_dh_compute(db, pa, 32, s2, &sl), 0);
    tu_assert_hex(s1, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    tu_assert_hex(s2, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    vpn_dh_del(da);
    vpn_dh_del(db);
    free(a);
    free(b);
}

/* ---- agreement and determinism ------------------------------------------------ */

static void test_agreement_all_groups(void **state)
{
    (void)state;
    for (size_t g = 0; g < N_GROUPS; g++) {
        vpn_drbg d1, d2;
        vpn_rng r1, r2;
        vpn_dh *a, *b;
        const vpn_dh_info *info;
        uint8_t s1[VPN_DH_MAX_LEN], s2[VPN_DH_MAX_LEN];
        size_t pal, pbl, l1 = sizeof s1, l2 = sizeof s2;

        drbg_rng(&d1, &r1, "agreement/initiator");
        drbg_rng(&d2, &r2, "agreement/responder");
        assert_int_equal(vpn_dh_new(&a, all_groups[g], &r1), 0);
        assert_int_equal(vpn_dh_new(&b, all_groups[g], &r2), 0);
        info = vpn_dh_get_info(a);
        assert_int_equal(info->id, all_groups[g]);
        const uint8_t *pa = vpn_dh_public(a, &pal);
        const uint8_t *pb = vpn_dh_public(b, &pbl);
        assert_int_equal(pal, info->pub_len);
        assert_int_equal(pbl, info->pub_len);
        assert_memory_not_equal(pa, pb, pal);
        /* The full subgroup check accepts honest values. */
        vpn_dh_set_full_check(a, true);
        assert_int_equal(vpn_dh_compute(a, pb, pbl, s1, &l1), 0);
        assert_int_equal(vpn_dh_compute(b, pa, pal, s2, &l2), 0);
        assert_int_equal(l1, info->secret_len);
        assert_int_equal(l2, info->secret_len);
        assert_memory_equal(s1, s2, l1);
        vpn_dh_del(a);
        vpn_dh_del(b);
    }
}

static void test_seeded_public_values_repeat(void **state)
{
    (void)state;
    for (size_t g = 0; g < N_GROUPS; g++) {
        vpn_drbg d1, d2, d3;
        vpn_rng r1, r2, r3;
        vpn_dh *a, *b, *c;
        size_t la, lb, lc;

        drbg_rng(&d1, &r1, "RngSeed=1/RngRun=1/node=3");
        drbg_rng(&d2, &r2, "RngSeed=1/RngRun=1/node=3");
        drbg_rng(&d3, &r3, "RngSeed=1/RngRun=2/node=3");
        assert_int_equal(vpn_dh_new(&a, all_groups[g], &r1), 0);
        assert_int_equal(vpn_dh_new(&b, all_groups[g], &r2), 0);
        assert_int_equal(vpn_dh_new(&c, all_groups[g], &r3), 0);
        const uint8_t *pa = vpn_dh_public(a, &la);
        const uint8_t *pb = vpn_dh_public(b, &lb);
        const uint8_t *pc = vpn_dh_public(c, &lc);
        assert_int_equal(la, lb);
        assert_memory_equal(pa, pb, la);
        assert_memory_not_equal(pa, pc, la);
        /* The streams stay in step: the next draw is equal too. */
        uint8_t n1[16], n2[16];
        assert_int_equal(vpn_rng_bytes(&r1, n1, sizeof n1), 0);
        assert_int_equal(vpn_rng_bytes(&r2, n2, sizeof n2), 0);
        assert_memory_equal(n1, n2, sizeof n1);
        vpn_dh_del(a);
        vpn_dh_del(b);
        vpn_dh_del(c);
    }
}

/*
 * Interop with OpenSSL's own finite-field DH for the RFC 3526 groups it
 * names: an independent check of our prime and generator.
 */
static void test_modp_interop_openssl(void **state)
{
    (void)state;
    static const struct {
        uint16_t id;
        const char *name;
    } g[] = {{VPN_DH_MODP_1536, "modp_1536"},
             {VPN_DH_MODP_2048, "modp_2048"},
             {VPN_DH_MODP_3072, "modp_3072"},
             {VPN_DH_MODP_4096, "modp_4096"}};
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++) {
        vpn_drbg d;
        vpn_rng r;
        vpn_dh *ours;
        EVP_PKEY *theirs = NULL, *peer = NULL;
        EVP_PKEY_CTX *kctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
        BIGNUM *tpub = NULL, *opub;
        uint8_t tp[VPN_DH_MAX_LEN], s1[VPN_DH_MAX_LEN], s2[VPN_DH_MAX_LEN];
        size_t ol, l1 = sizeof s1, l2 = sizeof s2;

        drbg_rng(&d, &r, "interop");
        assert_int_equal(vpn_dh_new(&ours, g[i].id, &r), 0);
        const uint8_t *op = vpn_dh_public(ours, &ol);

        assert_int_equal(EVP_PKEY_keygen_init(kctx), 1);
        assert_int_equal(EVP_PKEY_CTX_set_group_name(kctx, g[i].name), 1);
        assert_int_equal(EVP_PKEY_generate(kctx, &theirs), 1);
        assert_int_equal(EVP_PKEY_get_bn_param(theirs, OSSL_PKEY_PARAM_PUB_KEY, &tpub), 1);
        assert_int_equal(BN_bn2binpad(tpub, tp, (int)ol), (int)ol);
        assert_int_equal(vpn_dh_compute(ours, tp, ol, s1, &l1), 0);

        /* Our public value as an OpenSSL DH key of the same named group. */
        OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
        opub = BN_bin2bn(op, (int)ol, NULL);
        assert_true(OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, g[i].name, 0));
        assert_true(OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_PUB_KEY, opub));
        OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(b);
        EVP_PKEY_CTX *fctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
        assert_int_equal(EVP_PKEY_fromdata_init(fctx), 1);
        assert_int_equal(EVP_PKEY_fromdata(fctx, &peer, EVP_PKEY_PUBLIC_KEY, params), 1);
        EVP_PKEY_CTX *dctx = EVP_PKEY_CTX_new_from_pkey(NULL, theirs, NULL);
        assert_int_equal(EVP_PKEY_derive_init(dctx), 1);
        assert_int_equal(EVP_PKEY_CTX_set_dh_pad(dctx, 1), 1);
        assert_int_equal(EVP_PKEY_derive_set_peer(dctx, peer), 1);
        assert_int_equal(EVP_PKEY_derive(dctx, s2, &l2), 1);
        assert_int_equal(l1, l2);
        assert_memory_equal(s1, s2, l1);

        EVP_PKEY_CTX_free(dctx);
        EVP_PKEY_CTX_free(fctx);
        EVP_PKEY_CTX_free(kctx);
        OSSL_PARAM_free(params);
        OSSL_PARAM_BLD_free(b);
        EVP_PKEY_free(theirs);
        EVP_PKEY_free(peer);
        BN_free(tpub);
        BN_free(opub);
        vpn_dh_del(ours);
    }
}

/* ---- peer value checks -------------------------------------------------------- */

/* Returns the code of computing with peer[len] and checks out is zeroed on error. */
static int try_peer(const vpn_dh *dh, const uint8_t *peer, size_t len)
{
    uint8_t out[VPN_DH_MAX_LEN];
    size_t ol = sizeof out;
    int rc;

    memset(out, 0xA5, sizeof out);
    rc = vpn_dh_compute(dh, peer, len, out, &ol);
    if (rc != 0) {
        const vpn_dh_info *info = vpn_dh_get_info(dh);
        for (size_t i = 0; i < info->secret_len; i++)
            assert_int_equal(out[i], 0);
    }
    return rc;
}

/* After rejections, the context still agrees with an honest peer. */
static void assert_still_usable(const vpn_dh *dh, uint16_t group)
{
    vpn_drbg d;
    vpn_rng r;
    vpn_dh *peer;
    uint8_t s1[VPN_DH_MAX_LEN], s2[VPN_DH_MAX_LEN];
    size_t pl, ml, l1 = sizeof s1, l2 = sizeof s2;

    drbg_rng(&d, &r, "honest peer");
    assert_int_equal(vpn_dh_new(&peer, group, &r), 0);
    const uint8_t *pp = vpn_dh_public(peer, &pl);
    const uint8_t *mine = vpn_dh_public(dh, &ml);
    assert_int_equal(vpn_dh_compute(dh, pp, pl, s1, &l1), 0);
    assert_int_equal(vpn_dh_compute(peer, mine, ml, s2, &l2), 0);
    assert_memory_equal(s1, s2, l1);
    vpn_dh_del(peer);
}

static BIGNUM *prime_of(uint16_t group)
{
    switch (group) {
    case VPN_DH_MODP_1024: return BN_get_rfc2409_prime_1024(NULL);
    case VPN_DH_MODP_1536: return BN_get_rfc3526_prime_1536(NULL);
    case VPN_DH_MODP_2048: return BN_get_rfc3526_prime_2048(NULL);
    case VPN_DH_MODP_3072: return BN_get_rfc3526_prime_3072(NULL);
    default: return BN_get_rfc3526_prime_4096(NULL);
    }
}

static void test_modp_rejects(void **state)
{
    (void)state;
    static const uint16_t modp[] = {VPN_DH_MODP_1024, VPN_DH_MODP_1536, VPN_DH_MODP_2048,
                                    VPN_DH_MODP_3072, VPN_DH_MODP_4096};
    for (size_t g = 0; g < sizeof modp / sizeof modp[0]; g++) {
        vpn_drbg d;
        vpn_rng r;
        vpn_dh *dh;
        uint8_t y[VPN_DH_MAX_LEN + 1];
        BIGNUM *p = prime_of(modp[g]), *v = BN_new();

        assert_non_null(p);
        drbg_rng(&d, &r, "modp rejects");
        assert_int_equal(vpn_dh_new(&dh, modp[g], &r), 0);
        int len = (int)vpn_dh_get_info(dh)->pub_len;
        assert_int_equal(BN_num_bytes(p), len);

        /* 0, 1, p-1, p, p+1 and all ones are all outside (1, p-1). */
        for (unsigned long w = 0; w <= 1; w++) {
            assert_true(BN_set_word(v, w));
            assert_int_equal(BN_bn2binpad(v, y, len), len);
            assert_int_equal(try_peer(dh, y, (size_t)len), VPN_ERR_POLICY);
        }
        assert_true(BN_sub(v, p, BN_value_one())); /* p-1 */
        assert_int_equal(BN_bn2binpad(v, y, len), len);
        assert_int_equal(try_peer(dh, y, (size_t)len), VPN_ERR_POLICY);
        assert_int_equal(BN_bn2binpad(p, y, len), len); /* p */
        assert_int_equal(try_peer(dh, y, (size_t)len), VPN_ERR_POLICY);
        assert_true(BN_add(v, p, BN_value_one())); /* p+1 == 1 mod p */
        assert_int_equal(BN_bn2binpad(v, y, len), len);
        assert_int_equal(try_peer(dh, y, (size_t)len), VPN_ERR_POLICY);
        memset(y, 0xff, (size_t)len);
        assert_int_equal(try_peer(dh, y, (size_t)len), VPN_ERR_POLICY);

        /* p-2 is in range but not in the order-q subgroup (2 is a square
         * mod these p, -1 is not): only the full check catches it. */
        assert_non_null(BN_copy(v, p));
        assert_true(BN_sub_word(v, 2));
        assert_int_equal(BN_bn2binpad(v, y, len), len);
        assert_int_equal(try_peer(dh, y, (size_t)len), 0);
        vpn_dh_set_full_check(dh, true);
        assert_int_equal(try_peer(dh, y, (size_t)len), VPN_ERR_POLICY);
        vpn_dh_set_full_check(dh, false);

        /* Wrong lengths: short, long (a leading zero), empty. */
        y[0] = 0;
        assert_int_equal(try_peer(dh, y, (size_t)len - 1), VPN_ERR_MALFORMED);
        assert_int_equal(try_peer(dh, y, (size_t)len + 1), VPN_ERR_MALFORMED);
        assert_int_equal(try_peer(dh, y, 0), VPN_ERR_MALFORMED);

        assert_still_usable(dh, modp[g]);
        vpn_dh_del(dh);
        BN_free(p);
        BN_free(v);
    }
}

static void test_ecp_rejects(void **state)
{
    (void)state;
    static const uint16_t ecp[] = {VPN_DH_ECP_256, VPN_DH_ECP_384, VPN_DH_ECP_521};
    static const int nids[] = {NID_X9_62_prime256v1, NID_secp384r1, NID_secp521r1};
    for (size_t g = 0; g < 3; g++) {
        vpn_drbg d;
        vpn_rng r;
        vpn_dh *dh, *other;
        uint8_t v[2 * 66 + 1];
        size_t pl;

        drbg_rng(&d, &r, "ecp rejects");
        assert_int_equal(vpn_dh_new(&dh, ecp[g], &r), 0);
        assert_int_equal(vpn_dh_new(&other, ecp[g], &r), 0);
        const uint8_t *good = vpn_dh_public(other, &pl);
        size_t flen = pl / 2;

        /* Point not on the curve: an honest point with y changed. */
        memcpy(v, good, pl);
        v[pl - 1] ^= 0x01;
        assert_int_equal(try_peer(dh, v, pl), VPN_ERR_POLICY);
        /* (0, 0): what an all-zero payload would mean. */
        memset(v, 0, pl);
        assert_int_equal(try_peer(dh, v, pl), VPN_ERR_POLICY);
        /* x = p: not a reduced coordinate. */
        uint8_t p[66];
        EC_GROUP *grp = EC_GROUP_new_by_curve_name(nids[g]);
        BIGNUM *bp = BN_new();
        assert_non_null(grp);
        assert_true(EC_GROUP_get_curve(grp, bp, NULL, NULL, NULL));
        assert_int_equal(BN_bn2binpad(bp, p, (int)flen), (int)flen);
        EC_GROUP_free(grp);
        BN_free(bp);
        memcpy(v, p, flen);
        memcpy(v + flen, good + flen, flen);
        assert_int_equal(try_peer(dh, v, pl), VPN_ERR_POLICY);
        /* y = p */
        memcpy(v, good, flen);
        memcpy(v + flen, p, flen);
        assert_int_equal(try_peer(dh, v, pl), VPN_ERR_POLICY);
        /* The SEC 1 uncompressed form (0x04 || x || y) is not the IKE one. */
        v[0] = 0x04;
        memcpy(v + 1, good, pl);
        assert_int_equal(try_peer(dh, v, pl + 1), VPN_ERR_MALFORMED);
        assert_int_equal(try_peer(dh, good, pl - 1), VPN_ERR_MALFORMED);
        assert_int_equal(try_peer(dh, good, flen), VPN_ERR_MALFORMED);

        assert_still_usable(dh, ecp[g]);
        vpn_dh_del(dh);
        vpn_dh_del(other);
    }
}

static void test_x25519_rejects(void **state)
{
    (void)state;
    /* u-coordinates of small order (and their non-canonical aliases):
     * each makes X25519 output all zeroes, which RFC 8031 2 rejects. */
    static const char *const low[] = {
        "0000000000000000000000000000000000000000000000000000000000000000", /* 0 */
        "0100000000000000000000000000000000000000000000000000000000000000", /* 1 */
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800", /* order 8 */
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157", /* order 8 */
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p-1 */
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p = 0 */
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p+1 = 1 */
    };
    vpn_drbg d;
    vpn_rng r;
    vpn_dh *dh;

    drbg_rng(&d, &r, "x25519 rejects");
    assert_int_equal(vpn_dh_new(&dh, VPN_DH_CURVE25519, &r), 0);
    for (size_t i = 0; i < sizeof low / sizeof low[0]; i++) {
        size_t l;
        uint8_t *u = tu_hex(low[i], &l);
        assert_int_equal(try_peer(dh, u, l), VPN_ERR_POLICY);
        free(u);
    }
    uint8_t u[33] = {9};
    assert_int_equal(try_peer(dh, u, 31), VPN_ERR_MALFORMED);
    assert_int_equal(try_peer(dh, u, 33), VPN_ERR_MALFORMED);
    assert_int_equal(try_peer(dh, u, 32), 0);
    assert_still_usable(dh, VPN_DH_CURVE25519);
    vpn_dh_del(dh);
}

/* ---- API edges ---------------------------------------------------------------- */

static int zero_fill(void *ctx, uint8_t *out, size_t len)
{
    (void)ctx;
    memset(out, 0, len);
    return 0;
}

static int failing_fill(void *ctx, uint8_t *out, size_t len)
{
    (void)ctx;
    (void)out;
    (void)len;
    return VPN_ERR_LIMIT;
}

static void test_api_edges(void **state)
{
    (void)state;
    vpn_rng zero = {zero_fill, NULL}, broken = {failing_fill, NULL};
    vpn_drbg d;
    vpn_rng r;
    vpn_dh *dh = (vpn_dh *)&d; /* must be reset to NULL on failure */
    const vpn_dh_info *info;
    uint8_t buf[VPN_DH_MAX_LEN];
    size_t l;

    drbg_rng(&d, &r, "edges");
    assert_int_equal(vpn_dh_lookup(VPN_DH_NONE, &info), VPN_ERR_UNSUPPORTED);
    assert_int_equal(vpn_dh_lookup(22, &info), VPN_ERR_UNSUPPORTED); /* DSA-style group */
    assert_int_equal(vpn_dh_lookup(VPN_DH_ECP_384, &info), 0);
    assert_string_equal(info->name, "ECP-384 (group 20)");
    assert_int_equal(vpn_dh_new(&dh, 22, &r), VPN_ERR_UNSUPPORTED);
    assert_null(dh);
    assert_int_equal(vpn_dh_new(&dh, VPN_DH_ECP_256, NULL), VPN_ERR_INVAL);
    assert_int_equal(vpn_dh_new(NULL, VPN_DH_ECP_256, &r), VPN_ERR_INVAL);

    /* An RNG stuck at zero never yields a valid MODP or ECP private value. */
    assert_int_equal(vpn_dh_new(&dh, VPN_DH_ECP_256, &zero), VPN_ERR_CRYPTO);
    assert_int_equal(vpn_dh_new(&dh, VPN_DH_MODP_2048, &zero), VPN_ERR_CRYPTO);
    /* RNG errors come through as they are. */
    assert_int_equal(vpn_dh_new(&dh, VPN_DH_CURVE25519, &broken), VPN_ERR_LIMIT);
    assert_int_equal(vpn_dh_new(&dh, VPN_DH_MODP_1024, &broken), VPN_ERR_LIMIT);

    /* Known private values out of range. */
    memset(buf, 0, sizeof buf);
    assert_int_equal(vpn_dh_new_private(&dh, VPN_DH_ECP_256, buf, 32), VPN_ERR_INVAL);
    assert_int_equal(vpn_dh_new_private(&dh, VPN_DH_MODP_2048, buf, 32), VPN_ERR_INVAL);
    buf[31] = 1;
    assert_int_equal(vpn_dh_new_private(&dh, VPN_DH_MODP_2048, buf, 32), VPN_ERR_INVAL);
    memset(buf, 0xff, 32); /* >= n */
    assert_int_equal(vpn_dh_new_private(&dh, VPN_DH_ECP_256, buf, 32), VPN_ERR_INVAL);
    assert_int_equal(vpn_dh_new_private(&dh, VPN_DH_ECP_256, buf, 33), VPN_ERR_INVAL);
    assert_int_equal(vpn_dh_new_private(&dh, VPN_DH_CURVE25519, buf, 31), VPN_ERR_INVAL);
    buf[0] = 0x7f; /* just below n */
    assert_int_equal(vpn_dh_new_private(&dh, VPN_DH_ECP_256, buf, 32), 0);

    /* Output buffer too small. */
    l = vpn_dh_get_info(dh)->secret_len - 1;
    const uint8_t *pub = vpn_dh_public(dh, NULL);
    assert_int_equal(vpn_dh_compute(dh, pub, 64, buf, &l), VPN_ERR_NOSPACE);
    l = sizeof buf;
    assert_int_equal(vpn_dh_compute(dh, pub, 64, buf, &l), 0);
    assert_int_equal(l, 32);
    assert_int_equal(vpn_dh_compute(dh, NULL, 64, buf, &l), VPN_ERR_INVAL);
    vpn_dh_del(dh);
    vpn_dh_del(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc5903_vectors),
        cmocka_unit_test(test_rfc7748_5_2),
        cmocka_unit_test(test_rfc7748_5_2_iterated),
        cmocka_unit_test(test_rfc7748_6_1),
        cmocka_unit_test(test_agreement_all_groups),
        cmocka_unit_test(test_seeded_public_values_repeat),
        cmocka_unit_test(test_modp_interop_openssl),
        cmocka_unit_test(test_modp_rejects),
        cmocka_unit_test(test_ecp_rejects),
        cmocka_unit_test(test_x25519_rejects),
        cmocka_unit_test(test_api_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
