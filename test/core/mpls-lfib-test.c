/* One LSR's LFIB (RFC 3031 3.10-3.13): swap, penultimate-hop pop,
 * explicit-null, egress to a CE, TTL expiry (RFC 3032 2.4.1, RFC 3443),
 * counters, table validation, hostile frames, and the
 * `show mpls forwarding-table` view. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "ipsec/ip.h"
#include "mpls/mpls.h"
#include "pkt-build.h"
#include "show/show-mpls.h"
#include "test-util.h"

typedef struct sent {
    int n;
    int out_if;
    vpn_addr nh;
    uint16_t ethertype;
    uint8_t data[2048];
    size_t len;
} sent;

static void capture(void *ctx, int out_if, const vpn_addr *nh, uint16_t ethertype, const uint8_t *d,
                    size_t len)
{
    sent *s = ctx;
    s->n++;
    s->out_if = out_if;
    s->nh = *nh;
    s->ethertype = ethertype;
    assert_true(len <= sizeof s->data);
    memcpy(s->data, d, len);
    s->len = len;
}

enum { IF_CORE1 = 1, IF_CORE2 = 2, IF_CE = 10 };

typedef struct fx {
    vpn_mpls_router *r;
    sent out;
} fx;

static fx *make(vpn_mpls_ttl_mode mode)
{
    fx *f = calloc(1, sizeof *f);
    vpn_mpls_router_params p;
    vpn_mpls_lfib_entry e;
    int vrf;
    memset(&p, 0, sizeof p);
    p.name = "P1";
    p.loopback = tu_addr("10.255.0.11");
    p.ttl_mode = mode;
    p.mtu = 1600;
    p.emit = capture;
    p.emit_ctx = &f->out;
    assert_int_equal(vpn_mpls_router_new(&f->r, &p), 0);
    assert_int_equal(vpn_mpls_router_add_if(f->r, IF_CORE1, "Gi0/1", VPN_MPLS_IF_CORE, NULL), 0);
    assert_int_equal(vpn_mpls_router_add_if(f->r, IF_CORE2, "Gi0/2", VPN_MPLS_IF_CORE, NULL), 0);
    assert_int_equal(vpn_mpls_router_add_if(f->r, IF_CE, "Gi0/3", VPN_MPLS_IF_CE, "CUST_A"), 0);
    vrf = vpn_mpls_router_vrf_id(f->r, "CUST_A");
    assert_int_equal(vrf, 0);

    memset(&e, 0, sizeof e);
    e.vrf = -1;
    /* 20: swap to 30 towards 10.0.0.2 */
    e.in_label = 20;
    e.op = VPN_MPLS_OP_SWAP;
    e.out_label = 30;
    e.out_if = IF_CORE2;
    e.next_hop = tu_addr("10.0.0.2");
    assert_int_equal(vpn_prefix_parse(&e.fec, "10.255.0.3/32"), 0);
    assert_int_equal(vpn_mpls_lfib_add(f->r, &e), 0);
    /* 21: PHP pop towards 10.0.0.2 */
    e.in_label = 21;
    e.op = VPN_MPLS_OP_POP;
    assert_int_equal(vpn_prefix_parse(&e.fec, "10.255.0.2/32"), 0);
    assert_int_equal(vpn_mpls_lfib_add(f->r, &e), 0);
    /* 22: swap to explicit-null */
    e.in_label = 22;
    e.op = VPN_MPLS_OP_SWAP;
    e.out_label = 0;
    assert_int_equal(vpn_prefix_parse(&e.fec, "10.255.0.4/32"), 0);
    assert_int_equal(vpn_mpls_lfib_add(f->r, &e), 0);
    /* 40: VPN label, pop to the CE */
    e.in_label = 40;
    e.op = VPN_MPLS_OP_POP_VRF;
    e.out_if = IF_CE;
    e.next_hop = tu_addr("192.168.1.2");
    e.vrf = vrf;
    assert_int_equal(vpn_prefix_parse(&e.fec, "10.1.0.0/16"), 0);
    assert_int_equal(vpn_mpls_lfib_add(f->r, &e), 0);
    return f;
}

