// FlexVPN remote access in ns-3 (issue 16): users with EAP-MSCHAPv2 and the
// configuration payload against one hub's Virtual-Template
// (FlexVpnRemoteAccessHelper). 50 users each get a distinct pool address and
// echo traffic through the hub from it; a pool smaller than the users
// refuses the last one cleanly and serves it once another user leaves.

#include "flexvpn-remote-access-scenario.h"

#include "ns3/applications-module.h"
#include "ns3/core-module.h"
#include "ns3/internet-module.h"
#include "ns3/test.h"
#include "ns3/vpn-module.h"

#include "ikev2/ikev2-engine.h"
#include "router/router.h"

#include <algorithm>
#include <set>
#include <sstream>
#include <vector>

using namespace ns3;

namespace
{

// Echo counters of one user's client.
struct Echo
{
    uint32_t sent = 0;
    uint32_t returned = 0;
};

void
CountTx(Echo* e, Ptr<const Packet>)
{
    e->sent++;
}

void
CountRx(Echo* e, Ptr<const Packet>)
{
    e->returned++;
}

// An echo client on `node` to dst:4000 (IPv4 or IPv6), `packets` packets from `at`.
void
StartEcho(Ptr<Node> node, Address dst, uint32_t packets, Time at, Echo* e)
{
    UdpEchoClientHelper client(dst, 4000);
    client.SetAttribute("MaxPackets", UintegerValue(packets));
    client.SetAttribute("Interval", TimeValue(MilliSeconds(50)));
    client.SetAttribute("PacketSize", UintegerValue(100));
    ApplicationContainer app = client.Install(node);
    app.Get(0)->TraceConnectWithoutContext("Tx", MakeBoundCallback(&CountTx, e));
    app.Get(0)->TraceConnectWithoutContext("Rx", MakeBoundCallback(&CountRx, e));
    app.Start(at);
}

// In use in the hub's index-th pool (0 RA-POOL; 1 RA-POOL6, the IPv6
// pools coming after the IPv4 ones).
uint32_t
PoolInUse(Ptr<Ikev2Daemon> hub, size_t index = 0)
{
    vpn_ikev2_pool_info pi;
    const vpn_router* r = VpnIpsecStack::GetOrCreate(hub->GetNode())->GetRouter();
    if (!r || vpn_ikev2_pool_get(vpn_router_ikev2(r), index, &pi) != 0)
    {
        return UINT32_MAX;
    }
    return pi.in_use;
}

} // namespace

class FlexVpnRaFiftyUsersTestCase : public TestCase
{
  public:
    FlexVpnRaFiftyUsersTestCase()
        : TestCase("50 users on one Virtual-Template: distinct pool addresses, traffic from each")
    {
    }

