/*
 * Sizing tunnels: vpn_esp_max_input, vpn_esp_max_overhead and
 * vpn_esp_tunnel_mtu against what vpn_esp_encap (and GRE before it) really
 * produces, for every algorithm, mode, family and NAT-T, over WAN MTUs of
 * every residue modulo the cipher block: a packet of exactly the computed
 * size fits the WAN MTU, one byte more does not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "crypto/cipher.h"
#include "crypto/crypto-ids.h"
#include "crypto/integ.h"
#include "gre/gre.h"
#include "ipsec/esp.h"
#include "ipsec/ip.h"
#include "pkt-build.h"
#include "test-util.h"

#define CAP 70000
#define HEAD 256

typedef tu_esp_alg alg;

static const alg algs[] = {
    {"aes-gcm-128", VPN_ENCR_AES_GCM_16, 128, VPN_INTEG_NONE},
    {"aes-gcm-256/8", VPN_ENCR_AES_GCM_8, 256, VPN_INTEG_NONE},
    {"chacha20-poly1305", VPN_ENCR_CHACHA20_POLY1305, 0, VPN_INTEG_NONE},
    {"aes-cbc-256 sha1", VPN_ENCR_AES_CBC, 256, VPN_AUTH_HMAC_SHA1_96},
    {"aes-cbc-128 sha512", VPN_ENCR_AES_CBC, 128, VPN_AUTH_HMAC_SHA2_512_256},
    {"aes-ctr-192 sha256", VPN_ENCR_AES_CTR, 192, VPN_AUTH_HMAC_SHA2_256_128},
    {"null sha384", VPN_ENCR_NULL, 0, VPN_AUTH_HMAC_SHA2_384_192},
};

typedef struct mode_case {
    const char *name;
    vpn_esp_mode mode;
    const char *local, *remote; /* SA endpoints */
    const char *isrc, *idst;    /* packets handed to ESP */
    bool udp, tbar;
} mode_case;

static const mode_case modes[] = {
    {"tunnel 4", VPN_ESP_TUNNEL, "198.51.100.1", "198.51.100.2", "10.1.0.1", "10.2.0.1", false, false},
    {"tunnel 4 nat-t", VPN_ESP_TUNNEL, "198.51.100.1", "198.51.100.2", "10.1.0.1", "10.2.0.1", true, false},
    {"tunnel 4 tbar", VPN_ESP_TUNNEL, "198.51.100.1", "198.51.100.2", "10.1.0.1", "10.2.0.1", false, true},
    {"tunnel 6 over 4", VPN_ESP_TUNNEL, "198.51.100.1", "198.51.100.2", "fd00:1::1", "fd00:2::1", false, false},
    {"tunnel 4 over 6", VPN_ESP_TUNNEL, "2001:db8::1", "2001:db8::2", "10.1.0.1", "10.2.0.1", false, false},
    {"transport 4", VPN_ESP_TRANSPORT, "198.51.100.1", "198.51.100.2", "198.51.100.1", "198.51.100.2", false, false},
    {"transport 4 nat-t", VPN_ESP_TRANSPORT, "198.51.100.1", "198.51.100.2", "198.51.100.1", "198.51.100.2", true, false},
    {"transport 6", VPN_ESP_TRANSPORT, "2001:db8::1", "2001:db8::2", "2001:db8::1", "2001:db8::2", false, false},
};

typedef struct end {
    vpn_rng rng;
    tu_rng st;
    vpn_sad *sad;
    vpn_sa *sa;
    uint8_t ekey[64], ikey[64];
} end;

static void open_sa(end *e, const alg *a, const mode_case *m)
{
    vpn_sa_config c;

    memset(&c, 0, sizeof c);
    c.spi = 0x1000;
    c.dir = VPN_SA_OUT;
    c.mode = m->mode;
    tu_esp_sa_keys(&c, a, e->ekey, e->ikey, 1);
    c.dscp = VPN_SA_DSCP_COPY;
    c.local = tu_addr(m->local);
    c.remote = tu_addr(m->remote);
    c.udp_encap = m->udp;
    c.tbar_window_ms = m->tbar ? 1000 : 0;
    tu_rng_init(&e->rng, &e->st);
    assert_int_equal(vpn_sad_new(&e->sad, &e->rng), 0);
    assert_int_equal(vpn_sad_add(e->sad, &c, 0, &e->sa), 0);
}

/* A UDP packet of exactly len bytes (header included) from src to dst. */
static void make_packet(vpn_pkt *p, uint8_t *buf, const char *src, const char *dst, size_t len)
{
    static uint8_t tmp[CAP];
    static uint8_t pl[CAP];
    vpn_addr s = tu_addr(src), d = tu_addr(dst);
    size_t hdr = vpn_ip_hdr_len(s.family) + 8, n;

    assert_true(len >= hdr);
    tu_fill(pl, len - hdr, (uint32_t)len);
    n = tu_build_udp(tmp, sizeof tmp, &s, &d, 4000, 5000, 0, pl, len - hdr);
    assert_int_equal(n, len);
    vpn_pkt_init(p, buf, CAP, HEAD);
    memcpy(vpn_pkt_put(p, n), tmp, n);
}

