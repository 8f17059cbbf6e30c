/*
 * Signatures. OpenSSL verifies everything and signs PKCS#1 v1.5 (which
 * needs no randomness). PSS and ECDSA are done here so that no signing
 * randomness comes from anywhere but the injected vpn_rng (PSS) or the key
 * and message themselves (ECDSA):
 *
 *  - RSASSA-PSS: EMSA-PSS-ENCODE (RFC 8017 9.1.1) with a salt drawn from
 *    the vpn_rng, then OpenSSL's raw RSA private operation (RSA_NO_PADDING;
 *    OpenSSL still blinds it and checks the result).
 *  - ECDSA: the nonce k is derived deterministically from the private key
 *    and the message hash (RFC 6979 3.2, HMAC_DRBG with the message's hash),
 *    then r = x(kG) mod n and s = k^-1 (e + r d) mod n (FIPS 186-4 6.4)
 *    with OpenSSL's BN/EC primitives: the scalar multiplication by G is
 *    OpenSSL's constant-time one, k^-1 is taken by Fermat with the
 *    constant-time modular exponentiation, and the products with d are
 *    Montgomery multiplications. No randomness is drawn, so a weak or
 *    replayed vpn_rng stream cannot reuse a nonce and leak the key.
 *
 * OpenSSL 3.2 can do RFC 6979 itself (OSSL_SIGNATURE_PARAM_NONCE_TYPE);
 * the OpenSSL 3.0 this builds on cannot, hence the derivation here. The
 * alternative of overriding OpenSSL's global RAND method while signing was
 * rejected: it is process-global state (the core has none).
 * Randomness OpenSSL still draws from its own DRBG: the RSA blinding
 * factor of every RSA private operation (PSS and PKCS#1 v1.5 signing).
 */
#include "crypto/sig.h"
#include "crypto/ossl-err.h"

#include "crypto/hmac.h"

#include <limits.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "common/vpn-err.h"

#define SIG_MAX_TRIES 64
#define SIG_MAX_HASH 64

struct vpn_sig_key {
    EVP_PKEY *pkey;
    vpn_sig_key_type type;
    int evp_id;  /* EVP_PKEY_RSA, EVP_PKEY_RSA_PSS or EVP_PKEY_EC */
    int nid;     /* EC curve */
    unsigned bits;
    bool priv;
};

static int fail(int err)
{
    ERR_clear_error();
    return err;
}

/* ---- hashes --------------------------------------------------------------- */

static const EVP_MD *hash_md(uint8_t hash)
{
    switch (hash) {
    case VPN_IKE_HASH_SHA1: return EVP_sha1();
    case VPN_IKE_HASH_SHA2_256: return EVP_sha256();
    case VPN_IKE_HASH_SHA2_384: return EVP_sha384();
    case VPN_IKE_HASH_SHA2_512: return EVP_sha512();
    default: return NULL;
    }
}

size_t vpn_sig_hash_len(uint8_t hash)
{
    switch (hash) {
    case VPN_IKE_HASH_SHA1: return 20;
    case VPN_IKE_HASH_SHA2_256: return 32;
    case VPN_IKE_HASH_SHA2_384: return 48;
    case VPN_IKE_HASH_SHA2_512: return 64;
    default: return 0;
    }
}

/* ---- keys ------------------------------------------------------------------ */

/* 1: the key has the parameter, 0: it has not, or VPN_ERR_NOMEM. */
static int has_bn_param(const EVP_PKEY *pkey, const char *name)
{
    for (int i = 0; i < 2; i++) {
        BIGNUM *bn = NULL;
        bool ok;

        ERR_clear_error();
        ok = EVP_PKEY_get_bn_param(pkey, name, &bn) == 1 && bn != NULL;
        BN_clear_free(bn);
        if (ok)
            return 1;
        if (vpn_ossl_nomem_pending(NULL))
            return VPN_ERR_NOMEM;
        /* "absent" may be an allocation failure nobody queued: the
         * answer of a second look is the right one (ossl-err.h) */
    }
    return 0;
}

int vpn_sig_key_from_evp(vpn_sig_key **out, struct evp_pkey_st *pkey)
{
    vpn_sig_key *k;
    int id, nid = NID_undef;
    vpn_sig_key_type type;
    bool priv;
    int has;

    if (out == NULL || pkey == NULL)
        return VPN_ERR_INVAL;
    *out = NULL;
    id = EVP_PKEY_get_base_id(pkey);
    if (id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS) {
        /* Below 1024 bits RSA is no authentication at all. */
        if (EVP_PKEY_get_bits(pkey) < 1024)
            return VPN_ERR_UNSUPPORTED;
        type = VPN_SIG_KEY_RSA;
        if ((has = has_bn_param(pkey, OSSL_PKEY_PARAM_RSA_D)) < 0)
            return has;
        priv = has == 1;
    } else if (id == EVP_PKEY_EC) {
        char name[64];
        ERR_clear_error();
        if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name,
                                            NULL))
            return vpn_ossl_nomem_pending(NULL) ? VPN_ERR_NOMEM : VPN_ERR_UNSUPPORTED;
        nid = OBJ_sn2nid(name);
        if (nid == NID_undef)
            nid = EC_curve_nist2nid(name);
        if (nid == NID_X9_62_prime256v1)
            type = VPN_SIG_KEY_EC_P256;
        else if (nid == NID_secp384r1)
            type = VPN_SIG_KEY_EC_P384;
        else if (nid == NID_secp521r1)
            type = VPN_SIG_KEY_EC_P521;
        else
            return fail(VPN_ERR_UNSUPPORTED);
        if ((has = has_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY)) < 0)
            return has;
        priv = has == 1;
    } else {
        return VPN_ERR_UNSUPPORTED;
    }
    if ((k = OPENSSL_zalloc(sizeof *k)) == NULL)
        return VPN_ERR_NOMEM;
    if (!EVP_PKEY_up_ref(pkey)) {
        OPENSSL_free(k);
        return fail(VPN_ERR_CRYPTO);
    }
    k->pkey = pkey;
    k->type = type;
    k->evp_id = id;
    k->nid = nid;
    k->bits = (unsigned)EVP_PKEY_get_bits(pkey);
    k->priv = priv;
    *out = k;
    return 0;
}

/* Never prompts: an encrypted key simply fails to load. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/* DER starts with a SEQUENCE tag; anything else is taken for PEM text. */
static bool looks_der(const uint8_t *buf, size_t len)
{
    return len > 0 && buf[0] == 0x30;
}

/* One decoding: 0 with *pkey set, VPN_ERR_MALFORMED, VPN_ERR_NOMEM. */
static int decode_once(const uint8_t *buf, size_t len, bool priv, EVP_PKEY **pkey)
{
    *pkey = NULL;
    ERR_clear_error(); /* a NULL key below may be an allocation failure (ossl-err.h) */
    if (looks_der(buf, len)) {
        const unsigned char *p = buf;
        *pkey = priv ? d2i_AutoPrivateKey(NULL, &p, (long)len) : d2i_PUBKEY(NULL, &p, (long)len);
        if (*pkey != NULL && p != buf + len) {
            EVP_PKEY_free(*pkey);
            *pkey = NULL;
            return fail(VPN_ERR_MALFORMED);
        }
    } else {
        BIO *bio = BIO_new_mem_buf(buf, (int)len);
        if (bio == NULL)
            return fail(VPN_ERR_NOMEM);
        *pkey = priv ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL)
                     : PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
        BIO_free(bio);
    }
    if (*pkey == NULL)
        return vpn_ossl_nomem_pending(NULL) ? VPN_ERR_NOMEM : VPN_ERR_MALFORMED;
    return 0;
}

static int key_load(vpn_sig_key **out, const uint8_t *buf, size_t len, bool priv)
{
    EVP_PKEY *pkey = NULL;
    int rc;

    if (out == NULL)
        return VPN_ERR_INVAL;
    *out = NULL;
    if (buf == NULL || len == 0 || len > INT_MAX)
        return VPN_ERR_INVAL;
    /* OpenSSL's decoders can say "nothing decodes this" for an allocation
     * failure of their own, with no malloc failure queued
     * (crypto-inject-fail): decoding is deterministic, so a second try's
     * answer is the right one (keys are loaded rarely: the cost is nil) */
    if ((rc = decode_once(buf, len, priv, &pkey)) == VPN_ERR_MALFORMED)
        rc = decode_once(buf, len, priv, &pkey);
    if (rc != 0)
        return rc;
    rc = vpn_sig_key_from_evp(out, pkey);
    EVP_PKEY_free(pkey);
    if (rc == 0 && priv && !(*out)->priv) {
        vpn_sig_key_del(*out);
        *out = NULL;
        rc = VPN_ERR_MALFORMED;
    }
    return rc == 0 ? 0 : fail(rc);
}

