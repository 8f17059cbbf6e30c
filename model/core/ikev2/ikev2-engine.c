/*
 * The IKEv2 engine's core: contexts, SA tables, message IDs and windows
 * (RFC 7296 2.1-2.3), retransmission, the response cache, protection and
 * fragmentation of messages (3.14, RFC 7383), NAT-T framing (RFC 3948 2.2),
 * timers and events. The exchanges themselves live in ikev2-init.c,
 * ikev2-auth.c, ikev2-child.c and ikev2-info.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/vpn-err.h"
#include "ikev2/ikev2-eng.h"
#include "ikev2/ikev2-ts.h"
#include "ipsec/ip.h"
#include "ipsec/natt.h"

#define DEFAULT_RTO_NS (1 * NS_PER_S)
#define DEFAULT_RTO_MAX_NS (32 * NS_PER_S)
#define DEFAULT_RETRIES 5u
#define DEFAULT_HALF_OPEN_IN 40u
#define DEFAULT_HALF_OPEN_OUT 400u
#define COOKIE_ROTATE_NS (300 * NS_PER_S)
#define PENDING_RETRY_NS (1 * NS_PER_S) /* a queued Delete that could not start (run_pending) */
#define FRAG_IP_MTU 1280                   /* RFC 7383 2.5.1: a safe IP datagram size */

static const uint8_t non_esp_marker[4] = {0, 0, 0, 0};

const char *vpn_ikev2_reason_name(vpn_ikev2_reason r)
{
    switch (r) {
    case VPN_IKEV2_R_NONE: return "none";
    case VPN_IKEV2_R_LOCAL_DELETE: return "deleted locally";
    case VPN_IKEV2_R_PEER_DELETE: return "deleted by peer";
    case VPN_IKEV2_R_TIMEOUT: return "retransmission timeout";
    case VPN_IKEV2_R_DPD: return "dead peer";
    case VPN_IKEV2_R_AUTH_FAILED: return "authentication failed";
    case VPN_IKEV2_R_PEER_AUTH_FAILED: return "peer reports authentication failed";
    case VPN_IKEV2_R_NO_PROPOSAL: return "no proposal chosen";
    case VPN_IKEV2_R_TS_UNACCEPTABLE: return "traffic selectors unacceptable";
    case VPN_IKEV2_R_INVALID_KE: return "invalid KE payload";
    case VPN_IKEV2_R_NO_POLICY: return "no matching policy";
    case VPN_IKEV2_R_PEER_ERROR: return "error notify from peer";
    case VPN_IKEV2_R_PROTOCOL: return "protocol error";
    case VPN_IKEV2_R_REKEYED: return "rekeyed";
    case VPN_IKEV2_R_EXPIRED: return "lifetime expired";
    case VPN_IKEV2_R_INTERNAL: return "internal error";
    }
    return "unknown";
}

/*
 * Why an exchange failed, from the error notify that ended it: one table for
 * every place that maps one (RFC 7296 3.10.1 error types). The columns keep
 * each place's own mapping: the peer's answer to IKE_SA_INIT or to a
 * CHILD_SA request names the KE/AUTH failures (an INVALID_KE_PAYLOAD in a
 * CREATE_CHILD_SA answer is not retried: RFC 7296 1.3 lets the responder
 * name only a group it found in our proposals, and a CHILD_SA request
 * offers only the ipsec profile's one PFS group, the one its KE carries;
 * IKE_SA_INIT and an IKE SA rekey offer several and retry: ikev2-init.c,
 * ikev2-child.c); anything else the peer sends is a peer error; our own
 * refusal of a CHILD_SA request is a selector or a proposal problem.
 */
static const struct {
    uint16_t notify;
    vpn_ikev2_reason r[3];            /* by ikev2_notify_from */
} notify_reasons[] = {
    {VPN_IKEV2_N_NO_PROPOSAL_CHOSEN,
     {VPN_IKEV2_R_NO_PROPOSAL, VPN_IKEV2_R_NO_PROPOSAL, VPN_IKEV2_R_NO_PROPOSAL}},
    {VPN_IKEV2_N_TS_UNACCEPTABLE,
     {VPN_IKEV2_R_TS_UNACCEPTABLE, VPN_IKEV2_R_TS_UNACCEPTABLE, VPN_IKEV2_R_TS_UNACCEPTABLE}},
    {VPN_IKEV2_N_INVALID_KE_PAYLOAD, {VPN_IKEV2_R_INVALID_KE, VPN_IKEV2_R_INVALID_KE, VPN_IKEV2_R_NO_PROPOSAL}},
    {VPN_IKEV2_N_AUTHENTICATION_FAILED,
     {VPN_IKEV2_R_PEER_AUTH_FAILED, VPN_IKEV2_R_PEER_AUTH_FAILED, VPN_IKEV2_R_NO_PROPOSAL}},
};

vpn_ikev2_reason ikev2_reason_for(uint16_t notify, ikev2_notify_from from)
{
    for (size_t i = 0; i < sizeof notify_reasons / sizeof notify_reasons[0]; i++)
        if (notify_reasons[i].notify == notify)
            return notify_reasons[i].r[from];
    return from == IKEV2_NF_REFUSED ? VPN_IKEV2_R_NO_PROPOSAL : VPN_IKEV2_R_PEER_ERROR;
}

/* ---- buffers ------------------------------------------------------------------ */

int ikev2_buf_set(vpn_ikev2_ctx *ctx, ikev2_buf *b, const uint8_t *p, size_t len)
{
    uint8_t *n = vpn_malloc(ctx ? &ctx->params.alloc : NULL, len ? len : 1);
    if (n == NULL)
        return VPN_ERR_NOMEM;
    if (len)
        memcpy(n, p, len);
    free(b->p);
    b->p = n;
    b->len = len;
    return 0;
}

void ikev2_buf_free(ikev2_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = 0;
}

static void bufs_free(ikev2_buf *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ikev2_buf_free(&b[i]);
}

/* ---- context -------------------------------------------------------------------- */

static int cookie_rotate(vpn_ikev2_ctx *ctx, uint64_t now)
{
    uint8_t fresh[VPN_IKEV2_COOKIE_SECRET_LEN];
    int rc = vpn_rng_bytes(&ctx->params.rng, fresh, sizeof fresh);
    if (rc != 0)
        return rc;
    /* RFC 7296 2.6: keep the previous secret valid for a while. */
    memcpy(ctx->cookie_secret[1], ctx->cookie_secret[0], sizeof fresh);
    memcpy(ctx->cookie_secret[0], fresh, sizeof fresh);
    OPENSSL_cleanse(fresh, sizeof fresh);
    ctx->cookie_version++;
    ctx->cookie_rotate_at = now + COOKIE_ROTATE_NS;
    return 0;
}

int vpn_ikev2_ctx_new(vpn_ikev2_ctx **out, const vpn_ikev2_params *params)
{
    vpn_ikev2_ctx *ctx;
    int rc;

    if (out == NULL)
        return VPN_ERR_INVAL;
    *out = NULL;
    if (params == NULL || params->conf == NULL || params->send == NULL || params->rng.fill == NULL)
        return VPN_ERR_INVAL;
    if ((ctx = vpn_calloc(&params->alloc, 1, sizeof *ctx)) == NULL)
        return VPN_ERR_NOMEM;
    ctx->params = *params;
    ctx->conf = params->conf;
    snprintf(ctx->name, sizeof ctx->name, "%s", params->name ? params->name : "ikev2");
    ctx->params.name = ctx->name;
    /* the driver's params, else `crypto ikev2 retransmit`, else the defaults */
    if (!ctx->params.rto_initial_ns)
        ctx->params.rto_initial_ns = ctx->conf->ikev2_retx_timeout_ms ? ctx->conf->ikev2_retx_timeout_ms * 1000000ull
                                                                       : DEFAULT_RTO_NS;
    if (!ctx->params.rto_max_ns)
        ctx->params.rto_max_ns = ctx->conf->ikev2_retx_max_s ? ctx->conf->ikev2_retx_max_s * 1000000000ull
                                                             : DEFAULT_RTO_MAX_NS;
    if (ctx->params.rto_max_ns < ctx->params.rto_initial_ns)
        ctx->params.rto_max_ns = ctx->params.rto_initial_ns;
    if (!ctx->params.retries)
        ctx->params.retries = ctx->conf->ikev2_retx_count ? ctx->conf->ikev2_retx_count : DEFAULT_RETRIES;
    if (!ctx->params.max_half_open_in)
        ctx->params.max_half_open_in = DEFAULT_HALF_OPEN_IN;
    if (!ctx->params.max_half_open_out)
        ctx->params.max_half_open_out = DEFAULT_HALF_OPEN_OUT;
    ctx->next_id = 1;
    ctx->cidx.complete = true; /* no child yet, none missing */
    ctx->ho_complete = true;
    /* (mapped: mostly never written, see vpn_big_alloc) */
    ctx->scratch = vpn_big_alloc(&ctx->params.alloc, IKEV2_MSG_MAX);
    ctx->plain = vpn_big_alloc(&ctx->params.alloc, IKEV2_MSG_MAX);
    if (ctx->scratch == NULL || ctx->plain == NULL) {
        vpn_ikev2_ctx_del(ctx);
        return VPN_ERR_NOMEM;
    }
    if ((rc = cookie_rotate(ctx, 0)) != 0 || (rc = cookie_rotate(ctx, 0)) != 0) {
        vpn_ikev2_ctx_del(ctx);
        return rc;
    }
    /* The clock's epoch is the driver's: rotate on first use. */
    ctx->cookie_rotate_at = 0;
    *out = ctx;
    return 0;
}

static void exch_clear(ikev2_exch *x)
{
    bufs_free(x->msg, x->n_msg);
    vpn_dh_del(x->dh);
    if (x->collide) {
        OPENSSL_cleanse(x->collide, sizeof *x->collide);
        free(x->collide);
    }
    OPENSSL_cleanse(x, sizeof *x);
}

/* The fragments of the message being reassembled and their table (kept
 * off the SA between messages, issue 14); rf_raw1 stays. */
static void reasm_chunks_free(ikev2_sa *sa)
{
    if (sa->rf_chunk != NULL) {
        bufs_free(sa->rf_chunk, IKEV2_FRAG_MAX);
        free(sa->rf_chunk);
        sa->rf_chunk = NULL;
    }
    sa->rf_active = false;
    sa->rf_have = 0;
}

static void reasm_clear(ikev2_sa *sa)
{
    reasm_chunks_free(sa);
    ikev2_buf_free(&sa->rf_raw1);
    sa->rf_total = 0;
}

static void child_wipe(ikev2_child *c)
{
    OPENSSL_cleanse(c, sizeof *c);
}

static void rcache_clear(ikev2_rcache *r)
{
    bufs_free(r->resp, r->n_resp);
    ikev2_buf_free(&r->req);
    memset(r, 0, sizeof *r);
}

static void park_clear(ikev2_sa *sa)
{
    for (size_t i = 0; i < sa->n_park; i++)
        exch_clear(&sa->park[i]);
    sa->n_park = 0;
}

static void sa_free(ikev2_sa *sa)
{
    if (sa == NULL)
        return;
    exch_clear(&sa->req);
    park_clear(sa);
    free(sa->park);
    if (sa->old_resp) {
        for (size_t i = 0; i < IKEV2_WINDOW_MAX - 1; i++)
            rcache_clear(&sa->old_resp[i]);
        free(sa->old_resp);
    }
    bufs_free(sa->resp, sa->n_resp);
    ikev2_buf_free(&sa->last_req);
    ikev2_buf_free(&sa->init_req);
    ikev2_buf_free(&sa->init_resp);
    reasm_clear(sa);
    vpn_dh_del(sa->dh);
    vpn_ikev2_crypto_free(&sa->cr);
    vpn_eap_server_free(sa->eap_srv);
    vpn_eap_peer_free(sa->eap_peer);
    free(sa->ra_creq); /* an SA gone mid-EAP */
    ikev2_buf_free(&sa->ra_first);
    ikev2_buf_free(&sa->eap_wait_raw);
    free(sa->ra_authz);
    for (size_t i = 0; i < sa->n_child; i++)
        child_wipe(&sa->child[i]);
    free(sa->child);
    OPENSSL_cleanse(sa, sizeof *sa);
    free(sa);
}

void vpn_ikev2_ctx_del(vpn_ikev2_ctx *ctx)
{
    if (ctx == NULL)
        return;
    vpn_dheap_free(&ctx->dl); /* before the SAs it points into */
    for (size_t i = 0; i < ctx->n_sa; i++)
        sa_free(ctx->sa[i]);
    free(ctx->sa);
    free(ctx->id_hash);
    free(ctx->spi_hash);
    ikev2_cidx_free(&ctx->cidx);
    ikev2_ridx_free(&ctx->ridx);
    vpn_htab_free(&ctx->spis);
    free(ctx->ho_in);
    free(ctx->tm);
    for (size_t i = 0; i < ctx->n_pool; i++)
        vpn_ippool_free(&ctx->pool[i]);
    free(ctx->pool);
    free(ctx->policy);
    for (size_t i = 0; i < IKEV2_TOMB_MAX; i++) {
        ikev2_buf_free(&ctx->tomb[i].req);
        ikev2_buf_free(&ctx->tomb[i].resp);
    }
    ikev2_tp_free_all(ctx);
    /* (they held decrypted payloads: vpn_big_free wipes them) */
    vpn_big_free(ctx->scratch, IKEV2_MSG_MAX);
    vpn_big_free(ctx->scratch2, IKEV2_MSG_MAX);
    vpn_big_free(ctx->plain, IKEV2_MSG_MAX);
    OPENSSL_cleanse(ctx, sizeof *ctx);
    free(ctx);
}

/* ---- policies -------------------------------------------------------------------- */

static int policy_resolve(const vpn_ikev2_ctx *ctx, const vpn_ikev2_policy *in, ikev2_policy *out)
{
    const char *name = in->ipsec_profile ? in->ipsec_profile : "default";

    memset(out, 0, sizeof *out);
    out->p = *in;
    if (strlen(name) >= sizeof out->ipsec_profile)
        return VPN_ERR_INVAL;
    if (in->n_ts_local > VPN_IKEV2_TS_MAX || in->n_ts_remote > VPN_IKEV2_TS_MAX)
        return VPN_ERR_INVAL;
    for (size_t i = 0; i < in->n_ts_local; i++)
        if (!vpn_ikev2_selector_valid(&in->ts_local[i]))
            return VPN_ERR_INVAL;
    for (size_t i = 0; i < in->n_ts_remote; i++)
        if (!vpn_ikev2_selector_valid(&in->ts_remote[i]))
            return VPN_ERR_INVAL;
    memcpy(out->ipsec_profile, name, strlen(name) + 1);
    out->p.ipsec_profile = out->ipsec_profile;
    out->ipp = vpn_conf_find_ipsec_profile(ctx->conf, name);
    if (out->ipp == NULL)
        return VPN_ERR_NOTFOUND;
    if (out->ipp->ikev2_profile[0] == '\0' || out->ipp->n_transform_set == 0)
        return VPN_ERR_POLICY;
    out->ike_profile = vpn_conf_find_profile(ctx->conf, out->ipp->ikev2_profile);
    if (out->ike_profile == NULL)
        return VPN_ERR_NOTFOUND;
    return 0;
}

static bool policy_same(const ikev2_policy *a, const ikev2_policy *b)
{
    return strcmp(a->ipsec_profile, b->ipsec_profile) == 0 &&
           memcmp(&a->p.remote, &b->p.remote, sizeof a->p.remote) == 0 &&
           a->p.n_ts_local == b->p.n_ts_local && a->p.n_ts_remote == b->p.n_ts_remote &&
           memcmp(a->p.ts_local, b->p.ts_local, sizeof a->p.ts_local) == 0 &&
           memcmp(a->p.ts_remote, b->p.ts_remote, sizeof a->p.ts_remote) == 0 && a->p.tag == b->p.tag &&
           a->p.tunnel_mode_only == b->p.tunnel_mode_only;
}

int ikev2_policy_add(vpn_ikev2_ctx *ctx, const vpn_ikev2_policy *p, size_t *index)
{
    ikev2_policy np;
    int rc;

    if (ctx == NULL || p == NULL)
        return VPN_ERR_INVAL;
    if ((rc = policy_resolve(ctx, p, &np)) != 0)
        return rc;
    for (size_t i = 0; i < ctx->n_policy; i++) {
        if (policy_same(&ctx->policy[i], &np)) {
            if (index)
                *index = i;
            return 0;
        }
    }
    if (ctx->n_policy == ctx->cap_policy) {
        size_t cap = ctx->cap_policy ? ctx->cap_policy * 2 : 4;
        ikev2_policy *n = vpn_realloc(&ctx->params.alloc, ctx->policy, cap * sizeof *n);
        if (n == NULL)
            return VPN_ERR_NOMEM;
        ctx->policy = n;
        ctx->cap_policy = cap;
    }
    ctx->policy[ctx->n_policy] = np;
    /* the copied name pointer must follow the array element */
    ctx->policy[ctx->n_policy].p.ipsec_profile = ctx->policy[ctx->n_policy].ipsec_profile;
    if (index)
        *index = ctx->n_policy;
    ctx->n_policy++;
    return 0;
}

int vpn_ikev2_policy_add(vpn_ikev2_ctx *ctx, const vpn_ikev2_policy *p)
{
    int rc = ikev2_policy_add(ctx, p, NULL);
    /* realloc may have moved the array: refresh the name pointers */
    for (size_t i = 0; ctx && i < ctx->n_policy; i++)
        ctx->policy[i].p.ipsec_profile = ctx->policy[i].ipsec_profile;
    return rc;
}

