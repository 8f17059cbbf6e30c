/* The SAD's indexes: stable handles that outlive their SA harmlessly, the
 * (SPI, direction) hash, and removal without a walk (RFC 4301 4.4.2 only
 * says the SAD is searched by SPI; handles are how owners name SAs). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "crypto/crypto-ids.h"
#include "ipsec/sa.h"
#include "pkt-build.h"
#include "test-util.h"

typedef struct fx {
    vpn_rng rng;
    tu_rng st;
    vpn_sad *sad;
    uint8_t k[20];
    vpn_sa_config c;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);

    assert_non_null(f);
    tu_rng_init(&f->rng, &f->st);
    tu_fill(f->k, sizeof f->k, 7);
    assert_int_equal(vpn_sad_new(&f->sad, &f->rng), 0);
    f->c.dir = VPN_SA_IN;
    f->c.mode = VPN_ESP_TUNNEL;
    f->c.encr_id = VPN_ENCR_AES_GCM_16;
    f->c.encr_key_bits = 128;
    f->c.encr_key = f->k;
    f->c.encr_key_len = sizeof f->k;
    f->c.local = tu_addr("192.0.2.1");
    f->c.remote = tu_addr("192.0.2.2");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;

    vpn_sad_del(f->sad);
    free(f);
    return 0;
}

static vpn_sa *add(fx *f, uint32_t spi, unsigned dir)
{
    vpn_sa *sa = NULL;

    f->c.spi = spi;
    f->c.dir = dir;
    assert_int_equal(vpn_sad_add(f->sad, &f->c, 0, &sa), 0);
    return sa;
}

static void test_handles_are_stable(void **state)
{
    fx *f = *state;
    vpn_sa *a = add(f, 0x1000, VPN_SA_IN);
    vpn_sa *b = add(f, 0x1001, VPN_SA_OUT);
    vpn_sa_handle ha = vpn_sa_get_handle(a), hb = vpn_sa_get_handle(b), hc;

    assert_true(ha != VPN_SA_HANDLE_NONE && hb != VPN_SA_HANDLE_NONE && ha != hb);
    assert_ptr_equal(vpn_sad_get(f->sad, ha), a);
    assert_ptr_equal(vpn_sad_get(f->sad, hb), b);
    assert_int_equal(vpn_sad_remove_handle(f->sad, ha), 0);
    /* The handle of a removed SA finds nothing, however often it is used. */
    assert_null(vpn_sad_get(f->sad, ha));
    assert_int_equal(vpn_sad_remove_handle(f->sad, ha), VPN_ERR_NOTFOUND);
    assert_int_equal(vpn_sad_count(f->sad), 1);
    /* The same SPI again is a new SA with a new handle; the old one still finds nothing. */
    hc = vpn_sa_get_handle(add(f, 0x1000, VPN_SA_IN));
    assert_true(hc != ha && hc != hb);
    assert_null(vpn_sad_get(f->sad, ha));
    assert_non_null(vpn_sad_get(f->sad, hc));
    assert_null(vpn_sad_get(f->sad, VPN_SA_HANDLE_NONE));
    assert_null(vpn_sad_get(f->sad, hc + 1000));
}

static void test_find_by_spi_and_direction(void **state)
{
    fx *f = *state;
    vpn_sa *in = add(f, 0x2000, VPN_SA_IN);
    vpn_sa *out = add(f, 0x2000, VPN_SA_OUT); /* the peer picked the same number */
    vpn_sa *both = add(f, 0x3000, VPN_SA_BOTH);

    assert_ptr_equal(vpn_sad_find(f->sad, 0x2000, VPN_SA_IN), in);
    assert_ptr_equal(vpn_sad_find(f->sad, 0x2000, VPN_SA_OUT), out);
    assert_ptr_equal(vpn_sad_find(f->sad, 0x3000, VPN_SA_IN), both);
    assert_ptr_equal(vpn_sad_find(f->sad, 0x3000, VPN_SA_OUT), both);
    assert_null(vpn_sad_find(f->sad, 0x3001, VPN_SA_OUT));
    /* Only IN or OUT are directions to look up by. */
    assert_null(vpn_sad_find(f->sad, 0x3000, VPN_SA_BOTH));
    assert_null(vpn_sad_find(f->sad, 0x3000, 0));
    /* Outbound SAs are never inbound lookups' answers (RFC 4301 4.4.2). */
    assert_int_equal(vpn_sad_remove(f->sad, in), 0);
    assert_null(vpn_sad_find(f->sad, 0x2000, VPN_SA_IN));
    assert_null(vpn_sad_lookup(f->sad, 0x2000, &f->c.local));
    assert_ptr_equal(vpn_sad_find(f->sad, 0x2000, VPN_SA_OUT), out);
    assert_int_equal(vpn_sad_remove(f->sad, out), 0);
    assert_null(vpn_sad_find(f->sad, 0x2000, VPN_SA_OUT));
}

