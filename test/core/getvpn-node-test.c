/*
 * vpn_getvpn_node (getvpn/getvpn.h) in memory with a counter clock: a key
 * server node and group member nodes registering through the node's
 * datagram demux, any-to-any traffic through the crypto-map data plane
 * (address preservation, DSCP and ECN on the outer header), deny lines and
 * traffic outside the policy passing in clear, unicast and multicast
 * rekeys under traffic with nothing lost, a replay older than the TBAR
 * window dropped and counted, an unauthorized member that gets no keys and
 * whose traffic the others refuse, a router in two groups, and hostile
 * datagrams and packets (counted, state unchanged).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf-expect.h"
#include "gdoi-net.h"
#include "pkt-build.h"
#include "test-util.h"

#include "common/rng.h"
#include "common/vpn-err.h"
#include "crypto/crypto-ids.h"
#include "gdoi/gdoi-conf.h"
#include "getvpn/getvpn.h"
#include "ipsec/esp.h"
#include "ipsec/ip.h"
#include "isakmp/isakmp-const.h"

#define NS 1000000000ull
#define MS 1000000ull
#define MAX_NODES 8
#define QCAP 64
#define DG_MAX 4096

typedef struct node {
    vpn_getvpn_node *n;
    vpn_addr wan;       /* the router's WAN address */
    unsigned site;      /* its LAN is 10.<site>.0.0/16 */
} node;

typedef struct net {
    vpn_drbg drbg;
    vpn_rng rng;
    vpn_sig_key *rsa;
    node nodes[MAX_NODES];
    unsigned nn;
    vpn_addr mcast;
    tu_gdoi_wire w;
    uint64_t now;
} net;

static void on_send(void *user, size_t group, const vpn_addr *src, const vpn_addr *dst,
                    const uint8_t *dg, size_t len, const uint8_t *view, size_t view_len)
{
    net *t = user;
    (void)group;
    tu_gdoi_wire_send(&t->w, src, dst, dg, len, view, view_len);
}

static bool is_mcast(const vpn_addr *a) { return (a->b[0] & 0xf0) == 0xe0; }

static void deliver(void *user, const tu_gdoi_dgram *d)
{
    net *t = user;
    for (unsigned i = 0; i < t->nn; i++)
        if (vpn_addr_eq(&d->dst, &t->nodes[i].wan) || is_mcast(&d->dst))
            vpn_getvpn_node_dgram_input(t->nodes[i].n, &d->src, &d->dst, d->b, d->len, t->now);
}

static uint64_t deadline(void *user)
{
    net *t = user;
    uint64_t d = UINT64_MAX;
    for (unsigned i = 0; i < t->nn; i++) {
        uint64_t x = vpn_getvpn_node_next_deadline(t->nodes[i].n);
        if (x < d)
            d = x;
    }
    return d;
}

static void tick(void *user, uint64_t now)
{
    net *t = user;
    for (unsigned i = 0; i < t->nn; i++)
        vpn_getvpn_node_timeout(t->nodes[i].n, now);
}

static void net_init(net *t)
{
    memset(t, 0, sizeof *t);
    tu_gdoi_wire_init(&t->w, QCAP, DG_MAX, &t->now, t);
    t->w.deliver = deliver;
    t->w.deadline = deadline;
    t->w.tick = tick;
    vpn_drbg_init(&t->drbg, "getvpn-node", 11);
    vpn_rng_init_drbg(&t->rng, &t->drbg);
    t->rsa = tu_gdoi_rsa_key();
    t->mcast = tu_addr("239.192.1.1");
    t->now = 5 * NS;
}

static void net_free(net *t)
{
    for (unsigned i = 0; i < t->nn; i++)
        vpn_getvpn_node_del(t->nodes[i].n);
    vpn_sig_key_del(t->rsa);
    vpn_drbg_free(&t->drbg);
    tu_gdoi_wire_free(&t->w);
}

/* The key server's group: any-to-any between the 10/8 sites. */
static void ks_group(net *t, vpn_getvpn_group_params *g, uint32_t gid, const char *addr,
                     const char *acl_src, const char *acl_dst, const vpn_addr *auth, size_t nauth,
                     uint32_t tbar)
{
    memset(g, 0, sizeof *g);
    g->role = VPN_GETVPN_ROLE_KS;
    g->ks.name = gid == 1234 ? "GETVPN" : "DEPT";
    g->ks.group_id = gid;
    g->ks.local = tu_addr(addr);
    g->ks.ike.psk = (const uint8_t *)"gdoi-psk";
    g->ks.ike.psk_len = 8;
    g->ks.ike.local_id = g->ks.local;
    g->ks.authorized = auth;
    g->ks.n_authorized = nauth;
    g->ks.tek.sel.family = VPN_AF_INET;
    vpn_prefix_parse(&g->ks.tek.sel.src, acl_src);
    vpn_prefix_parse(&g->ks.tek.sel.dst, acl_dst);
    g->ks.tek.encr_id = VPN_ENCR_AES_CBC;
    g->ks.tek.lifetime_s = 600;
    g->ks.tek.tbar_window_s = tbar;
    g->ks.kek_lifetime_s = 3000;
    g->ks.multicast = false;
    g->ks.mcast = t->mcast;
    g->ks.rekey_key = t->rsa;
}

static void gm_group(vpn_getvpn_group_params *g, uint32_t gid, const char *wan, const char *ks,
                     uint32_t map_seq)
{
    memset(g, 0, sizeof *g);
    g->role = VPN_GETVPN_ROLE_GM;
    g->gm.name = gid == 1234 ? "GETVPN" : "DEPT";
    g->gm.group_id = gid;
    g->gm.local = tu_addr(wan);
    g->gm.ks = tu_addr(ks);
    g->gm.ike.psk = (const uint8_t *)"gdoi-psk";
    g->gm.ike.psk_len = 8;
    g->map_seq = map_seq;
    g->start_ns = 0;
}

static node *add_node(net *t, const char *wan, unsigned site, const vpn_getvpn_group_params *g,
                      size_t ng)
{
    node *nd = &t->nodes[t->nn];
    vpn_getvpn_params p;

    memset(&p, 0, sizeof p);
    p.groups = g;
    p.n_groups = ng;
    p.rng = &t->rng;
    p.send = on_send;
    p.user = t;
    p.now = t->now;
    assert_int_equal(vpn_getvpn_node_new(&nd->n, &p), 0);
    nd->wan = tu_addr(wan);
    nd->site = site;
    t->nn++;
    return nd;
}

/*
 * The standard network: node 0 is the KS (192.0.2.1), nodes 1..ngm are
 * members at 198.51.100.(10+i) with sites 10.i.0.0/16; member 1 has a
 * local deny line for 10.9.0.0/16. auth: the KS's authorization list.
 */
static void net_std(net *t, unsigned ngm, const vpn_addr *auth, size_t nauth, uint32_t tbar)
{
    vpn_getvpn_group_params g;
    vpn_spd_sel deny;
    char a[32];

    net_init(t);
    ks_group(t, &g, 1234, "192.0.2.1", "10.0.0.0/8", "10.0.0.0/8", auth, nauth, tbar);
    add_node(t, "192.0.2.1", 0, &g, 1);
    memset(&deny, 0, sizeof deny);
    deny.family = VPN_AF_INET;
    vpn_prefix_parse(&deny.dst, "10.9.0.0/16");
    for (unsigned i = 1; i <= ngm; i++) {
        snprintf(a, sizeof a, "198.51.100.%u", 10 + i);
        gm_group(&g, 1234, a, "192.0.2.1", 10);
        if (i == 1) {
            g.deny = &deny;
            g.n_deny = 1;
        }
        add_node(t, a, i, &g, 1);
    }
}

