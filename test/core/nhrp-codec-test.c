/* NHRP codec (RFC 2332): round trips of every packet type, the checksum,
 * a hand-laid registration request, and hostile packets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "common/wire.h"
#include "nhrp/nhrp-codec.h"
#include "pkt-build.h"
#include "test-util.h"

#define CAP 2048

static void fix_csum(uint8_t *p, size_t len)
{
    vpn_store16(p + 12, 0);
    vpn_store16(p + 12, vpn_nhrp_checksum(p, len));
}

static vpn_nhrp_cie cie(uint8_t code, uint8_t plen, const char *nbma, const char *proto)
{
    vpn_nhrp_cie c;
    memset(&c, 0, sizeof c);
    c.code = code;
    c.prefix_len = plen;
    c.mtu = 1400;
    c.holding_time = 7200;
    c.pref = 0;
    if (nbma)
        c.nbma = tu_addr(nbma);
    if (proto)
        c.proto = tu_addr(proto);
    return c;
}

static void cie_eq(const vpn_nhrp_cie *a, const vpn_nhrp_cie *b)
{
    assert_int_equal(a->code, b->code);
    assert_int_equal(a->prefix_len, b->prefix_len);
    assert_int_equal(a->mtu, b->mtu);
    assert_int_equal(a->holding_time, b->holding_time);
    assert_true(vpn_addr_eq(&a->nbma, &b->nbma) || (!a->nbma.family && !b->nbma.family));
    assert_true(vpn_addr_eq(&a->proto, &b->proto) || (!a->proto.family && !b->proto.family));
}

/* A message of the given type with every part its type allows. */
static void build(vpn_nhrp_msg *m, uint8_t type)
{
    static const uint8_t pw[] = "cisco123";
    static const uint8_t data[28] = {0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0,
                                     192, 168, 1, 10, 192, 168, 2, 10};
    memset(m, 0, sizeof *m);
    m->type = type;
    m->hopcnt = 255;
    m->src_nbma = tu_addr("172.16.1.1");
    m->src_proto = tu_addr("10.0.0.1");
    m->dst_proto = tu_addr("10.0.0.254");
    if (type == VPN_NHRP_ERROR_IND) {
        m->err_code = VPN_NHRP_ERR_AUTH;
        m->err_offset = 40;
        m->payload = data;
        m->payload_len = sizeof data;
        return;
    }
    if (type == VPN_NHRP_TRAFFIC_IND) {
        m->traffic_code = 0;
        m->payload = data;
        m->payload_len = sizeof data;
    } else {
        m->flags = type <= 2 ? VPN_NHRP_F_RES_Q | VPN_NHRP_F_RES_A : VPN_NHRP_F_REG_U;
        m->req_id = 0x01020304u + type;
        m->n_cie = 2;
        m->cie[0] = cie(0, 32, "172.16.1.1", "10.0.0.1");
        m->cie[1] = cie(type == 4 ? VPN_NHRP_CIE_ALREADY_REGISTERED : 0, 24, NULL, "192.168.1.0");
    }
    m->has_ext = true;
    m->has_responder = true;
    m->responder_set = type % 2 == 0;
    m->responder = cie(0, 32, "172.16.0.1", "10.0.0.254");
    m->has_fwd = m->has_rev = true;
    m->n_fwd = 1;
    m->fwd[0] = cie(0, 32, "172.16.0.1", "10.0.0.254");
    m->has_vendor = true;
    m->vendor_oui = 0x00000c;
    m->vendor = pw;
    m->vendor_len = 3;
    m->has_auth = true;
    m->auth_spi = VPN_NHRP_AUTH_CLEARTEXT;
    m->auth = pw;
    m->auth_len = 8;
}

static size_t enc(const vpn_nhrp_msg *m, uint8_t *buf)
{
    size_t n = 0;
    assert_int_equal(vpn_nhrp_encode(m, buf, CAP, &n), 0);
    return n;
}

