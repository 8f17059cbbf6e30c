/* GRE: RFC 2784 header with RFC 2890 key and sequence, point-to-point and
 * multipoint tunnels, and hostile headers. */
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "common/wire.h"
#include "gre/gre.h"
#include "pkt-build.h"
#include "test-util.h"

#define CAP 2048

static size_t inner_udp(uint8_t *out, size_t cap, uint8_t tos, uint32_t seed)
{
    vpn_addr s = tu_addr("172.16.1.1"), d = tu_addr("172.16.2.1");
    uint8_t pl[40];
    tu_fill(pl, sizeof pl, seed);
    return tu_build_udp(out, cap, &s, &d, 1111, 2222, tos, pl, sizeof pl);
}

static void test_header_forms(void **state)
{
    (void)state;
    uint8_t buf[CAP], pl[6] = {1, 2, 3, 4, 5, 6};
    vpn_pkt p;
    vpn_gre_hdr h, g;

    /* Every combination of C, K, S round-trips. */
    for (int m = 0; m < 8; m++) {
        memset(&h, 0, sizeof h);
        h.proto = VPN_GRE_PROTO_IPV4;
        h.has_csum = m & 1;
        h.has_key = m & 2;
        h.has_seq = m & 4;
        h.key = 0xdeadbeef;
        h.seq = 77;
        vpn_pkt_init(&p, buf, sizeof buf, 64);
        memcpy(vpn_pkt_put(&p, sizeof pl), pl, sizeof pl);
        assert_int_equal(vpn_gre_encap(&p, &h), 0);
        assert_int_equal(p.len, sizeof pl + vpn_gre_hdr_len(&h));
        assert_int_equal(vpn_gre_decap(&p, &g), 0);
        assert_int_equal(g.proto, h.proto);
        assert_int_equal(g.has_csum, h.has_csum);
        assert_int_equal(g.has_key, h.has_key);
        assert_int_equal(g.has_seq, h.has_seq);
        if (h.has_key)
            assert_int_equal(g.key, 0xdeadbeef);
        if (h.has_seq)
            assert_int_equal(g.seq, 77);
        assert_memory_equal(vpn_pkt_data(&p), pl, sizeof pl);
    }
    /* Exact bytes: key 1, sequence 2, IPv4. */
    memset(&h, 0, sizeof h);
    h.proto = VPN_GRE_PROTO_IPV4;
    h.has_key = h.has_seq = true;
    h.key = 1;
    h.seq = 2;
    vpn_pkt_init(&p, buf, sizeof buf, 64);
    assert_int_equal(vpn_gre_encap(&p, &h), 0);
    tu_assert_hex(vpn_pkt_data(&p), p.len, "3000 0800 00000001 00000002");
    /* Checksum over header and payload (RFC 2784 2.5). */
    memset(&h, 0, sizeof h);
    h.proto = 0x0800;
    h.has_csum = true;
    vpn_pkt_init(&p, buf, sizeof buf, 64);
    memcpy(vpn_pkt_put(&p, 4), "\x45\x00\x00\x04", 4);
    assert_int_equal(vpn_gre_encap(&p, &h), 0);
    tu_assert_hex(vpn_pkt_data(&p), p.len, "8000 0800 32fb 0000 45000004");
}

static void test_header_hostile(void **state)
{
    (void)state;
    uint8_t b[16];
    vpn_gre_hdr g;
    vpn_pkt p;

    memcpy(b, "\x30\x00\x08\x00\x00\x00\x00\x01\x00\x00\x00\x02", 12);
    for (size_t k = 0; k < 12; k++)
        assert_int_equal(vpn_gre_peek(b, k, &g), VPN_ERR_TRUNCATED);
    assert_int_equal(vpn_gre_peek(b, 12, &g), 12);
    b[0] = 0x70; /* routing present (RFC 1701): discard */
    assert_int_equal(vpn_gre_peek(b, 12, &g), VPN_ERR_MALFORMED);
    b[0] = 0x30;
    b[1] = 0x01; /* version 1 (PPTP) */
    assert_int_equal(vpn_gre_peek(b, 12, &g), VPN_ERR_MALFORMED);
    b[1] = 0x08; /* reserved bits 6-12 are ignored (RFC 2784 2.3.1) */
    assert_int_equal(vpn_gre_peek(b, 12, &g), 12);
    /* Bad checksum. */
    memcpy(b, "\x80\x00\x08\x00\x12\x34\x00\x00\x45\x00\x00\x04", 12);
    vpn_pkt_init(&p, b, sizeof b, 0);
    p.len = 12;
    assert_int_equal(vpn_gre_decap(&p, &g), VPN_ERR_AUTH);
    assert_int_equal(p.off, 0); /* unchanged */
    assert_int_equal(p.len, 12);
}

