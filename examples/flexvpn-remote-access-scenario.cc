#include "flexvpn-remote-access-scenario.h"

#include "ns3/flexvpn-helper.h"

#include "ns3/double.h"
#include "ns3/internet-stack-helper.h"
#include "ns3/ipv4-address-helper.h"
#include "ns3/ipv4-static-routing-helper.h"
#include "ns3/ipv6.h"
#include "ns3/ipv6-interface-container.h"
#include "ns3/log.h"
#include "ns3/point-to-point-helper.h"
#include "ns3/random-variable-stream.h"
#include "ns3/string.h"

#include <sstream>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("FlexVpnRemoteAccess");

namespace
{
const char kProposal[] = "crypto ikev2 proposal P1\n"
                         " encryption aes-gcm-256\n"
                         " prf sha256\n"
                         " group 19\n"
                         "crypto ikev2 policy POL1\n"
                         " proposal P1\n";
const char kIpsec[] = "crypto ipsec transform-set TS esp-gcm 256\n"
                      " mode tunnel\n"
                      "crypto ipsec profile IPP\n"
                      " set transform-set TS\n"
                      " set ikev2-profile RA\n";
const char kHubKey[] = "ra-hub-key";
const char kSpokeKey[] = "ra-spoke-key";
} // namespace

uint32_t
FlexVpnRemoteAccessHelper::Pool6Length(uint32_t poolSize)
{
    uint32_t bits = 1;
    while (bits < 31 && ((1u << bits) - 1u) < poolSize)
    {
        bits++;
    }
    return 128 - bits;
}

std::string
FlexVpnRemoteAccessHelper::HubConfig(uint32_t users, uint32_t poolSize, bool sites, bool ipv6)
{
    std::ostringstream c;
    c << "hostname HUB\n"
      << "aaa new-model\n"
      << "aaa authorization network RA-AUTHOR local\n";
    for (uint32_t i = 1; i <= users; i++)
    {
        c << "username user" << i << " password pw-user" << i << "\n";
    }
    c << "ip local pool RA-POOL 10.99.0.1 10.99." << poolSize / 256 << "." << poolSize % 256 << "\n"
      << "ip access-list standard SPLIT\n"
      << " permit 10.0.0.0 0.0.0.255\n"
      << "crypto ikev2 authorization policy RA-POL\n"
      << " pool RA-POOL\n"
      << " dns 10.0.0.53\n"
      << " route set access-list SPLIT\n";
    if (ipv6)
    {
        // RFC 7296 3.15.1: a /128 each, and the LAN's IPv6 network as an
        // INTERNAL_IP6_SUBNET (the interface's `ipv6 address`)
        c << " ipv6 pool RA-POOL6\n"
          << " route set interface GigabitEthernet2\n"
          << "ipv6 local pool RA-POOL6 fd00:99::/" << Pool6Length(poolSize) << " 128\n";
    }
    if (sites)
    {
        // the spokes: their key, and their networks accepted (FlexVPN's
        // routing over IKEv2), ours announced back
        c << "crypto ikev2 keyring KR\n"
          << " peer SPOKES\n"
          << "  address 0.0.0.0 0.0.0.0\n"
          << "  pre-shared-key " << kSpokeKey << "\n"
          << "crypto ikev2 authorization policy SITES\n"
          << " route accept any\n"
          << " route set interface GigabitEthernet2\n";
    }
    c << kProposal
      << "crypto ikev2 profile RA\n"
      << " match identity remote any\n"
      << " identity local fqdn hub.example\n"
      << " authentication remote eap query-identity\n"
      << " authentication local pre-share key " << kHubKey << "\n"
      << " aaa authorization group eap list RA-AUTHOR RA-POL\n";
    if (sites)
    {
        c << " authentication remote pre-share\n"
          << " keyring local KR\n"
          << " aaa authorization group psk list RA-AUTHOR SITES\n";
    }
    c << " virtual-template 1\n"
      << kIpsec
      << "interface GigabitEthernet1\n"
      << " ip address 198.51.100.1 255.255.255.252\n"
      << "interface GigabitEthernet2\n"
      << " ip address 10.0.0.1 255.255.255.0\n"
      << (ipv6 ? " ipv6 address fd00:1::1/64\n" : "")
      << "interface Virtual-Template1 type tunnel\n"
      << " ip unnumbered GigabitEthernet2\n"
      << " tunnel source GigabitEthernet1\n"
      << " tunnel mode ipsec ipv4\n"
      << " tunnel protection ipsec profile IPP\n"
      << "ip route 0.0.0.0 0.0.0.0 198.51.100.2\n";
    return c.str();
}

