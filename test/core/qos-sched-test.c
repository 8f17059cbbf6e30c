/* The LLQ/CBWFQ/shaper scheduler (qos-sched.h): strict priority, the
 * conditional policer, DRR shares, tail drop, the shaper's timing, and bad
 * input. Time is a counter in ns. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "qos/qos-sched.h"
#include "test-util.h"

static vpn_qos_sched_cfg two(uint64_t prio_bps, uint32_t burst)
{
    vpn_qos_sched_cfg c;
    memset(&c, 0, sizeof c);
    c.n_class = 2;
    snprintf(c.cls[0].name, sizeof c.cls[0].name, "VOICE");
    c.cls[0].kind = VPN_QOS_CLASS_PRIORITY;
    c.cls[0].rate_bps = prio_bps;
    c.cls[0].burst_bytes = burst;
    snprintf(c.cls[1].name, sizeof c.cls[1].name, "class-default");
    c.cls[1].kind = VPN_QOS_CLASS_BANDWIDTH;
    c.cls[1].rate_bps = 1000000;
    return c;
}

static void test_priority_first(void **state)
{
    (void)state;
    vpn_qos_sched_cfg c = two(64000, 0);
    vpn_qos_sched *s;
    uint32_t len;
    assert_int_equal(vpn_qos_sched_new(&c, &s), 0);
    assert_int_equal(vpn_qos_sched_enqueue(s, 1, 1500, 0), 0);
    assert_int_equal(vpn_qos_sched_enqueue(s, 1, 1400, 0), 0);
    assert_int_equal(vpn_qos_sched_enqueue(s, 0, 200, 1), 0);
    assert_int_equal(vpn_qos_sched_backlog(s), 3);
    assert_int_equal(vpn_qos_sched_dequeue(s, 2, &len, NULL), 0);
    assert_int_equal(len, 200);
    assert_int_equal(vpn_qos_sched_dequeue(s, 3, &len, NULL), 1);
    assert_int_equal(len, 1500);
    assert_int_equal(vpn_qos_sched_dequeue(s, 4, &len, NULL), 1);
    assert_int_equal(len, 1400);
    assert_int_equal(vpn_qos_sched_dequeue(s, 5, &len, NULL), VPN_ERR_NOTFOUND);
    /* IOS default burst: 200 ms at 64 kbit/s = 1600 bytes. */
    assert_int_equal(vpn_qos_sched_config(s)->cls[0].burst_bytes, 1600);
    vpn_qos_sched_del(s);
}

static void test_conditional_policer(void **state)
{
    (void)state;
    vpn_qos_sched_cfg c = two(64000, 1600);
    vpn_qos_sched *s;
    uint32_t len;
    assert_int_equal(vpn_qos_sched_new(&c, &s), 0);
    /* Uncongested (nothing queued): 20 x 200 bytes at once pass although
     * they are 4000 bytes against a 1600-byte bucket. */
    for (int i = 0; i < 20; i++) {
        assert_int_equal(vpn_qos_sched_enqueue(s, 0, 200, 0), 0);
        assert_int_equal(vpn_qos_sched_dequeue(s, 0, &len, NULL), 0);
    }
    assert_int_equal(vpn_qos_sched_stats(s, 0)->drop_policer, 0);
    /* 1 s later the bucket is full again (8000 bytes/s refill, capped at
     * 1600). Congested now (a best-effort packet waits): 8 x 200 bytes fit
     * the bucket, the 9th and 10th are policed. */
    assert_int_equal(vpn_qos_sched_enqueue(s, 1, 1500, 1000000000ull), 0);
    for (int i = 0; i < 10; i++)
        assert_int_equal(vpn_qos_sched_enqueue(s, 0, 200, 1000000000ull),
                         i < 8 ? 0 : VPN_ERR_POLICY);
    assert_int_equal(vpn_qos_sched_stats(s, 0)->drop_policer, 2);
    assert_int_equal(vpn_qos_sched_stats(s, 0)->matched_pkts, 30);
    /* 25 ms later: 200 bytes of credit, one more conforms. */
    assert_int_equal(vpn_qos_sched_enqueue(s, 0, 200, 1025000000ull), 0);
    assert_int_equal(vpn_qos_sched_enqueue(s, 0, 200, 1025000000ull), VPN_ERR_POLICY);
    vpn_qos_sched_del(s);
}