static void run(net *t, uint64_t until) { tu_gdoi_run_until(&t->w, until, 10000); }

static const vpn_gdoi_gm *gm_of(net *t, unsigned i, size_t grp)
{
    return vpn_getvpn_node_gm(t->nodes[i].n, grp);
}

static const vpn_gdoi_ks *ks_of(net *t, unsigned i, size_t grp)
{
    return vpn_getvpn_node_ks(t->nodes[i].n, grp);
}

/* A packet in a buffer with ESP room around it. */
typedef struct pktbuf {
    uint8_t buf[2048];
    vpn_pkt p;
    uint8_t orig[1500];
    size_t olen;
} pktbuf;

static void mkpkt(pktbuf *b, const char *src, const char *dst, uint16_t sport, uint16_t dport,
                  uint8_t tos, uint32_t seed)
{
    uint8_t pay[160];
    vpn_addr s = tu_addr(src), d = tu_addr(dst);

    tu_fill(pay, sizeof pay, seed);
    vpn_pkt_init(&b->p, b->buf, sizeof b->buf, VPN_PKT_HEADROOM);
    b->p.len = tu_build_udp(vpn_pkt_data(&b->p), 1500, &s, &d, sport, dport, tos, pay, sizeof pay);
    b->olen = b->p.len;
    memcpy(b->orig, vpn_pkt_data(&b->p), b->olen);
}

/* Host .5 of site a to host .7 of site b. */
static void site_pkt(pktbuf *b, unsigned a, unsigned bsite, uint8_t tos, uint32_t seed)
{
    char s[32], d[32];
    snprintf(s, sizeof s, "10.%u.0.5", a);
    snprintf(d, sizeof d, "10.%u.0.7", bsite);
    mkpkt(b, s, d, 16384, 16384 + (uint16_t)bsite, tos, seed);
}

static int out(net *t, unsigned i, pktbuf *b, vpn_getvpn_drop *why)
{
    return vpn_getvpn_node_output(t->nodes[i].n, &b->p, t->now, why);
}

static int in(net *t, unsigned i, pktbuf *b, vpn_getvpn_drop *why)
{
    return vpn_getvpn_node_input(t->nodes[i].n, &b->p, t->now, why);
}

/* Encrypted at a, the outer header checked, decrypted at b, compared. */
static void send_ok(net *t, unsigned a, unsigned b, uint8_t tos, uint32_t seed)
{
    pktbuf pb;
    const uint8_t *o;

    site_pkt(&pb, t->nodes[a].site, t->nodes[b].site, tos, seed);
    assert_int_equal(out(t, a, &pb, NULL), VPN_GETVPN_ENCRYPTED);
    o = vpn_pkt_data(&pb.p);
    assert_int_equal(o[9], VPN_IPPROTO_ESP);
    /* RFC 6407 3.5.1 / RFC 5374: the outer header keeps the hosts' addresses */
    assert_memory_equal(o + 12, pb.orig + 12, 8);
    /* RFC 4301 5.1.2.1 DSCP copy, RFC 6040 normal mode ECN copy */
    assert_int_equal(o[1], tos);
    assert_int_equal(vpn_ip_csum(o, 20), 0);
    assert_int_equal(in(t, b, &pb, NULL), VPN_GETVPN_DECRYPTED);
    assert_int_equal(pb.p.len, pb.olen);
    assert_memory_equal(vpn_pkt_data(&pb.p), pb.orig, pb.olen);
}

static void assert_registered(net *t, unsigned i)
{
    tu_gdoi_assert_member((vpn_gdoi_gm *)gm_of(t, i, 0), ks_of(t, 0, 0));
}

static uint64_t total_drops(net *t)
{
    uint64_t s = 0;
    for (unsigned i = 0; i < t->nn; i++)
        for (int k = 0; k < VPN_GETVPN_DROP_COUNT; k++)
            s += vpn_getvpn_node_get_stats(t->nodes[i].n)->drops[k];
    return s;
}

/* The SPI of an ESP packet (after out()). */
static uint32_t esp_spi(pktbuf *b) { return vpn_load32(vpn_pkt_data(&b->p) + 20); }

/* No node index: node 0 is a key server in every test. */
#define NO_NODE 0u

/*
 * src -> dst (UDP sport -> dport, TOS tos) encrypted at node a, under SPI
 * spi unless that is 0; refused as UNKNOWN_SPI by node outsider (not in the
 * group; NO_NODE: none) and decrypted at node b back to its bytes.
 */
static void crossed(net *t, unsigned a, unsigned b, unsigned outsider, const char *src, const char *dst,
                    uint16_t sport, uint16_t dport, uint8_t tos, uint32_t spi, uint32_t seed)
{
    pktbuf pb, copy;
    vpn_getvpn_drop why;

    mkpkt(&pb, src, dst, sport, dport, tos, seed);
    assert_int_equal(out(t, a, &pb, NULL), VPN_GETVPN_ENCRYPTED);
    if (spi)
        assert_int_equal(esp_spi(&pb), spi);
    copy = pb;
    copy.p.buf = copy.buf; /* the copy points at its own bytes */
    assert_int_equal(in(t, b, &pb, NULL), VPN_GETVPN_DECRYPTED);
    assert_memory_equal(vpn_pkt_data(&pb.p), pb.orig, pb.olen);
    if (outsider != NO_NODE) {
        assert_int_equal(in(t, outsider, &copy, &why), VPN_GETVPN_DROP);
        assert_int_equal(why, VPN_GETVPN_DROP_UNKNOWN_SPI);
    }
}

/*
 * RFC 4301 5.2 step 4: src -> dst encrypted under tek anyway (a member that
 * encrypts more than the KS's policy says) is refused at node b for its
 * inner addresses.
 */
static void forged_refused(net *t, vpn_sa *tek, unsigned b, const char *src, const char *dst,
                           uint16_t sport, uint16_t dport, uint32_t seed)
{
    pktbuf pb;
    vpn_getvpn_drop why;

    mkpkt(&pb, src, dst, sport, dport, 0, seed);
    assert_int_equal(vpn_esp_encap(tek, &pb.p, t->now), 0);
    assert_int_equal(in(t, b, &pb, &why), VPN_GETVPN_DROP);
    assert_int_equal(why, VPN_GETVPN_DROP_INNER_POLICY);
}

/*
 * The key server of *ks (node 0, 192.0.2.1) and ngm members of its group
 * 1234 (nodes 1..ngm at 198.51.100.(10+i), sites i), run until registered.
 */
static void net_ks_gms(net *t, const vpn_getvpn_group_params *ks, unsigned ngm)
{
    vpn_getvpn_group_params g;
    char a[32];

    add_node(t, "192.0.2.1", 0, ks, 1);
    for (unsigned i = 1; i <= ngm; i++) {
        snprintf(a, sizeof a, "198.51.100.%u", 10 + i);
        gm_group(&g, 1234, a, "192.0.2.1", 10);
        add_node(t, a, i, &g, 1);
    }
    run(t, t->now + 2 * NS);
    for (unsigned i = 1; i <= ngm; i++)
        assert_registered(t, i);
}

/* ---- tests -------------------------------------------------------------------- */

