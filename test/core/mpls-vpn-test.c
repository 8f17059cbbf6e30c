/* An L3VPN provider in memory: three PEs and two Ps whose tables come from
 * vpn_mpls_plan_install, frames carried between them by a queue. Checks the
 * two-label stack on core links, PHP and explicit-null, TTL and EXP end to
 * end, two customers with the same prefixes kept apart (RFC 4364), static
 * multicast by ingress replication, VRF longest-prefix match over
 * thousands of routes, and bad plans. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "ipsec/ip.h"
#include "mpls/mpls.h"
#include "pkt-build.h"
#include "show/show-mpls.h"
#include "test-util.h"

/* Routers: PE1 PE2 PE3 P1 P2. Links: PE1-P1, P1-P2, P2-PE3, PE2-P1, PE2-P2. */
enum { PE1, PE2, PE3, P1, P2, NR };
enum { IF_A = 10, IF_B = 11 };
#define MAXQ 64

typedef struct frame {
    size_t router;
    int in_if;
    uint16_t ethertype;
    uint8_t data[1600];
    size_t len;
} frame;

typedef struct net net;
typedef struct port {
    net *n;
    size_t router;
} port;

struct net {
    vpn_mpls_router *r[NR];
    port ports[NR];
    vpn_mpls_plan_link links[5];
    frame q[MAXQ];
    size_t qn;
    frame delivered[MAXQ]; /* to CEs: router = PE, in_if = the CE interface */
    size_t dn;
    frame core_log[MAXQ];  /* every frame on a core link, as sent */
    size_t cn;
};

static void emit(void *ctx, int out_if, const vpn_addr *nh, uint16_t et, const uint8_t *d,
                 size_t len)
{
    port *pt = ctx;
    net *n = pt->n;
    (void)nh;
    assert_true(len <= sizeof n->q[0].data);
    if (out_if >= IF_A) {
        frame *f = &n->delivered[n->dn++];
        assert_true(n->dn < MAXQ);
        f->router = pt->router;
        f->in_if = out_if;
        f->ethertype = et;
        memcpy(f->data, d, len);
        f->len = len;
        return;
    }
    /* A core interface: find the link and the far end. */
    for (size_t i = 0; i < 5; i++) {
        const vpn_mpls_plan_link *l = &n->links[i];
        size_t far;
        int far_if;
        if (l->a == pt->router && l->a_if == out_if) {
            far = l->b;
            far_if = l->b_if;
        } else if (l->b == pt->router && l->b_if == out_if) {
            far = l->a;
            far_if = l->a_if;
        } else {
            continue;
        }
        /* The next hop named is the far end's link address. */
        assert_true(vpn_addr_eq(nh, l->a == far ? &l->a_addr : &l->b_addr));
        frame *f = &n->q[n->qn++];
        assert_true(n->qn < MAXQ);
        f->router = far;
        f->in_if = far_if;
        f->ethertype = et;
        memcpy(f->data, d, len);
        f->len = len;
        frame *c = &n->core_log[n->cn++];
        assert_true(n->cn < MAXQ);
        *c = *f;
        c->router = pt->router; /* sender */
        c->in_if = out_if;
        return;
    }
    fail_msg("emit on unknown interface %d of router %zu", out_if, pt->router);
}

static void pump(net *n)
{
    size_t head = 0;
    while (head < n->qn) {
        frame f = n->q[head++];
        (void)vpn_mpls_router_input(n->r[f.router], f.in_if, f.ethertype, f.data, f.len);
    }
    n->qn = 0;
}

static void link_set(net *n, size_t i, size_t a, int aif, size_t b, int bif)
{
    char s[32];
    n->links[i].a = a;
    n->links[i].b = b;
    n->links[i].a_if = aif;
    n->links[i].b_if = bif;
    snprintf(s, sizeof s, "10.0.%zu.1", i);
    n->links[i].a_addr = tu_addr(s);
    snprintf(s, sizeof s, "10.0.%zu.2", i);
    n->links[i].b_addr = tu_addr(s);
}

/* Sites: A1 (PE1), B1 (PE1), A2 (PE3), B2 (PE3), A3 (PE2); A and B use the
 * same 10.1/16 and 10.2/16. Multicast 239.0.0.0/8 in A to A1, A2, A3. */
