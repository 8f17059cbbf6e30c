/*
 * RFC 7296 2.3 windows, two engines in memory: SET_WINDOW_SIZE announced
 * from `crypto ikev2 window N` in IKE_AUTH; several CREATE_CHILD_SA requests
 * in flight up to the peer's window (one at a time against a window of 1),
 * responses matched by message ID, each request retransmitted on its own;
 * a responder answers out of order, keeps the window's responses for
 * retransmissions, and refuses requests past its window. The *_held cases
 * keep the answers back and hand them over one at a time, so that what is
 * in flight is exact: N of a window N (1 unannounced, 8 at most), the next
 * one after the answer that moves the window, the same on both sides of
 * an IKE SA rekeyed by either peer.
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

    a.extra = extra_a;
    b.extra = extra_b;
    up_with_lans(n, &a, &b);
    assert_int_equal(tp_count_ev(&n->node[0], VPN_IKEV2_EV_CHILD_UP), 1);
    assert_int_equal(tp_count_ev(&n->node[1], VPN_IKEV2_EV_CHILD_UP), 1);
}

/* Asks R1 for N_EXTRA more CHILD_SAs at once (10.1.k.0/24 <-> 10.2.k.0/24). */
static void ask_children(tp_net *n)
{
    for (int k = 0; k < N_EXTRA; k++) {
        vpn_ikev2_policy x;
        char l[32], r[32];
        snprintf(l, sizeof l, "10.1.%d.0/24", k + 1);
        snprintf(r, sizeof r, "10.2.%d.0/24", k + 1);
        x = ts_policy(l, r, 0, 100 + (uint32_t)k);
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

/* ---- answers held back: exactly what is in flight ------------------------------------- */

#define HOLD_MAX 16

/* Records the message IDs of the CREATE_CHILD_SA requests node `from` sends
 * (in the order they leave) and takes the answers to them out of the
 * network; release() hands them back one at a time. The clock does not
 * move meanwhile, so nothing is retransmitted. */
typedef struct holder {
    int from;
    uint32_t sent[HOLD_MAX];
    int n_sent;
    tp_dgram *resp[HOLD_MAX];
    int n_resp;
} holder;

static bool hold_resp(tp_net *n, tp_dgram *d, void *user)
{
    holder *h = user;
    tp_dgram *c;
    (void)n;
    if (tp_exchange(d) != 36)
        return true;
    if (d->from == h->from && !tp_is_response(d)) {
        assert_true(h->n_sent < HOLD_MAX);
        h->sent[h->n_sent++] = mid_of(d);
        return true;
    }
    if (d->from == h->from || !tp_is_response(d))
        return true;
    assert_true(h->n_resp < HOLD_MAX);
    c = malloc(sizeof *c);
    assert_non_null(c);
    *c = *d;
    h->resp[h->n_resp++] = c;
    return false;
}

/* Hands the held answer to request `mid` to the requester, then lets the
 * network run (what that sends goes out, its answers are held again). */
static void release(tp_net *n, holder *h, uint32_t mid)
{
    for (int i = 0; i < h->n_resp; i++) {
        tp_dgram *c = h->resp[i];
        if (mid_of(c) != mid)
            continue;
        h->resp[i] = h->resp[--h->n_resp];
        assert_int_equal(vpn_ikev2_input(n->node[h->from].ctx, n->now, &c->dst, &c->src, c->data, c->len), 0);
        free(c);
        tp_pump(n);
        return;
    }
    fail_msg("no held answer to request %u", mid);
}

static void holder_free(holder *h)
{
    for (int i = 0; i < h->n_resp; i++)
        free(h->resp[i]);
    h->n_resp = 0;
}

/* Node `node` asks for `count` more CHILD_SAs at once: node 0 for
 * 10.1.k.0/24 <-> 10.2.k.0/24, node 1 the other way round, k = base ... */
static void ask(tp_net *n, int node, int count, int base)
{
    for (int k = base; k < base + count; k++) {
        vpn_ikev2_policy x;
        char a[32], b[32];
        snprintf(a, sizeof a, "10.1.%d.0/24", k);
        snprintf(b, sizeof b, "10.2.%d.0/24", k);
        x = node == 0 ? ts_policy(a, b, 0, 100 + (uint32_t)k) : ts_policy(b, a, 0, 200 + (uint32_t)k);
        assert_int_equal(vpn_ikev2_child_create(n->node[node].ctx, n->now, tp_sa_id(n, node), &x), 0);
    }
}

/* What node's IKE SA has in flight and waiting, and what the holder saw leave. */
static void expect_flight(tp_net *n, const holder *h, unsigned in_flight, unsigned waiting, int n_sent)
{
    vpn_ikev2_sa_info i = info(n, h->from);
    assert_int_equal(i.requests_in_flight, in_flight);
    assert_int_equal(i.queued_requests, waiting);
    assert_int_equal(h->n_sent, n_sent);
}

static void test_window_n_held(void **state)
{
    tp_net n;
    holder h = {.from = 0};
    vpn_ikev2_stats st;
    (void)state;

    /* R2 announces 3, R1 wants 5 CHILD_SAs at once (message IDs 2..6) and
     * gets no answer: exactly 3 leave (2, 3, 4) and R2 answers each */
    up(&n, NULL, "crypto ikev2 window 3\n");
    assert_int_equal(info(&n, 0).window_remote, 3);
    n.hook = hold_resp;
    n.hook_user = &h;
    ask(&n, 0, 5, 1);
    tp_pump(&n);
    expect_flight(&n, &h, 3, 2, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(h.sent[i], 2 + i);
    assert_int_equal(h.n_resp, 3);
    /* RFC 7296 2.3: request X waits for the answers up to X - 3. The
     * answer to 2 lets exactly one more out, 5 */
    release(&n, &h, 2);
    expect_flight(&n, &h, 3, 1, 4);
    assert_int_equal(h.sent[3], 5);
    /* the answer to 4 does not let 6 out: 6 - 3 = 3 is unanswered, though
     * only two requests are in flight */
    release(&n, &h, 4);
    expect_flight(&n, &h, 2, 1, 4);
    release(&n, &h, 3);
    expect_flight(&n, &h, 2, 0, 5);
    assert_int_equal(h.sent[4], 6);
    release(&n, &h, 6);
    release(&n, &h, 5);
    expect_flight(&n, &h, 0, 0, 5);
    assert_int_equal(h.n_resp, 0);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP), 1 + 5);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_CHILD_UP), 1 + 5);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_FAILED), 0);
    vpn_ikev2_stats_get(n.node[1].ctx, &st);
    assert_int_equal(st.window_violations, 0);
    holder_free(&h);
    tp_free(&n);
}

