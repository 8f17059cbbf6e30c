/*
 * Signature authentication for IKE_AUTH: certificates from IOS-style
 * trustpoints, CERT and CERTREQ payloads (RFC 7296 3.6, 3.7), AUTH with
 * RFC 7427 Digital Signatures (method 14) when the peer announced
 * SIGNATURE_HASH_ALGORITHMS, else RFC 4754 ECDSA (methods 9-11) or RSA
 * with SHA-1 (RFC 7296 3.8 method 1), which legacy peers also send us.
 * Identities must be backed by the certificate (RFC 4945 3.1): a DN ID is
 * the subject, an address/FQDN/email ID one of its subjectAltNames.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/vpn-err.h"
#include "ikev2/ikev2-eng.h"

/* ---- trustpoints ----------------------------------------------------------------------- */

static ikev2_tp *tp_get(vpn_ikev2_ctx *ctx, const char *name, bool create)
{
    ikev2_tp *t;

    for (size_t i = 0; i < ctx->n_tp; i++)
        if (strcmp(ctx->tp[i].name, name) == 0)
            return &ctx->tp[i];
    if (!create || strlen(name) >= sizeof ctx->tp[0].name)
        return NULL;
    if (ctx->n_tp == ctx->cap_tp) {
        size_t cap = ctx->cap_tp ? ctx->cap_tp * 2 : 2;
        ikev2_tp *n = vpn_realloc(&ctx->params.alloc, ctx->tp, cap * sizeof *n);
        if (n == NULL)
            return NULL;
        ctx->tp = n;
        ctx->cap_tp = cap;
    }
    t = &ctx->tp[ctx->n_tp];
    memset(t, 0, sizeof *t);
    memcpy(t->name, name, strlen(name) + 1);
    if (vpn_x509_store_new(&t->store) != 0)
        return NULL;
    ctx->n_tp++;
    return t;
}

void ikev2_tp_free_all(vpn_ikev2_ctx *ctx)
{
    for (size_t i = 0; i < ctx->n_tp; i++)
        vpn_x509_store_del(ctx->tp[i].store);
    free(ctx->tp);
    ctx->tp = NULL;
    ctx->n_tp = ctx->cap_tp = 0;
}

int vpn_ikev2_trustpoint_add_ca(vpn_ikev2_ctx *ctx, const char *trustpoint, const vpn_x509 *ca)
{
    ikev2_tp *t;

    if (ctx == NULL || trustpoint == NULL || ca == NULL)
        return VPN_ERR_INVAL;
    if ((t = tp_get(ctx, trustpoint, true)) == NULL)
        return VPN_ERR_NOMEM;
    return vpn_x509_store_add(t->store, ca);
}

int vpn_ikev2_trustpoint_set_cert(vpn_ikev2_ctx *ctx, const char *trustpoint, const vpn_x509 *cert,
                                  const vpn_sig_key *key, const vpn_x509 *const *chain, size_t n_chain)
{
    ikev2_tp *t;

    if (ctx == NULL || trustpoint == NULL || cert == NULL || key == NULL || (chain == NULL && n_chain) ||
        n_chain > IKEV2_TP_CHAIN_MAX)
        return VPN_ERR_INVAL;
    if (!vpn_sig_key_is_private(key) || !vpn_x509_key_matches(cert, key))
        return VPN_ERR_POLICY;
    if ((t = tp_get(ctx, trustpoint, true)) == NULL)
        return VPN_ERR_NOMEM;
    t->cert = cert;
    t->key = key;
    for (size_t i = 0; i < n_chain; i++)
        t->chain[i] = chain[i];
    t->n_chain = n_chain;
    return 0;
}

/* The trustpoints a profile uses: those it names, or every one. */
static bool tp_in_profile(const vpn_conf_profile *p, const ikev2_tp *t)
{
    if (p == NULL || p->n_trustpoint == 0)
        return true;
    for (size_t i = 0; i < p->n_trustpoint; i++)
        if (strcmp(p->trustpoint[i], t->name) == 0)
            return true;
    return false;
}

static const ikev2_tp *tp_with_cert(const vpn_ikev2_ctx *ctx, const vpn_conf_profile *p)
{
    for (size_t i = 0; i < ctx->n_tp; i++)
        if (ctx->tp[i].cert && tp_in_profile(p, &ctx->tp[i]))
            return &ctx->tp[i];
    return NULL;
}