void vpn_ikev2_policy_vti(vpn_ikev2_policy *pol, const char *ipsec_profile, const vpn_addr *peer,
                          uint32_t tag)
{
    vpn_prefix any;

    memset(pol, 0, sizeof *pol);
    pol->ipsec_profile = ipsec_profile;
    pol->remote.addr = *peer;
    pol->remote.len = (uint8_t)(vpn_addr_len(peer) * 8);
    pol->tag = tag;
    memset(&any, 0, sizeof any);
    any.addr.family = VPN_AF_INET;
    vpn_ikev2_selector_from_prefix(&pol->ts_local[0], &any, 0);
    vpn_ikev2_selector_from_prefix(&pol->ts_remote[0], &any, 0);
    pol->n_ts_local = pol->n_ts_remote = 1;
    pol->tunnel_mode_only = true;
}

/* ---- SA tables ------------------------------------------------------------------- */

uint32_t ikev2_new_id(vpn_ikev2_ctx *ctx)
{
    uint32_t id = ctx->next_id++;
    if (ctx->next_id == 0)
        ctx->next_id = 1;
    return id;
}

/* ---- the SA indexes: by handle and by SPIi ------------------------------------------ */

static size_t hash_slot(uint64_t key, size_t n)
{
    /* SPIs are random but the peer chooses SPIi, and handles count: mix both. */
    uint64_t h = key * 0x9e3779b97f4a7c15ull;
    h ^= h >> 29;
    return (size_t)h & (n - 1);
}

/* Appends to the chain's tail so a chain lists SAs in the order they were indexed, the
 * order the walks over sa[] this replaces found them in. */
static void chain_add(ikev2_sa **slot, ikev2_sa *sa, bool by_spi)
{
    while (*slot)
        slot = by_spi ? &(*slot)->spi_next : &(*slot)->id_next;
    *slot = sa;
    if (by_spi)
        sa->spi_next = NULL;
    else
        sa->id_next = NULL;
}

static void chain_del(ikev2_sa **slot, const ikev2_sa *sa, bool by_spi)
{
    for (; *slot; slot = by_spi ? &(*slot)->spi_next : &(*slot)->id_next)
        if (*slot == sa) {
            *slot = by_spi ? sa->spi_next : sa->id_next;
            return;
        }
}

void ikev2_sa_index_spi(vpn_ikev2_ctx *ctx, ikev2_sa *sa)
{
    if (sa->spi_hashed)
        chain_del(&ctx->spi_hash[hash_slot(sa->hashed_spi_i, ctx->n_hash)], sa, true);
    sa->hashed_spi_i = ikev2_spi64(sa->spi_i);
    chain_add(&ctx->spi_hash[hash_slot(sa->hashed_spi_i, ctx->n_hash)], sa, true);
    sa->spi_hashed = true;
}

static void sa_unindex(vpn_ikev2_ctx *ctx, ikev2_sa *sa)
{
    chain_del(&ctx->id_hash[hash_slot(sa->id, ctx->n_hash)], sa, false);
    if (sa->spi_hashed)
        chain_del(&ctx->spi_hash[hash_slot(sa->hashed_spi_i, ctx->n_hash)], sa, true);
    sa->spi_hashed = false;
}

/* Grows sa[] and the indexes together (the index keeps at most half a bucket per SA).
 * Returns 0 or VPN_ERR_NOMEM (then nothing changed). */
static int sa_grow(vpn_ikev2_ctx *ctx)
{
    size_t cap = ctx->cap_sa ? ctx->cap_sa * 2 : 8;
    ikev2_sa **ih, **sh, **n;
    void **tm;

    /* The deadline heap and the due list get their room first: growing
     * them alone (the old sa[] stays) changes nothing but their capacity,
     * so a failure after them still leaves every SA where it was. */
    if (vpn_dheap_reserve(&ctx->dl, &ctx->params.alloc, cap) != 0)
        return VPN_ERR_NOMEM;
    if ((tm = vpn_realloc(&ctx->params.alloc, ctx->tm, cap * sizeof *tm)) == NULL)
        return VPN_ERR_NOMEM;
    ctx->tm = tm;
    ih = vpn_calloc(&ctx->params.alloc, 2 * cap, sizeof *ih);
    sh = vpn_calloc(&ctx->params.alloc, 2 * cap, sizeof *sh);
    n = ih && sh ? vpn_realloc(&ctx->params.alloc, ctx->sa, cap * sizeof *n) : NULL;
    if (n == NULL) {
        free(ih);
        free(sh);
        return VPN_ERR_NOMEM;
    }
    ctx->sa = n;
    ctx->cap_sa = cap;
    free(ctx->id_hash);
    free(ctx->spi_hash);
    ctx->id_hash = ih;
    ctx->spi_hash = sh;
    ctx->n_hash = 2 * cap;
    for (size_t i = 0; i < ctx->n_sa; i++) {
        ikev2_sa *sa = ctx->sa[i];
        chain_add(&ih[hash_slot(sa->id, ctx->n_hash)], sa, false);
        if (sa->spi_hashed)
            chain_add(&sh[hash_slot(sa->hashed_spi_i, ctx->n_hash)], sa, true);
    }
    return 0;
}

ikev2_sa *ikev2_sa_new(vpn_ikev2_ctx *ctx, uint64_t now, bool initiator,
                       const vpn_ikev2_endpoint *local, const vpn_ikev2_endpoint *remote)
{
    ikev2_sa *sa;

    if (ctx->n_sa == ctx->cap_sa && sa_grow(ctx) != 0)
        return NULL;
    if ((sa = vpn_calloc(&ctx->params.alloc, 1, sizeof *sa)) == NULL)
        return NULL;
    sa->id = ikev2_new_id(ctx);
    sa->initiator = initiator;
    sa->local = *local;
    sa->remote = *remote;
    sa->created = now;
    sa->last_recv = now;
    sa->window_remote = 1; /* RFC 7296 2.3: until the peer says more */
    sa->seq = ctx->sa_seq++;
    /* cannot fail: sa_grow reserved a heap slot for every slot of sa[] */
    if (vpn_dheap_push(&ctx->dl, sa, &sa->dl_pos, UINT64_MAX) != 0) {
        free(sa);
        return NULL;
    }
    ikev2_sa_deadline_changed(ctx, sa);
    ctx->sa[ctx->n_sa++] = sa;
    chain_add(&ctx->id_hash[hash_slot(sa->id, ctx->n_hash)], sa, false);
    return sa;
}

/* The SA with handle id, not marked as changed (for lookups that only read
 * it or keep its deadline themselves). */
static ikev2_sa *sa_by_id_ro(const vpn_ikev2_ctx *ctx, uint32_t id)
{
    if (ctx->n_hash == 0)
        return NULL;
    for (ikev2_sa *sa = ctx->id_hash[hash_slot(id, ctx->n_hash)]; sa; sa = sa->id_next)
        if (sa->id == id && sa->phase != IKEV2_P_DEAD)
            return sa;
    return NULL;
}

/* The context is never const itself (vpn_ikev2_ctx_new allocates it): marking
 * an SA for its deadline to be recomputed changes nothing a caller can see. */
static ikev2_sa *sa_touched(const vpn_ikev2_ctx *ctx, ikev2_sa *sa)
{
    ikev2_sa_deadline_changed((vpn_ikev2_ctx *)(uintptr_t)ctx, sa);
    return sa;
}

/* Every SA the exchanges reach goes through a lookup: the lookup marks it as
 * possibly changed, so no timer setter can forget the deadline heap. */
ikev2_sa *ikev2_sa_by_id(const vpn_ikev2_ctx *ctx, uint32_t id)
{
    return sa_touched(ctx, sa_by_id_ro(ctx, id));
}

static ikev2_sa *sa_by_spis(const vpn_ikev2_ctx *ctx, uint64_t spi_i, uint64_t spi_r)
{
    if (ctx->n_hash == 0)
        return NULL;
    for (ikev2_sa *sa = ctx->spi_hash[hash_slot(spi_i, ctx->n_hash)]; sa; sa = sa->spi_next) {
        if (sa->phase != IKEV2_P_DEAD && ikev2_spi64(sa->spi_i) == spi_i &&
            ikev2_spi64(sa->spi_r) == spi_r)
            return sa_touched(ctx, sa);
    }
    return NULL;
}

ikev2_child *ikev2_child_by_id(ikev2_sa *sa, uint32_t id)
{
    for (size_t i = 0; i < sa->n_child; i++)
        if (sa->child[i].id == id)
            return &sa->child[i];
    return NULL;
}

ikev2_child *ikev2_child_by_spi_out(ikev2_sa *sa, uint32_t spi)
{
    for (size_t i = 0; i < sa->n_child; i++)
        if (sa->child[i].spi_out == spi)
            return &sa->child[i];
    return NULL;
}

/* ---- the CHILD_SA index: child id -> IKE SA handle (ikev2-cidx.c) ---------------- */

static void cidx_put(vpn_ikev2_ctx *ctx, uint32_t child_id, uint32_t sa_id)
{
    ikev2_cidx_put(&ctx->cidx, &ctx->params.alloc, child_id, sa_id);
}

static void cidx_del(vpn_ikev2_ctx *ctx, uint32_t child_id)
{
    ikev2_cidx_del(&ctx->cidx, child_id);
}

void ikev2_children_moved(vpn_ikev2_ctx *ctx, const ikev2_sa *sa)
{
    for (size_t i = 0; i < sa->n_child; i++)
        cidx_put(ctx, sa->child[i].id, sa->id);
}

ikev2_child *ikev2_child_add(vpn_ikev2_ctx *ctx, ikev2_sa *sa)
{
    ikev2_child *c;

    if (sa->n_child == sa->cap_child) {
        size_t cap = sa->cap_child ? sa->cap_child * 2 : 2;
        ikev2_child *n = vpn_malloc(&ctx->params.alloc, cap * sizeof *n);
        if (n == NULL)
            return NULL;
        if (sa->n_child)
            memcpy(n, sa->child, sa->n_child * sizeof *n);
        if (sa->child) {
            OPENSSL_cleanse(sa->child, sa->cap_child * sizeof *n);
            free(sa->child);
        }
        sa->child = n;
        sa->cap_child = cap;
    }
    c = &sa->child[sa->n_child++];
    memset(c, 0, sizeof *c);
    c->id = ikev2_new_id(ctx);
    cidx_put(ctx, c->id, sa->id);
    return c;
}

/* ---- our inbound CHILD_SA SPIs (ctx->spis) ------------------------------------------ */

/* The SPIs sa holds: its children's, its requests' (in flight, parked) and,
 * until the SA is up, the remote-access offer kept across EAP rounds (its
 * SPI is in no request then); fn(user, spi) for each (zeros skipped; one
 * SPI may come twice). */
static void sa_spis(const ikev2_sa *sa, void (*fn)(void *user, uint32_t spi), void *user)
{
    for (size_t k = 0; k < sa->n_child; k++)
        if (sa->child[k].spi_in)
            fn(user, sa->child[k].spi_in);
    if (sa->req.new_spi)
        fn(user, sa->req.new_spi);
    for (size_t k = 0; k < sa->n_park; k++)
        if (sa->park[k].new_spi)
            fn(user, sa->park[k].new_spi);
    if (sa->ra_creq && sa->ra_creq->spi && sa->phase < IKEV2_P_ESTABLISHED)
        fn(user, sa->ra_creq->spi);
}

typedef struct spi_probe {
    uint32_t spi;
    bool found;
} spi_probe;

static void spi_probe_fn(void *user, uint32_t spi)
{
    spi_probe *p = user;
    p->found = p->found || p->spi == spi;
}

static bool sa_holds_spi(const ikev2_sa *sa, uint32_t spi)
{
    spi_probe p = {spi, false};
    sa_spis(sa, spi_probe_fn, &p);
    return p.found;
}

static void spi_count_fn(void *user, uint32_t spi)
{
    (void)spi;
    ++*(size_t *)user;
}

static void spi_put_fn(void *user, uint32_t spi)
{
    (void)vpn_htab_put(user, spi, 1); /* room: spis_rebuild sized it */
}

/* Refills ctx->spis from the SPIs in use (every SA's, dead or not: a dead
 * SA's SPIs stay taken until it is freed), with room for as many again and
 * at least one per SA more: a refill walks every SA, so as many SPIs as
 * there are SAs are handed out before the next one (amortised O(1)).
 * 0 or VPN_ERR_NOMEM (the table as it was). */
static int spis_rebuild(vpn_ikev2_ctx *ctx)
{
    size_t count = 0;
    int rc;

    for (size_t i = 0; i < ctx->n_sa; i++)
        sa_spis(ctx->sa[i], spi_count_fn, &count);
    if ((rc = vpn_htab_reset(&ctx->spis, &ctx->params.alloc, 2 * (count > ctx->n_sa ? count : ctx->n_sa) + 2)) != 0)
        return rc;
    for (size_t i = 0; i < ctx->n_sa; i++)
        sa_spis(ctx->sa[i], spi_put_fn, &ctx->spis);
    return 0;
}

/* Whether spi is ours already (reserved or in use). */
static bool spi_taken(const vpn_ikev2_ctx *ctx, uint32_t spi)
{
    if (!ctx->spis_partial)
        return vpn_htab_find(&ctx->spis, spi) != NULL;
    for (size_t i = 0; i < ctx->n_sa; i++)
        if (sa_holds_spi(ctx->sa[i], spi))
            return true;
    return false;
}

/* Records spi as taken; a full table is refilled from the SPIs in use
 * first (what was dropped unannounced goes then). Refused: spis_partial. */
static void spi_keep(vpn_ikev2_ctx *ctx, uint32_t spi)
{
    if (!ctx->spis_partial && vpn_htab_put(&ctx->spis, spi, 1) == 0)
        return;
    ctx->spis_partial = spis_rebuild(ctx) != 0 || vpn_htab_put(&ctx->spis, spi, 1) != 0;
}

/* spi is sa's no more: out of the table unless sa still holds it elsewhere
 * (the child installed from a request still in sa->req, say). An SPI is
 * only ever in one SA: an IKE rekey moves the children wholesale. */
void ikev2_spi_release(vpn_ikev2_ctx *ctx, const ikev2_sa *sa, uint32_t spi)
{
    if (spi && !sa_holds_spi(sa, spi))
        (void)vpn_htab_del(&ctx->spis, spi, 1);
}

void ikev2_child_remove(vpn_ikev2_ctx *ctx, ikev2_sa *sa, ikev2_child *c)
{
    size_t i = (size_t)(c - sa->child);
    uint32_t spi;
    if (i >= sa->n_child)
        return;
    spi = c->spi_in;
    cidx_del(ctx, c->id);
    child_wipe(c);
    memmove(&sa->child[i], &sa->child[i + 1], (sa->n_child - i - 1) * sizeof *c);
    sa->n_child--;
    OPENSSL_cleanse(&sa->child[sa->n_child], sizeof *c);
    ikev2_spi_release(ctx, sa, spi);
}

int ikev2_new_child_spi(vpn_ikev2_ctx *ctx, uint32_t *spi)
{
    for (int tries = 0; tries < 64; tries++) {
        uint8_t b[4];
        uint32_t v;
        int rc = vpn_rng_bytes(&ctx->params.rng, b, 4);
        if (rc != 0)
            return rc;
        v = vpn_load32(b);
        /* RFC 4303 2.1: 1-255 are reserved; 0 is invalid. */
        if (v < 256 || spi_taken(ctx, v))
            continue;
        spi_keep(ctx, v);
        *spi = v;
        return 0;
    }
    return VPN_ERR_CRYPTO;
}

/* ---- events ------------------------------------------------------------------------- */

void ikev2_emit(vpn_ikev2_ctx *ctx, ikev2_sa *sa, vpn_ikev2_event_type type,
                vpn_ikev2_reason reason, uint16_t notify, const ikev2_child *child,
                uint32_t old_id, const char *detail)
{
    vpn_ikev2_event ev;
    vpn_ikev2_child_info ci;

    if (type == VPN_IKEV2_EV_FAILED)
        ctx->stats.sa_failed++;
    if (type == VPN_IKEV2_EV_IKE_UP)
        ctx->stats.sa_up++;
    if (ctx->params.event == NULL)
        return;
    memset(&ev, 0, sizeof ev);
    ev.type = type;
    ev.ike_sa_id = sa ? sa->id : 0;
    ev.old_id = old_id;
    ev.reason = reason;
    ev.notify = notify;
    if (sa) {
        ev.local = sa->local;
        ev.remote = sa->remote;
    }
    if (child) {
        ikev2_child_fill_info(sa, child, &ci, ctx, type == VPN_IKEV2_EV_CHILD_UP);
        ci.old_id = old_id;
        ev.child = &ci;
    }
    ev.detail = detail;
    ctx->params.event(ctx->params.user, &ev);
    if (child)
        OPENSSL_cleanse(&ci, sizeof ci);
}

static int park_req(vpn_ikev2_ctx *ctx, ikev2_sa *sa);

/* How far back the oldest of our unanswered requests lies from the next
 * message ID (0: none in flight). */