int vpn_sig_key_load_private(vpn_sig_key **out, const uint8_t *buf, size_t len)
{
    return key_load(out, buf, len, true);
}

int vpn_sig_key_load_public(vpn_sig_key **out, const uint8_t *buf, size_t len)
{
    return key_load(out, buf, len, false);
}

struct evp_pkey_st *vpn_sig_key_evp(const vpn_sig_key *k)
{
    return k ? k->pkey : NULL;
}

void vpn_sig_key_del(vpn_sig_key *k)
{
    if (k == NULL)
        return;
    EVP_PKEY_free(k->pkey);
    OPENSSL_clear_free(k, sizeof *k);
}

vpn_sig_key_type vpn_sig_key_type_of(const vpn_sig_key *k)
{
    return k ? k->type : (vpn_sig_key_type)0;
}

unsigned vpn_sig_key_bits(const vpn_sig_key *k)
{
    return k ? k->bits : 0;
}

bool vpn_sig_key_is_private(const vpn_sig_key *k)
{
    return k && k->priv;
}

bool vpn_sig_key_equal(const vpn_sig_key *a, const vpn_sig_key *b)
{
    bool eq;

    if (a == NULL || b == NULL)
        return false;
    eq = EVP_PKEY_eq(a->pkey, b->pkey) == 1;
    ERR_clear_error();
    return eq;
}

/* Field (and order) byte length of an EC key's curve: 32, 48, 66. */
static size_t ec_field_len(vpn_sig_key_type t)
{
    switch (t) {
    case VPN_SIG_KEY_EC_P256: return 32;
    case VPN_SIG_KEY_EC_P384: return 48;
    case VPN_SIG_KEY_EC_P521: return 66;
    default: return 0;
    }
}

/* Largest DER Ecdsa-Sig-Value for a field length (both INTEGERs with a
 * leading zero octet). */
static size_t ecdsa_der_max(size_t flen)
{
    size_t body = 2 * (2 + flen + 1);
    return body + (body < 0x80 ? 2 : 3);
}

size_t vpn_sig_max_len(const vpn_sig_key *k)
{
    if (k == NULL)
        return 0;
    if (k->type == VPN_SIG_KEY_RSA)
        return (size_t)EVP_PKEY_get_size(k->pkey);
    return ecdsa_der_max(ec_field_len(k->type));
}

/* ---- DER: the few shapes we read and write ----------------------------------- */

#define DER_INTEGER 0x02
#define DER_NULL 0x05
#define DER_OID 0x06
#define DER_SEQUENCE 0x30
#define DER_CTX(n) (0xA0 | (n)) /* [n] EXPLICIT, constructed */

/*
 * Reads a tag and a definite, minimally encoded length (X.690 8.1.3,
 * 10.1) and hands the value over as a sub-reader. Lengths above 0xFFFF
 * are refused: nothing we parse is that long.
 */
static int der_read(vpn_rd *r, uint8_t tag, vpn_rd *body)
{
    uint8_t t = 0, l0 = 0, v8 = 0;
    uint16_t v16 = 0;
    size_t len = 0;

    vpn_rd_u8(r, &t);
    vpn_rd_u8(r, &l0);
    if (!vpn_rd_err(r) && t != tag)
        vpn_rd_fail(r, VPN_ERR_MALFORMED);
    if (!vpn_rd_err(r)) {
        if (l0 < 0x80) {
            len = l0;
        } else if (l0 == 0x81) {
            if (vpn_rd_u8(r, &v8) == 0 && v8 < 0x80)
                vpn_rd_fail(r, VPN_ERR_MALFORMED);
            len = v8;
        } else if (l0 == 0x82) {
            if (vpn_rd_u16(r, &v16) == 0 && v16 < 0x100)
                vpn_rd_fail(r, VPN_ERR_MALFORMED);
            len = v16;
        } else {
            /* 0x80 is BER's indefinite length, not DER. */
            vpn_rd_fail(r, VPN_ERR_MALFORMED);
        }
    }
    /* On failure body is an empty reader carrying the error. */
    return vpn_rd_sub(r, body, vpn_rd_err(r) ? 0 : len) ? vpn_rd_err(r) : 0;
}

/* The next tag, without consuming it; 0 at the end. */
static uint8_t der_peek(const vpn_rd *r)
{
    return vpn_rd_left(r) ? vpn_rd_cur(r)[0] : 0;
}

static int der_write_hdr(vpn_wr *w, uint8_t tag, size_t len)
{
    vpn_wr_u8(w, tag);
    if (len < 0x80) {
        vpn_wr_u8(w, (uint8_t)len);
    } else if (len <= 0xff) {
        vpn_wr_u8(w, 0x81);
        vpn_wr_u8(w, (uint8_t)len);
    } else if (len <= 0xffff) {
        vpn_wr_u8(w, 0x82);
        vpn_wr_u16(w, (uint16_t)len);
    } else {
        return VPN_ERR_OVERFLOW;
    }
    return vpn_wr_err(w);
}

static int der_write(vpn_wr *w, uint8_t tag, const uint8_t *val, size_t len)
{
    int rc = der_write_hdr(w, tag, len);
    return rc ? rc : vpn_wr_bytes(w, val, len);
}

/*
 * A small non-negative INTEGER (X.690 8.3): minimal, not negative.
 */
static int der_read_uint(vpn_rd *r, uint32_t max, uint32_t *out)
{
    vpn_rd v;
    const uint8_t *p;
    uint32_t x = 0;
    size_t n;
    int rc;

    *out = 0;
    if ((rc = der_read(r, DER_INTEGER, &v)) != 0)
        return rc;
    n = vpn_rd_left(&v);
    if (n == 0 || n > 4 || vpn_rd_view(&v, &p, n) != 0)
        return vpn_rd_fail(r, VPN_ERR_MALFORMED);
    if ((p[0] & 0x80) || (n > 1 && p[0] == 0 && !(p[1] & 0x80)))
        return vpn_rd_fail(r, VPN_ERR_MALFORMED);
    for (size_t i = 0; i < n; i++)
        x = x << 8 | p[i];
    if (x > max)
        return vpn_rd_fail(r, VPN_ERR_UNSUPPORTED);
    *out = x;
    return 0;
}

static int der_write_uint(vpn_wr *w, uint32_t x)
{
    uint8_t b[5];
    size_t n = 0;

    for (int shift = 24; shift >= 0; shift -= 8) {
        uint8_t octet = (uint8_t)(x >> shift);
        if (n == 0 && octet == 0 && shift > 0)
            continue;
        if (n == 0 && (octet & 0x80))
            b[n++] = 0;
        b[n++] = octet;
    }
    return der_write(w, DER_INTEGER, b, n);
}

/* OID contents (X.690 8.19), as RFC 3279, RFC 4055, RFC 5758 give them. */
static const uint8_t oid_sha1[] = {0x2b, 0x0e, 0x03, 0x02, 0x1a};
static const uint8_t oid_sha256[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01};
static const uint8_t oid_sha384[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02};
static const uint8_t oid_sha512[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03};
static const uint8_t oid_mgf1[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08};
static const uint8_t oid_pss[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a};

typedef struct oid_entry {
    const uint8_t *oid;
    size_t len;
    uint8_t scheme, hash;
} oid_entry;

/* Signature algorithm OIDs: {1.2.840.113549.1.1.x}, {1.2.840.10045.4.x}. */
static const uint8_t oid_rsa_sha1[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05};
static const uint8_t oid_rsa_sha256[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b};
static const uint8_t oid_rsa_sha384[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c};
static const uint8_t oid_rsa_sha512[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d};
static const uint8_t oid_ecdsa_sha1[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01};
static const uint8_t oid_ecdsa_sha256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
static const uint8_t oid_ecdsa_sha384[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03};
static const uint8_t oid_ecdsa_sha512[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04};

#define OID(x) x, sizeof x
static const oid_entry sig_oids[] = {
    {OID(oid_rsa_sha1), VPN_SIG_RSA_PKCS1, VPN_IKE_HASH_SHA1},
    {OID(oid_rsa_sha256), VPN_SIG_RSA_PKCS1, VPN_IKE_HASH_SHA2_256},
    {OID(oid_rsa_sha384), VPN_SIG_RSA_PKCS1, VPN_IKE_HASH_SHA2_384},
    {OID(oid_rsa_sha512), VPN_SIG_RSA_PKCS1, VPN_IKE_HASH_SHA2_512},
    {OID(oid_ecdsa_sha1), VPN_SIG_ECDSA, VPN_IKE_HASH_SHA1},
    {OID(oid_ecdsa_sha256), VPN_SIG_ECDSA, VPN_IKE_HASH_SHA2_256},
    {OID(oid_ecdsa_sha384), VPN_SIG_ECDSA, VPN_IKE_HASH_SHA2_384},
    {OID(oid_ecdsa_sha512), VPN_SIG_ECDSA, VPN_IKE_HASH_SHA2_512},
    {OID(oid_pss), VPN_SIG_RSA_PSS, 0},
};
static const oid_entry hash_oids[] = {
    {OID(oid_sha1), 0, VPN_IKE_HASH_SHA1},
    {OID(oid_sha256), 0, VPN_IKE_HASH_SHA2_256},
    {OID(oid_sha384), 0, VPN_IKE_HASH_SHA2_384},
    {OID(oid_sha512), 0, VPN_IKE_HASH_SHA2_512},
};
#undef OID

