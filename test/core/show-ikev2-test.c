/*
 * show crypto ikev2 sa [detail], show crypto session [detail] and show
 * crypto ipsec sa, rendered from two engines' state after real exchanges,
 * compared line by line with the IOS layouts (values that come from the
 * RNG, SPIs, are taken from the engine's own state views).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ikev2-pair.h"
#include "show/show-ikev2.h"

static char out[32768], want[32768];

static const char *iface(void *user, uint32_t tag)
{
    (void)user;
    return tag == 7 ? "Tunnel0" : NULL;
}

static bool counters(void *user, uint32_t child, vpn_show_child_counters *c)
{
    (void)user;
    (void)child;
    memset(c, 0, sizeof *c);
    c->pkts_encaps = c->pkts_encrypt = c->pkts_digest = 12;
    c->pkts_decaps = c->pkts_decrypt = c->pkts_verify = 10;
    c->bytes_in = 2048;
    c->bytes_out = 4096;
    return true;
}

static void spi_hex(const uint8_t *s, char *o)
{
    for (int i = 0; i < 8; i++)
        sprintf(o + 2 * i, "%02X", s[i]);
}

static void up(tp_net *n, const char *dpd)
{
    peer_conf a = conf_a(), b = conf_b();
    vpn_ikev2_policy p = gre_policy("192.0.2.1", "192.0.2.2", 7);
    a.profile_extra = dpd;
    setup(n, &a, &b);
    initiate(n, &p);
}

static void assert_text(const char *got, const char *exp)
{
    if (strcmp(got, exp) != 0) {
        const char *g = got, *e = exp;
        while (*g && *g == *e)
            g++, e++;
        fail_msg("view differs at offset %zu:\n--- got ---\n%s\n--- want ---\n%s", (size_t)(g - got), got, exp);
    }
}

static void test_ikev2_sa(void **state)
{
    tp_net n;
    vpn_show_buf b;
    vpn_ikev2_sa_info ia, ib;
    char ls[17], rs[17];
    (void)state;

    up(&n, " dpd 10 2 periodic\n");
    /* while IKE_SA_INIT is in flight: IN-NEG */
    vpn_show_init(&b, out, sizeof out);
    assert_int_equal(vpn_show_ikev2_sa(n.node[0].ctx, n.now, false, &b), 0);
    assert_text(out, " IPv4 Crypto IKEv2  SA \n\n"
                     "Tunnel-id Local                 Remote                fvrf/ivrf            Status \n"
                     "1         192.0.2.1/500         192.0.2.2/500         none/none            IN-NEG \n"
                     "      Encr: Unknown - 0, PRF: Unknown - 0, Hash: None, DH Grp:0, Auth sign: Unknown - 0, "
                     "Auth verify: Unknown - 0\n"
                     "      Life/Active Time: 86400/0 sec\n\n"
                     " IPv6 Crypto IKEv2  SA \n\n");
    tp_run_for(&n, 100);
    vpn_show_init(&b, out, sizeof out);
    assert_int_equal(vpn_show_ikev2_sa(n.node[0].ctx, n.now, false, &b), 0);
    assert_text(out, " IPv4 Crypto IKEv2  SA \n\n"
                     "Tunnel-id Local                 Remote                fvrf/ivrf            Status \n"
                     "1         192.0.2.1/500         192.0.2.2/500         none/none            READY  \n"
                     "      Encr: AES-CBC, keysize: 256, PRF: SHA256, Hash: SHA256, DH Grp:19, Auth sign: PSK, "
                     "Auth verify: PSK\n"
                     "      Life/Active Time: 86400/100 sec\n\n"
                     " IPv6 Crypto IKEv2  SA \n\n");
    /* detail, at the responder (R1 checked its liveness 10 times) */
    assert_int_equal(vpn_ikev2_sa_get(n.node[1].ctx, 0, &ib), 0);
    spi_hex(ib.spi_r, ls);
    spi_hex(ib.spi_i, rs);
    snprintf(want, sizeof want,
             " IPv4 Crypto IKEv2  SA \n\n"
             "Tunnel-id Local                 Remote                fvrf/ivrf            Status \n"
             "%-10u192.0.2.2/500         192.0.2.1/500         none/none            READY  \n"
             "      Encr: AES-CBC, keysize: 256, PRF: SHA256, Hash: SHA256, DH Grp:19, Auth sign: PSK, "
             "Auth verify: PSK\n"
             "      Life/Active Time: 86400/100 sec\n"
             "      CE id: %u, Session-id: %u\n"
             "      Local spi: %s       Remote spi: %s\n"
             "      Status Description: Negotiation done\n"
             "      Local id: 192.0.2.2\n"
             "      Remote id: 192.0.2.1\n"
             "      Local req msg id:  0              Remote req msg id:  11\n"
             "      Local next msg id: 0              Remote next msg id: 12\n"
             "      Local req queued:  0              Remote req queued:  12\n"
             "      Local window:      5              Remote window:      5\n"
             "      DPD configured for 0 seconds, retry 0\n"
             "      Fragmentation is configured.\n"
             "      Dynamic Route Update: enabled\n"
             "      Extended Authentication not configured.\n"
             "      NAT-T is not detected  \n"
             "      Cisco Trust Security SGT is disabled\n"
             "      Initiator of SA : No\n"
             "      Remote subnets:\n"
             "      192.0.2.1 255.255.255.255\n\n"
             " IPv6 Crypto IKEv2  SA \n\n",
             ib.id, ib.id, ib.id, ls, rs);
    vpn_show_init(&b, out, sizeof out);
    assert_int_equal(vpn_show_ikev2_sa(n.node[1].ctx, n.now, true, &b), 0);
    assert_text(out, want);
    /* at the initiator: its DPD setting */
    vpn_show_init(&b, out, sizeof out);
    assert_int_equal(vpn_show_ikev2_sa(n.node[0].ctx, n.now, true, &b), 0);
    assert_non_null(strstr(out, "      DPD configured for 10 seconds, retry 2\n"));
    assert_non_null(strstr(out, "      Initiator of SA : Yes\n"));
    assert_int_equal(vpn_ikev2_sa_get(n.node[0].ctx, 0, &ia), 0);
    spi_hex(ia.spi_i, ls);
    assert_non_null(strstr(out, ls));
    /* too small a buffer: truncated, told, still terminated */
    vpn_show_init(&b, out, 64);
    assert_int_equal(vpn_show_ikev2_sa(n.node[0].ctx, n.now, true, &b), VPN_ERR_NOSPACE);
    assert_int_equal(strlen(out), 63);
    tp_free(&n);
}

