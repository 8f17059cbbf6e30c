/*
 * GDOI key server and group members in memory with a counter clock:
 * registration (IKEv1 Main Mode + GROUPKEY-PULL), TEK install into the
 * SAD/SPD, a packet encrypted by one member and decrypted by another,
 * unicast and multicast rekeys (with a KEK roll), retransmitted rekeys
 * refused as replays, an unauthorized member, adversarial PULL and PUSH
 * messages (state unchanged), re-registration when keys lapse, and the
 * issue 7 trace: a pcap of registration + unicast + multicast rekey, the
 * Wireshark key files beside it, and the decrypted view, read by tshark.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test-util.h"
#include "pcap-writer.h"
#include "pkt-build.h"
#include "gdoi-net.h"

#include "common/rng.h"
#include "common/vpn-err.h"
#include "crypto/cipher.h"
#include "crypto/crypto-ids.h"
#include "gdoi/gdoi-priv.h"
#include "gdoi/gdoi.h"
#include "isakmp/gdoi-codec.h"
#include "ipsec/esp.h"
#include "show/show-gdoi.h"
#include "ipsec/ip.h"
#include "isakmp/isakmp-const.h"

#define NS 1000000000ull
#define MAX_GM 4
#define QCAP 64
#define DG_MAX 4096

typedef tu_gdoi_dgram dgram;

/* One member's events: a count per kind, and the last one. */
typedef struct tu_gm_events {
    unsigned n[VPN_GDOI_GM_EV_COUNT];
    vpn_gdoi_gm_event last;
    char detail[128];
} tu_gm_events;

static void on_gm_event(void *user, const vpn_gdoi_gm_event *ev)
{
    tu_gm_events *e = user;

    assert_true(ev->kind >= 0 && ev->kind < VPN_GDOI_GM_EV_COUNT);
    assert_true(ev->err < 0);
    assert_non_null(ev->detail);
    assert_string_not_equal(vpn_gdoi_gm_event_name(ev->kind), "?");
    e->n[ev->kind]++;
    e->last = *ev;
    snprintf(e->detail, sizeof e->detail, "%s", ev->detail);
    e->last.detail = e->detail;
}

/* Every count of the member's stats was reported as one event of its kind. */
static void assert_events_match(const vpn_gdoi_gm *gm, const tu_gm_events *e)
{
    const vpn_gdoi_gm_stats *st = vpn_gdoi_gm_get_stats(gm);

    assert_int_equal(e->n[VPN_GDOI_GM_EV_REKEY_REFUSED], st->rekeys_rejected);
    assert_int_equal(e->n[VPN_GDOI_GM_EV_BAD_SIGNATURE], st->bad_sig);
    assert_int_equal(e->n[VPN_GDOI_GM_EV_BAD_KEK], st->bad_kek);
    assert_int_equal(e->n[VPN_GDOI_GM_EV_REPLAY], st->replays);
    assert_int_equal(e->n[VPN_GDOI_GM_EV_MALFORMED], st->malformed);
    assert_int_equal(e->n[VPN_GDOI_GM_EV_INTERNAL], st->internal_errors);
}

typedef struct net {
    vpn_drbg drbg;
    vpn_rng rng;
    vpn_sig_key *rsa;
    vpn_gdoi_ks *ks;
    vpn_gdoi_gm *gm[MAX_GM];
    vpn_sad *sad[MAX_GM];
    vpn_spd *spd[MAX_GM];
    vpn_addr ks_addr, gm_addr[MAX_GM], mcast;
    unsigned ngm;
    tu_gdoi_wire w;         /* the queue and the trace */
    uint64_t now;
    bool drop_to[MAX_GM];  /* lose datagrams to this member */
    dgram *keep;            /* copies of every PUSH sent */
    unsigned nkeep;
    tu_gm_events ev[MAX_GM]; /* what each member reported (vpn_gdoi_gm_cfg.event) */
} net;

static net *g_net;
static uint16_t g_encr = VPN_ENCR_AES_CBC; /* the TEK transform of the next net_init */
static uint16_t g_gap_act, g_gap_deact;     /* GAP delays of the next net_init */
static uint8_t g_layout;                    /* SA KEK/TEK layout of the next net_init */
static bool g_recv_only;
static const vpn_gdoi_tek_policy *g_lines; /* further TEK policy lines of the next net_init */

static void on_send(void *user, const vpn_addr *src, const vpn_addr *dst, const uint8_t *dg,
                    size_t len, const uint8_t *view, size_t view_len)
{
    net *n = user;
    dgram *d = tu_gdoi_wire_send(&n->w, src, dst, dg, len, view, view_len);

    if (dg[18] == VPN_GDOI_EXCH_PUSH && n->nkeep < QCAP)
        n->keep[n->nkeep++] = *d;
}

static void deliver(void *user, const dgram *d)
{
    net *n = user;

    if (vpn_addr_eq(&d->dst, &n->ks_addr)) {
        vpn_gdoi_ks_input(n->ks, &d->src, d->b, d->len, n->now);
        return;
    }
    for (unsigned i = 0; i < n->ngm; i++) {
        bool to = vpn_addr_eq(&d->dst, &n->gm_addr[i]) || vpn_addr_eq(&d->dst, &n->mcast);
        if (to && !n->drop_to[i])
            vpn_gdoi_gm_input(n->gm[i], d->b, d->len, n->now);
    }
}

static uint64_t deadline(void *user)
{
    net *n = user;
    return tu_gdoi_deadline(n->ks, n->gm, n->ngm);
}

static void tick(void *user, uint64_t now)
{
    net *n = user;
    tu_gdoi_tick(n->ks, n->gm, n->ngm, now);
}

static void net_init(net *n, unsigned ngm, bool multicast, const vpn_addr *authorized,
                     size_t nauth, uint32_t tbar)
{
    vpn_gdoi_ks_cfg kc;

    memset(n, 0, sizeof *n);
    g_net = n;
    tu_gdoi_wire_init(&n->w, QCAP, DG_MAX, &n->now, n);
    n->w.deliver = deliver;
    n->w.deadline = deadline;
    n->w.tick = tick;
    n->keep = calloc(QCAP, sizeof *n->keep);
    assert_non_null(n->keep);
    vpn_drbg_init(&n->drbg, "gdoi-engine", 11);
    vpn_rng_init_drbg(&n->rng, &n->drbg);
    n->rsa = tu_gdoi_rsa_key();
    n->ks_addr = tu_addr("192.0.2.1");
    n->mcast = tu_addr("239.192.1.1");
    n->now = 5 * NS;

    tu_gdoi_ks_cfg_std(&kc, &n->ks_addr, n->rsa);
    kc.authorized = authorized;
    kc.n_authorized = nauth;
    kc.tek.encr_id = g_encr;
    kc.tek.tbar_window_s = tbar;
    kc.multicast = multicast;
    kc.mcast = n->mcast;
    kc.gap_activation_s = g_gap_act;
    kc.gap_deactivation_s = g_gap_deact;
    kc.receive_only = g_recv_only;
    kc.layout = g_layout;
    if (g_lines) {
        kc.tek.sel = g_lines->sel;
        memcpy(kc.tek.more, g_lines->more, sizeof kc.tek.more);
        kc.tek.n_more = g_lines->n_more;
        kc.tek.deny_mask = g_lines->deny_mask;
    }
    assert_int_equal(vpn_gdoi_ks_new(&n->ks, &kc, &n->rng, NULL, on_send, n, n->now), 0);

    n->ngm = ngm;
    for (unsigned i = 0; i < ngm; i++)
        tu_gdoi_member_ev(i, &n->ks_addr, NULL, 0, &n->rng, on_send, n, &n->gm_addr[i], &n->gm[i],
                          &n->sad[i], &n->spd[i], on_gm_event, &n->ev[i]);
}