static void test_window_max_held(void **state)
{
    tp_net n;
    holder h = {.from = 0};
    (void)state;

    /* R2 asks for 200, announced as the engine's most (8): R1 has 8 in
     * flight at once (all its slots), the 9th and 10th wait */
    up(&n, NULL, "crypto ikev2 window 200\n");
    assert_int_equal(info(&n, 0).window_remote, 8);
    n.hook = hold_resp;
    n.hook_user = &h;
    ask(&n, 0, 10, 1);
    tp_pump(&n);
    expect_flight(&n, &h, 8, 2, 8);
    for (int i = 0; i < 8; i++)
        assert_int_equal(h.sent[i], 2 + i);
    assert_int_equal(h.n_resp, 8);
    release(&n, &h, 2);
    expect_flight(&n, &h, 8, 1, 9);
    assert_int_equal(h.sent[8], 10);
    release(&n, &h, 3);
    expect_flight(&n, &h, 8, 0, 10);
    assert_int_equal(h.sent[9], 11);
    for (uint32_t m = 4; m <= 11; m++)
        release(&n, &h, m);
    expect_flight(&n, &h, 0, 0, 10);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP), 1 + 10);
    holder_free(&h);
    tp_free(&n);
}

static void test_window_one_held(void **state)
{
    tp_net n;
    holder h = {.from = 0};
    (void)state;

    /* R2's window is 1 and so not announced: R1 keeps the default 1 and
     * sends each request after the answer to the one before */
    up(&n, NULL, "crypto ikev2 window 1\n");
    assert_int_equal(info(&n, 0).window_remote, 1);
    n.hook = hold_resp;
    n.hook_user = &h;
    ask(&n, 0, 3, 1);
    tp_pump(&n);
    expect_flight(&n, &h, 1, 2, 1);
    assert_int_equal(h.sent[0], 2);
    assert_int_equal(h.n_resp, 1);
    release(&n, &h, 2);
    expect_flight(&n, &h, 1, 1, 2);
    assert_int_equal(h.sent[1], 3);
    release(&n, &h, 3);
    expect_flight(&n, &h, 1, 0, 3);
    assert_int_equal(h.sent[2], 4);
    release(&n, &h, 4);
    expect_flight(&n, &h, 0, 0, 3);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP), 1 + 3);
    holder_free(&h);
    tp_free(&n);
}

/* Hands R2 the request with message ID mid from qs (R1's, taken off the
 * network); checks what R2 sent, did and counted. */
static void give_r2(tp_net *n, tp_dgram **qs, size_t nq, uint32_t mid, size_t answers, size_t children,
                    uint64_t violations, uint32_t next_recv)
{
    vpn_ikev2_stats st;
    size_t sent = n->sent;
    size_t up0 = tp_count_ev(&n->node[1], VPN_IKEV2_EV_CHILD_UP);
    tp_dgram *d = NULL;

    for (size_t i = 0; i < nq; i++)
        if (mid_of(qs[i]) == mid)
            d = qs[i];
    assert_non_null(d);
    assert_int_equal(vpn_ikev2_input(n->node[1].ctx, n->now, &d->dst, &d->src, d->data, d->len), 0);
    vpn_ikev2_stats_get(n->node[1].ctx, &st);
    assert_int_equal(n->sent - sent, answers);
    assert_int_equal(tp_count_ev(&n->node[1], VPN_IKEV2_EV_CHILD_UP) - up0, answers);
    assert_int_equal(info(n, 1).n_children, children);
    assert_int_equal(st.window_violations, violations);
    assert_int_equal(info(n, 1).msgid_next_recv, next_recv);
}