  private:
    void DoRun() override
    {
        const uint32_t users = 50;
        FlexVpnRemoteAccessOptions o;
        o.users = users;
        o.joinSpread = 3.0;
        FlexVpnRemoteAccessHelper helper;
        FlexVpnRemoteAccess net = helper.Install(o);
        UdpEchoServerHelper server(4000);
        server.Install(net.hubHost).Start(Seconds(0.1));
        std::vector<Echo> echo(users);
        for (uint32_t i = 0; i < users; i++)
        {
            StartEcho(net.users.Get(i), net.hostAddress, 5, Seconds(5.0), &echo[i]);
        }
        uint32_t inUse = 0;
        Simulator::Schedule(Seconds(7.0), [&]() { inUse = PoolInUse(net.hubDaemon); });
        Simulator::Stop(Seconds(7.5));
        Simulator::Run();

        std::set<uint32_t> seen;
        for (uint32_t i = 0; i < users; i++)
        {
            Ipv4Address a = net.userDaemons[i]->GetAssignedAddress();
            NS_TEST_ASSERT_MSG_EQ(a.IsAny(), false, "user " << i + 1 << " got an address");
            NS_TEST_ASSERT_MSG_EQ(a.CombineMask(Ipv4Mask("255.255.255.0")), Ipv4Address("10.99.0.0"),
                                  "user " << i + 1 << ": " << a << " is from RA-POOL");
            seen.insert(a.Get());
            NS_TEST_ASSERT_MSG_EQ(echo[i].sent, 5, "user " << i + 1 << " sent its echoes");
            NS_TEST_ASSERT_MSG_EQ(echo[i].returned, 5, "user " << i + 1 << " got every echo back");
        }
        NS_TEST_ASSERT_MSG_EQ(seen.size(), users, "50 distinct addresses");
        NS_TEST_ASSERT_MSG_EQ(inUse, users, "the pool shows 50 in use");
        NS_TEST_ASSERT_MSG_EQ(net.hubDaemon->GetIkeSasUp(), users, "one IKE SA per user");
        Ptr<VpnTunnelNetDevice> vt = FlexVpnHelper::GetTunnel(net.hub, "Virtual-Template1");
        NS_TEST_ASSERT_MSG_EQ(vt->GetPacketsDecrypted(), 5 * users, "the hub decrypted every echo request");
        NS_TEST_ASSERT_MSG_EQ(vt->GetPacketsEncrypted(), 5 * users, "and encrypted every reply");
        std::string session = net.hubDaemon->ShowCryptoSessionUser("user7", false);
        NS_TEST_ASSERT_MSG_NE(session.find("Username: user7"), std::string::npos, session);
        std::string pool = net.hubDaemon->ShowIpLocalPool();
        NS_TEST_ASSERT_MSG_NE(pool.find("RA-POOL"), std::string::npos, pool);
        Simulator::Destroy();
    }
};

// FlexVPN's one hub block: the same Virtual-Template and IKEv2 profile serve
// 50 EAP users and site-to-site spokes (PSK) at once. Each spoke announces
// its LAN in its CFG_REQUEST, the hub narrows the spoke's selectors to it
// and routes it into the template; the users keep their pool addresses.
class FlexVpnRaHubBlockTestCase : public TestCase
{
  public:
    FlexVpnRaHubBlockTestCase()
        : TestCase("one hub block: 50 users and 3 site-to-site spokes on one Virtual-Template and profile")
    {
    }

