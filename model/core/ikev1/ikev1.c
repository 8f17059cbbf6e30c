/*
 * IKEv1 Main Mode with pre-shared keys (RFC 2409 5, 5.4), informational
 * exchanges (RFC 2409 5.7). See ikev1.h.
 */
#include "ikev1/ikev1.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "common/vpn-err.h"
#include "common/wire.h"
#include "crypto/cipher.h"
#include "crypto/dh.h"
#include "crypto/kdf.h"
#include "crypto/prf.h"
#include "crypto/sig.h"
#include "isakmp/gdoi-codec.h"
#include "isakmp/isakmp-build.h"
#include "isakmp/isakmp-policy.h"

#define ENGINE "ikev1"
#define SA_MAX 1024 /* our copy of SAi_b */

struct vpn_ikev1_sa {
    vpn_ikev1_ctx ctx;
    vpn_ikev1_sa_stats st;
    vpn_ikev1_cfg cfg;
    uint8_t psk[VPN_IKEV1_PSK_MAX];
    vpn_ikev1_suite suites[VPN_IKEV1_SUITES_MAX]; /* cfg.suites points here */
    bool initiator;
    vpn_ikev1_state state;
    uint8_t icookie[8], rcookie[8];

    /* negotiated */
    uint16_t encr_bits, hash, group, prf, auth;
    uint16_t encr;  /* VPN_IKEV1_ENCR_AES_CBC or _3DES */
    size_t blk;     /* its block: 16 or 8 */
    uint32_t peer_doi;
    uint64_t life_s;

    uint8_t sai_b[SA_MAX]; /* the initiator's SA body (RFC 2409 5: SAi_b) */
    size_t sai_len;
    vpn_dh *dh;
    uint8_t gxi[VPN_DH_MAX_LEN], gxr[VPN_DH_MAX_LEN];
    size_t gx_len;
    uint8_t ni[VPN_ISAKMP_NONCE_MAX], nr[VPN_ISAKMP_NONCE_MAX];
    size_t ni_len, nr_len;
    vpn_ikev1_keys keys;
    bool have_keys;
    uint8_t iv[VPN_IKEV1_BLOCK];     /* phase-1 CBC chain */
    uint8_t p1_last[VPN_IKEV1_BLOCK]; /* last CBC block of phase 1 */
    vpn_addr peer_id;

    /* retransmission: the last message out (and its decrypted view) and,
     * on a responder, the last in; each a heap copy of its own length
     * (NULL when none), so an SA does not carry three maximum-sized
     * buffers (a key server holds one SA per member) */
    uint8_t *last_out, *last_view;
    size_t last_out_len, last_view_len;
    uint8_t *last_in;
    size_t last_in_len;
    uint64_t retrans_at;
    unsigned retrans_n;
    uint64_t expires_at;
    void *user;
};

int vpn_ikev1_memcmp_ct(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint8_t d = 0;

    for (size_t i = 0; i < n; i++)
        d |= (uint8_t)(a[i] ^ b[i]);
    return d != 0;
}

static bool auth_ok(const vpn_ikev1_sa *sa, uint16_t a)
{
    if (sa->initiator && sa->cfg.n_suites == 0)
        return a == sa->cfg.auth;
    if (a == VPN_IKEV1_AUTH_PSK)
        return sa->cfg.psk_len > 0;
    if (a == VPN_IKEV1_AUTH_RSA_SIG)
        return sa->cfg.key != NULL && sa->cfg.n_peer_keys > 0;
    return false;
}

/*
 * RFC 2409 5.1 with RSA: the signature is the PKCS#1 v1.5 (type 1)
 * encryption of HASH_I/HASH_R itself, no DigestInfo around it.
 */
static int rsa_raw_sign(const vpn_sig_key *k, const uint8_t *h, size_t hl, uint8_t *sig,
                        size_t *sl)
{
    /* checked before it leaves, as vpn_sig_sign's (crypto/sig.h) */
    return vpn_sig_rsa_raw_sign(k, h, hl, sig, sl);
}

static int rsa_raw_verify(const vpn_sig_key *k, const uint8_t *h, size_t hl, const uint8_t *sig,
                          size_t sl)
{
    return vpn_sig_rsa_raw_verify(k, h, hl, sig, sl);
}

static bool group_ok(const vpn_ikev1_sa *sa, uint16_t g)
{
    if (sa->cfg.n_suites)
        return true; /* checked against the suites */
    if (sa->initiator)
        return g == sa->cfg.group; /* what we proposed */
    if (g == VPN_DH_MODP_2048 || g == VPN_DH_ECP_256 || g == VPN_DH_ECP_384)
        return true;
    return sa->cfg.allow_legacy_groups && (g == VPN_DH_MODP_1024 || g == VPN_DH_MODP_1536);
}

int vpn_ikev1_sa_new(vpn_ikev1_sa **out, const vpn_ikev1_ctx *ctx, const vpn_ikev1_cfg *cfg,
                     bool initiator)
{
    vpn_ikev1_sa *sa;
    uint16_t prf;
    const vpn_dh_info *di;

    bool has_psk = cfg && cfg->psk && cfg->psk_len, has_rsa = cfg && cfg->key;

    if (!out || !ctx || !cfg || !ctx->send || !ctx->rng || (!has_psk && !has_rsa) ||
        cfg->psk_len > VPN_IKEV1_PSK_MAX || vpn_addr_len(&cfg->local_id) == 0 ||
        cfg->n_suites > VPN_IKEV1_SUITES_MAX || (cfg->n_suites && !cfg->suites))
        return VPN_ERR_INVAL;
    if (has_rsa && (vpn_sig_key_type_of(cfg->key) != VPN_SIG_KEY_RSA ||
                    !vpn_sig_key_is_private(cfg->key)))
        return VPN_ERR_INVAL;
    if (initiator) {
        uint16_t a = cfg->n_suites ? cfg->suites[0].auth : cfg->auth ? cfg->auth : VPN_IKEV1_AUTH_PSK;
        if ((a == VPN_IKEV1_AUTH_PSK && !has_psk) || (a == VPN_IKEV1_AUTH_RSA_SIG && !has_rsa) ||
            (a != VPN_IKEV1_AUTH_PSK && a != VPN_IKEV1_AUTH_RSA_SIG))
            return VPN_ERR_INVAL;
    }
    sa = vpn_calloc(&cfg->alloc, 1, sizeof *sa);
    if (!sa)
        return VPN_ERR_NOMEM;
    sa->ctx = *ctx;
    sa->cfg = *cfg;
    if (has_psk)
        memcpy(sa->psk, cfg->psk, cfg->psk_len);
    sa->cfg.psk = sa->psk;
    for (size_t i = 0; i < cfg->n_suites; i++) {
        vpn_ikev1_suite *su = &sa->suites[i];
        *su = cfg->suites[i];
        if (!su->lifetime_s)
            su->lifetime_s = VPN_IKEV1_DEFAULT_LIFETIME;
        if (!su->encr)
            su->encr = VPN_IKEV1_ENCR_AES_CBC;
        if (su->encr == VPN_IKEV1_ENCR_3DES)
            su->encr_key_bits = 192; /* three DES keys (RFC 2409 appendix B) */
        if (vpn_prf_from_ikev1_hash(su->hash, &prf) || vpn_dh_lookup(su->group, &di) ||
            (su->encr != VPN_IKEV1_ENCR_AES_CBC && su->encr != VPN_IKEV1_ENCR_3DES) ||
            (su->encr_key_bits != 128 && su->encr_key_bits != 192 && su->encr_key_bits != 256) ||
            (su->auth != VPN_IKEV1_AUTH_PSK && su->auth != VPN_IKEV1_AUTH_RSA_SIG)) {
            OPENSSL_cleanse(sa->psk, sizeof sa->psk);
            free(sa);
            return VPN_ERR_UNSUPPORTED;
        }
    }
    sa->cfg.suites = sa->suites;
    if (cfg->n_suites) {
        /* The first suite is what an initiator leads with. */
        sa->cfg.encr_key_bits = sa->suites[0].encr_key_bits;
        sa->cfg.hash = sa->suites[0].hash;
        sa->cfg.group = sa->suites[0].group;
        sa->cfg.auth = sa->suites[0].auth;
        sa->cfg.lifetime_s = sa->suites[0].lifetime_s;
    }
    if (!sa->cfg.auth)
        sa->cfg.auth = VPN_IKEV1_AUTH_PSK;
    if (!sa->cfg.encr_key_bits)
        sa->cfg.encr_key_bits = 256;
    if (!sa->cfg.hash)
        sa->cfg.hash = VPN_IKEV1_HASH_SHA2_256;
    if (!sa->cfg.group)
        sa->cfg.group = VPN_DH_MODP_2048;
    if (!sa->cfg.doi)
        sa->cfg.doi = VPN_IKEV1_DEFAULT_DOI;
    if (!sa->cfg.lifetime_s)
        sa->cfg.lifetime_s = VPN_IKEV1_DEFAULT_LIFETIME;
    if (!sa->cfg.retrans_ns)
        sa->cfg.retrans_ns = VPN_IKEV1_DEFAULT_RETRANS_NS;
    if (!sa->cfg.retrans_max)
        sa->cfg.retrans_max = VPN_IKEV1_DEFAULT_RETRANS_MAX;
    if (vpn_prf_from_ikev1_hash(sa->cfg.hash, &prf) || vpn_dh_lookup(sa->cfg.group, &di) ||
        (sa->cfg.encr_key_bits != 128 && sa->cfg.encr_key_bits != 192 &&
         sa->cfg.encr_key_bits != 256) ||
        (sa->cfg.doi != VPN_ISAKMP_DOI_IPSEC && sa->cfg.doi != VPN_ISAKMP_DOI_GDOI)) {
        OPENSSL_cleanse(sa->psk, sizeof sa->psk);
        free(sa);
        return VPN_ERR_UNSUPPORTED;
    }
    sa->initiator = initiator;
    sa->encr = VPN_IKEV1_ENCR_AES_CBC;
    sa->blk = 16;
    sa->retrans_at = UINT64_MAX;
    sa->expires_at = UINT64_MAX;
    *out = sa;
    return 0;
}

