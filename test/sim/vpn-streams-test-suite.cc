// AssignStreams on the VPN helpers: a node's DRBG stream (SPIs, nonces,
// cookies, DH keys) then follows RngSeed/RngRun and the stream number, not
// the node id, as ns-3 random variables do. The same streams give the same
// SPIs and IKE keys (which the nonces and DH shares feed, RFC 7296 2.14)
// even when node ids shift; other streams give others. Also the helpers'
// ObjectFactory attributes and Install(NodeContainer).
#include "ns3/core-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/test.h"
#include "ns3/vpn-module.h"
#include "vpn-sim-topology.h"

extern "C" {
#include "ikev2/ikev2-engine.h"
#include "router/router.h"
}

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

using namespace ns3;

namespace
{

// The flexvpn suite's site-to-site pair (GRE/IPsec, PSK, ECP-256).
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
  pre-shared-key local spoke-key
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

/** What a run drew: the SAs' SPIs and the IKE SAs' SPIs and keys. */
struct Draws
{
    std::vector<uint32_t> spis;  //!< every SA of HUB1, then SPOKE1
    std::vector<std::string> ike; //!< Wireshark key lines (SPIs, SK_e*, SK_a*)
    int64_t streamsUsed{0};
    uint64_t wanMtuAttr{0};
};

void
Collect(Ptr<Node> node, Draws& d)
{
    const vpn_router* r = VpnIpsecStack::GetOrCreate(node)->GetRouter();
    vpn_router_sa_ref refs[16];
    size_t n = vpn_router_sa_list(r, refs, 16);
    for (size_t i = 0; i < n && i < 16; i++)
    {
        d.spis.push_back(refs[i].spi);
    }
    const vpn_ikev2_ctx* ike = vpn_router_ikev2(r);
    for (uint32_t id = 1; id <= 4; id++)
    {
        char line[1024];
        if (vpn_ikev2_sa_wireshark_line(ike, id, line, sizeof line) == 0)
        {
            d.ike.emplace_back(line);
        }
    }
}

/**
 * Brings the tunnel up with \p extraNodes nodes created first (shifting
 * every node id) and, with \p stream >= 0, the helper's AssignStreams.
 */
Draws
RunPair(int64_t stream, uint32_t extraNodes)
{
    for (uint32_t i = 0; i < extraNodes; i++)
    {
        CreateObject<Node>();
    }
    vpnsim::SiteToSite t = vpnsim::BuildSiteToSite("", "10Mbps", "2ms");
    FlexVpnHelper flex;
    flex.SetDeviceAttribute("WanMtu", UintegerValue(1400));
    ApplicationContainer hubApps =
        flex.Install(NodeContainer(t.hub), std::vector<std::string>{kHub}, false);
    Ptr<Ikev2Daemon> spokeIke = flex.Install(t.spoke, kSpoke, true);
    hubApps.Start(Seconds(0.1));
    spokeIke->SetStartTime(Seconds(0.5));
    Draws d;
    if (stream >= 0)
    {
        d.streamsUsed = flex.AssignStreams(NodeContainer(t.hub, t.spoke), stream);
    }
    UintegerValue mtu;
    FlexVpnHelper::GetTunnel(t.hub, "Tunnel0")->GetAttribute("WanMtu", mtu);
    d.wanMtuAttr = mtu.Get();
    Simulator::Stop(Seconds(3));
    Simulator::Run();
    Collect(t.hub, d);
    Collect(t.spoke, d);
    Simulator::Destroy();
    return d;
}

bool
SharesAny(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b)
{
    for (uint32_t x : a)
    {
        if (std::find(b.begin(), b.end(), x) != b.end())
        {
            return true;
        }
    }
    return false;
}

class FlexStreamsTestCase : public TestCase
{
  public:
    FlexStreamsTestCase()
        : TestCase("FlexVpnHelper::AssignStreams: same streams, same SPIs and keys; others, others")
    {
    }