  private:
    void DoRun() override
    {
        const uint32_t users = 50;
        const uint32_t spokes = 3;
        FlexVpnRemoteAccessOptions o;
        o.users = users;
        o.spokes = spokes;
        o.joinSpread = 3.0;
        FlexVpnRemoteAccessHelper helper;
        FlexVpnRemoteAccess net = helper.Install(o);
        UdpEchoServerHelper server(4000);
        server.Install(net.hubHost).Start(Seconds(0.1));
        std::vector<Echo> echo(users);
        std::vector<Echo> site(spokes);
        for (uint32_t i = 0; i < users; i++)
        {
            StartEcho(net.users.Get(i), net.hostAddress, 5, Seconds(5.0), &echo[i]);
        }
        for (uint32_t j = 0; j < spokes; j++)
        {
            StartEcho(net.siteHosts.Get(j), net.hostAddress, 5, Seconds(5.0), &site[j]);
        }
        uint32_t inUse = 0;
        Simulator::Schedule(Seconds(7.0), [&]() { inUse = PoolInUse(net.hubDaemon); });
        // the routes the spokes' CHILD_SAs gave the hub, while they are up
        Ptr<VpnTunnelNetDevice> vt = FlexVpnHelper::GetTunnel(net.hub, "Virtual-Template1");
        std::set<uint32_t> siteRoutes;
        Simulator::Schedule(Seconds(7.0), [&]() {
            Ptr<Ipv4> ipv4 = net.hub->GetObject<Ipv4>();
            Ptr<Ipv4StaticRouting> sr = Ipv4StaticRoutingHelper().GetStaticRouting(ipv4);
            uint32_t ifc = static_cast<uint32_t>(ipv4->GetInterfaceForDevice(vt));
            for (uint32_t i = 0; i < sr->GetNRoutes(); i++)
            {
                Ipv4RoutingTableEntry e = sr->GetRoute(i);
                if (e.GetInterface() == ifc && e.GetDestNetworkMask() == Ipv4Mask("255.255.255.0"))
                {
                    siteRoutes.insert(e.GetDest().Get());
                }
            }
        });
        Simulator::Stop(Seconds(7.5));
        Simulator::Run();

        std::set<uint32_t> seen;
        for (uint32_t i = 0; i < users; i++)
        {
            Ipv4Address a = net.userDaemons[i]->GetAssignedAddress();
            NS_TEST_ASSERT_MSG_EQ(a.CombineMask(Ipv4Mask("255.255.255.0")), Ipv4Address("10.99.0.0"),
                                  "user " << i + 1 << ": " << a << " is from RA-POOL");
            seen.insert(a.Get());
            NS_TEST_ASSERT_MSG_EQ(echo[i].returned, 5, "user " << i + 1 << " got every echo back");
        }
        NS_TEST_ASSERT_MSG_EQ(seen.size(), users, "50 distinct addresses");
        NS_TEST_ASSERT_MSG_EQ(inUse, users, "the spokes took no pool address");
        for (uint32_t j = 0; j < spokes; j++)
        {
            NS_TEST_ASSERT_MSG_EQ(net.spokeDaemons[j]->GetIkeSasUp(), 1, "spoke " << j + 1 << " is up");
            NS_TEST_ASSERT_MSG_EQ(net.spokeDaemons[j]->GetAssignedAddress().IsAny(), true,
                                  "spoke " << j + 1 << " has no pool address");
            NS_TEST_ASSERT_MSG_EQ(site[j].sent, 5, "site " << j + 1 << " sent its echoes");
            NS_TEST_ASSERT_MSG_EQ(site[j].returned, 5, "site " << j + 1 << " got every echo back");
            std::ostringstream lan;
            lan << "10.2." << j + 1 << ".0";
            NS_TEST_ASSERT_MSG_EQ(siteRoutes.count(Ipv4Address(lan.str().c_str()).Get()), 1,
                                  "the hub routes " << lan.str() << "/24 into Virtual-Template1");
        }
        NS_TEST_ASSERT_MSG_EQ(siteRoutes.size(), spokes, "one route per spoke, none for users");
        NS_TEST_ASSERT_MSG_EQ(net.hubDaemon->GetIkeSasUp(), users + spokes, "one IKE SA per user and spoke");
        NS_TEST_ASSERT_MSG_EQ(vt->GetPacketsDecrypted(), 5 * (users + spokes),
                              "the one template decrypted every echo request");
        NS_TEST_ASSERT_MSG_EQ(vt->GetPacketsEncrypted(), 5 * (users + spokes), "and encrypted every reply");
        Simulator::Destroy();
    }
};

// RFC 7296 3.15.1 on the initiator: the spokes have no static route to the
// hub's LAN; the hub's CFG_REPLY names it (INTERNAL_IP4_SUBNET 10.0.0.0/24,
// its `route set interface`) and each spoke routes it into Tunnel0 while its
// IKE SA lasts. The sites' echoes cross the tunnel (the spoke encrypts
// them); a spoke whose IKE SA is cleared has the route taken off.
class FlexVpnRaSpokeLearntRoutesTestCase : public TestCase
{
  public:
    FlexVpnRaSpokeLearntRoutesTestCase()
        : TestCase("spokes route the hub's LAN from its CFG_REPLY, and drop it with the IKE SA")
    {
    }

