/*
 * NHRP engine: a hub and three spokes in memory with a counter clock
 * (DMVPN phase 3): registration and refresh, expiry, resolution, a
 * redirect leading to shortcuts on both spokes, purge, a spoke rebooting
 * with a new NBMA address, unique conflicts, forged and hostile packets,
 * and 10,000 spokes on one hub with lookups that stay cheap.
 *
 * With VPN_NHRP_PCAP=FILE every NHRP packet the engines send is written
 * there in GRE (0x2001) in IPv4 (test/scripts/nhrp-wireshark.sh).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "common/wire.h"
#include "nhrp/nhrp.h"
#include "pcap-writer.h"
#include "pkt-build.h"
#include "show/show-nhrp.h"
#include "test-util.h"

#define S(x) ((uint64_t)(x) * 1000000000ull)
#define NODES 4 /* 0 = hub, 1..3 = spokes */
#define QMAX 256
#define EVMAX 256
#define NETID 100

typedef struct qpkt {
    vpn_addr from, to;
    uint8_t data[VPN_NHRP_MAX_PKT];
    size_t len;
} qpkt;

typedef struct node {
    vpn_nhrp *n;
    vpn_addr nbma, proto;
    vpn_prefix lan;
    vpn_nhrp_event ev[EVMAX];
    size_t n_ev;
    bool deaf; /* drops what it is sent */
} node;

typedef struct net {
    node nodes[NODES + 1]; /* one spare for an impostor */
    size_t n_nodes;
    qpkt *q;
    size_t qlen;
    uint64_t now;
    tu_pcap *pcap;
    uint16_t ip_id;
    unsigned sent_by_type[VPN_NHRP_TYPE_MAX + 1];
    tu_log_sink log;
} net;

/* One counter of an engine, by copy (the contract's getter). */
static vpn_nhrp_stats nhrp_stat(const vpn_nhrp *n)
{
    vpn_nhrp_stats st;
    vpn_nhrp_stats_get(n, &st);
    return st;
}

static net *g; /* the send callback's user is the node; this finds the net */
static tu_pcap *g_pcap; /* VPN_NHRP_PCAP: one file for the whole run */

static void on_send(void *user, const vpn_addr *dst, const uint8_t *pkt, size_t len)
{
    node *nd = user;
    assert_true(g->qlen < QMAX);
    assert_true(len <= VPN_NHRP_MAX_PKT);
    qpkt *q = &g->q[g->qlen++];
    q->from = nd->nbma;
    q->to = *dst;
    memcpy(q->data, pkt, len);
    q->len = len;
    g->sent_by_type[pkt[17]]++;
    if (g->pcap) {
        /* IPv4 (protocol 47) + GRE (RFC 2784, key 1 as `tunnel key 1`) + NHRP. */
        uint8_t frame[VPN_NHRP_MAX_PKT + 32];
        size_t total = 20 + 8 + len;
        memset(frame, 0, 28);
        frame[0] = 0x45;
        vpn_store16(frame + 2, (uint16_t)total);
        vpn_store16(frame + 4, ++g->ip_id);
        frame[8] = 255;
        frame[9] = 47;
        memcpy(frame + 12, nd->nbma.b, 4);
        memcpy(frame + 16, dst->b, 4);
        vpn_store16(frame + 10, vpn_nhrp_checksum(frame, 20));
        frame[20] = 0x20; /* K */
        vpn_store16(frame + 22, 0x2001);
        vpn_store32(frame + 24, 1);
        memcpy(frame + 28, pkt, len);
        tu_pcap_write(g->pcap, g->now, frame, total);
    }
}

static void on_event(void *user, const vpn_nhrp_event *ev)
{
    node *nd = user;
    if (nd->n_ev < EVMAX)
        nd->ev[nd->n_ev++] = *ev;
}

static int on_route(void *user, const vpn_addr *dst, vpn_nhrp_route *out)
{
    node *nd = user;
    vpn_prefix tun = {tu_addr("10.0.0.0"), 24};
    memset(out, 0, sizeof *out);
    if (vpn_prefix_contains(&nd->lan, dst)) {
        out->kind = VPN_NHRP_ROUTE_LOCAL;
        out->prefix_len = nd->lan.len;
        return 0;
    }
    out->kind = VPN_NHRP_ROUTE_TUNNEL;
    out->prefix_len = 24;
    if (vpn_prefix_contains(&tun, dst)) {
        out->next_hop = *dst;
    } else if (vpn_addr_eq(&nd->proto, &g->nodes[0].proto)) {
        /* The hub: 192.168.K.0/24 via spoke K's tunnel address. */
        char a[32];
        snprintf(a, sizeof a, "10.0.0.%u", dst->b[2]);
        out->next_hop = tu_addr(a);
    } else {
        out->next_hop = g->nodes[0].proto; /* spokes: everything via the hub */
    }
    return 0;
}

typedef struct opts {
    const char *auth;
    bool no_unique;
    const char *nbma; /* override */
} opts;

static void node_start(net *nt, size_t i, const opts *o)
{
    node *nd = &nt->nodes[i];
    char a[32];
    vpn_nhrp_nhs_cfg nhs = {tu_addr("10.0.0.254"), tu_addr("172.16.0.1"), true};
    vpn_nhrp_params p;
    memset(&p, 0, sizeof p);
    if (i == 0) {
        nd->nbma = tu_addr("172.16.0.1");
        nd->proto = tu_addr("10.0.0.254");
        nd->lan.addr = tu_addr("192.168.0.0");
    } else {
        snprintf(a, sizeof a, "172.16.%zu.1", i);
        nd->nbma = tu_addr(o && o->nbma ? o->nbma : a);
        snprintf(a, sizeof a, "10.0.0.%zu", i);
        nd->proto = tu_addr(a);
        snprintf(a, sizeof a, "192.168.%zu.0", i);
        nd->lan.addr = tu_addr(a);
        p.nhs = &nhs;
        p.n_nhs = 1;
        p.shortcut = true;
    }
    nd->lan.len = 24;
    p.nbma = nd->nbma;
    p.proto = nd->proto;
    p.proto_prefix_len = 24;
    p.network_id = NETID;
    p.auth = o ? o->auth : NULL;
    p.reg_no_unique = o && o->no_unique;
    p.nhs_role = i == 0;
    p.redirect = true;
    p.mcast_dynamic = i == 0;
    p.send = on_send;
    p.event = on_event;
    p.route = on_route;
    p.user = nd;
    tu_log_attach(&p.log, &nt->log);
    assert_int_equal(vpn_nhrp_new(&nd->n, &p), 0);
}

/* Delivers queued packets until the network is quiet. */
static void pump(net *nt)
{
    size_t rounds = 0;
    while (nt->qlen) {
        qpkt *batch = malloc(sizeof(qpkt) * nt->qlen);
        size_t k = nt->qlen;
        memcpy(batch, nt->q, sizeof(qpkt) * k);
        nt->qlen = 0;
        for (size_t i = 0; i < k; i++)
            for (size_t j = 0; j < nt->n_nodes; j++) {
                node *nd = &nt->nodes[j];
                if (nd->n && !nd->deaf && vpn_addr_eq(&nd->nbma, &batch[i].to))
                    vpn_nhrp_input(nd->n, nt->now, NETID, &batch[i].from, batch[i].data,
                                   batch[i].len);
            }
        free(batch);
        assert_true(++rounds < 50);
    }
}

