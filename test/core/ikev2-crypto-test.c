/*
 * IKE SA protection (Encrypted payload, RFC 7296 3.14 / RFC 5282), AUTH
 * octets (2.15), NAT-D (2.23), cookies (2.6) and traffic-selector
 * narrowing (2.9). Where a value has no published vector it is recomputed
 * here independently with OpenSSL's one-shot HMAC and SHA functions.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "common/rng.h"
#include "common/vpn-err.h"
#include "common/wire.h"
#include "ikev2/ikev2-crypto.h"
#include "ikev2/ikev2-ts.h"
#include "test-util.h"

enum { IKE_HDR = 28 };

typedef struct pair {
    vpn_drbg drbg;
    vpn_rng rng;
    vpn_ikev2_crypto i, r;
} pair;

static void pair_init(pair *p, const vpn_ikev2_suite *s)
{
    static const uint8_t spii[8] = {1, 2, 3, 4, 5, 6, 7, 8}, spir[8] = {9, 10, 11, 12, 13, 14, 15, 16};
    uint8_t ni[32], nr[32];
    vpn_key seed = {.len = 32};
    vpn_iov vni = {ni, sizeof ni}, vnr = {nr, sizeof nr};

    memset(ni, 0x11, sizeof ni);
    memset(nr, 0x22, sizeof nr);
    memset(seed.b, 0x33, seed.len);
    assert_int_equal(vpn_drbg_init(&p->drbg, "seed", 4), 0);
    vpn_rng_init_drbg(&p->rng, &p->drbg);
    assert_int_equal(vpn_ikev2_crypto_init(&p->i, s, &seed, vni, vnr, spii, spir, true), 0);
    assert_int_equal(vpn_ikev2_crypto_init(&p->r, s, &seed, vni, vnr, spii, spir, false), 0);
}

static void pair_free(pair *p)
{
    vpn_ikev2_crypto_free(&p->i);
    vpn_ikev2_crypto_free(&p->r);
    vpn_drbg_free(&p->drbg);
}

/* A message laid out as the codec lays it: header, SK generic header, IV,
 * plaintext padded to the block with the Pad Length last, ICV. */
typedef struct layout {
    size_t iv_off, ct_off, ct_len, icv_off, len;
} layout;

static layout build_plain(const vpn_ikev2_crypto *c, uint8_t *buf, const uint8_t *plain,
                          size_t plain_len)
{
    layout l;
    size_t b = vpn_ikev2_sk_block_len(c), pad = (b - (plain_len + 1) % b) % b;

    memset(buf, 0, IKE_HDR);
    memset(buf, 0xaa, 16);
    buf[16] = 46; /* next payload: SK */
    buf[17] = 0x20;
    buf[18] = 35;
    buf[19] = 0x08;
    l.iv_off = IKE_HDR + 4;
    l.ct_off = l.iv_off + vpn_ikev2_sk_iv_len(c);
    l.ct_len = plain_len + pad + 1;
    l.icv_off = l.ct_off + l.ct_len;
    l.len = l.icv_off + vpn_ikev2_sk_icv_len(c);
    vpn_store32(buf + 24, (uint32_t)l.len);
    buf[IKE_HDR] = 35; /* first inner payload */
    buf[IKE_HDR + 1] = 0;
    vpn_store16(buf + IKE_HDR + 2, (uint16_t)(l.len - IKE_HDR));
    memcpy(buf + l.ct_off, plain, plain_len);
    memset(buf + l.ct_off + plain_len, 0, pad);
    buf[l.ct_off + plain_len + pad] = (uint8_t)pad;
    return l;
}

static int seal(pair *p, uint8_t *buf, const layout *l)
{
    return vpn_ikev2_sk_encrypt(&p->i, &p->rng, buf, l->iv_off, l->ct_off, l->ct_len, l->icv_off);
}

static int open_(vpn_ikev2_crypto *c, const uint8_t *buf, const layout *l, uint8_t *out)
{
    return vpn_ikev2_sk_decrypt(c, buf, l->iv_off, l->ct_off, l->ct_len, l->icv_off, out);
}

