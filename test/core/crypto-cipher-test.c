/*
 * vpn_cipher: published vectors for every algorithm (RFC 3602 4, RFC 3686 6,
 * the GCM specification's test cases, RFC 8439 2.8.2, RFC 7634 appendix A),
 * rejections, Wireshark labels, and zero allocations per packet.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/vpn-err.h"
#include "crypto/cipher.h"
#include "ossl-count.h"
#include "test-util.h"

/* ---- helpers ------------------------------------------------------------- */

static uint8_t *hex(const char *s, size_t *len)
{
    return tu_hex(s, len);
}

/*
 * Encrypts pt with one context and decrypts ct with another; each is done
 * twice on the same context so that a stale counter or chaining state left
 * by the first call would show.
 */
static void check_plain(uint16_t id, uint16_t bits, const char *key_hex, const char *iv_hex,
                        const char *pt_hex, const char *ct_hex)
{
    size_t kl, ivl, pl, cl;
    uint8_t *key = hex(key_hex, &kl);
    uint8_t *iv = hex(iv_hex, &ivl);
    uint8_t *pt = hex(pt_hex, &pl);
    uint8_t *ct = hex(ct_hex, &cl);
    uint8_t *buf = malloc(pl + 1);
    vpn_cipher *enc, *dec;

    assert_non_null(buf);
    assert_int_equal(pl, cl);
    assert_int_equal(vpn_cipher_new(&enc, id, bits, key, kl, true), 0);
    assert_int_equal(vpn_cipher_new(&dec, id, bits, key, kl, false), 0);
    assert_int_equal(ivl, vpn_cipher_get_info(enc)->iv_len);
    for (int round = 0; round < 2; round++) {
        memcpy(buf, pt, pl);
        assert_int_equal(vpn_cipher_encrypt(enc, iv, buf, pl), 0);
        tu_assert_hex(buf, pl, ct_hex);
        assert_int_equal(vpn_cipher_decrypt(dec, iv, buf, pl), 0);
        assert_memory_equal(buf, pt, pl);
    }
    vpn_cipher_del(enc);
    vpn_cipher_del(dec);
    free(key);
    free(iv);
    free(pt);
    free(ct);
    free(buf);
}

static void check_aead(uint16_t id, uint16_t bits, const char *key_hex, const char *iv_hex,
                       const char *aad_hex, const char *pt_hex, const char *ct_hex,
                       const char *tag_hex)
{
    size_t kl, ivl, al, pl, cl, tl;
    uint8_t *key = hex(key_hex, &kl);
    uint8_t *iv = hex(iv_hex, &ivl);
    uint8_t *aad = hex(aad_hex, &al);
    uint8_t *pt = hex(pt_hex, &pl);
    uint8_t *ct = hex(ct_hex, &cl);
    uint8_t *tag = hex(tag_hex, &tl);
    uint8_t *buf = malloc(pl + 1);
    uint8_t icv[16];
    vpn_cipher *enc, *dec;

    assert_non_null(buf);
    assert_int_equal(pl, cl);
    assert_int_equal(vpn_cipher_new(&enc, id, bits, key, kl, true), 0);
    assert_int_equal(vpn_cipher_new(&dec, id, bits, key, kl, false), 0);
    assert_int_equal(ivl, vpn_cipher_get_info(enc)->iv_len);
    assert_int_equal(tl, vpn_cipher_get_info(enc)->icv_len);
    for (int round = 0; round < 2; round++) {
        memcpy(buf, pt, pl);
        memset(icv, 0, sizeof icv);
        assert_int_equal(vpn_cipher_seal(enc, iv, aad, al, buf, pl, icv), 0);
        tu_assert_hex(buf, pl, ct_hex);
        tu_assert_hex(icv, tl, tag_hex);
        assert_int_equal(vpn_cipher_open(dec, iv, aad, al, buf, pl, icv), 0);
        assert_memory_equal(buf, pt, pl);
    }

    /* Any flipped bit in tag, ciphertext or AAD is refused. */
    memcpy(buf, ct, cl);
    memcpy(icv, tag, tl);
    icv[tl - 1] ^= 0x01;
    assert_int_equal(vpn_cipher_open(dec, iv, aad, al, buf, cl, icv), VPN_ERR_AUTH);
    memcpy(buf, ct, cl);
    memcpy(icv, tag, tl);
    buf[0] ^= 0x80;
    assert_int_equal(vpn_cipher_open(dec, iv, aad, al, buf, cl, icv), VPN_ERR_AUTH);
    if (al > 0) {
        memcpy(buf, ct, cl);
        aad[al - 1] ^= 0x01;
        assert_int_equal(vpn_cipher_open(dec, iv, aad, al, buf, cl, icv), VPN_ERR_AUTH);
        aad[al - 1] ^= 0x01;
    }
    /* A wrong IV is refused too (the nonce is bound to the tag). */
    memcpy(buf, ct, cl);
    iv[0] ^= 0x01;
    assert_int_equal(vpn_cipher_open(dec, iv, aad, al, buf, cl, icv), VPN_ERR_AUTH);
    iv[0] ^= 0x01;
    /* And the context still works after failures. */
    memcpy(buf, ct, cl);
    assert_int_equal(vpn_cipher_open(dec, iv, aad, al, buf, cl, tag), 0);
    assert_memory_equal(buf, pt, pl);

    vpn_cipher_del(enc);
    vpn_cipher_del(dec);
    free(key);
    free(iv);
    free(aad);
    free(pt);
    free(ct);
    free(tag);
    free(buf);
}

