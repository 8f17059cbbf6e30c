/*
 * GET VPN owned by the router core (router/router.h): a key-server router
 * and three member routers, each a vpn_router with its GDOI groups
 * attached, talking UDP 848 only through vpn_router_udp_input and
 * send_udp, timed only by vpn_router_next_deadline / _timeout (a counter
 * clock). Registration; the crypto map encrypting every pair's traffic with
 * the inner addresses outside (RFC 6407 3.5.1) and vpn_router_ip_input
 * delivering it with VPN_ROUTER_CRYPTO_MAP; traffic outside the policy
 * untouched; `crypto gdoi ks rekey` and `clear crypto gdoi` through the
 * router; the views; hostile datagrams and ESP counted as drops; a router
 * without GET VPN.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdoi-net.h"
#include "pkt-build.h"
#include "test-util.h"

#include "common/rng.h"
#include "common/vpn-err.h"
#include "crypto/crypto-ids.h"
#include "ikev1/ikev1.h"
#include "ipsec/ip.h"
#include "router/router.h"

#define NS 1000000000ull
#define NODES 4

typedef struct rnode {
    struct net *t;
    vpn_router *r;
    vpn_addr wan;
    unsigned site;             /* LAN 10.<site>.0.0/16 */
    uint8_t got[2048];         /* the last packet delivered */
    size_t got_len;
    uint32_t got_tunnel;
    unsigned delivered;
    /* key export (router events) */
    unsigned teks, esp_lines, v1_lines, other_lines;
    uint32_t last_tek;
} rnode;

typedef struct net {
    vpn_drbg drbg;
    vpn_rng rng;
    vpn_sig_key *rsa;
    rnode n[NODES];
    tu_gdoi_wire w;
    uint64_t now;
} net;

static void send_udp(void *user, const vpn_ikev2_dgram *d)
{
    rnode *nd = user;
    assert_int_equal(d->local.port, 848);
    assert_int_equal(d->remote.port, 848);
    assert_true(vpn_addr_eq(&d->local.addr, &nd->wan));
    tu_gdoi_wire_send(&nd->t->w, &d->local.addr, &d->remote.addr, d->data, d->len, NULL, 0);
}

static bool send_esp(void *user, const vpn_router_esp_out *o)
{
    (void)user;
    (void)o;
    return false; /* no tunnel here: the crypto map hands packets back */
}

static bool deliver(void *user, uint32_t tunnel, const uint8_t *data, size_t len)
{
    rnode *nd = user;
    assert_true(len <= sizeof nd->got);
    memcpy(nd->got, data, len);
    nd->got_len = len;
    nd->got_tunnel = tunnel;
    nd->delivered++;
    return true;
}

static vpn_router_drop udp_in(net *t, unsigned i, const vpn_addr *src, const vpn_addr *dst, const uint8_t *b,
                              size_t len)
{
    uint8_t buf[VPN_PKT_HEADROOM + 4096 + VPN_PKT_TAILROOM];
    vpn_ikev2_endpoint l = {*dst, 848}, r = {*src, 848};
    vpn_pkt p;

    assert_true(len <= 4096);
    vpn_pkt_init(&p, buf, sizeof buf, VPN_PKT_HEADROOM);
    memcpy(vpn_pkt_data(&p), b, len);
    p.len = len;
    return vpn_router_udp_input(t->n[i].r, t->now, &l, &r, &p);
}

static void wire_deliver(void *user, const tu_gdoi_dgram *d)
{
    net *t = user;
    for (unsigned i = 0; i < NODES; i++)
        if (vpn_addr_eq(&d->dst, &t->n[i].wan) || (d->dst.b[0] & 0xf0) == 0xe0)
            udp_in(t, i, &d->src, &d->dst, d->b, d->len);
}

static uint64_t wire_deadline(void *user)
{
    net *t = user;
    uint64_t d = UINT64_MAX;
    for (unsigned i = 0; i < NODES; i++) {
        uint64_t x = vpn_router_next_deadline(t->n[i].r);
        if (x < d)
            d = x;
    }
    return d;
}