  private:
    // Routes to 10.0.0.0/24 into Tunnel0 in node's static routing table.
    static uint32_t HubLanRoutes(Ptr<Node> node)
    {
        Ptr<Ipv4> ipv4 = node->GetObject<Ipv4>();
        Ptr<Ipv4StaticRouting> sr = Ipv4StaticRoutingHelper().GetStaticRouting(ipv4);
        int32_t ifc = ipv4->GetInterfaceForDevice(FlexVpnHelper::GetTunnel(node, "Tunnel0"));
        uint32_t n = 0;
        for (uint32_t i = 0; i < sr->GetNRoutes(); i++)
        {
            Ipv4RoutingTableEntry e = sr->GetRoute(i);
            n += e.GetDest() == Ipv4Address("10.0.0.0") && e.GetDestNetworkMask() == Ipv4Mask("255.255.255.0") &&
                 static_cast<int32_t>(e.GetInterface()) == ifc;
        }
        return n;
    }

    struct Down
    {
        Ptr<Node> node;
        Ptr<Ikev2Daemon> daemon;
        uint32_t downs = 0;
        uint32_t routesAtDown = UINT32_MAX;
        size_t learntAtDown = SIZE_MAX;
    };

    static void OnDown(Down* d, uint32_t, Ipv4Address, const std::string&)
    {
        // the daemon took its routes off before telling
        d->downs++;
        d->routesAtDown = HubLanRoutes(d->node);
        d->learntAtDown = d->daemon->GetLearntRoutes().size();
    }

    void DoRun() override
    {
        const uint32_t spokes = 2;
        FlexVpnRemoteAccessOptions o;
        o.users = 1;
        o.spokes = spokes;
        o.joinSpread = 1.0;
        FlexVpnRemoteAccessHelper helper;
        FlexVpnRemoteAccess net = helper.Install(o);
        NS_TEST_ASSERT_MSG_EQ(net.spokeConfigs[0].find("ip route 10.0.0.0"), std::string::npos,
                              "the spoke has no static route to the hub's LAN");
        UdpEchoServerHelper server(4000);
        server.Install(net.hubHost).Start(Seconds(0.1));
        std::vector<Echo> site(spokes);
        for (uint32_t j = 0; j < spokes; j++)
        {
            StartEcho(net.siteHosts.Get(j), net.hostAddress, 5, Seconds(3.0), &site[j]);
        }
        std::vector<uint32_t> routesUp(spokes, 0);
        std::vector<std::vector<std::string>> learnt(spokes);
        Simulator::Schedule(Seconds(4.0), [&]() {
            for (uint32_t j = 0; j < spokes; j++)
            {
                routesUp[j] = HubLanRoutes(net.spokes.Get(j));
                learnt[j] = net.spokeDaemons[j]->GetLearntRoutes();
            }
        });
        Down down;
        down.node = net.spokes.Get(0);
        down.daemon = net.spokeDaemons[0];
        net.spokeDaemons[0]->TraceConnectWithoutContext("IkeSaDown", MakeBoundCallback(&OnDown, &down));
        Simulator::Schedule(Seconds(4.5), [&]() { VpnIpsecStack::GetOrCreate(net.spokes.Get(0))->ClearIkeSas(); });
        uint32_t routesOtherAfter = 0;
        Simulator::Schedule(Seconds(5.0), [&]() { routesOtherAfter = HubLanRoutes(net.spokes.Get(1)); });
        Simulator::Stop(Seconds(5.0) + MilliSeconds(1));
        Simulator::Run();

        for (uint32_t j = 0; j < spokes; j++)
        {
            NS_TEST_ASSERT_MSG_EQ(routesUp[j], 1, "spoke " << j + 1 << " routes 10.0.0.0/24 into Tunnel0");
            NS_TEST_ASSERT_MSG_EQ(learnt[j].size(), 1, "spoke " << j + 1 << " learnt one route");
            if (!learnt[j].empty())
            {
                NS_TEST_ASSERT_MSG_EQ(learnt[j][0], "10.0.0.0/24", "the hub's LAN");
            }
            NS_TEST_ASSERT_MSG_EQ(site[j].sent, 5, "site " << j + 1 << " sent its echoes");
            NS_TEST_ASSERT_MSG_EQ(site[j].returned, 5, "site " << j + 1 << " got every echo back");
            Ptr<VpnTunnelNetDevice> t = FlexVpnHelper::GetTunnel(net.spokes.Get(j), "Tunnel0");
            NS_TEST_ASSERT_MSG_EQ(t->GetPacketsEncrypted(), 5, "spoke " << j + 1 << " encrypted the echoes");
        }
        NS_TEST_ASSERT_MSG_EQ(down.downs, 1, "spoke 1's IKE SA went down once");
        NS_TEST_ASSERT_MSG_EQ(down.routesAtDown, 0, "and its route with it");
        NS_TEST_ASSERT_MSG_EQ(down.learntAtDown, 0, "nothing learnt left");
        NS_TEST_ASSERT_MSG_EQ(routesOtherAfter, 1, "spoke 2 keeps its route");
        Simulator::Destroy();
    }
};

