/*
 * An IKE SA's life, two engines in memory with a counter clock:
 * retransmission with back-off and give-up, duplicate requests answered
 * from the cached response, the message-ID window, half-open limits
 * (RFC 7296 2.1-2.3, 2.6); INFORMATIONAL Delete from either side and DPD
 * (1.4, 2.4); CREATE_CHILD_SA rekeys of CHILD_SAs (with and without PFS)
 * and of the IKE SA, and simultaneous rekeys (2.8, 2.8.1, 2.18).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/wire.h"
#include "ikev2/ikev2-ts.h"
#include "ikev2-pair.h"

static vpn_ikev2_policy pol_a(void)
{
    return gre_policy("192.0.2.1", "192.0.2.2", 1);
}

/* R1 and R2 up with one CHILD_SA; returns R1's IKE SA id. */
static uint32_t bring_up(tp_net *n, const peer_conf *a, const peer_conf *b)
{
    vpn_ikev2_policy p = pol_a();
    uint32_t id;
    setup(n, a, b);
    id = initiate(n, &p);
    tp_run_for(n, 1);
    assert_int_equal(tp_count_ev(&n->node[0], VPN_IKEV2_EV_CHILD_UP), 1);
    assert_int_equal(tp_count_ev(&n->node[1], VPN_IKEV2_EV_CHILD_UP), 1);
    return id;
}

static size_t children(tp_net *n, int node)
{
    vpn_ikev2_sa_info i;
    assert_int_equal(vpn_ikev2_sa_get(n->node[node].ctx, 0, &i), 0);
    return i.n_children;
}

/* The last CHILD_UP event of each node describe one pair. */
static void assert_last_children_pair(tp_net *n)
{
    int ka = -1, kb = -1;
    for (size_t i = 0; i < n->node[0].n_ev; i++)
        if (n->node[0].ev[i].type == VPN_IKEV2_EV_CHILD_UP)
            ka = (int)i;
    for (size_t i = 0; i < n->node[1].n_ev; i++)
        if (n->node[1].ev[i].type == VPN_IKEV2_EV_CHILD_UP)
            kb = (int)i;
    assert_true(ka >= 0 && kb >= 0);
    tp_assert_child_pair(&n->node[0].ev[ka], &n->node[1].ev[kb]);
}

/* ---- retransmission --------------------------------------------------------------------- */

typedef struct dropper {
    int from;        /* -1: both directions */
    uint8_t exchange; /* 0: any */
    int response;    /* -1: any, 0: requests, 1: responses */
    int count;       /* how many more to drop (-1: all) */
    int dropped;
    size_t dropped_len; /* the last one dropped */
} dropper;

static bool drop_hook(tp_net *n, tp_dgram *d, void *user)
{
    dropper *dr = user;
    (void)n;
    if (dr->count == 0)
        return true;
    if (dr->from >= 0 && d->from != dr->from)
        return true;
    if (dr->exchange && tp_exchange(d) != dr->exchange)
        return true;
    if (dr->response >= 0 && (int)tp_is_response(d) != dr->response)
        return true;
    if (dr->count > 0)
        dr->count--;
    dr->dropped++;
    dr->dropped_len = d->len;
    return false;
}

static void drop(tp_net *n, dropper *dr, int from, uint8_t exchange, int response, int count)
{
    memset(dr, 0, sizeof *dr);
    dr->from = from;
    dr->exchange = exchange;
    dr->response = response;
    dr->count = count;
    n->hook = drop_hook;
    n->hook_user = dr;
}

/* The first IKE_SA_INIT request is lost: it goes again after 1 s. */
static void test_retransmit_lost_request(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    dropper dr;
    vpn_ikev2_policy p = pol_a();
    uint64_t t0;
    (void)state;

    setup(&n, &a, &b);
    drop(&n, &dr, 0, 34, 0, 1);
    t0 = n.now;
    initiate(&n, &p);
    tp_run_for(&n, 5);
    assert_int_equal(dr.dropped, 1);
    assert_int_equal(n.sent, 5);
    assert_int_equal(n.log[0]->when - t0, 1 * TP_NS);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP), 1);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_CHILD_UP), 1);
    tp_free(&n);
}

/* Nothing gets through: retransmissions at 1, 3, 7, 15, 31 s (doubling),
 * then give up at 63 s with a timeout. */
static void test_retransmit_backoff_and_give_up(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    dropper dr;
    vpn_ikev2_policy p = pol_a();
    vpn_ikev2_stats st;
    int e;
    (void)state;

    setup(&n, &a, &b);
    drop(&n, &dr, 0, 0, -1, -1);
    initiate(&n, &p);
    tp_run_for(&n, 62);
    assert_int_equal(dr.dropped, 6);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_FAILED), 0);
    assert_int_equal(vpn_ikev2_sa_count(n.node[0].ctx), 1);
    tp_run_for(&n, 2);
    e = tp_find_ev(&n.node[0], VPN_IKEV2_EV_FAILED, 0);
    assert_true(e >= 0);
    assert_int_equal(n.node[0].ev[e].reason, VPN_IKEV2_R_TIMEOUT);
    assert_int_equal(vpn_ikev2_sa_count(n.node[0].ctx), 0);
    assert_int_equal(n.sent, 6);
    vpn_ikev2_stats_get(n.node[0].ctx, &st);
    assert_int_equal(st.retransmits, 5);
    assert_int_equal(vpn_ikev2_next_deadline(n.node[0].ctx), UINT64_MAX);
    tp_free(&n);
}

static bool record_times(tp_net *n, tp_dgram *d, void *user)
{
    uint64_t *times = user;
    (void)d;
    for (int i = 0; i < 16; i++)
        if (times[i] == 0) {
            times[i] = n->now;
            break;
        }
    return false;
}

static void test_retransmit_times(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    vpn_ikev2_policy p = pol_a();
    uint64_t times[16] = {0}, t0, want[] = {0, 1, 3, 7, 15, 31};
    (void)state;

    setup(&n, &a, &b);
    n.hook = record_times;
    n.hook_user = times;
    t0 = n.now;
    initiate(&n, &p);
    tp_run_for(&n, 100);
    for (int i = 0; i < 6; i++)
        assert_int_equal(times[i] - t0, want[i] * TP_NS);
    assert_int_equal(times[6], 0);
    tp_free(&n);
}