static void net_free(net *n)
{
    for (unsigned i = 0; i < n->ngm; i++)
        assert_events_match(n->gm[i], &n->ev[i]);
    vpn_gdoi_ks_del(n->ks);
    tu_gdoi_members_free(n->gm, n->sad, n->spd, n->ngm);
    vpn_sig_key_del(n->rsa);
    vpn_drbg_free(&n->drbg);
    tu_gdoi_wire_free(&n->w);
    free(n->keep);
}

/* Delivers everything queued (and what that provokes) at the current time. */
static void pump(net *n) { tu_gdoi_pump(&n->w); }

/* Runs timers and traffic until time `until`. */
static void run_until(net *n, uint64_t until) { tu_gdoi_run_until(&n->w, until, 0); }

static void register_all(net *n)
{
    for (unsigned i = 0; i < n->ngm; i++)
        assert_int_equal(vpn_gdoi_gm_start(n->gm[i], n->now), 0);
    pump(n);
}

/* A UDP packet from member a's site to member b's site, through ESP. */
static int send_between(net *n, unsigned a, unsigned b, uint32_t seed)
{
    return tu_gdoi_send_between(n->spd[a], n->sad[b], n->now, 0xb8, seed,
                                vpn_gdoi_gm_tek(n->gm[a]));
}

static void assert_registered(net *n, unsigned i)
{
    if (vpn_gdoi_gm_get_state(n->gm[i]) != VPN_GDOI_GM_REGISTERED) {
        const vpn_gdoi_gm_stats *s = vpn_gdoi_gm_get_stats(n->gm[i]);
        fprintf(stderr, "gm %u: now %llu regs %llu att %llu rekeys %llu rej %llu repl %llu sig %llu kek %llu mal %llu\n", i,
                (unsigned long long)(n->now / NS), (unsigned long long)s->registrations, (unsigned long long)s->reg_attempts,
                (unsigned long long)s->rekeys, (unsigned long long)s->rekeys_rejected, (unsigned long long)s->replays,
                (unsigned long long)s->bad_sig, (unsigned long long)s->bad_kek, (unsigned long long)s->malformed);
    }
    tu_gdoi_assert_member(n->gm[i], n->ks);
}

static void test_registration_and_traffic(void **state)
{
    net n;
    (void)state;
    net_init(&n, 3, false, NULL, 0, 5);
    register_all(&n);
    for (unsigned i = 0; i < 3; i++) {
        const vpn_sa_config *c;
        assert_registered(&n, i);
        c = vpn_sa_get_config(vpn_gdoi_gm_tek(n.gm[i]));
        assert_true(c->group);
        assert_int_equal(c->dir, VPN_SA_BOTH);
        assert_int_equal(c->mode, VPN_ESP_TUNNEL_ADDR_PRESERVE);
        assert_int_equal(c->tbar_window_ms, 5000);
        assert_int_equal(c->encr_id, VPN_ENCR_AES_CBC);
        assert_int_equal(c->integ_id, VPN_AUTH_HMAC_SHA2_256_128);
        assert_int_equal(vpn_spd_count(n.spd[i]), 3);
    }
    assert_int_equal(vpn_gdoi_ks_members(n.ks), 3);
    assert_int_equal(vpn_gdoi_ks_get_stats(n.ks)->registrations, 3);
    /* the member iterator lists each registered member once, as get_member */
    {
        vpn_gdoi_member_info mi, mj;
        size_t cur = 0, k = 0;
        while (vpn_gdoi_ks_next_member(n.ks, &cur, &mi) == 0) {
            assert_int_equal(vpn_gdoi_ks_get_member(n.ks, k, &mj), 0);
            assert_true(vpn_addr_eq(&mi.addr, &mj.addr));
            k++;
        }
        assert_int_equal(k, 3);
        assert_int_equal(vpn_gdoi_ks_next_member(n.ks, &cur, &mi), VPN_ERR_NOTFOUND);
        assert_int_equal(vpn_gdoi_ks_next_member(NULL, &cur, &mi), VPN_ERR_NOTFOUND);
    }
    /* any member to any member */
    assert_int_equal(send_between(&n, 0, 1, 1), 0);
    assert_int_equal(send_between(&n, 1, 2, 2), 0);
    assert_int_equal(send_between(&n, 2, 0, 3), 0);
    net_free(&n);
}

/*
 * Our key server in the Cisco GDOI reference implementation's layout (6
 * octets after the SA KEK's SPI, 1-octet TEK ID lengths, TEK IPv4 IDs in
 * its byte order) with our members: registration, traffic, a rekey with a
 * new KEK. 10.0.0.0/8's mask reversed is not contiguous, so a member that
 * did not read the layout's byte order back would refuse the policy.
 */
static void test_gdoid_layout(void **state)
{
    net n;
    vpn_gdoi_gm_info info;
    char a[VPN_ADDR_STRLEN];
    (void)state;
    g_layout = VPN_GDOI_LAYOUT_GDOID;
    net_init(&n, 2, true, NULL, 0, 0);
    g_layout = VPN_GDOI_LAYOUT_RFC6407;
    register_all(&n);
    for (unsigned i = 0; i < 2; i++) {
        assert_registered(&n, i);
        vpn_gdoi_gm_get_info(n.gm[i], n.now, &info);
        assert_string_equal(vpn_addr_str(&info.tek.acl.src.addr, a, sizeof a), "10.0.0.0");
        assert_int_equal(info.tek.acl.src.len, 8);
        assert_int_equal(info.tek.acl.dst.len, 8);
        assert_string_equal(info.refused, "");
    }
    assert_int_equal(send_between(&n, 0, 1, 21), 0);
    {
        const uint8_t *k, *iv;
        uint8_t key[32], ivc[16], body[GDOI_MSG_MAX];
        vpn_isakmp_msg m;
        bool gdoid_form = false;

        vpn_gdoi_ks_kek(n.ks, &k, &iv);
        memcpy(key, k, 32);
        memcpy(ivc, iv, 16);
        n.nkeep = 0;
        assert_int_equal(vpn_gdoi_ks_rekey(n.ks, true, n.now), 0);
        assert_true(n.nkeep >= 1);
        /* signed as gdoid signs (bare hash, header length before padding) */
        assert_int_equal(vpn_isakmp_msg_parse(n.keep[0].b, n.keep[0].len, &m), 0);
        memcpy(body, m.body, m.body_len);
        assert_int_equal(gdoi_kek_crypt(NULL, key, ivc, body, m.body_len, false), 0);
        assert_int_equal(vpn_isakmp_msg_parse_plain(&m, body, m.body_len, NULL), 0);
        assert_int_equal(gdoi_push_sig_verify(n.rsa, VPN_IKE_HASH_SHA2_256, &m, &gdoid_form), 0);
        assert_true(gdoid_form);
    }
    pump(&n);
    assert_registered(&n, 0);
    assert_registered(&n, 1);
    assert_int_equal(vpn_gdoi_gm_get_stats(n.gm[1])->rekeys, 1);
    assert_int_equal(send_between(&n, 1, 0, 22), 0);
    net_free(&n);
}

