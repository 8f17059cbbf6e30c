/*
 * Remote-access addressing for IKEv2: IOS's `ip local pool` and the
 * configuration payload (RFC 7296 3.15, 2.19).
 *
 * vpn_ippool hands out IPv4 addresses from a range, the lowest free first,
 * each tagged with an owner (the IKE SA id) so that an SA going away gives
 * its address back. vpn_cp_* read a CFG_REQUEST / CFG_REPLY and build the
 * CFG_REPLY an authorization policy gives (address, DNS servers, split-tunnel
 * subnets). Sans-IO, no globals; the engine or driver owns the pools.
 */
#ifndef VPN_IKEV2_CP_H
#define VPN_IKEV2_CP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/alloc.h"
#include "ikev2/ikev2-codec.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VPN_IPPOOL_MAX 65536u /* addresses in one pool */
#define VPN_IPPOOL_NAME_MAX 64

typedef struct vpn_ippool {
    char name[VPN_IPPOOL_NAME_MAX];
    uint32_t first, last; /* IPv4: the addresses, host order; IPv6: slot numbers; inclusive */
    uint32_t *owner;      /* per address: 0 free, else the owner tag */
    uint32_t used;
    uint8_t family;       /* VPN_AF_INET or VPN_AF_INET6 */
    /* IPv6 (IOS `ipv6 local pool NAME PREFIX/LEN ASSIGNED`): slot v is the
     * prefix base + v * 2^(128 - assigned) */
    uint8_t base[16];
    uint8_t prefix_len, assigned_len;
} vpn_ippool;

/*
 * `ip local pool NAME FIRST LAST`: IPv4, first <= last, at most
 * VPN_IPPOOL_MAX addresses. Errors: VPN_ERR_INVAL, VPN_ERR_UNSUPPORTED
 * (IPv6), VPN_ERR_LIMIT (too large), VPN_ERR_NOMEM.
 */
int vpn_ippool_init(vpn_ippool *p, const char *name, const vpn_addr *first, const vpn_addr *last);
void vpn_ippool_free(vpn_ippool *p);

/*
 * `ipv6 local pool NAME PREFIX/LEN ASSIGNED`: hands out prefixes of length
 * ASSIGNED (LEN <= ASSIGNED <= 128) from PREFIX, each as its first address
 * (the INTERNAL_IP6_ADDRESS value with prefix length ASSIGNED, RFC 7296
 * 3.15.1); with ASSIGNED 128 the all-zeros address (the Subnet-Router
 * anycast address, RFC 4291 2.6.1) is skipped. At most VPN_IPPOOL_MAX
 * slots are used, the lowest first. Errors: VPN_ERR_INVAL (not IPv6,
 * lengths out of order, host bits set in the prefix), VPN_ERR_NOMEM.
 */
int vpn_ippool_init6(vpn_ippool *p, const char *name, const vpn_prefix *prefix, uint8_t assigned_len);
/* The first and the last address a pool hands out (IPv6: the first
 * address of the first and of the last assigned prefix). */
void vpn_ippool_bounds(const vpn_ippool *p, vpn_addr *first, vpn_addr *last);
/* The same for an `ipv6 local pool` PREFIX ASSIGNED without making it
 * (no allocation): the first addresses of the first and last prefixes it
 * would hand out, and how many (at most VPN_IPPOOL_MAX). Errors:
 * VPN_ERR_INVAL (as vpn_ippool_init6). */
int vpn_ippool_bounds6(const vpn_prefix *prefix, uint8_t assigned_len, vpn_addr *first, vpn_addr *last,
                       uint32_t *size);
/* Both behind an allocation gate (common/alloc.h; NULL allows all): the
 * engine passes its own, so a pool that cannot be made fails as NOMEM. */
int vpn_ippool_init_a(const vpn_alloc *al, vpn_ippool *p, const char *name, const vpn_addr *first,
                      const vpn_addr *last);
int vpn_ippool_init6_a(const vpn_alloc *al, vpn_ippool *p, const char *name, const vpn_prefix *prefix,
                       uint8_t assigned_len);

/*
 * Gives owner (nonzero) an address: the one it already holds, else the
 * lowest free. Errors: VPN_ERR_INVAL, VPN_ERR_LIMIT (pool exhausted;
 * nothing changes).
 */
int vpn_ippool_alloc(vpn_ippool *p, uint32_t owner, vpn_addr *out);

/*
 * Gives owner the address a itself (an AAA server's Framed-IP-Address that
 * lies inside the pool), so that the pool never hands it to another.
 * Errors: VPN_ERR_INVAL, VPN_ERR_NOTFOUND (a outside the pool), VPN_ERR_EXISTS
 * (another owner holds it), VPN_ERR_STATE (owner holds another address);
 * nothing changes on error.
 */
int vpn_ippool_claim(vpn_ippool *p, uint32_t owner, const vpn_addr *a);

/* Returns a's address if owner holds it. Errors: VPN_ERR_INVAL,
 * VPN_ERR_NOTFOUND (outside the pool, free, or someone else's). */
int vpn_ippool_release(vpn_ippool *p, const vpn_addr *a, uint32_t owner);

/* Hands a's address from owner `from` to owner `to` (an IKE SA rekey).
 * Errors: VPN_ERR_INVAL, VPN_ERR_NOTFOUND (from does not hold it). */
int vpn_ippool_transfer(vpn_ippool *p, const vpn_addr *a, uint32_t from, uint32_t to);

