/* vpnd's reading of a configuration: tunnels, routes, policies, refusals. */
#include <stdio.h>
#include <string.h>

#include "common/vpn-err.h"
#include "conf/conf.h"
#include "host-plan.h"
#include "test-util.h"

#define BASE                                                                                        \
    "hostname R1\n"                                                                                 \
    "crypto ikev2 keyring KR\n"                                                                     \
    " peer R2\n"                                                                                    \
    "  address 198.18.0.2\n"                                                                        \
    "  pre-shared-key s3cret\n"                                                                     \
    "crypto ikev2 profile P\n"                                                                      \
    " match identity remote address 198.18.0.2 255.255.255.255\n"                                   \
    " authentication local pre-share\n"                                                             \
    " authentication remote pre-share\n"                                                            \
    " keyring local KR\n"                                                                           \
    "crypto ipsec transform-set TS esp-gcm 128\n"                                                   \
    "crypto ipsec profile IPS\n"                                                                    \
    " set transform-set TS\n"                                                                       \
    " set ikev2-profile P\n"                                                                        \
    "interface eth0\n"                                                                              \
    " ip address 198.18.0.1 255.255.255.0\n"

static vpn_conf *conf_of(const char *text)
{
    vpn_conf *c = NULL;
    vpn_conf_error e;
    if (vpn_conf_parse(text, strlen(text), &c, &e) != 0)
        fail_msg("config: line %d: %s", e.line, e.msg);
    return c;
}

static void expect_plan_error(const char *text, int code, const char *needle)
{
    vpn_conf *c = conf_of(text);
    vpn_host_plan plan;
    char err[300];
    int rc = vpn_host_plan_build(c, &plan, err, sizeof err);
    if (rc != code || strstr(err, needle) == NULL)
        fail_msg("want %d containing '%s'; got %d: %s", code, needle, rc, err);
    vpn_conf_del(c);
}

static void test_vti_plan(void **state)
{
    (void)state;
    vpn_conf *c = conf_of(BASE "interface Tunnel0\n"
                               " ip address 172.16.0.1 255.255.255.252\n"
                               " ip mtu 1380\n"
                               " tunnel source eth0\n"
                               " tunnel mode ipsec ipv4\n"
                               " tunnel destination 198.18.0.2\n"
                               " tunnel protection ipsec profile IPS\n"
                               "interface Tunnel7\n"
                               " tunnel source 198.18.0.1\n"
                               " tunnel mode ipsec ipv4\n"
                               " tunnel destination 198.18.0.3\n"
                               " tunnel protection ipsec profile IPS\n"
                               "ip route 10.0.2.0 255.255.255.0 Tunnel0\n"
                               "ip route 10.0.3.0/24 Tunnel0\n"
                               "ip route 10.9.0.0 255.255.0.0 Tunnel7\n");
    vpn_host_plan plan;
    char err[300], a[VPN_ADDR_STRLEN];
    vpn_ikev2_policy pol;

    assert_int_equal(vpn_host_plan_build(c, &plan, err, sizeof err), 0);
    assert_int_equal(plan.n_tunnel, 2);
    const vpn_host_tunnel *t = &plan.tunnel[0];
    assert_string_equal(t->name, "Tunnel0");
    assert_int_equal(t->number, 0);
    assert_string_equal(vpn_addr_str(&t->src, a, sizeof a), "198.18.0.1"); /* from eth0 */
    assert_string_equal(vpn_addr_str(&t->dst, a, sizeof a), "198.18.0.2");
    assert_true(t->has_address);
    assert_string_equal(vpn_addr_str(&t->address.addr, a, sizeof a), "172.16.0.1");
    assert_int_equal(t->address.len, 30);
    assert_int_equal(t->mtu, 1380);
    assert_true(t->mtu_set);
    assert_int_equal(t->n_route, 2);
    assert_string_equal(vpn_addr_str(&t->route[0].addr, a, sizeof a), "10.0.2.0");
    assert_int_equal(t->route[0].len, 24);
    assert_string_equal(vpn_addr_str(&t->route[1].addr, a, sizeof a), "10.0.3.0");
    t = &plan.tunnel[1];
    assert_int_equal(t->number, 7);
    assert_false(t->has_address);
    assert_int_equal(t->mtu, 1400);
    assert_false(t->mtu_set);
    assert_int_equal(t->n_route, 1);
    assert_string_equal(vpn_addr_str(&t->src, a, sizeof a), "198.18.0.1");
    assert_ptr_equal(vpn_host_plan_find(&plan, "tunnel7"), &plan.tunnel[1]);
    assert_null(vpn_host_plan_find(&plan, "Tunnel1"));

    /* The engine's child policy: VTI any/any towards the destination only. */
    vpn_host_tunnel_policy(&plan.tunnel[1], 1, &pol);
    assert_string_equal(pol.ipsec_profile, "IPS");
    assert_int_equal(pol.tag, 1);
    assert_int_equal(pol.remote.len, 32);
    assert_string_equal(vpn_addr_str(&pol.remote.addr, a, sizeof a), "198.18.0.3");
    assert_int_equal(pol.n_ts_local, 1);
    assert_int_equal(pol.n_ts_remote, 1);
    assert_true(pol.tunnel_mode_only); /* IOS ignores `mode transport` on a VTI */
    for (int side = 0; side < 2; side++) {
        const vpn_ikev2_selector *ts = side ? &pol.ts_remote[0] : &pol.ts_local[0];
        assert_int_equal(ts->family, VPN_AF_INET);
        assert_int_equal(ts->proto, 0);
        assert_int_equal(ts->port_lo, 0);
        assert_int_equal(ts->port_hi, 65535);
        assert_string_equal(vpn_addr_str(&ts->addr_lo, a, sizeof a), "0.0.0.0");
        assert_string_equal(vpn_addr_str(&ts->addr_hi, a, sizeof a), "255.255.255.255");
    }
    /* over an IPv6 underlay the VTI still carries IPv4 */
    vpn_host_tunnel v6 = plan.tunnel[1];
    vpn_addr_parse(&v6.dst, "2001:db8::2");
    vpn_addr_parse(&v6.src, "2001:db8::1");
    vpn_host_tunnel_policy(&v6, 1, &pol);
    assert_int_equal(pol.remote.len, 128);
    assert_int_equal(pol.ts_local[0].family, VPN_AF_INET);
    assert_int_equal(pol.ts_remote[0].family, VPN_AF_INET);
    vpn_conf_del(c);
}

