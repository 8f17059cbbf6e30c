/*
 * vpn_integ: RFC 2202 (HMAC-SHA1-96), RFC 4868 2.7.2 (HMAC-SHA2 truncated),
 * scatter input, verify rejections, Wireshark labels, zero allocations.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/vpn-err.h"
#include "crypto/integ.h"
#include "ossl-count.h"
#include "test-util.h"

static void fill(uint8_t *p, uint8_t v, size_t n)
{
    memset(p, v, n);
}

/*
 * Computes the ICV over data (as one iov and split into three), checks it
 * against want_hex, and checks that verify accepts it and rejects a flip.
 */
static void check_icv(uint16_t id, const uint8_t *key, size_t key_len, const uint8_t *data,
                      size_t len, const char *want_hex)
{
    vpn_integ *g;
    uint8_t icv[32];
    size_t icv_len;
    vpn_iov one = {data, len};
    vpn_iov three[3] = {{data, len / 3}, {data + len / 3, 0}, {data + len / 3, len - len / 3}};

    assert_int_equal(vpn_integ_new(&g, id, key, key_len), 0);
    icv_len = vpn_integ_get_info(g)->icv_len;
    assert_int_equal(vpn_integ_compute(g, &one, 1, icv), 0);
    tu_assert_hex(icv, icv_len, want_hex);
    memset(icv, 0, sizeof icv);
    assert_int_equal(vpn_integ_compute(g, three, 3, icv), 0);
    tu_assert_hex(icv, icv_len, want_hex);
    assert_int_equal(vpn_integ_verify(g, &one, 1, icv), 0);
    assert_int_equal(vpn_integ_verify(g, three, 3, icv), 0);
    icv[icv_len - 1] ^= 0x01;
    assert_int_equal(vpn_integ_verify(g, &one, 1, icv), VPN_ERR_AUTH);
    icv[icv_len - 1] ^= 0x01;
    icv[0] ^= 0x80;
    assert_int_equal(vpn_integ_verify(g, &one, 1, icv), VPN_ERR_AUTH);
    vpn_integ_del(g);
}

/* RFC 2202 section 3, the cases whose key is 20 octets (RFC 2404 2). */
static void test_sha1_96_rfc2202(void **state)
{
    (void)state;
    uint8_t key[20], data[50];

    fill(key, 0x0b, 20);
    check_icv(VPN_AUTH_HMAC_SHA1_96, key, 20, (const uint8_t *)"Hi There", 8,
              "b617318655057264e28bc0b6");
    fill(key, 0xaa, 20);
    fill(data, 0xdd, 50);
    check_icv(VPN_AUTH_HMAC_SHA1_96, key, 20, data, 50, "125d7342b9ac11cd91a39af4");
    /* Case 5 publishes the 96-bit truncation itself. */
    fill(key, 0x0c, 20);
    check_icv(VPN_AUTH_HMAC_SHA1_96, key, 20, (const uint8_t *)"Test With Truncation", 20,
              "4c1a03424b55e07fe7f27be1");
}

/* RFC 4868 2.7.2.1: AUTH256-1..4 */
static void test_sha256_128_rfc4868(void **state)
{
    (void)state;
    uint8_t key[32], data[50];
    const char *jefe = "JefeJefeJefeJefeJefeJefeJefeJefe";
    const char *what = "what do ya want for nothing?";

    fill(key, 0x0b, 32);
    check_icv(VPN_AUTH_HMAC_SHA2_256_128, key, 32, (const uint8_t *)"Hi There", 8,
              "198a607eb44bfbc69903a0f1cf2bbdc5");
    check_icv(VPN_AUTH_HMAC_SHA2_256_128, (const uint8_t *)jefe, 32, (const uint8_t *)what,
              strlen(what), "167f928588c5cc2eef8e3093caa0e87c");
    fill(key, 0xaa, 32);
    fill(data, 0xdd, 50);
    check_icv(VPN_AUTH_HMAC_SHA2_256_128, key, 32, data, 50, "cdcb1220d1ecccea91e53aba3092f962");
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)(i + 1);
    fill(data, 0xcd, 50);
    check_icv(VPN_AUTH_HMAC_SHA2_256_128, key, 32, data, 50, "372efcf9b40b35c2115b1346903d2ef4");
}

