/*
 * GET VPN from IOS text only (gdoi/gdoi-conf.h): a key server and three
 * group members are built from their router configurations and run
 * through the in-memory network of test/core/support/gdoi-net.c:
 * registration, traffic between members, unicast and multicast rekeys;
 * `authorization address ipv4` refusing a member (no keys, its traffic
 * not accepted, the refusal counted and shown); `limit members` refusing
 * the member beyond it; a member of another group and a garbled
 * registration refused and counted by reason; 8,000 members reachable
 * (the old hidden limit was 4,096) with hash lookups; the key server's
 * deadline heap through hundreds of abandoned phase 1s; two cooperating key
 * servers from text (election, sync, failover); and every translation
 * error naming its line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdoi-net.h"
#include "pkt-build.h"
#include "conf-expect.h"
#include "test-util.h"

#include "common/rng.h"
#include "common/vpn-err.h"
#include "conf/conf.h"
#include "crypto/crypto-ids.h"
#include "gdoi/gdoi-conf.h"
#include "gdoi/gdoi-priv.h"
#include "show/show-gdoi.h"

#define NS 1000000000ull
#define NGM 3
#define QCAP 64
#define DG_MAX 4096

/* Phase 1 and the policy every key server here shares. */
#define KS_COMMON                                                                    \
    "hostname KS1\n"                                                                 \
    "crypto isakmp policy 10\n"                                                      \
    " encryption aes 256\n"                                                          \
    " hash sha256\n"                                                                 \
    " authentication pre-share\n"                                                    \
    " group 14\n"                                                                    \
    "crypto isakmp key gdoi-psk address 0.0.0.0 0.0.0.0\n"                          \
    "crypto key generate rsa general-keys label GETVPN-KEY modulus 2048\n"          \
    "crypto ipsec transform-set TS esp-aes 256 esp-sha256-hmac\n"                    \
    "crypto ipsec profile PROF\n"                                                    \
    " set transform-set TS\n"                                                        \
    " set security-association lifetime seconds 600\n"                              \
    "ip access-list extended POLICY\n"                                               \
    " deny udp any eq 848 any eq 848\n"                                              \
    " permit ip 10.0.0.0 0.255.255.255 10.0.0.0 0.255.255.255\n"                     \
    "ip access-list extended REKEY\n"                                                \
    " permit udp host 192.0.2.1 eq 848 host 239.192.1.1 eq 848\n"                    \
    "ip access-list standard MEMBERS\n"                                              \
    " permit host 198.51.100.11\n"                                                   \
    " permit host 198.51.100.12\n"                                                   \
    "crypto gdoi group GETVPN\n"                                                     \
    " identity number 1234\n"                                                        \
    " server local\n"                                                                \
    "  rekey algorithm aes 256\n"                                                    \
    "  rekey lifetime seconds 3000\n"                                                \
    "  rekey retransmit 10 number 2\n"                                               \
    "  rekey authentication mypubkey rsa GETVPN-KEY\n"                               \
    "  sa ipsec 1\n"                                                                 \
    "   profile PROF\n"                                                              \
    "   match address ipv4 POLICY\n"                                                 \
    "   replay time window-size 5\n"                                                 \
    "  address ipv4 192.0.2.1\n"

/* A member: its address goes in with %u (11, 12, 13). */
static const char gm_fmt[] = "hostname GM%u\n"
                             "crypto isakmp policy 10\n"
                             " encryption aes 256\n"
                             " hash sha256\n"
                             " authentication pre-share\n"
                             " group 14\n"
                             "crypto isakmp key gdoi-psk address 192.0.2.1\n"
                             "crypto gdoi group GETVPN\n"
                             " identity number 1234\n"
                             " server address ipv4 192.0.2.1\n"
                             "crypto map GETVPN-MAP 10 gdoi\n"
                             " set group GETVPN\n"
                             "interface GigabitEthernet0/0\n"
                             " ip address 198.51.100.%u 255.255.255.0\n"
                             " crypto map GETVPN-MAP\n";

typedef struct net {
    vpn_drbg drbg;
    vpn_rng rng;
    vpn_sig_key *rsa;
    vpn_conf *ks_conf, *gm_conf[NGM];
    vpn_gdoi_ks *ks;
    vpn_conf *ks2_conf;
    vpn_gdoi_ks *ks2;       /* a cooperating key server, when there is one */
    vpn_addr ks2_addr;
    bool ks_down;           /* the first key server is cut off */
    unsigned corrupt_pulls; /* GROUPKEY-PULLs to the KS to garble on the way */
    vpn_gdoi_gm *gm[NGM];
    vpn_sad *sad[NGM];
    vpn_spd *spd[NGM];
    vpn_addr ks_addr, gm_addr[NGM], mcast;
    unsigned ngm;
    tu_gdoi_wire w;
    uint64_t now;
} net;

static void on_send(void *user, const vpn_addr *src, const vpn_addr *dst, const uint8_t *dg,
                    size_t len, const uint8_t *view, size_t view_len)
{
    net *n = user;
    tu_gdoi_wire_send(&n->w, src, dst, dg, len, view, view_len);
}

static void deliver(void *user, const tu_gdoi_dgram *d)
{
    net *n = user;

    if (n->ks_down && vpn_addr_eq(&d->src, &n->ks_addr))
        return;
    if (vpn_addr_eq(&d->dst, &n->ks_addr)) {
        if (n->corrupt_pulls && d->len > 40 && d->b[18] == 32) {
            /* the first encrypted block: the HASH payload's header */
            tu_gdoi_dgram bad = *d;
            n->corrupt_pulls--;
            bad.b[28] ^= 0x5a;
            bad.b[30] ^= 0xa5;
            if (!n->ks_down)
                vpn_gdoi_ks_input(n->ks, &bad.src, bad.b, bad.len, n->now);
            return;
        }
        if (!n->ks_down)
            vpn_gdoi_ks_input(n->ks, &d->src, d->b, d->len, n->now);
        return;
    }
    if (n->ks2 && vpn_addr_eq(&d->dst, &n->ks2_addr)) {
        vpn_gdoi_ks_input(n->ks2, &d->src, d->b, d->len, n->now);
        return;
    }
    for (unsigned i = 0; i < n->ngm; i++)
        if (vpn_addr_eq(&d->dst, &n->gm_addr[i]) ||
            (n->mcast.family && vpn_addr_eq(&d->dst, &n->mcast)))
            vpn_gdoi_gm_input_from(n->gm[i], &d->src, d->b, d->len, n->now);
}

static uint64_t deadline(void *user)
{
    net *n = user;
    uint64_t d = n->ks_down ? UINT64_MAX : vpn_gdoi_ks_next_deadline(n->ks);
    if (n->ks2 && vpn_gdoi_ks_next_deadline(n->ks2) < d)
        d = vpn_gdoi_ks_next_deadline(n->ks2);
    for (unsigned i = 0; i < n->ngm; i++) {
        uint64_t x = vpn_gdoi_gm_next_deadline(n->gm[i]);
        if (x < d)
            d = x;
    }
    return d;
}

static void tick(void *user, uint64_t now)
{
    net *n = user;
    if (!n->ks_down)
        vpn_gdoi_ks_timeout(n->ks, now);
    if (n->ks2)
        vpn_gdoi_ks_timeout(n->ks2, now);
    for (unsigned i = 0; i < n->ngm; i++)
        vpn_gdoi_gm_timeout(n->gm[i], now);
}

/*
 * The KS from KS_COMMON plus extra `server local` lines, and ngm members
 * from gm_fmt, each built by the translation layer alone.
 */
