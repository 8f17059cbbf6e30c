/*
 * ESP end to end through two SADs: every mode and algorithm over IPv4 and
 * IPv6, UDP encapsulation, ESN rollover, replay edges through real
 * packets, DSCP/ECN, group SAs with TBAR, lifetimes and their events, and
 * the rejection (counted, reported) of every kind of bad packet.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "common/wire.h"
#include "crypto/cipher.h"
#include "crypto/crypto-ids.h"
#include "ipsec/esp.h"
#include "ipsec/ip.h"
#include "ipsec/natt.h"
#include "ipsec/sa-priv.h"
#include "ipsec/wskeys.h"
#include "pkt-build.h"
#include "test-util.h"

#define CAP 4096
#define HEAD 256

typedef tu_esp_alg alg;

static const alg algs[] = {
    {"aes-gcm-128", VPN_ENCR_AES_GCM_16, 128, VPN_INTEG_NONE},
    {"aes-gcm-256", VPN_ENCR_AES_GCM_16, 256, VPN_INTEG_NONE},
    {"aes-gcm-128/8", VPN_ENCR_AES_GCM_8, 128, VPN_INTEG_NONE},
    {"chacha20-poly1305", VPN_ENCR_CHACHA20_POLY1305, 0, VPN_INTEG_NONE},
    {"aes-cbc-128 sha256", VPN_ENCR_AES_CBC, 128, VPN_AUTH_HMAC_SHA2_256_128},
    {"aes-cbc-256 sha512", VPN_ENCR_AES_CBC, 256, VPN_AUTH_HMAC_SHA2_512_256},
    {"aes-cbc-192 sha1", VPN_ENCR_AES_CBC, 192, VPN_AUTH_HMAC_SHA1_96},
    {"aes-ctr-128 sha384", VPN_ENCR_AES_CTR, 128, VPN_AUTH_HMAC_SHA2_384_192},
    {"null sha256", VPN_ENCR_NULL, 0, VPN_AUTH_HMAC_SHA2_256_128},
    /* legacy GDOI TEKs (random IVs: the counter form is AES-only) */
    {"3des sha1", VPN_ENCR_3DES, 0, VPN_AUTH_HMAC_SHA1_96},
};

typedef struct events {
    int soft, hard;
    vpn_sa_limit soft_why, hard_why;
    int drops;
    char last_reason[64];
} events;

static void on_event(void *user, vpn_sa *sa, vpn_sa_event ev, vpn_sa_limit why, uint64_t now)
{
    events *e = user;
    (void)sa;
    (void)now;
    if (ev == VPN_SA_EV_SOFT) {
        e->soft++;
        e->soft_why = why;
    } else {
        e->hard++;
        e->hard_why = why;
    }
}

static void on_drop(void *user, const vpn_sa *sa, uint32_t spi, const char *reason, int err)
{
    events *e = user;
    (void)sa;
    (void)spi;
    (void)err;
    e->drops++;
    snprintf(e->last_reason, sizeof e->last_reason, "%s", reason);
}

/* Two ends: tx holds the outbound SA, rx the inbound one (same keys). */
typedef struct link {
    vpn_rng rng;
    tu_rng st;
    vpn_sad *tx, *rx;
    vpn_sa *out, *in;
    events tx_ev, rx_ev;
    uint8_t ekey[64], ikey[64];
} link;

static vpn_sa_config base_config(link *l, const alg *a, vpn_esp_mode mode, const char *local,
                                 const char *remote)
{
    vpn_sa_config c;

    memset(&c, 0, sizeof c);
    c.spi = 0xc0de0001;
    c.mode = mode;
    tu_esp_sa_keys(&c, a, l->ekey, l->ikey, 11);
    if (a->encr == VPN_ENCR_3DES)
        c.iv_mode = VPN_SA_IV_RANDOM;
    c.replay_window = 128;
    c.dscp = VPN_SA_DSCP_COPY;
    if (local)
        c.local = tu_addr(local);
    if (remote)
        c.remote = tu_addr(remote);
    return c;
}

static void link_open(link *l, const vpn_sa_config *c)
{
    vpn_sa_config r = *c;

    memset(&l->tx_ev, 0, sizeof l->tx_ev);
    memset(&l->rx_ev, 0, sizeof l->rx_ev);
    tu_rng_init(&l->rng, &l->st);
    assert_int_equal(vpn_sad_new(&l->tx, &l->rng), 0);
    assert_int_equal(vpn_sad_new(&l->rx, &l->rng), 0);
    vpn_sad_set_event_cb(l->tx, on_event, &l->tx_ev);
    vpn_sad_set_event_cb(l->rx, on_event, &l->rx_ev);
    vpn_sad_set_drop_cb(l->tx, on_drop, &l->tx_ev);
    vpn_sad_set_drop_cb(l->rx, on_drop, &l->rx_ev);
    r.dir = VPN_SA_OUT;
    assert_int_equal(vpn_sad_add(l->tx, &r, 0, &l->out), 0);
    r.dir = VPN_SA_IN;
    r.local = c->remote;
    r.remote = c->local;
    assert_int_equal(vpn_sad_add(l->rx, &r, 0, &l->in), 0);
}

static void link_close(link *l)
{
    vpn_sad_del(l->tx);
    vpn_sad_del(l->rx);
}

/* Builds a UDP packet into a fresh vpn_pkt; returns its length, copy in orig. */
static size_t make_inner(vpn_pkt *p, uint8_t *buf, uint8_t *orig, const char *src,
                         const char *dst, uint8_t tos, size_t payload, uint32_t seed)
{
    uint8_t *pl = malloc(payload + 1);
    vpn_addr s = tu_addr(src), d = tu_addr(dst);
    size_t n;

    tu_fill(pl, payload, seed);
    n = tu_build_udp(orig, CAP, &s, &d, 4000, 5000, tos, pl, payload);
    free(pl);
    vpn_pkt_init(p, buf, CAP, HEAD);
    memcpy(vpn_pkt_put(p, n), orig, n);
    return n;
}

