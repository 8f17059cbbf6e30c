/* Receiver figures: nearest-rank percentiles, RFC 3550 6.4.1 interarrival
 * jitter worked by hand, loss, and bad input. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/vpn-err.h"
#include "qos/qos-metrics.h"
#include "test-util.h"

static void test_percentile_nearest_rank(void **state)
{
    (void)state;
    const uint64_t s[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
    /* ceil(0.5*10) = 5 -> 5; ceil(0.95*10) = 10 -> 10; ceil(0.1*10) = 1. */
    assert_int_equal(vpn_qos_percentile(s, 10, 50), 5);
    assert_int_equal(vpn_qos_percentile(s, 10, 95), 10);
    assert_int_equal(vpn_qos_percentile(s, 10, 10), 1);
    assert_int_equal(vpn_qos_percentile(s, 10, 11), 2);
    assert_int_equal(vpn_qos_percentile(s, 10, 100), 10);
    assert_int_equal(vpn_qos_percentile(s, 1, 99), 1);
    assert_int_equal(vpn_qos_percentile(s, 0, 50), 0);
    assert_int_equal(vpn_qos_percentile(NULL, 10, 50), 0);
    assert_int_equal(vpn_qos_percentile(s, 10, 0), 0);
    assert_int_equal(vpn_qos_percentile(s, 10, -3), 0);
    assert_int_equal(vpn_qos_percentile(s, 10, NAN), 0);
}

static void test_jitter_rfc3550(void **state)
{
    (void)state;
    vpn_qos_flow *f;
    vpn_qos_summary sum;
    /* Sent every 20 ms; transits 10, 12, 11, 15 ms.
     * D = 2, 1, 4 ms: J1 = 2/16 = 0.125; J2 = 0.125 + (1-0.125)/16 = 0.1796875;
     * J3 = 0.1796875 + (4-0.1796875)/16 = 0.418457031 ms. */
    const uint64_t ms = 1000000;
    const uint64_t transit[] = { 10, 12, 11, 15 };
    assert_int_equal(vpn_qos_flow_new(&f), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(vpn_qos_flow_add(f, (uint64_t)i * 20 * ms, (uint64_t)i * 20 * ms + transit[i] * ms, 160),
                         0);
    assert_int_equal(vpn_qos_flow_summary(f, 5, &sum), 0);
    assert_true(fabs(sum.jitter_ns - 0.418457031 * 1e6) < 1.0);
    assert_int_equal(sum.received, 4);
    assert_int_equal(sum.lost, 1);
    assert_true(fabs(sum.loss - 0.2) < 1e-12);
    assert_int_equal(sum.min_ns, 10 * ms);
    assert_int_equal(sum.max_ns, 15 * ms);
    /* sorted 10 11 12 15: p50 rank 2 -> 11, p95 and p99 rank 4 -> 15 */
    assert_int_equal(sum.p50_ns, 11 * ms);
    assert_int_equal(sum.p95_ns, 15 * ms);
    assert_int_equal(sum.p99_ns, 15 * ms);
    assert_true(fabs(sum.mean_ns - 12 * (double)ms) < 1.0);
    assert_int_equal(sum.bytes, 640);
    /* Constant transit: jitter decays towards 0 by 15/16 per packet. */
    for (int i = 4; i < 200; i++)
        assert_int_equal(vpn_qos_flow_add(f, (uint64_t)i * 20 * ms, (uint64_t)i * 20 * ms + 15 * ms, 160), 0);
    assert_int_equal(vpn_qos_flow_summary(f, 200, &sum), 0);
    /* D = 0 for 196 packets: J = 0.418457 ms * (15/16)^196 = 1.35 ns. */
    assert_true(fabs(sum.jitter_ns - 0.418457031e6 * pow(15.0 / 16.0, 196)) < 0.01);
    assert_true(sum.jitter_ns < 2.0);
    assert_int_equal(sum.lost, 0);
    vpn_qos_flow_del(f);
}

static void test_many_samples_percentiles(void **state)
{
    (void)state;
    vpn_qos_flow *f;
    vpn_qos_summary sum;
    /* 1000 delays 1..1000 us arriving in reverse: p50 = 500, p95 = 950,
     * p99 = 990 (nearest rank), max 1000; duplicates mean received > sent. */
    assert_int_equal(vpn_qos_flow_new(&f), 0);
    for (uint64_t i = 1000; i >= 1; i--)
        assert_int_equal(vpn_qos_flow_add(f, 5000, 5000 + i * 1000, 1), 0);
    assert_int_equal(vpn_qos_flow_summary(f, 900, &sum), 0);
    assert_int_equal(sum.p50_ns, 500000);
    assert_int_equal(sum.p95_ns, 950000);
    assert_int_equal(sum.p99_ns, 990000);
    assert_int_equal(sum.max_ns, 1000000);
    assert_int_equal(sum.lost, 0);
    assert_true(sum.loss == 0.0);
    vpn_qos_flow_del(f);
}

static void test_bad_input(void **state)
{
    (void)state;
    vpn_qos_flow *f;
    vpn_qos_summary sum;
    assert_int_equal(vpn_qos_flow_new(NULL), VPN_ERR_INVAL);
    assert_int_equal(vpn_qos_flow_new(&f), 0);
    /* Arrival before sending (a broken timestamp) is refused, flow unchanged. */
    assert_int_equal(vpn_qos_flow_add(f, 100, 99, 1), VPN_ERR_INVAL);
    assert_int_equal(vpn_qos_flow_add(f, 0, UINT64_MAX, 1), VPN_ERR_INVAL);
    assert_int_equal(vpn_qos_flow_add(NULL, 0, 1, 1), VPN_ERR_INVAL);
    assert_int_equal(vpn_qos_flow_summary(f, 3, &sum), 0);
    assert_int_equal(sum.received, 0);
    assert_int_equal(sum.lost, 3);
    assert_true(fabs(sum.loss - 1.0) < 1e-12);
    assert_int_equal(sum.p99_ns, 0);
    assert_int_equal(vpn_qos_flow_summary(NULL, 3, &sum), VPN_ERR_INVAL);
    assert_int_equal(vpn_qos_flow_summary(f, 3, NULL), VPN_ERR_INVAL);
    vpn_qos_flow_del(f);
    vpn_qos_flow_del(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percentile_nearest_rank),
        cmocka_unit_test(test_jitter_rfc3550),
        cmocka_unit_test(test_many_samples_percentiles),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