/* Several inbound SAs on one SPI (other destinations): removal from the middle of a chain. */
static void test_shared_spi_chain(void **state)
{
    fx *f = *state;
    vpn_sa *sa[8];
    vpn_addr d[8];
    char ip[32];

    for (int i = 0; i < 8; i++) {
        snprintf(ip, sizeof ip, "198.51.100.%d", i + 1);
        d[i] = tu_addr(ip);
        f->c.local = d[i];
        sa[i] = add(f, 0x4000, VPN_SA_IN);
    }
    assert_ptr_equal(vpn_sad_find(f->sad, 0x4000, VPN_SA_IN), sa[0]); /* the oldest */
    assert_int_equal(vpn_sad_remove(f->sad, sa[3]), 0);
    assert_int_equal(vpn_sad_remove(f->sad, sa[0]), 0);
    assert_ptr_equal(vpn_sad_find(f->sad, 0x4000, VPN_SA_IN), sa[1]);
    for (int i = 0; i < 8; i++)
        assert_ptr_equal(vpn_sad_lookup(f->sad, 0x4000, &d[i]), i == 0 || i == 3 ? NULL : sa[i]);
    assert_int_equal(vpn_sad_count(f->sad), 6);
}

/* Many SAs removed in a scattered order: every index agrees with the list throughout. */
static void test_many_scattered_removals(void **state)
{
    fx *f = *state;
    enum { N = 5000 };
    vpn_sa_handle *h = calloc(N, sizeof *h);
    size_t left = N, n = 0;

    assert_non_null(h);
    for (uint32_t i = 0; i < N; i++)
        h[i] = vpn_sa_get_handle(add(f, 0x10000 + i * 40503u, i % 3 == 0 ? VPN_SA_OUT : VPN_SA_IN));
    /* 7919 is prime to N: visits every index once. */
    for (uint32_t j = 0; j < N; j++) {
        uint32_t i = (j * 7919u) % N;
        unsigned dir = i % 3 == 0 ? VPN_SA_OUT : VPN_SA_IN;
        uint32_t spi = 0x10000 + i * 40503u;
        vpn_sa *sa = vpn_sad_find(f->sad, spi, dir);

        assert_ptr_equal(sa, vpn_sad_get(f->sad, h[i]));
        assert_int_equal(vpn_sad_remove(f->sad, sa), 0);
        assert_null(vpn_sad_find(f->sad, spi, dir));
        assert_null(vpn_sad_get(f->sad, h[i]));
        assert_int_equal(vpn_sad_count(f->sad), --left);
        if (j == N / 2) { /* halfway: the rest are all still reachable */
            for (vpn_sa *s = vpn_sad_next(f->sad, NULL); s; s = vpn_sad_next(f->sad, s)) {
                assert_ptr_equal(vpn_sad_get(f->sad, vpn_sa_get_handle(s)), s);
                n++;
            }
            assert_int_equal(n, left);
        }
    }
    assert_null(vpn_sad_next(f->sad, NULL));
    free(h);
}