static uint16_t udp6_csum_ok(const uint8_t *ip6, size_t udp_off, size_t udp_len)
{
    uint32_t s = 0;
    for (size_t i = 8; i < 40; i += 2)
        s += vpn_load16(ip6 + i);
    s += (uint32_t)udp_len + 17;
    for (size_t i = 0; i + 1 < udp_len; i += 2)
        s += vpn_load16(ip6 + udp_off + i);
    if (udp_len & 1)
        s += (uint32_t)ip6[udp_off + udp_len - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

static bool contains(const uint8_t *hay, size_t n, const uint8_t *needle, size_t k)
{
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(hay + i, needle, k) == 0)
            return true;
    return false;
}

typedef struct mode_case {
    const char *name;
    vpn_esp_mode mode;
    const char *local, *remote;     /* SA endpoints */
    const char *isrc, *idst;        /* inner packet */
    bool udp;
} mode_case;

static const mode_case modes[] = {
    {"tunnel 4/4", VPN_ESP_TUNNEL, "198.51.100.1", "198.51.100.2", "10.1.0.1", "10.2.0.1", false},
    {"tunnel 6/6", VPN_ESP_TUNNEL, "2001:db8::1", "2001:db8::2", "fd00:1::1", "fd00:2::1", false},
    {"tunnel 4 in 6", VPN_ESP_TUNNEL, "2001:db8::1", "2001:db8::2", "10.1.0.1", "10.2.0.1", false},
    {"tunnel 6 in 4", VPN_ESP_TUNNEL, "198.51.100.1", "198.51.100.2", "fd00:1::1", "fd00:2::1", false},
    {"transport 4", VPN_ESP_TRANSPORT, "198.51.100.1", "198.51.100.2", "198.51.100.1", "198.51.100.2", false},
    {"transport 6", VPN_ESP_TRANSPORT, "2001:db8::1", "2001:db8::2", "2001:db8::1", "2001:db8::2", false},
    {"preserve 4", VPN_ESP_TUNNEL_ADDR_PRESERVE, NULL, NULL, "10.1.0.1", "10.2.0.1", false},
    {"preserve 6", VPN_ESP_TUNNEL_ADDR_PRESERVE, NULL, NULL, "fd00:1::1", "fd00:2::1", false},
    /* RFC 6407 5.4.1 destination-only preservation: the outer source is ours */
    {"preserve dst 4", VPN_ESP_TUNNEL_ADDR_PRESERVE_DST, "198.51.100.1", NULL, "10.1.0.1",
     "10.2.0.1", false},
    {"tunnel 4/4 udp", VPN_ESP_TUNNEL, "198.51.100.1", "198.51.100.2", "10.1.0.1", "10.2.0.1", true},
    {"tunnel 6/6 udp", VPN_ESP_TUNNEL, "2001:db8::1", "2001:db8::2", "fd00:1::1", "fd00:2::1", true},
    {"transport 4 udp", VPN_ESP_TRANSPORT, "198.51.100.1", "198.51.100.2", "198.51.100.1", "198.51.100.2", true},
    {"transport 6 udp", VPN_ESP_TRANSPORT, "2001:db8::1", "2001:db8::2", "2001:db8::1", "2001:db8::2", true},
};

static void test_all_modes_and_algorithms(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 1, 2, 3, 13, 14, 15, 16, 17, 100, 1400};
    uint8_t *buf = malloc(CAP), *orig = malloc(CAP);

    for (size_t ai = 0; ai < sizeof algs / sizeof algs[0]; ai++) {
        for (size_t mi = 0; mi < sizeof modes / sizeof modes[0]; mi++) {
            const mode_case *m = &modes[mi];
            link l;
            vpn_sa_config c = base_config(&l, &algs[ai], m->mode, m->local, m->remote);
            uint64_t bytes = 0;
            c.udp_encap = m->udp;
            link_open(&l, &c);
            for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
                vpn_pkt p;
                vpn_esp_rx r;
                vpn_ip_info outer, inner;
                size_t n = make_inner(&p, buf, orig, m->isrc, m->idst, 0, sizes[si], (uint32_t)si);
                size_t head = 0, tail = 0;

                assert_int_equal(vpn_ip_parse(orig, n, &inner), 0);
                assert_int_equal(vpn_esp_overhead(l.out, inner.version, &head, &tail), 0);
                assert_int_equal(vpn_esp_encap(l.out, &p, 0), 0);
                assert_true(p.len <= n + head + tail);
                assert_int_equal(vpn_ip_parse(vpn_pkt_data(&p), p.len, &outer), 0);
                assert_int_equal(outer.total_len, p.len);
                assert_int_equal(outer.proto, m->udp ? VPN_IPPROTO_UDP : VPN_IPPROTO_ESP);
                if (m->mode == VPN_ESP_TUNNEL_ADDR_PRESERVE || m->mode == VPN_ESP_TRANSPORT) {
                    assert_true(vpn_addr_eq(&outer.src, &inner.src));
                    assert_true(vpn_addr_eq(&outer.dst, &inner.dst));
                } else if (m->mode == VPN_ESP_TUNNEL_ADDR_PRESERVE_DST) {
                    assert_true(vpn_addr_eq(&outer.src, &c.local));
                    assert_true(vpn_addr_eq(&outer.dst, &inner.dst));
                } else {
                    assert_true(vpn_addr_eq(&outer.src, &c.local));
                    assert_true(vpn_addr_eq(&outer.dst, &c.remote));
                }
                if (outer.version == 4)
                    assert_int_equal(vpn_ip_csum(vpn_pkt_data(&p), outer.hdr_len), 0);
                if (m->udp) {
                    assert_int_equal(outer.dport, VPN_NATT_PORT);
                    if (outer.version == 6)
                        assert_int_equal(udp6_csum_ok(vpn_pkt_data(&p), outer.hdr_len,
                                                      p.len - outer.hdr_len), 0xffff);
                }
                /* The plaintext must not be visible (except with NULL). */
                if (algs[ai].encr != VPN_ENCR_NULL && sizes[si] >= 16)
                    assert_false(contains(vpn_pkt_data(&p), p.len, orig + n - 16, 16));

                assert_int_equal(vpn_esp_decap(l.rx, &p, 0, &r), 0);
                assert_int_equal(r.verdict, VPN_ESP_DELIVER);
                assert_ptr_equal(r.sa, l.in);
                assert_int_equal(r.seq, si + 1);
                assert_int_equal(r.outer.udp, m->udp);
                if (p.len != n || memcmp(vpn_pkt_data(&p), orig, n) != 0)
                    fail_msg("%s / %s / %zu bytes: round trip differs", algs[ai].name, m->name,
                             sizes[si]);
                /* Bytes count what ESP carries: the inner packet, or in
                 * transport mode the upper-layer payload. */
                bytes += m->mode == VPN_ESP_TRANSPORT ? n - inner.hdr_len : n;
            }
            assert_int_equal(vpn_sa_get_stats(l.out)->pkts_out, sizeof sizes / sizeof sizes[0]);
            assert_int_equal(vpn_sa_get_stats(l.in)->pkts_in, sizeof sizes / sizeof sizes[0]);
            assert_int_equal(vpn_sa_get_stats(l.in)->bytes_in, bytes);
            assert_int_equal(vpn_sa_get_stats(l.out)->bytes_out, bytes);
            assert_int_equal(vpn_sa_get_stats(l.in)->recv_errors, 0);
            link_close(&l);
        }
    }
    free(buf);
    free(orig);
}

/* Counter IVs are distinct and unpredictable-looking for CBC; random IVs come
 * from the RNG. */
static void test_iv_modes(void **state)
{
    (void)state;
    uint8_t *buf = malloc(CAP), *orig = malloc(CAP);
    uint8_t ivs[4][16];

    for (int k = 0; k < 2; k++) {
        link l;
        vpn_sa_config c = base_config(&l, &algs[k == 0 ? 0 : 4], VPN_ESP_TUNNEL, "192.0.2.1",
                                      "192.0.2.2");
        size_t ivl = k == 0 ? 8 : 16;
        link_open(&l, &c);
        for (int i = 0; i < 4; i++) {
            vpn_pkt p;
            make_inner(&p, buf, orig, "10.0.0.1", "10.0.0.2", 0, 10, 1);
            assert_int_equal(vpn_esp_encap(l.out, &p, 0), 0);
            memcpy(ivs[i], vpn_pkt_data(&p) + 20 + 8, ivl);
        }
        if (k == 0) {
            /* AEAD: the IV is the 64-bit sequence number. */
            tu_assert_hex(ivs[0], 8, "0000000000000001");
            tu_assert_hex(ivs[3], 8, "0000000000000004");
        } else {
            /* CBC: E_K(salt || seq), no two alike, not a counter. */
            for (int i = 0; i < 4; i++)
                for (int j = i + 1; j < 4; j++)
                    assert_memory_not_equal(ivs[i], ivs[j], 16);
            assert_int_not_equal(ivs[1][15] - ivs[0][15], 1);
        }
        link_close(&l);
    }
    free(buf);
    free(orig);
}

/* RFC 4304: 64-bit counters, 32 bits on the wire, across 2^32. */
static void test_esn_rollover(void **state)
{
    (void)state;
    uint8_t *buf = malloc(CAP), *orig = malloc(CAP);
    link l;
    vpn_sa_config c = base_config(&l, &algs[4], VPN_ESP_TUNNEL, "192.0.2.1", "192.0.2.2");
    vpn_pkt p;
    vpn_esp_rx r;
    size_t n;

    c.esn = true;
    link_open(&l, &c);
    /* Jump both ends near the end of the first 2^32 block (white box:
     * 4 billion packets would take too long). */
    l.out->stats.seq_out = 0xfffffffdull;
    l.in->replay.top = 0xfffffffdull;
    for (uint64_t s = 0xfffffffeull; s <= 0x100000003ull; s++) {
        n = make_inner(&p, buf, orig, "10.0.0.1", "10.0.0.2", 0, 40, (uint32_t)s);
        assert_int_equal(vpn_esp_encap(l.out, &p, 0), 0);
        assert_int_equal(vpn_load32(vpn_pkt_data(&p) + 24), (uint32_t)s); /* low bits only */
        assert_int_equal(vpn_esp_decap(l.rx, &p, 0, &r), 0);
        assert_true(r.seq == s);
        assert_memory_equal(vpn_pkt_data(&p), orig, n);
    }
    /* A receiver that guesses the wrong high bits fails the ICV: the high
     * bits are authenticated though not sent. */
    l.in->replay.top = 0x200000000ull + 10;
    n = make_inner(&p, buf, orig, "10.0.0.1", "10.0.0.2", 0, 40, 9);
    assert_int_equal(vpn_esp_encap(l.out, &p, 0), 0);
    assert_int_equal(vpn_esp_decap(l.rx, &p, 0, &r), VPN_ERR_AUTH);
    assert_int_equal(vpn_sa_get_stats(l.in)->err[VPN_SA_ERR_AUTH], 1);
    link_close(&l);

    /* Without ESN the counter must not cycle (RFC 4303 3.3.3). */
    c.esn = false;
    link_open(&l, &c);
    l.out->stats.seq_out = 0xfffffffeull;
    n = make_inner(&p, buf, orig, "10.0.0.1", "10.0.0.2", 0, 40, 1);
    assert_int_equal(vpn_esp_encap(l.out, &p, 0), 0);
    assert_int_equal(l.tx_ev.hard, 1);
    assert_int_equal(l.tx_ev.hard_why, VPN_SA_LIMIT_SEQ);
    n = make_inner(&p, buf, orig, "10.0.0.1", "10.0.0.2", 0, 40, 1);
    assert_int_equal(vpn_esp_encap(l.out, &p, 0), VPN_ERR_EXPIRED);
    l.out->hard_fired = false; /* even if the owner ignored the event */
    assert_int_equal(vpn_esp_encap(l.out, &p, 0), VPN_ERR_OVERFLOW);
    assert_int_equal(vpn_sa_get_stats(l.out)->err[VPN_SA_ERR_SEQ_OVERFLOW], 1);
    (void)n;
    link_close(&l);
    free(buf);
    free(orig);
}

