/*
 * Published ESP test vectors as whole packets, through vpn_esp_encap (byte
 * for byte) and back through vpn_esp_decap:
 *   - RFC 3602 section 4, case #5: AES-CBC-128 transport-mode ping;
 *   - draft-mcgrew-gcm-test-01 section 4 (AES-GCM in ESP), test cases 3, 4
 *     and 9 (128- and 256-bit keys; 32-bit and extended sequence numbers);
 *   - RFC 7634 appendix A: ChaCha20-Poly1305 tunnel-mode ESP.
 * The vectors' IVs are arbitrary values, so these SAs take their IVs from a
 * scripted RNG (VPN_SA_IV_RANDOM) that returns the vector's IV on the
 * packet that carries the vector's sequence number.
 */
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "common/wire.h"
#include "crypto/crypto-ids.h"
#include "ipsec/esp.h"
#include "ipsec/ip.h"
#include "pkt-build.h"
#include "test-util.h"

#define CAP 4096
#define HEAD 256

typedef struct vec {
    const char *name;
    uint16_t encr_id, key_bits;
    const char *key;         /* hex: key || salt */
    uint32_t spi;
    uint64_t seq;            /* the vector's packet is the seq-th one sent */
    bool esn;
    const char *iv;
    vpn_esp_mode mode;
    const char *src, *dst;   /* the IP header's addresses */
    const char *in;          /* the packet to protect (hex) */
    const char *out;         /* the expected protected packet (hex) */
    size_t out_skip;         /* bytes of out's header not fixed by the vector */
} vec;

/* A transport-mode packet: an IPv4 header we make up (protocol from the
 * vector's next header) in front of the vector's ESP payload. */
static size_t transport_input(uint8_t *out, const char *src, const char *dst, uint8_t proto,
                              const uint8_t *payload, size_t n)
{
    vpn_ip_hdr h;
    memset(&h, 0, sizeof h);
    h.src = tu_addr(src);
    h.dst = tu_addr(dst);
    h.proto = proto;
    h.ttl = 64;
    h.id = 0x0102;
    assert_int_equal(vpn_ip_hdr_write(out, &h, n), 0);
    memcpy(out + 20, payload, n);
    return 20 + n;
}

static void run_vector(const vec *v, const uint8_t *input, size_t in_len, const uint8_t *want,
                       size_t want_len, size_t want_off)
{
    vpn_rng rng;
    tu_rng st;
    vpn_sad *tx, *rx;
    vpn_sa *out, *in;
    vpn_sa_config c;
    size_t key_len;
    uint8_t *key = tu_hex(v->key, &key_len);
    size_t iv_len;
    uint8_t *iv = tu_hex(v->iv, &iv_len);
    uint8_t *buf = malloc(CAP);
    vpn_pkt p;
    vpn_esp_rx r;

    assert_non_null(buf);
    tu_rng_init(&rng, &st);
    st.script = iv;
    st.script_len = iv_len;
    st.skip = (uint32_t)(v->seq - 1);
    assert_int_equal(vpn_sad_new(&tx, &rng), 0);
    assert_int_equal(vpn_sad_new(&rx, &rng), 0);

    memset(&c, 0, sizeof c);
    c.spi = v->spi;
    c.dir = VPN_SA_OUT;
    c.mode = v->mode;
    c.encr_id = v->encr_id;
    c.encr_key_bits = v->key_bits;
    c.encr_key = key;
    c.encr_key_len = key_len;
    c.esn = v->esn;
    c.iv_mode = VPN_SA_IV_RANDOM;
    c.dscp = VPN_SA_DSCP_COPY;
    c.local = tu_addr(v->src);
    c.remote = tu_addr(v->dst);
    assert_int_equal(vpn_sad_add(tx, &c, 0, &out), 0);
    c.dir = VPN_SA_IN;
    c.local = tu_addr(v->dst);
    c.remote = tu_addr(v->src);
    c.replay_window = 64;
    assert_int_equal(vpn_sad_add(rx, &c, 0, &in), 0);

    /* Packets before the vector's sequence number. */
    for (uint64_t s = 1; s <= v->seq; s++) {
        vpn_pkt_init(&p, buf, CAP, HEAD);
        memcpy(vpn_pkt_put(&p, in_len), input, in_len);
        assert_int_equal(vpn_esp_encap(out, &p, 0), 0);
    }
    assert_int_equal(p.len, want_len);
    /* The vector covers everything from want_off on; the header before it
     * is ours and must at least parse and point at ESP. */
    if (want_off == 0)
        assert_memory_equal(vpn_pkt_data(&p), want, want_len);
    else
        tu_assert_hex(vpn_pkt_data(&p) + want_off, want_len - want_off, v->out);
    {
        vpn_ip_info ip;
        assert_int_equal(vpn_ip_parse(vpn_pkt_data(&p), p.len, &ip), 0);
        assert_int_equal(ip.proto, VPN_IPPROTO_ESP);
        assert_int_equal(ip.total_len, want_len);
        if (ip.version == 4)
            assert_int_equal(vpn_ip_csum(vpn_pkt_data(&p), 20), 0);
    }

    /* Back: the receiver gets the original packet. Its window must first
     * be near the vector's number, as if the earlier packets had come. */
    assert_int_equal(vpn_esp_decap(rx, &p, 0, &r), 0);
    assert_int_equal(r.verdict, VPN_ESP_DELIVER);
    assert_ptr_equal(r.sa, in);
    assert_true(r.seq == v->seq);
    assert_int_equal(p.len, in_len);
    assert_memory_equal(vpn_pkt_data(&p), input, in_len);
    assert_int_equal(vpn_sa_get_stats(in)->pkts_in, 1);

    vpn_sad_del(tx);
    vpn_sad_del(rx);
    free(key);
    free(iv);
    free(buf);
}

