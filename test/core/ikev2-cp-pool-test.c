/*
 * `ip local pool` allocation (lowest free first, one address per owner,
 * exhaustion refusing the next user cleanly, release by address and by
 * owner) and the configuration payload (RFC 7296 3.15): a CFG_REQUEST
 * parsed and answered from a grant, the CFG_REPLY read back, and hostile
 * attribute lists refused without touching the caller's state; a spoke's
 * CFG_REQUEST with its networks (FlexVPN routing over IKEv2).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "common/wire.h"
#include "ikev2/ikev2-const.h"
#include "ikev2/ikev2-cp.h"
#include "test-util.h"

static vpn_addr A(const char *s)
{
    vpn_addr a;
    assert_int_equal(vpn_addr_parse(&a, s), 0);
    return a;
}

static void test_pool_alloc_exhaust_release(void **state)
{
    (void)state;
    vpn_ippool p;
    vpn_addr lo = A("10.99.0.10"), hi = A("10.99.0.13"), got, g2;
    assert_int_equal(vpn_ippool_init(&p, "RA", &lo, &hi), 0);
    assert_int_equal(vpn_ippool_size(&p), 4);
    char want[16];
    for (uint32_t owner = 1; owner <= 4; owner++) {
        assert_int_equal(vpn_ippool_alloc(&p, owner, &got), 0);
        snprintf(want, sizeof want, "10.99.0.%u", 9 + owner);
        vpn_addr w = A(want);
        assert_true(vpn_addr_eq(&got, &w));
        assert_int_equal(vpn_ippool_owner(&p, &got), owner);
    }
    /* The same owner asking again keeps its address. */
    assert_int_equal(vpn_ippool_alloc(&p, 2, &got), 0);
    vpn_addr w11 = A("10.99.0.11");
    assert_true(vpn_addr_eq(&got, &w11));
    assert_int_equal(p.used, 4);
    /* Exhausted: the fifth user is refused and nothing changes. */
    memset(&g2, 0x5a, sizeof g2);
    assert_int_equal(vpn_ippool_alloc(&p, 5, &g2), VPN_ERR_LIMIT);
    assert_int_equal(p.used, 4);
    /* Release checks the owner; a wrong one or a free address is refused. */
    assert_int_equal(vpn_ippool_release(&p, &w11, 3), VPN_ERR_NOTFOUND);
    assert_int_equal(vpn_ippool_release(&p, &w11, 2), 0);
    assert_int_equal(vpn_ippool_release(&p, &w11, 2), VPN_ERR_NOTFOUND);
    vpn_addr out = A("10.99.1.1");
    assert_int_equal(vpn_ippool_release(&p, &out, 2), VPN_ERR_NOTFOUND);
    assert_int_equal(p.used, 3);
    /* The freed address goes to the next user. */
    assert_int_equal(vpn_ippool_alloc(&p, 5, &got), 0);
    assert_true(vpn_addr_eq(&got, &w11));
    /* A rekey hands the address to the new SA; only its holder can. */
    assert_int_equal(vpn_ippool_transfer(&p, &w11, 4, 9), VPN_ERR_NOTFOUND);
    assert_int_equal(vpn_ippool_transfer(&p, &w11, 5, 9), 0);
    assert_int_equal(vpn_ippool_owner(&p, &w11), 9);
    assert_int_equal(p.used, 4);
    assert_int_equal(vpn_ippool_transfer(&p, &w11, 9, 5), 0);
    /* An SA going away gives back everything it held. */
    assert_int_equal(vpn_ippool_release_owner(&p, 5), 1);
    assert_int_equal(vpn_ippool_release_owner(&p, 5), 0);
    assert_int_equal(vpn_ippool_owner(&p, &w11), 0);
    assert_int_equal(p.used, 3);
    for (uint32_t owner = 1; owner <= 4; owner++)
        vpn_ippool_release_owner(&p, owner);
    assert_int_equal(p.used, 0);
    assert_int_equal(vpn_ippool_alloc(&p, 0, &got), VPN_ERR_INVAL);
    vpn_ippool_free(&p);
}

/* An AAA server's Framed-IP-Address inside the pool: claimed for its user,
 * never handed to another; a claim of someone else's address, one outside
 * the pool or a second address for the same owner changes nothing. */