static void test_window_responder_refuses_past(void **state)
{
    tp_net n;
    tp_dgram *qs[5];
    (void)state;

    /* R2 said 8, so R1 sends 5 requests (2..6) at once; R2 then takes 3
     * (as a peer that ignores an announced 3 would meet it) */
    up(&n, NULL, "crypto ikev2 window 8\n");
    assert_int_equal(info(&n, 0).window_remote, 8);
    n.node[1].conf->ikev2_window = 3;
    ask(&n, 0, 5, 1);
    assert_int_equal(n.n_queue, 5);
    memcpy(qs, n.queue, sizeof qs);
    n.n_queue = 0;
    assert_int_equal(info(&n, 1).msgid_next_recv, 2);
    /* 5 = 2 + 3 is past the window: counted, not answered, no CHILD_SA */
    give_r2(&n, qs, 5, 5, 0, 1, 1, 2);
    /* 4 = 2 + 2 is the window's last: taken (out of order) */
    give_r2(&n, qs, 5, 4, 1, 2, 1, 2);
    give_r2(&n, qs, 5, 6, 0, 2, 2, 2);
    give_r2(&n, qs, 5, 2, 1, 3, 2, 3);
    give_r2(&n, qs, 5, 3, 1, 4, 2, 5);
    /* the refused requests were not taken: once the window has moved they
     * are new requests (R1's retransmissions, here the same bytes) */
    give_r2(&n, qs, 5, 5, 1, 5, 2, 6);
    give_r2(&n, qs, 5, 6, 1, 6, 2, 7);
    for (int i = 0; i < 5; i++)
        free(qs[i]);
    tp_pump(&n);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP), 1 + 5);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_FAILED), 0);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_IKE_DOWN), 0);
    assert_int_equal(info(&n, 0).requests_in_flight, 0);
    tp_free(&n);
}

/* R1 announces 5 (the default), R2 3; then `rekeyer` rekeys the IKE SA. */
static void after_ike_rekey(int rekeyer)
{
    tp_net n;
    holder h = {.from = 0};
    vpn_ikev2_policy p1 = ts_policy("10.1.0.0/16", "10.2.0.0/16", 0, 11);
    vpn_ikev2_stats s0, s1;
    tp_dgram *qs[5];
    uint32_t old0, old1;

    up(&n, NULL, "crypto ikev2 window 3\n");
    assert_int_equal(vpn_ikev2_policy_add(n.node[0].ctx, &p1), 0);
    old0 = tp_sa_id(&n, 0);
    old1 = tp_sa_id(&n, 1);
    assert_int_equal(vpn_ikev2_ike_rekey(n.node[rekeyer].ctx, n.now, rekeyer == 0 ? old0 : old1), 0);
    tp_run_for(&n, 2);
    assert_int_equal(vpn_ikev2_sa_count(n.node[0].ctx), 1);
    assert_int_equal(vpn_ikev2_sa_count(n.node[1].ctx), 1);
    assert_int_not_equal(tp_sa_id(&n, 0), old0);
    assert_int_not_equal(tp_sa_id(&n, 1), old1);
    assert_int_equal(info(&n, 0).msgid_next_send, 0);
    assert_int_equal(info(&n, 1).msgid_next_send, 0);

    /* R1 on the new SA still keeps to R2's 3: 0, 1, 2 leave, 3 waits for 0 */
    n.hook = hold_resp;
    n.hook_user = &h;
    ask(&n, 0, 4, 1);
    tp_pump(&n);
    expect_flight(&n, &h, 3, 1, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(h.sent[i], i);
    release(&n, &h, 1);
    expect_flight(&n, &h, 2, 1, 3);
    release(&n, &h, 0);
    expect_flight(&n, &h, 2, 0, 4);
    assert_int_equal(h.sent[3], 3);
    release(&n, &h, 2);
    release(&n, &h, 3);
    expect_flight(&n, &h, 0, 0, 4);
    holder_free(&h);
    n.hook = NULL;

    /* R2 on the new SA keeps to R1's 5: of 6, 0..4 leave; R1 as responder
     * on the new SA takes all five out of order (its window is 5 there,
     * not the 1 of an SA being set up), and keeps every answer */
    vpn_ikev2_stats_get(n.node[0].ctx, &s0);
    ask(&n, 1, 6, 11);
    assert_int_equal(info(&n, 1).requests_in_flight, 5);
    assert_int_equal(info(&n, 1).queued_requests, 1);
    assert_int_equal(n.n_queue, 5);
    memcpy(qs, n.queue, sizeof qs);
    n.n_queue = 0;
    for (int i = 4; i >= 0; i--) {
        assert_int_equal(mid_of(qs[i]), (uint32_t)i);
        assert_int_equal(vpn_ikev2_input(n.node[0].ctx, n.now, &qs[i]->dst, &qs[i]->src, qs[i]->data, qs[i]->len),
                         0);
    }
    assert_int_equal(n.n_queue, 5);
    assert_int_equal(info(&n, 0).msgid_next_recv, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(vpn_ikev2_input(n.node[0].ctx, n.now, &qs[i]->dst, &qs[i]->src, qs[i]->data, qs[i]->len),
                         0);
    vpn_ikev2_stats_get(n.node[0].ctx, &s1);
    assert_int_equal(s1.window_violations, s0.window_violations);
    assert_int_equal(s1.duplicates_answered, s0.duplicates_answered + 5);
    assert_int_equal(n.n_queue, 10);
    for (int i = 0; i < 5; i++)
        free(qs[i]);
    tp_run_for(&n, 1);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_CHILD_UP), 1 + 4 + 6);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP), 1 + 4 + 6);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_FAILED), 0);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_FAILED), 0);
    tp_free(&n);
}

