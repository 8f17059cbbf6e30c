#include "flexvpn-site-to-site.h"

#include "ns3/vpn-module.h"

#include "ns3/applications-module.h"
#include "ns3/core-module.h"
#include "ns3/csma-module.h"
#include "ns3/flow-monitor-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"

#include <fstream>
#include <iostream>
#include <sstream>
#include <tuple>

namespace ns3
{

namespace
{
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

void
PrintRoutes(Ptr<Node> node, std::string path)
{
    Ptr<OutputStreamWrapper> stream = Create<OutputStreamWrapper>(path, std::ios::out);
    node->GetObject<Ipv4>()->GetRoutingProtocol()->PrintRoutingTable(stream, Time::S);
}
} // namespace

FlexVpnSiteToSite::FlexVpnSiteToSite(const std::string& name, const std::string& configDir)
    : m_name(name),
      m_out("out/" + name),
      m_configDir(configDir),
      m_duration(10.0),
      m_wanDelay("20ms"),
      m_wanRate("10Mbps"),
      m_payload(160),   // G.711 20 ms frame
      m_interval(0.020) // 50 packets/s
{
}

void
FlexVpnSiteToSite::AddOptions(CommandLine& cmd)
{
    cmd.AddValue("out", "Output folder", m_out);
    cmd.AddValue("configDir", "Folder with HUB1.cfg and SPOKE1.cfg", m_configDir);
    cmd.AddValue("duration", "Seconds of traffic", m_duration);
    cmd.AddValue("wanDelay", "One-way WAN propagation delay", m_wanDelay);
    cmd.AddValue("wanRate", "WAN link rate", m_wanRate);
    cmd.AddValue("payload", "UDP payload bytes per packet", m_payload);
    cmd.AddValue("interval", "Seconds between packets", m_interval);
}

int
FlexVpnSiteToSite::Run()
{
    if (m_duration <= 0 || m_interval <= 0 || m_payload < 12 || m_payload > 1300)
    {
        std::cerr << "--duration and --interval must be positive, --payload 12..1300\n";
        return 2;
    }
    std::string hubCfg;
    std::string spokeCfg;
    if (!ReadFile(m_configDir + "/HUB1.cfg", hubCfg) || !ReadFile(m_configDir + "/SPOKE1.cfg", spokeCfg))
    {
        std::cerr << "cannot read HUB1.cfg and SPOKE1.cfg in " << m_configDir << "\n";
        return 2;
    }
    GlobalValue::Bind("ChecksumEnabled", BooleanValue(true));

    Ptr<Node> hostA = CreateObject<Node>();
    Ptr<Node> hub = CreateObject<Node>();
    Ptr<Node> spoke = CreateObject<Node>();
    Ptr<Node> hostB = CreateObject<Node>();
    Names::Add("hostA", hostA);
    Names::Add("HUB1", hub);
    Names::Add("SPOKE1", spoke);
    Names::Add("hostB", hostB);

    CsmaHelper lan;
    lan.SetChannelAttribute("DataRate", StringValue("100Mbps"));
    lan.SetChannelAttribute("Delay", StringValue("100us"));
    NetDeviceContainer lan1 = lan.Install(NodeContainer(hub, hostA));
    NetDeviceContainer lan2 = lan.Install(NodeContainer(spoke, hostB));
    PointToPointHelper wan;
    wan.SetDeviceAttribute("DataRate", StringValue(m_wanRate));
    wan.SetChannelAttribute("Delay", StringValue(m_wanDelay));
    NetDeviceContainer wanDevs = wan.Install(hub, spoke);

    InternetStackHelper stack;
    stack.Install(NodeContainer(hostA, hub, spoke, hostB));
    // Addresses as in the router configurations (GigabitEthernet0/0 and 0/1).
    Ipv4AddressHelper ip;
    ip.SetBase("10.1.0.0", "255.255.255.0");
    Ipv4InterfaceContainer lan1If = ip.Assign(lan1);
    ip.SetBase("10.2.0.0", "255.255.255.0");
    Ipv4InterfaceContainer lan2If = ip.Assign(lan2);
    ip.SetBase("198.51.100.0", "255.255.255.252");
    ip.Assign(wanDevs);

    // Configuration errors name the file and line and end the run before
    // anything is written (exit 2).
    FlexVpnHelper flex;
    for (const auto& [node, file, text] : {std::make_tuple(hub, "HUB1.cfg", &hubCfg),
                                           std::make_tuple(spoke, "SPOKE1.cfg", &spokeCfg)})
    {
        uint32_t line = 0;
        std::string bad = flex.Check(node, *text, line);
        if (!bad.empty())
        {
            std::cerr << FlexVpnHelper::FormatError(m_configDir + "/" + file, line, bad) << "\n";
            Simulator::Destroy();
            return 2;
        }
    }
    VpnTraceHelper trace(m_out);
    trace.EnableKeyExport(NodeContainer(hub, spoke));
    Ptr<Ikev2Daemon> hubIke = flex.Install(hub, hubCfg, false);
    Ptr<Ikev2Daemon> spokeIke = flex.Install(spoke, spokeCfg, true);
    hubIke->SetStartTime(Seconds(0.1));
    spokeIke->SetStartTime(Seconds(0.5));
    std::ofstream(m_out + "/HUB1.cfg") << hubCfg;
    std::ofstream(m_out + "/SPOKE1.cfg") << spokeCfg;

    Ipv4StaticRoutingHelper routing;
    routing.GetStaticRouting(hostA->GetObject<Ipv4>())->SetDefaultRoute(lan1If.GetAddress(0), 1);
    routing.GetStaticRouting(hostB->GetObject<Ipv4>())->SetDefaultRoute(lan2If.GetAddress(0), 1);

    UdpEchoServerHelper echoServer(4000);
    echoServer.Install(hostB).Start(Seconds(0.5));
    UdpEchoClientHelper echoClient(lan2If.GetAddress(1), 4000);
    echoClient.SetAttribute("MaxPackets", UintegerValue(static_cast<uint32_t>(m_duration / m_interval)));
    echoClient.SetAttribute("Interval", TimeValue(Seconds(m_interval)));
    echoClient.SetAttribute("PacketSize", UintegerValue(m_payload));
    // Traffic starts once IKE is up and, with a routing protocol, the
    // routes have crossed the tunnel.
    echoClient.Install(hostA).Start(Seconds(10.0));

    lan.EnablePcap(m_out + "/lan1", lan1.Get(1), true);
    lan.EnablePcap(m_out + "/lan2", lan2.Get(1), true);
    wan.EnablePcap(m_out + "/wan", wanDevs.Get(0), true);
    // What Wireshark cannot decrypt (ChaCha20-Poly1305 SAs), HUB1's view in clear.
    trace.EnablePlainPcap("wan-HUB1", hub);
    trace.EnableTunnelPcap("tunnel0-hub1", FlexVpnHelper::GetTunnel(hub, "Tunnel0"));
    Time end = Seconds(11.0 + m_duration);
    trace.ScheduleShowSnapshot(hubIke, "show-HUB1.txt", end - MilliSeconds(1));
    trace.ScheduleShowSnapshot(spokeIke, "show-SPOKE1.txt", end - MilliSeconds(1));
    VpnTrackedEvents events;
    events.Add(Simulator::Schedule(end - MilliSeconds(1), &PrintRoutes, hub, m_out + "/routes-HUB1.txt"));
    events.Add(Simulator::Schedule(end - MilliSeconds(1), &PrintRoutes, spoke, m_out + "/routes-SPOKE1.txt"));

    FlowMonitorHelper flowHelper;
    Ptr<FlowMonitor> monitor = flowHelper.Install(NodeContainer(hostA, hostB));
    Simulator::Stop(end);
    Simulator::Run();
    events.CancelAll();

    size_t ikeKeys = trace.WriteIkeKeys({hubIke, spokeIke});
    Ptr<VpnTunnelNetDevice> t1 = FlexVpnHelper::GetTunnel(hub, "Tunnel0");
    Ptr<VpnTunnelNetDevice> t2 = FlexVpnHelper::GetTunnel(spoke, "Tunnel0");
    VpnReport report(m_name + ": HUB1 <-> SPOKE1, GRE/IPsec with IKEv2 (PSK), WAN " + m_wanRate +
                     " / " + m_wanDelay);
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
    std::cout << report.Write(m_out);
    Simulator::Destroy();
    return 0;
}

} // namespace ns3
