/*
 * IKE key derivation against the NIST CAVP SP 800-135 sample vectors for
 * IKEv2 and IKEv1 (the SHA-1 and SHA-256 sets, as carried in NSS's
 * gtests/common/testvectors/ike-sha{1,256}-vectors.h; the IKEv2 SHA-1 child
 * SA values as libreswan's CAVS driver reproduces them), RFC 2409 appendix
 * B key expansion (cross-checked against NSS's generated vectors and a
 * by-hand recomputation), the RFC 7296 2.14 / 2.17 key splits, IVs, and
 * rejections.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/vpn-err.h"
#include "crypto/kdf.h"
#include "crypto/prf.h"
#include "test-util.h"

/* A hex string held for the duration of a test. */
typedef struct hexbuf {
    uint8_t *p;
    size_t len;
} hexbuf;

static hexbuf H(const char *hex)
{
    hexbuf b;
    b.p = tu_hex(hex, &b.len);
    return b;
}

static vpn_iov V(hexbuf b)
{
    vpn_iov v = {b.p, b.len};
    return v;
}

static vpn_key K(const char *hex)
{
    hexbuf b = H(hex);
    vpn_key k;
    memset(&k, 0, sizeof k);
    assert_true(b.len <= VPN_KEY_MAX);
    memcpy(k.b, b.p, b.len);
    k.len = b.len;
    free(b.p);
    return k;
}

static void assert_key(const vpn_key *k, const char *want)
{
    tu_assert_hex(k->b, k->len, want);
}

/* Asserts that got[0..len) equals the first len octets of want_hex. */
static void assert_prefix(const uint8_t *got, size_t len, const char *want_hex)
{
    hexbuf w = H(want_hex);
    assert_true(len <= w.len);
    assert_memory_equal(got, w.p, len);
    free(w.p);
}

/* ---- IKEv2, CAVP SHA-1 sample -------------------------------------------- */

#define V2S1_NI "32b50d5f4a3763f3"
#define V2S1_NR "9206a04b26564cb1"
#define V2S1_GIR "4b2c1f971981a8ad8d0abeafabf38cf75fc8349c148142465ed9c8b516b8be52"
#define V2S1_GIR_NEW "863f3c9d06efd39d2b907b97f8699e5dd5251ef64a2a176f36ee40c87d4f9330"
#define V2S1_SPII "34c9e7c188868785"
#define V2S1_SPIR "3ff77d760d2b2199"
#define V2S1_SKEYSEED "a9a7b222b59f8f48645f28a1db5b5f5d7479cba7"
#define V2S1_DKM                                                                          \
    "a14293677cc80ff8f9cc0eee30d895da9d8f405666e30ef0dfcb63c634a46002a2a63080e514a062"    \
    "768b76606f9fa5e992204fc5a670bde3f10d6b027113936a5c55b648a194ae587b0088d52204b702"    \
    "c979fa280870d2ed41efa9c549fd11198af1670b143d384bd275c5f594cf266b05ebadca855e4249"    \
    "520a441a81157435a7a56cc4"
#define V2S1_DKM_CHILD                                                                    \
    "8059e3ee8810e6c3a91bc8bcd2a7a41151b8d0e6ae239c7b38093ad85ef4c5811a8e7b5d1cdabd95"    \
    "60b2d5e092d1f24e2d4b85eccdf0ad0dc9abd94b51ee71814ca6dbc8bb51b6309f5b9545c7eb35cf"    \
    "5580b1e521a8fe20754a2d883ba0c2cf285f524aea6545b33106bc03e614296d319d41d4b50b3f51"    \
    "0b1c0a22f3e664994d234cb4"
#define V2S1_DKM_CHILD_DH                                                                 \
    "bb43244c1860ad65ee1e211ffe8bb3661750c8f89cb9f547df7f4fa61d37301628190e38c66232ea"    \
    "b4b3ab14c400a5197dd3730ed4820a8a10394d51e1c0400052f63ebd36b0e7ef53aaed31eba4a508"    \
    "0d7d4b5666023a8bbb5ffb7857240f9a05884d1b7d2f933708450b7b3288f1fc863ab49fa901227c"    \
    "ffc06e27899c7054d56fd74c"
#define V2S1_SKEYSEED_REKEY "63e81194946ebd05df7df5ebf5d8750056bf1f1d"

