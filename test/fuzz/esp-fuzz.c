/*
 * libFuzzer target: inbound ESP, ESP-in-UDP and GRE against fixed SAs and
 * tunnels. The first input byte picks the path:
 *
 *   0  an IP packet into vpn_esp_decap (ESP, UDP 4500, anything)
 *   1  [flags] and bytes from the ESP header on into vpn_esp_decap_payload
 *   2  sealed: [SA index][seq 4][plaintext...] is encrypted and
 *      authenticated here with that SA's keys, so the fuzzer reaches what
 *      only authentic packets reach: trailer, padding, inner packet,
 *      selectors, TBAR
 *   3  an IP packet into a point-to-point and a multipoint GRE tunnel
 *   4  a UDP payload into the RFC 3948 classifier and IKE marker strip
 *
 * Replay windows are reset before each input so that runs repeat.
 * VPN_FUZZ_WRITE_SEEDS=<dir> makes the target write its seed corpus (valid
 * packets for every path) into <dir> and exit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "common/wire.h"
#include "crypto/cipher.h"
#include "crypto/integ.h"
#include "gre/gre.h"
#include "ipsec/esp.h"
#include "ipsec/ip.h"
#include "ipsec/natt.h"
#include "ipsec/sa-priv.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP 70000
#define HEAD 256
#define NSA 4

typedef struct fz_sa {
    uint32_t spi;
    vpn_esp_mode mode;
    uint16_t encr, bits, integ;
    const char *local, *remote;
    bool esn, group, udp;
    uint32_t window, tbar_ms;
} fz_sa;

static const fz_sa sas[NSA] = {
    {0x1001, VPN_ESP_TUNNEL, VPN_ENCR_AES_GCM_16, 128, VPN_INTEG_NONE, "192.0.2.2",
     "192.0.2.1", false, false, false, 64, 0},
    {0x1002, VPN_ESP_TRANSPORT, VPN_ENCR_AES_CBC, 128, VPN_AUTH_HMAC_SHA2_256_128, "192.0.2.2",
     "192.0.2.1", true, false, true, 1024, 0},
    {0x1003, VPN_ESP_TUNNEL_ADDR_PRESERVE, VPN_ENCR_AES_GCM_16, 128, VPN_INTEG_NONE, NULL, NULL,
     false, true, false, 0, 2000},
    {0x1004, VPN_ESP_TUNNEL, VPN_ENCR_CHACHA20_POLY1305, 0, VPN_INTEG_NONE, "2001:db8::2",
     "2001:db8::1", false, false, false, 4096, 0},
};

static vpn_sad *g_rx, *g_tx;
static vpn_sa *g_in[NSA], *g_out[NSA];
static uint8_t g_ekey[NSA][36], g_ikey[NSA][32];
static uint8_t *g_buf;
static vpn_ts g_ts;
static uint64_t g_drbg_ctr;

static int fill(void *ctx, uint8_t *out, size_t len)
{
    (void)ctx;
    for (size_t i = 0; i < len; i++)
        out[i] = (uint8_t)(++g_drbg_ctr * 131);
    return 0;
}

static vpn_addr addr(const char *s)
{
    vpn_addr a;
    memset(&a, 0, sizeof a);
    if (s && vpn_addr_parse(&a, s) != 0)
        abort();
    return a;
}

static void setup(void)
{
    static vpn_rng rng = {fill, NULL};

    if (g_rx)
        return;
    g_buf = malloc(CAP);
    if (!g_buf || vpn_sad_new(&g_rx, &rng) || vpn_sad_new(&g_tx, &rng))
        abort();
    memset(&g_ts, 0, sizeof g_ts);
    g_ts.src_lo = addr("10.0.0.0");
    g_ts.src_hi = addr("10.255.255.255");
    for (int i = 0; i < NSA; i++) {
        const vpn_cipher_info *ci;
        vpn_sa_config c;
        if (vpn_cipher_lookup(sas[i].encr, sas[i].bits, &ci))
            abort();
        for (int k = 0; k < 36; k++)
            g_ekey[i][k] = (uint8_t)(i * 16 + k);
        for (int k = 0; k < 32; k++)
            g_ikey[i][k] = (uint8_t)(0x80 + i * 16 + k);
        memset(&c, 0, sizeof c);
        c.spi = sas[i].spi;
        c.mode = sas[i].mode;
        c.group = sas[i].group;
        c.encr_id = sas[i].encr;
        c.encr_key_bits = sas[i].bits;
        c.encr_key = g_ekey[i];
        c.encr_key_len = ci->key_len;
        c.integ_id = sas[i].integ;
        c.integ_key = sas[i].integ ? g_ikey[i] : NULL;
        c.integ_key_len = sas[i].integ ? 32 : 0;
        c.esn = sas[i].esn;
        c.udp_encap = sas[i].udp;
        c.replay_window = sas[i].window;
        c.tbar_window_ms = sas[i].tbar_ms;
        c.sender_id_bits = sas[i].group ? 8 : 0;
        c.sender_id = sas[i].group ? 1 : 0;
        c.dscp = VPN_SA_DSCP_COPY;
        c.local = addr(sas[i].local);
        c.remote = addr(sas[i].remote);
        if (i == 0) {
            c.ts = &g_ts;
            c.n_ts = 1;
        }
        c.dir = VPN_SA_IN;
        if (vpn_sad_add(g_rx, &c, 0, &g_in[i]))
            abort();
        /* The sending twin, for seeds and sealed inputs. */
        c.dir = VPN_SA_OUT;
        c.local = addr(sas[i].remote);
        c.remote = addr(sas[i].local);
        if (vpn_sad_add(g_tx, &c, 0, &g_out[i]))
            abort();
    }
}