/* GRE/IPsec (`tunnel mode gre ip`, IOS's default mode): GRE in the router
 * core, IOS's IPSEC FLOW "permit 47 host SRC host DST" as the selectors,
 * the transform set's mode (transport may be asked for). */
static void test_gre_plan(void **state)
{
    (void)state;
    vpn_conf *c = conf_of(BASE "interface Tunnel3\n"
                               " ip address 172.16.0.1 255.255.255.0\n"
                               " tunnel source eth0\n"
                               " tunnel destination 198.18.0.2\n"
                               " tunnel key 77\n"
                               " tunnel protection ipsec profile IPS\n"
                               "interface Tunnel4\n"
                               " tunnel source eth0\n"
                               " tunnel mode gre ip\n"
                               " tunnel destination 198.18.0.9\n"
                               " tunnel protection ipsec profile IPS\n"
                               "ip route 10.0.2.0 255.255.255.0 Tunnel3\n");
    vpn_host_plan plan;
    char err[300], a[VPN_ADDR_STRLEN];
    vpn_ikev2_policy pol;

    assert_int_equal(vpn_host_plan_build(c, &plan, err, sizeof err), 0);
    assert_int_equal(plan.n_tunnel, 2);
    const vpn_host_tunnel *t = &plan.tunnel[0];
    assert_true(t->gre);
    assert_true(t->has_key);
    assert_int_equal(t->key, 77);
    assert_int_equal(t->number, 3);
    assert_int_equal(t->n_route, 1);
    assert_true(plan.tunnel[1].gre);
    assert_false(plan.tunnel[1].has_key);
    vpn_host_tunnel_policy(t, 0, &pol);
    assert_string_equal(pol.ipsec_profile, "IPS");
    assert_false(pol.tunnel_mode_only);
    assert_int_equal(pol.remote.len, 32);
    assert_string_equal(vpn_addr_str(&pol.remote.addr, a, sizeof a), "198.18.0.2");
    assert_int_equal(pol.n_ts_local, 1);
    assert_int_equal(pol.n_ts_remote, 1);
    assert_int_equal(pol.ts_local[0].proto, 47);
    assert_int_equal(pol.ts_remote[0].proto, 47);
    assert_string_equal(vpn_addr_str(&pol.ts_local[0].addr_lo, a, sizeof a), "198.18.0.1");
    assert_string_equal(vpn_addr_str(&pol.ts_local[0].addr_hi, a, sizeof a), "198.18.0.1");
    assert_string_equal(vpn_addr_str(&pol.ts_remote[0].addr_lo, a, sizeof a), "198.18.0.2");
    assert_string_equal(vpn_addr_str(&pol.ts_remote[0].addr_hi, a, sizeof a), "198.18.0.2");
    /* a VTI beside it keeps its any/any, tunnel mode only */
    vpn_host_tunnel vti = *t;
    vti.gre = false;
    vpn_host_tunnel_policy(&vti, 0, &pol);
    assert_true(pol.tunnel_mode_only);
    assert_int_equal(pol.ts_local[0].proto, 0);
    vpn_conf_del(c);
}