static void drop_fx(fx *f)
{
    vpn_mpls_router_del(f->r);
    free(f);
}

/* [labels...] + an IPv4/UDP packet with TTL ip_ttl and TOS tos. */
static size_t frame(uint8_t *buf, const uint32_t *labels, const uint8_t *ttls, size_t n, uint8_t tc,
                    uint8_t ip_ttl, uint8_t tos)
{
    vpn_addr s = tu_addr("10.1.0.1"), d = tu_addr("10.2.0.1");
    uint8_t pl[32];
    size_t len;
    tu_fill(pl, sizeof pl, 7);
    len = tu_build_udp(buf + 4 * n, 1500, &s, &d, 1000, 2000, tos, pl, sizeof pl);
    buf[4 * n + 8] = ip_ttl;
    vpn_ip4_csum_set(buf + 4 * n);
    for (size_t i = 0; i < n; i++) {
        vpn_mpls_lse e = { labels[i], tc, i + 1 == n, ttls[i] };
        uint32_t v;
        assert_int_equal(vpn_mpls_lse_pack(&e, &v), 0);
        vpn_store32(buf + 4 * i, v);
    }
    return len + 4 * n;
}

static vpn_mpls_stack stack_of(const sent *s)
{
    vpn_mpls_stack st;
    assert_int_equal(s->ethertype, VPN_MPLS_ETHERTYPE);
    assert_int_equal(vpn_mpls_stack_parse(s->data, s->len, &st, NULL), 0);
    return st;
}

static void test_swap(void **state)
{
    (void)state;
    fx *f = make(VPN_MPLS_TTL_UNIFORM);
    uint8_t buf[1600];
    uint32_t l[2] = { 20, 40 };
    uint8_t t[2] = { 60, 60 };
    size_t len = frame(buf, l, t, 2, 5, 60, 0xb8);
    assert_int_equal(vpn_mpls_router_input(f->r, IF_CORE1, VPN_MPLS_ETHERTYPE, buf, len), 1);
    assert_int_equal(f->out.n, 1);
    assert_int_equal(f->out.out_if, IF_CORE2);
    assert_true(vpn_addr_eq(&f->out.nh, &(vpn_addr){0}) == false);
    assert_int_equal(f->out.len, len);
    vpn_mpls_stack st = stack_of(&f->out);
    assert_int_equal(st.depth, 2);
    assert_int_equal(st.e[0].label, 30);
    assert_int_equal(st.e[0].ttl, 59);
    assert_int_equal(st.e[0].tc, 5);
    assert_false(st.e[0].s);
    /* The VPN label below is untouched. */
    assert_int_equal(st.e[1].label, 40);
    assert_int_equal(st.e[1].ttl, 60);
    assert_memory_equal(f->out.data + 8, buf + 8, len - 8);
    const vpn_mpls_lfib_entry *e = vpn_mpls_lfib_find(f->r, 20);
    assert_non_null(e);
    assert_int_equal(e->packets, 1);
    assert_int_equal(e->bytes, len);
    assert_int_equal(vpn_mpls_router_stats(f->r)->tx_labelled, 1);
    drop_fx(f);
}

static void test_php_uniform_and_pipe(void **state)
{
    (void)state;
    for (int mode = 0; mode < 2; mode++) {
        fx *f = make((vpn_mpls_ttl_mode)mode);
        uint8_t buf[1600];
        uint32_t l[2] = { 21, 40 };
        uint8_t t[2] = { 50, mode == VPN_MPLS_TTL_UNIFORM ? 52 : 255 };
        size_t len = frame(buf, l, t, 2, 3, 52, 0x60);
        assert_int_equal(vpn_mpls_router_input(f->r, IF_CORE1, VPN_MPLS_ETHERTYPE, buf, len), 1);
        assert_int_equal(f->out.len, len - 4);
        vpn_mpls_stack st = stack_of(&f->out);
        /* Only the VPN label is left (RFC 3031 3.16). */
        assert_int_equal(st.depth, 1);
        assert_int_equal(st.e[0].label, 40);
        assert_true(st.e[0].s);
        assert_int_equal(st.e[0].tc, 3);
        /* Uniform: the decremented TTL moves down; pipe: the inner stays. */
        assert_int_equal(st.e[0].ttl, mode == VPN_MPLS_TTL_UNIFORM ? 49 : 255);
        drop_fx(f);
    }
}

