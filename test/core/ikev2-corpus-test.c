/*
 * The seed corpus of the ikev2-fuzz-parse target: valid messages of every
 * exchange, built here with the codec. The test builds each one, checks
 * that it parses and round-trips, and that the committed file under
 * test/fuzz/corpus/ikev2-fuzz-parse/ holds exactly these bytes, so the
 * seeds cannot rot as the codec changes. Run with VPN_REGEN_CORPUS=1 to
 * rewrite the files instead.
 *
 * Files named inner-*.bin are "first payload type" + a decrypted SK chain,
 * which the fuzzer feeds to vpn_ikev2_msg_parse_inner.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "ikev2/ikev2-codec.h"
#include "test-util.h"

#define CORPUS_DIR VPN_SOURCE_DIR "/test/fuzz/corpus/ikev2-fuzz-parse/"

typedef struct seed {
    uint8_t buf[2048];
    size_t len;
} seed;

static void fill(uint8_t *p, size_t n, uint8_t from)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(from + 7 * i);
}

static vpn_ikev2_hdr hdr(uint8_t exch, uint8_t flags, uint32_t id)
{
    vpn_ikev2_hdr h = {
        .spi_i = 0x5a5a0001c0ffee01ull,
        .spi_r = exch == VPN_IKEV2_IKE_SA_INIT && !(flags & VPN_IKEV2_FLAG_R)
                     ? 0
                     : 0x77aa00ff12345678ull,
        .version = VPN_IKEV2_VERSION,
        .exchange = exch,
        .flags = flags,
        .msg_id = id,
    };
    return h;
}

static void ike_props(vpn_ikev2_proposal p[2])
{
    memset(p, 0, 2 * sizeof p[0]);
    p[0] = (vpn_ikev2_proposal){.num = 1, .proto = VPN_IKEV2_PROTO_IKE, .n_xform = 4};
    p[0].xform[0] = (vpn_ikev2_xform){VPN_IKEV2_XF_ENCR, VPN_ENCR_AES_GCM_16, 256, false};
    p[0].xform[1] = (vpn_ikev2_xform){VPN_IKEV2_XF_PRF, VPN_PRF_HMAC_SHA2_384, 0, false};
    p[0].xform[2] = (vpn_ikev2_xform){VPN_IKEV2_XF_DH, VPN_DH_ECP_256, 0, false};
    p[0].xform[3] = (vpn_ikev2_xform){VPN_IKEV2_XF_DH, VPN_DH_CURVE25519, 0, false};
    p[1] = (vpn_ikev2_proposal){.num = 2, .proto = VPN_IKEV2_PROTO_IKE, .n_xform = 5};
    p[1].xform[0] = (vpn_ikev2_xform){VPN_IKEV2_XF_ENCR, VPN_ENCR_AES_CBC, 256, false};
    p[1].xform[1] = (vpn_ikev2_xform){VPN_IKEV2_XF_ENCR, VPN_ENCR_AES_CBC, 128, false};
    p[1].xform[2] = (vpn_ikev2_xform){VPN_IKEV2_XF_PRF, VPN_PRF_HMAC_SHA2_256, 0, false};
    p[1].xform[3] = (vpn_ikev2_xform){VPN_IKEV2_XF_INTEG, VPN_AUTH_HMAC_SHA2_256_128, 0, false};
    p[1].xform[4] = (vpn_ikev2_xform){VPN_IKEV2_XF_DH, VPN_DH_MODP_2048, 0, false};
}

static vpn_ikev2_proposal esp_prop(void)
{
    vpn_ikev2_proposal p = {.num = 1, .proto = VPN_IKEV2_PROTO_ESP, .spi_len = 4, .n_xform = 4};

    memcpy(p.spi, "\xc1\x00\x00\x2a", 4);
    p.xform[0] = (vpn_ikev2_xform){VPN_IKEV2_XF_ENCR, VPN_ENCR_AES_GCM_16, 128, false};
    p.xform[1] = (vpn_ikev2_xform){VPN_IKEV2_XF_DH, VPN_DH_MODP_2048, 0, false};
    p.xform[2] = (vpn_ikev2_xform){VPN_IKEV2_XF_DH, VPN_DH_NONE, 0, false};
    p.xform[3] = (vpn_ikev2_xform){VPN_IKEV2_XF_ESN, VPN_IKEV2_ESN_NO, 0, false};
    return p;
}

static vpn_ikev2_ts ts4(uint8_t a, uint8_t b)
{
    vpn_ikev2_ts t;

    memset(&t, 0, sizeof t);
    t.type = VPN_IKEV2_TS_IPV4_ADDR_RANGE;
    t.end_port = 65535;
    t.addr_len = 4;
    t.start[0] = t.end[0] = 10;
    t.start[1] = t.end[1] = a;
    t.start[2] = t.end[2] = b;
    t.end[3] = 255;
    return t;
}

#define OK(x) assert_int_equal((x), 0)

static void mk_sa_init_request(seed *s)
{
    vpn_ikev2_hdr h = hdr(VPN_IKEV2_IKE_SA_INIT, VPN_IKEV2_FLAG_I, 0);
    vpn_ikev2_proposal p[2];
    uint8_t ke[64], ni[32], nat[20];
    static const uint8_t hashes[6] = {0, 2, 0, 3, 0, 4};
    vpn_ikev2_bld b;
    vpn_wr w;

    ike_props(p);
    fill(ke, sizeof ke, 1);
    fill(ni, sizeof ni, 2);
    fill(nat, sizeof nat, 3);
    vpn_wr_init(&w, s->buf, sizeof s->buf);
    OK(vpn_ikev2_bld_init(&b, &w, &h));
    OK(vpn_ikev2_bld_sa(&b, p, 2));
    OK(vpn_ikev2_bld_ke(&b, VPN_DH_ECP_256, ke, sizeof ke));
    OK(vpn_ikev2_bld_nonce(&b, ni, sizeof ni));
    OK(vpn_ikev2_bld_notify(&b, 0, NULL, 0, VPN_IKEV2_N_NAT_DETECTION_SOURCE_IP, nat, 20));
    OK(vpn_ikev2_bld_notify(&b, 0, NULL, 0, VPN_IKEV2_N_NAT_DETECTION_DESTINATION_IP, nat, 20));
    OK(vpn_ikev2_bld_notify(&b, 0, NULL, 0, VPN_IKEV2_N_IKEV2_FRAGMENTATION_SUPPORTED, NULL, 0));
    OK(vpn_ikev2_bld_notify(&b, 0, NULL, 0, VPN_IKEV2_N_SIGNATURE_HASH_ALGORITHMS, hashes, 6));
    OK(vpn_ikev2_bld_finish(&b, &s->len));
}

static void mk_sa_init_response(seed *s)
{
    vpn_ikev2_hdr h = hdr(VPN_IKEV2_IKE_SA_INIT, VPN_IKEV2_FLAG_R, 0);
    vpn_ikev2_proposal p[2];
    uint8_t ke[256], nr[32], nat[20], ca[40], vid[16];
    vpn_ikev2_bld b;
    vpn_wr w;

    ike_props(p);
    /* the narrowed second proposal */
    p[1].n_xform = 4;
    p[1].xform[1] = p[1].xform[2];
    p[1].xform[2] = p[1].xform[3];
    p[1].xform[3] = p[1].xform[4];
    fill(ke, sizeof ke, 4);
    fill(nr, sizeof nr, 5);
    fill(nat, sizeof nat, 6);
    fill(ca, sizeof ca, 7);
    fill(vid, sizeof vid, 8);
    vpn_wr_init(&w, s->buf, sizeof s->buf);
    OK(vpn_ikev2_bld_init(&b, &w, &h));
    OK(vpn_ikev2_bld_sa(&b, &p[1], 1));
    OK(vpn_ikev2_bld_ke(&b, VPN_DH_MODP_2048, ke, sizeof ke));
    OK(vpn_ikev2_bld_nonce(&b, nr, sizeof nr));
    OK(vpn_ikev2_bld_notify(&b, 0, NULL, 0, VPN_IKEV2_N_NAT_DETECTION_SOURCE_IP, nat, 20));
    OK(vpn_ikev2_bld_notify(&b, 0, NULL, 0, VPN_IKEV2_N_NAT_DETECTION_DESTINATION_IP, nat, 20));
    OK(vpn_ikev2_bld_cert(&b, VPN_IKEV2_PL_CERTREQ, VPN_IKEV2_CERT_X509_SIG, ca, sizeof ca));
    OK(vpn_ikev2_bld_vendor(&b, vid, sizeof vid));
    OK(vpn_ikev2_bld_finish(&b, &s->len));
}

