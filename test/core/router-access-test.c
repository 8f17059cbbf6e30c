/*
 * The router's ACCESS tunnel (Virtual-Template, FlexVPN remote access): a
 * client router (VTI, `authentication local eap mschapv2`) against a hub
 * whose one ACCESS tunnel answers any peer. Checks that the hub routes a
 * packet to the client's assigned address into that client's CHILD_SA and
 * delivers what comes back, that packets to addresses nobody holds and
 * packets from a source the client was not given are refused, that a
 * CHILD_SA rekey under traffic loses nothing, that the hub never
 * initiates, and that after the client goes the address is back in the
 * pool and nothing routes to it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "ikev2/ikev2-engine.h"
#include "router-net.h"
#include "engine-params.h"

static const char hub_conf[] =
    TU_RA_HUB_AAA
    "ip local pool RA-POOL 10.99.0.10 10.99.0.11\n"
    "crypto ikev2 authorization policy RA-POL\n"
    " pool RA-POOL\n"
    TU_RA_IKE_PROPOSAL
    TU_RA_HUB_PROFILE
    TU_RA_IPSEC_PROFILE
    "interface Virtual-Template1 type tunnel\n"
    " tunnel mode ipsec ipv4\n"
    " tunnel protection ipsec profile IPP\n";

static const char client_conf_fmt[] =
    TU_RA_CLIENT_HEAD
    " identity local fqdn alice.example\n"
    " authentication remote pre-share key hubkey\n"
    " authentication local eap mschapv2 username alice password %s\n"
    TU_RA_IPSEC_PROFILE;

/* Node 0: the client (initiates); node 1: the hub with the ACCESS tunnel. */
static void ra_net(rn_net *n, const char *password)
{
    char conf[2048];
    snprintf(conf, sizeof conf, client_conf_fmt, password);
    rn_init(n);
    rn_add(n, 1, hub_conf, VPN_ROUTER_TUNNEL_ACCESS, true, NULL);
    rn_add(n, 0, conf, VPN_ROUTER_TUNNEL_VTI, true, NULL);
    assert_int_equal(vpn_router_start(n->node[1].r, n->now), 0);
    assert_int_equal(vpn_router_start(n->node[0].r, n->now), 0);
}

/* One numbered UDP packet src -> dst into nd's tunnel. */
static vpn_router_drop ra_send(rn_node *nd, const char *src, const char *dst)
{
    static uint8_t buf[RN_BUF];
    uint8_t payload[64];
    vpn_addr s = tu_addr(src), d = tu_addr(dst);
    vpn_pkt pkt;
    uint32_t seq = nd->tx_seq++;

    memset(payload, 0x5a, sizeof payload);
    payload[0] = (uint8_t)(seq >> 24);
    payload[1] = (uint8_t)(seq >> 16);
    payload[2] = (uint8_t)(seq >> 8);
    payload[3] = (uint8_t)seq;
    vpn_pkt_init(&pkt, buf, sizeof buf, VPN_PKT_HEADROOM);
    pkt.len = tu_build_udp(vpn_pkt_data(&pkt), 2048, &s, &d, 4000, 5000, 0, payload, sizeof payload);
    nd->sent_at[seq] = nd->net->now;
    return vpn_router_tunnel_output(nd->r, nd->net->now, nd->tunnel, &pkt);
}

static uint32_t pool_in_use(rn_node *hub)
{
    vpn_ikev2_pool_info pi;
    assert_int_equal(vpn_ikev2_pool_get(vpn_router_ikev2(hub->r), 0, &pi), 0);
    assert_string_equal(pi.name, "RA-POOL");
    return pi.in_use;
}

static void assigned(rn_node *nd, char *out, size_t len)
{
    vpn_ikev2_sa_info info;
    assert_int_equal(vpn_ikev2_sa_get(vpn_router_ikev2(nd->r), 0, &info), 0);
    vpn_addr_str(&info.assigned, out, len);
}

