// Driver conformance through the ns-3 shim: the scenarios of
// test/core/router-conformance-test.c (the router core with a counter
// clock), run over sockets, devices and simulated time, with the same
// outcomes:
//   - on-demand DPD (`dpd 10 2 on-demand`) asks nothing while traffic is
//     answered, and takes the IKE SA down (reason DPD) after the peer stops
//     answering;
//   - a kilobyte lifetime runs out under traffic: the CHILD_SA is rekeyed
//     and nothing is lost;
//   - a CHILD_SA rekey by time under traffic loses nothing, and the old
//     pair stays exactly the router's grace (2 s) after CHILD_DOWN(REKEYED);
//   - UDP 4500 demultiplexing: a keepalive is taken as one, a runt datagram
//     and ESP with an unknown SPI are dropped with their reasons, and the
//     tunnel goes on working.
// There is no NAT in ns-3, so ESP in UDP after a real NAT is checked by the
// core driver only.
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

extern "C" {
#include "ikev2/ikev2-engine.h"
#include "router/router.h"
}

#include <map>
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
  address 198.51.100.2
  pre-shared-key conformance-key
crypto ikev2 profile PR
 match identity remote address 198.51.100.2 255.255.255.255
 authentication local pre-share
 authentication remote pre-share
 keyring local KR
PROFILE_EXTRA
crypto ipsec transform-set TS esp-aes 256 esp-sha256-hmac
 mode transport
crypto ipsec profile IPP
 set transform-set TS
 set ikev2-profile PR
IPSEC_EXTRA
interface Gi0/0
 ip address 198.51.100.1 255.255.255.252
interface Gi0/1
 ip address 10.1.0.1 255.255.255.0
interface Tunnel0
 ip address 172.16.0.1 255.255.255.252
 tunnel source Gi0/0
 tunnel destination 198.51.100.2
 tunnel protection ipsec profile IPP
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
  pre-shared-key conformance-key
crypto ikev2 profile PR
 match identity remote address 198.51.100.1 255.255.255.255
 authentication local pre-share
 authentication remote pre-share
 keyring local KR
PROFILE_EXTRA
crypto ipsec transform-set TS esp-aes 256 esp-sha256-hmac
 mode transport
crypto ipsec profile IPP
 set transform-set TS
 set ikev2-profile PR
IPSEC_EXTRA
interface Gi0/0
 ip address 198.51.100.2 255.255.255.252
interface Gi0/1
 ip address 10.2.0.1 255.255.255.0
interface Tunnel0
 ip address 172.16.0.2 255.255.255.252
 tunnel source Gi0/0
 tunnel destination 198.51.100.1
 tunnel protection ipsec profile IPP
ip route 10.1.0.0 255.255.255.0 Tunnel0
)";

std::string
Subst(std::string s, const std::string& from, const std::string& to)
{
    size_t p = s.find(from);
    if (p != std::string::npos)
    {
        s.replace(p, from.size(), to);
    }
    return s;
}

struct ScenarioRun
{
    // SPOKE1 (the initiator)
    std::vector<std::pair<double, std::string>> ikeDown; // time, reason
    std::vector<std::pair<double, std::string>> childDown;
    uint32_t spokeRekeys{0}, hubRekeys{0};
    uint32_t spokeIkeOut{0};         // IKE datagrams SPOKE1 put on the WAN
    double countIkeFrom{0}, countIkeTo{0};
    uint64_t sent{0}, echoed{0};
    std::map<int, uint32_t> hubDrops; // by reason
    uint32_t saCountInGrace{0}, saCountAfterGrace{0};
    bool graceChecked{false};
    Ptr<Node> hub, spoke, hostB;
};

void
IkeDown(ScenarioRun* r, uint32_t, Ipv4Address, const std::string& reason)
{
    r->ikeDown.emplace_back(Simulator::Now().GetSeconds(), reason);
}

void
ChildDown(ScenarioRun* r, uint32_t, Ipv4Address, const std::string& reason)
{
    r->childDown.emplace_back(Simulator::Now().GetSeconds(), reason);
    if (reason == vpn_ikev2_reason_name(VPN_IKEV2_R_REKEYED) && !r->graceChecked)
    {
        // The old pair stays for the grace, the new one beside it.
        r->graceChecked = true;
        Ptr<VpnIpsecStack> s = r->spoke->GetObject<VpnIpsecStack>();
        Simulator::Schedule(MilliSeconds(1990), [r, s]() { r->saCountInGrace = s->GetSaCount(); });
        Simulator::Schedule(MilliSeconds(2010), [r, s]() { r->saCountAfterGrace = s->GetSaCount(); });
    }
}

void
SpokeRekeyed(ScenarioRun* r, uint32_t, uint32_t)
{
    r->spokeRekeys++;
}

