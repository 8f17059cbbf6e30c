/*
 * Injected failures in the IKEv2 engine: a failing RNG and a failing
 * allocator (the per-context vpn_alloc gate), the k-th call failing, for
 * every k the exchange reaches, on either peer. The exchange: IKE_SA_INIT,
 * IKE_AUTH with the first CHILD_SA, a CHILD_SA rekey (from R1) and an IKE
 * SA rekey (from R2); and remote access: IKE_AUTH with EAP-MSCHAPv2 against
 * a hub's local user database, the CP reply with a pool address and the
 * first CHILD_SA (RFC 7296 2.16, 3.15), so the EAP response builders fail
 * too. After each run, on each peer: every IKE SA left is
 * established and was reported up; every SA reported up and gone was
 * reported down; every FAILED / IKE_DOWN / CHILD_DOWN has a reason; a
 * failure that happened inside the engine was counted
 * (stats.internal_errors) and reported with reason INTERNAL, or returned by
 * the call that hit it. The ASan twin checks that nothing leaks.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "ikev2-pair.h"
#include "engine-params.h"

/* ---- the failing RNG and allocator ---------------------------------------------- */

typedef struct inject {
    unsigned calls;   /* calls seen */
    unsigned fail_at; /* fail this call (1-based); 0: never */
    bool onward;      /* and every call after it (memory exhausted) */
    unsigned failed;  /* failures injected */
} inject;

static bool inject_hit(inject *j)
{
    j->calls++;
    if (j->fail_at != 0 && (j->calls == j->fail_at || (j->onward && j->calls > j->fail_at))) {
        j->failed++;
        if (getenv("VPN_TEST_INJECT_TRAP")) /* to find the call site under a debugger */
            raise(SIGTRAP);
        return true;
    }
    return false;
}

typedef struct fail_rng {
    vpn_rng inner;
    inject j;
} fail_rng;

static int fail_rng_fill(void *ctx, uint8_t *out, size_t len)
{
    fail_rng *r = ctx;
    if (inject_hit(&r->j)) {
        memset(out, 0, len);
        return VPN_ERR_CRYPTO;
    }
    return vpn_rng_bytes(&r->inner, out, len);
}

static bool fail_alloc(void *user, size_t size)
{
    (void)size;
    return !inject_hit(user);
}

typedef struct world {
    tp_net net;
    fail_rng rng[2];
    inject alloc[2];
    int api_errors[2]; /* calls into the engine that returned an error */
} world;

/* Remote access (as in ikev2-eap-engine): node 0 a client with
 * `authentication local eap`, node 1 a hub with a user database and a pool. */
static const char hub_conf[] =
    TU_RA_HUB_AAA
    TU_RA_HUB_POOL_SPLIT
    TU_RA_IKE_PROPOSAL
    TU_RA_HUB_PROFILE
    TU_RA_IPSEC_PROFILE;

static const char client_conf[] =
    TU_RA_CLIENT_HEAD
    " identity local fqdn alice.example\n"
    " authentication remote pre-share key hubkey\n"
    " authentication local eap mschapv2 username alice password Secr3t!\n"
    TU_RA_IPSEC_PROFILE;

static vpn_ikev2_policy ra_policy(bool hub)
{
    return hub ? ts_policy("10.1.0.0/16", "0.0.0.0/0", 0, 9) : ts_policy("0.0.0.0/0", "10.1.0.0/16", 0, 7);
}

static void add_node_policy(world *w, const char *text, const char *addr, const char *name,
                            const vpn_ikev2_policy *pol)
{
    int i = w->net.n_nodes;
    vpn_ikev2_params p;
    tp_node *nd = tp_prepare(&w->net, text, addr, name, &p);

    w->rng[i].inner = p.rng; /* the node's DRBG, behind the failing gate */
    p.rng.fill = fail_rng_fill;
    p.rng.ctx = &w->rng[i];
    p.alloc.allow = fail_alloc;
    p.alloc.user = &w->alloc[i];
    /* creation itself is not where the injection aims: allow it */
    unsigned rs = w->rng[i].j.fail_at, as = w->alloc[i].fail_at;
    w->rng[i].j.fail_at = w->alloc[i].fail_at = 0;
    assert_int_equal(vpn_ikev2_ctx_new(&nd->ctx, &p), 0);
    if (pol != NULL)
        assert_int_equal(vpn_ikev2_policy_add(nd->ctx, pol), 0);
    w->rng[i].j.fail_at = rs;
    w->alloc[i].fail_at = as;
    w->rng[i].j.calls = w->alloc[i].calls = 0;
}

