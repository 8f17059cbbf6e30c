/*
 * Two (or three) IKEv2 engines in one process, joined by an in-memory
 * network with a counter clock: datagrams queue up and are delivered in
 * order; tests can drop, duplicate, rewrite (NAT) or inspect them, and
 * every event is recorded. Header-only (static inline) so that each test
 * driver takes what it uses.
 */
#ifndef VPN_TEST_IKEV2_PAIR_H
#define VPN_TEST_IKEV2_PAIR_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rng.h"
#include "common/vpn-err.h"
#include "conf/conf.h"
#include "ikev2/ikev2-engine.h"
#include "ikev2/ikev2-esp.h"
#include "ipsec/sa.h"
#include "test-util.h"

#ifndef TP_MAX_NODES /* a driver may want more before including this */
#define TP_MAX_NODES 3
#endif
#define TP_MAX_EVENTS 64
#define TP_MAX_QUEUE 64
#define TP_MAX_LOG 256
#define TP_MAX_KEYED 32
#define TP_NS 1000000000ull

typedef struct tp_event {
    vpn_ikev2_event_type type;
    uint32_t ike_sa_id, old_id;
    vpn_ikev2_reason reason;
    uint16_t notify;
    bool has_child;
    vpn_ikev2_child_info child;
    vpn_key encr_in, integ_in, encr_out, integ_out;
    /* IKE_UP / IKE_DOWN / FAILED: the SA's Wireshark key line, read from
     * inside the callback (as drivers that export keys do). */
    int ws_rc;
    char ws_line[400];
} tp_event;

typedef struct tp_dgram {
    int from, to;            /* node indexes */
    vpn_ikev2_endpoint src, dst;
    uint8_t data[65536 + 4];
    size_t len;
    uint64_t when;
} tp_dgram;

struct tp_net;

typedef struct tp_node {
    struct tp_net *net;
    int idx;
    vpn_conf *conf;
    vpn_ikev2_ctx *ctx;
    vpn_drbg drbg;
    tu_log_sink log;
    vpn_ikev2_endpoint ep;   /* its own address, port 500 */
    tp_event ev[TP_MAX_EVENTS];
    size_t n_ev;
    /* each ike_keyed call: the SA's SPIs (i then r) and whether its
     * Wireshark line could be made at that moment (the first
     * TP_MAX_KEYED calls; keyed_over counts the rest) */
    uint8_t keyed_spis[TP_MAX_KEYED][16];
    bool keyed_line_ok[TP_MAX_KEYED];
    size_t n_keyed, keyed_over;
} tp_node;

/* A hook may change a datagram in flight or return false to drop it. */
typedef bool (*tp_hook_fn)(struct tp_net *n, tp_dgram *d, void *user);

typedef struct tp_net {
    tp_node node[TP_MAX_NODES];
    int n_nodes;
    uint64_t now;
    tp_dgram *queue[TP_MAX_QUEUE];
    size_t n_queue;
    tp_dgram *log[TP_MAX_LOG];    /* every datagram delivered (for pcaps and checks) */
    size_t n_log;
    size_t sent;                  /* datagrams handed to the network */
    tp_hook_fn hook;
    void *hook_user;
    /* a NAT in front of node 0: its packets leave from nat_addr */
    bool nat;
    vpn_addr nat_addr;
    uint16_t nat_map_port[2];     /* public ports for private 500 and 4500 */
    unsigned max_half_open_in, max_half_open_out; /* for nodes added next (0: default) */
    int64_t unix_time_offset_s;                    /* for nodes added next */
    bool no_rfc7427;                               /* for nodes added next */
    vpn_alloc alloc;                               /* for nodes added next (zero: no gate) */
} tp_net;

static inline vpn_conf *tp_conf(const char *text)
{
    vpn_conf *c = NULL;
    vpn_conf_error err;
    int rc = vpn_conf_parse(text, strlen(text), &c, &err);
    if (rc != 0)
        fail_msg("config does not parse (%d) at line %d: %s", rc, err.line, err.msg);
    return c;
}

static inline tp_node *tp_node_of(tp_net *n, const vpn_addr *a)
{
    for (int i = 0; i < n->n_nodes; i++)
        if (vpn_addr_eq(&n->node[i].ep.addr, a))
            return &n->node[i];
    return NULL;
}

