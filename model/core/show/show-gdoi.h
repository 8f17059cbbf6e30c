/*
 * `show crypto gdoi` on a key server and on a group member, and `show
 * crypto gdoi ks members`, rendered from the GDOI engines' state
 * (gdoi/gdoi.h) with IOS's field order (see the issue 7 notes). Fields
 * this model has no state for (VRFs, fail-close, crypto path details)
 * print IOS's values for the default case.
 */
#ifndef VPN_SHOW_GDOI_H
#define VPN_SHOW_GDOI_H

#include "gdoi/gdoi.h"
#include "show/show.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Errors: VPN_ERR_NOSPACE (truncated). */
int vpn_show_gdoi_ks(const vpn_gdoi_ks *ks, uint64_t now, vpn_show_buf *b);
/* `show crypto gdoi ks members`: rekeys sent, members registered and the
 * member limit, registrations refused by reason, then one block per member. */
int vpn_show_gdoi_ks_members(const vpn_gdoi_ks *ks, vpn_show_buf *b);
int vpn_show_gdoi_gm(const vpn_gdoi_gm *gm, uint64_t now, vpn_show_buf *b);
/*
 * `show crypto gdoi ks coop`: the local KS (address, priority, role and
 * status, the primary's announcement timer or the secondary's wait for
 * the primary, our announcement sequence number) and one session per peer
 * KS (address, priority, role, status, the last announcement sequence
 * accepted, IKE status, announcement and byte counters, drops). Without
 * COOP it says so. Errors: VPN_ERR_NOSPACE.
 */
int vpn_show_gdoi_ks_coop(const vpn_gdoi_ks *ks, uint64_t now, vpn_show_buf *b);

#ifdef __cplusplus
}
#endif

#endif
