/*
 * A real IKEv2 peer meets a simulated router (issue 22). R1, a FlexVPN
 * router simulated by this module (VTI, IKEv2 with a pre-shared key, from
 * scenarios/flexvpn-emulation/R1.cfg), sits on a real Linux interface
 * through VpnEmuHelper (AF_PACKET + FdNetDevice) and runs under ns-3's
 * real-time scheduler; behind it a simulated host H1 (10.0.1.1) on a
 * point-to-point LAN answers UDP echo (port 5001) and ICMP echo. A real
 * strongSwan (or vpnd, or any IKEv2 peer) on the other end of the wire
 * brings the tunnel up (or R1 does, with --initiate) and reaches H1 through it.
 * With --spokes N, R1 is also the hub of N simulated spokes S1..SN (FlexVPN,
 * static VTIs, one point-to-point WAN link each, 100.64.K.0/30), each with a
 * host HK (10.0.1K.1 for K < 10: UDP and ICMP echo) on its LAN: the real
 * peer joins a simulated hub-and-spoke network and reaches every spoke's
 * host through R1 (its traffic selector must cover 10.0.0.0/16).
 *
 * test/interop/emulation-case.sh sets up the namespaces and strongSwan
 * (as the interop harness does) and runs this program inside one of them:
 *   flexvpn-emulation --interface=vu --peerNetns=NS --peerInterface=vs --out=DIR
 *
 * Runs for --duration seconds of wall clock, or until SIGINT/SIGTERM; then
 * writes DIR/summary.{txt,json} (SAs, tunnel counters, echoes answered, and
 * the real-time lag: wall clock minus simulated time, mean and max, sampled
 * every millisecond), DIR/show-R1.txt, the pcaps of the real interface and
 * of the LAN, and the Wireshark key files in DIR/wireshark/. A broken
 * configuration or an unusable interface: a message and exit 2.
 */
#include "ns3/applications-module.h"
#include "ns3/core-module.h"
#include "ns3/fd-net-device.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"
#include "ns3/vpn-module.h"

#include <fstream>
#include <iostream>
#include <sstream>

#ifndef VPN_SOURCE_DIR
#define VPN_SOURCE_DIR "."
#endif

using namespace ns3;

namespace
{

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
CountSpokeEcho(uint64_t* n, Ptr<const Packet>, const Address&, const Address&)
{
    (*n)++;
}

/*
 * Spoke K's side of the hub-and-spoke network, and what R1 adds for it:
 * one FlexVPN profile for every spoke (matched by address, 100.64.0.0/16),
 * a static VTI per spoke, the route to its LAN. Tunnel mode, AES-GCM-128 as
 * R1's tunnel to the real peer.
 */
std::string
SpokeConfig(uint32_t k)
{
    std::string n = std::to_string(k);
    std::ostringstream c;
    c << "hostname S" << n << "\n"
      << "crypto ikev2 proposal PROP\n encryption aes-gcm-128\n prf sha256\n group 19\n"
      << "crypto ikev2 policy POL\n proposal PROP\n"
      << "crypto ikev2 keyring KR\n peer HUB\n  address 100.64." << n << ".2\n"
      << "  pre-shared-key spoke-psk-" << n << "\n"
      << "crypto ikev2 profile HUB\n match identity remote address 100.64." << n
      << ".2 255.255.255.255\n authentication remote pre-share\n authentication local pre-share\n"
      << " keyring local KR\n"
      << "crypto ipsec transform-set TS esp-gcm 128\n mode tunnel\n"
      << "crypto ipsec profile IPSP\n set transform-set TS\n set ikev2-profile HUB\n"
      << "interface GigabitEthernet0/0\n ip address 100.64." << n << ".1 255.255.255.252\n"
      << "interface GigabitEthernet0/1\n ip address 10.0.1" << n << ".2 255.255.255.0\n"
      << "interface Tunnel0\n ip address 172.16.1" << n << ".2 255.255.255.252\n"
      << " tunnel source GigabitEthernet0/0\n tunnel destination 100.64." << n << ".2\n"
      << " tunnel mode ipsec ipv4\n tunnel protection ipsec profile IPSP\n"
      << "ip route 10.0.0.0 255.255.0.0 Tunnel0\n"
      << "end\n";
    return c.str();
}

std::string
HubAdditions(uint32_t spokes)
{
    std::ostringstream c;
    c << "crypto ikev2 keyring KRS\n";
    for (uint32_t k = 1; k <= spokes; k++)
    {
        c << " peer S" << k << "\n  address 100.64." << k << ".1\n  pre-shared-key spoke-psk-" << k << "\n";
    }
    c << "crypto ikev2 profile SPOKES\n match identity remote address 100.64.0.0 255.255.0.0\n"
      << " authentication remote pre-share\n authentication local pre-share\n keyring local KRS\n"
      << "crypto ipsec profile IPSS\n set transform-set TS\n set ikev2-profile SPOKES\n";
    for (uint32_t k = 1; k <= spokes; k++)
    {
        c << "interface GigabitEthernet0/" << k + 1 << "\n ip address 100.64." << k
          << ".2 255.255.255.252\n"
          << "interface Tunnel" << k << "\n ip address 172.16.1" << k << ".1 255.255.255.252\n"
          << " tunnel source GigabitEthernet0/" << k + 1 << "\n tunnel destination 100.64." << k
          << ".1\n tunnel mode ipsec ipv4\n tunnel protection ipsec profile IPSS\n"
          << "ip route 10.0.1" << k << ".0 255.255.255.0 Tunnel" << k << "\n";
    }
    return c.str();
}

} // namespace