static void net_init(net *n, unsigned ngm, const char *ks_extra)
{
    char text[4096];
    vpn_gdoi_conf_ks kc;
    vpn_conf_error err;
    int rc;

    memset(n, 0, sizeof *n);
    tu_gdoi_wire_init(&n->w, QCAP, DG_MAX, &n->now, n);
    n->w.deliver = deliver;
    n->w.deadline = deadline;
    n->w.tick = tick;
    vpn_drbg_init(&n->drbg, "gdoi-conf", 9);
    vpn_rng_init_drbg(&n->rng, &n->drbg);
    n->now = 5 * NS;

    snprintf(text, sizeof text, "%s%s", KS_COMMON, ks_extra ? ks_extra : "");
    n->ks_conf = tu_conf_parse_ok(text);
    /* the driver makes the key pair `crypto key generate rsa` asks for */
    assert_non_null(vpn_conf_find_rsa_key(n->ks_conf, "GETVPN-KEY"));
    assert_int_equal(vpn_conf_find_rsa_key(n->ks_conf, "GETVPN-KEY")->modulus, 2048);
    n->rsa = tu_gdoi_rsa_key();
    rc = vpn_gdoi_ks_cfg_from_conf(n->ks_conf, "GETVPN", n->rsa, &kc, &err);
    if (rc)
        fail_msg("KS from text: %d at line %d: %s", rc, err.line, err.msg);
    n->ks_addr = kc.cfg.local;
    if (kc.cfg.multicast)
        n->mcast = kc.cfg.mcast;
    assert_int_equal(vpn_gdoi_ks_new(&n->ks, &kc.cfg, &n->rng, NULL, on_send, n, n->now), 0);

    n->ngm = ngm;
    for (unsigned i = 0; i < ngm; i++) {
        vpn_gdoi_conf_gm gc;
        snprintf(text, sizeof text, gm_fmt, i + 1, 11 + i);
        n->gm_conf[i] = tu_conf_parse_ok(text);
        assert_int_equal(vpn_sad_new(&n->sad[i], &n->rng), 0);
        assert_int_equal(vpn_spd_new(&n->spd[i], VPN_SPD_BYPASS), 0);
        rc = vpn_gdoi_gm_cfg_from_conf(n->gm_conf[i], NULL, NULL, n->sad[i], n->spd[i], &gc, &err);
        if (rc)
            fail_msg("GM from text: %d at line %d: %s", rc, err.line, err.msg);
        n->gm_addr[i] = gc.cfg.local;
        assert_int_equal(vpn_gdoi_gm_new(&n->gm[i], &gc.cfg, &n->rng, NULL, on_send, n), 0);
    }
}

/* A second key server from KS_COMMON plus extra, sharing the rekey key. */
static void add_ks2(net *n, const char *extra)
{
    char text[4096];
    vpn_gdoi_conf_ks kc;
    vpn_conf_error err;
    int rc;

    snprintf(text, sizeof text, "%s%s", KS_COMMON, extra);
    n->ks2_conf = tu_conf_parse_ok(text);
    rc = vpn_gdoi_ks_cfg_from_conf(n->ks2_conf, NULL, n->rsa, &kc, &err);
    if (rc)
        fail_msg("KS2 from text: %d at line %d: %s", rc, err.line, err.msg);
    n->ks2_addr = kc.cfg.local;
    assert_int_equal(vpn_gdoi_ks_new(&n->ks2, &kc.cfg, &n->rng, NULL, on_send, n, n->now), 0);
}

static void net_free(net *n)
{
    vpn_gdoi_ks_del(n->ks);
    vpn_gdoi_ks_del(n->ks2);
    vpn_conf_del(n->ks2_conf);
    for (unsigned i = 0; i < n->ngm; i++) {
        vpn_gdoi_gm_del(n->gm[i]);
        vpn_spd_del(n->spd[i]);
        vpn_sad_del(n->sad[i]);
        vpn_conf_del(n->gm_conf[i]);
    }
    vpn_conf_del(n->ks_conf);
    vpn_sig_key_del(n->rsa);
    vpn_drbg_free(&n->drbg);
    tu_gdoi_wire_free(&n->w);
}

static void register_all(net *n)
{
    for (unsigned i = 0; i < n->ngm; i++)
        assert_int_equal(vpn_gdoi_gm_start(n->gm[i], n->now), 0);
    tu_gdoi_pump(&n->w);
}

static int send_between(net *n, unsigned a, unsigned b, uint32_t seed)
{
    return tu_gdoi_send_between(n->spd[a], n->sad[b], n->now, 0xb8, seed,
                                vpn_gdoi_gm_tek(n->gm[a]));
}

/* What the text says is what the engines got. */
static void test_params_from_text(void **state)
{
    (void)state;
    vpn_conf *c = tu_conf_parse_ok(KS_COMMON "  rekey address ipv4 REKEY\n"
                                     "  authorization address ipv4 MEMBERS\n"
                                     "  limit members 5000\n"
                                     "  redundancy\n"
                                     "   local priority 100\n"
                                     "   peer address ipv4 192.0.2.2\n"
                                     "   peer address ipv4 192.0.2.3\n");
    vpn_sig_key *rsa = tu_gdoi_rsa_key();
    vpn_gdoi_conf_ks kc;
    vpn_conf_error err;
    char buf[VPN_ADDR_STRLEN];

    assert_int_equal(vpn_gdoi_ks_cfg_from_conf(c, NULL, rsa, &kc, &err), 0);
    assert_string_equal(kc.cfg.name, "GETVPN");
    assert_int_equal(kc.cfg.group_id, 1234);
    assert_string_equal(vpn_addr_str(&kc.cfg.local, buf, sizeof buf), "192.0.2.1");
    assert_int_equal(kc.cfg.tek.sel.family, VPN_AF_INET);
    assert_int_equal(kc.cfg.tek.sel.proto, 0);
    assert_string_equal(vpn_addr_str(&kc.cfg.tek.sel.src.addr, buf, sizeof buf), "10.0.0.0");
    assert_int_equal(kc.cfg.tek.sel.src.len, 8);
    assert_int_equal(kc.cfg.tek.sel.dst.len, 8);
    assert_int_equal(kc.cfg.tek.encr_id, VPN_ENCR_AES_CBC);
    assert_int_equal(kc.cfg.tek.key_bits, 256);
    assert_int_equal(kc.cfg.tek.integ_id, VPN_AUTH_HMAC_SHA2_256_128);
    assert_int_equal(kc.cfg.tek.lifetime_s, 600);
    assert_int_equal(kc.cfg.tek.tbar_window_s, 5);
    assert_int_equal(kc.cfg.kek_lifetime_s, 3000);
    assert_int_equal(kc.cfg.retrans_s, 10);
    assert_int_equal(kc.cfg.retrans_n, 2);
    assert_true(kc.cfg.multicast);
    assert_string_equal(vpn_addr_str(&kc.cfg.mcast, buf, sizeof buf), "239.192.1.1");
    assert_ptr_equal(kc.cfg.rekey_key, rsa);
    assert_int_equal(kc.cfg.max_members, 5000);
    assert_int_equal(kc.cfg.n_auth_rules, 2);
    assert_true(kc.cfg.auth_rules[0].permit);
    assert_int_equal(kc.cfg.auth_rules[0].prefix.len, 32);
    assert_int_equal(kc.cfg.coop.n_peers, 2);
    assert_int_equal(kc.cfg.coop.priority, 100);
    assert_string_equal(vpn_addr_str(&kc.cfg.coop.peers[1].addr, buf, sizeof buf), "192.0.2.3");
    assert_ptr_equal(kc.cfg.coop.peers[0].pub, rsa); /* KSs share the rekey key */
    assert_non_null(kc.cfg.ike.psk);
    assert_int_equal(kc.cfg.ike.psk_len, 8);
    assert_memory_equal(kc.cfg.ike.psk, "gdoi-psk", 8);
    assert_int_equal(kc.cfg.ike.n_suites, 1);
    assert_int_equal(kc.cfg.ike.suites[0].encr_key_bits, 256);
    vpn_conf_del(c);

    /* unicast: rekey transport unicast wins over a rekey address */
    c = tu_conf_parse_ok(KS_COMMON "  rekey address ipv4 REKEY\n  rekey transport unicast\n");
    assert_int_equal(vpn_gdoi_ks_cfg_from_conf(c, "GETVPN", rsa, &kc, &err), 0);
    assert_false(kc.cfg.multicast);
    assert_int_equal(kc.cfg.max_members, VPN_GDOI_KS_MAX_MEMBERS);
    assert_int_equal(kc.cfg.n_auth_rules, 0);
    assert_int_equal(kc.cfg.coop.n_peers, 0);
    vpn_conf_del(c);
    vpn_sig_key_del(rsa);

    /* a member: servers in order, group, address from the interface */
    {
        static const char gm[] = "crypto isakmp policy 5\n"
                                 " authentication pre-share\n"
                                 "crypto isakmp key k1 address 192.0.2.2\n"
                                 "crypto gdoi group G\n"
                                 " identity number 77\n"
                                 " server address ipv4 192.0.2.2\n"
                                 " server address ipv4 192.0.2.1\n"
                                 " client registration interface Loopback0\n"
                                 "crypto map M 20 gdoi\n"
                                 " set group G\n"
                                 "interface Loopback0\n"
                                 " ip address 10.9.9.9 255.255.255.255\n"
                                 "interface Gi0/1\n"
                                 " ip address 203.0.113.11 255.255.255.0\n"
                                 " crypto map M\n";
        vpn_gdoi_conf_gm gc;
        vpn_sad *sad;
        vpn_spd *spd;
        vpn_drbg d;
        vpn_rng r;
        vpn_addr own = tu_addr("198.51.100.99");
        vpn_drbg_init(&d, "gm", 2);
        vpn_rng_init_drbg(&r, &d);
        assert_int_equal(vpn_sad_new(&sad, &r), 0);
        assert_int_equal(vpn_spd_new(&spd, VPN_SPD_BYPASS), 0);
        c = tu_conf_parse_ok(gm);
        assert_int_equal(vpn_gdoi_gm_cfg_from_conf(c, "Gi0/1", NULL, sad, spd, &gc, &err), 0);
        assert_string_equal(gc.cfg.name, "G");
        assert_int_equal(gc.cfg.group_id, 77);
        assert_int_equal(gc.cfg.n_servers, 2);
        assert_string_equal(vpn_addr_str(&gc.cfg.servers[0], buf, sizeof buf), "192.0.2.2");
        assert_string_equal(vpn_addr_str(&gc.cfg.servers[1], buf, sizeof buf), "192.0.2.1");
        /* client registration interface: registers from the loopback */
        assert_string_equal(vpn_addr_str(&gc.cfg.local, buf, sizeof buf), "10.9.9.9");
        assert_string_equal(gc.iface->name, "Gi0/1");
        assert_int_equal(gc.cfg.spd_seq, 20);
        assert_ptr_equal(gc.cfg.sad, sad);
        assert_memory_equal(gc.cfg.ike.psk, "k1", 2);
        assert_int_equal(gc.cfg.ike.n_suites, 1);
        /* an address given by the driver wins */
        assert_int_equal(vpn_gdoi_gm_cfg_from_conf(c, NULL, &own, sad, spd, &gc, &err), 0);
        assert_true(vpn_addr_eq(&gc.cfg.local, &own));
        vpn_conf_del(c);
        vpn_spd_del(spd);
        vpn_sad_del(sad);
        vpn_drbg_free(&d);
    }
}