void vpn_ikev1_sa_params_init(vpn_ikev1_sa_params *p)
{
    if (p)
        memset(p, 0, sizeof *p);
}

int vpn_ikev1_sa_new_with(vpn_ikev1_sa **out, const vpn_ikev1_sa_params *p)
{
    if (p == NULL)
        return VPN_ERR_INVAL;
    return vpn_ikev1_sa_new(out, &p->ctx, &p->cfg, p->initiator);
}

/* Replaces *buf (len *blen) with a copy of src (n octets; none if n is 0
 * or memory is short, which only costs a retransmission). Returns false
 * when memory was short. */
static bool keep_copy(const vpn_alloc *a, uint8_t **buf, size_t *blen, const uint8_t *src, size_t n)
{
    if (*buf) {
        OPENSSL_cleanse(*buf, *blen);
        free(*buf);
    }
    *buf = n ? vpn_malloc(a, n) : NULL;
    *blen = *buf ? n : 0;
    if (*buf)
        memcpy(*buf, src, n);
    return n == 0 || *buf != NULL;
}

/* A copy that could not be kept is logged: absorbed, but not silent. */
static void keep_logged(vpn_ikev1_sa *sa, uint8_t **buf, size_t *blen, const uint8_t *src, size_t n,
                        const char *what)
{
    if (!keep_copy(&sa->cfg.alloc, buf, blen, src, n))
        vpn_log_emit(&sa->ctx.log, VPN_LOG_WARN, ENGINE, "out of memory keeping the %s (%s)", what,
                     "a retransmission is lost");
}

void vpn_ikev1_sa_del(vpn_ikev1_sa *sa)
{
    if (!sa)
        return;
    keep_copy(&sa->cfg.alloc, &sa->last_out, &sa->last_out_len, NULL, 0);
    keep_copy(&sa->cfg.alloc, &sa->last_view, &sa->last_view_len, NULL, 0);
    keep_copy(&sa->cfg.alloc, &sa->last_in, &sa->last_in_len, NULL, 0);
    vpn_dh_del(sa->dh);
    vpn_ikev1_keys_wipe(&sa->keys);
    OPENSSL_cleanse(sa, sizeof *sa);
    free(sa);
}

/* The getters take NULL (the engine contract): zero values, NULL pointers. */
vpn_ikev1_state vpn_ikev1_sa_state(const vpn_ikev1_sa *sa) { return sa ? sa->state : VPN_IKEV1_ST_DEAD; }
bool vpn_ikev1_sa_is_initiator(const vpn_ikev1_sa *sa) { return sa && sa->initiator; }
const uint8_t *vpn_ikev1_sa_icookie(const vpn_ikev1_sa *sa) { return sa ? sa->icookie : NULL; }
const uint8_t *vpn_ikev1_sa_rcookie(const vpn_ikev1_sa *sa) { return sa ? sa->rcookie : NULL; }
const vpn_addr *vpn_ikev1_sa_peer_id(const vpn_ikev1_sa *sa) { return sa ? &sa->peer_id : NULL; }
uint16_t vpn_ikev1_sa_group(const vpn_ikev1_sa *sa) { return sa ? sa->group : 0; }
uint16_t vpn_ikev1_sa_hash(const vpn_ikev1_sa *sa) { return sa ? sa->hash : 0; }
uint32_t vpn_ikev1_sa_peer_doi(const vpn_ikev1_sa *sa) { return sa ? sa->peer_doi : 0; }
void *vpn_ikev1_sa_get_user(const vpn_ikev1_sa *sa) { return sa ? sa->user : NULL; }
void vpn_ikev1_sa_stats_get(const vpn_ikev1_sa *sa, vpn_ikev1_sa_stats *out)
{
    if (out == NULL)
        return;
    if (sa == NULL)
        memset(out, 0, sizeof *out);
    else
        *out = sa->st;
}
void vpn_ikev1_sa_set_user(vpn_ikev1_sa *sa, void *user) { sa->user = user; }

const uint8_t *vpn_ikev1_sa_enc_key(const vpn_ikev1_sa *sa, size_t *len)
{
    if (len)
        *len = sa && sa->have_keys ? sa->keys.enc_key.len : 0;
    return sa ? sa->keys.enc_key.b : NULL;
}

size_t vpn_ikev1_sa_prf_len(const vpn_ikev1_sa *sa)
{
    const vpn_prf_info *pi;

    if (!sa || !sa->prf || vpn_prf_lookup(sa->prf, &pi))
        return 0;
    return pi->out_len;
}

static void fail(vpn_ikev1_sa *sa, const char *why)
{
    vpn_log_emit(&sa->ctx.log, VPN_LOG_WARN, ENGINE, "phase 1 failed: %s", why);
    sa->state = VPN_IKEV1_ST_DEAD;
    sa->retrans_at = UINT64_MAX;
    sa->expires_at = UINT64_MAX;
}

void vpn_ikev1_sa_emit(vpn_ikev1_sa *sa, const uint8_t *dg, size_t len, const uint8_t *view,
                       size_t view_len)
{
    sa->ctx.send(sa->ctx.user, sa, dg, len, view, view_len);
}

/* Sends and keeps the datagram for retransmission. */
static void send_keep(vpn_ikev1_sa *sa, const uint8_t *dg, size_t len, const uint8_t *view,
                      size_t view_len, uint64_t now)
{
    keep_logged(sa, &sa->last_out, &sa->last_out_len, dg, len, "last datagram sent");
    keep_logged(sa, &sa->last_view, &sa->last_view_len, view, view ? view_len : 0, "last datagram sent");
    sa->retrans_n = 0;
    sa->retrans_at = now + sa->cfg.retrans_ns;
    vpn_ikev1_sa_emit(sa, dg, len, view, view_len);
}