static void mk_cookie_and_invalid_ke(seed *s)
{
    vpn_ikev2_hdr h = hdr(VPN_IKEV2_IKE_SA_INIT, VPN_IKEV2_FLAG_R, 0);
    uint8_t cookie[16];
    static const uint8_t group[2] = {0, 19};
    vpn_ikev2_bld b;
    vpn_wr w;

    fill(cookie, sizeof cookie, 9);
    vpn_wr_init(&w, s->buf, sizeof s->buf);
    OK(vpn_ikev2_bld_init(&b, &w, &h));
    OK(vpn_ikev2_bld_notify(&b, 0, NULL, 0, VPN_IKEV2_N_COOKIE, cookie, sizeof cookie));
    OK(vpn_ikev2_bld_notify(&b, 0, NULL, 0, VPN_IKEV2_N_INVALID_KE_PAYLOAD, group, 2));
    OK(vpn_ikev2_bld_finish(&b, &s->len));
}

/* The IKE_AUTH request's inner chain, into an open SK or a bare chain. */
static void ike_auth_inner(vpn_ikev2_bld *b)
{
    static const uint8_t alg[15] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                    0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00};
    uint8_t cert[64], sig[64], ca[20];
    vpn_ikev2_proposal esp = esp_prop();
    vpn_ikev2_ts tsi[2] = {ts4(1, 0), ts4(1, 1)}, tsr = ts4(2, 0);
    vpn_ikev2_cp_attr cp[3] = {{VPN_IKEV2_CFG_INTERNAL_IP4_ADDRESS, {NULL, 0}},
                               {VPN_IKEV2_CFG_INTERNAL_IP4_DNS, {NULL, 0}},
                               {VPN_IKEV2_CFG_INTERNAL_IP6_ADDRESS, {NULL, 0}}};

    fill(cert, sizeof cert, 10);
    fill(sig, sizeof sig, 11);
    fill(ca, sizeof ca, 12);
    OK(vpn_ikev2_bld_id(b, VPN_IKEV2_PL_IDI, VPN_IKEV2_ID_FQDN, (const uint8_t *)"spoke1.example",
                        14));
    OK(vpn_ikev2_bld_cert(b, VPN_IKEV2_PL_CERT, VPN_IKEV2_CERT_X509_SIG, cert, sizeof cert));
    OK(vpn_ikev2_bld_cert(b, VPN_IKEV2_PL_CERTREQ, VPN_IKEV2_CERT_X509_SIG, ca, sizeof ca));
    OK(vpn_ikev2_bld_notify(b, 0, NULL, 0, VPN_IKEV2_N_INITIAL_CONTACT, NULL, 0));
    OK(vpn_ikev2_bld_id(b, VPN_IKEV2_PL_IDR, VPN_IKEV2_ID_IPV4_ADDR,
                        (const uint8_t *)"\xc0\x00\x02\x01", 4));
    OK(vpn_ikev2_bld_auth_ds(b, alg, sizeof alg, sig, sizeof sig));
    OK(vpn_ikev2_bld_cp(b, VPN_IKEV2_CFG_REQUEST, cp, 3));
    OK(vpn_ikev2_bld_notify(b, 0, NULL, 0, VPN_IKEV2_N_USE_TRANSPORT_MODE, NULL, 0));
    OK(vpn_ikev2_bld_sa(b, &esp, 1));
    OK(vpn_ikev2_bld_ts(b, VPN_IKEV2_PL_TSI, tsi, 2));
    OK(vpn_ikev2_bld_ts(b, VPN_IKEV2_PL_TSR, &tsr, 1));
}

