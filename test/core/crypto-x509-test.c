/*
 * X.509: a small PKI made at test time with OpenSSL's C API (a root CA, an
 * intermediate, RSA and ECDSA leaves, plus the bad cases), then chain
 * verification at chosen times, the extracted fields, and hostile input.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/rng.h"
#include "common/vpn-err.h"
#include "crypto/sig.h"
#include "crypto/x509.h"
#include "test-util.h"

/* 2023-11-14 22:13:20 UTC: every validity period is set around it. */
#define T0 ((time_t)1700000000)
#define DAY ((time_t)86400)

typedef struct cert_spec {
    const char *cn;
    bool ca;
    time_t not_before, not_after;
    const char *san; /* OpenSSL's subjectAltName syntax, or NULL */
    long serial;
} cert_spec;

/* Makes a certificate for key, signed by issuer_key as issuer (NULL: self). */
static X509 *make_cert(const cert_spec *spec, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    X509V3_CTX v3;

    assert_non_null(x);
    assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
    assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), spec->serial), 1);
    assert_int_equal(X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC, (const unsigned char *)"US",
                                                -1, -1, 0),
                     1);
    assert_int_equal(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                                (const unsigned char *)"VPN Test Lab", -1, -1, 0),
                     1);
    assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                                (const unsigned char *)spec->cn, -1, -1, 0),
                     1);
    assert_int_equal(X509_set_subject_name(x, name), 1);
    assert_int_equal(X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name), 1);
    assert_non_null(ASN1_TIME_set(X509_getm_notBefore(x), spec->not_before));
    assert_non_null(ASN1_TIME_set(X509_getm_notAfter(x), spec->not_after));
    assert_int_equal(X509_set_pubkey(x, key), 1);

    X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
    const char *bc = spec->ca ? "critical,CA:TRUE" : "critical,CA:FALSE";
    const char *ku = spec->ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature";
    X509_EXTENSION *e = X509V3_EXT_nconf_nid(NULL, &v3, NID_basic_constraints, bc);
    assert_non_null(e);
    assert_int_equal(X509_add_ext(x, e, -1), 1);
    X509_EXTENSION_free(e);
    e = X509V3_EXT_nconf_nid(NULL, &v3, NID_key_usage, ku);
    assert_int_equal(X509_add_ext(x, e, -1), 1);
    X509_EXTENSION_free(e);
    if (spec->san) {
        e = X509V3_EXT_nconf_nid(NULL, &v3, NID_subject_alt_name, spec->san);
        assert_non_null(e);
        assert_int_equal(X509_add_ext(x, e, -1), 1);
        X509_EXTENSION_free(e);
    }
    assert_true(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
    X509_NAME_free(name);
    return x;
}

static vpn_x509 *load_der(X509 *x)
{
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    vpn_x509 *c;

    assert_true(n > 0);
    assert_int_equal(vpn_x509_load(&c, der, (size_t)n), 0);
    OPENSSL_free(der);
    return c;
}

static uint8_t *pem_cert(X509 *x, size_t *len)
{
    BIO *b = BIO_new(BIO_s_mem());
    BUF_MEM *mem;
    uint8_t *out;

    assert_int_equal(PEM_write_bio_X509(b, x), 1);
    BIO_get_mem_ptr(b, &mem);
    out = malloc(mem->length);
    memcpy(out, mem->data, mem->length);
    *len = mem->length;
    BIO_free(b);
    return out;
}

/* The PKI, made once (RSA key generation is the slow part). */
typedef struct pki {
    EVP_PKEY *root_key, *int_key, *rsa_key, *ec_key, *other_key;
    X509 *root_x, *int_x, *rsa_x, *ec_x, *other_root_x, *forged_x, *expired_x, *by_leaf_x,
        *self_x;
    vpn_x509 *root, *inter, *rsa, *ec, *other_root, *forged, *expired, *by_leaf, *self;
} pki;