/* RFC 4868 2.7.2.2: AUTH384-1..4 */
static void test_sha384_192_rfc4868(void **state)
{
    (void)state;
    uint8_t key[48], data[50];
    const char *jefe = "JefeJefeJefeJefeJefeJefeJefeJefeJefeJefeJefeJefe";
    const char *what = "what do ya want for nothing?";

    fill(key, 0x0b, 48);
    check_icv(VPN_AUTH_HMAC_SHA2_384_192, key, 48, (const uint8_t *)"Hi There", 8,
              "b6a8d5636f5c6a7224f9977dcf7ee6c7fb6d0c48cbdee973");
    check_icv(VPN_AUTH_HMAC_SHA2_384_192, (const uint8_t *)jefe, 48, (const uint8_t *)what,
              strlen(what), "2c7353974f1842fd66d53c452ca42122b28c0b594cfb184d");
    fill(key, 0xaa, 48);
    fill(data, 0xdd, 50);
    check_icv(VPN_AUTH_HMAC_SHA2_384_192, key, 48, data, 50,
              "809f439be00274321d4a538652164b53554a508184a0c316");
    /* 0x01..0x20 then 0x0a..0x19 */
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)(i + 1);
    for (int i = 0; i < 16; i++)
        key[32 + i] = (uint8_t)(0x0a + i);
    fill(data, 0xcd, 50);
    check_icv(VPN_AUTH_HMAC_SHA2_384_192, key, 48, data, 50,
              "5b540085c6e6358096532b2493609ed1cb298f774f87bb5c");
}

/* RFC 4868 2.7.2.3: AUTH512-1..4 (case 4 with the key as corrected by the
 * RFC errata: 0x01..0x40). */
static void test_sha512_256_rfc4868(void **state)
{
    (void)state;
    uint8_t key[64], data[50];
    const char *jefe = "JefeJefeJefeJefeJefeJefeJefeJefeJefeJefeJefeJefeJefeJefeJefeJefe";
    const char *what = "what do ya want for nothing?";

    fill(key, 0x0b, 64);
    check_icv(VPN_AUTH_HMAC_SHA2_512_256, key, 64, (const uint8_t *)"Hi There", 8,
              "637edc6e01dce7e6742a99451aae82df23da3e92439e590e43e761b33e910fb8");
    check_icv(VPN_AUTH_HMAC_SHA2_512_256, (const uint8_t *)jefe, 64, (const uint8_t *)what,
              strlen(what), "cb370917ae8a7ce28cfd1d8f4705d6141c173b2a9362c15df235dfb251b15454");
    fill(key, 0xaa, 64);
    fill(data, 0xdd, 50);
    check_icv(VPN_AUTH_HMAC_SHA2_512_256, key, 64, data, 50,
              "2ee7acd783624ca9398710f3ee05ae41b9f9b0510c87e49e586cc9bf961733d8");
    for (int i = 0; i < 64; i++)
        key[i] = (uint8_t)(i + 1);
    fill(data, 0xcd, 50);
    check_icv(VPN_AUTH_HMAC_SHA2_512_256, key, 64, data, 50,
              "5e6688e5a3daec826ca32eaea224eff5e700628947470e13ad01302561bab108");
}

static void test_rejections(void **state)
{
    (void)state;
    uint8_t key[64] = {0}, icv[32] = {0};
    const vpn_integ_info *info;
    vpn_integ *g = (vpn_integ *)&g;
    vpn_iov bad = {NULL, 4};

    assert_int_equal(vpn_integ_lookup(1, &info), VPN_ERR_UNSUPPORTED);  /* HMAC-MD5-96 */
    assert_int_equal(vpn_integ_lookup(5, &info), VPN_ERR_UNSUPPORTED);  /* AES-XCBC-96 */
    assert_int_equal(vpn_integ_new(&g, 1, key, 16), VPN_ERR_UNSUPPORTED);
    assert_null(g);
    assert_int_equal(vpn_integ_new(&g, 0x7fff, key, 16), VPN_ERR_UNSUPPORTED);
    /* RFC 2404 / RFC 4868 fix the key length. */
    assert_int_equal(vpn_integ_new(&g, VPN_AUTH_HMAC_SHA1_96, key, 16), VPN_ERR_INVAL);
    assert_int_equal(vpn_integ_new(&g, VPN_AUTH_HMAC_SHA2_256_128, key, 20), VPN_ERR_INVAL);
    assert_int_equal(vpn_integ_new(&g, VPN_AUTH_HMAC_SHA2_384_192, key, 64), VPN_ERR_INVAL);
    assert_int_equal(vpn_integ_new(&g, VPN_AUTH_HMAC_SHA2_512_256, key, 48), VPN_ERR_INVAL);
    assert_int_equal(vpn_integ_new(&g, VPN_AUTH_HMAC_SHA2_256_128, NULL, 32), VPN_ERR_INVAL);
    /* NONE is a table entry for labels, not something to key. */
    assert_int_equal(vpn_integ_new(&g, VPN_INTEG_NONE, key, 0), VPN_ERR_INVAL);
    assert_null(g);

    assert_int_equal(vpn_integ_new(&g, VPN_AUTH_HMAC_SHA2_256_128, key, 32), 0);
    assert_int_equal(vpn_integ_compute(g, &bad, 1, icv), VPN_ERR_INVAL);
    assert_int_equal(vpn_integ_compute(g, NULL, 1, icv), VPN_ERR_INVAL);
    assert_int_equal(vpn_integ_compute(g, NULL, 0, NULL), VPN_ERR_INVAL);
    assert_int_equal(vpn_integ_verify(g, &bad, 1, icv), VPN_ERR_INVAL);
    /* Empty input is valid: HMAC of the empty string. */
    assert_int_equal(vpn_integ_compute(g, NULL, 0, icv), 0);
    assert_int_equal(vpn_integ_verify(g, NULL, 0, icv), 0);
    vpn_integ_del(g);
    vpn_integ_del(NULL);
}