int ikev2_certreq_data(const vpn_ikev2_ctx *ctx, const vpn_conf_profile *p, uint8_t *out, size_t cap,
                       size_t *len)
{
    size_t n = 0;

    for (size_t i = 0; i < ctx->n_tp; i++) {
        size_t l = 0;
        if (!tp_in_profile(p, &ctx->tp[i]) || vpn_x509_store_count(ctx->tp[i].store) == 0)
            continue;
        if (vpn_x509_store_certreq(ctx->tp[i].store, out + n, cap - n, &l) != 0)
            return VPN_ERR_NOSPACE;
        n += l;
    }
    *len = n;
    return n ? 0 : VPN_ERR_NOTFOUND;
}

bool ikev2_profile_signs(const vpn_conf_profile *p)
{
    return p && (p->auth_local == VPN_CONF_AUTH_RSA_SIG || p->auth_local == VPN_CONF_AUTH_ECDSA_SIG);
}

bool ikev2_profile_verifies_sigs(const vpn_conf_profile *p)
{
    return p && (ikev2_profile_accepts_auth(p, VPN_CONF_AUTH_RSA_SIG) ||
                 ikev2_profile_accepts_auth(p, VPN_CONF_AUTH_ECDSA_SIG));
}

/* ---- our side --------------------------------------------------------------------------- */

int ikev2_cert_id_local(const vpn_ikev2_ctx *ctx, const vpn_conf_profile *prof, const vpn_addr *local,
                        ikev2_id *out)
{
    const ikev2_tp *t = tp_with_cert(ctx, prof);

    if (prof && prof->identity_local.type == VPN_CONF_ID_DN) {
        const uint8_t *dn;
        size_t len = 0;
        if (t == NULL)
            return VPN_ERR_POLICY;
        /* RFC 7296 3.5: ID_DER_ASN1_DN is the subject, DER-encoded */
        dn = vpn_x509_subject_der(t->cert, &len);
        if (len == 0 || len > sizeof out->data)
            return VPN_ERR_POLICY;
        memset(out, 0, sizeof *out);
        out->type = VPN_IKEV2_ID_DER_ASN1_DN;
        memcpy(out->data, dn, len);
        out->len = len;
        return 0;
    }
    return ikev2_id_local(prof, local, out);
}

const char *ikev2_cert_local_dn(const vpn_ikev2_ctx *ctx, const vpn_conf_profile *prof)
{
    const ikev2_tp *t = tp_with_cert(ctx, prof);
    return t ? vpn_x509_subject_text(t->cert) : "";
}

int ikev2_cert_write(const vpn_ikev2_ctx *ctx, const vpn_conf_profile *prof, vpn_ikev2_bld *b)
{
    const ikev2_tp *t = tp_with_cert(ctx, prof);
    const uint8_t *der;
    size_t len = 0;

    if (t == NULL)
        return VPN_ERR_POLICY;
    /* RFC 7296 3.6: the end entity first, then what helps build the path */
    der = vpn_x509_der(t->cert, &len);
    vpn_ikev2_bld_cert(b, VPN_IKEV2_PL_CERT, VPN_IKEV2_CERT_X509_SIG, der, len);
    for (size_t i = 0; i < t->n_chain; i++) {
        der = vpn_x509_der(t->chain[i], &len);
        vpn_ikev2_bld_cert(b, VPN_IKEV2_PL_CERT, VPN_IKEV2_CERT_X509_SIG, der, len);
    }
    return b->err;
}

/* The hash we sign with: the strongest the peer announced (RFC 7427 4),
 * at least matching the curve's strength for ECDSA. */
static uint8_t pick_hash(const ikev2_sa *sa, vpn_sig_key_type kt)
{
    uint8_t want = kt == VPN_SIG_KEY_EC_P384 ? VPN_IKE_HASH_SHA2_384
                 : kt == VPN_SIG_KEY_EC_P521 ? VPN_IKE_HASH_SHA2_512
                                             : VPN_IKE_HASH_SHA2_256;
    if (sa->peer_hashes & (1u << want))
        return want;
    for (uint8_t h = VPN_IKE_HASH_SHA2_512; h >= VPN_IKE_HASH_SHA2_256; h--)
        if (sa->peer_hashes & (1u << h))
            return h;
    return 0;
}

