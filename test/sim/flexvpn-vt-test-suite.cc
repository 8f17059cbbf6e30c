// FlexVPN with a virtual-template hub in simulated time
// (FlexVpnHelper::InstallHubVirtualTemplate, all from IOS text): the hub
// has ONE tunnel device (Virtual-Template1) and its router core clones a
// Virtual-Access per authenticated spoke; spokes have a GRE/IPsec Tunnel0
// to it with `ip nhrp shortcut virtual-template 1`. Traffic between two
// spokes crosses the hub first; the template's `ip nhrp redirect` sends a
// Traffic Indication, the spokes resolve each other, bring up their own
// IKEv2 SA (each cloning its template) and the traffic moves to it with no
// packet lost. The one device serves 300 spokes.
#include "ns3/applications-module.h"
#include "ns3/core-module.h"
#include "ns3/csma-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"
#include "ns3/test.h"
#include "ns3/vpn-module.h"

#include "vpn-sim-topology.h"

#include "nhrp/nhrp.h"
#include "common/vpn-err.h"
#include "router/router.h"

#include <string>
#include <vector>

using namespace ns3;

namespace
{

using namespace vpnsim;

uint32_t
Vas(Ptr<Node> n)
{
    return static_cast<uint32_t>(vpn_router_va_count(VpnIpsecStack::GetOrCreate(n)->GetRouter()));
}

// ---- spoke-to-spoke after the redirect ----------------------------------------------------

class FlexVpnVtShortcutTestCase : public TestCase
{
  public:
    FlexVpnVtShortcutTestCase()
        : TestCase("virtual-template hub: a Virtual-Access per spoke; spoke-to-spoke after the redirect, no loss")
    {
    }

  private:
    void DoRun() override
    {
        HubSpokes t;
        BuildHubSpokes(t, 3, 3, DmvpnOptions(), true);
        Flow f13 = AddFlow(t, 0, 2, 2.0, 300, 4000);
        Flow f31 = AddFlow(t, 2, 0, 2.0, 300, 4001);
        Ptr<VpnTunnelNetDevice> hubTun = FlexVpnHelper::GetTunnel(t.hub, "Virtual-Template1");
        NS_TEST_ASSERT_MSG_NE(hubTun, nullptr, "the hub's template is a device");
        uint64_t hubMid = 0;
        uint32_t routesEarly = 99;
        uint32_t hubVasEarly = 99;
        uint32_t spokeVasEarly = 99;
        Simulator::Schedule(Seconds(2.015), [&]() {
            routesEarly = NhrpRoutes(t.spokes.Get(0));
            hubVasEarly = Vas(t.hub);
            spokeVasEarly = Vas(t.spokes.Get(0));
        });
        Simulator::Schedule(Seconds(4.0), [&]() { hubMid = hubTun->GetPacketsDecrypted(); });
        std::string derived;
        std::string vaHub;
        std::string vaSpoke;
        Simulator::Schedule(Seconds(8.5), [&]() {
            derived = t.net.hub->ShowDerivedConfig(1);
            vaHub = t.net.hub->ShowVirtualAccess();
            vaSpoke = t.net.spokes[0]->ShowVirtualAccess();
        });
        Simulator::Stop(Seconds(9.0));
        Simulator::Run();
        // one device, a clone per spoke, before any spoke-to-spoke traffic
        NS_TEST_ASSERT_MSG_EQ(TunnelDevices(t.hub), 1, "the hub has one tunnel device for all spokes");
        NS_TEST_ASSERT_MSG_EQ(hubVasEarly, 3, "a Virtual-Access per spoke on the hub");
        NS_TEST_ASSERT_MSG_EQ(spokeVasEarly, 0, "no spoke-to-spoke session yet");
        NS_TEST_ASSERT_MSG_EQ(t.net.hub->GetIkeSasUp(), 3, "an IKE SA per spoke");
        NS_TEST_ASSERT_MSG_EQ(routesEarly, 0, "no NHRP route before the first packets");
        NS_TEST_ASSERT_MSG_GT(hubMid, 0, "the first packets went through the hub");
        // after the redirect: the route H, a direct SA and a clone on both spokes
        NS_TEST_ASSERT_MSG_EQ(NhrpRoutes(t.spokes.Get(0)), 1, "spoke 1 holds the route H");
        NS_TEST_ASSERT_MSG_EQ(NhrpRoutes(t.spokes.Get(2)), 1, "spoke 3 holds the route H");
        NS_TEST_ASSERT_MSG_EQ(PeerUp(t.spokes.Get(0), WanOf(t.spokes.Get(2))), true, "spoke-to-spoke SA");
        NS_TEST_ASSERT_MSG_EQ(Vas(t.spokes.Get(0)), 1, "spoke 1 cloned its template for spoke 3");
        NS_TEST_ASSERT_MSG_EQ(Vas(t.spokes.Get(2)), 1, "spoke 3 cloned its template for spoke 1");
        NS_TEST_ASSERT_MSG_EQ(Vas(t.spokes.Get(1)), 0, "spoke 2 has no spoke-to-spoke session");
        NS_TEST_ASSERT_MSG_EQ(Vas(t.hub), 3, "the hub still has three");
        NS_TEST_ASSERT_MSG_EQ(hubTun->GetPacketsDecrypted(), hubMid, "nothing through the hub after the shortcut");
        NS_TEST_ASSERT_MSG_EQ(f13.server->GetReceived(), f13.packets, "spoke 1 -> 3: all received");
        NS_TEST_ASSERT_MSG_EQ(f31.server->GetReceived(), f31.packets, "spoke 3 -> 1: all received");
        NS_TEST_ASSERT_MSG_EQ(f13.server->GetLost(), 0, "no loss 1 -> 3");
        // the views
        NS_TEST_ASSERT_MSG_NE(derived.find("interface Virtual-Access1\n ip unnumbered Loopback0\n"), std::string::npos,
                              derived);
        NS_TEST_ASSERT_MSG_NE(derived.find(" no tunnel protection ipsec initiate\nend\n"), std::string::npos, derived);
        NS_TEST_ASSERT_MSG_NE(vaHub.find("Virtual-Access3 is up"), std::string::npos, vaHub);
        std::ostringstream s3;
        s3 << WanOf(t.spokes.Get(2));
        NS_TEST_ASSERT_MSG_NE(vaSpoke.find("destination " + s3.str()), std::string::npos, vaSpoke);
        Simulator::Destroy();
    }
};

// ---- routing over the virtual template ------------------------------------------------------

std::string
ShowIpRoute(Ptr<Node> n)
{
    return VpnIpsecStack::GetOrCreate(n)->ShowIpRoute();
}

// RIP over the virtual-template hub (DmvpnOptions::rip): the template's one
// device sends the hub's multicast updates on every Virtual-Access, as IOS
// does on its point-to-point clones, so every spoke learns (and keeps) the
// hub's summary; the hub learns every spoke's LAN through the clones; the
// redirect then moves spoke-to-spoke traffic to the shortcut.
class FlexVpnVtRipTestCase : public TestCase
{
  public:
    FlexVpnVtRipTestCase()
        : TestCase("RIP over the virtual template: updates on every Virtual-Access, spokes keep the summary")
    {
    }