/* show crypto ikev2 stats: SA counts per direction, message counters. */
static void test_ikev2_stats(void **state)
{
    tp_net n;
    vpn_show_buf b;
    vpn_ikev2_stats st;
    (void)state;

    up(&n, "");
    vpn_show_init(&b, out, sizeof out);
    assert_int_equal(vpn_show_ikev2_stats(n.node[0].ctx, &b), 0);
    assert_non_null(strstr(out, "Total outgoing IKEv2 SA Count:    1        active: 0        negotiating: 1\n"));
    assert_non_null(strstr(out, "Total incoming IKEv2 SA Count:    0        active: 0        negotiating: 0\n"));
    tp_run_for(&n, 5);
    vpn_ikev2_stats_get(n.node[1].ctx, &st);
    vpn_show_init(&b, out, sizeof out);
    assert_int_equal(vpn_show_ikev2_stats(n.node[1].ctx, &b), 0);
    assert_non_null(strstr(out, "Total incoming IKEv2 SA Count:    1        active: 1        negotiating: 0\n"));
    snprintf(want, sizeof want, "Incoming IKEv2 Requests: %-8llu responses: 0\n",
             (unsigned long long)st.in_requests);
    assert_true(st.in_requests >= 2);
    assert_non_null(strstr(out, want));
    assert_non_null(strstr(out, "SAs established: 1        negotiations failed: 0\n"));
    assert_non_null(strstr(out, "Internal errors (memory, RNG, crypto library): 0\n"));
    vpn_show_init(&b, out, 40);
    assert_int_equal(vpn_show_ikev2_stats(n.node[1].ctx, &b), VPN_ERR_NOSPACE);
    assert_int_equal(vpn_show_ikev2_stats(NULL, &b), VPN_ERR_INVAL);
    tp_free(&n);
}

