/*
 * A hub and spokes of vpn_routers, each with one NHRP tunnel (a DMVPN mGRE
 * Tunnel0, or FlexVPN's Virtual-Template1 on the hub and a Tunnel0 to it on
 * the spokes), on an in-memory network with a counter clock: IKE in UDP and
 * ESP in IP queued with a latency and delivered in time order; the driver's
 * part of routing (spokes route 10.0.0.0/16 via the hub's tunnel address,
 * the NHRP shortcut routes the router's events announce; the hub routes
 * each spoke's LAN to that spoke's tunnel address and forwards what arrives
 * for another spoke back into the tunnel); numbered traffic with exact loss
 * counts. The multipoint companion of router-net.h (two routers), shared by
 * router-mgre-test.c and router-vtemplate-test.c, which give the IOS
 * configurations (mn_conf_text). Header-only (static inline).
 *
 * Node i: NBMA 192.0.2.(i+1), tunnel 172.16.0.(i+1), LAN 10.0.(i+1).0/24;
 * node 0 is the hub. Define MN_EXPECT_VT N before including to check that
 * every tunnel names Virtual-Template N.
 */
#ifndef VPN_TEST_ROUTER_MNET_H
#define VPN_TEST_ROUTER_MNET_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rng.h"
#include "common/vpn-err.h"
#include "conf/conf.h"
#include "engine-params.h"
#include "gre/gre.h"
#include "ipsec/ip.h"
#include "nhrp/nhrp-conf.h"
#include "pkt-build.h"
#include "router/router.h"
#include "test-util.h"

#define MN_NS 1000000000ull
#define MN_MS 1000000ull
#define MN_MAX 4
#define MN_SEQ 20000
#define MN_ROUTES 16
#define MN_BUF (VPN_PKT_HEADROOM + 2048 + VPN_PKT_TAILROOM)

typedef struct mn_msg {
    int from;
    bool udp;
    vpn_ikev2_endpoint src, dst;
    uint8_t data[2048];
    size_t len;
    uint64_t at;
    struct mn_msg *next;
} mn_msg;

typedef struct mn_route {
    vpn_prefix p;
    vpn_addr nh;
} mn_route;

struct mn_net;

typedef struct mn_node {
    struct mn_net *net;
    int idx;
    vpn_conf *conf;
    vpn_router *r;
    vpn_drbg drbg, sad_drbg;
    tu_log_sink log;
    vpn_addr nbma, tun;
    vpn_prefix lan;
    uint32_t tunnel;
    mn_route sc[MN_ROUTES]; /* NHRP routes (H) */
    size_t n_sc;
    mn_msg *fwd;            /* delivered packets to route on (the hub) */
    uint64_t forwarded;
    /* events */
    unsigned sc_installed, sc_removed, redirects_rx, redirects_tx, peer_down, nhs_up, initiated;
    unsigned mcast_routed; /* route callbacks asked about a multicast destination */
    unsigned va_up, va_down; /* Virtual-Access clones made and removed */
    uint32_t last_va;
    uint64_t first_shortcut_at;
    /* traffic: to node tx_to at tx_interval */
    uint64_t tx_interval, tx_next;
    int tx_to;
    uint32_t tx_seq;
    uint64_t sent_at[MN_SEQ];
    uint8_t seen[MN_MAX][MN_SEQ];
    uint32_t rx[MN_MAX];
    unsigned mcast_rx;
    uint64_t drops[VPN_ROUTER_DROP_COUNT];
} mn_node;

typedef struct mn_net {
    mn_node node[MN_MAX];
    int n;
    uint64_t now;
    uint64_t latency;
    mn_msg *q;
    bool down[MN_MAX];      /* powered off: sends and receives nothing */
    unsigned holdtime;
    unsigned nhrp_pkts, gre_key_mismatch;
} mn_net;

static mn_net *g_net;

