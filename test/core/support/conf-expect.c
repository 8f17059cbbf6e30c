#include "conf-expect.h"

#include <string.h>

#include "test-util.h"

vpn_conf *tu_conf_parse_ok(const char *text)
{
    vpn_conf *c = NULL;
    vpn_conf_error err;
    int rc = vpn_conf_parse(text, strlen(text), &c, &err);
    if (rc != 0)
        fail_msg("parse failed (%d) at line %d: %s", rc, err.line, err.msg);
    return c;
}

void tu_conf_expect_error(const char *text, int code, int line, const char *needle)
{
    vpn_conf *c = (vpn_conf *)0x1; /* must come back NULL on refusal */
    vpn_conf_error err;
    int rc = vpn_conf_parse(text, strlen(text), &c, &err);
    if (rc != code || err.line != line || strstr(err.msg, needle) == NULL)
        fail_msg("want %d at line %d containing '%s'; got %d at line %d: %s", code, line, needle, rc,
                 err.line, err.msg);
    assert_null(c); /* nothing half-configured */
}

void tu_conf_expect_errors(const tu_conf_bad *bad, size_t n)
{
    for (size_t i = 0; i < n; i++)
        tu_conf_expect_error(bad[i].text, bad[i].code, bad[i].line, bad[i].needle);
}