static const oid_entry *oid_find(const oid_entry *t, size_t n, const uint8_t *oid, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].len == len && memcmp(t[i].oid, oid, len) == 0)
            return &t[i];
    return NULL;
}

static const oid_entry *oid_by_alg(const oid_entry *t, size_t n, uint8_t scheme, uint8_t hash)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].scheme == scheme && t[i].hash == hash)
            return &t[i];
    return NULL;
}

/* Reads "OID [NULL]" to the end of r: absent or NULL parameters. */
static int read_oid_null_params(vpn_rd *r, const uint8_t **oid, size_t *oid_len)
{
    vpn_rd o, nul;
    int rc;

    if ((rc = der_read(r, DER_OID, &o)) != 0)
        return rc;
    *oid_len = vpn_rd_left(&o);
    vpn_rd_view(&o, oid, *oid_len);
    if (vpn_rd_left(r)) {
        if ((rc = der_read(r, DER_NULL, &nul)) != 0)
            return rc;
        if (vpn_rd_left(&nul))
            return vpn_rd_fail(r, VPN_ERR_MALFORMED);
    }
    return vpn_rd_expect_end(r);
}

/* HashAlgorithm ::= AlgorithmIdentifier (RFC 4055 3.1, 2.1). */
static int read_hash_algid(vpn_rd *r, uint8_t *hash)
{
    vpn_rd seq;
    const uint8_t *oid = NULL;
    size_t len = 0;
    const oid_entry *e;
    int rc;

    if ((rc = der_read(r, DER_SEQUENCE, &seq)) != 0)
        return rc;
    if ((rc = read_oid_null_params(&seq, &oid, &len)) != 0)
        return vpn_rd_fail(r, rc);
    if ((e = oid_find(hash_oids, sizeof hash_oids / sizeof hash_oids[0], oid, len)) == NULL)
        return vpn_rd_fail(r, VPN_ERR_UNSUPPORTED);
    *hash = e->hash;
    return 0;
}

static int write_hash_algid(vpn_wr *w, uint8_t hash)
{
    const oid_entry *e = oid_by_alg(hash_oids, sizeof hash_oids / sizeof hash_oids[0], 0, hash);
    uint8_t buf[16];
    vpn_wr in;

    if (e == NULL)
        return VPN_ERR_UNSUPPORTED;
    vpn_wr_init(&in, buf, sizeof buf);
    der_write(&in, DER_OID, e->oid, e->len);
    der_write(&in, DER_NULL, NULL, 0);
    if (vpn_wr_err(&in))
        return vpn_wr_err(&in);
    return der_write(w, DER_SEQUENCE, buf, vpn_wr_len(&in));
}

/*
 * RSASSA-PSS-params (RFC 4055 3.1, RFC 8017 A.2.3):
 *   hashAlgorithm    [0] HashAlgorithm    DEFAULT sha1,
 *   maskGenAlgorithm [1] MaskGenAlgorithm DEFAULT mgf1SHA1,
 *   saltLength       [2] INTEGER          DEFAULT 20,
 *   trailerField     [3] TrailerField     DEFAULT trailerFieldBC (1)
 */
static int read_pss_params(vpn_rd *r, vpn_sig_alg *alg)
{
    vpn_rd seq, f, mgf, o;
    const uint8_t *oid = NULL;
    uint32_t v = 0;
    int rc;

    alg->hash = VPN_IKE_HASH_SHA1;
    alg->mgf1_hash = VPN_IKE_HASH_SHA1;
    alg->salt_len = 20;
    if ((rc = der_read(r, DER_SEQUENCE, &seq)) != 0)
        return rc;
    if (der_peek(&seq) == DER_CTX(0) &&
        ((rc = der_read(&seq, DER_CTX(0), &f)) != 0 ||
         (rc = read_hash_algid(&f, &alg->hash)) != 0 || (rc = vpn_rd_expect_end(&f)) != 0))
        return vpn_rd_fail(r, rc);
    if (der_peek(&seq) == DER_CTX(1)) {
        /* MaskGenAlgorithm: id-mgf1 with a HashAlgorithm parameter. */
        if ((rc = der_read(&seq, DER_CTX(1), &f)) != 0 ||
            (rc = der_read(&f, DER_SEQUENCE, &mgf)) != 0 || (rc = der_read(&mgf, DER_OID, &o)) != 0)
            return vpn_rd_fail(r, rc);
        if (vpn_rd_left(&o) != sizeof oid_mgf1 || vpn_rd_view(&o, &oid, sizeof oid_mgf1) != 0 ||
            memcmp(oid, oid_mgf1, sizeof oid_mgf1) != 0)
            return vpn_rd_fail(r, VPN_ERR_UNSUPPORTED);
        if ((rc = read_hash_algid(&mgf, &alg->mgf1_hash)) != 0 ||
            (rc = vpn_rd_expect_end(&mgf)) != 0 || (rc = vpn_rd_expect_end(&f)) != 0)
            return vpn_rd_fail(r, rc);
    }
    if (der_peek(&seq) == DER_CTX(2)) {
        if ((rc = der_read(&seq, DER_CTX(2), &f)) != 0 ||
            (rc = der_read_uint(&f, 0xffff, &v)) != 0 || (rc = vpn_rd_expect_end(&f)) != 0)
            return vpn_rd_fail(r, rc);
        alg->salt_len = (uint16_t)v;
    }
    if (der_peek(&seq) == DER_CTX(3)) {
        if ((rc = der_read(&seq, DER_CTX(3), &f)) != 0 || (rc = der_read_uint(&f, 0xff, &v)) != 0 ||
            (rc = vpn_rd_expect_end(&f)) != 0)
            return vpn_rd_fail(r, rc);
        /* Only trailerFieldBC (0xBC) exists (RFC 8017 A.2.3). */
        if (v != 1)
            return vpn_rd_fail(r, VPN_ERR_UNSUPPORTED);
    }
    if ((rc = vpn_rd_expect_end(&seq)) != 0)
        return vpn_rd_fail(r, rc);
    return 0;
}

static int write_pss_params(vpn_wr *w, const vpn_sig_alg *alg)
{
    uint8_t buf[96], tmp[48], mgf[40];
    vpn_wr in, t, m;

    vpn_wr_init(&in, buf, sizeof buf);
    /* DER leaves out fields at their DEFAULT (X.690 11.5). */
    if (alg->hash != VPN_IKE_HASH_SHA1) {
        vpn_wr_init(&t, tmp, sizeof tmp);
        if (write_hash_algid(&t, alg->hash) != 0)
            return VPN_ERR_UNSUPPORTED;
        der_write(&in, DER_CTX(0), tmp, vpn_wr_len(&t));
    }
    if (alg->mgf1_hash != VPN_IKE_HASH_SHA1) {
        vpn_wr_init(&m, mgf, sizeof mgf);
        der_write(&m, DER_OID, oid_mgf1, sizeof oid_mgf1);
        if (write_hash_algid(&m, alg->mgf1_hash) != 0)
            return VPN_ERR_UNSUPPORTED;
        vpn_wr_init(&t, tmp, sizeof tmp);
        der_write(&t, DER_SEQUENCE, mgf, vpn_wr_len(&m));
        der_write(&in, DER_CTX(1), tmp, vpn_wr_len(&t));
    }
    if (alg->salt_len != 20) {
        vpn_wr_init(&t, tmp, sizeof tmp);
        der_write_uint(&t, alg->salt_len);
        der_write(&in, DER_CTX(2), tmp, vpn_wr_len(&t));
    }
    if (vpn_wr_err(&in))
        return vpn_wr_err(&in);
    return der_write(w, DER_SEQUENCE, buf, vpn_wr_len(&in));
}

