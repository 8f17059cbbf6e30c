/*
 * Traffic-selector arithmetic for the IKEv2 engine (RFC 7296 2.9): the
 * intersection a responder narrows to, and the subset check the initiator
 * makes on the answer. Selectors are vpn_ikev2_selector (ikev2-engine.h).
 */
#ifndef VPN_IKEV2_TS_H
#define VPN_IKEV2_TS_H

#include <stdbool.h>
#include <stddef.h>

#include "ikev2/ikev2-engine.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The selector covering everything of one family ("any"). */
void vpn_ikev2_selector_any(vpn_ikev2_selector *s, uint8_t family);

/* True if s is well formed: a known family, addr_lo <= addr_hi, both of
 * that family. Port ranges with lo > hi are the OPAQUE form (3.13.1). */
bool vpn_ikev2_selector_valid(const vpn_ikev2_selector *s);

/* The intersection of a and b into out; false if it is empty. */
bool vpn_ikev2_selector_intersect(const vpn_ikev2_selector *a, const vpn_ikev2_selector *b,
                                  vpn_ikev2_selector *out);

/* True if every packet inside inner is inside outer. */
bool vpn_ikev2_selector_within(const vpn_ikev2_selector *inner, const vpn_ikev2_selector *outer);

/*
 * Narrowing (RFC 7296 2.9): the non-empty pairwise intersections of the
 * proposed selectors with the policy's, at most out_cap of them, without
 * duplicates. An empty policy list stands for "any" of the proposed
 * families. Returns how many were written (0: TS_UNACCEPTABLE).
 */
size_t vpn_ikev2_ts_narrow(const vpn_ikev2_selector *prop, size_t n_prop,
                           const vpn_ikev2_selector *pol, size_t n_pol,
                           vpn_ikev2_selector *out, size_t out_cap);

/* True if every selector of sub lies inside some selector of set
 * (what an initiator checks of the responder's narrowed answer). */
bool vpn_ikev2_ts_subset(const vpn_ikev2_selector *sub, size_t n_sub,
                         const vpn_ikev2_selector *set, size_t n_set);

/* "10.0.0.0-10.0.0.255 proto 47 ports 0-65535" style text, for logs. */
const char *vpn_ikev2_selector_str(const vpn_ikev2_selector *s, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