static uint32_t unanswered_span(const ikev2_sa *sa)
{
    uint32_t span = 0;

    if (sa->req.task != IKEV2_T_NONE && !sa->req.answered)
        span = sa->mid_send - sa->req.mid;
    for (size_t i = 0; i < sa->n_park; i++)
        if (sa->park[i].task != IKEV2_T_NONE && sa->mid_send - sa->park[i].mid > span)
            span = sa->mid_send - sa->park[i].mid;
    return span;
}

/* An IKE SA rekey of ours unanswered: the peer may have made the new SA
 * already, which only its answer lets us name (RFC 7296 2.18). */
static bool ike_rekey_in_flight(const ikev2_sa *sa)
{
    if (sa->req.task == IKEV2_T_IKE_REKEY && !sa->req.answered)
        return true;
    for (size_t i = 0; i < sa->n_park; i++)
        if (sa->park[i].task == IKEV2_T_IKE_REKEY)
            return true;
    return false;
}

/* Whether the closing SA's Delete must wait for requests in flight. */
static bool close_waits(const ikev2_sa *sa)
{
    return unanswered_span(sa) >= sa->window_remote || ike_rekey_in_flight(sa);
}

/* The closing SA's last INFORMATIONAL (sa->close_task), with
 * retransmissions; the SA is freed on its answer or timeout. */
static void close_send(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now)
{
    ikev2_task task = sa->close_task;

    sa->close_task = IKEV2_T_NONE;
    if (sa->req.task != IKEV2_T_NONE && park_req(ctx, sa) != 0) {
        ikev2_sa_mark_dead(ctx, sa);
        return;
    }
    sa->phase = IKEV2_P_ESTABLISHED; /* INFORMATIONAL runs under an established SA */
    if (ikev2_info_start(ctx, sa, now, task, 0) == 0)
        sa->phase = IKEV2_P_DELETING;
    else
        ikev2_sa_mark_dead(ctx, sa);
}

/* Tells the driver, once, that sa is down: CHILD_DOWN for each CHILD_SA it
 * knows of, then IKE_DOWN (it was up) or FAILED (it never was). */
static void sa_down_emit(vpn_ikev2_ctx *ctx, ikev2_sa *sa, vpn_ikev2_reason reason, uint16_t notify,
                         const char *detail, bool closing)
{
    bool was_up = sa->established != 0;

    if (sa->down_emitted)
        return;
    for (size_t i = 0; i < sa->n_child; i++)
        if (sa->child[i].announced)
            ikev2_emit(ctx, sa, VPN_IKEV2_EV_CHILD_DOWN, reason, notify, &sa->child[i], 0, detail);
    ikev2_emit(ctx, sa, was_up ? VPN_IKEV2_EV_IKE_DOWN : VPN_IKEV2_EV_FAILED, reason, notify, NULL, 0, detail);
    if (closing)
        IKEV2_LOG(ctx, VPN_LOG_INFO, "IKE SA %u closing: %s%s%s", sa->id, vpn_ikev2_reason_name(reason),
                  detail ? ": " : "", detail ? detail : "");
    else
        IKEV2_LOG(ctx, was_up ? VPN_LOG_INFO : VPN_LOG_WARN, "IKE SA %u %s: %s%s%s", sa->id,
                  was_up ? "down" : "failed", vpn_ikev2_reason_name(reason), detail ? ": " : "",
                  detail ? detail : "");
    sa->down_emitted = true;
}

void ikev2_sa_kill(vpn_ikev2_ctx *ctx, ikev2_sa *sa, vpn_ikev2_reason reason, uint16_t notify,
                   const char *detail)
{
    if (sa->phase == IKEV2_P_DEAD)
        return;
    sa_down_emit(ctx, sa, reason, notify, detail, false);
    ikev2_sa_mark_dead(ctx, sa);
    sa->down_reason = reason;
    sa->down_notify = notify;
}

void ikev2_sa_close(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, vpn_ikev2_reason reason,
                   uint16_t notify, const char *detail, ikev2_task task)
{
    if (sa->phase == IKEV2_P_DEAD)
        return;
    sa_down_emit(ctx, sa, reason, notify, detail, true);
    for (size_t i = 0; i < sa->n_child; i++)
        sa->child[i].announced = false;
    sa->n_pending = 0;
    sa->rekey_at = sa->expire_at = sa->keepalive_at = sa->half_open_until = 0;
    sa->down_reason = reason;
    sa->down_notify = notify;
    if (sa->req.answered) /* the caller is handling its response: it is done */
        ikev2_req_clear(sa);
    if (close_waits(sa)) {
        /* RFC 7296 2.3: the Delete takes the next message ID, and the peer
         * takes only requests within its window of the oldest one it has
         * not seen: were the requests in flight lost, a Delete sent now
         * would be dropped, retransmitted in vain, and the peer would keep
         * the SA until its DPD. So they stay in flight, retransmitted as
         * before (giving up kills the SA quietly), their answers ignored
         * but for the room they make; close_send follows. An IKE SA
         * rekey in flight is waited for whatever the window: the peer may
         * have made the new SA and moved the CHILD_SAs to it (2.18), and
         * a Delete of this SA would leave them; its answer names the new
         * SA, which then gets a Delete of its own
         * (the IKE rekey exchange's abort, ikev2_ike_rekey_ops). */
        sa->req.abandoned = true;
        for (size_t i = 0; i < sa->n_park; i++)
            sa->park[i].abandoned = true;
        sa->close_task = task;
        sa->phase = IKEV2_P_DELETING;
        return;
    }
    /* the Delete fits: work in flight is dropped with the SA */
    park_clear(sa);
    ikev2_req_clear(sa);
    sa->close_task = task;
    close_send(ctx, sa, now);
}

static void internal_note(vpn_ikev2_ctx *ctx, const ikev2_sa *sa, int rc, const char *where, char *detail,
                          size_t len)
{
    ctx->stats.internal_errors++;
    snprintf(detail, len, "internal error in %s: %s", where, vpn_strerror(rc));
    IKEV2_LOG(ctx, VPN_LOG_ERROR, "IKE SA %u: %s", sa ? sa->id : 0, detail);
}

void ikev2_internal_error_keep(vpn_ikev2_ctx *ctx, ikev2_sa *sa, int rc, const char *where)
{
    char detail[128];

    internal_note(ctx, sa, rc, where, detail, sizeof detail);
    ikev2_emit(ctx, sa, VPN_IKEV2_EV_FAILED, VPN_IKEV2_R_INTERNAL, 0, NULL, 0, detail);
}

void ikev2_internal_error(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, int rc, const char *where)
{
    char detail[128];

    internal_note(ctx, sa, rc, where, detail, sizeof detail);
    if (sa == NULL) {
        ikev2_emit(ctx, NULL, VPN_IKEV2_EV_FAILED, VPN_IKEV2_R_INTERNAL, 0, NULL, 0, detail);
        return;
    }
    if (sa->phase == IKEV2_P_DEAD)
        return;
    /* An SA the peer knows as up is told (Delete, best effort: under
     * memory pressure the peer's DPD or retransmissions find out instead);
     * one still negotiating just goes (the peer times out). */
    if (sa->established && sa->keyed && !sa->down_emitted)
        ikev2_sa_close(ctx, sa, now, VPN_IKEV2_R_INTERNAL, 0, detail, IKEV2_T_IKE_DELETE);
    else
        ikev2_sa_kill(ctx, sa, VPN_IKEV2_R_INTERNAL, 0, detail);
}

void ikev2_sa_mark_dead(vpn_ikev2_ctx *ctx, ikev2_sa *sa)
{
    ikev2_sa_deadline_changed(ctx, sa);
    sa->phase = IKEV2_P_DEAD;
    ctx->sweep_due = true;
}

/* Recomputes the heap key of every SA marked since the last time. While
 * vpn_ikev2_timeout runs, an SA that became due by another SA's timers and
 * comes after it in creation order joins the due list (the walk over sa[]
 * it replaces would have reached it in the same call). */
static void tm_late(vpn_ikev2_ctx *ctx, ikev2_sa *sa);
static uint64_t sa_deadline(const ikev2_sa *sa);

static void dl_flush(vpn_ikev2_ctx *ctx)
{
    ikev2_sa *sa;

    while ((sa = ctx->dl_dirty) != NULL) {
        uint64_t d = sa_deadline(sa);
        ctx->dl_dirty = sa->dl_next;
        sa->dl_next = NULL;
        sa->dl_dirty = false;
        vpn_dheap_update(&ctx->dl, sa->dl_pos, d);
        if (ctx->tm_run && d <= ctx->tm_now)
            tm_late(ctx, sa);
    }
}

/* Frees the dead SAs. Every entry point calls it; the walk over sa[] runs only when
 * an SA died since the last one (a hub with N spokes would walk N SAs per message). */
static void sweep(vpn_ikev2_ctx *ctx)
{
    size_t j = 0;

    dl_flush(ctx); /* no SA about to be freed stays on the list */
    if (!ctx->sweep_due)
        return;
    ctx->sweep_due = false;
    for (size_t i = 0; i < ctx->n_sa; i++) {
        if (ctx->sa[i]->phase == IKEV2_P_DEAD) {
            for (size_t k = 0; k < ctx->sa[i]->n_child; k++) {
                cidx_del(ctx, ctx->sa[i]->child[k].id);
                /* its SPIs are free again (children belong to one SA) */
                (void)vpn_htab_del(&ctx->spis, ctx->sa[i]->child[k].spi_in, 1);
            }
            sa_unindex(ctx, ctx->sa[i]);
            vpn_dheap_remove(&ctx->dl, ctx->sa[i]->dl_pos);
            ikev2_ra_release(ctx, ctx->sa[i]);
            sa_free(ctx->sa[i]);
        } else {
            ctx->sa[j++] = ctx->sa[i];
        }
    }
    ctx->n_sa = j;
}

/* ---- output ------------------------------------------------------------------------- */

void ikev2_send_raw(vpn_ikev2_ctx *ctx, const vpn_ikev2_endpoint *local,
                    const vpn_ikev2_endpoint *remote, uint32_t sa_id, const uint8_t *msg,
                    size_t len)
{
    vpn_ikev2_dgram d;
    bool marker = local->port == VPN_IKEV2_NATT_PORT || remote->port == VPN_IKEV2_NATT_PORT;
    uint8_t *buf;

    memset(&d, 0, sizeof d);
    d.local = *local;
    d.remote = *remote;
    d.ike_sa_id = sa_id;
    if (marker) {
        /* RFC 3948 2.2 / RFC 7296 2.23: four zero octets before IKE on 4500. */
        if (len + 4 > IKEV2_MSG_MAX)
            return;
        /* Its buffer comes with the first datagram on 4500: an engine that
         * never meets a NAT (or a peer on 4500) never holds those 64 KB
         * (one per node at hub scale, issue 14). Refused: the datagram is
         * lost, as on the wire (retransmission or the peer's retries try
         * again), and the failure reported; the SA stays. */
        if (ctx->scratch2 == NULL && (ctx->scratch2 = vpn_big_alloc(&ctx->params.alloc, IKEV2_MSG_MAX)) == NULL) {
            ikev2_sa *sa = sa_id ? ikev2_sa_by_id(ctx, sa_id) : NULL;
            ikev2_internal_error_keep(ctx, sa != NULL && sa->phase != IKEV2_P_DEAD ? sa : NULL, VPN_ERR_NOMEM,
                                      "sending on port 4500");
            return;
        }
        buf = ctx->scratch2;
        if (msg != buf + 4)
            memmove(buf + 4, msg, len);
        memcpy(buf, non_esp_marker, 4);
        d.data = buf;
        d.len = len + 4;
    } else {
        d.data = msg;
        d.len = len;
    }
    ctx->params.send(ctx->params.user, &d);
}

static void send_bufs(vpn_ikev2_ctx *ctx, const ikev2_sa *sa, const ikev2_buf *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ikev2_send_raw(ctx, &sa->local, &sa->remote, sa->id, b[i].p, b[i].len);
}

void ikev2_out_begin(vpn_ikev2_ctx *ctx, const ikev2_sa *sa, ikev2_out *o, uint8_t exchange,
                     uint32_t mid, bool response, bool encrypted)
{
    vpn_ikev2_hdr h;

    memset(&h, 0, sizeof h);
    h.spi_i = ikev2_spi64(sa->spi_i);
    h.spi_r = ikev2_spi64(sa->spi_r);
    h.version = VPN_IKEV2_VERSION;
    h.exchange = exchange;
    /* RFC 7296 3.1: I marks the original initiator, R a response. */
    h.flags = (uint8_t)((sa->initiator ? VPN_IKEV2_FLAG_I : 0) | (response ? VPN_IKEV2_FLAG_R : 0));
    h.msg_id = mid;
    o->encrypted = encrypted;
    vpn_wr_init(&o->w, ctx->scratch, IKEV2_MSG_MAX);
    vpn_ikev2_bld_init(&o->b, &o->w, &h);
    if (encrypted)
        vpn_ikev2_bld_sk_open(&o->b, vpn_ikev2_sk_iv_len(&sa->cr));
}

/* The largest IKE message we send unfragmented once the peer can take
 * fragments: the IP datagram minus IP and UDP headers and the marker.
 * RFC 3948 2.2 / RFC 7383 2.5.1: the non-ESP marker goes on whenever
 * either port is 4500 (the rule ikev2_send_raw applies), which a responder
 * learns from the peer's move, not from its own NAT detection (sa->natt). */
static size_t frag_limit(const ikev2_sa *sa)
{
    size_t ip = sa->remote.addr.family == VPN_AF_INET6 ? 40 : 20;
    bool marker = sa->natt || sa->local.port == VPN_IKEV2_NATT_PORT || sa->remote.port == VPN_IKEV2_NATT_PORT;
    return FRAG_IP_MTU - ip - 8 - (marker ? 4 : 0);
}

/* RFC 7383 2.5: splits the plaintext chain of a built (not yet encrypted)
 * SK message into SKF messages, each protected on its own. */
static int fragment(vpn_ikev2_ctx *ctx, ikev2_sa *sa, const uint8_t *msg,
                    const vpn_ikev2_sk_region *reg, ikev2_buf *frags, size_t *n)
{
    vpn_ikev2_hdr h;
    const uint8_t *chain = msg + reg->ct_off;
    size_t chain_len = reg->ct_len - 1 - msg[reg->ct_off + reg->ct_len - 1];
    uint8_t first = msg[reg->iv_off - 4];
    size_t iv = vpn_ikev2_sk_iv_len(&sa->cr), icv = vpn_ikev2_sk_icv_len(&sa->cr);
    size_t blk = vpn_ikev2_sk_block_len(&sa->cr);
    size_t limit = frag_limit(sa), room, total;
    uint8_t *copy;
    int rc = 0;

    if (vpn_ikev2_hdr_parse(msg, reg->icv_off + reg->icv_len, &h) != 0)
        return VPN_ERR_INVAL;
    /* header 28, SKF header 8, IV, padding to the block with Pad Length, ICV */
    room = limit - 28 - 8 - iv - icv - blk;
    if (room < 64)
        return VPN_ERR_LIMIT;
    total = (chain_len + room - 1) / room;
    if (total == 0)
        total = 1;
    if (total > IKEV2_FRAG_MAX)
        return VPN_ERR_LIMIT;
    /* the chain lives in scratch, which the builder reuses: keep a copy */
    if ((copy = vpn_malloc(&ctx->params.alloc, chain_len ? chain_len : 1)) == NULL)
        return VPN_ERR_NOMEM;
    memcpy(copy, chain, chain_len);
    *n = 0;
    for (size_t i = 0; i < total && rc == 0; i++) {
        vpn_wr w;
        vpn_ikev2_bld b;
        vpn_ikev2_sk_region r;
        size_t off = i * room, len = chain_len - off < room ? chain_len - off : room, out_len = 0;

        vpn_wr_init(&w, ctx->scratch, IKEV2_MSG_MAX);
        vpn_ikev2_bld_init(&b, &w, &h);
        rc = vpn_ikev2_bld_skf(&b, (uint16_t)(i + 1), (uint16_t)total, i == 0 ? first : 0, iv,
                               copy + off, len, blk, icv, &r);
        if (rc == 0)
            rc = vpn_ikev2_bld_finish(&b, &out_len);
        if (rc == 0)
            rc = vpn_ikev2_sk_encrypt(&sa->cr, &ctx->params.rng, ctx->scratch, r.iv_off, r.ct_off,
                                      r.ct_len, r.icv_off);
        if (rc == 0)
            rc = ikev2_buf_set(ctx, &frags[i], ctx->scratch, out_len);
        if (rc == 0)
            (*n)++;
    }
    OPENSSL_cleanse(copy, chain_len);
    free(copy);
    if (rc != 0) {
        bufs_free(frags, *n);
        *n = 0;
    }
    return rc;
}

/* Can Wireshark decrypt this IKE SA from our key line (vpn_ikev2_sa_wireshark_line)? */
static bool ws_decrypts(const ikev2_sa *sa)
{
    return sa->cr.cinfo && sa->cr.cinfo->ws_ikev2 && (sa->cr.iinfo == NULL || sa->cr.iinfo->ws_ikev2);
}

/*
 * The decrypted view of one message (vpn_ikev2_params.ike_plain): hdr is
 * the message's RFC 7296 3.1 header as sent, chain its SK payload's inner
 * payloads (3.14) starting with type `first`. Nothing happens without the
 * callback, for SAs Wireshark decrypts, or when memory is short (a view
 * is no part of the protocol). src and dst: the datagram's endpoints.
 */
