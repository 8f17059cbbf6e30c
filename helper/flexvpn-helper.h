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

#include "ns3/application-container.h"
#include "ns3/ikev2-daemon.h"
#include "ns3/ipv4-address.h"
#include "ns3/net-device.h"
#include "ns3/node-container.h"
#include "ns3/node.h"
#include "ns3/object-factory.h"
#include "ns3/ptr.h"
#include "ns3/vpn-tunnel-net-device.h"

#include <string>
#include <vector>

struct vpn_conf;

namespace ns3
{

/**
 * \ingroup vpn
 * \brief One router of a hub-and-spokes network: its WAN device (the tunnel
 * source, whose first IPv4 address the peers use) and, optionally, the next
 * hop of its default route (0.0.0.0: the caller routes the underlay).
 */
struct FlexVpnSite
{
    Ptr<NetDevice> wan;
    Ipv4Address gateway;
};

/**
 * \ingroup vpn
 * \brief The policy objects and addressing of a hub-and-spokes network.
 *
 * Every field has a default; change only what a scenario varies.
 */
struct FlexVpnHubSpokeOptions
{
    /** Body of `crypto ikev2 proposal` (one IOS command per line). */
    std::string ikeProposal{"encryption aes-gcm-256\nprf sha256\ngroup 19"};
    /** What follows `crypto ipsec transform-set NAME` (IOS transform words). */
    std::string transformSet{"esp-gcm 256"};
    /** ESP transport mode (`mode transport`) or tunnel mode. */
    bool espTransport{true};
    /** `tunnel mode ipsec ipv4` (VTI) instead of GRE/IPsec. */
    bool vti{false};
    /** Spoke i (1-based) gets tunnel subnet tunnelNetwork + i*256, /30: hub .1, spoke .2. */
    Ipv4Address tunnelNetwork{"172.16.0.0"};
    /** Spoke i's pre-shared key (both directions): pskPrefix + i. */
    std::string pskPrefix{"flexvpn-spoke"};
    /** `dpd INTERVAL RETRY on-demand|periodic` on both sides; empty: none. */
    std::string dpd{"10 2 on-demand"};
    /** CHILD_SA lifetime in seconds (`set security-association lifetime seconds`); 0: default. */
    uint32_t childLifetime{0};
    /** IKE SA lifetime in seconds (IKEv2 profile `lifetime`); 0: default. */
    uint32_t ikeLifetime{0};
    /**
     * IOS MQC text (class-maps and policy-maps) added to every router's
     * configuration; with wanServicePolicy, `service-policy output NAME` on
     * each router's WAN interface (queueing the tunnels' ESP there).
     */
    std::string qos;
    std::string wanServicePolicy;
    /** `qos pre-classify` on the tunnel interfaces: the WAN policy sees the inner header. */
    bool qosPreClassify{false};
    /**
     * Routing by RIP over the tunnels instead of static routes (InstallDmvpn
     * only): `router rip` on every router (the classful networks of its LANs
     * and of tunnelNetwork, `timers basic` from ripUpdate), no `ip route` to
     * LANs. With ripSummarise (phase 3) the hub's Tunnel0 has `ip summary-address
     * rip` summary summaryMask and spokes learn that route only; without it
     * the hub's Tunnel0 has `no ip split-horizon` and spokes learn every
     * other spoke's LANs via the hub.
     */
    bool rip{false};
    bool ripSummarise{true};
    uint32_t ripUpdate{5}; //!< RIP update interval (s); invalid and holddown 3x, flush 4x
};

/**
 * \ingroup vpn
 * \brief What InstallHubAndSpokes built: the daemons (not started: set their
 * start times or leave them at 0) and the IOS configurations it generated.
 */
/** A DMVPN phase 3 network (InstallDmvpn): one mGRE interface per router. */
struct DmvpnOptions
{
    std::string ikeProposal{"encryption aes-cbc-256\nintegrity sha256\ngroup 19"};
    std::string transformSet{"esp-aes 256 esp-sha256-hmac"};
    bool espTransport{true};
    /** The tunnel subnet (/16): the hub .0.1, spoke i (1-based) the i-th address after it. */
    Ipv4Address tunnelNetwork{"172.16.0.0"};
    uint32_t networkId{100};
    uint32_t tunnelKey{100};
    std::string nhrpAuth{"DMVPN"};
    /** `ip nhrp holdtime` (s) on every router: registrations and shortcuts live this long. */
    uint32_t holdtime{600};
    std::string psk{"dmvpn-key"};
    std::string dpd{"10 2 on-demand"};
    /** The hub's summary (phase 3): spokes route it via the hub's tunnel address. */
    Ipv4Address summary{"10.0.0.0"};
    Ipv4Mask summaryMask{"255.0.0.0"};
    /**
     * IOS MQC text (class-maps and policy-maps) added to every router's
     * configuration; with wanServicePolicy, `service-policy output NAME` on
     * each router's WAN interface (queueing the tunnels' ESP there).
     */
    std::string qos;
    std::string wanServicePolicy;
    /** `qos pre-classify` on the tunnel interfaces: the WAN policy sees the inner header. */
    bool qosPreClassify{false};
    /**
     * Routing by RIP over the tunnels instead of static routes (InstallDmvpn
     * only): `router rip` on every router (the classful networks of its LANs
     * and of tunnelNetwork, `timers basic` from ripUpdate), no `ip route` to
     * LANs. With ripSummarise (phase 3) the hub's Tunnel0 has `ip summary-address
     * rip` summary summaryMask and spokes learn that route only; without it
     * the hub's Tunnel0 has `no ip split-horizon` and spokes learn every
     * other spoke's LANs via the hub.
     */
    bool rip{false};
    bool ripSummarise{true};
    uint32_t ripUpdate{5}; //!< RIP update interval (s); invalid and holddown 3x, flush 4x
};

struct FlexVpnHubAndSpokes
{
    Ptr<Ikev2Daemon> hub;
    std::vector<Ptr<Ikev2Daemon>> spokes;
    std::string hubConfig;
    std::vector<std::string> spokeConfigs;
    /** The hub's daemon first, then the spokes'. */
    std::vector<Ptr<Ikev2Daemon>> All() const;
};

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
     * the simulation with "node N line L: reason" (see Check).
     */
    Ptr<Ikev2Daemon> Install(Ptr<Node> node, const std::string& iosConfig, bool initiate) const;