static void test_crypto_session(void **state)
{
    tp_net n;
    vpn_show_buf b;
    vpn_show_ikev2_env env = {NULL, iface, counters, 0, NULL};
    (void)state;

    up(&n, " dpd 10 2 periodic\n");
    tp_run_for(&n, 100);
    vpn_show_init(&b, out, sizeof out);
    assert_int_equal(vpn_show_crypto_session(n.node[0].ctx, n.now, false, &env, &b), 0);
    assert_text(out, "Crypto session current status\n\n"
                     "Interface: Tunnel0\n"
                     "Profile: PROF\n"
                     "Session status: UP-ACTIVE\n"
                     "Peer: 192.0.2.2 port 500\n"
                     "  Session ID: 1 \n"
                     "  IKEv2 SA: local 192.0.2.1/500 remote 192.0.2.2/500 Active\n"
                     "  IPSEC FLOW: permit 47 host 192.0.2.1 host 192.0.2.2\n"
                     "        Active SAs: 2, origin: crypto map\n\n");
    vpn_show_init(&b, out, sizeof out);
    assert_int_equal(vpn_show_crypto_session(n.node[0].ctx, n.now, true, &env, &b), 0);
    assert_text(out, "Crypto session current status\n\n"
                     "Code: C - IKE Configuration mode, D - Dead Peer Detection     \n"
                     "K - Keepalives, N - NAT-traversal, T - cTCP encapsulation     \n"
                     "X - IKE Extended Authentication, F - IKE Fragmentation\n"
                     "R - IKE Auto Reconnect, U - IKE Dynamic Route Update\n"
                     "S - SIP VPN\n\n"
                     "Interface: Tunnel0\n"
                     "Profile: PROF\n"
                     "Uptime: 00:01:40\n"
                     "Session status: UP-ACTIVE\n"
                     "Peer: 192.0.2.2 port 500 fvrf: (none) ivrf: (none)\n"
                     "      Phase1_id: 192.0.2.2\n"
                     "      Desc: (none)\n"
                     "  Session ID: 1 \n"
                     "  IKEv2 SA: local 192.0.2.1/500 remote 192.0.2.2/500 Active\n"
                     "          Capabilities:DFU connid:1 lifetime:23:58:20\n"
                     "  IPSEC FLOW: permit 47 host 192.0.2.1 host 192.0.2.2\n"
                     "        Active SAs: 2, origin: crypto map\n"
                     "        Inbound:  #pkts dec'ed 10 drop 0 life (KB/Sec) 4607998/3500\n"
                     "        Outbound: #pkts enc'ed 12 drop 0 life (KB/Sec) 4607996/3500\n\n");
    /* without a driver environment: interface by tag, zero counters */
    vpn_show_init(&b, out, sizeof out);
    assert_int_equal(vpn_show_crypto_session(n.node[1].ctx, n.now, true, NULL, &b), 0);
    assert_non_null(strstr(out, "Interface: Tunnel0\n")); /* R2's implicit policy: tag 0 */
    assert_non_null(strstr(out, "Inbound:  #pkts dec'ed 0 drop 0 life (KB/Sec) 4608000/3500\n"));
    tp_free(&n);
}

/* A CHILD_SA over two local subnets: every selector pair is a flow line
 * (issue 22: only the first was shown), before the SA's counters. */