/* Copies of packets, delivered in a chosen order, against a window of 64. */
static void test_replay_through_esp(void **state)
{
    (void)state;
    enum { N = 300 };
    uint8_t *store = malloc((size_t)N * CAP), *orig = malloc(CAP), *buf = malloc(CAP);
    size_t off[N + 1], len[N + 1];
    link l;
    vpn_sa_config c = base_config(&l, &algs[0], VPN_ESP_TUNNEL, "192.0.2.1", "192.0.2.2");
    vpn_pkt p;
    vpn_esp_rx r;

    c.replay_window = 64;
    link_open(&l, &c);
    for (int s = 1; s <= N; s++) {
        vpn_pkt q;
        make_inner(&q, store + (size_t)(s - 1) * CAP, orig, "10.0.0.1", "10.0.0.2", 0, 20,
                   (uint32_t)s);
        assert_int_equal(vpn_esp_encap(l.out, &q, 0), 0);
        off[s] = q.off;
        len[s] = q.len;
    }
#define DELIVER(s) (memcpy(buf, store + (size_t)((s) - 1) * CAP, CAP), p.buf = buf, p.cap = CAP, \
                    p.off = off[s], p.len = len[s], vpn_esp_decap(l.rx, &p, 0, &r))
    assert_int_equal(DELIVER(1), 0);               /* first packet */
    assert_int_equal(DELIVER(1), VPN_ERR_REPLAY);  /* duplicate */
    assert_int_equal(DELIVER(2), 0);               /* right edge + 1 */
    assert_int_equal(DELIVER(200), 0);             /* far ahead */
    assert_int_equal(DELIVER(137), 0);             /* left edge (200 - 63) */
    assert_int_equal(DELIVER(136), VPN_ERR_REPLAY); /* too old */
    assert_int_equal(DELIVER(150), 0);             /* inside, out of order */
    assert_int_equal(DELIVER(150), VPN_ERR_REPLAY);
    assert_int_equal(DELIVER(200), VPN_ERR_REPLAY); /* duplicate of the right edge */
    assert_int_equal(vpn_sa_get_stats(l.in)->err[VPN_SA_ERR_REPLAY], 4);
    /* A forged packet far ahead must not move the window: its ICV fails. */
    memcpy(buf, store + (size_t)(299) * CAP, CAP);
    p.buf = buf;
    p.off = off[300];
    p.len = len[300];
    buf[p.off + p.len - 1] ^= 0x80;
    assert_int_equal(vpn_esp_decap(l.rx, &p, 0, &r), VPN_ERR_AUTH);
    assert_int_equal(DELIVER(140), 0); /* still inside the unmoved window */
    assert_true(l.in->replay.top == 200);
    assert_int_equal(vpn_sa_get_stats(l.in)->seq_in, 200);
    assert_int_equal(l.rx_ev.drops, 5);
#undef DELIVER
    link_close(&l);
    free(store);
    free(orig);
    free(buf);
}

static void test_dscp_ecn(void **state)
{
    (void)state;
    uint8_t *buf = malloc(CAP), *orig = malloc(CAP);
    link l;
    vpn_sa_config c = base_config(&l, &algs[0], VPN_ESP_TUNNEL, "192.0.2.1", "192.0.2.2");
    vpn_pkt p;
    vpn_esp_rx r;
    vpn_ip_info o;
    size_t n;

    link_open(&l, &c);
    /* EF + ECT(0): both copied (RFC 4301 5.1.2.1, RFC 6040 normal mode). */
    n = make_inner(&p, buf, orig, "10.0.0.1", "10.0.0.2", 0xb8 | VPN_ECN_ECT0, 20, 1);
    assert_int_equal(vpn_esp_encap(l.out, &p, 0), 0);
    assert_int_equal(vpn_ip_parse(vpn_pkt_data(&p), p.len, &o), 0);
    assert_int_equal(o.tos, 0xb8 | VPN_ECN_ECT0);
    /* Congestion marked on the way: CE reaches the inner header. */
    vpn_ip_tos_set(vpn_pkt_data(&p), 0xb8 | VPN_ECN_CE);
    assert_int_equal(vpn_esp_decap(l.rx, &p, 0, &r), 0);
    assert_int_equal(vpn_ip_tos_get(vpn_pkt_data(&p)), 0xb8 | VPN_ECN_CE);
    assert_int_equal(vpn_ip_csum(vpn_pkt_data(&p), 20), 0);
    /* A Not-ECT inner packet with CE outside is dropped. */
    n = make_inner(&p, buf, orig, "10.0.0.1", "10.0.0.2", 0x28, 20, 2);
    assert_int_equal(vpn_esp_encap(l.out, &p, 0), 0);
    vpn_ip_tos_set(vpn_pkt_data(&p), 0x28 | VPN_ECN_CE);
    assert_int_equal(vpn_esp_decap(l.rx, &p, 0, &r), VPN_ERR_POLICY);
    assert_int_equal(vpn_sa_get_stats(l.in)->err[VPN_SA_ERR_ECN], 1);
    /* The inner DSCP is never rewritten at decapsulation. */
    n = make_inner(&p, buf, orig, "10.0.0.1", "10.0.0.2", 0x28, 20, 3);
    assert_int_equal(vpn_esp_encap(l.out, &p, 0), 0);
    vpn_ip_tos_set(vpn_pkt_data(&p), 0x00);
    assert_int_equal(vpn_esp_decap(l.rx, &p, 0, &r), 0);
    assert_memory_equal(vpn_pkt_data(&p), orig, n);
    link_close(&l);

    /* Fixed outer DSCP and ECN compatibility mode; IPv6 traffic class. */
    c = base_config(&l, &algs[0], VPN_ESP_TUNNEL, "2001:db8::1", "2001:db8::2");
    c.dscp = 10;
    c.ecn_compat = true;
    link_open(&l, &c);
    make_inner(&p, buf, orig, "10.0.0.1", "10.0.0.2", 0xb8 | VPN_ECN_ECT1, 20, 4);
    assert_int_equal(vpn_esp_encap(l.out, &p, 0), 0);
    assert_int_equal(vpn_ip_parse(vpn_pkt_data(&p), p.len, &o), 0);
    assert_int_equal(o.tos, 10 << 2);
    link_close(&l);

    /* Group SA with address preservation copies DSCP as well (voice over
     * GET VPN keeps its priority in the provider core). */
    c = base_config(&l, &algs[4], VPN_ESP_TUNNEL_ADDR_PRESERVE, NULL, NULL);
    link_open(&l, &c);
    make_inner(&p, buf, orig, "fd00::1", "fd00::2", 0xb8, 20, 5);
    assert_int_equal(vpn_esp_encap(l.out, &p, 0), 0);
    assert_int_equal(vpn_ip_parse(vpn_pkt_data(&p), p.len, &o), 0);
    assert_int_equal(o.tos, 0xb8);
    assert_int_equal(o.version, 6);
    link_close(&l);
    free(buf);
    free(orig);
    (void)n;
}

