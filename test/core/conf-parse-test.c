/* The IOS configuration subset: objects, defaults, references and errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "conf/conf.h"
#include "crypto/crypto-ids.h"
#include "conf-expect.h"
#include "test-util.h"

/* HUB1 of the first seed article: GRE/IPsec to SPOKE1's loopback, PSK from a
 * keyring, static routes into the tunnel. */
static const char hub1[] =
    "hostname HUB1\n"
    "!\n"
    "crypto ikev2 proposal PROP1\n"
    " encryption aes-cbc-256 aes-cbc-128\n"
    " integrity sha256\n"
    " group 19 14\n"
    "crypto ikev2 policy POL1\n"
    " match address local 198.51.100.1\n"
    " proposal PROP1\n"
    "crypto ikev2 keyring KR1\n"
    " peer SPOKE1\n"
    "  address 203.0.113.20\n"
    "  pre-shared-key local hub-secret\n"
    "  pre-shared-key remote spoke-secret\n"
    " peer ANY\n"
    "  address 0.0.0.0 0.0.0.0\n"
    "  pre-shared-key wildcard-secret\n"
    "crypto ikev2 profile IKEV2-PROFILE1\n"
    " match identity remote address 203.0.113.20 255.255.255.255\n"
    " identity local address 198.51.100.1\n"
    " authentication remote pre-share\n"
    " authentication local pre-share\n"
    " keyring local KR1\n"
    " dpd 10 2 on-demand\n"
    "crypto ipsec transform-set TS1 esp-aes 256 esp-sha256-hmac\n"
    " mode transport\n"
    "crypto ipsec profile IPSEC-PROFILE1\n"
    " set transform-set TS1\n"
    " set ikev2-profile IKEV2-PROFILE1\n"
    " set pfs group19\n"
    "interface Loopback0\n"
    " ip address 10.1.0.1 255.255.255.255\n"
    "interface GigabitEthernet0/0\n"
    " ip address 198.51.100.1 255.255.255.0\n"
    "interface Tunnel0\n"
    " ip address 172.16.0.1 255.255.255.252\n"
    " tunnel source GigabitEthernet0/0\n"
    " tunnel destination 203.0.113.20\n"
    " tunnel protection ipsec profile IPSEC-PROFILE1\n"
    "ip access-list extended GRE\n"
    " permit gre host 198.51.100.1 host 203.0.113.20\n"
    " permit udp 10.1.0.0 0.0.255.255 eq 5060 any range 16384 32767 dscp ef\n"
    "ip route 10.2.0.0 255.255.0.0 Tunnel0\n"
    "ip route 0.0.0.0 0.0.0.0 198.51.100.254 5\n"
    "end\n";

