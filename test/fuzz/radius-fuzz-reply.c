/*
 * libFuzzer target: RADIUS replies into the client (model/core/radius).
 * The input is a sequence of datagrams, each preceded by a one-octet
 * server index and a two-octet length. A conversation waits at both
 * servers' choice; every datagram goes to vpn_radius_parse,
 * vpn_radius_mppe_decrypt (its attribute area as an MPPE String) and
 * vpn_radius_input. A refused datagram must change nothing: no answer,
 * the same deadline. Replies almost never verify (the fuzzer cannot forge
 * MD5), so the codec and the matching are what is exercised; the
 * conversation paths are in test/core/radius-client-test.c.
 */
#include <stdlib.h>
#include <string.h>

#include "common/rng.h"
#include "common/vpn-err.h"
#include "radius/radius.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned answers;

static void on_send(void *u, size_t s, const uint8_t *dg, size_t len)
{
    vpn_radius_pkt p;
    (void)u;
    (void)s;
    /* what we send must parse as what it is */
    if (vpn_radius_parse(dg, len, &p) != 0 || p.code != VPN_RADIUS_ACCESS_REQUEST || p.len != len)
        abort();
}

static void on_answer(void *u, uint32_t h, const vpn_radius_result *r)
{
    (void)u;
    (void)h;
    if (r->eap.len > sizeof r->eap.msg || r->eap.msk_len > sizeof r->eap.msk || r->n_routes > VPN_RADIUS_ROUTES_MAX)
        abort();
    answers++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t id_resp[] = {2, 1, 0, 10, 1, 'a', 'l', 'i', 'c', 'e'};
    vpn_drbg drbg;
    vpn_radius_params p;
    vpn_radius_client *c = NULL;

    if (vpn_drbg_init(&drbg, "fz", 2) != 0)
        return 0;
    memset(&p, 0, sizeof p);
    p.n_servers = 2;
    vpn_addr_parse(&p.servers[0].addr, "10.0.0.1");
    vpn_addr_parse(&p.servers[1].addr, "10.0.0.2");
    p.servers[0].secret = "one";
    p.servers[1].secret = "two";
    vpn_rng_init_drbg(&p.rng, &drbg);
    p.send = on_send;
    p.answer = on_answer;
    if (vpn_radius_client_new(&c, &p) != 0 || vpn_radius_eap_send(c, 0, 1, "alice", id_resp, sizeof id_resp) != 0)
        abort();
    answers = 0;
    for (size_t i = 0; i + 3 <= size;) {
        size_t srv = data[i] % 2, l = (size_t)data[i + 1] << 8 | data[i + 2];
        vpn_radius_pkt pkt;
        uint8_t key[64];
        size_t kl;
        i += 3;
        if (l > size - i)
            l = size - i;
        if (vpn_radius_parse(data + i, l, &pkt) == 0) {
            if (pkt.len > l || pkt.attrs_len + 20 != pkt.len)
                abort();
            vpn_radius_mppe_decrypt(pkt.attrs, pkt.attrs_len, pkt.auth, (const uint8_t *)"one", 3, key, sizeof key,
                                    &kl);
        }
        uint64_t before = vpn_radius_deadline(c);
        unsigned a = answers;
        if (vpn_radius_input(c, 1, srv, data + i, l) != 0 && (answers != a || vpn_radius_deadline(c) != before))
            abort();
        i += l;
    }
    /* the timers still run to the end */
    for (int k = 0; k < 20 && vpn_radius_deadline(c) != UINT64_MAX; k++)
        vpn_radius_timeout(c, vpn_radius_deadline(c));
    if (vpn_radius_deadline(c) != UINT64_MAX)
        abort();
    vpn_radius_client_free(c);
    vpn_drbg_free(&drbg);
    return 0;
}
