/*
 * The decrypted view of IKE messages (vpn_ikev2_params.ike_plain, issue
 * 18): two engines in memory under a ChaCha20-Poly1305 IKE SA, which
 * Wireshark 4.0 cannot decrypt. Every encrypted message either side sends
 * or receives comes out once as the same message unencrypted (RFC 7296
 * 3.1 header, the SK payload's inner payloads in its place), framed in
 * IPv4/UDP with the SA's addresses and ports; sender's and receiver's views
 * are the same bytes; on port 4500 the non-ESP marker comes first; an AES
 * SA gives none; tshark reads the views with nothing malformed.
 */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/wire.h"
#include "ikev2/ikev2-codec.h"
#include "ikev2-wireshark.h"

#define MAX_VIEWS 64

typedef struct view {
    int node;
    bool outbound;
    uint32_t sa;
    uint8_t d[4096];
    size_t len;
} view;

static view *views;
static size_t n_views;

static void on_plain(void *user, uint32_t ike_sa_id, bool outbound, const uint8_t *dgram, size_t len)
{
    tp_node *nd = user;
    view *v;

    assert_true(n_views < MAX_VIEWS);
    assert_true(len <= sizeof views[0].d);
    v = &views[n_views++];
    v->node = nd->idx;
    v->outbound = outbound;
    v->sa = ike_sa_id;
    memcpy(v->d, dgram, len);
    v->len = len;
}

static peer_conf chacha(peer_conf c)
{
    c.encr = "chacha20-poly1305";
    c.integ = NULL;
    c.tset = "esp-chacha20-poly1305";
    return c;
}

static void add(tp_net *n, const peer_conf *c, const char *addr, const char *name)
{
    vpn_ikev2_params p;
    char *t = make_conf(c);
    tp_node *nd = tp_prepare(n, t, addr, name, &p);
    p.ike_plain = on_plain;
    assert_int_equal(vpn_ikev2_ctx_new(&nd->ctx, &p), 0);
    free(t);
}

static void up(tp_net *n, const peer_conf *a, const peer_conf *b, bool nat)
{
    vpn_ikev2_policy p = gre_policy("192.0.2.1", "192.0.2.2", 1);

    n_views = 0;
    memset(views, 0, MAX_VIEWS * sizeof *views);
    tp_init(n);
    add(n, a, "192.0.2.1", "R1");
    add(n, b, "192.0.2.2", "R2");
    if (nat)
        tp_nat(n, "203.0.113.77");
    initiate(n, &p);
    tp_run_for(n, 1);
    assert_int_equal(tp_count_ev(&n->node[0], VPN_IKEV2_EV_CHILD_UP), 1);
    assert_int_equal(tp_count_ev(&n->node[1], VPN_IKEV2_EV_CHILD_UP), 1);
}

/* The IKE message in a view (after IPv4, UDP and a marker on 4500). */
static const uint8_t *view_ike(const view *v, size_t *len, uint16_t *sport, uint16_t *dport)
{
    size_t off = 28;
    assert_true(v->len >= 28 + 28);
    assert_int_equal(v->d[0], 0x45);
    assert_int_equal(v->d[9], 17);
    assert_int_equal(vpn_load16(v->d + 2), v->len);
    assert_int_equal(vpn_load16(v->d + 24), v->len - 20);
    *sport = vpn_load16(v->d + 20);
    *dport = vpn_load16(v->d + 22);
    if (*sport == 4500 || *dport == 4500) {
        assert_memory_equal(v->d + 28, "\0\0\0\0", 4);
        off += 4;
    }
    *len = v->len - off;
    return v->d + off;
}

/* Encrypted datagrams (not IKE_SA_INIT) the network carried from node `from`. */
static size_t encrypted_sent(const tp_net *n, int from)
{
    size_t k = 0;
    for (size_t i = 0; i < n->n_log; i++)
        if (n->log[i]->from == from && tp_exchange(n->log[i]) != VPN_IKEV2_IKE_SA_INIT)
            k++;
    return k;
}

static size_t count_views(int node, bool outbound)
{
    size_t k = 0;
    for (size_t i = 0; i < n_views; i++)
        if (views[i].node == node && views[i].outbound == outbound)
            k++;
    return k;
}

/* Each view parses as an unencrypted IKEv2 message; each outbound view of
 * one node has the very same IKE bytes as an inbound view of the other. */
