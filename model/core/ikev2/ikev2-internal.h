/*
 * Shared between the IKEv2 codec's files; not part of the public API.
 * Element writers used both by the descriptor table (re-serialising parsed
 * payloads) and by the typed builders (serialising values).
 */
#ifndef VPN_IKEV2_INTERNAL_H
#define VPN_IKEV2_INTERNAL_H

#include "ikev2/ikev2-codec.h"

/* 3.3.1/3.3.2: one proposal with its transforms (Key Length as TV). */
int vpn_ikev2_wr_proposal(vpn_wr *w, const vpn_ikev2_proposal *prop, bool last);
/* 3.13.1: one traffic selector. */
int vpn_ikev2_wr_ts(vpn_wr *w, const vpn_ikev2_ts *ts);
/* 3.15.1: one configuration attribute. */
int vpn_ikev2_wr_cp_attr(vpn_wr *w, const vpn_ikev2_cp_attr *a);

#endif
