/* SPD: first match in order wins whatever the index does; checked against a
 * plain ordered scan on random policies, plus the usual ACL cases. */
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "common/wire.h"
#include "ipsec/spd.h"
#include "pkt-build.h"
#include "test-util.h"

static vpn_ip_info flow(const char *src, const char *dst, uint8_t proto, uint16_t sp,
                        uint16_t dp, uint8_t dscp)
{
    vpn_ip_info in;
    memset(&in, 0, sizeof in);
    in.src = tu_addr(src);
    in.dst = tu_addr(dst);
    in.version = in.src.family;
    in.proto = proto;
    in.sport = sp;
    in.dport = dp;
    in.has_ports = proto == 6 || proto == 17;
    in.tos = (uint8_t)(dscp << 2);
    return in;
}

static vpn_spd_entry entry(uint32_t seq, const char *src, const char *dst, vpn_spd_action a)
{
    vpn_spd_entry e;
    memset(&e, 0, sizeof e);
    e.seq = seq;
    e.action = a;
    assert_int_equal(vpn_prefix_parse(&e.sel.src, src), 0);
    assert_int_equal(vpn_prefix_parse(&e.sel.dst, dst), 0);
    e.sel.family = e.sel.src.addr.family;
    return e;
}

static void test_first_match_order(void **state)
{
    (void)state;
    vpn_spd *spd;
    const vpn_spd_entry *hit;
    uint32_t id_gen, id_spec, id_late;
    vpn_ip_info f;

    assert_int_equal(vpn_spd_new(&spd, VPN_SPD_DISCARD), 0);
    /* 10: permit everything to 10.1.0.0/16 (protect); 20: a more specific
     * host entry that bypasses. Order, not specificity, decides. */
    vpn_spd_entry e = entry(10, "0.0.0.0/0", "10.1.0.0/16", VPN_SPD_PROTECT);
    e.user = (void *)"general";
    assert_int_equal(vpn_spd_add(spd, &e, &id_gen), 0);
    e = entry(20, "192.168.1.5/32", "10.1.2.3/32", VPN_SPD_BYPASS);
    e.user = (void *)"specific";
    assert_int_equal(vpn_spd_add(spd, &e, &id_spec), 0);

    f = flow("192.168.1.5", "10.1.2.3", 17, 1000, 53, 0);
    assert_int_equal(vpn_spd_lookup(spd, &f, &hit), VPN_SPD_PROTECT);
    assert_string_equal(hit->user, "general");

    /* An entry added later with a lower sequence number goes first. */
    e = entry(5, "192.168.1.0/24", "10.1.2.0/24", VPN_SPD_BYPASS);
    e.user = (void *)"late";
    assert_int_equal(vpn_spd_add(spd, &e, &id_late), 0);
    assert_int_equal(vpn_spd_lookup(spd, &f, &hit), VPN_SPD_BYPASS);
    assert_string_equal(hit->user, "late");

    /* Removing it brings back the general one; removing that, the specific. */
    assert_int_equal(vpn_spd_remove(spd, id_late), 0);
    assert_int_equal(vpn_spd_lookup(spd, &f, &hit), VPN_SPD_PROTECT);
    assert_int_equal(vpn_spd_remove(spd, id_gen), 0);
    assert_int_equal(vpn_spd_lookup(spd, &f, &hit), VPN_SPD_BYPASS);
    assert_string_equal(hit->user, "specific");
    assert_int_equal(vpn_spd_remove(spd, id_gen), VPN_ERR_NOTFOUND);
    /* No match: the default. */
    f = flow("192.168.9.9", "10.9.9.9", 6, 1, 2, 0);
    assert_int_equal(vpn_spd_lookup(spd, &f, &hit), VPN_SPD_DISCARD);
    assert_null(hit);
    /* Equal sequence numbers keep insertion order. */
    e = entry(7, "0.0.0.0/0", "0.0.0.0/0", VPN_SPD_BYPASS);
    assert_int_equal(vpn_spd_add(spd, &e, NULL), 0);
    e = entry(7, "192.168.9.0/24", "0.0.0.0/0", VPN_SPD_PROTECT);
    assert_int_equal(vpn_spd_add(spd, &e, NULL), 0);
    assert_int_equal(vpn_spd_lookup(spd, &f, NULL), VPN_SPD_BYPASS);
    {
        uint64_t hits = 0;
        assert_int_equal(vpn_spd_get_hits(spd, id_spec, &hits), 0);
        assert_int_equal(hits, 1);
    }
    vpn_spd_del(spd);
}

