/* NHRP engine (RFC 2332, DMVPN phase 3); see nhrp.h for the contract. */
#include "nhrp/nhrp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "common/wire.h"

#define NS_PER_S 1000000000ull
#define RETRY_BASE_S 1u
#define RETRY_MAX_S 64u
#define NHS_DOWN_AFTER 3u
#define RES_RETRIES 3u
#define MAX_RESOLVERS 4
#define REDIRECT_SLOTS 1024
#define TIND_DATA_MAX 64 /* octets of the triggering packet a Traffic Indication carries */
#define ERR_PKT_MAX 512
#define HOP_START 255
#define NO_HEAP SIZE_MAX

typedef struct resolver {
    vpn_addr proto, nbma;
} resolver;

typedef struct entry {
    vpn_nhrp_entry_info info;
    struct entry *hnext;         /* hash chain */
    struct entry *prev, *next;   /* age list */
    size_t heap_idx;
    resolver resolvers[MAX_RESOLVERS]; /* clients that resolved through this binding */
    size_t n_resolvers;
} entry;

typedef struct nhs_state {
    vpn_nhrp_nhs_cfg cfg;
    bool up;
    uint64_t since;
    uint64_t next;      /* next send */
    uint32_t req_id;    /* outstanding registration, 0 = none */
    unsigned unanswered;
    unsigned backoff_s;
} nhs_state;

typedef struct pending {
    bool used;
    vpn_addr dst;
    uint32_t req_id;
    uint64_t next;
    unsigned sends;
} pending;

typedef struct redirect_slot {
    uint64_t key;
    uint64_t at;
    bool used;
} redirect_slot;

struct vpn_nhrp {
    vpn_nhrp_params p;
    char ifname[32];
    char auth[VPN_NHRP_AUTH_MAX + 1];
    size_t auth_len;
    nhs_state nhs[VPN_NHRP_MAX_NHS];
    vpn_addr *mcast;
    uint32_t holdtime, reg_interval, redirect_timeout;
    uint16_t mtu;
    uint32_t next_req_id;
    /* the cache */
    entry **buckets;
    size_t n_buckets, n_entries;
    size_t len_count[129]; /* entries per prefix length */
    entry *oldest, *newest;
    /* What vpn_nhrp_next_deadline and cache_lpm read on every packet the
     * driver passes (issue 14), side by side: the expiry heap, the counts
     * that let the deadline skip the NHS and pending tables, and a bit per
     * prefix length with entries (len_count[l] != 0), so that a lookup
     * does not read the 129 counters */
    entry **heap;
    size_t heap_len, heap_cap;
    size_t n_nhs;
    size_t n_pend;          /* slots of pend[] in use (64 slots: 40 cache lines) */
    uint64_t len_bits[3];
    pending pend[VPN_NHRP_MAX_PENDING];
    /* REDIRECT_SLOTS of them with `ip nhrp redirect` (the hub, in phase
     * 3), NULL otherwise: a spoke does not carry 24 KB it never reads
     * (issue 14) */
    redirect_slot *redir;
    vpn_nhrp_stats st;
};

static const char *ENGINE = "nhrp";

/* ---- small helpers ---------------------------------------------------------------- */

static uint8_t max_len(uint8_t family) { return family == VPN_AF_INET6 ? 128 : 32; }

static void mask_addr(vpn_addr *a, uint8_t len)
{
    size_t n = vpn_addr_len(a);
    for (size_t i = 0; i < n; i++) {
        int bits = (int)len - (int)(i * 8);
        uint8_t m = bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
        a->b[i] &= m;
    }
    for (size_t i = n; i < 16; i++)
        a->b[i] = 0;
}

static uint64_t secs(uint32_t s) { return (uint64_t)s * NS_PER_S; }

static uint64_t add_sat(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

static void emit(vpn_nhrp *n, vpn_nhrp_event_type t, const vpn_nhrp_entry_info *e, uint8_t code)
{
    vpn_nhrp_event ev;
    if (!n->p.event)
        return;
    memset(&ev, 0, sizeof ev);
    ev.type = t;
    ev.code = code;
    if (e) {
        ev.entry_type = e->type;
        ev.proto = e->proto;
        ev.nbma = e->nbma;
        ev.next_hop = e->next_hop;
    }
    n->p.event(n->p.user, &ev);
}

static void emit_addr(vpn_nhrp *n, vpn_nhrp_event_type t, const vpn_addr *proto,
                      const vpn_addr *nbma, uint8_t code)
{
    vpn_nhrp_entry_info e;
    memset(&e, 0, sizeof e);
    e.proto.addr = *proto;
    e.proto.len = max_len(proto->family);
    if (nbma)
        e.nbma = *nbma;
    emit(n, t, &e, code);
}

static uint32_t new_req_id(vpn_nhrp *n)
{
    uint32_t id = n->next_req_id++;
    if (n->next_req_id == 0)
        n->next_req_id = 1;
    return id;
}

const char *vpn_nhrp_entry_type_name(vpn_nhrp_entry_type t)
{
    switch (t) {
    case VPN_NHRP_ENTRY_STATIC: return "static";
    case VPN_NHRP_ENTRY_DYNAMIC: return "dynamic";
    case VPN_NHRP_ENTRY_CACHED: return "cached";
    case VPN_NHRP_ENTRY_SHORTCUT: return "shortcut";
    }
    return "unknown";
}

/* ---- the cache: hash per (prefix, length), heap of expiries ---------------------- */

static size_t hash_key(const vpn_addr *a, uint8_t len, size_t n_buckets)
{
    /* FNV-1a over the family, the masked address and the length. */
    uint64_t h = 1469598103934665603ull;
    h = (h ^ a->family) * 1099511628211ull;
    for (size_t i = 0; i < 16; i++)
        h = (h ^ a->b[i]) * 1099511628211ull;
    h = (h ^ len) * 1099511628211ull;
    return (size_t)(h % n_buckets);
}

static int cache_grow(vpn_nhrp *n)
{
    size_t nb = n->n_buckets ? n->n_buckets * 2 : 64;
    entry **b = calloc(nb, sizeof(*b));
    if (!b)
        return VPN_ERR_NOMEM;
    for (size_t i = 0; i < n->n_buckets; i++) {
        entry *e = n->buckets[i];
        while (e) {
            entry *next = e->hnext;
            size_t h = hash_key(&e->info.proto.addr, e->info.proto.len, nb);
            e->hnext = b[h];
            b[h] = e;
            e = next;
        }
    }
    free(n->buckets);
    n->buckets = b;
    n->n_buckets = nb;
    return 0;
}

static entry *cache_find_exact(vpn_nhrp *n, const vpn_prefix *p, uint64_t *probes)
{
    if (!n->n_buckets)
        return NULL;
    vpn_addr a = p->addr;
    mask_addr(&a, p->len);
    for (entry *e = n->buckets[hash_key(&a, p->len, n->n_buckets)]; e; e = e->hnext) {
        if (probes)
            (*probes)++;
        if (e->info.proto.len == p->len && vpn_addr_eq(&e->info.proto.addr, &a))
            return e;
    }
    return NULL;
}

static void heap_swap(vpn_nhrp *n, size_t i, size_t j)
{
    entry *t = n->heap[i];
    n->heap[i] = n->heap[j];
    n->heap[j] = t;
    n->heap[i]->heap_idx = i;
    n->heap[j]->heap_idx = j;
}

static void heap_up(vpn_nhrp *n, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (n->heap[parent]->info.expires <= n->heap[i]->info.expires)
            break;
        heap_swap(n, i, parent);
        i = parent;
    }
}