static void hdr_make(const vpn_ikev1_sa *sa, vpn_isakmp_hdr *h, uint8_t exch, uint32_t msg_id)
{
    memset(h, 0, sizeof *h);
    memcpy(h->icookie, sa->icookie, 8);
    memcpy(h->rcookie, sa->rcookie, 8);
    h->version = VPN_ISAKMP_VERSION;
    h->exchange = exch;
    h->msg_id = msg_id;
}

uint16_t vpn_ikev1_sa_encr(const vpn_ikev1_sa *sa) { return sa ? sa->encr : 0; }
size_t vpn_ikev1_sa_block(const vpn_ikev1_sa *sa) { return sa ? sa->blk : 0; }

static int cbc(const vpn_ikev1_sa *sa, uint8_t iv[VPN_IKEV1_BLOCK], uint8_t *buf, size_t len,
               bool enc)
{
    vpn_cipher *c;
    uint8_t next[VPN_IKEV1_BLOCK];
    bool des3 = sa->encr == VPN_IKEV1_ENCR_3DES;
    int rc;

    if (!sa->have_keys)
        return VPN_ERR_STATE;
    if (len == 0 || len % sa->blk)
        return VPN_ERR_INVAL;
    /* one context per message, behind the SA's gate like its other allocations */
    rc = vpn_cipher_new_a(&sa->cfg.alloc, &c, des3 ? VPN_ENCR_3DES : VPN_ENCR_AES_CBC,
                          des3 ? 0 : sa->encr_bits, sa->keys.enc_key.b, sa->keys.enc_key.len, enc);
    if (rc)
        return rc;
    if (!enc)
        memcpy(next, buf + len - sa->blk, sa->blk);
    rc = enc ? vpn_cipher_encrypt(c, iv, buf, len) : vpn_cipher_decrypt(c, iv, buf, len);
    vpn_cipher_del(c);
    if (rc)
        return rc;
    memcpy(iv, enc ? buf + len - sa->blk : next, sa->blk);
    return 0;
}

int vpn_ikev1_sa_encrypt(const vpn_ikev1_sa *sa, uint8_t iv[VPN_IKEV1_BLOCK], uint8_t *buf,
                         size_t len)
{
    return cbc(sa, iv, buf, len, true);
}

int vpn_ikev1_sa_decrypt(const vpn_ikev1_sa *sa, uint8_t iv[VPN_IKEV1_BLOCK], uint8_t *buf,
                         size_t len)
{
    return cbc(sa, iv, buf, len, false);
}

int vpn_ikev1_sa_prf_a(const vpn_ikev1_sa *sa, const vpn_iov *data, size_t n, uint8_t *out,
                       size_t cap, size_t *out_len)
{
    vpn_iov k;
    int rc;

    if (sa->state != VPN_IKEV1_ST_ESTABLISHED && !sa->have_keys)
        return VPN_ERR_STATE;
    k.p = sa->keys.skeyid_a.b;
    k.len = sa->keys.skeyid_a.len;
    rc = vpn_prf_compute(sa->prf, &k, 1, data, n, out, cap);
    if (rc)
        return rc;
    *out_len = vpn_ikev1_sa_prf_len(sa);
    return 0;
}

int vpn_ikev1_sa_p2_iv(const vpn_ikev1_sa *sa, uint32_t msg_id, uint8_t iv[VPN_IKEV1_BLOCK])
{
    if (sa->state != VPN_IKEV1_ST_ESTABLISHED)
        return VPN_ERR_STATE;
    return vpn_ikev1_phase2_iv(sa->prf, sa->p1_last, sa->blk, msg_id, iv);
}

/*
 * Pads, encrypts with iv (updated) and sends b's message; the decrypted
 * view goes along for traces.
 */
static int send_encrypted(vpn_ikev1_sa *sa, vpn_isakmp_bld *b, uint8_t *buf,
                          uint8_t iv[VPN_IKEV1_BLOCK], bool keep, uint64_t now, size_t len)
{
    uint8_t plain[VPN_IKEV1_MAX_MSG], view[VPN_IKEV1_MAX_MSG];
    size_t plen = len - VPN_ISAKMP_HDR_LEN;
    vpn_wr w;
    int rc;

    (void)b;
    memcpy(plain, buf + VPN_ISAKMP_HDR_LEN, plen);
    rc = cbc(sa, iv, buf + VPN_ISAKMP_HDR_LEN, plen, true);
    if (rc)
        return rc;
    vpn_wr_init(&w, view, sizeof view);
    rc = vpn_isakmp_decrypted_view(buf, len, plain, plen, &w);
    OPENSSL_cleanse(plain, sizeof plain);
    if (keep)
        send_keep(sa, buf, len, rc ? NULL : view, rc ? 0 : vpn_wr_len(&w), now);
    else
        vpn_ikev1_sa_emit(sa, buf, len, rc ? NULL : view, rc ? 0 : vpn_wr_len(&w));
    return 0;
}

/* A notify in clear (RFC 2408 5: errors before keys exist). */
static void send_notify_clear(vpn_ikev1_sa *sa, uint16_t type)
{
    uint8_t buf[256];
    vpn_isakmp_bld b;
    vpn_isakmp_hdr h;
    vpn_isakmp_notify n;
    size_t len;

    hdr_make(sa, &h, VPN_ISAKMP_EXCH_INFO, 0);
    memset(&n, 0, sizeof n);
    n.doi = VPN_ISAKMP_DOI_IPSEC;
    n.proto = VPN_ISAKMP_PROTO_ISAKMP;
    n.type = type;
    vpn_isakmp_bld_init(&b, buf, sizeof buf, &h);
    vpn_isakmp_bld_notify(&b, &n);
    if (vpn_isakmp_bld_finish(&b, &len) == 0)
        vpn_ikev1_sa_emit(sa, buf, len, NULL, 0);
}

/* One of our phase-1 transforms' attributes (RFC 2409 appendix A). */
static int write_attrs(const vpn_ikev1_suite *su, vpn_wr *w)
{
    vpn_ikev1_sa_attrs a;

    memset(&a, 0, sizeof a);
    a.present = 1u << VPN_IKEV1_ATTR_ENCR | 1u << VPN_IKEV1_ATTR_HASH |
                1u << VPN_IKEV1_ATTR_AUTH | 1u << VPN_IKEV1_ATTR_GROUP_DESC |
                1u << VPN_IKEV1_ATTR_KEY_LENGTH;
    a.encr = su->encr ? su->encr : VPN_IKEV1_ENCR_AES_CBC;
    a.hash = su->hash;
    a.auth = su->auth;
    a.group_desc = su->group;
    a.key_len = su->encr_key_bits;
    if (a.encr == VPN_IKEV1_ENCR_3DES)
        a.present &= ~(1u << VPN_IKEV1_ATTR_KEY_LENGTH); /* fixed-size key */
    a.life_types = 1u << VPN_IKEV1_LIFE_SECONDS;
    a.life_secs = su->lifetime_s;
    return vpn_ikev1_sa_attrs_encode(&a, w);
}

