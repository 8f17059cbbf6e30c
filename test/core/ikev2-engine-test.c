/*
 * The IKEv2 engine, two (or three) peers in memory with a counter clock:
 * IKE_SA_INIT + IKE_AUTH with PSK (asymmetric keyring keys) for ECP 19 and
 * MODP 2048, AES-CBC+HMAC and AES-GCM; the first CHILD_SA with
 * traffic-selector narrowing; AUTHENTICATION_FAILED, NO_PROPOSAL_CHOSEN,
 * TS_UNACCEPTABLE, the INVALID_KE_PAYLOAD retry, COOKIE under load, NAT
 * detection and the move to port 4500.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/htab.h"
#include "common/wire.h"
#include "ikev2/ikev2-eng.h" /* ikev2_reason_for */
#include "ikev2/ikev2-ts.h"
#include "ikev2-pair.h"

static void assert_no_sa(tp_net *n)
{
    for (int i = 0; i < n->n_nodes; i++)
        assert_int_equal(vpn_ikev2_sa_count(n->node[i].ctx), 0);
}

/* A full handshake with a configuration pair; checks both sides. */
static void handshake(const peer_conf *a, const peer_conf *b, uint16_t want_group, uint16_t want_encr)
{
    tp_net n;
    vpn_ikev2_policy pa = gre_policy("192.0.2.1", "192.0.2.2", 7);
    vpn_ikev2_policy pb = gre_policy("192.0.2.2", "192.0.2.1", 9);
    vpn_ikev2_sa_info ia, ib;
    int ea, eb;

    setup(&n, a, b);
    assert_int_equal(vpn_ikev2_policy_add(n.node[1].ctx, &pb), 0);
    initiate(&n, &pa);
    tp_run_for(&n, 1);
    /* IKE_SA_INIT and IKE_AUTH: four messages, nothing retransmitted */
    assert_int_equal(n.sent, 4);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_IKE_UP), 1);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_IKE_UP), 1);
    ea = tp_find_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP, 0);
    eb = tp_find_ev(&n.node[1], VPN_IKEV2_EV_CHILD_UP, 0);
    assert_true(ea >= 0 && eb >= 0);
    tp_assert_child_pair(&n.node[0].ev[ea], &n.node[1].ev[eb]);
    assert_int_equal(n.node[0].ev[ea].child.encr, want_encr);
    assert_int_equal(n.node[0].ev[ea].child.policy_tag, 7);
    assert_int_equal(n.node[1].ev[eb].child.policy_tag, 9);
    assert_int_equal(n.node[0].ev[ea].child.mode, VPN_CONF_MODE_TUNNEL);
    assert_false(n.node[0].ev[ea].child.udp_encap);
    /* selectors: GRE between the two addresses, mirrored */
    assert_int_equal(n.node[0].ev[ea].child.n_ts_local, 1);
    assert_int_equal(n.node[0].ev[ea].child.ts_local[0].proto, 47);
    assert_true(vpn_addr_eq(&n.node[0].ev[ea].child.ts_local[0].addr_lo, &n.node[1].ev[eb].child.ts_remote[0].addr_lo));
    /* state views */
    assert_int_equal(vpn_ikev2_sa_count(n.node[0].ctx), 1);
    assert_int_equal(vpn_ikev2_sa_get(n.node[0].ctx, 0, &ia), 0);
    assert_int_equal(vpn_ikev2_sa_get(n.node[1].ctx, 0, &ib), 0);
    assert_int_equal(ia.state, VPN_IKEV2_SA_ESTABLISHED);
    assert_int_equal(ib.state, VPN_IKEV2_SA_ESTABLISHED);
    assert_true(ia.initiator);
    assert_false(ib.initiator);
    assert_memory_equal(ia.spi_i, ib.spi_i, 8);
    assert_memory_equal(ia.spi_r, ib.spi_r, 8);
    assert_int_equal(ia.dh_group, want_group);
    assert_int_equal(ib.dh_group, want_group);
    assert_int_equal(ia.encr, want_encr);
    assert_int_equal(ia.auth_local, VPN_AUTH_METHOD_PSK);
    assert_int_equal(ib.auth_remote, VPN_AUTH_METHOD_PSK);
    assert_string_equal(ia.id_remote.text, "192.0.2.2");
    assert_string_equal(ib.id_remote.text, "192.0.2.1");
    assert_string_equal(ib.profile, "PROF");
    assert_int_equal(ia.n_children, 1);
    assert_int_equal(ia.msgid_next_send, 2);
    assert_int_equal(ib.msgid_next_recv, 2);
    assert_false(ia.nat_local || ia.nat_remote || ib.nat_local || ib.nat_remote);
    assert_true(ia.fragmentation && ib.fragmentation);
    assert_int_equal(n.node[0].log.errors, 0);
    assert_int_equal(n.node[1].log.errors, 0);
    tp_free(&n);
}

static void test_psk_ecp19_cbc(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    (void)state;
    handshake(&a, &b, VPN_DH_ECP_256, VPN_ENCR_AES_CBC);
}

static void test_psk_modp2048_gcm(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    (void)state;
    a.encr = b.encr = "aes-gcm-256";
    a.integ = b.integ = NULL;
    a.groups = b.groups = "14";
    a.tset = b.tset = "esp-gcm 256";
    handshake(&a, &b, VPN_DH_MODP_2048, VPN_ENCR_AES_GCM_16);
}

/* A full handshake in every DH group the engine offers (RFC 3526, RFC 5903,
 * RFC 8031, and the legacy MODP groups 2 and 5 a configuration may name). */
static void test_psk_every_group(void **state)
{
    static const struct { const char *name; uint16_t id; } groups[] = {
        {"2", VPN_DH_MODP_1024},   {"5", VPN_DH_MODP_1536},  {"14", VPN_DH_MODP_2048},
        {"15", VPN_DH_MODP_3072},  {"16", VPN_DH_MODP_4096}, {"19", VPN_DH_ECP_256},
        {"20", VPN_DH_ECP_384},    {"21", VPN_DH_ECP_521},   {"31", VPN_DH_CURVE25519},
    };
    (void)state;
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++) {
        peer_conf a = conf_a(), b = conf_b();
        a.groups = b.groups = groups[i].name;
        handshake(&a, &b, groups[i].id, VPN_ENCR_AES_CBC);
    }
}

/* The same PSK both ways works too (IOS `pre-shared-key KEY`). */
static void test_psk_symmetric_sha512(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    (void)state;
    a.psk_local = a.psk_remote = b.psk_local = b.psk_remote = "same";
    a.integ = b.integ = "sha512";
    a.prf = b.prf = "sha512";
    a.encr = b.encr = "aes-cbc-128";
    handshake(&a, &b, VPN_DH_ECP_256, VPN_ENCR_AES_CBC);
}

/* Responder narrows: initiator asks for 10.0.0.0/8 <-> 10.0.0.0/8, the
 * responder's policy allows only 10.2.0.0/16 behind it and 10.1.0.0/16
 * behind the initiator. */
static void test_ts_narrowing(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    vpn_ikev2_policy pa, pb;
    int ea, eb;
    char buf[128];
    (void)state;

    setup(&n, &a, &b);
    pa = ts_policy("10.0.0.0/8", "10.0.0.0/8", 0, 0);
    pb = ts_policy("10.2.0.0/16", "10.1.0.0/16", 0, 0);
    assert_int_equal(vpn_ikev2_policy_add(n.node[1].ctx, &pb), 0);
    initiate(&n, &pa);
    tp_run_for(&n, 1);
    ea = tp_find_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP, 0);
    eb = tp_find_ev(&n.node[1], VPN_IKEV2_EV_CHILD_UP, 0);
    assert_true(ea >= 0 && eb >= 0);
    tp_assert_child_pair(&n.node[0].ev[ea], &n.node[1].ev[eb]);
    assert_string_equal(vpn_ikev2_selector_str(&n.node[0].ev[ea].child.ts_local[0], buf, sizeof buf),
                        "10.1.0.0-10.1.255.255 proto 0 ports 0-65535");
    assert_string_equal(vpn_ikev2_selector_str(&n.node[0].ev[ea].child.ts_remote[0], buf, sizeof buf),
                        "10.2.0.0-10.2.255.255 proto 0 ports 0-65535");
    assert_string_equal(vpn_ikev2_selector_str(&n.node[1].ev[eb].child.ts_local[0], buf, sizeof buf),
                        "10.2.0.0-10.2.255.255 proto 0 ports 0-65535");
    tp_free(&n);
}

/* Responder without an explicit policy: the ipsec profile naming the
 * matched IKEv2 profile accepts what is proposed. Transport mode asked
 * and granted (RFC 7296 1.3.1). */
static void test_implicit_policy_transport(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    vpn_ikev2_policy pa = gre_policy("192.0.2.1", "192.0.2.2", 1);
    int ea, eb;
    (void)state;

    a.mode = b.mode = "transport";
    setup(&n, &a, &b);
    initiate(&n, &pa);
    tp_run_for(&n, 1);
    ea = tp_find_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP, 0);
    eb = tp_find_ev(&n.node[1], VPN_IKEV2_EV_CHILD_UP, 0);
    assert_true(ea >= 0 && eb >= 0);
    tp_assert_child_pair(&n.node[0].ev[ea], &n.node[1].ev[eb]);
    assert_int_equal(n.node[0].ev[ea].child.mode, VPN_CONF_MODE_TRANSPORT);
    assert_int_equal(n.node[1].ev[eb].child.mode, VPN_CONF_MODE_TRANSPORT);
    assert_int_equal(n.node[1].ev[eb].child.ts_local[0].proto, 47);
    tp_free(&n);
}

/* ---- failures ------------------------------------------------------------------------- */

static void assert_failed(const tp_node *nd, vpn_ikev2_reason r, uint16_t notify)
{
    int e = tp_find_ev(nd, VPN_IKEV2_EV_FAILED, 0);
    if (e < 0)
        fail_msg("node %d: no FAILED event", nd->idx);
    assert_int_equal(nd->ev[e].reason, r);
    if (notify)
        assert_int_equal(nd->ev[e].notify, notify);
    assert_int_equal(tp_count_ev(nd, VPN_IKEV2_EV_IKE_UP), 0);
    assert_int_equal(tp_count_ev(nd, VPN_IKEV2_EV_CHILD_UP), 0);
}