/* Returns every address owner holds; how many. */
size_t vpn_ippool_release_owner(vpn_ippool *p, uint32_t owner);

/* The owner of a (0: free or outside). */
uint32_t vpn_ippool_owner(const vpn_ippool *p, const vpn_addr *a);

static inline uint32_t vpn_ippool_size(const vpn_ippool *p) { return p->last - p->first + 1; }

/* ---- the configuration payload ---------------------------------------------- */

#define VPN_CP_MAX_DNS 4
#define VPN_CP_MAX_SUBNETS 16

/* What a CFG_REQUEST asks for (RFC 7296 3.15.1). */
typedef struct vpn_cp_request {
    bool ip4_address, ip4_netmask, ip4_dns, ip4_subnet;
    bool ip6_address, ip6_dns, ip6_subnet;
    bool has_hint;       /* a nonzero INTERNAL_IP4_ADDRESS: the peer's wish */
    vpn_addr hint;
    /* INTERNAL_IP4_SUBNET / INTERNAL_IP6_SUBNET values: the networks a
     * site-to-site peer announces behind it (IOS `route set` on the spoke) */
    vpn_prefix subnets[VPN_CP_MAX_SUBNETS];
    size_t n_subnets;
} vpn_cp_request;

/*
 * Reads a CP payload of type CFG_REQUEST. Attributes this side does not
 * know are ignored (RFC 7296 3.15.1 lets a responder skip them); known ones
 * must have the length 3.15.1 gives (0, or the value's size).
 * Errors: VPN_ERR_INVAL, VPN_ERR_STATE (not a CFG_REQUEST),
 * VPN_ERR_MALFORMED (a wrong length, a subnet mask with holes or a broken
 * attribute list), VPN_ERR_LIMIT (more subnets than it holds).
 */
int vpn_cp_parse_request(const vpn_ikev2_payload *cp, vpn_cp_request *out);

/* An authorization policy's grant (`crypto ikev2 authorization policy`). */
typedef struct vpn_cp_grant {
    vpn_addr address;   /* from the pool; family 0: none */
    uint32_t netmask;   /* host order, 0: not sent */
    vpn_addr address6;  /* INTERNAL_IP6_ADDRESS; family 0: none */
    uint8_t prefix6;    /* ... its prefix length (3.15.1), <= 128 */
    vpn_addr dns[VPN_CP_MAX_DNS]; /* either family */
    size_t n_dns;
    vpn_prefix subnets[VPN_CP_MAX_SUBNETS]; /* `route set access-list` / `route set interface`; either family */
    size_t n_subnets;
} vpn_cp_grant;

/*
 * What an AAA server authorized for one user (the attributes of a RADIUS
 * Access-Accept, IOS's `aaa authorization user eap cached`). Each one set
 * replaces the authorization policy's: address (Framed-IP-Address) instead
 * of a pool address, pool (Framed-Pool, ipsec:addr-pool) instead of the
 * policy's pool, dns (ipsec:dns-servers), subnets (Framed-Route,
 * ipsec:route-set).
 */
typedef struct vpn_cp_authz {
    vpn_addr address;                /* family 0: none */
    char pool[VPN_IPPOOL_NAME_MAX];  /* "": none */
    vpn_addr dns[VPN_CP_MAX_DNS];
    size_t n_dns;
    vpn_prefix subnets[VPN_CP_MAX_SUBNETS];
    size_t n_subnets;
} vpn_cp_authz;

/*
 * Appends CFG_REPLY with what g gives and req asked for (an address and
 * DNS of a family only when asked for that family; subnets always: RFC
 * 7296 3.15.2 lets the responder send INTERNAL_IP4_SUBNET and
 * INTERNAL_IP6_SUBNET unasked). Errors: VPN_ERR_INVAL (prefix6 > 128) and
 * the builder's.
 */
int vpn_cp_build_reply(vpn_ikev2_bld *b, const vpn_cp_request *req, const vpn_cp_grant *g);

/* Appends the CFG_REQUEST a remote-access client sends (address and DNS). */
int vpn_cp_build_request(vpn_ikev2_bld *b);

/* The same for the families asked: ip4 INTERNAL_IP4_ADDRESS and _DNS, ip6
 * INTERNAL_IP6_ADDRESS and _DNS (RFC 7296 3.15.1: empty values).
 * Errors: VPN_ERR_INVAL (neither family) and the builder's. */
int vpn_cp_build_request_af(vpn_ikev2_bld *b, bool ip4, bool ip6);

/* Appends the CFG_REQUEST a site-to-site spoke sends: its own networks as
 * INTERNAL_IP4_SUBNET / INTERNAL_IP6_SUBNET values (IOS FlexVPN's routing
 * over IKEv2; the hub with `route accept any` narrows the spoke's selectors
 * to them). Errors: VPN_ERR_INVAL (a prefix of no family or too long, more
 * than VPN_CP_MAX_SUBNETS) and the builder's. */
int vpn_cp_build_request_subnets(vpn_ikev2_bld *b, const vpn_prefix *subnets, size_t n_subnets);

/* Reads a CFG_REPLY into g (IPv4 and IPv6 attributes; others ignored). Errors:
 * VPN_ERR_INVAL, VPN_ERR_STATE (not a reply), VPN_ERR_MALFORMED, VPN_ERR_LIMIT
 * (more DNS servers or subnets than g holds). */
int vpn_cp_parse_reply(const vpn_ikev2_payload *cp, vpn_cp_grant *g);

#ifdef __cplusplus
}
#endif

#endif