/* ---- AES-CBC: RFC 3602 section 4, cases 1-4 ------------------------------ */

static void test_cbc_rfc3602(void **state)
{
    (void)state;
    /* Case #1: "Single block msg" */
    check_plain(VPN_ENCR_AES_CBC, 128, "06a9214036b8a15b512e03d534120006",
                "3dafba429d9eb430b422da802c9fac41", "53696e676c6520626c6f636b206d7367",
                "e353779c1079aeb82708942dbe77181a");
    /* Case #2 */
    check_plain(VPN_ENCR_AES_CBC, 128, "c286696d887c9aa0611bbb3e2025a45a",
                "562e17996d093d28ddb3ba695a2e6f58",
                "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
                "d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1");
    /* Case #3: "This is a 48-byte message (exactly 3 AES blocks)" */
    check_plain(VPN_ENCR_AES_CBC, 128, "6c3ea0477630ce21a2ce334aa746c2cd",
                "c782dc4c098c66cbd9cd27d825682c81",
                "5468697320697320612034382d62797465206d657373616765202865786163746c"
                "7920332041455320626c6f636b7329",
                "d0a02b3836451753d493665d33f0e8862dea54cdb293abc7506939276772f8d5"
                "021c19216bad525c8579695d83ba2684");
    /* Case #4 */
    check_plain(VPN_ENCR_AES_CBC, 128, "56e47a38c5598974bc46903dba290349",
                "8ce82eefbea0da3c44699ed7db51b7d9",
                "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
                "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf",
                "c30e32ffedc0774e6aff6af0869f71aa0f3af07a9a31a9c684db207eb0ef8e4e"
                "35907aa632c3ffdf868bb7b29d3d46ad83ce9f9a102ee99d49a53e87f4c3da55");
}

/* NIST SP 800-38A F.2.1 / F.2.3 / F.2.5 first block, for 192 and 256 bit keys. */
static void test_cbc_sp800_38a(void **state)
{
    (void)state;
    check_plain(VPN_ENCR_AES_CBC, 192, "8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b",
                "000102030405060708090a0b0c0d0e0f", "6bc1bee22e409f96e93d7e117393172a",
                "4f021db243bc633d7178183a9fa071e8");
    check_plain(VPN_ENCR_AES_CBC, 256,
                "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
                "000102030405060708090a0b0c0d0e0f", "6bc1bee22e409f96e93d7e117393172a",
                "f58c4c04d6e5f1ba779eabfb5f7bfbd6");
}