static int pki_setup(void **state)
{
    pki *p = calloc(1, sizeof *p);
    const time_t ten_years = 3650 * DAY, year = 365 * DAY;

    p->root_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    p->int_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    p->rsa_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    p->ec_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    p->other_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

    cert_spec root = {"Lab Root CA", true, T0 - DAY, T0 + ten_years, NULL, 1};
    cert_spec inter = {"Lab Issuing CA", true, T0 - DAY, T0 + ten_years, NULL, 2};
    cert_spec rsa = {"hub1.example.net", false, T0, T0 + year,
                     "DNS:hub1.example.net,email:noc@example.net,IP:192.0.2.1,IP:2001:db8::1", 3};
    cert_spec ec = {"spoke1.example.net", false, T0, T0 + year,
                    "DNS:spoke1.example.net,URI:https://example.net/,DNS:spoke1.lab", 4};
    cert_spec other = {"Lab Root CA", true, T0 - DAY, T0 + ten_years, NULL, 5};
    cert_spec forged = {"forged.example.net", false, T0, T0 + year, NULL, 6};
    cert_spec expired = {"old.example.net", false, T0 - 2 * year, T0 - year, NULL, 7};
    cert_spec by_leaf = {"grandchild.example.net", false, T0, T0 + year, NULL, 8};
    cert_spec self = {"self.example.net", false, T0, T0 + year, NULL, 9};

    p->root_x = make_cert(&root, p->root_key, NULL, NULL);
    p->int_x = make_cert(&inter, p->int_key, p->root_x, p->root_key);
    p->rsa_x = make_cert(&rsa, p->rsa_key, p->int_x, p->int_key);
    p->ec_x = make_cert(&ec, p->ec_key, p->int_x, p->int_key);
    /* Another root with the same name but its own key. */
    p->other_root_x = make_cert(&other, p->other_key, NULL, NULL);
    /* Names the issuing CA as issuer, signed by an unrelated key. */
    p->forged_x = make_cert(&forged, p->ec_key, p->int_x, p->other_key);
    p->expired_x = make_cert(&expired, p->ec_key, p->int_x, p->int_key);
    /* Issued by a leaf (CA:FALSE). */
    p->by_leaf_x = make_cert(&by_leaf, p->other_key, p->rsa_x, p->rsa_key);
    p->self_x = make_cert(&self, p->other_key, NULL, NULL);

    p->root = load_der(p->root_x);
    p->inter = load_der(p->int_x);
    p->rsa = load_der(p->rsa_x);
    p->ec = load_der(p->ec_x);
    p->other_root = load_der(p->other_root_x);
    p->forged = load_der(p->forged_x);
    p->expired = load_der(p->expired_x);
    p->by_leaf = load_der(p->by_leaf_x);
    p->self = load_der(p->self_x);
    *state = p;
    return 0;
}

static int pki_teardown(void **state)
{
    pki *p = *state;
    vpn_x509 *c[] = {p->root, p->inter, p->rsa, p->ec, p->other_root, p->forged, p->expired,
                     p->by_leaf, p->self};
    X509 *x[] = {p->root_x, p->int_x, p->rsa_x, p->ec_x, p->other_root_x, p->forged_x,
                 p->expired_x, p->by_leaf_x, p->self_x};
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        vpn_x509_del(c[i]);
        X509_free(x[i]);
    }
    EVP_PKEY_free(p->root_key);
    EVP_PKEY_free(p->int_key);
    EVP_PKEY_free(p->rsa_key);
    EVP_PKEY_free(p->ec_key);
    EVP_PKEY_free(p->other_key);
    free(p);
    return 0;
}

static vpn_x509_store *store_of(vpn_x509 *ca)
{
    vpn_x509_store *s;
    assert_int_equal(vpn_x509_store_new(&s), 0);
    assert_int_equal(vpn_x509_store_add(s, ca), 0);
    return s;
}