/* The driver's IOS configuration of node idx (malloc'd; the harness frees
 * it): its tunnel is Tunnel0 (mGRE, or a FlexVPN spoke's), or the FlexVPN
 * hub's Virtual-Template1 when there is no Tunnel0. */
static char *mn_conf_text(int idx, unsigned holdtime, const char *tunnel_extra);

/* ---- the network ------------------------------------------------------------------ */

static inline void mn_enqueue(mn_net *n, mn_msg *m)
{
    mn_msg **pp = &n->q;
    while (*pp && (*pp)->at <= m->at)
        pp = &(*pp)->next;
    m->next = *pp;
    *pp = m;
}

static inline mn_msg *mn_msg_new(mn_net *n, int from, const uint8_t *d, size_t len)
{
    mn_msg *m = calloc(1, sizeof *m);
    assert_non_null(m);
    assert_true(len <= sizeof m->data);
    m->from = from;
    memcpy(m->data, d, len);
    m->len = len;
    m->at = n->now + n->latency;
    return m;
}

static inline void cb_send_udp(void *user, const vpn_ikev2_dgram *d)
{
    mn_node *self = user;
    mn_msg *m;

    if (self->net->down[self->idx])
        return;
    m = mn_msg_new(self->net, self->idx, d->data, d->len);
    m->udp = true;
    m->src = d->local;
    m->dst = d->remote;
    mn_enqueue(self->net, m);
}

static inline bool cb_send_esp(void *user, const vpn_router_esp_out *o)
{
    mn_node *self = user;
    mn_msg *m;

    if (self->net->down[self->idx])
        return true;
    assert_false(o->udp_encap);
    m = mn_msg_new(self->net, self->idx, o->data, o->len);
    m->src.addr = o->src;
    m->dst.addr = o->dst;
    mn_enqueue(self->net, m);
    return true;
}

static inline bool in_prefix(const vpn_prefix *p, const vpn_addr *a)
{
    return vpn_prefix_contains(p, a);
}

/* The node's routing table: its LAN, the NHRP routes, then the summary via
 * the hub (spokes) or each spoke's LAN via its tunnel address (hub). */
static inline int mn_route_lookup(mn_node *nd, const vpn_addr *dst, vpn_nhrp_route *out)
{
    mn_net *n = nd->net;
    const mn_route *best = NULL;

    memset(out, 0, sizeof *out);
    if (in_prefix(&nd->lan, dst)) {
        out->kind = VPN_NHRP_ROUTE_LOCAL;
        out->prefix_len = nd->lan.len;
        return 0;
    }
    for (size_t i = 0; i < nd->n_sc; i++)
        if (in_prefix(&nd->sc[i].p, dst) && (best == NULL || nd->sc[i].p.len > best->p.len))
            best = &nd->sc[i];
    if (best) {
        out->kind = VPN_NHRP_ROUTE_TUNNEL;
        out->next_hop = best->nh;
        out->prefix_len = best->p.len;
        return 0;
    }
    if (nd->idx == 0) {
        for (int i = 1; i < n->n; i++)
            if (in_prefix(&n->node[i].lan, dst)) {
                out->kind = VPN_NHRP_ROUTE_TUNNEL;
                out->next_hop = n->node[i].tun;
                out->prefix_len = 24;
                return 0;
            }
        return VPN_ERR_NOTFOUND;
    }
    out->kind = VPN_NHRP_ROUTE_TUNNEL;
    out->next_hop = n->node[0].tun;
    out->prefix_len = 16;
    return 0;
}

static inline int cb_route(void *user, uint32_t tunnel, const vpn_addr *dst, vpn_nhrp_route *out)
{
    mn_node *self = user;
    assert_int_equal(tunnel, self->tunnel);
    if (dst->family == VPN_AF_INET && dst->b[0] >> 4 == 14)
        self->mcast_routed++;
    return mn_route_lookup(self, dst, out);
}

