#include "vpn-crypto-map-net-device.h"

#include "gdoi-daemon.h"
#include "mqc-queue-disc.h"
#include "vpn-ipsec-stack.h"
#include "vpn-packet-util.h"

#include "ns3/abort.h"
#include "ns3/channel.h"
#include "ns3/ipv4-header.h"
#include "ns3/ipv4-queue-disc-item.h"
#include "ns3/log.h"
#include "ns3/node.h"
#include "ns3/packet.h"
#include "ns3/traffic-control-layer.h"
#include "ns3/uinteger.h"

extern "C" {
#include "crypto/crypto-ids.h"
#include "getvpn/getvpn.h"
#include "ipsec/esp.h"
#include "ipsec/pkt.h"
}

#include <algorithm>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("VpnCryptoMapNetDevice");
NS_OBJECT_ENSURE_REGISTERED(VpnCryptoMapNetDevice);

namespace
{
const uint16_t kIpv4 = 0x0800;
} // namespace

TypeId
VpnCryptoMapNetDevice::GetTypeId()
{
    static TypeId tid =
        TypeId("ns3::VpnCryptoMapNetDevice")
            .SetParent<NetDevice>()
            .SetGroupName("Vpn")
            .AddConstructor<VpnCryptoMapNetDevice>()
            .AddAttribute("Mtu",
                          "IP MTU of the interface; 0 takes the wrapped device's less the worst "
                          "ESP overhead of a group SA (AES-CBC, HMAC-SHA-512, TBAR, outer IPv4), "
                          "so IPv4 fragments before encryption, as IOS does by default.",
                          UintegerValue(0),
                          MakeUintegerAccessor(&VpnCryptoMapNetDevice::SetMtu,
                                               &VpnCryptoMapNetDevice::GetMtu),
                          MakeUintegerChecker<uint16_t>(0, 65535 - 200))
            .AddTraceSource("Sniffer",
                            "Clear IP packets crossing the crypto map, both ways (for pcap).",
                            MakeTraceSourceAccessor(&VpnCryptoMapNetDevice::m_snifferTrace),
                            "ns3::Packet::TracedCallback")
            .AddTraceSource("Drop",
                            "A packet the crypto map dropped, with the reason.",
                            MakeTraceSourceAccessor(&VpnCryptoMapNetDevice::m_dropTrace),
                            "ns3::VpnCryptoMapNetDevice::DropTracedCallback");
    return tid;
}

VpnCryptoMapNetDevice::VpnCryptoMapNetDevice()
    : m_ifIndex(0),
      m_mtu(0),
      m_encrypted(0),
      m_decrypted(0),
      m_clear(0),
      m_dropped(0)
{
    NS_LOG_FUNCTION(this);
}

VpnCryptoMapNetDevice::~VpnCryptoMapNetDevice()
{
}

bool
VpnCryptoMapNetDevice::Work(uint32_t len)
{
    // the work buffer grows to the largest packet seen, not to the largest
    // IP packet at creation: a network of thousands of members keeps ~2 KB
    // per crypto map instead of 64 KB
    if (len > 65535)
    {
        return false;
    }
    size_t need = VPN_PKT_HEADROOM + len + VPN_PKT_TAILROOM;
    if (m_buf.size() < need)
    {
        m_buf.resize(need);
    }
    return true;
}

void
VpnCryptoMapNetDevice::DoDispose()
{
    NS_LOG_FUNCTION(this);
    if (m_inner)
    {
        m_inner->SetReceiveCallback(MakeNullCallback<bool,
                                                     Ptr<NetDevice>,
                                                     Ptr<const Packet>,
                                                     uint16_t,
                                                     const Address&>());
    }
    m_inner = nullptr;
    m_daemon = nullptr;
    m_node = nullptr;
    m_rxCallback.Nullify();
    m_promiscCallback.Nullify();
    NetDevice::DoDispose();
}

void
VpnCryptoMapNetDevice::SetInnerDevice(Ptr<NetDevice> inner)
{
    NS_LOG_FUNCTION(this << inner);
    m_inner = inner;
    inner->SetReceiveCallback(MakeCallback(&VpnCryptoMapNetDevice::FromInner, this));
}

Ptr<NetDevice>
VpnCryptoMapNetDevice::GetInnerDevice() const
{
    return m_inner;
}

void
VpnCryptoMapNetDevice::SetDaemon(Ptr<GdoiDaemon> daemon)
{
    NS_LOG_FUNCTION(this << daemon);
    m_daemon = daemon;
}

void
VpnCryptoMapNetDevice::Drop(Ptr<const Packet> packet, int why)
{
    m_dropped++;
    m_dropTrace(packet, vpn_getvpn_drop_name(static_cast<vpn_getvpn_drop>(why)));
}

