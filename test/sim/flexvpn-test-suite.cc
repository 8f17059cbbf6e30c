// FlexVPN in simulated time: two routers configured from IOS text bring up
// IKEv2 and a GRE/IPsec tunnel; traffic crosses the WAN only as ESP; a
// wrong pre-shared key leaves the tunnel down with traffic dropped, never
// sent in clear; a lossy WAN still gets the tunnel up by retransmission; a
// CHILD_SA rekey during traffic loses nothing.
#include "ns3/applications-module.h"
#include "ns3/core-module.h"
#include "ns3/csma-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"
#include "ns3/ppp-header.h"
#include "ns3/test.h"
#include "ns3/vpn-module.h"
#include "vpn-sim-topology.h"

#include <memory>
#include <string>

using namespace ns3;

namespace
{

const char* kHub = R"(hostname HUB1
crypto ikev2 proposal P
 encryption aes-cbc-256
 integrity sha256
 group 19
crypto ikev2 policy POL
 proposal P
crypto ikev2 keyring KR
 peer SPOKE1
  address 192.0.2.2
  pre-shared-key local hub-key
  pre-shared-key remote spoke-key
crypto ikev2 profile PR
 match identity remote address 192.0.2.2 255.255.255.255
 authentication local pre-share
 authentication remote pre-share
 keyring local KR
crypto ipsec transform-set TS esp-gcm 128
 mode transport
crypto ipsec profile IPP
 set transform-set TS
 set ikev2-profile PR
 set security-association lifetime seconds LIFETIME
interface Gi0/0
 ip address 198.51.100.1 255.255.255.252
interface Gi0/1
 ip address 10.1.0.1 255.255.255.0
interface Tunnel0
 ip address 172.16.0.1 255.255.255.252
 tunnel source Gi0/0
 tunnel destination 192.0.2.2
 tunnel protection ipsec profile IPP
ip route 192.0.2.2 255.255.255.255 198.51.100.2
ip route 10.2.0.0 255.255.255.0 Tunnel0
)";

const char* kSpoke = R"(hostname SPOKE1
crypto ikev2 proposal P
 encryption aes-cbc-256
 integrity sha256
 group 19
crypto ikev2 policy POL
 proposal P
crypto ikev2 keyring KR
 peer HUB1
  address 198.51.100.1
  pre-shared-key local SPOKEKEY
  pre-shared-key remote hub-key
crypto ikev2 profile PR
 match identity remote address 198.51.100.1 255.255.255.255
 authentication local pre-share
 authentication remote pre-share
 keyring local KR
crypto ipsec transform-set TS esp-gcm 128
 mode transport
crypto ipsec profile IPP
 set transform-set TS
 set ikev2-profile PR
 set security-association lifetime seconds LIFETIME
interface Loopback0
 ip address 192.0.2.2 255.255.255.255
interface Gi0/0
 ip address 198.51.100.2 255.255.255.252
interface Gi0/1
 ip address 10.2.0.1 255.255.255.0
interface Tunnel0
 ip address 172.16.0.2 255.255.255.252
 tunnel source Loopback0
 tunnel destination 198.51.100.1
 tunnel protection ipsec profile IPP
ip route 10.1.0.0 255.255.255.0 Tunnel0
)";

std::string
Subst(std::string s, const std::string& from, const std::string& to)
{
    for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
    {
        s.replace(p, from.size(), to);
    }
    return s;
}

struct FlexRun
{
    uint32_t hubIkeUp{0}, spokeIkeUp{0}, hubChildren{0}, spokeChildren{0};
    double firstChildUpS{-1};
    uint32_t wanEsp{0}, wanIke{0}, wanOther{0};
    uint64_t echoed{0};
    uint64_t sent{0};
    uint64_t tunnelDrops{0};
    uint32_t failures{0};
    uint32_t childRekeys{0};
    double firstWanIkeS{-1};
    std::string failureReason;
    uint32_t wanMaxIp{0};       // largest IP packet on the WAN (total length)
    uint32_t wanFragments{0};   // IP fragments on the WAN
    uint32_t innerMax{0};       // largest inner packet the tunnels encrypted
    uint32_t innerCount{0};
    uint16_t hubMtu{0}, spokeMtu{0};
    std::vector<uint32_t> rekeyedOld;                  // SPOKE1's ChildSaRekeyed old ids
    std::vector<std::pair<uint32_t, std::string>> down; // SPOKE1's ChildSaDown (id, reason)
    double lastDownS{-1};
    uint64_t hubIkeAfterStop{0}; // IKE datagrams HUB1 sent after its daemon stopped
};

void
WanTx(FlexRun* r, Ptr<const Packet> p)
{
    Ptr<Packet> c = p->Copy();
    PppHeader ppp;
    c->RemoveHeader(ppp);
    Ipv4Header ip;
    c->RemoveHeader(ip);
    r->wanMaxIp = std::max<uint32_t>(r->wanMaxIp, ip.GetPayloadSize() + ip.GetSerializedSize());
    if (!ip.IsLastFragment() || ip.GetFragmentOffset() != 0)
    {
        r->wanFragments++;
    }
    if (ip.GetProtocol() == 50)
    {
        r->wanEsp++;
        return;
    }
    if (ip.GetProtocol() == 17)
    {
        UdpHeader udp;
        c->PeekHeader(udp);
        if (udp.GetDestinationPort() == 500 || udp.GetSourcePort() == 500 ||
            udp.GetDestinationPort() == 4500 || udp.GetSourcePort() == 4500)
        {
            r->wanIke++;
            if (r->firstWanIkeS < 0)
            {
                r->firstWanIkeS = Simulator::Now().GetSeconds();
            }
            return;
        }
    }
    r->wanOther++;
}