static void test_refusals(void **state)
{
    (void)state;
    /* Multipoint GRE (DMVPN) is the ns-3 side's; vpnd has point-to-point GRE only. */
    expect_plan_error(BASE "interface Tunnel0\n tunnel source eth0\n tunnel mode gre multipoint\n"
                           " tunnel protection ipsec profile IPS\n",
                      VPN_ERR_UNSUPPORTED, "line 17: Tunnel0: tunnel mode gre multipoint is not supported");
    expect_plan_error(BASE "interface Virtual-Template1 type tunnel\n tunnel source eth0\n"
                           " tunnel protection ipsec profile IPS\n",
                      VPN_ERR_UNSUPPORTED, "on `tunnel mode ipsec ipv4` templates, not `tunnel mode gre ip`");
    expect_plan_error(BASE "interface Tunnel0\n tunnel source eth0\n tunnel destination 198.18.0.2\n",
                      VPN_ERR_POLICY, "has no `tunnel protection ipsec profile`");
    expect_plan_error(BASE "interface Tunnel0\n tunnel source eth0\n tunnel destination 198.18.0.2\n"
                           " tunnel protection ipsec profile IPS\nip route 2001:db8::/32 Tunnel0\n",
                      VPN_ERR_UNSUPPORTED, "Tunnel0 carries IPv4");
    expect_plan_error(BASE "interface Tunnel0\n tunnel source eth0\n tunnel mode ipsec ipv4\n"
                           " tunnel destination 198.18.0.2\n",
                      VPN_ERR_POLICY, "has no `tunnel protection ipsec profile`");
    expect_plan_error(BASE "interface Tunnel0\n tunnel mode ipsec ipv4\n tunnel destination 198.18.0.2\n"
                           " tunnel protection ipsec profile IPS\n",
                      VPN_ERR_POLICY, "has no tunnel source");
    expect_plan_error(BASE "interface Loopback9\ninterface Tunnel0\n tunnel source Loopback9\n"
                           " tunnel mode ipsec ipv4\n tunnel destination 198.18.0.2\n"
                           " tunnel protection ipsec profile IPS\n",
                      VPN_ERR_POLICY, "tunnel source Loopback9 needs an `ip address`");
    expect_plan_error(BASE "interface Tunnel0\n tunnel source 2001:db8::1\n tunnel mode ipsec ipv4\n"
                           " tunnel destination 198.18.0.2\n tunnel protection ipsec profile IPS\n",
                      VPN_ERR_POLICY, "different address families");
    expect_plan_error(BASE, VPN_ERR_POLICY, "no tunnel interface");
    expect_plan_error(BASE "interface Tunnel0\n tunnel source eth0\n tunnel mode ipsec ipv4\n"
                           " tunnel destination 198.18.0.2\n tunnel protection ipsec profile IPS\n"
                           "ip route 0.0.0.0 0.0.0.0 198.18.0.254\n",
                      VPN_ERR_UNSUPPORTED, "line 22: vpnd installs only routes into a tunnel");
    expect_plan_error(BASE "interface Tunnel0\n tunnel source eth0\n tunnel mode ipsec ipv4\n"
                           " tunnel destination 198.18.0.2\n tunnel protection ipsec profile IPS\n"
                           "ip route 10.0.0.0 255.0.0.0 eth0\n",
                      VPN_ERR_UNSUPPORTED, "only routes into a tunnel");
    vpn_host_plan plan;
    char err[8];
    assert_int_equal(vpn_host_plan_build(NULL, &plan, err, sizeof err), VPN_ERR_INVAL);
}