static void roundtrip(const vpn_ikev2_suite *s, size_t plain_len)
{
    pair p;
    uint8_t buf[1024], plain[600], out[1024];
    layout l;

    pair_init(&p, s);
    for (size_t i = 0; i < plain_len; i++)
        plain[i] = (uint8_t)(i * 7 + 1);
    l = build_plain(&p.i, buf, plain, plain_len);
    assert_int_equal(seal(&p, buf, &l), 0);
    /* The plaintext is no longer visible. */
    if (plain_len >= 16)
        assert_memory_not_equal(buf + l.ct_off, plain, 16);
    /* The responder opens it; the initiator's own inbound keys cannot. */
    assert_int_equal(open_(&p.r, buf, &l, out), 0);
    assert_memory_equal(out, plain, plain_len);
    assert_int_equal(out[l.ct_len - 1], l.ct_len - 1 - plain_len);
    assert_int_equal(open_(&p.i, buf, &l, out), VPN_ERR_AUTH);

    /* Any flipped bit, in the header (covered by the ICV / the AAD), the
     * IV, the ciphertext or the ICV, fails authentication. */
    for (size_t off = 0; off < l.len; off += 3) {
        buf[off] ^= 0x40;
        assert_int_equal(open_(&p.r, buf, &l, out), VPN_ERR_AUTH);
        buf[off] ^= 0x40;
    }
    assert_int_equal(open_(&p.r, buf, &l, out), 0);
    /* Layouts that do not fit the cipher are refused. */
    {
        layout bad = l;
        bad.ct_off++;
        assert_int_equal(open_(&p.r, buf, &bad, out), VPN_ERR_INVAL);
        assert_int_equal(seal(&p, buf, &bad), VPN_ERR_INVAL);
        bad = l;
        bad.iv_off = bad.ct_off = 4;
        assert_int_equal(open_(&p.r, buf, &bad, out), VPN_ERR_INVAL);
        if (vpn_ikev2_sk_block_len(&p.r) > 1) {
            bad = l;
            bad.ct_len--;
            bad.icv_off--;
            assert_int_equal(open_(&p.r, buf, &bad, out), VPN_ERR_MALFORMED);
            assert_int_equal(seal(&p, buf, &bad), VPN_ERR_INVAL);
        }
    }
    pair_free(&p);
}

static void test_sk_cbc_hmac(void **state)
{
    vpn_ikev2_suite s = {VPN_PRF_HMAC_SHA2_256, VPN_ENCR_AES_CBC, 256, VPN_AUTH_HMAC_SHA2_256_128};
    (void)state;
    roundtrip(&s, 0);
    roundtrip(&s, 15);
    roundtrip(&s, 16);
    roundtrip(&s, 100);
    s.encr_key_bits = 128;
    s.integ = VPN_AUTH_HMAC_SHA2_512_256;
    s.prf = VPN_PRF_HMAC_SHA2_512;
    roundtrip(&s, 57);
}

static void test_sk_gcm(void **state)
{
    vpn_ikev2_suite s = {VPN_PRF_HMAC_SHA2_256, VPN_ENCR_AES_GCM_16, 256, VPN_INTEG_NONE};
    (void)state;
    roundtrip(&s, 0);
    roundtrip(&s, 1);
    roundtrip(&s, 333);
    s.encr_key_bits = 128;
    roundtrip(&s, 40);
}

/* The CBC ICV and ciphertext checked against OpenSSL one-shots with the
 * keys from vpn_ikev2_ike_keys_derive. */