/* Another SAD's SA, NULLs: refused, nothing changes. */
static void test_refusals_leave_state(void **state)
{
    fx *f = *state;
    vpn_sad *other;
    vpn_sa *a = add(f, 0x5000, VPN_SA_IN), *x = NULL;

    assert_int_equal(vpn_sad_new(&other, &f->rng), 0);
    f->c.spi = 0x5000;
    assert_int_equal(vpn_sad_add(other, &f->c, 0, &x), 0);
    assert_int_equal(vpn_sad_remove(f->sad, x), VPN_ERR_NOTFOUND);
    assert_int_equal(vpn_sad_remove_handle(f->sad, VPN_SA_HANDLE_NONE), VPN_ERR_INVAL);
    assert_int_equal(vpn_sad_remove(NULL, a), VPN_ERR_INVAL);
    assert_int_equal(vpn_sad_remove(f->sad, NULL), VPN_ERR_INVAL);
    assert_int_equal(vpn_sad_remove_handle(NULL, 1), VPN_ERR_INVAL);
    assert_null(vpn_sad_get(NULL, 1));
    assert_null(vpn_sad_find(NULL, 0x5000, VPN_SA_IN));
    assert_int_equal(vpn_sa_get_handle(NULL), VPN_SA_HANDLE_NONE);
    assert_ptr_equal(vpn_sad_find(f->sad, 0x5000, VPN_SA_IN), a);
    assert_ptr_equal(vpn_sad_find(other, 0x5000, VPN_SA_IN), x);
    assert_int_equal(vpn_sad_count(f->sad), 1);
    assert_int_equal(vpn_sad_count(other), 1);
    vpn_sad_del(other);
}

typedef struct evlog {
    int events;
    vpn_sa_event last;
} evlog;

static void on_event(void *user, vpn_sa *sa, vpn_sa_event ev, vpn_sa_limit why, uint64_t now)
{
    evlog *l = user;
    (void)sa;
    (void)why;
    (void)now;
    l->events++;
    l->last = ev;
}

/* The params constructor: what the setters would set arrives with the SAD. */
static void test_new_with_params(void **state)
{
    fx *f = *state;
    vpn_sad_params p;
    vpn_sad *sad = (vpn_sad *)&p;
    evlog l = {0, 0};

    assert_int_equal(vpn_sad_new_with(&sad, NULL), VPN_ERR_INVAL);
    assert_null(sad);
    vpn_sad_params_init(&p);
    assert_int_equal(vpn_sad_new_with(&sad, &p), VPN_ERR_INVAL); /* no rng */
    p.rng = f->rng;
    p.event = on_event;
    p.event_user = &l;
    assert_int_equal(vpn_sad_new_with(&sad, &p), 0);
    f->c.spi = 0x6000;
    f->c.soft.time_ns = 10;
    assert_int_equal(vpn_sad_add(sad, &f->c, 0, NULL), 0);
    vpn_sad_timeout(sad, 11);
    assert_int_equal(l.events, 1);
    assert_int_equal(l.last, VPN_SA_EV_SOFT);
    vpn_sad_del(sad);
}

/* ---- the deadline heap: thousands of SAs ---------------------------------------------- */

#define HEAP_N 4000
#define HEAP_MS 1000000ull

typedef struct heap_rec {
    uint64_t soft, hard;      /* expected times (0: no such limit) */
    uint64_t soft_at, hard_at; /* when they fired (0: not) */
    int order;                /* 1 soft first, 2 hard */
    bool removed;
    vpn_sa *sa;
} heap_rec;

static heap_rec g_rec[HEAP_N];
static uint64_t g_fired_last;

static void heap_event(void *user, vpn_sa *sa, vpn_sa_event ev, vpn_sa_limit why, uint64_t now)
{
    heap_rec *r = &g_rec[vpn_sa_get_config(sa)->spi - 0x10000];
    (void)user;
    assert_int_equal(why, VPN_SA_LIMIT_TIME);
    assert_false(r->removed);
    /* in deadline order across the whole SAD */
    assert_true(now >= g_fired_last);
    g_fired_last = now;
    if (ev == VPN_SA_EV_SOFT) {
        assert_int_equal(r->soft_at, 0);
        assert_int_equal(r->hard_at, 0); /* soft before hard */
        r->soft_at = now;
    } else {
        assert_int_equal(r->hard_at, 0);
        r->hard_at = now;
    }
}

/* The next deadline as a walk over every live SA would find it. */
static uint64_t heap_brute(void)
{
    uint64_t d = UINT64_MAX;
    for (int i = 0; i < HEAP_N; i++) {
        const heap_rec *r = &g_rec[i];
        if (r->removed || r->hard_at)
            continue;
        if (r->soft && !r->soft_at && r->soft < d)
            d = r->soft;
        if (r->hard && r->hard < d)
            d = r->hard;
    }
    return d;
}

