/*
 * The engine contract for malformed input, through the router: garbage
 * handed to each engine's input (IKEv2 on UDP 500, IKE behind the non-ESP
 * marker on 4500, ESP as IP protocol 50 and in UDP) is dropped, counted
 * once (by the engine or, before any engine, by the router) and logged.
 * Nothing is fatal, no SA changes, and the tunnel carries traffic with no
 * loss afterwards. RFC 7296 2.21 (errors before authentication are
 * dropped), RFC 4303 3.4 (ESP refused without state change), RFC 3948 2.2
 * (4500 demultiplexing).
 */
#include "router-net.h"

#include "common/wire.h"
#include "ikev2/ikev2-engine.h"
#include "ipsec/ip.h"

/* A datagram from the other node (not behind a NAT) to port `port` of node `to`. */
static vpn_router_drop inject_udp(rn_net *n, int to, uint16_t port, const uint8_t *d, size_t len)
{
    static uint8_t buf[RN_BUF];
    vpn_pkt pkt;
    vpn_ikev2_endpoint local = {n->node[to].addr, port}, remote = {n->node[1 - to].addr, port};

    vpn_pkt_init(&pkt, buf, sizeof buf, VPN_PKT_HEADROOM);
    if (len)
        memcpy(vpn_pkt_put(&pkt, len), d, len);
    return vpn_router_udp_input(n->node[to].r, n->now, &local, &remote, &pkt);
}

/* An IPv4 packet of protocol 50 carrying body, from the other node. */
static vpn_router_drop inject_esp(rn_net *n, int to, const uint8_t *body, size_t len)
{
    static uint8_t buf[RN_BUF];
    vpn_pkt pkt;
    uint8_t *h;

    vpn_pkt_init(&pkt, buf, sizeof buf, VPN_PKT_HEADROOM);
    h = vpn_pkt_put(&pkt, 20 + len);
    memset(h, 0, 20);
    h[0] = 0x45;
    vpn_store16(h + 2, (uint16_t)(20 + len));
    h[8] = 64;
    h[9] = 50;
    memcpy(h + 12, n->node[1 - to].addr.b, 4);
    memcpy(h + 16, n->node[to].addr.b, 4);
    vpn_ip4_csum_set(h);
    if (len)
        memcpy(h + 20, body, len);
    return vpn_router_ip_input(n->node[to].r, n->now, &pkt);
}

typedef struct snap {
    vpn_ikev2_stats ike;
    vpn_router_stats rt;
    unsigned log_events;
    unsigned log_errors;
} snap;

static void take(rn_node *nd, snap *s)
{
    vpn_ikev2_stats_get(vpn_router_ikev2(nd->r), &s->ike);
    vpn_router_stats_get(nd->r, &s->rt);
    s->log_events = nd->log.events;
    s->log_errors = nd->log.errors;
}

static uint64_t router_drops(const vpn_router_stats *s)
{
    uint64_t t = 0;

    for (int i = 0; i < VPN_ROUTER_DROP_COUNT; i++)
        t += s->drops[i];
    return t;
}

/*
 * One garbage datagram was handled as the contract says: exactly one drop
 * counted, by the IKEv2 engine (the router handed it on: DROP_NONE) or by
 * the router (the drop it returned); at least one log event; no error-level
 * log; no SA installed or removed.
 */
static void assert_dropped_once(rn_node *nd, const snap *before, vpn_router_drop r, const char *what,
                                size_t i)
{
    snap after;
    uint64_t ike_drops, rt_drops;

    take(nd, &after);
    ike_drops = after.ike.dropped - before->ike.dropped;
    rt_drops = router_drops(&after.rt) - router_drops(&before->rt);
    if (ike_drops + rt_drops != 1 || after.log_events == before->log_events) {
        fprintf(stderr, "%s #%zu: router said %s, engine drops %llu, router drops %llu, logs %u\n",
                what, i, vpn_router_drop_name(r), (unsigned long long)ike_drops,
                (unsigned long long)rt_drops, after.log_events - before->log_events);
        fail();
    }
    if (r == VPN_ROUTER_DROP_NONE)
        assert_int_equal(ike_drops, 1);
    else
        assert_int_equal(after.rt.drops[r] - before->rt.drops[r], 1);
    assert_int_equal(after.log_errors, before->log_errors);
    assert_int_equal(after.rt.children_installed, before->rt.children_installed);
    assert_int_equal(after.rt.children_removed, before->rt.children_removed);
    assert_int_equal(after.ike.in_requests, before->ike.in_requests);
}

static void up(rn_net *n, rn_node **a, rn_node **b)
{
    char *ca = rn_flex_conf(0, NULL, NULL, NULL, "tunnel", NULL);
    char *cb = rn_flex_conf(1, NULL, NULL, NULL, "tunnel", NULL);

    rn_init(n);
    *a = rn_add(n, 0, ca, VPN_ROUTER_TUNNEL_VTI, true, NULL);
    *b = rn_add(n, 1, cb, VPN_ROUTER_TUNNEL_VTI, false, NULL);
    free(ca);
    free(cb);
    vpn_router_start((*a)->r, n->now);
    rn_run_for(n, 1);
    assert_int_equal(rn_count(*a, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_UP), 1);
    assert_int_equal(rn_count(*b, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_UP), 1);
}