/* ---- AES-CTR: RFC 3686 section 6 (key || nonce, 8-octet IV) -------------- */

static void test_ctr_rfc3686(void **state)
{
    (void)state;
    /* Test Vector #1: 16 octets, 128-bit key */
    check_plain(VPN_ENCR_AES_CTR, 128, "ae6852f8121067cc4bf7a5765577f39e" "00000030",
                "0000000000000000", "53696e676c6520626c6f636b206d7367",
                "e4095d4fb7a7b3792d6175a3261311b8");
    /* Test Vector #2: 32 octets, 128-bit key */
    check_plain(VPN_ENCR_AES_CTR, 128, "7e24067817fae0d743d6ce1f32539163" "006cb6db",
                "c0543b59da48d90b",
                "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
                "5104a106168a72d9790d41ee8edad388eb2e1efc46da57c8fce630df9141be28");
    /* Test Vector #3: 36 octets (partial last block), 128-bit key */
    check_plain(VPN_ENCR_AES_CTR, 128, "7691be035e5020a8ac6e618529f9a0dc" "00e0017b",
                "27777f3f4a1786f0",
                "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223",
                "c1cf48a89f2ffdd9cf4652e9efdb72d74540a42bde6d7836d59a5ceaaef3105325b2072f");
    /* Test Vector #4: 16 octets, 192-bit key */
    check_plain(VPN_ENCR_AES_CTR, 192, "16af5b145fc9f579c175f93e3bfb0eed863d06ccfdb78515"
                "00000048", "36733c147d6d93cb", "53696e676c6520626c6f636b206d7367",
                "4b55384fe259c9c84e7935a003cbe928");
    /* Test Vector #6: 36 octets, 192-bit key */
    check_plain(VPN_ENCR_AES_CTR, 192, "02bf391ee8ecb159b959617b0965279bf59b60a786d3e0fe"
                "0007bdfd", "5cbd60278dcc0912",
                "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223",
                "96893fc55e5c722f540b7dd1ddf7e758d288bc95c69165884536c811662f2188abee0935");
    /* Test Vector #7: 16 octets, 256-bit key */
    check_plain(VPN_ENCR_AES_CTR, 256,
                "776beff2851db06f4c8a0542c8696f6c6a81af1eec96b4d37fc1d689e6c1c104" "00000060",
                "db5672c97aa8f0b2", "53696e676c6520626c6f636b206d7367",
                "145ad01dbf824ec7560863dc71e3e0c0");
    /* Test Vector #9: 36 octets, 256-bit key */
    check_plain(VPN_ENCR_AES_CTR, 256,
                "ff7a617ce69148e4f1726e2f43581de2aa62d9f805532edff1eed687fb54153d" "001cc5b7",
                "51a51d70a1c11148",
                "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223",
                "eb6c52821d0bbbf7ce7594462aca4faab407df866569fd07f48cc0b583d6071f1ec0e6b8");
}

/* ---- AES-GCM: McGrew/Viega "The Galois/Counter Mode of Operation" test
 * cases 4, 10 and 16 (96-bit IV, 20 octets of AAD). RFC 4106 splits the
 * 12-octet IV cafebabe|facedbaddecaf888 into salt (end of the keying
 * material) and the 8-octet explicit IV. Shorter ICVs are the leftmost
 * octets of the full tag (NIST SP 800-38D 7.1, MSB_t). ---------------- */

#define GCM_P "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" \
              "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
#define GCM_A "feedfacedeadbeeffeedfacedeadbeefabaddad2"
#define GCM_SALT "cafebabe"
#define GCM_IV "facedbaddecaf888"

