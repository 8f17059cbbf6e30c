/* IP header helpers: parsing into selector fields, writers, checksums, ECN. */
#include <string.h>

#include "common/vpn-err.h"
#include "common/wire.h"
#include "ipsec/ip.h"
#include "pkt-build.h"
#include "test-util.h"

static void test_parse_udp4(void **state)
{
    (void)state;
    vpn_addr s = tu_addr("192.0.2.1"), d = tu_addr("198.51.100.7");
    uint8_t pl[10] = {1, 2, 3}, buf[128];
    size_t n = tu_build_udp(buf, sizeof buf, &s, &d, 5060, 53, 0xb8 | 1, pl, sizeof pl);
    vpn_ip_info in;

    assert_int_equal(n, 20 + 8 + 10);
    /* A well-formed header checksums to zero. */
    assert_int_equal(vpn_ip_csum(buf, 20), 0);
    /* Link padding after the packet is tolerated. */
    assert_int_equal(vpn_ip_parse(buf, n + 6, &in), 0);
    assert_int_equal(in.version, 4);
    assert_int_equal(in.proto, VPN_IPPROTO_UDP);
    assert_int_equal(in.tos, 0xb9);
    assert_int_equal(in.hdr_len, 20);
    assert_int_equal(in.nh_off, 9);
    assert_int_equal(in.total_len, n);
    assert_true(in.has_ports);
    assert_int_equal(in.sport, 5060);
    assert_int_equal(in.dport, 53);
    assert_true(vpn_addr_eq(&in.src, &s));
    assert_true(vpn_addr_eq(&in.dst, &d));
    assert_false(in.frag);
}

static void test_parse_rejects(void **state)
{
    (void)state;
    vpn_addr s = tu_addr("192.0.2.1"), d = tu_addr("192.0.2.2");
    uint8_t buf[128], pl[4] = {0};
    size_t n = tu_build_udp(buf, sizeof buf, &s, &d, 1, 2, 0, pl, sizeof pl);
    vpn_ip_info in;

    for (size_t k = 0; k < 20; k++)
        assert_int_equal(vpn_ip_parse(buf, k, &in), VPN_ERR_TRUNCATED);
    /* Claims more than there is. */
    assert_int_equal(vpn_ip_parse(buf, n - 1, &in), VPN_ERR_TRUNCATED);
    buf[0] = 0x44; /* IHL 4 */
    assert_int_equal(vpn_ip_parse(buf, n, &in), VPN_ERR_MALFORMED);
    buf[0] = 0x55; /* version 5 */
    assert_int_equal(vpn_ip_parse(buf, n, &in), VPN_ERR_MALFORMED);
    buf[0] = 0x45;
    vpn_store16(buf + 2, 19); /* total < header */
    assert_int_equal(vpn_ip_parse(buf, n, &in), VPN_ERR_MALFORMED);
    buf[0] = 0x4f; /* IHL 15 = 60 bytes, more than the packet */
    vpn_store16(buf + 2, (uint16_t)n);
    assert_int_not_equal(vpn_ip_parse(buf, n, &in), 0);
}

static void test_parse_fragments(void **state)
{
    (void)state;
    vpn_addr s = tu_addr("192.0.2.1"), d = tu_addr("192.0.2.2");
    uint8_t buf[128], pl[16] = {0};
    size_t n = tu_build_udp(buf, sizeof buf, &s, &d, 7, 9, 0, pl, sizeof pl);
    vpn_ip_info in;

    vpn_store16(buf + 6, 0x2000); /* MF, offset 0: first fragment, ports known */
    assert_int_equal(vpn_ip_parse(buf, n, &in), 0);
    assert_true(in.frag);
    assert_true(in.has_ports);
    vpn_store16(buf + 6, 0x0002); /* a later fragment: no ports */
    assert_int_equal(vpn_ip_parse(buf, n, &in), 0);
    assert_true(in.frag);
    assert_false(in.has_ports);
    vpn_store16(buf + 6, 0x4000); /* DF only */
    assert_int_equal(vpn_ip_parse(buf, n, &in), 0);
    assert_false(in.frag);
    assert_true(in.df);
}

static void test_parse_ipv6_ext(void **state)
{
    (void)state;
    /* IPv6, hop-by-hop (8 bytes), destination options (16 bytes), then TCP. */
    uint8_t b[40 + 8 + 16 + 20];
    vpn_ip_info in;
    vpn_addr s = tu_addr("2001:db8::1"), d = tu_addr("2001:db8::2");

    memset(b, 0, sizeof b);
    vpn_store32(b, 6u << 28 | 0x2eu << 20 | 0x12345);
    vpn_store16(b + 4, sizeof b - 40);
    b[6] = VPN_IPPROTO_HOPOPTS;
    b[7] = 33;
    memcpy(b + 8, s.b, 16);
    memcpy(b + 24, d.b, 16);
    b[40] = VPN_IPPROTO_DSTOPTS; b[41] = 0;
    b[48] = VPN_IPPROTO_TCP; b[49] = 1;
    vpn_store16(b + 64, 443);
    vpn_store16(b + 66, 50000);
    assert_int_equal(vpn_ip_parse(b, sizeof b, &in), 0);
    assert_int_equal(in.version, 6);
    assert_int_equal(in.tos, 0x2e);
    assert_int_equal(in.ttl, 33);
    assert_int_equal(in.proto, VPN_IPPROTO_TCP);
    assert_int_equal(in.hdr_len, 64);
    assert_int_equal(in.nh_off, 48);
    assert_true(in.has_ports);
    assert_int_equal(in.sport, 443);
    assert_int_equal(in.dport, 50000);
    assert_true(vpn_addr_eq(&in.src, &s));
    /* An extension header running past the payload length. */
    b[49] = 9;
    assert_int_not_equal(vpn_ip_parse(b, sizeof b, &in), 0);
    b[49] = 1;
    /* Jumbogram payload length 0 is refused. */
    vpn_store16(b + 4, 0);
    assert_int_equal(vpn_ip_parse(b, sizeof b, &in), VPN_ERR_MALFORMED);
}

