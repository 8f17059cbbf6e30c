#define _DEFAULT_SOURCE /* popen, pclose */
#include "test-util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/vpn-log.h"

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

uint8_t *tu_hex(const char *hex, size_t *len)
{
    size_t n = strlen(hex);
    uint8_t *out = malloc(n / 2 + 1);
    size_t o = 0;
    int hi = -1;

    assert_non_null(out);
    for (size_t i = 0; i < n; i++) {
        int v;
        if (isspace((unsigned char)hex[i]))
            continue;
        v = hexval((unsigned char)hex[i]);
        if (v < 0)
            fail_msg("bad hex digit '%c' in test vector", hex[i]);
        if (hi < 0) {
            hi = v;
        } else {
            out[o++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    if (hi >= 0)
        fail_msg("odd number of hex digits in test vector");
    *len = o;
    return out;
}

void tu_assert_hex(const uint8_t *got, size_t len, const char *want)
{
    size_t wl;
    uint8_t *w = tu_hex(want, &wl);

    if (wl != len || memcmp(got, w, len) != 0) {
        fprintf(stderr, "got:  ");
        for (size_t i = 0; i < len; i++)
            fprintf(stderr, "%02x", got[i]);
        fprintf(stderr, "\nwant: %s\n", want);
        free(w);
        fail_msg("byte mismatch (got %zu bytes, want %zu)", len, wl);
    }
    free(w);
}

static void sink_fn(void *user, vpn_log_level level, const char *engine, const char *msg)
{
    tu_log_sink *s = user;

    s->events++;
    if (level == VPN_LOG_ERROR)
        s->errors++;
    snprintf(s->last, sizeof s->last, "%s", msg);
    if (getenv("VPN_TEST_LOG"))
        fprintf(stderr, "[%s] %s: %s\n", vpn_log_level_name(level), engine, msg);
}

void tu_log_attach(struct vpn_log *log, tu_log_sink *sink)
{
    memset(sink, 0, sizeof *sink);
    log->fn = sink_fn;
    log->user = sink;
    log->max = VPN_LOG_DEBUG;
}

void tu_find_tshark(char *out, size_t cap)
{
    const char *env = getenv("TSHARK");
    const char *path = getenv("PATH");
    char dirs[4096];

    if (env && access(env, X_OK) == 0) {
        snprintf(out, cap, "%s", env);
        return;
    }
    snprintf(dirs, sizeof dirs, "%s:/usr/bin:/usr/local/bin", path ? path : "");
    for (char *tok = strtok(dirs, ":"); tok; tok = strtok(NULL, ":")) {
        snprintf(out, cap, "%s/tshark", tok);
        if (access(out, X_OK) == 0)
            return;
    }
    fail_msg("tshark not found on PATH (install the tshark package, or set TSHARK)");
}

char *tu_run(const char *cmd)
{
    size_t cap = 1 << 20, n = 0, got;
    char *out = malloc(cap);
    FILE *p = popen(cmd, "r");

    assert_non_null(out);
    if (p == NULL)
        fail_msg("cannot run %s", cmd);
    while ((got = fread(out + n, 1, cap - n - 1, p)) > 0) {
        n += got;
        if (cap - n < 4096) {
            cap *= 2;
            out = realloc(out, cap);
            assert_non_null(out);
        }
    }
    out[n] = 0;
    if (pclose(p) != 0)
        fail_msg("command failed: %s\n%.4000s", cmd, out);
    return out;
}

bool tu_gate_allow(void *user, size_t size)
{
    tu_gate *g = user;

    (void)size;
    g->calls++;
    if (g->fail_at && g->calls == g->fail_at) {
        g->failed++;
        return false;
    }
    return true;
}

bool tu_switch_allow(void *user, size_t size)
{
    tu_switch *g = user;

    if (g->size != 0 && g->size != size)
        return true;
    g->calls++;
    if (g->refuse)
        g->refused++;
    return !g->refuse;
}

unsigned tu_alloc_sweep(void (*run)(void *ctx, tu_gate *gate), void *ctx, unsigned min_calls)
{
    tu_gate g = {0, 0, 0};
    unsigned total;

    run(ctx, &g);
    total = g.calls;
    assert_int_equal(g.failed, 0);
    if (total <= min_calls)
        fail_msg("the run asked %u allocations, expected more than %u", total, min_calls);
    for (unsigned k = 1; k <= total; k++) {
        memset(&g, 0, sizeof g);
        g.fail_at = k;
        run(ctx, &g);
        if (g.failed != 1)
            fail_msg("allocation %u of %u: refused %u times, not once", k, total, g.failed);
    }
    return total;
}
