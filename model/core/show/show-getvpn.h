/*
 * `show crypto ipsec sa` on a GET VPN group member (getvpn/getvpn.h): per
 * member group, the crypto map's flow (the KS's ACL, local and remote
 * ident), the group's packet counters summed over its TEKs, then each TEK
 * as IOS lists group SAs: the same SPI inbound and outbound (a group SA
 * serves both directions), its transform, tunnel mode, remaining lifetime
 * and anti-replay. Then the data plane's drops by reason, which IOS spreads
 * over `show crypto ipsec sa` error counters and `show crypto gdoi gm
 * dataplane counters`. Key servers carry no data-plane SAs and print none.
 */
#ifndef VPN_SHOW_GETVPN_H
#define VPN_SHOW_GETVPN_H

#include "getvpn/getvpn.h"
#include "show/show.h"

#ifdef __cplusplus
extern "C" {
#endif

/* iface names the crypto-map interface. Errors: VPN_ERR_INVAL, VPN_ERR_NOSPACE. */
int vpn_show_getvpn_ipsec_sa(const vpn_getvpn_node *n, const char *iface, uint64_t now,
                             vpn_show_buf *b);

#ifdef __cplusplus
}
#endif

#endif
