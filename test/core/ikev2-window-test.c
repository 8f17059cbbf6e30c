/*
 * RFC 7296 2.3 windows, two engines in memory: SET_WINDOW_SIZE announced
 * from `crypto ikev2 window N` in IKE_AUTH; several CREATE_CHILD_SA requests
 * in flight up to the peer's window (one at a time against a window of 1),
 * responses matched by message ID, each request retransmitted on its own;
 * a responder answers out of order, keeps the window's responses for
 * retransmissions, and refuses requests past its window.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/wire.h"
#include "ikev2/ikev2-ts.h"
#include "ikev2-pair.h"

#define N_EXTRA 4

static vpn_ikev2_sa_info info(tp_net *n, int node)
{
    vpn_ikev2_sa_info o;
    assert_int_equal(vpn_ikev2_sa_get(n->node[node].ctx, 0, &o), 0);
    return o;
}

static uint32_t mid_of(const tp_dgram *d)
{
    size_t len = 0;
    const uint8_t *p = tp_ike(d, &len);
    assert_true(len >= 28);
    return vpn_load32(p + 20);
}

/* R1 and R2 up; R2 takes 10.1.0.0/16 <-> 10.2.0.0/16 children. */
static void up(tp_net *n, const char *extra_a, const char *extra_b)
{
    peer_conf a = conf_a(), b = conf_b();
    vpn_ikev2_policy p = gre_policy("192.0.2.1", "192.0.2.2", 1), pb = gre_policy("192.0.2.2", "192.0.2.1", 2),
                     pb2;

    a.extra = extra_a;
    b.extra = extra_b;
    setup(n, &a, &b);
    assert_int_equal(vpn_ikev2_policy_add(n->node[1].ctx, &pb), 0);
    memset(&pb2, 0, sizeof pb2);
    pb2.ipsec_profile = "IPP";
    pb2.ts_local[0] = sel("10.2.0.0/16", 0);
    pb2.ts_remote[0] = sel("10.1.0.0/16", 0);
    pb2.n_ts_local = pb2.n_ts_remote = 1;
    pb2.tag = 22;
    assert_int_equal(vpn_ikev2_policy_add(n->node[1].ctx, &pb2), 0);
    initiate(n, &p);
    tp_run_for(n, 1);
    assert_int_equal(tp_count_ev(&n->node[0], VPN_IKEV2_EV_CHILD_UP), 1);
    assert_int_equal(tp_count_ev(&n->node[1], VPN_IKEV2_EV_CHILD_UP), 1);
}

/* Asks R1 for N_EXTRA more CHILD_SAs at once (10.1.k.0/24 <-> 10.2.k.0/24). */
static void ask_children(tp_net *n)
{
    for (int k = 0; k < N_EXTRA; k++) {
        vpn_ikev2_policy x;
        char l[32], r[32];
        memset(&x, 0, sizeof x);
        x.ipsec_profile = "IPP";
        snprintf(l, sizeof l, "10.1.%d.0/24", k + 1);
        snprintf(r, sizeof r, "10.2.%d.0/24", k + 1);
        x.ts_local[0] = sel(l, 0);
        x.ts_remote[0] = sel(r, 0);
        x.n_ts_local = x.n_ts_remote = 1;
        x.tag = 100 + (uint32_t)k;
        assert_int_equal(vpn_ikev2_child_create(n->node[0].ctx, n->now, tp_sa_id(n, 0), &x), 0);
    }
}

/* CREATE_CHILD_SA requests from R1 waiting in the network. */
static size_t queued_requests(const tp_net *n)
{
    size_t k = 0;
    for (size_t i = 0; i < n->n_queue; i++)
        if (n->queue[i]->from == 0 && tp_exchange(n->queue[i]) == 36 && !tp_is_response(n->queue[i]))
            k++;
    return k;
}

static void test_window_announced(void **state)
{
    tp_net n;
    (void)state;

    /* IOS's default window is 5: both announce it in IKE_AUTH */
    up(&n, NULL, NULL);
    assert_int_equal(info(&n, 0).window_local, 5);
    assert_int_equal(info(&n, 0).window_remote, 5);
    assert_int_equal(info(&n, 1).window_remote, 5);
    tp_free(&n);
    /* a window of 1 is not announced: the peer keeps the default 1 */
    up(&n, "crypto ikev2 window 3\n", "crypto ikev2 window 1\n");
    assert_int_equal(info(&n, 0).window_local, 3);
    assert_int_equal(info(&n, 0).window_remote, 1);
    assert_int_equal(info(&n, 1).window_local, 1);
    assert_int_equal(info(&n, 1).window_remote, 3);
    tp_free(&n);
    /* more than the engine keeps: announced as 8 */
    up(&n, "crypto ikev2 window 200\n", NULL);
    assert_int_equal(info(&n, 0).window_local, 8);
    assert_int_equal(info(&n, 1).window_remote, 8);
    tp_free(&n);
}