static void test_ikev2_cavp_sha1(void **state)
{
    (void)state;
    hexbuf ni = H(V2S1_NI), nr = H(V2S1_NR), gir = H(V2S1_GIR), gir_new = H(V2S1_GIR_NEW);
    hexbuf spii = H(V2S1_SPII), spir = H(V2S1_SPIR), dkm = H(V2S1_DKM);
    vpn_key skeyseed, rekey;
    vpn_ikev2_keys keys;
    vpn_child_keys child;
    uint8_t raw[132], cat[132];
    size_t off = 0;
    /* 20 + 2*20 + 2*16 + 2*20 = 132 octets: exactly the CAVP DKM length. */
    vpn_ikev2_suite suite = {VPN_PRF_HMAC_SHA1, VPN_ENCR_AES_CBC, 128, VPN_AUTH_HMAC_SHA1_96};
    vpn_ikev2_suite esp = {0, VPN_ENCR_AES_CBC, 256, VPN_AUTH_HMAC_SHA2_256_128};

    assert_int_equal(dkm.len, 132);
    assert_int_equal(vpn_ikev2_skeyseed(VPN_PRF_HMAC_SHA1, V(ni), V(nr), V(gir), &skeyseed), 0);
    assert_key(&skeyseed, V2S1_SKEYSEED);

    /* DKM = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr) */
    vpn_iov k = {skeyseed.b, skeyseed.len};
    vpn_iov seed[4] = {V(ni), V(nr), V(spii), V(spir)};
    assert_int_equal(vpn_prf_plus(VPN_PRF_HMAC_SHA1, &k, 1, seed, 4, raw, sizeof raw), 0);
    tu_assert_hex(raw, sizeof raw, V2S1_DKM);

    /* The same through the RFC 7296 2.14 split. */
    assert_int_equal(vpn_ikev2_ike_keys_derive(&suite, &skeyseed, V(ni), V(nr), spii.p, spir.p,
                                               &keys), 0);
    assert_int_equal(keys.sk_d.len, 20);
    assert_int_equal(keys.sk_ai.len, 20);
    assert_int_equal(keys.sk_ei.len, 16);
    assert_int_equal(keys.sk_pr.len, 20);
    const vpn_key *order[7] = {&keys.sk_d,  &keys.sk_ai, &keys.sk_ar, &keys.sk_ei,
                               &keys.sk_er, &keys.sk_pi, &keys.sk_pr};
    for (int i = 0; i < 7; i++) {
        memcpy(cat + off, order[i]->b, order[i]->len);
        off += order[i]->len;
    }
    assert_int_equal(off, 132);
    tu_assert_hex(cat, off, V2S1_DKM);

    /* CHILD_SA: KEYMAT = prf+(SK_d, Ni | Nr), then with g^ir (new). */
    assert_int_equal(vpn_ikev2_child_keys_derive(VPN_PRF_HMAC_SHA1, &keys.sk_d, &esp,
                                                 (vpn_iov){NULL, 0}, V(ni), V(nr), &child), 0);
    assert_int_equal(child.encr_i.len, 32);
    assert_int_equal(child.integ_i.len, 32);
    off = 0;
    const vpn_key *corder[4] = {&child.encr_i, &child.integ_i, &child.encr_r, &child.integ_r};
    for (int i = 0; i < 4; i++) {
        memcpy(cat + off, corder[i]->b, corder[i]->len);
        off += corder[i]->len;
    }
    assert_int_equal(off, 128);
    assert_prefix(cat, off, V2S1_DKM_CHILD);

    assert_int_equal(vpn_ikev2_child_keys_derive(VPN_PRF_HMAC_SHA1, &keys.sk_d, &esp,
                                                 V(gir_new), V(ni), V(nr), &child), 0);
    off = 0;
    for (int i = 0; i < 4; i++) {
        memcpy(cat + off, corder[i]->b, corder[i]->len);
        off += corder[i]->len;
    }
    assert_prefix(cat, off, V2S1_DKM_CHILD_DH);

    /* IKE SA rekey: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr) */
    assert_int_equal(vpn_ikev2_skeyseed_rekey(VPN_PRF_HMAC_SHA1, &keys.sk_d, V(gir_new), V(ni),
                                              V(nr), &rekey), 0);
    assert_key(&rekey, V2S1_SKEYSEED_REKEY);

    vpn_ikev2_keys_wipe(&keys);
    vpn_child_keys_wipe(&child);
    free(ni.p), free(nr.p), free(gir.p), free(gir_new.p), free(spii.p), free(spir.p);
    free(dkm.p);
}

