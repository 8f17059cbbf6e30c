/*
 * DMVPN phase 3 in the router core: a hub and three spokes, each a
 * vpn_router with one multipoint GRE tunnel (Tunnel0, NHRP, tunnel
 * protection), on an in-memory network with a counter clock. The driver
 * part (routing, in router-mnet.h, shared with router-vtemplate-test.c):
 * spokes route 10.0.0.0/16 via the hub's tunnel
 * address (the summary a phase 3 hub advertises) and install the NHRP
 * shortcut routes the router's events announce; the hub routes each
 * spoke's LAN to that spoke's tunnel address and forwards what arrives for
 * another spoke back into the tunnel.
 *
 * Node i: NBMA 192.0.2.(i+1), tunnel 172.16.0.(i+1)/24, LAN 10.0.(i+1).0/24;
 * node 0 is the hub.
 */
#include "router-mnet.h"

/* ---- nodes ---------------------------------------------------------------------- */

static char *mn_conf_text(int idx, unsigned holdtime, const char *tunnel_extra)
{
    char *buf = malloc(4096);
    assert_non_null(buf);
    snprintf(buf, 4096,
             "hostname R%d\n"
             "crypto ikev2 proposal P1\n"
             " encryption aes-cbc-256\n"
             " integrity sha256\n"
             " group 19\n"
             "crypto ikev2 policy POL1\n"
             " proposal P1\n"
             "crypto ikev2 keyring KR\n"
             " peer ANY\n"
             "  address 0.0.0.0 0.0.0.0\n"
             "  pre-shared-key dmvpn-key\n"
             "crypto ikev2 profile PROF\n"
             " match identity remote address 192.0.2.0 255.255.255.0\n"
             " authentication local pre-share\n"
             " authentication remote pre-share\n"
             " keyring local KR\n"
             " dpd 10 2 on-demand\n"
             "crypto ipsec transform-set TS esp-aes 256 esp-sha256-hmac\n"
             " mode transport\n"
             "crypto ipsec profile IPP\n"
             " set transform-set TS\n"
             " set ikev2-profile PROF\n"
             "interface Tunnel0\n"
             " ip address 172.16.0.%d 255.255.255.0\n"
             " ip nhrp authentication DMVPN\n"
             " ip nhrp network-id 100\n"
             " ip nhrp holdtime %u\n"
             "%s"
             "%s"
             " tunnel source 192.0.2.%d\n"
             " tunnel mode gre multipoint\n"
             " tunnel key 100\n"
             " tunnel protection ipsec profile IPP\n",
             idx + 1, idx + 1, holdtime,
             idx == 0 ? " ip nhrp map multicast dynamic\n ip nhrp redirect\n"
                      : " ip nhrp nhs 172.16.0.1 nbma 192.0.2.1 multicast\n ip nhrp shortcut\n",
             tunnel_extra ? tunnel_extra : "", idx + 1);
    return buf;
}

/* ---- tests ---------------------------------------------------------------------- */

/* Established IKE SAs of nd with the peer at NBMA address nbma, and the
 * CHILD_SAs they carry. */
static size_t ike_sas_with(const mn_node *nd, const char *nbma, size_t *children)
{
    const vpn_ikev2_ctx *ike = vpn_router_ikev2(nd->r);
    vpn_addr a = addr_of(nbma);
    size_t n = 0;

    *children = 0;
    for (size_t i = 0; i < vpn_ikev2_sa_count(ike); i++) {
        vpn_ikev2_sa_info info;
        if (vpn_ikev2_sa_get(ike, i, &info) != 0 || info.state != VPN_IKEV2_SA_ESTABLISHED ||
            !vpn_addr_eq(&info.remote.addr, &a))
            continue;
        n++;
        *children += info.n_children;
    }
    return n;
}

/* Two spokes resolve each other `offset_ms` apart (`first` first), so both
 * answer a resolution and both start IKE: RFC 7296 2.4 INITIAL_CONTACT
 * must not make either side drop the SA made concurrently, and the
 * duplicate rule must leave both ends on the same single pair. */
