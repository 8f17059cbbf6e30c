/*
 * Driver conformance, through the router core with a counter clock: the
 * scenarios every driver (this in-memory one, the ns-3 shim, vpnd) must
 * pass with the same outcomes.
 *   1. on-demand DPD (RFC 7296 2.4; IOS `dpd 10 2 on-demand`) finds a peer
 *      that stopped answering traffic, and only then;
 *   2. a kilobyte lifetime runs out under traffic and the CHILD_SA is
 *      rekeyed before it, with nothing lost (RFC 4301 4.4.2.1, RFC 7296 2.8);
 *   3. a CHILD_SA rekey under traffic in both directions loses nothing, the
 *      responder switches when the old pair is deleted, and the old inbound
 *      SA stays for exactly the grace period (router.h): a packet delayed
 *      in the network within it is delivered, one delayed beyond is not;
 *   4. NAT-T demultiplexing of UDP 4500 (RFC 3948 2.1-2.3, RFC 7296 2.23):
 *      IKE behind the non-ESP marker, ESP in UDP, NAT-keepalives, and
 *      hostile datagrams dropped and counted with everything still working.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router-net.h"

static void bring_up(rn_net *n, const char *profile_extra, const char *ipsec_extra, const char *mode,
                     vpn_router_tunnel_mode tmode)
{
    char *a = rn_flex_conf(0, NULL, profile_extra, ipsec_extra, mode, NULL);
    char *b = rn_flex_conf(1, NULL, profile_extra, ipsec_extra, mode, NULL);
    rn_init(n);
    rn_add(n, 0, a, tmode, true, NULL);
    rn_add(n, 1, b, tmode, false, NULL);
    free(a);
    free(b);
    assert_int_equal(vpn_router_start(n->node[0].r, n->now), 0);
    assert_int_equal(vpn_router_start(n->node[1].r, n->now), 0);
    rn_run_for(n, 1);
    assert_int_equal(rn_count(&n->node[0], VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_UP), 1);
    assert_int_equal(rn_count(&n->node[1], VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_UP), 1);
}

/* ---- 1. on-demand DPD ------------------------------------------------------------ */

static void test_dpd_on_demand_silent_peer(void **state)
{
    rn_net n;
    rn_node *a, *b;
    uint64_t ike_before, silent_at;
    const rn_ev *down;
    vpn_router_tunnel_info ti;
    (void)state;

    bring_up(&n, " dpd 10 2 on-demand\n", NULL, NULL, VPN_ROUTER_TUNNEL_GRE_IPSEC);
    a = &n.node[0];
    b = &n.node[1];
    /* Traffic both ways for 60 s: every packet from R1 is answered, so
     * on-demand DPD has no question to ask (the router reports inbound
     * traffic to the engine). */
    rn_traffic(a, 10);
    rn_traffic(b, 10);
    ike_before = a->ike_sent;
    rn_run_for(&n, 60);
    assert_int_equal(a->ike_sent, ike_before);
    assert_int_equal(rn_lost(a, b), 0);
    assert_true(b->rx >= 590);

    /* R2 goes silent; R1 keeps sending into the tunnel. */
    rn_traffic(b, 0);
    n.silent[1] = true;
    silent_at = n.now;
    ike_before = a->ike_sent;
    rn_run_for(&n, 9.5);
    assert_int_equal(a->ike_sent, ike_before); /* not before 10 s of silence */
    rn_run_for(&n, 1);
    assert_int_equal(a->ike_sent, ike_before + 1); /* the liveness check */
    rn_run_for(&n, 120);
    down = rn_find(a, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_IKE_DOWN, 0);
    assert_non_null(down);
    assert_int_equal(down->reason, VPN_IKEV2_R_DPD);
    assert_true(down->at > silent_at + 10 * RN_NS);
    /* the router took the CHILD_SA out of the data plane */
    assert_true(rn_count(a, VPN_ROUTER_EV_SA_REMOVED, 0) >= 2);
    assert_int_equal(vpn_router_tunnel_get(a->r, a->tunnel, &ti), 0);
    /* traffic met no SA after that and asked for the tunnel again, once per
     * hold-down at most */
    assert_true(a->drops[VPN_ROUTER_DROP_NO_SA] > 0);
    assert_true(rn_count(a, VPN_ROUTER_EV_INITIATED, 0) >= 2);
    rn_free(&n);
}

