/*
 * PRFs: RFC 2202 and RFC 4231 (as RFC 4868 2.7.1 lists them) through the
 * PRF API, prf+ against a by-hand T1 | T2 | ... built with OpenSSL's
 * one-shot HMAC, limits, and the IKEv1 hash mapping.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/vpn-err.h"
#include "crypto/prf.h"
#include "test-util.h"

static void check_prf(uint16_t id, const uint8_t *key, size_t kl, const uint8_t *data, size_t dl,
                      const char *want)
{
    uint8_t out[VPN_PRF_MAX_LEN];
    const vpn_prf_info *info;
    vpn_iov k = {key, kl}, d = {data, dl};
    /* The same key and data cut into pieces must give the same output. */
    vpn_iov k2[2] = {{key, kl / 2}, {key + kl / 2, kl - kl / 2}};
    vpn_iov d3[3] = {{data, 1}, {data + 1, 0}, {data + 1, dl - 1}};

    assert_int_equal(vpn_prf_lookup(id, &info), 0);
    assert_int_equal(vpn_prf_compute(id, &k, 1, &d, 1, out, sizeof out), 0);
    tu_assert_hex(out, info->out_len, want);
    memset(out, 0, sizeof out);
    assert_int_equal(vpn_prf_compute(id, k2, 2, d3, 3, out, sizeof out), 0);
    tu_assert_hex(out, info->out_len, want);
}