/* Issue 18: `crypto ikev2 retransmit count 7 timeout 250 max-timeout 1`:
 * the waits start at 250 ms and double up to 1 s, 7 retransmissions, then
 * the attempt fails. */
static void test_retransmit_configured(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    vpn_ikev2_policy p = pol_a();
    uint64_t times[16] = {0}, t0;
    const uint64_t want_ms[] = {0, 250, 750, 1750, 2750, 3750, 4750, 5750};
    int e;
    (void)state;

    a.extra = "crypto ikev2 retransmit count 7 timeout 250 max-timeout 1\n";
    setup(&n, &a, &b);
    n.hook = record_times;
    n.hook_user = times;
    t0 = n.now;
    initiate(&n, &p);
    tp_run_for(&n, 100);
    for (int i = 0; i < 8; i++)
        assert_int_equal(times[i] - t0, want_ms[i] * 1000000ull);
    assert_int_equal(times[8], 0);
    e = tp_find_ev(&n.node[0], VPN_IKEV2_EV_FAILED, 0);
    assert_true(e >= 0);
    assert_int_equal(n.node[0].ev[e].reason, VPN_IKEV2_R_TIMEOUT);
    tp_free(&n);
}

/* The IKE_AUTH response is lost: the initiator retransmits its request and
 * the responder answers from its cache, without processing it again. */
static void test_duplicate_answered_from_cache(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    dropper dr;
    vpn_ikev2_policy p = pol_a();
    vpn_ikev2_stats st;
    (void)state;

    setup(&n, &a, &b);
    drop(&n, &dr, 1, 35, 1, 1);
    initiate(&n, &p);
    tp_run_for(&n, 5);
    assert_int_equal(dr.dropped, 1);
    vpn_ikev2_stats_get(n.node[1].ctx, &st);
    assert_int_equal(st.duplicates_answered, 1);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_CHILD_UP), 1);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_IKE_UP), 1);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP), 1);
    assert_last_children_pair(&n);
    /* the resent response is the lost one again */
    assert_true(tp_is_response(n.log[n.n_log - 1]));
    assert_int_equal(n.log[n.n_log - 1]->len, dr.dropped_len);
    tp_free(&n);
}

/* The IKE_SA_INIT response is lost: the retransmitted request gets the
 * same response, and the responder keeps one SA. */
static void test_duplicate_init(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    dropper dr;
    vpn_ikev2_policy p = pol_a();
    (void)state;

    setup(&n, &a, &b);
    drop(&n, &dr, 1, 34, 1, 1);
    initiate(&n, &p);
    tp_run_for(&n, 5);
    assert_int_equal(vpn_ikev2_sa_count(n.node[1].ctx), 1);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP), 1);
    assert_last_children_pair(&n);
    tp_free(&n);
}

/* Requests outside the window are dropped; a replay of the last one is
 * answered from the cache; after another exchange the same replay is old
 * and dropped. */
static void test_message_id_window(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    tp_dgram auth_req;
    vpn_ikev2_stats st0, st1;
    size_t sent;
    (void)state;

    /* window 1: only the last request's response is kept (ikev2-window
     * checks larger windows) */
    b.extra = "crypto ikev2 window 1\n";
    bring_up(&n, &a, &b);
    auth_req = *n.log[2];
    assert_int_equal(tp_exchange(&auth_req), 35);
    vpn_ikev2_stats_get(n.node[1].ctx, &st0);
    sent = n.sent;
    assert_int_equal(vpn_ikev2_input(n.node[1].ctx, n.now, &auth_req.dst, &auth_req.src, auth_req.data,
                                    auth_req.len), 0);
    vpn_ikev2_stats_get(n.node[1].ctx, &st1);
    assert_int_equal(st1.duplicates_answered, st0.duplicates_answered + 1);
    assert_int_equal(n.sent, sent + 1);
    tp_pump(&n); /* R1 drops the stale response */
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP), 1);
    /* a liveness check moves the window on */
    assert_int_equal(vpn_ikev2_dpd(n.node[0].ctx, n.now, tp_sa_id(&n, 0)), 0);
    tp_pump(&n);
    sent = n.sent;
    assert_int_equal(vpn_ikev2_input(n.node[1].ctx, n.now, &auth_req.dst, &auth_req.src, auth_req.data,
                                    auth_req.len), 0);
    assert_int_equal(n.sent, sent);
    /* a request from the future: message ID 9 */
    {
        tp_dgram f = auth_req;
        vpn_store32(f.data + 20, 9);
        assert_int_equal(vpn_ikev2_input(n.node[1].ctx, n.now, &f.dst, &f.src, f.data, f.len), 0);
        assert_int_equal(n.sent, sent);
    }
    vpn_ikev2_stats_get(n.node[1].ctx, &st1);
    assert_true(st1.dropped >= st0.dropped + 2);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_IKE_DOWN), 0);
    tp_free(&n);
}

static bool drop_all_ike_auth(tp_net *n, tp_dgram *d, void *user)
{
    (void)n;
    (void)user;
    return tp_exchange(d) != 35;
}

/* IOS's in-negotiation limits: a responder refuses (silently) more
 * half-open SAs than allowed; an initiator refuses to start more. */