static void heap_down(vpn_nhrp *n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n->heap_len && n->heap[l]->info.expires < n->heap[m]->info.expires)
            m = l;
        if (r < n->heap_len && n->heap[r]->info.expires < n->heap[m]->info.expires)
            m = r;
        if (m == i)
            return;
        heap_swap(n, i, m);
        i = m;
    }
}

static void heap_remove(vpn_nhrp *n, entry *e)
{
    size_t i = e->heap_idx;
    if (i == NO_HEAP)
        return;
    n->heap_len--;
    if (i != n->heap_len) {
        entry *moved = n->heap[n->heap_len];
        n->heap[i] = moved;
        moved->heap_idx = i;
        heap_up(n, i);
        heap_down(n, moved->heap_idx);
    }
    e->heap_idx = NO_HEAP;
}

static int heap_insert(vpn_nhrp *n, entry *e)
{
    if (n->heap_len == n->heap_cap) {
        size_t cap = n->heap_cap ? n->heap_cap * 2 : 64;
        entry **h = realloc(n->heap, cap * sizeof(*h));
        if (!h)
            return VPN_ERR_NOMEM;
        n->heap = h;
        n->heap_cap = cap;
    }
    e->heap_idx = n->heap_len;
    n->heap[n->heap_len++] = e;
    heap_up(n, e->heap_idx);
    return 0;
}

/* Sets an entry's expiry (UINT64_MAX = never), keeping the heap right. */
static int set_expiry(vpn_nhrp *n, entry *e, uint64_t expires)
{
    heap_remove(n, e);
    e->info.expires = expires;
    if (expires == UINT64_MAX)
        return 0;
    return heap_insert(n, e);
}

static void cache_unlink(vpn_nhrp *n, entry *e)
{
    size_t h = hash_key(&e->info.proto.addr, e->info.proto.len, n->n_buckets);
    for (entry **pp = &n->buckets[h]; *pp; pp = &(*pp)->hnext) {
        if (*pp == e) {
            *pp = e->hnext;
            break;
        }
    }
    heap_remove(n, e);
    if (e->prev)
        e->prev->next = e->next;
    else
        n->oldest = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        n->newest = e->prev;
    if (--n->len_count[e->info.proto.len] == 0)
        n->len_bits[e->info.proto.len >> 6] &= ~(1ull << (e->info.proto.len & 63));
    n->n_entries--;
}

/* Adds an entry (the prefix must not be present). Errors: LIMIT, NOMEM. */
static int cache_add(vpn_nhrp *n, const vpn_nhrp_entry_info *info, entry **out)
{
    if (n->n_entries >= n->p.max_entries)
        return VPN_ERR_LIMIT;
    if (n->n_entries + 1 > n->n_buckets * 2) {
        int err = cache_grow(n);
        if (err)
            return err;
    }
    entry *e = calloc(1, sizeof(*e));
    if (!e)
        return VPN_ERR_NOMEM;
    e->info = *info;
    mask_addr(&e->info.proto.addr, e->info.proto.len);
    e->heap_idx = NO_HEAP;
    uint64_t exp = e->info.expires;
    e->info.expires = UINT64_MAX;
    if (set_expiry(n, e, exp)) {
        free(e);
        return VPN_ERR_NOMEM;
    }
    size_t h = hash_key(&e->info.proto.addr, e->info.proto.len, n->n_buckets);
    e->hnext = n->buckets[h];
    n->buckets[h] = e;
    e->prev = n->newest;
    if (n->newest)
        n->newest->next = e;
    else
        n->oldest = e;
    n->newest = e;
    if (n->len_count[e->info.proto.len]++ == 0)
        n->len_bits[e->info.proto.len >> 6] |= 1ull << (e->info.proto.len & 63);
    n->n_entries++;
    if (out)
        *out = e;
    return 0;
}

/* Removes an entry and reports it (why: REMOVED or EXPIRED). */
static void cache_drop(vpn_nhrp *n, entry *e, vpn_nhrp_event_type why)
{
    vpn_nhrp_entry_info info = e->info;
    cache_unlink(n, e);
    free(e);
    if (info.type == VPN_NHRP_ENTRY_SHORTCUT)
        why = VPN_NHRP_EV_SHORTCUT_REMOVED;
    emit(n, why, &info, 0);
}

static entry *cache_lpm(vpn_nhrp *n, const vpn_addr *dst)
{
    n->st.lookups++;
    for (int len = max_len(dst->family); len >= 0; len--) {
        /* the lengths in use at or below len, in len's word of the bits */
        uint64_t w = n->len_bits[len >> 6] & (~0ull >> (63 - (len & 63)));
        if (w == 0) {
            len &= ~63; /* none: on to the word below */
            continue;
        }
        while (!(w >> (len & 63) & 1))
            len--;
        vpn_prefix p = {*dst, (uint8_t)len};
        entry *e = cache_find_exact(n, &p, &n->st.lookup_probes);
        if (e && e->info.proto.addr.family == dst->family)
            return e;
    }
    return NULL;
}

/* Adds or overwrites the entry for prefix p. */
static int cache_put(vpn_nhrp *n, uint64_t now, vpn_nhrp_entry_type type, const vpn_prefix *p,
                     const vpn_addr *nbma, const vpn_addr *next_hop, uint32_t hold_s, bool unique,
                     entry **out)
{
    entry *e = cache_find_exact(n, p, NULL);
    uint64_t exp = hold_s ? add_sat(now, secs(hold_s)) : UINT64_MAX;
    if (e) {
        if (e->info.type == VPN_NHRP_ENTRY_STATIC && type != VPN_NHRP_ENTRY_STATIC)
            return VPN_ERR_EXISTS; /* configuration wins */
        bool changed = !vpn_addr_eq(&e->info.nbma, nbma) || e->info.type != type;
        e->info.type = type;
        e->info.nbma = *nbma;
        e->info.next_hop = next_hop ? *next_hop : p->addr;
        e->info.unique = unique;
        if (changed)
            e->info.created = now;
        if (set_expiry(n, e, exp))
            return VPN_ERR_NOMEM;
        if (changed)
            emit(n, type == VPN_NHRP_ENTRY_SHORTCUT ? VPN_NHRP_EV_SHORTCUT_INSTALLED
                                                    : VPN_NHRP_EV_ENTRY_UPDATED,
                 &e->info, 0);
        if (out)
            *out = e;
        return 0;
    }
    vpn_nhrp_entry_info info;
    memset(&info, 0, sizeof info);
    info.type = type;
    info.proto = *p;
    info.nbma = *nbma;
    info.next_hop = next_hop ? *next_hop : p->addr;
    info.created = now;
    info.expires = exp;
    info.unique = unique;
    int err = cache_add(n, &info, &e);
    if (err)
        return err;
    emit(n, type == VPN_NHRP_ENTRY_SHORTCUT ? VPN_NHRP_EV_SHORTCUT_INSTALLED
                                            : VPN_NHRP_EV_ENTRY_ADDED,
         &e->info, 0);
    if (out)
        *out = e;
    return 0;
}