static void test_crypto_session_two_selectors(void **state)
{
    tp_net n;
    vpn_show_buf b;
    vpn_show_ikev2_env env = {NULL, iface, counters, 0, NULL};
    peer_conf a = conf_a(), c = conf_b();
    vpn_ikev2_policy p = gre_policy("192.0.2.1", "192.0.2.2", 7);
    (void)state;

    p.ts_local[0] = sel("10.1.0.0/24", 0);
    p.ts_local[1] = sel("10.3.0.0/24", 0);
    p.n_ts_local = 2;
    p.ts_remote[0] = sel("10.2.0.0/24", 0);
    setup(&n, &a, &c);
    initiate(&n, &p);
    tp_run_for(&n, 100);
    vpn_show_init(&b, out, sizeof out);
    assert_int_equal(vpn_show_crypto_session(n.node[0].ctx, n.now, true, &env, &b), 0);
    const char *f1 = strstr(out, "  IPSEC FLOW: permit ip 10.1.0.0/255.255.255.0 10.2.0.0/255.255.255.0\n");
    const char *f2 = strstr(out, "  IPSEC FLOW: permit ip 10.3.0.0/255.255.255.0 10.2.0.0/255.255.255.0\n");
    const char *sas = strstr(out, "        Active SAs: 2, origin: crypto map\n"
                                  "        Inbound:  #pkts dec'ed 10");
    if (f1 == NULL || f2 == NULL || sas == NULL)
        fail_msg("flows or counters missing:\n%s", out);
    assert_true(f1 < f2 && f2 < sas);
    assert_null(strstr(sas + strlen("        Active SAs"), "Active SAs")); /* one counters block */
    /* The responder (any/any policy) narrowed to both subnets: its view, reversed. */
    vpn_show_init(&b, out, sizeof out);
    assert_int_equal(vpn_show_crypto_session(n.node[1].ctx, n.now, false, NULL, &b), 0);
    assert_non_null(strstr(out, "  IPSEC FLOW: permit ip 10.2.0.0/255.255.255.0 10.1.0.0/255.255.255.0\n"
                                "  IPSEC FLOW: permit ip 10.2.0.0/255.255.255.0 10.3.0.0/255.255.255.0\n"));
    tp_free(&n);
}

static void test_crypto_ipsec_sa(void **state)
{
    tp_net n;
    vpn_show_buf b;
    vpn_show_ikev2_env env = {NULL, iface, counters, 0, NULL};
    vpn_ikev2_sa_info ia;
    vpn_ikev2_child_state c;
    char line[256];
    (void)state;

    up(&n, NULL);
    tp_run_for(&n, 100);
    assert_int_equal(vpn_ikev2_sa_get(n.node[0].ctx, 0, &ia), 0);
    assert_int_equal(vpn_ikev2_child_get(n.node[0].ctx, ia.id, 0, &c), 0);
    vpn_show_init(&b, out, sizeof out);
    assert_int_equal(vpn_show_crypto_ipsec_sa(n.node[0].ctx, n.now, false, &env, &b), 0);
    snprintf(want, sizeof want,
             "\ninterface: Tunnel0\n"
             "    Crypto map tag: Tunnel0-head-0, local addr 192.0.2.1\n\n"
             "   protected vrf: (none)\n"
             "   local  ident (addr/mask/prot/port): (192.0.2.1/255.255.255.255/47/0)\n"
             "   remote ident (addr/mask/prot/port): (192.0.2.2/255.255.255.255/47/0)\n"
             "   current_peer 192.0.2.2 port 500\n"
             "     PERMIT, flags={origin_is_acl,}\n"
             "    #pkts encaps: 12, #pkts encrypt: 12, #pkts digest: 12\n"
             "    #pkts decaps: 10, #pkts decrypt: 10, #pkts verify: 10\n"
             "    #pkts compressed: 0, #pkts decompressed: 0\n"
             "    #pkts not compressed: 0, #pkts compr. failed: 0\n"
             "    #pkts not decompressed: 0, #pkts decompress failed: 0\n"
             "    #send errors 0, #recv errors 0\n\n"
             "     local crypto endpt.: 192.0.2.1, remote crypto endpt.: 192.0.2.2\n"
             "     plaintext mtu 1438, path mtu 1500, ip mtu 1500, ip mtu idb Tunnel0\n"
             "     current outbound spi: 0x%X(%u)\n"
             "     PFS (Y/N): N, DH group: none\n\n"
             "     inbound esp sas:\n"
             "      spi: 0x%X(%u)\n"
             "        transform: esp-256-aes esp-sha256-hmac ,\n"
             "        in use settings ={Tunnel, }\n"
             "        conn id: %u, flow_id: SW:%u, sibling_flags 80000000, crypto map: Tunnel0-head-0\n"
             "        sa timing: remaining key lifetime (k/sec): (4607998/3500)\n"
             "        IV size: 16 bytes\n"
             "        replay detection support: Y\n"
             "        Status: ACTIVE(ACTIVE)\n\n"
             "     inbound ah sas:\n\n"
             "     inbound pcp sas:\n\n"
             "     outbound esp sas:\n"
             "      spi: 0x%X(%u)\n"
             "        transform: esp-256-aes esp-sha256-hmac ,\n"
             "        in use settings ={Tunnel, }\n"
             "        conn id: %u, flow_id: SW:%u, sibling_flags 80000000, crypto map: Tunnel0-head-0\n"
             "        sa timing: remaining key lifetime (k/sec): (4607996/3500)\n"
             "        IV size: 16 bytes\n"
             "        replay detection support: Y\n"
             "        Status: ACTIVE(ACTIVE)\n\n"
             "     outbound ah sas:\n\n"
             "     outbound pcp sas:\n",
             c.info.spi_out, c.info.spi_out, c.info.spi_in, c.info.spi_in, c.info.id, c.info.id, c.info.spi_out,
             c.info.spi_out, c.info.id, c.info.id);
    assert_text(out, want);
    /* detail: the per-cause counters and the replay window */
    vpn_show_init(&b, out, sizeof out);
    assert_int_equal(vpn_show_crypto_ipsec_sa(n.node[0].ctx, n.now, true, &env, &b), 0);
    assert_non_null(strstr(out, "replay detection support: Y  replay window size: 1024\n"));
    assert_null(strstr(out, "#send errors"));
    snprintf(line, sizeof line, "current outbound spi: 0x%X(%u)", c.info.spi_out, c.info.spi_out);
    assert_non_null(strstr(out, line));
    tp_free(&n);
}

