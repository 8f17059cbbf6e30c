/*
 * CHILD_SA id -> handle of the IKE SA holding it (issue 14): the data path
 * reports traffic per CHILD_SA id, and a hub holds thousands of IKE SAs.
 * Open addressing with linear probing: n slots, a power of two, at most
 * half used; deletion shifts the rest of a probe run back (no tombstones).
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

typedef struct ikev2_child_ref {
    uint32_t child_id; /* 0: free slot (CHILD_SA ids are never 0) */
    uint32_t sa_id;
} ikev2_child_ref;

typedef struct ikev2_cidx {
    ikev2_child_ref *t;
    size_t n, used;
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