/* RFC 2202 section 3, HMAC-SHA-1 test cases 1-4, 6, 7 (full output). */
static void test_hmac_sha1_rfc2202(void **state)
{
    (void)state;
    uint8_t k[80], d[80];
    const char *big = "Test Using Larger Than Block-Size Key - Hash Key First";
    const char *big2 = "Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data";

    memset(k, 0x0b, 20);
    check_prf(VPN_PRF_HMAC_SHA1, k, 20, (const uint8_t *)"Hi There", 8,
              "b617318655057264e28bc0b6fb378c8ef146be00");
    check_prf(VPN_PRF_HMAC_SHA1, (const uint8_t *)"Jefe", 4,
              (const uint8_t *)"what do ya want for nothing?", 28,
              "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    memset(k, 0xaa, 20);
    memset(d, 0xdd, 50);
    check_prf(VPN_PRF_HMAC_SHA1, k, 20, d, 50, "125d7342b9ac11cd91a39af48aa17b4f63f175d3");
    for (int i = 0; i < 25; i++)
        k[i] = (uint8_t)(i + 1);
    memset(d, 0xcd, 50);
    check_prf(VPN_PRF_HMAC_SHA1, k, 25, d, 50, "4c9007f4026250c6bc8414f9bf50c86c2d7235da");
    memset(k, 0xaa, 80);
    check_prf(VPN_PRF_HMAC_SHA1, k, 80, (const uint8_t *)big, strlen(big),
              "aa4ae5e15272d00e95705637ce8a3b55ed402112");
    check_prf(VPN_PRF_HMAC_SHA1, k, 80, (const uint8_t *)big2, strlen(big2),
              "e8e99d0f45237d786d6bbaa7965c7808bbff1a91");
}

/* RFC 4231 test cases 1-4, 6, 7 = RFC 4868 2.7.1 PRF-HMAC-SHA-256/384/512. */
struct rfc4231_case {
    const char *sha256, *sha384, *sha512;
};

static void run_rfc4231(const uint8_t *key, size_t kl, const uint8_t *data, size_t dl,
                        const struct rfc4231_case *c)
{
    check_prf(VPN_PRF_HMAC_SHA2_256, key, kl, data, dl, c->sha256);
    check_prf(VPN_PRF_HMAC_SHA2_384, key, kl, data, dl, c->sha384);
    check_prf(VPN_PRF_HMAC_SHA2_512, key, kl, data, dl, c->sha512);
}

static void test_hmac_sha2_rfc4231(void **state)
{
    (void)state;
    uint8_t k[131], d[50];
    const char *c6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    const char *c7 = "This is a test using a larger than block-size key and a larger than "
                     "block-size data. The key needs to be hashed before being used by the "
                     "HMAC algorithm.";
    static const struct rfc4231_case tc1 = {
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
        "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
        "faea9ea9076ede7f4af152e8b2fa9cb6",
        "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
        "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"};
    static const struct rfc4231_case tc2 = {
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
        "8e2240ca5e69e2c78b3239ecfab21649",
        "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
        "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"};
    static const struct rfc4231_case tc3 = {
        "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
        "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b"
        "2a5ab39dc13814b94e3ab6e101a34f27",
        "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39"
        "bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb"};
    static const struct rfc4231_case tc4 = {
        "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
        "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e"
        "6801dd23c4a7d679ccf8a386c674cffb",
        "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db"
        "a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd"};
    static const struct rfc4231_case tc6 = {
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
        "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6"
        "0c2ef6ab4030fe8296248df163f44952",
        "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
        "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"};
    static const struct rfc4231_case tc7 = {
        "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
        "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5"
        "a678cc31e799176d3860e6110c46523e",
        "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944"
        "b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58"};

    memset(k, 0x0b, 20);
    run_rfc4231(k, 20, (const uint8_t *)"Hi There", 8, &tc1);
    run_rfc4231((const uint8_t *)"Jefe", 4, (const uint8_t *)"what do ya want for nothing?", 28,
                &tc2);
    memset(k, 0xaa, 20);
    memset(d, 0xdd, 50);
    run_rfc4231(k, 20, d, 50, &tc3);
    for (int i = 0; i < 25; i++)
        k[i] = (uint8_t)(i + 1);
    memset(d, 0xcd, 50);
    run_rfc4231(k, 25, d, 50, &tc4);
    memset(k, 0xaa, 131);
    run_rfc4231(k, 131, (const uint8_t *)c6, strlen(c6), &tc6);
    run_rfc4231(k, 131, (const uint8_t *)c7, strlen(c7), &tc7);
}

/* ---- prf+ --------------------------------------------------------------- */

static const EVP_MD *md_of(uint16_t id)
{
    switch (id) {
    case VPN_PRF_HMAC_SHA1:
        return EVP_sha1();
    case VPN_PRF_HMAC_SHA2_256:
        return EVP_sha256();
    case VPN_PRF_HMAC_SHA2_384:
        return EVP_sha384();
    default:
        return EVP_sha512();
    }
}

/*
 * RFC 7296 2.13 written out the slow way: T1 = HMAC(K, S | 01),
 * Tn = HMAC(K, Tn-1 | S | n), with OpenSSL's one-shot HMAC().
 */
static void reference_prf_plus(uint16_t id, const uint8_t *key, size_t kl, const uint8_t *s,
                               size_t sl, uint8_t *out, size_t len)
{
    uint8_t t[64], buf[64 + 512 + 1];
    unsigned int tl = 0;
    size_t done = 0;

    assert_true(sl <= 512);
    for (unsigned n = 1; done < len; n++) {
        size_t bl = 0;
        if (n > 1) {
            memcpy(buf, t, tl);
            bl = tl;
        }
        memcpy(buf + bl, s, sl);
        bl += sl;
        buf[bl++] = (uint8_t)n;
        assert_non_null(HMAC(md_of(id), key, (int)kl, buf, bl, t, &tl));
        size_t take = len - done < tl ? len - done : tl;
        memcpy(out + done, t, take);
        done += take;
    }
}

static void test_prf_plus_matches_reference(void **state)
{
    (void)state;
    static const uint16_t ids[] = {VPN_PRF_HMAC_SHA1, VPN_PRF_HMAC_SHA2_256,
                                   VPN_PRF_HMAC_SHA2_384, VPN_PRF_HMAC_SHA2_512};
    static const size_t lens[] = {1, 19, 20, 21, 64, 65, 200, 1000};
    uint8_t key[48], seed[100], got[1000], want[1000];

    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)(0xa0 + i);
    for (size_t i = 0; i < sizeof seed; i++)
        seed[i] = (uint8_t)(i * 7);
    for (size_t a = 0; a < 4; a++) {
        for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
            vpn_iov k = {key, sizeof key};
            /* Seed as Ni | Nr | SPIi | SPIr pieces. */
            vpn_iov s[4] = {{seed, 32}, {seed + 32, 52}, {seed + 84, 8}, {seed + 92, 8}};

            memset(got, 0, sizeof got);
            reference_prf_plus(ids[a], key, sizeof key, seed, sizeof seed, want, lens[l]);
            assert_int_equal(vpn_prf_plus(ids[a], &k, 1, s, 4, got, lens[l]), 0);
            assert_memory_equal(got, want, lens[l]);
        }
    }
}

