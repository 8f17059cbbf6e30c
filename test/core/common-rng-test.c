/* DRBG and RNG interface: NIST SP 800-90A HMAC_DRBG known answer, determinism. */
#include <stdlib.h>
#include <string.h>

#include "common/rng.h"
#include "common/vpn-err.h"
#include "test-util.h"

/*
 * NIST CAVP HMAC_DRBG.rsp, [SHA-256], PredictionResistance = False, no
 * personalization, no additional input, COUNT = 0: instantiate, generate
 * 1024 bits (discarded), generate 1024 bits (ReturnedBits).
 */
static void test_drbg_cavp_sha256_count0(void **state)
{
    (void)state;
    size_t el, nl;
    uint8_t *e = tu_hex("ca851911349384bffe89de1cbdc46e6831e44d34a4fb935ee285dd14b71a7488", &el);
    uint8_t *n = tu_hex("659ba96c601dc69fc902940805ec0ca8", &nl);
    uint8_t seed[48], out[128];
    vpn_drbg d;

    memcpy(seed, e, el);
    memcpy(seed + el, n, nl);
    assert_int_equal(vpn_drbg_init(&d, seed, el + nl), 0);
    assert_int_equal(vpn_drbg_generate(&d, out, sizeof out), 0);
    assert_int_equal(vpn_drbg_generate(&d, out, sizeof out), 0);
    tu_assert_hex(out, sizeof out,
                  "e528e9abf2dece54d47c7e75e5fe302149f817ea9fb4bee6f4199697d04d5b89"
                  "d54fbb978a15b5c443c9ec21036d2460b6f73ebad0dc2aba6e624abf07745bc1"
                  "07694bb7547bb0995f70de25d6b29e2d3011bb19d27676c07162c8b5ccde0668"
                  "961df86803482cb37ed6d5c0bb8d50cf1f50d476aa0458bdaba806f48be9dcb8");
    vpn_drbg_free(&d);
    free(e);
    free(n);
}

static void test_drbg_same_seed_same_bytes(void **state)
{
    (void)state;
    vpn_drbg a, b;
    vpn_rng ra, rb;
    uint8_t x[333], y[333];

    assert_int_equal(vpn_drbg_init(&a, "seed-1/run-1", 12), 0);
    assert_int_equal(vpn_drbg_init(&b, "seed-1/run-1", 12), 0);
    vpn_rng_init_drbg(&ra, &a);
    vpn_rng_init_drbg(&rb, &b);
    /* Different request sizes in the same order give the same stream only if
     * sizes match; compare call by call. */
    for (int i = 0; i < 10; i++) {
        size_t len = 1 + (size_t)i * 33;
        assert_int_equal(vpn_rng_bytes(&ra, x, len), 0);
        assert_int_equal(vpn_rng_bytes(&rb, y, len), 0);
        assert_memory_equal(x, y, len);
    }
}

static void test_drbg_different_seed_different_bytes(void **state)
{
    (void)state;
    vpn_drbg a, b;
    uint8_t x[64], y[64];

    assert_int_equal(vpn_drbg_init(&a, "seed-1/run-1", 12), 0);
    assert_int_equal(vpn_drbg_init(&b, "seed-1/run-2", 12), 0);
    assert_int_equal(vpn_drbg_generate(&a, x, sizeof x), 0);
    assert_int_equal(vpn_drbg_generate(&b, y, sizeof y), 0);
    assert_memory_not_equal(x, y, sizeof x);
    /* Successive outputs of one stream differ too. */
    assert_int_equal(vpn_drbg_generate(&a, y, sizeof y), 0);
    assert_memory_not_equal(x, y, sizeof x);
}

static void test_drbg_fork_labels(void **state)
{
    (void)state;
    vpn_drbg p1, p2, c1, c2, c3;
    uint8_t x[32], y[32], z[32];

    assert_int_equal(vpn_drbg_init(&p1, "node", 4), 0);
    assert_int_equal(vpn_drbg_init(&p2, "node", 4), 0);
    assert_int_equal(vpn_drbg_fork(&p1, &c1, "ikev2"), 0);
    assert_int_equal(vpn_drbg_fork(&p2, &c2, "ikev2"), 0);
    assert_int_equal(vpn_drbg_fork(&p2, &c3, "ikev2"), 0);
    vpn_drbg_generate(&c1, x, 32);
    vpn_drbg_generate(&c2, y, 32);
    vpn_drbg_generate(&c3, z, 32);
    assert_memory_equal(x, y, 32);     /* same parent state, same label */
    assert_memory_not_equal(y, z, 32); /* the parent moved on */
}

static void test_drbg_bad_args(void **state)
{
    (void)state;
    vpn_drbg d;
    uint8_t big[VPN_DRBG_SEED_MAX + 1] = {0};
    vpn_rng none = {0};
    uint8_t b;

    assert_int_equal(vpn_drbg_init(&d, big, sizeof big), VPN_ERR_INVAL);
    assert_int_equal(vpn_drbg_init(&d, NULL, 3), VPN_ERR_INVAL);
    assert_int_equal(vpn_rng_bytes(&none, &b, 1), VPN_ERR_INVAL);
    assert_int_equal(vpn_rng_bytes(NULL, &b, 1), VPN_ERR_INVAL);
}

static void test_system_rng(void **state)
{
    (void)state;
    vpn_rng r;
    uint8_t x[32] = {0}, y[32] = {0};

    vpn_rng_init_system(&r);
    assert_int_equal(vpn_rng_bytes(&r, x, sizeof x), 0);
    assert_int_equal(vpn_rng_bytes(&r, y, sizeof y), 0);
    assert_memory_not_equal(x, y, sizeof x);
    assert_int_equal(vpn_rng_bytes(&r, x, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drbg_cavp_sha256_count0),
        cmocka_unit_test(test_drbg_same_seed_same_bytes),
        cmocka_unit_test(test_drbg_different_seed_different_bytes),
        cmocka_unit_test(test_drbg_fork_labels),
        cmocka_unit_test(test_drbg_bad_args),
        cmocka_unit_test(test_system_rng),
    };
    return cmocka_run_group_tests_name("common-rng", tests, NULL, NULL);
}
