/*
 * Choosing among IKEv2 SA proposals (RFC 7296 2.7 and 3.3.6).
 *
 * A responder compares the proposals of a received SA payload with its
 * configured ones and picks one proposal, returning it with exactly one
 * transform of each type (vpn_ikev2_proposal_select). The initiator checks
 * that the answer is one of its own offers, narrowed that way
 * (vpn_ikev2_proposal_check_reply). Both work on parsed payloads from
 * ikev2-codec.h and on vpn_ikev2_proposal values; nothing is allocated.
 *
 * Rules applied (RFC 7296 3.3.3, 3.3.6, RFC 5282 8):
 *  - a transform matches when type, ID and Key Length are all equal;
 *  - a transform with an attribute we do not understand is ignored;
 *  - a transform type offered by only one side is acceptable only if that
 *    side lists NONE (ID 0) for it and the type allows NONE (integrity,
 *    DH and the RFC 9370 additional key exchanges); anything else, e.g. a
 *    type we do not know, makes the proposal unacceptable;
 *  - the result must be complete for its protocol: IKE needs ENCR, PRF and
 *    a real DH group; ESP needs ENCR and ESN; AH needs INTEG and ESN; an
 *    AEAD cipher takes no integrity transform (or NONE), any other cipher
 *    needs one.
 */
#ifndef VPN_IKEV2_PROPOSAL_H
#define VPN_IKEV2_PROPOSAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ikev2/ikev2-codec.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Flags for vpn_ikev2_proposal_select. */
enum {
    /*
     * Prefer our own order (proposals, then transforms within a type)
     * over the peer's. Without it the peer's order wins, as RFC 7296 2.7
     * suggests ("in order of preference" is the initiator's).
     */
    VPN_IKEV2_SEL_PREFER_LOCAL = 1u << 0,
};

/*
 * Appends a transform to a proposal value (for building configured lists).
 * Returns 0, VPN_ERR_INVAL (NULL), VPN_ERR_LIMIT (full).
 */
int vpn_ikev2_proposal_add(vpn_ikev2_proposal *p, uint8_t type, uint16_t id, uint16_t key_len);

/* The first transform of `type` in p, or NULL. */
const vpn_ikev2_xform *vpn_ikev2_proposal_get(const vpn_ikev2_proposal *p, uint8_t type);

/*
 * True when p holds at most one transform of each type and forms a usable
 * SA for its protocol (see the rules above).
 */
bool vpn_ikev2_proposal_complete(const vpn_ikev2_proposal *p);

/*
 * Intersects one peer proposal with one local proposal. On success *out is
 * the narrowed proposal: the peer's number, protocol and SPI, and one
 * transform per type in ascending type order. local_order picks within a
 * type by our order instead of the peer's.
 * Returns 0, VPN_ERR_INVAL (NULL), VPN_ERR_NOTFOUND (no acceptable
 * intersection).
 */
int vpn_ikev2_proposal_match(const vpn_ikev2_proposal *peer, const vpn_ikev2_proposal *local,
                             bool local_order, vpn_ikev2_proposal *out);

/*
 * Responder side: picks one proposal of a parsed SA payload against the
 * local list (flags: VPN_IKEV2_SEL_*). On success *chosen is the narrowed
 * proposal to send back (its SPI is still the peer's: the caller puts its
 * own SPI in before replying) and *local_index (if not NULL) says which
 * local proposal matched. Peer proposals that cannot be represented (over
 * VPN_IKEV2_PROP_MAX_XFORMS transforms, SPI over 8 bytes) are skipped.
 * Returns 0, VPN_ERR_INVAL (NULL, not a parsed SA payload),
 * VPN_ERR_NOTFOUND (nothing acceptable: answer NO_PROPOSAL_CHOSEN).
 */
int vpn_ikev2_proposal_select(const vpn_ikev2_payload *sa, const vpn_ikev2_proposal *local,
                              size_t n_local, unsigned flags, vpn_ikev2_proposal *chosen,
                              size_t *local_index);

/*
 * Initiator side (RFC 7296 3.3.6: "The initiator of an exchange MUST check
 * that the accepted offer is consistent with one of its proposals"): the
 * reply must hold exactly one complete proposal whose number and protocol
 * are those of one offered proposal, and whose transforms are all from it,
 * one of each type offered (types offered with NONE may be left out). On
 * success *accepted is the reply's proposal (with the peer's SPI).
 * Returns 0, VPN_ERR_INVAL (NULL, not a parsed SA payload), VPN_ERR_POLICY
 * (the reply is not a valid choice from our offer).
 */
int vpn_ikev2_proposal_check_reply(const vpn_ikev2_payload *sa,
                                   const vpn_ikev2_proposal *offered, size_t n_offered,
                                   vpn_ikev2_proposal *accepted);

#ifdef __cplusplus
}
#endif

#endif
