/*
 * The router's own IKEv1 phase 1 (router.h, "IKEv1 phase 1"): UDP 500 is
 * demultiplexed by the ISAKMP version (RFC 2408 3.1), Main Mode (RFC 2409
 * 5) runs between two routers on the router's one deadline, key lines come
 * out as KEY_LINE events, clear deletes on both sides, dead SAs linger in
 * the view and then go; malformed, stray and refused datagrams are
 * dropped as VPN_ROUTER_DROP_IKEV1 without leaving state behind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isakmp/isakmp-const.h"
#include "router-net.h"
#include "show/show-isakmp.h"

static const char *v1_conf(int idx, bool with_key)
{
    static char buf[2][4096];
    char *flex = rn_flex_conf(idx, NULL, NULL, NULL, NULL, NULL);
    snprintf(buf[idx], sizeof buf[idx],
             "%s"
             "crypto isakmp policy 10\n"
             " encryption aes 256\n"
             " hash sha256\n"
             " authentication pre-share\n"
             " group 14\n"
             "%s",
             flex,
             with_key ? (idx == 0 ? "crypto isakmp key v1-key address 192.0.2.2\n"
                                  : "crypto isakmp key v1-key address 192.0.2.1\n")
                      : "");
    free(flex);
    return buf[idx];
}

static rn_node *node(rn_net *n, int idx, const char *conf, bool keys)
{
    rn_node *nd = rn_add(n, idx, conf, VPN_ROUTER_TUNNEL_GRE_IPSEC, false, NULL);
    vpn_router_del(nd->r);
    /* again with key lines on (rn_add does not ask for them) and no tunnel */
    rn_router_new(nd, keys);
    return nd;
}

static char *show(const vpn_router *r)
{
    static char text[8192];
    vpn_show_buf b;
    assert_true(VPN_SHOW_ISAKMP_SA_CAP(vpn_router_isakmp_count(r)) <= sizeof text);
    vpn_show_init(&b, text, sizeof text);
    assert_int_equal(vpn_router_show_isakmp_sa(r, &b), 0);
    return text;
}

static size_t key_lines(const rn_node *nd)
{
    size_t c = 0;
    for (size_t i = 0; i < nd->n_ev; i++)
        c += nd->ev[i].type == VPN_ROUTER_EV_KEY_LINE && nd->ev[i].key_table == VPN_ROUTER_KEYS_IKEV1;
    return c;
}

/* Drops R1's first datagram: the retransmission comes from the router's
 * one deadline. */
static bool drop_first(rn_net *n, rn_msg *m, void *user)
{
    int *dropped = user;
    (void)n;
    if (m->from == 0 && m->udp && *dropped == 0) {
        (*dropped)++;
        return false;
    }
    return true;
}

static void test_main_mode_and_clear(void **state)
{
    rn_net n;
    rn_node *a, *b;
    vpn_router_stats st;
    uint32_t id = 0;
    int dropped = 0;
    (void)state;

    rn_init(&n);
    a = node(&n, 0, v1_conf(0, true), true);
    b = node(&n, 1, v1_conf(1, true), true);
    n.hook = drop_first;
    n.hook_user = &dropped;
    assert_int_equal(vpn_router_isakmp_initiate(a->r, n.now, &a->addr, &b->addr, &id), 0);
    assert_int_equal(id, 1001); /* IOS numbers from 1001 */
    assert_true(vpn_router_next_deadline(a->r) < UINT64_MAX);
    rn_run_for(&n, 30);
    assert_int_equal(dropped, 1);
    assert_non_null(strstr(show(a->r), "QM_IDLE"));
    assert_non_null(strstr(show(b->r), "QM_IDLE"));
    assert_int_equal(vpn_router_isakmp_count(a->r), 1);
    assert_int_equal(vpn_router_isakmp_count(b->r), 1);
    vpn_router_stats_get(b->r, &st);
    assert_int_equal(st.ikev1_in, 3); /* messages 1, 3, 5 */
    assert_int_equal(st.ike_in, 0);   /* none reached the IKEv2 engine */
    /* one key line per SA and side, the same on both */
    assert_int_equal(key_lines(a), 1);
    assert_int_equal(key_lines(b), 1);
    assert_string_equal(a->key_line, b->key_line);
    assert_true(strlen(a->key_line) > 16 + 16);

    /* an unknown conn-id is refused; clear all deletes it on both sides */
    assert_int_equal(vpn_router_isakmp_clear(a->r, n.now, false, 4242), VPN_ERR_NOTFOUND);
    assert_int_equal(vpn_router_isakmp_clear(a->r, n.now, false, id), 1);
    rn_run_for(&n, 1);
    assert_non_null(strstr(show(a->r), "MM_NO_STATE"));
    assert_non_null(strstr(show(b->r), "MM_NO_STATE"));
    assert_int_equal(vpn_router_isakmp_clear(a->r, n.now, true, 0), 0); /* nothing alive */
    /* gone from the view after the linger time, and from the deadline */
    rn_run_for(&n, 31);
    assert_int_equal(vpn_router_isakmp_count(a->r), 0);
    assert_int_equal(vpn_router_isakmp_count(b->r), 0);
    assert_int_equal(vpn_router_next_deadline(a->r), UINT64_MAX);
    assert_int_equal(vpn_router_next_deadline(b->r), UINT64_MAX);
    assert_int_equal(a->drops[VPN_ROUTER_DROP_IKEV1] + b->drops[VPN_ROUTER_DROP_IKEV1], 0);
    rn_free(&n);
}

