/*
 * FlexVPN site to site with static routes: the first seed article.
 *
 *   hostA --LAN1 10.1.0.0/24-- HUB1 ==WAN 198.51.100.0/30== SPOKE1 --LAN2 10.2.0.0/24-- hostB
 *                               \______ Tunnel0 172.16.0.0/30 ______/
 *
 * A GRE tunnel between HUB1's WAN address and SPOKE1's Loopback0
 * (192.0.2.2), protected by IPsec (ESP transport: "permit 47") whose SAs
 * IKEv2 negotiates with pre-shared keys from a keyring (asymmetric: each
 * side has its own key). The routers are configured from IOS text
 * (scenarios/flexvpn-l2l-static/HUB1.cfg and SPOKE1.cfg by default); static
 * routes send each LAN into the tunnel. SPOKE1 initiates. A voice-like UDP
 * flow runs both ways once the tunnel is up. Writes into --out:
 *   wan-HUB1-*.pcap            IKEv2 and ESP on the WAN (PPP)
 *   lan1-*.pcap, lan2-*.pcap   the clear LAN traffic
 *   tunnel0-hub1.pcap          the tunnel's inner packets (raw IP)
 *   wireshark/esp_sa, wireshark/ikev2_decryption_table   keys for Wireshark
 *   show-HUB1.txt, show-SPOKE1.txt   `show crypto ...` at the end
 *   HUB1.cfg, SPOKE1.cfg        the configurations used
 *   summary.txt, summary.json   SAs, packets, one-way delay per flow
 */
#include "ns3/applications-module.h"
#include "ns3/core-module.h"
#include "ns3/csma-module.h"
#include "ns3/flow-monitor-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"
#include "ns3/vpn-module.h"

#include <fstream>
#include <sstream>

using namespace ns3;

NS_LOG_COMPONENT_DEFINE("FlexvpnL2lStatic");

#ifndef VPN_SOURCE_DIR
#define VPN_SOURCE_DIR "."
#endif

namespace
{
std::string
ReadFile(const std::string& path)
{
    std::ifstream in(path);
    if (!in)
    {
        std::cerr << "cannot read " << path << "\n";
        std::exit(2);
    }
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}
} // namespace

