#include "ipsec/sa-priv.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/vpn-err.h"
#include "ipsec/natt.h"

static const char *const err_names[VPN_SA_ERR_COUNT] = {
    [VPN_SA_ERR_AUTH] = "bad ICV",
    [VPN_SA_ERR_REPLAY] = "replay",
    [VPN_SA_ERR_TBAR] = "time-based replay",
    [VPN_SA_ERR_PAD] = "bad padding",
    [VPN_SA_ERR_TRUNC] = "invalid length",
    [VPN_SA_ERR_PROTO] = "invalid inner packet",
    [VPN_SA_ERR_SELECTOR] = "outside selectors",
    [VPN_SA_ERR_ECN] = "ECN drop",
    [VPN_SA_ERR_EXPIRED] = "SA expired",
    [VPN_SA_ERR_SEQ_OVERFLOW] = "sequence overflow",
    [VPN_SA_ERR_NOSPACE] = "no buffer room",
    [VPN_SA_ERR_INTERNAL] = "internal error",
};

const char *vpn_sa_err_name(vpn_sa_err e)
{
    return (unsigned)e < VPN_SA_ERR_COUNT ? err_names[e] : "unknown";
}

/* ---- the hashes: inbound by SPI, outbound by SPI, every SA by handle ------------- */

typedef enum sa_chain { CHAIN_IN, CHAIN_OUT, CHAIN_ID } sa_chain;

static size_t mix_hash(uint64_t key, size_t n)
{
    /* SPIs are usually random, but some peers count, and handles do: mix anyway. */
    uint64_t h = key * 0x9e3779b97f4a7c15ull;
    h ^= h >> 29;
    return (size_t)h & (n - 1);
}

static vpn_sa **chain_next(vpn_sa *sa, sa_chain c)
{
    return c == CHAIN_IN ? &sa->hnext : c == CHAIN_OUT ? &sa->onext : &sa->idnext;
}

static uint64_t chain_key(const vpn_sa *sa, sa_chain c)
{
    return c == CHAIN_ID ? sa->handle : sa->cfg.spi;
}

static size_t spi_hash(uint32_t spi, size_t nbuckets)
{
    return mix_hash(spi, nbuckets);
}

/* The destination an inbound SA is keyed by (NULL: wildcard). */
static const vpn_addr *sa_key_dst(const vpn_sa *sa)
{
    return sa->cfg.local.family == VPN_AF_NONE || sa->cfg.mode == VPN_ESP_TUNNEL_ADDR_PRESERVE_DST
               ? NULL
               : &sa->cfg.local;
}

static bool same_key_dst(const vpn_addr *a, const vpn_addr *b)
{
    if (!a || !b)
        return a == b;
    return vpn_addr_eq(a, b);
}

/* Makes room for one more entry (load factor at most 1). Errors: VPN_ERR_NOMEM. */
static int table_reserve(vpn_sa_table *t, sa_chain c, const vpn_alloc *a)
{
    size_t n;
    vpn_sa **b;

    if (t->used + 1 <= t->n)
        return 0;
    n = t->n ? t->n * 2 : 64;
    if ((b = vpn_calloc(a, n, sizeof *b)) == NULL)
        return VPN_ERR_NOMEM;
    for (size_t i = 0; i < t->n; i++) {
        vpn_sa *sa = t->b[i];
        while (sa) {
            vpn_sa *nx = *chain_next(sa, c);
            size_t h = mix_hash(chain_key(sa, c), n);
            *chain_next(sa, c) = b[h];
            b[h] = sa;
            sa = nx;
        }
    }
    free(t->b);
    t->b = b;
    t->n = n;
    return 0;
}

/* Links sa in; table_reserve must have succeeded first. */
static void table_link(vpn_sa_table *t, vpn_sa *sa, sa_chain c)
{
    size_t h = mix_hash(chain_key(sa, c), t->n);

    *chain_next(sa, c) = t->b[h];
    t->b[h] = sa;
    t->used++;
}

/* Unlinks sa: a walk of its own chain only (expected length below 1). */
static void table_unlink(vpn_sa_table *t, vpn_sa *sa, sa_chain c)
{
    vpn_sa **pp = &t->b[mix_hash(chain_key(sa, c), t->n)];

    while (*pp && *pp != sa)
        pp = chain_next(*pp, c);
    if (*pp) {
        *pp = *chain_next(sa, c);
        t->used--;
    }
}