static void test_register_and_any_to_any(void **state)
{
    net t;
    (void)state;

    net_std(&t, 3, NULL, 0, 0);
    /* nothing is sent before the members' start time comes */
    assert_int_equal(t.w.nq, 0);
    run(&t, t.now + 2 * NS);
    for (unsigned i = 1; i <= 3; i++)
        assert_registered(&t, i);
    assert_int_equal(vpn_gdoi_ks_members(ks_of(&t, 0, 0)), 3);
    /* every member decrypts every other member's traffic; EF and AF41,
     * with ECT(0) and CE */
    for (unsigned a = 1; a <= 3; a++)
        for (unsigned b = 1; b <= 3; b++)
            if (a != b) {
                send_ok(&t, a, b, 0xb8, a * 10 + b);
                send_ok(&t, a, b, 0x8a, a * 10 + b + 100);
                send_ok(&t, a, b, 0x8b, a * 10 + b + 200);
            }
    for (unsigned i = 1; i <= 3; i++) {
        const vpn_getvpn_stats *s = vpn_getvpn_node_get_stats(t.nodes[i].n);
        assert_int_equal(s->out_encrypted, 6);
        assert_int_equal(s->in_decrypted, 6);
        assert_int_equal(s->dgrams_unclaimed + s->dgrams_refused, 0);
        assert_true(s->dgrams_in >= 4 && s->dgrams_out >= 4);
    }
    assert_int_equal(total_drops(&t), 0);
    net_free(&t);
}

static void test_clear_traffic(void **state)
{
    net t;
    pktbuf pb;
    vpn_getvpn_drop why;
    (void)state;

    net_std(&t, 2, NULL, 0, 0);
    /* before registration the member has no policy: traffic passes (IOS
     * fail-open default), and nothing is refused inbound either */
    site_pkt(&pb, 1, 2, 0, 1);
    assert_int_equal(out(&t, 1, &pb, NULL), VPN_GETVPN_PASS);
    assert_int_equal(in(&t, 2, &pb, NULL), VPN_GETVPN_PASS);
    run(&t, t.now + 2 * NS);
    assert_registered(&t, 1);

    /* the local deny line: 10.9.0.0/16 leaves in clear, unchanged */
    mkpkt(&pb, "10.1.0.5", "10.9.0.1", 1000, 2000, 0xb8, 2);
    assert_int_equal(out(&t, 1, &pb, NULL), VPN_GETVPN_PASS);
    assert_int_equal(pb.p.len, pb.olen);
    assert_memory_equal(vpn_pkt_data(&pb.p), pb.orig, pb.olen);
    /* member 2 has no such line: it encrypts the same flow */
    mkpkt(&pb, "10.2.0.5", "10.9.0.1", 1000, 2000, 0xb8, 2);
    assert_int_equal(out(&t, 2, &pb, NULL), VPN_GETVPN_ENCRYPTED);
    /* and member 1 accepts the returning clear traffic the deny covers */
    mkpkt(&pb, "10.9.0.1", "10.1.0.5", 2000, 1000, 0, 3);
    assert_int_equal(in(&t, 1, &pb, NULL), VPN_GETVPN_PASS);

    /* outside the policy: routing to the PE, management */
    mkpkt(&pb, "198.51.100.11", "198.51.100.1", 520, 520, 0xc0, 4);
    assert_int_equal(out(&t, 1, &pb, NULL), VPN_GETVPN_PASS);
    assert_memory_equal(vpn_pkt_data(&pb.p), pb.orig, pb.olen);
    assert_int_equal(in(&t, 1, &pb, NULL), VPN_GETVPN_PASS);
    /* GDOI itself, even between addresses inside the policy */
    mkpkt(&pb, "10.1.0.1", "10.2.0.1", 848, 848, 0, 5);
    assert_int_equal(out(&t, 1, &pb, NULL), VPN_GETVPN_PASS);
    assert_int_equal(in(&t, 2, &pb, NULL), VPN_GETVPN_PASS);

    /* a clear packet the policy covers is refused inbound (RFC 4301 5.2) */
    site_pkt(&pb, 1, 2, 0, 6);
    assert_int_equal(in(&t, 2, &pb, &why), VPN_GETVPN_DROP);
    assert_int_equal(why, VPN_GETVPN_DROP_CLEAR);
    assert_int_equal(vpn_getvpn_node_get_stats(t.nodes[2].n)->drops[VPN_GETVPN_DROP_CLEAR], 1);
    net_free(&t);
}

/*
 * Voice-like traffic, one packet every 20 ms each way between every pair
 * of members, while the KS rekeys, first by unicast, then by multicast
 * with a new KEK: every packet is encrypted when it is sent and decrypted
 * 40 ms later (so packets are in flight across each rekey), none is lost,
 * and the members end on the newest TEK.
 */
static void test_rekey_under_traffic(void **state)
{
    enum { N = 3, PER = N * (N - 1), SLOTS = 3 };
    net t;
    pktbuf *fl = calloc(SLOTS * PER, sizeof *fl);
    unsigned fl_to[SLOTS * PER], nfl[SLOTS] = {0};
    uint64_t sent = 0, got = 0;
    uint32_t spi0, spi1 = 0;
    vpn_gdoi_ks *ks;
    (void)state;

    assert_non_null(fl);
    net_std(&t, N, NULL, 0, 0);
    run(&t, t.now + 2 * NS);
    ks = vpn_getvpn_node_ks_mut(t.nodes[0].n, 0);
    spi0 = vpn_gdoi_ks_tek_spi(ks);
    for (unsigned step = 0; step < 400 + SLOTS; step++) {
        unsigned slot = step % SLOTS;
        /* what was sent two steps (40 ms) ago arrives */
        for (unsigned k = 0; k < nfl[slot]; k++) {
            pktbuf *pb = &fl[slot * PER + k];
            assert_int_equal(in(&t, fl_to[slot * PER + k], pb, NULL), VPN_GETVPN_DECRYPTED);
            assert_int_equal(pb->p.len, pb->olen);
            assert_memory_equal(vpn_pkt_data(&pb->p), pb->orig, pb->olen);
            got++;
        }
        nfl[slot] = 0;
        if (step == 100) /* 2 s in: a unicast rekey */
            assert_int_equal(vpn_gdoi_ks_rekey(ks, false, t.now), 0);
        if (step == 250) { /* 5 s in: a multicast one, with a new KEK */
            spi1 = vpn_gdoi_ks_tek_spi(ks);
            assert_int_not_equal(spi1, spi0);
            assert_int_equal(vpn_gdoi_ks_set_multicast(ks, true, &t.mcast), 0);
            assert_int_equal(vpn_gdoi_ks_rekey(ks, true, t.now), 0);
        }
        for (unsigned a = 1; a <= N && step < 400; a++)
            for (unsigned b = 1; b <= N; b++) {
                pktbuf *pb = &fl[slot * PER + nfl[slot]];
                if (a == b)
                    continue;
                site_pkt(pb, a, b, 0xb8, step * 16 + a * 4 + b);
                assert_int_equal(out(&t, a, pb, NULL), VPN_GETVPN_ENCRYPTED);
                fl_to[slot * PER + nfl[slot]++] = b;
                sent++;
            }
        /* (the previous step's rekey datagrams arrive 1 ms a hop) */
        run(&t, t.now + 20 * MS);
    }
    assert_int_equal(sent, 400 * PER);
    assert_int_equal(got, sent);
    assert_int_equal(total_drops(&t), 0);
    assert_int_not_equal(vpn_gdoi_ks_tek_spi(ks), spi1);
    for (unsigned i = 1; i <= N; i++) {
        assert_registered(&t, i);
        assert_int_equal(vpn_gdoi_gm_get_stats(gm_of(&t, i, 0))->rekeys, 2);
        /* the old TEKs stay for inbound traffic until their lifetime ends */
        assert_int_equal(vpn_sad_count(vpn_getvpn_node_sad(t.nodes[i].n, 0)), 3);
    }
    free(fl);
    net_free(&t);
}