static void crossed(mn_net *n, int first, unsigned offset_ms)
{
    int second = first == 1 ? 3 : 1;
    mn_node *a = &n->node[first], *b = &n->node[second], *hub = &n->node[0];
    char lan[32], na[32], nb[32];
    vpn_router_peer_info pa, pb;
    size_t ca, cb;
    uint64_t start, fwd;
    unsigned na0, nb0;

    mn_init(n, 4, 60);
    mn_run_for(n, 3);
    na0 = a->initiated;
    nb0 = b->initiated;
    snprintf(lan, sizeof lan, "10.0.%d.1", second + 1);
    {
        vpn_addr d = addr_of(lan);
        assert_int_equal(vpn_router_nhrp_resolve(a->r, n->now, a->tunnel, &d), 0);
    }
    mn_run_until(n, n->now + offset_ms * MN_MS);
    snprintf(lan, sizeof lan, "10.0.%d.1", first + 1);
    {
        vpn_addr d = addr_of(lan);
        assert_int_equal(vpn_router_nhrp_resolve(b->r, n->now, b->tunnel, &d), 0);
    }
    /* up, and past the rekey grace after which a duplicate goes */
    mn_run_for(n, 3);
    snprintf(na, sizeof na, "192.0.2.%d", first + 1);
    snprintf(nb, sizeof nb, "192.0.2.%d", second + 1);
    /* the case under test: each answered the other's resolution with IKE */
    assert_int_equal(a->initiated, na0 + 1);
    assert_int_equal(b->initiated, nb0 + 1);
    assert_int_equal(ike_sas_with(a, nb, &ca), 1);
    assert_int_equal(ca, 1);
    assert_int_equal(ike_sas_with(b, na, &cb), 1);
    assert_int_equal(cb, 1);
    assert_true(peer_up(a, nb, &pa));
    assert_true(peer_up(b, na, &pb));
    /* both ends on the pair of one IKE SA: each sends on what the other receives */
    {
        vpn_sa_config oa, ob, ia, ib;
        vpn_router_sa_ref ria, rib, roa, rob;
        assert_true(vpn_router_child_sas(a->r, pa.out_child, &ria, &roa));
        assert_true(vpn_router_child_sas(b->r, pb.out_child, &rib, &rob));
        assert_true(vpn_router_sa_get(a->r, &roa, &oa, NULL));
        assert_true(vpn_router_sa_get(b->r, &rib, &ib, NULL));
        assert_true(vpn_router_sa_get(b->r, &rob, &ob, NULL));
        assert_true(vpn_router_sa_get(a->r, &ria, &ia, NULL));
        assert_int_equal(oa.spi, ib.spi);
        assert_int_equal(ob.spi, ia.spi);
    }
    /* traffic both ways over the shortcut, none lost */
    start = n->now;
    fwd = hub->forwarded;
    mn_traffic(a, second, 50);
    mn_traffic(b, first, 50);
    mn_run_for(n, 4);
    assert_int_equal(mn_lost(a, b, start), 0);
    assert_int_equal(mn_lost(b, a, start), 0);
    assert_true(b->rx[first] >= 4 * 50 - 2);
    assert_true(a->rx[second] >= 4 * 50 - 2);
    assert_int_equal(hub->forwarded, fwd);
    assert_int_equal(ike_sas_with(a, nb, &ca), 1);
    assert_int_equal(ike_sas_with(b, na, &cb), 1);
    mn_free(n);
}

static void test_crossed_resolutions(void **state)
{
    static const unsigned offsets[] = {0, 1, 3, 5, 10};
    (void)state;

    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
        crossed(g_net, 1, offsets[i]);
        crossed(g_net, 3, offsets[i]);
    }
}

