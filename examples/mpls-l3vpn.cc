/*
 * An MPLS L3VPN provider (RFC 4364) with two customers whose addresses
 * overlap, the any-to-any core GET VPN runs over:
 *
 *        CE-A1 (VRF A)  CE-B1 (VRF B)               CE-A2 (A)  CE-B2 (B)
 *              \        /                                \      /
 *               PE1 ---- P1 -------------- P2 ---------- PE3
 *                         \               /
 *                          '---- PE2 ----'
 *                               /     \
 *                        CE-A3 (A)   CE-A4 (A)
 *
 * A and B use the same link addresses and LANs (192.168.1.0/30 at PE1,
 * 192.168.2.0/30 at PE3, 10.1/16, 10.2/16). Flows (UDP, one per customer
 * class): A1 -> A2 EF, B1 -> B2 best effort to the same address as A's flow,
 * A3 -> A1 AF41, and A2 -> 239.1.1.1 multicast subscribed by A1 and A3 (A4
 * is not a subscriber). Writes into --out:
 *   core-X-Y.pcap          each core link (Ethernet, MPLS: transport + VPN labels)
 *   ce-PEn-siteN.pcap      each PE-CE link (PPP, plain IPv4)
 *   show-mpls-NAME.txt     `show mpls forwarding-table` of every provider router
 *   summary.txt/.json      per flow and receiving site: sent, received, one-way
 *                          delay and jitter against the 150 ms voice budget;
 *                          per router labelled packets sent and drops
 */
#include "ns3/core-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/vpn-module.h"

#include <iostream>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

using namespace ns3;

NS_LOG_COMPONENT_DEFINE("MplsL3vpn");

namespace
{

/** One receiver of a flow: packets, one-way delays (send time in the payload), jitter. */
struct SiteStats
{
    uint32_t received = 0;
    double delaySumMs = 0;
    double delayMaxMs = 0;
    double lastMs = -1;
    double jitterSumMs = 0; // sum of |D(i-1, i)|, as FlowMonitor's jitterSum
};

struct FlowStats
{
    std::string name;
    uint32_t sent = 0;
    std::map<uint32_t, SiteStats> at; // receiving site -> stats
    uint32_t received = 0;
};

void
Receive(FlowStats* f, uint32_t site, Ptr<Socket> socket)
{
    Ptr<Packet> p;
    while ((p = socket->Recv()))
    {
        uint8_t b[8] = {0};
        if (p->GetSize() >= 8)
        {
            p->CopyData(b, 8);
        }
        uint64_t ns = 0;
        for (int i = 0; i < 8; i++)
        {
            ns = ns << 8 | b[i];
        }
        double ms = (Simulator::Now().GetNanoSeconds() - (int64_t)ns) / 1e6;
        SiteStats& s = f->at[site];
        f->received++;
        s.received++;
        s.delaySumMs += ms;
        s.delayMaxMs = std::max(s.delayMaxMs, ms);
        if (s.lastMs >= 0)
        {
            s.jitterSumMs += std::abs(ms - s.lastMs);
        }
        s.lastMs = ms;
    }
}

void
SendOne(Ptr<Socket> s, InetSocketAddress to, uint32_t size, FlowStats* f)
{
    std::vector<uint8_t> b(size, 0);
    uint64_t ns = Simulator::Now().GetNanoSeconds();
    for (int i = 7; i >= 0; i--)
    {
        b[i] = (uint8_t)ns;
        ns >>= 8;
    }
    s->SendTo(Create<Packet>(b.data(), b.size()), 0, to);
    f->sent++;
}

} // namespace