    /**
     * What Install would refuse in \p iosConfig on \p node (its devices
     * and addresses assigned), without changing anything: "" when it would
     * install, else the reason, with \p line set to the configuration line
     * (0: none). Programs loading configurations from files call it for
     * every router before building or writing anything, and report with
     * FormatError.
     */
    std::string Check(Ptr<Node> node, const std::string& iosConfig, uint32_t& line) const;

    /** "FILE:LINE: message" (or "FILE: message" without a line). */
    static std::string FormatError(const std::string& file, uint32_t line, const std::string& message);

    /**
     * Configures a hub and its spokes: one tunnel interface per spoke on the
     * hub (`TunnelI` for spoke I, 1-based), `Tunnel0` on each spoke towards
     * the hub, each with its own pre-shared key; IKEv2 and IPsec from the
     * options' policy objects; static routes sending every site's LANs into
     * the tunnels (the hub routes spoke I's LANs into TunnelI, a spoke routes
     * every other site's LANs into Tunnel0, so spoke-to-spoke traffic is
     * decrypted and re-encrypted at the hub). A site's LANs are the connected
     * subnets of its other interfaces (loopback and tunnels excepted).
     * Spokes initiate. The generated configurations go through Install, so
     * the result is what those IOS texts would give.
     */
    FlexVpnHubAndSpokes InstallHubAndSpokes(const FlexVpnSite& hub,
                                            const std::vector<FlexVpnSite>& spokes,
                                            const FlexVpnHubSpokeOptions& options = {}) const;

