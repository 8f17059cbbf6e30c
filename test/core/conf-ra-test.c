/*
 * The remote-access configuration (FlexVPN hub and client): `ip local
 * pool`, `username`, `aaa new-model` and its method lists, `crypto ikev2
 * authorization policy` (pool, dns, route set access-list / interface),
 * the profile's `authentication remote eap query-identity`, `aaa
 * authorization group eap list`, `virtual-template`, and the client's
 * `authentication local eap mschapv2 username U password P`, RADIUS
 * servers and groups for EAP passthrough; every bad
 * line is refused with its line number and nothing half-configured.
 */
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "conf/conf.h"
#include "conf-expect.h"
#include "test-util.h"

static const char hub[] =
    "hostname hub\n"                                             /* 1 */
    "aaa new-model\n"                                            /* 2 */
    "aaa authorization network RA-AUTHOR local\n"                /* 3 */
    "aaa authentication eap RA-EAP local\n"                      /* 4 */
    "username alice password 0 Secr3t!\n"                        /* 5 */
    "username bob privilege 15 secret 0 hunter2\n"               /* 6 */
    "username carol password plain\n"                            /* 7 */
    "ip local pool RA-POOL 10.99.0.10 10.99.0.59\n"              /* 8 */
    "ip local pool ONE 10.98.0.1\n"                              /* 9 */
    "ip access-list standard SPLIT\n"                            /* 10 */
    " permit 10.1.0.0 0.0.255.255\n"                             /* 11 */
    "interface Loopback0\n"                                      /* 12 */
    " ip address 10.1.255.1 255.255.255.255\n"                   /* 13 */
    "crypto ikev2 authorization policy RA-POL\n"                 /* 14 */
    " pool RA-POOL\n"                                            /* 15 */
    " dns 192.0.2.53 192.0.2.54\n"                               /* 16 */
    " route set access-list SPLIT\n"                             /* 17 */
    " route set interface Loopback0\n"                           /* 18 */
    "crypto ikev2 profile RA\n"                                  /* 19 */
    " match identity remote any\n"                               /* 20 */
    " authentication remote eap query-identity\n"                /* 21 */
    " authentication local pre-share key hubkey\n"               /* 22 */
    " aaa authorization group eap list RA-AUTHOR RA-POL\n"       /* 23 */
    " aaa authentication eap RA-EAP\n"
    " virtual-template 1\n"                                      /* 25 */
    " aaa authorization user eap cached\n"                       /* 26 */
    "end\n";

static void test_hub(void **state)
{
    (void)state;
    vpn_conf *c = tu_conf_parse_ok(hub);
    char b[VPN_ADDR_STRLEN];
    assert_true(c->aaa_new_model);
    assert_int_equal(c->n_aaa_list, 2);
    assert_int_equal(c->aaa_list[0].kind, VPN_CONF_AAA_AUTHOR_NETWORK);
    assert_true(c->aaa_list[1].local);
    assert_string_equal(vpn_conf_find_user(c, "alice")->password, "Secr3t!");
    assert_string_equal(vpn_conf_find_user(c, "bob")->password, "hunter2");
    assert_string_equal(vpn_conf_find_user(c, "carol")->password, "plain");
    assert_null(vpn_conf_find_user(c, "mallory"));
    const vpn_conf_ip_pool *pool = vpn_conf_find_ip_pool(c, "RA-POOL");
    assert_non_null(pool);
    assert_string_equal(vpn_addr_str(&pool->first, b, sizeof b), "10.99.0.10");
    assert_string_equal(vpn_addr_str(&pool->last, b, sizeof b), "10.99.0.59");
    assert_int_equal(pool->line, 8);
    pool = vpn_conf_find_ip_pool(c, "ONE");
    assert_true(vpn_addr_eq(&pool->first, &pool->last));
    const vpn_conf_author_policy *a = vpn_conf_find_author_policy(c, "RA-POL");
    assert_non_null(a);
    assert_string_equal(a->pool, "RA-POOL");
    assert_int_equal(a->n_dns, 2);
    assert_string_equal(vpn_addr_str(&a->dns[1], b, sizeof b), "192.0.2.54");
    assert_string_equal(a->route_acl, "SPLIT");
    assert_int_equal(a->n_route_iface, 1);
    assert_string_equal(a->route_iface[0], "Loopback0");
    const vpn_conf_profile *p = vpn_conf_find_profile(c, "RA");
    assert_true(p->eap_query_identity);
    assert_int_equal(p->n_auth_remote, 1);
    assert_int_equal(p->auth_remote[0], VPN_CONF_AUTH_EAP);
    assert_int_equal(p->auth_local, VPN_CONF_AUTH_PSK);
    assert_true(p->aaa_author_eap);
    assert_string_equal(p->aaa_author_list, "RA-AUTHOR");
    assert_string_equal(p->aaa_author_policy, "RA-POL");
    assert_string_equal(p->aaa_authen_eap_list, "RA-EAP");
    assert_int_equal(p->virtual_template, 1);
    assert_true(p->aaa_author_user_cached);
    vpn_conf_del(c);
}