static void test_hub1_objects(void **state)
{
    (void)state;
    vpn_conf *c = tu_conf_parse_ok(hub1);
    char buf[VPN_ADDR_STRLEN];

    assert_string_equal(c->hostname, "HUB1");
    const vpn_conf_proposal *p = vpn_conf_find_proposal(c, "PROP1");
    assert_non_null(p);
    assert_int_equal(p->n_encr, 2);
    assert_int_equal(p->encr[0].id, VPN_ENCR_AES_CBC);
    assert_int_equal(p->encr[0].bits, 256);
    assert_int_equal(p->encr[1].bits, 128);
    assert_int_equal(p->n_integ, 1);
    assert_int_equal(p->integ[0], VPN_AUTH_HMAC_SHA2_256_128);
    /* No prf line: the PRF follows the integrity algorithm (IOS). */
    assert_int_equal(p->n_prf, 1);
    assert_int_equal(p->prf[0], VPN_PRF_HMAC_SHA2_256);
    assert_int_equal(p->n_group, 2);
    assert_int_equal(p->group[0], VPN_DH_ECP_256);
    assert_int_equal(p->group[1], VPN_DH_MODP_2048);
    assert_int_equal(p->line, 3);

    const vpn_conf_policy *pol = vpn_conf_find_policy(c, "POL1");
    assert_non_null(pol);
    assert_int_equal(pol->n_match_local, 1);
    assert_string_equal(vpn_addr_str(&pol->match_local[0], buf, sizeof buf), "198.51.100.1");
    assert_string_equal(pol->proposal[0], "PROP1");
    assert_string_equal(pol->fvrf, "any");

    const vpn_conf_keyring *kr = vpn_conf_find_keyring(c, "KR1");
    assert_non_null(kr);
    assert_int_equal(kr->n_peer, 2);
    assert_string_equal(kr->peer[0].psk_local, "hub-secret");
    assert_string_equal(kr->peer[0].psk_remote, "spoke-secret");
    assert_string_equal(kr->peer[1].psk_local, "wildcard-secret");
    assert_string_equal(kr->peer[1].psk_remote, "wildcard-secret");
    assert_int_equal(kr->peer[1].address.len, 0);

    const vpn_conf_profile *pr = vpn_conf_find_profile(c, "IKEV2-PROFILE1");
    assert_non_null(pr);
    assert_int_equal(pr->n_match_remote, 1);
    assert_int_equal(pr->match_remote[0].type, VPN_CONF_ID_ADDRESS);
    assert_int_equal(pr->match_remote[0].addr.len, 32);
    assert_int_equal(pr->identity_local.type, VPN_CONF_ID_ADDRESS);
    assert_int_equal(pr->auth_local, VPN_CONF_AUTH_PSK);
    assert_int_equal(pr->n_auth_remote, 1);
    assert_int_equal(pr->auth_remote[0], VPN_CONF_AUTH_PSK);
    assert_string_equal(pr->keyring, "KR1");
    assert_int_equal(pr->dpd_mode, VPN_CONF_DPD_ON_DEMAND);
    assert_int_equal(pr->dpd_interval_s, 10);
    assert_int_equal(pr->dpd_retry_s, 2);
    assert_int_equal(pr->lifetime_s, 86400);

    const vpn_conf_transform_set *t = vpn_conf_find_transform_set(c, "TS1");
    assert_non_null(t);
    assert_int_equal(t->encr.id, VPN_ENCR_AES_CBC);
    assert_int_equal(t->encr.bits, 256);
    assert_int_equal(t->integ, VPN_AUTH_HMAC_SHA2_256_128);
    assert_int_equal(t->mode, VPN_CONF_MODE_TRANSPORT);
    assert_string_equal(t->display, "esp-256-aes esp-sha256-hmac");

    const vpn_conf_ipsec_profile *ip = vpn_conf_find_ipsec_profile(c, "IPSEC-PROFILE1");
    assert_non_null(ip);
    assert_string_equal(ip->transform_set[0], "TS1");
    assert_string_equal(ip->ikev2_profile, "IKEV2-PROFILE1");
    assert_int_equal(ip->pfs_group, 19);
    assert_int_equal(ip->lifetime_s, 3600);
    assert_int_equal(ip->lifetime_kb, 4608000);

    const vpn_conf_interface *tu = vpn_conf_find_interface(c, "Tunnel0");
    assert_non_null(tu);
    assert_true(tu->is_tunnel);
    assert_int_equal(tu->address.len, 30);
    assert_string_equal(tu->tunnel_source_if, "GigabitEthernet0/0");
    assert_string_equal(vpn_addr_str(&tu->tunnel_destination, buf, sizeof buf), "203.0.113.20");
    assert_int_equal(tu->tunnel_mode, VPN_CONF_TUNNEL_GRE_IP);
    assert_string_equal(tu->protection, "IPSEC-PROFILE1");
    assert_false(vpn_conf_find_interface(c, "Loopback0")->is_tunnel);

    const vpn_conf_acl *acl = vpn_conf_find_acl(c, "GRE");
    assert_non_null(acl);
    assert_int_equal(acl->n_ace, 2);
    assert_int_equal(acl->ace[0].proto, 47);
    assert_int_equal(acl->ace[0].src.len, 32);
    assert_int_equal(acl->ace[1].proto, 17);
    assert_int_equal(acl->ace[1].src.len, 16);
    assert_int_equal(acl->ace[1].src_op, VPN_PORT_EQ);
    assert_int_equal(acl->ace[1].src_port[0], 5060);
    assert_int_equal(acl->ace[1].dst.len, 0);
    assert_int_equal(acl->ace[1].dst_op, VPN_PORT_RANGE);
    assert_int_equal(acl->ace[1].dst_port[1], 32767);
    assert_int_equal(acl->ace[1].dscp, 46);

    assert_int_equal(c->n_route, 2);
    assert_true(c->route[0].via_interface);
    assert_string_equal(c->route[0].interface, "Tunnel0");
    assert_int_equal(c->route[0].prefix.len, 16);
    assert_false(c->route[1].via_interface);
    assert_int_equal(c->route[1].distance, 5);
    vpn_conf_del(c);
}