/* Caches what a station learns in passing (a requester's or responder's
 * mapping, RFC 2332 5.2.1 and 5.2.2) unless the prefix is registered with
 * us: a client's registration (5.2.3) holds for its own holding time and
 * keeps it in `ip nhrp map multicast dynamic`; a resolution the client
 * sends (e.g. for the NHS's own address) must not turn it into a cached
 * entry. Errors: as cache_put; 0 (nothing changed) for a registered one. */
static int cache_learn(vpn_nhrp *n, uint64_t now, const vpn_prefix *p, const vpn_addr *nbma,
                       const vpn_addr *next_hop, uint32_t hold_s)
{
    entry *e = cache_find_exact(n, p, NULL);
    if (e && e->info.type == VPN_NHRP_ENTRY_DYNAMIC)
        return 0;
    return cache_put(n, now, VPN_NHRP_ENTRY_CACHED, p, nbma, next_hop, hold_s, false, NULL);
}

/* ---- sending ------------------------------------------------------------------------ */

/* The packet is built in a buffer made for it and freed once sent: NHRP
 * sends a few packets per holding time, and the 8 KB every engine kept
 * inline for them were 8 KB per spoke at hub scale (issue 14). Refused,
 * the packet is not sent (counted and logged as a failed send; the
 * retransmission or refresh timers try again, as after a loss). */
static void send_msg(vpn_nhrp *n, const vpn_addr *dst, const vpn_nhrp_msg *m)
{
    size_t len = 0;
    uint8_t *out = vpn_malloc(&n->p.alloc, VPN_NHRP_MAX_PKT);
    int err = out ? vpn_nhrp_encode(m, out, VPN_NHRP_MAX_PKT, &len) : VPN_ERR_NOMEM;
    if (err) {
        n->st.send_failed++;
        vpn_log_emit(&n->p.log, VPN_LOG_ERROR, ENGINE, "%s: cannot encode %s: %s", n->ifname,
                     vpn_nhrp_type_name(m->type), vpn_strerror(err));
        free(out);
        return;
    }
    n->st.tx[m->type]++;
    n->p.send(n->p.user, dst, out, len);
    free(out);
}

/* Header fields every packet we originate shares. */
static void msg_init(vpn_nhrp *n, vpn_nhrp_msg *m, uint8_t type, const vpn_addr *dst_proto)
{
    memset(m, 0, sizeof *m);
    m->type = type;
    m->hopcnt = HOP_START;
    m->src_nbma = n->p.nbma;
    m->src_proto = n->p.proto;
    if (dst_proto)
        m->dst_proto = *dst_proto;
    if (type != VPN_NHRP_ERROR_IND)
        m->has_ext = true;
}

static void add_auth(vpn_nhrp *n, vpn_nhrp_msg *m)
{
    if (!n->auth_len || m->type == VPN_NHRP_ERROR_IND)
        return;
    m->has_ext = true;
    m->has_auth = true;
    m->auth_spi = VPN_NHRP_AUTH_CLEARTEXT;
    m->auth = (const uint8_t *)n->auth;
    m->auth_len = n->auth_len;
}

static vpn_nhrp_cie self_cie(vpn_nhrp *n, uint8_t code)
{
    vpn_nhrp_cie c;
    memset(&c, 0, sizeof c);
    c.code = code;
    c.prefix_len = max_len(n->p.proto.family);
    c.mtu = n->mtu;
    c.holding_time = (uint16_t)(n->holdtime > 0xffff ? 0xffff : n->holdtime);
    c.nbma = n->p.nbma;
    c.proto = n->p.proto;
    return c;
}

/* 5.2.7: an Error Indication about pkt to the NBMA address it came from.
 * Never about an Error Indication. */
static void send_error(vpn_nhrp *n, const vpn_addr *to, const vpn_addr *to_proto, uint16_t code,
                       uint16_t offset, const uint8_t *pkt, size_t len)
{
    vpn_nhrp_msg m;
    if (len > 17 && pkt[17] == VPN_NHRP_ERROR_IND)
        return;
    msg_init(n, &m, VPN_NHRP_ERROR_IND, to_proto);
    m.err_code = code;
    m.err_offset = offset;
    m.payload = pkt;
    m.payload_len = len > ERR_PKT_MAX ? ERR_PKT_MAX : len;
    send_msg(n, to, &m);
}

static void send_registration(vpn_nhrp *n, uint64_t now, nhs_state *s)
{
    vpn_nhrp_msg m;
    msg_init(n, &m, VPN_NHRP_REG_REQ, &s->cfg.proto);
    m.flags = n->p.reg_no_unique ? 0 : VPN_NHRP_F_REG_U;
    /* Retransmissions keep the request ID, so a late reply still counts. */
    if (!s->req_id)
        s->req_id = new_req_id(n);
    m.req_id = s->req_id;
    m.n_cie = 1;
    m.cie[0] = self_cie(n, 0);
    m.has_responder = m.has_fwd = m.has_rev = true;
    add_auth(n, &m);
    send_msg(n, &s->cfg.nbma, &m);
    s->unanswered++;
    if (s->up && s->unanswered > NHS_DOWN_AFTER) {
        s->up = false;
        s->since = now;
        char a[VPN_ADDR_STRLEN];
        emit_addr(n, VPN_NHRP_EV_NHS_DOWN, &s->cfg.proto, &s->cfg.nbma, 0);
        vpn_log_emit(&n->p.log, VPN_LOG_WARN, ENGINE, "%s: NHS %s is down", n->ifname,
                     vpn_addr_str(&s->cfg.proto, a, sizeof a));
    }
    s->next = add_sat(now, secs(s->backoff_s));
    s->backoff_s = s->backoff_s * 2 > RETRY_MAX_S ? RETRY_MAX_S : s->backoff_s * 2;
}

static nhs_state *active_nhs(vpn_nhrp *n)
{
    for (size_t i = 0; i < n->n_nhs; i++)
        if (n->nhs[i].up)
            return &n->nhs[i];
    return n->n_nhs ? &n->nhs[0] : NULL;
}