static void test_access_traffic(void **state)
{
    (void)state;
    rn_net n;
    rn_node *cl, *hub;
    char a[VPN_ADDR_STRLEN], b[VPN_ADDR_STRLEN];
    vpn_router_tunnel_info ti;

    ra_net(&n, "Secr3t!");
    cl = &n.node[0];
    hub = &n.node[1];
    /* the hub never initiates towards a client */
    assert_int_equal(vpn_router_tunnel_initiate(hub->r, n.now, hub->tunnel), VPN_ERR_INVAL);
    rn_run_for(&n, 2);
    assert_int_equal(rn_count(hub, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_UP), 1);
    assert_int_equal(rn_count(cl, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_UP), 1);
    assigned(hub, a, sizeof a);
    assigned(cl, b, sizeof b);
    assert_string_equal(a, "10.99.0.10");
    assert_string_equal(b, "10.99.0.10");
    assert_int_equal(pool_in_use(hub), 1);
    /* an ACCESS tunnel has no single outbound SA */
    assert_int_equal(vpn_router_tunnel_get(hub->r, hub->tunnel, &ti), 0);
    assert_int_equal(ti.out_child, 0);
    assert_int_equal(ti.mode, VPN_ROUTER_TUNNEL_ACCESS);

    /* hub -> the client's address, and back from it */
    for (int i = 0; i < 10; i++) {
        assert_int_equal(ra_send(hub, "10.1.0.1", "10.99.0.10"), VPN_ROUTER_DROP_NONE);
        assert_int_equal(ra_send(cl, "10.99.0.10", "10.1.0.1"), VPN_ROUTER_DROP_NONE);
        rn_run_for(&n, 0.05);
    }
    assert_int_equal(cl->rx, 10);
    assert_int_equal(hub->rx, 10);

    /* nobody holds 10.99.0.11: no SA, and no IKE started for it */
    assert_int_equal(ra_send(hub, "10.1.0.1", "10.99.0.11"), VPN_ROUTER_DROP_NO_SA);
    assert_int_equal(vpn_router_next_deadline(hub->r) > n.now, true);
    /* not an IP packet at all */
    {
        static uint8_t buf[RN_BUF];
        vpn_pkt pkt;
        vpn_pkt_init(&pkt, buf, sizeof buf, VPN_PKT_HEADROOM);
        memset(vpn_pkt_put(&pkt, 10), 0x45, 10); /* too short for an IPv4 header */
        assert_int_equal(vpn_router_tunnel_output(hub->r, n.now, hub->tunnel, &pkt), VPN_ROUTER_DROP_NO_SA);
    }
    rn_run_for(&n, 1);
    assert_int_equal(vpn_ikev2_sa_count(vpn_router_ikev2(hub->r)), 1);
    assert_int_equal(cl->rx, 10);
    rn_free(&n);
}

/* IPv6 inner traffic (RFC 7296 3.15.1): the hub's `ipv6 pool` and a client
 * whose VTI is `tunnel mode ipsec dual-overlay` (its policy offers ::/0
 * beside 0.0.0.0/0, so it asks for an IPv6 address too). One CHILD_SA
 * carries both families: the hub picks it for the user's /128 as for its
 * /32, IPv6 comes back from the user's address, an IPv6 address nobody
 * holds has no SA; a plain VTI client (no dual-overlay) gets no IPv6. */
static const char hub6_conf[] =
    TU_RA_HUB_AAA
    "ip local pool RA-POOL 10.99.0.10 10.99.0.11\n"
    "ipv6 local pool RA-POOL6 2001:db8:99::/126 128\n"
    "crypto ikev2 authorization policy RA-POL\n"
    " pool RA-POOL\n"
    " ipv6 pool RA-POOL6\n"
    TU_RA_IKE_PROPOSAL
    TU_RA_HUB_PROFILE
    TU_RA_IPSEC_PROFILE
    "interface Virtual-Template1 type tunnel\n"
    " tunnel mode ipsec ipv4\n"
    " tunnel protection ipsec profile IPP\n";

