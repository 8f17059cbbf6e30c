/*
 * IKEv2 codec: messages built by hand from the RFC 7296 section 3 diagrams
 * (every expected byte is written out below with the field it encodes),
 * compared byte for byte with the builder's output, parsed back field by
 * field, and re-serialised from the parse.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "ikev2/ikev2-codec.h"
#include "test-util.h"

/* ---- helpers ----------------------------------------------------------------- */

static const vpn_ikev2_hdr test_hdr = {
    .spi_i = 0x0123456789abcdefull,
    .spi_r = 0xfedcba9876543210ull,
    .version = VPN_IKEV2_VERSION,
    .exchange = VPN_IKEV2_IKE_AUTH,
    .flags = VPN_IKEV2_FLAG_I,
    .msg_id = 1,
};

/*
 * The expected bytes of test_hdr followed by payloads_hex whose first
 * payload is `first`: RFC 7296 3.1 header, length computed here.
 */
static uint8_t *with_hdr(const char *payloads_hex, uint8_t first, size_t *len)
{
    size_t plen;
    uint8_t *pl = tu_hex(payloads_hex, &plen);
    uint8_t *out = malloc(28 + plen);
    static const uint8_t fixed[16] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                                      0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10};

    assert_non_null(out);
    memcpy(out, fixed, 16);
    out[16] = first;
    out[17] = 0x20; /* version 2.0 */
    out[18] = 35;   /* IKE_AUTH */
    out[19] = 0x08; /* I */
    vpn_store32(out + 20, 1);
    vpn_store32(out + 24, (uint32_t)(28 + plen));
    memcpy(out + 28, pl, plen);
    free(pl);
    *len = 28 + plen;
    return out;
}

/* Parses msg, rebuilds every payload from the parse, and expects the very
 * same bytes (the inputs here are canonical: reserved fields zero). */
static void assert_roundtrip(const uint8_t *msg, size_t len)
{
    vpn_ikev2_msg m;
    vpn_ikev2_bld b;
    vpn_wr w;
    uint8_t out[4096];
    size_t olen = 0;

    assert_int_equal(vpn_ikev2_msg_parse(msg, len, &m), 0);
    vpn_wr_init(&w, out, sizeof out);
    assert_int_equal(vpn_ikev2_bld_init(&b, &w, &m.hdr), 0);
    for (size_t i = 0; i < m.n; i++)
        assert_int_equal(vpn_ikev2_bld_payload(&b, &m.pl[i]), 0);
    assert_int_equal(vpn_ikev2_bld_finish(&b, &olen), 0);
    assert_int_equal(olen, len);
    assert_memory_equal(out, msg, len);
}

/* Checks the builder's output against the expected hex, then round-trips. */
static void assert_built(vpn_ikev2_bld *b, const uint8_t *buf, const char *payloads_hex,
                         uint8_t first)
{
    size_t len, elen;
    uint8_t *want = with_hdr(payloads_hex, first, &elen);

    assert_int_equal(vpn_ikev2_bld_finish(b, &len), 0);
    if (len != elen || memcmp(buf, want, len) != 0) {
        char hex[2 * 4096 + 1];
        for (size_t i = 0; i < elen && i < 4096; i++)
            sprintf(hex + 2 * i, "%02x", want[i]);
        tu_assert_hex(buf, len, hex);
    }
    assert_roundtrip(buf, len);
    free(want);
}

static void start(vpn_ikev2_bld *b, vpn_wr *w, uint8_t *buf, size_t cap)
{
    vpn_wr_init(w, buf, cap);
    assert_int_equal(vpn_ikev2_bld_init(b, w, &test_hdr), 0);
}

static bool view_is(vpn_ikev2_view v, const void *p, size_t len)
{
    return v.len == len && (len == 0 || memcmp(v.ptr, p, len) == 0);
}

/* ---- the IKE_SA_INIT request ------------------------------------------------ */

/*
 * HDR, SAi1 (2 proposals), KEi, Ni, N(NAT_DETECTION_SOURCE_IP),
 * N(NAT_DETECTION_DESTINATION_IP), N(IKEV2_FRAGMENTATION_SUPPORTED),
 * laid out from RFC 7296 3.1-3.4, 3.9, 3.10 and RFC 7383 2.3.
 */
static const char sa_init_hex[] =
    /* 3.1 header */
    "0123456789abcdef"   /* IKE SA Initiator's SPI */
    "0000000000000000"   /* IKE SA Responder's SPI: zero in the first message */
    "21"                 /* Next Payload: SA (33) */
    "20"                 /* MjVer 2, MnVer 0 */
    "22"                 /* Exchange Type: IKE_SA_INIT (34) */
    "08"                 /* Flags: I */
    "00000000"           /* Message ID 0 */
    "0000011c"           /* Length 284 = 28 + 84 + 72 + 36 + 28 + 28 + 8 */
    /* 3.3 SA payload: 4 + 36 + 44 = 84 */
    "22" "00" "0054"     /* Next: KE (34), C=0, Payload Length 84 */
    /*   3.3.1 proposal 1, 36 = 8 + 12 + 8 + 8 */
    "02" "00" "0024"     /* Last Substruc 2 (more follow), RESERVED, Proposal Length */
    "01" "01" "00" "03"  /* Proposal Num 1, Protocol IKE, SPI Size 0, 3 transforms */
    "03" "00" "000c" "01" "00" "0014" /* ENCR (1) AES_GCM_16 (20), length 12 */
    "800e" "0100"                       /*   Key Length (TV, 14) = 256 */
    "03" "00" "0008" "02" "00" "0006" /* PRF (2) HMAC_SHA2_384 (6) */
    "00" "00" "0008" "04" "00" "0013" /* last: DH (4) ECP_256 (19) */
    /*   proposal 2, 44 = 8 + 12 + 8 + 8 + 8 */
    "00" "00" "002c"     /* Last Substruc 0 (last proposal), Proposal Length 44 */
    "02" "01" "00" "04"  /* Proposal Num 2, IKE, SPI Size 0, 4 transforms */
    "03" "00" "000c" "01" "00" "000c" /* ENCR AES_CBC (12), length 12 */
    "800e" "0100"                       /*   Key Length 256 */
    "03" "00" "0008" "02" "00" "0005" /* PRF HMAC_SHA2_256 (5) */
    "03" "00" "0008" "03" "00" "000c" /* INTEG HMAC_SHA2_256_128 (12) */
    "00" "00" "0008" "04" "00" "000e" /* last: DH MODP_2048 (14) */
    /* 3.4 KE payload: 4 + 4 + 64 = 72 */
    "28" "00" "0048"     /* Next: Nonce (40), length 72 */
    "0013" "0000"        /* DH Group Num 19, RESERVED */
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
    /* 3.9 Nonce payload: 4 + 32 = 36 */
    "29" "00" "0024"     /* Next: Notify (41), length 36 */
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
    /* 3.10 Notify NAT_DETECTION_SOURCE_IP: 4 + 4 + 20 = 28 */
    "29" "00" "001c"     /* Next: Notify, length 28 */
    "00" "00" "4004"     /* Protocol ID 0, SPI Size 0, type 16388 */
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3"
    /* Notify NAT_DETECTION_DESTINATION_IP */
    "29" "00" "001c" "00" "00" "4005"
    "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3"
    /* Notify IKEV2_FRAGMENTATION_SUPPORTED (16430), no data: 8 */
    "00" "00" "0008" "00" "00" "402e";

