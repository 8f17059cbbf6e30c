/* Anti-replay: the counter window (RFC 4303 3.4.3, appendix A; RFC 6479
 * bitmap) at its edges, ESN inference across 2^32, and TBAR. */
#include <string.h>

#include "common/vpn-err.h"
#include "ipsec/replay.h"
#include "test-util.h"

/* check + update, as ESP does for an authentic packet. */
static int rx(vpn_replay *r, uint32_t seql, uint64_t *seq)
{
    uint64_t s;
    int rc = vpn_replay_check(r, seql, &s);
    if (rc)
        return rc;
    if (seq)
        *seq = s;
    return vpn_replay_update(r, s);
}

static void test_window_edges(void **state)
{
    (void)state;
    vpn_replay r;
    uint64_t s;

    assert_int_equal(vpn_replay_init(&r, 64, false), 0);
    /* Sequence number 0 is never sent. */
    assert_int_equal(vpn_replay_check(&r, 0, &s), VPN_ERR_REPLAY);
    /* First packet. */
    assert_int_equal(rx(&r, 1, &s), 0);
    assert_int_equal(s, 1);
    /* Duplicate of the right edge. */
    assert_int_equal(rx(&r, 1, NULL), VPN_ERR_REPLAY);
    /* One past the right edge, then far ahead. */
    assert_int_equal(rx(&r, 2, NULL), 0);
    assert_int_equal(rx(&r, 1000, NULL), 0);
    /* Now the window is 937..1000: 937 is the left edge, 936 too old. */
    assert_int_equal(vpn_replay_check(&r, 936, &s), VPN_ERR_REPLAY);
    assert_int_equal(rx(&r, 937, NULL), 0);
    assert_int_equal(rx(&r, 937, NULL), VPN_ERR_REPLAY);
    /* Bits of the old window were cleared when it jumped: 999 is new. */
    assert_int_equal(rx(&r, 999, NULL), 0);
    assert_int_equal(rx(&r, 999, NULL), VPN_ERR_REPLAY);
    assert_int_equal(rx(&r, 2, NULL), VPN_ERR_REPLAY);
    /* check alone never moves anything. */
    assert_int_equal(vpn_replay_check(&r, 5000, &s), 0);
    assert_int_equal(r.top, 1000);
    vpn_replay_free(&r);
}

static void test_large_window(void **state)
{
    (void)state;
    vpn_replay r;
    uint64_t s;

    assert_int_equal(vpn_replay_init(&r, 4096, false), 0);
    assert_int_equal(rx(&r, 10000, NULL), 0);
    /* Window 5905..10000. */
    assert_int_equal(vpn_replay_check(&r, 5904, &s), VPN_ERR_REPLAY);
    assert_int_equal(vpn_replay_check(&r, 5905, &s), 0);
    for (uint32_t q = 5905; q < 10000; q += 3)
        assert_int_equal(rx(&r, q, NULL), 0);
    for (uint32_t q = 5905; q < 10000; q++)
        assert_int_equal(vpn_replay_check(&r, q, &s), (q - 5905) % 3 == 0 ? VPN_ERR_REPLAY : 0);
    /* Slide by less than the window: the kept part keeps its bits. */
    assert_int_equal(rx(&r, 12000, NULL), 0);
    assert_int_equal(vpn_replay_check(&r, 7903, &s), VPN_ERR_REPLAY); /* left of 7905 */
    for (uint32_t q = 7905; q < 10000; q++)
        assert_int_equal(vpn_replay_check(&r, q, &s), (q - 5905) % 3 == 0 ? VPN_ERR_REPLAY : 0);
    assert_int_equal(vpn_replay_check(&r, 11000, &s), 0);
    vpn_replay_free(&r);

    /* Random order within a big window: every packet exactly once. */
    assert_int_equal(vpn_replay_init(&r, 8192, false), 0);
    {
        uint32_t x = 12345;
        for (uint32_t i = 1; i <= 8000; i++) {
            uint32_t q = i;
            x = x * 1103515245u + 12345u;
            if (i > 100)
                q = i - (x >> 16) % 100; /* up to 99 behind */
            if (vpn_replay_check(&r, q, &s) == 0)
                assert_int_equal(vpn_replay_update(&r, s), 0);
            assert_int_equal(vpn_replay_check(&r, q, &s), VPN_ERR_REPLAY);
        }
    }
    vpn_replay_free(&r);
    assert_int_equal(vpn_replay_init(&r, VPN_REPLAY_WINDOW_MAX + 1, false), VPN_ERR_INVAL);
}

static void test_no_window(void **state)
{
    (void)state;
    vpn_replay r;
    uint64_t s;

    assert_int_equal(vpn_replay_init(&r, 0, false), 0);
    assert_int_equal(rx(&r, 5, NULL), 0);
    assert_int_equal(rx(&r, 5, NULL), 0); /* no check: duplicates pass */
    assert_int_equal(rx(&r, 1, NULL), 0);
    assert_int_equal(vpn_replay_check(&r, 0, &s), VPN_ERR_REPLAY);
    vpn_replay_free(&r);
}