/* The responder expects another key than the initiator uses: the
 * responder answers AUTHENTICATION_FAILED; no SA is left anywhere. */
static void test_wrong_psk_at_responder(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    vpn_ikev2_policy pa = gre_policy("192.0.2.1", "192.0.2.2", 1);
    (void)state;

    b.psk_remote = "not-what-r1-uses";
    setup(&n, &a, &b);
    initiate(&n, &pa);
    tp_run_for(&n, 100);
    assert_failed(&n.node[0], VPN_IKEV2_R_PEER_AUTH_FAILED, 24);
    assert_failed(&n.node[1], VPN_IKEV2_R_AUTH_FAILED, 24);
    assert_no_sa(&n);
    assert_int_equal(n.sent, 4); /* no retransmission after the refusal */
    /* During FAILED the SA is still readable: its keys go to Wireshark so a
     * capture of the failed IKE_AUTH decrypts (the host daemon relies on it). */
    {
        const tp_event *fa = &n.node[0].ev[tp_find_ev(&n.node[0], VPN_IKEV2_EV_FAILED, 0)];
        const tp_event *fb = &n.node[1].ev[tp_find_ev(&n.node[1], VPN_IKEV2_EV_FAILED, 0)];
        assert_int_equal(fa->ws_rc, 0);
        assert_int_equal(fb->ws_rc, 0);
        assert_string_equal(fa->ws_line, fb->ws_line);
        assert_non_null(strstr(fa->ws_line, "\"AES-CBC-256 [RFC3602]\""));
    }
    tp_free(&n);
}

/* The initiator does not accept the responder's key: it reports
 * AUTHENTICATION_FAILED in an INFORMATIONAL (2.21.2); both forget the SA. */
static void test_wrong_psk_at_initiator(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    vpn_ikev2_policy pa = gre_policy("192.0.2.1", "192.0.2.2", 1);
    (void)state;

    a.psk_remote = "not-what-r2-uses";
    setup(&n, &a, &b);
    initiate(&n, &pa);
    tp_run_for(&n, 100);
    assert_failed(&n.node[0], VPN_IKEV2_R_AUTH_FAILED, 24);
    /* the responder had the SA up, then learnt of the failure */
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_IKE_DOWN), 1);
    assert_int_equal(n.node[1].ev[tp_find_ev(&n.node[1], VPN_IKEV2_EV_IKE_DOWN, 0)].reason,
                     VPN_IKEV2_R_PEER_AUTH_FAILED);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_CHILD_DOWN), tp_count_ev(&n.node[1], VPN_IKEV2_EV_CHILD_UP));
    assert_no_sa(&n);
    tp_free(&n);
}

static void test_no_proposal_chosen(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    vpn_ikev2_policy pa = gre_policy("192.0.2.1", "192.0.2.2", 1);
    (void)state;

    b.encr = "aes-cbc-128"; /* R1 offers only AES-256 */
    setup(&n, &a, &b);
    initiate(&n, &pa);
    tp_run_for(&n, 100);
    assert_failed(&n.node[0], VPN_IKEV2_R_NO_PROPOSAL, 14);
    assert_failed(&n.node[1], VPN_IKEV2_R_NO_PROPOSAL, 14);
    assert_no_sa(&n);
    assert_int_equal(n.sent, 2);
    tp_free(&n);
}

/* ESP transforms disagree: the IKE SA comes up, the CHILD_SA does not,
 * and the initiator then deletes the useless IKE SA. */
static void test_child_no_proposal(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    vpn_ikev2_policy pa = gre_policy("192.0.2.1", "192.0.2.2", 1);
    (void)state;

    b.tset = "esp-gcm 128";
    setup(&n, &a, &b);
    initiate(&n, &pa);
    tp_run_for(&n, 100);
    assert_int_equal(n.node[0].ev[tp_find_ev(&n.node[0], VPN_IKEV2_EV_FAILED, 0)].notify, 14);
    assert_int_equal(n.node[1].ev[tp_find_ev(&n.node[1], VPN_IKEV2_EV_FAILED, 0)].notify, 14);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP), 0);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_IKE_DOWN), 1);
    assert_no_sa(&n);
    tp_free(&n);
}

static void test_ts_unacceptable(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    vpn_ikev2_policy pa = gre_policy("192.0.2.1", "192.0.2.2", 1);
    vpn_ikev2_policy pb = gre_policy("192.0.2.2", "192.0.2.1", 2);
    (void)state;

    pb.ts_remote[0] = sel("198.51.100.0/24", 47); /* not where R1 is */
    setup(&n, &a, &b);
    assert_int_equal(vpn_ikev2_policy_add(n.node[1].ctx, &pb), 0);
    initiate(&n, &pa);
    tp_run_for(&n, 100);
    assert_int_equal(n.node[0].ev[tp_find_ev(&n.node[0], VPN_IKEV2_EV_FAILED, 0)].reason,
                     VPN_IKEV2_R_TS_UNACCEPTABLE);
    assert_int_equal(n.node[0].ev[tp_find_ev(&n.node[0], VPN_IKEV2_EV_FAILED, 0)].notify, 38);
    assert_int_equal(n.node[1].ev[tp_find_ev(&n.node[1], VPN_IKEV2_EV_FAILED, 0)].reason,
                     VPN_IKEV2_R_TS_UNACCEPTABLE);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP), 0);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_CHILD_UP), 0);
    assert_no_sa(&n);
    tp_free(&n);
}

/* The peer's identity must match `match identity remote`. */
static void test_identity_mismatch(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    vpn_ikev2_policy pa = gre_policy("192.0.2.1", "192.0.2.2", 1);
    (void)state;

    a.profile_extra = " identity local fqdn r1.example.com\n";
    setup(&n, &a, &b);
    initiate(&n, &pa);
    tp_run_for(&n, 100);
    assert_failed(&n.node[0], VPN_IKEV2_R_PEER_AUTH_FAILED, 24);
    assert_failed(&n.node[1], VPN_IKEV2_R_NO_POLICY, 24);
    assert_no_sa(&n);
    tp_free(&n);
}

/* ---- IKE_SA_INIT round trips ------------------------------------------------------------ */

/* R1 proposes groups 19 and 14 and sends a KE for 19; R2 only takes 14:
 * INVALID_KE_PAYLOAD(14), then a second IKE_SA_INIT with group 14. */
static void test_invalid_ke_retry(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    vpn_ikev2_policy pa = gre_policy("192.0.2.1", "192.0.2.2", 1);
    vpn_ikev2_sa_info ia;
    size_t l;
    (void)state;

    b.groups = "14";
    setup(&n, &a, &b);
    initiate(&n, &pa);
    tp_run_for(&n, 5);
    assert_int_equal(n.sent, 6);
    /* the second message: INVALID_KE_PAYLOAD naming group 14 */
    {
        const uint8_t *p = tp_ike(n.log[1], &l);
        assert_true(tp_is_response(n.log[1]));
        assert_int_equal(l, 28 + 8 + 2);
        assert_int_equal(vpn_load16(p + 28 + 6), 17);
        assert_int_equal(vpn_load16(p + 28 + 8), 14);
        assert_int_equal(vpn_load32(p + 8) | vpn_load32(p + 12), 0); /* SPIr 0 */
    }
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP), 1);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_CHILD_UP), 1);
    assert_int_equal(vpn_ikev2_sa_get(n.node[0].ctx, 0, &ia), 0);
    assert_int_equal(ia.dh_group, VPN_DH_MODP_2048);
    /* the responder kept no state for the refused attempt */
    assert_int_equal(vpn_ikev2_sa_count(n.node[1].ctx), 1);
    tp_free(&n);
}

/* RFC 7296 1.3, 2.18: an IKE SA rekey refused with INVALID_KE_PAYLOAD
 * naming a group we offer (here R2's proposal no longer has the SA's group
 * 19: its configuration changed since IKE_SA_INIT) is asked again at once
 * with a KE for that group, as IKE_SA_INIT does; before, R1 retried later
 * with group 19 and was refused for as long as the SA lived. */
static void test_ike_rekey_invalid_ke_retry(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    vpn_ikev2_policy pa = gre_policy("192.0.2.1", "192.0.2.2", 1);
    vpn_ikev2_sa_info ia, ib;
    vpn_conf_proposal *p2;
    (void)state;

    setup(&n, &a, &b);
    initiate(&n, &pa);
    tp_run_for(&n, 2);
    assert_int_equal(vpn_ikev2_sa_get(n.node[0].ctx, 0, &ia), 0);
    assert_int_equal(ia.dh_group, VPN_DH_ECP_256);
    /* R2's `crypto ikev2 proposal P1` now says `group 14` */
    p2 = (vpn_conf_proposal *)vpn_conf_find_proposal(n.node[1].conf, "P1");
    assert_non_null(p2);
    p2->group[0] = VPN_DH_MODP_2048;
    p2->n_group = 1;
    assert_int_equal(vpn_ikev2_ike_rekey(n.node[0].ctx, n.now, ia.id), 0);
    tp_run_for(&n, 5);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(tp_count_ev(&n.node[i], VPN_IKEV2_EV_IKE_REKEYED), 1);
        assert_int_equal(tp_count_ev(&n.node[i], VPN_IKEV2_EV_FAILED), 0);
        assert_int_equal(tp_count_ev(&n.node[i], VPN_IKEV2_EV_IKE_DOWN), 0);
        assert_int_equal(vpn_ikev2_sa_count(n.node[i].ctx), 1);
    }
    assert_int_equal(vpn_ikev2_sa_get(n.node[0].ctx, 0, &ia), 0);
    assert_int_equal(vpn_ikev2_sa_get(n.node[1].ctx, 0, &ib), 0);
    assert_int_equal(ia.dh_group, VPN_DH_MODP_2048);
    assert_int_equal(ib.dh_group, VPN_DH_MODP_2048);
    assert_memory_equal(ia.spi_i, ib.spi_i, 8);
    assert_int_equal(ia.n_children, 1);
    tp_free(&n);
}

