/*
 * The router's contract at its edges: params checks, NULL-safe getters,
 * configuration errors, the GRE child policy (permit 47), tunnel MTUs from
 * the transform sets, manual keying between two routers without IKE, bad
 * tunnel input, the show surface, and the drop names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto-ids.h"
#include "gre/gre.h"
#include "router-net.h"

static bool no_esp(void *u, const vpn_router_esp_out *o)
{
    (void)u;
    (void)o;
    return true;
}

static bool no_deliver(void *u, uint32_t t, const uint8_t *d, size_t l)
{
    (void)u;
    (void)t;
    (void)d;
    (void)l;
    return true;
}

static void test_params_and_null(void **state)
{
    vpn_router_params p;
    vpn_router *r = NULL;
    vpn_router_stats st;
    vpn_sad_stats sst;
    vpn_router_tunnel_info ti;
    vpn_drbg drbg;
    vpn_show_buf b;
    char text[64];
    uint16_t mtu;
    (void)state;

    assert_int_equal(vpn_router_new(NULL, NULL), VPN_ERR_INVAL);
    vpn_router_params_init(&p);
    assert_int_equal(vpn_router_new(&r, &p), VPN_ERR_INVAL); /* no callbacks, no RNG */
    assert_int_equal(vpn_drbg_init(&drbg, "x", 1), 0);
    vpn_rng_init_drbg(&p.rng, &drbg);
    p.send_esp = no_esp;
    assert_int_equal(vpn_router_new(&r, &p), VPN_ERR_INVAL); /* no deliver */
    p.deliver = no_deliver;
    p.conf = (const vpn_conf *)&p; /* IKE wanted but no send_udp */
    assert_int_equal(vpn_router_new(&r, &p), VPN_ERR_INVAL);
    p.conf = NULL;
    assert_int_equal(vpn_router_new(&r, &p), 0);
    assert_null(vpn_router_ikev2(r));
    assert_int_equal(vpn_router_tunnel_initiate(r, 0, 0), VPN_ERR_INVAL);
    vpn_router_del(r);

    /* a NULL router: getters answer, verbs refuse, nothing crashes */
    vpn_router_del(NULL);
    assert_int_equal(vpn_router_tunnel_count(NULL), 0);
    memset(&st, 0xaa, sizeof st);
    vpn_router_stats_get(NULL, &st);
    assert_int_equal(st.esp_in, 0);
    vpn_router_sad_stats(NULL, &sst);
    assert_int_equal(sst.no_sa, 0);
    assert_int_equal(vpn_router_tunnel_get(NULL, 0, &ti), VPN_ERR_INVAL);
    assert_false(vpn_router_sa_get(NULL, NULL, NULL, NULL));
    assert_false(vpn_router_child_sas(NULL, 1, NULL, NULL));
    assert_int_equal(vpn_router_next_deadline(NULL), UINT64_MAX);
    assert_int_equal(vpn_router_timeout(NULL, 0), VPN_ERR_INVAL);
    assert_int_equal(vpn_router_tunnel_output(NULL, 0, 0, NULL), VPN_ROUTER_DROP_ARGS);
    assert_int_equal(vpn_router_udp_input(NULL, 0, NULL, NULL, NULL), VPN_ROUTER_DROP_ARGS);
    assert_int_equal(vpn_router_ip_input(NULL, 0, NULL), VPN_ROUTER_DROP_ARGS);
    assert_int_equal(vpn_router_esp_input(NULL, 0, NULL, NULL), VPN_ROUTER_DROP_ARGS);
    assert_int_equal(vpn_router_tunnel_mtu(NULL, 0, 1500, &mtu), VPN_ERR_INVAL);
    assert_null(vpn_router_ikev2(NULL));
    vpn_show_init(&b, text, sizeof text);
    assert_int_equal(vpn_router_show_ikev2_sa(NULL, 0, false, &b), VPN_ERR_INVAL);
    assert_int_equal(vpn_router_show_drops(NULL, &b), VPN_ERR_INVAL);
    vpn_drbg_free(&drbg);
}

static void test_drop_names(void **state)
{
    (void)state;
    for (int i = 0; i < VPN_ROUTER_DROP_COUNT; i++) {
        assert_non_null(vpn_router_drop_name((vpn_router_drop)i));
        assert_string_not_equal(vpn_router_drop_name((vpn_router_drop)i), "?");
        for (int j = 0; j < i; j++)
            assert_string_not_equal(vpn_router_drop_name((vpn_router_drop)i),
                                    vpn_router_drop_name((vpn_router_drop)j));
    }
    assert_string_equal(vpn_router_drop_name(VPN_ROUTER_DROP_COUNT), "?");
    assert_string_equal(vpn_router_drop_name((vpn_router_drop)-1), "?");
}