static void test_access_ipv6(void **state)
{
    (void)state;
    for (int dual = 1; dual >= 0; dual--) {
        rn_net n;
        rn_node *cl, *hub;
        char conf[2048], a[VPN_ADDR_STRLEN];
        vpn_ikev2_sa_info info;
        snprintf(conf, sizeof conf, client_conf_fmt, "Secr3t!");
        rn_init(&n);
        hub = rn_add(&n, 1, hub6_conf, VPN_ROUTER_TUNNEL_ACCESS, true, NULL);
        cl = rn_add_dual(&n, 0, conf, VPN_ROUTER_TUNNEL_VTI, true, NULL, dual);
        assert_int_equal(vpn_router_start(hub->r, n.now), 0);
        assert_int_equal(vpn_router_start(cl->r, n.now), 0);
        rn_run_for(&n, 2);
        assert_int_equal(rn_count(hub, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_UP), 1);
        assert_int_equal(vpn_ikev2_sa_get(vpn_router_ikev2(cl->r), 0, &info), 0);
        if (!dual) {
            /* IPv4 selectors only: no IPv6 asked for, none given, none routed */
            assert_int_equal(info.assigned6.family, VPN_AF_NONE);
            assert_int_equal(ra_send(hub, "2001:db8:1::1", "2001:db8:99::1"), VPN_ROUTER_DROP_NO_SA);
            assert_int_equal(ra_send(hub, "10.1.0.1", "10.99.0.10"), VPN_ROUTER_DROP_NONE);
            rn_run_for(&n, 0.1);
            assert_int_equal(cl->rx, 1);
            rn_free(&n);
            continue;
        }
        assert_string_equal(vpn_addr_str(&info.assigned6, a, sizeof a), "2001:db8:99::1");
        assert_string_equal(vpn_addr_str(&info.assigned, a, sizeof a), "10.99.0.10");
        for (int i = 0; i < 10; i++) {
            assert_int_equal(ra_send(hub, "2001:db8:1::1", "2001:db8:99::1"), VPN_ROUTER_DROP_NONE);
            assert_int_equal(ra_send(cl, "2001:db8:99::1", "2001:db8:1::1"), VPN_ROUTER_DROP_NONE);
            assert_int_equal(ra_send(hub, "10.1.0.1", "10.99.0.10"), VPN_ROUTER_DROP_NONE);
            rn_run_for(&n, 0.05);
        }
        assert_int_equal(cl->rx, 20);
        assert_int_equal(hub->rx, 10);
        assert_int_equal(cl->rx_dup + hub->rx_dup, 0);
        /* ::2 is nobody's */
        assert_int_equal(ra_send(hub, "2001:db8:1::1", "2001:db8:99::2"), VPN_ROUTER_DROP_NO_SA);
        /* from an IPv6 source the client was not given: refused at the hub */
        assert_int_equal(ra_send(cl, "2001:db8:99::2", "2001:db8:1::1"), VPN_ROUTER_DROP_NONE);
        rn_run_for(&n, 0.1);
        assert_int_equal(hub->rx, 10);
        rn_free(&n);
    }
}

/* A packet from a source the client was not given, under the client's
 * valid SA: the hub's SA check drops it (ESP_POLICY), delivers nothing. */
static void test_access_spoofed_source(void **state)
{
    (void)state;
    rn_net n;
    rn_node *cl, *hub;

    ra_net(&n, "Secr3t!");
    cl = &n.node[0];
    hub = &n.node[1];
    rn_run_for(&n, 2);
    assert_int_equal(rn_count(hub, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_UP), 1);
    /* the client's router does not check the source on the way out (a
     * forged packet under a valid SA, then): the hub's inbound SA does */
    ra_send(cl, "10.99.0.11", "10.1.0.1");
    ra_send(cl, "10.1.0.7", "10.1.0.1");
    rn_run_for(&n, 0.1);
    assert_int_equal(hub->rx, 0);
    assert_int_equal(hub->drops[VPN_ROUTER_DROP_ESP_POLICY], 2);
    /* and the genuine source still passes */
    assert_int_equal(ra_send(cl, "10.99.0.10", "10.1.0.1"), VPN_ROUTER_DROP_NONE);
    rn_run_for(&n, 0.1);
    assert_int_equal(hub->rx, 1);
    rn_free(&n);
}

