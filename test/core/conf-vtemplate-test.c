/* FlexVPN virtual templates in the IOS configuration: `interface
 * Virtual-Template N type tunnel`, `virtual-template N` in an IKEv2
 * profile, `ip nhrp shortcut virtual-template N`; broken lines refused
 * with their line number and nothing returned. */
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "conf/conf.h"
#include "nhrp/nhrp-conf.h"
#include "pkt-build.h"
#include "test-util.h"

#define POLICY                                                                                      \
    "crypto ikev2 keyring KR\n"                                                                      \
    " peer any\n"                                                                                    \
    "  address 0.0.0.0 0.0.0.0\n"                                                                    \
    "  pre-shared-key flex\n"                                                                        \
    "crypto ikev2 profile PROF\n"                                                                    \
    " match identity remote address 0.0.0.0 0.0.0.0\n"                                              \
    " authentication local pre-share\n"                                                              \
    " authentication remote pre-share\n"                                                             \
    " keyring local KR\n"                                                                            \
    " virtual-template 1\n"                                                                          \
    "crypto ipsec profile IPS\n"                                                                     \
    " set ikev2-profile PROF\n"

static const char *HUB = POLICY
    "interface Loopback0\n"
    " ip address 10.255.0.1 255.255.255.255\n"
    "interface GigabitEthernet1\n"
    " ip address 198.51.100.1 255.255.255.252\n"
    "interface Virtual-Template1 type tunnel\n"
    " ip unnumbered Loopback0\n"
    " ip nhrp network-id 1\n"
    " ip nhrp redirect\n"
    " tunnel source GigabitEthernet1\n"
    " tunnel mode gre ip\n"
    " tunnel protection ipsec profile IPS\n";

static vpn_conf *parse_ok(const char *text)
{
    vpn_conf *c = NULL;
    vpn_conf_error e;
    int rc = vpn_conf_parse(text, strlen(text), &c, &e);
    if (rc)
        fail_msg("line %d: %s", e.line, e.msg);
    return c;
}

static void test_hub_template(void **state)
{
    (void)state;
    vpn_conf *c = parse_ok(HUB);
    const vpn_conf_interface *vt = vpn_conf_find_interface(c, "Virtual-Template1");
    assert_non_null(vt);
    assert_true(vt->is_virtual_template);
    assert_true(vt->is_tunnel);
    assert_int_equal(vt->vt_number, 1);
    assert_int_equal(vt->line, 17);
    assert_true(vt->unnumbered);
    assert_string_equal(vt->unnumbered_if, "Loopback0");
    assert_string_equal(vt->tunnel_source_if, "GigabitEthernet1");
    assert_int_equal(vt->tunnel_mode, VPN_CONF_TUNNEL_GRE_IP);
    assert_string_equal(vt->protection, "IPS");
    assert_true(vt->nhrp.redirect);
    assert_false(vt->has_tunnel_destination);
    assert_int_equal(vpn_conf_find_profile(c, "PROF")->virtual_template, 1);

    /* NHRP on the template speaks with the unnumbered interface's address */
    vpn_nhrp_conf_params cp;
    vpn_conf_error e;
    assert_int_equal(vpn_nhrp_params_from_conf(c, "Virtual-Template1", &cp, &e), 0);
    vpn_addr lo = tu_addr("10.255.0.1"), wan = tu_addr("198.51.100.1");
    assert_true(vpn_addr_eq(&cp.p.proto, &lo));
    assert_true(vpn_addr_eq(&cp.p.nbma, &wan));
    assert_true(cp.p.redirect);
    assert_true(cp.p.nhs_role);
    vpn_conf_del(c);
}

/* Both spellings of the name, a VTI template, going back into the template. */
static void test_spellings(void **state)
{
    (void)state;
    vpn_conf *c = parse_ok(POLICY "interface Virtual-Template 1 type tunnel\n"
                                  " tunnel mode ipsec ipv4\n"
                                  "interface Loopback0\n"
                                  " ip address 10.0.0.1 255.255.255.255\n"
                                  "interface Virtual-Template1\n"
                                  " ip unnumbered Loopback0\n"
                                  " tunnel protection ipsec profile IPS\n");
    const vpn_conf_interface *vt = vpn_conf_find_interface(c, "Virtual-Template1");
    assert_non_null(vt);
    assert_int_equal(vt->tunnel_mode, VPN_CONF_TUNNEL_IPSEC_IPV4);
    assert_string_equal(vt->protection, "IPS");
    assert_true(vt->unnumbered);
    assert_int_equal(c->n_iface, 2);
    vpn_conf_del(c);
}

/* A spoke: Tunnel0 to the hub with `ip nhrp shortcut virtual-template 1`
 * and its own template for sessions from other spokes. */