static void test_tbar_replay(void **state)
{
    net t;
    pktbuf pb, copy;
    vpn_getvpn_drop why;
    (void)state;

    net_std(&t, 2, NULL, 0, 5); /* replay time window-size 5 */
    run(&t, t.now + 2 * NS);
    site_pkt(&pb, 1, 2, 0xb8, 9);
    assert_int_equal(out(&t, 1, &pb, NULL), VPN_GETVPN_ENCRYPTED);
    copy = pb;
    copy.p.buf = copy.buf; /* the copy points at its own bytes */
    assert_int_equal(in(&t, 2, &pb, NULL), VPN_GETVPN_DECRYPTED);
    /* the attacker replays it 10 s later, outside the +-5 s window */
    run(&t, t.now + 10 * NS);
    assert_int_equal(in(&t, 2, &copy, &why), VPN_GETVPN_DROP);
    assert_int_equal(why, VPN_GETVPN_DROP_TBAR);
    assert_int_equal(vpn_getvpn_node_get_stats(t.nodes[2].n)->drops[VPN_GETVPN_DROP_TBAR], 1);
    assert_int_equal(vpn_getvpn_node_get_stats(t.nodes[2].n)->in_decrypted, 1);
    /* fresh traffic still flows */
    send_ok(&t, 1, 2, 0xb8, 10);
    send_ok(&t, 2, 1, 0, 11);
    net_free(&t);
}

static void test_unauthorized_member(void **state)
{
    net t;
    vpn_addr auth[2] = {tu_addr("198.51.100.11"), tu_addr("198.51.100.12")};
    pktbuf pb;
    vpn_getvpn_drop why;
    uint8_t *o;
    (void)state;

    net_std(&t, 3, auth, 2, 0); /* member 3 (198.51.100.13) is not listed */
    run(&t, t.now + 2 * NS);
    assert_registered(&t, 1);
    assert_registered(&t, 2);
    assert_int_not_equal(vpn_gdoi_gm_get_state(gm_of(&t, 3, 0)), VPN_GDOI_GM_REGISTERED);
    assert_null(vpn_gdoi_gm_tek((vpn_gdoi_gm *)gm_of(&t, 3, 0)));
    assert_int_equal(vpn_sad_count(vpn_getvpn_node_sad(t.nodes[3].n, 0)), 0);
    assert_true(vpn_gdoi_ks_get_stats(ks_of(&t, 0, 0))->refused >= 1);
    assert_int_equal(vpn_gdoi_ks_members(ks_of(&t, 0, 0)), 2);
    /* it has no policy, so it sends in clear; the members refuse that */
    site_pkt(&pb, 3, 1, 0, 20);
    assert_int_equal(out(&t, 3, &pb, NULL), VPN_GETVPN_PASS);
    assert_int_equal(in(&t, 1, &pb, &why), VPN_GETVPN_DROP);
    assert_int_equal(why, VPN_GETVPN_DROP_CLEAR);
    /* an ESP packet it makes up (a group SPI guessed wrong) is refused */
    site_pkt(&pb, 1, 2, 0, 21);
    assert_int_equal(out(&t, 1, &pb, NULL), VPN_GETVPN_ENCRYPTED);
    o = vpn_pkt_data(&pb.p);
    o[20] ^= 0x55; /* another SPI */
    assert_int_equal(in(&t, 2, &pb, &why), VPN_GETVPN_DROP);
    assert_int_equal(why, VPN_GETVPN_DROP_UNKNOWN_SPI);
    /* and one with the right SPI but not the key */
    site_pkt(&pb, 1, 2, 0, 22);
    assert_int_equal(out(&t, 1, &pb, NULL), VPN_GETVPN_ENCRYPTED);
    vpn_pkt_data(&pb.p)[40] ^= 1;
    assert_int_equal(in(&t, 2, &pb, &why), VPN_GETVPN_DROP);
    assert_int_equal(why, VPN_GETVPN_DROP_AUTH);
    /* it keeps trying (and failing) without disturbing the others */
    run(&t, t.now + 60 * NS);
    assert_int_not_equal(vpn_gdoi_gm_get_state(gm_of(&t, 3, 0)), VPN_GDOI_GM_REGISTERED);
    send_ok(&t, 1, 2, 0xb8, 23);
    net_free(&t);
}

/*
 * Departments (the seed's intranets): two groups, two key servers; router
 * 2 and 3 are members of both on one WAN address, router 4 of the second
 * only. Each department's traffic goes under its own TEK, and router 4
 * cannot read the first department's.
 */
static void test_two_groups(void **state)
{
    net t;
    vpn_getvpn_group_params g[2];
    pktbuf pb;
    vpn_getvpn_drop why;
    uint32_t spi_a, spi_b;
    (void)state;

    net_init(&t);
    ks_group(&t, &g[0], 1234, "192.0.2.1", "10.0.0.0/16", "10.0.0.0/8", NULL, 0, 0);
    add_node(&t, "192.0.2.1", 0, g, 1);
    ks_group(&t, &g[0], 5678, "192.0.2.2", "10.128.0.0/9", "10.128.0.0/9", NULL, 0, 0);
    add_node(&t, "192.0.2.2", 0, g, 1);
    /* group A: 10.0.0.0/16 sources at router 2; B: 10.128/9 everywhere */
    gm_group(&g[0], 5678, "198.51.100.12", "192.0.2.2", 20);
    gm_group(&g[1], 1234, "198.51.100.12", "192.0.2.1", 10);
    add_node(&t, "198.51.100.12", 2, g, 2);
    gm_group(&g[0], 1234, "198.51.100.13", "192.0.2.1", 10);
    gm_group(&g[1], 5678, "198.51.100.13", "192.0.2.2", 20);
    add_node(&t, "198.51.100.13", 3, g, 2);
    gm_group(&g[0], 5678, "198.51.100.14", "192.0.2.2", 10);
    add_node(&t, "198.51.100.14", 4, g, 1);
    run(&t, t.now + 3 * NS);
    spi_a = vpn_gdoi_ks_tek_spi(ks_of(&t, 0, 0));
    spi_b = vpn_gdoi_ks_tek_spi(ks_of(&t, 1, 0));
    tu_gdoi_assert_member((vpn_gdoi_gm *)gm_of(&t, 2, 1), ks_of(&t, 0, 0));
    tu_gdoi_assert_member((vpn_gdoi_gm *)gm_of(&t, 2, 0), ks_of(&t, 1, 0));
    tu_gdoi_assert_member((vpn_gdoi_gm *)gm_of(&t, 3, 0), ks_of(&t, 0, 0));
    tu_gdoi_assert_member((vpn_gdoi_gm *)gm_of(&t, 3, 1), ks_of(&t, 1, 0));
    tu_gdoi_assert_member((vpn_gdoi_gm *)gm_of(&t, 4, 0), ks_of(&t, 1, 0));

    /* department A: router 2 -> 3, under A's TEK; router 4 is not in A */
    crossed(&t, 2, 3, 4, "10.0.2.5", "10.0.3.7", 1, 2, 0, spi_a, 30);
    /* department B: router 3 -> 4 and 4 -> 2, under B's TEK */
    crossed(&t, 3, 4, NO_NODE, "10.200.3.5", "10.201.4.7", 1, 2, 0x28, spi_b, 31);
    crossed(&t, 4, 2, NO_NODE, "10.201.4.5", "10.202.2.7", 1, 2, 0x28, 0, 32);
    /* router 4 is outside A: A's traffic leaves it in clear, and router 2,
     * a member of A, refuses it */
    mkpkt(&pb, "10.0.4.5", "10.0.2.7", 1, 2, 0, 33);
    assert_int_equal(out(&t, 4, &pb, NULL), VPN_GETVPN_PASS);
    assert_int_equal(in(&t, 2, &pb, &why), VPN_GETVPN_DROP);
    assert_int_equal(why, VPN_GETVPN_DROP_CLEAR);
    assert_int_equal(total_drops(&t), 2);
    net_free(&t);
}

