/*
 * Deterministic ECDSA nonces (RFC 6979): the known answers of RFC 6979
 * A.2.5 (P-256), A.2.6 (P-384) and A.2.7 (P-521) through the core's
 * signing API (vpn_sig_sign, and vpn_sig_auth_sign with the RFC 4754
 * methods), each signature equal to the published (r, s) and verifying
 * with OpenSSL; the signer draws nothing from the RNG (a failing RNG does
 * not stop it); a tampered signature does not verify. Where the OpenSSL
 * in use does RFC 6979 itself (3.2 and later,
 * OSSL_SIGNATURE_PARAM_NONCE_TYPE), its signatures are compared with ours.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "common/rng.h"
#include "common/vpn-err.h"
#include "common/wire.h"
#include "crypto/crypto-ids.h"
#include "crypto/sig.h"
#include "test-util.h"

/* ---- helpers ----------------------------------------------------------------- */

/* An RNG that always fails: signing must not need it. */
static int failing_fill(void *ctx, uint8_t *out, size_t len)
{
    unsigned *calls = ctx;
    (*calls)++;
    memset(out, 0, len);
    return VPN_ERR_CRYPTO;
}

/* An EC key pair from the RFC's hex (d, Ux, Uy). */
static vpn_sig_key *ec_key(const char *group, const char *d_hex, const char *x_hex,
                           const char *y_hex)
{
    size_t xl, yl, dl;
    uint8_t *x = tu_hex(x_hex, &xl), *y = tu_hex(y_hex, &yl), *dd = tu_hex(d_hex, &dl);
    uint8_t pub[1 + 2 * 66];
    OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *pkey = NULL;
    BIGNUM *d = BN_bin2bn(dd, (int)dl, NULL);
    OSSL_PARAM *params;
    vpn_sig_key *k;

    assert_int_equal(xl, yl);
    assert_true(xl <= 66);
    pub[0] = 0x04;
    memcpy(pub + 1, x, xl);
    memcpy(pub + 1 + xl, y, yl);
    assert_non_null(b);
    assert_non_null(d);
    assert_true(OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, group, 0));
    assert_true(OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pub, 1 + 2 * xl));
    assert_true(OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_PRIV_KEY, d));
    params = OSSL_PARAM_BLD_to_param(b);
    assert_non_null(params);
    assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
    /* OpenSSL checks that U = xG: the published public key fits x. */
    assert_int_equal(EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, params), 1);
    assert_int_equal(vpn_sig_key_from_evp(&k, pkey), 0);
    EVP_PKEY_free(pkey);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(b);
    EVP_PKEY_CTX_free(ctx);
    BN_free(d);
    free(dd);
    free(x);
    free(y);
    return k;
}

/* ---- RFC 6979 A.2.5 - A.2.7 ---------------------------------------------------- */

typedef struct curve_vec {
    const char *group, *x, *ux, *uy;
    uint8_t method; /* the RFC 4754 auth method of this curve */
    uint8_t hash;   /* the hash that method implies */
} curve_vec;

typedef struct sig_vec {
    const curve_vec *curve;
    uint8_t hash;
    const char *msg, *r, *s;
} sig_vec;

/* RFC 6979 A.2.5 key pair. */
static const curve_vec p256 = {
    "P-256",
    "C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721",
    "60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6",
    "7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299",
    VPN_AUTH_METHOD_ECDSA_256, VPN_IKE_HASH_SHA2_256,
};

/* RFC 6979 A.2.6 key pair. */
static const curve_vec p384 = {
    "P-384",
    "6B9D3DAD2E1B8C1C05B19875B6659F4DE23C3B667BF297BA9AA47740787137D8"
    "96D5724E4C70A825F872C9EA60D2EDF5",
    "EC3A4E415B4E19A4568618029F427FA5DA9A8BC4AE92E02E06AAE5286B300C64"
    "DEF8F0EA9055866064A254515480BC13",
    "8015D9B72D7D57244EA8EF9AC0C621896708A59367F9DFB9F54CA84B3F1C9DB1"
    "288B231C3AE0D4FE7344FD2533264720",
    VPN_AUTH_METHOD_ECDSA_384, VPN_IKE_HASH_SHA2_384,
};

/* RFC 6979 A.2.7 key pair (values left-padded to 66 bytes). */
static const curve_vec p521 = {
    "P-521",
    "00FAD06DAA62BA3B25D2FB40133DA757205DE67F5BB0018FEE8C86E1B68C7E75C"
    "AA896EB32F1F47C70855836A6D16FCC1466F6D8FBEC67DB89EC0C08B0E996B83538",
    "01894550D0785932E00EAA23B694F213F8C3121F86DC97A04E5A7167DB4E5BCD3"
    "71123D46E45DB6B5D5370A7F20FB633155D38FFA16D2BD761DCAC474B9A2F5023A4",
    "00493101C962CD4D2FDDF782285E64584139C2F91B47F87FF82354D6630F746A2"
    "8A0DB25741B5B34A828008B22ACC23F924FAAFBD4D33F81EA66956DFEAA2BFDFCF5",
    VPN_AUTH_METHOD_ECDSA_521, VPN_IKE_HASH_SHA2_512,
};

