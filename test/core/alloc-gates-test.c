/*
 * The allocation gate (common/alloc.h) at the allocations that went around
 * it before issue 21: vpn_cipher_new / vpn_integ_new (now _a, used by the
 * SAD and the IKEv2 engine), the SPD itself (vpn_spd_new_a), the IKEv2
 * engine's address pools (vpn_ippool_init_a / _init6_a), IKE SA contexts
 * from keys already derived (vpn_ikev2_crypto_init_keys_a), the GDOI KEK
 * cipher (gdoi_kek_crypt / _alg) and a GET VPN member's SAD and SPD made by
 * the node (vpn_getvpn_node_new, behind the member's gate). Each is swept:
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
#include "gdoi/gdoi-priv.h"
#include "getvpn/getvpn.h"
#include "ikev2/ikev2-cp.h"
#include "ikev2/ikev2-crypto.h"
#include "ipsec/spd.h"
#include "pkt-build.h"
#include "test-util.h"

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define HAVE_MEMCHECK 1
#endif
#endif

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

/* ---- large working buffers (vpn_big_alloc) ----------------------------------- */

static void test_big_alloc_gated(void **state)
{
    enum { N = 65535 };
    gate g;
    vpn_alloc a = gate_for(&g, 0);
    (void)state;
    assert_null(vpn_big_alloc(&a, N)); /* refused: nothing made */
    assert_true(g.fired);
    assert_int_equal(g.asked, 1);
    assert_null(vpn_big_alloc(NULL, 0));
    uint8_t *p = vpn_big_alloc(&a, N); /* the gate fails once only */
    assert_non_null(p);
    assert_int_equal(g.asked, 2);
#ifdef HAVE_MEMCHECK
    /* under memcheck (the -valgrind entry) its octets are undefined until
     * written, as malloc's: a fresh mapping would pass for initialised */
    if (RUNNING_ON_VALGRIND) {
        uint8_t vbits[4] = {0};
        assert_int_equal(VALGRIND_GET_VBITS(p + N - 4, vbits, 4), 1);
        assert_int_equal(vbits[0], 0xff);
        assert_int_equal(vbits[3], 0xff);
    }
#endif
    p[0] = 1;
    p[N - 1] = 2; /* every octet of the size asked is there */
    assert_int_equal(p[0] + p[N - 1], 3);
    vpn_big_free(p, N);
    vpn_big_free(NULL, N);
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


/* ---- IKE SA contexts from derived keys ------------------------------------------- */

static void ikev2_keys_sweep(const vpn_ikev2_suite *s, long want_asks)
{
    static const uint8_t spii[8] = {1, 2, 3, 4, 5, 6, 7, 8}, spir[8] = {8, 7, 6, 5, 4, 3, 2, 1};
    uint8_t ni[32], nr[32], msg[64], icv_ref[64], icv[64];
    vpn_key seed = {.len = 32};
    vpn_iov vni = {ni, sizeof ni}, vnr = {nr, sizeof nr}, iov = {msg, sizeof msg};
    vpn_ikev2_crypto ref, c;
    long k;

    memset(ni, 0x11, sizeof ni);
    memset(nr, 0x22, sizeof nr);
    memset(seed.b, 0x33, seed.len);
    memset(msg, 0x5a, sizeof msg);
    assert_int_equal(vpn_ikev2_crypto_init(&ref, s, &seed, vni, vnr, spii, spir, true), 0);
    for (k = 0; k < 16; k++) {
        gate g;
        vpn_alloc a = gate_for(&g, k);
        int rc = vpn_ikev2_crypto_init_keys_a(&a, &c, s, &ref.keys, true);
        if (g.fired) {
            /* nothing half-made: no context, the copied keys wiped */
            assert_int_equal(rc, VPN_ERR_NOMEM);
            assert_null(c.enc);
            assert_null(c.dec);
            assert_null(c.mac_out);
            assert_null(c.mac_in);
            assert_int_equal(c.keys.sk_ei.len, 0);
            assert_int_equal(c.keys.sk_d.len, 0);
            continue;
        }
        assert_int_equal(rc, 0);
        assert_int_equal(g.asked, want_asks); /* every context asked the gate */
        assert_non_null(c.enc);
        assert_non_null(c.dec);
        assert_memory_equal(c.keys.sk_er.b, ref.keys.sk_er.b, ref.keys.sk_er.len);
        if (c.mac_out) {
            /* keyed as the context made without a gate */
            assert_int_equal(vpn_integ_compute(ref.mac_out, &iov, 1, icv_ref), 0);
            assert_int_equal(vpn_integ_compute(c.mac_out, &iov, 1, icv), 0);
            assert_memory_equal(icv, icv_ref, vpn_integ_get_info(c.mac_out)->icv_len);
        }
        vpn_ikev2_crypto_free(&c);
        break;
    }
    assert_int_equal(k, want_asks);
    vpn_ikev2_crypto_free(&ref);
}

static void test_ikev2_keys_gated(void **state)
{
    vpn_ikev2_suite cbc = {VPN_PRF_HMAC_SHA2_256, VPN_ENCR_AES_CBC, 256,
                           VPN_AUTH_HMAC_SHA2_256_128};
    vpn_ikev2_suite gcm = {VPN_PRF_HMAC_SHA2_256, VPN_ENCR_AES_GCM_16, 256, VPN_INTEG_NONE};
    (void)state;
    ikev2_keys_sweep(&cbc, 4); /* two ciphers, two integrity contexts */
    ikev2_keys_sweep(&gcm, 2); /* AEAD: two ciphers */
}

/* ---- the GDOI KEK cipher --------------------------------------------------------- */

static void test_gdoi_kek_gated(void **state)
{
    uint8_t key[32], iv[16], ref[64], buf[64];
    gate g;
    vpn_alloc a;
    (void)state;

    memset(key, 0x2b, sizeof key);
    memset(iv, 0x01, sizeof iv);
    for (size_t i = 0; i < sizeof ref; i++)
        ref[i] = (uint8_t)(i * 3);
    memcpy(buf, ref, sizeof buf);
    /* refused: NOMEM, the buffer as it was */
    a = gate_for(&g, 0);
    assert_int_equal(gdoi_kek_crypt(&a, key, iv, buf, sizeof buf, true), VPN_ERR_NOMEM);
    assert_true(g.fired);
    assert_memory_equal(buf, ref, sizeof buf);
    a = gate_for(&g, 0);
    assert_int_equal(gdoi_kek_crypt_alg(&a, VPN_GDOI_KEK_ALG_AES, 128, key, iv, buf, sizeof buf,
                                        true),
                     VPN_ERR_NOMEM);
    assert_memory_equal(buf, ref, sizeof buf);
    /* allowed: one ask, and the same as without a gate */
    a = gate_for(&g, -1);
    assert_int_equal(gdoi_kek_crypt(&a, key, iv, buf, sizeof buf, true), 0);
    assert_int_equal(g.asked, 1);
    assert_int_equal(gdoi_kek_crypt(NULL, key, iv, buf, sizeof buf, false), 0);
    assert_memory_equal(buf, ref, sizeof buf);
    a = gate_for(&g, -1);
    assert_int_equal(gdoi_kek_crypt_alg(&a, VPN_GDOI_KEK_ALG_3DES, 0, key, iv, buf, sizeof buf,
                                        true),
                     0);
    assert_int_equal(g.asked, 1);
    assert_int_equal(gdoi_kek_crypt_alg(NULL, VPN_GDOI_KEK_ALG_3DES, 0, key, iv, buf, sizeof buf,
                                        false),
                     0);
    assert_memory_equal(buf, ref, sizeof buf);
}

/* ---- a GET VPN member's SAD and SPD ----------------------------------------------- */

static void gv_send(void *user, size_t group, const vpn_addr *src, const vpn_addr *dst,
                    const uint8_t *dg, size_t len, const uint8_t *view, size_t view_len)
{
    (void)user, (void)group, (void)src, (void)dst, (void)dg, (void)len, (void)view,
        (void)view_len;
}

static void gm_send(void *user, const vpn_addr *src, const vpn_addr *dst, const uint8_t *dg,
                    size_t len, const uint8_t *view, size_t view_len)
{
    (void)user, (void)src, (void)dst, (void)dg, (void)len, (void)view, (void)view_len;
}

static void gv_member(vpn_getvpn_group_params *g, vpn_spd_sel *deny, size_t n_deny)
{
    memset(g, 0, sizeof *g);
    g->role = VPN_GETVPN_ROLE_GM;
    g->gm.name = "GETVPN";
    g->gm.group_id = 1234;
    g->gm.local = tu_addr("198.51.100.11");
    g->gm.ks = tu_addr("192.0.2.1");
    g->gm.ike.psk = (const uint8_t *)"gdoi-psk";
    g->gm.ike.psk_len = 8;
    g->map_seq = 10;
    g->deny = deny;
    g->n_deny = n_deny;
}

/*
 * The node makes the member's SAD and SPD (deny lines in it) behind the
 * member's gate (vpn_gdoi_gm_cfg.alloc): the node asks it more often than
 * the member engine alone does, and refusing any one of those asks fails
 * the creation with NOMEM and nothing left (the ASan twin).
 */
static void test_getvpn_member_gated(void **state)
{
    vpn_spd_sel deny[2];
    vpn_getvpn_group_params g;
    vpn_getvpn_params p;
    vpn_getvpn_node *n;
    vpn_drbg drbg;
    vpn_rng rng;
    long gm_asks, node_asks = -1, k;
    (void)state;

    vpn_drbg_init(&drbg, "alloc-gates-gv", 14);
    vpn_rng_init_drbg(&rng, &drbg);
    memset(deny, 0, sizeof deny);
    for (unsigned i = 0; i < 2; i++) {
        deny[i].family = VPN_AF_INET;
        assert_int_equal(vpn_prefix_parse(&deny[i].src, i ? "10.9.0.0/16" : "10.8.0.0/16"), 0);
        assert_int_equal(vpn_prefix_parse(&deny[i].dst, "0.0.0.0/0"), 0);
    }
    /* the member engine by itself, on an ungated SAD and SPD */
    {
        gate gg;
        vpn_sad *sad;
        vpn_spd *spd;
        vpn_gdoi_gm *gm;
        gv_member(&g, deny, 2);
        g.gm.alloc = gate_for(&gg, -1);
        assert_int_equal(vpn_sad_new(&sad, &rng), 0);
        assert_int_equal(vpn_spd_new(&spd, VPN_SPD_BYPASS), 0);
        g.gm.sad = sad;
        g.gm.spd = spd;
        g.gm.spd_seq = VPN_GETVPN_SPD_SEQ_GM;
        assert_int_equal(vpn_gdoi_gm_new(&gm, &g.gm, &rng, NULL, gm_send, NULL), 0);
        gm_asks = gg.asked;
        vpn_gdoi_gm_del(gm);
        vpn_spd_del(spd);
        vpn_sad_del(sad);
    }
    memset(&p, 0, sizeof p);
    p.groups = &g;
    p.n_groups = 1;
    p.rng = &rng;
    p.send = gv_send;
    for (k = 0; k < 1000; k++) {
        gate gg;
        int rc;
        gv_member(&g, deny, 2);
        g.gm.alloc = gate_for(&gg, k);
        n = NULL;
        rc = vpn_getvpn_node_new(&n, &p);
        if (gg.fired) {
            assert_int_equal(rc, VPN_ERR_NOMEM);
            assert_null(n);
            continue;
        }
        assert_int_equal(rc, 0);
        node_asks = gg.asked;
        vpn_getvpn_node_del(n);
        break;
    }
    assert_int_equal(k, node_asks);
    /* the SPD and its two deny lines at least, besides the member's own */
    assert_true(node_asks >= gm_asks + 3);
    vpn_drbg_free(&drbg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_big_alloc_gated),
        cmocka_unit_test(test_cipher_gated),
        cmocka_unit_test(test_integ_gated),
        cmocka_unit_test(test_spd_gated),
        cmocka_unit_test(test_ippool_gated),
        cmocka_unit_test(test_ikev2_keys_gated),
        cmocka_unit_test(test_gdoi_kek_gated),
        cmocka_unit_test(test_getvpn_member_gated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