/* ---- IKEv2, CAVP SHA-256 sample ------------------------------------------ */

#define V2S2_DKM                                                                          \
    "0b137d669b0947d7d026d593f0305ad401ff0c471357d695778a9c7f4b4869ece98aca531188d160"    \
    "41b3bb936d2dbb3b4993a6e768a809160de45d0283f273a6cdf6854379e31be72b8d3d1fa990cf9c"    \
    "5b015ca9f918a7df6253c958114a09d4e1c19bdcd4db14b29d98db1a74ad405c588662c14a04d0d3"    \
    "6aa4ab55e90f8986d12d4aad"

static void test_ikev2_cavp_sha256(void **state)
{
    (void)state;
    hexbuf ni = H("3f302be1abcb28e1"), nr = H("8c332ee006064c9b");
    hexbuf gir = H("0f4d257d7a58fc4545c7d7a88119eee5d5c9690c5b4c989171d3abbfd99d1d29");
    hexbuf gir_new = H("25f3b12d6f282739256e39bf54eda53b60ffcf379bb7bcc90c27b4c4c578616c");
    hexbuf spii = H("40dac39e1e1a8640"), spir = H("8619a1cf9a6e4c07");
    vpn_key skeyseed, rekey;
    vpn_ikev2_keys keys;
    uint8_t raw[132], cat[7 * VPN_KEY_MAX];
    size_t off = 0;
    /* AEAD: no SK_a, and SK_e carries the 4-octet salt (RFC 5282 7.1). */
    vpn_ikev2_suite suite = {VPN_PRF_HMAC_SHA2_256, VPN_ENCR_AES_GCM_16, 256, VPN_INTEG_NONE};

    assert_int_equal(vpn_ikev2_skeyseed(VPN_PRF_HMAC_SHA2_256, V(ni), V(nr), V(gir), &skeyseed),
                     0);
    assert_key(&skeyseed, "5f00d1bd2c58ec224b1e6b71fa0f19a1faa7a193952c444411b47c1a9d8ba6fe");

    vpn_iov k = {skeyseed.b, skeyseed.len};
    vpn_iov seed[4] = {V(ni), V(nr), V(spii), V(spir)};
    assert_int_equal(vpn_prf_plus(VPN_PRF_HMAC_SHA2_256, &k, 1, seed, 4, raw, sizeof raw), 0);
    tu_assert_hex(raw, sizeof raw, V2S2_DKM);

    assert_int_equal(vpn_ikev2_ike_keys_derive(&suite, &skeyseed, V(ni), V(nr), spii.p, spir.p,
                                               &keys), 0);
    assert_int_equal(keys.sk_d.len, 32);
    assert_int_equal(keys.sk_ai.len, 0);
    assert_int_equal(keys.sk_ar.len, 0);
    assert_int_equal(keys.sk_ei.len, 36);
    assert_int_equal(keys.sk_er.len, 36);
    assert_int_equal(keys.sk_pi.len, 32);
    const vpn_key *order[7] = {&keys.sk_d,  &keys.sk_ai, &keys.sk_ar, &keys.sk_ei,
                               &keys.sk_er, &keys.sk_pi, &keys.sk_pr};
    for (int i = 0; i < 7; i++) {
        memcpy(cat + off, order[i]->b, order[i]->len);
        off += order[i]->len;
    }
    assert_int_equal(off, 168);
    /* prf+ output is a prefix-stable stream: the first 132 octets are DKM. */
    tu_assert_hex(cat, 132, V2S2_DKM);

    assert_int_equal(vpn_ikev2_skeyseed_rekey(VPN_PRF_HMAC_SHA2_256, &keys.sk_d, V(gir_new),
                                              V(ni), V(nr), &rekey), 0);
    assert_key(&rekey, "2d63f6debc92048b4fef3889c4c99ca67d6496e0fac14a2bca9a2d6566ff2398");

    vpn_ikev2_keys_wipe(&keys);
    free(ni.p), free(nr.p), free(gir.p), free(gir_new.p), free(spii.p), free(spir.p);
}