void
ChildUp(FlexRun* r, uint32_t, Ipv4Address, const std::string&)
{
    if (r->firstChildUpS < 0)
    {
        r->firstChildUpS = Simulator::Now().GetSeconds();
    }
}

void
Failure(FlexRun* r, uint32_t, Ipv4Address, const std::string& reason)
{
    r->failures++;
    r->failureReason = reason;
}

void
ChildRekeyed(FlexRun* r, uint32_t oldId, uint32_t)
{
    r->childRekeys++;
    r->rekeyedOld.push_back(oldId);
}

void
ChildDown(FlexRun* r, uint32_t id, Ipv4Address, const std::string& reason)
{
    r->down.emplace_back(id, reason);
    r->lastDownS = Simulator::Now().GetSeconds();
}

void
Echo(FlexRun* r, Ptr<const Packet>)
{
    r->echoed++;
}

void
Sent(FlexRun* r, Ptr<const Packet>)
{
    r->sent++;
}

void
Inner(FlexRun* r, Ptr<const Packet> p)
{
    r->innerCount++;
    r->innerMax = std::max(r->innerMax, p->GetSize());
}

void
TunnelDrop(FlexRun* r, Ptr<const Packet>, VpnIpsecStack::DropReason)
{
    r->tunnelDrops++;
}

// hostA - HUB1 = WAN = SPOKE1 - hostB; SPOKE1 initiates at 0.5 s; hostA
// sends `packets` echo requests every 20 ms from `trafficStart`. With
// onDemand SPOKE1 initiates only when traffic needs the tunnel, and the
// requests go the other way (hostB to hostA) so that they meet SPOKE1's
// tunnel first.
// The lossy WAN's receive error model: drops the first IKE message (UDP 500
// or 4500) the device receives, then what the random model drops. The 20%
// random losses alone miss every IKE message on some runs (RngRun 6 and 7:
// nothing retransmitted, issue 23); the first loss makes the retransmission
// the case checks happen on every run.
class FirstIkeLossErrorModel : public ErrorModel
{
  public:
    explicit FirstIkeLossErrorModel(Ptr<ErrorModel> random)
        : m_random(random)
    {
    }

  private:
    static bool IsIke(Ptr<Packet> p)
    {
        Ptr<Packet> c = p->Copy();
        PppHeader ppp;
        Ipv4Header ip;
        UdpHeader udp;
        if (c->RemoveHeader(ppp) == 0 || c->RemoveHeader(ip) == 0 || ip.GetProtocol() != 17 ||
            ip.GetFragmentOffset() != 0 || c->PeekHeader(udp) == 0)
        {
            return false;
        }
        return udp.GetDestinationPort() == 500 || udp.GetDestinationPort() == 4500;
    }

    bool DoCorrupt(Ptr<Packet> p) override
    {
        if (!m_dropped && IsIke(p))
        {
            m_dropped = true;
            return true;
        }
        return m_random->IsCorrupt(p);
    }

    void DoReset() override
    {
        m_dropped = false;
        m_random->Reset();
    }

    Ptr<ErrorModel> m_random;
    bool m_dropped{false};
};