/* Without traffic nothing is asked, however long the peer is silent. */
static void test_dpd_on_demand_idle(void **state)
{
    rn_net n;
    uint64_t ike_before;
    (void)state;

    bring_up(&n, " dpd 10 2 on-demand\n", NULL, NULL, VPN_ROUTER_TUNNEL_GRE_IPSEC);
    n.silent[1] = true;
    ike_before = n.node[0].ike_sent;
    rn_run_for(&n, 300);
    assert_int_equal(n.node[0].ike_sent, ike_before);
    assert_int_equal(rn_count(&n.node[0], VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_IKE_DOWN), 0);
    rn_free(&n);
}

/* ---- 2. byte lifetime -------------------------------------------------------------- */

static void test_byte_lifetime_rekeys(void **state)
{
    rn_net n;
    rn_node *a, *b;
    vpn_router_stats sa_st, sb_st;
    vpn_router_tunnel_info t0, t1;
    vpn_sa_config cfg;
    vpn_sa_stats st;
    const rn_ev *up;
    (void)state;

    /* 2560 KB (IOS's least): the initiator's soft limit is 90% of it */
    bring_up(&n, NULL, " set security-association lifetime kilobytes 2560\n", NULL, VPN_ROUTER_TUNNEL_GRE_IPSEC);
    a = &n.node[0];
    b = &n.node[1];
    assert_int_equal(vpn_router_tunnel_get(a->r, a->tunnel, &t0), 0);
    /* the limits reached the SAs */
    assert_true(vpn_router_sa_get(a->r, &t0.out_sa, &cfg, NULL));
    assert_int_equal(cfg.hard.bytes, 2560u * 1024u);
    assert_int_equal(cfg.soft.bytes, 2560u * 1024u / 10 * 9);
    assert_int_equal(cfg.hard.time_ns, 3600ull * RN_NS);
    /* 1000-byte payloads at 1000 packets/s: ~1 MB/s */
    a->tx_payload = 1000;
    rn_traffic(a, 1000);
    rn_run_for(&n, 2);
    assert_int_equal(rn_count(a, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_REKEYED), 0);
    rn_run_for(&n, 1.5);
    assert_int_equal(rn_count(a, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_REKEYED), 1);
    assert_int_equal(rn_count(b, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_REKEYED), 1);
    vpn_router_stats_get(a->r, &sa_st);
    vpn_router_stats_get(b->r, &sb_st);
    assert_int_equal(sa_st.lifetime_rekeys, 1); /* R1 asked, by bytes */
    assert_int_equal(sb_st.lifetime_rekeys, 0);
    /* the rekey happened near 90% of 2560 KB, long before 3600 s */
    up = rn_find(a, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_UP, 1);
    assert_non_null(up);
    assert_int_equal(up->old_id, t0.out_child);
    assert_int_equal(vpn_router_tunnel_get(a->r, a->tunnel, &t1), 0);
    assert_int_not_equal(t1.out_child, t0.out_child);
    assert_int_not_equal(t1.out_sa.spi, t0.out_sa.spi);
    rn_traffic(a, 0);
    rn_run_for(&n, 3);
    assert_int_equal(rn_lost(a, b), 0);
    assert_int_equal(b->rx_dup, 0);
    /* the old SA carried its bytes and is gone after the grace */
    assert_false(vpn_router_sa_get(a->r, &t0.out_sa, NULL, NULL));
    assert_true(vpn_router_sa_get(a->r, &t1.out_sa, NULL, &st));
    assert_true(st.bytes_out > 0);
    rn_free(&n);
}

/* The hard byte limit: a peer that refuses every rekey; the SA stops at
 * its limit (nothing leaves on it beyond) and the CHILD_SA is deleted. */
