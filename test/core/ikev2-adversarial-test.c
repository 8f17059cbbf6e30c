/*
 * IKEv2 codec against hostile input: truncations, bad lengths, chains that
 * never end, wrong versions, critical payloads we do not know, malformed
 * substructures, value-range violations, too many payloads, and a
 * deterministic mutation loop. Every case must end in a clean error code
 * (or a parse that re-serialises to itself), never a crash (the -asan twin
 * of this driver runs it under ASan+UBSan).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "ikev2/ikev2-codec.h"
#include "test-util.h"

/* An IKE_SA_INIT request: SA (2 proposals), KE, Ni, 3 notifies (the same
 * bytes as in ikev2-codec-test.c, where each field is explained). */
static const char sa_init_hex[] =
    "0123456789abcdef 0000000000000000 21 20 22 08 00000000 0000011c"
    "22 00 0054"
    "02 00 0024 01 01 00 03  03 00 000c 01 00 0014 800e 0100"
    "03 00 0008 02 00 0006  00 00 0008 04 00 0013"
    "00 00 002c 02 01 00 04  03 00 000c 01 00 000c 800e 0100"
    "03 00 0008 02 00 0005  03 00 0008 03 00 000c  00 00 0008 04 00 000e"
    "28 00 0048 0013 0000"
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
    "29 00 0024 404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
    "29 00 001c 00 00 4004 a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3"
    "29 00 001c 00 00 4005 c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3"
    "00 00 0008 00 00 402e";

/* A header (IKE_AUTH, I, message ID 1, first payload `first`) in front of
 * payloads_hex, with the right Length. Caller frees. */
static uint8_t *msg_of(const char *payloads_hex, uint8_t first, size_t *len)
{
    size_t plen;
    uint8_t *pl = tu_hex(payloads_hex, &plen);
    uint8_t *out = calloc(1, 28 + plen);

    assert_non_null(out);
    out[7] = 1; /* SPIi 1 */
    out[16] = first;
    out[17] = 0x20;
    out[18] = VPN_IKEV2_IKE_AUTH;
    out[19] = VPN_IKEV2_FLAG_I;
    vpn_store32(out + 20, 1);
    vpn_store32(out + 24, (uint32_t)(28 + plen));
    memcpy(out + 28, pl, plen);
    free(pl);
    *len = 28 + plen;
    return out;
}

static int parse_hex(const char *payloads_hex, uint8_t first, vpn_ikev2_msg *m)
{
    size_t len;
    uint8_t *msg = msg_of(payloads_hex, first, &len);
    int rc = vpn_ikev2_msg_parse(msg, len, m);

    free(msg); /* m's views dangle from here on: callers only look at codes */
    return rc;
}

/* Re-serialises a successfully parsed message and parses the result: the
 * property the fuzzer checks too. */
static void assert_reparses(const vpn_ikev2_msg *m)
{
    static uint8_t out[70000];
    vpn_ikev2_bld b;
    vpn_wr w;
    vpn_ikev2_msg m2;
    size_t len;

    vpn_wr_init(&w, out, sizeof out);
    assert_int_equal(vpn_ikev2_bld_init(&b, &w, &m->hdr), 0);
    for (size_t i = 0; i < m->n; i++)
        assert_int_equal(vpn_ikev2_bld_payload(&b, &m->pl[i]), 0);
    assert_int_equal(vpn_ikev2_bld_finish(&b, &len), 0);
    assert_int_equal(len, m->len);
    assert_int_equal(vpn_ikev2_msg_parse(out, len, &m2), 0);
    assert_int_equal(m2.n, m->n);
    for (size_t i = 0; i < m->n; i++) {
        assert_int_equal(m2.pl[i].type, m->pl[i].type);
        assert_int_equal(m2.pl[i].known, m->pl[i].known);
        assert_int_equal(m2.pl[i].raw.len, m->pl[i].raw.len);
    }
}

/* ---- lengths and chains ------------------------------------------------------ */

static void test_every_truncation_fails(void **state)
{
    (void)state;
    size_t len;
    uint8_t *good = tu_hex(sa_init_hex, &len);
    uint8_t *cut = malloc(len);
    vpn_ikev2_msg m;

    assert_int_equal(len, 284);
    assert_int_equal(vpn_ikev2_msg_parse(good, len, &m), 0);
    for (size_t k = 0; k < len; k++) {
        /* the datagram cut short, header unchanged */
        memcpy(cut, good, k);
        int rc = vpn_ikev2_msg_parse(cut, k, &m);
        assert_int_equal(rc, VPN_ERR_TRUNCATED);
        assert_int_equal(m.hdr_ok, k >= 28);
        if (k < 28)
            continue;
        /* the same cut with a header Length that agrees: the chain now
         * ends inside a payload or promises one that is not there */
        vpn_store32(cut + 24, (uint32_t)k);
        rc = vpn_ikev2_msg_parse(cut, k, &m);
        assert_true(rc == VPN_ERR_TRUNCATED || rc == VPN_ERR_MALFORMED);
        assert_int_equal(m.err_notify, VPN_IKEV2_N_INVALID_SYNTAX);
    }
    free(cut);
    free(good);
}

