/*
 * The common open-addressing table (common/htab.c) the engines' indexes
 * are built on (issue 14), attacked where such tables break: many keys
 * with one home slot (a long probe run, also wrapping past the table's
 * end, other keys' homes inside it), deletions at the head, middle and
 * tail of those runs (backward shift: no hole, no entry lost, nothing
 * moved before its home), one key holding many values, keys differing
 * in their top bit only, random operations against a brute-force model with
 * the table's invariant checked throughout, and growth or reset refused by
 * the injected allocator leaving the table byte for byte as it was.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/htab.h"
#include "common/vpn-err.h"
#include "test-util.h"

/* count keys whose home in a table of n slots is home, the first after `after` */
static void keys_at(uint32_t *out, size_t count, size_t home, size_t n, uint32_t after)
{
    uint32_t k = after;
    for (size_t i = 0; i < count;)
        if (vpn_htab_home(++k, n) == home)
            out[i++] = k;
}

/* The table's invariant: used counts the occupied slots, at most half the
 * table; every entry is reachable from its home (no free slot between). */
static void assert_sound(const vpn_htab *h)
{
    size_t occ = 0, mask = h->n - 1;

    if (h->n == 0) {
        assert_int_equal(h->used, 0);
        return;
    }
    assert_int_equal(h->n & mask, 0);
    for (size_t i = 0; i < h->n; i++) {
        if (h->t[i].val == 0)
            continue;
        occ++;
        for (size_t k = vpn_htab_home(h->t[i].key, h->n); k != i; k = (k + 1) & mask)
            assert_true(h->t[k].val != 0);
        /* the pair is found where it sits */
        assert_ptr_equal(vpn_htab_find_pair(h, h->t[i].key, h->t[i].val), &h->t[i]);
    }
    assert_int_equal(occ, h->used);
    assert_true(2 * h->used <= h->n);
}

static size_t slot_of(const vpn_htab *h, uint32_t key, uint32_t val)
{
    const vpn_htab_ent *e = vpn_htab_find_pair(h, key, val);
    return e ? (size_t)(e - h->t) : SIZE_MAX;
}

/* 24 keys with one home (the run wraps when home is near the end), two
 * keys whose homes lie inside the run, then deletions everywhere in it. */
static void collisions_at(size_t home)
{
    vpn_htab h = {0};
    uint32_t k[24], in[2];

    keys_at(k, 24, home, 64, 0);
    keys_at(in, 1, (home + 3) & 63, 64, 0);
    keys_at(in + 1, 1, (home + 20) & 63, 64, 0);
    assert_int_equal(vpn_htab_reset(&h, NULL, 0), 0);
    assert_int_equal(h.n, 64);
    for (size_t i = 0; i < 24; i++)
        assert_int_equal(vpn_htab_put(&h, k[i], 100 + (uint32_t)i), 0);
    assert_int_equal(vpn_htab_put(&h, in[0], 200), 0);
    assert_int_equal(vpn_htab_put(&h, in[1], 201), 0);
    assert_int_equal(h.n, 64); /* no growth: the run is what was forced */
    for (size_t i = 0; i < 24; i++)
        assert_int_equal(slot_of(&h, k[i], 100 + (uint32_t)i), (home + i) & 63);
    assert_int_equal(slot_of(&h, in[0], 200), (home + 24) & 63);
    assert_int_equal(slot_of(&h, in[1], 201), (home + 25) & 63);
    assert_sound(&h);

    /* the middle, the head, the tail of the run; then keys not there */
    assert_true(vpn_htab_del(&h, k[11], 111));
    assert_sound(&h);
    assert_true(vpn_htab_del(&h, k[0], 100));
    assert_sound(&h);
    assert_true(vpn_htab_del(&h, in[1], 201));
    assert_false(vpn_htab_del(&h, k[11], 111));
    assert_false(vpn_htab_del(&h, k[5], 999)); /* that key, another value */
    assert_false(vpn_htab_del(&h, in[0] ^ 0x80000000u, 200));
    assert_sound(&h);
    assert_int_equal(h.used, 23);
    for (size_t i = 0; i < 24; i++) {
        vpn_htab_ent *e = vpn_htab_find(&h, k[i]);
        if (i == 0 || i == 11) {
            assert_null(e);
        } else {
            assert_non_null(e);
            assert_int_equal(e->val, 100 + i);
        }
    }
    assert_int_equal(vpn_htab_find(&h, in[0])->val, 200);
    assert_null(vpn_htab_find(&h, in[1]));
    /* the run closed up: 23 entries from home on, a free slot after */
    for (size_t s = 0; s < 23; s++)
        assert_true(h.t[(home + s) & 63].val != 0);
    assert_int_equal(h.t[(home + 23) & 63].val, 0);
    /* the key homed inside the run moved back, but never before its home */
    assert_true(((slot_of(&h, in[0], 200) - ((home + 3) & 63)) & 63) < 23);
    vpn_htab_free(&h);
    assert_null(h.t);
}