/* Runs every engine's timers up to t (each deadline in order). */
static void run_until(net *nt, uint64_t t)
{
    for (;;) {
        uint64_t next = UINT64_MAX;
        for (size_t j = 0; j < nt->n_nodes; j++)
            if (nt->nodes[j].n) {
                uint64_t d = vpn_nhrp_next_deadline(nt->nodes[j].n);
                if (d < next)
                    next = d;
            }
        if (next > t)
            break;
        if (next > nt->now)
            nt->now = next;
        for (size_t j = 0; j < nt->n_nodes; j++)
            if (nt->nodes[j].n && vpn_nhrp_next_deadline(nt->nodes[j].n) <= nt->now)
                vpn_nhrp_timeout(nt->nodes[j].n, nt->now);
        pump(nt);
    }
    nt->now = t;
}

static int setup_opts(void **state, const opts *o)
{
    net *nt = calloc(1, sizeof *nt);
    nt->q = calloc(QMAX, sizeof(qpkt));
    nt->n_nodes = NODES;
    g = nt;
    nt->pcap = g_pcap;
    for (size_t i = 0; i < NODES; i++)
        node_start(nt, i, o);
    *state = nt;
    return 0;
}

static int setup(void **state) { return setup_opts(state, NULL); }

static int setup_auth(void **state)
{
    static const opts o = {"s3cret", false, NULL};
    return setup_opts(state, &o);
}

static int teardown(void **state)
{
    net *nt = *state;
    for (size_t i = 0; i < NODES + 1; i++)
        vpn_nhrp_del(nt->nodes[i].n);
    free(nt->q);
    free(nt);
    return 0;
}

static size_t count_ev(const node *nd, vpn_nhrp_event_type t)
{
    size_t k = 0;
    for (size_t i = 0; i < nd->n_ev; i++)
        k += nd->ev[i].type == t;
    return k;
}

static const vpn_nhrp_event *last_ev(const node *nd, vpn_nhrp_event_type t)
{
    for (size_t i = nd->n_ev; i-- > 0;)
        if (nd->ev[i].type == t)
            return &nd->ev[i];
    return NULL;
}

static void expect_entry(net *nt, size_t at, const char *dst, vpn_nhrp_entry_type type,
                         const char *nbma)
{
    vpn_nhrp_entry_info e;
    vpn_addr d = tu_addr(dst), want = tu_addr(nbma);
    assert_int_equal(vpn_nhrp_lookup(nt->nodes[at].n, &d, &e), 0);
    assert_int_equal(e.type, type);
    assert_true(vpn_addr_eq(&e.nbma, &want));
}

/* A data packet from host src to host dst, as the hub forwards it. */
static size_t data_pkt(uint8_t *buf, const char *src, const char *dst)
{
    vpn_addr s = tu_addr(src), d = tu_addr(dst);
    uint8_t pl[32];
    tu_fill(pl, sizeof pl, 7);
    return tu_build_udp(buf, 128, &s, &d, 1000, 2000, 0, pl, sizeof pl);
}

static void register_all(net *nt)
{
    run_until(nt, nt->now);
    for (size_t i = 1; i < NODES; i++)
        assert_int_equal(count_ev(&nt->nodes[i], VPN_NHRP_EV_NHS_UP), 1);
    assert_int_equal(vpn_nhrp_entry_count(nt->nodes[0].n), 3);
}

/* Phase 3: spoke `from` sends to a host behind spoke `to` through the hub. */
static void redirect(net *nt, size_t from, size_t to)
{
    uint8_t pkt[128];
    char s[32], d[32];
    snprintf(s, sizeof s, "192.168.%zu.10", from);
    snprintf(d, sizeof d, "192.168.%zu.10", to);
    size_t len = data_pkt(pkt, s, d);
    assert_int_equal(vpn_nhrp_forwarded(nt->nodes[0].n, nt->now, &nt->nodes[from].nbma, NETID,
                                        NETID, pkt, len),
                     0);
    pump(nt);
}

/* ---- tests ---------------------------------------------------------------------- */

static void test_registration_and_refresh(void **state)
{
    net *nt = *state;
    nt->now = S(10);
    register_all(nt);
    expect_entry(nt, 0, "10.0.0.2", VPN_NHRP_ENTRY_DYNAMIC, "172.16.2.1");
    vpn_nhrp_entry_info e;
    vpn_addr a = tu_addr("10.0.0.1");
    assert_int_equal(vpn_nhrp_lookup(nt->nodes[0].n, &a, &e), 0);
    assert_int_equal(e.expires, S(10) + S(7200));
    assert_true(e.unique);
    /* IOS: refresh at one third of the holding time. */
    assert_int_equal(vpn_nhrp_next_deadline(nt->nodes[1].n), S(10) + S(2400));
    unsigned before = nt->sent_by_type[VPN_NHRP_REG_REQ];
    run_until(nt, S(10) + S(2400));
    assert_int_equal(nt->sent_by_type[VPN_NHRP_REG_REQ], before + 3);
    assert_int_equal(vpn_nhrp_lookup(nt->nodes[0].n, &a, &e), 0);
    assert_int_equal(e.expires, S(2410) + S(7200));
    assert_int_equal(nhrp_stat(nt->nodes[0].n).reg_accepted, 6);
    /* A refresh is not a change: one ADDED per spoke, no UPDATED. */
    assert_int_equal(count_ev(&nt->nodes[0], VPN_NHRP_EV_ENTRY_ADDED), 3);
    assert_int_equal(count_ev(&nt->nodes[0], VPN_NHRP_EV_ENTRY_UPDATED), 0);
    /* The hub's multicast goes to every registered spoke (map multicast dynamic). */
    vpn_addr mc[8];
    assert_int_equal(vpn_nhrp_multicast_nbma(nt->nodes[0].n, mc, 8), 3);
    /* A spoke's goes to its NHS (`ip nhrp nhs ... multicast`). */
    assert_int_equal(vpn_nhrp_multicast_nbma(nt->nodes[1].n, mc, 8), 1);
    vpn_addr hub = tu_addr("172.16.0.1");
    assert_true(vpn_addr_eq(&mc[0], &hub));
}

/* A registered spoke resolving the hub's own address (a phase 3 spoke told
 * by a redirect to resolve what was sent to the hub itself): the hub answers
 * as the egress but keeps the spoke's registration as it is (dynamic, its
 * expiry, in the multicast list). Before, the requester's mapping replaced
 * it with a cached entry and the hub's routing updates stopped reaching the
 * spoke (issue 14: RIP over DMVPN flapping). */
