#include "pkt-build.h"

#include <string.h>

#include "common/vpn-err.h"
#include "common/wire.h"
#include "crypto/cipher.h"
#include "crypto/integ.h"
#include "ipsec/ip.h"
#include "test-util.h"

vpn_addr tu_addr(const char *s)
{
    vpn_addr a;
    if (vpn_addr_parse(&a, s) != 0)
        fail_msg("bad address in test: %s", s);
    return a;
}

static uint32_t sum16(const uint8_t *p, size_t n)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    return s;
}

size_t tu_build_udp(uint8_t *out, size_t cap, const vpn_addr *src, const vpn_addr *dst,
                    uint16_t sport, uint16_t dport, uint8_t tos, const uint8_t *payload,
                    size_t n)
{
    vpn_ip_hdr h;
    size_t hl = vpn_ip_hdr_len(src->family), alen = vpn_addr_len(src);
    uint8_t *u = out + hl;
    uint32_t s;

    if (hl + 8 + n > cap)
        fail_msg("test buffer too small");
    memset(&h, 0, sizeof h);
    h.src = *src;
    h.dst = *dst;
    h.proto = VPN_IPPROTO_UDP;
    h.tos = tos;
    h.ttl = 64;
    h.id = 0x1234;
    assert_int_equal(vpn_ip_hdr_write(out, &h, 8 + n), 0);
    vpn_store16(u, sport);
    vpn_store16(u + 2, dport);
    vpn_store16(u + 4, (uint16_t)(8 + n));
    vpn_store16(u + 6, 0);
    memcpy(u + 8, payload, n);
    /* Pseudo-header: addresses, protocol, UDP length (RFC 768, RFC 8200 8.1). */
    s = sum16(src->b, alen) + sum16(dst->b, alen) + 17 + (uint32_t)(8 + n) + sum16(u, 8 + n);
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    s = ~s & 0xffff;
    vpn_store16(u + 6, s ? (uint16_t)s : 0xffff);
    return hl + 8 + n;
}

void tu_fill(uint8_t *p, size_t n, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)x;
    }
}

static int tu_rng_fill(void *ctx, uint8_t *out, size_t len)
{
    tu_rng *st = ctx;
    uint32_t call = st->calls++;

    if (st->script && call == st->skip) {
        if (len != st->script_len)
            fail_msg("scripted RNG: asked for %zu bytes, script has %zu", len, st->script_len);
        memcpy(out, st->script, len);
        return 0;
    }
    tu_fill(out, len, ++st->counter);
    return 0;
}

void tu_rng_init(vpn_rng *rng, tu_rng *st)
{
    memset(st, 0, sizeof *st);
    rng->fill = tu_rng_fill;
    rng->ctx = st;
}

void tu_esp_sa_keys(vpn_sa_config *c, const tu_esp_alg *a, uint8_t *ekey, uint8_t *ikey,
                    uint32_t seed)
{
    const vpn_cipher_info *ci;
    const vpn_integ_info *ii = NULL;

    assert_int_equal(vpn_cipher_lookup(a->encr, a->bits, &ci), 0);
    if (a->integ)
        assert_int_equal(vpn_integ_lookup(a->integ, &ii), 0);
    c->encr_id = a->encr;
    c->encr_key_bits = a->bits;
    tu_fill(ekey, 64, seed);
    tu_fill(ikey, 64, seed + 1);
    c->encr_key = ekey;
    c->encr_key_len = ci->key_len;
    c->integ_id = a->integ;
    c->integ_key = ii ? ikey : NULL;
    c->integ_key_len = ii ? ii->key_len : 0;
}