static void check_children_up(tp_net *n)
{
    assert_int_equal(tp_count_ev(&n->node[0], VPN_IKEV2_EV_CHILD_UP), 1 + N_EXTRA);
    assert_int_equal(tp_count_ev(&n->node[1], VPN_IKEV2_EV_CHILD_UP), 1 + N_EXTRA);
    assert_int_equal(tp_count_ev(&n->node[0], VPN_IKEV2_EV_FAILED), 0);
    assert_int_equal(info(n, 0).n_children, 1 + N_EXTRA);
    assert_int_equal(info(n, 1).n_children, 1 + N_EXTRA);
    /* each CHILD_UP's tag names the policy it was asked for */
    for (int k = 0; k < N_EXTRA; k++) {
        int e = tp_find_ev(&n->node[0], VPN_IKEV2_EV_CHILD_UP, 1 + k);
        assert_true(e >= 0);
        assert_true(n->node[0].ev[e].child.policy_tag >= 100 && n->node[0].ev[e].child.policy_tag < 100 + N_EXTRA);
    }
}

static void test_window_five_in_flight(void **state)
{
    tp_net n;
    vpn_ikev2_stats st;
    (void)state;

    up(&n, NULL, NULL);
    ask_children(&n);
    /* all four requests left before any answer: message IDs 2..5 */
    assert_int_equal(queued_requests(&n), N_EXTRA);
    for (size_t i = 0; i < n.n_queue; i++)
        assert_int_equal(mid_of(n.queue[i]), 2 + i);
    assert_int_equal(info(&n, 0).requests_in_flight, N_EXTRA);
    tp_run_for(&n, 1);
    check_children_up(&n);
    assert_int_equal(info(&n, 0).requests_in_flight, 0);
    vpn_ikev2_stats_get(n.node[0].ctx, &st);
    assert_int_equal(st.retransmits, 0);
    tp_free(&n);
}

static void test_window_one_in_flight(void **state)
{
    tp_net n;
    (void)state;

    /* R2 takes one request at a time: R1 waits for each answer */
    up(&n, NULL, "crypto ikev2 window 1\n");
    ask_children(&n);
    assert_int_equal(queued_requests(&n), 1);
    assert_int_equal(info(&n, 0).requests_in_flight, 1);
    assert_int_equal(info(&n, 0).queued_requests, N_EXTRA - 1);
    tp_run_for(&n, 1);
    check_children_up(&n);
    tp_free(&n);
}

/* Drops R1's request with message ID `mid` once. */
typedef struct mid_dropper {
    uint32_t mid;
    int dropped;
} mid_dropper;

static bool drop_mid(tp_net *n, tp_dgram *d, void *user)
{
    mid_dropper *m = user;
    (void)n;
    if (m->dropped || d->from != 0 || tp_is_response(d) || tp_exchange(d) != 36 || mid_of(d) != m->mid)
        return true;
    m->dropped++;
    return false;
}

static void test_window_loss_out_of_order(void **state)
{
    tp_net n;
    mid_dropper m = {2, 0};
    vpn_ikev2_stats s0, s1;
    vpn_ikev2_sa_info i1;
    (void)state;

    up(&n, NULL, NULL);
    n.hook = drop_mid;
    n.hook_user = &m;
    ask_children(&n);
    tp_pump(&n);
    assert_int_equal(m.dropped, 1);
    /* R2 answered 3..5 out of order; 2 is still missing, so it expects 2 */
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP), N_EXTRA);
    i1 = info(&n, 1);
    assert_int_equal(i1.msgid_next_recv, 2);
    assert_int_equal(info(&n, 0).requests_in_flight, 1);
    vpn_ikev2_stats_get(n.node[0].ctx, &s0);
    /* only request 2 is sent again, after its own timer */
    tp_run_for(&n, 2);
    vpn_ikev2_stats_get(n.node[0].ctx, &s1);
    assert_int_equal(s1.retransmits, s0.retransmits + 1);
    check_children_up(&n);
    assert_int_equal(info(&n, 1).msgid_next_recv, 6);
    tp_free(&n);
}