static void test_every_truncation_of_an_inner_chain_fails(void **state)
{
    (void)state;
    size_t len;
    uint8_t *good = tu_hex(sa_init_hex, &len);
    vpn_ikev2_msg m;

    /* the payloads after the header, parsed as a decrypted SK chain */
    assert_int_equal(vpn_ikev2_msg_parse_inner(good + 28, len - 28, VPN_IKEV2_PL_SA, &m), 0);
    assert_int_equal(m.n, 6);
    for (size_t k = 0; k < len - 28; k++)
        assert_int_not_equal(vpn_ikev2_msg_parse_inner(good + 28, k, VPN_IKEV2_PL_SA, &m), 0);
    free(good);
}

static void test_payload_length_below_header(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "00 00 0000 00000000", "00 00 0001 00000000", "00 00 0002 00000000",
        "00 00 0003 00000000",
    };
    vpn_ikev2_msg m;

    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(parse_hex(bad[i], VPN_IKEV2_PL_VENDOR, &m), VPN_ERR_MALFORMED);
        assert_int_equal(m.err_payload, VPN_IKEV2_PL_VENDOR);
        assert_int_equal(m.err_offset, 28);
    }
    /* length 4 is an empty (valid) Vendor ID followed by 4 stray bytes */
    assert_int_equal(parse_hex("00 00 0004 00000000", VPN_IKEV2_PL_VENDOR, &m),
                     VPN_ERR_MALFORMED);
    assert_int_equal(parse_hex("00 00 0004", VPN_IKEV2_PL_VENDOR, &m), 0);
}

static void test_payload_length_overruns_message(void **state)
{
    (void)state;
    vpn_ikev2_msg m;

    /* second payload claims 9 bytes, 8 are there */
    assert_int_equal(parse_hex("2b 00 0008 01020304  00 00 0009 01020304", VPN_IKEV2_PL_VENDOR, &m),
                     VPN_ERR_TRUNCATED);
    assert_int_equal(m.err_offset, 36);
    /* a 65535-byte claim */
    assert_int_equal(parse_hex("00 00 ffff 01020304", VPN_IKEV2_PL_VENDOR, &m), VPN_ERR_TRUNCATED);
}

static void test_chain_that_does_not_terminate(void **state)
{
    (void)state;
    vpn_ikev2_msg m;

    /* the last payload names a successor that is not there */
    assert_int_equal(parse_hex("2b 00 0004", VPN_IKEV2_PL_VENDOR, &m), VPN_ERR_TRUNCATED);
    /* the header names a first payload but there are none */
    assert_int_equal(parse_hex("", VPN_IKEV2_PL_VENDOR, &m), VPN_ERR_TRUNCATED);
    /* the chain ends (Next 0) before the message does */
    assert_int_equal(parse_hex("00 00 0004 2b 00 0004", VPN_IKEV2_PL_VENDOR, &m),
                     VPN_ERR_MALFORMED);
    /* no payloads at all is fine (an empty INFORMATIONAL has SK, but the
     * codec does not judge exchanges) */
    assert_int_equal(parse_hex("", VPN_IKEV2_PL_NONE, &m), 0);
    assert_int_equal(m.n, 0);
}

static void test_header_length_disagrees(void **state)
{
    (void)state;
    size_t len;
    uint8_t *msg = tu_hex(sa_init_hex, &len);
    uint8_t *big = calloc(1, len + 1);
    vpn_ikev2_msg m;

    /* Length one more than the datagram */
    vpn_store32(msg + 24, (uint32_t)len + 1);
    assert_int_equal(vpn_ikev2_msg_parse(msg, len, &m), VPN_ERR_TRUNCATED);
    /* a datagram one byte longer than Length */
    vpn_store32(msg + 24, (uint32_t)len);
    memcpy(big, msg, len);
    assert_int_equal(vpn_ikev2_msg_parse(big, len + 1, &m), VPN_ERR_MALFORMED);
    /* Length below the header size */
    vpn_store32(msg + 24, 27);
    assert_int_equal(vpn_ikev2_msg_parse(msg, len, &m), VPN_ERR_MALFORMED);
    vpn_store32(msg + 24, 0);
    assert_int_equal(vpn_ikev2_msg_parse(msg, len, &m), VPN_ERR_MALFORMED);
    vpn_store32(msg + 24, 0xffffffffu);
    assert_int_equal(vpn_ikev2_msg_parse(msg, len, &m), VPN_ERR_TRUNCATED);
    assert_int_equal(vpn_ikev2_msg_parse(NULL, len, &m), VPN_ERR_INVAL);
    assert_int_equal(vpn_ikev2_msg_parse(msg, len, NULL), VPN_ERR_INVAL);
    free(big);
    free(msg);
}

static void test_wrong_major_version(void **state)
{
    (void)state;
    size_t len;
    uint8_t *msg = tu_hex(sa_init_hex, &len);
    static const uint8_t bad[] = {0x10, 0x30, 0xf0, 0x00};
    vpn_ikev2_msg m;

    for (size_t i = 0; i < sizeof bad; i++) {
        msg[17] = bad[i];
        assert_int_equal(vpn_ikev2_msg_parse(msg, len, &m), VPN_ERR_UNSUPPORTED);
        /* the header is there so the engine can answer (2.5) */
        assert_true(m.hdr_ok);
        assert_int_equal(m.hdr.version, bad[i]);
        assert_true(m.hdr.spi_i == 0x0123456789abcdefull);
        assert_int_equal(m.err_notify, VPN_IKEV2_N_INVALID_MAJOR_VERSION);
    }
    msg[17] = 0x2f; /* minor 15: still ours */
    assert_int_equal(vpn_ikev2_msg_parse(msg, len, &m), 0);
    free(msg);
}

