/*
 * Injected allocation failures inside OpenSSL, under the core's crypto
 * wrappers (cipher, integ, prf, DH, signatures, key loading): OpenSSL's
 * allocator is replaced first thing in main, and for every operation the
 * k-th allocation OpenSSL makes fails, for every k the operation reaches.
 * Each time the wrapper either succeeds with the right answer (OpenSSL
 * absorbed the failure) or returns VPN_ERR_NOMEM / VPN_ERR_CRYPTO, never a
 * verdict about the data (a signature "does not verify", a DH value
 * "refused") and never a crash; an object made before the failure (a
 * keyed cipher, a DH private key) still gives the right answer afterwards;
 * the ASan twin checks that nothing leaks on any of these paths.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "common/rng.h"
#include "common/vpn-err.h"
#include "crypto/cipher.h"
#include "crypto/crypto-ids.h"
#include "crypto/dh.h"
#include "crypto/integ.h"
#include "crypto/prf.h"
#include "crypto/sig.h"
#include "ikev2/ikev2-eap.h"
#include "test-util.h"

/* ---- the gate: OpenSSL's allocator, failing its k-th call ---------------- */

typedef struct gate {
    bool on;
    unsigned calls, fail_at, failed;
} gate;

static gate g_gate; /* the test's only global: OpenSSL's allocator has no context */

static bool gate_hit(void)
{
    if (!g_gate.on)
        return false;
    g_gate.calls++;
    if (g_gate.fail_at && g_gate.calls == g_gate.fail_at) {
        g_gate.failed++;
        return true;
    }
    return false;
}

static void *gate_malloc(size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    return gate_hit() ? NULL : malloc(n);
}

static void *gate_realloc(void *p, size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    return gate_hit() ? NULL : realloc(p, n);
}

static void gate_free(void *p, const char *file, int line)
{
    (void)file;
    (void)line;
    free(p);
}

/* ---- the operations ------------------------------------------------------ */

typedef struct fixture {
    vpn_drbg drbg;
    vpn_rng rng;
    vpn_sig_key *rsa, *p256;
    vpn_cipher *cbc_enc;           /* keyed before any failure */
    vpn_dh *dh_a, *dh_b;           /* made before any failure */
    uint8_t pem[4096];
    size_t pem_len;
} fixture;

static const uint8_t KEY[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const uint8_t IV[16] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
                               0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf};

/* An operation on the fixture's objects: fills out (up to 1024 octets,
 * *len set) or returns its error. */
typedef int (*op_fn)(const fixture *f, uint8_t *out, size_t *len);

/* A fresh AES-CBC-256 context, 64 octets encrypted and decrypted. */
static int op_cbc_new(const fixture *f, uint8_t *out, size_t *len)
{
    vpn_cipher *e = NULL, *d = NULL;
    int rc;

    (void)f;
    for (int i = 0; i < 64; i++)
        out[i] = (uint8_t)i;
    if ((rc = vpn_cipher_new(&e, VPN_ENCR_AES_CBC, 256, KEY, 32, true)) ||
        (rc = vpn_cipher_new(&d, VPN_ENCR_AES_CBC, 256, KEY, 32, false)) ||
        (rc = vpn_cipher_encrypt(e, IV, out, 64)))
        goto out;
    memcpy(out + 64, out, 64);
    if ((rc = vpn_cipher_decrypt(d, IV, out + 64, 64)))
        goto out;
    *len = 128;
out:
    vpn_cipher_del(e);
    vpn_cipher_del(d);
    return rc;
}

/* The context keyed before the failures: encrypting with it again. */
static int op_cbc_kept(const fixture *f, uint8_t *out, size_t *len)
{
    int rc;

    memset(out, 0x5c, 48);
    if ((rc = vpn_cipher_encrypt(f->cbc_enc, IV, out, 48)))
        return rc;
    *len = 48;
    return 0;
}

