/*
 * FlexVPN's virtual-template hub in the router core: a hub whose one
 * tunnel is `interface Virtual-Template1 type tunnel` (ip unnumbered
 * Loopback0, NHRP redirect) and three spokes with a point-to-point Tunnel0
 * to it (`ip nhrp shortcut virtual-template 1`) and their own template for
 * sessions from other spokes; every router a vpn_router on an in-memory
 * network with a counter clock. The hub clones Virtual-Access1..3, one per
 * authenticated spoke; the clone goes with its IKE SA; spoke-to-spoke runs
 * after the redirect, each spoke cloning a Virtual-Access for the other.
 * The network harness is router-mnet.h (routing as the driver does).
 *
 * Node i: NBMA 192.0.2.(i+1), tunnel 172.16.0.(i+1), LAN 10.0.(i+1).0/24;
 * node 0 is the hub.
 */
#define MN_EXPECT_VT 1

#include "router-mnet.h"

/* ---- nodes ---------------------------------------------------------------------- */

static char *mn_conf_text(int idx, unsigned holdtime, const char *tunnel_extra)
{
    char *buf = malloc(4096);
    int n;
    assert_non_null(buf);
    n = snprintf(buf, 4096,
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
                 "  pre-shared-key flex-key\n"
                 "crypto ikev2 profile PROF\n"
                 " match identity remote address 192.0.2.0 255.255.255.0\n"
                 " authentication local pre-share\n"
                 " authentication remote pre-share\n"
                 " keyring local KR\n"
                 " dpd 10 2 on-demand\n"
                 " virtual-template 1\n"
                 "crypto ipsec transform-set TS esp-aes 256 esp-sha256-hmac\n"
                 " mode transport\n"
                 "crypto ipsec profile IPP\n"
                 " set transform-set TS\n"
                 " set ikev2-profile PROF\n"
                 "interface GigabitEthernet1\n"
                 " ip address 192.0.2.%d 255.255.255.0\n",
                 idx + 1, idx + 1);
    if (idx == 0)
        snprintf(buf + n, 4096 - (size_t)n,
                 "interface Loopback0\n"
                 " ip address 172.16.0.1 255.255.255.255\n"
                 "interface Virtual-Template1 type tunnel\n"
                 " ip unnumbered Loopback0\n"
                 " ip nhrp network-id 100\n"
                 " ip nhrp holdtime %u\n"
                 " ip nhrp redirect\n"
                 "%s"
                 " tunnel source GigabitEthernet1\n"
                 " tunnel protection ipsec profile IPP\n",
                 holdtime, tunnel_extra ? tunnel_extra : "");
    else
        snprintf(buf + n, 4096 - (size_t)n,
                 "interface Tunnel0\n"
                 " ip address 172.16.0.%d 255.255.255.0\n"
                 " ip nhrp network-id 100\n"
                 " ip nhrp holdtime %u\n"
                 " ip nhrp nhs 172.16.0.1\n"
                 " ip nhrp shortcut virtual-template 1\n"
                 " ip nhrp redirect\n"
                 "%s"
                 " tunnel source GigabitEthernet1\n"
                 " tunnel destination 192.0.2.1\n"
                 " tunnel protection ipsec profile IPP\n"
                 "interface Virtual-Template1 type tunnel\n"
                 " ip unnumbered Tunnel0\n"
                 " ip nhrp network-id 100\n"
                 " tunnel source GigabitEthernet1\n"
                 " tunnel protection ipsec profile IPP\n",
                 idx + 1, holdtime, tunnel_extra ? tunnel_extra : "");
    return buf;
}

/* The hub's one tunnel is Virtual-Template1; a spoke's is Tunnel0 (to the
 * hub, its NHS) with spoke-to-spoke sessions cloned from its
 * Virtual-Template1, as the FlexVPN driver sets them up (mn_boot). */

/* ---- tests ---------------------------------------------------------------------- */

static size_t vas(const mn_node *nd)
{
    return vpn_router_va_count(nd->r);
}

/* One Virtual-Access per authenticated spoke on the hub, none on the
 * spokes (their session to the hub is Tunnel0); the hub never initiates. */