static bool drop_create_child(rn_net *n, rn_msg *m, void *user)
{
    (void)n;
    (void)user;
    /* CREATE_CHILD_SA (36) requests from R1 never arrive */
    return !(m->udp && m->from == 0 && m->len >= 28 && m->data[18] == 36);
}

static void test_byte_lifetime_hard(void **state)
{
    rn_net n;
    rn_node *a, *b;
    vpn_router_stats st;
    (void)state;

    bring_up(&n, NULL, " set security-association lifetime kilobytes 2560\n", NULL, VPN_ROUTER_TUNNEL_GRE_IPSEC);
    a = &n.node[0];
    b = &n.node[1];
    n.hook = drop_create_child;
    a->tx_payload = 1000;
    rn_traffic(a, 1000);
    rn_run_for(&n, 4);
    vpn_router_stats_get(a->r, &st);
    assert_int_equal(st.lifetime_deletes, 1);
    assert_true(a->drops[VPN_ROUTER_DROP_ENCAP] > 0);
    /* no more than the limit crossed the SA */
    assert_true((uint64_t)b->rx * 1028u <= 2560u * 1024u + 1028u);
    /* the Delete waits behind the unanswered rekey (one request at a time,
     * RFC 7296 2.3); the pair goes when the IKE SA gives up on the peer */
    rn_traffic(a, 0);
    rn_run_for(&n, 120);
    assert_true(rn_count(a, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_DOWN) >= 1);
    assert_true(rn_count(a, VPN_ROUTER_EV_SA_REMOVED, 0) >= 2);
    rn_free(&n);
}

/* ---- 3. rekey under traffic, grace ------------------------------------------------ */

typedef struct delay_one {
    uint32_t spi;        /* R1's old inbound SPI */
    bool armed, done;
    uint64_t delay;
    uint32_t seq;        /* the inner number of the delayed packet */
} delay_one;

/* Holds back the first ESP packet R2 sends on the old SA once R1 (the
 * rekey's initiator) has the new pair: R2 still sends on the old one until
 * R1's Delete arrives. */
static bool delay_hook(rn_net *n, rn_msg *m, void *user)
{
    delay_one *d = user;
    if (!d->armed || d->done || m->udp || m->from != 1 || m->len < 28 ||
        rn_count(&n->node[0], VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_UP) < 2)
        return true;
    if (((uint32_t)m->data[20] << 24 | (uint32_t)m->data[21] << 16 | (uint32_t)m->data[22] << 8 | m->data[23]) !=
        d->spi)
        return true;
    d->done = true;
    for (uint32_t s = 0; s < n->node[1].tx_seq; s++)
        if (n->node[1].sent_at[s] == m->sent)
            d->seq = s;
    m->at += d->delay;
    m->requeue = true;
    return false;
}

/* Runs a rekey with traffic both ways, delaying one of R2's packets on the
 * old SA by `delay`; returns losses from R2 to R1. */