    /**
     * Configures a DMVPN phase 3 network: `interface Tunnel0` with `tunnel
     * mode gre multipoint`, `tunnel key`, `tunnel protection ipsec profile`
     * on every router; the hub (`ip nhrp map multicast dynamic`, `ip nhrp
     * redirect`) has ONE tunnel device for all spokes and routes each
     * spoke's LANs via that spoke's tunnel address; each spoke (`ip nhrp nhs
     * HUB nbma HUBWAN multicast`, `ip nhrp shortcut`) routes the options'
     * summary via the hub's tunnel address and learns shortcuts (NHRP
     * routes) to other spokes from the hub's redirects. One wildcard
     * pre-shared key (keyring peer 0.0.0.0/0). Spokes register at start;
     * spoke-to-spoke IKE comes up on demand. Any number of spokes the
     * tunnel subnet holds (65,000). The result is what the generated IOS
     * texts give through Install.
     */
    FlexVpnHubAndSpokes InstallDmvpn(const FlexVpnSite& hub,
                                     const std::vector<FlexVpnSite>& spokes,
                                     const DmvpnOptions& options = {}) const;

    /**
     * Configures a FlexVPN hub with a virtual template (issue 14): the hub
     * has `interface Virtual-Template1 type tunnel` (`ip unnumbered
     * Loopback0`, `ip nhrp network-id`, `ip nhrp redirect`, tunnel
     * protection) and `virtual-template 1` in its IKEv2 profile, and its
     * router core clones a Virtual-Access interface per authenticated spoke
     * (one ns-3 device for all of them). Each spoke has `interface Tunnel0`
     * (GRE/IPsec to the hub, `ip nhrp nhs HUB`, `ip nhrp shortcut
     * virtual-template 1`, `ip nhrp redirect`) and its own
     * `Virtual-Template1` (`ip unnumbered Tunnel0`) for sessions from other
     * spokes; spoke-to-spoke goes direct after the hub's redirect, as in
     * DMVPN phase 3. Options as InstallDmvpn (tunnelKey and nhrpAuth are
     * not used: FlexVPN sets neither). The hub's Loopback0 is the first
     * address of tunnelNetwork (/32), spoke I's Tunnel0 the I-th after it.
     * Deviation from IOS: spokes register their tunnel address with the hub
     * by NHRP instead of being given it by IKEv2 configuration exchange.
     */
    FlexVpnHubAndSpokes InstallHubVirtualTemplate(const FlexVpnSite& hub,
                                                  const std::vector<FlexVpnSite>& spokes,
                                                  const DmvpnOptions& options = {}) const;

    /** The tunnel interface \p name (e.g. "Tunnel0") created on \p node, or nullptr. */
    static Ptr<VpnTunnelNetDevice> GetTunnel(Ptr<Node> node, const std::string& name);

    // ---- ns-3 helper shape (ObjectFactory attributes, containers, streams) ----

    FlexVpnHelper();

    /**
     * An attribute of every Ikev2Daemon this helper creates from now on
     * (e.g. "OnDemandHoldDown"); Install's own settings come after it.
     */
    void SetAttribute(const std::string& name, const AttributeValue& value);

    /**
     * An attribute of every VpnTunnelNetDevice this helper creates from now
     * on (e.g. "WanMtu"); what the configuration says (name, mode, tunnel
     * ends) is set after it.
     */
    void SetDeviceAttribute(const std::string& name, const AttributeValue& value);

    /**
     * Install for each node of \p nodes with the configuration of the same
     * index in \p iosConfigs (the sizes must agree). The daemons, in order.
     */
    ApplicationContainer Install(const NodeContainer& nodes,
                                 const std::vector<std::string>& iosConfigs,
                                 bool initiate) const;

    /**
     * Gives each node of \p c its own DRBG stream, \p stream upwards (see
     * VpnNodeEngine::AssignStreams): SPIs, nonces, cookies and DH keys then
     * follow the RngSeed/RngRun and these numbers, not the node ids. Call
     * after Install and before the simulation runs. Returns the number of
     * streams used (one per node).
     */
    int64_t AssignStreams(NodeContainer c, int64_t stream);

  private:
    ObjectFactory m_daemonFactory; //!< Ikev2Daemon
    ObjectFactory m_deviceFactory; //!< VpnTunnelNetDevice

    static void InstallRip(Ptr<Node> node, const struct vpn_conf* conf, const std::string& host);
    FlexVpnHubAndSpokes InstallNhrpHub(const FlexVpnSite& hub,
                                       const std::vector<FlexVpnSite>& spokes,
                                       const DmvpnOptions& options,
                                       bool virtualTemplate) const;
};

} // namespace ns3

#endif