static void test_explicit_null(void **state)
{
    (void)state;
    fx *f = make(VPN_MPLS_TTL_UNIFORM);
    uint8_t buf[1600];
    /* Swap to explicit-null keeps the two-entry stack. */
    uint32_t l[2] = { 22, 40 };
    uint8_t t[2] = { 9, 9 };
    size_t len = frame(buf, l, t, 2, 4, 9, 0);
    assert_int_equal(vpn_mpls_router_input(f->r, IF_CORE1, VPN_MPLS_ETHERTYPE, buf, len), 1);
    vpn_mpls_stack st = stack_of(&f->out);
    assert_int_equal(st.depth, 2);
    assert_int_equal(st.e[0].label, 0);
    assert_int_equal(st.e[0].ttl, 8);
    assert_int_equal(st.e[0].tc, 4);
    /* An egress receiving explicit-null pops it and handles the VPN label. */
    l[0] = 0;
    t[0] = 8;
    t[1] = 30;
    len = frame(buf, l, t, 2, 4, 30, 0);
    assert_int_equal(vpn_mpls_router_input(f->r, IF_CORE1, VPN_MPLS_ETHERTYPE, buf, len), 1);
    assert_int_equal(f->out.ethertype, VPN_MPLS_ETHERTYPE_IPV4);
    assert_int_equal(f->out.out_if, IF_CE);
    assert_int_equal(f->out.len, len - 8);
    /* Uniform: the smaller TTL (explicit-null's 8) less this hop. */
    assert_int_equal(f->out.data[8], 7);
    assert_int_equal(vpn_ip_csum(f->out.data, 20), 0);
    /* Explicit-null at the bottom: no global table here. */
    l[0] = 0;
    len = frame(buf, l, t, 1, 0, 30, 0);
    assert_int_equal(vpn_mpls_router_input(f->r, IF_CORE1, VPN_MPLS_ETHERTYPE, buf, len), VPN_ERR_NOTFOUND);
    drop_fx(f);
}

static void test_egress_ttl(void **state)
{
    (void)state;
    fx *f = make(VPN_MPLS_TTL_UNIFORM);
    uint8_t buf[1600];
    uint32_t l[1] = { 40 };
    uint8_t t[1] = { 20 };
    size_t len = frame(buf, l, t, 1, 0, 64, 0xb8);
    assert_int_equal(vpn_mpls_router_input(f->r, IF_CORE1, VPN_MPLS_ETHERTYPE, buf, len), 1);
    /* RFC 3443 uniform: the label TTL (less this hop) goes into IP. */
    assert_int_equal(f->out.data[8], 19);
    assert_int_equal(vpn_ip_csum(f->out.data, 20), 0);
    /* DSCP untouched at egress (short pipe for DiffServ). */
    assert_int_equal(f->out.data[1], 0xb8);
    assert_true(vpn_addr_eq(&f->out.nh, &(vpn_addr){ .family = 4, .b = { 192, 168, 1, 2 } }));
    drop_fx(f);

    f = make(VPN_MPLS_TTL_PIPE);
    t[0] = 255;
    len = frame(buf, l, t, 1, 0, 64, 0);
    assert_int_equal(vpn_mpls_router_input(f->r, IF_CORE1, VPN_MPLS_ETHERTYPE, buf, len), 1);
    /* Pipe: the egress decrements the IP TTL as an IP hop. */
    assert_int_equal(f->out.data[8], 63);
    /* ... and drops an IP TTL of 1. */
    len = frame(buf, l, t, 1, 0, 1, 0);
    assert_int_equal(vpn_mpls_router_input(f->r, IF_CORE1, VPN_MPLS_ETHERTYPE, buf, len), VPN_ERR_EXPIRED);
    assert_int_equal(vpn_mpls_router_stats(f->r)->drops[VPN_MPLS_DROP_TTL], 1);
    drop_fx(f);
}