static void test_defaults(void **state)
{
    (void)state;
    vpn_conf *c = tu_conf_parse_ok("");
    const vpn_conf_proposal *p = vpn_conf_find_proposal(c, "default");
    assert_non_null(p);
    assert_int_equal(p->encr[0].id, VPN_ENCR_AES_CBC);
    assert_int_equal(p->encr[0].bits, 256);
    assert_int_equal(p->n_group, 3);
    assert_int_equal(p->group[0], VPN_DH_ECP_256);
    assert_int_equal(p->group[1], VPN_DH_MODP_2048);
    assert_int_equal(p->group[2], VPN_DH_ECP_521);
    for (size_t i = 0; i < p->n_group; i++)
        assert_true(p->group[i] != VPN_DH_MODP_1536 && p->group[i] != VPN_DH_MODP_1024);
    assert_non_null(vpn_conf_find_policy(c, "default"));
    const vpn_conf_transform_set *t = vpn_conf_find_transform_set(c, "default");
    assert_string_equal(t->display, "esp-aes esp-sha-hmac");
    assert_int_equal(t->mode, VPN_CONF_MODE_TRANSPORT);
    const vpn_conf_ipsec_profile *ip = vpn_conf_find_ipsec_profile(c, "default");
    assert_int_equal(ip->lifetime_s, 3600);
    assert_int_equal(ip->pfs_group, 0);
    assert_int_equal(c->ikev2_window, 5);
    vpn_conf_del(c);

    /* Redefining the default proposal replaces its algorithms. */
    c = tu_conf_parse_ok("crypto ikev2 proposal default\n encryption aes-gcm-256\n prf sha384\n group 20\n");
    p = vpn_conf_find_proposal(c, "default");
    assert_int_equal(p->n_encr, 1);
    assert_int_equal(p->encr[0].id, VPN_ENCR_AES_GCM_16);
    assert_int_equal(p->n_integ, 0);
    assert_int_equal(p->n_group, 1);
    vpn_conf_del(c);
}

static void test_modes_pop_like_ios(void **state)
{
    (void)state;
    /* No indentation, and a global command in the middle of a profile: the
     * parser leaves the sub-mode as IOS does, and "exit" pops one level. */
    vpn_conf *c = tu_conf_parse_ok("crypto ikev2 keyring K\n"
                           "peer A\n"
                           "address 192.0.2.1\n"
                           "pre-shared-key k1\n"
                           "exit\n"
                           "peer B\n"
                           "identity fqdn b.example.com\n"
                           "pre-shared-key k2\n"
                           "hostname R1\n"
                           "crypto ikev2 proposal P\n"
                           "encryption aes-gcm-128\n"
                           "prf sha256\n"
                           "group 31\n");
    const vpn_conf_keyring *k = vpn_conf_find_keyring(c, "K");
    assert_int_equal(k->n_peer, 2);
    assert_string_equal(k->peer[1].identity.value, "b.example.com");
    assert_string_equal(c->hostname, "R1");
    assert_int_equal(vpn_conf_find_proposal(c, "P")->group[0], VPN_DH_CURVE25519);
    vpn_conf_del(c);
}

static void test_keyring_and_identity_matching(void **state)
{
    (void)state;
    vpn_conf *c = tu_conf_parse_ok("crypto ikev2 keyring K\n"
                           " peer NET\n  address 10.0.0.0 255.0.0.0\n  pre-shared-key net\n"
                           " peer HOST\n  address 10.1.2.3\n  pre-shared-key host\n"
                           " peer ID\n  identity email ops@example.com\n  pre-shared-key id\n"
                           "crypto ikev2 profile P\n"
                           " match identity remote fqdn domain example.com\n"
                           " match identity remote key-id branch7\n"
                           " match identity remote address 192.0.2.0 255.255.255.0\n"
                           " authentication local pre-share\n authentication remote pre-share\n"
                           " keyring local K\n");
    const vpn_conf_keyring *k = vpn_conf_find_keyring(c, "K");
    vpn_addr a;
    vpn_conf_identity id;

    vpn_addr_parse(&a, "10.1.2.3");
    assert_string_equal(vpn_conf_keyring_match(k, &a, NULL)->name, "HOST"); /* longest prefix */
    vpn_addr_parse(&a, "10.9.9.9");
    assert_string_equal(vpn_conf_keyring_match(k, &a, NULL)->name, "NET");
    vpn_addr_parse(&a, "192.0.2.1");
    assert_null(vpn_conf_keyring_match(k, &a, NULL));
    memset(&id, 0, sizeof id);
    id.type = VPN_CONF_ID_EMAIL;
    strcpy(id.value, "OPS@example.com"); /* case-insensitive */
    assert_string_equal(vpn_conf_keyring_match(k, &a, &id)->name, "ID");

    const vpn_conf_profile *p = vpn_conf_find_profile(c, "P");
    id.type = VPN_CONF_ID_FQDN;
    strcpy(id.value, "spoke1.example.com");
    assert_true(vpn_conf_profile_matches(p, &id));
    strcpy(id.value, "example.com");
    assert_true(vpn_conf_profile_matches(p, &id));
    strcpy(id.value, "badexample.com");
    assert_false(vpn_conf_profile_matches(p, &id));
    id.type = VPN_CONF_ID_KEY_ID;
    strcpy(id.value, "branch7");
    assert_true(vpn_conf_profile_matches(p, &id));
    strcpy(id.value, "branch8");
    assert_false(vpn_conf_profile_matches(p, &id));
    id.type = VPN_CONF_ID_ADDRESS;
    vpn_prefix_parse(&id.addr, "192.0.2.77");
    assert_true(vpn_conf_profile_matches(p, &id));
    vpn_prefix_parse(&id.addr, "192.0.3.1");
    assert_false(vpn_conf_profile_matches(p, &id));
    vpn_conf_del(c);
}

