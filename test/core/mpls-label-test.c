/* MPLS label stack entries (RFC 3032 2.1, RFC 5462): vectors, and stacks
 * that are truncated, bottomless, too deep or use reserved labels. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "common/wire.h"
#include "mpls/mpls.h"
#include "test-util.h"

static void test_lse_vectors(void **state)
{
    (void)state;
    /* label | TC | S | TTL, worked by hand from the RFC 3032 2.1 layout. */
    static const struct {
        vpn_mpls_lse e;
        const char *hex;
    } v[] = {
        { { 16, 5, true, 63 }, "00010b3f" },
        { { 18, 0, false, 254 }, "000120fe" },
        { { 0xFFFFF, 7, false, 255 }, "fffffeff" },
        { { 0, 0, true, 1 }, "00000101" },
        { { 0x12345, 3, true, 0 }, "12345700" },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t buf[4];
        vpn_wr w;
        vpn_rd r;
        vpn_mpls_lse got;
        vpn_wr_init(&w, buf, sizeof buf);
        assert_int_equal(vpn_mpls_lse_write(&w, &v[i].e), 0);
        tu_assert_hex(buf, 4, v[i].hex);
        vpn_rd_init(&r, buf, sizeof buf);
        assert_int_equal(vpn_mpls_lse_read(&r, &got), 0);
        assert_int_equal(got.label, v[i].e.label);
        assert_int_equal(got.tc, v[i].e.tc);
        assert_int_equal(got.s, v[i].e.s);
        assert_int_equal(got.ttl, v[i].e.ttl);
    }
}

static void test_lse_bad_fields(void **state)
{
    (void)state;
    uint8_t buf[8];
    vpn_wr w;
    vpn_rd r;
    uint32_t v = 0xabcdef01;
    vpn_mpls_lse e = { 0x100000, 0, true, 1 };
    assert_int_equal(vpn_mpls_lse_pack(&e, &v), VPN_ERR_INVAL);
    e.label = 16;
    e.tc = 8;
    assert_int_equal(vpn_mpls_lse_pack(&e, &v), VPN_ERR_INVAL);
    assert_int_equal(vpn_mpls_lse_pack(NULL, &v), VPN_ERR_INVAL);
    /* Three bytes of room: nothing written. */
    e.tc = 0;
    vpn_wr_init(&w, buf, 3);
    assert_int_equal(vpn_mpls_lse_write(&w, &e), VPN_ERR_NOSPACE);
    assert_int_equal(vpn_wr_len(&w), 0);
    /* A read from three bytes fails and yields zeroes. */
    memset(buf, 0xff, sizeof buf);
    vpn_rd_init(&r, buf, 3);
    e.label = 99;
    assert_int_equal(vpn_mpls_lse_read(&r, &e), VPN_ERR_TRUNCATED);
    assert_int_equal(e.label, 0);
    assert_int_equal(e.ttl, 0);
}

static vpn_mpls_stack parse_ok(const char *hex, size_t want_depth)
{
    size_t len, hlen = 0;
    uint8_t *p = tu_hex(hex, &len);
    vpn_mpls_stack st;
    assert_int_equal(vpn_mpls_stack_parse(p, len, &st, &hlen), 0);
    assert_int_equal(st.depth, want_depth);
    assert_int_equal(hlen, want_depth * 4);
    free(p);
    return st;
}

static void parse_fails(const char *hex, int want)
{
    size_t len, hlen = 1234;
    uint8_t *p = tu_hex(hex, &len);
    vpn_mpls_stack st;
    memset(&st, 0x5a, sizeof st);
    assert_int_equal(vpn_mpls_stack_parse(p, len, &st, &hlen), want);
    assert_int_equal(st.depth, 0);
    assert_int_equal(st.e[0].label, 0);
    assert_int_equal(hlen, 1234);
    free(p);
}

static void test_stack_two_labels(void **state)
{
    (void)state;
    /* Transport 17 (TC 5, TTL 63) over VPN 24 (S, TTL 63), then an IPv4 byte. */
    vpn_mpls_stack st = parse_ok("00011a3f 00018b3f 45", 2);
    assert_int_equal(st.e[0].label, 17);
    assert_int_equal(st.e[0].tc, 5);
    assert_false(st.e[0].s);
    assert_int_equal(st.e[1].label, 24);
    assert_true(st.e[1].s);
    assert_int_equal(st.e[1].ttl, 63);
    /* The parser stops at S: what follows is the payload, whatever it is. */
    st = parse_ok("00010140 ffffffff", 1);
    assert_int_equal(st.e[0].ttl, 0x40);
}

static void test_stack_truncated(void **state)
{
    (void)state;
    parse_fails("", VPN_ERR_TRUNCATED);
    parse_fails("000101", VPN_ERR_TRUNCATED);
    /* No S bit within the buffer. */
    parse_fails("00010040", VPN_ERR_TRUNCATED);
    parse_fails("00010040 00011040 000120", VPN_ERR_TRUNCATED);
    vpn_mpls_stack st;
    assert_int_equal(vpn_mpls_stack_parse(NULL, 4, &st, NULL), VPN_ERR_INVAL);
    assert_int_equal(vpn_mpls_stack_parse(NULL, 0, &st, NULL), VPN_ERR_TRUNCATED);
}

static void test_stack_depth(void **state)
{
    (void)state;
    /* Eight entries are the limit; a ninth (even with S) is refused. */
    parse_ok("00010040 00010040 00010040 00010040 00010040 00010040 00010040 00010140", 8);
    parse_fails("00010040 00010040 00010040 00010040 00010040 00010040 00010040 00010040 "
                "00010140",
                VPN_ERR_LIMIT);
}

static void test_stack_reserved(void **state)
{
    (void)state;
    /* IPv4 and IPv6 explicit-null are fine anywhere (RFC 4182). */
    parse_ok("00000040 00010140", 2);
    parse_ok("00000140", 1);
    parse_ok("00002140", 1);
    /* Router alert: not at the bottom. */
    parse_ok("00001040 00010140", 2);
    parse_fails("00001140", VPN_ERR_MALFORMED);
    /* Implicit-null is never on the wire. */
    parse_fails("00003140", VPN_ERR_MALFORMED);
    parse_fails("00010040 00003140", VPN_ERR_MALFORMED);
    /* 4 to 15: reserved, not implemented. */
    for (unsigned l = 4; l < 16; l++) {
        char hex[16];
        snprintf(hex, sizeof hex, "0000%x140", l);
        parse_fails(hex, VPN_ERR_UNSUPPORTED);
    }
    /* 16 is the first ordinary label. */
    parse_ok("00010140", 1);
}

static void test_stack_ttl_values(void **state)
{
    (void)state;
    /* TTL 0 and 1 parse (the forwarding path decides, RFC 3032 2.4.1). */
    vpn_mpls_stack st = parse_ok("00010100", 1);
    assert_int_equal(st.e[0].ttl, 0);
    st = parse_ok("00010101", 1);
    assert_int_equal(st.e[0].ttl, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lse_vectors),
        cmocka_unit_test(test_lse_bad_fields),
        cmocka_unit_test(test_stack_two_labels),
        cmocka_unit_test(test_stack_truncated),
        cmocka_unit_test(test_stack_depth),
        cmocka_unit_test(test_stack_reserved),
        cmocka_unit_test(test_stack_ttl_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