/* GET VPN: every member holds the same group SA; TBAR instead of counters. */
static void test_group_sa_tbar(void **state)
{
    (void)state;
    const uint64_t ms = 1000000;
    uint8_t *buf = malloc(CAP), *orig = malloc(CAP), *copy = malloc(CAP);
    uint8_t ek[20];
    vpn_rng rng;
    tu_rng st;
    vpn_sad *gm[3];
    vpn_sa *sa[3];
    vpn_sa_config c;
    vpn_pkt p;
    vpn_esp_rx r;
    size_t n, off, len;
    uint8_t iv_a[8], iv_b[8];

    tu_rng_init(&rng, &st);
    tu_fill(ek, sizeof ek, 5);
    memset(&c, 0, sizeof c);
    c.spi = 0x5a5a0001;
    c.dir = VPN_SA_BOTH;
    c.group = true;
    c.mode = VPN_ESP_TUNNEL_ADDR_PRESERVE;
    c.encr_id = VPN_ENCR_AES_GCM_16;
    c.encr_key_bits = 128;
    c.encr_key = ek;
    c.encr_key_len = 20;
    c.tbar_window_ms = 5000;
    c.dscp = VPN_SA_DSCP_COPY;
    c.sender_id_bits = 8;
    /* Without sender IDs, GCM counter IVs would repeat across members. */
    {
        vpn_sad *t;
        vpn_sa_config bad = c;
        bad.sender_id_bits = 0;
        assert_int_equal(vpn_sad_new(&t, &rng), 0);
        assert_int_equal(vpn_sad_add(t, &bad, 0, NULL), VPN_ERR_INVAL);
        bad.mode = VPN_ESP_TRANSPORT; /* TBAR needs an inner header */
        bad.sender_id_bits = 8;
        bad.local = tu_addr("192.0.2.1");
        bad.remote = tu_addr("192.0.2.2");
        assert_int_equal(vpn_sad_add(t, &bad, 0, NULL), VPN_ERR_INVAL);
        vpn_sad_del(t);
    }
    for (int i = 0; i < 3; i++) {
        c.sender_id = (uint32_t)i + 1;
        assert_int_equal(vpn_sad_new(&gm[i], &rng), 0);
        assert_int_equal(vpn_sad_add(gm[i], &c, 0, &sa[i]), 0);
        /* The key server's pseudotime reaches members at different moments. */
        vpn_sa_tbar_sync(sa[i], (uint64_t)i * 100 * ms, 1000000);
    }
    /* At local time 10 s: member 0 is at 1 010 000 ms, member 1 at
     * 1 009 900, member 2 at 1 009 800. No counter window: many senders. */
    n = make_inner(&p, buf, orig, "10.1.0.5", "10.3.0.9", 0xb8, 60, 1);
    assert_int_equal(vpn_esp_encap(sa[0], &p, 10000 * ms), 0);
    memcpy(iv_a, vpn_pkt_data(&p) + 20 + 8, 8);
    memcpy(copy, buf, CAP);
    off = p.off;
    len = p.len;
    /* Address preservation: the outer header is the hosts' own. */
    {
        vpn_ip_info o;
        assert_int_equal(vpn_ip_parse(vpn_pkt_data(&p), p.len, &o), 0);
        assert_true(vpn_addr_eq(&o.src, &(vpn_addr){0}) == false);
        assert_memory_equal(o.src.b, orig + 12, 4);
        assert_memory_equal(o.dst.b, orig + 16, 4);
    }
    /* Any member can read it, whatever the destination address. */
    assert_int_equal(vpn_esp_decap(gm[1], &p, 10000 * ms, &r), 0);
    assert_true(r.has_pseudotime);
    assert_int_equal(r.pseudotime_ms, 1010000);
    assert_memory_equal(vpn_pkt_data(&p), orig, n);
    /* Member 2 replays it later: accepted up to exactly 5 s of difference. */
    memcpy(buf, copy, CAP);
    p.off = off;
    p.len = len;
    /* Member 2's pseudotime at local t is 1 000 000 + t - 200 ms; the packet
     * says 1 010 000: the window's far edge is t = 15 200 ms. */
    assert_int_equal(vpn_sa_tbar_now_ms(sa[2], 15200 * ms), 1015000);
    assert_int_equal(vpn_esp_decap(gm[2], &p, 15200 * ms, &r), 0);
    memcpy(buf, copy, CAP);
    p.off = off;
    p.len = len;
    assert_int_equal(vpn_esp_decap(gm[2], &p, 15201 * ms, &r), VPN_ERR_REPLAY);
    assert_int_equal(vpn_sa_get_stats(sa[2])->err[VPN_SA_ERR_TBAR], 1);
    /* And the near edge: a receiver 5 s behind accepts, 5.001 s does not. */
    vpn_sa_tbar_sync(sa[2], 0, 1010000 - 5000);
    memcpy(buf, copy, CAP);
    p.off = off;
    p.len = len;
    assert_int_equal(vpn_esp_decap(gm[2], &p, 0, &r), 0);
    vpn_sa_tbar_sync(sa[2], 0, 1010000 - 5001);
    memcpy(buf, copy, CAP);
    p.off = off;
    p.len = len;
    assert_int_equal(vpn_esp_decap(gm[2], &p, 0, &r), VPN_ERR_REPLAY);

    /* Two senders with the same sequence number still use distinct IVs. */
    make_inner(&p, buf, orig, "10.3.0.9", "10.1.0.5", 0, 60, 2);
    assert_int_equal(vpn_esp_encap(sa[1], &p, 10000 * ms), 0);
    memcpy(iv_b, vpn_pkt_data(&p) + 20 + 8, 8);
    tu_assert_hex(iv_a, 8, "0100000000000001");
    tu_assert_hex(iv_b, 8, "0200000000000001");
    assert_int_equal(vpn_esp_decap(gm[0], &p, 10000 * ms, &r), 0);

    for (int i = 0; i < 3; i++)
        vpn_sad_del(gm[i]);
    free(buf);
    free(orig);
    free(copy);
}

/* ---- hostile packets ------------------------------------------------------------- */

/* Seals a hand-made ESP payload (trailer included) with GCM-128 under the
 * link's key, as a tunnel-mode IPv4 packet; returns its length. */
static size_t forge(link *l, uint8_t *out, uint32_t spi, uint32_t seq, const uint8_t *pt,
                    size_t n)
{
    vpn_cipher *c;
    vpn_ip_hdr h;
    uint8_t aad[8], *esp = out + 20;

    assert_int_equal(vpn_cipher_new(&c, VPN_ENCR_AES_GCM_16, 128, l->ekey, 20, true), 0);
    vpn_store32(esp, spi);
    vpn_store32(esp + 4, seq);
    memset(esp + 8, 0x33, 8);
    esp[15] = (uint8_t)seq;
    memcpy(aad, esp, 8);
    memcpy(esp + 16, pt, n);
    assert_int_equal(vpn_cipher_seal(c, esp + 8, aad, 8, esp + 16, n, esp + 16 + n), 0);
    vpn_cipher_del(c);
    memset(&h, 0, sizeof h);
    h.src = tu_addr("192.0.2.1");
    h.dst = tu_addr("192.0.2.2");
    h.proto = VPN_IPPROTO_ESP;
    h.ttl = 64;
    assert_int_equal(vpn_ip_hdr_write(out, &h, 16 + n + 16), 0);
    return 20 + 16 + n + 16;
}

static int feed(link *l, uint8_t *buf, size_t n, vpn_esp_rx *r)
{
    vpn_pkt p;
    vpn_pkt_init(&p, buf, CAP, 0);
    p.len = n;
    return vpn_esp_decap(l->rx, &p, 0, r);
}