int vpn_ikev1_sa_start(vpn_ikev1_sa *sa, uint64_t now)
{
    uint8_t buf[SA_MAX], attrs[128];
    vpn_isakmp_bld b;
    vpn_isakmp_hdr h;
    vpn_wr aw;
    vpn_ikev1_suite one;
    const vpn_ikev1_suite *su = sa->suites;
    size_t len, n = sa->cfg.n_suites;
    int rc;

    if (!sa->initiator || sa->state != VPN_IKEV1_ST_IDLE)
        return VPN_ERR_STATE;
    if ((rc = vpn_rng_bytes(sa->ctx.rng, sa->icookie, 8)))
        return rc;
    memset(sa->rcookie, 0, 8);
    if (n == 0) {
        one.encr = VPN_IKEV1_ENCR_AES_CBC;
        one.encr_key_bits = sa->cfg.encr_key_bits;
        one.hash = sa->cfg.hash;
        one.group = sa->cfg.group;
        one.auth = sa->cfg.auth;
        one.lifetime_s = sa->cfg.lifetime_s;
        su = &one;
        n = 1;
    }
    /* RFC 2409 5: Main Mode message 1, one proposal with a transform per
     * suite, in order of preference (RFC 2408 4.2). */
    hdr_make(sa, &h, VPN_ISAKMP_EXCH_MAIN, 0);
    vpn_isakmp_bld_init(&b, buf, sizeof buf, &h);
    vpn_isakmp_bld_sa_begin(&b, sa->cfg.doi, VPN_IPSEC_DOI_SIT_IDENTITY_ONLY);
    vpn_isakmp_bld_prop_begin(&b, 1, VPN_ISAKMP_PROTO_ISAKMP, NULL, 0);
    for (size_t i = 0; i < n; i++) {
        vpn_wr_init(&aw, attrs, sizeof attrs);
        write_attrs(&su[i], &aw);
        vpn_isakmp_bld_xform(&b, (uint8_t)(i + 1), VPN_ISAKMP_KEY_IKE, attrs, vpn_wr_len(&aw));
    }
    vpn_isakmp_bld_prop_end(&b);
    vpn_isakmp_bld_sa_end(&b);
    if ((rc = vpn_isakmp_bld_finish(&b, &len)))
        return rc;
    /* SAi_b: the SA body after its generic header. */
    sa->sai_len = len - VPN_ISAKMP_HDR_LEN - VPN_ISAKMP_GEN_HDR_LEN;
    memcpy(sa->sai_b, buf + VPN_ISAKMP_HDR_LEN + VPN_ISAKMP_GEN_HDR_LEN, sa->sai_len);
    sa->state = VPN_IKEV1_ST_I_MSG1;
    sa->expires_at = UINT64_MAX;
    send_keep(sa, buf, len, NULL, 0, now);
    return 0;
}

/* The configured suite equal to a transform, NULL if none. */
static const vpn_ikev1_suite *suite_of(const vpn_ikev1_sa *sa, const vpn_ikev1_sa_attrs *a)
{
    for (size_t i = 0; i < sa->cfg.n_suites; i++) {
        const vpn_ikev1_suite *su = &sa->suites[i];
        if (su->encr == a->encr && su->encr_key_bits == a->key_len && su->hash == a->hash &&
            su->group == a->group_desc && su->auth == a->auth)
            return su;
    }
    return NULL;
}

/*
 * Why a transform is refused, naming the RFC 2409 appendix A attribute
 * and value (the log says it; the last refused transform is reported).
 */
static void why_refused(const vpn_ikev1_sa *sa, const vpn_ikev1_sa_attrs *a, uint16_t prf,
                        char *why, size_t cap)
{
    if (a->encr == VPN_IKEV1_ENCR_3DES && !sa->cfg.allow_legacy_ciphers)
        snprintf(why, cap, "encryption algorithm 5 (3DES-CBC): legacy ciphers not enabled");
    else if (a->encr != VPN_IKEV1_ENCR_AES_CBC && a->encr != VPN_IKEV1_ENCR_3DES)
        snprintf(why, cap, "encryption algorithm %u%s: only AES-CBC (7) and 3DES-CBC (5)",
                 a->encr, a->encr == VPN_IKEV1_ENCR_DES ? " (DES-CBC)" : "");
    else if (!auth_ok(sa, a->auth))
        snprintf(why, cap, "authentication method %u: no credentials for it", a->auth);
    else if (!group_ok(sa, a->group_desc))
        snprintf(why, cap, "group description %u%s", a->group_desc,
                 (a->group_desc == VPN_DH_MODP_1024 || a->group_desc == VPN_DH_MODP_1536)
                     ? ": legacy groups not enabled"
                     : ": not allowed");
    else if (prf == 0)
        snprintf(why, cap, "hash algorithm %u: not supported", a->hash);
}

/* Picks (responder) or checks (initiator) the transform of an SA payload. */
static int choose(vpn_ikev1_sa *sa, const vpn_isakmp_payload *p, uint8_t exch,
                  const uint8_t **xf_raw, size_t *xf_len, char *why, size_t why_cap)
{
    vpn_isakmp_sa s;
    vpn_isakmp_chain pc, xc;
    vpn_isakmp_prop pr;
    vpn_isakmp_xform x;
    vpn_ikev1_sa_attrs a;
    uint16_t prf;
    bool des3, encr_ok;
    int rc;

    if (vpn_isakmp_sa_decode(p->body, p->body_len, exch, &s))
        return VPN_ERR_MALFORMED;
    if (s.doi != VPN_ISAKMP_DOI_IPSEC && s.doi != VPN_ISAKMP_DOI_GDOI)
        return VPN_ERR_POLICY;
    vpn_isakmp_prop_iter_init(&pc, &s);
    while ((rc = vpn_isakmp_prop_next(&pc, &pr)) == 1) {
        if (pr.proto != VPN_ISAKMP_PROTO_ISAKMP)
            continue;
        vpn_isakmp_xform_iter_init(&xc, &pr);
        while ((rc = vpn_isakmp_xform_next(&xc, &x)) == 1) {
            uint32_t need = 1u << VPN_IKEV1_ATTR_ENCR | 1u << VPN_IKEV1_ATTR_HASH |
                            1u << VPN_IKEV1_ATTR_AUTH | 1u << VPN_IKEV1_ATTR_GROUP_DESC;
            if (x.id != VPN_ISAKMP_KEY_IKE ||
                vpn_ikev1_sa_attrs_decode(x.attrs.p, x.attrs.len, &a))
                continue;
            if ((a.present & need) != need) {
                snprintf(why, why_cap, "transform without encryption, hash, group or auth");
                continue;
            }
            /* 3DES only when configured: a suite naming it, or allow_legacy_ciphers */
            des3 = a.encr == VPN_IKEV1_ENCR_3DES;
            encr_ok = a.encr == VPN_IKEV1_ENCR_AES_CBC ||
                      (des3 && (sa->cfg.n_suites || sa->cfg.allow_legacy_ciphers));
            if (!encr_ok || !auth_ok(sa, a.auth) || !group_ok(sa, a.group_desc) ||
                vpn_prf_from_ikev1_hash(a.hash, &prf)) {
                if (vpn_prf_from_ikev1_hash(a.hash, &prf))
                    prf = 0;
                why_refused(sa, &a, prf, why, why_cap);
                continue;
            }
            if (des3) {
                /* RFC 2409 appendix A: no Key Length for fixed-size ciphers */
                if ((a.present & (1u << VPN_IKEV1_ATTR_KEY_LENGTH)) && a.key_len != 192) {
                    snprintf(why, why_cap, "key length %u: not a 3DES key", a.key_len);
                    continue;
                }
                a.key_len = 192;
            } else {
                if (!(a.present & (1u << VPN_IKEV1_ATTR_KEY_LENGTH)))
                    a.key_len = 128; /* RFC 3602 5.1: AES needs it; be lenient */
                if (a.key_len != 128 && a.key_len != 192 && a.key_len != 256) {
                    snprintf(why, why_cap, "key length %u: not an AES key", a.key_len);
                    continue;
                }
            }
            if ((a.present & (1u << VPN_IKEV1_ATTR_PRF)))
                continue; /* no PRF attribute is defined for use (RFC 2409 A) */
            if (sa->cfg.n_suites) {
                const vpn_ikev1_suite *su = suite_of(sa, &a);
                if (su == NULL) {
                    if (sa->initiator)
                        return VPN_ERR_POLICY; /* not what we offered */
                    continue;
                }
                sa->cfg.lifetime_s = su->lifetime_s;
            } else if (sa->initiator &&
                       (des3 || a.hash != sa->cfg.hash || a.group_desc != sa->cfg.group ||
                        a.key_len != sa->cfg.encr_key_bits))
                return VPN_ERR_POLICY; /* not what we offered */
            sa->encr_bits = a.key_len;
            sa->encr = a.encr;
            sa->blk = des3 ? 8 : 16;
            sa->auth = a.auth;
            sa->hash = a.hash;
            sa->prf = prf;
            sa->group = a.group_desc;
            sa->peer_doi = s.doi;
            sa->life_s = sa->cfg.lifetime_s;
            if ((a.life_types & (1u << VPN_IKEV1_LIFE_SECONDS)) && a.life_secs &&
                a.life_secs < sa->life_s)
                sa->life_s = a.life_secs;
            if (xf_raw) {
                *xf_raw = x.attrs.p;
                *xf_len = x.attrs.len;
            }
            return 0;
        }
        if (rc < 0)
            return VPN_ERR_MALFORMED;
    }
    return rc < 0 ? VPN_ERR_MALFORMED : VPN_ERR_POLICY;
}