/*
 * The seed's departments from IOS text: router A is a member of ENG (KS
 * 192.0.2.1, identity 1111, 10.1/16) and FIN (KS 192.0.2.9, identity
 * 2222, 10.2/16) through two crypto map entries, FIN's with a local deny
 * ACL; router B is in ENG only, router C in FIN only. Each of A's groups
 * registers with its own KS and encrypts with its own TEK; only that
 * group's members decrypt it; the local deny lines send their traffic in
 * clear and accept it in clear.
 */
static const char dept_gm[] =
    "hostname A\n"
    "crypto isakmp policy 10\n"
    " authentication pre-share\n"
    "crypto isakmp key gdoi-psk address 192.0.2.1\n"
    "crypto isakmp key gdoi-psk address 192.0.2.9\n"
    "crypto gdoi group ENG\n"
    " identity number 1111\n"
    " server address ipv4 192.0.2.1\n"
    "crypto gdoi group FIN\n"
    " identity number 2222\n"
    " server address ipv4 192.0.2.9\n"
    "ip access-list extended FIN-LOCAL\n"
    " deny udp 10.2.0.0 0.0.255.255 any eq 514\n"
    " deny ip host 10.2.0.9 any\n"
    "crypto map DEPTS 20 gdoi\n"
    " set group FIN\n"
    " match address FIN-LOCAL\n"
    "crypto map DEPTS 10 gdoi\n"
    " set group ENG\n"
    "interface Gi0/1\n"
    " ip address 198.51.100.12 255.255.255.0\n"
    " crypto map DEPTS\n";

static void test_departments_from_text(void **state)
{
    net t;
    vpn_getvpn_group_params g[2];
    vpn_gdoi_conf_gm gc[2];
    vpn_conf_error err;
    vpn_conf *c;
    pktbuf pb;
    vpn_getvpn_drop why;
    uint32_t spi_eng, spi_fin;
    (void)state;

    net_init(&t);
    ks_group(&t, &g[0], 1111, "192.0.2.1", "10.1.0.0/16", "10.1.0.0/16", NULL, 0, 0);
    add_node(&t, "192.0.2.1", 0, g, 1);
    ks_group(&t, &g[0], 2222, "192.0.2.9", "10.2.0.0/16", "10.2.0.0/16", NULL, 0, 0);
    add_node(&t, "192.0.2.9", 0, g, 1);
    /* router A (node 2) from its configuration: one member group per entry */
    c = tu_conf_parse_ok(dept_gm);
    assert_int_equal(vpn_gdoi_conf_gm_entries(c, NULL), 2);
    for (size_t e = 0; e < 2; e++) {
        assert_int_equal(vpn_gdoi_gm_cfg_from_conf_entry(c, NULL, e, NULL, NULL, NULL, &gc[e], &err), 0);
        memset(&g[e], 0, sizeof g[e]);
        g[e].role = VPN_GETVPN_ROLE_GM;
        g[e].gm = gc[e].cfg;
        g[e].map_seq = gc[e].map->seq;
        g[e].deny = gc[e].deny;
        g[e].n_deny = gc[e].n_deny;
    }
    assert_int_equal(gc[0].cfg.group_id, 1111);
    assert_int_equal(gc[1].cfg.group_id, 2222);
    assert_int_equal(gc[0].n_deny, 0);
    assert_int_equal(gc[1].n_deny, 2);
    assert_int_equal(gc[1].deny[0].dport_lo, 514);
    assert_int_equal(gc[1].deny[1].src.len, 32);
    add_node(&t, "198.51.100.12", 2, g, 2);
    /* (the node copied what it needs: gc may be reused) */
    assert_int_equal(vpn_gdoi_gm_cfg_from_conf_entry(c, NULL, 2, NULL, NULL, NULL, &gc[0], &err),
                     VPN_ERR_NOTFOUND);
    vpn_conf_del(c);
    /* B (node 3) in ENG only, C (node 4) in FIN only */
    gm_group(&g[0], 1111, "198.51.100.13", "192.0.2.1", 10);
    add_node(&t, "198.51.100.13", 1, g, 1);
    gm_group(&g[0], 2222, "198.51.100.14", "192.0.2.9", 10);
    add_node(&t, "198.51.100.14", 2, g, 1);
    run(&t, t.now + 3 * NS);
    tu_gdoi_assert_member((vpn_gdoi_gm *)gm_of(&t, 2, 0), ks_of(&t, 0, 0));
    tu_gdoi_assert_member((vpn_gdoi_gm *)gm_of(&t, 2, 1), ks_of(&t, 1, 0));
    tu_gdoi_assert_member((vpn_gdoi_gm *)gm_of(&t, 3, 0), ks_of(&t, 0, 0));
    tu_gdoi_assert_member((vpn_gdoi_gm *)gm_of(&t, 4, 0), ks_of(&t, 1, 0));
    assert_int_equal(vpn_gdoi_ks_members(ks_of(&t, 0, 0)), 2);
    assert_int_equal(vpn_gdoi_ks_members(ks_of(&t, 1, 0)), 2);
    spi_eng = vpn_gdoi_ks_tek_spi(ks_of(&t, 0, 0));
    spi_fin = vpn_gdoi_ks_tek_spi(ks_of(&t, 1, 0));
    assert_int_not_equal(spi_eng, spi_fin);

    /* ENG: A -> B under ENG's TEK; C cannot read it */
    crossed(&t, 2, 3, 4, "10.1.0.5", "10.1.1.7", 1, 2, 0, spi_eng, 70);
    /* FIN: A -> C under FIN's TEK; B cannot read it */
    crossed(&t, 2, 4, 3, "10.2.0.5", "10.2.1.7", 1, 2, 0, spi_fin, 71);
    /* and back: B -> A (ENG), C -> A (FIN) */
    crossed(&t, 3, 2, NO_NODE, "10.1.1.7", "10.1.0.5", 2, 1, 0, 0, 72);
    crossed(&t, 4, 2, NO_NODE, "10.2.1.7", "10.2.0.5", 2, 1, 0, 0, 73);
    /* FIN traffic under ENG's TEK (a member of ENG only trying it) is not
     * FIN's policy at an ENG member: refused */
    forged_refused(&t, vpn_gdoi_gm_tek((vpn_gdoi_gm *)gm_of(&t, 3, 0)), 2, "10.2.1.7", "10.2.0.5", 2, 1, 74);
    /* the local deny lines of A's FIN entry: clear out, clear accepted in */
    mkpkt(&pb, "10.2.0.5", "10.2.1.7", 1000, 514, 0, 75);
    assert_int_equal(out(&t, 2, &pb, NULL), VPN_GETVPN_PASS);
    assert_memory_equal(vpn_pkt_data(&pb.p), pb.orig, pb.olen);
    mkpkt(&pb, "10.2.0.9", "10.2.1.7", 1, 2, 0, 76);
    assert_int_equal(out(&t, 2, &pb, NULL), VPN_GETVPN_PASS);
    mkpkt(&pb, "10.2.1.7", "10.2.0.9", 2, 1, 0, 77);
    assert_int_equal(in(&t, 2, &pb, NULL), VPN_GETVPN_PASS);
    /* ... while the same clear flow to another host is refused */
    mkpkt(&pb, "10.2.1.7", "10.2.0.5", 2, 1, 0, 78);
    assert_int_equal(in(&t, 2, &pb, &why), VPN_GETVPN_DROP);
    assert_int_equal(why, VPN_GETVPN_DROP_CLEAR);
    net_free(&t);
}

