/*
 * The summary an example writes beside its traces: a few facts (SAs,
 * packets encrypted and decrypted) and, per flow measured by FlowMonitor,
 * one-way delay, jitter and loss with a verdict against a delay budget
 * (150 ms one-way for voice, ITU-T G.114). Written as summary.txt for
 * people and summary.json for scripts.
 */
#ifndef VPN_REPORT_H
#define VPN_REPORT_H

#include "ns3/flow-monitor-helper.h"
#include "ns3/flow-monitor.h"

#include <string>
#include <utility>
#include <vector>

namespace ns3
{

/**
 * \ingroup vpn
 * \brief Collects an example's results and writes summary.txt and summary.json.
 */
class VpnReport
{
  public:
    /** \p title heads the text; \p budgetMs is the one-way delay budget. */
    VpnReport(const std::string& title, double budgetMs = 150.0);

    /** A fact: shown as "key: value" and stored as a JSON string or number. */
    void Add(const std::string& key, const std::string& value);
    void Add(const std::string& key, uint64_t value);

    /** Adds every flow FlowMonitor saw (call after Simulator::Run). */
    void AddFlows(FlowMonitorHelper& helper, Ptr<FlowMonitor> monitor);

    /**
     * Adds one flow measured by the example itself (e.g. one receiver of a
     * multicast flow, which FlowMonitor would count once per receiver).
     */
    void AddFlow(const std::string& src,
                 const std::string& dst,
                 uint32_t sent,
                 uint32_t received,
                 double meanDelayMs,
                 double meanJitterMs);

    /** Writes <dir>/summary.txt and <dir>/summary.json; returns the text. */
    std::string Write(const std::string& dir) const;

  private:
    struct Flow
    {
        std::string src, dst;
        uint32_t sent, received;
        double meanMs, jitterMs, lossPct;
    };
    std::string m_title;
    double m_budgetMs;
    std::vector<std::pair<std::string, std::string>> m_facts; // value already JSON-encoded
    std::vector<std::string> m_text;
    std::vector<Flow> m_flows;
};

} // namespace ns3

#endif