/* The hub's one block: EAP users and PSK sites in one profile, each kind
 * with its own authorization policy; the sites' accepts their routes. */
static void test_block_policies(void **state)
{
    (void)state;
    vpn_conf *c = tu_conf_parse_ok("crypto ikev2 authorization policy USERS\n"
                                   "crypto ikev2 authorization policy SITES\n"
                                   " route accept any\n"
                                   "crypto ikev2 profile HUB\n"
                                   " match identity remote any\n"
                                   " authentication remote eap query-identity\n"
                                   " authentication remote pre-share key s\n"
                                   " authentication local pre-share key h\n"
                                   " aaa authorization group eap list L USERS\n"
                                   " aaa authorization group psk list L SITES\n"
                                   "end\n");
    const vpn_conf_profile *p = vpn_conf_find_profile(c, "HUB");
    assert_string_equal(p->aaa_author_policy, "USERS");
    assert_string_equal(p->aaa_author_psk_policy, "SITES");
    assert_true(p->aaa_author_eap);
    assert_true(vpn_conf_find_author_policy(c, "SITES")->route_accept);
    assert_false(vpn_conf_find_author_policy(c, "USERS")->route_accept);
    vpn_conf_del(c);
}

static void test_client(void **state)
{
    (void)state;
    vpn_conf *c = tu_conf_parse_ok("crypto ikev2 profile CLIENT\n"
                           " match identity remote fqdn hub.example\n"
                           " authentication remote pre-share key hubkey\n"
                           " authentication local eap mschapv2 username alice password Secr3t!\n"
                           "end\n");
    const vpn_conf_profile *p = vpn_conf_find_profile(c, "CLIENT");
    assert_int_equal(p->auth_local, VPN_CONF_AUTH_EAP);
    assert_int_equal(p->eap_methods, VPN_CONF_EAP_M_MSCHAPV2);
    assert_string_equal(p->eap_username, "alice");
    assert_string_equal(p->eap_password, "Secr3t!");
    vpn_conf_del(c);
}