static void test_roundtrip_every_type(void **state)
{
    (void)state;
    for (uint8_t t = 1; t <= VPN_NHRP_TYPE_MAX; t++) {
        vpn_nhrp_msg m, d;
        uint8_t buf[CAP];
        build(&m, t);
        size_t n = enc(&m, buf);
        assert_int_equal(vpn_load16(buf + 10), n);
        assert_int_equal(vpn_nhrp_checksum(buf, n), 0);
        assert_int_equal(vpn_nhrp_decode(buf, n, &d, NULL), 0);
        assert_int_equal(d.type, t);
        assert_int_equal(d.hopcnt, 255);
        assert_int_equal(d.afn, VPN_NHRP_AFN_IPV4);
        assert_int_equal(d.pro_type, VPN_NHRP_PRO_IPV4);
        assert_true(vpn_addr_eq(&d.src_nbma, &m.src_nbma));
        assert_true(vpn_addr_eq(&d.src_proto, &m.src_proto));
        assert_true(vpn_addr_eq(&d.dst_proto, &m.dst_proto));
        assert_int_equal(d.flags, m.flags);
        assert_int_equal(d.req_id, m.req_id);
        assert_int_equal(d.err_code, m.err_code);
        assert_int_equal(d.err_offset, m.err_offset);
        assert_int_equal(d.n_cie, m.n_cie);
        for (size_t i = 0; i < m.n_cie; i++)
            cie_eq(&d.cie[i], &m.cie[i]);
        assert_int_equal(d.payload_len, m.payload_len);
        if (m.payload_len)
            assert_memory_equal(d.payload, m.payload, m.payload_len);
        assert_int_equal(d.has_ext, m.has_ext);
        if (!m.has_ext) {
            assert_int_equal(vpn_load16(buf + 14), 0);
            continue;
        }
        assert_true(d.has_responder);
        assert_int_equal(d.responder_set, m.responder_set);
        if (m.responder_set)
            cie_eq(&d.responder, &m.responder);
        assert_true(d.has_fwd && d.has_rev);
        assert_int_equal(d.n_fwd, 1);
        assert_int_equal(d.n_rev, 0);
        cie_eq(&d.fwd[0], &m.fwd[0]);
        assert_true(d.has_vendor);
        assert_int_equal(d.vendor_oui, 0x00000c);
        assert_int_equal(d.vendor_len, 3);
        assert_true(d.has_auth);
        assert_int_equal(d.auth_spi, 1);
        assert_int_equal(d.auth_len, 8);
        assert_memory_equal(d.auth, "cisco123", 8);
        /* Re-encoding the decoded message gives the same bytes. */
        uint8_t again[CAP];
        assert_int_equal(enc(&d, again), n);
        assert_memory_equal(again, buf, n);
    }
}

static void test_ipv6_roundtrip(void **state)
{
    (void)state;
    vpn_nhrp_msg m, d;
    uint8_t buf[CAP];
    memset(&m, 0, sizeof m);
    m.type = VPN_NHRP_RES_REQ;
    m.hopcnt = 8;
    m.src_nbma = tu_addr("2001:db8::1");
    m.src_proto = tu_addr("fd00::1");
    m.dst_proto = tu_addr("fd00::2");
    m.n_cie = 1;
    m.cie[0] = cie(0, 128, "2001:db8::1", "fd00::1");
    size_t n = enc(&m, buf);
    assert_int_equal(vpn_load16(buf), VPN_NHRP_AFN_IPV6);
    assert_int_equal(vpn_load16(buf + 2), VPN_NHRP_PRO_IPV6);
    assert_int_equal(vpn_nhrp_decode(buf, n, &d, NULL), 0);
    cie_eq(&d.cie[0], &m.cie[0]);
    assert_true(vpn_addr_eq(&d.dst_proto, &m.dst_proto));
    /* Families must agree. */
    m.cie[0].nbma = tu_addr("1.2.3.4");
    assert_int_equal(vpn_nhrp_encode(&m, buf, CAP, &n), VPN_ERR_INVAL);
}

