#include "vpn-report.h"

#include "ns3/abort.h"
#include "ns3/ipv4-flow-classifier.h"

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
    json << "\n  ]\n}\n";
    std::ofstream t(dir + "/summary.txt");
    std::ofstream j(dir + "/summary.json");
    NS_ABORT_MSG_IF(!t || !j, "cannot write the summary into " << dir);
    t << txt.str();
    j << json.str();
    return txt.str();
}

} // namespace ns3