static void test_gcm_128(void **state)
{
    (void)state;
    const char *c = "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
                    "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091";
    const char *k = "feffe9928665731c6d6a8f9467308308" GCM_SALT;

    check_aead(VPN_ENCR_AES_GCM_16, 128, k, GCM_IV, GCM_A, GCM_P, c,
               "5bc94fbc3221a5db94fae95ae7121a47");
    check_aead(VPN_ENCR_AES_GCM_12, 128, k, GCM_IV, GCM_A, GCM_P, c,
               "5bc94fbc3221a5db94fae95a");
    check_aead(VPN_ENCR_AES_GCM_8, 128, k, GCM_IV, GCM_A, GCM_P, c, "5bc94fbc3221a5db");
}

static void test_gcm_192(void **state)
{
    (void)state;
    check_aead(VPN_ENCR_AES_GCM_16, 192,
               "feffe9928665731c6d6a8f9467308308feffe9928665731c" GCM_SALT, GCM_IV, GCM_A,
               GCM_P,
               "3980ca0b3c00e841eb06fac4872a2757859e1ceaa6efd984628593b40ca1e19c"
               "7d773d00c144c525ac619d18c84a3f4718e2448b2fe324d9ccda2710",
               "2519498e80f1478f37ba55bd6d27618c");
}

static void test_gcm_256(void **state)
{
    (void)state;
    const char *c = "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
                    "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662";
    const char *k = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308" GCM_SALT;

    check_aead(VPN_ENCR_AES_GCM_16, 256, k, GCM_IV, GCM_A, GCM_P, c,
               "76fc6ece0f4e1768cddf8853bb2d551b");
    check_aead(VPN_ENCR_AES_GCM_12, 256, k, GCM_IV, GCM_A, GCM_P, c,
               "76fc6ece0f4e1768cddf8853");
    check_aead(VPN_ENCR_AES_GCM_8, 256, k, GCM_IV, GCM_A, GCM_P, c, "76fc6ece0f4e1768");
}

/* ---- ChaCha20-Poly1305 -------------------------------------------------- */

/* RFC 8439 2.8.2: the 12-octet nonce 07000000|4041424344454647 is exactly
 * RFC 7634's salt || IV. */
static void test_chacha_rfc8439(void **state)
{
    (void)state;
    check_aead(VPN_ENCR_CHACHA20_POLY1305, 0,
               "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f" "07000000",
               "4041424344454647", "50515253c0c1c2c3c4c5c6c7",
               "4c616469657320616e642047656e746c656d656e206f662074686520636c6173"
               "73206f66202739393a204966204920636f756c64206f6666657220796f75206f"
               "6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73"
               "637265656e20776f756c642062652069742e",
               "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
               "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
               "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
               "3ff4def08e4b7a9de576d26586cec64b6116",
               "1ae10b594f09e26a7e902ecbd0600691");
}

/* RFC 7634 appendix A: an ESP packet (SPI 0x01020304, sequence 5, AAD =
 * SPI || seq) carrying an ICMP echo with its ESP trailer. Key 256 is also
 * accepted as ChaCha20-Poly1305's Key Length. */
static void test_chacha_rfc7634_esp(void **state)
{
    (void)state;
    check_aead(VPN_ENCR_CHACHA20_POLY1305, 256,
               "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f" "a0a1a2a3",
               "1011121314151617", "0102030400000005",
               "45000054a6f200004001e778c6336405c000020508005b7a3a080000553bec10"
               "00073627" "08090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324252627"
               "28292a2b2c2d2e2f3031323334353637" "01020204",
               "24039428b97f417e3c13753a4f05087b67c352e6a7fab1b982d466ef407ae5c6"
               "14ee8099d52844eb61aa95dfab4c02f72aa71e7c4c4f64c9befe2facc638e8f3"
               "cbec163fac469b502773f6fb94e664da9165b82829f641e0",
               "76aaa8266b7fb0f7b11b369907e1ad43");
}

/* ---- NULL (RFC 2410) ---------------------------------------------------- */