/* A group the initiator did not offer: it gives up. */
static void test_invalid_ke_unoffered(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    vpn_ikev2_policy pa = gre_policy("192.0.2.1", "192.0.2.2", 1);
    (void)state;

    a.groups = "19";
    b.groups = "14";
    setup(&n, &a, &b);
    initiate(&n, &pa);
    tp_run_for(&n, 100);
    assert_failed(&n.node[0], VPN_IKEV2_R_NO_PROPOSAL, 14);
    assert_no_sa(&n);
    tp_free(&n);
}

static bool drop_ike_auth_of_first_sa(tp_net *n, tp_dgram *d, void *user)
{
    int *dropped = user;
    (void)n;
    if (d->from == 0 && tp_exchange(d) == 35 && *dropped == 0) {
        size_t l;
        const uint8_t *p = tp_ike(d, &l);
        static uint8_t first_spi[8];
        static bool have;
        if (!have) {
            memcpy(first_spi, p, 8);
            have = true;
        }
        if (memcmp(first_spi, p, 8) == 0)
            return false; /* keep SA 1 half-open at R2 */
    }
    return true;
}

/* `crypto ikev2 cookie-challenge 1`: with one half-open SA, the next
 * IKE_SA_INIT is answered with a COOKIE and succeeds on the retry. */
static void test_cookie_challenge(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    vpn_ikev2_policy pa = gre_policy("192.0.2.1", "192.0.2.2", 1);
    vpn_ikev2_stats st;
    int zero = 0;
    size_t before;
    (void)state;

    b.extra = "crypto ikev2 cookie-challenge 1\n";
    setup(&n, &a, &b);
    n.hook = drop_ike_auth_of_first_sa;
    n.hook_user = &zero;
    initiate(&n, &pa);
    tp_pump(&n);
    vpn_ikev2_stats_get(n.node[1].ctx, &st);
    assert_int_equal(st.half_open_in, 1);
    before = n.sent;
    initiate(&n, &pa);
    tp_pump(&n);
    vpn_ikev2_stats_get(n.node[1].ctx, &st);
    assert_int_equal(st.cookies_sent, 1);
    /* request, COOKIE, request with cookie, response, IKE_AUTH pair */
    assert_int_equal(n.sent - before, 6);
    {
        size_t l;
        const uint8_t *p = tp_ike(n.log[n.n_log - 6 + 1], &l);
        /* the COOKIE response: one notify of type 16390 with 33 octets */
        assert_int_equal(l, 28 + 8 + 33);
        assert_int_equal(vpn_load16(p + 28 + 6), 16390);
        /* the retry starts with that cookie (RFC 7296 2.6) */
        p = tp_ike(n.log[n.n_log - 6 + 2], &l);
        assert_int_equal(p[16], 41);
        assert_int_equal(vpn_load16(p + 28 + 6), 16390);
    }
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_CHILD_UP), 1);
    /* a forged cookie does not pass: the first SA stays half-open until
     * its IKE_AUTH times out */
    tp_run_for(&n, 120);
    vpn_ikev2_stats_get(n.node[1].ctx, &st);
    assert_int_equal(st.half_open_in, 0);
    tp_free(&n);
}

/* ---- NAT traversal ----------------------------------------------------------------------- */

static void test_nat_detection(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    vpn_ikev2_policy pa = gre_policy("192.0.2.1", "192.0.2.2", 1);
    vpn_ikev2_sa_info ia, ib;
    int ea, eb;
    (void)state;

    /* R2 matches the profile by R1's address ID, which the NAT does not
     * change; the keyring peer is found by the address R2 sees */
    b.keyring_addr = "203.0.113.77";
    setup(&n, &a, &b);
    tp_nat(&n, "203.0.113.77");
    initiate(&n, &pa);
    tp_run_for(&n, 1);
    assert_int_equal(vpn_ikev2_sa_get(n.node[0].ctx, 0, &ia), 0);
    assert_int_equal(vpn_ikev2_sa_get(n.node[1].ctx, 0, &ib), 0);
    assert_true(ia.nat_local);
    assert_false(ia.nat_remote);
    assert_true(ib.nat_remote);
    assert_false(ib.nat_local);
    /* IKE_SA_INIT on 500, IKE_AUTH on 4500 with the non-ESP marker */
    assert_int_equal(n.log[0]->dst.port, 500);
    assert_int_equal(n.log[2]->src.port, 44500);
    assert_int_equal(n.log[2]->dst.port, 4500);
    assert_memory_equal(n.log[2]->data, "\0\0\0\0", 4);
    assert_int_equal(n.log[3]->src.port, 4500);
    assert_int_equal(n.log[3]->dst.port, 4500);
    assert_int_equal(ia.local.port, 4500);
    assert_int_equal(ib.remote.port, 44500);
    assert_string_equal(ib.id_remote.text, "192.0.2.1");
    ea = tp_find_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP, 0);
    eb = tp_find_ev(&n.node[1], VPN_IKEV2_EV_CHILD_UP, 0);
    assert_true(ea >= 0 && eb >= 0);
    tp_assert_child_pair(&n.node[0].ev[ea], &n.node[1].ev[eb]);
    assert_true(n.node[0].ev[ea].child.udp_encap);
    assert_true(n.node[1].ev[eb].child.udp_encap);
    assert_int_equal(n.node[1].ev[eb].child.remote.port, 44500);
    tp_free(&n);
}

/* NAT keepalives from the node behind the NAT (RFC 3948 2.3). */
static void test_nat_keepalive(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    vpn_ikev2_policy pa = gre_policy("192.0.2.1", "192.0.2.2", 1);
    size_t ka = 0;
    (void)state;

    a.extra = "crypto ikev2 nat keepalive 20\n";
    b.keyring_addr = "203.0.113.77";
    setup(&n, &a, &b);
    tp_nat(&n, "203.0.113.77");
    initiate(&n, &pa);
    tp_run_for(&n, 65);
    for (size_t i = 0; i < n.n_log; i++)
        if (n.log[i]->len == 1 && n.log[i]->data[0] == 0xff && n.log[i]->from == 0)
            ka++;
    assert_int_equal(ka, 3);
    tp_free(&n);
}

/* The buffer for datagrams with the non-ESP marker (RFC 3948 2.2) is
 * made by the first datagram on port 4500 (issue 14: 64 KB per engine
 * that never meets a NAT). Refusing it loses that datagram and reports
 * an internal error, the SA kept; the retransmission then gets through. */

static size_t sent_to_4500(const tp_net *n, int from)
{
    size_t k = 0;
    for (size_t i = 0; i < n->n_log; i++)
        if (n->log[i]->from == from && n->log[i]->dst.port == 4500)
            k++;
    return k;
}

static void test_natt_marker_buffer(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    vpn_ikev2_policy pa = gre_policy("192.0.2.1", "192.0.2.2", 1);
    vpn_ikev2_sa_info ia;
    vpn_ikev2_stats st;
    tu_switch g = {.size = IKEV2_MSG_MAX};
    char *ta, *tb;
    uint32_t id;
    (void)state;

    /* no NAT: IKE stays on 500 and neither engine holds the buffer */
    setup(&n, &a, &b);
    initiate(&n, &pa);
    tp_run_for(&n, 1);
    assert_true(tp_find_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP, 0) >= 0);
    assert_null(n.node[0].ctx->scratch2);
    assert_null(n.node[1].ctx->scratch2);
    tp_free(&n);

    /* behind a NAT, the initiator's buffer refused: IKE_AUTH (the first
     * datagram on 4500) is not sent, the failure is reported, the SA stays */
    b.keyring_addr = "203.0.113.77";
    ta = make_conf(&a);
    tb = make_conf(&b);
    tp_init(&n);
    n.alloc.allow = tu_switch_allow;
    n.alloc.user = &g;
    tp_add(&n, ta, "192.0.2.1", "R1");
    tp_add(&n, tb, "192.0.2.2", "R2");
    free(ta);
    free(tb);
    tp_nat(&n, "203.0.113.77");
    g.refuse = true;
    id = initiate(&n, &pa);
    tp_run_until(&n, n.now + TP_NS / 4); /* before the first retransmission */
    assert_int_equal(g.refused, 1);
    assert_null(n.node[0].ctx->scratch2);
    assert_int_equal(sent_to_4500(&n, 0), 0);
    vpn_ikev2_stats_get(n.node[0].ctx, &st);
    assert_int_equal(st.internal_errors, 1);
    int f = tp_find_ev(&n.node[0], VPN_IKEV2_EV_FAILED, 0);
    assert_true(f >= 0);
    assert_int_equal(n.node[0].ev[f].ike_sa_id, id);
    assert_int_equal(n.node[0].ev[f].reason, VPN_IKEV2_R_INTERNAL);
    assert_int_equal(vpn_ikev2_sa_count(n.node[0].ctx), 1);
    assert_int_equal(vpn_ikev2_sa_get(n.node[0].ctx, 0, &ia), 0);
    assert_int_equal(ia.id, id);
    assert_int_equal(ia.local.port, 4500);
    /* memory back: the retransmission takes IKE_AUTH to 4500, both up */
    g.refuse = false;
    tp_run_for(&n, 10);
    assert_non_null(n.node[0].ctx->scratch2);
    assert_true(sent_to_4500(&n, 0) > 0);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_IKE_UP), 1);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_IKE_UP), 1);
    assert_true(tp_find_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP, 0) >= 0);
    assert_true(tp_find_ev(&n.node[1], VPN_IKEV2_EV_CHILD_UP, 0) >= 0);
    assert_int_equal(g.refused, 1);
    tp_free(&n);
}

/* RFC 7296 2.23: the NAT in front of node 0 drops its mapping and makes a
 * new one on another port (a rebinding). Node 1, not behind a NAT, follows
 * node 0 there from an authentic new ESP packet (the driver's report) and
 * from an authenticated IKE request; node 0, behind the NAT, never moves
 * its peer; until node 1 follows, what it sends to the old port is lost. */