static void test_resolution_keeps_registration(void **state)
{
    net *nt = *state;
    nt->now = S(10);
    register_all(nt);
    vpn_addr s1 = tu_addr("10.0.0.1"), hub = tu_addr("10.0.0.254");
    vpn_nhrp_entry_info before, after;
    assert_int_equal(vpn_nhrp_lookup(nt->nodes[0].n, &s1, &before), 0);
    nt->now = S(20);
    uint64_t answered = nhrp_stat(nt->nodes[0].n).resolutions_answered;
    assert_int_equal(vpn_nhrp_resolve(nt->nodes[1].n, nt->now, &hub), 0);
    pump(nt);
    assert_int_equal(nhrp_stat(nt->nodes[0].n).resolutions_answered, answered + 1);
    expect_entry(nt, 0, "10.0.0.1", VPN_NHRP_ENTRY_DYNAMIC, "172.16.1.1");
    assert_int_equal(vpn_nhrp_lookup(nt->nodes[0].n, &s1, &after), 0);
    assert_int_equal(after.expires, before.expires);
    assert_int_equal(after.created, before.created);
    assert_int_equal(count_ev(&nt->nodes[0], VPN_NHRP_EV_ENTRY_UPDATED), 0);
    vpn_addr mc[8];
    assert_int_equal(vpn_nhrp_multicast_nbma(nt->nodes[0].n, mc, 8), 3);
    /* a requester that is not registered is still cached (RFC 2332 5.2.1) */
    vpn_nhrp_msg m;
    uint8_t buf[256];
    size_t len;
    memset(&m, 0, sizeof m);
    m.type = VPN_NHRP_RES_REQ;
    m.hopcnt = 255;
    m.src_nbma = tu_addr("172.16.9.1");
    m.src_proto = tu_addr("10.0.0.9");
    m.dst_proto = hub;
    m.req_id = 77;
    assert_int_equal(vpn_nhrp_encode(&m, buf, sizeof buf, &len), 0);
    assert_int_equal(vpn_nhrp_input(nt->nodes[0].n, nt->now, NETID, &m.src_nbma, buf, len), 0);
    nt->qlen = 0;
    expect_entry(nt, 0, "10.0.0.9", VPN_NHRP_ENTRY_CACHED, "172.16.9.1");
    assert_int_equal(vpn_nhrp_multicast_nbma(nt->nodes[0].n, mc, 8), 3);
}

static void test_expiry_and_nhs_down(void **state)
{
    net *nt = *state;
    register_all(nt);
    /* Spoke 3 dies: no more refreshes. */
    vpn_nhrp_del(nt->nodes[3].n);
    nt->nodes[3].n = NULL;
    run_until(nt, S(7199));
    assert_int_equal(vpn_nhrp_entry_count(nt->nodes[0].n), 3);
    run_until(nt, S(7201));
    assert_int_equal(vpn_nhrp_entry_count(nt->nodes[0].n), 2);
    const vpn_nhrp_event *ev = last_ev(&nt->nodes[0], VPN_NHRP_EV_ENTRY_EXPIRED);
    assert_non_null(ev);
    vpn_addr a3 = tu_addr("10.0.0.3");
    assert_true(vpn_addr_eq(&ev->proto.addr, &a3));
    assert_int_equal(nhrp_stat(nt->nodes[0].n).expired, 1);
    /* The hub goes deaf: spoke 1 reports its NHS down after three sends. */
    nt->nodes[0].deaf = true;
    run_until(nt, S(7201) + S(2400));
    assert_int_equal(count_ev(&nt->nodes[1], VPN_NHRP_EV_NHS_DOWN), 0);
    run_until(nt, S(7201) + S(2400) + S(8));
    assert_int_equal(count_ev(&nt->nodes[1], VPN_NHRP_EV_NHS_DOWN), 1);
    vpn_nhrp_nhs_info ni;
    assert_int_equal(vpn_nhrp_nhs_get(nt->nodes[1].n, 0, &ni), 0);
    assert_false(ni.up);
    /* It comes back: up again at the next retry. */
    nt->nodes[0].deaf = false;
    run_until(nt, S(7201) + S(2400) + S(200));
    assert_int_equal(count_ev(&nt->nodes[1], VPN_NHRP_EV_NHS_UP), 2);
}

static void test_phase3_shortcuts_both_ways(void **state)
{
    net *nt = *state;
    register_all(nt);
    /* spoke1 -> spoke2 through the hub: Traffic Indication, Resolution
     * Request via the hub, Reply from spoke2 directly. */
    unsigned fwd0 = nt->sent_by_type[VPN_NHRP_RES_REQ];
    redirect(nt, 1, 2);
    assert_int_equal(count_ev(&nt->nodes[0], VPN_NHRP_EV_REDIRECT_SENT), 1);
    assert_int_equal(count_ev(&nt->nodes[1], VPN_NHRP_EV_REDIRECT_RECEIVED), 1);
    assert_int_equal(nt->sent_by_type[VPN_NHRP_RES_REQ], fwd0 + 2); /* spoke1, hub's forward */
    assert_int_equal(nhrp_stat(nt->nodes[0].n).resolutions_forwarded, 1);
    assert_int_equal(nhrp_stat(nt->nodes[2].n).resolutions_answered, 1);
    const vpn_nhrp_event *ev = last_ev(&nt->nodes[1], VPN_NHRP_EV_SHORTCUT_INSTALLED);
    assert_non_null(ev);
    vpn_addr lan2 = tu_addr("192.168.2.0"), t2 = tu_addr("10.0.0.2"), n2 = tu_addr("172.16.2.1");
    assert_true(vpn_addr_eq(&ev->proto.addr, &lan2));
    assert_int_equal(ev->proto.len, 24);
    assert_true(vpn_addr_eq(&ev->next_hop, &t2));
    assert_true(vpn_addr_eq(&ev->nbma, &n2));
    expect_entry(nt, 1, "192.168.2.77", VPN_NHRP_ENTRY_SHORTCUT, "172.16.2.1");
    expect_entry(nt, 1, "10.0.0.2", VPN_NHRP_ENTRY_CACHED, "172.16.2.1");
    /* spoke2 learnt spoke1 (to bring up IPsec towards it). */
    expect_entry(nt, 2, "10.0.0.1", VPN_NHRP_ENTRY_CACHED, "172.16.1.1");
    /* The redirect is rate-limited per (source, destination). */
    uint8_t pkt[128];
    size_t len = data_pkt(pkt, "192.168.1.10", "192.168.2.10");
    assert_int_equal(vpn_nhrp_forwarded(nt->nodes[0].n, nt->now + S(7), &nt->nodes[1].nbma, NETID,
                                        NETID, pkt, len),
                     VPN_ERR_LIMIT);
    /* Not between networks, and not when `ip nhrp redirect` is off. */
    assert_int_equal(vpn_nhrp_forwarded(nt->nodes[0].n, nt->now, &nt->nodes[1].nbma, NETID,
                                        NETID + 1, pkt, len),
                     VPN_ERR_STATE);
    /* The way back: spoke2 -> spoke1 gives spoke2 its shortcut. */
    redirect(nt, 2, 1);
    expect_entry(nt, 2, "192.168.1.200", VPN_NHRP_ENTRY_SHORTCUT, "172.16.1.1");
    assert_int_equal(count_ev(&nt->nodes[2], VPN_NHRP_EV_SHORTCUT_INSTALLED), 1);
    /* A second redirect for a destination with a shortcut asks nothing. */
    unsigned rq = nt->sent_by_type[VPN_NHRP_RES_REQ];
    nt->now += S(9);
    redirect(nt, 1, 2);
    assert_int_equal(nt->sent_by_type[VPN_NHRP_RES_REQ], rq);
    /* Shortcuts expire with their holding time. */
    run_until(nt, nt->now + S(7200));
    assert_int_equal(vpn_nhrp_lookup(nt->nodes[1].n, &lan2, NULL), VPN_ERR_NOTFOUND);
    assert_true(count_ev(&nt->nodes[1], VPN_NHRP_EV_SHORTCUT_REMOVED) >= 1);
}