static void test_null_identity(void **state)
{
    (void)state;
    uint8_t buf[7] = {1, 2, 3, 4, 5, 6, 7};
    const uint8_t want[7] = {1, 2, 3, 4, 5, 6, 7};
    vpn_cipher *c;

    assert_int_equal(vpn_cipher_new(&c, VPN_ENCR_NULL, 0, NULL, 0, true), 0);
    assert_int_equal(vpn_cipher_get_info(c)->iv_len, 0);
    assert_int_equal(vpn_cipher_get_info(c)->block_len, 4);
    assert_int_equal(vpn_cipher_encrypt(c, NULL, buf, sizeof buf), 0);
    assert_memory_equal(buf, want, sizeof buf);
    vpn_cipher_del(c);
    assert_int_equal(vpn_cipher_new(&c, VPN_ENCR_NULL, 0, NULL, 0, false), 0);
    assert_int_equal(vpn_cipher_decrypt(c, NULL, buf, sizeof buf), 0);
    assert_memory_equal(buf, want, sizeof buf);
    assert_int_equal(vpn_cipher_seal(c, NULL, NULL, 0, buf, sizeof buf, buf), VPN_ERR_INVAL);
    vpn_cipher_del(c);
}

/* ---- rejections --------------------------------------------------------- */

static void test_unsupported_ids(void **state)
{
    (void)state;
    const vpn_cipher_info *info;
    uint8_t key[64] = {0};
    vpn_cipher *c = (vpn_cipher *)&c;

    assert_int_equal(vpn_cipher_lookup(2, 0, &info), VPN_ERR_UNSUPPORTED);   /* DES */
    /* 3DES-CBC (RFC 2451) exists for legacy GDOI key servers: 8-octet
     * blocks and IV, 24-octet key, no Key Length attribute (or 192) */
    assert_int_equal(vpn_cipher_lookup(VPN_ENCR_3DES, 0, &info), 0);
    assert_int_equal(info->block_len, 8);
    assert_int_equal(info->iv_len, 8);
    assert_int_equal(info->key_len, 24);
    assert_int_equal(vpn_cipher_lookup(VPN_ENCR_3DES, 192, &info), 0);
    assert_int_equal(vpn_cipher_lookup(VPN_ENCR_3DES, 128, &info), VPN_ERR_UNSUPPORTED);
    assert_int_equal(vpn_cipher_lookup(14, 128, &info), VPN_ERR_UNSUPPORTED); /* CCM_8 */
    assert_int_equal(vpn_cipher_lookup(VPN_ENCR_AES_CBC, 0, &info), VPN_ERR_UNSUPPORTED);
    assert_int_equal(vpn_cipher_lookup(VPN_ENCR_AES_CBC, 512, &info), VPN_ERR_UNSUPPORTED);
    assert_int_equal(vpn_cipher_lookup(VPN_ENCR_AES_GCM_16, 64, &info), VPN_ERR_UNSUPPORTED);
    assert_int_equal(vpn_cipher_lookup(VPN_ENCR_CHACHA20_POLY1305, 128, &info),
                     VPN_ERR_UNSUPPORTED);
    assert_int_equal(vpn_cipher_lookup(VPN_ENCR_NULL, 128, &info), VPN_ERR_UNSUPPORTED);
    assert_int_equal(vpn_cipher_new(&c, 2, 0, key, 8, true), VPN_ERR_UNSUPPORTED);
    assert_null(c);
    assert_int_equal(vpn_cipher_new(&c, 0xffff, 128, key, 16, true), VPN_ERR_UNSUPPORTED);
    assert_null(c);
}