static int send_ke_nonce(vpn_ikev1_sa *sa, uint64_t now)
{
    uint8_t buf[1024];
    vpn_isakmp_bld b;
    vpn_isakmp_hdr h;
    const uint8_t *pub;
    size_t plen, len;
    int rc;

    if (!sa->dh && (rc = vpn_dh_new(&sa->dh, sa->group, sa->ctx.rng)))
        return rc;
    pub = vpn_dh_public(sa->dh, &plen);
    if (sa->initiator) {
        memcpy(sa->gxi, pub, plen);
        sa->ni_len = VPN_IKEV1_NONCE_LEN;
        rc = vpn_rng_bytes(sa->ctx.rng, sa->ni, sa->ni_len);
    } else {
        memcpy(sa->gxr, pub, plen);
        sa->nr_len = VPN_IKEV1_NONCE_LEN;
        rc = vpn_rng_bytes(sa->ctx.rng, sa->nr, sa->nr_len);
    }
    if (rc)
        return rc;
    sa->gx_len = plen;
    hdr_make(sa, &h, VPN_ISAKMP_EXCH_MAIN, 0);
    vpn_isakmp_bld_init(&b, buf, sizeof buf, &h);
    vpn_isakmp_bld_raw(&b, VPN_ISAKMP_PL_KE, pub, plen);
    vpn_isakmp_bld_raw(&b, VPN_ISAKMP_PL_NONCE, sa->initiator ? sa->ni : sa->nr,
                       VPN_IKEV1_NONCE_LEN);
    if ((rc = vpn_isakmp_bld_finish(&b, &len)))
        return rc;
    send_keep(sa, buf, len, NULL, 0, now);
    return 0;
}

/* g^xy, SKEYID (RFC 2409 5: PSK), SKEYID_d/a/e, the key and the phase-1 IV. */
static int derive(vpn_ikev1_sa *sa)
{
    uint8_t gxy[VPN_DH_MAX_LEN];
    size_t glen = sizeof gxy;
    vpn_key skeyid;
    vpn_iov psk = {sa->psk, sa->cfg.psk_len}, ni = {sa->ni, sa->ni_len},
            nr = {sa->nr, sa->nr_len}, g = {gxy, 0}, gi = {sa->gxi, sa->gx_len},
            gr = {sa->gxr, sa->gx_len};
    int rc;

    rc = vpn_dh_compute(sa->dh, sa->initiator ? sa->gxr : sa->gxi, sa->gx_len, gxy, &glen);
    if (rc)
        return rc;
    g.len = glen;
    memset(&skeyid, 0, sizeof skeyid);
    if (sa->auth == VPN_IKEV1_AUTH_RSA_SIG)
        rc = vpn_ikev1_skeyid_sig(sa->prf, ni, nr, g, &skeyid); /* RFC 2409 5.1 */
    else
        rc = vpn_ikev1_skeyid_psk(sa->prf, psk, ni, nr, &skeyid); /* 5.4 */
    if (!rc)
        rc = vpn_ikev1_keys_derive(sa->prf, &skeyid, g, sa->icookie, sa->rcookie,
                                   sa->encr_bits / 8, &sa->keys);
    if (!rc)
        rc = vpn_ikev1_phase1_iv(sa->prf, gi, gr, sa->blk, sa->iv);
    vpn_key_wipe(&skeyid);
    OPENSSL_cleanse(gxy, sizeof gxy);
    if (!rc)
        sa->have_keys = true;
    return rc;
}

/*
 * HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b)
 * HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b)
 * (RFC 2409 5).
 */
static int auth_hash(const vpn_ikev1_sa *sa, bool of_initiator, const uint8_t *id_b,
                     size_t id_len, uint8_t *out)
{
    vpn_iov k = {sa->keys.skeyid.b, sa->keys.skeyid.len};
    vpn_iov d[6];

    d[0].p = of_initiator ? sa->gxi : sa->gxr;
    d[1].p = of_initiator ? sa->gxr : sa->gxi;
    d[0].len = d[1].len = sa->gx_len;
    d[2].p = of_initiator ? sa->icookie : sa->rcookie;
    d[3].p = of_initiator ? sa->rcookie : sa->icookie;
    d[2].len = d[3].len = 8;
    d[4].p = sa->sai_b;
    d[4].len = sa->sai_len;
    d[5].p = id_b;
    d[5].len = id_len;
    return vpn_prf_compute(sa->prf, &k, 1, d, 6, out, VPN_PRF_MAX_LEN);
}

static size_t id_body(const vpn_ikev1_sa *sa, uint8_t *out)
{
    const vpn_addr *a = &sa->cfg.local_id;
    size_t n = vpn_addr_len(a);

    out[0] = a->family == VPN_AF_INET6 ? VPN_ISAKMP_ID_IPV6_ADDR : VPN_ISAKMP_ID_IPV4_ADDR;
    out[1] = 0; /* protocol and port 0 (RFC 2407 4.6.2: allowed in phase 1) */
    out[2] = out[3] = 0;
    memcpy(out + 4, a->b, n);
    return 4 + n;
}

/* Messages 5 and 6: HDR*, ID, HASH_I / HASH_R. */
static int send_id_hash(vpn_ikev1_sa *sa, uint64_t now)
{
    uint8_t buf[1024], idb[24], hash[VPN_PRF_MAX_LEN], sig[512];
    size_t idl = id_body(sa, idb), len, sl = sizeof sig;
    vpn_isakmp_bld b;
    vpn_isakmp_hdr h;
    int rc;

    if ((rc = auth_hash(sa, sa->initiator, idb, idl, hash)))
        return rc;
    hdr_make(sa, &h, VPN_ISAKMP_EXCH_MAIN, 0);
    vpn_isakmp_bld_init(&b, buf, sizeof buf, &h);
    vpn_isakmp_bld_raw(&b, VPN_ISAKMP_PL_ID, idb, idl);
    if (sa->auth == VPN_IKEV1_AUTH_RSA_SIG) {
        if ((rc = rsa_raw_sign(sa->cfg.key, hash, vpn_ikev1_sa_prf_len(sa), sig, &sl)))
            return rc;
        vpn_isakmp_bld_raw(&b, VPN_ISAKMP_PL_SIG, sig, sl);
    } else {
        vpn_isakmp_bld_raw(&b, VPN_ISAKMP_PL_HASH, hash, vpn_ikev1_sa_prf_len(sa));
    }
    if ((rc = vpn_isakmp_bld_pad(&b, sa->blk, &len)))
        return rc;
    rc = send_encrypted(sa, &b, buf, sa->iv, true, now, len);
    if (!rc && !sa->initiator)
        memcpy(sa->p1_last, sa->iv, VPN_IKEV1_BLOCK);
    return rc;
}