static void plain_view(vpn_ikev2_ctx *ctx, const ikev2_sa *sa, bool outbound, const vpn_ikev2_endpoint *src,
                       const vpn_ikev2_endpoint *dst, const uint8_t *hdr, uint8_t first, const uint8_t *chain,
                       size_t chain_len)
{
    size_t iph, marker, ike_len = VPN_IKEV2_HDR_LEN + chain_len, udp_len, tot;
    vpn_ip_hdr ih;
    uint8_t *p;

    if (ctx->params.ike_plain == NULL || ws_decrypts(sa) || src->addr.family != dst->addr.family)
        return;
    if ((iph = vpn_ip_hdr_len(src->addr.family)) == 0)
        return;
    marker = src->port == VPN_IKEV2_NATT_PORT || dst->port == VPN_IKEV2_NATT_PORT ? 4 : 0;
    udp_len = 8 + marker + ike_len;
    tot = iph + udp_len;
    if (tot > 65535 || (p = vpn_malloc(&ctx->params.alloc, tot)) == NULL)
        return;
    memset(&ih, 0, sizeof ih);
    ih.src = src->addr;
    ih.dst = dst->addr;
    ih.proto = 17;
    ih.ttl = 64;
    if (vpn_ip_hdr_write(p, &ih, udp_len) == 0 && vpn_udp_hdr_write(p + iph, src->port, dst->port, udp_len - 8) == 0) {
        uint8_t *ike = p + iph + 8 + marker;
        memset(p + iph + 8, 0, marker);
        memcpy(ike, hdr, VPN_IKEV2_HDR_LEN);
        ike[16] = first;
        vpn_store32(ike + 24, (uint32_t)ike_len);
        memcpy(ike + VPN_IKEV2_HDR_LEN, chain, chain_len);
        if (src->addr.family == VPN_AF_INET6)
            vpn_udp_csum6(p, iph, udp_len);
        ctx->params.ike_plain(ctx->params.user, sa->id, outbound, p, tot);
    }
    OPENSSL_cleanse(p, tot);
    free(p);
}

int ikev2_out_finish(vpn_ikev2_ctx *ctx, ikev2_sa *sa, ikev2_out *o, ikev2_buf *frags, size_t *n)
{
    vpn_ikev2_sk_region reg;
    size_t len = 0;
    int rc;

    *n = 0;
    if (o->encrypted) {
        rc = vpn_ikev2_bld_sk_close(&o->b, vpn_ikev2_sk_block_len(&sa->cr),
                                    vpn_ikev2_sk_icv_len(&sa->cr), &reg);
        if (rc == 0)
            rc = vpn_ikev2_bld_finish(&o->b, &len);
        if (rc != 0)
            return rc;
        if (ctx->params.ike_plain && reg.iv_off == VPN_IKEV2_HDR_LEN + 4) {
            /* the plaintext, padded, is in place before encryption */
            size_t chain_len = 0;
            if (vpn_ikev2_sk_unpad(ctx->scratch + reg.ct_off, reg.ct_len, &chain_len) == 0)
                plain_view(ctx, sa, true, &sa->local, &sa->remote, ctx->scratch, ctx->scratch[VPN_IKEV2_HDR_LEN],
                           ctx->scratch + reg.ct_off, chain_len);
        }
        if (sa->peer_frag && len > frag_limit(sa))
            return fragment(ctx, sa, ctx->scratch, &reg, frags, n);
        rc = vpn_ikev2_sk_encrypt(&sa->cr, &ctx->params.rng, ctx->scratch, reg.iv_off, reg.ct_off,
                                  reg.ct_len, reg.icv_off);
    } else {
        rc = vpn_ikev2_bld_finish(&o->b, &len);
    }
    if (rc == 0)
        rc = ikev2_buf_set(ctx, &frags[0], ctx->scratch, len);
    if (rc == 0)
        *n = 1;
    return rc;
}

void ikev2_req_clear(ikev2_sa *sa)
{
    exch_clear(&sa->req);
}

unsigned ikev2_window_local(const vpn_ikev2_ctx *ctx)
{
    uint32_t w = ctx->conf ? ctx->conf->ikev2_window : 1;
    return w < 1 ? 1 : w > IKEV2_WINDOW_MAX ? IKEV2_WINDOW_MAX : (unsigned)w;
}

void ikev2_window_announce(const vpn_ikev2_ctx *ctx, vpn_ikev2_bld *b)
{
    /* RFC 7296 3.10.1: SET_WINDOW_SIZE, 4 octets of window; 1 is the default
     * and needs no announcement */
    uint8_t w[4];
    unsigned n = ikev2_window_local(ctx);

    if (n <= 1)
        return;
    vpn_store32(w, n);
    vpn_ikev2_bld_notify(b, 0, NULL, 0, VPN_IKEV2_N_SET_WINDOW_SIZE, w, sizeof w);
}

size_t ikev2_req_outstanding(const ikev2_sa *sa)
{
    return (sa->req.task != IKEV2_T_NONE ? 1u : 0u) + sa->n_park;
}

ikev2_exch *ikev2_req_find(ikev2_sa *sa, ikev2_task task, uint32_t child_id)
{
    if (sa->req.task == task && sa->req.child_id == child_id)
        return &sa->req;
    for (size_t i = 0; i < sa->n_park; i++)
        if (sa->park[i].task == task && sa->park[i].child_id == child_id)
            return &sa->park[i];
    return NULL;
}

static bool task_concurrent(ikev2_task t)
{
    return t == IKEV2_T_CHILD_CREATE || t == IKEV2_T_CHILD_REKEY || t == IKEV2_T_CHILD_DELETE;
}

bool ikev2_req_child_busy(const ikev2_sa *sa)
{
    if (task_concurrent(sa->req.task))
        return true;
    for (size_t i = 0; i < sa->n_park; i++)
        if (task_concurrent(sa->park[i].task))
            return true;
    return false;
}

static void exch_swap(ikev2_exch *a, ikev2_exch *b)
{
    ikev2_exch t;

    memcpy(&t, a, sizeof t);
    memcpy(a, b, sizeof t);
    memcpy(b, &t, sizeof t);
    OPENSSL_cleanse(&t, sizeof t);
}

/*
 * RFC 7296 2.3: may `p` start while other requests are in flight? Request X
 * waits for the responses to every request up to X - window. Only CHILD_SA
 * work (create, rekey, delete of different children) overlaps: an IKE SA
 * rekey, delete or liveness check waits until nothing is in flight, so the
 * rekey's hand-over (2.8) never meets a half-done exchange.
 */
static bool may_start(const ikev2_sa *sa, const ikev2_pending *p)
{
    size_t n = ikev2_req_outstanding(sa);
    uint32_t oldest = sa->mid_send;

    if (n == 0)
        return true;
    if (n >= sa->window_remote || n > IKEV2_WINDOW_MAX - 1 || !task_concurrent(p->task))
        return false;
    if (sa->req.task != IKEV2_T_NONE) {
        if (!task_concurrent(sa->req.task) || sa->req.child_id == p->child_id)
            return false;
        if (sa->mid_send - sa->req.mid > sa->mid_send - oldest)
            oldest = sa->req.mid;
    }
    for (size_t i = 0; i < sa->n_park; i++) {
        if (!task_concurrent(sa->park[i].task) || sa->park[i].child_id == p->child_id)
            return false;
        if (sa->mid_send - sa->park[i].mid > sa->mid_send - oldest)
            oldest = sa->park[i].mid;
    }
    return sa->mid_send - oldest < sa->window_remote;
}

/* Moves sa->req into a free park slot so a new request can be built there. */
static int park_req(vpn_ikev2_ctx *ctx, ikev2_sa *sa)
{
    if (sa->park == NULL &&
        (sa->park = vpn_calloc(&ctx->params.alloc, IKEV2_WINDOW_MAX - 1, sizeof *sa->park)) == NULL)
        return VPN_ERR_NOMEM;
    if (sa->n_park >= IKEV2_WINDOW_MAX - 1)
        return VPN_ERR_LIMIT;
    memcpy(&sa->park[sa->n_park++], &sa->req, sizeof sa->req);
    memset(&sa->req, 0, sizeof sa->req);
    return 0;
}

/* Keeps sa->req busy while anything is in flight (the single-exchange code reads it). */
static void unpark(ikev2_sa *sa)
{
    if (sa->req.task != IKEV2_T_NONE || sa->n_park == 0)
        return;
    sa->n_park--;
    memcpy(&sa->req, &sa->park[sa->n_park], sizeof sa->req);
    memset(&sa->park[sa->n_park], 0, sizeof sa->req);
}

void ikev2_req_start(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now)
{
    sa->req.tries = 0;
    sa->req.answered = false;
    if (!sa->req.fixed_rto)
        sa->req.rto = ctx->params.rto_initial_ns;
    sa->req.next_tx = now + sa->req.rto;
    ctx->stats.out_requests++;
    send_bufs(ctx, sa, sa->req.msg, sa->req.n_msg);
}

/* RFC 7296 2.3: with a window above 1 the peer may retransmit any of its
 * last window requests; the newest answer moves to the ring of older ones. */
static void resp_age(vpn_ikev2_ctx *ctx, ikev2_sa *sa)
{
    ikev2_rcache *r;

    if (!sa->have_resp || ikev2_window_local(ctx) <= 1)
        return;
    if (sa->old_resp == NULL &&
        (sa->old_resp = vpn_calloc(&ctx->params.alloc, IKEV2_WINDOW_MAX - 1, sizeof *sa->old_resp)) == NULL)
        return; /* a retransmission of that request then goes unanswered: the peer retries */
    r = &sa->old_resp[sa->old_next];
    sa->old_next = (sa->old_next + 1) % (IKEV2_WINDOW_MAX - 1);
    rcache_clear(r);
    memcpy(r->resp, sa->resp, sa->n_resp * sizeof sa->resp[0]);
    r->n_resp = sa->n_resp;
    r->req = sa->last_req;
    r->mid = sa->resp_mid;
    r->have = true;
    memset(sa->resp, 0, sizeof sa->resp);
    sa->n_resp = 0;
    memset(&sa->last_req, 0, sizeof sa->last_req);
    sa->have_resp = false;
}

static const ikev2_rcache *resp_old(const ikev2_sa *sa, uint32_t mid)
{
    if (sa->old_resp == NULL)
        return NULL;
    for (size_t i = 0; i < IKEV2_WINDOW_MAX - 1; i++)
        if (sa->old_resp[i].have && sa->old_resp[i].mid == mid)
            return &sa->old_resp[i];
    return NULL;
}

void ikev2_resp_send(vpn_ikev2_ctx *ctx, ikev2_sa *sa, const uint8_t *req, size_t req_len,
                     uint32_t mid, const uint8_t *msg, size_t len)
{
    resp_age(ctx, sa);
    bufs_free(sa->resp, sa->n_resp);
    sa->n_resp = 0;
    sa->have_resp = false;
    if (ikev2_buf_set(ctx, &sa->resp[0], msg, len) == 0 && ikev2_buf_set(ctx, &sa->last_req, req, req_len) == 0) {
        sa->n_resp = 1;
        sa->have_resp = true;
        sa->resp_mid = mid;
    }
    ctx->stats.out_responses++;
    ikev2_send_raw(ctx, &sa->local, &sa->remote, sa->id, msg, len);
}

void ikev2_tomb_keep(vpn_ikev2_ctx *ctx, const ikev2_sa *sa, uint64_t now)
{
    ikev2_tomb *t = &ctx->tomb[ctx->tomb_next];

    if (!sa->have_resp || sa->n_resp != 1 || sa->last_req.p == NULL)
        return;
    ikev2_buf_free(&t->req);
    ikev2_buf_free(&t->resp);
    if (ikev2_buf_set(ctx, &t->req, sa->last_req.p, sa->last_req.len) != 0 ||
        ikev2_buf_set(ctx, &t->resp, sa->resp[0].p, sa->resp[0].len) != 0) {
        ikev2_buf_free(&t->req);
        ikev2_buf_free(&t->resp);
        return;
    }
    t->spi_i = ikev2_spi64(sa->spi_i);
    t->spi_r = ikev2_spi64(sa->spi_r);
    t->sa_id = sa->id;
    t->local = sa->local;
    t->remote = sa->remote;
    t->until = now + IKEV2_TOMB_LIFE_NS;
    ctx->tomb_next = (ctx->tomb_next + 1) % IKEV2_TOMB_MAX;
}

/* A request for SPIs we no longer know: the retransmission of a Delete we
 * answered (the very bytes) gets the same answer again (RFC 7296 2.4).
 * No ICV check: the bytes are those of a request that passed one, and
 * nothing but the duplicates_answered counter changes. */
static bool tomb_answer(vpn_ikev2_ctx *ctx, uint64_t now, const vpn_ikev2_hdr *hdr, const uint8_t *buf,
                        size_t len)
{
    for (size_t i = 0; i < IKEV2_TOMB_MAX; i++) {
        const ikev2_tomb *t = &ctx->tomb[i];
        if (t->req.p == NULL || now > t->until || t->spi_i != hdr->spi_i || t->spi_r != hdr->spi_r ||
            t->req.len != len || memcmp(t->req.p, buf, len) != 0)
            continue;
        ctx->stats.duplicates_answered++;
        ikev2_send_raw(ctx, &t->local, &t->remote, t->sa_id, t->resp.p, t->resp.len);
        return true;
    }
    return false;
}

void ikev2_respond(vpn_ikev2_ctx *ctx, ikev2_sa *sa, const ikev2_in *in, ikev2_out *o)
{
    ikev2_buf out[IKEV2_FRAG_MAX];
    size_t n = 0;
    int rc;

    memset(out, 0, sizeof out);
    if ((rc = ikev2_out_finish(ctx, sa, o, out, &n)) != 0) {
        ikev2_internal_error(ctx, sa, ctx->now, rc, "building a response");
        return;
    }
    resp_age(ctx, sa);
    bufs_free(sa->resp, sa->n_resp);
    memcpy(sa->resp, out, n * sizeof out[0]);
    sa->n_resp = n;
    sa->resp_mid = in->hdr.msg_id;
    /* without the request kept, a retransmission would be taken as new:
     * answer this once but leave no half-kept state */
    if ((rc = ikev2_buf_set(ctx, &sa->last_req, in->raw, in->raw_len)) != 0) {
        ctx->stats.out_responses++;
        send_bufs(ctx, sa, sa->resp, sa->n_resp);
        ikev2_internal_error(ctx, sa, ctx->now, rc, "keeping a request");
        return;
    }
    sa->have_resp = true;
    ctx->stats.out_responses++;
    send_bufs(ctx, sa, sa->resp, sa->n_resp);
}

void ikev2_respond_notify(vpn_ikev2_ctx *ctx, ikev2_sa *sa, const ikev2_in *in, uint16_t type,
                          uint8_t proto, const uint8_t *spi, size_t spi_len, const uint8_t *data,
                          size_t len)
{
    ikev2_out o;
    ikev2_out_begin(ctx, sa, &o, in->hdr.exchange, in->hdr.msg_id, true, sa->keyed);
    vpn_ikev2_bld_notify(&o.b, proto, spi, spi_len, type, data, len);
    ikev2_respond(ctx, sa, in, &o);
}

void ikev2_send_notify_plain(vpn_ikev2_ctx *ctx, const vpn_ikev2_endpoint *local,
                             const vpn_ikev2_endpoint *remote, const vpn_ikev2_hdr *req,
                             uint16_t type, const uint8_t *data, size_t len)
{
    vpn_ikev2_hdr h;
    vpn_wr w;
    vpn_ikev2_bld b;
    size_t out_len = 0;

    memset(&h, 0, sizeof h);
    h.spi_i = req->spi_i;
    h.spi_r = 0; /* RFC 7296 2.6, 2.7: no responder state, no SPI */
    h.version = VPN_IKEV2_VERSION;
    h.exchange = req->exchange;
    h.flags = VPN_IKEV2_FLAG_R;
    h.msg_id = req->msg_id;
    vpn_wr_init(&w, ctx->scratch, IKEV2_MSG_MAX);
    vpn_ikev2_bld_init(&b, &w, &h);
    vpn_ikev2_bld_notify(&b, VPN_IKEV2_PROTO_NONE, NULL, 0, type, data, len);
    if (vpn_ikev2_bld_finish(&b, &out_len) != 0)
        return;
    ctx->stats.out_responses++;
    ikev2_send_raw(ctx, local, remote, 0, ctx->scratch, out_len);
}

/* ---- work queue ---------------------------------------------------------------------- */

/* Each task's exchange (ikev2_exch_ops). */
static const ikev2_exch_ops *const exch_ops[] = {
    [IKEV2_T_INIT] = &ikev2_init_ops,
    [IKEV2_T_AUTH] = &ikev2_auth_ops,
    [IKEV2_T_CHILD_REKEY] = &ikev2_child_rekey_ops,
    [IKEV2_T_CHILD_CREATE] = &ikev2_child_create_ops,
    [IKEV2_T_IKE_REKEY] = &ikev2_ike_rekey_ops,
    [IKEV2_T_CHILD_DELETE] = &ikev2_info_ops,
    [IKEV2_T_IKE_DELETE] = &ikev2_info_ops,
    [IKEV2_T_DPD] = &ikev2_info_ops,
    [IKEV2_T_AUTH_FAILED] = &ikev2_info_ops,
};

const ikev2_exch_ops *ikev2_exch_ops_of(ikev2_task task)
{
    return (size_t)task < sizeof exch_ops / sizeof exch_ops[0] ? exch_ops[task] : NULL;
}

