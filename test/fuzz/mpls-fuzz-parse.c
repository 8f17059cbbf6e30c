/*
 * libFuzzer target: the MPLS label stack parser and the forwarding paths
 * behind it, on a small provider built by vpn_mpls_plan_install (PE1 - P1 -
 * PE2, one VRF, a multicast route). The first input byte picks the path:
 *
 *   0  bytes into vpn_mpls_stack_parse (invariants checked on success)
 *   1  a labelled frame into PE2 from the core (egress: VPN labels)
 *   2  a labelled frame into P1 (swap, PHP)
 *   3  an IPv4 packet into PE1 from its CE (ingress, multicast)
 *   4  a frame into PE1 with the EtherType from the next two bytes, on
 *      its CE interface if the first byte has its top bit set, else core
 *
 * Every packet the routers send is checked to be inside the work buffer's
 * bounds and, when labelled, to parse. VPN_FUZZ_WRITE_SEEDS=<dir> writes a
 * seed corpus (valid frames for every path) into <dir> and exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "ipsec/ip.h"
#include "mpls/mpls.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MTU 2000
enum { R_PE1, R_P1, R_PE2, NR };

static vpn_mpls_router *g_r[NR];
static uint8_t g_sink;

static void fz_emit(void *ctx, int out_if, const vpn_addr *nh, uint16_t et, const uint8_t *d, size_t len)
{
    (void)ctx;
    (void)out_if;
    (void)nh;
    if (len > MTU + VPN_MPLS_HEADROOM)
        abort();
    /* Touch every byte so ASan sees any overrun. */
    for (size_t i = 0; i < len; i++)
        g_sink ^= d[i];
    if (et == VPN_MPLS_ETHERTYPE) {
        vpn_mpls_stack st;
        if (vpn_mpls_stack_parse(d, len, &st, NULL) != 0)
            abort(); /* we never send a stack we could not read back */
    } else if (et != VPN_MPLS_ETHERTYPE_IPV4) {
        abort();
    }
}

static vpn_addr a4(const char *s)
{
    vpn_addr a;
    if (vpn_addr_parse(&a, s))
        abort();
    return a;
}

static void setup(void)
{
    static const char *lo[NR] = { "10.255.0.1", "10.255.0.2", "10.255.0.3" };
    static vpn_prefix p1, p2;
    static vpn_mpls_plan_link links[2];
    static vpn_mpls_plan_site sites[2];
    static const size_t subs[2] = { 0, 1 };
    vpn_mpls_plan_mroute m;
    vpn_mpls_plan plan;
    for (size_t i = 0; i < NR; i++) {
        vpn_mpls_router_params p;
        memset(&p, 0, sizeof p);
        p.name = lo[i];
        p.loopback = a4(lo[i]);
        p.mtu = MTU;
        p.emit = fz_emit;
        if (vpn_mpls_router_new(&g_r[i], &p))
            abort();
    }
    links[0] = (vpn_mpls_plan_link){ R_PE1, R_P1, 1, 1, a4("10.0.0.1"), a4("10.0.0.2") };
    links[1] = (vpn_mpls_plan_link){ R_P1, R_PE2, 2, 1, a4("10.0.1.1"), a4("10.0.1.2") };
    if (vpn_mpls_router_add_if(g_r[R_PE1], 1, "Gi0/1", VPN_MPLS_IF_CORE, NULL) ||
        vpn_mpls_router_add_if(g_r[R_P1], 1, "Gi0/1", VPN_MPLS_IF_CORE, NULL) ||
        vpn_mpls_router_add_if(g_r[R_P1], 2, "Gi0/2", VPN_MPLS_IF_CORE, NULL) ||
        vpn_mpls_router_add_if(g_r[R_PE2], 1, "Gi0/1", VPN_MPLS_IF_CORE, NULL) ||
        vpn_mpls_router_add_if(g_r[R_PE1], 10, "Gi1/0", VPN_MPLS_IF_CE, "A") ||
        vpn_mpls_router_add_if(g_r[R_PE2], 10, "Gi1/0", VPN_MPLS_IF_CE, "A"))
        abort();
    if (vpn_prefix_parse(&p1, "10.1.0.0/16") || vpn_prefix_parse(&p2, "10.2.0.0/16"))
        abort();
    sites[0] = (vpn_mpls_plan_site){ R_PE1, "A", 10, a4("192.168.1.2"), &p1, 1 };
    sites[1] = (vpn_mpls_plan_site){ R_PE2, "A", 10, a4("192.168.2.2"), &p2, 1 };
    memset(&m, 0, sizeof m);
    m.vrf = "A";
    if (vpn_prefix_parse(&m.group, "239.0.0.0/8") || vpn_prefix_parse(&m.source, "0.0.0.0/0"))
        abort();
    m.sites = subs;
    m.n_sites = 2;
    memset(&plan, 0, sizeof plan);
    plan.routers = g_r;
    plan.n_routers = NR;
    plan.links = links;
    plan.n_links = 2;
    plan.sites = sites;
    plan.n_sites = 2;
    plan.mroutes = &m;
    plan.n_mroutes = 1;
    plan.php = true;
    if (vpn_mpls_plan_install(&plan))
        abort();
}

