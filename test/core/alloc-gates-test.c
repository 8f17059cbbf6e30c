/*
 * The allocation gate (common/alloc.h) at the allocations that went around
 * it before issue 21: vpn_cipher_new / vpn_integ_new (now _a, used by the
 * SAD and the IKEv2 engine), the SPD itself (vpn_spd_new_a) and the IKEv2
 * engine's address pools (vpn_ippool_init_a / _init6_a). Each is swept:
 * the k-th allocation fails for every k until a run needs no failure;
 * every run ends with the right result or VPN_ERR_NOMEM and nothing
 * half-made, and a clean retry agrees with a run that never failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/vpn-err.h"
#include "crypto/cipher.h"
#include "crypto/integ.h"
#include "ikev2/ikev2-cp.h"
#include "ipsec/spd.h"
#include "pkt-build.h"
#include "test-util.h"

/* Fails allocation number `fail` (0-based) once; counts the asks. */
typedef struct gate {
    long fail;
    long asked;
    bool fired;
} gate;

static bool allow(void *user, size_t size)
{
    gate *g = user;
    (void)size;
    if (g->asked++ == g->fail) {
        g->fired = true;
        return false;
    }
    return true;
}

static vpn_alloc gate_for(gate *g, long k)
{
    vpn_alloc a = {allow, g};
    memset(g, 0, sizeof *g);
    g->fail = k;
    return a;
}

/* ---- cipher -------------------------------------------------------------- */

static void cipher_sweep(uint16_t id, uint16_t bits, size_t key_len, bool aead)
{
    uint8_t key[64], iv[16], ref[64], buf[64], icv_ref[16], icv[16];
    vpn_cipher *e, *d;
    long k;

    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)(i * 7 + 1);
    memset(iv, 0x42, sizeof iv);
    for (size_t i = 0; i < sizeof ref; i++)
        ref[i] = (uint8_t)i;
    /* what a context made without a gate produces */
    assert_int_equal(vpn_cipher_new(&e, id, bits, key, key_len, true), 0);
    if (aead)
        assert_int_equal(vpn_cipher_seal(e, iv, NULL, 0, ref, sizeof ref, icv_ref), 0);
    else
        assert_int_equal(vpn_cipher_encrypt(e, iv, ref, sizeof ref), 0);
    vpn_cipher_del(e);

    for (k = 0; k < 16; k++) {
        gate g;
        vpn_alloc a = gate_for(&g, k);
        int rc = vpn_cipher_new_a(&a, &e, id, bits, key, key_len, true);
        if (g.fired) {
            assert_int_equal(rc, VPN_ERR_NOMEM);
            assert_null(e);
            continue;
        }
        assert_int_equal(rc, 0);
        for (size_t i = 0; i < sizeof buf; i++)
            buf[i] = (uint8_t)i;
        if (aead) {
            assert_int_equal(vpn_cipher_seal(e, iv, NULL, 0, buf, sizeof buf, icv), 0);
            assert_memory_equal(icv, icv_ref, vpn_cipher_get_info(e)->icv_len);
        } else {
            assert_int_equal(vpn_cipher_encrypt(e, iv, buf, sizeof buf), 0);
        }
        assert_memory_equal(buf, ref, sizeof buf);
        vpn_cipher_del(e);
        /* and the other direction behind the same kind of gate */
        a = gate_for(&g, -1);
        assert_int_equal(vpn_cipher_new_a(&a, &d, id, bits, key, key_len, false), 0);
        assert_true(g.asked >= 1);
        if (aead)
            assert_int_equal(vpn_cipher_open(d, iv, NULL, 0, buf, sizeof buf, icv), 0);
        else
            assert_int_equal(vpn_cipher_decrypt(d, iv, buf, sizeof buf), 0);
        for (size_t i = 0; i < sizeof buf; i++)
            assert_int_equal(buf[i], (uint8_t)i);
        vpn_cipher_del(d);
        break;
    }
    /* the gate was asked: the first run failed */
    assert_true(k >= 1);
    assert_true(k < 16);
}

static void test_cipher_gated(void **state)
{
    (void)state;
    cipher_sweep(VPN_ENCR_AES_CBC, 256, 32, false);
    cipher_sweep(VPN_ENCR_AES_GCM_16, 128, 20, true);
}

/* ---- integrity ------------------------------------------------------------------ */

static void test_integ_gated(void **state)
{
    uint8_t key[32], msg[100], ref[64], icv[64];
    vpn_iov iov = {msg, sizeof msg};
    vpn_integ *m;
    long k;
    (void)state;

    memset(key, 0x0b, sizeof key);
    memset(msg, 0xcd, sizeof msg);
    assert_int_equal(vpn_integ_new(&m, VPN_AUTH_HMAC_SHA2_256_128, key, sizeof key), 0);
    assert_int_equal(vpn_integ_compute(m, &iov, 1, ref), 0);
    vpn_integ_del(m);
    for (k = 0; k < 16; k++) {
        gate g;
        vpn_alloc a = gate_for(&g, k);
        int rc = vpn_integ_new_a(&a, &m, VPN_AUTH_HMAC_SHA2_256_128, key, sizeof key);
        if (g.fired) {
            assert_int_equal(rc, VPN_ERR_NOMEM);
            assert_null(m);
            continue;
        }
        assert_int_equal(rc, 0);
        assert_int_equal(vpn_integ_compute(m, &iov, 1, icv), 0);
        assert_memory_equal(icv, ref, vpn_integ_get_info(m)->icv_len);
        vpn_integ_del(m);
        break;
    }
    assert_true(k >= 1 && k < 16);
}