vpn_sa *vpn_sad_lookup(const vpn_sad *sad, uint32_t spi, const vpn_addr *dst)
{
    vpn_sa *wild = NULL;

    if (!sad || sad->in.n == 0)
        return NULL;
    for (vpn_sa *sa = sad->in.b[spi_hash(spi, sad->in.n)]; sa; sa = sa->hnext) {
        const vpn_addr *k;
        if (sa->cfg.spi != spi)
            continue;
        k = sa_key_dst(sa);
        if (!k)
            wild = sa;
        else if (dst && vpn_addr_eq(k, dst))
            return sa;
    }
    return wild;
}

/* ---- SAD ------------------------------------------------------------------------ */

int vpn_sad_new(vpn_sad **out, const vpn_rng *rng)
{
    vpn_sad *sad;

    if (!out || !rng || !rng->fill)
        return VPN_ERR_INVAL;
    *out = NULL;
    sad = calloc(1, sizeof *sad);
    if (!sad)
        return VPN_ERR_NOMEM;
    sad->rng = *rng;
    sad->next_handle = 1;
    sad->next_deadline = UINT64_MAX;
    *out = sad;
    return 0;
}

void vpn_sad_params_init(vpn_sad_params *p)
{
    if (p)
        memset(p, 0, sizeof *p);
}

int vpn_sad_new_with(vpn_sad **out, const vpn_sad_params *p)
{
    int rc;

    if (p == NULL) {
        if (out)
            *out = NULL;
        return VPN_ERR_INVAL;
    }
    if ((rc = vpn_sad_new(out, &p->rng)) != 0)
        return rc;
    if (p->log.fn)
        vpn_sad_set_log(*out, &p->log);
    vpn_sad_set_event_cb(*out, p->event, p->event_user);
    vpn_sad_set_drop_cb(*out, p->drop, p->drop_user);
    vpn_sad_set_alloc(*out, &p->alloc);
    return 0;
}

void vpn_sad_set_alloc(vpn_sad *sad, const vpn_alloc *a)
{
    if (!sad)
        return;
    if (a)
        sad->alloc = *a;
    else
        memset(&sad->alloc, 0, sizeof sad->alloc);
}

static void sa_free(vpn_sa *sa)
{
    vpn_cipher_del(sa->enc);
    vpn_cipher_del(sa->dec);
    vpn_integ_del(sa->integ);
    vpn_replay_free(&sa->replay);
    free(sa->ts);
    OPENSSL_cleanse(sa, sizeof *sa);
    free(sa);
}

void vpn_sad_del(vpn_sad *sad)
{
    if (!sad)
        return;
    for (vpn_sa *sa = sad->head; sa;) {
        vpn_sa *nx = sa->next;
        sa_free(sa);
        sa = nx;
    }
    free(sad->in.b);
    free(sad->out.b);
    free(sad->ids.b);
    free(sad->heap);
    free(sad);
}

void vpn_sad_set_log(vpn_sad *sad, const vpn_log *log)
{
    if (sad && log)
        sad->log = *log;
}

void vpn_sad_set_event_cb(vpn_sad *sad, vpn_sa_event_fn fn, void *user)
{
    if (sad) {
        sad->ev_fn = fn;
        sad->ev_user = user;
    }
}

void vpn_sad_set_drop_cb(vpn_sad *sad, vpn_sad_drop_fn fn, void *user)
{
    if (sad) {
        sad->drop_fn = fn;
        sad->drop_user = user;
    }
}

static bool addr_le(const vpn_addr *a, const vpn_addr *b)
{
    return a->family == b->family && memcmp(a->b, b->b, vpn_addr_len(a)) <= 0;
}