static void test_window_after_ike_rekey_held(void **state)
{
    (void)state;
    after_ike_rekey(0);
}

static void test_window_after_peer_ike_rekey_held(void **state)
{
    (void)state;
    after_ike_rekey(1);
}

/* Keeps copies of R1's CREATE_CHILD_SA requests (any number up to 8). */
typedef struct keeper8 {
    tp_dgram d[8];
    int n;
} keeper8;

static bool keep8(tp_net *n, tp_dgram *d, void *user)
{
    keeper8 *k = user;
    (void)n;
    if (d->from == 0 && !tp_is_response(d) && tp_exchange(d) == 36 && k->n < 8)
        k->d[k->n++] = *d;
    return true;
}

/* R2 gets R1's request k again: how many datagrams it sends. */
static size_t again(tp_net *n, keeper8 *k, int i)
{
    size_t sent = n->sent;
    assert_int_equal(vpn_ikev2_input(n->node[1].ctx, n->now, &k->d[i].dst, &k->d[i].src, k->d[i].data, k->d[i].len),
                     0);
    return n->sent - sent;
}

static void test_window_responder_keeps_last_n(void **state)
{
    tp_net n;
    keeper8 *k = calloc(1, sizeof *k);
    vpn_ikev2_stats s0, s1;
    (void)state;

    assert_non_null(k);
    /* R2's window 3: after five requests (2..6) it still answers a
     * retransmission of each of the last three, from what it kept */
    up(&n, NULL, "crypto ikev2 window 3\n");
    n.hook = keep8;
    n.hook_user = k;
    ask(&n, 0, 5, 1);
    tp_run_for(&n, 1);
    n.hook = NULL;
    assert_int_equal(k->n, 5);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_CHILD_UP), 1 + 5);
    vpn_ikev2_stats_get(n.node[1].ctx, &s0);
    assert_int_equal(again(&n, k, 4), 1);
    assert_int_equal(again(&n, k, 2), 1);
    assert_int_equal(again(&n, k, 3), 1);
    vpn_ikev2_stats_get(n.node[1].ctx, &s1);
    assert_int_equal(s1.duplicates_answered, s0.duplicates_answered + 3);
    assert_int_equal(s1.window_violations, s0.window_violations);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_CHILD_UP), 1 + 5);
    tp_pump(&n);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP), 1 + 5);
    tp_free(&n);

    /* window 1: only the last request's answer is kept; the one before is
     * behind the window: dropped, not done again, not a violation */
    memset(k, 0, sizeof *k);
    up(&n, NULL, "crypto ikev2 window 1\n");
    n.hook = keep8;
    n.hook_user = k;
    ask(&n, 0, 3, 1);
    tp_run_for(&n, 1);
    n.hook = NULL;
    assert_int_equal(k->n, 3);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_CHILD_UP), 1 + 3);
    vpn_ikev2_stats_get(n.node[1].ctx, &s0);
    assert_int_equal(again(&n, k, 2), 1);
    assert_int_equal(again(&n, k, 1), 0);
    vpn_ikev2_stats_get(n.node[1].ctx, &s1);
    assert_int_equal(s1.duplicates_answered, s0.duplicates_answered + 1);
    assert_int_equal(s1.window_violations, s0.window_violations);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_CHILD_UP), 1 + 3);
    assert_int_equal(info(&n, 1).msgid_next_recv, 5);
    tp_free(&n);
    free(k);
}

/* ---- forged requests change nothing (RFC 7296 2.1, 2.3, 2.23) ---------------------------- */

/* Takes R1's INFORMATIONAL requests out of the network (the first is kept). */
typedef struct taker {
    tp_dgram d;
    int n;
} taker;