static void on_event(void *user, const vpn_router_event *ev)
{
    rnode *nd = user;

    if (ev->type == VPN_ROUTER_EV_SA_INSTALLED) {
        /* GET VPN TEKs come as the crypto map's, once per SPI */
        assert_int_equal(ev->tunnel, VPN_ROUTER_CRYPTO_MAP);
        assert_non_null(ev->sa_view);
        assert_int_equal(vpn_sa_get_config(ev->sa_view)->spi, ev->sa.spi);
        assert_true(ev->sa.spi != nd->last_tek);
        nd->last_tek = ev->sa.spi;
        nd->teks++;
    } else if (ev->type == VPN_ROUTER_EV_KEY_LINE) {
        assert_non_null(ev->key_line);
        if (ev->key_table == VPN_ROUTER_KEYS_ESP_SA) {
            assert_non_null(strstr(ev->key_line, "\"*\",\"*\"")); /* group SAs: any address */
            nd->esp_lines++;
        } else if (ev->key_table == VPN_ROUTER_KEYS_IKEV1) {
            nd->v1_lines++;
        } else {
            nd->other_lines++;
        }
    }
}

static void wire_tick(void *user, uint64_t now)
{
    net *t = user;
    for (unsigned i = 0; i < NODES; i++)
        vpn_router_timeout(t->n[i].r, now);
}

static vpn_router *new_router(net *t, rnode *nd)
{
    vpn_router_params p;
    vpn_router *r = NULL;

    vpn_router_params_init(&p);
    p.rng = t->rng;
    p.send_udp = send_udp;
    p.send_esp = send_esp;
    p.deliver = deliver;
    p.event = on_event;
    p.key_lines = true;
    p.user = nd;
    assert_int_equal(vpn_router_new(&r, &p), 0);
    return r;
}

/* Node 0: KS 192.0.2.1, any-to-any within 10/8, multicast rekeys when mcast;
 * nodes 1-3: members 198.51.100.1i, sites 10.i.0.0/16. */
static void net_init(net *t, bool mcast)
{
    vpn_getvpn_group_params g;

    memset(t, 0, sizeof *t);
    tu_gdoi_wire_init(&t->w, 64, 4096, &t->now, t);
    t->w.deliver = wire_deliver;
    t->w.deadline = wire_deadline;
    t->w.tick = wire_tick;
    vpn_drbg_init(&t->drbg, "router-gdoi", 11);
    vpn_rng_init_drbg(&t->rng, &t->drbg);
    t->rsa = tu_gdoi_rsa_key();
    t->now = 5 * NS;
    for (unsigned i = 0; i < NODES; i++) {
        char a[32];
        snprintf(a, sizeof a, i ? "198.51.100.1%u" : "192.0.2.1", i);
        t->n[i].t = t;
        t->n[i].wan = tu_addr(a);
        t->n[i].site = i;
        t->n[i].r = new_router(t, &t->n[i]);
        memset(&g, 0, sizeof g);
        if (i == 0) {
            g.role = VPN_GETVPN_ROLE_KS;
            g.ks.name = "GETVPN";
            g.ks.group_id = 1234;
            g.ks.local = t->n[0].wan;
            g.ks.ike.psk = (const uint8_t *)"gdoi-psk";
            g.ks.ike.psk_len = 8;
            g.ks.ike.local_id = g.ks.local;
            g.ks.tek.sel.family = VPN_AF_INET;
            vpn_prefix_parse(&g.ks.tek.sel.src, "10.0.0.0/8");
            vpn_prefix_parse(&g.ks.tek.sel.dst, "10.0.0.0/8");
            g.ks.tek.encr_id = VPN_ENCR_AES_CBC;
            g.ks.tek.lifetime_s = 600;
            g.ks.kek_lifetime_s = 3000;
            g.ks.multicast = mcast;
            g.ks.mcast = tu_addr("239.192.1.1");
            g.ks.rekey_key = t->rsa;
        } else {
            g.role = VPN_GETVPN_ROLE_GM;
            g.gm.name = "GETVPN";
            g.gm.group_id = 1234;
            g.gm.local = t->n[i].wan;
            g.gm.ks = t->n[0].wan;
            g.gm.ike.psk = (const uint8_t *)"gdoi-psk";
            g.gm.ike.psk_len = 8;
            g.map_seq = 10;
            g.start_ns = t->now + i * NS / 10;
        }
        assert_int_equal(vpn_router_getvpn_attach(t->n[i].r, t->now, &g, 1), 0);
        assert_int_equal(vpn_router_getvpn_attach(t->n[i].r, t->now, &g, 1), VPN_ERR_STATE);
    }
}