static void mk_ike_auth_request(seed *s)
{
    vpn_ikev2_hdr h = hdr(VPN_IKEV2_IKE_AUTH, VPN_IKEV2_FLAG_I, 1);
    vpn_ikev2_sk_region r;
    vpn_ikev2_bld b;
    vpn_wr w;

    vpn_wr_init(&w, s->buf, sizeof s->buf);
    OK(vpn_ikev2_bld_init(&b, &w, &h));
    OK(vpn_ikev2_bld_sk_open(&b, 16));
    ike_auth_inner(&b);
    OK(vpn_ikev2_bld_sk_close(&b, 16, 16, &r));
    OK(vpn_ikev2_bld_finish(&b, &s->len));
}

static void mk_ike_auth_eap_response(seed *s)
{
    vpn_ikev2_hdr h = hdr(VPN_IKEV2_IKE_AUTH, VPN_IKEV2_FLAG_R, 1);
    static const uint8_t md5_challenge[22] = {1, 7, 0, 22, 4, 16, 1, 2, 3, 4, 5, 6, 7, 8,
                                              9, 10, 11, 12, 13, 14, 15, 16};
    uint8_t mac[48];
    vpn_ikev2_sk_region r;
    vpn_ikev2_bld b;
    vpn_wr w;

    fill(mac, sizeof mac, 13);
    vpn_wr_init(&w, s->buf, sizeof s->buf);
    OK(vpn_ikev2_bld_init(&b, &w, &h));
    OK(vpn_ikev2_bld_sk_open(&b, 8));
    OK(vpn_ikev2_bld_id(&b, VPN_IKEV2_PL_IDR, VPN_IKEV2_ID_DER_ASN1_DN,
                        (const uint8_t *)"\x30\x0b\x31\x09\x30\x07\x06\x03\x55\x04\x03\x0c\x00", 13));
    OK(vpn_ikev2_bld_auth(&b, VPN_IKEV2_AUTH_PSK, mac, sizeof mac));
    OK(vpn_ikev2_bld_eap(&b, md5_challenge, sizeof md5_challenge));
    OK(vpn_ikev2_bld_sk_close(&b, 1, 16, &r));
    OK(vpn_ikev2_bld_finish(&b, &s->len));
}

