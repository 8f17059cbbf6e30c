/*
 * Remote identity -> IKE SA handles (issue 14): INITIAL_CONTACT (RFC 7296
 * 2.4) and the both-ends-initiated check (ikev2_duplicate_check) look for
 * the other IKE SAs with the peer's identity each time an IKE SA comes up;
 * a walk over every SA made a hub's bring-up quadratic in its spokes.
 * A multimap: each entry is (key, sa_id), key a hash of the identity, in
 * the common open-addressing table (common/htab.h: linear probing, at most
 * half used, backward-shift deletion).
 *
 * The caller checks every handle it gets against the SA it names, so an
 * entry can only be stale (the SA died or is gone), never misleading;
 * the caller drops stale entries when it meets them (ikev2_ridx_del), and
 * when the table is full it starts an empty one (ikev2_ridx_reset) and
 * puts its live SAs back. When that allocation is refused, `incomplete`
 * turns true and the caller walks its SAs instead, until a later lookup's
 * rebuild gets a table. Not a public header.
 */
#ifndef VPN_IKEV2_RIDX_H
#define VPN_IKEV2_RIDX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/alloc.h"
#include "common/htab.h"

typedef struct ikev2_ridx {
    vpn_htab h;       /* key: an identity's key, value: an SA handle (never 0) */
    bool incomplete;  /* an SA was left out (zero, as a new context has it: none) */
    uint64_t seen;    /* the engine's SAs with ikev2_sa.seq below this were looked at */
} ikev2_ridx;

/* The key of an identity (RFC 7296 3.5: its type and data). */
uint32_t ikev2_ridx_key(uint8_t type, const uint8_t *data, size_t len);
/* The slot key's probe run starts at, in a table of n slots (n a power of two). */
size_t ikev2_ridx_home(uint32_t key, size_t n);
/* Records sa_id under key (nothing if already there). Returns 0, or
 * VPN_ERR_NOSPACE when one more entry would fill more than half the table
 * (or there is none yet): nothing is recorded then, ikev2_ridx_reset first. */
int ikev2_ridx_put(ikev2_ridx *x, uint32_t key, uint32_t sa_id);
/* Replaces the table by an empty one with room for `count` entries and as
 * many again before it is full (64 slots at least). Returns 0, or
 * VPN_ERR_NOMEM with the old table kept. */
int ikev2_ridx_reset(ikev2_ridx *x, const vpn_alloc *a, size_t count);
/* Removes the entry (key, sa_id), if any. */
void ikev2_ridx_del(ikev2_ridx *x, uint32_t key, uint32_t sa_id);
/* The handles recorded under key, in no particular order: stores up to cap
 * of them in out and returns how many there are (more than cap: the caller
 * has not seen them all). */
size_t ikev2_ridx_get(const ikev2_ridx *x, uint32_t key, uint32_t *out, size_t cap);
/* Removes every entry under key whose handle `live` refuses (its SA died
 * or is gone), all of them however many there are; returns how many are
 * left under key. */
size_t ikev2_ridx_prune(ikev2_ridx *x, uint32_t key, bool (*live)(void *user, uint32_t sa_id), void *user);
void ikev2_ridx_free(ikev2_ridx *x);

#endif
