/* IOS `ip nhrp` configuration (DMVPN hub and spokes) -> NHRP engine
 * parameters, and configuration errors that name their line. */
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "conf/conf.h"
#include "nhrp/nhrp-conf.h"
#include "pkt-build.h"
#include "test-util.h"

static const char *HUB =
    "interface GigabitEthernet0/0\n"
    " ip address 172.16.0.1 255.255.255.0\n"
    "interface Tunnel0\n"
    " ip address 10.0.0.254 255.255.255.0\n"
    " ip mtu 1400\n"
    " ip nhrp authentication DMVPN\n"
    " ip nhrp network-id 100\n"
    " ip nhrp holdtime 600\n"
    " ip nhrp map multicast dynamic\n"
    " ip nhrp redirect\n"
    " tunnel source GigabitEthernet0/0\n"
    " tunnel mode gre multipoint\n"
    " tunnel key 100\n"
    "end\n";

static const char *SPOKE =
    "interface Tunnel0\n"
    " ip address 10.0.0.1 255.255.255.0\n"
    " ip nhrp authentication DMVPN\n"
    " ip nhrp network-id 100\n"
    " ip nhrp nhs 10.0.0.254 nbma 172.16.0.1 multicast\n"
    " ip nhrp nhs 10.0.0.253\n"
    " ip nhrp map 10.0.0.253 172.16.0.2\n"
    " ip nhrp map multicast 172.16.0.2\n"
    " ip nhrp registration timeout 60\n"
    " ip nhrp registration no-unique\n"
    " ip nhrp shortcut\n"
    " tunnel source 172.16.1.1\n"
    " tunnel mode gre multipoint\n"
    " tunnel key 100\n"
    "end\n";

static vpn_conf *parse_ok(const char *text)
{
    vpn_conf *c = NULL;
    vpn_conf_error e;
    int rc = vpn_conf_parse(text, strlen(text), &c, &e);
    if (rc)
        fail_msg("line %d: %s", e.line, e.msg);
    return c;
}

static void sent(void *user, const vpn_addr *dst, const uint8_t *pkt, size_t len)
{
    (void)user, (void)dst, (void)pkt, (void)len;
}

static void test_hub(void **state)
{
    (void)state;
    vpn_conf *c = parse_ok(HUB);
    const vpn_conf_interface *f = vpn_conf_find_interface(c, "Tunnel0");
    assert_int_equal(f->tunnel_mode, VPN_CONF_TUNNEL_GRE_MULTIPOINT);
    assert_true(f->has_tunnel_key);
    assert_int_equal(f->tunnel_key, 100);
    vpn_nhrp_conf_params cp;
    vpn_conf_error err;
    assert_int_equal(vpn_nhrp_params_from_conf(c, "Tunnel0", &cp, &err), 0);
    vpn_addr nbma = tu_addr("172.16.0.1"), proto = tu_addr("10.0.0.254");
    assert_true(vpn_addr_eq(&cp.p.nbma, &nbma));
    assert_true(vpn_addr_eq(&cp.p.proto, &proto));
    assert_int_equal(cp.p.proto_prefix_len, 24);
    assert_int_equal(cp.p.network_id, 100);
    assert_string_equal(cp.p.auth, "DMVPN");
    assert_int_equal(cp.p.holdtime_s, 600);
    assert_int_equal(cp.p.mtu, 1400);
    assert_true(cp.p.nhs_role);
    assert_true(cp.p.redirect);
    assert_false(cp.p.shortcut);
    assert_true(cp.p.mcast_dynamic);
    assert_int_equal(cp.p.n_nhs, 0);
    assert_string_equal(cp.p.ifname, "Tunnel0");
    /* The parameters make an engine. */
    cp.p.send = sent;
    vpn_nhrp *n;
    assert_int_equal(vpn_nhrp_new(&n, &cp.p), 0);
    assert_int_equal(vpn_nhrp_next_deadline(n), UINT64_MAX); /* a hub registers nowhere */
    vpn_nhrp_del(n);
    vpn_conf_del(c);
}