static void test_resolution_failures(void **state)
{
    net *nt = *state;
    register_all(nt);
    /* No spoke owns 192.168.9.0/24: the hub answers with code 12. */
    vpn_addr d = tu_addr("192.168.9.1");
    assert_int_equal(vpn_nhrp_resolve(nt->nodes[1].n, nt->now, &d), 0);
    assert_int_equal(vpn_nhrp_resolve(nt->nodes[1].n, nt->now, &d), VPN_ERR_EXISTS);
    pump(nt);
    const vpn_nhrp_event *ev = last_ev(&nt->nodes[1], VPN_NHRP_EV_RESOLUTION_FAILED);
    assert_non_null(ev);
    assert_int_equal(ev->code, VPN_NHRP_CIE_NO_BINDING);
    /* No answer at all: three sends, then failed. */
    nt->nodes[0].deaf = true;
    d = tu_addr("192.168.3.1");
    assert_int_equal(vpn_nhrp_resolve(nt->nodes[1].n, nt->now, &d), 0);
    run_until(nt, nt->now + S(10));
    ev = last_ev(&nt->nodes[1], VPN_NHRP_EV_RESOLUTION_FAILED);
    assert_int_equal(ev->code, 0);
    assert_int_equal(count_ev(&nt->nodes[1], VPN_NHRP_EV_RESOLUTION_FAILED), 2);
}

static void test_purge_and_reboot_with_new_nbma(void **state)
{
    static const opts nu = {NULL, true, NULL};
    static const opts moved = {NULL, true, "172.16.33.1"};
    net *nt = *state;
    /* spoke3 registers non-unique (`ip nhrp registration no-unique`, a DHCP spoke). */
    vpn_nhrp_del(nt->nodes[3].n);
    nt->nodes[3].n_ev = 0;
    node_start(nt, 3, &nu);
    register_all(nt);
    redirect(nt, 1, 3);
    expect_entry(nt, 1, "192.168.3.5", VPN_NHRP_ENTRY_SHORTCUT, "172.16.3.1");
    /* spoke3 reboots with a new NBMA address and registers again. */
    vpn_nhrp_del(nt->nodes[3].n);
    node_start(nt, 3, &moved);
    nt->now += S(60);
    run_until(nt, nt->now);
    expect_entry(nt, 0, "10.0.0.3", VPN_NHRP_ENTRY_DYNAMIC, "172.16.33.1");
    assert_int_equal(count_ev(&nt->nodes[0], VPN_NHRP_EV_ENTRY_UPDATED), 1);
    /* The hub purged spoke1, which dropped the stale shortcut and answered. */
    assert_int_equal(nt->sent_by_type[VPN_NHRP_PURGE_REQ], 1);
    assert_int_equal(nt->sent_by_type[VPN_NHRP_PURGE_REPLY], 1);
    assert_int_equal(count_ev(&nt->nodes[1], VPN_NHRP_EV_SHORTCUT_REMOVED), 1);
    vpn_addr d = tu_addr("192.168.3.5");
    vpn_nhrp_entry_info e;
    assert_int_equal(vpn_nhrp_lookup(nt->nodes[1].n, &d, &e), VPN_ERR_NOTFOUND);
    /* The next redirect resolves to the new address. */
    nt->now += S(10);
    redirect(nt, 1, 3);
    expect_entry(nt, 1, "192.168.3.5", VPN_NHRP_ENTRY_SHORTCUT, "172.16.33.1");
}

static void test_unique_conflict_refused(void **state)
{
    static const opts imp = {NULL, false, "172.16.99.1"};
    net *nt = *state;
    register_all(nt);
    vpn_nhrp_entry_info before, after;
    vpn_addr a2 = tu_addr("10.0.0.2");
    assert_int_equal(vpn_nhrp_lookup(nt->nodes[0].n, &a2, &before), 0);
    /* Another router claims 10.0.0.2 from another NBMA address. */
    nt->n_nodes = NODES + 1;
    node_start(nt, NODES, &imp);
    node *im = &nt->nodes[NODES];
    nt->nodes[NODES].proto = a2;
    vpn_nhrp_del(im->n);
    {
        vpn_nhrp_nhs_cfg nhs = {tu_addr("10.0.0.254"), tu_addr("172.16.0.1"), false};
        vpn_nhrp_params p;
        memset(&p, 0, sizeof p);
        p.nbma = im->nbma;
        p.proto = a2;
        p.network_id = NETID;
        p.nhs = &nhs;
        p.n_nhs = 1;
        p.send = on_send;
        p.event = on_event;
        p.user = im;
        assert_int_equal(vpn_nhrp_new(&im->n, &p), 0);
    }
    nt->now += S(5);
    run_until(nt, nt->now);
    const vpn_nhrp_event *ev = last_ev(im, VPN_NHRP_EV_REGISTRATION_REFUSED);
    assert_non_null(ev);
    assert_int_equal(ev->code, VPN_NHRP_CIE_ALREADY_REGISTERED);
    assert_int_equal(count_ev(im, VPN_NHRP_EV_NHS_UP), 0);
    assert_int_equal(nhrp_stat(nt->nodes[0].n).reg_refused, 1);
    assert_int_equal(vpn_nhrp_lookup(nt->nodes[0].n, &a2, &after), 0);
    assert_true(vpn_addr_eq(&before.nbma, &after.nbma));
    assert_int_equal(before.expires, after.expires);
    assert_int_equal(before.created, after.created);
    assert_int_equal(after.type, VPN_NHRP_ENTRY_DYNAMIC);
}

/* Every packet of a network with `ip nhrp authentication s3cret`; then a
 * router without the string tries to register and to purge. */