/* A registration request laid out by hand from RFC 2332 5.2.0.1-5.2.0.3
 * and 5.3, so the encoder is checked against the RFC, not against itself. */
static void test_known_layout(void **state)
{
    (void)state;
    static const char *hex =
        "0001 0800 0000000000 ff 0000 0000 0000 01 03 04 00" /* fixed header */
        "04 04 8000 00000007 ac100101 0a000001 0a0000fe"      /* common header */
        "00 20 0000 0578 1c20 04 00 04 00 ac100101 0a000001"  /* CIE */
        "8003 0000 8004 0000 8005 0000"                       /* empty records */
        "8007 000c 0000 0001 636973636f313233"                /* auth "cisco123" */
        "8000 0000";                                           /* End */
    size_t n;
    uint8_t *want = tu_hex(hex, &n);
    vpn_store16(want + 10, (uint16_t)n);
    vpn_store16(want + 14, 60);
    fix_csum(want, n);

    static const uint8_t pw[] = "cisco123";
    vpn_nhrp_msg m;
    memset(&m, 0, sizeof m);
    m.type = VPN_NHRP_REG_REQ;
    m.hopcnt = 255;
    m.flags = VPN_NHRP_F_REG_U;
    m.req_id = 7;
    m.src_nbma = tu_addr("172.16.1.1");
    m.src_proto = tu_addr("10.0.0.1");
    m.dst_proto = tu_addr("10.0.0.254");
    m.n_cie = 1;
    m.cie[0] = cie(0, 32, "172.16.1.1", "10.0.0.1");
    m.has_ext = m.has_responder = m.has_fwd = m.has_rev = m.has_auth = true;
    m.auth_spi = 1;
    m.auth = pw;
    m.auth_len = 8;
    uint8_t buf[CAP];
    assert_int_equal(enc(&m, buf), n);
    assert_memory_equal(buf, want, n);
    free(want);
}

static void test_checksum(void **state)
{
    (void)state;
    vpn_nhrp_msg m, d;
    uint8_t buf[CAP];
    build(&m, VPN_NHRP_REG_REQ);
    size_t n = enc(&m, buf);
    /* Any single flipped bit is caught (RFC 1071 sums catch every one). */
    for (size_t i = 0; i < n; i++) {
        buf[i] ^= 0x10;
        int rc = vpn_nhrp_decode(buf, n, &d, NULL);
        assert_int_not_equal(rc, 0);
        if (i != 10 && i != 11)
            assert_int_equal(rc, VPN_ERR_AUTH);
        assert_int_equal(d.type, 0); /* zeroed on error */
        buf[i] ^= 0x10;
    }
    assert_int_equal(vpn_nhrp_decode(buf, n, &d, NULL), 0);
    /* Trailing link padding past ar$pktsz is ignored. */
    buf[n] = 0xaa;
    assert_int_equal(vpn_nhrp_decode(buf, n + 1, &d, NULL), 0);
}

/* Every proper prefix of every type fails, both as it comes (pktsz beyond
 * the data) and with pktsz and the checksum fixed to claim the prefix is
 * the whole packet (so the inner parsers meet the cut). */
static void test_truncation_everywhere(void **state)
{
    (void)state;
    for (uint8_t t = 1; t <= VPN_NHRP_TYPE_MAX; t++) {
        vpn_nhrp_msg m, d;
        uint8_t buf[CAP], cut[CAP];
        build(&m, t);
        size_t n = enc(&m, buf);
        for (size_t k = 0; k < n; k++) {
            assert_int_not_equal(vpn_nhrp_decode(buf, k, &d, NULL), 0);
            if (k < VPN_NHRP_FIXED_LEN)
                continue;
            memcpy(cut, buf, k);
            vpn_store16(cut + 10, (uint16_t)k);
            if (vpn_load16(cut + 14) > k)
                vpn_store16(cut + 14, 0);
            fix_csum(cut, k);
            int rc = vpn_nhrp_decode(cut, k, &d, NULL);
            /* Types 7 and 8 end in opaque data, so a cut there is still a
             * packet, and so is a cut at an extension boundary with extoff
             * cleared; anything else must fail. */
            if (rc == 0)
                assert_true(t >= VPN_NHRP_ERROR_IND || vpn_load16(cut + 14) == 0);
        }
    }
}