static void add_node(world *w, const char *text, const char *addr, const char *name)
{
    add_node_policy(w, text, addr, name, NULL);
}

static void note(world *w, int node, int rc)
{
    if (rc == 0)
        return;
    /* only local failures may come back */
    assert_true(rc == VPN_ERR_NOMEM || rc == VPN_ERR_CRYPTO);
    w->api_errors[node]++;
}

/* tp_pump, except that a datagram the receiver could not take for want of
 * memory is an answer too. */
static void pump(world *w)
{
    tp_net *n = &w->net;
    for (int guard = 0; n->n_queue; guard++) {
        tp_dgram *d = n->queue[0];
        tp_node *dst;
        assert_true(guard < 10000);
        memmove(&n->queue[0], &n->queue[1], (n->n_queue - 1) * sizeof n->queue[0]);
        n->n_queue--;
        dst = tp_node_of(n, &d->dst.addr);
        if (dst != NULL)
            note(w, dst->idx, vpn_ikev2_input(dst->ctx, n->now, &d->dst, &d->src, d->data, d->len));
        free(d);
    }
}

static void run_for(world *w, uint64_t secs)
{
    tp_net *n = &w->net;
    uint64_t until = n->now + secs * TP_NS;
    for (int guard = 0; guard < 100000; guard++) {
        uint64_t t;
        pump(w);
        t = tp_deadline(n);
        if (t > until)
            break;
        if (t > n->now)
            n->now = t;
        for (int i = 0; i < n->n_nodes; i++)
            assert_int_equal(vpn_ikev2_timeout(n->node[i].ctx, n->now), 0);
    }
    pump(w);
    n->now = until;
}

static uint32_t first_sa(const tp_node *nd, bool established)
{
    vpn_ikev2_sa_info si;
    for (size_t i = 0; vpn_ikev2_sa_get(nd->ctx, i, &si) == 0; i++)
        if (!established || si.state == VPN_IKEV2_SA_ESTABLISHED)
            return si.id;
    return 0;
}

static bool event_for(const tp_node *nd, vpn_ikev2_event_type t, uint32_t id)
{
    for (size_t i = 0; i < nd->n_ev; i++)
        if (nd->ev[i].type == t && (nd->ev[i].ike_sa_id == id || (t == VPN_IKEV2_EV_IKE_REKEYED &&
                                                                  nd->ev[i].old_id == id)))
            return true;
    return false;
}

static bool child_event(const tp_node *nd, vpn_ikev2_event_type t, uint32_t child_id)
{
    for (size_t i = 0; i < nd->n_ev; i++)
        if (nd->ev[i].type == t && nd->ev[i].has_child && nd->ev[i].child.id == child_id)
            return true;
    return false;
}

/* An SA said to be deleting has its Delete (or the requests it waits
 * for) in flight, or queued. */
static void deleting_has_request(const tp_node *nd)
{
    vpn_ikev2_sa_info si;
    for (size_t i = 0; vpn_ikev2_sa_get(nd->ctx, i, &si) == 0; i++)
        if (si.state == VPN_IKEV2_SA_DELETING)
            assert_true(si.requests_in_flight + si.queued_requests > 0);
}

