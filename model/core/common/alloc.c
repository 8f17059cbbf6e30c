/*
 * Large working buffers (see alloc.h): anonymous mappings where the system
 * has them, the C library's heap elsewhere.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#endif

#include "common/alloc.h"

#include <openssl/crypto.h>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>
#endif

/* Under AddressSanitizer the heap's, whose redzones catch an overrun that a
 * mapping's page rounding would hide. */
#if defined(__SANITIZE_ADDRESS__)
#define VPN_BIG_MAPPED 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VPN_BIG_MAPPED 0
#endif
#endif
#if !defined(VPN_BIG_MAPPED)
#if defined(MAP_ANONYMOUS)
#define VPN_BIG_MAPPED 1
#else
#define VPN_BIG_MAPPED 0
#endif
#endif

/* Memcheck takes a fresh mapping for initialised memory: it is told that
 * the buffer's octets are undefined, as malloc's are, so the *-valgrind
 * tests still catch a read of octets never written (a no-op elsewhere). */
#if VPN_BIG_MAPPED && defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define VPN_BIG_UNDEFINED(p, n) VALGRIND_MAKE_MEM_UNDEFINED(p, n)
#endif
#endif
#ifndef VPN_BIG_UNDEFINED
#define VPN_BIG_UNDEFINED(p, n) ((void)(p), (void)(n))
#endif

void *vpn_big_alloc(const vpn_alloc *a, size_t size)
{
    if (size == 0 || !vpn_alloc_ok(a, size))
        return NULL;
#if VPN_BIG_MAPPED
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    VPN_BIG_UNDEFINED(p, size);
    return p;
#else
    return malloc(size);
#endif
}

void vpn_big_free(void *p, size_t size)
{
    if (p == NULL)
        return;
    /* secrets passed through (design.md: key material is wiped on free);
     * the pages never written are faulted in for it: a teardown cost */
    OPENSSL_cleanse(p, size);
#if VPN_BIG_MAPPED
    munmap(p, size);
#else
    free(p);
#endif
}
