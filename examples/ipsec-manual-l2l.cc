/*
 * Two sites joined by an IPsec-protected tunnel with manually keyed SAs
 * (RFC 4301 4.5), the topology of the first seed article without IKE:
 *
 *   hostA --LAN1-- GW1 ==WAN== GW2 --LAN2-- hostB
 *                   \__Tunnel0 (172.16.0.0/30)__/
 *
 * GRE/IPsec (ESP transport over GRE, IOS's default) or VTI (--mode=vti).
 * Static routes send each LAN into the tunnel; a voice-like UDP flow runs
 * both ways (hostA echoes off hostB). Writes into --out:
 *   lan1-*.pcap, lan2-*.pcap   clear traffic on the LANs (Ethernet)
 *   wan-*.pcap                 what crosses the WAN: only ESP (PPP)
 *   tunnel0-gw1.pcap           the tunnel's inner packets (raw IP)
 *   wireshark/esp_sa           keys for every SA (Wireshark decrypts the WAN)
 *   summary.txt, summary.json  SAs, packets encrypted/decrypted, one-way delays
 */
#include "ns3/applications-module.h"
#include "ns3/core-module.h"
#include "ns3/csma-module.h"
#include "ns3/flow-monitor-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"
#include "ns3/vpn-module.h"
#include "ns3/vpn-ns3-compat.h"


extern "C" {
#include "ipsec/sa.h"
}

using namespace ns3;

NS_LOG_COMPONENT_DEFINE("IpsecManualL2l");

namespace
{

Ptr<VpnTunnelNetDevice>
AddTunnel(Ptr<Node> node,
          const std::string& mode,
          Ipv4Address src,
          Ipv4Address dst,
          Ipv4Address addr)
{
    Ptr<VpnTunnelNetDevice> tun = CreateObject<VpnTunnelNetDevice>();
    tun->SetAttribute("Mode", StringValue(mode == "vti" ? "Vti" : "GreIpsec"));
    tun->SetAttribute("TunnelSource", Ipv4AddressValue(src));
    tun->SetAttribute("TunnelDestination", Ipv4AddressValue(dst));
    // IOS's usual `ip mtu 1400` for GRE/IPsec leaves room for the overheads.
    tun->SetAttribute("Mtu", UintegerValue(1400));
    node->AddDevice(tun);
    Ptr<Ipv4> ipv4 = node->GetObject<Ipv4>();
    int32_t ifc = ipv4->AddInterface(tun);
    ipv4->AddAddress(ifc, Ipv4InterfaceAddress(addr, Ipv4Mask("255.255.255.252")));
    ipv4->SetUp(ifc);
    return tun;
}

struct SaCounts
{
    uint64_t errors{0};
    uint64_t sas{0};
};

SaCounts
CountSas(Ptr<Node> node)
{
    SaCounts c;
    Ptr<VpnIpsecStack> stack = VpnIpsecStack::GetOrCreate(node);
    c.errors = stack->GetSaErrors();
    c.sas = stack->GetSaCount();
    return c;
}

} // namespace