/* Member i's SPD verdict for a flow, and the SA of the entry. */
static vpn_spd_action lookup(net *n, unsigned i, uint8_t proto, const char *src, const char *dst,
                             uint16_t dport, const vpn_sa **sa)
{
    vpn_ip_info ii;
    const vpn_spd_entry *e = NULL;
    vpn_spd_action a;

    memset(&ii, 0, sizeof ii);
    ii.version = 4;
    ii.proto = proto;
    ii.has_ports = true;
    ii.sport = 30000;
    ii.dport = dport;
    ii.src = tu_addr(src);
    ii.dst = tu_addr(dst);
    a = vpn_spd_lookup(n->spd[i], &ii, &e);
    *sa = e ? e->sa : NULL;
    return a;
}

/* A policy line of protocol proto between 10/8 and 10/8 to port dport. */
static void line(vpn_spd_sel *s, uint8_t proto, uint16_t dport)
{
    memset(s, 0, sizeof *s);
    s->family = VPN_AF_INET;
    s->proto = proto;
    vpn_prefix_parse(&s->src, "10.0.0.0/8");
    vpn_prefix_parse(&s->dst, "10.0.0.0/8");
    s->dport_lo = s->dport_hi = dport;
}

/*
 * The member's SPD entries all take its crypto map entry's number
 * (spd_seq 10 here): an entry of the next crypto map entry (11) sharing
 * the SPD, added before registration, must still come after every one of
 * ours, the GDOI bypass and the protect lines alike.
 */
static void test_spd_seq_no_tie(void **state)
{
    net n;
    vpn_spd_entry e;
    const vpn_sa *sa;
    (void)state;
    net_init(&n, 2, false, NULL, 0, 0);
    memset(&e, 0, sizeof e);
    e.seq = 11;
    e.sel.family = VPN_AF_INET;
    vpn_prefix_parse(&e.sel.src, "10.0.0.0/8");
    e.action = VPN_SPD_DISCARD;
    assert_int_equal(vpn_spd_add(n.spd[0], &e, NULL), 0);
    register_all(&n);
    assert_registered(&n, 0);
    assert_int_equal(lookup(&n, 0, 17, "10.1.0.5", "10.2.0.7", 5000, &sa), VPN_SPD_PROTECT);
    assert_ptr_equal(sa, vpn_gdoi_gm_tek(n.gm[0]));
    /* what our policy does not cover falls to entry 11 */
    assert_int_equal(lookup(&n, 0, 17, "10.1.0.5", "172.16.0.7", 5000, &sa), VPN_SPD_DISCARD);
    /* a rekey re-installs at the same number: still ahead of entry 11 */
    assert_int_equal(vpn_gdoi_ks_rekey(n.ks, false, n.now), 0);
    pump(&n);
    assert_registered(&n, 0);
    assert_int_equal(lookup(&n, 0, 17, "10.1.0.5", "10.2.0.7", 5000, &sa), VPN_SPD_PROTECT);
    assert_ptr_equal(sa, vpn_gdoi_gm_tek(n.gm[0]));
    net_free(&n);
}

/*
 * A TEK policy of three lines (a deny, two permits) in both wire layouts:
 * one SA TEK per line with the TEK's SPI, members install them in order
 * after the GDOI bypass; multicast rekeys carry them all; a KS
 * configuration that breaks the rules is refused, and a member refuses a
 * policy of deny lines only and keeps its state.
 */
static void test_multi_line_policy(void **state)
{
    vpn_gdoi_tek_policy p;
    (void)state;

    memset(&p, 0, sizeof p);
    line(&p.sel, 17, 5060);
    line(&p.more[0], 17, 0);
    line(&p.more[1], 6, 443);
    p.n_more = 2;
    p.deny_mask = 1;
    for (int lay = 0; lay < 2; lay++) {
        net n;
        const vpn_sa *sa;
        vpn_gdoi_gm_info gi;
        g_lines = &p;
        g_layout = lay ? VPN_GDOI_LAYOUT_GDOID : VPN_GDOI_LAYOUT_RFC6407;
        net_init(&n, 2, true, NULL, 0, 0);
        g_lines = NULL;
        g_layout = VPN_GDOI_LAYOUT_RFC6407;
        register_all(&n);
        for (int round = 0; round < 2; round++) {
            for (unsigned i = 0; i < 2; i++) {
                const vpn_sa *tek = vpn_gdoi_gm_tek(n.gm[i]);
                assert_registered(&n, i);
                assert_int_equal(vpn_sa_get_config(tek)->spi, vpn_gdoi_ks_tek_spi(n.ks));
                assert_int_equal(vpn_spd_count(n.spd[i]), 5); /* 2 GDOI bypasses, 3 lines */
                assert_int_equal(lookup(&n, i, 17, "10.1.0.5", "10.2.0.7", 5060, &sa),
                                 VPN_SPD_BYPASS);
                assert_int_equal(lookup(&n, i, 17, "10.1.0.5", "10.2.0.7", 5061, &sa),
                                 VPN_SPD_PROTECT);
                assert_ptr_equal(sa, tek);
                assert_int_equal(lookup(&n, i, 6, "10.1.0.5", "10.2.0.7", 443, &sa),
                                 VPN_SPD_PROTECT);
                assert_ptr_equal(sa, tek);
                assert_int_equal(lookup(&n, i, 6, "10.1.0.5", "10.2.0.7", 22, &sa),
                                 VPN_SPD_BYPASS);
                vpn_gdoi_gm_get_info(n.gm[i], n.now, &gi);
                assert_int_equal(gi.tek.n_acl_more, 2);
                assert_int_equal(gi.tek.acl_deny, 1);
                assert_int_equal(gi.tek.acl_more[1].dport_lo, 443);
                assert_int_equal(gi.tek.acl_more[1].src.len, 8);
            }
            assert_int_equal(send_between(&n, 0, 1, 60 + (uint32_t)round), 0);
            if (round == 0) {
                assert_int_equal(vpn_gdoi_ks_rekey(n.ks, true, n.now), 0);
                pump(&n);
                assert_int_equal(vpn_gdoi_gm_get_stats(n.gm[0])->rekeys, 1);
            }
        }
        if (lay == 0) {
            /* a KS that sends deny lines only (forced past its own check):
             * refused, the member keeps its policy */
            uint64_t rej = vpn_gdoi_gm_get_stats(n.gm[0])->rekeys_rejected;
            n.ks->cfg.tek.deny_mask = 7;
            assert_int_equal(vpn_gdoi_ks_rekey(n.ks, false, n.now), 0);
            pump(&n);
            assert_true(vpn_gdoi_gm_get_stats(n.gm[0])->rekeys_rejected > rej);
            vpn_gdoi_gm_get_info(n.gm[0], n.now, &gi);
            assert_non_null(strstr(gi.refused, "deny lines only"));
            assert_int_equal(vpn_spd_count(n.spd[0]), 5);
            assert_int_equal(lookup(&n, 0, 6, "10.1.0.5", "10.2.0.7", 443, &sa), VPN_SPD_PROTECT);
            n.ks->cfg.tek.deny_mask = 1;
        }
        net_free(&n);
    }

    /* configurations the KS refuses */
    {
        vpn_gdoi_ks_cfg kc;
        vpn_gdoi_ks *ks = NULL;
        vpn_drbg d;
        vpn_rng rng;
        vpn_sig_key *rsa = tu_gdoi_rsa_key();
        vpn_gdoi_coop_peer peer;
        vpn_drbg_init(&d, "multi", 5);
        vpn_rng_init_drbg(&rng, &d);
        memset(&kc, 0, sizeof kc);
        kc.name = "G";
        kc.group_id = 1;
        kc.local = tu_addr("192.0.2.1");
        kc.tek = p;
        kc.tek.encr_id = VPN_ENCR_AES_CBC;
        kc.rekey_key = rsa;
        assert_int_equal(vpn_gdoi_ks_new(&ks, &kc, &rng, NULL, on_send, NULL, 0), 0);
        vpn_gdoi_ks_del(ks);
        ks = NULL;
        kc.tek.deny_mask = 7; /* deny lines only */
        assert_int_equal(vpn_gdoi_ks_new(&ks, &kc, &rng, NULL, on_send, NULL, 0), VPN_ERR_INVAL);
        kc.tek.deny_mask = 8; /* a deny line that is not there */
        assert_int_equal(vpn_gdoi_ks_new(&ks, &kc, &rng, NULL, on_send, NULL, 0), VPN_ERR_INVAL);
        kc.tek.deny_mask = 1;
        kc.tek.n_more = VPN_GDOI_TEK_SELS_MAX; /* too many lines */
        assert_int_equal(vpn_gdoi_ks_new(&ks, &kc, &rng, NULL, on_send, NULL, 0), VPN_ERR_INVAL);
        kc.tek.n_more = 2;
        kc.tek.more[1].family = VPN_AF_INET6;
        assert_int_equal(vpn_gdoi_ks_new(&ks, &kc, &rng, NULL, on_send, NULL, 0), VPN_ERR_INVAL);
        kc.tek.more[1].family = VPN_AF_INET;
        peer.addr = tu_addr("192.0.2.2");
        peer.pub = rsa;
        kc.coop.peers = &peer;
        kc.coop.n_peers = 1; /* announcements carry every line (F_LINES) */
        assert_int_equal(vpn_gdoi_ks_new(&ks, &kc, &rng, NULL, on_send, NULL, 0), 0);
        assert_non_null(ks);
        vpn_gdoi_ks_del(ks);
        vpn_sig_key_del(rsa);
        vpn_drbg_free(&d);
    }
}