/* The one-octet counter caps prf+ at 255 blocks (RFC 7296 2.13). */
static void test_prf_plus_limits(void **state)
{
    (void)state;
    static uint8_t out[255 * 20 + 1];
    uint8_t want[255 * 20];
    uint8_t key[20] = {1};
    vpn_iov k = {key, sizeof key}, s = {(const uint8_t *)"seed", 4};

    assert_int_equal(vpn_prf_plus(VPN_PRF_HMAC_SHA1, &k, 1, &s, 1, out, 255 * 20), 0);
    reference_prf_plus(VPN_PRF_HMAC_SHA1, key, sizeof key, (const uint8_t *)"seed", 4, want,
                       sizeof want);
    assert_memory_equal(out, want, sizeof want);
    assert_int_equal(vpn_prf_plus(VPN_PRF_HMAC_SHA1, &k, 1, &s, 1, out, 255 * 20 + 1),
                     VPN_ERR_OVERFLOW);
    assert_int_equal(vpn_prf_plus(VPN_PRF_HMAC_SHA1, &k, 1, &s, 1, out, 0), 0);
    assert_int_equal(vpn_prf_plus(1 /* HMAC-MD5 */, &k, 1, &s, 1, out, 16),
                     VPN_ERR_UNSUPPORTED);
    assert_int_equal(vpn_prf_plus(4 /* AES128-XCBC */, &k, 1, &s, 1, out, 16),
                     VPN_ERR_UNSUPPORTED);
    assert_int_equal(vpn_prf_plus(VPN_PRF_HMAC_SHA1, &k, 1, &s, 1, NULL, 16), VPN_ERR_INVAL);
    vpn_iov bad = {NULL, 3};
    assert_int_equal(vpn_prf_plus(VPN_PRF_HMAC_SHA1, &bad, 1, &s, 1, out, 16), VPN_ERR_INVAL);
    assert_int_equal(vpn_prf_plus(VPN_PRF_HMAC_SHA1, &k, 1, &bad, 1, out, 16), VPN_ERR_INVAL);
}

static void test_prf_rejections(void **state)
{
    (void)state;
    uint8_t out[64];
    const vpn_prf_info *info;
    vpn_iov k = {(const uint8_t *)"k", 1}, d = {(const uint8_t *)"d", 1};

    assert_int_equal(vpn_prf_lookup(3 /* TIGER */, &info), VPN_ERR_UNSUPPORTED);
    assert_int_equal(vpn_prf_lookup(8 /* AES128-CMAC */, &info), VPN_ERR_UNSUPPORTED);
    assert_int_equal(vpn_prf_compute(VPN_PRF_HMAC_SHA2_256, &k, 1, &d, 1, out, 31),
                     VPN_ERR_NOSPACE);
    assert_int_equal(vpn_prf_compute(VPN_PRF_HMAC_SHA2_256, &k, 1, &d, 1, NULL, 64),
                     VPN_ERR_INVAL);
    assert_int_equal(vpn_prf_compute(VPN_PRF_HMAC_SHA2_256, NULL, 1, &d, 1, out, 64),
                     VPN_ERR_INVAL);
    /* An empty key is legal for HMAC (RFC 2104 pads it with zeros). */
    assert_int_equal(vpn_prf_compute(VPN_PRF_HMAC_SHA2_256, NULL, 0, &d, 1, out, 64), 0);
}