static void send_resolution(vpn_nhrp *n, pending *pd)
{
    nhs_state *s = active_nhs(n);
    vpn_nhrp_msg m;
    if (!s)
        return;
    msg_init(n, &m, VPN_NHRP_RES_REQ, &pd->dst);
    m.flags = VPN_NHRP_F_RES_Q;
    m.req_id = pd->req_id;
    /* A CIE without addresses gives our holding time and MTU (5.2.1). */
    m.n_cie = 1;
    m.cie[0] = self_cie(n, 0);
    memset(&m.cie[0].nbma, 0, sizeof(vpn_addr));
    memset(&m.cie[0].proto, 0, sizeof(vpn_addr));
    m.has_responder = m.has_fwd = m.has_rev = true;
    add_auth(n, &m);
    send_msg(n, &s->cfg.nbma, &m);
}

/* ---- receiving: helpers --------------------------------------------------------------- */

static bool auth_ok(vpn_nhrp *n, const vpn_nhrp_msg *m)
{
    if (!n->auth_len || m->type == VPN_NHRP_ERROR_IND)
        return true;
    return m->has_auth && m->auth_spi == VPN_NHRP_AUTH_CLEARTEXT && m->auth_len == n->auth_len &&
           memcmp(m->auth, n->auth, n->auth_len) == 0;
}

/* A reply keeps the request's header and extensions, adds ours (5.2.2, 5.2.4). */
static void reply_from(vpn_nhrp *n, vpn_nhrp_msg *r, const vpn_nhrp_msg *req, uint8_t type)
{
    *r = *req;
    r->type = type;
    r->hopcnt = HOP_START;
    r->has_ext = true;
    r->has_vendor = false;
    r->has_auth = false;
    if (req->has_responder) {
        r->responder_set = true;
        r->responder = self_cie(n, 0);
    }
    add_auth(n, r);
}

static void add_resolver(entry *e, const vpn_addr *proto, const vpn_addr *nbma)
{
    for (size_t i = 0; i < e->n_resolvers; i++)
        if (vpn_addr_eq(&e->resolvers[i].proto, proto)) {
            e->resolvers[i].nbma = *nbma;
            return;
        }
    if (e->n_resolvers == MAX_RESOLVERS) {
        memmove(&e->resolvers[0], &e->resolvers[1], sizeof(resolver) * (MAX_RESOLVERS - 1));
        e->n_resolvers--;
    }
    e->resolvers[e->n_resolvers].proto = *proto;
    e->resolvers[e->n_resolvers].nbma = *nbma;
    e->n_resolvers++;
}

/* 5.2.5: tell the clients that resolved through e that it changed. */
static void purge_resolvers(vpn_nhrp *n, entry *e)
{
    for (size_t i = 0; i < e->n_resolvers; i++) {
        vpn_nhrp_msg m;
        msg_init(n, &m, VPN_NHRP_PURGE_REQ, &e->resolvers[i].proto);
        m.req_id = new_req_id(n);
        m.n_cie = 1;
        memset(&m.cie[0], 0, sizeof m.cie[0]);
        m.cie[0].prefix_len = e->info.proto.len;
        m.cie[0].proto = e->info.proto.addr;
        add_auth(n, &m);
        send_msg(n, &e->resolvers[i].nbma, &m);
    }
    e->n_resolvers = 0;
}

static vpn_prefix cie_prefix(const vpn_nhrp_cie *c, const vpn_addr *fallback)
{
    vpn_prefix p;
    p.addr = c->proto.family ? c->proto : *fallback;
    uint8_t ml = max_len(p.addr.family);
    p.len = c->prefix_len == 0 || c->prefix_len > ml ? ml : c->prefix_len;
    mask_addr(&p.addr, p.len);
    return p;
}

/* ---- receiving: per type ------------------------------------------------------------ */

/* 5.2.3: as the NHS. */
static int on_reg_request(vpn_nhrp *n, uint64_t now, const vpn_addr *src, const vpn_nhrp_msg *m)
{
    vpn_nhrp_msg r;
    vpn_nhrp_cie self = {0};
    int rc = 0;
    if (!n->p.nhs_role) {
        n->st.ignored++;
        return VPN_ERR_STATE;
    }
    reply_from(n, &r, m, VPN_NHRP_REG_REPLY);
    if (m->n_cie == 0) {
        r.n_cie = 1;
        r.cie[0] = self;
    }
    for (size_t i = 0; i < r.n_cie; i++) {
        const vpn_nhrp_cie *c = m->n_cie ? &m->cie[i] : &self;
        vpn_prefix p = cie_prefix(c, &m->src_proto);
        /* The outer source is what reaches the client (it differs from the
         * claimed NBMA address behind NAT). */
        vpn_addr nbma = src ? *src : (c->nbma.family ? c->nbma : m->src_nbma);
        uint32_t hold = c->holding_time ? c->holding_time : n->holdtime;
        bool unique = (m->flags & VPN_NHRP_F_REG_U) != 0;
        entry *e = cache_find_exact(n, &p, NULL);
        uint8_t code = VPN_NHRP_CIE_SUCCESS;
        if (p.addr.family != n->p.proto.family || nbma.family != n->p.nbma.family) {
            code = VPN_NHRP_CIE_ADMIN_PROHIBITED;
        } else if (e && e->info.type == VPN_NHRP_ENTRY_STATIC) {
            code = VPN_NHRP_CIE_ADMIN_PROHIBITED;
        } else if (e && e->info.type == VPN_NHRP_ENTRY_DYNAMIC &&
                   !vpn_addr_eq(&e->info.nbma, &nbma) && e->info.unique) {
            /* 5.2.3: a unique binding stays until it expires. */
            code = VPN_NHRP_CIE_ALREADY_REGISTERED;
        } else {
            bool moved = e && !vpn_addr_eq(&e->info.nbma, &nbma);
            if (moved)
                purge_resolvers(n, e);
            int err = cache_put(n, now, VPN_NHRP_ENTRY_DYNAMIC, &p, &nbma, &p.addr, hold, unique,
                                NULL);
            if (err)
                code = VPN_NHRP_CIE_INSUFFICIENT_RESOURCES;
        }
        r.cie[i].code = code;
        if (code) {
            n->st.reg_refused++;
            rc = VPN_ERR_POLICY;
            emit_addr(n, VPN_NHRP_EV_REGISTRATION_REFUSED, &p.addr, &nbma, code);
            vpn_log_emit(&n->p.log, VPN_LOG_WARN, ENGINE, "%s: registration refused, code %u",
                         n->ifname, code);
        } else {
            n->st.reg_accepted++;
        }
    }
    send_msg(n, src ? src : &m->src_nbma, &r);
    return rc;
}

static nhs_state *nhs_by_req(vpn_nhrp *n, uint32_t req_id)
{
    for (size_t i = 0; i < n->n_nhs; i++)
        if (n->nhs[i].req_id && n->nhs[i].req_id == req_id)
            return &n->nhs[i];
    return NULL;
}