/* The first len bytes of data into nd's tunnel. */
static vpn_router_drop ra_raw(rn_node *nd, const uint8_t *data, size_t len)
{
    static uint8_t buf[RN_BUF];
    vpn_pkt pkt;

    rn_pkt_of(&pkt, buf, data, len);
    return vpn_router_tunnel_output(nd->r, nd->net->now, nd->tunnel, &pkt);
}

/* Odd and truncated inner packets into the hub's ACCESS tunnel: the
 * destination is taken from the fixed header only when all of it is there
 * (RFC 791 3.1 octets 16-19, RFC 8200 3 octets 24-39); a shorter packet
 * goes to no client, a first nibble other than 4 or 6 is not IP. Each is
 * counted once, nothing is sent, and the client still gets its traffic. */
static void test_access_odd_packets(void **state)
{
    (void)state;
    rn_net n;
    rn_node *cl, *hub;
    vpn_addr s = tu_addr("10.1.0.1"), d = tu_addr("10.99.0.10");
    vpn_addr s6 = tu_addr("2001:db8::1"), d6 = tu_addr("2001:db8::10");
    static const uint8_t none[1] = {0}; /* an empty UDP payload */
    uint8_t v4[64], v6[64];
    size_t n4, n6;
    uint64_t esp_sent;

    ra_net(&n, "Secr3t!");
    cl = &n.node[0];
    hub = &n.node[1];
    rn_run_for(&n, 2);
    assert_int_equal(rn_count(hub, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_UP), 1);
    n4 = tu_build_udp(v4, sizeof v4, &s, &d, 4000, 5000, 0, none, 0);
    n6 = tu_build_udp(v6, sizeof v6, &s6, &d6, 4000, 5000, 0, none, 0);
    assert_int_equal(n4, 28);
    assert_int_equal(n6, 48);
    esp_sent = hub->esp_sent;

    assert_int_equal(ra_raw(hub, v4, 0), VPN_ROUTER_DROP_NOT_IP);
    /* IPv4 to the client, cut anywhere before the end of its destination */
    for (size_t len = 1; len < 20; len++)
        assert_int_equal(ra_raw(hub, v4, len), VPN_ROUTER_DROP_NO_SA);
    /* IPv6 (the client holds no IPv6 address), whole or cut short */
    for (size_t len = 1; len <= n6; len++)
        assert_int_equal(ra_raw(hub, v6, len), VPN_ROUTER_DROP_NO_SA);
    /* not IP: versions 0, 5 and 15 at the lengths of either header */
    for (unsigned v = 0; v < 16; v += 5) {
        uint8_t odd[40];
        memcpy(odd, v6, sizeof odd);
        odd[0] = (uint8_t)(v << 4 | 5);
        assert_int_equal(ra_raw(hub, odd, 1), VPN_ROUTER_DROP_NOT_IP);
        assert_int_equal(ra_raw(hub, odd, 20), VPN_ROUTER_DROP_NOT_IP);
        assert_int_equal(ra_raw(hub, odd, 40), VPN_ROUTER_DROP_NOT_IP);
    }
    assert_int_equal(hub->drops[VPN_ROUTER_DROP_NOT_IP], 1 + 4 * 3);
    assert_int_equal(hub->drops[VPN_ROUTER_DROP_NO_SA], 19 + n6);
    rn_run_for(&n, 0.5);
    assert_int_equal(hub->esp_sent, esp_sent);
    assert_int_equal(vpn_ikev2_sa_count(vpn_router_ikev2(hub->r)), 1);
    assert_int_equal(cl->rx, 0);

    /* the whole packet goes */
    assert_int_equal(ra_send(hub, "10.1.0.1", "10.99.0.10"), VPN_ROUTER_DROP_NONE);
    rn_run_for(&n, 0.1);
    assert_int_equal(hub->esp_sent, esp_sent + 1);
    assert_int_equal(cl->rx, 1);
    rn_free(&n);
}

