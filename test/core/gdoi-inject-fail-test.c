/*
 * Injected failures in the GDOI key server: a failing RNG and a failing
 * allocator (the KS's vpn_alloc gate), the k-th call failing, for every k
 * that two registrations, a rekey with a new KEK and the timer's next rekey
 * reach, the members' IKEv1 phase 1 inside the KS included. After each run: a failure inside the KS was counted
 * (internal_errors, and rekey_failures for a rekey), reported through
 * cfg.error_event, shown by `show crypto gdoi`, or returned by the call
 * that hit it; and the group heals: once the members' retries and the
 * KS's timer have run, every member is registered with the KS's current
 * TEK, KEK and SEQ, and traffic passes between them. The ASan twin checks
 * that nothing leaks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdoi-net.h"
#include "pkt-build.h"
#include "test-util.h"

#include "common/alloc.h"
#include "common/rng.h"
#include "common/vpn-err.h"
#include "crypto/crypto-ids.h"
#include "gdoi/gdoi.h"
#include "show/show-gdoi.h"

#define NS 1000000000ull
#define NGM 2
#define QCAP 64
#define DG_MAX 4096

typedef struct inject {
    unsigned calls, fail_at, failed;
} inject;

static bool inject_hit(inject *j)
{
    j->calls++;
    if (j->fail_at != 0 && j->calls == j->fail_at) {
        j->failed++;
        return true;
    }
    return false;
}

typedef struct net {
    vpn_drbg drbg, gm_drbg;
    vpn_rng inner, rng, gm_rng;
    inject rng_j, alloc_j;
    inject gm_alloc_j; /* member 0's gate (its phase 1 included) */
    inject gm_rng_j;   /* member 0's RNG (its phase 1 included; not its SAD's) */
    vpn_rng gm0_rng;   /* that RNG: gm_rng behind gm_rng_j */
    unsigned gm_events[VPN_GDOI_GM_EV_COUNT]; /* member 0's, by kind */
    vpn_sig_key *rsa;
    vpn_gdoi_ks *ks;
    vpn_gdoi_gm *gm[NGM];
    vpn_sad *sad[NGM];
    vpn_spd *spd[NGM];
    vpn_addr ks_addr, gm_addr[NGM];
    tu_gdoi_wire w;
    uint64_t now;
    unsigned error_events, api_errors;
    unsigned absorbed; /* ikev1's warnings: a copy for retransmission not kept */
    vpn_log log;
} net;

static int fail_fill(void *ctx, uint8_t *out, size_t len)
{
    net *n = ctx;
    if (inject_hit(&n->rng_j)) {
        memset(out, 0, len);
        return VPN_ERR_CRYPTO;
    }
    return vpn_rng_bytes(&n->inner, out, len);
}

static int gm_fail_fill(void *ctx, uint8_t *out, size_t len)
{
    net *n = ctx;
    if (inject_hit(&n->gm_rng_j)) {
        memset(out, 0, len);
        return VPN_ERR_CRYPTO;
    }
    return vpn_rng_bytes(&n->gm_rng, out, len);
}

static void on_gm_event(void *user, const vpn_gdoi_gm_event *ev)
{
    net *n = user;
    assert_true(ev->kind >= 0 && ev->kind < VPN_GDOI_GM_EV_COUNT);
    assert_true(ev->err < 0);
    n->gm_events[ev->kind]++;
}

static bool fail_alloc(void *user, size_t size)
{
    (void)size;
    return !inject_hit(user);
}

static void on_error(void *user, int err, const char *detail)
{
    net *n = user;
    assert_true(err < 0);
    assert_non_null(strstr(detail, "internal error in "));
    n->error_events++;
}

static void on_log(void *user, vpn_log_level level, const char *engine, const char *msg)
{
    net *n = user;
    if (level == VPN_LOG_WARN && strcmp(engine, "ikev1") == 0 && strstr(msg, "out of memory keeping"))
        n->absorbed++;
}