/* Checks a configuration for what vpn_sad_add promises to refuse. */
static int check_config(const vpn_sa_config *c, const vpn_cipher_info *ci)
{
    bool out = (c->dir & VPN_SA_OUT) != 0;

    if (c->spi < 256)
        return VPN_ERR_INVAL; /* RFC 4303 2.1: 0 and 1..255 are reserved */
    if (c->dir < VPN_SA_IN || c->dir > VPN_SA_BOTH)
        return VPN_ERR_INVAL;
    if (c->mode < VPN_ESP_TUNNEL || c->mode > VPN_ESP_TUNNEL_ADDR_PRESERVE_DST)
        return VPN_ERR_INVAL;
    if (ci->aead && c->integ_id != VPN_INTEG_NONE)
        return VPN_ERR_INVAL; /* RFC 4106 3: no separate integrity with AEAD */
    if (!ci->aead && ci->id == VPN_ENCR_NULL && c->integ_id == VPN_INTEG_NONE)
        return VPN_ERR_INVAL; /* RFC 4303 3.2: not both NULL */
    if (c->replay_window > VPN_REPLAY_WINDOW_MAX)
        return VPN_ERR_INVAL;
    if (c->tbar_window_ms && c->mode == VPN_ESP_TRANSPORT)
        return VPN_ERR_INVAL; /* the pseudotime block needs an inner IP header */
    if (c->sender_id_bits > 32 ||
        (c->sender_id_bits < 32 && c->sender_id >> c->sender_id_bits != 0))
        return VPN_ERR_INVAL;
    if (ci->aead && c->group && out && c->iv_mode == VPN_SA_IV_COUNTER && c->sender_id_bits == 0)
        return VPN_ERR_INVAL; /* RFC 6054 3: shared key, so IVs need a sender ID */
    if (c->dscp != VPN_SA_DSCP_COPY && (c->dscp < 0 || c->dscp > 63))
        return VPN_ERR_INVAL;
    if (c->df > VPN_SA_DF_CLEAR || c->iv_mode > VPN_SA_IV_RANDOM)
        return VPN_ERR_INVAL;
    if (c->mode == VPN_ESP_TUNNEL && out &&
        (c->local.family == VPN_AF_NONE || c->local.family != c->remote.family))
        return VPN_ERR_INVAL;
    if (c->mode == VPN_ESP_TRANSPORT &&
        (c->local.family == VPN_AF_NONE || c->local.family != c->remote.family))
        return VPN_ERR_INVAL;
    if (c->mode == VPN_ESP_TUNNEL_ADDR_PRESERVE_DST && out && c->local.family == VPN_AF_NONE)
        return VPN_ERR_INVAL; /* the outer source */
    if (ci->id == VPN_ENCR_3DES && out && c->iv_mode == VPN_SA_IV_COUNTER)
        return VPN_ERR_INVAL; /* RFC 2451 3: CBC IVs must be unpredictable; ours are AES-only */
    if (c->n_ts && !c->ts)
        return VPN_ERR_INVAL;
    for (size_t i = 0; i < c->n_ts; i++) {
        const vpn_ts *t = &c->ts[i];
        if (t->src_lo.family != t->src_hi.family || t->dst_lo.family != t->dst_hi.family)
            return VPN_ERR_INVAL;
        if ((t->src_lo.family && !addr_le(&t->src_lo, &t->src_hi)) ||
            (t->dst_lo.family && !addr_le(&t->dst_lo, &t->dst_hi)))
            return VPN_ERR_INVAL;
    }
    return 0;
}

/* ---- the deadline heap ------------------------------------------------------------- */

/* The SA's next time event: its soft time limit until that fired, then
 * its hard one; UINT64_MAX when none is left. */
static uint64_t sa_deadline(const vpn_sa *sa)
{
    uint64_t d = UINT64_MAX;

    if (sa->hard_fired)
        return d;
    if (sa->cfg.hard.time_ns)
        d = sa->added_ns + sa->cfg.hard.time_ns;
    if (!sa->soft_fired && sa->cfg.soft.time_ns && sa->added_ns + sa->cfg.soft.time_ns < d)
        d = sa->added_ns + sa->cfg.soft.time_ns;
    return d;
}

static void heap_swap(vpn_sad *sad, size_t i, size_t j)
{
    vpn_sa *t = sad->heap[i];
    sad->heap[i] = sad->heap[j];
    sad->heap[j] = t;
    sad->heap[i]->heap_idx = i;
    sad->heap[j]->heap_idx = j;
}

static void heap_up(vpn_sad *sad, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (sa_deadline(sad->heap[p]) <= sa_deadline(sad->heap[i]))
            break;
        heap_swap(sad, i, p);
        i = p;
    }
}

static void heap_down(vpn_sad *sad, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < sad->n_heap && sa_deadline(sad->heap[l]) < sa_deadline(sad->heap[m]))
            m = l;
        if (r < sad->n_heap && sa_deadline(sad->heap[r]) < sa_deadline(sad->heap[m]))
            m = r;
        if (m == i)
            return;
        heap_swap(sad, i, m);
        i = m;
    }
}

