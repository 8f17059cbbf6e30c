/*
 * CHILD_SA id -> handle of the IKE SA holding it (issue 14): the data path
 * reports traffic per CHILD_SA id, and a hub holds thousands of IKE SAs.
 * A map in the common open-addressing table (common/htab.h: linear
 * probing, at most half used, backward-shift deletion), key the child id.
 * The engine checks every hit against the SA it names, so the index can
 * only ever miss, never mislead: when it cannot grow (allocation refused)
 * the child is left out and `complete` turns false, which tells the caller
 * to walk its SAs on a miss. Not a public header.
 */
#ifndef VPN_IKEV2_CIDX_H
#define VPN_IKEV2_CIDX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/alloc.h"
#include "common/htab.h"

typedef struct ikev2_cidx {
    vpn_htab h;    /* key: a CHILD_SA id, value: its IKE SA's handle (never 0) */
    bool complete; /* every child put is in it (set true by the owner at start) */
} ikev2_cidx;

/* The slot child_id's probe run starts at, in a table of n slots (n a power of two). */
size_t ikev2_cidx_home(uint32_t child_id, size_t n);
/* Records child_id -> sa_id (replacing an entry for child_id). Cannot fail:
 * when the table cannot grow, complete becomes false instead. */
void ikev2_cidx_put(ikev2_cidx *x, const vpn_alloc *a, uint32_t child_id, uint32_t sa_id);
/* Removes child_id's entry, if any. */
void ikev2_cidx_del(ikev2_cidx *x, uint32_t child_id);
/* The sa_id recorded for child_id, or 0. */
uint32_t ikev2_cidx_get(const ikev2_cidx *x, uint32_t child_id);
/* Frees the table. */
void ikev2_cidx_free(ikev2_cidx *x);

#endif