int ikev2_cert_sign(const vpn_ikev2_ctx *ctx, const ikev2_sa *sa, const uint8_t *octets, size_t len,
                    uint8_t *method, uint8_t *out, size_t cap, size_t *out_len, vpn_conf_auth *kind)
{
    const ikev2_tp *t = tp_with_cert(ctx, sa->profile);
    vpn_sig_key_type kt;
    vpn_sig_alg alg;
    vpn_wr w;
    uint8_t h;
    int rc;

    if (t == NULL)
        return VPN_ERR_POLICY;
    kt = vpn_sig_key_type_of(t->key);
    if ((kt == VPN_SIG_KEY_RSA) != (sa->profile->auth_local == VPN_CONF_AUTH_RSA_SIG))
        return VPN_ERR_POLICY; /* rsa-sig needs an RSA key, ecdsa-sig an EC one */
    *kind = sa->profile->auth_local;
    h = pick_hash(sa, kt);
    vpn_wr_init(&w, out, cap);
    if (h) {
        /* RFC 7427 3: method 14 names its algorithm */
        *method = VPN_AUTH_METHOD_DIGITAL_SIG;
        if ((rc = vpn_sig_alg_init(&alg, kt == VPN_SIG_KEY_RSA ? VPN_SIG_RSA_PKCS1 : VPN_SIG_ECDSA, h)) != 0)
            return rc;
        rc = vpn_sig_auth_sign(t->key, *method, &alg, &ctx->params.rng, octets, len, &w);
    } else if (kt != VPN_SIG_KEY_RSA) {
        /* RFC 4754: the method names curve and hash */
        *method = kt == VPN_SIG_KEY_EC_P256 ? VPN_AUTH_METHOD_ECDSA_256
                : kt == VPN_SIG_KEY_EC_P384 ? VPN_AUTH_METHOD_ECDSA_384
                                            : VPN_AUTH_METHOD_ECDSA_521;
        rc = vpn_sig_auth_sign(t->key, *method, NULL, &ctx->params.rng, octets, len, &w);
    } else {
        /* A peer without RFC 7427 and an RSA key: RFC 7296 3.8 method 1
         * (RSA with SHA-1), the one RSA method such a peer knows (IOS
         * sends it too). */
        *method = VPN_AUTH_METHOD_RSA_SIG;
        rc = vpn_sig_auth_sign(t->key, *method, NULL, &ctx->params.rng, octets, len, &w);
    }
    if (rc == 0)
        *out_len = vpn_wr_len(&w);
    return rc;
}

/* ---- the peer's side ------------------------------------------------------------------------ */

void ikev2_peer_certs_free(ikev2_peer_certs *pc)
{
    for (size_t i = 0; i < pc->n; i++)
        vpn_x509_del(pc->c[i]);
    memset(pc, 0, sizeof *pc);
}

int ikev2_peer_certs_load(const vpn_ikev2_msg *m, ikev2_peer_certs *pc)
{
    memset(pc, 0, sizeof *pc);
    for (const vpn_ikev2_payload *p = NULL; (p = vpn_ikev2_msg_find(m, VPN_IKEV2_PL_CERT, p));) {
        vpn_x509 *c;
        if (p->u.cert.encoding != VPN_IKEV2_CERT_X509_SIG)
            continue; /* hash-and-URL and others: not used here */
        if (pc->n == IKEV2_PEER_CERTS_MAX || vpn_x509_load(&c, p->u.cert.data.ptr, p->u.cert.data.len) != 0) {
            ikev2_peer_certs_free(pc);
            return VPN_ERR_MALFORMED;
        }
        pc->c[pc->n++] = c;
    }
    return pc->n ? 0 : VPN_ERR_NOTFOUND;
}

static bool ascii_ieq(const uint8_t *a, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t x = a[i] >= 'A' && a[i] <= 'Z' ? (uint8_t)(a[i] + 32) : a[i];
        uint8_t y = b[i] >= 'A' && b[i] <= 'Z' ? (uint8_t)(b[i] + 32) : b[i];
        if (x != y)
            return false;
    }
    return true;
}