/* A member's policy check of decrypted packets: inner outside the policy. */
static void test_inner_policy(void **state)
{
    net t;
    vpn_getvpn_group_params g;
    pktbuf pb;
    vpn_getvpn_drop why;
    (void)state;

    net_init(&t);
    /* the KS protects 10.1/16 <-> 10.2/16 only */
    ks_group(&t, &g, 1234, "192.0.2.1", "10.1.0.0/16", "10.2.0.0/16", NULL, 0, 0);
    net_ks_gms(&t, &g, 2);
    crossed(&t, 1, 2, NO_NODE, "10.1.0.5", "10.2.0.7", 1, 2, 0, 0, 40);
    /* the policy is one direction: the reverse flow is not protected by
     * senders, so it leaves in clear and is accepted in clear */
    mkpkt(&pb, "10.2.0.7", "10.1.0.5", 2, 1, 0, 41);
    assert_int_equal(out(&t, 2, &pb, NULL), VPN_GETVPN_PASS);
    assert_int_equal(in(&t, 1, &pb, NULL), VPN_GETVPN_PASS);
    /* an encrypted packet whose inner addresses the policy does not
     * cover (a member that encrypts more than the KS said) is refused:
     * made here with member 1's TEK on a packet it would send clear */
    forged_refused(&t, vpn_gdoi_gm_tek((vpn_gdoi_gm *)gm_of(&t, 1, 0)), 2, "10.1.0.5", "10.3.0.7", 1, 2, 43);
    /* 10.3/16 is outside: clear both ways */
    mkpkt(&pb, "10.1.0.5", "10.3.0.7", 1, 2, 0, 42);
    assert_int_equal(out(&t, 1, &pb, &why), VPN_GETVPN_PASS);
    assert_int_equal(in(&t, 2, &pb, &why), VPN_GETVPN_PASS);
    net_free(&t);
}


/*
 * A TEK policy of several lines, as the KS translates an ACL `deny udp
 * 10.1/16 10.2/16 eq 5060, permit udp 10.1/16 10.2/16, permit udp 10.3/16
 * 10.1/16 eq 443`: each permitted flow is encrypted with the group's TEK
 * and decrypted by its receiver, the denied flow and traffic outside
 * pass in clear both ways, and a rekey moves every line to the new TEK.
 */
static void test_multi_line_policy(void **state)
{
    net t;
    vpn_getvpn_group_params g;
    vpn_gdoi_ks *ks;
    pktbuf pb;
    uint32_t spi;
    (void)state;

    net_init(&t);
    ks_group(&t, &g, 1234, "192.0.2.1", "10.1.0.0/16", "10.2.0.0/16", NULL, 0, 0);
    g.ks.tek.sel.proto = 17;
    g.ks.tek.sel.dport_lo = g.ks.tek.sel.dport_hi = 5060;
    g.ks.tek.more[0] = g.ks.tek.sel;
    g.ks.tek.more[0].dport_lo = g.ks.tek.more[0].dport_hi = 0;
    g.ks.tek.more[1] = g.ks.tek.more[0];
    vpn_prefix_parse(&g.ks.tek.more[1].src, "10.3.0.0/16");
    vpn_prefix_parse(&g.ks.tek.more[1].dst, "10.1.0.0/16");
    g.ks.tek.more[1].dport_lo = g.ks.tek.more[1].dport_hi = 443;
    g.ks.tek.n_more = 2;
    g.ks.tek.deny_mask = 1;
    net_ks_gms(&t, &g, 3);
    ks = (vpn_gdoi_ks *)ks_of(&t, 0, 0);

    for (int round = 0; round < 2; round++) {
        spi = vpn_gdoi_ks_tek_spi(ks);
        /* the second line: encrypted with the TEK, decrypted at site 2 */
        crossed(&t, 1, 2, NO_NODE, "10.1.0.5", "10.2.0.7", 4000, 4000, 0, spi, 50);
        /* the third line: the same TEK, decrypted at site 1 */
        crossed(&t, 3, 1, NO_NODE, "10.3.0.5", "10.1.0.7", 4000, 443, 0, spi, 51);
        /* the deny line before the permit: clear, and accepted clear */
        mkpkt(&pb, "10.1.0.5", "10.2.0.7", 4000, 5060, 0, 52);
        assert_int_equal(out(&t, 1, &pb, NULL), VPN_GETVPN_PASS);
        assert_memory_equal(vpn_pkt_data(&pb.p), pb.orig, pb.olen);
        assert_int_equal(in(&t, 2, &pb, NULL), VPN_GETVPN_PASS);
        /* outside every line: clear */
        mkpkt(&pb, "10.3.0.5", "10.1.0.7", 4000, 80, 0, 53);
        assert_int_equal(out(&t, 3, &pb, NULL), VPN_GETVPN_PASS);
        assert_int_equal(in(&t, 1, &pb, NULL), VPN_GETVPN_PASS);
        /* a clear packet a permit line covers is still refused */
        mkpkt(&pb, "10.1.0.5", "10.2.0.7", 4000, 4000, 0, 54);
        assert_int_equal(in(&t, 2, &pb, NULL), VPN_GETVPN_DROP);
        /* the rekey carries every line */
        if (round == 0) {
            assert_int_equal(vpn_gdoi_ks_rekey(ks, false, t.now), 0);
            run(&t, t.now + 2 * NS);
            assert_int_not_equal(vpn_gdoi_ks_tek_spi(ks), spi);
            for (unsigned i = 1; i <= 3; i++)
                assert_registered(&t, i);
        }
    }
    net_free(&t);
}

/*
 * RFC 4301 5.2 step 4 with deny lines: a packet that arrives encrypted
 * under the group's TEK but that the KS's policy denies (a deny line
 * before a permit, which senders leave in clear) is not accepted:
 * dropped and counted, even though the group's SPD has an entry (a
 * bypass) for it.
 */
