// DMVPN phase 3 in simulated time (FlexVpnHelper::InstallDmvpn: a hub with
// ONE multipoint GRE device, spokes with `ip nhrp shortcut`, all from IOS
// text): traffic between two spokes first crosses the hub, the hub
// redirects, the spokes resolve each other, the NHRP route (H) goes into
// the spokes' static routing and the traffic moves to the direct tunnel
// with no packet lost; with no traffic the shortcut and its SAs go away
// with the holding time; the hub's single device serves 500 spokes.
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
#include "router/router.h"

#include <sstream>
#include <string>
#include <vector>

using namespace ns3;

namespace
{

using namespace vpnsim;

// ---- phase 3: redirect, shortcut, no loss --------------------------------------------------

class DmvpnShortcutTestCase : public TestCase
{
  public:
    DmvpnShortcutTestCase()
        : TestCase("phase 3: via the hub, redirect, NHRP route installed, traffic moves to the shortcut with no loss")
    {
    }

  private:
    void DoRun() override
    {
        HubSpokes t;
        BuildHubSpokes(t, 3, 3, DmvpnOptions(), false);
        Flow f13 = AddFlow(t, 0, 2, 2.0, 300, 4000);
        Flow f31 = AddFlow(t, 2, 0, 2.0, 300, 4001);
        Ptr<VpnTunnelNetDevice> hubTun = FlexVpnHelper::GetTunnel(t.hub, "Tunnel0");
        uint64_t hubMid = 0;
        uint32_t routesEarly = 99;
        Simulator::Schedule(Seconds(2.015), [&]() {
            routesEarly = NhrpRoutes(t.spokes.Get(0));
        });
        Simulator::Schedule(Seconds(4.0), [&]() { hubMid = hubTun->GetPacketsDecrypted(); });
        std::string dmvpn;
        std::string session;
        std::string nhrp;
        std::string traffic;
        Simulator::Schedule(Seconds(8.5), [&]() {
            dmvpn = t.net.spokes[0]->ShowDmvpn(true);
            nhrp = t.net.spokes[0]->ShowIpNhrp();
            traffic = t.net.hub->ShowIpNhrpTraffic();
            session = t.net.hub->ShowCryptoSession(false);
        });
        Simulator::Stop(Seconds(9.0));
        Simulator::Run();
        // one multipoint device on the hub; every spoke registered over IPsec
        NS_TEST_ASSERT_MSG_EQ(TunnelDevices(t.hub), 1, "the hub has one tunnel device for all spokes");
        NS_TEST_ASSERT_MSG_EQ(vpn_router_mgre_peer_count(RouterOf(t.hub), 0), 3, "three peers on the hub");
        // the first packets crossed the hub before any shortcut existed
        NS_TEST_ASSERT_MSG_EQ(routesEarly, 0, "no NHRP route before the first packets");
        NS_TEST_ASSERT_MSG_GT(hubMid, 0, "the first packets went through the hub");
        // the shortcut: an NHRP route on both spokes, an SA between them
        NS_TEST_ASSERT_MSG_EQ(NhrpRoutes(t.spokes.Get(0)), 1, "spoke 1 holds the route H");
        NS_TEST_ASSERT_MSG_EQ(NhrpRoutes(t.spokes.Get(2)), 1, "spoke 3 holds the route H");
        NS_TEST_ASSERT_MSG_EQ(PeerUp(t.spokes.Get(0), WanOf(t.spokes.Get(2))), true, "spoke-to-spoke SA");
        NS_TEST_ASSERT_MSG_EQ(NhrpRoutes(t.spokes.Get(1)), 0, "spoke 2 learnt nothing");
        // after the move the hub carries none of it
        NS_TEST_ASSERT_MSG_EQ(hubTun->GetPacketsDecrypted(), hubMid, "nothing through the hub after the shortcut");
        // not a packet lost
        NS_TEST_ASSERT_MSG_EQ(f13.server->GetReceived(), f13.packets, "spoke 1 -> 3: all received");
        NS_TEST_ASSERT_MSG_EQ(f31.server->GetReceived(), f31.packets, "spoke 3 -> 1: all received");
        NS_TEST_ASSERT_MSG_EQ(f13.server->GetLost(), 0, "no loss 1 -> 3");
        // the views
        NS_TEST_ASSERT_MSG_NE(dmvpn.find("UP-ACTIVE"), std::string::npos, dmvpn);
        NS_TEST_ASSERT_MSG_NE(nhrp.find("10.1.3.0/24"), std::string::npos, nhrp);
        // the hub's NHRP counters by copy: three spokes' registrations received
        NS_TEST_ASSERT_MSG_NE(traffic.find("   Rcvd: Total "), std::string::npos, traffic);
        NS_TEST_ASSERT_MSG_EQ(traffic.find("   Rcvd: Total 0\n"), std::string::npos, traffic);
        NS_TEST_ASSERT_MSG_EQ(traffic.find(" 0 Registration Request\n         0 Registration Reply"),
                              std::string::npos, traffic);
        std::ostringstream s3;
        s3 << WanOf(t.spokes.Get(2));
        NS_TEST_ASSERT_MSG_NE(dmvpn.find(s3.str()), std::string::npos, dmvpn);
        NS_TEST_ASSERT_MSG_NE(session.find(s3.str()), std::string::npos, session);
        Simulator::Destroy();
    }
};

// ---- expiry --------------------------------------------------------------------------------

class DmvpnExpiryTestCase : public TestCase
{
  public:
    DmvpnExpiryTestCase()
        : TestCase("no traffic: the shortcut, its NHRP route and its SAs go with the holding time")
    {
    }

