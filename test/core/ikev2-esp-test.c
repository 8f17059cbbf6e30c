/*
 * A CHILD_SA to its pair of ESP SA configurations (ikev2/ikev2-esp.h), and
 * a pair's counters to a show row (show/show-ikev2.h): field by field from
 * a hand-made CHILD_SA, bad arguments, and end to end (two engines agree
 * on a CHILD_SA, each side installs its pair, packets cross both ways and
 * the inbound selectors hold). Also the VTI child policy
 * (vpn_ikev2_policy_vti): tunnel mode whatever the transform set says.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ikev2-pair.h"
#include "ikev2/ikev2-esp.h"
#include "ipsec/esp.h"
#include "ipsec/pkt.h"
#include "pkt-build.h"
#include "show/show-ikev2.h"

#define CAP 2048
#define HEAD 128

static vpn_ikev2_selector range(const char *lo, const char *hi, uint8_t proto, uint16_t plo, uint16_t phi)
{
    vpn_ikev2_selector s;
    memset(&s, 0, sizeof s);
    s.family = VPN_AF_INET;
    s.proto = proto;
    s.port_lo = plo;
    s.port_hi = phi;
    s.addr_lo = tu_addr(lo);
    s.addr_hi = tu_addr(hi);
    return s;
}

typedef struct fake_child {
    vpn_ikev2_child_info c;
    vpn_key ei, ii, eo, io;
} fake_child;

static void fake(fake_child *f)
{
    memset(f, 0, sizeof *f);
    f->c.id = 9;
    f->c.policy_tag = 3;
    f->c.protocol = 3;
    f->c.spi_in = 0x11112222;
    f->c.spi_out = 0x33334444;
    f->c.encr = VPN_ENCR_AES_CBC;
    f->c.encr_key_bits = 256;
    f->c.integ = VPN_AUTH_HMAC_SHA2_256_128;
    f->c.esn = true;
    f->c.mode = VPN_CONF_MODE_TRANSPORT;
    f->ei.len = 32;
    tu_fill(f->ei.b, 32, 1);
    f->ii.len = 32;
    tu_fill(f->ii.b, 32, 2);
    f->eo.len = 32;
    tu_fill(f->eo.b, 32, 3);
    f->io.len = 32;
    tu_fill(f->io.b, 32, 4);
    f->c.encr_in = &f->ei;
    f->c.integ_in = &f->ii;
    f->c.encr_out = &f->eo;
    f->c.integ_out = &f->io;
    f->c.local.addr = tu_addr("198.51.100.1");
    f->c.local.port = 4500;
    f->c.remote.addr = tu_addr("203.0.113.9");
    f->c.remote.port = 31000; /* a NAT's port */
    f->c.udp_encap = true;
    f->c.ts_local[0] = range("10.1.0.0", "10.1.0.255", 0, 0, 65535);
    f->c.ts_local[1] = range("10.1.1.0", "10.1.1.255", 6, 80, 80);
    f->c.ts_remote[0] = range("10.2.0.0", "10.2.0.255", 17, 53, 53);
    f->c.ts_remote[1] = range("10.3.0.0", "10.3.0.255", 0, 0, 65535);
    f->c.n_ts_local = f->c.n_ts_remote = 2;
}