static void test_gre_policy(void **state)
{
    vpn_ikev2_policy pol;
    vpn_addr s = tu_addr("192.0.2.1"), d = tu_addr("192.0.2.2");
    (void)state;

    vpn_router_gre_policy(&pol, "IPP", &s, &d, 7);
    assert_string_equal(pol.ipsec_profile, "IPP");
    assert_int_equal(pol.tag, 7);
    assert_int_equal(pol.remote.len, 32);
    assert_true(vpn_addr_eq(&pol.remote.addr, &d));
    assert_int_equal(pol.n_ts_local, 1);
    assert_int_equal(pol.n_ts_remote, 1);
    assert_int_equal(pol.ts_local[0].proto, 47);
    assert_int_equal(pol.ts_remote[0].proto, 47);
    assert_true(vpn_addr_eq(&pol.ts_local[0].addr_lo, &s) && vpn_addr_eq(&pol.ts_local[0].addr_hi, &s));
    assert_true(vpn_addr_eq(&pol.ts_remote[0].addr_lo, &d) && vpn_addr_eq(&pol.ts_remote[0].addr_hi, &d));
    assert_false(pol.tunnel_mode_only);
}

static void test_tunnel_config_errors(void **state)
{
    rn_net n;
    vpn_router_tunnel_config tc;
    char *c = rn_flex_conf(0, NULL, NULL, NULL, NULL, NULL);
    uint32_t id;
    (void)state;

    rn_init(&n);
    rn_add(&n, 0, c, VPN_ROUTER_TUNNEL_GRE_IPSEC, true, NULL);
    free(c);
    memset(&tc, 0, sizeof tc);
    tc.mode = VPN_ROUTER_TUNNEL_VTI;
    tc.src = tu_addr("192.0.2.1");
    tc.dst = tu_addr("2001:db8::2");
    tc.ipsec_profile = "IPP";
    assert_int_equal(vpn_router_tunnel_add(n.node[0].r, &tc, &id), VPN_ERR_INVAL); /* families */
    tc.dst = tu_addr("192.0.2.9");
    tc.mode = (vpn_router_tunnel_mode)9;
    assert_int_equal(vpn_router_tunnel_add(n.node[0].r, &tc, &id), VPN_ERR_INVAL);
    tc.mode = VPN_ROUTER_TUNNEL_VTI;
    tc.ipsec_profile = NULL;
    assert_int_equal(vpn_router_tunnel_add(n.node[0].r, &tc, &id), VPN_ERR_INVAL);
    tc.ipsec_profile = "NOPE";
    assert_int_equal(vpn_router_tunnel_add(n.node[0].r, &tc, &id), VPN_ERR_NOTFOUND);
    /* nothing half-added */
    assert_int_equal(vpn_router_tunnel_count(n.node[0].r), 1);
    tc.ipsec_profile = "IPP";
    tc.name = NULL;
    assert_int_equal(vpn_router_tunnel_add(n.node[0].r, &tc, &id), 0);
    assert_int_equal(id, 1);
    {
        vpn_router_tunnel_info ti;
        assert_int_equal(vpn_router_tunnel_get(n.node[0].r, 1, &ti), 0);
        assert_string_equal(ti.name, "Tunnel1");
        assert_int_equal(ti.out_child, 0);
        assert_int_equal(vpn_router_tunnel_get(n.node[0].r, 2, &ti), VPN_ERR_NOTFOUND);
    }
    rn_free(&n);
}

/* MTUs (vpn_esp_tunnel_mtu) before and after an SA: the worst transform
 * set's, a VTI always tunnel mode, then the SA's own (NAT-T included). */
static void test_tunnel_mtu(void **state)
{
    rn_net n;
    char *c = rn_flex_conf(0, NULL, NULL, NULL, "transport", NULL);
    vpn_router_tunnel_config tc;
    vpn_esp_shape s;
    vpn_gre_hdr g;
    size_t want;
    uint16_t mtu;
    uint32_t vti;
    (void)state;

    rn_init(&n);
    rn_add(&n, 0, c, VPN_ROUTER_TUNNEL_GRE_IPSEC, false, NULL);
    free(c);
    memset(&s, 0, sizeof s);
    s.encr_id = VPN_ENCR_AES_CBC;
    s.encr_key_bits = 256;
    s.integ_id = VPN_AUTH_HMAC_SHA2_256_128;
    s.mode = VPN_ESP_TRANSPORT;
    s.outer_family = VPN_AF_INET;
    memset(&g, 0, sizeof g);
    assert_int_equal(vpn_esp_tunnel_mtu(&s, 1500, vpn_gre_hdr_len(&g), &want), 0);
    assert_int_equal(vpn_router_tunnel_mtu(n.node[0].r, 0, 1500, &mtu), 0);
    assert_int_equal(mtu, want);
    memset(&tc, 0, sizeof tc);
    tc.mode = VPN_ROUTER_TUNNEL_VTI;
    tc.src = tu_addr("192.0.2.1");
    tc.dst = tu_addr("192.0.2.3");
    tc.ipsec_profile = "IPP";
    assert_int_equal(vpn_router_tunnel_add(n.node[0].r, &tc, &vti), 0);
    s.mode = VPN_ESP_TUNNEL; /* mode transport is ignored on a VTI */
    assert_int_equal(vpn_esp_tunnel_mtu(&s, 1500, 0, &want), 0);
    assert_int_equal(vpn_router_tunnel_mtu(n.node[0].r, vti, 1500, &mtu), 0);
    assert_int_equal(mtu, want);
    /* a WAN too small for anything: IPv4's 68 */
    assert_int_equal(vpn_router_tunnel_mtu(n.node[0].r, vti, 60, &mtu), 0);
    assert_int_equal(mtu, 68);
    assert_int_equal(vpn_router_tunnel_mtu(n.node[0].r, 5, 1500, &mtu), VPN_ERR_NOTFOUND);
    /* the guess before any configuration: AES-CBC-256, SHA-512, NAT-T */
    memset(&s, 0, sizeof s);
    s.encr_id = VPN_ENCR_AES_CBC;
    s.encr_key_bits = 256;
    s.integ_id = VPN_AUTH_HMAC_SHA2_512_256;
    s.mode = VPN_ESP_TUNNEL;
    s.udp_encap = true;
    s.outer_family = VPN_AF_INET;
    assert_int_equal(vpn_esp_tunnel_mtu(&s, 1500, vpn_gre_hdr_len(&g), &want), 0);
    assert_int_equal(vpn_router_mtu_guess(VPN_ROUTER_TUNNEL_GRE_IPSEC, false, VPN_AF_INET, 1500, &mtu), 0);
    assert_int_equal(mtu, want);
    assert_int_equal(vpn_router_mtu_guess(VPN_ROUTER_TUNNEL_VTI, false, 0, 1500, &mtu), VPN_ERR_INVAL);
    rn_free(&n);
}