static void test_wrong_key_length(void **state)
{
    (void)state;
    uint8_t key[64] = {0};
    vpn_cipher *c = (vpn_cipher *)&c;

    /* CBC takes no salt; CTR, GCM and ChaCha20-Poly1305 need their 4 octets. */
    assert_int_equal(vpn_cipher_new(&c, VPN_ENCR_AES_CBC, 128, key, 20, true), VPN_ERR_INVAL);
    assert_null(c);
    assert_int_equal(vpn_cipher_new(&c, VPN_ENCR_AES_CBC, 256, key, 16, true), VPN_ERR_INVAL);
    assert_int_equal(vpn_cipher_new(&c, VPN_ENCR_AES_CTR, 128, key, 16, true), VPN_ERR_INVAL);
    assert_int_equal(vpn_cipher_new(&c, VPN_ENCR_AES_GCM_16, 128, key, 16, true), VPN_ERR_INVAL);
    assert_int_equal(vpn_cipher_new(&c, VPN_ENCR_AES_GCM_16, 256, key, 32, true), VPN_ERR_INVAL);
    assert_int_equal(vpn_cipher_new(&c, VPN_ENCR_CHACHA20_POLY1305, 0, key, 32, true),
                     VPN_ERR_INVAL);
    assert_int_equal(vpn_cipher_new(&c, VPN_ENCR_NULL, 0, key, 4, true), VPN_ERR_INVAL);
    assert_int_equal(vpn_cipher_new(&c, VPN_ENCR_AES_CBC, 128, NULL, 16, true), VPN_ERR_INVAL);
    assert_int_equal(vpn_cipher_new(NULL, VPN_ENCR_AES_CBC, 128, key, 16, true), VPN_ERR_INVAL);
    assert_null(c);
}

static void test_misuse(void **state)
{
    (void)state;
    uint8_t key[36] = {0}, iv[16] = {0}, buf[32] = {0}, icv[16] = {0};
    vpn_cipher *cbc_e, *cbc_d, *gcm_e, *gcm_d;

    assert_int_equal(vpn_cipher_new(&cbc_e, VPN_ENCR_AES_CBC, 128, key, 16, true), 0);
    assert_int_equal(vpn_cipher_new(&cbc_d, VPN_ENCR_AES_CBC, 128, key, 16, false), 0);
    assert_int_equal(vpn_cipher_new(&gcm_e, VPN_ENCR_AES_GCM_16, 256, key, 36, true), 0);
    assert_int_equal(vpn_cipher_new(&gcm_d, VPN_ENCR_AES_GCM_16, 256, key, 36, false), 0);

    /* CBC input must be whole blocks. */
    assert_int_equal(vpn_cipher_encrypt(cbc_e, iv, buf, 15), VPN_ERR_INVAL);
    assert_int_equal(vpn_cipher_encrypt(cbc_e, iv, buf, 0), 0);
    /* Wrong direction. */
    assert_int_equal(vpn_cipher_decrypt(cbc_e, iv, buf, 16), VPN_ERR_INVAL);
    assert_int_equal(vpn_cipher_encrypt(cbc_d, iv, buf, 16), VPN_ERR_INVAL);
    assert_int_equal(vpn_cipher_open(gcm_e, iv, NULL, 0, buf, 16, icv), VPN_ERR_INVAL);
    assert_int_equal(vpn_cipher_seal(gcm_d, iv, NULL, 0, buf, 16, icv), VPN_ERR_INVAL);
    /* AEAD through the plain calls and the reverse. */
    assert_int_equal(vpn_cipher_encrypt(gcm_e, iv, buf, 16), VPN_ERR_INVAL);
    assert_int_equal(vpn_cipher_seal(cbc_e, iv, NULL, 0, buf, 16, icv), VPN_ERR_INVAL);
    /* NULL pointers. */
    assert_int_equal(vpn_cipher_encrypt(cbc_e, NULL, buf, 16), VPN_ERR_INVAL);
    assert_int_equal(vpn_cipher_seal(gcm_e, NULL, NULL, 0, buf, 16, icv), VPN_ERR_INVAL);
    assert_int_equal(vpn_cipher_seal(gcm_e, iv, NULL, 4, buf, 16, icv), VPN_ERR_INVAL);
    assert_int_equal(vpn_cipher_seal(gcm_e, iv, NULL, 0, buf, 16, NULL), VPN_ERR_INVAL);
    assert_int_equal(vpn_cipher_encrypt(NULL, iv, buf, 16), VPN_ERR_INVAL);
    /* An empty AEAD payload still authenticates the AAD. */
    assert_int_equal(vpn_cipher_seal(gcm_e, iv, buf, 8, NULL, 0, icv), 0);
    assert_int_equal(vpn_cipher_open(gcm_d, iv, buf, 8, NULL, 0, icv), 0);
    icv[0] ^= 1;
    assert_int_equal(vpn_cipher_open(gcm_d, iv, buf, 8, NULL, 0, icv), VPN_ERR_AUTH);

    vpn_cipher_del(cbc_e);
    vpn_cipher_del(cbc_d);
    vpn_cipher_del(gcm_e);
    vpn_cipher_del(gcm_d);
    vpn_cipher_del(NULL);
}

