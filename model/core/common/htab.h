/*
 * An open-addressing hash table of (key, value) entries, for the engines'
 * indexes (issue 14: a hub holds thousands of SAs, and a walk over all of
 * them per lookup made bring-up quadratic). Keys are any 32-bit numbers
 * (ids, ESP SPIs, hashes); values are nonzero 32-bit numbers (handles,
 * which are never 0): a value of 0 marks a free slot; 8 octets a slot.
 * One key may hold several values (a multimap:
 * vpn_htab_put adds the pair unless that very pair is there); a caller
 * wanting a map finds the key first (vpn_htab_find) and sets the value in
 * place.
 *
 * Linear probing from the key's home slot; n slots, a power of two, at
 * most half used, so every probe run ends at a free slot; deletion shifts
 * the rest of the run back (no tombstones: lookups stay as short after
 * millions of deletions as before).
 *
 * The table never allocates behind the caller's back: put refuses with
 * VPN_ERR_NOSPACE when one more entry would fill more than half of it, and
 * the caller decides: vpn_htab_reserve grows it keeping the entries,
 * vpn_htab_reset starts an empty one (to refill it from the truth, dropping
 * stale entries). Both go through the injected allocator and, refused,
 * leave the table as it was (VPN_ERR_NOMEM). No globals.
 */
#ifndef VPN_HTAB_H
#define VPN_HTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/alloc.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VPN_HTAB_MIN 64 /* slots of the smallest table */

typedef struct vpn_htab_ent {
    uint32_t key;
    uint32_t val; /* 0: free slot */
} vpn_htab_ent;

typedef struct vpn_htab {
    vpn_htab_ent *t;
    size_t n, used; /* n: 0 (no table yet) or a power of two */
} vpn_htab;

/* The slot key's probe run starts at, in a table of n slots (n a power of two). */
size_t vpn_htab_home(uint32_t key, size_t n);
/* The entry (key, val), or NULL. */
vpn_htab_ent *vpn_htab_find_pair(const vpn_htab *h, uint32_t key, uint32_t val);
/* An entry under key (the first of its probe run), or NULL. */
vpn_htab_ent *vpn_htab_find(const vpn_htab *h, uint32_t key);
/* Adds (key, val); nothing if that pair is there already (0 then too).
 * VPN_ERR_INVAL for val 0; VPN_ERR_NOSPACE, nothing added, when one more
 * entry would fill more than half the table (or there is none yet). */
int vpn_htab_put(vpn_htab *h, uint32_t key, uint32_t val);
/* Grows the table (keeping its entries) so that `count` entries fit in it
 * (at most half used). 0 (nothing to do, or done) or VPN_ERR_NOMEM, the
 * table intact. */
int vpn_htab_reserve(vpn_htab *h, const vpn_alloc *a, size_t count);
/* Replaces the table by an empty one that `count` entries fit in (64
 * slots at least). 0 or VPN_ERR_NOMEM, the old table kept. */
int vpn_htab_reset(vpn_htab *h, const vpn_alloc *a, size_t count);
/* Removes the entry e (from vpn_htab_find*: any entry pointer taken
 * before is void after this). */
void vpn_htab_remove(vpn_htab *h, vpn_htab_ent *e);
/* Removes (key, val) if there; returns whether it was. */
bool vpn_htab_del(vpn_htab *h, uint32_t key, uint32_t val);
/* The values under key, in no particular order: up to cap of them go to
 * out; returns how many there are (more than cap: not all were seen). */
size_t vpn_htab_get(const vpn_htab *h, uint32_t key, uint32_t *out, size_t cap);
/* Removes every entry under key whose value keep() refuses, however many
 * there are; returns how many are left under key. */
size_t vpn_htab_prune(vpn_htab *h, uint32_t key, bool (*keep)(void *user, uint32_t val), void *user);
void vpn_htab_free(vpn_htab *h);

#ifdef __cplusplus
}
#endif

#endif