int
main(int argc, char* argv[])
{
    std::string out = "out/flexvpn-l2l-static";
    std::string configDir = std::string(VPN_SOURCE_DIR) + "/scenarios/flexvpn-l2l-static";
    double duration = 10.0;
    std::string wanDelay = "20ms";
    std::string wanRate = "10Mbps";
    uint32_t payload = 160;  // G.711 20 ms frame
    double interval = 0.020; // 50 packets/s

    CommandLine cmd(__FILE__);
    cmd.AddValue("out", "Output folder", out);
    cmd.AddValue("configDir", "Folder with HUB1.cfg and SPOKE1.cfg", configDir);
    cmd.AddValue("duration", "Seconds of traffic", duration);
    cmd.AddValue("wanDelay", "One-way WAN propagation delay", wanDelay);
    cmd.AddValue("wanRate", "WAN link rate", wanRate);
    cmd.AddValue("payload", "UDP payload bytes per packet", payload);
    cmd.AddValue("interval", "Seconds between packets", interval);
    cmd.Parse(argc, argv);
    if (duration <= 0 || interval <= 0 || payload < 12 || payload > 1300)
    {
        std::cerr << "--duration and --interval must be positive, --payload 12..1300\n";
        return 2;
    }
    std::string hubCfg = ReadFile(configDir + "/HUB1.cfg");
    std::string spokeCfg = ReadFile(configDir + "/SPOKE1.cfg");

    GlobalValue::Bind("ChecksumEnabled", BooleanValue(true));

    Ptr<Node> hostA = CreateObject<Node>();
    Ptr<Node> hub = CreateObject<Node>();
    Ptr<Node> spoke = CreateObject<Node>();
    Ptr<Node> hostB = CreateObject<Node>();
    Names::Add("hostA", hostA);
    Names::Add("HUB1", hub);
    Names::Add("SPOKE1", spoke);
    Names::Add("hostB", hostB);
    NodeContainer all(hostA, hub, spoke, hostB);

    CsmaHelper lan;
    lan.SetChannelAttribute("DataRate", StringValue("100Mbps"));
    lan.SetChannelAttribute("Delay", StringValue("100us"));
    NetDeviceContainer lan1 = lan.Install(NodeContainer(hub, hostA));
    NetDeviceContainer lan2 = lan.Install(NodeContainer(spoke, hostB));
    PointToPointHelper wan;
    wan.SetDeviceAttribute("DataRate", StringValue(wanRate));
    wan.SetChannelAttribute("Delay", StringValue(wanDelay));
    NetDeviceContainer wanDevs = wan.Install(hub, spoke);

    InternetStackHelper stack;
    stack.Install(all);
    // Addresses as in the router configurations (GigabitEthernet0/0 and 0/1).
    Ipv4AddressHelper ip;
    ip.SetBase("10.1.0.0", "255.255.255.0");
    Ipv4InterfaceContainer lan1If = ip.Assign(lan1);
    ip.SetBase("10.2.0.0", "255.255.255.0");
    Ipv4InterfaceContainer lan2If = ip.Assign(lan2);
    ip.SetBase("198.51.100.0", "255.255.255.252");
    ip.Assign(wanDevs);

    VpnTraceHelper trace(out);
    trace.EnableKeyExport(NodeContainer(hub, spoke));

    FlexVpnHelper flex;
    Ptr<Ikev2Daemon> hubIke = flex.Install(hub, hubCfg, false);
    Ptr<Ikev2Daemon> spokeIke = flex.Install(spoke, spokeCfg, true);
    hubIke->SetStartTime(Seconds(0.1));
    spokeIke->SetStartTime(Seconds(0.5));
    std::ofstream(out + "/HUB1.cfg") << hubCfg;
    std::ofstream(out + "/SPOKE1.cfg") << spokeCfg;

    Ipv4StaticRoutingHelper routing;
    routing.GetStaticRouting(hostA->GetObject<Ipv4>())->SetDefaultRoute(lan1If.GetAddress(0), 1);
    routing.GetStaticRouting(hostB->GetObject<Ipv4>())->SetDefaultRoute(lan2If.GetAddress(0), 1);

    UdpEchoServerHelper echoServer(4000);
    echoServer.Install(hostB).Start(Seconds(0.5));
    UdpEchoClientHelper echoClient(lan2If.GetAddress(1), 4000);
    echoClient.SetAttribute("MaxPackets", UintegerValue(static_cast<uint32_t>(duration / interval)));
    echoClient.SetAttribute("Interval", TimeValue(Seconds(interval)));
    echoClient.SetAttribute("PacketSize", UintegerValue(payload));
    ApplicationContainer client = echoClient.Install(hostA);
    client.Start(Seconds(2.0));

    lan.EnablePcap(out + "/lan1", lan1.Get(1), true);
    lan.EnablePcap(out + "/lan2", lan2.Get(1), true);
    wan.EnablePcap(out + "/wan", wanDevs.Get(0), true);
    trace.EnableTunnelPcap("tunnel0-hub1", FlexVpnHelper::GetTunnel(hub, "Tunnel0"));
    Time end = Seconds(3.0 + duration);
    trace.ScheduleShowSnapshot(hubIke, "show-HUB1.txt", end - MilliSeconds(1));
    trace.ScheduleShowSnapshot(spokeIke, "show-SPOKE1.txt", end - MilliSeconds(1));

    FlowMonitorHelper flowHelper;
    Ptr<FlowMonitor> monitor = flowHelper.Install(NodeContainer(hostA, hostB));

    Simulator::Stop(end);
    Simulator::Run();

    size_t ikeKeys = trace.WriteIkeKeys({hubIke, spokeIke});
    Ptr<VpnTunnelNetDevice> t1 = FlexVpnHelper::GetTunnel(hub, "Tunnel0");
    Ptr<VpnTunnelNetDevice> t2 = FlexVpnHelper::GetTunnel(spoke, "Tunnel0");
    VpnReport report("flexvpn-l2l-static: HUB1 <-> SPOKE1, GRE/IPsec with IKEv2 (PSK), WAN " +
                     wanRate + " / " + wanDelay);
    report.Add("ike_sas_up_hub1", hubIke->GetIkeSasUp());
    report.Add("ike_sas_up_spoke1", spokeIke->GetIkeSasUp());
    report.Add("child_sas_hub1", hubIke->GetChildSasInstalled());
    report.Add("child_sas_spoke1", spokeIke->GetChildSasInstalled());
    report.Add("hub1_tunnel0_encrypted", t1->GetPacketsEncrypted());
    report.Add("hub1_tunnel0_decrypted", t1->GetPacketsDecrypted());
    report.Add("hub1_tunnel0_dropped", t1->GetPacketsDropped());
    report.Add("spoke1_tunnel0_encrypted", t2->GetPacketsEncrypted());
    report.Add("spoke1_tunnel0_decrypted", t2->GetPacketsDecrypted());
    report.Add("spoke1_tunnel0_dropped", t2->GetPacketsDropped());
    report.Add("wireshark_esp_sa_lines", trace.GetKeyLinesWritten());
    report.Add("wireshark_ikev2_lines", ikeKeys);
    report.AddFlows(flowHelper, monitor);
    std::cout << report.Write(out);

    Simulator::Destroy();
    return 0;
}