/* Registration, traffic any-to-any, unicast rekeys (on demand and timed,
 * acknowledged), all from IOS text. */
static void test_unicast_group(void **state)
{
    net n;
    char out[8192];
    vpn_show_buf b;
    (void)state;

    net_init(&n, NGM, "  rekey transport unicast\n");
    register_all(&n);
    for (unsigned i = 0; i < NGM; i++) {
        const vpn_sa_config *c;
        tu_gdoi_assert_member(n.gm[i], n.ks);
        c = vpn_sa_get_config(vpn_gdoi_gm_tek(n.gm[i]));
        assert_int_equal(c->encr_id, VPN_ENCR_AES_CBC);
        assert_int_equal(c->integ_id, VPN_AUTH_HMAC_SHA2_256_128);
        assert_int_equal(c->tbar_window_ms, 5000);
    }
    assert_int_equal(vpn_gdoi_ks_members(n.ks), NGM);
    assert_int_equal(send_between(&n, 0, 1, 1), 0);
    assert_int_equal(send_between(&n, 1, 2, 2), 0);
    assert_int_equal(send_between(&n, 2, 0, 3), 0);

    assert_int_equal(vpn_gdoi_ks_rekey(n.ks, false, n.now), 0);
    tu_gdoi_pump(&n.w);
    for (unsigned i = 0; i < NGM; i++)
        tu_gdoi_assert_member(n.gm[i], n.ks);
    assert_int_equal(vpn_gdoi_ks_get_stats(n.ks)->acks, NGM);
    assert_int_equal(send_between(&n, 0, 2, 4), 0);

    /* the timed rekey the 600 s TEK lifetime asks for */
    tu_gdoi_run_until(&n.w, n.now + 600 * NS, 200);
    assert_true(vpn_gdoi_ks_seq(n.ks) >= 2);
    for (unsigned i = 0; i < NGM; i++)
        tu_gdoi_assert_member(n.gm[i], n.ks);
    assert_int_equal(send_between(&n, 1, 0, 5), 0);

    vpn_show_init(&b, out, sizeof out);
    assert_int_equal(vpn_show_gdoi_ks_members(n.ks, &b), 0);
    assert_non_null(strstr(out, "Group members registered : 3 (limit 8000)"));
    assert_non_null(strstr(out, "Registrations refused    : 0 (member limit 0"));
    assert_non_null(strstr(out, "Group Member ID    : 198.51.100.13"));
    net_free(&n);
}

/* Multicast rekeys to the group address of `rekey address ipv4 REKEY`. */
static void test_multicast_group(void **state)
{
    net n;
    uint32_t spi;
    (void)state;

    net_init(&n, NGM, "  rekey address ipv4 REKEY\n");
    assert_int_equal(n.mcast.family, VPN_AF_INET);
    register_all(&n);
    for (unsigned i = 0; i < NGM; i++)
        tu_gdoi_assert_member(n.gm[i], n.ks);
    spi = vpn_gdoi_ks_tek_spi(n.ks);
    assert_int_equal(vpn_gdoi_ks_rekey(n.ks, true, n.now), 0);
    tu_gdoi_pump(&n.w);
    assert_int_not_equal(vpn_gdoi_ks_tek_spi(n.ks), spi);
    for (unsigned i = 0; i < NGM; i++)
        tu_gdoi_assert_member(n.gm[i], n.ks);
    assert_int_equal(send_between(&n, 2, 1, 6), 0);
    /* one datagram per rekey, none acknowledged */
    assert_int_equal(vpn_gdoi_ks_get_stats(n.ks)->acks, 0);
    net_free(&n);
}

/* `authorization address ipv4 MEMBERS` lets .11 and .12 in: .13 gets no
 * keys, cannot read the group's traffic, and the refusal is counted and
 * shown. */
static void test_authorization(void **state)
{
    net n;
    char out[8192];
    vpn_show_buf b;
    const vpn_gdoi_ks_stats *st;
    (void)state;

    net_init(&n, NGM, "  rekey transport unicast\n  authorization address ipv4 MEMBERS\n");
    register_all(&n);
    tu_gdoi_assert_member(n.gm[0], n.ks);
    tu_gdoi_assert_member(n.gm[1], n.ks);
    assert_int_not_equal(vpn_gdoi_gm_get_state(n.gm[2]), VPN_GDOI_GM_REGISTERED);
    assert_null(vpn_gdoi_gm_tek(n.gm[2]));
    assert_int_equal(vpn_gdoi_ks_members(n.ks), 2);
    st = vpn_gdoi_ks_get_stats(n.ks);
    assert_true(st->refused_unauthorized >= 1);
    assert_int_equal(st->refused, st->refused_unauthorized);
    assert_int_equal(st->refused_limit, 0);
    /* the group's traffic: members read it, the refused one does not */
    assert_int_equal(send_between(&n, 0, 1, 7), 0);
    assert_int_not_equal(send_between(&n, 0, 2, 8), 0);
    /* it keeps trying; rekeys still never reach it */
    tu_gdoi_run_until(&n.w, n.now + 120 * NS, 400);
    assert_int_equal(vpn_gdoi_ks_rekey(n.ks, false, n.now), 0);
    tu_gdoi_pump(&n.w);
    assert_null(vpn_gdoi_gm_tek(n.gm[2]));
    assert_int_equal(vpn_gdoi_ks_members(n.ks), 2);

    vpn_show_init(&b, out, sizeof out);
    assert_int_equal(vpn_show_gdoi_ks_members(n.ks, &b), 0);
    {
        char want[96];
        snprintf(want, sizeof want, "not authorized %llu,",
                 (unsigned long long)vpn_gdoi_ks_get_stats(n.ks)->refused_unauthorized);
        assert_non_null(strstr(out, want));
    }
    assert_null(strstr(out, "198.51.100.13"));
    net_free(&n);
}

/* `limit members 2`: the third member is refused and counted; the two
 * already registered may register again. */