/* The invariants of one peer after a run. */
static void check_node(world *w, int idx, bool injected)
{
    tp_node *nd = &w->net.node[idx];
    vpn_ikev2_sa_info si;
    vpn_ikev2_stats st;
    size_t internal_events = 0;

    for (size_t i = 0; vpn_ikev2_sa_get(nd->ctx, i, &si) == 0; i++) {
        /* nothing is left negotiating, rekeying or deleting */
        assert_int_equal(si.state, VPN_IKEV2_SA_ESTABLISHED);
        assert_true(event_for(nd, VPN_IKEV2_EV_IKE_UP, si.id) ||
                    event_for(nd, VPN_IKEV2_EV_IKE_REKEYED, si.id));
        assert_false(event_for(nd, VPN_IKEV2_EV_IKE_DOWN, si.id));
        for (size_t c = 0; c < si.n_children; c++) {
            vpn_ikev2_child_state cs;
            assert_int_equal(vpn_ikev2_child_get(nd->ctx, si.id, c, &cs), 0);
            assert_true(child_event(nd, VPN_IKEV2_EV_CHILD_UP, cs.info.id));
            assert_false(child_event(nd, VPN_IKEV2_EV_CHILD_DOWN, cs.info.id));
        }
    }
    for (size_t i = 0; i < nd->n_ev; i++) {
        const tp_event *e = &nd->ev[i];
        if (e->type == VPN_IKEV2_EV_FAILED || e->type == VPN_IKEV2_EV_IKE_DOWN ||
            e->type == VPN_IKEV2_EV_CHILD_DOWN)
            assert_int_not_equal(e->reason, VPN_IKEV2_R_NONE);
        if (e->type == VPN_IKEV2_EV_IKE_UP && vpn_ikev2_sa_find(nd->ctx, e->ike_sa_id, &si) != 0)
            /* gone: said so (down, or replaced by a rekey) */
            assert_true(event_for(nd, VPN_IKEV2_EV_IKE_DOWN, e->ike_sa_id) ||
                        event_for(nd, VPN_IKEV2_EV_IKE_REKEYED, e->ike_sa_id));
        if (e->type == VPN_IKEV2_EV_CHILD_UP) {
            /* a CHILD_SA reported up is installed now or was reported down */
            bool live = false;
            for (size_t k = 0; vpn_ikev2_sa_get(nd->ctx, k, &si) == 0 && !live; k++)
                for (size_t c = 0; c < si.n_children && !live; c++) {
                    vpn_ikev2_child_state cs;
                    assert_int_equal(vpn_ikev2_child_get(nd->ctx, si.id, c, &cs), 0);
                    live = cs.info.id == e->child.id;
                }
            assert_true(live || child_event(nd, VPN_IKEV2_EV_CHILD_DOWN, e->child.id));
        }
        internal_events += e->reason == VPN_IKEV2_R_INTERNAL;
    }
    vpn_ikev2_stats_get(nd->ctx, &st);
    /* an event says INTERNAL only if an internal error was counted (an
     * error on an SA already reported gone, the old one of a rekey, is
     * counted and logged only) */
    if (internal_events)
        assert_true(st.internal_errors > 0);
    if (!injected)
        assert_int_equal(st.internal_errors, 0);
}

/* The outcome of the failure-free run: one IKE SA each side, rekeyed once,
 * its CHILD_SA rekeyed once. */
static bool baseline_outcome(const world *w)
{
    for (int i = 0; i < 2; i++) {
        const tp_node *nd = &w->net.node[i];
        if (vpn_ikev2_sa_count(nd->ctx) != 1 || tp_count_ev(nd, VPN_IKEV2_EV_IKE_REKEYED) != 1 ||
            tp_count_ev(nd, VPN_IKEV2_EV_CHILD_REKEYED) != 1 || tp_count_ev(nd, VPN_IKEV2_EV_FAILED) != 0 ||
            tp_count_ev(nd, VPN_IKEV2_EV_IKE_DOWN) != 0)
            return false;
    }
    return true;
}

/* The outcome of the failure-free remote-access run: the client's IKE SA
 * and CHILD_SA up on both sides, an address from the pool. */
static bool ra_baseline_outcome(const world *w)
{
    vpn_ikev2_sa_info si;
    for (int i = 0; i < 2; i++) {
        const tp_node *nd = &w->net.node[i];
        if (vpn_ikev2_sa_count(nd->ctx) != 1 || tp_count_ev(nd, VPN_IKEV2_EV_IKE_UP) != 1 ||
            tp_count_ev(nd, VPN_IKEV2_EV_CHILD_UP) != 1 || tp_count_ev(nd, VPN_IKEV2_EV_FAILED) != 0 ||
            tp_count_ev(nd, VPN_IKEV2_EV_IKE_DOWN) != 0)
            return false;
        if (vpn_ikev2_sa_get(nd->ctx, 0, &si) != 0 || si.assigned.family != VPN_AF_INET)
            return false;
    }
    return true;
}

enum { KIND_RNG, KIND_ALLOC };
enum { SCEN_SITE, SCEN_RA, SCEN_COLLIDE };

/*
 * One exchange with the k-th RNG or allocator call of node `node` failing
 * (k 0: none). Returns the number of calls of that kind the node made.
 */