static inline bool cb_deliver(void *user, uint32_t tunnel, const uint8_t *data, size_t len)
{
    mn_node *self = user;
    vpn_ip_info ip;
    vpn_addr dst;
    uint32_t seq;
    int from;

    assert_int_equal(tunnel, self->tunnel);
    assert_int_equal(vpn_ip_parse(data, len, &ip), 0);
    assert_int_equal(vpn_addr_from_bytes(&dst, data + 16, 4), 0);
    if (data[16] >> 4 == 14) {
        self->mcast_rx++;
        return true;
    }
    if (!in_prefix(&self->lan, &dst)) {
        /* routed on (the hub): after this call, as a router would */
        mn_msg *m = mn_msg_new(self->net, self->idx, data, len);
        m->at = self->net->now;
        m->next = self->fwd;
        self->fwd = m;
        return true;
    }
    assert_true(len >= ip.hdr_len + 8 + 5);
    seq = (uint32_t)data[ip.hdr_len + 8] << 24 | (uint32_t)data[ip.hdr_len + 9] << 16 |
          (uint32_t)data[ip.hdr_len + 10] << 8 | data[ip.hdr_len + 11];
    from = data[ip.hdr_len + 12];
    assert_true(seq < MN_SEQ && from < MN_MAX);
    self->seen[from][seq] = 1;
    self->rx[from]++;
    return true;
}

static inline void route_set(mn_node *nd, const vpn_prefix *p, const vpn_addr *nh)
{
    for (size_t i = 0; i < nd->n_sc; i++)
        if (nd->sc[i].p.len == p->len && vpn_addr_eq(&nd->sc[i].p.addr, &p->addr)) {
            nd->sc[i].nh = *nh;
            return;
        }
    assert_true(nd->n_sc < MN_ROUTES);
    nd->sc[nd->n_sc].p = *p;
    nd->sc[nd->n_sc].nh = *nh;
    nd->n_sc++;
}

static inline void route_del(mn_node *nd, const vpn_prefix *p)
{
    for (size_t i = 0; i < nd->n_sc; i++)
        if (nd->sc[i].p.len == p->len && vpn_addr_eq(&nd->sc[i].p.addr, &p->addr)) {
            nd->sc[i] = nd->sc[--nd->n_sc];
            return;
        }
}

static inline void cb_event(void *user, const vpn_router_event *ev)
{
    mn_node *self = user;

    switch (ev->type) {
    case VPN_ROUTER_EV_DROP:
        self->drops[ev->drop]++;
        break;
    case VPN_ROUTER_EV_INITIATED:
        self->initiated++;
        break;
    case VPN_ROUTER_EV_PEER_DOWN:
        self->peer_down++;
        break;
    case VPN_ROUTER_EV_VA_UP:
        assert_true(ev->va > 0);
        self->va_up++;
        self->last_va = ev->va;
        break;
    case VPN_ROUTER_EV_VA_DOWN:
        assert_true(ev->va > 0);
        self->va_down++;
        self->last_va = ev->va;
        break;
    case VPN_ROUTER_EV_NHRP:
        assert_non_null(ev->nhrp);
        switch (ev->nhrp->type) {
        case VPN_NHRP_EV_SHORTCUT_INSTALLED:
            /* the driver's route "H": prefix via the responder into Tunnel0 */
            route_set(self, &ev->nhrp->proto, &ev->nhrp->next_hop);
            self->sc_installed++;
            if (self->first_shortcut_at == 0)
                self->first_shortcut_at = self->net->now;
            break;
        case VPN_NHRP_EV_SHORTCUT_REMOVED:
            route_del(self, &ev->nhrp->proto);
            self->sc_removed++;
            break;
        case VPN_NHRP_EV_REDIRECT_RECEIVED: self->redirects_rx++; break;
        case VPN_NHRP_EV_REDIRECT_SENT: self->redirects_tx++; break;
        case VPN_NHRP_EV_NHS_UP: self->nhs_up++; break;
        default: break;
        }
        break;
    default:
        break;
    }
    if (getenv("VPN_TEST_LOG"))
        fprintf(stderr, "  %.3f node %d ev %d nhrp %d\n", (double)self->net->now / MN_NS, self->idx, ev->type,
                ev->nhrp ? (int)ev->nhrp->type : 0);
}