/* Verifies and checks the outcome; returns the verdict text for logging. */
static void expect(const vpn_x509_store *s, const vpn_x509 *leaf, const vpn_x509 *const *chain,
                   size_t n, time_t at, vpn_x509_reason want, int want_depth)
{
    vpn_x509_verdict v;
    int rc = vpn_x509_verify(s, leaf, chain, n, at, &v);

    if (v.reason != want)
        fail_msg("reason %d, want %d: %s", v.reason, want, v.text);
    assert_int_equal(rc, want == VPN_X509_OK ? 0 : VPN_ERR_AUTH);
    if (want != VPN_X509_OK) {
        assert_int_equal(v.depth, want_depth);
        assert_true(strlen(v.text) > 10);
    } else {
        assert_string_equal(v.text, "ok");
    }
}

/* ---- chains --------------------------------------------------------------------- */

static void test_good_chains(void **state)
{
    pki *p = *state;
    vpn_x509_store *s = store_of(p->root);
    const vpn_x509 *chain[] = {p->inter};
    const time_t at = T0 + 30 * DAY;

    expect(s, p->rsa, chain, 1, at, VPN_X509_OK, 0);
    expect(s, p->ec, chain, 1, at, VPN_X509_OK, 0);
    /* The intermediate itself, and the root alone. */
    expect(s, p->inter, NULL, 0, at, VPN_X509_OK, 0);
    expect(s, p->root, NULL, 0, at, VPN_X509_OK, 0);
    /* Extra, irrelevant intermediates do no harm; order does not matter. */
    const vpn_x509 *noisy[] = {p->other_root, p->inter, p->ec};
    expect(s, p->rsa, noisy, 3, at, VPN_X509_OK, 0);
    /* The first second of validity, and the last but one (OpenSSL counts
     * the notAfter second itself as expired). */
    expect(s, p->rsa, chain, 1, T0, VPN_X509_OK, 0);
    expect(s, p->rsa, chain, 1, T0 + 365 * DAY - 1, VPN_X509_OK, 0);
    vpn_x509_store_del(s);

    /* An intermediate in the store is a trust anchor by itself. */
    s = store_of(p->inter);
    expect(s, p->ec, NULL, 0, at, VPN_X509_OK, 0);
    vpn_x509_store_del(s);
}

static void test_unknown_ca(void **state)
{
    pki *p = *state;
    const vpn_x509 *chain[] = {p->inter};
    const time_t at = T0 + 30 * DAY;
    vpn_x509_store *s = store_of(p->other_root);

    /* Same root name, different key: no path. */
    expect(s, p->rsa, chain, 1, at, VPN_X509_UNKNOWN_CA, 1);
    vpn_x509_store_del(s);
    /* The right root, the intermediate missing. */
    s = store_of(p->root);
    expect(s, p->rsa, NULL, 0, at, VPN_X509_UNKNOWN_CA, 0);
    /* A self-signed certificate nobody trusts. */
    expect(s, p->self, NULL, 0, at, VPN_X509_UNKNOWN_CA, 0);
    vpn_x509_store_del(s);
    /* An empty store trusts nothing. */
    assert_int_equal(vpn_x509_store_new(&s), 0);
    expect(s, p->root, NULL, 0, at, VPN_X509_UNKNOWN_CA, 0);
    vpn_x509_store_del(s);
}

