/*
 * Signatures: RFC 4754 section 8 known answers (verify; signing, whose
 * nonce is now RFC 6979's, see crypto-rfc6979-test.c), round trips of every scheme and hash, tampering, seeded
 * reproducibility, RFC 7427 AlgorithmIdentifiers (Appendix A bytes, round
 * trips, hostile DER), the DER <-> r || s conversions, and key loading.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/rng.h"
#include "common/vpn-err.h"
#include "common/wire.h"
#include "crypto/sig.h"
#include "test-util.h"

/* ---- helpers ----------------------------------------------------------------- */

/* An RNG replaying fixed bytes (the published ECDSA nonces). */
typedef struct fixed_rng {
    const uint8_t *data;
    size_t len, off;
} fixed_rng;

static int fixed_fill(void *ctx, uint8_t *out, size_t len)
{
    fixed_rng *f = ctx;
    if (len > f->len - f->off)
        return VPN_ERR_LIMIT;
    memcpy(out, f->data + f->off, len);
    f->off += len;
    return 0;
}

static void assert_alg_equal(const vpn_sig_alg *a, const vpn_sig_alg *b)
{
    assert_int_equal(a->scheme, b->scheme);
    assert_int_equal(a->hash, b->hash);
    assert_int_equal(a->mgf1_hash, b->mgf1_hash);
    assert_int_equal(a->salt_len, b->salt_len);
}

static void drbg_rng(vpn_drbg *d, vpn_rng *r, const char *seed)
{
    assert_int_equal(vpn_drbg_init(d, seed, strlen(seed)), 0);
    vpn_rng_init_drbg(r, d);
}

/* An EC key from hex: d may be NULL for a public key. */
static vpn_sig_key *ec_key(const char *group, const char *d_hex, const char *x_hex,
                           const char *y_hex)
{
    size_t xl, yl, dl;
    uint8_t *x = tu_hex(x_hex, &xl), *y = tu_hex(y_hex, &yl), pub[1 + 2 * 66];
    OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *pkey = NULL;
    BIGNUM *d = NULL;
    OSSL_PARAM *params;
    vpn_sig_key *k;

    assert_int_equal(xl, yl);
    pub[0] = 0x04;
    memcpy(pub + 1, x, xl);
    memcpy(pub + 1 + xl, y, yl);
    assert_non_null(b);
    assert_true(OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, group, 0));
    assert_true(OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pub, 1 + 2 * xl));
    if (d_hex) {
        uint8_t *dd = tu_hex(d_hex, &dl);
        d = BN_bin2bn(dd, (int)dl, NULL);
        free(dd);
        assert_true(OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_PRIV_KEY, d));
    }
    params = OSSL_PARAM_BLD_to_param(b);
    assert_non_null(params);
    assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
    assert_int_equal(EVP_PKEY_fromdata(ctx, &pkey, d_hex ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                                       params),
                     1);
    assert_int_equal(vpn_sig_key_from_evp(&k, pkey), 0);
    EVP_PKEY_free(pkey); /* k holds its own reference */
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(b);
    EVP_PKEY_CTX_free(ctx);
    BN_free(d);
    free(x);
    free(y);
    return k;
}

static vpn_sig_key *gen_key(const char *type, const char *arg, size_t bits)
{
    EVP_PKEY *pkey = bits ? EVP_PKEY_Q_keygen(NULL, NULL, type, bits)
                          : EVP_PKEY_Q_keygen(NULL, NULL, type, arg);
    vpn_sig_key *k;

    assert_non_null(pkey);
    assert_int_equal(vpn_sig_key_from_evp(&k, pkey), 0);
    EVP_PKEY_free(pkey);
    return k;
}

/* Keys shared by the tests (RSA generation is slow under ASan). */
typedef struct keys {
    vpn_sig_key *rsa, *p256, *p384, *p521;
} keys;

static int keys_setup(void **state)
{
    keys *k = calloc(1, sizeof *k);
    k->rsa = gen_key("RSA", NULL, 2048);
    k->p256 = gen_key("EC", "P-256", 0);
    k->p384 = gen_key("EC", "P-384", 0);
    k->p521 = gen_key("EC", "P-521", 0);
    *state = k;
    return 0;
}

static int keys_teardown(void **state)
{
    keys *k = *state;
    vpn_sig_key_del(k->rsa);
    vpn_sig_key_del(k->p256);
    vpn_sig_key_del(k->p384);
    vpn_sig_key_del(k->p521);
    free(k);
    return 0;
}

/* ---- RFC 4754 section 8 ------------------------------------------------------------ */

typedef struct rfc4754_vector {
    uint8_t method;
    const char *group, *w, *gwx, *gwy, *k, *r, *s;
} rfc4754_vector;

static const rfc4754_vector rfc4754[] = {
    /* 8.1 ECDSA-256 */
    {VPN_AUTH_METHOD_ECDSA_256, "P-256",
     "DC51D386 6A15BACD E33D96F9 92FCA99D A7E6EF09 34E70975 59C27F16 14C88A7F",
     "2442A5CC 0ECD015F A3CA31DC 8E2BBC70 BF42D60C BCA20085 E0822CB0 4235E970",
     "6FC98BD7 E50211A4 A27102FA 3549DF79 EBCB4BF2 46B80945 CDDFE7D5 09BBFD7D",
     "9E56F509 196784D9 63D1C0A4 01510EE7 ADA3DCC5 DEE04B15 4BF61AF1 D5A6DECE",
     "CB28E099 9B9C7715 FD0A80D8 E47A7707 9716CBBF 917DD72E 97566EA1 C066957C",
     "86FA3BB4 E26CAD5B F90B7F81 899256CE 7594BB1E A0C89212 748BFF3B 3D5B0315"},
    /* 8.2 ECDSA-384 */
    {VPN_AUTH_METHOD_ECDSA_384, "P-384",
     "0BEB6466 34BA8773 5D77AE48 09A0EBEA 865535DE 4C1E1DCB 692E8470 8E81A5AF"
     "62E528C3 8B2A81B3 5309668D 73524D9F",
     "96281BF8 DD5E0525 CA049C04 8D345D30 82968D10 FEDF5C5A CA0C64E6 465A97EA"
     "5CE10C9D FEC21797 41571072 1F437922",
     "447688BA 94708EB6 E2E4D59F 6AB6D7ED FF9301D2 49FE49C3 3096655F 5D502FAD"
     "3D383B91 C5E7EDAA 2B714CC9 9D5743CA",
     "B4B74E44 D71A13D5 68003D74 89908D56 4C7761E2 29C58CBF A1895009 6EB7463B"
     "854D7FA9 92F934D9 27376285 E63414FA",
     "FB017B91 4E291494 32D8BAC2 9A514640 B46F53DD AB2C6994 8084E293 0F1C8F7E"
     "08E07C9C 63F2D21A 07DCB56A 6AF56EB3",
     "B263A130 5E057F98 4D38726A 1B468741 09F417BC A112674C 528262A4 0A629AF1"
     "CBB9F516 CE0FA7D2 FF630863 A00E8B9F"},
    /* 8.3 ECDSA-521 */
    {VPN_AUTH_METHOD_ECDSA_521, "P-521",
     "0065FDA3 409451DC AB0A0EAD 45495112 A3D813C1 7BFD34BD F8C1209D 7DF58491"
     "20597779 060A7FF9 D704ADF7 8B570FFA D6F062E9 5C7E0C5D 5481C5B1 53B48B37"
     "5FA1",
     "0151518F 1AF0F563 517EDD54 85190DF9 5A4BF57B 5CBA4CF2 A9A3F647 4725A35F"
     "7AFE0A6D DEB8BEDB CD6A197E 592D4018 8901CECD 650699C9 B5E456AE A5ADD190"
     "52A8",
     "006F3B14 2EA1BFFF 7E2837AD 44C9E4FF 6D2D34C7 3184BBAD 90026DD5 E6E85317"
     "D9DF45CA D7803C6C 20035B2F 3FF63AFF 4E1BA64D 1C077577 DA3F4286 C58F0AEA"
     "E643",
     "00C1C2B3 05419F5A 41344D7E 4359933D 734096F5 56197A9B 244342B8 B62F46F9"
     "373778F9 DE6B6497 B1EF825F F24F42F9 B4A4BD73 82CFC337 8A540B1B 7F0C1B95"
     "6C2F",
     "0154FD38 36AF92D0 DCA57DD5 341D3053 988534FD E8318FC6 AAAAB68E 2E6F4339"
     "B19F2F28 1A7E0B22 C269D93C F8794A92 78880ED7 DBB8D936 2CAEACEE 54432055"
     "2251",
     "017705A7 030290D1 CEB605A9 A1BB03FF 9CDD521E 87A696EC 926C8C10 C8362DF4"
     "97536710 1F67D1CF 9BCCBF2F 3D239534 FA509E70 AAC851AE 01AAC68D 62F86647"
     "2660"},
};

