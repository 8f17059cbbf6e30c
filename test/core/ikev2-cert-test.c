/*
 * IKE_AUTH with certificates: RSA and ECDSA signatures (RFC 7427 Digital
 * Signature, method 14), X.509 chains from IOS-style trustpoints, CERT and
 * CERTREQ payloads, identities backed by the certificate (RFC 4945),
 * asymmetric authentication (one side PSK, the other a signature), and
 * IKE_AUTH messages too large for one datagram going out as RFC 7383
 * fragments. A small PKI is made at test time with OpenSSL.
 */
#define _DEFAULT_SOURCE /* popen, and the BSD types libpcap's headers use */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ikev2-pair.h"
#include "ikev2-pki.h"
#include "ikev2-wireshark.h"
/* white box: the size of the RFC 7383 reassembly table (ikev2_sa.rf_chunk) */
#include "ikev2/ikev2-eng.h"

#define T0 ((time_t)1700000000) /* certificates are valid around this time */
#define DAY ((time_t)86400)

typedef struct pki {
    EVP_PKEY *ca_k, *other_k, *hub_k, *spoke_k, *ecd_k;
    X509 *ca_x, *other_x, *hub_x, *spoke_x, *ecd_x, *wrongname_x;
    vpn_x509 *ca, *other, *hub, *spoke, *ecd, *wrongname;
    vpn_sig_key *hub_key, *spoke_key, *ecd_key;
} pki;

static pki P;

static int pki_setup(void **state)
{
    (void)state;
    cert_spec ca = {"Lab Root CA", true, T0 - DAY, T0 + 3650 * DAY, NULL, 1};
    cert_spec other = {"Other Root CA", true, T0 - DAY, T0 + 3650 * DAY, NULL, 2};
    cert_spec hub = {"hub1.example.net", false, T0 - DAY, T0 + 365 * DAY,
                     "DNS:hub1.example.net,IP:192.0.2.1", 3};
    cert_spec spoke = {"spoke1.example.net", false, T0 - DAY, T0 + 365 * DAY,
                       "DNS:spoke1.example.net,IP:192.0.2.2", 4};
    cert_spec ecd = {"spoke1.example.net", false, T0 - DAY, T0 + 365 * DAY,
                     "DNS:spoke1.example.net,IP:192.0.2.2", 5};
    cert_spec wrongname = {"hub1.example.net", false, T0 - DAY, T0 + 365 * DAY, "DNS:elsewhere.example.net", 6};

    P.ca_k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    P.other_k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    P.hub_k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    P.spoke_k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    P.ecd_k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    P.ca_x = make_cert(&ca, P.ca_k, NULL, NULL);
    P.other_x = make_cert(&other, P.other_k, NULL, NULL);
    P.hub_x = make_cert(&hub, P.hub_k, P.ca_x, P.ca_k);
    P.spoke_x = make_cert(&spoke, P.spoke_k, P.ca_x, P.ca_k);
    P.ecd_x = make_cert(&ecd, P.ecd_k, P.ca_x, P.ca_k);
    P.wrongname_x = make_cert(&wrongname, P.hub_k, P.ca_x, P.ca_k);
    P.ca = to_vpn(P.ca_x);
    P.other = to_vpn(P.other_x);
    P.hub = to_vpn(P.hub_x);
    P.spoke = to_vpn(P.spoke_x);
    P.ecd = to_vpn(P.ecd_x);
    P.wrongname = to_vpn(P.wrongname_x);
    P.hub_key = key_of(P.hub_k);
    P.spoke_key = key_of(P.spoke_k);
    P.ecd_key = key_of(P.ecd_k);
    return 0;
}

static int pki_teardown(void **state)
{
    (void)state;
    vpn_x509 *c[] = {P.ca, P.other, P.hub, P.spoke, P.ecd, P.wrongname};
    X509 *x[] = {P.ca_x, P.other_x, P.hub_x, P.spoke_x, P.ecd_x, P.wrongname_x};
    EVP_PKEY *k[] = {P.ca_k, P.other_k, P.hub_k, P.spoke_k, P.ecd_k};
    for (size_t i = 0; i < 6; i++) {
        vpn_x509_del(c[i]);
        X509_free(x[i]);
    }
    for (size_t i = 0; i < 5; i++)
        EVP_PKEY_free(k[i]);
    vpn_sig_key_del(P.hub_key);
    vpn_sig_key_del(P.spoke_key);
    vpn_sig_key_del(P.ecd_key);
    return 0;
}

