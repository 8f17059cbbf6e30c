/*
 * GET VPN lines of the IOS configuration subset (conf.h): a key server's
 * and a group member's configuration as the GET VPN notes lay them out,
 * the defaults IOS gives, modes left as IOS leaves them, and every error
 * naming its line with nothing configured.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "conf/conf.h"
#include "crypto/crypto-ids.h"
#include "conf-expect.h"
#include "test-util.h"

/* The key server of the GET VPN notes (getvpn-gdoi-notes.md), over the
 * third seed article's MPLS core: KS1 with a cooperating KS2. */
static const char ks1[] =
    "hostname KS1\n"
    "crypto isakmp policy 10\n"
    " encryption aes 256\n"
    " hash sha256\n"
    " authentication pre-share\n"
    " group 14\n"
    "crypto isakmp key gdoi-psk address 0.0.0.0 0.0.0.0\n"
    "crypto key generate rsa general-keys label GETVPN-KEY modulus 2048\n"
    "crypto ipsec transform-set GETVPN-TS esp-aes 256 esp-sha256-hmac\n"
    "crypto ipsec profile GETVPN-PROF\n"
    " set transform-set GETVPN-TS\n"
    " set security-association lifetime seconds 1800\n"
    "ip access-list extended GETVPN-POLICY\n"
    " deny udp any eq 848 any eq 848\n"
    " permit ip 10.0.0.0 0.255.255.255 10.0.0.0 0.255.255.255\n"
    "ip access-list extended GETVPN-REKEY\n"
    " permit udp host 192.0.2.1 eq 848 host 239.192.1.1 eq 848\n"
    "access-list 10 permit 198.51.100.0 0.0.0.255\n"
    "access-list 10 deny any\n"
    "crypto gdoi group GETVPN\n"
    " identity number 1234\n"
    " server local\n"
    "  rekey algorithm aes 256\n"
    "  rekey sig-hash algorithm sha256\n"
    "  rekey lifetime seconds 7200\n"
    "  rekey retransmit 20 number 3\n"
    "  rekey authentication mypubkey rsa GETVPN-KEY\n"
    "  rekey address ipv4 GETVPN-REKEY\n"
    "  authorization address ipv4 10\n"
    "  limit members 5000\n"
    "  sa ipsec 1\n"
    "   profile GETVPN-PROF\n"
    "   match address ipv4 GETVPN-POLICY\n"
    "   replay time window-size 5\n"
    "  address ipv4 192.0.2.1\n"
    "  redundancy\n"
    "   local priority 100\n"
    "   peer address ipv4 192.0.2.2\n"
    "interface GigabitEthernet0/0\n"
    " ip address 192.0.2.1 255.255.255.0\n"
    "end\n";

/* A group member with two key servers (COOP), crypto map on its WAN. */
static const char gm1[] =
    "hostname GM1\n"
    "crypto isakmp policy 10\n"
    " encryption aes 256\n"
    " hash sha256\n"
    " authentication pre-share\n"
    " group 14\n"
    "crypto isakmp key gdoi-psk address 192.0.2.1\n"
    "crypto isakmp key gdoi-psk address 192.0.2.2\n"
    "crypto gdoi group GETVPN\n"
    " identity number 1234\n"
    " server address ipv4 192.0.2.2\n"
    " server address ipv4 192.0.2.1\n"
    " client registration interface Loopback0\n"
    "crypto map GETVPN-MAP 10 gdoi\n"
    " set group GETVPN\n"
    "interface Loopback0\n"
    " ip address 198.51.100.11 255.255.255.255\n"
    "interface GigabitEthernet0/1\n"
    " ip address 203.0.113.11 255.255.255.0\n"
    " crypto map GETVPN-MAP\n"
    "end\n";

static void assert_addr(const vpn_addr *a, const char *want)
{
    char buf[VPN_ADDR_STRLEN];
    assert_string_equal(vpn_addr_str(a, buf, sizeof buf), want);
}