static void test_gcm_tek(void **state)
{
    net n;
    const vpn_sa_config *c;
    (void)state;
    g_encr = VPN_ENCR_AES_GCM_16;
    net_init(&n, 2, false, NULL, 0, 5);
    g_encr = VPN_ENCR_AES_CBC;
    register_all(&n);
    assert_registered(&n, 0);
    assert_registered(&n, 1);
    c = vpn_sa_get_config(vpn_gdoi_gm_tek(n.gm[0]));
    assert_int_equal(c->encr_id, VPN_ENCR_AES_GCM_16);
    assert_int_equal(c->integ_id, VPN_INTEG_NONE);
    assert_int_equal(c->iv_mode, VPN_SA_IV_RANDOM);
    assert_int_equal(send_between(&n, 0, 1, 11), 0);
    assert_int_equal(send_between(&n, 1, 0, 12), 0);
    assert_int_equal(vpn_gdoi_ks_rekey(n.ks, false, n.now), 0);
    pump(&n);
    assert_registered(&n, 1);
    assert_int_equal(send_between(&n, 1, 0, 13), 0);
    net_free(&n);
}

/* `sa receive-only`: members accept but do not encrypt. */
static void test_receive_only(void **state)
{
    net n;
    uint8_t buf[512];
    vpn_addr s = tu_addr("10.1.0.5"), d = tu_addr("10.2.0.7");
    vpn_ip_info ii;
    const vpn_spd_entry *e;
    size_t len;
    (void)state;
    g_recv_only = true;
    net_init(&n, 2, false, NULL, 0, 0);
    g_recv_only = false;
    register_all(&n);
    for (unsigned i = 0; i < 2; i++) {
        assert_registered(&n, i);
        assert_int_equal(vpn_sa_get_config(vpn_gdoi_gm_tek(n.gm[i]))->dir, VPN_SA_IN);
        assert_non_null(vpn_sad_lookup(n.sad[i], vpn_gdoi_ks_tek_spi(n.ks), NULL));
    }
    len = tu_build_udp(buf, sizeof buf, &s, &d, 4000, 5000, 0, (const uint8_t *)"x", 1);
    assert_int_equal(vpn_ip_parse(buf, len, &ii), 0);
    vpn_ip_parse_ports(&ii, buf + 20, len - 20);
    assert_int_equal(vpn_spd_lookup(n.spd[0], &ii, &e), VPN_SPD_BYPASS);
    assert_non_null(e);
    assert_null(e->sa);
    /* rekeys keep it that way */
    assert_int_equal(vpn_gdoi_ks_rekey(n.ks, false, n.now), 0);
    pump(&n);
    assert_registered(&n, 1);
    assert_int_equal(vpn_sa_get_config(vpn_gdoi_gm_tek(n.gm[1]))->dir, VPN_SA_IN);
    assert_int_equal(vpn_spd_lookup(n.spd[1], &ii, &e), VPN_SPD_BYPASS);
    net_free(&n);
}

/* RFC 6407 5.5: activation and deactivation delays after a rekey. */
static void test_gap_delays(void **state)
{
    net n;
    vpn_sa *old;
    uint32_t old_spi, new_spi;
    uint64_t t;
    (void)state;
    g_gap_act = 5;
    g_gap_deact = 30;
    net_init(&n, 2, false, NULL, 0, 0);
    g_gap_act = g_gap_deact = 0;
    register_all(&n);
    /* registration installs and uses the TEK at once */
    assert_registered(&n, 0);
    assert_registered(&n, 1);
    old = vpn_gdoi_gm_tek(n.gm[0]);
    old_spi = vpn_gdoi_ks_tek_spi(n.ks);
    t = n.now;
    assert_int_equal(vpn_gdoi_ks_rekey(n.ks, false, n.now), 0);
    pump(&n);
    new_spi = vpn_gdoi_ks_tek_spi(n.ks);
    /* both TEKs are in the SADs, the members still send on the old one */
    assert_non_null(vpn_sad_lookup(n.sad[1], new_spi, NULL));
    assert_ptr_equal(vpn_gdoi_gm_tek(n.gm[0]), old);
    assert_int_equal(send_between(&n, 0, 1, 20), 0);
    run_until(&n, t + 4 * NS);
    assert_ptr_equal(vpn_gdoi_gm_tek(n.gm[0]), old);
    run_until(&n, t + 6 * NS);
    /* after the activation delay they send on the new one */
    assert_registered(&n, 0);
    assert_registered(&n, 1);
    assert_int_equal(vpn_sa_get_config(vpn_gdoi_gm_tek(n.gm[0]))->spi, new_spi);
    assert_int_equal(send_between(&n, 0, 1, 21), 0);
    assert_non_null(vpn_sad_lookup(n.sad[1], old_spi, NULL));
    /* the old TEK goes after the deactivation delay, not at its lifetime */
    run_until(&n, t + 31 * NS);
    assert_null(vpn_sad_lookup(n.sad[1], old_spi, NULL));
    assert_null(vpn_sad_lookup(n.sad[0], old_spi, NULL));
    assert_int_equal(send_between(&n, 1, 0, 22), 0);
    net_free(&n);
}