static uint8_t *rs_of(const rfc4754_vector *v, size_t *len)
{
    size_t rl, sl;
    uint8_t *r = tu_hex(v->r, &rl), *s = tu_hex(v->s, &sl), *rs = malloc(rl + sl);

    assert_int_equal(rl, sl);
    memcpy(rs, r, rl);
    memcpy(rs + rl, s, sl);
    free(r);
    free(s);
    *len = rl + sl;
    return rs;
}

static void test_rfc4754_verify(void **state)
{
    (void)state;
    static const uint8_t abc[] = "abc";
    for (size_t i = 0; i < 3; i++) {
        const rfc4754_vector *v = &rfc4754[i];
        vpn_sig_key *pub = ec_key(v->group, NULL, v->gwx, v->gwy);
        vpn_sig_alg used;
        size_t len;
        uint8_t *rs = rs_of(v, &len);

        assert_false(vpn_sig_key_is_private(pub));
        assert_int_equal(vpn_sig_auth_verify(pub, v->method, rs, len, abc, 3, &used), 0);
        assert_int_equal(used.scheme, VPN_SIG_ECDSA);
        assert_int_equal(used.hash, i == 0   ? VPN_IKE_HASH_SHA2_256
                                    : i == 1 ? VPN_IKE_HASH_SHA2_384
                                             : VPN_IKE_HASH_SHA2_512);
        /* Another message, a changed s, a changed r: no. */
        assert_int_equal(vpn_sig_auth_verify(pub, v->method, rs, len, (const uint8_t *)"abd", 3,
                                             &used),
                         VPN_ERR_AUTH);
        assert_int_equal(used.scheme, 0);
        rs[len - 1] ^= 0x01;
        assert_int_equal(vpn_sig_auth_verify(pub, v->method, rs, len, abc, 3, NULL), VPN_ERR_AUTH);
        rs[len - 1] ^= 0x01;
        rs[len / 2 - 1] ^= 0x80;
        assert_int_equal(vpn_sig_auth_verify(pub, v->method, rs, len, abc, 3, NULL), VPN_ERR_AUTH);
        rs[len / 2 - 1] ^= 0x80;
        /* r = 0 */
        uint8_t *z = calloc(1, len);
        memcpy(z + len / 2, rs + len / 2, len / 2);
        assert_int_equal(vpn_sig_auth_verify(pub, v->method, z, len, abc, 3, NULL), VPN_ERR_AUTH);
        free(z);
        /* r || s of the wrong length; the wrong method for the curve. */
        assert_int_equal(vpn_sig_auth_verify(pub, v->method, rs, len - 1, abc, 3, NULL),
                         VPN_ERR_MALFORMED);
        assert_int_equal(vpn_sig_auth_verify(pub, v->method == 9 ? 10 : 9, rs, len, abc, 3, NULL),
                         VPN_ERR_POLICY);
        assert_int_equal(vpn_sig_auth_verify(pub, v->method, rs, len, abc, 3, NULL), 0);
        free(rs);
        vpn_sig_key_del(pub);
    }
}

/*
 * Signing the RFC 4754 messages: the nonce is RFC 6979's (not the published
 * k, so not the published signature), no byte is drawn from the RNG, and
 * the r || s and DER forms carry the same (r, s).
 */
static void test_rfc4754_sign_known_k(void **state)
{
    (void)state;
    for (size_t i = 0; i < 3; i++) {
        const rfc4754_vector *v = &rfc4754[i];
        vpn_sig_key *key = ec_key(v->group, v->w, v->gwx, v->gwy);
        size_t kl, len;
        uint8_t *k = tu_hex(v->k, &kl), *rs = rs_of(v, &len), out[2 * 66];
        fixed_rng f = {k, kl, 0};
        vpn_rng rng = {fixed_fill, &f};
        vpn_wr w;

        assert_true(vpn_sig_key_is_private(key));
        vpn_wr_init(&w, out, sizeof out);
        assert_int_equal(vpn_sig_auth_sign(key, v->method, NULL, &rng, (const uint8_t *)"abc", 3,
                                           &w),
                         0);
        assert_int_equal(f.off, 0); /* no nonce drawn: RFC 6979 */
        assert_int_equal(vpn_wr_len(&w), len);
        assert_memory_not_equal(out, rs, len); /* another k than RFC 4754's */
        assert_int_equal(vpn_sig_auth_verify(key, v->method, out, len, (const uint8_t *)"abc", 3,
                                             NULL),
                         0);
        memcpy(rs, out, len);

        /* Through RFC 7427 the same signature comes out in DER. */
        uint8_t auth[256], der[160];
        size_t dl;
        vpn_sig_alg alg, used;
        f.off = 0;
        vpn_wr_init(&w, auth, sizeof auth);
        assert_int_equal(vpn_sig_alg_init(&alg, VPN_SIG_ECDSA,
                                          (uint8_t)(VPN_IKE_HASH_SHA2_256 + i)),
                         0);
        assert_int_equal(vpn_sig_auth_sign(key, VPN_AUTH_METHOD_DIGITAL_SIG, &alg, &rng,
                                           (const uint8_t *)"abc", 3, &w),
                         0);
        assert_int_equal(vpn_sig_ecdsa_rs_to_der(rs, len, der, sizeof der, &dl), 0);
        size_t alen = 1 + auth[0];
        assert_int_equal(vpn_wr_len(&w), alen + dl);
        assert_memory_equal(auth + alen, der, dl);
        assert_int_equal(vpn_sig_auth_verify(key, VPN_AUTH_METHOD_DIGITAL_SIG, auth, vpn_wr_len(&w),
                                             (const uint8_t *)"abc", 3, &used),
                         0);
        assert_alg_equal(&used, &alg);

        /* A key on another curve cannot use this method. */
        assert_int_equal(vpn_sig_auth_sign(key, v->method == 11 ? 9 : v->method + 1, NULL, &rng,
                                           (const uint8_t *)"abc", 3, &w),
                         VPN_ERR_POLICY);
        free(k);
        free(rs);
        vpn_sig_key_del(key);
    }
}