static void test_htab_collisions(void **state)
{
    (void)state;
    collisions_at(10);
}

static void test_htab_collisions_wrap(void **state)
{
    (void)state;
    collisions_at(50); /* 50..63, 0..11 */
    collisions_at(63);
}

/* Backward shift across the end: the hole at 63; the entry at 0 has its
 * home at 0 (it must stay), the one at 1 has its home at 63 (it moves). */
static void test_htab_shift_across_end(void **state)
{
    vpn_htab h = {0};
    uint32_t a[2], c, d;
    (void)state;
    keys_at(a, 2, 62, 64, 0);
    keys_at(&c, 1, 0, 64, 0);
    keys_at(&d, 1, 63, 64, a[1]);
    assert_int_equal(vpn_htab_reset(&h, NULL, 4), 0);
    assert_int_equal(vpn_htab_put(&h, a[0], 1), 0);
    assert_int_equal(vpn_htab_put(&h, a[1], 2), 0);
    assert_int_equal(vpn_htab_put(&h, c, 3), 0);
    assert_int_equal(vpn_htab_put(&h, d, 4), 0);
    assert_int_equal(slot_of(&h, a[1], 2), 63);
    assert_int_equal(slot_of(&h, c, 3), 0);
    assert_int_equal(slot_of(&h, d, 4), 1);
    assert_true(vpn_htab_del(&h, a[1], 2));
    assert_int_equal(slot_of(&h, d, 4), 63);
    assert_int_equal(slot_of(&h, c, 3), 0);
    assert_int_equal(h.t[1].val, 0);
    assert_sound(&h);
    vpn_htab_free(&h);
}

static bool keep_odd(void *user, uint32_t val)
{
    unsigned *asked = user;
    (*asked)++;
    return val % 2 == 1;
}

/* One key holding many values, mixed with other keys in its run (which
 * wraps); get with less room than values; pruning removes while walking
 * the run it shifts. */
static void test_htab_multimap(void **state)
{
    vpn_htab h = {0};
    uint32_t k, other;
    uint32_t out[40];
    unsigned asked = 0;
    (void)state;
    keys_at(&k, 1, 56, 64, 0);
    keys_at(&other, 1, 58, 64, 0);
    assert_int_equal(vpn_htab_reset(&h, NULL, 0), 0);
    for (uint32_t v = 1; v <= 24; v++) {
        assert_int_equal(vpn_htab_put(&h, k, v), 0);
        if (v % 6 == 0)
            assert_int_equal(vpn_htab_put(&h, other, 100 + v), 0);
    }
    assert_int_equal(vpn_htab_put(&h, k, 7), 0); /* the pair is there: nothing */
    assert_int_equal(h.used, 28);
    assert_int_equal(vpn_htab_get(&h, k, out, 5), 24);
    for (size_t i = 0; i < 5; i++)
        assert_true(out[i] >= 1 && out[i] <= 24);
    assert_int_equal(vpn_htab_get(&h, k, out, 40), 24);
    assert_int_equal(vpn_htab_prune(&h, k, keep_odd, &asked), 12);
    assert_int_equal(asked, 24); /* each once: a shifted entry lands where the walk stands */
    assert_sound(&h);
    assert_int_equal(h.used, 16);
    assert_int_equal(vpn_htab_get(&h, k, out, 40), 12);
    for (size_t i = 0; i < 12; i++)
        assert_int_equal(out[i] % 2, 1);
    assert_int_equal(vpn_htab_get(&h, other, out, 40), 4);
    asked = 0;
    assert_int_equal(vpn_htab_prune(&h, other + 1, keep_odd, &asked), 0);
    vpn_htab_free(&h);
}

