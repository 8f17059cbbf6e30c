// Tunnel interfaces protected by manually keyed IPsec: traffic crosses the
// WAN only as ESP, both tunnel modes deliver, a tunnel without an SA drops
// instead of sending in clear, and a seed and run give identical bytes.
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

struct TunnelRun
{
    uint32_t wanPackets{0};
    uint32_t wanEsp{0};
    uint32_t wanOther{0};
    uint64_t wanHash{1469598103934665603ULL}; // FNV-1a over every WAN frame
    uint64_t echoed{0};                       // replies back at hostA
    uint64_t enc1{0}, dec1{0}, enc2{0}, dec2{0};
    uint64_t drops{0};
    std::string lastDrop;
    // qos pre-classify runs: ESP frames received off the WAN that carry the
    // sender's MqcPreClassifyTag; inner packets the gateways' IP stacks took
    // from the tunnels, and how many of those still carried it; what GW2's
    // LAN policy toward hostB was offered, tagged, and matched as ECHO.
    uint64_t wanTagged{0};
    uint64_t stackFromTunnel{0};
    uint64_t stackTagged{0};
    uint64_t lanOffered{0};
    uint64_t lanTagged{0};
    uint64_t lanEcho{0};
};

void
WanTx(TunnelRun* r, Ptr<const Packet> p)
{
    Ptr<Packet> c = p->Copy();
    r->wanPackets++;
    uint32_t n = c->GetSize();
    std::vector<uint8_t> b(n);
    c->CopyData(b.data(), n);
    for (uint8_t x : b)
    {
        r->wanHash = (r->wanHash ^ x) * 1099511628211ULL;
    }
    PppHeader ppp;
    c->RemoveHeader(ppp);
    Ipv4Header ip;
    c->RemoveHeader(ip);
    if (ip.GetProtocol() == 50)
    {
        r->wanEsp++;
    }
    else
    {
        r->wanOther++;
    }
}

bool
HasPreClassifyTag(Ptr<const Packet> p)
{
    MqcPreClassifyTag t;
    return p->PeekPacketTag(t);
}

void
WanRx(TunnelRun* r, Ptr<const Packet> p)
{
    r->wanTagged += HasPreClassifyTag(p);
}

// Ipv4L3Protocol's Rx: what a gateway's IP stack received, and on which
// interface (only the tunnel's count).
void
StackRx(TunnelRun* r, uint32_t tunnelIf, Ptr<const Packet> p, Ptr<Ipv4>, uint32_t interface)
{
    if (interface != tunnelIf)
    {
        return;
    }
    r->stackFromTunnel++;
    r->stackTagged += HasPreClassifyTag(p);
}

void
LanEnqueue(TunnelRun* r, Ptr<const QueueDiscItem> item)
{
    r->lanOffered++;
    r->lanTagged += HasPreClassifyTag(item->GetPacket());
}

void
EchoRx(TunnelRun* r, Ptr<const Packet>)
{
    r->echoed++;
}

void
TunnelDrop(TunnelRun* r, Ptr<const Packet>, VpnIpsecStack::DropReason reason)
{
    r->drops++;
    r->lastDrop = VpnIpsecStack::GetDropReasonName(reason);
}

Ptr<VpnTunnelNetDevice>
AddTunnel(Ptr<Node> node, const std::string& mode, Ipv4Address src, Ipv4Address dst, Ipv4Address addr)
{
    Ptr<VpnTunnelNetDevice> tun = CreateObject<VpnTunnelNetDevice>();
    tun->SetAttribute("Mode", StringValue(mode));
    tun->SetAttribute("TunnelSource", Ipv4AddressValue(src));
    tun->SetAttribute("TunnelDestination", Ipv4AddressValue(dst));
    node->AddDevice(tun);
    Ptr<Ipv4> ipv4 = node->GetObject<Ipv4>();
    int32_t ifc = ipv4->AddInterface(tun);
    ipv4->AddAddress(ifc, Ipv4InterfaceAddress(addr, Ipv4Mask("255.255.255.252")));
    ipv4->SetUp(ifc);
    return tun;
}

// GW2's `service-policy output` toward hostB: the echo (UDP port 9) in a
// class of its own, found by the receiver's classifier on the packet's header.
const std::string kLanPolicy = "ip access-list extended ECHO\n"
                               " permit udp any any eq 9\n"
                               "class-map match-all ECHO\n"
                               " match access-group name ECHO\n"
                               "policy-map LAN-OUT\n"
                               " class ECHO\n"
                               "  bandwidth percent 50\n";