static void test_info_and_labels(void **state)
{
    (void)state;
    const vpn_integ_info *i;

    assert_int_equal(vpn_integ_lookup(VPN_AUTH_HMAC_SHA1_96, &i), 0);
    assert_int_equal(i->key_len, 20);
    assert_int_equal(i->icv_len, 12);
    assert_string_equal(i->ws_esp, "HMAC-SHA-1-96 [RFC2404]");
    assert_string_equal(i->ws_ikev2, "HMAC_SHA1_96 [RFC2404]");

    assert_int_equal(vpn_integ_lookup(VPN_AUTH_HMAC_SHA2_256_128, &i), 0);
    assert_int_equal(i->key_len, 32);
    assert_int_equal(i->icv_len, 16);
    assert_string_equal(i->ws_esp, "HMAC-SHA-256-128 [RFC4868]");
    assert_string_equal(i->ws_ikev2, "HMAC_SHA2_256_128 [RFC4868]");

    assert_int_equal(vpn_integ_lookup(VPN_AUTH_HMAC_SHA2_384_192, &i), 0);
    assert_int_equal(i->key_len, 48);
    assert_int_equal(i->icv_len, 24);
    assert_string_equal(i->ws_esp, "HMAC-SHA-384-192 [RFC4868]");
    assert_string_equal(i->ws_ikev2, "HMAC_SHA2_384_192 [RFC4868]");

    assert_int_equal(vpn_integ_lookup(VPN_AUTH_HMAC_SHA2_512_256, &i), 0);
    assert_int_equal(i->key_len, 64);
    assert_int_equal(i->icv_len, 32);
    assert_string_equal(i->ws_esp, "HMAC-SHA-512-256 [RFC4868]");
    assert_string_equal(i->ws_ikev2, "HMAC_SHA2_512_256 [RFC4868]");

    assert_int_equal(vpn_integ_lookup(VPN_INTEG_NONE, &i), 0);
    assert_int_equal(i->icv_len, 0);
    assert_string_equal(i->ws_esp, "NULL");
    assert_string_equal(i->ws_ikev2, "NONE [RFC4306]");
}

static void test_no_alloc_per_packet(void **state)
{
    (void)state;
    static const uint16_t ids[] = {VPN_AUTH_HMAC_SHA1_96, VPN_AUTH_HMAC_SHA2_256_128,
                                   VPN_AUTH_HMAC_SHA2_384_192, VPN_AUTH_HMAC_SHA2_512_256};
    uint8_t key[64], pkt[1400], esn_hi[4] = {0, 0, 0, 1}, icv[32];
    unsigned long before_any;

    memset(key, 0x33, sizeof key);
    memset(pkt, 0x44, sizeof pkt);
    /* The counter sees OpenSSL's allocations. */
    before_any = tu_ossl_allocs;
    OPENSSL_free(OPENSSL_malloc(1));
    assert_int_equal(tu_ossl_allocs, before_any + 1);
    for (size_t a = 0; a < sizeof ids / sizeof ids[0]; a++) {
        const vpn_integ_info *info;
        vpn_integ *g;
        vpn_iov iov[2] = {{pkt, sizeof pkt}, {esn_hi, sizeof esn_hi}};
        unsigned long before;

        assert_int_equal(vpn_integ_lookup(ids[a], &info), 0);
        assert_int_equal(vpn_integ_new(&g, ids[a], key, info->key_len), 0);
        before = tu_ossl_allocs;
        for (int i = 0; i < 1000; i++) {
            pkt[0] = (uint8_t)i;
            assert_int_equal(vpn_integ_compute(g, iov, 2, icv), 0);
            assert_int_equal(vpn_integ_verify(g, iov, 2, icv), 0);
        }
        if (tu_ossl_allocs != before)
            fail_msg("%s: %lu allocations in 1000 packets", info->name, tu_ossl_allocs - before);
        vpn_integ_del(g);
    }
}

int main(void)
{
    /* Must precede every OpenSSL call, or OpenSSL refuses the change. */
    if (tu_ossl_count_install())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha1_96_rfc2202),
        cmocka_unit_test(test_sha256_128_rfc4868),
        cmocka_unit_test(test_sha384_192_rfc4868),
        cmocka_unit_test(test_sha512_256_rfc4868),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_info_and_labels),
        cmocka_unit_test(test_no_alloc_per_packet),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