static void net_free(net *t)
{
    for (unsigned i = 0; i < NODES; i++)
        vpn_router_del(t->n[i].r);
    vpn_sig_key_del(t->rsa);
    vpn_drbg_free(&t->drbg);
    tu_gdoi_wire_free(&t->w);
}

static const vpn_gdoi_gm *gm_of(net *t, unsigned i)
{
    return vpn_getvpn_node_gm(vpn_router_getvpn(t->n[i].r), 0);
}

static void run(net *t, uint64_t until) { tu_gdoi_run_until(&t->w, until, 10000); }

/* Host .5 of site a to host .7 of site b through the crypto maps: ESP with
 * the hosts' addresses outside, delivered at b as it was sent. */
static void send_ok(net *t, unsigned a, unsigned b, uint32_t seed)
{
    uint8_t buf[2048], orig[1500], pay[200];
    char s[32], d[32];
    vpn_addr sa, da;
    vpn_ip_info ii;
    vpn_pkt p;
    bool enc = false;
    size_t len;
    unsigned before = t->n[b].delivered;

    snprintf(s, sizeof s, "10.%u.0.5", t->n[a].site);
    snprintf(d, sizeof d, "10.%u.0.7", t->n[b].site);
    sa = tu_addr(s);
    da = tu_addr(d);
    tu_fill(pay, sizeof pay, seed);
    vpn_pkt_init(&p, buf, sizeof buf, VPN_PKT_HEADROOM);
    len = tu_build_udp(vpn_pkt_data(&p), 1500, &sa, &da, 5002, 5001, 0, pay, sizeof pay);
    p.len = len;
    memcpy(orig, vpn_pkt_data(&p), len);
    assert_int_equal(vpn_router_cryptomap_output(t->n[a].r, t->now, &p, &enc), VPN_ROUTER_DROP_NONE);
    assert_true(enc);
    assert_int_equal(vpn_ip_parse(vpn_pkt_data(&p), p.len, &ii), 0);
    assert_int_equal(ii.proto, VPN_IPPROTO_ESP);
    assert_true(vpn_addr_eq(&ii.src, &sa)); /* RFC 6407 3.5.1: preserved */
    assert_true(vpn_addr_eq(&ii.dst, &da));
    assert_int_equal(vpn_router_ip_input(t->n[b].r, t->now, &p), VPN_ROUTER_DROP_NONE);
    assert_int_equal(t->n[b].delivered, before + 1);
    assert_int_equal(t->n[b].got_tunnel, VPN_ROUTER_CRYPTO_MAP);
    assert_int_equal(t->n[b].got_len, len);
    assert_memory_equal(t->n[b].got, orig, len);
}

static void all_pairs(net *t, uint32_t seed)
{
    for (unsigned a = 1; a < NODES; a++)
        for (unsigned b = 1; b < NODES; b++)
            if (a != b)
                send_ok(t, a, b, seed + a * 10 + b);
}