std::string
FlexVpnRemoteAccessHelper::UserConfig(uint32_t i, bool ipv6)
{
    std::ostringstream c;
    c << "hostname USER" << i << "\n"
      << kProposal
      << "crypto ikev2 profile RA\n"
      << " match identity remote fqdn hub.example\n"
      << " identity local fqdn user" << i << ".example\n"
      << " authentication remote pre-share key " << kHubKey << "\n"
      << " authentication local eap mschapv2 username user" << i << " password pw-user" << i << "\n"
      << kIpsec
      << "interface GigabitEthernet1\n"
      << " ip address 100.64." << i << ".1 255.255.255.252\n"
      << "interface Tunnel0\n"
      << " ip unnumbered GigabitEthernet1\n"
      << " tunnel source GigabitEthernet1\n"
      << " tunnel destination 198.51.100.1\n"
      << (ipv6 ? " tunnel mode ipsec dual-overlay\n" : " tunnel mode ipsec ipv4\n")
      << " tunnel protection ipsec profile IPP\n"
      << "ip route 10.0.0.0 255.255.255.0 Tunnel0\n"
      << "ip route 0.0.0.0 0.0.0.0 100.64." << i << ".2\n";
    return c.str();
}

std::string
FlexVpnRemoteAccessHelper::SpokeConfig(uint32_t j, bool staticRoute)
{
    std::ostringstream c;
    c << "hostname SPOKE" << j << "\n"
      << "aaa new-model\n"
      << "aaa authorization network SITE-AUTHOR local\n"
      << "crypto ikev2 authorization policy SPOKE\n"
      << " route set interface GigabitEthernet2\n"
      << kProposal
      << "crypto ikev2 profile RA\n"
      << " match identity remote fqdn hub.example\n"
      << " identity local fqdn spoke" << j << ".example\n"
      << " authentication remote pre-share key " << kHubKey << "\n"
      << " authentication local pre-share key " << kSpokeKey << "\n"
      << " aaa authorization group psk list SITE-AUTHOR SPOKE\n"
      << kIpsec
      << "interface GigabitEthernet1\n"
      << " ip address 100.65." << j << ".1 255.255.255.252\n"
      << "interface GigabitEthernet2\n"
      << " ip address 10.2." << j << ".1 255.255.255.0\n"
      << "interface Tunnel0\n"
      << " ip address 10.255.0." << j << " 255.255.255.255\n"
      << " tunnel source GigabitEthernet1\n"
      << " tunnel destination 198.51.100.1\n"
      << " tunnel mode ipsec ipv4\n"
      << " tunnel protection ipsec profile IPP\n";
    if (staticRoute)
    {
        c << "ip route 10.0.0.0 255.255.255.0 Tunnel0\n";
    }
    // else the hub's LAN comes as a route from its CFG_REPLY (INTERNAL_IP4_SUBNET)
    c << "ip route 0.0.0.0 0.0.0.0 100.65." << j << ".2\n";
    return c.str();
}