/* Encapsulates a packet of len bytes; returns the wire length. */
static size_t wire_len(end *e, const mode_case *m, uint8_t *buf, size_t len)
{
    vpn_pkt p;

    make_packet(&p, buf, m->isrc, m->idst, len);
    assert_int_equal(vpn_esp_encap(e->sa, &p, 0), 0);
    return p.len;
}

static void test_max_input_is_exact(void **state)
{
    (void)state;
    uint8_t *buf = malloc(CAP);
    /* 1500, 1280, IPv6's minimum, and 16 consecutive values: every residue
     * modulo the 16-byte CBC block. */
    size_t mtus[20] = {1500, 1280, 9000, 1492};
    for (size_t i = 4; i < 20; i++)
        mtus[i] = 1000 + (i - 4);

    for (size_t ai = 0; ai < sizeof algs / sizeof algs[0]; ai++) {
        for (size_t mi = 0; mi < sizeof modes / sizeof modes[0]; mi++) {
            const mode_case *m = &modes[mi];
            end e;
            vpn_esp_shape s;
            size_t overhead;

            open_sa(&e, &algs[ai], m);
            assert_int_equal(vpn_esp_shape_of(e.sa, &s), 0);
            assert_int_equal(s.encr_id, algs[ai].encr);
            assert_int_equal(s.udp_encap, m->udp);
            assert_int_equal(vpn_esp_max_overhead(&s, &overhead), 0);
            for (size_t k = 0; k < 20; k++) {
                size_t max = 0, at, above;
                assert_int_equal(vpn_esp_max_input(&s, mtus[k], &max), 0);
                at = wire_len(&e, m, buf, max);
                above = wire_len(&e, m, buf, max + 1);
                if (at > mtus[k] || above <= mtus[k])
                    fail_msg("%s / %s / WAN MTU %zu: max input %zu gives %zu, one more %zu",
                             algs[ai].name, m->name, mtus[k], max, at, above);
                /* The worst case bounds every packet and is reached. */
                assert_true(at - max <= overhead && above - (max + 1) <= overhead);
            }
            {
                size_t worst = 0;
                for (size_t len = 100; len < 100 + 16; len++) {
                    size_t grow = wire_len(&e, m, buf, len) - len;
                    assert_true(grow <= overhead);
                    worst = grow > worst ? grow : worst;
                }
                if (worst != overhead)
                    fail_msg("%s / %s: worst growth %zu, max overhead says %zu", algs[ai].name,
                             m->name, worst, overhead);
            }
            vpn_sad_del(e.sad);
        }
    }
    free(buf);
}

/* A known case by hand: AES-GCM-128 tunnel mode over a 1500-byte WAN.
 * 20 outer + 8 ESP + 8 IV + 16 ICV = 52; 1448 bytes of whole 4-byte
 * blocks less pad length and next header: 1446. With NAT-T 8 less. GRE
 * (transport or tunnel): 20 + 4 less than that. */
static void test_known_values(void **state)
{
    (void)state;
    vpn_esp_shape s = {VPN_ENCR_AES_GCM_16, 128, VPN_INTEG_NONE, VPN_ESP_TUNNEL, VPN_AF_INET, false, false};
    size_t v;

    assert_int_equal(vpn_esp_max_input(&s, 1500, &v), 0);
    assert_int_equal(v, 1446);
    assert_int_equal(vpn_esp_tunnel_mtu(&s, 1500, 0, &v), 0);
    assert_int_equal(v, 1446);
    assert_int_equal(vpn_esp_tunnel_mtu(&s, 1500, 4, &v), 0);
    assert_int_equal(v, 1422);
    s.udp_encap = true;
    assert_int_equal(vpn_esp_tunnel_mtu(&s, 1500, 0, &v), 0);
    assert_int_equal(v, 1438);
    /* Transport mode keeps the GRE packet's header: 1500 - 20 = 1480
     * after it, less 8 + 8 + 16 = 1448, less 2: a GRE packet of 1466,
     * an inner packet of 1466 - 24 = 1442. */
    s.udp_encap = false;
    s.mode = VPN_ESP_TRANSPORT;
    assert_int_equal(vpn_esp_tunnel_mtu(&s, 1500, 4, &v), 0);
    assert_int_equal(v, 1442);
    /* AES-CBC-256 with HMAC-SHA1-96, VTI: 1500 - 20 - 8 - 16 - 12 = 1444,
     * whole 16-byte blocks 1440, less 2: 1438. Worst growth 73. */
    s.mode = VPN_ESP_TUNNEL;
    s.encr_id = VPN_ENCR_AES_CBC;
    s.encr_key_bits = 256;
    s.integ_id = VPN_AUTH_HMAC_SHA1_96;
    assert_int_equal(vpn_esp_tunnel_mtu(&s, 1500, 0, &v), 0);
    assert_int_equal(v, 1438);
    assert_int_equal(vpn_esp_max_overhead(&s, &v), 0);
    assert_int_equal(v, 20 + 8 + 16 + 15 + 2 + 12);
}