static void test_drr_shares(void **state)
{
    (void)state;
    vpn_qos_sched_cfg c;
    vpn_qos_sched *s;
    uint32_t len;
    int sent[3] = {0, 0, 0};
    memset(&c, 0, sizeof c);
    c.n_class = 3;
    for (int i = 0; i < 3; i++) {
        c.cls[i].kind = VPN_QOS_CLASS_BANDWIDTH;
        c.cls[i].queue_limit = 1000;
    }
    c.cls[0].rate_bps = 300000;
    c.cls[1].rate_bps = 100000;
    c.cls[2].rate_bps = 600000;
    assert_int_equal(vpn_qos_sched_new(&c, &s), 0);
    /* All backlogged; class 1 with small packets: shares are in bytes. */
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(vpn_qos_sched_enqueue(s, 0, 1500, 0), 0);
        assert_int_equal(vpn_qos_sched_enqueue(s, 1, 500, 0), 0);
        assert_int_equal(vpn_qos_sched_enqueue(s, 2, 1500, 0), 0);
    }
    uint64_t bytes[3] = {0, 0, 0};
    for (int i = 0; i < 900; i++) {
        int k = vpn_qos_sched_dequeue(s, 0, &len, NULL);
        assert_true(k >= 0 && k < 3);
        sent[k]++;
        bytes[k] += len;
    }
    /* Quanta 4500, 1500, 9000 bytes per round: 3:1:6 in bytes. */
    uint64_t tot = bytes[0] + bytes[1] + bytes[2];
    assert_true(bytes[0] * 100 / tot >= 29 && bytes[0] * 100 / tot <= 31);
    assert_true(bytes[1] * 100 / tot >= 9 && bytes[1] * 100 / tot <= 11);
    assert_true(bytes[2] * 100 / tot >= 59 && bytes[2] * 100 / tot <= 61);
    assert_int_equal(sent[1] * 500, (int)bytes[1]);
    vpn_qos_sched_del(s);
}