static void test_key_server(void **state)
{
    (void)state;
    vpn_conf *c = tu_conf_parse_ok(ks1);
    const vpn_conf_gdoi_group *g = vpn_conf_find_gdoi_group(c, "GETVPN");

    assert_non_null(g);
    assert_int_equal(c->n_gdoi_group, 1);
    assert_true(g->has_identity);
    assert_int_equal(g->identity, 1234);
    assert_int_equal(g->line, 20);
    assert_true(g->server_local);
    assert_int_equal(g->server_local_line, 22);
    assert_int_equal(g->n_server, 0);
    assert_int_equal(g->rekey_aes_bits, 256);
    assert_int_equal(g->rekey_lifetime_s, 7200);
    assert_int_equal(g->rekey_sig_hash, 256);
    assert_int_equal(g->rekey_sig_hash_line, 24);
    assert_int_equal(g->retrans_s, 20);
    assert_int_equal(g->retrans_n, 3);
    assert_string_equal(g->rekey_key, "GETVPN-KEY");
    assert_string_equal(g->rekey_acl, "GETVPN-REKEY");
    assert_false(g->rekey_unicast);
    assert_string_equal(g->auth_acl, "10");
    assert_int_equal(g->max_members, 5000);
    assert_true(g->has_sa);
    assert_int_equal(g->sa_num, 1);
    assert_string_equal(g->sa_profile, "GETVPN-PROF");
    assert_string_equal(g->sa_acl, "GETVPN-POLICY");
    assert_int_equal(g->replay, VPN_CONF_GDOI_REPLAY_TIME);
    assert_int_equal(g->replay_window, 5);
    assert_true(g->has_ks_address);
    assert_addr(&g->ks_address, "192.0.2.1");
    assert_true(g->redundancy);
    assert_int_equal(g->coop_priority, 100);
    assert_int_equal(g->n_coop_peer, 1);
    assert_addr(&g->coop_peer[0], "192.0.2.2");

    const vpn_conf_rsa_key *k = vpn_conf_find_rsa_key(c, "GETVPN-KEY");
    assert_non_null(k);
    assert_int_equal(k->modulus, 2048);
    assert_int_equal(k->line, 8);

    /* the numbered standard ACL: sources only, in order */
    const vpn_conf_acl *a = vpn_conf_find_acl(c, "10");
    assert_non_null(a);
    assert_true(a->standard);
    assert_int_equal(a->n_ace, 2);
    assert_true(a->ace[0].permit);
    assert_addr(&a->ace[0].src.addr, "198.51.100.0");
    assert_int_equal(a->ace[0].src.len, 24);
    assert_false(a->ace[1].permit);
    assert_int_equal(a->ace[1].src.len, 0);

    const vpn_conf_ipsec_profile *ip = vpn_conf_find_ipsec_profile(c, "GETVPN-PROF");
    assert_non_null(ip);
    assert_int_equal(ip->lifetime_s, 1800);
    vpn_conf_del(c);
}

static void test_group_member(void **state)
{
    (void)state;
    vpn_conf *c = tu_conf_parse_ok(gm1);
    const vpn_conf_gdoi_group *g = vpn_conf_find_gdoi_group(c, "GETVPN");
    const vpn_conf_interface *f = vpn_conf_find_interface(c, "GigabitEthernet0/1");
    const vpn_conf_crypto_map *m = vpn_conf_find_crypto_map(c, "GETVPN-MAP");

    assert_non_null(g);
    assert_false(g->server_local);
    assert_int_equal(g->identity, 1234);
    /* order kept: IOS tries the servers as listed */
    assert_int_equal(g->n_server, 2);
    assert_addr(&g->server[0], "192.0.2.2");
    assert_addr(&g->server[1], "192.0.2.1");
    assert_int_equal(g->server_line, 11);
    assert_string_equal(g->reg_iface, "Loopback0");
    assert_non_null(m);
    assert_int_equal(m->seq, 10);
    assert_string_equal(m->group, "GETVPN");
    assert_non_null(f);
    assert_string_equal(f->crypto_map, "GETVPN-MAP");
    assert_int_equal(f->crypto_map_line, 20);
    assert_null(vpn_conf_find_crypto_map(c, "NOPE"));
    vpn_conf_del(c);
}