static void test_lookup_and_ikev1_mapping(void **state)
{
    (void)state;
    const vpn_prf_info *i;
    uint16_t id = 0;

    assert_int_equal(vpn_prf_lookup(VPN_PRF_HMAC_SHA1, &i), 0);
    assert_int_equal(i->out_len, 20);
    assert_int_equal(i->key_len, 20);
    assert_int_equal(vpn_prf_lookup(VPN_PRF_HMAC_SHA2_384, &i), 0);
    assert_int_equal(i->out_len, 48);
    assert_int_equal(vpn_prf_lookup(VPN_PRF_HMAC_SHA2_512, &i), 0);
    assert_int_equal(i->out_len, 64);

    assert_int_equal(vpn_prf_from_ikev1_hash(2, &id), 0);
    assert_int_equal(id, VPN_PRF_HMAC_SHA1);
    assert_int_equal(vpn_prf_from_ikev1_hash(4, &id), 0);
    assert_int_equal(id, VPN_PRF_HMAC_SHA2_256);
    assert_int_equal(vpn_prf_from_ikev1_hash(5, &id), 0);
    assert_int_equal(id, VPN_PRF_HMAC_SHA2_384);
    assert_int_equal(vpn_prf_from_ikev1_hash(6, &id), 0);
    assert_int_equal(id, VPN_PRF_HMAC_SHA2_512);
    assert_int_equal(vpn_prf_from_ikev1_hash(1 /* MD5 */, &id), VPN_ERR_UNSUPPORTED);
    assert_int_equal(vpn_prf_from_ikev1_hash(3 /* Tiger */, &id), VPN_ERR_UNSUPPORTED);
}

/* FIPS 180-2 appendix examples: the hash of "abc". */
static void test_prf_hash_fips180(void **state)
{
    (void)state;
    uint8_t out[64];
    vpn_iov abc[2] = {{(const uint8_t *)"a", 1}, {(const uint8_t *)"bc", 2}};

    assert_int_equal(vpn_prf_hash(VPN_PRF_HMAC_SHA1, abc, 2, out, sizeof out), 0);
    tu_assert_hex(out, 20, "a9993e364706816aba3e25717850c26c9cd0d89d");
    assert_int_equal(vpn_prf_hash(VPN_PRF_HMAC_SHA2_256, abc, 2, out, sizeof out), 0);
    tu_assert_hex(out, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(vpn_prf_hash(VPN_PRF_HMAC_SHA2_384, abc, 2, out, sizeof out), 0);
    tu_assert_hex(out, 48,
                  "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
                  "8086072ba1e7cc2358baeca134c825a7");
    assert_int_equal(vpn_prf_hash(VPN_PRF_HMAC_SHA2_512, abc, 2, out, sizeof out), 0);
    tu_assert_hex(out, 64,
                  "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                  "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
    assert_int_equal(vpn_prf_hash(VPN_PRF_HMAC_SHA2_512, abc, 2, out, 63), VPN_ERR_NOSPACE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hmac_sha1_rfc2202),
        cmocka_unit_test(test_hmac_sha2_rfc4231),
        cmocka_unit_test(test_prf_plus_matches_reference),
        cmocka_unit_test(test_prf_plus_limits),
        cmocka_unit_test(test_prf_rejections),
        cmocka_unit_test(test_lookup_and_ikev1_mapping),
        cmocka_unit_test(test_prf_hash_fips180),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