static bool take_info(tp_net *n, tp_dgram *d, void *user)
{
    taker *t = user;
    (void)n;
    if (d->from == 0 && !tp_is_response(d) && tp_exchange(d) == 37) {
        if (t->n++ == 0)
            t->d = *d;
        return false;
    }
    return true;
}

/* R1's DPD request, captured before R2 saw it (its message ID is the one
 * R2 expects next). */
static void capture_dpd(tp_net *n, taker *t)
{
    n->hook = take_info;
    n->hook_user = t;
    assert_int_equal(vpn_ikev2_dpd(n->node[0].ctx, n->now, tp_sa_id(n, 0)), 0);
    tp_pump(n);
    n->hook = NULL;
    assert_int_equal(t->n, 1);
    assert_int_equal(mid_of(&t->d), info(n, 1).msgid_next_recv);
}

/* Hands node `to` the IKE message `ike` (len bytes) as if from `src`; a
 * source on port 4500 gets the non-ESP marker (RFC 3948 2.2). Answers are
 * discarded. */
static void forge_to(tp_net *n, int to, const vpn_ikev2_endpoint *src, const uint8_t *ike, size_t len)
{
    uint8_t buf[sizeof ((tp_dgram *)0)->data];
    size_t off = src->port == VPN_IKEV2_NATT_PORT ? 4 : 0;
    vpn_ikev2_endpoint dst = n->node[to].ep;

    assert_true(len + off <= sizeof buf);
    memset(buf, 0, off);
    memcpy(buf + off, ike, len);
    assert_int_equal(vpn_ikev2_input(n->node[to].ctx, n->now, &dst, src, buf, len + off), 0);
    while (n->n_queue)
        free(n->queue[--n->n_queue]);
}

static void forge_to_r2(tp_net *n, const vpn_ikev2_endpoint *src, const uint8_t *ike, size_t len)
{
    forge_to(n, 1, src, ike, len);
}

/* What a forged request must leave alone on R2. */
typedef struct r2_view {
    vpn_ikev2_stats st;
    vpn_ikev2_sa_info sa;
} r2_view;

static r2_view r2_view_of(tp_net *n)
{
    r2_view v;
    vpn_ikev2_stats_get(n->node[1].ctx, &v.st);
    v.sa = info(n, 1);
    return v;
}

static void r2_unchanged(tp_net *n, const r2_view *was, uint64_t more_dropped)
{
    r2_view now = r2_view_of(n);
    assert_int_equal(now.st.window_violations, was->st.window_violations);
    assert_int_equal(now.st.in_requests, was->st.in_requests);
    assert_int_equal(now.st.out_responses, was->st.out_responses);
    assert_int_equal(now.st.duplicates_answered, was->st.duplicates_answered);
    assert_int_equal(now.st.dropped, was->st.dropped + more_dropped);
    assert_int_equal(now.sa.msgid_next_recv, was->sa.msgid_next_recv);
    assert_int_equal(now.sa.window_remote, was->sa.window_remote);
    assert_int_equal(now.sa.remote.port, was->sa.remote.port);
    assert_true(vpn_addr_eq(&now.sa.remote.addr, &was->sa.remote.addr));
    assert_int_equal(now.sa.local.port, was->sa.local.port);
    assert_int_equal(tp_count_ev(&n->node[1], VPN_IKEV2_EV_CHILD_MOVED), 0);
    assert_int_equal(tp_count_ev(&n->node[1], VPN_IKEV2_EV_IKE_DOWN), 0);
}