/* IOS defaults: KEK 86400 s, retransmit 10 s x 2, COOP priority 1, our
 * member limit 8000, no replay line; the default ipsec profile 3600 s. */
static void test_defaults(void **state)
{
    (void)state;
    vpn_conf *c = tu_conf_parse_ok("crypto gdoi group G\n"
                           " identity number 7\n"
                           " server local\n"
                           "  sa ipsec 1\n"
                           "   profile default\n"
                           "  redundancy\n");
    const vpn_conf_gdoi_group *g = vpn_conf_find_gdoi_group(c, "G");

    assert_non_null(g);
    assert_int_equal(g->rekey_aes_bits, 256);
    assert_int_equal(g->rekey_sig_hash, 256);
    assert_int_equal(g->rekey_lifetime_s, 86400);
    assert_int_equal(g->retrans_s, 10);
    assert_int_equal(g->retrans_n, 2);
    assert_int_equal(g->max_members, VPN_CONF_GDOI_MAX_MEMBERS);
    assert_int_equal(g->max_members, 8000);
    assert_int_equal(g->coop_priority, 1);
    assert_int_equal(g->replay, VPN_CONF_GDOI_REPLAY_DEFAULT);
    assert_false(g->rekey_unicast);
    assert_false(g->has_ks_address);
    assert_false(g->receive_only);
    assert_int_equal(vpn_conf_find_ipsec_profile(c, "default")->lifetime_s, 3600);
    vpn_conf_del(c);
}

/* A command of a parent mode leaves the child mode, as IOS does; the
 * entries of one crypto map are kept in sequence order. */
static void test_modes(void **state)
{
    (void)state;
    vpn_conf *c = tu_conf_parse_ok("ip access-list standard MEMBERS\n"
                           " permit host 198.51.100.11\n"
                           " permit 198.51.100.12\n"
                           "crypto gdoi group G\n"
                           "identity number 7\n"
                           "server local\n"
                           "sa ipsec 1\n"
                           "replay counter window-size 128\n"
                           "address ipv4 192.0.2.1\n"   /* server local */
                           "redundancy\n"
                           "local priority 5\n"
                           "rekey transport unicast\n"  /* server local */
                           "sa receive-only\n"
                           "authorization address ipv4 MEMBERS\n"
                           "crypto gdoi group H\n"      /* global */
                           "identity number 8\n"
                           "server address ipv4 192.0.2.1\n"
                           "crypto map M 20 gdoi\n"
                           "set group H\n"
                           "crypto map M 10 gdoi\n"
                           "set group G\n"
                           "interface Gi0/0\n"
                           "crypto map M\n"
                           "no shutdown\n");
    const vpn_conf_gdoi_group *g = vpn_conf_find_gdoi_group(c, "G");
    const vpn_conf_gdoi_group *h = vpn_conf_find_gdoi_group(c, "H");
    const vpn_conf_acl *a = vpn_conf_find_acl(c, "MEMBERS");

    assert_non_null(g);
    assert_non_null(h);
    assert_int_equal(g->replay, VPN_CONF_GDOI_REPLAY_COUNTER);
    assert_int_equal(g->replay_window, 128);
    assert_int_equal(g->replay_line, 8);
    assert_addr(&g->ks_address, "192.0.2.1");
    assert_int_equal(g->coop_priority, 5);
    assert_true(g->rekey_unicast);
    assert_true(g->receive_only);
    assert_string_equal(g->auth_acl, "MEMBERS");
    assert_int_equal(h->n_server, 1);
    assert_int_equal(c->n_crypto_map, 2);
    assert_int_equal(vpn_conf_find_crypto_map(c, "M")->seq, 10);
    assert_string_equal(vpn_conf_find_crypto_map(c, "M")->group, "G");
    assert_non_null(a);
    assert_true(a->standard);
    assert_int_equal(a->n_ace, 2);
    assert_int_equal(a->ace[0].src.len, 32);
    assert_int_equal(a->ace[1].src.len, 32); /* "permit A" is a host */
    assert_addr(&a->ace[1].src.addr, "198.51.100.12");

    /* a key generated twice is replaced */
    vpn_conf_del(c);
    c = tu_conf_parse_ok("crypto key generate rsa label K\n"
                 "crypto key generate rsa label K modulus 4096 exportable\n");
    assert_int_equal(c->n_rsa_key, 1);
    assert_int_equal(vpn_conf_find_rsa_key(c, "K")->modulus, 4096);
    vpn_conf_del(c);
}