static void fill(uint8_t *p, size_t n, uint8_t from)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(from + i);
}

static void sa_init_proposals(vpn_ikev2_proposal p[2])
{
    memset(p, 0, 2 * sizeof p[0]);
    p[0].num = 1;
    p[0].proto = VPN_IKEV2_PROTO_IKE;
    p[0].n_xform = 3;
    p[0].xform[0] = (vpn_ikev2_xform){VPN_IKEV2_XF_ENCR, VPN_ENCR_AES_GCM_16, 256, false};
    p[0].xform[1] = (vpn_ikev2_xform){VPN_IKEV2_XF_PRF, VPN_PRF_HMAC_SHA2_384, 0, false};
    p[0].xform[2] = (vpn_ikev2_xform){VPN_IKEV2_XF_DH, VPN_DH_ECP_256, 0, false};
    p[1].num = 2;
    p[1].proto = VPN_IKEV2_PROTO_IKE;
    p[1].n_xform = 4;
    p[1].xform[0] = (vpn_ikev2_xform){VPN_IKEV2_XF_ENCR, VPN_ENCR_AES_CBC, 256, false};
    p[1].xform[1] = (vpn_ikev2_xform){VPN_IKEV2_XF_PRF, VPN_PRF_HMAC_SHA2_256, 0, false};
    p[1].xform[2] = (vpn_ikev2_xform){VPN_IKEV2_XF_INTEG, VPN_AUTH_HMAC_SHA2_256_128, 0, false};
    p[1].xform[3] = (vpn_ikev2_xform){VPN_IKEV2_XF_DH, VPN_DH_MODP_2048, 0, false};
}

static void test_sa_init_request_matches_rfc_layout(void **state)
{
    (void)state;
    vpn_ikev2_proposal props[2];
    vpn_ikev2_hdr h = {
        .spi_i = 0x0123456789abcdefull,
        .version = VPN_IKEV2_VERSION,
        .exchange = VPN_IKEV2_IKE_SA_INIT,
        .flags = VPN_IKEV2_FLAG_I,
    };
    uint8_t ke[64], ni[32], nats[20], natd[20], buf[512];
    vpn_ikev2_bld b;
    vpn_wr w;
    size_t len;

    sa_init_proposals(props);
    fill(ke, sizeof ke, 0x00);
    fill(ni, sizeof ni, 0x40);
    fill(nats, sizeof nats, 0xa0);
    fill(natd, sizeof natd, 0xc0);
    vpn_wr_init(&w, buf, sizeof buf);
    assert_int_equal(vpn_ikev2_bld_init(&b, &w, &h), 0);
    assert_int_equal(vpn_ikev2_bld_sa(&b, props, 2), 0);
    assert_int_equal(vpn_ikev2_bld_ke(&b, VPN_DH_ECP_256, ke, sizeof ke), 0);
    assert_int_equal(vpn_ikev2_bld_nonce(&b, ni, sizeof ni), 0);
    assert_int_equal(vpn_ikev2_bld_notify(&b, 0, NULL, 0, VPN_IKEV2_N_NAT_DETECTION_SOURCE_IP,
                                          nats, sizeof nats), 0);
    assert_int_equal(vpn_ikev2_bld_notify(&b, 0, NULL, 0,
                                          VPN_IKEV2_N_NAT_DETECTION_DESTINATION_IP, natd,
                                          sizeof natd), 0);
    assert_int_equal(vpn_ikev2_bld_notify(&b, 0, NULL, 0,
                                          VPN_IKEV2_N_IKEV2_FRAGMENTATION_SUPPORTED, NULL, 0), 0);
    assert_int_equal(vpn_ikev2_bld_finish(&b, &len), 0);
    assert_int_equal(b.first, VPN_IKEV2_PL_SA);
    tu_assert_hex(buf, len, sa_init_hex);
}

