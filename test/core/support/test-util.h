/* Helpers shared by the cmocka drivers of the C core. */
#ifndef VPN_TEST_UTIL_H
#define VPN_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
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

/* ---- external tools ------------------------------------------------------ */

/* tshark's path into out: $TSHARK, else the first on PATH (or in /usr/bin,
 * /usr/local/bin); fails the test if there is none. */
void tu_find_tshark(char *out, size_t cap);

/* Runs the shell command cmd; its standard output in a malloc'd string.
 * Fails the test if it cannot run or exits other than 0. */
char *tu_run(const char *cmd);

/* ---- injected allocation failures (common/alloc.h gates) ---------------- */

/* A gate refusing its fail_at-th request (1-based; 0: none), counting the
 * requests and the refusals. */
typedef struct tu_gate {
    unsigned calls, fail_at, failed;
} tu_gate;

/* A vpn_alloc_allow_fn over a tu_gate (user). */
bool tu_gate_allow(void *user, size_t size);

/* A gate refusing, while refuse is set, every request (size 0) or only the
 * requests of exactly size octets (one kind of buffer or table), counting
 * the requests it looked at (calls: all, or those of that size) and the
 * refusals. */
typedef struct tu_switch {
    bool refuse;
    unsigned refused;
    size_t size;
    unsigned calls;
} tu_switch;

/* A vpn_alloc_allow_fn over a tu_switch (user). */
bool tu_switch_allow(void *user, size_t size);

/*
 * Every allocation failure a run meets, in turn: run(ctx, gate) once with
 * nothing refused to count its requests (more than min_calls, else the test
 * fails), then once for each k of them with the k-th refused; each of those
 * runs must meet exactly that one refusal. run asserts what a refusal must
 * leave behind. Returns the count.
 */
unsigned tu_alloc_sweep(void (*run)(void *ctx, tu_gate *gate), void *ctx, unsigned min_calls);

#endif