static void test_wrong_lengths(void **state)
{
    (void)state;
    vpn_nhrp_msg m, d;
    vpn_nhrp_perr pe;
    uint8_t buf[CAP], b[CAP];
    build(&m, VPN_NHRP_RES_REPLY);
    size_t n = enc(&m, buf);
    size_t extoff = vpn_load16(buf + 14);

    /* pktsz below the fixed header, and beyond the data. */
    memcpy(b, buf, n);
    vpn_store16(b + 10, 12);
    assert_int_equal(vpn_nhrp_decode(b, n, &d, NULL), VPN_ERR_MALFORMED);
    vpn_store16(b + 10, (uint16_t)(n + 1));
    fix_csum(b, n);
    assert_int_equal(vpn_nhrp_decode(b, n, &d, NULL), VPN_ERR_TRUNCATED);

    /* extoff beyond the packet, inside the fixed header, mid-CIE. */
    const uint16_t bad_extoff[] = {(uint16_t)(n + 4), 8, 19, (uint16_t)(extoff - 3)};
    for (size_t i = 0; i < sizeof bad_extoff / sizeof bad_extoff[0]; i++) {
        memcpy(b, buf, n);
        vpn_store16(b + 14, bad_extoff[i]);
        fix_csum(b, n);
        assert_int_equal(vpn_nhrp_decode(b, n, &d, &pe), VPN_ERR_MALFORMED);
        assert_int_equal(pe.code, VPN_NHRP_ERR_PROTOCOL);
    }

    /* Source protocol length neither 0 nor 4. */
    memcpy(b, buf, n);
    b[20] = 5;
    fix_csum(b, n);
    assert_int_equal(vpn_nhrp_decode(b, n, &d, NULL), VPN_ERR_MALFORMED);

    /* A CIE whose protocol length disagrees with ar$pro.type. */
    memcpy(b, buf, n);
    size_t cie0 = 20 + 8 + 4 + 4 + 4;
    b[cie0 + 10] = 16;
    fix_csum(b, n);
    assert_int_not_equal(vpn_nhrp_decode(b, n, &d, NULL), 0);

    /* An extension length running past the packet. */
    memcpy(b, buf, n);
    vpn_store16(b + extoff + 2, 0x7fff);
    fix_csum(b, n);
    assert_int_equal(vpn_nhrp_decode(b, n, &d, &pe), VPN_ERR_MALFORMED);
    assert_int_equal(pe.offset, extoff);

    /* Version 2, unknown type, non-zero ar$pro.snap, E.164 address type. */
    const struct { size_t off; uint8_t v; int rc; } pokes[] = {
        {16, 2, VPN_ERR_UNSUPPORTED}, {17, 9, VPN_ERR_UNSUPPORTED}, {17, 0, VPN_ERR_UNSUPPORTED},
        {6, 1, VPN_ERR_MALFORMED}, {18, 0x44, VPN_ERR_UNSUPPORTED}, {19, 4, VPN_ERR_UNSUPPORTED},
    };
    for (size_t i = 0; i < sizeof pokes / sizeof pokes[0]; i++) {
        memcpy(b, buf, n);
        b[pokes[i].off] = pokes[i].v;
        fix_csum(b, n);
        assert_int_equal(vpn_nhrp_decode(b, n, &d, NULL), pokes[i].rc);
    }
}

/* Extensions: unknown compulsory -> Error Indication code 1 (5.3, 5.2.7);
 * unknown optional skipped; End missing, not last, or non-empty; twice the
 * same extension; extensions on an Error Indication. */
