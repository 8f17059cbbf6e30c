/* Builders for the inner packets the data-plane tests push through ESP and GRE. */
#ifndef VPN_TEST_PKT_BUILD_H
#define VPN_TEST_PKT_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "ipsec/sa.h"

/* Parses an address or fails the test. */
vpn_addr tu_addr(const char *s);

/*
 * Writes an IPv4 or IPv6 (from the address family) UDP packet with valid
 * checksums into out (cap bytes); returns its length (fails the test if
 * cap is short). tos is the TOS / traffic class byte; ttl 64.
 */
size_t tu_build_udp(uint8_t *out, size_t cap, const vpn_addr *src, const vpn_addr *dst,
                    uint16_t sport, uint16_t dport, uint8_t tos, const uint8_t *payload,
                    size_t n);

/* Fills n bytes with a pattern that depends on seed (distinct payloads). */
void tu_fill(uint8_t *p, size_t n, uint32_t seed);

/*
 * A deterministic vpn_rng for tests: after `skip` calls that return a
 * counter pattern, the next call returns `script` (then patterns again).
 * Lets a test put a published vector's IV on a chosen packet.
 */
#include "common/rng.h"
typedef struct tu_rng {
    uint32_t calls;
    uint32_t skip;
    const uint8_t *script;
    size_t script_len;
    uint32_t counter;
} tu_rng;
void tu_rng_init(vpn_rng *rng, tu_rng *st);

/* An ESP transform as the drivers' algorithm tables list it. */
typedef struct tu_esp_alg {
    const char *name;
    uint16_t encr, bits, integ;
} tu_esp_alg;

/*
 * Sets c's transform to a, with the keys it needs written into ekey and
 * ikey (64 bytes each) from tu_fill(seed) and tu_fill(seed + 1); fails the
 * test if the cipher or the integrity algorithm is unknown.
 */
void tu_esp_sa_keys(vpn_sa_config *c, const tu_esp_alg *a, uint8_t *ekey, uint8_t *ikey,
                    uint32_t seed);

#endif
