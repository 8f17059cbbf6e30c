/* Bounds-checked readers and writers: normal use and hostile lengths; and,
 * this driver linking its own copy of wire.c built without NDEBUG
 * (CMakeLists.txt), the debug-build invariant check stopping a broken
 * cursor. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/vpn-err.h"
#include "common/wire.h"
#include "test-util.h"

static void test_read_integers(void **state)
{
    (void)state;
    static const uint8_t b[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
                                0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12};
    vpn_rd r;
    uint8_t u8;
    uint16_t u16;
    uint32_t u24, u32;
    uint64_t u64;

    vpn_rd_init(&r, b, sizeof b);
    assert_int_equal(vpn_rd_u8(&r, &u8), 0);
    assert_int_equal(vpn_rd_u16(&r, &u16), 0);
    assert_int_equal(vpn_rd_u24(&r, &u24), 0);
    assert_int_equal(vpn_rd_u32(&r, &u32), 0);
    assert_int_equal(vpn_rd_u64(&r, &u64), 0);
    assert_int_equal(u8, 0x01);
    assert_int_equal(u16, 0x0203);
    assert_int_equal(u24, 0x040506);
    assert_int_equal(u32, 0x0708090a);
    assert_true(u64 == 0x0b0c0d0e0f101112ull);
    assert_int_equal(vpn_rd_left(&r), 0);
    assert_int_equal(vpn_rd_expect_end(&r), 0);
}

static void test_read_past_end_is_sticky(void **state)
{
    (void)state;
    static const uint8_t b[] = {0xaa, 0xbb, 0xcc};
    vpn_rd r;
    uint32_t v = 77;
    uint8_t u8 = 9;
    uint8_t out[4] = {1, 2, 3, 4};
    const uint8_t *view = b;

    vpn_rd_init(&r, b, sizeof b);
    assert_int_equal(vpn_rd_u32(&r, &v), VPN_ERR_TRUNCATED);
    assert_int_equal(v, 0);
    /* The cursor did not move, but it is now failed: later reads fail too,
     * even ones that would have fit. */
    assert_int_equal(vpn_rd_u8(&r, &u8), VPN_ERR_TRUNCATED);
    assert_int_equal(u8, 0);
    assert_int_equal(vpn_rd_bytes(&r, out, 2), VPN_ERR_TRUNCATED);
    assert_int_equal(out[0], 0);
    assert_int_equal(vpn_rd_view(&r, &view, 1), VPN_ERR_TRUNCATED);
    assert_null(view);
    assert_int_equal(vpn_rd_left(&r), 0);
    assert_int_equal(vpn_rd_err(&r), VPN_ERR_TRUNCATED);
    assert_int_equal(vpn_rd_expect_end(&r), VPN_ERR_TRUNCATED);
}

static void test_huge_length_does_not_wrap(void **state)
{
    (void)state;
    static const uint8_t b[8] = {0};
    vpn_rd r, sub;

    vpn_rd_init(&r, b, sizeof b);
    assert_int_equal(vpn_rd_skip(&r, 4), 0);
    /* off + n would wrap around SIZE_MAX: must still be refused. */
    assert_int_equal(vpn_rd_skip(&r, SIZE_MAX), VPN_ERR_TRUNCATED);
    vpn_rd_init(&r, b, sizeof b);
    assert_int_equal(vpn_rd_sub(&r, &sub, SIZE_MAX - 2), VPN_ERR_TRUNCATED);
    assert_int_equal(vpn_rd_left(&sub), 0);
    assert_int_equal(vpn_rd_err(&sub), VPN_ERR_TRUNCATED);
}

/*
 * A TLV list where each element's length must stay inside its parent: the
 * shape of IKE payload chains and GDOI attributes.
 */
static int parse_tlvs(const uint8_t *buf, size_t len, unsigned *count)
{
    vpn_rd r, body;
    *count = 0;
    vpn_rd_init(&r, buf, len);
    while (vpn_rd_left(&r) > 0) {
        uint8_t type;
        uint16_t l;
        vpn_rd_u8(&r, &type);
        if (vpn_rd_u16(&r, &l))
            return vpn_rd_err(&r);
        if (l < 3)
            return vpn_rd_fail(&r, VPN_ERR_MALFORMED);
        if (vpn_rd_sub(&r, &body, l - 3))
            return vpn_rd_err(&r);
        (*count)++;
    }
    return vpn_rd_err(&r);
}