static void test_half_open_limits(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    vpn_ikev2_policy p = pol_a();
    vpn_ikev2_stats st;
    uint32_t id;
    char *ta = make_conf(&a), *tb = make_conf(&b);
    (void)state;

    tp_init(&n);
    n.max_half_open_out = 3;
    tp_add(&n, ta, "192.0.2.1", "R1");
    n.max_half_open_out = 0;
    n.max_half_open_in = 2;
    tp_add(&n, tb, "192.0.2.2", "R2");
    free(ta);
    free(tb);
    n.hook = drop_all_ike_auth;
    for (int i = 0; i < 3; i++) {
        initiate(&n, &p);
        tp_pump(&n);
    }
    assert_int_equal(vpn_ikev2_initiate(n.node[0].ctx, n.now, &n.node[0].ep, &n.node[1].ep, &p, &id),
                     VPN_ERR_LIMIT);
    vpn_ikev2_stats_get(n.node[1].ctx, &st);
    assert_int_equal(st.half_open_in, 2);
    assert_int_equal(st.half_open_rejected, 1);
    vpn_ikev2_stats_get(n.node[0].ctx, &st);
    assert_int_equal(st.half_open_out, 3);
    /* half-open SAs expire at the responder; the initiator gives up */
    tp_run_for(&n, 100);
    assert_int_equal(vpn_ikev2_sa_count(n.node[0].ctx), 0);
    assert_int_equal(vpn_ikev2_sa_count(n.node[1].ctx), 0);
    tp_free(&n);
}

/* ---- INFORMATIONAL ------------------------------------------------------------------------ */

static void check_all_down(tp_net *n, int node, vpn_ikev2_reason r)
{
    int e = tp_find_ev(&n->node[node], VPN_IKEV2_EV_IKE_DOWN, 0);
    assert_true(e >= 0);
    assert_int_equal(n->node[node].ev[e].reason, r);
    assert_int_equal(tp_count_ev(&n->node[node], VPN_IKEV2_EV_CHILD_DOWN),
                     tp_count_ev(&n->node[node], VPN_IKEV2_EV_CHILD_UP));
    assert_int_equal(vpn_ikev2_sa_count(n->node[node].ctx), 0);
}

static void delete_ike_from(int who)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    size_t sent;

    bring_up(&n, &a, &b);
    sent = n.sent;
    assert_int_equal(vpn_ikev2_delete(n.node[who].ctx, n.now, tp_sa_id(&n, who)), 0);
    /* the deleting side reports at once */
    assert_int_equal(tp_count_ev(&n.node[who], VPN_IKEV2_EV_IKE_DOWN), 1);
    tp_run_for(&n, 1);
    assert_int_equal(n.sent, sent + 2); /* INFORMATIONAL { D } and its answer */
    check_all_down(&n, who, VPN_IKEV2_R_LOCAL_DELETE);
    check_all_down(&n, 1 - who, VPN_IKEV2_R_PEER_DELETE);
    assert_int_equal(vpn_ikev2_delete(n.node[who].ctx, n.now, 12345), VPN_ERR_NOTFOUND);
    tp_free(&n);
}

static void test_delete_ike_initiator(void **state)
{
    (void)state;
    delete_ike_from(0);
}

static void test_delete_ike_responder(void **state)
{
    (void)state;
    delete_ike_from(1);
}

static void delete_child_from(int who)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    vpn_ikev2_child_state c;
    int e;

    bring_up(&n, &a, &b);
    c = tp_child(&n, who, 0);
    assert_int_equal(vpn_ikev2_child_delete(n.node[who].ctx, n.now, c.info.id), 0);
    tp_run_for(&n, 1);
    for (int i = 0; i < 2; i++) {
        e = tp_find_ev(&n.node[i], VPN_IKEV2_EV_CHILD_DOWN, 0);
        assert_true(e >= 0);
        assert_int_equal(n.node[i].ev[e].reason, i == who ? VPN_IKEV2_R_LOCAL_DELETE : VPN_IKEV2_R_PEER_DELETE);
        assert_int_equal(children(&n, i), 0);
        assert_int_equal(tp_count_ev(&n.node[i], VPN_IKEV2_EV_IKE_DOWN), 0);
    }
    /* the right SA went: the SPI R1 receives on is the one R2 sends with */
    assert_int_equal(n.node[0].ev[tp_find_ev(&n.node[0], VPN_IKEV2_EV_CHILD_DOWN, 0)].child.spi_in,
                     n.node[1].ev[tp_find_ev(&n.node[1], VPN_IKEV2_EV_CHILD_DOWN, 0)].child.spi_out);
    tp_free(&n);
}

static void test_delete_child_initiator(void **state)
{
    (void)state;
    delete_child_from(0);
}

static void test_delete_child_responder(void **state)
{
    (void)state;
    delete_child_from(1);
}

/* Issue 18: R2's answer to R1's Delete is lost. R2's IKE SA is gone, but
 * R1's retransmitted Delete is answered again (RFC 7296 2.4, 1.4.1), so
 * R1 finishes at its first retransmission instead of giving up. A Delete
 * that is not the very request answered gets nothing. */
static void test_delete_response_lost(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    dropper dr;
    vpn_ikev2_stats st;
    size_t from_r2 = 0, before;
    (void)state;

    bring_up(&n, &a, &b);
    drop(&n, &dr, 1, 37, 1, 1);
    before = n.n_log;
    assert_int_equal(vpn_ikev2_delete(n.node[0].ctx, n.now, tp_sa_id(&n, 0)), 0);
    tp_pump(&n); /* no timer yet: R1 has not retransmitted */
    assert_int_equal(dr.dropped, 1);
    assert_int_equal(vpn_ikev2_sa_count(n.node[1].ctx), 0); /* R2 deleted at once */
    assert_int_equal(vpn_ikev2_sa_count(n.node[0].ctx), 1); /* R1 waits for an answer */
    tp_run_for(&n, 4);
    for (size_t i = before; i < n.n_log; i++)
        from_r2 += n.log[i]->from == 1 && tp_exchange(n.log[i]) == 37 && tp_is_response(n.log[i]);
    assert_int_equal(from_r2, 1);
    vpn_ikev2_stats_get(n.node[1].ctx, &st);
    assert_int_equal(st.duplicates_answered, 1);
    assert_int_equal(vpn_ikev2_sa_count(n.node[0].ctx), 0);
    check_all_down(&n, 0, VPN_IKEV2_R_LOCAL_DELETE);
    check_all_down(&n, 1, VPN_IKEV2_R_PEER_DELETE);
    /* a changed copy of the Delete (one octet of its ICV) is not answered */
    {
        tp_dgram *last = NULL;
        for (size_t i = before; i < n.n_log; i++)
            if (n.log[i]->from == 0 && tp_exchange(n.log[i]) == 37)
                last = n.log[i];
        assert_non_null(last);
        last->data[last->len - 1] ^= 1;
        before = n.sent;
        assert_int_equal(vpn_ikev2_input(n.node[1].ctx, n.now, &last->dst, &last->src, last->data, last->len), 0);
        tp_pump(&n);
        assert_int_equal(n.sent, before);
    }
    tp_free(&n);
}