static void mk_create_child_sa(seed *s)
{
    vpn_ikev2_hdr h = hdr(VPN_IKEV2_CREATE_CHILD_SA, VPN_IKEV2_FLAG_I, 2);
    vpn_ikev2_proposal esp = esp_prop();
    vpn_ikev2_ts t = ts4(3, 0);
    uint8_t ni[24], ke[256];
    vpn_ikev2_sk_region r;
    vpn_ikev2_bld b;
    vpn_wr w;

    fill(ni, sizeof ni, 14);
    fill(ke, sizeof ke, 15);
    vpn_wr_init(&w, s->buf, sizeof s->buf);
    OK(vpn_ikev2_bld_init(&b, &w, &h));
    OK(vpn_ikev2_bld_sk_open(&b, 16));
    OK(vpn_ikev2_bld_notify(&b, VPN_IKEV2_PROTO_ESP, (const uint8_t *)"\xc1\x00\x00\x29", 4,
                            VPN_IKEV2_N_REKEY_SA, NULL, 0));
    OK(vpn_ikev2_bld_sa(&b, &esp, 1));
    OK(vpn_ikev2_bld_nonce(&b, ni, sizeof ni));
    OK(vpn_ikev2_bld_ke(&b, VPN_DH_MODP_2048, ke, sizeof ke));
    OK(vpn_ikev2_bld_ts(&b, VPN_IKEV2_PL_TSI, &t, 1));
    OK(vpn_ikev2_bld_ts(&b, VPN_IKEV2_PL_TSR, &t, 1));
    OK(vpn_ikev2_bld_sk_close(&b, 16, 12, &r));
    OK(vpn_ikev2_bld_finish(&b, &s->len));
}