static inline mn_node *node_at(mn_net *n, const vpn_addr *a)
{
    for (int i = 0; i < n->n; i++)
        if (vpn_addr_eq(&n->node[i].nbma, a))
            return &n->node[i];
    return NULL;
}

static inline void mn_deliver(mn_net *n, mn_msg *m)
{
    static uint8_t buf[MN_BUF];
    mn_node *to = node_at(n, &m->dst.addr);
    vpn_pkt pkt;

    if (to == NULL || n->down[to->idx] || to->r == NULL)
        return;
    vpn_pkt_init(&pkt, buf, sizeof buf, VPN_PKT_HEADROOM);
    memcpy(vpn_pkt_put(&pkt, m->len), m->data, m->len);
    if (m->udp)
        vpn_router_udp_input(to->r, n->now, &m->dst, &m->src, &pkt);
    else
        vpn_router_ip_input(to->r, n->now, &pkt);
}

/* ---- nodes ---------------------------------------------------------------------- */

/* (Re)starts node idx: a fresh router from its configuration. */
static inline void mn_boot(mn_net *n, int idx)
{
    mn_node *nd = &n->node[idx];
    vpn_router_params p;
    vpn_router_tunnel_config tc;
    vpn_nhrp_conf_params np;
    vpn_conf_error err;
    char name[16], a[48];
    char *text;
    const vpn_conf_interface *f;
    const char *ifname;

    if (nd->r) {
        vpn_router_del(nd->r);
        vpn_conf_del(nd->conf);
        vpn_drbg_free(&nd->drbg);
        vpn_drbg_free(&nd->sad_drbg);
        nd->r = NULL;
        nd->n_sc = 0;
    }
    nd->net = n;
    nd->idx = idx;
    snprintf(a, sizeof a, "192.0.2.%d", idx + 1);
    nd->nbma = tu_addr(a);
    snprintf(a, sizeof a, "172.16.0.%d", idx + 1);
    nd->tun = tu_addr(a);
    snprintf(a, sizeof a, "10.0.%d.0/24", idx + 1);
    assert_int_equal(vpn_prefix_parse(&nd->lan, a), 0);
    text = mn_conf_text(idx, n->holdtime, NULL);
    if (vpn_conf_parse(text, strlen(text), &nd->conf, &err) != 0)
        fail_msg("config line %d: %s", err.line, err.msg);
    free(text);
    /* a DMVPN router's or a FlexVPN spoke's Tunnel0, else the FlexVPN hub's template */
    ifname = vpn_conf_find_interface(nd->conf, "Tunnel0") ? "Tunnel0" : "Virtual-Template1";
    if (vpn_nhrp_params_from_conf(nd->conf, ifname, &np, &err) != 0)
        fail_msg("nhrp config line %d: %s", err.line, err.msg);
    f = vpn_conf_find_interface(nd->conf, ifname);
    snprintf(name, sizeof name, "R%d", idx + 1);
    /* a rebooted node draws other numbers (new SPIs, nonces) */
    snprintf(a, sizeof a, "%s-%llu", name, (unsigned long long)n->now);
    assert_int_equal(vpn_drbg_init(&nd->drbg, a, strlen(a)), 0);
    assert_int_equal(vpn_drbg_init(&nd->sad_drbg, a, strlen(a) - 1), 0);
    tu_router_params(&p, nd->conf, &nd->drbg, &nd->sad_drbg, &nd->log, name, nd);
    p.send_udp = cb_send_udp;
    p.send_esp = cb_send_esp;
    p.deliver = cb_deliver;
    p.event = cb_event;
    p.route = cb_route;
    assert_int_equal(vpn_router_new(&nd->r, &p), 0);
    memset(&tc, 0, sizeof tc);
    tc.name = ifname;
    tc.mode = VPN_ROUTER_TUNNEL_MGRE;
    tc.src = nd->nbma;
    if (f->has_tunnel_destination) /* a FlexVPN spoke's: its multicast goes there */
        tc.dst = f->tunnel_destination;
    tc.has_key = f->has_tunnel_key;
    tc.key = f->tunnel_key;
    tc.ipsec_profile = "IPP";
    tc.initiate = true;
    tc.nhrp = &np.p;
    tc.virtual_template = f->is_virtual_template ? f->vt_number : f->nhrp.shortcut_vt;
#ifdef MN_EXPECT_VT
    assert_int_equal(tc.virtual_template, MN_EXPECT_VT);
#endif
    assert_int_equal(vpn_router_tunnel_add(nd->r, &tc, &nd->tunnel), 0);
    assert_int_equal(vpn_router_start(nd->r, n->now), 0);
}

