/*
 * Large working buffers (see alloc.h): anonymous mappings where the system
 * has them, the C library's heap elsewhere.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */

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

void *vpn_big_alloc(const vpn_alloc *a, size_t size)
{
    if (size == 0 || !vpn_alloc_ok(a, size))
        return NULL;
#if VPN_BIG_MAPPED
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
#else
    return malloc(size);
#endif
}

void vpn_big_free(void *p, size_t size)
{
    if (p == NULL)
        return;
#if VPN_BIG_MAPPED
    /* unmapped pages are zeroed before the system hands them out again:
     * wiping here would only write the pages never written */
    munmap(p, size);
#else
    OPENSSL_cleanse(p, size);
    free(p);
#endif
}