/* The peer's requests by exchange type (RFC 7296 3.1), from IKE_SA_INIT
 * on; CREATE_CHILD_SA is one of three exchanges (ikev2_create_child_ops_r). */
static const ikev2_exch_ops *const req_ops[] = {
    [VPN_IKEV2_IKE_SA_INIT - VPN_IKEV2_IKE_SA_INIT] = &ikev2_init_ops,
    [VPN_IKEV2_IKE_AUTH - VPN_IKEV2_IKE_SA_INIT] = &ikev2_auth_ops,
    [VPN_IKEV2_CREATE_CHILD_SA - VPN_IKEV2_IKE_SA_INIT] = NULL,
    [VPN_IKEV2_INFORMATIONAL - VPN_IKEV2_IKE_SA_INIT] = &ikev2_info_ops,
};

const ikev2_exch_ops *ikev2_exch_ops_r(const ikev2_in *in)
{
    size_t k = (size_t)in->hdr.exchange - VPN_IKEV2_IKE_SA_INIT;

    if (in->hdr.exchange == VPN_IKEV2_CREATE_CHILD_SA)
        return ikev2_create_child_ops_r(in->msg);
    return in->hdr.exchange >= VPN_IKEV2_IKE_SA_INIT && k < sizeof req_ops / sizeof req_ops[0] ? req_ops[k]
                                                                                             : NULL;
}

static int task_start(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, ikev2_task task, uint32_t child)
{
    const ikev2_exch_ops *ops = ikev2_exch_ops_of(task);

    if (ops == NULL || ops->build_i == NULL)
        return VPN_ERR_INVAL;
    return ops->build_i(ctx, sa, now, task, child);
}

void ikev2_run_pending(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now)
{
    while (sa->phase == IKEV2_P_ESTABLISHED && !sa->rekeyed_to && sa->n_pending &&
           may_start(sa, &sa->pending[0])) {
        ikev2_pending p = sa->pending[0];
        int rc;
        if (sa->req.task != IKEV2_T_NONE && (rc = park_req(ctx, sa)) != 0) {
            ikev2_internal_error_keep(ctx, sa, rc, "keeping a request in flight");
            break; /* the work stays queued until sa->req is free */
        }
        memmove(&sa->pending[0], &sa->pending[1], (sa->n_pending - 1) * sizeof p);
        sa->n_pending--;
        rc = task_start(ctx, sa, now, p.task, p.child_id);
        unpark(sa);
        if (rc == VPN_ERR_NOMEM || rc == VPN_ERR_CRYPTO) {
            /* nothing was sent: the SA stays as it was, the work is
             * reported failed (a rekey is tried again at its next timer);
             * a CHILD_SA Delete has no timer and stays queued, tried
             * again at the next run (not in this loop: the failure may
             * last), or the peer would keep that SA for good */
            ikev2_internal_error_keep(ctx, sa, rc, "starting queued work");
            if (p.task == IKEV2_T_CHILD_DELETE && sa->n_pending < IKEV2_PENDING_MAX) {
                sa->pending[sa->n_pending++] = p;
                ctx->pending_due = true;
                /* a deadline too: on a quiet SA no message would come to
                 * run the queue before its next IKE rekey */
                sa->pending_retry_at = now + PENDING_RETRY_NS;
                ikev2_sa_deadline_changed(ctx, sa);
                break;
            }
        } else if (rc != 0 && rc != VPN_ERR_STATE && rc != VPN_ERR_NOTFOUND)
            IKEV2_LOG(ctx, VPN_LOG_WARN, "IKE SA %u: could not start queued work (%s)", sa->id,
                      vpn_strerror(rc));
    }
}

int ikev2_queue(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, ikev2_task task, uint32_t child_id)
{
    for (size_t i = 0; i < sa->n_pending; i++)
        if (sa->pending[i].task == task && sa->pending[i].child_id == child_id)
            return 0;
    if (ikev2_req_find(sa, task, child_id) != NULL)
        return 0;
    if (sa->n_pending == IKEV2_PENDING_MAX)
        return VPN_ERR_LIMIT;
    /* A delete of the IKE SA goes before anything else. */
    if (task == IKEV2_T_IKE_DELETE) {
        memmove(&sa->pending[1], &sa->pending[0], sa->n_pending * sizeof sa->pending[0]);
        sa->pending[0].task = task;
        sa->pending[0].child_id = child_id;
    } else {
        sa->pending[sa->n_pending].task = task;
        sa->pending[sa->n_pending].child_id = child_id;
    }
    sa->n_pending++;
    ctx->pending_due = true;
    ikev2_run_pending(ctx, sa, now);
    return 0;
}

/* ---- input --------------------------------------------------------------------------- */

static bool is_natt(const vpn_ikev2_endpoint *a, const vpn_ikev2_endpoint *b)
{
    return a->port == VPN_IKEV2_NATT_PORT || b->port == VPN_IKEV2_NATT_PORT;
}

static bool endpoint_eq(const vpn_ikev2_endpoint *a, const vpn_ikev2_endpoint *b)
{
    return a->port == b->port && vpn_addr_eq(&a->addr, &b->addr);
}

/*
 * RFC 7296 2.23: with a NAT on the path, the peer is where its newest
 * authenticated message came from (a NAT may drop a mapping and make a
 * new one on another port); its CHILD_SAs follow (CHILD_MOVED). Called
 * only for a message newer than every one received before it: a request
 * with the highest message ID so far (a retransmitted one was answered
 * from the cache before this), a response with the highest message ID
 * so far, an ESP packet with the highest sequence number so far
 * (vpn_ikev2_child_peer_moved); "only in response to a new packet", or an
 * old, held-back or replayed one could move the SA back. A host behind a NAT does not
 * follow once the SA is up ("SHOULD NOT ... it opens a possible DoS
 * attack"); before that it must, as the peer moves from 500 to 4500.
 */
static void follow_peer(vpn_ikev2_ctx *ctx, ikev2_sa *sa, const vpn_ikev2_endpoint *local,
                        const vpn_ikev2_endpoint *remote)
{
    char was[VPN_ADDR_STRLEN], is[VPN_ADDR_STRLEN];

    if (!(sa->nat_local || sa->nat_remote || is_natt(local, remote)))
        return;
    sa->local = *local;
    if (endpoint_eq(&sa->remote, remote) || (sa->nat_local && sa->established))
        return;
    if (sa->established)
        IKEV2_LOG(ctx, VPN_LOG_INFO, "IKE SA %u: peer moved from %s port %u to %s port %u (RFC 7296 2.23)",
                  sa->id, vpn_addr_str(&sa->remote.addr, was, sizeof was), sa->remote.port,
                  vpn_addr_str(&remote->addr, is, sizeof is), remote->port);
    sa->remote = *remote;
    if (sa->established)
        for (size_t i = 0; i < sa->n_child; i++)
            ikev2_emit(ctx, sa, VPN_IKEV2_EV_CHILD_MOVED, VPN_IKEV2_R_NONE, 0, &sa->child[i], 0, NULL);
}

/*
 * Authenticates and decrypts an SK message, or one SKF fragment. On 0,
 * *inner holds the decrypted payloads (their bytes in ctx->plain).
 * Returns 0; 1: a fragment was stored, wait for the others; 2: authentic
 * but malformed inside (inner->err_* say how); or a negative error (not
 * authentic, or framing broken before authentication could tell): drop.
 */
/* Strips the padding and parses the inner chain: 0, or 2 (authentic but
 * malformed, with inner->err_* saying how). */
static int parse_plain(const uint8_t *plain, size_t len, uint8_t first, vpn_ikev2_msg *inner, size_t *plain_len)
{
    size_t inner_len = 0;

    if (vpn_ikev2_sk_unpad(plain, len, &inner_len) != 0) {
        memset(inner, 0, sizeof *inner);
        inner->err_notify = VPN_IKEV2_N_INVALID_SYNTAX; /* 3.14: bad padding */
        return 2;
    }
    *plain_len = inner_len;
    return vpn_ikev2_msg_parse_inner(plain, inner_len, first, inner) == 0 ? 0 : 2;
}

static int unprotect(vpn_ikev2_ctx *ctx, ikev2_sa *sa, const uint8_t *buf, size_t len,
                     vpn_ikev2_msg *outer, vpn_ikev2_msg *inner)
{
    const vpn_ikev2_payload *sk = vpn_ikev2_msg_find(outer, VPN_IKEV2_PL_SK, NULL);
    const vpn_ikev2_payload *skf = vpn_ikev2_msg_find(outer, VPN_IKEV2_PL_SKF, NULL);
    vpn_ikev2_sk_region reg;
    size_t iv, icv, blk;
    int rc;

    if (!sa->keyed)
        return VPN_ERR_STATE;
    iv = vpn_ikev2_sk_iv_len(&sa->cr);
    icv = vpn_ikev2_sk_icv_len(&sa->cr);
    blk = vpn_ikev2_sk_block_len(&sa->cr);
    if (sk) {
        /* RFC 7296 3.14: SK is last; nothing else is used unprotected. */
        if ((rc = vpn_ikev2_sk_split(outer, sk, iv, icv, blk, &reg)) != 0)
            return rc;
        if ((rc = vpn_ikev2_sk_decrypt(&sa->cr, buf, reg.iv_off, reg.ct_off, reg.ct_len, reg.icv_off,
                                       ctx->plain)) != 0)
            return rc;
        ctx->plain_first = sk->u.sk.first;
        return parse_plain(ctx->plain, reg.ct_len, sk->u.sk.first, inner, &ctx->plain_len);
    }
    if (skf == NULL)
        return VPN_ERR_MALFORMED;
    {
        /* RFC 7383 2.6: each fragment is verified on its own; the message
         * is processed once all have arrived. */
        uint16_t num = skf->u.skf.frag_num, total = skf->u.skf.total;
        bool resp = (outer->hdr.flags & VPN_IKEV2_FLAG_R) != 0;
        size_t chunk_len;

        if (num == 0 || total == 0 || num > total || total > IKEV2_FRAG_MAX)
            return VPN_ERR_MALFORMED;
        if ((rc = vpn_ikev2_sk_split(outer, skf, iv, icv, blk, &reg)) != 0)
            return rc;
        if ((rc = vpn_ikev2_sk_decrypt(&sa->cr, buf, reg.iv_off, reg.ct_off, reg.ct_len, reg.icv_off,
                                       ctx->plain)) != 0)
            return rc;
        if (vpn_ikev2_sk_unpad(ctx->plain, reg.ct_len, &chunk_len) != 0) {
            /* authentic, but the padding is wrong (3.14) */
            memset(inner, 0, sizeof *inner);
            inner->err_notify = VPN_IKEV2_N_INVALID_SYNTAX;
            return 2;
        }
        /* Reassembly state changes only from here on, after this fragment's
         * own ICV was checked (7383 2.6: each fragment is verified alone). */
        if (sa->rf_active && (sa->rf_mid != outer->hdr.msg_id || sa->rf_response != resp ||
                              sa->rf_total != total))
            reasm_clear(sa); /* a new message (2.6: a larger Total restarts) */
        if (!sa->rf_active) {
            if ((sa->rf_chunk = vpn_calloc(&ctx->params.alloc, IKEV2_FRAG_MAX, sizeof *sa->rf_chunk)) == NULL)
                return VPN_ERR_NOMEM;
            sa->rf_active = true;
            sa->rf_mid = outer->hdr.msg_id;
            sa->rf_response = resp;
            sa->rf_total = total;
            sa->rf_have = 0;
        }
        if (sa->rf_have & (1u << (num - 1)))
            return 1; /* duplicate fragment */
        if (ikev2_buf_set(ctx, &sa->rf_chunk[num - 1], ctx->plain, chunk_len) != 0)
            return VPN_ERR_NOMEM;
        if (num == 1) {
            sa->rf_first = skf->u.skf.first;
            if (ikev2_buf_set(ctx, &sa->rf_raw1, buf, len) != 0)
                return VPN_ERR_NOMEM;
        }
        sa->rf_have |= 1u << (num - 1);
        if (sa->rf_have != (1u << total) - 1)
            return 1;
        /* reassemble into scratch */
        {
            size_t off = 0;
            for (uint16_t i = 0; i < total; i++) {
                if (off + sa->rf_chunk[i].len > IKEV2_MSG_MAX) {
                    reasm_clear(sa);
                    memset(inner, 0, sizeof *inner);
                    inner->err_notify = VPN_IKEV2_N_INVALID_SYNTAX;
                    return 2;
                }
                memcpy(ctx->plain + off, sa->rf_chunk[i].p, sa->rf_chunk[i].len);
                off += sa->rf_chunk[i].len;
            }
            ctx->plain_len = off;
            ctx->plain_first = sa->rf_first;
            rc = vpn_ikev2_msg_parse_inner(ctx->plain, off, sa->rf_first, inner);
            reasm_chunks_free(sa);
            return rc == 0 ? 0 : 2;
        }
    }
}

/*
 * Checks the ICV of an SK message or SKF fragment and nothing else: the
 * plaintext lands in the scratch ctx->plain, no fragment is stored, no SA
 * field changes. For a request we will not take (past the window) but
 * want to count only if it really is the peer's (RFC 7296 2.21.2: an
 * unauthenticated message changes no state, counters included).
 */
static bool authentic(vpn_ikev2_ctx *ctx, ikev2_sa *sa, const uint8_t *buf, const vpn_ikev2_msg *outer)
{
    const vpn_ikev2_payload *p = vpn_ikev2_msg_find(outer, VPN_IKEV2_PL_SK, NULL);
    vpn_ikev2_sk_region reg;

    if (p == NULL)
        p = vpn_ikev2_msg_find(outer, VPN_IKEV2_PL_SKF, NULL);
    if (p == NULL || !sa->keyed)
        return false;
    if (vpn_ikev2_sk_split(outer, p, vpn_ikev2_sk_iv_len(&sa->cr), vpn_ikev2_sk_icv_len(&sa->cr),
                           vpn_ikev2_sk_block_len(&sa->cr), &reg) != 0)
        return false;
    return vpn_ikev2_sk_decrypt(&sa->cr, buf, reg.iv_off, reg.ct_off, reg.ct_len, reg.icv_off, ctx->plain) == 0;
}

/* Answer to an authenticated request whose inner payloads did not parse. */
static void answer_bad_inner(vpn_ikev2_ctx *ctx, ikev2_sa *sa, const ikev2_in *in,
                             const vpn_ikev2_msg *inner)
{
    uint16_t t = inner->err_notify ? inner->err_notify : VPN_IKEV2_N_INVALID_SYNTAX;
    uint8_t data = inner->err_payload;

    if (t == VPN_IKEV2_N_UNSUPPORTED_CRITICAL_PAYLOAD)
        ikev2_respond_notify(ctx, sa, in, t, 0, NULL, 0, &data, 1);
    else
        ikev2_respond_notify(ctx, sa, in, VPN_IKEV2_N_INVALID_SYNTAX, 0, NULL, 0, NULL, 0);
}

/* RFC 7296 2.3, 3.10.1: the peer's SET_WINDOW_SIZE (any authenticated
 * message). We keep at most IKEV2_WINDOW_MAX in flight whatever it says;
 * 0 or a malformed value is ignored (the window stays what it was). */
static void peer_window(vpn_ikev2_ctx *ctx, ikev2_sa *sa, const vpn_ikev2_msg *inner)
{
    const vpn_ikev2_payload *n = vpn_ikev2_msg_find_notify(inner, VPN_IKEV2_N_SET_WINDOW_SIZE, NULL);
    uint32_t w;

    if (n == NULL)
        return;
    if (n->u.notify.data.len != 4 || (w = vpn_load32(n->u.notify.data.ptr)) == 0) {
        IKEV2_LOG(ctx, VPN_LOG_WARN, "IKE SA %u: ignoring a malformed SET_WINDOW_SIZE", sa->id);
        return;
    }
    sa->window_remote = w > IKEV2_WINDOW_MAX ? IKEV2_WINDOW_MAX : (unsigned)w;
    IKEV2_LOG(ctx, VPN_LOG_DEBUG, "IKE SA %u: peer window %u (using %u)", sa->id, w, sa->window_remote);
}

static bool same_bytes(const ikev2_buf *b, const uint8_t *p, size_t len)
{
    return b->p && b->len == len && memcmp(b->p, p, len) == 0;
}