// hostA - GW1 = WAN = GW2 - hostB, a tunnel between the gateways, 20
// echo requests from hostA to hostB routed into the tunnel. preClassify:
// `qos pre-classify` on both tunnels, and the LAN-OUT policy on GW2's LAN.
TunnelRun
RunTopology(const std::string& mode,
            const std::string& transform,
            bool keyed,
            uint64_t run,
            bool preClassify = false)
{
    TunnelRun r;
    vpnsim::PinStream(1, run);
    NodeContainer nodes;
    nodes.Create(4);
    Ptr<Node> hostA = nodes.Get(0);
    Ptr<Node> gw1 = nodes.Get(1);
    Ptr<Node> gw2 = nodes.Get(2);
    Ptr<Node> hostB = nodes.Get(3);
    CsmaHelper lan;
    NetDeviceContainer lan1 = lan.Install(NodeContainer(gw1, hostA));
    NetDeviceContainer lan2 = lan.Install(NodeContainer(gw2, hostB));
    PointToPointHelper wan;
    wan.SetChannelAttribute("Delay", StringValue("5ms"));
    NetDeviceContainer wanDevs = wan.Install(gw1, gw2);
    InternetStackHelper stack;
    stack.Install(nodes);
    Ipv4AddressHelper ip;
    ip.SetBase("10.1.0.0", "255.255.255.0");
    Ipv4InterfaceContainer l1 = ip.Assign(lan1);
    ip.SetBase("10.2.0.0", "255.255.255.0");
    Ipv4InterfaceContainer l2 = ip.Assign(lan2);
    ip.SetBase("198.51.100.0", "255.255.255.252");
    Ipv4InterfaceContainer w = ip.Assign(wanDevs);
    Ptr<VpnTunnelNetDevice> t1 = AddTunnel(gw1, mode, w.GetAddress(0), w.GetAddress(1), "172.16.0.1");
    Ptr<VpnTunnelNetDevice> t2 = AddTunnel(gw2, mode, w.GetAddress(1), w.GetAddress(0), "172.16.0.2");
    Ipv4StaticRoutingHelper routing;
    routing.GetStaticRouting(gw1->GetObject<Ipv4>())
        ->AddNetworkRouteTo("10.2.0.0", "255.255.255.0", gw1->GetObject<Ipv4>()->GetInterfaceForDevice(t1));
    routing.GetStaticRouting(gw2->GetObject<Ipv4>())
        ->AddNetworkRouteTo("10.1.0.0", "255.255.255.0", gw2->GetObject<Ipv4>()->GetInterfaceForDevice(t2));
    routing.GetStaticRouting(hostA->GetObject<Ipv4>())->SetDefaultRoute(l1.GetAddress(0), 1);
    routing.GetStaticRouting(hostB->GetObject<Ipv4>())->SetDefaultRoute(l2.GetAddress(0), 1);
    if (keyed)
    {
        VpnManualKeyHelper keys;
        keys.SetTransform(transform);
        keys.Install(t1, t2);
    }
    t1->TraceConnectWithoutContext("Drop", MakeBoundCallback(&TunnelDrop, &r));
    Ptr<MqcQueueDisc> lanQdisc;
    if (preClassify)
    {
        // as a user says it on each tunnel interface (IOS `qos pre-classify`)
        t1->SetAttribute("QosPreClassify", BooleanValue(true));
        t2->SetAttribute("QosPreClassify", BooleanValue(true));
        std::string err;
        lanQdisc = MqcHelper::InstallPolicyMap(lan2.Get(0), kLanPolicy, "LAN-OUT", &err, 100000000);
        NS_ABORT_MSG_IF(!lanQdisc, "LAN-OUT refused: " << err);
        lanQdisc->TraceConnectWithoutContext("Enqueue", MakeBoundCallback(&LanEnqueue, &r));
        wanDevs.Get(0)->TraceConnectWithoutContext("MacRx", MakeBoundCallback(&WanRx, &r));
        wanDevs.Get(1)->TraceConnectWithoutContext("MacRx", MakeBoundCallback(&WanRx, &r));
        for (Ptr<VpnTunnelNetDevice> t : {t1, t2})
        {
            Ptr<Ipv4L3Protocol> l3 = t->GetNode()->GetObject<Ipv4L3Protocol>();
            uint32_t ifc = static_cast<uint32_t>(l3->GetInterfaceForDevice(t));
            l3->TraceConnectWithoutContext("Rx", MakeBoundCallback(&StackRx, &r, ifc));
        }
    }
    wanDevs.Get(0)->TraceConnectWithoutContext("PhyTxBegin", MakeBoundCallback(&WanTx, &r));
    wanDevs.Get(1)->TraceConnectWithoutContext("PhyTxBegin", MakeBoundCallback(&WanTx, &r));

    UdpEchoServerHelper server(9);
    server.Install(hostB).Start(Seconds(0.1));
    UdpEchoClientHelper client(l2.GetAddress(1), 9);
    client.SetAttribute("MaxPackets", UintegerValue(20));
    client.SetAttribute("Interval", TimeValue(MilliSeconds(20)));
    client.SetAttribute("PacketSize", UintegerValue(200));
    ApplicationContainer apps = client.Install(hostA);
    apps.Start(Seconds(1.0));
    apps.Get(0)->TraceConnectWithoutContext("Rx", MakeBoundCallback(&EchoRx, &r));
    Simulator::Stop(Seconds(3));
    Simulator::Run();
    r.enc1 = t1->GetPacketsEncrypted();
    r.dec1 = t1->GetPacketsDecrypted();
    r.enc2 = t2->GetPacketsEncrypted();
    r.dec2 = t2->GetPacketsDecrypted();
    for (uint32_t i = 0; lanQdisc && i < lanQdisc->GetNClasses(); i++)
    {
        if (lanQdisc->GetClassName(i) == "ECHO")
        {
            r.lanEcho = lanQdisc->GetClassStats(i).matched_pkts;
        }
    }
    Simulator::Destroy();
    return r;
}

} // namespace

