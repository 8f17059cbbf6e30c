/*
 * libFuzzer target: the EAP methods and the configuration payload readers
 * of remote access (ikev2-eap.c, ikev2-cp.c). The first input byte picks
 * the path; the rest is a sequence of messages, each preceded by a
 * one-octet length:
 *
 *   0  each message into vpn_eap_parse
 *   1  each message into an MSCHAPv2 authenticator with query-identity
 *      (after its first Request), then the genuine conversation must
 *      still complete when the authenticator is still waiting for the
 *      Identity: hostile input never moves its state
 *   2  each message into an EAP peer accepting every method
 *   3  each message as the attribute list of a CFG_REQUEST and a CFG_REPLY
 *      (IPv4 and IPv6 attributes, RFC 7296 3.15.1); what parses is built
 *      again and must read back the same
 *
 * Every message either side builds must parse again.
 */
#include <stdlib.h>
#include <string.h>

#include "common/rng.h"
#include "common/vpn-err.h"
#include "ikev2/ikev2-codec.h"
#include "ikev2/ikev2-const.h"
#include "ikev2/ikev2-cp.h"
#include "ikev2/ikev2-eap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int db(void *u, const char *name, char *out, size_t cap)
{
    (void)u;
    if (strcmp(name, "alice") != 0 || cap < 6)
        return VPN_ERR_NOTFOUND;
    memcpy(out, "secret", 6);
    return 6;
}

static void check_answer(const vpn_eap_answer *a)
{
    vpn_eap_msg m;
    if (a->len > sizeof a->msg || a->msk_len > sizeof a->msk)
        abort();
    if (a->len && vpn_eap_parse(a->msg, a->len, &m) != 0)
        abort();
}

static void run_server(const uint8_t *d, size_t n)
{
    vpn_drbg drbg;
    vpn_eap_server *s = NULL;
    vpn_eap_server_params sp = {.methods = VPN_EAP_M_MSCHAPV2 | VPN_EAP_M_MD5 | VPN_EAP_M_GTC,
                                .query_identity = true, .password = db};
    vpn_eap_answer a, first;
    if (vpn_drbg_init(&drbg, "fz", 2) != 0)
        return;
    vpn_rng_init_drbg(&sp.rng, &drbg);
    if (vpn_eap_server_new(&s, &sp) != 0 || vpn_eap_server_start(s, &first) != 0)
        abort();
    bool moved = false;
    for (size_t i = 0; i < n;) {
        size_t l = d[i++];
        if (l > n - i)
            l = n - i;
        int rc = vpn_eap_server_process(s, d + i, l, &a);
        if (rc == 0) {
            check_answer(&a);
            moved = true;
        }
        i += l;
    }
    if (!moved) {
        /* Nothing was taken: the Identity Response still works. */
        uint8_t id[10] = {2, first.msg[1], 0, 10, 1, 'a', 'l', 'i', 'c', 'e'};
        if (vpn_eap_server_process(s, id, sizeof id, &a) != 0 || a.result != VPN_EAP_CONTINUE)
            abort();
        check_answer(&a);
    }
    vpn_eap_server_free(s);
    vpn_drbg_free(&drbg);
}

static void run_peer(const uint8_t *d, size_t n)
{
    vpn_drbg drbg;
    vpn_eap_peer *p = NULL;
    vpn_eap_peer_params pp = {.methods = VPN_EAP_M_MSCHAPV2 | VPN_EAP_M_MD5 | VPN_EAP_M_GTC,
                              .identity = "alice", .password = "secret"};
    vpn_eap_answer a;
    if (vpn_drbg_init(&drbg, "fz", 2) != 0)
        return;
    vpn_rng_init_drbg(&pp.rng, &drbg);
    if (vpn_eap_peer_new(&p, &pp) != 0)
        abort();
    for (size_t i = 0; i < n;) {
        size_t l = d[i++];
        if (l > n - i)
            l = n - i;
        if (vpn_eap_peer_process(p, d + i, l, &a) == 0)
            check_answer(&a);
        i += l;
    }
    vpn_eap_peer_free(p);
    vpn_drbg_free(&drbg);
}

/* A prefix as RFC 7296 3.15.1 can carry it: IPv4 up to /32, IPv6 up to /128. */
static bool prefix_ok(const vpn_prefix *p)
{
    return (p->addr.family == VPN_AF_INET && p->len <= 32) || (p->addr.family == VPN_AF_INET6 && p->len <= 128);
}