static uint32_t rekey_under_traffic(uint64_t delay, delay_one *d, rn_net *n)
{
    rn_node *a, *b;
    vpn_router_tunnel_info ti;
    vpn_router_sa_ref in0;
    const rn_ev *up_a, *up_b, *down_a, *down_b, *rm;
    uint32_t old_child;

    bring_up(n, NULL, " set security-association lifetime seconds 300\n", NULL, VPN_ROUTER_TUNNEL_GRE_IPSEC);
    a = &n->node[0];
    b = &n->node[1];
    assert_int_equal(vpn_router_tunnel_get(a->r, a->tunnel, &ti), 0);
    old_child = ti.out_child;
    assert_true(vpn_router_child_sas(a->r, old_child, &in0, NULL));
    memset(d, 0, sizeof *d);
    d->spi = in0.spi;
    d->delay = delay;
    n->hook = delay_hook;
    n->hook_user = d;
    rn_traffic(a, 20);
    rn_traffic(b, 20);
    rn_run_for(n, 265);
    /* R1 (initiator) rekeys at 90% of 300 s: dense traffic around it */
    assert_int_equal(rn_count(a, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_REKEYED), 0);
    rn_traffic(a, 1000);
    rn_traffic(b, 1000);
    d->armed = true;
    rn_run_for(n, 10);
    rn_traffic(a, 20);
    rn_traffic(b, 20);
    rn_run_for(n, 10);
    rn_traffic(a, 0);
    rn_traffic(b, 0);
    rn_run_for(n, 5);

    assert_int_equal(rn_count(a, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_REKEYED), 1);
    assert_int_equal(rn_count(b, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_REKEYED), 1);
    up_a = rn_find(a, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_UP, 1);
    up_b = rn_find(b, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_UP, 1);
    down_a = rn_find(a, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_DOWN, 0);
    down_b = rn_find(b, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_DOWN, 0);
    assert_non_null(up_a);
    assert_non_null(up_b);
    assert_non_null(down_a);
    assert_non_null(down_b);
    assert_int_equal(down_a->reason, VPN_IKEV2_R_REKEYED);
    assert_int_equal(down_b->reason, VPN_IKEV2_R_REKEYED);
    /* the initiator sends on the new pair from its CHILD_UP; the responder
     * keeps the old one until the old pair is deleted, then switches */
    assert_int_equal(up_a->out_child_after, up_a->child_id);
    assert_int_equal(up_b->out_child_after, up_b->old_id);
    assert_int_equal(down_b->out_child_after, up_b->child_id);
    /* the old inbound SA went exactly one grace after CHILD_DOWN(REKEYED) */
    for (size_t i = 0, k = 0; (rm = rn_find(a, VPN_ROUTER_EV_SA_REMOVED, 0, (int)k)) != NULL; k++, i++) {
        if (rm->sa.spi == in0.spi && rm->sa.dir == VPN_SA_IN)
            break;
    }
    assert_non_null(rm);
    assert_int_equal(rm->at - down_a->at, VPN_ROUTER_REKEY_GRACE_NS);
    assert_int_equal(rn_lost(a, b), 0);
    assert_int_equal(b->rx_dup + a->rx_dup, 0);
    assert_true(d->done);
    if (getenv("VPN_TEST_LOG"))
        for (uint32_t s = 0; s < b->tx_seq; s++)
            if (!a->seen[s])
                fprintf(stderr, "lost %u sent %.3f (delayed %u)\n", s, (double)b->sent_at[s] / RN_NS, d->seq);
    return rn_lost(b, a);
}

static void test_rekey_under_traffic_zero_loss(void **state)
{
    rn_net n;
    delay_one d;
    (void)state;

    /* a packet held 1.5 s arrives after the Delete, within the grace */
    assert_int_equal(rekey_under_traffic(1500 * RN_MS, &d, &n), 0);
    assert_int_equal(n.node[0].drops[VPN_ROUTER_DROP_ESP_NO_SA], 0);
    rn_free(&n);
}

static void test_rekey_grace_bounded(void **state)
{
    rn_net n;
    delay_one d;
    (void)state;

    /* held 3 s: its SA is gone, it alone is lost, as unknown SPI */
    assert_int_equal(rekey_under_traffic(3000 * RN_MS, &d, &n), 1);
    assert_false(n.node[0].seen[d.seq]);
    assert_int_equal(n.node[0].drops[VPN_ROUTER_DROP_ESP_NO_SA], 1);
    rn_free(&n);
}

/* ---- 4. NAT-T demultiplexing ------------------------------------------------------- */

static vpn_router_drop inject(rn_net *n, int to, uint16_t port, const uint8_t *data, size_t len)
{
    static uint8_t buf[RN_BUF];
    vpn_pkt pkt;
    vpn_ikev2_endpoint local = {n->node[to].addr, port}, remote = {n->nat_addr, 44500};
    vpn_pkt_init(&pkt, buf, sizeof buf, VPN_PKT_HEADROOM);
    memcpy(vpn_pkt_put(&pkt, len), data, len);
    return vpn_router_udp_input(n->node[to].r, n->now, &local, &remote, &pkt);
}