class IpsecTunnelDeliveryTestCase : public TestCase
{
  public:
    IpsecTunnelDeliveryTestCase(std::string mode, std::string transform)
        : TestCase("mode " + mode + ", " + transform + ": echoes cross the WAN only as ESP"),
          m_mode(mode),
          m_transform(transform)
    {
    }

  private:
    void DoRun() override
    {
        TunnelRun r = RunTopology(m_mode, m_transform, true, 1);
        NS_TEST_EXPECT_MSG_EQ(r.echoed, 20, "every echo came back");
        NS_TEST_EXPECT_MSG_EQ(r.enc1, 20, "GW1 encrypted the requests");
        NS_TEST_EXPECT_MSG_EQ(r.dec2, 20, "GW2 decrypted them");
        NS_TEST_EXPECT_MSG_EQ(r.enc2, 20, "GW2 encrypted the replies");
        NS_TEST_EXPECT_MSG_EQ(r.dec1, 20, "GW1 decrypted them");
        NS_TEST_EXPECT_MSG_EQ(r.wanEsp, 40, "40 ESP packets on the WAN");
        NS_TEST_EXPECT_MSG_EQ(r.wanOther, 0, "nothing but ESP on the WAN");
        NS_TEST_EXPECT_MSG_EQ(r.drops, 0, "no drops");
    }

    std::string m_mode;
    std::string m_transform;
};

class IpsecTunnelNoSaTestCase : public TestCase
{
  public:
    IpsecTunnelNoSaTestCase()
        : TestCase("a protected tunnel without an SA drops, never sends in clear")
    {
    }

  private:
    void DoRun() override
    {
        TunnelRun r = RunTopology("GreIpsec", "esp-gcm 128", false, 1);
        NS_TEST_EXPECT_MSG_EQ(r.echoed, 0, "nothing delivered");
        NS_TEST_EXPECT_MSG_EQ(r.wanPackets, 0, "nothing on the WAN at all");
        NS_TEST_EXPECT_MSG_EQ(r.drops, 20, "every request dropped at the tunnel");
        NS_TEST_EXPECT_MSG_EQ(r.lastDrop, "tunnel: no IPsec SA", "drop reason");
    }
};

class IpsecTunnelReproducibleTestCase : public TestCase
{
  public:
    IpsecTunnelReproducibleTestCase()
        : TestCase("same seed and run give byte-identical WAN traffic; another run differs")
    {
    }

