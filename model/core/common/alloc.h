/*
 * A per-context allocation gate. An engine that takes one (its params'
 * `alloc`) asks it before each allocation of its own; the memory itself is
 * the C library's, so frees need no context. Uses: failing the k-th
 * allocation to test every failure path, or a memory budget per engine.
 * A zeroed vpn_alloc allows everything. No globals: each context has its
 * own.
 */
#ifndef VPN_ALLOC_H
#define VPN_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Returns false to make the allocation of size bytes fail (VPN_ERR_NOMEM). */
typedef bool (*vpn_alloc_allow_fn)(void *user, size_t size);

typedef struct vpn_alloc {
    vpn_alloc_allow_fn allow; /* NULL: always allowed */
    void *user;
} vpn_alloc;

static inline bool vpn_alloc_ok(const vpn_alloc *a, size_t size)
{
    return a == NULL || a->allow == NULL || a->allow(a->user, size);
}

/* malloc, calloc and realloc behind the gate (free is free()). */
static inline void *vpn_malloc(const vpn_alloc *a, size_t size)
{
    return vpn_alloc_ok(a, size) ? malloc(size) : NULL;
}

static inline void *vpn_calloc(const vpn_alloc *a, size_t n, size_t size)
{
    return vpn_alloc_ok(a, n * size) ? calloc(n, size) : NULL;
}

static inline void *vpn_realloc(const vpn_alloc *a, void *p, size_t size)
{
    return vpn_alloc_ok(a, size) ? realloc(p, size) : NULL;
}

/*
 * Large working buffers that are mostly never written (an engine's 64 KB
 * message scratch, sized for the largest datagram, holds a few hundred
 * octets at a time): an anonymous mapping, so pages never written cost no
 * memory. On the heap, glibc had them resident: the hub-scale bench's
 * 10,000-spoke VPN run peaked at 2.86 GB with them there, 1.66 GB with
 * them mapped (events per CPU second unchanged). Under AddressSanitizer,
 * the heap. Behind the gate like the rest; free with vpn_big_free and the
 * same size, which wipes first (secrets pass through such buffers).
 */
void *vpn_big_alloc(const vpn_alloc *a, size_t size);
void vpn_big_free(void *p, size_t size);

#ifdef __cplusplus
}
#endif

#endif