static void test_ttl_expiry(void **state)
{
    (void)state;
    fx *f = make(VPN_MPLS_TTL_UNIFORM);
    uint8_t buf[1600];
    uint32_t l[2] = { 20, 40 };
    for (uint8_t ttl = 0; ttl <= 2; ttl++) {
        uint8_t t[2] = { ttl, 64 };
        size_t len = frame(buf, l, t, 2, 0, 64, 0);
        f->out.n = 0;
        int rc = vpn_mpls_router_input(f->r, IF_CORE1, VPN_MPLS_ETHERTYPE, buf, len);
        if (ttl <= 1) {
            assert_int_equal(rc, VPN_ERR_EXPIRED);
            assert_int_equal(f->out.n, 0);
        } else {
            assert_int_equal(rc, 1);
            assert_int_equal(stack_of(&f->out).e[0].ttl, 1);
        }
    }
    assert_int_equal(vpn_mpls_router_stats(f->r)->drops[VPN_MPLS_DROP_TTL], 2);
    /* Expired packets are not counted as label switched. */
    assert_int_equal(vpn_mpls_lfib_find(f->r, 20)->packets, 1);
    /* At the egress too: a VPN label with TTL 1. */
    uint32_t v[1] = { 40 };
    uint8_t tv[1] = { 1 };
    size_t len = frame(buf, v, tv, 1, 0, 64, 0);
    assert_int_equal(vpn_mpls_router_input(f->r, IF_CORE1, VPN_MPLS_ETHERTYPE, buf, len), VPN_ERR_EXPIRED);
    drop_fx(f);
}