  private:
    void DoRun() override
    {
        Draws a = RunPair(100, 0);
        Draws b = RunPair(100, 3);
        Draws c = RunPair(200, 0);
        Draws plain = RunPair(-1, 0);
        Draws shifted = RunPair(-1, 3);

        NS_TEST_ASSERT_MSG_EQ(a.streamsUsed, 2, "one stream per node");
        NS_TEST_ASSERT_MSG_EQ(a.wanMtuAttr, 1400u, "SetDeviceAttribute reached the tunnel");
        // the tunnel came up: a CHILD_SA's two SAs on each router, one IKE SA each
        NS_TEST_ASSERT_MSG_EQ(a.spis.size(), 4u, "SAs of the first run");
        NS_TEST_ASSERT_MSG_EQ(a.ike.size(), 2u, "IKE SAs of the first run");
        NS_TEST_ASSERT_MSG_EQ(c.spis.size(), 4u, "SAs with other streams");
        NS_TEST_ASSERT_MSG_EQ(plain.spis.size(), 4u, "SAs without AssignStreams");
        // same streams, node ids shifted by 3: the same draws
        NS_TEST_EXPECT_MSG_EQ((a.spis == b.spis), true, "same streams give the same SPIs");
        NS_TEST_EXPECT_MSG_EQ((a.ike == b.ike), true, "same streams give the same IKE SPIs and keys");
        // other streams: nothing shared
        NS_TEST_EXPECT_MSG_EQ(SharesAny(a.spis, c.spis), false, "other streams, other SPIs");
        NS_TEST_EXPECT_MSG_EQ((a.ike[0] != c.ike[0]), true, "other streams, other IKE keys");
        // without AssignStreams the node ids seed the streams (the default, kept)
        NS_TEST_EXPECT_MSG_EQ(SharesAny(plain.spis, shifted.spis), false,
                              "without AssignStreams, other node ids draw other SPIs");
        NS_TEST_EXPECT_MSG_EQ(SharesAny(plain.spis, a.spis), false,
                              "a stream is not the node-id default");
    }
};

// Issue 20: no untracked event outlives its daemon. A show snapshot scheduled
// through VpnTraceHelper is held by the daemon and cancelled by its DoDispose.
class SnapshotTeardownTestCase : public TestCase
{
  public:
    SnapshotTeardownTestCase()
        : TestCase("a show snapshot not yet taken is cancelled when its daemon is disposed")
    {
    }

  private:
    static bool Exists(const std::string& path)
    {
        std::ifstream in(path);
        return in.good();
    }

    void DoRun() override
    {
        vpnsim::SiteToSite t = vpnsim::BuildSiteToSite("", "10Mbps", "2ms");
        FlexVpnHelper flex;
        ApplicationContainer hubApps =
            flex.Install(NodeContainer(t.hub), std::vector<std::string>{kHub}, false);
        Ptr<Ikev2Daemon> hubIke = DynamicCast<Ikev2Daemon>(hubApps.Get(0));
        Ptr<Ikev2Daemon> spokeIke = flex.Install(t.spoke, kSpoke, true);
        hubApps.Start(Seconds(0.1));
        spokeIke->SetStartTime(Seconds(0.5));
        spokeIke->SetStopTime(Seconds(1.5));
        std::string dir = CreateTempDirFilename("snap");
        SystemPath::MakeDirectories(dir);
        VpnTraceHelper trace(dir);
        trace.ScheduleShowSnapshot(hubIke, "hub.txt", Seconds(2.5));
        trace.ScheduleShowSnapshot(spokeIke, "spoke.txt", Seconds(2.5));
        Simulator::Schedule(Seconds(2), &Ikev2Daemon::Dispose, spokeIke);
        Simulator::Stop(Seconds(3));
        Simulator::Run();
        Simulator::Destroy();
        NS_TEST_EXPECT_MSG_EQ(Exists(dir + "/hub.txt"), true, "the live daemon's snapshot is taken");
        NS_TEST_EXPECT_MSG_EQ(Exists(dir + "/spoke.txt"), false,
                              "the disposed daemon's snapshot was cancelled");
    }
};

class VpnStreamsTestSuite : public TestSuite
{
  public:
    VpnStreamsTestSuite()
        : TestSuite("vpn-streams")
    {
        AddTestCase(new FlexStreamsTestCase());
        AddTestCase(new SnapshotTeardownTestCase());
    }
};

VpnStreamsTestSuite g_vpnStreamsTestSuite;

} // namespace
