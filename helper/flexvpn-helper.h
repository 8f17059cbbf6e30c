/*
 * Builds FlexVPN routers from their IOS configuration: give a node the
 * text a router would have (interfaces with addresses, `interface TunnelN`
 * with tunnel source/destination/mode and `tunnel protection ipsec
 * profile`, the crypto ikev2 / crypto ipsec objects, `ip route`), and the
 * helper creates the tunnel interfaces, their addresses and static routes,
 * and an Ikev2Daemon that negotiates the SAs. Physical interfaces are
 * matched to the node's ns-3 interfaces by their IP address; a Loopback
 * address not found is added to the node's loopback interface.
 */
#ifndef FLEXVPN_HELPER_H
#define FLEXVPN_HELPER_H

#include "ns3/ikev2-daemon.h"
#include "ns3/node.h"
#include "ns3/ptr.h"
#include "ns3/vpn-tunnel-net-device.h"

#include <string>

struct vpn_conf;

namespace ns3
{

/**
 * \ingroup vpn
 * \brief Configures nodes as FlexVPN routers from IOS-style configuration.
 */
class FlexVpnHelper
{
  public:
    /**
     * Applies \p iosConfig to \p node and installs its IKEv2 daemon (not yet
     * started: use its Start/Stop or the returned Application's). With
     * \p initiate the router brings its protected tunnels up itself at
     * start; otherwise it answers its peers. A configuration error aborts
     * the simulation with "<hostname> line N: reason".
     */
    Ptr<Ikev2Daemon> Install(Ptr<Node> node, const std::string& iosConfig, bool initiate) const;

    /** The tunnel interface \p name (e.g. "Tunnel0") created on \p node, or nullptr. */
    static Ptr<VpnTunnelNetDevice> GetTunnel(Ptr<Node> node, const std::string& name);

  private:
    static void InstallRip(Ptr<Node> node, const struct vpn_conf* conf, const std::string& host);
};

} // namespace ns3

#endif