static inline void tp_send_cb(void *user, const vpn_ikev2_dgram *d)
{
    tp_node *self = user;
    tp_net *n = self->net;
    tp_dgram *g;

    assert_true(d->len <= 65536 + 4);
    assert_true(n->n_queue < TP_MAX_QUEUE);
    g = calloc(1, sizeof *g);
    assert_non_null(g);
    g->from = self->idx;
    g->src = d->local;
    g->dst = d->remote;
    memcpy(g->data, d->data, d->len);
    g->len = d->len;
    g->when = n->now;
    n->queue[n->n_queue++] = g;
    n->sent++;
}

static inline void tp_event_cb(void *user, const vpn_ikev2_event *ev)
{
    tp_node *self = user;
    tp_event *e;

    assert_true(self->n_ev < TP_MAX_EVENTS);
    e = &self->ev[self->n_ev++];
    memset(e, 0, sizeof *e);
    e->type = ev->type;
    e->ike_sa_id = ev->ike_sa_id;
    e->old_id = ev->old_id;
    e->reason = ev->reason;
    e->notify = ev->notify;
    if (ev->ike_sa_id && (ev->type == VPN_IKEV2_EV_IKE_UP || ev->type == VPN_IKEV2_EV_IKE_DOWN ||
                          ev->type == VPN_IKEV2_EV_FAILED))
        e->ws_rc = vpn_ikev2_sa_wireshark_line(self->ctx, ev->ike_sa_id, e->ws_line, sizeof e->ws_line);
    if (ev->child) {
        e->has_child = true;
        e->child = *ev->child;
        if (ev->child->encr_in) {
            e->encr_in = *ev->child->encr_in;
            e->integ_in = *ev->child->integ_in;
            e->encr_out = *ev->child->encr_out;
            e->integ_out = *ev->child->integ_out;
        }
        e->child.encr_in = e->child.integ_in = e->child.encr_out = e->child.integ_out = NULL;
        e->child.ipsec_profile = e->child.transform_set = NULL;
    }
    if (getenv("VPN_TEST_LOG"))
        fprintf(stderr, "  node %d event %d sa %u reason %s notify %u\n", self->idx, ev->type, ev->ike_sa_id,
                vpn_ikev2_reason_name(ev->reason), ev->notify);
}

static inline void tp_keyed_cb(void *user, uint32_t ike_sa_id)
{
    tp_node *self = user;
    vpn_ikev2_sa_info info;
    char line[1024]; /* as the router's: SHA-512 keys and names need over 500 */

    assert_int_equal(vpn_ikev2_sa_find(self->ctx, ike_sa_id, &info), 0);
    if (self->n_keyed == TP_MAX_KEYED) {
        self->keyed_over++;
        return;
    }
    memcpy(self->keyed_spis[self->n_keyed], info.spi_i, 8);
    memcpy(self->keyed_spis[self->n_keyed] + 8, info.spi_r, 8);
    self->keyed_line_ok[self->n_keyed++] = vpn_ikev2_sa_wireshark_line(self->ctx, ike_sa_id, line, sizeof line) == 0;
}

/* How many times node nd's ike_keyed named the IKE SA with these SPIs. */
static inline size_t tp_keyed_count(const tp_node *nd, const uint8_t *spi_i, const uint8_t *spi_r)
{
    size_t c = 0;
    for (size_t i = 0; i < nd->n_keyed; i++)
        c += memcmp(nd->keyed_spis[i], spi_i, 8) == 0 && memcmp(nd->keyed_spis[i] + 8, spi_r, 8) == 0;
    return c;
}

/* Takes the next node slot for config text at address addr (port 500) and
 * fills *p for it (the node's DRBG, log and the tp_* callbacks); the caller
 * may change *p before vpn_ikev2_ctx_new(&nd->ctx, p). */