static void sel(vpn_ikev2_selector *s, const char *lo, const char *hi)
{
    memset(s, 0, sizeof *s);
    assert_int_equal(vpn_addr_parse(&s->addr_lo, lo), 0);
    assert_int_equal(vpn_addr_parse(&s->addr_hi, hi), 0);
    s->family = s->addr_lo.family;
}

/* The remote-access hub's Virtual-Template: no destination, any client. */
static void test_virtual_template_plan(void **state)
{
    (void)state;
    vpn_conf *c = conf_of(BASE "interface Virtual-Template1 type tunnel\n"
                               " ip unnumbered eth0\n tunnel source eth0\n"
                               " tunnel mode ipsec ipv4\n tunnel protection ipsec profile IPS\n");
    vpn_host_plan plan;
    char err[300], a[VPN_ADDR_STRLEN];
    assert_int_equal(vpn_host_plan_build(c, &plan, err, sizeof err), 0);
    assert_int_equal(plan.n_tunnel, 1);
    assert_true(plan.tunnel[0].access);
    assert_int_equal(plan.tunnel[0].number, 1);
    assert_string_equal(plan.tunnel[0].name, "Virtual-Template1");
    assert_string_equal(vpn_addr_str(&plan.tunnel[0].src, a, sizeof a), "198.18.0.1");
    assert_true(vpn_addr_is_any(&plan.tunnel[0].dst));
    assert_non_null(vpn_host_plan_find(&plan, "virtual-template1"));
    vpn_conf_del(c);
    /* a destination on a template is refused by the parser already, naming the line */
    {
        static const char t[] = BASE "interface Virtual-Template2 type tunnel\n tunnel source eth0\n"
                                     " tunnel destination 198.18.0.2\n";
        vpn_conf *bad = NULL;
        vpn_conf_error e;
        assert_int_not_equal(vpn_conf_parse(t, strlen(t), &bad, &e), 0);
        assert_null(bad);
        assert_int_equal(e.line, 19);
        assert_non_null(strstr(e.msg, "no tunnel destination"));
    }
    expect_plan_error(BASE "interface Virtual-Template2 type tunnel\n tunnel source eth0\n"
                           " tunnel protection ipsec profile IPS\n",
                      VPN_ERR_UNSUPPORTED, "gre");
    expect_plan_error(BASE "interface Virtual-Template2 type tunnel\n tunnel source 2001:db8::1\n"
                           " tunnel mode ipsec ipv4\n tunnel protection ipsec profile IPS\n",
                      VPN_ERR_UNSUPPORTED, "IPv4 only");
}

/* Narrowed selectors as routes: only ranges that are exactly a prefix. */
static void test_selector_prefix(void **state)
{
    vpn_ikev2_selector s;
    vpn_prefix p;
    char a[VPN_ADDR_STRLEN];
    (void)state;

    sel(&s, "10.0.1.0", "10.0.1.255");
    assert_int_equal(vpn_host_selector_prefix(&s, &p), 0);
    assert_string_equal(vpn_addr_str(&p.addr, a, sizeof a), "10.0.1.0");
    assert_int_equal(p.len, 24);
    sel(&s, "0.0.0.0", "255.255.255.255");
    assert_int_equal(vpn_host_selector_prefix(&s, &p), 0);
    assert_int_equal(p.len, 0);
    sel(&s, "192.0.2.7", "192.0.2.7");
    assert_int_equal(vpn_host_selector_prefix(&s, &p), 0);
    assert_int_equal(p.len, 32);
    sel(&s, "2001:db8::", "2001:db8::ffff:ffff");
    assert_int_equal(vpn_host_selector_prefix(&s, &p), 0);
    assert_int_equal(p.len, 96);
    sel(&s, "10.0.1.0", "10.0.2.255"); /* two /24s: no prefix */
    assert_int_equal(vpn_host_selector_prefix(&s, &p), -1);
    sel(&s, "10.0.1.1", "10.0.1.255"); /* host bits set at the low end */
    assert_int_equal(vpn_host_selector_prefix(&s, &p), -1);
    sel(&s, "10.0.1.0", "10.0.1.254");
    assert_int_equal(vpn_host_selector_prefix(&s, &p), -1);
    sel(&s, "10.0.1.0", "::1");
    assert_int_equal(vpn_host_selector_prefix(&s, &p), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vti_plan),
        cmocka_unit_test(test_gre_plan),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_selector_prefix),
        cmocka_unit_test(test_virtual_template_plan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