/* Each refused with its line and a message naming what is wrong. */
static const tu_conf_bad ra_bad[] = {
    {"ip local pool P 10.0.0.9 10.0.0.1\n", VPN_ERR_MALFORMED, 1, "below the first"},
    {"ip local pool P 2001:db8::1 2001:db8::9\n", VPN_ERR_MALFORMED, 1, "IPv4"},
    {"ip local pool P 10.0.0.0 10.1.0.0\n", VPN_ERR_MALFORMED, 1, "65536"},
    {"ip local pool P 10.0.0.1 10.0.0.9\nip local pool Q 10.0.0.9 10.0.0.20\n", VPN_ERR_POLICY, 2, "overlaps"},
    {"ip local pool P\n", VPN_ERR_MALFORMED, 1, "usage"},
    {"username u secret 9 $9$abc\n", VPN_ERR_MALFORMED, 1, "cleartext"},
    {"username u password\n", VPN_ERR_MALFORMED, 1, "usage"},
    {"username u pass x\n", VPN_ERR_MALFORMED, 1, "password or secret"},
    {"aaa authorization network L local\n", VPN_ERR_MALFORMED, 1, "new-model"},
    {"aaa new-model\naaa authorization network L radius\n", VPN_ERR_MALFORMED, 2, "usage"},
    {"aaa new-model\naaa accounting network L local\n", VPN_ERR_MALFORMED, 2, "unsupported"},
    {"crypto ikev2 authorization policy A\n pool NOPE\n", VPN_ERR_NOTFOUND, 1, "NOPE"},
    {"crypto ikev2 authorization policy A\n route set access-list NOPE\n", VPN_ERR_NOTFOUND, 1, "access-list NOPE"},
    {"crypto ikev2 authorization policy A\n route set interface Tunnel9\n", VPN_ERR_NOTFOUND, 1, "Tunnel9"},
    {"crypto ikev2 authorization policy A\n dns 1.1.1.1 2.2.2.2 3.3.3.3\n", VPN_ERR_MALFORMED, 2, "usage"},
    {"crypto ikev2 authorization policy A\n dns banana\n", VPN_ERR_MALFORMED, 2, "banana"},
    {"crypto ikev2 authorization policy A\n frobnicate\n", VPN_ERR_MALFORMED, 2, "frobnicate"},
    {"crypto ikev2 profile P\n match identity remote any\n"
     " authentication remote eap query-identity sha1\n",
     VPN_ERR_MALFORMED, 3, "sha1"},
    {"crypto ikev2 profile P\n match identity remote any\n"
     " authentication local eap mschapv2 username alice\n",
     VPN_ERR_MALFORMED, 3, "usage"},
    {"crypto ikev2 profile P\n match identity remote any\n"
     " authentication remote eap\n authentication local pre-share key k\n"
     " aaa authorization group eap list L NOPOL\n",
     VPN_ERR_NOTFOUND, 1, "NOPOL"},
    {"crypto ikev2 authorization policy A\n route accept\n", VPN_ERR_MALFORMED, 2, "usage"},
    {"crypto ikev2 authorization policy A\n route accept some\n", VPN_ERR_MALFORMED, 2, "usage"},
    {"crypto ikev2 profile P\n match identity remote any\n"
     " authentication remote pre-share key k\n authentication local pre-share key k\n"
     " aaa authorization group psk list L NOSITES\n",
     VPN_ERR_NOTFOUND, 1, "NOSITES"},
    /* only the attributes of the EAP exchange itself: no second lookup */
    {"crypto ikev2 profile P\n aaa authorization user eap list L\n", VPN_ERR_MALFORMED, 2, "usage"},
    {"crypto ikev2 profile P\n aaa authorization user eap cached now\n", VPN_ERR_MALFORMED, 2, "usage"},
    /* IPv6 pools and the policy's IPv6 lines */
    {"ipv6 local pool V6 2001:db8::/64\n", VPN_ERR_MALFORMED, 1, "usage"},
    {"ipv6 local pool V6 2001:db8::/64 63\n", VPN_ERR_MALFORMED, 1, "63"},
    {"ipv6 local pool V6 2001:db8::/64 129\n", VPN_ERR_MALFORMED, 1, "129"},
    {"ipv6 local pool V6 10.0.0.0/24 32\n", VPN_ERR_MALFORMED, 1, "IPv6"},
    {"ipv6 local pool V6 2001:db8:: 128\n", VPN_ERR_MALFORMED, 1, "PREFIX/LENGTH"},
    {"ipv6 local pool V6 2001:db8::1/64 128\n", VPN_ERR_MALFORMED, 1, "host bits"},
    {"ipv6 local pool V6 2001:db8::/128 128\n", VPN_ERR_MALFORMED, 1, "/128"},
    {"ipv6 local pool V6 2001:db8::/48 64\nipv6 local pool W 2001:db8:0:5::/64 128\n", VPN_ERR_POLICY, 2,
     "overlaps"},
    {"crypto ikev2 authorization policy A\n ipv6 pool NOPE6\n", VPN_ERR_NOTFOUND, 1, "ipv6 local pool NOPE6"},
    {"crypto ikev2 authorization policy A\n ipv6 pool\n", VPN_ERR_MALFORMED, 2, "usage"},
    {"crypto ikev2 authorization policy A\n ipv6 dns 10.0.0.53\n", VPN_ERR_MALFORMED, 2, "not an IPv6"},
    {"crypto ikev2 authorization policy A\n ipv6 dns 2001:db8::1 2001:db8::2 2001:db8::3\n", VPN_ERR_MALFORMED, 2,
     "usage"},
};