/* As the NHC: our registration was answered. */
static int on_reg_reply(vpn_nhrp *n, uint64_t now, const vpn_nhrp_msg *m)
{
    nhs_state *s = nhs_by_req(n, m->req_id);
    if (!s || !vpn_addr_eq(&m->src_proto, &n->p.proto)) {
        n->st.ignored++;
        return VPN_ERR_NOTFOUND;
    }
    s->req_id = 0;
    uint8_t code = m->n_cie ? m->cie[0].code : VPN_NHRP_CIE_SUCCESS;
    if (code != VPN_NHRP_CIE_SUCCESS) {
        emit_addr(n, VPN_NHRP_EV_REGISTRATION_REFUSED, &s->cfg.proto, &s->cfg.nbma, code);
        vpn_log_emit(&n->p.log, VPN_LOG_WARN, ENGINE, "%s: registration refused by NHS, code %u",
                     n->ifname, code);
        return VPN_ERR_POLICY; /* retransmissions go on with the back-off */
    }
    s->unanswered = 0;
    s->backoff_s = RETRY_BASE_S;
    s->next = add_sat(now, secs(n->reg_interval));
    if (!s->up) {
        s->up = true;
        s->since = now;
        emit_addr(n, VPN_NHRP_EV_NHS_UP, &s->cfg.proto, &s->cfg.nbma, 0);
    }
    return 0;
}

/* 5.2.1: answer as the egress, or forward towards it. */
static int on_res_request(vpn_nhrp *n, uint64_t now, const vpn_addr *src, const uint8_t *pkt,
                          size_t len, const vpn_nhrp_msg *m)
{
    vpn_nhrp_route rt;
    memset(&rt, 0, sizeof rt);
    if (vpn_addr_eq(&m->dst_proto, &n->p.proto)) {
        rt.kind = VPN_NHRP_ROUTE_LOCAL;
        rt.prefix_len = max_len(n->p.proto.family);
    } else if (n->p.route) {
        n->p.route(n->p.user, &m->dst_proto, &rt);
    }
    const vpn_addr *reply_to = src ? src : &m->src_nbma;
    if (rt.kind == VPN_NHRP_ROUTE_LOCAL) {
        /* We are the egress: cache the requester, answer it directly. */
        vpn_prefix rq = {m->src_proto, max_len(m->src_proto.family)};
        uint32_t hold = m->n_cie && m->cie[0].holding_time ? m->cie[0].holding_time : n->holdtime;
        if (m->src_proto.family == n->p.proto.family)
            cache_learn(n, now, &rq, &m->src_nbma, &m->src_proto, hold);
        vpn_nhrp_msg r;
        reply_from(n, &r, m, VPN_NHRP_RES_REPLY);
        r.flags = (uint16_t)((m->flags & VPN_NHRP_F_RES_Q) | VPN_NHRP_F_RES_A);
        r.n_cie = 1;
        r.cie[0] = self_cie(n, VPN_NHRP_CIE_SUCCESS);
        r.cie[0].prefix_len = rt.prefix_len ? rt.prefix_len : max_len(m->dst_proto.family);
        r.cie[0].proto = m->dst_proto;
        mask_addr(&r.cie[0].proto, r.cie[0].prefix_len);
        n->st.resolutions_answered++;
        send_msg(n, &m->src_nbma, &r);
        return 0;
    }
    /* Forward along the routed path: the next hop's NBMA from the cache. */
    entry *e = NULL;
    if (rt.kind == VPN_NHRP_ROUTE_TUNNEL)
        e = cache_lpm(n, &rt.next_hop);
    else if (!n->p.route)
        e = cache_lpm(n, &m->dst_proto);
    if (!e || vpn_addr_eq(&e->info.nbma, &m->src_nbma)) {
        /* 5.2.2: a negative reply from the NHS that cannot resolve. */
        vpn_nhrp_msg r;
        reply_from(n, &r, m, VPN_NHRP_RES_REPLY);
        r.n_cie = 1;
        memset(&r.cie[0], 0, sizeof r.cie[0]);
        r.cie[0].code = VPN_NHRP_CIE_NO_BINDING;
        r.cie[0].prefix_len = max_len(m->dst_proto.family);
        n->st.resolutions_failed++;
        send_msg(n, reply_to, &r);
        return VPN_ERR_NOTFOUND;
    }
    if (m->hopcnt == 0) {
        n->st.hop_exceeded++;
        send_error(n, reply_to, &m->src_proto, VPN_NHRP_ERR_HOP_COUNT, 8, pkt, len);
        return VPN_ERR_POLICY;
    }
    for (size_t i = 0; i < m->n_fwd; i++) {
        if (vpn_addr_eq(&m->fwd[i].proto, &n->p.proto)) {
            n->st.loops++;
            send_error(n, reply_to, &m->src_proto, VPN_NHRP_ERR_LOOP, 0, pkt, len);
            return VPN_ERR_POLICY;
        }
    }
    vpn_nhrp_msg f = *m;
    f.hopcnt = (uint8_t)(m->hopcnt - 1);
    if (f.has_fwd) {
        if (f.n_fwd == VPN_NHRP_MAX_RECORDS) {
            n->st.loops++;
            send_error(n, reply_to, &m->src_proto, VPN_NHRP_ERR_LOOP, 0, pkt, len);
            return VPN_ERR_POLICY;
        }
        f.fwd[f.n_fwd++] = self_cie(n, 0);
    }
    f.has_auth = false;
    f.has_vendor = false;
    add_auth(n, &f);
    if (e->info.type == VPN_NHRP_ENTRY_DYNAMIC)
        add_resolver(e, &m->src_proto, &m->src_nbma);
    n->st.resolutions_forwarded++;
    send_msg(n, &e->info.nbma, &f);
    return 0;
}

static pending *pending_by_req(vpn_nhrp *n, uint32_t req_id)
{
    for (size_t i = 0; n->n_pend && i < VPN_NHRP_MAX_PENDING; i++)
        if (n->pend[i].used && n->pend[i].req_id == req_id)
            return &n->pend[i];
    return NULL;
}

