/*
 * FlexVPN remote access: one hub whose Virtual-Template serves N users
 * (--users), laptops that join at random times, authenticate with
 * EAP-MSCHAPv2 against the hub's local user database, get an address from
 * the hub's pool in the configuration payload (RFC 7296 3.15) and send a
 * voice-like echo flow to the host behind the hub from that address.
 *
 *   hostH --10.0.0.0/24-- HUB ==198.51.100.0/30== PE ==100.64.i.0/30== USERi
 *
 * With --spokes=S the same Virtual-Template and IKEv2 profile also serve S
 * site-to-site spokes (PSK; FlexVPN's one hub block): SITEj behind SPOKEj
 * echoes to hostH too, through the spoke's tunnel and the hub's template.
 *
 *   SITEj --10.2.j.0/24-- SPOKEj ==100.65.j.0/30== PE
 *
 * With --ipv6 the users are dual-stack (`tunnel mode ipsec dual-overlay`):
 * each also gets a /128 of the hub's `ipv6 local pool` (RFC 7296 3.15.1,
 * INTERNAL_IP6_ADDRESS), routes the hub's IPv6 LAN learnt from the
 * CFG_REPLY, and echoes to hostH's fd00:1::2 over IPv6 through the same
 * CHILD_SA.
 *
 * With --pool smaller than --users the last users to join are refused
 * (INTERNAL_ADDRESS_FAILURE, RFC 7296 3.10.1) and get no address. Outputs in
 * --out: wan-HUB pcap (IKE with EAP and CP, ESP) and the key files that
 * decrypt it, show-HUB.txt, the configurations, summary.txt/json with every
 * user's assigned address, time to connect and echo counts, and the flows'
 * delays.
 */
#include "flexvpn-remote-access-scenario.h"

#include "ns3/applications-module.h"
#include "ns3/core-module.h"
#include "ns3/flow-monitor-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"
#include "ns3/vpn-module.h"

#include <fstream>
#include <sstream>

using namespace ns3;

NS_LOG_COMPONENT_DEFINE("FlexvpnRemoteAccess");

namespace
{
struct UserState
{
    Ipv4Address address;
    Time connectedAt = Seconds(-1);
    uint32_t sent = 0;
    uint32_t returned = 0;
    // --ipv6: the user's IPv6 address and its IPv6 echo flow
    Ipv6Address address6;
    uint32_t sent6 = 0;
    uint32_t returned6 = 0;
};

std::vector<UserState> g_users;
std::vector<UserState> g_sites;
uint32_t g_packets = 0;
double g_interval = 0.05;
Ipv4Address g_host;
Ipv6Address g_host6; // --ipv6: hostH's fd00:1::2

void
OnTx(UserState* s, Ptr<const Packet>)
{
    s->sent++;
}

void
OnRx(UserState* s, Ptr<const Packet>)
{
    s->returned++;
}

// A user's or a site's echo flow, from \p node to the host, counted in \p s
// (an element of g_users or g_sites, which are not resized once the run starts).
void
StartEcho(UserState* s, Ptr<Node> node)
{
    s->connectedAt = Simulator::Now();
    UdpEchoClientHelper client(g_host, 4000);
    client.SetAttribute("MaxPackets", UintegerValue(g_packets));
    client.SetAttribute("Interval", TimeValue(Seconds(g_interval)));
    client.SetAttribute("PacketSize", UintegerValue(160));
    ApplicationContainer app = client.Install(node);
    app.Get(0)->TraceConnectWithoutContext("Tx", MakeBoundCallback(&OnTx, s));
    app.Get(0)->TraceConnectWithoutContext("Rx", MakeBoundCallback(&OnRx, s));
    app.Start(Seconds(0));
}

void
OnTx6(UserState* s, Ptr<const Packet>)
{
    s->sent6++;
}

void
OnRx6(UserState* s, Ptr<const Packet>)
{
    s->returned6++;
}

// --ipv6: the same flow over IPv6, from the user's IPv6 address.
void
StartEcho6(UserState* s, Ptr<Node> node)
{
    UdpEchoClientHelper client(g_host6, 4000);
    client.SetAttribute("MaxPackets", UintegerValue(g_packets));
    client.SetAttribute("Interval", TimeValue(Seconds(g_interval)));
    client.SetAttribute("PacketSize", UintegerValue(160));
    ApplicationContainer app = client.Install(node);
    app.Get(0)->TraceConnectWithoutContext("Tx", MakeBoundCallback(&OnTx6, s));
    app.Get(0)->TraceConnectWithoutContext("Rx", MakeBoundCallback(&OnRx6, s));
    app.Start(Seconds(0));
}

// A site's echo flow starts once its spoke's CHILD_SA is up.
void
OnSpokeChild(uint32_t j, Ptr<Node> host, uint32_t, Ipv4Address, const std::string&)
{
    if (g_sites[j].connectedAt >= Seconds(0))
    {
        return;
    }
    StartEcho(&g_sites[j], host);
}

// The user's echo flow starts once its address is on the tunnel.
// (--ipv6: the IPv6 address came with the same CHILD_SA, put on first.)
void
OnAddress(uint32_t i, Ptr<Ikev2Daemon> d, Ptr<Node> node, uint32_t, Ipv4Address a, const std::string& what)
{
    if (what != "assigned" || g_users[i].connectedAt >= Seconds(0))
    {
        return;
    }
    g_users[i].address = a;
    StartEcho(&g_users[i], node);
    g_users[i].address6 = d->GetAssignedAddress6();
    if (!g_host6.IsAny() && !g_users[i].address6.IsAny())
    {
        StartEcho6(&g_users[i], node);
    }
}
} // namespace

