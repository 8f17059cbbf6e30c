/*
 * `show ip nhrp` and `show dmvpn` for one NHRP interface, rendered from
 * the NHRP engine (nhrp/nhrp.h) in IOS's layout:
 *
 *   show ip nhrp: per entry, ordered by address,
 *     10.0.0.2/32 via 10.0.0.2
 *        Tunnel0 created 00:17:49, expire 01:42:10
 *        Type: dynamic, Flags: unique registered
 *        NBMA address: 172.16.2.1
 *   (static entries "never expire"; shortcuts "Type: dynamic, Flags:
 *   router rib"; peers learnt by resolution "router nhop").
 *
 *   show dmvpn: the legend, "Interface: Tunnel0, IPv4 NHRP Details",
 *   "Type:Hub|Spoke, NHRP Peers:N," and one block per NBMA peer (# Ent,
 *   Peer NBMA Addr, Peer Tunnel Add, State, UpDn Tm, Attrb: S static,
 *   D dynamic, T1 a shortcut route installed); an NHS not yet answering
 *   shows state NHRP.
 *
 * Times: hh:mm:ss below a day, then IOS's 1d02h and 2w3d forms.
 */
#ifndef VPN_SHOW_NHRP_H
#define VPN_SHOW_NHRP_H

#include "nhrp/nhrp.h"
#include "show/show.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Errors: VPN_ERR_NOSPACE (truncated), VPN_ERR_NOMEM, VPN_ERR_INVAL. */
int vpn_show_ip_nhrp(const vpn_nhrp *n, uint64_t now, vpn_show_buf *b);
int vpn_show_dmvpn(const vpn_nhrp *n, uint64_t now, vpn_show_buf *b);
/* show ip nhrp traffic for interface ifname, from the engine's counters
 * (vpn_nhrp_stats_get): IOS's Sent / Rcvd blocks by packet type (RFC 2332
 * 5.2; IOS's Redirect Suppress is not modelled and shows 0), then a
 * Dropped line of what the engine refused (not an IOS line).
 * Errors: VPN_ERR_INVAL, VPN_ERR_NOSPACE. */
int vpn_show_nhrp_traffic(const char *ifname, const vpn_nhrp_stats *st, vpn_show_buf *b);
/* IOS duration: "00:05:07", "1d02h", "2w3d". */
void vpn_show_nhrp_duration(uint64_t secs, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