static void test_p2p_tunnel(void **state)
{
    (void)state;
    vpn_gre_tunnel_config ca, cb;
    vpn_gre_tunnel *a, *b;
    uint8_t buf[CAP], orig[256];
    vpn_pkt p;
    vpn_gre_rx rx;
    size_t n;
    vpn_ip_info ip;

    memset(&ca, 0, sizeof ca);
    ca.local = tu_addr("198.51.100.1");
    ca.remote = tu_addr("198.51.100.2");
    ca.has_key = true;
    ca.key = 100;
    ca.seq = true;
    ca.csum = true;
    ca.tos = VPN_GRE_TOS_COPY;
    cb = ca;
    cb.local = ca.remote;
    cb.remote = ca.local;
    assert_int_equal(vpn_gre_tunnel_new(&a, &ca), 0);
    assert_int_equal(vpn_gre_tunnel_new(&b, &cb), 0);

    n = inner_udp(orig, sizeof orig, 0xb8 | VPN_ECN_ECT0, 1);
    vpn_pkt_init(&p, buf, sizeof buf, 128);
    memcpy(vpn_pkt_put(&p, n), orig, n);
    assert_int_equal(vpn_gre_tunnel_encap(a, NULL, &p, VPN_GRE_PROTO_IPV4), 0);
    assert_int_equal(vpn_ip_parse(vpn_pkt_data(&p), p.len, &ip), 0);
    assert_int_equal(ip.proto, 47);
    assert_int_equal(ip.tos, 0xb8 | VPN_ECN_ECT0); /* DSCP and ECN copied */
    assert_int_equal(ip.ttl, 255);
    assert_true(vpn_addr_eq(&ip.dst, &ca.remote));
    /* Outer CE is folded into the inner ECT(0) at decapsulation. */
    vpn_ip_tos_set(vpn_pkt_data(&p), 0xb8 | VPN_ECN_CE);
    assert_int_equal(vpn_gre_tunnel_decap(b, &p, &rx), 0);
    assert_int_equal(rx.proto, VPN_GRE_PROTO_IPV4);
    assert_non_null(rx.peer);
    assert_int_equal(rx.hdr.seq, 0);
    assert_int_equal(p.len, n);
    assert_int_equal(vpn_ip_tos_get(vpn_pkt_data(&p)), 0xb8 | VPN_ECN_CE);
    vpn_ip_tos_set(vpn_pkt_data(&p), 0xb8 | VPN_ECN_ECT0);
    assert_memory_equal(vpn_pkt_data(&p), orig, n);

    /* Sequence numbers: 1, 2 pass; replaying 1 is refused. */
    {
        uint8_t saved[CAP];
        size_t off = 0, len = 0;
        for (int i = 1; i <= 2; i++) {
            vpn_pkt_init(&p, buf, sizeof buf, 128);
            memcpy(vpn_pkt_put(&p, n), orig, n);
            assert_int_equal(vpn_gre_tunnel_encap(a, NULL, &p, VPN_GRE_PROTO_IPV4), 0);
            if (i == 1) {
                memcpy(saved, buf, sizeof buf);
                off = p.off;
                len = p.len;
            }
            assert_int_equal(vpn_gre_tunnel_decap(b, &p, &rx), 0);
            assert_int_equal(rx.hdr.seq, (uint32_t)i);
        }
        memcpy(buf, saved, sizeof buf);
        p.off = off;
        p.len = len;
        assert_int_equal(vpn_gre_tunnel_decap(b, &p, &rx), VPN_ERR_REPLAY);
        assert_int_equal(vpn_gre_tunnel_get_stats(b)->err[VPN_GRE_ERR_SEQ], 1);
        /* A corrupted checksum. */
        memcpy(buf, saved, sizeof buf);
        buf[off + 20 + 16] ^= 1;
        assert_int_equal(vpn_gre_tunnel_decap(b, &p, &rx), VPN_ERR_AUTH);
        /* Not for this tunnel: other key, other destination. Nothing counted. */
        memcpy(buf, saved, sizeof buf);
        buf[off + 20 + 11] = 101; /* key 101 */
        assert_int_equal(vpn_gre_tunnel_decap(b, &p, &rx), VPN_ERR_NOTFOUND);
        assert_int_equal(vpn_gre_tunnel_decap(a, &p, &rx), VPN_ERR_NOTFOUND);
        assert_int_equal(p.off, off);
        assert_int_equal(vpn_gre_tunnel_get_stats(b)->err[VPN_GRE_ERR_MALFORMED], 0);
    }
    vpn_gre_tunnel_del(a);
    vpn_gre_tunnel_del(b);
}