static void on_send(void *user, const vpn_addr *src, const vpn_addr *dst, const uint8_t *dg,
                    size_t len, const uint8_t *view, size_t view_len)
{
    net *n = user;
    tu_gdoi_wire_send(&n->w, src, dst, dg, len, view, view_len);
}

static void deliver(void *user, const tu_gdoi_dgram *d)
{
    net *n = user;
    if (vpn_addr_eq(&d->dst, &n->ks_addr)) {
        int rc = vpn_gdoi_ks_input(n->ks, &d->src, d->b, d->len, n->now);
        if (rc == VPN_ERR_NOMEM || rc == VPN_ERR_CRYPTO)
            n->api_errors++;
        return;
    }
    for (unsigned i = 0; i < NGM; i++)
        if (vpn_addr_eq(&d->dst, &n->gm_addr[i]))
            vpn_gdoi_gm_input(n->gm[i], d->b, d->len, n->now);
}

static uint64_t deadline(void *user)
{
    net *n = user;
    return tu_gdoi_deadline(n->ks, n->gm, NGM);
}

static void tick(void *user, uint64_t now)
{
    net *n = user;
    tu_gdoi_tick(n->ks, n->gm, NGM, now);
}

static vpn_sig_key *g_rsa; /* one key for every run (RSA generation is slow) */

enum { KIND_RNG, KIND_ALLOC, KIND_GM_ALLOC, KIND_GM_RNG };

/* Member 0 as tu_gdoi_member makes it, but behind n->gm_alloc_j and
 * n->gm_rng_j (its SAD keeps the plain RNG: ESP's IVs are not the
 * member's), reporting its events and logging into n->log. Its SAD's SAs
 * and its SPD are behind the same gate, as a GET VPN node makes them
 * (vpn_getvpn_node_new). */
static void gated_member(net *n)
{
    vpn_gdoi_gm_cfg gc;
    vpn_alloc a = {fail_alloc, &n->gm_alloc_j};

    n->gm_addr[0] = tu_addr("198.51.100.11");
    assert_int_equal(vpn_sad_new(&n->sad[0], &n->gm_rng), 0);
    vpn_sad_set_alloc(n->sad[0], &a);
    assert_int_equal(vpn_spd_new_a(&a, &n->spd[0], VPN_SPD_BYPASS), 0);
    memset(&gc, 0, sizeof gc);
    gc.name = "GETVPN";
    gc.group_id = 1234;
    gc.local = n->gm_addr[0];
    gc.ks = n->ks_addr;
    gc.ike.psk = (const uint8_t *)"gdoi-psk";
    gc.ike.psk_len = 8;
    gc.sad = n->sad[0];
    gc.spd = n->spd[0];
    gc.spd_seq = 10;
    gc.alloc.allow = fail_alloc;
    gc.alloc.user = &n->gm_alloc_j;
    gc.event = on_gm_event;
    gc.event_user = n;
    n->gm0_rng.fill = gm_fail_fill;
    n->gm0_rng.ctx = n;
    assert_int_equal(vpn_gdoi_gm_new(&n->gm[0], &gc, &n->gm0_rng, &n->log, on_send, n), 0);
}