static void test_write_headers(void **state)
{
    (void)state;
    vpn_ip_hdr h;
    uint8_t b[40];
    vpn_ip_info in;
    uint8_t pad[100] = {0};
    uint8_t pk[140];

    memset(&h, 0, sizeof h);
    h.src = tu_addr("10.0.0.1");
    h.dst = tu_addr("10.0.0.2");
    h.proto = VPN_IPPROTO_ESP;
    h.tos = 0xb8;
    h.ttl = 64;
    h.df = true;
    h.id = 7;
    assert_int_equal(vpn_ip_hdr_write(b, &h, 100), 0);
    tu_assert_hex(b, 20, "45b8 0078 0007 4000 4032 2593 0a000001 0a000002");
    assert_int_equal(vpn_ip_csum(b, 20), 0);
    assert_int_equal(vpn_ip_hdr_write(b, &h, 65536), VPN_ERR_OVERFLOW);

    h.src = tu_addr("2001:db8::1");
    h.dst = tu_addr("2001:db8::2");
    h.flow_label = 0xabcde;
    assert_int_equal(vpn_ip_hdr_write(b, &h, 100), 0);
    memcpy(pk, b, 40);
    memcpy(pk + 40, pad, 100);
    assert_int_equal(vpn_ip_parse(pk, sizeof pk, &in), 0);
    assert_int_equal(in.tos, 0xb8);
    assert_int_equal(in.proto, VPN_IPPROTO_ESP);
    assert_int_equal(in.total_len, 140);
    assert_int_equal(vpn_load32(b) & 0xfffff, 0xabcde);
    /* Mixed families are refused. */
    h.dst = tu_addr("10.0.0.2");
    assert_int_equal(vpn_ip_hdr_write(b, &h, 100), VPN_ERR_INVAL);
}

static void test_tos_set(void **state)
{
    (void)state;
    vpn_addr s = tu_addr("192.0.2.1"), d = tu_addr("192.0.2.2");
    vpn_addr s6 = tu_addr("2001:db8::1"), d6 = tu_addr("2001:db8::2");
    uint8_t b[128], pl[4] = {0};
    size_t n;

    n = tu_build_udp(b, sizeof b, &s, &d, 1, 2, 0x00, pl, sizeof pl);
    vpn_ip_tos_set(b, 0xbb);
    assert_int_equal(vpn_ip_tos_get(b), 0xbb);
    assert_int_equal(vpn_ip_csum(b, 20), 0); /* checksum kept right */
    n = tu_build_udp(b, sizeof b, &s6, &d6, 1, 2, 0x00, pl, sizeof pl);
    (void)n;
    vpn_ip_tos_set(b, 0xa5);
    assert_int_equal(vpn_ip_tos_get(b), 0xa5);
    assert_int_equal(b[0] >> 4, 6); /* version untouched */
}

/* RFC 6040 figure 4, row by row. */
static void test_ecn_decap_table(void **state)
{
    (void)state;
    enum { N = VPN_ECN_NOT_ECT, E0 = VPN_ECN_ECT0, E1 = VPN_ECN_ECT1, CE = VPN_ECN_CE, D = 9 };
    static const uint8_t inner[4] = {N, E0, E1, CE};
    static const uint8_t outer[4] = {N, E0, E1, CE};
    static const uint8_t want[4][4] = {
        {N, N, N, D},
        {E0, E0, E1, CE},
        {E1, E1, E1, CE},
        {CE, CE, CE, CE},
    };
    for (int i = 0; i < 4; i++) {
        for (int o = 0; o < 4; o++) {
            uint8_t got = 0xff;
            int rc = vpn_ecn_decap(inner[i], outer[o], &got);
            if (want[i][o] == D) {
                assert_int_equal(rc, VPN_ERR_POLICY);
            } else {
                assert_int_equal(rc, 0);
                assert_int_equal(got, want[i][o]);
            }
        }
    }
    /* Encapsulation: normal mode copies, compatibility mode clears. */
    assert_int_equal(vpn_ecn_encap(0xb8 | CE, false), CE);
    assert_int_equal(vpn_ecn_encap(0xb8 | E0, true), N);
}

static void test_checksum_rfc1071(void **state)
{
    (void)state;
    /* RFC 1071 section 3 example: the sum of these is ddf2, so ~ = 220d. */
    static const uint8_t d[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    assert_int_equal(vpn_ip_csum(d, sizeof d), 0x220d);
    /* Odd length pads with zero. */
    static const uint8_t o[] = {0xff};
    assert_int_equal(vpn_ip_csum(o, 1), 0x00ff);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_udp4),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_parse_fragments),
        cmocka_unit_test(test_parse_ipv6_ext),
        cmocka_unit_test(test_write_headers),
        cmocka_unit_test(test_tos_set),
        cmocka_unit_test(test_ecn_decap_table),
        cmocka_unit_test(test_checksum_rfc1071),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