static void test_validity_time(void **state)
{
    pki *p = *state;
    const vpn_x509 *chain[] = {p->inter};
    vpn_x509_store *s = store_of(p->root);

    /* The leaf has expired a second after its notAfter ... */
    expect(s, p->rsa, chain, 1, T0 + 365 * DAY + 1, VPN_X509_EXPIRED, 0);
    /* ... and is not yet valid a second before its notBefore. */
    expect(s, p->rsa, chain, 1, T0 - 1, VPN_X509_NOT_YET_VALID, 0);
    /* A certificate that expired last year, checked today. */
    expect(s, p->expired, chain, 1, T0, VPN_X509_EXPIRED, 0);
    /* Checked back when it was valid, the CAs (from T0 - 1 day) were not
     * yet: the chain is checked from the anchor down, so the root is the
     * one reported. */
    expect(s, p->expired, chain, 1, T0 - 400 * DAY, VPN_X509_NOT_YET_VALID, 2);
    /* Far in the future everything has expired; again the root first. */
    expect(s, p->ec, chain, 1, T0 + 20 * 365 * DAY, VPN_X509_EXPIRED, 2);
    /* Half a day before the leaf's notBefore the CAs are valid: the leaf
     * is the one named. */
    expect(s, p->ec, chain, 1, T0 - DAY / 2, VPN_X509_NOT_YET_VALID, 0);
    vpn_x509_store_del(s);
}

static void test_bad_signature_and_not_ca(void **state)
{
    pki *p = *state;
    const vpn_x509 *chain[] = {p->inter};
    const vpn_x509 *chain2[] = {p->rsa, p->inter};
    const time_t at = T0 + 30 * DAY;
    vpn_x509_store *s = store_of(p->root);

    expect(s, p->forged, chain, 1, at, VPN_X509_BAD_SIGNATURE, 0);
    expect(s, p->by_leaf, chain2, 2, at, VPN_X509_NOT_A_CA, 1);

    /* Tampered certificate bytes: one bit of the leaf's signature. */
    size_t len;
    const uint8_t *der = vpn_x509_der(p->ec, &len);
    uint8_t *copy = malloc(len);
    vpn_x509 *t;
    memcpy(copy, der, len);
    copy[len - 3] ^= 0x01;
    assert_int_equal(vpn_x509_load(&t, copy, len), 0);
    expect(s, t, chain, 1, at, VPN_X509_BAD_SIGNATURE, 0);
    vpn_x509_del(t);
    free(copy);
    vpn_x509_store_del(s);
}

/* ---- fields ----------------------------------------------------------------------- */