static void test_router_rip(void **state)
{
    (void)state;
    vpn_conf *c = tu_conf_parse_ok("interface Gi0/0\n ip address 198.51.100.1 255.255.255.252\n"
                           "router rip\n version 2\n network 10.0.0.0\n network 172.16.0.0\n"
                           " network 192.168.7.0\n passive-interface Gi0/0\n no auto-summary\n"
                           "hostname R\n");
    char buf[VPN_ADDR_STRLEN];
    assert_true(c->rip.enabled);
    assert_int_equal(c->rip.version, 2);
    assert_int_equal(c->rip.n_network, 3);
    assert_int_equal(c->rip.network[0].len, 8);   /* class A */
    assert_int_equal(c->rip.network[1].len, 16);  /* class B */
    assert_int_equal(c->rip.network[2].len, 24);  /* class C */
    assert_string_equal(vpn_addr_str(&c->rip.network[1].addr, buf, sizeof buf), "172.16.0.0");
    assert_string_equal(c->rip.passive[0], "Gi0/0");
    assert_int_equal(c->rip.update_s, 30); /* IOS defaults */
    assert_int_equal(c->rip.flush_s, 240);
    assert_string_equal(c->hostname, "R"); /* left router mode like IOS */
    vpn_conf_del(c);
    c = tu_conf_parse_ok("hostname R\n");
    assert_false(c->rip.enabled);
    vpn_conf_del(c);
    tu_conf_expect_error("router rip\n version 1\n", VPN_ERR_MALFORMED, 2, "only RIP version 2");
    tu_conf_expect_error("router eigrp 100\n", VPN_ERR_MALFORMED, 1, "only `router rip`");
    tu_conf_expect_error("router rip\n timers basic 5 15 15\n", VPN_ERR_MALFORMED, 2, "timers basic needs");
    tu_conf_expect_error("router rip\n timers basic 30 15 15 20\n", VPN_ERR_MALFORMED, 2, "invalid must be >=");
    c = tu_conf_parse_ok("router rip\n timers basic 5 15 15 20\n");
    assert_int_equal(c->rip.update_s, 5);
    assert_int_equal(c->rip.invalid_s, 15);
    assert_int_equal(c->rip.flush_s, 20);
    vpn_conf_del(c);
    tu_conf_expect_error("router rip\n network 10.0.0.0.1\n", VPN_ERR_MALFORMED, 2, "not an IP address");
    tu_conf_expect_error("router rip\n passive-interface Gi9\n", VPN_ERR_NOTFOUND, 1, "passive-interface Gi9");
}

/* RIP over a DMVPN hub's mGRE: split horizon off (phase 2), a summary
 * (phase 3); malformed forms name their line and set nothing. */
static void test_rip_interface(void **state)
{
    (void)state;
    vpn_conf *c = tu_conf_parse_ok("interface Tunnel0\n ip address 172.16.0.1 255.255.0.0\n"
                                   " no ip split-horizon\n ip summary-address rip 10.0.0.0 255.0.0.0\n"
                                   "interface Tunnel1\n ip address 172.17.0.1 255.255.0.0\n"
                                   " no ip split-horizon\n ip split-horizon\n");
    char buf[VPN_ADDR_STRLEN];
    assert_true(c->iface[0].rip_no_split_horizon);
    assert_true(c->iface[0].has_rip_summary);
    assert_int_equal(c->iface[0].rip_summary.len, 8);
    assert_string_equal(vpn_addr_str(&c->iface[0].rip_summary.addr, buf, sizeof buf), "10.0.0.0");
    assert_false(c->iface[1].rip_no_split_horizon); /* the last word wins, as in IOS */
    assert_false(c->iface[1].has_rip_summary);
    vpn_conf_del(c);
    tu_conf_expect_error("interface Tunnel0\n ip summary-address eigrp 1 10.0.0.0 255.0.0.0\n",
                         VPN_ERR_MALFORMED, 2, "only 'ip summary-address rip");
    tu_conf_expect_error("interface Tunnel0\n ip summary-address rip 10.0.0.0\n", VPN_ERR_MALFORMED, 2,
                         "missing mask");
    tu_conf_expect_error("interface Tunnel0\n ip summary-address rip 10.0.0.0 255.0.255.0\n",
                         VPN_ERR_MALFORMED, 2, "not a contiguous mask");
    tu_conf_expect_error("interface Tunnel0\n ip summary-address rip 10.0.0.0 255.0.0.0 5\n",
                         VPN_ERR_MALFORMED, 2, "expected 'ip summary-address rip A M'");
    tu_conf_expect_error("interface Tunnel0\n no ip split-horizon eigrp 1\n", VPN_ERR_MALFORMED, 2,
                         "expected 'no ip split-horizon'");
}