/* As the requester: install what the egress told us. */
static int on_res_reply(vpn_nhrp *n, uint64_t now, const vpn_nhrp_msg *m)
{
    pending *pd = pending_by_req(n, m->req_id);
    if (!pd || !vpn_addr_eq(&m->src_proto, &n->p.proto) || !vpn_addr_eq(&m->dst_proto, &pd->dst)) {
        n->st.ignored++;
        return VPN_ERR_NOTFOUND;
    }
    pd->used = false;
    n->n_pend--;
    if (m->n_cie == 0 || m->cie[0].code != VPN_NHRP_CIE_SUCCESS || !m->cie[0].nbma.family) {
        uint8_t code = m->n_cie ? m->cie[0].code : 0;
        n->st.resolutions_failed++;
        emit_addr(n, VPN_NHRP_EV_RESOLUTION_FAILED, &m->dst_proto, NULL, code);
        return VPN_ERR_NOTFOUND;
    }
    const vpn_nhrp_cie *c = &m->cie[0];
    vpn_prefix p = cie_prefix(c, &m->dst_proto);
    if (!vpn_prefix_contains(&p, &m->dst_proto) || c->nbma.family != n->p.nbma.family) {
        n->st.ignored++;
        return VPN_ERR_MALFORMED; /* 5.2.7 code 10 territory: a reply that does not fit */
    }
    /* The responder's tunnel address is the next hop of the shortcut. */
    vpn_addr nh = m->responder_set && m->responder.proto.family ? m->responder.proto : c->proto;
    uint32_t hold = c->holding_time ? c->holding_time : n->holdtime;
    if (m->responder_set && m->responder.proto.family == n->p.proto.family &&
        m->responder.nbma.family) {
        vpn_prefix rp = {nh, max_len(nh.family)};
        if (rp.len != p.len || !vpn_addr_eq(&rp.addr, &p.addr))
            cache_learn(n, now, &rp, &m->responder.nbma, &nh, hold);
    }
    bool host = p.len == max_len(p.addr.family) && vpn_addr_eq(&p.addr, &nh);
    cache_put(n, now, host || !n->p.shortcut ? VPN_NHRP_ENTRY_CACHED : VPN_NHRP_ENTRY_SHORTCUT, &p,
              &c->nbma, &nh, hold, false, NULL);
    return 0;
}

/* 5.2.5: remove what the CIEs name (and shortcuts via it); reply unless N. */
static int on_purge_request(vpn_nhrp *n, const vpn_addr *src, const vpn_nhrp_msg *m)
{
    for (size_t i = 0; i < m->n_cie; i++) {
        vpn_prefix p = cie_prefix(&m->cie[i], &m->dst_proto);
        entry *e = n->oldest;
        while (e) {
            entry *next = e->next;
            bool hit = e->info.type != VPN_NHRP_ENTRY_STATIC &&
                       ((e->info.proto.len >= p.len && vpn_prefix_contains(&p, &e->info.proto.addr)) ||
                        (e->info.next_hop.family && vpn_prefix_contains(&p, &e->info.next_hop)));
            if (hit)
                cache_drop(n, e, VPN_NHRP_EV_ENTRY_REMOVED);
            e = next;
        }
    }
    if (!(m->flags & VPN_NHRP_F_PURGE_N)) {
        vpn_nhrp_msg r;
        reply_from(n, &r, m, VPN_NHRP_PURGE_REPLY);
        send_msg(n, src ? src : &m->src_nbma, &r);
    }
    return 0;
}

/* Traffic Indication (phase 3): resolve the triggering packet's destination. */
static int on_traffic_ind(vpn_nhrp *n, uint64_t now, const vpn_addr *src, const vpn_nhrp_msg *m)
{
    vpn_addr dst;
    if (m->traffic_code != 0 || m->payload_len < 20) {
        n->st.ignored++;
        return VPN_ERR_MALFORMED;
    }
    uint8_t v = m->payload[0] >> 4;
    if (v == 4)
        vpn_addr_from_bytes(&dst, m->payload + 16, 4);
    else if (v == 6 && m->payload_len >= 40)
        vpn_addr_from_bytes(&dst, m->payload + 24, 16);
    else {
        n->st.ignored++;
        return VPN_ERR_MALFORMED;
    }
    emit_addr(n, VPN_NHRP_EV_REDIRECT_RECEIVED, &dst, src ? src : &m->src_nbma, 0);
    if (!n->p.shortcut) {
        n->st.ignored++;
        return VPN_ERR_STATE;
    }
    int err = vpn_nhrp_resolve(n, now, &dst);
    return err == VPN_ERR_EXISTS ? 0 : err;
}

/* ---- public entry points --------------------------------------------------------------- */

int vpn_nhrp_input(vpn_nhrp *n, uint64_t now, uint32_t network_id, const vpn_addr *src,
                   const uint8_t *pkt, size_t len)
{
    vpn_nhrp_msg m;
    vpn_nhrp_perr pe;
    if (!n || !pkt)
        return VPN_ERR_INVAL;
    if (network_id != n->p.network_id) {
        n->st.netid_mismatch++;
        vpn_log_emit(&n->p.log, VPN_LOG_DEBUG, ENGINE, "%s: packet for network-id %u ignored",
                     n->ifname, network_id);
        return VPN_ERR_POLICY;
    }
    int err = vpn_nhrp_decode(pkt, len, &m, &pe);
    if (err) {
        n->st.malformed++;
        if (err == VPN_ERR_AUTH)
            n->st.bad_checksum++;
        if (pe.code == VPN_NHRP_ERR_UNRECOGNIZED_EXT)
            n->st.unknown_ext++;
        vpn_log_emit(&n->p.log, VPN_LOG_WARN, ENGINE, "%s: malformed NHRP packet dropped: %s",
                     n->ifname, vpn_strerror(err));
        /* 5.3: an unrecognized compulsory extension is reported to the sender. */
        if (pe.code == VPN_NHRP_ERR_UNRECOGNIZED_EXT && src && len >= VPN_NHRP_FIXED_LEN)
            send_error(n, src, NULL, pe.code, pe.offset, pkt, len);
        return err;
    }
    n->st.rx[m.type]++;
    if (!auth_ok(n, &m)) {
        n->st.auth_failed++;
        vpn_log_emit(&n->p.log, VPN_LOG_WARN, ENGINE, "%s: %s refused: authentication failed",
                     n->ifname, vpn_nhrp_type_name(m.type));
        send_error(n, src ? src : &m.src_nbma, &m.src_proto, VPN_NHRP_ERR_AUTH, 0, pkt, len);
        return VPN_ERR_AUTH;
    }
    if (m.src_nbma.family && m.src_nbma.family != n->p.nbma.family) {
        n->st.ignored++;
        return VPN_ERR_UNSUPPORTED;
    }
    switch (m.type) {
    case VPN_NHRP_REG_REQ: return on_reg_request(n, now, src, &m);
    case VPN_NHRP_REG_REPLY: return on_reg_reply(n, now, &m);
    case VPN_NHRP_RES_REQ: return on_res_request(n, now, src, pkt, len, &m);
    case VPN_NHRP_RES_REPLY: return on_res_reply(n, now, &m);
    case VPN_NHRP_PURGE_REQ: return on_purge_request(n, src, &m);
    case VPN_NHRP_PURGE_REPLY: return 0;
    case VPN_NHRP_TRAFFIC_IND: return on_traffic_ind(n, now, src, &m);
    case VPN_NHRP_ERROR_IND:
        vpn_log_emit(&n->p.log, VPN_LOG_WARN, ENGINE, "%s: Error Indication received, code %u",
                     n->ifname, m.err_code);
        return 0;
    }
    return VPN_ERR_UNSUPPORTED;
}