  private:
    void DoRun() override
    {
        HubSpokes t;
        DmvpnOptions o;
        o.holdtime = 20;
        BuildHubSpokes(t, 3, 3, o, false);
        Flow f = AddFlow(t, 0, 2, 2.0, 100, 4000);
        uint32_t routesAt5 = 0;
        bool peerAt5 = false;
        Simulator::Schedule(Seconds(5.0), [&]() {
            routesAt5 = NhrpRoutes(t.spokes.Get(0));
            peerAt5 = PeerUp(t.spokes.Get(0), WanOf(t.spokes.Get(2)));
        });
        Simulator::Stop(Seconds(30.0));
        Simulator::Run();
        NS_TEST_ASSERT_MSG_EQ(routesAt5, 1, "the shortcut was there");
        NS_TEST_ASSERT_MSG_EQ(peerAt5, true, "with its SA");
        NS_TEST_ASSERT_MSG_EQ(f.server->GetReceived(), f.packets, "all received");
        NS_TEST_ASSERT_MSG_EQ(NhrpRoutes(t.spokes.Get(0)), 0, "the route H went");
        NS_TEST_ASSERT_MSG_EQ(NhrpRoutes(t.spokes.Get(2)), 0, "on both spokes");
        NS_TEST_ASSERT_MSG_EQ(PeerUp(t.spokes.Get(0), WanOf(t.spokes.Get(2))), false, "the SA went");
        NS_TEST_ASSERT_MSG_EQ(VpnIpsecStack::GetOrCreate(t.spokes.Get(0))->GetSaCount(), 2,
                              "only the pair to the hub is left");
        NS_TEST_ASSERT_MSG_EQ(PeerUp(t.spokes.Get(0), WanOf(t.hub)), true, "registrations kept the hub's");
        Simulator::Destroy();
    }
};

// ---- a spoke reboots -------------------------------------------------------------------------

class DmvpnRebootTestCase : public TestCase
{
  public:
    DmvpnRebootTestCase()
        : TestCase("a spoke reboots: it registers again, its peer's stale shortcut SA is replaced, traffic direct again")
    {
    }