/* Every spoke brings IKE up to the hub and registers over it. */
static void test_registration(void **state)
{
    mn_net *n = g_net;
    (void)state;

    mn_init(n, 4, 60);
    mn_run_for(n, 3);
    for (int i = 1; i < 4; i++) {
        mn_node *s = &n->node[i];
        vpn_nhrp_nhs_info ni;
        assert_true(peer_up(s, "192.0.2.1", NULL));
        assert_int_equal(vpn_nhrp_nhs_get(vpn_router_nhrp(s->r, s->tunnel), 0, &ni), 0);
        assert_true(ni.up);
        assert_int_equal(vpn_router_mgre_peer_count(s->r, s->tunnel), 1);
        assert_int_equal(ike_sas(s), 1);
    }
    /* the hub: one dynamic entry, one peer and one IKE SA per spoke, one device */
    assert_int_equal(entries_of(&n->node[0], VPN_NHRP_ENTRY_DYNAMIC), 3);
    assert_int_equal(vpn_router_mgre_peer_count(n->node[0].r, 0), 3);
    assert_int_equal(vpn_router_tunnel_count(n->node[0].r), 1);
    assert_int_equal(ike_sas(&n->node[0]), 3);
    assert_true(peer_up(&n->node[0], "192.0.2.2", NULL));
    assert_true(peer_up(&n->node[0], "192.0.2.4", NULL));
    /* no spoke talks to another yet */
    assert_int_equal(entries_of(&n->node[1], VPN_NHRP_ENTRY_SHORTCUT), 0);
    mn_free(n);
}

/* Phase 3: first packets via the hub, the hub redirects, the spokes
 * resolve each other, the shortcut comes up with its own IKE/IPsec SA and
 * the traffic moves to it without a loss. */
static void test_shortcut_zero_loss(void **state)
{
    mn_net *n = g_net;
    mn_node *hub = &n->node[0], *s1 = &n->node[1], *s3 = &n->node[3];
    vpn_router_peer_info pi, pi3;
    uint64_t fwd, start;
    vpn_show_buf b;
    char text[8192];
    (void)state;

    mn_init(n, 4, 60);
    mn_run_for(n, 3);
    start = n->now;
    mn_traffic(s1, 3, 50);
    mn_traffic(s3, 1, 50);
    mn_run_for(n, 0.2);
    /* the first packets crossed the hub, which redirected both spokes */
    assert_true(hub->forwarded > 0);
    assert_true(hub->redirects_tx >= 1);
    assert_true(s1->redirects_rx >= 1);
    mn_run_for(n, 3);
    assert_true(s1->sc_installed >= 1);
    assert_true(s3->sc_installed >= 1);
    assert_true(s1->first_shortcut_at > start && s1->first_shortcut_at - start < 2 * MN_NS);
    /* the route H: 10.0.4.0/24 via 172.16.0.4 */
    assert_int_equal(s1->n_sc, 1);
    assert_int_equal(s1->sc[0].p.len, 24);
    assert_true(vpn_addr_eq(&s1->sc[0].nh, &s3->tun));
    assert_int_equal(entries_of(s1, VPN_NHRP_ENTRY_SHORTCUT), 1);
    /* a spoke-to-spoke SA pair and IKE SA */
    assert_true(peer_up(s1, "192.0.2.4", &pi));
    assert_true(peer_up(s3, "192.0.2.2", &pi3));
    assert_int_equal(ike_sas(s1), 2);
    /* traffic now goes direct: the hub forwards no more */
    fwd = hub->forwarded;
    mn_run_for(n, 2);
    assert_int_equal(hub->forwarded, fwd);
    assert_true(peer_up(s1, "192.0.2.4", &pi3));
    assert_true(pi3.encrypted >= pi.encrypted + 90);
    /* not one packet lost across the move */
    assert_int_equal(mn_lost(s1, s3, start), 0);
    assert_int_equal(mn_lost(s3, s1, start), 0);
    assert_true(s3->rx[1] >= 5 * 50 - 2);
    /* spoke 2 saw none of it */
    assert_int_equal(vpn_router_mgre_peer_count(n->node[2].r, 0), 1);
    /* the views */
    vpn_show_init(&b, text, sizeof text);
    assert_int_equal(vpn_router_show_dmvpn(s1->r, n->now, s1->tunnel, true, &b), 0);
    assert_non_null(strstr(text, "192.0.2.4"));
    assert_non_null(strstr(text, "UP-ACTIVE"));
    vpn_show_init(&b, text, sizeof text);
    assert_int_equal(vpn_router_show_ip_nhrp(s1->r, n->now, s1->tunnel, &b), 0);
    assert_non_null(strstr(text, "10.0.4.0/24"));
    /* show ip nhrp traffic: the hub's copied-out counters, by type */
    {
        vpn_nhrp_stats hs;
        uint64_t total = 0;
        char want[96];
        vpn_nhrp_stats_get(vpn_router_nhrp(hub->r, hub->tunnel), &hs);
        assert_true(hs.rx[VPN_NHRP_REG_REQ] >= 3); /* every spoke registered */
        assert_true(hs.tx[VPN_NHRP_REG_REPLY] >= 3);
        for (int t = 1; t <= VPN_NHRP_TYPE_MAX; t++)
            total += hs.rx[t];
        vpn_show_init(&b, text, sizeof text);
        assert_int_equal(vpn_router_show_ip_nhrp_traffic(hub->r, hub->tunnel, &b), 0);
        snprintf(want, sizeof want, "   Rcvd: Total %llu\n", (unsigned long long)total);
        assert_non_null(strstr(text, want));
        snprintf(want, sizeof want, "%llu Registration Request",
                 (unsigned long long)hs.rx[VPN_NHRP_REG_REQ]);
        assert_non_null(strstr(text, want));
        assert_int_equal(strncmp(text, "Tunnel0:\n   Sent: Total ", 24), 0);
        /* NULL-safe: zeros for no engine; no traffic view of a tunnel
         * that is not mGRE */
        memset(&hs, 0xff, sizeof hs);
        vpn_nhrp_stats_get(NULL, &hs);
        assert_int_equal(hs.rx[VPN_NHRP_REG_REQ] + hs.malformed, 0);
        vpn_show_init(&b, text, sizeof text);
        assert_int_equal(vpn_router_show_ip_nhrp_traffic(hub->r, 99, &b), VPN_ERR_INVAL);
        assert_int_equal(vpn_router_show_ip_nhrp_traffic(NULL, 0, &b), VPN_ERR_INVAL);
    }
    vpn_show_init(&b, text, sizeof text);
    assert_int_equal(vpn_router_show_crypto_session(hub->r, n->now, false, &b), 0);
    assert_non_null(strstr(text, "192.0.2.2"));
    assert_non_null(strstr(text, "192.0.2.4"));
    mn_free(n);
}

