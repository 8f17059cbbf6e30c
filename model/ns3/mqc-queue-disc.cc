#include "mqc-queue-disc.h"

#include "ns3/drop-tail-queue.h"
#include "ns3/ipv4-address.h"
#include "ns3/ipv4-queue-disc-item.h"
#include "ns3/log.h"
#include "ns3/simulator.h"

extern "C"
{
#include "common/vpn-err.h"
}

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("MqcQueueDisc");
NS_OBJECT_ENSURE_REGISTERED(MqcQueueDisc);
NS_OBJECT_ENSURE_REGISTERED(MqcPreClassifyTag);

TypeId
MqcPreClassifyTag::GetTypeId()
{
    static TypeId tid = TypeId("ns3::MqcPreClassifyTag")
                            .SetParent<Tag>()
                            .SetGroupName("Vpn")
                            .AddConstructor<MqcPreClassifyTag>();
    return tid;
}

TypeId
MqcPreClassifyTag::GetInstanceTypeId() const
{
    return GetTypeId();
}

uint32_t
MqcPreClassifyTag::GetSerializedSize() const
{
    return 14;
}

void
MqcPreClassifyTag::Serialize(TagBuffer i) const
{
    i.WriteU8(dscp);
    i.WriteU8(proto);
    i.WriteU32(src);
    i.WriteU32(dst);
    i.WriteU16(sport);
    i.WriteU16(dport);
}

void
MqcPreClassifyTag::Deserialize(TagBuffer i)
{
    dscp = i.ReadU8();
    proto = i.ReadU8();
    src = i.ReadU32();
    dst = i.ReadU32();
    sport = i.ReadU16();
    dport = i.ReadU16();
}

void
MqcPreClassifyTag::Print(std::ostream& os) const
{
    os << "inner dscp=" << unsigned(dscp) << " proto=" << unsigned(proto) << " " << Ipv4Address(src)
       << ":" << sport << " > " << Ipv4Address(dst) << ":" << dport;
}

TypeId
MqcQueueDisc::GetTypeId()
{
    static TypeId tid = TypeId("ns3::MqcQueueDisc")
                            .SetParent<QueueDisc>()
                            .SetGroupName("Vpn")
                            .AddConstructor<MqcQueueDisc>();
    return tid;
}

MqcQueueDisc::MqcQueueDisc()
    : QueueDisc(QueueDiscSizePolicy::NO_LIMITS)
{
    NS_LOG_FUNCTION(this);
}

MqcQueueDisc::~MqcQueueDisc()
{
    NS_LOG_FUNCTION(this);
}

void
MqcQueueDisc::DoDispose()
{
    NS_LOG_FUNCTION(this);
    Simulator::Cancel(m_wake);
    vpn_qos_sched_del(m_sched);
    m_sched = nullptr;
    vpn_qos_policy_del(m_policy);
    m_policy = nullptr;
    QueueDisc::DoDispose();
}

int
MqcQueueDisc::SetPolicy(vpn_qos_policy* policy)
{
    NS_LOG_FUNCTION(this << policy);
    if (m_policy)
    {
        // The internal queues are laid out for the first policy and ns-3
        // cannot remove them: a new policy takes a new queue disc.
        vpn_qos_policy_del(policy);
        return VPN_ERR_STATE;
    }
    vpn_qos_sched* sched = nullptr;
    int rc = vpn_qos_sched_new(vpn_qos_policy_sched(policy), &sched);
    if (rc != 0)
    {
        vpn_qos_policy_del(policy);
        return rc;
    }
    m_policy = policy;
    m_sched = sched;
    const vpn_qos_sched_cfg* cfg = vpn_qos_sched_config(sched);
    m_firstQueue.assign(cfg->n_class, 0);
    for (size_t i = 0; i < cfg->n_class; i++)
    {
        m_firstQueue[i] = GetNInternalQueues();
        for (uint32_t f = 0; f < (cfg->cls[i].fair_queues ? cfg->cls[i].fair_queues : 1); f++)
        {
            // The scheduler enforces the queue-limits (vpn_qos_sched_enqueue_flow
            // refuses first), so the internal queue itself never fills.
            Ptr<InternalQueue> q = CreateObject<DropTailQueue<QueueDiscItem>>();
            q->SetMaxSize(QueueSize(QueueSizeUnit::PACKETS, UINT32_MAX));
            AddInternalQueue(q);
        }
    }
    return 0;
}

uint32_t
MqcQueueDisc::GetNClasses() const
{
    return m_policy ? static_cast<uint32_t>(vpn_qos_policy_sched(m_policy)->n_class) : 0;
}

std::string
MqcQueueDisc::GetClassName(uint32_t i) const
{
    return i < GetNClasses() ? vpn_qos_policy_sched(m_policy)->cls[i].name : "";
}

vpn_qos_class_stats
MqcQueueDisc::GetClassStats(uint32_t i) const
{
    const vpn_qos_class_stats* st = vpn_qos_sched_stats(m_sched, i);
    return st ? *st : vpn_qos_class_stats{};
}

