#include "common/vpn-log.h"

#include <stdio.h>

void vpn_log_emit(const vpn_log *log, vpn_log_level level, const char *engine,
                  const char *fmt, ...)
{
    char buf[512];
    va_list ap;

    if (log == NULL || log->fn == NULL || level > log->max)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    log->fn(log->user, level, engine ? engine : "?", buf);
}

const char *vpn_log_level_name(vpn_log_level level)
{
    switch (level) {
    case VPN_LOG_ERROR: return "error";
    case VPN_LOG_WARN: return "warn";
    case VPN_LOG_INFO: return "info";
    case VPN_LOG_DEBUG: return "debug";
    }
    return "?";
}