/* With no traffic the shortcut expires with its holding time, and the
 * spoke-to-spoke IKE and IPsec SAs go with it; the hub's stay. */
static void test_expiry_tears_down(void **state)
{
    mn_net *n = g_net;
    mn_node *s1 = &n->node[1], *s3 = &n->node[3];
    vpn_sad_stats st;
    (void)state;

    mn_init(n, 4, 30);
    mn_run_for(n, 3);
    mn_traffic(s1, 3, 50);
    mn_run_for(n, 3);
    mn_traffic(s1, 3, 0);
    assert_true(peer_up(s1, "192.0.2.4", NULL));
    assert_int_equal(ike_sas(s1), 2);
    mn_run_for(n, 35);
    assert_true(s1->sc_removed >= 1);
    assert_int_equal(s1->n_sc, 0);
    assert_int_equal(entries_of(s1, VPN_NHRP_ENTRY_SHORTCUT), 0);
    assert_true(s1->peer_down >= 1);
    assert_false(peer_up(s1, "192.0.2.4", NULL));
    assert_false(peer_up(s3, "192.0.2.2", NULL));
    assert_int_equal(ike_sas(s1), 1);
    assert_int_equal(ike_sas(s3), 1);
    vpn_router_sad_stats(s1->r, &st);
    assert_int_equal(vpn_router_sa_list(s1->r, NULL, 0), 2); /* the pair to the hub */
    /* registrations were refreshed: the hub path works */
    assert_true(peer_up(s1, "192.0.2.1", NULL));
    assert_int_equal(entries_of(&n->node[0], VPN_NHRP_ENTRY_DYNAMIC), 3);
    /* new traffic finds its way again: via the hub, then a new shortcut */
    mn_traffic(s1, 3, 50);
    mn_run_for(n, 3);
    assert_true(peer_up(s1, "192.0.2.4", NULL));
    assert_int_equal(s1->n_sc, 1);
    mn_free(n);
}