/* AES-GCM-16 (RFC 4106): seal, then open with a second context. */
static int op_gcm(const fixture *f, uint8_t *out, size_t *len)
{
    static const uint8_t aad[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    vpn_cipher *e = NULL, *d = NULL;
    uint8_t key[36]; /* the AES-256 key, then the 4-octet salt (RFC 4106 8.1) */
    int rc;

    (void)f;
    memcpy(key, KEY, 32);
    memcpy(key + 32, IV, 4);
    memset(out, 0x42, 40);
    if ((rc = vpn_cipher_new(&e, VPN_ENCR_AES_GCM_16, 256, key, 36, true)) ||
        (rc = vpn_cipher_new(&d, VPN_ENCR_AES_GCM_16, 256, key, 36, false)) ||
        (rc = vpn_cipher_seal(e, IV, aad, sizeof aad, out, 40, out + 40)))
        goto out;
    memcpy(out + 56, out, 56);
    if ((rc = vpn_cipher_open(d, IV, aad, sizeof aad, out + 56, 40, out + 96)))
        goto out;
    *len = 112;
out:
    vpn_cipher_del(e);
    vpn_cipher_del(d);
    return rc;
}

/* HMAC-SHA2-256-128 (RFC 4868): compute, then verify. */
static int op_integ(const fixture *f, uint8_t *out, size_t *len)
{
    static const uint8_t msg[100] = {7};
    vpn_iov iov = {msg, sizeof msg};
    vpn_integ *g = NULL;
    int rc;

    (void)f;
    if ((rc = vpn_integ_new(&g, VPN_AUTH_HMAC_SHA2_256_128, KEY, 32)) ||
        (rc = vpn_integ_compute(g, &iov, 1, out)) || (rc = vpn_integ_verify(g, &iov, 1, out)))
        goto out;
    *len = 16;
out:
    vpn_integ_del(g);
    return rc;
}

/* prf+ (RFC 7296 2.13) with HMAC-SHA2-384, 200 octets. */
static int op_prf_plus(const fixture *f, uint8_t *out, size_t *len)
{
    vpn_iov k = {KEY, 32}, s = {IV, 16};
    int rc;

    (void)f;
    if ((rc = vpn_prf_plus(VPN_PRF_HMAC_SHA2_384, &k, 1, &s, 1, out, 200)))
        return rc;
    *len = 200;
    return 0;
}

/* ECP-256 (RFC 5903): both sides' shared secret from the kept keys. */
static int op_dh_ecp(const fixture *f, uint8_t *out, size_t *len)
{
    const uint8_t *pa, *pb;
    size_t la, lb, n1 = 512, n2 = 512;
    int rc;

    pa = vpn_dh_public(f->dh_a, &la);
    pb = vpn_dh_public(f->dh_b, &lb);
    if ((rc = vpn_dh_compute(f->dh_a, pb, lb, out, &n1)) ||
        (rc = vpn_dh_compute(f->dh_b, pa, la, out + 512, &n2)))
        return rc;
    assert_int_equal(n1, n2);
    assert_memory_equal(out, out + 512, n1);
    *len = n1;
    return 0;
}

/* A fresh ECP-256 pair from a seeded DRBG (the same each time); the public value out. */
static int op_dh_new(const fixture *f, uint8_t *out, size_t *len)
{
    vpn_drbg drbg;
    vpn_rng rng;
    vpn_dh *dh = NULL;
    const uint8_t *p;
    size_t n;
    int rc;

    (void)f;
    bool on = g_gate.on;
    g_gate.on = false; /* the DRBG is the test's, not the operation's */
    assert_int_equal(vpn_drbg_init(&drbg, "crypto-inject-dh", 16), 0);
    g_gate.on = on;
    vpn_rng_init_drbg(&rng, &drbg);
    if ((rc = vpn_dh_new(&dh, VPN_DH_ECP_256, &rng)) == 0) {
        p = vpn_dh_public(dh, &n);
        memcpy(out, p, n);
        *len = n;
    }
    vpn_dh_del(dh);
    g_gate.on = false;
    vpn_drbg_free(&drbg);
    g_gate.on = on;
    return rc;
}

/* Signs msg with key (scheme, SHA2-256) and verifies it; the signature out. */
static int sign_verify(const vpn_sig_key *key, vpn_sig_scheme scheme, const uint8_t *msg, size_t msg_len,
                       uint8_t *out, size_t *len)
{
    vpn_sig_alg alg;
    size_t n = 512;
    int rc;

    assert_int_equal(vpn_sig_alg_init(&alg, scheme, VPN_IKE_HASH_SHA2_256), 0);
    if ((rc = vpn_sig_sign(key, &alg, NULL, msg, msg_len, out, &n)) ||
        (rc = vpn_sig_verify(key, &alg, msg, msg_len, out, n)))
        return rc;
    *len = n;
    return 0;
}

/* ECDSA P-256 (RFC 6979 nonces, so the same bytes each time). */
static int op_ecdsa(const fixture *f, uint8_t *out, size_t *len)
{
    static const uint8_t msg[] = "the octets IKEv2 AUTH signs";
    return sign_verify(f->p256, VPN_SIG_ECDSA, msg, sizeof msg, out, len);
}

/* RSA PKCS#1 v1.5: deterministic. */
static int op_rsa(const fixture *f, uint8_t *out, size_t *len)
{
    static const uint8_t msg[] = "a GDOI rekey";
    return sign_verify(f->rsa, VPN_SIG_RSA_PKCS1, msg, sizeof msg, out, len);
}

/* A private key from PEM; its public half's signature check, as output. */
static int op_key_load(const fixture *f, uint8_t *out, size_t *len)
{
    static const uint8_t msg[] = "loaded";
    vpn_sig_key *k = NULL;
    vpn_sig_alg alg;
    size_t n = 512;
    int rc;

    assert_int_equal(vpn_sig_alg_init(&alg, VPN_SIG_ECDSA, VPN_IKE_HASH_SHA2_256), 0);
    if ((rc = vpn_sig_key_load_private(&k, f->pem, f->pem_len)))
        return rc;
    if ((rc = vpn_sig_sign(k, &alg, NULL, msg, sizeof msg, out, &n)) == 0)
        *len = n;
    vpn_sig_key_del(k);
    return rc;
}

/* EAP-MSCHAPv2's computations (RFC 2759 8, RFC 3079 3.4): both sides'
 * NT-Response, authenticator response and MSK (the EAP module's OpenSSL
 * calls: MD4, SHA-1 digests, DES). */
static int op_mschapv2(const fixture *f, uint8_t *out, size_t *len)
{
    static const uint8_t ac[16] = {0x5b, 0x5d, 0x7c, 0x7d}, pc[16] = {0x21, 0x40, 0x23};
    uint8_t h[16];
    char auth[43];
    int rc;

    (void)f;
    if ((rc = vpn_mschapv2_pw_hash("clientPass", 10, h)) ||
        (rc = vpn_mschapv2_nt_response(ac, pc, "User", 4, h, out)) ||
        (rc = vpn_mschapv2_auth_response(h, out, pc, ac, "User", 4, auth)) ||
        (rc = vpn_mschapv2_msk(h, out, out + 24 + 43)))
        return rc;
    memcpy(out + 24, auth, 43);
    *len = 24 + 43 + VPN_EAP_MSK_LEN;
    return 0;
}

/* ---- the sweep ----------------------------------------------------------- */

/*
 * Runs op once clean for the answer and the allocation count, then once per
 * k failing OpenSSL's k-th allocation; after each failing run, once clean
 * again (what was kept still works). Returns the count.
 */
static unsigned sweep(const fixture *f, const char *name, op_fn op)
{
    uint8_t want[1024], got[1024];
    size_t wlen = 0, glen;
    unsigned total, errors = 0;
    int rc;

    assert_int_equal(op(f, want, &wlen), 0); /* OpenSSL's lazy set-up, outside the gate */
    memset(&g_gate, 0, sizeof g_gate);
    g_gate.on = true;
    assert_int_equal(op(f, want, &wlen), 0);
    g_gate.on = false;
    total = g_gate.calls;
    for (unsigned k = 1; k <= total; k++) {
        memset(&g_gate, 0, sizeof g_gate);
        g_gate.on = true;
        g_gate.fail_at = k;
        glen = 0;
        memset(got, 0, sizeof got);
        rc = op(f, got, &glen);
        g_gate.on = false;
        if (rc == 0) {
            /* absorbed (an error-queue entry OpenSSL could not keep, say): the
             * answer must still be right */
            assert_int_equal(glen, wlen);
            assert_memory_equal(got, want, wlen);
        } else {
            if (rc != VPN_ERR_NOMEM && rc != VPN_ERR_CRYPTO)
                fail_msg("%s: allocation %u of %u failing gave %s, not NOMEM/CRYPTO", name, k,
                         total, vpn_strerror(rc));
            errors++;
        }
        /* state intact: the same operation, clean, gives the same answer */
        glen = 0;
        assert_int_equal(op(f, got, &glen), 0);
        assert_int_equal(glen, wlen);
        assert_memory_equal(got, want, wlen);
        ERR_clear_error();
    }
    if (getenv("VPN_TEST_LOG"))
        fprintf(stderr, "%s: %u allocations swept, %u failed the call\n", name, total, errors);
    /* an operation that allocates has at least one failure the caller sees */
    assert_true(total == 0 || errors > 0);
    return total;
}

static void test_cipher(void **state)
{
    const fixture *f = *state;
    assert_true(sweep(f, "cbc_new", op_cbc_new) > 0);
    assert_true(sweep(f, "gcm", op_gcm) > 0);
}

static void test_cipher_kept(void **state)
{
    const fixture *f = *state;
    /* a keyed context encrypts without allocating (ESP's per-packet path):
     * nothing there can fail this way */
    assert_int_equal(sweep(f, "cbc_kept", op_cbc_kept), 0);
}

static void test_integ_prf(void **state)
{
    const fixture *f = *state;
    /* the project's HMAC (crypto/hmac.c) on OpenSSL's hash primitives:
     * no OpenSSL allocation to fail */
    assert_int_equal(sweep(f, "integ", op_integ), 0);
    assert_int_equal(sweep(f, "prf_plus", op_prf_plus), 0);
}

static void test_dh(void **state)
{
    const fixture *f = *state;
    assert_true(sweep(f, "dh_ecp", op_dh_ecp) > 0);
    assert_true(sweep(f, "dh_new", op_dh_new) > 0);
}

static void test_sig(void **state)
{
    const fixture *f = *state;
    assert_true(sweep(f, "ecdsa", op_ecdsa) > 0);
    assert_true(sweep(f, "rsa", op_rsa) > 0);
    assert_true(sweep(f, "key_load", op_key_load) > 0);
}

static void test_eap_mschapv2(void **state)
{
    const fixture *f = *state;
    assert_true(sweep(f, "mschapv2", op_mschapv2) > 0);
}

/* RSA raw PKCS#1 v1.5 over a digest (IKEv1's HASH_I, the GDOI key
 * server's gdoid-form rekey signature): the signature alone, unchecked by
 * the op, so a faulty one returned as a success, or a key left broken for
 * the clean rerun, fails the sweep. Before vpn_sig_rsa_raw_sign both
 * callers signed with EVP_PKEY_sign directly. */
static int op_rsa_raw(const fixture *f, uint8_t *out, size_t *len)
{
    uint8_t digest[32];
    size_t n = 512;
    int rc;

    for (size_t i = 0; i < sizeof digest; i++)
        digest[i] = (uint8_t)(0xa0 + i);
    if ((rc = vpn_sig_rsa_raw_sign(f->rsa, digest, sizeof digest, out, &n)))
        return rc;
    *len = n;
    return 0;
}

static void test_rsa_raw(void **state)
{
    uint8_t sig[512], digest[32];
    size_t n = sizeof sig;
    const fixture *f = *state;

    assert_true(sweep(f, "rsa_raw", op_rsa_raw) > 0);
    /* and what it makes verifies, raw, and only over that digest */
    for (size_t i = 0; i < sizeof digest; i++)
        digest[i] = (uint8_t)(0xa0 + i);
    assert_int_equal(vpn_sig_rsa_raw_sign(f->rsa, digest, sizeof digest, sig, &n), 0);
    assert_int_equal(n, 256);
    assert_int_equal(vpn_sig_rsa_raw_verify(f->rsa, digest, sizeof digest, sig, n), 0);
    digest[0] ^= 1;
    assert_int_equal(vpn_sig_rsa_raw_verify(f->rsa, digest, sizeof digest, sig, n), VPN_ERR_AUTH);
    /* an EC key is refused, as is too small a buffer */
    n = sizeof sig;
    assert_int_equal(vpn_sig_rsa_raw_sign(f->p256, digest, sizeof digest, sig, &n), VPN_ERR_INVAL);
    n = 100;
    assert_int_equal(vpn_sig_rsa_raw_sign(f->rsa, digest, sizeof digest, sig, &n), VPN_ERR_NOSPACE);
}


/*
 * f->rsa with a public exponent that does not fit its private one: every
 * signature it makes is wrong, as a faulty RSA-CRT signature is, and the
 * fault survives reloading the key from its DER. On this OpenSSL no single
 * allocation failure makes EVP_PKEY_sign return a wrong signature (the
 * sweep above), so this key is what reaches the sign-then-verify check.
 */
static vpn_sig_key *faulty_rsa(const fixture *f)
{
    static const char *const names[] = {
        OSSL_PKEY_PARAM_RSA_N,         OSSL_PKEY_PARAM_RSA_D,         OSSL_PKEY_PARAM_RSA_FACTOR1,
        OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_EXPONENT2,
        OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
    };
    BIGNUM *bn[7] = {0}, *e = BN_new();
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    EVP_PKEY *pk = NULL;
    vpn_sig_key *k = NULL;

    assert_non_null(e);
    assert_non_null(bld);
    assert_non_null(ctx);
    assert_int_equal(BN_set_word(e, 65539), 1); /* not the key's 65537 */
    assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e), 1);
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(EVP_PKEY_get_bn_param(vpn_sig_key_evp(f->rsa), names[i], &bn[i]), 1);
        assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, names[i], bn[i]), 1);
    }
    assert_non_null(params = OSSL_PARAM_BLD_to_param(bld));
    assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
    assert_int_equal(EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_KEYPAIR, params), 1);
    assert_int_equal(vpn_sig_key_from_evp(&k, pk), 0);
    EVP_PKEY_free(pk);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    for (size_t i = 0; i < 7; i++)
        BN_clear_free(bn[i]);
    BN_free(e);
    return k;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* A key whose signatures do not verify: no signature leaves, neither raw
 * (IKEv1, the GDOI KS) nor hashed (IKEv2 AUTH, GDOI rekeys, COOP); the
 * caller gets VPN_ERR_CRYPTO and a wiped buffer. */