static void test_bad_trailers_and_inner(void **state)
{
    (void)state;
    uint8_t *buf = malloc(CAP), *orig = malloc(CAP), pt[512];
    link l;
    vpn_sa_config c = base_config(&l, &algs[0], VPN_ESP_TUNNEL, "192.0.2.1", "192.0.2.2");
    vpn_ts ts;
    vpn_esp_rx r;
    vpn_pkt p;
    size_t n, m;
    uint32_t seq = 1;

    memset(&ts, 0, sizeof ts);
    ts.src_lo = tu_addr("10.1.0.0");
    ts.src_hi = tu_addr("10.1.255.255");
    ts.dst_lo = tu_addr("10.2.0.0");
    ts.dst_hi = tu_addr("10.2.255.255");
    c.ts = &ts;
    c.n_ts = 1;
    link_open(&l, &c);
    n = make_inner(&p, buf, orig, "10.1.0.1", "10.2.0.1", 0, 25, 1); /* 53 bytes */

    /* A good one first (pad 1, 2, 3: 53 + 3 + 2 = 58, not /4 -> pad 1..1) */
    memcpy(pt, orig, n);
    m = n;
    {
        size_t pad = (4 - (n + 2) % 4) % 4;
        for (size_t i = 0; i < pad; i++)
            pt[m++] = (uint8_t)(i + 1);
        pt[m++] = (uint8_t)pad;
        pt[m++] = 4;
    }
    assert_int_equal(feed(&l, buf, forge(&l, buf, c.spi, seq++, pt, m), &r), 0);
    assert_memory_equal(vpn_pkt_data(&(vpn_pkt){buf, CAP, 20 + 16, n}), orig, n);

    /* Wrong padding bytes: 53 + 5 + 2 = 60, pad 1 2 9 4 5. */
    {
        uint8_t bad[512];
        size_t k = n;
        memcpy(bad, orig, n);
        bad[k++] = 1;
        bad[k++] = 2;
        bad[k++] = 9;
        bad[k++] = 4;
        bad[k++] = 5;
        bad[k++] = 5; /* pad length */
        bad[k++] = 4; /* next header */
        assert_int_equal(k % 4, 0);
        assert_int_equal(feed(&l, buf, forge(&l, buf, c.spi, seq++, bad, k), &r), VPN_ERR_MALFORMED);
        assert_int_equal(vpn_sa_get_stats(l.in)->err[VPN_SA_ERR_PAD], 1);
        bad[n + 2] = 3; /* the right pattern passes */
        assert_int_equal(feed(&l, buf, forge(&l, buf, c.spi, seq++, bad, k), &r), 0);
        /* Pad length longer than the payload. */
        memcpy(bad, orig, 2);
        bad[2] = 200;
        bad[3] = 4;
        assert_int_equal(feed(&l, buf, forge(&l, buf, c.spi, seq++, bad, 4), &r), VPN_ERR_MALFORMED);
        assert_int_equal(vpn_sa_get_stats(l.in)->err[VPN_SA_ERR_PAD], 2);
    }
    /* Next header TCP in a tunnel-mode SA. */
    pt[m - 1] = VPN_IPPROTO_TCP;
    assert_int_equal(feed(&l, buf, forge(&l, buf, c.spi, seq++, pt, m), &r), VPN_ERR_MALFORMED);
    /* Next header says IPv6 but it is IPv4. */
    pt[m - 1] = VPN_IPPROTO_IPV6;
    assert_int_equal(feed(&l, buf, forge(&l, buf, c.spi, seq++, pt, m), &r), VPN_ERR_MALFORMED);
    assert_int_equal(vpn_sa_get_stats(l.in)->err[VPN_SA_ERR_PROTO], 2);
    pt[m - 1] = VPN_IPPROTO_IPIP;
    /* Inner length claiming more than the payload holds. */
    vpn_store16(pt + 2, (uint16_t)(n + 8));
    vpn_store16(pt + 10, 0);
    assert_int_equal(feed(&l, buf, forge(&l, buf, c.spi, seq++, pt, m), &r), VPN_ERR_MALFORMED);
    assert_int_equal(vpn_sa_get_stats(l.in)->err[VPN_SA_ERR_PROTO], 3);
    vpn_store16(pt + 2, (uint16_t)n);
    /* Inner packet outside the SA's selectors (RFC 4301 5.2). */
    memcpy(pt + 16, "\x0a\x09\x00\x01", 4);
    assert_int_equal(feed(&l, buf, forge(&l, buf, c.spi, seq++, pt, m), &r), VPN_ERR_POLICY);
    assert_int_equal(vpn_sa_get_stats(l.in)->err[VPN_SA_ERR_SELECTOR], 1);
    memcpy(pt + 16, orig + 16, 4);
    /* Dummy packet (next header 59): authentic, discarded, not an error. */
    {
        uint8_t d[8] = {0xde, 0xad, 1, 2, 3, 4, 4, 59};
        d[6] = 4;
        d[2] = 1; d[3] = 2; d[4] = 3; d[5] = 4;
        assert_int_equal(feed(&l, buf, forge(&l, buf, c.spi, seq++, d, 8), &r), 0);
        assert_int_equal(r.verdict, VPN_ESP_DUMMY);
    }
    /* Unknown SPI. */
    assert_int_equal(feed(&l, buf, forge(&l, buf, 0x12345678, seq++, pt, m), &r), VPN_ERR_NOTFOUND);
    assert_int_equal(vpn_sad_get_stats(l.rx)->no_sa, 1);
    assert_string_equal(l.rx_ev.last_reason, "unknown SPI");
    /* A GCM payload that is not whole 4-byte words. */
    assert_int_equal(feed(&l, buf, forge(&l, buf, c.spi, seq++, pt, m - 1), &r), VPN_ERR_MALFORMED);
    assert_int_equal(vpn_sa_get_stats(l.in)->err[VPN_SA_ERR_TRUNC], 1);
    /* Still fine afterwards. */
    assert_int_equal(feed(&l, buf, forge(&l, buf, c.spi, seq++, pt, m), &r), 0);
    assert_int_equal(vpn_sa_get_stats(l.in)->pkts_in, 3);
    /* pad 2, proto 3, selector 1, length 1; the unknown SPI is the SAD's. */
    assert_int_equal(vpn_sa_get_stats(l.in)->recv_errors, 7);
    link_close(&l);
    free(buf);
    free(orig);
}

/* Every single-bit flip, every truncation: refused, counted, no crash. */
static void test_corruption_and_truncation(void **state)
{
    (void)state;
    uint8_t *buf = malloc(CAP), *orig = malloc(CAP), *good = malloc(CAP);
    for (size_t ai = 0; ai < sizeof algs / sizeof algs[0]; ai++) {
        for (int udp = 0; udp < 2; udp++) {
            link l;
            vpn_sa_config c = base_config(&l, &algs[ai], VPN_ESP_TUNNEL, "192.0.2.1", "192.0.2.2");
            vpn_pkt p;
            vpn_esp_rx r;
            size_t off, len, hdr = udp ? 28 : 20;
            c.udp_encap = udp;
            c.replay_window = 0; /* so that the same packet can be fed again */
            link_open(&l, &c);
            make_inner(&p, buf, orig, "10.0.0.1", "10.0.0.2", 0, 33, 1);
            assert_int_equal(vpn_esp_encap(l.out, &p, 0), 0);
            memcpy(good, buf, CAP);
            off = p.off;
            len = p.len;
            for (size_t i = hdr; i < len; i++) {
                for (int bit = 0; bit < 8; bit += 3) {
                    int rc;
                    memcpy(buf, good, CAP);
                    buf[off + i] ^= (uint8_t)(1 << bit);
                    p.off = off;
                    p.len = len;
                    rc = vpn_esp_decap(l.rx, &p, 0, &r);
                    if (rc == 0)
                        fail_msg("%s: flip at %zu accepted", algs[ai].name, i);
                }
            }
            for (size_t k = 0; k < len; k++) {
                memcpy(buf, good, CAP);
                p.off = off;
                p.len = k;
                assert_int_not_equal(vpn_esp_decap(l.rx, &p, 0, &r), 0);
            }
            /* The untouched packet still passes. */
            memcpy(buf, good, CAP);
            p.off = off;
            p.len = len;
            assert_int_equal(vpn_esp_decap(l.rx, &p, 0, &r), 0);
            assert_memory_equal(vpn_pkt_data(&p), orig, p.len);
            link_close(&l);
        }
    }
    free(buf);
    free(orig);
    free(good);
}

static void test_outbound_errors(void **state)
{
    (void)state;
    uint8_t *buf = malloc(CAP), *orig = malloc(CAP);
    link l;
    vpn_sa_config c = base_config(&l, &algs[4], VPN_ESP_TUNNEL, "192.0.2.1", "192.0.2.2");
    vpn_pkt p;
    size_t n;

    link_open(&l, &c);
    /* Not enough headroom: refused, packet untouched. */
    n = make_inner(&p, buf, orig, "10.0.0.1", "10.0.0.2", 0, 30, 1);
    vpn_pkt_init(&p, buf, CAP, 20);
    memcpy(vpn_pkt_put(&p, n), orig, n);
    assert_int_equal(vpn_esp_encap(l.out, &p, 0), VPN_ERR_NOSPACE);
    assert_int_equal(p.off, 20);
    assert_int_equal(p.len, n);
    assert_memory_equal(vpn_pkt_data(&p), orig, n);
    /* Not enough tailroom. */
    vpn_pkt_init(&p, buf, HEAD + n + 10, HEAD);
    memcpy(vpn_pkt_put(&p, n), orig, n);
    assert_int_equal(vpn_esp_encap(l.out, &p, 0), VPN_ERR_NOSPACE);
    assert_int_equal(vpn_sa_get_stats(l.out)->err[VPN_SA_ERR_NOSPACE], 2);
    /* Not an IP packet. */
    vpn_pkt_init(&p, buf, CAP, HEAD);
    memset(vpn_pkt_put(&p, 40), 0x11, 40);
    assert_int_equal(vpn_esp_encap(l.out, &p, 0), VPN_ERR_MALFORMED);
    /* Inbound-only SA. */
    make_inner(&p, buf, orig, "10.0.0.1", "10.0.0.2", 0, 30, 1);
    assert_int_equal(vpn_esp_encap(l.in, &p, 0), VPN_ERR_INVAL);
    {
        /* 3DES sends only with random IVs (the counter form is AES-only);
         * destination-only preservation sends only with an outer source */
        vpn_sa_config d = base_config(&l, &algs[sizeof algs / sizeof algs[0] - 1],
                                      VPN_ESP_TUNNEL, "192.0.2.1", "192.0.2.2");
        vpn_sa *sa;
        assert_int_equal(d.encr_id, VPN_ENCR_3DES);
        d.dir = VPN_SA_OUT;
        d.spi = 0xc0de0009;
        d.iv_mode = VPN_SA_IV_COUNTER;
        assert_int_equal(vpn_sad_add(l.tx, &d, 0, &sa), VPN_ERR_INVAL);
        d.dir = VPN_SA_IN;
        assert_int_equal(vpn_sad_add(l.tx, &d, 0, &sa), 0);
        d.spi = 0xc0de000a;
        d.dir = VPN_SA_OUT;
        d.iv_mode = VPN_SA_IV_RANDOM;
        d.mode = VPN_ESP_TUNNEL_ADDR_PRESERVE_DST;
        memset(&d.local, 0, sizeof d.local);
        assert_int_equal(vpn_sad_add(l.tx, &d, 0, &sa), VPN_ERR_INVAL);
    }
    /* Nothing was sent: sequence numbers were not consumed. */
    assert_int_equal(vpn_sa_get_stats(l.out)->seq_out, 0);
    assert_int_equal(l.tx_ev.drops, 3);
    link_close(&l);
    free(buf);
    free(orig);
}