int vpn_sig_alg_init(vpn_sig_alg *alg, vpn_sig_scheme scheme, uint8_t hash)
{
    if (alg == NULL)
        return VPN_ERR_INVAL;
    memset(alg, 0, sizeof *alg);
    if (scheme != VPN_SIG_RSA_PKCS1 && scheme != VPN_SIG_RSA_PSS && scheme != VPN_SIG_ECDSA)
        return VPN_ERR_UNSUPPORTED;
    if (vpn_sig_hash_len(hash) == 0)
        return VPN_ERR_UNSUPPORTED;
    alg->scheme = (uint8_t)scheme;
    alg->hash = hash;
    if (scheme == VPN_SIG_RSA_PSS) {
        alg->mgf1_hash = hash;
        alg->salt_len = (uint16_t)vpn_sig_hash_len(hash);
    }
    return 0;
}

/* AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL } */
int vpn_sig_algid_write(vpn_wr *w, const vpn_sig_alg *alg)
{
    uint8_t buf[128];
    vpn_wr in;
    const oid_entry *e;
    int rc;

    if (w == NULL || alg == NULL)
        return VPN_ERR_INVAL;
    vpn_wr_init(&in, buf, sizeof buf);
    if (alg->scheme == VPN_SIG_RSA_PSS) {
        if (vpn_sig_hash_len(alg->hash) == 0 || vpn_sig_hash_len(alg->mgf1_hash) == 0)
            return VPN_ERR_UNSUPPORTED;
        der_write(&in, DER_OID, oid_pss, sizeof oid_pss);
        if ((rc = write_pss_params(&in, alg)) != 0)
            return rc;
    } else {
        e = oid_by_alg(sig_oids, sizeof sig_oids / sizeof sig_oids[0], alg->scheme, alg->hash);
        if (e == NULL)
            return VPN_ERR_UNSUPPORTED;
        der_write(&in, DER_OID, e->oid, e->len);
        /* RSA: NULL parameters (RFC 4055 5); ECDSA: none (RFC 5758 3.2). */
        if (alg->scheme == VPN_SIG_RSA_PKCS1)
            der_write(&in, DER_NULL, NULL, 0);
    }
    if (vpn_wr_err(&in))
        return vpn_wr_err(&in);
    return der_write(w, DER_SEQUENCE, buf, vpn_wr_len(&in));
}

int vpn_sig_algid_read(vpn_rd *r, vpn_sig_alg *alg)
{
    vpn_rd seq, o, nul;
    const uint8_t *oid = NULL;
    size_t len;
    const oid_entry *e;
    vpn_sig_alg a;
    int rc;

    if (r == NULL || alg == NULL)
        return VPN_ERR_INVAL;
    memset(alg, 0, sizeof *alg);
    memset(&a, 0, sizeof a);
    if ((rc = der_read(r, DER_SEQUENCE, &seq)) != 0)
        return rc;
    if ((rc = der_read(&seq, DER_OID, &o)) != 0)
        return vpn_rd_fail(r, rc);
    len = vpn_rd_left(&o);
    vpn_rd_view(&o, &oid, len);
    /* Anything not listed, DSA (RFC 7427 A.2) included, is refused. */
    if ((e = oid_find(sig_oids, sizeof sig_oids / sizeof sig_oids[0], oid, len)) == NULL)
        return vpn_rd_fail(r, VPN_ERR_UNSUPPORTED);
    a.scheme = e->scheme;
    a.hash = e->hash;
    if (e->scheme == VPN_SIG_RSA_PSS) {
        /* Parameters are required in a signature AlgorithmIdentifier
         * (RFC 4055 3.1). */
        if (vpn_rd_left(&seq) == 0)
            return vpn_rd_fail(r, VPN_ERR_MALFORMED);
        if ((rc = read_pss_params(&seq, &a)) != 0)
            return vpn_rd_fail(r, rc);
    } else if (vpn_rd_left(&seq)) {
        /* Absent or NULL: RFC 4055 5 wants NULL for RSA, RFC 5758 3.2
         * absent for ECDSA; both appear in the wild. */
        if (der_read(&seq, DER_NULL, &nul) != 0 || vpn_rd_left(&nul))
            return vpn_rd_fail(r, VPN_ERR_MALFORMED);
    }
    if (vpn_rd_expect_end(&seq) != 0)
        return vpn_rd_fail(r, VPN_ERR_MALFORMED);
    *alg = a;
    return 0;
}

/* ---- ECDSA signature encodings ------------------------------------------------ */

/* One INTEGER of Ecdsa-Sig-Value into out[flen], left-padded. */
static int ecdsa_read_int(vpn_rd *r, uint8_t *out, size_t flen)
{
    vpn_rd v;
    const uint8_t *p = NULL;
    size_t n;

    int rc;

    if ((rc = der_read(r, DER_INTEGER, &v)) != 0)
        return rc;
    n = vpn_rd_left(&v);
    vpn_rd_view(&v, &p, n);
    if (n == 0 || (p[0] & 0x80))
        return vpn_rd_fail(r, VPN_ERR_MALFORMED); /* empty or negative */
    if (n > 1 && p[0] == 0) {
        if (!(p[1] & 0x80))
            return vpn_rd_fail(r, VPN_ERR_MALFORMED); /* not minimal */
        p++;
        n--;
    }
    if (n > flen || (n == 1 && p[0] == 0))
        return vpn_rd_fail(r, VPN_ERR_MALFORMED); /* too big, or zero */
    memset(out, 0, flen - n);
    memcpy(out + flen - n, p, n);
    return 0;
}

int vpn_sig_ecdsa_der_to_rs(const uint8_t *der, size_t der_len, size_t field_len, uint8_t *rs,
                            size_t rs_cap, size_t *rs_len)
{
    vpn_rd r, seq;
    int rc;

    if (der == NULL || rs == NULL || rs_len == NULL || field_len == 0 || field_len > 66)
        return VPN_ERR_INVAL;
    if (rs_cap < 2 * field_len)
        return VPN_ERR_NOSPACE;
    vpn_rd_init(&r, der, der_len);
    if ((rc = der_read(&r, DER_SEQUENCE, &seq)) != 0)
        return rc;
    if ((rc = ecdsa_read_int(&seq, rs, field_len)) != 0 ||
        (rc = ecdsa_read_int(&seq, rs + field_len, field_len)) != 0 ||
        (rc = vpn_rd_expect_end(&seq)) != 0 || (rc = vpn_rd_expect_end(&r)) != 0) {
        OPENSSL_cleanse(rs, 2 * field_len);
        return rc == VPN_ERR_TRUNCATED ? rc : VPN_ERR_MALFORMED;
    }
    *rs_len = 2 * field_len;
    return 0;
}

static int ecdsa_write_int(vpn_wr *w, const uint8_t *p, size_t n)
{
    while (n > 0 && p[0] == 0) {
        p++;
        n--;
    }
    if (n == 0)
        return VPN_ERR_MALFORMED; /* r and s are never zero */
    der_write_hdr(w, DER_INTEGER, n + (p[0] & 0x80 ? 1 : 0));
    if (p[0] & 0x80)
        vpn_wr_u8(w, 0);
    return vpn_wr_bytes(w, p, n);
}

int vpn_sig_ecdsa_rs_to_der(const uint8_t *rs, size_t rs_len, uint8_t *der, size_t der_cap,
                            size_t *der_len)
{
    uint8_t body[2 * (2 + 67)];
    vpn_wr b, w;
    size_t half = rs_len / 2;
    int rc;

    if (rs == NULL || der == NULL || der_len == NULL)
        return VPN_ERR_INVAL;
    if (rs_len == 0 || rs_len % 2 || half > 66)
        return VPN_ERR_MALFORMED;
    vpn_wr_init(&b, body, sizeof body);
    if ((rc = ecdsa_write_int(&b, rs, half)) != 0 ||
        (rc = ecdsa_write_int(&b, rs + half, half)) != 0)
        return rc;
    vpn_wr_init(&w, der, der_cap);
    if ((rc = der_write(&w, DER_SEQUENCE, body, vpn_wr_len(&b))) != 0)
        return rc;
    *der_len = vpn_wr_len(&w);
    return 0;
}

/* ---- signing ------------------------------------------------------------------ */

static int digest(uint8_t hash, const uint8_t *msg, size_t len, uint8_t *out, size_t *out_len)
{
    unsigned int n = 0;

    if (!EVP_Digest(msg, len, out, &n, hash_md(hash), NULL))
        return fail(VPN_ERR_CRYPTO);
    *out_len = n;
    return 0;
}