/* Keeps copies of R1's CREATE_CHILD_SA requests. */
typedef struct keeper {
    tp_dgram d[N_EXTRA];
    int n;
} keeper;

static bool keep_req(tp_net *n, tp_dgram *d, void *user)
{
    keeper *k = user;
    (void)n;
    if (d->from == 0 && !tp_is_response(d) && tp_exchange(d) == 36 && k->n < N_EXTRA)
        k->d[k->n++] = *d;
    return true;
}

static void test_window_responses_kept(void **state)
{
    tp_net n;
    keeper *k = calloc(1, sizeof *k);
    vpn_ikev2_stats s0, s1;
    size_t sent;
    (void)state;

    assert_non_null(k);
    up(&n, NULL, NULL);
    n.hook = keep_req;
    n.hook_user = k;
    ask_children(&n);
    tp_run_for(&n, 1);
    n.hook = NULL;
    assert_int_equal(k->n, N_EXTRA);
    check_children_up(&n);
    /* 2.3: every request of the window still gets its response again */
    vpn_ikev2_stats_get(n.node[1].ctx, &s0);
    sent = n.sent;
    for (int i = 0; i < N_EXTRA; i++)
        assert_int_equal(vpn_ikev2_input(n.node[1].ctx, n.now, &k->d[i].dst, &k->d[i].src, k->d[i].data,
                                        k->d[i].len), 0);
    vpn_ikev2_stats_get(n.node[1].ctx, &s1);
    assert_int_equal(s1.duplicates_answered, s0.duplicates_answered + N_EXTRA);
    assert_int_equal(n.sent, sent + N_EXTRA);
    tp_pump(&n); /* R1 drops the stale answers */
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP), 1 + N_EXTRA);
    /* a tampered copy of one is no retransmission: no answer */
    k->d[1].data[k->d[1].len - 1] ^= 1;
    sent = n.sent;
    assert_int_equal(vpn_ikev2_input(n.node[1].ctx, n.now, &k->d[1].dst, &k->d[1].src, k->d[1].data,
                                    k->d[1].len), 0);
    assert_int_equal(n.sent, sent);
    tp_free(&n);
    free(k);
}

static void test_window_violation_refused(void **state)
{
    tp_net n;
    keeper *k = calloc(1, sizeof *k);
    vpn_ikev2_stats s0, s1;
    size_t sent;
    (void)state;

    assert_non_null(k);
    /* R2 announced 5 and R1 sends 4 at once; R2 is then held to a window of
     * 2 (as a peer that announced 2 would be): the requests past it are
     * refused unanswered, the SA stays, and they are taken when the
     * window has moved (R1's retransmissions) */
    up(&n, NULL, NULL);
    n.node[1].conf->ikev2_window = 2;
    n.hook = keep_req;
    n.hook_user = k;
    ask_children(&n);
    n.hook = NULL;
    /* hand R2 the four requests in reverse order: 5 and 4 are past 2..3 */
    vpn_ikev2_stats_get(n.node[1].ctx, &s0);
    sent = n.sent;
    {
        tp_dgram *q[N_EXTRA];
        size_t nq = n.n_queue;
        assert_int_equal(nq, N_EXTRA);
        memcpy(q, n.queue, sizeof q);
        n.n_queue = 0;
        for (int i = N_EXTRA - 1; i >= 0; i--) {
            assert_int_equal(vpn_ikev2_input(n.node[1].ctx, n.now, &q[i]->dst, &q[i]->src, q[i]->data, q[i]->len),
                             0);
            free(q[i]);
        }
    }
    vpn_ikev2_stats_get(n.node[1].ctx, &s1);
    assert_int_equal(s1.window_violations, s0.window_violations + 2);
    assert_int_equal(n.sent, sent + 2); /* answers to 3 and 2 only */
    assert_int_equal(info(&n, 1).msgid_next_recv, 4);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_IKE_DOWN), 0);
    tp_run_for(&n, 10);
    check_children_up(&n);
    tp_free(&n);
    free(k);
}