static void test_spoke(void **state)
{
    (void)state;
    vpn_conf *c = parse_ok(SPOKE);
    vpn_nhrp_conf_params cp;
    vpn_conf_error err;
    assert_int_equal(vpn_nhrp_params_from_conf(c, "Tunnel0", &cp, &err), 0);
    assert_false(cp.p.nhs_role);
    assert_true(cp.p.shortcut);
    assert_true(cp.p.reg_no_unique);
    assert_int_equal(cp.p.reg_interval_s, 60);
    assert_int_equal(cp.p.holdtime_s, 0); /* engine default 7200 */
    assert_int_equal(cp.p.n_nhs, 2);
    vpn_addr hub = tu_addr("172.16.0.1"), hub2 = tu_addr("172.16.0.2");
    assert_true(vpn_addr_eq(&cp.p.nhs[0].nbma, &hub));
    assert_true(cp.p.nhs[0].multicast);
    /* The older form: `ip nhrp map A B` then `ip nhrp nhs A`. */
    assert_true(vpn_addr_eq(&cp.p.nhs[1].nbma, &hub2));
    assert_false(cp.p.nhs[1].multicast);
    assert_int_equal(cp.p.n_maps, 1);
    assert_int_equal(cp.p.maps[0].proto.len, 32);
    assert_int_equal(cp.p.n_mcast, 1);
    cp.p.send = sent;
    vpn_nhrp *n;
    assert_int_equal(vpn_nhrp_new(&n, &cp.p), 0);
    assert_int_equal(vpn_nhrp_next_deadline(n), 0); /* registers at once */
    vpn_addr mc[4];
    assert_int_equal(vpn_nhrp_multicast_nbma(n, mc, 4), 2); /* map multicast + nhs multicast */
    vpn_addr a = tu_addr("10.0.0.253");
    vpn_nhrp_entry_info e;
    assert_int_equal(vpn_nhrp_lookup(n, &a, &e), 0);
    assert_int_equal(e.type, VPN_NHRP_ENTRY_STATIC);
    assert_true(e.nhs);
    vpn_nhrp_del(n);
    vpn_conf_del(c);
}

/* A point-to-point GRE spoke (phase 1): the NHS is the tunnel destination. */
static void test_p2p_spoke(void **state)
{
    (void)state;
    vpn_conf *c = parse_ok("interface Tunnel1\n"
                           " ip address 10.0.0.2 255.255.255.0\n"
                           " ip nhrp network-id 7\n"
                           " ip nhrp nhs 10.0.0.254\n"
                           " ip nhrp redirect timeout 20\n"
                           " ip nhrp shortcut virtual-template 1\n"
                           " tunnel source 172.16.2.1\n"
                           " tunnel destination 172.16.0.1\n"
                           "interface Virtual-Template1 type tunnel\n");
    vpn_nhrp_conf_params cp;
    assert_int_equal(vpn_nhrp_params_from_conf(c, "Tunnel1", &cp, NULL), 0);
    vpn_addr hub = tu_addr("172.16.0.1");
    assert_true(vpn_addr_eq(&cp.p.nhs[0].nbma, &hub));
    assert_int_equal(cp.p.redirect_timeout_s, 20);
    assert_true(cp.p.shortcut);
    assert_null(cp.p.auth);
    vpn_conf_del(c);
}

static void expect_parse_error(const char *text, int line, const char *what)
{
    vpn_conf *c = NULL;
    vpn_conf_error e;
    assert_int_equal(vpn_conf_parse(text, strlen(text), &c, &e), VPN_ERR_MALFORMED);
    assert_null(c);
    assert_int_equal(e.line, line);
    if (!strstr(e.msg, what))
        fail_msg("'%s' does not say '%s'", e.msg, what);
}

