/*
 * The IKEv2 engine's remote identity -> IKE SA handles index
 * (ikev2/ikev2-ridx.c, issue 14): a multimap, so one key holds several
 * handles. Probe runs forced (several handles under one key, keys whose
 * home lies inside that run, a run wrapping past the table's end), a
 * deletion in the middle (backward shift: every later entry still found),
 * a get with less room than handles (the count says so), random puts,
 * deletes and resets against a brute-force list, and a reset refused by the
 * injected allocator (the old table stays whole).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/vpn-err.h"
#include "ikev2/ikev2-ridx.h"
#include "test-util.h"

/* a key whose home slot in a table of 64 is home, from after on */
static uint32_t key_at(size_t home, uint32_t after)
{
    uint32_t k = after;
    while (ikev2_ridx_home(++k, 64) != home)
        ;
    return k;
}

/* true if get(key) holds exactly the n handles in want, in any order */
static bool holds(const ikev2_ridx *x, uint32_t key, const uint32_t *want, size_t n)
{
    uint32_t got[64];
    size_t m = ikev2_ridx_get(x, key, got, 64);
    if (m != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < m && got[j] != want[i])
            j++;
        if (j == m)
            return false;
    }
    return true;
}

static void forced_run(size_t home)
{
    ikev2_ridx x = {0};
    uint32_t k = key_at(home, 0), in2 = key_at((home + 2) & 63, 0), in5 = key_at((home + 5) & 63, 0);
    uint32_t ids[6] = {11, 12, 13, 14, 15, 16}, rest[5] = {11, 12, 14, 15, 16};

    assert_int_equal(ikev2_ridx_reset(&x, NULL, 0), 0);
    assert_int_equal(x.h.n, 64);
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(ikev2_ridx_put(&x, k, ids[i]), 0);
    assert_int_equal(ikev2_ridx_put(&x, in2, 21), 0);
    assert_int_equal(ikev2_ridx_put(&x, in5, 22), 0);
    assert_int_equal(ikev2_ridx_put(&x, k, 13), 0); /* already there: nothing */
    assert_int_equal(x.h.used, 8);
    /* the six sit one after another from the home slot, the others after them */
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(x.h.t[(home + i) & 63].val, ids[i]);
    assert_int_equal(x.h.t[(home + 6) & 63].val, 21);
    assert_int_equal(x.h.t[(home + 7) & 63].val, 22);
    assert_true(holds(&x, k, ids, 6));
    assert_true(holds(&x, in2, (uint32_t[]){21}, 1));
    assert_true(holds(&x, in5, (uint32_t[]){22}, 1));

    /* delete in the middle: the run shifts back, all still found */
    ikev2_ridx_del(&x, k, 13);
    ikev2_ridx_del(&x, k, 13); /* gone: nothing */
    ikev2_ridx_del(&x, in2, 13); /* not under that key: nothing */
    assert_int_equal(x.h.used, 7);
    assert_true(holds(&x, k, rest, 5));
    assert_true(holds(&x, in2, (uint32_t[]){21}, 1));
    assert_true(holds(&x, in5, (uint32_t[]){22}, 1));
    assert_int_equal(x.h.t[(home + 7) & 63].val, 0); /* no hole left inside the run */
    ikev2_ridx_del(&x, k, 11);
    ikev2_ridx_del(&x, in2, 21);
    assert_true(holds(&x, k, rest + 1, 4));
    assert_true(holds(&x, in2, NULL, 0));
    assert_true(holds(&x, in5, (uint32_t[]){22}, 1));
    assert_int_equal(x.h.used, 5);
    ikev2_ridx_free(&x);
}

static void test_ridx_forced_run(void **state)
{
    (void)state;
    forced_run(20);
}

static void test_ridx_forced_run_wraps(void **state)
{
    (void)state;
    forced_run(60); /* the run goes 60..63, 0..3 */
    forced_run(63);
}

/* a get with less room than handles counts them all and fills what fits */
static void test_ridx_get_cap(void **state)
{
    ikev2_ridx x = {0};
    uint32_t out[3] = {0};
    (void)state;
    assert_int_equal(ikev2_ridx_get(&x, 5, out, 3), 0); /* no table yet */
    assert_int_equal(ikev2_ridx_put(&x, 5, 1), VPN_ERR_NOSPACE); /* nor room */
    assert_int_equal(ikev2_ridx_reset(&x, NULL, 0), 0);
    for (uint32_t id = 1; id <= 5; id++)
        assert_int_equal(ikev2_ridx_put(&x, 7, id), 0);
    assert_int_equal(ikev2_ridx_get(&x, 7, out, 3), 5);
    for (size_t i = 0; i < 3; i++)
        assert_true(out[i] >= 1 && out[i] <= 5);
    assert_true(out[0] != out[1] && out[1] != out[2] && out[0] != out[2]);
    ikev2_ridx_free(&x);
}

#define IDS 4000
#define KEYS 600

/* Random puts and deletes against a list of (handle -> key); a full table
 * is reset and refilled, as the engine does. */
