/*
 * get-vs-flex: GET VPN vs FlexVPN hub-and-spoke vs DMVPN phase 3 on one
 * underlay, with one traffic mix, the same seeds (issue 13; the seed
 * article's argument, measured).
 *
 * HQ and --branches=N branches (default 6) on an MPLS L3VPN provider; HQ's
 * access link has --hqDelay (HQ far away); every CE queues its WAN with the
 * same IOS MQC policy (LLQ for EF voice, a share for AF41 video,
 * fair-queue for the rest). Traffic: G.711 voice both ways between every
 * pair of sites, video from each branch to HQ, --load bulk TCP flows from
 * each branch to HQ. Designs (examples/get-vs-flex-scenario.h): clear, GET
 * VPN (key server at HQ, group members on every CE), FlexVPN hub-and-spoke
 * (branch to branch through the HQ hub, `qos pre-classify` on the
 * tunnels), DMVPN phase 3 (through the hub, then the NHRP shortcut).
 *
 * The last branch joins late (--lateJoin, default 1 s): its VPN and its
 * first call, to BRANCH1, start then; "join ms" is the time from that
 * call's first packet to its first packet delivered that crossed the
 * provider encrypted (GET VPN: registration to the key server, then the
 * group SA; FlexVPN: IKE to the hub, then through it; DMVPN: IKE and NHRP
 * to the hub, the first packets through it), measured from packet events.
 *
 * Prints the side-by-side table and one verdict line per design, and
 * writes into --out: get-vs-flex.csv (the table), qos.csv (per flow and
 * per class), summary.txt, summary.json, voice-cdf.png (branch-to-branch
 * voice delay CDF per design; voice-cdf.txt the same drawn as text by
 * gnuplot's dumb terminal), p99-budget.png (per design and class p99
 * against its budget), delay-cdf.png, sas-per-router.png, with
 * --hqDelay=20ms,60ms,100ms also sweep.png (branch-to-branch voice p99
 * against HQ's delay), each router's configuration (DESIGN-ROUTER.cfg) and,
 * unless --pcap=false, a folder per design (DESIGN/, DESIGN@MSms/ with a
 * sweep) with BRANCH1's and HQ's access links (wan-BRANCH1.pcap,
 * wan-HQ.pcap: until the bulk TCP starts, then the measured window's first
 * 200 ms) and that design's Wireshark key files (DESIGN/wireshark/), so that
 *   XDG_CONFIG_HOME=OUT/DESIGN tshark -o esp.enable_encryption_decode:TRUE -r OUT/DESIGN/wan-HQ.pcap
 * shows every ESP and IKE packet decrypted.
 */

#include "get-vs-flex-scenario.h"

#include "ns3/core-module.h"
#include "ns3/gnuplot.h"
#include "ns3/vpn-module.h"

#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

using namespace ns3;

namespace
{

std::string
Fix(double v, int prec = 2)
{
    std::ostringstream s;
    s << std::fixed << std::setprecision(prec) << v;
    return s.str();
}

// One row of the table (and of get-vs-flex.csv), every value a string as printed.
struct Row
{
    std::vector<std::pair<std::string, std::string>> cols;
    void Set(const std::string& k, const std::string& v) { cols.emplace_back(k, v); }
    std::string Get(const std::string& k) const
    {
        for (const auto& c : cols)
        {
            if (c.first == k)
            {
                return c.second;
            }
        }
        return "";
    }
};

double
P99(std::vector<double> d)
{
    std::sort(d.begin(), d.end());
    std::vector<uint64_t> ns;
    for (double x : d)
    {
        ns.push_back(static_cast<uint64_t>(std::llround(x * 1e6)));
    }
    return vpn_qos_percentile(ns.data(), ns.size(), 99) / 1e6;
}

// Runs gnuplot on g in dir (through name.plt); true if it wrote a non-empty
// output file (name.png unless given).
bool
Plot(Gnuplot& g, const std::string& dir, const std::string& name, std::string output = "")
{
    std::string plt = dir + "/" + name + ".plt";
    {
        std::ofstream f(plt);
        g.GenerateOutput(f);
    }
    std::string cmd = "cd '" + dir + "' && gnuplot '" + name + ".plt' 2>/dev/null";
    if (std::system(cmd.c_str()) != 0)
    {
        return false;
    }
    std::ifstream png(dir + "/" + (output.empty() ? name + ".png" : output));
    return png && png.peek() != std::ifstream::traits_type::eof();
}

} // namespace