/* MGF1 (RFC 8017 B.2.1): XORs the mask of length len into buf. */
static int mgf1_xor(uint8_t hash, const uint8_t *seed, size_t seed_len, uint8_t *buf, size_t len)
{
    const EVP_MD *md = hash_md(hash);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t t[SIG_MAX_HASH], c[4];
    unsigned int hl = 0;
    int rc = VPN_ERR_CRYPTO;

    if (ctx == NULL)
        return VPN_ERR_NOMEM;
    for (uint32_t counter = 0, done = 0; done < len; counter++) {
        vpn_store32(c, counter);
        if (!EVP_DigestInit_ex(ctx, md, NULL) || !EVP_DigestUpdate(ctx, seed, seed_len) ||
            !EVP_DigestUpdate(ctx, c, 4) || !EVP_DigestFinal_ex(ctx, t, &hl))
            goto out;
        for (unsigned int i = 0; i < hl && done < len; i++)
            buf[done++] ^= t[i];
    }
    rc = 0;
out:
    OPENSSL_cleanse(t, sizeof t);
    EVP_MD_CTX_free(ctx);
    return rc == 0 ? 0 : fail(rc);
}

/* RSASSA-PSS-SIGN (RFC 8017 8.1.1) with EMSA-PSS-ENCODE (9.1.1). */
static int pss_sign(const vpn_sig_key *key, const vpn_sig_alg *alg, const vpn_rng *rng,
                    const uint8_t *msg, size_t msg_len, uint8_t *sig, size_t *sig_len)
{
    size_t mod_bits = key->bits, k = (mod_bits + 7) / 8;
    size_t em_bits = mod_bits - 1, em_len = (em_bits + 7) / 8;
    size_t h_len = vpn_sig_hash_len(alg->hash), s_len = alg->salt_len;
    uint8_t mhash[SIG_MAX_HASH], h[SIG_MAX_HASH], *em = NULL, *salt;
    EVP_MD_CTX *mctx = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    static const uint8_t zeros[8];
    size_t n, out_len;
    int rc;

    if (vpn_sig_hash_len(alg->mgf1_hash) == 0)
        return VPN_ERR_UNSUPPORTED;
    /* Step 3: emLen >= hLen + sLen + 2. */
    if (em_len < h_len + s_len + 2)
        return VPN_ERR_INVAL;
    if (*sig_len < k)
        return VPN_ERR_NOSPACE;
    if ((em = OPENSSL_zalloc(k)) == NULL)
        return VPN_ERR_NOMEM;
    /* EM sits right-aligned in k octets: one leading zero octet when
     * modBits - 1 is a multiple of 8 (8.1.1 step 2a, I2OSP). */
    uint8_t *db = em + (k - em_len);
    size_t db_len = em_len - h_len - 1;
    salt = db + db_len - s_len;

    /* Steps 2, 4: mHash = Hash(M); salt from the injected RNG. */
    if ((rc = digest(alg->hash, msg, msg_len, mhash, &n)) != 0)
        goto out;
    if ((rc = vpn_rng_bytes(rng, salt, s_len)) != 0)
        goto out;
    /* Steps 5, 6: H = Hash(0x00 x 8 || mHash || salt). */
    rc = VPN_ERR_CRYPTO;
    unsigned int hl = 0;
    if ((mctx = EVP_MD_CTX_new()) == NULL ||
        !EVP_DigestInit_ex(mctx, hash_md(alg->hash), NULL) ||
        !EVP_DigestUpdate(mctx, zeros, 8) || !EVP_DigestUpdate(mctx, mhash, h_len) ||
        !EVP_DigestUpdate(mctx, salt, s_len) || !EVP_DigestFinal_ex(mctx, h, &hl))
        goto out;
    /* Steps 7-10: DB = PS || 0x01 || salt, masked with MGF(H). PS is the
     * zeroes already there. */
    db[db_len - s_len - 1] = 0x01;
    if ((rc = mgf1_xor(alg->mgf1_hash, h, h_len, db, db_len)) != 0)
        goto out;
    /* Step 11: clear the leftmost 8 emLen - emBits bits. */
    db[0] &= (uint8_t)(0xff >> (8 * em_len - em_bits));
    /* Step 12: EM = maskedDB || H || 0xbc. */
    memcpy(db + db_len, h, h_len);
    db[db_len + h_len] = 0xbc;

    /* RSASP1 (8.1.1 step 2b): the raw private operation. */
    rc = VPN_ERR_CRYPTO;
    out_len = *sig_len;
    if ((pctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL)) == NULL ||
        EVP_PKEY_sign_init(pctx) <= 0 ||
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_NO_PADDING) <= 0 ||
        EVP_PKEY_sign(pctx, sig, &out_len, em, k) <= 0 || out_len != k)
        goto out;
    *sig_len = out_len;
    rc = 0;
out:
    OPENSSL_clear_free(em, k);
    OPENSSL_cleanse(h, sizeof h);
    EVP_MD_CTX_free(mctx);
    EVP_PKEY_CTX_free(pctx);
    return rc == 0 ? 0 : fail(rc);
}

/*
 * RFC 6979 3.2: the deterministic nonce generator, an HMAC_DRBG keyed by
 * the private key x and the message hash h1, with the message's hash.
 * The caller holds the state between candidates (steps h.1 to h.3); a
 * candidate outside [1, n-1], or one giving r = 0 or s = 0, is followed by
 * K = HMAC_K(V || 0x00), V = HMAC_K(V) and another draw (step h.3, and
 * RFC 6979 2.4 for r or s zero).
 */
typedef struct rfc6979_drbg {
    vpn_hmac mac; /* keyed with K */
    enum vpn_hash hash;
    size_t hlen;
    uint8_t v[SIG_MAX_HASH];
    bool started; /* false before the first candidate */
} rfc6979_drbg;

static int drbg_rekey(rfc6979_drbg *g, const uint8_t *k)
{
    vpn_hmac_free(&g->mac);
    return vpn_hmac_init(&g->mac, g->hash, k, g->hlen);
}

/* K = HMAC_K(V || sep || extra...); V = HMAC_K(V) (RFC 6979 3.2 d-g). */
static int drbg_update(rfc6979_drbg *g, uint8_t sep, const vpn_iov *extra, size_t n)
{
    uint8_t k[SIG_MAX_HASH];
    vpn_iov iov[3] = {{g->v, g->hlen}, {&sep, 1}, {NULL, 0}};
    int rc;

    if (n > 1)
        return VPN_ERR_INVAL;
    if (n == 1)
        iov[2] = extra[0];
    if ((rc = vpn_hmac_compute(&g->mac, iov, n ? 3 : 2, k)) == 0 && (rc = drbg_rekey(g, k)) == 0)
        rc = vpn_hmac_compute(&g->mac, iov, 1, g->v);
    OPENSSL_cleanse(k, sizeof k);
    return rc;
}

/*
 * Steps a-g: seeds the generator with int2octets(x) || bits2octets(h1),
 * both rlen/8 bytes (xo and ho, already reduced by the caller).
 */
static int drbg_init(rfc6979_drbg *g, uint8_t ike_hash, const uint8_t *xo, const uint8_t *ho,
                     size_t olen)
{
    uint8_t seed[2 * 66], zero[SIG_MAX_HASH] = {0};
    int rc;

    memset(g, 0, sizeof *g);
    switch (ike_hash) {
    case VPN_IKE_HASH_SHA2_256: g->hash = VPN_HASH_SHA256; break;
    case VPN_IKE_HASH_SHA2_384: g->hash = VPN_HASH_SHA384; break;
    case VPN_IKE_HASH_SHA2_512: g->hash = VPN_HASH_SHA512; break;
    default: return VPN_ERR_UNSUPPORTED;
    }
    if (olen > 66)
        return VPN_ERR_INVAL;
    g->hlen = vpn_hash_len(g->hash);
    memset(g->v, 0x01, g->hlen);                    /* b: V = 0x01 ... */
    if ((rc = vpn_hmac_init(&g->mac, g->hash, zero, g->hlen)) != 0) /* c: K = 0x00 ... */
        return rc;
    memcpy(seed, xo, olen);
    memcpy(seed + olen, ho, olen);
    vpn_iov extra = {seed, 2 * olen};
    if ((rc = drbg_update(g, 0x00, &extra, 1)) == 0) /* d, e */
        rc = drbg_update(g, 0x01, &extra, 1);        /* f, g */
    OPENSSL_cleanse(seed, sizeof seed);
    return rc;
}

/*
 * Step h: the next candidate T of qlen bits (nbytes bytes, the leftmost
 * qlen bits of the concatenated V blocks: bits2int, RFC 6979 2.3.2).
 */
