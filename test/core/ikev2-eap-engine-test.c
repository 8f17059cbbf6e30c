/*
 * Remote access through two IKEv2 engines in memory (RFC 7296 2.16 EAP,
 * 3.15 CP): a client with `authentication local eap mschapv2` against a
 * hub with `authentication remote eap query-identity`, a local user
 * database and an authorization policy. Checks the exchange count, the
 * MSK-based AUTH on both sides (the SA comes up only if both verify), the
 * address from the pool, the CHILD_SA selectors narrowed to it, wrong
 * passwords (AUTHENTICATION_FAILED, nothing taken from the pool), pool
 * exhaustion (the next user refused cleanly) and release on delete; an
 * EAP backend answering later (RADIUS passthrough) and the attributes of
 * its Access-Accept applied (`aaa authorization user eap cached`); the
 * hub's one block: PSK spokes announcing their networks in a CFG_REQUEST
 * beside EAP users on the same profile (`route accept any`).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "ikev2/ikev2-const.h"
#define TP_MAX_NODES 4 /* the hub block: hub, two spokes, a user */
#include "ikev2-pair.h"
#include "engine-params.h"
#include "show/show-ikev2.h"
/* white box, for the initiator's CHILD_SA offer kept across the EAP
 * rounds (ikev2_sa.ra_creq): when it is held is not visible otherwise */
#include "ikev2/ikev2-eng.h"

static const char hub_conf[] =
    TU_RA_HUB_AAA
    "username bob password hunter2\n"
    "username carol password c4rol\n"
    TU_RA_HUB_POOL_SPLIT
    TU_RA_IKE_PROPOSAL
    TU_RA_HUB_PROFILE
    TU_RA_IPSEC_PROFILE;

static char *client_conf(const char *user, const char *pw, const char *method)
{
    char *b = malloc(2048);
    assert_non_null(b);
    snprintf(b, 2048,
             TU_RA_CLIENT_HEAD
             " identity local fqdn %s.example\n"
             " authentication remote pre-share key hubkey\n"
             " authentication local eap %s username %s password %s\n"
             TU_RA_IPSEC_PROFILE,
             user, method, user, pw);
    return b;
}

/* Hub at 192.0.2.2 (node 1 of every pair), clients from 192.0.2.1. */
static void add_hub_policy(tp_net *n, int hub)
{
    vpn_ikev2_policy p = ts_policy("10.1.0.0/16", "0.0.0.0/0", 0, 9);
    assert_int_equal(vpn_ikev2_policy_add(n->node[hub].ctx, &p), 0);
}

static vpn_ikev2_policy client_policy(void)
{
    return ts_policy("0.0.0.0/0", "10.1.0.0/16", 0, 7);
}

static void two(tp_net *n, const char *user, const char *pw, const char *method)
{
    char *c = client_conf(user, pw, method);
    tp_init(n);
    tp_add(n, c, "192.0.2.1", "client");
    tp_add(n, hub_conf, "192.0.2.2", "hub");
    free(c);
    add_hub_policy(n, 1);
}

static const vpn_ikev2_sa_info *sa0(tp_net *n, int node, vpn_ikev2_sa_info *i)
{
    assert_int_equal(vpn_ikev2_sa_get(n->node[node].ctx, 0, i), 0);
    return i;
}

/* Node nd's engine made again, as name, on its conf or (conf_text not
 * NULL) on a new one, with the EAP backend be (NULL: none, the local
 * `username` lines). */
static void renew(tp_node *nd, const char *conf_text, const char *name, const vpn_ikev2_eap_backend *be)
{
    vpn_ikev2_params p;

    vpn_ikev2_ctx_del(nd->ctx);
    if (conf_text) {
        vpn_conf_del(nd->conf);
        nd->conf = tp_conf(conf_text);
    }
    memset(&p, 0, sizeof p);
    p.conf = nd->conf;
    vpn_rng_init_drbg(&p.rng, &nd->drbg);
    p.name = name;
    p.send = tp_send_cb;
    p.event = tp_event_cb;
    p.user = nd;
    p.eap = be;
    assert_int_equal(vpn_ikev2_ctx_new(&nd->ctx, &p), 0);
}

/* two(), the hub's engine with the EAP backend be, and the client started. */
static void two_backend(tp_net *n, const char *user, const char *pw, const vpn_ikev2_eap_backend *be)
{
    vpn_ikev2_policy pc = client_policy();

    two(n, user, pw, "mschapv2");
    renew(&n->node[1], NULL, "hub", be);
    add_hub_policy(n, 1);
    initiate(n, &pc);
}

/* alice (node 0, 192.0.2.1) and bob (node 2, 192.0.2.3), both mschapv2,
 * against the hub of hub_text (node 1). */
static void alice_bob(tp_net *n, const char *hub_text)
{
    char *ca = client_conf("alice", "Secr3t!", "mschapv2"), *cb = client_conf("bob", "hunter2", "mschapv2");

    tp_init(n);
    tp_add(n, ca, "192.0.2.1", "alice");
    tp_add(n, hub_text, "192.0.2.2", "hub");
    tp_add(n, cb, "192.0.2.3", "bob");
    free(ca);
    free(cb);
    add_hub_policy(n, 1);
}

/* Client node c initiates to the hub under pc and the net runs 2 s;
 * returns the IKE SA's id. */
static uint32_t join(tp_net *n, int c, const vpn_ikev2_policy *pc)
{
    uint32_t id = 0;

    assert_int_equal(vpn_ikev2_initiate(n->node[c].ctx, n->now, &n->node[c].ep, &n->node[1].ep, pc, &id), 0);
    tp_run_for(n, 2);
    return id;
}

/* How many of the hub's IKE SAs are established; the first two in
 * first/second (may be NULL). */
static size_t hub_established(tp_net *n, vpn_ikev2_sa_info *first, vpn_ikev2_sa_info *second)
{
    size_t up = 0;

    for (size_t k = 0; k < vpn_ikev2_sa_count(n->node[1].ctx); k++) {
        vpn_ikev2_sa_info x;
        assert_int_equal(vpn_ikev2_sa_get(n->node[1].ctx, k, &x), 0);
        if (x.state != VPN_IKEV2_SA_ESTABLISHED)
            continue;
        if (up == 0 && first)
            *first = x;
        else if (up == 1 && second)
            *second = x;
        up++;
    }
    return up;
}

static void test_mschapv2_cp(void **state)
{
    (void)state;
    tp_net n;
    vpn_ikev2_sa_info ia, ib;
    char a[VPN_ADDR_STRLEN];
    two(&n, "alice", "Secr3t!", "mschapv2");
    vpn_ikev2_policy pc = client_policy();
    initiate(&n, &pc);
    tp_run_for(&n, 2);
    /* INIT, then IKE_AUTH x5: first, Identity, MSCHAPv2 response, success
     * acknowledgement, AUTH: 12 messages */
    assert_int_equal(n.sent, 12);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_IKE_UP), 1);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_IKE_UP), 1);
    int ea = tp_find_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP, 0), eb = tp_find_ev(&n.node[1], VPN_IKEV2_EV_CHILD_UP, 0);
    assert_true(ea >= 0 && eb >= 0);
    tp_assert_child_pair(&n.node[0].ev[ea], &n.node[1].ev[eb]);
    sa0(&n, 0, &ia);
    sa0(&n, 1, &ib);
    assert_string_equal(ib.eap_identity, "alice");
    assert_string_equal(ia.eap_identity, "alice");
    assert_string_equal(vpn_addr_str(&ib.assigned, a, sizeof a), "10.99.0.10");
    assert_true(vpn_addr_eq(&ia.assigned, &ib.assigned));
    /* 2.9: the user's selector is its address alone */
    const vpn_ikev2_child_info *hc = &n.node[1].ev[eb].child;
    assert_int_equal(hc->n_ts_remote, 1);
    assert_true(vpn_addr_eq(&hc->ts_remote[0].addr_lo, &ib.assigned));
    assert_true(vpn_addr_eq(&hc->ts_remote[0].addr_hi, &ib.assigned));
    const vpn_ikev2_child_info *cc = &n.node[0].ev[ea].child;
    assert_true(vpn_addr_eq(&cc->ts_local[0].addr_lo, &ib.assigned));
    /* show crypto ikev2 sa detail and show ip local pool */
    static char out[16384];
    vpn_show_buf sb;
    vpn_show_init(&sb, out, sizeof out);
    assert_int_equal(vpn_show_ikev2_sa(n.node[1].ctx, n.now, true, &sb), 0);
    assert_non_null(strstr(out, "      Remote EAP identity: alice\n"));
    assert_non_null(strstr(out, "      Pushed IP address: 10.99.0.10\n"));
    assert_non_null(strstr(out, "      10.99.0.10 255.255.255.255\n")); /* the narrowed remote subnet */
    vpn_show_init(&sb, out, sizeof out);
    assert_int_equal(vpn_show_ikev2_sa(n.node[0].ctx, n.now, true, &sb), 0);
    assert_non_null(strstr(out, "      Assigned host addr: 10.99.0.10\n"));
    vpn_show_init(&sb, out, sizeof out);
    assert_int_equal(vpn_show_ip_local_pool(n.node[1].ctx, &sb), 0);
    assert_non_null(strstr(out, " RA-POOL                  10.99.0.10      10.99.0.11          1       1\n"));
    vpn_show_init(&sb, out, sizeof out);
    assert_int_equal(vpn_show_crypto_session_user(n.node[1].ctx, n.now, "alice", false, NULL, &sb), 0);
    assert_non_null(strstr(out, "Username: alice\n"));
    assert_non_null(strstr(out, "Session status: UP-ACTIVE"));
    vpn_show_init(&sb, out, sizeof out);
    assert_int_equal(vpn_show_crypto_session_user(n.node[1].ctx, n.now, "bob", false, NULL, &sb), 0);
    assert_null(strstr(out, "Session status"));
    /* An IKE SA rekey (2.8) keeps the user's address and identity on the
     * new SA, and the pool still counts one address in use. */
    assert_int_equal(vpn_ikev2_ike_rekey(n.node[0].ctx, n.now, ia.id), 0);
    tp_run_for(&n, 2);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_IKE_REKEYED), 1);
    assert_int_equal(vpn_ikev2_sa_count(n.node[1].ctx), 1);
    sa0(&n, 1, &ib);
    sa0(&n, 0, &ia);
    assert_int_equal(ib.state, VPN_IKEV2_SA_ESTABLISHED);
    assert_string_equal(vpn_addr_str(&ib.assigned, a, sizeof a), "10.99.0.10");
    assert_string_equal(ib.eap_identity, "alice");
    vpn_show_init(&sb, out, sizeof out);
    assert_int_equal(vpn_show_ip_local_pool(n.node[1].ctx, &sb), 0);
    assert_non_null(strstr(out, " RA-POOL                  10.99.0.10      10.99.0.11          1       1\n"));
    /* Deleting the SA gives the address back: the next user gets it. */
    assert_int_equal(vpn_ikev2_delete(n.node[0].ctx, n.now, ia.id), 0);
    tp_run_for(&n, 2);
    assert_int_equal(vpn_ikev2_sa_count(n.node[1].ctx), 0);
    vpn_show_init(&sb, out, sizeof out);
    assert_int_equal(vpn_show_ip_local_pool(n.node[1].ctx, &sb), 0);
    assert_non_null(strstr(out, " RA-POOL                  10.99.0.10      10.99.0.11          2       0\n"));
    tp_free(&n);
}