static void test_pool_claim(void **state)
{
    (void)state;
    vpn_ippool p;
    vpn_addr lo = A("10.99.0.10"), hi = A("10.99.0.12"), got, w11 = A("10.99.0.11"), w10 = A("10.99.0.10");
    vpn_addr out = A("10.98.0.11"), v6 = A("2001:db8::1");
    assert_int_equal(vpn_ippool_init(&p, "RA", &lo, &hi), 0);
    assert_int_equal(vpn_ippool_claim(&p, 7, &w11), 0);
    assert_int_equal(vpn_ippool_owner(&p, &w11), 7);
    assert_int_equal(p.used, 1);
    assert_int_equal(vpn_ippool_claim(&p, 7, &w11), 0); /* again: the same */
    assert_int_equal(p.used, 1);
    assert_int_equal(vpn_ippool_claim(&p, 8, &w11), VPN_ERR_EXISTS);
    assert_int_equal(vpn_ippool_owner(&p, &w11), 7);
    assert_int_equal(vpn_ippool_claim(&p, 7, &w10), VPN_ERR_STATE); /* one per owner */
    assert_int_equal(vpn_ippool_claim(&p, 8, &out), VPN_ERR_NOTFOUND);
    assert_int_equal(vpn_ippool_claim(&p, 8, &v6), VPN_ERR_NOTFOUND);
    assert_int_equal(vpn_ippool_claim(&p, 0, &w10), VPN_ERR_INVAL);
    assert_int_equal(vpn_ippool_claim(NULL, 8, &w10), VPN_ERR_INVAL);
    assert_int_equal(p.used, 1);
    /* the allocator skips the claimed address and the owner keeps it */
    assert_int_equal(vpn_ippool_alloc(&p, 8, &got), 0);
    assert_true(vpn_addr_eq(&got, &w10));
    assert_int_equal(vpn_ippool_alloc(&p, 9, &got), 0);
    assert_string_equal(vpn_addr_str(&got, (char[VPN_ADDR_STRLEN]){0}, VPN_ADDR_STRLEN), "10.99.0.12");
    assert_int_equal(vpn_ippool_alloc(&p, 7, &got), 0);
    assert_true(vpn_addr_eq(&got, &w11));
    assert_int_equal(vpn_ippool_release(&p, &w11, 7), 0);
    assert_int_equal(p.used, 2);
    vpn_ippool_free(&p);
}

static void test_pool_bad_ranges(void **state)
{
    (void)state;
    vpn_ippool p;
    vpn_addr a = A("10.0.0.5"), b = A("10.0.0.4"), c = A("10.2.0.0"), d = A("2001:db8::1");
    assert_int_equal(vpn_ippool_init(&p, "X", &a, &b), VPN_ERR_INVAL);
    assert_int_equal(vpn_ippool_init(&p, "X", &b, &c), VPN_ERR_LIMIT);
    assert_int_equal(vpn_ippool_init(&p, "X", &d, &d), VPN_ERR_UNSUPPORTED);
    assert_int_equal(vpn_ippool_init(&p, "", &b, &a), VPN_ERR_INVAL);
    /* A one-address pool and a full /16 work. */
    assert_int_equal(vpn_ippool_init(&p, "ONE", &a, &a), 0);
    vpn_addr got;
    assert_int_equal(vpn_ippool_alloc(&p, 7, &got), 0);
    assert_int_equal(vpn_ippool_alloc(&p, 8, &got), VPN_ERR_LIMIT);
    vpn_ippool_free(&p);
    vpn_addr e = A("10.1.0.0"), f = A("10.1.255.255");
    assert_int_equal(vpn_ippool_init(&p, "BIG", &e, &f), 0);
    assert_int_equal(vpn_ippool_size(&p), 65536);
    vpn_ippool_free(&p);
}

/* `ipv6 local pool`: /64s out of a /48, and /128s out of a /120 (the
 * anycast ::0 left out); lowest first, released, refused when full;
 * addresses off a slot boundary or outside are no one's; bad lengths and
 * host bits are refused. */