/* Keys one bit apart in their top bit are different keys (and key 0 is a
 * key); value 0 is refused; an empty table answers everything with nothing. */
static void test_htab_keys_and_values(void **state)
{
    vpn_htab h = {0};
    uint32_t out[2];
    (void)state;
    assert_null(vpn_htab_find(&h, 5));
    assert_null(vpn_htab_find_pair(&h, 5, 1));
    assert_int_equal(vpn_htab_get(&h, 5, out, 2), 0);
    assert_false(vpn_htab_del(&h, 5, 1));
    assert_int_equal(vpn_htab_put(&h, 5, 1), VPN_ERR_NOSPACE); /* no table yet */
    assert_int_equal(vpn_htab_reserve(&h, NULL, 1), 0);
    assert_int_equal(vpn_htab_put(&h, 5, 0), VPN_ERR_INVAL);
    assert_int_equal(vpn_htab_put(&h, 0x12345678u, 1), 0);
    assert_int_equal(vpn_htab_put(&h, 0x92345678u, 2), 0);
    assert_int_equal(vpn_htab_put(&h, 0, 3), 0); /* key 0 is a key like any other */
    assert_int_equal(vpn_htab_put(&h, UINT32_MAX, 4), 0);
    assert_int_equal(vpn_htab_find(&h, UINT32_MAX)->val, 4);
    assert_int_equal(vpn_htab_find(&h, 0x12345678u)->val, 1);
    assert_int_equal(vpn_htab_find(&h, 0x92345678u)->val, 2);
    assert_int_equal(vpn_htab_find(&h, 0)->val, 3);
    assert_null(vpn_htab_find(&h, 0x12345679u));
    assert_int_equal(h.used, 4);
    assert_int_equal(sizeof(vpn_htab_ent), 8); /* as htab.h says: 8 octets a slot */
    vpn_htab_free(&h);
}

/* Growth and reset refused by the allocator: the table stays exactly as
 * it was; put at the limit refuses without touching it; granted later,
 * growth keeps every entry. A big-enough table grows without asking. */
static void test_htab_growth_refused(void **state)
{
    tu_switch g = {0};
    vpn_alloc a = {.allow = tu_switch_allow, .user = &g};
    vpn_htab h = {0};
    uint32_t run[10];
    vpn_htab_ent copy[64];
    (void)state;
    keys_at(run, 10, 30, 64, 1000);
    assert_int_equal(vpn_htab_reserve(&h, &a, 32), 0);
    assert_int_equal(h.n, 64);
    for (uint32_t i = 0; i < 22; i++)
        assert_int_equal(vpn_htab_put(&h, i * 7919u, i + 1), 0);
    for (uint32_t i = 0; i < 10; i++)
        assert_int_equal(vpn_htab_put(&h, run[i], 500 + i), 0);
    assert_int_equal(h.used, 32);
    memcpy(copy, h.t, sizeof copy);

    assert_int_equal(vpn_htab_put(&h, 424242, 9), VPN_ERR_NOSPACE);
    g.refuse = true;
    assert_int_equal(vpn_htab_reserve(&h, &a, 33), VPN_ERR_NOMEM);
    assert_int_equal(vpn_htab_reset(&h, &a, 0), VPN_ERR_NOMEM);
    assert_int_equal(g.refused, 2);
    assert_int_equal(h.n, 64);
    assert_int_equal(h.used, 32);
    assert_memory_equal(h.t, copy, sizeof copy);
    /* no room needed: still works on the old table, deletes in the run too */
    assert_int_equal(vpn_htab_reserve(&h, &a, 20), 0);
    assert_int_equal(vpn_htab_put(&h, run[3], 503), 0);
    assert_true(vpn_htab_del(&h, run[4], 504));
    assert_sound(&h);
    assert_int_equal(g.refused, 2);

    g.refuse = false;
    assert_int_equal(vpn_htab_reserve(&h, &a, 100), 0);
    assert_int_equal(h.n, 256);
    assert_int_equal(h.used, 31);
    assert_sound(&h);
    for (uint32_t i = 0; i < 22; i++)
        assert_non_null(vpn_htab_find_pair(&h, i * 7919u, i + 1));
    for (uint32_t i = 0; i < 10; i++)
        assert_true((vpn_htab_find_pair(&h, run[i], 500 + i) != NULL) == (i != 4));
    /* a count no allocation could hold is refused, the table kept */
    assert_int_equal(vpn_htab_reserve(&h, &a, SIZE_MAX / 2), VPN_ERR_NOMEM);
    assert_int_equal(h.n, 256);
    /* reset: empty, sized for what was asked */
    assert_int_equal(vpn_htab_reset(&h, &a, 200), 0);
    assert_int_equal(h.n, 512);
    assert_int_equal(h.used, 0);
    assert_null(vpn_htab_find(&h, run[0]));
    vpn_htab_free(&h);
}