/* One router's configuration for certificate (or mixed) authentication. */
static char *cert_conf(const char *host, const char *peer, const char *group, const char *auth_local,
                       const char *auth_remote, const char *identity, const char *match)
{
    char *b = malloc(4096);
    assert_non_null(b);
    snprintf(b, 4096,
             "hostname %s\n"
             "crypto ikev2 proposal P1\n encryption aes-cbc-256\n integrity sha256\n group %s\n"
             "crypto ikev2 policy POL1\n proposal P1\n"
             "crypto ikev2 keyring KR\n peer PEER\n  address %s\n"
             "  pre-shared-key local psk-of-%s\n  pre-shared-key remote psk-of-peer\n"
             "crypto ikev2 profile PROF\n"
             " match identity remote %s\n"
             " identity local %s\n"
             " authentication local %s\n"
             " authentication remote %s\n"
             " keyring local KR\n"
             " pki trustpoint LAB\n"
             "crypto ipsec transform-set TS esp-gcm 256\n"
             "crypto ipsec profile IPP\n set transform-set TS\n set ikev2-profile PROF\n",
             host, group, peer, host, match, identity, auth_local, auth_remote);
    return b;
}

typedef struct setup_args {
    const char *group;
    const char *a_local, *a_remote, *a_identity, *a_match;
    const char *b_local, *b_remote, *b_identity, *b_match;
    const vpn_x509 *a_cert, *b_cert;
    const vpn_sig_key *a_key, *b_key;
    const vpn_x509 *a_trust, *b_trust;
    int64_t clock;   /* Unix time at now == 0 */
    const vpn_alloc *alloc; /* both engines' allocation gate (NULL: none) */
} setup_args;

static void two_nodes(tp_net *n, const char *ta, const char *tb, int64_t clock, const vpn_alloc *alloc)
{
    tp_init(n);
    n->unix_time_offset_s = clock ? clock : (int64_t)T0;
    if (alloc)
        n->alloc = *alloc;
    tp_add(n, ta, "192.0.2.1", "R1");
    tp_add(n, tb, "192.0.2.2", "R2");
}

static void cert_setup(tp_net *n, const setup_args *s)
{
    char *ta = cert_conf("R1", "192.0.2.2", s->group, s->a_local, s->a_remote, s->a_identity, s->a_match);
    char *tb = cert_conf("R2", "192.0.2.1", s->group, s->b_local, s->b_remote, s->b_identity, s->b_match);
    vpn_ikev2_ctx *a, *b;

    two_nodes(n, ta, tb, s->clock, s->alloc);
    free(ta);
    free(tb);
    a = n->node[0].ctx;
    b = n->node[1].ctx;
    if (s->a_trust)
        assert_int_equal(vpn_ikev2_trustpoint_add_ca(a, "LAB", s->a_trust), 0);
    if (s->b_trust)
        assert_int_equal(vpn_ikev2_trustpoint_add_ca(b, "LAB", s->b_trust), 0);
    if (s->a_cert)
        assert_int_equal(vpn_ikev2_trustpoint_set_cert(a, "LAB", s->a_cert, s->a_key, NULL, 0), 0);
    if (s->b_cert)
        assert_int_equal(vpn_ikev2_trustpoint_set_cert(b, "LAB", s->b_cert, s->b_key, NULL, 0), 0);
}

static setup_args rsa_both(void)
{
    setup_args s = {"14",
                    "rsa-sig", "rsa-sig", "dn", "fqdn spoke1.example.net",
                    "rsa-sig", "rsa-sig", "fqdn spoke1.example.net", "any",
                    NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL};
    s.a_cert = P.hub;
    s.a_key = P.hub_key;
    s.b_cert = P.spoke;
    s.b_key = P.spoke_key;
    s.a_trust = s.b_trust = P.ca;
    return s;
}

static void run_handshake(tp_net *n)
{
    vpn_ikev2_policy p = gre_policy("192.0.2.1", "192.0.2.2", 1);
    initiate(n, &p);
    tp_run_for(n, 1);
}