/* ---- unknown payloads ------------------------------------------------------------- */

static void test_unknown_critical_and_noncritical(void **state)
{
    (void)state;
    vpn_ikev2_msg m;
    size_t len;
    uint8_t *msg;

    /* type 99 with C clear, between two notifies: skipped, kept */
    msg = msg_of("63 00 0008 00 00 4000  29 00 0006 abcd  00 00 0008 00 00 4001",
                 VPN_IKEV2_PL_NOTIFY, &len);
    assert_int_equal(vpn_ikev2_msg_parse(msg, len, &m), 0);
    assert_int_equal(m.n, 3);
    assert_false(m.pl[1].known);
    assert_int_equal(m.pl[1].type, 99);
    assert_int_equal(vpn_ikev2_msg_count(&m, VPN_IKEV2_PL_NOTIFY), 2);
    assert_reparses(&m);
    free(msg);

    /* the same with C set: the message is refused and the type reported
     * for UNSUPPORTED_CRITICAL_PAYLOAD (2.5) */
    assert_int_equal(parse_hex("63 00 0008 00 00 4000  29 80 0006 abcd  00 00 0008 00 00 4001",
                               VPN_IKEV2_PL_NOTIFY, &m),
                     VPN_ERR_UNSUPPORTED);
    assert_int_equal(m.err_notify, VPN_IKEV2_N_UNSUPPORTED_CRITICAL_PAYLOAD);
    assert_int_equal(m.err_payload, 99);
    assert_int_equal(m.err_offset, 36);
    /* C on a known payload is ignored (3.2) */
    assert_int_equal(parse_hex("00 80 0008 00 00 4000", VPN_IKEV2_PL_NOTIFY, &m), 0);
    assert_true(m.pl[0].critical);
    assert_true(m.pl[0].known);
}

/* ---- the SA payload -------------------------------------------------------------- */

/* A single-proposal SA around the given transforms (count n, body length). */
static int parse_sa(const char *xforms_hex, unsigned n, vpn_ikev2_msg *m)
{
    size_t xlen;
    uint8_t *x = tu_hex(xforms_hex, &xlen);
    char hex[1024];
    int rc;

    free(x);
    snprintf(hex, sizeof hex, "00 00 %04zx  00 00 %04zx 01 01 00 %02x %s", 4 + 8 + xlen, 8 + xlen,
             n, xforms_hex);
    rc = parse_hex(hex, VPN_IKEV2_PL_SA, m);
    return rc;
}

static void test_transform_attributes(void **state)
{
    (void)state;
    vpn_ikev2_msg m;
    size_t len;
    uint8_t *msg;
    vpn_ikev2_iter pi, xi;
    vpn_ikev2_prop_view pv;
    vpn_ikev2_xform_view xv;

    /* Key Length as TLV (AF = 0) is malformed: 3.3.5 says TV */
    assert_int_equal(parse_sa("00 00 000e 01 00 000c 000e 0002 0100", 1, &m), VPN_ERR_MALFORMED);
    /* an attribute cut in half */
    assert_int_equal(parse_sa("00 00 000a 01 00 000c 800e", 1, &m), VPN_ERR_TRUNCATED);
    /* a TLV attribute whose length runs past the transform */
    assert_int_equal(parse_sa("00 00 000e 01 00 000c 0063 0009 0100", 1, &m), VPN_ERR_TRUNCATED);
    /* transform length below 8 */
    assert_int_equal(parse_sa("00 00 0007 01 00 000c", 1, &m), VPN_ERR_MALFORMED);

    /* an attribute we do not know: parsed, and the transform flagged */
    msg = msg_of("00 00 0018  00 00 0014 01 01 00 01  00 00 000c 01 00 000c 8063 0001",
                 VPN_IKEV2_PL_SA, &len);
    assert_int_equal(vpn_ikev2_msg_parse(msg, len, &m), 0);
    vpn_ikev2_prop_iter_init(&pi, &m.pl[0]);
    assert_true(vpn_ikev2_prop_iter_next(&pi, &pv));
    vpn_ikev2_xform_iter_init(&xi, &pv);
    assert_true(vpn_ikev2_xform_iter_next(&xi, &xv));
    assert_true(xv.bad_attr);
    assert_int_equal(xv.key_len, 0);
    assert_reparses(&m);
    free(msg);
    /* Key Length twice is not understood either */
    msg = msg_of("00 00 001c  00 00 0018 01 01 00 01  00 00 0010 01 00 000c 800e 0080 800e 0100",
                 VPN_IKEV2_PL_SA, &len);
    assert_int_equal(vpn_ikev2_msg_parse(msg, len, &m), 0);
    vpn_ikev2_prop_iter_init(&pi, &m.pl[0]);
    assert_true(vpn_ikev2_prop_iter_next(&pi, &pv));
    vpn_ikev2_xform_iter_init(&xi, &pv);
    assert_true(vpn_ikev2_xform_iter_next(&xi, &xv));
    assert_true(xv.bad_attr);
    free(msg);
}