/* ---- SPD ----------------------------------------------------------------------- */

#define N_RULES 12

static vpn_spd_entry rule(unsigned i)
{
    vpn_spd_entry e;
    char dst[32];
    memset(&e, 0, sizeof e);
    e.seq = 10 * (N_RULES - i); /* added in reverse order: inserts go first */
    e.action = i % 2 ? VPN_SPD_PROTECT : VPN_SPD_BYPASS;
    snprintf(dst, sizeof dst, "10.%u.0.0/16", i);
    assert_int_equal(vpn_prefix_parse(&e.sel.src, "0.0.0.0/0"), 0);
    assert_int_equal(vpn_prefix_parse(&e.sel.dst, dst), 0);
    e.sel.family = VPN_AF_INET;
    e.user = (void *)(uintptr_t)(i + 1);
    return e;
}

static vpn_ip_info flow_to(unsigned i)
{
    vpn_ip_info f;
    memset(&f, 0, sizeof f);
    f.src = tu_addr("192.168.0.1");
    f.dst = tu_addr("10.0.0.9");
    f.dst.b[1] = (uint8_t)i;
    f.version = 4;
    f.proto = 17;
    return f;
}

/* Every rule answers for its flow; a flow nobody covers gets the default. */
static void spd_check(vpn_spd *spd)
{
    assert_int_equal(vpn_spd_count(spd), N_RULES);
    for (unsigned i = 0; i < N_RULES; i++) {
        const vpn_spd_entry *hit = NULL;
        vpn_ip_info f = flow_to(i);
        assert_int_equal(vpn_spd_lookup(spd, &f, &hit), i % 2 ? VPN_SPD_PROTECT : VPN_SPD_BYPASS);
        assert_non_null(hit);
        assert_true(hit->user == (void *)(uintptr_t)(i + 1));
    }
    vpn_ip_info f = flow_to(200);
    assert_int_equal(vpn_spd_lookup(spd, &f, NULL), VPN_SPD_DISCARD);
}

static void test_spd_gated(void **state)
{
    long k;
    (void)state;

    for (k = 0; k < 1000; k++) {
        gate g;
        vpn_alloc a = gate_for(&g, k);
        vpn_spd *spd = NULL;
        unsigned added = 0;
        int rc = vpn_spd_new_a(&a, &spd, VPN_SPD_DISCARD);
        if (rc != 0) {
            assert_int_equal(rc, VPN_ERR_NOMEM);
            assert_true(g.fired);
            assert_null(spd);
            continue;
        }
        for (unsigned i = 0; i < N_RULES; i++) {
            vpn_spd_entry e = rule(i);
            uint32_t id = 0;
            rc = vpn_spd_add(spd, &e, &id);
            if (rc == 0) {
                added++;
                continue;
            }
            /* the add failed whole: what was there still answers */
            assert_int_equal(rc, VPN_ERR_NOMEM);
            assert_int_equal(vpn_spd_count(spd), added);
            for (unsigned j = 0; j < added; j++) {
                const vpn_spd_entry *hit = NULL;
                vpn_ip_info f = flow_to(j);
                assert_int_not_equal(vpn_spd_lookup(spd, &f, &hit), VPN_SPD_DISCARD);
                assert_true(hit->user == (void *)(uintptr_t)(j + 1));
            }
            /* a clean retry of the same add (the gate allows it now) */
            g.fail = -1;
            assert_int_equal(vpn_spd_add(spd, &e, &id), 0);
            added++;
        }
        spd_check(spd);
        vpn_spd_del(spd);
        if (!g.fired)
            break;
    }
    /* several allocations were failed in turn (the SPD, rules, cells) */
    assert_true(k >= 3);
    assert_true(k < 1000);
}

/* ---- IKEv2 address pools ---------------------------------------------------------- */

static void pool_check(vpn_ippool *p, const char *first)
{
    vpn_addr a;
    assert_int_equal(vpn_ippool_alloc(p, 7, &a), 0);
    vpn_addr want = tu_addr(first);
    assert_true(vpn_addr_eq(&a, &want));
}

static void test_ippool_gated(void **state)
{
    vpn_addr first = tu_addr("172.16.0.10"), last = tu_addr("172.16.3.200");
    vpn_prefix p6;
    long k;
    (void)state;

    for (k = 0; k < 8; k++) {
        gate g;
        vpn_alloc a = gate_for(&g, k);
        vpn_ippool p;
        int rc = vpn_ippool_init_a(&a, &p, "POOL", &first, &last);
        if (g.fired) {
            assert_int_equal(rc, VPN_ERR_NOMEM);
            continue;
        }
        assert_int_equal(rc, 0);
        pool_check(&p, "172.16.0.10");
        vpn_ippool_free(&p);
        break;
    }
    assert_int_equal(k, 1); /* one allocation: the owner table */

    assert_int_equal(vpn_prefix_parse(&p6, "2001:db8:1::/48"), 0);
    for (k = 0; k < 8; k++) {
        gate g;
        vpn_alloc a = gate_for(&g, k);
        vpn_ippool p;
        int rc = vpn_ippool_init6_a(&a, &p, "POOL6", &p6, 64);
        if (g.fired) {
            assert_int_equal(rc, VPN_ERR_NOMEM);
            continue;
        }
        assert_int_equal(rc, 0);
        pool_check(&p, "2001:db8:1::");
        vpn_ippool_free(&p);
        break;
    }
    assert_int_equal(k, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cipher_gated),
        cmocka_unit_test(test_integ_gated),
        cmocka_unit_test(test_spd_gated),
        cmocka_unit_test(test_ippool_gated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