static void test_sa_init_request_parses(void **state)
{
    (void)state;
    size_t len;
    uint8_t *msg = tu_hex(sa_init_hex, &len);
    vpn_ikev2_msg m;
    vpn_ikev2_iter pi, xi;
    vpn_ikev2_prop_view pv;
    vpn_ikev2_xform_view xv;
    vpn_ikev2_proposal want[2], got;
    const vpn_ikev2_payload *p;
    uint8_t ke[64], ni[32];
    char line[160];
    unsigned np = 0;

    assert_int_equal(vpn_ikev2_msg_parse(msg, len, &m), 0);
    assert_true(m.hdr_ok);
    assert_true(m.hdr.spi_i == 0x0123456789abcdefull);
    assert_true(m.hdr.spi_r == 0);
    assert_int_equal(m.hdr.next, VPN_IKEV2_PL_SA);
    assert_int_equal(m.hdr.version, 0x20);
    assert_int_equal(m.hdr.exchange, VPN_IKEV2_IKE_SA_INIT);
    assert_int_equal(m.hdr.flags, VPN_IKEV2_FLAG_I);
    assert_int_equal(m.hdr.msg_id, 0);
    assert_int_equal(m.hdr.length, 284);
    assert_int_equal(m.n, 6);
    assert_int_equal(m.err_notify, 0);
    assert_int_equal(m.err_payload, 0);
    assert_int_equal(m.err_offset, 0);

    /* SA: both proposals, transform by transform */
    sa_init_proposals(want);
    p = vpn_ikev2_msg_find(&m, VPN_IKEV2_PL_SA, NULL);
    assert_ptr_equal(p, &m.pl[0]);
    assert_int_equal(p->raw.len, 84);
    assert_int_equal(p->u.sa.n_prop, 2);
    vpn_ikev2_prop_iter_init(&pi, p);
    while (vpn_ikev2_prop_iter_next(&pi, &pv)) {
        unsigned nx = 0;
        assert_int_equal(pv.num, np + 1);
        assert_int_equal(pv.proto, VPN_IKEV2_PROTO_IKE);
        assert_int_equal(pv.spi.len, 0);
        assert_int_equal(pv.n_xform, want[np].n_xform);
        vpn_ikev2_xform_iter_init(&xi, &pv);
        while (vpn_ikev2_xform_iter_next(&xi, &xv)) {
            assert_int_equal(xv.type, want[np].xform[nx].type);
            assert_int_equal(xv.id, want[np].xform[nx].id);
            assert_int_equal(xv.key_len, want[np].xform[nx].key_len);
            assert_false(xv.bad_attr);
            nx++;
        }
        assert_int_equal(nx, want[np].n_xform);
        assert_int_equal(vpn_ikev2_proposal_from_view(&pv, &got), 0);
        assert_memory_equal(&got.xform, &want[np].xform, sizeof got.xform);
        np++;
    }
    assert_int_equal(np, 2);

    fill(ke, sizeof ke, 0x00);
    fill(ni, sizeof ni, 0x40);
    p = vpn_ikev2_msg_find(&m, VPN_IKEV2_PL_KE, NULL);
    assert_non_null(p);
    assert_int_equal(p->u.ke.group, VPN_DH_ECP_256);
    assert_true(view_is(p->u.ke.data, ke, sizeof ke));
    assert_int_equal(vpn_ikev2_ke_check(p), 0);
    p = vpn_ikev2_msg_find(&m, VPN_IKEV2_PL_NONCE, NULL);
    assert_true(view_is(p->u.nonce.data, ni, sizeof ni));

    assert_int_equal(vpn_ikev2_msg_count(&m, VPN_IKEV2_PL_NOTIFY), 3);
    p = vpn_ikev2_msg_find_notify(&m, VPN_IKEV2_N_NAT_DETECTION_DESTINATION_IP, NULL);
    assert_ptr_equal(p, &m.pl[4]);
    assert_int_equal(p->u.notify.data.len, 20);
    assert_int_equal(p->u.notify.data.ptr[0], 0xc0);
    assert_int_equal(p->u.notify.spi.len, 0);
    p = vpn_ikev2_msg_find_notify(&m, VPN_IKEV2_N_IKEV2_FRAGMENTATION_SUPPORTED, NULL);
    assert_ptr_equal(p, &m.pl[5]);
    assert_int_equal(p->u.notify.data.len, 0);
    assert_null(vpn_ikev2_msg_find_notify(&m, VPN_IKEV2_N_COOKIE, NULL));
    /* find-next walks on past a given payload */
    p = vpn_ikev2_msg_find(&m, VPN_IKEV2_PL_NOTIFY, &m.pl[3]);
    assert_ptr_equal(p, &m.pl[4]);
    assert_null(vpn_ikev2_msg_find(&m, VPN_IKEV2_PL_NOTIFY, &m.pl[5]));

    assert_int_equal(vpn_ikev2_msg_describe(&m, line, sizeof line),
                     strlen("IKE_SA_INIT request 0 [ SA KE Ni/Nr N(NAT_DETECTION_SOURCE_IP) "
                            "N(NAT_DETECTION_DESTINATION_IP) N(IKEV2_FRAGMENTATION_SUPPORTED) ]"));
    assert_string_equal(line, "IKE_SA_INIT request 0 [ SA KE Ni/Nr N(NAT_DETECTION_SOURCE_IP) "
                              "N(NAT_DETECTION_DESTINATION_IP) N(IKEV2_FRAGMENTATION_SUPPORTED) ]");
    /* a short buffer still gets a terminated prefix */
    assert_true(vpn_ikev2_msg_describe(&m, line, 12) > 12);
    assert_string_equal(line, "IKE_SA_INIT");

    assert_roundtrip(msg, len);
    free(msg);
}

/* ---- one payload type at a time ----------------------------------------------- */

static void test_id_payloads(void **state)
{
    (void)state;
    uint8_t buf[256];
    static const uint8_t ip[4] = {192, 0, 2, 1};
    vpn_ikev2_bld b;
    vpn_wr w;
    vpn_ikev2_msg m;

    start(&b, &w, buf, sizeof buf);
    assert_int_equal(vpn_ikev2_bld_id(&b, VPN_IKEV2_PL_IDI, VPN_IKEV2_ID_FQDN,
                                      (const uint8_t *)"vpn.example", 11), 0);
    assert_int_equal(vpn_ikev2_bld_id(&b, VPN_IKEV2_PL_IDR, VPN_IKEV2_ID_IPV4_ADDR, ip, 4), 0);
    assert_built(&b, buf,
                 "24 00 0013 02 000000 76706e2e6578616d706c65" /* IDi: FQDN "vpn.example" */
                 "00 00 000c 01 000000 c0000201",              /* IDr: IPv4 192.0.2.1 */
                 VPN_IKEV2_PL_IDI);
    assert_int_equal(vpn_ikev2_msg_parse(buf, w.off, &m), 0);
    assert_int_equal(m.pl[0].u.id.type, VPN_IKEV2_ID_FQDN);
    assert_true(view_is(m.pl[0].u.id.data, "vpn.example", 11));
    /* the AUTH octets of 2.15 sign the body after the generic header */
    assert_int_equal(m.pl[0].body.len, 15);
    assert_int_equal(m.pl[0].body.ptr[0], VPN_IKEV2_ID_FQDN);
    assert_int_equal(m.pl[1].type, VPN_IKEV2_PL_IDR);
    assert_true(view_is(m.pl[1].u.id.data, ip, 4));
}

static void test_cert_and_certreq(void **state)
{
    (void)state;
    uint8_t buf[256], hash[20];
    static const uint8_t cert[4] = {0x30, 0x82, 0x00, 0x01};
    vpn_ikev2_bld b;
    vpn_wr w;
    vpn_ikev2_msg m;

    memset(hash, 0x11, sizeof hash);
    start(&b, &w, buf, sizeof buf);
    assert_int_equal(vpn_ikev2_bld_cert(&b, VPN_IKEV2_PL_CERT, VPN_IKEV2_CERT_X509_SIG, cert, 4), 0);
    assert_int_equal(vpn_ikev2_bld_cert(&b, VPN_IKEV2_PL_CERTREQ, VPN_IKEV2_CERT_X509_SIG, hash,
                                        sizeof hash), 0);
    assert_int_equal(vpn_ikev2_bld_cert(&b, VPN_IKEV2_PL_CERT, VPN_IKEV2_CERT_X509_SIG, cert, 4), 0);
    assert_built(&b, buf,
                 "26 00 0009 04 30820001"                             /* CERT, X.509 */
                 "25 00 0019 04 1111111111111111111111111111111111111111" /* CERTREQ */
                 "00 00 0009 04 30820001",                             /* a second CERT */
                 VPN_IKEV2_PL_CERT);
    assert_int_equal(vpn_ikev2_msg_parse(buf, w.off, &m), 0);
    assert_int_equal(vpn_ikev2_msg_count(&m, VPN_IKEV2_PL_CERT), 2);
    assert_int_equal(m.pl[1].u.cert.encoding, VPN_IKEV2_CERT_X509_SIG);
    assert_true(view_is(m.pl[1].u.cert.data, hash, 20));
}