/* 3.15.4 on a hub that gives no address at all (its policy has no pool):
 * a client that asked for an IPv6 address keeps no IPv6 selector (the
 * template's ::/0 is not its to keep: it could send from any IPv6 source
 * and draw any IPv6 destination); its IPv4 selectors stay as before. */
static void test_ipv6_cp_no_pool(void **state)
{
    (void)state;
    tp_net n;
    char a[VPN_ADDR_STRLEN];
    char *h = malloc(sizeof hub_conf), *c = client_conf("alice", "Secr3t!", "mschapv2");
    assert_non_null(h);
    memcpy(h, hub_conf, sizeof hub_conf);
    char *pl = strstr(h, " pool RA-POOL\n");
    assert_non_null(pl);
    memmove(pl, pl + strlen(" pool RA-POOL\n"), strlen(pl + strlen(" pool RA-POOL\n")) + 1);
    tp_init(&n);
    tp_add(&n, c, "192.0.2.1", "client");
    tp_add(&n, h, "192.0.2.2", "hub");
    free(c);
    free(h);
    vpn_ikev2_policy hp;
    memset(&hp, 0, sizeof hp);
    hp.ipsec_profile = "IPP";
    hp.ts_local[0] = sel("10.1.0.0/16", 0);
    hp.ts_local[1] = sel("2001:db8:1::/48", 0);
    hp.ts_remote[0] = sel("0.0.0.0/0", 0);
    hp.ts_remote[1] = sel("::/0", 0);
    hp.n_ts_local = hp.n_ts_remote = 2;
    hp.tag = 9;
    assert_int_equal(vpn_ikev2_policy_add(n.node[1].ctx, &hp), 0);
    vpn_ikev2_policy pc = client_policy();
    pc.ts_local[1] = sel("::/0", 0);
    pc.ts_remote[1] = sel("2001:db8:1::/48", 0);
    pc.n_ts_local = pc.n_ts_remote = 2;
    initiate(&n, &pc);
    tp_run_for(&n, 2);
    int eb = tp_find_ev(&n.node[1], VPN_IKEV2_EV_CHILD_UP, 0);
    assert_true(eb >= 0);
    const vpn_ikev2_child_info *hc = &n.node[1].ev[eb].child;
    assert_int_equal(hc->n_ts_remote, 1);
    assert_int_equal(hc->ts_remote[0].addr_lo.family, VPN_AF_INET);
    assert_string_equal(vpn_addr_str(&hc->ts_remote[0].addr_lo, a, sizeof a), "0.0.0.0");
    vpn_ikev2_sa_info ib;
    sa0(&n, 1, &ib);
    assert_int_equal(ib.assigned.family, VPN_AF_NONE);
    assert_int_equal(ib.assigned6.family, VPN_AF_NONE);
    tp_free(&n);
}

/* RFC 7296 3.15.1 for IPv6: a client whose selectors carry IPv6 asks for
 * INTERNAL_IP6_ADDRESS and _DNS beside the IPv4 ones; the hub's policy
 * (`ipv6 pool`, `ipv6 dns`) answers with a /128 from its `ipv6 local pool`
 * and its IPv6 DNS server, narrows the user's IPv6 selector to that
 * address (2.9), keeps it over an IKE SA rekey and takes it back on
 * delete (the next SA gets the same one). */