static void test_rsa_faulty_key(void **state)
{
    const fixture *f = *state;
    vpn_sig_key *bad = faulty_rsa(f);
    uint8_t sig[512], digest[32], msg[100];
    size_t n = sizeof sig;
    vpn_sig_alg alg;

    for (size_t i = 0; i < sizeof digest; i++)
        digest[i] = (uint8_t)(0xa0 + i);
    memset(msg, 0x77, sizeof msg);
    memset(sig, 0xee, sizeof sig);
    assert_int_equal(vpn_sig_rsa_raw_sign(bad, digest, sizeof digest, sig, &n), VPN_ERR_CRYPTO);
    assert_true(all_zero(sig, sizeof sig));
    vpn_sig_alg_init(&alg, VPN_SIG_RSA_PKCS1, VPN_IKE_HASH_SHA2_256);
    n = sizeof sig;
    memset(sig, 0xee, sizeof sig);
    assert_int_equal(vpn_sig_sign(bad, &alg, &f->rng, msg, sizeof msg, sig, &n), VPN_ERR_CRYPTO);
    assert_true(all_zero(sig, sizeof sig));
    /* the sound key it was made from signs the same digest, verifiably */
    n = sizeof sig;
    assert_int_equal(vpn_sig_rsa_raw_sign(f->rsa, digest, sizeof digest, sig, &n), 0);
    assert_int_equal(vpn_sig_rsa_raw_verify(f->rsa, digest, sizeof digest, sig, n), 0);
    vpn_sig_key_del(bad);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    EVP_PKEY *pk;
    BIO *bio;
    char *p;
    long n;

    if (!f)
        return -1;
    *state = f;
    if (vpn_drbg_init(&f->drbg, "crypto-inject", 13))
        return -1;
    vpn_rng_init_drbg(&f->rng, &f->drbg);
    if ((pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)) == NULL ||
        vpn_sig_key_from_evp(&f->rsa, pk))
        return -1;
    EVP_PKEY_free(pk);
    if ((pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL ||
        vpn_sig_key_from_evp(&f->p256, pk))
        return -1;
    /* the same P-256 key as PKCS#8 PEM, for op_key_load */
    bio = BIO_new(BIO_s_mem());
    if (!bio || !PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL))
        return -1;
    n = BIO_get_mem_data(bio, &p);
    if (n <= 0 || (size_t)n > sizeof f->pem)
        return -1;
    memcpy(f->pem, p, (size_t)n);
    f->pem_len = (size_t)n;
    BIO_free(bio);
    EVP_PKEY_free(pk);
    if (vpn_cipher_new(&f->cbc_enc, VPN_ENCR_AES_CBC, 256, KEY, 32, true) ||
        vpn_dh_new(&f->dh_a, VPN_DH_ECP_256, &f->rng) || vpn_dh_new(&f->dh_b, VPN_DH_ECP_256, &f->rng))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    vpn_cipher_del(f->cbc_enc);
    vpn_dh_del(f->dh_a);
    vpn_dh_del(f->dh_b);
    vpn_sig_key_del(f->rsa);
    vpn_sig_key_del(f->p256);
    vpn_drbg_free(&f->drbg);
    free(f);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cipher),    cmocka_unit_test(test_cipher_kept),
        cmocka_unit_test(test_integ_prf), cmocka_unit_test(test_dh),
        cmocka_unit_test(test_sig),       cmocka_unit_test(test_eap_mschapv2),
        cmocka_unit_test(test_rsa_raw),    cmocka_unit_test(test_rsa_faulty_key),
    };

    /* before OpenSSL allocates anything */
    if (!CRYPTO_set_mem_functions(gate_malloc, gate_realloc, gate_free)) {
        fprintf(stderr, "cannot replace OpenSSL's allocator\n");
        return 1;
    }
    return cmocka_run_group_tests(tests, setup, teardown);
}