static void established(vpn_ikev1_sa *sa, uint64_t now)
{
    char a[VPN_ADDR_STRLEN];

    sa->state = VPN_IKEV1_ST_ESTABLISHED;
    sa->retrans_at = UINT64_MAX;
    sa->expires_at = now + sa->life_s * 1000000000ull;
    vpn_dh_del(sa->dh);
    sa->dh = NULL;
    vpn_log_emit(&sa->ctx.log, VPN_LOG_INFO, ENGINE,
                 "phase 1 established with %s (group %u, hash %u, %s-%u, DOI %u)",
                 vpn_addr_str(&sa->peer_id, a, sizeof a), sa->group, sa->hash,
                 sa->encr == VPN_IKEV1_ENCR_3DES ? "3DES" : "AES", sa->encr_bits,
                 sa->peer_doi);
}

static int read_peer_id(vpn_ikev1_sa *sa, const vpn_isakmp_payload *p)
{
    vpn_isakmp_id id;

    if (vpn_isakmp_id_decode(p->body, p->body_len, &id))
        return VPN_ERR_MALFORMED;
    if (id.type == VPN_ISAKMP_ID_IPV4_ADDR && id.data.len == 4)
        return vpn_addr_from_bytes(&sa->peer_id, id.data.p, 4);
    if (id.type == VPN_ISAKMP_ID_IPV6_ADDR && id.data.len == 16)
        return vpn_addr_from_bytes(&sa->peer_id, id.data.p, 16);
    return VPN_ERR_UNSUPPORTED;
}

/* Decrypts an E message with *iv (updated only on success) into plain. */
static int open_msg(vpn_ikev1_sa *sa, vpn_isakmp_msg *m, uint8_t iv[VPN_IKEV1_BLOCK],
                    uint8_t *plain)
{
    uint8_t tiv[VPN_IKEV1_BLOCK];
    int rc;

    if (!m->encrypted || m->body_len == 0 || m->body_len % sa->blk ||
        m->body_len > VPN_IKEV1_MAX_MSG)
        return VPN_ERR_MALFORMED;
    memcpy(plain, m->body, m->body_len);
    memcpy(tiv, iv, sizeof tiv);
    if ((rc = cbc(sa, tiv, plain, m->body_len, false)))
        return rc;
    if ((rc = vpn_isakmp_msg_parse_plain(m, plain, m->body_len, NULL)))
        return rc;
    memcpy(iv, tiv, sizeof tiv);
    return 0;
}

static int check_auth(vpn_ikev1_sa *sa, const vpn_isakmp_msg *m)
{
    const vpn_isakmp_payload *id = vpn_isakmp_msg_find(m, VPN_ISAKMP_PL_ID, 0);
    bool rsa = sa->auth == VPN_IKEV1_AUTH_RSA_SIG;
    const vpn_isakmp_payload *hp =
        vpn_isakmp_msg_find(m, rsa ? VPN_ISAKMP_PL_SIG : VPN_ISAKMP_PL_HASH, 0);
    uint8_t want[VPN_PRF_MAX_LEN];
    size_t hl = vpn_ikev1_sa_prf_len(sa);

    if (!id || !hp)
        return VPN_ERR_MALFORMED;
    if (auth_hash(sa, !sa->initiator, id->body, id->body_len, want))
        return VPN_ERR_CRYPTO;
    if (rsa) {
        size_t i;
        for (i = 0; i < sa->cfg.n_peer_keys; i++)
            if (rsa_raw_verify(sa->cfg.peer_keys[i], want, hl, hp->body, hp->body_len) == 0)
                break;
        if (i == sa->cfg.n_peer_keys)
            return VPN_ERR_AUTH;
    } else if (hp->body_len != hl || vpn_ikev1_memcmp_ct(want, hp->body, hl)) {
        return VPN_ERR_AUTH;
    }
    return read_peer_id(sa, id);
}

static int save_ke_nonce(vpn_ikev1_sa *sa, const vpn_isakmp_msg *m)
{
    const vpn_isakmp_payload *ke = vpn_isakmp_msg_find(m, VPN_ISAKMP_PL_KE, 0);
    const vpn_isakmp_payload *no = vpn_isakmp_msg_find(m, VPN_ISAKMP_PL_NONCE, 0);
    const vpn_dh_info *di;

    if (!ke || !no || vpn_dh_lookup(sa->group, &di))
        return VPN_ERR_MALFORMED;
    if (ke->body_len != di->pub_len || no->body_len < VPN_ISAKMP_NONCE_MIN ||
        no->body_len > VPN_ISAKMP_NONCE_MAX)
        return VPN_ERR_MALFORMED;
    if (sa->initiator) {
        memcpy(sa->gxr, ke->body, ke->body_len);
        memcpy(sa->nr, no->body, no->body_len);
        sa->nr_len = no->body_len;
    } else {
        memcpy(sa->gxi, ke->body, ke->body_len);
        memcpy(sa->ni, no->body, no->body_len);
        sa->ni_len = no->body_len;
    }
    sa->gx_len = ke->body_len;
    return 0;
}

/* RFC 2409 5.7: HASH(1) = prf(SKEYID_a, M-ID | N/D). */
static int info_input(vpn_ikev1_sa *sa, vpn_isakmp_msg *m)
{
    uint8_t plain[VPN_IKEV1_MAX_MSG], iv[VPN_IKEV1_BLOCK], want[VPN_PRF_MAX_LEN], mid[4];
    vpn_isakmp_view after;
    vpn_iov d[2];
    size_t hl;
    int rc;

    if (!m->encrypted) {
        /* Unauthenticated notifies can only be logged (RFC 2408 5). */
        const vpn_isakmp_payload *np = vpn_isakmp_msg_find(m, VPN_ISAKMP_PL_N, 0);
        vpn_isakmp_notify n;
        if (np && vpn_isakmp_notify_decode(np->body, np->body_len, &n) == 0)
            vpn_log_emit(&sa->ctx.log, VPN_LOG_WARN, ENGINE, "peer says notify %u (clear)",
                         n.type);
        return 0;
    }
    if (sa->state != VPN_IKEV1_ST_ESTABLISHED || m->hdr.msg_id == 0)
        return VPN_ERR_STATE;
    if ((rc = vpn_ikev1_sa_p2_iv(sa, m->hdr.msg_id, iv)))
        return rc;
    if ((rc = open_msg(sa, m, iv, plain)))
        return rc;
    if (m->n < 2 || m->pl[0].type != VPN_ISAKMP_PL_HASH || vpn_isakmp_msg_after(m, 0, &after))
        return VPN_ERR_MALFORMED;
    vpn_store32(mid, m->hdr.msg_id);
    d[0].p = mid;
    d[0].len = 4;
    d[1].p = after.p;
    d[1].len = after.len;
    if ((rc = vpn_ikev1_sa_prf_a(sa, d, 2, want, sizeof want, &hl)))
        return rc;
    if (m->pl[0].body_len != hl || vpn_ikev1_memcmp_ct(want, m->pl[0].body, hl))
        return VPN_ERR_AUTH;
    for (size_t i = 1; i < m->n; i++) {
        if (m->pl[i].type == VPN_ISAKMP_PL_D) {
            vpn_isakmp_delete del;
            if (vpn_isakmp_delete_decode(m->pl[i].body, m->pl[i].body_len, &del) == 0 &&
                del.proto == VPN_ISAKMP_PROTO_ISAKMP && del.spi_size == 16) {
                vpn_log_emit(&sa->ctx.log, VPN_LOG_INFO, ENGINE, "peer deleted phase 1");
                sa->state = VPN_IKEV1_ST_DEAD;
                sa->retrans_at = sa->expires_at = UINT64_MAX;
            }
        } else if (m->pl[i].type == VPN_ISAKMP_PL_N) {
            vpn_isakmp_notify n;
            if (vpn_isakmp_notify_decode(m->pl[i].body, m->pl[i].body_len, &n) == 0)
                vpn_log_emit(&sa->ctx.log, VPN_LOG_INFO, ENGINE, "peer says notify %u", n.type);
        }
    }
    return 0;
}