/* The published signatures (SHA-1 and SHA-224 ones left out: the core
 * signs with SHA-2 256/384/512 only). */
static const sig_vec vectors[] = {
    /* A.2.5, With SHA-256, message = "sample" */
    {&p256, VPN_IKE_HASH_SHA2_256, "sample",
     "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716",
     "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8"},
    /* A.2.5, With SHA-512, message = "sample" */
    {&p256, VPN_IKE_HASH_SHA2_512, "sample",
     "8496A60B5E9B47C825488827E0495B0E3FA109EC4568FD3F8D1097678EB97F00",
     "2362AB1ADBE2B8ADF9CB9EDAB740EA6049C028114F2460F96554F61FAE3302FE"},
    /* A.2.5, With SHA-256, message = "test" (s has a leading zero byte:
     * the DER INTEGER is shorter) */
    {&p256, VPN_IKE_HASH_SHA2_256, "test",
     "F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367",
     "019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083"},
    /* A.2.6, With SHA-256, message = "sample" */
    {&p384, VPN_IKE_HASH_SHA2_256, "sample",
     "21B13D1E013C7FA1392D03C5F99AF8B30C570C6F98D4EA8E354B63A21D3DAA33"
     "BDE1E888E63355D92FA2B3C36D8FB2CD",
     "F3AA443FB107745BF4BD77CB3891674632068A10CA67E3D45DB2266FA7D1FEEB"
     "EFDC63ECCD1AC42EC0CB8668A4FA0AB0"},
    /* A.2.6, With SHA-384, message = "sample" */
    {&p384, VPN_IKE_HASH_SHA2_384, "sample",
     "94EDBB92A5ECB8AAD4736E56C691916B3F88140666CE9FA73D64C4EA95AD133C"
     "81A648152E44ACF96E36DD1E80FABE46",
     "99EF4AEB15F178CEA1FE40DB2603138F130E740A19624526203B6351D0A3A94F"
     "A329C145786E679E7B82C71A38628AC8"},
    /* A.2.6, With SHA-384, message = "test" */
    {&p384, VPN_IKE_HASH_SHA2_384, "test",
     "8203B63D3C853E8D77227FB377BCF7B7B772E97892A80F36AB775D509D7A5FEB"
     "0542A7F0812998DA8F1DD3CA3CF023DB",
     "DDD0760448D42D8A43AF45AF836FCE4DE8BE06B485E9B61B827C2F13173923E0"
     "6A739F040649A667BF3B828246BAA5A5"},
    /* A.2.6, With SHA-512, message = "test" */
    {&p384, VPN_IKE_HASH_SHA2_512, "test",
     "A0D5D090C9980FAF3C2CE57B7AE951D31977DD11C775D314AF55F76C676447D0"
     "6FB6495CD21B4B6E340FC236584FB277",
     "976984E59B4C77B0E8E4460DCA3D9F20E07B9BB1F63BEEFAF576F6B2E8B22463"
     "4A2092CD3792E0159AD9CEE37659C736"},
    /* A.2.7, With SHA-512, message = "sample" (qlen = 521: bits2int
     * shifts the 528-bit candidate right by 7) */
    {&p521, VPN_IKE_HASH_SHA2_512, "sample",
     "00C328FAFCBD79DD77850370C46325D987CB525569FB63C5D3BC53950E6D4C5F1"
     "74E25A1EE9017B5D450606ADD152B534931D7D4E8455CC91F9B15BF05EC36E377FA",
     "00617CCE7CF5064806C467F678D3B4080D6F1CC50AF26CA209417308281B68AF2"
     "82623EAA63E5B5C0723D8B8C37FF0777B1A20F8CCB1DCCC43997F1EE0E44DA4A67A"},
    /* A.2.7, With SHA-256, message = "sample" (one 256-bit block is not
     * enough for qlen = 521: T takes three) */
    {&p521, VPN_IKE_HASH_SHA2_256, "sample",
     "01511BB4D675114FE266FC4372B87682BAECC01D3CC62CF2303C92B3526012659"
     "D16876E25C7C1E57648F23B73564D67F61C6F14D527D54972810421E7D87589E1A7",
     "004A171143A83163D6DF460AAF61522695F207A58B95C0644D87E52AA1A347916"
     "E4F7A72930B1BC06DBE22CE3F58264AFD23704CBB63B29B931F7DE6C9D949A7ECFC"},
};