static void test_ipv6_cp(void **state)
{
    (void)state;
    tp_net n;
    vpn_ikev2_sa_info ia, ib;
    char a[VPN_ADDR_STRLEN];
    char *h = malloc(8192), *c = client_conf("alice", "Secr3t!", "mschapv2");
    const char *pol = strstr(hub_conf, "crypto ikev2 proposal P1\n");
    const char *ap = strstr(hub_conf, "crypto ikev2 authorization policy RA-POL\n");
    assert_non_null(h);
    /* Lo6's network goes out as INTERNAL_IP6_SUBNET (`route set interface`) */
    snprintf(h, 8192,
             "%.*sipv6 local pool V6 2001:db8:99::/126 128\ninterface Lo6\n ipv6 address 2001:db8:1::1/64\n%.*s"
             " ipv6 pool V6\n ipv6 dns 2001:db8::53\n route set interface Lo6\n%s",
             (int)(ap - hub_conf), hub_conf, (int)(pol - ap), ap, pol);
    tp_init(&n);
    tp_add(&n, c, "192.0.2.1", "client");
    tp_add(&n, h, "192.0.2.2", "hub");
    free(c);
    free(h);
    vpn_ikev2_policy hp = ts_policy("10.1.0.0/16", "0.0.0.0/0", 0, 9);
    hp.ts_local[1] = sel("2001:db8:1::/48", 0);
    hp.ts_remote[1] = sel("::/0", 0);
    hp.n_ts_local = hp.n_ts_remote = 2;
    assert_int_equal(vpn_ikev2_policy_add(n.node[1].ctx, &hp), 0);
    vpn_ikev2_policy pc = client_policy();
    pc.ts_local[1] = sel("::/0", 0);
    pc.ts_remote[1] = sel("2001:db8:1::/48", 0);
    pc.n_ts_local = pc.n_ts_remote = 2;
    initiate(&n, &pc);
    tp_run_for(&n, 2);
    int eb = tp_find_ev(&n.node[1], VPN_IKEV2_EV_CHILD_UP, 0);
    assert_true(eb >= 0);
    sa0(&n, 0, &ia);
    sa0(&n, 1, &ib);
    assert_non_null(ia.cfg);
    assert_string_equal(vpn_addr_str(&ia.cfg->address, a, sizeof a), "10.99.0.10");
    assert_string_equal(vpn_addr_str(&ia.cfg->address6, a, sizeof a), "2001:db8:99::1");
    assert_int_equal(ia.cfg->prefix6, 128);
    bool dns6 = false;
    for (size_t i = 0; i < ia.cfg->n_dns; i++)
        dns6 = dns6 || strcmp(vpn_addr_str(&ia.cfg->dns[i], a, sizeof a), "2001:db8::53") == 0;
    assert_true(dns6);
    /* 2.9: one selector per family, each the user's address */
    const vpn_ikev2_child_info *hc = &n.node[1].ev[eb].child;
    assert_int_equal(hc->n_ts_remote, 2);
    assert_string_equal(vpn_addr_str(&hc->ts_remote[0].addr_lo, a, sizeof a), "10.99.0.10");
    assert_string_equal(vpn_addr_str(&hc->ts_remote[1].addr_lo, a, sizeof a), "2001:db8:99::1");
    assert_string_equal(vpn_addr_str(&hc->ts_remote[1].addr_hi, a, sizeof a), "2001:db8:99::1");
    /* the SA views carry the IPv6 address on both sides, for the drivers */
    assert_int_equal(ib.assigned6.family, VPN_AF_INET6);
    assert_string_equal(vpn_addr_str(&ib.assigned6, a, sizeof a), "2001:db8:99::1");
    assert_int_equal(ib.assigned6_len, 128);
    assert_string_equal(vpn_addr_str(&ia.assigned6, a, sizeof a), "2001:db8:99::1");
    assert_int_equal(ia.assigned6_len, 128);
    assert_string_equal(vpn_addr_str(&ia.assigned, a, sizeof a), "10.99.0.10");
    /* the client's routes: the IPv4 split subnet and Lo6's IPv6 network
     * (3.15.1 INTERNAL_IP6_SUBNET, host bits cleared) */
    {
        vpn_prefix rp[8];
        int nr = vpn_ikev2_sa_routes(n.node[0].ctx, ia.id, rp, 8);
        bool r4 = false, r6 = false;
        assert_int_equal(nr, 2);
        for (int i = 0; i < nr; i++) {
            vpn_addr_str(&rp[i].addr, a, sizeof a);
            r4 = r4 || (strcmp(a, "10.1.0.0") == 0 && rp[i].len == 16);
            r6 = r6 || (strcmp(a, "2001:db8:1::") == 0 && rp[i].len == 64);
        }
        assert_true(r4);
        assert_true(r6);
        assert_int_equal(vpn_ikev2_sa_routes(n.node[1].ctx, ib.id, rp, 8), VPN_ERR_STATE);
    }
    {
        /* show crypto ikev2 sa detail / show crypto session: both addresses */
        static char out[16384];
        vpn_show_buf sb;
        vpn_show_init(&sb, out, sizeof out);
        assert_int_equal(vpn_show_ikev2_sa(n.node[1].ctx, n.now, true, &sb), 0);
        assert_non_null(strstr(out, "      Pushed IP address: 10.99.0.10\n"));
        assert_non_null(strstr(out, "      Pushed IP address: 2001:db8:99::1/128\n"));
        vpn_show_init(&sb, out, sizeof out);
        assert_int_equal(vpn_show_ikev2_sa(n.node[0].ctx, n.now, true, &sb), 0);
        assert_non_null(strstr(out, "      Assigned host addr: 2001:db8:99::1/128\n"));
        vpn_show_init(&sb, out, sizeof out);
        assert_int_equal(vpn_show_crypto_session_user(n.node[1].ctx, n.now, "alice", false, NULL, &sb), 0);
        assert_non_null(strstr(out, "  Assigned address: 10.99.0.10\n"));
        assert_non_null(strstr(out, "  Assigned IPv6 address: 2001:db8:99::1/128\n"));
        /* the IPv6 pool after the IPv4 one: ::1..::3 (::0 never given), one in use */
        vpn_ikev2_pool_info pi;
        assert_int_equal(vpn_ikev2_pool_get(n.node[1].ctx, 1, &pi), 0);
        assert_string_equal(pi.name, "V6");
        assert_string_equal(vpn_addr_str(&pi.first, a, sizeof a), "2001:db8:99::1");
        assert_string_equal(vpn_addr_str(&pi.last, a, sizeof a), "2001:db8:99::3");
        assert_int_equal(pi.size, 3);
        assert_int_equal(pi.in_use, 1);
        assert_int_equal(vpn_ikev2_pool_get(n.node[1].ctx, 0, &pi), 0);
        assert_int_equal(pi.in_use, 1);
        assert_int_equal(vpn_ikev2_pool_get(n.node[1].ctx, 2, &pi), VPN_ERR_NOTFOUND);
    }
    /* rekeyed: the hub's new SA still holds the address */
    assert_int_equal(vpn_ikev2_ike_rekey(n.node[0].ctx, n.now, ia.id), 0);
    tp_run_for(&n, 2);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_IKE_REKEYED), 1);
    sa0(&n, 1, &ib);
    sa0(&n, 0, &ia);
    assert_string_equal(vpn_addr_str(&ib.cfg->address6, a, sizeof a), "2001:db8:99::1");
    /* delete: back to the pool, the next SA gets ::1 again (else ::2) */
    assert_int_equal(vpn_ikev2_delete(n.node[0].ctx, n.now, ia.id), 0);
    tp_run_for(&n, 2);
    assert_int_equal(vpn_ikev2_sa_count(n.node[1].ctx), 0);
    initiate(&n, &pc);
    tp_run_for(&n, 2);
    sa0(&n, 0, &ia);
    assert_int_equal(ia.state, VPN_IKEV2_SA_ESTABLISHED);
    assert_string_equal(vpn_addr_str(&ia.cfg->address6, a, sizeof a), "2001:db8:99::1");
    /* an IPv4-only client is given no IPv6 address */
    assert_int_equal(vpn_ikev2_delete(n.node[0].ctx, n.now, ia.id), 0);
    tp_run_for(&n, 2);
    vpn_ikev2_policy p4 = client_policy();
    initiate(&n, &p4);
    tp_run_for(&n, 2);
    sa0(&n, 0, &ia);
    assert_int_equal(ia.state, VPN_IKEV2_SA_ESTABLISHED);
    assert_int_equal(ia.cfg->address6.family, VPN_AF_NONE);
    assert_int_equal(ia.assigned6.family, VPN_AF_NONE);
    sa0(&n, 1, &ib);
    assert_int_equal(ib.assigned6.family, VPN_AF_NONE);
    assert_string_equal(vpn_addr_str(&ia.cfg->address, a, sizeof a), "10.99.0.10");
    tp_free(&n);
}

static void test_md5_and_gtc(void **state)
{
    (void)state;
    static const char *m[] = {"md5", "gtc"};
    for (int i = 0; i < 2; i++) {
        tp_net n;
        vpn_ikev2_sa_info ib;
        two(&n, "bob", "hunter2", m[i]);
        vpn_ikev2_policy pc = client_policy();
        initiate(&n, &pc);
        tp_run_for(&n, 2);
        /* MSCHAPv2 offered first, Nak'ed, then the client's method: no MSK,
         * AUTH with SK_pi / SK_pr */
        assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_IKE_UP), 1);
        assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_IKE_UP), 1);
        assert_true(tp_find_ev(&n.node[1], VPN_IKEV2_EV_CHILD_UP, 0) >= 0);
        assert_string_equal(sa0(&n, 1, &ib)->eap_identity, "bob");
        tp_free(&n);
    }
}

static void test_wrong_password(void **state)
{
    (void)state;
    tp_net n;
    two(&n, "alice", "wrong", "mschapv2");
    vpn_ikev2_policy pc = client_policy();
    initiate(&n, &pc);
    tp_run_for(&n, 2);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_IKE_UP), 0);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_IKE_UP), 0);
    int f0 = tp_find_ev(&n.node[0], VPN_IKEV2_EV_FAILED, 0), f1 = tp_find_ev(&n.node[1], VPN_IKEV2_EV_FAILED, 0);
    assert_true(f0 >= 0 && f1 >= 0);
    assert_int_equal(n.node[0].ev[f0].reason, VPN_IKEV2_R_PEER_AUTH_FAILED);
    assert_int_equal(n.node[0].ev[f0].notify, VPN_IKEV2_N_AUTHENTICATION_FAILED);
    assert_int_equal(n.node[1].ev[f1].reason, VPN_IKEV2_R_AUTH_FAILED);
    assert_int_equal(vpn_ikev2_sa_count(n.node[0].ctx), 0);
    assert_int_equal(vpn_ikev2_sa_count(n.node[1].ctx), 0);
    /* nothing was taken from the pool */
    vpn_ikev2_pool_info pi;
    assert_int_equal(vpn_ikev2_pool_get(n.node[1].ctx, 0, &pi), 0);
    assert_string_equal(pi.name, "RA-POOL");
    assert_int_equal(pi.size, 2);
    assert_int_equal(pi.in_use, 0);
    assert_int_equal(vpn_ikev2_pool_get(n.node[1].ctx, 1, &pi), VPN_ERR_NOTFOUND);
    tp_free(&n);
    /* An unknown user likewise. */
    two(&n, "mallory", "Secr3t!", "mschapv2");
    initiate(&n, &pc);
    tp_run_for(&n, 2);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_IKE_UP), 0);
    f0 = tp_find_ev(&n.node[0], VPN_IKEV2_EV_FAILED, 0);
    assert_true(f0 >= 0);
    assert_int_equal(n.node[0].ev[f0].notify, VPN_IKEV2_N_AUTHENTICATION_FAILED);
    tp_free(&n);
}

/* Two users fill a two-address pool; a third with a wrong password is
 * refused with AUTHENTICATION_FAILED and the two keep distinct addresses. */