static void test_nat_rebinding(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    tp_net n;
    vpn_ikev2_policy pa = gre_policy("192.0.2.1", "192.0.2.2", 1);
    vpn_ikev2_sa_info ia, ib;
    vpn_ikev2_endpoint moved, bogus;
    vpn_ikev2_stats st0, st1;
    uint32_t child_b, child_a;
    int e;
    (void)state;

    b.keyring_addr = "203.0.113.77";
    setup(&n, &a, &b);
    tp_nat(&n, "203.0.113.77");
    initiate(&n, &pa);
    tp_run_for(&n, 1);
    assert_int_equal(vpn_ikev2_sa_get(n.node[1].ctx, 0, &ib), 0);
    assert_int_equal(ib.remote.port, 44500);
    child_a = n.node[0].ev[tp_find_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP, 0)].child.id;
    child_b = n.node[1].ev[tp_find_ev(&n.node[1], VPN_IKEV2_EV_CHILD_UP, 0)].child.id;

    /* The rebinding: 4500 now leaves from 45500; 44500 is dead. A
     * liveness check from node 1 goes to the old port and is lost. */
    n.nat_map_port[1] = 45500;
    vpn_ikev2_stats_get(n.node[1].ctx, &st0);
    assert_int_equal(vpn_ikev2_dpd(n.node[1].ctx, n.now, ib.id), 0);
    tp_run_for(&n, 0);
    vpn_ikev2_stats_get(n.node[1].ctx, &st1);
    assert_int_equal(st1.in_responses, st0.in_responses);

    /* An authentic ESP packet from the new port (the driver's report): node
     * 1 follows, its CHILD_SA with it; a second report changes nothing. */
    moved.addr = n.nat_addr;
    moved.port = 45500;
    assert_int_equal(vpn_ikev2_child_peer_moved(n.node[1].ctx, n.now, child_b, &moved), 1);
    assert_int_equal(vpn_ikev2_child_peer_moved(n.node[1].ctx, n.now, child_b, &moved), 0);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_CHILD_MOVED), 1);
    e = tp_find_ev(&n.node[1], VPN_IKEV2_EV_CHILD_MOVED, 0);
    assert_int_equal(n.node[1].ev[e].child.id, child_b);
    assert_int_equal(n.node[1].ev[e].child.remote.port, 45500);
    assert_true(vpn_addr_eq(&n.node[1].ev[e].child.remote.addr, &n.nat_addr));
    assert_true(n.node[1].ev[e].child.udp_encap);
    assert_int_equal(vpn_ikev2_sa_get(n.node[1].ctx, 0, &ib), 0);
    assert_int_equal(ib.remote.port, 45500);
    /* the retransmitted liveness check now reaches node 0 and is answered */
    tp_run_for(&n, 3);
    vpn_ikev2_stats_get(n.node[1].ctx, &st1);
    assert_int_equal(st1.in_responses, st0.in_responses + 1);

    /* Node 0 is behind the NAT: it does not follow (2.23 SHOULD NOT). */
    bogus.addr = n.node[1].ep.addr;
    bogus.port = 4501;
    assert_int_equal(vpn_ikev2_child_peer_moved(n.node[0].ctx, n.now, child_a, &bogus), 0);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_CHILD_MOVED), 0);
    assert_int_equal(vpn_ikev2_sa_get(n.node[0].ctx, 0, &ia), 0);
    assert_int_equal(ia.remote.port, 4500);
    /* unknown CHILD_SA, no endpoint */
    assert_int_equal(vpn_ikev2_child_peer_moved(n.node[1].ctx, n.now, 999999, &moved), VPN_ERR_NOTFOUND);
    assert_int_equal(vpn_ikev2_child_peer_moved(n.node[1].ctx, n.now, child_b, NULL), VPN_ERR_INVAL);

    /* Another rebinding, learnt this time from an authenticated IKE
     * request: node 0's liveness check from 46500. */
    n.nat_map_port[1] = 46500;
    assert_int_equal(vpn_ikev2_dpd(n.node[0].ctx, n.now, ia.id), 0);
    tp_run_for(&n, 1);
    assert_int_equal(vpn_ikev2_sa_get(n.node[1].ctx, 0, &ib), 0);
    assert_int_equal(ib.remote.port, 46500);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_CHILD_MOVED), 2);
    e = tp_find_ev(&n.node[1], VPN_IKEV2_EV_CHILD_MOVED, 1);
    assert_int_equal(n.node[1].ev[e].child.remote.port, 46500);
    /* and node 1's own requests reach node 0 again */
    vpn_ikev2_stats_get(n.node[1].ctx, &st0);
    assert_int_equal(vpn_ikev2_dpd(n.node[1].ctx, n.now, ib.id), 0);
    tp_run_for(&n, 1);
    vpn_ikev2_stats_get(n.node[1].ctx, &st1);
    assert_int_equal(st1.in_responses, st0.in_responses + 1);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_IKE_DOWN), 0);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_IKE_DOWN), 0);
    tp_free(&n);
}

/* ---- identities and IPv6 ------------------------------------------------------------------- */

static const char v6_a[] =
    "crypto ikev2 keyring KR\n peer R2\n  address 2001:db8::2/128\n  pre-shared-key v6-secret\n"
    "crypto ikev2 profile PROF\n match identity remote address 2001:db8::2/128\n"
    " authentication local pre-share\n authentication remote pre-share\n keyring local KR\n"
    "crypto ipsec profile IPP\n set ikev2-profile PROF\n";
static const char v6_b[] =
    "crypto ikev2 keyring KR\n peer R1\n  address 2001:db8::/64\n  pre-shared-key v6-secret\n"
    "crypto ikev2 profile PROF\n match identity remote address 2001:db8::/64\n"
    " authentication local pre-share\n authentication remote pre-share\n keyring local KR\n"
    "crypto ipsec profile IPP\n set ikev2-profile PROF\n";

/* IKEv2 over IPv6 with the smart defaults (proposal default, transform set
 * default in transport mode), IPv6 address identities and selectors. */
static void test_ipv6(void **state)
{
    tp_net n;
    vpn_ikev2_policy p;
    vpn_ikev2_sa_info ia, ib;
    int ea, eb;
    char buf[128];
    (void)state;

    tp_init(&n);
    tp_add(&n, v6_a, "2001:db8::1", "R1");
    tp_add(&n, v6_b, "2001:db8::2", "R2");
    p = gre_policy("2001:db8::1", "2001:db8::2", 3);
    p.ts_local[0] = sel("2001:db8::1/128", 47);
    p.ts_remote[0] = sel("2001:db8::2/128", 47);
    initiate(&n, &p);
    tp_run_for(&n, 1);
    ea = tp_find_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP, 0);
    eb = tp_find_ev(&n.node[1], VPN_IKEV2_EV_CHILD_UP, 0);
    assert_true(ea >= 0 && eb >= 0);
    tp_assert_child_pair(&n.node[0].ev[ea], &n.node[1].ev[eb]);
    /* IOS's default transform set: esp-aes esp-sha-hmac, transport offered */
    assert_int_equal(n.node[0].ev[ea].child.encr, VPN_ENCR_AES_CBC);
    assert_int_equal(n.node[0].ev[ea].child.encr_key_bits, 128);
    assert_int_equal(n.node[0].ev[ea].child.integ, VPN_AUTH_HMAC_SHA1_96);
    assert_int_equal(n.node[0].ev[ea].child.mode, VPN_CONF_MODE_TRANSPORT);
    assert_string_equal(vpn_ikev2_selector_str(&n.node[1].ev[eb].child.ts_remote[0], buf, sizeof buf),
                        "2001:db8::1-2001:db8::1 proto 47 ports 0-65535");
    assert_int_equal(vpn_ikev2_sa_get(n.node[0].ctx, 0, &ia), 0);
    assert_int_equal(vpn_ikev2_sa_get(n.node[1].ctx, 0, &ib), 0);
    /* the default proposal: AES-CBC-256, SHA-512, group 19 first */
    assert_int_equal(ia.encr_key_bits, 256);
    assert_int_equal(ia.integ, VPN_AUTH_HMAC_SHA2_512_256);
    assert_int_equal(ia.prf, VPN_PRF_HMAC_SHA2_512);
    assert_int_equal(ia.dh_group, VPN_DH_ECP_256);
    assert_int_equal(ia.id_remote.type, 5); /* ID_IPV6_ADDR */
    assert_string_equal(ib.id_remote.text, "2001:db8::1");
    tp_free(&n);
}

/* The responder picks its profile by the initiator's identity (email,
 * FQDN with a domain match, key-id), and finds the keys by identity in the
 * keyring (`peer ... identity ...`). */
static const char ids_b[] =
    "crypto ikev2 keyring KR\n"
    " peer MAIL\n  identity email noc@branch.example.com\n  pre-shared-key local to-mail\n  pre-shared-key remote from-mail\n"
    " peer HOST\n  identity fqdn r1.branch.example.com\n  pre-shared-key local to-host\n  pre-shared-key remote from-host\n"
    " peer KEY\n  identity key-id 0xCAFE\n  pre-shared-key local to-key\n  pre-shared-key remote from-key\n"
    "crypto ikev2 profile BY-MAIL\n match identity remote email domain example.com\n identity local fqdn hub.example.com\n"
    " authentication local pre-share\n authentication remote pre-share\n keyring local KR\n"
    "crypto ikev2 profile BY-HOST\n match identity remote fqdn domain branch.example.com\n identity local fqdn hub.example.com\n"
    " authentication local pre-share\n authentication remote pre-share\n keyring local KR\n"
    "crypto ikev2 profile BY-KEY\n match identity remote key-id 0xCAFE\n identity local fqdn hub.example.com\n"
    " authentication local pre-share\n authentication remote pre-share\n keyring local KR\n"
    "crypto ipsec profile IPP-MAIL\n set ikev2-profile BY-MAIL\n"
    "crypto ipsec profile IPP-HOST\n set ikev2-profile BY-HOST\n"
    "crypto ipsec profile IPP-KEY\n set ikev2-profile BY-KEY\n";

