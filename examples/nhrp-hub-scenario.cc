// The hub-and-spokes NHRP scenario of dmvpn-phase3 and flexvpn-hub-vt (see the header).
#include "nhrp-hub-scenario.h"

#include "ns3/core-module.h"
#include "ns3/csma-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"
#include "ns3/vpn-module.h"

#include <fstream>
#include <iomanip>
#include <sstream>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("NhrpHubScenario");

namespace
{

// One direction of a voice flow: numbered packets carrying their send time.
struct Voice
{
    uint32_t from, to; // spoke numbers, 1-based
    Ptr<Socket> tx, rx;
    Ipv4Address dst;
    uint16_t port;
    uint32_t sent{0}, received{0};
    Time shortcutAt{Seconds(-1)}; // when the sending spoke installed its NHRP route
    Time firstSent{Seconds(-1)};
    double delayBefore{0}, delayAfter{0};
    uint32_t nBefore{0}, nAfter{0};
    std::vector<bool> seen;
    VpnTrackedEvents events; // the next SendOne, cancelled after the run
};

void
SendOne(Voice* v, uint32_t left, Time interval)
{
    uint8_t buf[160] = {0};
    uint64_t now = static_cast<uint64_t>(Simulator::Now().GetNanoSeconds());
    for (int i = 0; i < 4; i++)
    {
        buf[i] = static_cast<uint8_t>(v->sent >> (24 - 8 * i));
    }
    for (int i = 0; i < 8; i++)
    {
        buf[4 + i] = static_cast<uint8_t>(now >> (56 - 8 * i));
    }
    if (v->firstSent < Seconds(0))
    {
        v->firstSent = Simulator::Now();
    }
    v->tx->SendTo(Create<Packet>(buf, sizeof buf), 0, InetSocketAddress(v->dst, v->port));
    v->sent++;
    if (left > 1)
    {
        v->events.Add(Simulator::Schedule(interval, &SendOne, v, left - 1, interval));
    }
}

void
Receive(Voice* v, Ptr<Socket> s)
{
    Ptr<Packet> p;
    while ((p = s->Recv()))
    {
        uint8_t buf[160];
        if (p->CopyData(buf, sizeof buf) < 12)
        {
            continue;
        }
        uint32_t seq = 0;
        uint64_t sent = 0;
        for (int i = 0; i < 4; i++)
        {
            seq = seq << 8 | buf[i];
        }
        for (int i = 0; i < 8; i++)
        {
            sent = sent << 8 | buf[4 + i];
        }
        if (seq >= v->seen.size() || v->seen[seq])
        {
            continue;
        }
        v->seen[seq] = true;
        v->received++;
        double d = (Simulator::Now() - NanoSeconds(static_cast<int64_t>(sent))).GetSeconds() * 1000;
        bool after = v->shortcutAt >= Seconds(0) && NanoSeconds(static_cast<int64_t>(sent)) > v->shortcutAt;
        (after ? v->delayAfter : v->delayBefore) += d;
        (after ? v->nAfter : v->nBefore)++;
    }
}

// Notes when each spoke first holds an NHRP route (the shortcut).
void
WatchShortcuts(std::vector<Voice*> flows, NodeContainer spokes, VpnTrackedEvents* events)
{
    bool pending = false;
    for (Voice* v : flows)
    {
        if (v->shortcutAt < Seconds(0))
        {
            if (VpnIpsecStack::GetOrCreate(spokes.Get(v->from - 1))->GetNhrpRouteCount() > 0)
            {
                v->shortcutAt = Simulator::Now();
            }
            else
            {
                pending = true;
            }
        }
    }
    if (pending)
    {
        events->Add(Simulator::Schedule(MilliSeconds(1), &WatchShortcuts, flows, spokes, events));
    }
}

void
WriteFile(const std::string& path, const std::string& text)
{
    std::ofstream f(path);
    f << text;
}

} // namespace