static void test_register_traffic_rekeys(void **state)
{
    net t;
    vpn_router_stats st;
    (void)state;

    net_init(&t, true);
    assert_true(vpn_router_next_deadline(t.n[1].r) <= t.now + NS);
    run(&t, t.now + 3 * NS);
    for (unsigned i = 1; i < NODES; i++)
        assert_int_equal(vpn_gdoi_gm_get_state(gm_of(&t, i)), VPN_GDOI_GM_REGISTERED);
    assert_int_equal(vpn_gdoi_ks_members(vpn_getvpn_node_ks(vpn_router_getvpn(t.n[0].r), 0)), 3);
    all_pairs(&t, 1);
    /* key export: one TEK, its esp_sa line, the registration's phase 1 */
    for (unsigned i = 1; i < NODES; i++) {
        assert_int_equal(t.n[i].teks, 1);
        assert_int_equal(t.n[i].esp_lines, 1);
        assert_int_equal(t.n[i].v1_lines, 1);
        assert_int_equal(t.n[i].other_lines, 0);
    }

    /* outside the policy: untouched */
    {
        uint8_t buf[2048], orig[200];
        vpn_addr s = tu_addr("198.51.100.11"), d = tu_addr("203.0.113.9");
        vpn_pkt p;
        bool enc = true;
        vpn_pkt_init(&p, buf, sizeof buf, VPN_PKT_HEADROOM);
        p.len = tu_build_udp(vpn_pkt_data(&p), 200, &s, &d, 1, 2, 0, (const uint8_t *)"x", 1);
        memcpy(orig, vpn_pkt_data(&p), p.len);
        assert_int_equal(vpn_router_cryptomap_output(t.n[1].r, t.now, &p, &enc), VPN_ROUTER_DROP_NONE);
        assert_false(enc);
        assert_memory_equal(vpn_pkt_data(&p), orig, p.len);
    }

    /* crypto gdoi ks rekey (multicast), on the KS only */
    assert_int_equal(vpn_router_gdoi_ks_rekey(t.n[1].r, t.now, false), VPN_ERR_NOTFOUND);
    assert_int_equal(vpn_router_gdoi_ks_rekey(t.n[0].r, t.now, false), 1);
    run(&t, t.now + 2 * NS);
    for (unsigned i = 1; i < NODES; i++)
        assert_int_equal(vpn_gdoi_gm_last_seq(gm_of(&t, i)), 1);
    all_pairs(&t, 2);
    for (unsigned i = 1; i < NODES; i++) {
        assert_int_equal(t.n[i].teks, 2); /* the rekey's TEK, reported once */
        assert_int_equal(t.n[i].esp_lines, 2);
        assert_int_equal(t.n[i].v1_lines, 1); /* rekeys need no phase 1 */
    }

    /* clear crypto gdoi on a member: it registers again, traffic flows */
    uint8_t ck[8];
    memcpy(ck, vpn_ikev1_sa_icookie(vpn_gdoi_gm_phase1(gm_of(&t, 2))), 8);
    assert_int_equal(vpn_router_gdoi_reregister(t.n[0].r, t.now), VPN_ERR_NOTFOUND);
    assert_int_equal(vpn_router_gdoi_reregister(t.n[2].r, t.now), 1);
    run(&t, t.now + 2 * NS);
    assert_int_equal(vpn_gdoi_gm_get_stats(gm_of(&t, 2))->registrations, 2);
    all_pairs(&t, 3);
    /* one line per phase-1 SA, however often it is looked at; the TEK
     * the member gets again is not reported twice */
    assert_int_equal(t.n[2].v1_lines, memcmp(ck, vpn_ikev1_sa_icookie(vpn_gdoi_gm_phase1(gm_of(&t, 2))), 8) ? 2 : 1);
    assert_int_equal(t.n[2].teks, 2);
    assert_int_equal(t.n[1].v1_lines, 1);
    vpn_router_stats_get(t.n[1].r, &st);
    assert_int_equal(st.cmap_encrypted, 6);
    assert_int_equal(st.cmap_decrypted, 6);
    assert_int_equal(st.cmap_clear_out, 1);
    assert_true(st.gdoi_in > 0);
    net_free(&t);
}

static void test_views(void **state)
{
    net t;
    char buf[1 << 15];
    vpn_show_buf b;
    (void)state;

    net_init(&t, false);
    run(&t, t.now + 3 * NS);
    vpn_show_init(&b, buf, sizeof buf);
    assert_int_equal(vpn_router_show_gdoi(t.n[0].r, t.now, VPN_ROUTER_GDOI_ALL, NULL, &b), 0);
    assert_non_null(strstr(buf, "GETVPN"));
    vpn_show_init(&b, buf, sizeof buf);
    assert_int_equal(vpn_router_show_gdoi(t.n[0].r, t.now, VPN_ROUTER_GDOI_KS_MEMBERS, NULL, &b), 0);
    assert_non_null(strstr(buf, "198.51.100.13"));
    vpn_show_init(&b, buf, sizeof buf);
    assert_int_equal(vpn_router_show_gdoi(t.n[1].r, t.now, VPN_ROUTER_GDOI_GM, NULL, &b), 0);
    assert_non_null(strstr(buf, "GETVPN"));
    vpn_show_init(&b, buf, sizeof buf);
    assert_int_equal(vpn_router_show_gdoi(t.n[1].r, t.now, VPN_ROUTER_GDOI_IPSEC_SA, "eth0", &b), 0);
    assert_non_null(strstr(buf, "eth0"));
    /* a member has no key-server views: nothing written */
    vpn_show_init(&b, buf, sizeof buf);
    assert_int_equal(vpn_router_show_gdoi(t.n[1].r, t.now, VPN_ROUTER_GDOI_KS_MEMBERS, NULL, &b), 0);
    assert_int_equal(b.len, 0);
    assert_int_equal(vpn_router_show_gdoi(t.n[1].r, t.now, (vpn_router_gdoi_view)99, NULL, &b), VPN_ERR_INVAL);
    net_free(&t);
}

