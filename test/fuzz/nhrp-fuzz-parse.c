/*
 * libFuzzer target for the NHRP codec (RFC 2332). An input either fails
 * to decode (then the decoded message is all zeroes), or decodes and then
 * re-encodes to a packet that decodes to the same message and whose
 * re-encoding is byte-identical (unknown optional extensions and link
 * padding are the only things a round trip may drop). The packet carried
 * in an Error Indication is decoded too, as a receiver would.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/wire.h"
#include "nhrp/nhrp-codec.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t out1[1 << 16], out2[1 << 16];
    static const vpn_nhrp_msg zero;
    vpn_nhrp_msg m, m2, inner;
    vpn_nhrp_perr pe;
    size_t n1 = 0, n2 = 0;

    if (vpn_nhrp_decode(data, size, &m, &pe) != 0) {
        CHECK(memcmp(&m, &zero, sizeof m) == 0);
        return 0;
    }
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