static void test_inner_deny_line(void **state)
{
    net t;
    vpn_getvpn_group_params g;
    pktbuf pb;
    vpn_sa *tek;
    uint64_t before;
    (void)state;

    net_init(&t);
    ks_group(&t, &g, 1234, "192.0.2.1", "10.1.0.0/16", "10.2.0.0/16", NULL, 0, 0);
    g.ks.tek.sel.proto = 17;
    g.ks.tek.sel.dport_lo = g.ks.tek.sel.dport_hi = 5060;
    g.ks.tek.more[0] = g.ks.tek.sel;
    g.ks.tek.more[0].dport_lo = g.ks.tek.more[0].dport_hi = 0;
    g.ks.tek.n_more = 1;
    g.ks.tek.deny_mask = 1;
    net_ks_gms(&t, &g, 2);
    tek = vpn_gdoi_gm_tek((vpn_gdoi_gm *)gm_of(&t, 1, 0));
    /* the permit line: fine */
    mkpkt(&pb, "10.1.0.5", "10.2.0.7", 4000, 4000, 0, 60);
    assert_int_equal(vpn_esp_encap(tek, &pb.p, t.now), 0);
    assert_int_equal(in(&t, 2, &pb, NULL), VPN_GETVPN_DECRYPTED);
    /* the deny line's flow, encrypted anyway */
    before = vpn_getvpn_node_get_stats(t.nodes[2].n)->drops[VPN_GETVPN_DROP_INNER_POLICY];
    forged_refused(&t, tek, 2, "10.1.0.5", "10.2.0.7", 4000, 5060, 61);
    /* the mirror of the deny line's flow too (the mirror is accepted
     * only for a permit line) */
    forged_refused(&t, tek, 2, "10.2.0.7", "10.1.0.5", 5060, 4000, 62);
    assert_int_equal(vpn_getvpn_node_get_stats(t.nodes[2].n)->drops[VPN_GETVPN_DROP_INNER_POLICY],
                     before + 2);
    assert_int_equal(vpn_getvpn_node_get_stats(t.nodes[2].n)->in_decrypted, 1);
    net_free(&t);
}

/* Hostile datagrams and packets: dropped, counted, state unchanged. */
static void test_hostile(void **state)
{
    net t;
    pktbuf pb;
    vpn_getvpn_drop why;
    uint8_t junk[200];
    const vpn_getvpn_stats *s;
    vpn_addr src = tu_addr("203.0.113.66"), mc;
    (void)state;

    net_std(&t, 2, NULL, 0, 0);
    run(&t, t.now + 2 * NS);
    s = vpn_getvpn_node_get_stats(t.nodes[1].n);
    /* datagrams: short, unknown cookies, a PUSH with the member's KEK SPI
     * but garbage inside, the same by multicast */
    tu_fill(junk, sizeof junk, 77);
    assert_int_equal(vpn_getvpn_node_dgram_input(t.nodes[1].n, &src, &t.nodes[1].wan, junk, 10,
                                                 t.now),
                     VPN_ERR_MALFORMED);
    assert_int_equal(vpn_getvpn_node_dgram_input(t.nodes[1].n, &src, &t.nodes[1].wan, junk,
                                                 sizeof junk, t.now),
                     VPN_ERR_NOTFOUND);
    memcpy(junk, vpn_gdoi_gm_kek_spi(gm_of(&t, 1, 0)), 16);
    junk[16] = 8;
    junk[17] = 0x10;
    junk[18] = VPN_GDOI_EXCH_PUSH;
    junk[19] = 1;
    vpn_store32(junk + 24, sizeof junk);
    assert_true(vpn_getvpn_node_dgram_input(t.nodes[1].n, &src, &t.nodes[1].wan, junk,
                                            sizeof junk, t.now) < 0);
    mc = t.mcast;
    assert_true(vpn_getvpn_node_dgram_input(t.nodes[1].n, &src, &mc, junk, sizeof junk, t.now) <
                0);
    /* to the KS: garbage */
    assert_true(vpn_getvpn_node_dgram_input(t.nodes[0].n, &src, &t.nodes[0].wan, junk + 1,
                                            sizeof junk - 1, t.now) < 0);
    assert_int_equal(s->dgrams_unclaimed, 2);
    assert_int_equal(s->dgrams_refused, 2);
    assert_int_equal(vpn_getvpn_node_get_stats(t.nodes[0].n)->dgrams_refused, 1);
    assert_registered(&t, 1);

    /* packets: not IP, a truncated header, ESP too short for its header */
    vpn_pkt_init(&pb.p, pb.buf, sizeof pb.buf, VPN_PKT_HEADROOM);
    memcpy(vpn_pkt_data(&pb.p), junk, 40);
    pb.p.len = 40;
    vpn_pkt_data(&pb.p)[0] = 0x12;
    assert_int_equal(out(&t, 1, &pb, &why), VPN_GETVPN_DROP);
    assert_int_equal(why, VPN_GETVPN_DROP_MALFORMED);
    assert_int_equal(in(&t, 1, &pb, &why), VPN_GETVPN_DROP);
    assert_int_equal(why, VPN_GETVPN_DROP_MALFORMED);
    site_pkt(&pb, 1, 2, 0, 50);
    pb.p.len = 12;
    assert_int_equal(in(&t, 2, &pb, &why), VPN_GETVPN_DROP);
    assert_int_equal(why, VPN_GETVPN_DROP_MALFORMED);
    site_pkt(&pb, 1, 2, 0, 51);
    assert_int_equal(out(&t, 1, &pb, NULL), VPN_GETVPN_ENCRYPTED);
    vpn_ip_info ii;
    assert_int_equal(vpn_ip_parse(vpn_pkt_data(&pb.p), pb.p.len, &ii), 0);
    /* cut to the IP header and 4 bytes of ESP, with a consistent length */
    pb.p.len = 24;
    vpn_store16(vpn_pkt_data(&pb.p) + 2, 24);
    vpn_ip4_csum_set(vpn_pkt_data(&pb.p));
    assert_int_equal(in(&t, 2, &pb, &why), VPN_GETVPN_DROP);
    assert_int_equal(why, VPN_GETVPN_DROP_MALFORMED);
    /* ESP with a known SPI, truncated body */
    site_pkt(&pb, 1, 2, 0, 52);
    assert_int_equal(out(&t, 1, &pb, NULL), VPN_GETVPN_ENCRYPTED);
    pb.p.len = 40;
    vpn_store16(vpn_pkt_data(&pb.p) + 2, 40);
    vpn_ip4_csum_set(vpn_pkt_data(&pb.p));
    assert_int_equal(in(&t, 2, &pb, &why), VPN_GETVPN_DROP);
    assert_int_equal(why, VPN_GETVPN_DROP_DECAP);
    /* still working */
    send_ok(&t, 1, 2, 0xb8, 53);
    send_ok(&t, 2, 1, 0xb8, 54);
    net_free(&t);
}

static void test_params(void **state)
{
    net t;
    vpn_getvpn_group_params g[2];
    vpn_getvpn_params p;
    vpn_getvpn_node *n = NULL;
    vpn_spd_sel bad;
    (void)state;

    net_init(&t);
    memset(&p, 0, sizeof p);
    p.rng = &t.rng;
    p.send = on_send;
    p.user = &t;
    p.groups = g;
    assert_int_equal(vpn_getvpn_node_new(&n, &p), VPN_ERR_INVAL); /* no groups */
    ks_group(&t, &g[0], 1234, "192.0.2.1", "10.0.0.0/8", "10.0.0.0/8", NULL, 0, 0);
    ks_group(&t, &g[1], 5678, "192.0.2.1", "10.0.0.0/8", "10.0.0.0/8", NULL, 0, 0);
    p.n_groups = 2;
    assert_int_equal(vpn_getvpn_node_new(&n, &p), VPN_ERR_INVAL); /* one address, two KSs */
    p.n_groups = VPN_GETVPN_MAX_GROUPS + 1;
    assert_int_equal(vpn_getvpn_node_new(&n, &p), VPN_ERR_INVAL);
    /* a bad deny selector after a good KS: nothing leaks (ASan twin) */
    gm_group(&g[1], 1234, "198.51.100.11", "192.0.2.1", 10);
    memset(&bad, 0, sizeof bad);
    bad.family = 5;
    g[1].deny = &bad;
    g[1].n_deny = 1;
    p.n_groups = 2;
    assert_int_equal(vpn_getvpn_node_new(&n, &p), VPN_ERR_INVAL);
    g[1].role = 7;
    assert_int_equal(vpn_getvpn_node_new(&n, &p), VPN_ERR_INVAL);
    /* a member whose KS has no address */
    gm_group(&g[1], 1234, "198.51.100.11", "192.0.2.1", 10);
    memset(&g[1].gm.ks, 0, sizeof g[1].gm.ks);
    assert_int_equal(vpn_getvpn_node_new(&n, &p), VPN_ERR_INVAL);
    p.send = NULL;
    assert_int_equal(vpn_getvpn_node_new(&n, &p), VPN_ERR_INVAL);
    assert_null(n);
    /* NULLs are refused, never fatal */
    assert_int_equal(vpn_getvpn_node_output(NULL, NULL, 0, NULL), VPN_ERR_INVAL);
    assert_int_equal(vpn_getvpn_node_input(NULL, NULL, 0, NULL), VPN_ERR_INVAL);
    assert_int_equal(vpn_getvpn_node_next_deadline(NULL), UINT64_MAX);
    assert_null(vpn_getvpn_node_get_stats(NULL));
    assert_string_equal(vpn_getvpn_drop_name(VPN_GETVPN_DROP_TBAR), "outside TBAR window");
    assert_string_equal(vpn_getvpn_drop_name(VPN_GETVPN_DROP_COUNT), "unknown");
    vpn_getvpn_node_del(NULL);
    net_free(&t);
}