static unsigned run_once_ra(int kind, int node, unsigned k, bool *established)
{
    world *w = calloc(1, sizeof *w);
    vpn_ikev2_policy hub = ra_policy(true), cl = ra_policy(false);
    unsigned calls;
    uint32_t id = 0;

    assert_non_null(w);
    if (getenv("VPN_TEST_INJECT"))
        fprintf(stderr, "run (remote access): %s call %u of node %d fails\n",
                kind == KIND_RNG ? "RNG" : "allocator", k, node);
    tp_init(&w->net);
    if (kind == KIND_RNG)
        w->rng[node].j.fail_at = k;
    else
        w->alloc[node].fail_at = k;
    add_node(w, client_conf, "192.0.2.1", "client");
    add_node_policy(w, hub_conf, "192.0.2.2", "hub", &hub);
    note(w, 0, vpn_ikev2_initiate(w->net.node[0].ctx, w->net.now, &w->net.node[0].ep, &w->net.node[1].ep,
                                  &cl, &id));
    /* long enough for every retransmission to give up */
    run_for(w, 200);

    bool injected = (kind == KIND_RNG ? w->rng[node].j.failed : w->alloc[node].failed) > 0;
    check_node(w, node, injected);
    check_node(w, 1 - node, false);
    if (k == 0) {
        assert_true(ra_baseline_outcome(w));
    } else if (injected) {
        vpn_ikev2_stats st;
        vpn_ikev2_stats_get(w->net.node[node].ctx, &st);
        assert_true(st.internal_errors > 0 || w->api_errors[node] > 0 || ra_baseline_outcome(w));
    }
    /* an SA gone on the hub gave its address back */
    if (vpn_ikev2_sa_count(w->net.node[1].ctx) == 0) {
        vpn_ikev2_pool_info pi;
        if (vpn_ikev2_pool_get(w->net.node[1].ctx, 0, &pi) == 0)
            assert_int_equal(pi.in_use, 0);
    }
    if (established)
        *established = first_sa(&w->net.node[0], true) != 0 && first_sa(&w->net.node[1], true) != 0;
    calls = kind == KIND_RNG ? w->rng[node].j.calls : w->alloc[node].calls;
    if (first_sa(&w->net.node[0], true) == 0) {
        /* state intact: with the failures over, the client tries again
         * and gets in, with an address (the hub's pools included) */
        vpn_ikev2_sa_info si;
        w->rng[node].j.fail_at = w->alloc[node].fail_at = 0;
        note(w, 0, vpn_ikev2_initiate(w->net.node[0].ctx, w->net.now, &w->net.node[0].ep,
                                      &w->net.node[1].ep, &cl, &id));
        run_for(w, 200);
        assert_int_equal(vpn_ikev2_sa_find(w->net.node[0].ctx, first_sa(&w->net.node[0], true), &si), 0);
        assert_int_equal(si.assigned.family, VPN_AF_INET);
        assert_int_equal(vpn_ikev2_sa_find(w->net.node[1].ctx, first_sa(&w->net.node[1], true), &si), 0);
        assert_int_equal(si.assigned.family, VPN_AF_INET);
        check_node(w, node, injected);
        check_node(w, 1 - node, false);
    }
    tp_free(&w->net);
    free(w);
    return calls;
}

/* The outcome of the failure-free collision run: one IKE SA each side with
 * one CHILD_SA, nothing failed; the CHILD_SA rekeys did cross (the side
 * that answered the losing one installed a pair the winner's Delete then
 * took: five CHILD_UP in all, four without a collision). */
static bool collide_baseline_outcome(const world *w)
{
    size_t ups = 0;
    for (int i = 0; i < 2; i++) {
        const tp_node *nd = &w->net.node[i];
        vpn_ikev2_sa_info si;
        if (vpn_ikev2_sa_count(nd->ctx) != 1 || vpn_ikev2_sa_get(nd->ctx, 0, &si) != 0 || si.n_children != 1 ||
            tp_count_ev(nd, VPN_IKEV2_EV_IKE_REKEYED) != 1 || tp_count_ev(nd, VPN_IKEV2_EV_FAILED) != 0 ||
            tp_count_ev(nd, VPN_IKEV2_EV_IKE_DOWN) != 0)
            return false;
        ups += tp_count_ev(nd, VPN_IKEV2_EV_CHILD_UP);
    }
    return ups == 5;
}

/*
 * One site-to-site run with the k-th RNG or allocator call of node `node`
 * failing (k 0: none): IKE_SA_INIT, IKE_AUTH, then either a CHILD_SA rekey
 * from R1 and an IKE SA rekey from R2, or (collide) both peers rekeying the
 * CHILD_SA at once and then both the IKE SA at once (RFC 7296 2.8.1,
 * 2.8.2: the records of the crossing exchanges are allocated then).
 */