static void test_clone_per_spoke(void **state)
{
    mn_net *n = g_net;
    mn_node *hub = &n->node[0];
    vpn_router_va_info v;
    vpn_router_peer_info pi;
    vpn_show_buf b;
    char text[8192];
    (void)state;

    mn_init(n, 4, 60);
    assert_int_equal(vas(hub), 0);
    mn_run_for(n, 3);
    assert_int_equal(vas(hub), 3);
    assert_int_equal(hub->va_up, 3);
    assert_int_equal(hub->initiated, 0);
    assert_int_equal(vpn_router_tunnel_count(hub->r), 1);
    assert_int_equal(ike_sas(hub), 3);
    /* each spoke registered its tunnel address with the hub */
    assert_int_equal(entries_of(hub, VPN_NHRP_ENTRY_DYNAMIC), 3);
    for (uint32_t va = 1; va <= 3; va++) {
        assert_int_equal(vpn_router_va_get(hub->r, va, &v), 0);
        assert_int_equal(v.va, va);
        assert_int_equal(v.virtual_template, 1);
        assert_int_equal(v.tunnel, 0);
        assert_true(v.ike_sa_id != 0);
        assert_true(peer_up(hub, "192.0.2.2", NULL) && peer_up(hub, "192.0.2.4", NULL));
        assert_int_equal(vpn_router_mgre_peer_get(hub->r, 0, &v.peer, &pi), 0);
        assert_int_equal(pi.va, va);
    }
    for (int i = 1; i < 4; i++) {
        assert_int_equal(vas(&n->node[i]), 0);
        assert_true(peer_up(&n->node[i], "192.0.2.1", NULL));
        /* the spoke's registration reached the hub over its clone */
        assert_true(n->node[i].nhs_up >= 1);
    }
    /* show derived-config interface Virtual-Access1: the template's lines,
     * the spoke as destination; the header counts the lines' bytes */
    assert_int_equal(vpn_router_va_get(hub->r, 1, &v), 0);
    char expect[1024], body[512], dst[VPN_ADDR_STRLEN];
    snprintf(body, sizeof body,
             "!\n"
             "interface Virtual-Access1\n"
             " ip unnumbered Loopback0\n"
             " ip nhrp network-id 100\n"
             " ip nhrp redirect\n"
             " tunnel source GigabitEthernet1\n"
             " tunnel destination %s\n"
             " tunnel protection ipsec profile IPP\n"
             " no tunnel protection ipsec initiate\n"
             "end\n",
             vpn_addr_str(&v.peer, dst, sizeof dst));
    snprintf(expect, sizeof expect, "Building configuration...\n\nDerived configuration : %zu bytes\n%s",
             strlen(body), body);
    vpn_show_init(&b, text, sizeof text);
    assert_int_equal(vpn_router_show_derived_config(hub->r, 1, &b), 0);
    assert_string_equal(text, expect);
    /* show interfaces virtual-access: all three */
    vpn_show_init(&b, text, sizeof text);
    assert_int_equal(vpn_router_show_virtual_access(hub->r, n->now, &b), 0);
    assert_non_null(strstr(text, "Virtual-Access1 is up"));
    assert_non_null(strstr(text, "Virtual-Access3 is up"));
    assert_null(strstr(text, "Virtual-Access4"));
    assert_non_null(strstr(text, "cloned from Virtual-Template1"));
    assert_non_null(strstr(text, "Using address of Loopback0 (172.16.0.1)"));
    assert_non_null(strstr(text, "destination 192.0.2.3"));
    /* show crypto session names each session's clone */
    vpn_show_init(&b, text, sizeof text);
    assert_int_equal(vpn_router_show_crypto_session(hub->r, n->now, false, &b), 0);
    assert_non_null(strstr(text, "Interface: Virtual-Access1\n"));
    assert_non_null(strstr(text, "Interface: Virtual-Access3\n"));
    assert_null(strstr(text, "Interface: Virtual-Template1"));
    vpn_show_init(&b, text, sizeof text);
    assert_int_equal(vpn_router_show_crypto_session(n->node[1].r, n->now, false, &b), 0);
    assert_non_null(strstr(text, "Interface: Tunnel0\n"));
    mn_free(n);
}

/* FlexVPN spoke-to-spoke: via the hub first, the hub's template redirects,
 * the spokes resolve each other and bring their own IKEv2 SA up (each side
 * cloning its template), the traffic moves over without a loss. */