int
main(int argc, char* argv[])
{
    std::string out = "out/get-vs-flex";
    uint32_t branches = 6;
    std::string hqDelays = "20ms";
    uint32_t load = 1;
    double duration = 2;
    std::string accessDelay = "2ms";
    std::string coreDelay = "5ms";
    std::string accessRate = "10Mbps";
    double budget = 150;
    bool qos = true;
    bool pcap = true;
    std::string designs = "clear,getvpn,flexvpn,dmvpn";
    std::string lateJoin = "1s";
    CommandLine cmd(__FILE__);
    cmd.AddValue("out", "Output folder", out);
    cmd.AddValue("branches", "Branches besides HQ (2-20)", branches);
    cmd.AddValue("hqDelay", "HQ's provider (access link) delay; a list sweeps: 20ms,60ms,100ms", hqDelays);
    cmd.AddValue("load", "Bulk TCP flows from each branch to HQ (best effort)", load);
    cmd.AddValue("duration", "Measured seconds of voice and video", duration);
    cmd.AddValue("accessDelay", "Each branch's access link delay", accessDelay);
    cmd.AddValue("coreDelay", "Each MPLS core link's delay", coreDelay);
    cmd.AddValue("accessRate", "Branch access link rate", accessRate);
    cmd.AddValue("budget", "One-way voice budget, ms (ITU-T G.114: 150)", budget);
    cmd.AddValue("qos", "The CEs' LLQ policy (false: the WAN device's FIFO)", qos);
    cmd.AddValue("designs", "Designs to run, comma-separated", designs);
    cmd.AddValue("pcap", "Write BRANCH1's and HQ's access links and Wireshark keys per design", pcap);
    cmd.AddValue("lateJoin",
                 "When the last branch's VPN and its first call (to BRANCH1) start (200ms to 2.2s)",
                 lateJoin);
    cmd.Parse(argc, argv);
    if (!VpnMpi::SerialOnly("get-vs-flex"))
    {
        return 2;
    }
    if (branches < 2 || branches > 20 || duration < 0.5)
    {
        std::cerr << "--branches must be 2..20 and --duration at least 0.5\n";
        return 2;
    }
    const Time join(lateJoin);
    if (join < MilliSeconds(200) || join > MilliSeconds(2200))
    {
        std::cerr << "--lateJoin must be 200ms to 2.2s (the branch's first call is its first traffic)\n";
        return 2;
    }
    std::vector<Time> sweep;
    {
        std::istringstream s(hqDelays);
        for (std::string t; std::getline(s, t, ',');)
        {
            sweep.emplace_back(t);
        }
    }
    std::vector<std::string> run;
    {
        std::istringstream s(designs);
        for (std::string t; std::getline(s, t, ',');)
        {
            const auto& all = GetVsFlexDesigns();
            if (std::find(all.begin(), all.end(), t) == all.end())
            {
                std::cerr << "--designs: unknown design '" << t << "'\n";
                return 2;
            }
            run.push_back(t);
        }
    }
    SystemPath::MakeDirectories(out);
    GlobalValue::Bind("ChecksumEnabled", BooleanValue(true));

    VpnReport report("get-vs-flex: HQ and " + std::to_string(branches) + " branches over MPLS",
                     budget);
    report.SetClassBudget("AF41", 200);
    std::vector<Row> rows;
    struct Cdf
    {
        std::string label;
        std::vector<double> d;
    };
    std::vector<Cdf> cdfs;
    std::vector<std::pair<std::string, std::pair<uint32_t, uint32_t>>> sas;
    std::vector<std::pair<std::string, std::string>> pcapDirs; // design, folder
    for (const Time& hq : sweep)
    {
        std::string hqMs = Fix(hq.GetSeconds() * 1000, 0);
        for (const std::string& design : run)
        {
            GetVsFlexParams p;
            p.design = design;
            p.branches = branches;
            p.hqDelay = hq;
            p.accessDelay = Time(accessDelay);
            p.coreDelay = Time(coreDelay);
            p.accessRate = accessRate;
            p.load = load;
            p.duration = Seconds(duration);
            p.lateJoin = join;
            p.qos = qos ? GetVsFlexParams::DefaultQos() : "";
            std::string label = sweep.size() > 1 ? design + "@" + hqMs + "ms" : design;
            // one folder per run: its key files hold only its own SAs
            p.pcapDir = pcap ? out + "/" + label : "";
            if (pcap)
            {
                pcapDirs.push_back({design, p.pcapDir});
            }
            RngSeedManager::SetSeed(1);
            RngSeedManager::SetRun(1);
            GetVsFlexResult r = RunGetVsFlex(p);
            if (hq == sweep.front())
            {
                for (const auto& [router, text] : r.configs)
                {
                    std::ofstream(out + "/" + design + "-" + router + ".cfg") << text;
                }
            }
            std::vector<double> b2b, video;
            double worstP99 = -1, mosMin = 5, sent = 0, recv = 0;
            std::string worst;
            for (const GetVsFlexFlow& f : r.flows)
            {
                report.AddQosFlow(label, f.name, f.cls, f.codec, f.sum, f.delaysMs);
                if (f.cls == "BE")
                {
                    continue; // the probe (not asked for here)
                }
                if (f.cls == "AF41")
                {
                    video.insert(video.end(), f.delaysMs.begin(), f.delaysMs.end());
                    continue;
                }
                if (f.from != 0 && f.to != 0)
                {
                    b2b.insert(b2b.end(), f.delaysMs.begin(), f.delaysMs.end());
                }
                double p99 = f.sum.received ? f.sum.p99_ns / 1e6 : 1e9;
                if (p99 > worstP99)
                {
                    worstP99 = p99;
                    worst = f.name.substr(6);
                }
                sent += f.sum.sent;
                recv += f.sum.received;
                double rf = vpn_qos_emodel_voice(VPN_QOS_G711, f.sum.mean_ns / 1e6, f.sum.loss * 100);
                mosMin = std::min(mosMin, f.sum.received ? vpn_qos_mos(rf) : 1.0);
            }
            double b2bP50 = 0;
            if (!b2b.empty())
            {
                std::sort(b2b.begin(), b2b.end());
                b2bP50 = b2b[(b2b.size() - 1) / 2];
            }
            bool meets = worstP99 >= 0 && worstP99 <= budget && recv > 0;
            double over = r.voiceWireBytes - r.voiceClearBytes;
            Row row;
            row.Set("hq_delay_ms", hqMs);
            row.Set("design", design);
            row.Set("b2b_voice_p50_ms", Fix(b2bP50));
            row.Set("b2b_voice_p99_ms", Fix(P99(b2b)));
            row.Set("worst_voice_flow", worst);
            row.Set("worst_voice_p99_ms", Fix(worstP99));
            row.Set("budget_ms", Fix(budget, 0));
            row.Set("voice_mos_min", Fix(mosMin));
            row.Set("voice_loss_pct", Fix(sent ? 100.0 * (sent - recv) / sent : 0, 3));
            row.Set("overhead_bytes", Fix(over, 1));
            row.Set("overhead_pct", Fix(100.0 * over / r.voiceClearBytes, 1));
            row.Set("sas_hq", std::to_string(r.sasHq));
            row.Set("sas_branch", std::to_string(r.sasBranch));
            row.Set("ike_sas_hq", std::to_string(r.ikeSasHq));
            row.Set("ike_sas_branch", std::to_string(r.ikeSasBranch));
            row.Set("tunnels_hq", std::to_string(r.tunnelsHq));
            row.Set("tunnels_branch", std::to_string(r.tunnelsBranch));
            row.Set("control_msgs", std::to_string(r.controlPackets + r.nhrpMessages));
            row.Set("control_bytes", std::to_string(r.controlBytes));
            row.Set("nhrp_msgs", std::to_string(r.nhrpMessages));
            row.Set("video_p99_ms", Fix(P99(video)));
            row.Set("bulk_goodput_mbps", Fix(r.bulkGoodputBps / 1e6));
            row.Set("warmup_b2b_max_ms", Fix(r.warmupB2bMaxMs));
            row.Set("join_ms", Fix(r.joinSetupMs, 1));
            row.Set("join_sa_ms", Fix(r.joinSaMs, 1));
            row.Set("join_clear_delivered", std::to_string(r.joinClearDelivered));
            row.Set("voice_clear_pre_sa", std::to_string(r.voiceClearPackets - r.voiceClearAfterSa));
            row.Set("voice_clear_after_sa", std::to_string(r.voiceClearAfterSa));
            row.Set("verdict", meets ? "meets" : "breaks");
            rows.push_back(row);
            for (const auto& [k, v] : row.cols)
            {
                if (k != "design" && k != "hq_delay_ms")
                {
                    report.Add(label + "_" + k, v);
                }
            }
            cdfs.push_back({label, b2b});
            if (hq == sweep.front())
            {
                sas.push_back({design, {r.sasHq, r.sasBranch}});
            }
        }
    }

    // ---- the table, from the same strings as the CSV
    std::ostringstream t;
    t << "GET VPN vs FlexVPN vs DMVPN: HQ and " << branches << " branches over MPLS, --load="
      << load << " bulk TCP per branch, " << duration << " s measured, budget " << budget
      << " ms one-way\n\n";
    const std::vector<std::pair<std::string, std::string>> shown = {
        {"hq_delay_ms", "hqDelay"},   {"design", "design"},
        {"b2b_voice_p99_ms", "b2b voice p99 ms"}, {"worst_voice_p99_ms", "worst p99 ms"},
        {"worst_voice_flow", "worst flow"}, {"voice_mos_min", "MOS min"},
        {"voice_loss_pct", "loss %"},  {"overhead_bytes", "overhead B"},
        {"overhead_pct", "overhead %"}, {"sas_hq", "SAs HQ"},
        {"sas_branch", "SAs branch"},  {"control_msgs", "control msgs"},
        {"join_ms", "join ms"},        {"voice_clear_pre_sa", "clear pre-SA"},
    };
    std::vector<size_t> w;
    for (const auto& [k, h] : shown)
    {
        size_t m = h.size();
        for (const Row& r : rows)
        {
            m = std::max(m, r.Get(k).size());
        }
        w.push_back(m);
    }
    auto line = [&](const std::function<std::string(size_t)>& cell) {
        t << "|";
        for (size_t i = 0; i < shown.size(); i++)
        {
            std::string c = cell(i);
            t << " " << c << std::string(w[i] - c.size(), ' ') << " |";
        }
        t << "\n";
    };
    line([&](size_t i) { return shown[i].second; });
    line([&](size_t i) { return std::string(w[i], '-'); });
    for (const Row& r : rows)
    {
        line([&](size_t i) { return r.Get(shown[i].first); });
    }
    t << "\njoin ms: BRANCH" << branches << " joins at " << join.GetSeconds()
      << " s: from its first call's first packet to the first one\n"
      << "  delivered to BRANCH1 that crossed the provider encrypted (clear: the first delivered).\n"
      << "clear pre-SA: voice that left a CE in clear before its router had an SA (GET VPN\n"
      << "  before registration: IOS's default without fail-close; registered members drop it).\n\n";
    for (const Row& r : rows)
    {
        bool m = r.Get("verdict") == "meets";
        t << "verdict " << r.Get("design") << " (hqDelay " << r.Get("hq_delay_ms") << " ms): voice "
          << (m ? "MEETS" : "BREAKS") << " the " << r.Get("budget_ms") << " ms budget (worst flow "
          << r.Get("worst_voice_flow") << " p99 " << r.Get("worst_voice_p99_ms") << " ms)\n";
    }
    std::cout << t.str();

    {
        std::ofstream csv(out + "/get-vs-flex.csv");
        for (size_t i = 0; i < rows.front().cols.size(); i++)
        {
            csv << (i ? "," : "") << rows.front().cols[i].first;
        }
        csv << "\n";
        for (const Row& r : rows)
        {
            for (size_t i = 0; i < r.cols.size(); i++)
            {
                csv << (i ? "," : "") << r.cols[i].second;
            }
            csv << "\n";
        }
    }
    std::string rep = report.Write(out);
    std::ofstream(out + "/summary.txt") << t.str() << "\n" << rep;
    report.WriteCsv(out);
    size_t pngs = report.WritePlots(out).size();

    // ---- voice CDF per design, SAs per router, the sweep
    // the same plot as text too (gnuplot's dumb terminal), for a terminal or a README
    Gnuplot cdf("voice-cdf.png");
    Gnuplot cdfText("voice-cdf.txt");
    cdf.SetTerminal("pngcairo size 900,560");
    cdfText.SetTerminal("dumb size 100,30");
    for (Gnuplot* g : {&cdf, &cdfText})
    {
        g->SetTitle("branch-to-branch voice (EF): one-way delay CDF per design");
        g->SetLegend("one-way delay (ms)", "fraction of packets");
        // text has no room below the curves: the key goes in the middle
        g->AppendExtra(g == &cdf ? "set key bottom right" : "set key center center");
        g->AppendExtra("set yrange [0:1]");
        g->AppendExtra("set arrow from " + Fix(budget, 0) + ",0 to " + Fix(budget, 0) +
                       ",1 nohead" + (g == &cdf ? " lc rgb 'red' dt 2" : ""));
    }
    for (Cdf& c : cdfs)
    {
        Gnuplot2dDataset ds(c.label);
        ds.SetStyle(Gnuplot2dDataset::STEPS);
        for (size_t i = 0; i < c.d.size(); i++)
        {
            ds.Add(c.d[i], double(i + 1) / c.d.size());
        }
        if (!c.d.empty())
        {
            cdf.AddDataset(ds);
            cdfText.AddDataset(ds);
        }
    }
    pngs += Plot(cdf, out, "voice-cdf");
    bool cdfTextOk = Plot(cdfText, out, "voice-cdf-text", "voice-cdf.txt");

    Gnuplot bars("sas-per-router.png");
    bars.SetTerminal("pngcairo size 900,560 butt");
    bars.SetTitle("IPsec SAs per router (hqDelay " + Fix(sweep.front().GetSeconds() * 1000, 0) + " ms)");
    bars.SetLegend("", "IPsec SAs");
    uint32_t most = 1;
    for (const auto& e : sas)
    {
        most = std::max({most, e.second.first, e.second.second});
    }
    bars.AppendExtra("set yrange [0:" + std::to_string(most + most / 4 + 1) + "]");
    bars.AppendExtra("set key top left");
    std::ostringstream tics;
    tics << "set xtics (";
    Gnuplot2dDataset hqSa("HQ");
    hqSa.SetStyle(Gnuplot2dDataset::IMPULSES);
    hqSa.SetExtra("lw 30 lc rgb '#4060a0'");
    Gnuplot2dDataset brSa("a branch (BRANCH1)");
    brSa.SetStyle(Gnuplot2dDataset::IMPULSES);
    brSa.SetExtra("lw 30 lc rgb '#e08020'");
    for (size_t i = 0; i < sas.size(); i++)
    {
        tics << (i ? ", " : "") << "\"" << sas[i].first << "\" " << i;
        hqSa.Add(i - 0.15, sas[i].second.first);
        brSa.Add(i + 0.15, sas[i].second.second);
    }
    tics << ")";
    bars.AppendExtra(tics.str());
    bars.AppendExtra("set xrange [-0.6:" + Fix(sas.size() - 0.4, 1) + "]");
    bars.AddDataset(hqSa);
    bars.AddDataset(brSa);
    pngs += Plot(bars, out, "sas-per-router");
    size_t want = 4;
    if (sweep.size() > 1)
    {
        Gnuplot sw("sweep.png");
        sw.SetTerminal("pngcairo size 900,560");
        sw.SetTitle("branch-to-branch voice p99 against HQ's provider delay");
        sw.SetLegend("HQ provider delay (ms)", "p99 one-way delay (ms)");
        sw.AppendExtra("set key top left");
        sw.AppendExtra("set yrange [0:*]");
        sw.AppendExtra("set arrow from graph 0, first " + Fix(budget, 0) + " to graph 1, first " +
                       Fix(budget, 0) + " nohead lc rgb 'red' dt 2");
        for (const std::string& design : run)
        {
            Gnuplot2dDataset ds(design);
            ds.SetStyle(Gnuplot2dDataset::LINES_POINTS);
            for (const Row& r : rows)
            {
                if (r.Get("design") == design)
                {
                    ds.Add(std::stod(r.Get("hq_delay_ms")), std::stod(r.Get("b2b_voice_p99_ms")));
                }
            }
            sw.AddDataset(ds);
        }
        pngs += Plot(sw, out, "sweep");
        want++;
    }
    std::cout << "\nTable: " << out << "/get-vs-flex.csv; plots: " << out << "/voice-cdf.png, "
              << out << "/p99-budget.png, " << out << "/sas-per-router.png"
              << (sweep.size() > 1 ? ", " + out + "/sweep.png" : "") << " (the voice CDF as text: "
              << out << "/voice-cdf.txt)\n";
    if (!pcapDirs.empty())
    {
        std::cout << "\nCaptures of BRANCH1's and HQ's WAN links (wan-BRANCH1.pcap, wan-HQ.pcap),"
                  << " each folder with its design's Wireshark keys:\n";
        for (const auto& [design, dir] : pcapDirs)
        {
            std::cout << "  " << dir << "/\n";
        }
        std::cout << "Read one decrypted (ESP, IKEv2, GDOI):\n";
        for (const auto& [design, dir] : pcapDirs)
        {
            if (design != "clear")
            {
                std::cout << "  XDG_CONFIG_HOME=" << dir
                          << " tshark -o esp.enable_encryption_decode:TRUE -r " << dir
                          << "/wan-BRANCH1.pcap\n";
            }
        }
    }
    if (pngs != want || !cdfTextOk)
    {
        std::cerr << "get-vs-flex: gnuplot did not draw every plot (is gnuplot installed? ./scripts/deps)\n";
        return 1;
    }
    return 0;
}
