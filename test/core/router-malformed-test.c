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
#include "nhrp/nhrp-conf.h"

/* A datagram from the other node (not behind a NAT) to port `port` of node `to`. */
static vpn_router_drop inject_udp(rn_net *n, int to, uint16_t port, const uint8_t *d, size_t len)
{
    static uint8_t buf[RN_BUF];
    vpn_pkt pkt;
    vpn_ikev2_endpoint local = {n->node[to].addr, port}, remote = {n->node[1 - to].addr, port};

    rn_pkt_of(&pkt, buf, d, len);
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

/* A DMVPN hub (mGRE, `ip nhrp map multicast dynamic`) that no spoke has
 * registered with yet: node 1 of n, its tunnel an mGRE one. */
static rn_node *mgre_hub(rn_net *n)
{
    static const char conf[] =
        "hostname R2\n"
        "crypto ikev2 proposal P1\n encryption aes-cbc-256\n integrity sha256\n group 19\n"
        "crypto ikev2 policy POL1\n proposal P1\n"
        "crypto ikev2 keyring KR\n peer ANY\n  address 0.0.0.0 0.0.0.0\n  pre-shared-key dmvpn-key\n"
        "crypto ikev2 profile PROF\n match identity remote address 192.0.2.0 255.255.255.0\n"
        " authentication local pre-share\n authentication remote pre-share\n keyring local KR\n"
        "crypto ipsec transform-set TS esp-aes 256 esp-sha256-hmac\n mode transport\n"
        "crypto ipsec profile IPP\n set transform-set TS\n set ikev2-profile PROF\n"
        "interface Tunnel0\n ip address 172.16.0.1 255.255.255.0\n ip nhrp network-id 100\n"
        " ip nhrp map multicast dynamic\n tunnel source 192.0.2.2\n tunnel mode gre multipoint\n"
        " tunnel protection ipsec profile IPP\n";
    rn_node *nd = &n->node[1];
    vpn_router_tunnel_config tc;
    vpn_nhrp_conf_params np;
    vpn_conf_error err;

    rn_init(n);
    nd->net = n;
    nd->idx = 1;
    nd->seen = calloc(RN_MAX_SEQ, 1);
    nd->sent_at = calloc(RN_MAX_SEQ, sizeof *nd->sent_at);
    nd->addr = tu_addr("192.0.2.2");
    nd->conf = rn_conf(conf);
    assert_int_equal(vpn_drbg_init(&nd->drbg, "R2", 2), 0);
    assert_int_equal(vpn_drbg_init(&nd->sad_drbg, "sad", 3), 0);
    if (vpn_nhrp_params_from_conf(nd->conf, "Tunnel0", &np, &err) != 0)
        fail_msg("nhrp config line %d: %s", err.line, err.msg);
    rn_router_new(nd, false);
    memset(&tc, 0, sizeof tc);
    tc.name = "Tunnel0";
    tc.mode = VPN_ROUTER_TUNNEL_MGRE;
    tc.src = nd->addr;
    tc.ipsec_profile = "IPP";
    tc.nhrp = &np.p;
    assert_int_equal(vpn_router_tunnel_add(nd->r, &tc, &nd->tunnel), 0);
    assert_int_equal(vpn_router_start(nd->r, n->now), 0);
    return nd;
}

/* The first len bytes of the inner packet ip into nd's mGRE tunnel. */
static vpn_router_drop mgre_out(rn_node *nd, const uint8_t *ip, size_t len)
{
    static uint8_t buf[RN_BUF];
    vpn_pkt pkt;

    rn_pkt_of(&pkt, buf, ip, len);
    return vpn_router_mgre_output(nd->r, nd->net->now, nd->tunnel, NULL, &pkt);
}

/* An inner packet to dst, whole (IPv4: 28 bytes, IPv6: 48) into ip. */
static size_t inner_to(uint8_t *ip, size_t cap, const char *dst)
{
    static const uint8_t none[1] = {0}; /* an empty UDP payload */
    vpn_addr d = tu_addr(dst), s = tu_addr(d.family == VPN_AF_INET ? "10.0.2.1" : "2001:db8::1");
    return tu_build_udp(ip, cap, &s, &d, 4000, 5000, 0, none, 0);
}

/*
 * Odd and truncated inner packets into an mGRE tunnel. The destination
 * comes from the fixed header (RFC 791 3.1 octets 16-19, RFC 8200 3 octets
 * 24-39) only when all of it is there: shorter, or a first nibble other
 * than 4 or 6, is not IP. A whole header is enough: multicast and
 * broadcast (RFC 1112 4, RFC 919 7, RFC 4291 2.7) go to every multicast
 * NBMA address (none yet: nothing to send, no drop); unicast needs an
 * NHRP entry (NO_NBMA), including the addresses next to the broadcast one.
 */
static void test_mgre_odd_inner(void **state)
{
    static const struct {
        const char *dst;
        vpn_router_drop whole;
    } cases[] = {
        {"224.0.0.5", VPN_ROUTER_DROP_NONE},      {"239.255.255.255", VPN_ROUTER_DROP_NONE},
        {"255.255.255.255", VPN_ROUTER_DROP_NONE}, {"255.255.255.254", VPN_ROUTER_DROP_NO_NBMA},
        {"254.255.255.255", VPN_ROUTER_DROP_NO_NBMA}, {"223.255.255.255", VPN_ROUTER_DROP_NO_NBMA},
        {"240.0.0.1", VPN_ROUTER_DROP_NO_NBMA},   {"10.0.1.1", VPN_ROUTER_DROP_NO_NBMA},
        {"ff02::5", VPN_ROUTER_DROP_NONE},        {"fe80::1", VPN_ROUTER_DROP_NO_NBMA},
        {"2001:db8::ff", VPN_ROUTER_DROP_NO_NBMA},
    };
    rn_net n;
    rn_node *hub;
    uint8_t ip[64];
    uint64_t not_ip = 0, no_nbma = 0;
    vpn_router_stats st;
    (void)state;

    hub = mgre_hub(&n);
    assert_int_equal(mgre_out(hub, ip, 0), VPN_ROUTER_DROP_NOT_IP);
    not_ip++;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t whole = inner_to(ip, sizeof ip, cases[i].dst);
        size_t need = ip[0] >> 4 == 4 ? 20 : 40;

        assert_int_equal(whole, need + 8);
        for (size_t len = 1; len < need; len++) {
            if (mgre_out(hub, ip, len) != VPN_ROUTER_DROP_NOT_IP)
                fail_msg("%s cut at %zu: taken as IP", cases[i].dst, len);
            not_ip++;
        }
        for (size_t len = need; len <= whole; len++) {
            vpn_router_drop r = mgre_out(hub, ip, len);
            if (r != cases[i].whole)
                fail_msg("%s at %zu bytes: %s", cases[i].dst, len, vpn_router_drop_name(r));
            no_nbma += r == VPN_ROUTER_DROP_NO_NBMA;
        }
        /* the same bytes under another version nibble are not IP */
        for (unsigned v = 0; v < 16; v++) {
            if (v == 4 || v == 6)
                continue;
            ip[0] = (uint8_t)(v << 4 | (ip[0] & 0x0f));
            assert_int_equal(mgre_out(hub, ip, whole), VPN_ROUTER_DROP_NOT_IP);
            not_ip++;
        }
    }
    vpn_router_stats_get(hub->r, &st);
    assert_int_equal(st.drops[VPN_ROUTER_DROP_NOT_IP], not_ip);
    assert_int_equal(st.drops[VPN_ROUTER_DROP_NO_NBMA], no_nbma);
    assert_int_equal(hub->esp_sent, 0);
    assert_int_equal(hub->ike_sent, 0);
    assert_int_equal(hub->log.errors, 0);
    rn_free(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ikev2_garbage_port_500),
        cmocka_unit_test(test_ikev2_garbage_port_4500),
        cmocka_unit_test(test_esp_garbage),
        cmocka_unit_test(test_mgre_odd_inner),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