static void test_lifetimes(void **state)
{
    (void)state;
    const uint64_t s = 1000000000ull;
    uint8_t *buf = malloc(CAP), *orig = malloc(CAP);
    link l;
    vpn_sa_config c = base_config(&l, &algs[0], VPN_ESP_TUNNEL, "192.0.2.1", "192.0.2.2");
    vpn_pkt p;
    vpn_esp_rx r;
    uint64_t rem_p, rem_t;

    /* Packets: soft at 2, hard at 3. */
    c.soft.packets = 2;
    c.hard.packets = 3;
    link_open(&l, &c);
    for (int i = 1; i <= 3; i++) {
        make_inner(&p, buf, orig, "10.0.0.1", "10.0.0.2", 0, 30, 1);
        assert_int_equal(vpn_esp_encap(l.out, &p, 0), 0);
        assert_int_equal(vpn_esp_decap(l.rx, &p, 0, &r), 0);
        assert_int_equal(l.tx_ev.soft, i >= 2);
        assert_int_equal(l.tx_ev.hard, i >= 3);
        assert_int_equal(l.rx_ev.soft, i >= 2);
    }
    assert_int_equal(l.tx_ev.hard_why, VPN_SA_LIMIT_PACKETS);
    assert_true(vpn_sa_is_expired(l.out));
    vpn_sa_get_remaining(l.out, 0, NULL, &rem_p, NULL);
    assert_int_equal(rem_p, 0);
    make_inner(&p, buf, orig, "10.0.0.1", "10.0.0.2", 0, 30, 1);
    assert_int_equal(vpn_esp_encap(l.out, &p, 0), VPN_ERR_EXPIRED);
    assert_int_equal(l.tx_ev.hard, 1); /* reported once */
    link_close(&l);

    /* Bytes: a packet that would cross the hard limit is refused. */
    c = base_config(&l, &algs[0], VPN_ESP_TUNNEL, "192.0.2.1", "192.0.2.2");
    c.soft.bytes = 100;
    c.hard.bytes = 150;
    link_open(&l, &c);
    make_inner(&p, buf, orig, "10.0.0.1", "10.0.0.2", 0, 72, 1); /* 100 bytes */
    assert_int_equal(vpn_esp_encap(l.out, &p, 0), 0);
    assert_int_equal(l.tx_ev.soft, 1);
    assert_int_equal(l.tx_ev.soft_why, VPN_SA_LIMIT_BYTES);
    make_inner(&p, buf, orig, "10.0.0.1", "10.0.0.2", 0, 72, 1);
    assert_int_equal(vpn_esp_encap(l.out, &p, 0), VPN_ERR_EXPIRED);
    assert_int_equal(l.tx_ev.hard_why, VPN_SA_LIMIT_BYTES);
    link_close(&l);

    /* Time: deadlines and ticks, SAs added at 5 s. */
    c = base_config(&l, &algs[0], VPN_ESP_TUNNEL, "192.0.2.1", "192.0.2.2");
    c.soft.time_ns = 10 * s;
    c.hard.time_ns = 20 * s;
    memset(&l.tx_ev, 0, sizeof l.tx_ev);
    tu_rng_init(&l.rng, &l.st);
    assert_int_equal(vpn_sad_new(&l.tx, &l.rng), 0);
    assert_int_equal(vpn_sad_new(&l.rx, &l.rng), 0);
    vpn_sad_set_event_cb(l.tx, on_event, &l.tx_ev);
    assert_int_equal(vpn_sad_next_deadline(l.tx), UINT64_MAX);
    c.dir = VPN_SA_OUT;
    assert_int_equal(vpn_sad_add(l.tx, &c, 5 * s, &l.out), 0);
    assert_int_equal(vpn_sad_next_deadline(l.tx), 15 * s);
    vpn_sad_timeout(l.tx, 15 * s - 1);
    assert_int_equal(l.tx_ev.soft, 0);
    vpn_sad_timeout(l.tx, 15 * s);
    assert_int_equal(l.tx_ev.soft, 1);
    assert_int_equal(l.tx_ev.soft_why, VPN_SA_LIMIT_TIME);
    assert_int_equal(vpn_sad_next_deadline(l.tx), 25 * s);
    vpn_sa_get_remaining(l.out, 20 * s, NULL, NULL, &rem_t);
    assert_int_equal(rem_t, 5 * s);
    make_inner(&p, buf, orig, "10.0.0.1", "10.0.0.2", 0, 30, 1);
    assert_int_equal(vpn_esp_encap(l.out, &p, 24 * s), 0);
    vpn_sad_timeout(l.tx, 25 * s);
    assert_int_equal(l.tx_ev.hard, 1);
    assert_int_equal(vpn_sad_next_deadline(l.tx), UINT64_MAX);
    make_inner(&p, buf, orig, "10.0.0.1", "10.0.0.2", 0, 30, 1);
    assert_int_equal(vpn_esp_encap(l.out, &p, 26 * s), VPN_ERR_EXPIRED);
    /* Packets also see the hard limit without a tick. */
    c.dir = VPN_SA_OUT;
    c.spi++;
    assert_int_equal(vpn_sad_add(l.tx, &c, 0, &l.out), 0);
    make_inner(&p, buf, orig, "10.0.0.1", "10.0.0.2", 0, 30, 1);
    assert_int_equal(vpn_esp_encap(l.out, &p, 20 * s), VPN_ERR_EXPIRED);
    assert_int_equal(l.tx_ev.hard, 2);
    link_close(&l);
    free(buf);
    free(orig);
}