/* ---- round trips --------------------------------------------------------------------- */

static void round_trip(vpn_sig_key *key, vpn_sig_scheme scheme, uint8_t hash)
{
    static const uint8_t msg[] = "IKE_AUTH octets: RealMessage1 | NonceRData | prf(SK_pi, IDi')";
    vpn_drbg d;
    vpn_rng rng;
    vpn_sig_alg alg, used;
    uint8_t sig[600], auth[700];
    size_t len = sizeof sig;
    vpn_wr w;

    drbg_rng(&d, &rng, "round trip");
    assert_int_equal(vpn_sig_alg_init(&alg, scheme, hash), 0);
    assert_int_equal(vpn_sig_sign(key, &alg, &rng, msg, sizeof msg, sig, &len), 0);
    assert_true(len <= vpn_sig_max_len(key));
    assert_int_equal(vpn_sig_verify(key, &alg, msg, sizeof msg, sig, len), 0);
    /* A changed message, a changed bit, a cut signature. */
    assert_int_equal(vpn_sig_verify(key, &alg, msg, sizeof msg - 1, sig, len), VPN_ERR_AUTH);
    sig[len / 2] ^= 0x10;
    assert_int_equal(vpn_sig_verify(key, &alg, msg, sizeof msg, sig, len), VPN_ERR_AUTH);
    sig[len / 2] ^= 0x10;
    assert_int_equal(vpn_sig_verify(key, &alg, msg, sizeof msg, sig, len - 1), VPN_ERR_AUTH);
    assert_int_equal(vpn_sig_verify(key, &alg, msg, sizeof msg, sig, 0), VPN_ERR_AUTH);
    /* The wrong hash. */
    vpn_sig_alg other = alg;
    other.hash = hash == VPN_IKE_HASH_SHA2_256 ? VPN_IKE_HASH_SHA2_384 : VPN_IKE_HASH_SHA2_256;
    assert_int_equal(vpn_sig_verify(key, &other, msg, sizeof msg, sig, len), VPN_ERR_AUTH);

    /* As RFC 7427 authentication data. */
    vpn_wr_init(&w, auth, sizeof auth);
    assert_int_equal(vpn_sig_auth_sign(key, VPN_AUTH_METHOD_DIGITAL_SIG, &alg, &rng, msg,
                                       sizeof msg, &w),
                     0);
    assert_int_equal(vpn_sig_auth_verify(key, VPN_AUTH_METHOD_DIGITAL_SIG, auth, vpn_wr_len(&w),
                                         msg, sizeof msg, &used),
                     0);
    assert_alg_equal(&used, &alg);
    auth[vpn_wr_len(&w) - 1] ^= 1;
    assert_int_equal(vpn_sig_auth_verify(key, VPN_AUTH_METHOD_DIGITAL_SIG, auth, vpn_wr_len(&w),
                                         msg, sizeof msg, &used),
                     VPN_ERR_AUTH);
    /* Truncated anywhere: an error, never a crash or a pass. */
    for (size_t cut = 0; cut < vpn_wr_len(&w); cut++)
        assert_true(vpn_sig_auth_verify(key, VPN_AUTH_METHOD_DIGITAL_SIG, auth, cut, msg,
                                        sizeof msg, NULL) < 0);
}

static void test_round_trip_rsa(void **state)
{
    keys *k = *state;
    for (uint8_t h = VPN_IKE_HASH_SHA2_256; h <= VPN_IKE_HASH_SHA2_512; h++) {
        round_trip(k->rsa, VPN_SIG_RSA_PKCS1, h);
        round_trip(k->rsa, VPN_SIG_RSA_PSS, h);
    }
    assert_int_equal(vpn_sig_key_type_of(k->rsa), VPN_SIG_KEY_RSA);
    assert_int_equal(vpn_sig_key_bits(k->rsa), 2048);
    assert_int_equal(vpn_sig_max_len(k->rsa), 256);
}

static void test_round_trip_ecdsa(void **state)
{
    keys *k = *state;
    vpn_sig_key *ec[] = {k->p256, k->p384, k->p521};
    static const size_t bits[] = {256, 384, 521}, max[] = {72, 104, 141};
    for (size_t i = 0; i < 3; i++) {
        for (uint8_t h = VPN_IKE_HASH_SHA2_256; h <= VPN_IKE_HASH_SHA2_512; h++)
            round_trip(ec[i], VPN_SIG_ECDSA, h);
        assert_int_equal(vpn_sig_key_type_of(ec[i]), VPN_SIG_KEY_EC_P256 + i);
        assert_int_equal(vpn_sig_key_bits(ec[i]), bits[i]);
        assert_int_equal(vpn_sig_max_len(ec[i]), max[i]);
    }
}

/* RFC 4754 methods with fresh keys, both directions. */
static void test_rfc4754_round_trip(void **state)
{
    keys *k = *state;
    vpn_sig_key *ec[] = {k->p256, k->p384, k->p521};
    static const uint8_t m[] = {VPN_AUTH_METHOD_ECDSA_256, VPN_AUTH_METHOD_ECDSA_384,
                                VPN_AUTH_METHOD_ECDSA_521};
    for (size_t i = 0; i < 3; i++) {
        vpn_drbg d;
        vpn_rng rng;
        uint8_t out[132];
        vpn_wr w;
        drbg_rng(&d, &rng, "4754");
        vpn_wr_init(&w, out, sizeof out);
        uint8_t zeros[10] = {0};
        assert_int_equal(vpn_sig_auth_sign(ec[i], m[i], NULL, &rng, zeros, 10, &w), 0);
        assert_int_equal(vpn_wr_len(&w), i == 0 ? 64 : i == 1 ? 96 : 132);
        assert_int_equal(vpn_sig_auth_verify(ec[i], m[i], out, vpn_wr_len(&w), zeros, 10, NULL), 0);
        /* Too little room: NOSPACE. */
        vpn_wr_init(&w, out, 20);
        assert_int_equal(vpn_sig_auth_sign(ec[i], m[i], NULL, &rng, zeros, 10, &w),
                         VPN_ERR_NOSPACE);
    }
}

/* ---- reproducibility --------------------------------------------------------------- */

