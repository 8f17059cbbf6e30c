/*
 * The Security Policy Database (RFC 4301 4.4.1): an ordered list of
 * selectors (ACL-like: protocol, source and destination prefixes, port
 * ranges, DSCP), each with an action. The first matching entry in order
 * decides; no match means the SPD's default action (RFC 4301 5.1: discard).
 *
 * One vpn_spd serves one attachment point (an interface's crypto map or a
 * tunnel's protection); the owner keeps the mapping.
 *
 * Lookup does not scan: entries are indexed by (family, source prefix
 * length, destination prefix length) "tuples", each a hash table on the
 * masked addresses, and tuples are visited in the order of their best
 * entry so the search stops as soon as no later tuple can win. The cost
 * depends on the number of distinct prefix-length pairs, not on the number
 * of entries.
 */
#ifndef VPN_IPSEC_SPD_H
#define VPN_IPSEC_SPD_H

#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/alloc.h"
#include "ipsec/ip.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vpn_spd_action {
    VPN_SPD_DISCARD = 0,
    VPN_SPD_BYPASS = 1,
    VPN_SPD_PROTECT = 2,
} vpn_spd_action;

/* Fields left zero match anything, except family, which must be 4 or 6. */
typedef struct vpn_spd_sel {
    uint8_t family;
    uint8_t proto;                 /* 0 = any */
    vpn_prefix src, dst;           /* len 0 = any (the address is then ignored) */
    uint16_t sport_lo, sport_hi;   /* 0, 0 = any; a range needs a packet with ports */
    uint16_t dport_lo, dport_hi;
    uint64_t dscp_mask;            /* bit d set: DSCP d matches; 0 = any */
} vpn_spd_sel;

struct vpn_sa;

typedef struct vpn_spd_entry {
    uint32_t seq;             /* order: lower first (an ACL's sequence number) */
    vpn_spd_sel sel;
    vpn_spd_action action;
    struct vpn_sa *sa;        /* protect: the outbound SA, NULL until there is one */
    void *user;               /* the owner's cookie (policy, profile, ...) */
} vpn_spd_entry;

typedef struct vpn_spd vpn_spd;

/* Errors: VPN_ERR_INVAL, VPN_ERR_NOMEM. The caller owns *out (vpn_spd_del). */
int vpn_spd_new(vpn_spd **out, vpn_spd_action default_action);
/* The same with an allocation gate (common/alloc.h; NULL allows all) asked
 * for the SPD itself and kept for vpn_spd_add (as vpn_spd_set_alloc). */
int vpn_spd_new_a(const vpn_alloc *a, vpn_spd **out, vpn_spd_action default_action);
void vpn_spd_del(vpn_spd *spd);
/* Asked before each allocation vpn_spd_add makes (copied; NULL: none;
 * common/alloc.h): a refused one is VPN_ERR_NOMEM with the lookups as before. */
void vpn_spd_set_alloc(vpn_spd *spd, const vpn_alloc *a);

/*
 * Adds a copy of e. Entries with the same seq keep their insertion order.
 * *id (optional) names the entry for later calls.
 * Errors: VPN_ERR_INVAL (family, prefix length or port range), VPN_ERR_NOMEM.
 */
int vpn_spd_add(vpn_spd *spd, const vpn_spd_entry *e, uint32_t *id);
/* Errors: VPN_ERR_NOTFOUND. */
int vpn_spd_remove(vpn_spd *spd, uint32_t id);
/* Points a protect entry at its (new) outbound SA. Errors: VPN_ERR_NOTFOUND. */
int vpn_spd_set_sa(vpn_spd *spd, uint32_t id, struct vpn_sa *sa);
/* Points every entry that uses old at new (rekeys, deletes with new NULL). */
void vpn_spd_replace_sa(vpn_spd *spd, const struct vpn_sa *old_sa, struct vpn_sa *new_sa);

/*
 * The action for a packet with these header fields (from vpn_ip_parse).
 * *entry (optional) receives the matching entry, NULL for the default; it
 * stays valid until the SPD changes.
 */
vpn_spd_action vpn_spd_lookup(vpn_spd *spd, const vpn_ip_info *pkt, const vpn_spd_entry **entry);

size_t vpn_spd_count(const vpn_spd *spd);
/* Match counters, as `show access-lists` prints them. Errors: VPN_ERR_NOTFOUND. */
int vpn_spd_get_hits(const vpn_spd *spd, uint32_t id, uint64_t *hits);

#ifdef __cplusplus
}
#endif

#endif