FlexRun
RunFlex(const std::string& spokeKey,
    double wanLoss,
    uint32_t lifetime,
    uint32_t packets,
    double trafficStart,
    double stop,
    bool onDemand = false,
    uint32_t payload = 160,
    double hubStop = 0)
{
    FlexRun r;
    vpnsim::PinStream(3);
    vpnsim::SiteToSite t = vpnsim::BuildSiteToSite("", "10Mbps", "20ms");
    Ptr<Node> hostA = t.hostA;
    Ptr<Node> hub = t.hub;
    Ptr<Node> spoke = t.spoke;
    Ptr<Node> hostB = t.hostB;
    NetDeviceContainer wanDevs = t.wanDevs;
    Ipv4InterfaceContainer l1 = t.l1;
    Ipv4InterfaceContainer l2 = t.l2;
    if (wanLoss > 0)
    {
        for (uint32_t i = 0; i < 2; i++)
        {
            Ptr<RateErrorModel> em = CreateObject<RateErrorModel>();
            em->SetAttribute("ErrorRate", DoubleValue(wanLoss));
            em->SetAttribute("ErrorUnit", StringValue("ERROR_UNIT_PACKET"));
            // Fixed streams: a run is reproducible. The first IKE message
            // each side receives is always lost (FirstIkeLossErrorModel).
            em->AssignStreams(20 + i);
            wanDevs.Get(i)->SetAttribute("ReceiveErrorModel",
                                         PointerValue(CreateObject<FirstIkeLossErrorModel>(em)));
        }
    }
    std::string life = std::to_string(lifetime);
    FlexVpnHelper flex;
    Ptr<Ikev2Daemon> hubIke = flex.Install(hub, Subst(kHub, "LIFETIME", life), false);
    Ptr<Ikev2Daemon> spokeIke =
        flex.Install(spoke, Subst(Subst(kSpoke, "LIFETIME", life), "SPOKEKEY", spokeKey), true);
    hubIke->SetStartTime(Seconds(0.1));
    spokeIke->SetStartTime(Seconds(0.5));
    spokeIke->SetAttribute("InitiateAtStart", BooleanValue(!onDemand));
    spokeIke->TraceConnectWithoutContext("ChildSaUp", MakeBoundCallback(&ChildUp, &r));
    hubIke->TraceConnectWithoutContext("Failure", MakeBoundCallback(&Failure, &r));
    spokeIke->TraceConnectWithoutContext("ChildSaRekeyed", MakeBoundCallback(&ChildRekeyed, &r));
    spokeIke->TraceConnectWithoutContext("ChildSaDown", MakeBoundCallback(&ChildDown, &r));
    std::unique_ptr<vpnsim::UdpTxWatch> hubAfterStop;
    if (hubStop > 0)
    {
        hubIke->SetStopTime(Seconds(hubStop));
        hubAfterStop = std::make_unique<vpnsim::UdpTxWatch>(
            hub,
            Seconds(hubStop),
            std::vector<uint16_t>{500, 4500}); // IKE, IKE with NAT-T (RFC 7296 2.23)
    }
    spokeIke->TraceConnectWithoutContext("Failure", MakeBoundCallback(&Failure, &r));
    FlexVpnHelper::GetTunnel(hub, "Tunnel0")
        ->TraceConnectWithoutContext("Drop", MakeBoundCallback(&TunnelDrop, &r));
    FlexVpnHelper::GetTunnel(spoke, "Tunnel0")
        ->TraceConnectWithoutContext("Drop", MakeBoundCallback(&TunnelDrop, &r));
    for (Ptr<Node> n : {hub, spoke})
    {
        FlexVpnHelper::GetTunnel(n, "Tunnel0")
            ->TraceConnectWithoutContext("Encrypted", MakeBoundCallback(&Inner, &r));
    }
    wanDevs.Get(0)->TraceConnectWithoutContext("PhyTxBegin", MakeBoundCallback(&WanTx, &r));
    wanDevs.Get(1)->TraceConnectWithoutContext("PhyTxBegin", MakeBoundCallback(&WanTx, &r));

    Ipv4StaticRoutingHelper routing;
    routing.GetStaticRouting(hostA->GetObject<Ipv4>())->SetDefaultRoute(l1.GetAddress(0), 1);
    routing.GetStaticRouting(hostB->GetObject<Ipv4>())->SetDefaultRoute(l2.GetAddress(0), 1);
    UdpEchoServerHelper server(9);
    server.Install(onDemand ? hostA : hostB).Start(Seconds(0.1));
    UdpEchoClientHelper client(onDemand ? l1.GetAddress(1) : l2.GetAddress(1), 9);
    client.SetAttribute("MaxPackets", UintegerValue(packets));
    client.SetAttribute("Interval", TimeValue(MilliSeconds(20)));
    client.SetAttribute("PacketSize", UintegerValue(payload));
    ApplicationContainer apps = client.Install(onDemand ? hostB : hostA);
    apps.Start(Seconds(trafficStart));
    apps.Get(0)->TraceConnectWithoutContext("Rx", MakeBoundCallback(&Echo, &r));
    apps.Get(0)->TraceConnectWithoutContext("Tx", MakeBoundCallback(&Sent, &r));
    // Static ARP entries: otherwise ARP's random request jitter and its
    // 3-packet pending queue decide whether the first fragmented echoes
    // survive (the tunnel-MTU case failed so on some runs, issue 23), and no
    // case here is about ARP.
    NeighborCacheHelper().PopulateNeighborCache();
    Simulator::Stop(Seconds(stop));
    Simulator::Run();
    r.hubIkeUp = hubIke->GetIkeSasUp();
    r.spokeIkeUp = spokeIke->GetIkeSasUp();
    r.hubChildren = hubIke->GetChildSasInstalled();
    r.spokeChildren = spokeIke->GetChildSasInstalled();
    r.hubMtu = FlexVpnHelper::GetTunnel(hub, "Tunnel0")->GetMtu();
    r.spokeMtu = FlexVpnHelper::GetTunnel(spoke, "Tunnel0")->GetMtu();
    r.hubIkeAfterStop = hubAfterStop ? hubAfterStop->Count() : 0;
    Simulator::Destroy();
    return r;
}

// A hub and `spokes` spokes behind a provider router (PE), each router with
// one LAN host, configured by FlexVpnHelper::InstallHubAndSpokes. Every
// spoke host sends `packets` echo requests to the next spoke's host (through
// the hub) and to the hub's host.
struct HubSpokeRun
{
    uint32_t ikeUp{0}, childUp{0};
    uint64_t sent{0}, echoed{0};
    uint64_t hubEncrypted{0}, hubDecrypted{0}, drops{0};
    uint32_t wanEsp{0}, wanIke{0}, wanOther{0};
    uint32_t failures{0};
    std::vector<uint16_t> tunnelMtus; // hub's tunnels, then the spokes'
    std::string hubConfig;
    std::string hubIpsecSa; // show crypto ipsec sa at the end
    // show crypto ikev2 profile / proposal before the start (the daemon's
    // parse) and at the end (the node stack's, handed over at start)
    std::string hubProfileBefore, hubProfileEnd, hubProposalBefore, hubProposalEnd;
};