static void test_spoke(void **state)
{
    (void)state;
    vpn_conf *c = parse_ok(POLICY "interface Gi1\n"
                                  " ip address 203.0.113.2 255.255.255.252\n"
                                  "interface Tunnel0\n"
                                  " ip address 10.254.0.2 255.255.255.0\n"
                                  " ip nhrp network-id 1\n"
                                  " ip nhrp nhs 10.255.0.1\n"
                                  " ip nhrp shortcut virtual-template 1\n"
                                  " ip nhrp redirect\n"
                                  " tunnel source Gi1\n"
                                  " tunnel destination 198.51.100.1\n"
                                  " tunnel protection ipsec profile IPS\n"
                                  "interface Virtual-Template1 type tunnel\n"
                                  " ip unnumbered Tunnel0\n"
                                  " ip nhrp network-id 1\n"
                                  " tunnel source Gi1\n"
                                  " tunnel protection ipsec profile IPS\n");
    const vpn_conf_interface *t = vpn_conf_find_interface(c, "Tunnel0");
    assert_true(t->nhrp.shortcut);
    assert_int_equal(t->nhrp.shortcut_vt, 1);
    assert_int_equal(t->nhrp.shortcut_line, 19);
    assert_false(t->is_virtual_template);
    vpn_nhrp_conf_params cp;
    assert_int_equal(vpn_nhrp_params_from_conf(c, "Virtual-Template1", &cp, NULL), 0);
    vpn_addr tun = tu_addr("10.254.0.2");
    assert_true(vpn_addr_eq(&cp.p.proto, &tun));
    vpn_conf_del(c);
}

static void expect_error(const char *text, int code, int line, const char *what)
{
    vpn_conf *c = NULL;
    vpn_conf_error e;
    memset(&e, 0, sizeof e);
    int rc = vpn_conf_parse(text, strlen(text), &c, &e);
    if (rc != code)
        fail_msg("'%s': code %d, expected %d (line %d: %s)", text, rc, code, e.line, e.msg);
    assert_null(c);
    if (e.line != line)
        fail_msg("line %d, expected %d: %s", e.line, line, e.msg);
    if (!strstr(e.msg, what))
        fail_msg("'%s' does not say '%s'", e.msg, what);
}

static void test_broken_lines(void **state)
{
    (void)state;
    /* syntax */
    expect_error("!\ninterface Virtual-Template1 type ethernet\n", VPN_ERR_MALFORMED, 2, "type tunnel");
    expect_error("interface Virtual-Template0 type tunnel\n", VPN_ERR_MALFORMED, 1, "1-65535");
    expect_error("interface Virtual-Template70000 type tunnel\n", VPN_ERR_MALFORMED, 1, "1-65535");
    expect_error("interface Virtual-Template1x type tunnel\n", VPN_ERR_MALFORMED, 1, "1-65535");
    expect_error("interface Virtual-Template1234567 type tunnel\n", VPN_ERR_MALFORMED, 1, "1-65535");
    expect_error("interface Virtual-Template\n", VPN_ERR_MALFORMED, 1, "Virtual-Template N type tunnel");
    expect_error("interface Virtual-Template 2\n", VPN_ERR_MALFORMED, 1, "needs 'type tunnel'");
    expect_error("interface Virtual-Template1 type tunnel extra\n", VPN_ERR_MALFORMED, 1, "type tunnel");
    expect_error("interface Virtual-Access3\n ip unnumbered Loopback0\n", VPN_ERR_MALFORMED, 1, "cloned");
    expect_error("interface Virtual-Template1 type tunnel\n tunnel destination 192.0.2.1\n", VPN_ERR_MALFORMED,
                 2, "no tunnel destination");
    expect_error("interface Virtual-Template1 type tunnel\n\n tunnel mode gre multipoint\n", VPN_ERR_MALFORMED,
                 3, "point-to-point");
    expect_error("interface Tunnel0\n ip nhrp shortcut virtual-template 0\n", VPN_ERR_MALFORMED, 2,
                 "out of range");
    expect_error("crypto ikev2 profile P\n virtual-template 0\n", VPN_ERR_MALFORMED, 2, "out of range");
    /* references */
    /* a profile may name a template defined nowhere (IOS accepts it; the
     * remote-access hub's profile does): no clone, no error */
    vpn_conf *c = parse_ok(POLICY "interface Loopback0\n ip address 10.0.0.1 255.255.255.255\n"
                                  "crypto ikev2 profile PROF\n virtual-template 5\n");
    assert_int_equal(vpn_conf_find_profile(c, "PROF")->virtual_template, 5);
    vpn_conf_del(c);
    expect_error(POLICY "interface Virtual-Template1 type tunnel\n tunnel protection ipsec profile IPS\n"
                        "interface Tunnel0\n ip address 10.0.0.1 255.255.255.0\n"
                        " ip nhrp network-id 1\n ip nhrp shortcut virtual-template 2\n",
                 VPN_ERR_NOTFOUND, 18, "no interface Virtual-Template2");
    expect_error("interface Virtual-Template1 type tunnel\n ip unnumbered Loopback9\n", VPN_ERR_NOTFOUND, 1,
                 "ip unnumbered Loopback9");
    expect_error("interface Virtual-Template1 type tunnel\n tunnel protection ipsec profile NOPE\n",
                 VPN_ERR_NOTFOUND, 1, "ipsec profile NOPE");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hub_template),
        cmocka_unit_test(test_spellings),
        cmocka_unit_test(test_spoke),
        cmocka_unit_test(test_broken_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