static void test_sa_structure(void **state)
{
    (void)state;
    vpn_ikev2_msg m;
    static const char one[] = "00 00 0008 01 00 000c"; /* a lone ENCR transform */

    assert_int_equal(parse_sa(one, 1, &m), 0);
    /* Num Transforms disagreeing with what is there */
    assert_int_equal(parse_sa(one, 2, &m), VPN_ERR_MALFORMED);
    assert_int_equal(parse_sa(one, 0, &m), VPN_ERR_MALFORMED);
    /* the last transform marked "more" (3), a middle one marked "last" (0) */
    assert_int_equal(parse_sa("03 00 0008 01 00 000c", 1, &m), VPN_ERR_MALFORMED);
    assert_int_equal(parse_sa("00 00 0008 01 00 000c 00 00 0008 02 00 0005", 2, &m),
                     VPN_ERR_MALFORMED);
    /* an SA with no proposal */
    assert_int_equal(parse_hex("00 00 0004", VPN_IKEV2_PL_SA, &m), VPN_ERR_MALFORMED);
    /* a proposal length below its fixed part, or past the SA */
    assert_int_equal(parse_hex("00 00 000c 00 00 0007 01 01 00 00", VPN_IKEV2_PL_SA, &m),
                     VPN_ERR_MALFORMED);
    assert_int_equal(parse_hex("00 00 000c 00 00 0009 01 01 00 00", VPN_IKEV2_PL_SA, &m),
                     VPN_ERR_TRUNCATED);
    /* an SPI Size running past the proposal */
    assert_int_equal(parse_hex("00 00 000c 00 00 0008 01 03 04 00", VPN_IKEV2_PL_SA, &m),
                     VPN_ERR_TRUNCATED);
    /* the last proposal marked "more" (2) */
    assert_int_equal(parse_hex("00 00 0014 02 00 0010 01 01 00 01 00 00 0008 01 00 000c",
                               VPN_IKEV2_PL_SA, &m),
                     VPN_ERR_MALFORMED);
}

static void test_proposal_numbers(void **state)
{
    (void)state;
    vpn_ikev2_msg m;
    char hex[512];
    static const struct {
        unsigned a, b;
        int rc;
    } cases[] = {
        {1, 2, 0}, {2, 3, 0},                    /* consecutive */
        {1, 3, VPN_ERR_MALFORMED},               /* gap */
        {2, 1, VPN_ERR_MALFORMED},               /* backwards */
        {1, 1, VPN_ERR_MALFORMED},               /* repeated (IKEv1's AND) */
        {0, 1, VPN_ERR_MALFORMED},               /* zero */
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(hex, sizeof hex,
                 "00 00 0024"
                 " 02 00 0010 %02x 01 00 01  00 00 0008 01 00 000c"
                 " 00 00 0010 %02x 01 00 01  00 00 0008 01 00 000d",
                 cases[i].a, cases[i].b);
        assert_int_equal(parse_hex(hex, VPN_IKEV2_PL_SA, &m), cases[i].rc);
    }
    /* a reply carries the chosen proposal alone, whatever its number */
    assert_int_equal(parse_hex("00 00 0014 00 00 0010 07 01 00 01 00 00 0008 01 00 000c",
                               VPN_IKEV2_PL_SA, &m),
                     0);
}

/* ---- value checks ----------------------------------------------------------------- */

static void test_traffic_selector_ranges(void **state)
{
    (void)state;
    vpn_ikev2_msg m;

    /* start address above end address */
    assert_int_equal(parse_hex("00 00 0018 01 000000 07 00 0010 0000 ffff 0a000001 0a000000",
                               VPN_IKEV2_PL_TSI, &m),
                     VPN_ERR_MALFORMED);
    /* IPv6: the difference is in the last octet */
    assert_int_equal(parse_hex("00 00 0030 01 000000 08 00 0028 0000 ffff"
                               " 20010db8000000000000000000000002"
                               " 20010db8000000000000000000000001",
                               VPN_IKEV2_PL_TSR, &m),
                     VPN_ERR_MALFORMED);
    /* start port above end port, unless it is the OPAQUE 65535..0 */
    assert_int_equal(parse_hex("00 00 0018 01 000000 07 06 0010 0051 0050 0a000000 0a0000ff",
                               VPN_IKEV2_PL_TSI, &m),
                     VPN_ERR_MALFORMED);
    assert_int_equal(parse_hex("00 00 0018 01 000000 07 06 0010 ffff 0000 0a000000 0a0000ff",
                               VPN_IKEV2_PL_TSI, &m),
                     0);
    /* one address (start == end) is a range */
    assert_int_equal(parse_hex("00 00 0018 01 000000 07 00 0010 0000 ffff 0a000001 0a000001",
                               VPN_IKEV2_PL_TSI, &m),
                     0);
    /* Selector Length wrong for the type */
    assert_int_equal(parse_hex("00 00 001c 01 000000 07 00 0014 0000 ffff 0a000000 0a0000ff"
                               " 00000000",
                               VPN_IKEV2_PL_TSI, &m),
                     VPN_ERR_MALFORMED);
    assert_int_equal(parse_hex("00 00 000c 01 000000 07 00 0003", VPN_IKEV2_PL_TSI, &m),
                     VPN_ERR_MALFORMED);
    /* Number of TSs disagreeing, or zero */
    assert_int_equal(parse_hex("00 00 0018 02 000000 07 00 0010 0000 ffff 0a000000 0a0000ff",
                               VPN_IKEV2_PL_TSI, &m),
                     VPN_ERR_MALFORMED);
    assert_int_equal(parse_hex("00 00 0008 00 000000", VPN_IKEV2_PL_TSI, &m), VPN_ERR_MALFORMED);
    /* an unknown TS type is kept for the engine (TS_UNACCEPTABLE) */
    assert_int_equal(parse_hex("00 00 000e 01 000000 09 00 0006 abcd", VPN_IKEV2_PL_TSI, &m), 0);
}