/* Both delete the IKE SA at once: both requests cross, both finish. */
static void test_delete_ike_both(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    (void)state;

    bring_up(&n, &a, &b);
    assert_int_equal(vpn_ikev2_delete(n.node[0].ctx, n.now, tp_sa_id(&n, 0)), 0);
    assert_int_equal(vpn_ikev2_delete(n.node[1].ctx, n.now, tp_sa_id(&n, 1)), 0);
    tp_run_for(&n, 100);
    check_all_down(&n, 0, VPN_IKEV2_R_LOCAL_DELETE);
    check_all_down(&n, 1, VPN_IKEV2_R_LOCAL_DELETE);
    tp_free(&n);
}

/* `dpd 10 2 periodic`: a quiet peer is asked every 10 s and answers. */
static void test_dpd_alive(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    size_t info = 0;
    (void)state;

    a.profile_extra = " dpd 10 2 periodic\n";
    bring_up(&n, &a, &b);
    tp_run_for(&n, 35);
    for (size_t i = 0; i < n.n_log; i++)
        if (tp_exchange(n.log[i]) == 37 && !tp_is_response(n.log[i]))
            info++;
    assert_int_equal(info, 3);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_IKE_DOWN), 0);
    assert_int_equal(vpn_ikev2_sa_count(n.node[0].ctx), 1);
    tp_free(&n);
}

/* The peer dies: 10 s of silence, then checks every 2 s; after five
 * retries the SA goes down with reason DPD. */
static void test_dpd_dead(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    dropper dr;
    uint64_t t0;
    int e;
    (void)state;

    a.profile_extra = " dpd 10 2 periodic\n";
    bring_up(&n, &a, &b);
    t0 = n.now;
    drop(&n, &dr, -1, 0, -1, -1);
    tp_run_until(&n, t0 + 10 * TP_NS + 5 * 2 * TP_NS - 1);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_IKE_DOWN), 0);
    tp_run_for(&n, 2);
    e = tp_find_ev(&n.node[0], VPN_IKEV2_EV_IKE_DOWN, 0);
    assert_true(e >= 0);
    assert_int_equal(n.node[0].ev[e].reason, VPN_IKEV2_R_DPD);
    assert_int_equal(dr.dropped, 6);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_CHILD_DOWN), 1);
    assert_int_equal(vpn_ikev2_sa_count(n.node[0].ctx), 0);
    tp_free(&n);
}

/* `dpd 10 2 on-demand`: no checks while nothing is sent; traffic out with
 * nothing back triggers one; traffic in keeps the peer proven alive. */
static void test_dpd_on_demand(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    size_t info = 0;
    uint32_t cid;
    (void)state;

    a.profile_extra = " dpd 10 2 on-demand\n";
    bring_up(&n, &a, &b);
    cid = tp_child(&n, 0, 0).info.id;
    tp_run_for(&n, 30);
    for (size_t i = 0; i < n.n_log; i++)
        info += tp_exchange(n.log[i]) == 37;
    assert_int_equal(info, 0);
    /* inbound and outbound traffic: alive, no check */
    vpn_ikev2_child_activity(n.node[0].ctx, n.now, cid, true, true);
    tp_run_for(&n, 5);
    /* only outbound from now on */
    vpn_ikev2_child_activity(n.node[0].ctx, n.now, cid, false, true);
    tp_run_for(&n, 11);
    for (size_t i = 0; i < n.n_log; i++)
        info += tp_exchange(n.log[i]) == 37 && !tp_is_response(n.log[i]);
    assert_int_equal(info, 1);
    assert_int_equal(vpn_ikev2_sa_count(n.node[0].ctx), 1);
    tp_free(&n);
}

/* The engine keeps its next deadline between verbs (a hub's driver asks
 * after every packet): traffic reported with vpn_ikev2_child_activity
 * must still bring an on-demand DPD forward at once, traffic back must
 * cancel it, and after an IKE SA rekey (the CHILD_SA moved to the new SA)
 * activity on the same CHILD_SA id reaches the new SA. */