static void test_pool_exhaustion(void **state)
{
    (void)state;
    tp_net n;
    char *cx = client_conf("carol", "wrong", "mschapv2");
    vpn_ikev2_policy pc = client_policy();
    uint32_t idb;
    alice_bob(&n, hub_conf);
    (void)join(&n, 0, &pc);
    idb = join(&n, 2, &pc);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_IKE_UP), 2);
    /* the hub's pool is now full; alice's client comes again as carol with
     * a wrong password (nothing is taken), then as carol for real */
    renew(&n.node[0], cx, "carol", NULL);
    n.node[0].n_ev = 0;
    (void)join(&n, 0, &pc);
    int f = tp_find_ev(&n.node[0], VPN_IKEV2_EV_FAILED, 0);
    assert_true(f >= 0);
    assert_int_equal(n.node[0].ev[f].notify, VPN_IKEV2_N_AUTHENTICATION_FAILED);
    free(cx);
    /* The hub still holds two SAs (alice's, whose client is gone, and
     * bob's), each with its address. */
    vpn_ikev2_sa_info i0, i1;
    assert_int_equal(hub_established(&n, &i0, &i1), 2);
    assert_false(vpn_addr_eq(&i0.assigned, &i1.assigned));
    /* bob leaves: the hub keeps alice's SA alone */
    assert_int_equal(vpn_ikev2_delete(n.node[2].ctx, n.now, idb), 0);
    tp_run_for(&n, 2);
    assert_int_equal(hub_established(&n, NULL, NULL), 1);
    tp_free(&n);
}

static void test_pool_full_refuses(void **state)
{
    (void)state;
    /* A one-address pool: the second user is refused with
     * INTERNAL_ADDRESS_FAILURE and the hub keeps only the first. */
    tp_net n;
    char hub1[sizeof hub_conf + 64];
    snprintf(hub1, sizeof hub1, "%s", hub_conf);
    char *p = strstr(hub1, "10.99.0.11");
    assert_non_null(p);
    memcpy(p, "10.99.0.10", 10);
    vpn_ikev2_policy pc = client_policy();
    alice_bob(&n, hub1);
    uint32_t ida = join(&n, 0, &pc);
    (void)join(&n, 2, &pc);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_IKE_UP), 1);
    int f = tp_find_ev(&n.node[2], VPN_IKEV2_EV_FAILED, 0);
    assert_true(f >= 0);
    assert_int_equal(n.node[2].ev[f].notify, VPN_IKEV2_N_INTERNAL_ADDRESS_FAILURE);
    assert_int_equal(vpn_ikev2_sa_count(n.node[2].ctx), 0);
    /* alice leaves: bob now gets the address */
    assert_int_equal(vpn_ikev2_delete(n.node[0].ctx, n.now, ida), 0);
    tp_run_for(&n, 2);
    n.node[2].n_ev = 0;
    (void)join(&n, 2, &pc);
    assert_int_equal(tp_count_ev(&n.node[2], VPN_IKEV2_EV_IKE_UP), 1);
    vpn_ikev2_sa_info ib;
    char a[VPN_ADDR_STRLEN];
    assert_string_equal(vpn_addr_str(&sa0(&n, 2, &ib)->assigned, a, sizeof a), "10.99.0.10");
    tp_free(&n);
}

/* An EAP backend that answers later, as a RADIUS passthrough would: it
 * owns its own authenticator (here the same local code, with its own user
 * list) and the test plays the network delay. */
typedef struct slow_backend {
    vpn_drbg drbg;
    vpn_eap_server *srv;
    uint32_t sa;
    bool pending, started;
    uint8_t msg[VPN_EAP_MSG_MAX];
    size_t len;
    unsigned steps;
} slow_backend;

static int slow_db(void *u, const char *name, char *out, size_t cap)
{
    (void)u;
    if (strcmp(name, "dave") != 0 || cap < 9)
        return VPN_ERR_NOTFOUND;
    memcpy(out, "radius-pw", 9);
    return 9;
}

static int slow_step(void *user, uint32_t sa, const char *profile, const char *identity, const uint8_t *msg,
                     size_t len, vpn_eap_answer *a)
{
    slow_backend *b = user;
    (void)a;
    assert_string_equal(profile, "RA");
    assert_string_equal(identity, "dave.example");
    assert_false(b->pending);
    b->sa = sa;
    b->pending = true;
    b->started = msg == NULL;
    b->len = len;
    if (len)
        memcpy(b->msg, msg, len);
    b->steps++;
    return VPN_IKEV2_EAP_PENDING;
}

static void test_backend_answers_later(void **state)
{
    (void)state;
    tp_net n;
    slow_backend sb;
    vpn_ikev2_eap_backend be = {slow_step, &sb};
    memset(&sb, 0, sizeof sb);
    assert_int_equal(vpn_drbg_init(&sb.drbg, "radius", 6), 0);
    vpn_eap_server_params sp = {.methods = VPN_EAP_M_MSCHAPV2, .query_identity = true, .password = slow_db};
    vpn_rng_init_drbg(&sp.rng, &sb.drbg);
    assert_int_equal(vpn_eap_server_new(&sb.srv, &sp), 0);
    /* the hub again, with the backend */
    two_backend(&n, "dave", "radius-pw", &be);
    vpn_eap_answer ans;
    for (int round = 0; round < 8 && tp_count_ev(&n.node[1], VPN_IKEV2_EV_IKE_UP) == 0; round++) {
        tp_run_for(&n, 0);
        tp_pump(&n);
        if (!sb.pending)
            continue;
        /* Nothing leaves the hub while the backend thinks (the client
         * retransmits, the hub stays quiet). */
        size_t sent = n.sent;
        tp_run_for(&n, 3);
        size_t from_hub = 0;
        for (size_t k = 0; k < n.n_log; k++)
            if (n.log[k]->from == 1 && n.log[k]->when > n.now - 3 * TP_NS)
                from_hub++;
        assert_int_equal(from_hub, 0);
        assert_true(n.sent > sent); /* the client's retransmission */
        memset(&ans, 0, sizeof ans);
        if (sb.started)
            assert_int_equal(vpn_eap_server_start(sb.srv, &ans), 0);
        else
            assert_int_equal(vpn_eap_server_process(sb.srv, sb.msg, sb.len, &ans), 0);
        sb.pending = false;
        assert_int_equal(vpn_ikev2_eap_answer(n.node[1].ctx, n.now, sb.sa, &ans), 0);
        /* a second answer for the same step has nobody to go to */
        assert_int_equal(vpn_ikev2_eap_answer(n.node[1].ctx, n.now, sb.sa, &ans), VPN_ERR_NOTFOUND);
        tp_pump(&n);
    }
    tp_run_for(&n, 1);
    assert_int_equal(sb.steps, 4); /* start, Identity, MSCHAPv2 Response, Success ack */
    {
        /* the identity of the relayed Identity Response, not the IKE ID */
        vpn_ikev2_sa_info ib;
        sa0(&n, 1, &ib);
        assert_string_equal(ib.eap_identity, "dave");
    }
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_IKE_UP), 1);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_IKE_UP), 1);
    assert_true(tp_find_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP, 0) >= 0);
    assert_int_equal(vpn_ikev2_eap_answer(n.node[1].ctx, n.now, 999, &ans), VPN_ERR_NOTFOUND);
    vpn_eap_server_free(sb.srv);
    vpn_drbg_free(&sb.drbg);
    tp_free(&n);
}

/* A RADIUS-like backend whose Access-Accept carries authorization
 * attributes (vpn_ikev2_eap_authorize before the SUCCESS answer). The hub
 * profile has `aaa authorization user eap cached` when cached is set. */
static void authz_run(tp_net *n, slow_backend *sb, bool cached, const vpn_cp_authz *z, const char *user)
{
    static vpn_ikev2_eap_backend be;
    static char hub[4096];
    const char *at = strstr(hub_conf, " virtual-template 1\n");
    be.step = slow_step;
    be.user = sb;
    memset(sb, 0, sizeof *sb);
    assert_int_equal(vpn_drbg_init(&sb->drbg, "radius", 6), 0);
    vpn_eap_server_params sp = {.methods = VPN_EAP_M_MSCHAPV2, .query_identity = true, .password = slow_db};
    vpn_rng_init_drbg(&sp.rng, &sb->drbg);
    assert_int_equal(vpn_eap_server_new(&sb->srv, &sp), 0);
    snprintf(hub, sizeof hub, "%.*s%s%s", (int)(at - hub_conf), hub_conf,
             cached ? " aaa authorization user eap cached\n" : "", at);
    char *c = client_conf(user, "radius-pw", "mschapv2");
    tp_init(n);
    tp_add(n, c, "192.0.2.1", "client");
    free(c);
    {
        vpn_ikev2_params p;
        tp_node *nd = tp_prepare(n, hub, "192.0.2.2", "hub", &p);
        p.eap = &be;
        assert_int_equal(vpn_ikev2_ctx_new(&nd->ctx, &p), 0);
    }
    add_hub_policy(n, 1);
    vpn_ikev2_policy pc = client_policy();
    initiate(n, &pc);
    for (int round = 0; round < 8 && tp_count_ev(&n->node[1], VPN_IKEV2_EV_IKE_UP) == 0; round++) {
        vpn_eap_answer ans;
        tp_run_for(n, 0);
        tp_pump(n);
        if (!sb->pending)
            continue;
        memset(&ans, 0, sizeof ans);
        if (sb->started)
            assert_int_equal(vpn_eap_server_start(sb->srv, &ans), 0);
        else
            assert_int_equal(vpn_eap_server_process(sb->srv, sb->msg, sb->len, &ans), 0);
        sb->pending = false;
        if (ans.result == VPN_EAP_SUCCESS && z != NULL) {
            assert_int_equal(vpn_ikev2_eap_authorize(n->node[1].ctx, sb->sa, z), 0);
            /* a second call replaces the first */
            assert_int_equal(vpn_ikev2_eap_authorize(n->node[1].ctx, sb->sa, z), 0);
        }
        assert_int_equal(vpn_ikev2_eap_answer(n->node[1].ctx, n->now, sb->sa, &ans), 0);
        /* nothing waits now: no attributes can be slipped in */
        if (z != NULL)
            assert_int_equal(vpn_ikev2_eap_authorize(n->node[1].ctx, sb->sa, z), VPN_ERR_NOTFOUND);
        tp_pump(n);
    }
    tp_run_for(n, 1);
    vpn_eap_server_free(sb->srv);
    sb->srv = NULL;
    vpn_drbg_free(&sb->drbg);
}