static void identity_case(const char *id_local, const char *psk_local, const char *psk_remote, const char *want_profile,
                          const char *want_text)
{
    char a[1024];
    tp_net n;
    vpn_ikev2_policy p = gre_policy("192.0.2.1", "192.0.2.2", 1);
    vpn_ikev2_sa_info ib;

    snprintf(a, sizeof a,
             "crypto ikev2 keyring KR\n peer HUB\n  address 192.0.2.2\n  pre-shared-key local %s\n"
             "  pre-shared-key remote %s\n"
             "crypto ikev2 profile PROF\n match identity remote fqdn hub.example.com\n identity local %s\n"
             " authentication local pre-share\n authentication remote pre-share\n keyring local KR\n"
             "crypto ipsec profile IPP\n set ikev2-profile PROF\n",
             psk_local, psk_remote, id_local);
    tp_init(&n);
    tp_add(&n, a, "192.0.2.1", "R1");
    tp_add(&n, ids_b, "192.0.2.2", "R2");
    p.ipsec_profile = "IPP";
    initiate(&n, &p);
    tp_run_for(&n, 1);
    if (tp_count_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP) != 1)
        fail_msg("%s: no CHILD_SA (R2: %s)", id_local, n.node[1].log.last);
    assert_int_equal(vpn_ikev2_sa_get(n.node[1].ctx, 0, &ib), 0);
    assert_string_equal(ib.profile, want_profile);
    assert_string_equal(ib.id_remote.text, want_text);
    assert_string_equal(ib.id_local.text, "hub.example.com");
    tp_free(&n);
}

static void test_identity_types(void **state)
{
    (void)state;
    identity_case("email noc@branch.example.com", "from-mail", "to-mail", "BY-MAIL", "noc@branch.example.com");
    identity_case("fqdn r1.branch.example.com", "from-host", "to-host", "BY-HOST", "r1.branch.example.com");
    identity_case("key-id 0xCAFE", "from-key", "to-key", "BY-KEY", "0xCAFE");
}

/* ---- `crypto ikev2 policy` chosen by `match address local` ---------------------------------- */

/* PA, PB and PD share nothing with each other; PA and PB nothing with the
 * built-in default proposal either, PD everything. */
#define POLICY_PROPOSALS                                                                                      \
    "crypto ikev2 proposal PA\n encryption aes-cbc-128\n integrity sha256\n group 14\n"                      \
    "crypto ikev2 proposal PB\n encryption aes-cbc-256\n integrity sha256\n group 19\n"                      \
    "crypto ikev2 proposal PD\n encryption aes-cbc-256\n integrity sha512\n group 21\n"
#define POLICY_REST                                                                                          \
    "crypto ikev2 keyring KR\n peer ANY\n  address 192.0.2.0 255.255.255.0\n  pre-shared-key lab-secret\n"   \
    "crypto ikev2 profile PROF\n match identity remote address 192.0.2.0 255.255.255.0\n"                    \
    " authentication local pre-share\n authentication remote pre-share\n keyring local KR\n"                 \
    "crypto ipsec profile IPP\n set ikev2-profile PROF\n"

/* A responder with two address-bound policies (listed so that the first
 * is not the one for .2). */
static const char pol_resp[] = POLICY_PROPOSALS
    "crypto ikev2 policy POL-B\n match address local 192.0.2.3\n proposal PB\n"
    "crypto ikev2 policy POL-A\n match address local 192.0.2.2\n proposal PA\n" POLICY_REST;
/* An initiator offering PB, PD, PA in that order from any address. */
static const char pol_offer_all[] = POLICY_PROPOSALS
    "crypto ikev2 policy ALL\n proposal PB\n proposal PD\n proposal PA\n"
    POLICY_REST;
/* An initiator whose offer depends on its own address. */
static const char pol_init[] = POLICY_PROPOSALS
    "crypto ikev2 policy POL-B\n match address local 192.0.2.5\n proposal PB\n"
    "crypto ikev2 policy POL-A\n match address local 192.0.2.1\n proposal PA\n" POLICY_REST;
/* A responder accepting all three. */
static const char pol_accept_all[] = POLICY_PROPOSALS
    "crypto ikev2 policy ALL\n proposal PD\n proposal PA\n proposal PB\n"
    POLICY_REST;

/* R1 at a1 with conf c1 initiates to R2 at a2 with c2. want_group 0:
 * the exchange must fail with NO_PROPOSAL_CHOSEN. */
static void policy_case(const char *c1, const char *a1, const char *c2, const char *a2, uint16_t want_group,
                        uint16_t want_bits, uint16_t want_integ)
{
    tp_net n;
    vpn_ikev2_policy p = gre_policy(a1, a2, 1);
    vpn_ikev2_sa_info ia, ib;

    tp_init(&n);
    tp_add(&n, c1, a1, "R1");
    tp_add(&n, c2, a2, "R2");
    initiate(&n, &p);
    tp_run_for(&n, 100);
    if (want_group == 0) {
        assert_failed(&n.node[0], VPN_IKEV2_R_NO_PROPOSAL, 14); /* NO_PROPOSAL_CHOSEN */
        assert_failed(&n.node[1], VPN_IKEV2_R_NO_PROPOSAL, 14); /* NO_PROPOSAL_CHOSEN */
        assert_no_sa(&n);
        tp_free(&n);
        return;
    }
    if (tp_count_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP) != 1)
        fail_msg("%s -> %s: no CHILD_SA (R1: %s / R2: %s)", a1, a2, n.node[0].log.last, n.node[1].log.last);
    assert_int_equal(vpn_ikev2_sa_get(n.node[0].ctx, 0, &ia), 0);
    assert_int_equal(vpn_ikev2_sa_get(n.node[1].ctx, 0, &ib), 0);
    assert_int_equal(ia.dh_group, want_group);
    assert_int_equal(ib.dh_group, want_group);
    assert_int_equal(ia.encr_key_bits, want_bits);
    assert_int_equal(ib.encr_key_bits, want_bits);
    assert_int_equal(ia.integ, want_integ);
    assert_int_equal(ib.integ, want_integ);
    tp_free(&n);
}

/* The responder takes the proposals of the policy that names the address
 * the request came to, whatever the initiator prefers. */
static void test_policy_match_address_local_responder(void **state)
{
    (void)state;
    policy_case(pol_offer_all, "192.0.2.1", pol_resp, "192.0.2.2", VPN_DH_MODP_2048, 128,
                VPN_AUTH_HMAC_SHA2_256_128);
    policy_case(pol_offer_all, "192.0.2.1", pol_resp, "192.0.2.3", VPN_DH_ECP_256, 256,
                VPN_AUTH_HMAC_SHA2_256_128);
}

/* The initiator offers the proposals of the policy for its own address. */
static void test_policy_match_address_local_initiator(void **state)
{
    (void)state;
    policy_case(pol_init, "192.0.2.1", pol_accept_all, "192.0.2.2", VPN_DH_MODP_2048, 128,
                VPN_AUTH_HMAC_SHA2_256_128);
    policy_case(pol_init, "192.0.2.5", pol_accept_all, "192.0.2.2", VPN_DH_ECP_256, 256,
                VPN_AUTH_HMAC_SHA2_256_128);
}

/* An address no policy names: the address-bound policies are not used;
 * the built-in `default` policy (match address local any) is, so PA and PB
 * get NO_PROPOSAL_CHOSEN with no SA left, while PD (which fits the
 * default proposal) is chosen once offered. */
static void test_policy_match_address_local_no_match(void **state)
{
    static const char pa_pb_only[] = POLICY_PROPOSALS "crypto ikev2 policy AB\n proposal PA\n proposal PB\n"
        POLICY_REST;
    (void)state;
    policy_case(pa_pb_only, "192.0.2.1", pol_resp, "192.0.2.4", 0, 0, 0);
    policy_case(pol_offer_all, "192.0.2.1", pol_resp, "192.0.2.4", VPN_DH_ECP_521, 256,
                VPN_AUTH_HMAC_SHA2_512_256);
}

/* ---- both ends initiating at once (RFC 7296 2.4, INITIAL_CONTACT) ---------------------- */

#define LG_MAX 64
#define LG_MS 1000000ull

/* A network with a latency: the hook takes every datagram and it is
 * delivered `latency` later (plus `hold` for node 0's first IKE_AUTH
 * request, when set). */
typedef struct lag_net {
    tp_dgram *d[LG_MAX];
    uint64_t at[LG_MAX];
    size_t n;
    uint64_t latency, hold;
    bool held;
} lag_net;

static bool lag_hook(tp_net *n, tp_dgram *d, void *user)
{
    lag_net *l = user;
    tp_dgram *c = malloc(sizeof *c);

    assert_non_null(c);
    assert_true(l->n < LG_MAX);
    memcpy(c, d, sizeof *c);
    l->at[l->n] = n->now + l->latency;
    if (l->hold && !l->held && d->from == 0 && tp_exchange(d) == 35 /* IKE_AUTH */ && !tp_is_response(d)) {
        l->at[l->n] += l->hold;
        l->held = true;
    }
    l->d[l->n++] = c;
    return false;
}

static void lag_run_until(tp_net *n, lag_net *l, uint64_t until)
{
    for (int guard = 0; guard < 100000; guard++) {
        uint64_t t;
        size_t k = SIZE_MAX;
        tp_pump(n); /* what was sent goes to the lag queue */
        t = tp_deadline(n);
        for (size_t i = 0; i < l->n; i++)
            if (l->at[i] < t || (k == SIZE_MAX && l->at[i] == t)) {
                t = l->at[i];
                k = i;
            }
        if (t > until)
            break;
        if (t > n->now)
            n->now = t;
        if (k != SIZE_MAX && l->at[k] <= n->now) {
            tp_dgram *d = l->d[k];
            tp_node *dst = tp_node_of(n, &d->dst.addr);
            memmove(&l->d[k], &l->d[k + 1], (l->n - k - 1) * sizeof l->d[0]);
            memmove(&l->at[k], &l->at[k + 1], (l->n - k - 1) * sizeof l->at[0]);
            l->n--;
            assert_non_null(dst);
            assert_int_equal(vpn_ikev2_input(dst->ctx, n->now, &d->dst, &d->src, d->data, d->len), 0);
            free(d);
            continue;
        }
        for (int i = 0; i < n->n_nodes; i++)
            if (vpn_ikev2_next_deadline(n->node[i].ctx) <= n->now)
                vpn_ikev2_timeout(n->node[i].ctx, n->now);
    }
    if (until > n->now)
        n->now = until;
}