static void test_nonce_length(void **state)
{
    (void)state;
    vpn_ikev2_msg m;
    char hex[1200];
    static const struct {
        size_t n;
        int rc;
    } cases[] = {
        {0, VPN_ERR_MALFORMED}, {15, VPN_ERR_MALFORMED}, {16, 0},
        {256, 0},               {257, VPN_ERR_MALFORMED},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int o = snprintf(hex, sizeof hex, "00 00 %04zx ", 4 + cases[i].n);
        for (size_t k = 0; k < cases[i].n; k++)
            o += snprintf(hex + o, sizeof hex - (size_t)o, "5a");
        assert_int_equal(parse_hex(hex, VPN_IKEV2_PL_NONCE, &m), cases[i].rc);
    }
}

static void test_ke_length_for_group(void **state)
{
    (void)state;
    vpn_ikev2_msg m;
    size_t len;
    uint8_t *msg;
    char hex[400];
    int o;

    /* ECP-256 with 65 octets: parses (the codec exposes the length), and
     * the group check refuses it */
    o = snprintf(hex, sizeof hex, "00 00 %04x 0013 0000 ", 4 + 4 + 65);
    for (int k = 0; k < 65; k++)
        o += snprintf(hex + o, sizeof hex - (size_t)o, "04");
    msg = msg_of(hex, VPN_IKEV2_PL_KE, &len);
    assert_int_equal(vpn_ikev2_msg_parse(msg, len, &m), 0);
    assert_int_equal(m.pl[0].u.ke.data.len, 65);
    assert_int_equal(vpn_ikev2_ke_check(&m.pl[0]), VPN_ERR_MALFORMED);
    /* the same data for Curve25519 (32) is too long, for an unknown group
     * unsupported */
    msg[28 + 5] = 31;
    assert_int_equal(vpn_ikev2_msg_parse(msg, len, &m), 0);
    assert_int_equal(vpn_ikev2_ke_check(&m.pl[0]), VPN_ERR_MALFORMED);
    msg[28 + 5] = 99;
    assert_int_equal(vpn_ikev2_msg_parse(msg, len, &m), 0);
    assert_int_equal(vpn_ikev2_ke_check(&m.pl[0]), VPN_ERR_UNSUPPORTED);
    assert_int_equal(vpn_ikev2_ke_check(NULL), VPN_ERR_INVAL);
    free(msg);
    /* a KE without data is malformed */
    assert_int_equal(parse_hex("00 00 0008 0013 0000", VPN_IKEV2_PL_KE, &m), VPN_ERR_MALFORMED);
    assert_int_equal(parse_hex("00 00 0006 0013 00", VPN_IKEV2_PL_KE, &m), VPN_ERR_MALFORMED);
}