static int drbg_next(rfc6979_drbg *g, uint8_t *out, size_t nbytes, int qbits)
{
    uint8_t t[66 + SIG_MAX_HASH];
    size_t tlen = 0;
    int rc;

    if (g->started && (rc = drbg_update(g, 0x00, NULL, 0)) != 0) /* h.3 */
        return rc;
    g->started = true;
    while (tlen < nbytes) { /* h.2 */
        vpn_iov iov = {g->v, g->hlen};
        if ((rc = vpn_hmac_compute(&g->mac, &iov, 1, g->v)) != 0)
            goto out;
        memcpy(t + tlen, g->v, g->hlen);
        tlen += g->hlen;
    }
    /* bits2int: keep the leftmost qbits bits, as a big-endian integer. */
    {
        unsigned shift = (unsigned)(nbytes * 8 - (size_t)qbits);
        uint8_t carry = 0;
        for (size_t i = 0; i < nbytes; i++) {
            uint8_t b = t[i];
            out[i] = shift ? (uint8_t)((b >> shift) | carry) : b;
            carry = shift ? (uint8_t)(b << (8 - shift)) : 0;
        }
    }
    rc = 0;
out:
    OPENSSL_cleanse(t, sizeof t);
    return rc;
}

static void drbg_free(rfc6979_drbg *g)
{
    vpn_hmac_free(&g->mac);
    OPENSSL_cleanse(g, sizeof *g);
}

/* ECDSA signature generation (FIPS 186-4 6.4) with k from RFC 6979 3.2. */
static int ecdsa_sign(const vpn_sig_key *key, uint8_t hash, const uint8_t *msg, size_t msg_len,
                      uint8_t *sig, size_t *sig_len)
{
    size_t flen = ec_field_len(key->type), hl = 0;
    uint8_t h[SIG_MAX_HASH], kbuf[66], xo[66], ho[66], rs[2 * 66];
    rfc6979_drbg drbg;
    bool drbg_live = false;
    EC_GROUP *group = EC_GROUP_new_by_curve_name(key->nid);
    BN_CTX *ctx = BN_CTX_new();
    EC_POINT *R = group ? EC_POINT_new(group) : NULL;
    BN_MONT_CTX *mont = BN_MONT_CTX_new();
    BIGNUM *d = NULL;
    BIGNUM *e, *k, *kinv, *nm2, *x, *r, *s, *t, *rd;
    int rc = VPN_ERR_NOMEM;

    if (group == NULL || ctx == NULL || R == NULL || mont == NULL)
        goto out_nobn;
    BN_CTX_start(ctx);
    e = BN_CTX_get(ctx);
    k = BN_CTX_get(ctx);
    kinv = BN_CTX_get(ctx);
    nm2 = BN_CTX_get(ctx);
    x = BN_CTX_get(ctx);
    r = BN_CTX_get(ctx);
    s = BN_CTX_get(ctx);
    t = BN_CTX_get(ctx);
    rd = BN_CTX_get(ctx);
    if (rd == NULL)
        goto out;
    rc = VPN_ERR_CRYPTO;
    if (!EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_PRIV_KEY, &d))
        goto out;
    BN_set_flags(d, BN_FLG_CONSTTIME);
    BN_set_flags(k, BN_FLG_CONSTTIME);

    const BIGNUM *n = EC_GROUP_get0_order(group);
    int nbits = BN_num_bits(n);
    size_t nbytes = (size_t)(nbits + 7) / 8;
    if (nbytes > sizeof kbuf)
        goto out;
    if (!BN_MONT_CTX_set(mont, n, ctx) || !BN_copy(nm2, n) || !BN_sub_word(nm2, 2))
        goto out;

    /* e: the leftmost min(N, outlen) bits of Hash(M), as an integer. */
    if ((rc = digest(hash, msg, msg_len, h, &hl)) != 0)
        goto out;
    rc = VPN_ERR_CRYPTO;
    if (!BN_bin2bn(h, (int)hl, e) ||
        (hl * 8 > (size_t)nbits && !BN_rshift(e, e, (int)(hl * 8) - nbits)) ||
        !BN_nnmod(e, e, n, ctx))
        goto out;
    /* RFC 6979 3.2 a-g: int2octets(x) and bits2octets(h1), which is e as
     * rlen/8 bytes (e is already bits2int(h1) mod q). */
    if (BN_bn2binpad(d, xo, (int)nbytes) != (int)nbytes ||
        BN_bn2binpad(e, ho, (int)nbytes) != (int)nbytes)
        goto out;
    if ((rc = drbg_init(&drbg, hash, xo, ho, nbytes)) != 0)
        goto out;
    drbg_live = true;

    for (int tries = 0;; tries++) {
        if (tries == SIG_MAX_TRIES) {
            rc = VPN_ERR_CRYPTO;
            goto out;
        }
        /* k = bits2int(T), taken if in [1, n-1] (RFC 6979 3.2 h.3). */
        if ((rc = drbg_next(&drbg, kbuf, nbytes, nbits)) != 0)
            goto out;
        rc = VPN_ERR_CRYPTO;
        if (!BN_bin2bn(kbuf, (int)nbytes, k))
            goto out;
        if (BN_is_zero(k) || BN_cmp(k, n) >= 0)
            continue;
        /* r = x(kG) mod n */
        if (!EC_POINT_mul(group, R, k, NULL, NULL, ctx) ||
            !EC_POINT_get_affine_coordinates(group, R, x, NULL, ctx) || !BN_nnmod(r, x, n, ctx))
            goto out;
        if (BN_is_zero(r))
            continue;
        /* k^-1 = k^(n-2) mod n (n is prime), in constant time. */
        if (!BN_mod_exp_mont_consttime(kinv, k, nm2, n, ctx, mont))
            goto out;
        /* s = k^-1 (e + r d) mod n, by Montgomery products:
         * mont(rR, d) = r d, mont(kinv R, sum) = kinv sum. */
        if (!BN_to_montgomery(t, r, mont, ctx) || !BN_mod_mul_montgomery(rd, t, d, mont, ctx) ||
            !BN_mod_add_quick(rd, rd, e, n) || !BN_to_montgomery(t, kinv, mont, ctx) ||
            !BN_mod_mul_montgomery(s, t, rd, mont, ctx))
            goto out;
        if (BN_is_zero(s))
            continue;
        break;
    }
    if (BN_bn2binpad(r, rs, (int)flen) != (int)flen ||
        BN_bn2binpad(s, rs + flen, (int)flen) != (int)flen)
        goto out;
    rc = vpn_sig_ecdsa_rs_to_der(rs, 2 * flen, sig, *sig_len, sig_len);
out:
    /* k, k^-1 and e + r d each give d away: wipe them before the pool
     * hands them out again. */
    BN_clear(k);
    BN_clear(kinv);
    BN_clear(t);
    BN_clear(rd);
    BN_CTX_end(ctx);
out_nobn:
    if (drbg_live)
        drbg_free(&drbg);
    OPENSSL_cleanse(kbuf, sizeof kbuf);
    OPENSSL_cleanse(xo, sizeof xo);
    OPENSSL_cleanse(ho, sizeof ho);
    OPENSSL_cleanse(h, sizeof h);
    BN_clear_free(d);
    BN_MONT_CTX_free(mont);
    EC_POINT_clear_free(R);
    EC_GROUP_free(group);
    BN_CTX_free(ctx);
    return rc == 0 ? 0 : fail(rc);
}

/* The key type a scheme needs. */
static int check_key_scheme(const vpn_sig_key *key, uint8_t scheme)
{
    switch (scheme) {
    case VPN_SIG_RSA_PKCS1:
        /* An id-RSASSA-PSS key is restricted to PSS (RFC 4055 1.2). */
        return key->evp_id == EVP_PKEY_RSA ? 0 : VPN_ERR_POLICY;
    case VPN_SIG_RSA_PSS:
        return key->type == VPN_SIG_KEY_RSA ? 0 : VPN_ERR_POLICY;
    case VPN_SIG_ECDSA:
        return key->type != VPN_SIG_KEY_RSA ? 0 : VPN_ERR_POLICY;
    default:
        return VPN_ERR_UNSUPPORTED;
    }
}

/* vpn_sig_sign; sha1_ok only for RFC 7296 3.8 method 1 (vpn_sig_auth_sign). */
static int verify_once(const vpn_sig_key *key, const vpn_sig_alg *alg, const EVP_MD *md,
                       const uint8_t *msg, size_t msg_len, const uint8_t *sig, size_t sig_len);

/* One signature with checked arguments (sign_any). */
static int sign_raw(const vpn_sig_key *key, const vpn_sig_alg *alg, const vpn_rng *rng,
                    const uint8_t *msg, size_t msg_len, uint8_t *sig, size_t *sig_len)
{
    int rc;

    if (alg->scheme == VPN_SIG_RSA_PSS) {
        if (key->evp_id != EVP_PKEY_RSA)
            return VPN_ERR_UNSUPPORTED; /* raw RSA is refused on PSS-only keys */
        return pss_sign(key, alg, rng, msg, msg_len, sig, sig_len);
    }
    if (alg->scheme == VPN_SIG_ECDSA)
        return ecdsa_sign(key, alg->hash, msg, msg_len, sig, sig_len);

    /* RSASSA-PKCS1-v1_5 (RFC 8017 8.2.1) is deterministic: OpenSSL's. */
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    size_t len = *sig_len;
    rc = VPN_ERR_CRYPTO;
    if (mctx != NULL &&
        EVP_DigestSignInit_ex(mctx, &pctx, EVP_MD_get0_name(hash_md(alg->hash)), NULL, NULL,
                              key->pkey, NULL) > 0 &&
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0 &&
        EVP_DigestSign(mctx, sig, &len, msg, msg_len) > 0) {
        *sig_len = len;
        rc = 0;
    }
    EVP_MD_CTX_free(mctx);
    return rc == 0 ? 0 : fail(rc);
}