int
main(int argc, char* argv[])
{
    VpnEmuOptions o;
    o.out = "out/flexvpn-emulation";
    o.mac = "02:00:00:00:22:01";
    std::string config = std::string(VPN_SOURCE_DIR) + "/scenarios/flexvpn-emulation/R1.cfg";
    bool initiate = false;
    uint32_t spokes = 0;
    CommandLine cmd(__FILE__);
    o.AddValues(cmd, "R1", "peer");
    cmd.AddValue("config", "R1's IOS configuration", config);
    cmd.AddValue("initiate", "R1 brings the tunnel up itself", initiate);
    cmd.AddValue("spokes",
                 "Simulated spokes S1..SN (0-9) with R1 as their hub, host HK at 10.0.1K.1 "
                 "behind spoke K",
                 spokes);
    cmd.Parse(argc, argv);
    if (!VpnMpi::SerialOnly("flexvpn-emulation"))
    {
        return 2;
    }
    if (o.duration <= 0 || o.hardLimit < 0 || spokes > 9)
    {
        std::cerr << "--duration must be positive, --hardLimit not negative, --spokes 0-9\n";
        return 2;
    }
    std::string r1Cfg;
    if (!VpnEmuOptions::ReadFile(config, r1Cfg))
    {
        std::cerr << config << ": cannot read the configuration\n";
        return 2;
    }
    if (spokes > 0)
    {
        // R1's own text ends with "end": the hub's part goes before it.
        size_t end = r1Cfg.rfind("\nend");
        r1Cfg.insert(end == std::string::npos ? r1Cfg.size() : end + 1, HubAdditions(spokes));
    }
    VpnEmuHelper::EnableRealtime(Seconds(o.hardLimit));

    Ptr<Node> r1 = CreateObject<Node>();
    Ptr<Node> h1 = CreateObject<Node>();
    Names::Add("R1", r1);
    Names::Add("H1", h1);
    InternetStackHelper stack;
    stack.Install(NodeContainer(r1, h1));

    // The real interface first: its checks end the run before anything is written.
    std::string error;
    Ptr<NetDevice> wan = o.Install(r1, error);
    if (!wan)
    {
        std::cerr << "flexvpn-emulation: " << error << "\n";
        return 2;
    }

    // A point-to-point LAN: the CSMA model queues heavily at thousands of
    // packets per second in real time (issue 22).
    PointToPointHelper lan;
    lan.SetDeviceAttribute("DataRate", StringValue("1Gbps"));
    lan.SetChannelAttribute("Delay", StringValue("50us"));
    NetDeviceContainer lanDevs = lan.Install(h1, r1);
    Ipv4AddressHelper ip;
    ip.SetBase("10.0.1.0", "255.255.255.0");
    Ipv4InterfaceContainer lanIf = ip.Assign(lanDevs); // H1 10.0.1.1, R1 10.0.1.2

    Ipv4StaticRoutingHelper routing;
    // The simulated spokes: SK's WAN link to R1 and its LAN to host HK.
    NodeContainer spokeNodes;
    NodeContainer spokeHosts;
    spokeNodes.Create(spokes);
    spokeHosts.Create(spokes);
    stack.Install(spokeNodes);
    stack.Install(spokeHosts);
    std::vector<Ipv4Address> spokeHostAddr;
    for (uint32_t k = 1; k <= spokes; k++)
    {
        Ptr<Node> s = spokeNodes.Get(k - 1);
        Ptr<Node> h = spokeHosts.Get(k - 1);
        Names::Add("S" + std::to_string(k), s);
        Names::Add("H1" + std::to_string(k), h);
        NetDeviceContainer w = lan.Install(s, r1);
        ip.SetBase(("100.64." + std::to_string(k) + ".0").c_str(), "255.255.255.252");
        ip.Assign(w); // SK .1, R1 .2
        NetDeviceContainer l = lan.Install(h, s);
        ip.SetBase(("10.0.1" + std::to_string(k) + ".0").c_str(), "255.255.255.0");
        Ipv4InterfaceContainer li = ip.Assign(l); // HK .1, SK .2
        spokeHostAddr.push_back(li.GetAddress(0));
        routing.GetStaticRouting(h->GetObject<Ipv4>())->SetDefaultRoute(li.GetAddress(1), 1);
    }

    FlexVpnHelper flex;
    uint32_t line = 0;
    std::string bad = flex.Check(r1, r1Cfg, line);
    if (!bad.empty())
    {
        std::cerr << FlexVpnHelper::FormatError(config, line, bad) << "\n";
        return 2;
    }
    const std::string& out = o.out;
    SystemPath::MakeDirectories(out);
    VpnTraceHelper trace(out);
    trace.EnableKeyExport(NodeContainer(r1));
    Ptr<Ikev2Daemon> ike = flex.Install(r1, r1Cfg, initiate);
    ike->SetStartTime(Seconds(0.0));
    std::ofstream(out + "/R1.cfg") << r1Cfg;

    routing.GetStaticRouting(h1->GetObject<Ipv4>())->SetDefaultRoute(lanIf.GetAddress(1), 1);
    std::vector<Ptr<Ikev2Daemon>> daemons{ike};
    std::vector<uint64_t> spokeEchoed(spokes, 0);
    for (uint32_t k = 1; k <= spokes; k++)
    {
        std::string cfg = SpokeConfig(k);
        Ptr<Node> s = spokeNodes.Get(k - 1);
        bad = flex.Check(s, cfg, line);
        if (!bad.empty())
        {
            std::cerr << FlexVpnHelper::FormatError("S" + std::to_string(k), line, bad) << "\n";
            return 2;
        }
        Ptr<Ikev2Daemon> d = flex.Install(s, cfg, true);
        d->SetStartTime(MilliSeconds(100 * k));
        daemons.push_back(d);
        std::ofstream(out + "/S" + std::to_string(k) + ".cfg") << cfg;
        ApplicationContainer a = UdpEchoServerHelper(5001).Install(spokeHosts.Get(k - 1));
        a.Get(0)->TraceConnectWithoutContext("RxWithAddresses", MakeBoundCallback(&CountSpokeEcho, &spokeEchoed[k - 1]));
    }
    UdpEchoServerHelper echo(5001);
    ApplicationContainer echoApp = echo.Install(h1);
    echoApp.Get(0)->TraceConnectWithoutContext("RxWithAddresses", MakeCallback(&CountEcho));

    o.EnablePcap(wan, out + "/wan-R1.pcap");
    lan.EnablePcap(out + "/lan", lanDevs.Get(0), true);

    Time end = Seconds(o.duration);
    trace.ScheduleShowSnapshot(ike, "show-R1.txt", end - MilliSeconds(2));
    VpnRealtimeLagMeter lag;
    lag.Run(end);
    if (lag.Signalled())
    {
        // Stopped early: the snapshot scheduled for the end did not run.
        std::ofstream(out + "/show-R1.txt")
            << ike->ShowCryptoSession(true) << "\n"
            << ike->ShowCryptoIkev2Sa(true) << "\n"
            << ike->ShowCryptoIpsecSa(false);
    }

    size_t ikeKeys = trace.WriteIkeKeys(daemons);
    Ptr<VpnTunnelNetDevice> tun = FlexVpnHelper::GetTunnel(r1, "Tunnel0");
    VpnReport report("flexvpn-emulation: simulated R1 on real interface " + o.ifname +
                     " (real-time scheduler)");
    o.AddToReport(report, lag);
    report.Add("ike_sas_up", ike->GetIkeSasUp());
    report.Add("child_sas_installed", ike->GetChildSasInstalled());
    report.Add("tunnel0_encrypted", tun->GetPacketsEncrypted());
    report.Add("tunnel0_decrypted", tun->GetPacketsDecrypted());
    report.Add("tunnel0_dropped", tun->GetPacketsDropped());
    report.Add("h1_udp_echoed", g_echoed);
    report.Add("spokes", spokes);
    for (uint32_t k = 1; k <= spokes; k++)
    {
        report.Add("s" + std::to_string(k) + "_ike_sas_up", daemons[k]->GetIkeSasUp());
        report.Add("h1" + std::to_string(k) + "_udp_echoed", spokeEchoed[k - 1]);
    }
    report.Add("wireshark_esp_sa_lines", trace.GetKeyLinesWritten());
    report.Add("wireshark_ikev2_lines", ikeKeys);
    std::cout << report.Write(out);
    Simulator::Destroy();
    return 0;
}