static void test_spoke_to_spoke(void **state)
{
    mn_net *n = g_net;
    mn_node *hub = &n->node[0], *s1 = &n->node[1], *s3 = &n->node[3];
    uint64_t fwd, start;
    (void)state;

    mn_init(n, 4, 60);
    mn_run_for(n, 3);
    start = n->now;
    mn_traffic(s1, 3, 50);
    mn_traffic(s3, 1, 50);
    mn_run_for(n, 0.2);
    assert_true(hub->forwarded > 0);
    assert_true(hub->redirects_tx >= 1);
    assert_true(s1->redirects_rx >= 1);
    mn_run_for(n, 3);
    assert_true(s1->sc_installed >= 1 && s3->sc_installed >= 1);
    assert_int_equal(s1->n_sc, 1);
    assert_true(vpn_addr_eq(&s1->sc[0].nh, &s3->tun));
    assert_true(peer_up(s1, "192.0.2.4", NULL));
    assert_true(peer_up(s3, "192.0.2.2", NULL));
    /* the spoke-to-spoke session lives on a Virtual-Access of each spoke */
    assert_int_equal(vas(s1), 1);
    assert_int_equal(vas(s3), 1);
    assert_int_equal(vas(&n->node[2]), 0);
    assert_int_equal(vas(hub), 3);
    fwd = hub->forwarded;
    mn_run_for(n, 2);
    assert_int_equal(hub->forwarded, fwd);
    assert_int_equal(mn_lost(s1, s3, start), 0);
    assert_int_equal(mn_lost(s3, s1, start), 0);
    assert_true(s3->rx[1] >= 5 * 50 - 2);
    mn_free(n);
}

/* The clone goes with its IKE SA (here the hub deletes it); the spoke
 * comes back on demand and gets the freed number again. An IKE SA rekey
 * keeps the clone. */
static void test_teardown_with_ike_sa(void **state)
{
    mn_net *n = g_net;
    mn_node *hub = &n->node[0];
    vpn_router_va_info v, v2;
    vpn_show_buf b;
    char text[512];
    (void)state;

    mn_init(n, 4, 60);
    mn_run_for(n, 3);
    assert_int_equal(vpn_router_va_get(hub->r, 2, &v), 0);
    /* rekey: same clone, new IKE SA */
    assert_int_equal(vpn_router_ike_rekey(hub->r, n->now, v.ike_sa_id), 0);
    mn_run_for(n, 1);
    assert_int_equal(vpn_router_va_get(hub->r, 2, &v2), 0);
    assert_true(vpn_addr_eq(&v.peer, &v2.peer));
    assert_true(v2.ike_sa_id != v.ike_sa_id);
    assert_int_equal(hub->va_down, 0);
    assert_int_equal(vas(hub), 3);
    /* the IKE SA goes: so does Virtual-Access2 */
    assert_int_equal(vpn_router_ike_delete(hub->r, n->now, v2.ike_sa_id), 0);
    assert_int_equal(hub->va_down, 1);
    assert_int_equal(hub->last_va, 2);
    assert_int_equal(vas(hub), 2);
    assert_int_equal(vpn_router_va_get(hub->r, 2, &v), VPN_ERR_NOTFOUND);
    vpn_show_init(&b, text, sizeof text);
    assert_int_equal(vpn_router_show_derived_config(hub->r, 2, &b), VPN_ERR_NOTFOUND);
    /* the hub does not call the spoke back; the spoke's next registration
     * (every holdtime/3) brings IKE up again and the number is reused */
    mn_run_for(n, 1);
    assert_int_equal(vas(hub), 2);
    assert_int_equal(hub->initiated, 0);
    mn_run_for(n, 25);
    assert_int_equal(vas(hub), 3);
    assert_int_equal(vpn_router_va_get(hub->r, 2, &v2), 0);
    assert_true(vpn_addr_eq(&v.peer, &v2.peer) || v2.peer.family != 0);
    assert_int_equal(hub->va_up, 4);
    mn_free(n);
}

/* Multicast (routing updates) on the hub's template goes out on each
 * Virtual-Access, as IOS sends on every point-to-point clone, though the
 * template has no `ip nhrp map multicast`; a spoke's goes to its Tunnel0's
 * destination (the hub) only; a clone gone takes its copy with it. */