HubSpokeRun
RunHubSpoke(uint32_t spokes, const FlexVpnHubSpokeOptions& options, uint32_t packets, uint32_t payload = 160)
{
    HubSpokeRun r;
    FlexRun wan; // the WAN counters of RunFlex, reused
    vpnsim::PinStream(3);
    Ptr<Node> hub = CreateObject<Node>();
    Ptr<Node> hubHost = CreateObject<Node>();
    Ptr<Node> pe = CreateObject<Node>();
    NodeContainer routers;
    routers.Create(spokes);
    NodeContainer hosts;
    hosts.Create(spokes);
    PointToPointHelper access;
    access.SetDeviceAttribute("DataRate", StringValue("100Mbps"));
    access.SetChannelAttribute("Delay", StringValue("5ms"));
    CsmaHelper lan;
    NetDeviceContainer hubAccess = access.Install(hub, pe);
    NetDeviceContainer hubLan = lan.Install(NodeContainer(hub, hubHost));
    std::vector<NetDeviceContainer> spokeAccess;
    std::vector<NetDeviceContainer> spokeLan;
    for (uint32_t i = 0; i < spokes; i++)
    {
        spokeAccess.push_back(access.Install(routers.Get(i), pe));
        spokeLan.push_back(lan.Install(NodeContainer(routers.Get(i), hosts.Get(i))));
    }
    InternetStackHelper stack;
    stack.Install(NodeContainer(hub, hubHost, pe));
    stack.Install(routers);
    stack.Install(hosts);
    Ipv4AddressHelper ip;
    ip.SetBase("198.51.100.0", "255.255.255.252");
    Ipv4InterfaceContainer hubAccessIf = ip.Assign(hubAccess);
    ip.SetBase("10.0.0.0", "255.255.255.0");
    Ipv4InterfaceContainer hubLanIf = ip.Assign(hubLan);
    std::vector<FlexVpnSite> sites;
    std::vector<Ipv4InterfaceContainer> spokeLanIf;
    for (uint32_t i = 0; i < spokes; i++)
    {
        ip.SetBase(("100.64." + std::to_string(i + 1) + ".0").c_str(), "255.255.255.252");
        Ipv4InterfaceContainer a = ip.Assign(spokeAccess[i]);
        sites.push_back({spokeAccess[i].Get(0), a.GetAddress(1)});
        ip.SetBase(("10." + std::to_string(i + 1) + ".0.0").c_str(), "255.255.255.0");
        spokeLanIf.push_back(ip.Assign(spokeLan[i]));
    }
    FlexVpnHelper flex;
    FlexVpnHubAndSpokes net =
        flex.InstallHubAndSpokes({hubAccess.Get(0), hubAccessIf.GetAddress(1)}, sites, options);
    r.hubConfig = net.hubConfig;
    r.hubProfileBefore = net.hub->ShowCryptoIkev2Profile();
    r.hubProposalBefore = net.hub->ShowCryptoIkev2Proposal();
    for (Ptr<Ikev2Daemon> d : net.All())
    {
        d->TraceConnectWithoutContext("Failure", MakeBoundCallback(&Failure, &wan));
    }
    Ipv4StaticRoutingHelper routing;
    routing.GetStaticRouting(hubHost->GetObject<Ipv4>())->SetDefaultRoute(hubLanIf.GetAddress(0), 1);
    UdpEchoServerHelper server(9);
    server.Install(hubHost).Start(Seconds(0.1));
    for (uint32_t i = 0; i < spokes; i++)
    {
        routing.GetStaticRouting(hosts.Get(i)->GetObject<Ipv4>())
            ->SetDefaultRoute(spokeLanIf[i].GetAddress(0), 1);
        server.Install(hosts.Get(i)).Start(Seconds(0.1));
    }
    for (uint32_t i = 0; i < spokes; i++)
    {
        std::vector<Ipv4Address> targets{hubLanIf.GetAddress(1)};
        if (spokes > 1)
        {
            targets.push_back(spokeLanIf[(i + 1) % spokes].GetAddress(1));
        }
        for (Ipv4Address dst : targets)
        {
            UdpEchoClientHelper client(dst, 9);
            client.SetAttribute("MaxPackets", UintegerValue(packets));
            client.SetAttribute("Interval", TimeValue(MilliSeconds(20)));
            client.SetAttribute("PacketSize", UintegerValue(payload));
            ApplicationContainer apps = client.Install(hosts.Get(i));
            apps.Start(Seconds(2.0));
            apps.Get(0)->TraceConnectWithoutContext("Rx", MakeBoundCallback(&Echo, &wan));
            apps.Get(0)->TraceConnectWithoutContext("Tx", MakeBoundCallback(&Sent, &wan));
        }
    }
    hubAccess.Get(0)->TraceConnectWithoutContext("PhyTxBegin", MakeBoundCallback(&WanTx, &wan));
    hubAccess.Get(1)->TraceConnectWithoutContext("PhyTxBegin", MakeBoundCallback(&WanTx, &wan));
    std::vector<Ptr<VpnTunnelNetDevice>> tunnels;
    for (uint32_t i = 1; i <= spokes; i++)
    {
        tunnels.push_back(FlexVpnHelper::GetTunnel(hub, "Tunnel" + std::to_string(i)));
    }
    for (uint32_t i = 0; i < spokes; i++)
    {
        tunnels.push_back(FlexVpnHelper::GetTunnel(routers.Get(i), "Tunnel0"));
    }
    for (Ptr<VpnTunnelNetDevice> t : tunnels)
    {
        t->TraceConnectWithoutContext("Drop", MakeBoundCallback(&TunnelDrop, &wan));
    }
    // Static ARP entries, as in RunFlex: with RngRun 7 ARP's request jitter
    // and 3-packet pending queue cost one echo (199 of 200, issue 23).
    NeighborCacheHelper().PopulateNeighborCache();
    Time end = Seconds(2.0 + packets * 0.02 + 1.0);
    Simulator::Schedule(end - MilliSeconds(1), [&r, &net]() {
        r.hubIpsecSa = net.hub->ShowCryptoIpsecSa(false);
        r.hubProfileEnd = net.hub->ShowCryptoIkev2Profile();
        r.hubProposalEnd = net.hub->ShowCryptoIkev2Proposal();
    });
    Simulator::Stop(end);
    Simulator::Run();
    for (Ptr<Ikev2Daemon> d : net.All())
    {
        r.ikeUp += d->GetIkeSasUp();
        r.childUp += d->GetChildSasInstalled();
    }
    for (uint32_t i = 0; i < spokes; i++)
    {
        r.hubEncrypted += tunnels[i]->GetPacketsEncrypted();
        r.hubDecrypted += tunnels[i]->GetPacketsDecrypted();
    }
    for (Ptr<VpnTunnelNetDevice> t : tunnels)
    {
        r.tunnelMtus.push_back(t->GetMtu());
    }
    r.sent = wan.sent;
    r.echoed = wan.echoed;
    r.drops = wan.tunnelDrops;
    r.wanEsp = wan.wanEsp;
    r.wanIke = wan.wanIke;
    r.wanOther = wan.wanOther;
    r.failures = wan.failures;
    Simulator::Destroy();
    return r;
}

} // namespace