/* Two routers without IKE, keyed by hand (the manual-key helper's way),
 * VTI and GRE/IPsec; bad input to the tunnel. */
static void manual_pair(vpn_router_tunnel_mode mode)
{
    rn_net n;
    uint8_t ekey[64], ikey[64];
    tu_esp_alg alg = {"aes-gcm", VPN_ENCR_AES_GCM_16, 256, 0};
    vpn_router_sa_ref ref;
    vpn_router_tunnel_info ti;
    vpn_sa_config cfg;
    uint16_t mtu_before, mtu_after;
    static uint8_t buf[RN_BUF];
    vpn_pkt pkt;

    rn_init(&n);
    rn_add(&n, 0, NULL, mode, false, NULL);
    rn_add(&n, 1, NULL, mode, false, NULL);
    assert_int_equal(vpn_router_tunnel_mtu(n.node[0].r, 0, 1500, &mtu_before), 0);
    /* without an SA the tunnel drops, and asks nobody (no IKE) */
    assert_int_equal(rn_send(&n.node[0]), VPN_ROUTER_DROP_NO_SA);
    assert_int_equal(vpn_router_next_deadline(n.node[0].r), UINT64_MAX);
    for (int dir = 0; dir < 2; dir++) {
        rn_node *tx = &n.node[dir], *rx = &n.node[1 - dir];
        memset(&cfg, 0, sizeof cfg);
        cfg.spi = 0x1000u + (uint32_t)dir;
        cfg.mode = mode == VPN_ROUTER_TUNNEL_VTI ? VPN_ESP_TUNNEL : VPN_ESP_TRANSPORT;
        tu_esp_sa_keys(&cfg, &alg, ekey, ikey, 40u + (uint32_t)dir);
        cfg.local = tx->addr;
        cfg.remote = rx->addr;
        cfg.replay_window = 64;
        cfg.dir = VPN_SA_OUT;
        assert_int_equal(vpn_router_sa_add(tx->r, n.now, tx->tunnel, &cfg, &ref), 0);
        assert_int_equal(ref.spi, cfg.spi);
        cfg.local = rx->addr;
        cfg.remote = tx->addr;
        cfg.dir = VPN_SA_IN;
        assert_int_equal(vpn_router_sa_add(rx->r, n.now, rx->tunnel, &cfg, NULL), 0);
        assert_int_equal(vpn_router_sa_add(rx->r, n.now, rx->tunnel, &cfg, NULL), VPN_ERR_EXISTS);
    }
    assert_int_equal(vpn_router_tunnel_get(n.node[0].r, 0, &ti), 0);
    assert_int_equal(ti.out_sa.spi, 0x1000);
    assert_int_equal(ti.out_child, 0); /* no CHILD_SA: a manual SA */
    assert_int_equal(vpn_router_tunnel_mtu(n.node[0].r, 0, 1500, &mtu_after), 0);
    assert_true(mtu_after != mtu_before); /* GCM is smaller than the guess */
    for (int i = 0; i < 20; i++) {
        assert_int_equal(rn_send(&n.node[0]), VPN_ROUTER_DROP_NONE);
        assert_int_equal(rn_send(&n.node[1]), VPN_ROUTER_DROP_NONE);
    }
    rn_run_for(&n, 1);
    assert_int_equal(n.node[1].rx, 20);
    assert_int_equal(n.node[0].rx, 20);
    assert_int_equal(vpn_router_tunnel_get(n.node[1].r, 0, &ti), 0);
    assert_int_equal(ti.decrypted, 20);
    assert_int_equal(ti.encrypted, 20);
    {
        vpn_router_sa_ref refs[4];
        vpn_sa_stats st;
        assert_int_equal(vpn_router_sa_list(n.node[1].r, refs, 4), 2);
        assert_int_equal(vpn_router_sa_list(n.node[1].r, NULL, 0), 2);
        assert_int_equal(vpn_router_sa_list(NULL, refs, 4), 0);
        assert_true(vpn_router_sa_get(n.node[1].r, &refs[0], NULL, &st));
        assert_true(st.pkts_in + st.pkts_out == 20);
    }

    /* bad input: not IP, unknown tunnel, nothing */
    vpn_pkt_init(&pkt, buf, sizeof buf, VPN_PKT_HEADROOM);
    memset(vpn_pkt_put(&pkt, 40), 0x11, 40);
    assert_int_equal(vpn_router_tunnel_output(n.node[0].r, n.now, 0, &pkt), VPN_ROUTER_DROP_NOT_IP);
    assert_int_equal(vpn_router_tunnel_output(n.node[0].r, n.now, 9, &pkt), VPN_ROUTER_DROP_ARGS);
    pkt.len = 0;
    assert_int_equal(vpn_router_tunnel_output(n.node[0].r, n.now, 0, &pkt), VPN_ROUTER_DROP_NOT_IP);
    /* a whole IP packet that is no ESP */
    pkt.len = tu_build_udp(vpn_pkt_data(&pkt), 2048, &n.node[0].addr, &n.node[1].addr, 1, 2, 0,
                           (const uint8_t *)"abcd", 4);
    assert_int_equal(vpn_router_ip_input(n.node[1].r, n.now, &pkt), VPN_ROUTER_DROP_ESP_MALFORMED);

    /* removing the outbound SA leaves the tunnel without one */
    ref.spi = 0x1000;
    ref.dir = VPN_SA_OUT;
    assert_int_equal(vpn_router_sa_remove(n.node[0].r, &ref), 0);
    assert_int_equal(vpn_router_sa_remove(n.node[0].r, &ref), VPN_ERR_NOTFOUND);
    assert_int_equal(rn_send(&n.node[0]), VPN_ROUTER_DROP_NO_SA);
    rn_free(&n);
}

