#include "crypto/x509.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "common/vpn-err.h"

/* Deep enough for any IKE PKI; stops pathological chains early. */
#define X509_MAX_DEPTH 8

typedef struct san_entry {
    vpn_x509_san_type type;
    uint8_t *data; /* NUL-terminated copy */
    size_t len;
} san_entry;

struct vpn_x509 {
    X509 *x;
    uint8_t *der, *subject, *issuer;
    size_t der_len, subject_len, issuer_len;
    char *subject_text, *issuer_text, *serial_text;
    san_entry *sans;
    size_t n_sans;
};

struct vpn_x509_store {
    X509_STORE *st;
    X509 **certs; /* in the order added, for CERTREQ */
    uint8_t (*sha1)[20];
    size_t n, cap;
};

static int fail(int err)
{
    ERR_clear_error();
    return err;
}

/* Never prompts (certificates are not encrypted, but PEM may ask). */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/*
 * "C=US, O=Lab, CN=hub1": RFC 4514 escaping, but in X.500 order (most
 * significant first, as IOS and strongSwan print a DN) and with UTF-8
 * left as it is.
 */
static char *name_text(const X509_NAME *name)
{
    unsigned long flags = (XN_FLAG_RFC2253 & ~(XN_FLAG_DN_REV | XN_FLAG_SEP_MASK)) |
                          XN_FLAG_SEP_CPLUS_SPC;
    BIO *bio = BIO_new(BIO_s_mem());
    BUF_MEM *mem = NULL;
    char *out = NULL;

    flags &= ~(unsigned long)ASN1_STRFLGS_ESC_MSB;
    if (bio == NULL)
        return NULL;
    if (X509_NAME_print_ex(bio, name, 0, flags) >= 0 && BIO_get_mem_ptr(bio, &mem) > 0 &&
        (out = OPENSSL_malloc(mem->length + 1)) != NULL) {
        memcpy(out, mem->data, mem->length);
        out[mem->length] = '\0';
    }
    BIO_free(bio);
    return out;
}

static int name_der(const X509_NAME *name, uint8_t **out, size_t *len)
{
    unsigned char *p = NULL;
    int n = i2d_X509_NAME(name, &p);

    if (n <= 0)
        return VPN_ERR_NOMEM;
    *out = p;
    *len = (size_t)n;
    return 0;
}

static int collect_sans(vpn_x509 *c)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(c->x, NID_subject_alt_name, NULL, NULL);
    int n, rc = 0;

    if (gens == NULL)
        return 0; /* none (or unreadable: then nothing to match) */
    n = sk_GENERAL_NAME_num(gens);
    if (n > 0 && (c->sans = OPENSSL_zalloc(sizeof *c->sans * (size_t)n)) == NULL) {
        rc = VPN_ERR_NOMEM;
        goto out;
    }
    for (int i = 0; i < n; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        const ASN1_STRING *s;
        vpn_x509_san_type type;
        if (g->type == GEN_DNS) {
            type = VPN_X509_SAN_DNS;
            s = g->d.dNSName;
        } else if (g->type == GEN_EMAIL) {
            type = VPN_X509_SAN_EMAIL;
            s = g->d.rfc822Name;
        } else if (g->type == GEN_IPADD) {
            type = VPN_X509_SAN_IP;
            s = g->d.iPAddress;
            if (ASN1_STRING_length(s) != 4 && ASN1_STRING_length(s) != 16)
                continue;
        } else {
            continue;
        }
        size_t len = (size_t)ASN1_STRING_length(s);
        san_entry *e = &c->sans[c->n_sans];
        if ((e->data = OPENSSL_malloc(len + 1)) == NULL) {
            rc = VPN_ERR_NOMEM;
            goto out;
        }
        memcpy(e->data, ASN1_STRING_get0_data(s), len);
        e->data[len] = 0;
        e->len = len;
        e->type = type;
        c->n_sans++;
    }
out:
    GENERAL_NAMES_free(gens);
    return rc;
}

static char *serial_text(const X509 *x)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    char *out = NULL;

    if (hex != NULL) {
        size_t n = strlen(hex);
        if ((out = OPENSSL_malloc(n + 1)) != NULL)
            memcpy(out, hex, n + 1);
    }
    OPENSSL_free(hex);
    BN_free(bn);
    return out;
}