/* Room for one more SA, so that linking one never fails. */
static int heap_reserve(vpn_sad *sad)
{
    vpn_sa **h;
    size_t cap;

    if (sad->n_heap < sad->cap_heap)
        return 0;
    cap = sad->cap_heap ? 2 * sad->cap_heap : 16;
    if ((h = vpn_realloc(&sad->alloc, sad->heap, cap * sizeof *h)) == NULL)
        return VPN_ERR_NOMEM;
    sad->heap = h;
    sad->cap_heap = cap;
    return 0;
}

/* The top's deadline, kept with the SAD: a driver asks for the next
 * deadline after every packet, and reading it there spares a visit to the
 * top SA (issue 14). The heap's inputs (fired flags, limits, added_ns)
 * change only where heap_update or heap_remove runs, which refresh it. */
static void heap_top_changed(vpn_sad *sad)
{
    sad->next_deadline = sad->n_heap ? sa_deadline(sad->heap[0]) : UINT64_MAX;
}

static void heap_remove(vpn_sad *sad, vpn_sa *sa)
{
    size_t i = sa->heap_idx;

    if (i == SA_NOT_IN_HEAP)
        return;
    sa->heap_idx = SA_NOT_IN_HEAP;
    if (i != --sad->n_heap) {
        vpn_sa *moved = sad->heap[sad->n_heap];
        sad->heap[i] = moved;
        moved->heap_idx = i;
        heap_down(sad, i);
        heap_up(sad, moved->heap_idx);
    }
    heap_top_changed(sad);
}

/* After the SA's deadline changed (added, a limit fired): in the heap at
 * its place, or out of it when no time limit is left. */
static void heap_update(vpn_sad *sad, vpn_sa *sa)
{
    if (sa_deadline(sa) == UINT64_MAX) {
        heap_remove(sad, sa);
        return;
    }
    if (sa->heap_idx == SA_NOT_IN_HEAP) {
        sa->heap_idx = sad->n_heap;
        sad->heap[sad->n_heap++] = sa; /* room reserved by vpn_sad_add */
    }
    heap_up(sad, sa->heap_idx);
    heap_down(sad, sa->heap_idx);
    heap_top_changed(sad);
}