static void test_manual_vti(void **state)
{
    (void)state;
    manual_pair(VPN_ROUTER_TUNNEL_VTI);
}

static void test_manual_gre(void **state)
{
    (void)state;
    manual_pair(VPN_ROUTER_TUNNEL_GRE_IPSEC);
}

/* The show surface with this router's tunnel names and counters. */
static void test_show(void **state)
{
    rn_net n;
    char *a = rn_flex_conf(0, NULL, NULL, NULL, NULL, NULL), *b = rn_flex_conf(1, NULL, NULL, NULL, NULL, NULL);
    static char text[16384];
    vpn_show_buf sb;
    (void)state;

    rn_init(&n);
    rn_add(&n, 0, a, VPN_ROUTER_TUNNEL_GRE_IPSEC, true, NULL);
    rn_add(&n, 1, b, VPN_ROUTER_TUNNEL_GRE_IPSEC, false, NULL);
    free(a);
    free(b);
    vpn_router_start(n.node[0].r, n.now);
    rn_run_for(&n, 1);
    for (int i = 0; i < 7; i++)
        rn_send(&n.node[0]);
    rn_run_for(&n, 1);
    vpn_show_init(&sb, text, sizeof text);
    assert_int_equal(vpn_router_show_ipsec_sa(n.node[1].r, n.now, false, &sb), 0);
    assert_non_null(strstr(text, "interface: Tunnel0"));
    assert_non_null(strstr(text, "#pkts decaps: 7"));
    vpn_show_init(&sb, text, sizeof text);
    assert_int_equal(vpn_router_show_crypto_session(n.node[0].r, n.now, false, &sb), 0);
    assert_non_null(strstr(text, "Tunnel0"));
    vpn_show_init(&sb, text, sizeof text);
    assert_int_equal(vpn_router_show_ikev2_sa(n.node[0].r, n.now, false, &sb), 0);
    assert_non_null(strstr(text, "READY"));
    vpn_show_init(&sb, text, sizeof text);
    assert_int_equal(vpn_router_show_drops(n.node[0].r, &sb), 0);
    assert_string_equal(text, "");
    /* a buffer too small says so */
    vpn_show_init(&sb, text, 16);
    assert_int_equal(vpn_router_show_ipsec_sa(n.node[1].r, n.now, true, &sb), VPN_ERR_NOSPACE);
    rn_free(&n);
}

/* Management verbs act at the given time and reach the data plane. */
static void test_management(void **state)
{
    rn_net n;
    char *a = rn_flex_conf(0, NULL, NULL, NULL, NULL, NULL), *b = rn_flex_conf(1, NULL, NULL, NULL, NULL, NULL);
    vpn_router_tunnel_info t0, t1;
    vpn_ikev2_sa_info info;
    (void)state;

    assert_int_equal(vpn_router_child_rekey(NULL, 0, 1), VPN_ERR_INVAL);
    assert_int_equal(vpn_router_dpd(NULL, 0, 1), VPN_ERR_INVAL);
    rn_init(&n);
    rn_add(&n, 0, a, VPN_ROUTER_TUNNEL_GRE_IPSEC, true, NULL);
    rn_add(&n, 1, b, VPN_ROUTER_TUNNEL_GRE_IPSEC, false, NULL);
    free(a);
    free(b);
    vpn_router_start(n.node[0].r, n.now);
    rn_run_for(&n, 1);
    assert_int_equal(vpn_router_tunnel_get(n.node[0].r, 0, &t0), 0);
    assert_int_equal(vpn_router_child_rekey(n.node[0].r, n.now, t0.out_child), 0);
    assert_int_equal(vpn_router_child_rekey(n.node[0].r, n.now, 999), VPN_ERR_NOTFOUND);
    rn_run_for(&n, 1);
    assert_int_equal(vpn_router_tunnel_get(n.node[0].r, 0, &t1), 0);
    assert_int_not_equal(t1.out_child, t0.out_child);
    assert_int_equal(vpn_ikev2_sa_get(vpn_router_ikev2(n.node[0].r), 0, &info), 0);
    assert_int_equal(vpn_router_dpd(n.node[0].r, n.now, info.id), 0);
    rn_run_for(&n, 1);
    assert_int_equal(vpn_router_ike_delete(n.node[0].r, n.now, info.id), 0);
    /* the pair left the data plane at once (the Delete is best effort) */
    assert_int_equal(vpn_router_tunnel_get(n.node[0].r, 0, &t1), 0);
    assert_int_equal(t1.out_child, 0);
    assert_int_equal(rn_send(&n.node[0]), VPN_ROUTER_DROP_NO_SA);
    rn_free(&n);
}