static void test_fields(void **state)
{
    pki *p = *state;
    size_t len;
    unsigned char *want = NULL;

    /* DER of the certificate and of the subject, as OpenSSL encodes them. */
    int n = i2d_X509(p->rsa_x, &want);
    const uint8_t *der = vpn_x509_der(p->rsa, &len);
    assert_int_equal(len, (size_t)n);
    assert_memory_equal(der, want, len);
    OPENSSL_free(want);
    want = NULL;
    n = i2d_X509_NAME(X509_get_subject_name(p->rsa_x), &want);
    const uint8_t *subj = vpn_x509_subject_der(p->rsa, &len);
    assert_int_equal(len, (size_t)n);
    assert_memory_equal(subj, want, len);
    OPENSSL_free(want);
    /* The subject is SEQUENCE OF RDN: C, O, CN in that order. */
    assert_int_equal(subj[0], 0x30);
    const uint8_t *iss = vpn_x509_issuer_der(p->rsa, &len);
    size_t il;
    assert_memory_equal(iss, vpn_x509_subject_der(p->inter, &il), len);
    assert_int_equal(len, il);

    assert_string_equal(vpn_x509_subject_text(p->rsa), "C=US, O=VPN Test Lab, CN=hub1.example.net");
    assert_string_equal(vpn_x509_issuer_text(p->rsa), "C=US, O=VPN Test Lab, CN=Lab Issuing CA");
    assert_string_equal(vpn_x509_serial_text(p->rsa), "03");

    time_t nb, na;
    assert_int_equal(vpn_x509_validity(p->rsa, &nb, &na), 0);
    assert_int_equal(nb, T0);
    assert_int_equal(na, T0 + 365 * DAY);

    /* subjectAltNames: DNS, email, IPv4, IPv6, in order. */
    vpn_x509_san san;
    assert_int_equal(vpn_x509_san_count(p->rsa), 4);
    assert_int_equal(vpn_x509_san_get(p->rsa, 0, &san), 0);
    assert_int_equal(san.type, VPN_X509_SAN_DNS);
    assert_int_equal(san.len, strlen("hub1.example.net"));
    assert_string_equal((const char *)san.data, "hub1.example.net");
    assert_int_equal(vpn_x509_san_get(p->rsa, 1, &san), 0);
    assert_int_equal(san.type, VPN_X509_SAN_EMAIL);
    assert_string_equal((const char *)san.data, "noc@example.net");
    assert_int_equal(vpn_x509_san_get(p->rsa, 2, &san), 0);
    assert_int_equal(san.type, VPN_X509_SAN_IP);
    tu_assert_hex(san.data, san.len, "c0000201");
    assert_int_equal(vpn_x509_san_get(p->rsa, 3, &san), 0);
    assert_int_equal(san.type, VPN_X509_SAN_IP);
    tu_assert_hex(san.data, san.len, "20010db8000000000000000000000001");
    assert_int_equal(vpn_x509_san_get(p->rsa, 4, &san), VPN_ERR_NOTFOUND);
    /* The URI between two DNS names is skipped. */
    assert_int_equal(vpn_x509_san_count(p->ec), 2);
    assert_int_equal(vpn_x509_san_get(p->ec, 1, &san), 0);
    assert_string_equal((const char *)san.data, "spoke1.lab");
    assert_int_equal(vpn_x509_san_count(p->root), 0);

    /* PEM gives the same certificate. */
    size_t pl;
    uint8_t *pem = pem_cert(p->ec_x, &pl);
    vpn_x509 *c;
    assert_int_equal(vpn_x509_load(&c, pem, pl), 0);
    const uint8_t *a = vpn_x509_der(c, &len);
    const uint8_t *b = vpn_x509_der(p->ec, &il);
    assert_int_equal(len, il);
    assert_memory_equal(a, b, len);
    vpn_x509_del(c);
    free(pem);

    /* SPKI SHA-1 (CERTREQ): SHA-1 over the DER SubjectPublicKeyInfo. */
    uint8_t h[20], w[20];
    unsigned char *spki = NULL;
    unsigned int hl = 0;
    n = i2d_PUBKEY(p->int_key, &spki);
    assert_true(EVP_Digest(spki, (size_t)n, w, &hl, EVP_sha1(), NULL));
    OPENSSL_free(spki);
    assert_int_equal(vpn_x509_spki_sha1(p->inter, h), 0);
    assert_memory_equal(h, w, 20);
}