static vpn_prefix pfx[5];
static vpn_mpls_plan_site sites[5];

static net *make(bool php, vpn_mpls_ttl_mode mode, bool with_mcast)
{
    net *n = calloc(1, sizeof *n);
    static const char *names[NR] = { "PE1", "PE2", "PE3", "P1", "P2" };
    for (size_t i = 0; i < NR; i++) {
        vpn_mpls_router_params p;
        char lo[32];
        memset(&p, 0, sizeof p);
        p.name = names[i];
        snprintf(lo, sizeof lo, "10.255.0.%zu", i + 1);
        p.loopback = tu_addr(lo);
        p.ttl_mode = mode;
        p.emit = emit;
        n->ports[i].n = n;
        n->ports[i].router = i;
        p.emit_ctx = &n->ports[i];
        assert_int_equal(vpn_mpls_router_new(&n->r[i], &p), 0);
    }
    link_set(n, 0, PE1, 1, P1, 1);
    link_set(n, 1, P1, 2, P2, 1);
    link_set(n, 2, P2, 2, PE3, 1);
    link_set(n, 3, PE2, 1, P1, 3);
    link_set(n, 4, PE2, 2, P2, 3);
    for (size_t i = 0; i < 5; i++) {
        char nm[16];
        snprintf(nm, sizeof nm, "Gi0/%d", n->links[i].a_if);
        assert_int_equal(vpn_mpls_router_add_if(n->r[n->links[i].a], n->links[i].a_if, nm,
                                                VPN_MPLS_IF_CORE, NULL),
                         0);
        snprintf(nm, sizeof nm, "Gi0/%d", n->links[i].b_if);
        assert_int_equal(vpn_mpls_router_add_if(n->r[n->links[i].b], n->links[i].b_if, nm,
                                                VPN_MPLS_IF_CORE, NULL),
                         0);
    }
    assert_int_equal(vpn_prefix_parse(&pfx[0], "10.1.0.0/16"), 0);
    assert_int_equal(vpn_prefix_parse(&pfx[1], "10.1.0.0/16"), 0);
    assert_int_equal(vpn_prefix_parse(&pfx[2], "10.2.0.0/16"), 0);
    assert_int_equal(vpn_prefix_parse(&pfx[3], "10.2.0.0/16"), 0);
    assert_int_equal(vpn_prefix_parse(&pfx[4], "10.3.0.0/16"), 0);
    const size_t pe[5] = { PE1, PE1, PE3, PE3, PE2 };
    const char *vrf[5] = { "A", "B", "A", "B", "A" };
    const int ifs[5] = { IF_A, IF_B, IF_A, IF_B, IF_A };
    for (size_t i = 0; i < 5; i++) {
        sites[i].pe = pe[i];
        sites[i].vrf = vrf[i];
        sites[i].ce_if = ifs[i];
        sites[i].ce_addr = tu_addr("192.168.0.2");
        sites[i].prefixes = &pfx[i];
        sites[i].n_prefixes = 1;
        assert_int_equal(vpn_mpls_router_add_if(n->r[pe[i]], ifs[i],
                                                ifs[i] == IF_A ? "Gi1/0" : "Gi1/1", VPN_MPLS_IF_CE,
                                                vrf[i]),
                         0);
    }
    static const size_t subs[3] = { 0, 2, 4 };
    vpn_mpls_plan_mroute m;
    memset(&m, 0, sizeof m);
    m.vrf = "A";
    assert_int_equal(vpn_prefix_parse(&m.group, "239.0.0.0/8"), 0);
    assert_int_equal(vpn_prefix_parse(&m.source, "0.0.0.0/0"), 0);
    m.sites = subs;
    m.n_sites = 3;
    vpn_mpls_plan plan;
    memset(&plan, 0, sizeof plan);
    plan.routers = n->r;
    plan.n_routers = NR;
    plan.links = n->links;
    plan.n_links = 5;
    plan.sites = sites;
    plan.n_sites = 5;
    plan.mroutes = &m;
    plan.n_mroutes = with_mcast ? 1 : 0;
    plan.php = php;
    assert_int_equal(vpn_mpls_plan_install(&plan), 0);
    return n;
}