FlexVpnRemoteAccess
FlexVpnRemoteAccessHelper::Install(const FlexVpnRemoteAccessOptions& o) const
{
    NS_LOG_FUNCTION(this << o.users);
    NS_ABORT_MSG_IF(o.users < 1 || o.users > 250, "FlexVpnRemoteAccessHelper: 1 to 250 users");
    NS_ABORT_MSG_IF(o.spokes > 250, "FlexVpnRemoteAccessHelper: at most 250 spokes");
    uint32_t pool = o.poolSize ? o.poolSize : o.users;
    NS_ABORT_MSG_IF(pool > 65000, "FlexVpnRemoteAccessHelper: pool of at most 65000 addresses");
    FlexVpnRemoteAccess n;
    n.hub = CreateObject<Node>();
    n.hubHost = CreateObject<Node>();
    n.pe = CreateObject<Node>();
    n.users.Create(o.users);
    n.spokes.Create(o.spokes);
    n.siteHosts.Create(o.spokes);

    PointToPointHelper link;
    link.SetDeviceAttribute("DataRate", StringValue("100Mbps"));
    link.SetChannelAttribute("Delay", StringValue(o.accessDelay));
    n.hubWan = link.Install(n.hub, n.pe);
    PointToPointHelper lan;
    lan.SetDeviceAttribute("DataRate", StringValue("1Gbps"));
    lan.SetChannelAttribute("Delay", StringValue("100us"));
    NetDeviceContainer hubLan = lan.Install(n.hub, n.hubHost);
    std::vector<NetDeviceContainer> userLinks;
    for (uint32_t i = 0; i < o.users; i++)
    {
        userLinks.push_back(link.Install(n.users.Get(i), n.pe));
    }
    std::vector<NetDeviceContainer> spokeLinks;
    std::vector<NetDeviceContainer> siteLans;
    for (uint32_t j = 0; j < o.spokes; j++)
    {
        spokeLinks.push_back(link.Install(n.spokes.Get(j), n.pe));
        siteLans.push_back(lan.Install(n.spokes.Get(j), n.siteHosts.Get(j)));
    }
    InternetStackHelper stack;
    stack.Install(NodeContainer(n.hub, n.hubHost, n.pe));
    stack.Install(n.users);
    stack.Install(n.spokes);
    stack.Install(n.siteHosts);
    Ipv4AddressHelper ip;
    ip.SetBase("198.51.100.0", "255.255.255.252");
    ip.Assign(n.hubWan);
    ip.SetBase("10.0.0.0", "255.255.255.0");
    Ipv4InterfaceContainer lanIf = ip.Assign(hubLan);
    n.hostAddress = lanIf.GetAddress(1);
    for (uint32_t i = 0; i < o.users; i++)
    {
        std::ostringstream net;
        net << "100.64." << (i + 1) << ".0";
        ip.SetBase(net.str().c_str(), "255.255.255.252");
        ip.Assign(userLinks[i]);
    }
    Ipv4StaticRoutingHelper routing;
    routing.GetStaticRouting(n.hubHost->GetObject<Ipv4>())->SetDefaultRoute(lanIf.GetAddress(0), 1);
    if (o.ipv6)
    {
        // the hub's LAN in IPv6 too: hub fd00:1::1 (forwarding), hostH ::2
        // with its default route via the hub. (A ULA prefix: ns-3 does not
        // forward 2001:db8::/32, the documentation prefix of RFC 3849.)
        Ipv6InterfaceContainer lan6;
        const char* lanAddr[2] = {"fd00:1::1", "fd00:1::2"};
        for (uint32_t k = 0; k < 2; k++)
        {
            Ptr<NetDevice> dev = hubLan.Get(k);
            Ptr<Ipv6> ipv6 = dev->GetNode()->GetObject<Ipv6>();
            int32_t ifc = ipv6->GetInterfaceForDevice(dev);
            if (ifc < 0)
            {
                ifc = static_cast<int32_t>(ipv6->AddInterface(dev));
            }
            ipv6->AddAddress(static_cast<uint32_t>(ifc),
                             Ipv6InterfaceAddress(Ipv6Address(lanAddr[k]), Ipv6Prefix(64)));
            ipv6->SetUp(static_cast<uint32_t>(ifc));
            lan6.Add(ipv6, static_cast<uint32_t>(ifc));
        }
        lan6.SetForwarding(0, true);
        lan6.SetDefaultRouteInAllNodes(0);
        n.hostAddress6 = Ipv6Address(lanAddr[1]);
    }
    for (uint32_t j = 0; j < o.spokes; j++)
    {
        std::ostringstream wan;
        std::ostringstream site;
        wan << "100.65." << (j + 1) << ".0";
        site << "10.2." << (j + 1) << ".0";
        ip.SetBase(wan.str().c_str(), "255.255.255.252");
        ip.Assign(spokeLinks[j]);
        ip.SetBase(site.str().c_str(), "255.255.255.0");
        Ipv4InterfaceContainer s = ip.Assign(siteLans[j]);
        routing.GetStaticRouting(n.siteHosts.Get(j)->GetObject<Ipv4>())->SetDefaultRoute(s.GetAddress(0), 1);
    }

    FlexVpnHelper flex;
    n.hubConfig = HubConfig(o.users, pool, o.spokes > 0, o.ipv6);
    n.hubDaemon = flex.Install(n.hub, n.hubConfig, false);
    n.hubDaemon->SetStartTime(Seconds(0.1));
    Ptr<UniformRandomVariable> join = CreateObject<UniformRandomVariable>();
    join->SetStream(o.streamBase);
    join->SetAttribute("Min", DoubleValue(o.joinStart));
    join->SetAttribute("Max", DoubleValue(o.joinStart + o.joinSpread));
    for (uint32_t i = 0; i < o.users; i++)
    {
        n.userConfigs.push_back(UserConfig(i + 1, o.ipv6));
        Ptr<Ikev2Daemon> d = flex.Install(n.users.Get(i), n.userConfigs.back(), true);
        Time at = Seconds(join->GetValue());
        d->SetStartTime(at);
        n.joinAt.push_back(at);
        n.userDaemons.push_back(d);
    }
    for (uint32_t j = 0; j < o.spokes; j++)
    {
        n.spokeConfigs.push_back(SpokeConfig(j + 1, o.spokeStaticRoute));
        Ptr<Ikev2Daemon> d = flex.Install(n.spokes.Get(j), n.spokeConfigs.back(), true);
        d->SetStartTime(Seconds(o.spokeStart));
        n.spokeDaemons.push_back(d);
    }
    return n;
}

} // namespace ns3