static void test_window_conf_and_ike_rekey(void **state)
{
    tp_net n;
    vpn_ikev2_sa_info i0;
    uint32_t old;
    (void)state;

    /* the configuration refuses what the RFC cannot mean */
    {
        vpn_conf *c = NULL;
        vpn_conf_error err;
        const char *t = "crypto ikev2 window 0\n";
        assert_int_not_equal(vpn_conf_parse(t, strlen(t), &c, &err), 0);
        assert_int_equal(err.line, 1);
        assert_null(c);
    }
    /* an IKE rekey waits for the children's exchanges; nothing overlaps it */
    up(&n, NULL, NULL);
    old = tp_sa_id(&n, 0);
    ask_children(&n);
    assert_int_equal(vpn_ikev2_ike_rekey(n.node[0].ctx, n.now, old), 0);
    assert_int_equal(queued_requests(&n), N_EXTRA);
    tp_run_for(&n, 2);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_FAILED), 0);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_IKE_DOWN), 0);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP), 1 + N_EXTRA);
    /* the rekey happened after them: one IKE SA, a new one, with every child */
    assert_int_equal(vpn_ikev2_sa_count(n.node[0].ctx), 1);
    i0 = info(&n, 0);
    assert_int_not_equal(i0.id, old);
    assert_int_equal(i0.n_children, 1 + N_EXTRA);
    /* the peer's window (said once, in IKE_AUTH) holds for the new IKE SA */
    assert_int_equal(i0.window_remote, 5);
    assert_int_equal(info(&n, 1).window_remote, 5);
    tp_free(&n);
}

/* ---- a Delete behind lost requests (RFC 7296 2.3) ---------------------------- */

/* Drops R1's first CREATE_CHILD_SA request, or R2's answer to it. */
typedef struct first_dropper {
    bool answer;
    int dropped;
} first_dropper;

static bool drop_first_create(tp_net *n, tp_dgram *d, void *user)
{
    first_dropper *f = user;
    (void)n;
    if (f->dropped || tp_exchange(d) != 36 || tp_is_response(d) != f->answer || d->from != (f->answer ? 1 : 0))
        return true;
    f->dropped++;
    return false;
}

/* R1 rekeys its CHILD_SA, the request (or its answer) is lost, and R1 is
 * told to delete the IKE SA while that request is in flight. Against a
 * window of 1 the Delete cannot take the next message ID while R2 has not
 * seen the request: R1 retransmits the abandoned request, ignores the
 * answer, then sends the Delete, and R2 takes it. (Before, R1 dropped the
 * request and sent the Delete at once with the next ID: R2 refused it as
 * past its window every time and kept the SA.) */
static void delete_behind_loss(bool answer_lost)
{
    tp_net n;
    first_dropper f = {answer_lost, 0};
    vpn_ikev2_stats s1;
    int d;

    up(&n, NULL, "crypto ikev2 window 1\n"); /* R2 takes one request at a time */
    n.hook = drop_first_create;
    n.hook_user = &f;
    assert_int_equal(vpn_ikev2_child_rekey(n.node[0].ctx, n.now, tp_child(&n, 0, 0).info.id), 0);
    tp_pump(&n);
    assert_int_equal(f.dropped, 1);
    assert_int_equal(info(&n, 0).requests_in_flight, 1);
    assert_int_equal(info(&n, 0).window_remote, 1);
    assert_int_equal(vpn_ikev2_delete(n.node[0].ctx, n.now, tp_sa_id(&n, 0)), 0);
    /* the driver learns at once */
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_IKE_DOWN), 1);
    tp_run_for(&n, 60);
    /* both ends hold nothing; R2 was told by the Delete, not by a timeout */
    assert_int_equal(vpn_ikev2_sa_count(n.node[0].ctx), 0);
    assert_int_equal(vpn_ikev2_sa_count(n.node[1].ctx), 0);
    d = tp_find_ev(&n.node[1], VPN_IKEV2_EV_IKE_DOWN, 0);
    assert_true(d >= 0);
    assert_int_equal(n.node[1].ev[d].reason, VPN_IKEV2_R_PEER_DELETE);
    vpn_ikev2_stats_get(n.node[1].ctx, &s1);
    assert_int_equal(s1.window_violations, 0);
    /* R1 announced nothing after its IKE_DOWN: the rekey's answer was dropped */
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_IKE_DOWN), 1);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP), 1);
    tp_free(&n);
}

static void test_delete_after_lost_request(void **state)
{
    (void)state;
    delete_behind_loss(false);
}

static void test_delete_after_lost_answer(void **state)
{
    (void)state;
    delete_behind_loss(true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_announced),
        cmocka_unit_test(test_window_five_in_flight),
        cmocka_unit_test(test_window_one_in_flight),
        cmocka_unit_test(test_window_loss_out_of_order),
        cmocka_unit_test(test_window_responses_kept),
        cmocka_unit_test(test_window_violation_refused),
        cmocka_unit_test(test_window_conf_and_ike_rekey),
        cmocka_unit_test(test_delete_after_lost_request),
        cmocka_unit_test(test_delete_after_lost_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
