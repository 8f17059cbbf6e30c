/*
 * Log events. Engines never print: they hand each event to a callback
 * supplied by the driver (ns-3 shim, host daemon, test), tagged with a
 * level and the engine's name.
 */
#ifndef VPN_LOG_H
#define VPN_LOG_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vpn_log_level {
    VPN_LOG_ERROR = 0,
    VPN_LOG_WARN = 1,
    VPN_LOG_INFO = 2,
    VPN_LOG_DEBUG = 3,
} vpn_log_level;

typedef void (*vpn_log_fn)(void *user, vpn_log_level level, const char *engine,
                           const char *msg);

/* Embedded in each engine. A zeroed struct logs nothing. */
typedef struct vpn_log {
    vpn_log_fn fn;
    void *user;
    vpn_log_level max; /* events above this level are dropped unformatted */
} vpn_log;

#if defined(__GNUC__)
#define VPN_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define VPN_PRINTF(a, b)
#endif

/* Formats and delivers one event; messages longer than 512 bytes are cut. */
void vpn_log_emit(const vpn_log *log, vpn_log_level level, const char *engine,
                  const char *fmt, ...) VPN_PRINTF(4, 5);

const char *vpn_log_level_name(vpn_log_level level);

#ifdef __cplusplus
}
#endif

#endif