  private:
    void DoRun() override
    {
        HubSpokes t;
        BuildHubSpokes(t, 3, 3, DmvpnOptions(), false);
        Ptr<Node> s1 = t.spokes.Get(0);
        Ptr<Node> s3 = t.spokes.Get(2);
        AddFlow(t, 0, 2, 2.0, 2000, 4000); // 40 s each way, across the reboot
        AddFlow(t, 2, 0, 2.0, 2000, 4001);
        uint32_t ikeBefore = 0;
        uint32_t spiBefore = 0;
        Simulator::Schedule(Seconds(6.0), [&]() {
            vpn_addr a;
            vpn_addr_v4(&a, WanOf(s3).Get());
            vpn_router_peer_info pi;
            if (vpn_router_mgre_peer_get(RouterOf(s1), 0, &a, &pi) == 0)
            {
                ikeBefore = pi.ike_sa_id;
                spiBefore = pi.out_sa.spi;
            }
            VpnIpsecStack::GetOrCreate(s3)->Reboot();
        });
        // once things settled (on-demand DPD: 10 s, 2 s retries), a fresh flow loses nothing
        Flow late = AddFlow(t, 0, 2, 30.0, 250, 4002);
        Flow lateBack = AddFlow(t, 2, 0, 30.0, 250, 4003);
        Ptr<VpnTunnelNetDevice> hubTun = FlexVpnHelper::GetTunnel(t.hub, "Tunnel0");
        uint64_t hubAt31 = 0;
        Simulator::Schedule(Seconds(31.0), [&]() { hubAt31 = hubTun->GetPacketsDecrypted(); });
        Simulator::Stop(Seconds(36.0));
        Simulator::Run();
        vpn_addr a;
        vpn_addr_v4(&a, WanOf(s3).Get());
        vpn_router_peer_info pi;
        NS_TEST_ASSERT_MSG_NE(ikeBefore, 0, "spoke 1 had a shortcut SA before");
        NS_TEST_ASSERT_MSG_EQ(vpn_router_mgre_peer_get(RouterOf(s1), 0, &a, &pi), 0, "spoke 1 knows spoke 3");
        NS_TEST_ASSERT_MSG_NE(pi.out_child, 0, "with an SA");
        NS_TEST_ASSERT_MSG_NE(pi.out_sa.spi, spiBefore, "a new SA replaced the stale one");
        NS_TEST_ASSERT_MSG_EQ(PeerUp(s3, WanOf(t.hub)), true, "spoke 3 is back with the hub");
        bool allRegistered = vpn_nhrp_entry_count(vpn_router_nhrp(RouterOf(t.hub), 0)) >= 3;
        NS_TEST_ASSERT_MSG_EQ(allRegistered, true, "the hub holds every registration");
        NS_TEST_ASSERT_MSG_EQ(NhrpRoutes(s1), 1, "spoke 1's route H");
        NS_TEST_ASSERT_MSG_EQ(late.server->GetReceived(), late.packets, "spoke 1 -> 3 afterwards: no loss");
        NS_TEST_ASSERT_MSG_EQ(lateBack.server->GetReceived(), lateBack.packets, "spoke 3 -> 1 afterwards: no loss");
        NS_TEST_ASSERT_MSG_EQ(hubTun->GetPacketsDecrypted(), hubAt31, "and direct, not through the hub");
        Simulator::Destroy();
    }
};

// ---- scale ----------------------------------------------------------------------------------

class DmvpnScaleTestCase : public TestCase
{
  public:
    DmvpnScaleTestCase()
        : TestCase("one multipoint device on the hub serves 500 spokes")
    {
    }

  private:
    void DoRun() override
    {
        HubSpokes t;
        BuildHubSpokes(t, 500, 2, DmvpnOptions(), false);
        // spokes come up over two seconds, as routers do (not all within
        // the hub's 40 half-open IKE SAs at once)
        for (uint32_t i = 0; i < 500; i++)
        {
            t.net.spokes[i]->SetStartTime(MilliSeconds(100 + 4 * i));
        }
        Flow f = AddFlow(t, 0, 1, 3.0, 50, 4000);
        Simulator::Stop(Seconds(5.0));
        Simulator::Run();
        const vpn_router* hub = RouterOf(t.hub);
        NS_TEST_ASSERT_MSG_EQ(TunnelDevices(t.hub), 1, "one tunnel device");
        NS_TEST_ASSERT_MSG_EQ(vpn_router_tunnel_count(hub), 1, "one router tunnel");
        NS_TEST_ASSERT_MSG_EQ(vpn_router_mgre_peer_count(hub, 0), 500, "a peer per spoke");
        NS_TEST_ASSERT_MSG_EQ(vpn_nhrp_entry_count(vpn_router_nhrp(hub, 0)), 500, "a registration per spoke");
        NS_TEST_ASSERT_MSG_EQ(t.net.hub->GetIkeSasUp(), 500, "an IKE SA per spoke");
        NS_TEST_ASSERT_MSG_EQ(f.server->GetReceived(), f.packets, "spoke traffic across the 500-spoke hub");
        Simulator::Destroy();
    }
};

// ---- traffic for the hub itself --------------------------------------------------------------

// A spoke's packets to the hub's own tunnel address come in on the hub's
// mGRE and are for the hub: delivered there, never taken for traffic routed
// back out of the NBMA network. The address is on the tunnel's own subnet,
// so without the route callback's own-address answer (VPN_NHRP_ROUTE_LOCAL)
// the connected prefix says VPN_NHRP_ROUTE_TUNNEL and a phase 3 hub sends
// the spoke a Traffic Indication for its own address (RFC 2332 has no
// shortcut to the egress itself); the spoke then resolves the hub's address.
class DmvpnHubOwnAddressTestCase : public TestCase
{
  public:
    DmvpnHubOwnAddressTestCase()
        : TestCase("phase 3: a spoke's traffic to the hub's tunnel address is delivered on the hub, no redirect")
    {
    }