void vpn_nhrp_timeout(vpn_nhrp *n, uint64_t now)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n_nhs; i++)
        if (n->nhs[i].next <= now)
            send_registration(n, now, &n->nhs[i]);
    for (size_t i = 0; n->n_pend && i < VPN_NHRP_MAX_PENDING; i++) {
        pending *pd = &n->pend[i];
        if (!pd->used || pd->next > now)
            continue;
        if (pd->sends >= RES_RETRIES) {
            pd->used = false;
            n->n_pend--;
            n->st.resolutions_failed++;
            emit_addr(n, VPN_NHRP_EV_RESOLUTION_FAILED, &pd->dst, NULL, 0);
            continue;
        }
        send_resolution(n, pd);
        pd->next = add_sat(now, secs(RETRY_BASE_S << pd->sends));
        pd->sends++;
    }
    while (n->heap_len && n->heap[0]->info.expires <= now) {
        n->st.expired++;
        cache_drop(n, n->heap[0], VPN_NHRP_EV_ENTRY_EXPIRED);
    }
}

uint64_t vpn_nhrp_next_deadline(const vpn_nhrp *n)
{
    uint64_t d = UINT64_MAX;
    if (!n)
        return d;
    for (size_t i = 0; i < n->n_nhs; i++)
        if (n->nhs[i].next < d)
            d = n->nhs[i].next;
    for (size_t i = 0; n->n_pend && i < VPN_NHRP_MAX_PENDING; i++)
        if (n->pend[i].used && n->pend[i].next < d)
            d = n->pend[i].next;
    if (n->heap_len && n->heap[0]->info.expires < d)
        d = n->heap[0]->info.expires;
    return d;
}

int vpn_nhrp_resolve(vpn_nhrp *n, uint64_t now, const vpn_addr *dst)
{
    if (!n || !dst || dst->family != n->p.proto.family)
        return VPN_ERR_INVAL;
    if (!n->n_nhs)
        return VPN_ERR_STATE;
    entry *e = cache_lpm(n, dst);
    if (e && (e->info.type == VPN_NHRP_ENTRY_SHORTCUT || e->info.type == VPN_NHRP_ENTRY_CACHED))
        return VPN_ERR_EXISTS;
    pending *free_slot = NULL;
    for (size_t i = 0; i < VPN_NHRP_MAX_PENDING; i++) {
        if (n->pend[i].used && vpn_addr_eq(&n->pend[i].dst, dst))
            return VPN_ERR_EXISTS;
        if (!n->pend[i].used && !free_slot)
            free_slot = &n->pend[i];
    }
    if (!free_slot)
        return VPN_ERR_LIMIT;
    free_slot->used = true;
    n->n_pend++;
    free_slot->dst = *dst;
    free_slot->req_id = new_req_id(n);
    free_slot->sends = 1;
    free_slot->next = add_sat(now, secs(RETRY_BASE_S));
    send_resolution(n, free_slot);
    return 0;
}

int vpn_nhrp_forwarded(vpn_nhrp *n, uint64_t now, const vpn_addr *in_nbma, uint32_t in_netid,
                       uint32_t out_netid, const uint8_t *ip, size_t len)
{
    vpn_addr src, dst;
    if (!n || !in_nbma || !ip)
        return VPN_ERR_INVAL;
    if (!n->p.redirect || !n->redir || in_netid != out_netid || in_netid != n->p.network_id)
        return VPN_ERR_STATE;
    if (len >= 20 && ip[0] >> 4 == 4) {
        vpn_addr_from_bytes(&src, ip + 12, 4);
        vpn_addr_from_bytes(&dst, ip + 16, 4);
    } else if (len >= 40 && ip[0] >> 4 == 6) {
        vpn_addr_from_bytes(&src, ip + 8, 16);
        vpn_addr_from_bytes(&dst, ip + 24, 16);
    } else {
        return VPN_ERR_MALFORMED;
    }
    if (src.family != n->p.proto.family)
        return VPN_ERR_STATE;
    /* Rate limit per (NBMA source, destination): one slot per key hash. */
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < 16; i++)
        h = (h ^ in_nbma->b[i]) * 1099511628211ull;
    for (size_t i = 0; i < 16; i++)
        h = (h ^ dst.b[i]) * 1099511628211ull;
    redirect_slot *s = &n->redir[h % REDIRECT_SLOTS];
    if (s->used && s->key == h && now - s->at < secs(n->redirect_timeout)) {
        n->st.redirects_limited++;
        return VPN_ERR_LIMIT;
    }
    s->used = true;
    s->key = h;
    s->at = now;
    vpn_nhrp_msg m;
    msg_init(n, &m, VPN_NHRP_TRAFFIC_IND, &src);
    m.traffic_code = 0;
    m.payload = ip;
    m.payload_len = len > TIND_DATA_MAX ? TIND_DATA_MAX : len;
    add_auth(n, &m);
    n->st.redirects_sent++;
    emit_addr(n, VPN_NHRP_EV_REDIRECT_SENT, &dst, in_nbma, 0);
    send_msg(n, in_nbma, &m);
    return 0;
}

int vpn_nhrp_lookup(vpn_nhrp *n, const vpn_addr *dst, vpn_nhrp_entry_info *out)
{
    if (!n || !dst)
        return VPN_ERR_INVAL;
    entry *e = cache_lpm(n, dst);
    if (!e)
        return VPN_ERR_NOTFOUND;
    if (out)
        *out = e->info;
    return 0;
}

void vpn_nhrp_foreach(const vpn_nhrp *n, void (*fn)(void *user, const vpn_nhrp_entry_info *e),
                      void *user)
{
    if (!n || !fn)
        return;
    for (const entry *e = n->oldest; e; e = e->next)
        fn(user, &e->info);
}

size_t vpn_nhrp_entry_count(const vpn_nhrp *n) { return n ? n->n_entries : 0; }

static size_t mc_add(vpn_addr *out, size_t cap, size_t k, const vpn_addr *a)
{
    for (size_t i = 0; i < k && i < cap; i++)
        if (vpn_addr_eq(&out[i], a))
            return k;
    if (k < cap)
        out[k] = *a;
    return k + 1;
}

size_t vpn_nhrp_multicast_nbma(const vpn_nhrp *n, vpn_addr *out, size_t cap)
{
    size_t k = 0;
    if (!n)
        return 0;
    for (size_t i = 0; i < n->p.n_mcast; i++)
        k = mc_add(out, cap, k, &n->mcast[i]);
    for (size_t i = 0; i < n->n_nhs; i++)
        if (n->nhs[i].cfg.multicast)
            k = mc_add(out, cap, k, &n->nhs[i].cfg.nbma);
    if (n->p.mcast_dynamic)
        for (const entry *e = n->oldest; e; e = e->next)
            if (e->info.type == VPN_NHRP_ENTRY_DYNAMIC)
                k = mc_add(out, cap, k, &e->info.nbma);
    return k;
}