static void test_deadline_heap_thousands(void **state)
{
    fx *f = *state;
    uint64_t t;
    size_t steps = 0, removed = 0;

    memset(g_rec, 0, sizeof g_rec);
    g_fired_last = 0;
    vpn_sad_set_event_cb(f->sad, heap_event, NULL);
    assert_int_equal(vpn_sad_next_deadline(f->sad), UINT64_MAX);
    for (int i = 0; i < HEAP_N; i++) {
        heap_rec *r = &g_rec[i];
        /* scattered times, many equal ones; some SAs without a soft or
         * without any time limit */
        uint64_t base = (uint64_t)((i * 7919) % 997 + 1) * HEAP_MS;
        r->soft = i % 5 == 1 ? 0 : base;
        r->hard = i % 5 == 0 ? 0 : base + (uint64_t)(i % 3) * HEAP_MS + (i % 5 == 1 ? 0 : HEAP_MS);
        if (i % 5 == 0)
            r->soft = 0;
        f->c.soft.time_ns = r->soft;
        f->c.hard.time_ns = r->hard;
        r->sa = add(f, 0x10000 + (uint32_t)i, i % 2 ? VPN_SA_IN : VPN_SA_OUT);
        assert_int_equal(vpn_sad_next_deadline(f->sad), heap_brute());
    }
    /* removals before anything fired, from all over the heap */
    for (int i = 0; i < HEAP_N; i += 11) {
        assert_int_equal(vpn_sad_remove(f->sad, g_rec[i].sa), 0);
        g_rec[i].removed = true;
        assert_int_equal(vpn_sad_next_deadline(f->sad), heap_brute());
    }
    while ((t = vpn_sad_next_deadline(f->sad)) != UINT64_MAX) {
        assert_int_equal(t, heap_brute());
        vpn_sad_timeout(f->sad, t - 1); /* nothing early */
        assert_int_equal(vpn_sad_next_deadline(f->sad), t);
        vpn_sad_timeout(f->sad, t);
        assert_true(vpn_sad_next_deadline(f->sad) > t);
        steps++;
        /* removals while running: SAs whose soft limit fired */
        for (int i = 3; steps % 50 == 0 && i < HEAP_N; i += 97) {
            heap_rec *r = &g_rec[i];
            if (!r->removed && r->soft_at && !r->hard_at) {
                assert_int_equal(vpn_sad_remove(f->sad, r->sa), 0);
                r->removed = true;
                removed++;
            }
        }
    }
    assert_true(steps > 100);
    assert_true(removed > 0);
    /* every limit of every SA still there fired once, at its time */
    for (int i = 0; i < HEAP_N; i++) {
        const heap_rec *r = &g_rec[i];
        if (r->removed && !r->soft_at && !r->hard_at)
            continue;
        if (r->soft)
            assert_int_equal(r->soft_at, r->soft);
        else
            assert_int_equal(r->soft_at, 0);
        if (!r->removed) {
            assert_int_equal(r->hard_at, r->hard);
            assert_int_equal(vpn_sa_is_expired(r->sa), r->hard != 0);
        }
    }
    f->c.soft.time_ns = f->c.hard.time_ns = 0;
}

/* ---- injected failures: the SAD's allocation gate and its RNG ------------- */

#define SWEEP_SAS 70 /* past the first table size (64) and the heap's (16, 32, 64) */

/* Adds SWEEP_SAS SAs (in, out, both; with time limits, so into the heap)
 * behind gate j; each refused add changed nothing and succeeds when tried
 * again. */