static void assert_up(tp_net *n, vpn_conf_auth a_sign, vpn_conf_auth b_sign)
{
    vpn_ikev2_sa_info ia, ib;
    int ea = tp_find_ev(&n->node[0], VPN_IKEV2_EV_CHILD_UP, 0), eb = tp_find_ev(&n->node[1], VPN_IKEV2_EV_CHILD_UP, 0);
    if (ea < 0 || eb < 0)
        fail_msg("no CHILD_SA (R1 log: %s / R2 log: %s)", n->node[0].log.last, n->node[1].log.last);
    tp_assert_child_pair(&n->node[0].ev[ea], &n->node[1].ev[eb]);
    assert_int_equal(vpn_ikev2_sa_get(n->node[0].ctx, 0, &ia), 0);
    assert_int_equal(vpn_ikev2_sa_get(n->node[1].ctx, 0, &ib), 0);
    assert_int_equal(ia.auth_sign, a_sign);
    assert_int_equal(ia.auth_verify, b_sign);
    assert_int_equal(ib.auth_sign, b_sign);
    assert_int_equal(ib.auth_verify, a_sign);
    if (a_sign != VPN_CONF_AUTH_PSK)
        assert_int_equal(ia.auth_local, VPN_AUTH_METHOD_DIGITAL_SIG);
    if (b_sign != VPN_CONF_AUTH_PSK)
        assert_int_equal(ib.auth_local, VPN_AUTH_METHOD_DIGITAL_SIG);
}

static size_t count_skf(tp_net *n)
{
    size_t c = 0;
    for (size_t i = 0; i < n->n_log; i++) {
        size_t l;
        const uint8_t *p = tp_ike(n->log[i], &l);
        c += l >= 28 && p[16] == 53;
    }
    return c;
}

/* RSA-2048 certificates with MODP 2048 (the benchmark's second pair):
 * R1 an FQDN identity from its SAN, R2 its DN. The certificates make
 * IKE_AUTH larger than 1280 octets: it goes in RFC 7383 fragments. */
static void test_rsa_certificates(void **state)
{
    tp_net n;
    setup_args s = rsa_both();
    vpn_ikev2_sa_info ia;
    (void)state;

    cert_setup(&n, &s);
    run_handshake(&n);
    assert_up(&n, VPN_CONF_AUTH_RSA_SIG, VPN_CONF_AUTH_RSA_SIG);
    assert_int_equal(vpn_ikev2_sa_get(n.node[0].ctx, 0, &ia), 0);
    assert_int_equal(ia.dh_group, VPN_DH_MODP_2048);
    assert_string_equal(ia.id_local.text, "O=VPN Test Lab, CN=hub1.example.net");
    assert_int_equal(ia.id_local.type, 9); /* ID_DER_ASN1_DN */
    assert_string_equal(ia.id_remote.text, "spoke1.example.net");
    assert_true(count_skf(&n) >= 4);          /* both IKE_AUTH messages fragmented */
    for (size_t i = 0; i < n.n_log; i++)
        assert_true(n.log[i]->len <= 1280 - 28);
    tp_free(&n);
}

/* Issue 18: the responder behind port 4500 counts the non-ESP marker in
 * its RFC 7383 fragment size (RFC 3948 2.2), although it did not detect
 * the NAT itself: with R1 behind a NAT both IKE_AUTH messages go out in
 * fragments on 4500, and no UDP payload, marker included, exceeds what a
 * 1280-octet IPv4 datagram carries (RFC 7383 2.5.1). */
static void test_rsa_fragments_on_4500(void **state)
{
    tp_net n;
    setup_args s = rsa_both();
    size_t from_resp = 0;
    (void)state;

    cert_setup(&n, &s);
    tp_nat(&n, "203.0.113.77");
    run_handshake(&n);
    assert_up(&n, VPN_CONF_AUTH_RSA_SIG, VPN_CONF_AUTH_RSA_SIG);
    for (size_t i = 0; i < n.n_log; i++) {
        size_t l;
        const uint8_t *p = tp_ike(n.log[i], &l);
        if (n.log[i]->from == 1 && n.log[i]->src.port == VPN_IKEV2_NATT_PORT && l >= 28 && p[16] == 53)
            from_resp++;
        if (n.log[i]->len > 1280 - 28)
            fail_msg("datagram %zu from node %d: %zu octets of UDP payload (> 1252)", i, n.log[i]->from,
                     n.log[i]->len);
    }
    assert_true(from_resp >= 2); /* the responder's IKE_AUTH went in fragments on 4500 */
    tp_free(&n);
}

/* Drops the responder's first IKE_AUTH response (every fragment of it)
 * and counts the IKE_AUTH response datagrams that get through. */
typedef struct lost_auth {
    bool armed;
    uint64_t first_when;
    size_t dropped, passed;
} lost_auth;

