/* Address and prefix parsing/printing, IOS masks and wildcards. */
#include <string.h>

#include "common/addr.h"
#include "common/vpn-err.h"
#include "test-util.h"

static void roundtrip(const char *in, const char *want)
{
    vpn_addr a;
    char buf[VPN_ADDR_STRLEN];

    assert_int_equal(vpn_addr_parse(&a, in), 0);
    assert_string_equal(vpn_addr_str(&a, buf, sizeof buf), want);
}

static void test_parse_print(void **state)
{
    (void)state;
    roundtrip("10.0.0.1", "10.0.0.1");
    roundtrip("255.255.255.255", "255.255.255.255");
    roundtrip("0.0.0.0", "0.0.0.0");
    roundtrip("2001:db8::1", "2001:db8::1");
    roundtrip("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1");
    roundtrip("::", "::");
    roundtrip("::1", "::1");
    roundtrip("fe80::", "fe80::");
    /* RFC 5952 4.2.2: a single zero group is not compressed. */
    roundtrip("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1");
    /* RFC 5952 4.2.3: the longest run is compressed, the first on a tie. */
    roundtrip("2001:0:0:1:0:0:0:1", "2001:0:0:1::1");
    roundtrip("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1");
    roundtrip("::ffff:192.0.2.1", "::ffff:c000:201");
}

static void test_parse_rejects(void **state)
{
    (void)state;
    static const char *bad[] = {
        "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ", "1..2.3", "01234.1.1.1", "a.b.c.d",
        ":", ":::", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "1:", "g::1",
        "1:2:3:4:5:6:7::8:9", "::1.2.3", "1:2:3:4:5:6:7:1.2.3.4",
    };
    vpn_addr a;
    vpn_addr_v4(&a, 0x01020304);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (vpn_addr_parse(&a, bad[i]) != VPN_ERR_MALFORMED)
            fail_msg("accepted bad address '%s'", bad[i]);
    }
    /* Failed parses leave the output untouched. */
    assert_int_equal(vpn_addr_v4_u32(&a), 0x01020304);
}

static void test_prefixes(void **state)
{
    (void)state;
    vpn_prefix p;
    vpn_addr a;

    assert_int_equal(vpn_prefix_parse(&p, "192.168.1.0/24"), 0);
    assert_int_equal(p.len, 24);
    vpn_addr_parse(&a, "192.168.1.77");
    assert_true(vpn_prefix_contains(&p, &a));
    vpn_addr_parse(&a, "192.168.2.1");
    assert_false(vpn_prefix_contains(&p, &a));
    vpn_addr_parse(&a, "2001:db8::1");
    assert_false(vpn_prefix_contains(&p, &a));
    assert_int_equal(vpn_prefix_parse(&p, "10.1.2.3"), 0);
    assert_int_equal(p.len, 32);
    assert_int_equal(vpn_prefix_parse(&p, "2001:db8::/33"), 0);
    vpn_addr_parse(&a, "2001:db8:7fff::1");
    assert_true(vpn_prefix_contains(&p, &a));
    vpn_addr_parse(&a, "2001:db8:8000::1");
    assert_false(vpn_prefix_contains(&p, &a));
    assert_int_equal(vpn_prefix_parse(&p, "0.0.0.0/0"), 0);
    vpn_addr_parse(&a, "8.8.8.8");
    assert_true(vpn_prefix_contains(&p, &a));
    assert_int_equal(vpn_prefix_parse(&p, "10.0.0.0/33"), VPN_ERR_MALFORMED);
    assert_int_equal(vpn_prefix_parse(&p, "10.0.0.0/"), VPN_ERR_MALFORMED);
    assert_int_equal(vpn_prefix_parse(&p, "10.0.0.0/2x"), VPN_ERR_MALFORMED);
    assert_int_equal(vpn_prefix_parse(&p, "::/129"), VPN_ERR_MALFORMED);
    assert_int_equal(vpn_prefix_parse(&p, "10.0.0.0/99999999999"), VPN_ERR_MALFORMED);
}

static void test_masks(void **state)
{
    (void)state;
    vpn_addr m;
    uint8_t len;

    vpn_addr_parse(&m, "255.255.255.0");
    assert_int_equal(vpn_mask_to_len(&m, false, &len), 0);
    assert_int_equal(len, 24);
    vpn_addr_parse(&m, "0.0.0.255");
    assert_int_equal(vpn_mask_to_len(&m, true, &len), 0);
    assert_int_equal(len, 24);
    vpn_addr_parse(&m, "0.0.0.0");
    assert_int_equal(vpn_mask_to_len(&m, true, &len), 0);
    assert_int_equal(len, 32);
    vpn_addr_parse(&m, "255.0.255.0");
    assert_int_equal(vpn_mask_to_len(&m, false, &len), VPN_ERR_MALFORMED);
    vpn_len_to_mask(20, &m);
    char buf[VPN_ADDR_STRLEN];
    assert_string_equal(vpn_addr_str(&m, buf, sizeof buf), "255.255.240.0");
    vpn_len_to_mask(0, &m);
    assert_string_equal(vpn_addr_str(&m, buf, sizeof buf), "0.0.0.0");
    vpn_len_to_mask(32, &m);
    assert_string_equal(vpn_addr_str(&m, buf, sizeof buf), "255.255.255.255");
}

/* vpn_addr_eq compares the family and the address's own octets only (4 for
 * IPv4, all 16 for IPv6, none without a family): what lies past them does
 * not count, and every octet of an IPv6 address does. */
static void test_equality(void **state)
{
    (void)state;
    vpn_addr a, b;

    assert_int_equal(vpn_addr_parse(&a, "10.0.0.1"), 0);
    b = a;
    assert_true(vpn_addr_eq(&a, &b));
    memset(b.b + 4, 0xa5, sizeof b.b - 4); /* beyond an IPv4 address */
    assert_true(vpn_addr_eq(&a, &b));
    assert_int_equal(vpn_addr_parse(&b, "10.0.0.2"), 0);
    assert_false(vpn_addr_eq(&a, &b));

    assert_int_equal(vpn_addr_parse(&a, "2001:db8::1"), 0);
    assert_int_equal(vpn_addr_parse(&b, "2001:db8::2"), 0); /* the 16th octet */
    assert_false(vpn_addr_eq(&a, &b));
    assert_int_equal(vpn_addr_parse(&b, "2001:db8:0:0:1::1"), 0); /* the 9th */
    assert_false(vpn_addr_eq(&a, &b));
    assert_int_equal(vpn_addr_parse(&b, "2001:db8::1"), 0);
    assert_true(vpn_addr_eq(&a, &b));

    /* the same octets under another family */
    b = a;
    b.family = VPN_AF_INET;
    assert_false(vpn_addr_eq(&a, &b));
    /* no family: no octets to compare */
    memset(&a, 0, sizeof a);
    memset(&b, 0x5a, sizeof b);
    a.family = b.family = VPN_AF_NONE;
    assert_true(vpn_addr_eq(&a, &b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_print),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_masks),
        cmocka_unit_test(test_equality),
    };
    return cmocka_run_group_tests_name("common-addr", tests, NULL, NULL);
}
