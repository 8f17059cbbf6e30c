/*
 * FlexVPN hub and spokes: one hub and N spokes (--spokes=N) behind a
 * provider router (PE), each spoke with a GRE/IPsec tunnel to the hub (IKEv2,
 * a pre-shared key per spoke from the hub's keyring). Spoke-to-spoke
 * traffic goes through the hub: decrypted from one tunnel, routed, and
 * encrypted into the other.
 *
 *   hostH --10.0.0.0/24-- HUB ==198.51.100.0/30== PE ==100.64.i.0/30== SPOKEi --10.i.0.0/24-- hostI
 *   Tunnel i on the hub <-> Tunnel0 on SPOKEi, 172.16.i.0/30
 *
 * Traffic: every spoke host echoes a voice-like flow off the next spoke's
 * host (ring) and off the hub's host. FlexVpnHelper::InstallHubAndSpokes
 * configures the routers; the IOS configurations it generated are written
 * to the output folder with the traces, key files, show snapshots and
 * summary.
 */
#include "ns3/applications-module.h"
#include "ns3/core-module.h"
#include "ns3/csma-module.h"
#include "ns3/flow-monitor-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"
#include "ns3/vpn-module.h"

#include <algorithm>
#include <fstream>
#include <sstream>

using namespace ns3;

NS_LOG_COMPONENT_DEFINE("FlexvpnHubSpoke");