  private:
    void DoRun() override
    {
        HubSpokes t;
        DmvpnOptions o;
        o.rip = true;
        BuildHubSpokes(t, 3, 3, o, true);
        Flow f13 = AddFlow(t, 0, 2, 40.0, 200, 4000);
        std::vector<uint32_t> fromHub(3, 0);
        for (uint32_t i = 0; i < 3; i++)
        {
            t.spokes.Get(i)->GetObject<Ipv4L3Protocol>()->TraceConnectWithoutContext(
                "LocalDeliver",
                MakeCallback(+[](uint32_t* n, const Ipv4Header& h, Ptr<const Packet>, uint32_t) {
                    *n += h.GetSource() == Ipv4Address("172.16.0.1") &&
                          h.GetDestination() == Ipv4Address("224.0.0.9");
                }).Bind(&fromHub[i]));
        }
        std::vector<uint32_t> missing(3, 0);
        for (double at = 5.0; at < 40.0; at += 0.25)
        {
            Simulator::Schedule(Seconds(at), [&t, &missing]() {
                for (uint32_t i = 0; i < 3; i++)
                {
                    missing[i] += ShowIpRoute(t.spokes.Get(i)).find("R        10.0.0.0/8 [120/2] via 172.16.0.1, "
                                                                   "Tunnel0") == std::string::npos;
                }
            });
        }
        std::string hubRoutes;
        std::string spokeRoutes;
        Simulator::Schedule(Seconds(39.9), [&]() {
            hubRoutes = ShowIpRoute(t.hub);
            spokeRoutes = ShowIpRoute(t.spokes.Get(0));
        });
        std::string spokeAfter;
        Simulator::Schedule(Seconds(45.5), [&]() { spokeAfter = ShowIpRoute(t.spokes.Get(0)); });
        Simulator::Stop(Seconds(46.0));
        Simulator::Run();
        NS_TEST_ASSERT_MSG_NE(t.net.hubConfig.find("interface Virtual-Template1 type tunnel\n"), std::string::npos,
                              t.net.hubConfig);
        NS_TEST_ASSERT_MSG_NE(t.net.hubConfig.find(" ip summary-address rip 10.0.0.0 255.0.0.0\n"),
                              std::string::npos, t.net.hubConfig);
        NS_TEST_ASSERT_MSG_EQ(t.net.hubConfig.find("ip route 10."), std::string::npos, t.net.hubConfig);
        NS_TEST_ASSERT_MSG_EQ(Vas(t.hub), 3, "a Virtual-Access per spoke");
        for (uint32_t i = 0; i < 3; i++)
        {
            NS_TEST_ASSERT_MSG_EQ(missing[i], 0, "spoke " << i + 1 << ": the summary went missing: " << spokeRoutes);
            NS_TEST_ASSERT_MSG_GT(fromHub[i], 5, "spoke " << i + 1 << ": the hub's updates");
        }
        // the hub learnt every spoke's LAN through its one template device
        NS_TEST_ASSERT_MSG_NE(hubRoutes.find("R        10.1.1.0/24 [120/2] via 172.16.0.2, Virtual-Template1"),
                              std::string::npos, hubRoutes);
        NS_TEST_ASSERT_MSG_NE(hubRoutes.find("R        10.1.3.0/24 [120/2] via 172.16.0.4, Virtual-Template1"),
                              std::string::npos, hubRoutes);
        NS_TEST_ASSERT_MSG_EQ(spokeRoutes.find("10.1.3.0/24"), std::string::npos, spokeRoutes);
        // spoke to spoke: via the hub on the summary, then the shortcut
        NS_TEST_ASSERT_MSG_EQ(f13.server->GetReceived(), f13.packets, "spoke 1 -> 3: all received");
        NS_TEST_ASSERT_MSG_NE(spokeAfter.find("H        10.1.3.0/24"), std::string::npos, spokeAfter);
        NS_TEST_ASSERT_MSG_EQ(PeerUp(t.spokes.Get(0), WanOf(t.spokes.Get(2))), true, "spoke-to-spoke SA");
        Simulator::Destroy();
    }
};

// ---- scale ----------------------------------------------------------------------------------

class FlexVpnVtScaleTestCase : public TestCase
{
  public:
    FlexVpnVtScaleTestCase()
        : TestCase("one Virtual-Template device on the hub serves 300 spokes, a Virtual-Access each")
    {
    }