#define UNIVERSE 5000
#define KEYS 700

/* Random puts and deletes (several values per key) against a brute-force
 * list of (value -> key), growing on NOSPACE as cidx does, or resetting
 * and refilling as ridx does, the invariant checked all along. */
static void random_against_model(bool refill)
{
    static uint64_t key_of[UNIVERSE + 1]; /* value -> key + 1; 0: absent */
    vpn_htab h = {0};
    uint64_t r = 88172645463325252ull;
    size_t n = 0, dels = 0, grows = 0, max_n = 0;

    memset(key_of, 0, sizeof key_of);
    for (int op = 0; op < 40000; op++) {
        uint32_t v;
        uint32_t key;
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        v = 1 + (uint32_t)(r % (op < 20000 ? UNIVERSE : UNIVERSE / 4));
        /* keys spread over all 32 bits, few enough that keys repeat */
        key = (uint32_t)((r >> 32) % KEYS) * 2654435761u;
        if (key_of[v] && (r >> 61) % 2) {
            assert_true(vpn_htab_del(&h, (uint32_t)(key_of[v] - 1), v));
            key_of[v] = 0;
            n--;
            dels++;
        } else if (!key_of[v]) {
            int rc = vpn_htab_put(&h, key, v);
            if (rc == VPN_ERR_NOSPACE) {
                if (refill) {
                    assert_int_equal(vpn_htab_reset(&h, NULL, 2 * (n + 1)), 0);
                    for (uint32_t w = 1; w <= UNIVERSE; w++)
                        if (key_of[w])
                            assert_int_equal(vpn_htab_put(&h, (uint32_t)(key_of[w] - 1), w), 0);
                } else {
                    assert_int_equal(vpn_htab_reserve(&h, NULL, h.used + 1), 0);
                }
                rc = vpn_htab_put(&h, key, v);
                grows++;
            }
            assert_int_equal(rc, 0);
            key_of[v] = (uint64_t)key + 1;
            n++;
        }
        if (n > max_n)
            max_n = n;
        assert_int_equal(h.used, n);
        if (op % 997 == 0 || op > 39950) {
            assert_sound(&h);
            for (uint32_t w = 1; w <= UNIVERSE; w++)
                if (key_of[w])
                    assert_non_null(vpn_htab_find_pair(&h, (uint32_t)(key_of[w] - 1), w));
            for (uint32_t kk = 0; kk < KEYS; kk += 7) {
                uint32_t kv = kk * 2654435761u;
                size_t m = 0;
                uint32_t out[64];
                for (uint32_t w = 1; w <= UNIVERSE; w++)
                    m += key_of[w] == (uint64_t)kv + 1;
                assert_true(m <= 64);
                assert_int_equal(vpn_htab_get(&h, kv, out, 64), m);
                for (size_t i = 0; i < m; i++)
                    assert_int_equal(key_of[out[i]], (uint64_t)kv + 1);
            }
        }
    }
    assert_true(max_n > 2000 && dels > 8000 && grows >= 5 && h.n >= 4096);
    vpn_htab_free(&h);
}

static void test_htab_random_grow(void **state)
{
    (void)state;
    random_against_model(false);
}

static void test_htab_random_refill(void **state)
{
    (void)state;
    random_against_model(true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_htab_collisions),
        cmocka_unit_test(test_htab_collisions_wrap),
        cmocka_unit_test(test_htab_shift_across_end),
        cmocka_unit_test(test_htab_multimap),
        cmocka_unit_test(test_htab_keys_and_values),
        cmocka_unit_test(test_htab_growth_refused),
        cmocka_unit_test(test_htab_random_grow),
        cmocka_unit_test(test_htab_random_refill),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
