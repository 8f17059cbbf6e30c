#include "vpn-ipsec-stack.h"

#include "vpn-node-engine.h"
#include "vpn-packet-util.h"

#include "ns3/abort.h"
#include "ns3/ipv4-header.h"
#include "ns3/ipv4-raw-socket-factory.h"
#include "ns3/ipv4-routing-protocol.h"
#include "ns3/ipv4.h"
#include "ns3/log.h"
#include "ns3/node.h"
#include "ns3/packet.h"
#include "ns3/socket.h"
#include "ns3/uinteger.h"

extern "C" {
#include "common/addr.h"
#include "common/rng.h"
#include "common/vpn-err.h"
#include "ipsec/esp.h"
#include "ipsec/ip.h"
#include "ipsec/pkt.h"
#include "ipsec/sa.h"
}

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("VpnIpsecStack");
NS_OBJECT_ENSURE_REGISTERED(VpnIpsecStack);

struct VpnIpsecStack::Core
{
    vpn_drbg drbg{};
    vpn_rng rng{};
    vpn_sad* sad{nullptr};
};

TypeId
VpnIpsecStack::GetTypeId()
{
    static TypeId tid =
        TypeId("ns3::VpnIpsecStack")
            .SetParent<Object>()
            .SetGroupName("Vpn")
            .AddConstructor<VpnIpsecStack>()
            .AddTraceSource("SaAdded",
                            "An SA was added to the SAD (keys readable during the call).",
                            MakeTraceSourceAccessor(&VpnIpsecStack::m_saAddedTrace),
                            "ns3::VpnIpsecStack::SaTracedCallback")
            .AddTraceSource("Drop",
                            "A packet the data plane refused, with the reason.",
                            MakeTraceSourceAccessor(&VpnIpsecStack::m_dropTrace),
                            "ns3::VpnIpsecStack::DropTracedCallback");
    return tid;
}

VpnIpsecStack::VpnIpsecStack()
    : m_core(new Core),
      m_rxBuf(VPN_PKT_HEADROOM + 65535 + VPN_PKT_TAILROOM)
{
}

VpnIpsecStack::~VpnIpsecStack()
{
    if (m_core)
    {
        vpn_sad_del(m_core->sad);
        vpn_drbg_free(&m_core->drbg);
        delete m_core;
    }
}

Ptr<VpnIpsecStack>
VpnIpsecStack::GetOrCreate(Ptr<Node> node)
{
    Ptr<VpnIpsecStack> stack = node->GetObject<VpnIpsecStack>();
    if (!stack)
    {
        stack = CreateObject<VpnIpsecStack>();
        node->AggregateObject(stack);
    }
    return stack;
}

void
VpnIpsecStack::NotifyNewAggregate()
{
    if (!m_node)
    {
        m_node = GetObject<Node>();
    }
    Object::NotifyNewAggregate();
}

vpn_sad*
VpnIpsecStack::GetSad()
{
    if (m_core->sad == nullptr)
    {
        NS_ABORT_MSG_IF(!m_node, "VpnIpsecStack must be aggregated to a Node");
        Ptr<VpnNodeEngine> engine = VpnNodeEngine::GetOrCreate(m_node);
        int rc = engine->ForkDrbg(&m_core->drbg, "ipsec-sad");
        NS_ABORT_MSG_IF(rc != 0, "DRBG fork failed: " << vpn_strerror(rc));
        vpn_rng_init_drbg(&m_core->rng, &m_core->drbg);
        rc = vpn_sad_new(&m_core->sad, &m_core->rng);
        NS_ABORT_MSG_IF(rc != 0, "SAD creation failed: " << vpn_strerror(rc));
        vpn_sad_set_log(m_core->sad, engine->GetLog());
        vpn_sad_set_drop_cb(m_core->sad, &VpnIpsecStack::DropThunk, this);
    }
    return m_core->sad;
}

void
VpnIpsecStack::DropThunk(void* user, const vpn_sa* sa, uint32_t spi, const char* reason, int err)
{
    auto self = static_cast<VpnIpsecStack*>(user);
    (void)sa;
    NS_LOG_INFO("node " << (self->m_node ? self->m_node->GetId() : 0) << " drop spi 0x" << std::hex
                        << spi << std::dec << ": " << reason << " (" << vpn_strerror(err) << ")");
    self->m_dropTrace(reason, spi);
}

int
VpnIpsecStack::AddSa(const vpn_sa_config& cfg, VpnEspEndpoint* owner, vpn_sa** out)
{
    vpn_sa* sa = nullptr;
    int rc = vpn_sad_add(GetSad(), &cfg, VpnNodeEngine::NowNs(), &sa);
    if (rc != 0)
    {
        return rc;
    }
    m_owner[sa] = owner;
    if (cfg.dir & VPN_SA_IN)
    {
        EnsureReceiver();
    }
    m_saAddedTrace(sa);
    if (out)
    {
        *out = sa;
    }
    return 0;
}

int
VpnIpsecStack::RemoveSa(vpn_sa* sa)
{
    m_owner.erase(sa);
    return vpn_sad_remove(GetSad(), sa);
}

