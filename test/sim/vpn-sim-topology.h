// The site-to-site topology the ns-3 test suites share:
//   hostA - HUB1 = WAN (point-to-point) = SPOKE1 - hostB
// LANs 10.1.0.0/24 (HUB1 .1, hostA .2) and 10.2.0.0/24 (SPOKE1 .1,
// hostB .2), WAN 198.51.100.0/30 (HUB1 .1, SPOKE1 .2), as in the router
// configurations the suites install. Nodes are created, and addresses
// assigned, in one fixed order so that node ids and traces do not depend on
// which suite builds it.
#ifndef VPN_SIM_TOPOLOGY_H
#define VPN_SIM_TOPOLOGY_H

#include "ns3/core-module.h"
#include "ns3/csma-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"

#include <string>

namespace ns3
{
namespace vpnsim
{

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

} // namespace vpnsim
} // namespace ns3

#endif // VPN_SIM_TOPOLOGY_H