static void handle_request(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, const vpn_ikev2_endpoint *local,
                           const vpn_ikev2_endpoint *remote, const uint8_t *buf, size_t len,
                           vpn_ikev2_msg *outer)
{
    vpn_ikev2_msg *inner;
    ikev2_in in;
    uint32_t mid = outer->hdr.msg_id, off, window;
    const ikev2_rcache *old;
    bool newest;
    int rc;

    /* RFC 7296 2.2: a retransmission of the last request gets the cached
     * response again; anything else out of order is dropped. For a request
     * that came in fragments last_req is its fragment 1: RFC 7383 2.6.1,
     * only fragment 1 of a retransmitted request triggers the resend.
     * Done before unprotect: the bytes are those of a request we did
     * authenticate, and a replay of them cannot be told from a
     * retransmission (2.1); the answer goes to sa->remote, not to the
     * sender, and no SA state changes (no peer following: 2.23 "only in
     * response to a new packet"). The window check below only reads SA
     * state; nothing changes before unprotect has checked the ICV. */
    if (sa->have_resp && mid == sa->resp_mid) {
        if (same_bytes(&sa->last_req, buf, len)) {
            ctx->stats.duplicates_answered++;
            send_bufs(ctx, sa, sa->resp, sa->n_resp);
        } else {
            ctx->stats.dropped++;
        }
        return;
    }
    if ((old = resp_old(sa, mid)) != NULL) {
        /* 2.3: an older request of the window, retransmitted */
        if (same_bytes(&old->req, buf, len)) {
            ctx->stats.duplicates_answered++;
            send_bufs(ctx, sa, old->resp, old->n_resp);
        } else {
            ctx->stats.dropped++;
        }
        return;
    }
    /* RFC 7296 2.3: requests mid_recv .. mid_recv + window - 1 are taken, in
     * any order, each once; the window is 1 until the SA is authenticated */
    window = sa->phase == IKEV2_P_ESTABLISHED ? ikev2_window_local(ctx) : 1;
    off = mid - sa->mid_recv;
    if (off >= window || (sa->recv_seen >> off) & 1u) {
        ctx->stats.dropped++;
        /* counted only when the peer really sent it: anyone who knows the
         * SPIs can send junk message IDs (2.21.2, unauthenticated: no state) */
        if (off < window + 64 && off >= window && authentic(ctx, sa, buf, outer))
            ctx->stats.window_violations++;
        IKEV2_LOG(ctx, VPN_LOG_DEBUG, "IKE SA %u: request %u outside the window (expect %u, window %u)",
                  sa->id, mid, sa->mid_recv, window);
        return;
    }
    if ((inner = vpn_calloc(&ctx->params.alloc, 1, sizeof *inner)) == NULL) {
        ikev2_internal_error(ctx, sa, now, VPN_ERR_NOMEM, "reading a request");
        return;
    }
    rc = unprotect(ctx, sa, buf, len, outer, inner);
    if (rc == 1) {
        free(inner);
        return;
    }
    in.raw = buf;
    in.raw_len = len;
    /* rf_raw1 is fragment 1 of the message reassembled last, parsed then:
     * rf_mid and rf_response say which (no second read of its header) */
    if (rc >= 0 && sa->rf_raw1.len > 0 && sa->rf_mid == mid && !sa->rf_response &&
        vpn_ikev2_msg_find(outer, VPN_IKEV2_PL_SKF, NULL)) {
        /* reassembled: the request is known by its fragment 1 (7383 2.6.1) */
        in.raw = sa->rf_raw1.p;
        in.raw_len = sa->rf_raw1.len;
    }
    in.hdr = outer->hdr;
    in.msg = inner;
    in.local = local;
    in.remote = remote;
    if (rc == VPN_ERR_NOMEM) {
        free(inner);
        ikev2_internal_error(ctx, sa, now, rc, "reassembling a request");
        return;
    }
    if (rc < 0) {
        /* not authentic, or not decryptable: drop silently (2.21.2) */
        ctx->stats.dropped++;
        IKEV2_LOG(ctx, VPN_LOG_DEBUG, "IKE SA %u: dropped request %u (%s)", sa->id, mid, vpn_strerror(rc));
        free(inner);
        return;
    }
    if (rc == 0)
        plain_view(ctx, sa, false, remote, local, buf, ctx->plain_first, ctx->plain, ctx->plain_len);
    ctx->stats.in_requests++;
    sa->last_recv = now;
    /* RFC 7296 2.23 "only in response to a new packet": with a window > 1
     * an authentic request may come after a higher one (held back, or
     * replayed by whoever held it), from where the peer was before; only
     * the highest message ID received so far moves the SA. recv_seen has
     * no bit at or above off exactly when no higher request came yet. */
    newest = (sa->recv_seen >> off) == 0;
    sa->recv_seen |= 1u << off;
    while (sa->recv_seen & 1u) {
        sa->recv_seen >>= 1;
        sa->mid_recv++;
    }
    peer_window(ctx, sa, inner);
    if (newest)
        follow_peer(ctx, sa, local, remote);
    if (rc == 2) {
        answer_bad_inner(ctx, sa, &in, inner);
        /* an IKE_AUTH that cannot be read ends the attempt (2.21.2) */
        if (sa->phase == IKEV2_P_HALF_OPEN)
            ikev2_sa_kill(ctx, sa, VPN_IKEV2_R_PROTOCOL,
                          inner->err_notify ? inner->err_notify : VPN_IKEV2_N_INVALID_SYNTAX,
                          "malformed IKE_AUTH request");
        free(inner);
        return;
    }
    if (sa->phase == IKEV2_P_HALF_OPEN && outer->hdr.exchange != VPN_IKEV2_IKE_AUTH) {
        /* RFC 7296 1.2: nothing but IKE_AUTH before the SA is authenticated */
        ikev2_respond_notify(ctx, sa, &in, VPN_IKEV2_N_INVALID_SYNTAX, 0, NULL, 0, NULL, 0);
        ikev2_sa_kill(ctx, sa, VPN_IKEV2_R_PROTOCOL, VPN_IKEV2_N_INVALID_SYNTAX,
                      "request before IKE_AUTH");
        free(inner);
        return;
    }
    {
        const ikev2_exch_ops *ops = ikev2_exch_ops_r(&in);
        if (ops && ops->process_r)
            ops->process_r(ctx, sa, now, &in);
        else /* RFC 7296 3.1: exchanges we do not know: INVALID_SYNTAX */
            ikev2_respond_notify(ctx, sa, &in, VPN_IKEV2_N_INVALID_SYNTAX, 0, NULL, 0, NULL, 0);
    }
    free(inner);
}

static void handle_response(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, const vpn_ikev2_endpoint *local,
                            const vpn_ikev2_endpoint *remote, const uint8_t *buf, size_t len,
                            vpn_ikev2_msg *outer)
{
    vpn_ikev2_msg *inner;
    ikev2_in in;
    size_t k = SIZE_MAX;
    int rc;

    if (sa->req.task == IKEV2_T_NONE || outer->hdr.msg_id != sa->req.mid ||
        outer->hdr.exchange != sa->req.type) {
        /* 2.3: responses are matched by message ID; a parked request's
         * answer makes it the current one (below, once authenticated) */
        for (k = 0; k < sa->n_park; k++)
            if (sa->park[k].mid == outer->hdr.msg_id && sa->park[k].type == outer->hdr.exchange)
                break;
        if (k == sa->n_park) {
            ctx->stats.dropped++;
            return;
        }
    }
    if ((inner = vpn_calloc(&ctx->params.alloc, 1, sizeof *inner)) == NULL) {
        ikev2_internal_error(ctx, sa, now, VPN_ERR_NOMEM, "reading a response");
        return;
    }
    rc = unprotect(ctx, sa, buf, len, outer, inner);
    if (rc == VPN_ERR_NOMEM) {
        free(inner);
        ikev2_internal_error(ctx, sa, now, rc, "reassembling a response");
        return;
    }
    if (rc != 0) {
        if (rc != 1) {
            ctx->stats.dropped++;
            IKEV2_LOG(ctx, VPN_LOG_DEBUG, "IKE SA %u: dropped response %u (%s)", sa->id,
                      outer->hdr.msg_id, vpn_strerror(rc));
        }
        free(inner);
        return;
    }
    /* 2.21.2: only an authentic answer touches the requests in flight */
    if (k != SIZE_MAX)
        exch_swap(&sa->req, &sa->park[k]);
    /* a response comes where the request went (RFC 7296 2.11) */
    plain_view(ctx, sa, false, &sa->remote, &sa->local, buf, ctx->plain_first, ctx->plain, ctx->plain_len);
    /* 2.23: likewise only the response with the highest message ID so far
     * (with requests parked, an older answer may come last) */
    if (outer->hdr.msg_id >= sa->resp_recv_next) {
        sa->resp_recv_next = (uint64_t)outer->hdr.msg_id + 1;
        follow_peer(ctx, sa, local, remote);
    }
    ctx->stats.in_responses++;
    sa->last_recv = now;
    in.raw = buf;
    in.raw_len = len;
    in.hdr = outer->hdr;
    in.msg = inner;
    in.local = local;
    in.remote = remote;
    peer_window(ctx, sa, inner);
    if (sa->req.abandoned) {
        /* a request of a closing SA (ikev2_sa_close) answered: room for
         * its Delete; a CHILD_SA it made goes with this SA (1.4.1), a new
         * IKE SA is told apart */
        const ikev2_exch_ops *ops = ikev2_exch_ops_of(sa->req.task);
        if (ops && ops->abort)
            ops->abort(ctx, sa, now, &in);
        free(inner);
        ikev2_req_clear(sa);
        unpark(sa);
        if (sa->close_task != IKEV2_T_NONE && !close_waits(sa))
            close_send(ctx, sa, now);
        return;
    }
    sa->req.answered = true;
    {
        /* NONE here (never expected: a parked answer swapped in has a
         * task) goes to the INFORMATIONAL handler, which only clears the
         * request; INIT never comes here (IKE_SA_INIT answers are taken
         * by recv_one, matched by SPIi) */
        const ikev2_exch_ops *ops = ikev2_exch_ops_of(sa->req.task);
        (ops ? ops : &ikev2_info_ops)->process_i(ctx, sa, now, &in);
    }
    free(inner);
    unpark(sa);
    if (sa->phase != IKEV2_P_DEAD)
        ikev2_run_pending(ctx, sa, now);
}

static ikev2_sa *half_open_by_spi_i(const vpn_ikev2_ctx *ctx, uint64_t spi_i, const vpn_ikev2_endpoint *remote,
                                    bool initiator)
{
    if (ctx->n_hash == 0)
        return NULL;
    for (ikev2_sa *sa = ctx->spi_hash[hash_slot(spi_i, ctx->n_hash)]; sa; sa = sa->spi_next) {
        if (sa->phase == IKEV2_P_DEAD || sa->initiator != initiator || ikev2_spi64(sa->spi_i) != spi_i)
            continue;
        if (!vpn_addr_eq(&sa->remote.addr, &remote->addr))
            continue;
        if (initiator ? sa->phase == IKEV2_P_INIT_SENT : true)
            return sa_touched(ctx, sa);
    }
    return NULL;
}

static int recv_one(vpn_ikev2_ctx *ctx, uint64_t now, const vpn_ikev2_endpoint *local,
                    const vpn_ikev2_endpoint *remote, const uint8_t *data, size_t len);

/* The engine contract for input: what recv_one drops it counts (stats.dropped); the log line
 * is written here, once per datagram, so no drop path can forget it. */
int vpn_ikev2_input(vpn_ikev2_ctx *ctx, uint64_t now, const vpn_ikev2_endpoint *local,
                   const vpn_ikev2_endpoint *remote, const uint8_t *data, size_t len)
{
    uint64_t dropped;
    int rc;

    if (ctx == NULL || local == NULL || remote == NULL || (data == NULL && len))
        return VPN_ERR_INVAL;
    dropped = ctx->stats.dropped;
    rc = recv_one(ctx, now, local, remote, data, len);
    if (ctx->stats.dropped != dropped)
        IKEV2_LOG(ctx, VPN_LOG_DEBUG, "datagram of %zu bytes from port %u dropped", len,
                  (unsigned)remote->port);
    return rc;
}

static int recv_one(vpn_ikev2_ctx *ctx, uint64_t now, const vpn_ikev2_endpoint *local,
                    const vpn_ikev2_endpoint *remote, const uint8_t *data, size_t len)
{
    vpn_ikev2_hdr hdr;
    vpn_ikev2_msg *msg;
    ikev2_sa *sa;
    bool response;
    int rc;

    /* any datagram may change what is due next (cached deadline) */
    ikev2_enter(ctx, now);

    if (ctx == NULL || local == NULL || remote == NULL || (data == NULL && len))
        return VPN_ERR_INVAL;
    /* RFC 3948 2.3: a NAT-keepalive is one 0xFF octet. */
    if (len == 1 && data[0] == 0xff)
        return 0;
    if (is_natt(local, remote)) {
        /* RFC 3948 2.2: IKE on port 4500 follows the non-ESP marker. */
        if (len < 4 || memcmp(data, non_esp_marker, 4) != 0) {
            ctx->stats.dropped++;
            return 0;
        }
        data += 4;
        len -= 4;
    }
    rc = vpn_ikev2_hdr_parse(data, len, &hdr);
    if (rc == VPN_ERR_UNSUPPORTED && len >= 28 && !(hdr.flags & VPN_IKEV2_FLAG_R) &&
        hdr.exchange == VPN_IKEV2_IKE_SA_INIT) {
        /* RFC 7296 2.5: tell the peer the highest version we speak. */
        ikev2_send_notify_plain(ctx, local, remote, &hdr, VPN_IKEV2_N_INVALID_MAJOR_VERSION, NULL, 0);
        return 0;
    }
    if (rc != 0) {
        ctx->stats.dropped++;
        return 0;
    }
    if ((msg = vpn_malloc(&ctx->params.alloc, sizeof *msg)) == NULL) {
        ikev2_internal_error(ctx, NULL, now, VPN_ERR_NOMEM, "reading a datagram");
        return VPN_ERR_NOMEM;
    }
    response = (hdr.flags & VPN_IKEV2_FLAG_R) != 0;
    rc = vpn_ikev2_msg_parse(data, len, msg);
    if (hdr.exchange == VPN_IKEV2_IKE_SA_INIT) {
        if (!response) {
            if (hdr.spi_r != 0 || hdr.msg_id != 0 || !(hdr.flags & VPN_IKEV2_FLAG_I)) {
                ctx->stats.dropped++;
            } else if ((sa = half_open_by_spi_i(ctx, hdr.spi_i, remote, false)) != NULL) {
                /* RFC 7296 2.1: the retransmitted IKE_SA_INIT gets its answer again */
                if (same_bytes(&sa->init_req, data, len) && sa->init_resp.p) {
                    ctx->stats.duplicates_answered++;
                    ikev2_send_raw(ctx, &sa->local, &sa->remote, sa->id, sa->init_resp.p,
                                   sa->init_resp.len);
                } else {
                    ctx->stats.dropped++;
                }
            } else {
                ikev2_in in = {data, len, hdr, msg, local, remote};
                if (rc != 0) {
                    /* RFC 7296 2.21.1: a broken IKE_SA_INIT is answered
                     * without creating state, critical payloads named. */
                    if (msg->err_notify == VPN_IKEV2_N_UNSUPPORTED_CRITICAL_PAYLOAD)
                        ikev2_send_notify_plain(ctx, local, remote, &hdr, msg->err_notify,
                                                &msg->err_payload, 1);
                    else if (msg->hdr_ok)
                        ikev2_send_notify_plain(ctx, local, remote, &hdr, VPN_IKEV2_N_INVALID_SYNTAX,
                                                NULL, 0);
                    ctx->stats.dropped++;
                } else {
                    ctx->stats.in_requests++;
                    /* no SA yet: the exchange makes one */
                    ikev2_exch_ops_r(&in)->process_r(ctx, NULL, now, &in);
                }
            }
        } else if (rc == 0 && (sa = half_open_by_spi_i(ctx, hdr.spi_i, remote, true)) != NULL &&
                   hdr.msg_id == 0 && !(hdr.flags & VPN_IKEV2_FLAG_I)) {
            ikev2_in in = {data, len, hdr, msg, local, remote};
            ctx->stats.in_responses++;
            ikev2_init_ops.process_i(ctx, sa, now, &in);
        } else {
            ctx->stats.dropped++;
        }
    } else if (rc != 0 && rc != VPN_ERR_UNSUPPORTED) {
        /* the outer framing is broken: nothing authenticates it */
        ctx->stats.dropped++;
    } else if ((sa = sa_by_spis(ctx, hdr.spi_i, hdr.spi_r)) == NULL) {
        /* RFC 7296 2.21.4: unknown SPIs; we do not answer unprotected
         * (but a Delete we answered is answered again: tomb_answer) */
        if (rc != 0 || response || !tomb_answer(ctx, now, &hdr, data, len))
            ctx->stats.dropped++;
    } else if (((hdr.flags & VPN_IKEV2_FLAG_I) != 0) == sa->initiator) {
        /* The I flag says who sent it: it must be the other side. */
        ctx->stats.dropped++;
    } else if (rc != 0) {
        ctx->stats.dropped++;
    } else if (response) {
        handle_response(ctx, sa, now, local, remote, data, len, msg);
    } else {
        handle_request(ctx, sa, now, local, remote, data, len, msg);
    }
    OPENSSL_cleanse(msg, sizeof *msg);
    free(msg);
    /* Queued work of any SA may start now. Only SAs with a queue are worth the
     * pass: without any (the usual case), a hub does not walk its N SAs. */
    if (ctx->pending_due) {
        ctx->pending_due = false;
        for (size_t i = 0; i < ctx->n_sa; i++) {
            if (ctx->sa[i]->phase != IKEV2_P_DEAD && ctx->sa[i]->n_pending) {
                ikev2_sa_deadline_changed(ctx, ctx->sa[i]);
                ikev2_run_pending(ctx, ctx->sa[i], now);
            }
            if (ctx->sa[i]->n_pending)
                ctx->pending_due = true;
        }
    }
    sweep(ctx);
    return 0;
}

/* ---- initiating and management ------------------------------------------------------- */

void ikev2_half_open_add(vpn_ikev2_ctx *ctx, const ikev2_sa *sa)
{
    if (ctx->n_ho_in == ctx->cap_ho_in) {
        size_t cap = ctx->cap_ho_in ? ctx->cap_ho_in * 2 : 16;
        uint32_t *n = vpn_realloc(&ctx->params.alloc, ctx->ho_in, cap * sizeof *n);
        if (n == NULL) {
            ctx->ho_complete = false; /* counted by walking from now on */
            return;
        }
        ctx->ho_in = n;
        ctx->cap_ho_in = cap;
    }
    ctx->ho_in[ctx->n_ho_in++] = sa->id;
}

