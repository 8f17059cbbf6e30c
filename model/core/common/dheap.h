/*
 * A binary min-heap of deadlines (issue 14: a hub holds thousands of IKE
 * SAs, and its driver asks for the next deadline after every packet).
 * Each entry is an item with its key (a time in ns); the item stores its
 * own position in the heap (*pos), kept current by every move, so that
 * changing or removing one item is O(log n) and the earliest key is O(1).
 *
 * The heap never allocates behind the caller's back: vpn_dheap_reserve
 * grows it (and may fail with VPN_ERR_NOMEM, the heap intact); push needs
 * the room reserved before. An owner that reserves room for an item before
 * creating it can therefore never lose an item to an allocation failure.
 */
#ifndef VPN_DHEAP_H
#define VPN_DHEAP_H

#include <stddef.h>
#include <stdint.h>

#include "common/alloc.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VPN_DHEAP_NONE SIZE_MAX /* *pos of an item not in a heap */

typedef struct vpn_dheap_ent {
    uint64_t key;
    size_t *pos;  /* where the item keeps its index in the heap */
    void *item;
} vpn_dheap_ent;

typedef struct vpn_dheap {
    vpn_dheap_ent *e;
    size_t n, cap;
} vpn_dheap;

/* Room for at least cap items. 0 or VPN_ERR_NOMEM (then nothing changed). */
int vpn_dheap_reserve(vpn_dheap *h, const vpn_alloc *a, size_t cap);
void vpn_dheap_free(vpn_dheap *h);
/* Adds item with key; needs h->n < h->cap (VPN_ERR_NOSPACE otherwise, heap intact). */
int vpn_dheap_push(vpn_dheap *h, void *item, size_t *pos, uint64_t key);
/* Changes the key of the item at index i (its *pos). */
void vpn_dheap_update(vpn_dheap *h, size_t i, uint64_t key);
/* Removes the item at index i; its *pos becomes VPN_DHEAP_NONE. */
void vpn_dheap_remove(vpn_dheap *h, size_t i);
/* Every item whose key is at most upto (in no particular order), visiting
 * only those and their direct children: up to cap of them go to out.
 * Returns how many there are (may exceed cap). */
size_t vpn_dheap_due(const vpn_dheap *h, uint64_t upto, void **out, size_t cap);

static inline uint64_t vpn_dheap_min(const vpn_dheap *h)
{
    return h->n ? h->e[0].key : UINT64_MAX;
}

#ifdef __cplusplus
}
#endif

#endif