static void pool_line_at(tp_net *n, int hub, const char *want)
{
    static char out[4096];
    vpn_show_buf b;
    vpn_show_init(&b, out, sizeof out);
    assert_int_equal(vpn_show_ip_local_pool(n->node[hub].ctx, &b), 0);
    if (strstr(out, want) == NULL)
        fail_msg("no '%s' in:\n%s", want, out);
}

static void pool_line(tp_net *n, const char *want) { pool_line_at(n, 1, want); }

static void test_backend_authorizes(void **state)
{
    (void)state;
    tp_net n;
    slow_backend sb;
    vpn_cp_authz z;
    vpn_ikev2_sa_info ia, ib;
    char a[VPN_ADDR_STRLEN];

    /* Framed-IP-Address outside every pool, DNS and a Framed-Route: the
     * client gets exactly those, the policy's pool and split ACL unused. */
    memset(&z, 0, sizeof z);
    assert_int_equal(vpn_addr_parse(&z.address, "10.77.0.5"), 0);
    assert_int_equal(vpn_addr_parse(&z.dns[0], "10.1.0.99"), 0);
    z.n_dns = 1;
    assert_int_equal(vpn_prefix_parse(&z.subnets[0], "10.50.0.0/16"), 0);
    assert_int_equal(vpn_prefix_parse(&z.subnets[1], "2001:db8::/32"), 0); /* not IPv4: skipped */
    z.n_subnets = 2;
    authz_run(&n, &sb, true, &z, "dave");
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_IKE_UP), 1);
    sa0(&n, 0, &ia);
    sa0(&n, 1, &ib);
    assert_string_equal(vpn_addr_str(&ia.assigned, a, sizeof a), "10.77.0.5");
    assert_string_equal(vpn_addr_str(&ib.assigned, a, sizeof a), "10.77.0.5");
    assert_non_null(ia.cfg);
    assert_int_equal(ia.cfg->n_dns, 1);
    assert_string_equal(vpn_addr_str(&ia.cfg->dns[0], a, sizeof a), "10.1.0.99");
    assert_int_equal(ia.cfg->n_subnets, 1);
    assert_string_equal(vpn_addr_str(&ia.cfg->subnets[0].addr, a, sizeof a), "10.50.0.0");
    assert_int_equal(ia.cfg->subnets[0].len, 16);
    /* the CHILD_SA is narrowed to the AAA address */
    int eb = tp_find_ev(&n.node[1], VPN_IKEV2_EV_CHILD_UP, 0);
    assert_true(eb >= 0);
    assert_true(vpn_addr_eq(&n.node[1].ev[eb].child.ts_remote[0].addr_lo, &z.address));
    pool_line(&n, " RA-POOL                  10.99.0.10      10.99.0.11          2       0\n");
    assert_int_equal(vpn_ikev2_delete(n.node[0].ctx, n.now, ia.id), 0);
    tp_run_for(&n, 2);
    assert_int_equal(vpn_ikev2_sa_count(n.node[1].ctx), 0);
    pool_line(&n, " RA-POOL                  10.99.0.10      10.99.0.11          2       0\n");
    tp_free(&n);

    /* A Framed-IP-Address inside the pool is claimed there (the pool will
     * not hand it to another) and given back when the SA goes. */
    memset(&z, 0, sizeof z);
    assert_int_equal(vpn_addr_parse(&z.address, "10.99.0.11"), 0);
    authz_run(&n, &sb, true, &z, "dave");
    sa0(&n, 0, &ia);
    assert_string_equal(vpn_addr_str(&ia.assigned, a, sizeof a), "10.99.0.11");
    /* no AAA DNS or routes: the policy's stay */
    assert_int_equal(ia.cfg->n_dns, 1);
    assert_string_equal(vpn_addr_str(&ia.cfg->dns[0], a, sizeof a), "10.1.0.53");
    assert_int_equal(ia.cfg->n_subnets, 1);
    assert_string_equal(vpn_addr_str(&ia.cfg->subnets[0].addr, a, sizeof a), "10.1.0.0");
    pool_line(&n, " RA-POOL                  10.99.0.10      10.99.0.11          1       1\n");
    assert_int_equal(vpn_ikev2_delete(n.node[0].ctx, n.now, ia.id), 0);
    tp_run_for(&n, 2);
    pool_line(&n, " RA-POOL                  10.99.0.10      10.99.0.11          2       0\n");
    tp_free(&n);

    /* Framed-Pool naming a pool that does not exist: the user is refused
     * with INTERNAL_ADDRESS_FAILURE (3.15.4), nothing is taken. */
    memset(&z, 0, sizeof z);
    snprintf(z.pool, sizeof z.pool, "NO-SUCH-POOL");
    authz_run(&n, &sb, true, &z, "dave");
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_IKE_UP), 0);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_IKE_UP), 0);
    assert_int_equal(vpn_ikev2_sa_count(n.node[1].ctx), 0);
    pool_line(&n, " RA-POOL                  10.99.0.10      10.99.0.11          2       0\n");
    tp_free(&n);

    /* Without `aaa authorization user eap cached` the attributes are not
     * applied: the policy's pool answers. */
    memset(&z, 0, sizeof z);
    assert_int_equal(vpn_addr_parse(&z.address, "10.77.0.5"), 0);
    authz_run(&n, &sb, false, &z, "dave");
    sa0(&n, 0, &ia);
    assert_string_equal(vpn_addr_str(&ia.assigned, a, sizeof a), "10.99.0.10");
    tp_free(&n);

    assert_int_equal(vpn_ikev2_eap_authorize(NULL, 1, &z), VPN_ERR_INVAL);
}

/* ---- the hub's one block: EAP users and site-to-site spokes ---------------- */

/* The RA hub with a keyring for the spokes and, with accept, `route accept
 * any` in the spokes' authorization policy. */
/* sites_extra: more lines for the SITES policy (and the ACLs they name). */
static char *block_hub_conf_x(bool accept, const char *sites_extra)
{
    static const char add[] =
        "crypto ikev2 keyring KR\n"
        " peer SPOKES\n"
        "  address 0.0.0.0 0.0.0.0\n"
        "  pre-shared-key spokekey\n"
        "interface Loopback1\n"
        " ip address 10.1.255.1 255.255.255.0\n"
        "crypto ikev2 authorization policy SITES\n"
        " route set interface Loopback1\n";
    char *b = malloc(8192);
    const char *at = strstr(hub_conf, " virtual-template 1\n");
    const char *prof = strstr(hub_conf, "crypto ikev2 profile RA\n");
    assert_non_null(b);
    snprintf(b, 8192, "%.*s%s%s%s%.*s authentication remote pre-share\n keyring local KR\n"
             " aaa authorization group psk list RA-AUTHOR SITES\n%s",
             (int)(prof - hub_conf), hub_conf, add, accept ? " route accept any\n" : "", sites_extra,
             (int)(at - prof), prof, at);
    return b;
}

/* Spoke i: PSK, announces 10.2.i.0/24 (its LAN) with `route set interface`;
 * with wrong_net it announces 10.3.0.0/16 instead, which is not its to ask. */
static char *spoke_conf(int i, bool wrong_net)
{
    char *b = malloc(4096);
    assert_non_null(b);
    snprintf(b, 4096,
             "hostname spoke%d\n"
             "aaa new-model\n"
             "aaa authorization network L local\n"
             "interface GigabitEthernet2\n"
             " ip address %s 255.255.%s\n"
             "crypto ikev2 authorization policy SPOKE\n"
             " route set interface GigabitEthernet2\n"
             "crypto ikev2 proposal P1\n"
             " encryption aes-cbc-256\n integrity sha256\n prf sha256\n group 19\n"
             "crypto ikev2 policy POL1\n proposal P1\n"
             "crypto ikev2 profile SITE\n"
             " match identity remote address 192.0.2.2 255.255.255.255\n"
             " identity local fqdn spoke%d.example\n"
             " authentication local pre-share key spokekey\n"
             " authentication remote pre-share key hubkey\n"
             " aaa authorization group psk list L SPOKE\n"
             "crypto ipsec transform-set TS esp-aes 256 esp-sha256-hmac\n"
             "crypto ipsec profile IPP\n set transform-set TS\n set ikev2-profile SITE\n",
             i, wrong_net ? "10.3.0.1" : (i == 1 ? "10.2.1.1" : "10.2.2.1"), wrong_net ? "0.0" : "255.0", i);
    return b;
}