static void test_auth_psk_and_digital_signature(void **state)
{
    (void)state;
    uint8_t buf[256], mac[32], sig[8];
    /* RFC 7427 A.1: sha256WithRSAEncryption AlgorithmIdentifier */
    static const uint8_t alg[15] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                    0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00};
    vpn_ikev2_bld b;
    vpn_wr w;
    vpn_ikev2_msg m;

    memset(mac, 0x22, sizeof mac);
    memset(sig, 0x33, sizeof sig);
    start(&b, &w, buf, sizeof buf);
    assert_int_equal(vpn_ikev2_bld_auth(&b, VPN_IKEV2_AUTH_PSK, mac, sizeof mac), 0);
    assert_built(&b, buf,
                 "00 00 0028 02 000000"
                 "2222222222222222222222222222222222222222222222222222222222222222",
                 VPN_IKEV2_PL_AUTH);

    start(&b, &w, buf, sizeof buf);
    assert_int_equal(vpn_ikev2_bld_auth_ds(&b, alg, sizeof alg, sig, sizeof sig), 0);
    assert_built(&b, buf,
                 "00 00 0020 0e 000000"            /* AUTH, Digital Signature (14) */
                 "0f 300d06092a864886f70d01010b0500" /* ASN.1 length 15, AlgorithmIdentifier */
                 "3333333333333333",               /* signature */
                 VPN_IKEV2_PL_AUTH);
    assert_int_equal(vpn_ikev2_msg_parse(buf, w.off, &m), 0);
    assert_int_equal(m.pl[0].u.auth.method, VPN_IKEV2_AUTH_DIGITAL_SIGNATURE);
    assert_true(view_is(m.pl[0].u.auth.alg_id, alg, sizeof alg));
    assert_true(view_is(m.pl[0].u.auth.sig, sig, sizeof sig));
    assert_int_equal(m.pl[0].u.auth.data.len, 1 + 15 + 8);
}