/* crypto pki trustpoint: the files a daemon loads certificates from. */
static void test_pki_trustpoint(void **state)
{
    (void)state;
    vpn_conf *c = tu_conf_parse_ok("crypto pki trustpoint TP\n"
                           " ca-certificate file /etc/vpn/ca.pem\n"
                           " ca-certificate file /etc/vpn/sub-ca.pem\n"
                           " certificate file /etc/vpn/r1.pem\n"
                           " private-key file /etc/vpn/r1.key\n"
                           " revocation-check none\n"
                           "crypto pki trustpoint CA-ONLY\n"
                           " ca-certificate file ca.der\n"
                           "crypto ikev2 profile P\n"
                           " match identity remote any\n"
                           " authentication local ecdsa-sig\n"
                           " authentication remote ecdsa-sig\n"
                           " pki trustpoint TP\n");
    const vpn_conf_trustpoint *t = vpn_conf_find_trustpoint(c, "TP");
    assert_non_null(t);
    assert_int_equal(t->n_ca_file, 2);
    assert_string_equal(t->ca_file[0], "/etc/vpn/ca.pem");
    assert_string_equal(t->ca_file[1], "/etc/vpn/sub-ca.pem");
    assert_string_equal(t->cert_file, "/etc/vpn/r1.pem");
    assert_string_equal(t->key_file, "/etc/vpn/r1.key");
    assert_int_equal(t->line, 1);
    t = vpn_conf_find_trustpoint(c, "CA-ONLY");
    assert_non_null(t);
    assert_int_equal(t->n_ca_file, 1);
    assert_string_equal(t->cert_file, "");
    assert_null(vpn_conf_find_trustpoint(c, "NOPE"));
    assert_string_equal(vpn_conf_find_profile(c, "P")->trustpoint[0], "TP");
    vpn_conf_del(c);

    tu_conf_expect_error("crypto pki trustpoint TP\n certificate /x.pem\n", VPN_ERR_MALFORMED, 2, "takes `file PATH`");
    tu_conf_expect_error("crypto pki trustpoint TP\n private-key file a b\n", VPN_ERR_MALFORMED, 2, "takes `file PATH`");
    tu_conf_expect_error("crypto pki trustpoint TP\n enrollment terminal\n", VPN_ERR_MALFORMED, 2,
                 "not a command of pki trustpoint mode");
    tu_conf_expect_error("crypto pki trustpoint TP\n revocation-check crl\n", VPN_ERR_MALFORMED, 2,
                 "revocation-check none");
    tu_conf_expect_error("crypto pki certificate chain TP\n", VPN_ERR_MALFORMED, 1, "crypto pki trustpoint NAME");
    tu_conf_expect_error("crypto pki trustpoint TP\n ca-certificate file 1\n ca-certificate file 2\n"
                 " ca-certificate file 3\n ca-certificate file 4\n ca-certificate file 5\n",
                 VPN_ERR_MALFORMED, 6, "too many ca-certificate");
    tu_conf_expect_error("crypto pki trustpoint TP\n certificate file r1.pem\n", VPN_ERR_POLICY, 1,
                 "needs both 'certificate file' and 'private-key file'");
}