/* A spoke's VTI proposal: any to any (IOS), or its LAN when narrow. */
static vpn_ikev2_policy spoke_policy(const char *local)
{
    return ts_policy(local, "0.0.0.0/0", 0, 5);
}

/* The hub's CHILD_UP for IKE SA peer address addr: its remote selector. */
static const vpn_ikev2_selector *hub_child_ts(tp_net *n, const char *addr)
{
    vpn_addr a;
    assert_int_equal(vpn_addr_parse(&a, addr), 0);
    for (int k = 0; k < 16; k++) {
        int e = tp_find_ev(&n->node[0], VPN_IKEV2_EV_CHILD_UP, k);
        if (e < 0)
            break;
        if (vpn_addr_eq(&n->node[0].ev[e].child.remote.addr, &a)) {
            assert_int_equal(n->node[0].ev[e].child.n_ts_remote, 1);
            return &n->node[0].ev[e].child.ts_remote[0];
        }
    }
    fail_msg("no CHILD_SA with %s at the hub", addr);
    return NULL;
}

static void block_run_x(tp_net *n, bool accept, bool wrong_net, const char *spoke1_local, const char *sites_extra)
{
    char *h = block_hub_conf_x(accept, sites_extra), *s1 = spoke_conf(1, wrong_net), *s2 = spoke_conf(2, false),
         *u = client_conf("alice", "Secr3t!", "mschapv2");
    tp_init(n);
    /* node 0 the hub here: every other node initiates to it */
    tp_add(n, h, "192.0.2.2", "hub");
    tp_add(n, s1, "192.0.2.11", "spoke1");
    tp_add(n, s2, "192.0.2.12", "spoke2");
    tp_add(n, u, "192.0.2.1", "client");
    free(h);
    free(s1);
    free(s2);
    free(u);
    add_hub_policy(n, 0);
    vpn_ikev2_policy p1 = spoke_policy(spoke1_local), p2 = spoke_policy("0.0.0.0/0"), pu = client_policy();
    uint32_t id;
    assert_int_equal(vpn_ikev2_initiate(n->node[1].ctx, n->now, &n->node[1].ep, &n->node[0].ep, &p1, &id), 0);
    assert_int_equal(vpn_ikev2_initiate(n->node[2].ctx, n->now, &n->node[2].ep, &n->node[0].ep, &p2, &id), 0);
    assert_int_equal(vpn_ikev2_initiate(n->node[3].ctx, n->now, &n->node[3].ep, &n->node[0].ep, &pu, &id), 0);
    tp_run_for(n, 3);
    for (int k = 1; k <= 3; k++)
        assert_int_equal(tp_count_ev(&n->node[k], VPN_IKEV2_EV_CHILD_UP), 1);
    assert_int_equal(tp_count_ev(&n->node[0], VPN_IKEV2_EV_IKE_UP), 3);
}

static void block_run(tp_net *n, bool accept, bool wrong_net, const char *spoke1_local)
{
    block_run_x(n, accept, wrong_net, spoke1_local, "");
}

/* The routes node k's first IKE SA learnt from the hub's CFG_REPLY. */
static int learnt_routes(tp_net *n, int k, vpn_prefix *out, size_t cap)
{
    int e = tp_find_ev(&n->node[k], VPN_IKEV2_EV_IKE_UP, 0);
    assert_true(e >= 0);
    return vpn_ikev2_sa_routes(n->node[k].ctx, n->node[k].ev[e].ike_sa_id, out, cap);
}

/* RFC 7296 3.15.1: the spoke (PSK initiator) and the user (EAP) take the
 * hub's INTERNAL_IP4_SUBNET values as routes into the tunnel; the hub, which
 * sent them, has none to take. */
static void test_spoke_routes_from_reply(void **state)
{
    (void)state;
    tp_net n;
    char a[VPN_ADDR_STRLEN];
    vpn_prefix r[4];
    block_run(&n, true, false, "0.0.0.0/0");
    assert_int_equal(learnt_routes(&n, 1, r, 4), 1);
    assert_string_equal(vpn_addr_str(&r[0].addr, a, sizeof a), "10.1.255.0");
    assert_int_equal(r[0].len, 24);
    assert_int_equal(learnt_routes(&n, 2, r, 4), 1);
    /* the user: RA-POL's split tunnel */
    assert_int_equal(learnt_routes(&n, 3, r, 4), 1);
    assert_string_equal(vpn_addr_str(&r[0].addr, a, sizeof a), "10.1.0.0");
    assert_int_equal(r[0].len, 16);
    /* the hub sent the replies */
    vpn_ikev2_sa_info hi;
    assert_int_equal(vpn_ikev2_sa_get(n.node[0].ctx, 0, &hi), 0);
    assert_int_equal(vpn_ikev2_sa_routes(n.node[0].ctx, hi.id, r, 4), VPN_ERR_STATE);
    assert_int_equal(vpn_ikev2_sa_routes(n.node[1].ctx, 999, r, 4), VPN_ERR_NOTFOUND);
    assert_int_equal(vpn_ikev2_sa_routes(n.node[1].ctx, 1, NULL, 4), VPN_ERR_INVAL);
    tp_free(&n);
}

/* A reply naming the hub's own outer network (192.0.2.0/24 holds 192.0.2.2:
 * routing it into the tunnel would carry IKE and ESP into themselves), the
 * same network twice and more than the caller holds: the first is left
 * out, the second given once, the count says how many there are. */
static void test_spoke_routes_hostile_reply(void **state)
{
    (void)state;
    tp_net n;
    char a[VPN_ADDR_STRLEN];
    vpn_prefix r[4];
    block_run_x(&n, true, false, "0.0.0.0/0",
                " route set access-list HOSTILE\n"
                "ip access-list standard HOSTILE\n"
                " permit 10.1.255.0 0.0.0.255\n"
                " permit 192.0.2.0 0.0.0.255\n"
                " permit 0.0.0.0 255.255.255.255\n"
                " permit 10.7.0.0 0.0.255.255\n");
    vpn_ikev2_sa_info hi;
    bool seen = false;
    for (size_t k = 0; vpn_ikev2_sa_get(n.node[0].ctx, k, &hi) == 0; k++)
        if (strcmp(hi.id_remote.text, "spoke1.example") == 0) {
            seen = true;
            assert_int_equal(hi.cfg->n_subnets, 5); /* all of it went out */
        }
    assert_true(seen);
    assert_int_equal(learnt_routes(&n, 1, r, 4), 2);
    assert_string_equal(vpn_addr_str(&r[0].addr, a, sizeof a), "10.1.255.0");
    assert_string_equal(vpn_addr_str(&r[1].addr, a, sizeof a), "10.7.0.0");
    assert_int_equal(r[1].len, 16);
    /* a short array: the count still says 2, one written */
    memset(r, 0, sizeof r);
    assert_int_equal(learnt_routes(&n, 1, r, 1), 2);
    assert_string_equal(vpn_addr_str(&r[0].addr, a, sizeof a), "10.1.255.0");
    assert_int_equal(r[1].addr.family, 0);
    assert_int_equal(learnt_routes(&n, 1, NULL, 0), 2);
    tp_free(&n);
}

/* One profile and Virtual-Template for both kinds of peer: the EAP user
 * gets a pool address and a selector of that address, each spoke (PSK,
 * any/any proposed) a selector of the network it announced in its
 * CFG_REQUEST, and no pool address. */
static void test_hub_block_sites_and_users(void **state)
{
    (void)state;
    tp_net n;
    char a[VPN_ADDR_STRLEN];
    block_run(&n, true, false, "0.0.0.0/0");
    const vpn_ikev2_selector *t1 = hub_child_ts(&n, "192.0.2.11"), *t2 = hub_child_ts(&n, "192.0.2.12"),
                             *tu = hub_child_ts(&n, "192.0.2.1");
    assert_string_equal(vpn_addr_str(&t1->addr_lo, a, sizeof a), "10.2.1.0");
    assert_string_equal(vpn_addr_str(&t1->addr_hi, a, sizeof a), "10.2.1.255");
    assert_string_equal(vpn_addr_str(&t2->addr_lo, a, sizeof a), "10.2.2.0");
    assert_string_equal(vpn_addr_str(&t2->addr_hi, a, sizeof a), "10.2.2.255");
    assert_string_equal(vpn_addr_str(&tu->addr_lo, a, sizeof a), "10.99.0.10");
    assert_string_equal(vpn_addr_str(&tu->addr_hi, a, sizeof a), "10.99.0.10");
    /* the spokes' side: their local selector narrowed to their LAN */
    int e = tp_find_ev(&n.node[1], VPN_IKEV2_EV_CHILD_UP, 0);
    assert_string_equal(vpn_addr_str(&n.node[1].ev[e].child.ts_local[0].addr_lo, a, sizeof a), "10.2.1.0");
    /* one pool address in use: the user's */
    pool_line_at(&n, 0, " RA-POOL                  10.99.0.10      10.99.0.11          1       1\n");
    /* the hub answered the spoke's CFG_REQUEST with its own networks */
    vpn_ikev2_sa_info hi;
    bool seen = false;
    for (size_t k = 0; vpn_ikev2_sa_get(n.node[0].ctx, k, &hi) == 0; k++) {
        if (strcmp(hi.id_remote.text, "spoke1.example") != 0)
            continue;
        seen = true;
        assert_non_null(hi.cfg);
        assert_int_equal(hi.cfg->address.family, 0);
        assert_int_equal(hi.cfg->n_subnets, 1);
        assert_string_equal(vpn_addr_str(&hi.cfg->subnets[0].addr, a, sizeof a), "10.1.255.0");
    }
    assert_true(seen);
    tp_free(&n);
}