int vpn_sad_add(vpn_sad *sad, const vpn_sa_config *cfg, uint64_t now, vpn_sa **out)
{
    const vpn_cipher_info *ci;
    const vpn_integ_info *ii = NULL;
    vpn_sa *sa;
    int rc;

    if (out)
        *out = NULL;
    if (!sad || !cfg)
        return VPN_ERR_INVAL;
    rc = vpn_cipher_lookup(cfg->encr_id, cfg->encr_key_bits, &ci);
    if (rc)
        return rc;
    if (cfg->integ_id != VPN_INTEG_NONE) {
        rc = vpn_integ_lookup(cfg->integ_id, &ii);
        if (rc)
            return rc;
    }
    rc = check_config(cfg, ci);
    if (rc)
        return rc;
    if (cfg->encr_key_len != ci->key_len || cfg->encr_key_len > VPN_SA_KEY_MAX ||
        (cfg->encr_key_len && !cfg->encr_key))
        return VPN_ERR_INVAL;
    if (ii && (cfg->integ_key_len != ii->key_len || cfg->integ_key_len > VPN_SA_KEY_MAX ||
               !cfg->integ_key))
        return VPN_ERR_INVAL;
    if (cfg->dir & VPN_SA_IN) {
        const vpn_addr *k = cfg->local.family == VPN_AF_NONE ? NULL : &cfg->local;
        vpn_sa *o = vpn_sad_lookup(sad, cfg->spi, k);
        if (o && same_key_dst(sa_key_dst(o), k))
            return VPN_ERR_EXISTS;
    }

    sa = vpn_calloc(&sad->alloc, 1, sizeof *sa);
    if (!sa)
        return VPN_ERR_NOMEM;
    sa->heap_idx = SA_NOT_IN_HEAP;
    sa->cfg = *cfg;
    sa->cfg.encr_key = NULL;
    sa->cfg.integ_key = NULL;
    sa->cfg.ts = NULL;
    sa->sad = sad;
    sa->ci = ci;
    sa->ii = ii;
    sa->blk = ci->block_len < 4 ? 4 : ci->block_len;
    sa->iv_len = ci->iv_len;
    sa->icv_len = ci->aead ? ci->icv_len : ii ? ii->icv_len : 0;
    if (!sa->cfg.ttl)
        sa->cfg.ttl = 64;
    if (!sa->cfg.udp_sport)
        sa->cfg.udp_sport = VPN_NATT_PORT;
    if (!sa->cfg.udp_dport)
        sa->cfg.udp_dport = VPN_NATT_PORT;
    sa->added_ns = now;
    memcpy(sa->ekey, cfg->encr_key ? cfg->encr_key : (const uint8_t *)"", cfg->encr_key_len);
    sa->ekey_len = cfg->encr_key_len;
    if (ii) {
        memcpy(sa->ikey, cfg->integ_key, cfg->integ_key_len);
        sa->ikey_len = cfg->integ_key_len;
    }
    /* RFC 4303 3.3.3: the counter never cycles. With sender IDs (RFC 6054)
     * the IV's counter part is what runs out first. */
    sa->seq_max = cfg->esn ? UINT64_MAX : UINT32_MAX;
    if (ci->aead && cfg->sender_id_bits && cfg->iv_mode == VPN_SA_IV_COUNTER &&
        (UINT64_MAX >> cfg->sender_id_bits) < sa->seq_max)
        sa->seq_max = UINT64_MAX >> cfg->sender_id_bits;
    sa->seq_soft = sa->seq_max - (sa->seq_max >> 4); /* 15/16 used: time to rekey */

    rc = VPN_ERR_NOMEM;
    if (cfg->n_ts) {
        sa->ts = vpn_calloc(&sad->alloc, cfg->n_ts, sizeof *sa->ts);
        if (!sa->ts)
            goto fail;
        memcpy(sa->ts, cfg->ts, cfg->n_ts * sizeof *sa->ts);
        sa->cfg.ts = sa->ts;
    }
    /* the replay window's bitmap is the SAD's allocation too */
    rc = vpn_alloc_ok(&sad->alloc, cfg->replay_window / 8 + 16)
             ? vpn_replay_init(&sa->replay, cfg->replay_window, cfg->esn)
             : VPN_ERR_NOMEM;
    if (rc)
        goto fail;
    vpn_tbar_init(&sa->tbar, cfg->tbar_window_ms);
    if (cfg->dir & VPN_SA_OUT) {
        rc = vpn_cipher_new_a(&sad->alloc, &sa->enc, cfg->encr_id, cfg->encr_key_bits, sa->ekey, sa->ekey_len,
                              true);
        if (rc)
            goto fail;
        if (ci->id == VPN_ENCR_AES_CBC && cfg->iv_mode == VPN_SA_IV_COUNTER) {
            rc = vpn_rng_bytes(&sad->rng, sa->cbc_salt, sizeof sa->cbc_salt);
            if (rc)
                goto fail;
        }
    }
    if (cfg->dir & VPN_SA_IN) {
        rc = vpn_cipher_new_a(&sad->alloc, &sa->dec, cfg->encr_id, cfg->encr_key_bits, sa->ekey, sa->ekey_len,
                              false);
        if (rc)
            goto fail;
    }
    if (ii) {
        rc = vpn_integ_new_a(&sad->alloc, &sa->integ, cfg->integ_id, sa->ikey, sa->ikey_len);
        if (rc)
            goto fail;
    }
    /* All three reservations before any link, so a failure leaves the SAD as it was. */
    if ((rc = table_reserve(&sad->in, CHAIN_IN, &sad->alloc)) != 0 ||
        (rc = table_reserve(&sad->out, CHAIN_OUT, &sad->alloc)) != 0 ||
        (rc = table_reserve(&sad->ids, CHAIN_ID, &sad->alloc)) != 0 ||
        (rc = heap_reserve(sad)) != 0)
        goto fail;
    sa->handle = sad->next_handle++;
    table_link(&sad->ids, sa, CHAIN_ID);
    if (cfg->dir & VPN_SA_IN) {
        table_link(&sad->in, sa, CHAIN_IN);
        sa->hashed = true;
    } else {
        table_link(&sad->out, sa, CHAIN_OUT);
    }
    sa->prev = sad->tail;
    if (sad->tail)
        sad->tail->next = sa;
    else
        sad->head = sa;
    sad->tail = sa;
    sad->count++;
    heap_update(sad, sa);
    vpn_log_emit(&sad->log, VPN_LOG_DEBUG, "ipsec", "SA added: SPI 0x%08x %s%s%s",
                 cfg->spi, ci->name, cfg->dir & VPN_SA_IN ? " in" : "",
                 cfg->dir & VPN_SA_OUT ? " out" : "");
    if (out)
        *out = sa;
    return 0;

fail:
    sa_free(sa);
    return rc;
}

