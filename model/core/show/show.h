/*
 * `show crypto ...` views, rendered from engine and policy state into text
 * laid out like IOS's (field order and labels from real router output; see
 * shared notes). Renderers write into a caller buffer through vpn_show_buf,
 * which truncates safely and reports it.
 */
#ifndef VPN_SHOW_H
#define VPN_SHOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/vpn-log.h"
#include "conf/conf.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vpn_show_buf {
    char *p;
    size_t cap;
    size_t len;       /* characters written (excluding NUL) */
    bool truncated;   /* output did not fit */
} vpn_show_buf;

void vpn_show_init(vpn_show_buf *b, char *p, size_t cap);
/* Appends formatted text; never writes past cap, always NUL-terminates. */
void vpn_show_printf(vpn_show_buf *b, const char *fmt, ...) VPN_PRINTF(2, 3);
/* 0, or VPN_ERR_NOSPACE if the output was truncated. */
int vpn_show_result(const vpn_show_buf *b);

/* IOS display names. */
const char *vpn_show_ike_encr_name(uint16_t id, uint16_t bits); /* "AES-CBC-256" */
const char *vpn_show_integ_name(uint16_t id);                    /* "SHA256" */
const char *vpn_show_prf_name(uint16_t id);                      /* "SHA256" */
const char *vpn_show_group_name(uint16_t id);                    /* "DH_GROUP_256_ECP/Group 19" */

/* show crypto ikev2 proposal [NAME] (NULL: all). Errors: VPN_ERR_NOTFOUND, VPN_ERR_NOSPACE. */
int vpn_show_ikev2_proposal(const vpn_conf *c, const char *name, vpn_show_buf *b);
/* show crypto ikev2 policy [NAME] */
int vpn_show_ikev2_policy(const vpn_conf *c, const char *name, vpn_show_buf *b);
/* show crypto ikev2 profile [NAME] */
int vpn_show_ikev2_profile(const vpn_conf *c, const char *name, vpn_show_buf *b);

#ifdef __cplusplus
}
#endif

#endif