static void drop_net(net *n)
{
    for (size_t i = 0; i < NR; i++)
        vpn_mpls_router_del(n->r[i]);
    free(n);
}

static size_t udp(uint8_t *buf, const char *src, const char *dst, uint8_t tos, uint8_t ttl,
                  uint32_t seed)
{
    vpn_addr s = tu_addr(src), d = tu_addr(dst);
    uint8_t pl[64];
    tu_fill(pl, sizeof pl, seed);
    size_t len = tu_build_udp(buf, 1600, &s, &d, 4000, 5000, tos, pl, sizeof pl);
    buf[8] = ttl;
    vpn_ip4_csum_set(buf);
    return len;
}

static int send_from(net *n, size_t pe, int ce_if, const uint8_t *ip, size_t len)
{
    n->dn = n->cn = 0;
    int rc = vpn_mpls_router_input(n->r[pe], ce_if, VPN_MPLS_ETHERTYPE_IPV4, ip, len);
    pump(n);
    return rc;
}

static void test_unicast_stack(void **state)
{
    (void)state;
    for (int php = 0; php < 2; php++) {
        net *n = make(php, VPN_MPLS_TTL_UNIFORM, false);
        uint8_t ip[1600];
        /* EF (DSCP 46): EXP 5. */
        size_t len = udp(ip, "10.1.0.5", "10.2.0.9", 46 << 2, 64, 1);
        assert_int_equal(send_from(n, PE1, IF_A, ip, len), 1);
        /* Delivered once, at A2 only, as the same packet with TTL 64-1-3 (uniform). */
        assert_int_equal(n->dn, 1);
        assert_int_equal(n->delivered[0].router, PE3);
        assert_int_equal(n->delivered[0].in_if, IF_A);
        assert_int_equal(n->delivered[0].ethertype, VPN_MPLS_ETHERTYPE_IPV4);
        assert_int_equal(n->delivered[0].len, len);
        /* PE1 (63), P1, P2, PE3 each take one. */
        assert_int_equal(n->delivered[0].data[8], 64 - 4);
        assert_int_equal(vpn_ip_csum(n->delivered[0].data, 20), 0);
        assert_int_equal(n->delivered[0].data[1], 46 << 2);
        assert_memory_equal(n->delivered[0].data + 20, ip + 20, len - 20);
        /* Core hops: PE1->P1, P1->P2, P2->PE3. */
        assert_int_equal(n->cn, 3);
        vpn_mpls_stack st;
        assert_int_equal(n->core_log[0].router, PE1);
        assert_int_equal(vpn_mpls_stack_parse(n->core_log[0].data, n->core_log[0].len, &st, NULL),
                         0);
        assert_int_equal(st.depth, 2); /* transport + VPN */
        assert_false(st.e[0].s);
        assert_true(st.e[1].s);
        assert_int_equal(st.e[0].tc, 5);
        assert_int_equal(st.e[1].tc, 5);
        assert_int_equal(st.e[0].ttl, 63);
        assert_int_equal(st.e[1].ttl, 63);
        uint32_t vpn_label = st.e[1].label;
        assert_true(vpn_label >= 16);
        assert_int_equal(vpn_mpls_lfib_find(n->r[PE3], vpn_label)->op, VPN_MPLS_OP_POP_VRF);
        /* P1 swaps the transport label, keeps the VPN label. */
        vpn_mpls_stack st2;
        assert_int_equal(vpn_mpls_stack_parse(n->core_log[1].data, n->core_log[1].len, &st2, NULL),
                         0);
        assert_int_equal(n->core_log[1].router, P1);
        assert_int_equal(st2.depth, 2);
        const vpn_mpls_lfib_entry *sw = vpn_mpls_lfib_find(n->r[P1], st.e[0].label);
        assert_non_null(sw);
        assert_int_equal(sw->op, VPN_MPLS_OP_SWAP);
        assert_int_equal(st2.e[0].label, sw->out_label);
        assert_non_null(vpn_mpls_lfib_find(n->r[P2], st2.e[0].label));
        assert_int_equal(st2.e[0].ttl, 62);
        assert_int_equal(st2.e[1].label, vpn_label);
        /* P2 is the penultimate hop: PHP pops, else explicit-null. */
        vpn_mpls_stack st3;
        assert_int_equal(vpn_mpls_stack_parse(n->core_log[2].data, n->core_log[2].len, &st3, NULL),
                         0);
        assert_int_equal(n->core_log[2].router, P2);
        if (php) {
            assert_int_equal(st3.depth, 1);
            assert_int_equal(st3.e[0].label, vpn_label);
            assert_int_equal(st3.e[0].ttl, 61);
        } else {
            assert_int_equal(st3.depth, 2);
            assert_int_equal(st3.e[0].label, 0);
            assert_int_equal(st3.e[0].ttl, 61);
            assert_int_equal(st3.e[0].tc, 5);
            assert_int_equal(st3.e[1].label, vpn_label);
        }
        /* Counters: P1's transport entry switched one packet of the stacked size. */
        const vpn_mpls_lfib_entry *e = vpn_mpls_lfib_find(n->r[P1], st.e[0].label);
        assert_non_null(e);
        assert_int_equal(e->packets, 1);
        assert_int_equal(e->bytes, len + 8);
        drop_net(n);
    }
}