static void test_forged_without_authentication(void **state)
{
    net *nt = *state;
    register_all(nt); /* authenticated packets work */
    redirect(nt, 1, 2);
    expect_entry(nt, 1, "192.168.2.1", VPN_NHRP_ENTRY_SHORTCUT, "172.16.2.1");
    size_t entries = vpn_nhrp_entry_count(nt->nodes[0].n);
    /* A forged registration for 10.0.0.2 (no authentication extension). */
    vpn_nhrp_msg m;
    uint8_t buf[512];
    size_t len;
    memset(&m, 0, sizeof m);
    m.type = VPN_NHRP_REG_REQ;
    m.hopcnt = 255;
    m.src_nbma = tu_addr("172.16.66.1");
    m.src_proto = tu_addr("10.0.0.2");
    m.dst_proto = tu_addr("10.0.0.254");
    m.n_cie = 1;
    m.cie[0].prefix_len = 32;
    m.cie[0].holding_time = 7200;
    m.cie[0].nbma = m.src_nbma;
    m.cie[0].proto = m.src_proto;
    m.has_ext = true;
    assert_int_equal(vpn_nhrp_encode(&m, buf, sizeof buf, &len), 0);
    vpn_addr evil = tu_addr("172.16.66.1");
    assert_int_equal(vpn_nhrp_input(nt->nodes[0].n, nt->now, NETID, &evil, buf, len), VPN_ERR_AUTH);
    /* With a wrong string. */
    m.has_auth = true;
    m.auth_spi = 1;
    m.auth = (const uint8_t *)"s3creT";
    m.auth_len = 6;
    assert_int_equal(vpn_nhrp_encode(&m, buf, sizeof buf, &len), 0);
    assert_int_equal(vpn_nhrp_input(nt->nodes[0].n, nt->now, NETID, &evil, buf, len), VPN_ERR_AUTH);
    assert_int_equal(nhrp_stat(nt->nodes[0].n).auth_failed, 2);
    assert_int_equal(vpn_nhrp_entry_count(nt->nodes[0].n), entries);
    expect_entry(nt, 0, "10.0.0.2", VPN_NHRP_ENTRY_DYNAMIC, "172.16.2.1");
    /* The refusal went back as Error Indication "Authentication Failure". */
    assert_true(nt->qlen >= 1);
    vpn_nhrp_msg ei;
    assert_int_equal(vpn_nhrp_decode(nt->q[nt->qlen - 1].data, nt->q[nt->qlen - 1].len, &ei, NULL), 0);
    assert_int_equal(ei.type, VPN_NHRP_ERROR_IND);
    assert_int_equal(ei.err_code, VPN_NHRP_ERR_AUTH);
    nt->qlen = 0;
    /* A forged purge of spoke2's addresses sent to spoke1. */
    m.type = VPN_NHRP_PURGE_REQ;
    m.has_auth = false;
    m.cie[0].proto = tu_addr("10.0.0.2");
    assert_int_equal(vpn_nhrp_encode(&m, buf, sizeof buf, &len), 0);
    assert_int_equal(vpn_nhrp_input(nt->nodes[1].n, nt->now, NETID, &evil, buf, len), VPN_ERR_AUTH);
    expect_entry(nt, 1, "192.168.2.1", VPN_NHRP_ENTRY_SHORTCUT, "172.16.2.1");
    /* The same purge with the string is obeyed (the check is what refused it). */
    m.has_auth = true;
    m.auth = (const uint8_t *)"s3cret";
    assert_int_equal(vpn_nhrp_encode(&m, buf, sizeof buf, &len), 0);
    assert_int_equal(vpn_nhrp_input(nt->nodes[1].n, nt->now, NETID, &evil, buf, len), 0);
    vpn_addr d = tu_addr("192.168.2.1");
    assert_int_equal(vpn_nhrp_lookup(nt->nodes[1].n, &d, NULL), VPN_ERR_NOTFOUND);
    pump(nt);
}

static void test_hostile_input(void **state)
{
    net *nt = *state;
    register_all(nt);
    vpn_nhrp *hub = nt->nodes[0].n;
    size_t entries = vpn_nhrp_entry_count(hub);
    vpn_addr from = nt->nodes[1].nbma;
    /* Another network-id: ignored. */
    nt->qlen = 0;
    vpn_nhrp_timeout(nt->nodes[1].n, S(5000)); /* makes a registration to replay */
    qpkt reg = nt->q[0];
    nt->qlen = 0;
    assert_int_equal(vpn_nhrp_input(hub, nt->now, NETID + 1, &from, reg.data, reg.len), VPN_ERR_POLICY);
    assert_int_equal(nhrp_stat(hub).netid_mismatch, 1);
    assert_int_equal(nt->qlen, 0);
    /* Garbage and every truncation: dropped, counted, nothing sent. */
    uint8_t junk[300];
    tu_fill(junk, sizeof junk, 3);
    assert_true(vpn_nhrp_input(hub, nt->now, NETID, &from, junk, sizeof junk) < 0);
    for (size_t k = 0; k < reg.len; k++)
        assert_true(vpn_nhrp_input(hub, nt->now, NETID, &from, reg.data, k) < 0);
    assert_int_equal(nt->qlen, 0);
    assert_true(nhrp_stat(hub).malformed >= reg.len);
    /* An unknown compulsory extension: Error Indication code 1 back. */
    uint8_t b[VPN_NHRP_MAX_PKT];
    size_t extoff = vpn_load16(reg.data + 14);
    memcpy(b, reg.data, extoff);
    vpn_store16(b + extoff, 0x8000 | 0x0077);
    vpn_store16(b + extoff + 2, 0);
    memcpy(b + extoff + 4, reg.data + extoff, reg.len - extoff);
    vpn_store16(b + 10, (uint16_t)(reg.len + 4));
    vpn_store16(b + 12, 0);
    vpn_store16(b + 12, vpn_nhrp_checksum(b, reg.len + 4));
    assert_int_equal(vpn_nhrp_input(hub, nt->now, NETID, &from, b, reg.len + 4), VPN_ERR_MALFORMED);
    assert_int_equal(nt->qlen, 1);
    vpn_nhrp_msg ei;
    assert_int_equal(vpn_nhrp_decode(nt->q[0].data, nt->q[0].len, &ei, NULL), 0);
    assert_int_equal(ei.type, VPN_NHRP_ERROR_IND);
    assert_int_equal(ei.err_code, VPN_NHRP_ERR_UNRECOGNIZED_EXT);
    assert_int_equal(ei.err_offset, extoff);
    assert_int_equal(ei.payload_len, reg.len + 4);
    assert_int_equal(nhrp_stat(hub).unknown_ext, 1);
    /* An Error Indication is never answered with one. */
    vpn_addr hubaddr = nt->nodes[0].nbma;
    nt->qlen = 0;
    uint8_t eb[VPN_NHRP_MAX_PKT];
    {
        vpn_nhrp_msg e2 = ei;
        size_t n2;
        e2.err_code = VPN_NHRP_ERR_PROTOCOL;
        assert_int_equal(vpn_nhrp_encode(&e2, eb, sizeof eb, &n2), 0);
        assert_int_equal(vpn_nhrp_input(nt->nodes[1].n, nt->now, NETID, &hubaddr, eb, n2), 0);
        assert_int_equal(nt->qlen, 0);
    }
    /* A resolution request with hop count 0 that the hub would forward:
     * Error Indication "Hop Count Exceeded" (5.2.0.1). */
    vpn_nhrp_msg rq;
    memset(&rq, 0, sizeof rq);
    rq.type = VPN_NHRP_RES_REQ;
    rq.hopcnt = 0;
    rq.src_nbma = from;
    rq.src_proto = tu_addr("10.0.0.1");
    rq.dst_proto = tu_addr("192.168.2.1");
    rq.req_id = 99;
    size_t rn;
    assert_int_equal(vpn_nhrp_encode(&rq, b, sizeof b, &rn), 0);
    assert_int_equal(vpn_nhrp_input(hub, nt->now, NETID, &from, b, rn), VPN_ERR_POLICY);
    assert_int_equal(nt->qlen, 1);
    assert_int_equal(vpn_nhrp_decode(nt->q[0].data, nt->q[0].len, &ei, NULL), 0);
    assert_int_equal(ei.err_code, VPN_NHRP_ERR_HOP_COUNT);
    nt->qlen = 0;
    /* A forward record that already holds the hub: a loop (code 3). */
    rq.hopcnt = 5;
    rq.has_ext = rq.has_fwd = true;
    rq.n_fwd = 1;
    rq.fwd[0].proto = nt->nodes[0].proto;
    rq.fwd[0].nbma = nt->nodes[0].nbma;
    assert_int_equal(vpn_nhrp_encode(&rq, b, sizeof b, &rn), 0);
    assert_int_equal(vpn_nhrp_input(hub, nt->now, NETID, &from, b, rn), VPN_ERR_POLICY);
    assert_int_equal(vpn_nhrp_decode(nt->q[0].data, nt->q[0].len, &ei, NULL), 0);
    assert_int_equal(ei.err_code, VPN_NHRP_ERR_LOOP);
    nt->qlen = 0;
    /* Replies nobody asked for. */
    rq.type = VPN_NHRP_RES_REPLY;
    rq.has_ext = false;
    rq.n_cie = 1;
    rq.cie[0].nbma = tu_addr("6.6.6.6");
    rq.cie[0].proto = tu_addr("192.168.2.0");
    rq.cie[0].prefix_len = 24;
    assert_int_equal(vpn_nhrp_encode(&rq, b, sizeof b, &rn), 0);
    assert_int_equal(vpn_nhrp_input(nt->nodes[1].n, nt->now, NETID, &from, b, rn), VPN_ERR_NOTFOUND);
    rq.type = VPN_NHRP_REG_REPLY;
    assert_int_equal(vpn_nhrp_encode(&rq, b, sizeof b, &rn), 0);
    assert_int_equal(vpn_nhrp_input(nt->nodes[1].n, nt->now, NETID, &from, b, rn), VPN_ERR_NOTFOUND);
    vpn_addr d = tu_addr("192.168.2.1");
    assert_int_equal(vpn_nhrp_lookup(nt->nodes[1].n, &d, NULL), VPN_ERR_NOTFOUND);
    assert_int_equal(vpn_nhrp_entry_count(hub), entries);
    assert_int_equal(nt->qlen, 0);
}

