/* RTP fixed header (RFC 3550 5.1) by hand, CSRC and extension skipping,
 * the measurement probe, and truncated or wrong-version input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "common/wire.h"
#include "qos/rtp.h"
#include "test-util.h"

/* Decodes hex into buf (at most cap bytes); returns the length. */
static size_t hex_into(uint8_t *buf, size_t cap, const char *hex)
{
    size_t n;
    uint8_t *p = tu_hex(hex, &n);
    assert_true(n <= cap);
    memcpy(buf, p, n);
    free(p);
    return n;
}

static void test_header_vectors(void **state)
{
    (void)state;
    uint8_t buf[32];
    vpn_wr w;
    vpn_rd r;
    vpn_rtp_hdr h = {true, VPN_RTP_PT_PCMU, 0x1234, 0xa0, 0xdeadbeef}, g;
    /* V=2 P=0 X=0 CC=0 -> 0x80; M=1 PT=0 -> 0x80; seq; ts; SSRC. */
    vpn_wr_init(&w, buf, sizeof buf);
    assert_int_equal(vpn_rtp_write(&w, &h), 0);
    assert_int_equal(vpn_wr_len(&w), 12);
    tu_assert_hex(buf, 12, "808012340000 00a0deadbeef");
    /* G.729, no marker: PT 18 -> 0x12. */
    h.marker = false;
    h.pt = VPN_RTP_PT_G729;
    vpn_wr_init(&w, buf, sizeof buf);
    assert_int_equal(vpn_rtp_write(&w, &h), 0);
    assert_int_equal(vpn_qos_probe_write(&w, 0x0102030405060708ull, 7, 9), 0);
    tu_assert_hex(buf, 28, "801212340000 00a0deadbeef 0102030405060708 00000007 00000009");
    vpn_rd_init(&r, buf, 28);
    assert_int_equal(vpn_rtp_read(&r, &g), 0);
    assert_false(g.marker);
    assert_int_equal(g.pt, 18);
    assert_int_equal(g.seq, 0x1234);
    assert_int_equal(g.ts, 0xa0);
    assert_int_equal(g.ssrc, 0xdeadbeef);
    uint64_t tx;
    uint32_t flow, seq;
    assert_int_equal(vpn_qos_probe_read(&r, &tx, &flow, &seq), 0);
    assert_true(tx == 0x0102030405060708ull);
    assert_int_equal(flow, 7);
    assert_int_equal(seq, 9);
    assert_int_equal(vpn_rd_left(&r), 0);
}

static void test_csrc_and_extension_skipped(void **state)
{
    (void)state;
    vpn_rtp_hdr g;
    vpn_rd r;
    uint8_t buf[64];
    size_t n;
    /* X=1, CC=2: two CSRCs, then extension profile 0xbede with 1 word. */
    n = hex_into(buf, sizeof buf, "9260 0001 00000002 00000003 11111111 22222222 bede0001 aabbccdd 55");
    vpn_rd_init(&r, buf, n);
    assert_int_equal(vpn_rtp_read(&r, &g), 0);
    assert_int_equal(g.pt, 96);
    assert_int_equal(vpn_rd_left(&r), 1);
    assert_int_equal(*vpn_rd_cur(&r), 0x55);
    /* The extension claims more words than there are. */
    n = hex_into(buf, sizeof buf, "9060 0001 00000002 00000003 bede0009 aabbccdd");
    vpn_rd_init(&r, buf, n);
    assert_int_equal(vpn_rtp_read(&r, &g), VPN_ERR_TRUNCATED);
}

static void test_bad_input(void **state)
{
    (void)state;
    uint8_t buf[16];
    vpn_wr w;
    vpn_rd r;
    vpn_rtp_hdr h = {false, 128, 0, 0, 0}, g;
    uint64_t tx;
    uint32_t a, b;
    vpn_wr_init(&w, buf, sizeof buf);
    assert_int_equal(vpn_rtp_write(&w, &h), VPN_ERR_INVAL);
    h.pt = 0;
    vpn_wr_init(&w, buf, 11);
    assert_int_equal(vpn_rtp_write(&w, &h), VPN_ERR_NOSPACE);
    assert_int_equal(vpn_wr_len(&w), 0);
    vpn_wr_init(&w, buf, 15);
    assert_int_equal(vpn_qos_probe_write(&w, 1, 2, 3), VPN_ERR_NOSPACE);
    /* Version 1 and version 3. */
    size_t n = hex_into(buf, sizeof buf, "400000010000000200000003");
    vpn_rd_init(&r, buf, n);
    assert_int_equal(vpn_rtp_read(&r, &g), VPN_ERR_MALFORMED);
    buf[0] = 0xc0;
    vpn_rd_init(&r, buf, n);
    assert_int_equal(vpn_rtp_read(&r, &g), VPN_ERR_MALFORMED);
    /* Every truncation of a valid header. */
    n = hex_into(buf, sizeof buf, "800000010000000200000003");
    for (size_t len = 0; len < n; len++) {
        vpn_rd_init(&r, buf, len);
        assert_int_equal(vpn_rtp_read(&r, &g), VPN_ERR_TRUNCATED);
    }
    /* CC = 15 CSRCs missing. */
    buf[0] = 0x8f;
    vpn_rd_init(&r, buf, n);
    assert_int_equal(vpn_rtp_read(&r, &g), VPN_ERR_TRUNCATED);
    vpn_rd_init(&r, buf, 15);
    assert_int_equal(vpn_qos_probe_read(&r, &tx, &a, &b), VPN_ERR_TRUNCATED);
    assert_int_equal(vpn_rtp_read(NULL, &g), VPN_ERR_INVAL);
    assert_int_equal(vpn_qos_probe_read(&r, NULL, &a, &b), VPN_ERR_INVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_vectors),
        cmocka_unit_test(test_csrc_and_extension_skipped),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