static int sa_input(vpn_ikev1_sa *sa, const uint8_t *dg, size_t len, uint64_t now);

/* The engine contract for input: a refused datagram is counted and logged here, once, and
 * leaves the SA as sa_input's comment says; the code returned only tells why. */
int vpn_ikev1_sa_input(vpn_ikev1_sa *sa, const uint8_t *dg, size_t len, uint64_t now)
{
    vpn_ikev1_state before;
    int rc;

    if (sa == NULL || (dg == NULL && len))
        return VPN_ERR_INVAL;
    before = sa->state;
    rc = sa_input(sa, dg, len, now);
    if (rc == 0) {
        sa->st.in++;
        return 0;
    }
    sa->st.dropped++;
    if (rc == VPN_ERR_MALFORMED || rc == VPN_ERR_TRUNCATED)
        sa->st.malformed++;
    /* a refusal that ended the SA was logged by fail() already (WARN, with the reason) */
    if (!(sa->state == VPN_IKEV1_ST_DEAD && before != VPN_IKEV1_ST_DEAD))
        vpn_log_emit(&sa->ctx.log, VPN_LOG_DEBUG, ENGINE, "datagram of %zu bytes dropped: %s",
                     len, vpn_strerror(rc));
    return rc;
}

static int sa_input(vpn_ikev1_sa *sa, const uint8_t *dg, size_t len, uint64_t now)
{
    vpn_isakmp_msg m;
    uint8_t plain[VPN_IKEV1_MAX_MSG];
    const vpn_isakmp_payload *p;
    char why[96] = "no ISAKMP proposal";
    int rc;

    if ((rc = vpn_isakmp_msg_parse(dg, len, &m)))
        return rc;
    if (sa->state != VPN_IKEV1_ST_IDLE && memcmp(m.hdr.icookie, sa->icookie, 8))
        return VPN_ERR_NOTFOUND;
    if (m.hdr.exchange == VPN_ISAKMP_EXCH_INFO)
        return info_input(sa, &m);
    if (m.hdr.exchange != VPN_ISAKMP_EXCH_MAIN || m.hdr.msg_id != 0)
        return VPN_ERR_UNSUPPORTED;
    /* A responder answers a repeated message with its last reply. */
    if (!sa->initiator && sa->last_in && sa->last_in_len == len &&
        memcmp(sa->last_in, dg, len) == 0 && sa->last_out_len) {
        vpn_ikev1_sa_emit(sa, sa->last_out, sa->last_out_len,
                          sa->last_view_len ? sa->last_view : NULL, sa->last_view_len);
        return 0;
    }

    switch (sa->state) {
    case VPN_IKEV1_ST_IDLE: { /* responder, message 1 */
        const uint8_t *xa = NULL;
        size_t xl = 0;
        uint8_t buf[512];
        vpn_isakmp_bld b;
        vpn_isakmp_hdr h;
        size_t olen;

        if (sa->initiator || m.encrypted || !(p = vpn_isakmp_msg_find(&m, VPN_ISAKMP_PL_SA, 0)))
            return VPN_ERR_STATE;
        for (int i = 0; i < 8; i++)
            if (m.hdr.rcookie[i])
                return VPN_ERR_MALFORMED;
        memcpy(sa->icookie, m.hdr.icookie, 8);
        if (p->body_len > SA_MAX)
            return VPN_ERR_LIMIT;
        rc = choose(sa, p, m.hdr.exchange, &xa, &xl, why, sizeof why);
        if (rc) {
            char msg[160];
            send_notify_clear(sa, VPN_ISAKMP_N_NO_PROPOSAL_CHOSEN);
            snprintf(msg, sizeof msg, "no proposal chosen (last refused: %s)", why);
            fail(sa, msg);
            return rc;
        }
        do {
            if ((rc = vpn_rng_bytes(sa->ctx.rng, sa->rcookie, 8)))
                return rc;
        } while (!(sa->rcookie[0] | sa->rcookie[1] | sa->rcookie[2] | sa->rcookie[3] |
                   sa->rcookie[4] | sa->rcookie[5] | sa->rcookie[6] | sa->rcookie[7]));
        memcpy(sa->sai_b, p->body, p->body_len);
        sa->sai_len = p->body_len;
        hdr_make(sa, &h, VPN_ISAKMP_EXCH_MAIN, 0);
        vpn_isakmp_bld_init(&b, buf, sizeof buf, &h);
        vpn_isakmp_bld_sa_begin(&b, sa->peer_doi, VPN_IPSEC_DOI_SIT_IDENTITY_ONLY);
        vpn_isakmp_bld_prop_begin(&b, 1, VPN_ISAKMP_PROTO_ISAKMP, NULL, 0);
        vpn_isakmp_bld_xform(&b, 1, VPN_ISAKMP_KEY_IKE, xa, xl);
        vpn_isakmp_bld_prop_end(&b);
        vpn_isakmp_bld_sa_end(&b);
        if ((rc = vpn_isakmp_bld_finish(&b, &olen)))
            return rc;
        sa->state = VPN_IKEV1_ST_R_MSG2;
        send_keep(sa, buf, olen, NULL, 0, now);
        break;
    }
    case VPN_IKEV1_ST_I_MSG1: /* message 2 */
        if (m.encrypted || !(p = vpn_isakmp_msg_find(&m, VPN_ISAKMP_PL_SA, 0)))
            return VPN_ERR_MALFORMED;
        if (!(m.hdr.rcookie[0] | m.hdr.rcookie[1] | m.hdr.rcookie[2] | m.hdr.rcookie[3] |
              m.hdr.rcookie[4] | m.hdr.rcookie[5] | m.hdr.rcookie[6] | m.hdr.rcookie[7]))
            return VPN_ERR_MALFORMED;
        if ((rc = choose(sa, p, m.hdr.exchange, NULL, NULL, why, sizeof why))) {
            fail(sa, "responder chose a transform we did not offer");
            return rc;
        }
        memcpy(sa->rcookie, m.hdr.rcookie, 8);
        if ((rc = send_ke_nonce(sa, now)))
            return rc;
        sa->state = VPN_IKEV1_ST_I_MSG3;
        break;
    case VPN_IKEV1_ST_R_MSG2: /* message 3 */
        if (m.encrypted || memcmp(m.hdr.rcookie, sa->rcookie, 8))
            return VPN_ERR_MALFORMED;
        if ((rc = save_ke_nonce(sa, &m)))
            return rc;
        if ((rc = send_ke_nonce(sa, now)))
            return rc;
        if ((rc = derive(sa))) {
            send_notify_clear(sa, VPN_ISAKMP_N_INVALID_KEY_INFORMATION);
            fail(sa, "bad key exchange");
            return rc;
        }
        sa->state = VPN_IKEV1_ST_R_MSG4;
        break;
    case VPN_IKEV1_ST_I_MSG3: /* message 4 */
        if (m.encrypted || memcmp(m.hdr.rcookie, sa->rcookie, 8))
            return VPN_ERR_MALFORMED;
        if ((rc = save_ke_nonce(sa, &m)))
            return rc;
        if ((rc = derive(sa))) {
            fail(sa, "bad key exchange");
            return rc;
        }
        if ((rc = send_id_hash(sa, now)))
            return rc;
        sa->state = VPN_IKEV1_ST_I_MSG5;
        break;
    case VPN_IKEV1_ST_R_MSG4: { /* message 5 */
        uint8_t iv[VPN_IKEV1_BLOCK], prev[VPN_IKEV1_BLOCK];
        if (memcmp(m.hdr.rcookie, sa->rcookie, 8))
            return VPN_ERR_MALFORMED;
        memcpy(iv, sa->iv, sizeof iv);
        if ((rc = open_msg(sa, &m, iv, plain))) {
            /* garbage after decryption: a pre-shared key mismatch, or
             * damage in transit; wait for a retransmission */
            vpn_log_emit(&sa->ctx.log, VPN_LOG_WARN, ENGINE,
                         "message 5 unreadable: probable pre-shared key mismatch");
            return rc;
        }
        if ((rc = check_auth(sa, &m))) {
            send_notify_clear(sa, VPN_ISAKMP_N_AUTHENTICATION_FAILED);
            fail(sa, "HASH_I does not verify");
            return rc;
        }
        memcpy(prev, sa->iv, sizeof prev);
        memcpy(sa->iv, iv, sizeof iv);
        if ((rc = send_id_hash(sa, now))) {
            /* ours (memory, crypto library): message 5 is not taken, so
             * its retransmission opens under the IV it was sent with */
            memcpy(sa->iv, prev, sizeof prev);
            return rc;
        }
        established(sa, now);
        break;
    }
    case VPN_IKEV1_ST_I_MSG5: { /* message 6 */
        uint8_t iv[VPN_IKEV1_BLOCK];
        if (memcmp(m.hdr.rcookie, sa->rcookie, 8))
            return VPN_ERR_MALFORMED;
        memcpy(iv, sa->iv, sizeof iv);
        if ((rc = open_msg(sa, &m, iv, plain)))
            return rc;
        if ((rc = check_auth(sa, &m))) {
            fail(sa, "HASH_R does not verify");
            return rc;
        }
        memcpy(sa->iv, iv, sizeof iv);
        memcpy(sa->p1_last, iv, sizeof iv);
        established(sa, now);
        break;
    }
    default:
        return VPN_ERR_STATE;
    }
    if (!sa->initiator && len <= VPN_IKEV1_MAX_MSG)
        keep_logged(sa, &sa->last_in, &sa->last_in_len, dg, len, "last datagram received");
    return 0;
}