static void test_ridx_random_against_map(void **state)
{
    static uint32_t key_of[IDS + 1]; /* handle -> key + 1, 0: absent */
    ikev2_ridx x = {0};
    uint64_t r = 88172645463325252ull;
    size_t n = 0, resets = 0, dels = 0, max_n = 0;

    (void)state;
    memset(key_of, 0, sizeof key_of);
    assert_int_equal(ikev2_ridx_reset(&x, NULL, 0), 0);
    for (int op = 0; op < 30000; op++) {
        uint32_t id, key;
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        id = 1 + (uint32_t)(r % (op < 15000 ? IDS : IDS / 4));
        key = (uint32_t)((r >> 32) % KEYS) * 2654435761u; /* several handles per key */
        if (key_of[id] && (r >> 60) % 2) {
            ikev2_ridx_del(&x, key_of[id] - 1, id);
            key_of[id] = 0;
            n--;
            dels++;
        } else if (!key_of[id]) {
            if (ikev2_ridx_put(&x, key, id) == VPN_ERR_NOSPACE) {
                assert_true(2 * (x.h.used + 1) > x.h.n);
                assert_int_equal(ikev2_ridx_reset(&x, NULL, n + 1), 0);
                assert_int_equal(x.h.used, 0);
                for (uint32_t k = 1; k <= IDS; k++)
                    if (key_of[k])
                        assert_int_equal(ikev2_ridx_put(&x, key_of[k] - 1, k), 0);
                assert_int_equal(ikev2_ridx_put(&x, key, id), 0);
                resets++;
            }
            key_of[id] = key + 1;
            n++;
        }
        if (n > max_n)
            max_n = n;
        assert_int_equal(x.h.used, n);
        assert_true(2 * x.h.used <= x.h.n);
        if (op % 211 == 0 || op > 29950) {
            /* every key holds exactly its handles */
            static uint32_t want[IDS];
            for (uint32_t kk = 0; kk < KEYS; kk++) {
                uint32_t kv = kk * 2654435761u;
                size_t m = 0;
                for (uint32_t k = 1; k <= IDS; k++)
                    if (key_of[k] == kv + 1)
                        want[m++] = k;
                assert_true(m <= 64);
                assert_true(holds(&x, kv, want, m));
            }
        }
    }
    assert_true(max_n > 1500 && dels > 5000 && resets >= 4); /* 64 -> 256 -> 1024 -> 4096 slots */
    ikev2_ridx_free(&x);
}

static void test_ridx_reset_refused(void **state)
{
    tu_switch g = {0};
    vpn_alloc a = {.allow = tu_switch_allow, .user = &g};
    ikev2_ridx x = {0};
    (void)state;
    assert_int_equal(ikev2_ridx_reset(&x, &a, 31), 0);
    assert_int_equal(x.h.n, 128); /* room for 31 and as many again */
    for (uint32_t id = 1; id <= 64; id++)
        assert_int_equal(ikev2_ridx_put(&x, id % 9, id), 0);
    assert_int_equal(ikev2_ridx_put(&x, 3, 65), VPN_ERR_NOSPACE);
    g.refuse = true;
    assert_int_equal(ikev2_ridx_reset(&x, &a, 65), VPN_ERR_NOMEM);
    assert_int_equal(g.refused, 1);
    assert_int_equal(x.h.n, 128);
    assert_int_equal(x.h.used, 64);
    for (uint32_t key = 0; key < 9; key++) {
        uint32_t want[8];
        size_t m = 0;
        for (uint32_t id = 1; id <= 64; id++)
            if (id % 9 == key)
                want[m++] = id;
        assert_true(holds(&x, key, want, m));
    }
    ikev2_ridx_free(&x);
}

static bool odd_live(void *user, uint32_t sa_id)
{
    (void)user;
    return sa_id % 2 == 1;
}

/* prune drops every refused handle under a key, however many there are
 * (more than a caller's cap), the run wrapping past the table's end and
 * other keys' entries mixed in; those stay. */
static void test_ridx_prune(void **state)
{
    ikev2_ridx x = {0};
    uint32_t k = key_at(58, 0), other = key_at(60, 0), want[12], want_o[4];
    size_t m = 0;
    (void)state;
    assert_int_equal(ikev2_ridx_reset(&x, NULL, 0), 0);
    for (uint32_t id = 1; id <= 24; id++) {
        assert_int_equal(ikev2_ridx_put(&x, k, id), 0);
        if (id % 6 == 0)
            assert_int_equal(ikev2_ridx_put(&x, other, 100 + id), 0);
        if (id % 2 == 1)
            want[m++] = id;
    }
    for (uint32_t i = 0; i < 4; i++)
        want_o[i] = 106 + 6 * i;
    assert_int_equal(ikev2_ridx_get(&x, k, want, 0), 24);
    assert_int_equal(ikev2_ridx_prune(&x, k, odd_live, NULL), 12);
    assert_int_equal(x.h.used, 16);
    assert_true(holds(&x, k, want, 12));
    assert_true(holds(&x, other, want_o, 4));
    assert_int_equal(ikev2_ridx_prune(&x, key_at(3, 0), odd_live, NULL), 0);
    ikev2_ridx_free(&x);
}

/* The key is of the type and the data: the same octets as another type differ. */
static void test_ridx_key(void **state)
{
    const uint8_t a[4] = {192, 0, 2, 1}, b[4] = {192, 0, 2, 2};
    (void)state;
    assert_int_equal(ikev2_ridx_key(1, a, 4), ikev2_ridx_key(1, a, 4));
    assert_true(ikev2_ridx_key(1, a, 4) != ikev2_ridx_key(1, b, 4));
    assert_true(ikev2_ridx_key(1, a, 4) != ikev2_ridx_key(11, a, 4));
    assert_true(ikev2_ridx_key(1, a, 4) != ikev2_ridx_key(1, a, 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ridx_forced_run),
        cmocka_unit_test(test_ridx_forced_run_wraps),
        cmocka_unit_test(test_ridx_get_cap),
        cmocka_unit_test(test_ridx_random_against_map),
        cmocka_unit_test(test_ridx_reset_refused),
        cmocka_unit_test(test_ridx_key),
        cmocka_unit_test(test_ridx_prune),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