/* Takes ownership of x. */
static int wrap(vpn_x509 **out, X509 *x, const uint8_t *der, size_t der_len)
{
    vpn_x509 *c = OPENSSL_zalloc(sizeof *c);
    int rc = VPN_ERR_NOMEM;

    if (c == NULL) {
        X509_free(x);
        return VPN_ERR_NOMEM;
    }
    c->x = x;
    if (der != NULL) {
        if ((c->der = OPENSSL_memdup(der, der_len)) == NULL)
            goto bad;
        c->der_len = der_len;
    } else {
        unsigned char *p = NULL;
        int n = i2d_X509(x, &p);
        if (n <= 0)
            goto bad;
        c->der = p;
        c->der_len = (size_t)n;
    }
    if (name_der(X509_get_subject_name(x), &c->subject, &c->subject_len) != 0 ||
        name_der(X509_get_issuer_name(x), &c->issuer, &c->issuer_len) != 0 ||
        (c->subject_text = name_text(X509_get_subject_name(x))) == NULL ||
        (c->issuer_text = name_text(X509_get_issuer_name(x))) == NULL ||
        (c->serial_text = serial_text(x)) == NULL || (rc = collect_sans(c)) != 0)
        goto bad;
    *out = c;
    return 0;
bad:
    vpn_x509_del(c);
    return fail(rc ? rc : VPN_ERR_NOMEM);
}

int vpn_x509_load(vpn_x509 **out, const uint8_t *buf, size_t len)
{
    X509 *x = NULL;

    if (out == NULL)
        return VPN_ERR_INVAL;
    *out = NULL;
    if (buf == NULL || len == 0 || len > INT_MAX)
        return VPN_ERR_INVAL;
    if (buf[0] == 0x30) {
        /* DER: a Certificate SEQUENCE and nothing after it. */
        const unsigned char *p = buf;
        x = d2i_X509(NULL, &p, (long)len);
        if (x == NULL || p != buf + len) {
            X509_free(x);
            return fail(VPN_ERR_MALFORMED);
        }
        return wrap(out, x, buf, len);
    }
    BIO *bio = BIO_new_mem_buf(buf, (int)len);
    if (bio == NULL)
        return fail(VPN_ERR_NOMEM);
    x = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL);
    BIO_free(bio);
    if (x == NULL)
        return fail(VPN_ERR_MALFORMED);
    return wrap(out, x, NULL, 0);
}

int vpn_x509_key_load(vpn_sig_key **out, const uint8_t *buf, size_t len)
{
    return vpn_sig_key_load_private(out, buf, len);
}

void vpn_x509_del(vpn_x509 *c)
{
    if (c == NULL)
        return;
    X509_free(c->x);
    OPENSSL_free(c->der);
    OPENSSL_free(c->subject);
    OPENSSL_free(c->issuer);
    OPENSSL_free(c->subject_text);
    OPENSSL_free(c->issuer_text);
    OPENSSL_free(c->serial_text);
    for (size_t i = 0; i < c->n_sans; i++)
        OPENSSL_free(c->sans[i].data);
    OPENSSL_free(c->sans);
    OPENSSL_free(c);
}

const uint8_t *vpn_x509_der(const vpn_x509 *c, size_t *len)
{
    if (c == NULL)
        return NULL;
    if (len)
        *len = c->der_len;
    return c->der;
}

const uint8_t *vpn_x509_subject_der(const vpn_x509 *c, size_t *len)
{
    if (c == NULL)
        return NULL;
    if (len)
        *len = c->subject_len;
    return c->subject;
}

const uint8_t *vpn_x509_issuer_der(const vpn_x509 *c, size_t *len)
{
    if (c == NULL)
        return NULL;
    if (len)
        *len = c->issuer_len;
    return c->issuer;
}

const char *vpn_x509_subject_text(const vpn_x509 *c)
{
    return c ? c->subject_text : NULL;
}

const char *vpn_x509_issuer_text(const vpn_x509 *c)
{
    return c ? c->issuer_text : NULL;
}

const char *vpn_x509_serial_text(const vpn_x509 *c)
{
    return c ? c->serial_text : NULL;
}

/* Seconds from the epoch to t, without timegm (not in C11). */
static int asn1_to_time(const ASN1_TIME *t, time_t *out)
{
    ASN1_TIME *epoch = ASN1_TIME_set(NULL, 0);
    int days = 0, secs = 0, ok;

    ok = epoch != NULL && ASN1_TIME_diff(&days, &secs, epoch, t);
    ASN1_TIME_free(epoch);
    if (!ok)
        return fail(VPN_ERR_INVAL);
    *out = (time_t)days * 86400 + secs;
    return 0;
}