static void test_sk_cbc_independent(void **state)
{
    vpn_ikev2_suite s = {VPN_PRF_HMAC_SHA2_256, VPN_ENCR_AES_CBC, 128, VPN_AUTH_HMAC_SHA2_256_128};
    pair p;
    uint8_t buf[256], plain[20], mac[32], dec[64];
    unsigned mac_len = 0;
    int outl = 0, outl2 = 0;
    layout l;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    (void)state;

    pair_init(&p, &s);
    memset(plain, 0x5c, sizeof plain);
    l = build_plain(&p.i, buf, plain, sizeof plain);
    /* 20 octets + 11 padding + 1 pad length = 32 (two blocks); ICV 16. */
    assert_int_equal(l.len, 28 + 4 + 16 + 32 + 16);
    assert_int_equal(seal(&p, buf, &l), 0);
    HMAC(EVP_sha256(), p.i.keys.sk_ai.b, (int)p.i.keys.sk_ai.len, buf, l.len - 16, mac, &mac_len);
    assert_memory_equal(mac, buf + l.len - 16, 16);
    assert_non_null(ctx);
    assert_int_equal(EVP_DecryptInit_ex(ctx, EVP_aes_128_cbc(), NULL, p.i.keys.sk_ei.b, buf + 32), 1);
    EVP_CIPHER_CTX_set_padding(ctx, 0);
    assert_int_equal(EVP_DecryptUpdate(ctx, dec, &outl, buf + 48, 32), 1);
    assert_int_equal(EVP_DecryptFinal_ex(ctx, dec + outl, &outl2), 1);
    EVP_CIPHER_CTX_free(ctx);
    assert_memory_equal(dec, plain, sizeof plain);
    assert_int_equal(dec[31], 11);
    pair_free(&p);
}

/* The GCM tag checked against OpenSSL: key and salt from SK_ei, nonce =
 * salt | IV, AAD = header through the SK generic header. */
static void test_sk_gcm_independent(void **state)
{
    vpn_ikev2_suite s = {VPN_PRF_HMAC_SHA2_256, VPN_ENCR_AES_GCM_16, 128, VPN_INTEG_NONE};
    pair p;
    uint8_t buf[256], plain[7] = {1, 2, 3, 4, 5, 6, 7}, nonce[12], dec[64], tag[16], iv1[8];
    int outl = 0;
    layout l;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    (void)state;

    pair_init(&p, &s);
    l = build_plain(&p.i, buf, plain, sizeof plain);
    assert_int_equal(l.ct_len, 8); /* no padding for AEAD: 7 + Pad Length */
    assert_int_equal(seal(&p, buf, &l), 0);
    memcpy(nonce, p.i.keys.sk_ei.b + 16, 4);
    memcpy(nonce + 4, buf + l.iv_off, 8);
    assert_non_null(ctx);
    assert_int_equal(EVP_DecryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, NULL, NULL), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, NULL), 1);
    assert_int_equal(EVP_DecryptInit_ex(ctx, NULL, NULL, p.i.keys.sk_ei.b, nonce), 1);
    assert_int_equal(EVP_DecryptUpdate(ctx, NULL, &outl, buf, (int)l.iv_off), 1);
    assert_int_equal(EVP_DecryptUpdate(ctx, dec, &outl, buf + l.ct_off, (int)l.ct_len), 1);
    memcpy(tag, buf + l.icv_off, 16);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag), 1);
    assert_int_equal(EVP_DecryptFinal_ex(ctx, dec + outl, &outl), 1);
    EVP_CIPHER_CTX_free(ctx);
    assert_memory_equal(dec, plain, sizeof plain);
    /* IVs count up: two messages never share one. */
    memcpy(iv1, buf + l.iv_off, 8);
    l = build_plain(&p.i, buf, plain, sizeof plain);
    assert_int_equal(seal(&p, buf, &l), 0);
    assert_memory_not_equal(iv1, buf + l.iv_off, 8);
    pair_free(&p);
}