/* One hub tunnel, one key, many spokes: each spoke's sequence is its own. */
static void test_multipoint(void **state)
{
    (void)state;
    enum { SPOKES = 500 };
    vpn_gre_tunnel_config hc, sc;
    vpn_gre_tunnel *hub, *spoke[SPOKES];
    vpn_gre_peer *peers[SPOKES];
    uint8_t buf[CAP], orig[256];
    vpn_pkt p;
    vpn_gre_rx rx;
    size_t n = inner_udp(orig, sizeof orig, 0, 7);

    memset(&hc, 0, sizeof hc);
    hc.local = tu_addr("203.0.113.1");
    hc.has_key = true;
    hc.key = 42;
    hc.seq = true;
    hc.tos = VPN_GRE_TOS_COPY;
    assert_int_equal(vpn_gre_tunnel_new(&hub, &hc), 0);
    for (int i = 0; i < SPOKES; i++) {
        vpn_addr a;
        vpn_addr_v4(&a, 0x0a000000u + (uint32_t)i + 1);
        sc = hc;
        sc.local = a;
        sc.remote = hc.local;
        assert_int_equal(vpn_gre_tunnel_new(&spoke[i], &sc), 0);
        if (i % 2 == 0) /* half are registered (NHRP would do it) */
            assert_int_equal(vpn_gre_peer_add(hub, &a, &peers[i]), 0);
        else
            peers[i] = NULL;
    }
    assert_int_equal(vpn_gre_peer_count(hub), SPOKES / 2);
    assert_int_equal(vpn_gre_peer_add(hub, vpn_gre_peer_addr(peers[0]), NULL), VPN_ERR_EXISTS);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < SPOKES; i++) {
            vpn_pkt_init(&p, buf, sizeof buf, 128);
            memcpy(vpn_pkt_put(&p, n), orig, n);
            assert_int_equal(vpn_gre_tunnel_encap(spoke[i], NULL, &p, VPN_GRE_PROTO_IPV4), 0);
            assert_int_equal(vpn_gre_tunnel_decap(hub, &p, &rx), 0);
            assert_ptr_equal(rx.peer, peers[i]);
            assert_int_equal(rx.hdr.seq, (uint32_t)round);
            assert_memory_equal(vpn_pkt_data(&p), orig, n);
        }
    }
    /* Hub to a registered spoke, through the peer. */
    vpn_pkt_init(&p, buf, sizeof buf, 128);
    memcpy(vpn_pkt_put(&p, n), orig, n);
    assert_int_equal(vpn_gre_tunnel_encap(hub, peers[4], &p, VPN_GRE_PROTO_IPV4), 0);
    assert_int_equal(vpn_gre_tunnel_decap(spoke[6], &p, &rx), VPN_ERR_NOTFOUND);
    assert_int_equal(vpn_gre_tunnel_decap(spoke[4], &p, &rx), 0);
    assert_memory_equal(vpn_pkt_data(&p), orig, n);
    /* No destination for a NULL peer on a multipoint tunnel. */
    assert_int_equal(vpn_gre_tunnel_encap(hub, NULL, &p, VPN_GRE_PROTO_IPV4), VPN_ERR_INVAL);
    assert_int_equal(vpn_gre_peer_remove(hub, peers[0]), 0);
    assert_null(vpn_gre_peer_find(hub, &(vpn_addr){0}));
    assert_int_equal(vpn_gre_peer_count(hub), SPOKES / 2 - 1);
    assert_int_equal(vpn_gre_tunnel_get_stats(hub)->pkts_in, 3 * SPOKES);
    for (int i = 0; i < SPOKES; i++)
        vpn_gre_tunnel_del(spoke[i]);
    vpn_gre_tunnel_del(hub);
}