int vpn_x509_validity(const vpn_x509 *c, time_t *not_before, time_t *not_after)
{
    int rc;

    if (c == NULL)
        return VPN_ERR_INVAL;
    if (not_before && (rc = asn1_to_time(X509_get0_notBefore(c->x), not_before)) != 0)
        return rc;
    if (not_after && (rc = asn1_to_time(X509_get0_notAfter(c->x), not_after)) != 0)
        return rc;
    return 0;
}

size_t vpn_x509_san_count(const vpn_x509 *c)
{
    return c ? c->n_sans : 0;
}

int vpn_x509_san_get(const vpn_x509 *c, size_t i, vpn_x509_san *out)
{
    if (c == NULL || out == NULL)
        return VPN_ERR_INVAL;
    if (i >= c->n_sans)
        return VPN_ERR_NOTFOUND;
    out->type = c->sans[i].type;
    out->data = c->sans[i].data;
    out->len = c->sans[i].len;
    return 0;
}

int vpn_x509_pubkey(const vpn_x509 *c, vpn_sig_key **out)
{
    EVP_PKEY *pk;

    if (c == NULL || out == NULL)
        return VPN_ERR_INVAL;
    *out = NULL;
    if ((pk = X509_get0_pubkey(c->x)) == NULL)
        return fail(VPN_ERR_UNSUPPORTED);
    return vpn_sig_key_from_evp(out, pk);
}

bool vpn_x509_key_matches(const vpn_x509 *c, const vpn_sig_key *key)
{
    EVP_PKEY *pk;
    bool eq;

    if (c == NULL || key == NULL || (pk = X509_get0_pubkey(c->x)) == NULL) {
        ERR_clear_error();
        return false;
    }
    eq = EVP_PKEY_eq(pk, vpn_sig_key_evp(key)) == 1;
    ERR_clear_error();
    return eq;
}

static int spki_sha1(X509 *x, uint8_t out[20])
{
    unsigned char *der = NULL;
    unsigned int n = 0;
    int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
    int ok = len > 0 && EVP_Digest(der, (size_t)len, out, &n, EVP_sha1(), NULL) && n == 20;

    OPENSSL_free(der);
    return ok ? 0 : fail(VPN_ERR_CRYPTO);
}

int vpn_x509_spki_sha1(const vpn_x509 *c, uint8_t out[20])
{
    if (c == NULL || out == NULL)
        return VPN_ERR_INVAL;
    return spki_sha1(c->x, out);
}

/* ---- store ------------------------------------------------------------------- */

int vpn_x509_store_new(vpn_x509_store **out)
{
    vpn_x509_store *s;

    if (out == NULL)
        return VPN_ERR_INVAL;
    *out = NULL;
    if ((s = OPENSSL_zalloc(sizeof *s)) == NULL)
        return VPN_ERR_NOMEM;
    /* No lookup methods: nothing is ever read from files or directories. */
    if ((s->st = X509_STORE_new()) == NULL) {
        OPENSSL_free(s);
        return fail(VPN_ERR_NOMEM);
    }
    *out = s;
    return 0;
}

void vpn_x509_store_del(vpn_x509_store *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++)
        X509_free(s->certs[i]);
    OPENSSL_free(s->certs);
    OPENSSL_free(s->sha1);
    X509_STORE_free(s->st);
    OPENSSL_free(s);
}

int vpn_x509_store_add(vpn_x509_store *s, const vpn_x509 *ca)
{
    uint8_t h[20];
    int rc;

    if (s == NULL || ca == NULL)
        return VPN_ERR_INVAL;
    for (size_t i = 0; i < s->n; i++)
        if (X509_cmp(s->certs[i], ca->x) == 0)
            return 0;
    if ((rc = spki_sha1(ca->x, h)) != 0)
        return rc;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 4;
        X509 **certs = OPENSSL_realloc(s->certs, cap * sizeof *certs);
        if (certs == NULL)
            return VPN_ERR_NOMEM;
        s->certs = certs;
        uint8_t(*sha1)[20] = OPENSSL_realloc(s->sha1, cap * sizeof *sha1);
        if (sha1 == NULL)
            return VPN_ERR_NOMEM;
        s->sha1 = sha1;
        s->cap = cap;
    }
    /* X509_STORE_add_cert takes its own reference. */
    if (!X509_STORE_add_cert(s->st, ca->x) || !X509_up_ref(ca->x))
        return fail(VPN_ERR_NOMEM);
    s->certs[s->n] = ca->x;
    memcpy(s->sha1[s->n], h, 20);
    s->n++;
    return 0;
}