static void test_deadline_follows_activity(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    vpn_ikev2_sa_info sa, sa2;
    uint64_t d0, d1, sent_before;
    uint32_t cid;
    size_t info = 0;
    (void)state;

    a.profile_extra = " dpd 10 2 on-demand\n";
    bring_up(&n, &a, &b);
    cid = tp_child(&n, 0, 0).info.id;
    d0 = vpn_ikev2_next_deadline(n.node[0].ctx);
    assert_true(d0 > n.now + 60 * TP_NS); /* lifetimes only: nothing to ask */
    tp_run_for(&n, 5);
    assert_int_equal(vpn_ikev2_next_deadline(n.node[0].ctx), d0);
    /* only outbound: the check falls due 10 s after the peer was last heard
     * (the hint names the IKE SA holding the CHILD_SA; an unknown CHILD_SA
     * is in none) */
    assert_int_equal(vpn_ikev2_sa_get(n.node[0].ctx, 0, &sa), 0);
    assert_int_equal(vpn_ikev2_child_activity_at(n.node[0].ctx, n.now, sa.id, cid + 1000, false, true), 0);
    assert_int_equal(vpn_ikev2_next_deadline(n.node[0].ctx), d0);
    assert_int_equal(vpn_ikev2_child_activity_at(n.node[0].ctx, n.now, sa.id, cid, false, true), sa.id);
    d1 = vpn_ikev2_next_deadline(n.node[0].ctx);
    assert_true(d1 < d0);
    assert_true(d1 > n.now && d1 <= n.now + 10 * TP_NS);
    /* traffic back proves the peer alive: no check when that time comes */
    vpn_ikev2_child_activity(n.node[0].ctx, n.now, cid, true, false);
    sent_before = n.sent;
    tp_run_for(&n, 8);
    assert_int_equal(n.sent, sent_before);
    assert_true(vpn_ikev2_next_deadline(n.node[0].ctx) > n.now + 60 * TP_NS);

    /* IKE SA rekey: the CHILD_SA keeps its id on the new IKE SA */
    assert_int_equal(vpn_ikev2_sa_get(n.node[0].ctx, 0, &sa), 0);
    assert_int_equal(vpn_ikev2_ike_rekey(n.node[0].ctx, n.now, sa.id), 0);
    tp_run_for(&n, 1);
    assert_int_equal(vpn_ikev2_sa_count(n.node[0].ctx), 1);
    assert_int_equal(tp_child(&n, 0, 0).info.id, cid);
    tp_run_for(&n, 3);
    /* a data path's hint still naming the old IKE SA (or nothing, or an
     * SA that never was) finds the new one, and says so for the next packet */
    assert_int_equal(vpn_ikev2_sa_get(n.node[0].ctx, 0, &sa2), 0);
    assert_int_not_equal(sa2.id, sa.id);
    assert_int_equal(vpn_ikev2_child_activity_at(n.node[0].ctx, n.now, 0xdeadu, cid, false, false), sa2.id);
    assert_int_equal(vpn_ikev2_child_activity_at(n.node[0].ctx, n.now, 0, cid, false, false), sa2.id);
    assert_int_equal(vpn_ikev2_child_activity_at(n.node[0].ctx, n.now, sa.id, cid, false, true), sa2.id);
    d1 = vpn_ikev2_next_deadline(n.node[0].ctx);
    assert_true(d1 > n.now && d1 <= n.now + 10 * TP_NS);
    tp_run_for(&n, 11);
    for (size_t i = 0; i < n.n_log; i++)
        info += tp_exchange(n.log[i]) == 37 && !tp_is_response(n.log[i]);
    assert_true(info >= 2); /* the rekey's old-SA delete, then the DPD */
    assert_int_equal(vpn_ikev2_sa_count(n.node[0].ctx), 1);
    tp_free(&n);
}

/* ---- CREATE_CHILD_SA ------------------------------------------------------------------------- */

static void child_rekey(const char *pfs, int who)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    vpn_ikev2_child_state old_a, old_b, new_a, new_b;
    int e;

    a.pfs = b.pfs = pfs;
    bring_up(&n, &a, &b);
    old_a = tp_child(&n, 0, 0);
    old_b = tp_child(&n, 1, 0);
    assert_int_equal(vpn_ikev2_child_rekey(n.node[who].ctx, n.now, tp_child(&n, who, 0).info.id), 0);
    tp_run_for(&n, 1);
    /* CHILD_UP (new) + CHILD_REKEYED on each side, the old one down */
    for (int i = 0; i < 2; i++) {
        const vpn_ikev2_child_state *old = i == 0 ? &old_a : &old_b;
        assert_int_equal(tp_count_ev(&n.node[i], VPN_IKEV2_EV_CHILD_UP), 2);
        e = tp_find_ev(&n.node[i], VPN_IKEV2_EV_CHILD_REKEYED, 0);
        assert_true(e >= 0);
        assert_int_equal(n.node[i].ev[e].old_id, old->info.id);
        e = tp_find_ev(&n.node[i], VPN_IKEV2_EV_CHILD_DOWN, 0);
        assert_true(e >= 0);
        assert_int_equal(n.node[i].ev[e].child.id, old->info.id);
        assert_int_equal(n.node[i].ev[e].reason, VPN_IKEV2_R_REKEYED);
        assert_int_equal(children(&n, i), 1);
    }
    assert_last_children_pair(&n);
    new_a = tp_child(&n, 0, 0);
    new_b = tp_child(&n, 1, 0);
    assert_true(new_a.info.spi_in != old_a.info.spi_in);
    assert_true(new_b.info.spi_in != old_b.info.spi_in);
    assert_int_equal(new_a.info.pfs_group, pfs && *pfs ? VPN_DH_ECP_256 : 0);
    assert_int_equal(new_a.info.n_ts_local, old_a.info.n_ts_local);
    assert_int_equal(new_a.info.ts_local[0].proto, 47);
    /* only the last CHILD_UP carries keys in our records; they differ from the first */
    {
        int k0 = tp_find_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP, 0);
        int k1 = tp_find_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP, 1);
        assert_memory_not_equal(n.node[0].ev[k0].encr_out.b, n.node[0].ev[k1].encr_out.b,
                                n.node[0].ev[k0].encr_out.len);
    }
    /* a CREATE_CHILD_SA pair and an INFORMATIONAL pair after the first 4 */
    assert_int_equal(n.sent, 8);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_IKE_DOWN), 0);
    tp_free(&n);
}

static void test_child_rekey(void **state)
{
    (void)state;
    child_rekey("", 0);
}

static void test_child_rekey_by_responder(void **state)
{
    (void)state;
    child_rekey("", 1);
}

static void test_child_rekey_pfs(void **state)
{
    (void)state;
    child_rekey("group19", 0);
}

/* PFS on one side only: the rekey fails (NO_PROPOSAL_CHOSEN) and the old
 * CHILD_SA lives on. */
static void test_child_rekey_pfs_mismatch(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    int e;
    (void)state;

    a.pfs = "group14";
    bring_up(&n, &a, &b);
    assert_int_equal(vpn_ikev2_child_rekey(n.node[0].ctx, n.now, tp_child(&n, 0, 0).info.id), 0);
    tp_run_for(&n, 1);
    e = tp_find_ev(&n.node[0], VPN_IKEV2_EV_FAILED, 0);
    assert_true(e >= 0);
    assert_int_equal(n.node[0].ev[e].notify, 14);
    assert_int_equal(children(&n, 0), 1);
    assert_int_equal(children(&n, 1), 1);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_CHILD_DOWN), 0);
    /* it can be rekeyed again later */
    assert_int_equal(vpn_ikev2_child_rekey(n.node[0].ctx, n.now, tp_child(&n, 0, 0).info.id), 0);
    tp_free(&n);
}

/* The soft lifetime rekeys by itself: `set security-association lifetime
 * seconds 300`: the initiator rekeys at 270 s, before the responder. */