class FlexvpnTunnelMtuTestCase : public TestCase
{
  public:
    FlexvpnTunnelMtuTestCase()
        : TestCase("the tunnel MTU is the WAN MTU less GRE and ESP: a full packet fits the WAN")
    {
    }

  private:
    void DoRun() override
    {
        // GRE + ESP transport, AES-GCM-128 over a 1500-byte WAN: 20 (IP) +
        // 8 (ESP) + 8 (IV) + 16 (ICV) + 2 (trailer), padded to 4; then GRE
        // (4) and its IP header (20) inside: 1442 (test/core/esp-mtu-test.c).
        const uint32_t mtu = 1442;
        FlexRun r = RunFlex("spoke-key", 0.0, 3600, 20, 2.0, 3.0, false, mtu - 28);
        NS_TEST_EXPECT_MSG_EQ(r.hubMtu, mtu, "HUB1's Tunnel0 MTU derived from the WAN");
        NS_TEST_EXPECT_MSG_EQ(r.spokeMtu, mtu, "SPOKE1's too (its WAN found through routing)");
        NS_TEST_EXPECT_MSG_EQ(r.echoed, 20, "every full-size echo came back");
        NS_TEST_EXPECT_MSG_EQ(r.innerCount, 40, "one inner packet per request and echo: not fragmented");
        NS_TEST_EXPECT_MSG_EQ(r.innerMax, mtu, "inner packets of exactly the tunnel MTU");
        NS_TEST_EXPECT_MSG_EQ(r.wanMaxIp, 1500, "the ESP packets fill the WAN MTU exactly");
        NS_TEST_EXPECT_MSG_EQ(r.wanFragments, 0, "and are not fragmented");
        NS_TEST_EXPECT_MSG_EQ(r.wanEsp, 40, "one ESP packet each");

        // One byte more: the inner packet is fragmented before the tunnel,
        // never the ESP packet on the WAN.
        FlexRun big = RunFlex("spoke-key", 0.0, 3600, 20, 2.0, 3.0, false, mtu - 28 + 1);
        NS_TEST_EXPECT_MSG_EQ(big.echoed, 20, "oversized echoes still come back");
        NS_TEST_EXPECT_MSG_EQ(big.innerCount, 80, "each split in two before the tunnel");
        NS_TEST_EXPECT_MSG_LT_OR_EQ(big.wanMaxIp, 1500, "nothing above the WAN MTU");
        NS_TEST_EXPECT_MSG_EQ(big.wanFragments, 0, "no fragmented ESP on the WAN");
    }
};

class FlexvpnHubSpokeHelperTestCase : public TestCase
{
  public:
    FlexvpnHubSpokeHelperTestCase()
        : TestCase("InstallHubAndSpokes: 3 spokes, all SAs up, spoke to spoke through the hub")
    {
    }

  private:
    void DoRun() override
    {
        FlexVpnHubSpokeOptions o;
        HubSpokeRun r = RunHubSpoke(3, o, 50);
        NS_TEST_EXPECT_MSG_EQ(r.ikeUp, 6, "an IKE SA per spoke, on both ends");
        NS_TEST_EXPECT_MSG_EQ(r.childUp, 6, "a CHILD_SA per spoke, on both ends");
        NS_TEST_EXPECT_MSG_EQ(r.failures, 0, "no failure");
        NS_TEST_EXPECT_MSG_EQ(r.sent, 300, "each spoke host sent to the hub and to the next spoke");
        NS_TEST_EXPECT_MSG_EQ(r.echoed, 300, "every echo came back");
        NS_TEST_EXPECT_MSG_EQ(r.drops, 0, "no drop at any tunnel");
        // To the hub: request in, echo out (50 each per spoke); spoke to
        // spoke: request and echo both pass the hub in and out (2 x 50 per
        // spoke). 150 + 300 each way.
        NS_TEST_EXPECT_MSG_EQ(r.hubDecrypted, 450, "the hub decrypted both flows");
        NS_TEST_EXPECT_MSG_EQ(r.hubEncrypted, 450, "and re-encrypted spoke-to-spoke traffic");
        NS_TEST_EXPECT_MSG_EQ(r.wanEsp, 900, "the hub's WAN carries it all as ESP");
        NS_TEST_EXPECT_MSG_EQ(r.wanIke, 12, "two exchanges per spoke");
        NS_TEST_EXPECT_MSG_EQ(r.wanOther, 0, "nothing in clear on the hub's WAN");
        NS_TEST_EXPECT_MSG_NE(r.hubConfig.find("interface Tunnel3"), std::string::npos,
                              "the hub has a tunnel per spoke");
        NS_TEST_EXPECT_MSG_NE(r.hubConfig.find("ip route 10.2.0.0 255.255.255.0 Tunnel2"),
                              std::string::npos,
                              "spoke 2's LAN is routed into its tunnel");
        // The daemon hands its parsed configuration to the node's stack at
        // start (one copy per node, issue 14): the views read it there.
        NS_TEST_EXPECT_MSG_NE(r.hubProfileBefore.find("IKEv2 profile"), std::string::npos,
                              "show crypto ikev2 profile before the start");
        NS_TEST_EXPECT_MSG_EQ(r.hubProfileEnd, r.hubProfileBefore, "and the same once running");
        NS_TEST_EXPECT_MSG_NE(r.hubProposalBefore.find("IKEv2 proposal"), std::string::npos,
                              "show crypto ikev2 proposal before the start");
        NS_TEST_EXPECT_MSG_EQ(r.hubProposalEnd, r.hubProposalBefore, "and the same once running");
    }
};