/* RFC 3602 4, case #5: the whole packet before and after, headers included. */
static void test_rfc3602_case5(void **state)
{
    (void)state;
    static const vec v = {
        "RFC 3602 #5", VPN_ENCR_AES_CBC, 128, "90d382b410eeba7ad938c46cec1a82bf", 0x4321, 1,
        false, "e96e8c08ab465763fd098d45dd3ff893", VPN_ESP_TRANSPORT, "192.168.123.3",
        "192.168.123.100",
        "4500005408f200004001f9fec0a87b03c0a87b64"
        "08000ebda70a00008e9c083db95b070008090a0b0c0d0e0f1011121314151617"
        "18191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637",
        "4500007c08f200004032f9a5c0a87b03c0a87b64"
        "0000432100000001"
        "e96e8c08ab465763fd098d45dd3ff893"
        "f663c25d325c18c6a9453e194e120849a4870b66cc6b9965330013b4898dc856"
        "a4699e523a55db080b59ec3a8e4b7e52775b07d1db34ed9c538ab50c551b874a"
        "a269add047ad2d5913ac19b7cfbad4a6",
        0};
    size_t in_len, out_len;
    uint8_t *in = tu_hex(v.in, &in_len), *out = tu_hex(v.out, &out_len);
    run_vector(&v, in, in_len, out, out_len, 0);
    free(in);
    free(out);
}

/* draft-mcgrew-gcm-test-01 test cases: ESP payloads whose next header is 1,
 * so they ride as transport mode behind an IPv4 header of ours. */
static void gcm_case(const char *key, uint32_t spi, uint64_t seq, bool esn, const char *iv,
                     const char *payload, const char *esp)
{
    vec v;
    size_t pl_len, esp_len;
    uint8_t *pl = tu_hex(payload, &pl_len);
    uint8_t input[512];
    size_t in_len = transport_input(input, "192.0.2.1", "192.0.2.2", VPN_IPPROTO_ICMP, pl, pl_len);
    uint8_t *want = tu_hex(esp, &esp_len);

    memset(&v, 0, sizeof v);
    v.name = "gcm";
    v.encr_id = VPN_ENCR_AES_GCM_16;
    v.key = key;
    {
        size_t kl;
        uint8_t *k = tu_hex(key, &kl);
        v.key_bits = (uint16_t)((kl - 4) * 8);
        free(k);
    }
    v.spi = spi;
    v.seq = seq;
    v.esn = esn;
    v.iv = iv;
    v.mode = VPN_ESP_TRANSPORT;
    v.src = "192.0.2.1";
    v.dst = "192.0.2.2";
    v.out = esp;
    run_vector(&v, input, in_len, want, 20 + esp_len, 20);
    free(pl);
    free(want);
}

