/* Shared between conf.c and conf-parse.c; not part of the public API. */
#ifndef VPN_CONF_INTERNAL_H
#define VPN_CONF_INTERNAL_H

#include <stdarg.h>

#include "common/vpn-log.h"
#include "conf/conf.h"

/* Appends a zeroed element to a growable array; NULL on allocation failure. */
void *vpn_conf_grow(void **arr, size_t *n, size_t *cap, size_t elem);
#define VPN_CONF_ADD(c, f) vpn_conf_grow((void **)&(c)->f, &(c)->n_##f, &(c)->cap_##f, sizeof *(c)->f)

void vpn_conf_copy_name(char *dst, size_t cap, const char *src);
/* Fills err and returns code. */
int vpn_conf_fail(vpn_conf_error *err, int line, int code, const char *fmt, ...) VPN_PRINTF(4, 5);
bool vpn_conf_encr_is_aead(uint16_t id);

#endif
