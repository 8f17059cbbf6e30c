/*
 * A small PKI made at test time with OpenSSL, for IKEv2 tests with
 * certificates: X.509 v3 certificates (CA or end entity, with
 * subjectAltNames) and their conversion to the engine's types.
 * Header-only (static inline) like ikev2-pair.h.
 */
#ifndef VPN_TEST_IKEV2_PKI_H
#define VPN_TEST_IKEV2_PKI_H

#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/sig.h"
#include "crypto/x509.h"
#include "test-util.h"

typedef struct cert_spec {
    const char *cn;
    bool ca;
    time_t not_before, not_after;
    const char *san;   /* OpenSSL syntax, "DNS:a,IP:b,email:c"; NULL: none */
    long serial;
} cert_spec;

/* A certificate for key, signed by issuer_key (self-signed if issuer is NULL). */
static inline X509 *make_cert(const cert_spec *spec, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    X509V3_CTX v3;
    X509_EXTENSION *e;

    assert_non_null(x);
    X509_set_version(x, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(x), spec->serial);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"VPN Test Lab", -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)spec->cn, -1, -1, 0);
    X509_set_subject_name(x, name);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    ASN1_TIME_set(X509_getm_notBefore(x), spec->not_before);
    ASN1_TIME_set(X509_getm_notAfter(x), spec->not_after);
    X509_set_pubkey(x, key);
    X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
    e = X509V3_EXT_nconf_nid(NULL, &v3, NID_basic_constraints, spec->ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    e = X509V3_EXT_nconf_nid(NULL, &v3, NID_key_usage,
                             spec->ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    if (spec->san) {
        e = X509V3_EXT_nconf_nid(NULL, &v3, NID_subject_alt_name, spec->san);
        assert_non_null(e);
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    assert_true(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
    X509_NAME_free(name);
    return x;
}

static inline vpn_x509 *to_vpn(X509 *x)
{
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    vpn_x509 *c;
    assert_true(n > 0);
    assert_int_equal(vpn_x509_load(&c, der, (size_t)n), 0);
    OPENSSL_free(der);
    return c;
}

static inline vpn_sig_key *key_of(EVP_PKEY *k)
{
    vpn_sig_key *s;
    assert_int_equal(vpn_sig_key_from_evp(&s, k), 0);
    return s;
}

#endif