static void test_no_key_lines_unless_asked(void **state)
{
    rn_net n;
    rn_node *a, *b;
    (void)state;

    rn_init(&n);
    a = node(&n, 0, v1_conf(0, true), false);
    b = node(&n, 1, v1_conf(1, true), false);
    assert_int_equal(vpn_router_isakmp_initiate(a->r, n.now, &a->addr, &b->addr, NULL), 0);
    rn_run_for(&n, 5);
    assert_non_null(strstr(show(b->r), "QM_IDLE"));
    assert_int_equal(key_lines(a) + key_lines(b), 0);
    rn_free(&n);
}

static vpn_router_drop v1_in(rn_node *nd, const uint8_t *dg, size_t len, const char *from)
{
    static uint8_t buf[RN_BUF];
    vpn_ikev2_endpoint l, r;
    vpn_pkt pkt;

    memset(&l, 0, sizeof l);
    memset(&r, 0, sizeof r);
    l.addr = nd->addr;
    l.port = VPN_IKE_PORT;
    r.addr = tu_addr(from);
    r.port = VPN_IKE_PORT;
    vpn_pkt_init(&pkt, buf, sizeof buf, VPN_PKT_HEADROOM);
    memcpy(vpn_pkt_put(&pkt, len), dg, len);
    return vpn_router_udp_input(nd->r, nd->net->now, &l, &r, &pkt);
}

/* An ISAKMP header (RFC 2408 3.1) of len octets, version 1.0. */
static void hdr(uint8_t *p, size_t len, uint8_t exch, bool rcookie, uint32_t hdr_len)
{
    memset(p, 0, len);
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(0xa0 + i);
    if (rcookie)
        p[8] = 1;
    p[17] = 0x10;
    p[18] = exch;
    p[24] = (uint8_t)(hdr_len >> 24);
    p[25] = (uint8_t)(hdr_len >> 16);
    p[26] = (uint8_t)(hdr_len >> 8);
    p[27] = (uint8_t)hdr_len;
}

