#include "mpls-router.h"

#include "vpn-packet-util.h"

#include "ns3/abort.h"
#include "ns3/log.h"
#include "ns3/mac48-address.h"

#include <vector>

extern "C" {
#include "common/addr.h"
#include "common/vpn-err.h"
#include "mpls/mpls.h"
#include "show/show-mpls.h"
}

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("MplsRouter");
NS_OBJECT_ENSURE_REGISTERED(MplsRouter);

TypeId
MplsRouter::GetTypeId()
{
    static TypeId tid =
        TypeId("ns3::MplsRouter")
            .SetParent<Object>()
            .SetGroupName("Vpn")
            .AddConstructor<MplsRouter>()
            .AddTraceSource("Drop",
                            "A packet the router dropped, with the core's VPN_ERR_* reason.",
                            MakeTraceSourceAccessor(&MplsRouter::m_dropTrace),
                            "ns3::MplsRouter::DropTracedCallback")
            .AddTraceSource("Tx",
                            "A packet the router sent (link payload), and the interface index.",
                            MakeTraceSourceAccessor(&MplsRouter::m_txTrace),
                            "ns3::Packet::TracedCallback");
    return tid;
}

MplsRouter::MplsRouter()
    : m_core(nullptr)
{
    NS_LOG_FUNCTION(this);
}

MplsRouter::~MplsRouter()
{
    NS_LOG_FUNCTION(this);
    vpn_mpls_router_del(m_core);
}

void
MplsRouter::DoDispose()
{
    NS_LOG_FUNCTION(this);
    vpn_mpls_router_del(m_core);
    m_core = nullptr;
    m_node = nullptr;
    m_current = nullptr;
    m_neighbors.clear();
    Object::DoDispose();
}

static vpn_addr
ToCore(Ipv4Address a)
{
    vpn_addr v;
    vpn_addr_v4(&v, a.Get());
    return v;
}

void
MplsRouter::Setup(Ptr<Node> node, const std::string& name, Ipv4Address loopback, TtlMode ttlMode)
{
    NS_LOG_FUNCTION(this << node << name << loopback << ttlMode);
    NS_ABORT_MSG_IF(m_core, "MplsRouter " << name << ": Setup called twice");
    vpn_mpls_router_params p{};
    p.name = name.c_str();
    p.loopback = ToCore(loopback);
    p.ttl_mode = ttlMode == TTL_PIPE ? VPN_MPLS_TTL_PIPE : VPN_MPLS_TTL_UNIFORM;
    p.emit = &MplsRouter::EmitThunk;
    p.emit_ctx = this;
    int rc = vpn_mpls_router_new(&m_core, &p);
    NS_ABORT_MSG_IF(rc, "MplsRouter " << name << ": " << vpn_strerror(rc));
    m_node = node;
    m_name = name;
    m_loopback = loopback;
    node->AggregateObject(this);
}

void
MplsRouter::AddCoreInterface(Ptr<NetDevice> dev, const std::string& name)
{
    NS_LOG_FUNCTION(this << dev << name);
    int rc = vpn_mpls_router_add_if(m_core, (int)dev->GetIfIndex(), name.c_str(),
                                    VPN_MPLS_IF_CORE, nullptr);
    NS_ABORT_MSG_IF(rc, m_name << " " << name << ": " << vpn_strerror(rc));
    m_node->RegisterProtocolHandler(MakeCallback(&MplsRouter::Receive, this),
                                    VPN_MPLS_ETHERTYPE, dev);
}

void
MplsRouter::AddCeInterface(Ptr<NetDevice> dev, const std::string& name, const std::string& vrf)
{
    NS_LOG_FUNCTION(this << dev << name << vrf);
    int rc = vpn_mpls_router_add_if(m_core, (int)dev->GetIfIndex(), name.c_str(), VPN_MPLS_IF_CE,
                                    vrf.c_str());
    NS_ABORT_MSG_IF(rc, m_name << " " << name << " vrf " << vrf << ": " << vpn_strerror(rc));
    m_node->RegisterProtocolHandler(MakeCallback(&MplsRouter::Receive, this),
                                    VPN_MPLS_ETHERTYPE_IPV4, dev);
}