static void test_hostile(void **state)
{
    net t;
    uint8_t junk[200], buf[2048];
    vpn_router_stats st;
    vpn_addr ev = tu_addr("198.51.100.66");
    vpn_pkt p;
    (void)state;

    net_init(&t, false);
    run(&t, t.now + 3 * NS);
    tu_fill(junk, sizeof junk, 7);
    /* shorter than an ISAKMP header, to a member and to the KS */
    assert_int_equal(udp_in(&t, 1, &ev, &t.n[1].wan, junk, 12), VPN_ROUTER_DROP_GDOI_UNCLAIMED);
    assert_int_equal(udp_in(&t, 0, &ev, &t.n[0].wan, junk, 0), VPN_ROUTER_DROP_GDOI_UNCLAIMED);
    /* cookies of nobody's: unclaimed at a member, refused by the KS engine */
    assert_int_equal(udp_in(&t, 1, &ev, &t.n[1].wan, junk, 120), VPN_ROUTER_DROP_GDOI_UNCLAIMED);
    assert_int_equal(udp_in(&t, 0, &ev, &t.n[0].wan, junk, 120), VPN_ROUTER_DROP_GDOI_REFUSED);
    vpn_router_stats_get(t.n[1].r, &st);
    assert_int_equal(st.drops[VPN_ROUTER_DROP_GDOI_UNCLAIMED], 2);
    /* ESP with an SPI of no group: the crypto map's drop */
    {
        vpn_addr s = tu_addr("10.2.0.5"), d = tu_addr("10.1.0.7");
        vpn_pkt_init(&p, buf, sizeof buf, VPN_PKT_HEADROOM);
        p.len = tu_build_udp(vpn_pkt_data(&p), 1500, &s, &d, 1, 2, 0, junk, 64);
        vpn_pkt_data(&p)[9] = VPN_IPPROTO_ESP; /* the UDP header is now an SPI */
        assert_int_equal(vpn_router_ip_input(t.n[1].r, t.now, &p), VPN_ROUTER_DROP_CRYPTO_MAP);
    }
    assert_int_equal(t.n[1].delivered, 0);
    /* nothing changed: the members still talk */
    all_pairs(&t, 9);
    net_free(&t);
}

/* The per-group verbs drivers use: rekey transport, one group's rekey,
 * the rekey groups members join, and why the crypto map dropped. */
static void test_per_group(void **state)
{
    net t;
    vpn_addr grp[2], mc = tu_addr("239.192.1.1");
    uint8_t buf[2048];
    vpn_addr s = tu_addr("10.2.0.5"), d = tu_addr("10.1.0.7");
    vpn_pkt p;
    bool dec = true;
    (void)state;

    net_init(&t, true);
    run(&t, t.now + 3 * NS);
    /* RFC 6407 5.3: members join the KEK's group, once however asked */
    assert_int_equal(vpn_router_gdoi_rekey_groups(t.n[1].r, t.now, grp, 2), 1);
    assert_true(vpn_addr_eq(&grp[0], &mc));
    assert_int_equal(vpn_router_gdoi_rekey_groups(t.n[1].r, t.now, NULL, 0), 1);
    assert_int_equal(vpn_router_gdoi_rekey_groups(t.n[0].r, t.now, grp, 2), 0); /* a KS joins nothing */
    assert_int_equal(vpn_router_gdoi_rekey_groups(NULL, t.now, grp, 2), 0);

    /* unicast from the next rekey on; only the KS's group 0 exists */
    assert_int_equal(vpn_router_gdoi_ks_set_multicast(t.n[0].r, 0, false, NULL), 0);
    assert_int_equal(vpn_router_gdoi_ks_set_multicast(t.n[0].r, 1, false, NULL), VPN_ERR_NOTFOUND);
    assert_int_equal(vpn_router_gdoi_ks_set_multicast(t.n[1].r, 0, true, &mc), VPN_ERR_NOTFOUND);
    assert_int_equal(vpn_router_gdoi_ks_set_multicast(NULL, 0, true, &mc), VPN_ERR_INVAL);
    assert_int_equal(vpn_router_gdoi_ks_rekey_group(t.n[0].r, t.now, 1, false), VPN_ERR_NOTFOUND);
    assert_int_equal(vpn_router_gdoi_ks_rekey_group(t.n[2].r, t.now, 0, false), VPN_ERR_NOTFOUND);
    assert_int_equal(vpn_router_gdoi_ks_rekey_group(NULL, t.now, 0, false), VPN_ERR_INVAL);
    assert_int_equal(vpn_router_gdoi_ks_rekey_group(t.n[0].r, t.now, 0, true), 0);
    run(&t, t.now + 2 * NS);
    for (unsigned i = 1; i < NODES; i++)
        assert_int_equal(vpn_gdoi_gm_last_seq(gm_of(&t, i)), 1);
    /* members acknowledge unicast rekeys only */
    assert_int_equal(vpn_gdoi_ks_get_stats(vpn_getvpn_node_ks(vpn_router_getvpn(t.n[0].r), 0))->acks, NODES - 1);
    all_pairs(&t, 4);

    /* a clear packet the registered policy protects: dropped, and why */
    vpn_pkt_init(&p, buf, sizeof buf, VPN_PKT_HEADROOM);
    p.len = tu_build_udp(vpn_pkt_data(&p), 1500, &s, &d, 1, 2, 0, (const uint8_t *)"abc", 3);
    assert_int_equal(vpn_router_cryptomap_input(t.n[1].r, t.now, &p, &dec), VPN_ROUTER_DROP_CRYPTO_MAP);
    assert_false(dec);
    assert_int_equal(vpn_router_cryptomap_last_drop(t.n[1].r), VPN_GETVPN_DROP_CLEAR);
    assert_int_equal(vpn_router_cryptomap_last_drop(NULL), VPN_GETVPN_DROP_MALFORMED);
    net_free(&t);
}