static void test_keys(void **state)
{
    pki *p = *state;
    vpn_sig_key *pub, *priv;
    unsigned char *der = NULL;
    int n;

    /* The RSA leaf: private key from PEM, public from the certificate. */
    BIO *b = BIO_new(BIO_s_mem());
    BUF_MEM *mem;
    assert_int_equal(PEM_write_bio_PrivateKey(b, p->rsa_key, NULL, NULL, 0, NULL, NULL), 1);
    BIO_get_mem_ptr(b, &mem);
    assert_int_equal(vpn_x509_key_load(&priv, (const uint8_t *)mem->data, mem->length), 0);
    BIO_free(b);
    assert_int_equal(vpn_x509_pubkey(p->rsa, &pub), 0);
    assert_int_equal(vpn_sig_key_type_of(pub), VPN_SIG_KEY_RSA);
    assert_false(vpn_sig_key_is_private(pub));
    assert_true(vpn_x509_key_matches(p->rsa, priv));
    assert_true(vpn_x509_key_matches(p->rsa, pub));
    assert_false(vpn_x509_key_matches(p->ec, priv));

    vpn_drbg d;
    vpn_rng rng;
    vpn_sig_alg alg;
    uint8_t auth[400];
    vpn_wr w;
    assert_int_equal(vpn_drbg_init(&d, "x509 keys", 9), 0);
    vpn_rng_init_drbg(&rng, &d);
    vpn_sig_alg_init(&alg, VPN_SIG_RSA_PSS, VPN_IKE_HASH_SHA2_256);
    vpn_wr_init(&w, auth, sizeof auth);
    assert_int_equal(vpn_sig_auth_sign(priv, VPN_AUTH_METHOD_DIGITAL_SIG, &alg, &rng,
                                       (const uint8_t *)"octets", 6, &w),
                     0);
    assert_int_equal(vpn_sig_auth_verify(pub, VPN_AUTH_METHOD_DIGITAL_SIG, auth, vpn_wr_len(&w),
                                         (const uint8_t *)"octets", 6, NULL),
                     0);
    vpn_sig_key_del(pub);
    vpn_sig_key_del(priv);

    /* The ECDSA leaf: DER private key, RFC 4754 method 9. */
    n = i2d_PrivateKey(p->ec_key, &der);
    assert_int_equal(vpn_x509_key_load(&priv, der, (size_t)n), 0);
    OPENSSL_free(der);
    assert_int_equal(vpn_x509_pubkey(p->ec, &pub), 0);
    assert_int_equal(vpn_sig_key_type_of(pub), VPN_SIG_KEY_EC_P256);
    vpn_wr_init(&w, auth, sizeof auth);
    assert_int_equal(vpn_sig_auth_sign(priv, VPN_AUTH_METHOD_ECDSA_256, NULL, &rng,
                                       (const uint8_t *)"octets", 6, &w),
                     0);
    assert_int_equal(vpn_sig_auth_verify(pub, VPN_AUTH_METHOD_ECDSA_256, auth, vpn_wr_len(&w),
                                         (const uint8_t *)"octets", 6, NULL),
                     0);
    /* The intermediate's key did not sign it. */
    vpn_sig_key *ik;
    assert_int_equal(vpn_x509_pubkey(p->inter, &ik), 0);
    assert_int_equal(vpn_sig_key_type_of(ik), VPN_SIG_KEY_EC_P384);
    assert_int_equal(vpn_sig_auth_verify(ik, VPN_AUTH_METHOD_ECDSA_256, auth, vpn_wr_len(&w),
                                         (const uint8_t *)"octets", 6, NULL),
                     VPN_ERR_POLICY);
    vpn_sig_key_del(ik);
    vpn_sig_key_del(pub);
    vpn_sig_key_del(priv);
}

static void test_store(void **state)
{
    pki *p = *state;
    vpn_x509_store *s;
    uint8_t req[60], h[20];
    size_t len;

    assert_int_equal(vpn_x509_store_new(&s), 0);
    assert_int_equal(vpn_x509_store_count(s), 0);
    assert_int_equal(vpn_x509_store_certreq(s, req, sizeof req, &len), 0);
    assert_int_equal(len, 0);
    assert_int_equal(vpn_x509_store_add(s, p->root), 0);
    assert_int_equal(vpn_x509_store_add(s, p->inter), 0);
    assert_int_equal(vpn_x509_store_add(s, p->root), 0); /* again: no change */
    assert_int_equal(vpn_x509_store_count(s), 2);
    assert_int_equal(vpn_x509_store_certreq(s, req, sizeof req, &len), 0);
    assert_int_equal(len, 40);
    assert_int_equal(vpn_x509_spki_sha1(p->root, h), 0);
    assert_memory_equal(req, h, 20);
    assert_true(vpn_x509_store_has_spki_sha1(s, h));
    assert_int_equal(vpn_x509_spki_sha1(p->inter, h), 0);
    assert_memory_equal(req + 20, h, 20);
    assert_int_equal(vpn_x509_spki_sha1(p->other_root, h), 0);
    assert_false(vpn_x509_store_has_spki_sha1(s, h));
    assert_int_equal(vpn_x509_store_certreq(s, req, 39, &len), VPN_ERR_NOSPACE);
    /* The store keeps its own references. */
    vpn_x509 *c = load_der(p->root_x);
    vpn_x509_store *s2 = store_of(c);
    vpn_x509_del(c);
    expect(s2, p->inter, NULL, 0, T0, VPN_X509_OK, 0);
    vpn_x509_store_del(s2);
    vpn_x509_store_del(s);
    vpn_x509_store_del(NULL);
}

