/*
 * The loaded access link of a branch, as the QoS example and the qos-llq
 * suite run it: hosts -- CE ==(access link)== PE -- hosts. Across the
 * access link: EF voice (RTP, G.711 and G.729), AF41 video, a best-effort
 * UDP probe, and bulk TCP (BulkSend) that fills the link. The CE's egress
 * onto the access link runs either an IOS `service-policy output` (from
 * the CE's configuration text) or, as a router without a policy, one FIFO.
 */
#ifndef QOS_LLQ_SCENARIO_H
#define QOS_LLQ_SCENARIO_H

#include "ns3/nstime.h"

#include <string>
#include <vector>

extern "C"
{
#include "qos/qos-metrics.h"
}

namespace ns3
{

/** \ingroup vpn What to run. */
struct QosLlqParams
{
    std::string ceConfig;                 //!< IOS text of the CE; "" = no policy (FIFO)
    std::string ceWanIf = "Serial0/0/0";  //!< the CE interface holding service-policy output
    uint64_t accessBps = 2000000;         //!< the access link's rate
    Time accessDelay = MilliSeconds(10);  //!< its propagation delay
    uint32_t bulkFlows = 2;               //!< BulkSend TCP flows (0: unloaded)
    bool voice = true;
    bool video = true;
    Time duration = Seconds(10);
    uint32_t fifoPackets = 40;            //!< the FIFO without a policy
    std::string pcapPrefix;               //!< "" = no traces
};

/** \ingroup vpn One measured flow. */
struct QosLlqFlow
{
    std::string name;     //!< "voice-g711", "video", ...
    std::string cls;      //!< "EF", "AF41", "BE"
    std::string codec;    //!< "G.711", "G.729", "" for non-voice
    uint8_t dscp;
    vpn_qos_summary sum;
    std::vector<double> delaysMs; //!< sorted
};

/** \ingroup vpn What came out. */
struct QosLlqResult
{
    std::vector<QosLlqFlow> flows;
    double bulkGoodputBps = 0;  //!< TCP goodput from 2 s (when RTP starts) to the end
    std::string showPolicyMap;  //!< `show policy-map interface` at the end ("" without a policy)
    std::string error;          //!< non-empty: the CE configuration was refused
    /// The CE's queue disc at the end as ns-3 counts it (QueueDisc::GetStats,
    /// GetNPackets) and as the policy's classes count it (sums over classes);
    /// all zero without a policy.
    struct QdiscCounts
    {
        uint64_t received = 0;       //!< QueueDisc: offered
        uint64_t droppedBefore = 0;  //!< QueueDisc: dropped before enqueue
        uint64_t enqueued = 0;       //!< QueueDisc: enqueued
        uint64_t dequeued = 0;       //!< QueueDisc: dequeued
        uint64_t queuedNow = 0;      //!< QueueDisc::GetNPackets at the end
        uint64_t classMatched = 0;   //!< classes: offered
        uint64_t classDropped = 0;   //!< classes: tail and policer drops
        uint64_t classSent = 0;      //!< classes: sent
        uint64_t classDepth = 0;     //!< classes: queued at the end
    } qdisc;
};

/** Builds, runs and tears down one simulation. */
QosLlqResult RunQosLlq(const QosLlqParams& p);

} // namespace ns3

#endif