static inline tp_node *tp_prepare(tp_net *n, const char *conf_text, const char *addr, const char *name,
                                  vpn_ikev2_params *p)
{
    tp_node *nd = &n->node[n->n_nodes];

    memset(nd, 0, sizeof *nd);
    nd->net = n;
    nd->idx = n->n_nodes++;
    nd->conf = tp_conf(conf_text);
    assert_int_equal(vpn_addr_parse(&nd->ep.addr, addr), 0);
    nd->ep.port = VPN_IKEV2_PORT;
    assert_int_equal(vpn_drbg_init(&nd->drbg, name, strlen(name)), 0);
    memset(p, 0, sizeof *p);
    p->conf = nd->conf;
    vpn_rng_init_drbg(&p->rng, &nd->drbg);
    tu_log_attach(&p->log, &nd->log);
    p->log.max = VPN_LOG_DEBUG;
    p->name = name;
    p->send = tp_send_cb;
    p->event = tp_event_cb;
    p->ike_keyed = tp_keyed_cb;
    p->user = nd;
    p->max_half_open_in = n->max_half_open_in;
    p->max_half_open_out = n->max_half_open_out;
    p->unix_time_offset_s = n->unix_time_offset_s;
    p->no_rfc7427 = n->no_rfc7427;
    p->alloc = n->alloc;
    return nd;
}

/* Adds a node with config text at address addr (port 500). */
static inline tp_node *tp_add(tp_net *n, const char *conf_text, const char *addr, const char *name)
{
    vpn_ikev2_params p;
    tp_node *nd = tp_prepare(n, conf_text, addr, name, &p);

    assert_int_equal(vpn_ikev2_ctx_new(&nd->ctx, &p), 0);
    return nd;
}

static inline void tp_init(tp_net *n)
{
    memset(n, 0, sizeof *n);
    n->now = 1000 * TP_NS; /* any epoch */
}

static inline void tp_free(tp_net *n)
{
    for (int i = 0; i < n->n_nodes; i++) {
        vpn_ikev2_ctx_del(n->node[i].ctx);
        vpn_conf_del(n->node[i].conf);
        vpn_drbg_free(&n->node[i].drbg);
    }
    for (size_t i = 0; i < n->n_queue; i++)
        free(n->queue[i]);
    for (size_t i = 0; i < n->n_log; i++)
        free(n->log[i]);
    memset(n, 0, sizeof *n);
}

/* Puts node 0 behind a NAT that shows it as pub (RFC 7296 2.23 tests). */
static inline void tp_nat(tp_net *n, const char *pub)
{
    n->nat = true;
    assert_int_equal(vpn_addr_parse(&n->nat_addr, pub), 0);
    n->nat_map_port[0] = 40500;
    n->nat_map_port[1] = 44500;
}

/* NAT translation; returns false if the packet has no mapping. */
static inline bool tp_nat_apply(tp_net *n, tp_dgram *d)
{
    if (!n->nat)
        return true;
    if (d->from == 0) {
        d->src.addr = n->nat_addr;
        d->src.port = d->src.port == VPN_IKEV2_NATT_PORT ? n->nat_map_port[1] : n->nat_map_port[0];
        return true;
    }
    if (vpn_addr_eq(&d->dst.addr, &n->nat_addr)) {
        d->dst.addr = n->node[0].ep.addr;
        if (d->dst.port == n->nat_map_port[0])
            d->dst.port = VPN_IKEV2_PORT;
        else if (d->dst.port == n->nat_map_port[1])
            d->dst.port = VPN_IKEV2_NATT_PORT;
        else
            return false;
    }
    return true;
}

/* Delivers everything queued (and what the deliveries cause). */
static inline void tp_pump(tp_net *n)
{
    int guard = 0;
    while (n->n_queue) {
        tp_dgram *d = n->queue[0];
        tp_node *dst;
        bool logged;
        memmove(&n->queue[0], &n->queue[1], (n->n_queue - 1) * sizeof n->queue[0]);
        n->n_queue--;
        assert_true(++guard < 10000);
        if ((n->hook && !n->hook(n, d, n->hook_user)) || !tp_nat_apply(n, d)) {
            free(d);
            continue;
        }
        dst = tp_node_of(n, &d->dst.addr);
        if (dst == NULL) {
            free(d);
            continue;
        }
        d->to = dst->idx;
        logged = n->n_log < TP_MAX_LOG;
        if (logged)
            n->log[n->n_log++] = d;
        /* the receiver sees the datagram from its source to its own address */
        assert_int_equal(vpn_ikev2_input(dst->ctx, n->now, &d->dst, &d->src, d->data, d->len), 0);
        if (!logged)
            free(d);
    }
}