static void test_multicast_on_every_clone(void **state)
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
    assert_int_equal(vas(hub), 3);
    s = addr_of("172.16.0.1");
    len = tu_build_udp(pkt, sizeof pkt, &s, &d, 520, 520, 0, pl, sizeof pl);
    vpn_pkt_init(&p, buf, sizeof buf, VPN_PKT_HEADROOM);
    memcpy(vpn_pkt_put(&p, len), pkt, len);
    assert_int_equal(vpn_router_mgre_output(hub->r, n->now, hub->tunnel, NULL, &p), VPN_ROUTER_DROP_NONE);
    mn_run_for(n, 0.1);
    for (int i = 1; i < 4; i++)
        assert_int_equal(n->node[i].mcast_rx, 1);
    /* spoke 2's update: to the hub, not to the other spokes */
    s = addr_of("172.16.0.3");
    len = tu_build_udp(pkt, sizeof pkt, &s, &d, 520, 520, 0, pl, sizeof pl);
    vpn_pkt_init(&p, buf, sizeof buf, VPN_PKT_HEADROOM);
    memcpy(vpn_pkt_put(&p, len), pkt, len);
    assert_int_equal(vpn_router_mgre_output(n->node[2].r, n->now, n->node[2].tunnel, NULL, &p),
                     VPN_ROUTER_DROP_NONE);
    mn_run_for(n, 0.1);
    assert_int_equal(hub->mcast_rx, 1);
    assert_int_equal(n->node[1].mcast_rx, 1);
    assert_int_equal(n->node[3].mcast_rx, 1);
    assert_int_equal(hub->redirects_tx, 0);
    /* spoke 3 goes off: its clone goes with its IKE SA (DPD), its copy too */
    n->down[3] = true;
    mn_run_for(n, 60);
    assert_int_equal(vas(hub), 2);
    s = addr_of("172.16.0.1");
    len = tu_build_udp(pkt, sizeof pkt, &s, &d, 520, 520, 0, pl, sizeof pl);
    vpn_pkt_init(&p, buf, sizeof buf, VPN_PKT_HEADROOM);
    memcpy(vpn_pkt_put(&p, len), pkt, len);
    assert_int_equal(vpn_router_mgre_output(hub->r, n->now, hub->tunnel, NULL, &p), VPN_ROUTER_DROP_NONE);
    mn_run_for(n, 0.1);
    assert_int_equal(n->node[1].mcast_rx, 2);
    assert_int_equal(n->node[2].mcast_rx, 2);
    assert_int_equal(n->node[3].mcast_rx, 1);
    mn_free(n);
}

/* What the clone API refuses; a template on a point-to-point tunnel. */
static void test_refusals(void **state)
{
    mn_net *n = g_net;
    mn_node *hub = &n->node[0];
    vpn_router_tunnel_config tc;
    vpn_router_va_info v;
    vpn_show_buf b;
    char text[64];
    uint32_t id;
    (void)state;

    mn_init(n, 2, 60);
    mn_run_for(n, 3);
    assert_int_equal(vas(hub), 1);
    assert_int_equal(vpn_router_va_get(hub->r, 0, &v), VPN_ERR_NOTFOUND);
    assert_int_equal(vpn_router_va_get(hub->r, 2, &v), VPN_ERR_NOTFOUND);
    assert_int_equal(vpn_router_va_get(hub->r, 1000000, &v), VPN_ERR_NOTFOUND);
    assert_int_equal(vpn_router_va_get(NULL, 1, &v), VPN_ERR_INVAL);
    assert_int_equal(vpn_router_va_count(NULL), 0);
    assert_int_equal(vpn_router_show_derived_config(hub->r, 1, NULL), VPN_ERR_INVAL);
    assert_int_equal(vpn_router_show_virtual_access(NULL, n->now, NULL), VPN_ERR_INVAL);
    /* too small a buffer: NOSPACE, not a crash */
    vpn_show_init(&b, text, sizeof text);
    assert_int_equal(vpn_router_show_derived_config(hub->r, 1, &b), VPN_ERR_NOSPACE);
    memset(&tc, 0, sizeof tc);
    tc.mode = VPN_ROUTER_TUNNEL_GRE_IPSEC;
    tc.src = hub->nbma;
    tc.dst = n->node[1].nbma;
    tc.ipsec_profile = "IPP";
    tc.virtual_template = 1;
    assert_int_equal(vpn_router_tunnel_add(hub->r, &tc, &id), VPN_ERR_INVAL);
    assert_int_equal(vpn_router_tunnel_count(hub->r), 1);
    assert_int_equal(vas(hub), 1);
    mn_free(n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clone_per_spoke),
        cmocka_unit_test(test_spoke_to_spoke),
        cmocka_unit_test(test_teardown_with_ike_sa),
        cmocka_unit_test(test_multicast_on_every_clone),
        cmocka_unit_test(test_refusals),
    };
    int rc;

    g_net = calloc(1, sizeof *g_net);
    if (g_net == NULL)
        return 1;
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    free(g_net);
    return rc;
}