/*
 * The key again from its own DER: a fresh EVP_PKEY without OpenSSL's
 * cached state (blinding, Montgomery contexts). The key's value is
 * unchanged, so a const key may have it. Errors: VPN_ERR_NOMEM, VPN_ERR_CRYPTO.
 */
static int key_refresh(const vpn_sig_key *ckey)
{
    vpn_sig_key *key = (vpn_sig_key *)ckey;
    unsigned char *der = NULL;
    const unsigned char *p;
    EVP_PKEY *fresh;
    int n;

    if ((n = i2d_PrivateKey(key->pkey, &der)) <= 0)
        return fail(VPN_ERR_NOMEM);
    p = der;
    fresh = d2i_AutoPrivateKey(NULL, &p, n);
    OPENSSL_clear_free(der, (size_t)n);
    if (fresh == NULL)
        return fail(VPN_ERR_NOMEM);
    EVP_PKEY_free(key->pkey);
    key->pkey = fresh;
    return 0;
}

static int sign_any(const vpn_sig_key *key, const vpn_sig_alg *alg, const vpn_rng *rng, const uint8_t *msg,
                    size_t msg_len, uint8_t *sig, size_t *sig_len, bool sha1_ok)
{
    size_t cap;
    int rc;

    if (key == NULL || alg == NULL || (msg == NULL && msg_len) || sig == NULL || sig_len == NULL)
        return VPN_ERR_INVAL;
    cap = *sig_len;
    if (!key->priv)
        return VPN_ERR_INVAL;
    if ((rc = check_key_scheme(key, alg->scheme)) != 0)
        return rc;
    if (alg->hash == VPN_IKE_HASH_SHA1 && !sha1_ok)
        return VPN_ERR_POLICY; /* verify only */
    if (hash_md(alg->hash) == NULL)
        return VPN_ERR_UNSUPPORTED;
    if (alg->scheme == VPN_SIG_RSA_PSS && rng == NULL)
        return VPN_ERR_INVAL;
    if (*sig_len < vpn_sig_max_len(key) && alg->scheme != VPN_SIG_ECDSA)
        return VPN_ERR_NOSPACE;

    if ((rc = sign_raw(key, alg, rng, msg, msg_len, sig, sig_len)) != 0 ||
        alg->scheme == VPN_SIG_ECDSA)
        return rc;
    /* RSA: no signature leaves unchecked. A faulty RSA-CRT signature gives
     * away the key (Boneh, DeMillo, Lipton 1997), and OpenSSL 3.0 returns
     * one after an allocation failure in its sign path, with the key's
     * cached state left broken for every later signature
     * (crypto-inject-fail): then the key is loaded afresh and the
     * signature made again, once. */
    rc = verify_once(key, alg, hash_md(alg->hash), msg, msg_len, sig, *sig_len);
    if (rc == VPN_ERR_AUTH && (rc = key_refresh(key)) == 0) {
        *sig_len = cap;
        if ((rc = sign_raw(key, alg, rng, msg, msg_len, sig, sig_len)) == 0)
            rc = verify_once(key, alg, hash_md(alg->hash), msg, msg_len, sig, *sig_len);
        if (rc == VPN_ERR_AUTH)
            rc = VPN_ERR_CRYPTO;
    }
    if (rc != 0)
        OPENSSL_cleanse(sig, cap);
    return rc == 0 ? 0 : fail(rc);
}

int vpn_sig_sign(const vpn_sig_key *key, const vpn_sig_alg *alg, const vpn_rng *rng,
                 const uint8_t *msg, size_t msg_len, uint8_t *sig, size_t *sig_len)
{
    return sign_any(key, alg, rng, msg, msg_len, sig, sig_len, false);
}

/* One raw PKCS#1 v1.5 signature; and its check (0 or VPN_ERR_AUTH). */
static int rsa_raw_sign_once(const vpn_sig_key *key, const uint8_t *in, size_t in_len, uint8_t *sig,
                             size_t *sig_len)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(key->pkey, NULL);
    int rc = VPN_ERR_CRYPTO;

    if (c == NULL)
        return VPN_ERR_NOMEM;
    if (EVP_PKEY_sign_init(c) == 1 && EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) == 1 &&
        EVP_PKEY_sign(c, sig, sig_len, in, in_len) == 1)
        rc = 0;
    EVP_PKEY_CTX_free(c);
    return rc;
}

static int rsa_raw_verify_once(const vpn_sig_key *key, const uint8_t *in, size_t in_len, const uint8_t *sig,
                               size_t sig_len)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(key->pkey, NULL);
    int rc = VPN_ERR_AUTH;

    if (c && EVP_PKEY_verify_init(c) == 1 && EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) == 1 &&
        EVP_PKEY_verify(c, sig, sig_len, in, in_len) == 1)
        rc = 0;
    EVP_PKEY_CTX_free(c);
    return rc;
}

int vpn_sig_rsa_raw_sign(const vpn_sig_key *key, const uint8_t *in, size_t in_len, uint8_t *sig,
                         size_t *sig_len)
{
    size_t cap;
    int rc = VPN_ERR_CRYPTO;

    if (key == NULL || in == NULL || sig == NULL || sig_len == NULL || !key->priv ||
        check_key_scheme(key, VPN_SIG_RSA_PKCS1) != 0)
        return VPN_ERR_INVAL;
    cap = *sig_len;
    if (cap < vpn_sig_max_len(key))
        return VPN_ERR_NOSPACE;
    /* sign, then verify what was made (sign_any says why); once more with
     * the key loaded afresh if it does not verify */
    for (int round = 0; round < 2; round++) {
        if (round == 1 && (rc = key_refresh(key)) != 0)
            break;
        *sig_len = cap;
        if ((rc = rsa_raw_sign_once(key, in, in_len, sig, sig_len)) != 0 ||
            (rc = rsa_raw_verify_once(key, in, in_len, sig, *sig_len)) != VPN_ERR_AUTH)
            break;
        rc = VPN_ERR_CRYPTO; /* two faulty signatures: give up */
    }
    if (rc != 0)
        OPENSSL_cleanse(sig, cap);
    return rc == 0 ? 0 : fail(rc);
}

int vpn_sig_rsa_raw_verify(const vpn_sig_key *key, const uint8_t *in, size_t in_len, const uint8_t *sig,
                           size_t sig_len)
{
    if (key == NULL || in == NULL || sig == NULL || key->type != VPN_SIG_KEY_RSA)
        return VPN_ERR_AUTH;
    return rsa_raw_verify_once(key, in, in_len, sig, sig_len) == 0 ? 0 : fail(VPN_ERR_AUTH);
}

/*
 * One verification: 0, VPN_ERR_AUTH (does not verify), VPN_ERR_NOMEM,
 * VPN_ERR_CRYPTO, VPN_ERR_POLICY.
 */
static int verify_once(const vpn_sig_key *key, const vpn_sig_alg *alg, const EVP_MD *md,
                       const uint8_t *msg, size_t msg_len, const uint8_t *sig, size_t sig_len)
{
    EVP_MD_CTX *mctx;
    EVP_PKEY_CTX *pctx = NULL;
    int rc;

    if ((mctx = EVP_MD_CTX_new()) == NULL)
        return VPN_ERR_NOMEM;
    rc = VPN_ERR_CRYPTO;
    if (EVP_DigestVerifyInit_ex(mctx, &pctx, EVP_MD_get0_name(md), NULL, NULL, key->pkey, NULL) <=
        0)
        goto out;
    if (alg->scheme == VPN_SIG_RSA_PKCS1) {
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0)
            goto out;
    } else if (alg->scheme == VPN_SIG_RSA_PSS) {
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
            EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, hash_md(alg->mgf1_hash)) <= 0 ||
            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, alg->salt_len) <= 0) {
            /* e.g. a PSS-only key whose own parameters forbid these */
            rc = VPN_ERR_POLICY;
            goto out;
        }
    }
    /* "does not verify" is the peer's; an allocation failure inside is ours
     * (ossl-err.h) */
    ERR_clear_error();
    if (EVP_DigestVerify(mctx, sig, sig_len, msg, msg_len) == 1)
        rc = 0;
    else
        rc = vpn_ossl_nomem_pending(NULL) ? VPN_ERR_NOMEM : VPN_ERR_AUTH;