int
main(int argc, char* argv[])
{
    std::string out = "out/mpls-l3vpn";
    bool php = true;
    std::string ttl = "uniform";
    uint32_t packets = 50;
    double interval = 0.020;
    uint32_t payload = 160;
    std::string coreRate = "1Gbps";
    std::string coreDelay = "5ms";

    CommandLine cmd(__FILE__);
    cmd.AddValue("out", "Output folder", out);
    cmd.AddValue("php", "Penultimate-hop popping (false: explicit-null)", php);
    cmd.AddValue("ttl", "RFC 3443 TTL model: uniform or pipe", ttl);
    cmd.AddValue("packets", "Packets per flow", packets);
    cmd.AddValue("interval", "Seconds between packets", interval);
    cmd.AddValue("payload", "UDP payload bytes per packet", payload);
    cmd.AddValue("coreRate", "Core link rate", coreRate);
    cmd.AddValue("coreDelay", "Core link one-way delay", coreDelay);
    cmd.Parse(argc, argv);
    if (!VpnMpi::SerialOnly("mpls-l3vpn"))
    {
        return 2;
    }
    if (ttl != "uniform" && ttl != "pipe")
    {
        std::cerr << "--ttl must be uniform or pipe, not '" << ttl << "'\n";
        return 2;
    }
    if (packets == 0 || interval <= 0 || payload < 8 || payload > 1400)
    {
        std::cerr << "--packets and --interval must be positive, --payload 8..1400\n";
        return 2;
    }
    SystemPath::MakeDirectories(out);
    // Real checksums, so the traces read as they would on a wire.
    GlobalValue::Bind("ChecksumEnabled", BooleanValue(true));

    MplsProviderHelper provider;
    provider.SetPhp(php);
    provider.SetTtlMode(ttl == "pipe" ? MplsRouter::TTL_PIPE : MplsRouter::TTL_UNIFORM);
    Ptr<Node> pe1 = provider.AddPe("PE1");
    Ptr<Node> pe2 = provider.AddPe("PE2");
    Ptr<Node> pe3 = provider.AddPe("PE3");
    Ptr<Node> p1 = provider.AddP("P1");
    Ptr<Node> p2 = provider.AddP("P2");
    DataRate rate(coreRate);
    Time delay(coreDelay);
    provider.AddCoreLink(pe1, p1, rate, delay);
    provider.AddCoreLink(p1, p2, rate, delay);
    provider.AddCoreLink(p2, pe3, rate, delay);
    provider.AddCoreLink(pe2, p1, rate, delay);
    provider.AddCoreLink(pe2, p2, rate, delay);

    // Sites: 0 A1, 1 B1 (PE1); 2 A2, 3 B2 (PE3); 4 A3, 5 A4 (PE2).
    const char* names[6] = {"CE-A1", "CE-B1", "CE-A2", "CE-B2", "CE-A3", "CE-A4"};
    const char* vrfs[6] = {"A", "B", "A", "B", "A", "A"};
    const char* nets[6] = {"192.168.1.0", "192.168.1.0", "192.168.2.0",
                           "192.168.2.0", "192.168.3.0", "192.168.4.0"};
    const char* lans[6] = {"10.1.0.0/16", "10.1.0.0/16", "10.2.0.0/16",
                           "10.2.0.0/16", "10.3.0.0/16", "10.4.0.0/16"};
    Ptr<Node> pes[6] = {pe1, pe1, pe3, pe3, pe2, pe2};
    Ptr<Node> ce[6];
    for (int i = 0; i < 6; i++)
    {
        ce[i] = CreateObject<Node>();
        Names::Add(names[i], ce[i]);
        provider.AttachSite(pes[i], vrfs[i], ce[i], Ipv4Address(nets[i]), {lans[i]},
                            DataRate("100Mbps"), MicroSeconds(500));
    }
    provider.AddMulticastRoute("A", "239.0.0.0/8", {0, 2, 4});
    provider.Install();
    provider.EnablePcap(out);

    // sinks: sites listening on the port; subscribers: where it should arrive
    // (CE-A4 listens to the group without being subscribed in the provider).
    struct FlowDef
    {
        const char* name;
        int from;
        const char* dst;
        uint16_t port;
        uint8_t tos;
        const char* cls;
        std::vector<uint32_t> sinks;
        std::set<uint32_t> subscribers;
    };
    std::vector<FlowDef> defs = {
        {"A1->A2 EF", 0, "192.168.2.2", 5000, 0xb8, "EF", {2}, {2}},
        {"B1->B2 BE", 1, "192.168.2.2", 5001, 0x00, "BE", {3}, {3}},
        {"A3->A1 AF41", 4, "192.168.1.2", 5002, 0x88, "AF41", {0}, {0}},
        {"A2->239.1.1.1", 2, "239.1.1.1", 5003, 0x00, "BE", {0, 4, 5}, {0, 4}},
    };
    std::vector<FlowStats> flows(defs.size());
    std::vector<Ptr<Socket>> sockets;
    VpnTrackedEvents events; // the sends, cancelled after the run
    for (size_t f = 0; f < defs.size(); f++)
    {
        flows[f].name = defs[f].name;
        for (uint32_t site : defs[f].sinks)
        {
            Ptr<Socket> r = Socket::CreateSocket(ce[site], UdpSocketFactory::GetTypeId());
            r->Bind(InetSocketAddress(Ipv4Address::GetAny(), defs[f].port));
            r->SetRecvCallback(MakeBoundCallback(&Receive, &flows[f], site));
            sockets.push_back(r);
        }
        Ptr<Socket> s = Socket::CreateSocket(ce[defs[f].from], UdpSocketFactory::GetTypeId());
        s->Bind();
        sockets.push_back(s);
        InetSocketAddress to =
            vpncompat::WithTos(s, InetSocketAddress(Ipv4Address(defs[f].dst), defs[f].port), defs[f].tos);
        for (uint32_t i = 0; i < packets; i++)
        {
            events.Add(Simulator::Schedule(Seconds(1.0 + i * interval + 0.001 * f), &SendOne, s, to, payload,
                                           &flows[f]));
        }
    }

    Simulator::Stop(Seconds(2.0 + packets * interval));
    Simulator::Run();
    events.CancelAll(); // they hold pointers into flows

    provider.WriteShow(out);
    std::ostringstream title;
    title << "mpls-l3vpn: 3 PEs, 2 Ps, VRFs A and B with overlapping addresses, "
          << (php ? "PHP" : "explicit-null") << ", " << ttl << " TTL, core " << coreRate << " / "
          << coreDelay;
    VpnReport report(title.str());
    for (const auto& f : flows)
    {
        // "A1->A2 EF" -> A1_to_A2, "A2->239.1.1.1" -> A2_to_239_1_1_1
        std::string key = f.name.substr(0, f.name.find(' '));
        key.replace(key.find("->"), 2, "_to_");
        for (char& c : key)
        {
            c = c == '.' ? '_' : c;
        }
        report.Add(key + "_sent", (uint64_t)f.sent);
        report.Add(key + "_received", (uint64_t)f.received);
        for (const auto& [site, s] : f.at)
        {
            report.Add(key + "_received_at_" + names[site], (uint64_t)s.received);
        }
    }
    // One line per (flow, subscribed receiver): a multicast flow once per site.
    for (size_t i = 0; i < flows.size(); i++)
    {
        for (uint32_t site : defs[i].sinks)
        {
            if (defs[i].subscribers.count(site) == 0)
            {
                continue;
            }
            SiteStats s = flows[i].at.count(site) ? flows[i].at.at(site) : SiteStats();
            report.AddFlow(std::string(names[defs[i].from]) + " (VRF " + vrfs[defs[i].from] +
                               ")",
                           std::string(names[site]) + " " + defs[i].dst + ":" +
                               std::to_string(defs[i].port) + " " + defs[i].cls,
                           flows[i].sent,
                           s.received,
                           s.received ? s.delaySumMs / s.received : 0.0,
                           s.received > 1 ? s.jitterSumMs / (s.received - 1) : 0.0);
        }
    }
    for (const char* r : {"PE1", "PE2", "PE3", "P1", "P2"})
    {
        Ptr<MplsRouter> router = provider.GetRouter(r);
        report.Add(std::string(r) + "_labelled_sent", router->GetTxLabelled());
        report.Add(std::string(r) + "_drops", router->GetDrops(~0u));
    }
    std::cout << report.Write(out);
    for (auto& s : sockets)
    {
        s->Close();
    }
    Simulator::Destroy();
    return 0;
}