static void test_errors_name_the_line(void **state)
{
    (void)state;
    tu_conf_expect_error("hostname R\nfoo bar\n", VPN_ERR_MALFORMED, 2, "unknown command 'foo'");
    tu_conf_expect_error("crypto ikev2 proposal P\n encyption aes-cbc-128\n", VPN_ERR_MALFORMED, 2,
                 "not a command of ikev2 proposal mode");
    tu_conf_expect_error("crypto ikev2 proposal P\n encryption 3des\n", VPN_ERR_MALFORMED, 2, "'3des' is not supported");
    tu_conf_expect_error("crypto ikev2 proposal P\n encryption aes-cbc-128\n integrity md5\n", VPN_ERR_MALFORMED, 3,
                 "'md5'");
    tu_conf_expect_error("crypto ikev2 proposal P\n encryption aes-cbc-128\n integrity sha1\n group 1\n",
                 VPN_ERR_MALFORMED, 4, "'1' is not supported");
    tu_conf_expect_error("crypto ikev2 proposal P\n encryption aes-cbc-128\n group 19\n", VPN_ERR_POLICY, 1,
                 "has no integrity");
    tu_conf_expect_error("crypto ikev2 proposal P\n encryption aes-gcm-128\n integrity sha256\n group 19\n",
                 VPN_ERR_POLICY, 1, "AEAD encryption takes no integrity");
    tu_conf_expect_error("crypto ikev2 proposal P\n encryption aes-gcm-128 aes-cbc-128\n prf sha256\n group 19\n",
                 VPN_ERR_POLICY, 1, "mixes AEAD");
    tu_conf_expect_error("crypto ikev2 policy X\n proposal NOPE\n", VPN_ERR_NOTFOUND, 1, "proposal NOPE is not defined");
    tu_conf_expect_error("crypto ikev2 profile P\n match identity remote any\n authentication local pre-share\n"
                 " authentication remote pre-share\n keyring local MISSING\n",
                 VPN_ERR_NOTFOUND, 1, "keyring MISSING is not defined");
    tu_conf_expect_error("crypto ikev2 profile P\n authentication local pre-share\n authentication remote pre-share\n"
                 " keyring local K\ncrypto ikev2 keyring K\n",
                 VPN_ERR_POLICY, 1, "no 'match identity remote'");
    tu_conf_expect_error("crypto ikev2 profile P\n match identity remote any\n authentication local pre-share\n",
                 VPN_ERR_POLICY, 1, "needs both");
    tu_conf_expect_error("crypto ikev2 profile P\n match identity remote any\n authentication local rsa-sig\n"
                 " authentication remote rsa-sig\n",
                 VPN_ERR_POLICY, 1, "no 'pki trustpoint'");
    tu_conf_expect_error("crypto ikev2 profile P\n dpd 5 2 on-demand\n", VPN_ERR_MALFORMED, 2, "out of range 10-3600");
    tu_conf_expect_error("crypto ikev2 profile P\n dpd 10 2 sometimes\n", VPN_ERR_MALFORMED, 2, "on-demand or periodic");
    tu_conf_expect_error("crypto ipsec transform-set T esp-gcm 256 esp-sha-hmac\n", VPN_ERR_POLICY, 1, "no integrity");
    tu_conf_expect_error("crypto ipsec transform-set T esp-aes 256\n", VPN_ERR_POLICY, 1, "needs an integrity");
    tu_conf_expect_error("crypto ipsec transform-set T esp-3des esp-sha-hmac\n", VPN_ERR_MALFORMED, 1, "esp-3des");
    tu_conf_expect_error("crypto ipsec transform-set T esp-aes 512 esp-sha-hmac\n", VPN_ERR_MALFORMED, 1, "bad key size");
    tu_conf_expect_error("crypto ipsec profile IP\n set transform-set NOPE\n", VPN_ERR_NOTFOUND, 1,
                 "transform-set NOPE is not defined");
    tu_conf_expect_error("crypto ipsec profile IP\n set pfs\n", VPN_ERR_MALFORMED, 2, "needs a group");
    tu_conf_expect_error("interface Tunnel0\n tunnel protection ipsec profile default\n tunnel destination 192.0.2.1\n",
                 VPN_ERR_POLICY, 1, "has no ikev2 profile");
    tu_conf_expect_error("interface Tunnel0\n tunnel mode gre sideways\n", VPN_ERR_MALFORMED, 2, "unsupported tunnel mode");
    tu_conf_expect_error("interface Gi0\n tunnel destination 192.0.2.1\n", VPN_ERR_MALFORMED, 2, "need a Tunnel interface");
    tu_conf_expect_error("interface Gi0\n ip address 10.0.0.1 255.0.255.0\n", VPN_ERR_MALFORMED, 2, "contiguous mask");
    tu_conf_expect_error("interface Gi0\n ip address 10.0.0.300 255.255.255.0\n", VPN_ERR_MALFORMED, 2,
                 "not an IP address");
    tu_conf_expect_error("ip route 10.0.0.0 255.0.0.0 Tunnel9\n", VPN_ERR_NOTFOUND, 1, "Tunnel9 is not configured");
    tu_conf_expect_error("ip route 10.0.0.0 255.0.0.0 192.0.2.1 999\n", VPN_ERR_MALFORMED, 1, "out of range");
    tu_conf_expect_error("ip access-list extended A\n permit tcp any eq 99999 any\n", VPN_ERR_MALFORMED, 2,
                 "out of range");
    tu_conf_expect_error("ip access-list extended A\n permit ip any any junk\n", VPN_ERR_MALFORMED, 2, "unexpected 'junk'");
    tu_conf_expect_error("access-list 100 allow ip any any\n", VPN_ERR_MALFORMED, 1, "permit or deny");
    tu_conf_expect_error("crypto ikev2 keyring K\n peer P\n  pre-shared-key 6 ABCD\n", VPN_ERR_MALFORMED, 3, "type 6");
    tu_conf_expect_error("crypto ikev2 keyring K\n peer P\n  pre-shared-key k\n", VPN_ERR_POLICY, 2,
                 "neither address nor identity");
    tu_conf_expect_error("crypto ikev2 window 4294967296\n", VPN_ERR_MALFORMED, 1, "out of range 1-200");
    tu_conf_expect_error("crypto ikev2 window 99999999999999999999999\n", VPN_ERR_MALFORMED, 1, "not a number");
    tu_conf_expect_error("crypto ikev2 retransmit\n", VPN_ERR_MALFORMED, 1, "usage: crypto ikev2 retransmit");
    tu_conf_expect_error("crypto ikev2 retransmit count\n", VPN_ERR_MALFORMED, 1, "usage: crypto ikev2 retransmit");
    tu_conf_expect_error("hostname R\ncrypto ikev2 retransmit count 0\n", VPN_ERR_MALFORMED, 2, "out of range 1-20");
    tu_conf_expect_error("crypto ikev2 retransmit timeout 50\n", VPN_ERR_MALFORMED, 1, "out of range 100-10000");
    tu_conf_expect_error("crypto ikev2 retransmit count 3 tries 4\n", VPN_ERR_MALFORMED, 1, "unexpected 'tries'");
    tu_conf_expect_error("crypto ikev2 retransmit timeout 5000 max-timeout 2\n", VPN_ERR_MALFORMED, 1,
                         "max-timeout is shorter than timeout");
}