/* The parameters of one engine outside the simulated net (its own node nd
 * for the send hook, which queues into g): NBMA and protocol addresses, the
 * rest zero for the test to fill. */
static void lone_params(vpn_nhrp_params *p, node *nd, const char *nbma, const char *proto)
{
    memset(nd, 0, sizeof *nd);
    memset(p, 0, sizeof *p);
    p->nbma = tu_addr(nbma);
    p->proto = tu_addr(proto);
    p->send = on_send;
    p->user = nd;
    nd->nbma = p->nbma;
}

static void test_static_maps_and_multicast(void **state)
{
    (void)state;
    vpn_nhrp *n;
    vpn_nhrp_map_cfg maps[2] = {{{tu_addr("10.0.0.50"), 32}, tu_addr("172.16.50.1")},
                                {{tu_addr("192.168.50.0"), 24}, tu_addr("172.16.50.1")}};
    vpn_addr mc[2] = {tu_addr("172.16.50.1"), tu_addr("172.16.51.1")};
    vpn_nhrp_params p;
    node nd;
    lone_params(&p, &nd, "172.16.0.1", "10.0.0.254");
    p.maps = maps;
    p.n_maps = 2;
    p.mcast = mc;
    p.n_mcast = 2;
    p.nhs_role = true;
    p.event = on_event;
    assert_int_equal(vpn_nhrp_new(&n, &p), 0);
    vpn_nhrp_entry_info e;
    vpn_addr a = tu_addr("192.168.50.9");
    assert_int_equal(vpn_nhrp_lookup(n, &a, &e), 0);
    assert_int_equal(e.type, VPN_NHRP_ENTRY_STATIC);
    assert_int_equal(e.expires, UINT64_MAX);
    assert_int_equal(vpn_nhrp_next_deadline(n), UINT64_MAX);
    vpn_addr out[4];
    assert_int_equal(vpn_nhrp_multicast_nbma(n, out, 4), 2);
    assert_true(vpn_addr_eq(&out[1], &mc[1]));
    /* A registration for a statically mapped address is refused (code 4). */
    net nt0;
    memset(&nt0, 0, sizeof nt0);
    nt0.q = calloc(QMAX, sizeof(qpkt));
    g = &nt0;
    vpn_nhrp_msg m;
    uint8_t buf[256];
    size_t len;
    memset(&m, 0, sizeof m);
    m.type = VPN_NHRP_REG_REQ;
    m.hopcnt = 255;
    m.src_nbma = tu_addr("172.16.77.1");
    m.src_proto = tu_addr("10.0.0.50");
    m.dst_proto = p.proto;
    m.req_id = 5;
    m.n_cie = 1;
    m.cie[0].prefix_len = 32;
    assert_int_equal(vpn_nhrp_encode(&m, buf, sizeof buf, &len), 0);
    assert_int_equal(vpn_nhrp_input(n, 0, 0, &m.src_nbma, buf, len), VPN_ERR_POLICY);
    vpn_nhrp_msg r;
    assert_int_equal(vpn_nhrp_decode(nt0.q[0].data, nt0.q[0].len, &r, NULL), 0);
    assert_int_equal(r.type, VPN_NHRP_REG_REPLY);
    assert_int_equal(r.cie[0].code, VPN_NHRP_CIE_ADMIN_PROHIBITED);
    vpn_addr a50 = tu_addr("10.0.0.50"), n50 = tu_addr("172.16.50.1");
    assert_int_equal(vpn_nhrp_lookup(n, &a50, &e), 0);
    assert_true(vpn_addr_eq(&e.nbma, &n50));
    /* Bad parameters. */
    vpn_nhrp *bad;
    p.auth = "0123456789012345678901234567890123456789012345678901234567890123456789";
    assert_int_equal(vpn_nhrp_new(&bad, &p), VPN_ERR_INVAL);
    p.auth = NULL;
    maps[0].nbma = tu_addr("2001:db8::1");
    assert_int_equal(vpn_nhrp_new(&bad, &p), VPN_ERR_INVAL);
    p.send = NULL;
    assert_int_equal(vpn_nhrp_new(&bad, &p), VPN_ERR_INVAL);
    vpn_nhrp_del(n);
    free(nt0.q);
}

/* A send hook counting the packets (user: an unsigned). */
static void count_send(void *user, const vpn_addr *dst, const uint8_t *pkt, size_t len)
{
    (void)dst;
    (void)pkt;
    (void)len;
    (*(unsigned *)user)++;
}

/* The redirect rate-limit table (24 KB) exists only with `ip nhrp
 * redirect` (issue 14: a spoke without it does not carry it), allocated
 * through the injected allocator; refused, vpn_nhrp_new fails with
 * NOMEM and leaves nothing behind (the ASan twin checks). */