static unsigned run_site(int kind, int node, unsigned k, bool *established, bool collide)
{
    world *w = calloc(1, sizeof *w);
    peer_conf a = conf_a(), b = conf_b();
    char *ta, *tb;
    unsigned calls;
    uint32_t id = 0;
    int rc;

    assert_non_null(w);
    if (getenv("VPN_TEST_INJECT"))
        fprintf(stderr, "run: %s call %u of node %d fails\n", kind == KIND_RNG ? "RNG" : "allocator", k,
                node);
    tp_init(&w->net);
    if (kind == KIND_RNG)
        w->rng[node].j.fail_at = k;
    else
        w->alloc[node].fail_at = k;
    ta = make_conf(&a);
    tb = make_conf(&b);
    add_node(w, ta, "192.0.2.1", "R1");
    add_node(w, tb, "192.0.2.2", "R2");
    free(ta);
    free(tb);

    /* IKE_SA_INIT + IKE_AUTH + first CHILD_SA */
    vpn_ikev2_policy pol = gre_policy("192.0.2.1", "192.0.2.2", 7);
    rc = vpn_ikev2_initiate(w->net.node[0].ctx, w->net.now, &w->net.node[0].ep, &w->net.node[1].ep, &pol,
                            &id);
    note(w, 0, rc);
    run_for(w, 10);

    /* CREATE_CHILD_SA: a CHILD_SA rekey from R1 (collide: from both, before
     * either hears the other) */
    for (int i = 0; i < (collide ? 2 : 1); i++) {
        uint32_t sa = first_sa(&w->net.node[i], true);
        vpn_ikev2_child_state cs;
        if (sa && vpn_ikev2_child_get(w->net.node[i].ctx, sa, 0, &cs) == 0) {
            rc = vpn_ikev2_child_rekey(w->net.node[i].ctx, w->net.now, cs.info.id);
            if (rc != VPN_ERR_STATE && rc != VPN_ERR_NOTFOUND)
                note(w, i, rc);
        }
    }
    run_for(w, 10);
    /* CREATE_CHILD_SA: an IKE SA rekey from R2 (collide: from both) */
    for (int i = collide ? 0 : 1; i < 2; i++) {
        uint32_t sa = first_sa(&w->net.node[i], true);
        if (sa) {
            rc = vpn_ikev2_ike_rekey(w->net.node[i].ctx, w->net.now, sa);
            if (rc != VPN_ERR_STATE && rc != VPN_ERR_NOTFOUND)
                note(w, i, rc);
        }
    }
    if (collide) {
        /* the crossing IKE rekeys settled, well before the winner's grace
         * for its redundant SA runs out (RFC 7296 2.8.2): no SA sits in
         * DELETING with no Delete in flight (a loser whose Delete could
         * not be sent) */
        run_for(w, 5);
        for (int i = 0; i < 2; i++)
            deleting_has_request(&w->net.node[i]);
    }
    /* long enough for every retransmission to give up (1+2+...+32 s) */
    run_for(w, collide ? 195 : 200);

    bool injected = (kind == KIND_RNG ? w->rng[node].j.failed : w->alloc[node].failed) > 0;
    check_node(w, node, injected);
    check_node(w, 1 - node, false);
    bool (*baseline)(const world *) = collide ? collide_baseline_outcome : baseline_outcome;
    if (k == 0) {
        /* the baseline: both sides up, one CHILD_SA each, after both rekeys */
        assert_true(baseline(w));
    } else if (injected) {
        /* a failure inside the engine is never silent: counted (and
         * reported), returned by the call that hit it, or truly absorbed
         * (an optional cache not made) with the outcome unchanged */
        vpn_ikev2_stats st;
        vpn_ikev2_stats_get(w->net.node[node].ctx, &st);
        assert_true(st.internal_errors > 0 || w->api_errors[node] > 0 || baseline(w));
    }
    if (established)
        *established = first_sa(&w->net.node[0], true) != 0 && first_sa(&w->net.node[1], true) != 0;
    calls = kind == KIND_RNG ? w->rng[node].j.calls : w->alloc[node].calls;
    tp_free(&w->net);
    free(w);
    return calls;
}

static unsigned run_once(int kind, int node, unsigned k, bool *established)
{
    return run_site(kind, node, k, established, false);
}

static unsigned run_once_collide(int kind, int node, unsigned k, bool *established)
{
    return run_site(kind, node, k, established, true);
}

static void sweep_kind_in(int scen, int kind, int node)
{
    unsigned total, up = 0, only = 0;
    const char *o = getenv("VPN_TEST_INJECT_ONLY"); /* "kind,node,k" to rerun one case */
    int ok, on;
    if (o && sscanf(o, "%d,%d,%u", &ok, &on, &only) == 3 && (ok != kind || on != node))
        return;
    unsigned (*run)(int, int, unsigned, bool *) = scen == SCEN_RA        ? run_once_ra
                                                  : scen == SCEN_COLLIDE ? run_once_collide
                                                                         : run_once;
    total = only ? only : run(kind, node, 0, NULL);
    assert_true(total > 0);
    for (unsigned k = only ? only : 1; k <= total; k++) {
        bool est = false;
        run(kind, node, k, &est);
        up += est;
    }
    if (getenv("VPN_TEST_LOG"))
        fprintf(stderr, "%s kind %d node %d: %u calls, %u runs ended established\n",
                scen == SCEN_RA ? "remote access" : scen == SCEN_COLLIDE ? "collision" : "site", kind, node,
                total, up);
}