static void net_init(net *n, int kind, unsigned k)
{
    vpn_gdoi_ks_cfg kc;

    memset(n, 0, sizeof *n);
    tu_gdoi_wire_init(&n->w, QCAP, DG_MAX, &n->now, n);
    n->w.deliver = deliver;
    n->w.deadline = deadline;
    n->w.tick = tick;
    vpn_drbg_init(&n->drbg, "gdoi-inject-ks", 14);
    vpn_rng_init_drbg(&n->inner, &n->drbg);
    n->rng.fill = fail_fill;
    n->rng.ctx = n;
    vpn_drbg_init(&n->gm_drbg, "gdoi-inject-gm", 14);
    vpn_rng_init_drbg(&n->gm_rng, &n->gm_drbg);
    n->ks_addr = tu_addr("192.0.2.1");
    n->now = 5 * NS;

    tu_gdoi_ks_cfg_std(&kc, &n->ks_addr, g_rsa);
    kc.alloc.allow = fail_alloc;
    kc.alloc.user = &n->alloc_j;
    kc.error_event = on_error;
    /* creation is not what the injection aims at */
    n->log.fn = on_log;
    n->log.user = n;
    n->log.max = VPN_LOG_WARN;
    assert_int_equal(vpn_gdoi_ks_new(&n->ks, &kc, &n->rng, &n->log, on_send, n, n->now), 0);
    n->rng_j.calls = n->alloc_j.calls = 0;
    if (kind == KIND_RNG)
        n->rng_j.fail_at = k;
    else if (kind == KIND_ALLOC)
        n->alloc_j.fail_at = k;
    for (unsigned i = 0; i < NGM; i++)
        if (i == 0 && (kind == KIND_GM_ALLOC || kind == KIND_GM_RNG))
            gated_member(n);
        else
            tu_gdoi_member(i, &n->ks_addr, NULL, 0, &n->gm_rng, on_send, n, &n->gm_addr[i], &n->gm[i],
                           &n->sad[i], &n->spd[i]);
    if (kind == KIND_GM_ALLOC) {
        /* creation is not what the injection aims at */
        n->gm_alloc_j.calls = 0;
        n->gm_alloc_j.fail_at = k;
    }
    if (kind == KIND_GM_RNG) {
        n->gm_rng_j.calls = 0;
        n->gm_rng_j.fail_at = k;
    }
}

static void net_free(net *n)
{
    vpn_gdoi_ks_del(n->ks);
    tu_gdoi_members_free(n->gm, n->sad, n->spd, NGM);
    vpn_drbg_free(&n->drbg);
    vpn_drbg_free(&n->gm_drbg);
    tu_gdoi_wire_free(&n->w);
}