static unsigned count_phase(const vpn_ikev2_ctx *ctx, bool initiator);

unsigned ikev2_half_open_in(vpn_ikev2_ctx *ctx)
{
    size_t j = 0;

    if (!ctx->ho_complete)
        return count_phase(ctx, false);
    for (size_t i = 0; i < ctx->n_ho_in; i++) {
        const ikev2_sa *sa = ikev2_sa_by_id(ctx, ctx->ho_in[i]);
        if (sa && !sa->initiator && sa->phase == IKEV2_P_HALF_OPEN)
            ctx->ho_in[j++] = ctx->ho_in[i];
    }
    ctx->n_ho_in = j;
    return (unsigned)j;
}

static unsigned count_phase(const vpn_ikev2_ctx *ctx, bool initiator)
{
    unsigned n = 0;
    for (size_t i = 0; i < ctx->n_sa; i++) {
        const ikev2_sa *sa = ctx->sa[i];
        if (sa->initiator != initiator)
            continue;
        if (initiator ? (sa->phase == IKEV2_P_INIT_SENT || sa->phase == IKEV2_P_AUTH_SENT)
                      : sa->phase == IKEV2_P_HALF_OPEN)
            n++;
    }
    return n;
}

int vpn_ikev2_initiate(vpn_ikev2_ctx *ctx, uint64_t now, const vpn_ikev2_endpoint *local,
                       const vpn_ikev2_endpoint *remote, const vpn_ikev2_policy *policy,
                       uint32_t *ike_sa_id)
{
    ikev2_enter(ctx, now);
    size_t pidx;
    ikev2_sa *sa;
    int rc;

    if (ctx == NULL || local == NULL || remote == NULL || policy == NULL ||
        (local->addr.family != VPN_AF_INET && local->addr.family != VPN_AF_INET6) ||
        local->addr.family != remote->addr.family)
        return VPN_ERR_INVAL;
    if (count_phase(ctx, true) >= ctx->params.max_half_open_out)
        return VPN_ERR_LIMIT;
    if ((rc = ikev2_policy_add(ctx, policy, &pidx)) != 0)
        return rc;
    for (size_t i = 0; i < ctx->n_policy; i++)
        ctx->policy[i].p.ipsec_profile = ctx->policy[i].ipsec_profile;
    if ((sa = ikev2_sa_new(ctx, now, true, local, remote)) == NULL)
        return VPN_ERR_NOMEM;
    sa->policy = pidx;
    sa->profile = ctx->policy[pidx].ike_profile;
    rc = task_start(ctx, sa, now, IKEV2_T_INIT, 0);
    if (rc != 0) {
        ikev2_sa_mark_dead(ctx, sa);
        sweep(ctx);
        return rc;
    }
    if (ike_sa_id)
        *ike_sa_id = sa->id;
    return 0;
}

int vpn_ikev2_delete(vpn_ikev2_ctx *ctx, uint64_t now, uint32_t ike_sa_id)
{
    ikev2_enter(ctx, now);
    ikev2_sa *sa;

    if (ctx == NULL)
        return VPN_ERR_INVAL;
    if ((sa = ikev2_sa_by_id(ctx, ike_sa_id)) == NULL || sa->phase == IKEV2_P_DELETING)
        return VPN_ERR_NOTFOUND;
    if (sa->phase == IKEV2_P_ESTABLISHED) {
        /* RFC 7296 1.4.1: INFORMATIONAL { D(IKE) }; the driver learns at
         * once, the SA stays only to carry the Delete to the peer. Work in
         * flight is abandoned (ikev2_sa_close keeps it retransmitted if
         * the Delete would not fit the peer's window without it). */
        ikev2_sa_close(ctx, sa, now, VPN_IKEV2_R_LOCAL_DELETE, 0, NULL, IKEV2_T_IKE_DELETE);
    } else {
        ikev2_sa_kill(ctx, sa, VPN_IKEV2_R_LOCAL_DELETE, 0, NULL);
    }
    sweep(ctx);
    return 0;
}

/* The live IKE SA holding CHILD_SA child_id (ids are unique in a context,
 * and a child belongs to one SA: an IKE rekey moves them all), or NULL.
 * One probe of the index, checked against the SA it names; the walk over
 * every SA is left for an index that could not grow. */
static ikev2_sa *sa_of_child_ro(const vpn_ikev2_ctx *ctx, uint32_t child_id, ikev2_child **c)
{
    if (child_id == 0)
        return NULL;
    {
        uint32_t sa_id = ikev2_cidx_get(&ctx->cidx, child_id);
        ikev2_sa *sa;
        if (sa_id != 0 && (sa = sa_by_id_ro(ctx, sa_id)) != NULL && (*c = ikev2_child_by_id(sa, child_id)) != NULL)
            return sa;
    }
    if (ctx->cidx.complete)
        return NULL;
    for (size_t i = 0; i < ctx->n_sa; i++) {
        ikev2_sa *sa = ctx->sa[i];
        if (sa->phase == IKEV2_P_DEAD)
            continue;
        if ((*c = ikev2_child_by_id(sa, child_id)) != NULL)
            return sa;
    }
    return NULL;
}

/* The same, for the verbs that may change the SA (its deadline is recomputed). */
static ikev2_sa *sa_of_child(const vpn_ikev2_ctx *ctx, uint32_t child_id, ikev2_child **c)
{
    return sa_touched(ctx, sa_of_child_ro(ctx, child_id, c));
}

int vpn_ikev2_child_delete(vpn_ikev2_ctx *ctx, uint64_t now, uint32_t child_id)
{
    ikev2_enter(ctx, now);
    ikev2_child *c;
    ikev2_sa *sa;
    int rc;

    if (ctx == NULL)
        return VPN_ERR_INVAL;
    if ((sa = sa_of_child(ctx, child_id, &c)) == NULL)
        return VPN_ERR_NOTFOUND;
    if (sa->phase != IKEV2_P_ESTABLISHED)
        return VPN_ERR_STATE;
    rc = ikev2_queue(ctx, sa, now, IKEV2_T_CHILD_DELETE, child_id);
    sweep(ctx);
    return rc;
}

int vpn_ikev2_child_create(vpn_ikev2_ctx *ctx, uint64_t now, uint32_t ike_sa_id,
                           const vpn_ikev2_policy *policy)
{
    ikev2_enter(ctx, now);
    ikev2_sa *sa;
    size_t idx;
    int rc;

    if (ctx == NULL || policy == NULL)
        return VPN_ERR_INVAL;
    if ((sa = ikev2_sa_by_id(ctx, ike_sa_id)) == NULL)
        return VPN_ERR_NOTFOUND;
    if (sa->phase != IKEV2_P_ESTABLISHED || sa->rekeyed_to || sa->down_emitted)
        return VPN_ERR_STATE;
    if ((rc = ikev2_policy_add(ctx, policy, &idx)) != 0)
        return rc;
    for (size_t i = 0; i < ctx->n_policy; i++)
        ctx->policy[i].p.ipsec_profile = ctx->policy[i].ipsec_profile;
    rc = ikev2_queue(ctx, sa, now, IKEV2_T_CHILD_CREATE, (uint32_t)idx);
    sweep(ctx);
    return rc;
}

int vpn_ikev2_child_rekey(vpn_ikev2_ctx *ctx, uint64_t now, uint32_t child_id)
{
    ikev2_enter(ctx, now);
    ikev2_child *c;
    ikev2_sa *sa;
    int rc;

    if (ctx == NULL)
        return VPN_ERR_INVAL;
    if ((sa = sa_of_child(ctx, child_id, &c)) == NULL)
        return VPN_ERR_NOTFOUND;
    if (sa->phase != IKEV2_P_ESTABLISHED || c->state != IKEV2_C_ACTIVE)
        return VPN_ERR_STATE;
    rc = ikev2_queue(ctx, sa, now, IKEV2_T_CHILD_REKEY, child_id);
    sweep(ctx);
    return rc;
}

int vpn_ikev2_ike_rekey(vpn_ikev2_ctx *ctx, uint64_t now, uint32_t ike_sa_id)
{
    ikev2_enter(ctx, now);
    ikev2_sa *sa;
    int rc;

    if (ctx == NULL)
        return VPN_ERR_INVAL;
    if ((sa = ikev2_sa_by_id(ctx, ike_sa_id)) == NULL)
        return VPN_ERR_NOTFOUND;
    if (sa->phase != IKEV2_P_ESTABLISHED || sa->rekeyed_to)
        return VPN_ERR_STATE;
    rc = ikev2_queue(ctx, sa, now, IKEV2_T_IKE_REKEY, 0);
    sweep(ctx);
    return rc;
}

int vpn_ikev2_dpd(vpn_ikev2_ctx *ctx, uint64_t now, uint32_t ike_sa_id)
{
    ikev2_enter(ctx, now);
    ikev2_sa *sa;
    int rc;

    if (ctx == NULL)
        return VPN_ERR_INVAL;
    if ((sa = ikev2_sa_by_id(ctx, ike_sa_id)) == NULL)
        return VPN_ERR_NOTFOUND;
    if (sa->phase != IKEV2_P_ESTABLISHED)
        return VPN_ERR_STATE;
    rc = ikev2_queue(ctx, sa, now, IKEV2_T_DPD, 0);
    sweep(ctx);
    return rc;
}

static uint64_t min64(uint64_t a, uint64_t b);
static uint64_t sa_deadline(const ikev2_sa *sa);

int vpn_ikev2_child_peer_moved(vpn_ikev2_ctx *ctx, uint64_t now, uint32_t child_id,
                               const vpn_ikev2_endpoint *remote)
{
    ikev2_child *c;
    ikev2_sa *sa;

    (void)now;
    if (ctx == NULL || remote == NULL)
        return VPN_ERR_INVAL;
    if ((sa = sa_of_child(ctx, child_id, &c)) == NULL)
        return VPN_ERR_NOTFOUND;
    /* 2.23: only a host that is not behind a NAT follows, and only a peer
     * that is; never to another address family */
    if (!sa->nat_remote || sa->nat_local || !sa->established || ikev2_sa_gone(sa) ||
        remote->addr.family != sa->remote.addr.family || endpoint_eq(&sa->remote, remote))
        return 0;
    follow_peer(ctx, sa, &sa->local, remote);
    return 1;
}

uint32_t vpn_ikev2_child_activity_at(vpn_ikev2_ctx *ctx, uint64_t now, uint32_t ike_sa_id, uint32_t child_id,
                                     bool inbound, bool outbound)
{
    ikev2_child *c = NULL;
    ikev2_sa *sa = NULL;
    bool arms = false;

    if (ctx == NULL || child_id == 0)
        return 0;
    /* a child is in one live SA at most (an IKE rekey moves them all), so
     * the hint finds the SA the index would, or nothing */
    if (ike_sa_id != 0 && (sa = sa_by_id_ro(ctx, ike_sa_id)) != NULL &&
        (c = ikev2_child_by_id(sa, child_id)) == NULL)
        sa = NULL;
    if (sa == NULL && (sa = sa_of_child_ro(ctx, child_id, &c)) == NULL)
        return 0;
    if (inbound) {
        sa->last_recv = now > sa->last_recv ? now : sa->last_recv;
    }
    if (outbound) {
        /* the first packet sent since the peer was last heard from: on-demand
         * DPD now has a question to ask (dpd_due) */
        arms = sa->last_send_traffic <= sa->last_recv;
        sa->last_send_traffic = now;
    }
    /* Traffic moves only this SA's DPD time (sa_deadline reads these times
     * through dpd_due alone). Later: the key stays early (a move down the
     * heap per packet would cost more than it saves); vpn_ikev2_timeout
     * then visits the SA, finds nothing due and puts the right key back.
     * Earlier: lower its key now. Only arming can make it earlier: a
     * packet in raises last_recv (dpd_due later, or never on demand), and a
     * packet out while armed leaves dpd_due as it was (periodic DPD does
     * not read last_send_traffic). So a key that is exact or early (see
     * ikev2-eng.h) stays so without sa_deadline, which reads a dozen
     * scattered fields of the SA and its children on every packet
     * (issue 14). A marked SA is recomputed anyway. */
    if (arms && !sa->dl_dirty) {
        uint64_t d = sa_deadline(sa);
        if (d < ctx->dl.e[sa->dl_pos].key)
            vpn_dheap_update(&ctx->dl, sa->dl_pos, d);
    }
    return sa->id;
}

void vpn_ikev2_child_activity(vpn_ikev2_ctx *ctx, uint64_t now, uint32_t child_id, bool inbound,
                              bool outbound)
{
    (void)vpn_ikev2_child_activity_at(ctx, now, 0, child_id, inbound, outbound);
}

/* ---- timers --------------------------------------------------------------------------- */

static uint64_t dpd_due(const ikev2_sa *sa)
{
    const vpn_conf_profile *p = sa->profile;

    if (p == NULL || p->dpd_mode == VPN_CONF_DPD_OFF || p->dpd_interval_s == 0 ||
        sa->phase != IKEV2_P_ESTABLISHED || sa->rekeyed_to || sa->down_emitted)
        return UINT64_MAX; /* not for SAs the driver no longer knows */
    if (p->dpd_mode == VPN_CONF_DPD_ON_DEMAND && sa->last_send_traffic <= sa->last_recv)
        return UINT64_MAX; /* nothing sent since we last heard: no question to ask */
    return sa->last_recv + (uint64_t)p->dpd_interval_s * NS_PER_S;
}

static uint64_t min64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static uint64_t sa_deadline(const ikev2_sa *sa)
{
    uint64_t t = UINT64_MAX;

    if (sa->phase == IKEV2_P_DEAD)
        return UINT64_MAX;
    if (sa->req.task != IKEV2_T_NONE)
        t = min64(t, sa->req.next_tx);
    for (size_t i = 0; i < sa->n_park; i++)
        t = min64(t, sa->park[i].next_tx);
    if (sa->half_open_until)
        t = min64(t, sa->half_open_until);
    if (sa->phase == IKEV2_P_ESTABLISHED) {
        if (sa->rekeyed_to)
            return sa->expire_at ? min64(t, sa->expire_at) : t;
        if (sa->rekey_at)
            t = min64(t, sa->rekey_at);
        if (sa->expire_at)
            t = min64(t, sa->expire_at);
        if (ikev2_req_outstanding(sa) == 0)
            t = min64(t, dpd_due(sa));
        if (sa->keepalive_at)
            t = min64(t, sa->keepalive_at);
        if (sa->pending_retry_at)
            t = min64(t, sa->pending_retry_at);
        for (size_t i = 0; i < sa->n_child; i++) {
            const ikev2_child *c = &sa->child[i];
            if (c->state == IKEV2_C_ACTIVE && c->rekey_at)
                t = min64(t, c->rekey_at);
            if (c->expire_at)
                t = min64(t, c->expire_at);
        }
    }
    return t;
}

uint64_t vpn_ikev2_next_deadline(const vpn_ikev2_ctx *ctx)
{
    uint64_t t;

    if (ctx == NULL)
        return UINT64_MAX;
    /* The context is never const itself (vpn_ikev2_ctx_new allocates it):
     * bringing the heap up to date changes nothing a caller can see. */
    dl_flush((vpn_ikev2_ctx *)(uintptr_t)ctx);
    t = vpn_dheap_min(&ctx->dl);
    if (t != UINT64_MAX && ctx->cookie_rotate_at)
        t = min64(t, ctx->cookie_rotate_at);
    return t;
}

static void retransmit(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now)
{
    ikev2_exch *x = &sa->req;

    if (x->tries >= ctx->params.retries) {
        /* RFC 7296 2.4: give up; the peer is gone (DPD) or unreachable */
        ikev2_task t = x->task;
        if (sa->down_emitted || t == IKEV2_T_IKE_DELETE || t == IKEV2_T_AUTH_FAILED) {
            if (t == IKEV2_T_IKE_DELETE) /* no event may follow: say it here */
                IKEV2_LOG(ctx, VPN_LOG_INFO, "IKE SA %u: no answer to our Delete after %u retransmissions: gone",
                          sa->id, x->tries);
            sa->down_emitted = true;
            ikev2_sa_kill(ctx, sa, VPN_IKEV2_R_TIMEOUT, 0, NULL); /* quietly */
            return;
        }
        ikev2_sa_kill(ctx, sa, t == IKEV2_T_DPD ? VPN_IKEV2_R_DPD : VPN_IKEV2_R_TIMEOUT, 0,
                      t == IKEV2_T_DPD ? "no answer to liveness checks" : "no answer to our request");
        return;
    }
    x->tries++;
    if (!x->fixed_rto) {
        x->rto *= 2;
        if (x->rto > ctx->params.rto_max_ns)
            x->rto = ctx->params.rto_max_ns;
    }
    x->next_tx = now + x->rto;
    ctx->stats.retransmits++;
    IKEV2_LOG(ctx, VPN_LOG_DEBUG, "IKE SA %u: retransmit %u of request %u", sa->id, x->tries, x->mid);
    send_bufs(ctx, sa, x->msg, x->n_msg);
}