  private:
    void DoRun() override
    {
        HubSpokes t;
        BuildHubSpokes(t, 2, 1, DmvpnOptions(), false);
        const Ipv4Address hubTunnelAddr("172.16.0.1");
        int32_t hubIf = t.hub->GetObject<Ipv4>()->GetInterfaceForAddress(hubTunnelAddr);
        Ptr<VpnTunnelNetDevice> hubTun = FlexVpnHelper::GetTunnel(t.hub, "Tunnel0");
        NS_TEST_ASSERT_MSG_EQ(hubIf, t.hub->GetObject<Ipv4>()->GetInterfaceForDevice(hubTun),
                              "the hub's Tunnel0 holds 172.16.0.1");
        UdpServerHelper server(4100);
        ApplicationContainer s = server.Install(t.hub);
        s.Start(Seconds(0.5));
        Ptr<UdpServer> sink = DynamicCast<UdpServer>(s.Get(0));
        UdpClientHelper client(hubTunnelAddr, 4100);
        client.SetAttribute("MaxPackets", UintegerValue(100));
        client.SetAttribute("Interval", TimeValue(MilliSeconds(20)));
        client.SetAttribute("PacketSize", UintegerValue(160));
        client.Install(t.hosts[0]).Start(Seconds(2.0));
        Simulator::Stop(Seconds(6.0));
        Simulator::Run();
        vpn_nhrp_stats hub{};
        vpn_nhrp_stats_get(vpn_router_nhrp(RouterOf(t.hub), 0), &hub);
        vpn_nhrp_stats spoke{};
        vpn_nhrp_stats_get(vpn_router_nhrp(RouterOf(t.spokes.Get(0)), 0), &spoke);
        NS_TEST_ASSERT_MSG_EQ(sink->GetReceived(), 100, "delivered on the hub");
        NS_TEST_ASSERT_MSG_GT_OR_EQ(hubTun->GetPacketsDecrypted(), 100, "through the hub's mGRE");
        NS_TEST_ASSERT_MSG_EQ(hub.redirects_sent + hub.redirects_limited, 0,
                              "the hub redirected traffic for itself");
        NS_TEST_ASSERT_MSG_EQ(hub.tx[VPN_NHRP_TRAFFIC_IND], 0, "Traffic Indications sent");
        NS_TEST_ASSERT_MSG_EQ(spoke.tx[VPN_NHRP_RES_REQ], 0, "the spoke resolved the hub's address");
        NS_TEST_ASSERT_MSG_EQ(NhrpRoutes(t.spokes.Get(0)), 0, "no route H on the spoke");
        Simulator::Destroy();
    }
};

// ---- routing over DMVPN ----------------------------------------------------------------------

std::string
ShowIpRoute(Ptr<Node> n)
{
    return VpnIpsecStack::GetOrCreate(n)->ShowIpRoute();
}

// RIP (standing in for EIGRP) over the hub's multipoint tunnel, no static
// routes: the spokes' updates reach the hub, the hub's reach every
// registered spoke (ip nhrp map multicast dynamic). Phase 3: the hub
// summarises (ip summary-address rip 10.0.0.0 255.0.0.0) and spokes learn
// that route only; the shortcut's route H then takes the traffic direct.
class DmvpnRipSummaryTestCase : public TestCase
{
  public:
    DmvpnRipSummaryTestCase()
        : TestCase("RIP over mGRE, phase 3: the hub learns the spokes' LANs, spokes the summary; H route after")
    {
    }