/* ---- table contents and Wireshark 4.0 labels ----------------------------- */

static const vpn_cipher_info *must_lookup(uint16_t id, uint16_t bits)
{
    const vpn_cipher_info *info = NULL;

    assert_int_equal(vpn_cipher_lookup(id, bits, &info), 0);
    assert_non_null(info);
    return info;
}

static void test_info_and_labels(void **state)
{
    (void)state;
    const vpn_cipher_info *i;

    i = must_lookup(VPN_ENCR_AES_CBC, 256);
    assert_int_equal(i->key_len, 32);
    assert_int_equal(i->salt_len, 0);
    assert_int_equal(i->iv_len, 16);
    assert_int_equal(i->block_len, 16);
    assert_int_equal(i->icv_len, 0);
    assert_false(i->aead);
    assert_string_equal(i->ws_esp, "AES-CBC [RFC3602]");
    assert_string_equal(i->ws_ikev2, "AES-CBC-256 [RFC3602]");

    i = must_lookup(VPN_ENCR_AES_CTR, 192);
    assert_int_equal(i->key_len, 28);
    assert_int_equal(i->salt_len, 4);
    assert_int_equal(i->iv_len, 8);
    assert_int_equal(i->block_len, 4);
    assert_string_equal(i->ws_esp, "AES-CTR [RFC3686]");
    assert_string_equal(i->ws_ikev2, "AES-CTR-192 [RFC5930]");

    i = must_lookup(VPN_ENCR_AES_GCM_16, 128);
    assert_int_equal(i->key_len, 20);
    assert_int_equal(i->salt_len, 4);
    assert_int_equal(i->iv_len, 8);
    assert_int_equal(i->block_len, 4);
    assert_int_equal(i->icv_len, 16);
    assert_true(i->aead);
    assert_string_equal(i->name, "AES-GCM-128 (16-octet ICV)");
    assert_string_equal(i->ws_esp, "AES-GCM with 16 octet ICV [RFC4106]");
    assert_string_equal(i->ws_ikev2, "AES-GCM-128 with 16 octet ICV [RFC5282]");

    i = must_lookup(VPN_ENCR_AES_GCM_8, 256);
    assert_int_equal(i->key_len, 36);
    assert_int_equal(i->icv_len, 8);
    assert_string_equal(i->ws_esp, "AES-GCM with 8 octet ICV [RFC4106]");
    assert_string_equal(i->ws_ikev2, "AES-GCM-256 with 8 octet ICV [RFC5282]");

    i = must_lookup(VPN_ENCR_AES_GCM_12, 192);
    assert_int_equal(i->icv_len, 12);
    assert_string_equal(i->ws_esp, "AES-GCM with 12 octet ICV [RFC4106]");
    assert_string_equal(i->ws_ikev2, "AES-GCM-192 with 12 octet ICV [RFC5282]");

    i = must_lookup(VPN_ENCR_CHACHA20_POLY1305, 0);
    assert_ptr_equal(i, must_lookup(VPN_ENCR_CHACHA20_POLY1305, 256));
    assert_int_equal(i->key_len, 36);
    assert_int_equal(i->icv_len, 16);
    assert_null(i->ws_esp);   /* not in Wireshark 4.0 */
    assert_null(i->ws_ikev2);

    i = must_lookup(VPN_ENCR_NULL, 0);
    assert_int_equal(i->key_len, 0);
    assert_string_equal(i->ws_esp, "NULL");
    assert_string_equal(i->ws_ikev2, "NULL [RFC2410]");
}