void
VpnIpsecStack::ForgetEndpoint(VpnEspEndpoint* owner)
{
    for (auto it = m_owner.begin(); it != m_owner.end();)
    {
        if (it->second == owner)
        {
            vpn_sad_remove(m_core->sad, const_cast<vpn_sa*>(it->first));
            it = m_owner.erase(it);
        }
        else
        {
            ++it;
        }
    }
}

void
VpnIpsecStack::EnsureReceiver()
{
    if (m_espSocket)
    {
        return;
    }
    // A raw socket sees every ESP packet addressed to this node, with its
    // IPv4 header, which the core needs (outer addresses, TOS for ECN).
    m_espSocket = Socket::CreateSocket(m_node, Ipv4RawSocketFactory::GetTypeId());
    m_espSocket->SetAttribute("Protocol", UintegerValue(VPN_IPPROTO_ESP));
    m_espSocket->SetRecvCallback(MakeCallback(&VpnIpsecStack::HandleEsp, this));
}

void
VpnIpsecStack::HandleEsp(Ptr<Socket> socket)
{
    Ptr<Packet> packet;
    while ((packet = socket->Recv()))
    {
        uint32_t len = packet->GetSize();
        if (len > 65535)
        {
            m_dropTrace("oversized packet", 0);
            continue;
        }
        packet->CopyData(m_rxBuf.data() + VPN_PKT_HEADROOM, len);
        ProcessInbound(len, packet);
    }
}

void
VpnIpsecStack::ProcessInbound(uint32_t len, Ptr<const Packet> carrier)
{
    vpn_pkt pkt;
    vpn_esp_rx rx;
    vpn_pkt_init(&pkt, m_rxBuf.data(), m_rxBuf.size(), VPN_PKT_HEADROOM);
    pkt.len = len;
    // Refused packets are counted, logged and reported by the core (drop
    // callback above); nothing more to do for them here.
    if (vpn_esp_decap(GetSad(), &pkt, VpnNodeEngine::NowNs(), &rx) != 0)
    {
        return;
    }
    Deliver(rx, vpn_pkt_data(&pkt), pkt.len, carrier);
}

void
VpnIpsecStack::Deliver(const vpn_esp_rx& rx,
                       const uint8_t* data,
                       size_t len,
                       Ptr<const Packet> carrier)
{
    if (rx.verdict != VPN_ESP_DELIVER)
    {
        return;
    }
    auto it = m_owner.find(rx.sa);
    if (it == m_owner.end() || it->second == nullptr)
    {
        m_dropTrace("SA has no endpoint", vpn_sa_get_config(rx.sa)->spi);
        return;
    }
    it->second->EspDelivered(data, len, rx.sa, carrier);
}

void
VpnIpsecStack::ReceiveUdpEsp(Ptr<Packet> payload,
                             Ipv4Address src,
                             uint16_t sport,
                             Ipv4Address dst,
                             uint16_t dport)
{
    uint32_t len = payload->GetSize();
    if (len > 65535)
    {
        m_dropTrace("oversized packet", 0);
        return;
    }
    payload->CopyData(m_rxBuf.data() + VPN_PKT_HEADROOM, len);
    vpn_pkt pkt;
    vpn_pkt_init(&pkt, m_rxBuf.data(), m_rxBuf.size(), VPN_PKT_HEADROOM);
    pkt.len = len;
    vpn_esp_outer outer{};
    vpn_addr_v4(&outer.src, src.Get());
    vpn_addr_v4(&outer.dst, dst.Get());
    outer.udp = true;
    outer.sport = sport;
    outer.dport = dport;
    vpn_esp_rx rx;
    if (vpn_esp_decap_payload(GetSad(), &pkt, &outer, VpnNodeEngine::NowNs(), &rx) != 0)
    {
        return;
    }
    Deliver(rx, vpn_pkt_data(&pkt), pkt.len, payload);
}

bool
VpnIpsecStack::SendIpPacket(const uint8_t* data, size_t len, Ptr<const Packet> tagsFrom)
{
    Ptr<Ipv4> ipv4 = m_node->GetObject<Ipv4>();
    NS_ABORT_MSG_IF(!ipv4, "VpnIpsecStack needs an IPv4 stack on the node");
    Ptr<Packet> packet = Create<Packet>(data, static_cast<uint32_t>(len));
    VpnCopyTags(tagsFrom, packet);
    Ipv4Header header;
    packet->RemoveHeader(header);
    Socket::SocketErrno err = Socket::ERROR_NOTERROR;
    Ptr<Ipv4Route> route = ipv4->GetRoutingProtocol()->RouteOutput(packet, header, nullptr, err);
    if (!route)
    {
        m_dropTrace("no route to tunnel destination", 0);
        return false;
    }
    ipv4->SendWithHeader(packet, header, route);
    return true;
}

void
VpnIpsecStack::DoDispose()
{
    if (m_espSocket)
    {
        m_espSocket->Close();
        m_espSocket = nullptr;
    }
    m_owner.clear();
    if (m_core)
    {
        vpn_sad_del(m_core->sad);
        m_core->sad = nullptr;
    }
    m_node = nullptr;
    Object::DoDispose();
}

} // namespace ns3