/* Without `route accept any` the hub keeps what the spoke proposed; a
 * spoke announcing a network outside its proposal is not narrowed to it
 * (RFC 7296 2.9: the responder only narrows). */
static void test_hub_block_no_accept(void **state)
{
    (void)state;
    tp_net n;
    char a[VPN_ADDR_STRLEN];
    block_run(&n, false, false, "0.0.0.0/0");
    const vpn_ikev2_selector *t1 = hub_child_ts(&n, "192.0.2.11");
    assert_string_equal(vpn_addr_str(&t1->addr_lo, a, sizeof a), "0.0.0.0");
    assert_string_equal(vpn_addr_str(&t1->addr_hi, a, sizeof a), "255.255.255.255");
    tp_free(&n);
    /* proposes 10.2.1.0/24, announces 10.3.0.0/16: stays at its proposal */
    block_run(&n, true, true, "10.2.1.0/24");
    t1 = hub_child_ts(&n, "192.0.2.11");
    assert_string_equal(vpn_addr_str(&t1->addr_lo, a, sizeof a), "10.2.1.0");
    assert_string_equal(vpn_addr_str(&t1->addr_hi, a, sizeof a), "10.2.1.255");
    tp_free(&n);
}

/* A backend that leaves the profile to the local database on the first
 * step (a profile without a RADIUS list, VPN_IKEV2_EAP_LOCAL): the
 * conversation runs on the `username` lines and the backend hears no more. */
static int local_step(void *user, uint32_t sa, const char *profile, const char *identity, const uint8_t *msg,
                      size_t len, vpn_eap_answer *a)
{
    unsigned *calls = user;
    (void)sa;
    (void)profile;
    (void)identity;
    (void)len;
    (void)a;
    (*calls)++;
    return msg == NULL ? VPN_IKEV2_EAP_LOCAL : VPN_ERR_STATE;
}

static void test_backend_leaves_local(void **state)
{
    (void)state;
    tp_net n;
    unsigned calls = 0;
    vpn_ikev2_eap_backend be = {local_step, &calls};
    vpn_ikev2_sa_info ib;
    two_backend(&n, "alice", "Secr3t!", &be);
    tp_run_for(&n, 2);
    assert_int_equal(calls, 1);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_IKE_UP), 1);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_IKE_UP), 1);
    sa0(&n, 1, &ib);
    assert_string_equal(ib.eap_identity, "alice");
    tp_free(&n);
}

/* The client (node 0) proposes IPv4 and IPv6 selectors (::/0 beside its
 * IPv4 ones) and asks for an address of each family; the hub's (node 1)
 * grant and template leave no family in common: the IKE SA comes up, the
 * CHILD_SA is refused with TS_UNACCEPTABLE on both sides (none installed
 * anywhere), the client deletes the IKE SA, and pool `pool` (the hub's
 * pool number pool_idx) has nothing in use. */
static void dual_stack_child_refused(tp_net *n, size_t pool_idx, const char *pool)
{
    vpn_ikev2_policy pc = client_policy();
    pc.ts_local[1] = sel("::/0", 0);
    pc.ts_remote[1] = sel("2001:db8:1::/48", 0);
    pc.n_ts_local = pc.n_ts_remote = 2;
    initiate(n, &pc);
    tp_run_for(n, 2);
    assert_int_equal(tp_count_ev(&n->node[1], VPN_IKEV2_EV_IKE_UP), 1);
    assert_int_equal(tp_count_ev(&n->node[1], VPN_IKEV2_EV_CHILD_UP), 0);
    assert_int_equal(tp_count_ev(&n->node[0], VPN_IKEV2_EV_CHILD_UP), 0);
    int fb = tp_find_ev(&n->node[1], VPN_IKEV2_EV_FAILED, 0), fa = tp_find_ev(&n->node[0], VPN_IKEV2_EV_FAILED, 0);
    assert_true(fb >= 0);
    assert_true(fa >= 0);
    assert_int_equal(n->node[1].ev[fb].reason, VPN_IKEV2_R_TS_UNACCEPTABLE);
    assert_int_equal(n->node[0].ev[fa].notify, VPN_IKEV2_N_TS_UNACCEPTABLE);
    /* the client names the refusal too (the reason table), not "peer error" */
    assert_int_equal(n->node[0].ev[fa].reason, VPN_IKEV2_R_TS_UNACCEPTABLE);
    assert_int_equal(vpn_ikev2_sa_count(n->node[1].ctx), 0);
    vpn_ikev2_pool_info pi;
    assert_int_equal(vpn_ikev2_pool_get(n->node[1].ctx, pool_idx, &pi), 0);
    assert_string_equal(pi.name, pool);
    assert_int_equal(pi.in_use, 0);
}

/* RFC 7296 2.9, 3.15: a hub whose policy hands out only an IPv6 address
 * (`ipv6 pool`, no `pool`) to a user whose selectors, after the hub's
 * template (0.0.0.0/0 only), carry no IPv6: the CHILD_SA is refused with
 * TS_UNACCEPTABLE rather than keeping the template's 0.0.0.0/0 (the user
 * could then send from any IPv4 source through the hub, and the hub's
 * IPv4 traffic would be drawn into that CHILD_SA). The IKE SA stays. */
static void test_ipv6_only_grant_ipv4_selectors(void **state)
{
    (void)state;
    tp_net n;
    char *h = malloc(8192), *c = client_conf("alice", "Secr3t!", "mschapv2");
    const char *pol = strstr(hub_conf, "crypto ikev2 proposal P1\n");
    const char *ap = strstr(hub_conf, "crypto ikev2 authorization policy RA-POL\n");
    assert_non_null(h);
    assert_non_null(pol);
    assert_non_null(ap);
    /* RA-POL without its IPv4 `pool`: an `ipv6 pool` only */
    snprintf(h, 8192, "%.*sipv6 local pool V6 2001:db8:99::/126 128\n%.*s ipv6 pool V6\n%s",
             (int)(ap - hub_conf), hub_conf, (int)(pol - ap), ap, pol);
    char *pl = strstr(h, " pool RA-POOL\n");
    assert_non_null(pl);
    memmove(pl, pl + strlen(" pool RA-POOL\n"), strlen(pl + strlen(" pool RA-POOL\n")) + 1);
    tp_init(&n);
    tp_add(&n, c, "192.0.2.1", "client");
    tp_add(&n, h, "192.0.2.2", "hub");
    free(c);
    free(h);
    add_hub_policy(&n, 1); /* TSi template: 0.0.0.0/0 only */
    /* the client's selectors carry IPv6 too: it asks for an IPv6 address */
    /* the IKE SA comes up (the hub granted the IPv6 address), no CHILD_SA
     * (nothing IPv4-wide installed); the client then deletes the IKE SA
     * (ikev2-auth.c) and the IPv6 address goes back to the pool */
    dual_stack_child_refused(&n, 1, "V6");
    {
        /* show ip local pool: the IPv6 pool's bounds (::0 never given) */
        static char out[4096];
        vpn_show_buf sb;
        vpn_show_init(&sb, out, sizeof out);
        assert_int_equal(vpn_show_ip_local_pool(n.node[1].ctx, &sb), 0);
        assert_non_null(strstr(out, " V6                       2001:db8:99::1  2001:db8:99::3      3       0\n"));
    }
    tp_free(&n);
}

/* The mirror case: an IPv4-only grant (no `ipv6 pool`) to a user whose
 * selectors after the hub's template (::/0 only) carry no IPv4. The /32
 * is not within what is left of the proposal (2.9: the responder's TSi is
 * a subset of the initiator's), and the IPv6 ::/0 is not the user's to
 * keep (3.15.4): the CHILD_SA is refused with TS_UNACCEPTABLE. */