static void test_member_limit(void **state)
{
    net n;
    char out[8192];
    vpn_show_buf b;
    const vpn_gdoi_ks_stats *st;
    (void)state;

    net_init(&n, NGM, "  rekey transport unicast\n  limit members 2\n");
    for (unsigned i = 0; i < 2; i++)
        assert_int_equal(vpn_gdoi_gm_start(n.gm[i], n.now), 0);
    tu_gdoi_pump(&n.w);
    tu_gdoi_assert_member(n.gm[0], n.ks);
    tu_gdoi_assert_member(n.gm[1], n.ks);
    assert_int_equal(vpn_gdoi_gm_start(n.gm[2], n.now), 0);
    tu_gdoi_pump(&n.w);
    assert_null(vpn_gdoi_gm_tek(n.gm[2]));
    st = vpn_gdoi_ks_get_stats(n.ks);
    assert_int_equal(st->refused_limit, 1);
    assert_int_equal(st->refused, 1);
    assert_int_equal(vpn_gdoi_ks_members(n.ks), 2);

    vpn_show_init(&b, out, sizeof out);
    assert_int_equal(vpn_show_gdoi_ks_members(n.ks, &b), 0);
    assert_non_null(strstr(out, "Group members registered : 2 (limit 2)"));
    assert_non_null(strstr(out, "Registrations refused    : 1 (member limit 1,"));

    /* registered members register again at the limit: over their phase 1 */
    assert_int_equal(vpn_gdoi_gm_start(n.gm[1], n.now), 0);
    tu_gdoi_pump(&n.w);
    tu_gdoi_assert_member(n.gm[1], n.ks);
    /* and with a new one (the router restarted) */
    {
        vpn_gdoi_conf_gm gc;
        vpn_conf_error err;
        vpn_gdoi_gm_del(n.gm[0]);
        assert_int_equal(vpn_gdoi_gm_cfg_from_conf(n.gm_conf[0], NULL, NULL, n.sad[0], n.spd[0], &gc, &err), 0);
        assert_int_equal(vpn_gdoi_gm_new(&n.gm[0], &gc.cfg, &n.rng, NULL, on_send, &n), 0);
    }
    assert_int_equal(vpn_gdoi_gm_start(n.gm[0], n.now), 0);
    tu_gdoi_pump(&n.w);
    tu_gdoi_assert_member(n.gm[0], n.ks);
    assert_int_equal(vpn_gdoi_ks_members(n.ks), 2);
    assert_int_equal(vpn_gdoi_ks_get_stats(n.ks)->refused, 1);
    assert_int_equal(vpn_gdoi_ks_get_stats(n.ks)->registrations, 4);
    assert_int_equal(send_between(&n, 0, 1, 9), 0);
    assert_int_equal(send_between(&n, 1, 0, 10), 0);
    net_free(&n);
}

/* The default limit is 8,000 and reachable: members a cooperating KS lists
 * (the cheap way in: no phase 1 each) fill the group past the old 4,096,
 * the 8,001st is refused and counted, the last place goes to a member
 * that registers for real, and every lookup by address is a short chain. */
static void test_8000_members(void **state)
{
    net n;
    vpn_addr a;
    size_t longest = 0;
    (void)state;

    net_init(&n, 2, "  rekey transport unicast\n");
    for (unsigned i = 0; i < VPN_GDOI_KS_MAX_MEMBERS - 1; i++) {
        a.family = VPN_AF_INET;
        a.b[0] = 172;
        a.b[1] = 16 + (uint8_t)(i >> 16);
        a.b[2] = (uint8_t)(i >> 8);
        a.b[3] = (uint8_t)i;
        assert_int_equal(gdoi_ks_member_add_synced(n.ks, &a), 0);
    }
    assert_int_equal(vpn_gdoi_ks_members(n.ks), 7999);
    /* listed again: no second entry */
    assert_int_equal(gdoi_ks_member_add_synced(n.ks, &a), 0);
    assert_int_equal(vpn_gdoi_ks_members(n.ks), 7999);
    /* member 8,000 registers through GROUPKEY-PULL, 8,001 cannot */
    assert_int_equal(vpn_gdoi_gm_start(n.gm[0], n.now), 0);
    tu_gdoi_pump(&n.w);
    tu_gdoi_assert_member(n.gm[0], n.ks);
    assert_int_equal(vpn_gdoi_ks_members(n.ks), 8000);
    assert_int_equal(vpn_gdoi_gm_start(n.gm[1], n.now), 0);
    tu_gdoi_pump(&n.w);
    assert_null(vpn_gdoi_gm_tek(n.gm[1]));
    assert_int_equal(vpn_gdoi_ks_get_stats(n.ks)->refused_limit, 1);
    a.b[3]++;
    a.b[2] = 200;
    assert_int_equal(gdoi_ks_member_add_synced(n.ks, &a), VPN_ERR_LIMIT);
    assert_int_equal(vpn_gdoi_ks_get_stats(n.ks)->refused_limit, 2);
    assert_int_equal(vpn_gdoi_ks_members(n.ks), 8000);

    /* the index: every member found, chains short */
    for (size_t i = 0; i < n.ks->n; i++) {
        ks_member *m = n.ks->m[i];
        assert_ptr_equal(gdoi_ks_member_by_addr(n.ks, &m->addr), m);
        assert_int_equal(m->idx, i);
    }
    assert_true(n.ks->tab_size >= n.ks->n);
    for (size_t bkt = 0; bkt < n.ks->tab_size; bkt++) {
        size_t len = 0;
        for (ks_member *m = n.ks->ad_tab[bkt]; m; m = m->ad_next)
            len++;
        if (len > longest)
            longest = len;
    }
    assert_true(longest <= 12);
    /* removing members keeps the index right */
    for (size_t k = 0; k < 1000; k++)
        gdoi_ks_member_remove(n.ks, (k * 7) % n.ks->n);
    assert_int_equal(vpn_gdoi_ks_members(n.ks), 7000);
    for (size_t i = 0; i < n.ks->n; i++)
        assert_ptr_equal(gdoi_ks_member_by_addr(n.ks, &n.ks->m[i]->addr), n.ks->m[i]);
    net_free(&n);
}

/* The KS's deadline heap holds every entry with a phase 1 in order. */
static void assert_heap(const vpn_gdoi_ks *ks)
{
    size_t with_p1 = 0;
    uint64_t earliest = UINT64_MAX;

    for (size_t i = 0; i < ks->n; i++) {
        const ks_member *m = ks->m[i];
        if (!m->p1) {
            assert_int_equal(m->hpos, SIZE_MAX);
            continue;
        }
        with_p1++;
        assert_true(m->hpos < ks->heap_n);
        assert_ptr_equal(ks->heap[m->hpos], m);
        /* the key is the phase 1's deadline now, not a stale one */
        assert_true(m->due == vpn_ikev1_sa_next_deadline(m->p1));
        if (m->due < earliest)
            earliest = m->due;
    }
    assert_int_equal(ks->heap_n, with_p1);
    for (size_t i = 1; i < ks->heap_n; i++)
        assert_true(ks->heap[(i - 1) / 2]->due <= ks->heap[i]->due);
    /* the KS's deadline is no later than every member's (it may be earlier:
     * its own rekey timers) */
    assert_true(vpn_gdoi_ks_next_deadline(ks) <= earliest);
}

/*
 * Deadlines without walking the members: 300 Main Modes begun from other
 * addresses at staggered times and abandoned after message 1 sit in the
 * KS's heap beside real members; the KS's deadline is always the earliest
 * of them, each tick visits only what is due, and every abandoned entry
 * is gone once its phase 1 gives up, while the registered members stay.
 */
static void test_deadline_heap(void **state)
{
    net n;
    static tu_gdoi_dgram mm1;
    size_t peak = 0;
    (void)state;

    net_init(&n, 2, "  rekey transport unicast\n");
    /* a member's Main Mode message 1, replayed with other cookies and sources */
    assert_int_equal(vpn_gdoi_gm_start(n.gm[1], n.now), 0);
    assert_int_equal(n.w.nq, 1);
    mm1 = n.w.q[0];
    n.w.nq = 0;
    for (unsigned i = 0; i < 300; i++) {
        vpn_addr src = {VPN_AF_INET, {192, 168, (uint8_t)(i >> 8), (uint8_t)i}};
        uint8_t dg[DG_MAX];
        memcpy(dg, mm1.b, mm1.len);
        dg[0] = (uint8_t)(i >> 8);
        dg[1] = (uint8_t)i;
        dg[2] = 0xa5;
        /* uneven gaps, some none: deadlines apart and some equal */
        n.now += ((i * 7919u) % 300u) * 37000000ull;
        assert_int_equal(vpn_gdoi_ks_input(n.ks, &src, dg, mm1.len, n.now), 0);
        n.w.nq = 0; /* the answer goes nowhere */
        assert_heap(n.ks);
    }
    peak = n.ks->heap_n;
    assert_true(peak >= 300);
    /* the half-open entries time out one by one, in deadline order */
    for (int round = 0; round < 2000 && n.ks->n; round++) {
        uint64_t d = vpn_gdoi_ks_next_deadline(n.ks);
        size_t before = n.ks->n;
        if (d == UINT64_MAX)
            break;
        n.now = d > n.now ? d : n.now;
        vpn_gdoi_ks_timeout(n.ks, n.now);
        n.w.nq = 0;
        assert_true(n.ks->n <= before);
        assert_heap(n.ks);
        /* nothing due is left behind by a tick */
        assert_true(n.ks->heap_n == 0 || n.ks->heap[0]->due > n.now);
    }
    assert_int_equal(n.ks->n, 0);
    assert_int_equal(n.ks->heap_n, 0);
    assert_int_equal(vpn_gdoi_ks_members(n.ks), 0);

    /* and registered members stay through it: two register, then more
     * half-open entries come and go */
    net_free(&n);
    net_init(&n, 2, "  rekey transport unicast\n");
    register_all(&n);
    assert_int_equal(vpn_gdoi_ks_members(n.ks), 2);
    assert_heap(n.ks);
    for (unsigned i = 0; i < 40; i++) {
        vpn_addr src = {VPN_AF_INET, {192, 168, 1, (uint8_t)i}};
        uint8_t dg[DG_MAX];
        memcpy(dg, mm1.b, mm1.len);
        dg[0] = 0x77;
        dg[1] = (uint8_t)i;
        n.now += 11000000ull * (i % 5);
        assert_int_equal(vpn_gdoi_ks_input(n.ks, &src, dg, mm1.len, n.now), 0);
        n.w.nq = 0;
    }
    assert_heap(n.ks);
    tu_gdoi_run_until(&n.w, n.now + 300 * NS, 10000);
    assert_heap(n.ks);
    assert_int_equal(n.ks->n, 2);
    assert_int_equal(vpn_gdoi_ks_members(n.ks), 2);
    assert_int_equal(send_between(&n, 0, 1, 77), 0);
    net_free(&n);
}