/* `ipv6 local pool NAME PREFIX/LEN ASSIGNED` and the policy's `ipv6 pool`
 * and `ipv6 dns` (IOS); an IPv4 pool may share the IPv6 pool's name. */
static void test_ipv6_pool(void **state)
{
    (void)state;
    char b[VPN_ADDR_STRLEN];
    vpn_conf *c = tu_conf_parse_ok("ip local pool P 10.99.0.1 10.99.0.9\n"
                                   "ipv6 local pool P 2001:db8:99::/48 64\n"
                                   "ipv6 local pool H 2001:db8:98::/120 128\n"
                                   "crypto ikev2 authorization policy A\n"
                                   " pool P\n"
                                   " ipv6 pool P\n"
                                   " ipv6 dns 2001:db8::53 2001:db8::54\n");
    const vpn_conf_ipv6_pool *p = vpn_conf_find_ipv6_pool(c, "P");
    assert_non_null(p);
    assert_string_equal(vpn_addr_str(&p->prefix.addr, b, sizeof b), "2001:db8:99::");
    assert_int_equal(p->prefix.len, 48);
    assert_int_equal(p->assigned_len, 64);
    assert_int_equal(vpn_conf_find_ipv6_pool(c, "H")->assigned_len, 128);
    assert_non_null(vpn_conf_find_ip_pool(c, "P"));
    const vpn_conf_author_policy *a = vpn_conf_find_author_policy(c, "A");
    assert_string_equal(a->pool6, "P");
    assert_int_equal(a->n_dns6, 2);
    assert_string_equal(vpn_addr_str(&a->dns6[1], b, sizeof b), "2001:db8::54");
    vpn_conf_del(c);
}

static void test_errors(void **state)
{
    (void)state;
    TU_CONF_EXPECT_ERRORS(ra_bad);
}

/* RADIUS for EAP passthrough: `radius server`, `aaa group server radius`,
 * `aaa authentication eap LIST group G` and the profile's list. */
#define PROFILE_AUTH " match identity remote any\n authentication remote eap\n authentication local pre-share key k\n"
static const char radius_hub[] =
    "aaa new-model\n"                                            /* 1 */
    "radius server R1\n"                                         /* 2 */
    " address ipv4 10.9.0.1 auth-port 11812 acct-port 11813\n"   /* 3 */
    " key 0 testing123\n"                                        /* 4 */
    " timeout 2\n"                                               /* 5 */
    " retransmit 1\n"                                            /* 6 */
    "radius server R2\n"                                         /* 7 */
    " address ipv4 10.9.0.2\n"                                   /* 8 */
    " key other-secret\n"                                        /* 9 */
    "aaa group server radius RADS\n"                             /* 10 */
    " server name R2\n"                                          /* 11 */
    " server name R1\n"                                          /* 12 */
    "aaa authentication eap RAD-EAP group RADS\n"                /* 13 */
    "aaa authentication eap ALL-EAP group radius\n"              /* 14 */
    "aaa authentication eap LOC-EAP local\n"                     /* 15 */
    "crypto ikev2 profile A\n"
    PROFILE_AUTH
    " aaa authentication eap RAD-EAP\n"
    "crypto ikev2 profile B\n"
    PROFILE_AUTH
    " aaa authentication eap ALL-EAP\n"
    "crypto ikev2 profile C\n"
    PROFILE_AUTH
    " aaa authentication eap LOC-EAP\n"
    "crypto ikev2 profile D\n"
    PROFILE_AUTH
    "end\n";