/* Delivers the datagram queued at position i alone (no hook, no NAT, not
 * logged), to test an order of arrival; returns vpn_ikev2_input's result
 * and the node it reached (*to, when not NULL). */
static inline int tp_deliver_at(tp_net *n, size_t i, tp_node **to)
{
    tp_dgram *d;
    tp_node *dst;
    int rc;

    assert_true(i < n->n_queue);
    d = n->queue[i];
    memmove(&n->queue[i], &n->queue[i + 1], (n->n_queue - i - 1) * sizeof n->queue[0]);
    n->n_queue--;
    dst = tp_node_of(n, &d->dst.addr);
    assert_non_null(dst);
    rc = vpn_ikev2_input(dst->ctx, n->now, &d->dst, &d->src, d->data, d->len);
    free(d);
    if (to)
        *to = dst;
    return rc;
}

static inline uint64_t tp_deadline(tp_net *n)
{
    uint64_t t = UINT64_MAX;
    for (int i = 0; i < n->n_nodes; i++) {
        uint64_t d = vpn_ikev2_next_deadline(n->node[i].ctx);
        if (d < t)
            t = d;
    }
    return t;
}

/* Adds the inbound and outbound SAs of the CHILD_SA in event e (with its
 * keys) to sad. */
static inline void tp_child_install(vpn_sad *sad, const tp_event *e, vpn_sa **in_sa, vpn_sa **out_sa)
{
    vpn_ikev2_child_info c = e->child;
    vpn_ts ts[VPN_IKEV2_CHILD_TS_MAX];
    vpn_sa_config in, out;

    c.encr_in = &e->encr_in;
    c.integ_in = &e->integ_in;
    c.encr_out = &e->encr_out;
    c.integ_out = &e->integ_out;
    assert_int_equal(vpn_ikev2_child_sa_configs(&c, ts, VPN_IKEV2_CHILD_TS_MAX, &in, &out), 0);
    assert_int_equal(vpn_sad_add(sad, &in, 0, in_sa), 0);
    assert_int_equal(vpn_sad_add(sad, &out, 0, out_sa), 0);
}

/* The id of node's first IKE SA (there must be one). */
static inline uint32_t tp_sa_id(tp_net *n, int node)
{
    vpn_ikev2_sa_info i;
    assert_int_equal(vpn_ikev2_sa_get(n->node[node].ctx, 0, &i), 0);
    return i.id;
}

/* The k-th CHILD_SA of node's first IKE SA (there must be one). */
static inline vpn_ikev2_child_state tp_child(tp_net *n, int node, size_t k)
{
    vpn_ikev2_child_state c;
    assert_int_equal(vpn_ikev2_child_get(n->node[node].ctx, tp_sa_id(n, node), k, &c), 0);
    return c;
}

/* Runs the network and the timers up to time `until` (ns). */
static inline void tp_run_until(tp_net *n, uint64_t until)
{
    for (int guard = 0; guard < 100000; guard++) {
        uint64_t t;
        tp_pump(n);
        t = tp_deadline(n);
        if (t > until)
            break;
        if (t > n->now)
            n->now = t;
        for (int i = 0; i < n->n_nodes; i++)
            vpn_ikev2_timeout(n->node[i].ctx, n->now);
    }
    tp_pump(n);
    if (until > n->now && until != UINT64_MAX)
        n->now = until;
}

static inline void tp_run_for(tp_net *n, uint64_t secs)
{
    tp_run_until(n, n->now + secs * TP_NS);
}

/* The index of the k-th event of a type at a node, -1 if none. */
static inline int tp_find_ev(const tp_node *nd, vpn_ikev2_event_type t, int k)
{
    for (size_t i = 0; i < nd->n_ev; i++)
        if (nd->ev[i].type == t && k-- == 0)
            return (int)i;
    return -1;
}

