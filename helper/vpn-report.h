/*
 * The summary an example writes beside its traces: a few facts (SAs,
 * packets encrypted and decrypted) and, per flow measured by FlowMonitor,
 * one-way delay, jitter and loss with a verdict against a delay budget
 * (150 ms one-way for voice, ITU-T G.114). Written as summary.txt for
 * people and summary.json for scripts.
 *
 * QoS flows measured at their receivers (QosFlowSink) add, per flow and per
 * class: one-way delay p50/p95/p99/max, RFC 3550 jitter, loss, for voice the
 * G.107 R-factor and MOS, and a verdict of p99 against the class's budget;
 * also written as qos.csv, with PNG plots (delay CDF per class, per-class
 * p99 against its budget) drawn by gnuplot through ns-3's Gnuplot class.
 */
#ifndef VPN_REPORT_H
#define VPN_REPORT_H

#include "ns3/flow-monitor-helper.h"
#include "ns3/flow-monitor.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

extern "C"
{
#include "qos/qos-metrics.h"
}

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
    /** A measured figure (a JSON number with 3 decimals), e.g. a delay in ms. */
    void AddFigure(const std::string& key, double value);

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

    /**
     * Adds one QoS flow measured at its receiver. \p design groups flows of
     * one run (e.g. "llq", "fifo"); \p cls is the class ("EF", "AF41",
     * "BE"); \p codec "G.711", "G.711+PLC" or "G.729" for voice (E-model),
     * "" otherwise; \p delaysMs the flow's delays for the CDF (may be empty).
     */
    void AddQosFlow(const std::string& design,
                    const std::string& name,
                    const std::string& cls,
                    const std::string& codec,
                    const vpn_qos_summary& sum,
                    const std::vector<double>& delaysMs = {});

    /** One-way budget of class \p cls in ms (EF: the report's budget unless set; others: none). */
    void SetClassBudget(const std::string& cls, double ms);

    /** Writes <dir>/summary.txt and <dir>/summary.json; returns the text. */
    std::string Write(const std::string& dir) const;

    /** Writes <dir>/qos.csv (one row per QoS flow, then one per class); returns its path. */
    std::string WriteCsv(const std::string& dir) const;

    /**
     * Writes delay-cdf.png and p99-budget.png (and their .plt sources) into
     * \p dir with gnuplot; returns the PNGs written (empty if gnuplot failed).
     */
    std::vector<std::string> WritePlots(const std::string& dir) const;

  private:
    struct QosFlow
    {
        std::string design, name, cls, codec;
        vpn_qos_summary sum;
        std::vector<double> delaysMs;
        double r, mos; // E-model; r < 0: not voice
    };
    struct QosClass
    {
        std::string design, cls;
        uint64_t sent, received;
        double p50, p95, p99, max, jitter, lossPct, budget;
        std::vector<double> delaysMs;
    };
    double Budget(const std::string& cls) const;
    std::vector<QosClass> Classes() const;
    std::vector<QosFlow> m_qos;
    std::map<std::string, double> m_classBudget;

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