static void sad_alloc_run(void *ctx, tu_gate *j)
{
    static const unsigned dirs[3] = {VPN_SA_IN, VPN_SA_OUT, VPN_SA_BOTH};
    fx *f = ctx;
    vpn_alloc a = {tu_gate_allow, j};
    vpn_sad_params p;
    vpn_sad *sad;
    unsigned refused = 0;

    vpn_sad_params_init(&p);
    p.rng = f->rng;
    p.alloc = a;
    assert_int_equal(vpn_sad_new_with(&sad, &p), 0);
    f->c.hard.time_ns = 3600ull * 1000000000ull;
    f->c.replay_window = 128;
    for (unsigned i = 0; i < SWEEP_SAS; i++) {
        vpn_sa *sa = NULL;
        int rc;

        f->c.spi = 0x10000 + i;
        f->c.dir = dirs[i % 3];
        rc = vpn_sad_add(sad, &f->c, 0, &sa);
        if (rc != 0) {
            assert_int_equal(rc, VPN_ERR_NOMEM);
            assert_null(sa);
            assert_int_equal(vpn_sad_count(sad), i);
            assert_null(vpn_sad_find(sad, f->c.spi, f->c.dir & VPN_SA_IN ? VPN_SA_IN : VPN_SA_OUT));
            assert_int_equal(vpn_sad_next_deadline(sad), i ? 3600ull * 1000000000ull : UINT64_MAX);
            refused++;
            assert_int_equal(vpn_sad_add(sad, &f->c, 0, &sa), 0);
        }
        assert_non_null(sa);
    }
    assert_int_equal(vpn_sad_count(sad), SWEEP_SAS);
    for (unsigned i = 0; i < SWEEP_SAS; i++) {
        unsigned d = dirs[i % 3] & VPN_SA_IN ? VPN_SA_IN : VPN_SA_OUT;
        vpn_sa *sa = vpn_sad_find(sad, 0x10000 + i, d);
        assert_non_null(sa);
        assert_ptr_equal(vpn_sad_get(sad, vpn_sa_get_handle(sa)), sa);
    }
    assert_int_equal(refused, j->failed);
    vpn_sad_del(sad); /* the ASan twin: nothing a refused add made is left */
}

static void test_alloc_sweep(void **state)
{
    /* per SA: the record and its replay bitmap; the tables and the heap as
     * they grow */
    tu_alloc_sweep(sad_alloc_run, *state, 2 * SWEEP_SAS);
}

static int fail_fill(void *ctx, uint8_t *out, size_t len)
{
    tu_gate *j = ctx;
    j->calls++;
    if (j->fail_at && j->calls == j->fail_at) {
        j->failed++;
        return VPN_ERR_CRYPTO;
    }
    memset(out, 0x3c, len);
    return 0;
}

/* An outbound AES-CBC SA with counter IVs draws its salt from the SAD's RNG
 * (RFC 3602 allows any unpredictable IV; E_K(salt || seq) is ours): when
 * the draw fails the add returns the RNG's error, the SAD is unchanged,
 * and the next add succeeds. */
static void test_rng_failure(void **state)
{
    fx *f = *state;
    tu_gate j = {0, 1, 0};
    vpn_rng rng = {fail_fill, &j};
    uint8_t ik[32];
    vpn_sad *sad;
    vpn_sa *sa = NULL;

    tu_fill(ik, sizeof ik, 9);
    assert_int_equal(vpn_sad_new(&sad, &rng), 0);
    f->c.spi = 0x7000;
    f->c.dir = VPN_SA_OUT;
    f->c.encr_id = VPN_ENCR_AES_CBC;
    f->c.encr_key_bits = 128;
    f->c.encr_key_len = 16;
    f->c.integ_id = VPN_AUTH_HMAC_SHA2_256_128;
    f->c.integ_key = ik;
    f->c.integ_key_len = 32;
    f->c.iv_mode = VPN_SA_IV_COUNTER;
    assert_int_equal(vpn_sad_add(sad, &f->c, 0, &sa), VPN_ERR_CRYPTO);
    assert_int_equal(j.failed, 1);
    assert_null(sa);
    assert_int_equal(vpn_sad_count(sad), 0);
    assert_null(vpn_sad_find(sad, 0x7000, VPN_SA_OUT));
    assert_int_equal(vpn_sad_add(sad, &f->c, 0, &sa), 0);
    assert_int_equal(vpn_sad_count(sad), 1);
    assert_ptr_equal(vpn_sad_find(sad, 0x7000, VPN_SA_OUT), sa);
    vpn_sad_del(sad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_handles_are_stable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_find_by_spi_and_direction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shared_spi_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_scattered_removals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals_leave_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_with_params, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadline_heap_thousands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alloc_sweep, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rng_failure, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