// RFC 7296 3.15.1 for IPv6: dual-stack users (`tunnel mode ipsec
// dual-overlay`) ask for an IPv6 address beside the IPv4 one; the hub's
// `ipv6 pool` gives each a distinct /128 and its LAN's IPv6 network as an
// INTERNAL_IP6_SUBNET, which the users route into Tunnel0. IPv6 echoes
// reach hostH (fd00:1::2) through the hub's template and come back on
// the same CHILD_SA as the IPv4 ones.
class FlexVpnRaIpv6UsersTestCase : public TestCase
{
  public:
    FlexVpnRaIpv6UsersTestCase()
        : TestCase("ipv6: 20 dual-stack users get distinct addresses of both pools, traffic of both families")
    {
    }

  private:
    void DoRun() override
    {
        const uint32_t users = 20;
        FlexVpnRemoteAccessOptions o;
        o.users = users;
        o.joinSpread = 2.0;
        o.ipv6 = true;
        FlexVpnRemoteAccessHelper helper;
        FlexVpnRemoteAccess net = helper.Install(o);
        NS_TEST_ASSERT_MSG_NE(net.userConfigs[0].find("tunnel mode ipsec dual-overlay"), std::string::npos,
                              "the users' tunnels carry both families");
        UdpEchoServerHelper server(4000);
        server.Install(net.hubHost).Start(Seconds(0.1));
        std::vector<Echo> echo4(users);
        std::vector<Echo> echo6(users);
        for (uint32_t i = 0; i < users; i++)
        {
            StartEcho(net.users.Get(i), net.hostAddress, 5, Seconds(4.0), &echo4[i]);
            StartEcho(net.users.Get(i), net.hostAddress6, 5, Seconds(4.0), &echo6[i]);
        }
        uint32_t inUse4 = 0;
        uint32_t inUse6 = 0;
        std::vector<std::vector<std::string>> learnt(users);
        Simulator::Schedule(Seconds(5.5), [&]() {
            inUse4 = PoolInUse(net.hubDaemon, 0);
            inUse6 = PoolInUse(net.hubDaemon, 1);
            for (uint32_t i = 0; i < users; i++)
            {
                learnt[i] = net.userDaemons[i]->GetLearntRoutes();
            }
        });
        std::string session;
        Simulator::Schedule(Seconds(5.5), [&]() { session = net.hubDaemon->ShowCryptoSessionUser("user3", false); });
        Simulator::Stop(Seconds(6.0));
        Simulator::Run();

        std::set<Ipv6Address> seen;
        for (uint32_t i = 0; i < users; i++)
        {
            Ipv6Address a = net.userDaemons[i]->GetAssignedAddress6();
            NS_TEST_ASSERT_MSG_EQ(a.IsAny(), false, "user " << i + 1 << " got an IPv6 address");
            NS_TEST_ASSERT_MSG_EQ(a.CombinePrefix(Ipv6Prefix(64)), Ipv6Address("fd00:99::"),
                                  "user " << i + 1 << ": " << a << " is from RA-POOL6");
            seen.insert(a);
            NS_TEST_ASSERT_MSG_EQ(net.userDaemons[i]->GetAssignedAddress().IsAny(), false,
                                  "user " << i + 1 << " got an IPv4 address too");
            bool has6 = std::find(learnt[i].begin(), learnt[i].end(), "fd00:1::/64") != learnt[i].end();
            NS_TEST_ASSERT_MSG_EQ(has6, true, "user " << i + 1 << " routes the hub's IPv6 LAN from the CFG_REPLY");
            NS_TEST_ASSERT_MSG_EQ(echo6[i].sent, 5, "user " << i + 1 << " sent its IPv6 echoes");
            NS_TEST_ASSERT_MSG_EQ(echo6[i].returned, 5, "user " << i + 1 << " got every IPv6 echo back");
            NS_TEST_ASSERT_MSG_EQ(echo4[i].returned, 5, "user " << i + 1 << " got every IPv4 echo back");
        }
        NS_TEST_ASSERT_MSG_EQ(seen.size(), users, "20 distinct IPv6 addresses");
        NS_TEST_ASSERT_MSG_EQ(inUse6, users, "RA-POOL6 shows 20 in use");
        NS_TEST_ASSERT_MSG_EQ(inUse4, users, "RA-POOL shows 20 in use");
        NS_TEST_ASSERT_MSG_NE(session.find("Assigned IPv6 address: fd00:99::"), std::string::npos, session);
        Ptr<VpnTunnelNetDevice> vt = FlexVpnHelper::GetTunnel(net.hub, "Virtual-Template1");
        NS_TEST_ASSERT_MSG_EQ(vt->GetPacketsDecrypted(), 10 * users,
                              "the hub decrypted every echo request of both families, nothing else");
        NS_TEST_ASSERT_MSG_EQ(vt->GetPacketsEncrypted(), 10 * users, "and encrypted every reply");
        // The template is unnumbered for IPv6: it borrows one of the hub's
        // global addresses (ns-3 picks a source on the outgoing interface
        // even when forwarding; a debug build asserts on none), without a
        // route that would pull that address into the tunnel.
        Ptr<Ipv6> ipv6 = net.hub->GetObject<Ipv6>();
        int32_t ifc6 = ipv6->GetInterfaceForDevice(vt);
        NS_TEST_ASSERT_MSG_GT_OR_EQ(ifc6, 0, "the template joined IPv6");
        Ipv6Address borrowed;
        for (uint32_t k = 0; k < ipv6->GetNAddresses(ifc6); k++)
        {
            if (ipv6->GetAddress(ifc6, k).GetScope() == Ipv6InterfaceAddress::GLOBAL)
            {
                borrowed = ipv6->GetAddress(ifc6, k).GetAddress();
                NS_TEST_ASSERT_MSG_EQ(ipv6->GetAddress(ifc6, k).GetPrefix(), Ipv6Prefix(128), "borrowed as a /128");
            }
        }
        NS_TEST_ASSERT_MSG_EQ(borrowed.IsAny(), false, "the template carries a global IPv6 address");
        int32_t owner = -1;
        for (uint32_t i = 0; i < ipv6->GetNInterfaces(); i++)
        {
            for (uint32_t k = 0; static_cast<int32_t>(i) != ifc6 && k < ipv6->GetNAddresses(i); k++)
            {
                owner = ipv6->GetAddress(i, k).GetAddress() == borrowed ? static_cast<int32_t>(i) : owner;
            }
        }
        NS_TEST_ASSERT_MSG_GT_OR_EQ(owner, 0, borrowed << " is one of the hub's own addresses");
        Ptr<Ipv6StaticRouting> sr = Ipv6RoutingHelper::GetRouting<Ipv6StaticRouting>(ipv6->GetRoutingProtocol());
        for (uint32_t r = 0; sr && r < sr->GetNRoutes(); r++)
        {
            Ipv6RoutingTableEntry e = sr->GetRoute(r);
            bool intoTemplate = e.GetInterface() == static_cast<uint32_t>(ifc6) && e.GetDest() == borrowed;
            NS_TEST_ASSERT_MSG_EQ(intoTemplate, false,
                                  "no route sends " << borrowed << " into the template");
        }
        // The hub's route to a user leaves through the template, which is
        // `ip unnumbered GigabitEthernet2`: its source is GigabitEthernet2's
        // fd00:1::1, not :: (with no global address on the template, ns-3's
        // source selection asserts in debug builds: every forwarded echo).
        Ipv6Header toUser;
        toUser.SetDestination(net.userDaemons[0]->GetAssignedAddress6());
        toUser.SetNextHeader(17);
        Socket::SocketErrno err = Socket::ERROR_NOTERROR;
        Ptr<Ipv6> hub6 = net.hub->GetObject<Ipv6>();
        Ptr<Ipv6Route> route = hub6->GetRoutingProtocol()->RouteOutput(Create<Packet>(), toUser, nullptr, err);
        NS_TEST_ASSERT_MSG_EQ((route ? true : false), true, "the hub routes to a user's IPv6 address");
        if (route)
        {
            NS_TEST_ASSERT_MSG_EQ((PeekPointer(route->GetOutputDevice()) == PeekPointer(vt)), true,
                                  "through the template");
            NS_TEST_ASSERT_MSG_EQ(route->GetSource(), Ipv6Address("fd00:1::1"),
                                  "from the address the template borrows");
        }
        Simulator::Destroy();
    }
};

