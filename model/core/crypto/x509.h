/*
 * X.509 certificates for IKEv2 and GDOI authentication (RFC 5280 profile,
 * as RFC 4945 uses it): loading from memory, chain verification against a
 * trust store at a time the caller gives, and the pieces IKE needs (the
 * DER for a CERT payload, the subject for ID_DER_ASN1_DN, the
 * subjectAltNames for FQDN/RFC822/IP IDs, the public key for sig.h, and
 * the SPKI hash CERTREQ carries).
 *
 * The core does no file I/O and never reads the clock: certificates come
 * as bytes, verification time as an argument.
 */
#ifndef VPN_X509_H
#define VPN_X509_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "crypto/sig.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vpn_x509 vpn_x509;

/*
 * Loads one certificate from PEM (the first CERTIFICATE block) or DER
 * (exactly one Certificate, nothing after it). On success *out is owned
 * by the caller (vpn_x509_del).
 * Errors: VPN_ERR_INVAL (NULL, empty), VPN_ERR_MALFORMED, VPN_ERR_NOMEM.
 */
int vpn_x509_load(vpn_x509 **out, const uint8_t *buf, size_t len);

/*
 * Loads a private key from PEM or DER (PKCS#8 or the traditional RSA/EC
 * forms; not encrypted). The same as vpn_sig_key_load_private, here so
 * that a certificate and its key load from one header.
 */
int vpn_x509_key_load(vpn_sig_key **out, const uint8_t *buf, size_t len);

/* Frees. NULL is fine. */
void vpn_x509_del(vpn_x509 *c);

/*
 * Views into c, valid while c lives:
 *   der          the certificate (the CERT payload's data, encoding 4,
 *                RFC 7296 3.6); for DER input the bytes as given;
 *   subject_der  the subject Name, the data of an ID_DER_ASN1_DN ID
 *                (RFC 7296 3.5);
 *   issuer_der   the issuer Name.
 */
const uint8_t *vpn_x509_der(const vpn_x509 *c, size_t *len);
const uint8_t *vpn_x509_subject_der(const vpn_x509 *c, size_t *len);
const uint8_t *vpn_x509_issuer_der(const vpn_x509 *c, size_t *len);

/*
 * Names as text, most significant RDN first, "C=US, O=Lab, CN=hub1"
 * (RFC 4514 escaping, UTF-8 kept). NUL-terminated; owned by c.
 */
const char *vpn_x509_subject_text(const vpn_x509 *c);
const char *vpn_x509_issuer_text(const vpn_x509 *c);

/* Serial number in hex (upper case, no separators); owned by c. */
const char *vpn_x509_serial_text(const vpn_x509 *c);

/* notBefore and notAfter as Unix time. Errors: VPN_ERR_INVAL. */
int vpn_x509_validity(const vpn_x509 *c, time_t *not_before, time_t *not_after);

typedef enum vpn_x509_san_type {
    VPN_X509_SAN_DNS = 1,   /* dNSName: ID_FQDN */
    VPN_X509_SAN_EMAIL = 2, /* rfc822Name: ID_RFC822_ADDR */
    VPN_X509_SAN_IP = 3,    /* iPAddress: ID_IPV4_ADDR (4) / ID_IPV6_ADDR (16) */
} vpn_x509_san_type;

typedef struct vpn_x509_san {
    vpn_x509_san_type type;
    const uint8_t *data; /* DNS/email: ASCII, NUL-terminated for convenience */
    size_t len;          /* not counting that NUL; IP: 4 or 16 */
} vpn_x509_san;

/*
 * subjectAltName entries of the three types above, in certificate order
 * (other GeneralName types are skipped). Entries point into c.
 * vpn_x509_san_get errors: VPN_ERR_NOTFOUND (i out of range), VPN_ERR_INVAL.
 */
size_t vpn_x509_san_count(const vpn_x509 *c);
int vpn_x509_san_get(const vpn_x509 *c, size_t i, vpn_x509_san *out);