/* GRE/IPsec end to end: an inner packet of exactly the tunnel MTU, wrapped
 * in GRE (with and without a key) and protected in either ESP mode, fits
 * the WAN MTU; one byte more does not. */
static void test_gre_tunnel_mtu(void **state)
{
    (void)state;
    uint8_t *buf = malloc(CAP);
    static const alg *pick[] = {&algs[0], &algs[3]};
    static const vpn_esp_mode gm[] = {VPN_ESP_TRANSPORT, VPN_ESP_TUNNEL};

    for (size_t ai = 0; ai < 2; ai++) {
        for (size_t mi = 0; mi < 2; mi++) {
            for (int keyed = 0; keyed < 2; keyed++) {
                mode_case m = {"gre", gm[mi], "198.51.100.1", "198.51.100.2", "198.51.100.1",
                               "198.51.100.2", false, false};
                vpn_gre_tunnel_config gc;
                vpn_gre_hdr h = {VPN_GRE_PROTO_IPV4, false, keyed != 0, false, 7, 0};
                vpn_gre_tunnel *t;
                vpn_esp_shape s;
                end e;
                size_t mtu;

                memset(&gc, 0, sizeof gc);
                gc.local = tu_addr("198.51.100.1");
                gc.remote = tu_addr("198.51.100.2");
                gc.has_key = keyed != 0;
                gc.key = 7;
                gc.tos = VPN_GRE_TOS_COPY;
                assert_int_equal(vpn_gre_tunnel_new(&t, &gc), 0);
                open_sa(&e, pick[ai], &m);
                assert_int_equal(vpn_esp_shape_of(e.sa, &s), 0);
                for (size_t wan = 1400; wan < 1416; wan++) {
                    assert_int_equal(vpn_esp_tunnel_mtu(&s, wan, vpn_gre_hdr_len(&h), &mtu), 0);
                    for (size_t extra = 0; extra < 2; extra++) {
                        vpn_pkt p;
                        make_packet(&p, buf, "10.1.0.1", "10.2.0.1", mtu + extra);
                        assert_int_equal(vpn_gre_tunnel_encap(t, NULL, &p, VPN_GRE_PROTO_IPV4), 0);
                        assert_int_equal(vpn_esp_encap(e.sa, &p, 0), 0);
                        if ((extra == 0) != (p.len <= wan))
                            fail_msg("%s, ESP mode %d, key %d, WAN %zu: inner %zu -> %zu",
                                     pick[ai]->name, gm[mi], keyed, wan, mtu + extra, p.len);
                    }
                }
                vpn_sad_del(e.sad);
                vpn_gre_tunnel_del(t);
            }
        }
    }
    free(buf);
}

static void test_bad_input(void **state)
{
    (void)state;
    vpn_esp_shape s = {VPN_ENCR_AES_GCM_16, 128, VPN_INTEG_NONE, VPN_ESP_TUNNEL, VPN_AF_INET, false, false};
    vpn_esp_shape bad;
    size_t v = 77;

    assert_int_equal(vpn_esp_max_input(NULL, 1500, &v), VPN_ERR_INVAL);
    assert_int_equal(vpn_esp_max_input(&s, 1500, NULL), VPN_ERR_INVAL);
    assert_int_equal(vpn_esp_max_overhead(&s, NULL), VPN_ERR_INVAL);
    assert_int_equal(vpn_esp_tunnel_mtu(&s, 1500, 4, NULL), VPN_ERR_INVAL);
    assert_int_equal(vpn_esp_shape_of(NULL, &bad), VPN_ERR_INVAL);
    bad = s;
    bad.outer_family = 5;
    assert_int_equal(vpn_esp_max_input(&bad, 1500, &v), VPN_ERR_INVAL);
    bad = s;
    bad.mode = (vpn_esp_mode)9;
    assert_int_equal(vpn_esp_max_overhead(&bad, &v), VPN_ERR_INVAL);
    bad = s;
    bad.encr_id = 9999;
    assert_int_equal(vpn_esp_max_input(&bad, 1500, &v), VPN_ERR_UNSUPPORTED);
    bad = s;
    bad.encr_id = VPN_ENCR_AES_CBC;
    bad.encr_key_bits = 128;
    bad.integ_id = 9999;
    assert_int_equal(vpn_esp_max_input(&bad, 1500, &v), VPN_ERR_UNSUPPORTED);
    /* Too small a WAN for anything. */
    assert_int_equal(vpn_esp_max_input(&s, 40, &v), VPN_ERR_NOSPACE);
    assert_int_equal(vpn_esp_max_input(&s, 0, &v), VPN_ERR_NOSPACE);
    assert_int_equal(vpn_esp_tunnel_mtu(&s, 90, 4, &v), VPN_ERR_NOSPACE);
    assert_int_equal(v, 77);
    /* A huge MTU is capped by the 16-bit IP length. */
    assert_int_equal(vpn_esp_max_input(&s, 100000, &v), 0);
    assert_true(v + 52 <= 65535);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_max_input_is_exact),
        cmocka_unit_test(test_known_values),
        cmocka_unit_test(test_gre_tunnel_mtu),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