static void test_sad(void **state)
{
    (void)state;
    vpn_rng rng;
    tu_rng st;
    vpn_sad *sad;
    vpn_sa *a, *b, *w, *o;
    uint8_t k[36];
    vpn_sa_config c;
    vpn_addr d1 = tu_addr("192.0.2.1"), d2 = tu_addr("192.0.2.2"), d3 = tu_addr("192.0.2.3");
    int n = 0;

    tu_rng_init(&rng, &st);
    tu_fill(k, sizeof k, 1);
    assert_int_equal(vpn_sad_new(&sad, &rng), 0);
    memset(&c, 0, sizeof c);
    c.spi = 0x1000;
    c.dir = VPN_SA_IN;
    c.mode = VPN_ESP_TUNNEL;
    c.encr_id = VPN_ENCR_AES_GCM_16;
    c.encr_key_bits = 128;
    c.encr_key = k;
    c.encr_key_len = 20;
    c.local = d1;
    c.remote = d3;
    assert_int_equal(vpn_sad_add(sad, &c, 0, &a), 0);
    assert_int_equal(vpn_sad_add(sad, &c, 0, NULL), VPN_ERR_EXISTS);
    c.local = d2;
    assert_int_equal(vpn_sad_add(sad, &c, 0, &b), 0); /* same SPI, other destination */
    c.local.family = VPN_AF_NONE;                      /* and a wildcard one */
    assert_int_equal(vpn_sad_add(sad, &c, 0, &w), 0);
    c.dir = VPN_SA_OUT;                                /* outbound SAs are not looked up */
    c.local = d1;
    c.remote = d2;
    assert_int_equal(vpn_sad_add(sad, &c, 0, &o), 0);
    assert_ptr_equal(vpn_sad_lookup(sad, 0x1000, &d1), a);
    assert_ptr_equal(vpn_sad_lookup(sad, 0x1000, &d2), b);
    assert_ptr_equal(vpn_sad_lookup(sad, 0x1000, &d3), w);
    assert_ptr_equal(vpn_sad_lookup(sad, 0x1000, NULL), w);
    assert_null(vpn_sad_lookup(sad, 0x1001, &d1));
    for (vpn_sa *s = vpn_sad_next(sad, NULL); s; s = vpn_sad_next(sad, s))
        n++;
    assert_int_equal(n, 4);
    {
        vpn_sa_handle hw = vpn_sa_get_handle(w);
        assert_int_equal(vpn_sad_remove(sad, w), 0);
        /* w is gone: only its handle may still be used (see ipsec-sad-test.c) */
        assert_int_equal(vpn_sad_remove_handle(sad, hw), VPN_ERR_NOTFOUND);
    }
    assert_null(vpn_sad_lookup(sad, 0x1000, &d3));
    assert_int_equal(vpn_sad_count(sad), 3);
    /* The config is readable, the keys are not in it. */
    assert_null(vpn_sa_get_config(a)->encr_key);
    assert_int_equal(vpn_sa_get_config(a)->spi, 0x1000);
    assert_string_equal(vpn_sa_get_cipher_info(a)->name, "AES-GCM-128 (16-octet ICV)");
    assert_null(vpn_sa_get_integ_info(a));

    /* Many SAs: the hash grows and still finds each one. */
    for (uint32_t i = 0; i < 3000; i++) {
        c.dir = VPN_SA_IN;
        c.spi = 0x20000 + i * 7919;
        c.local = d1;
        assert_int_equal(vpn_sad_add(sad, &c, 0, NULL), 0);
    }
    for (uint32_t i = 0; i < 3000; i++)
        assert_int_equal(vpn_sa_get_config(vpn_sad_lookup(sad, 0x20000 + i * 7919, &d1))->spi,
                         0x20000 + i * 7919);

    /* Configurations refused. */
    c.dir = VPN_SA_IN;
    c.spi = 255;
    assert_int_equal(vpn_sad_add(sad, &c, 0, NULL), VPN_ERR_INVAL);
    c.spi = 0x3000;
    c.integ_id = VPN_AUTH_HMAC_SHA2_256_128; /* AEAD plus integrity */
    c.integ_key = k;
    c.integ_key_len = 32;
    assert_int_equal(vpn_sad_add(sad, &c, 0, NULL), VPN_ERR_INVAL);
    c.integ_id = VPN_INTEG_NONE;
    c.integ_key = NULL;
    c.integ_key_len = 0;
    c.encr_key_len = 19; /* wrong key length */
    assert_int_equal(vpn_sad_add(sad, &c, 0, NULL), VPN_ERR_INVAL);
    c.encr_key_len = 20;
    c.encr_id = VPN_ENCR_NULL; /* NULL without integrity */
    c.encr_key_bits = 0;
    c.encr_key_len = 0;
    assert_int_equal(vpn_sad_add(sad, &c, 0, NULL), VPN_ERR_INVAL);
    c.encr_id = 99;
    assert_int_equal(vpn_sad_add(sad, &c, 0, NULL), VPN_ERR_UNSUPPORTED);
    c.encr_id = VPN_ENCR_AES_GCM_16;
    c.encr_key_bits = 128;
    c.encr_key_len = 20;
    c.dir = VPN_SA_OUT; /* tunnel outbound without endpoints */
    c.local.family = VPN_AF_NONE;
    assert_int_equal(vpn_sad_add(sad, &c, 0, NULL), VPN_ERR_INVAL);
    c.local = d1;
    c.replay_window = VPN_REPLAY_WINDOW_MAX + 1;
    assert_int_equal(vpn_sad_add(sad, &c, 0, NULL), VPN_ERR_INVAL);
    c.replay_window = 0;
    c.dscp = 64;
    assert_int_equal(vpn_sad_add(sad, &c, 0, NULL), VPN_ERR_INVAL);
    vpn_sad_del(sad);
}

static void test_natt_classify(void **state)
{
    (void)state;
    uint8_t buf[CAP];
    link l;
    vpn_sa_config c = base_config(&l, &algs[0], VPN_ESP_TUNNEL, "192.0.2.1", "192.0.2.2");
    vpn_pkt p;
    vpn_esp_rx r;
    vpn_ip_hdr h;
    static const uint8_t ike[] = {0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};

    assert_int_equal(vpn_natt_classify((const uint8_t *)"\xff", 1), VPN_NATT_KEEPALIVE);
    assert_int_equal(vpn_natt_classify((const uint8_t *)"\xfe", 1), VPN_NATT_INVALID);
    assert_int_equal(vpn_natt_classify(ike, sizeof ike), VPN_NATT_IKE);
    assert_int_equal(vpn_natt_classify(ike, 3), VPN_NATT_INVALID);
    assert_int_equal(vpn_natt_classify(ike + 4, 8), VPN_NATT_ESP);
    assert_int_equal(vpn_natt_classify(ike + 4, 7), VPN_NATT_INVALID);
    assert_int_equal(vpn_natt_keepalive_write(buf, 4), 1);
    assert_int_equal(buf[0], 0xff);

    link_open(&l, &c);
    memset(&h, 0, sizeof h);
    h.src = tu_addr("192.0.2.1");
    h.dst = tu_addr("192.0.2.2");
    h.proto = VPN_IPPROTO_UDP;
    h.ttl = 64;
    /* A keepalive through the ESP input. */
    vpn_pkt_init(&p, buf, CAP, 64);
    vpn_natt_keepalive_write(vpn_pkt_put(&p, 1), 1);
    vpn_udp_hdr_write(vpn_pkt_push(&p, 8), 4500, 4500, 1);
    vpn_ip_hdr_write(vpn_pkt_push(&p, 20), &h, 9);
    assert_int_equal(vpn_esp_decap(l.rx, &p, 0, &r), 0);
    assert_int_equal(r.verdict, VPN_ESP_KEEPALIVE);
    /* An IKE message with the non-ESP marker. */
    vpn_pkt_init(&p, buf, CAP, 64);
    memcpy(vpn_pkt_put(&p, 8), ike + 4, 8);
    assert_int_equal(vpn_natt_ike_encap(&p), 0);
    vpn_udp_hdr_write(vpn_pkt_push(&p, 8), 4500, 4500, 12);
    vpn_ip_hdr_write(vpn_pkt_push(&p, 20), &h, 20);
    assert_int_equal(vpn_esp_decap(l.rx, &p, 0, &r), 0);
    assert_int_equal(r.verdict, VPN_ESP_IKE);
    assert_int_equal(r.outer.sport, 4500);
    assert_int_equal(p.len, 8);
    assert_memory_equal(vpn_pkt_data(&p), ike + 4, 8);
    /* Other UDP is not ours. */
    vpn_pkt_init(&p, buf, CAP, 64);
    memcpy(vpn_pkt_put(&p, 8), ike + 4, 8);
    vpn_udp_hdr_write(vpn_pkt_push(&p, 8), 4500, 53, 8);
    vpn_ip_hdr_write(vpn_pkt_push(&p, 20), &h, 16);
    assert_int_equal(vpn_esp_decap(l.rx, &p, 0, &r), VPN_ERR_UNSUPPORTED);
    assert_int_equal(vpn_sad_get_stats(l.rx)->not_esp, 1);
    /* IKE decap of a message without the marker. */
    vpn_pkt_init(&p, buf, CAP, 0);
    memcpy(vpn_pkt_put(&p, 8), ike + 4, 8);
    assert_int_equal(vpn_natt_ike_decap(&p), VPN_ERR_MALFORMED);
    link_close(&l);
}