/* crypto ikev2 retransmit: each keyword alone or together, later lines
 * change only what they name; no line leaves the defaults (0). */
static void test_ikev2_retransmit(void **state)
{
    vpn_conf *c;
    (void)state;

    c = tu_conf_parse_ok("hostname R\n");
    assert_int_equal(c->ikev2_retx_count, 0);
    assert_int_equal(c->ikev2_retx_timeout_ms, 0);
    assert_int_equal(c->ikev2_retx_max_s, 0);
    vpn_conf_del(c);
    c = tu_conf_parse_ok("crypto ikev2 retransmit count 8 timeout 500 max-timeout 4\n"
                         "crypto ikev2 retransmit count 9\n");
    assert_int_equal(c->ikev2_retx_count, 9);
    assert_int_equal(c->ikev2_retx_timeout_ms, 500);
    assert_int_equal(c->ikev2_retx_max_s, 4);
    vpn_conf_del(c);
}

/* crypto isakmp policy / key (IKEv1 phase 1): defaults, priority order,
 * key matching by longest prefix, and what is refused. */
static void test_isakmp(void **state)
{
    static const char text[] = "crypto isakmp policy 20\n"
                               " encryption aes 256\n"
                               " hash sha256\n"
                               " authentication pre-share\n"
                               " group 19\n"
                               " lifetime 3600\n"
                               "crypto isakmp policy 10\n"
                               "crypto isakmp key wide address 0.0.0.0 0.0.0.0\n"
                               "crypto isakmp key 0 narrow address 192.0.2.0 255.255.255.0 no-xauth\n"
                               "crypto isakmp identity address\n";
    vpn_conf *c = tu_conf_parse_ok(text);
    vpn_addr a;
    (void)state;

    assert_int_equal(c->n_isakmp_policy, 2);
    /* sorted by priority; policy 10 has the (secure) defaults */
    assert_int_equal(c->isakmp_policy[0].priority, 10);
    assert_int_equal(c->isakmp_policy[0].encr_bits, 128);
    assert_int_equal(c->isakmp_policy[0].hash, 2);
    assert_int_equal(c->isakmp_policy[0].auth, 3);
    assert_int_equal(c->isakmp_policy[0].group, 14);
    assert_int_equal(c->isakmp_policy[0].lifetime_s, 86400);
    assert_int_equal(c->isakmp_policy[1].priority, 20);
    assert_int_equal(c->isakmp_policy[1].encr_bits, 256);
    assert_int_equal(c->isakmp_policy[1].hash, 4);
    assert_int_equal(c->isakmp_policy[1].auth, 1);
    assert_int_equal(c->isakmp_policy[1].group, 19);
    assert_int_equal(c->isakmp_policy[1].lifetime_s, 3600);
    vpn_addr_parse(&a, "192.0.2.7");
    assert_string_equal(vpn_conf_isakmp_key_match(c, &a)->key, "narrow");
    vpn_addr_parse(&a, "198.51.100.7");
    assert_string_equal(vpn_conf_isakmp_key_match(c, &a)->key, "wide");
    vpn_conf_del(c);

    tu_conf_expect_error("crypto isakmp policy 10\n encryption des\n", VPN_ERR_MALFORMED, 2, "not supported");
    tu_conf_expect_error("crypto isakmp policy 10\n encryption aes 512\n", VPN_ERR_MALFORMED, 2, "out of range");
    tu_conf_expect_error("crypto isakmp policy 10\n hash md5\n", VPN_ERR_MALFORMED, 2, "not supported");
    tu_conf_expect_error("crypto isakmp policy 10\n group 1\n", VPN_ERR_MALFORMED, 2, "not supported");
    tu_conf_expect_error("crypto isakmp policy 10\n authentication rsa-encr\n", VPN_ERR_MALFORMED, 2, "not supported");
    tu_conf_expect_error("crypto isakmp policy 10\n lifetime 10\n", VPN_ERR_MALFORMED, 2, "out of range");
    tu_conf_expect_error("crypto isakmp policy 0\n", VPN_ERR_MALFORMED, 1, "out of range");
    tu_conf_expect_error("crypto isakmp key secret\n", VPN_ERR_MALFORMED, 1, "usage");
    tu_conf_expect_error("crypto isakmp key secret address 10.0.0.300\n", VPN_ERR_MALFORMED, 1, "not an IP address");
    tu_conf_expect_error("crypto isakmp key 6 xyz address 10.0.0.1\n", VPN_ERR_MALFORMED, 1, "type 6");
    tu_conf_expect_error("crypto isakmp keepalive 10\n", VPN_ERR_MALFORMED, 1, "crypto isakmp");
}