static bool drop_first_auth_resp(tp_net *n, tp_dgram *d, void *user)
{
    lost_auth *la = user;
    (void)n;
    if (d->from != 1 || tp_exchange(d) != 35 || !tp_is_response(d))
        return true;
    if (!la->armed) {
        la->armed = true;
        la->first_when = d->when;
    }
    if (d->when == la->first_when) {
        la->dropped++;
        return false;
    }
    la->passed++;
    return true;
}

/* Issue 18: a retransmitted fragmented request is answered once, on its
 * fragment 1 (RFC 7383 2.6.1), not again after its last fragment. */
static void test_fragmented_retransmission_answered_once(void **state)
{
    tp_net n;
    setup_args s = rsa_both();
    lost_auth la;
    vpn_ikev2_stats st;
    (void)state;

    memset(&la, 0, sizeof la);
    cert_setup(&n, &s);
    n.hook = drop_first_auth_resp;
    n.hook_user = &la;
    run_handshake(&n);
    tp_run_for(&n, 10);
    assert_up(&n, VPN_CONF_AUTH_RSA_SIG, VPN_CONF_AUTH_RSA_SIG);
    assert_true(la.dropped >= 2); /* the response went in fragments */
    if (la.passed != la.dropped)
        fail_msg("the lost %zu-fragment response was resent as %zu datagrams", la.dropped, la.passed);
    vpn_ikev2_stats_get(n.node[1].ctx, &st);
    assert_int_equal(st.duplicates_answered, 1);
    tp_free(&n);
}

static void test_ecdsa_certificates(void **state)
{
    tp_net n;
    setup_args s = rsa_both();
    (void)state;

    s.group = "19";
    s.a_local = "ecdsa-sig";
    s.b_remote = "ecdsa-sig";
    s.a_cert = P.ecd;
    s.a_key = P.ecd_key;
    s.b_local = "ecdsa-sig";
    s.a_remote = "ecdsa-sig";
    s.b_cert = P.ecd;
    s.b_key = P.ecd_key;
    s.a_match = "fqdn spoke1.example.net";
    cert_setup(&n, &s);
    run_handshake(&n);
    assert_up(&n, VPN_CONF_AUTH_ECDSA_SIG, VPN_CONF_AUTH_ECDSA_SIG);
    tp_free(&n);
}

/* FlexVPN's asymmetric authentication: R1 proves itself with a PSK (the
 * profile's own `pre-share key`) and verifies R2's RSA signature; R2 the
 * other way round. */
static void test_asymmetric_psk_and_rsa(void **state)
{
    tp_net n;
    char *ta = cert_conf("R1", "192.0.2.2", "19", "pre-share key sesame", "rsa-sig", "address 192.0.2.1",
                         "fqdn spoke1.example.net");
    char *tb = cert_conf("R2", "192.0.2.1", "19", "rsa-sig", "pre-share key sesame", "fqdn spoke1.example.net",
                         "address 192.0.2.1 255.255.255.255");
    vpn_ikev2_sa_info ib;
    (void)state;

    two_nodes(&n, ta, tb, 0, NULL);
    free(ta);
    free(tb);
    assert_int_equal(vpn_ikev2_trustpoint_add_ca(n.node[0].ctx, "LAB", P.ca), 0);
    assert_int_equal(vpn_ikev2_trustpoint_set_cert(n.node[1].ctx, "LAB", P.spoke, P.spoke_key, NULL, 0), 0);
    run_handshake(&n);
    assert_up(&n, VPN_CONF_AUTH_PSK, VPN_CONF_AUTH_RSA_SIG);
    assert_int_equal(vpn_ikev2_sa_get(n.node[1].ctx, 0, &ib), 0);
    assert_int_equal(ib.auth_remote, VPN_AUTH_METHOD_PSK);
    /* a key that does not fit the certificate is refused */
    assert_int_equal(vpn_ikev2_trustpoint_set_cert(n.node[1].ctx, "LAB", P.spoke, P.hub_key, NULL, 0),
                     VPN_ERR_POLICY);
    tp_free(&n);
}

static void expect_auth_failure(const setup_args *s)
{
    tp_net n;
    cert_setup(&n, s);
    run_handshake(&n);
    tp_run_for(&n, 100);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP), 0);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_CHILD_UP) - tp_count_ev(&n.node[1], VPN_IKEV2_EV_CHILD_DOWN),
                     0);
    assert_int_equal(vpn_ikev2_sa_count(n.node[0].ctx), 0);
    assert_int_equal(vpn_ikev2_sa_count(n.node[1].ctx), 0);
    tp_free(&n);
}

/* R2 trusts another CA: R1's certificate does not verify. */
static void test_untrusted_ca(void **state)
{
    setup_args s = rsa_both();
    (void)state;
    s.b_trust = P.other;
    expect_auth_failure(&s);
}