static void test_fields(void **state)
{
    fake_child f;
    vpn_ts ts[VPN_IKEV2_CHILD_TS_MAX];
    vpn_sa_config in, out;
    (void)state;

    fake(&f);
    assert_int_equal(vpn_ikev2_child_sa_configs(&f.c, ts, VPN_IKEV2_CHILD_TS_MAX, &in, &out), 0);

    /* shared */
    for (int k = 0; k < 2; k++) {
        const vpn_sa_config *s = k ? &out : &in;
        assert_int_equal(s->mode, VPN_ESP_TRANSPORT);
        assert_false(s->group);
        assert_int_equal(s->encr_id, VPN_ENCR_AES_CBC);
        assert_int_equal(s->encr_key_bits, 256);
        assert_int_equal(s->integ_id, VPN_AUTH_HMAC_SHA2_256_128);
        assert_true(s->esn);
        assert_int_equal(s->replay_window, 64);
        assert_int_equal(s->tbar_window_ms, 0);
        assert_int_equal(s->dscp, VPN_SA_DSCP_COPY);
        assert_true(s->udp_encap);
        assert_true(vpn_addr_eq(&s->local, &f.c.local.addr));
        assert_true(vpn_addr_eq(&s->remote, &f.c.remote.addr));
        assert_null(s->user);
        assert_int_equal(s->hard.time_ns, 0);
    }
    /* inbound: our SPI, the peer's sending keys, peer's port to ours */
    assert_int_equal(in.spi, 0x11112222);
    assert_int_equal(in.dir, VPN_SA_IN);
    assert_ptr_equal(in.encr_key, f.ei.b);
    assert_int_equal(in.encr_key_len, 32);
    assert_ptr_equal(in.integ_key, f.ii.b);
    assert_int_equal(in.integ_key_len, 32);
    assert_int_equal(in.udp_sport, 31000);
    assert_int_equal(in.udp_dport, 4500);
    /* outbound: the peer's SPI, our keys, our port to the peer's */
    assert_int_equal(out.spi, 0x33334444);
    assert_int_equal(out.dir, VPN_SA_OUT);
    assert_ptr_equal(out.encr_key, f.eo.b);
    assert_ptr_equal(out.integ_key, f.io.b);
    assert_int_equal(out.udp_sport, 4500);
    assert_int_equal(out.udp_dport, 31000);
    assert_null(out.ts);
    assert_int_equal(out.n_ts, 0);

    /* inbound selectors: remote (source) x local (destination), remote-major */
    assert_ptr_equal(in.ts, ts);
    assert_int_equal(in.n_ts, 4);
    for (size_t r = 0; r < 2; r++)
        for (size_t l = 0; l < 2; l++) {
            const vpn_ts *t = &ts[r * 2 + l];
            const vpn_ikev2_selector *src = &f.c.ts_remote[r], *dst = &f.c.ts_local[l];
            assert_int_equal(t->proto, src->proto ? src->proto : dst->proto);
            assert_true(vpn_addr_eq(&t->src_lo, &src->addr_lo));
            assert_true(vpn_addr_eq(&t->src_hi, &src->addr_hi));
            assert_true(vpn_addr_eq(&t->dst_lo, &dst->addr_lo));
            assert_true(vpn_addr_eq(&t->dst_hi, &dst->addr_hi));
            assert_int_equal(t->sport_lo, src->port_lo);
            assert_int_equal(t->sport_hi, src->port_hi);
            assert_int_equal(t->dport_lo, dst->port_lo);
            assert_int_equal(t->dport_hi, dst->port_hi);
        }
    assert_int_equal(ts[0].proto, 17); /* the source's protocol wins */
    assert_int_equal(ts[3].proto, 6);  /* any source: the destination's */

    /* tunnel mode, AEAD without integrity keys */
    f.c.mode = VPN_CONF_MODE_TUNNEL;
    f.c.integ = VPN_INTEG_NONE;
    f.c.integ_in = f.c.integ_out = NULL;
    assert_int_equal(vpn_ikev2_child_sa_configs(&f.c, ts, VPN_IKEV2_CHILD_TS_MAX, &in, &out), 0);
    assert_int_equal(in.mode, VPN_ESP_TUNNEL);
    assert_int_equal(out.mode, VPN_ESP_TUNNEL);
    assert_null(in.integ_key);
    assert_int_equal(in.integ_key_len, 0);
    assert_null(out.integ_key);
    assert_int_equal(out.integ_key_len, 0);
}

static bool zeroed(const vpn_sa_config *c)
{
    static const vpn_sa_config z;
    return memcmp(c, &z, sizeof z) == 0;
}