  private:
    void DoRun() override
    {
        TunnelRun a = RunTopology("GreIpsec", "esp-aes 128 esp-sha256-hmac", true, 7);
        TunnelRun b = RunTopology("GreIpsec", "esp-aes 128 esp-sha256-hmac", true, 7);
        TunnelRun c = RunTopology("GreIpsec", "esp-aes 128 esp-sha256-hmac", true, 8);
        NS_TEST_ASSERT_MSG_EQ(a.wanPackets, 40, "traffic flowed");
        NS_TEST_EXPECT_MSG_EQ(a.wanHash, b.wanHash, "same run, same bytes");
        NS_TEST_EXPECT_MSG_NE(a.wanHash, c.wanHash, "another run, other keys and IVs");
        vpnsim::PinStream(1);
    }
};

// `qos pre-classify` tags what a tunnel encrypts with its inner header
// (MqcPreClassifyTag) for the sender's WAN policy; the ESP packet carries it
// across the WAN, and the receiving tunnel copies the carrier's tags to the
// inner packet it delivers. The copy must not keep that tag: the receiver's
// own policies classify the packet on its header, and a stale tag would make
// any of them (a later crypto map, an output policy) use the sender's view.
class IpsecTunnelPreClassifyEndsTestCase : public TestCase
{
  public:
    IpsecTunnelPreClassifyEndsTestCase()
        : TestCase("qos pre-classify: the sender's tag crosses the WAN on the ESP packet and "
                   "is gone from the inner packet the receiving tunnel delivers")
    {
    }

  private:
    void DoRun() override
    {
        TunnelRun r = RunTopology("GreIpsec", "esp-gcm 128", true, 1, true);
        NS_TEST_ASSERT_MSG_EQ(r.echoed, 20, "every echo came back");
        // 20 requests GW1 -> GW2, 20 replies GW2 -> GW1, each encrypted with
        // pre-classify: the tag is really on what the receivers decrypt.
        NS_TEST_EXPECT_MSG_EQ(r.wanTagged, 40, "ESP packets carrying the pre-classify tag");
        NS_TEST_EXPECT_MSG_EQ(r.stackFromTunnel, 40, "inner packets up the gateways' stacks");
        NS_TEST_EXPECT_MSG_EQ(r.stackTagged, 0, "delivered with the sender's pre-classify tag");
        // GW2's policy toward hostB: the requests (and ARP) offered untagged,
        // the requests classified as ECHO by their own UDP header. (Here a
        // stale tag would name the same fields as the header; a receiver that
        // re-encapsulates keeping tags, as a crypto map does, would classify
        // its ESP packet on the sender's inner header: lanTagged is the check.)
        NS_TEST_EXPECT_MSG_GT(r.lanOffered, 20, "GW2's LAN policy saw the requests");
        NS_TEST_EXPECT_MSG_EQ(r.lanTagged, 0, "offered to GW2's classifier with a stale tag");
        NS_TEST_EXPECT_MSG_EQ(r.lanEcho, 20, "GW2's classifier put the requests in ECHO");
    }
};

// VpnCopyTags adds a tag to a packet without packet tags instead of
// replacing it (no search): the packet must end as ReplacePacketTag for
// each tag would leave it, fresh or already tagged, and the return value
// must say whether it holds a packet tag.
class IpsecTunnelCopyTagsTestCase : public TestCase
{
  public:
    IpsecTunnelCopyTagsTestCase()
        : TestCase("VpnCopyTags leaves the packet tags ReplacePacketTag would")
    {
    }

  private:
    // the packet tags in list order, as "type=value" words
    static std::string Describe(Ptr<const Packet> p)
    {
        std::string out;
        PacketTagIterator it = p->GetPacketTagIterator();
        while (it.HasNext())
        {
            PacketTagIterator::Item item = it.Next();
            TypeId tid = item.GetTypeId();
            unsigned v = 999;
            if (tid == SocketIpTtlTag::GetTypeId())
            {
                SocketIpTtlTag t;
                item.GetTag(t);
                v = t.GetTtl();
            }
            else if (tid == SocketPriorityTag::GetTypeId())
            {
                SocketPriorityTag t;
                item.GetTag(t);
                v = t.GetPriority();
            }
            else if (tid == SocketIpTosTag::GetTypeId())
            {
                SocketIpTosTag t;
                item.GetTag(t);
                v = t.GetTos();
            }
            out += tid.GetName() + "=" + std::to_string(v) + " ";
        }
        return out;
    }

