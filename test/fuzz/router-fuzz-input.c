/*
 * libFuzzer target: every input verb of the router core (router.h) on one
 * router with an IKEv2 engine, a GRE/IPsec tunnel and a hand-keyed SA pair
 * on it. The first input byte picks the verb:
 *
 *   0  UDP to port 500 (IKEv2; an IKEv1 header goes to no engine)
 *   1  UDP to port 4500 (keepalive, marker + IKE, ESP in UDP, runts)
 *   2  a whole IP packet (ESP or anything) into vpn_router_ip_input
 *   3  bytes from the ESP header on into vpn_router_esp_input
 *   4  an inner packet into the tunnel (vpn_router_tunnel_output)
 *   5  time passes (the next byte, in seconds) and timers run
 *   6  UDP to port 848 (a GDOI member group is attached) and other ports
 *   7  the crypto map: a packet out of it (vpn_router_cryptomap_output),
 *      then into it (vpn_router_cryptomap_input)
 *
 * Every input must be dropped or handled; the router must stay usable (a
 * well-formed packet still goes through the tunnel afterwards).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rng.h"
#include "common/vpn-err.h"
#include "conf/conf.h"
#include "crypto/crypto-ids.h"
#include "ipsec/ip.h"
#include "router/router.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP (VPN_PKT_HEADROOM + 70000 + VPN_PKT_TAILROOM)

static const char conf_text[] =
    "hostname FUZZ\n"
    "crypto ikev2 proposal P\n"
    " encryption aes-cbc-256\n"
    " integrity sha256\n"
    " group 19\n"
    "crypto ikev2 policy POL\n"
    " proposal P\n"
    "crypto ikev2 keyring KR\n"
    " peer PEER\n"
    "  address 192.0.2.2\n"
    "  pre-shared-key fuzz-key\n"
    "crypto ikev2 profile PROF\n"
    " match identity remote address 192.0.2.2 255.255.255.255\n"
    " authentication local pre-share\n"
    " authentication remote pre-share\n"
    " keyring local KR\n"
    " dpd 10 2 on-demand\n"
    "crypto ipsec transform-set TS esp-gcm 256\n"
    " mode transport\n"
    "crypto ipsec profile IPP\n"
    " set transform-set TS\n"
    " set ikev2-profile PROF\n"
    " set security-association lifetime kilobytes 2560\n";

static vpn_router *router;
static vpn_conf *conf;
static vpn_drbg drbg;
static uint64_t now = 1000000000000ull;
static uint8_t buf[CAP];

static void send_udp(void *u, const vpn_ikev2_dgram *d)
{
    (void)u;
    (void)d;
}

static bool send_esp(void *u, const vpn_router_esp_out *o)
{
    (void)u;
    if (o->len <= o->l4_off)
        abort(); /* the router handed out a packet without its ESP */
    return true;
}

static bool deliver(void *u, uint32_t t, const uint8_t *d, size_t l)
{
    (void)u;
    (void)t;
    (void)d;
    (void)l;
    return true;
}