static void sweep_kind(int kind, int node)
{
    sweep_kind_in(SCEN_SITE, kind, node);
}

/* Remote access: node 0 the EAP client, node 1 the hub (EAP server, CP). */
static void test_ra_rng_client(void **state)
{
    (void)state;
    sweep_kind_in(SCEN_RA, KIND_RNG, 0);
}

static void test_ra_rng_hub(void **state)
{
    (void)state;
    sweep_kind_in(SCEN_RA, KIND_RNG, 1);
}

static void test_ra_alloc_client(void **state)
{
    (void)state;
    sweep_kind_in(SCEN_RA, KIND_ALLOC, 0);
}

static void test_ra_alloc_hub(void **state)
{
    (void)state;
    sweep_kind_in(SCEN_RA, KIND_ALLOC, 1);
}

static void test_rng_initiator(void **state)
{
    (void)state;
    sweep_kind(KIND_RNG, 0);
}

static void test_rng_responder(void **state)
{
    (void)state;
    sweep_kind(KIND_RNG, 1);
}

static void test_alloc_initiator(void **state)
{
    (void)state;
    sweep_kind(KIND_ALLOC, 0);
}

static void test_alloc_responder(void **state)
{
    (void)state;
    sweep_kind(KIND_ALLOC, 1);
}

/* Both peers rekeying the CHILD_SA, then the IKE SA, at once (the
 * collision records of RFC 7296 2.8.1 / 2.8.2 are allocated then). */
static void test_collide_rng_r1(void **state)
{
    (void)state;
    sweep_kind_in(SCEN_COLLIDE, KIND_RNG, 0);
}

static void test_collide_rng_r2(void **state)
{
    (void)state;
    sweep_kind_in(SCEN_COLLIDE, KIND_RNG, 1);
}

static void test_collide_alloc_r1(void **state)
{
    (void)state;
    sweep_kind_in(SCEN_COLLIDE, KIND_ALLOC, 0);
}

static void test_collide_alloc_r2(void **state)
{
    (void)state;
    sweep_kind_in(SCEN_COLLIDE, KIND_ALLOC, 1);
}

/* The counter shows in `show crypto ikev2 stats` terms: an injected RNG
 * failure in the responder's IKE_SA_INIT is one internal error, one FAILED
 * event with reason INTERNAL naming where, and no SA left behind. */
static void test_responder_init_rng_failure_reported(void **state)
{
    (void)state;
    world *w = calloc(1, sizeof *w);
    peer_conf a = conf_a(), b = conf_b();
    char *ta = make_conf(&a), *tb = make_conf(&b);
    vpn_ikev2_stats st;
    uint32_t id;

    assert_non_null(w);
    tp_init(&w->net);
    w->rng[1].j.fail_at = 1; /* R2's first draw: its SPI for R1's IKE_SA_INIT */
    add_node(w, ta, "192.0.2.1", "R1");
    add_node(w, tb, "192.0.2.2", "R2");
    free(ta);
    free(tb);
    vpn_ikev2_policy pol = gre_policy("192.0.2.1", "192.0.2.2", 7);
    assert_int_equal(vpn_ikev2_initiate(w->net.node[0].ctx, w->net.now, &w->net.node[0].ep,
                                        &w->net.node[1].ep, &pol, &id),
                     0);
    pump(w);
    vpn_ikev2_stats_get(w->net.node[1].ctx, &st);
    assert_int_equal(st.internal_errors, 1);
    assert_int_equal(tp_count_ev(&w->net.node[1], VPN_IKEV2_EV_FAILED), 1);
    int e = tp_find_ev(&w->net.node[1], VPN_IKEV2_EV_FAILED, 0);
    assert_int_equal(w->net.node[1].ev[e].reason, VPN_IKEV2_R_INTERNAL);
    assert_true(w->net.node[1].log.errors >= 1); /* logged as an error */
    /* R1 retransmits; R2 answers this time and the SA comes up */
    run_for(w, 10);
    assert_int_equal(tp_count_ev(&w->net.node[0], VPN_IKEV2_EV_IKE_UP), 1);
    assert_int_equal(tp_count_ev(&w->net.node[1], VPN_IKEV2_EV_IKE_UP), 1);
    check_node(w, 1, true);
    check_node(w, 0, false);
    tp_free(&w->net);
    free(w);
}