static void mk_informational_delete(seed *s)
{
    vpn_ikev2_hdr h = hdr(VPN_IKEV2_INFORMATIONAL, VPN_IKEV2_FLAG_I, 3);
    static const uint8_t spis[8] = {0xc1, 0, 0, 0x29, 0xc1, 0, 0, 0x2a};
    vpn_ikev2_sk_region r;
    vpn_ikev2_bld b;
    vpn_wr w;

    vpn_wr_init(&w, s->buf, sizeof s->buf);
    OK(vpn_ikev2_bld_init(&b, &w, &h));
    OK(vpn_ikev2_bld_sk_open(&b, 16));
    OK(vpn_ikev2_bld_delete(&b, VPN_IKEV2_PROTO_ESP, 4, spis, 2));
    OK(vpn_ikev2_bld_delete(&b, VPN_IKEV2_PROTO_IKE, 0, NULL, 0));
    OK(vpn_ikev2_bld_sk_close(&b, 16, 16, &r));
    OK(vpn_ikev2_bld_finish(&b, &s->len));
}

static void mk_skf_fragment(seed *s)
{
    vpn_ikev2_hdr h = hdr(VPN_IKEV2_IKE_AUTH, VPN_IKEV2_FLAG_I, 1);
    uint8_t plain[1024];
    size_t plen;
    vpn_ikev2_sk_region r;
    vpn_ikev2_bld b, ib;
    vpn_wr w, iw;

    vpn_wr_init(&iw, plain, sizeof plain);
    OK(vpn_ikev2_bld_init_inner(&ib, &iw));
    ike_auth_inner(&ib);
    OK(vpn_ikev2_bld_finish(&ib, &plen));
    vpn_wr_init(&w, s->buf, sizeof s->buf);
    OK(vpn_ikev2_bld_init(&b, &w, &h));
    OK(vpn_ikev2_bld_skf(&b, 1, 2, ib.first, 16, plain, plen / 2, 16, 16, &r));
    OK(vpn_ikev2_bld_finish(&b, &s->len));
}

static void mk_unknown_payloads(seed *s)
{
    vpn_ikev2_hdr h = hdr(VPN_IKEV2_INFORMATIONAL, VPN_IKEV2_FLAG_R, 4);
    vpn_ikev2_bld b;
    vpn_wr w;

    vpn_wr_init(&w, s->buf, sizeof s->buf);
    OK(vpn_ikev2_bld_init(&b, &w, &h));
    OK(vpn_ikev2_bld_raw(&b, 150, false, (const uint8_t *)"opaque", 6));
    OK(vpn_ikev2_bld_notify(&b, 0, NULL, 0, VPN_IKEV2_N_AUTHENTICATION_FAILED, NULL, 0));
    OK(vpn_ikev2_bld_raw(&b, 151, true, NULL, 0));
    OK(vpn_ikev2_bld_finish(&b, &s->len));
}

/* "first type" + the IKE_AUTH chain, for the fuzzer's inner-parse path */
static void mk_inner_ike_auth(seed *s)
{
    vpn_ikev2_bld ib;
    vpn_wr iw;
    size_t plen;

    vpn_wr_init(&iw, s->buf + 1, sizeof s->buf - 1);
    OK(vpn_ikev2_bld_init_inner(&ib, &iw));
    ike_auth_inner(&ib);
    OK(vpn_ikev2_bld_finish(&ib, &plen));
    s->buf[0] = ib.first;
    s->len = plen + 1;
}