static void rekey_flow(bool multicast)
{
    net n;
    uint32_t old_spi;
    vpn_sa *old0;
    uint64_t t0;

    net_init(&n, 3, multicast, NULL, 0, 0);
    register_all(&n);
    old_spi = vpn_gdoi_ks_tek_spi(n.ks);
    old0 = vpn_gdoi_gm_tek(n.gm[0]);
    t0 = n.now;
    /* the scheduled rekey comes lifetime/5 before the 600 s TEK expires */
    run_until(&n, t0 + 470 * NS);
    assert_int_equal(vpn_gdoi_ks_get_stats(n.ks)->rekeys, 0);
    run_until(&n, t0 + 481 * NS);
    assert_int_equal(vpn_gdoi_ks_get_stats(n.ks)->rekeys, 1);
    assert_int_not_equal(vpn_gdoi_ks_tek_spi(n.ks), old_spi);
    assert_int_equal(vpn_gdoi_ks_get_stats(n.ks)->rekey_msgs_sent, multicast ? 1 : 3);
    for (unsigned i = 0; i < 3; i++) {
        assert_registered(&n, i);
        assert_int_equal(vpn_gdoi_gm_get_stats(n.gm[i])->rekeys, 1);
        assert_int_equal(vpn_gdoi_gm_last_seq(n.gm[i]), 1);
    }
    /* the old TEK still decrypts inbound; the new one carries traffic */
    assert_non_null(vpn_sad_lookup(n.sad[1], old_spi, NULL));
    assert_ptr_not_equal(old0, vpn_gdoi_gm_tek(n.gm[0]));
    assert_int_equal(send_between(&n, 0, 1, 4), 0);
    run_until(&n, t0 + 505 * NS);
    if (multicast) {
        /* retransmissions (10 s apart, 2 of them) are replays to the members */
        assert_int_equal(vpn_gdoi_ks_get_stats(n.ks)->retransmits, 2);
        assert_int_equal(vpn_gdoi_ks_get_stats(n.ks)->acks, 0);
    } else {
        /* unicast rekeys are acknowledged, so nothing is retransmitted */
        assert_int_equal(vpn_gdoi_ks_get_stats(n.ks)->retransmits, 0);
        assert_int_equal(vpn_gdoi_ks_get_stats(n.ks)->acks, 3);
    }
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(vpn_gdoi_gm_get_stats(n.gm[i])->replays, multicast ? 2 : 0);
        assert_int_equal(vpn_gdoi_gm_get_stats(n.gm[i])->acks_sent, multicast ? 0 : 1);
        assert_int_equal(vpn_gdoi_gm_get_stats(n.gm[i])->rekeys, 1);
    }
    /* the old TEK leaves the SAD when its lifetime ends */
    run_until(&n, t0 + 601 * NS);
    assert_null(vpn_sad_lookup(n.sad[1], old_spi, NULL));
    /* a KEK roll: the next rekey is encrypted with the new KEK */
    assert_int_equal(vpn_gdoi_ks_rekey(n.ks, true, n.now), 0);
    pump(&n);
    for (unsigned i = 0; i < 3; i++)
        assert_registered(&n, i);
    assert_int_equal(vpn_gdoi_ks_rekey(n.ks, false, n.now), 0);
    pump(&n);
    for (unsigned i = 0; i < 3; i++) {
        assert_registered(&n, i);
        assert_int_equal(vpn_gdoi_gm_last_seq(n.gm[i]), 3);
    }
    assert_int_equal(send_between(&n, 2, 1, 5), 0);
    /* hours later, with the KS rekeying on schedule, everyone stays in */
    run_until(&n, n.now + 4 * 3600 * NS);
    for (unsigned i = 0; i < 3; i++) {
        assert_registered(&n, i);
        assert_int_equal(vpn_gdoi_gm_get_stats(n.gm[i])->registrations, 1);
    }
    assert_int_equal(send_between(&n, 1, 0, 6), 0);
    net_free(&n);
}

static void test_unicast_rekey(void **state)
{
    (void)state;
    rekey_flow(false);
}

static void test_multicast_rekey(void **state)
{
    (void)state;
    rekey_flow(true);
}

static void test_unauthorized(void **state)
{
    net n;
    vpn_addr ok[2];
    (void)state;
    ok[0] = tu_addr("198.51.100.11");
    ok[1] = tu_addr("198.51.100.12");
    net_init(&n, 3, false, ok, 2, 0);
    register_all(&n);
    assert_registered(&n, 0);
    assert_registered(&n, 1);
    assert_int_not_equal(vpn_gdoi_gm_get_state(n.gm[2]), VPN_GDOI_GM_REGISTERED);
    assert_null(vpn_gdoi_gm_tek(n.gm[2]));
    assert_int_equal(vpn_sad_count(n.sad[2]), 0);
    assert_int_equal(vpn_gdoi_ks_members(n.ks), 2);
    assert_int_equal(vpn_gdoi_ks_get_stats(n.ks)->refused, 1);
    /* it keeps trying and keeps being refused */
    run_until(&n, n.now + 60 * NS);
    assert_null(vpn_gdoi_gm_tek(n.gm[2]));
    assert_true(vpn_gdoi_ks_get_stats(n.ks)->refused >= 2);
    net_free(&n);
}

/* Snapshot of what a member must not lose to a bad message. */
typedef struct snap {
    vpn_gdoi_gm_state st;
    vpn_sa *tek;
    uint32_t seq;
    uint8_t kek[16];
    size_t nsa, nspd;
    uint64_t rekeys;
} snap;

static snap take(net *n, unsigned i)
{
    snap s;
    s.st = vpn_gdoi_gm_get_state(n->gm[i]);
    s.tek = vpn_gdoi_gm_tek(n->gm[i]);
    s.seq = vpn_gdoi_gm_last_seq(n->gm[i]);
    memcpy(s.kek, vpn_gdoi_gm_kek_spi(n->gm[i]), 16);
    s.nsa = vpn_sad_count(n->sad[i]);
    s.nspd = vpn_spd_count(n->spd[i]);
    s.rekeys = vpn_gdoi_gm_get_stats(n->gm[i])->rekeys;
    return s;
}

static void same(net *n, unsigned i, const snap *s)
{
    snap t = take(n, i);
    assert_int_equal(t.st, s->st);
    assert_ptr_equal(t.tek, s->tek);
    assert_int_equal(t.seq, s->seq);
    assert_memory_equal(t.kek, s->kek, 16);
    assert_int_equal(t.nsa, s->nsa);
    assert_int_equal(t.nspd, s->nspd);
    assert_int_equal(t.rekeys, s->rekeys);
}

/* Decrypts a PUSH body with the KEK, lets f change the plaintext, re-encrypts. */
static void kek_reseal(uint8_t *dg, size_t len, const uint8_t *key, const uint8_t *iv, bool enc)
{
    vpn_cipher *c;
    assert_int_equal(vpn_cipher_new(&c, VPN_ENCR_AES_CBC, 256, key, 32, enc), 0);
    if (enc)
        assert_int_equal(vpn_cipher_encrypt(c, iv, dg + 28, len - 28), 0);
    else
        assert_int_equal(vpn_cipher_decrypt(c, iv, dg + 28, len - 28), 0);
    vpn_cipher_del(c);
}

