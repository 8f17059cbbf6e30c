/* Builders for the inner packets the data-plane tests push through ESP and GRE. */
#ifndef VPN_TEST_PKT_BUILD_H
#define VPN_TEST_PKT_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"

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

#endif