static void test_auth_psk(void **state)
{
    static const char psk[] = "cisco123";
    uint8_t msg[64], nonce[32], idb[8] = {1, 0, 0, 0, 192, 0, 2, 1};
    vpn_key skp = {.len = 32};
    uint8_t out[64], want[64], inner[64], maced[64], signed_octets[256];
    unsigned l1 = 0, l2 = 0, l3 = 0;
    size_t out_len = 0, so_len = 0;
    vpn_iov vpsk = {(const uint8_t *)psk, 8}, vmsg = {msg, sizeof msg}, vn = {nonce, sizeof nonce},
            vid = {idb, sizeof idb};
    (void)state;

    memset(msg, 0x61, sizeof msg);
    memset(nonce, 0x62, sizeof nonce);
    memset(skp.b, 0x63, skp.len);
    assert_int_equal(vpn_ikev2_auth_psk(VPN_PRF_HMAC_SHA2_256, vpsk, vmsg, vn, &skp, vid, out,
                                        sizeof out, &out_len),
                     0);
    assert_int_equal(out_len, 32);
    /* Independently: prf(prf(psk, "Key Pad for IKEv2"), msg | nonce | prf(SK_p, id)). */
    HMAC(EVP_sha256(), psk, 8, (const uint8_t *)"Key Pad for IKEv2", 17, inner, &l1);
    HMAC(EVP_sha256(), skp.b, 32, idb, sizeof idb, maced, &l2);
    memcpy(signed_octets, msg, sizeof msg);
    memcpy(signed_octets + 64, nonce, 32);
    memcpy(signed_octets + 96, maced, 32);
    HMAC(EVP_sha256(), inner, l1, signed_octets, 128, want, &l3);
    assert_memory_equal(out, want, 32);

    assert_int_equal(vpn_ikev2_signed_octets(VPN_PRF_HMAC_SHA2_256, vmsg, vn, &skp, vid,
                                             signed_octets + 128, 128, &so_len),
                     0);
    assert_int_equal(so_len, 128);
    assert_memory_equal(signed_octets + 128, signed_octets, 128);
    assert_int_equal(vpn_ikev2_signed_octets(VPN_PRF_HMAC_SHA2_256, vmsg, vn, &skp, vid,
                                             signed_octets, 100, &so_len),
                     VPN_ERR_NOSPACE);
    /* Another key gives another value. */
    vpsk.len = 7;
    assert_int_equal(vpn_ikev2_auth_psk(VPN_PRF_HMAC_SHA2_256, vpsk, vmsg, vn, &skp, vid, out,
                                        sizeof out, &out_len),
                     0);
    assert_memory_not_equal(out, want, 32);
    assert_int_equal(vpn_ikev2_auth_psk(99, vpsk, vmsg, vn, &skp, vid, out, sizeof out, &out_len),
                     VPN_ERR_UNSUPPORTED);
}

static void test_natd_cookie(void **state)
{
    uint8_t spii[8] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0}, spir[8] = {0};
    uint8_t ip[4] = {192, 0, 2, 1}, h[20], want[20], raw[22];
    uint8_t secret[32], ni[16], c1[33], c2[33];
    vpn_iov vni = {ni, sizeof ni};
    (void)state;

    assert_int_equal(vpn_ikev2_natd_hash(spii, spir, ip, 4, 500, h), 0);
    memcpy(raw, spii, 8);
    memcpy(raw + 8, spir, 8);
    memcpy(raw + 16, ip, 4);
    raw[20] = 0x01;
    raw[21] = 0xf4;
    SHA1(raw, sizeof raw, want);
    assert_memory_equal(h, want, 20);
    assert_int_equal(vpn_ikev2_natd_hash(spii, spir, ip, 4, 4500, h), 0);
    assert_memory_not_equal(h, want, 20);
    assert_int_equal(vpn_ikev2_natd_hash(spii, spir, ip, 5, 500, h), VPN_ERR_INVAL);

    memset(secret, 7, sizeof secret);
    memset(ni, 8, sizeof ni);
    assert_int_equal(vpn_ikev2_cookie_make(1, secret, vni, ip, 4, spii, c1), 0);
    assert_int_equal(c1[0], 1);
    assert_int_equal(vpn_ikev2_cookie_make(1, secret, vni, ip, 4, spii, c2), 0);
    assert_memory_equal(c1, c2, 33);
    ip[3] = 2; /* another initiator address: another cookie */
    assert_int_equal(vpn_ikev2_cookie_make(1, secret, vni, ip, 4, spii, c2), 0);
    assert_memory_not_equal(c1 + 1, c2 + 1, 32);
}

/* ---- traffic selectors ----------------------------------------------------- */

static vpn_ikev2_selector sel(const char *prefix, uint8_t proto, uint16_t lo, uint16_t hi)
{
    vpn_prefix p;
    vpn_ikev2_selector s;
    assert_int_equal(vpn_prefix_parse(&p, prefix), 0);
    vpn_ikev2_selector_from_prefix(&s, &p, proto);
    s.port_lo = lo;
    s.port_hi = hi;
    return s;
}