static void test_fields(void **state)
{
    (void)state;
    vpn_spd *spd;
    vpn_spd_entry e;
    vpn_ip_info f;
    uint32_t id;
    int sa_token = 1, sa2 = 2;
    const vpn_spd_entry *hit;

    assert_int_equal(vpn_spd_new(&spd, VPN_SPD_BYPASS), 0);
    /* Voice: UDP 16384-32767 with DSCP EF only. */
    e = entry(10, "10.0.0.0/8", "10.0.0.0/8", VPN_SPD_PROTECT);
    e.sel.proto = 17;
    e.sel.dport_lo = 16384;
    e.sel.dport_hi = 32767;
    e.sel.dscp_mask = 1ull << 46;
    e.sa = (struct vpn_sa *)&sa_token;
    assert_int_equal(vpn_spd_add(spd, &e, &id), 0);
    e = entry(20, "10.0.0.0/8", "10.0.0.0/8", VPN_SPD_DISCARD);
    e.sel.proto = 6;
    e.sel.sport_lo = 23;
    e.sel.sport_hi = 23;
    assert_int_equal(vpn_spd_add(spd, &e, NULL), 0);

    f = flow("10.1.1.1", "10.2.2.2", 17, 5000, 20000, 46);
    assert_int_equal(vpn_spd_lookup(spd, &f, &hit), VPN_SPD_PROTECT);
    assert_ptr_equal(hit->sa, &sa_token);
    f.tos = 0; /* best effort: not this entry */
    assert_int_equal(vpn_spd_lookup(spd, &f, NULL), VPN_SPD_BYPASS);
    f = flow("10.1.1.1", "10.2.2.2", 17, 5000, 40000, 46);
    assert_int_equal(vpn_spd_lookup(spd, &f, NULL), VPN_SPD_BYPASS);
    f = flow("10.1.1.1", "10.2.2.2", 6, 23, 40000, 0);
    assert_int_equal(vpn_spd_lookup(spd, &f, NULL), VPN_SPD_DISCARD);
    /* A port range needs ports: a non-first fragment does not match it. */
    f.has_ports = false;
    assert_int_equal(vpn_spd_lookup(spd, &f, NULL), VPN_SPD_BYPASS);
    /* IPv4 entries never match IPv6. */
    f = flow("::ffff:10.1.1.1", "::ffff:10.2.2.2", 17, 5000, 20000, 46);
    assert_int_equal(vpn_spd_lookup(spd, &f, NULL), VPN_SPD_BYPASS);

    /* Rekey: point the entry at a new SA. */
    vpn_spd_replace_sa(spd, (struct vpn_sa *)&sa_token, (struct vpn_sa *)&sa2);
    f = flow("10.1.1.1", "10.2.2.2", 17, 5000, 20000, 46);
    assert_int_equal(vpn_spd_lookup(spd, &f, &hit), VPN_SPD_PROTECT);
    assert_ptr_equal(hit->sa, &sa2);
    assert_int_equal(vpn_spd_set_sa(spd, id, NULL), 0);
    assert_int_equal(vpn_spd_lookup(spd, &f, &hit), VPN_SPD_PROTECT);
    assert_null(hit->sa);
    assert_int_equal(vpn_spd_set_sa(spd, 999, NULL), VPN_ERR_NOTFOUND);

    /* IPv6 prefixes. */
    e = entry(1, "2001:db8:1::/48", "2001:db8:2::/64", VPN_SPD_DISCARD);
    assert_int_equal(vpn_spd_add(spd, &e, NULL), 0);
    f = flow("2001:db8:1:5::1", "2001:db8:2::9", 58, 0, 0, 0);
    assert_int_equal(vpn_spd_lookup(spd, &f, NULL), VPN_SPD_DISCARD);
    f = flow("2001:db8:1:5::1", "2001:db8:2:1::9", 58, 0, 0, 0);
    assert_int_equal(vpn_spd_lookup(spd, &f, NULL), VPN_SPD_BYPASS);

    /* Bad selectors. */
    e = entry(1, "10.0.0.0/8", "10.0.0.0/8", VPN_SPD_DISCARD);
    e.sel.family = 5;
    assert_int_equal(vpn_spd_add(spd, &e, NULL), VPN_ERR_INVAL);
    e = entry(1, "10.0.0.0/8", "10.0.0.0/8", VPN_SPD_DISCARD);
    e.sel.dport_lo = 9;
    e.sel.dport_hi = 8;
    assert_int_equal(vpn_spd_add(spd, &e, NULL), VPN_ERR_INVAL);
    e = entry(1, "10.0.0.0/8", "2001:db8::/32", VPN_SPD_DISCARD);
    assert_int_equal(vpn_spd_add(spd, &e, NULL), VPN_ERR_INVAL);
    assert_int_equal(vpn_spd_count(spd), 3);
    vpn_spd_del(spd);
}