static inline void mn_init(mn_net *n, int nodes, unsigned holdtime)
{
    memset(n, 0, sizeof *n);
    n->n = nodes;
    n->now = 1000 * MN_NS;
    n->latency = 5 * MN_MS;
    n->holdtime = holdtime;
    for (int i = 0; i < nodes; i++)
        mn_boot(n, i);
}

static inline void mn_free(mn_net *n)
{
    while (n->q) {
        mn_msg *m = n->q;
        n->q = m->next;
        free(m);
    }
    for (int i = 0; i < n->n; i++) {
        mn_node *nd = &n->node[i];
        while (nd->fwd) {
            mn_msg *m = nd->fwd;
            nd->fwd = m->next;
            free(m);
        }
        vpn_router_del(nd->r);
        vpn_conf_del(nd->conf);
        vpn_drbg_free(&nd->drbg);
        vpn_drbg_free(&nd->sad_drbg);
    }
}

/* Routes an inner packet the way the driver does: the routing table's next
 * hop, into the mGRE tunnel. */
static inline vpn_router_drop mn_route_out(mn_node *nd, const uint8_t *data, size_t len)
{
    static uint8_t buf[MN_BUF];
    vpn_nhrp_route rt;
    vpn_addr dst;
    vpn_pkt pkt;

    assert_int_equal(vpn_addr_from_bytes(&dst, data + 16, 4), 0);
    if (mn_route_lookup(nd, &dst, &rt) != 0 || rt.kind != VPN_NHRP_ROUTE_TUNNEL)
        return VPN_ROUTER_DROP_NO_NBMA;
    vpn_pkt_init(&pkt, buf, sizeof buf, VPN_PKT_HEADROOM);
    memcpy(vpn_pkt_put(&pkt, len), data, len);
    return vpn_router_mgre_output(nd->r, nd->net->now, nd->tunnel, &rt.next_hop, &pkt);
}

static inline vpn_router_drop mn_send(mn_node *nd, int to)
{
    uint8_t pkt[256], payload[32];
    vpn_addr s, d;
    char a[32];
    uint32_t seq = nd->tx_seq++;
    size_t len;

    assert_true(seq < MN_SEQ);
    memset(payload, 0, sizeof payload);
    payload[0] = (uint8_t)(seq >> 24);
    payload[1] = (uint8_t)(seq >> 16);
    payload[2] = (uint8_t)(seq >> 8);
    payload[3] = (uint8_t)seq;
    payload[4] = (uint8_t)nd->idx;
    snprintf(a, sizeof a, "10.0.%d.1", nd->idx + 1);
    s = tu_addr(a);
    snprintf(a, sizeof a, "10.0.%d.1", to + 1);
    d = tu_addr(a);
    len = tu_build_udp(pkt, sizeof pkt, &s, &d, 16384, 16384, 0xb8, payload, sizeof payload);
    nd->sent_at[seq] = nd->net->now;
    return mn_route_out(nd, pkt, len);
}

