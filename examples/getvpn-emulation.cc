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
#include <chrono>
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

std::atomic<bool> g_stop{false};
std::atomic<int> g_rekeyRequests{0};
std::atomic<int> g_sendRequests{0};

void
OnSignal(int)
{
    g_stop = true;
}

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

void Rekey(Ptr<GdoiDaemon> ks);

/*
 * Real-time lag, as in flexvpn-emulation: wall clock minus simulated time
 * when an event every millisecond ran (the real-time scheduler runs events
 * at their time or late); also ends the run on SIGINT/SIGTERM and has KS1
 * rekey on SIGUSR1 (the handlers only set flags).
 */
class LagMeter
{
  public:
    void Start(Time period, Ptr<GdoiDaemon> ks, H1Sender* sender)
    {
        m_ks = ks;
        m_sender = sender;
        m_period = period;
        m_wall0 = std::chrono::steady_clock::now();
        m_sim0 = Simulator::Now();
        Simulator::Schedule(m_period, &LagMeter::Sample, this);
    }

    double MeanMs() const
    {
        return m_n ? m_sum / static_cast<double>(m_n) : 0.0;
    }

    double MaxMs() const
    {
        return m_max;
    }

    uint64_t Samples() const
    {
        return m_n;
    }

  private:
    void Sample()
    {
        double wall =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - m_wall0)
                .count();
        double lag = wall - (Simulator::Now() - m_sim0).GetSeconds() * 1000.0;
        m_sum += lag;
        m_max = std::max(m_max, lag);
        m_n++;
        if (g_stop)
        {
            Simulator::Stop();
            return;
        }
        for (int n = g_rekeyRequests.exchange(0); n > 0; n--)
        {
            Rekey(m_ks);
        }
        if (g_sendRequests.exchange(0) > 0)
        {
            m_sender->Start();
        }
        Simulator::Schedule(m_period, &LagMeter::Sample, this);
    }

    Time m_period;
    Ptr<GdoiDaemon> m_ks;
    H1Sender* m_sender{nullptr};
    std::chrono::steady_clock::time_point m_wall0;
    Time m_sim0;
    double m_sum{0};
    double m_max{0};
    uint64_t m_n{0};
};

uint64_t g_echoed = 0;

void
CountEcho(Ptr<const Packet>)
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

bool
ReadFile(const std::string& path, std::string& out)
{
    std::ifstream in(path);
    if (!in)
    {
        return false;
    }
    std::ostringstream s;
    s << in.rdbuf();
    out = s.str();
    return true;
}

} // namespace