static void test_pipe_ttl(void **state)
{
    (void)state;
    net *n = make(true, VPN_MPLS_TTL_PIPE, false);
    uint8_t ip[1600];
    size_t len = udp(ip, "10.1.0.5", "10.2.0.9", 0, 64, 2);
    assert_int_equal(send_from(n, PE1, IF_A, ip, len), 1);
    vpn_mpls_stack st;
    assert_int_equal(vpn_mpls_stack_parse(n->core_log[0].data, n->core_log[0].len, &st, NULL), 0);
    assert_int_equal(st.e[0].ttl, 255);
    assert_int_equal(st.e[1].ttl, 255);
    /* The customer sees two hops: the ingress and egress PEs (short pipe). */
    assert_int_equal(n->dn, 1);
    assert_int_equal(n->delivered[0].data[8], 62);
    /* A TTL-1 packet dies at the ingress PE. */
    len = udp(ip, "10.1.0.5", "10.2.0.9", 0, 1, 2);
    assert_int_equal(send_from(n, PE1, IF_A, ip, len), VPN_ERR_EXPIRED);
    assert_int_equal(n->cn, 0);
    drop_net(n);
}

static void test_uniform_ttl_expires_in_core(void **state)
{
    (void)state;
    net *n = make(true, VPN_MPLS_TTL_UNIFORM, false);
    uint8_t ip[1600];
    /* TTL 3: PE1 sends 2, P1 sends 1, P2 drops. */
    size_t len = udp(ip, "10.1.0.5", "10.2.0.9", 0, 3, 3);
    assert_int_equal(send_from(n, PE1, IF_A, ip, len), 1);
    assert_int_equal(n->dn, 0);
    assert_int_equal(n->cn, 2);
    assert_int_equal(vpn_mpls_router_stats(n->r[P2])->drops[VPN_MPLS_DROP_TTL], 1);
    drop_net(n);
}

