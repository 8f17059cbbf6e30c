/*
 * Encrypted multicast with GET VPN over MPLS: a source at branch 1 sends a
 * 50 pps stream (EF) to 239.1.1.1; every other site receives it. The group
 * SA covers it (`permit ip 10.0.0.0 0.255.255.255 any`), and because the
 * ESP packet keeps the inner addresses (address preservation) the provider
 * carries it on the same static VRF multicast tree as the clear stream
 * would use (ingress replication at the source's PE; no MVPN). Rekeys are
 * multicast too (`rekey address ipv4`): one during the stream, with a new
 * KEK. Same topology and outputs as getvpn-mpls-any2any; the summary says
 * what each receiver got.
 */
#include "getvpn-intranet-scenario.h"

#include "ns3/core-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"
#include "ns3/seq-ts-header.h"
#include "ns3/vpn-module.h"

extern "C" {
#include "getvpn/getvpn.h"
}

#include <fstream>

using namespace ns3;

NS_LOG_COMPONENT_DEFINE("GetvpnMulticast");

namespace
{
const uint16_t kPort = 5004;

struct Stream
{
    Ptr<Socket> tx;
    uint64_t sent{0};
    std::map<uint32_t, uint64_t> received; // host index -> packets
    std::map<uint32_t, double> delaySumMs;
    Time stop;
    VpnTrackedEvents events; // the next SendOne, cancelled after the run
};

void
SendOne(Stream* s)
{
    if (Simulator::Now() >= s->stop)
    {
        return;
    }
    SeqTsHeader h;
    h.SetSeq(static_cast<uint32_t>(s->sent));
    Ptr<Packet> p = Create<Packet>(172 - h.GetSerializedSize());
    p->AddHeader(h);
    if (s->tx->Send(p) >= 0)
    {
        s->sent++;
    }
    s->events.Add(Simulator::Schedule(MilliSeconds(20), &SendOne, s));
}

void
Receive(Stream* s, uint32_t host, Ptr<Socket> socket)
{
    Ptr<Packet> p;
    while ((p = socket->Recv()))
    {
        SeqTsHeader h;
        p->RemoveHeader(h);
        s->received[host]++;
        s->delaySumMs[host] += (Simulator::Now() - h.GetTs()).GetSeconds() * 1000.0;
    }
}

void
Rekey(Ptr<GdoiDaemon> ks)
{
    ks->Rekey(0, true);
}
} // namespace

int
main(int argc, char* argv[])
{
    std::string out = "out/getvpn-multicast";
    uint32_t branches = 3;
    double duration = 6.0;

    CommandLine cmd(__FILE__);
    cmd.AddValue("out", "Output folder", out);
    cmd.AddValue("branches", "Branches besides HQ (2-60)", branches);
    cmd.AddValue("duration", "Seconds of the stream", duration);
    cmd.Parse(argc, argv);
    if (!VpnMpi::SerialOnly("getvpn-multicast"))
    {
        return 2;
    }
    if (branches < 2 || branches > 60 || duration < 1)
    {
        std::cerr << "--branches must be 2..60 and --duration at least 1\n";
        return 2;
    }
    GlobalValue::Bind("ChecksumEnabled", BooleanValue(true));

    GetVpnHelper getvpn;
    GetVpnIntranetOptions o;
    o.branches = branches;
    o.mpls = true;
    o.multicastRekey = true;
    o.policy = "permit ip 10.0.0.0 0.255.255.255 any";
    o.dataGroup = Ipv4Address("239.1.1.1");
    o.dataSource = 1;
    GetVpnIntranet net = GetVpnIntranetHelper().Build(getvpn, o);
    Ptr<GdoiDaemon> ks = getvpn.GetDaemon(net.ks);

    VpnTraceHelper trace(out);
    GetVpnIntranetHelper::EnableTraces(getvpn, net, trace, out, false);

    Stream s;
    Time start = Seconds(3);
    s.stop = start + Seconds(duration);
    s.tx = Socket::CreateSocket(net.hosts.Get(o.dataSource), UdpSocketFactory::GetTypeId());
    s.tx->Bind();
    s.tx->Connect(vpncompat::WithTos(s.tx, InetSocketAddress(o.dataGroup, kPort), 0xb8));
    for (uint32_t k = 0; k <= branches; k++)
    {
        if (k == o.dataSource)
        {
            continue;
        }
        Ptr<Socket> rx = Socket::CreateSocket(net.hosts.Get(k), UdpSocketFactory::GetTypeId());
        rx->Bind(InetSocketAddress(Ipv4Address::GetAny(), kPort));
        rx->SetRecvCallback(MakeBoundCallback(&Receive, &s, k));
        s.received[k] = 0;
    }
    s.events.Add(Simulator::Schedule(start, &SendOne, &s));
    s.events.Add(Simulator::Schedule(start + Seconds(duration / 2), &Rekey, ks));
    Time end = s.stop + Seconds(1);
    trace.ScheduleShowSnapshot(ks, "show-KS1.txt", end - MilliSeconds(1));
    trace.ScheduleShowSnapshot(getvpn.GetDaemon(net.ce.Get(2)), "show-BRANCH2.txt",
                               end - MilliSeconds(1));
    Simulator::Stop(end);
    Simulator::Run();
    s.events.CancelAll();
    size_t p1Lines = trace.WriteIkev1Keys(getvpn.GetDaemons());
    net.mpls->WriteShow(out);

    const vpn_gdoi_ks* k = vpn_getvpn_node_ks(ks->GetCore(), 0);
    VpnReport report("getvpn-multicast: encrypted 239.1.1.1 from branch 1 to HQ and " +
                     std::to_string(branches - 1) + " other branches over MPLS");
    GetVpnIntranetHelper::MemberTotals m = GetVpnIntranetHelper::SumMembers(getvpn, net);
    report.Add("members_registered", m.registered);
    report.Add("ks_rekeys", vpn_gdoi_ks_get_stats(k)->rekeys);
    report.Add("member_rekeys_received", m.rekeys);
    report.Add("data_plane_drops", m.drops);
    report.Add("stream_sent", s.sent);
    uint64_t complete = 0;
    for (const auto& [host, n] : s.received)
    {
        report.Add("received_at_site" + std::to_string(host), n);
        complete += n == s.sent;
    }
    report.Add("receivers_complete", complete);
    report.Add("wireshark_esp_sa_lines", trace.GetKeyLinesWritten());
    report.Add("wireshark_ikev1_lines", static_cast<uint64_t>(p1Lines));
    std::cout << report.Write(out);
    Simulator::Destroy();
    return 0;
}