void
MplsRouter::AddNeighbor(Ptr<NetDevice> dev, Ipv4Address nextHop, const Address& mac)
{
    NS_LOG_FUNCTION(this << dev << nextHop << mac);
    m_neighbors[{dev->GetIfIndex(), nextHop.Get()}] = mac;
}

struct vpn_mpls_router*
MplsRouter::GetCore() const
{
    return m_core;
}

std::string
MplsRouter::GetRouterName() const
{
    return m_name;
}

Ipv4Address
MplsRouter::GetLoopback() const
{
    return m_loopback;
}

std::string
MplsRouter::ShowForwardingTable() const
{
    std::vector<char> buf(4096);
    for (;;)
    {
        vpn_show_buf b;
        vpn_show_init(&b, buf.data(), buf.size());
        if (!m_core || vpn_show_mpls_forwarding(m_core, &b) != VPN_ERR_NOSPACE)
        {
            return m_core ? std::string(buf.data()) : std::string();
        }
        buf.resize(buf.size() * 2);
    }
}

uint64_t
MplsRouter::GetDrops(uint32_t reason) const
{
    const vpn_mpls_stats* s = vpn_mpls_router_stats(m_core);
    if (reason < VPN_MPLS_DROP_COUNT)
    {
        return s->drops[reason];
    }
    uint64_t all = 0;
    for (uint32_t i = 0; i < VPN_MPLS_DROP_COUNT; i++)
    {
        all += s->drops[i];
    }
    return all;
}

uint64_t
MplsRouter::GetTxLabelled() const
{
    return vpn_mpls_router_stats(m_core)->tx_labelled;
}

uint64_t
MplsRouter::GetTxIp() const
{
    return vpn_mpls_router_stats(m_core)->tx_ip;
}

void
MplsRouter::Receive(Ptr<NetDevice> dev,
                    Ptr<const Packet> packet,
                    uint16_t protocol,
                    const Address& /* from */,
                    const Address& /* to */,
                    NetDevice::PacketType type)
{
    NS_LOG_FUNCTION(this << dev << packet << protocol << type);
    if (!m_core || type == NetDevice::PACKET_OTHERHOST)
    {
        return;
    }
    std::vector<uint8_t> bytes(packet->GetSize());
    packet->CopyData(bytes.data(), bytes.size());
    m_current = packet;
    int rc = vpn_mpls_router_input(m_core, (int)dev->GetIfIndex(), protocol, bytes.data(),
                                   bytes.size());
    m_current = nullptr;
    if (rc < 0)
    {
        NS_LOG_LOGIC(m_name << " drops a packet from if " << dev->GetIfIndex() << ": "
                            << vpn_strerror(rc));
        m_dropTrace(packet, rc);
    }
}

void
MplsRouter::EmitThunk(void* ctx,
                      int outIf,
                      const struct vpn_addr* nextHop,
                      uint16_t ethertype,
                      const uint8_t* data,
                      size_t len)
{
    static_cast<MplsRouter*>(ctx)->Emit(outIf, Ipv4Address(vpn_addr_v4_u32(nextHop)), ethertype,
                                        data, len);
}

void
MplsRouter::Emit(int outIf, Ipv4Address nextHop, uint16_t ethertype, const uint8_t* data, size_t len)
{
    NS_LOG_FUNCTION(this << outIf << nextHop << ethertype << len);
    Ptr<NetDevice> dev = m_node->GetDevice((uint32_t)outIf);
    Address dest;
    if (!dev->IsPointToPoint())
    {
        auto it = m_neighbors.find({(uint32_t)outIf, nextHop.Get()});
        if (it != m_neighbors.end())
        {
            dest = it->second;
        }
        else if (nextHop.IsMulticast())
        {
            dest = dev->GetMulticast(nextHop);
        }
        else
        {
            NS_LOG_WARN(m_name << ": no link address for " << nextHop << " on if " << outIf);
            return;
        }
    }
    else
    {
        dest = dev->GetBroadcast();
    }
    Ptr<Packet> p = Create<Packet>(data, len);
    if (m_current)
    {
        VpnCopyTags(m_current, p);
    }
    m_txTrace(p, (uint32_t)outIf);
    dev->Send(p, dest, ethertype);
}

} // namespace ns3