/* A spoke reboots: it registers again, and its peer's stale shortcut SA is
 * found dead (on-demand DPD) and replaced; traffic flows direct again. */
static void test_reboot_reregisters(void **state)
{
    mn_net *n = g_net;
    mn_node *hub = &n->node[0], *s1 = &n->node[1], *s3 = &n->node[3];
    vpn_router_peer_info before, after;
    uint64_t since, fwd;
    (void)state;

    mn_init(n, 4, 60);
    mn_run_for(n, 3);
    mn_traffic(s1, 3, 50);
    mn_traffic(s3, 1, 50);
    mn_run_for(n, 3);
    assert_true(peer_up(s1, "192.0.2.4", &before));
    /* spoke 3 loses power for two seconds and boots with nothing */
    n->down[3] = true;
    mn_run_for(n, 2);
    mn_boot(n, 3);
    n->down[3] = false;
    mn_traffic(s3, 1, 50);
    mn_run_for(n, 2);
    assert_true(peer_up(s3, "192.0.2.1", NULL));
    assert_int_equal(entries_of(hub, VPN_NHRP_ENTRY_DYNAMIC), 3);
    /* within DPD's time (10 s, 2 s retries) spoke 1 has a new SA with spoke 3 */
    mn_run_for(n, 25);
    assert_true(peer_up(s1, "192.0.2.4", &after));
    assert_int_not_equal(after.ike_sa_id, before.ike_sa_id);
    assert_int_not_equal(after.out_sa.spi, before.out_sa.spi);
    assert_true(s1->n_sc == 1 && vpn_addr_eq(&s1->sc[0].nh, &s3->tun));
    /* and from then on nothing is lost, and nothing crosses the hub */
    since = n->now;
    fwd = hub->forwarded;
    mn_run_for(n, 3);
    assert_int_equal(mn_lost(s1, s3, since), 0);
    assert_int_equal(mn_lost(s3, s1, since), 0);
    assert_true(s3->rx[1] > 0);
    assert_int_equal(hub->forwarded, fwd);
    mn_free(n);
}

/* Multicast into the hub's tunnel reaches every registered spoke once
 * (ip nhrp map multicast dynamic), and a spoke's goes to its NHS, which
 * delivers it without asking its routes about a redirect (a routing
 * protocol's update is for the hub itself). */
static void test_multicast_replication(void **state)
{
    mn_net *n = g_net;
    mn_node *hub = &n->node[0];
    uint8_t pkt[128], pl[8] = {0};
    vpn_addr s, d = addr_of("224.0.0.9");
    static uint8_t buf[MN_BUF];
    vpn_pkt p;
    size_t len;
    (void)state;

    mn_init(n, 4, 60);
    mn_run_for(n, 3);
    s = addr_of("172.16.0.1");
    len = tu_build_udp(pkt, sizeof pkt, &s, &d, 520, 520, 0, pl, sizeof pl);
    vpn_pkt_init(&p, buf, sizeof buf, VPN_PKT_HEADROOM);
    memcpy(vpn_pkt_put(&p, len), pkt, len);
    assert_int_equal(vpn_router_mgre_output(hub->r, n->now, hub->tunnel, NULL, &p), VPN_ROUTER_DROP_NONE);
    mn_run_for(n, 0.1);
    for (int i = 1; i < 4; i++)
        assert_int_equal(n->node[i].mcast_rx, 1);
    s = addr_of("172.16.0.3");
    len = tu_build_udp(pkt, sizeof pkt, &s, &d, 520, 520, 0, pl, sizeof pl);
    vpn_pkt_init(&p, buf, sizeof buf, VPN_PKT_HEADROOM);
    memcpy(vpn_pkt_put(&p, len), pkt, len);
    assert_int_equal(vpn_router_mgre_output(n->node[2].r, n->now, 0, NULL, &p), VPN_ROUTER_DROP_NONE);
    mn_run_for(n, 0.1);
    assert_int_equal(hub->mcast_rx, 1);
    assert_int_equal(n->node[1].mcast_rx, 1);
    assert_int_equal(hub->mcast_routed, 0);
    assert_int_equal(hub->redirects_tx, 0);
    mn_free(n);
}

