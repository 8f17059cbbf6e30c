/*
 * What the host daemon (vpnd) makes of a configuration: one entry per
 * protected tunnel interface, with its outer endpoints, its inner address,
 * the prefixes routed into it (`ip route P M TunnelN`) and the child policy
 * the IKEv2 engine gets for it. Pure: no sockets, no GLib, so that tests
 * check the translation on its own.
 *
 * Only static VTIs are supported (`tunnel mode ipsec ipv4`): a VTI
 * negotiates any/any selectors, as IOS does, and whatever the kernel routes
 * into the TUN device is protected. A Virtual-Template in the same mode
 * (`interface Virtual-Template N type tunnel`) is the remote-access hub's
 * interface: one TUN device for all its clients. A GRE tunnel (the IOS default mode) is
 * refused: the host has no GRE encapsulation in the daemon's data path.
 */
#ifndef VPN_HOST_PLAN_H
#define VPN_HOST_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "conf/conf.h"
#include "ikev2/ikev2-engine.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VPN_HOST_ROUTES_MAX 32
#define VPN_HOST_TUNNELS_MAX 16

typedef struct vpn_host_tunnel {
    char name[VPN_CONF_NAME_MAX];          /* "Tunnel0" */
    uint32_t number;                       /* N of TunnelN */
    char ipsec_profile[VPN_CONF_NAME_MAX]; /* tunnel protection ipsec profile */
    vpn_addr src, dst;                     /* outer endpoints (same family) */
    bool has_address;
    vpn_prefix address;                    /* ip address of the tunnel, if any */
    uint32_t mtu;                          /* ip mtu, else 1400 */
    vpn_prefix route[VPN_HOST_ROUTES_MAX]; /* prefixes routed into the tunnel */
    size_t n_route;
    /* `interface Virtual-Template N type tunnel` (remote access, FlexVPN
     * hub): no destination (dst is 0.0.0.0), any client; vpnd routes each
     * client's assigned address into it while the client is connected. */
    bool access;
    int line;
} vpn_host_tunnel;

typedef struct vpn_host_plan {
    vpn_host_tunnel tunnel[VPN_HOST_TUNNELS_MAX];
    size_t n_tunnel;
} vpn_host_plan;

/*
 * Builds the plan for a parsed, validated configuration. On failure err
 * (errlen bytes) says which line and why, and the plan is not to be used.
 * Errors: VPN_ERR_INVAL (arguments), VPN_ERR_UNSUPPORTED (a GRE or
 * multipoint tunnel, an IPv6 VTI, a route vpnd cannot install: via a next
 * hop or a non-tunnel interface), VPN_ERR_POLICY (a tunnel without
 * protection, destination or usable source; no protected tunnel at all;
 * endpoints of different families), VPN_ERR_LIMIT (too many tunnels or
 * routes).
 */
int vpn_host_plan_build(const vpn_conf *c, vpn_host_plan *plan, char *err, size_t errlen);

/* The tunnel named name ("Tunnel0", case-insensitive), or NULL. */
const vpn_host_tunnel *vpn_host_plan_find(const vpn_host_plan *plan, const char *name);

/*
 * The child policy of tunnel index i: its ipsec profile, peers = the
 * tunnel destination only, IPv4 any/any selectors (0.0.0.0/0 both ways,
 * also over an IPv6 underlay), tunnel mode only, tag = i
 * (vpn_ikev2_policy_vti). Strings point into t.
 */
void vpn_host_tunnel_policy(const vpn_host_tunnel *t, uint32_t tag, vpn_ikev2_policy *pol);

/*
 * The prefix whose addresses a selector's range is exactly (10.0.1.0 -
 * 10.0.1.255 is 10.0.1.0/24), for routing a peer's narrowed selectors.
 * Returns 0, or -1 when the range is no prefix or the families differ.
 */
int vpn_host_selector_prefix(const vpn_ikev2_selector *s, vpn_prefix *out);

#ifdef __cplusplus
}
#endif

#endif
