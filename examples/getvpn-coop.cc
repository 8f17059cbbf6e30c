/*
 * Cooperative key servers for GET VPN over MPLS: KS1 (priority 100) and
 * KS2 (priority 50) at HQ, each on its own link to PE0, `redundancy` with
 * each other as peer; HQ and N branches (--branches, default 3) list both
 * (`server address ipv4`). After the election KS1 is primary and KS2 syncs
 * policy, keys, SEQ and members from its announcements. Voice (50 pps, EF)
 * flows between every pair of sites from 15 s; KS1 fails at --failAt (30
 * s); KS2 declares it dead after 90 s without announcements, becomes
 * primary with the same keys (members keep their SAs and do not
 * re-register) and rekeys five seconds before the voice ends. The summary
 * says who is primary, how many takeovers KS2 counted, and whether any
 * voice packet was lost.
 *
 *   KS1 ==192.0.2.0/30==\
 *   KS2 ==192.0.2.4/30=== PE0 ==198.51.100.0/30== HQ --10.0.0.0/24-- host0
 *                          |  (MPLS: PEk on P1 or P2, P1 - P2)
 *                         PEk ==198.51.100.4k/30== BRANCHk --10.k.0.0/24-- hostk
 *
 * Output folder: IOS configurations (*.cfg), pcaps (core links with the
 * label stack, PE-CE links with ESP, the crypto maps' clear side, GDOI as
 * sent and decrypted), wireshark/ key files (esp_sa with the group SAs,
 * ikev1_decryption_table, decode_as_entries for UDP 848), show snapshots
 * (show crypto gdoi ..., show crypto ipsec sa, show mpls forwarding-table)
 * and summary.txt / summary.json with one-way delay per flow against the
 * 150 ms voice budget.
 */
#include "getvpn-intranet-scenario.h"

#include "ns3/core-module.h"
#include "ns3/flow-monitor-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"
#include "ns3/vpn-module.h"

extern "C" {
#include "getvpn/getvpn.h"
}

#include <fstream>
#include <sstream>

using namespace ns3;

NS_LOG_COMPONENT_DEFINE("GetvpnCoop");

