/* Helpers shared by the cmocka drivers of the C core. */
#ifndef VPN_TEST_UTIL_H
#define VPN_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/*
 * Decodes hex (whitespace ignored) into a fresh buffer that the caller
 * frees; *len receives its length. Fails the current test on bad input.
 */
uint8_t *tu_hex(const char *hex, size_t *len);

/* Asserts that len bytes at got equal the hex string want. */
void tu_assert_hex(const uint8_t *got, size_t len, const char *want);

/* A vpn_log sink that counts events (and prints them when VPN_TEST_LOG is set). */
typedef struct tu_log_sink {
    unsigned events;
    unsigned errors;
    char last[512];
} tu_log_sink;
struct vpn_log;
void tu_log_attach(struct vpn_log *log, tu_log_sink *sink);

#endif