int vpn_sad_remove(vpn_sad *sad, vpn_sa *sa)
{
    if (!sad || !sa)
        return VPN_ERR_INVAL;
    /* sa must be live (see sa.h); its back pointer says whose it is, no walk needed. */
    if (sa->sad != sad)
        return VPN_ERR_NOTFOUND;
    table_unlink(&sad->ids, sa, CHAIN_ID);
    if (sa->hashed)
        table_unlink(&sad->in, sa, CHAIN_IN);
    else
        table_unlink(&sad->out, sa, CHAIN_OUT);
    if (sa->prev)
        sa->prev->next = sa->next;
    else
        sad->head = sa->next;
    if (sa->next)
        sa->next->prev = sa->prev;
    else
        sad->tail = sa->prev;
    sad->count--;
    heap_remove(sad, sa);
    sa_free(sa);
    return 0;
}

int vpn_sad_remove_handle(vpn_sad *sad, vpn_sa_handle h)
{
    vpn_sa *sa;

    if (!sad || h == VPN_SA_HANDLE_NONE)
        return VPN_ERR_INVAL;
    if ((sa = vpn_sad_get(sad, h)) == NULL)
        return VPN_ERR_NOTFOUND;
    return vpn_sad_remove(sad, sa);
}

vpn_sa *vpn_sad_get(const vpn_sad *sad, vpn_sa_handle h)
{
    if (!sad || sad->ids.n == 0 || h == VPN_SA_HANDLE_NONE)
        return NULL;
    for (vpn_sa *sa = sad->ids.b[mix_hash(h, sad->ids.n)]; sa; sa = sa->idnext)
        if (sa->handle == h)
            return sa;
    return NULL;
}

vpn_sa *vpn_sad_find(const vpn_sad *sad, uint32_t spi, unsigned dir)
{
    vpn_sa *found = NULL;

    if (!sad || (dir != VPN_SA_IN && dir != VPN_SA_OUT))
        return NULL;
    if (dir == VPN_SA_OUT && sad->out.n) {
        for (vpn_sa *sa = sad->out.b[spi_hash(spi, sad->out.n)]; sa; sa = sa->onext)
            if (sa->cfg.spi == spi)
                return sa;
    }
    if (sad->in.n == 0)
        return NULL;
    /* Inbound SAs (and VPN_SA_BOTH for outbound): the oldest of a shared SPI, so the answer
     * does not depend on the chain order. */
    for (vpn_sa *sa = sad->in.b[spi_hash(spi, sad->in.n)]; sa; sa = sa->hnext)
        if (sa->cfg.spi == spi && (sa->cfg.dir & dir) && (!found || sa->handle < found->handle))
            found = sa;
    return found;
}

vpn_sa_handle vpn_sa_get_handle(const vpn_sa *sa)
{
    return sa ? sa->handle : VPN_SA_HANDLE_NONE;
}

size_t vpn_sad_count(const vpn_sad *sad)
{
    return sad ? sad->count : 0;
}

vpn_sa *vpn_sad_next(const vpn_sad *sad, const vpn_sa *prev)
{
    if (!sad)
        return NULL;
    return prev ? prev->next : sad->head;
}

const vpn_sad_stats *vpn_sad_get_stats(const vpn_sad *sad)
{
    return sad ? &sad->stats : NULL;
}

void vpn_sad_stats_get(const vpn_sad *sad, vpn_sad_stats *out)
{
    if (out == NULL)
        return;
    if (sad == NULL)
        memset(out, 0, sizeof *out);
    else
        *out = sad->stats;
}

/* ---- lifetimes ------------------------------------------------------------------ */