namespace
{
void
Rekey(Ptr<GdoiDaemon> ks, bool newKek)
{
    ks->Rekey(0, newKek);
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
    std::string out = "out/getvpn-coop";
    uint32_t branches = 3;
    double duration = 120.0;
    double failAt = 30.0;
    std::string coreDelay = "5ms";
    std::string accessDelay = "2ms";
    uint32_t tekLifetime = 3600;

    CommandLine cmd(__FILE__);
    cmd.AddValue("out", "Output folder", out);
    cmd.AddValue("branches", "Branches besides HQ (1-60)", branches);
    cmd.AddValue("duration", "Seconds of voice", duration);
    cmd.AddValue("coreDelay", "One-way delay of each MPLS core link", coreDelay);
    cmd.AddValue("accessDelay", "One-way delay of each PE-CE link", accessDelay);
    cmd.AddValue("tekLifetime", "TEK lifetime in seconds (120-86400)", tekLifetime);
    cmd.AddValue("failAt", "When KS1 fails (seconds)", failAt);
    cmd.Parse(argc, argv);
    if (!VpnMpi::SerialOnly("getvpn-coop"))
    {
        return 2;
    }
    if (branches < 1 || branches > 60 || duration < failAt + 100 - 15 || failAt < 12)
    {
        std::cerr << "--branches must be 1..60, --failAt at least 12 (after the election) and "
                     "--duration long enough for KS2 to take over (failAt + 85)\n";
        return 2;
    }
    GlobalValue::Bind("ChecksumEnabled", BooleanValue(true));

    GetVpnHelper getvpn;
    GetVpnIntranetOptions o;
    o.branches = branches;
    o.mpls = true;
    o.coreDelay = Time(coreDelay);
    o.accessDelay = Time(accessDelay);
    o.tekLifetime = tekLifetime;
    o.coop = true;
    GetVpnIntranet net = GetVpnIntranetHelper().Build(getvpn, o);
    Ptr<GdoiDaemon> ks = getvpn.GetDaemon(net.ks);
    Ptr<GdoiDaemon> ks2 = getvpn.GetDaemon(net.ks2);

    VpnTraceHelper trace(out);
    GetVpnIntranetHelper::EnableTraces(getvpn, net, trace, out, true);

    // key servers serve members once their election is over (10 s)
    Time start = Seconds(15);
    Time stop = start + Seconds(duration);
    Ptr<GetVpnVoice> voice = GetVpnVoice::InstallAllPairs(net.hosts, start, stop);
    ks->SetStopTime(Seconds(failAt));
    VpnTrackedEvents timed; // the Rekey, cancelled after the run
    timed.Add(Simulator::Schedule(stop - Seconds(5), &Rekey, ks2, false));

    Time end = stop + Seconds(1);
    trace.ScheduleShowSnapshot(ks, "show-KS1-before-failure.txt", Seconds(failAt) - MilliSeconds(1));
    trace.ScheduleShowSnapshot(ks2, "show-KS2.txt", end - MilliSeconds(1));
    trace.ScheduleShowSnapshot(getvpn.GetDaemon(net.ce.Get(0)), "show-HQ.txt", end - MilliSeconds(1));
    trace.ScheduleShowSnapshot(getvpn.GetDaemon(net.ce.Get(1)), "show-BRANCH1.txt",
                               end - MilliSeconds(1));
    FlowMonitorHelper flowHelper;
    Ptr<FlowMonitor> monitor = flowHelper.Install(net.hosts);
    Simulator::Stop(end);
    Simulator::Run();
    timed.CancelAll();

    size_t p1Lines = trace.WriteIkev1Keys(getvpn.GetDaemons());
    net.mpls->WriteShow(out);

    const vpn_gdoi_ks* k = vpn_getvpn_node_ks(ks2->GetCore(), 0);
    VpnReport report("getvpn-coop: KS1 and KS2 at HQ, " + std::to_string(branches) +
                     " branches over MPLS; KS1 fails at " + Ms(failAt) + " s");
    GetVpnIntranetHelper::MemberTotals m = GetVpnIntranetHelper::SumMembers(getvpn, net);
    report.Add("members_registered", m.registered);
    report.Add("re_registrations", m.reRegistrations);
    report.Add("ks2_role", vpn_gdoi_ks_coop_role(k) == VPN_GDOI_COOP_PRIMARY ? "primary" : "secondary");
    report.Add("ks2_takeovers", vpn_gdoi_ks_coop_stats(k)->takeovers);
    report.Add("ks2_members", static_cast<uint64_t>(vpn_gdoi_ks_members(k)));
    report.Add("ks2_rekeys", vpn_gdoi_ks_get_stats(k)->rekeys);
    report.Add("ks_seq", static_cast<uint64_t>(vpn_gdoi_ks_seq(k)));
    report.Add("packets_encrypted", m.encrypted);
    report.Add("packets_decrypted", m.decrypted);
    report.Add("data_plane_drops", m.drops);
    report.Add("voice_sent", voice->GetSent());
    report.Add("voice_received", voice->GetReceived());
    report.Add("wireshark_esp_sa_lines", trace.GetKeyLinesWritten());
    report.Add("wireshark_ikev1_lines", static_cast<uint64_t>(p1Lines));
    double maxMs = 0;
    for (const auto& f : voice->GetFlows())
    {
        maxMs = std::max(maxMs, f.delayMaxMs);
    }
    report.Add("voice_max_one_way_delay_ms", Ms(maxMs));
    report.AddFlows(flowHelper, monitor);
    std::cout << report.Write(out);
    Simulator::Destroy();
    return 0;
}