static void test_other_payload_rules(void **state)
{
    (void)state;
    vpn_ikev2_msg m;

    /* ID: IPv4 must be 4 octets, IPv6 16, NULL empty, FQDN non-empty */
    assert_int_equal(parse_hex("00 00 000d 01 000000 c000020101", VPN_IKEV2_PL_IDI, &m),
                     VPN_ERR_MALFORMED);
    assert_int_equal(parse_hex("00 00 000c 05 000000 20010db8", VPN_IKEV2_PL_IDI, &m),
                     VPN_ERR_MALFORMED);
    assert_int_equal(parse_hex("00 00 0009 0d 000000 00", VPN_IKEV2_PL_IDI, &m),
                     VPN_ERR_MALFORMED);
    assert_int_equal(parse_hex("00 00 0008 0d 000000", VPN_IKEV2_PL_IDI, &m), 0);
    assert_int_equal(parse_hex("00 00 0008 02 000000", VPN_IKEV2_PL_IDI, &m), VPN_ERR_MALFORMED);
    /* CERTREQ X.509: whole SHA-1 hashes only */
    assert_int_equal(parse_hex("00 00 0009 04 11223344", VPN_IKEV2_PL_CERTREQ, &m),
                     VPN_ERR_MALFORMED);
    assert_int_equal(parse_hex("00 00 0005 04", VPN_IKEV2_PL_CERTREQ, &m), 0);
    /* CERT without data */
    assert_int_equal(parse_hex("00 00 0005 04", VPN_IKEV2_PL_CERT, &m), VPN_ERR_MALFORMED);
    /* AUTH (RFC 7427): AlgorithmIdentifier length past the data, empty
     * AlgorithmIdentifier, no signature */
    assert_int_equal(parse_hex("00 00 000c 0e 000000 05 3003 0601", VPN_IKEV2_PL_AUTH, &m),
                     VPN_ERR_MALFORMED);
    assert_int_equal(parse_hex("00 00 000b 0e 000000 00 aabb", VPN_IKEV2_PL_AUTH, &m),
                     VPN_ERR_MALFORMED);
    assert_int_equal(parse_hex("00 00 000b 0e 000000 02 3000", VPN_IKEV2_PL_AUTH, &m),
                     VPN_ERR_MALFORMED);
    assert_int_equal(parse_hex("00 00 0008 02 000000", VPN_IKEV2_PL_AUTH, &m), VPN_ERR_MALFORMED);
    /* Notify: SPI Size past the payload */
    assert_int_equal(parse_hex("00 00 000a 03 04 4009 c0ff", VPN_IKEV2_PL_NOTIFY, &m),
                     VPN_ERR_TRUNCATED);
    /* Delete: IKE with SPIs, ESP with 8-byte SPIs, SPI count past the end */
    assert_int_equal(parse_hex("00 00 000c 01 04 0001 11111111", VPN_IKEV2_PL_DELETE, &m),
                     VPN_ERR_MALFORMED);
    assert_int_equal(parse_hex("00 00 0010 03 08 0001 1111111111111111", VPN_IKEV2_PL_DELETE, &m),
                     VPN_ERR_MALFORMED);
    assert_int_equal(parse_hex("00 00 000c 03 04 0002 11111111", VPN_IKEV2_PL_DELETE, &m),
                     VPN_ERR_TRUNCATED);
    /* CP: an IPv4 address of 3 octets; an attribute past the payload */
    assert_int_equal(parse_hex("00 00 000f 01 000000 0001 0003 0a0101", VPN_IKEV2_PL_CP, &m),
                     VPN_ERR_MALFORMED);
    assert_int_equal(parse_hex("00 00 000e 01 000000 0001 0004 0a01", VPN_IKEV2_PL_CP, &m),
                     VPN_ERR_TRUNCATED);
    /* EAP: Length disagreeing with the payload; Success with a Type; a
     * Request without one; an unknown code */
    assert_int_equal(parse_hex("00 00 0009 01 01 0006 01", VPN_IKEV2_PL_EAP, &m),
                     VPN_ERR_MALFORMED);
    assert_int_equal(parse_hex("00 00 0009 03 01 0005 01", VPN_IKEV2_PL_EAP, &m),
                     VPN_ERR_MALFORMED);
    assert_int_equal(parse_hex("00 00 0008 01 01 0004", VPN_IKEV2_PL_EAP, &m), VPN_ERR_MALFORMED);
    assert_int_equal(parse_hex("00 00 0009 09 01 0005 01", VPN_IKEV2_PL_EAP, &m),
                     VPN_ERR_MALFORMED);
    /* SKF: fragment 0, fragment beyond the total, total 0 */
    assert_int_equal(parse_hex("00 00 000c 0000 0002 aabbccdd", VPN_IKEV2_PL_SKF, &m),
                     VPN_ERR_MALFORMED);
    assert_int_equal(parse_hex("00 00 000c 0003 0002 aabbccdd", VPN_IKEV2_PL_SKF, &m),
                     VPN_ERR_MALFORMED);
    assert_int_equal(parse_hex("00 00 000c 0001 0000 aabbccdd", VPN_IKEV2_PL_SKF, &m),
                     VPN_ERR_MALFORMED);
}

static void test_message_level_rules(void **state)
{
    (void)state;
    vpn_ikev2_msg m;
    size_t len;
    uint8_t *msg;

    /* two KE payloads: a once-only type repeated */
    assert_int_equal(parse_hex("22 00 0009 0013 0000 01  00 00 0009 0013 0000 01",
                               VPN_IKEV2_PL_KE, &m),
                     VPN_ERR_MALFORMED);
    /* two notifies are fine */
    assert_int_equal(parse_hex("29 00 0008 00 00 4000  00 00 0008 00 00 4001",
                               VPN_IKEV2_PL_NOTIFY, &m),
                     0);
    /* SK must be last (3.14) */
    assert_int_equal(parse_hex("00 00 0008 aabbccdd  2b 00 0004", VPN_IKEV2_PL_SK, &m),
                     VPN_ERR_MALFORMED);
    /* ... and its Next Payload is the inner type, not a successor */
    assert_int_equal(parse_hex("2b 00 0008 aabbccdd", VPN_IKEV2_PL_SK, &m), 0);
    assert_int_equal(m.n, 1);
    assert_int_equal(m.pl[0].u.sk.first, VPN_IKEV2_PL_VENDOR);
    /* no SK or SKF inside a decrypted chain */
    msg = tu_hex("00 00 0008 aabbccdd", &len);
    assert_int_equal(vpn_ikev2_msg_parse_inner(msg, len, VPN_IKEV2_PL_SK, &m), VPN_ERR_MALFORMED);
    assert_int_equal(vpn_ikev2_msg_parse_inner(msg, len, VPN_IKEV2_PL_VENDOR, &m), 0);
    assert_int_equal(vpn_ikev2_msg_parse_inner(NULL, 0, VPN_IKEV2_PL_NONE, &m), 0);
    assert_int_equal(vpn_ikev2_msg_parse_inner(NULL, 4, VPN_IKEV2_PL_NONE, &m), VPN_ERR_INVAL);
    free(msg);
}

static void test_too_many_payloads(void **state)
{
    (void)state;
    vpn_ikev2_msg m;
    char hex[64 * 12];
    size_t o;

    for (unsigned n = VPN_IKEV2_MSG_MAX_PAYLOADS; n <= VPN_IKEV2_MSG_MAX_PAYLOADS + 1; n++) {
        o = 0;
        for (unsigned i = 0; i < n; i++)
            o += (size_t)snprintf(hex + o, sizeof hex - o, "%s 00 0004 ", i + 1 < n ? "2b" : "00");
        assert_int_equal(parse_hex(hex, VPN_IKEV2_PL_VENDOR, &m),
                         n > VPN_IKEV2_MSG_MAX_PAYLOADS ? VPN_ERR_LIMIT : 0);
    }
    assert_int_equal(m.err_notify, VPN_IKEV2_N_INVALID_SYNTAX);
}