/* AEAD child SA keys carry the salt; the split follows RFC 7296 2.17. */
static void test_ikev2_child_aead_split(void **state)
{
    (void)state;
    hexbuf ni = H(V2S1_NI), nr = H(V2S1_NR);
    vpn_key sk_d = K("a14293677cc80ff8f9cc0eee30d895da9d8f4056");
    vpn_ikev2_suite gcm = {0, VPN_ENCR_AES_GCM_16, 128, VPN_INTEG_NONE};
    vpn_child_keys c;

    assert_int_equal(vpn_ikev2_child_keys_derive(VPN_PRF_HMAC_SHA1, &sk_d, &gcm,
                                                 (vpn_iov){NULL, 0}, V(ni), V(nr), &c), 0);
    assert_int_equal(c.encr_i.len, 20);
    assert_int_equal(c.integ_i.len, 0);
    assert_int_equal(c.encr_r.len, 20);
    assert_int_equal(c.integ_r.len, 0);
    assert_prefix(c.encr_i.b, 20, V2S1_DKM_CHILD);
    /* encr_r follows encr_i directly in KEYMAT. */
    hexbuf all = H(V2S1_DKM_CHILD);
    assert_memory_equal(c.encr_r.b, all.p + 20, 20);
    free(all.p);
    vpn_child_keys_wipe(&c);
    free(ni.p), free(nr.p);
}

static void test_ikev2_rejections(void **state)
{
    (void)state;
    uint8_t spi[8] = {0};
    uint8_t n[16] = {1};
    vpn_iov ni = {n, 16}, none = {NULL, 0}, bad = {NULL, 5};
    vpn_key seed = {20, {1}};
    vpn_ikev2_keys keys;
    vpn_child_keys child;
    vpn_ikev2_suite s;

    /* AEAD plus an integrity transform (RFC 7296 3.3). */
    s = (vpn_ikev2_suite){VPN_PRF_HMAC_SHA1, VPN_ENCR_AES_GCM_16, 128, VPN_AUTH_HMAC_SHA1_96};
    assert_int_equal(vpn_ikev2_ike_keys_derive(&s, &seed, ni, ni, spi, spi, &keys),
                     VPN_ERR_INVAL);
    assert_int_equal(vpn_ikev2_child_keys_derive(VPN_PRF_HMAC_SHA1, &seed, &s, none, ni, ni,
                                                 &child), VPN_ERR_INVAL);
    /* IKE with CBC and no integrity, or with ENCR_NULL. */
    s = (vpn_ikev2_suite){VPN_PRF_HMAC_SHA1, VPN_ENCR_AES_CBC, 128, VPN_INTEG_NONE};
    assert_int_equal(vpn_ikev2_ike_keys_derive(&s, &seed, ni, ni, spi, spi, &keys),
                     VPN_ERR_INVAL);
    s = (vpn_ikev2_suite){VPN_PRF_HMAC_SHA1, VPN_ENCR_NULL, 0, VPN_AUTH_HMAC_SHA1_96};
    assert_int_equal(vpn_ikev2_ike_keys_derive(&s, &seed, ni, ni, spi, spi, &keys),
                     VPN_ERR_INVAL);
    /* ... but ESP may use NULL with integrity, or AH (no cipher). */
    assert_int_equal(vpn_ikev2_child_keys_derive(VPN_PRF_HMAC_SHA1, &seed, &s, none, ni, ni,
                                                 &child), 0);
    assert_int_equal(child.encr_i.len, 0);
    assert_int_equal(child.integ_i.len, 20);
    s = (vpn_ikev2_suite){0, 0, 0, VPN_AUTH_HMAC_SHA2_512_256};
    assert_int_equal(vpn_ikev2_child_keys_derive(VPN_PRF_HMAC_SHA1, &seed, &s, none, ni, ni,
                                                 &child), 0);
    assert_int_equal(child.integ_r.len, 64);
    /* Nothing at all. */
    s = (vpn_ikev2_suite){0, VPN_ENCR_NULL, 0, VPN_INTEG_NONE};
    assert_int_equal(vpn_ikev2_child_keys_derive(VPN_PRF_HMAC_SHA1, &seed, &s, none, ni, ni,
                                                 &child), VPN_ERR_INVAL);
    /* Unknown algorithms and sizes. */
    s = (vpn_ikev2_suite){1 /* HMAC-MD5 */, VPN_ENCR_AES_CBC, 128, VPN_AUTH_HMAC_SHA1_96};
    assert_int_equal(vpn_ikev2_ike_keys_derive(&s, &seed, ni, ni, spi, spi, &keys),
                     VPN_ERR_UNSUPPORTED);
    s = (vpn_ikev2_suite){VPN_PRF_HMAC_SHA1, VPN_ENCR_AES_CBC, 100, VPN_AUTH_HMAC_SHA1_96};
    assert_int_equal(vpn_ikev2_ike_keys_derive(&s, &seed, ni, ni, spi, spi, &keys),
                     VPN_ERR_UNSUPPORTED);
    s = (vpn_ikev2_suite){VPN_PRF_HMAC_SHA1, VPN_ENCR_AES_CBC, 128, 1 /* HMAC-MD5-96 */};
    assert_int_equal(vpn_ikev2_ike_keys_derive(&s, &seed, ni, ni, spi, spi, &keys),
                     VPN_ERR_UNSUPPORTED);
    assert_int_equal(vpn_ikev2_skeyseed(1, ni, ni, ni, &seed), VPN_ERR_UNSUPPORTED);
    /* Bad pointers. */
    assert_int_equal(vpn_ikev2_skeyseed(VPN_PRF_HMAC_SHA1, bad, ni, ni, &seed), VPN_ERR_INVAL);
    assert_int_equal(vpn_ikev2_skeyseed(VPN_PRF_HMAC_SHA1, ni, ni, ni, NULL), VPN_ERR_INVAL);
    s = (vpn_ikev2_suite){VPN_PRF_HMAC_SHA1, VPN_ENCR_AES_CBC, 128, VPN_AUTH_HMAC_SHA1_96};
    assert_int_equal(vpn_ikev2_ike_keys_derive(&s, &seed, ni, ni, NULL, spi, &keys),
                     VPN_ERR_INVAL);
    seed.len = VPN_KEY_MAX + 1;
    assert_int_equal(vpn_ikev2_ike_keys_derive(&s, &seed, ni, ni, spi, spi, &keys),
                     VPN_ERR_INVAL);
    for (size_t i = 0; i < sizeof keys.sk_d.b; i++)
        assert_int_equal(keys.sk_d.b[i], 0); /* wiped on failure */
}