static void test_natt_demux(void **state)
{
    rn_net n;
    rn_node *a, *b;
    vpn_router_stats st;
    char *ca, *cb;
    uint8_t junk[64];
    uint64_t ike_in;
    (void)state;

    rn_init(&n);
    n.nat = true;
    n.nat_addr = tu_addr("198.51.100.1");
    /* R2 finds R1's key by the address the NAT shows and points its VTI
     * there; R1 sends keepalives every 20 s */
    ca = rn_flex_conf(0, NULL, NULL, NULL, "tunnel", "crypto ikev2 nat keepalive 20\n");
    cb = rn_flex_conf(1, "198.51.100.1", NULL, NULL, "tunnel", NULL);
    a = rn_add(&n, 0, ca, VPN_ROUTER_TUNNEL_VTI, true, NULL);
    b = rn_add(&n, 1, cb, VPN_ROUTER_TUNNEL_VTI, false, "198.51.100.1");
    free(ca);
    free(cb);
    vpn_router_start(a->r, n.now);
    rn_run_for(&n, 1);
    assert_int_equal(rn_count(a, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_UP), 1);
    assert_int_equal(rn_count(b, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_UP), 1);
    /* IKE_AUTH went to 4500 behind the marker */
    assert_true(n.udp4500_ike >= 2);
    rn_traffic(a, 10);
    rn_traffic(b, 10);
    rn_run_for(&n, 65);
    /* ESP in UDP both ways, none as plain IP protocol 50 */
    assert_true(n.udp4500_esp >= 1200);
    assert_int_equal(n.ip_esp, 0);
    assert_int_equal(rn_lost(a, b), 0);
    assert_true(b->rx >= 640);
    /* keepalives reached R2's 4500 and were taken as such */
    vpn_router_stats_get(b->r, &st);
    assert_true(n.udp4500_keepalive >= 3);
    assert_int_equal(st.keepalives_in, n.udp4500_keepalive);
    for (int i = 1; i < VPN_ROUTER_DROP_COUNT; i++)
        assert_int_equal(b->drops[i], 0);

    /* hostile datagrams on 4500, each dropped and counted, none fatal */
    ike_in = st.ike_in;
    junk[0] = 0x01;
    junk[1] = 0x02;
    assert_int_equal(inject(&n, 1, 4500, junk, 2), VPN_ROUTER_DROP_UDP_SHORT);
    assert_int_equal(inject(&n, 1, 4500, junk, 0), VPN_ROUTER_DROP_UDP_SHORT);
    memset(junk, 0, sizeof junk); /* a marker and a runt IKE header: the engine's to drop */
    assert_int_equal(inject(&n, 1, 4500, junk, 10), VPN_ROUTER_DROP_NONE);
    junk[0] = 0xff; /* keepalive */
    assert_int_equal(inject(&n, 1, 4500, junk, 1), VPN_ROUTER_DROP_NONE);
    tu_fill(junk, sizeof junk, 7); /* ESP with an SPI nobody has */
    junk[0] = 0x7e;
    assert_int_equal(inject(&n, 1, 4500, junk, sizeof junk), VPN_ROUTER_DROP_ESP_NO_SA);
    memset(junk, 0, 28);
    junk[17] = 0x10; /* an IKEv1 header on 500 whose length field lies: the
                      * router's phase-1 table drops it */
    assert_int_equal(inject(&n, 1, 500, junk, 28), VPN_ROUTER_DROP_IKEV1);
    assert_int_equal(inject(&n, 1, 848, junk, 28), VPN_ROUTER_DROP_UDP_PORT);
    vpn_router_stats_get(b->r, &st);
    assert_int_equal(st.drops[VPN_ROUTER_DROP_UDP_SHORT], 2);
    assert_int_equal(st.drops[VPN_ROUTER_DROP_ESP_NO_SA], 1);
    assert_int_equal(st.drops[VPN_ROUTER_DROP_UDP_PORT], 1);
    assert_int_equal(st.drops[VPN_ROUTER_DROP_IKEV1], 1);
    assert_int_equal(vpn_router_isakmp_count(b->r), 0);
    assert_int_equal(st.ike_in, ike_in + 1);
    /* and the tunnel still carries traffic */
    a->tx_seq = b->tx_seq = 5000;
    rn_run_for(&n, 5);
    assert_true(b->seen[5010] && a->seen[5010]);
    rn_free(&n);
}