static void lag_free(lag_net *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->d[i]);
    l->n = 0;
}

static void start_from(tp_net *n, int from)
{
    vpn_ikev2_policy pol =
        from == 0 ? gre_policy("192.0.2.1", "192.0.2.2", 1) : gre_policy("192.0.2.2", "192.0.2.1", 1);
    uint32_t id = 0;
    assert_int_equal(vpn_ikev2_initiate(n->node[from].ctx, n->now, &n->node[from].ep, &n->node[1 - from].ep, &pol, &id),
                     0);
}

/* Each end holds `want` established IKE SAs, each with one CHILD_SA, and
 * the other end holds the same ones (by SPIs); of the two made at once one
 * went down (the redundant one, ikev2_duplicate_check) and nothing else,
 * or it went while still being made at the end that had not heard the
 * answer yet (FAILED). */
static void assert_same_sas(const tp_net *n, size_t want)
{
    for (int me = 0; me < 2; me++) {
        const vpn_ikev2_ctx *c = n->node[me].ctx, *o = n->node[1 - me].ctx;
        size_t est = 0;
        assert_int_equal(tp_count_ev(&n->node[me], VPN_IKEV2_EV_IKE_DOWN) +
                             tp_count_ev(&n->node[me], VPN_IKEV2_EV_FAILED),
                         1);
        for (size_t i = 0; i < vpn_ikev2_sa_count(c); i++) {
            vpn_ikev2_sa_info a;
            size_t twins = 0;
            assert_int_equal(vpn_ikev2_sa_get(c, i, &a), 0);
            if (a.state != VPN_IKEV2_SA_ESTABLISHED)
                continue;
            est++;
            assert_int_equal(a.n_children, 1);
            for (size_t j = 0; j < vpn_ikev2_sa_count(o); j++) {
                vpn_ikev2_sa_info b;
                assert_int_equal(vpn_ikev2_sa_get(o, j, &b), 0);
                twins += b.state == VPN_IKEV2_SA_ESTABLISHED && memcmp(a.spi_i, b.spi_i, 8) == 0 &&
                         memcmp(a.spi_r, b.spi_r, 8) == 0 && a.initiator != b.initiator;
            }
            assert_int_equal(twins, 1);
        }
        assert_int_equal(est, want);
    }
}

/* Both ends initiate offset_ms apart over a 5 ms path: whatever the
 * interleaving, neither INITIAL_CONTACT removes an SA the other end keeps,
 * and both ends settle on the same one of the two (the redundant one is
 * deleted by the survivor's initiator, or by its responder after 10 s). */
static void crossed_engines(int first, unsigned offset_ms)
{
    peer_conf a = conf_a(), b = conf_b();
    lag_net l;
    tp_net n;

    memset(&l, 0, sizeof l);
    l.latency = 5 * LG_MS;
    setup(&n, &a, &b);
    n.hook = lag_hook;
    n.hook_user = &l;
    start_from(&n, first);
    lag_run_until(&n, &l, n.now + offset_ms * LG_MS);
    start_from(&n, 1 - first);
    lag_run_until(&n, &l, n.now + 12 * TP_NS);
    assert_same_sas(&n, 1);
    lag_free(&l);
    tp_free(&n);
}

static void test_crossed_initiation(void **state)
{
    static const unsigned offsets[] = {0, 1, 3, 5, 10};
    (void)state;

    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
        crossed_engines(0, offsets[i]);
        crossed_engines(1, offsets[i]);
    }
}

/* RFC 7296 2.4 on receipt: R1's IKE_AUTH (with INITIAL_CONTACT: R1 had
 * nothing else with R2 when it sent it) is late; meanwhile R2's own IKE SA
 * to R1 came up. That one is not older than R1's exchange and must stay. */
static void test_initial_contact_spares_concurrent(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    lag_net l;
    tp_net n;
    (void)state;

    memset(&l, 0, sizeof l);
    l.latency = 5 * LG_MS;
    l.hold = 100 * LG_MS;
    setup(&n, &a, &b);
    n.hook = lag_hook;
    n.hook_user = &l;
    start_from(&n, 0);
    lag_run_until(&n, &l, n.now + 20 * LG_MS);
    assert_true(l.held);
    start_from(&n, 1);
    lag_run_until(&n, &l, n.now + 60 * LG_MS);
    /* R2's SA is up at both ends before R1's IKE_AUTH arrives */
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_IKE_UP), 1);
    lag_run_until(&n, &l, n.now + 12 * TP_NS);
    assert_same_sas(&n, 1);
    lag_free(&l);
    tp_free(&n);
}

/* A node starts afresh (a reboot): a new engine at the same address with
 * the same configuration (its random stream goes on). */
static void restart_node(tp_net *n, int idx, const char *name)
{
    tp_node *nd = &n->node[idx];
    vpn_ikev2_params p;

    vpn_ikev2_ctx_del(nd->ctx);
    memset(&p, 0, sizeof p);
    p.conf = nd->conf;
    vpn_rng_init_drbg(&p.rng, &nd->drbg);
    tu_log_attach(&p.log, &nd->log);
    p.log.max = VPN_LOG_DEBUG;
    p.name = name;
    p.send = tp_send_cb;
    p.event = tp_event_cb;
    p.user = nd;
    assert_int_equal(vpn_ikev2_ctx_new(&nd->ctx, &p), 0);
}

/* R2 holds one IKE SA, R1's one. */
static void assert_one_pair(tp_net *n)
{
    vpn_ikev2_sa_info ia, ib;

    assert_int_equal(vpn_ikev2_sa_count(n->node[0].ctx), 1);
    assert_int_equal(vpn_ikev2_sa_count(n->node[1].ctx), 1);
    assert_int_equal(vpn_ikev2_sa_get(n->node[0].ctx, 0, &ia), 0);
    assert_int_equal(vpn_ikev2_sa_get(n->node[1].ctx, 0, &ib), 0);
    assert_int_equal(ib.state, VPN_IKEV2_SA_ESTABLISHED);
    assert_memory_equal(ia.spi_i, ib.spi_i, 8);
    assert_memory_equal(ia.spi_r, ib.spi_r, 8);
}

/* IKE SAs the node deleted on an INITIAL_CONTACT. */
static size_t initial_contact_downs(const tp_node *nd)
{
    size_t k = 0;
    for (size_t i = 0; i < nd->n_ev; i++)
        k += nd->ev[i].type == VPN_IKEV2_EV_IKE_DOWN && nd->ev[i].notify == VPN_IKEV2_N_INITIAL_CONTACT;
    return k;
}

/* RFC 7296 2.4 on receipt: R1 restarts and comes back with INITIAL_CONTACT;
 * R2 deletes the IKE SA it still holds with R1's identity at once. The
 * second time that SA is one an IKE rekey made: R2's identity index
 * (ikev2-ridx.h) learns such SAs from the SAs created since it was last
 * asked, not from an IKE_AUTH; missing it would leave R2 two SAs. */
static void test_initial_contact_after_restart(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    vpn_ikev2_policy pa = gre_policy("192.0.2.1", "192.0.2.2", 7), pb = gre_policy("192.0.2.2", "192.0.2.1", 9);
    tp_net n;
    (void)state;

    setup(&n, &a, &b);
    assert_int_equal(vpn_ikev2_policy_add(n.node[1].ctx, &pb), 0);
    initiate(&n, &pa);
    tp_run_for(&n, 2);
    assert_one_pair(&n);
    for (int round = 0; round < 2; round++) {
        if (round == 1) {
            /* R1 rekeys the IKE SA: R2's new SA is made by CREATE_CHILD_SA */
            assert_int_equal(vpn_ikev2_ike_rekey(n.node[0].ctx, n.now, tp_sa_id(&n, 0)), 0);
            tp_run_for(&n, 2);
            assert_one_pair(&n);
        }
        restart_node(&n, 0, "R1");
        initiate(&n, &pa);
        tp_run_for(&n, 2);
        assert_one_pair(&n);
        assert_int_equal(initial_contact_downs(&n.node[1]), (size_t)round + 1);
    }
    tp_free(&n);
}

/* The same at a hub (R2) with two spokes, R1 and R3, that come up at once:
 * both IKE SAs are half-open at R2 before either IKE_AUTH arrives, so the
 * second one's identity is known only after the first IKE_AUTH looked into
 * the index; each spoke restarts in turn, and R2 deletes exactly that
 * spoke's old SA. */
static void test_initial_contact_interleaved(void **state)
{
    peer_conf a = conf_a(), b = conf_b(), c = conf_a();
    vpn_ikev2_policy p1 = gre_policy("192.0.2.1", "192.0.2.2", 7), p3 = gre_policy("192.0.2.3", "192.0.2.2", 8),
                     h1 = gre_policy("192.0.2.2", "192.0.2.1", 9), h3 = gre_policy("192.0.2.2", "192.0.2.3", 10);
    char *ta, *tb, *tc;
    tp_net n;
    uint32_t id = 0;
    (void)state;

    c.host = "R3";
    b.keyring_addr = "192.0.2.0 255.255.255.0";
    b.profile_extra = " match identity remote address 192.0.2.3 255.255.255.255\n";
    ta = make_conf(&a);
    tb = make_conf(&b);
    tc = make_conf(&c);
    tp_init(&n);
    tp_add(&n, ta, "192.0.2.1", "R1");
    tp_add(&n, tb, "192.0.2.2", "R2");
    tp_add(&n, tc, "192.0.2.3", "R3");
    free(ta);
    free(tb);
    free(tc);
    assert_int_equal(vpn_ikev2_policy_add(n.node[1].ctx, &h1), 0);
    assert_int_equal(vpn_ikev2_policy_add(n.node[1].ctx, &h3), 0);
    assert_int_equal(vpn_ikev2_initiate(n.node[2].ctx, n.now, &n.node[2].ep, &n.node[1].ep, &p3, &id), 0);
    assert_int_equal(vpn_ikev2_initiate(n.node[0].ctx, n.now, &n.node[0].ep, &n.node[1].ep, &p1, &id), 0);
    tp_run_for(&n, 2);
    assert_int_equal(vpn_ikev2_sa_count(n.node[1].ctx), 2);
    for (int round = 0; round < 2; round++) {
        int spoke = round == 0 ? 0 : 2;
        restart_node(&n, spoke, round == 0 ? "R1" : "R3");
        assert_int_equal(vpn_ikev2_initiate(n.node[spoke].ctx, n.now, &n.node[spoke].ep, &n.node[1].ep,
                                            round == 0 ? &p1 : &p3, &id),
                         0);
        tp_run_for(&n, 2);
        assert_int_equal(vpn_ikev2_sa_count(n.node[spoke].ctx), 1);
        assert_int_equal(vpn_ikev2_sa_count(n.node[1].ctx), 2);
        assert_int_equal(initial_contact_downs(&n.node[1]), (size_t)round + 1);
    }
    tp_free(&n);
}