/* GCM and NAT-T as IOS prints them. */
static void test_gcm_natt_views(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    vpn_ikev2_policy p = gre_policy("192.0.2.1", "192.0.2.2", 7);
    tp_net n;
    vpn_show_buf sb;
    (void)state;

    a.encr = b.encr = "aes-gcm-128";
    a.integ = b.integ = NULL;
    a.tset = b.tset = "esp-gcm 256";
    b.keyring_addr = "203.0.113.77";
    setup(&n, &a, &b);
    tp_nat(&n, "203.0.113.77");
    initiate(&n, &p);
    tp_run_for(&n, 1);
    vpn_show_init(&sb, out, sizeof out);
    assert_int_equal(vpn_show_ikev2_sa(n.node[0].ctx, n.now, true, &sb), 0);
    assert_non_null(strstr(out, "1         192.0.2.1/4500        192.0.2.2/4500        none/none            READY  \n"));
    assert_non_null(strstr(out, "Encr: AES-GCM, keysize: 128, PRF: SHA256, Hash: None, DH Grp:19"));
    assert_non_null(strstr(out, "NAT-T is detected inside \n"));
    vpn_show_init(&sb, out, sizeof out);
    assert_int_equal(vpn_show_ikev2_sa(n.node[1].ctx, n.now, true, &sb), 0);
    assert_non_null(strstr(out, "192.0.2.2/4500        203.0.113.77/44500"));
    assert_non_null(strstr(out, "NAT-T is detected  outside\n"));
    vpn_show_init(&sb, out, sizeof out);
    assert_int_equal(vpn_show_crypto_ipsec_sa(n.node[0].ctx, n.now, false, NULL, &sb), 0);
    assert_non_null(strstr(out, "transform: esp-gcm 256 ,\n"));
    assert_non_null(strstr(out, "in use settings ={Tunnel UDP-Encaps, }\n"));
    assert_non_null(strstr(out, "IV size: 8 bytes\n"));
    assert_non_null(strstr(out, "current_peer 192.0.2.2 port 4500\n"));
    vpn_show_init(&sb, out, sizeof out);
    assert_int_equal(vpn_show_crypto_session(n.node[0].ctx, n.now, true, NULL, &sb), 0);
    assert_non_null(strstr(out, "Capabilities:NFU"));
    tp_free(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ikev2_sa),
        cmocka_unit_test(test_ikev2_stats),
        cmocka_unit_test(test_crypto_session),
        cmocka_unit_test(test_crypto_session_two_selectors),
        cmocka_unit_test(test_crypto_ipsec_sa),
        cmocka_unit_test(test_gcm_natt_views),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