static inline size_t tp_count_ev(const tp_node *nd, vpn_ikev2_event_type t)
{
    size_t c = 0;
    for (size_t i = 0; i < nd->n_ev; i++)
        c += nd->ev[i].type == t;
    return c;
}

/* An IKE message's exchange type and flags (after the 4500 marker). */
static inline const uint8_t *tp_ike(const tp_dgram *d, size_t *len)
{
    const uint8_t *p = d->data;
    size_t l = d->len;
    if (d->src.port == VPN_IKEV2_NATT_PORT || d->dst.port == VPN_IKEV2_NATT_PORT ||
        (l >= 4 && p[0] == 0 && p[1] == 0 && p[2] == 0 && p[3] == 0)) {
        p += 4;
        l -= 4;
    }
    if (len)
        *len = l;
    return p;
}

static inline uint8_t tp_exchange(const tp_dgram *d)
{
    size_t l;
    const uint8_t *p = tp_ike(d, &l);
    return l >= 28 ? p[18] : 0;
}

static inline bool tp_is_response(const tp_dgram *d)
{
    size_t l;
    const uint8_t *p = tp_ike(d, &l);
    return l >= 28 && (p[19] & 0x20) != 0;
}

/* Both sides agree on a CHILD_SA: SPIs and keys crosswise. */
static inline void tp_assert_child_pair(const tp_event *a, const tp_event *b)
{
    assert_true(a->has_child && b->has_child);
    assert_int_equal(a->child.spi_in, b->child.spi_out);
    assert_int_equal(a->child.spi_out, b->child.spi_in);
    assert_int_equal(a->child.encr, b->child.encr);
    assert_int_equal(a->child.integ, b->child.integ);
    assert_int_equal(a->encr_out.len, b->encr_in.len);
    assert_true(a->encr_out.len > 0);
    assert_memory_equal(a->encr_out.b, b->encr_in.b, a->encr_out.len);
    assert_memory_equal(a->encr_in.b, b->encr_out.b, a->encr_in.len);
    assert_int_equal(a->integ_out.len, b->integ_in.len);
    assert_memory_equal(a->integ_out.b, b->integ_in.b, a->integ_out.len);
    assert_memory_equal(a->integ_in.b, b->integ_out.b, a->integ_in.len);
    /* in and out keys differ (RFC 7296 2.17) */
    assert_memory_not_equal(a->encr_in.b, a->encr_out.b, a->encr_in.len);
}

/* ---- two FlexVPN routers, R1 (192.0.2.1) and R2 (192.0.2.2) ---------------------------- */

typedef struct peer_conf {
    const char *host, *peer_addr;
    const char *encr, *integ, *prf, *groups;  /* IKE proposal */
    const char *psk_local, *psk_remote;
    const char *tset;                          /* after "crypto ipsec transform-set TS " */
    const char *mode;                          /* "tunnel" / "transport" */
    const char *pfs;                           /* "" or "group19" */
    const char *extra;                         /* appended (globals, dpd ...) */
    const char *profile_extra;
    const char *keyring_addr;                  /* NULL: peer_addr */
} peer_conf;

static inline char *make_conf(const peer_conf *c)
{
    char *buf = malloc(4096);
    assert_non_null(buf);
    snprintf(buf, 4096,
             "hostname %s\n"
             "crypto ikev2 proposal P1\n"
             " encryption %s\n"
             "%s%s%s"
             " prf %s\n"
             " group %s\n"
             "crypto ikev2 policy POL1\n"
             " proposal P1\n"
             "crypto ikev2 keyring KR\n"
             " peer PEER\n"
             "  address %s\n"
             "  pre-shared-key local %s\n"
             "  pre-shared-key remote %s\n"
             "crypto ikev2 profile PROF\n"
             " match identity remote address %s 255.255.255.255\n"
             " authentication local pre-share\n"
             " authentication remote pre-share\n"
             " keyring local KR\n"
             "%s"
             "crypto ipsec transform-set TS %s\n"
             " mode %s\n"
             "crypto ipsec profile IPP\n"
             " set transform-set TS\n"
             " set ikev2-profile PROF\n"
             "%s%s%s"
             "%s",
             c->host, c->encr, c->integ ? " integrity " : "", c->integ ? c->integ : "", c->integ ? "\n" : "",
             c->prf, c->groups, c->keyring_addr ? c->keyring_addr : c->peer_addr, c->psk_local, c->psk_remote, c->peer_addr,
             c->profile_extra ? c->profile_extra : "", c->tset, c->mode ? c->mode : "tunnel",
             c->pfs && *c->pfs ? " set pfs " : "", c->pfs ? c->pfs : "", c->pfs && *c->pfs ? "\n" : "",
             c->extra ? c->extra : "");
    return buf;
}