static void test_child_rekey_by_lifetime(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    uint64_t t0;
    int e;
    (void)state;

    a.extra = b.extra = "crypto ipsec profile IPP\n set security-association lifetime seconds 300\n";
    bring_up(&n, &a, &b);
    t0 = n.now - 1 * TP_NS; /* bring_up ran one second past the install */
    tp_run_until(&n, t0 + 269 * TP_NS);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_CHILD_EXPIRING), 0);
    tp_run_until(&n, t0 + 272 * TP_NS);
    e = tp_find_ev(&n.node[0], VPN_IKEV2_EV_CHILD_EXPIRING, 0);
    assert_true(e >= 0);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_CHILD_REKEYED), 1);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_CHILD_REKEYED), 1);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_CHILD_EXPIRING), 0);
    tp_run_until(&n, t0 + 560 * TP_NS);
    /* and again, one lifetime later, never two at once */
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_CHILD_REKEYED), 2);
    assert_int_equal(children(&n, 0), 1);
    assert_int_equal(children(&n, 1), 1);
    assert_last_children_pair(&n);
    tp_free(&n);
}

/* The peer falls silent: the rekey at 90% of 300 s goes unanswered, the
 * CHILD_SA reaches its hard lifetime (CHILD_DOWN, EXPIRED) and later the
 * IKE SA gives up retransmitting. The driver hears of the CHILD_SA's end
 * once, not again when its IKE SA dies. */
static void test_child_expiry_reported_once(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    dropper dr;
    uint64_t t0;
    int e;
    (void)state;

    a.extra = b.extra = "crypto ipsec profile IPP\n set security-association lifetime seconds 300\n";
    bring_up(&n, &a, &b);
    t0 = n.now - 1 * TP_NS;
    drop(&n, &dr, -1, 0, -1, -1);
    tp_run_until(&n, t0 + 299 * TP_NS);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_CHILD_DOWN), 0);
    tp_run_until(&n, t0 + 301 * TP_NS);
    e = tp_find_ev(&n.node[0], VPN_IKEV2_EV_CHILD_DOWN, 0);
    assert_true(e >= 0);
    assert_int_equal(n.node[0].ev[e].reason, VPN_IKEV2_R_EXPIRED);
    tp_run_until(&n, t0 + 400 * TP_NS);
    assert_true(tp_find_ev(&n.node[0], VPN_IKEV2_EV_IKE_DOWN, 0) >= 0);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_CHILD_DOWN), 1);
    tp_free(&n);
}

/* Both rekey the same CHILD_SA at once (RFC 7296 2.8.1): one pair
 * survives on both sides, consistently. */
static void test_child_rekey_collision(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    vpn_ikev2_child_state ca, cb;
    (void)state;

    bring_up(&n, &a, &b);
    assert_int_equal(vpn_ikev2_child_rekey(n.node[0].ctx, n.now, tp_child(&n, 0, 0).info.id), 0);
    assert_int_equal(vpn_ikev2_child_rekey(n.node[1].ctx, n.now, tp_child(&n, 1, 0).info.id), 0);
    tp_run_for(&n, 5);
    assert_int_equal(children(&n, 0), 1);
    assert_int_equal(children(&n, 1), 1);
    ca = tp_child(&n, 0, 0);
    cb = tp_child(&n, 1, 0);
    assert_int_equal(ca.info.spi_in, cb.info.spi_out);
    assert_int_equal(ca.info.spi_out, cb.info.spi_in);
    /* the driver saw every installed SA go down except the survivor */
    for (int i = 0; i < 2; i++)
        assert_int_equal(tp_count_ev(&n.node[i], VPN_IKEV2_EV_CHILD_UP) -
                             tp_count_ev(&n.node[i], VPN_IKEV2_EV_CHILD_DOWN),
                         1);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_IKE_DOWN), 0);
    tp_free(&n);
}

static void ike_rekey(int who)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    vpn_ikev2_sa_info oa, ob, na, nb;
    uint32_t cid_a;
    int e;

    bring_up(&n, &a, &b);
    assert_int_equal(vpn_ikev2_sa_get(n.node[0].ctx, 0, &oa), 0);
    assert_int_equal(vpn_ikev2_sa_get(n.node[1].ctx, 0, &ob), 0);
    cid_a = tp_child(&n, 0, 0).info.id;
    assert_int_equal(vpn_ikev2_ike_rekey(n.node[who].ctx, n.now, who ? ob.id : oa.id), 0);
    tp_run_for(&n, 1);
    for (int i = 0; i < 2; i++) {
        e = tp_find_ev(&n.node[i], VPN_IKEV2_EV_IKE_REKEYED, 0);
        assert_true(e >= 0);
        assert_int_equal(n.node[i].ev[e].old_id, i ? ob.id : oa.id);
        assert_int_equal(tp_count_ev(&n.node[i], VPN_IKEV2_EV_IKE_DOWN), 0);
        assert_int_equal(tp_count_ev(&n.node[i], VPN_IKEV2_EV_CHILD_DOWN), 0);
        assert_int_equal(vpn_ikev2_sa_count(n.node[i].ctx), 1);
    }
    assert_int_equal(vpn_ikev2_sa_get(n.node[0].ctx, 0, &na), 0);
    assert_int_equal(vpn_ikev2_sa_get(n.node[1].ctx, 0, &nb), 0);
    assert_memory_equal(na.spi_i, nb.spi_i, 8);
    assert_memory_equal(na.spi_r, nb.spi_r, 8);
    assert_memory_not_equal(na.spi_i, oa.spi_i, 8);
    assert_int_equal(na.initiator, who == 0);
    assert_int_equal(nb.initiator, who == 1);
    assert_int_equal(na.n_children, 1);
    assert_int_equal(tp_child(&n, 0, 0).info.id, cid_a);
    assert_int_equal(na.msgid_next_send, 0);
    /* the new IKE SA works: rekey the child under it, then DPD */
    assert_int_equal(vpn_ikev2_child_rekey(n.node[0].ctx, n.now, cid_a), 0);
    tp_run_for(&n, 1);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_CHILD_REKEYED), 1);
    assert_last_children_pair(&n);
    assert_int_equal(vpn_ikev2_dpd(n.node[1].ctx, n.now, nb.id), 0);
    tp_run_for(&n, 100);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_IKE_DOWN), 0);
    tp_free(&n);
}