/* One run; returns the calls of that kind the KS made. */
static unsigned run_once(int kind, unsigned k)
{
    net *n = calloc(1, sizeof *n);
    const vpn_gdoi_ks_stats *st;
    unsigned calls, failed;
    int rc;

    assert_non_null(n);
    if (getenv("VPN_TEST_INJECT"))
        fprintf(stderr, "run: %s call %u of the %s fails\n",
                kind == KIND_RNG || kind == KIND_GM_RNG ? "RNG" : "allocator", k,
                kind == KIND_GM_ALLOC || kind == KIND_GM_RNG ? "member" : "KS");
    net_init(n, kind, k);
    for (unsigned i = 0; i < NGM; i++) {
        rc = vpn_gdoi_gm_start(n->gm[i], n->now);
        if (rc != 0 && i == 0 && (kind == KIND_GM_ALLOC || kind == KIND_GM_RNG)) {
            /* returned to the caller, which tries again */
            assert_int_equal(rc, kind == KIND_GM_ALLOC ? VPN_ERR_NOMEM : VPN_ERR_CRYPTO);
            n->api_errors++;
            rc = vpn_gdoi_gm_start(n->gm[i], n->now);
        }
        assert_int_equal(rc, 0);
    }
    tu_gdoi_pump(&n->w);
    tu_gdoi_run_until(&n->w, n->now + 60 * NS, 0);
    /* a rekey with a new KEK, from the CLI */
    rc = vpn_gdoi_ks_rekey(n->ks, true, n->now);
    if (rc != 0) {
        assert_true(rc == VPN_ERR_NOMEM || rc == VPN_ERR_CRYPTO);
        n->api_errors++;
    }
    tu_gdoi_pump(&n->w);
    /* past the timer's rekey (lifetime 600 s, lead 120 s) and the members'
     * re-registrations */
    tu_gdoi_run_until(&n->w, n->now + 900 * NS, 0);

    st = vpn_gdoi_ks_get_stats(n->ks);
    failed = kind == KIND_RNG ? n->rng_j.failed : kind == KIND_ALLOC ? n->alloc_j.failed : 0;
    if ((kind == KIND_GM_ALLOC && n->gm_alloc_j.failed) ||
        (kind == KIND_GM_RNG && n->gm_rng_j.failed)) {
        /* the member's failure: counted in its stats, returned, or absorbed
         * (logged by its phase 1); the KS saw nothing wrong of its own */
        assert_true(vpn_gdoi_gm_get_stats(n->gm[0])->internal_errors > 0 || n->api_errors > 0 ||
                    n->absorbed > 0);
        if (vpn_gdoi_gm_get_stats(n->gm[0])->internal_errors > 0) {
            /* `show crypto gdoi` on the member says so */
            vpn_show_buf b;
            static char out[8192];
            vpn_show_init(&b, out, sizeof out);
            assert_int_equal(vpn_show_gdoi_gm(n->gm[0], n->now, &b), 0);
            assert_non_null(strstr(out, "Internal errors       : "));
        }
    }
    /* every counted internal error was reported, and only those */
    assert_int_equal(n->error_events, st->internal_errors);
    if (failed) {
        /* never silent: counted, returned, or absorbed (a phase-1
         * retransmission copy not kept, logged by ikev1) with the group
         * healed all the same (checked below) */
        assert_true(st->internal_errors > 0 || n->api_errors > 0 || n->absorbed > 0);
    } else {
        assert_int_equal(st->internal_errors, 0);
        assert_int_equal(st->rekey_failures, 0);
    }
    if (st->rekey_failures) {
        /* `show crypto gdoi` says so */
        vpn_show_buf b;
        static char out[8192];
        vpn_show_init(&b, out, sizeof out);
        assert_int_equal(vpn_show_gdoi_ks(n->ks, n->now, &b), 0);
        assert_non_null(strstr(out, "Rekeys failed            : "));
    }
    /* healed: every member holds the KS's current keys; traffic passes */
    for (unsigned i = 0; i < NGM; i++)
        tu_gdoi_assert_member(n->gm[i], n->ks);
    assert_int_equal(tu_gdoi_send_between(n->spd[0], n->sad[1], n->now, 0, 7,
                                          vpn_gdoi_gm_tek(n->gm[0])),
                     0);
    if (kind == KIND_GM_ALLOC || kind == KIND_GM_RNG) {
        /* every internal error member 0 counted was reported as an event */
        const vpn_gdoi_gm_stats *gs = vpn_gdoi_gm_get_stats(n->gm[0]);
        assert_int_equal(n->gm_events[VPN_GDOI_GM_EV_INTERNAL], gs->internal_errors);
        assert_int_equal(n->gm_events[VPN_GDOI_GM_EV_MALFORMED], gs->malformed);
        assert_int_equal(n->gm_events[VPN_GDOI_GM_EV_REKEY_REFUSED], gs->rekeys_rejected);
    }
    calls = kind == KIND_RNG        ? n->rng_j.calls
            : kind == KIND_ALLOC    ? n->alloc_j.calls
            : kind == KIND_GM_ALLOC ? n->gm_alloc_j.calls
                                    : n->gm_rng_j.calls;
    net_free(n);
    free(n);
    return calls;
}

static void sweep(int kind)
{
    unsigned total = run_once(kind, 0);
    assert_true(total > 0);
    for (unsigned k = 1; k <= total; k++)
        run_once(kind, k);
    if (getenv("VPN_TEST_LOG"))
        fprintf(stderr, "kind %d: %u calls swept\n", kind, total);
}

static void test_ks_rng(void **state)
{
    (void)state;
    sweep(KIND_RNG);
}

static void test_ks_alloc(void **state)
{
    (void)state;
    sweep(KIND_ALLOC);
}

/* Member 0's allocations (its registration, phase 1, rekeys) fail one by
 * one; the member comes back onto the current keys every time. */
static void test_gm_alloc(void **state)
{
    (void)state;
    sweep(KIND_GM_ALLOC);
}