static size_t field_len(const curve_vec *c)
{
    return c == &p256 ? 32 : c == &p384 ? 48 : 66;
}

/* vpn_sig_sign gives the published (r, s), in DER, and it verifies. */
static void test_known_answers(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        const sig_vec *v = &vectors[i];
        vpn_sig_key *key = ec_key(v->curve->group, v->curve->x, v->curve->ux, v->curve->uy);
        size_t flen = field_len(v->curve), rl, sl, len, rs_len;
        uint8_t *r = tu_hex(v->r, &rl), *s = tu_hex(v->s, &sl), sig[160], rs[2 * 66];
        const uint8_t *msg = (const uint8_t *)v->msg;
        size_t msg_len = strlen(v->msg);
        unsigned calls = 0;
        vpn_rng bad = {failing_fill, &calls};
        vpn_sig_alg alg;

        assert_int_equal(rl, flen);
        assert_int_equal(sl, flen);
        assert_int_equal(vpn_sig_alg_init(&alg, VPN_SIG_ECDSA, v->hash), 0);
        /* No RNG at all, and an RNG that fails: the same signature. */
        len = sizeof sig;
        assert_int_equal(vpn_sig_sign(key, &alg, NULL, msg, msg_len, sig, &len), 0);
        assert_int_equal(vpn_sig_ecdsa_der_to_rs(sig, len, flen, rs, sizeof rs, &rs_len), 0);
        assert_int_equal(rs_len, 2 * flen);
        assert_memory_equal(rs, r, flen);
        assert_memory_equal(rs + flen, s, flen);
        assert_int_equal(vpn_sig_verify(key, &alg, msg, msg_len, sig, len), 0);

        uint8_t again[160];
        size_t again_len = sizeof again;
        assert_int_equal(vpn_sig_sign(key, &alg, &bad, msg, msg_len, again, &again_len), 0);
        assert_int_equal(calls, 0);
        assert_int_equal(again_len, len);
        assert_memory_equal(again, sig, len);

        /* A changed message or a flipped bit of s does not verify. */
        assert_int_equal(vpn_sig_verify(key, &alg, msg, msg_len - 1, sig, len), VPN_ERR_AUTH);
        sig[len - 1] ^= 0x01;
        assert_int_equal(vpn_sig_verify(key, &alg, msg, msg_len, sig, len), VPN_ERR_AUTH);

        /* Through the RFC 4754 auth method of the curve (whose hash is
         * fixed): r || s as published. */
        if (v->hash == v->curve->hash) {
            uint8_t out[2 * 66];
            vpn_wr w;
            vpn_wr_init(&w, out, sizeof out);
            assert_int_equal(vpn_sig_auth_sign(key, v->curve->method, NULL, &bad, msg, msg_len,
                                               &w),
                             0);
            assert_int_equal(vpn_wr_len(&w), 2 * flen);
            assert_memory_equal(out, r, flen);
            assert_memory_equal(out + flen, s, flen);
            assert_int_equal(vpn_sig_auth_verify(key, v->curve->method, out, 2 * flen, msg,
                                                 msg_len, NULL),
                             0);
        }
        free(r);
        free(s);
        vpn_sig_key_del(key);
    }
}

/* Different messages give different nonces (r differs), equal messages equal
 * signatures, on every curve and hash. */
static void test_nonce_depends_on_message(void **state)
{
    (void)state;
    const curve_vec *curves[] = {&p256, &p384, &p521};
    for (size_t c = 0; c < 3; c++) {
        vpn_sig_key *key = ec_key(curves[c]->group, curves[c]->x, curves[c]->ux, curves[c]->uy);
        size_t flen = field_len(curves[c]);
        for (uint8_t h = VPN_IKE_HASH_SHA2_256; h <= VPN_IKE_HASH_SHA2_512; h++) {
            vpn_sig_alg alg;
            uint8_t a[160], b[160], ra[132], rb[132];
            size_t al = sizeof a, bl = sizeof b, ral, rbl;
            assert_int_equal(vpn_sig_alg_init(&alg, VPN_SIG_ECDSA, h), 0);
            assert_int_equal(vpn_sig_sign(key, &alg, NULL, (const uint8_t *)"m1", 2, a, &al), 0);
            assert_int_equal(vpn_sig_sign(key, &alg, NULL, (const uint8_t *)"m2", 2, b, &bl), 0);
            assert_int_equal(vpn_sig_ecdsa_der_to_rs(a, al, flen, ra, sizeof ra, &ral), 0);
            assert_int_equal(vpn_sig_ecdsa_der_to_rs(b, bl, flen, rb, sizeof rb, &rbl), 0);
            assert_memory_not_equal(ra, rb, flen);
            assert_int_equal(vpn_sig_verify(key, &alg, (const uint8_t *)"m2", 2, b, bl), 0);
            assert_int_equal(vpn_sig_verify(key, &alg, (const uint8_t *)"m1", 2, b, bl),
                             VPN_ERR_AUTH);
        }
        vpn_sig_key_del(key);
    }
}

