/*
 * FlexVPN remote access in ns-3 (issue 16): one hub whose
 * `interface Virtual-Template1 type tunnel` serves every user, N users
 * ("laptops") behind a provider router, each an IKEv2 initiator with
 * EAP-MSCHAPv2 (its own `username` on the hub) asking for an address with
 * the configuration payload, which it then puts on its tunnel interface
 * (Ikev2Daemon::GetAssignedAddress) and sends its traffic from.
 *
 *   hostH --10.0.0.0/24-- HUB ==198.51.100.0/30== PE ==100.64.i.0/30== USERi
 *   HUB: Virtual-Template1, ip local pool RA-POOL 10.99.0.1 ... (poolSize),
 *        split tunnel 10.0.0.0/24; USERi: Tunnel0 (VTI) to the hub
 *
 * With spokes > 0 the same Virtual-Template and IKEv2 profile also serve
 * site-to-site spokes (FlexVPN's one hub block): SPOKEj (PSK, Tunnel0 VTI,
 * its LAN 10.2.j.0/24 with SITEj at 10.2.j.2) announces its LAN in a
 * CFG_REQUEST (`aaa authorization group psk` with `route set interface`);
 * the hub's SITES policy (`route accept any`) narrows the spoke's
 * selectors to it and routes it into the template; spokes take no pool
 * address.
 *
 *   SITEj --10.2.j.0/24-- SPOKEj ==100.65.j.0/30== PE
 *
 * With ipv6 the users are dual-stack: their Tunnel0 is `tunnel mode
 * ipsec dual-overlay`, the hub's policy adds `ipv6 pool RA-POOL6`
 * (fd00:99::/N, /128s) and `route set interface GigabitEthernet2`
 * (its `ipv6 address fd00:1::1/64`); each user gets an IPv6 address
 * beside its IPv4 one (RFC 7296 3.15.1), routes hostH's fd00:1::2
 * from the CFG_REPLY into the tunnel, and its IPv6 packets ride the same
 * CHILD_SA.
 *
 * Users join at random times (uniform in [joinStart, joinStart +
 * joinSpread), RNG stream streamBase); the IOS configurations are
 * generated (HubConfig, UserConfig) and kept in the result.
 */
#ifndef FLEXVPN_REMOTE_ACCESS_SCENARIO_H
#define FLEXVPN_REMOTE_ACCESS_SCENARIO_H

#include "ns3/ikev2-daemon.h"
#include "ns3/ipv4-interface-container.h"
#include "ns3/ipv6-address.h"
#include "ns3/net-device-container.h"
#include "ns3/node-container.h"
#include "ns3/nstime.h"

#include <string>
#include <vector>

namespace ns3
{

/** \ingroup vpn Options of FlexVpnRemoteAccessHelper::Install. */
struct FlexVpnRemoteAccessOptions
{
    uint32_t users = 5;          //!< laptops (1-250)
    uint32_t poolSize = 0;       //!< addresses in RA-POOL; 0: one per user
    std::string accessDelay = "5ms"; //!< one-way delay of each provider link
    double joinStart = 0.5;      //!< seconds: the first user may join then
    double joinSpread = 4.0;     //!< seconds over which users join
    int64_t streamBase = 0;      //!< RNG stream of the join times
    uint32_t spokes = 0;         //!< site-to-site spokes on the same block (0-250)
    double spokeStart = 0.3;     //!< seconds: the spokes connect then
    bool spokeStaticRoute = false; //!< spokes route the hub's LAN statically, not from its CFG_REPLY
    bool ipv6 = false;           //!< dual-stack users: an IPv6 address from RA-POOL6 too
};

/** \ingroup vpn What FlexVpnRemoteAccessHelper::Install built. */
struct FlexVpnRemoteAccess
{
    Ptr<Node> hub;
    Ptr<Node> hubHost;           //!< 10.0.0.2, behind the hub
    Ptr<Node> pe;
    NodeContainer users;
    NetDeviceContainer hubWan;   //!< hub, PE
    Ptr<Ikev2Daemon> hubDaemon;
    std::vector<Ptr<Ikev2Daemon>> userDaemons;
    std::vector<Time> joinAt;    //!< when each user's daemon starts
    std::string hubConfig;
    std::vector<std::string> userConfigs;
    Ipv4Address hostAddress;     //!< hostH's address (the users' traffic target)
    Ipv6Address hostAddress6;    //!< hostH's fd00:1::2 (ipv6 only)
    NodeContainer spokes;        //!< site-to-site spokes
    NodeContainer siteHosts;     //!< SITEj, 10.2.j.2 behind SPOKEj
    std::vector<Ptr<Ikev2Daemon>> spokeDaemons;
    std::vector<std::string> spokeConfigs;
};

/**
 * \ingroup vpn
 * \brief Builds the remote-access network above: nodes, links, Internet
 * stacks, addresses, the IOS configurations and the IKEv2 daemons.
 */
class FlexVpnRemoteAccessHelper
{
  public:
    /** The hub's IOS configuration for users user1..N (password pw-userI),
     *  with the site-to-site part (keyring, SITES policy) when sites. */
    static std::string HubConfig(uint32_t users, uint32_t poolSize, bool sites = false, bool ipv6 = false);
    /** User i's (1-based) IOS configuration (ipv6: a dual-overlay Tunnel0). */
    static std::string UserConfig(uint32_t i, bool ipv6 = false);
    /** ipv6: the prefix length of RA-POOL6 (/128s out of it) that holds
     *  poolSize addresses (its all-zeros one is never given). */
    static uint32_t Pool6Length(uint32_t poolSize);
    /** Spoke j's (1-based) IOS configuration: the hub's LAN routed statically, or
     *  (by default) learnt from the hub's CFG_REPLY. */
    static std::string SpokeConfig(uint32_t j, bool staticRoute = false);
    /** Builds everything; the daemons start at their join times. */
    FlexVpnRemoteAccess Install(const FlexVpnRemoteAccessOptions& options) const;
};

} // namespace ns3

#endif