/* Key export is the router's (one scan for every driver): with key_lines,
 * one ikev2_decryption_table line per IKE SA and one esp_sa line per SA,
 * the same on both ends; without, none. */
static void test_key_lines(void **state)
{
    rn_net n;
    char *c0 = rn_flex_conf(0, NULL, NULL, NULL, NULL, NULL);
    char *c1 = rn_flex_conf(1, NULL, NULL, NULL, NULL, NULL);
    rn_node *a, *b;
    int ike[2] = {0, 0}, esp[2] = {0, 0};
    (void)state;

    for (int on = 0; on < 2; on++) {
        rn_init(&n);
        n.key_lines = on;
        a = rn_add(&n, 0, c0, VPN_ROUTER_TUNNEL_GRE_IPSEC, true, NULL);
        b = rn_add(&n, 1, c1, VPN_ROUTER_TUNNEL_GRE_IPSEC, false, NULL);
        assert_int_equal(vpn_router_start(a->r, n.now), 0);
        assert_int_equal(vpn_router_start(b->r, n.now), 0);
        rn_run_for(&n, 5);
        assert_int_equal(rn_count(a, VPN_ROUTER_EV_SA_INSTALLED, 0), 2);
        if (!on) {
            assert_int_equal(a->n_key_lines + b->n_key_lines, 0);
            rn_free(&n);
            continue;
        }
        assert_int_equal(a->n_key_lines, 3);
        assert_int_equal(b->n_key_lines, 3);
        for (int k = 0; k < 2; k++) {
            rn_node *x = k ? b : a;
            for (size_t i = 0; i < x->n_key_lines; i++) {
                ike[k] += x->key_tables[i] == VPN_ROUTER_KEYS_IKEV2;
                esp[k] += x->key_tables[i] == VPN_ROUTER_KEYS_ESP_SA;
            }
        }
        assert_int_equal(ike[0], 1);
        assert_int_equal(ike[1], 1);
        assert_int_equal(esp[0], 2);
        assert_int_equal(esp[1], 2);
        /* every line of one end is a line of the other (Wireshark wants
         * them once; either capture decrypts with either file) */
        for (size_t i = 0; i < a->n_key_lines; i++) {
            bool found = false;
            for (size_t j = 0; j < b->n_key_lines; j++)
                found = found || strcmp(a->key_lines[i], b->key_lines[j]) == 0;
            assert_true(found);
        }
        assert_non_null(strstr(a->key_lines[0], ","));
        assert_string_equal(vpn_router_key_table_name(VPN_ROUTER_KEYS_ESP_SA), "esp_sa");
        assert_string_equal(vpn_router_key_table_name(VPN_ROUTER_KEYS_IKEV2), "ikev2_decryption_table");
        assert_null(vpn_router_key_table_name((vpn_router_key_table)0));
        rn_free(&n);
    }
    free(c0);
    free(c1);
}

/* Issue 18: an SA Wireshark cannot decrypt (ChaCha20-Poly1305 for IKE and
 * ESP) gets no key line; every inner packet sent or delivered under it goes
 * to esp_plain instead. AES SAs (test_key_lines) never reach esp_plain. */
static char *chacha_conf(int idx)
{
    char *c = rn_flex_conf(idx, NULL, NULL, NULL, NULL, NULL), *p;
    size_t n = strlen(c) + 64;
    char *out = malloc(n);
    const char *from[] = {" encryption aes-cbc-256\n integrity sha256\n", "esp-aes 256 esp-sha256-hmac"};
    const char *to[] = {" encryption chacha20-poly1305\n prf sha256\n", "esp-chacha20-poly1305"};

    assert_non_null(out);
    for (int k = 0; k < 2; k++) {
        assert_non_null(p = strstr(c, from[k]));
        snprintf(out, n, "%.*s%s%s", (int)(p - c), c, to[k], p + strlen(from[k]));
        snprintf(c, 4096, "%s", out);
    }
    free(out);
    return c;
}