static void test_without_getvpn(void **state)
{
    net t;
    rnode nd;
    vpn_router *r;
    uint8_t buf[2048];
    vpn_addr s = tu_addr("10.1.0.5"), d = tu_addr("10.2.0.7");
    vpn_pkt p;
    bool enc = true, dec = true;
    (void)state;

    memset(&t, 0, sizeof t);
    memset(&nd, 0, sizeof nd);
    vpn_drbg_init(&t.drbg, "router-gdoi-none", 3);
    vpn_rng_init_drbg(&t.rng, &t.drbg);
    nd.t = &t;
    r = new_router(&t, &nd);
    assert_null(vpn_router_getvpn(r));
    assert_int_equal(vpn_router_next_deadline(r), UINT64_MAX);
    vpn_pkt_init(&p, buf, sizeof buf, VPN_PKT_HEADROOM);
    p.len = tu_build_udp(vpn_pkt_data(&p), 1500, &s, &d, 1, 2, 0, (const uint8_t *)"abc", 3);
    assert_int_equal(vpn_router_cryptomap_output(r, 0, &p, &enc), VPN_ROUTER_DROP_NONE);
    assert_false(enc);
    assert_int_equal(vpn_router_cryptomap_input(r, 0, &p, &dec), VPN_ROUTER_DROP_NONE);
    assert_false(dec);
    assert_int_equal(vpn_router_gdoi_ks_rekey(r, 0, false), VPN_ERR_NOTFOUND);
    assert_int_equal(vpn_router_gdoi_reregister(r, 0), VPN_ERR_NOTFOUND);
    {
        vpn_ikev2_endpoint l = {d, 848}, rm = {s, 848};
        assert_int_equal(vpn_router_udp_input(r, 0, &l, &rm, &p), VPN_ROUTER_DROP_UDP_PORT);
    }
    assert_int_equal(vpn_router_cryptomap_output(NULL, 0, &p, &enc), VPN_ROUTER_DROP_ARGS);
    assert_int_equal(vpn_router_cryptomap_output(r, 0, NULL, &enc), VPN_ROUTER_DROP_ARGS);
    assert_int_equal(vpn_router_getvpn_attach(NULL, 0, NULL, 0), VPN_ERR_INVAL);
    assert_int_equal(vpn_router_getvpn_attach(r, 0, NULL, 0), VPN_ERR_INVAL); /* no groups */
    assert_null(vpn_router_getvpn(r));
    vpn_router_del(r);
    vpn_drbg_free(&t.drbg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register_traffic_rekeys),
        cmocka_unit_test(test_views),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_per_group),
        cmocka_unit_test(test_without_getvpn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