static void test_hostile_extensions(void **state)
{
    (void)state;
    vpn_nhrp_msg m, d;
    vpn_nhrp_perr pe;
    uint8_t buf[CAP], b[CAP];
    memset(&m, 0, sizeof m);
    m.type = VPN_NHRP_REG_REQ;
    m.hopcnt = 1;
    m.src_nbma = tu_addr("172.16.1.1");
    m.src_proto = tu_addr("10.0.0.1");
    m.dst_proto = tu_addr("10.0.0.254");
    m.has_ext = true;
    size_t n = enc(&m, buf); /* extensions: End only */
    size_t extoff = vpn_load16(buf + 14);
    assert_int_equal(n, extoff + 4);

    /* Insert a 4-octet extension of type 0x0123 before End. */
    for (int compulsory = 0; compulsory < 2; compulsory++) {
        memcpy(b, buf, extoff);
        vpn_store16(b + extoff, (uint16_t)((compulsory ? 0x8000 : 0) | 0x0123));
        vpn_store16(b + extoff + 2, 4);
        memset(b + extoff + 4, 0xee, 4);
        memcpy(b + extoff + 8, buf + extoff, 4);
        vpn_store16(b + 10, (uint16_t)(n + 8));
        fix_csum(b, n + 8);
        int rc = vpn_nhrp_decode(b, n + 8, &d, &pe);
        if (compulsory) {
            assert_int_equal(rc, VPN_ERR_MALFORMED);
            assert_int_equal(pe.code, VPN_NHRP_ERR_UNRECOGNIZED_EXT);
            assert_int_equal(pe.offset, extoff);
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(d.type, VPN_NHRP_REG_REQ);
        }
    }

    /* End missing: extoff == pktsz. */
    memcpy(b, buf, n);
    vpn_store16(b + 10, (uint16_t)extoff);
    fix_csum(b, extoff);
    assert_int_equal(vpn_nhrp_decode(b, extoff, &d, NULL), VPN_ERR_MALFORMED);

    /* Data after End (Wireshark: "Superfluous data follows End"). */
    memcpy(b, buf, n);
    memset(b + n, 0, 4);
    vpn_store16(b + 10, (uint16_t)(n + 4));
    fix_csum(b, n + 4);
    assert_int_equal(vpn_nhrp_decode(b, n + 4, &d, NULL), VPN_ERR_MALFORMED);

    /* A non-empty End. */
    memcpy(b, buf, n);
    vpn_store16(b + extoff + 2, 2);
    memset(b + n, 0, 2);
    vpn_store16(b + 10, (uint16_t)(n + 2));
    fix_csum(b, n + 2);
    assert_int_equal(vpn_nhrp_decode(b, n + 2, &d, NULL), VPN_ERR_MALFORMED);

    /* The same extension twice. */
    m.has_auth = true;
    m.auth_spi = 1;
    m.auth = (const uint8_t *)"x";
    m.auth_len = 1;
    n = enc(&m, buf);
    memcpy(b, buf, extoff);
    memcpy(b + extoff, buf + extoff, 9);
    memcpy(b + extoff + 9, buf + extoff, n - extoff);
    vpn_store16(b + 10, (uint16_t)(n + 9));
    fix_csum(b, n + 9);
    assert_int_equal(vpn_nhrp_decode(b, n + 9, &d, &pe), VPN_ERR_MALFORMED);
    assert_int_equal(pe.code, VPN_NHRP_ERR_INVALID_EXT);

    /* A short authentication extension. */
    memcpy(b, buf, n);
    vpn_store16(b + extoff + 2, 2);
    memmove(b + extoff + 6, b + extoff + 9, 4);
    vpn_store16(b + 10, (uint16_t)(n - 3));
    fix_csum(b, n - 3);
    assert_int_equal(vpn_nhrp_decode(b, n - 3, &d, NULL), VPN_ERR_MALFORMED);

    /* Extensions on an Error Indication: refused both ways (5.2.7). */
    build(&m, VPN_NHRP_ERROR_IND);
    m.has_ext = true;
    assert_int_equal(vpn_nhrp_encode(&m, buf, CAP, &n), VPN_ERR_INVAL);
    m.has_ext = false;
    n = enc(&m, buf);
    memcpy(b, buf, n);
    b[n] = 0x80, b[n + 1] = 0, b[n + 2] = 0, b[n + 3] = 0;
    vpn_store16(b + 14, (uint16_t)n);
    vpn_store16(b + 10, (uint16_t)(n + 4));
    fix_csum(b, n + 4);
    assert_int_equal(vpn_nhrp_decode(b, n + 4, &d, NULL), VPN_ERR_MALFORMED);
}

