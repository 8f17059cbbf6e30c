/*
 * libFuzzer target: a GET VPN node (getvpn/getvpn.h) registered in memory
 * against hostile input on every entry point. Setup (once): a key server
 * node and a member node register. The first byte of each input picks
 * where the rest goes:
 *   0: an inbound IP packet as given (crypto-map input);
 *   1: an inbound IPv4 ESP packet: the harness writes a valid IPv4 header
 *      between two hosts of the policy and the group's current SPI, then
 *      the input as the rest of ESP (past the SPI lookup, into the ICV,
 *      padding and inner-packet checks);
 *   2: an outbound IP packet as given;
 *   3: a UDP 848 datagram to the member (unicast), 4: the same to the
 *      multicast group, 5: to the key server.
 * After every input the member is still registered with a TEK, and a real
 * packet still goes out encrypted and comes back decrypted.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/rng.h"
#include "common/wire.h"
#include "crypto/crypto-ids.h"
#include "getvpn/getvpn.h"
#include "ipsec/esp.h"
#include "ipsec/ip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                  \
    do {                                                                                          \
        if (!(c))                                                                                 \
            abort();                                                                              \
    } while (0)
#define NS 1000000000ull

static vpn_drbg g_drbg;
static vpn_rng g_rng;
static vpn_sig_key *g_rsa;
static vpn_getvpn_node *g_ks, *g_gm;
static vpn_addr g_ksa, g_gma, g_mc;
static uint64_t g_now = 5 * NS;
static uint8_t g_q[64][4096];
static size_t g_ql[64];
static vpn_addr g_qsrc[64], g_qdst[64];
static unsigned g_nq;

static void on_send(void *user, size_t group, const vpn_addr *src, const vpn_addr *dst,
                    const uint8_t *dg, size_t len, const uint8_t *view, size_t vlen)
{
    (void)user;
    (void)group;
    (void)view;
    (void)vlen;
    if (g_nq < 64 && len <= 4096) {
        memcpy(g_q[g_nq], dg, len);
        g_ql[g_nq] = len;
        g_qsrc[g_nq] = *src;
        g_qdst[g_nq] = *dst;
        g_nq++;
    }
}

static void pump(void)
{
    for (int round = 0; round < 64 && g_nq; round++) {
        unsigned n = g_nq;
        static uint8_t q[64][4096];
        static size_t ql[64];
        static vpn_addr qs[64], qd[64];
        memcpy(q, g_q, sizeof q);
        memcpy(ql, g_ql, sizeof ql);
        memcpy(qs, g_qsrc, sizeof qs);
        memcpy(qd, g_qdst, sizeof qd);
        g_nq = 0;
        for (unsigned i = 0; i < n; i++) {
            vpn_getvpn_node *to = vpn_addr_eq(&qd[i], &g_ksa) ? g_ks : g_gm;
            vpn_getvpn_node_dgram_input(to, &qs[i], &qd[i], q[i], ql[i], g_now);
        }
        g_now += 1000000;
    }
    g_nq = 0;
}

static void setup(void)
{
    vpn_getvpn_group_params g;
    vpn_getvpn_params p;
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);

    CHECK(pk && vpn_sig_key_from_evp(&g_rsa, pk) == 0);
    EVP_PKEY_free(pk);
    CHECK(vpn_drbg_init(&g_drbg, "getvpn-fuzz", 11) == 0);
    vpn_rng_init_drbg(&g_rng, &g_drbg);
    vpn_addr_parse(&g_ksa, "192.0.2.1");
    vpn_addr_parse(&g_gma, "198.51.100.11");
    vpn_addr_parse(&g_mc, "239.192.1.1");

    memset(&g, 0, sizeof g);
    g.role = VPN_GETVPN_ROLE_KS;
    g.ks.name = "GETVPN";
    g.ks.group_id = 1234;
    g.ks.local = g_ksa;
    g.ks.ike.psk = (const uint8_t *)"gdoi-psk";
    g.ks.ike.psk_len = 8;
    g.ks.ike.local_id = g_ksa;
    g.ks.tek.sel.family = VPN_AF_INET;
    vpn_prefix_parse(&g.ks.tek.sel.src, "10.0.0.0/8");
    vpn_prefix_parse(&g.ks.tek.sel.dst, "10.0.0.0/8");
    g.ks.tek.encr_id = VPN_ENCR_AES_CBC;
    g.ks.tek.lifetime_s = 3600;
    g.ks.multicast = true;
    g.ks.mcast = g_mc;
    g.ks.rekey_key = g_rsa;
    memset(&p, 0, sizeof p);
    p.groups = &g;
    p.n_groups = 1;
    p.rng = &g_rng;
    p.send = on_send;
    p.now = g_now;
    CHECK(vpn_getvpn_node_new(&g_ks, &p) == 0);

    memset(&g, 0, sizeof g);
    g.role = VPN_GETVPN_ROLE_GM;
    g.gm.name = "GETVPN";
    g.gm.group_id = 1234;
    g.gm.local = g_gma;
    g.gm.ks = g_ksa;
    g.gm.ike.psk = (const uint8_t *)"gdoi-psk";
    g.gm.ike.psk_len = 8;
    g.map_seq = 10;
    CHECK(vpn_getvpn_node_new(&g_gm, &p) == 0);
    vpn_getvpn_node_timeout(g_gm, g_now);
    pump();
    CHECK(vpn_gdoi_gm_get_state(vpn_getvpn_node_gm(g_gm, 0)) == VPN_GDOI_GM_REGISTERED);
}

/* A UDP packet 10.1.0.5 -> 10.2.0.7 in buf (with headroom) as pkt. */
static void host_packet(vpn_pkt *pkt, uint8_t *buf, size_t cap)
{
    static const uint8_t ip[28] = {0x45, 0, 0, 28 + 8, 0, 1, 0x40, 0, 64, 17, 0, 0, 10, 1, 0, 5,
                                   10, 2, 0, 7, 0x13, 0x88, 0x13, 0x89, 0, 16, 0, 0};
    vpn_pkt_init(pkt, buf, cap, VPN_PKT_HEADROOM);
    memcpy(vpn_pkt_put(pkt, 28), ip, 28);
    memcpy(vpn_pkt_put(pkt, 8), "payload!", 8);
    vpn_ip4_csum_set(vpn_pkt_data(pkt));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t buf[VPN_PKT_HEADROOM + 70000 + VPN_PKT_TAILROOM];
    static int ready;
    vpn_pkt pkt;
    vpn_addr src;

    if (!ready) {
        setup();
        ready = 1;
    }
    if (size < 1 || size > 65000)
        return 0;
    vpn_addr_parse(&src, "203.0.113.9");
    switch (data[0] % 6) {
    case 0:
    case 2:
        vpn_pkt_init(&pkt, buf, sizeof buf, VPN_PKT_HEADROOM);
        memcpy(vpn_pkt_put(&pkt, size - 1), data + 1, size - 1);
        if (data[0] % 6 == 0)
            vpn_getvpn_node_input(g_gm, &pkt, g_now, NULL);
        else
            vpn_getvpn_node_output(g_gm, &pkt, g_now, NULL);
        break;
    case 1: {
        const vpn_sa *tek = vpn_gdoi_gm_tek(vpn_getvpn_node_gm(g_gm, 0));
        uint8_t *h;
        size_t total = 20 + 4 + (size - 1);
        if (total > 65535)
            return 0;
        vpn_pkt_init(&pkt, buf, sizeof buf, VPN_PKT_HEADROOM);
        h = vpn_pkt_put(&pkt, total);
        memset(h, 0, 20);
        h[0] = 0x45;
        vpn_store16(h + 2, (uint16_t)total);
        h[8] = 64;
        h[9] = VPN_IPPROTO_ESP;
        memcpy(h + 12, (const uint8_t[]){10, 1, 0, 5, 10, 2, 0, 7}, 8);
        vpn_ip4_csum_set(h);
        vpn_store32(h + 20, vpn_sa_get_config(tek)->spi);
        memcpy(h + 24, data + 1, size - 1);
        vpn_getvpn_node_input(g_gm, &pkt, g_now, NULL);
        break;
    }
    case 3:
        vpn_getvpn_node_dgram_input(g_gm, &g_ksa, &g_gma, data + 1, size - 1, g_now);
        break;
    case 4:
        vpn_getvpn_node_dgram_input(g_gm, &g_ksa, &g_mc, data + 1, size - 1, g_now);
        break;
    case 5:
        vpn_getvpn_node_dgram_input(g_ks, &src, &g_ksa, data + 1, size - 1, g_now);
        break;
    }
    pump();
    /* still a working member */
    CHECK(vpn_gdoi_gm_get_state(vpn_getvpn_node_gm(g_gm, 0)) == VPN_GDOI_GM_REGISTERED);
    host_packet(&pkt, buf, sizeof buf);
    CHECK(vpn_getvpn_node_output(g_gm, &pkt, g_now, NULL) == VPN_GETVPN_ENCRYPTED);
    CHECK(vpn_getvpn_node_input(g_gm, &pkt, g_now, NULL) == VPN_GETVPN_DECRYPTED);
    CHECK(pkt.len == 36);
    g_now += 1000000;
    return 0;
}
