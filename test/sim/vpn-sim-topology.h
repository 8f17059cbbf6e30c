// The topologies the ns-3 test suites share. Site to site:
//   hostA - HUB1 = WAN (point-to-point) = SPOKE1 - hostB
// LANs 10.1.0.0/24 (HUB1 .1, hostA .2) and 10.2.0.0/24 (SPOKE1 .1,
// hostB .2), WAN 198.51.100.0/30 (HUB1 .1, SPOKE1 .2), as in the router
// configurations the suites install. Nodes are created, and addresses
// assigned, in one fixed order so that node ids and traces do not depend on
// which suite builds it. Hub and spokes (the dmvpn and flexvpn-vt suites):
// a hub and N spokes on access links to one provider router, the first
// spokes with a LAN 10.1.I.0/24 and one host, configured by FlexVpnHelper's
// DMVPN or virtual-template hub.
#ifndef VPN_SIM_TOPOLOGY_H
#define VPN_SIM_TOPOLOGY_H

#include "ns3/applications-module.h"
#include "ns3/core-module.h"
#include "ns3/csma-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"
#include "ns3/vpn-module.h"

#include "router/router.h"

#include <string>
#include <utility>
#include <vector>

namespace ns3
{
namespace vpnsim
{

/**
 * The RngRun this process was started with (NS_GLOBAL_VALUE="RngRun=N", as
 * scripts/intree --runs passes it to test.py; 1 by default): the initial
 * value of the global, which SetRun does not change.
 */
inline uint64_t
GivenRun()
{
    for (auto it = GlobalValue::Begin(); it != GlobalValue::End(); ++it)
    {
        if ((*it)->GetName() == "RngRun")
        {
            UintegerValue current;
            UintegerValue given;
            (*it)->GetValue(current);
            (*it)->ResetInitialValue();
            (*it)->GetValue(given);
            (*it)->SetValue(current);
            return given.Get();
        }
    }
    return 1;
}

/**
 * Pins the random stream a case starts from: \p seed, and run \p run counted
 * from the given RngRun (GivenRun() + run - 1). RngRun=1 gives the streams
 * the cases were written against; a sweep over RngRun (issue 23) gives every
 * case other streams, so none passes by the luck of one stream.
 */
inline void
PinStream(uint32_t seed, uint64_t run = 1)
{
    RngSeedManager::SetSeed(seed);
    RngSeedManager::SetRun(GivenRun() + run - 1);
}

/**
 * Counts the UDP datagrams a node sends (what its IP layer transmits, the
 * Ipv4L3Protocol "Tx" trace) whose source or destination port is one of
 * \p ports, from \p from on: e.g. that a daemon which stopped stays silent.
 * Keep it alive until Simulator::Destroy.
 */
class UdpTxWatch
{
  public:
    UdpTxWatch(Ptr<Node> node, Time from, std::vector<uint16_t> ports)
        : m_from(from),
          m_ports(std::move(ports))
    {
        node->GetObject<Ipv4L3Protocol>()->TraceConnectWithoutContext(
            "Tx",
            MakeCallback(&UdpTxWatch::Tx, this));
    }

    uint64_t Count() const
    {
        return m_count;
    }

  private:
    void Tx(Ptr<const Packet> p, Ptr<Ipv4>, uint32_t)
    {
        if (Simulator::Now() < m_from)
        {
            return;
        }
        Ptr<Packet> c = p->Copy();
        Ipv4Header ip;
        UdpHeader udp;
        if (c->RemoveHeader(ip) == 0 || ip.GetProtocol() != UdpL4Protocol::PROT_NUMBER ||
            ip.GetFragmentOffset() != 0 || c->PeekHeader(udp) == 0)
        {
            return; // later fragments count with their first
        }
        for (uint16_t port : m_ports)
        {
            if (udp.GetSourcePort() == port || udp.GetDestinationPort() == port)
            {
                m_count++;
                return;
            }
        }
    }

