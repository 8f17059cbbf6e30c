/*
 * A real GET VPN group member meets a simulated group (issue 22). A
 * simulated provider router P sits on a real Linux interface through
 * VpnEmuHelper (AF_PACKET + FdNetDevice, 198.18.0.1) and runs under ns-3's
 * real-time scheduler; behind it on point-to-point links a simulated key
 * server KS1 (192.0.2.2, scenarios/getvpn-emulation/KS1.cfg) and a
 * simulated group member GM1 (198.51.100.6, GM1.cfg) whose LAN holds the
 * simulated host H1 (10.0.1.1: UDP echo on port 5001, ICMP echo). A real
 * member (vpnd, at 198.18.0.2 with its LAN 10.0.2.0/24) on the other end of
 * the wire registers with KS1, and its LAN talks to H1 under the group's
 * TEK, address preserved: P routes 10.0.1.0/24 to GM1 and 10.0.2.0/24 to
 * the real member. With --rekeyAt KS1 pushes a rekey (new TEK and KEK,
 * unicast) to every member at those seconds, and on every SIGUSR1.
 * With --realKs=ADDR the other way round: no simulated key server; GM1
 * registers with a real one (vpnd) at ADDR on the real wire and takes its
 * rekeys there.
 *
 * test/interop/getvpn-emulation.sh sets up the namespaces and vpnd and runs
 * this program inside one of them:
 *   getvpn-emulation --interface=vu --peerNetns=NS --peerInterface=vs --out=DIR
 *
 * Runs for --duration seconds of wall clock, or until SIGINT/SIGTERM; then
 * writes DIR/summary.{txt,json} (registrations, rekeys, GM1's data plane,
 * H1's echoes, the real-time lag), DIR/show-KS1.txt and show-GM1.txt, the
 * pcaps of the real interface and of H1's LAN, KS1's GDOI datagrams as sent
 * and as the engine saw them (gdoi-KS1{,.plain}.pcap) and the Wireshark key
 * files in DIR/wireshark/ (every TEK, the simulated side's phase 1s). A
 * broken configuration or an unusable interface: a message and exit 2.
 */
#include "ns3/applications-module.h"
#include "ns3/core-module.h"
#include "ns3/fd-net-device.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"
#include "ns3/vpn-module.h"

extern "C" {
#include "getvpn/getvpn.h"
}

#include <arpa/inet.h>
#include <atomic>
#include <csignal>
#include <fstream>
#include <iostream>
#include <sstream>

#ifndef VPN_SOURCE_DIR
#define VPN_SOURCE_DIR "."
#endif

using namespace ns3;

NS_LOG_COMPONENT_DEFINE("GetvpnEmulation");

namespace
{

std::atomic<int> g_rekeyRequests{0};
std::atomic<int> g_sendRequests{0};

void
OnUsr1(int)
{
    g_rekeyRequests++;
}

void
OnUsr2(int)
{
    g_sendRequests++;
}

/*
 * H1's own traffic to the real member's LAN (the other direction's
 * initiator): --h1Send datagrams at 200 per second to UDP 5003, each
 * "interop h1 SEQ" padded to 64 bytes as test/interop/traffic.py's sink
 * counts them. Started by SIGUSR2.
 */
struct H1Sender
{
    Ptr<Socket> socket;
    uint32_t count{0};
    uint32_t sent{0};
    uint32_t next{0};

    void Start()
    {
        next = 0;
        SendOne();
    }

