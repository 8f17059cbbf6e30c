/*
 * `show crypto isakmp policy` and `show crypto isakmp sa`: IKEv1 phase 1
 * (GET VPN registration and IKEv1 peers), laid out as IOS prints them.
 */
#ifndef VPN_SHOW_ISAKMP_H
#define VPN_SHOW_ISAKMP_H

#include "ikev1/ikev1.h"
#include "show/show.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One phase-1 SA and where it runs; the SA may be NULL for one that is
 * gone (printed MM_NO_STATE, DELETED, as IOS keeps it a while). */
typedef struct vpn_show_isakmp_row {
    const vpn_ikev1_sa *sa;
    vpn_addr local, remote;
    uint32_t conn_id;
    bool initiator; /* used only when sa is NULL */
} vpn_show_isakmp_row;

/* Room for vpn_show_isakmp_sa with n rows, NUL included: the two table
 * heads, and per row two addresses of up to VPN_ADDR_STRLEN - 1 characters
 * (IPv6) plus state, a 10-digit conn-id, status and separators. */
#define VPN_SHOW_ISAKMP_SA_CAP(n) (192 + (size_t)(n) * (2 * VPN_ADDR_STRLEN + 40))

/* IOS state names for the Main Mode states (MM_NO_STATE ... QM_IDLE). */
const char *vpn_show_isakmp_state(vpn_ikev1_state st);

/* show crypto isakmp sa: IPv4 then IPv6 table; dst is the responder.
 * Errors: VPN_ERR_NOSPACE (VPN_SHOW_ISAKMP_SA_CAP(n) always suffices). */
int vpn_show_isakmp_sa(const vpn_show_isakmp_row *rows, size_t n, vpn_show_buf *b);
/* show crypto isakmp policy (the built-in default suite when none is
 * configured, as IOS shows its default). Errors: VPN_ERR_NOSPACE. */
int vpn_show_isakmp_policy(const vpn_conf *c, vpn_show_buf *b);

#ifdef __cplusplus
}
#endif

#endif