static void assert_range(const vpn_ikev2_selector *s, const char *lo, const char *hi)
{
    char b1[64], b2[64];
    assert_string_equal(vpn_addr_str(&s->addr_lo, b1, sizeof b1), lo);
    assert_string_equal(vpn_addr_str(&s->addr_hi, b2, sizeof b2), hi);
}

static void test_ts_narrow(void **state)
{
    vpn_ikev2_selector prop[2], pol[2], out[4], any;
    size_t n;
    (void)state;

    /* Initiator proposes 10.0.0.0/8 any; policy allows 10.1.0.0/16 GRE: the
     * answer is 10.1.0.0/16 proto 47. */
    prop[0] = sel("10.0.0.0/8", 0, 0, 65535);
    pol[0] = sel("10.1.0.0/16", 47, 0, 65535);
    n = vpn_ikev2_ts_narrow(prop, 1, pol, 1, out, 4);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].proto, 47);
    assert_range(&out[0], "10.1.0.0", "10.1.255.255");
    assert_true(vpn_ikev2_ts_subset(out, 1, prop, 1));
    assert_false(vpn_ikev2_ts_subset(prop, 1, out, 1));

    /* Disjoint: nothing (TS_UNACCEPTABLE). */
    prop[0] = sel("192.168.0.0/24", 0, 0, 65535);
    assert_int_equal(vpn_ikev2_ts_narrow(prop, 1, pol, 1, out, 4), 0);
    /* Protocol clash. */
    prop[0] = sel("10.1.2.0/24", 17, 0, 65535);
    assert_int_equal(vpn_ikev2_ts_narrow(prop, 1, pol, 1, out, 4), 0);
    /* Ports narrow. */
    prop[0] = sel("10.1.2.0/24", 17, 500, 4500);
    pol[0] = sel("10.0.0.0/8", 17, 1000, 65535);
    n = vpn_ikev2_ts_narrow(prop, 1, pol, 1, out, 4);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].port_lo, 1000);
    assert_int_equal(out[0].port_hi, 4500);
    /* Family mismatch never intersects. */
    prop[0] = sel("2001:db8::/32", 0, 0, 65535);
    assert_int_equal(vpn_ikev2_ts_narrow(prop, 1, pol, 1, out, 4), 0);
    /* Empty policy: accept the proposal as it is. */
    n = vpn_ikev2_ts_narrow(prop, 1, NULL, 0, out, 4);
    assert_int_equal(n, 1);
    assert_range(&out[0], "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff");
    /* Two proposals, two policies: each non-empty pair, no duplicates. */
    prop[0] = sel("10.0.0.0/8", 0, 0, 65535);
    prop[1] = sel("10.0.0.0/8", 0, 0, 65535);
    pol[0] = sel("10.1.0.0/16", 0, 0, 65535);
    pol[1] = sel("10.2.0.0/16", 0, 0, 65535);
    n = vpn_ikev2_ts_narrow(prop, 2, pol, 2, out, 4);
    assert_int_equal(n, 2);
    assert_range(&out[1], "10.2.0.0", "10.2.255.255");
    /* OPAQUE ports meet only "any" ports. */
    prop[0] = sel("10.1.0.0/16", 0, 65535, 0);
    assert_true(vpn_ikev2_selector_intersect(&prop[0], &pol[0], &out[0]));
    assert_true(out[0].port_lo > out[0].port_hi);
    pol[0].port_lo = 80;
    pol[0].port_hi = 80;
    assert_false(vpn_ikev2_selector_intersect(&prop[0], &pol[0], &out[0]));
    /* Invalid selectors never match. */
    vpn_ikev2_selector_any(&any, VPN_AF_INET);
    prop[0] = any;
    prop[0].addr_lo.b[0] = 200;
    prop[0].addr_hi.b[0] = 100;
    assert_false(vpn_ikev2_selector_valid(&prop[0]));
    assert_int_equal(vpn_ikev2_ts_narrow(prop, 1, &any, 1, out, 4), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sk_cbc_hmac),
        cmocka_unit_test(test_sk_gcm),
        cmocka_unit_test(test_sk_cbc_independent),
        cmocka_unit_test(test_sk_gcm_independent),
        cmocka_unit_test(test_auth_psk),
        cmocka_unit_test(test_natd_cookie),
        cmocka_unit_test(test_ts_narrow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