/* Member 0's RNG draws (its phase 1's cookies, DH and nonces, the PULL's
 * message id and nonce, in its registration and its re-registrations
 * after the rekeys) fail one by one: the failure is returned or counted
 * and reported as an internal-error event, nothing leaks (the ASan twin),
 * and the member's next attempt brings it back onto the KS's keys. */
static void test_gm_rng(void **state)
{
    (void)state;
    sweep(KIND_GM_RNG);
}

/* A group of NGM members registered with the KS (10 s), its failure
 * injection of KIND armed but not yet fired. */
static net *registered_net(int kind)
{
    net *n = calloc(1, sizeof *n);
    assert_non_null(n);
    net_init(n, kind, 0);
    for (unsigned i = 0; i < NGM; i++)
        assert_int_equal(vpn_gdoi_gm_start(n->gm[i], n->now), 0);
    tu_gdoi_run_until(&n->w, n->now + 10 * NS, 0);
    return n;
}

/* The KS's rekey failed cleanly: counted once as a rekey failure and an
 * internal error, one event, the TEK it had kept. */
static void assert_rekey_failed(net *n, uint32_t spi)
{
    const vpn_gdoi_ks_stats *st = vpn_gdoi_ks_get_stats(n->ks);
    assert_int_equal(st->rekey_failures, 1);
    assert_int_equal(st->internal_errors, 1);
    assert_int_equal(n->error_events, 1);
    assert_int_equal(vpn_gdoi_ks_tek_spi(n->ks), spi);
}

/* A rekey that fails for want of randomness is counted, reported, shown, and
 * changes nothing the members hold. */
static void test_rekey_failure_reported(void **state)
{
    (void)state;
    net *n = registered_net(KIND_RNG);
    uint32_t spi;

    spi = vpn_gdoi_ks_tek_spi(n->ks);
    n->rng_j.fail_at = n->rng_j.calls + 1; /* the rekey's first draw */
    assert_int_equal(vpn_gdoi_ks_rekey(n->ks, false, n->now), VPN_ERR_CRYPTO);
    assert_rekey_failed(n, spi);
    for (unsigned i = 0; i < NGM; i++)
        tu_gdoi_assert_member(n->gm[i], n->ks);
    {
        vpn_show_buf b;
        static char out[8192];
        vpn_show_init(&b, out, sizeof out);
        assert_int_equal(vpn_show_gdoi_ks(n->ks, n->now, &b), 0);
        assert_non_null(strstr(out, "Rekeys failed            : 1 (internal errors 1)\n"));
    }
    net_free(n);
    free(n);
}


/* A rekey whose KEK encryption finds no memory (the KS's gate refuses the
 * cipher context) is counted, reported, shown, and changes nothing the
 * members hold; the next rekey reaches them. */
static void test_rekey_refused_by_gate(void **state)
{
    (void)state;
    net *n = registered_net(KIND_ALLOC);
    uint32_t spi;

    spi = vpn_gdoi_ks_tek_spi(n->ks);
    n->alloc_j.fail_at = n->alloc_j.calls + 1; /* the rekey's first allocation */
    assert_int_equal(vpn_gdoi_ks_rekey(n->ks, true, n->now), VPN_ERR_NOMEM);
    assert_int_equal(n->alloc_j.failed, 1);
    assert_rekey_failed(n, spi);
    tu_gdoi_pump(&n->w);
    for (unsigned i = 0; i < NGM; i++)
        tu_gdoi_assert_member(n->gm[i], n->ks);
    assert_int_equal(vpn_gdoi_ks_rekey(n->ks, true, n->now), 0);
    tu_gdoi_pump(&n->w);
    assert_int_not_equal(vpn_gdoi_ks_tek_spi(n->ks), spi);
    for (unsigned i = 0; i < NGM; i++)
        tu_gdoi_assert_member(n->gm[i], n->ks);
    net_free(n);
    free(n);
}

/* A member that finds no memory to decrypt a rekey (its gate refuses the
 * KEK cipher context) reports an internal error, not a foreign KEK, keeps
 * its keys, and takes the KS's retransmission. */