/* Hop count 0 is a valid packet (the engine refuses to forward it, 5.2.0.1);
 * too many CIEs are refused; encoding into a short buffer fails cleanly. */
static void test_hopcount_and_limits(void **state)
{
    (void)state;
    vpn_nhrp_msg m, d;
    uint8_t buf[CAP];
    build(&m, VPN_NHRP_RES_REQ);
    m.hopcnt = 0;
    size_t n = enc(&m, buf);
    assert_int_equal(vpn_nhrp_decode(buf, n, &d, NULL), 0);
    assert_int_equal(d.hopcnt, 0);

    for (size_t cap = 0; cap < n; cap++) {
        size_t got = 0;
        assert_int_equal(vpn_nhrp_encode(&m, buf, cap, &got), VPN_ERR_NOSPACE);
    }
    m.n_cie = VPN_NHRP_MAX_CIES + 1;
    assert_int_equal(vpn_nhrp_encode(&m, buf, CAP, &n), VPN_ERR_INVAL);
    m.n_cie = 1;
    m.type = 9;
    assert_int_equal(vpn_nhrp_encode(&m, buf, CAP, &n), VPN_ERR_INVAL);

    /* Nine CIEs on the wire: one more than the decoder keeps. */
    m.type = VPN_NHRP_PURGE_REQ;
    m.has_ext = false;
    m.n_cie = VPN_NHRP_MAX_CIES;
    for (size_t i = 0; i < m.n_cie; i++)
        m.cie[i] = cie(0, 32, NULL, "10.1.1.1");
    n = enc(&m, buf);
    memcpy(buf + n, buf + n - 16, 16);
    vpn_store16(buf + 10, (uint16_t)(n + 16));
    fix_csum(buf, n + 16);
    assert_int_equal(vpn_nhrp_decode(buf, n + 16, &d, NULL), VPN_ERR_UNSUPPORTED);
    assert_string_equal(vpn_nhrp_type_name(8), "Traffic Indication");
    assert_string_equal(vpn_nhrp_type_name(42), "Unknown");
}

/* With VPN_NHRP_SEED_DIR set, writes one packet of each type there: the
 * seed corpus of test/fuzz/nhrp-fuzz-parse (test/fuzz/corpus/). */
static void write_seeds(void)
{
    const char *dir = getenv("VPN_NHRP_SEED_DIR");
    if (!dir)
        return;
    for (uint8_t t = 1; t <= VPN_NHRP_TYPE_MAX; t++) {
        vpn_nhrp_msg m;
        uint8_t buf[CAP];
        char path[512];
        build(&m, t);
        size_t n = enc(&m, buf);
        snprintf(path, sizeof path, "%s/type%u.bin", dir, t);
        FILE *f = fopen(path, "wb");
        if (f) {
            fwrite(buf, 1, n, f);
            fclose(f);
        }
    }
}

int main(void)
{
    write_seeds();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_every_type),
        cmocka_unit_test(test_ipv6_roundtrip),
        cmocka_unit_test(test_known_layout),
        cmocka_unit_test(test_checksum),
        cmocka_unit_test(test_truncation_everywhere),
        cmocka_unit_test(test_wrong_lengths),
        cmocka_unit_test(test_hostile_extensions),
        cmocka_unit_test(test_hopcount_and_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