static void add_sa(unsigned dir, uint32_t spi)
{
    static const uint8_t key[36] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
                                    19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36};
    vpn_sa_config c;

    memset(&c, 0, sizeof c);
    c.spi = spi;
    c.dir = dir;
    c.mode = VPN_ESP_TRANSPORT;
    c.encr_id = VPN_ENCR_AES_GCM_16;
    c.encr_key_bits = 256;
    c.encr_key = key;
    c.encr_key_len = sizeof key;
    c.replay_window = 64;
    vpn_addr_parse(&c.local, dir == VPN_SA_IN ? "192.0.2.1" : "192.0.2.1");
    vpn_addr_parse(&c.remote, "192.0.2.2");
    c.soft.bytes = 1u << 20;
    c.hard.bytes = 2u << 20;
    if (vpn_router_sa_add(router, now, 0, &c, NULL) != 0)
        abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    vpn_router_params p;
    vpn_router_tunnel_config tc;
    vpn_conf_error err;
    uint32_t id;

    (void)argc;
    (void)argv;
    if (vpn_conf_parse(conf_text, strlen(conf_text), &conf, &err) != 0 || vpn_drbg_init(&drbg, "fuzz", 4) != 0)
        abort();
    vpn_router_params_init(&p);
    p.conf = conf;
    vpn_rng_init_drbg(&p.rng, &drbg);
    p.send_udp = send_udp;
    p.send_esp = send_esp;
    p.deliver = deliver;
    if (vpn_router_new(&router, &p) != 0)
        abort();
    memset(&tc, 0, sizeof tc);
    tc.mode = VPN_ROUTER_TUNNEL_GRE_IPSEC;
    vpn_addr_parse(&tc.src, "192.0.2.1");
    vpn_addr_parse(&tc.dst, "192.0.2.2");
    tc.ipsec_profile = "IPP";
    tc.initiate = true;
    if (vpn_router_tunnel_add(router, &tc, &id) != 0 || id != 0)
        abort();
    add_sa(VPN_SA_IN, 0x1001);
    add_sa(VPN_SA_OUT, 0x2002);
    {
        /* GET VPN: a member group registering with 192.0.2.9 (its datagrams go nowhere) */
        vpn_getvpn_group_params g;
        memset(&g, 0, sizeof g);
        g.role = VPN_GETVPN_ROLE_GM;
        g.gm.name = "FUZZ";
        g.gm.group_id = 1234;
        vpn_addr_parse(&g.gm.local, "192.0.2.1");
        vpn_addr_parse(&g.gm.ks, "192.0.2.9");
        g.gm.ike.psk = (const uint8_t *)"fuzz-psk";
        g.gm.ike.psk_len = 8;
        g.map_seq = 10;
        g.start_ns = now;
        if (vpn_router_getvpn_attach(router, now, &g, 1) != 0)
            abort();
    }
    return 0;
}

static void load(vpn_pkt *pkt, const uint8_t *d, size_t n)
{
    if (n > 70000)
        n = 70000;
    vpn_pkt_init(pkt, buf, sizeof buf, VPN_PKT_HEADROOM);
    memcpy(vpn_pkt_put(pkt, n), d, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vpn_ikev2_endpoint local, remote;
    vpn_esp_outer outer;
    vpn_pkt pkt;
    vpn_router_tunnel_info ti;
    vpn_router_drop res = VPN_ROUTER_DROP_NONE;

    if (size < 1)
        return 0;
    now += 1000000;
    memset(&local, 0, sizeof local);
    memset(&remote, 0, sizeof remote);
    vpn_addr_parse(&local.addr, "192.0.2.1");
    vpn_addr_parse(&remote.addr, "192.0.2.2");
    remote.port = 500;
    load(&pkt, data + 1, size - 1);
    switch (data[0] % 8) {
    case 0:
        local.port = 500;
        res = vpn_router_udp_input(router, now, &local, &remote, &pkt);
        break;
    case 1:
        local.port = remote.port = 4500;
        res = vpn_router_udp_input(router, now, &local, &remote, &pkt);
        break;
    case 2:
        res = vpn_router_ip_input(router, now, &pkt);
        break;
    case 3:
        memset(&outer, 0, sizeof outer);
        outer.src = remote.addr;
        outer.dst = local.addr;
        res = vpn_router_esp_input(router, now, &pkt, &outer);
        break;
    case 4:
        res = vpn_router_tunnel_output(router, now, 0, &pkt);
        break;
    case 5:
        now += (uint64_t)(size > 1 ? data[1] : 1) * 1000000000ull;
        vpn_router_timeout(router, now);
        break;
    case 7: {
        bool enc = false, dec = false;
        res = vpn_router_cryptomap_output(router, now, &pkt, &enc);
        if (res == VPN_ROUTER_DROP_NONE)
            res = vpn_router_cryptomap_input(router, now, &pkt, &dec);
        break;
    }
    default:
        local.port = (uint16_t)(size > 2 ? data[1] << 8 | data[2] : 848);
        if (local.port == 500 || local.port == 4500)
            local.port = 848;
        res = vpn_router_udp_input(router, now, &local, &remote, &pkt);
        break;
    }
    if ((unsigned)res >= VPN_ROUTER_DROP_COUNT || res == VPN_ROUTER_DROP_ARGS)
        abort(); /* a reason out of range, or our own arguments refused */
    if (vpn_router_next_deadline(router) < now && vpn_router_timeout(router, now) != 0)
        abort();
    if (vpn_router_tunnel_get(router, 0, &ti) != 0)
        abort();
    return 0;
}