void
HubRekeyed(ScenarioRun* r, uint32_t, uint32_t)
{
    r->hubRekeys++;
}

void
SpokeWanTx(ScenarioRun* r, Ptr<const Packet> p)
{
    double now = Simulator::Now().GetSeconds();
    if (now < r->countIkeFrom || now >= r->countIkeTo)
    {
        return;
    }
    Ptr<Packet> c = p->Copy();
    PppHeader ppp;
    c->RemoveHeader(ppp);
    Ipv4Header ip;
    c->RemoveHeader(ip);
    if (ip.GetProtocol() == 17)
    {
        UdpHeader udp;
        c->PeekHeader(udp);
        if (udp.GetSourcePort() == 500 || udp.GetSourcePort() == 4500)
        {
            r->spokeIkeOut++;
        }
    }
}

void
HubDrop(ScenarioRun* r, VpnIpsecStack::DropReason reason, uint32_t)
{
    r->hubDrops[reason]++;
}

void
AnyDrop(std::string who, VpnIpsecStack::DropReason reason, uint32_t spi)
{
    if (getenv("VPN_TEST_LOG"))
    {
        std::cerr << Simulator::Now().GetSeconds() << " " << who << " drop "
                  << VpnIpsecStack::GetDropReasonName(reason) << " spi " << spi << "\n";
    }
}

void
Echo(ScenarioRun* r, Ptr<const Packet>)
{
    r->echoed++;
}

void
Sent(ScenarioRun* r, Ptr<const Packet>)
{
    r->sent++;
}

struct Setup
{
    std::string profileExtra;
    std::string ipsecExtra;
    uint32_t packets{100};
    Time interval{MilliSeconds(20)};
    uint32_t payload{160};
    double stop{10};
    double hubSilentAt{0};     // the hub hears nothing from then on (0: never)
    double countIkeFrom{0}, countIkeTo{0};
    bool inject{false};        // hostB throws hostile datagrams at the hub's 4500
};

void
SendRaw(Ptr<Socket> s, std::vector<uint8_t> bytes)
{
    s->Send(Create<Packet>(bytes.data(), static_cast<uint32_t>(bytes.size())));
}