/* An allocator gate that refuses the first request for a table of 64
 * slots (common/htab.h; the identity index's first, ikev2-ridx.c, asked at
 * the first IKE_AUTH) and counts them all. */
typedef struct ridx_gate {
    unsigned asked, refused;
} ridx_gate;

static bool ridx_gate_allow(void *user, size_t size)
{
    ridx_gate *g = user;
    if (size != 64 * sizeof(vpn_htab_ent))
        return true;
    g->asked++;
    if (g->refused)
        return true;
    g->refused++;
    return false;
}

/* The identity index's table refused once (ikev2-ridx.h: the lookups walk
 * the SAs meanwhile): a later lookup asks for it again rather than walking
 * for good; INITIAL_CONTACT still finds the old SA either way. */
static void test_peer_index_retried_after_refusal(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    vpn_ikev2_policy pa = gre_policy("192.0.2.1", "192.0.2.2", 7), pb = gre_policy("192.0.2.2", "192.0.2.1", 9);
    char *ta = make_conf(&a), *tb = make_conf(&b);
    ridx_gate g = {0};
    vpn_ikev2_params p;
    tp_node *r2;
    tp_net n;
    (void)state;

    tp_init(&n);
    tp_add(&n, ta, "192.0.2.1", "R1");
    r2 = tp_prepare(&n, tb, "192.0.2.2", "R2", &p);
    p.alloc.allow = ridx_gate_allow;
    p.alloc.user = &g;
    assert_int_equal(vpn_ikev2_ctx_new(&r2->ctx, &p), 0);
    free(ta);
    free(tb);
    assert_int_equal(vpn_ikev2_policy_add(n.node[1].ctx, &pb), 0);
    initiate(&n, &pa);
    tp_run_for(&n, 2);
    assert_one_pair(&n);
    assert_int_equal(g.refused, 1);
    /* the refused table, the same asked again by the lookups after that
     * IKE_AUTH, and the first tables of the CHILD_SA index (ikev2-cidx.c)
     * and of the inbound SPIs (ctx->spis), the same size; without the
     * retry only three */
    assert_int_equal(g.asked, 4);
    restart_node(&n, 0, "R1");
    initiate(&n, &pa);
    tp_run_for(&n, 2);
    assert_one_pair(&n);
    assert_int_equal(initial_contact_downs(&n.node[1]), 1);
    assert_int_equal(g.asked, 4); /* the index whole again: nothing more asked */
    tp_free(&n);
}

/* A CHILD_SA Delete that could not start for want of memory stays queued
 * and is tried again on a deadline, not only when a message comes: on a
 * quiet SA the peer would otherwise keep the pair until the next IKE
 * rekey (run_pending). */
static void test_queued_delete_retried_on_deadline(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    vpn_ikev2_policy pa = gre_policy("192.0.2.1", "192.0.2.2", 7), pb = gre_policy("192.0.2.2", "192.0.2.1", 9);
    char *ta = make_conf(&a), *tb = make_conf(&b);
    tu_switch gate = {0};
    vpn_ikev2_params p;
    vpn_ikev2_stats st;
    tp_node *r1;
    tp_net n;
    (void)state;

    tp_init(&n);
    r1 = tp_prepare(&n, ta, "192.0.2.1", "R1", &p);
    p.alloc.allow = tu_switch_allow;
    p.alloc.user = &gate;
    assert_int_equal(vpn_ikev2_ctx_new(&r1->ctx, &p), 0);
    tp_add(&n, tb, "192.0.2.2", "R2");
    free(ta);
    free(tb);
    assert_int_equal(vpn_ikev2_policy_add(n.node[1].ctx, &pb), 0);
    initiate(&n, &pa);
    tp_run_for(&n, 2);
    assert_one_pair(&n);
    gate.refuse = true;
    assert_int_equal(vpn_ikev2_child_delete(n.node[0].ctx, n.now, tp_child(&n, 0, 0).info.id), 0);
    gate.refuse = false;
    vpn_ikev2_stats_get(n.node[0].ctx, &st);
    assert_int_equal(st.internal_errors, 1); /* the Delete did not start */
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_CHILD_DOWN), 0);
    /* nothing arrives at R1 meanwhile: its timer alone sends it */
    tp_run_for(&n, 5);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_CHILD_DOWN), 1);
    tp_free(&n);
}

/* ---- inbound CHILD_SA SPIs: unique in a context, free again when released ---- */

/* An RNG handing out queued values for 4-octet draws (the engine draws 4
 * octets for a CHILD_SA SPI only) and the node's DRBG for everything else. */
typedef struct spi_rng {
    vpn_drbg *d;
    uint32_t q[8];
    size_t n, at;
} spi_rng;

static int spi_rng_fill(void *user, uint8_t *out, size_t len)
{
    spi_rng *r = user;
    if (len == 4 && r->at < r->n) {
        vpn_store32(out, r->q[r->at++]);
        return 0;
    }
    return vpn_drbg_generate(r->d, out, len);
}

static void spi_force(spi_rng *r, size_t n, const uint32_t *v)
{
    assert_true(n <= 8);
    if (n)
        memcpy(r->q, v, n * sizeof *v);
    r->n = n;
    r->at = 0;
}

/* R1 (node 0) and R2 (node 1) drawing from r[0] and r[1]; R2's allocator
 * is allow (NULL: none); R2 takes GRE and 10.2.0.0/16 <-> 10.1.0.0/16. */
static void spi_setup(tp_net *n, spi_rng *r, vpn_alloc_allow_fn allow, void *user)
{
    peer_conf a = conf_a(), b = conf_b();
    char *t[2] = {make_conf(&a), make_conf(&b)};
    vpn_ikev2_policy pb = gre_policy("192.0.2.2", "192.0.2.1", 9), pb2 = ts_policy("10.2.0.0/16", "10.1.0.0/16", 0, 22);
    vpn_ikev2_params p;

    tp_init(n);
    for (int i = 0; i < 2; i++) {
        tp_node *nd = tp_prepare(n, t[i], i ? "192.0.2.2" : "192.0.2.1", i ? "R2" : "R1", &p);
        memset(&r[i], 0, sizeof r[i]);
        r[i].d = &nd->drbg;
        p.rng.fill = spi_rng_fill;
        p.rng.ctx = &r[i];
        if (i == 1) {
            p.alloc.allow = allow;
            p.alloc.user = user;
        }
        assert_int_equal(vpn_ikev2_ctx_new(&nd->ctx, &p), 0);
        free(t[i]);
    }
    assert_int_equal(vpn_ikev2_policy_add(n->node[1].ctx, &pb), 0);
    assert_int_equal(vpn_ikev2_policy_add(n->node[1].ctx, &pb2), 0);
}

/* The id of the CHILD_SA of node's first IKE SA whose inbound SPI is spi, 0 if none. */
static uint32_t child_with_spi(tp_net *n, int node, uint32_t spi)
{
    vpn_ikev2_child_state c;
    for (size_t k = 0; vpn_ikev2_child_get(n->node[node].ctx, tp_sa_id(n, node), k, &c) == 0; k++)
        if (c.info.spi_in == spi)
            return c.info.id;
    return 0;
}

static size_t children(tp_net *n, int node)
{
    vpn_ikev2_sa_info i;
    assert_int_equal(vpn_ikev2_sa_get(n->node[node].ctx, 0, &i), 0);
    return i.n_children;
}

/* R1 asks for a CHILD_SA of 10.1.k.0/24 <-> 10.2.k.0/24, SPIs drawn from
 * what is forced at either end (all of it must be drawn), and it comes up
 * with SPIs want1 at R1 (0: any), want2 at R2. */
static void spi_child(tp_net *n, spi_rng *r, unsigned k, size_t n1, const uint32_t *f1, size_t n2,
                      const uint32_t *f2, uint32_t want1, uint32_t want2)
{
    char l[32], rm[32];
    vpn_ikev2_policy pol;
    snprintf(l, sizeof l, "10.1.%u.0/24", k);
    snprintf(rm, sizeof rm, "10.2.%u.0/24", k);
    pol = ts_policy(l, rm, 0, 100 + k);
    spi_force(&r[0], n1, f1);
    spi_force(&r[1], n2, f2);
    assert_int_equal(vpn_ikev2_child_create(n->node[0].ctx, n->now, tp_sa_id(n, 0), &pol), 0);
    tp_run_for(n, 2);
    assert_int_equal(r[0].at, n1);
    assert_int_equal(r[1].at, n2);
    assert_true(want1 == 0 || child_with_spi(n, 0, want1) != 0); /* 0: R1's not looked at */
    assert_true(child_with_spi(n, 1, want2) != 0);
}

/*
 * ikev2_new_child_spi keeps the SPIs it handed out in a table (ctx->spis)
 * instead of walking every SA's children per new SPI (issue 14). An SPI in
 * use is never handed out again, at the initiator (CREATE_CHILD_SA offer)
 * or the responder (its answer): forced draws of an SPI in use (and of a
 * reserved one, below 256) are skipped. An SPI whose child went, by a
 * CHILD rekey, a Delete or the IKE SA's deletion, or that the responder
 * drew for a CHILD_SA it then refused, is free again: forced, it is taken.
 */