static void test_vrf_isolation(void **state)
{
    (void)state;
    net *n = make(true, VPN_MPLS_TTL_UNIFORM, false);
    uint8_t ip[1600];
    /* Same addresses from A1 and B1 end at A2 and B2 respectively. */
    size_t len = udp(ip, "10.1.0.5", "10.2.0.9", 0, 64, 4);
    assert_int_equal(send_from(n, PE1, IF_B, ip, len), 1);
    assert_int_equal(n->dn, 1);
    assert_int_equal(n->delivered[0].router, PE3);
    assert_int_equal(n->delivered[0].in_if, IF_B);
    assert_int_equal(send_from(n, PE1, IF_A, ip, len), 1);
    assert_int_equal(n->dn, 1);
    assert_int_equal(n->delivered[0].in_if, IF_A);
    /* B has no 10.3/16: dropped at PE1, A3 never sees it. */
    len = udp(ip, "10.1.0.5", "10.3.0.1", 0, 64, 5);
    assert_int_equal(send_from(n, PE1, IF_B, ip, len), VPN_ERR_NOTFOUND);
    assert_int_equal(n->dn + n->cn, 0);
    assert_int_equal(vpn_mpls_router_stats(n->r[PE1])->drops[VPN_MPLS_DROP_NO_ROUTE], 1);
    /* A reaches A3 on PE2 from A2 on PE3. */
    len = udp(ip, "10.2.0.5", "10.3.0.1", 0, 64, 6);
    assert_int_equal(send_from(n, PE3, IF_A, ip, len), 1);
    assert_int_equal(n->dn, 1);
    assert_int_equal(n->delivered[0].router, PE2);
    /* A route back out of the CE link it came in on is not bounced (B2 to
     * its own prefix): dropped, nothing on the core. */
    len = udp(ip, "10.2.0.5", "10.2.0.7", 0, 64, 7);
    assert_int_equal(send_from(n, PE3, IF_B, ip, len), VPN_ERR_NOTFOUND);
    assert_int_equal(n->cn + n->dn, 0);
    drop_net(n);
}

static void test_multicast_replication(void **state)
{
    (void)state;
    net *n = make(true, VPN_MPLS_TTL_UNIFORM, true);
    uint8_t ip[1600];
    size_t len = udp(ip, "10.1.0.5", "239.1.1.1", 0, 16, 8);
    /* From A1: one copy to PE2 and one to PE3 (ingress replication). */
    assert_int_equal(send_from(n, PE1, IF_A, ip, len), 2);
    assert_int_equal(n->dn, 2);
    int seen[NR] = { 0 };
    for (size_t i = 0; i < n->dn; i++) {
        assert_int_equal(n->delivered[i].in_if, IF_A); /* never into B */
        assert_int_equal(n->delivered[i].len, len);
        assert_memory_equal(n->delivered[i].data + 20, ip + 20, len - 20);
        seen[n->delivered[i].router]++;
    }
    assert_int_equal(seen[PE1], 0); /* not back to the source */
    assert_int_equal(seen[PE2], 1);
    assert_int_equal(seen[PE3], 1);
    /* Each labelled copy carries the egress PE's aggregate VPN label. */
    for (size_t i = 0; i < n->cn; i++) {
        vpn_mpls_stack st;
        if (n->core_log[i].router != PE1)
            continue;
        assert_int_equal(vpn_mpls_stack_parse(n->core_log[i].data, n->core_log[i].len, &st, NULL),
                         0);
        assert_int_equal(st.depth, 2);
    }
    /* From B1 the group is unknown: dropped. */
    assert_int_equal(send_from(n, PE1, IF_B, ip, len), VPN_ERR_NOTFOUND);
    assert_int_equal(n->dn, 0);
    /* From A3 (on PE2): to A1 and A2. */
    len = udp(ip, "10.3.0.5", "239.9.9.9", 0, 16, 9);
    assert_int_equal(send_from(n, PE2, IF_A, ip, len), 2);
    memset(seen, 0, sizeof seen);
    for (size_t i = 0; i < n->dn; i++)
        seen[n->delivered[i].router]++;
    assert_int_equal(seen[PE1], 1);
    assert_int_equal(seen[PE2], 0);
    assert_int_equal(seen[PE3], 1);
    /* Egress PEs deliver copies locally only: PE1 saw none of its own
     * packet above, and the core carried exactly one copy per PE here. */
    size_t from_pe2 = 0;
    for (size_t i = 0; i < n->cn; i++)
        from_pe2 += n->core_log[i].router == PE2;
    assert_int_equal(from_pe2, 2);
    drop_net(n);
}