static void sign_with_seed(vpn_sig_key *key, vpn_sig_scheme scheme, const char *seed, uint8_t *sig,
                           size_t *len)
{
    vpn_drbg d;
    vpn_rng rng;
    vpn_sig_alg alg;

    drbg_rng(&d, &rng, seed);
    assert_int_equal(vpn_sig_alg_init(&alg, scheme, VPN_IKE_HASH_SHA2_256), 0);
    assert_int_equal(vpn_sig_sign(key, &alg, &rng, (const uint8_t *)"m", 1, sig, len), 0);
    assert_int_equal(vpn_sig_verify(key, &alg, (const uint8_t *)"m", 1, sig, *len), 0);
}

static void test_seeded_signatures_repeat(void **state)
{
    keys *k = *state;
    struct {
        vpn_sig_key *key;
        vpn_sig_scheme scheme;
    } c[] = {{k->rsa, VPN_SIG_RSA_PSS}, {k->p256, VPN_SIG_ECDSA}, {k->p521, VPN_SIG_ECDSA},
             {k->rsa, VPN_SIG_RSA_PKCS1}};
    for (size_t i = 0; i < 4; i++) {
        uint8_t a[300], b[300], x[300];
        size_t al = sizeof a, bl = sizeof b, xl = sizeof x;
        sign_with_seed(c[i].key, c[i].scheme, "RngSeed=7/RngRun=1", a, &al);
        sign_with_seed(c[i].key, c[i].scheme, "RngSeed=7/RngRun=1", b, &bl);
        sign_with_seed(c[i].key, c[i].scheme, "RngSeed=7/RngRun=2", x, &xl);
        assert_int_equal(al, bl);
        assert_memory_equal(a, b, al);
        if (c[i].scheme != VPN_SIG_RSA_PSS) {
            assert_int_equal(al, xl);
            assert_memory_equal(a, x, al); /* deterministic by design (RFC 6979 for ECDSA) */
        }
        else
            assert_true(al != xl || memcmp(a, x, al) != 0);
    }
}

/* ---- policy ------------------------------------------------------------------------- */

static void test_policy(void **state)
{
    keys *k = *state;
    vpn_drbg d;
    vpn_rng rng;
    vpn_sig_alg alg;
    uint8_t sig[300], auth[400];
    size_t len = sizeof sig;
    vpn_wr w;

    drbg_rng(&d, &rng, "policy");
    /* SHA-1: never for signing. */
    alg = (vpn_sig_alg){VPN_SIG_RSA_PKCS1, VPN_IKE_HASH_SHA1, 0, 0};
    assert_int_equal(vpn_sig_sign(k->rsa, &alg, &rng, sig, 4, sig, &len), VPN_ERR_POLICY);
    vpn_wr_init(&w, auth, sizeof auth);
    /* ... except RFC 7296 3.8 method 1 for legacy peers (issue 18): the
     * bare PKCS#1 v1.5 SHA-1 signature, which method 1 verification takes;
     * an EC key cannot make it */
    assert_int_equal(vpn_sig_auth_sign(k->rsa, VPN_AUTH_METHOD_RSA_SIG, NULL, &rng, sig, 4, &w), 0);
    assert_int_equal(vpn_wr_len(&w), vpn_sig_max_len(k->rsa));
    assert_int_equal(vpn_sig_auth_verify(k->rsa, VPN_AUTH_METHOD_RSA_SIG, auth, vpn_wr_len(&w), sig, 4, NULL), 0);
    auth[7] ^= 1;
    assert_int_equal(vpn_sig_auth_verify(k->rsa, VPN_AUTH_METHOD_RSA_SIG, auth, vpn_wr_len(&w), sig, 4, NULL),
                     VPN_ERR_AUTH);
    vpn_wr_init(&w, auth, sizeof auth);
    assert_int_equal(vpn_sig_auth_sign(k->p256, VPN_AUTH_METHOD_RSA_SIG, NULL, &rng, sig, 4, &w), VPN_ERR_POLICY);
    assert_int_equal(vpn_sig_auth_sign(k->rsa, VPN_AUTH_METHOD_PSK, NULL, &rng, sig, 4, &w),
                     VPN_ERR_UNSUPPORTED);
    assert_int_equal(vpn_wr_len(&w), 0);
    /* Keys of the wrong type for the scheme. */
    vpn_sig_alg_init(&alg, VPN_SIG_ECDSA, VPN_IKE_HASH_SHA2_256);
    assert_int_equal(vpn_sig_sign(k->rsa, &alg, &rng, sig, 4, sig, &len), VPN_ERR_POLICY);
    vpn_sig_alg_init(&alg, VPN_SIG_RSA_PSS, VPN_IKE_HASH_SHA2_256);
    assert_int_equal(vpn_sig_sign(k->p256, &alg, &rng, sig, 4, sig, &len), VPN_ERR_POLICY);
    assert_int_equal(vpn_sig_verify(k->p256, &alg, sig, 4, sig, 64), VPN_ERR_POLICY);
    /* RFC 7427 data naming ECDSA, checked against an RSA key. */
    vpn_sig_alg_init(&alg, VPN_SIG_ECDSA, VPN_IKE_HASH_SHA2_256);
    vpn_wr_init(&w, auth, sizeof auth);
    assert_int_equal(vpn_sig_auth_sign(k->p256, VPN_AUTH_METHOD_DIGITAL_SIG, &alg, &rng, sig, 4,
                                       &w),
                     0);
    assert_int_equal(vpn_sig_auth_verify(k->rsa, VPN_AUTH_METHOD_DIGITAL_SIG, auth, vpn_wr_len(&w),
                                         sig, 4, NULL),
                     VPN_ERR_POLICY);
    /* A signature by another key of the same type. */
    assert_int_equal(vpn_sig_auth_verify(k->p384, VPN_AUTH_METHOD_DIGITAL_SIG, auth,
                                         vpn_wr_len(&w), sig, 4, NULL),
                     VPN_ERR_AUTH);
    /* Too little room: NOSPACE and nothing written. */
    vpn_wr_init(&w, auth, 30);
    assert_int_equal(vpn_sig_auth_sign(k->p256, VPN_AUTH_METHOD_DIGITAL_SIG, &alg, &rng, sig, 4,
                                       &w),
                     VPN_ERR_NOSPACE);
    assert_int_equal(vpn_wr_len(&w), 0);
    /* PSS without an RNG; PKCS#1 v1.5 needs none. */
    vpn_sig_alg_init(&alg, VPN_SIG_RSA_PSS, VPN_IKE_HASH_SHA2_256);
    len = sizeof sig;
    assert_int_equal(vpn_sig_sign(k->rsa, &alg, NULL, sig, 4, sig, &len), VPN_ERR_INVAL);
    vpn_sig_alg_init(&alg, VPN_SIG_RSA_PKCS1, VPN_IKE_HASH_SHA2_256);
    assert_int_equal(vpn_sig_sign(k->rsa, &alg, NULL, (const uint8_t *)"x", 1, sig, &len), 0);
    len = 255;
    assert_int_equal(vpn_sig_sign(k->rsa, &alg, NULL, (const uint8_t *)"x", 1, sig, &len),
                     VPN_ERR_NOSPACE);
    /* PSS salt too long for the key. */
    alg = (vpn_sig_alg){VPN_SIG_RSA_PSS, VPN_IKE_HASH_SHA2_512, VPN_IKE_HASH_SHA2_512, 200};
    len = sizeof sig;
    assert_int_equal(vpn_sig_sign(k->rsa, &alg, &rng, sig, 4, sig, &len), VPN_ERR_INVAL);
    /* A nonzero but unusual salt length round-trips. */
    alg.salt_len = 0;
    assert_int_equal(vpn_sig_sign(k->rsa, &alg, &rng, sig, 4, auth, &len), 0);
    assert_int_equal(vpn_sig_verify(k->rsa, &alg, sig, 4, auth, len), 0);
    alg.salt_len = 64;
    assert_int_equal(vpn_sig_verify(k->rsa, &alg, sig, 4, auth, len), VPN_ERR_AUTH);
}