int
main(int argc, char* argv[])
{
    std::string out = "out/flexvpn-hub-spoke";
    uint32_t spokes = 3;
    double duration = 10.0;
    std::string providerDelay = "10ms";
    double interval = 0.020;
    std::string hubMode = "tunnels";

    CommandLine cmd(__FILE__);
    cmd.AddValue("out", "Output folder", out);
    cmd.AddValue("spokes", "Number of spokes (tunnels: 1-200; vt, mgre: any the machine holds, up to 65000)",
                 spokes);
    cmd.AddValue("hub",
                 "tunnels: a tunnel interface per spoke on the hub; vt: FlexVPN Virtual-Template1 (a "
                 "Virtual-Access per spoke, one device, spoke-to-spoke shortcuts); mgre: DMVPN phase 3",
                 hubMode);
    cmd.AddValue("duration", "Seconds of traffic", duration);
    cmd.AddValue("providerDelay", "One-way delay of the provider segment", providerDelay);
    cmd.AddValue("interval", "Seconds between packets of each flow", interval);
    cmd.Parse(argc, argv);
    if (!VpnMpi::SerialOnly("flexvpn-hub-spoke"))
    {
        return 2;
    }
    bool perSpoke = hubMode == "tunnels";
    if (hubMode != "tunnels" && hubMode != "vt" && hubMode != "mgre")
    {
        std::cerr << "--hub must be tunnels, vt or mgre\n";
        return 2;
    }
    if (spokes < 1 || spokes > (perSpoke ? 200u : 65000u) || duration <= 0 || interval <= 0)
    {
        std::cerr << "--spokes must be 1..200 (--hub=tunnels) or 1..65000 (vt, mgre), --duration and "
                     "--interval positive\n";
        return 2;
    }
    GlobalValue::Bind("ChecksumEnabled", BooleanValue(true));

    Ptr<Node> hub = CreateObject<Node>();
    Ptr<Node> hubHost = CreateObject<Node>();
    NodeContainer spokeRouters;
    spokeRouters.Create(spokes);
    NodeContainer spokeHosts;
    spokeHosts.Create(spokes);
    Names::Add("HUB", hub);

    // The provider: one PE router, a point-to-point access link per site,
    // each with half the provider delay.
    Ptr<Node> pe = CreateObject<Node>();
    Names::Add("PE", pe);
    PointToPointHelper access;
    access.SetDeviceAttribute("DataRate", StringValue("100Mbps"));
    access.SetChannelAttribute("Delay", TimeValue(Time(providerDelay) / 2));
    NetDeviceContainer hubAccess = access.Install(hub, pe);
    std::vector<NetDeviceContainer> spokeAccess;
    for (uint32_t i = 0; i < spokes; i++)
    {
        spokeAccess.push_back(access.Install(spokeRouters.Get(i), pe));
    }
    CsmaHelper lanHelper;
    lanHelper.SetChannelAttribute("DataRate", StringValue("100Mbps"));
    lanHelper.SetChannelAttribute("Delay", StringValue("100us"));
    NetDeviceContainer hubLan = lanHelper.Install(NodeContainer(hub, hubHost));
    std::vector<NetDeviceContainer> spokeLans;
    for (uint32_t i = 0; i < spokes; i++)
    {
        spokeLans.push_back(lanHelper.Install(NodeContainer(spokeRouters.Get(i), spokeHosts.Get(i))));
    }

    InternetStackHelper stack;
    stack.Install(NodeContainer(hub, hubHost, pe));
    stack.Install(spokeRouters);
    stack.Install(spokeHosts);
    Ipv4AddressHelper ip;
    ip.SetBase("198.51.100.0", "255.255.255.252");
    Ipv4InterfaceContainer hubAccessIf = ip.Assign(hubAccess);
    std::vector<Ipv4InterfaceContainer> spokeAccessIf;
    for (uint32_t i = 0; i < spokes; i++)
    {
        // 100.64.(i+1).0/30 for the first 255 spokes, then /30s from 100.65.0.0
        Ipv4Address base(i < 255 ? 0x64400000u + ((i + 1) << 8) : 0x64410000u + 4 * (i - 255));
        ip.SetBase(base, "255.255.255.252");
        spokeAccessIf.push_back(ip.Assign(spokeAccess[i]));
    }
    ip.SetBase("10.0.0.0", "255.255.255.0");
    Ipv4InterfaceContainer hubLanIf = ip.Assign(hubLan);
    std::vector<Ipv4InterfaceContainer> spokeLanIf;
    for (uint32_t i = 0; i < spokes; i++)
    {
        // 10.(i+1).0.0/24 for the first 255 spokes, then 10.a.b.0/24 with b > 0
        uint32_t j = i - 255;
        Ipv4Address base(i < 255 ? 0x0a000000u + ((i + 1) << 16)
                                 : 0x0a000000u + ((1 + j / 255) << 16) + ((1 + j % 255) << 8));
        ip.SetBase(base, "255.255.255.0");
        spokeLanIf.push_back(ip.Assign(spokeLans[i]));
    }

    VpnTraceHelper trace(out);
    NodeContainer routers(hub);
    routers.Add(spokeRouters);
    trace.EnableKeyExport(routers);
    FlexVpnHelper flex;
    FlexVpnHubSpokeOptions options; // AES-GCM-256 IKE and ESP, GRE/IPsec, ESP transport mode
    options.pskPrefix = "spoke-secret-";
    // Each router: its access link to the PE (the tunnel source) and the PE
    // as its default gateway.
    std::vector<FlexVpnSite> sites;
    for (uint32_t i = 0; i < spokes; i++)
    {
        sites.push_back({spokeAccess[i].Get(0), spokeAccessIf[i].GetAddress(1)});
    }
    // The same policy objects for the one-block hubs: AES-GCM-256, one wildcard key.
    DmvpnOptions one;
    one.ikeProposal = "encryption aes-gcm-256\nprf sha256\ngroup 19";
    one.transformSet = "esp-gcm 256";
    one.psk = options.pskPrefix + "all";
    FlexVpnSite hubSite{hubAccess.Get(0), hubAccessIf.GetAddress(1)};
    FlexVpnHubAndSpokes net = perSpoke            ? flex.InstallHubAndSpokes(hubSite, sites, options)
                              : hubMode == "vt" ? flex.InstallHubVirtualTemplate(hubSite, sites, one)
                                                : flex.InstallDmvpn(hubSite, sites, one);
    std::ofstream(out + "/HUB.cfg") << net.hubConfig;
    net.hub->SetStartTime(Seconds(0.1));
    for (uint32_t i = 0; i < spokes; i++)
    {
        std::ofstream(out + "/SPOKE" + std::to_string(i + 1) + ".cfg") << net.spokeConfigs[i];
        // Spokes come up one after the other, as branches do.
        // (many spokes: spread over at most 1.4 s, 40 at a time is the hub's half-open limit)
        net.spokes[i]->SetStartTime(Seconds(0.5 + std::min(0.01, 1.4 / spokes) * i));
    }
    std::vector<Ptr<Ikev2Daemon>> daemons = net.All();

    Ipv4StaticRoutingHelper routing;
    routing.GetStaticRouting(hubHost->GetObject<Ipv4>())->SetDefaultRoute(hubLanIf.GetAddress(0), 1);
    for (uint32_t i = 0; i < spokes; i++)
    {
        routing.GetStaticRouting(spokeHosts.Get(i)->GetObject<Ipv4>())
            ->SetDefaultRoute(spokeLanIf[i].GetAddress(0), 1);
    }

    uint32_t packets = static_cast<uint32_t>(duration / interval);
    UdpEchoServerHelper server(4000);
    server.Install(hubHost).Start(Seconds(0.5));
    server.Install(spokeHosts).Start(Seconds(0.5));
    for (uint32_t i = 0; i < spokes; i++)
    {
        std::vector<Ipv4Address> targets{hubLanIf.GetAddress(1)};
        if (spokes > 1)
        {
            targets.push_back(spokeLanIf[(i + 1) % spokes].GetAddress(1));
        }
        for (Ipv4Address dst : targets)
        {
            UdpEchoClientHelper client(dst, 4000);
            client.SetAttribute("MaxPackets", UintegerValue(packets));
            client.SetAttribute("Interval", TimeValue(Seconds(interval)));
            client.SetAttribute("PacketSize", UintegerValue(160));
            client.Install(spokeHosts.Get(i)).Start(Seconds(2.0 + 0.001 * i));
        }
    }

    access.EnablePcap(out + "/wan", hubAccess.Get(0), true);
    lanHelper.EnablePcap(out + "/hub-lan", hubLan.Get(1), true);
    Time end = Seconds(3.0 + duration);
    trace.ScheduleShowSnapshot(daemons[0], "show-HUB.txt", end - MilliSeconds(1));
    trace.ScheduleShowSnapshot(daemons[1], "show-SPOKE1.txt", end - MilliSeconds(1));

    FlowMonitorHelper flowHelper;
    NodeContainer hosts(hubHost);
    hosts.Add(spokeHosts);
    Ptr<FlowMonitor> monitor = flowHelper.Install(hosts);
    Simulator::Stop(end);
    Simulator::Run();

    size_t ikeKeys = trace.WriteIkeKeys(daemons);
    VpnReport report("flexvpn-hub-spoke: HUB and " + std::to_string(spokes) + " spokes, GRE/IPsec with IKEv2 (" +
                     (perSpoke ? "PSK per spoke, a tunnel per spoke" : hubMode == "vt" ? "Virtual-Template1 hub"
                                                                                       : "DMVPN phase 3 hub") +
                     "), provider delay " + providerDelay);
    uint64_t ikeUp = 0;
    uint64_t children = 0;
    for (const auto& d : daemons)
    {
        ikeUp += d->GetIkeSasUp();
        children += d->GetChildSasInstalled();
    }
    report.Add("ike_sas_up_all_routers", ikeUp);
    report.Add("child_sas_all_routers", children);
    uint64_t enc = 0;
    uint64_t dec = 0;
    uint64_t drop = 0;
    std::vector<std::string> hubTunnels;
    for (uint32_t i = 1; i <= (perSpoke ? spokes : 1); i++)
    {
        hubTunnels.push_back(perSpoke ? "Tunnel" + std::to_string(i) : hubMode == "vt" ? "Virtual-Template1" : "Tunnel0");
    }
    for (const auto& name : hubTunnels)
    {
        Ptr<VpnTunnelNetDevice> t = FlexVpnHelper::GetTunnel(hub, name);
        enc += t->GetPacketsEncrypted();
        dec += t->GetPacketsDecrypted();
        drop += t->GetPacketsDropped();
    }
    report.Add("hub_encrypted", enc);
    report.Add("hub_decrypted", dec);
    report.Add("hub_dropped", drop);
    report.Add("hub_tunnel_devices", hubTunnels.size());
    report.Add("hub_virtual_access", net.hub->GetVirtualAccessCount());
    report.Add("wireshark_esp_sa_lines", trace.GetKeyLinesWritten());
    report.Add("wireshark_ikev2_lines", ikeKeys);
    report.AddFlows(flowHelper, monitor);
    std::cout << report.Write(out);
    Simulator::Destroy();
    return 0;
}