/* ---- IKEv1, CAVP samples ------------------------------------------------- */

static void test_ikev1_cavp_sha1(void **state)
{
    (void)state;
    hexbuf ni = H("69a62284195f1680"), nr = H("80c94ba25c8abda5");
    hexbuf gxy = H("8ba4cbc73c0187301dc19a975823854dbd641c597f637f8d053a83b9514673eb");
    hexbuf cky_i = H("8c3bcd3a69831d7f"), cky_r = H("d2d9a7ff4fbe95a7");
    hexbuf psk = H("c0"), pni = H("03a6f25a83c8c2a3"), pnr = H("9d958a6618f77e7f");
    vpn_key skeyid;
    vpn_ikev1_keys k;

    /* Digital signatures: SKEYID = prf(Ni_b | Nr_b, g^xy) */
    assert_int_equal(vpn_ikev1_skeyid_sig(VPN_PRF_HMAC_SHA1, V(ni), V(nr), V(gxy), &skeyid), 0);
    assert_key(&skeyid, "707197817fb2d90cf54d1842606bdea59b9f4823");
    assert_int_equal(vpn_ikev1_keys_derive(VPN_PRF_HMAC_SHA1, &skeyid, V(gxy), cky_i.p, cky_r.p,
                                           16, &k), 0);
    assert_key(&k.skeyid, "707197817fb2d90cf54d1842606bdea59b9f4823");
    assert_key(&k.skeyid_d, "384be709a8a5e63c3ed160cfe3921c4b37d5b32d");
    assert_key(&k.skeyid_a, "48b327575abe3adba0f279849e289022a13e2b47");
    assert_key(&k.skeyid_e, "a4a415c8e0c38c0da847c356cc61c24df8025560");
    /* AES-128 from a 20-octet SKEYID_e: its first 16 octets. */
    assert_key(&k.enc_key, "a4a415c8e0c38c0da847c356cc61c24d");
    vpn_ikev1_keys_wipe(&k);

    /* Pre-shared key: SKEYID = prf(pre-shared-key, Ni_b | Nr_b) */
    assert_int_equal(vpn_ikev1_skeyid_psk(VPN_PRF_HMAC_SHA1, V(psk), V(pni), V(pnr), &skeyid), 0);
    assert_key(&skeyid, "ab3be41bc62f2ef0c41a3076d58768be77fadd2e");
    vpn_key_wipe(&skeyid);
    assert_int_equal(skeyid.len, 0);

    free(ni.p), free(nr.p), free(gxy.p), free(cky_i.p), free(cky_r.p);
    free(psk.p), free(pni.p), free(pnr.p);
}

