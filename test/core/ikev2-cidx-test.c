/*
 * The IKEv2 engine's CHILD_SA id -> IKE SA index (ikev2/ikev2-cidx.c,
 * issue 14), with probe runs forced: ids chosen to share a home slot (and
 * a run that wraps past the table's end), a deletion in the middle of a run
 * (backward shift: no hole left, every later entry still found), random
 * puts and deletes against a brute-force map across growth, and growth
 * refused by the injected allocator (the index says it is incomplete, what
 * it holds is still found, the child left out is a miss for the caller's
 * walk, never a wrong answer).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "ikev2/ikev2-cidx.h"
#include "test-util.h"

/* n ids, counting up from 1, whose home slot in a table of 64 is home */
static void colliding(uint32_t *ids, size_t n, size_t home, uint32_t after)
{
    uint32_t id = after;
    for (size_t k = 0; k < n; id++)
        if (ikev2_cidx_home(id + 1, 64) == home)
            ids[k++] = id + 1;
}

static size_t slot_of(const ikev2_cidx *x, uint32_t id)
{
    for (size_t i = 0; i < x->h.n; i++)
        if (x->h.t[i].val && x->h.t[i].key == id)
            return i;
    return SIZE_MAX;
}

static void forced_run(size_t home)
{
    ikev2_cidx x = {.complete = true};
    uint32_t ids[8], other[2];

    colliding(ids, 8, home, 0);
    /* two more whose home is inside the run: they probe past its members */
    colliding(other, 1, (home + 2) & 63, 0);
    colliding(other + 1, 1, (home + 5) & 63, 0);
    for (size_t k = 0; k < 8; k++)
        ikev2_cidx_put(&x, NULL, ids[k], 1000 + (uint32_t)k);
    ikev2_cidx_put(&x, NULL, other[0], 2000);
    ikev2_cidx_put(&x, NULL, other[1], 2001);
    assert_int_equal(x.h.n, 64); /* no growth: the run is what was forced */
    assert_int_equal(x.h.used, 10);
    /* the colliding ids sit one after another from their home */
    for (size_t k = 0; k < 8; k++)
        assert_int_equal(slot_of(&x, ids[k]), (home + k) & 63);
    assert_int_equal(slot_of(&x, other[0]), (home + 8) & 63);
    assert_int_equal(slot_of(&x, other[1]), (home + 9) & 63);

    /* delete in the middle: the rest of the run shifts back */
    ikev2_cidx_del(&x, ids[3]);
    assert_int_equal(x.h.used, 9);
    assert_int_equal(ikev2_cidx_get(&x, ids[3]), 0);
    for (size_t k = 0; k < 8; k++)
        if (k != 3)
            assert_int_equal(ikev2_cidx_get(&x, ids[k]), 1000 + k);
    assert_int_equal(ikev2_cidx_get(&x, other[0]), 2000);
    assert_int_equal(ikev2_cidx_get(&x, other[1]), 2001);
    for (size_t s = 0; s < 9; s++) /* no hole inside the run */
        assert_true(x.h.t[(home + s) & 63].val != 0);
    assert_int_equal(x.h.t[(home + 9) & 63].val, 0);

    /* the head of the run, then an id that is not there: nothing else moves */
    ikev2_cidx_del(&x, ids[0]);
    ikev2_cidx_del(&x, ids[0]);
    ikev2_cidx_del(&x, 0xfffffff0u);
    assert_int_equal(x.h.used, 8);
    for (size_t k = 1; k < 8; k++)
        if (k != 3)
            assert_int_equal(ikev2_cidx_get(&x, ids[k]), 1000 + k);
    assert_int_equal(ikev2_cidx_get(&x, other[0]), 2000);
    assert_int_equal(ikev2_cidx_get(&x, other[1]), 2001);
    /* a put of a present id moves it to another SA (IKE rekey), in place */
    ikev2_cidx_put(&x, NULL, ids[7], 77);
    assert_int_equal(ikev2_cidx_get(&x, ids[7]), 77);
    assert_int_equal(x.h.used, 8);
    assert_true(x.complete);
    ikev2_cidx_free(&x);
}

static void test_cidx_forced_run(void **state)
{
    (void)state;
    forced_run(17);
}

/* the run starts at 60 and wraps past slot 63 to 0, 1, ... */
static void test_cidx_forced_run_wraps(void **state)
{
    (void)state;
    forced_run(60);
}

/* Backward shift across the table's end: the hole at slot 63, an entry at 0
 * whose home is 0 (it must stay) and one at 1 whose home is 63 (it moves
 * back into the hole). */
static void test_cidx_shift_across_end(void **state)
{
    ikev2_cidx x = {.complete = true};
    uint32_t a[2], c, d;

    (void)state;
    colliding(a, 2, 62, 0);
    colliding(&c, 1, 0, 0);
    colliding(&d, 1, 63, 0);
    ikev2_cidx_put(&x, NULL, a[0], 1);
    ikev2_cidx_put(&x, NULL, a[1], 2);
    ikev2_cidx_put(&x, NULL, c, 3);
    ikev2_cidx_put(&x, NULL, d, 4);
    assert_int_equal(slot_of(&x, a[1]), 63);
    assert_int_equal(slot_of(&x, c), 0);
    assert_int_equal(slot_of(&x, d), 1);
    ikev2_cidx_del(&x, a[1]);
    assert_int_equal(slot_of(&x, a[0]), 62);
    assert_int_equal(slot_of(&x, d), 63);
    assert_int_equal(slot_of(&x, c), 0);
    assert_int_equal(x.h.t[1].val, 0);
    assert_int_equal(ikev2_cidx_get(&x, a[0]), 1);
    assert_int_equal(ikev2_cidx_get(&x, a[1]), 0);
    assert_int_equal(ikev2_cidx_get(&x, c), 3);
    assert_int_equal(ikev2_cidx_get(&x, d), 4);
    ikev2_cidx_free(&x);
}