static void test_adversarial_push(void **state)
{
    net n;
    uint8_t key[32], iv[16], m[DG_MAX], plain[DG_MAX];
    const uint8_t *kp, *ivp;
    dgram push;
    size_t len;
    uint64_t bad0;
    snap s;
    (void)state;

    net_init(&n, 1, false, NULL, 0, 0);
    register_all(&n);
    assert_registered(&n, 0);
    vpn_gdoi_ks_kek(n.ks, &kp, &ivp);
    memcpy(key, kp, 32);
    memcpy(iv, ivp, 16);
    /* a genuine rekey, held back */
    n.drop_to[0] = true;
    assert_int_equal(vpn_gdoi_ks_rekey(n.ks, false, n.now), 0);
    assert_int_equal(n.nkeep, 1);
    push = n.keep[0];
    pump(&n);
    n.drop_to[0] = false;
    len = push.len;
    memcpy(plain, push.b, len);
    kek_reseal(plain, len, key, iv, false);
    s = take(&n, 0);

    /* every truncation: each one counted and reported as malformed (or,
     * cut inside the KEK-encrypted body, as not decrypting) */
    for (size_t k = 0; k < len; k++) {
        unsigned ev0 = n.ev[0].n[VPN_GDOI_GM_EV_MALFORMED] + n.ev[0].n[VPN_GDOI_GM_EV_BAD_KEK];
        assert_int_not_equal(vpn_gdoi_gm_input(n.gm[0], push.b, k, n.now), 0);
        same(&n, 0, &s);
        assert_int_equal(n.ev[0].n[VPN_GDOI_GM_EV_MALFORMED] + n.ev[0].n[VPN_GDOI_GM_EV_BAD_KEK],
                         ev0 + 1);
    }
    /* a flipped bit anywhere in the ciphertext */
    for (size_t k = 28; k < len; k += 7) {
        memcpy(m, push.b, len);
        m[k] ^= 0x10;
        assert_int_not_equal(vpn_gdoi_gm_input(n.gm[0], m, len, n.now), 0);
        same(&n, 0, &s);
    }
    /* a bad signature, properly encrypted */
    bad0 = vpn_gdoi_gm_get_stats(n.gm[0])->bad_sig;
    memcpy(m, plain, len);
    m[len - 40] ^= 1; /* inside SIG (padding is at most 16 octets) */
    kek_reseal(m, len, key, iv, true);
    assert_int_equal(vpn_gdoi_gm_input(n.gm[0], m, len, n.now), VPN_ERR_AUTH);
    same(&n, 0, &s);
    assert_int_equal(vpn_gdoi_gm_get_stats(n.gm[0])->bad_sig, bad0 + 1);
    /* reported as an event the driver can count (SEQ 1: the held rekey's) */
    assert_int_equal(n.ev[0].last.kind, VPN_GDOI_GM_EV_BAD_SIGNATURE);
    assert_int_equal(n.ev[0].last.err, VPN_ERR_AUTH);
    assert_int_equal(n.ev[0].last.seq, 1);
    assert_int_equal(n.ev[0].n[VPN_GDOI_GM_EV_BAD_SIGNATURE], bad0 + 1);
    /* a changed TEK SPI under the old signature */
    memcpy(m, plain, len);
    m[28 + 40] ^= 1;
    kek_reseal(m, len, key, iv, true);
    assert_int_not_equal(vpn_gdoi_gm_input(n.gm[0], m, len, n.now), 0);
    same(&n, 0, &s);
    /* a wrong KEK */
    memcpy(m, plain, len);
    key[0] ^= 1;
    kek_reseal(m, len, key, iv, true);
    key[0] ^= 1;
    assert_int_not_equal(vpn_gdoi_gm_input(n.gm[0], m, len, n.now), 0);
    same(&n, 0, &s);
    assert_true(vpn_gdoi_gm_get_stats(n.gm[0])->bad_kek >= 1);
    assert_int_equal(n.ev[0].last.kind, VPN_GDOI_GM_EV_BAD_KEK);
    /* an unknown KEK SPI */
    memcpy(m, push.b, len);
    m[3] ^= 1;
    assert_int_equal(vpn_gdoi_gm_input(n.gm[0], m, len, n.now), VPN_ERR_NOTFOUND);
    same(&n, 0, &s);
    assert_int_equal(n.ev[0].last.kind, VPN_GDOI_GM_EV_BAD_KEK);
    assert_int_equal(n.ev[0].last.err, VPN_ERR_NOTFOUND);
    assert_int_equal(n.ev[0].n[VPN_GDOI_GM_EV_REPLAY], 0);
    /* the genuine one still applies, once */
    assert_int_equal(vpn_gdoi_gm_input(n.gm[0], push.b, len, n.now), 0);
    assert_int_equal(vpn_gdoi_gm_last_seq(n.gm[0]), 1);
    s = take(&n, 0);
    assert_int_equal(vpn_gdoi_gm_input(n.gm[0], push.b, len, n.now), VPN_ERR_REPLAY);
    same(&n, 0, &s);
    assert_int_equal(n.ev[0].last.kind, VPN_GDOI_GM_EV_REPLAY);
    assert_int_equal(n.ev[0].last.err, VPN_ERR_REPLAY);
    assert_int_equal(n.ev[0].last.seq, 1);
    assert_int_equal(n.ev[0].n[VPN_GDOI_GM_EV_REPLAY], 1);
    /* an older rekey (SEQ 1) replayed after SEQ 2 */
    assert_int_equal(vpn_gdoi_ks_rekey(n.ks, false, n.now), 0);
    pump(&n);
    assert_int_equal(vpn_gdoi_gm_last_seq(n.gm[0]), 2);
    s = take(&n, 0);
    assert_int_equal(vpn_gdoi_gm_input(n.gm[0], push.b, len, n.now), VPN_ERR_REPLAY);
    same(&n, 0, &s);
    net_free(&n);
}

static void test_adversarial_pull(void **state)
{
    net n;
    uint8_t m[DG_MAX];
    (void)state;

    net_init(&n, 1, false, NULL, 0, 0);
    assert_int_equal(vpn_gdoi_gm_start(n.gm[0], n.now), 0);
    /* run phase 1 and the first pull message by hand */
    for (int step = 0; step < 16; step++) {
        dgram d;
        assert_int_equal(n.w.nq, 1);
        d = n.w.q[0];
        n.w.nq = 0;
        if (vpn_addr_eq(&d.dst, &n.ks_addr)) {
            assert_int_equal(vpn_gdoi_ks_input(n.ks, &d.src, d.b, d.len, n.now), 0);
            continue;
        }
        if (d.b[18] == VPN_GDOI_EXCH_PULL) {
            vpn_gdoi_gm_state st = vpn_gdoi_gm_get_state(n.gm[0]);
            /* KS -> GM pull messages: truncated, flipped: refused, state kept */
            for (size_t k = 0; k < d.len; k += 5) {
                assert_int_not_equal(vpn_gdoi_gm_input(n.gm[0], d.b, k, n.now), 0);
                assert_int_equal(vpn_gdoi_gm_get_state(n.gm[0]), st);
            }
            for (size_t k = 28; k < d.len; k += 3) {
                memcpy(m, d.b, d.len);
                m[k] ^= 0x04;
                assert_int_not_equal(vpn_gdoi_gm_input(n.gm[0], m, d.len, n.now), 0);
                assert_int_equal(vpn_gdoi_gm_get_state(n.gm[0]), st);
            }
            assert_int_equal(vpn_sad_count(n.sad[0]), 0);
        }
        {
            int rc = vpn_gdoi_gm_input(n.gm[0], d.b, d.len, n.now);
            if (rc)
                fprintf(stderr, "step %d exchange %u: %d in state %d\n", step, d.b[18], rc,
                        vpn_gdoi_gm_get_state(n.gm[0]));
            assert_int_equal(rc, 0);
        }
        if (vpn_gdoi_gm_get_state(n.gm[0]) == VPN_GDOI_GM_REGISTERED)
            break;
    }
    assert_registered(&n, 0);
    net_free(&n);
}