    void SendOne()
    {
        if (next >= count)
        {
            return;
        }
        std::string p = "interop h1 " + std::to_string(next) + " ";
        p.resize(64, '.');
        if (socket->Send(Create<Packet>(reinterpret_cast<const uint8_t*>(p.data()), p.size())) >= 0)
        {
            sent++;
        }
        next++;
        Simulator::Schedule(MilliSeconds(5), &H1Sender::SendOne, this);
    }
};

uint64_t g_echoed = 0;

// UdpEchoServer's "RxWithAddresses": the same signature on ns-3 3.37 and
// 3.48 (its "Rx" gained an address argument when 3.48 moved it to
// SinkApplication)
void
CountEcho(Ptr<const Packet>, const Address&, const Address&)
{
    g_echoed++;
}

void
Rekey(Ptr<GdoiDaemon> ks)
{
    // IOS `crypto gdoi ks rekey` with a new KEK: every member gets it unicast.
    if (!ks)
    {
        std::cout << "no simulated key server to rekey (--realKs)" << std::endl;
        return;
    }
    int rc = ks->Rekey(0, true);
    std::cout << "t=" << Simulator::Now().GetSeconds() << " s: KS1 rekey "
              << (rc == 0 ? "sent" : "failed") << std::endl;
}

// A line the test harness waits for: GM1 holds a TEK, so traffic the real
// member sends from now on can be decrypted (emulation-getvpn-vpnd-gm).
void
Gm1TekInstalled(const struct vpn_sa* /* sa */)
{
    std::cout << "t=" << Simulator::Now().GetSeconds() << " s: GM1 installed a TEK" << std::endl;
}

/*
 * At every lag sample (VpnRealtimeLagMeter): KS1 rekeys once per SIGUSR1,
 * H1's sender starts on SIGUSR2 (the handlers only count).
 */
void
OnSample(Ptr<GdoiDaemon> ks, H1Sender* sender)
{
    for (int n = g_rekeyRequests.exchange(0); n > 0; n--)
    {
        Rekey(ks);
    }
    if (g_sendRequests.exchange(0) > 0)
    {
        sender->Start();
    }
}

} // namespace