/* The SA ids a node's driver has heard of: ids[0] given, then each
 * IKE_REKEYED's new SA. Every event from `from` on must name one of them
 * when it comes, or none (0: a datagram no SA took). */
static void events_name_known_sas(const tp_node *nd, size_t from, uint32_t known)
{
    uint32_t ids[TP_MAX_EVENTS + 1];
    size_t n_ids = 0;

    ids[n_ids++] = known;
    for (size_t i = from; i < nd->n_ev; i++) {
        const tp_event *e = &nd->ev[i];
        bool found = e->ike_sa_id == 0;
        if (e->type == VPN_IKEV2_EV_IKE_REKEYED)
            ids[n_ids++] = e->ike_sa_id;
        for (size_t k = 0; k < n_ids && !found; k++)
            found = ids[k] == e->ike_sa_id;
        if (!found)
            fail_msg("event %d names IKE SA %u, which the driver never heard of", (int)e->type, e->ike_sa_id);
    }
}

/* Two nodes with the default configurations, their IKE SA and CHILD_SA up
 * (nothing injected yet). */
static world *world_up(void)
{
    world *w = calloc(1, sizeof *w);
    peer_conf a = conf_a(), b = conf_b();
    char *ta = make_conf(&a), *tb = make_conf(&b);
    vpn_ikev2_policy pol = gre_policy("192.0.2.1", "192.0.2.2", 7);
    uint32_t id = 0;

    assert_non_null(w);
    tp_init(&w->net);
    add_node(w, ta, "192.0.2.1", "R1");
    add_node(w, tb, "192.0.2.2", "R2");
    free(ta);
    free(tb);
    assert_int_equal(vpn_ikev2_initiate(w->net.node[0].ctx, w->net.now, &w->net.node[0].ep, &w->net.node[1].ep,
                                        &pol, &id),
                     0);
    run_for(w, 10);
    return w;
}

/* R2 answering R1's IKE SA rekey (RFC 7296 2.18) with its k-th RNG or
 * allocator call from then on failing (k 0: none). Whatever fails, every
 * event R2 emits names an SA its driver knows (the old one, or the new
 * one once IKE_REKEYED said so): the new SA of an answer that could not
 * be made or kept is never reported on its own; and both end with as
 * many IKE SAs. Returns the calls made. */
static unsigned run_rekey_respond(int kind, unsigned k)
{
    world *w = world_up();
    inject *j;
    uint32_t old2;
    size_t ev0;
    unsigned calls;

    old2 = first_sa(&w->net.node[1], true);
    assert_int_not_equal(old2, 0);
    ev0 = w->net.node[1].n_ev;
    j = kind == KIND_RNG ? &w->rng[1].j : &w->alloc[1];
    j->calls = 0;
    j->fail_at = k;
    assert_int_equal(vpn_ikev2_ike_rekey(w->net.node[0].ctx, w->net.now, first_sa(&w->net.node[0], true)), 0);
    pump(w);
    calls = j->calls;
    run_for(w, 200);
    events_name_known_sas(&w->net.node[1], ev0, old2);
    check_node(w, 1, j->failed > 0);
    check_node(w, 0, false);
    /* and the peers agree: an answer that went out though R2 could not
     * keep the request (its SA closing) names a new SA R1 takes up; R2
     * tells R1 to delete it rather than leave it to R1's DPD */
    assert_int_equal(vpn_ikev2_sa_count(w->net.node[0].ctx), vpn_ikev2_sa_count(w->net.node[1].ctx));
    if (k == 0)
        assert_int_equal(tp_count_ev(&w->net.node[1], VPN_IKEV2_EV_IKE_REKEYED), 1);
    tp_free(&w->net);
    free(w);
    return calls;
}

static void test_rekey_respond_failure_names_known_sa(void **state)
{
    (void)state;
    for (int kind = KIND_RNG; kind <= KIND_ALLOC; kind++) {
        unsigned total = run_rekey_respond(kind, 0);
        assert_true(total > 0);
        for (unsigned k = 1; k <= total; k++)
            run_rekey_respond(kind, k);
    }
}

/* R1 rekeying the IKE SA (RFC 7296 2.18) with its k-th allocator call
 * from the request on failing (k 0: none): whatever fails is counted (or
 * returned), none absorbed: the Delete of the old SA that could not be
 * made once went uncounted, the old SA dropped without it. Returns the
 * calls made. */