static void test_gm_rekey_refused_by_gate(void **state)
{
    (void)state;
    net *n = registered_net(KIND_GM_ALLOC);
    const vpn_gdoi_gm_stats *gs;
    uint64_t acks, acks_sent;
    uint32_t spi;

    tu_gdoi_assert_member(n->gm[0], n->ks);
    spi = vpn_gdoi_ks_tek_spi(n->ks);
    /* its SAD off the gate: the first allocation the rekey asks for is the
     * KEK cipher's (the ack's comes after the new TEK is in) */
    vpn_sad_set_alloc(n->sad[0], NULL);
    n->gm_alloc_j.fail_at = n->gm_alloc_j.calls + 1;
    assert_int_equal(vpn_gdoi_ks_rekey(n->ks, false, n->now), 0);
    tu_gdoi_pump(&n->w);
    assert_int_equal(n->gm_alloc_j.failed, 1);
    gs = vpn_gdoi_gm_get_stats(n->gm[0]);
    assert_int_equal(gs->internal_errors, 1);
    assert_int_equal(gs->bad_kek, 0);
    assert_int_equal(n->gm_events[VPN_GDOI_GM_EV_INTERNAL], 1);
    assert_int_equal(n->gm_events[VPN_GDOI_GM_EV_BAD_KEK], 0);
    assert_int_equal(vpn_sa_get_config(vpn_gdoi_gm_tek(n->gm[0]))->spi, spi);
    tu_gdoi_assert_member(n->gm[1], n->ks);
    /* the unacknowledged rekey comes again */
    tu_gdoi_run_until(&n->w, n->now + 60 * NS, 0);
    for (unsigned i = 0; i < NGM; i++)
        tu_gdoi_assert_member(n->gm[i], n->ks);
    assert_int_equal(vpn_gdoi_gm_get_stats(n->gm[0])->internal_errors, 1);
    acks_sent = vpn_gdoi_gm_get_stats(n->gm[0])->acks_sent;
    /* the next rekey is taken, its acknowledgement finds no memory (the
     * second allocation): reported, and the KS's retransmission is
     * acknowledged */
    n->gm_alloc_j.fail_at = n->gm_alloc_j.calls + 2;
    assert_int_equal(vpn_gdoi_ks_rekey(n->ks, false, n->now), 0);
    tu_gdoi_pump(&n->w);
    assert_int_equal(n->gm_alloc_j.failed, 2);
    tu_gdoi_assert_member(n->gm[0], n->ks);
    assert_int_equal(vpn_gdoi_gm_get_stats(n->gm[0])->internal_errors, 2);
    assert_int_equal(n->gm_events[VPN_GDOI_GM_EV_INTERNAL], 2);
    acks = vpn_gdoi_ks_get_stats(n->ks)->acks;
    assert_int_equal(vpn_gdoi_gm_get_stats(n->gm[0])->acks_sent, acks_sent);
    tu_gdoi_run_until(&n->w, n->now + 60 * NS, 0);
    /* it acknowledged the retransmission */
    assert_true(vpn_gdoi_gm_get_stats(n->gm[0])->acks_sent > acks_sent);
    assert_true(vpn_gdoi_ks_get_stats(n->ks)->acks > acks);
    for (unsigned i = 0; i < NGM; i++)
        tu_gdoi_assert_member(n->gm[i], n->ks);
    net_free(n);
    free(n);
}

static int setup(void **state)
{
    (void)state;
    g_rsa = tu_gdoi_rsa_key();
    return g_rsa ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    vpn_sig_key_del(g_rsa);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rekey_failure_reported),
        cmocka_unit_test(test_rekey_refused_by_gate),
        cmocka_unit_test(test_gm_rekey_refused_by_gate),
        cmocka_unit_test(test_ks_rng),
        cmocka_unit_test(test_ks_alloc),
        cmocka_unit_test(test_gm_alloc),
        cmocka_unit_test(test_gm_rng),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