static void test_ikev1_cavp_sha256(void **state)
{
    (void)state;
    hexbuf ni = H(
        "b1dee62505b47b223bae14ce7a5b757402ad1587511618d09f94950d47f1d8d4ce86aca12d78db9854d860"
        "19ad735757ae79d8932ac0c7db842c85060150ca875ea5d47e3cfcb2a05922ebb7959d49b9797a228967"
        "6ee79a1d9a18b790f87e4771ddaf4be3376057a553162f68fe429aca73b07234543801ba2122b1bde822"
        "51770d05df813cf556a11ca4dc43ffcb85a97dbed16e2fda6985e07e31be6364899e63c507c7c616e5eb"
        "7765a53560f76772de43918ba07badfe85244dcdcd917cb065afb60e3b7e68b54dd94bfc7c31c8b75289"
        "2781ed3cc4b7f28fbc0ab9af908f5ae1f09f893f80100a7b3135993161b51fbba3bbb24b9f88c6147de8"
        "2cd6f0");
    hexbuf nr = H(
        "f0acfef2ad1f7add0eaafda78c1cf1097d9fc91cb04a7c145069ac426fd164cbe661b1dd2df0fb84e19512"
        "181f0d8ea50b7860845f332757a8e56d2a3b7be436b5718a2d49baa996a4616684a208c2d611cd65e605"
        "dca6e3d3f116859b4410fe13679696bb2e23c08a40c7e1316d54b4c9c0286701c221151b3642cb4112ca"
        "1a53e0e597a7e29c634caed86ca3c31973d37b4c346134fd6784cd99913feedf3d29d89a0a02a5a750f0"
        "2f5738109dcc670bb27701fb59f78e83b76860c3fec079a1fc8c937ddb58ae7500422b7e49ce63759c65"
        "b6bc439381d56bcc159edede894b073841036ebfa050a5b3e7c876a3f18def26b1768a263ac66c9d83b6"
        "80eb5e");
    hexbuf gxy = H("a1ff3dc6cf9b4c04709943cb4ca1f1789bcf360b03f1d027de3ae8ee039e9155");
    hexbuf cky_i = H("6c6beb72631ddc3d"), cky_r = H("b84e24b22cffbd14");
    hexbuf psk = H("a0"), pni = H("ead9ced494868f41"), pnr = H("f1aff4f425a94f18");
    vpn_key skeyid;
    vpn_ikev1_keys k;

    assert_int_equal(vpn_ikev1_skeyid_sig(VPN_PRF_HMAC_SHA2_256, V(ni), V(nr), V(gxy), &skeyid),
                     0);
    assert_key(&skeyid, "750c5c94b9c2ec20b68033e024dadf0fa87e8b48c6561b21c72478451a06583d");
    assert_int_equal(vpn_ikev1_keys_derive(VPN_PRF_HMAC_SHA2_256, &skeyid, V(gxy), cky_i.p,
                                           cky_r.p, 32, &k), 0);
    assert_key(&k.skeyid_d, "a4f7ca7de913814813e3312099e7c943bd293483f387532330237f1b20957310");
    assert_key(&k.skeyid_a, "1d4b705746c43b0a6fcbb8db33983c0f24ff6f8b6543e3779fed227c6067f004");
    assert_key(&k.skeyid_e, "03e6f16cd9ce9f64b5cdc5b34cca7163483ba5389a30afebef3d14640b0a815e");
    assert_key(&k.enc_key, "03e6f16cd9ce9f64b5cdc5b34cca7163483ba5389a30afebef3d14640b0a815e");
    vpn_ikev1_keys_wipe(&k);

    assert_int_equal(vpn_ikev1_skeyid_psk(VPN_PRF_HMAC_SHA2_256, V(psk), V(pni), V(pnr), &skeyid),
                     0);
    assert_key(&skeyid, "558a99b299773d267cf7c8ef073bf3b7af362c206c75a538403c5ef884d4cace");

    free(ni.p), free(nr.p), free(gxy.p), free(cky_i.p), free(cky_r.p);
    free(psk.p), free(pni.p), free(pnr.p);
}