/* What the mGRE path refuses: not IP, no NHRP entry, a GRE key that is not
 * ours, an mGRE tunnel without NHRP; state stays as it was. */
static void test_refusals(void **state)
{
    mn_net *n = g_net;
    mn_node *s1 = &n->node[1];
    static uint8_t buf[MN_BUF];
    uint8_t junk[40] = {0x10};
    vpn_addr nh = addr_of("172.16.0.77");
    vpn_router_tunnel_config tc;
    vpn_nhrp_entry_info e;
    vpn_pkt p;
    vpn_router_stats st;
    uint8_t pkt[128], pl[8] = {0};
    vpn_addr s = addr_of("10.0.2.1"), d = addr_of("10.9.9.9");
    size_t len;
    uint32_t id;
    (void)state;

    mn_init(n, 4, 60);
    mn_run_for(n, 3);
    vpn_pkt_init(&p, buf, sizeof buf, VPN_PKT_HEADROOM);
    memcpy(vpn_pkt_put(&p, sizeof junk), junk, sizeof junk);
    assert_int_equal(vpn_router_mgre_output(s1->r, n->now, 0, NULL, &p), VPN_ROUTER_DROP_NOT_IP);
    len = tu_build_udp(pkt, sizeof pkt, &s, &d, 1, 2, 0, pl, sizeof pl);
    vpn_pkt_init(&p, buf, sizeof buf, VPN_PKT_HEADROOM);
    memcpy(vpn_pkt_put(&p, len), pkt, len);
    assert_int_equal(vpn_router_mgre_output(s1->r, n->now, 0, &nh, &p), VPN_ROUTER_DROP_NO_NBMA);
    assert_int_equal(vpn_router_mgre_output(s1->r, n->now, 5, &nh, &p), VPN_ROUTER_DROP_ARGS);
    assert_int_equal(vpn_router_mgre_output(NULL, n->now, 0, &nh, &p), VPN_ROUTER_DROP_ARGS);
    /* an mGRE tunnel needs its NHRP parameters */
    memset(&tc, 0, sizeof tc);
    tc.mode = VPN_ROUTER_TUNNEL_MGRE;
    tc.src = s1->nbma;
    tc.ipsec_profile = "IPP";
    assert_int_equal(vpn_router_tunnel_add(s1->r, &tc, &id), VPN_ERR_INVAL);
    assert_int_equal(vpn_router_tunnel_count(s1->r), 1);
    assert_null(vpn_router_nhrp(s1->r, 3));
    assert_int_equal(vpn_router_nhrp_resolve(s1->r, n->now, 3, &d), VPN_ERR_INVAL);
    assert_int_equal(vpn_router_mgre_peer_get(s1->r, 0, &nh, NULL), VPN_ERR_INVAL);
    /* the hub still answers: the state is intact */
    vpn_router_stats_get(s1->r, &st);
    assert_true(st.drops[VPN_ROUTER_DROP_NO_NBMA] == 1 && st.drops[VPN_ROUTER_DROP_NOT_IP] == 1);
    assert_int_equal(vpn_nhrp_lookup((vpn_nhrp *)vpn_router_nhrp(s1->r, 0), &n->node[0].tun, &e), 0);
    mn_traffic(s1, 2, 50);
    mn_run_for(n, 2);
    assert_int_equal(mn_lost(s1, &n->node[2], 0), 0);
    assert_true(n->node[2].rx[1] > 50);
    mn_free(n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registration),
        cmocka_unit_test(test_shortcut_zero_loss),
        cmocka_unit_test(test_expiry_tears_down),
        cmocka_unit_test(test_reboot_reregisters),
        cmocka_unit_test(test_multicast_replication),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_crossed_resolutions),
    };
    int rc;

    g_net = calloc(1, sizeof *g_net);
    if (g_net == NULL)
        return 1;
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    free(g_net);
    return rc;
}