static void test_plain_view(void **state)
{
    rn_net n;
    char *c0 = chacha_conf(0), *c1 = chacha_conf(1);
    rn_node *a, *b;
    (void)state;

    for (int chacha = 0; chacha < 2; chacha++) {
        char *x0 = chacha ? c0 : rn_flex_conf(0, NULL, NULL, NULL, NULL, NULL);
        char *x1 = chacha ? c1 : rn_flex_conf(1, NULL, NULL, NULL, NULL, NULL);
        rn_init(&n);
        n.key_lines = true;
        a = rn_add(&n, 0, x0, VPN_ROUTER_TUNNEL_GRE_IPSEC, true, NULL);
        b = rn_add(&n, 1, x1, VPN_ROUTER_TUNNEL_GRE_IPSEC, false, NULL);
        assert_int_equal(vpn_router_start(a->r, n.now), 0);
        assert_int_equal(vpn_router_start(b->r, n.now), 0);
        rn_run_for(&n, 5);
        assert_int_equal(rn_count(a, VPN_ROUTER_EV_SA_INSTALLED, 0), 2);
        for (int i = 0; i < 10; i++) {
            assert_int_equal(rn_send(a), VPN_ROUTER_DROP_NONE);
            assert_int_equal(rn_send(b), VPN_ROUTER_DROP_NONE);
        }
        rn_run_for(&n, 1);
        assert_int_equal(a->rx, 10);
        assert_int_equal(b->rx, 10);
        if (chacha) {
            assert_int_equal(a->n_key_lines + b->n_key_lines, 0);
            assert_int_equal(a->plain_out, 10);
            assert_int_equal(a->plain_in, 10);
            assert_int_equal(b->plain_out, 10);
            assert_int_equal(b->plain_in, 10);
            /* IKE_AUTH under the ChaCha20-Poly1305 IKE SA: each side's
             * request or response out, the other's in */
            assert_true(a->ike_plain_out >= 1 && b->ike_plain_out >= 1);
            assert_int_equal(a->ike_plain_out, b->ike_plain_in);
            assert_int_equal(b->ike_plain_out, a->ike_plain_in);
        } else {
            assert_int_equal(a->n_key_lines, 3);
            assert_int_equal(a->plain_out + a->plain_in + b->plain_out + b->plain_in, 0);
            assert_int_equal(a->ike_plain_out + a->ike_plain_in + b->ike_plain_out + b->ike_plain_in, 0);
            free(x0);
            free(x1);
        }
        rn_free(&n);
    }
    free(c0);
    free(c1);
}

/* A CHILD_SA deleted while its IKE SA stays: the next packet into the
 * tunnel makes a new CHILD_SA under the same IKE SA (IOS tunnel
 * protection), not a new IKE SA, and traffic flows again. */
static void test_child_recreated_on_traffic(void **state)
{
    rn_net n;
    char *c0 = rn_flex_conf(0, NULL, NULL, NULL, NULL, NULL);
    char *c1 = rn_flex_conf(1, NULL, NULL, NULL, NULL, NULL);
    rn_node *a, *b;
    vpn_router_tunnel_info ti;
    vpn_router_stats st;
    vpn_ikev2_sa_info info;
    uint32_t ike_id, child;
    (void)state;

    rn_init(&n);
    a = rn_add(&n, 0, c0, VPN_ROUTER_TUNNEL_GRE_IPSEC, true, NULL);
    b = rn_add(&n, 1, c1, VPN_ROUTER_TUNNEL_GRE_IPSEC, false, NULL);
    assert_int_equal(vpn_router_start(a->r, n.now), 0);
    assert_int_equal(vpn_router_start(b->r, n.now), 0);
    rn_run_for(&n, 5);
    assert_int_equal(vpn_router_tunnel_get(a->r, a->tunnel, &ti), 0);
    child = ti.out_child;
    assert_true(child != 0);
    assert_int_equal(vpn_ikev2_sa_count(vpn_router_ikev2(a->r)), 1);
    assert_int_equal(vpn_ikev2_sa_get(vpn_router_ikev2(a->r), 0, &info), 0);
    ike_id = info.id;

    /* the peer deletes the CHILD_SA (clear crypto sa on it): the IKE SA stays */
    assert_int_equal(vpn_router_tunnel_get(b->r, b->tunnel, &ti), 0);
    assert_int_equal(vpn_ikev2_child_delete(vpn_router_ikev2_setup(b->r), n.now, ti.out_child), 0);
    rn_run_for(&n, 1);
    assert_int_equal(vpn_router_tunnel_get(a->r, a->tunnel, &ti), 0);
    assert_int_equal(ti.out_child, 0);
    assert_int_equal(vpn_ikev2_sa_count(vpn_router_ikev2(a->r)), 1);

    /* traffic: the first packet finds no SA and asks for a CHILD_SA */
    assert_int_equal(rn_send(a), VPN_ROUTER_DROP_NO_SA);
    rn_run_for(&n, 2);
    assert_int_equal(vpn_router_tunnel_get(a->r, a->tunnel, &ti), 0);
    assert_true(ti.out_child != 0 && ti.out_child != child);
    vpn_router_stats_get(a->r, &st);
    assert_int_equal(st.on_demand_children, 1);
    assert_int_equal(st.on_demand_initiations, 0);
    /* under the same IKE SA */
    assert_int_equal(vpn_ikev2_sa_count(vpn_router_ikev2(a->r)), 1);
    assert_int_equal(vpn_ikev2_sa_get(vpn_router_ikev2(a->r), 0, &info), 0);
    assert_int_equal(info.id, ike_id);
    /* and it carries traffic both ways */
    a->tx_seq = b->tx_seq = 100;
    rn_traffic(a, 20);
    rn_traffic(b, 20);
    rn_run_for(&n, 2);
    assert_true(a->seen[110] && b->seen[110]);
    for (uint32_t q = 100; q + 1 < a->tx_seq; q++)
        assert_true(b->seen[q]); /* nothing lost on the new CHILD_SA */
    rn_free(&n);
    free(c0);
    free(c1);
}