static void test_bad_input_dropped(void **state)
{
    rn_net n;
    rn_node *a;
    uint8_t dg[64];
    vpn_router_stats st;
    (void)state;

    rn_init(&n);
    a = node(&n, 0, v1_conf(0, true), true);
    node(&n, 1, NULL, false);

    /* the length field disagrees with the datagram */
    hdr(dg, 28, VPN_ISAKMP_EXCH_MAIN, false, 99);
    assert_int_equal(v1_in(a, dg, 28, "192.0.2.2"), VPN_ROUTER_DROP_IKEV1);
    /* an Aggressive Mode / a Main Mode with a responder cookie for no SA */
    hdr(dg, 28, VPN_ISAKMP_EXCH_MAIN, true, 28);
    assert_int_equal(v1_in(a, dg, 28, "192.0.2.2"), VPN_ROUTER_DROP_IKEV1);
    hdr(dg, 28, VPN_ISAKMP_EXCH_QUICK, false, 28);
    assert_int_equal(v1_in(a, dg, 28, "192.0.2.2"), VPN_ROUTER_DROP_IKEV1);
    /* a new Main Mode from a peer no isakmp key covers: refused before an
     * SA is made */
    hdr(dg, 28, VPN_ISAKMP_EXCH_MAIN, false, 28);
    assert_int_equal(v1_in(a, dg, 28, "198.51.100.7"), VPN_ROUTER_DROP_IKEV1);
    assert_int_equal(vpn_router_isakmp_count(a->r), 0);
    assert_int_equal(a->drops[VPN_ROUTER_DROP_IKEV1], 4);
    /* a first Main Mode message whose SA payload does not parse: the SA
     * made for it goes again at once (it would have no timer) */
    hdr(dg, 40, VPN_ISAKMP_EXCH_MAIN, false, 40);
    dg[16] = 1; /* next payload SA, body garbage */
    memset(dg + 28, 0xff, 12);
    assert_int_equal(v1_in(a, dg, 40, "192.0.2.2"), VPN_ROUTER_DROP_IKEV1);
    assert_int_equal(vpn_router_isakmp_count(a->r), 0);
    assert_int_equal(vpn_router_next_deadline(a->r), UINT64_MAX);
    vpn_router_stats_get(a->r, &st);
    assert_int_equal(st.ikev1_in, 5);
    assert_int_equal(st.ike_in, 0);

    /* RFC 2408 3.1 demultiplexing at its edges: octet 17 says 1.x but the
     * datagram stops short of the 28-byte header (the IKEv2 engine's to
     * refuse); any 1.x minor version is IKEv1's; 2.0 is never IKEv1's */
    hdr(dg, 28, VPN_ISAKMP_EXCH_MAIN, false, 28);
    for (size_t len = 18; len < 28; len++)
        assert_int_equal(v1_in(a, dg, len, "192.0.2.2"), VPN_ROUTER_DROP_NONE);
    hdr(dg, 28, VPN_ISAKMP_EXCH_MAIN, true, 99);
    dg[17] = 0x1f;
    assert_int_equal(v1_in(a, dg, 28, "192.0.2.2"), VPN_ROUTER_DROP_IKEV1);
    dg[17] = 0x20;
    assert_int_equal(v1_in(a, dg, 28, "192.0.2.2"), VPN_ROUTER_DROP_NONE);
    vpn_router_stats_get(a->r, &st);
    assert_int_equal(st.ikev1_in, 6);
    assert_int_equal(st.ike_in, 11);
    assert_int_equal(a->drops[VPN_ROUTER_DROP_IKEV1], 6);
    assert_int_equal(vpn_router_isakmp_count(a->r), 0);

    /* without a conf there is no IKEv1 here: the datagram is for no port */
    hdr(dg, 28, VPN_ISAKMP_EXCH_MAIN, false, 28);
    assert_int_equal(v1_in(&n.node[1], dg, 28, "192.0.2.1"), VPN_ROUTER_DROP_UDP_PORT);
    assert_int_equal(vpn_router_isakmp_count(n.node[1].r), 0);
    rn_free(&n);
}

static void test_initiate_errors(void **state)
{
    rn_net n;
    rn_node *a, *c;
    vpn_addr other = tu_addr("198.51.100.7");
    uint32_t id;
    (void)state;

    rn_init(&n);
    a = node(&n, 0, v1_conf(0, true), false);
    c = node(&n, 1, NULL, false);
    assert_int_equal(vpn_router_isakmp_initiate(NULL, n.now, &a->addr, &other, &id), VPN_ERR_INVAL);
    assert_int_equal(vpn_router_isakmp_initiate(a->r, n.now, NULL, &other, &id), VPN_ERR_INVAL);
    assert_int_equal(vpn_router_isakmp_initiate(c->r, n.now, &c->addr, &a->addr, &id), VPN_ERR_STATE);
    assert_int_equal(vpn_router_isakmp_initiate(a->r, n.now, &a->addr, &other, &id), VPN_ERR_AUTH);
    assert_int_equal(vpn_router_isakmp_clear(c->r, n.now, false, 1001), VPN_ERR_NOTFOUND);
    assert_int_equal(vpn_router_isakmp_count(NULL), 0);
    assert_int_equal(vpn_router_show_isakmp_sa(NULL, NULL), VPN_ERR_INVAL);
    /* 64 half-open SAs towards a silent peer, then the limit */
    n.silent[1] = true;
    for (int i = 0; i < 64; i++)
        assert_int_equal(vpn_router_isakmp_initiate(a->r, n.now, &a->addr, &c->addr, &id), 0);
    assert_int_equal(id, 1001 + 63);
    assert_int_equal(vpn_router_isakmp_initiate(a->r, n.now, &a->addr, &c->addr, &id), VPN_ERR_LIMIT);
    assert_int_equal(vpn_router_isakmp_clear(a->r, n.now, true, 0), 64);
    rn_free(&n);

    /* no crypto isakmp policy at all */
    rn_init(&n);
    char *flex = rn_flex_conf(0, NULL, NULL, NULL, NULL, NULL);
    a = node(&n, 0, flex, false);
    free(flex);
    assert_int_equal(vpn_router_isakmp_initiate(a->r, n.now, &a->addr, &other, &id), VPN_ERR_NOTFOUND);
    rn_free(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_main_mode_and_clear),
        cmocka_unit_test(test_no_key_lines_unless_asked),
        cmocka_unit_test(test_bad_input_dropped),
        cmocka_unit_test(test_initiate_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
