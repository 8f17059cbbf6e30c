// The MPLS provider built by MplsProviderHelper: three PEs, two Ps, two
// customers (VRFs A and B) with the same addresses. UDP between CE nodes
// arrives at the right site only; the frames on the core links carry the
// transport + VPN label stack with EXP from the DSCP and RFC 3443 TTLs;
// PHP and explicit-null; TTL expiry in the core; a multicast packet
// reaches every subscribed site once.

#include "ns3/core-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/test.h"
#include "ns3/vpn-module.h"

extern "C" {
#include "mpls/mpls.h"
}

#include <map>
#include <vector>

using namespace ns3;

namespace
{

const uint16_t kPort = 9;

/** What one end of a core link sent: frames, and the label stacks of the MPLS ones. */
struct CoreLog
{
    uint32_t frames = 0;
    uint32_t nonMpls = 0;
    std::vector<vpn_mpls_stack> stacks;
};

/** Frames one core device received: what the far end sent it. */
void
LogFrame(CoreLog* log,
         Ptr<NetDevice> /* dev */,
         Ptr<const Packet> frame,
         uint16_t protocol,
         const Address& /* from */,
         const Address& /* to */,
         NetDevice::PacketType /* type */)
{
    std::vector<uint8_t> b(frame->GetSize());
    frame->CopyData(b.data(), b.size());
    log->frames++;
    if (protocol != 0x8847)
    {
        log->nonMpls++;
        return;
    }
    vpn_mpls_stack st;
    if (vpn_mpls_stack_parse(b.data(), b.size(), &st, nullptr) == 0)
    {
        log->stacks.push_back(st);
    }
}

/** Packets a CE's socket received, and the IP TTL of the last one. */
struct Sink
{
    uint32_t packets = 0;
    uint8_t lastTtl = 0;
};

void
SinkRecv(Sink* sink, Ptr<Socket> socket)
{
    Ptr<Packet> p;
    while ((p = socket->Recv()))
    {
        sink->packets++;
        SocketIpTtlTag tag;
        if (p->RemovePacketTag(tag))
        {
            sink->lastTtl = tag.GetTtl();
        }
    }
}

/** The shared topology. Sites: 0 A1@PE1, 1 B1@PE1, 2 A2@PE3, 3 B2@PE3, 4 A3@PE2, 5 A4@PE2. */
class Provider
{
  public:
    Provider(bool php, MplsRouter::TtlMode mode, bool multicast)
    {
        m_helper.SetPhp(php);
        m_helper.SetTtlMode(mode);
        pe1 = m_helper.AddPe("PE1");
        pe2 = m_helper.AddPe("PE2");
        pe3 = m_helper.AddPe("PE3");
        p1 = m_helper.AddP("P1");
        p2 = m_helper.AddP("P2");
        DataRate rate("100Mbps");
        Time delay = MilliSeconds(2);
        m_helper.AddCoreLink(pe1, p1, rate, delay); // 0
        m_helper.AddCoreLink(p1, p2, rate, delay);  // 1
        m_helper.AddCoreLink(p2, pe3, rate, delay); // 2
        m_helper.AddCoreLink(pe2, p1, rate, delay); // 3
        m_helper.AddCoreLink(pe2, p2, rate, delay); // 4
        const char* nets[6] = {"192.168.1.0", "192.168.1.0", "192.168.2.0",
                               "192.168.2.0", "192.168.3.0", "192.168.4.0"};
        const char* lans[6] = {"10.1.0.0/16", "10.1.0.0/16", "10.2.0.0/16",
                               "10.2.0.0/16", "10.3.0.0/16", "10.4.0.0/16"};
        Ptr<Node> pes[6] = {pe1, pe1, pe3, pe3, pe2, pe2};
        const char* vrfs[6] = {"A", "B", "A", "B", "A", "A"};
        for (int i = 0; i < 6; i++)
        {
            ce[i] = CreateObject<Node>();
            m_helper.AttachSite(pes[i], vrfs[i], ce[i], Ipv4Address(nets[i]), {lans[i]},
                                DataRate("10Mbps"), MilliSeconds(1));
        }
        if (multicast)
        {
            m_helper.AddMulticastRoute("A", "239.0.0.0/8", {0, 2, 4});
        }
        m_helper.Install();
        auto devs = m_helper.GetCoreDevices();
        for (size_t i = 0; i < devs.size(); i++)
        {
            // What A sends on link i, as B receives it.
            Ptr<NetDevice> b = devs[i].second;
            b->GetNode()->RegisterProtocolHandler(MakeBoundCallback(&LogFrame, &core[i]), 0, b,
                                                  true);
        }
        for (int i = 0; i < 6; i++)
        {
            Ptr<Socket> s = Socket::CreateSocket(ce[i], UdpSocketFactory::GetTypeId());
            s->SetIpRecvTtl(true);
            s->Bind(InetSocketAddress(Ipv4Address::GetAny(), kPort));
            s->SetRecvCallback(MakeBoundCallback(&SinkRecv, &sink[i]));
            m_sockets.push_back(s);
        }
    }