/* ---- hostile input ---------------------------------------------------------------- */

static void test_garbage(void **state)
{
    pki *p = *state;
    vpn_x509 *c = (vpn_x509 *)p; /* must come back NULL */
    size_t len;
    const uint8_t *der = vpn_x509_der(p->rsa, &len);

    assert_int_equal(vpn_x509_load(&c, (const uint8_t *)"", 0), VPN_ERR_INVAL);
    assert_null(c);
    assert_int_equal(vpn_x509_load(&c, (const uint8_t *)"garbage", 7), VPN_ERR_MALFORMED);
    assert_int_equal(vpn_x509_load(&c, (const uint8_t *)"\x30\x03\x02\x01\x00", 5),
                     VPN_ERR_MALFORMED);
    static const char bad_pem[] =
        "-----BEGIN CERTIFICATE-----\nMIIBAAAAAAAAAAAA\n-----END CERTIFICATE-----\n";
    assert_int_equal(vpn_x509_load(&c, (const uint8_t *)bad_pem, sizeof bad_pem - 1),
                     VPN_ERR_MALFORMED);
    /* Every truncation of a good certificate fails cleanly. */
    for (size_t cut = 1; cut < len; cut += (cut < 64 ? 1 : 17)) {
        assert_int_equal(vpn_x509_load(&c, der, cut), VPN_ERR_MALFORMED);
        assert_null(c);
    }
    /* Trailing bytes after the certificate. */
    uint8_t *longer = malloc(len + 2);
    memcpy(longer, der, len);
    longer[len] = 0x05;
    longer[len + 1] = 0x00;
    assert_int_equal(vpn_x509_load(&c, longer, len + 2), VPN_ERR_MALFORMED);
    /* Random bytes behind a SEQUENCE tag, and bit flips of the header. */
    vpn_drbg d;
    assert_int_equal(vpn_drbg_init(&d, "x509 fuzz", 9), 0);
    for (int i = 0; i < 300; i++) {
        uint8_t buf[200];
        assert_int_equal(vpn_drbg_generate(&d, buf, sizeof buf), 0);
        buf[0] = 0x30;
        int rc = vpn_x509_load(&c, buf, 1 + (size_t)i % 199);
        assert_int_equal(rc, VPN_ERR_MALFORMED);
    }
    for (size_t bit = 0; bit < 64; bit++) {
        memcpy(longer, der, len);
        longer[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        int rc = vpn_x509_load(&c, longer, len);
        assert_true(rc == 0 || rc == VPN_ERR_MALFORMED);
        vpn_x509_del(c);
    }
    free(longer);
    /* Bad arguments. */
    vpn_x509_verdict v;
    assert_int_equal(vpn_x509_verify(NULL, p->rsa, NULL, 0, T0, &v), VPN_ERR_INVAL);
    assert_int_equal(v.reason, VPN_X509_OTHER);
    vpn_x509_store *s = store_of(p->root);
    const vpn_x509 *holes[] = {NULL};
    assert_int_equal(vpn_x509_verify(s, p->rsa, holes, 1, T0, NULL), VPN_ERR_INVAL);
    assert_int_equal(vpn_x509_verify(s, p->rsa, NULL, 1, T0, NULL), VPN_ERR_INVAL);
    vpn_x509_store_del(s);
    vpn_x509_del(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_chains),
        cmocka_unit_test(test_unknown_ca),
        cmocka_unit_test(test_validity_time),
        cmocka_unit_test(test_bad_signature_and_not_ca),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_store),
        cmocka_unit_test(test_garbage),
    };
    return cmocka_run_group_tests(tests, pki_setup, pki_teardown);
}