/*
 * The engine contract for malformed input (issue 20): each datagram the KS,
 * the GM or the member's IKEv1 SA refuses is counted once in that engine's
 * `dropped`, whatever the reason; the member stays registered and traffic
 * flows. Garbage to the GM under its own phase-1 cookies reaches its IKEv1
 * SA (RFC 2409 Main Mode, RFC 6407 3: GDOI rides on it).
 */
static void test_garbage_counted_by_engines(void **state)
{
    net t;
    uint8_t d[320];
    vpn_gdoi_gm_stats g0, g1;
    vpn_gdoi_ks_stats k0, k1;
    vpn_ikev1_sa_stats p0, p1;
    const vpn_gdoi_gm *gm;
    const vpn_gdoi_ks *ks;
    vpn_addr src = tu_addr("203.0.113.66");
    (void)state;

    net_std(&t, 2, NULL, 0, 0);
    run(&t, t.now + 2 * NS);
    assert_registered(&t, 1);
    gm = gm_of(&t, 1, 0);
    ks = ks_of(&t, 0, 0);
    for (uint32_t i = 0; i < 150; i++) {
        size_t len = 28 + (i * 31) % 290;
        int to = i % 3 == 2 ? 0 : 1;
        int rc;

        tu_fill(d, sizeof d, 4242 + i);
        d[16] = (uint8_t)(i % 7 == 0 ? 0 : 1 + i % 20); /* next payload, often absurd */
        d[17] = 0x10;
        d[19] = (uint8_t)(i % 2);                      /* flags: clear or "encrypted" */
        vpn_store32(d + 20, 0);
        vpn_store32(d + 24, (uint32_t)(i % 5 == 0 ? len + 9 : len));
        if (i % 3 == 0) { /* the member's own phase-1 SA: Main Mode garbage */
            memcpy(d, vpn_ikev1_sa_icookie(vpn_gdoi_gm_phase1(gm)), 8);
            memcpy(d + 8, vpn_ikev1_sa_rcookie(vpn_gdoi_gm_phase1(gm)), 8);
            d[18] = VPN_ISAKMP_EXCH_MAIN;
        } else if (i % 3 == 1) { /* a GROUPKEY-PULL the registered member is not waiting for */
            memcpy(d, vpn_ikev1_sa_icookie(vpn_gdoi_gm_phase1(gm)), 8);
            d[18] = VPN_GDOI_EXCH_PULL;
        } else { /* to the KS: Main Mode for cookies it never gave out */
            d[18] = VPN_ISAKMP_EXCH_MAIN;
            d[8] |= 0x01;
        }
        vpn_gdoi_gm_stats_get(gm, &g0);
        vpn_gdoi_ks_stats_get(ks, &k0);
        vpn_ikev1_sa_stats_get(vpn_gdoi_gm_phase1(gm), &p0);
        rc = vpn_getvpn_node_dgram_input(t.nodes[to].n, &src, &t.nodes[to].wan, d, len, t.now);
        assert_true(rc < 0);
        vpn_gdoi_gm_stats_get(gm, &g1);
        vpn_gdoi_ks_stats_get(ks, &k1);
        vpn_ikev1_sa_stats_get(vpn_gdoi_gm_phase1(gm), &p1);
        assert_int_equal(g1.dropped - g0.dropped, to == 1 ? 1 : 0);
        assert_int_equal(k1.dropped - k0.dropped, to == 0 ? 1 : 0);
        assert_int_equal(p1.dropped - p0.dropped, i % 3 == 0 ? 1 : 0);
        assert_int_equal(p1.in, p0.in);
    }
    /* NULL engines: zeros, not crashes (the getters are NULL-safe) */
    vpn_gdoi_gm_stats_get(NULL, &g0);
    vpn_gdoi_ks_stats_get(NULL, &k0);
    vpn_ikev1_sa_stats_get(NULL, &p0);
    assert_int_equal(g0.dropped + k0.dropped + p0.dropped + g0.registrations, 0);
    assert_null(vpn_gdoi_gm_get_stats(NULL));
    assert_int_equal(vpn_gdoi_ks_members(NULL), 0);
    assert_int_equal(vpn_gdoi_gm_input(NULL, d, 10, t.now), VPN_ERR_INVAL);
    assert_int_equal(vpn_gdoi_ks_input(NULL, &src, d, 10, t.now), VPN_ERR_INVAL);
    assert_int_equal(vpn_ikev1_sa_input(NULL, d, 10, t.now), VPN_ERR_INVAL);
    /* the params constructors (the KS and GM here were made by them, in getvpn.c) */
    {
        vpn_gdoi_ks *k = (vpn_gdoi_ks *)d;
        vpn_gdoi_gm *m = (vpn_gdoi_gm *)d;
        vpn_ikev1_sa *v = (vpn_ikev1_sa *)d;
        vpn_ikev1_sa_params ip;
        assert_int_equal(vpn_gdoi_ks_new_with(&k, NULL), VPN_ERR_INVAL);
        assert_null(k);
        assert_int_equal(vpn_gdoi_gm_new_with(&m, NULL), VPN_ERR_INVAL);
        assert_null(m);
        assert_int_equal(vpn_ikev1_sa_new_with(&v, NULL), VPN_ERR_INVAL);
        vpn_ikev1_sa_params_init(&ip);
        assert_int_equal(vpn_ikev1_sa_new_with(&v, &ip), VPN_ERR_INVAL); /* no PSK, no send */
    }
    assert_registered(&t, 1);
    send_ok(&t, 1, 2, 0, 60);
    send_ok(&t, 2, 1, 0, 61);
    net_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register_and_any_to_any),
        cmocka_unit_test(test_clear_traffic),
        cmocka_unit_test(test_rekey_under_traffic),
        cmocka_unit_test(test_tbar_replay),
        cmocka_unit_test(test_unauthorized_member),
        cmocka_unit_test(test_two_groups),
        cmocka_unit_test(test_departments_from_text),
        cmocka_unit_test(test_inner_policy),
        cmocka_unit_test(test_inner_deny_line),
        cmocka_unit_test(test_multi_line_policy),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_garbage_counted_by_engines),
        cmocka_unit_test(test_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