/*
 * The subject public key, for vpn_sig_verify / vpn_sig_auth_verify.
 * *out is a new object owned by the caller (vpn_sig_key_del).
 * Errors: VPN_ERR_INVAL, VPN_ERR_UNSUPPORTED (not RSA or P-256/384/521),
 * VPN_ERR_NOMEM.
 */
int vpn_x509_pubkey(const vpn_x509 *c, vpn_sig_key **out);

/* True if key (public or private) is the certificate's key. */
bool vpn_x509_key_matches(const vpn_x509 *c, const vpn_sig_key *key);

/*
 * SHA-1 of the DER SubjectPublicKeyInfo: what a CERTREQ payload lists for
 * each trusted CA (RFC 7296 3.7). Errors: VPN_ERR_INVAL, VPN_ERR_CRYPTO.
 */
int vpn_x509_spki_sha1(const vpn_x509 *c, uint8_t out[20]);

/* ---- trust store and chain verification ------------------------------------ */

typedef struct vpn_x509_store vpn_x509_store;

/* Errors: VPN_ERR_INVAL, VPN_ERR_NOMEM. *out is owned by the caller. */
int vpn_x509_store_new(vpn_x509_store **out);
void vpn_x509_store_del(vpn_x509_store *s);

/*
 * Adds a trusted certificate (root or intermediate CA). The store keeps
 * its own reference; the caller keeps ca. A certificate already present
 * is accepted again without change.
 * Errors: VPN_ERR_INVAL, VPN_ERR_NOMEM.
 */
int vpn_x509_store_add(vpn_x509_store *s, const vpn_x509 *ca);

size_t vpn_x509_store_count(const vpn_x509_store *s);

/*
 * The CERTREQ payload's Certification Authority data (RFC 7296 3.7): the
 * concatenated SHA-1 SPKI hashes of the trusted certificates, in the order
 * they were added. *len receives 20 * count.
 * Errors: VPN_ERR_INVAL, VPN_ERR_NOSPACE, VPN_ERR_CRYPTO.
 */
int vpn_x509_store_certreq(const vpn_x509_store *s, uint8_t *out, size_t cap, size_t *len);

/* True if a trusted certificate has this SPKI SHA-1 (a peer's CERTREQ). */
bool vpn_x509_store_has_spki_sha1(const vpn_x509_store *s, const uint8_t sha1[20]);

typedef enum vpn_x509_reason {
    VPN_X509_OK = 0,
    VPN_X509_EXPIRED,        /* some certificate's notAfter is before `at` */
    VPN_X509_NOT_YET_VALID,  /* some certificate's notBefore is after `at` */
    VPN_X509_UNKNOWN_CA,     /* no path to a trusted certificate */
    VPN_X509_BAD_SIGNATURE,  /* a certificate's signature does not verify */
    VPN_X509_NOT_A_CA,       /* an issuer is not allowed to issue (basicConstraints,
                                keyUsage, pathLenConstraint) */
    VPN_X509_OTHER,          /* anything else; see text */
} vpn_x509_reason;

typedef struct vpn_x509_verdict {
    vpn_x509_reason reason;
    int depth;      /* position in the chain of the failing certificate, 0 = leaf */
    char text[256]; /* "expired: certificate has expired (depth 0: CN=spoke1)" */
} vpn_x509_verdict;

/*
 * Verifies leaf against the store, with chain[0..n_chain) as untrusted
 * intermediates in any order (the peer's other CERT payloads), at time
 * `at`. Any certificate in the store is a trust anchor, intermediates
 * included (as an IOS trustpoint may hold a subordinate CA). No CRL or
 * OCSP checking; no extended key usage requirement (RFC 4945 5.1.3.12).
 * verdict (optional) says why on failure, and VPN_X509_OK on success.
 * Errors: VPN_ERR_AUTH (the chain does not verify), VPN_ERR_INVAL,
 * VPN_ERR_NOMEM.
 */
int vpn_x509_verify(const vpn_x509_store *s, const vpn_x509 *leaf, const vpn_x509 *const *chain,
                    size_t n_chain, time_t at, vpn_x509_verdict *verdict);

#ifdef __cplusplus
}
#endif

#endif