static void test_sk_region_checks(void **state)
{
    (void)state;
    vpn_ikev2_msg m;
    vpn_ikev2_sk_region r;
    size_t len, inner;
    uint8_t *msg = msg_of("00 00 0014 000102030405060708090a0b0c0d0e0f", VPN_IKEV2_PL_SK, &len);
    static const uint8_t pad_ok[4] = {0xaa, 0x00, 0x00, 0x02};
    static const uint8_t pad_bad[4] = {0xaa, 0x00, 0x00, 0x04};

    assert_int_equal(vpn_ikev2_msg_parse(msg, len, &m), 0);
    assert_int_equal(vpn_ikev2_sk_split(&m, &m.pl[0], 8, 8, 1, &r), VPN_ERR_MALFORMED); /* ct 0 */
    assert_int_equal(vpn_ikev2_sk_split(&m, &m.pl[0], 8, 7, 1, &r), 0);
    assert_int_equal(r.ct_len, 1);
    assert_int_equal(vpn_ikev2_sk_split(&m, &m.pl[0], 4, 4, 16, &r), VPN_ERR_MALFORMED);
    assert_int_equal(vpn_ikev2_sk_split(&m, &m.pl[0], 4, 4, 8, &r), 0);
    assert_int_equal(vpn_ikev2_sk_split(&m, &m.pl[0], SIZE_MAX, 1, 1, &r), VPN_ERR_MALFORMED);
    assert_int_equal(vpn_ikev2_sk_split(&m, &m.pl[0], 1, SIZE_MAX, 1, &r), VPN_ERR_MALFORMED);
    assert_int_equal(vpn_ikev2_sk_split(&m, &m.pl[0], 0, 0, 0, &r), VPN_ERR_INVAL);
    free(msg);

    assert_int_equal(vpn_ikev2_sk_unpad(pad_ok, 4, &inner), 0);
    assert_int_equal(inner, 1);
    assert_int_equal(vpn_ikev2_sk_unpad(pad_bad, 4, &inner), VPN_ERR_MALFORMED);
    assert_int_equal(vpn_ikev2_sk_unpad(pad_ok, 0, &inner), VPN_ERR_MALFORMED);
}

/* ---- the builder refuses what the parser would --------------------------------- */

static void test_builder_refusals(void **state)
{
    (void)state;
    uint8_t buf[512], n15[15] = {0}, n16[16] = {0};
    vpn_ikev2_hdr h = {.version = VPN_IKEV2_VERSION, .exchange = VPN_IKEV2_IKE_SA_INIT};
    vpn_ikev2_proposal p[2];
    vpn_ikev2_ts ts;
    vpn_ikev2_sk_region r;
    vpn_ikev2_bld b;
    vpn_wr w;
    static uint8_t big[70000], src[65536];

    vpn_wr_init(&w, buf, sizeof buf);
    assert_int_equal(vpn_ikev2_bld_init(&b, &w, &h), 0);
    assert_int_equal(vpn_ikev2_bld_nonce(&b, n15, 15), VPN_ERR_INVAL);
    /* errors are sticky */
    assert_int_equal(vpn_ikev2_bld_nonce(&b, n16, 16), VPN_ERR_INVAL);
    assert_int_equal(vpn_ikev2_bld_finish(&b, NULL), VPN_ERR_INVAL);

    /* proposals numbered 1, 3 */
    memset(p, 0, sizeof p);
    p[0].num = 1;
    p[1].num = 3;
    p[0].proto = p[1].proto = VPN_IKEV2_PROTO_IKE;
    vpn_wr_init(&w, buf, sizeof buf);
    assert_int_equal(vpn_ikev2_bld_init(&b, &w, &h), 0);
    assert_int_equal(vpn_ikev2_bld_sa(&b, p, 2), VPN_ERR_INVAL);

    /* a second KE; a TS range upside down */
    vpn_wr_init(&w, buf, sizeof buf);
    assert_int_equal(vpn_ikev2_bld_init(&b, &w, &h), 0);
    assert_int_equal(vpn_ikev2_bld_ke(&b, 19, n16, 16), 0);
    assert_int_equal(vpn_ikev2_bld_ke(&b, 19, n16, 16), VPN_ERR_INVAL);
    memset(&ts, 0, sizeof ts);
    ts.type = VPN_IKEV2_TS_IPV4_ADDR_RANGE;
    ts.addr_len = 4;
    ts.start[0] = 10;
    vpn_wr_init(&w, buf, sizeof buf);
    assert_int_equal(vpn_ikev2_bld_init(&b, &w, &h), 0);
    assert_int_equal(vpn_ikev2_bld_ts(&b, VPN_IKEV2_PL_TSI, &ts, 1), VPN_ERR_INVAL);

    /* sk_close without sk_open; finish with an SK open */
    vpn_wr_init(&w, buf, sizeof buf);
    assert_int_equal(vpn_ikev2_bld_init(&b, &w, &h), 0);
    assert_int_equal(vpn_ikev2_bld_sk_close(&b, 16, 16, &r), VPN_ERR_STATE);
    vpn_wr_init(&w, buf, sizeof buf);
    assert_int_equal(vpn_ikev2_bld_init(&b, &w, &h), 0);
    assert_int_equal(vpn_ikev2_bld_sk_open(&b, 16), 0);
    assert_int_equal(vpn_ikev2_bld_finish(&b, NULL), VPN_ERR_STATE);

    /* out of room */
    vpn_wr_init(&w, buf, 40);
    assert_int_equal(vpn_ikev2_bld_init(&b, &w, &h), 0);
    assert_int_equal(vpn_ikev2_bld_nonce(&b, n16, 16), VPN_ERR_NOSPACE);

    /* a payload over 65535 bytes */
    vpn_wr_init(&w, big, sizeof big);
    assert_int_equal(vpn_ikev2_bld_init(&b, &w, &h), 0);
    assert_int_equal(vpn_ikev2_bld_vendor(&b, src, 65532), VPN_ERR_OVERFLOW);
    vpn_wr_init(&w, big, sizeof big);
    assert_int_equal(vpn_ikev2_bld_init(&b, &w, &h), 0);
    assert_int_equal(vpn_ikev2_bld_vendor(&b, src, 65531), 0);

    /* too many payloads */
    vpn_wr_init(&w, big, sizeof big);
    assert_int_equal(vpn_ikev2_bld_init(&b, &w, &h), 0);
    for (unsigned i = 0; i < VPN_IKEV2_MSG_MAX_PAYLOADS; i++)
        assert_int_equal(vpn_ikev2_bld_vendor(&b, NULL, 0), 0);
    assert_int_equal(vpn_ikev2_bld_vendor(&b, NULL, 0), VPN_ERR_LIMIT);

    /* a critical bit is only written for unknown types (3.2) */
    vpn_wr_init(&w, buf, sizeof buf);
    assert_int_equal(vpn_ikev2_bld_init(&b, &w, &h), 0);
    assert_int_equal(vpn_ikev2_bld_raw(&b, VPN_IKEV2_PL_VENDOR, true, NULL, 0), 0);
    assert_int_equal(vpn_ikev2_bld_raw(&b, 77, true, NULL, 0), 0);
    assert_int_equal(buf[28 + 1], 0);
    assert_int_equal(buf[32 + 1], VPN_IKEV2_CRITICAL);
    /* a raw body that does not parse as its type is refused */
    assert_int_equal(vpn_ikev2_bld_raw(&b, VPN_IKEV2_PL_NONCE, false, n15, 15), VPN_ERR_INVAL);
}