/* RFC 7296 2.23 through the router: the NAT in front of R1 rebinds (its
 * 4500 now leaves from 45500, the old port is dead). R2, not behind a NAT,
 * follows R1 there from R1's next ESP packet (authentic, numbered above
 * all R2 verified before): its ESP goes to 45500 and traffic both ways flows again on the
 * same SAs; R1 moves nothing. */
static void test_natt_rebinding(void **state)
{
    rn_net n;
    rn_node *a, *b;
    char *ca, *cb;
    const rn_ev *mv;
    vpn_ikev2_sa_info info;
    uint32_t lost_b;
    (void)state;

    rn_init(&n);
    n.nat = true;
    n.nat_addr = tu_addr("198.51.100.1");
    ca = rn_flex_conf(0, NULL, NULL, NULL, "tunnel", NULL);
    cb = rn_flex_conf(1, "198.51.100.1", NULL, NULL, "tunnel", NULL);
    a = rn_add(&n, 0, ca, VPN_ROUTER_TUNNEL_VTI, true, NULL);
    b = rn_add(&n, 1, cb, VPN_ROUTER_TUNNEL_VTI, false, "198.51.100.1");
    free(ca);
    free(cb);
    vpn_router_start(a->r, n.now);
    rn_run_for(&n, 1);
    assert_int_equal(rn_count(b, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_UP), 1);
    rn_traffic(a, 10);
    rn_traffic(b, 10);
    rn_run_for(&n, 5);
    assert_int_equal(rn_lost(a, b) + rn_lost(b, a), 0);

    /* R1 falls silent, then the rebinding; R2 goes on sending for 2 s:
     * all of it is lost at the NAT (no mapping for the old port) */
    rn_traffic(a, 0);
    rn_run_for(&n, 0.5);
    n.nat_port4500 = 45500;
    rn_run_for(&n, 2);
    lost_b = rn_lost(b, a);
    assert_true(lost_b >= 18);
    assert_int_equal(rn_count(b, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_MOVED), 0);
    /* R1 speaks: R2 follows it at its first packet and no more is lost */
    rn_traffic(a, 10);
    rn_run_for(&n, 5);
    assert_int_equal(rn_count(b, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_MOVED), 1);
    assert_int_equal(rn_count(a, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_MOVED), 0);
    mv = rn_find(b, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_MOVED, 0);
    assert_non_null(mv);
    assert_int_equal(vpn_ikev2_sa_get(vpn_router_ikev2(b->r), 0, &info), 0);
    assert_int_equal(info.remote.port, 45500);
    assert_true(rn_lost(b, a) <= lost_b + 1); /* one may cross R1's first packet */
    assert_int_equal(rn_lost(a, b), 0);
    assert_int_equal(rn_count(b, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_UP), 1);
    assert_int_equal(rn_count(a, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_IKE_DOWN), 0);
    /* traffic numbered from here arrives both ways */
    a->tx_seq = b->tx_seq = 5000;
    rn_run_for(&n, 3);
    assert_true(b->seen[5010] && a->seen[5010]);
    rn_free(&n);
}

/* RFC 7296 2.23 "only in response to a new packet": R1's ESP packet N-1
 * is held back on the way; the NAT rebinds and R1's packet N arrives from
 * the new port, R2 follows. Then packet N-1 arrives from the old port:
 * authentic and not yet seen by the replay window (so it is delivered),
 * but older than N: R2 must not move back to the dead port. */
typedef struct hold_esp {
    bool armed;
    uint8_t data[2048];
    size_t len;
} hold_esp;