    /** n UDP packets from site \p from to \p dst, DSCP in \p tos, TTL \p ttl (0: default). */
    void Send(int from, Ipv4Address dst, uint32_t n, uint8_t tos, uint8_t ttl = 0)
    {
        Ptr<Socket> s = Socket::CreateSocket(ce[from], UdpSocketFactory::GetTypeId());
        s->Bind();
        if (ttl)
        {
            s->SetIpTtl(ttl);
        }
        for (uint32_t i = 0; i < n; i++)
        {
            // ns-3's UDP takes the TOS of a SendTo from the address.
            InetSocketAddress to = vpncompat::WithTos(s, InetSocketAddress(dst, kPort), tos);
            Simulator::Schedule(MilliSeconds(100 + 10 * i),
                                [s, to]() { s->SendTo(Create<Packet>(200), 0, to); });
        }
        m_sockets.push_back(s);
    }

    void Run()
    {
        Simulator::Stop(Seconds(2));
        Simulator::Run();
    }

    ~Provider()
    {
        for (auto& s : m_sockets)
        {
            s->Close();
        }
        Simulator::Destroy();
    }

    MplsProviderHelper m_helper;
    Ptr<Node> pe1, pe2, pe3, p1, p2;
    Ptr<Node> ce[6];
    Sink sink[6];
    CoreLog core[5];
    std::vector<Ptr<Socket>> m_sockets;
};

} // namespace

/** Unicast between sites of one VRF; stacks and TTLs on the core links. */
class MplsUnicastTestCase : public TestCase
{
  public:
    MplsUnicastTestCase(bool php, MplsRouter::TtlMode mode)
        : TestCase(std::string("unicast, ") + (php ? "PHP" : "explicit-null") + ", " +
                   (mode == MplsRouter::TTL_UNIFORM ? "uniform" : "pipe") + " TTL"),
          m_php(php),
          m_mode(mode)
    {
    }