#define UNIVERSE 3000

static void test_cidx_random_against_map(void **state)
{
    static uint32_t map[UNIVERSE + 1]; /* id -> sa_id, 0: absent */
    ikev2_cidx x = {.complete = true};
    uint64_t r = 88172645463325252ull;
    size_t n = 0, dels = 0, max_n = 0;

    (void)state;
    memset(map, 0, sizeof map);
    for (int op = 0; op < 30000; op++) {
        uint32_t id;
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        /* ids mostly from a growing window, so the table grows and shrinks in use */
        id = 1 + (uint32_t)(r % (op < 15000 ? UNIVERSE : UNIVERSE / 3));
        if (map[id] && (r >> 40) % 2) {
            ikev2_cidx_del(&x, id);
            map[id] = 0;
            n--;
            dels++;
        } else {
            if (!map[id])
                n++;
            map[id] = 1 + (uint32_t)((r >> 20) % 500);
            ikev2_cidx_put(&x, NULL, id, map[id]);
        }
        if (n > max_n)
            max_n = n;
        assert_int_equal(x.h.used, n);
        assert_true(2 * x.h.used <= x.h.n);
        if (op % 101 == 0 || op > 29900)
            for (uint32_t k = 1; k <= UNIVERSE; k++)
                assert_int_equal(ikev2_cidx_get(&x, k), map[k]);
    }
    assert_true(max_n > 1000 && dels > 5000 && x.h.n >= 2048);
    assert_true(x.complete);
    ikev2_cidx_free(&x);
}

static void test_cidx_growth_refused(void **state)
{
    tu_switch g = {0};
    vpn_alloc a = {.allow = tu_switch_allow, .user = &g};
    ikev2_cidx x = {.complete = true};
    uint32_t run[6];

    (void)state;
    /* 32 children fill the first table to half; some of them collide */
    colliding(run, 6, 40, 1000);
    for (uint32_t id = 1; id <= 26; id++)
        ikev2_cidx_put(&x, &a, id, id + 500);
    for (size_t k = 0; k < 6; k++)
        ikev2_cidx_put(&x, &a, run[k], 900 + (uint32_t)k);
    assert_int_equal(x.h.n, 64);
    assert_int_equal(x.h.used, 32);
    assert_true(x.complete);

    /* the 33rd needs a bigger table, and the allocator says no */
    g.refuse = true;
    ikev2_cidx_put(&x, &a, 5000, 42);
    assert_int_equal(g.refused, 1);
    assert_false(x.complete); /* the caller's lookups now walk on a miss */
    assert_int_equal(x.h.n, 64);
    assert_int_equal(x.h.used, 32);
    assert_int_equal(ikev2_cidx_get(&x, 5000), 0); /* a miss, never a wrong SA */
    for (uint32_t id = 1; id <= 26; id++)
        assert_int_equal(ikev2_cidx_get(&x, id), id + 500);
    for (size_t k = 0; k < 6; k++)
        assert_int_equal(ikev2_cidx_get(&x, run[k]), 900 + k);
    /* moving a child that is there needs no room */
    ikev2_cidx_put(&x, &a, run[2], 7);
    assert_int_equal(ikev2_cidx_get(&x, run[2]), 7);
    /* deletes in the middle of the forced run still work on the old table */
    ikev2_cidx_del(&x, run[1]);
    assert_int_equal(ikev2_cidx_get(&x, run[1]), 0);
    for (size_t k = 0; k < 6; k++)
        if (k != 1)
            assert_int_equal(ikev2_cidx_get(&x, run[k]), k == 2 ? 7 : 900 + k);

    /* memory back: the table grows again, but stays marked incomplete (5000
     * was never put, and only a walk can find it) */
    g.refuse = false;
    ikev2_cidx_put(&x, &a, 5001, 43);
    ikev2_cidx_put(&x, &a, 5002, 44);
    assert_int_equal(x.h.n, 128);
    assert_int_equal(ikev2_cidx_get(&x, 5001), 43);
    assert_int_equal(ikev2_cidx_get(&x, 5002), 44);
    assert_int_equal(ikev2_cidx_get(&x, 5000), 0);
    assert_false(x.complete);
    for (uint32_t id = 1; id <= 26; id++)
        assert_int_equal(ikev2_cidx_get(&x, id), id + 500);
    ikev2_cidx_free(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cidx_forced_run),
        cmocka_unit_test(test_cidx_forced_run_wraps),
        cmocka_unit_test(test_cidx_shift_across_end),
        cmocka_unit_test(test_cidx_random_against_map),
        cmocka_unit_test(test_cidx_growth_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