/* Bad calls are refused and signing PSS still needs its RNG. */
static void test_refusals(void **state)
{
    (void)state;
    vpn_sig_key *key = ec_key(p256.group, p256.x, p256.ux, p256.uy);
    vpn_sig_alg alg;
    uint8_t sig[160];
    size_t len = 8;

    assert_int_equal(vpn_sig_alg_init(&alg, VPN_SIG_ECDSA, VPN_IKE_HASH_SHA2_256), 0);
    /* Too small a buffer: NOSPACE, never a partial signature. */
    assert_int_equal(vpn_sig_sign(key, &alg, NULL, (const uint8_t *)"x", 1, sig, &len),
                     VPN_ERR_NOSPACE);
    /* SHA-1 is verify-only; an unknown hash is unsupported. */
    alg.hash = VPN_IKE_HASH_SHA1;
    len = sizeof sig;
    assert_int_equal(vpn_sig_sign(key, &alg, NULL, (const uint8_t *)"x", 1, sig, &len),
                     VPN_ERR_POLICY);
    alg.hash = 99;
    assert_int_equal(vpn_sig_sign(key, &alg, NULL, (const uint8_t *)"x", 1, sig, &len),
                     VPN_ERR_UNSUPPORTED);
    /* A public key cannot sign. */
    EVP_PKEY *pub = NULL;
    {
        vpn_sig_key *pk;
        size_t xl, yl;
        uint8_t *x = tu_hex(p256.ux, &xl), *y = tu_hex(p256.uy, &yl), pt[65];
        pt[0] = 0x04;
        memcpy(pt + 1, x, 32);
        memcpy(pt + 33, y, 32);
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"P-256", 0),
            OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt),
            OSSL_PARAM_construct_end(),
        };
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
        assert_int_equal(EVP_PKEY_fromdata(ctx, &pub, EVP_PKEY_PUBLIC_KEY, params), 1);
        assert_int_equal(vpn_sig_key_from_evp(&pk, pub), 0);
        assert_int_equal(vpn_sig_alg_init(&alg, VPN_SIG_ECDSA, VPN_IKE_HASH_SHA2_256), 0);
        assert_int_equal(vpn_sig_sign(pk, &alg, NULL, (const uint8_t *)"x", 1, sig, &len),
                         VPN_ERR_INVAL);
        vpn_sig_key_del(pk);
        EVP_PKEY_CTX_free(ctx);
        EVP_PKEY_free(pub);
        free(x);
        free(y);
    }
    vpn_sig_key_del(key);
}

#ifdef OSSL_SIGNATURE_PARAM_NONCE_TYPE
/* OpenSSL 3.2+: its own RFC 6979 ("nonce-type" = 1) agrees with ours. */
static void test_matches_openssl(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        const sig_vec *v = &vectors[i];
        vpn_sig_key *key = ec_key(v->curve->group, v->curve->x, v->curve->ux, v->curve->uy);
        const char *md = v->hash == VPN_IKE_HASH_SHA2_256   ? "SHA256"
                         : v->hash == VPN_IKE_HASH_SHA2_384 ? "SHA384"
                                                            : "SHA512";
        unsigned int nonce_type = 1;
        OSSL_PARAM p[] = {OSSL_PARAM_construct_uint(OSSL_SIGNATURE_PARAM_NONCE_TYPE, &nonce_type),
                          OSSL_PARAM_construct_end()};
        EVP_MD_CTX *m = EVP_MD_CTX_new();
        uint8_t theirs[160], ours[160];
        size_t tl = sizeof theirs, ol = sizeof ours;
        vpn_sig_alg alg;

        assert_int_equal(EVP_DigestSignInit_ex(m, NULL, md, NULL, NULL, vpn_sig_key_evp(key), p),
                         1);
        assert_int_equal(EVP_DigestSign(m, theirs, &tl, (const uint8_t *)v->msg, strlen(v->msg)),
                         1);
        assert_int_equal(vpn_sig_alg_init(&alg, VPN_SIG_ECDSA, v->hash), 0);
        assert_int_equal(vpn_sig_sign(key, &alg, NULL, (const uint8_t *)v->msg, strlen(v->msg),
                                      ours, &ol),
                         0);
        assert_int_equal(tl, ol);
        assert_memory_equal(theirs, ours, ol);
        EVP_MD_CTX_free(m);
        vpn_sig_key_del(key);
    }
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answers),
        cmocka_unit_test(test_nonce_depends_on_message),
        cmocka_unit_test(test_refusals),
#ifdef OSSL_SIGNATURE_PARAM_NONCE_TYPE
        cmocka_unit_test(test_matches_openssl),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