int
main(int argc, char* argv[])
{
    std::string ifname = "vu";
    std::string peerNetns;
    std::string peerInterface;
    std::string dir = std::string(VPN_SOURCE_DIR) + "/scenarios/getvpn-emulation";
    std::string out = "out/getvpn-emulation";
    std::string wanAddress = "198.18.0.1";
    std::string realMember = "198.18.0.2";
    std::string realLan = "10.0.2.0";
    std::string mac = "02:00:00:00:22:02";
    std::string rekeyAt;
    std::string realKs;
    double duration = 60.0;
    bool osEntropy = true;
    double hardLimit = 0.0;
    uint32_t h1Send = 0;
    CommandLine cmd(__FILE__);
    cmd.AddValue("interface", "Real interface P's GigabitEthernet0/0 is attached to", ifname);
    cmd.AddValue("peerNetns",
                 "Network namespace of the interface's veth peer (its checksum offload "
                 "is switched off too); empty: this one",
                 peerNetns);
    cmd.AddValue("peerInterface", "The veth peer's name; empty: none", peerInterface);
    cmd.AddValue("scenario", "Folder holding KS1.cfg and GM1.cfg", dir);
    cmd.AddValue("out", "Output folder", out);
    cmd.AddValue("wanAddress", "P's address on the real interface (/24)", wanAddress);
    cmd.AddValue("realMember", "The real member's address on the real wire", realMember);
    cmd.AddValue("realLan", "The real member's LAN (/24), routed to it", realLan);
    cmd.AddValue("mac", "P's MAC address on the real interface", mac);
    cmd.AddValue("rekeyAt", "Comma-separated seconds at which KS1 pushes a rekey", rekeyAt);
    cmd.AddValue("realKs",
                 "A real key server's address on the real wire: GM1 registers there "
                 "and KS1 is not simulated; empty: KS1 is the key server",
                 realKs);
    cmd.AddValue("duration",
                 "Seconds of wall clock to run (SIGINT/SIGTERM end it earlier)",
                 duration);
    cmd.AddValue("osEntropy",
                 "Keys, SPIs and nonces from the OS (this example's default; VpnNodeEngine's "
                 "EntropySource attribute defaults to Seeded); 0: from RngSeed/RngRun "
                 "(never against a real member)",
                 osEntropy);
    cmd.AddValue("h1Send",
                 "On SIGUSR2 H1 sends this many datagrams (200/s) to UDP 5003 of the "
                 "real member's LAN address .1",
                 h1Send);
    cmd.AddValue("hardLimit",
                 "Abort when this many seconds behind the wall clock (0: never)",
                 hardLimit);
    cmd.Parse(argc, argv);
    if (duration <= 0 || hardLimit < 0)
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
            if (item.empty() || *end != '\0' || t <= 0 || t >= duration)
            {
                std::cerr << "--rekeyAt: '" << item << "' is not a time within the run\n";
                return 2;
            }
            rekeys.push_back(t);
        }
    }
    std::string ksCfg;
    std::string gmCfg;
    if (!ReadFile(dir + "/KS1.cfg", ksCfg) || !ReadFile(dir + "/GM1.cfg", gmCfg))
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
    VpnEmuHelper::EnableRealtime(Seconds(hardLimit));

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
    VpnEmuHelper emu;
    emu.SetMac(Mac48Address(mac.c_str()));
    emu.SetPeer(peerNetns, peerInterface);
    emu.SetOsEntropy(osEntropy);
    std::string error;
    Ptr<NetDevice> wan =
        emu.Install(p, ifname, error, Ipv4Address(wanAddress.c_str()), Ipv4Mask("255.255.255.0"));
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
    if (osEntropy)
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
    echoApp.Get(0)->TraceConnectWithoutContext("Rx", MakeCallback(&CountEcho));

    PcapHelper pcap;
    Ptr<PcapFileWrapper> wanFile =
        pcap.CreateFile(out + "/wan-P.pcap", std::ios::out, PcapHelper::DLT_EN10MB);
    pcap.HookDefaultSink<FdNetDevice>(DynamicCast<FdNetDevice>(wan), "Sniffer", wanFile);
    link.EnablePcap(out + "/lan", lan.Get(0), true);

    std::signal(SIGINT, &OnSignal);
    std::signal(SIGTERM, &OnSignal);
    LagMeter lag;
    H1Sender sender;
    sender.count = h1Send;
    sender.socket = Socket::CreateSocket(h1, UdpSocketFactory::GetTypeId());
    sender.socket->Bind(InetSocketAddress(Ipv4Address::GetAny(), 5002));
    sender.socket->Connect(
        InetSocketAddress(Ipv4Address(Ipv4Address(realLan.c_str()).Get() + 1), 5003));
    std::signal(SIGUSR1, &OnUsr1);
    std::signal(SIGUSR2, &OnUsr2);
    Simulator::ScheduleNow(&LagMeter::Start, &lag, MilliSeconds(1), ksd, &sender);
    for (double t : ksd ? rekeys : std::vector<double>{})
    {
        Simulator::Schedule(Seconds(t), &Rekey, ksd);
    }
    Simulator::Stop(Seconds(duration));
    auto wall0 = std::chrono::steady_clock::now();
    Simulator::Run();
    double ran = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
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
                     " behind P on real interface " + ifname + " (real-time scheduler)");
    report.Add("interface", ifname);
    report.Add("entropy", osEntropy ? "os" : "seeded");
    report.AddFigure("wall_seconds", ran);
    report.AddFigure("simulated_seconds", Simulator::Now().GetSeconds());
    report.AddFigure("rt_lag_mean_ms", lag.MeanMs());
    report.AddFigure("rt_lag_max_ms", lag.MaxMs());
    report.Add("rt_lag_samples", lag.Samples());
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