static void test_redirect_table_only_with_redirect(void **state)
{
    (void)state;
    tu_switch gt = {0};
    unsigned sent = 0;
    vpn_nhrp *n = NULL;
    vpn_nhrp_params p;
    vpn_addr spoke = tu_addr("172.16.1.1");
    uint8_t pkt[128];
    size_t len = data_pkt(pkt, "192.168.1.10", "192.168.2.10");

    memset(&p, 0, sizeof p);
    p.nbma = tu_addr("172.16.0.1");
    p.proto = tu_addr("10.0.0.254");
    p.proto_prefix_len = 24;
    p.network_id = NETID;
    p.nhs_role = true;
    p.send = count_send;
    p.user = &sent;
    p.alloc.allow = tu_switch_allow;
    p.alloc.user = &gt;
    /* no `ip nhrp redirect`: no table, nothing asked of the allocator */
    assert_int_equal(vpn_nhrp_new(&n, &p), 0);
    assert_int_equal(gt.calls, 0);
    assert_int_equal(vpn_nhrp_forwarded(n, S(1), &spoke, NETID, NETID, pkt, len), VPN_ERR_STATE);
    assert_int_equal(sent, 0);
    vpn_nhrp_del(n);
    /* with it, the table refused: no engine */
    p.redirect = true;
    gt.refuse = true;
    n = (vpn_nhrp *)&gt; /* overwritten */
    assert_int_equal(vpn_nhrp_new(&n, &p), VPN_ERR_NOMEM);
    assert_null(n);
    assert_int_equal(gt.refused, 1);
    /* allowed: one allocation, and the table rate-limits */
    gt.refuse = false;
    gt.calls = 0;
    assert_int_equal(vpn_nhrp_new(&n, &p), 0);
    assert_int_equal(gt.calls, 1);
    assert_int_equal(vpn_nhrp_forwarded(n, S(1), &spoke, NETID, NETID, pkt, len), 0);
    assert_int_equal(sent, 1);
    assert_int_equal(vpn_nhrp_forwarded(n, S(2), &spoke, NETID, NETID, pkt, len), VPN_ERR_LIMIT);
    assert_int_equal(nhrp_stat(n).redirects_sent, 1);
    assert_int_equal(nhrp_stat(n).redirects_limited, 1);
    assert_int_equal(sent, 1);
    vpn_nhrp_del(n);
}

/* Each packet is built in a buffer allocated for it (issue 14: no 8 KB
 * kept inline per engine). Refused: nothing sent, a failed send counted;
 * the registration goes out on the next try once memory is back. */
static void test_send_buffer_refused(void **state)
{
    (void)state;
    tu_switch gt = {.refuse = true, .size = VPN_NHRP_MAX_PKT};
    unsigned sent = 0;
    vpn_nhrp *n = NULL;
    vpn_nhrp_params p;
    vpn_nhrp_nhs_cfg nhs = {tu_addr("10.0.0.254"), tu_addr("172.16.0.1"), true};
    vpn_nhrp_nhs_info ni;

    memset(&p, 0, sizeof p);
    p.nbma = tu_addr("172.16.1.1");
    p.proto = tu_addr("10.0.0.1");
    p.proto_prefix_len = 24;
    p.network_id = NETID;
    p.nhs = &nhs;
    p.n_nhs = 1;
    p.send = count_send;
    p.user = &sent;
    p.alloc.allow = tu_switch_allow;
    p.alloc.user = &gt;
    assert_int_equal(vpn_nhrp_new(&n, &p), 0);
    assert_int_equal(gt.calls, 0); /* nothing held for sending */
    vpn_nhrp_timeout(n, S(1));     /* the first registration: refused */
    assert_int_equal(gt.refused, 1);
    assert_int_equal(sent, 0);
    assert_int_equal(nhrp_stat(n).send_failed, 1);
    assert_int_equal(nhrp_stat(n).tx[VPN_NHRP_REG_REQ], 0);
    assert_int_equal(vpn_nhrp_nhs_get(n, 0, &ni), 0);
    /* memory back: the registration is tried again and leaves */
    gt.refuse = false;
    uint64_t t = vpn_nhrp_next_deadline(n);
    assert_true(t > S(1) && t < S(120));
    vpn_nhrp_timeout(n, t);
    assert_int_equal(sent, 1);
    assert_int_equal(nhrp_stat(n).tx[VPN_NHRP_REG_REQ], 1);
    assert_int_equal(nhrp_stat(n).send_failed, 1);
    assert_int_equal(gt.refused, 1);
    vpn_nhrp_del(n);
}

/* Longest-prefix match across the whole length range (the lookup skips
 * lengths with no entry a 64-bit word at a time): IPv6 maps at /128 and
 * /48 with nothing from /64 to /127 between them, and ::/0 under both. */
static void test_lookup_longest_prefix_v6(void **state)
{
    (void)state;
    vpn_nhrp *n;
    vpn_nhrp_map_cfg maps[3] = {{{tu_addr("2001:db8:1:2::5"), 128}, tu_addr("172.16.60.1")},
                                {{tu_addr("2001:db8:1::"), 48}, tu_addr("172.16.60.2")},
                                {{tu_addr("::"), 0}, tu_addr("172.16.60.3")}};
    vpn_nhrp_params p;
    node nd;
    lone_params(&p, &nd, "172.16.0.1", "2001:db8::fe");
    p.maps = maps;
    p.n_maps = 3;
    assert_int_equal(vpn_nhrp_new(&n, &p), 0);
    static const struct {
        const char *dst;
        size_t map;
    } want[] = {{"2001:db8:1:2::5", 0}, {"2001:db8:1:2::6", 1}, {"2001:db8:1:ffff::1", 1}, {"2001:db9::1", 2}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        vpn_nhrp_entry_info e;
        vpn_addr a = tu_addr(want[i].dst);
        assert_int_equal(vpn_nhrp_lookup(n, &a, &e), 0);
        assert_int_equal(e.proto.len, maps[want[i].map].proto.len);
        assert_true(vpn_addr_eq(&e.nbma, &maps[want[i].map].nbma));
    }
    vpn_nhrp_del(n);
}

/* 10,000 spokes register on one hub; each lookup examines a bounded number
 * of entries (one hash probe per prefix length in use), whatever the size. */