/* ---- mutation loop ---------------------------------------------------------------- */

static uint32_t xorshift(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/*
 * 20000 deterministic mutants of the IKE_SA_INIT request (byte flips,
 * small integer nudges, header Length kept consistent half of the time):
 * each either fails with a VPN_ERR_* code or re-serialises to a message
 * that parses to the same payload list.
 */
static void test_mutants(void **state)
{
    (void)state;
    size_t len;
    uint8_t *good = tu_hex(sa_init_hex, &len);
    uint8_t *mut = malloc(len);
    uint32_t seed = 0x1badb002;
    unsigned ok = 0;
    vpn_ikev2_msg m;

    for (unsigned i = 0; i < 20000; i++) {
        size_t mlen = len;
        unsigned edits = 1 + xorshift(&seed) % 4;
        memcpy(mut, good, len);
        for (unsigned e = 0; e < edits; e++) {
            size_t at = 28 + xorshift(&seed) % (len - 28);
            switch (xorshift(&seed) % 3) {
            case 0: mut[at] ^= (uint8_t)(1u << (xorshift(&seed) % 8)); break;
            case 1: mut[at] = (uint8_t)(mut[at] + 1); break;
            default: mut[at] = (uint8_t)(mut[at] - 1); break;
            }
        }
        if (xorshift(&seed) % 2)
            mlen = 28 + xorshift(&seed) % (len - 27);
        vpn_store32(mut + 24, (uint32_t)mlen);
        int rc = vpn_ikev2_msg_parse(mut, mlen, &m);
        if (rc == 0) {
            ok++;
            assert_reparses(&m);
        } else {
            assert_true(rc < 0 && rc >= VPN_ERR_MIN);
            assert_int_not_equal(m.err_notify, 0);
        }
    }
    /* the loop must exercise both outcomes */
    assert_true(ok > 100);
    assert_true(ok < 19000);
    free(mut);
    free(good);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_truncation_fails),
        cmocka_unit_test(test_every_truncation_of_an_inner_chain_fails),
        cmocka_unit_test(test_payload_length_below_header),
        cmocka_unit_test(test_payload_length_overruns_message),
        cmocka_unit_test(test_chain_that_does_not_terminate),
        cmocka_unit_test(test_header_length_disagrees),
        cmocka_unit_test(test_wrong_major_version),
        cmocka_unit_test(test_unknown_critical_and_noncritical),
        cmocka_unit_test(test_transform_attributes),
        cmocka_unit_test(test_sa_structure),
        cmocka_unit_test(test_proposal_numbers),
        cmocka_unit_test(test_traffic_selector_ranges),
        cmocka_unit_test(test_nonce_length),
        cmocka_unit_test(test_ke_length_for_group),
        cmocka_unit_test(test_other_payload_rules),
        cmocka_unit_test(test_message_level_rules),
        cmocka_unit_test(test_too_many_payloads),
        cmocka_unit_test(test_sk_region_checks),
        cmocka_unit_test(test_builder_refusals),
        cmocka_unit_test(test_mutants),
    };
    return cmocka_run_group_tests_name("ikev2-adversarial", tests, NULL, NULL);
}