static void check_stack(const uint8_t *d, size_t n)
{
    vpn_mpls_stack st;
    size_t hlen = 0;
    int rc = vpn_mpls_stack_parse(d, n, &st, &hlen);
    if (rc == 0) {
        if (st.depth == 0 || st.depth > VPN_MPLS_STACK_MAX || hlen != st.depth * 4 || hlen > n ||
            !st.e[st.depth - 1].s)
            abort();
        for (size_t i = 0; i + 1 < st.depth; i++)
            if (st.e[i].s)
                abort();
    } else if (st.depth != 0 || rc >= 0) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *d = data + 1;
    size_t n = size - 1;
    switch ((data[0] & 0x7f) % 5) {
    case 0:
        check_stack(d, n);
        break;
    case 1:
        (void)vpn_mpls_router_input(g_r[R_PE2], 1, VPN_MPLS_ETHERTYPE, d, n);
        break;
    case 2:
        (void)vpn_mpls_router_input(g_r[R_P1], 1 + (n & 1), VPN_MPLS_ETHERTYPE, d, n);
        break;
    case 3:
        (void)vpn_mpls_router_input(g_r[R_PE1], 10, VPN_MPLS_ETHERTYPE_IPV4, d, n);
        break;
    case 4:
        if (n >= 2)
            (void)vpn_mpls_router_input(g_r[R_PE1], data[0] & 0x80 ? 10 : 1, vpn_load16(d), d + 2, n - 2);
        break;
    }
    return 0;
}

/* ---- seeds ------------------------------------------------------------------ */

static size_t ip_udp(uint8_t *p, const char *src, const char *dst, uint8_t tos)
{
    vpn_ip_hdr h;
    memset(&h, 0, sizeof h);
    h.src = a4(src);
    h.dst = a4(dst);
    h.proto = VPN_IPPROTO_UDP;
    h.tos = tos;
    h.ttl = 64;
    if (vpn_ip_hdr_write(p, &h, 16))
        abort();
    memset(p + 20, 0, 16);
    vpn_store16(p + 20, 1000);
    vpn_store16(p + 22, 2000);
    vpn_store16(p + 24, 16);
    return 36;
}

static void write_seed(const char *dir, const char *name, uint8_t kind, const uint8_t *p, size_t n)
{
    char path[512];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (!f || fputc(kind, f) == EOF || fwrite(p, 1, n, f) != n || fclose(f))
        abort();
}

static uint32_t label_of(vpn_mpls_router *r, vpn_mpls_op op)
{
    for (size_t i = 0; i < vpn_mpls_lfib_count(r); i++)
        if (vpn_mpls_lfib_at(r, i)->op == op)
            return vpn_mpls_lfib_at(r, i)->in_label;
    abort();
}

static void write_seeds(const char *dir)
{
    uint8_t b[256];
    size_t n;
    /* Stacks: one and two labels, and a bottomless one. */
    vpn_store32(b, 0x00011a3f);
    vpn_store32(b + 4, 0x00018b3f);
    write_seed(dir, "stack-two", 0, b, 8);
    write_seed(dir, "stack-one", 0, b + 4, 4);
    write_seed(dir, "stack-open", 0, b, 4);
    /* Egress: the VPN label over IPv4, and the aggregate label over multicast. */
    vpn_store32(b, label_of(g_r[R_PE2], VPN_MPLS_OP_POP_VRF) << 12 | 0x1a3f);
    n = ip_udp(b + 4, "10.1.0.1", "10.2.0.1", 0xb8);
    write_seed(dir, "pe-vpn-label", 1, b, n + 4);
    vpn_store32(b, label_of(g_r[R_PE2], VPN_MPLS_OP_POP_LOOKUP) << 12 | 0x013f);
    n = ip_udp(b + 4, "10.1.0.1", "239.1.1.1", 0);
    write_seed(dir, "pe-agg-label", 1, b, n + 4);
    /* P1: PHP over a VPN label; PE1 as a transit LSR: swap. */
    vpn_store32(b, label_of(g_r[R_P1], VPN_MPLS_OP_POP) << 12 | 0x003f);
    vpn_store32(b + 4, 20u << 12 | 0x013f);
    n = ip_udp(b + 8, "10.1.0.1", "10.2.0.1", 0);
    write_seed(dir, "p-php", 2, b, n + 8);
    b[0] = 0x88;
    b[1] = 0x47;
    vpn_store32(b + 2, label_of(g_r[R_PE1], VPN_MPLS_OP_SWAP) << 12 | 0x003f);
    vpn_store32(b + 6, 20u << 12 | 0x013f);
    n = ip_udp(b + 10, "10.1.0.1", "10.2.0.1", 0);
    write_seed(dir, "pe-swap", 4, b, n + 10);
    /* Ingress: unicast and multicast. */
    n = ip_udp(b, "10.1.0.1", "10.2.0.1", 0x88);
    write_seed(dir, "ce-unicast", 3, b, n);
    n = ip_udp(b, "10.1.0.1", "239.1.1.1", 0);
    write_seed(dir, "ce-multicast", 3, b, n);
    /* PE1 by EtherType. */
    b[0] = 0x08;
    b[1] = 0x00;
    n = ip_udp(b + 2, "10.1.0.1", "10.2.0.1", 0);
    write_seed(dir, "pe-ethertype-ip", 0x84, b, n + 2);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *dir = getenv("VPN_FUZZ_WRITE_SEEDS");
    (void)argc;
    (void)argv;
    setup();
    if (dir) {
        write_seeds(dir);
        exit(0);
    }
    return 0;
}