// hostA - HUB1 = WAN (100 Mbps, 5 ms) = SPOKE1 - hostB; SPOKE1 initiates
// at 0.5 s; hostB sends echo requests to hostA from 1 s.
ScenarioRun
RunScenario(const Setup& su)
{
    ScenarioRun r;
    vpnsim::PinStream(5);
    vpnsim::SiteToSite t = vpnsim::BuildSiteToSite("1Gbps", "100Mbps", "5ms");
    Ptr<Node> hostA = t.hostA;
    Ptr<Node> hub = t.hub;
    Ptr<Node> spoke = t.spoke;
    Ptr<Node> hostB = t.hostB;
    NetDeviceContainer wanDevs = t.wanDevs;
    Ipv4InterfaceContainer l1 = t.l1;
    Ipv4InterfaceContainer l2 = t.l2;
    r.hub = hub;
    r.spoke = spoke;
    r.hostB = hostB;
    r.countIkeFrom = su.countIkeFrom;
    r.countIkeTo = su.countIkeTo;
    // No ARP on the way: the first packets of a 1000/s flow would overflow
    // ARP's pending queue, a loss that says nothing about the tunnel.
    NeighborCacheHelper neighbors;
    neighbors.PopulateNeighborCache();

    FlexVpnHelper flex;
    std::string hubConf = Subst(Subst(kHub, "PROFILE_EXTRA", su.profileExtra), "IPSEC_EXTRA", su.ipsecExtra);
    std::string spokeConf =
        Subst(Subst(kSpoke, "PROFILE_EXTRA", su.profileExtra), "IPSEC_EXTRA", su.ipsecExtra);
    Ptr<Ikev2Daemon> hubIke = flex.Install(hub, hubConf, false);
    Ptr<Ikev2Daemon> spokeIke = flex.Install(spoke, spokeConf, true);
    hubIke->SetStartTime(Seconds(0.1));
    spokeIke->SetStartTime(Seconds(0.5));
    spokeIke->TraceConnectWithoutContext("IkeSaDown", MakeBoundCallback(&IkeDown, &r));
    spokeIke->TraceConnectWithoutContext("ChildSaDown", MakeBoundCallback(&ChildDown, &r));
    spokeIke->TraceConnectWithoutContext("ChildSaRekeyed", MakeBoundCallback(&SpokeRekeyed, &r));
    hubIke->TraceConnectWithoutContext("ChildSaRekeyed", MakeBoundCallback(&HubRekeyed, &r));
    VpnIpsecStack::GetOrCreate(hub)->TraceConnectWithoutContext("Drop", MakeBoundCallback(&HubDrop, &r));
    wanDevs.Get(1)->TraceConnectWithoutContext("PhyTxBegin", MakeBoundCallback(&SpokeWanTx, &r));
    VpnIpsecStack::GetOrCreate(hub)->TraceConnectWithoutContext("Drop", MakeBoundCallback(&AnyDrop, std::string("hub")));
    VpnIpsecStack::GetOrCreate(spoke)->TraceConnectWithoutContext("Drop", MakeBoundCallback(&AnyDrop, std::string("spoke")));
    if (su.hubSilentAt > 0)
    {
        Ptr<NetDevice> hubWan = wanDevs.Get(0);
        Simulator::Schedule(Seconds(su.hubSilentAt), [hubWan]() {
            Ptr<RateErrorModel> em = CreateObject<RateErrorModel>();
            em->SetAttribute("ErrorRate", DoubleValue(1.0));
            em->SetAttribute("ErrorUnit", StringValue("ERROR_UNIT_PACKET"));
            hubWan->SetAttribute("ReceiveErrorModel", PointerValue(em));
        });
    }

    Ipv4StaticRoutingHelper routing;
    routing.GetStaticRouting(hostA->GetObject<Ipv4>())->SetDefaultRoute(l1.GetAddress(0), 1);
    routing.GetStaticRouting(hostB->GetObject<Ipv4>())->SetDefaultRoute(l2.GetAddress(0), 1);
    UdpEchoServerHelper server(9);
    server.Install(hostA).Start(Seconds(0.1));
    UdpEchoClientHelper client(l1.GetAddress(1), 9);
    client.SetAttribute("MaxPackets", UintegerValue(su.packets));
    client.SetAttribute("Interval", TimeValue(su.interval));
    client.SetAttribute("PacketSize", UintegerValue(su.payload));
    ApplicationContainer apps = client.Install(hostB);
    apps.Start(Seconds(1.0));
    apps.Get(0)->TraceConnectWithoutContext("Rx", MakeBoundCallback(&Echo, &r));
    apps.Get(0)->TraceConnectWithoutContext("Tx", MakeBoundCallback(&Sent, &r));

    if (su.inject)
    {
        Ptr<Socket> s = Socket::CreateSocket(hostB, UdpSocketFactory::GetTypeId());
        s->Bind();
        s->Connect(InetSocketAddress(Ipv4Address("198.51.100.1"), 4500));
        std::vector<uint8_t> esp(64, 0x5a);
        esp[0] = 0x7e; // an SPI nobody has
        Simulator::Schedule(Seconds(2.0), &SendRaw, s, std::vector<uint8_t>{0xff});
        Simulator::Schedule(Seconds(2.1), &SendRaw, s, std::vector<uint8_t>{0x01, 0x02});
        Simulator::Schedule(Seconds(2.2), &SendRaw, s, esp);
        Simulator::Schedule(Seconds(2.3), &SendRaw, s, std::vector<uint8_t>(10, 0));
    }

    Simulator::Stop(Seconds(su.stop));
    Simulator::Run();
    if (su.inject)
    {
        vpn_router_stats st;
        vpn_router_stats_get(VpnIpsecStack::GetOrCreate(hub)->GetRouter(), &st);
        r.hubDrops[-1] = static_cast<uint32_t>(st.keepalives_in);
    }
    r.hub = r.spoke = r.hostB = nullptr;
    Simulator::Destroy();
    return r;
}

class DpdOnDemandTestCase : public TestCase
{
  public:
    DpdOnDemandTestCase()
        : TestCase("on-demand DPD finds a silent peer only once traffic goes unanswered")
    {
    }

  private:
    void DoRun() override
    {
        Setup su;
        su.profileExtra = " dpd 10 2 on-demand";
        su.packets = 6000; // 50/s from 1 s to 121 s
        su.stop = 200;
        su.hubSilentAt = 61;
        su.countIkeFrom = 2;
        su.countIkeTo = 61;
        ScenarioRun r = RunScenario(su);
        NS_TEST_EXPECT_MSG_EQ(r.spokeIkeOut, 0, "no liveness check while every packet is answered");
        NS_TEST_EXPECT_MSG_GT_OR_EQ(r.echoed, 2990u, "traffic answered until the hub went silent");
        NS_TEST_ASSERT_MSG_EQ(r.ikeDown.size(), 1u, "SPOKE1's IKE SA went down");
        NS_TEST_EXPECT_MSG_EQ(r.ikeDown[0].second,
                              std::string(vpn_ikev2_reason_name(VPN_IKEV2_R_DPD)),
                              "found by DPD");
        NS_TEST_EXPECT_MSG_GT(r.ikeDown[0].first, 71.0, "not before 10 s of silence");
        NS_TEST_EXPECT_MSG_LT(r.ikeDown[0].first, 140.0, "and while traffic still flowed");
    }
};