/* Two cooperating key servers from text (`redundancy`): the higher
 * priority is elected primary, the secondary holds the same keys, and when
 * the primary is gone the secondary rekeys the members on schedule. */
static void test_coop_from_text(void **state)
{
    net n;
    (void)state;

    net_init(&n, 2, "  rekey transport unicast\n"
                    "  redundancy\n   local priority 100\n   peer address ipv4 192.0.2.2\n");
    add_ks2(&n, "  address ipv4 192.0.2.2\n  rekey transport unicast\n"
                "  redundancy\n   local priority 50\n   peer address ipv4 192.0.2.1\n");
    tu_gdoi_run_until(&n.w, n.now + 15 * NS, 2000);
    assert_int_equal(vpn_gdoi_ks_coop_role(n.ks), VPN_GDOI_COOP_PRIMARY);
    assert_int_equal(vpn_gdoi_ks_coop_role(n.ks2), VPN_GDOI_COOP_SECONDARY);
    register_all(&n);
    tu_gdoi_assert_member(n.gm[0], n.ks);
    tu_gdoi_assert_member(n.gm[1], n.ks);
    tu_gdoi_run_until(&n.w, n.now + 31 * NS, 2000);
    assert_int_equal(vpn_gdoi_ks_tek_spi(n.ks2), vpn_gdoi_ks_tek_spi(n.ks));
    assert_int_equal(vpn_gdoi_ks_members(n.ks2), 2);

    /* the primary goes away; the secondary takes over and rekeys */
    n.ks_down = true;
    tu_gdoi_run_until(&n.w, n.now + 600 * NS, 4000);
    assert_int_equal(vpn_gdoi_ks_coop_role(n.ks2), VPN_GDOI_COOP_PRIMARY);
    assert_true(vpn_gdoi_ks_get_stats(n.ks2)->rekeys >= 1);
    tu_gdoi_assert_member(n.gm[0], n.ks2);
    tu_gdoi_assert_member(n.gm[1], n.ks2);
    assert_int_equal(send_between(&n, 0, 1, 11), 0);
    net_free(&n);
}

/* A member of another group (identity number 999) is refused and counted. */
static void test_other_group(void **state)
{
    net n;
    char text[2048], out[8192];
    vpn_gdoi_conf_gm gc;
    vpn_conf_error err;
    vpn_show_buf b;
    char *p;
    (void)state;

    net_init(&n, 2, "  rekey transport unicast\n");
    /* member 2 is configured for group 999 */
    vpn_gdoi_gm_del(n.gm[1]);
    vpn_conf_del(n.gm_conf[1]);
    snprintf(text, sizeof text, gm_fmt, 2u, 12u);
    p = strstr(text, "identity number 1234");
    assert_non_null(p);
    memcpy(p, "identity number  999", 20);
    n.gm_conf[1] = tu_conf_parse_ok(text);
    assert_int_equal(vpn_gdoi_gm_cfg_from_conf(n.gm_conf[1], NULL, NULL, n.sad[1], n.spd[1], &gc, &err), 0);
    assert_int_equal(gc.cfg.group_id, 999);
    assert_int_equal(vpn_gdoi_gm_new(&n.gm[1], &gc.cfg, &n.rng, NULL, on_send, &n), 0);
    register_all(&n);
    tu_gdoi_assert_member(n.gm[0], n.ks);
    assert_null(vpn_gdoi_gm_tek(n.gm[1]));
    assert_true(vpn_gdoi_ks_get_stats(n.ks)->refused_group >= 1);
    assert_int_equal(vpn_gdoi_ks_get_stats(n.ks)->refused_unauthorized, 0);
    vpn_show_init(&b, out, sizeof out);
    assert_int_equal(vpn_show_gdoi_ks_members(n.ks, &b), 0);
    assert_non_null(strstr(out, "other group 1, malformed 0)"));
    net_free(&n);
}

/* A registration message that does not parse is refused as malformed;
 * the member's retransmission then registers it. */
static void test_malformed_registration(void **state)
{
    net n;
    const vpn_gdoi_ks_stats *st;
    (void)state;

    net_init(&n, 1, "  rekey transport unicast\n");
    n.corrupt_pulls = 1;
    register_all(&n);
    assert_null(vpn_gdoi_gm_tek(n.gm[0]));
    st = vpn_gdoi_ks_get_stats(n.ks);
    assert_int_equal(st->refused_malformed, 1);
    assert_int_equal(st->refused, 1);
    tu_gdoi_run_until(&n.w, n.now + 60 * NS, 400);
    tu_gdoi_assert_member(n.gm[0], n.ks);
    assert_int_equal(st->refused_malformed, 1);
    net_free(&n);
}

/* Where a packet from member a to the given flow goes: its SPD action and SA. */
static vpn_spd_action flow(net *n, unsigned a, uint8_t proto, const char *src, const char *dst,
                           uint16_t dport, const vpn_sa **sa)
{
    vpn_ip_info ii;
    const vpn_spd_entry *e = NULL;
    vpn_spd_action act;

    memset(&ii, 0, sizeof ii);
    ii.version = 4;
    ii.proto = proto;
    ii.ttl = 64;
    ii.has_ports = proto == 6 || proto == 17;
    ii.sport = 40000;
    ii.dport = dport;
    ii.src = tu_addr(src);
    ii.dst = tu_addr(dst);
    act = vpn_spd_lookup(n->spd[a], &ii, &e);
    *sa = e ? e->sa : NULL;
    return act;
}

/* The TEK policy ACL of a KS with several permit and deny lines
 * (line numbers: the ACL starts at 33 after KS_COMMON). */
#define ACL_EXTRA                                                                   \
    "  rekey transport unicast\n"                                                    \
    "  sa ipsec 1\n"                                                                 \
    "   match address ipv4 MULTI\n"                                                  \
    "ip access-list extended MULTI\n"                                                \
    " deny udp any eq 848 any eq 848\n"                                              \
    " deny udp 10.1.0.0 0.0.255.255 10.2.0.0 0.0.255.255 eq 5060\n"                  \
    " permit udp 10.1.0.0 0.0.255.255 10.2.0.0 0.0.255.255 eq 5060\n"                \
    " permit udp 10.1.0.0 0.0.255.255 10.2.0.0 0.0.255.255\n"                        \
    " deny tcp 10.5.0.0 0.0.255.255 any\n"                                           \
    " permit tcp 10.3.0.0 0.0.255.255 10.4.0.0 0.0.255.255 eq 443\n"                 \
    " deny ip any any\n"

/* Each permit line is a TEK policy line every member matches in order,
 * with the one TEK; a deny the KS applied and traffic outside pass in
 * clear; a rekey carries every line. */