static void test_hostile_text(void **state)
{
    (void)state;
    char *big = malloc(5000);
    memset(big, 'a', 4999);
    big[4999] = 0;
    tu_conf_expect_error(big, VPN_ERR_MALFORMED, 1, "line longer");
    free(big);

    char nul[] = "hostname A\nhost\0name B\n";
    vpn_conf *c = NULL;
    vpn_conf_error err;
    assert_int_equal(vpn_conf_parse(nul, sizeof nul - 1, &c, &err), VPN_ERR_MALFORMED);
    assert_int_equal(err.line, 2);
    assert_null(c);

    char many[400] = "hostname";
    for (int i = 0; i < 40; i++)
        strcat(many, " x");
    tu_conf_expect_error(many, VPN_ERR_MALFORMED, 1, "too many words");

    char longname[200] = "crypto ikev2 proposal ";
    for (int i = 0; i < 70; i++)
        strcat(longname, "n");
    tu_conf_expect_error(longname, VPN_ERR_MALFORMED, 1, "too long");

    /* Random bytes and random words: any result, never a crash (ASan run). */
    static const char *words[] = {"crypto", "ikev2", "ipsec", "profile", "proposal", "peer", "address",
                                  "1.2.3.4", "255.255.0.0", "match", "identity", "remote", "any",
                                  "interface", "Tunnel0", "tunnel", "source", "destination", "set",
                                  "transform-set", "esp-gcm", "256", "\n", "\n ", "exit", "ip", "route",
                                  "permit", "deny", "udp", "eq", "range", "host", "keyring", "pre-shared-key",
                                  "dpd", "group", "encryption", "aes-gcm-256", "::1", "/", "!", "0"};
    uint32_t x = 12345;
    char text[600];
    for (int round = 0; round < 3000; round++) {
        size_t n = 0;
        text[0] = 0;
        for (int w = 0; w < 40; w++) {
            x = x * 1103515245u + 12345u;
            const char *word = words[(x >> 8) % (sizeof words / sizeof words[0])];
            if (n + strlen(word) + 2 >= sizeof text)
                break;
            n += (size_t)snprintf(text + n, sizeof text - n, "%s ", word);
        }
        if (round % 2) /* and raw bytes */
            for (size_t i = 0; i < n; i += 7)
                text[i] = (char)(x >> (i % 24));
        c = NULL;
        int rc = vpn_conf_parse(text, n, &c, &err);
        assert_true(rc == 0 || rc < 0);
        if (rc == 0)
            assert_non_null(c);
        else
            assert_null(c);
        vpn_conf_del(c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hub1_objects),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_modes_pop_like_ios),
        cmocka_unit_test(test_keyring_and_identity_matching),
        cmocka_unit_test(test_router_rip),
        cmocka_unit_test(test_rip_interface),
        cmocka_unit_test(test_errors_name_the_line),
        cmocka_unit_test(test_pki_trustpoint),
        cmocka_unit_test(test_hostile_text),
        cmocka_unit_test(test_isakmp),
        cmocka_unit_test(test_ikev2_retransmit),
    };
    return cmocka_run_group_tests_name("conf-parse", tests, NULL, NULL);
}