static void test_ike_rekey_initiator(void **state)
{
    (void)state;
    ike_rekey(0);
}

static void test_ike_rekey_responder(void **state)
{
    (void)state;
    ike_rekey(1);
}

/* Both rekey the IKE SA at once (RFC 7296 2.8.2): one new IKE SA on both
 * sides, the same one, with the children. */
static void test_ike_rekey_collision(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    vpn_ikev2_sa_info na, nb;
    (void)state;

    bring_up(&n, &a, &b);
    assert_int_equal(vpn_ikev2_ike_rekey(n.node[0].ctx, n.now, tp_sa_id(&n, 0)), 0);
    assert_int_equal(vpn_ikev2_ike_rekey(n.node[1].ctx, n.now, tp_sa_id(&n, 1)), 0);
    tp_run_for(&n, 100);
    assert_int_equal(vpn_ikev2_sa_count(n.node[0].ctx), 1);
    assert_int_equal(vpn_ikev2_sa_count(n.node[1].ctx), 1);
    assert_int_equal(vpn_ikev2_sa_get(n.node[0].ctx, 0, &na), 0);
    assert_int_equal(vpn_ikev2_sa_get(n.node[1].ctx, 0, &nb), 0);
    assert_memory_equal(na.spi_i, nb.spi_i, 8);
    assert_memory_equal(na.spi_r, nb.spi_r, 8);
    assert_int_equal(na.n_children, 1);
    assert_int_equal(nb.n_children, 1);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_IKE_REKEYED), 1);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_IKE_REKEYED), 1);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_IKE_DOWN), 0);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_IKE_DOWN), 0);
    /* and it still works */
    assert_int_equal(vpn_ikev2_child_rekey(n.node[0].ctx, n.now, tp_child(&n, 0, 0).info.id), 0);
    tp_run_for(&n, 1);
    assert_last_children_pair(&n);
    tp_free(&n);
}

/* The IKE SA lifetime (`lifetime 600` in the profile) rekeys it at 90%. */
static void test_ike_rekey_by_lifetime(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    uint64_t t0;
    (void)state;

    a.profile_extra = b.profile_extra = " lifetime 600\n";
    bring_up(&n, &a, &b);
    t0 = n.now - 1 * TP_NS;
    tp_run_until(&n, t0 + 539 * TP_NS);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_IKE_REKEYED), 0);
    tp_run_until(&n, t0 + 545 * TP_NS);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_IKE_REKEYED), 1);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_IKE_REKEYED), 1);
    tp_run_until(&n, t0 + 3000 * TP_NS);
    assert_int_equal(vpn_ikev2_sa_count(n.node[0].ctx), 1);
    assert_int_equal(vpn_ikev2_sa_count(n.node[1].ctx), 1);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_IKE_DOWN), 0);
    assert_int_equal(children(&n, 0), 1);
    tp_free(&n);
}

/* Another CHILD_SA under the same IKE SA (RFC 7296 1.3.1): a second pair
 * of selectors, then one the responder refuses; the IKE SA and the first
 * CHILD_SA are untouched by the refusal. */
static void test_child_create(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    vpn_ikev2_policy extra = ts_policy("10.1.0.0/16", "10.2.0.0/16", 0, 11);
    int e;
    (void)state;

    a.pfs = b.pfs = "group19";
    /* R2 accepts GRE between the routers and 10.1.0.0/16 <-> 10.2.0.0/16 */
    up_with_lans(&n, &a, &b);
    assert_int_equal(vpn_ikev2_child_create(n.node[0].ctx, n.now, tp_sa_id(&n, 0), &extra), 0);
    tp_run_for(&n, 1);
    assert_int_equal(children(&n, 0), 2);
    assert_int_equal(children(&n, 1), 2);
    assert_last_children_pair(&n);
    e = tp_find_ev(&n.node[1], VPN_IKEV2_EV_CHILD_UP, 1);
    assert_int_equal(n.node[1].ev[e].child.policy_tag, 22);
    assert_int_equal(n.node[1].ev[e].child.pfs_group, VPN_DH_ECP_256);
    assert_int_equal(n.node[0].ev[tp_find_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP, 1)].child.policy_tag, 11);
    /* 192.168.0.0/16 is nowhere in R2's policies */
    extra.ts_remote[0] = sel("192.168.0.0/16", 0);
    assert_int_equal(vpn_ikev2_child_create(n.node[0].ctx, n.now, tp_sa_id(&n, 0), &extra), 0);
    tp_run_for(&n, 1);
    e = tp_find_ev(&n.node[0], VPN_IKEV2_EV_FAILED, 0);
    assert_true(e >= 0);
    assert_int_equal(n.node[0].ev[e].notify, 38);
    assert_int_equal(children(&n, 0), 2);
    assert_int_equal(children(&n, 1), 2);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_IKE_DOWN), 0);
    assert_int_equal(vpn_ikev2_child_create(n.node[0].ctx, n.now, 9999, &extra), VPN_ERR_NOTFOUND);
    tp_free(&n);
}

/* R2's datagrams never reach R1; R1 gets copies with a flipped ICV
 * instead, one from R2's address and one from elsewhere on port 4500. */
typedef struct forger {
    vpn_ikev2_endpoint moved;
    size_t forged;
} forger;

static void forge_to_r1(tp_net *n, forger *f, const vpn_ikev2_endpoint *src, const uint8_t *ike, size_t len)
{
    uint8_t m[sizeof ((tp_dgram *)0)->data];
    size_t off = src->port == VPN_IKEV2_NATT_PORT ? 4 : 0;
    vpn_ikev2_endpoint dst = n->node[0].ep;

    assert_true(len + off <= sizeof m);
    memset(m, 0, off);
    memcpy(m + off, ike, len);
    assert_int_equal(vpn_ikev2_input(n->node[0].ctx, n->now, &dst, src, m, len + off), 0);
    f->forged++;
}