static const tu_conf_bad radius_bad[] = {
    {"radius server R\n address ipv6 ::1\n", VPN_ERR_MALFORMED, 2, "usage"},
    {"radius server R\n address ipv4 10.0.0.1 auth-port 0\n", VPN_ERR_MALFORMED, 2, "0"},
    {"radius server R\n address ipv4 10.0.0.1 auth-port\n", VPN_ERR_MALFORMED, 2, "auth-port"},
    {"radius server R\n key 7 0822455D0A16\n", VPN_ERR_MALFORMED, 2, "cleartext"},
    {"radius server R\n timeout 0\n", VPN_ERR_MALFORMED, 2, "0"},
    {"radius server R\n key k\n", VPN_ERR_POLICY, 1, "no address"},
    {"radius server R\n address ipv4 10.0.0.1\n", VPN_ERR_POLICY, 1, "no key"},
    {"aaa group server radius G\n", VPN_ERR_MALFORMED, 1, "new-model"},
    {"aaa new-model\naaa group server radius G\n server name NOPE\n", VPN_ERR_NOTFOUND, 2, "NOPE"},
    {"aaa new-model\naaa group server radius G\n server host 1.2.3.4\n", VPN_ERR_MALFORMED, 3, "usage"},
    {"aaa new-model\naaa group server radius G\n", VPN_ERR_POLICY, 2, "no server"},
    {"aaa new-model\naaa authentication eap L group NOPE\n", VPN_ERR_NOTFOUND, 2, "NOPE"},
    {"aaa new-model\naaa authentication eap L group radius\n", VPN_ERR_NOTFOUND, 2, "no radius server"},
    {"crypto ikev2 profile P\n" PROFILE_AUTH " aaa authentication eap NOPE\n", VPN_ERR_NOTFOUND, 1, "NOPE"},
};

static void test_radius(void **state)
{
    (void)state;
    vpn_conf *c = tu_conf_parse_ok(radius_hub);
    const vpn_conf_radius_server *out[4];
    char b[VPN_ADDR_STRLEN];
    const vpn_conf_radius_server *r1 = vpn_conf_find_radius_server(c, "R1");
    assert_non_null(r1);
    assert_string_equal(vpn_addr_str(&r1->addr, b, sizeof b), "10.9.0.1");
    assert_int_equal(r1->auth_port, 11812);
    assert_string_equal(r1->key, "testing123");
    assert_int_equal(r1->timeout_s, 2);
    assert_int_equal(r1->retransmit, 1);
    const vpn_conf_radius_server *r2 = vpn_conf_find_radius_server(c, "R2");
    assert_int_equal(r2->auth_port, 1812);
    assert_string_equal(r2->key, "other-secret");
    assert_int_equal(r2->timeout_s, 0);
    /* the group's order, not the definition order */
    assert_int_equal(vpn_conf_eap_radius_servers(c, vpn_conf_find_profile(c, "A"), out, 4), 2);
    assert_ptr_equal(out[0], r2);
    assert_ptr_equal(out[1], r1);
    assert_int_equal(vpn_conf_eap_radius_servers(c, vpn_conf_find_profile(c, "A"), out, 1), 1);
    /* group radius: every server, in definition order */
    assert_int_equal(vpn_conf_eap_radius_servers(c, vpn_conf_find_profile(c, "B"), out, 4), 2);
    assert_ptr_equal(out[0], r1);
    /* local list, no list: the local database */
    assert_int_equal(vpn_conf_eap_radius_servers(c, vpn_conf_find_profile(c, "C"), out, 4), 0);
    assert_int_equal(vpn_conf_eap_radius_servers(c, vpn_conf_find_profile(c, "D"), out, 4), 0);
    vpn_conf_del(c);

    TU_CONF_EXPECT_ERRORS(radius_bad);
}

static const tu_conf_bad vt_bad[] = {
    {"interface Virtual-Template 0 type tunnel\n", VPN_ERR_MALFORMED, 1, "1-65535"},
    {"interface Virtual-Template 70000 type tunnel\n", VPN_ERR_MALFORMED, 1, "1-65535"},
    {"interface Virtual-Template x1 type tunnel\n", VPN_ERR_MALFORMED, 1, "x1"},
    {"interface Virtual-Template1 type ethernet\n", VPN_ERR_MALFORMED, 1, "type tunnel"},
    {"interface Virtual-Template 1 tunnel type\n", VPN_ERR_MALFORMED, 1, "type tunnel"},
    {"interface Loopback1\n tunnel mode ipsec ipv4\n", VPN_ERR_MALFORMED, 2, "need a Tunnel interface"},
};

