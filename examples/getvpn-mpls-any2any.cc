/*
 * GET VPN over an MPLS any-to-any provider (the seed article's third
 * scenario): HQ with the key server and N branches (--branches, default
 * 4), each CE a group member configured from IOS text, an MPLS L3VPN core
 * of 2 P and N+1 PE routers. G.711 voice (50 pps, EF) flows between every
 * pair of sites, branch to branch directly over the provider (no hub),
 * encrypted with the group's SAs with the hosts' addresses kept in the
 * outer header. During the traffic the key server rekeys by unicast, then
 * switches to multicast rekeys (a static VRF multicast route, replicated
 * at the ingress PE) and rekeys again with a new KEK.
 *
 *   KS1 ==192.0.2.0/30== PE0 ==198.51.100.0/30== HQ --10.0.0.0/24-- host0
 *                         |  (MPLS: PEk on P1 or P2, P1 - P2)
 *                        PEk ==198.51.100.4k/30== BRANCHk --10.k.0.0/24-- hostk
 *
 * Output folder: IOS configurations (*.cfg), pcaps (core links with the
 * label stack, PE-CE links with ESP, the crypto maps' clear side, GDOI as
 * sent and decrypted), wireshark/ key files (esp_sa with the group SAs,
 * ikev1_decryption_table, decode_as_entries for UDP 848), show snapshots
 * (show crypto gdoi ..., show crypto ipsec sa, show mpls forwarding-table)
 * and summary.txt / summary.json with one-way delay per flow against the
 * 150 ms voice budget; flows.csv has each voice flow's raw figures.
 *
 * --ranks=N (an ns-3 tree built with MPI: ./scripts/intree --mpi) runs it
 * on ns-3's distributed simulator under `mpirun -np N`: the provider and
 * the key server on rank 0, site k on rank k mod N (GetVpnIntranetHelper),
 * the PE-CE links between ranks. Each rank writes OUT/rank-R/ (its nodes'
 * pcaps, key-file lines and figures); scripts/mpi-merge OUT then makes the
 * usual output folder (pcaps merged with mergecap, key files concatenated,
 * figures summed, flows' delays from their sums).
 */
#include "getvpn-intranet-scenario.h"

#include "ns3/core-module.h"
#include "ns3/flow-monitor-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"
#include "ns3/vpn-module.h"
#include "ns3/vpn-mpi-helper.h"

extern "C" {
#include "getvpn/getvpn.h"
}

#include <cstdio>
#include <fstream>
#include <sstream>

using namespace ns3;

NS_LOG_COMPONENT_DEFINE("GetvpnMplsAny2any");

namespace
{
void
Rekey(Ptr<GdoiDaemon> ks, bool newKek)
{
    ks->Rekey(0, newKek);
}

void
Multicast(Ptr<GdoiDaemon> ks, Ipv4Address group)
{
    ks->SetMulticastRekey(0, true, group);
}

std::string
Ms(double v)
{
    std::ostringstream s;
    s.setf(std::ios::fixed);
    s.precision(2);
    s << v;
    return s.str();
}
} // namespace

