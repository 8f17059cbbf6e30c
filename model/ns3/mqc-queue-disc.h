/*
 * A queue disc that runs an IOS MQC policy-map (LLQ priority with its
 * conditional policer, CBWFQ shares, a shaping parent) on ns-3's
 * traffic-control layer, for what ns-3 3.37's own queue discs lack.
 * Classification and every scheduling decision are the C core's
 * (model/core/qos/qos-mqc.h, qos-sched.h); this class keeps the packets, one
 * FIFO per class (per flow queue with fair-queue) in the core's order, and
 * re-runs when the shaper allows. The FIFOs are ns-3 internal queues, so
 * QueueDisc's counters (GetStats, GetNPackets) see every packet.
 */
#ifndef MQC_QUEUE_DISC_H
#define MQC_QUEUE_DISC_H

#include "ns3/event-id.h"
#include "ns3/queue-disc.h"
#include "ns3/tag.h"

#include <string>
#include <vector>

extern "C"
{
#include "qos/qos-mqc.h"
#include "qos/qos-sched.h"
}

namespace ns3
{

/**
 * \ingroup vpn
 * \brief `qos pre-classify`: the inner header's fields, carried by the
 * encrypted packet to the WAN's queue disc.
 *
 * A tunnel with `qos pre-classify` tags what it encrypts with a copy of the
 * inner packet's DSCP, protocol, addresses and ports (as IOS keeps the
 * pre-encryption header beside the packet); MqcQueueDisc classifies a
 * tagged packet on those instead of the outer ESP header. Without the tag
 * only the outer header is seen: its DSCP (copied from the inner, IOS
 * default), ESP's protocol and the tunnel endpoints.
 */
class MqcPreClassifyTag : public Tag
{
  public:
    static TypeId GetTypeId();
    TypeId GetInstanceTypeId() const override;
    uint32_t GetSerializedSize() const override;
    void Serialize(TagBuffer i) const override;
    void Deserialize(TagBuffer i) override;
    void Print(std::ostream& os) const override;

    uint8_t dscp{0};
    uint8_t proto{0};
    uint32_t src{0}; //!< IPv4, host order
    uint32_t dst{0};
    uint16_t sport{0};
    uint16_t dport{0};
};

/**
 * \ingroup vpn
 * \brief IOS `service-policy output` as an ns-3 root queue disc.
 */
class MqcQueueDisc : public QueueDisc
{
  public:
    static TypeId GetTypeId();
    MqcQueueDisc();
    ~MqcQueueDisc() override;

    /**
     * Uses \p policy (from vpn_qos_policy_build): this queue disc takes
     * ownership of it. Call before the simulation starts. Returns a
     * VPN_ERR_* code from vpn_qos_sched_new, 0 on success.
     */
    int SetPolicy(vpn_qos_policy* policy);

    /** Number of classes (class-default included). */
    uint32_t GetNClasses() const;
    /** The class's name as configured ("VOICE", "class-default"). */
    std::string GetClassName(uint32_t i) const;
    /** Counters of class \p i (zeroes if out of range). */
    vpn_qos_class_stats GetClassStats(uint32_t i) const;
    /** `show policy-map interface IFNAME` for the counters so far. */
    std::string ShowPolicyMap(const std::string& ifName) const;

    /// Drop reasons, for the Drop trace.
    static constexpr const char* QUEUE_LIMIT_DROP = "queue-limit exceeded";
    static constexpr const char* POLICER_DROP =
        "LLQ policer (priority over its rate under congestion)";

  protected:
    void DoDispose() override;

  private:
    bool DoEnqueue(Ptr<QueueDiscItem> item) override;
    Ptr<QueueDiscItem> DoDequeue() override;
    bool CheckConfig() override;
    void InitializeParams() override;

    size_t Classify(Ptr<const QueueDiscItem> item) const;

    vpn_qos_policy* m_policy{nullptr};
    vpn_qos_sched* m_sched{nullptr};
    /// Index of class i's first flow queue among the internal queues (one
    /// per flow queue, class after class): the packets are held in ns-3
    /// internal queues so that QueueDisc counts them (GetStats, GetNPackets).
    std::vector<size_t> m_firstQueue;
    EventId m_wake; //!< the shaper's next conforming time
};

} // namespace ns3

#endif