static void keepalive(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now)
{
    vpn_ikev2_dgram d;
    static const uint8_t ka = 0xff;
    uint32_t every = sa->profile && sa->profile->nat_keepalive_s ? sa->profile->nat_keepalive_s
                                                                 : ctx->conf->nat_keepalive_s;

    memset(&d, 0, sizeof d);
    d.local = sa->local;
    d.remote = sa->remote;
    d.data = &ka;
    d.len = 1;
    d.ike_sa_id = sa->id;
    d.keepalive = true;
    ctx->params.send(ctx->params.user, &d);
    sa->keepalive_at = every ? now + (uint64_t)every * NS_PER_S : 0;
}

static void sa_timers(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now)
{
    if (sa->req.task != IKEV2_T_NONE && sa->req.next_tx <= now)
        retransmit(ctx, sa, now);
    /* 2.3: each request of the window is retransmitted on its own timer */
    for (size_t i = 0; i < sa->n_park && sa->phase != IKEV2_P_DEAD; i++) {
        if (sa->park[i].next_tx > now)
            continue;
        exch_swap(&sa->req, &sa->park[i]);
        retransmit(ctx, sa, now);
        exch_swap(&sa->req, &sa->park[i]);
    }
    if (sa->phase == IKEV2_P_DEAD)
        return;
    if (sa->half_open_until && sa->half_open_until <= now) {
        ikev2_sa_kill(ctx, sa, VPN_IKEV2_R_TIMEOUT, 0, "IKE_AUTH never came");
        return;
    }
    if (sa->phase != IKEV2_P_ESTABLISHED)
        return;
    if (sa->expire_at && sa->expire_at <= now) {
        /* hard lifetime (or the grace time of a rekeyed SA, or the
         * redundant one of two made at once, ikev2_duplicate_check): delete it */
        char why[64];
        if (sa->down_emitted && !sa->rekeyed_to && !sa->dup_of)
            /* never reported: the redundant SA of a simultaneous IKE rekey
             * we won, which the peer, its initiator, should have deleted
             * (RFC 7296 2.8.2; it may never have had our answer) */
            IKEV2_LOG(ctx, VPN_LOG_INFO, "IKE SA %u: redundant SA of a simultaneous IKE rekey, not deleted "
                      "by the peer: deleting it", sa->id);
        if (sa->dup_of)
            snprintf(why, sizeof why, "duplicate of IKE SA %u (both ends initiated)", sa->dup_of);
        ikev2_sa_close(ctx, sa, now, sa->dup_of ? VPN_IKEV2_R_LOCAL_DELETE : VPN_IKEV2_R_EXPIRED, 0,
                       sa->dup_of ? why : NULL, IKEV2_T_IKE_DELETE);
        return;
    }
    if (sa->rekeyed_to)
        return; /* the new SA does the work now */
    if (sa->rekey_at && sa->rekey_at <= now) {
        sa->rekey_at = 0;
        ikev2_queue(ctx, sa, now, IKEV2_T_IKE_REKEY, 0);
    }
    if (sa->pending_retry_at && sa->pending_retry_at <= now) {
        sa->pending_retry_at = 0;
        ikev2_run_pending(ctx, sa, now);
    }
    for (size_t i = 0; i < sa->n_child; i++) {
        ikev2_child *c = &sa->child[i];
        if (c->expire_at && c->expire_at <= now) {
            /* hard lifetime: it must not be used any more (RFC 4301 4.4.2.1) */
            c->expire_at = 0;
            ikev2_emit(ctx, sa, VPN_IKEV2_EV_CHILD_DOWN, VPN_IKEV2_R_EXPIRED, 0, c, 0, NULL);
            c->announced = false; /* the driver was told: no second CHILD_DOWN */
            c->state = IKEV2_C_DELETING;
            ikev2_queue(ctx, sa, now, IKEV2_T_CHILD_DELETE, c->id);
            continue;
        }
        if (c->state == IKEV2_C_ACTIVE && c->rekey_at && c->rekey_at <= now) {
            c->rekey_at = 0;
            ikev2_emit(ctx, sa, VPN_IKEV2_EV_CHILD_EXPIRING, VPN_IKEV2_R_NONE, 0, c, 0, NULL);
            ikev2_queue(ctx, sa, now, IKEV2_T_CHILD_REKEY, c->id);
        }
    }
    if (ikev2_req_outstanding(sa) == 0 && dpd_due(sa) <= now)
        ikev2_queue(ctx, sa, now, IKEV2_T_DPD, 0);
    if (sa->keepalive_at && sa->keepalive_at <= now)
        keepalive(ctx, sa, now);
}

static int tm_cmp(const void *a, const void *b)
{
    uint64_t x = ((const ikev2_sa *)*(void *const *)a)->seq, y = ((const ikev2_sa *)*(void *const *)b)->seq;
    return x < y ? -1 : x > y;
}

static void tm_late(vpn_ikev2_ctx *ctx, ikev2_sa *sa)
{
    size_t k;

    /* not yet visited, alive when the call began, after the one running */
    if (sa->tm_queued || sa->phase == IKEV2_P_DEAD || sa->seq <= ctx->tm_cur || sa->seq >= ctx->tm_limit ||
        ctx->n_tm >= ctx->cap_sa)
        return;
    for (k = ctx->n_tm; k > ctx->tm_i + 1 && ((ikev2_sa *)ctx->tm[k - 1])->seq > sa->seq; k--)
        ctx->tm[k] = ctx->tm[k - 1];
    ctx->tm[k] = sa;
    ctx->n_tm++;
    sa->tm_queued = true;
}

int vpn_ikev2_timeout(vpn_ikev2_ctx *ctx, uint64_t now)
{
    ikev2_enter(ctx, now);
    if (ctx == NULL)
        return VPN_ERR_INVAL;
    if (ctx->tm_run)
        return VPN_ERR_STATE; /* called again from one of its own events */
    if (ctx->cookie_rotate_at == 0)
        ctx->cookie_rotate_at = now + COOKIE_ROTATE_NS;
    else if (ctx->cookie_rotate_at <= now)
        cookie_rotate(ctx, now);
    /* Only the due SAs are visited (keys are exact or early: an early one
     * finds nothing due and gets its right key back). They are visited in
     * creation order, the order of sa[] the walk over every SA used, so
     * events and datagrams come out as they did. SAs created by the timers
     * (none today) are not visited in this call, as before. */
    dl_flush(ctx);
    ctx->n_tm = vpn_dheap_due(&ctx->dl, now, ctx->tm, ctx->n_sa);
    if (ctx->n_tm > 1)
        qsort(ctx->tm, ctx->n_tm, sizeof *ctx->tm, tm_cmp);
    for (size_t i = 0; i < ctx->n_tm; i++)
        ((ikev2_sa *)ctx->tm[i])->tm_queued = true;
    ctx->tm_run = true;
    ctx->tm_now = now;
    ctx->tm_limit = ctx->sa_seq;
    for (ctx->tm_i = 0; ctx->tm_i < ctx->n_tm; ctx->tm_i++) {
        ikev2_sa *sa = ctx->tm[ctx->tm_i];
        ctx->tm_cur = sa->seq;
        if (sa->phase != IKEV2_P_DEAD) {
            ikev2_sa_deadline_changed(ctx, sa);
            sa_timers(ctx, sa, now);
        }
        dl_flush(ctx);
    }
    for (size_t i = 0; i < ctx->n_tm; i++)
        ((ikev2_sa *)ctx->tm[i])->tm_queued = false;
    ctx->n_tm = 0;
    ctx->tm_run = false;
    sweep(ctx);
    return 0;
}

/* ---- state views ----------------------------------------------------------------------- */

size_t vpn_ikev2_sa_count(const vpn_ikev2_ctx *ctx)
{
    return ctx ? ctx->n_sa : 0;
}

static void sa_info(const vpn_ikev2_ctx *ctx, const ikev2_sa *sa, vpn_ikev2_sa_info *o)
{
    memset(o, 0, sizeof *o);
    o->id = sa->id;
    switch (sa->phase) {
    case IKEV2_P_ESTABLISHED:
        o->state = sa->req.task == IKEV2_T_IKE_REKEY ? VPN_IKEV2_SA_REKEYING : VPN_IKEV2_SA_ESTABLISHED;
        break;
    case IKEV2_P_DELETING:
        o->state = VPN_IKEV2_SA_DELETING;
        break;
    default:
        o->state = VPN_IKEV2_SA_CONNECTING;
    }
    o->initiator = sa->initiator;
    o->local = sa->local;
    o->remote = sa->remote;
    memcpy(o->spi_i, sa->spi_i, 8);
    memcpy(o->spi_r, sa->spi_r, 8);
    if (sa->keyed) {
        o->encr = sa->suite.encr;
        o->encr_key_bits = sa->suite.encr_key_bits;
        o->integ = sa->suite.integ;
        o->prf = sa->suite.prf;
        o->dh_group = sa->dh_group;
    }
    o->auth_local = sa->auth_local;
    o->auth_remote = sa->auth_remote;
    o->auth_sign = sa->auth_local_kind;
    o->auth_verify = sa->auth_remote_kind;
    o->id_local.type = sa->id_local.type;
    ikev2_id_text(&sa->id_local, o->id_local.text, sizeof o->id_local.text);
    o->id_remote.type = sa->id_remote.type;
    ikev2_id_text(&sa->id_remote, o->id_remote.text, sizeof o->id_remote.text);
    if (sa->dn_local[0])
        snprintf(o->id_local.text, sizeof o->id_local.text, "%s", sa->dn_local);
    if (sa->dn_remote[0])
        snprintf(o->id_remote.text, sizeof o->id_remote.text, "%s", sa->dn_remote);
    o->lifetime_s = sa->profile && sa->profile->lifetime_s ? sa->profile->lifetime_s : VPN_CONF_IKE_LIFETIME_S;
    o->established_ns = sa->established;
    o->created_ns = sa->created;
    o->msgid_next_send = sa->mid_send;
    o->msgid_next_recv = sa->mid_recv;
    o->window_local = ikev2_window_local(ctx);
    o->window_remote = sa->window_remote;
    o->requests_in_flight = (unsigned)ikev2_req_outstanding(sa);
    o->queued_requests = (unsigned)sa->n_pending;
    if (sa->profile && sa->profile->dpd_mode != VPN_CONF_DPD_OFF) {
        o->dpd_interval_s = sa->profile->dpd_interval_s;
        o->dpd_retry_s = sa->profile->dpd_retry_s;
    }
    o->nat_local = sa->nat_local;
    o->nat_remote = sa->nat_remote;
    o->fragmentation = sa->peer_frag;
    o->profile = sa->profile ? sa->profile->name : "";
    o->policy_tag = sa->policy < ctx->n_policy ? ctx->policy[sa->policy].p.tag : 0;
    o->n_children = sa->n_child;
    o->eap_identity = sa->eap_identity;
    o->assigned = sa->ra_addr;
    /* the CFG_REPLY holds it on both sides; a responder only while it
     * still holds the pool's address (ra_addr6) */
    if (sa->ra_has_cfg && sa->ra_cfg.address6.family == VPN_AF_INET6 &&
        (sa->ra_cfg_received || sa->ra_addr6.family == VPN_AF_INET6)) {
        o->assigned6 = sa->ra_cfg.address6;
        o->assigned6_len = sa->ra_cfg.prefix6;
    }
    o->cfg = sa->ra_has_cfg ? &sa->ra_cfg : NULL;
}

int vpn_ikev2_sa_get(const vpn_ikev2_ctx *ctx, size_t index, vpn_ikev2_sa_info *out)
{
    if (ctx == NULL || out == NULL)
        return VPN_ERR_INVAL;
    if (index >= ctx->n_sa)
        return VPN_ERR_NOTFOUND;
    sa_info(ctx, ctx->sa[index], out);
    return 0;
}

int vpn_ikev2_sa_find(const vpn_ikev2_ctx *ctx, uint32_t ike_sa_id, vpn_ikev2_sa_info *out)
{
    const ikev2_sa *sa;

    if (ctx == NULL || out == NULL)
        return VPN_ERR_INVAL;
    if ((sa = ikev2_sa_by_id(ctx, ike_sa_id)) == NULL)
        return VPN_ERR_NOTFOUND;
    sa_info(ctx, sa, out);
    return 0;
}

int vpn_ikev2_sa_routes(const vpn_ikev2_ctx *ctx, uint32_t ike_sa_id, vpn_prefix *out, size_t cap)
{
    const ikev2_sa *sa;
    size_t n = 0;

    if (ctx == NULL || (out == NULL && cap > 0))
        return VPN_ERR_INVAL;
    if ((sa = ikev2_sa_by_id(ctx, ike_sa_id)) == NULL)
        return VPN_ERR_NOTFOUND;
    if (sa->ra_has_cfg && !sa->ra_cfg_received)
        return VPN_ERR_STATE;
    if (!sa->ra_has_cfg)
        return 0;
    for (size_t i = 0; i < sa->ra_cfg.n_subnets; i++) {
        const vpn_prefix *p = &sa->ra_cfg.subnets[i];
        bool dup = false;
        /* 3.15.1 gives no default route meaning; one holding the peer
         * would swallow the tunnel's own packets */
        if (vpn_prefix_contains(p, &sa->remote.addr))
            continue;
        for (size_t k = 0; k < i && !dup; k++)
            dup = sa->ra_cfg.subnets[k].len == p->len && vpn_addr_eq(&sa->ra_cfg.subnets[k].addr, &p->addr);
        if (dup)
            continue;
        if (n < cap)
            out[n] = *p;
        n++;
    }
    return (int)n;
}

int vpn_ikev2_child_get(const vpn_ikev2_ctx *ctx, uint32_t ike_sa_id, size_t index,
                        vpn_ikev2_child_state *out)
{
    ikev2_sa *sa;
    const ikev2_child *c;

    if (ctx == NULL || out == NULL)
        return VPN_ERR_INVAL;
    if ((sa = ikev2_sa_by_id(ctx, ike_sa_id)) == NULL || index >= sa->n_child)
        return VPN_ERR_NOTFOUND;
    c = &sa->child[index];
    memset(out, 0, sizeof *out);
    ikev2_child_fill_info(sa, c, &out->info, ctx, false);
    out->installed_ns = c->installed;
    out->expires_ns = c->expire_at;
    return 0;
}

void vpn_ikev2_stats_get(const vpn_ikev2_ctx *ctx, vpn_ikev2_stats *out)
{
    if (ctx == NULL || out == NULL)
        return;
    *out = ctx->stats;
    out->half_open_in = count_phase(ctx, false);
    out->half_open_out = count_phase(ctx, true);
}

/* ---- keys out ------------------------------------------------------------------------ */

int vpn_ikev2_sa_keys_get(const vpn_ikev2_ctx *ctx, uint32_t ike_sa_id, vpn_ikev2_sa_keys *out)
{
    const ikev2_sa *sa;

    if (ctx == NULL || out == NULL)
        return VPN_ERR_INVAL;
    memset(out, 0, sizeof *out);
    if ((sa = ikev2_sa_by_id(ctx, ike_sa_id)) == NULL)
        return VPN_ERR_NOTFOUND;
    if (!sa->keyed)
        return VPN_ERR_STATE;
    memcpy(out->spi_i, sa->spi_i, 8);
    memcpy(out->spi_r, sa->spi_r, 8);
    out->suite = sa->suite;
    out->keys = sa->cr.keys;
    return 0;
}

static size_t hex(char *out, const uint8_t *p, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[p[i] >> 4];
        out[2 * i + 1] = hx[p[i] & 15];
    }
    out[2 * n] = '\0';
    return 2 * n;
}

int vpn_ikev2_sa_wireshark_line(const vpn_ikev2_ctx *ctx, uint32_t ike_sa_id, char *buf, size_t len)
{
    const ikev2_sa *sa;
    char spi_i[17], spi_r[17], ei[2 * VPN_KEY_MAX + 1], er[2 * VPN_KEY_MAX + 1];
    char ai[2 * VPN_KEY_MAX + 1], ar[2 * VPN_KEY_MAX + 1];
    const char *integ;
    int n;

    if (ctx == NULL || buf == NULL)
        return VPN_ERR_INVAL;
    if ((sa = ikev2_sa_by_id(ctx, ike_sa_id)) == NULL)
        return VPN_ERR_NOTFOUND;
    if (!sa->keyed)
        return VPN_ERR_STATE;
    if (sa->cr.cinfo->ws_ikev2 == NULL)
        return VPN_ERR_UNSUPPORTED;
    hex(spi_i, sa->spi_i, 8);
    hex(spi_r, sa->spi_r, 8);
    hex(ei, sa->cr.keys.sk_ei.b, sa->cr.keys.sk_ei.len);
    hex(er, sa->cr.keys.sk_er.b, sa->cr.keys.sk_er.len);
    hex(ai, sa->cr.keys.sk_ai.b, sa->cr.keys.sk_ai.len);
    hex(ar, sa->cr.keys.sk_ar.b, sa->cr.keys.sk_ar.len);
    integ = sa->cr.iinfo ? sa->cr.iinfo->ws_ikev2 : "NONE [RFC4306]";
    n = snprintf(buf, len, "%s,%s,%s,%s,\"%s\",%s,%s,\"%s\"", spi_i, spi_r, ei, er, sa->cr.cinfo->ws_ikev2,
                 ai, ar, integ);
    OPENSSL_cleanse(ei, sizeof ei);
    OPENSSL_cleanse(er, sizeof er);
    OPENSSL_cleanse(ai, sizeof ai);
    OPENSSL_cleanse(ar, sizeof ar);
    return n < 0 || (size_t)n >= len ? VPN_ERR_NOSPACE : 0;
}