    // what VpnCopyTags did before: ReplacePacketTag for every packet tag
    static void ReplaceAll(Ptr<const Packet> from, Ptr<Packet> to)
    {
        PacketTagIterator it = from->GetPacketTagIterator();
        while (it.HasNext())
        {
            PacketTagIterator::Item item = it.Next();
            Callback<ObjectBase*> make = item.GetTypeId().GetConstructor();
            std::unique_ptr<Tag> tag(dynamic_cast<Tag*>(make()));
            item.GetTag(*tag);
            to->ReplacePacketTag(*tag);
        }
    }

    void DoRun() override
    {
        Ptr<Packet> from = Create<Packet>(40);
        SocketIpTtlTag ttl;
        ttl.SetTtl(5);
        SocketPriorityTag prio;
        prio.SetPriority(3);
        SocketIpTosTag tos;
        tos.SetTos(0x20);
        from->AddPacketTag(ttl);
        from->AddPacketTag(prio);
        from->AddPacketTag(tos);
        SocketIpTtlTag byteTtl;
        byteTtl.SetTtl(77);
        from->AddByteTag(byteTtl);

        // a packet just made (Deliver's, SendIpPacket's)
        Ptr<Packet> fresh = Create<Packet>(60);
        Ptr<Packet> freshRef = Create<Packet>(60);
        NS_TEST_EXPECT_MSG_EQ(VpnCopyTags(from, fresh), true, "it holds packet tags now");
        ReplaceAll(from, freshRef);
        NS_TEST_ASSERT_MSG_EQ(Describe(freshRef).empty(), false, "the reference copied the tags");
        NS_TEST_EXPECT_MSG_EQ(Describe(fresh), Describe(freshRef), "same tags, same order");
        SocketIpTtlTag seen;
        NS_TEST_EXPECT_MSG_EQ(fresh->FindFirstMatchingByteTag(seen), true, "byte tag copied");
        NS_TEST_EXPECT_MSG_EQ(static_cast<unsigned>(seen.GetTtl()), 77u, "byte tag value");

        // a packet that already holds one of the types (and another one)
        auto pretagged = []() {
            Ptr<Packet> p = Create<Packet>(60);
            SocketIpTtlTag old;
            old.SetTtl(1);
            p->AddPacketTag(old);
            return p;
        };
        Ptr<Packet> tagged = pretagged();
        Ptr<Packet> taggedRef = pretagged();
        NS_TEST_EXPECT_MSG_EQ(VpnCopyTags(from, tagged), true, "it holds packet tags");
        ReplaceAll(from, taggedRef);
        NS_TEST_EXPECT_MSG_EQ(Describe(tagged), Describe(taggedRef),
                              "replaced in place, others added");

        // nothing to copy: the answer is the destination's own state
        Ptr<Packet> bare = Create<Packet>(10);
        NS_TEST_EXPECT_MSG_EQ(VpnCopyTags(bare, Create<Packet>(10)), false,
                              "no packet tag anywhere");
        NS_TEST_EXPECT_MSG_EQ(VpnCopyTags(bare, pretagged()), true, "its own tag stays");
        NS_TEST_EXPECT_MSG_EQ(VpnCopyTags(nullptr, Create<Packet>(10)), false, "no source");
    }
};

class IpsecTunnelTestSuite : public TestSuite
{
  public:
    IpsecTunnelTestSuite()
        : TestSuite("ipsec-tunnel")
    {
        AddTestCase(new IpsecTunnelDeliveryTestCase("GreIpsec", "esp-gcm 128"));
        AddTestCase(new IpsecTunnelDeliveryTestCase("GreIpsec", "esp-aes 256 esp-sha256-hmac"));
        AddTestCase(new IpsecTunnelDeliveryTestCase("Vti", "esp-gcm 256"));
        AddTestCase(new IpsecTunnelDeliveryTestCase("Vti", "esp-aes esp-sha-hmac"));
        AddTestCase(new IpsecTunnelNoSaTestCase);
        AddTestCase(new IpsecTunnelReproducibleTestCase);
        AddTestCase(new IpsecTunnelCopyTagsTestCase);
        AddTestCase(new IpsecTunnelPreClassifyEndsTestCase);
    }
};

static IpsecTunnelTestSuite g_ipsecTunnelTestSuite;