int
main(int argc, char* argv[])
{
    std::string out = "out/getvpn-mpls-any2any";
    uint32_t branches = 4;
    double duration = 10.0;
    std::string coreDelay = "5ms";
    std::string accessDelay = "2ms";
    uint32_t tekLifetime = 3600;
    uint32_t ranks = 1;

    CommandLine cmd(__FILE__);
    cmd.AddValue("out", "Output folder", out);
    cmd.AddValue("branches", "Branches besides HQ (1-60)", branches);
    cmd.AddValue("duration", "Seconds of voice", duration);
    cmd.AddValue("coreDelay", "One-way delay of each MPLS core link", coreDelay);
    cmd.AddValue("accessDelay", "One-way delay of each PE-CE link", accessDelay);
    cmd.AddValue("tekLifetime", "TEK lifetime in seconds (120-86400)", tekLifetime);
    cmd.AddValue("ranks", "MPI ranks (mpirun -np N; needs ns-3's MPI module)", ranks);
    cmd.Parse(argc, argv);
    if (branches < 1 || branches > 60 || duration < 1)
    {
        std::cerr << "--branches must be 1..60 and --duration at least 1\n";
        return 2;
    }
    if (ranks < 1 || ranks > branches + 1 || (ranks > 1 && !Time(accessDelay).IsStrictlyPositive()))
    {
        std::cerr << "--ranks must be 1..branches+1, and with more than one rank --accessDelay "
                     "(the links between ranks) must be above 0\n";
        return 2;
    }
    std::string mpiErr = VpnMpi::Enable(&argc, &argv, ranks);
    if (!mpiErr.empty())
    {
        std::cerr << mpiErr << "\n";
        VpnMpi::Disable();
        return 2;
    }
    const std::string top = out;
    out = VpnMpi::RankDir(out); // this rank's part of the output
    GlobalValue::Bind("ChecksumEnabled", BooleanValue(true));

    GetVpnHelper getvpn;
    GetVpnIntranetOptions o;
    o.branches = branches;
    o.mpls = true;
    o.coreDelay = Time(coreDelay);
    o.accessDelay = Time(accessDelay);
    o.tekLifetime = tekLifetime;
    GetVpnIntranet net = GetVpnIntranetHelper().Build(getvpn, o);
    Ptr<GdoiDaemon> ks = getvpn.GetDaemon(net.ks);

    VpnTraceHelper trace(out);
    GetVpnIntranetHelper::EnableTraces(getvpn, net, trace, out, true);

    Time start = Seconds(3);
    Time stop = start + Seconds(duration);
    Ptr<GetVpnVoice> voice = GetVpnVoice::InstallAllPairs(net.hosts, start, stop);
    // a unicast rekey a third of the way in; then multicast rekeys, and one
    // with a new KEK two thirds in
    VpnTrackedEvents timed; // the rekeys, cancelled after the run
    timed.Add(Simulator::Schedule(start + Seconds(duration / 3), &Rekey, ks, false));
    timed.Add(Simulator::Schedule(start + Seconds(duration / 2), &Multicast, ks, o.rekeyGroup));
    timed.Add(Simulator::Schedule(start + Seconds(2 * duration / 3), &Rekey, ks, true));

    Time end = stop + Seconds(1);
    // each snapshot on the rank that simulates the router
    for (auto [node, file] : {std::make_pair(net.ks, "show-KS1.txt"),
                              std::make_pair(net.ce.Get(0), "show-HQ.txt"),
                              std::make_pair(net.ce.Get(1), "show-BRANCH1.txt")})
    {
        if (VpnMpi::IsLocal(node))
        {
            trace.ScheduleShowSnapshot(getvpn.GetDaemon(node), file, end - MilliSeconds(1));
        }
    }
    // FlowMonitor sees a flow from one process only: serial runs
    FlowMonitorHelper flowHelper;
    Ptr<FlowMonitor> monitor;
    if (!VpnMpi::IsEnabled())
    {
        monitor = flowHelper.Install(net.hosts);
    }
    Simulator::Stop(end);
    Simulator::Run();
    timed.CancelAll();

    size_t p1Lines = trace.WriteIkev1Keys(getvpn.GetDaemons());
    net.mpls->WriteShow(out);

    // the key server's figures on its rank (0), zero on the others
    const vpn_gdoi_ks* k = ks->GetCore() ? vpn_getvpn_node_ks(ks->GetCore(), 0) : nullptr;
    VpnReport report("getvpn-mpls-any2any: HQ (key server KS1) and " + std::to_string(branches) +
                     " branches over MPLS (2 P, " + std::to_string(branches + 1) +
                     " PE), core links " + coreDelay + ", access links " + accessDelay);
    GetVpnIntranetHelper::MemberTotals m = GetVpnIntranetHelper::SumMembers(getvpn, net);
    report.Add("members_registered", m.registered);
    report.Add("ks_members", k ? static_cast<uint64_t>(vpn_gdoi_ks_members(k)) : 0);
    report.Add("ks_rekeys", k ? vpn_gdoi_ks_get_stats(k)->rekeys : 0);
    report.Add("packets_encrypted", m.encrypted);
    report.Add("packets_decrypted", m.decrypted);
    report.Add("data_plane_drops", m.drops);
    report.Add("voice_sent", voice->GetSent());
    report.Add("voice_received", voice->GetReceived());
    report.Add("wireshark_esp_sa_lines", trace.GetKeyLinesWritten());
    report.Add("wireshark_ikev1_lines", static_cast<uint64_t>(p1Lines));
    // Any-to-any: a branch reaches another branch over one provider path,
    // not through HQ. Compare branch-to-branch delay with the sum of the two
    // legs through HQ it would take on a hub-and-spoke network.
    double b2b = 0, viaHq = 0, maxMs = 0;
    uint32_t nb2b = 0;
    std::map<std::pair<uint32_t, uint32_t>, double> mean;
    for (const auto& f : voice->GetFlows())
    {
        mean[{f.from, f.to}] = f.MeanDelayMs();
        maxMs = std::max(maxMs, f.delayMaxMs);
    }
    for (const auto& f : voice->GetFlows())
    {
        if (f.from != 0 && f.to != 0)
        {
            b2b += f.MeanDelayMs();
            viaHq += mean[{f.from, 0}] + mean[{0, f.to}];
            nb2b++;
        }
    }
    if (nb2b)
    {
        report.Add("branch_to_branch_mean_delay_ms", Ms(b2b / nb2b));
        report.Add("branch_via_hq_mean_delay_ms", Ms(viaHq / nb2b));
    }
    report.Add("voice_max_one_way_delay_ms", Ms(maxMs));
    if (monitor)
    {
        report.AddFlows(flowHelper, monitor);
    }
    if (VpnMpi::IsEnabled())
    {
        report.Add("mpi_rank", VpnMpi::GetRank());
        report.Add("mpi_ranks", VpnMpi::GetSize());
    }
    // Each voice flow's raw figures: what scripts/mpi-merge sums over ranks
    // (a flow's sent count comes from its source's rank, the rest from its
    // destination's) and what the serial/MPI comparison reads.
    {
        std::ofstream csv(out + "/flows.csv");
        csv << "from,to,sent,received,delay_sum_ms,delay_max_ms\n";
        for (const auto& f : voice->GetFlows())
        {
            char line[160];
            std::snprintf(line, sizeof line, "%u,%u,%llu,%llu,%.6f,%.6f\n", f.from, f.to,
                          (unsigned long long)f.sent, (unsigned long long)f.received,
                          f.delaySumMs, f.delayMaxMs);
            csv << line;
        }
    }
    std::string text = report.Write(out);
    if (!VpnMpi::IsEnabled() || VpnMpi::GetRank() == 0)
    {
        std::cout << text;
        if (VpnMpi::IsEnabled())
        {
            std::cout << "rank 0's part; all ranks' figures: scripts/mpi-merge " << top << "\n";
        }
    }
    Simulator::Destroy();
    VpnMpi::Disable();
    return 0;
}