#define G "crypto gdoi group G\n identity number 1\n"
#define KS G " server local\n"

static void test_errors_name_the_line(void **state)
{
    (void)state;
    /* group mode */
    tu_conf_expect_error("crypto gdoi group G\n identity number 0\n", VPN_ERR_MALFORMED, 2, "out of range");
    tu_conf_expect_error("crypto gdoi group G\n identity address ipv4 192.0.2.1\n", VPN_ERR_MALFORMED, 2,
                 "only 'identity number N'");
    tu_conf_expect_error("crypto gdoi group G\n identity number 1 2\n", VPN_ERR_MALFORMED, 2, "usage");
    tu_conf_expect_error("crypto gdoi group G\n server local\n", VPN_ERR_POLICY, 1, "no 'identity number'");
    tu_conf_expect_error("crypto gdoi group ipv6 G\n", VPN_ERR_MALFORMED, 1, "IPv6");
    tu_conf_expect_error("crypto gdoi G\n", VPN_ERR_MALFORMED, 1, "only 'crypto gdoi group NAME'");
    tu_conf_expect_error(G " rekey lifetime seconds 600\n", VPN_ERR_MALFORMED, 3, "'rekey' is not a command of gdoi group");
    tu_conf_expect_error(G " server address ipv4 192.0.2.300\n", VPN_ERR_MALFORMED, 3, "not an IP address");
    tu_conf_expect_error(G " server address ipv6 2001:db8::1\n", VPN_ERR_MALFORMED, 3, "only 'ipv4'");
    tu_conf_expect_error(G " server address ipv4 2001:db8::1\n", VPN_ERR_MALFORMED, 3, "not an IPv4 address");
    tu_conf_expect_error(G " server address ipv4 192.0.2.1\n server address ipv4 192.0.2.1\n", VPN_ERR_MALFORMED, 4,
                 "already listed");
    tu_conf_expect_error(G " client registration interface Lo9\n", VPN_ERR_NOTFOUND, 3, "Lo9 is not configured");
    tu_conf_expect_error(G " server address ipv4 192.0.2.1\n server local\n", VPN_ERR_POLICY, 3,
                 "cannot both be configured");
    tu_conf_expect_error("crypto gdoi group G\n identity number 1\ncrypto gdoi group H\n identity number 1\n",
                 VPN_ERR_POLICY, 3, "identity number 1 is already group G's");
    /* server local */
    tu_conf_expect_error(KS "  rekey algorithm 3des-cbc\n", VPN_ERR_MALFORMED, 4, "'3des-cbc' is not supported");
    tu_conf_expect_error(KS "  rekey algorithm aes 512\n", VPN_ERR_MALFORMED, 4, "out of range");
    tu_conf_expect_error(KS "  rekey algorithm aes 200\n", VPN_ERR_MALFORMED, 4, "must be 128, 192 or 256");
    tu_conf_expect_error(KS "  rekey lifetime seconds 10\n", VPN_ERR_MALFORMED, 4, "out of range 300-86400");
    tu_conf_expect_error(KS "  rekey lifetime 600\n", VPN_ERR_MALFORMED, 4, "usage: rekey lifetime seconds N");
    tu_conf_expect_error(KS "  rekey retransmit 5 number 2\n", VPN_ERR_MALFORMED, 4, "out of range 10-60");
    tu_conf_expect_error(KS "  rekey retransmit 10 number 11\n", VPN_ERR_MALFORMED, 4, "out of range 1-10");
    tu_conf_expect_error(KS "  rekey retransmit 10 periodic\n", VPN_ERR_MALFORMED, 4, "usage: rekey retransmit");
    tu_conf_expect_error(KS "  rekey authentication mypubkey ec K\n", VPN_ERR_MALFORMED, 4, "usage: rekey authentication");
    tu_conf_expect_error(KS "  rekey address ipv4 NOACL\n", VPN_ERR_NOTFOUND, 4, "rekey address ACL NOACL is not defined");
    tu_conf_expect_error(KS "  rekey transport broadcast\n", VPN_ERR_MALFORMED, 4, "usage: rekey transport");
    tu_conf_expect_error(KS "  rekey sig-hash sha256\n", VPN_ERR_MALFORMED, 4, "usage: rekey sig-hash algorithm");
    tu_conf_expect_error(KS "  rekey sig-hash algorithm md5\n", VPN_ERR_MALFORMED, 4, "usage: rekey sig-hash algorithm");
    tu_conf_expect_error(KS "  rekey encryption aes\n", VPN_ERR_MALFORMED, 4, "unknown or unsupported 'rekey'");
    tu_conf_expect_error(KS "  authorization address ipv4 NOACL\n", VPN_ERR_NOTFOUND, 4,
                 "authorization ACL NOACL is not defined");
    tu_conf_expect_error(KS "  authorization identity IDS\n", VPN_ERR_MALFORMED, 4, "only 'authorization address ipv4 ACL'");
    tu_conf_expect_error(KS "  limit members 8001\n", VPN_ERR_MALFORMED, 4, "out of range 1-8000");
    tu_conf_expect_error(KS "  limit members 0\n", VPN_ERR_MALFORMED, 4, "out of range 1-8000");
    tu_conf_expect_error(KS "  address ipv4 192.0.2\n", VPN_ERR_MALFORMED, 4, "not an IP address");
    tu_conf_expect_error(KS "  address ipv6 2001:db8::1\n", VPN_ERR_MALFORMED, 4, "only 'ipv4'");
    tu_conf_expect_error(KS "  sa ipsec 1\n  sa ipsec 2\n", VPN_ERR_MALFORMED, 5, "only one 'sa ipsec'");
    tu_conf_expect_error(KS "  sa ipsec 0\n", VPN_ERR_MALFORMED, 4, "out of range");
    /* sa ipsec */
    tu_conf_expect_error(KS "  sa ipsec 1\n   profile NOPROF\n", VPN_ERR_NOTFOUND, 5, "profile NOPROF is not defined");
    tu_conf_expect_error(KS "  sa ipsec 1\n   match address ipv4 NOACL\n", VPN_ERR_NOTFOUND, 5,
                 "match address ACL NOACL is not defined");
    tu_conf_expect_error(KS "  sa ipsec 1\n   replay time window-size 101\n", VPN_ERR_MALFORMED, 5, "out of range 1-100");
    tu_conf_expect_error(KS "  sa ipsec 1\n   replay counter window-size 100\n", VPN_ERR_MALFORMED, 5,
                 "must be 64, 128, 256, 512 or 1024");
    tu_conf_expect_error(KS "  sa ipsec 1\n   replay counter\n", VPN_ERR_MALFORMED, 5, "usage: replay");
    /* redundancy */
    tu_conf_expect_error(KS "  redundancy\n   local priority 256\n", VPN_ERR_MALFORMED, 5, "out of range 1-255");
    tu_conf_expect_error(KS "  redundancy\n   peer address ipv4 192.0.2.2\n   peer address ipv4 192.0.2.2\n",
                 VPN_ERR_MALFORMED, 6, "already listed");
    tu_conf_expect_error(KS "  peer address ipv4 192.0.2.2\n", VPN_ERR_MALFORMED, 4,
                 "'peer' is not a command of gdoi server local");
    /* crypto map and interface */
    tu_conf_expect_error("crypto map M 10 ipsec-isakmp\n", VPN_ERR_MALFORMED, 1, "only 'crypto map NAME N gdoi'");
    tu_conf_expect_error("crypto map M gdoi\n", VPN_ERR_MALFORMED, 1, "usage: crypto map NAME N gdoi");
    tu_conf_expect_error("crypto map M 10 gdoi\n", VPN_ERR_POLICY, 1, "has no 'set group'");
    tu_conf_expect_error("crypto map M 10 gdoi\n description x\n set group NOPE\n", VPN_ERR_NOTFOUND, 3,
                 "gdoi group NOPE is not defined");
    tu_conf_expect_error(G "crypto map M 10 gdoi\n set group G extra\n", VPN_ERR_MALFORMED, 4, "usage: set group");
    tu_conf_expect_error("interface Gi0/0\n ip address 192.0.2.1 255.255.255.0\n crypto map NOPE\n", VPN_ERR_NOTFOUND, 3,
                 "crypto map NOPE is not defined");
    /* keys and ACLs */
    tu_conf_expect_error("crypto key generate rsa modulus 2048\n", VPN_ERR_MALFORMED, 1, "needs 'label NAME'");
    tu_conf_expect_error("crypto key generate rsa label K modulus 1024\n", VPN_ERR_MALFORMED, 1, "out of range 2048-4096");
    tu_conf_expect_error("crypto key generate ec keysize 256 label K\n", VPN_ERR_MALFORMED, 1, "only 'crypto key generate rsa'");
    tu_conf_expect_error("crypto key generate rsa label K usage-keys\n", VPN_ERR_MALFORMED, 1, "unexpected 'usage-keys'");
    tu_conf_expect_error("access-list 10 permit 10.0.0.0 0.0.255.0\n", VPN_ERR_MALFORMED, 1, "not a contiguous wildcard");
    tu_conf_expect_error("access-list 10 permit udp any any\n", VPN_ERR_MALFORMED, 1, "not an IP address");
    tu_conf_expect_error("access-list 10 allow any\n", VPN_ERR_MALFORMED, 1, "must start with permit or deny");
    tu_conf_expect_error("access-list 200 permit ip any any\n", VPN_ERR_MALFORMED, 1, "out of range 1-199");
    tu_conf_expect_error("ip access-list standard S\n permit any any\n", VPN_ERR_MALFORMED, 2, "unexpected 'any'");
    tu_conf_expect_error("ip access-list standard S\n permit any\nip access-list extended S\n", VPN_ERR_MALFORMED, 3,
                 "is a standard access-list");
    tu_conf_expect_error("ip access-list extended S\n permit ip any any\nip access-list standard S\n", VPN_ERR_MALFORMED,
                 3, "is an extended access-list");
}