size_t vpn_x509_store_count(const vpn_x509_store *s)
{
    return s ? s->n : 0;
}

int vpn_x509_store_certreq(const vpn_x509_store *s, uint8_t *out, size_t cap, size_t *len)
{
    if (s == NULL || len == NULL || (out == NULL && s->n))
        return VPN_ERR_INVAL;
    if (cap < 20 * s->n)
        return VPN_ERR_NOSPACE;
    for (size_t i = 0; i < s->n; i++)
        memcpy(out + 20 * i, s->sha1[i], 20);
    *len = 20 * s->n;
    return 0;
}

bool vpn_x509_store_has_spki_sha1(const vpn_x509_store *s, const uint8_t sha1[20])
{
    if (s == NULL || sha1 == NULL)
        return false;
    for (size_t i = 0; i < s->n; i++)
        if (memcmp(s->sha1[i], sha1, 20) == 0)
            return true;
    return false;
}

/* ---- verification --------------------------------------------------------------- */

static vpn_x509_reason reason_of(int err)
{
    switch (err) {
    case X509_V_OK:
        return VPN_X509_OK;
    case X509_V_ERR_CERT_HAS_EXPIRED:
        return VPN_X509_EXPIRED;
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return VPN_X509_NOT_YET_VALID;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_CHAIN_TOO_LONG:
        return VPN_X509_UNKNOWN_CA;
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
    case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
        return VPN_X509_BAD_SIGNATURE;
    case X509_V_ERR_INVALID_CA:
    case X509_V_ERR_PATH_LENGTH_EXCEEDED:
    case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
        return VPN_X509_NOT_A_CA;
    default:
        return VPN_X509_OTHER;
    }
}

static const char *const reason_names[] = {
    "ok", "expired", "not yet valid", "unknown CA", "bad signature", "issuer is not a CA",
    "rejected",
};

int vpn_x509_verify(const vpn_x509_store *s, const vpn_x509 *leaf, const vpn_x509 *const *chain,
                    size_t n_chain, time_t at, vpn_x509_verdict *verdict)
{
    STACK_OF(X509) *untrusted = NULL;
    X509_STORE_CTX *ctx = NULL;
    X509_VERIFY_PARAM *param;
    vpn_x509_verdict v;
    int rc = VPN_ERR_NOMEM;

    memset(&v, 0, sizeof v);
    v.reason = VPN_X509_OTHER;
    if (verdict)
        *verdict = v;
    if (s == NULL || leaf == NULL || (chain == NULL && n_chain))
        return VPN_ERR_INVAL;
    if ((untrusted = sk_X509_new_null()) == NULL || (ctx = X509_STORE_CTX_new()) == NULL)
        goto out;
    for (size_t i = 0; i < n_chain; i++) {
        if (chain[i] == NULL) {
            rc = VPN_ERR_INVAL;
            goto out;
        }
        if (!sk_X509_push(untrusted, chain[i]->x)) /* borrowed: freed with sk_X509_free */
            goto out;
    }
    if (!X509_STORE_CTX_init(ctx, s->st, leaf->x, untrusted))
        goto out;
    param = X509_STORE_CTX_get0_param(ctx);
    /* The caller's clock, never the system's. */
    X509_VERIFY_PARAM_set_time(param, at);
    X509_VERIFY_PARAM_set_depth(param, X509_MAX_DEPTH);
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);

    if (X509_verify_cert(ctx) == 1) {
        v.reason = VPN_X509_OK;
        snprintf(v.text, sizeof v.text, "ok");
        rc = 0;
    } else {
        int err = X509_STORE_CTX_get_error(ctx);
        X509 *bad = X509_STORE_CTX_get_current_cert(ctx);
        char *who = bad ? name_text(X509_get_subject_name(bad)) : NULL;
        v.reason = reason_of(err);
        if (v.reason == VPN_X509_OK)
            v.reason = VPN_X509_OTHER; /* failed without saying why */
        v.depth = X509_STORE_CTX_get_error_depth(ctx);
        snprintf(v.text, sizeof v.text, "%s: %s (depth %d: %s)", reason_names[v.reason],
                 X509_verify_cert_error_string(err), v.depth, who ? who : "?");
        OPENSSL_free(who);
        rc = VPN_ERR_AUTH;
    }
out:
    if (verdict)
        *verdict = v;
    X509_STORE_CTX_free(ctx);
    sk_X509_free(untrusted);
    return rc == 0 ? 0 : fail(rc);
}
