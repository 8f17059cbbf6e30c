/*
 * libFuzzer target: the attribute decoding of RADIUS replies
 * (model/core/radius). radius-fuzz-reply cannot get past the
 * authenticators, so here the harness plays the server: the input's first
 * octet picks the code (Access-Accept, -Challenge, -Reject), the rest is
 * the attribute area; the harness appends a Message-Authenticator and signs
 * the reply for the request the client sent (vpn_radius_sign), so the
 * client's reading of every attribute (EAP-Message, State, Framed-*,
 * Vendor-Specific with MPPE keys and Cisco AV-pairs) is what gets fuzzed.
 * The same octets also go raw through the attribute iterator as a packet
 * vpn_radius_parse never saw: every value must lie inside them and the
 * walk must end.
 */
#include <stdlib.h>
#include <string.h>

#include "common/rng.h"
#include "common/vpn-err.h"
#include "common/wire.h"
#include "radius/radius.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t req[VPN_RADIUS_MAX_LEN];
static size_t req_len;
static unsigned answers;

static void on_send(void *u, size_t s, const uint8_t *dg, size_t len)
{
    (void)u;
    (void)s;
    if (len > sizeof req)
        abort();
    memcpy(req, dg, len);
    req_len = len;
}

static void on_answer(void *u, uint32_t h, const vpn_radius_result *r)
{
    (void)u;
    if (h != 7 || r->eap.len > sizeof r->eap.msg || (r->eap.msk_len != 0 && r->eap.msk_len != VPN_EAP_MSK_LEN) ||
        r->n_routes > VPN_RADIUS_ROUTES_MAX || r->n_dns > VPN_RADIUS_DNS_MAX ||
        memchr(r->addr_pool, '\0', sizeof r->addr_pool) == NULL)
        abort();
    for (size_t i = 0; i < r->n_dns; i++)
        if (r->dns[i].family != VPN_AF_INET)
            abort();
    if (r->code != VPN_RADIUS_ACCESS_ACCEPT && r->eap.msk_len != 0)
        abort();
    answers++;
}

static void walk_raw(const uint8_t *data, size_t size)
{
    vpn_radius_pkt p;
    vpn_radius_iter it;
    uint8_t t;
    const uint8_t *v;
    size_t l, steps = 0;
    int rc;

    memset(&p, 0, sizeof p);
    p.attrs = data;
    p.attrs_len = size;
    vpn_radius_attr_first(&it, &p);
    while ((rc = vpn_radius_attr_next(&it, &t, &v, &l)) > 0) {
        if (v < data + 2 || v + l > data + size || ++steps > size / 2)
            abort();
    }
    if (rc != 0 && rc != VPN_ERR_MALFORMED && rc != VPN_ERR_TRUNCATED)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t id_resp[] = {2, 1, 0, 10, 1, 'a', 'l', 'i', 'c', 'e'};
    static const uint8_t codes[3] = {VPN_RADIUS_ACCESS_ACCEPT, VPN_RADIUS_ACCESS_CHALLENGE,
                                     VPN_RADIUS_ACCESS_REJECT};
    static uint8_t rep[VPN_RADIUS_MAX_LEN];
    const char *secret = "fuzz-secret";
    vpn_drbg drbg;
    vpn_radius_params p;
    vpn_radius_client *c = NULL;
    size_t n;

    if (size < 1)
        return 0;
    walk_raw(data + 1, size - 1);
    if (size - 1 > VPN_RADIUS_MAX_LEN - VPN_RADIUS_HDR_LEN - 18)
        return 0;
    if (vpn_drbg_init(&drbg, "fz", 2) != 0)
        return 0;
    memset(&p, 0, sizeof p);
    p.n_servers = 1;
    vpn_addr_parse(&p.servers[0].addr, "10.0.0.1");
    p.servers[0].secret = secret;
    vpn_rng_init_drbg(&p.rng, &drbg);
    p.send = on_send;
    p.answer = on_answer;
    req_len = 0;
    if (vpn_radius_client_new(&c, &p) != 0 || vpn_radius_eap_send(c, 0, 7, "alice", id_resp, sizeof id_resp) != 0 ||
        req_len < VPN_RADIUS_HDR_LEN)
        abort();
    /* the reply a server would send: header, the input, Message-Authenticator */
    rep[0] = codes[data[0] % 3];
    rep[1] = req[1];
    memcpy(rep + VPN_RADIUS_HDR_LEN, data + 1, size - 1);
    n = VPN_RADIUS_HDR_LEN + size - 1;
    rep[n] = VPN_RADIUS_A_MESSAGE_AUTHENTICATOR;
    rep[n + 1] = 18;
    memset(rep + n + 2, 0, 16);
    n += 18;
    vpn_store16(rep + 2, (uint16_t)n);
    memcpy(rep + 4, req + 4, VPN_RADIUS_AUTH_LEN);
    answers = 0;
    if (vpn_radius_sign(rep, n, req + 4, (const uint8_t *)secret, strlen(secret)) != 0) {
        /* attributes that do not frame: the client must refuse them too */
        if (vpn_radius_input(c, 1, 0, rep, n) == 0)
            abort();
    } else {
        uint64_t before = vpn_radius_deadline(c);
        int rc = vpn_radius_input(c, 1, 0, rep, n);
        if (rc == 0 ? answers != 1 : answers != 0 || vpn_radius_deadline(c) != before)
            abort();
    }
    if (answers != 0 && vpn_radius_deadline(c) != UINT64_MAX)
        abort();
    vpn_radius_end(c, 7);
    vpn_radius_client_free(c);
    vpn_drbg_free(&drbg);
    return 0;
}