size_t vpn_nhrp_nhs_count(const vpn_nhrp *n) { return n ? n->n_nhs : 0; }

int vpn_nhrp_nhs_get(const vpn_nhrp *n, size_t i, vpn_nhrp_nhs_info *out)
{
    if (!n || !out || i >= n->n_nhs)
        return VPN_ERR_NOTFOUND;
    out->proto = n->nhs[i].cfg.proto;
    out->nbma = n->nhs[i].cfg.nbma;
    out->up = n->nhs[i].up;
    out->up_since = n->nhs[i].since;
    out->unanswered = n->nhs[i].unanswered;
    return 0;
}

void vpn_nhrp_stats_get(const vpn_nhrp *n, vpn_nhrp_stats *out)
{
    if (out == NULL)
        return;
    if (n == NULL)
        memset(out, 0, sizeof *out);
    else
        *out = n->st;
}
const vpn_nhrp_params *vpn_nhrp_params_get(const vpn_nhrp *n) { return n ? &n->p : NULL; }

int vpn_nhrp_new(vpn_nhrp **out, const vpn_nhrp_params *params)
{
    if (!out || !params || !params->send)
        return VPN_ERR_INVAL;
    *out = NULL;
    const vpn_nhrp_params *p = params;
    if (!p->nbma.family || !p->proto.family || p->n_nhs > VPN_NHRP_MAX_NHS ||
        (p->n_nhs && !p->nhs) || (p->n_maps && !p->maps) || (p->n_mcast && !p->mcast))
        return VPN_ERR_INVAL;
    if (p->auth && strlen(p->auth) > VPN_NHRP_AUTH_MAX)
        return VPN_ERR_INVAL;
    for (size_t i = 0; i < p->n_nhs; i++)
        if (p->nhs[i].proto.family != p->proto.family || p->nhs[i].nbma.family != p->nbma.family)
            return VPN_ERR_INVAL;
    for (size_t i = 0; i < p->n_maps; i++)
        if (p->maps[i].proto.addr.family != p->proto.family ||
            p->maps[i].nbma.family != p->nbma.family ||
            p->maps[i].proto.len > max_len(p->proto.family))
            return VPN_ERR_INVAL;
    for (size_t i = 0; i < p->n_mcast; i++)
        if (p->mcast[i].family != p->nbma.family)
            return VPN_ERR_INVAL;
    vpn_nhrp *n = calloc(1, sizeof(*n));
    if (!n)
        return VPN_ERR_NOMEM;
    n->p = *p;
    snprintf(n->ifname, sizeof n->ifname, "%s", p->ifname ? p->ifname : "Tunnel0");
    n->p.ifname = n->ifname;
    if (p->auth) {
        n->auth_len = strlen(p->auth);
        memcpy(n->auth, p->auth, n->auth_len);
        n->p.auth = n->auth;
    }
    n->holdtime = p->holdtime_s ? p->holdtime_s : VPN_NHRP_DEFAULT_HOLDTIME;
    if (n->holdtime > 0xffff)
        n->holdtime = 0xffff; /* the CIE field is 16 bits */
    n->reg_interval = p->reg_interval_s ? p->reg_interval_s : n->holdtime / 3;
    if (!n->reg_interval)
        n->reg_interval = 1;
    n->redirect_timeout = p->redirect_timeout_s ? p->redirect_timeout_s : VPN_NHRP_DEFAULT_REDIRECT_S;
    n->mtu = p->mtu ? p->mtu : VPN_NHRP_DEFAULT_MTU;
    if (!n->p.max_entries)
        n->p.max_entries = VPN_NHRP_DEFAULT_MAX_ENTRIES;
    n->next_req_id = 1;
    if (p->rng) {
        uint32_t r = 0;
        if (vpn_rng_bytes(p->rng, &r, sizeof r) == 0 && r)
            n->next_req_id = r;
    }
    n->p.nhs = NULL;
    n->p.maps = NULL;
    n->p.mcast = NULL;
    if (p->redirect &&
        (n->redir = vpn_calloc(&n->p.alloc, REDIRECT_SLOTS, sizeof *n->redir)) == NULL) {
        vpn_nhrp_del(n);
        return VPN_ERR_NOMEM;
    }
    if (p->n_mcast) {
        n->mcast = calloc(p->n_mcast, sizeof(vpn_addr));
        if (!n->mcast) {
            vpn_nhrp_del(n);
            return VPN_ERR_NOMEM;
        }
        memcpy(n->mcast, p->mcast, p->n_mcast * sizeof(vpn_addr));
        n->p.mcast = n->mcast;
    }
    n->n_nhs = p->n_nhs;
    for (size_t i = 0; i < p->n_nhs; i++) {
        n->nhs[i].cfg = p->nhs[i];
        n->nhs[i].next = 0; /* register at once */
        n->nhs[i].backoff_s = RETRY_BASE_S;
    }
    if (cache_grow(n)) {
        vpn_nhrp_del(n);
        return VPN_ERR_NOMEM;
    }
    /* Static entries (`ip nhrp map`), and the NHSs' bindings. */
    for (size_t i = 0; i < p->n_maps + p->n_nhs; i++) {
        vpn_prefix pr;
        const vpn_addr *nbma;
        if (i < p->n_maps) {
            pr = p->maps[i].proto;
            nbma = &p->maps[i].nbma;
        } else {
            pr.addr = p->nhs[i - p->n_maps].proto;
            pr.len = max_len(pr.addr.family);
            nbma = &p->nhs[i - p->n_maps].nbma;
            if (cache_find_exact(n, &pr, NULL))
                continue;
        }
        vpn_nhrp_entry_info info;
        memset(&info, 0, sizeof info);
        info.type = VPN_NHRP_ENTRY_STATIC;
        info.proto = pr;
        info.nbma = *nbma;
        info.next_hop = pr.addr;
        info.expires = UINT64_MAX;
        info.nhs = i >= p->n_maps;
        entry *e = cache_find_exact(n, &pr, NULL);
        if (e) {
            e->info.nbma = *nbma; /* the later line wins, as in IOS */
            continue;
        }
        int err = cache_add(n, &info, &e);
        if (err) {
            vpn_nhrp_del(n);
            return err;
        }
    }
    for (size_t i = 0; i < p->n_nhs; i++) {
        vpn_prefix pr = {p->nhs[i].proto, max_len(p->nhs[i].proto.family)};
        entry *e = cache_find_exact(n, &pr, NULL);
        if (e)
            e->info.nhs = true;
    }
    *out = n;
    return 0;
}

void vpn_nhrp_del(vpn_nhrp *n)
{
    if (!n)
        return;
    entry *e = n->oldest;
    while (e) {
        entry *next = e->next;
        free(e);
        e = next;
    }
    free(n->buckets);
    free(n->heap);
    free(n->mcast);
    free(n->redir);
    memset(n->auth, 0, sizeof n->auth);
    free(n);
}
