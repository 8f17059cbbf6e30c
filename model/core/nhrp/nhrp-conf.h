/*
 * From the IOS configuration of an NHRP interface (conf/conf.h: `interface
 * TunnelN` with `ip nhrp ...`, `ip address`, `tunnel source`, `tunnel
 * destination`, `ip mtu`) to the engine's parameters (nhrp/nhrp.h):
 *   - our NBMA address: `tunnel source A`, or the address of `tunnel
 *     source IF`; our protocol address and subnet: `ip address A M`;
 *   - the role: an interface with `ip nhrp nhs` lines is a client (spoke),
 *     one without is a server (hub) and accepts registrations;
 *   - each NHS's NBMA address: `nbma B` on its line, else an `ip nhrp map`
 *     for its address, else the `tunnel destination` of a point-to-point
 *     GRE spoke (DMVPN phase 1);
 *   - `ip nhrp map A B` -> static host entries (the NHSs' among them);
 *     `ip nhrp map multicast A|dynamic`, `network-id`, `authentication`,
 *     `holdtime`, `registration timeout|no-unique`, `redirect [timeout]`,
 *     `shortcut`; the CIE MTU from `ip mtu`.
 * The driver sets send, event, route, user, log and rng afterwards.
 */
#ifndef VPN_NHRP_CONF_H
#define VPN_NHRP_CONF_H

#include "conf/conf.h"
#include "nhrp/nhrp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The parameters and the arrays and strings they point to (keep it alive
 * until vpn_nhrp_new has copied them). */
typedef struct vpn_nhrp_conf_params {
    vpn_nhrp_params p;
    char ifname[VPN_CONF_NAME_MAX];
    char auth[VPN_CONF_NHRP_AUTH_MAX + 1];
    vpn_nhrp_nhs_cfg nhs[VPN_CONF_NHRP_NHS_MAX];
    vpn_nhrp_map_cfg maps[VPN_CONF_NHRP_MAP_MAX];
    vpn_addr mcast[VPN_CONF_NHRP_MAP_MAX];
} vpn_nhrp_conf_params;

/*
 * Fills *out for interface ifname. Errors (err names the line):
 * VPN_ERR_NOTFOUND (no such interface), VPN_ERR_POLICY (no `ip nhrp`
 * lines, no network-id, no IP address, no tunnel source address, an NHS
 * without an NBMA address, families that do not match).
 */
int vpn_nhrp_params_from_conf(const vpn_conf *c, const char *ifname, vpn_nhrp_conf_params *out,
                              vpn_conf_error *err);

#ifdef __cplusplus
}
#endif

#endif