  private:
    void DoRun() override
    {
        HubSpokes t;
        DmvpnOptions o;
        o.rip = true;
        BuildHubSpokes(t, 3, 3, o, false);
        Flow f13 = AddFlow(t, 0, 2, 12.0, 300, 4000);
        Flow f31 = AddFlow(t, 2, 0, 12.0, 300, 4001);
        std::string hubBefore;
        std::string spokeBefore;
        uint32_t routesBefore = 99;
        uint64_t hubMid = 0;
        Simulator::Schedule(Seconds(11.9), [&]() {
            hubBefore = ShowIpRoute(t.hub);
            spokeBefore = ShowIpRoute(t.spokes.Get(0));
            routesBefore = NhrpRoutes(t.spokes.Get(0));
        });
        // voice the hub routes back out of its tunnel (RIP's updates cross it too)
        uint64_t hubVoice = 0;
        t.hub->GetObject<Ipv4L3Protocol>()->TraceConnectWithoutContext(
            "UnicastForward",
            MakeCallback(+[](uint64_t* n, const Ipv4Header& h, Ptr<const Packet>, uint32_t) {
                *n += h.GetProtocol() == 17 && Ipv4Mask("255.255.0.0").IsMatch(h.GetDestination(), "10.1.0.0");
            }).Bind(&hubVoice));
        Simulator::Schedule(Seconds(14.0), [&]() { hubMid = hubVoice; });
        std::string spokeAfter;
        Simulator::Schedule(Seconds(18.5), [&]() { spokeAfter = ShowIpRoute(t.spokes.Get(0)); });
        Simulator::Stop(Seconds(19.0));
        Simulator::Run();
        // nothing static towards the LANs: the configurations say RIP
        NS_TEST_ASSERT_MSG_EQ(t.net.spokeConfigs[0].find("ip route 10."), std::string::npos, t.net.spokeConfigs[0]);
        NS_TEST_ASSERT_MSG_EQ(t.net.hubConfig.find("ip route 10."), std::string::npos, t.net.hubConfig);
        NS_TEST_ASSERT_MSG_NE(t.net.hubConfig.find(" ip summary-address rip 10.0.0.0 255.0.0.0\n"), std::string::npos,
                              t.net.hubConfig);
        // the hub learnt every spoke's LAN over its one multipoint tunnel
        NS_TEST_ASSERT_MSG_NE(hubBefore.find("R        10.1.1.0/24 [120/2] via 172.16.0.2, Tunnel0"),
                              std::string::npos, hubBefore);
        NS_TEST_ASSERT_MSG_NE(hubBefore.find("R        10.1.3.0/24 [120/2] via 172.16.0.4, Tunnel0"),
                              std::string::npos, hubBefore);
        NS_TEST_ASSERT_MSG_NE(hubBefore.find("C        10.0.0.0/8 is directly connected, Null0"), std::string::npos,
                              hubBefore);
        // spoke 1 learnt the summary only, via the hub's tunnel address
        NS_TEST_ASSERT_MSG_NE(spokeBefore.find("R        10.0.0.0/8 [120/2] via 172.16.0.1, Tunnel0"),
                              std::string::npos, spokeBefore);
        NS_TEST_ASSERT_MSG_EQ(spokeBefore.find("10.1.3.0/24"), std::string::npos, spokeBefore);
        NS_TEST_ASSERT_MSG_EQ(spokeBefore.find("\nS        10."), std::string::npos, spokeBefore);
        NS_TEST_ASSERT_MSG_EQ(routesBefore, 0, "no shortcut before the traffic");
        // the traffic followed the summary to the hub, then the shortcut
        NS_TEST_ASSERT_MSG_GT(hubMid, 0, "the first packets went through the hub");
        NS_TEST_ASSERT_MSG_EQ(hubVoice, hubMid, "no voice through the hub after the shortcut");
        NS_TEST_ASSERT_MSG_EQ(NhrpRoutes(t.spokes.Get(0)), 1, "spoke 1 holds the route H");
        NS_TEST_ASSERT_MSG_NE(spokeAfter.find("H        10.1.3.0/24 [250/0] via 172.16.0.4, Tunnel0"),
                              std::string::npos, spokeAfter);
        NS_TEST_ASSERT_MSG_EQ(PeerUp(t.spokes.Get(0), WanOf(t.spokes.Get(2))), true, "spoke-to-spoke SA");
        NS_TEST_ASSERT_MSG_EQ(f13.server->GetReceived(), f13.packets, "spoke 1 -> 3: all received");
        NS_TEST_ASSERT_MSG_EQ(f31.server->GetReceived(), f31.packets, "spoke 3 -> 1: all received");
        Simulator::Destroy();
    }
};

// The hub's periodic RIP updates (multicast over the mGRE, replicated to
// every registered spoke by `ip nhrp map multicast dynamic`) keep reaching
// the spokes: their summary never times out. Before the fix the spokes'
// answers to the hub's first RIP request (unicast to the hub's own tunnel
// address) were taken for traffic routed back out of the tunnel, the hub
// redirected them, the spokes resolved the hub's address and the hub's
// answer replaced their registrations by cached entries, dropping them from
// the multicast list: the summary came and went every ~15 s.
class DmvpnRipStableTestCase : public TestCase
{
  public:
    DmvpnRipStableTestCase()
        : TestCase("RIP over mGRE: the hub's periodic updates reach every spoke; the summary never times out")
    {
    }