/* ---- random policies against a linear reference ------------------------------ */

typedef struct ref_rule {
    vpn_spd_entry e;
    uint32_t id;
    int index;
    bool live;
} ref_rule;

static uint32_t rnd(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

static bool ports_ok(bool has, uint16_t p, uint16_t lo, uint16_t hi)
{
    if ((lo == 0 && hi == 0) || (lo == 0 && hi == 65535))
        return true;
    return has && p >= lo && p <= hi;
}

static bool ref_match(const vpn_spd_sel *s, const vpn_ip_info *f)
{
    return s->family == f->version && (s->proto == 0 || s->proto == f->proto) &&
           (s->src.len == 0 || vpn_prefix_contains(&s->src, &f->src)) &&
           (s->dst.len == 0 || vpn_prefix_contains(&s->dst, &f->dst)) &&
           (s->dscp_mask == 0 || (s->dscp_mask >> (f->tos >> 2) & 1)) &&
           ports_ok(f->has_ports, f->sport, s->sport_lo, s->sport_hi) &&
           ports_ok(f->has_ports, f->dport, s->dport_lo, s->dport_hi);
}

static vpn_addr rnd_addr(uint32_t *x)
{
    /* A small space so that entries overlap a lot. */
    vpn_addr a;
    vpn_addr_v4(&a, 0x0a000000u | (rnd(x) % 4) << 16 | (rnd(x) % 4) << 8 | (rnd(x) % 4));
    return a;
}

static void test_random_against_linear(void **state)
{
    (void)state;
    enum { NR = 400, NP = 4000 };
    static const uint8_t lens[] = {0, 8, 16, 22, 24, 30, 32};
    ref_rule *ref = calloc(NR, sizeof *ref);
    vpn_spd *spd;
    uint32_t x = 0x9e3779b9u;

    assert_non_null(ref);
    assert_int_equal(vpn_spd_new(&spd, VPN_SPD_DISCARD), 0);
    for (int i = 0; i < NR; i++) {
        vpn_spd_entry *e = &ref[i].e;
        memset(e, 0, sizeof *e);
        e->seq = rnd(&x) % 50; /* many ties */
        e->action = (vpn_spd_action)(rnd(&x) % 3);
        e->sel.family = 4;
        e->sel.src.addr = rnd_addr(&x);
        e->sel.src.len = lens[rnd(&x) % sizeof lens];
        e->sel.dst.addr = rnd_addr(&x);
        e->sel.dst.len = lens[rnd(&x) % sizeof lens];
        e->sel.proto = (uint8_t)((const uint8_t[]){0, 6, 17})[rnd(&x) % 3];
        if (rnd(&x) % 3 == 0) {
            e->sel.dport_lo = (uint16_t)(rnd(&x) % 8);
            e->sel.dport_hi = (uint16_t)(e->sel.dport_lo + rnd(&x) % 4);
        }
        if (rnd(&x) % 4 == 0)
            e->sel.dscp_mask = rnd(&x) & 0xff;
        e->user = &ref[i];
        ref[i].index = i;
        ref[i].live = true;
        assert_int_equal(vpn_spd_add(spd, e, &ref[i].id), 0);
    }
    for (int round = 0; round < 2; round++) {
        for (int k = 0; k < NP; k++) {
            vpn_ip_info f;
            const vpn_spd_entry *hit;
            const ref_rule *best = NULL;
            vpn_spd_action a;

            memset(&f, 0, sizeof f);
            f.version = 4;
            f.src = rnd_addr(&x);
            f.dst = rnd_addr(&x);
            f.proto = (uint8_t)((const uint8_t[]){6, 17, 1})[rnd(&x) % 3];
            f.has_ports = f.proto != 1;
            f.sport = (uint16_t)(rnd(&x) % 10);
            f.dport = (uint16_t)(rnd(&x) % 10);
            f.tos = (uint8_t)((rnd(&x) % 8) << 2);
            /* Reference: entries in (seq, insertion) order, first match. */
            for (int i = 0; i < NR; i++) {
                if (!ref[i].live || !ref_match(&ref[i].e.sel, &f))
                    continue;
                if (!best || ref[i].e.seq < best->e.seq)
                    best = &ref[i];
            }
            a = vpn_spd_lookup(spd, &f, &hit);
            if (!best) {
                assert_null(hit);
                assert_int_equal(a, VPN_SPD_DISCARD);
            } else {
                assert_non_null(hit);
                assert_ptr_equal(hit->user, best);
                assert_int_equal(a, best->e.action);
            }
        }
        /* Second round after removing a third of the entries. */
        for (int i = 0; round == 0 && i < NR; i += 3) {
            assert_int_equal(vpn_spd_remove(spd, ref[i].id), 0);
            ref[i].live = false;
        }
    }
    vpn_spd_del(spd);
    free(ref);
}

/* ---- the allocation gate --------------------------------------------------- */

enum { GATE_NR = 120, GATE_NP = 600 };

/* GATE_NR random entries (several tuples: prefix lengths 0 to 32) into spd;
 * an add the gate refused leaves the lookups as they were and succeeds
 * when tried again. */
static void gate_fill(vpn_spd *spd, vpn_spd_entry *es, bool check)
{
    static const uint8_t lens[] = {0, 8, 16, 22, 24, 30, 32};
    uint32_t x = 0x2545f491u;

    for (int i = 0; i < GATE_NR; i++) {
        vpn_spd_entry *e = &es[i];
        uint32_t id;
        int rc;

        memset(e, 0, sizeof *e);
        e->seq = rnd(&x) % 20;
        e->action = (vpn_spd_action)(rnd(&x) % 3);
        e->sel.family = 4;
        e->sel.src.addr = rnd_addr(&x);
        e->sel.src.len = lens[rnd(&x) % sizeof lens];
        e->sel.dst.addr = rnd_addr(&x);
        e->sel.dst.len = lens[rnd(&x) % sizeof lens];
        e->user = e;
        if ((rc = vpn_spd_add(spd, e, &id)) != 0) {
            assert_true(check);
            assert_int_equal(rc, VPN_ERR_NOMEM);
            assert_int_equal(vpn_spd_count(spd), (size_t)i);
            assert_int_equal(vpn_spd_add(spd, e, &id), 0);
        }
        assert_int_equal(id, (uint32_t)i + 1); /* a refused add used no id */
    }
}

/* The same answer from both SPDs for GATE_NP random packets. */
static void gate_compare(vpn_spd *a, const vpn_spd_entry *ea, vpn_spd *b, const vpn_spd_entry *eb)
{
    uint32_t x = 0x1234567u;

    for (int k = 0; k < GATE_NP; k++) {
        vpn_ip_info f;
        const vpn_spd_entry *ha, *hb;

        memset(&f, 0, sizeof f);
        f.version = 4;
        f.src = rnd_addr(&x);
        f.dst = rnd_addr(&x);
        f.proto = 17;
        f.has_ports = true;
        assert_int_equal(vpn_spd_lookup(a, &f, &ha), vpn_spd_lookup(b, &f, &hb));
        assert_true((ha == NULL) == (hb == NULL));
        if (ha)
            assert_int_equal((const vpn_spd_entry *)ha->user - ea, (const vpn_spd_entry *)hb->user - eb);
    }
}

typedef struct gate_sweep {
    vpn_spd *ref;             /* built by the counting run, nothing refused */
    vpn_spd_entry *ref_e, *e; /* the entries of ref, of the run's SPD */
} gate_sweep;

/* GATE_NR adds into a fresh SPD behind gate j: the first run's SPD is kept
 * as the reference; every later one, its adds retried past the refusal,
 * must answer as the reference does. */
static void gate_run(void *ctx, tu_gate *j)
{
    gate_sweep *s = ctx;
    vpn_alloc a = {tu_gate_allow, j};
    vpn_spd *spd;

    assert_int_equal(vpn_spd_new(&spd, VPN_SPD_DISCARD), 0);
    vpn_spd_set_alloc(spd, &a);
    if (!s->ref) {
        gate_fill(spd, s->ref_e, false);
        vpn_spd_set_alloc(spd, NULL); /* the gate ends with the sweep; lookups do not allocate */
        s->ref = spd;
        return;
    }
    gate_fill(spd, s->e, true);
    assert_int_equal(vpn_spd_count(spd), GATE_NR);
    gate_compare(s->ref, s->ref_e, spd, s->e);
    vpn_spd_del(spd);
}

/* Every allocation of GATE_NR adds fails once, in turn (cells, rule
 * arrays, tuples, buckets as they grow); the SPD answers as one built
 * without failures; the ASan twin checks nothing leaks. */
static void test_alloc_sweep(void **state)
{
    gate_sweep s = {NULL, calloc(GATE_NR, sizeof(vpn_spd_entry)), calloc(GATE_NR, sizeof(vpn_spd_entry))};

    (void)state;
    assert_non_null(s.ref_e);
    assert_non_null(s.e);
    /* a rule each, and the arrays around them */
    tu_alloc_sweep(gate_run, &s, GATE_NR);
    vpn_spd_del(s.ref);
    free(s.ref_e);
    free(s.e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_match_order),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_random_against_linear),
        cmocka_unit_test(test_alloc_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