class ByteLifetimeTestCase : public TestCase
{
  public:
    ByteLifetimeTestCase()
        : TestCase("a kilobyte lifetime runs out under traffic: rekeyed, nothing lost")
    {
    }

  private:
    void DoRun() override
    {
        Setup su;
        su.ipsecExtra = " set security-association lifetime kilobytes 2560";
        su.packets = 4000; // 1000-byte echoes at 1000/s: ~1 MB/s each way
        su.interval = MilliSeconds(1);
        su.payload = 1000;
        su.stop = 8;
        ScenarioRun r = RunScenario(su);
        NS_TEST_EXPECT_MSG_GT_OR_EQ(r.spokeRekeys, 1u, "rekeyed by bytes (the time lifetime is 3600 s)");
        NS_TEST_EXPECT_MSG_LT_OR_EQ(r.spokeRekeys, 2u, "at most once per 2.3 MB");
        NS_TEST_EXPECT_MSG_EQ(r.hubRekeys, r.spokeRekeys, "both ends saw it");
        NS_TEST_EXPECT_MSG_EQ(r.sent, 4000u, "all sent");
        NS_TEST_EXPECT_MSG_EQ(r.echoed, r.sent, "nothing lost across the rekey");
    }
};

class RekeyGraceTestCase : public TestCase
{
  public:
    RekeyGraceTestCase()
        : TestCase("a CHILD_SA rekey under traffic loses nothing; the old pair stays the grace")
    {
    }

  private:
    void DoRun() override
    {
        Setup su;
        su.ipsecExtra = " set security-association lifetime seconds 120";
        su.packets = 7000; // 50/s from 1 s to 141 s
        su.stop = 145;
        ScenarioRun r = RunScenario(su);
        NS_TEST_EXPECT_MSG_EQ(r.spokeRekeys, 1u, "SPOKE1 rekeyed once (at 90% of 120 s)");
        NS_TEST_EXPECT_MSG_EQ(r.hubRekeys, 1u, "HUB1 too");
        NS_TEST_EXPECT_MSG_EQ(r.echoed, r.sent, "zero loss");
        NS_TEST_EXPECT_MSG_EQ(r.sent, 7000u, "all sent");
        NS_TEST_ASSERT_MSG_EQ(r.childDown.size(), 1u, "the old CHILD_SA went");
        NS_TEST_EXPECT_MSG_EQ(r.childDown[0].second,
                              std::string(vpn_ikev2_reason_name(VPN_IKEV2_R_REKEYED)),
                              "replaced by the rekey");
        NS_TEST_EXPECT_MSG_EQ(r.saCountInGrace, 4u, "old and new pair during the grace");
        NS_TEST_EXPECT_MSG_EQ(r.saCountAfterGrace, 2u, "the new pair alone after it");
    }
};

class NattDemuxTestCase : public TestCase
{
  public:
    NattDemuxTestCase()
        : TestCase("UDP 4500: keepalives taken, runts and unknown ESP dropped with reasons")
    {
    }

  private:
    void DoRun() override
    {
        Setup su;
        su.packets = 200;
        su.stop = 6;
        su.inject = true;
        ScenarioRun r = RunScenario(su);
        NS_TEST_EXPECT_MSG_EQ(r.hubDrops[-1], 1u, "the keepalive counted as one");
        NS_TEST_EXPECT_MSG_EQ(r.hubDrops[VpnIpsecStack::DROP_UDP_SHORT], 1u, "the 2-byte datagram");
        NS_TEST_EXPECT_MSG_EQ(r.hubDrops[VpnIpsecStack::DROP_ESP_NO_SA], 1u, "ESP with an unknown SPI");
        uint32_t others = 0;
        for (const auto& [reason, n] : r.hubDrops)
        {
            if (reason >= 0 && reason != VpnIpsecStack::DROP_UDP_SHORT &&
                reason != VpnIpsecStack::DROP_ESP_NO_SA)
            {
                others += n;
            }
        }
        NS_TEST_EXPECT_MSG_EQ(others, 0u, "no other drop (the runt IKE went to the engine)");
        NS_TEST_EXPECT_MSG_EQ(r.echoed, 200u, "the tunnel carried everything meanwhile");
    }
};

class ConformanceNs3TestSuite : public TestSuite
{
  public:
    ConformanceNs3TestSuite()
        : TestSuite("conformance-ns3")
    {
        AddTestCase(new DpdOnDemandTestCase);
        AddTestCase(new ByteLifetimeTestCase);
        AddTestCase(new RekeyGraceTestCase);
        AddTestCase(new NattDemuxTestCase);
    }
};

ConformanceNs3TestSuite g_conformanceNs3TestSuite;

} // namespace