void vpn_sa_fire(vpn_sa *sa, vpn_sa_event ev, vpn_sa_limit why, uint64_t now)
{
    vpn_sad *sad = sa->sad;

    if (ev == VPN_SA_EV_SOFT) {
        if (sa->soft_fired || sa->hard_fired)
            return;
        sa->soft_fired = true;
    } else {
        if (sa->hard_fired)
            return;
        sa->hard_fired = true;
        sa->soft_fired = true; /* a hard expiry implies the soft one */
    }
    heap_update(sad, sa);
    vpn_log_emit(&sad->log, ev == VPN_SA_EV_HARD ? VPN_LOG_WARN : VPN_LOG_INFO, "ipsec",
                 "SA 0x%08x %s lifetime expired (%s)", sa->cfg.spi,
                 ev == VPN_SA_EV_HARD ? "hard" : "soft",
                 why == VPN_SA_LIMIT_BYTES ? "bytes" : why == VPN_SA_LIMIT_PACKETS ? "packets"
                 : why == VPN_SA_LIMIT_TIME ? "time" : "sequence numbers");
    if (sad->ev_fn)
        sad->ev_fn(sad->ev_user, sa, ev, why, now);
}

int vpn_sa_life_check(vpn_sa *sa, size_t n, uint64_t now)
{
    const vpn_sa_lifetime *h = &sa->cfg.hard;

    if (sa->hard_fired)
        return VPN_ERR_EXPIRED;
    if (h->time_ns && now >= sa->added_ns && now - sa->added_ns >= h->time_ns) {
        vpn_sa_fire(sa, VPN_SA_EV_HARD, VPN_SA_LIMIT_TIME, now);
        return VPN_ERR_EXPIRED;
    }
    if (h->packets && sa->life_pkts + 1 > h->packets) {
        vpn_sa_fire(sa, VPN_SA_EV_HARD, VPN_SA_LIMIT_PACKETS, now);
        return VPN_ERR_EXPIRED;
    }
    if (h->bytes && sa->life_bytes + n > h->bytes) {
        vpn_sa_fire(sa, VPN_SA_EV_HARD, VPN_SA_LIMIT_BYTES, now);
        return VPN_ERR_EXPIRED;
    }
    return 0;
}

void vpn_sa_life_account(vpn_sa *sa, size_t n, uint64_t now)
{
    const vpn_sa_lifetime *s = &sa->cfg.soft, *h = &sa->cfg.hard;

    sa->life_pkts++;
    sa->life_bytes += n;
    if (h->packets && sa->life_pkts >= h->packets)
        vpn_sa_fire(sa, VPN_SA_EV_HARD, VPN_SA_LIMIT_PACKETS, now);
    else if (h->bytes && sa->life_bytes >= h->bytes)
        vpn_sa_fire(sa, VPN_SA_EV_HARD, VPN_SA_LIMIT_BYTES, now);
    else if (s->packets && sa->life_pkts >= s->packets)
        vpn_sa_fire(sa, VPN_SA_EV_SOFT, VPN_SA_LIMIT_PACKETS, now);
    else if (s->bytes && sa->life_bytes >= s->bytes)
        vpn_sa_fire(sa, VPN_SA_EV_SOFT, VPN_SA_LIMIT_BYTES, now);
}

uint64_t vpn_sad_next_deadline(vpn_sad *sad)
{
    return sad ? sad->next_deadline : UINT64_MAX;
}

void vpn_sad_timeout(vpn_sad *sad, uint64_t now)
{
    /* Due SAs in deadline order; each firing moves the SA down the heap
     * (to its hard limit) or out of it, so the loop ends. */
    while (sad && sad->n_heap && sa_deadline(sad->heap[0]) <= now) {
        vpn_sa *sa = sad->heap[0];
        if (sa->cfg.hard.time_ns && now >= sa->added_ns + sa->cfg.hard.time_ns)
            vpn_sa_fire(sa, VPN_SA_EV_HARD, VPN_SA_LIMIT_TIME, now);
        else
            vpn_sa_fire(sa, VPN_SA_EV_SOFT, VPN_SA_LIMIT_TIME, now);
    }
}

/* ---- drops ------------------------------------------------------------------------ */