static inline peer_conf conf_a(void)
{
    peer_conf c = {"R1", "192.0.2.2", "aes-cbc-256", "sha256", "sha256", "19 14",
                   "key-from-r1", "key-from-r2", "esp-aes 256 esp-sha256-hmac", "tunnel", "", NULL, NULL, NULL};
    return c;
}

static inline peer_conf conf_b(void)
{
    peer_conf c = {"R2", "192.0.2.1", "aes-cbc-256", "sha256", "sha256", "19 14",
                   "key-from-r2", "key-from-r1", "esp-aes 256 esp-sha256-hmac", "tunnel", "", NULL, NULL, NULL};
    return c;
}

/* Nodes 0 (R1, 192.0.2.1) and 1 (R2, 192.0.2.2). */
static inline void setup(tp_net *n, const peer_conf *a, const peer_conf *b)
{
    char *ta = make_conf(a), *tb = make_conf(b);
    tp_init(n);
    tp_add(n, ta, "192.0.2.1", "R1");
    tp_add(n, tb, "192.0.2.2", "R2");
    free(ta);
    free(tb);
}

static inline vpn_ikev2_selector sel(const char *prefix, uint8_t proto)
{
    vpn_prefix p;
    vpn_ikev2_selector s;
    assert_int_equal(vpn_prefix_parse(&p, prefix), 0);
    vpn_ikev2_selector_from_prefix(&s, &p, proto);
    return s;
}

/* A policy on IPsec profile IPP for one pair of traffic selectors: the
 * prefixes local and remote, IP protocol proto (0: any). */
static inline vpn_ikev2_policy ts_policy(const char *local, const char *remote, uint8_t proto, uint32_t tag)
{
    vpn_ikev2_policy p;
    memset(&p, 0, sizeof p);
    p.ipsec_profile = "IPP";
    p.ts_local[0] = sel(local, proto);
    p.ts_remote[0] = sel(remote, proto);
    p.n_ts_local = p.n_ts_remote = 1;
    p.tag = tag;
    return p;
}

/* A GRE-over-IPsec policy: permit 47 between the endpoints. */
static inline vpn_ikev2_policy gre_policy(const char *local, const char *remote, uint32_t tag)
{
    char l[64], r[64];
    snprintf(l, sizeof l, "%s/32", local);
    snprintf(r, sizeof r, "%s/32", remote);
    return ts_policy(l, r, 47, tag);
}

static inline uint32_t initiate(tp_net *n, const vpn_ikev2_policy *pol)
{
    uint32_t id = 0;
    assert_int_equal(vpn_ikev2_initiate(n->node[0].ctx, n->now, &n->node[0].ep, &n->node[1].ep, pol, &id), 0);
    assert_true(id != 0);
    return id;
}

/* R1 and R2 (a, b) up for 1 s: R1 asks for GRE between the routers (tag
 * 1); R2 takes that (tag 2) and 10.2.0.0/16 <-> 10.1.0.0/16 children (tag
 * 22). */
static inline void up_with_lans(tp_net *n, const peer_conf *a, const peer_conf *b)
{
    vpn_ikev2_policy p = gre_policy("192.0.2.1", "192.0.2.2", 1), pb = gre_policy("192.0.2.2", "192.0.2.1", 2),
                     pb2 = ts_policy("10.2.0.0/16", "10.1.0.0/16", 0, 22);
    setup(n, a, b);
    assert_int_equal(vpn_ikev2_policy_add(n->node[1].ctx, &pb), 0);
    assert_int_equal(vpn_ikev2_policy_add(n->node[1].ctx, &pb2), 0);
    initiate(n, &p);
    tp_run_for(n, 1);
}

#endif