static void test_queue_limit(void **state)
{
    (void)state;
    vpn_qos_sched_cfg c = two(64000, 0);
    vpn_qos_sched *s;
    uint32_t len;
    c.cls[1].queue_limit = 3;
    assert_int_equal(vpn_qos_sched_new(&c, &s), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(vpn_qos_sched_enqueue(s, 1, 100 + (uint32_t)i, 0), 0);
    assert_int_equal(vpn_qos_sched_enqueue(s, 1, 999, 0), VPN_ERR_LIMIT);
    assert_int_equal(vpn_qos_sched_stats(s, 1)->drop_tail, 1);
    assert_int_equal(vpn_qos_sched_stats(s, 1)->depth, 3);
    /* The ring wraps: FIFO order is kept. */
    assert_int_equal(vpn_qos_sched_dequeue(s, 0, &len, NULL), 1);
    assert_int_equal(len, 100);
    assert_int_equal(vpn_qos_sched_enqueue(s, 1, 103, 0), 0);
    for (uint32_t want = 101; want <= 103; want++) {
        assert_int_equal(vpn_qos_sched_dequeue(s, 0, &len, NULL), 1);
        assert_int_equal(len, want);
    }
    assert_int_equal(vpn_qos_sched_stats(s, 1)->depth_max, 3);
    assert_int_equal(vpn_qos_sched_stats(s, 1)->sent_bytes, 100 + 101 + 102 + 103);
    vpn_qos_sched_del(s);
}

static void test_fair_queue(void **state)
{
    (void)state;
    vpn_qos_sched_cfg c = two(64000, 0);
    vpn_qos_sched *s;
    uint32_t len, sub;
    c.cls[1].queue_limit = 40;
    c.cls[1].fair_queues = 4;
    assert_int_equal(vpn_qos_sched_new(&c, &s), 0);
    /* A greedy flow (hash 4 -> queue 0) gets a quarter of queue-limit: 10. */
    for (int i = 0; i < 12; i++)
        assert_int_equal(vpn_qos_sched_enqueue_flow(s, 1, 4, 1500, 0), i < 10 ? 0 : VPN_ERR_LIMIT);
    /* A thin flow (hash 7 -> queue 3) arrives behind it and is not stuck. */
    for (int i = 0; i < 3; i++)
        assert_int_equal(vpn_qos_sched_enqueue_flow(s, 1, 7, 200, 0), 0);
    assert_int_equal(vpn_qos_sched_stats(s, 1)->drop_tail, 2);
    /* Round robin over the flow queues: A B A B A B A A ... */
    const uint32_t want_sub[] = {0, 3, 0, 3, 0, 3, 0, 0};
    const uint32_t want_len[] = {1500, 200, 1500, 200, 1500, 200, 1500, 1500};
    for (int i = 0; i < 8; i++) {
        assert_int_equal(vpn_qos_sched_dequeue_flow(s, 0, &len, &sub, NULL), 1);
        assert_int_equal(sub, want_sub[i]);
        assert_int_equal(len, want_len[i]);
    }
    assert_int_equal(vpn_qos_sched_backlog(s), 5);
    assert_int_equal(vpn_qos_sched_dequeue_flow(s, 0, &len, NULL, NULL), VPN_ERR_INVAL);
    vpn_qos_sched_del(s);
    /* More flow queues than allowed are capped; priority classes stay FIFO. */
    c.cls[1].fair_queues = 100000;
    c.cls[0].fair_queues = 8;
    assert_int_equal(vpn_qos_sched_new(&c, &s), 0);
    assert_int_equal(vpn_qos_sched_config(s)->cls[1].fair_queues, VPN_QOS_FAIR_QUEUES_MAX);
    assert_int_equal(vpn_qos_sched_config(s)->cls[0].fair_queues, 0);
    vpn_qos_sched_del(s);
}

static void test_shaper_timing(void **state)
{
    (void)state;
    vpn_qos_sched_cfg c = two(64000, 0);
    vpn_qos_sched *s;
    uint32_t len;
    uint64_t next, now = 0, bytes = 0;
    c.shape_bps = 1000000;
    c.shape_bc_bytes = 1600;
    assert_int_equal(vpn_qos_sched_new(&c, &s), 0);
    for (int i = 0; i < 60; i++)
        assert_int_equal(vpn_qos_sched_enqueue(s, 1, 1000, 0), 0);
    /* Bc 1600: 1600 -> 600 -> -400; then the debt of 400 bytes at
     * 125000 bytes/s takes 3.2 ms: ask again at 3.2 ms (+1 ns of rounding). */
    assert_int_equal(vpn_qos_sched_dequeue(s, 0, &len, &next), 1);
    assert_int_equal(vpn_qos_sched_dequeue(s, 0, &len, &next), 1);
    assert_int_equal(vpn_qos_sched_dequeue(s, 0, &len, &next), VPN_ERR_STATE);
    assert_true(next == 3200000 || next == 3200001);
    assert_int_equal(vpn_qos_sched_dequeue(s, 3100000, &len, &next), VPN_ERR_STATE);
    assert_true(next == 3200000 || next == 3200001);
    assert_int_equal(vpn_qos_sched_dequeue(s, 3200001, &len, &next), 1);
    /* Driven by its deadlines, 50 more packets take 50 * 8 ms = 400 ms:
     * the shaped rate, 1 Mbit/s. */
    now = 3200001;
    for (int sent = 0; sent < 50;) {
        int rc = vpn_qos_sched_dequeue(s, now, &len, &next);
        if (rc == VPN_ERR_STATE) {
            assert_true(next > now);
            now = next;
            continue;
        }
        assert_int_equal(rc, 1);
        bytes += len;
        sent++;
    }
    assert_true(now > 3200001 + 390000000ull && now < 3200001 + 402000000ull);
    assert_int_equal(bytes, 50000);
    vpn_qos_sched_del(s);
}

static void test_bad_input(void **state)
{
    (void)state;
    vpn_qos_sched_cfg c = two(64000, 0);
    vpn_qos_sched *s = (vpn_qos_sched *)&s;
    uint32_t len;
    assert_int_equal(vpn_qos_sched_new(NULL, &s), VPN_ERR_INVAL);
    assert_null(s);
    assert_int_equal(vpn_qos_sched_new(&c, NULL), VPN_ERR_INVAL);
    c.n_class = 0;
    assert_int_equal(vpn_qos_sched_new(&c, &s), VPN_ERR_INVAL);
    c.n_class = VPN_QOS_SCHED_CLASS_MAX + 1;
    assert_int_equal(vpn_qos_sched_new(&c, &s), VPN_ERR_INVAL);
    c = two(0, 0);
    assert_int_equal(vpn_qos_sched_new(&c, &s), VPN_ERR_INVAL);
    c = two(64000, 0);
    c.cls[1].kind = (vpn_qos_class_kind)7;
    assert_int_equal(vpn_qos_sched_new(&c, &s), VPN_ERR_INVAL);
    c = two(64000, 0);
    assert_int_equal(vpn_qos_sched_new(&c, &s), 0);
    assert_int_equal(vpn_qos_sched_enqueue(s, 2, 100, 0), VPN_ERR_INVAL);
    assert_int_equal(vpn_qos_sched_enqueue(s, 0, 0, 0), VPN_ERR_INVAL);
    assert_int_equal(vpn_qos_sched_enqueue(NULL, 0, 10, 0), VPN_ERR_INVAL);
    assert_int_equal(vpn_qos_sched_stats(s, 0)->matched_pkts, 0);
    assert_int_equal(vpn_qos_sched_dequeue(s, 0, &len, NULL), VPN_ERR_NOTFOUND);
    assert_int_equal(vpn_qos_sched_dequeue(s, 0, NULL, NULL), VPN_ERR_INVAL);
    assert_null(vpn_qos_sched_stats(s, 2));
    vpn_qos_sched_del(s);
    vpn_qos_sched_del(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_priority_first),
        cmocka_unit_test(test_conditional_policer),
        cmocka_unit_test(test_drr_shares),
        cmocka_unit_test(test_queue_limit),
        cmocka_unit_test(test_fair_queue),
        cmocka_unit_test(test_shaper_timing),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