bool
VpnCryptoMapNetDevice::Send(Ptr<Packet> packet, const Address& dest, uint16_t protocolNumber)
{
    NS_LOG_FUNCTION(this << packet << dest << protocolNumber);
    NS_ABORT_MSG_IF(!m_inner, "VpnCryptoMapNetDevice without a wrapped device");
    uint32_t len = packet->GetSize();
    Ptr<VpnIpsecStack> stack = m_daemon ? m_daemon->GetStack() : nullptr;
    if (protocolNumber != kIpv4 || !stack)
    {
        return SendInner(packet, dest, protocolNumber);
    }
    if (!Work(len))
    {
        Drop(packet, VPN_GETVPN_DROP_MALFORMED);
        return false;
    }
    m_snifferTrace(packet);
    vpn_pkt pkt;
    vpn_pkt_init(&pkt, m_buf.data(), m_buf.size(), VPN_PKT_HEADROOM);
    packet->CopyData(vpn_pkt_put(&pkt, len), len);
    int why = 0;
    bool encrypted = false;
    if (stack->CryptoMapOutput(&pkt, &encrypted, &why) != VpnIpsecStack::DROP_NONE)
    {
        Drop(packet, why);
        return false;
    }
    if (!encrypted)
    {
        m_clear++;
        return SendInner(packet, dest, protocolNumber);
    }
    Ptr<Packet> esp = Create<Packet>(vpn_pkt_data(&pkt), static_cast<uint32_t>(pkt.len));
    VpnCopyTags(packet, esp);
    m_encrypted++;
    return SendInner(esp, dest, protocolNumber);
}

bool
VpnCryptoMapNetDevice::SendInner(Ptr<Packet> packet, const Address& dest, uint16_t protocolNumber)
{
    // A `service-policy output` on the interface (an MqcQueueDisc on the
    // wrapped device) queues what the crypto map sends, encrypted or not:
    // the packet enters the wrapped device's traffic-control layer as the
    // IP layer would hand it, its (preserved) header apart for the classifier.
    Ptr<TrafficControlLayer> tc = m_node ? m_node->GetObject<TrafficControlLayer>() : nullptr;
    if (protocolNumber == kIpv4 && tc && DynamicCast<MqcQueueDisc>(tc->GetRootQueueDiscOnDevice(m_inner)))
    {
        Ptr<Packet> p = packet->Copy();
        Ipv4Header h;
        if (p->RemoveHeader(h) > 0)
        {
            tc->Send(m_inner, Create<Ipv4QueueDiscItem>(p, dest, protocolNumber, h));
            return true;
        }
    }
    return m_inner->Send(packet, dest, protocolNumber);
}

bool
VpnCryptoMapNetDevice::SendFrom(Ptr<Packet> packet,
                                const Address& source,
                                const Address& dest,
                                uint16_t protocolNumber)
{
    (void)source;
    return Send(packet, dest, protocolNumber);
}

bool
VpnCryptoMapNetDevice::FromInner(Ptr<NetDevice> device,
                                 Ptr<const Packet> packet,
                                 uint16_t protocol,
                                 const Address& from)
{
    NS_LOG_FUNCTION(this << device << packet << protocol);
    Ptr<const Packet> up = packet;
    Ptr<VpnIpsecStack> stack = m_daemon ? m_daemon->GetStack() : nullptr;
    if (protocol == kIpv4 && stack)
    {
        uint32_t len = packet->GetSize();
        if (!Work(len))
        {
            Drop(packet, VPN_GETVPN_DROP_MALFORMED);
            return false;
        }
        vpn_pkt pkt;
        vpn_pkt_init(&pkt, m_buf.data(), m_buf.size(), VPN_PKT_HEADROOM);
        packet->CopyData(vpn_pkt_put(&pkt, len), len);
        int why = 0;
        bool decrypted = false;
        if (stack->CryptoMapInput(&pkt, &decrypted, &why) != VpnIpsecStack::DROP_NONE)
        {
            Drop(packet, why);
            return false;
        }
        if (decrypted)
        {
            Ptr<Packet> inner = Create<Packet>(vpn_pkt_data(&pkt), static_cast<uint32_t>(pkt.len));
            VpnCopyTags(packet, inner);
            m_decrypted++;
            up = inner;
        }
        else
        {
            m_clear++;
        }
        m_snifferTrace(up);
    }
    // The stack may keep what it is given; give it its own copy.
    Ptr<Packet> copy = up->Copy();
    if (!m_promiscCallback.IsNull())
    {
        m_promiscCallback(this, copy, protocol, from, GetAddress(), NetDevice::PACKET_HOST);
    }
    if (!m_rxCallback.IsNull())
    {
        return m_rxCallback(this, copy, protocol, from);
    }
    return true;
}