static void test_p2p_wrong_source(void **state)
{
    (void)state;
    vpn_gre_tunnel_config c, o;
    vpn_gre_tunnel *t, *other;
    uint8_t buf[CAP], orig[256];
    vpn_pkt p;
    vpn_gre_rx rx;
    size_t n = inner_udp(orig, sizeof orig, 0, 3);

    memset(&c, 0, sizeof c);
    c.local = tu_addr("192.0.2.1");
    c.remote = tu_addr("192.0.2.2");
    c.tos = 0;
    assert_int_equal(vpn_gre_tunnel_new(&t, &c), 0);
    o = c;
    o.local = tu_addr("192.0.2.99");
    o.remote = c.local;
    assert_int_equal(vpn_gre_tunnel_new(&other, &o), 0);
    vpn_pkt_init(&p, buf, sizeof buf, 128);
    memcpy(vpn_pkt_put(&p, n), orig, n);
    assert_int_equal(vpn_gre_tunnel_encap(other, NULL, &p, VPN_GRE_PROTO_IPV4), 0);
    assert_int_equal(vpn_gre_tunnel_decap(t, &p, &rx), VPN_ERR_POLICY);
    assert_int_equal(vpn_gre_tunnel_get_stats(t)->err[VPN_GRE_ERR_PEER], 1);
    vpn_gre_tunnel_del(t);
    vpn_gre_tunnel_del(other);
}

/* Random bytes never crash the decapsulator. */
static void test_garbage(void **state)
{
    (void)state;
    vpn_gre_tunnel_config c;
    vpn_gre_tunnel *t;
    uint8_t buf[512];
    vpn_pkt p;
    vpn_gre_rx rx;

    memset(&c, 0, sizeof c);
    c.local = tu_addr("192.0.2.1");
    c.tos = VPN_GRE_TOS_COPY;
    assert_int_equal(vpn_gre_tunnel_new(&t, &c), 0);
    for (uint32_t i = 0; i < 20000; i++) {
        size_t len = i % 120;
        tu_fill(buf, sizeof buf, i);
        /* Make many of them look like IPv4 GRE to us. */
        if (i % 2) {
            buf[0] = 0x45;
            vpn_store16(buf + 2, (uint16_t)len);
            buf[9] = 47;
            memcpy(buf + 16, c.local.b, 4);
            buf[20] &= 0xb0;
            buf[21] &= 0xf8;
        }
        vpn_pkt_init(&p, buf, sizeof buf, 0);
        p.len = len;
        (void)vpn_gre_tunnel_decap(t, &p, &rx);
        assert_true(p.off + p.len <= sizeof buf);
    }
    vpn_gre_tunnel_del(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_forms),
        cmocka_unit_test(test_header_hostile),
        cmocka_unit_test(test_p2p_tunnel),
        cmocka_unit_test(test_multipoint),
        cmocka_unit_test(test_p2p_wrong_source),
        cmocka_unit_test(test_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