int
main(int argc, char* argv[])
{
    std::string out = "out/flexvpn-remote-access";
    FlexVpnRemoteAccessOptions o;
    double duration = 10.0;

    CommandLine cmd(__FILE__);
    cmd.AddValue("out", "Output folder", out);
    cmd.AddValue("users", "Number of remote users (1-250)", o.users);
    cmd.AddValue("pool", "Addresses in the hub's pool (0: one per user)", o.poolSize);
    cmd.AddValue("joinSpread", "Seconds over which users join", o.joinSpread);
    cmd.AddValue("duration", "Seconds of simulation after the first join", duration);
    cmd.AddValue("interval", "Seconds between echo packets of each user", g_interval);
    cmd.AddValue("spokes", "Site-to-site spokes on the same Virtual-Template (0-250)", o.spokes);
    cmd.AddValue("ipv6", "Dual-stack users: an IPv6 address from RA-POOL6 too, echoes over IPv6 as well", o.ipv6);
    cmd.Parse(argc, argv);
    if (!VpnMpi::SerialOnly("flexvpn-remote-access"))
    {
        return 2;
    }
    if (o.users < 1 || o.users > 250 || o.spokes > 250 || duration <= 0 || g_interval <= 0 || o.joinSpread < 0)
    {
        std::cerr << "--users must be 1..250, --spokes 0..250, --duration and --interval positive\n";
        return 2;
    }
    GlobalValue::Bind("ChecksumEnabled", BooleanValue(true));

    FlexVpnRemoteAccessHelper helper;
    FlexVpnRemoteAccess net = helper.Install(o);
    Names::Add("HUB", net.hub);
    g_host = net.hostAddress;
    g_host6 = o.ipv6 ? net.hostAddress6 : Ipv6Address::GetAny();
    g_users.assign(o.users, UserState());
    g_sites.assign(o.spokes, UserState());
    Time end = Seconds(o.joinStart + duration);
    // Each user echoes until the end (as many packets as fit).
    g_packets = static_cast<uint32_t>(duration / g_interval);

    VpnTraceHelper trace(out);
    NodeContainer routers(net.hub);
    routers.Add(net.users);
    routers.Add(net.spokes);
    trace.EnableKeyExport(routers);
    std::ofstream(out + "/HUB.cfg") << net.hubConfig;
    std::ofstream(out + "/USER1.cfg") << net.userConfigs[0];
    for (uint32_t i = 0; i < o.users; i++)
    {
        net.userDaemons[i]->TraceConnectWithoutContext(
            "AddressAssigned", MakeBoundCallback(&OnAddress, i, net.userDaemons[i], net.users.Get(i)));
    }
    for (uint32_t j = 0; j < o.spokes; j++)
    {
        net.spokeDaemons[j]->TraceConnectWithoutContext(
            "ChildSaUp", MakeBoundCallback(&OnSpokeChild, j, net.siteHosts.Get(j)));
        std::ofstream(out + "/SPOKE" + std::to_string(j + 1) + ".cfg") << net.spokeConfigs[j];
    }
    UdpEchoServerHelper server(4000);
    server.Install(net.hubHost).Start(Seconds(0.1));

    PointToPointHelper p2p;
    p2p.EnablePcap(out + "/wan", net.hubWan.Get(0), true); // wan-HUB-0.pcap
    trace.ScheduleShowSnapshot(net.hubDaemon, "show-HUB.txt", end - MilliSeconds(1));
    trace.ScheduleShowSnapshot(net.userDaemons[0], "show-USER1.txt", end - MilliSeconds(1));
    std::string pools;
    Simulator::Schedule(end - MilliSeconds(1), [&]() {
        pools = net.hubDaemon->ShowIpLocalPool() + "\n" + net.hubDaemon->ShowCryptoSessionUser("user1", true);
    });

    FlowMonitorHelper flowHelper;
    // the hub too, so that the users' IKE flows are counted where they arrive
    NodeContainer hosts(net.hubHost, net.hub);
    hosts.Add(net.users);
    hosts.Add(net.spokes); // their IKE flows too
    hosts.Add(net.siteHosts);
    Ptr<FlowMonitor> monitor = flowHelper.Install(hosts);
    Simulator::Stop(end);
    Simulator::Run();

    std::ofstream(out + "/show-HUB-pool.txt") << pools;
    std::vector<Ptr<Ikev2Daemon>> daemons{net.hubDaemon};
    daemons.insert(daemons.end(), net.userDaemons.begin(), net.userDaemons.end());
    daemons.insert(daemons.end(), net.spokeDaemons.begin(), net.spokeDaemons.end());
    size_t ikeKeys = trace.WriteIkeKeys(daemons);
    VpnReport report("flexvpn-remote-access: HUB (Virtual-Template1, EAP-MSCHAPv2, pool of " +
                     std::to_string(o.poolSize ? o.poolSize : o.users) + ") and " + std::to_string(o.users) +
                     (o.ipv6 ? " dual-stack" : "") + " users" +
                     (o.spokes ? " and " + std::to_string(o.spokes) + " site-to-site spokes" : ""));
    uint32_t connected = 0;
    for (uint32_t i = 0; i < o.users; i++)
    {
        const UserState& u = g_users[i];
        std::ostringstream v;
        v << "joined " << net.joinAt[i].GetSeconds() << " s";
        if (u.connectedAt >= Seconds(0))
        {
            connected++;
            v << ", address " << u.address << ", time to connect "
              << (u.connectedAt - net.joinAt[i]).GetMilliSeconds() << " ms, echoes " << u.returned << "/"
              << u.sent;
            if (o.ipv6)
            {
                v << ", IPv6 address " << u.address6 << ", IPv6 echoes " << u.returned6 << "/" << u.sent6;
            }
        }
        else
        {
            v << ", refused (no address)";
        }
        report.Add("user" + std::to_string(i + 1), v.str());
    }
    report.Add("users_connected", connected);
    uint32_t sitesUp = 0;
    for (uint32_t j = 0; j < o.spokes; j++)
    {
        const UserState& u = g_sites[j];
        std::ostringstream v;
        if (u.connectedAt >= Seconds(0))
        {
            sitesUp++;
            v << "LAN 10.2." << j + 1 << ".0/24, up at " << u.connectedAt.GetSeconds() << " s, echoes " << u.returned
              << "/" << u.sent;
        }
        else
        {
            v << "not up";
        }
        report.Add("spoke" + std::to_string(j + 1), v.str());
    }
    if (o.spokes)
    {
        report.Add("spokes_up", sitesUp);
    }
    report.Add("hub_ike_sas_up", net.hubDaemon->GetIkeSasUp());
    Ptr<VpnTunnelNetDevice> vt = FlexVpnHelper::GetTunnel(net.hub, "Virtual-Template1");
    report.Add("hub_encrypted", vt->GetPacketsEncrypted());
    report.Add("hub_decrypted", vt->GetPacketsDecrypted());
    report.Add("hub_dropped", vt->GetPacketsDropped());
    report.Add("wireshark_esp_sa_lines", trace.GetKeyLinesWritten());
    report.Add("wireshark_ikev2_lines", ikeKeys);
    report.AddFlows(flowHelper, monitor);
    std::cout << report.Write(out);
    Simulator::Destroy();
    return 0;
}