uint64_t
VpnCryptoMapNetDevice::GetPacketsEncrypted() const
{
    return m_encrypted;
}

uint64_t
VpnCryptoMapNetDevice::GetPacketsDecrypted() const
{
    return m_decrypted;
}

uint64_t
VpnCryptoMapNetDevice::GetPacketsClear() const
{
    return m_clear;
}

uint64_t
VpnCryptoMapNetDevice::GetPacketsDropped() const
{
    return m_dropped;
}

void
VpnCryptoMapNetDevice::SetIfIndex(const uint32_t index)
{
    NS_LOG_FUNCTION(this << index);
    m_ifIndex = index;
}

uint32_t
VpnCryptoMapNetDevice::GetIfIndex() const
{
    return m_ifIndex;
}

Ptr<Channel>
VpnCryptoMapNetDevice::GetChannel() const
{
    return m_inner ? m_inner->GetChannel() : nullptr;
}

void
VpnCryptoMapNetDevice::SetAddress(Address address)
{
    NS_LOG_FUNCTION(this << address);
    if (m_inner)
    {
        m_inner->SetAddress(address);
    }
}

Address
VpnCryptoMapNetDevice::GetAddress() const
{
    return m_inner ? m_inner->GetAddress() : Address();
}

bool
VpnCryptoMapNetDevice::SetMtu(const uint16_t mtu)
{
    NS_LOG_FUNCTION(this << mtu);
    m_mtu = mtu;
    return true;
}

uint16_t
VpnCryptoMapNetDevice::GetMtu() const
{
    if (m_mtu || !m_inner)
    {
        return m_mtu ? m_mtu : 1500;
    }
    vpn_esp_shape s{};
    s.encr_id = VPN_ENCR_AES_CBC;
    s.encr_key_bits = 256;
    s.integ_id = VPN_AUTH_HMAC_SHA2_512_256;
    s.mode = VPN_ESP_TUNNEL_ADDR_PRESERVE;
    s.outer_family = VPN_AF_INET;
    s.tbar = true;
    size_t mtu = 0;
    if (vpn_esp_max_input(&s, m_inner->GetMtu(), &mtu) != 0)
    {
        return 68;
    }
    return static_cast<uint16_t>(std::max<size_t>(mtu, 68));
}

bool
VpnCryptoMapNetDevice::IsLinkUp() const
{
    return m_inner && m_inner->IsLinkUp();
}

void
VpnCryptoMapNetDevice::AddLinkChangeCallback(Callback<void> callback)
{
    NS_LOG_FUNCTION(this);
    if (m_inner)
    {
        m_inner->AddLinkChangeCallback(callback);
    }
}

bool
VpnCryptoMapNetDevice::IsBroadcast() const
{
    return m_inner && m_inner->IsBroadcast();
}

Address
VpnCryptoMapNetDevice::GetBroadcast() const
{
    return m_inner ? m_inner->GetBroadcast() : Address();
}

bool
VpnCryptoMapNetDevice::IsMulticast() const
{
    return m_inner && m_inner->IsMulticast();
}

Address
VpnCryptoMapNetDevice::GetMulticast(Ipv4Address multicastGroup) const
{
    return m_inner ? m_inner->GetMulticast(multicastGroup) : Address();
}

Address
VpnCryptoMapNetDevice::GetMulticast(Ipv6Address addr) const
{
    return m_inner ? m_inner->GetMulticast(addr) : Address();
}

bool
VpnCryptoMapNetDevice::IsPointToPoint() const
{
    return m_inner && m_inner->IsPointToPoint();
}

bool
VpnCryptoMapNetDevice::IsBridge() const
{
    return false;
}

Ptr<Node>
VpnCryptoMapNetDevice::GetNode() const
{
    return m_node;
}

void
VpnCryptoMapNetDevice::SetNode(Ptr<Node> node)
{
    NS_LOG_FUNCTION(this << node);
    m_node = node;
}

bool
VpnCryptoMapNetDevice::NeedsArp() const
{
    return m_inner && m_inner->NeedsArp();
}

void
VpnCryptoMapNetDevice::SetReceiveCallback(NetDevice::ReceiveCallback cb)
{
    m_rxCallback = cb;
}

void
VpnCryptoMapNetDevice::SetPromiscReceiveCallback(NetDevice::PromiscReceiveCallback cb)
{
    m_promiscCallback = cb;
}

bool
VpnCryptoMapNetDevice::SupportsSendFrom() const
{
    return false;
}

} // namespace ns3