out:
    EVP_MD_CTX_free(mctx);
    return rc;
}

int vpn_sig_verify(const vpn_sig_key *key, const vpn_sig_alg *alg, const uint8_t *msg,
                   size_t msg_len, const uint8_t *sig, size_t sig_len)
{
    const EVP_MD *md;
    int rc;

    if (key == NULL || alg == NULL || (msg == NULL && msg_len) || (sig == NULL && sig_len))
        return VPN_ERR_INVAL;
    if ((rc = check_key_scheme(key, alg->scheme)) != 0)
        return rc;
    if ((md = hash_md(alg->hash)) == NULL)
        return VPN_ERR_UNSUPPORTED;
    if (alg->scheme == VPN_SIG_RSA_PSS && hash_md(alg->mgf1_hash) == NULL)
        return VPN_ERR_UNSUPPORTED;
    if (sig_len == 0)
        return VPN_ERR_AUTH;
    rc = verify_once(key, alg, md, msg, msg_len, sig, sig_len);
    /* OpenSSL 3.0 can say "does not verify" for its own allocation failure
     * with no malloc failure queued: ECDSA with nothing queued at all, RSA
     * with a padding error over the garbage a failed BN step left
     * (crypto-inject-fail found both). Verification is deterministic, so a
     * second try's answer is the right one unless that one fails locally
     * too; a signature that does not verify costs two verifications. */
    if (rc == VPN_ERR_AUTH)
        rc = verify_once(key, alg, md, msg, msg_len, sig, sig_len);
    return rc == 0 ? 0 : fail(rc);
}

/* ---- IKEv2 AUTH data ---------------------------------------------------------- */

/* RFC 4754 3: each method fixes the curve and the hash. */
static int rfc4754_params(uint8_t method, vpn_sig_key_type *type, uint8_t *hash)
{
    switch (method) {
    case VPN_AUTH_METHOD_ECDSA_256:
        *type = VPN_SIG_KEY_EC_P256;
        *hash = VPN_IKE_HASH_SHA2_256;
        return 0;
    case VPN_AUTH_METHOD_ECDSA_384:
        *type = VPN_SIG_KEY_EC_P384;
        *hash = VPN_IKE_HASH_SHA2_384;
        return 0;
    case VPN_AUTH_METHOD_ECDSA_521:
        *type = VPN_SIG_KEY_EC_P521;
        *hash = VPN_IKE_HASH_SHA2_512;
        return 0;
    default:
        return VPN_ERR_UNSUPPORTED;
    }
}

int vpn_sig_auth_sign(const vpn_sig_key *key, uint8_t auth_method, const vpn_sig_alg *alg,
                      const vpn_rng *rng, const uint8_t *msg, size_t msg_len, vpn_wr *w)
{
    uint8_t algid[128], *sig, *p;
    vpn_wr aw;
    size_t len;
    int rc;

    if (key == NULL || w == NULL)
        return VPN_ERR_INVAL;
    if (auth_method == VPN_AUTH_METHOD_DIGITAL_SIG) {
        /* RFC 7427 3: ASN.1 length (1 octet) | AlgorithmIdentifier | signature */
        if (alg == NULL)
            return VPN_ERR_INVAL;
        vpn_wr_init(&aw, algid, sizeof algid);
        if ((rc = vpn_sig_algid_write(&aw, alg)) != 0)
            return rc;
        if ((sig = OPENSSL_malloc(vpn_sig_max_len(key))) == NULL)
            return VPN_ERR_NOMEM;
        len = vpn_sig_max_len(key);
        rc = vpn_sig_sign(key, alg, rng, msg, msg_len, sig, &len);
        /* All or nothing: w is untouched unless it all fits. */
        if (rc == 0 && (rc = vpn_wr_take(w, &p, 1 + vpn_wr_len(&aw) + len)) == 0) {
            p[0] = (uint8_t)vpn_wr_len(&aw);
            memcpy(p + 1, algid, vpn_wr_len(&aw));
            memcpy(p + 1 + vpn_wr_len(&aw), sig, len);
        }
        OPENSSL_free(sig);
        return rc;
    }

    if (auth_method == VPN_AUTH_METHOD_RSA_SIG) {
        /* RFC 7296 3.8 method 1: RSASSA-PKCS1-v1_5 with SHA-1, the bare
         * signature; for peers without RFC 7427 (issue 18: IOS sends it) */
        vpn_sig_alg a1;
        if (key->type != VPN_SIG_KEY_RSA)
            return VPN_ERR_POLICY;
        if ((rc = vpn_sig_alg_init(&a1, VPN_SIG_RSA_PKCS1, VPN_IKE_HASH_SHA1)) != 0)
            return rc;
        if ((sig = OPENSSL_malloc(vpn_sig_max_len(key))) == NULL)
            return VPN_ERR_NOMEM;
        len = vpn_sig_max_len(key);
        rc = sign_any(key, &a1, rng, msg, msg_len, sig, &len, true);
        if (rc == 0)
            rc = vpn_wr_bytes(w, sig, len);
        OPENSSL_free(sig);
        return rc;
    }

    /* RFC 4754 7: r || s, each as long as the field, curve and hash fixed
     * by the method. */
    vpn_sig_key_type type;
    vpn_sig_alg a;
    uint8_t hash = 0, der[160], rs[2 * 66];
    size_t rs_len = 0;
    if ((rc = rfc4754_params(auth_method, &type, &hash)) != 0)
        return rc;
    if (key->type != type)
        return VPN_ERR_POLICY;
    vpn_sig_alg_init(&a, VPN_SIG_ECDSA, hash);
    len = sizeof der;
    if ((rc = vpn_sig_sign(key, &a, rng, msg, msg_len, der, &len)) != 0 ||
        (rc = vpn_sig_ecdsa_der_to_rs(der, len, ec_field_len(type), rs, sizeof rs, &rs_len)) != 0)
        return rc;
    return vpn_wr_bytes(w, rs, rs_len);
}

int vpn_sig_auth_verify(const vpn_sig_key *key, uint8_t auth_method, const uint8_t *auth,
                        size_t auth_len, const uint8_t *msg, size_t msg_len, vpn_sig_alg *used)
{
    vpn_sig_alg a;
    int rc;

    if (used)
        memset(used, 0, sizeof *used);
    if (key == NULL || (auth == NULL && auth_len) || (msg == NULL && msg_len))
        return VPN_ERR_INVAL;
    memset(&a, 0, sizeof a);
    if (auth_method == VPN_AUTH_METHOD_DIGITAL_SIG) {
        vpn_rd r, id;
        uint8_t n = 0;
        vpn_rd_init(&r, auth, auth_len);
        if (vpn_rd_u8(&r, &n) != 0 || vpn_rd_sub(&r, &id, n) != 0)
            return vpn_rd_err(&r);
        /* The length octet must cover exactly one AlgorithmIdentifier. */
        if ((rc = vpn_sig_algid_read(&id, &a)) != 0)
            return rc;
        if (vpn_rd_expect_end(&id) != 0)
            return VPN_ERR_MALFORMED;
        if ((rc = check_key_scheme(key, a.scheme)) != 0)
            return rc;
        rc = vpn_sig_verify(key, &a, msg, msg_len, vpn_rd_cur(&r), vpn_rd_left(&r));
    } else if (auth_method == VPN_AUTH_METHOD_RSA_SIG) {
        /* RFC 7296 3.8: RSASSA-PKCS1-v1_5; SHA-1 is what peers use. */
        vpn_sig_alg_init(&a, VPN_SIG_RSA_PKCS1, VPN_IKE_HASH_SHA1);
        rc = vpn_sig_verify(key, &a, msg, msg_len, auth, auth_len);
    } else {
        vpn_sig_key_type type;
        uint8_t hash = 0, der[160];
        size_t der_len = 0;
        if ((rc = rfc4754_params(auth_method, &type, &hash)) != 0)
            return rc;
        if (key->type != type)
            return VPN_ERR_POLICY;
        if (auth_len != 2 * ec_field_len(type))
            return VPN_ERR_MALFORMED;
        vpn_sig_alg_init(&a, VPN_SIG_ECDSA, hash);
        /* A zero r or s cannot be DER-encoded as a valid signature; it is
         * simply a signature that does not verify. */
        if (vpn_sig_ecdsa_rs_to_der(auth, auth_len, der, sizeof der, &der_len) != 0)
            return VPN_ERR_AUTH;
        rc = vpn_sig_verify(key, &a, msg, msg_len, der, der_len);
    }
    if (rc == 0 && used)
        *used = a;
    return rc;
}