static void test_acl_policy(void **state)
{
    net n;
    vpn_gdoi_conf_ks kc;
    vpn_conf_error err;
    vpn_conf *c;
    vpn_gdoi_ks_info ki;
    vpn_gdoi_gm_info gi;
    const vpn_sa *sa;
    char out[8192];
    vpn_show_buf b;
    uint32_t spi1;
    vpn_sig_key *rsa;
    (void)state;

    /* the translation: the covered permit (line 38) and the denies no
     * later permit meets are left out; three lines remain, in order */
    c = tu_conf_parse_ok(KS_COMMON ACL_EXTRA);
    rsa = tu_gdoi_rsa_key();
    assert_int_equal(vpn_gdoi_ks_cfg_from_conf(c, NULL, rsa, &kc, &err), 0);
    assert_int_equal(kc.cfg.tek.n_more, 2);
    assert_int_equal(kc.cfg.tek.deny_mask, 1); /* the SIP deny, carried */
    assert_int_equal(kc.cfg.tek.sel.proto, 17);
    assert_int_equal(kc.cfg.tek.sel.dport_lo, 5060);
    assert_int_equal(kc.cfg.tek.more[0].proto, 17);
    assert_int_equal(kc.cfg.tek.more[0].dport_lo, 0);
    assert_int_equal(kc.cfg.tek.more[0].src.len, 16);
    assert_int_equal(kc.cfg.tek.more[1].proto, 6);
    assert_int_equal(kc.cfg.tek.more[1].dport_lo, 443);
    vpn_conf_del(c);
    vpn_sig_key_del(rsa);

    net_init(&n, 2, ACL_EXTRA);
    register_all(&n);
    for (unsigned i = 0; i < 2; i++)
        tu_gdoi_assert_member(n.gm[i], n.ks);
    spi1 = vpn_gdoi_ks_tek_spi(n.ks);
    /* each permitted flow with the TEK, and it decrypts at the other member */
    assert_int_equal(flow(&n, 0, 17, "10.1.0.5", "10.2.0.7", 4000, &sa), VPN_SPD_PROTECT);
    assert_ptr_equal(sa, vpn_gdoi_gm_tek(n.gm[0]));
    assert_int_equal(vpn_sa_get_config(sa)->spi, spi1);
    assert_int_equal(send_between(&n, 0, 1, 1), 0);
    assert_int_equal(flow(&n, 1, 6, "10.3.9.9", "10.4.0.1", 443, &sa), VPN_SPD_PROTECT);
    assert_ptr_equal(sa, vpn_gdoi_gm_tek(n.gm[1]));
    /* the deny before the SIP permit: clear */
    assert_int_equal(flow(&n, 0, 17, "10.1.0.5", "10.2.0.7", 5060, &sa), VPN_SPD_BYPASS);
    /* outside the policy (the other port, the other direction): clear */
    assert_int_equal(flow(&n, 0, 6, "10.3.9.9", "10.4.0.1", 80, &sa), VPN_SPD_BYPASS);
    assert_int_equal(flow(&n, 0, 17, "10.2.0.7", "10.1.0.5", 4000, &sa), VPN_SPD_BYPASS);
    assert_int_equal(flow(&n, 0, 17, "198.51.100.11", "192.0.2.1", 848, &sa), VPN_SPD_BYPASS);

    /* the views list both lines */
    vpn_gdoi_ks_get_info(n.ks, n.now, &ki);
    assert_int_equal(ki.tek.n_acl_more, 2);
    assert_int_equal(ki.tek.acl_deny, 1);
    vpn_gdoi_gm_get_info(n.gm[0], n.now, &gi);
    assert_int_equal(gi.tek.n_acl_more, 2);
    assert_int_equal(gi.tek.acl_deny, 1);
    assert_int_equal(gi.tek.acl_more[1].dport_lo, 443);
    vpn_show_init(&b, out, sizeof out);
    assert_int_equal(vpn_show_gdoi_gm(n.gm[0], n.now, &b), 0);
    assert_non_null(strstr(out, " ACL Downloaded From KS 192.0.2.1:\n"
                                "   access-list   deny udp any port = 848 any port = 848\n"
                                "   access-list   deny udp 10.1.0.0 0.0.255.255 10.2.0.0 0.0.255.255 port = 5060\n"
                                "   access-list   permit udp 10.1.0.0 0.0.255.255 10.2.0.0 0.0.255.255\n"
                                "   access-list   permit tcp 10.3.0.0 0.0.255.255 10.4.0.0 0.0.255.255 port = 443\n"));
    vpn_show_init(&b, out, sizeof out);
    assert_int_equal(vpn_show_gdoi_ks(n.ks, n.now, &b), 0);
    assert_non_null(strstr(out, "       access-list permit tcp 10.3.0.0 0.0.255.255 10.4.0.0 0.0.255.255 port = 443\n"));

    /* a rekey carries every line: both flows move to the new TEK */
    assert_int_equal(vpn_gdoi_ks_rekey(n.ks, false, n.now), 0);
    tu_gdoi_pump(&n.w);
    assert_int_not_equal(vpn_gdoi_ks_tek_spi(n.ks), spi1);
    for (unsigned i = 0; i < 2; i++) {
        tu_gdoi_assert_member(n.gm[i], n.ks);
        assert_int_equal(flow(&n, i, 17, "10.1.0.5", "10.2.0.7", 4000, &sa), VPN_SPD_PROTECT);
        assert_int_equal(vpn_sa_get_config(sa)->spi, vpn_gdoi_ks_tek_spi(n.ks));
        assert_int_equal(flow(&n, i, 6, "10.3.0.1", "10.4.0.2", 443, &sa), VPN_SPD_PROTECT);
        assert_int_equal(vpn_sa_get_config(sa)->spi, vpn_gdoi_ks_tek_spi(n.ks));
        assert_int_equal(flow(&n, i, 17, "10.1.0.5", "10.2.0.7", 5060, &sa), VPN_SPD_BYPASS);
    }
    assert_int_equal(send_between(&n, 1, 0, 2), 0);
    net_free(&n);
}

/*
 * A multi-line TEK policy with cooperative key servers: KS1 (primary) has
 * the ACL of ACL_EXTRA (a partial deny carried as a bypass line, two
 * permits), KS2 (secondary) is configured with the one-line POLICY. After
 * COOP sync KS2 holds KS1's lines; after KS1 is gone KS2 rekeys the
 * members with every line, the deny line still a deny, under its new TEK.
 */
static void test_coop_multi_line(void **state)
{
    net n;
    vpn_gdoi_ks_info ki;
    const vpn_sa *sa;
    uint32_t spi1;
    (void)state;

    net_init(&n, 2, "  redundancy\n   local priority 100\n   peer address ipv4 192.0.2.2\n" ACL_EXTRA);
    add_ks2(&n, "  address ipv4 192.0.2.2\n  rekey transport unicast\n"
                "  redundancy\n   local priority 50\n   peer address ipv4 192.0.2.1\n");
    vpn_gdoi_ks_get_info(n.ks2, n.now, &ki);
    assert_int_equal(ki.tek.n_acl_more, 0); /* its own configuration: one line */
    tu_gdoi_run_until(&n.w, n.now + 15 * NS, 2000);
    assert_int_equal(vpn_gdoi_ks_coop_role(n.ks), VPN_GDOI_COOP_PRIMARY);
    assert_int_equal(vpn_gdoi_ks_coop_role(n.ks2), VPN_GDOI_COOP_SECONDARY);
    register_all(&n);
    tu_gdoi_assert_member(n.gm[0], n.ks);
    tu_gdoi_run_until(&n.w, n.now + 31 * NS, 2000);
    /* synced: the same TEK, and the same lines in the same order */
    assert_int_equal(vpn_gdoi_ks_tek_spi(n.ks2), vpn_gdoi_ks_tek_spi(n.ks));
    vpn_gdoi_ks_get_info(n.ks2, n.now, &ki);
    assert_int_equal(ki.tek.n_acl_more, 2);
    assert_int_equal(ki.tek.acl_deny, 1);
    assert_int_equal(ki.tek.acl.proto, 17);
    assert_int_equal(ki.tek.acl.dport_lo, 5060);
    assert_int_equal(ki.tek.acl_more[0].src.len, 16);
    assert_int_equal(ki.tek.acl_more[1].proto, 6);
    assert_int_equal(ki.tek.acl_more[1].dport_lo, 443);
    spi1 = vpn_gdoi_ks_tek_spi(n.ks);

    /* KS1 goes away; KS2 takes over and rekeys with every line */
    n.ks_down = true;
    tu_gdoi_run_until(&n.w, n.now + 600 * NS, 4000);
    assert_int_equal(vpn_gdoi_ks_coop_role(n.ks2), VPN_GDOI_COOP_PRIMARY);
    assert_true(vpn_gdoi_ks_get_stats(n.ks2)->rekeys >= 1);
    assert_int_not_equal(vpn_gdoi_ks_tek_spi(n.ks2), spi1);
    for (unsigned i = 0; i < 2; i++) {
        vpn_gdoi_gm_info gi;
        tu_gdoi_assert_member(n.gm[i], n.ks2);
        vpn_gdoi_gm_get_info(n.gm[i], n.now, &gi);
        assert_int_equal(gi.tek.n_acl_more, 2);
        assert_int_equal(gi.tek.acl_deny, 1);
        assert_int_equal(flow(&n, i, 17, "10.1.0.5", "10.2.0.7", 4000, &sa), VPN_SPD_PROTECT);
        assert_int_equal(vpn_sa_get_config(sa)->spi, vpn_gdoi_ks_tek_spi(n.ks2));
        assert_int_equal(flow(&n, i, 6, "10.3.0.1", "10.4.0.2", 443, &sa), VPN_SPD_PROTECT);
        assert_int_equal(vpn_sa_get_config(sa)->spi, vpn_gdoi_ks_tek_spi(n.ks2));
        assert_int_equal(flow(&n, i, 17, "10.1.0.5", "10.2.0.7", 5060, &sa), VPN_SPD_BYPASS);
        assert_int_equal(flow(&n, i, 6, "10.3.9.9", "10.4.0.1", 80, &sa), VPN_SPD_BYPASS);
    }
    assert_int_equal(send_between(&n, 0, 1, 12), 0);
    net_free(&n);
}