/* ---- RFC 2409 appendix B key expansion ----------------------------------- */

/* K1 = prf(SKEYID_e, 0x00), Kn = prf(SKEYID_e, Kn-1), by hand with HMAC(). */
static void reference_appendix_b(const EVP_MD *md, const vpn_key *e, uint8_t *out, size_t len)
{
    uint8_t k[64], zero = 0;
    unsigned int kl = 0;
    size_t done = 0;

    assert_non_null(HMAC(md, e->b, (int)e->len, &zero, 1, k, &kl));
    while (done < len) {
        size_t n = len - done < kl ? len - done : kl;
        memcpy(out + done, k, n);
        done += n;
        assert_non_null(HMAC(md, e->b, (int)e->len, k, kl, k, &kl));
    }
}

static void test_ikev1_appendix_b(void **state)
{
    (void)state;
    /* Expected streams as NSS generates them (ike-sha{1,256}-vectors.h,
     * "self-generated" cases 11-13). */
    const char *sha1_ka =
        "933347a07de5782247dd36d1562ffe0eecade1eb4134165257e3af1000af8ae3f165063828cbb60d910b"
        "7db38fa3c7f62c4afaaf3203da065c841729853edb23e9e7ac8286ae65c8cb";
    const char *sha256_ka =
        "b10fff32cbeaa1e7afe6ab0b191e0bd63cd524849a4b56019146d232a24cf9af6b89494d2a360b06825d"
        "b8bb0324c15cecf47fc0bc99e39bf1171a7f4bf1733dc49ef64c642e73b054";
    vpn_key e1 = K("63e81194946ebd05df7df5ebf5d8750056bf1f1d");
    vpn_key e2 = K("5f00d1bd2c58ec224b1e6b71fa0f19a1faa7a193952c444411b47c1a9d8ba6fe");
    vpn_key out;
    uint8_t ref[64];

    /* SHA-1 SKEYID_e (20) is too short for AES-256 (32): Ka = K1 | K2. */
    assert_int_equal(vpn_ikev1_enc_key(VPN_PRF_HMAC_SHA1, &e1, 32, &out), 0);
    assert_int_equal(out.len, 32);
    assert_prefix(out.b, 32, sha1_ka);
    reference_appendix_b(EVP_sha1(), &e1, ref, 32);
    assert_memory_equal(out.b, ref, 32);
    assert_int_equal(vpn_ikev1_enc_key(VPN_PRF_HMAC_SHA1, &e1, 64, &out), 0);
    assert_prefix(out.b, 64, sha1_ka);
    /* Long enough: the leading octets of SKEYID_e itself. */
    assert_int_equal(vpn_ikev1_enc_key(VPN_PRF_HMAC_SHA1, &e1, 15, &out), 0);
    assert_key(&out, "63e81194946ebd05df7df5ebf5d875");

    assert_int_equal(vpn_ikev1_enc_key(VPN_PRF_HMAC_SHA2_256, &e2, 32, &out), 0);
    assert_key(&out, "5f00d1bd2c58ec224b1e6b71fa0f19a1faa7a193952c444411b47c1a9d8ba6fe");
    assert_int_equal(vpn_ikev1_enc_key(VPN_PRF_HMAC_SHA2_256, &e2, 64, &out), 0);
    assert_prefix(out.b, 64, sha256_ka);
    reference_appendix_b(EVP_sha256(), &e2, ref, 64);
    assert_memory_equal(out.b, ref, 64);

    assert_int_equal(vpn_ikev1_enc_key(VPN_PRF_HMAC_SHA1, &e1, VPN_KEY_MAX + 1, &out),
                     VPN_ERR_INVAL);
    assert_int_equal(vpn_ikev1_enc_key(1, &e1, 16, &out), VPN_ERR_UNSUPPORTED);
}

/* ---- IKEv1 IVs (RFC 2409 appendix B) ------------------------------------- */