/* A second CHILD_SA on a point-to-point tunnel that the peer deletes again
 * (strongSwan does so when it cannot install a CHILD_SA it negotiated, e.g.
 * a transport-mode one with kernel-libipsec, interop-gre-resp): the tunnel
 * sends on the first pair again, which is still up (RFC 7296 1.4.1), and
 * does not drop traffic as if it had no SA. */
static void test_extra_child_deleted(void **state)
{
    rn_net n;
    char *c0 = rn_flex_conf(0, NULL, NULL, NULL, NULL, NULL);
    char *c1 = rn_flex_conf(1, NULL, NULL, NULL, NULL, NULL);
    rn_node *a, *b;
    vpn_router_tunnel_info ti;
    vpn_ikev2_sa_info info;
    vpn_ikev2_policy pol;
    uint32_t first, extra;
    (void)state;

    rn_init(&n);
    a = rn_add(&n, 0, c0, VPN_ROUTER_TUNNEL_GRE_IPSEC, true, NULL);
    b = rn_add(&n, 1, c1, VPN_ROUTER_TUNNEL_GRE_IPSEC, false, NULL);
    assert_int_equal(vpn_router_start(a->r, n.now), 0);
    assert_int_equal(vpn_router_start(b->r, n.now), 0);
    rn_run_for(&n, 5);
    assert_int_equal(vpn_router_tunnel_get(a->r, a->tunnel, &ti), 0);
    first = ti.out_child;
    assert_true(first != 0);

    /* b adds a CHILD_SA for the same flow under the same IKE SA */
    assert_int_equal(vpn_ikev2_sa_get(vpn_router_ikev2(b->r), 0, &info), 0);
    vpn_router_gre_policy(&pol, "IPP", &b->addr, &a->addr, b->tunnel);
    assert_int_equal(vpn_ikev2_child_create(vpn_router_ikev2_setup(b->r), n.now, info.id, &pol), 0);
    rn_run_for(&n, 1);
    assert_int_equal(vpn_router_tunnel_get(a->r, a->tunnel, &ti), 0);
    extra = ti.out_child;
    assert_true(extra != 0 && extra != first); /* the newest pair carries traffic */

    /* ... and deletes it again: a falls back to the first pair */
    assert_int_equal(vpn_router_tunnel_get(b->r, b->tunnel, &ti), 0);
    assert_int_equal(vpn_ikev2_child_delete(vpn_router_ikev2_setup(b->r), n.now, ti.out_child), 0);
    rn_run_for(&n, 1);
    assert_int_equal(vpn_router_tunnel_get(a->r, a->tunnel, &ti), 0);
    assert_int_equal(ti.out_child, first);
    assert_int_equal(vpn_router_tunnel_get(b->r, b->tunnel, &ti), 0);
    assert_true(ti.out_child != 0);
    a->tx_seq = b->tx_seq = 100;
    rn_traffic(a, 20);
    rn_traffic(b, 20);
    rn_run_for(&n, 2);
    for (uint32_t q = 100; q < 120; q++)
        assert_true(a->seen[q] && b->seen[q]); /* nothing dropped as NO_SA */
    assert_int_equal(a->drops[VPN_ROUTER_DROP_NO_SA], 0);
    assert_int_equal(b->drops[VPN_ROUTER_DROP_NO_SA], 0);
    rn_free(&n);
    free(c0);
    free(c1);
}

/* Hands ESP in IP to the receiver as vpnd does for ESP in UDP and over
 * IPv6: the ESP alone and the outer addresses beside it (vpn_router_esp_input),
 * so that the router reads a transport-mode SA's GRE header itself. */
static bool esp_without_ip(rn_net *n, rn_msg *m, void *user)
{
    static uint8_t buf[4096];
    vpn_pkt pkt;
    vpn_esp_outer o;
    size_t ihl;
    (void)user;

    if (m->udp || m->len < 20 || m->data[9] != 50)
        return true;
    ihl = (size_t)(m->data[0] & 15) * 4;
    memset(&o, 0, sizeof o);
    o.src = n->node[m->from].addr;
    o.dst = n->node[1 - m->from].addr;
    vpn_pkt_init(&pkt, buf, sizeof buf, VPN_PKT_HEADROOM);
    memcpy(vpn_pkt_put(&pkt, m->len - ihl), m->data + ihl, m->len - ihl);
    (void)vpn_router_esp_input(n->node[1 - m->from].r, n->now, &pkt, &o);
    return false;
}

/* RFC 2890 2.1: the key tells GRE tunnels apart, so GRE with another key
 * is not this tunnel's, also when it comes in a transport-mode SA without
 * its IP header (ESP in UDP, or over IPv6 in vpnd), where the router reads
 * the GRE header itself (the IPv4 path and mGRE already checked it). Same
 * keys: delivered; either way in. */