int
RunNhrpHubScenario(int argc, char* argv[], const char* file, const std::string& name, bool virtualTemplate)
{
    std::string out = "out/" + name;
    uint32_t spokes = 4;
    double duration = 10.0;
    std::string providerDelay = "10ms";
    uint32_t holdtime = 600;
    bool rip = false;
    bool ripSummary = true;
    bool pcap = true;

    CommandLine cmd(file);
    cmd.AddValue("out", "Output folder", out);
    cmd.AddValue("spokes", "Number of spokes (2 or more; pairs 1-2, 3-4, ... talk)", spokes);
    cmd.AddValue("duration", "Seconds of voice per flow", duration);
    cmd.AddValue("providerDelay", "One-way delay of each access link to the provider", providerDelay);
    cmd.AddValue("holdtime", "ip nhrp holdtime (s)", holdtime);
    cmd.AddValue("rip", "Route by RIP over the tunnels (the hub summarises) instead of static routes", rip);
    cmd.AddValue("ripSummary",
                 "With --rip: the hub summarises (phase 3); false: no ip split-horizon on the hub, "
                 "spokes learn every spoke's LAN",
                 ripSummary);
    cmd.AddValue("pcap", "Write the hub's and spoke 1's WAN captures", pcap);
    cmd.Parse(argc, argv);
    if (!VpnMpi::SerialOnly(name))
    {
        return 2;
    }
    if (spokes < 2)
    {
        std::cerr << "--spokes must be 2 or more" << std::endl;
        return 2;
    }

    Ptr<Node> hub = CreateObject<Node>();
    Ptr<Node> pe = CreateObject<Node>();
    NodeContainer spokeRouters;
    spokeRouters.Create(spokes);
    NodeContainer hosts;
    hosts.Create(spokes);
    PointToPointHelper access;
    access.SetDeviceAttribute("DataRate", StringValue("100Mbps"));
    access.SetChannelAttribute("Delay", StringValue(providerDelay));
    CsmaHelper lan;
    lan.SetChannelAttribute("DataRate", StringValue("1Gbps"));
    InternetStackHelper stack;
    stack.Install(NodeContainer(hub, pe));
    stack.Install(spokeRouters);
    stack.Install(hosts);

    Ipv4AddressHelper ip;
    NetDeviceContainer hubAccess = access.Install(hub, pe);
    ip.SetBase("198.51.100.0", "255.255.255.252");
    Ipv4InterfaceContainer hubAccessIf = ip.Assign(hubAccess);
    ip.SetBase("100.64.0.0", "255.255.255.252");
    std::vector<FlexVpnSite> sites;
    std::vector<NetDeviceContainer> spokeAccess;
    for (uint32_t i = 0; i < spokes; i++)
    {
        spokeAccess.push_back(access.Install(spokeRouters.Get(i), pe));
        Ipv4InterfaceContainer a = ip.Assign(spokeAccess.back());
        ip.NewNetwork();
        sites.push_back({spokeAccess.back().Get(0), a.GetAddress(1)});
    }
    std::vector<Ipv4Address> hostAddr;
    Ipv4StaticRoutingHelper routing;
    for (uint32_t i = 0; i < spokes; i++)
    {
        NetDeviceContainer d = lan.Install(NodeContainer(spokeRouters.Get(i), hosts.Get(i)));
        Ipv4AddressHelper lip;
        std::ostringstream net;
        net << "10." << (i + 1) / 256 + 1 << "." << (i + 1) % 256 << ".0";
        lip.SetBase(net.str().c_str(), "255.255.255.0");
        Ipv4InterfaceContainer a = lip.Assign(d);
        routing.GetStaticRouting(hosts.Get(i)->GetObject<Ipv4>())->SetDefaultRoute(a.GetAddress(0), 1);
        hostAddr.push_back(a.GetAddress(1));
    }

    VpnTraceHelper trace(out);
    NodeContainer routers(hub);
    routers.Add(spokeRouters);
    trace.EnableKeyExport(routers);
    FlexVpnHelper flex;
    DmvpnOptions options;
    options.holdtime = holdtime;
    options.rip = rip;
    options.ripSummarise = ripSummary;
    FlexVpnSite hubSite{hubAccess.Get(0), hubAccessIf.GetAddress(1)};
    FlexVpnHubAndSpokes net = virtualTemplate ? flex.InstallHubVirtualTemplate(hubSite, sites, options)
                                              : flex.InstallDmvpn(hubSite, sites, options);
    WriteFile(out + "/config-HUB.txt", net.hubConfig);
    for (uint32_t i = 0; i < spokes; i++)
    {
        WriteFile(out + "/config-SPOKE" + std::to_string(i + 1) + ".txt", net.spokeConfigs[i]);
        // routers boot over a while, not all at once (the hub's half-open IKE limit)
        net.spokes[i]->SetStartTime(MilliSeconds(100 + 4 * i));
    }

    // voice both ways within each pair, from t = 3 s (every spoke registered;
    // with RIP, 12 s: the spokes have heard the hub's summary)
    Time start = Seconds(rip ? 12.0 : 3.0);
    std::vector<Voice*> flows;
    Time interval = MilliSeconds(20);
    uint32_t packets = static_cast<uint32_t>(duration / 0.020);
    for (uint32_t a = 1; a + 1 <= spokes; a += 2)
    {
        for (int dir = 0; dir < 2; dir++)
        {
            auto* v = new Voice;
            v->from = dir == 0 ? a : a + 1;
            v->to = dir == 0 ? a + 1 : a;
            v->port = static_cast<uint16_t>(16384 + 2 * flows.size());
            v->dst = hostAddr[v->to - 1];
            v->seen.assign(packets, false);
            v->rx = Socket::CreateSocket(hosts.Get(v->to - 1), UdpSocketFactory::GetTypeId());
            v->rx->Bind(InetSocketAddress(Ipv4Address::GetAny(), v->port));
            v->rx->SetRecvCallback(MakeBoundCallback(&Receive, v));
            v->tx = Socket::CreateSocket(hosts.Get(v->from - 1), UdpSocketFactory::GetTypeId());
            v->tx->Bind();
            v->events.Add(Simulator::Schedule(start + MilliSeconds(dir * 7), &SendOne, v, packets, interval));
            flows.push_back(v);
        }
    }
    VpnTrackedEvents watch; // the next WatchShortcuts, cancelled after the run
    watch.Add(Simulator::Schedule(start, &WatchShortcuts, flows, spokeRouters, &watch));

    if (pcap)
    {
        access.EnablePcap(out + "/wan-HUB", hubAccess.Get(0), true);
        access.EnablePcap(out + "/wan-SPOKE1", spokeAccess[0].Get(0), true);
    }
    Time end = start + Seconds(duration + 1.0);
    uint32_t hubVas = 0;
    uint32_t spokeVas = 0;
    Simulator::Schedule(end - MilliSeconds(1), [&]() {
        WriteFile(out + "/routes-HUB.txt",
                  "HUB#show ip route\n" + VpnIpsecStack::GetOrCreate(hub)->ShowIpRoute());
        WriteFile(out + "/routes-SPOKE1.txt",
                  "SPOKE1#show ip route\n" + VpnIpsecStack::GetOrCreate(spokeRouters.Get(0))->ShowIpRoute());
        if (!virtualTemplate)
        {
            WriteFile(out + "/show-HUB.txt", "HUB#show dmvpn detail\n" + net.hub->ShowDmvpn(true) +
                                                 "\nHUB#show ip nhrp\n" + net.hub->ShowIpNhrp() +
                                                 "\nHUB#show crypto session\n" + net.hub->ShowCryptoSession(false));
            WriteFile(out + "/show-SPOKE1.txt",
                      "SPOKE1#show dmvpn detail\n" + net.spokes[0]->ShowDmvpn(true) + "\nSPOKE1#show ip nhrp\n" +
                          net.spokes[0]->ShowIpNhrp() + "\nSPOKE1#show crypto session\n" +
                          net.spokes[0]->ShowCryptoSession(false));
            return;
        }
        std::string hubShow = "HUB#show crypto session\n" + net.hub->ShowCryptoSession(false) +
                              "\nHUB#show interfaces virtual-access\n" + net.hub->ShowVirtualAccess();
        for (uint32_t va = 1; va <= 2; va++)
        {
            hubShow += "\nHUB#show derived-config interface Virtual-Access" + std::to_string(va) + "\n" +
                       net.hub->ShowDerivedConfig(va);
        }
        hubShow += "\nHUB#show dmvpn detail\n" + net.hub->ShowDmvpn(true) + "\nHUB#show ip nhrp\n" +
                   net.hub->ShowIpNhrp();
        WriteFile(out + "/show-HUB.txt", hubShow);
        WriteFile(out + "/show-SPOKE1.txt",
                  "SPOKE1#show crypto session\n" + net.spokes[0]->ShowCryptoSession(false) +
                      "\nSPOKE1#show interfaces virtual-access\n" + net.spokes[0]->ShowVirtualAccess() +
                      "\nSPOKE1#show derived-config interface Virtual-Access1\n" +
                      net.spokes[0]->ShowDerivedConfig(1) + "\nSPOKE1#show ip nhrp\n" +
                      net.spokes[0]->ShowIpNhrp());
        hubVas = net.hub->GetVirtualAccessCount();
        spokeVas = 0;
        for (const auto& d : net.spokes)
        {
            spokeVas += d->GetVirtualAccessCount();
        }
    });
    Simulator::Stop(end);
    Simulator::Run();
    watch.CancelAll();
    for (Voice* v : flows)
    {
        v->events.CancelAll();
    }
    trace.WriteIkeKeys(net.All());

    std::ostringstream txt;
    std::ostringstream js;
    txt << std::fixed << std::setprecision(1);
    js << std::fixed << std::setprecision(3);
    js << "{\n  \"spokes\": " << spokes << ",\n  \"hub_tunnel_devices\": 1,\n  \"hub_ike_sas\": "
       << net.hub->GetIkeSasUp();
    if (virtualTemplate)
    {
        js << ",\n  \"hub_virtual_access\": " << hubVas << ",\n  \"spoke_virtual_access\": " << spokeVas;
        txt << "HUB: " << hubVas << " Virtual-Access interfaces cloned from Virtual-Template1 (one device), spokes: "
            << spokeVas << " for spoke-to-spoke sessions\n";
    }
    js << ",\n  \"flows\": [\n";
    bool allShortcut = true;
    uint32_t lost = 0;
    for (size_t i = 0; i < flows.size(); i++)
    {
        Voice* v = flows[i];
        double toShortcut = v->shortcutAt >= Seconds(0) ? (v->shortcutAt - v->firstSent).GetSeconds() * 1000 : -1;
        double before = v->nBefore ? v->delayBefore / v->nBefore : 0;
        double after = v->nAfter ? v->delayAfter / v->nAfter : 0;
        allShortcut = allShortcut && toShortcut >= 0;
        lost += v->sent - v->received;
        txt << "SPOKE" << v->from << " -> SPOKE" << v->to << ": " << v->received << "/" << v->sent
            << " received, shortcut after " << toShortcut << " ms, delay via hub " << before << " ms ("
            << v->nBefore << " packets), direct " << after << " ms (" << v->nAfter << " packets)\n";
        js << "    {\"from\": " << v->from << ", \"to\": " << v->to << ", \"sent\": " << v->sent
           << ", \"received\": " << v->received << ", \"time_to_shortcut_ms\": " << toShortcut
           << ", \"delay_via_hub_ms\": " << before << ", \"packets_via_hub\": " << v->nBefore
           << ", \"delay_direct_ms\": " << after << ", \"packets_direct\": " << v->nAfter << "}"
           << (i + 1 < flows.size() ? "," : "") << "\n";
    }
    js << "  ],\n  \"all_shortcuts\": " << (allShortcut ? "true" : "false") << ",\n  \"lost\": " << lost
       << "\n}\n";
    WriteFile(out + "/summary.txt", txt.str());
    WriteFile(out + "/summary.json", js.str());
    std::cout << txt.str();
    for (Voice* v : flows)
    {
        delete v;
    }
    Simulator::Destroy();
    return 0;
}

} // namespace ns3