/* The tunnel still carries traffic both ways with no loss, and nothing came down. */
static void assert_still_working(rn_net *n, rn_node *a, rn_node *b)
{
    rn_traffic(a, 50);
    rn_traffic(b, 50);
    rn_run_for(n, 3);
    a->tx_interval_ns = 0;
    b->tx_interval_ns = 0;
    rn_run_for(n, 1);
    assert_true(b->rx >= 140 && a->rx >= 140);
    assert_int_equal(rn_lost(a, b), 0);
    assert_int_equal(rn_lost(b, a), 0);
    assert_int_equal(rn_count(a, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_DOWN), 0);
    assert_int_equal(rn_count(b, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_DOWN), 0);
}

/* IKEv2 garbage on 500: runts, random bytes, IKEv2 headers that lie about their length,
 * responses for IKE SAs nobody has, a broken payload chain. */
static void test_ikev2_garbage_port_500(void **state)
{
    rn_net n;
    rn_node *a, *b;
    uint8_t d[400];
    snap s;
    (void)state;

    up(&n, &a, &b);
    for (size_t i = 0; i < 300; i++) {
        size_t len = i % 5 == 0 ? i % 28 : 28 + (i * 37) % 360;
        vpn_router_drop r;

        tu_fill(d, sizeof d, 1000 + (uint32_t)i);
        if (len >= 28) {
            d[17] = 0x20;                        /* version 2.0: the engine's to judge */
            d[18] = (uint8_t)(34 + i % 4);       /* IKE_SA_INIT .. INFORMATIONAL */
            d[19] = 0x20;                        /* a response: to no request of ours */
            switch (i % 3) {
            case 0: vpn_store32(d + 24, (uint32_t)len + 1 + (uint32_t)i); break; /* too long */
            case 1: vpn_store32(d + 24, 27); break;                              /* too short */
            default: vpn_store32(d + 24, (uint32_t)len); d[16] = 33; break;     /* chain */
            }
        }
        if (len == 1 && d[0] == 0xff)
            d[0] = 0xfe; /* a NAT-keepalive is not garbage */
        take(b, &s);
        r = inject_udp(&n, 1, 500, d, len);
        assert_dropped_once(b, &s, r, "port 500", i);
    }
    assert_still_working(&n, a, b);
    rn_free(&n);
}

/* 4500: IKE behind the marker, the same garbage; and non-ESP, non-marker runts. */
static void test_ikev2_garbage_port_4500(void **state)
{
    rn_net n;
    rn_node *a, *b;
    uint8_t d[404];
    snap s;
    (void)state;

    up(&n, &a, &b);
    for (size_t i = 0; i < 200; i++) {
        size_t len;
        vpn_router_drop r;

        tu_fill(d, sizeof d, 5000 + (uint32_t)i);
        if (i % 2 == 0) {
            len = 4 + 28 + (i * 13) % 300;
            memset(d, 0, 4);                     /* RFC 3948 2.2 non-ESP marker */
            d[4 + 17] = 0x20;
            d[4 + 18] = 37;
            d[4 + 19] = 0x20;
            vpn_store32(d + 4 + 24, (uint32_t)(len - 4) + 100);
        } else {
            len = i % 8;                         /* shorter than an ESP header */
            if (len >= 4)
                d[0] = 0x7f;                     /* not a marker */
            if (len == 1 && d[0] == 0xff)
                d[0] = 0xfe;
        }
        take(b, &s);
        r = inject_udp(&n, 1, 4500, d, len);
        assert_dropped_once(b, &s, r, "port 4500", i);
    }
    assert_still_working(&n, a, b);
    rn_free(&n);
}

/* ESP garbage: unknown SPIs, the live inbound SPI with a body that does not verify, runts;
 * as IP protocol 50 and in UDP 4500 (with a real SPI first, so it is taken as ESP). */
static void test_esp_garbage(void **state)
{
    rn_net n;
    rn_node *a, *b;
    uint8_t d[300];
    snap s;
    vpn_router_tunnel_info ti;
    vpn_router_sa_ref in, out;
    vpn_sa_stats before, after;
    (void)state;

    up(&n, &a, &b);
    assert_int_equal(vpn_router_tunnel_get(b->r, b->tunnel, &ti), 0);
    assert_true(vpn_router_child_sas(b->r, ti.out_child, &in, &out));
    assert_true(vpn_router_sa_get(b->r, &in, NULL, &before));
    for (size_t i = 0; i < 200; i++) {
        size_t len = i % 4 == 0 ? i % 8 : 8 + (i * 29) % 280;
        vpn_router_drop r;

        tu_fill(d, sizeof d, 9000 + (uint32_t)i);
        if (len >= 8 && i % 2 == 0)
            vpn_store32(d, in.spi);              /* the live SA: the ICV fails */
        else if (len >= 4 && vpn_load32(d) == in.spi)
            d[0] ^= 0x80;
        if (len >= 4 && vpn_load32(d) < 256)
            d[0] |= 0x40;                        /* reserved SPIs are another test's */
        take(b, &s);
        r = i % 3 == 0 ? inject_udp(&n, 1, 4500, d, len) : inject_esp(&n, 1, d, len);
        assert_int_not_equal(r, VPN_ROUTER_DROP_NONE);
        assert_dropped_once(b, &s, r, "ESP", i);
    }
    /* the live SA counted its refusals and still has its sequence state */
    assert_true(vpn_router_sa_get(b->r, &in, NULL, &after));
    assert_true(after.recv_errors > before.recv_errors);
    assert_int_equal(after.seq_in, before.seq_in);
    assert_still_working(&n, a, b);
    rn_free(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ikev2_garbage_port_500),
        cmocka_unit_test(test_ikev2_garbage_port_4500),
        cmocka_unit_test(test_esp_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