/* RFC 4945 3.1: the ID must be in the certificate. */
static bool id_in_cert(const ikev2_id *id, const vpn_x509 *c)
{
    size_t n;

    if (id->type == VPN_IKEV2_ID_DER_ASN1_DN) {
        const uint8_t *dn = vpn_x509_subject_der(c, &n);
        return n == id->len && memcmp(dn, id->data, n) == 0;
    }
    n = vpn_x509_san_count(c);
    for (size_t i = 0; i < n; i++) {
        vpn_x509_san s;
        if (vpn_x509_san_get(c, i, &s) != 0)
            continue;
        if ((id->type == VPN_IKEV2_ID_FQDN && s.type == VPN_X509_SAN_DNS) ||
            (id->type == VPN_IKEV2_ID_RFC822_ADDR && s.type == VPN_X509_SAN_EMAIL)) {
            if (s.len == id->len && ascii_ieq(s.data, id->data, id->len))
                return true;
        } else if ((id->type == VPN_IKEV2_ID_IPV4_ADDR || id->type == VPN_IKEV2_ID_IPV6_ADDR) &&
                   s.type == VPN_X509_SAN_IP) {
            if (s.len == id->len && memcmp(s.data, id->data, id->len) == 0)
                return true;
        }
    }
    return false;
}

int ikev2_cert_id_to_conf(const ikev2_id *id, const ikev2_peer_certs *pc, vpn_conf_identity *out)
{
    if (id->type != VPN_IKEV2_ID_DER_ASN1_DN)
        return ikev2_id_to_conf(id, out);
    /* a DN ID reads as the certificate subject's text (IOS shows it so) */
    if (pc == NULL || pc->n == 0 || !id_in_cert(id, pc->c[0]))
        return VPN_ERR_MALFORMED;
    memset(out, 0, sizeof *out);
    out->type = VPN_CONF_ID_DN;
    snprintf(out->value, sizeof out->value, "%s", vpn_x509_subject_text(pc->c[0]));
    return 0;
}

int ikev2_cert_verify(const vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, const ikev2_peer_certs *pc,
                      const ikev2_id *id, uint8_t method, const uint8_t *auth, size_t auth_len,
                      const uint8_t *octets, size_t len, const char **why)
{
    vpn_sig_key *key = NULL;
    vpn_sig_key_type kt;
    vpn_sig_alg used;
    vpn_conf_auth kind;
    time_t at = (time_t)(ctx->params.unix_time_offset_s + (int64_t)(now / NS_PER_S));
    bool trusted = false;
    int rc;

    *why = "no certificate from the peer";
    if (pc->n == 0)
        return VPN_ERR_AUTH;
    /* RFC 4945 5: the chain ends at one of the profile's trust anchors */
    for (size_t i = 0; i < ctx->n_tp && !trusted; i++) {
        vpn_x509_verdict v;
        if (!tp_in_profile(sa->profile, &ctx->tp[i]) || vpn_x509_store_count(ctx->tp[i].store) == 0)
            continue;
        trusted = vpn_x509_verify(ctx->tp[i].store, pc->c[0], (const vpn_x509 *const *)&pc->c[1], pc->n - 1,
                                  at, &v) == 0;
        if (!trusted)
            IKEV2_LOG(ctx, VPN_LOG_WARN, "IKE SA %u: peer certificate refused by trustpoint %s: %s", sa->id,
                      ctx->tp[i].name, v.text);
    }
    *why = "peer certificate not trusted";
    if (!trusted)
        return VPN_ERR_AUTH;
    *why = "peer identity not in its certificate";
    if (!id_in_cert(id, pc->c[0]))
        return VPN_ERR_AUTH;
    *why = "unusable peer key";
    if ((rc = vpn_x509_pubkey(pc->c[0], &key)) != 0)
        return VPN_ERR_AUTH;
    kt = vpn_sig_key_type_of(key);
    kind = kt == VPN_SIG_KEY_RSA ? VPN_CONF_AUTH_RSA_SIG : VPN_CONF_AUTH_ECDSA_SIG;
    *why = "authentication method not allowed by the profile";
    if (!ikev2_profile_accepts_auth(sa->profile, kind)) {
        vpn_sig_key_del(key);
        return VPN_ERR_AUTH;
    }
    *why = "peer's AUTH signature does not verify";
    rc = vpn_sig_auth_verify(key, method, auth, auth_len, octets, len, &used);
    vpn_sig_key_del(key);
    if (rc != 0)
        return VPN_ERR_AUTH;
    /* RFC 7427 4: only the hashes we announced (never SHA-1 there) */
    *why = "peer signed with a hash we did not offer";
    if (method == VPN_AUTH_METHOD_DIGITAL_SIG && used.hash == VPN_IKE_HASH_SHA1)
        return VPN_ERR_AUTH;
    sa->auth_remote_kind = kind;
    *why = NULL;
    return 0;
}