/* R1 signs fine but claims an identity its certificate does not hold. */
static void test_identity_not_in_cert(void **state)
{
    setup_args s = rsa_both();
    (void)state;
    s.a_cert = P.wrongname;
    s.a_identity = "fqdn hub1.example.net";
    expect_auth_failure(&s);
}

/* The clock says the certificates have expired. */
static void test_expired(void **state)
{
    setup_args s = rsa_both();
    (void)state;
    s.clock = (int64_t)(T0 + 2 * 365 * DAY);
    expect_auth_failure(&s);
}

/* A profile that wants signatures but has no certificate to sign with. */
static void test_no_local_certificate(void **state)
{
    setup_args s = rsa_both();
    (void)state;
    s.b_cert = NULL;
    expect_auth_failure(&s);
}

/* ---- a certificate-authenticated hub for EAP users (issue 16) ----------------------- */

/* The hub: EAP users from its `username` lines, a pool, and its own AUTH a
 * signature with the trustpoint's key (RFC 7296 2.16: a responder using EAP
 * still authenticates itself with a public-key signature). */
static char *ra_cert_hub_conf(const char *sig, const char *identity)
{
    char *b = malloc(4096);
    assert_non_null(b);
    snprintf(b, 4096,
             "hostname hub\n"
             "aaa new-model\n"
             "aaa authorization network RA-AUTHOR local\n"
             "username alice password Secr3t!\n"
             "ip local pool RA-POOL 10.99.0.10 10.99.0.11\n"
             "crypto ikev2 authorization policy RA-POL\n pool RA-POOL\n"
             "crypto ikev2 proposal P1\n encryption aes-cbc-256\n integrity sha256\n group 19\n"
             "crypto ikev2 policy POL1\n proposal P1\n"
             "crypto ikev2 profile RA\n"
             " match identity remote any\n"
             " identity local %s\n"
             " authentication remote eap query-identity\n"
             " authentication local %s\n"
             " pki trustpoint LAB\n"
             " aaa authorization group eap list RA-AUTHOR RA-POL\n"
             "crypto ipsec transform-set TS esp-gcm 256\n"
             "crypto ipsec profile IPP\n set transform-set TS\n set ikev2-profile RA\n",
             identity, sig);
    return b;
}

/* The user: EAP-MSCHAPv2, the hub verified by its certificate. */
static char *ra_cert_client_conf(const char *sig, const char *hub_identity, const char *pw)
{
    char *b = malloc(4096);
    assert_non_null(b);
    snprintf(b, 4096,
             "hostname client\n"
             "crypto ikev2 proposal P1\n encryption aes-cbc-256\n integrity sha256\n group 19\n"
             "crypto ikev2 policy POL1\n proposal P1\n"
             "crypto ikev2 profile RA\n"
             " match identity remote %s\n"
             " identity local fqdn alice.example\n"
             " authentication remote %s\n"
             " authentication local eap mschapv2 username alice password %s\n"
             " pki trustpoint LAB\n"
             "crypto ipsec transform-set TS esp-gcm 256\n"
             "crypto ipsec profile IPP\n set transform-set TS\n set ikev2-profile RA\n",
             hub_identity, sig, pw);
    return b;
}

/* Runs a user (node 0, 192.0.2.1) against the hub (node 1, 192.0.2.2):
 * the hub holds cert/key, the user trusts trust. */
static void ra_cert_run(tp_net *n, const char *sig, const char *identity, const vpn_x509 *cert, const vpn_sig_key *key,
                        const vpn_x509 *trust, const char *pw)
{
    char *c = ra_cert_client_conf(sig, identity, pw), *h = ra_cert_hub_conf(sig, identity);
    vpn_ikev2_policy hp, cp;
    two_nodes(n, c, h, 0, NULL);
    free(c);
    free(h);
    assert_int_equal(vpn_ikev2_trustpoint_add_ca(n->node[0].ctx, "LAB", trust), 0);
    assert_int_equal(vpn_ikev2_trustpoint_set_cert(n->node[1].ctx, "LAB", cert, key, NULL, 0), 0);
    hp = ts_policy("10.1.0.0/16", "0.0.0.0/0", 0, 9);
    assert_int_equal(vpn_ikev2_policy_add(n->node[1].ctx, &hp), 0);
    cp = ts_policy("0.0.0.0/0", "10.1.0.0/16", 0, 7);
    initiate(n, &cp);
    tp_run_for(n, 2);
}