static void ks_error(const char *extra, const char *global_extra, bool key, int code, int line,
                     const char *needle)
{
    char text[4096];
    vpn_conf *c;
    vpn_conf_error err;
    vpn_gdoi_conf_ks kc;
    int rc;
    static vpn_sig_key *rsa;

    if (!rsa)
        rsa = tu_gdoi_rsa_key();
    snprintf(text, sizeof text, "%s%s%s", global_extra ? global_extra : "", KS_COMMON,
             extra ? extra : "");
    c = tu_conf_parse_ok(text);
    rc = vpn_gdoi_ks_cfg_from_conf(c, "GETVPN", key ? rsa : NULL, &kc, &err);
    if (rc != code || err.line != line || strstr(err.msg, needle) == NULL)
        fail_msg("want %d at line %d containing '%s'; got %d at line %d: %s", code, line, needle, rc,
                 err.line, err.msg);
    vpn_conf_del(c);
}

/* KS_COMMON's line numbers: the group at 21, server local 23, sa ipsec 28,
 * replay 31; extra lines start at 33. */
static void test_ks_errors(void **state)
{
    (void)state;
    ks_error("  rekey address ipv4 REKEY\n", NULL, true, 0, 0, "");
    ks_error(NULL, NULL, false, VPN_ERR_INVAL, 27, "RSA key pair GETVPN-KEY was not supplied");
    ks_error("  sa ipsec 1\n   replay counter window-size 64\n", NULL, true, VPN_ERR_UNSUPPORTED, 34,
             "counter-based anti-replay");
    ks_error("  rekey algorithm aes 128\n", NULL, true, VPN_ERR_UNSUPPORTED, 33, "AES-256 KEKs only");
    ks_error("  rekey sig-hash algorithm sha\n", NULL, true, VPN_ERR_UNSUPPORTED, 33, "SHA-256 only");
    ks_error("  rekey sig-hash algorithm sha256\n", NULL, true, 0, 0, "");
    /* several permit lines, and denies the KS can apply itself */
    ks_error("ip access-list extended POLICY\n permit udp any any\n", NULL, true, 0, 0, "");
    ks_error("ip access-list extended POLICY\n deny tcp any any\n", NULL, true, 0, 0, "");
    /* a deny covering part of a later permit goes to members; with a
     * port range it cannot */
    ks_error("  sa ipsec 1\n   match address ipv4 P3\nip access-list extended P3\n"
             " deny ip host 10.1.0.5 any\n permit udp 10.1.0.0 0.0.255.255 any\n",
             NULL, true, 0, 0, "");
    ks_error("  sa ipsec 1\n   match address ipv4 P5\nip access-list extended P5\n"
             " deny udp any range 1 5 any\n permit ip any any\n",
             NULL, true, VPN_ERR_UNSUPPORTED, 36, "port ranges are not supported");
    /* every permit covered by a deny before it: nothing to protect */
    ks_error("  sa ipsec 1\n   match address ipv4 P4\nip access-list extended P4\n deny ip any any\n"
             " permit udp any any\n",
             NULL, true, VPN_ERR_NOTFOUND, 34, "no permit line that can match");
    /* too many lines for members: POLICY's own permit and 15 more fit,
     * the 17th is named */
    {
        char many[2048];
        size_t o = (size_t)snprintf(many, sizeof many, "ip access-list extended POLICY\n");
        for (int i = 1; i < VPN_GDOI_TEK_SELS_MAX; i++)
            o += (size_t)snprintf(many + o, sizeof many - o, " permit udp any any eq %d\n", i);
        ks_error(many, NULL, true, 0, 0, "");
        snprintf(many + o, sizeof many - o, " permit udp any any eq 999\n");
        ks_error(many, NULL, true, VPN_ERR_LIMIT, 34 + VPN_GDOI_TEK_SELS_MAX - 1,
                 "more than 16 lines for members");
    }
    ks_error("  redundancy\n   peer address ipv4 192.0.2.2\nip access-list extended POLICY\n"
             " permit udp any any\n",
             NULL, true, 0, 0, ""); /* several lines with redundancy: COOP carries them */
    ks_error("  sa ipsec 1\n   match address ipv4 P2\nip access-list extended P2\n permit udp any range 1 5 any\n",
             NULL, true, VPN_ERR_UNSUPPORTED, 36, "port ranges");
    ks_error("  rekey address ipv4 R1\nip access-list extended R1\n permit udp any any\n", NULL, true,
             VPN_ERR_POLICY, 35, "must permit one multicast group host");
    ks_error("  rekey address ipv4 R2\nip access-list extended R2\n permit udp host 192.0.2.9 host 239.1.1.1\n",
             NULL, true, VPN_ERR_POLICY, 35, "source is not this key server");
    ks_error("  rekey address ipv4 R3\nip access-list extended R3\n deny ip any any\n", NULL, true,
             VPN_ERR_NOTFOUND, 33, "rekey address ACL R3 has no permit line");
    ks_error("  authorization address ipv4 EMPTY\nip access-list standard EMPTY\n", NULL, true,
             VPN_ERR_NOTFOUND, 33, "authorization ACL EMPTY is empty");
    ks_error("  redundancy\n", NULL, true, VPN_ERR_NOTFOUND, 33, "'redundancy' has no 'peer address ipv4'");
    ks_error("  redundancy\n   peer address ipv4 192.0.2.1\n", NULL, true, VPN_ERR_POLICY, 33,
             "this key server's own address");
    ks_error("crypto ipsec transform-set TS esp-chacha20-poly1305\n", NULL, true, VPN_ERR_UNSUPPORTED, 33,
             "esp-aes (with HMAC) or esp-gcm");

    /* lines missing altogether: a short KS built up */
    {
        static const struct {
            const char *text;
            int code, line;
            const char *needle;
        } cases[] = {
            {"crypto gdoi group G\n identity number 1\n", VPN_ERR_NOTFOUND, 0, "with 'server local'"},
            {"crypto gdoi group G\n identity number 1\n server local\n", VPN_ERR_NOTFOUND, 3,
             "has no 'address ipv4 A'"},
            {"crypto gdoi group G\n identity number 1\n server local\n  address ipv4 192.0.2.1\n",
             VPN_ERR_NOTFOUND, 0, "no 'crypto isakmp policy'"},
            {"crypto isakmp policy 1\n authentication pre-share\n"
             "crypto gdoi group G\n identity number 1\n server local\n  address ipv4 192.0.2.1\n",
             VPN_ERR_AUTH, 0, "address 0.0.0.0 0.0.0.0"},
            {"crypto isakmp policy 1\n authentication pre-share\ncrypto isakmp key k address 0.0.0.0 0.0.0.0\n"
             "crypto gdoi group G\n identity number 1\n server local\n  address ipv4 192.0.2.1\n",
             VPN_ERR_NOTFOUND, 6, "has no 'sa ipsec N'"},
            {"crypto isakmp policy 1\n authentication pre-share\ncrypto isakmp key k address 0.0.0.0 0.0.0.0\n"
             "crypto gdoi group G\n identity number 1\n server local\n  address ipv4 192.0.2.1\n  sa ipsec 1\n",
             VPN_ERR_NOTFOUND, 8, "sa ipsec 1 has no 'profile'"},
            {"crypto isakmp policy 1\n authentication pre-share\ncrypto isakmp key k address 0.0.0.0 0.0.0.0\n"
             "crypto gdoi group G\n identity number 1\n server local\n  address ipv4 192.0.2.1\n  sa ipsec 1\n"
             "   profile default\n",
             VPN_ERR_NOTFOUND, 8, "no 'match address ipv4 ACL'"},
            {"crypto isakmp policy 1\n authentication pre-share\ncrypto isakmp key k address 0.0.0.0 0.0.0.0\n"
             "access-list 101 permit ip any any\n"
             "crypto gdoi group G\n identity number 1\n server local\n  address ipv4 192.0.2.1\n  sa ipsec 1\n"
             "   profile default\n   match address ipv4 101\n",
             VPN_ERR_NOTFOUND, 7, "no 'rekey authentication mypubkey rsa LABEL'"},
        };
        vpn_sig_key *rsa = tu_gdoi_rsa_key();
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            vpn_conf *c = tu_conf_parse_ok(cases[i].text);
            vpn_gdoi_conf_ks kc;
            vpn_conf_error err;
            int rc = vpn_gdoi_ks_cfg_from_conf(c, NULL, rsa, &kc, &err);
            if (rc != cases[i].code || err.line != cases[i].line || !strstr(err.msg, cases[i].needle))
                fail_msg("case %zu: want %d at line %d containing '%s'; got %d at line %d: %s", i,
                         cases[i].code, cases[i].line, cases[i].needle, rc, err.line, err.msg);
            vpn_conf_del(c);
        }
        /* no group, a member's group, two key servers and no name */
        {
            vpn_conf *c = tu_conf_parse_ok("crypto gdoi group A\n identity number 1\n server local\n"
                                   "crypto gdoi group B\n identity number 2\n server local\n"
                                   "crypto gdoi group C\n identity number 3\n server address ipv4 192.0.2.1\n");
            vpn_gdoi_conf_ks kc;
            vpn_conf_error err;
            assert_int_equal(vpn_gdoi_ks_cfg_from_conf(c, NULL, rsa, &kc, &err), VPN_ERR_POLICY);
            assert_int_equal(err.line, 4);
            assert_int_equal(vpn_gdoi_ks_cfg_from_conf(c, "C", rsa, &kc, &err), VPN_ERR_NOTFOUND);
            assert_int_equal(err.line, 7);
            assert_non_null(strstr(err.msg, "not a key server"));
            assert_int_equal(vpn_gdoi_ks_cfg_from_conf(c, "Z", rsa, &kc, &err), VPN_ERR_NOTFOUND);
            assert_non_null(strstr(err.msg, "group Z is not configured"));
            vpn_conf_del(c);
            c = tu_conf_parse_ok("hostname X\n");
            assert_int_equal(vpn_gdoi_ks_cfg_from_conf(c, NULL, rsa, &kc, &err), VPN_ERR_NOTFOUND);
            assert_non_null(strstr(err.msg, "no 'crypto gdoi group' with 'server local'"));
            vpn_conf_del(c);
        }
        vpn_sig_key_del(rsa);
    }
}