// A pool runs out (RFC 7296 3.15.4, INTERNAL_ADDRESS_FAILURE): 4 users, a
// pool of 3; one user is refused and takes nothing; another leaves, its
// address goes back, and the refused user, trying again, gets that address
// and sends traffic through. For IPv6 the users are dual-stack with pools
// of 3 of each family (RA-POOL6 fd00:99::/126: ::1-::3): the refused user
// takes nothing from either pool.
class FlexVpnRaPoolExhaustedTestCase : public TestCase
{
  public:
    explicit FlexVpnRaPoolExhaustedTestCase(bool ipv6)
        : TestCase(ipv6 ? "ipv6: pools of 3 for 4 dual-stack users: the last is refused, served after another leaves"
                        : "pool of 3 for 4 users: the last is refused, served after another leaves"),
          m_ipv6(ipv6)
    {
    }

  private:
    bool m_ipv6;

    // The user's address of the family under test, as text ("" when none).
    std::string Assigned(Ptr<Ikev2Daemon> user) const
    {
        std::ostringstream s;
        if (m_ipv6)
        {
            Ipv6Address a = user->GetAssignedAddress6();
            if (!a.IsAny())
            {
                s << a;
            }
        }
        else
        {
            Ipv4Address a = user->GetAssignedAddress();
            if (!a.IsAny())
            {
                s << a;
            }
        }
        return s.str();
    }