/* The usual IOS remote-access setup: `authentication local rsa-sig` (or
 * ecdsa-sig) on the hub, `authentication remote eap query-identity` for the
 * users; the user checks the hub's signature and certificate before any
 * EAP, then EAP-MSCHAPv2, the MSK-based AUTH, an address from the pool. */
static void test_eap_user_cert_hub(void **state)
{
    static const struct {
        const char *sig, *identity;
    } kind[] = {{"rsa-sig", "fqdn hub1.example.net"}, {"ecdsa-sig", "fqdn spoke1.example.net"}};
    (void)state;
    for (size_t k = 0; k < 2; k++) {
        tp_net n;
        vpn_ikev2_sa_info ia, ib;
        char a[VPN_ADDR_STRLEN];
        bool ecdsa = k == 1;
        vpn_conf_auth want = ecdsa ? VPN_CONF_AUTH_ECDSA_SIG : VPN_CONF_AUTH_RSA_SIG;
        ra_cert_run(&n, kind[k].sig, kind[k].identity, ecdsa ? P.ecd : P.hub, ecdsa ? P.ecd_key : P.hub_key, P.ca,
                    "Secr3t!");
        if (tp_count_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP) != 1)
            fail_msg("no CHILD_SA (user log: %s / hub log: %s)", n.node[0].log.last, n.node[1].log.last);
        assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_CHILD_UP), 1);
        assert_int_equal(vpn_ikev2_sa_get(n.node[0].ctx, 0, &ia), 0);
        assert_int_equal(vpn_ikev2_sa_get(n.node[1].ctx, 0, &ib), 0);
        assert_int_equal(ib.auth_sign, want);
        assert_int_equal(ia.auth_verify, want);
        assert_int_equal(ib.auth_local, VPN_AUTH_METHOD_DIGITAL_SIG);
        assert_string_equal(ib.eap_identity, "alice");
        assert_string_equal(ia.id_remote.text, ecdsa ? "spoke1.example.net" : "hub1.example.net");
        assert_string_equal(vpn_addr_str(&ia.assigned, a, sizeof a), "10.99.0.10");
        tp_free(&n);
    }
}

/* The user trusts another CA: the hub's first AUTH does not verify, the
 * user stops before EAP goes further, nothing stays up and the hub keeps no
 * address; a wrong password against a certificate hub is refused too. */
static void test_eap_user_cert_hub_refused(void **state)
{
    tp_net n;
    vpn_ikev2_pool_info pi;
    (void)state;
    ra_cert_run(&n, "rsa-sig", "fqdn hub1.example.net", P.hub, P.hub_key, P.other, "Secr3t!");
    tp_run_for(&n, 100);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP), 0);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_CHILD_UP), 0);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_IKE_UP), 0);
    assert_int_equal(vpn_ikev2_sa_count(n.node[0].ctx), 0);
    assert_int_equal(vpn_ikev2_sa_count(n.node[1].ctx), 0);
    assert_int_equal(vpn_ikev2_pool_get(n.node[1].ctx, 0, &pi), 0);
    assert_int_equal(pi.in_use, 0);
    tp_free(&n);
    ra_cert_run(&n, "rsa-sig", "fqdn hub1.example.net", P.hub, P.hub_key, P.ca, "wrong-password");
    tp_run_for(&n, 100);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP), 0);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_IKE_UP), 0);
    assert_int_equal(vpn_ikev2_sa_count(n.node[1].ctx), 0);
    tp_free(&n);
}

/* The RSA run in a pcap: tshark decodes every fragment, and with the key
 * file decrypts each one (RFC 7383 fragments are protected one by one). */
static void test_pcap_rsa_fragments(void **state)
{
    tp_net n;
    setup_args s = rsa_both();
    run r;
    char *keyed;
    size_t skf;
    (void)state;

    need_tshark();
    memset(&r, 0, sizeof r);
    cert_setup(&n, &s);
    run_handshake(&n);
    assert_up(&n, VPN_CONF_AUTH_RSA_SIG, VPN_CONF_AUTH_RSA_SIG);
    grab_keys(&r, &n);
    write_files(&r, &n, "rsa-cert-fragments");
    skf = count_skf(&n);
    keyed = tshark(&r, true, "-V");
    if (strstr(keyed, "Malformed") || strstr(keyed, "malformed"))
        fail_msg("tshark finds a malformed packet in %s/ikev2.pcap", r.dir);
    assert_int_equal(count(keyed, "Payload: Encrypted and Authenticated Fragment (53)"), skf);
    assert_int_equal(count(keyed, "<HMAC_SHA2_256_128 [RFC4868]>[correct]"), skf);
    assert_int_equal(count(keyed, "]>[incorrect]"), 0);
    /* Wireshark reassembles both messages and shows what they carry */
    assert_int_equal(count(keyed, "[Reassembled ISAKMP length:"), 2);
    assert_int_equal(count(keyed, "Payload: Certificate (37)"), 2);
    assert_int_equal(count(keyed, "Payload: Authentication (39)"), 2);
    assert_int_equal(count(keyed, "Payload: Certificate Request (38)"), 2);
    assert_true(count(keyed, "Authentication Method: Digital Signature (14)") == 2);
    free(keyed);
    tp_free(&n);
}