static void test_child_spi_unique_and_released(void **state)
{
    const uint32_t x1 = 0x51000001u, y1 = 0x52000001u, a2 = 0x51000002u, b2 = 0x52000002u, s9 = 0x52000009u;
    spi_rng r[2];
    tp_net n;
    uint32_t a1, b1;
    (void)state;

    spi_setup(&n, r, NULL, NULL);
    {
        vpn_ikev2_policy pa = gre_policy("192.0.2.1", "192.0.2.2", 7);
        initiate(&n, &pa);
    }
    tp_run_for(&n, 2);
    assert_one_pair(&n);
    a1 = tp_child(&n, 0, 0).info.spi_in;
    b1 = tp_child(&n, 1, 0).info.spi_in;

    /* in use at that end: skipped (the other end's SPI is fine to take) */
    spi_child(&n, r, 1, 3, (uint32_t[]){a1, 7, x1}, 3, (uint32_t[]){b1, 255, y1}, x1, y1);
    assert_int_equal(children(&n, 0), 2);
    assert_int_equal(children(&n, 1), 2);
    assert_true(child_with_spi(&n, 0, a1) && child_with_spi(&n, 1, b1));

    /* CHILD rekey of the first pair: the new one skips the second's SPIs,
     * the old pair goes */
    spi_force(&r[0], 2, (uint32_t[]){x1, a2});
    spi_force(&r[1], 2, (uint32_t[]){y1, b2});
    assert_int_equal(vpn_ikev2_child_rekey(n.node[0].ctx, n.now, child_with_spi(&n, 0, a1)), 0);
    tp_run_for(&n, 2);
    assert_int_equal(r[0].at, 2);
    assert_int_equal(r[1].at, 2);
    assert_true(child_with_spi(&n, 0, a2) && child_with_spi(&n, 1, b2));
    assert_false(child_with_spi(&n, 0, a1) || child_with_spi(&n, 1, b1));

    /* the rekeyed pair's SPIs are free again */
    spi_child(&n, r, 2, 1, (uint32_t[]){a1}, 1, (uint32_t[]){b1}, a1, b1);

    /* a Delete frees the second pair's */
    assert_int_equal(vpn_ikev2_child_delete(n.node[0].ctx, n.now, child_with_spi(&n, 0, x1)), 0);
    tp_run_for(&n, 2);
    assert_false(child_with_spi(&n, 0, x1) || child_with_spi(&n, 1, y1));
    spi_child(&n, r, 3, 2, (uint32_t[]){a2, x1}, 2, (uint32_t[]){b2, y1}, x1, y1);
    assert_int_equal(children(&n, 0), 3);

    /* a CHILD_SA R2 refuses (selectors outside its policies): the SPI it
     * drew for it is free again */
    {
        vpn_ikev2_policy bad = ts_policy("10.9.0.0/24", "10.8.0.0/24", 0, 99);
        spi_force(&r[0], 0, NULL);
        spi_force(&r[1], 1, (uint32_t[]){s9});
        assert_int_equal(vpn_ikev2_child_create(n.node[0].ctx, n.now, tp_sa_id(&n, 0), &bad), 0);
        tp_run_for(&n, 2);
        assert_int_equal(r[1].at, 1);
        assert_int_equal(children(&n, 1), 3);
        assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_FAILED), 1);
    }
    spi_child(&n, r, 4, 0, NULL, 1, (uint32_t[]){s9}, 0, s9);

    /* the IKE SA deleted: every SPI of its children is free again */
    assert_int_equal(vpn_ikev2_delete(n.node[0].ctx, n.now, tp_sa_id(&n, 0)), 0);
    tp_run_for(&n, 2);
    assert_int_equal(vpn_ikev2_sa_count(n.node[0].ctx), 0);
    assert_int_equal(vpn_ikev2_sa_count(n.node[1].ctx), 0);
    spi_force(&r[0], 1, (uint32_t[]){a2});
    spi_force(&r[1], 1, (uint32_t[]){b2});
    {
        vpn_ikev2_policy pa = gre_policy("192.0.2.1", "192.0.2.2", 7);
        initiate(&n, &pa);
    }
    tp_run_for(&n, 2);
    assert_one_pair(&n);
    assert_int_equal(r[0].at, 1);
    assert_int_equal(r[1].at, 1);
    assert_int_equal(tp_child(&n, 0, 0).info.spi_in, a2);
    assert_int_equal(tp_child(&n, 1, 0).info.spi_in, b2);
    assert_int_equal(n.node[0].log.errors, 0);
    assert_int_equal(n.node[1].log.errors, 0);
    tp_free(&n);
}

/* With R2's SPI table refused, the SPIs it hands out are in no table: the
 * check walks its SAs then, and an SPI in use is still skipped; memory
 * back, the table is refilled from the SPIs in use and checked again. */
static void test_child_spi_unique_without_table(void **state)
{
    const uint32_t y1 = 0x52000001u, z1 = 0x52000003u;
    /* refuses every table of 64 slots (common/htab.h: the first of the
     * SPI, identity and CHILD_SA indexes) */
    tu_switch g = {.refuse = true, .size = 64 * sizeof(vpn_htab_ent)};
    spi_rng r[2];
    tp_net n;
    uint32_t b1;
    (void)state;

    spi_setup(&n, r, tu_switch_allow, &g);
    {
        vpn_ikev2_policy pa = gre_policy("192.0.2.1", "192.0.2.2", 7);
        initiate(&n, &pa);
    }
    tp_run_for(&n, 2);
    assert_one_pair(&n);
    assert_true(g.refused >= 1);
    b1 = tp_child(&n, 1, 0).info.spi_in;
    spi_child(&n, r, 1, 0, NULL, 2, (uint32_t[]){b1, y1}, 0, y1);
    g.refuse = false;
    spi_child(&n, r, 2, 0, NULL, 3, (uint32_t[]){y1, b1, z1}, 0, z1);
    spi_child(&n, r, 3, 0, NULL, 4, (uint32_t[]){b1, y1, z1, z1 + 1}, 0, z1 + 1);
    assert_int_equal(children(&n, 1), 4);
    tp_free(&n);
}

/* Why an exchange failed, from the error notify that ended it (the
 * engine's one table, ikev2_reason_for). A KE or AUTH failure the peer
 * names in its answer to a CHILD_SA request of ours is reported as such,
 * as for IKE_SA_INIT, not as a generic peer error; no peer of this engine
 * sends those in a CREATE_CHILD_SA answer (it offers one PFS group, the
 * one its KE carries), hence the table itself. Our own refusals and the
 * other columns are unchanged. */
static void test_child_answer_error_reasons(void **state)
{
    static const struct {
        uint16_t notify;
        vpn_ikev2_reason init, child, refused;
    } want[] = {
        {VPN_IKEV2_N_INVALID_KE_PAYLOAD, VPN_IKEV2_R_INVALID_KE, VPN_IKEV2_R_INVALID_KE, VPN_IKEV2_R_NO_PROPOSAL},
        {VPN_IKEV2_N_AUTHENTICATION_FAILED, VPN_IKEV2_R_PEER_AUTH_FAILED, VPN_IKEV2_R_PEER_AUTH_FAILED,
         VPN_IKEV2_R_NO_PROPOSAL},
        {VPN_IKEV2_N_NO_PROPOSAL_CHOSEN, VPN_IKEV2_R_NO_PROPOSAL, VPN_IKEV2_R_NO_PROPOSAL, VPN_IKEV2_R_NO_PROPOSAL},
        {VPN_IKEV2_N_TS_UNACCEPTABLE, VPN_IKEV2_R_TS_UNACCEPTABLE, VPN_IKEV2_R_TS_UNACCEPTABLE,
         VPN_IKEV2_R_TS_UNACCEPTABLE},
        {VPN_IKEV2_N_INVALID_SYNTAX, VPN_IKEV2_R_PEER_ERROR, VPN_IKEV2_R_PEER_ERROR, VPN_IKEV2_R_NO_PROPOSAL},
    };
    (void)state;

    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(ikev2_reason_for(want[i].notify, IKEV2_NF_INIT), want[i].init);
        assert_int_equal(ikev2_reason_for(want[i].notify, IKEV2_NF_CHILD), want[i].child);
        assert_int_equal(ikev2_reason_for(want[i].notify, IKEV2_NF_REFUSED), want[i].refused);
    }
    assert_string_equal(vpn_ikev2_reason_name(VPN_IKEV2_R_INVALID_KE), "invalid KE payload");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_psk_ecp19_cbc),
        cmocka_unit_test(test_psk_modp2048_gcm),
        cmocka_unit_test(test_psk_every_group),
        cmocka_unit_test(test_psk_symmetric_sha512),
        cmocka_unit_test(test_ts_narrowing),
        cmocka_unit_test(test_implicit_policy_transport),
        cmocka_unit_test(test_wrong_psk_at_responder),
        cmocka_unit_test(test_wrong_psk_at_initiator),
        cmocka_unit_test(test_no_proposal_chosen),
        cmocka_unit_test(test_child_no_proposal),
        cmocka_unit_test(test_ts_unacceptable),
        cmocka_unit_test(test_identity_mismatch),
        cmocka_unit_test(test_invalid_ke_retry),
        cmocka_unit_test(test_invalid_ke_unoffered),
        cmocka_unit_test(test_ike_rekey_invalid_ke_retry),
        cmocka_unit_test(test_cookie_challenge),
        cmocka_unit_test(test_nat_detection),
        cmocka_unit_test(test_nat_keepalive),
        cmocka_unit_test(test_natt_marker_buffer),
        cmocka_unit_test(test_nat_rebinding),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_identity_types),
        cmocka_unit_test(test_policy_match_address_local_responder),
        cmocka_unit_test(test_policy_match_address_local_initiator),
        cmocka_unit_test(test_policy_match_address_local_no_match),
        cmocka_unit_test(test_crossed_initiation),
        cmocka_unit_test(test_initial_contact_spares_concurrent),
        cmocka_unit_test(test_initial_contact_after_restart),
        cmocka_unit_test(test_initial_contact_interleaved),
        cmocka_unit_test(test_peer_index_retried_after_refusal),
        cmocka_unit_test(test_queued_delete_retried_on_deadline),
        cmocka_unit_test(test_child_spi_unique_and_released),
        cmocka_unit_test(test_child_spi_unique_without_table),
        cmocka_unit_test(test_child_answer_error_reasons),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