static void test_bad_arguments(void **state)
{
    fake_child f;
    vpn_ts ts[VPN_IKEV2_CHILD_TS_MAX];
    vpn_sa_config in, out;
    (void)state;

    fake(&f);
    assert_int_equal(vpn_ikev2_child_sa_configs(NULL, ts, 16, &in, &out), VPN_ERR_INVAL);
    assert_true(zeroed(&in) && zeroed(&out));
    assert_int_equal(vpn_ikev2_child_sa_configs(&f.c, ts, 16, NULL, &out), VPN_ERR_INVAL);
    assert_int_equal(vpn_ikev2_child_sa_configs(&f.c, ts, 16, &in, NULL), VPN_ERR_INVAL);
    assert_true(zeroed(&in));
    assert_int_equal(vpn_ikev2_child_sa_configs(&f.c, NULL, 16, &in, &out), VPN_ERR_INVAL);
    f.c.encr_out = NULL;
    assert_int_equal(vpn_ikev2_child_sa_configs(&f.c, ts, 16, &in, &out), VPN_ERR_INVAL);
    f.c.encr_out = &f.eo;
    f.c.encr_in = NULL;
    assert_int_equal(vpn_ikev2_child_sa_configs(&f.c, ts, 16, &in, &out), VPN_ERR_INVAL);
    f.c.encr_in = &f.ei;
    f.c.n_ts_local = VPN_IKEV2_TS_MAX + 1;
    assert_int_equal(vpn_ikev2_child_sa_configs(&f.c, ts, 16, &in, &out), VPN_ERR_INVAL);
    f.c.n_ts_local = 2;

    /* 2 x 2 selectors need 4 places */
    memset(ts, 0xa5, sizeof ts);
    assert_int_equal(vpn_ikev2_child_sa_configs(&f.c, ts, 3, &in, &out), VPN_ERR_NOSPACE);
    assert_true(zeroed(&in) && zeroed(&out));
    assert_int_equal(ts[0].proto, 0xa5); /* nothing written */
    assert_int_equal(vpn_ikev2_child_sa_configs(&f.c, ts, 4, &in, &out), 0);
    assert_int_equal(in.n_ts, 4);

    /* no selectors: no buffer needed, none installed (accept any) */
    f.c.n_ts_local = f.c.n_ts_remote = 0;
    assert_int_equal(vpn_ikev2_child_sa_configs(&f.c, NULL, 0, &in, &out), 0);
    assert_null(in.ts);
    assert_int_equal(in.n_ts, 0);
}

/* One node's SAs: both of its CHILD_SA pair in its own SAD. */
typedef struct side {
    vpn_rng rng;
    tu_rng st;
    vpn_sad *sad;
    vpn_sa *in, *out;
} side;

static void install(side *s, const tp_event *e)
{
    tu_rng_init(&s->rng, &s->st);
    assert_int_equal(vpn_sad_new(&s->sad, &s->rng), 0);
    tp_child_install(s->sad, e, &s->in, &s->out);
}

/* Sends one UDP packet src -> dst from a to b; returns b's decap result. */
static int cross(side *a, side *b, const char *src, const char *dst, uint32_t seed)
{
    uint8_t buf[CAP], orig[CAP], pl[100];
    vpn_addr s = tu_addr(src), d = tu_addr(dst);
    vpn_pkt p;
    vpn_esp_rx rx;
    size_t n;
    int rc;

    tu_fill(pl, sizeof pl, seed);
    n = tu_build_udp(orig, CAP, &s, &d, 4000, 5000, 0, pl, sizeof pl);
    vpn_pkt_init(&p, buf, CAP, HEAD);
    memcpy(vpn_pkt_put(&p, n), orig, n);
    assert_int_equal(vpn_esp_encap(a->out, &p, 0), 0);
    rc = vpn_esp_decap(b->sad, &p, 0, &rx);
    if (rc == 0) {
        assert_int_equal(rx.verdict, VPN_ESP_DELIVER);
        assert_ptr_equal(rx.sa, b->in);
        assert_int_equal(p.len, n);
        assert_memory_equal(vpn_pkt_data(&p), orig, n);
    }
    return rc;
}