/* Before each IKE_AUTH fragment (RFC 7383 SKF) is delivered, its receiver
 * gets three forged copies: the ICV flipped, another fragment number, a
 * larger Total (which would restart a reassembly, 7383 2.6). */
typedef struct frag_forger {
    size_t forged[2]; /* per receiving node */
} frag_forger;

static bool forge_fragments(tp_net *n, tp_dgram *d, void *user)
{
    frag_forger *f = user;
    size_t len, off;
    const uint8_t *ike = tp_ike(d, &len);
    uint8_t m[sizeof d->data];
    int to = 1 - d->from;

    if (tp_exchange(d) != 35 || len < 36 || ike[16] != 53)
        return true;
    off = (size_t)(ike - d->data);
    for (int k = 0; k < 3; k++) {
        uint8_t *skf;
        memcpy(m, d->data, d->len);
        skf = m + off + 28; /* the SKF payload comes first (RFC 7383 2.5) */
        if (k == 0)
            m[d->len - 1] ^= 0x01;
        else if (k == 1)
            vpn_store16(skf + 4, (uint16_t)(vpn_load16(skf + 4) == 1 ? 2 : 1));
        else
            vpn_store16(skf + 6, (uint16_t)(vpn_load16(skf + 6) + 1));
        assert_int_equal(vpn_ikev2_input(n->node[to].ctx, n->now, &d->dst, &d->src, m, d->len), 0);
        f->forged[to]++;
    }
    return true;
}

/* RFC 7383 2.6 / RFC 7296 2.21.2: a fragment changes the reassembly only
 * once its own ICV checked. Forged fragments interleaved with both
 * fragmented IKE_AUTH messages are dropped and counted as drops only: the
 * handshake completes as without them, nothing answered twice. */
static void test_forged_fragments_change_nothing(void **state)
{
    tp_net n;
    setup_args s = rsa_both();
    frag_forger f;
    vpn_ikev2_stats st[2];
    (void)state;

    memset(&f, 0, sizeof f);
    cert_setup(&n, &s);
    n.hook = forge_fragments;
    n.hook_user = &f;
    run_handshake(&n);
    n.hook = NULL;
    assert_up(&n, VPN_CONF_AUTH_RSA_SIG, VPN_CONF_AUTH_RSA_SIG);
    assert_true(f.forged[0] >= 6 && f.forged[1] >= 6); /* both directions went in fragments */
    for (int i = 0; i < 2; i++) {
        vpn_ikev2_stats_get(n.node[i].ctx, &st[i]);
        assert_int_equal(st[i].dropped, f.forged[i]);
        assert_int_equal(st[i].duplicates_answered, 0);
        assert_int_equal(st[i].retransmits, 0);
        assert_int_equal(st[i].in_requests + st[i].in_responses, 2);
    }
    tp_free(&n);
}

/* ---- RFC 7383 reassembly state, allocated while fragments arrive (issue 14) ----
 * ikev2_sa.rf_chunk (a table of IKEV2_FRAG_MAX buffers) exists only while
 * a message is arriving in fragments. */

typedef struct reasm_gate {
    bool arm;          /* refuse the table when R2 takes R1's first fragment 1 */
    bool armed;        /* ... while that fragment is being delivered */
    unsigned refused;
    uint16_t drop_num; /* R1's fragments numbered this are lost (0: none) */
} reasm_gate;

static bool refuse_reasm(void *user, size_t size)
{
    reasm_gate *g = user;
    if (g->armed && size == IKEV2_FRAG_MAX * sizeof(ikev2_buf)) {
        g->armed = false;
        g->refused++;
        return false;
    }
    return true;
}