static void test_window_forged_requests_change_nothing(void **state)
{
    tp_net n;
    taker t = {0};
    r2_view v0;
    uint8_t m[sizeof t.d.data];
    size_t len;
    const uint8_t *ike;
    vpn_ikev2_endpoint moved;
    uint32_t mid, window;
    (void)state;

    /* Anyone who has seen the SPIs can send R2 requests; only the ICV
     * (SK_ai) tells R1's from theirs. Past the window, inside it, and from
     * another address (a NAT rebinding, 2.23): all dropped unauthenticated,
     * with nothing counted but the drop (2.21.2: "MUST NOT ... change
     * state"). The same bytes unaltered are then taken, so each check
     * below would see a change. */
    up(&n, NULL, NULL);
    capture_dpd(&n, &t);
    ike = tp_ike(&t.d, &len);
    assert_true(len > 28 + 4 + 16);
    mid = mid_of(&t.d);
    window = info(&n, 1).window_local;
    assert_true(window >= 1);
    assert_int_equal(vpn_addr_parse(&moved.addr, "192.0.2.77"), 0);
    moved.port = VPN_IKEV2_NATT_PORT;
    v0 = r2_view_of(&n);

    /* 1. message IDs past the window (each one a violation if it were
     * R1's): the header is under the ICV, so these are forgeries */
    for (uint32_t k = 0; k < 40; k++) {
        memcpy(m, ike, len);
        vpn_store32(m + 20, mid + window + k);
        forge_to_r2(&n, &t.d.src, m, len);
    }
    r2_unchanged(&n, &v0, 40);

    /* 2. the expected message ID, garbage ICV; then garbage ciphertext */
    memcpy(m, ike, len);
    m[len - 1] ^= 0x01;
    forge_to_r2(&n, &t.d.src, m, len);
    memcpy(m, ike, len);
    m[len - 20] ^= 0x80;
    forge_to_r2(&n, &t.d.src, m, len);
    r2_unchanged(&n, &v0, 42);

    /* 3. the same from another address and port 4500: R2 must not follow */
    for (uint32_t k = 0; k < 3; k++) {
        memcpy(m, ike, len);
        if (k == 0)
            m[len - 1] ^= 0x01;
        else
            vpn_store32(m + 20, mid + window + k);
        forge_to_r2(&n, &moved, m, len);
    }
    r2_unchanged(&n, &v0, 45);

    /* 4. a retransmission of nothing R2 answered: an old message ID with
     * R1's SPIs but a forged body is not answered */
    if (mid > 0) {
        memcpy(m, ike, len);
        vpn_store32(m + 20, mid - 1);
        forge_to_r2(&n, &t.d.src, m, len);
        r2_unchanged(&n, &v0, 46);
    }

    /* the genuine request is still taken (the checks above can fail):
     * from the moved address R2 follows (2.23) */
    forge_to_r2(&n, &moved, ike, len);
    {
        r2_view v1 = r2_view_of(&n);
        assert_int_equal(v1.sa.msgid_next_recv, mid + 1);
        assert_int_equal(v1.st.in_requests, v0.st.in_requests + 1);
        assert_int_equal(v1.sa.remote.port, VPN_IKEV2_NATT_PORT);
        assert_true(vpn_addr_eq(&v1.sa.remote.addr, &moved.addr));
        assert_int_equal(v1.st.window_violations, v0.st.window_violations);
    }
    tp_free(&n);
}

static void test_window_forged_responses_change_nothing(void **state)
{
    tp_net n;
    taker t = {0};
    tp_dgram *resp;
    uint8_t m[sizeof t.d.data];
    const uint8_t *ike;
    size_t len;
    vpn_ikev2_endpoint moved;
    vpn_ikev2_stats s0, s1;
    vpn_ikev2_sa_info a0, a1;
    uint32_t mid;
    (void)state;

    /* The same for the initiator's side: R2's answer to R1's liveness
     * check, forged (garbage ICV, or another message ID) and from another
     * address: R1 takes none of them as the answer, keeps its request in
     * flight, and does not follow the sender (2.23). The genuine answer
     * from there is then taken and followed. */
    up(&n, NULL, NULL);
    capture_dpd(&n, &t);
    mid = mid_of(&t.d);
    assert_int_equal(vpn_ikev2_input(n.node[1].ctx, n.now, &t.d.dst, &t.d.src, t.d.data, t.d.len), 0);
    assert_int_equal(n.n_queue, 1);
    resp = n.queue[0];
    n.n_queue = 0;
    assert_true(tp_is_response(resp));
    assert_int_equal(mid_of(resp), mid);
    ike = tp_ike(resp, &len);
    assert_int_equal(vpn_addr_parse(&moved.addr, "192.0.2.78"), 0);
    moved.port = VPN_IKEV2_NATT_PORT;
    vpn_ikev2_stats_get(n.node[0].ctx, &s0);
    a0 = info(&n, 0);
    assert_int_equal(a0.requests_in_flight, 1);

    for (int k = 0; k < 4; k++) {
        const vpn_ikev2_endpoint *src = k % 2 ? &moved : &resp->src;
        memcpy(m, ike, len);
        if (k < 2)
            m[len - 1] ^= 0x01;    /* ICV */
        else
            m[len - 20] ^= 0x80;   /* ciphertext */
        forge_to(&n, 0, src, m, len);
    }
    vpn_ikev2_stats_get(n.node[0].ctx, &s1);
    a1 = info(&n, 0);
    assert_int_equal(s1.in_responses, s0.in_responses);
    assert_int_equal(s1.dropped, s0.dropped + 4);
    assert_int_equal(a1.requests_in_flight, 1);
    assert_int_equal(a1.msgid_next_send, a0.msgid_next_send);
    assert_int_equal(a1.window_remote, a0.window_remote);
    assert_int_equal(a1.remote.port, a0.remote.port);
    assert_true(vpn_addr_eq(&a1.remote.addr, &a0.remote.addr));
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_CHILD_MOVED), 0);

    forge_to(&n, 0, &moved, ike, len);
    vpn_ikev2_stats_get(n.node[0].ctx, &s1);
    a1 = info(&n, 0);
    assert_int_equal(s1.in_responses, s0.in_responses + 1);
    assert_int_equal(a1.requests_in_flight, 0);
    assert_int_equal(a1.remote.port, VPN_IKEV2_NATT_PORT);
    assert_true(vpn_addr_eq(&a1.remote.addr, &moved.addr));
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_CHILD_MOVED), 1);
    free(resp);
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