static const struct {
    const char *name;
    void (*make)(seed *);
    int parse_rc; /* what vpn_ikev2_msg_parse says about it */
    bool inner;   /* type octet + chain for vpn_ikev2_msg_parse_inner */
} seeds[] = {
    {"ike-sa-init-request.bin", mk_sa_init_request, 0, false},
    {"ike-sa-init-response.bin", mk_sa_init_response, 0, false},
    {"ike-sa-init-cookie.bin", mk_cookie_and_invalid_ke, 0, false},
    {"ike-auth-request-sk.bin", mk_ike_auth_request, 0, false},
    {"ike-auth-eap-sk.bin", mk_ike_auth_eap_response, 0, false},
    {"create-child-sa-sk.bin", mk_create_child_sa, 0, false},
    {"informational-delete-sk.bin", mk_informational_delete, 0, false},
    {"ike-auth-skf-1of2.bin", mk_skf_fragment, 0, false},
    /* an unknown critical payload: refused, but a good seed for that path */
    {"unknown-payloads.bin", mk_unknown_payloads, VPN_ERR_UNSUPPORTED, false},
    {"inner-ike-auth.bin", mk_inner_ike_auth, 0, true},
};

static void test_seeds(void **state)
{
    (void)state;
    const char *regen = getenv("VPN_REGEN_CORPUS");

    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        static seed s;
        static uint8_t file[4096];
        char path[512];
        vpn_ikev2_msg m;
        FILE *f;
        size_t flen;

        memset(&s, 0, sizeof s);
        seeds[i].make(&s);
        if (!seeds[i].inner) {
            assert_int_equal(vpn_ikev2_msg_parse(s.buf, s.len, &m), seeds[i].parse_rc);
        } else {
            assert_int_equal(vpn_ikev2_msg_parse_inner(s.buf + 1, s.len - 1, s.buf[0], &m), 0);
            assert_int_equal(m.n, 11);
        }

        snprintf(path, sizeof path, "%s%s", CORPUS_DIR, seeds[i].name);
        if (regen && *regen) {
            f = fopen(path, "wb");
            assert_non_null(f);
            assert_int_equal(fwrite(s.buf, 1, s.len, f), s.len);
            fclose(f);
            continue;
        }
        f = fopen(path, "rb");
        if (!f)
            fail_msg("missing seed %s (run with VPN_REGEN_CORPUS=1)", path);
        flen = fread(file, 1, sizeof file, f);
        fclose(f);
        if (flen != s.len || memcmp(file, s.buf, s.len) != 0)
            fail_msg("seed %s differs from what the codec builds now "
                     "(VPN_REGEN_CORPUS=1 rewrites it)", seeds[i].name);
    }
}

/* Every encrypted seed holds a parseable chain where the "ciphertext" is. */
static void test_seed_plaintexts_parse(void **state)
{
    (void)state;
    static const struct {
        void (*make)(seed *);
        size_t iv, icv, blk, inner_n;
    } enc[] = {
        {mk_ike_auth_request, 16, 16, 16, 11},
        {mk_ike_auth_eap_response, 8, 16, 1, 3},
        {mk_create_child_sa, 16, 12, 16, 6},
        {mk_informational_delete, 16, 16, 16, 2},
    };

    for (size_t i = 0; i < sizeof enc / sizeof enc[0]; i++) {
        static seed s;
        vpn_ikev2_msg m, in;
        vpn_ikev2_sk_region r;
        size_t inner;

        enc[i].make(&s);
        assert_int_equal(vpn_ikev2_msg_parse(s.buf, s.len, &m), 0);
        assert_int_equal(m.n, 1);
        assert_int_equal(vpn_ikev2_sk_split(&m, &m.pl[0], enc[i].iv, enc[i].icv, enc[i].blk, &r), 0);
        assert_int_equal(vpn_ikev2_sk_unpad(s.buf + r.ct_off, r.ct_len, &inner), 0);
        assert_int_equal(vpn_ikev2_msg_parse_inner(s.buf + r.ct_off, inner, m.pl[0].u.sk.first, &in),
                         0);
        assert_int_equal(in.n, enc[i].inner_n);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seeds),
        cmocka_unit_test(test_seed_plaintexts_parse),
    };
    return cmocka_run_group_tests_name("ikev2-corpus", tests, NULL, NULL);
}
