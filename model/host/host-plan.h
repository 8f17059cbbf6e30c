/*
 * What the host daemon (vpnd) makes of a configuration: one entry per
 * protected tunnel interface, with its outer endpoints, its inner address,
 * the prefixes routed into it (`ip route P M TunnelN`) and the child policy
 * the IKEv2 engine gets for it. Pure: no sockets, no GLib, so that tests
 * check the translation on its own.
 *
 * Static VTIs (`tunnel mode ipsec ipv4`) negotiate any/any selectors, as
 * IOS does, and whatever the kernel routes into the TUN device is
 * protected. Point-to-point GRE/IPsec tunnels (`tunnel mode gre ip`, the
 * IOS default) negotiate IOS's IPSEC FLOW "permit 47 host SRC host DST" in
 * the transform set's mode; the router core (model/core/router, the same
 * code ns-3 runs) puts GRE (RFC 2784/2890, model/core/gre) around what the
 * kernel routes into the TUN device, since the host kernel may have no GRE
 * of its own. A Virtual-Template in VTI mode
 * (`interface Virtual-Template N type tunnel`) is the remote-access hub's
 * interface: one TUN device for all its clients. Multipoint GRE is refused.
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
    /* `ip mtu` was configured; else vpnd lowers mtu where GRE and ESP
     * would not fit the WAN interface's MTU (vpn_router_tunnel_mtu). */
    bool mtu_set;
    vpn_prefix route[VPN_HOST_ROUTES_MAX]; /* prefixes routed into the tunnel */
    size_t n_route;
    /* `interface Virtual-Template N type tunnel` (remote access, FlexVPN
     * hub): no destination (dst is 0.0.0.0), any client; vpnd routes each
     * client's assigned address into it while the client is connected. */
    bool access;
    /* `tunnel mode gre ip` (GRE/IPsec): GRE in the router core, selectors
     * permit 47 between src and dst, the transform set's mode. */
    bool gre;
    bool has_key;                          /* tunnel key K (RFC 2890) */
    uint32_t key;
    int line;
} vpn_host_tunnel;

typedef struct vpn_host_plan {
    vpn_host_tunnel tunnel[VPN_HOST_TUNNELS_MAX];
    size_t n_tunnel;
} vpn_host_plan;

/*
 * Builds the plan for a parsed, validated configuration. On failure err
 * (errlen bytes) says which line and why, and the plan is not to be used.
 * Errors: VPN_ERR_INVAL (arguments), VPN_ERR_UNSUPPORTED (a multipoint
 * GRE tunnel, a GRE Virtual-Template, an IPv6 VTI, a route vpnd cannot install: via a next
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
 * tunnel destination only, tag = i. A VTI: IPv4 any/any selectors
 * (0.0.0.0/0 both ways, also over an IPv6 underlay), tunnel mode only
 * (vpn_ikev2_policy_vti). GRE/IPsec: protocol 47 from src to dst in the
 * transform set's mode (vpn_router_gre_policy). Strings point into t.
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