/* SHA-1 signatures made by OpenSSL verify: RFC 7296 method 1, and RFC 7427. */
static void test_legacy_sha1_verify(void **state)
{
    keys *k = *state;
    static const uint8_t msg[] = "legacy peer";
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    uint8_t sig[256], auth[300];
    size_t len = sizeof sig;
    vpn_sig_alg used;

    assert_int_equal(EVP_DigestSignInit(m, NULL, EVP_sha1(), NULL, vpn_sig_key_evp(k->rsa)), 1);
    assert_int_equal(EVP_DigestSign(m, sig, &len, msg, sizeof msg), 1);
    EVP_MD_CTX_free(m);
    assert_int_equal(vpn_sig_auth_verify(k->rsa, VPN_AUTH_METHOD_RSA_SIG, sig, len, msg,
                                         sizeof msg, &used),
                     0);
    assert_int_equal(used.scheme, VPN_SIG_RSA_PKCS1);
    assert_int_equal(used.hash, VPN_IKE_HASH_SHA1);
    assert_int_equal(vpn_sig_auth_verify(k->rsa, VPN_AUTH_METHOD_RSA_SIG, sig, len, msg,
                                         sizeof msg - 1, &used),
                     VPN_ERR_AUTH);
    assert_int_equal(vpn_sig_auth_verify(k->p256, VPN_AUTH_METHOD_RSA_SIG, sig, len, msg,
                                         sizeof msg, &used),
                     VPN_ERR_POLICY);
    /* The same signature wrapped in RFC 7427 with sha1WithRSAEncryption (A.1.1). */
    size_t al;
    uint8_t *id = tu_hex("300d06092a864886f70d0101050500", &al);
    auth[0] = (uint8_t)al;
    memcpy(auth + 1, id, al);
    memcpy(auth + 1 + al, sig, len);
    assert_int_equal(vpn_sig_auth_verify(k->rsa, VPN_AUTH_METHOD_DIGITAL_SIG, auth, 1 + al + len,
                                         msg, sizeof msg, &used),
                     0);
    assert_int_equal(used.hash, VPN_IKE_HASH_SHA1);
    free(id);
}

/* ---- RFC 7427 AlgorithmIdentifiers --------------------------------------------------- */

static void assert_algid_bytes(vpn_sig_scheme scheme, uint8_t hash, const char *want)
{
    vpn_sig_alg alg, back;
    uint8_t buf[128];
    vpn_wr w;
    vpn_rd r;

    assert_int_equal(vpn_sig_alg_init(&alg, scheme, hash), 0);
    vpn_wr_init(&w, buf, sizeof buf);
    assert_int_equal(vpn_sig_algid_write(&w, &alg), 0);
    tu_assert_hex(buf, vpn_wr_len(&w), want);
    vpn_rd_init(&r, buf, vpn_wr_len(&w));
    assert_int_equal(vpn_sig_algid_read(&r, &back), 0);
    assert_int_equal(vpn_rd_left(&r), 0);
    assert_alg_equal(&alg, &back);
}

static void test_algid_rfc7427_appendix_a(void **state)
{
    (void)state;
    /* A.1.1 - A.1.4: PKCS#1 v1.5 with NULL parameters */
    assert_algid_bytes(VPN_SIG_RSA_PKCS1, VPN_IKE_HASH_SHA1, "300d06092a864886f70d0101050500");
    assert_algid_bytes(VPN_SIG_RSA_PKCS1, VPN_IKE_HASH_SHA2_256, "300d06092a864886f70d01010b0500");
    assert_algid_bytes(VPN_SIG_RSA_PKCS1, VPN_IKE_HASH_SHA2_384, "300d06092a864886f70d01010c0500");
    assert_algid_bytes(VPN_SIG_RSA_PKCS1, VPN_IKE_HASH_SHA2_512, "300d06092a864886f70d01010d0500");
    /* A.3.1 - A.3.4: ECDSA, no parameters */
    assert_algid_bytes(VPN_SIG_ECDSA, VPN_IKE_HASH_SHA1, "300906072a8648ce3d0401");
    assert_algid_bytes(VPN_SIG_ECDSA, VPN_IKE_HASH_SHA2_256, "300a06082a8648ce3d040302");
    assert_algid_bytes(VPN_SIG_ECDSA, VPN_IKE_HASH_SHA2_384, "300a06082a8648ce3d040303");
    assert_algid_bytes(VPN_SIG_ECDSA, VPN_IKE_HASH_SHA2_512, "300a06082a8648ce3d040304");
    /* RSASSA-PSS with SHA-256, MGF1-SHA-256, salt 32, in DER: the RFC 7427
     * A.4.3 value without its explicit default trailerField. */
    assert_algid_bytes(VPN_SIG_RSA_PSS, VPN_IKE_HASH_SHA2_256,
                       "30410609 2a864886 f70d0101 0a3034a0 0f300d06 09608648 01650304 02010500"
                       "a11c301a 06092a86 4886f70d 01010830 0d060960 86480165 03040201 0500a203"
                       "020120");

    /* A.4.3 as printed (trailerField = 1 spelled out) is read. */
    size_t len;
    uint8_t *der = tu_hex("30460609 2a864886 f70d0101 0a3039a0 0f300d06 09608648 01650304 02010500"
                          "a11c301a 06092a86 4886f70d 01010830 0d060960 86480165 03040201 0500a203"
                          "020120a3 03020101",
                          &len);
    vpn_sig_alg alg;
    vpn_rd r;
    vpn_rd_init(&r, der, len);
    assert_int_equal(vpn_sig_algid_read(&r, &alg), 0);
    assert_int_equal(alg.scheme, VPN_SIG_RSA_PSS);
    assert_int_equal(alg.hash, VPN_IKE_HASH_SHA2_256);
    assert_int_equal(alg.mgf1_hash, VPN_IKE_HASH_SHA2_256);
    assert_int_equal(alg.salt_len, 32);
    free(der);

    /* A.4.2: PSS with every parameter at its default. */
    der = tu_hex("300d06092a864886f70d01010a3000", &len);
    vpn_rd_init(&r, der, len);
    assert_int_equal(vpn_sig_algid_read(&r, &alg), 0);
    assert_int_equal(alg.scheme, VPN_SIG_RSA_PSS);
    assert_int_equal(alg.hash, VPN_IKE_HASH_SHA1);
    assert_int_equal(alg.mgf1_hash, VPN_IKE_HASH_SHA1);
    assert_int_equal(alg.salt_len, 20);
    free(der);

    /* A.2.1 dsa-with-sha1: a clean refusal. */
    der = tu_hex("300906072a8648ce380403", &len);
    vpn_rd_init(&r, der, len);
    assert_int_equal(vpn_sig_algid_read(&r, &alg), VPN_ERR_UNSUPPORTED);
    assert_int_equal(vpn_rd_err(&r), VPN_ERR_UNSUPPORTED);
    assert_int_equal(alg.scheme, 0);
    free(der);
}