static void test_two_engines_carry_traffic(void **state)
{
    tp_net n;
    peer_conf ca = conf_a(), cb = conf_b();
    vpn_ikev2_policy pol;
    side r1, r2;
    vpn_show_child_counters row;
    int e1, e2;
    (void)state;

    setup(&n, &ca, &cb);
    memset(&pol, 0, sizeof pol);
    pol.ipsec_profile = "IPP";
    pol.ts_local[0] = sel("10.1.0.0/24", 0);
    pol.ts_remote[0] = sel("10.2.0.0/24", 0);
    pol.ts_remote[1] = sel("10.3.0.0/24", 0);
    pol.n_ts_local = 1;
    pol.n_ts_remote = 2;
    initiate(&n, &pol);
    tp_run_for(&n, 10);
    e1 = tp_find_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP, 0);
    e2 = tp_find_ev(&n.node[1], VPN_IKEV2_EV_CHILD_UP, 0);
    assert_true(e1 >= 0 && e2 >= 0);
    tp_assert_child_pair(&n.node[0].ev[e1], &n.node[1].ev[e2]);
    install(&r1, &n.node[0].ev[e1]);
    install(&r2, &n.node[1].ev[e2]);

    /* both ways, into either of R2's subnets */
    assert_int_equal(cross(&r1, &r2, "10.1.0.5", "10.2.0.7", 1), 0);
    assert_int_equal(cross(&r1, &r2, "10.1.0.5", "10.3.0.7", 2), 0);
    assert_int_equal(cross(&r2, &r1, "10.3.0.7", "10.1.0.5", 3), 0);
    /* outside the CHILD_SA's selectors: refused after decryption (RFC 4301 5.2) */
    assert_int_equal(cross(&r1, &r2, "10.1.0.5", "10.4.0.7", 4), VPN_ERR_POLICY);
    assert_int_equal(cross(&r2, &r1, "10.2.0.7", "10.9.0.5", 5), VPN_ERR_POLICY);

    /* the show rows of both ends */
    assert_int_equal(vpn_show_child_counters_from_sas(r1.in, r1.out, &row), 0);
    assert_int_equal(row.pkts_encaps, 3);
    assert_int_equal(row.pkts_encrypt, 3);
    assert_int_equal(row.pkts_digest, 3);
    assert_int_equal(row.pkts_decaps, 1);
    assert_int_equal(row.pkts_decrypt, 1);
    assert_int_equal(row.pkts_verify, 1);
    assert_int_equal(row.recv_errors, 1);
    assert_int_equal(row.send_errors, 0);
    assert_int_equal(row.bytes_out, vpn_sa_get_stats(r1.out)->bytes_out);
    assert_true(row.bytes_out > 0);
    assert_int_equal(row.bytes_in, vpn_sa_get_stats(r1.in)->bytes_in);
    assert_true(row.bytes_in > 0);
    assert_int_equal(row.drop_in, 0);
    assert_int_equal(row.drop_out, 0);
    assert_int_equal(vpn_show_child_counters_from_sas(r2.in, r2.out, &row), 0);
    assert_int_equal(row.pkts_encaps, 2);
    assert_int_equal(row.pkts_decaps, 2);
    assert_int_equal(row.pkts_verify, 2);
    assert_int_equal(row.recv_errors, 1);

    /* bad arguments: an error and a zero row */
    assert_int_equal(vpn_show_child_counters_from_sas(NULL, r2.out, &row), VPN_ERR_INVAL);
    assert_int_equal(row.pkts_encaps, 0);
    assert_int_equal(vpn_show_child_counters_from_sas(r2.in, NULL, &row), VPN_ERR_INVAL);
    assert_int_equal(row.pkts_decaps, 0);
    assert_int_equal(vpn_show_child_counters_from_sas(r2.in, r2.out, NULL), VPN_ERR_INVAL);

    vpn_sad_del(r1.sad);
    vpn_sad_del(r2.sad);
    tp_free(&n);
}

/* Brings a CHILD_SA up between R1 and R2 (both with transform sets in
 * `mode transport`); R1 initiates with p1, R2 answers with p2 (NULL: its
 * implicit policy). Returns R1's and R2's CHILD_UP events. */
static void transport_tsets_up(tp_net *n, const vpn_ikev2_policy *p1, const vpn_ikev2_policy *p2,
                               const tp_event **e1, const tp_event **e2)
{
    peer_conf ca = conf_a(), cb = conf_b();
    int i1, i2;

    ca.mode = cb.mode = "transport";
    setup(n, &ca, &cb);
    if (p2)
        assert_int_equal(vpn_ikev2_policy_add(n->node[1].ctx, p2), 0);
    initiate(n, p1);
    tp_run_for(n, 10);
    i1 = tp_find_ev(&n->node[0], VPN_IKEV2_EV_CHILD_UP, 0);
    i2 = tp_find_ev(&n->node[1], VPN_IKEV2_EV_CHILD_UP, 0);
    assert_true(i1 >= 0 && i2 >= 0);
    *e1 = &n->node[0].ev[i1];
    *e2 = &n->node[1].ev[i2];
    tp_assert_child_pair(*e1, *e2);
}