static void check_views(const tp_net *n)
{
    static vpn_ikev2_msg m;
    size_t auth_req = 0;

    for (size_t i = 0; i < n_views; i++) {
        const view *v = &views[i];
        size_t len, jl;
        uint16_t sp, dp, jsp, jdp;
        const uint8_t *ike = view_ike(v, &len, &sp, &dp);
        bool matched = false;

        assert_int_equal(vpn_ikev2_msg_parse(ike, len, &m), 0);
        assert_null(vpn_ikev2_msg_find(&m, VPN_IKEV2_PL_SK, NULL));
        assert_null(vpn_ikev2_msg_find(&m, VPN_IKEV2_PL_SKF, NULL));
        assert_int_equal(vpn_load32(ike + 24), len);
        if (m.hdr.exchange == VPN_IKEV2_IKE_AUTH && !(m.hdr.flags & VPN_IKEV2_FLAG_R)) {
            const vpn_ikev2_payload *id = vpn_ikev2_msg_find(&m, VPN_IKEV2_PL_IDI, NULL);
            assert_non_null(id);
            assert_non_null(vpn_ikev2_msg_find(&m, VPN_IKEV2_PL_AUTH, NULL));
            auth_req++;
        }
        if (!v->outbound)
            continue;
        /* the sender's view is the receiver's, but for the ports a NAT changed */
        for (size_t j = 0; j < n_views && !matched; j++) {
            const uint8_t *o;
            if (views[j].outbound || views[j].node == v->node)
                continue;
            o = view_ike(&views[j], &jl, &jsp, &jdp);
            matched = jl == len && memcmp(o, ike, len) == 0;
        }
        assert_true(matched);
    }
    assert_int_equal(auth_req, 2); /* one each side */
    (void)n;
}

static void write_pcap(const char *dir)
{
    char path[600];
    FILE *f;
    const uint32_t hdr[6] = {0xa1b2c3d4u, 2u | 4u << 16, 0, 0, 65535, 101};

    mkdirs(dir);
    snprintf(path, sizeof path, "%s/ikev2.pcap", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(hdr, sizeof hdr, 1, f), 1);
    for (size_t i = 0; i < n_views; i++) {
        uint32_t rec[4] = {(uint32_t)i, 0, (uint32_t)views[i].len, (uint32_t)views[i].len};
        assert_int_equal(fwrite(rec, sizeof rec, 1, f), 1);
        assert_int_equal(fwrite(views[i].d, views[i].len, 1, f), 1);
    }
    assert_int_equal(fclose(f), 0);
}

/* tshark reads the views: every one IKEv2 with its inner payloads, none malformed. */
static void check_tshark(const char *name, size_t want)
{
    run r;
    char *all, *bad, *idi;

    need_tshark();
    memset(&r, 0, sizeof r);
    snprintf(r.dir, sizeof r.dir, "test-out/ikev2-plainview/%s/", name);
    write_pcap(r.dir);
    all = tshark(&r, false, "-Y isakmp");
    bad = tshark(&r, false, "-Y '_ws.malformed || _ws.expert.severity >= error'");
    idi = tshark(&r, false, "-Y 'isakmp.nextpayload == 35 || isakmp.typepayload == 35'");
    assert_int_equal(lines(all), want);
    assert_int_equal(lines(bad), 0);
    assert_true(lines(idi) >= 1);
    free(all);
    free(bad);
    free(idi);
}

static void test_chacha_views(void **state)
{
    peer_conf a = chacha(conf_a()), b = chacha(conf_b());
    tp_net n;
    (void)state;

    up(&n, &a, &b, false);
    /* a CHILD_SA rekey and a liveness check: more exchanges under the SA */
    assert_int_equal(vpn_ikev2_child_rekey(n.node[0].ctx, n.now, n.node[0].ev[tp_find_ev(&n.node[0],
                                                                                          VPN_IKEV2_EV_CHILD_UP, 0)]
                                                                          .child.id),
                     0);
    tp_run_for(&n, 1);
    assert_int_equal(vpn_ikev2_dpd(n.node[1].ctx, n.now, tp_sa_id(&n, 1)), 0);
    tp_run_for(&n, 1);
    for (int k = 0; k < 2; k++) {
        assert_true(encrypted_sent(&n, k) >= 4);
        assert_int_equal(count_views(k, true), encrypted_sent(&n, k));
        assert_int_equal(count_views(k, false), encrypted_sent(&n, 1 - k));
    }
    check_views(&n);
    check_tshark("chacha", n_views);
    tp_free(&n);
}

static void test_chacha_views_nat(void **state)
{
    peer_conf a = chacha(conf_a()), b = chacha(conf_b());
    tp_net n;
    size_t on4500 = 0;
    (void)state;

    b.keyring_addr = "203.0.113.77";
    up(&n, &a, &b, true);
    for (size_t i = 0; i < n_views; i++) {
        size_t len;
        uint16_t sp, dp;
        view_ike(&views[i], &len, &sp, &dp);
        on4500 += sp == 4500 || dp == 4500;
    }
    assert_int_equal(on4500, n_views);
    assert_int_equal(n_views, 4); /* IKE_AUTH both ways, each seen by both */
    check_views(&n);
    check_tshark("chacha-nat", n_views);
    tp_free(&n);
}

static void test_aes_no_views(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    (void)state;

    /* Wireshark decrypts AES-CBC/HMAC-SHA256 with the key line: no view */
    up(&n, &a, &b, false);
    assert_true(encrypted_sent(&n, 0) >= 1);
    assert_int_equal(n_views, 0);
    tp_free(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chacha_views),
        cmocka_unit_test(test_chacha_views_nat),
        cmocka_unit_test(test_aes_no_views),
    };
    int rc;

    views = calloc(MAX_VIEWS, sizeof *views);
    if (views == NULL)
        return 1;
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    free(views);
    return rc;
}