    void DoRun() override
    {
        FlexVpnRemoteAccessOptions o;
        o.users = 4;
        o.poolSize = 3;
        o.joinSpread = 2.0;
        o.ipv6 = m_ipv6;
        FlexVpnRemoteAccessHelper helper;
        FlexVpnRemoteAccess net = helper.Install(o);
        if (m_ipv6)
        {
            NS_TEST_ASSERT_MSG_NE(net.hubConfig.find("ipv6 local pool RA-POOL6 fd00:99::/126 128"),
                                  std::string::npos, net.hubConfig);
        }
        const size_t pool = m_ipv6 ? 1 : 0; // RA-POOL6 or RA-POOL
        const Address host = m_ipv6 ? Address(net.hostAddress6) : Address(net.hostAddress);
        UdpEchoServerHelper server(4000);
        server.Install(net.hubHost).Start(Seconds(0.1));
        // the user whose IKE_AUTH completes last (about the last to join) is
        // the one refused; then another user leaves and it tries again
        uint32_t refused = UINT32_MAX;
        uint32_t leaver = UINT32_MAX;
        uint32_t without = 0;
        std::vector<std::string> before(4);
        uint32_t full = 0;
        uint32_t full4 = 0;
        uint32_t afterLeave = 0;
        Echo echo;
        Simulator::Schedule(Seconds(4.0), [&]() {
            for (uint32_t i = 0; i < 4; i++)
            {
                before[i] = Assigned(net.userDaemons[i]);
                if (before[i].empty())
                {
                    refused = i;
                    without++;
                }
                else if (leaver == UINT32_MAX)
                {
                    leaver = i;
                }
            }
            full = PoolInUse(net.hubDaemon, pool);
            full4 = PoolInUse(net.hubDaemon, 0);
            if (leaver != UINT32_MAX)
            {
                VpnIpsecStack::GetOrCreate(net.users.Get(leaver))->ClearIkeSas();
            }
        });
        Simulator::Schedule(Seconds(4.5), [&]() {
            afterLeave = PoolInUse(net.hubDaemon, pool);
            if (refused != UINT32_MAX)
            {
                VpnIpsecStack::GetOrCreate(net.users.Get(refused))->InitiateTunnel(0);
                StartEcho(net.users.Get(refused), host, 5, Seconds(1.5), &echo);
            }
        });
        Simulator::Stop(Seconds(7.0));
        Simulator::Run();

        NS_TEST_ASSERT_MSG_EQ(without, 1,
                              "exactly one of 4 users got no address from a pool of 3: "
                                  << before[0] << " " << before[1] << " " << before[2] << " " << before[3]
                                  << ", pool in use " << full);
        if (refused == UINT32_MAX || leaver == UINT32_MAX)
        {
            NS_TEST_ASSERT_MSG_EQ(true, false, "no refused or no connected user");
            Simulator::Destroy();
            return;
        }
        NS_TEST_ASSERT_MSG_EQ(net.userDaemons[refused]->GetIkeSasUp(), 1,
                              "the refused user connected once (the second try)");
        NS_TEST_ASSERT_MSG_EQ(full, 3, "the pool was full");
        NS_TEST_ASSERT_MSG_EQ(full4, 3, "RA-POOL full with 3 users: the refused user took nothing from it");
        NS_TEST_ASSERT_MSG_EQ(afterLeave, 2, "the leaving user's address went back");
        NS_TEST_ASSERT_MSG_EQ(Assigned(net.userDaemons[refused]), before[leaver],
                              "the refused user now has the freed address");
        NS_TEST_ASSERT_MSG_EQ(Assigned(net.userDaemons[leaver]), "", "the user that left has no address");
        NS_TEST_ASSERT_MSG_EQ(echo.returned, 5, "and its traffic flows");
        NS_TEST_ASSERT_MSG_EQ(PoolInUse(net.hubDaemon, pool), 3, "the pool is full again");
        Simulator::Destroy();
    }
};

class FlexVpnRaTestSuite : public TestSuite
{
  public:
    FlexVpnRaTestSuite()
        : TestSuite("flexvpn-ra")
    {
        AddTestCase(new FlexVpnRaFiftyUsersTestCase);
        AddTestCase(new FlexVpnRaPoolExhaustedTestCase(false));
        AddTestCase(new FlexVpnRaHubBlockTestCase);
        AddTestCase(new FlexVpnRaSpokeLearntRoutesTestCase);
        AddTestCase(new FlexVpnRaIpv6UsersTestCase);
        AddTestCase(new FlexVpnRaPoolExhaustedTestCase(true));
    }
};

static FlexVpnRaTestSuite g_flexVpnRaTestSuite;
