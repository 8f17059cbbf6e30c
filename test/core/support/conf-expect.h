/* Config-parser expectations shared by the conf drivers of the C core. */
#ifndef VPN_CONF_EXPECT_H
#define VPN_CONF_EXPECT_H

#include <stddef.h>

#include "conf/conf.h"

/* Parses text and fails the current test unless it parses; the caller frees the result. */
vpn_conf *tu_conf_parse_ok(const char *text);

/*
 * Parses text and fails the current test unless the parse is refused with
 * code at line, with needle in the message, and with no configuration
 * handed back (nothing half-configured).
 */
void tu_conf_expect_error(const char *text, int code, int line, const char *needle);

/* One configuration that must be refused: tu_conf_expect_error's arguments. */
typedef struct tu_conf_bad {
    const char *text;
    int code;
    int line;
    const char *needle;
} tu_conf_bad;

/* tu_conf_expect_error for each of the n entries of bad (a driver's table). */
void tu_conf_expect_errors(const tu_conf_bad *bad, size_t n);

#define TU_CONF_EXPECT_ERRORS(table) tu_conf_expect_errors((table), sizeof(table) / sizeof((table)[0]))

#endif