static void test_show_pe(void **state)
{
    (void)state;
    net *n = make(true, VPN_MPLS_TTL_UNIFORM, true);
    char out[4096];
    vpn_show_buf b;
    vpn_show_init(&b, out, sizeof out);
    assert_int_equal(vpn_show_mpls_forwarding(n->r[P2], &b), 0);
    /* P2 pops for PE3's loopback (PHP) and swaps for PE1's. */
    assert_non_null(strstr(out, "Pop Label  10.255.0.3/32    0             Gi0/2      10.0.2.2\n"));
    vpn_show_init(&b, out, sizeof out);
    assert_int_equal(vpn_show_mpls_forwarding(n->r[PE3], &b), 0);
    assert_non_null(
        strstr(out, "No Label   10.2.0.0/16[V]   0             Gi1/0      192.168.0.2\n"));
    assert_non_null(
        strstr(out, "No Label   10.2.0.0/16[V]   0             Gi1/1      192.168.0.2\n"));
    assert_non_null(strstr(out, "No Label   IPv4 VRF[V]      0             aggregate/A \n"));
    drop_net(n);
}

/* VRF longest-prefix match over an indexed table: the most specific of a
 * default, nested prefixes, a prefix given with host bits set, a prefix
 * replaced, a host route and thousands of /30s (one per PE-CE link). */
static void test_vrf_longest_match(void **state)
{
    net *n = calloc(1, sizeof *n);
    vpn_mpls_router_params p;
    uint8_t ip[1600];
    vpn_prefix px;
    vpn_addr nh = tu_addr("192.168.0.2");
    int vrf;
    (void)state;

    memset(&p, 0, sizeof p);
    p.name = "PE";
    p.loopback = tu_addr("10.255.0.1");
    p.ttl_mode = VPN_MPLS_TTL_UNIFORM;
    p.emit = emit;
    n->ports[0].n = n;
    n->ports[0].router = 0;
    p.emit_ctx = &n->ports[0];
    assert_int_equal(vpn_mpls_router_new(&n->r[0], &p), 0);
    for (int i = IF_A; i <= IF_A + 8; i++) {
        char nm[16];
        snprintf(nm, sizeof nm, "Gi1/%d", i);
        assert_int_equal(vpn_mpls_router_add_if(n->r[0], i, nm, VPN_MPLS_IF_CE, "A"), 0);
    }
    vrf = vpn_mpls_router_vrf_id(n->r[0], "A");
    assert_true(vrf >= 0);
    static const struct {
        const char *prefix;
        int out_if;
    } routes[] = {
        {"0.0.0.0/0", IF_A + 1},   {"10.0.0.0/8", IF_A + 2},  {"10.1.0.0/16", IF_A + 3},
        {"10.1.2.7/24", IF_A + 4}, {"10.1.2.4/30", IF_A + 5}, {"10.1.2.5/30", IF_A + 6},
        {"10.1.2.6/32", IF_A + 8},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        assert_int_equal(vpn_prefix_parse(&px, routes[i].prefix), 0);
        assert_int_equal(vpn_mpls_vrf_route_local(n->r[0], vrf, &px, routes[i].out_if, &nh), 0);
    }
    for (uint32_t k = 0; k < 5000; k++) {
        uint32_t a = 0x64400000u + 4 * k; /* 100.64.0.0 + 4k */
        px.addr = (vpn_addr){VPN_AF_INET, {(uint8_t)(a >> 24), (uint8_t)(a >> 16),
                                           (uint8_t)(a >> 8), (uint8_t)a}};
        px.len = 30;
        assert_int_equal(vpn_mpls_vrf_route_local(n->r[0], vrf, &px, IF_A + 7, &nh), 0);
    }
    static const struct {
        const char *dst;
        int out_if;
    } want[] = {
        {"10.1.2.6", IF_A + 8},    /* the host route */
        {"10.1.2.5", IF_A + 6},    /* the /30, as replaced */
        {"10.1.2.9", IF_A + 4},    /* the /24 (given as 10.1.2.7/24) */
        {"10.1.3.1", IF_A + 3},    {"10.9.9.9", IF_A + 2}, {"8.8.8.8", IF_A + 1},
        {"100.64.0.1", IF_A + 7},  {"100.64.78.30", IF_A + 7}, /* the last /30 */
        {"100.64.78.32", IF_A + 1}, /* past it: the default */
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        size_t len = udp(ip, "10.200.0.1", want[i].dst, 0, 64, (uint32_t)i);
        n->dn = 0;
        assert_int_equal(vpn_mpls_router_input(n->r[0], IF_A, VPN_MPLS_ETHERTYPE_IPV4, ip, len),
                         1);
        assert_int_equal(n->dn, 1);
        if (n->delivered[0].in_if != want[i].out_if)
            fail_msg("%s went out %d, not %d", want[i].dst, n->delivered[0].in_if,
                     want[i].out_if);
    }
    vpn_mpls_router_del(n->r[0]);
    free(n);
}