// Tunnel flavours brought up by IKEv2 through InstallHubAndSpokes (2
// spokes): traffic to the hub and spoke to spoke passes, only as ESP, in
// the ESP mode asked for, through tunnels sized for it.
class FlexvpnTunnelModeTestCase : public TestCase
{
  public:
    FlexvpnTunnelModeTestCase(bool vti, bool espTransport, uint16_t mtu, const std::string& name)
        : TestCase(name),
          m_vti(vti),
          m_transport(espTransport),
          m_mtu(mtu)
    {
    }

  private:
    void DoRun() override
    {
        FlexVpnHubSpokeOptions o;
        o.vti = m_vti;
        o.espTransport = m_transport;
        HubSpokeRun r = RunHubSpoke(2, o, 50);
        NS_TEST_EXPECT_MSG_EQ(r.ikeUp, 4, "IKE SAs up");
        NS_TEST_EXPECT_MSG_EQ(r.childUp, 4, "CHILD_SAs up");
        NS_TEST_EXPECT_MSG_EQ(r.failures, 0, "no failure");
        NS_TEST_EXPECT_MSG_EQ(r.sent, 200, "requests sent");
        NS_TEST_EXPECT_MSG_EQ(r.echoed, 200, "every echo came back, spoke to spoke included");
        NS_TEST_EXPECT_MSG_EQ(r.drops, 0, "no drop at any tunnel");
        NS_TEST_EXPECT_MSG_EQ(r.hubDecrypted, 300, "the hub decrypted");
        NS_TEST_EXPECT_MSG_EQ(r.wanOther, 0, "nothing in clear on the hub's WAN");
        NS_TEST_EXPECT_MSG_EQ(r.wanEsp, 600, "all of it as ESP");
        bool vtiCfg = r.hubConfig.find("tunnel mode ipsec ipv4") != std::string::npos;
        NS_TEST_EXPECT_MSG_EQ(vtiCfg, m_vti, "tunnel mode as asked");
        // IOS ignores `mode transport` on a VTI: its SAs are tunnel mode.
        bool wantTransport = m_transport && !m_vti;
        bool tunnelSa = r.hubIpsecSa.find("in use settings ={Tunnel, }") != std::string::npos;
        bool transportSa = r.hubIpsecSa.find("in use settings ={Transport, }") != std::string::npos;
        NS_TEST_EXPECT_MSG_EQ(tunnelSa, !wantTransport, "ESP tunnel mode negotiated as configured");
        NS_TEST_EXPECT_MSG_EQ(transportSa, wantTransport, "ESP transport mode negotiated as configured");
        bool greFlow = r.hubIpsecSa.find("(100.64.1.1/255.255.255.255/47/0)") != std::string::npos;
        NS_TEST_EXPECT_MSG_EQ(greFlow, !m_vti, "GRE tunnels protect GRE (permit 47), VTIs any");
        for (uint16_t mtu : r.tunnelMtus)
        {
            NS_TEST_EXPECT_MSG_EQ(mtu, m_mtu, "tunnel MTU for this encapsulation");
        }
    }

    bool m_vti;
    bool m_transport;
    uint16_t m_mtu;
};

class FlexvpnHandshakeTestCase : public TestCase
{
  public:
    FlexvpnHandshakeTestCase()
        : TestCase("IKEv2 comes up in simulated time; traffic crosses the WAN only as ESP")
    {
    }

  private:
    void DoRun() override
    {
        FlexRun r = RunFlex("spoke-key", 0.0, 3600, 50, 2.0, 5.0);
        NS_TEST_EXPECT_MSG_EQ(r.hubIkeUp, 1, "HUB1 IKE SA up");
        NS_TEST_EXPECT_MSG_EQ(r.spokeIkeUp, 1, "SPOKE1 IKE SA up");
        NS_TEST_EXPECT_MSG_EQ(r.hubChildren, 1, "HUB1 CHILD_SA");
        NS_TEST_EXPECT_MSG_EQ(r.spokeChildren, 1, "SPOKE1 CHILD_SA");
        // Two round trips of 40 ms after the spoke starts at 0.5 s.
        NS_TEST_EXPECT_MSG_GT(r.firstChildUpS, 0.5, "CHILD_SA after the start");
        NS_TEST_EXPECT_MSG_LT(r.firstChildUpS, 0.7, "CHILD_SA within two round trips");
        NS_TEST_EXPECT_MSG_EQ(r.echoed, 50, "every echo came back");
        NS_TEST_EXPECT_MSG_EQ(r.wanIke, 4, "IKE_SA_INIT and IKE_AUTH, request and response");
        NS_TEST_EXPECT_MSG_EQ(r.wanEsp, 100, "100 ESP packets");
        NS_TEST_EXPECT_MSG_EQ(r.wanOther, 0, "nothing else on the WAN");
        NS_TEST_EXPECT_MSG_EQ(r.failures, 0, "no failure");
    }
};