static void test_algid_round_trips(void **state)
{
    (void)state;
    static const uint16_t salts[] = {0, 1, 20, 32, 127, 128, 255, 256, 300, 0xffff};
    for (uint8_t h = VPN_IKE_HASH_SHA1; h <= VPN_IKE_HASH_SHA2_512; h++) {
        for (uint8_t m = VPN_IKE_HASH_SHA1; m <= VPN_IKE_HASH_SHA2_512; m++) {
            for (size_t s = 0; s < sizeof salts / sizeof salts[0]; s++) {
                vpn_sig_alg a = {VPN_SIG_RSA_PSS, h, m, salts[s]}, b;
                uint8_t buf[128];
                vpn_wr w;
                vpn_rd r;
                vpn_wr_init(&w, buf, sizeof buf);
                assert_int_equal(vpn_sig_algid_write(&w, &a), 0);
                vpn_rd_init(&r, buf, vpn_wr_len(&w));
                assert_int_equal(vpn_sig_algid_read(&r, &b), 0);
                assert_alg_equal(&a, &b);
                /* Every shorter prefix fails cleanly. */
                for (size_t cut = 0; cut < vpn_wr_len(&w); cut++) {
                    vpn_rd_init(&r, buf, cut);
                    assert_true(vpn_sig_algid_read(&r, &b) < 0);
                    assert_int_equal(b.scheme, 0);
                }
            }
        }
    }
    /* An all-defaults PSS identifier is the A.4.2 one. */
    vpn_sig_alg a = {VPN_SIG_RSA_PSS, VPN_IKE_HASH_SHA1, VPN_IKE_HASH_SHA1, 20};
    uint8_t buf[64];
    vpn_wr w;
    vpn_wr_init(&w, buf, sizeof buf);
    assert_int_equal(vpn_sig_algid_write(&w, &a), 0);
    tu_assert_hex(buf, vpn_wr_len(&w), "300d06092a864886f70d01010a3000");
    /* No room. */
    vpn_wr_init(&w, buf, 10);
    assert_int_equal(vpn_sig_algid_write(&w, &a), VPN_ERR_NOSPACE);
    a.hash = 9;
    vpn_wr_init(&w, buf, sizeof buf);
    assert_int_equal(vpn_sig_algid_write(&w, &a), VPN_ERR_UNSUPPORTED);
}

static void assert_algid_rejected(const char *hex, int want)
{
    size_t len;
    uint8_t *der = tu_hex(hex, &len);
    vpn_sig_alg alg;
    vpn_rd r;

    vpn_rd_init(&r, der, len);
    assert_int_equal(vpn_sig_algid_read(&r, &alg), want);
    assert_int_equal(alg.scheme, 0);
    free(der);
}