/* Builds a CP payload with build() and parses it back. */
static const vpn_ikev2_payload *rebuilt(uint8_t *buf, size_t cap, vpn_ikev2_msg *msg, int built, vpn_ikev2_bld *b)
{
    size_t len;
    if (built != 0 || vpn_ikev2_bld_finish(b, &len) != 0 || vpn_ikev2_msg_parse_inner(buf, len, b->first, msg) != 0)
        abort(); /* what we read we can always send again */
    (void)cap;
    return vpn_ikev2_msg_find(msg, VPN_IKEV2_PL_CP, NULL);
}

static void run_cp(const uint8_t *d, size_t n)
{
    vpn_ikev2_payload pl;
    memset(&pl, 0, sizeof pl);
    pl.type = VPN_IKEV2_PL_CP;
    pl.known = true;
    pl.u.cp.attrs.ptr = d;
    pl.u.cp.attrs.len = n;
    vpn_cp_request q, q2;
    vpn_cp_grant g, g2;
    uint8_t buf[4096];
    vpn_wr w;
    vpn_ikev2_bld b;
    vpn_ikev2_msg msg;
    pl.u.cp.type = VPN_IKEV2_CFG_REQUEST;
    if (vpn_cp_parse_request(&pl, &q) == 0) {
        if (q.has_hint && q.hint.family != VPN_AF_INET)
            abort();
        for (size_t i = 0; i < q.n_subnets; i++)
            if (!prefix_ok(&q.subnets[i]))
                abort();
        /* the announced networks of both families survive a round trip */
        vpn_wr_init(&w, buf, sizeof buf);
        if (vpn_ikev2_bld_init_inner(&b, &w) != 0)
            abort();
        const vpn_ikev2_payload *cp =
            rebuilt(buf, sizeof buf, &msg, vpn_cp_build_request_subnets(&b, q.subnets, q.n_subnets), &b);
        if (q.n_subnets > 0 && (cp == NULL || vpn_cp_parse_request(cp, &q2) != 0 || q2.n_subnets != q.n_subnets ||
                                memcmp(q2.subnets, q.subnets, q.n_subnets * sizeof q.subnets[0]) != 0))
            abort();
    }
    pl.u.cp.type = VPN_IKEV2_CFG_REPLY;
    if (vpn_cp_parse_reply(&pl, &g) == 0) {
        if (g.n_dns > VPN_CP_MAX_DNS || g.n_subnets > VPN_CP_MAX_SUBNETS || g.prefix6 > 128 ||
            (g.address6.family != VPN_AF_NONE && g.address6.family != VPN_AF_INET6))
            abort();
        for (size_t i = 0; i < g.n_subnets; i++)
            if (!prefix_ok(&g.subnets[i]))
                abort();
        /* a hub answering with what it read says the same again */
        vpn_cp_request all = {.ip4_address = true, .ip4_dns = true, .ip6_address = true, .ip6_dns = true};
        vpn_wr_init(&w, buf, sizeof buf);
        if (vpn_ikev2_bld_init_inner(&b, &w) != 0)
            abort();
        const vpn_ikev2_payload *cp = rebuilt(buf, sizeof buf, &msg, vpn_cp_build_reply(&b, &all, &g), &b);
        if (cp == NULL || vpn_cp_parse_reply(cp, &g2) != 0 || !vpn_addr_eq(&g2.address6, &g.address6) ||
            g2.prefix6 != g.prefix6 || g2.n_subnets != g.n_subnets || g2.n_dns != g.n_dns ||
            memcmp(g2.subnets, g.subnets, g.n_subnets * sizeof g.subnets[0]) != 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *d = data + 1;
    size_t n = size - 1;
    switch (data[0] % 4) {
    case 0: {
        vpn_eap_msg m;
        for (size_t i = 0; i < n;) {
            size_t l = d[i++];
            if (l > n - i)
                l = n - i;
            if (vpn_eap_parse(d + i, l, &m) == 0 && m.data_len > l)
                abort();
            i += l;
        }
        break;
    }
    case 1: run_server(d, n); break;
    case 2: run_peer(d, n); break;
    default: run_cp(d, n); break;
    }
    return 0;
}
