/* Config-parser expectations shared by the conf drivers of the C core. */
#ifndef VPN_CONF_EXPECT_H
#define VPN_CONF_EXPECT_H

#include "conf/conf.h"

/* Parses text and fails the current test unless it parses; the caller frees the result. */
vpn_conf *tu_conf_parse_ok(const char *text);

/*
 * Parses text and fails the current test unless the parse is refused with
 * code at line, with needle in the message, and with no configuration
 * handed back (nothing half-configured).
 */
void tu_conf_expect_error(const char *text, int code, int line, const char *needle);

#endif