uint64_t vpn_ikev1_sa_next_deadline(const vpn_ikev1_sa *sa)
{
    if (sa->state == VPN_IKEV1_ST_DEAD || sa->state == VPN_IKEV1_ST_IDLE)
        return UINT64_MAX;
    return sa->retrans_at < sa->expires_at ? sa->retrans_at : sa->expires_at;
}

void vpn_ikev1_sa_timeout(vpn_ikev1_sa *sa, uint64_t now)
{
    if (sa->state == VPN_IKEV1_ST_DEAD)
        return;
    if (now >= sa->expires_at) {
        vpn_log_emit(&sa->ctx.log, VPN_LOG_INFO, ENGINE, "phase 1 lifetime over");
        if (sa->state == VPN_IKEV1_ST_ESTABLISHED)
            vpn_ikev1_sa_delete(sa, now);
        sa->state = VPN_IKEV1_ST_DEAD;
        sa->expires_at = sa->retrans_at = UINT64_MAX;
        return;
    }
    if (now < sa->retrans_at)
        return;
    if (sa->retrans_n >= sa->cfg.retrans_max) {
        fail(sa, "peer does not answer");
        return;
    }
    sa->retrans_n++;
    sa->retrans_at = now + sa->cfg.retrans_ns;
    if (sa->initiator && sa->last_out_len)
        vpn_ikev1_sa_emit(sa, sa->last_out, sa->last_out_len,
                          sa->last_view_len ? sa->last_view : NULL, sa->last_view_len);
}

/* An Informational exchange under the phase-1 SA carrying one Delete or
 * one Notify (RFC 2409 5.7: HASH(1) = prf(SKEYID_a, M-ID | N/D)). */
static int send_informational(vpn_ikev1_sa *sa, const vpn_isakmp_delete *d,
                              const vpn_isakmp_notify *n, uint64_t now)
{
    uint8_t buf[256], iv[VPN_IKEV1_BLOCK], mid[4], *slot;
    vpn_isakmp_bld b;
    vpn_isakmp_hdr h;
    vpn_isakmp_view after;
    vpn_iov io[2];
    uint32_t msg_id = 0;
    size_t len, hl;
    int rc;

    while (msg_id == 0)
        if ((rc = vpn_rng_bytes(sa->ctx.rng, &msg_id, 4)))
            return rc;
    hdr_make(sa, &h, VPN_ISAKMP_EXCH_INFO, msg_id);
    vpn_isakmp_bld_init(&b, buf, sizeof buf, &h);
    vpn_isakmp_bld_placeholder(&b, VPN_ISAKMP_PL_HASH, vpn_ikev1_sa_prf_len(sa), &slot);
    if (d)
        vpn_isakmp_bld_delete(&b, d);
    else
        vpn_isakmp_bld_notify(&b, n);
    if ((rc = vpn_isakmp_bld_pad(&b, sa->blk, &len)) ||
        (rc = vpn_isakmp_bld_after(&b, 0, &after)))
        return rc;
    vpn_store32(mid, msg_id);
    io[0].p = mid;
    io[0].len = 4;
    io[1].p = after.p;
    io[1].len = after.len;
    if ((rc = vpn_ikev1_sa_prf_a(sa, io, 2, slot, VPN_PRF_MAX_LEN, &hl)) ||
        (rc = vpn_ikev1_sa_p2_iv(sa, msg_id, iv)))
        return rc;
    return send_encrypted(sa, &b, buf, iv, false, now, len);
}

int vpn_ikev1_sa_delete(vpn_ikev1_sa *sa, uint64_t now)
{
    uint8_t spi[16];
    vpn_isakmp_delete d;
    int rc;

    if (sa->state != VPN_IKEV1_ST_ESTABLISHED)
        return VPN_ERR_STATE;
    memcpy(spi, sa->icookie, 8);
    memcpy(spi + 8, sa->rcookie, 8);
    memset(&d, 0, sizeof d);
    d.doi = VPN_ISAKMP_DOI_IPSEC;
    d.proto = VPN_ISAKMP_PROTO_ISAKMP;
    d.spi_size = 16;
    d.nspi = 1;
    d.spis.p = spi;
    d.spis.len = 16;
    rc = send_informational(sa, &d, NULL, now);
    sa->state = VPN_IKEV1_ST_DEAD;
    sa->retrans_at = sa->expires_at = UINT64_MAX;
    return rc;
}

int vpn_ikev1_sa_notify(vpn_ikev1_sa *sa, uint16_t type, uint64_t now)
{
    vpn_isakmp_notify n;

    if (sa->state != VPN_IKEV1_ST_ESTABLISHED)
        return VPN_ERR_STATE;
    memset(&n, 0, sizeof n);
    n.doi = VPN_ISAKMP_DOI_IPSEC;
    n.proto = VPN_ISAKMP_PROTO_ISAKMP;
    n.type = type;
    return send_informational(sa, NULL, &n, now);
}

int vpn_ikev1_sa_wireshark_line(const vpn_ikev1_sa *sa, char *out, size_t cap)
{
    size_t kl, n = 0;
    const uint8_t *k = vpn_ikev1_sa_enc_key(sa, &kl);

    if (k == NULL || kl == 0)
        return VPN_ERR_STATE;
    if (cap < 16 + 1 + 2 * kl + 1)
        return VPN_ERR_NOSPACE;
    for (int i = 0; i < 8; i++)
        n += (size_t)snprintf(out + n, cap - n, "%02x", sa->icookie[i]);
    out[n++] = ',';
    for (size_t i = 0; i < kl; i++)
        n += (size_t)snprintf(out + n, cap - n, "%02x", k[i]);
    return (int)n;
}