  private:
    void DoRun() override
    {
        HubSpokes t;
        DmvpnOptions o;
        o.rip = true; // update 5 s, invalid 15 s, flush 20 s
        BuildHubSpokes(t, 3, 3, o, false);
        // every spoke's RIP socket counts the hub's updates it receives
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
        // from the first exchange to the end (> 3 update periods + the
        // invalid timer), every 250 ms: the summary on every spoke
        const double until = 45.0;
        std::vector<uint32_t> missing(3, 0);
        std::vector<uint32_t> samples(3, 0);
        for (double at = 3.0; at < until; at += 0.25)
        {
            Simulator::Schedule(Seconds(at), [&t, &missing, &samples]() {
                for (uint32_t i = 0; i < 3; i++)
                {
                    samples[i]++;
                    missing[i] += ShowIpRoute(t.spokes.Get(i)).find("R        10.0.0.0/8 [120/2] via 172.16.0.1, "
                                                                   "Tunnel0") == std::string::npos;
                }
            });
        }
        std::string hubNhrp;
        std::string hubDmvpn;
        Simulator::Schedule(Seconds(until - 0.5), [&]() {
            hubNhrp = t.net.hub->ShowIpNhrp();
            hubDmvpn = t.net.hub->ShowDmvpn(false);
        });
        Simulator::Stop(Seconds(until));
        Simulator::Run();
        for (uint32_t i = 0; i < 3; i++)
        {
            NS_TEST_ASSERT_MSG_GT(samples[i], 160, "sampled");
            NS_TEST_ASSERT_MSG_EQ(missing[i], 0, "spoke " << i + 1 << ": the summary went missing");
            // 45 s at 5 to 7.5 s per update: at least 6 periodic updates
            NS_TEST_ASSERT_MSG_GT(fromHub[i], 6, "spoke " << i + 1 << ": the hub's updates");
        }
        // the hub still holds the spokes as registered (dynamic), not cached
        NS_TEST_ASSERT_MSG_NE(hubNhrp.find("172.16.0.2/32"), std::string::npos, hubNhrp);
        NS_TEST_ASSERT_MSG_EQ(hubNhrp.find("router nhop"), std::string::npos, hubNhrp);
        size_t registered = 0;
        for (size_t at = hubNhrp.find("unique registered"); at != std::string::npos;
             at = hubNhrp.find("unique registered", at + 1))
        {
            registered++;
        }
        NS_TEST_ASSERT_MSG_EQ(registered, 3, hubNhrp);
        NS_TEST_ASSERT_MSG_NE(hubDmvpn.find("UP"), std::string::npos, hubDmvpn);
        Simulator::Destroy();
    }
};

// RIP without the summary (DmvpnOptions::ripSummarise = false): the hub's
// Tunnel0 has `no ip split-horizon`, so its updates carry every spoke's LAN
// back out of the one multipoint interface and every spoke learns every
// other spoke's LAN, and keeps it (the hub's periodic updates reach it).
// Unlike IOS phase 2 the next hop stays the hub (ns-3's RIP neither sends
// nor honours RFC 2453 4.4's next hop); the hub's redirect then moves the
// traffic to the shortcut as in phase 3.
class DmvpnRipNoSummaryTestCase : public TestCase
{
  public:
    DmvpnRipNoSummaryTestCase()
        : TestCase("RIP over mGRE without the summary: every spoke learns and keeps every other spoke's LAN")
    {
    }

