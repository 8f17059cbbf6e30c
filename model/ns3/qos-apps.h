/*
 * Traffic that marks DSCP and is measured at its receiver:
 *  - QosRtpSource: RTP over UDP (RFC 3550 5.1 header from the C core).
 *    Voice: a payload every Interval (G.711: 160 bytes / 20 ms, PT 0;
 *    G.729: 20 bytes / 20 ms, PT 18), EF. Video (VideoFrameRate > 0): frames
 *    of varying size (an I-frame every GOP frames is 4x larger, others vary
 *    +-50 %), split into MaxPayload-sized packets, marker on a frame's
 *    last, AF41. The first 16 payload bytes carry a probe (send time, flow,
 *    sequence) so delay is measured however the packet was tunnelled.
 *  - QosFlowSink: receives such packets on a port and keeps, per flow, the
 *    one-way delays and RFC 3550 jitter (model/core/qos/qos-metrics.h).
 * Bulk best effort uses ns-3's BulkSendApplication.
 */
#ifndef QOS_APPS_H
#define QOS_APPS_H

#include "ns3/address.h"
#include "ns3/application.h"
#include "ns3/event-id.h"
#include "ns3/nstime.h"
#include "ns3/random-variable-stream.h"
#include "ns3/socket.h"

#include <map>
#include <vector>

extern "C"
{
#include "qos/qos-metrics.h"
}

namespace ns3
{

/**
 * \ingroup vpn
 * \brief RTP voice or video source marking its DSCP.
 */
class QosRtpSource : public Application
{
  public:
    static TypeId GetTypeId();
    QosRtpSource();
    ~QosRtpSource() override;

    /** Packets sent so far. */
    uint32_t GetSent() const;
    /** Assigns the stream of the video frame-size variable; returns 1. */
    int64_t AssignStreams(int64_t stream);

  protected:
    void DoDispose() override;

  private:
    void StartApplication() override;
    void StopApplication() override;
    void SendVoice();
    void SendFrame();
    void SendOne(uint32_t payload, bool marker);

    Address m_remote;
    uint8_t m_dscp;
    Time m_interval;
    uint32_t m_payload;
    uint8_t m_pt;
    uint32_t m_flow;
    double m_fps;
    uint32_t m_frameBytes;
    uint32_t m_gop;
    uint32_t m_maxPayload;
    Ptr<UniformRandomVariable> m_rand;
    Ptr<Socket> m_socket;
    EventId m_event;
    uint32_t m_sent{0};
    uint16_t m_seq{0};
    uint32_t m_ts{0};
    uint32_t m_ssrc{0};
    uint32_t m_frames{0};
};

/**
 * \ingroup vpn
 * \brief Receives QosRtpSource flows and measures them.
 */
class QosFlowSink : public Application
{
  public:
    static TypeId GetTypeId();
    QosFlowSink();
    ~QosFlowSink() override;

    /** Summary of flow \p flow given how many its source sent; false if never seen. */
    bool GetSummary(uint32_t flow, uint64_t sent, vpn_qos_summary& out) const;
    /** The flow's one-way delays in ms, sorted (for a CDF). */
    std::vector<double> GetDelaysMs(uint32_t flow) const;
    /** Packets that were not RTP with a probe. */
    uint64_t GetMalformed() const;

  protected:
    void DoDispose() override;

  private:
    void StartApplication() override;
    void StopApplication() override;
    void HandleRead(Ptr<Socket> socket);

    uint16_t m_port;
    Ptr<Socket> m_socket;
    std::map<uint32_t, vpn_qos_flow*> m_flows;
    uint64_t m_malformed{0};
};

} // namespace ns3

#endif