static void test_ipv4_only_grant_ipv6_selectors(void **state)
{
    (void)state;
    tp_net n;
    char *c = client_conf("alice", "Secr3t!", "mschapv2");
    tp_init(&n);
    tp_add(&n, c, "192.0.2.1", "client");
    tp_add(&n, hub_conf, "192.0.2.2", "hub");
    free(c);
    vpn_ikev2_policy hp = ts_policy("10.1.0.0/16", "::/0", 0, 9); /* TSi template: ::/0 only */
    assert_int_equal(vpn_ikev2_policy_add(n.node[1].ctx, &hp), 0);
    /* the IPv4 address went back with the IKE SA the client deleted */
    dual_stack_child_refused(&n, 0, "RA-POOL");
    tp_free(&n);
}

/* ---- the initiator's CHILD_SA offer across the EAP rounds (issue 14) ----
 * ikev2_sa.ra_creq (4.5 KB) is allocated only for an EAP initiator's
 * IKE_AUTH rounds and released when they end, however they end. */

/* Whether the client's IKE SA id holds its offer (false: no such SA). */
static bool offer_held(const tp_node *nd, uint32_t id)
{
    for (size_t i = 0; i < nd->ctx->n_sa; i++)
        if (nd->ctx->sa[i]->id == id)
            return nd->ctx->sa[i]->ra_creq != NULL;
    return false;
}

/* Every IKE_AUTH request the client (node 0) sends: its offer is held. */
typedef struct offer_watch {
    uint32_t sa_id;
    unsigned auth_req, held;
    unsigned drop_from; /* hub's IKE_AUTH responses from this one on are lost (0: none) */
    unsigned auth_resp;
} offer_watch;

static bool watch_offer(tp_net *n, tp_dgram *d, void *user)
{
    offer_watch *w = user;
    if (tp_exchange(d) != VPN_IKEV2_IKE_AUTH)
        return true;
    if (d->from == 0 && !tp_is_response(d)) {
        w->auth_req++;
        w->held += offer_held(&n->node[0], w->sa_id);
        return true;
    }
    if (d->from == 1 && tp_is_response(d)) {
        w->auth_resp++;
        return w->drop_from == 0 || w->auth_resp < w->drop_from;
    }
    return true;
}

/* Refused: the client's SA goes down with reason INTERNAL, counted once,
 * nothing sent for IKE_AUTH; the engine then brings the next one up. */
static void test_ra_offer_refused(void **state)
{
    (void)state;
    tp_net n;
    vpn_ikev2_params p;
    vpn_ikev2_stats st;
    tu_switch g = {.refuse = true, .size = sizeof(ikev2_child_req)};
    offer_watch w;
    char *c = client_conf("alice", "Secr3t!", "mschapv2");
    vpn_ikev2_policy pc = client_policy();
    uint32_t id = 0;

    tp_init(&n);
    tp_node *cl = tp_prepare(&n, c, "192.0.2.1", "client", &p);
    p.alloc.allow = tu_switch_allow;
    p.alloc.user = &g;
    assert_int_equal(vpn_ikev2_ctx_new(&cl->ctx, &p), 0);
    tp_add(&n, hub_conf, "192.0.2.2", "hub");
    free(c);
    add_hub_policy(&n, 1);
    memset(&w, 0, sizeof w);
    n.hook = watch_offer;
    n.hook_user = &w;
    id = initiate(&n, &pc);
    tp_run_for(&n, 2);
    assert_int_equal(g.refused, 1);
    assert_int_equal(w.auth_req, 0);
    int f = tp_find_ev(&n.node[0], VPN_IKEV2_EV_FAILED, 0);
    assert_true(f >= 0);
    assert_int_equal(n.node[0].ev[f].ike_sa_id, id);
    assert_int_equal(n.node[0].ev[f].reason, VPN_IKEV2_R_INTERNAL);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_IKE_UP), 0);
    vpn_ikev2_stats_get(n.node[0].ctx, &st);
    assert_int_equal(st.internal_errors, 1);
    assert_int_equal(vpn_ikev2_sa_count(n.node[0].ctx), 0);
    /* the hub's half-open SA times out (RFC 7296 2.6 aside, nothing owed) */
    tp_run_for(&n, 60);
    assert_int_equal(vpn_ikev2_sa_count(n.node[1].ctx), 0);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_IKE_UP), 0);
    /* memory back: the same engine brings the user up, the offer released */
    g.refuse = false;
    memset(&w, 0, sizeof w);
    w.sa_id = id = initiate(&n, &pc);
    tp_run_for(&n, 2);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_IKE_UP), 1);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_IKE_UP), 1);
    assert_int_equal(w.auth_req, 5); /* first, Identity, MSCHAPv2 response, success ack, AUTH */
    assert_int_equal(w.held, 5);
    assert_false(offer_held(&n.node[0], id));
    tp_free(&n);
}

/* A whole EAP exchange: the offer is held for every IKE_AUTH request and
 * released once the final response is read (the SA up), and stays
 * released through an IKE SA rekey and the delete; the ASan twin checks
 * that nothing leaks. */
static void test_ra_offer_released(void **state)
{
    (void)state;
    tp_net n;
    offer_watch w;
    vpn_ikev2_sa_info si;
    vpn_ikev2_policy pc = client_policy();

    two(&n, "alice", "Secr3t!", "mschapv2");
    memset(&w, 0, sizeof w);
    n.hook = watch_offer;
    n.hook_user = &w;
    w.sa_id = initiate(&n, &pc);
    assert_false(offer_held(&n.node[0], w.sa_id)); /* IKE_SA_INIT out: not yet */
    tp_run_for(&n, 2);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP), 1);
    assert_int_equal(w.auth_req, 5); /* first, Identity, MSCHAPv2 response, success ack, AUTH */
    assert_int_equal(w.held, 5);
    assert_false(offer_held(&n.node[0], w.sa_id));
    assert_int_equal(vpn_ikev2_ike_rekey(n.node[0].ctx, n.now, w.sa_id), 0);
    tp_run_for(&n, 2);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_IKE_REKEYED), 1);
    sa0(&n, 0, &si);
    assert_false(offer_held(&n.node[0], si.id));
    assert_int_equal(vpn_ikev2_delete(n.node[0].ctx, n.now, si.id), 0);
    tp_run_for(&n, 2);
    assert_int_equal(vpn_ikev2_sa_count(n.node[0].ctx), 0);
    tp_free(&n);
}

/* The SA ends mid-EAP, holding its offer: the hub goes silent after its
 * second IKE_AUTH response and the client gives up (TIMEOUT); another
 * client's engine is deleted with its SA mid-EAP. The ASan twin fails if
 * either leaves the offer behind. */
static void test_ra_offer_teardown_mid_eap(void **state)
{
    (void)state;
    tp_net n;
    offer_watch w;
    vpn_ikev2_policy pc = client_policy();

    two(&n, "alice", "Secr3t!", "mschapv2");
    memset(&w, 0, sizeof w);
    w.drop_from = 3;
    n.hook = watch_offer;
    n.hook_user = &w;
    w.sa_id = initiate(&n, &pc);
    tp_run_for(&n, 1);
    assert_true(w.auth_req >= 3);
    assert_true(offer_held(&n.node[0], w.sa_id));
    tp_run_for(&n, 600);
    int f = tp_find_ev(&n.node[0], VPN_IKEV2_EV_FAILED, 0);
    assert_true(f >= 0);
    assert_int_equal(n.node[0].ev[f].reason, VPN_IKEV2_R_TIMEOUT);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_IKE_UP), 0);
    assert_int_equal(vpn_ikev2_sa_count(n.node[0].ctx), 0);
    assert_int_equal(w.held, w.auth_req); /* the retransmissions held it too */
    tp_free(&n);

    /* the engine deleted while the SA waits for the hub's second answer */
    two(&n, "alice", "Secr3t!", "mschapv2");
    memset(&w, 0, sizeof w);
    w.drop_from = 2;
    n.hook = watch_offer;
    n.hook_user = &w;
    w.sa_id = initiate(&n, &pc);
    tp_run_for(&n, 1);
    assert_true(offer_held(&n.node[0], w.sa_id));
    assert_int_equal(vpn_ikev2_sa_count(n.node[0].ctx), 1);
    tp_free(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mschapv2_cp),
        cmocka_unit_test(test_md5_and_gtc),
        cmocka_unit_test(test_wrong_password),
        cmocka_unit_test(test_pool_exhaustion),
        cmocka_unit_test(test_pool_full_refuses),
        cmocka_unit_test(test_backend_answers_later),
        cmocka_unit_test(test_backend_leaves_local),
        cmocka_unit_test(test_backend_authorizes),
        cmocka_unit_test(test_hub_block_sites_and_users),
        cmocka_unit_test(test_hub_block_no_accept),
        cmocka_unit_test(test_spoke_routes_from_reply),
        cmocka_unit_test(test_ipv6_cp),
        cmocka_unit_test(test_ipv6_cp_no_pool),
        cmocka_unit_test(test_spoke_routes_hostile_reply),
        cmocka_unit_test(test_ipv6_only_grant_ipv4_selectors),
        cmocka_unit_test(test_ipv4_only_grant_ipv6_selectors),
        cmocka_unit_test(test_ra_offer_refused),
        cmocka_unit_test(test_ra_offer_released),
        cmocka_unit_test(test_ra_offer_teardown_mid_eap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