  private:
    void DoRun() override
    {
        Provider net(m_php, m_mode, false);
        // EF from A1 to A2 (192.168.2.2 in VRF A).
        net.Send(0, Ipv4Address("192.168.2.2"), 10, 0xb8);
        net.Run();
        NS_TEST_EXPECT_MSG_EQ(net.sink[2].packets, 10, "A2 got every packet");
        NS_TEST_EXPECT_MSG_EQ(net.sink[3].packets, 0, "B2 (same address, VRF B) got none");
        bool uniform = m_mode == MplsRouter::TTL_UNIFORM;
        // CE sends 64; PE1, P1, P2 and PE3 are hops in uniform, the PEs only in pipe.
        NS_TEST_EXPECT_MSG_EQ((int)net.sink[2].lastTtl, uniform ? 60 : 62, "IP TTL at A2");
        // PE1 -> P1: transport over VPN label, EXP 5 from EF, TTL 63 or 255.
        const CoreLog& first = net.core[0];
        NS_TEST_ASSERT_MSG_EQ(first.stacks.size(), 10, "ten labelled frames PE1 -> P1");
        NS_TEST_EXPECT_MSG_EQ(first.nonMpls, 0, "nothing but MPLS on the core link");
        for (const auto& st : first.stacks)
        {
            NS_TEST_EXPECT_MSG_EQ(st.depth, 2, "two labels");
            NS_TEST_EXPECT_MSG_EQ(st.e[0].s, false, "transport label not at the bottom");
            NS_TEST_EXPECT_MSG_EQ(st.e[1].s, true, "VPN label at the bottom");
            NS_TEST_EXPECT_MSG_EQ((int)st.e[0].tc, 5, "EXP from DSCP EF (transport)");
            NS_TEST_EXPECT_MSG_EQ((int)st.e[1].tc, 5, "EXP from DSCP EF (VPN)");
            NS_TEST_EXPECT_MSG_EQ((int)st.e[0].ttl, uniform ? 63 : 255, "label TTL at ingress");
            NS_TEST_EXPECT_MSG_GT_OR_EQ(st.e[0].label, 16u, "unreserved transport label");
        }
        // P1 -> P2: swapped transport label, same VPN label.
        const CoreLog& mid = net.core[1];
        NS_TEST_ASSERT_MSG_EQ(mid.stacks.size(), 10, "ten frames P1 -> P2");
        NS_TEST_EXPECT_MSG_EQ(mid.stacks[0].depth, 2, "two labels P1 -> P2");
        NS_TEST_EXPECT_MSG_EQ(mid.stacks[0].e[1].label, first.stacks[0].e[1].label,
                              "P1 leaves the VPN label alone");
        NS_TEST_EXPECT_MSG_EQ((int)mid.stacks[0].e[0].ttl, uniform ? 62 : 254, "P1 decrements");
        // P2 -> PE3: PHP leaves the VPN label; without it, explicit-null on top.
        const CoreLog& last = net.core[2];
        NS_TEST_ASSERT_MSG_EQ(last.stacks.size(), 10, "ten frames P2 -> PE3");
        if (m_php)
        {
            NS_TEST_EXPECT_MSG_EQ(last.stacks[0].depth, 1, "PHP: VPN label only");
            NS_TEST_EXPECT_MSG_EQ(last.stacks[0].e[0].label, first.stacks[0].e[1].label,
                                  "the VPN label reaches PE3");
        }
        else
        {
            NS_TEST_EXPECT_MSG_EQ(last.stacks[0].depth, 2, "explicit-null over the VPN label");
            NS_TEST_EXPECT_MSG_EQ(last.stacks[0].e[0].label, 0u, "IPv4 explicit-null");
            NS_TEST_EXPECT_MSG_EQ((int)last.stacks[0].e[0].tc, 5, "EXP kept to the egress");
        }
        // The show view counts what P1 switched.
        std::string show = net.m_helper.GetRouter("P1")->ShowForwardingTable();
        NS_TEST_EXPECT_MSG_NE(show.find("Local      Outgoing   Prefix"), std::string::npos,
                              "IOS header");
        NS_TEST_EXPECT_MSG_NE(show.find("10.255.0.3/32"), std::string::npos, "PE3's loopback");
        NS_TEST_EXPECT_MSG_EQ(net.m_helper.GetRouter("P1")->GetDrops(~0u), 0, "no drops");
    }

    bool m_php;
    MplsRouter::TtlMode m_mode;
};

/** Two customers with the same addresses stay apart. */
class MplsVrfIsolationTestCase : public TestCase
{
  public:
    MplsVrfIsolationTestCase()
        : TestCase("two VRFs with overlapping prefixes stay isolated")
    {
    }