std::string
MqcQueueDisc::ShowPolicyMap(const std::string& ifName) const
{
    if (!m_policy)
    {
        return "";
    }
    uint64_t now = Simulator::Now().GetNanoSeconds();
    int n = vpn_qos_show_policy_map(m_policy, m_sched, ifName.c_str(), now, nullptr, 0);
    if (n < 0)
    {
        return "";
    }
    std::string out(static_cast<size_t>(n) + 1, '\0');
    vpn_qos_show_policy_map(m_policy, m_sched, ifName.c_str(), now, out.data(), out.size());
    out.resize(static_cast<size_t>(n));
    return out;
}

size_t
MqcQueueDisc::Classify(Ptr<const QueueDiscItem> item) const
{
    vpn_qos_pkt k{};
    MqcPreClassifyTag pre;
    if (item->GetPacket()->PeekPacketTag(pre))
    {
        // qos pre-classify: the inner header the tunnel encrypted.
        k.dscp = pre.dscp;
        k.proto = pre.proto;
        vpn_addr_v4(&k.src, pre.src);
        vpn_addr_v4(&k.dst, pre.dst);
        k.sport = pre.sport;
        k.dport = pre.dport;
        return vpn_qos_policy_classify(m_policy, &k);
    }
    uint8_t ds = 0;
    // The DS field of the header as the router sees it (IPv4 or IPv6).
    if (item->GetUint8Value(QueueItem::IP_DSFIELD, ds))
    {
        k.dscp = ds >> 2;
    }
    Ptr<const Ipv4QueueDiscItem> v4 = DynamicCast<const Ipv4QueueDiscItem>(item);
    if (v4)
    {
        const Ipv4Header& h = v4->GetHeader();
        k.proto = h.GetProtocol();
        vpn_addr_v4(&k.src, h.GetSource().Get());
        vpn_addr_v4(&k.dst, h.GetDestination().Get());
        uint8_t ports[4];
        if ((k.proto == 6 || k.proto == 17) && h.GetFragmentOffset() == 0 &&
            item->GetPacket()->CopyData(ports, 4) == 4)
        {
            k.sport = static_cast<uint16_t>(ports[0] << 8 | ports[1]);
            k.dport = static_cast<uint16_t>(ports[2] << 8 | ports[3]);
        }
    }
    return vpn_qos_policy_classify(m_policy, &k);
}

bool
MqcQueueDisc::DoEnqueue(Ptr<QueueDiscItem> item)
{
    NS_LOG_FUNCTION(this << item);
    size_t cls = Classify(item);
    // fair-queue: the flow's queue from the 5-tuple hash.
    uint32_t hash = item->Hash(0);
    int rc = vpn_qos_sched_enqueue_flow(m_sched,
                                        cls,
                                        hash,
                                        item->GetSize(),
                                        Simulator::Now().GetNanoSeconds());
    if (rc != 0)
    {
        DropBeforeEnqueue(item, rc == VPN_ERR_POLICY ? POLICER_DROP : QUEUE_LIMIT_DROP);
        return false;
    }
    const vpn_qos_sched_cfg* cfg = vpn_qos_sched_config(m_sched);
    uint32_t nq = cfg->cls[cls].fair_queues ? cfg->cls[cls].fair_queues : 1;
    // Enqueue fires the internal queue's trace: QueueDisc counts it enqueued.
    bool ok = GetInternalQueue(m_firstQueue[cls] + hash % nq)->Enqueue(item);
    NS_ASSERT_MSG(ok, "an internal queue of MqcQueueDisc is full");
    return ok;
}

Ptr<QueueDiscItem>
MqcQueueDisc::DoDequeue()
{
    NS_LOG_FUNCTION(this);
    uint32_t len = 0;
    uint32_t sub = 0;
    uint64_t next = VPN_QOS_SCHED_NONE;
    uint64_t now = Simulator::Now().GetNanoSeconds();
    int cls = vpn_qos_sched_dequeue_flow(m_sched, now, &len, &sub, &next);
    if (cls < 0)
    {
        if (cls == VPN_ERR_STATE && next != VPN_QOS_SCHED_NONE && m_wake.IsExpired())
        {
            // The shaper holds traffic back: run again when it conforms.
            m_wake = Simulator::Schedule(NanoSeconds(next - now), &QueueDisc::Run, this);
        }
        return nullptr;
    }
    // Dequeue fires the internal queue's trace: QueueDisc counts it dequeued.
    Ptr<QueueDiscItem> item = GetInternalQueue(m_firstQueue[cls] + sub)->Dequeue();
    NS_ASSERT(item);
    return item;
}

bool
MqcQueueDisc::CheckConfig()
{
    NS_LOG_FUNCTION(this);
    if (!m_sched)
    {
        NS_LOG_ERROR("MqcQueueDisc needs a policy (SetPolicy) before it runs");
        return false;
    }
    if (GetNQueueDiscClasses() > 0 || GetNPacketFilters() > 0)
    {
        NS_LOG_ERROR("MqcQueueDisc keeps its own classes and filters");
        return false;
    }
    return true;
}

void
MqcQueueDisc::InitializeParams()
{
    NS_LOG_FUNCTION(this);
}

} // namespace ns3