/* Hostile or broken datagrams to the key server change nothing there. */
static void test_adversarial_ks(void **state)
{
    net n;
    uint8_t m[DG_MAX];
    vpn_gdoi_ks_stats st0;
    (void)state;

    net_init(&n, 2, false, NULL, 0, 0);
    assert_int_equal(vpn_gdoi_gm_start(n.gm[0], n.now), 0);
    for (int step = 0; step < 16 && n.w.nq; step++) {
        dgram d = n.w.q[0];
        n.w.nq = 0;
        if (vpn_addr_eq(&d.dst, &n.ks_addr)) {
            size_t members = vpn_gdoi_ks_members(n.ks);
            /* truncations of every GM -> KS message, and bit flips of the
             * protected ones (GROUPKEY-PULL; an unauthenticated Main Mode
             * message with a changed body is simply another offer) */
            for (size_t k = 0; k < d.len; k += 3) {
                assert_int_not_equal(vpn_gdoi_ks_input(n.ks, &d.src, d.b, k, n.now), 0);
                if (d.b[18] == VPN_GDOI_EXCH_PULL) {
                    memcpy(m, d.b, d.len);
                    m[k] ^= 0x20;
                    assert_int_not_equal(vpn_gdoi_ks_input(n.ks, &d.src, m, d.len, n.now), 0);
                }
                assert_int_equal(vpn_gdoi_ks_members(n.ks), members);
            }
            assert_int_equal(n.w.nq, 0); /* nothing answered */
            assert_int_equal(vpn_gdoi_ks_input(n.ks, &d.src, d.b, d.len, n.now), 0);
        } else {
            assert_int_equal(vpn_gdoi_gm_input(n.gm[0], d.b, d.len, n.now), 0);
        }
    }
    assert_registered(&n, 0);
    assert_int_equal(vpn_gdoi_ks_members(n.ks), 1);
    st0 = *vpn_gdoi_ks_get_stats(n.ks);
    assert_int_equal(st0.registrations, 1);
    /* a member of another group, and one with a wrong pre-shared key */
    {
        vpn_gdoi_gm *other;
        vpn_gdoi_gm_cfg gc;
        memset(&gc, 0, sizeof gc);
        gc.group_id = 999;
        gc.local = n.gm_addr[1];
        gc.ks = n.ks_addr;
        gc.ike.psk = (const uint8_t *)"gdoi-psk";
        gc.ike.psk_len = 8;
        gc.sad = n.sad[1];
        gc.spd = n.spd[1];
        assert_int_equal(vpn_gdoi_gm_new(&other, &gc, &n.rng, NULL, on_send, &n), 0);
        vpn_gdoi_gm_del(n.gm[1]);
        n.gm[1] = other;
        assert_int_equal(vpn_gdoi_gm_start(n.gm[1], n.now), 0);
        pump(&n);
        assert_int_not_equal(vpn_gdoi_gm_get_state(n.gm[1]), VPN_GDOI_GM_REGISTERED);
        assert_int_equal(vpn_gdoi_ks_get_stats(n.ks)->refused, st0.refused + 1);
        assert_int_equal(vpn_gdoi_ks_members(n.ks), 1);
    }
    net_free(&n);
}

static void test_reregister_when_keys_lapse(void **state)
{
    net n;
    uint64_t t0;
    (void)state;
    net_init(&n, 2, false, NULL, 0, 0);
    register_all(&n);
    t0 = n.now;
    n.drop_to[1] = true; /* member 1 misses every rekey */
    run_until(&n, t0 + 560 * NS);
    assert_int_equal(vpn_gdoi_gm_get_stats(n.gm[1])->rekeys, 0);
    n.drop_to[1] = false;
    run_until(&n, t0 + 700 * NS);
    /* it registered again before its TEK ran out and has the new keys */
    assert_int_equal(vpn_gdoi_gm_get_stats(n.gm[1])->registrations, 2);
    assert_registered(&n, 1);
    assert_registered(&n, 0);
    assert_int_equal(vpn_gdoi_gm_get_stats(n.gm[0])->registrations, 1);
    assert_int_equal(vpn_gdoi_ks_members(n.ks), 2);
    assert_int_equal(send_between(&n, 0, 1, 7), 0);
    net_free(&n);
}

static void test_removal_after_three_missed(void **state)
{
    net n;
    uint64_t t0;
    (void)state;
    net_init(&n, 3, false, NULL, 0, 0);
    register_all(&n);
    t0 = n.now;
    /* member 2 hears nothing, not even its own re-registration answers */
    n.drop_to[2] = true;
    run_until(&n, t0 + 481 * NS); /* rekey 1 */
    assert_int_equal(vpn_gdoi_ks_get_stats(n.ks)->rekeys, 1);
    run_until(&n, t0 + 520 * NS); /* its retransmissions and the verdict */
    assert_int_equal(vpn_gdoi_ks_get_stats(n.ks)->retransmits, 2);
    assert_int_equal(vpn_gdoi_ks_members(n.ks), 3);
    run_until(&n, t0 + 1000 * NS); /* rekey 2 */
    assert_int_equal(vpn_gdoi_ks_members(n.ks), 3);
    run_until(&n, t0 + 1445 * NS); /* rekey 3 (every 480 s) */
    assert_int_equal(vpn_gdoi_ks_get_stats(n.ks)->rekeys, 3);
    assert_int_equal(vpn_gdoi_ks_members(n.ks), 3);
    run_until(&n, t0 + 1480 * NS); /* third miss, 30 s later: removed */
    assert_int_equal(vpn_gdoi_ks_members(n.ks), 2);
    assert_int_equal(vpn_gdoi_ks_get_stats(n.ks)->removed, 1);
    assert_int_not_equal(vpn_gdoi_gm_get_state(n.gm[2]), VPN_GDOI_GM_REGISTERED);
    /* the others acknowledged every rekey and stay */
    assert_registered(&n, 0);
    assert_registered(&n, 1);
    assert_int_equal(send_between(&n, 0, 1, 9), 0);
    /* connectivity returns: it registers again */
    n.drop_to[2] = false;
    run_until(&n, n.now + 60 * NS);
    assert_registered(&n, 2);
    assert_int_equal(vpn_gdoi_ks_members(n.ks), 3);
    assert_int_equal(send_between(&n, 2, 0, 10), 0);
    net_free(&n);
}

static void want_line(const char *text, const char *line)
{
    if (!strstr(text, line))
        fail_msg("missing \"%s\" in:\n%s", line, text);
}

