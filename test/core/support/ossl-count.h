/*
 * OpenSSL's allocations, counted: for the drivers that check a keyed
 * context allocates nothing per packet. OpenSSL's allocator hooks take no
 * context, so the count is the driver's one global; tu_ossl_count_install
 * must run first thing in main, before OpenSSL allocates anything (it
 * refuses the change after).
 */
#ifndef TEST_OSSL_COUNT_H
#define TEST_OSSL_COUNT_H

#include <stdio.h>
#include <stdlib.h>

#include <openssl/crypto.h>

/* OpenSSL's malloc and realloc calls so far. */
static unsigned long tu_ossl_allocs;

static inline void *tu_ossl_count_malloc(size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    tu_ossl_allocs++;
    return malloc(n);
}

static inline void *tu_ossl_count_realloc(void *p, size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    tu_ossl_allocs++;
    return realloc(p, n);
}

static inline void tu_ossl_count_free(void *p, const char *file, int line)
{
    (void)file;
    (void)line;
    free(p);
}

/* Installs the counting allocator; 0, or 1 (said on stderr) when OpenSSL
 * refuses it. */
static inline int tu_ossl_count_install(void)
{
    if (!CRYPTO_set_mem_functions(tu_ossl_count_malloc, tu_ossl_count_realloc, tu_ossl_count_free)) {
        fprintf(stderr, "CRYPTO_set_mem_functions failed\n");
        return 1;
    }
    return 0;
}

#endif