static void test_ikev1_ivs(void **state)
{
    (void)state;
    uint8_t gxi[128], gxr[128], buf[256], md[64], iv[16], last[16];
    unsigned int ml = 0;

    for (int i = 0; i < 128; i++) {
        gxi[i] = (uint8_t)i;
        gxr[i] = (uint8_t)(255 - i);
    }
    /* Phase 1: IV = hash(g^xi | g^xr), truncated to the cipher block. */
    memcpy(buf, gxi, 128);
    memcpy(buf + 128, gxr, 128);
    assert_int_equal(EVP_Digest(buf, 256, md, &ml, EVP_sha1(), NULL), 1);
    assert_int_equal(vpn_ikev1_phase1_iv(VPN_PRF_HMAC_SHA1, (vpn_iov){gxi, 128},
                                         (vpn_iov){gxr, 128}, 16, iv), 0);
    assert_memory_equal(iv, md, 16);
    assert_int_equal(EVP_Digest(buf, 256, md, &ml, EVP_sha256(), NULL), 1);
    assert_int_equal(vpn_ikev1_phase1_iv(VPN_PRF_HMAC_SHA2_256, (vpn_iov){gxi, 128},
                                         (vpn_iov){gxr, 128}, 16, iv), 0);
    assert_memory_equal(iv, md, 16);

    /* Phase 2 / informational: hash(last phase-1 block | M-ID), M-ID in
     * network order. */
    memset(last, 0x5c, sizeof last);
    memcpy(buf, last, 16);
    buf[16] = 0xde;
    buf[17] = 0xad;
    buf[18] = 0xbe;
    buf[19] = 0xef;
    assert_int_equal(EVP_Digest(buf, 20, md, &ml, EVP_sha1(), NULL), 1);
    assert_int_equal(vpn_ikev1_phase2_iv(VPN_PRF_HMAC_SHA1, last, 16, 0xdeadbeef, iv), 0);
    assert_memory_equal(iv, md, 16);

    /* A block longer than the hash, or empty, is refused. */
    assert_int_equal(vpn_ikev1_phase1_iv(VPN_PRF_HMAC_SHA1, (vpn_iov){gxi, 128},
                                         (vpn_iov){gxr, 128}, 21, buf), VPN_ERR_INVAL);
    assert_int_equal(vpn_ikev1_phase2_iv(VPN_PRF_HMAC_SHA1, last, 0, 1, iv), VPN_ERR_INVAL);
    assert_int_equal(vpn_ikev1_phase2_iv(VPN_PRF_HMAC_SHA1, NULL, 16, 1, iv), VPN_ERR_INVAL);
    assert_int_equal(vpn_ikev1_phase2_iv(1, last, 16, 1, iv), VPN_ERR_UNSUPPORTED);
}

static void test_wipe(void **state)
{
    (void)state;
    vpn_ikev2_keys k2;
    vpn_child_keys c;
    vpn_ikev1_keys k1;
    const uint8_t *p;

    memset(&k2, 0xa5, sizeof k2);
    memset(&c, 0xa5, sizeof c);
    memset(&k1, 0xa5, sizeof k1);
    vpn_ikev2_keys_wipe(&k2);
    vpn_child_keys_wipe(&c);
    vpn_ikev1_keys_wipe(&k1);
    p = (const uint8_t *)&k2;
    for (size_t i = 0; i < sizeof k2; i++)
        assert_int_equal(p[i], 0);
    p = (const uint8_t *)&c;
    for (size_t i = 0; i < sizeof c; i++)
        assert_int_equal(p[i], 0);
    p = (const uint8_t *)&k1;
    for (size_t i = 0; i < sizeof k1; i++)
        assert_int_equal(p[i], 0);
    vpn_key_wipe(NULL);
    vpn_ikev2_keys_wipe(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ikev2_cavp_sha1),
        cmocka_unit_test(test_ikev2_cavp_sha256),
        cmocka_unit_test(test_ikev2_child_aead_split),
        cmocka_unit_test(test_ikev2_rejections),
        cmocka_unit_test(test_ikev1_cavp_sha1),
        cmocka_unit_test(test_ikev1_cavp_sha256),
        cmocka_unit_test(test_ikev1_appendix_b),
        cmocka_unit_test(test_ikev1_ivs),
        cmocka_unit_test(test_wipe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