static void test_pool6(void **state)
{
    (void)state;
    vpn_ippool p;
    vpn_prefix pf;
    vpn_addr got, got2;
    char a[VPN_ADDR_STRLEN];
    assert_int_equal(vpn_prefix_parse(&pf, "2001:db8:99::/48"), 0);
    assert_int_equal(vpn_ippool_init6(&p, "V6", &pf, 64), 0);
    assert_int_equal(vpn_ippool_size(&p), VPN_IPPOOL_MAX); /* 2^16 /64s */
    assert_int_equal(vpn_ippool_alloc(&p, 7, &got), 0);
    assert_string_equal(vpn_addr_str(&got, a, sizeof a), "2001:db8:99::");
    assert_int_equal(vpn_ippool_alloc(&p, 8, &got2), 0);
    assert_string_equal(vpn_addr_str(&got2, a, sizeof a), "2001:db8:99:1::");
    assert_int_equal(vpn_ippool_alloc(&p, 7, &got), 0); /* the same again */
    assert_string_equal(vpn_addr_str(&got, a, sizeof a), "2001:db8:99::");
    assert_int_equal(vpn_ippool_owner(&p, &got2), 8);
    vpn_addr off = A("2001:db8:99:1::5"), out = A("2001:db8:98:1::"), v4 = A("10.0.0.1");
    assert_int_equal(vpn_ippool_owner(&p, &off), 0);
    assert_int_equal(vpn_ippool_owner(&p, &out), 0);
    assert_int_equal(vpn_ippool_owner(&p, &v4), 0);
    assert_int_equal(vpn_ippool_release(&p, &off, 8), VPN_ERR_NOTFOUND);
    assert_int_equal(vpn_ippool_release(&p, &got2, 8), 0);
    assert_int_equal(p.used, 1);
    vpn_addr far = A("2001:db8:99:ffff::");
    assert_int_equal(vpn_ippool_claim(&p, 9, &far), 0);
    assert_int_equal(vpn_ippool_owner(&p, &far), 9);
    vpn_ippool_free(&p);
    /* /128s from a /120: 255 addresses, ::1 to ::ff */
    assert_int_equal(vpn_prefix_parse(&pf, "2001:db8:99::/120"), 0);
    assert_int_equal(vpn_ippool_init6(&p, "H", &pf, 128), 0);
    assert_int_equal(vpn_ippool_size(&p), 255);
    for (uint32_t i = 1; i <= 255; i++)
        assert_int_equal(vpn_ippool_alloc(&p, i, &got), 0);
    assert_string_equal(vpn_addr_str(&got, a, sizeof a), "2001:db8:99::ff");
    assert_int_equal(vpn_ippool_alloc(&p, 999, &got), VPN_ERR_LIMIT);
    vpn_addr zero = A("2001:db8:99::");
    assert_int_equal(vpn_ippool_owner(&p, &zero), 0);
    assert_int_equal(vpn_ippool_release_owner(&p, 3), 1);
    assert_int_equal(vpn_ippool_alloc(&p, 999, &got), 0);
    assert_string_equal(vpn_addr_str(&got, a, sizeof a), "2001:db8:99::3");
    vpn_ippool_free(&p);
    /* the whole top of the address space: no overflow */
    assert_int_equal(vpn_prefix_parse(&pf, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00/120"), 0);
    assert_int_equal(vpn_ippool_init6(&p, "TOP", &pf, 128), 0);
    vpn_addr top = A("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    assert_int_equal(vpn_ippool_claim(&p, 5, &top), 0);
    vpn_ippool_free(&p);
    /* refused */
    assert_int_equal(vpn_prefix_parse(&pf, "2001:db8:99::/64"), 0);
    assert_int_equal(vpn_ippool_init6(&p, "X", &pf, 63), VPN_ERR_INVAL);  /* assigned shorter */
    assert_int_equal(vpn_ippool_init6(&p, "X", &pf, 129), VPN_ERR_INVAL); /* beyond 128 */
    assert_int_equal(vpn_prefix_parse(&pf, "2001:db8:99::1/64"), 0);
    assert_int_equal(vpn_ippool_init6(&p, "X", &pf, 128), VPN_ERR_INVAL); /* host bits */
    assert_int_equal(vpn_prefix_parse(&pf, "2001:db8:99::/128"), 0);
    assert_int_equal(vpn_ippool_init6(&p, "X", &pf, 128), VPN_ERR_INVAL); /* only ::0 */
    assert_int_equal(vpn_prefix_parse(&pf, "10.0.0.0/24"), 0);
    assert_int_equal(vpn_ippool_init6(&p, "X", &pf, 32), VPN_ERR_INVAL); /* IPv4 */
    assert_int_equal(vpn_prefix_parse(&pf, "2001:db8::/32"), 0);
    assert_int_equal(vpn_ippool_init6(&p, "", &pf, 64), VPN_ERR_INVAL);
    /* a /0 pool of /128s: 2^16 slots used, the rest never reached */
    assert_int_equal(vpn_prefix_parse(&pf, "::/0"), 0);
    assert_int_equal(vpn_ippool_init6(&p, "ALL", &pf, 128), 0);
    assert_int_equal(vpn_ippool_size(&p), VPN_IPPOOL_MAX);
    vpn_addr beyond = A("::1:0:0:0:1");
    assert_int_equal(vpn_ippool_owner(&p, &beyond), 0);
    assert_int_equal(vpn_ippool_claim(&p, 3, &beyond), VPN_ERR_NOTFOUND);
    vpn_ippool_free(&p);
}

/* Builds one CP payload from raw attribute bytes and parses it back; NULL
 * when the codec refuses it on either side. */
static const vpn_ikev2_payload *cp_of(vpn_ikev2_msg *msg, uint8_t *buf, size_t cap, uint8_t type,
                                      const uint8_t *attrs, size_t n)
{
    uint8_t body[512];
    assert_true(n + 4 <= sizeof body);
    body[0] = type;
    memset(body + 1, 0, 3);
    memcpy(body + 4, attrs, n);
    vpn_wr w;
    vpn_ikev2_bld b;
    size_t len;
    vpn_wr_init(&w, buf, cap);
    assert_int_equal(vpn_ikev2_bld_init_inner(&b, &w), 0);
    /* The builder re-parses what it writes, so it refuses a bad list too. */
    if (vpn_ikev2_bld_raw(&b, VPN_IKEV2_PL_CP, false, body, n + 4) != 0)
        return NULL;
    assert_int_equal(vpn_ikev2_bld_finish(&b, &len), 0);
    if (vpn_ikev2_msg_parse_inner(buf, len, b.first, msg) != 0)
        return NULL;
    return vpn_ikev2_msg_find(msg, VPN_IKEV2_PL_CP, NULL);
}

/* A CP payload of the given type over attrs, handed to the CP reader
 * directly (past the codec's own length checks). */
static vpn_ikev2_payload raw_cp(uint8_t type, const uint8_t *attrs, size_t n)
{
    vpn_ikev2_payload raw;
    memset(&raw, 0, sizeof raw);
    raw.type = VPN_IKEV2_PL_CP;
    raw.known = true;
    raw.u.cp.type = type;
    raw.u.cp.attrs.ptr = attrs;
    raw.u.cp.attrs.len = n;
    return raw;
}

/* The hub's CFG_REPLY to q from grant g, built and parsed back into msg;
 * its CP payload. */
static const vpn_ikev2_payload *reply_of(vpn_ikev2_msg *msg, uint8_t *buf, size_t cap, const vpn_cp_request *q,
                                         const vpn_cp_grant *g)
{
    vpn_wr w;
    vpn_ikev2_bld b;
    size_t len;
    vpn_wr_init(&w, buf, cap);
    assert_int_equal(vpn_ikev2_bld_init_inner(&b, &w), 0);
    assert_int_equal(vpn_cp_build_reply(&b, q, g), 0);
    assert_int_equal(vpn_ikev2_bld_finish(&b, &len), 0);
    assert_int_equal(vpn_ikev2_msg_parse_inner(buf, len, b.first, msg), 0);
    return vpn_ikev2_msg_find(msg, VPN_IKEV2_PL_CP, NULL);
}

/* Attribute lists both CP readers refuse (RFC 7296 3.15.1: wrong lengths
 * for known attributes, IPv6 prefix lengths over 128), the IPv4 and the
 * IPv6 attributes' cases in one table. */
static const struct bad_attrs {
    bool v6; /* checked by the IPv6 test (the IPv4 test's list has one IPv6 attribute) */
    uint8_t a[24];
    size_t n;
    bool codec_ok; /* the payload codec lets it through (lengths fine) */
} BAD_ATTRS[] = {
    {false, {0, 1, 0, 3, 1, 2, 3}, 7, false},       /* IP4 address of 3 octets */
    {false, {0, 3, 0, 5, 1, 2, 3, 4, 5}, 9, false}, /* DNS of 5 */
    {false, {0, 13, 0, 4, 1, 2, 3, 4}, 8, false},   /* subnet of 4 */
    {false, {0, 8, 0, 16, 0}, 5, false},            /* IP6 address of 16 (needs 17), cut short */
    {false, {0, 1, 0, 9, 1, 2}, 6, false},          /* length beyond the payload */
    {false, {0, 1, 0}, 3, false},                   /* a cut header */
    {true, {0, 8, 0, 16}, 20, false},               /* IP6 address of 16 octets (needs 17) */
    {true, {0, 8, 0, 18}, 22, false},               /* ... of 18 */
    {true, {0, 10, 0, 15}, 19, false},              /* IP6 DNS of 15 */
    {true, {0, 10, 0, 17}, 21, false},              /* ... of 17 */
    {true, {0, 15, 0, 16}, 20, false},              /* IP6 subnet of 16 */
    {true, {0, 15, 0, 8}, 12, false},               /* ... of 8 (an IPv4 subnet's size) */
    {true, {0, 8, 0, 17, 0x20, 1, 0x0d, 0xb8, [20] = 129}, 21, true},  /* address, prefix 129 */
    {true, {0, 15, 0, 17, 0x20, 1, 0x0d, 0xb8, [20] = 200}, 21, true}, /* subnet, prefix 200 */
    {true, {0, 8, 0, 17, 0x20, 1, 0x0d, 0xb8, [20] = 255}, 21, true},  /* address, prefix 255 */
};

/* Every BAD_ATTRS case of one family, as a CFG_REQUEST and as a CFG_REPLY:
 * through the codec (refused unless codec_ok), then handed over directly:
 * the reader refuses it and leaves the caller's structure as it was. */
static void check_bad_attrs(bool v6)
{
    uint8_t buf[1024];
    vpn_ikev2_msg msg;
    size_t cases = 0;
    for (size_t i = 0; i < sizeof BAD_ATTRS / sizeof BAD_ATTRS[0]; i++) {
        const struct bad_attrs *c = &BAD_ATTRS[i];
        if (c->v6 != v6)
            continue;
        cases++;
        for (int kind = 0; kind < 2; kind++) {
            uint8_t type = kind ? VPN_IKEV2_CFG_REPLY : VPN_IKEV2_CFG_REQUEST;
            const vpn_ikev2_payload *cp = cp_of(&msg, buf, sizeof buf, type, c->a, c->n);
            if (c->codec_ok)
                assert_non_null(cp);
            else
                assert_null(cp);
            vpn_ikev2_payload raw = raw_cp(type, c->a, c->n);
            if (kind == 0) {
                vpn_cp_request q, keep;
                memset(&keep, 0x33, sizeof keep);
                q = keep;
                assert_int_equal(vpn_cp_parse_request(&raw, &q), VPN_ERR_MALFORMED);
                assert_memory_equal(&q, &keep, sizeof q);
            } else {
                vpn_cp_grant g, keep;
                memset(&keep, 0x44, sizeof keep);
                g = keep;
                assert_int_equal(vpn_cp_parse_reply(&raw, &g), VPN_ERR_MALFORMED);
                assert_memory_equal(&g, &keep, sizeof g);
            }
        }
    }
    assert_int_equal(cases, v6 ? 9 : 6);
}

/* `show ip local pool`'s IPv6 bounds without making the pool
 * (vpn_ippool_bounds6): the literal first and last addresses and the
 * count for a few prefixes, the same as the pool itself hands out, and
 * the same refusals as vpn_ippool_init6. */
static void test_pool6_bounds(void **state)
{
    (void)state;
    static const struct {
        const char *prefix;
        uint8_t assigned;
        const char *first, *last;
        uint32_t size;
    } cases[] = {
        {"2001:db8:99::/126", 128, "2001:db8:99::1", "2001:db8:99::3", 3},  /* ::0 never given */
        {"2001:db8:99::/120", 128, "2001:db8:99::1", "2001:db8:99::ff", 255},
        {"2001:db8:99::/48", 64, "2001:db8:99::", "2001:db8:99:ffff::", 65536}, /* 2^16 /64s */
        {"2001:db8::/32", 64, "2001:db8::", "2001:db8:0:ffff::", VPN_IPPOOL_MAX}, /* capped */
        {"2001:db8:5::/64", 64, "2001:db8:5::", "2001:db8:5::", 1},
        {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00/120", 128, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff01",
         "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 255},
        {"::/0", 128, "::1", "::1:0", VPN_IPPOOL_MAX},
    };
    char a[VPN_ADDR_STRLEN];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vpn_prefix pf;
        vpn_addr f, l, pf_first, pf_last;
        uint32_t size = 0;
        vpn_ippool p;
        assert_int_equal(vpn_prefix_parse(&pf, cases[i].prefix), 0);
        assert_int_equal(vpn_ippool_bounds6(&pf, cases[i].assigned, &f, &l, &size), 0);
        assert_string_equal(vpn_addr_str(&f, a, sizeof a), cases[i].first);
        assert_string_equal(vpn_addr_str(&l, a, sizeof a), cases[i].last);
        assert_int_equal(size, cases[i].size);
        /* the pool made from the same line agrees */
        assert_int_equal(vpn_ippool_init6(&p, "V6", &pf, cases[i].assigned), 0);
        vpn_ippool_bounds(&p, &pf_first, &pf_last);
        assert_true(vpn_addr_eq(&pf_first, &f));
        assert_true(vpn_addr_eq(&pf_last, &l));
        assert_int_equal(vpn_ippool_size(&p), size);
        vpn_ippool_free(&p);
    }
    /* refused as vpn_ippool_init6 refuses, the outputs untouched */
    vpn_prefix pf;
    vpn_addr f = A("2001:db8::7"), l = A("2001:db8::8");
    uint32_t size = 42;
    assert_int_equal(vpn_prefix_parse(&pf, "2001:db8:99::/64"), 0);
    assert_int_equal(vpn_ippool_bounds6(&pf, 63, &f, &l, &size), VPN_ERR_INVAL);
    assert_int_equal(vpn_ippool_bounds6(&pf, 129, &f, &l, &size), VPN_ERR_INVAL);
    assert_int_equal(vpn_prefix_parse(&pf, "2001:db8:99::1/64"), 0);
    assert_int_equal(vpn_ippool_bounds6(&pf, 128, &f, &l, &size), VPN_ERR_INVAL);
    assert_int_equal(vpn_prefix_parse(&pf, "2001:db8:99::/128"), 0);
    assert_int_equal(vpn_ippool_bounds6(&pf, 128, &f, &l, &size), VPN_ERR_INVAL);
    assert_int_equal(vpn_prefix_parse(&pf, "10.0.0.0/24"), 0);
    assert_int_equal(vpn_ippool_bounds6(&pf, 32, &f, &l, &size), VPN_ERR_INVAL);
    assert_int_equal(vpn_ippool_bounds6(NULL, 64, &f, &l, &size), VPN_ERR_INVAL);
    assert_string_equal(vpn_addr_str(&f, a, sizeof a), "2001:db8::7");
    assert_string_equal(vpn_addr_str(&l, a, sizeof a), "2001:db8::8");
    assert_int_equal(size, 42);
}

static void test_cp_request_reply_roundtrip(void **state)
{
    (void)state;
    uint8_t buf[1024];
    vpn_ikev2_msg msg;
    vpn_wr w;
    vpn_ikev2_bld b;
    size_t len;
    /* The client's request. */
    vpn_wr_init(&w, buf, sizeof buf);
    assert_int_equal(vpn_ikev2_bld_init_inner(&b, &w), 0);
    assert_int_equal(vpn_cp_build_request(&b), 0);
    assert_int_equal(vpn_ikev2_bld_finish(&b, &len), 0);
    assert_int_equal(vpn_ikev2_msg_parse_inner(buf, len, b.first, &msg), 0);
    vpn_cp_request q;
    assert_int_equal(vpn_cp_parse_request(vpn_ikev2_msg_find(&msg, VPN_IKEV2_PL_CP, NULL), &q), 0);
    assert_true(q.ip4_address);
    assert_true(q.ip4_dns);
    assert_false(q.has_hint);
    assert_false(q.ip6_address);
    /* The hub's answer: an address, two DNS servers, two split routes. */
    vpn_cp_grant g = {0};
    g.address = A("10.99.0.10");
    g.netmask = 0xffffffffu;
    g.dns[g.n_dns++] = A("192.0.2.53");
    g.dns[g.n_dns++] = A("192.0.2.54");
    assert_int_equal(vpn_prefix_parse(&g.subnets[g.n_subnets++], "10.1.0.0/16"), 0);
    assert_int_equal(vpn_prefix_parse(&g.subnets[g.n_subnets++], "172.16.5.0/24"), 0);
    const vpn_ikev2_payload *cp = reply_of(&msg, buf, sizeof buf, &q, &g);
    vpn_cp_grant r;
    assert_int_equal(vpn_cp_parse_reply(cp, &r), 0);
    assert_true(vpn_addr_eq(&r.address, &g.address));
    assert_int_equal(r.netmask, 0xffffffffu);
    assert_int_equal(r.n_dns, 2);
    assert_true(vpn_addr_eq(&r.dns[1], &g.dns[1]));
    assert_int_equal(r.n_subnets, 2);
    assert_int_equal(r.subnets[0].len, 16);
    assert_int_equal(r.subnets[1].len, 24);
    assert_true(vpn_addr_eq(&r.subnets[1].addr, &g.subnets[1].addr));
    /* A reply is not a request and the other way round. */
    assert_int_equal(vpn_cp_parse_request(cp, &q), VPN_ERR_STATE);
    /* Without an address request, no address is handed out. */
    vpn_cp_request only_dns = {.ip4_dns = true};
    assert_int_equal(vpn_cp_parse_reply(reply_of(&msg, buf, sizeof buf, &only_dns, &g), &r), 0);
    assert_int_equal(r.address.family, VPN_AF_NONE);
    assert_int_equal(r.n_dns, 2);
}

/* A site-to-site spoke's CFG_REQUEST: its networks as INTERNAL_IP4_SUBNET
 * values, read back by the hub; a mask with holes, too many subnets or a
 * non-IPv4 prefix are refused and leave the caller's request as it was. */
static void test_cp_request_subnets(void **state)
{
    (void)state;
    uint8_t buf[1024];
    vpn_ikev2_msg msg;
    vpn_wr w;
    vpn_ikev2_bld b;
    size_t len;
    vpn_prefix nets[VPN_CP_MAX_SUBNETS + 1];
    char a[VPN_ADDR_STRLEN];
    assert_int_equal(vpn_prefix_parse(&nets[0], "10.2.1.0/24"), 0);
    assert_int_equal(vpn_prefix_parse(&nets[1], "192.168.0.0/16"), 0);
    vpn_wr_init(&w, buf, sizeof buf);
    assert_int_equal(vpn_ikev2_bld_init_inner(&b, &w), 0);
    assert_int_equal(vpn_cp_build_request_subnets(&b, nets, 2), 0);
    assert_int_equal(vpn_ikev2_bld_finish(&b, &len), 0);
    assert_int_equal(vpn_ikev2_msg_parse_inner(buf, len, b.first, &msg), 0);
    vpn_cp_request q;
    assert_int_equal(vpn_cp_parse_request(vpn_ikev2_msg_find(&msg, VPN_IKEV2_PL_CP, NULL), &q), 0);
    assert_false(q.ip4_address);
    assert_true(q.ip4_subnet);
    assert_int_equal(q.n_subnets, 2);
    assert_string_equal(vpn_addr_str(&q.subnets[0].addr, a, sizeof a), "10.2.1.0");
    assert_int_equal(q.subnets[0].len, 24);
    assert_int_equal(q.subnets[1].len, 16);
    /* the builder refuses what it cannot send */
    vpn_wr_init(&w, buf, sizeof buf);
    assert_int_equal(vpn_ikev2_bld_init_inner(&b, &w), 0);
    assert_int_equal(vpn_cp_build_request_subnets(&b, nets, VPN_CP_MAX_SUBNETS + 1), VPN_ERR_INVAL);
    /* 3.15.1 INTERNAL_IP6_SUBNET for an IPv6 network; a prefix of no
     * family or longer than its family allows is refused */
    assert_int_equal(vpn_prefix_parse(&nets[2], "2001:db8:7::/48"), 0);
    nets[3] = nets[2];
    nets[3].len = 129;
    assert_int_equal(vpn_cp_build_request_subnets(&b, nets, 4), VPN_ERR_INVAL);
    memset(&nets[3], 0, sizeof nets[3]);
    assert_int_equal(vpn_cp_build_request_subnets(&b, nets, 4), VPN_ERR_INVAL);
    nets[3] = nets[0];
    nets[3].len = 33;
    assert_int_equal(vpn_cp_build_request_subnets(&b, nets, 4), VPN_ERR_INVAL);
    assert_int_equal(vpn_cp_build_request_subnets(&b, NULL, 1), VPN_ERR_INVAL);
    assert_int_equal(vpn_cp_build_request_subnets(&b, nets, 3), 0);
    assert_int_equal(vpn_ikev2_bld_finish(&b, &len), 0);
    assert_int_equal(vpn_ikev2_msg_parse_inner(buf, len, b.first, &msg), 0);
    assert_int_equal(vpn_cp_parse_request(vpn_ikev2_msg_find(&msg, VPN_IKEV2_PL_CP, NULL), &q), 0);
    assert_true(q.ip6_subnet);
    assert_int_equal(q.n_subnets, 3);
    assert_string_equal(vpn_addr_str(&q.subnets[2].addr, a, sizeof a), "2001:db8:7::");
    assert_int_equal(q.subnets[2].len, 48);
    /* hostile requests handed over directly */
    vpn_cp_request keep;
    memset(&keep, 0x5c, sizeof keep);
    static const uint8_t holes[] = {0, 13, 0, 8, 10, 2, 1, 0, 255, 0, 255, 0};
    vpn_ikev2_payload raw = raw_cp(VPN_IKEV2_CFG_REQUEST, holes, sizeof holes);
    q = keep;
    assert_int_equal(vpn_cp_parse_request(&raw, &q), VPN_ERR_MALFORMED);
    assert_memory_equal(&q, &keep, sizeof q);
    uint8_t many[12 * (VPN_CP_MAX_SUBNETS + 1)];
    for (size_t i = 0; i <= VPN_CP_MAX_SUBNETS; i++) {
        static const uint8_t one[] = {0, 13, 0, 8, 10, 2, 0, 0, 255, 255, 255, 0};
        memcpy(many + 12 * i, one, 12);
        many[12 * i + 6] = (uint8_t)i;
    }
    raw.u.cp.attrs.ptr = many;
    raw.u.cp.attrs.len = sizeof many;
    q = keep;
    assert_int_equal(vpn_cp_parse_request(&raw, &q), VPN_ERR_LIMIT);
    assert_memory_equal(&q, &keep, sizeof q);
    raw.u.cp.attrs.len = sizeof many - 12; /* exactly as many as it holds */
    assert_int_equal(vpn_cp_parse_request(&raw, &q), 0);
    assert_int_equal(q.n_subnets, VPN_CP_MAX_SUBNETS);
}

static void test_cp_hostile(void **state)
{
    (void)state;
    uint8_t buf[1024];
    vpn_ikev2_msg msg;
    const vpn_ikev2_payload *cp;
    vpn_cp_request q;
    /* A hint, an unknown attribute (skipped) and the reserved top bit. */
    static const uint8_t ok[] = {0x00, 1, 0, 4, 10, 99, 0, 77, 0x40, 0x00, 0, 2, 0xaa, 0xbb,
                                 0x80, 3, 0, 0};
    cp = cp_of(&msg, buf, sizeof buf, VPN_IKEV2_CFG_REQUEST, ok, sizeof ok);
    assert_non_null(cp);
    assert_int_equal(vpn_cp_parse_request(cp, &q), 0);
    assert_true(q.has_hint);
    assert_true(q.ip4_dns);
    vpn_addr h = A("10.99.0.77");
    assert_true(vpn_addr_eq(&q.hint, &h));
    /* Wrong lengths for known attributes: the codec refuses the whole
     * message, and so do we on a payload that skipped the codec. */
    check_bad_attrs(false);
    /* A reply with an empty address, a non-contiguous subnet mask, two
     * addresses, or more DNS servers than we keep. */
    vpn_cp_grant g;
    static const uint8_t empty_addr[] = {0, 1, 0, 0};
    vpn_ikev2_payload raw = raw_cp(VPN_IKEV2_CFG_REPLY, empty_addr, sizeof empty_addr);
    assert_int_equal(vpn_cp_parse_reply(&raw, &g), VPN_ERR_MALFORMED);
    static const uint8_t holey[] = {0, 13, 0, 8, 10, 0, 0, 0, 255, 0, 255, 0};
    raw.u.cp.attrs.ptr = holey;
    raw.u.cp.attrs.len = sizeof holey;
    assert_int_equal(vpn_cp_parse_reply(&raw, &g), VPN_ERR_MALFORMED);
    static const uint8_t two[] = {0, 1, 0, 4, 1, 1, 1, 1, 0, 1, 0, 4, 2, 2, 2, 2};
    raw.u.cp.attrs.ptr = two;
    raw.u.cp.attrs.len = sizeof two;
    assert_int_equal(vpn_cp_parse_reply(&raw, &g), VPN_ERR_MALFORMED);
    uint8_t many[8 * (VPN_CP_MAX_DNS + 1)];
    for (size_t i = 0; i <= VPN_CP_MAX_DNS; i++) {
        uint8_t *a = many + 8 * i;
        a[0] = 0, a[1] = 3, a[2] = 0, a[3] = 4, a[4] = 9, a[5] = 9, a[6] = 9, a[7] = (uint8_t)i;
    }
    raw.u.cp.attrs.ptr = many;
    raw.u.cp.attrs.len = sizeof many;
    assert_int_equal(vpn_cp_parse_reply(&raw, &g), VPN_ERR_LIMIT);
    raw.u.cp.attrs.len = sizeof many - 8;
    assert_int_equal(vpn_cp_parse_reply(&raw, &g), 0);
    assert_int_equal(g.n_dns, VPN_CP_MAX_DNS);
    /* Not a CP payload at all. */
    raw.type = VPN_IKEV2_PL_EAP;
    assert_int_equal(vpn_cp_parse_reply(&raw, &g), VPN_ERR_INVAL);
    assert_int_equal(vpn_cp_parse_request(NULL, &q), VPN_ERR_INVAL);
}

/* RFC 7296 3.15.1 for IPv6: INTERNAL_IP6_ADDRESS is sixteen octets of
 * address and one of prefix length, INTERNAL_IP6_DNS sixteen octets,
 * INTERNAL_IP6_SUBNET address and prefix length; a request asks with empty
 * values. Both families in one exchange. */
static void test_cp_ipv6_roundtrip(void **state)
{
    (void)state;
    uint8_t buf[1024];
    vpn_ikev2_msg msg;
    vpn_wr w;
    vpn_ikev2_bld b;
    size_t len;
    char a[VPN_ADDR_STRLEN];
    vpn_cp_request q;
    vpn_wr_init(&w, buf, sizeof buf);
    assert_int_equal(vpn_ikev2_bld_init_inner(&b, &w), 0);
    assert_int_equal(vpn_cp_build_request_af(&b, false, false), VPN_ERR_INVAL);
    assert_int_equal(vpn_cp_build_request_af(&b, true, true), 0);
    assert_int_equal(vpn_ikev2_bld_finish(&b, &len), 0);
    assert_int_equal(vpn_ikev2_msg_parse_inner(buf, len, b.first, &msg), 0);
    const vpn_ikev2_payload *cp = vpn_ikev2_msg_find(&msg, VPN_IKEV2_PL_CP, NULL);
    assert_int_equal(cp->u.cp.attrs.len, 16); /* four empty attributes */
    assert_int_equal(vpn_cp_parse_request(cp, &q), 0);
    assert_true(q.ip4_address && q.ip4_dns && q.ip6_address && q.ip6_dns);
    vpn_cp_grant g = {0};
    g.address = A("10.99.0.10");
    g.address6 = A("2001:db8:99::a");
    g.prefix6 = 64;
    g.dns[g.n_dns++] = A("2001:db8::53");
    g.dns[g.n_dns++] = A("10.1.0.53");
    assert_int_equal(vpn_prefix_parse(&g.subnets[g.n_subnets++], "2001:db8:1::/48"), 0);
    assert_int_equal(vpn_prefix_parse(&g.subnets[g.n_subnets++], "10.1.0.0/16"), 0);
    cp = reply_of(&msg, buf, sizeof buf, &q, &g);
    /* the wire form: IP4 address (4+4), IP6 address (4+17), DNS6 (4+16),
     * DNS4 (4+4), IP6 subnet (4+17), IP4 subnet (4+8) */
    assert_int_equal(cp->u.cp.attrs.len, 8 + 21 + 20 + 8 + 21 + 12);
    const uint8_t *v = cp->u.cp.attrs.ptr;
    assert_int_equal(v[9], VPN_IKEV2_CFG_INTERNAL_IP6_ADDRESS);
    assert_int_equal(v[11], 17);
    assert_int_equal(v[12 + 16], 64);
    vpn_cp_grant r;
    assert_int_equal(vpn_cp_parse_reply(cp, &r), 0);
    assert_string_equal(vpn_addr_str(&r.address6, a, sizeof a), "2001:db8:99::a");
    assert_int_equal(r.prefix6, 64);
    assert_string_equal(vpn_addr_str(&r.address, a, sizeof a), "10.99.0.10");
    assert_int_equal(r.n_dns, 2);
    assert_string_equal(vpn_addr_str(&r.dns[0], a, sizeof a), "2001:db8::53");
    assert_int_equal(r.n_subnets, 2);
    assert_string_equal(vpn_addr_str(&r.subnets[0].addr, a, sizeof a), "2001:db8:1::");
    assert_int_equal(r.subnets[0].len, 48);
    /* an IPv4-only client gets no IPv6 address nor IPv6 DNS (subnets of
     * both families go unasked, 3.15.2) */
    vpn_cp_request v4 = {.ip4_address = true, .ip4_dns = true};
    assert_int_equal(vpn_cp_parse_reply(reply_of(&msg, buf, sizeof buf, &v4, &g), &r), 0);
    assert_int_equal(r.address6.family, VPN_AF_NONE);
    assert_int_equal(r.n_dns, 1);
    assert_int_equal(r.n_subnets, 2);
    /* a prefix length beyond 128 is not sent */
    g.prefix6 = 129;
    vpn_wr_init(&w, buf, sizeof buf);
    assert_int_equal(vpn_ikev2_bld_init_inner(&b, &w), 0);
    assert_int_equal(vpn_cp_build_reply(&b, &q, &g), VPN_ERR_INVAL);
}

/* Hostile IPv6 attributes: wrong lengths (the codec and the CP reader
 * refuse them), prefix lengths over 128, a second address; the caller's
 * structures stay as they were. */
static void test_cp_ipv6_hostile(void **state)
{
    (void)state;
    check_bad_attrs(true);
    /* a reply with two IPv6 addresses, or an empty one */
    vpn_cp_grant g;
    uint8_t two[42] = {0, 8, 0, 17, 0x20, 1, [20] = 64, 0, 8, 0, 17, 0x20, 1, [41] = 64};
    vpn_ikev2_payload raw = raw_cp(VPN_IKEV2_CFG_REPLY, two, sizeof two);
    assert_int_equal(vpn_cp_parse_reply(&raw, &g), VPN_ERR_MALFORMED);
    raw.u.cp.attrs.len = 21; /* one of them: fine, prefix 64 */
    assert_int_equal(vpn_cp_parse_reply(&raw, &g), 0);
    assert_int_equal(g.prefix6, 64);
    static const uint8_t empty6[] = {0, 8, 0, 0};
    raw.u.cp.attrs.ptr = empty6;
    raw.u.cp.attrs.len = sizeof empty6;
    assert_int_equal(vpn_cp_parse_reply(&raw, &g), VPN_ERR_MALFORMED);
    /* prefix 128 is the upper bound and allowed */
    uint8_t edge[21] = {0, 15, 0, 17, 0x20, 1, [20] = 128};
    raw.u.cp.type = VPN_IKEV2_CFG_REQUEST;
    raw.u.cp.attrs.ptr = edge;
    raw.u.cp.attrs.len = sizeof edge;
    vpn_cp_request q;
    assert_int_equal(vpn_cp_parse_request(&raw, &q), 0);
    assert_int_equal(q.n_subnets, 1);
    assert_int_equal(q.subnets[0].len, 128);
    assert_int_equal(q.subnets[0].addr.family, VPN_AF_INET6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_alloc_exhaust_release),
        cmocka_unit_test(test_pool_claim),
        cmocka_unit_test(test_pool_bad_ranges),
        cmocka_unit_test(test_pool6),
        cmocka_unit_test(test_pool6_bounds),
        cmocka_unit_test(test_cp_request_reply_roundtrip),
        cmocka_unit_test(test_cp_request_subnets),
        cmocka_unit_test(test_cp_hostile),
        cmocka_unit_test(test_cp_ipv6_roundtrip),
        cmocka_unit_test(test_cp_ipv6_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