static void test_hostile_frames(void **state)
{
    (void)state;
    fx *f = make(VPN_MPLS_TTL_UNIFORM);
    uint8_t buf[1600];
    uint32_t l[2] = { 20, 40 };
    uint8_t t[2] = { 64, 64 };
    size_t len = frame(buf, l, t, 2, 0, 64, 0);
    const vpn_mpls_stats *s = vpn_mpls_router_stats(f->r);
    /* Unknown label. */
    vpn_store32(buf, 0x00063040); /* label 99 */
    assert_int_equal(vpn_mpls_router_input(f->r, IF_CORE1, VPN_MPLS_ETHERTYPE, buf, len), VPN_ERR_NOTFOUND);
    assert_int_equal(s->drops[VPN_MPLS_DROP_NO_LABEL], 1);
    /* Stack without S inside the frame, and a truncated one. */
    vpn_store32(buf, 0x00014040);
    vpn_store32(buf + 4, 0x00028040);
    assert_int_equal(vpn_mpls_router_input(f->r, IF_CORE1, VPN_MPLS_ETHERTYPE, buf, 8), VPN_ERR_TRUNCATED);
    assert_int_equal(vpn_mpls_router_input(f->r, IF_CORE1, VPN_MPLS_ETHERTYPE, buf, 3), VPN_ERR_TRUNCATED);
    /* Implicit-null on the wire. */
    vpn_store32(buf, 0x00003140);
    assert_int_equal(vpn_mpls_router_input(f->r, IF_CORE1, VPN_MPLS_ETHERTYPE, buf, len), VPN_ERR_MALFORMED);
    assert_int_equal(s->drops[VPN_MPLS_DROP_MALFORMED], 3);
    /* A VPN label with something else below the S bit: a stack entry (S clear) above it. */
    len = frame(buf, (uint32_t[]){ 40, 20 }, t, 2, 0, 64, 0);
    assert_int_equal(vpn_mpls_router_input(f->r, IF_CORE1, VPN_MPLS_ETHERTYPE, buf, len), VPN_ERR_MALFORMED);
    /* A VPN label over bytes that are not IPv4. */
    len = frame(buf, (uint32_t[]){ 40 }, t, 1, 0, 64, 0);
    buf[4] = 0x65;
    assert_int_equal(vpn_mpls_router_input(f->r, IF_CORE1, VPN_MPLS_ETHERTYPE, buf, len) < 0, 1);
    /* Labelled frames from a CE, IP on a core link, unknown interfaces and EtherTypes. */
    len = frame(buf, l, t, 2, 0, 64, 0);
    assert_int_equal(vpn_mpls_router_input(f->r, IF_CE, VPN_MPLS_ETHERTYPE, buf, len), VPN_ERR_NOTFOUND);
    assert_int_equal(vpn_mpls_router_input(f->r, IF_CORE1, VPN_MPLS_ETHERTYPE_IPV4, buf + 8, len - 8),
                     VPN_ERR_NOTFOUND);
    assert_int_equal(vpn_mpls_router_input(f->r, 77, VPN_MPLS_ETHERTYPE, buf, len), VPN_ERR_NOTFOUND);
    assert_int_equal(vpn_mpls_router_input(f->r, IF_CORE1, 0x86dd, buf, len), VPN_ERR_NOTFOUND);
    assert_int_equal(s->drops[VPN_MPLS_DROP_IFACE], 4);
    /* Larger than the MTU. */
    assert_int_equal(vpn_mpls_router_input(f->r, IF_CORE1, VPN_MPLS_ETHERTYPE, buf, 1601), VPN_ERR_NOSPACE);
    /* Nothing was sent and no counter moved. */
    assert_int_equal(f->out.n, 0);
    for (size_t i = 0; i < vpn_mpls_lfib_count(f->r); i++)
        assert_int_equal(vpn_mpls_lfib_at(f->r, i)->packets, 0);
    drop_fx(f);
}

static void test_table_validation(void **state)
{
    (void)state;
    fx *f = make(VPN_MPLS_TTL_UNIFORM);
    vpn_mpls_lfib_entry e;
    memset(&e, 0, sizeof e);
    e.op = VPN_MPLS_OP_SWAP;
    e.out_label = 31;
    e.out_if = IF_CORE2;
    e.vrf = -1;
    for (uint32_t l = 0; l < 16; l++) {
        e.in_label = l;
        assert_int_equal(vpn_mpls_lfib_add(f->r, &e), VPN_ERR_INVAL);
    }
    e.in_label = 0x100000;
    assert_int_equal(vpn_mpls_lfib_add(f->r, &e), VPN_ERR_INVAL);
    e.in_label = 20;
    assert_int_equal(vpn_mpls_lfib_add(f->r, &e), VPN_ERR_EXISTS);
    e.in_label = 50;
    e.out_label = 3; /* implicit-null is not swapped in; that is a POP */
    assert_int_equal(vpn_mpls_lfib_add(f->r, &e), VPN_ERR_INVAL);
    e.out_label = 31;
    e.out_if = IF_CE; /* swap onto a CE link */
    assert_int_equal(vpn_mpls_lfib_add(f->r, &e), VPN_ERR_INVAL);
    e.op = VPN_MPLS_OP_POP_VRF;
    e.vrf = 1; /* not the interface's VRF */
    assert_int_equal(vpn_mpls_lfib_add(f->r, &e), VPN_ERR_INVAL);
    e.op = VPN_MPLS_OP_POP_LOOKUP;
    assert_int_equal(vpn_mpls_lfib_add(f->r, &e), VPN_ERR_INVAL);
    e.op = (vpn_mpls_op)9;
    assert_int_equal(vpn_mpls_lfib_add(f->r, &e), VPN_ERR_INVAL);
    assert_int_equal(vpn_mpls_lfib_count(f->r), 4);
    assert_int_equal(vpn_mpls_router_add_if(f->r, IF_CORE1, "x", VPN_MPLS_IF_CORE, NULL), VPN_ERR_EXISTS);
    assert_int_equal(vpn_mpls_router_add_if(f->r, 5, "x", VPN_MPLS_IF_CE, NULL), VPN_ERR_INVAL);
    vpn_addr lo = tu_addr("10.255.0.9"), nh = tu_addr("10.0.0.2");
    assert_int_equal(vpn_mpls_ftn_set(f->r, &lo, 5, IF_CORE2, &nh), VPN_ERR_INVAL);
    assert_int_equal(vpn_mpls_ftn_set(f->r, &lo, 16, IF_CE, &nh), VPN_ERR_INVAL);
    vpn_prefix p;
    assert_int_equal(vpn_prefix_parse(&p, "10.9.0.0/16"), 0);
    assert_int_equal(vpn_mpls_vrf_route_local(f->r, 3, &p, IF_CE, &nh), VPN_ERR_NOTFOUND);
    assert_int_equal(vpn_mpls_vrf_route_remote(f->r, 0, &p, &lo, 2), VPN_ERR_INVAL);
    vpn_prefix any, grp;
    assert_int_equal(vpn_prefix_parse(&any, "0.0.0.0/0"), 0);
    assert_int_equal(vpn_mpls_vrf_mroute_add(f->r, 0, &p, &any, NULL, 0, IF_CE), VPN_ERR_INVAL);
    assert_int_equal(vpn_prefix_parse(&grp, "239.0.0.0/8"), 0);
    assert_int_equal(vpn_mpls_vrf_mroute_add(f->r, 0, &grp, &any, NULL, 0, IF_CORE1), VPN_ERR_INVAL);
    drop_fx(f);
}