static bool reasm_hook(tp_net *n, tp_dgram *d, void *user)
{
    reasm_gate *g = user;
    size_t l;
    const uint8_t *p = tp_ike(d, &l);
    uint16_t num;
    (void)n;
    g->armed = false; /* the previous delivery is over */
    if (d->from != 0 || l < 36 || p[16] != 53) /* R1's SKF (RFC 7383 2.5) */
        return true;
    num = (uint16_t)(p[32] << 8 | p[33]); /* Fragment Number */
    if (g->drop_num != 0 && num == g->drop_num)
        return false;
    if (g->arm && num == 1) {
        g->arm = false;
        g->armed = true;
    }
    return true;
}

/* Refused: R2 reports its half-open SA down (INTERNAL, counted), R1's
 * other fragments find no SA, R1 gives up; a new handshake then works. */
static void test_reassembly_refused(void **state)
{
    tp_net n;
    setup_args s = rsa_both();
    reasm_gate g;
    vpn_alloc a = {refuse_reasm, &g};
    vpn_ikev2_stats st;
    (void)state;

    memset(&g, 0, sizeof g);
    g.arm = true;
    s.alloc = &a;
    cert_setup(&n, &s);
    n.hook = reasm_hook;
    n.hook_user = &g;
    run_handshake(&n);
    assert_int_equal(g.refused, 1);
    int f = tp_find_ev(&n.node[1], VPN_IKEV2_EV_FAILED, 0);
    assert_true(f >= 0);
    assert_int_equal(n.node[1].ev[f].reason, VPN_IKEV2_R_INTERNAL);
    vpn_ikev2_stats_get(n.node[1].ctx, &st);
    assert_int_equal(st.internal_errors, 1);
    assert_int_equal(vpn_ikev2_sa_count(n.node[1].ctx), 0);
    tp_run_for(&n, 300);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_IKE_UP), 0);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_IKE_UP), 0);
    f = tp_find_ev(&n.node[0], VPN_IKEV2_EV_FAILED, 0);
    assert_true(f >= 0);
    assert_int_equal(n.node[0].ev[f].reason, VPN_IKEV2_R_TIMEOUT);
    assert_int_equal(vpn_ikev2_sa_count(n.node[0].ctx), 0);
    /* memory back: the same engines come up, in fragments */
    run_handshake(&n);
    assert_up(&n, VPN_CONF_AUTH_RSA_SIG, VPN_CONF_AUTH_RSA_SIG);
    assert_int_equal(g.refused, 1);
    tp_free(&n);
}

/* R2's half-open SA goes with fragments of R1's IKE_AUTH held (the last
 * one lost every time): the ASan twin fails if they or their table leak. */
static void test_reassembly_teardown(void **state)
{
    tp_net n;
    setup_args s = rsa_both();
    reasm_gate g;
    (void)state;

    memset(&g, 0, sizeof g);
    g.drop_num = 2;
    cert_setup(&n, &s);
    n.hook = reasm_hook;
    n.hook_user = &g;
    run_handshake(&n);
    assert_int_equal(vpn_ikev2_sa_count(n.node[1].ctx), 1);
    tp_run_for(&n, 300);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_IKE_UP), 0);
    assert_int_equal(vpn_ikev2_sa_count(n.node[1].ctx), 0);
    assert_int_equal(vpn_ikev2_sa_count(n.node[0].ctx), 0);
    tp_free(&n);
    /* and an engine deleted while it holds fragments */
    cert_setup(&n, &s);
    n.hook = reasm_hook;
    n.hook_user = &g;
    run_handshake(&n);
    assert_int_equal(vpn_ikev2_sa_count(n.node[1].ctx), 1);
    tp_free(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rsa_certificates),
        cmocka_unit_test(test_rsa_fragments_on_4500),
        cmocka_unit_test(test_fragmented_retransmission_answered_once),
        cmocka_unit_test(test_ecdsa_certificates),
        cmocka_unit_test(test_asymmetric_psk_and_rsa),
        cmocka_unit_test(test_untrusted_ca),
        cmocka_unit_test(test_identity_not_in_cert),
        cmocka_unit_test(test_expired),
        cmocka_unit_test(test_no_local_certificate),
        cmocka_unit_test(test_eap_user_cert_hub),
        cmocka_unit_test(test_eap_user_cert_hub_refused),
        cmocka_unit_test(test_pcap_rsa_fragments),
        cmocka_unit_test(test_forged_fragments_change_nothing),
        cmocka_unit_test(test_reassembly_refused),
        cmocka_unit_test(test_reassembly_teardown),
    };
    return cmocka_run_group_tests(tests, pki_setup, pki_teardown);
}