  private:
    void DoRun() override
    {
        HubSpokes t;
        DmvpnOptions o;
        o.rip = true;
        o.ripSummarise = false;
        BuildHubSpokes(t, 3, 3, o, false);
        Flow f13 = AddFlow(t, 0, 2, 30.0, 200, 4000);
        std::vector<uint32_t> missing(3, 0);
        for (double at = 8.0; at < 30.0; at += 0.5)
        {
            Simulator::Schedule(Seconds(at), [&t, &missing]() {
                for (uint32_t i = 0; i < 3; i++)
                {
                    std::string r = ShowIpRoute(t.spokes.Get(i));
                    for (uint32_t j = 0; j < 3; j++)
                    {
                        std::ostringstream want;
                        want << "R        10.1." << j + 1 << ".0/24 [120/3] via 172.16.0.1, Tunnel0";
                        missing[i] += j != i && r.find(want.str()) == std::string::npos;
                    }
                }
            });
        }
        std::string spokeRoutes;
        Simulator::Schedule(Seconds(29.9), [&]() { spokeRoutes = ShowIpRoute(t.spokes.Get(0)); });
        std::string spokeAfter;
        Simulator::Schedule(Seconds(35.5), [&]() { spokeAfter = ShowIpRoute(t.spokes.Get(0)); });
        Simulator::Stop(Seconds(36.0));
        Simulator::Run();
        NS_TEST_ASSERT_MSG_NE(t.net.hubConfig.find(" no ip split-horizon\n"), std::string::npos, t.net.hubConfig);
        NS_TEST_ASSERT_MSG_EQ(t.net.hubConfig.find("ip summary-address"), std::string::npos, t.net.hubConfig);
        for (uint32_t i = 0; i < 3; i++)
        {
            NS_TEST_ASSERT_MSG_EQ(missing[i], 0, "spoke " << i + 1 << " missed another spoke's LAN: " << spokeRoutes);
        }
        NS_TEST_ASSERT_MSG_EQ(spokeRoutes.find("10.0.0.0/8"), std::string::npos, spokeRoutes);
        // the traffic then takes the shortcut (H, more specific than nothing:
        // the host route beside the RIP /24)
        NS_TEST_ASSERT_MSG_EQ(f13.server->GetReceived(), f13.packets, "spoke 1 -> 3: all received");
        NS_TEST_ASSERT_MSG_NE(spokeAfter.find("H        10.1.3."), std::string::npos, spokeAfter);
        NS_TEST_ASSERT_MSG_EQ(PeerUp(t.spokes.Get(0), WanOf(t.spokes.Get(2))), true, "spoke-to-spoke SA");
        Simulator::Destroy();
    }
};

class DmvpnTestSuite : public TestSuite
{
  public:
    DmvpnTestSuite()
        : TestSuite("dmvpn")
    {
        AddTestCase(new DmvpnShortcutTestCase);
        AddTestCase(new DmvpnExpiryTestCase);
        AddTestCase(new DmvpnRebootTestCase);
        AddTestCase(new DmvpnScaleTestCase);
        AddTestCase(new DmvpnRipSummaryTestCase);
        AddTestCase(new DmvpnRipStableTestCase);
        AddTestCase(new DmvpnRipNoSummaryTestCase);
        AddTestCase(new DmvpnHubOwnAddressTestCase);
    }
};

DmvpnTestSuite g_dmvpnTestSuite;

} // namespace
