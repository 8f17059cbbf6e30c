/*
 * libFuzzer target for the NHRP codec (RFC 2332). An input either fails
 * to decode (then the decoded message is all zeroes), or decodes and then
 * re-encodes to a packet that decodes to the same message and whose
 * re-encoding is byte-identical (unknown optional extensions and link
 * padding are the only things a round trip may drop). The packet carried
 * in an Error Indication is decoded too, as a receiver would.
 * Every input also goes to a hub and a spoke engine (nhrp/nhrp.h), whose
 * state lives across inputs: nothing may crash, the cache stays within
 * its limit, and a packet that does not decode changes nothing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/wire.h"
#include "nhrp/nhrp-codec.h"
#include "nhrp/nhrp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                               \
    do {                                                                                          \
        if (!(cond))                                                                              \
            abort();                                                                              \
    } while (0)

static void same_cie(const vpn_nhrp_cie *a, const vpn_nhrp_cie *b)
{
    CHECK(a->code == b->code && a->prefix_len == b->prefix_len && a->mtu == b->mtu &&
          a->holding_time == b->holding_time && a->pref == b->pref);
    CHECK(a->nbma.family == b->nbma.family && a->proto.family == b->proto.family);
    CHECK(!a->nbma.family || vpn_addr_eq(&a->nbma, &b->nbma));
    CHECK(!a->proto.family || vpn_addr_eq(&a->proto, &b->proto));
}

static void same_msg(const vpn_nhrp_msg *a, const vpn_nhrp_msg *b)
{
    CHECK(a->type == b->type && a->hopcnt == b->hopcnt && a->afn == b->afn &&
          a->pro_type == b->pro_type && a->flags == b->flags && a->req_id == b->req_id &&
          a->err_code == b->err_code && a->err_offset == b->err_offset &&
          a->traffic_code == b->traffic_code && a->n_cie == b->n_cie);
    for (size_t i = 0; i < a->n_cie; i++)
        same_cie(&a->cie[i], &b->cie[i]);
    CHECK(a->payload_len == b->payload_len);
    CHECK(!a->payload_len || memcmp(a->payload, b->payload, a->payload_len) == 0);
    CHECK(a->has_ext == b->has_ext && a->has_responder == b->has_responder &&
          a->responder_set == b->responder_set && a->n_fwd == b->n_fwd && a->n_rev == b->n_rev);
    if (a->responder_set)
        same_cie(&a->responder, &b->responder);
    for (size_t i = 0; i < a->n_fwd; i++)
        same_cie(&a->fwd[i], &b->fwd[i]);
    for (size_t i = 0; i < a->n_rev; i++)
        same_cie(&a->rev[i], &b->rev[i]);
    CHECK(a->has_auth == b->has_auth && a->auth_spi == b->auth_spi && a->auth_len == b->auth_len);
    CHECK(!a->auth_len || memcmp(a->auth, b->auth, a->auth_len) == 0);
    CHECK(a->has_vendor == b->has_vendor && a->vendor_oui == b->vendor_oui &&
          a->vendor_len == b->vendor_len);
    CHECK(!a->vendor_len || memcmp(a->vendor, b->vendor, a->vendor_len) == 0);
}

static void drop(void *user, const vpn_addr *dst, const uint8_t *pkt, size_t len)
{
    vpn_nhrp_msg m;
    (void)user, (void)dst;
    /* Whatever the engines send must decode. */
    CHECK(vpn_nhrp_decode(pkt, len, &m, NULL) == 0);
}

static vpn_nhrp *engine(bool hub)
{
    vpn_nhrp_params p;
    vpn_nhrp *n = NULL;
    static vpn_nhrp_nhs_cfg nhs;
    memset(&p, 0, sizeof p);
    vpn_addr_v4(&p.nbma, hub ? 0xac100001u : 0xac100101u);  /* 172.16.0.1 / 172.16.1.1 */
    vpn_addr_v4(&p.proto, hub ? 0x0a0000feu : 0x0a000001u); /* 10.0.0.254 / 10.0.0.1 */
    if (!hub) {
        vpn_addr_v4(&nhs.proto, 0x0a0000feu);
        vpn_addr_v4(&nhs.nbma, 0xac100001u);
        p.nhs = &nhs;
        p.n_nhs = 1;
        p.shortcut = true;
    }
    p.nhs_role = hub;
    p.redirect = true;
    p.max_entries = 512;
    p.send = drop;
    CHECK(vpn_nhrp_new(&n, &p) == 0);
    return n;
}

static void feed_engines(const uint8_t *data, size_t size, bool decodes)
{
    static vpn_nhrp *hub, *spoke;
    static uint64_t now;
    vpn_addr src;
    if (!hub) {
        hub = engine(true);
        spoke = engine(false);
    }
    vpn_addr_v4(&src, 0xac100202u);
    now += 1000000000ull;
    vpn_nhrp *e[2] = {hub, spoke};
    for (int i = 0; i < 2; i++) {
        size_t before = vpn_nhrp_entry_count(e[i]);
        vpn_nhrp_stats st;
        vpn_nhrp_stats_get(e[i], &st);
        uint64_t malformed = st.malformed;
        int rc = vpn_nhrp_input(e[i], now, 0, &src, data, size);
        CHECK(rc <= 0);
        if (!decodes) {
            CHECK(rc < 0);
            CHECK(vpn_nhrp_entry_count(e[i]) == before);
            vpn_nhrp_stats_get(e[i], &st);
            CHECK(st.malformed == malformed + 1);
        }
        CHECK(vpn_nhrp_entry_count(e[i]) <= 512);
        vpn_nhrp_timeout(e[i], now);
        vpn_nhrp_forwarded(e[i], now, &src, 0, 0, data, size);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t out1[1 << 16], out2[1 << 16];
    static const vpn_nhrp_msg zero;
    vpn_nhrp_msg m, m2, inner;
    vpn_nhrp_perr pe;
    size_t n1 = 0, n2 = 0;

    if (vpn_nhrp_decode(data, size, &m, &pe) != 0) {
        CHECK(memcmp(&m, &zero, sizeof m) == 0);
        feed_engines(data, size, false);
        return 0;
    }
    feed_engines(data, size, true);
    CHECK(pe.code == 0);
    CHECK(vpn_nhrp_encode(&m, out1, sizeof out1, &n1) == 0);
    CHECK(n1 <= size);
    CHECK(vpn_nhrp_checksum(out1, n1) == 0);
    CHECK(vpn_nhrp_decode(out1, n1, &m2, NULL) == 0);
    same_msg(&m, &m2);
    CHECK(vpn_nhrp_encode(&m2, out2, sizeof out2, &n2) == 0);
    CHECK(n1 == n2 && memcmp(out1, out2, n1) == 0);
    if (m.type == VPN_NHRP_ERROR_IND)
        (void)vpn_nhrp_decode(m.payload, m.payload_len, &inner, &pe);
    return 0;
}