static void gm_error(const char *text, const char *iface, int code, int line, const char *needle)
{
    vpn_conf *c = tu_conf_parse_ok(text);
    vpn_conf_error err;
    vpn_gdoi_conf_gm gc;
    vpn_sad *sad;
    vpn_spd *spd;
    vpn_drbg d;
    vpn_rng r;
    int rc;

    vpn_drbg_init(&d, "gm", 2);
    vpn_rng_init_drbg(&r, &d);
    assert_int_equal(vpn_sad_new(&sad, &r), 0);
    assert_int_equal(vpn_spd_new(&spd, VPN_SPD_BYPASS), 0);
    rc = vpn_gdoi_gm_cfg_from_conf(c, iface, NULL, sad, spd, &gc, &err);
    if (rc != code || err.line != line || strstr(err.msg, needle) == NULL)
        fail_msg("want %d at line %d containing '%s'; got %d at line %d: %s", code, line, needle, rc,
                 err.line, err.msg);
    vpn_conf_del(c);
    vpn_spd_del(spd);
    vpn_sad_del(sad);
    vpn_drbg_free(&d);
}

#define GM_P1 "crypto isakmp policy 1\n authentication pre-share\ncrypto isakmp key k address 192.0.2.1\n"

static void test_gm_errors(void **state)
{
    (void)state;
    gm_error("hostname X\n", NULL, VPN_ERR_NOTFOUND, 0, "no interface has a 'crypto map'");
    gm_error("interface Gi0\n", "Gi0", VPN_ERR_NOTFOUND, 1, "interface Gi0 has no 'crypto map'");
    gm_error("interface Gi0\n", "Gi9", VPN_ERR_NOTFOUND, 0, "interface Gi9 is not configured");
    gm_error("crypto gdoi group G\n identity number 1\n server local\n"
             "crypto map M 10 gdoi\n set group G\ninterface Gi0\n crypto map M\n",
             NULL, VPN_ERR_POLICY, 5, "is a key server's");
    gm_error("crypto gdoi group G\n identity number 1\n"
             "crypto map M 10 gdoi\n set group G\ninterface Gi0\n crypto map M\n",
             NULL, VPN_ERR_NOTFOUND, 1, "has no 'server address ipv4 A'");
    gm_error("crypto gdoi group G\n identity number 1\n server address ipv4 192.0.2.1\n"
             "crypto map M 10 gdoi\n set group G\ninterface Gi0\n crypto map M\n",
             NULL, VPN_ERR_NOTFOUND, 6, "Gi0 has no IPv4 address");
    gm_error("crypto gdoi group G\n identity number 1\n server address ipv4 192.0.2.1\n"
             "crypto map M 10 gdoi\n set group G\ninterface Gi0\n ip address 10.0.0.1 255.0.0.0\n crypto map M\n",
             NULL, VPN_ERR_NOTFOUND, 0, "no 'crypto isakmp policy'");
    gm_error("crypto isakmp policy 1\n authentication pre-share\ncrypto isakmp key k address 192.0.2.9\n"
             "crypto gdoi group G\n identity number 1\n server address ipv4 192.0.2.1\n"
             "crypto map M 10 gdoi\n set group G\ninterface Gi0\n ip address 10.0.0.1 255.0.0.0\n crypto map M\n",
             NULL, VPN_ERR_AUTH, 6, "no ISAKMP policy has a key for key server 192.0.2.1");
    gm_error(GM_P1 "crypto gdoi group G\n identity number 1\n server address ipv4 192.0.2.1\n"
                   "crypto map M 10 gdoi\n set group G\n"
                   "interface Gi0\n ip address 10.0.0.1 255.0.0.0\n crypto map M\n"
                   "interface Gi1\n ip address 10.0.0.2 255.0.0.0\n crypto map M\n",
             NULL, VPN_ERR_POLICY, 14, "several interfaces have a crypto map");
    gm_error(GM_P1 "crypto gdoi group G\n identity number 1\n server address ipv4 192.0.2.1\n"
                   "crypto map M 10 gdoi\n set group G\n"
                   "interface Gi0\n ip address 10.0.0.1 255.0.0.0\n crypto map M\n"
                   "interface Gi1\n ip address 10.0.0.2 255.0.0.0\n crypto map M\n",
             "Gi1", 0, 0, "");
}

/* A missing conf or out fails VPN_ERR_INVAL on both the KS and the GM side,
 * replacing whatever an earlier call left in err. */
static void test_null_args(void **state)
{
    (void)state;
    vpn_conf *c = tu_conf_parse_ok("hostname X\n");
    vpn_conf_error err;
    vpn_gdoi_conf_ks ks;
    vpn_gdoi_conf_gm gm;
    vpn_sad *sad;
    vpn_spd *spd;
    vpn_drbg d;
    vpn_rng r;

    vpn_drbg_init(&d, "gm", 2);
    vpn_rng_init_drbg(&r, &d);
    assert_int_equal(vpn_sad_new(&sad, &r), 0);
    assert_int_equal(vpn_spd_new(&spd, VPN_SPD_BYPASS), 0);
    for (int i = 0; i < 4; i++) {
        int rc;
        err.line = 77;
        snprintf(err.msg, sizeof err.msg, "stale");
        switch (i) {
        case 0: rc = vpn_gdoi_ks_cfg_from_conf(NULL, NULL, NULL, &ks, &err); break;
        case 1: rc = vpn_gdoi_ks_cfg_from_conf(c, NULL, NULL, NULL, &err); break;
        case 2: rc = vpn_gdoi_gm_cfg_from_conf(NULL, NULL, NULL, sad, spd, &gm, &err); break;
        default: rc = vpn_gdoi_gm_cfg_from_conf(c, NULL, NULL, sad, spd, NULL, &err); break;
        }
        assert_int_equal(rc, VPN_ERR_INVAL);
        assert_int_equal(err.line, 0);
        assert_string_equal(err.msg, "no configuration");
    }
    vpn_conf_del(c);
    vpn_spd_del(spd);
    vpn_sad_del(sad);
    vpn_drbg_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params_from_text),
        cmocka_unit_test(test_unicast_group),
        cmocka_unit_test(test_multicast_group),
        cmocka_unit_test(test_authorization),
        cmocka_unit_test(test_member_limit),
        cmocka_unit_test(test_8000_members),
        cmocka_unit_test(test_deadline_heap),
        cmocka_unit_test(test_coop_from_text),
        cmocka_unit_test(test_coop_multi_line),
        cmocka_unit_test(test_other_group),
        cmocka_unit_test(test_malformed_registration),
        cmocka_unit_test(test_acl_policy),
        cmocka_unit_test(test_ks_errors),
        cmocka_unit_test(test_gm_errors),
        cmocka_unit_test(test_null_args),
    };
    return cmocka_run_group_tests_name("gdoi-conf", tests, NULL, NULL);
}