static void test_sub_readers_contain_lengths(void **state)
{
    (void)state;
    /* Two good TLVs. */
    static const uint8_t good[] = {1, 0, 5, 0xaa, 0xbb, 2, 0, 3};
    /* Second TLV claims 9 bytes but only 4 remain: overrun. */
    static const uint8_t overrun[] = {1, 0, 5, 0xaa, 0xbb, 2, 0, 9, 0xcc};
    /* First TLV's length runs into (overlaps) the second header. */
    static const uint8_t overlap[] = {1, 0, 7, 0xaa, 0xbb, 2, 0, 3};
    /* Length smaller than the header itself. */
    static const uint8_t undersize[] = {1, 0, 2};
    /* Header cut in half. */
    static const uint8_t truncated[] = {1, 0};
    unsigned n;

    assert_int_equal(parse_tlvs(good, sizeof good, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(parse_tlvs(overrun, sizeof overrun, &n), VPN_ERR_TRUNCATED);
    assert_int_equal(n, 1);
    /* The overlapping length swallows the next header; what is left is a
     * 1-byte TLV header fragment, which must fail, not read outside. */
    assert_int_equal(parse_tlvs(overlap, sizeof overlap, &n), VPN_ERR_TRUNCATED);
    assert_int_equal(parse_tlvs(undersize, sizeof undersize, &n), VPN_ERR_MALFORMED);
    assert_int_equal(parse_tlvs(truncated, sizeof truncated, &n), VPN_ERR_TRUNCATED);
    assert_int_equal(parse_tlvs(NULL, 0, &n), 0);
    assert_int_equal(n, 0);
}

static void test_sub_reader_is_independent(void **state)
{
    (void)state;
    static const uint8_t b[] = {1, 2, 3, 4, 5};
    vpn_rd r, sub;
    uint32_t v;
    uint8_t u;

    vpn_rd_init(&r, b, sizeof b);
    assert_int_equal(vpn_rd_sub(&r, &sub, 2), 0);
    /* Reading past the sub-reader fails it, not its parent. */
    assert_int_equal(vpn_rd_u32(&sub, &v), VPN_ERR_TRUNCATED);
    assert_int_equal(vpn_rd_err(&r), 0);
    assert_int_equal(vpn_rd_u8(&r, &u), 0);
    assert_int_equal(u, 3);
    assert_int_equal(vpn_rd_expect_end(&r), VPN_ERR_MALFORMED); /* trailing 2 bytes */
}

static void test_write_and_patch_length(void **state)
{
    (void)state;
    uint8_t buf[16];
    vpn_wr w;
    size_t pos, start;

    vpn_wr_init(&w, buf, sizeof buf);
    start = vpn_wr_len(&w);
    assert_int_equal(vpn_wr_u8(&w, 0x21), 0);   /* next payload */
    assert_int_equal(vpn_wr_u8(&w, 0x00), 0);   /* flags */
    assert_int_equal(vpn_wr_len_reserve(&w, 2, &pos), 0);
    assert_int_equal(vpn_wr_u24(&w, 0xabcdef), 0);
    assert_int_equal(vpn_wr_u32(&w, 0x01020304), 0);
    assert_int_equal(vpn_wr_len_patch(&w, pos, 2, start), 0);
    tu_assert_hex(buf, vpn_wr_len(&w), "21 00 000b abcdef 01020304");
}

static void test_write_overflow_is_sticky(void **state)
{
    (void)state;
    uint8_t buf[8];
    vpn_wr w;
    uint8_t *p;
    size_t pos;

    memset(buf, 0xee, sizeof buf);
    vpn_wr_init(&w, buf, 5);
    assert_int_equal(vpn_wr_u32(&w, 0x11223344), 0);
    assert_int_equal(vpn_wr_u16(&w, 0x5566), VPN_ERR_NOSPACE);
    /* Nothing was written past capacity, and later writes fail too. */
    assert_int_equal(buf[4], 0xee);
    assert_int_equal(buf[5], 0xee);
    assert_int_equal(vpn_wr_u8(&w, 1), VPN_ERR_NOSPACE);
    assert_int_equal(vpn_wr_take(&w, &p, 1), VPN_ERR_NOSPACE);
    assert_null(p);
    assert_int_equal(vpn_wr_len(&w), 4);
    assert_int_equal(vpn_wr_room(&w), 0);

    /* A length that does not fit its field is refused at patch time. */
    uint8_t big[300];
    vpn_wr_init(&w, big, sizeof big);
    assert_int_equal(vpn_wr_len_reserve(&w, 1, &pos), 0);
    assert_int_equal(vpn_wr_zero(&w, 260), 0);
    assert_int_equal(vpn_wr_len_patch(&w, pos, 1, 0), VPN_ERR_OVERFLOW);
    /* Bad widths and values. */
    vpn_wr_init(&w, big, sizeof big);
    assert_int_equal(vpn_wr_len_reserve(&w, 3, &pos), VPN_ERR_INVAL);
    vpn_wr_init(&w, big, sizeof big);
    assert_int_equal(vpn_wr_u24(&w, 0x1000000), VPN_ERR_OVERFLOW);
    vpn_wr_init(&w, big, sizeof big);
    assert_int_equal(vpn_wr_len_patch(&w, 10, 2, 0), VPN_ERR_INVAL);
}

static void test_write_bytes_and_take(void **state)
{
    (void)state;
    uint8_t buf[8];
    vpn_wr w;
    uint8_t *p;

    vpn_wr_init(&w, buf, sizeof buf);
    assert_int_equal(vpn_wr_bytes(&w, "ab", 2), 0);
    assert_int_equal(vpn_wr_take(&w, &p, 3), 0);
    memcpy(p, "cde", 3);
    assert_int_equal(vpn_wr_u64(&w, 1), VPN_ERR_NOSPACE);
    assert_int_equal(vpn_wr_len(&w), 5);
    assert_memory_equal(buf, "abcde", 5);
}

/* Every prefix of a valid message either parses or fails cleanly. */
static void test_every_truncation_fails_cleanly(void **state)
{
    (void)state;
    static const uint8_t good[] = {1, 0, 5, 0xaa, 0xbb, 2, 0, 6, 1, 2, 3};
    unsigned n;

    for (size_t len = 0; len <= sizeof good; len++) {
        int rc = parse_tlvs(good, len, &n);
        if (len == 0 || len == 5 || len == sizeof good)
            assert_int_equal(rc, 0);
        else
            assert_int_equal(rc, VPN_ERR_TRUNCATED);
    }
}

/* ---- the debug-build invariant (wire.c) --------------------------------------- */

#ifdef NDEBUG
#error "common-wire checks wire.c's debug-build invariant: build it without NDEBUG (CMakeLists.txt)"
#endif

static const uint8_t four[4] = {1, 2, 3, 4};
static uint8_t room[4];

static void rd_ok(void)
{
    vpn_rd r;
    uint8_t v;
    vpn_rd_init(&r, four, sizeof four);
    if (vpn_rd_u8(&r, &v) != 0 || vpn_rd_skip(&r, 3) != 0 || vpn_rd_expect_end(&r) != 0 ||
        vpn_rd_u8(&r, &v) != VPN_ERR_TRUNCATED || vpn_rd_fail(&r, VPN_ERR_MALFORMED) != VPN_ERR_TRUNCATED)
        _exit(3);
}

static void rd_offset_past_end(void)
{
    vpn_rd r;
    uint8_t v;
    vpn_rd_init(&r, four, sizeof four);
    r.off = 5; /* poked by hand: vpn_rd_left would wrap */
    (void)vpn_rd_u8(&r, &v);
}

static void rd_not_an_error(void)
{
    vpn_rd r;
    vpn_rd_init(&r, four, sizeof four);
    r.err = 1; /* not a VPN_ERR_* */
    (void)vpn_rd_skip(&r, 1);
}

static void rd_fail_with_zero(void)
{
    vpn_rd r;
    vpn_rd_init(&r, four, sizeof four);
    (void)vpn_rd_fail(&r, 0); /* would leave the cursor usable */
}

static void rd_fail_broken(void)
{
    vpn_rd r;
    vpn_rd_init(&r, four, sizeof four);
    r.off = 7;
    (void)vpn_rd_fail(&r, VPN_ERR_MALFORMED);
}

static void rd_end_broken(void)
{
    vpn_rd r;
    vpn_rd_init(&r, four, sizeof four);
    r.buf = NULL; /* a length with no buffer behind it, all of it "read" */
    r.off = r.len;
    if (vpn_rd_expect_end(&r) != 0) /* (its result must be used) */
        _exit(5);
}

static void wr_offset_past_cap(void)
{
    vpn_wr w;
    size_t pos;
    vpn_wr_init(&w, room, sizeof room);
    (void)vpn_wr_len_reserve(&w, 1, &pos);
    w.off = 9;
    /* the patch checks its own bounds against off, not cap */
    (void)vpn_wr_len_patch(&w, pos, 1, 0);
}

/* Runs fn in a child; the signal that ended it, or -(exit status + 1). */
static int run_child(void (*fn)(void))
{
    pid_t pid = fork();
    int st = 0;

    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        if (freopen("/dev/null", "w", stderr) == NULL)
            _exit(4);
        fn();
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return WIFSIGNALED(st) ? WTERMSIG(st) : -(WEXITSTATUS(st) + 1);
}

static void test_debug_invariant_stops_broken_cursor(void **state)
{
    (void)state;
    assert_int_equal(run_child(rd_ok), -1); /* a sound cursor runs to the end */
    assert_int_equal(run_child(rd_offset_past_end), SIGABRT);
    assert_int_equal(run_child(rd_not_an_error), SIGABRT);
    assert_int_equal(run_child(rd_fail_with_zero), SIGABRT);
    assert_int_equal(run_child(rd_fail_broken), SIGABRT);
    assert_int_equal(run_child(rd_end_broken), SIGABRT);
    assert_int_equal(run_child(wr_offset_past_cap), SIGABRT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_integers),
        cmocka_unit_test(test_read_past_end_is_sticky),
        cmocka_unit_test(test_huge_length_does_not_wrap),
        cmocka_unit_test(test_sub_readers_contain_lengths),
        cmocka_unit_test(test_sub_reader_is_independent),
        cmocka_unit_test(test_write_and_patch_length),
        cmocka_unit_test(test_write_overflow_is_sticky),
        cmocka_unit_test(test_write_bytes_and_take),
        cmocka_unit_test(test_every_truncation_fails_cleanly),
        cmocka_unit_test(test_debug_invariant_stops_broken_cursor),
    };
    return cmocka_run_group_tests_name("common-wire", tests, NULL, NULL);
}