int vpn_sa_drop(vpn_sad *sad, vpn_sa *sa, uint32_t spi, vpn_sa_err kind, bool inbound, int err)
{
    const char *reason = vpn_sa_err_name(kind);

    sa->stats.err[kind]++;
    if (inbound)
        sa->stats.recv_errors++;
    else
        sa->stats.send_errors++;
    vpn_log_emit(&sad->log, VPN_LOG_INFO, "ipsec", "%s packet dropped: SPI 0x%08x: %s",
                 inbound ? "inbound" : "outbound", spi, reason);
    if (sad->drop_fn)
        sad->drop_fn(sad->drop_user, sa, spi, reason, err);
    return err;
}

int vpn_sad_drop(vpn_sad *sad, uint32_t spi, const char *reason, int err)
{
    vpn_log_emit(&sad->log, VPN_LOG_INFO, "ipsec", "inbound packet dropped: SPI 0x%08x: %s",
                 spi, reason);
    if (sad->drop_fn)
        sad->drop_fn(sad->drop_user, NULL, spi, reason, err);
    return err;
}

/* ---- accessors ---------------------------------------------------------------------- */

const vpn_sa_config *vpn_sa_get_config(const vpn_sa *sa) { return sa ? &sa->cfg : NULL; }
const vpn_sa_stats *vpn_sa_get_stats(const vpn_sa *sa) { return sa ? &sa->stats : NULL; }
void vpn_sa_stats_get(const vpn_sa *sa, vpn_sa_stats *out)
{
    if (out == NULL)
        return;
    if (sa == NULL)
        memset(out, 0, sizeof *out);
    else
        *out = sa->stats;
}
const vpn_cipher_info *vpn_sa_get_cipher_info(const vpn_sa *sa) { return sa ? sa->ci : NULL; }
const vpn_integ_info *vpn_sa_get_integ_info(const vpn_sa *sa) { return sa ? sa->ii : NULL; }
void *vpn_sa_get_user(const vpn_sa *sa) { return sa ? sa->cfg.user : NULL; }
bool vpn_sa_is_expired(const vpn_sa *sa) { return sa && sa->hard_fired; }

void vpn_sa_get_remaining(const vpn_sa *sa, uint64_t now, uint64_t *bytes, uint64_t *packets,
                          uint64_t *time_ns)
{
    const vpn_sa_lifetime *h;

    if (sa == NULL) { /* NULL-safe like the other getters: nothing left */
        if (bytes)
            *bytes = 0;
        if (packets)
            *packets = 0;
        if (time_ns)
            *time_ns = 0;
        return;
    }
    h = &sa->cfg.hard;
    if (bytes)
        *bytes = !h->bytes ? UINT64_MAX : h->bytes > sa->life_bytes ? h->bytes - sa->life_bytes : 0;
    if (packets)
        *packets = !h->packets ? UINT64_MAX
                 : h->packets > sa->life_pkts ? h->packets - sa->life_pkts : 0;
    if (time_ns) {
        uint64_t end = sa->added_ns + h->time_ns;
        *time_ns = !h->time_ns ? UINT64_MAX : end > now ? end - now : 0;
    }
}

int vpn_sa_set_peer(vpn_sa *sa, const vpn_addr *remote, uint16_t port)
{
    if (sa == NULL || remote == NULL || port == 0 ||
        (sa->cfg.remote.family != VPN_AF_NONE && sa->cfg.remote.family != remote->family))
        return VPN_ERR_INVAL;
    sa->cfg.remote = *remote;
    if (sa->cfg.dir & VPN_SA_OUT)
        sa->cfg.udp_dport = port;
    else
        sa->cfg.udp_sport = port;
    return 0;
}

void vpn_sa_tbar_sync(vpn_sa *sa, uint64_t now, uint64_t pseudotime_ms)
{
    if (sa)
        vpn_tbar_sync(&sa->tbar, now, pseudotime_ms);
}

uint64_t vpn_sa_tbar_now_ms(const vpn_sa *sa, uint64_t now)
{
    return sa ? vpn_tbar_now_ms(&sa->tbar, now) : 0;
}

void vpn_sa_get_keys(const vpn_sa *sa, const uint8_t **encr, size_t *encr_len,
                     const uint8_t **integ, size_t *integ_len)
{
    if (encr)
        *encr = sa->ekey;
    if (encr_len)
        *encr_len = sa->ekey_len;
    if (integ)
        *integ = sa->ii ? sa->ikey : NULL;
    if (integ_len)
        *integ_len = sa->ii ? sa->ikey_len : 0;
}