int
main(int argc, char* argv[])
{
    std::string out = "out/ipsec-manual-l2l";
    std::string mode = "gre";
    std::string transform = "esp-gcm 128";
    double duration = 10.0;
    std::string wanDelay = "20ms";
    std::string wanRate = "10Mbps";
    uint32_t payload = 160;   // G.711 20 ms frame
    double interval = 0.020;  // 50 packets/s

    CommandLine cmd(__FILE__);
    cmd.AddValue("out", "Output folder", out);
    cmd.AddValue("mode", "Tunnel mode: gre (GRE/IPsec) or vti", mode);
    // A callback keeps the whole value: plain string options stop at a space.
    cmd.AddValue("transform",
                 "ESP transform set in IOS words (e.g. \"esp-aes 256 esp-sha256-hmac\")",
                 MakeCallback(+[](std::string* dst, vpncompat::CommandLineArg v) {
                     *dst = v;
                     return true;
                 }).Bind(&transform));
    cmd.AddValue("duration", "Seconds of traffic", duration);
    cmd.AddValue("wanDelay", "One-way WAN propagation delay", wanDelay);
    cmd.AddValue("wanRate", "WAN link rate", wanRate);
    cmd.AddValue("payload", "UDP payload bytes per packet", payload);
    cmd.AddValue("interval", "Seconds between packets", interval);
    cmd.Parse(argc, argv);
    if (!VpnMpi::SerialOnly("ipsec-manual-l2l"))
    {
        return 2;
    }
    if (mode != "gre" && mode != "vti")
    {
        std::cerr << "--mode must be gre or vti, not '" << mode << "'\n";
        return 2;
    }
    if (duration <= 0 || interval <= 0 || payload < 12 || payload > 1300)
    {
        std::cerr << "--duration and --interval must be positive, --payload 12..1300\n";
        return 2;
    }

    // Real checksums, so the traces read as they would on a wire.
    GlobalValue::Bind("ChecksumEnabled", BooleanValue(true));

    NodeContainer hosts;
    hosts.Create(2);
    NodeContainer gws;
    gws.Create(2);
    Ptr<Node> hostA = hosts.Get(0);
    Ptr<Node> hostB = hosts.Get(1);
    Ptr<Node> gw1 = gws.Get(0);
    Ptr<Node> gw2 = gws.Get(1);
    Names::Add("hostA", hostA);
    Names::Add("hostB", hostB);
    Names::Add("GW1", gw1);
    Names::Add("GW2", gw2);

    CsmaHelper lan;
    lan.SetChannelAttribute("DataRate", StringValue("100Mbps"));
    lan.SetChannelAttribute("Delay", StringValue("100us"));
    NetDeviceContainer lan1 = lan.Install(NodeContainer(gw1, hostA));
    NetDeviceContainer lan2 = lan.Install(NodeContainer(gw2, hostB));

    PointToPointHelper wan;
    wan.SetDeviceAttribute("DataRate", StringValue(wanRate));
    wan.SetChannelAttribute("Delay", StringValue(wanDelay));
    NetDeviceContainer wanDevs = wan.Install(gw1, gw2);

    InternetStackHelper stack;
    stack.Install(hosts);
    stack.Install(gws);

    Ipv4AddressHelper ip;
    ip.SetBase("10.1.0.0", "255.255.255.0");
    Ipv4InterfaceContainer lan1If = ip.Assign(lan1);
    ip.SetBase("10.2.0.0", "255.255.255.0");
    Ipv4InterfaceContainer lan2If = ip.Assign(lan2);
    ip.SetBase("198.51.100.0", "255.255.255.252");
    Ipv4InterfaceContainer wanIf = ip.Assign(wanDevs);

    Ptr<VpnTunnelNetDevice> tun1 =
        AddTunnel(gw1, mode, wanIf.GetAddress(0), wanIf.GetAddress(1), Ipv4Address("172.16.0.1"));
    Ptr<VpnTunnelNetDevice> tun2 =
        AddTunnel(gw2, mode, wanIf.GetAddress(1), wanIf.GetAddress(0), Ipv4Address("172.16.0.2"));

    // ip route 10.2.0.0 255.255.255.0 Tunnel0 (and the mirror on GW2); the
    // hosts point at their gateway.
    Ipv4StaticRoutingHelper routing;
    routing.GetStaticRouting(gw1->GetObject<Ipv4>())
        ->AddNetworkRouteTo("10.2.0.0", "255.255.255.0", gw1->GetObject<Ipv4>()->GetInterfaceForDevice(tun1));
    routing.GetStaticRouting(gw2->GetObject<Ipv4>())
        ->AddNetworkRouteTo("10.1.0.0", "255.255.255.0", gw2->GetObject<Ipv4>()->GetInterfaceForDevice(tun2));
    routing.GetStaticRouting(hostA->GetObject<Ipv4>())->SetDefaultRoute(lan1If.GetAddress(0), 1);
    routing.GetStaticRouting(hostB->GetObject<Ipv4>())->SetDefaultRoute(lan2If.GetAddress(0), 1);

    VpnTraceHelper trace(out);
    trace.EnableKeyExport(gws);

    VpnManualKeyHelper keys;
    keys.SetTransform(transform);
    keys.Install(tun1, tun2);

    // Voice-like flow: hostA sends, hostB echoes.
    UdpEchoServerHelper echoServer(4000);
    ApplicationContainer server = echoServer.Install(hostB);
    server.Start(Seconds(0.5));
    server.Stop(Seconds(2.5 + duration));
    UdpEchoClientHelper echoClient(lan2If.GetAddress(1), 4000);
    echoClient.SetAttribute("MaxPackets", UintegerValue(static_cast<uint32_t>(duration / interval)));
    echoClient.SetAttribute("Interval", TimeValue(Seconds(interval)));
    echoClient.SetAttribute("PacketSize", UintegerValue(payload));
    ApplicationContainer client = echoClient.Install(hostA);
    client.Start(Seconds(1.0));
    // MaxPackets ends the flow; the client stays open for the last replies.
    client.Stop(Seconds(2.0 + duration));

    lan.EnablePcap(out + "/lan1", lan1.Get(1), true);
    lan.EnablePcap(out + "/lan2", lan2.Get(1), true);
    wan.EnablePcap(out + "/wan", wanDevs.Get(0), true);
    trace.EnableTunnelPcap("tunnel0-gw1", tun1);

    FlowMonitorHelper flowHelper;
    Ptr<FlowMonitor> monitor = flowHelper.Install(hosts);

    Simulator::Stop(Seconds(3.0 + duration));
    Simulator::Run();

    SaCounts c1 = CountSas(gw1);
    SaCounts c2 = CountSas(gw2);
    VpnReport report(std::string("ipsec-manual-l2l: ") +
                     (mode == "vti" ? "VTI (ESP tunnel mode)" : "GRE/IPsec (ESP transport over GRE)") +
                     ", transform \"" + transform + "\", manually keyed, WAN " + wanRate + " / " +
                     wanDelay);
    report.Add("sas_gw1", c1.sas);
    report.Add("sas_gw2", c2.sas);
    report.Add("gw1_tunnel0_encrypted", tun1->GetPacketsEncrypted());
    report.Add("gw1_tunnel0_decrypted", tun1->GetPacketsDecrypted());
    report.Add("gw1_tunnel0_dropped", tun1->GetPacketsDropped());
    report.Add("gw1_esp_errors", c1.errors);
    report.Add("gw2_tunnel0_encrypted", tun2->GetPacketsEncrypted());
    report.Add("gw2_tunnel0_decrypted", tun2->GetPacketsDecrypted());
    report.Add("gw2_tunnel0_dropped", tun2->GetPacketsDropped());
    report.Add("gw2_esp_errors", c2.errors);
    report.Add("wireshark_esp_sa_lines", trace.GetKeyLinesWritten());
    report.AddFlows(flowHelper, monitor);
    std::cout << report.Write(out);

    Simulator::Destroy();
    return 0;
}