static void test_bad_plans(void **state)
{
    (void)state;
    net *n = make(true, VPN_MPLS_TTL_UNIFORM, false);
    vpn_mpls_plan plan;
    memset(&plan, 0, sizeof plan);
    plan.routers = n->r;
    plan.n_routers = NR;
    plan.links = n->links;
    plan.n_links = 5;
    /* Tables already filled. */
    assert_int_equal(vpn_mpls_plan_install(&plan), VPN_ERR_INVAL);
    assert_int_equal(vpn_mpls_plan_install(NULL), VPN_ERR_INVAL);
    drop_net(n);

    /* Fresh routers: a link to a router that does not exist; a site on an
     * interface that is not a CE interface; PEs sharing a VRF without a path. */
    vpn_mpls_router *r[2];
    port ports[2];
    for (size_t i = 0; i < 2; i++) {
        vpn_mpls_router_params p;
        memset(&p, 0, sizeof p);
        p.loopback = tu_addr(i ? "10.255.0.2" : "10.255.0.1");
        p.emit = emit;
        p.emit_ctx = &ports[i];
        assert_int_equal(vpn_mpls_router_new(&r[i], &p), 0);
        assert_int_equal(vpn_mpls_router_add_if(r[i], 1, "Gi0/1", VPN_MPLS_IF_CORE, NULL), 0);
        assert_int_equal(vpn_mpls_router_add_if(r[i], IF_A, "Gi1/0", VPN_MPLS_IF_CE, "A"), 0);
    }
    vpn_mpls_plan_link l = { 0, 2, 1, 1, tu_addr("10.0.0.1"), tu_addr("10.0.0.2") };
    memset(&plan, 0, sizeof plan);
    plan.routers = r;
    plan.n_routers = 2;
    plan.links = &l;
    plan.n_links = 1;
    assert_int_equal(vpn_mpls_plan_install(&plan), VPN_ERR_INVAL);
    vpn_prefix p1, p2;
    assert_int_equal(vpn_prefix_parse(&p1, "10.1.0.0/16"), 0);
    assert_int_equal(vpn_prefix_parse(&p2, "10.2.0.0/16"), 0);
    vpn_mpls_plan_site s[2] = {
        { 0, "A", 1, tu_addr("192.168.0.2"), &p1, 1 },
        { 1, "A", IF_A, tu_addr("192.168.0.2"), &p2, 1 },
    };
    plan.n_links = 0;
    plan.sites = s;
    plan.n_sites = 2;
    assert_int_equal(vpn_mpls_plan_install(&plan), VPN_ERR_INVAL);
    vpn_mpls_router_del(r[0]);
    vpn_mpls_router_del(r[1]);
    for (size_t i = 0; i < 2; i++) {
        vpn_mpls_router_params p;
        memset(&p, 0, sizeof p);
        p.loopback = tu_addr(i ? "10.255.0.2" : "10.255.0.1");
        p.emit = emit;
        p.emit_ctx = &ports[i];
        assert_int_equal(vpn_mpls_router_new(&r[i], &p), 0);
        assert_int_equal(vpn_mpls_router_add_if(r[i], IF_A, "Gi1/0", VPN_MPLS_IF_CE, "A"), 0);
    }
    s[0].ce_if = IF_A;
    assert_int_equal(vpn_mpls_plan_install(&plan), VPN_ERR_NOTFOUND);
    vpn_mpls_router_del(r[0]);
    vpn_mpls_router_del(r[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unicast_stack),
        cmocka_unit_test(test_pipe_ttl),
        cmocka_unit_test(test_uniform_ttl_expires_in_core),
        cmocka_unit_test(test_vrf_isolation),
        cmocka_unit_test(test_multicast_replication),
        cmocka_unit_test(test_show_pe),
        cmocka_unit_test(test_vrf_longest_match),
        cmocka_unit_test(test_bad_plans),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