static void test_algid_hostile(void **state)
{
    (void)state;
    /* Trailing octets inside the SEQUENCE. */
    assert_algid_rejected("300f06092a864886f70d01010b05000000", VPN_ERR_MALFORMED);
    /* Parameters that are not NULL. */
    assert_algid_rejected("300d06092a864886f70d01010b0400", VPN_ERR_MALFORMED);
    /* NULL with content. */
    assert_algid_rejected("300e06092a864886f70d01010b050100", VPN_ERR_MALFORMED);
    /* Indefinite length; non-minimal long form. */
    assert_algid_rejected("308006092a864886f70d01010b05000000", VPN_ERR_MALFORMED);
    assert_algid_rejected("30810d06092a864886f70d01010b0500", VPN_ERR_MALFORMED);
    /* Lengths beyond the data. */
    assert_algid_rejected("300e06092a864886f70d01010b0500", VPN_ERR_TRUNCATED);
    assert_algid_rejected("300d060e2a864886f70d01010b0500", VPN_ERR_TRUNCATED);
    /* Not a SEQUENCE; OID missing; empty. */
    assert_algid_rejected("310d06092a864886f70d01010b0500", VPN_ERR_MALFORMED);
    assert_algid_rejected("30020500", VPN_ERR_MALFORMED);
    assert_algid_rejected("", VPN_ERR_TRUNCATED);
    /* Unknown OIDs: md5WithRSAEncryption, ed25519, a hash inside PSS. */
    assert_algid_rejected("300d06092a864886f70d0101040500", VPN_ERR_UNSUPPORTED);
    assert_algid_rejected("300506032b6570", VPN_ERR_UNSUPPORTED);
    assert_algid_rejected("301c06092a864886f70d01010a300fa00d300b0609608648016503040204",
                          VPN_ERR_UNSUPPORTED);
    /* PSS: parameters missing, trailer 2, a MGF other than MGF1, a
     * negative salt, fields out of order, junk after the fields. */
    assert_algid_rejected("300b06092a864886f70d01010a", VPN_ERR_MALFORMED);
    assert_algid_rejected("301206092a864886f70d01010a3005a303020102", VPN_ERR_UNSUPPORTED);
    assert_algid_rejected("301e06092a864886f70d01010a3011a10f300d06092a864886f70d0101093000",
                          VPN_ERR_UNSUPPORTED);
    assert_algid_rejected("301206092a864886f70d01010a3005a203020180", VPN_ERR_MALFORMED);
    assert_algid_rejected("301706092a864886f70d01010a300aa203020120a203020120",
                          VPN_ERR_MALFORMED);
    assert_algid_rejected("301406092a864886f70d01010a3007a2030201200500", VPN_ERR_MALFORMED);
    /* Non-minimal INTEGER salt. */
    assert_algid_rejected("301306092a864886f70d01010a3006a20402020020", VPN_ERR_MALFORMED);
    /* Two identifiers back to back: one is read, the rest left. */
    size_t len;
    uint8_t *der = tu_hex("300a06082a8648ce3d040302300a06082a8648ce3d040303", &len);
    vpn_sig_alg alg;
    vpn_rd r;
    vpn_rd_init(&r, der, len);
    assert_int_equal(vpn_sig_algid_read(&r, &alg), 0);
    assert_int_equal(alg.hash, VPN_IKE_HASH_SHA2_256);
    assert_int_equal(vpn_sig_algid_read(&r, &alg), 0);
    assert_int_equal(alg.hash, VPN_IKE_HASH_SHA2_384);
    assert_int_equal(vpn_rd_left(&r), 0);
    free(der);

    /* Random bytes and single-bit flips of a good PSS identifier: only
     * error codes or valid algorithms, never a crash (ASan watches). */
    vpn_drbg d;
    vpn_rng rng;
    uint8_t buf[80];
    drbg_rng(&d, &rng, "algid fuzz");
    for (int i = 0; i < 4000; i++) {
        size_t n = (size_t)(i % 80);
        assert_int_equal(vpn_rng_bytes(&rng, buf, n), 0);
        if (i % 2)
            buf[0] = 0x30; /* get past the first tag more often */
        vpn_rd_init(&r, buf, n);
        int rc = vpn_sig_algid_read(&r, &alg);
        assert_true(rc == 0 || rc == VPN_ERR_MALFORMED || rc == VPN_ERR_TRUNCATED ||
                    rc == VPN_ERR_UNSUPPORTED);
    }
    vpn_sig_alg pss = {VPN_SIG_RSA_PSS, VPN_IKE_HASH_SHA2_384, VPN_IKE_HASH_SHA2_256, 48};
    vpn_wr w;
    vpn_wr_init(&w, buf, sizeof buf);
    assert_int_equal(vpn_sig_algid_write(&w, &pss), 0);
    for (size_t bit = 0; bit < vpn_wr_len(&w) * 8; bit++) {
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        vpn_rd_init(&r, buf, vpn_wr_len(&w));
        int rc = vpn_sig_algid_read(&r, &alg);
        assert_true(rc <= 0 && rc >= VPN_ERR_MIN);
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
}

static void test_auth_data_hostile(void **state)
{
    keys *k = *state;
    static const uint8_t msg[] = "m";
    vpn_drbg d;
    vpn_rng rng;
    vpn_sig_alg alg;
    uint8_t auth[200], bad[200];
    vpn_wr w;

    drbg_rng(&d, &rng, "auth hostile");
    vpn_sig_alg_init(&alg, VPN_SIG_ECDSA, VPN_IKE_HASH_SHA2_256);
    vpn_wr_init(&w, auth, sizeof auth);
    assert_int_equal(vpn_sig_auth_sign(k->p256, VPN_AUTH_METHOD_DIGITAL_SIG, &alg, &rng, msg, 1,
                                       &w),
                     0);
    size_t n = vpn_wr_len(&w);
    assert_int_equal(auth[0], 12); /* 300a06082a8648ce3d040302 */
    /* A length octet one too long swallows a signature octet: the
     * identifier no longer fills it. One too short cuts the identifier. */
    memcpy(bad, auth, n);
    bad[0] = 13;
    assert_int_equal(vpn_sig_auth_verify(k->p256, 14, bad, n, msg, 1, NULL), VPN_ERR_MALFORMED);
    bad[0] = 11;
    assert_true(vpn_sig_auth_verify(k->p256, 14, bad, n, msg, 1, NULL) < 0);
    bad[0] = 0xff;
    assert_int_equal(vpn_sig_auth_verify(k->p256, 14, bad, n, msg, 1, NULL), VPN_ERR_TRUNCATED);
    /* Nothing after the identifier. */
    assert_int_equal(vpn_sig_auth_verify(k->p256, 14, auth, 13, msg, 1, NULL), VPN_ERR_AUTH);
    /* Garbage DER where Ecdsa-Sig-Value belongs. */
    memcpy(bad, auth, 13);
    memset(bad + 13, 0x30, 40);
    assert_int_equal(vpn_sig_auth_verify(k->p256, 14, bad, 53, msg, 1, NULL), VPN_ERR_AUTH);
    /* An unknown method. */
    assert_int_equal(vpn_sig_auth_verify(k->p256, 3, auth, n, msg, 1, NULL), VPN_ERR_UNSUPPORTED);
    assert_int_equal(vpn_sig_auth_verify(k->p256, 14, NULL, 0, msg, 1, NULL), VPN_ERR_TRUNCATED);
}

/* ---- DER <-> r || s --------------------------------------------------------------- */

static void test_ecdsa_der_rs(void **state)
{
    (void)state;
    uint8_t rs[64], der[80], back[64];
    size_t dl, rl;

    /* r with its top bit set gains a zero octet; s with leading zeroes
     * loses them. */
    memset(rs, 0, sizeof rs);
    rs[0] = 0x80;
    rs[31] = 0x01;
    rs[62] = 0x12;
    rs[63] = 0x34;
    assert_int_equal(vpn_sig_ecdsa_rs_to_der(rs, 64, der, sizeof der, &dl), 0);
    tu_assert_hex(der, dl,
                  "3027"
                  "0221008000000000000000000000000000000000000000000000000000000000000001"
                  "02021234");
    assert_int_equal(vpn_sig_ecdsa_der_to_rs(der, dl, 32, back, sizeof back, &rl), 0);
    assert_int_equal(rl, 64);
    assert_memory_equal(back, rs, 64);
    assert_int_equal(vpn_sig_ecdsa_der_to_rs(der, dl, 32, back, 63, &rl), VPN_ERR_NOSPACE);
    assert_int_equal(vpn_sig_ecdsa_rs_to_der(rs, 64, der, 40, &dl), VPN_ERR_NOSPACE);
    /* P-521 sized: the SEQUENCE needs a long-form length. */
    uint8_t big[132], bder[150], bback[132];
    memset(big, 0xff, sizeof big);
    big[0] = big[66] = 0x01;
    assert_int_equal(vpn_sig_ecdsa_rs_to_der(big, 132, bder, sizeof bder, &dl), 0);
    assert_int_equal(bder[1], 0x81);
    assert_int_equal(vpn_sig_ecdsa_der_to_rs(bder, dl, 66, bback, sizeof bback, &rl), 0);
    assert_memory_equal(big, bback, 132);
    /* ... which does not fit a 48-octet field. */
    assert_int_equal(vpn_sig_ecdsa_der_to_rs(bder, dl, 48, bback, sizeof bback, &rl),
                     VPN_ERR_MALFORMED);
    /* r = 0 cannot be encoded; odd lengths are not r || s. */
    memset(rs, 0, 32);
    assert_int_equal(vpn_sig_ecdsa_rs_to_der(rs, 64, der, sizeof der, &dl), VPN_ERR_MALFORMED);
    assert_int_equal(vpn_sig_ecdsa_rs_to_der(rs, 63, der, sizeof der, &dl), VPN_ERR_MALFORMED);

    static const struct {
        const char *der;
        int rc;
    } bad[] = {
        {"3006020101020101", 0},               /* r = s = 1: fine */
        {"300602010102010100", VPN_ERR_MALFORMED}, /* trailing octet */
        {"3007020101020101", VPN_ERR_TRUNCATED},
        {"3006020180020101", VPN_ERR_MALFORMED}, /* negative r */
        {"300702020001020101", VPN_ERR_MALFORMED}, /* non-minimal r */
        {"3006020100020101", VPN_ERR_MALFORMED}, /* r = 0 */
        {"30050200020101", VPN_ERR_MALFORMED},   /* empty INTEGER */
        {"3106020101020101", VPN_ERR_MALFORMED}, /* SET, not SEQUENCE */
        {"3006020101040101", VPN_ERR_MALFORMED}, /* OCTET STRING s */
        {"30030201010201", VPN_ERR_TRUNCATED},   /* s outside the SEQUENCE */
        {"3080020101020101", VPN_ERR_MALFORMED}, /* indefinite */
        {"", VPN_ERR_TRUNCATED},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t l;
        uint8_t *p = tu_hex(bad[i].der, &l);
        int rc = vpn_sig_ecdsa_der_to_rs(p, l, 32, back, sizeof back, &rl);
        if (bad[i].rc == VPN_ERR_TRUNCATED)
            assert_true(rc == VPN_ERR_TRUNCATED || rc == VPN_ERR_MALFORMED);
        else
            assert_int_equal(rc, bad[i].rc);
        free(p);
    }
}

/* ---- keys ------------------------------------------------------------------------- */

static uint8_t *pem_of(EVP_PKEY *pkey, int which, size_t *len)
{
    BIO *b = BIO_new(BIO_s_mem());
    BUF_MEM *mem;
    uint8_t *out;

    if (which == 0)
        assert_int_equal(PEM_write_bio_PrivateKey(b, pkey, NULL, NULL, 0, NULL, NULL), 1);
    else if (which == 1)
        assert_int_equal(PEM_write_bio_PUBKEY(b, pkey), 1);
    else
        assert_int_equal(PEM_write_bio_PKCS8PrivateKey(b, pkey, EVP_aes_128_cbc(), "secret", 6,
                                                       NULL, NULL),
                         1);
    BIO_get_mem_ptr(b, &mem);
    out = malloc(mem->length);
    memcpy(out, mem->data, mem->length);
    *len = mem->length;
    BIO_free(b);
    return out;
}

static void test_key_loading(void **state)
{
    keys *k = *state;
    vpn_sig_key *ks[] = {k->rsa, k->p384};
    for (size_t i = 0; i < 2; i++) {
        EVP_PKEY *pkey = vpn_sig_key_evp(ks[i]);
        vpn_sig_key *a, *b, *c, *e;
        uint8_t *der = NULL, *pub = NULL;
        size_t pl, sl, el;

        /* PEM private (PKCS#8) and public. */
        uint8_t *pem = pem_of(pkey, 0, &pl);
        uint8_t *spki = pem_of(pkey, 1, &sl);
        assert_int_equal(vpn_sig_key_load_private(&a, pem, pl), 0);
        assert_true(vpn_sig_key_is_private(a));
        assert_int_equal(vpn_sig_key_load_public(&b, spki, sl), 0);
        assert_false(vpn_sig_key_is_private(b));
        assert_true(vpn_sig_key_equal(a, b));
        assert_true(vpn_sig_key_equal(a, ks[i]));
        assert_false(vpn_sig_key_equal(a, ks[1 - i]));
        assert_int_equal(vpn_sig_key_type_of(a), vpn_sig_key_type_of(ks[i]));
        /* A public key is not a private key; a public key cannot sign. */
        assert_int_equal(vpn_sig_key_load_private(&c, spki, sl), VPN_ERR_MALFORMED);
        assert_null(c);
        vpn_sig_alg alg;
        uint8_t sig[300];
        size_t len = sizeof sig;
        vpn_sig_alg_init(&alg, i == 0 ? VPN_SIG_RSA_PKCS1 : VPN_SIG_ECDSA, VPN_IKE_HASH_SHA2_256);
        assert_int_equal(vpn_sig_sign(b, &alg, NULL, sig, 1, sig, &len), VPN_ERR_INVAL);
        /* Loaded keys work: sign with a, verify with b. */
        vpn_drbg d;
        vpn_rng rng;
        drbg_rng(&d, &rng, "loaded");
        assert_int_equal(vpn_sig_sign(a, &alg, &rng, (const uint8_t *)"m", 1, sig, &len), 0);
        assert_int_equal(vpn_sig_verify(b, &alg, (const uint8_t *)"m", 1, sig, len), 0);

        /* DER: PKCS#8, and the traditional form for private keys. */
        int dl = i2d_PrivateKey(pkey, &der);
        assert_true(dl > 0);
        assert_int_equal(vpn_sig_key_load_private(&c, der, (size_t)dl), 0);
        assert_true(vpn_sig_key_equal(c, a));
        vpn_sig_key_del(c);
        /* Trailing bytes after DER; truncated DER. */
        uint8_t *longer = malloc((size_t)dl + 1);
        memcpy(longer, der, (size_t)dl);
        longer[dl] = 0;
        assert_int_equal(vpn_sig_key_load_private(&c, longer, (size_t)dl + 1), VPN_ERR_MALFORMED);
        assert_int_equal(vpn_sig_key_load_private(&c, der, (size_t)dl - 1), VPN_ERR_MALFORMED);
        free(longer);
        int ql = i2d_PUBKEY(pkey, &pub);
        assert_int_equal(vpn_sig_key_load_public(&c, pub, (size_t)ql), 0);
        assert_true(vpn_sig_key_equal(c, b));
        vpn_sig_key_del(c);

        /* Encrypted keys are refused without asking for a passphrase. */
        uint8_t *enc = pem_of(pkey, 2, &el);
        assert_int_equal(vpn_sig_key_load_private(&e, enc, el), VPN_ERR_MALFORMED);
        free(enc);

        vpn_sig_key_del(a);
        vpn_sig_key_del(b);
        OPENSSL_free(der);
        OPENSSL_free(pub);
        free(pem);
        free(spki);
    }

    /* Garbage, PEM without a key, empty input. */
    vpn_sig_key *x;
    static const char junk[] = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    assert_int_equal(vpn_sig_key_load_private(&x, (const uint8_t *)junk, sizeof junk - 1),
                     VPN_ERR_MALFORMED);
    assert_int_equal(vpn_sig_key_load_public(&x, (const uint8_t *)"hello", 5), VPN_ERR_MALFORMED);
    assert_int_equal(vpn_sig_key_load_public(&x, (const uint8_t *)"\x30\x03\x02\x01\x01", 5),
                     VPN_ERR_MALFORMED);
    assert_int_equal(vpn_sig_key_load_private(&x, (const uint8_t *)"", 0), VPN_ERR_INVAL);

    /* Key types we do not sign with. */
    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)512);
    EVP_PKEY *k1 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
    assert_int_equal(vpn_sig_key_from_evp(&x, ed), VPN_ERR_UNSUPPORTED);
    assert_int_equal(vpn_sig_key_from_evp(&x, small), VPN_ERR_UNSUPPORTED);
    assert_int_equal(vpn_sig_key_from_evp(&x, k1), VPN_ERR_UNSUPPORTED);
    EVP_PKEY_free(ed);
    EVP_PKEY_free(small);
    EVP_PKEY_free(k1);
    vpn_sig_key_del(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4754_verify),
        cmocka_unit_test(test_rfc4754_sign_known_k),
        cmocka_unit_test(test_round_trip_rsa),
        cmocka_unit_test(test_round_trip_ecdsa),
        cmocka_unit_test(test_rfc4754_round_trip),
        cmocka_unit_test(test_seeded_signatures_repeat),
        cmocka_unit_test(test_policy),
        cmocka_unit_test(test_legacy_sha1_verify),
        cmocka_unit_test(test_algid_rfc7427_appendix_a),
        cmocka_unit_test(test_algid_round_trips),
        cmocka_unit_test(test_algid_hostile),
        cmocka_unit_test(test_auth_data_hostile),
        cmocka_unit_test(test_ecdsa_der_rs),
        cmocka_unit_test(test_key_loading),
    };
    return cmocka_run_group_tests(tests, keys_setup, keys_teardown);
}
