/*
 * qos-llq: EF voice across a branch's loaded access link, with and without
 * the CE's IOS LLQ policy (issue 13).
 *
 *   branch host --100M-- CE ==2 Mbit/s, 10 ms access== PE --100M-- HQ host
 *
 * Two G.711 and G.729 voice calls (RTP, EF), interactive video (RTP, AF41,
 * 30 frames/s of varying size), a best-effort probe and bulk TCP that
 * fills the access link. The run is made twice with the same seeds:
 *   llq   the CE's `service-policy output WAN-EDGE` (ce-config.txt):
 *         voice in the priority queue, video with a bandwidth share,
 *         class-default fair-queued;
 *   fifo  no policy: one FIFO (IOS hold-queue 40).
 * Writes into --out: summary.txt, summary.json, qos.csv (per flow and per
 * class: delay p50/p95/p99/max, RFC 3550 jitter, loss, G.107 R and MOS for
 * voice, verdict against the budget), delay-cdf.png and p99-budget.png
 * (gnuplot), show-policy-map.txt (`show policy-map interface` of the CE),
 * ce-config.txt, and access-link traces llq-access-*.pcap and
 * fifo-access-*.pcap (RTP decodes with `-d udp.port==16384,rtp`).
 */

#include "qos-llq-scenario.h"

#include "ns3/core-module.h"
#include "ns3/vpn-module.h"

#include <fstream>
#include <iostream>

using namespace ns3;

namespace
{
const char* kCe = "hostname CE1\n"
                  "!\n"
                  "class-map match-any VOICE\n"
                  " match dscp ef\n"
                  "class-map match-any VIDEO\n"
                  " match dscp af41\n"
                  "!\n"
                  "policy-map WAN-EDGE\n"
                  " class VOICE\n"
                  "  priority percent 30\n"
                  " class VIDEO\n"
                  "  bandwidth percent 35\n"
                  " class class-default\n"
                  "  fair-queue\n"
                  "!\n"
                  "interface Serial0/0/0\n"
                  " ip address 192.0.2.1 255.255.255.252\n"
                  " service-policy output WAN-EDGE\n";
} // namespace

int
main(int argc, char* argv[])
{
    std::string out = "out/qos-llq";
    double duration = 10;
    uint32_t bulk = 2;
    std::string rate = "2Mbps";
    double budget = 150;
    bool pcap = true;
    CommandLine cmd(__FILE__);
    cmd.AddValue("out", "Output folder", out);
    cmd.AddValue("duration", "Simulated seconds (RTP flows start at 2 s)", duration);
    cmd.AddValue("bulk", "Bulk TCP flows filling the access link", bulk);
    cmd.AddValue("accessRate", "Access link rate", rate);
    cmd.AddValue("budget", "One-way budget for voice (EF), ms (ITU-T G.114: 150)", budget);
    cmd.AddValue("pcap", "Write access-link traces", pcap);
    cmd.Parse(argc, argv);
    if (!VpnMpi::SerialOnly("qos-llq"))
    {
        return 2;
    }
    NS_ABORT_MSG_IF(duration <= 3, "--duration must be above 3 s");
    SystemPath::MakeDirectories(out);
    {
        std::ofstream f(out + "/ce-config.txt");
        f << kCe;
    }

    VpnReport report("qos-llq: EF voice over a loaded " + rate + " access link", budget);
    report.SetClassBudget("AF41", 200); // interactive video: a looser budget
    std::string show;
    for (const std::string design : {"llq", "fifo"})
    {
        QosLlqParams p;
        p.ceConfig = design == "llq" ? kCe : "";
        p.accessBps = DataRate(rate).GetBitRate();
        p.bulkFlows = bulk;
        p.duration = Seconds(duration);
        p.pcapPrefix = pcap ? out + "/" + design : "";
        RngSeedManager::SetSeed(1);
        RngSeedManager::SetRun(1);
        QosLlqResult r = RunQosLlq(p);
        NS_ABORT_MSG_IF(!r.error.empty(), "CE configuration: " << r.error);
        for (const QosLlqFlow& f : r.flows)
        {
            report.AddQosFlow(design, f.name, f.cls, f.codec, f.sum, f.delaysMs);
        }
        report.Add(design + "_bulk_goodput_bps", static_cast<uint64_t>(r.bulkGoodputBps));
        if (design == "llq")
        {
            show = r.showPolicyMap;
        }
    }
    {
        std::ofstream f(out + "/show-policy-map.txt");
        f << "CE1#show policy-map interface Serial0/0/0\n" << show;
    }
    std::cout << report.Write(out);
    report.WriteCsv(out);
    std::vector<std::string> pngs = report.WritePlots(out);
    if (pngs.size() != 2)
    {
        std::cerr << "qos-llq: gnuplot did not draw the plots"
                  << " (is gnuplot installed? ./scripts/deps)\n";
        return 1;
    }
    std::cout << "\nCE1#show policy-map interface Serial0/0/0\n" << show;
    return 0;
}