/* interface Virtual-Template N type tunnel, both spellings, one name */
static void test_virtual_template(void **state)
{
    (void)state;
    vpn_conf *c = tu_conf_parse_ok("interface Loopback0\n ip address 10.1.0.1 255.255.255.255\n"
                                   "interface Virtual-Template 1 type tunnel\n"
                                   " ip unnumbered Loopback0\n tunnel source 192.0.2.2\n"
                                   " tunnel mode ipsec ipv4\n"
                                   "interface Virtual-Template7 type tunnel\n");
    const vpn_conf_interface *f = vpn_conf_find_interface(c, "Virtual-Template1");
    assert_non_null(f);
    assert_true(f->is_virtual_template);
    assert_true(f->is_tunnel); /* a template takes the tunnel commands */
    assert_int_equal(f->vt_number, 1);
    assert_int_equal(f->tunnel_mode, VPN_CONF_TUNNEL_IPSEC_IPV4);
    assert_true(f->has_tunnel_source);
    assert_true(f->unnumbered);
    f = vpn_conf_find_interface(c, "Virtual-Template7");
    assert_non_null(f);
    assert_int_equal(f->vt_number, 7);
    vpn_conf_del(c);
    TU_CONF_EXPECT_ERRORS(vt_bad);
}

static const tu_conf_bad dual_bad[] = {
    {"interface Gi2\n ipv6 address 10.0.0.1/24\n", VPN_ERR_MALFORMED, 2, "IPv6 prefix"},
    {"interface Tunnel0\n tunnel mode ipsec dual\n", VPN_ERR_MALFORMED, 2, "unsupported tunnel mode"},
};

/* An IOS interface is dual-stack: `ipv6 address` beside `ip address`, in
 * either order, each kept (the IPv6 one alone on an IPv6-only interface
 * is its address too); `tunnel mode ipsec dual-overlay` (IOS-XE) is a VTI
 * carrying both inner families. */
static void test_dual_stack(void **state)
{
    (void)state;
    char a[VPN_ADDR_STRLEN];
    vpn_conf *c = tu_conf_parse_ok("interface Gi2\n ip address 10.0.0.1 255.255.255.0\n ipv6 address 2001:db8:1::1/64\n"
                                   "interface Gi3\n ipv6 address 2001:db8:3::1/64\n ip address 10.3.0.1 255.255.255.0\n"
                                   "interface Lo6\n ipv6 address 2001:db8:6::1/64\n"
                                   "interface Tunnel0\n tunnel mode ipsec dual-overlay\n");
    const vpn_conf_interface *f = vpn_conf_find_interface(c, "Gi2");
    assert_non_null(f);
    assert_true(f->has_address && f->has_address6);
    assert_string_equal(vpn_addr_str(&f->address.addr, a, sizeof a), "10.0.0.1");
    assert_string_equal(vpn_addr_str(&f->address6.addr, a, sizeof a), "2001:db8:1::1");
    assert_int_equal(f->address6.len, 64);
    f = vpn_conf_find_interface(c, "Gi3");
    assert_string_equal(vpn_addr_str(&f->address.addr, a, sizeof a), "10.3.0.1");
    assert_string_equal(vpn_addr_str(&f->address6.addr, a, sizeof a), "2001:db8:3::1");
    f = vpn_conf_find_interface(c, "Lo6");
    assert_true(f->has_address && f->has_address6);
    assert_string_equal(vpn_addr_str(&f->address.addr, a, sizeof a), "2001:db8:6::1");
    f = vpn_conf_find_interface(c, "Tunnel0");
    assert_int_equal(f->tunnel_mode, VPN_CONF_TUNNEL_IPSEC_DUAL);
    vpn_conf_del(c);
    TU_CONF_EXPECT_ERRORS(dual_bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_virtual_template),
        cmocka_unit_test(test_hub),
        cmocka_unit_test(test_client),
        cmocka_unit_test(test_block_policies),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_ipv6_pool),
        cmocka_unit_test(test_radius),
        cmocka_unit_test(test_dual_stack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