static void test_gcm_case3(void **state)
{
    (void)state;
    gcm_case("feffe9928665731c6d6a8f9467308308" "cafebabe", 0x0000a5f8, 10, false,
             "facedbaddecaf888",
             /* the payload before the 2-byte trailer (pad length 0, next header 1) */
             "4500003e698f000080114dccc0a80102c0a801010a980035002a2343b2d00100"
             "00010000000000000373697009637962" "65726369747902646b0000010001",
             "0000a5f80000000afacedbaddecaf888"
             "deb22cd9b07c72c16e3a65beeb8df304a5a5897d33ae530f1ba76d5d114d2a5c"
             "3de81827c10e9a4f51330d0eec416642cfbb85a5b47e48a4ec3b9ba95d918bd1"
             "83b70d3aa8bc6ee4c309e9d85a41ad4a");
}

static void test_gcm_case4(void **state)
{
    (void)state;
    gcm_case("abbccddef00112233445566778899aababbccddef00112233445566778899aab" "11223344",
             0x4a2cbfe3, 2, false, "0102030405060708",
             "4500003069a6400080062690c0a801029389155e0a9e008b2dc57ee000000000"
             "7002400020bf0000020405b40101 0402",
             "4a2cbfe3000000020102030405060708"
             "ff425c9b724599df7a3bcd510194e00d6a78107f1b0b1cbf06efae9d65a5d763"
             "748a637985771d347f0545659f14e99def842d8eb335f4eecfdbf831824b4c49"
             "15956c96");
}

/* Extended sequence numbers: the AAD carries the high 32 bits (RFC 4106 5). */
static void test_gcm_case9_esn(void **state)
{
    (void)state;
    gcm_case("abbccddef00112233445566778899aab" "decaf888", 0x00000100, 1, true,
             "cafedebaceface74",
             "4500004933ba00007f119106c3fb1d10c2b1d326c02831ce0035dd7b800302d5"
             "00004e20001e8c18d75b81dc91baa0476b91b924b280389d92c963bac046ec95"
             "9b6266c04722b14923",
             "0000010000000001cafedebaceface74"
             "18a6fd42f72cbf4ab2a2ea901f73d814e3e7f243d95412e1c349c1d2fbec168f"
             "9190feebaf2cb01984e65863965d7472b79da345e0e780191f0d2f0e0f496c22"
             "6f2127b27db35724e7845d68651f57e65f354f75ff17015769623436");
}

/* RFC 7634 appendix A: tunnel mode, the inner packet is an ICMP echo. */
static void test_rfc7634_chacha(void **state)
{
    (void)state;
    static const char *inner =
        "45000054a6f2000040 01e778c6336405c000020508005b7a3a080000553bec10"
        "0007362708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223"
        "2425262728292a2b2c2d2e2f3031323334353637";
    vec v;
    size_t in_len, esp_len;
    uint8_t *in = tu_hex(inner, &in_len);
    const char *esp =
        "010203040000000510111213141516 17"
        "24039428b97f417e3c13753a4f05087b67c352e6a7fab1b982d466ef407ae5c6"
        "14ee8099d52844eb61aa95dfab4c02f72aa71e7c4c4f64c9befe2facc638e8f3"
        "cbec163fac469b502773f6fb94e664da9165b82829f641e0"
        "76aaa8266b7fb0f7b11b369907e1ad43";
    uint8_t *want = tu_hex(esp, &esp_len);

    memset(&v, 0, sizeof v);
    v.encr_id = VPN_ENCR_CHACHA20_POLY1305;
    v.key = "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f" "a0a1a2a3";
    v.spi = 0x01020304;
    v.seq = 5;
    v.iv = "1011121314151617";
    v.mode = VPN_ESP_TUNNEL;
    v.src = "203.0.113.153";
    v.dst = "203.0.113.5";
    v.out = esp;
    assert_int_equal(in_len, 84);
    run_vector(&v, in, in_len, want, 20 + esp_len, 20);
    free(in);
    free(want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3602_case5),
        cmocka_unit_test(test_gcm_case3),
        cmocka_unit_test(test_gcm_case4),
        cmocka_unit_test(test_gcm_case9_esn),
        cmocka_unit_test(test_rfc7634_chacha),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