static bool hold_esp_hook(rn_net *n, rn_msg *m, void *user)
{
    hold_esp *h = user;
    (void)n;
    /* ESP in UDP from R1: not a keepalive (1 octet), not the non-ESP
     * marker (four zero octets, RFC 3948 2.2) */
    if (!h->armed || m->from != 0 || !m->udp || m->dst.port != VPN_NATT_PORT || m->len < 16 ||
        (m->data[0] | m->data[1] | m->data[2] | m->data[3]) == 0)
        return true;
    h->armed = false;
    memcpy(h->data, m->data, m->len);
    h->len = m->len;
    return false;
}

static void test_natt_rebinding_old_packet_held(void **state)
{
    rn_net n;
    rn_node *a, *b;
    char *ca, *cb;
    hold_esp h;
    vpn_ikev2_sa_info info;
    (void)state;

    memset(&h, 0, sizeof h);
    rn_init(&n);
    n.nat = true;
    n.nat_addr = tu_addr("198.51.100.1");
    ca = rn_flex_conf(0, NULL, NULL, NULL, "tunnel", NULL);
    cb = rn_flex_conf(1, "198.51.100.1", NULL, NULL, "tunnel", NULL);
    a = rn_add(&n, 0, ca, VPN_ROUTER_TUNNEL_VTI, true, NULL);
    b = rn_add(&n, 1, cb, VPN_ROUTER_TUNNEL_VTI, false, "198.51.100.1");
    free(ca);
    free(cb);
    vpn_router_start(a->r, n.now);
    rn_run_for(&n, 1);
    assert_int_equal(rn_count(b, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_UP), 1);
    rn_traffic(a, 10);
    rn_traffic(b, 10);
    rn_run_for(&n, 2);
    /* R1's next ESP packet (N-1) is held back from the old mapping */
    n.hook = hold_esp_hook;
    n.hook_user = &h;
    h.armed = true;
    /* in steps shorter than R1's 100 ms between packets: R1 stops right
     * after the held one, so the next it sends is N */
    for (int i = 0; i < 100 && h.armed; i++)
        rn_run_for(&n, 0.01);
    assert_false(h.armed);
    assert_true(h.len > 0);
    rn_traffic(a, 0);
    rn_run_for(&n, 0.5);
    /* the rebinding; R1's next packet (N) comes from 45500: R2 follows */
    n.nat_port4500 = 45500;
    rn_traffic(a, 10);
    rn_run_for(&n, 1);
    assert_int_equal(rn_count(b, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_MOVED), 1);
    assert_int_equal(vpn_ikev2_sa_get(vpn_router_ikev2(b->r), 0, &info), 0);
    assert_int_equal(info.remote.port, 45500);
    /* N-1 arrives late from the old port 44500: authentic and new to the
     * replay window, so delivered, but not the newest: no move back */
    assert_int_equal(inject(&n, 1, VPN_NATT_PORT, h.data, h.len), VPN_ROUTER_DROP_NONE);
    assert_int_equal(rn_count(b, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_CHILD_MOVED), 1);
    assert_int_equal(vpn_ikev2_sa_get(vpn_router_ikev2(b->r), 0, &info), 0);
    assert_int_equal(info.remote.port, 45500);
    /* and R2's traffic still reaches R1 through the new mapping */
    a->tx_seq = b->tx_seq = 5000;
    rn_run_for(&n, 3);
    assert_true(b->seen[5010] && a->seen[5010]);
    rn_free(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dpd_on_demand_silent_peer),
        cmocka_unit_test(test_dpd_on_demand_idle),
        cmocka_unit_test(test_byte_lifetime_rekeys),
        cmocka_unit_test(test_byte_lifetime_hard),
        cmocka_unit_test(test_rekey_under_traffic_zero_loss),
        cmocka_unit_test(test_rekey_grace_bounded),
        cmocka_unit_test(test_natt_demux),
        cmocka_unit_test(test_natt_rebinding),
        cmocka_unit_test(test_natt_rebinding_old_packet_held),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
