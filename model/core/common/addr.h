/*
 * IP addresses and prefixes as the core passes them around: family plus 16
 * bytes in network order (IPv4 in the first 4). Parsing and printing are our
 * own so the core needs no socket headers.
 */
#ifndef VPN_ADDR_H
#define VPN_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { VPN_AF_NONE = 0, VPN_AF_INET = 4, VPN_AF_INET6 = 6 };

typedef struct vpn_addr {
    uint8_t family; /* VPN_AF_* */
    uint8_t b[16];
} vpn_addr;

typedef struct vpn_prefix {
    vpn_addr addr;
    uint8_t len; /* prefix length in bits */
} vpn_prefix;

#define VPN_ADDR_STRLEN 46

static inline size_t vpn_addr_len(const vpn_addr *a) { return a->family == VPN_AF_INET6 ? 16 : a->family == VPN_AF_INET ? 4 : 0; }

void vpn_addr_v4(vpn_addr *a, uint32_t host_order);
uint32_t vpn_addr_v4_u32(const vpn_addr *a);
/* From len (4 or 16) raw network-order bytes. Errors: VPN_ERR_INVAL. */
int vpn_addr_from_bytes(vpn_addr *a, const uint8_t *p, size_t len);

/*
 * Parses dotted-quad IPv4 or RFC 4291 2.2 IPv6 text (with "::", and an
 * embedded IPv4 tail). Errors: VPN_ERR_MALFORMED.
 */
int vpn_addr_parse(vpn_addr *a, const char *s);
/* Writes RFC 5952 text (IPv6 compressed) into buf of at least VPN_ADDR_STRLEN. */
const char *vpn_addr_str(const vpn_addr *a, char *buf, size_t len);

bool vpn_addr_eq(const vpn_addr *x, const vpn_addr *y);
bool vpn_addr_is_any(const vpn_addr *a);

/* "A.B.C.D/N", "X::/N", or a bare address (full length). Errors: VPN_ERR_MALFORMED. */
int vpn_prefix_parse(vpn_prefix *p, const char *s);
/*
 * IOS masks: a dotted mask (255.255.255.0) or a wildcard (0.0.0.255) to a
 * prefix length; non-contiguous masks are refused with VPN_ERR_MALFORMED.
 */
int vpn_mask_to_len(const vpn_addr *mask, bool wildcard, uint8_t *len);
void vpn_len_to_mask(uint8_t len, vpn_addr *mask);
/* True if a lies inside p (families must match). */
bool vpn_prefix_contains(const vpn_prefix *p, const vpn_addr *a);

#ifdef __cplusplus
}
#endif

#endif