  private:
    void DoRun() override
    {
        Provider net(true, MplsRouter::TTL_UNIFORM, false);
        net.Send(0, Ipv4Address("192.168.2.2"), 4, 0); // A1 -> A2
        net.Send(1, Ipv4Address("192.168.2.2"), 7, 0); // B1 -> B2 (same address)
        net.Send(3, Ipv4Address("192.168.1.2"), 3, 0); // B2 -> B1
        net.Send(1, Ipv4Address("192.168.3.2"), 5, 0); // B1 -> A3's address: no such route in B
        net.Send(4, Ipv4Address("192.168.4.2"), 2, 0); // A3 -> A4, both on PE2
        net.Run();
        NS_TEST_EXPECT_MSG_EQ(net.sink[2].packets, 4, "A2 got A1's packets only");
        NS_TEST_EXPECT_MSG_EQ(net.sink[3].packets, 7, "B2 got B1's packets only");
        NS_TEST_EXPECT_MSG_EQ(net.sink[1].packets, 3, "B1 got B2's packets");
        NS_TEST_EXPECT_MSG_EQ(net.sink[0].packets, 0, "A1 got nothing of B's");
        NS_TEST_EXPECT_MSG_EQ(net.sink[4].packets, 0, "A3 unreachable from B");
        NS_TEST_EXPECT_MSG_EQ(net.sink[5].packets, 2, "A4 got A3's packets");
        // A3 -> A4 stays inside PE2: PE2 sent nothing labelled.
        NS_TEST_EXPECT_MSG_EQ(net.m_helper.GetRouter("PE2")->GetTxLabelled(), 0,
                              "local switching off the core");
        NS_TEST_EXPECT_MSG_EQ(net.m_helper.GetRouter("PE1")->GetDrops(VPN_MPLS_DROP_NO_ROUTE), 5,
                              "PE1 dropped B1's packets for A3's address");
    }
};

/** TTL expiry inside the core (uniform model). */
class MplsTtlExpiryTestCase : public TestCase
{
  public:
    MplsTtlExpiryTestCase()
        : TestCase("TTL expires at a P router in the uniform model")
    {
    }

  private:
    void DoRun() override
    {
        Provider net(true, MplsRouter::TTL_UNIFORM, false);
        // TTL 3: PE1 sends 2, P1 sends 1, P2 drops.
        net.Send(0, Ipv4Address("192.168.2.2"), 6, 0, 3);
        net.Run();
        NS_TEST_EXPECT_MSG_EQ(net.sink[2].packets, 0, "nothing arrives");
        NS_TEST_EXPECT_MSG_EQ(net.m_helper.GetRouter("P2")->GetDrops(VPN_MPLS_DROP_TTL), 6,
                              "P2 counted six TTL expiries");
        NS_TEST_EXPECT_MSG_EQ(net.core[2].frames, 0, "nothing on P2 -> PE3");
    }
};

/** Static multicast: ingress replication to every subscribed site, once. */
class MplsMulticastTestCase : public TestCase
{
  public:
    MplsMulticastTestCase()
        : TestCase("multicast reaches every subscribed site once")
    {
    }

  private:
    void DoRun() override
    {
        Provider net(true, MplsRouter::TTL_UNIFORM, true);
        net.Send(0, Ipv4Address("239.1.1.1"), 5, 0); // from A1
        net.Send(4, Ipv4Address("239.2.2.2"), 3, 0); // from A3
        net.Run();
        NS_TEST_EXPECT_MSG_EQ(net.sink[0].packets, 3, "A1: A3's packets, not its own");
        NS_TEST_EXPECT_MSG_EQ(net.sink[2].packets, 8, "A2: both senders' packets");
        NS_TEST_EXPECT_MSG_EQ(net.sink[4].packets, 5, "A3: A1's packets, not its own");
        NS_TEST_EXPECT_MSG_EQ(net.sink[5].packets, 0, "A4 did not subscribe");
        NS_TEST_EXPECT_MSG_EQ(net.sink[1].packets + net.sink[3].packets, 0, "VRF B sees none");
        // PE1 sent one labelled copy per egress PE per packet.
        NS_TEST_EXPECT_MSG_EQ(net.core[0].stacks.size(), 10, "two copies per packet PE1 -> P1");
    }
};

class MplsProviderTestSuite : public TestSuite
{
  public:
    MplsProviderTestSuite()
        : TestSuite("mpls-provider")
    {
        AddTestCase(new MplsUnicastTestCase(true, MplsRouter::TTL_UNIFORM));
        AddTestCase(new MplsUnicastTestCase(false, MplsRouter::TTL_UNIFORM));
        AddTestCase(new MplsUnicastTestCase(true, MplsRouter::TTL_PIPE));
        AddTestCase(new MplsVrfIsolationTestCase);
        AddTestCase(new MplsTtlExpiryTestCase);
        AddTestCase(new MplsMulticastTestCase);
    }
};

static MplsProviderTestSuite g_mplsProviderTestSuite;