class FlexvpnWrongPskTestCase : public TestCase
{
  public:
    FlexvpnWrongPskTestCase()
        : TestCase("a wrong PSK leaves the tunnel down and traffic dropped, never clear")
    {
    }

  private:
    void DoRun() override
    {
        FlexRun r = RunFlex("not-the-key", 0.0, 3600, 50, 2.0, 5.0);
        NS_TEST_EXPECT_MSG_EQ(r.hubChildren + r.spokeChildren, 0, "no CHILD_SA on either side");
        NS_TEST_EXPECT_MSG_EQ(r.hubIkeUp + r.spokeIkeUp, 0, "no IKE SA on either side");
        NS_TEST_EXPECT_MSG_GT(r.failures, 0, "the failure is reported");
        NS_TEST_EXPECT_MSG_EQ(r.echoed, 0, "nothing reaches the far LAN");
        NS_TEST_EXPECT_MSG_EQ(r.tunnelDrops, 50, "the hub drops every request at its tunnel");
        NS_TEST_EXPECT_MSG_EQ(r.wanEsp, 0, "no ESP without SAs");
        NS_TEST_EXPECT_MSG_EQ(r.wanOther, 0, "nothing in clear on the WAN");
    }
};

class FlexvpnLossyWanTestCase : public TestCase
{
  public:
    FlexvpnLossyWanTestCase()
        : TestCase("20% loss on the WAN: retransmissions still bring the tunnel up")
    {
    }

  private:
    void DoRun() override
    {
        FlexRun r = RunFlex("spoke-key", 0.2, 3600, 100, 30.0, 35.0);
        NS_TEST_EXPECT_MSG_EQ(r.spokeChildren, 1, "SPOKE1 got its CHILD_SA");
        NS_TEST_EXPECT_MSG_EQ(r.hubChildren, 1, "HUB1 got its CHILD_SA");
        NS_TEST_EXPECT_MSG_GT(r.wanIke, 4, "some IKE messages were retransmitted");
        // Each echo crosses the lossy WAN twice: about 64% come back.
        NS_TEST_EXPECT_MSG_GT(r.echoed, 40, "traffic flows through the tunnel");
        NS_TEST_EXPECT_MSG_EQ(r.wanOther, 0, "nothing in clear on the WAN");
    }
};

class FlexvpnRekeyTestCase : public TestCase
{
  public:
    FlexvpnRekeyTestCase()
        : TestCase("CHILD_SA rekeys during traffic lose nothing")
    {
    }

  private:
    void DoRun() override
    {
        // 120 s lifetime, 300 s of traffic: at least two rekeys.
        FlexRun r = RunFlex("spoke-key", 0.0, 120, 15000, 2.0, 305.0);
        NS_TEST_EXPECT_MSG_GT(r.hubChildren + r.spokeChildren, 4, "CHILD_SAs were rekeyed");
        NS_TEST_EXPECT_MSG_GT(r.childRekeys, 1, "the rekeys were reported");
        // Each rekey deletes the pair it replaced: ChildSaDown names it.
        NS_TEST_EXPECT_MSG_EQ(r.down.size(), r.childRekeys, "one ChildSaDown per rekey");
        for (size_t i = 0; i < r.down.size() && i < r.rekeyedOld.size(); i++)
        {
            NS_TEST_EXPECT_MSG_EQ(r.down[i].first, r.rekeyedOld[i], "the replaced CHILD_SA went down");
            NS_TEST_EXPECT_MSG_EQ(r.down[i].second, "rekeyed", "because of the rekey");
        }
        NS_TEST_EXPECT_MSG_EQ(r.sent, 15000, "all requests sent");
        NS_TEST_EXPECT_MSG_EQ(r.echoed, 15000, "every echo came back across the rekeys");
        NS_TEST_EXPECT_MSG_EQ(r.tunnelDrops, 0, "no drop at the tunnel");
        NS_TEST_EXPECT_MSG_EQ(r.wanOther, 0, "nothing in clear on the WAN");
    }
};

class FlexvpnPeerGoneTestCase : public TestCase
{
  public:
    FlexvpnPeerGoneTestCase()
        : TestCase("a silent peer: the CHILD_SA expires and ChildSaDown reports it once")
    {
    }