/* ---- only the newest message moves the peer (RFC 7296 2.23) ---------------------------- */

/* Takes R1's CREATE_CHILD_SA requests (or, with `answers`, R2's answers
 * to them) out of the network, keeping copies in the order they left. */
typedef struct newest_taker {
    bool answers;
    tp_dgram *d[4];
    int n;
} newest_taker;

static bool take_newest(tp_net *n, tp_dgram *d, void *user)
{
    newest_taker *t = user;
    (void)n;
    if (tp_exchange(d) != 36 || tp_is_response(d) != t->answers || d->from != (t->answers ? 1 : 0))
        return true;
    assert_true(t->n < 4);
    t->d[t->n] = malloc(sizeof *d);
    assert_non_null(t->d[t->n]);
    *t->d[t->n++] = *d;
    return false;
}

static void newest_taker_free(newest_taker *t)
{
    for (int i = 0; i < t->n; i++)
        free(t->d[i]);
}

/* Hands node `to` the taken message with message ID `mid` from `src`. */
static void give_mid(tp_net *n, int to, const newest_taker *t, uint32_t mid, const vpn_ikev2_endpoint *src)
{
    const uint8_t *ike;
    size_t len;

    for (int i = 0; i < t->n; i++) {
        if (mid_of(t->d[i]) != mid)
            continue;
        ike = tp_ike(t->d[i], &len);
        forge_to(n, to, src, ike, len);
        return;
    }
    fail_msg("no message %u taken", mid);
}

static void expect_peer(tp_net *n, int node, const vpn_ikev2_endpoint *ep, int moves)
{
    vpn_ikev2_sa_info i = info(n, node);
    assert_int_equal(i.remote.port, ep->port);
    assert_true(vpn_addr_eq(&i.remote.addr, &ep->addr));
    assert_int_equal(tp_count_ev(&n->node[node], VPN_IKEV2_EV_CHILD_MOVED), moves);
}

/* R1 asks for three CHILD_SAs at once (requests 2, 3, 4; t holds the
 * requests or, with t->answers, the answers); node then gets message 2
 * from old_a, 4 from new_a and the held-back 3 from old_a, all on port
 * 4500: it follows to old_a, then to new_a, and stays there. s0: node's
 * stats before the three. */
static void held_2_4_3(tp_net *n, newest_taker *t, int node, const char *old_a, const char *new_a,
                       vpn_ikev2_endpoint *old_ep, vpn_ikev2_endpoint *new_ep, vpn_ikev2_stats *s0)
{
    up(n, NULL, NULL);
    n->hook = take_newest;
    n->hook_user = t;
    ask(n, 0, 3, 1);
    tp_pump(n);
    n->hook = NULL;
    assert_int_equal(t->n, 3);
    assert_int_equal(vpn_addr_parse(&old_ep->addr, old_a), 0);
    assert_int_equal(vpn_addr_parse(&new_ep->addr, new_a), 0);
    old_ep->port = new_ep->port = VPN_IKEV2_NATT_PORT;
    vpn_ikev2_stats_get(n->node[node].ctx, s0);

    give_mid(n, node, t, 2, old_ep);
    expect_peer(n, node, old_ep, 1);
    /* one CHILD_MOVED per CHILD_SA: two by now */
    give_mid(n, node, t, 4, new_ep);
    expect_peer(n, node, new_ep, 1 + 2);
    give_mid(n, node, t, 3, old_ep);
    expect_peer(n, node, new_ep, 1 + 2);
}

static void test_window_older_request_does_not_move_back(void **state)
{
    tp_net n;
    newest_taker t = {.answers = false};
    vpn_ikev2_endpoint old_ep, new_ep;
    vpn_ikev2_stats s0, s1;
    (void)state;

    /* Window 5: R1's requests 2, 3, 4 are in flight together. R2 takes 2
     * from the peer's old mapping (and follows it there), then 4 from a
     * new one (follows again), then 3, held back, from the old mapping:
     * authentic and inside the window, so taken, but older than 4: R2
     * stays where 4 came from ("only in response to a new packet").
     * Then request 2 again from the old mapping (a replay, answered from
     * the cache): no move either. */
    held_2_4_3(&n, &t, 1, "192.0.2.80", "192.0.2.81", &old_ep, &new_ep, &s0);
    vpn_ikev2_stats_get(n.node[1].ctx, &s1);
    assert_int_equal(s1.in_requests, s0.in_requests + 3);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_CHILD_UP), 1 + 3);

    /* replays of 2 and 3 from the old mapping: answered again, not followed */
    give_mid(&n, 1, &t, 2, &old_ep);
    give_mid(&n, 1, &t, 3, &old_ep);
    vpn_ikev2_stats_get(n.node[1].ctx, &s1);
    assert_int_equal(s1.duplicates_answered, s0.duplicates_answered + 2);
    assert_int_equal(s1.in_requests, s0.in_requests + 3);
    expect_peer(&n, 1, &new_ep, 1 + 2);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_IKE_DOWN), 0);
    newest_taker_free(&t);
    tp_free(&n);
}