static unsigned run_rekey_initiator(unsigned k)
{
    world *w = world_up();
    vpn_ikev2_stats st;
    unsigned calls;

    w->alloc[0].calls = 0;
    w->alloc[0].fail_at = k;
    note(w, 0, vpn_ikev2_ike_rekey(w->net.node[0].ctx, w->net.now, first_sa(&w->net.node[0], true)));
    pump(w);
    calls = w->alloc[0].calls;
    run_for(w, 200);
    vpn_ikev2_stats_get(w->net.node[0].ctx, &st);
    if (w->alloc[0].failed)
        assert_true(st.internal_errors > 0 || w->api_errors[0] > 0);
    else
        assert_int_equal(tp_count_ev(&w->net.node[0], VPN_IKEV2_EV_IKE_REKEYED), 1);
    check_node(w, 0, w->alloc[0].failed > 0);
    check_node(w, 1, false);
    tp_free(&w->net);
    free(w);
    return calls;
}

static void test_rekey_initiator_failure_counted(void **state)
{
    unsigned total = run_rekey_initiator(0);
    (void)state;
    assert_true(total > 0);
    for (unsigned k = 1; k <= total; k++)
        run_rekey_initiator(k);
}

/* Delivers the datagram queued at position i alone. */
static void deliver_at(world *w, size_t i)
{
    tp_node *dst;
    int rc = tp_deliver_at(&w->net, i, &dst);

    note(w, dst->idx, rc);
}

/* Both peers rekey the IKE SA at once and each answers the other's before
 * its own answer comes (RFC 7296 2.8.2); R1's allocator then fails for
 * good from its k-th call on while it takes R2's answer (memory
 * exhausted, not one call refused): one failure is counted once, however
 * many steps it stops (the new SA not made, and the Delete of the SA R1's
 * answer made not sent either). Returns the calls made. */
static unsigned run_collide_nomem(unsigned k)
{
    world *w = world_up();
    vpn_ikev2_stats before, after;
    unsigned calls;

    assert_int_equal(vpn_ikev2_ike_rekey(w->net.node[0].ctx, w->net.now, first_sa(&w->net.node[0], true)), 0);
    assert_int_equal(vpn_ikev2_ike_rekey(w->net.node[1].ctx, w->net.now, first_sa(&w->net.node[1], true)), 0);
    assert_int_equal(w->net.n_queue, 2); /* R1's request, R2's */
    deliver_at(w, 1);                    /* R1 answers R2's */
    deliver_at(w, 0);                    /* R2 answers R1's */
    assert_int_equal(w->net.n_queue, 2); /* R1's answer, R2's */
    vpn_ikev2_stats_get(w->net.node[0].ctx, &before);
    w->alloc[0].calls = 0;
    w->alloc[0].fail_at = k;
    w->alloc[0].onward = true;
    deliver_at(w, 1); /* R2's answer reaches R1 */
    calls = w->alloc[0].calls;
    vpn_ikev2_stats_get(w->net.node[0].ctx, &after);
    if (getenv("VPN_TEST_LOG"))
        fprintf(stderr, "collide nomem k %u: %llu internal errors\n", k,
                (unsigned long long)(after.internal_errors - before.internal_errors));
    assert_true(after.internal_errors - before.internal_errors <= 1);
    w->alloc[0].fail_at = 0;
    run_for(w, 200);
    check_node(w, 0, k != 0 && w->alloc[0].failed > 0);
    tp_free(&w->net);
    free(w);
    return calls;
}

static void test_collide_nomem_counted_once(void **state)
{
    unsigned total = run_collide_nomem(0);
    (void)state;
    assert_true(total > 0);
    for (unsigned k = 1; k <= total; k++)
        run_collide_nomem(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_responder_init_rng_failure_reported),
        cmocka_unit_test(test_rng_initiator),
        cmocka_unit_test(test_rng_responder),
        cmocka_unit_test(test_alloc_initiator),
        cmocka_unit_test(test_alloc_responder),
        cmocka_unit_test(test_ra_rng_client),
        cmocka_unit_test(test_ra_rng_hub),
        cmocka_unit_test(test_ra_alloc_client),
        cmocka_unit_test(test_ra_alloc_hub),
        cmocka_unit_test(test_collide_rng_r1),
        cmocka_unit_test(test_collide_rng_r2),
        cmocka_unit_test(test_collide_alloc_r1),
        cmocka_unit_test(test_collide_alloc_r2),
        cmocka_unit_test(test_rekey_respond_failure_names_known_sa),
        cmocka_unit_test(test_rekey_initiator_failure_counted),
        cmocka_unit_test(test_collide_nomem_counted_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