int
main(int argc, char* argv[])
{
    VpnEmuOptions o;
    o.out = "out/getvpn-emulation";
    o.mac = "02:00:00:00:22:02";
    std::string dir = std::string(VPN_SOURCE_DIR) + "/scenarios/getvpn-emulation";
    std::string realMember = "198.18.0.2";
    std::string realLan = "10.0.2.0";
    std::string rekeyAt;
    std::string realKs;
    uint32_t h1Send = 0;
    CommandLine cmd(__FILE__);
    o.AddValues(cmd, "P", "member");
    cmd.AddValue("scenario", "Folder holding KS1.cfg and GM1.cfg", dir);
    cmd.AddValue("realMember", "The real member's address on the real wire", realMember);
    cmd.AddValue("realLan", "The real member's LAN (/24), routed to it", realLan);
    cmd.AddValue("rekeyAt", "Comma-separated seconds at which KS1 pushes a rekey", rekeyAt);
    cmd.AddValue("realKs",
                 "A real key server's address on the real wire: GM1 registers there "
                 "and KS1 is not simulated; empty: KS1 is the key server",
                 realKs);
    cmd.AddValue("h1Send",
                 "On SIGUSR2 H1 sends this many datagrams (200/s) to UDP 5003 of the "
                 "real member's LAN address .1",
                 h1Send);
    cmd.Parse(argc, argv);
    if (!VpnMpi::SerialOnly("getvpn-emulation"))
    {
        return 2;
    }
    if (o.duration <= 0 || o.hardLimit < 0)
    {
        std::cerr << "--duration must be positive and --hardLimit not negative\n";
        return 2;
    }
    std::vector<double> rekeys;
    {
        std::istringstream s(rekeyAt);
        std::string item;
        while (std::getline(s, item, ','))
        {
            char* end = nullptr;
            double t = std::strtod(item.c_str(), &end);
            if (item.empty() || *end != '\0' || t <= 0 || t >= o.duration)
            {
                std::cerr << "--rekeyAt: '" << item << "' is not a time within the run\n";
                return 2;
            }
            rekeys.push_back(t);
        }
    }
    std::string ksCfg;
    std::string gmCfg;
    if (!VpnEmuOptions::ReadFile(dir + "/KS1.cfg", ksCfg) || !VpnEmuOptions::ReadFile(dir + "/GM1.cfg", gmCfg))
    {
        std::cerr << dir << ": cannot read KS1.cfg and GM1.cfg\n";
        return 2;
    }
    if (!realKs.empty())
    {
        in_addr a;
        if (inet_pton(AF_INET, realKs.c_str(), &a) != 1)
        {
            std::cerr << "--realKs: '" << realKs << "' is not an IPv4 address\n";
            return 2;
        }
        // GM1's key server (and the peer of its pre-shared key) is the real one.
        for (size_t at; (at = gmCfg.find("192.0.2.2")) != std::string::npos;)
        {
            gmCfg.replace(at, 9, realKs);
        }
    }
    VpnEmuHelper::EnableRealtime(Seconds(o.hardLimit));

    NodeContainer nodes;
    nodes.Create(4);
    Ptr<Node> p = nodes.Get(0);
    Ptr<Node> ks = nodes.Get(1);
    Ptr<Node> gm = nodes.Get(2);
    Ptr<Node> h1 = nodes.Get(3);
    Names::Add("P", p);
    Names::Add("KS1", ks);
    Names::Add("GM1", gm);
    Names::Add("H1", h1);
    InternetStackHelper stack;
    stack.Install(nodes);

    // The real interface first: its checks end the run before anything is written.
    std::string error;
    Ptr<NetDevice> wan = o.Install(p, error);
    if (!wan)
    {
        std::cerr << "getvpn-emulation: " << error << "\n";
        return 2;
    }

    // Point-to-point links (the CSMA model queues heavily in real time, issue 22).
    PointToPointHelper link;
    link.SetDeviceAttribute("DataRate", StringValue("1Gbps"));
    link.SetChannelAttribute("Delay", StringValue("50us"));
    NetDeviceContainer pKs = link.Install(p, ks);
    NetDeviceContainer pGm = link.Install(p, gm);
    NetDeviceContainer lan = link.Install(h1, gm);
    Ipv4AddressHelper ip;
    ip.SetBase("192.0.2.0", "255.255.255.252");
    ip.Assign(pKs); // P .1, KS1 .2
    ip.SetBase("198.51.100.4", "255.255.255.252");
    ip.Assign(pGm); // P .5, GM1 .6
    ip.SetBase("10.0.1.0", "255.255.255.0");
    ip.Assign(lan); // H1 .1, GM1 .2

    Ipv4StaticRoutingHelper routing;
    auto rt = [&routing](Ptr<Node> n) { return routing.GetStaticRouting(n->GetObject<Ipv4>()); };
    Ptr<Ipv4> pIp = p->GetObject<Ipv4>();
    rt(p)->AddNetworkRouteTo(Ipv4Address("10.0.1.0"),
                             Ipv4Mask("255.255.255.0"),
                             Ipv4Address("198.51.100.6"),
                             pIp->GetInterfaceForDevice(pGm.Get(0)));
    rt(p)->AddNetworkRouteTo(Ipv4Address(realLan.c_str()),
                             Ipv4Mask("255.255.255.0"),
                             Ipv4Address(realMember.c_str()),
                             pIp->GetInterfaceForDevice(wan));
    rt(ks)->SetDefaultRoute(Ipv4Address("192.0.2.1"), 1);
    rt(gm)->SetDefaultRoute(Ipv4Address("198.51.100.5"), 1);
    rt(h1)->SetDefaultRoute(Ipv4Address("10.0.1.2"), 1);

    GetVpnHelper getvpn;
    getvpn.SetRegistrationStart(Seconds(0.5));
    // KS1 announces the GAP delays vpnd's key server uses: without them GM1
    // switched to a new TEK the moment its rekey arrived and sent on it
    // before the real member had processed the same rekey (one datagram in
    // 2,000 lost under a rekey in emulation-getvpn-vpnd-gm)
    getvpn.SetGapDelays(Seconds(2), Seconds(30));
    std::string bad;
    if (realKs.empty())
    {
        bad = getvpn.Install(ks, ksCfg, {{"GigabitEthernet0/0", pKs.Get(1)}});
    }
    if (bad.empty())
    {
        bad = getvpn.Install(
            gm,
            gmCfg,
            {{"GigabitEthernet0/0", pGm.Get(1)}, {"GigabitEthernet0/1", lan.Get(1)}});
    }
    if (!bad.empty())
    {
        std::cerr << dir << ": " << bad << "\n";
        return 2;
    }
    Ptr<GdoiDaemon> ksd = getvpn.GetDaemon(ks);
    Ptr<GdoiDaemon> gmd = getvpn.GetDaemon(gm);
    gmd->TraceConnectWithoutContext("TekInstalled", MakeCallback(&Gm1TekInstalled));
    if (o.osEntropy)
    {
        // Neither KS1 nor GM1 faces the real wire, but the real member sees
        // their cookies, nonces and DH values and uses the TEKs KS1 makes
        // (issue 22); P has no engine (VpnEmuHelper gave it one: switched).
        for (Ptr<Node> n : {ks, gm})
        {
            if (n == ks && !realKs.empty())
            {
                continue;
            }
            VpnNodeEngine::GetOrCreate(n)->SetEntropySource(VpnNodeEngine::OS);
        }
    }

    const std::string& out = o.out;
    SystemPath::MakeDirectories(out);
    VpnTraceHelper trace(out);
    trace.EnableGetVpnKeyExport(getvpn.GetDaemons());
    if (ksd)
    {
        trace.EnableGdoiPcap("KS1", ksd);
        std::ofstream(out + "/KS1.cfg") << ksCfg;
    }
    trace.EnableGdoiPcap("GM1", gmd);
    std::ofstream(out + "/GM1.cfg") << gmCfg;

    UdpEchoServerHelper echo(5001);
    ApplicationContainer echoApp = echo.Install(h1);
    echoApp.Get(0)->TraceConnectWithoutContext("RxWithAddresses", MakeCallback(&CountEcho));

    o.EnablePcap(wan, out + "/wan-P.pcap");
    link.EnablePcap(out + "/lan", lan.Get(0), true);

    H1Sender sender;
    sender.count = h1Send;
    sender.socket = Socket::CreateSocket(h1, UdpSocketFactory::GetTypeId());
    sender.socket->Bind(InetSocketAddress(Ipv4Address::GetAny(), 5002));
    sender.socket->Connect(
        InetSocketAddress(Ipv4Address(Ipv4Address(realLan.c_str()).Get() + 1), 5003));
    std::signal(SIGUSR1, &OnUsr1);
    std::signal(SIGUSR2, &OnUsr2);
    for (double t : ksd ? rekeys : std::vector<double>{})
    {
        Simulator::Schedule(Seconds(t), &Rekey, ksd);
    }
    VpnRealtimeLagMeter lag;
    lag.SetOnSample(MakeBoundCallback(&OnSample, ksd, &sender));
    lag.Run(Seconds(o.duration));
    if (ksd)
    {
        std::ofstream(out + "/show-KS1.txt") << ksd->ShowCryptoGdoi() << "\n"
                                             << ksd->ShowCryptoGdoiKsMembers();
    }
    std::ofstream(out + "/show-GM1.txt") << gmd->ShowCryptoGdoiGm() << "\n"
                                         << gmd->ShowCryptoIpsecSa();
    size_t p1Lines = trace.WriteIkev1Keys(getvpn.GetDaemons());

    vpn_gdoi_ks_stats none{};
    const vpn_gdoi_ks_stats* kss =
        ksd ? vpn_gdoi_ks_get_stats(vpn_getvpn_node_ks(ksd->GetCore(), 0)) : &none;
    const vpn_gdoi_gm_stats* gms = vpn_gdoi_gm_get_stats(vpn_getvpn_node_gm(gmd->GetCore(), 0));
    const vpn_getvpn_stats* dp = vpn_getvpn_node_get_stats(gmd->GetCore());
    VpnReport report(std::string("getvpn-emulation: simulated ") + (ksd ? "KS1 and GM1" : "GM1") +
                     " behind P on real interface " + o.ifname + " (real-time scheduler)");
    o.AddToReport(report, lag);
    report.Add("key_server", realKs.empty() ? "simulated KS1" : "real at " + realKs);
    report.Add("ks_registrations", kss->registrations);
    report.Add("ks_rekeys", kss->rekeys);
    report.Add("ks_rekey_msgs_sent", kss->rekey_msgs_sent);
    report.Add("ks_acks", kss->acks);
    report.Add("gm1_registered", gmd->GetRegisteredGroups());
    report.Add("gm1_rekeys", gms->rekeys);
    report.Add("gm1_encrypted", dp->out_encrypted);
    report.Add("gm1_decrypted", dp->in_decrypted);
    report.Add("h1_udp_echoed", g_echoed);
    report.Add("h1_udp_sent", static_cast<uint64_t>(sender.sent));
    report.Add("wireshark_esp_sa_lines", trace.GetKeyLinesWritten());
    report.Add("wireshark_ikev1_lines", static_cast<uint64_t>(p1Lines));
    std::cout << report.Write(out);
    Simulator::Destroy();
    return 0;
}