static void test_access_rekey_under_traffic(void **state)
{
    (void)state;
    rn_net n;
    rn_node *cl, *hub;
    const rn_ev *up;

    ra_net(&n, "Secr3t!");
    cl = &n.node[0];
    hub = &n.node[1];
    rn_run_for(&n, 2);
    up = rn_find(cl, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_UP, 0);
    assert_non_null(up);
    for (int i = 0; i < 200; i++) {
        if (i == 50)
            assert_int_equal(vpn_router_child_rekey(cl->r, n.now, up->child_id), 0);
        if (i == 120) /* the hub starts the next one */
            assert_int_equal(
                vpn_router_child_rekey(hub->r, n.now,
                                       rn_find(hub, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_UP, 1)->child_id),
                0);
        assert_int_equal(ra_send(hub, "10.1.0.1", "10.99.0.10"), VPN_ROUTER_DROP_NONE);
        assert_int_equal(ra_send(cl, "10.99.0.10", "10.1.0.1"), VPN_ROUTER_DROP_NONE);
        rn_run_for(&n, 0.02);
    }
    rn_run_for(&n, 3);
    assert_int_equal(rn_count(hub, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_UP), 3);
    assert_int_equal(rn_count(hub, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_REKEYED), 2);
    assert_int_equal(rn_lost(hub, cl), 0);
    assert_int_equal(rn_lost(cl, hub), 0);
    assert_int_equal(cl->rx, 200);
    assert_int_equal(hub->rx, 200);
    rn_free(&n);
}

static void test_access_release_on_delete(void **state)
{
    (void)state;
    rn_net n;
    rn_node *cl, *hub;
    vpn_ikev2_sa_info info;

    ra_net(&n, "Secr3t!");
    cl = &n.node[0];
    hub = &n.node[1];
    rn_run_for(&n, 2);
    assert_int_equal(pool_in_use(hub), 1);
    assert_int_equal(vpn_ikev2_sa_get(vpn_router_ikev2(cl->r), 0, &info), 0);
    assert_int_equal(vpn_router_ike_delete(cl->r, n.now, info.id), 0);
    rn_run_for(&n, 1);
    assert_int_equal(pool_in_use(hub), 0);
    assert_int_equal(ra_send(hub, "10.1.0.1", "10.99.0.10"), VPN_ROUTER_DROP_NO_SA);
    rn_free(&n);
}

static void test_access_wrong_password(void **state)
{
    (void)state;
    rn_net n;
    rn_node *hub;

    ra_net(&n, "wrong");
    hub = &n.node[1];
    rn_run_for(&n, 3);
    assert_int_equal(rn_count(hub, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_UP), 0);
    assert_int_equal(rn_count(&n.node[0], VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_UP), 0);
    assert_int_equal(pool_in_use(hub), 0);
    assert_int_equal(ra_send(hub, "10.1.0.1", "10.99.0.10"), VPN_ROUTER_DROP_NO_SA);
    rn_free(&n);
}

static void test_access_config_errors(void **state)
{
    (void)state;
    rn_net n;
    vpn_router_tunnel_config tc;
    uint32_t id;

    ra_net(&n, "Secr3t!");
    memset(&tc, 0, sizeof tc);
    tc.mode = VPN_ROUTER_TUNNEL_ACCESS;
    tc.ipsec_profile = "IPP";
    /* no source address */
    assert_int_equal(vpn_router_tunnel_add(n.node[1].r, &tc, &id), VPN_ERR_INVAL);
    /* the destination is ignored: any family, even none */
    tc.src = tu_addr("192.0.2.2");
    assert_int_equal(vpn_router_tunnel_add(n.node[1].r, &tc, &id), 0);
    /* an unknown ipsec profile is a configuration error */
    tc.ipsec_profile = "NOPE";
    assert_int_not_equal(vpn_router_tunnel_add(n.node[1].r, &tc, &id), 0);
    rn_free(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_access_traffic),
        cmocka_unit_test(test_access_ipv6),
        cmocka_unit_test(test_access_spoofed_source),
        cmocka_unit_test(test_access_odd_packets),
        cmocka_unit_test(test_access_rekey_under_traffic),
        cmocka_unit_test(test_access_release_on_delete),
        cmocka_unit_test(test_access_wrong_password),
        cmocka_unit_test(test_access_config_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