static void test_vti_policy(void **state)
{
    vpn_ikev2_policy p;
    vpn_addr peer = tu_addr("2001:db8::2");
    vpn_prefix any = {0};
    vpn_ikev2_selector want;
    (void)state;

    any.addr.family = VPN_AF_INET;
    vpn_ikev2_selector_from_prefix(&want, &any, 0);
    memset(&p, 0x5a, sizeof p);
    vpn_ikev2_policy_vti(&p, "IPP", &peer, 4);
    assert_string_equal(p.ipsec_profile, "IPP");
    assert_true(vpn_addr_eq(&p.remote.addr, &peer));
    assert_int_equal(p.remote.len, 128);
    assert_int_equal(p.tag, 4);
    assert_true(p.tunnel_mode_only);
    /* IPv4 any/any even over an IPv6 underlay */
    assert_int_equal(p.n_ts_local, 1);
    assert_int_equal(p.n_ts_remote, 1);
    assert_memory_equal(&p.ts_local[0], &want, sizeof want);
    assert_memory_equal(&p.ts_remote[0], &want, sizeof want);
    assert_int_equal(p.ts_local[1].family, 0); /* the rest zeroed */
    peer = tu_addr("192.0.2.2");
    vpn_ikev2_policy_vti(&p, "IPP", &peer, 0);
    assert_int_equal(p.remote.len, 32);
}

/*
 * IOS ignores `mode transport` on a VTI: the SA is tunnel mode, and
 * traffic between any inner addresses crosses it. Checked with the VTI
 * policy on both ends, on the initiator alone (it does not ask for
 * transport mode) and on the responder alone (it does not grant it);
 * without it both ends agree on transport mode, as for GRE/IPsec.
 */
static void test_vti_is_tunnel_mode_whatever_the_transform_set(void **state)
{
    tp_net n;
    vpn_ikev2_policy v1, v2, plain1, plain2;
    vpn_addr a1 = tu_addr("192.0.2.1"), a2 = tu_addr("192.0.2.2");
    const tp_event *e1, *e2;
    side r1, r2;
    (void)state;

    vpn_ikev2_policy_vti(&v1, "IPP", &a2, 0);
    vpn_ikev2_policy_vti(&v2, "IPP", &a1, 0);
    plain1 = v1;
    plain1.tunnel_mode_only = false;
    plain2 = v2;
    plain2.tunnel_mode_only = false;

    /* both ends VTIs: tunnel mode, and packets between inner hosts cross */
    transport_tsets_up(&n, &v1, &v2, &e1, &e2);
    assert_int_equal(e1->child.mode, VPN_CONF_MODE_TUNNEL);
    assert_int_equal(e2->child.mode, VPN_CONF_MODE_TUNNEL);
    install(&r1, e1);
    install(&r2, e2);
    assert_int_equal(cross(&r1, &r2, "10.1.0.5", "10.2.0.7", 1), 0);
    assert_int_equal(cross(&r2, &r1, "10.2.0.7", "10.1.0.5", 2), 0);
    vpn_sad_del(r1.sad);
    vpn_sad_del(r2.sad);
    tp_free(&n);

    /* only the initiator a VTI: it does not ask for transport mode */
    transport_tsets_up(&n, &v1, &plain2, &e1, &e2);
    assert_int_equal(e1->child.mode, VPN_CONF_MODE_TUNNEL);
    assert_int_equal(e2->child.mode, VPN_CONF_MODE_TUNNEL);
    tp_free(&n);

    /* only the responder a VTI: it does not grant transport mode */
    transport_tsets_up(&n, &plain1, &v2, &e1, &e2);
    assert_int_equal(e1->child.mode, VPN_CONF_MODE_TUNNEL);
    assert_int_equal(e2->child.mode, VPN_CONF_MODE_TUNNEL);
    tp_free(&n);

    /* neither (what GRE/IPsec policies are): the transform set's transport mode */
    transport_tsets_up(&n, &plain1, &plain2, &e1, &e2);
    assert_int_equal(e1->child.mode, VPN_CONF_MODE_TRANSPORT);
    assert_int_equal(e2->child.mode, VPN_CONF_MODE_TRANSPORT);
    tp_free(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_two_engines_carry_traffic),
        cmocka_unit_test(test_vti_policy),
        cmocka_unit_test(test_vti_is_tunnel_mode_whatever_the_transform_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