static void reset_windows(void)
{
    for (int i = 0; i < NSA; i++) {
        vpn_replay *r = &g_in[i]->replay;
        memset(r->bits, 0, ((size_t)r->mask + 1) * sizeof *r->bits);
        r->top = 0;
        vpn_tbar_sync(&g_in[i]->tbar, 0, 1000000);
        vpn_tbar_sync(&g_out[i]->tbar, 0, 1000000);
    }
}

static bool g_verbose;

/* VPN_FUZZ_VERBOSE=1 prints each input's outcome (to check the seeds). */
static void report(int path, int rc, const vpn_esp_rx *rx)
{
    if (g_verbose)
        fprintf(stderr, "path %d: rc %d (%s) verdict %d\n", path, rc, vpn_strerror(rc),
                rc == 0 && rx ? (int)rx->verdict : -1);
}

static void check_out(const vpn_pkt *p)
{
    if (p->off + p->len > p->cap)
        abort();
}

/* Path 2: ESP around a chosen plaintext with SA i's keys (the sender's
 * view of the trailer is the fuzzer's business). Returns the IP packet
 * length written at g_buf + HEAD. */
static size_t seal(int i, uint32_t seq, const uint8_t *pt, size_t n)
{
    const vpn_sa *sa = g_out[i];
    uint8_t *ip = g_buf + HEAD;
    uint8_t fam = sas[i].local ? addr(sas[i].local).family : 4;
    size_t hl = fam == 6 ? 40 : 20, ivl = sa->iv_len, icvl = sa->icv_len;
    uint8_t *esp = ip + hl, *payload = esp + 8 + ivl, *icv = payload + n;
    vpn_ip_hdr h;
    int rc = 0;

    if (n > 60000)
        return 0;
    /* Block ciphers need whole blocks; round the plaintext down. */
    if (!sa->ci->aead && sa->blk > 4)
        n -= n % sa->blk;
    icv = payload + n;
    vpn_store32(esp, sa->cfg.spi);
    vpn_store32(esp + 4, seq);
    memset(esp + 8, 0x5c, ivl);
    memcpy(payload, pt, n);
    if (sa->ci->aead) {
        uint8_t aad[8];
        memcpy(aad, esp, 8);
        rc = vpn_cipher_seal(sa->enc, esp + 8, aad, 8, payload, n, icv);
    } else {
        vpn_iov iov[2];
        uint8_t hi[4] = {0, 0, 0, 0};
        rc = vpn_cipher_encrypt(sa->enc, esp + 8, payload, n);
        iov[0].p = esp;
        iov[0].len = 8 + ivl + n;
        iov[1].p = hi;
        iov[1].len = 4;
        if (!rc)
            rc = vpn_integ_compute(sa->integ, iov, sa->cfg.esn ? 2 : 1, icv);
    }
    if (rc)
        abort();
    memset(&h, 0, sizeof h);
    h.src = addr(fam == 6 ? "2001:db8::1" : "192.0.2.1");
    h.dst = addr(fam == 6 ? "2001:db8::2" : "192.0.2.2");
    h.proto = VPN_IPPROTO_ESP;
    h.ttl = 64;
    if (vpn_ip_hdr_write(ip, &h, 8 + ivl + n + icvl))
        return 0;
    return hl + 8 + ivl + n + icvl;
}