/*
 * The seed's departments: one router a member of two groups (two crypto
 * map entries, each `set group` to its own group, each group with its own
 * key servers), the second entry with a member-local ACL of deny lines.
 */
static const char gm_two[] =
    "hostname GM2\n"                                              /* 1 */
    "crypto isakmp policy 10\n"
    " authentication pre-share\n"
    "crypto isakmp key k-eng address 192.0.2.1\n"
    "crypto isakmp key k-fin address 192.0.2.9\n"                 /* 5 */
    "crypto gdoi group ENG\n"
    " identity number 1111\n"
    " server address ipv4 192.0.2.1\n"
    "crypto gdoi group FIN\n"
    " identity number 2222\n"                                     /* 10 */
    " server address ipv4 192.0.2.9\n"
    "ip access-list extended FIN-LOCAL\n"
    " deny udp 10.2.0.0 0.0.255.255 any eq 514\n"
    " deny ip host 10.2.0.9 any\n"
    "crypto map DEPTS 20 gdoi\n"                                   /* 15 */
    " set group FIN\n"
    " match address FIN-LOCAL\n"
    "crypto map DEPTS 10 gdoi\n"
    " set group ENG\n"
    "interface Gi0/1\n"                                           /* 20 */
    " ip address 203.0.113.12 255.255.255.0\n"
    " crypto map DEPTS\n"
    "end\n";

