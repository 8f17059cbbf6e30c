#include "vpn-report.h"

#include "ns3/abort.h"
#include "ns3/gnuplot.h"
#include "ns3/ipv4-flow-classifier.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <sstream>

namespace ns3
{

namespace
{
std::string
JsonString(const std::string& s)
{
    std::string out = "\"";
    for (char c : s)
    {
        if (c == '"' || c == '\\')
        {
            out += '\\';
        }
        if (static_cast<unsigned char>(c) < 0x20)
        {
            char esc[8];
            std::snprintf(esc, sizeof esc, "\\u%04x", c);
            out += esc;
            continue;
        }
        out += c;
    }
    return out + "\"";
}
} // namespace

VpnReport::VpnReport(const std::string& title, double budgetMs)
    : m_title(title),
      m_budgetMs(budgetMs)
{
}

void
VpnReport::Add(const std::string& key, const std::string& value)
{
    m_facts.emplace_back(key, JsonString(value));
    m_text.push_back(key + ": " + value);
}

void
VpnReport::Add(const std::string& key, uint64_t value)
{
    m_facts.emplace_back(key, std::to_string(value));
    m_text.push_back(key + ": " + std::to_string(value));
}

void
VpnReport::AddFigure(const std::string& key, double value)
{
    std::ostringstream s;
    s << std::fixed << std::setprecision(3) << (std::isfinite(value) ? value : 0.0);
    m_facts.emplace_back(key, s.str());
    m_text.push_back(key + ": " + s.str());
}

void
VpnReport::AddFlows(FlowMonitorHelper& helper, Ptr<FlowMonitor> monitor)
{
    monitor->CheckForLostPackets();
    Ptr<Ipv4FlowClassifier> classifier = DynamicCast<Ipv4FlowClassifier>(helper.GetClassifier());
    for (const auto& [id, st] : monitor->GetFlowStats())
    {
        Ipv4FlowClassifier::FiveTuple t = classifier->FindFlow(id);
        std::ostringstream src;
        std::ostringstream dst;
        src << t.sourceAddress << ":" << t.sourcePort;
        dst << t.destinationAddress << ":" << t.destinationPort;
        Flow f;
        f.src = src.str();
        f.dst = dst.str();
        f.sent = st.txPackets;
        f.received = st.rxPackets;
        f.meanMs = st.rxPackets ? st.delaySum.GetSeconds() * 1000.0 / st.rxPackets : 0.0;
        f.jitterMs = st.rxPackets > 1 ? st.jitterSum.GetSeconds() * 1000.0 / (st.rxPackets - 1) : 0.0;
        f.lossPct = st.txPackets ? 100.0 * (st.txPackets - st.rxPackets) / st.txPackets : 0.0;
        m_flows.push_back(f);
    }
}

void
VpnReport::AddFlow(const std::string& src,
                   const std::string& dst,
                   uint32_t sent,
                   uint32_t received,
                   double meanDelayMs,
                   double meanJitterMs)
{
    Flow f;
    f.src = src;
    f.dst = dst;
    f.sent = sent;
    f.received = received;
    f.meanMs = meanDelayMs;
    f.jitterMs = meanJitterMs;
    f.lossPct = sent && received <= sent ? 100.0 * (sent - received) / sent : 0.0;
    m_flows.push_back(f);
}

std::string
VpnReport::Write(const std::string& dir) const
{
    std::ostringstream txt;
    std::ostringstream json;
    txt << m_title << "\n";
    for (const auto& line : m_text)
    {
        txt << line << "\n";
    }
    json << "{\n  \"title\": " << JsonString(m_title);
    for (const auto& [key, value] : m_facts)
    {
        json << ",\n  " << JsonString(key) << ": " << value;
    }
    txt << "flows (one-way, measured at the hosts; budget " << m_budgetMs << " ms):\n";
    json << ",\n  \"budget_ms\": " << m_budgetMs << ",\n  \"flows\": [";
    bool first = true;
    for (const Flow& f : m_flows)
    {
        bool within = f.received > 0 && f.meanMs <= m_budgetMs;
        txt << "  " << f.src << " -> " << f.dst << ": sent " << f.sent << ", received " << f.received
            << std::fixed << std::setprecision(3) << ", mean delay " << f.meanMs << " ms, mean jitter "
            << f.jitterMs << " ms, loss " << std::setprecision(1) << f.lossPct << "% -> "
            << (within ? "within" : "OVER") << " budget\n";
        json << (first ? "" : ",") << "\n    {\"src\": " << JsonString(f.src) << ", \"dst\": "
             << JsonString(f.dst) << ", \"sent\": " << f.sent << ", \"received\": " << f.received
             << std::fixed << std::setprecision(3) << ", \"mean_delay_ms\": " << f.meanMs
             << ", \"mean_jitter_ms\": " << f.jitterMs << ", \"loss_pct\": " << std::setprecision(1)
             << f.lossPct << ", \"within_budget\": " << (within ? "true" : "false") << "}";
        first = false;
    }
    json << "\n  ]";
    if (!m_qos.empty())
    {
        txt << "QoS flows (measured at the receivers; verdict: p99 against the class budget):\n";
        json << ",\n  \"qos_flows\": [";
        first = true;
        for (const QosFlow& q : m_qos)
        {
            double budget = Budget(q.cls);
            bool within = q.sum.received > 0 && q.sum.p99_ns / 1e6 <= budget;
            txt << "  [" << q.design << "] " << q.name << " (" << q.cls << "): sent " << q.sum.sent
                << ", received " << q.sum.received << std::fixed << std::setprecision(2) << ", p50 "
                << q.sum.p50_ns / 1e6 << " / p95 " << q.sum.p95_ns / 1e6 << " / p99 "
                << q.sum.p99_ns / 1e6 << " / max " << q.sum.max_ns / 1e6 << " ms, jitter "
                << q.sum.jitter_ns / 1e6 << " ms, loss " << q.sum.loss * 100 << "%";
            if (q.r >= 0)
            {
                txt << ", R " << std::setprecision(1) << q.r << ", MOS " << std::setprecision(2)
                    << q.mos;
            }
            if (budget > 0)
            {
                txt << " -> " << (within ? "within" : "OVER") << " " << std::setprecision(0)
                    << budget << " ms";
            }
            txt << "\n";
            json << (first ? "" : ",") << "\n    {\"design\": " << JsonString(q.design)
                 << ", \"flow\": " << JsonString(q.name) << ", \"class\": " << JsonString(q.cls)
                 << ", \"codec\": " << JsonString(q.codec) << ", \"sent\": " << q.sum.sent
                 << ", \"received\": " << q.sum.received << std::fixed << std::setprecision(3)
                 << ", \"p50_ms\": " << q.sum.p50_ns / 1e6 << ", \"p95_ms\": " << q.sum.p95_ns / 1e6
                 << ", \"p99_ms\": " << q.sum.p99_ns / 1e6 << ", \"max_ms\": " << q.sum.max_ns / 1e6
                 << ", \"jitter_ms\": " << q.sum.jitter_ns / 1e6 << ", \"loss_pct\": "
                 << q.sum.loss * 100;
            if (q.r >= 0)
            {
                json << ", \"r\": " << q.r << ", \"mos\": " << q.mos;
            }
            if (budget > 0)
            {
                json << ", \"budget_ms\": " << budget
                     << ", \"within_budget\": " << (within ? "true" : "false");
            }
            json << "}";
            first = false;
        }
        json << "\n  ],\n  \"qos_classes\": [";
        txt << "QoS classes:\n";
        first = true;
        for (const QosClass& c : Classes())
        {
            bool within = c.received > 0 && c.p99 <= c.budget;
            txt << "  [" << c.design << "] " << c.cls << ": p50 " << std::fixed
                << std::setprecision(2)
                << c.p50 << " / p95 " << c.p95 << " / p99 " << c.p99 << " / max " << c.max
                << " ms, jitter (worst flow) " << c.jitter << " ms, loss " << c.lossPct << "%";
            if (c.budget > 0)
            {
                txt << " -> " << (within ? "within" : "OVER") << " " << std::setprecision(0)
                    << c.budget << " ms";
            }
            txt << "\n";
            json << (first ? "" : ",") << "\n    {\"design\": " << JsonString(c.design)
                 << ", \"class\": " << JsonString(c.cls) << ", \"sent\": " << c.sent
                 << ", \"received\": " << c.received << std::fixed << std::setprecision(3)
                 << ", \"p50_ms\": " << c.p50 << ", \"p95_ms\": " << c.p95
                 << ", \"p99_ms\": " << c.p99
                 << ", \"max_ms\": " << c.max << ", \"jitter_ms\": " << c.jitter
                 << ", \"loss_pct\": " << c.lossPct;
            if (c.budget > 0)
            {
                json << ", \"budget_ms\": " << c.budget
                     << ", \"within_budget\": " << (within ? "true" : "false");
            }
            json << "}";
            first = false;
        }
        json << "\n  ]";
    }
    json << "\n}\n";
    std::ofstream t(dir + "/summary.txt");
    std::ofstream j(dir + "/summary.json");
    NS_ABORT_MSG_IF(!t || !j, "cannot write the summary into " << dir);
    t << txt.str();
    j << json.str();
    return txt.str();
}

void
VpnReport::AddQosFlow(const std::string& design,
                      const std::string& name,
                      const std::string& cls,
                      const std::string& codec,
                      const vpn_qos_summary& sum,
                      const std::vector<double>& delaysMs)
{
    QosFlow q;
    q.design = design;
    q.name = name;
    q.cls = cls;
    q.codec = codec;
    q.sum = sum;
    q.delaysMs = delaysMs;
    std::sort(q.delaysMs.begin(), q.delaysMs.end());
    q.r = -1;
    q.mos = 0;
    if (!codec.empty() && sum.received > 0)
    {
        // G.107 with the mean one-way delay (T = Ta) and the measured loss.
        vpn_qos_codec c = codec == "G.729"       ? VPN_QOS_G729A
                          : codec == "G.711+PLC" ? VPN_QOS_G711_PLC
                                                 : VPN_QOS_G711;
        q.r = vpn_qos_emodel_voice(c, sum.mean_ns / 1e6, sum.loss * 100);
        q.mos = vpn_qos_mos(q.r);
    }
    m_qos.push_back(q);
}

void
VpnReport::SetClassBudget(const std::string& cls, double ms)
{
    m_classBudget[cls] = ms;
}

double
VpnReport::Budget(const std::string& cls) const
{
    auto it = m_classBudget.find(cls);
    if (it != m_classBudget.end())
    {
        return it->second;
    }
    return cls == "EF" ? m_budgetMs : 0.0;
}

std::vector<VpnReport::QosClass>
VpnReport::Classes() const
{
    std::vector<QosClass> out;
    for (const QosFlow& q : m_qos)
    {
        auto it = std::find_if(out.begin(), out.end(), [&](const QosClass& c) {
            return c.design == q.design && c.cls == q.cls;
        });
        if (it == out.end())
        {
            QosClass c{};
            c.design = q.design;
            c.cls = q.cls;
            c.budget = Budget(q.cls);
            out.push_back(c);
            it = out.end() - 1;
        }
        it->sent += q.sum.sent;
        it->received += q.sum.received;
        it->jitter = std::max(it->jitter, q.sum.jitter_ns / 1e6);
        it->delaysMs.insert(it->delaysMs.end(), q.delaysMs.begin(), q.delaysMs.end());
    }
    for (QosClass& c : out)
    {
        // Percentiles over every packet of the class (nearest rank, as the core does).
        std::sort(c.delaysMs.begin(), c.delaysMs.end());
        std::vector<uint64_t> ns;
        for (double d : c.delaysMs)
        {
            ns.push_back(static_cast<uint64_t>(std::llround(d * 1e6)));
        }
        c.p50 = vpn_qos_percentile(ns.data(), ns.size(), 50) / 1e6;
        c.p95 = vpn_qos_percentile(ns.data(), ns.size(), 95) / 1e6;
        c.p99 = vpn_qos_percentile(ns.data(), ns.size(), 99) / 1e6;
        c.max = ns.empty() ? 0 : ns.back() / 1e6;
        c.lossPct = c.sent && c.received <= c.sent ? 100.0 * (c.sent - c.received) / c.sent : 0.0;
    }
    return out;
}

std::string
VpnReport::WriteCsv(const std::string& dir) const
{
    std::string path = dir + "/qos.csv";
    std::ofstream f(path);
    NS_ABORT_MSG_IF(!f, "cannot write " << path);
    f << "row,design,flow,class,codec,sent,received,loss_pct,p50_ms,p95_ms,p99_ms,max_ms,jitter_ms,"
         "r,mos,budget_ms,verdict\n";
    f << std::fixed;
    for (const QosFlow& q : m_qos)
    {
        double budget = Budget(q.cls);
        bool within = q.sum.received > 0 && q.sum.p99_ns / 1e6 <= budget;
        f << "flow," << q.design << "," << q.name << "," << q.cls << "," << q.codec << ","
          << q.sum.sent << "," << q.sum.received << "," << std::setprecision(3) << q.sum.loss * 100
          << "," << q.sum.p50_ns / 1e6 << "," << q.sum.p95_ns / 1e6 << "," << q.sum.p99_ns / 1e6
          << "," << q.sum.max_ns / 1e6 << "," << q.sum.jitter_ns / 1e6 << ",";
        if (q.r >= 0)
        {
            f << q.r << "," << q.mos;
        }
        else
        {
            f << ",";
        }
        f << "," << (budget > 0 ? std::to_string(budget) : "") << ","
          << (budget > 0 ? (within ? "within" : "over") : "") << "\n";
    }
    for (const QosClass& c : Classes())
    {
        bool within = c.received > 0 && c.p99 <= c.budget;
        f << "class," << c.design << ",," << c.cls << ",," << c.sent << "," << c.received << ","
          << std::setprecision(3) << c.lossPct << "," << c.p50 << "," << c.p95 << "," << c.p99
          << ","
          << c.max << "," << c.jitter << ",,," << (c.budget > 0 ? std::to_string(c.budget) : "")
          << "," << (c.budget > 0 ? (within ? "within" : "over") : "") << "\n";
    }
    return path;
}

std::vector<std::string>
VpnReport::WritePlots(const std::string& dir) const
{
    std::vector<std::string> made;
    std::vector<QosClass> classes = Classes();
    if (classes.empty())
    {
        return made;
    }
    // Delay CDF per design and class.
    Gnuplot cdf("delay-cdf.png");
    cdf.SetTerminal("pngcairo size 900,560");
    cdf.SetTitle(m_title + ": one-way delay CDF per class");
    cdf.SetLegend("one-way delay (ms)", "fraction of packets");
    cdf.AppendExtra("set key bottom right");
    cdf.AppendExtra("set logscale x");
    cdf.AppendExtra("set yrange [0:1]");
    for (const QosClass& c : classes)
    {
        Gnuplot2dDataset ds(c.design + " " + c.cls);
        ds.SetStyle(Gnuplot2dDataset::STEPS);
        for (size_t i = 0; i < c.delaysMs.size(); i++)
        {
            ds.Add(std::max(c.delaysMs[i], 0.01), double(i + 1) / c.delaysMs.size());
        }
        if (!c.delaysMs.empty())
        {
            cdf.AddDataset(ds);
        }
    }
    // Per-class p99 against its budget.
    Gnuplot bars("p99-budget.png");
    bars.SetTerminal("pngcairo size 900,560 butt"); // butt: bars end at their value
    bars.SetTitle(m_title + ": p99 one-way delay per class against its budget");
    bars.SetLegend("", "p99 one-way delay (ms)");
    bars.AppendExtra("set key outside right top");
    bars.AppendExtra("set yrange [0:*]");
    std::ostringstream tics;
    tics << "set xtics (";
    Gnuplot2dDataset p99("p99");
    p99.SetStyle(Gnuplot2dDataset::IMPULSES);
    p99.SetExtra("lw 40 lc rgb '#4060a0'");
    Gnuplot2dDataset budget("budget");
    budget.SetStyle(Gnuplot2dDataset::POINTS);
    budget.SetExtra("pt 7 ps 2 lc rgb 'red'");
    bool anyBudget = false;
    for (size_t i = 0; i < classes.size(); i++)
    {
        tics << (i ? ", " : "") << "\"" << classes[i].design << " " << classes[i].cls << "\" " << i;
        p99.Add(i, classes[i].p99);
        if (classes[i].budget > 0)
        {
            budget.Add(i, classes[i].budget);
            anyBudget = true;
        }
    }
    tics << ")";
    bars.AppendExtra(tics.str());
    bars.AppendExtra("set xrange [-0.6:" + std::to_string(classes.size() - 0.4) + "]");
    bars.AddDataset(p99);
    if (anyBudget)
    {
        bars.AddDataset(budget);
    }
    struct Out
    {
        Gnuplot* g;
        std::string name;
    };
    for (const Out& o : {Out{&cdf, "delay-cdf"}, Out{&bars, "p99-budget"}})
    {
        std::string plt = dir + "/" + o.name + ".plt";
        {
            std::ofstream f(plt);
            NS_ABORT_MSG_IF(!f, "cannot write " << plt);
            o.g->GenerateOutput(f);
        }
        std::string cmd = "cd '" + dir + "' && gnuplot '" + o.name + ".plt' 2>/dev/null";
        std::ifstream png;
        if (std::system(cmd.c_str()) == 0)
        {
            png.open(dir + "/" + o.name + ".png");
            if (png && png.peek() != std::ifstream::traits_type::eof())
            {
                made.push_back(dir + "/" + o.name + ".png");
            }
        }
    }
    return made;
}

} // namespace ns3