static void test_window_older_response_does_not_move_back(void **state)
{
    tp_net n;
    newest_taker t = {.answers = true};
    vpn_ikev2_endpoint old_ep, new_ep;
    vpn_ikev2_stats s0, s1;
    (void)state;

    /* The initiator's side: R2 answers R1's requests 2, 3, 4; R1 gets the
     * answer to 2 from the old mapping, to 4 from a new one, then the
     * held-back answer to 3 from the old mapping: taken (its CHILD_SA comes
     * up), but R1 stays where the newest answer came from. */
    held_2_4_3(&n, &t, 0, "192.0.2.82", "192.0.2.83", &old_ep, &new_ep, &s0);
    vpn_ikev2_stats_get(n.node[0].ctx, &s1);
    assert_int_equal(s1.in_responses, s0.in_responses + 3);
    assert_int_equal(info(&n, 0).requests_in_flight, 0);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP), 1 + 3);
    newest_taker_free(&t);
    tp_free(&n);
}

/* Holds R2's first CREATE_CHILD_SA answer back (a copy to hand over later). */
typedef struct {
    tp_dgram *held;
} rekey_holder;

static bool hold_rekey_answer(tp_net *n, tp_dgram *d, void *user)
{
    rekey_holder *h = user;
    (void)n;
    if (h->held || tp_exchange(d) != 36 || !tp_is_response(d) || d->from != 1)
        return true;
    h->held = malloc(sizeof *h->held);
    assert_non_null(h->held);
    *h->held = *d;
    return false;
}

/* R1 rekeys the IKE SA and is told to delete it while the answer is on the
 * way (held back, then handed over). R2 made the new IKE SA and moved the
 * CHILD_SA to it on the request (RFC 7296 2.18), so a Delete of the old
 * SA alone would leave R2 the new SA and its child until its DPD: R1 waits
 * for the answer, deletes the new SA it names, then the old one. Both ends
 * end with no IKE SA, R2 told by Deletes, and R1's driver hears nothing
 * after its IKE_DOWN. */
static void test_delete_during_ike_rekey(void **state)
{
    tp_net n;
    rekey_holder h = {NULL};
    uint32_t old0;
    int d;

    (void)state;
    up(&n, NULL, NULL);
    old0 = tp_sa_id(&n, 0);
    n.hook = hold_rekey_answer;
    n.hook_user = &h;
    assert_int_equal(vpn_ikev2_ike_rekey(n.node[0].ctx, n.now, old0), 0);
    tp_pump(&n);
    assert_non_null(h.held);
    /* R2 already holds the new SA (with the child) beside the old one */
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_IKE_REKEYED), 1);
    assert_int_equal(vpn_ikev2_delete(n.node[0].ctx, n.now, old0), 0);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_IKE_DOWN), 1);
    tp_pump(&n);
    assert_int_equal(vpn_ikev2_input(n.node[0].ctx, n.now, &h.held->dst, &h.held->src, h.held->data, h.held->len),
                     0);
    free(h.held);
    n.hook = NULL;
    tp_run_for(&n, 5);
    assert_int_equal(vpn_ikev2_sa_count(n.node[0].ctx), 0);
    assert_int_equal(vpn_ikev2_sa_count(n.node[1].ctx), 0);
    /* R2 dropped the new SA and its child on a Delete, not a timeout */
    d = tp_find_ev(&n.node[1], VPN_IKEV2_EV_IKE_DOWN, 0);
    assert_true(d >= 0);
    assert_int_equal(n.node[1].ev[d].reason, VPN_IKEV2_R_PEER_DELETE);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_IKE_DOWN), 1);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_CHILD_DOWN), 1);
    /* R1's driver heard of nothing after its IKE_DOWN */
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_IKE_REKEYED), 0);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_IKE_DOWN), 1);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP), 1);
    tp_free(&n);
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
        cmocka_unit_test(test_window_n_held),
        cmocka_unit_test(test_window_max_held),
        cmocka_unit_test(test_window_one_held),
        cmocka_unit_test(test_window_responder_refuses_past),
        cmocka_unit_test(test_window_after_ike_rekey_held),
        cmocka_unit_test(test_window_after_peer_ike_rekey_held),
        cmocka_unit_test(test_window_responder_keeps_last_n),
        cmocka_unit_test(test_window_forged_requests_change_nothing),
        cmocka_unit_test(test_window_forged_responses_change_nothing),
        cmocka_unit_test(test_delete_after_lost_request),
        cmocka_unit_test(test_delete_after_lost_answer),
        cmocka_unit_test(test_window_older_request_does_not_move_back),
        cmocka_unit_test(test_window_older_response_does_not_move_back),
        cmocka_unit_test(test_delete_during_ike_rekey),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