    Time m_from;
    std::vector<uint16_t> m_ports;
    uint64_t m_count{0};
};

/** The nodes, devices and LAN interfaces of a SiteToSite topology. */
struct SiteToSite
{
    Ptr<Node> hostA;
    Ptr<Node> hub;
    Ptr<Node> spoke;
    Ptr<Node> hostB;
    NetDeviceContainer wanDevs; //!< Get(0) on HUB1, Get(1) on SPOKE1
    Ipv4InterfaceContainer l1;  //!< hub LAN: 0 is HUB1, 1 is hostA
    Ipv4InterfaceContainer l2;  //!< spoke LAN: 0 is SPOKE1, 1 is hostB
};

/**
 * Builds the topology with internet stacks and addresses. \p lanRate empty
 * keeps the CSMA default data rate.
 */
inline SiteToSite
BuildSiteToSite(const std::string& lanRate, const std::string& wanRate, const std::string& wanDelay)
{
    SiteToSite t;
    t.hostA = CreateObject<Node>();
    t.hub = CreateObject<Node>();
    t.spoke = CreateObject<Node>();
    t.hostB = CreateObject<Node>();
    CsmaHelper lan;
    if (!lanRate.empty())
    {
        lan.SetChannelAttribute("DataRate", StringValue(lanRate));
    }
    NetDeviceContainer lan1 = lan.Install(NodeContainer(t.hub, t.hostA));
    NetDeviceContainer lan2 = lan.Install(NodeContainer(t.spoke, t.hostB));
    PointToPointHelper wan;
    wan.SetDeviceAttribute("DataRate", StringValue(wanRate));
    wan.SetChannelAttribute("Delay", StringValue(wanDelay));
    t.wanDevs = wan.Install(t.hub, t.spoke);
    InternetStackHelper stack;
    stack.Install(NodeContainer(t.hostA, t.hub, t.spoke, t.hostB));
    Ipv4AddressHelper ip;
    ip.SetBase("10.1.0.0", "255.255.255.0");
    t.l1 = ip.Assign(lan1);
    ip.SetBase("10.2.0.0", "255.255.255.0");
    t.l2 = ip.Assign(lan2);
    ip.SetBase("198.51.100.0", "255.255.255.252");
    ip.Assign(t.wanDevs);
    return t;
}

/** The nodes of a hub-and-spokes topology and what FlexVpnHelper installed. */
struct HubSpokes
{
    Ptr<Node> hub;
    Ptr<Node> pe;
    NodeContainer spokes;
    std::vector<Ptr<Node>> hosts; //!< host of spoke i (nullptr: none)
    std::vector<Ipv4Address> hostAddr;
    FlexVpnHubAndSpokes net;
};

/**
 * A hub and \p n spokes on 100 Mb/s, 5 ms access links to one provider
 * router; the first \p withHosts spokes get a LAN 10.1.I.0/24 with one host.
 * FlexVpnHelper::InstallHubVirtualTemplate with \p virtualTemplate, else
 * InstallDmvpn, with \p o.
 */
inline void
BuildHubSpokes(HubSpokes& t, uint32_t n, uint32_t withHosts, const DmvpnOptions& o, bool virtualTemplate)
{
    PinStream(5);
    t.hub = CreateObject<Node>();
    t.pe = CreateObject<Node>();
    t.spokes.Create(n);
    PointToPointHelper access;
    access.SetDeviceAttribute("DataRate", StringValue("100Mbps"));
    access.SetChannelAttribute("Delay", StringValue("5ms"));
    CsmaHelper lan;
    InternetStackHelper stack;
    stack.Install(NodeContainer(t.hub, t.pe));
    stack.Install(t.spokes);
    Ipv4AddressHelper ip;
    ip.SetBase("198.51.100.0", "255.255.255.252");
    NetDeviceContainer hubAccess = access.Install(t.hub, t.pe);
    Ipv4InterfaceContainer hubIf = ip.Assign(hubAccess);
    ip.SetBase("100.64.0.0", "255.255.255.252");
    std::vector<FlexVpnSite> sites;
    for (uint32_t i = 0; i < n; i++)
    {
        NetDeviceContainer d = access.Install(t.spokes.Get(i), t.pe);
        Ipv4InterfaceContainer a = ip.Assign(d);
        ip.NewNetwork();
        sites.push_back({d.Get(0), a.GetAddress(1)});
    }
    t.hosts.assign(n, nullptr);
    t.hostAddr.assign(n, Ipv4Address());
    Ipv4StaticRoutingHelper routing;
    for (uint32_t i = 0; i < withHosts && i < n; i++)
    {
        Ptr<Node> h = CreateObject<Node>();
        stack.Install(h);
        NetDeviceContainer d = lan.Install(NodeContainer(t.spokes.Get(i), h));
        Ipv4AddressHelper lip;
        lip.SetBase(("10.1." + std::to_string(i + 1) + ".0").c_str(), "255.255.255.0");
        Ipv4InterfaceContainer a = lip.Assign(d);
        routing.GetStaticRouting(h->GetObject<Ipv4>())->SetDefaultRoute(a.GetAddress(0), 1);
        t.hosts[i] = h;
        t.hostAddr[i] = a.GetAddress(1);
    }
    FlexVpnHelper flex;
    FlexVpnSite hubSite{hubAccess.Get(0), hubIf.GetAddress(1)};
    t.net = virtualTemplate ? flex.InstallHubVirtualTemplate(hubSite, sites, o)
                            : flex.InstallDmvpn(hubSite, sites, o);
}

/** A flow's receiving server and how many packets were sent. */
struct Flow
{
    Ptr<UdpServer> server;
    uint32_t packets;
};

/** A voice-like flow (50 pps, 160 octets) from spoke \p a's host to spoke \p b's. */
inline Flow
AddFlow(HubSpokes& t, uint32_t a, uint32_t b, double start, uint32_t packets, uint16_t port)
{
    UdpServerHelper server(port);
    ApplicationContainer s = server.Install(t.hosts[b]);
    s.Start(Seconds(0.5));
    UdpClientHelper client(t.hostAddr[b], port);
    client.SetAttribute("MaxPackets", UintegerValue(packets));
    client.SetAttribute("Interval", TimeValue(MilliSeconds(20)));
    client.SetAttribute("PacketSize", UintegerValue(160));
    client.Install(t.hosts[a]).Start(Seconds(start));
    return {DynamicCast<UdpServer>(s.Get(0)), packets};
}

/** NHRP routes (H) on \p n. */
inline uint32_t
NhrpRoutes(Ptr<Node> n)
{
    return VpnIpsecStack::GetOrCreate(n)->GetNhrpRouteCount();
}

inline const vpn_router*
RouterOf(Ptr<Node> n)
{
    return VpnIpsecStack::GetOrCreate(n)->GetRouter();
}

/** VpnTunnelNetDevices on \p n. */
inline uint32_t
TunnelDevices(Ptr<Node> n)
{
    uint32_t c = 0;
    for (uint32_t i = 0; i < n->GetNDevices(); i++)
    {
        c += DynamicCast<VpnTunnelNetDevice>(n->GetDevice(i)) ? 1 : 0;
    }
    return c;
}

/** The address of \p n's first interface (its access link). */
inline Ipv4Address
WanOf(Ptr<Node> n)
{
    return n->GetObject<Ipv4>()->GetAddress(1, 0).GetLocal();
}

/** Whether \p n's first tunnel has an outbound SA to the peer at \p nbma. */
inline bool
PeerUp(Ptr<Node> n, Ipv4Address nbma)
{
    vpn_addr a;
    vpn_addr_v4(&a, nbma.Get());
    vpn_router_peer_info pi;
    return vpn_router_mgre_peer_get(RouterOf(n), 0, &a, &pi) == 0 && pi.out_child != 0;
}

} // namespace vpnsim
} // namespace ns3

#endif // VPN_SIM_TOPOLOGY_H