static void test_gre_key_transport(void **state)
{
    (void)state;
    for (int how = 0; how < 4; how++) {
        bool same = how & 1, no_ip = how & 2;
        rn_net n;
        char *c0 = rn_flex_conf(0, NULL, NULL, NULL, NULL, NULL);
        char *c1 = rn_flex_conf(1, NULL, NULL, NULL, NULL, NULL);
        rn_node *a, *b;
        vpn_router_tunnel_info ti;

        rn_init(&n);
        a = rn_add_keyed(&n, 0, c0, VPN_ROUTER_TUNNEL_GRE_IPSEC, true, NULL, true, 11);
        b = rn_add_keyed(&n, 1, c1, VPN_ROUTER_TUNNEL_GRE_IPSEC, false, NULL, true, same ? 11 : 22);
        if (no_ip)
            n.hook = esp_without_ip;
        assert_int_equal(vpn_router_start(a->r, n.now), 0);
        assert_int_equal(vpn_router_start(b->r, n.now), 0);
        rn_run_for(&n, 5);
        assert_int_equal(vpn_router_tunnel_get(b->r, b->tunnel, &ti), 0);
        assert_true(ti.out_child != 0);
        a->tx_seq = 100;
        rn_traffic(a, 20);
        rn_run_for(&n, 1);
        rn_traffic(a, 0);
        if (same) {
            assert_true(b->rx >= 10);
            assert_int_equal(b->drops[VPN_ROUTER_DROP_GRE], 0);
        } else {
            assert_int_equal(b->rx, 0);
            assert_true(b->drops[VPN_ROUTER_DROP_GRE] >= 10);
        }
        rn_free(&n);
        free(c0);
        free(c1);
    }
}

/* Sequence numbers from `from` at or past `first` that `to` never got, of
 * those sent long enough ago to have arrived. */
static uint32_t lost_since(const rn_node *from, const rn_node *to, uint32_t first)
{
    uint32_t lost = 0;
    for (uint32_t s = first; s < from->tx_seq; s++)
        lost += !to->seen[s] && from->sent_at[s] + 4 * from->net->latency_ns <= from->net->now;
    return lost;
}

/* Both ends initiate at once on a point-to-point tunnel: two IKE SAs, each
 * with a pair; the engine deletes the one with the higher SPIs
 * (ikev2_duplicate_check), its initiator at once. Each end sends on the
 * pair it installed last, so until the Delete arrives the peer may send
 * on the pair being deleted: its inbound SA is kept for the rekey grace
 * and, from the moment both ends send, no packet either way is lost. */
static void test_both_initiate_no_loss(void **state)
{
    rn_net n;
    char *c0 = rn_flex_conf(0, NULL, NULL, NULL, NULL, NULL);
    char *c1 = rn_flex_conf(1, NULL, NULL, NULL, NULL, NULL);
    rn_node *a, *b;
    vpn_router_tunnel_info ta, tb;
    uint32_t first_a, first_b;
    int steps = 0;
    (void)state;

    rn_init(&n);
    a = rn_add(&n, 0, c0, VPN_ROUTER_TUNNEL_GRE_IPSEC, true, NULL);
    b = rn_add(&n, 1, c1, VPN_ROUTER_TUNNEL_GRE_IPSEC, true, NULL);
    assert_int_equal(vpn_router_start(a->r, n.now), 0);
    assert_int_equal(vpn_router_start(b->r, n.now), 0);
    rn_traffic(a, 2000);
    rn_traffic(b, 2000);
    do {
        rn_run_for(&n, 0.0005);
        assert_int_equal(vpn_router_tunnel_get(a->r, a->tunnel, &ta), 0);
        assert_int_equal(vpn_router_tunnel_get(b->r, b->tunnel, &tb), 0);
        assert_true(++steps < 10000);
    } while (ta.out_child == 0 || tb.out_child == 0);
    first_a = a->tx_seq;
    first_b = b->tx_seq;
    rn_run_for(&n, 2);
    rn_traffic(a, 0);
    rn_traffic(b, 0);
    rn_run_for(&n, 1);
    /* the duplicate went: one IKE SA each side, and both ends had two */
    assert_int_equal(vpn_ikev2_sa_count(vpn_router_ikev2(a->r)), 1);
    assert_int_equal(vpn_ikev2_sa_count(vpn_router_ikev2(b->r)), 1);
    assert_true(rn_count(a, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_IKE_DOWN) +
                    rn_count(b, VPN_ROUTER_EV_IKEV2, VPN_IKEV2_EV_IKE_DOWN) >=
                2);
    assert_true(a->tx_seq > first_a + 1000 && b->tx_seq > first_b + 1000);
    assert_int_equal(lost_since(a, b, first_a), 0);
    assert_int_equal(lost_since(b, a, first_b), 0);
    rn_free(&n);
    free(c0);
    free(c1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params_and_null),
        cmocka_unit_test(test_key_lines),
        cmocka_unit_test(test_plain_view),
        cmocka_unit_test(test_child_recreated_on_traffic),
        cmocka_unit_test(test_extra_child_deleted),
        cmocka_unit_test(test_gre_key_transport),
        cmocka_unit_test(test_drop_names),
        cmocka_unit_test(test_gre_policy),
        cmocka_unit_test(test_tunnel_config_errors),
        cmocka_unit_test(test_tunnel_mtu),
        cmocka_unit_test(test_manual_vti),
        cmocka_unit_test(test_manual_gre),
        cmocka_unit_test(test_show),
        cmocka_unit_test(test_management),
        cmocka_unit_test(test_both_initiate_no_loss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