static void expect_conf_error(const char *text, const char *ifname, int code, int line,
                              const char *what)
{
    vpn_conf *c = parse_ok(text);
    vpn_nhrp_conf_params cp;
    vpn_conf_error e;
    assert_int_equal(vpn_nhrp_params_from_conf(c, ifname, &cp, &e), code);
    assert_int_equal(e.line, line);
    if (!strstr(e.msg, what))
        fail_msg("'%s' does not say '%s'", e.msg, what);
    vpn_conf_del(c);
}

static void test_errors_name_the_line(void **state)
{
    (void)state;
    expect_parse_error("interface Tunnel0\n ip nhrp frobnicate\n", 2, "unknown NHRP command");
    expect_parse_error("interface Gi0\n ip nhrp network-id 1\n", 2, "need a Tunnel interface");
    expect_parse_error("interface Tunnel0\n ip nhrp network-id 0\n", 2, "out of range");
    expect_parse_error("interface Tunnel0\n ip nhrp authentication toolongpassword\n", 2,
                       "at most 8 characters");
    expect_parse_error("interface Tunnel0\n ip nhrp nhs 10.0.0.1 nbma\n", 2, "unexpected 'nbma'");
    expect_parse_error("interface Tunnel0\n ip nhrp nhs 10.0.0.1 bogus\n", 2, "unexpected 'bogus'");
    expect_parse_error("interface Tunnel0\n ip nhrp nhs dynamic nbma 1.2.3.4\n", 2, "not supported");
    expect_parse_error("interface Tunnel0\n\n ip nhrp map 10.0.0.1\n", 3, "expected 'ip nhrp map A B'");
    expect_parse_error("interface Tunnel0\n ip nhrp map multicast 1.2.3.999\n", 2, "not an IP address");
    expect_parse_error("interface Tunnel0\n ip nhrp holdtime 70000\n", 2, "out of range");
    expect_parse_error("interface Tunnel0\n ip nhrp registration sometimes\n", 2, "no-unique");
    expect_parse_error("interface Tunnel0\n ip nhrp redirect timeout 1\n", 2, "out of range");
    expect_parse_error("interface Tunnel0\n ip nhrp shortcut now\n", 2, "ip nhrp shortcut");

    expect_conf_error("interface Tunnel0\n ip address 10.0.0.1 255.255.255.0\n tunnel source 1.1.1.1\n"
                      " ip nhrp nhs 10.0.0.254\n ip nhrp network-id 1\n",
                      "Tunnel0", VPN_ERR_POLICY, 4, "no NBMA address");
    expect_conf_error("interface Tunnel0\n ip address 10.0.0.1 255.255.255.0\n tunnel source 1.1.1.1\n"
                      " ip nhrp redirect\n",
                      "Tunnel0", VPN_ERR_POLICY, 4, "network-id");
    expect_conf_error("interface Tunnel0\n ip address 10.0.0.1 255.255.255.0\n ip nhrp network-id 1\n",
                      "Tunnel0", VPN_ERR_POLICY, 1, "tunnel source");
    expect_conf_error("interface Tunnel0\n ip address 10.0.0.1 255.255.255.0\n tunnel source 1.1.1.1\n"
                      " ip nhrp network-id 1\n ip nhrp map 2001:db8::1 1.2.3.4\n",
                      "Tunnel0", VPN_ERR_POLICY, 5, "another family");
    expect_conf_error("interface Tunnel0\n ip address 10.0.0.1 255.255.255.0\n tunnel source 1.1.1.1\n",
                      "Tunnel0", VPN_ERR_POLICY, 1, "no 'ip nhrp'");
    expect_conf_error("interface Tunnel0\n ip address 10.0.0.1 255.255.255.0\n", "Tunnel9",
                      VPN_ERR_NOTFOUND, 0, "Tunnel9");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hub),
        cmocka_unit_test(test_spoke),
        cmocka_unit_test(test_p2p_spoke),
        cmocka_unit_test(test_errors_name_the_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