  private:
    void DoRun() override
    {
        HubSpokes t;
        BuildHubSpokes(t, 300, 2, DmvpnOptions(), true);
        for (uint32_t i = 0; i < 300; i++)
        {
            t.net.spokes[i]->SetStartTime(MilliSeconds(100 + 4 * i));
        }
        Flow f = AddFlow(t, 0, 1, 3.0, 50, 4000);
        Simulator::Stop(Seconds(5.0));
        Simulator::Run();
        const vpn_router* hub = RouterOf(t.hub);
        NS_TEST_ASSERT_MSG_EQ(TunnelDevices(t.hub), 1, "one tunnel device");
        NS_TEST_ASSERT_MSG_EQ(vpn_router_tunnel_count(hub), 1, "one router tunnel");
        NS_TEST_ASSERT_MSG_EQ(vpn_router_va_count(hub), 300, "a Virtual-Access per spoke");
        vpn_router_va_info v;
        NS_TEST_ASSERT_MSG_EQ(vpn_router_va_get(hub, 300, &v), 0, "numbered 1..300");
        NS_TEST_ASSERT_MSG_EQ(vpn_router_va_get(hub, 301, &v), VPN_ERR_NOTFOUND, "and no more");
        NS_TEST_ASSERT_MSG_EQ(t.net.hub->GetIkeSasUp(), 300, "an IKE SA per spoke");
        NS_TEST_ASSERT_MSG_EQ(f.server->GetReceived(), f.packets, "spoke traffic across the 300-spoke hub");
        Simulator::Destroy();
    }
};

class FlexVpnVtTestSuite : public TestSuite
{
  public:
    FlexVpnVtTestSuite()
        : TestSuite("flexvpn-vt")
    {
        AddTestCase(new FlexVpnVtShortcutTestCase);
        AddTestCase(new FlexVpnVtScaleTestCase);
        AddTestCase(new FlexVpnVtRipTestCase);
    }
};

FlexVpnVtTestSuite g_flexVpnVtTestSuite;

} // namespace