static bool corrupt_r2(tp_net *n, tp_dgram *d, void *user)
{
    forger *f = user;
    uint8_t m[sizeof d->data];
    size_t len;
    const uint8_t *ike;

    if (d->from != 1)
        return true;
    ike = tp_ike(d, &len);
    memcpy(m, ike, len);
    m[len - 1] ^= 0x01;
    forge_to_r1(n, f, &d->src, m, len);
    forge_to_r1(n, f, &f->moved, m, len);
    return false;
}

/* RFC 7296 2.21.2, 2.4: only authenticated messages prove the peer alive.
 * The peer dies as in test_dpd_dead, but R1 keeps getting forged messages
 * with its SPIs: a request 5 s before its liveness check is due (it would
 * put the check off by 5 s if it counted), and each answer of R2's with a
 * flipped ICV (they would end the checks). R1 asks when it would have,
 * gives up when it would have, never follows the sender, and counts the
 * forgeries as drops only. */
static void test_dpd_forged_not_alive(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    forger f;
    vpn_ikev2_stats s0, s1;
    vpn_ikev2_sa_info i0, i1;
    const tp_dgram *auth = NULL;
    uint64_t t0, first_dpd = 0;
    int e;
    (void)state;

    memset(&f, 0, sizeof f);
    assert_int_equal(vpn_addr_parse(&f.moved.addr, "192.0.2.79"), 0);
    f.moved.port = VPN_IKEV2_NATT_PORT;
    a.profile_extra = " dpd 10 2 periodic\n";
    bring_up(&n, &a, &b);
    t0 = n.now;
    for (size_t i = 0; i < n.n_log && auth == NULL; i++)
        if (n.log[i]->from == 1 && tp_exchange(n.log[i]) == 35 && tp_is_response(n.log[i]))
            auth = n.log[i];
    assert_non_null(auth);
    vpn_ikev2_stats_get(n.node[0].ctx, &s0);
    assert_int_equal(vpn_ikev2_sa_get(n.node[0].ctx, 0, &i0), 0);
    n.hook = corrupt_r2;
    n.hook_user = &f;

    tp_run_until(&n, t0 + 5 * TP_NS);
    {
        /* R2's IKE_AUTH answer made a new INFORMATIONAL request from R2:
         * the header is under the ICV, so it no longer verifies */
        uint8_t m[sizeof auth->data];
        size_t len;
        const uint8_t *ike = tp_ike(auth, &len);
        memcpy(m, ike, len);
        m[18] = 37;
        m[19] &= (uint8_t)~0x20;
        vpn_store32(m + 20, i0.msgid_next_recv);
        forge_to_r1(&n, &f, &auth->src, m, len);
        forge_to_r1(&n, &f, &f.moved, m, len);
    }
    tp_run_until(&n, t0 + 10 * TP_NS + 5 * 2 * TP_NS - 1);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_IKE_DOWN), 0);
    assert_int_equal(vpn_ikev2_sa_get(n.node[0].ctx, 0, &i1), 0);
    assert_int_equal(i1.remote.port, i0.remote.port);
    assert_true(vpn_addr_eq(&i1.remote.addr, &i0.remote.addr));
    assert_int_equal(i1.msgid_next_recv, i0.msgid_next_recv);
    for (size_t i = 0; i < n.n_log; i++)
        if (n.log[i]->from == 0 && tp_exchange(n.log[i]) == 37 && !tp_is_response(n.log[i])) {
            first_dpd = n.log[i]->when;
            break;
        }
    assert_true(first_dpd != 0 && first_dpd <= t0 + 10 * TP_NS);
    assert_true(f.forged > 2); /* R2 answered some checks: forged answers went in */
    tp_run_for(&n, 2);
    e = tp_find_ev(&n.node[0], VPN_IKEV2_EV_IKE_DOWN, 0);
    assert_true(e >= 0);
    assert_int_equal(n.node[0].ev[e].reason, VPN_IKEV2_R_DPD);
    vpn_ikev2_stats_get(n.node[0].ctx, &s1);
    assert_int_equal(s1.in_requests, s0.in_requests);
    assert_int_equal(s1.in_responses, s0.in_responses);
    assert_int_equal(s1.dropped, s0.dropped + f.forged);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_CHILD_MOVED), 0);
    tp_free(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retransmit_lost_request),
        cmocka_unit_test(test_retransmit_backoff_and_give_up),
        cmocka_unit_test(test_retransmit_times),
        cmocka_unit_test(test_retransmit_configured),
        cmocka_unit_test(test_duplicate_answered_from_cache),
        cmocka_unit_test(test_duplicate_init),
        cmocka_unit_test(test_message_id_window),
        cmocka_unit_test(test_half_open_limits),
        cmocka_unit_test(test_delete_ike_initiator),
        cmocka_unit_test(test_delete_ike_responder),
        cmocka_unit_test(test_delete_child_initiator),
        cmocka_unit_test(test_delete_child_responder),
        cmocka_unit_test(test_delete_response_lost),
        cmocka_unit_test(test_delete_ike_both),
        cmocka_unit_test(test_dpd_alive),
        cmocka_unit_test(test_dpd_dead),
        cmocka_unit_test(test_dpd_on_demand),
        cmocka_unit_test(test_deadline_follows_activity),
        cmocka_unit_test(test_child_rekey),
        cmocka_unit_test(test_child_rekey_by_responder),
        cmocka_unit_test(test_child_rekey_pfs),
        cmocka_unit_test(test_child_rekey_pfs_mismatch),
        cmocka_unit_test(test_child_rekey_by_lifetime),
        cmocka_unit_test(test_child_expiry_reported_once),
        cmocka_unit_test(test_child_rekey_collision),
        cmocka_unit_test(test_ike_rekey_initiator),
        cmocka_unit_test(test_ike_rekey_responder),
        cmocka_unit_test(test_ike_rekey_collision),
        cmocka_unit_test(test_ike_rekey_by_lifetime),
        cmocka_unit_test(test_child_create),
        cmocka_unit_test(test_dpd_forged_not_alive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