static void test_show(void **state)
{
    (void)state;
    fx *f = make(VPN_MPLS_TTL_UNIFORM);
    uint8_t buf[1600];
    uint32_t l[2] = { 20, 40 };
    uint8_t t[2] = { 60, 60 };
    size_t len = frame(buf, l, t, 2, 0, 60, 0);
    char out[2048];
    vpn_show_buf b;
    assert_int_equal(vpn_mpls_router_input(f->r, IF_CORE1, VPN_MPLS_ETHERTYPE, buf, len), 1);
    assert_int_equal(vpn_mpls_router_input(f->r, IF_CORE1, VPN_MPLS_ETHERTYPE, buf, len), 1);
    vpn_show_init(&b, out, sizeof out);
    assert_int_equal(vpn_show_mpls_forwarding(f->r, &b), 0);
    char want[1024];
    snprintf(want, sizeof want,
             "Local      Outgoing   Prefix           Bytes Label   Outgoing   Next Hop    \n"
             "Label      Label      or Tunnel Id     Switched      interface              \n"
             "20         30         10.255.0.3/32    %-13zu Gi0/2      10.0.0.2\n"
             "21         Pop Label  10.255.0.2/32    0             Gi0/2      10.0.0.2\n"
             "22         explicit-n 10.255.0.4/32    0             Gi0/2      10.0.0.2\n"
             "40         No Label   10.1.0.0/16[V]   0             Gi0/3      192.168.1.2\n",
             2 * len);
    assert_string_equal(out, want);
    /* A short buffer truncates and says so. */
    vpn_show_init(&b, out, 64);
    assert_int_equal(vpn_show_mpls_forwarding(f->r, &b), VPN_ERR_NOSPACE);
    assert_int_equal(strlen(out), 63);
    drop_fx(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_swap),
        cmocka_unit_test(test_php_uniform_and_pipe),
        cmocka_unit_test(test_explicit_null),
        cmocka_unit_test(test_egress_ttl),
        cmocka_unit_test(test_ttl_expiry),
        cmocka_unit_test(test_hostile_frames),
        cmocka_unit_test(test_table_validation),
        cmocka_unit_test(test_show),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