static void test_show(void **state)
{
    net n;
    static char out[8192];
    char spi[64];
    vpn_show_buf b;
    (void)state;
    net_init(&n, 2, false, NULL, 0, 5);
    register_all(&n);
    assert_int_equal(vpn_gdoi_ks_rekey(n.ks, false, n.now), 0);
    pump(&n);

    vpn_show_init(&b, out, sizeof out);
    assert_int_equal(vpn_show_gdoi_gm(n.gm[0], n.now, &b), 0);
    if (getenv("VPN_TEST_LOG"))
        fprintf(stderr, "%s\n", out);
    want_line(out, "    Group Name               : GETVPN\n");
    want_line(out, "    Group Identity           : 1234\n");
    want_line(out, "    Rekeys received          : 1\n");
    want_line(out, "       Registration status   : Registered\n");
    want_line(out, "       Remote addr/port      : 192.0.2.1/848\n");
    want_line(out, "       Last rekey seq num    : 1\n");
    want_line(out, "       Rekey ACKs sent       : 1\n");
    want_line(out, "permit ip 10.0.0.0 0.255.255.255 10.0.0.0 0.255.255.255\n");
    want_line(out, "        Rekey Transport Type     : Unicast\n");
    want_line(out, "        Sig Key Length (bits)    : 2048\n");
    snprintf(spi, sizeof spi, "spi: 0x%08X(%u)", vpn_gdoi_ks_tek_spi(n.ks), vpn_gdoi_ks_tek_spi(n.ks));
    want_line(out, spi);
    want_line(out, "transform: esp-256-aes esp-sha256-hmac\n");
    want_line(out, "Anti-Replay(Time Based) : 5 sec interval\n");
    want_line(out, "(sec): (599)\n");
    want_line(out, "       Succeeded registration: 1\n");
    want_line(out, "       Unicast rekey received: 1\n");

    vpn_show_init(&b, out, sizeof out);
    assert_int_equal(vpn_show_gdoi_ks(n.ks, n.now, &b), 0);
    if (getenv("VPN_TEST_LOG"))
        fprintf(stderr, "%s\n", out);
    want_line(out, "    Group Members            : 2\n");
    want_line(out, "    Rekey Retransmit Period  : 10 secs\n");
    want_line(out, "    Replay method            : Time Based\n");
    want_line(out, "    Rekeys sent              : 1\n");
    want_line(out, spi);

    vpn_show_init(&b, out, sizeof out);
    assert_int_equal(vpn_show_gdoi_ks_members(n.ks, &b), 0);
    want_line(out, "Group Member ID    : 198.51.100.11\n");
    want_line(out, "Group Member ID    : 198.51.100.12\n");
    want_line(out, " Rcvd seq num      : 1\n");

    /* a buffer too small reports truncation */
    vpn_show_init(&b, out, 64);
    assert_int_equal(vpn_show_gdoi_ks(n.ks, n.now, &b), VPN_ERR_NOSPACE);
    net_free(&n);
}

/* ---- the trace of issue 7 ---------------------------------------------------- */

static void test_trace(void **state)
{
    net n;
    char dir[1024], path[1200], plainp[1200], tshark[1024], cmd[4096];
    FILE *f;
    char *out;
    (void)state;

    snprintf(dir, sizeof dir, "%s/gdoi-trace", VPN_BUILD_DIR);
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/wireshark", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/gdoi-registration-rekeys.pcap", dir);
    snprintf(plainp, sizeof plainp, "%s/gdoi-registration-rekeys.plain.pcap", dir);

    net_init(&n, 2, false, NULL, 0, 30);
    tu_gdoi_trace_open(&n.w, path, plainp);
    register_all(&n);
    assert_registered(&n, 0);
    assert_registered(&n, 1);
    assert_int_equal(vpn_gdoi_ks_rekey(n.ks, false, n.now), 0); /* unicast */
    pump(&n);
    assert_int_equal(vpn_gdoi_ks_set_multicast(n.ks, true, &n.mcast), 0);
    assert_int_equal(vpn_gdoi_ks_rekey(n.ks, true, n.now), 0); /* multicast, new KEK */
    pump(&n);
    for (unsigned i = 0; i < 2; i++) {
        assert_registered(&n, i);
        assert_int_equal(vpn_gdoi_gm_last_seq(n.gm[i]), 2);
    }
    tu_gdoi_trace_close(&n.w);

    /* Wireshark's key files: phase-1 keys by initiator cookie, UDP 848 as ISAKMP */
    snprintf(cmd, sizeof cmd, "%s/wireshark/ikev1_decryption_table", dir);
    f = fopen(cmd, "w");
    assert_non_null(f);
    for (unsigned i = 0; i < 2; i++) {
        char line[128];
        assert_true(vpn_ikev1_sa_wireshark_line(vpn_gdoi_gm_phase1(n.gm[i]), line, sizeof line) > 0);
        fprintf(f, "%s\n", line);
    }
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s/wireshark/decode_as_entries", dir);
    f = fopen(cmd, "w");
    assert_non_null(f);
    fputs("# This file is automatically generated, DO NOT MODIFY.\n"
          "decode_as_entry: udp.port,848,(none),ISAKMP\n",
          f);
    fclose(f);
    net_free(&n);

    tu_find_tshark(tshark, sizeof tshark);
    /* the trace as sent: decoded as ISAKMP, nothing malformed; Main Mode
     * messages 5 and 6 decrypted from the table */
    snprintf(cmd, sizeof cmd, "XDG_CONFIG_HOME='%s' '%s' -r '%s' -V 2>&1", dir, tshark, path);
    out = tu_run(cmd);
    if (strstr(out, "Malformed") || strstr(out, "malformed"))
        fail_msg("tshark reports a malformed packet:\n%s", out);
    if (!strstr(out, "Internet Security Association and Key Management Protocol"))
        fail_msg("UDP 848 not dissected as ISAKMP:\n%.2000s", out);
    if (!strstr(out, "Payload: Identification (5)") || !strstr(out, "Payload: Hash (8)"))
        fail_msg("Main Mode was not decrypted with ikev1_decryption_table:\n%.4000s", out);
    free(out);
    /* the decrypted view: registration and both rekeys in clear */
    snprintf(cmd, sizeof cmd, "XDG_CONFIG_HOME='%s' '%s' -r '%s' -V 2>&1", dir, tshark, plainp);
    out = tu_run(cmd);
    if (strstr(out, "Malformed") || strstr(out, "malformed"))
        fail_msg("tshark reports a malformed packet in the decrypted view:\n%s", out);
    {
        /*
         * This tshark (4.0) dissects the SA KEK inline in the SA body, with
         * no heading of its own: it shows as the SA's first sub-payload
         * type 15 ("SA Attribute Next Payload: 000f") followed by its
         * rekey-datagram selectors and 16-octet SPI.
         */
        static const char *want[] = {"SA Attribute Next Payload: 000f",
                                     "SRC ID Port: 848",
                                     "SA TEK Payload",
                                     "Payload: Key Download (17)",
                                     "Type: TEK (1)",
                                     "Type: KEK (2)",
                                     "Payload: Sequence Number (18)",
                                     "Payload: Signature (9)",
                                     "Exchange type: New Group Mode (33)"};
        for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
            if (!strstr(out, want[i]))
                fail_msg("decrypted view lacks %s:\n%.6000s", want[i], out);
    }
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registration_and_traffic),
        cmocka_unit_test(test_gcm_tek),
        cmocka_unit_test(test_spd_seq_no_tie),
        cmocka_unit_test(test_multi_line_policy),
        cmocka_unit_test(test_gdoid_layout),
        cmocka_unit_test(test_gap_delays),
        cmocka_unit_test(test_receive_only),
        cmocka_unit_test(test_unicast_rekey),
        cmocka_unit_test(test_multicast_rekey),
        cmocka_unit_test(test_unauthorized),
        cmocka_unit_test(test_adversarial_push),
        cmocka_unit_test(test_adversarial_pull),
        cmocka_unit_test(test_adversarial_ks),
        cmocka_unit_test(test_reregister_when_keys_lapse),
        cmocka_unit_test(test_removal_after_three_missed),
        cmocka_unit_test(test_show),
        cmocka_unit_test(test_trace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