static void test_member_of_two_groups(void **state)
{
    (void)state;
    vpn_conf *c = tu_conf_parse_ok(gm_two);
    const vpn_conf_crypto_map *m = vpn_conf_find_crypto_map(c, "DEPTS");

    /* both entries, in entry order whatever the text's order */
    assert_int_equal(c->n_crypto_map, 2);
    assert_ptr_equal(m, &c->crypto_map[0]);
    assert_int_equal(c->crypto_map[0].seq, 10);
    assert_string_equal(c->crypto_map[0].group, "ENG");
    assert_string_equal(c->crypto_map[0].acl, "");
    assert_int_equal(c->crypto_map[1].seq, 20);
    assert_string_equal(c->crypto_map[1].group, "FIN");
    assert_string_equal(c->crypto_map[1].acl, "FIN-LOCAL");
    assert_int_equal(c->crypto_map[1].acl_line, 17);
    assert_int_equal(vpn_conf_find_gdoi_group(c, "ENG")->identity, 1111);
    assert_int_equal(vpn_conf_find_gdoi_group(c, "FIN")->identity, 2222);
    vpn_conf_del(c);
}

/* IOS: a member's `match address` ACL takes deny entries only; a permit
 * is refused with its own line, an unknown ACL with the referring one. */
static void test_member_local_acl_errors(void **state)
{
    (void)state;
    tu_conf_expect_error(G " server address ipv4 192.0.2.1\n"
                         "ip access-list extended L\n"
                         " deny ip host 10.0.0.1 any\n"
                         " permit ip any any\n"
                         "crypto map M 10 gdoi\n set group G\n match address L\n",
                         VPN_ERR_POLICY, 6, "deny entries only");
    tu_conf_expect_error(G " server address ipv4 192.0.2.1\n"
                         "access-list 5 permit 10.0.0.0 0.0.0.255\n"
                         "crypto map M 10 gdoi\n set group G\n match address 5\n",
                         VPN_ERR_POLICY, 4, "deny entries only");
    tu_conf_expect_error(G " server address ipv4 192.0.2.1\n"
                         "crypto map M 10 gdoi\n set group G\n match address NOPE\n",
                         VPN_ERR_NOTFOUND, 6, "match address ACL NOPE is not defined");
    tu_conf_expect_error(G " server address ipv4 192.0.2.1\n"
                         "crypto map M 10 gdoi\n set group G\n match address\n",
                         VPN_ERR_MALFORMED, 6, "usage: match address ACL");
    tu_conf_expect_error(G " server address ipv4 192.0.2.1\n"
                         "crypto map M 10 gdoi\n set group G\n"
                         "crypto map M 20 gdoi\n set group G\n",
                         VPN_ERR_POLICY, 7, "group G is already entry 10's");
}

/* Every truncation of the key server's text either parses or names a line
 * inside it, and never leaves a configuration behind. */
static void test_truncations(void **state)
{
    (void)state;
    size_t n = strlen(ks1);

    for (size_t cut = 0; cut <= n; cut += 3) {
        vpn_conf *c = NULL;
        vpn_conf_error err;
        int rc = vpn_conf_parse(ks1, cut, &c, &err);
        if (rc == 0) {
            assert_non_null(c);
            vpn_conf_del(c);
            continue;
        }
        assert_null(c);
        assert_true(err.line >= 0 && err.line <= 60);
        assert_true(err.msg[0] != 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_server),
        cmocka_unit_test(test_group_member),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_modes),
        cmocka_unit_test(test_errors_name_the_line),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_member_of_two_groups),
        cmocka_unit_test(test_member_local_acl_errors),
    };
    return cmocka_run_group_tests_name("conf-gdoi", tests, NULL, NULL);
}