/* RFC 4303 appendix A2.2: the receiver infers the high 32 bits. */
static void test_esn_rollover(void **state)
{
    (void)state;
    vpn_replay r;
    uint64_t s;

    assert_int_equal(vpn_replay_init(&r, 128, true), 0);
    assert_int_equal(rx(&r, 1, &s), 0);
    assert_int_equal(s, 1);
    /* Early on, a jump of nearly 2^32 reads as "before the SA began". */
    assert_int_equal(vpn_replay_check(&r, 0xfffffff0u, &s), VPN_ERR_REPLAY);
    /* Walk up to the end of the first 2^32 block in two big steps. */
    assert_int_equal(rx(&r, 0x80000000u, &s), 0);
    assert_int_equal(s, 0x80000000ull);
    assert_int_equal(rx(&r, 0xfffffff0u, &s), 0);
    assert_int_equal(s, 0xfffffff0ull);
    /* Case A: low numbers now mean the next block. */
    assert_int_equal(rx(&r, 3, &s), 0);
    assert_int_equal(s, 0x100000003ull);
    /* Case B: the window spans both blocks; a late packet from the old
     * block still maps to it and is accepted once. */
    assert_int_equal(rx(&r, 0xfffffff5u, &s), 0);
    assert_int_equal(s, 0xfffffff5ull);
    assert_int_equal(rx(&r, 0xfffffff5u, NULL), VPN_ERR_REPLAY);
    assert_int_equal(rx(&r, 0xfffffff0u, NULL), VPN_ERR_REPLAY);
    /* Zero in the new block is sequence 2^32: valid with ESN. */
    assert_int_equal(rx(&r, 0, &s), 0);
    assert_int_equal(s, 0x100000000ull);
    /* The window's left edge is 0xffffff84 in the old block. Below it the
     * low bits can only be read as the current block, far ahead (A2.2: an
     * old packet then fails its ICV, which the receiver checks next). */
    assert_int_equal(vpn_replay_check(&r, 0xffffff84u, &s), 0);
    assert_true(s == 0xffffff84ull);
    assert_int_equal(vpn_replay_check(&r, 0xffffff83u, &s), 0);
    assert_true(s == 0x1ffffff83ull);
    /* Far ahead in the new block. */
    assert_int_equal(rx(&r, 0x7fffffffu, &s), 0);
    assert_int_equal(s, 0x17fffffffull);
    vpn_replay_free(&r);

    /* Early in an SA, numbers just below 2^32 are not from before it. */
    assert_int_equal(vpn_replay_init(&r, 64, true), 0);
    assert_int_equal(rx(&r, 5, NULL), 0);
    assert_int_equal(vpn_replay_check(&r, 0xfffffffeu, &s), VPN_ERR_REPLAY);
    vpn_replay_free(&r);
}

static void test_tbar(void **state)
{
    (void)state;
    vpn_tbar t;
    const uint64_t ms = 1000000;
    uint8_t b[VPN_TBAR_BLOCK_LEN];
    uint64_t pt;

    vpn_tbar_init(&t, 2000); /* +-2 s */
    /* Unsynchronised: pseudotime is local time. */
    assert_int_equal(vpn_tbar_now_ms(&t, 5000 * ms), 5000);
    /* The key server says it is 100000 ms at our 5000 ms. */
    vpn_tbar_sync(&t, 5000 * ms, 100000);
    assert_int_equal(vpn_tbar_now_ms(&t, 6000 * ms), 101000);
    /* Edges: exactly W either side is accepted, one more is not. */
    assert_int_equal(vpn_tbar_check(&t, 6000 * ms, 101000), 0);
    assert_int_equal(vpn_tbar_check(&t, 6000 * ms, 99000), 0);
    assert_int_equal(vpn_tbar_check(&t, 6000 * ms, 103000), 0);
    assert_int_equal(vpn_tbar_check(&t, 6000 * ms, 98999), VPN_ERR_REPLAY);
    assert_int_equal(vpn_tbar_check(&t, 6000 * ms, 103001), VPN_ERR_REPLAY);
    /* A replayed packet ages out of the window. */
    assert_int_equal(vpn_tbar_check(&t, 8000 * ms, 101000), 0);
    assert_int_equal(vpn_tbar_check(&t, 8000 * ms + 1 * ms, 101000), VPN_ERR_REPLAY);
    /* Pseudotime never goes negative. */
    vpn_tbar_sync(&t, 5000 * ms, 0);
    assert_int_equal(vpn_tbar_now_ms(&t, 1000 * ms), 0);

    vpn_tbar_block_write(b, 0x0102030405060708ull);
    tu_assert_hex(b, sizeof b, "5442 0c01 0102030405060708");
    assert_int_equal(vpn_tbar_block_read(b, sizeof b, &pt), 0);
    assert_true(pt == 0x0102030405060708ull);
    for (size_t k = 0; k < sizeof b; k++)
        assert_int_equal(vpn_tbar_block_read(b, k, &pt), VPN_ERR_TRUNCATED);
    b[0] = 'X';
    assert_int_equal(vpn_tbar_block_read(b, sizeof b, &pt), VPN_ERR_MALFORMED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_edges),
        cmocka_unit_test(test_large_window),
        cmocka_unit_test(test_no_window),
        cmocka_unit_test(test_esn_rollover),
        cmocka_unit_test(test_tbar),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