  private:
    void DoRun() override
    {
        // HUB1's daemon stops at 50 s; SPOKE1's rekey at 90% of 120 s goes
        // unanswered, so the CHILD_SA (up at 0.58 s) reaches its hard
        // lifetime; its IKE SA gives up retransmitting about a minute later.
        FlexRun r = RunFlex("spoke-key", 0.0, 120, 10, 2.0, 250.0, false, 160, 50.0);
        // Silent means silent: its IKE engine's own timers (its rekey of the
        // CHILD_SA, DPD) must not reach SPOKE1 either. On ns-3 3.48 a closed
        // UDP socket rebinds on the next send, and the hub's rekey then made
        // SPOKE1 rekey and report a second ChildSaDown, depending on which
        // side's jittered rekey came first in the random stream.
        NS_TEST_EXPECT_MSG_EQ(r.hubIkeAfterStop, 0, "HUB1 sent no IKE after its daemon stopped");
        NS_TEST_EXPECT_MSG_EQ(r.childRekeys, 0, "no rekey completed");
        NS_TEST_EXPECT_MSG_EQ(r.down.size(), 1, "ChildSaDown fired once (not again with the IKE SA)");
        if (!r.down.empty())
        {
            NS_TEST_EXPECT_MSG_EQ(r.down[0].first, 2, "for the CHILD_SA that was up");
            NS_TEST_EXPECT_MSG_EQ(r.down[0].second, "lifetime expired", "reason: hard lifetime");
        }
        NS_TEST_EXPECT_MSG_GT(r.lastDownS, 120.5, "at the hard lifetime");
        NS_TEST_EXPECT_MSG_LT(r.lastDownS, 121.0, "not later");
        NS_TEST_EXPECT_MSG_EQ(r.spokeChildren, 1, "no other CHILD_SA came up");
    }
};

class FlexvpnOnDemandTestCase : public TestCase
{
  public:
    FlexvpnOnDemandTestCase()
        : TestCase("on demand: the first packet brings IKE up, later ones go through")
    {
    }

  private:
    void DoRun() override
    {
        FlexRun r = RunFlex("spoke-key", 0.0, 3600, 50, 2.0, 5.0, true);
        NS_TEST_EXPECT_MSG_EQ(r.spokeIkeUp, 1, "SPOKE1 IKE SA up");
        NS_TEST_EXPECT_MSG_EQ(r.spokeChildren, 1, "one CHILD_SA");
        NS_TEST_EXPECT_MSG_GT_OR_EQ(r.firstWanIkeS, 2.0, "no IKE before the first packet");
        NS_TEST_EXPECT_MSG_LT(r.firstWanIkeS, 2.01, "IKE right after the first packet");
        NS_TEST_EXPECT_MSG_LT(r.firstChildUpS, 2.2, "CHILD_SA within two round trips");
        // Two 40 ms round trips: the requests of the first ~100 ms are
        // dropped at SPOKE1's tunnel (as IOS drops them), then all pass.
        NS_TEST_EXPECT_MSG_GT(r.tunnelDrops, 0, "the first packet was dropped");
        NS_TEST_EXPECT_MSG_LT(r.tunnelDrops, 10, "only while IKE ran");
        NS_TEST_EXPECT_MSG_EQ(r.echoed + r.tunnelDrops, 50, "every later echo came back");
        NS_TEST_EXPECT_MSG_EQ(r.wanIke, 4, "one IKE_SA_INIT and IKE_AUTH exchange");
        NS_TEST_EXPECT_MSG_EQ(r.wanOther, 0, "nothing in clear on the WAN");
    }
};

class FlexvpnOnDemandHoldDownTestCase : public TestCase
{
  public:
    FlexvpnOnDemandHoldDownTestCase()
        : TestCase("on demand with a wrong PSK: one attempt per hold-down, never clear")
    {
    }

  private:
    void DoRun() override
    {
        // 100 requests over 2 s against a peer that refuses our key: the
        // 1 s hold-down allows attempts at 2.0 s and 3.0 s only.
        FlexRun r = RunFlex("not-the-key", 0.0, 3600, 100, 2.0, 6.0, true);
        NS_TEST_EXPECT_MSG_EQ(r.hubIkeUp + r.spokeIkeUp, 0, "no IKE SA");
        NS_TEST_EXPECT_MSG_EQ(r.wanIke, 8, "two attempts of two exchanges each");
        NS_TEST_EXPECT_MSG_EQ(r.tunnelDrops, 100, "every request dropped at the tunnel");
        NS_TEST_EXPECT_MSG_EQ(r.echoed, 0, "nothing got through");
        NS_TEST_EXPECT_MSG_EQ(r.wanEsp + r.wanOther, 0, "nothing else on the WAN");
    }
};

class FlexvpnTestSuite : public TestSuite
{
  public:
    FlexvpnTestSuite()
        : TestSuite("flexvpn")
    {
        AddTestCase(new FlexvpnHandshakeTestCase);
        AddTestCase(new FlexvpnWrongPskTestCase);
        AddTestCase(new FlexvpnLossyWanTestCase);
        AddTestCase(new FlexvpnRekeyTestCase);
        AddTestCase(new FlexvpnPeerGoneTestCase);
        AddTestCase(new FlexvpnOnDemandTestCase);
        AddTestCase(new FlexvpnOnDemandHoldDownTestCase);
        AddTestCase(new FlexvpnHubSpokeHelperTestCase);
        AddTestCase(new FlexvpnTunnelMtuTestCase);
        // AES-GCM-256 over 1500 bytes: ESP tunnel mode carries 1446 (20 +
        // 8 + 8 + 16 + 2, padded to 4); GRE inside costs 24 more.
        AddTestCase(new FlexvpnTunnelModeTestCase(true,
                                                  false,
                                                  1446,
                                                  "VTI (tunnel mode ipsec ipv4) brought up by IKEv2"));
        AddTestCase(new FlexvpnTunnelModeTestCase(false,
                                                  false,
                                                  1422,
                                                  "GRE with ESP tunnel mode brought up by IKEv2"));
        // A VTI whose transform set says `mode transport` still runs ESP
        // tunnel mode (IOS ignores the mode there), so traffic passes.
        AddTestCase(new FlexvpnTunnelModeTestCase(true,
                                                  true,
                                                  1446,
                                                  "VTI with a transport-mode transform set runs tunnel mode"));
    }
};

static FlexvpnTestSuite g_flexvpnTestSuite;