static inline void mn_traffic(mn_node *nd, int to, unsigned pps)
{
    nd->tx_to = to;
    nd->tx_interval = pps ? MN_NS / pps : 0;
    nd->tx_next = nd->net->now;
}

static inline void mn_run_until(mn_net *n, uint64_t until)
{
    for (long guard = 0;; guard++) {
        uint64_t t = n->q ? n->q->at : UINT64_MAX;
        assert_true(guard < 10000000);
        for (int i = 0; i < n->n; i++) {
            mn_node *nd = &n->node[i];
            uint64_t d;
            if (nd->r == NULL || n->down[i])
                continue;
            d = vpn_router_next_deadline(nd->r);
            if (d < t)
                t = d;
            if (nd->tx_interval && nd->tx_next < t)
                t = nd->tx_next;
        }
        if (t > until)
            break;
        if (t > n->now)
            n->now = t;
        while (n->q && n->q->at <= n->now) {
            mn_msg *m = n->q;
            n->q = m->next;
            mn_deliver(n, m);
            free(m);
        }
        for (int i = 0; i < n->n; i++) {
            mn_node *nd = &n->node[i];
            if (nd->r == NULL || n->down[i])
                continue;
            while (nd->fwd) {
                mn_msg *m = nd->fwd;
                nd->fwd = m->next;
                if (mn_route_out(nd, m->data, m->len) == VPN_ROUTER_DROP_NONE)
                    nd->forwarded++;
                free(m);
            }
            if (vpn_router_next_deadline(nd->r) <= n->now)
                vpn_router_timeout(nd->r, n->now);
            if (nd->tx_interval && nd->tx_next <= n->now) {
                mn_send(nd, nd->tx_to);
                nd->tx_next = n->now + nd->tx_interval;
            }
        }
    }
    if (until > n->now)
        n->now = until;
}

static inline void mn_run_for(mn_net *n, double secs)
{
    mn_run_until(n, n->now + (uint64_t)(secs * (double)MN_NS));
}

/* Packets from `from` that `to` never got, of those sent since `since` and
 * long enough ago to have arrived. */
static inline uint32_t mn_lost(const mn_node *from, const mn_node *to, uint64_t since)
{
    uint32_t lost = 0;
    for (uint32_t s = 0; s < from->tx_seq; s++)
        lost += from->sent_at[s] >= since && from->sent_at[s] + 10 * from->net->latency <= from->net->now &&
                !to->seen[from->idx][s];
    return lost;
}

static inline vpn_addr addr_of(const char *s)
{
    return tu_addr(s);
}

static inline bool peer_up(const mn_node *nd, const char *nbma, vpn_router_peer_info *pi)
{
    vpn_router_peer_info tmp;
    vpn_addr a = addr_of(nbma);
    if (pi == NULL)
        pi = &tmp;
    return vpn_router_mgre_peer_get(nd->r, nd->tunnel, &a, pi) == 0 && pi->out_child != 0;
}

typedef struct mn_count {
    vpn_nhrp_entry_type type;
    size_t n;
} mn_count;

static inline void count_entry(void *user, const vpn_nhrp_entry_info *e)
{
    mn_count *c = user;
    c->n += e->type == c->type;
}

static inline size_t entries_of(const mn_node *nd, vpn_nhrp_entry_type type)
{
    mn_count c = {type, 0};
    vpn_nhrp_foreach(vpn_router_nhrp(nd->r, nd->tunnel), count_entry, &c);
    return c.n;
}

static inline size_t ike_sas(const mn_node *nd)
{
    size_t n = 0;
    const vpn_ikev2_ctx *ike = vpn_router_ikev2(nd->r);
    for (size_t i = 0; i < vpn_ikev2_sa_count(ike); i++) {
        vpn_ikev2_sa_info info;
        n += vpn_ikev2_sa_get(ike, i, &info) == 0 && info.state == VPN_IKEV2_SA_ESTABLISHED;
    }
    return n;
}

#endif