/* ---- no allocation on the data path -------------------------------------- */

static void test_no_alloc_per_packet(void **state)
{
    (void)state;
    static const struct {
        uint16_t id, bits;
    } algs[] = {
        {VPN_ENCR_AES_CBC, 128},          {VPN_ENCR_AES_CTR, 256},
        {VPN_ENCR_AES_GCM_16, 128},       {VPN_ENCR_AES_GCM_8, 256},
        {VPN_ENCR_CHACHA20_POLY1305, 0},  {VPN_ENCR_NULL, 0},
    };
    uint8_t key[36], iv[16], aad[12], buf[1408], icv[16]; /* CBC: whole blocks */

    memset(key, 0x42, sizeof key);
    memset(aad, 0x17, sizeof aad);
    for (size_t a = 0; a < sizeof algs / sizeof algs[0]; a++) {
        const vpn_cipher_info *info = must_lookup(algs[a].id, algs[a].bits);
        vpn_cipher *e, *d;
        unsigned long before = tu_ossl_allocs;

        assert_int_equal(vpn_cipher_new(&e, info->id, info->key_bits, key, info->key_len, true), 0);
        assert_int_equal(vpn_cipher_new(&d, info->id, info->key_bits, key, info->key_len, false),
                         0);
        /* The counter sees OpenSSL's allocations (keying allocates). */
        if (info->id != VPN_ENCR_NULL)
            assert_true(tu_ossl_allocs > before);
        before = tu_ossl_allocs;
        for (int i = 0; i < 1000; i++) {
            memset(iv, i & 0xff, sizeof iv);
            memset(buf, 0x5a, sizeof buf);
            if (info->aead) {
                assert_int_equal(vpn_cipher_seal(e, iv, aad, sizeof aad, buf, sizeof buf, icv), 0);
                assert_int_equal(vpn_cipher_open(d, iv, aad, sizeof aad, buf, sizeof buf, icv), 0);
            } else {
                assert_int_equal(vpn_cipher_encrypt(e, iv, buf, sizeof buf), 0);
                assert_int_equal(vpn_cipher_decrypt(d, iv, buf, sizeof buf), 0);
            }
            assert_int_equal(buf[0], 0x5a);
            assert_int_equal(buf[sizeof buf - 1], 0x5a);
        }
        if (tu_ossl_allocs != before)
            fail_msg("%s: %lu allocations in 1000 packets", info->name, tu_ossl_allocs - before);
        vpn_cipher_del(e);
        vpn_cipher_del(d);
    }
}

int main(void)
{
    /* Must precede every OpenSSL call, or OpenSSL refuses the change. */
    if (tu_ossl_count_install())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cbc_rfc3602),
        cmocka_unit_test(test_cbc_sp800_38a),
        cmocka_unit_test(test_ctr_rfc3686),
        cmocka_unit_test(test_gcm_128),
        cmocka_unit_test(test_gcm_192),
        cmocka_unit_test(test_gcm_256),
        cmocka_unit_test(test_chacha_rfc8439),
        cmocka_unit_test(test_chacha_rfc7634_esp),
        cmocka_unit_test(test_null_identity),
        cmocka_unit_test(test_unsupported_ids),
        cmocka_unit_test(test_wrong_key_length),
        cmocka_unit_test(test_misuse),
        cmocka_unit_test(test_info_and_labels),
        cmocka_unit_test(test_no_alloc_per_packet),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
