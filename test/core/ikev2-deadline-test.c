/*
 * The IKEv2 engine's deadline heap (common/dheap.c, issue 14): every IKE
 * SA sits in a binary min-heap keyed by its earliest deadline, so the next
 * deadline is the root and vpn_ikev2_timeout visits only the due SAs.
 * Checked against brute force: after every insert, key change and removal
 * of a random sequence, the root is the smallest key of the items held,
 * every item knows its index, and the due set (keys up to a bound) is
 * exactly the items a scan finds; room that cannot be reserved (the
 * injected allocator) leaves the heap as it was.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/dheap.h"
#include "common/vpn-err.h"
#include "test-util.h"

#define N_ITEMS 1500
#define N_OPS 20000

typedef struct item {
    size_t pos;
    uint64_t key;
    bool in;
    bool seen;
} item;

static uint64_t rnd_state = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
    /* xorshift64: a fixed sequence, so a failure can be replayed */
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

/* Keys from a small range make ties common; UINT64_MAX (nothing armed) too. */
static uint64_t rnd_key(void)
{
    uint64_t r = rnd();
    if (r % 17 == 0)
        return UINT64_MAX;
    return (r >> 8) % 5000;
}

static void check(const vpn_dheap *h, item *it, size_t n_items, size_t n_in)
{
    uint64_t lo = UINT64_MAX;
    size_t n = 0;

    assert_int_equal(h->n, n_in);
    for (size_t i = 0; i < n_items; i++) {
        if (!it[i].in) {
            assert_true(it[i].pos == VPN_DHEAP_NONE);
            continue;
        }
        n++;
        if (it[i].key < lo)
            lo = it[i].key;
        assert_true(it[i].pos < h->n);
        assert_ptr_equal(h->e[it[i].pos].item, &it[i]);
        assert_true(h->e[it[i].pos].key == it[i].key);
    }
    assert_int_equal(n, n_in);
    assert_true(vpn_dheap_min(h) == lo);
    /* the heap order itself: no entry earlier than its parent */
    for (size_t i = 1; i < h->n; i++)
        assert_true(h->e[(i - 1) / 2].key <= h->e[i].key);
}

static void check_due(const vpn_dheap *h, item *it, uint64_t upto)
{
    static void *out[N_ITEMS];
    size_t n = vpn_dheap_due(h, upto, out, N_ITEMS), want = 0;

    for (size_t i = 0; i < N_ITEMS; i++)
        it[i].seen = false;
    for (size_t k = 0; k < n; k++) {
        item *x = out[k];
        assert_true(x->in);
        assert_true(x->key <= upto);
        assert_false(x->seen); /* each once */
        x->seen = true;
    }
    for (size_t i = 0; i < N_ITEMS; i++)
        if (it[i].in && it[i].key <= upto)
            want++;
    assert_int_equal(n, want);
    /* a short output area gets a prefix, and the count is still the full one */
    if (n > 3)
        assert_int_equal(vpn_dheap_due(h, upto, out, 3), n);
}

static void test_heap_random_against_brute_force(void **state)
{
    static item it[N_ITEMS];
    vpn_dheap h = {0};
    size_t n_in = 0, n_upd = 0, n_del = 0, n_push = 0;

    (void)state;
    for (size_t i = 0; i < N_ITEMS; i++)
        it[i] = (item){.pos = VPN_DHEAP_NONE};
    assert_int_equal(vpn_dheap_reserve(&h, NULL, N_ITEMS), 0);
    for (int op = 0; op < N_OPS; op++) {
        item *x = &it[rnd() % N_ITEMS];
        if (!x->in) {
            x->key = rnd_key();
            assert_int_equal(vpn_dheap_push(&h, x, &x->pos, x->key), 0);
            x->in = true;
            n_in++;
            n_push++;
        } else if (rnd() % 3 != 0) {
            x->key = rnd() % 4 == 0 ? x->key + rnd() % 50 : rnd_key(); /* later, or anywhere */
            vpn_dheap_update(&h, x->pos, x->key);
            n_upd++;
        } else {
            vpn_dheap_remove(&h, x->pos);
            x->in = false;
            n_in--;
            n_del++;
        }
        check(&h, it, N_ITEMS, n_in);
        if (op % 97 == 0)
            check_due(&h, it, rnd() % 6000);
    }
    /* every kind of step ran many times */
    assert_true(n_push > 1000 && n_upd > 1000 && n_del > 1000);
    check_due(&h, it, UINT64_MAX);
    check_due(&h, it, 0);
    /* empty it from the root, as timeouts do, keys ascending */
    for (uint64_t last = 0; h.n;) {
        item *x = h.e[0].item;
        assert_true(x->key >= last);
        last = x->key;
        vpn_dheap_remove(&h, 0);
        x->in = false;
        check(&h, it, N_ITEMS, --n_in);
    }
    assert_true(vpn_dheap_min(&h) == UINT64_MAX);
    vpn_dheap_free(&h);
}

static bool deny_all(void *user, size_t size)
{
    (void)user;
    (void)size;
    return false;
}

static void test_heap_no_room(void **state)
{
    item it[4];
    vpn_dheap h = {0};
    vpn_alloc no = {.allow = deny_all};

    (void)state;
    assert_int_equal(vpn_dheap_reserve(&h, NULL, 3), 0);
    for (int i = 0; i < 3; i++) {
        it[i] = (item){.key = (uint64_t)(30 - i), .in = true};
        assert_int_equal(vpn_dheap_push(&h, &it[i], &it[i].pos, it[i].key), 0);
    }
    it[3] = (item){.pos = VPN_DHEAP_NONE};
    /* full: a push is refused and changes nothing */
    assert_int_equal(vpn_dheap_push(&h, &it[3], &it[3].pos, 1), VPN_ERR_NOSPACE);
    assert_true(it[3].pos == VPN_DHEAP_NONE);
    /* growing refused by the allocator: the same three, still in order */
    assert_int_equal(vpn_dheap_reserve(&h, &no, 8), VPN_ERR_NOMEM);
    assert_int_equal(h.cap, 3);
    check(&h, it, 3, 3);
    assert_true(vpn_dheap_min(&h) == 28);
    /* a reserve within the capacity asks for nothing */
    assert_int_equal(vpn_dheap_reserve(&h, &no, 2), 0);
    assert_int_equal(vpn_dheap_reserve(&h, NULL, 8), 0);
    assert_int_equal(vpn_dheap_push(&h, &it[3], &it[3].pos, 1), 0);
    it[3].key = 1;
    it[3].in = true;
    check(&h, it, 4, 4);
    vpn_dheap_free(&h);
    for (int i = 0; i < 4; i++)
        assert_true(it[i].pos == VPN_DHEAP_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heap_random_against_brute_force),
        cmocka_unit_test(test_heap_no_room),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