static void test_wskeys_lines(void **state)
{
    (void)state;
    link l;
    vpn_sa_config c = base_config(&l, &algs[4], VPN_ESP_TUNNEL, "192.0.2.1", "2001:db8::9");
    char line[512];
    int n;

    /* Families must agree for a tunnel: refused. */
    c.dir = VPN_SA_OUT;
    tu_rng_init(&l.rng, &l.st);
    assert_int_equal(vpn_sad_new(&l.tx, &l.rng), 0);
    assert_int_equal(vpn_sad_add(l.tx, &c, 0, NULL), VPN_ERR_INVAL);
    vpn_sad_del(l.tx);

    c = base_config(&l, &algs[4], VPN_ESP_TUNNEL, "192.0.2.1", "192.0.2.2");
    memset(l.ekey, 0xab, 16);
    memset(l.ikey, 0xcd, 32);
    c.spi = 0xcf3a6454;
    link_open(&l, &c);
    n = vpn_wskeys_esp_sa_line(l.out, VPN_SA_OUT, 0, line, sizeof line);
    assert_int_equal(n, (int)strlen(line));
    assert_string_equal(line,
        "\"IPv4\",\"192.0.2.1\",\"192.0.2.2\",\"0xcf3a6454\",\"AES-CBC [RFC3602]\","
        "\"0xabababababababababababababababab\",\"HMAC-SHA-256-128 [RFC4868]\","
        "\"0xcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd\"");
    /* The inbound SA's line names the traffic as it arrives. */
    assert_true(vpn_wskeys_esp_sa_line(l.in, VPN_SA_IN, 0, line, sizeof line) > 0);
    assert_non_null(strstr(line, "\"192.0.2.1\",\"192.0.2.2\""));
    assert_int_equal(vpn_wskeys_esp_sa_line(l.out, VPN_SA_OUT, 0, line, 40), VPN_ERR_NOSPACE);
    assert_int_equal(vpn_wskeys_esp_sa_line(l.out, 7, 0, line, sizeof line), VPN_ERR_INVAL);
    link_close(&l);

    /* AEAD: key and salt together, no authentication; IPv6. */
    c = base_config(&l, &algs[0], VPN_ESP_TUNNEL, "2001:db8::1", "2001:db8::2");
    memset(l.ekey, 0x11, 20);
    link_open(&l, &c);
    assert_true(vpn_wskeys_esp_sa_line(l.out, VPN_SA_OUT, 0, line, sizeof line) > 0);
    assert_string_equal(line, "\"IPv6\",\"2001:db8::1\",\"2001:db8::2\",\"0xc0de0001\","
                              "\"AES-GCM with 16 octet ICV [RFC4106]\","
                              "\"0x1111111111111111111111111111111111111111\",\"NULL\",\"\"");
    link_close(&l);

    /* Address-preserving group SA: wildcards, the family chosen by the caller. */
    c = base_config(&l, &algs[0], VPN_ESP_TUNNEL_ADDR_PRESERVE, NULL, NULL);
    link_open(&l, &c);
    assert_true(vpn_wskeys_esp_sa_line(l.out, VPN_SA_OUT, 6, line, sizeof line) > 0);
    assert_memory_equal(line, "\"IPv6\",\"*\",\"*\",", 14);
    assert_int_equal(vpn_wskeys_esp_sa_line(l.out, VPN_SA_OUT, 0, line, sizeof line), VPN_ERR_INVAL);
    link_close(&l);

    /* Wireshark 4.0 cannot decrypt ChaCha20-Poly1305: no line. */
    c = base_config(&l, &algs[3], VPN_ESP_TUNNEL, "192.0.2.1", "192.0.2.2");
    link_open(&l, &c);
    assert_int_equal(vpn_wskeys_esp_sa_line(l.out, VPN_SA_OUT, 0, line, sizeof line),
                     VPN_ERR_UNSUPPORTED);
    link_close(&l);
}

/* Transport mode behind IPv6 extension headers (RFC 4303 3.1.1: ESP after
 * hop-by-hop, routing and destination options). */
static void test_transport_ipv6_ext(void **state)
{
    (void)state;
    uint8_t *buf = malloc(CAP), orig[200];
    link l;
    vpn_sa_config c = base_config(&l, &algs[4], VPN_ESP_TRANSPORT, "2001:db8::1", "2001:db8::2");
    vpn_addr s = tu_addr("2001:db8::1"), d = tu_addr("2001:db8::2");
    vpn_pkt p;
    vpn_esp_rx r;
    vpn_ip_info o;
    size_t n = 40 + 8 + 8 + 20;

    memset(orig, 0, sizeof orig);
    vpn_store32(orig, 6u << 28);
    vpn_store16(orig + 4, (uint16_t)(n - 40));
    orig[6] = VPN_IPPROTO_HOPOPTS;
    orig[7] = 64;
    memcpy(orig + 8, s.b, 16);
    memcpy(orig + 24, d.b, 16);
    orig[40] = VPN_IPPROTO_UDP;   /* hop-by-hop: next UDP, 8 bytes, PadN */
    orig[42] = 1;
    orig[43] = 4;
    vpn_store16(orig + 48, 7);
    vpn_store16(orig + 50, 9);
    vpn_store16(orig + 52, 28);
    tu_fill(orig + 56, 20, 3);
    link_open(&l, &c);
    vpn_pkt_init(&p, buf, CAP, HEAD);
    memcpy(vpn_pkt_put(&p, n), orig, n);
    assert_int_equal(vpn_esp_encap(l.out, &p, 0), 0);
    assert_int_equal(vpn_ip_parse(vpn_pkt_data(&p), p.len, &o), 0);
    assert_int_equal(o.proto, VPN_IPPROTO_ESP);
    assert_int_equal(o.hdr_len, 48);      /* ESP right after the hop-by-hop header */
    assert_int_equal(vpn_pkt_data(&p)[6], VPN_IPPROTO_HOPOPTS);
    assert_int_equal(vpn_esp_decap(l.rx, &p, 0, &r), 0);
    assert_int_equal(r.next_header, VPN_IPPROTO_UDP);
    assert_int_equal(p.len, n);
    assert_memory_equal(vpn_pkt_data(&p), orig, n);
    /* A fragment cannot be protected in transport mode (RFC 4303 3.3.4). */
    orig[40] = VPN_IPPROTO_FRAGMENT;
    orig[6] = VPN_IPPROTO_FRAGMENT;
    orig[40] = VPN_IPPROTO_UDP;
    vpn_store16(orig + 42, 0x0001); /* offset 0, more fragments */
    vpn_pkt_init(&p, buf, CAP, HEAD);
    memcpy(vpn_pkt_put(&p, n), orig, n);
    assert_int_equal(vpn_esp_encap(l.out, &p, 0), VPN_ERR_UNSUPPORTED);
    link_close(&l);
    free(buf);
}

/* RFC 7296 2.23: rx.newest says the packet's sequence number is above
 * every one verified before it (what a NAT peer-follow may act on); a
 * packet that only passes the window (held back, out of order) is
 * delivered with newest false. With ESN the full 64-bit number counts,
 * across the 2^32 boundary. */
static void newest_order(bool esn)
{
    enum { N = 6 };
    static const int order[] = {1, 3, 2, 5, 4, 6};
    static const bool want[] = {true, true, false, true, false, true};
    uint8_t *store = malloc((size_t)N * CAP), *orig = malloc(CAP), *buf = malloc(CAP);
    size_t off[N + 1], len[N + 1];
    uint64_t base = esn ? 0xfffffffcull : 0;
    link l;
    vpn_sa_config c = base_config(&l, &algs[0], VPN_ESP_TUNNEL, "192.0.2.1", "192.0.2.2");
    vpn_pkt p;
    vpn_esp_rx r;

    c.replay_window = 64;
    c.esn = esn;
    link_open(&l, &c);
    /* white box, as in test_esn_rollover: start both ends near 2^32 */
    l.out->stats.seq_out = base;
    l.in->replay.top = base;
    for (int s = 1; s <= N; s++) {
        vpn_pkt q;
        make_inner(&q, store + (size_t)(s - 1) * CAP, orig, "10.0.0.1", "10.0.0.2", 0, 20, (uint32_t)s);
        assert_int_equal(vpn_esp_encap(l.out, &q, 0), 0);
        off[s] = q.off;
        len[s] = q.len;
    }
    for (int i = 0; i < N; i++) {
        int s = order[i];
        memcpy(buf, store + (size_t)(s - 1) * CAP, CAP);
        p.buf = buf;
        p.cap = CAP;
        p.off = off[s];
        p.len = len[s];
        memset(&r, 0xa5, sizeof r);
        assert_int_equal(vpn_esp_decap(l.rx, &p, 0, &r), 0);
        assert_true(r.seq == base + (uint64_t)s);
        assert_int_equal(r.newest, want[i]);
    }
    assert_true(l.in->replay.top == base + N);
    link_close(&l);
    free(store);
    free(orig);
    free(buf);
}

static void test_rx_newest(void **state)
{
    (void)state;
    newest_order(false);
    newest_order(true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_modes_and_algorithms),
        cmocka_unit_test(test_iv_modes),
        cmocka_unit_test(test_esn_rollover),
        cmocka_unit_test(test_replay_through_esp),
        cmocka_unit_test(test_dscp_ecn),
        cmocka_unit_test(test_group_sa_tbar),
        cmocka_unit_test(test_bad_trailers_and_inner),
        cmocka_unit_test(test_corruption_and_truncation),
        cmocka_unit_test(test_outbound_errors),
        cmocka_unit_test(test_lifetimes),
        cmocka_unit_test(test_sad),
        cmocka_unit_test(test_natt_classify),
        cmocka_unit_test(test_wskeys_lines),
        cmocka_unit_test(test_transport_ipv6_ext),
        cmocka_unit_test(test_rx_newest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