static void test_ten_thousand_spokes(void **state)
{
    (void)state;
    enum { N = 10000 };
    net nt0;
    memset(&nt0, 0, sizeof nt0);
    nt0.q = calloc(QMAX, sizeof(qpkt));
    g = &nt0;
    node hubnd;
    vpn_nhrp_params p;
    lone_params(&p, &hubnd, "172.16.0.1", "10.0.0.1");
    p.nhs_role = true;
    p.mcast_dynamic = true;
    vpn_nhrp *hub;
    assert_int_equal(vpn_nhrp_new(&hub, &p), 0);
    vpn_nhrp_msg m;
    uint8_t buf[256];
    size_t len;
    for (uint32_t i = 0; i < N; i++) {
        memset(&m, 0, sizeof m);
        m.type = VPN_NHRP_REG_REQ;
        m.hopcnt = 255;
        m.flags = VPN_NHRP_F_REG_U;
        m.req_id = i + 1;
        vpn_addr_v4(&m.src_nbma, 0x64000000u + i);  /* 100.0.x.y */
        vpn_addr_v4(&m.src_proto, 0x0a010000u + i); /* 10.1.x.y */
        m.dst_proto = p.proto;
        m.n_cie = 1;
        m.cie[0].prefix_len = 32;
        m.cie[0].holding_time = (uint16_t)(600 + i % 1000);
        assert_int_equal(vpn_nhrp_encode(&m, buf, sizeof buf, &len), 0);
        assert_int_equal(vpn_nhrp_input(hub, 0, 0, &m.src_nbma, buf, len), 0);
        nt0.qlen = 0; /* replies */
    }
    assert_int_equal(vpn_nhrp_entry_count(hub), N);
    vpn_nhrp_stats st0, *st = &st0;
    uint64_t worst = 0;
    for (uint32_t i = 0; i < N; i += 7) {
        vpn_addr d, nb;
        vpn_nhrp_entry_info e;
        vpn_addr_v4(&d, 0x0a010000u + i);
        vpn_addr_v4(&nb, 0x64000000u + i);
        vpn_nhrp_stats_get(hub, st);
        uint64_t before = st->lookup_probes;
        assert_int_equal(vpn_nhrp_lookup(hub, &d, &e), 0);
        assert_true(vpn_addr_eq(&e.nbma, &nb));
        vpn_nhrp_stats_get(hub, st);
        if (st->lookup_probes - before > worst)
            worst = st->lookup_probes - before;
    }
    vpn_nhrp_stats_get(hub, st);
    /* Chains stay short: the table grows with the entries (load <= 2). */
    print_message("10,000 entries: %llu lookups, %llu entries examined, worst %llu\n",
                  (unsigned long long)st->lookups, (unsigned long long)st->lookup_probes,
                  (unsigned long long)worst);
    assert_true(worst <= 12);
    /* A miss costs no more. */
    vpn_addr miss = tu_addr("10.9.9.9");
    uint64_t before = st->lookup_probes;
    assert_int_equal(vpn_nhrp_lookup(hub, &miss, NULL), VPN_ERR_NOTFOUND);
    vpn_nhrp_stats_get(hub, st);
    assert_true(st->lookup_probes - before <= 12);
    /* Expiry follows the heap: the earliest holding time first. */
    assert_int_equal(vpn_nhrp_next_deadline(hub), S(600));
    vpn_nhrp_timeout(hub, S(600));
    assert_int_equal(vpn_nhrp_entry_count(hub), N - N / 1000);
    assert_int_equal(vpn_nhrp_next_deadline(hub), S(601));
    vpn_addr mc[4];
    assert_int_equal(vpn_nhrp_multicast_nbma(hub, mc, 4), N - N / 1000);
    vpn_nhrp_timeout(hub, S(1600));
    assert_int_equal(vpn_nhrp_entry_count(hub), 0);
    assert_int_equal(vpn_nhrp_next_deadline(hub), UINT64_MAX);
    vpn_nhrp_del(hub);
    free(nt0.q);
}

/* show ip nhrp and show dmvpn after registrations and one shortcut. */
static void test_show_views(void **state)
{
    net *nt = *state;
    char out[4096];
    vpn_show_buf b;
    nt->now = S(100);
    register_all(nt);
    nt->now = S(160);
    redirect(nt, 1, 2);
    nt->now = S(3725);
    vpn_show_init(&b, out, sizeof out);
    assert_int_equal(vpn_show_ip_nhrp(nt->nodes[1].n, nt->now, &b), 0);
    assert_string_equal(out,
        "10.0.0.2/32 via 10.0.0.2\n"
        "   Tunnel0 created 00:59:25, expire 01:00:35\n"
        "   Type: dynamic, Flags: router nhop\n"
        "   NBMA address: 172.16.2.1 \n"
        "10.0.0.254/32 via 10.0.0.254\n"
        "   Tunnel0 created 01:02:05, never expire \n" /* created at time 0 */
        "   Type: static, Flags: used nhs\n"
        "   NBMA address: 172.16.0.1 \n"
        "192.168.2.0/24 via 10.0.0.2\n"
        "   Tunnel0 created 00:59:25, expire 01:00:35\n"
        "   Type: dynamic, Flags: router rib\n"
        "   NBMA address: 172.16.2.1 \n");
    vpn_show_init(&b, out, sizeof out);
    assert_int_equal(vpn_show_dmvpn(nt->nodes[0].n, nt->now, &b), 0);
    const char *tail =
        "Interface: Tunnel0, IPv4 NHRP Details \n"
        "Type:Hub, NHRP Peers:3, \n\n"
        " # Ent  Peer NBMA Addr Peer Tunnel Add State  UpDn Tm Attrb\n"
        " ----- --------------- --------------- ----- -------- -----\n"
        "     1 172.16.1.1             10.0.0.1    UP 01:00:25     D\n"
        "     1 172.16.2.1             10.0.0.2    UP 01:00:25     D\n"
        "     1 172.16.3.1             10.0.0.3    UP 01:00:25     D\n\n";
    assert_non_null(strstr(out, "Legend: Attrb --> S - Static, D - Dynamic, I - Incomplete\n"));
    assert_string_equal(out + strlen(out) - strlen(tail), tail);
    /* A spoke: its NHS (static, UP since the reply) and the shortcut peer. */
    vpn_show_init(&b, out, sizeof out);
    assert_int_equal(vpn_show_dmvpn(nt->nodes[1].n, nt->now, &b), 0);
    assert_non_null(strstr(out, "Type:Spoke, NHRP Peers:2, \n"));
    assert_non_null(strstr(out, "     1 172.16.0.1           10.0.0.254    UP 01:00:25     S\n"));
    assert_non_null(strstr(out, "     2 172.16.2.1             10.0.0.2    UP 00:59:25     D\n"
                                "                              10.0.0.2    UP 00:59:25   DT1\n"));
    /* Truncation is reported. */
    vpn_show_init(&b, out, 64);
    assert_int_equal(vpn_show_ip_nhrp(nt->nodes[1].n, nt->now, &b), VPN_ERR_NOSPACE);
    char d[16];
    vpn_show_nhrp_duration(93784, d, sizeof d);
    assert_string_equal(d, "1d02h");
    vpn_show_nhrp_duration(17 * 86400, d, sizeof d);
    assert_string_equal(d, "2w3d");
}

int main(void)
{
    const char *pc = getenv("VPN_NHRP_PCAP");
    if (pc)
        g_pcap = tu_pcap_open(pc);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_registration_and_refresh, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolution_keeps_registration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry_and_nhs_down, setup, teardown),
        cmocka_unit_test_setup_teardown(test_phase3_shortcuts_both_ways, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolution_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_purge_and_reboot_with_new_nbma, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unique_conflict_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forged_without_authentication, setup_auth, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_show_views, setup, teardown),
        cmocka_unit_test(test_static_maps_and_multicast),
        cmocka_unit_test(test_ten_thousand_spokes),
        cmocka_unit_test(test_lookup_longest_prefix_v6),
        cmocka_unit_test(test_redirect_table_only_with_redirect),
        cmocka_unit_test(test_send_buffer_refused),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tu_pcap_close(g_pcap);
    return rc;
}