static void test_notify_with_spi_and_delete(void **state)
{
    (void)state;
    uint8_t buf[256];
    static const uint8_t spi[4] = {0xc0, 0xff, 0xee, 0x01};
    static const uint8_t spis[8] = {0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22};
    static const uint8_t cookie[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    vpn_ikev2_bld b;
    vpn_wr w;
    vpn_ikev2_msg m;

    start(&b, &w, buf, sizeof buf);
    assert_int_equal(vpn_ikev2_bld_notify(&b, VPN_IKEV2_PROTO_ESP, spi, 4, VPN_IKEV2_N_REKEY_SA,
                                          NULL, 0), 0);
    assert_int_equal(vpn_ikev2_bld_notify(&b, 0, NULL, 0, VPN_IKEV2_N_COOKIE, cookie, 8), 0);
    assert_int_equal(vpn_ikev2_bld_delete(&b, VPN_IKEV2_PROTO_ESP, 4, spis, 2), 0);
    assert_int_equal(vpn_ikev2_bld_delete(&b, VPN_IKEV2_PROTO_IKE, 0, NULL, 0), 0);
    assert_built(&b, buf,
                 "29 00 000c 03 04 4009 c0ffee01"      /* N(REKEY_SA), ESP SPI */
                 "2a 00 0010 00 00 4006 0102030405060708" /* N(COOKIE) */
                 "2a 00 0010 03 04 0002 11111111 22222222" /* D: ESP, two SPIs */
                 "00 00 0008 01 00 0000",              /* D: the IKE SA */
                 VPN_IKEV2_PL_NOTIFY);
    assert_int_equal(vpn_ikev2_msg_parse(buf, w.off, &m), 0);
    assert_int_equal(m.pl[0].u.notify.proto, VPN_IKEV2_PROTO_ESP);
    assert_int_equal(m.pl[0].u.notify.type, VPN_IKEV2_N_REKEY_SA);
    assert_true(view_is(m.pl[0].u.notify.spi, spi, 4));
    assert_int_equal(m.pl[2].u.del.n_spi, 2);
    assert_true(view_is(m.pl[2].u.del.spis, spis, 8));
    assert_int_equal(m.pl[3].u.del.proto, VPN_IKEV2_PROTO_IKE);
    assert_int_equal(m.pl[3].u.del.n_spi, 0);
    assert_false(vpn_ikev2_notify_is_error(VPN_IKEV2_N_COOKIE));
    assert_true(vpn_ikev2_notify_is_error(VPN_IKEV2_N_NO_PROPOSAL_CHOSEN));
}

static void test_vendor_and_nonce_bounds(void **state)
{
    (void)state;
    uint8_t buf[1024], vid[16], n[256];
    vpn_ikev2_bld b;
    vpn_wr w;
    vpn_ikev2_msg m;

    fill(vid, sizeof vid, 0xe0);
    memset(n, 0x5a, sizeof n);
    start(&b, &w, buf, sizeof buf);
    assert_int_equal(vpn_ikev2_bld_vendor(&b, vid, sizeof vid), 0);
    assert_int_equal(vpn_ikev2_bld_vendor(&b, NULL, 0), 0);
    assert_int_equal(vpn_ikev2_bld_nonce(&b, n, 16), 0);
    assert_built(&b, buf,
                 "2b 00 0014 e0e1e2e3e4e5e6e7e8e9eaebecedeeef" /* V */
                 "28 00 0004"                                  /* V, empty */
                 "00 00 0014 5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a", /* Nonce, 16 octets */
                 VPN_IKEV2_PL_VENDOR);
    start(&b, &w, buf, sizeof buf);
    assert_int_equal(vpn_ikev2_bld_nonce(&b, n, 256), 0); /* the largest allowed */
    assert_int_equal(vpn_ikev2_bld_finish(&b, NULL), 0);
    assert_int_equal(vpn_ikev2_msg_parse(buf, w.off, &m), 0);
    assert_int_equal(m.pl[0].u.nonce.data.len, 256);
    assert_int_equal(m.pl[0].raw.len, 260);
}

static void test_traffic_selectors(void **state)
{
    (void)state;
    uint8_t buf[256];
    vpn_ikev2_ts tsi[2], tsr[1], got;
    vpn_ikev2_iter it;
    vpn_ikev2_bld b;
    vpn_wr w;
    vpn_ikev2_msg m;
    unsigned n = 0;

    memset(tsi, 0, sizeof tsi);
    memset(tsr, 0, sizeof tsr);
    tsi[0].type = VPN_IKEV2_TS_IPV4_ADDR_RANGE;
    tsi[0].end_port = 65535;
    tsi[0].addr_len = 4;
    memcpy(tsi[0].start, "\x0a\x00\x00\x00", 4);
    memcpy(tsi[0].end, "\x0a\x00\x00\xff", 4);
    tsi[1].type = VPN_IKEV2_TS_IPV6_ADDR_RANGE;
    tsi[1].proto = 6;
    tsi[1].start_port = tsi[1].end_port = 443;
    tsi[1].addr_len = 16;
    memcpy(tsi[1].start, "\x20\x01\x0d\xb8", 4);
    memcpy(tsi[1].end, "\x20\x01\x0d\xb8", 4);
    tsi[1].end[14] = tsi[1].end[15] = 0xff;
    /* 3.13.1: OPAQUE ports are start 65535, end 0 */
    tsr[0].type = VPN_IKEV2_TS_IPV4_ADDR_RANGE;
    tsr[0].proto = 17;
    tsr[0].start_port = 65535;
    tsr[0].addr_len = 4;
    memcpy(tsr[0].start, "\xc0\x00\x02\x00", 4);
    memcpy(tsr[0].end, "\xc0\x00\x02\xff", 4);

    start(&b, &w, buf, sizeof buf);
    assert_int_equal(vpn_ikev2_bld_ts(&b, VPN_IKEV2_PL_TSI, tsi, 2), 0);
    assert_int_equal(vpn_ikev2_bld_ts(&b, VPN_IKEV2_PL_TSR, tsr, 1), 0);
    assert_built(&b, buf,
                 "2d 00 0040 02 000000"                 /* TSi, 2 selectors, 4+4+16+40 */
                 "07 00 0010 0000 ffff 0a000000 0a0000ff" /* IPv4 10.0.0.0-255, any */
                 "08 06 0028 01bb 01bb"                  /* IPv6, TCP, port 443 */
                 "20010db8000000000000000000000000"
                 "20010db800000000000000000000ffff"
                 "00 00 0018 01 000000"                 /* TSr, 1 selector */
                 "07 11 0010 ffff 0000 c0000200 c00002ff", /* UDP, OPAQUE ports */
                 VPN_IKEV2_PL_TSI);
    assert_int_equal(vpn_ikev2_msg_parse(buf, w.off, &m), 0);
    vpn_ikev2_ts_iter_init(&it, &m.pl[0]);
    while (vpn_ikev2_ts_iter_next(&it, &got)) {
        assert_int_equal(got.type, tsi[n].type);
        assert_int_equal(got.proto, tsi[n].proto);
        assert_int_equal(got.start_port, tsi[n].start_port);
        assert_int_equal(got.end_port, tsi[n].end_port);
        assert_int_equal(got.addr_len, tsi[n].addr_len);
        assert_memory_equal(got.start, tsi[n].start, got.addr_len);
        assert_memory_equal(got.end, tsi[n].end, got.addr_len);
        n++;
    }
    assert_int_equal(n, 2);
    vpn_ikev2_ts_iter_init(&it, &m.pl[1]);
    assert_true(vpn_ikev2_ts_iter_next(&it, &got));
    assert_int_equal(got.start_port, 65535);
    assert_int_equal(got.end_port, 0);
    assert_false(vpn_ikev2_ts_iter_next(&it, &got));
    /* an iterator on the wrong payload type yields nothing */
    {
        vpn_ikev2_cp_attr a;
        vpn_ikev2_cp_iter_init(&it, &m.pl[0]);
        assert_false(vpn_ikev2_cp_iter_next(&it, &a));
    }
}

static void test_configuration_payload(void **state)
{
    (void)state;
    uint8_t buf[256];
    vpn_ikev2_cp_attr req[2] = {
        {VPN_IKEV2_CFG_INTERNAL_IP4_ADDRESS, {NULL, 0}},
        {VPN_IKEV2_CFG_INTERNAL_IP4_DNS, {NULL, 0}},
    };
    vpn_ikev2_cp_attr rep[5] = {
        {VPN_IKEV2_CFG_INTERNAL_IP4_ADDRESS, {(const uint8_t *)"\x0a\x01\x01\x05", 4}},
        {VPN_IKEV2_CFG_INTERNAL_IP4_NETMASK, {(const uint8_t *)"\xff\xff\xff\x00", 4}},
        {VPN_IKEV2_CFG_INTERNAL_IP4_DNS, {(const uint8_t *)"\x08\x08\x08\x08", 4}},
        {VPN_IKEV2_CFG_INTERNAL_IP4_SUBNET,
         {(const uint8_t *)"\x0a\x02\x00\x00\xff\xff\x00\x00", 8}},
        {VPN_IKEV2_CFG_APPLICATION_VERSION, {(const uint8_t *)"ios", 3}},
    };
    vpn_ikev2_cp_attr got;
    vpn_ikev2_iter it;
    vpn_ikev2_bld b;
    vpn_wr w;
    vpn_ikev2_msg m;
    unsigned n = 0;

    start(&b, &w, buf, sizeof buf);
    assert_int_equal(vpn_ikev2_bld_cp(&b, VPN_IKEV2_CFG_REQUEST, req, 2), 0);
    assert_built(&b, buf, "00 00 0010 01 000000 0001 0000 0003 0000", VPN_IKEV2_PL_CP);

    start(&b, &w, buf, sizeof buf);
    assert_int_equal(vpn_ikev2_bld_cp(&b, VPN_IKEV2_CFG_REPLY, rep, 5), 0);
    assert_built(&b, buf,
                 "00 00 0033 02 000000"         /* CP, CFG_REPLY, 4 + 4 + 43 */
                 "0001 0004 0a010105"           /* INTERNAL_IP4_ADDRESS */
                 "0002 0004 ffffff00"           /* INTERNAL_IP4_NETMASK */
                 "0003 0004 08080808"           /* INTERNAL_IP4_DNS */
                 "000d 0008 0a020000 ffff0000"  /* INTERNAL_IP4_SUBNET */
                 "0007 0003 696f73",            /* APPLICATION_VERSION "ios" */
                 VPN_IKEV2_PL_CP);
    assert_int_equal(vpn_ikev2_msg_parse(buf, w.off, &m), 0);
    assert_int_equal(m.pl[0].u.cp.type, VPN_IKEV2_CFG_REPLY);
    assert_int_equal(m.pl[0].u.cp.n_attr, 5);
    vpn_ikev2_cp_iter_init(&it, &m.pl[0]);
    while (vpn_ikev2_cp_iter_next(&it, &got)) {
        assert_int_equal(got.type, rep[n].type);
        assert_true(view_is(got.value, rep[n].value.ptr, rep[n].value.len));
        n++;
    }
    assert_int_equal(n, 5);
}

static void test_eap(void **state)
{
    (void)state;
    uint8_t buf[256];
    static const uint8_t ident_req[5] = {1, 1, 0, 5, 1}; /* Request, id 1, Identity */
    static const uint8_t success[4] = {3, 2, 0, 4};
    vpn_ikev2_bld b;
    vpn_wr w;
    vpn_ikev2_msg m;

    start(&b, &w, buf, sizeof buf);
    assert_int_equal(vpn_ikev2_bld_eap(&b, ident_req, 5), 0);
    assert_built(&b, buf, "00 00 0009 01 01 0005 01", VPN_IKEV2_PL_EAP);
    assert_int_equal(vpn_ikev2_msg_parse(buf, w.off, &m), 0);
    assert_int_equal(m.pl[0].u.eap.code, VPN_IKEV2_EAP_REQUEST);
    assert_int_equal(m.pl[0].u.eap.ident, 1);
    assert_int_equal(m.pl[0].u.eap.length, 5);
    assert_int_equal(m.pl[0].u.eap.type, 1);
    assert_int_equal(m.pl[0].u.eap.data.len, 0);

    start(&b, &w, buf, sizeof buf);
    assert_int_equal(vpn_ikev2_bld_eap(&b, success, 4), 0);
    assert_built(&b, buf, "00 00 0008 03 02 0004", VPN_IKEV2_PL_EAP);
}

/* HDR, SK { N(INITIAL_CONTACT) } with a 16-byte IV and ICV, block 16. */
static void test_sk_open_close_and_split(void **state)
{
    (void)state;
    uint8_t buf[256];
    vpn_ikev2_bld b;
    vpn_wr w;
    vpn_ikev2_sk_region r, pr;
    vpn_ikev2_msg m, in;
    size_t len, inner;
    const vpn_ikev2_payload *sk;

    start(&b, &w, buf, sizeof buf);
    assert_int_equal(vpn_ikev2_bld_sk_open(&b, 16), 0);
    assert_int_equal(vpn_ikev2_bld_notify(&b, 0, NULL, 0, VPN_IKEV2_N_INITIAL_CONTACT, NULL, 0), 0);
    assert_int_equal(vpn_ikev2_bld_sk_close(&b, 16, 16, &r), 0);
    assert_built(&b, buf,
                 "29 00 0034"                        /* SK, first inner: N; 4+16+16+16 */
                 "00000000000000000000000000000000"  /* IV (the engine fills it) */
                 "00 00 0008 00 00 4000"             /* N(INITIAL_CONTACT), plaintext */
                 "00000000000000 07"                 /* 7 octets padding, Pad Length 7 */
                 "00000000000000000000000000000000", /* ICV */
                 VPN_IKEV2_PL_SK);
    assert_int_equal(r.iv_off, 32);
    assert_int_equal(r.iv_len, 16);
    assert_int_equal(r.ct_off, 48);
    assert_int_equal(r.ct_len, 16);
    assert_int_equal(r.icv_off, 64);
    assert_int_equal(r.icv_len, 16);

    len = w.off;
    assert_int_equal(vpn_ikev2_msg_parse(buf, len, &m), 0);
    sk = vpn_ikev2_msg_find(&m, VPN_IKEV2_PL_SK, NULL);
    assert_non_null(sk);
    assert_int_equal(sk->u.sk.first, VPN_IKEV2_PL_NOTIFY);
    assert_int_equal(vpn_ikev2_sk_split(&m, sk, 16, 16, 16, &pr), 0);
    assert_memory_equal(&pr, &r, sizeof r);
    /* misaligned for an 8-byte IV, or too short for a 32-byte ICV */
    assert_int_equal(vpn_ikev2_sk_split(&m, sk, 8, 16, 16, &pr), VPN_ERR_MALFORMED);
    assert_int_equal(vpn_ikev2_sk_split(&m, sk, 16, 32, 1, &pr), VPN_ERR_MALFORMED);
    assert_int_equal(vpn_ikev2_sk_split(&m, &m.pl[0] + 1, 16, 16, 1, &pr), VPN_ERR_INVAL);

    /* "decrypt" (the plaintext is still there), strip padding, parse */
    assert_int_equal(vpn_ikev2_sk_unpad(buf + r.ct_off, r.ct_len, &inner), 0);
    assert_int_equal(inner, 8);
    assert_int_equal(vpn_ikev2_msg_parse_inner(buf + r.ct_off, inner, sk->u.sk.first, &in), 0);
    assert_true(in.inner);
    assert_int_equal(in.n, 1);
    assert_int_equal(in.pl[0].u.notify.type, VPN_IKEV2_N_INITIAL_CONTACT);
}

/* A full IKE_AUTH request inside SK, AEAD-style (8-byte IV, no alignment). */
static void test_ike_auth_inner_chain(void **state)
{
    (void)state;
    uint8_t buf[1024], psk_mac[32];
    vpn_ikev2_proposal esp;
    vpn_ikev2_ts ts;
    vpn_ikev2_bld b;
    vpn_wr w;
    vpn_ikev2_sk_region r, pr;
    vpn_ikev2_msg m, in;
    size_t len, inner;
    char line[200];
    static const uint8_t spi[4] = {0xca, 0xfe, 0xf0, 0x0d};

    memset(psk_mac, 0x77, sizeof psk_mac);
    memset(&esp, 0, sizeof esp);
    esp.num = 1;
    esp.proto = VPN_IKEV2_PROTO_ESP;
    esp.spi_len = 4;
    memcpy(esp.spi, spi, 4);
    esp.n_xform = 2;
    esp.xform[0] = (vpn_ikev2_xform){VPN_IKEV2_XF_ENCR, VPN_ENCR_AES_GCM_16, 128, false};
    esp.xform[1] = (vpn_ikev2_xform){VPN_IKEV2_XF_ESN, VPN_IKEV2_ESN_NO, 0, false};
    memset(&ts, 0, sizeof ts);
    ts.type = VPN_IKEV2_TS_IPV4_ADDR_RANGE;
    ts.end_port = 65535;
    ts.addr_len = 4;
    memset(ts.end, 0xff, 4);

    start(&b, &w, buf, sizeof buf);
    assert_int_equal(vpn_ikev2_bld_sk_open(&b, 8), 0);
    assert_int_equal(vpn_ikev2_bld_id(&b, VPN_IKEV2_PL_IDI, VPN_IKEV2_ID_FQDN,
                                      (const uint8_t *)"spoke1", 6), 0);
    assert_int_equal(vpn_ikev2_bld_auth(&b, VPN_IKEV2_AUTH_PSK, psk_mac, 32), 0);
    assert_int_equal(vpn_ikev2_bld_sa(&b, &esp, 1), 0);
    assert_int_equal(vpn_ikev2_bld_ts(&b, VPN_IKEV2_PL_TSI, &ts, 1), 0);
    assert_int_equal(vpn_ikev2_bld_ts(&b, VPN_IKEV2_PL_TSR, &ts, 1), 0);
    assert_int_equal(vpn_ikev2_bld_sk_close(&b, 1, 16, &r), 0);
    assert_int_equal(vpn_ikev2_bld_finish(&b, &len), 0);
    /* nothing may follow SK */
    assert_int_equal(vpn_ikev2_bld_vendor(&b, NULL, 0), VPN_ERR_STATE);

    assert_int_equal(vpn_ikev2_msg_parse(buf, len, &m), 0);
    assert_int_equal(m.n, 1);
    assert_int_equal(vpn_ikev2_sk_split(&m, &m.pl[0], 8, 16, 1, &pr), 0);
    assert_memory_equal(&pr, &r, sizeof r);
    /* block 1: no padding, Pad Length 0 */
    assert_int_equal(buf[r.ct_off + r.ct_len - 1], 0);
    assert_int_equal(vpn_ikev2_sk_unpad(buf + r.ct_off, r.ct_len, &inner), 0);
    assert_int_equal(inner, r.ct_len - 1);
    assert_int_equal(vpn_ikev2_msg_parse_inner(buf + r.ct_off, inner, m.pl[0].u.sk.first, &in), 0);
    assert_int_equal(in.n, 5);
    assert_non_null(vpn_ikev2_msg_find(&in, VPN_IKEV2_PL_SA, NULL));
    assert_int_equal(vpn_ikev2_msg_describe(&in, line, sizeof line),
                     strlen("[ IDi AUTH SA TSi TSr ]"));
    assert_string_equal(line, "[ IDi AUTH SA TSi TSr ]");
    assert_int_equal(vpn_ikev2_msg_describe(&m, line, sizeof line),
                     strlen("IKE_AUTH request 1 [ SK ]"));
    assert_string_equal(line, "IKE_AUTH request 1 [ SK ]");
}

/* RFC 7383: an inner chain cut into two SKF messages and put back together. */
static void test_skf_fragments(void **state)
{
    (void)state;
    uint8_t plain[256], frag[2][256], whole[256], id[40];
    vpn_ikev2_bld ib, b;
    vpn_wr iw, w;
    vpn_ikev2_sk_region r[2], pr;
    vpn_ikev2_msg m, in;
    size_t plen, flen[2], wlen = 0, inner;

    memset(id, 'a', sizeof id);
    vpn_wr_init(&iw, plain, sizeof plain);
    assert_int_equal(vpn_ikev2_bld_init_inner(&ib, &iw), 0);
    assert_int_equal(vpn_ikev2_bld_id(&ib, VPN_IKEV2_PL_IDI, VPN_IKEV2_ID_KEY_ID, id, 40), 0);
    assert_int_equal(vpn_ikev2_bld_notify(&ib, 0, NULL, 0, VPN_IKEV2_N_INITIAL_CONTACT, NULL, 0),
                     0);
    assert_int_equal(vpn_ikev2_bld_finish(&ib, &plen), 0);
    assert_int_equal(plen, 4 + 4 + 40 + 8);
    assert_int_equal(ib.first, VPN_IKEV2_PL_IDI);
    /* SK is refused in a header-less chain */
    assert_int_equal(vpn_ikev2_bld_sk_open(&ib, 16), VPN_ERR_STATE);

    for (unsigned f = 0; f < 2; f++) {
        size_t half = plen / 2, off = f ? half : 0, n = f ? plen - half : half;
        vpn_wr_init(&w, frag[f], sizeof frag[f]);
        assert_int_equal(vpn_ikev2_bld_init(&b, &w, &test_hdr), 0);
        assert_int_equal(vpn_ikev2_bld_skf(&b, (uint16_t)(f + 1), 2, f ? 0 : ib.first, 16,
                                           plain + off, n, 16, 12, &r[f]), 0);
        assert_int_equal(vpn_ikev2_bld_finish(&b, &flen[f]), 0);
    }
    /* fragment 1, by hand: header, SKF(first IDi, 1 of 2), IV, 28 plaintext
     * bytes + 3 padding + Pad Length = 32, ICV 12 */
    {
        size_t elen;
        uint8_t *want = with_hdr("23 00 0044 0001 0002" /* 4 + 4 + 16 + 32 + 12 */
                                 "00000000000000000000000000000000"
                                 /* IDi (next N, length 48), KEY_ID, first 20 'a' */
                                 "29 00 0030 0b 000000 6161616161616161616161616161616161616161"
                                 "000000 03"
                                 "000000000000000000000000",
                                 VPN_IKEV2_PL_SKF, &elen);
        assert_int_equal(flen[0], elen);
        assert_memory_equal(frag[0], want, elen);
        free(want);
    }
    for (unsigned f = 0; f < 2; f++) {
        assert_int_equal(vpn_ikev2_msg_parse(frag[f], flen[f], &m), 0);
        assert_int_equal(m.n, 1);
        assert_int_equal(m.pl[0].type, VPN_IKEV2_PL_SKF);
        assert_int_equal(m.pl[0].u.skf.frag_num, f + 1);
        assert_int_equal(m.pl[0].u.skf.total, 2);
        assert_int_equal(m.pl[0].u.skf.first, f ? 0 : VPN_IKEV2_PL_IDI);
        assert_int_equal(vpn_ikev2_sk_split(&m, &m.pl[0], 16, 12, 16, &pr), 0);
        assert_memory_equal(&pr, &r[f], sizeof pr);
        /* AEAD data runs through the fragment numbers (RFC 7383 2.5) */
        assert_int_equal(pr.iv_off, 28 + 8);
        assert_int_equal(vpn_ikev2_sk_unpad(frag[f] + pr.ct_off, pr.ct_len, &inner), 0);
        memcpy(whole + wlen, frag[f] + pr.ct_off, inner);
        wlen += inner;
        assert_roundtrip(frag[f], flen[f]);
    }
    assert_int_equal(wlen, plen);
    assert_int_equal(vpn_ikev2_msg_parse_inner(whole, wlen, VPN_IKEV2_PL_IDI, &in), 0);
    assert_int_equal(in.n, 2);
    assert_true(view_is(in.pl[0].u.id.data, id, 40));
}

static void test_unknown_payload_roundtrips(void **state)
{
    (void)state;
    uint8_t buf[256];
    static const uint8_t body[3] = {0xde, 0xad, 0x01};
    vpn_ikev2_bld b;
    vpn_wr w;
    vpn_ikev2_msg m;

    start(&b, &w, buf, sizeof buf);
    assert_int_equal(vpn_ikev2_bld_raw(&b, 200, false, body, 3), 0);
    assert_int_equal(vpn_ikev2_bld_notify(&b, 0, NULL, 0, VPN_IKEV2_N_INITIAL_CONTACT, NULL, 0), 0);
    assert_int_equal(vpn_ikev2_bld_notify(&b, 0, NULL, 0, 40000, NULL, 0), 0);
    assert_built(&b, buf, "29 00 0007 dead01 29 00 0008 00 00 4000 00 00 0008 00 00 9c40", 200);
    assert_int_equal(vpn_ikev2_msg_parse(buf, w.off, &m), 0);
    assert_int_equal(m.n, 3);
    assert_false(m.pl[0].known);
    assert_int_equal(m.pl[0].type, 200);
    assert_true(view_is(m.pl[0].body, body, 3));
    /* lookups see only known payloads */
    assert_ptr_equal(vpn_ikev2_msg_find(&m, VPN_IKEV2_PL_NOTIFY, NULL), &m.pl[1]);
    assert_null(vpn_ikev2_msg_find(&m, 200, NULL));
    {
        char line[100];
        vpn_ikev2_msg_describe(&m, line, sizeof line);
        assert_string_equal(line, "IKE_AUTH request 1 [ UNKNOWN(200) N(INITIAL_CONTACT) N(40000) ]");
    }
}

/* ---- header, names, tables ------------------------------------------------------ */

static void test_header_only(void **state)
{
    (void)state;
    size_t len;
    uint8_t *msg = tu_hex(sa_init_hex, &len);
    vpn_ikev2_hdr h;

    assert_int_equal(vpn_ikev2_hdr_parse(msg, len, &h), 0);
    assert_true(h.spi_i == 0x0123456789abcdefull);
    assert_int_equal(h.exchange, VPN_IKEV2_IKE_SA_INIT);
    assert_int_equal(h.length, len);
    /* a minor version above 0 is still IKEv2 (2.5) */
    msg[17] = 0x21;
    assert_int_equal(vpn_ikev2_hdr_parse(msg, len, &h), 0);
    assert_int_equal(vpn_ikev2_hdr_parse(NULL, len, &h), VPN_ERR_INVAL);
    free(msg);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(vpn_ikev2_exchange_name(34), "IKE_SA_INIT");
    assert_string_equal(vpn_ikev2_exchange_name(37), "INFORMATIONAL");
    assert_string_equal(vpn_ikev2_exchange_name(99), "UNKNOWN");
    assert_string_equal(vpn_ikev2_payload_name(33), "SA");
    assert_string_equal(vpn_ikev2_payload_name(41), "N");
    assert_string_equal(vpn_ikev2_payload_name(53), "SKF");
    assert_string_equal(vpn_ikev2_payload_name(0), "NONE");
    assert_string_equal(vpn_ikev2_payload_name(250), "UNKNOWN");
    assert_string_equal(vpn_ikev2_notify_name(14), "NO_PROPOSAL_CHOSEN");
    assert_string_equal(vpn_ikev2_notify_name(17), "INVALID_KE_PAYLOAD");
    assert_string_equal(vpn_ikev2_notify_name(24), "AUTHENTICATION_FAILED");
    assert_string_equal(vpn_ikev2_notify_name(38), "TS_UNACCEPTABLE");
    assert_string_equal(vpn_ikev2_notify_name(16390), "COOKIE");
    assert_string_equal(vpn_ikev2_notify_name(16391), "USE_TRANSPORT_MODE");
    assert_string_equal(vpn_ikev2_notify_name(16393), "REKEY_SA");
    assert_string_equal(vpn_ikev2_notify_name(16431), "SIGNATURE_HASH_ALGORITHMS");
    assert_string_equal(vpn_ikev2_notify_name(9999), "UNKNOWN");
    assert_string_equal(vpn_ikev2_xform_type_name(4), "DH");
    assert_string_equal(vpn_ikev2_xform_id_name(1, 20), "ENCR_AES_GCM_16");
    assert_string_equal(vpn_ikev2_xform_id_name(2, 7), "PRF_HMAC_SHA2_512");
    assert_string_equal(vpn_ikev2_xform_id_name(3, 12), "AUTH_HMAC_SHA2_256_128");
    assert_string_equal(vpn_ikev2_xform_id_name(4, 31), "CURVE25519");
    assert_string_equal(vpn_ikev2_xform_id_name(5, 1), "ESN");
    assert_string_equal(vpn_ikev2_proto_name(3), "ESP");
    assert_string_equal(vpn_ikev2_id_type_name(2), "ID_FQDN");
    assert_string_equal(vpn_ikev2_auth_method_name(14), "Digital Signature");
    assert_string_equal(vpn_ikev2_ts_type_name(8), "TS_IPV6_ADDR_RANGE");
    assert_string_equal(vpn_ikev2_cfg_type_name(2), "CFG_REPLY");
    assert_string_equal(vpn_ikev2_cfg_attr_name(13), "INTERNAL_IP4_SUBNET");
    assert_string_equal(vpn_ikev2_cert_encoding_name(4), "X.509 Certificate - Signature");
}

static void test_ke_lengths_and_aead(void **state)
{
    (void)state;
    static const struct { uint16_t g; size_t len; } t[] = {
        {2, 128}, {5, 192}, {14, 256}, {15, 384}, {16, 512},
        {19, 64}, {20, 96}, {21, 132}, {31, 32},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        assert_int_equal(vpn_ikev2_dh_ke_len(t[i].g), t[i].len);
    assert_int_equal(vpn_ikev2_dh_ke_len(0), 0);
    assert_int_equal(vpn_ikev2_dh_ke_len(999), 0);
    assert_true(vpn_ikev2_encr_is_aead(VPN_ENCR_AES_GCM_16));
    assert_true(vpn_ikev2_encr_is_aead(VPN_ENCR_CHACHA20_POLY1305));
    assert_false(vpn_ikev2_encr_is_aead(VPN_ENCR_AES_CBC));
    assert_false(vpn_ikev2_encr_is_aead(VPN_ENCR_AES_CTR));
}

/* Every payload type has a descriptor with its RFC section. */
static void test_descriptor_table(void **state)
{
    (void)state;
    static const uint8_t known[] = {33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43,
                                    44, 45, 46, 47, 48, 53};
    for (size_t i = 0; i < sizeof known; i++) {
        const vpn_ikev2_pl_desc *d = vpn_ikev2_pl_desc_find(known[i]);
        assert_non_null(d);
        assert_int_equal(d->type, known[i]);
        assert_non_null(strstr(d->rfc, "RFC"));
        assert_non_null(d->parse);
        assert_non_null(d->write);
    }
    assert_null(vpn_ikev2_pl_desc_find(0));
    assert_null(vpn_ikev2_pl_desc_find(49));
    assert_true(vpn_ikev2_pl_desc_find(VPN_IKEV2_PL_NOTIFY)->multi);
    assert_false(vpn_ikev2_pl_desc_find(VPN_IKEV2_PL_KE)->multi);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sa_init_request_matches_rfc_layout),
        cmocka_unit_test(test_sa_init_request_parses),
        cmocka_unit_test(test_id_payloads),
        cmocka_unit_test(test_cert_and_certreq),
        cmocka_unit_test(test_auth_psk_and_digital_signature),
        cmocka_unit_test(test_notify_with_spi_and_delete),
        cmocka_unit_test(test_vendor_and_nonce_bounds),
        cmocka_unit_test(test_traffic_selectors),
        cmocka_unit_test(test_configuration_payload),
        cmocka_unit_test(test_eap),
        cmocka_unit_test(test_sk_open_close_and_split),
        cmocka_unit_test(test_ike_auth_inner_chain),
        cmocka_unit_test(test_skf_fragments),
        cmocka_unit_test(test_unknown_payload_roundtrips),
        cmocka_unit_test(test_header_only),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_ke_lengths_and_aead),
        cmocka_unit_test(test_descriptor_table),
    };
    return cmocka_run_group_tests_name("ikev2-codec", tests, NULL, NULL);
}