static void run_gre(const uint8_t *d, size_t n)
{
    vpn_gre_tunnel_config c;
    vpn_gre_tunnel *p2p, *mp;
    vpn_gre_rx rx;
    vpn_pkt p;
    vpn_addr peer = addr("192.0.2.1");

    memset(&c, 0, sizeof c);
    c.local = addr("192.0.2.2");
    c.remote = peer;
    c.has_key = true;
    c.key = 7;
    c.seq = true;
    c.tos = VPN_GRE_TOS_COPY;
    if (vpn_gre_tunnel_new(&p2p, &c))
        abort();
    c.remote.family = VPN_AF_NONE;
    c.csum = true;
    if (vpn_gre_tunnel_new(&mp, &c) || vpn_gre_peer_add(mp, &peer, NULL))
        abort();
    for (int t = 0; t < 2; t++) {
        /* Twice: the second sees the first's sequence state. */
        for (int k = 0; k < 2; k++) {
            memcpy(g_buf + HEAD, d, n);
            vpn_pkt_init(&p, g_buf, CAP, HEAD);
            p.len = n;
            int rc = vpn_gre_tunnel_decap(t ? mp : p2p, &p, &rx);
            report(3, rc, NULL);
            if (rc == 0)
                check_out(&p);
        }
    }
    vpn_gre_tunnel_del(p2p);
    vpn_gre_tunnel_del(mp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vpn_pkt p;
    vpn_esp_rx rx;
    const uint8_t *d;
    size_t n;
    int rc;

    setup();
    if (size < 1 || size > 65536)
        return 0;
    d = data + 1;
    n = size - 1;
    reset_windows();
    switch (data[0] % 5) {
    case 0:
        memcpy(g_buf + HEAD, d, n);
        vpn_pkt_init(&p, g_buf, CAP, HEAD);
        p.len = n;
        rc = vpn_esp_decap(g_rx, &p, 5000000000ull, &rx);
        report(0, rc, &rx);
        if (rc == 0)
            check_out(&p);
        break;
    case 1: {
        vpn_esp_outer o;
        if (n < 1)
            return 0;
        /* [flags: bit 0 IPv6 outer, bit 1 UDP, the rest outer TOS] [ESP...] */
        memset(&o, 0, sizeof o);
        o.src = addr(d[0] & 1 ? "2001:db8::1" : "192.0.2.1");
        o.dst = addr(d[0] & 1 ? "2001:db8::2" : "192.0.2.2");
        o.udp = (d[0] & 2) != 0;
        o.tos = (uint8_t)(d[0] & 0xfc);
        d++;
        n--;
        memcpy(g_buf + HEAD, d, n);
        vpn_pkt_init(&p, g_buf, CAP, HEAD);
        p.len = n;
        rc = vpn_esp_decap_payload(g_rx, &p, &o, 5000000000ull, &rx);
        report(1, rc, &rx);
        if (rc == 0)
            check_out(&p);
        break;
    }
    case 2: {
        size_t len;
        if (n < 5)
            return 0;
        len = seal(d[0] % NSA, vpn_load32(d + 1), d + 5, n - 5);
        if (!len)
            return 0;
        vpn_pkt_init(&p, g_buf, CAP, HEAD);
        p.len = len;
        rc = vpn_esp_decap(g_rx, &p, 5000000000ull, &rx);
        report(2, rc, &rx);
        if (rc == 0)
            check_out(&p);
        break;
    }
    case 3:
        run_gre(d, n);
        break;
    default:
        memcpy(g_buf + HEAD, d, n);
        vpn_pkt_init(&p, g_buf, CAP, HEAD);
        p.len = n;
        if (vpn_natt_classify(d, n) == VPN_NATT_IKE && vpn_natt_ike_decap(&p) == 0)
            check_out(&p);
        break;
    }
    return 0;
}

/* ---- seeds ----------------------------------------------------------------------- */

static void write_seed2(const char *dir, const char *name, uint8_t kind, int flags,
                        const uint8_t *p, size_t n)
{
    char path[1024];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (!f)
        abort();
    fputc(kind, f);
    if (flags >= 0)
        fputc(flags, f);
    fwrite(p, 1, n, f);
    fclose(f);
}

static void write_seed(const char *dir, const char *name, uint8_t kind, const uint8_t *p,
                       size_t n)
{
    write_seed2(dir, name, kind, -1, p, n);
}

/* A UDP packet from 10.1.0.1 (inside SA 0's selectors). */
static size_t inner_udp(uint8_t *out, bool v6, size_t payload)
{
    vpn_ip_hdr h;
    size_t hl = v6 ? 40 : 20;
    memset(&h, 0, sizeof h);
    h.src = addr(v6 ? "fd00::1" : "10.1.0.1");
    h.dst = addr(v6 ? "fd00::2" : "10.2.0.1");
    h.proto = VPN_IPPROTO_UDP;
    h.ttl = 64;
    h.tos = 0xb8;
    vpn_ip_hdr_write(out, &h, 8 + payload);
    vpn_store16(out + hl, 1000);
    vpn_store16(out + hl + 2, 2000);
    vpn_store16(out + hl + 4, (uint16_t)(8 + payload));
    vpn_store16(out + hl + 6, 0);
    for (size_t i = 0; i < payload; i++)
        out[hl + 8 + i] = (uint8_t)i;
    return hl + 8 + payload;
}

static void write_seeds(const char *dir)
{
    uint8_t pkt[2048];
    vpn_pkt p;
    char name[64];

    reset_windows();
    for (int i = 0; i < NSA; i++) {
        size_t n;
        if (sas[i].mode == VPN_ESP_TRANSPORT) {
            vpn_ip_hdr h;
            memset(&h, 0, sizeof h);
            h.src = addr(sas[i].remote);
            h.dst = addr(sas[i].local);
            h.proto = VPN_IPPROTO_UDP;
            h.ttl = 64;
            vpn_ip_hdr_write(pkt, &h, 16);
            memset(pkt + 20, 7, 16);
            n = 36;
        } else {
            n = inner_udp(pkt, sas[i].local && strchr(sas[i].local, ':'), 40);
        }
        memcpy(g_buf + HEAD, pkt, n);
        vpn_pkt_init(&p, g_buf, CAP, HEAD);
        p.len = n;
        if (vpn_esp_encap(g_out[i], &p, 5000000000ull))
            abort();
        snprintf(name, sizeof name, "ip-sa%d", i);
        write_seed(dir, name, 0, vpn_pkt_data(&p), p.len);
        /* The same from the ESP header on (path 1): skip IP and UDP. */
        {
            vpn_ip_info ip;
            size_t skip;
            vpn_ip_parse(vpn_pkt_data(&p), p.len, &ip);
            skip = ip.hdr_len + (ip.proto == VPN_IPPROTO_UDP ? 8 : 0);
            snprintf(name, sizeof name, "esp-sa%d", i);
            write_seed2(dir, name, 1, (ip.version == 6) | (ip.proto == VPN_IPPROTO_UDP) << 1,
                        vpn_pkt_data(&p) + skip, p.len - skip);
        }
    }
    /* Sealed plaintexts: SA index, seq, then payload + trailer. */
    for (int i = 0; i < NSA; i++) {
        uint8_t s[2048];
        size_t n = 5, k;
        bool v6 = sas[i].local && strchr(sas[i].local, ':');
        s[0] = (uint8_t)i;
        vpn_store32(s + 1, 9);
        k = inner_udp(s + n, v6, 27);
        n += k;
        if (sas[i].tbar_ms) {
            vpn_tbar_block_write(s + n, 1000000 + 5000);
            n += VPN_TBAR_BLOCK_LEN;
        }
        {
            size_t blk = g_out[i]->blk, pad = (blk - (n - 5 + 2) % blk) % blk;
            for (size_t j = 0; j < pad; j++)
                s[n++] = (uint8_t)(j + 1);
            s[n++] = (uint8_t)pad;
            s[n++] = sas[i].mode == VPN_ESP_TRANSPORT ? VPN_IPPROTO_UDP
                     : v6 ? VPN_IPPROTO_IPV6 : VPN_IPPROTO_IPIP;
        }
        snprintf(name, sizeof name, "sealed-sa%d", i);
        write_seed(dir, name, 2, s, n);
    }
    /* GRE: key 7, sequence 0, IPv4 inside, from the p2p peer. */
    {
        vpn_gre_tunnel_config c;
        vpn_gre_tunnel *t;
        size_t n = inner_udp(pkt, false, 30);
        memset(&c, 0, sizeof c);
        c.local = addr("192.0.2.1");
        c.remote = addr("192.0.2.2");
        c.has_key = true;
        c.key = 7;
        c.seq = true;
        c.csum = true;
        c.tos = VPN_GRE_TOS_COPY;
        if (vpn_gre_tunnel_new(&t, &c))
            abort();
        memcpy(g_buf + HEAD, pkt, n);
        vpn_pkt_init(&p, g_buf, CAP, HEAD);
        p.len = n;
        vpn_gre_tunnel_encap(t, NULL, &p, VPN_GRE_PROTO_IPV4);
        write_seed(dir, "gre-ipv4", 3, vpn_pkt_data(&p), p.len);
        vpn_gre_tunnel_del(t);
    }
    write_seed(dir, "natt-keepalive", 4, (const uint8_t *)"\xff", 1);
    write_seed(dir, "natt-ike", 4, (const uint8_t *)"\0\0\0\0\x11\x22\x33\x44\x55\x66\x77\x88", 12);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *dir = getenv("VPN_FUZZ_WRITE_SEEDS");
    (void)argc;
    (void)argv;
    g_verbose = getenv("VPN_FUZZ_VERBOSE") != NULL;
    setup();
    if (dir) {
        write_seeds(dir);
        exit(0);
    }
    return 0;
}
