#include "vpn-tunnel-net-device.h"

#include "mqc-queue-disc.h"
#include "vpn-node-engine.h"
#include "vpn-packet-util.h"
#include "vpn-ns3-compat.h"

#include "ns3/abort.h"
#include "ns3/boolean.h"
#include "ns3/channel.h"
#include "ns3/enum.h"
#include "ns3/ipv4-address.h"
#include "ns3/ipv4-header.h"
#include "ns3/ipv4-routing-protocol.h"
#include "ns3/ipv4.h"
#include "ns3/icmpv6-l4-protocol.h"
#include "ns3/ipv6.h"
#include "ns3/log.h"
#include "ns3/loopback-net-device.h"
#include "ns3/node.h"
#include "ns3/packet.h"
#include "ns3/string.h"
#include "ns3/uinteger.h"

extern "C" {
#include "common/addr.h"
#include "ipsec/ip.h"
#include "ipsec/pkt.h"
#include "router/router.h"
}

#include <algorithm>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("VpnTunnelNetDevice");
NS_OBJECT_ENSURE_REGISTERED(VpnTunnelNetDevice);

namespace
{
const uint16_t kIpv4 = 0x0800;
const uint16_t kIpv6 = 0x86DD;
const uint32_t kDetached = UINT32_MAX;
} // namespace

TypeId
VpnTunnelNetDevice::GetTypeId()
{
    static TypeId tid =
        TypeId("ns3::VpnTunnelNetDevice")
            .SetParent<NetDevice>()
            .SetGroupName("Vpn")
            .AddConstructor<VpnTunnelNetDevice>()
            .AddAttribute("Mtu",
                          "IP MTU of the tunnel (IOS `ip mtu`, 68 or more); 0 derives it: the WAN "
                          "MTU less the GRE and ESP overhead of the outbound SA (NAT-T "
                          "included) or, before there is one, of the configured transforms.",
                          UintegerValue(0),
                          MakeUintegerAccessor(&VpnTunnelNetDevice::SetMtu,
                                               &VpnTunnelNetDevice::GetMtu),
                          MakeUintegerChecker<uint16_t>(0, 65535 - 200))
            .AddAttribute("WanMtu",
                          "MTU of the WAN below the tunnel; 0 takes it from the device the "
                          "tunnel destination is routed over.",
                          UintegerValue(0),
                          MakeUintegerAccessor(&VpnTunnelNetDevice::m_wanMtu),
                          MakeUintegerChecker<uint16_t>())
            .AddAttribute("Mode",
                          "Encapsulation: GRE with ESP transport, or VTI (ESP tunnel).",
                          EnumValue(VpnTunnelNetDevice::GRE_IPSEC),
                          vpncompat::MakeEnumAccessor<VpnTunnelNetDevice::Mode>(&VpnTunnelNetDevice::m_mode),
                          MakeEnumChecker(VpnTunnelNetDevice::GRE_IPSEC,
                                          "GreIpsec",
                                          VpnTunnelNetDevice::VTI,
                                          "Vti",
                                          VpnTunnelNetDevice::MGRE,
                                          "Mgre",
                                          VpnTunnelNetDevice::ACCESS,
                                          "Access"))
            .AddAttribute("TunnelSource",
                          "Outer source address (IOS `tunnel source`).",
                          Ipv4AddressValue(Ipv4Address::GetAny()),
                          MakeIpv4AddressAccessor(&VpnTunnelNetDevice::m_source),
                          MakeIpv4AddressChecker())
            .AddAttribute("TunnelDestination",
                          "Outer destination address (IOS `tunnel destination`).",
                          Ipv4AddressValue(Ipv4Address::GetAny()),
                          MakeIpv4AddressAccessor(&VpnTunnelNetDevice::m_destination),
                          MakeIpv4AddressChecker())
            .AddAttribute("TunnelKey",
                          "GRE key (RFC 2890); 0 sends none.",
                          UintegerValue(0),
                          MakeUintegerAccessor(&VpnTunnelNetDevice::m_key),
                          MakeUintegerChecker<uint32_t>())
            .AddAttribute("QosPreClassify",
                          "IOS `qos pre-classify`: the WAN's service-policy classifies what "
                          "this tunnel encrypts on the inner header (MqcPreClassifyTag), not "
                          "the outer one.",
                          BooleanValue(false),
                          MakeBooleanAccessor(&VpnTunnelNetDevice::m_preClassify),
                          MakeBooleanChecker())
            .AddAttribute("DualOverlay",
                          "VTI: IOS-XE `tunnel mode ipsec dual-overlay`: IPv6 inner packets "
                          "ride the tunnel beside IPv4 ones (the child policy offers ::/0 too). "
                          "A remote-access template (Access) carries both always.",
                          BooleanValue(false),
                          MakeBooleanAccessor(&VpnTunnelNetDevice::m_dualOverlay),
                          MakeBooleanChecker())
            .AddAttribute("InterfaceName",
                          "Name used in views and logs (IOS interface name).",
                          StringValue("Tunnel0"),
                          MakeStringAccessor(&VpnTunnelNetDevice::m_name),
                          MakeStringChecker())
            .AddTraceSource("Sniffer",
                            "Inner packets sent or received through the tunnel (for pcap).",
                            MakeTraceSourceAccessor(&VpnTunnelNetDevice::m_snifferTrace),
                            "ns3::Packet::TracedCallback")
            .AddTraceSource("Encrypted",
                            "An inner packet that left protected.",
                            MakeTraceSourceAccessor(&VpnTunnelNetDevice::m_encryptedTrace),
                            "ns3::Packet::TracedCallback")
            .AddTraceSource("Decrypted",
                            "An inner packet that arrived protected and was delivered.",
                            MakeTraceSourceAccessor(&VpnTunnelNetDevice::m_decryptedTrace),
                            "ns3::Packet::TracedCallback")
            .AddTraceSource("Drop",
                            "An outbound or inbound packet the tunnel dropped, with the reason.",
                            MakeTraceSourceAccessor(&VpnTunnelNetDevice::m_dropTrace),
                            "ns3::VpnTunnelNetDevice::DropTracedCallback");
    return tid;
}

VpnTunnelNetDevice::VpnTunnelNetDevice()
    : m_ifIndex(0),
      m_mtu(0),
      m_wanMtu(0),
      m_derivedMtu(0),
      m_address(Mac48Address::Allocate()),
      m_addressAsAddress(m_address),
      m_mode(GRE_IPSEC),
      m_key(0),
      m_tunnelId(kDetached),
      m_encrypted(0),
      m_decrypted(0),
      m_dropped(0)
{
    NS_LOG_FUNCTION(this);
}

VpnTunnelNetDevice::~VpnTunnelNetDevice()
{
}

void
VpnTunnelNetDevice::DoInitialize()
{
    NetDevice::DoInitialize();
}

void
VpnTunnelNetDevice::DoDispose()
{
    if (m_node)
    {
        Ptr<VpnIpsecStack> stack = m_node->GetObject<VpnIpsecStack>();
        if (stack)
        {
            stack->ForgetEndpoint(this);
        }
    }
    m_tunnelId = kDetached;
    m_stack = nullptr;
    m_node = nullptr;
    m_noSaCallback.Nullify();
    m_rxCallback.Nullify();
    m_promiscCallback.Nullify();
    NetDevice::DoDispose();
}

uint32_t
VpnTunnelNetDevice::AttachToStack(const std::string& ipsecProfile, bool initiate, bool initiateAtStart)
{
    NS_LOG_FUNCTION(this << ipsecProfile << initiate << initiateAtStart);
    if (m_tunnelId == kDetached)
    {
        NS_ABORT_MSG_IF(!m_node, m_name << ": add the tunnel to a node first");
        // kept: the send path reaches the router without a lookup per packet
        m_stack = VpnIpsecStack::GetOrCreate(m_node);
        m_tunnelId = m_stack->AddTunnel(this, ipsecProfile, initiate, initiateAtStart);
        m_derivedMtu = 0;
    }
    return m_tunnelId;
}

uint32_t
VpnTunnelNetDevice::GetOutboundSpi() const
{
    if (m_tunnelId == kDetached || !m_stack)
    {
        return 0;
    }
    return m_stack->GetOutboundSpi(m_tunnelId);
}

void
VpnTunnelNetDevice::NotifySaChanged()
{
    m_derivedMtu = 0; // NAT-T or another transform may have been negotiated
}

uint16_t
VpnTunnelNetDevice::GetWanMtu() const
{
    if (m_wanMtu)
    {
        return m_wanMtu;
    }
    Ptr<Ipv4> ipv4 = m_node ? m_node->GetObject<Ipv4>() : nullptr;
    if (!ipv4 || !ipv4->GetRoutingProtocol())
    {
        return 1500;
    }
    // Where ESP to the tunnel destination leaves, as VpnIpsecStack sends it.
    Ipv4Header h;
    h.SetSource(m_source);
    h.SetDestination(m_destination);
    h.SetProtocol(50);
    Socket::SocketErrno err = Socket::ERROR_NOTERROR;
    Ptr<Ipv4Route> r = ipv4->GetRoutingProtocol()->RouteOutput(Create<Packet>(), h, nullptr, err);
    Ptr<NetDevice> dev = r ? r->GetOutputDevice() : nullptr;
    if (!dev || dev == this || DynamicCast<LoopbackNetDevice>(dev))
    {
        int32_t i = ipv4->GetInterfaceForAddress(m_source);
        dev = i > 0 ? ipv4->GetNetDevice(static_cast<uint32_t>(i)) : nullptr;
    }
    if (!dev || dev == this || DynamicCast<LoopbackNetDevice>(dev))
    {
        return 1500;
    }
    return dev->GetMtu();
}

// The WAN MTU less the overhead, as the router core derives it: of the
// outbound SA, else of the transform sets allowed, else of its guess.
uint16_t
VpnTunnelNetDevice::DeriveMtu() const
{
    uint16_t wan = GetWanMtu();
    if (m_tunnelId != kDetached && m_stack)
    {
        return m_stack->GetTunnelMtu(m_tunnelId, wan);
    }
    uint16_t mtu = 68;
    vpn_router_mtu_guess(m_mode == VTI || m_mode == ACCESS ? VPN_ROUTER_TUNNEL_VTI : VPN_ROUTER_TUNNEL_GRE_IPSEC,
                         m_key != 0,
                         VPN_AF_INET, wan, &mtu);
    return mtu;
}

bool
VpnTunnelNetDevice::GetDualOverlay() const
{
    return m_dualOverlay;
}

namespace
{
// Runs f with the node's DAD switched off (Icmpv6L4Protocol decides per
// address as it is added), then restores it.
template <typename F>
auto
WithoutDad(Ptr<Node> node, F f) -> decltype(f())
{
    Ptr<Icmpv6L4Protocol> icmp = node->GetObject<Icmpv6L4Protocol>();
    BooleanValue dad(true);
    if (icmp)
    {
        icmp->GetAttribute("DAD", dad);
        icmp->SetAttribute("DAD", BooleanValue(false));
    }
    auto r = f();
    if (icmp)
    {
        icmp->SetAttribute("DAD", dad);
    }
    return r;
}
} // namespace

int32_t
VpnTunnelNetDevice::EnsureIpv6Interface()
{
    Ptr<Ipv6> ipv6 = m_node ? m_node->GetObject<Ipv6>() : nullptr;
    if (!ipv6)
    {
        return -1;
    }
    int32_t ifc = ipv6->GetInterfaceForDevice(this);
    if (ifc >= 0)
    {
        return ifc;
    }
    return WithoutDad(m_node, [&]() {
        uint32_t i = ipv6->AddInterface(this);
        ipv6->SetUp(i);
        return static_cast<int32_t>(i);
    });
}

bool
VpnTunnelNetDevice::AddIpv6Address(uint32_t ifc, Ipv6Address addr, uint8_t prefixLen)
{
    Ptr<Ipv6> ipv6 = m_node ? m_node->GetObject<Ipv6>() : nullptr;
    if (!ipv6)
    {
        return false;
    }
    return WithoutDad(m_node,
                      [&]() { return ipv6->AddAddress(ifc, Ipv6InterfaceAddress(addr, Ipv6Prefix(prefixLen))); });
}

VpnTunnelNetDevice::Mode
VpnTunnelNetDevice::GetMode() const
{
    return m_mode;
}

uint32_t
VpnTunnelNetDevice::GetTunnelKey() const
{
    return m_key;
}

Ipv4Address
VpnTunnelNetDevice::GetTunnelSource() const
{
    return m_source;
}

Ipv4Address
VpnTunnelNetDevice::GetTunnelDestination() const
{
    return m_destination;
}

std::string
VpnTunnelNetDevice::GetInterfaceName() const
{
    return m_name;
}

uint64_t
VpnTunnelNetDevice::GetPacketsEncrypted() const
{
    return m_encrypted;
}

uint64_t
VpnTunnelNetDevice::GetPacketsDecrypted() const
{
    return m_decrypted;
}

uint64_t
VpnTunnelNetDevice::GetPacketsDropped() const
{
    return m_dropped;
}

void
VpnTunnelNetDevice::Drop(Ptr<const Packet> packet, VpnIpsecStack::DropReason reason)
{
    m_dropped++;
    NS_LOG_INFO(m_name << " drop: " << VpnIpsecStack::GetDropReasonName(reason));
    m_dropTrace(packet, reason);
}

void
VpnTunnelNetDevice::DropFromStack(Ptr<const Packet> carrier, VpnIpsecStack::DropReason reason)
{
    Drop(carrier, reason);
}

void
VpnTunnelNetDevice::SetNoSaCallback(Callback<void> cb)
{
    m_noSaCallback = cb;
}

bool
VpnTunnelNetDevice::Send(Ptr<Packet> packet, const Address& dest, uint16_t protocolNumber)
{
    NS_LOG_FUNCTION(this << packet << dest << protocolNumber);
    if (protocolNumber != kIpv4 && protocolNumber != kIpv6)
    {
        Drop(packet, VpnIpsecStack::DROP_NOT_IP);
        return false;
    }
    uint32_t len = packet->GetSize();
    if (len > 65535)
    {
        Drop(packet, VpnIpsecStack::DROP_OVERSIZE);
        return false;
    }
    // The work buffer grows to the largest packet sent, not to the largest
    // IP packet at creation (~2 KB per tunnel instead of 64 KB at 10,000).
    if (m_txBuf.size() < VPN_PKT_HEADROOM + len + VPN_PKT_TAILROOM)
    {
        m_txBuf.resize(VPN_PKT_HEADROOM + len + VPN_PKT_TAILROOM);
    }
    if (!m_snifferTrace.IsEmpty())
    {
        m_snifferTrace(packet);
    }
    // A tag of an earlier tunnel (e.g. a spoke's, on a packet the hub
    // forwards) says nothing about this one.
    MqcPreClassifyTag pre;
    packet->RemovePacketTag(pre);
    vpn_pkt pkt;
    vpn_pkt_init(&pkt, m_txBuf.data(), m_txBuf.size(), VPN_PKT_HEADROOM);
    packet->CopyData(vpn_pkt_put(&pkt, len), len);
    if (m_preClassify)
    {
        TagInner(packet, vpn_pkt_data(&pkt), len);
    }
    if (m_tunnelId == kDetached)
    {
        // Not yet protected (keys by hand, or IKE from the daemon's start):
        // nothing leaves in clear.
        Drop(packet, VpnIpsecStack::DROP_NO_SA);
        return false;
    }
    uint32_t id = m_tunnelId;
    // GRE, ESP, NAT-T, the choice of SA, on-demand IKE: the router's.
    VpnIpsecStack::DropReason why = m_stack->TunnelOutput(id, &pkt, packet);
    if (why != VpnIpsecStack::DROP_NONE)
    {
        // A protected tunnel without an SA drops: nothing leaves in clear.
        Drop(packet, why);
        if (why == VpnIpsecStack::DROP_NO_SA && !m_noSaCallback.IsNull())
        {
            m_noSaCallback();
        }
        return false;
    }
    m_encrypted++;
    if (!m_encryptedTrace.IsEmpty())
    {
        m_encryptedTrace(packet);
    }
    return true;
}

void
VpnTunnelNetDevice::TagInner(Ptr<Packet> packet, const uint8_t* data, size_t len) const
{
    // the core's parser (bounds-checked readers): addresses, DSCP, ports
    // of a first (or no) fragment
    vpn_ip_info ii;
    if (vpn_ip_parse(data, len, &ii) != 0 || ii.version != 4)
    {
        return;
    }
    MqcPreClassifyTag t;
    t.dscp = static_cast<uint8_t>(ii.tos >> 2);
    t.proto = ii.proto;
    t.src = vpn_addr_v4_u32(&ii.src);
    t.dst = vpn_addr_v4_u32(&ii.dst);
    if ((ii.proto == 6 || ii.proto == 17) && ii.has_ports)
    {
        t.sport = ii.sport;
        t.dport = ii.dport;
    }
    packet->AddPacketTag(t);
}

void
VpnTunnelNetDevice::Deliver(const uint8_t* data, size_t len, Ptr<const Packet> carrier)
{
    NS_LOG_FUNCTION(this << len);
    Ptr<Packet> inner = Create<Packet>(data, static_cast<uint32_t>(len));
    if (VpnCopyTags(carrier, inner))
    {
        MqcPreClassifyTag pre; // the sender's pre-classify copy ends with the tunnel
        inner->RemovePacketTag(pre);
    }
    m_decrypted++;
    // per packet: an unconnected trace costs nothing (no Ptr copies)
    if (!m_snifferTrace.IsEmpty())
    {
        m_snifferTrace(inner);
    }
    if (!m_decryptedTrace.IsEmpty())
    {
        m_decryptedTrace(inner);
    }
    // the stack to hand it to: the inner header's version, read by the
    // core's bounds-checked parser (the router passed only IP packets)
    vpn_ip_info ii;
    uint16_t proto = vpn_ip_parse(data, len, &ii) == 0 && ii.version == 6 ? kIpv6 : kIpv4;
    if (!m_promiscCallback.IsNull())
    {
        m_promiscCallback(this, inner, proto, m_addressAsAddress, m_addressAsAddress,
                          NetDevice::PACKET_HOST);
    }
    if (!m_rxCallback.IsNull())
    {
        m_rxCallback(this, inner, proto, m_addressAsAddress);
    }
}

void
VpnTunnelNetDevice::SetIfIndex(const uint32_t index)
{
    m_ifIndex = index;
}

uint32_t
VpnTunnelNetDevice::GetIfIndex() const
{
    return m_ifIndex;
}

Ptr<Channel>
VpnTunnelNetDevice::GetChannel() const
{
    return nullptr;
}

void
VpnTunnelNetDevice::SetAddress(Address address)
{
    m_address = Mac48Address::ConvertFrom(address);
    m_addressAsAddress = m_address;
}

Address
VpnTunnelNetDevice::GetAddress() const
{
    return m_address;
}

bool
VpnTunnelNetDevice::SetMtu(const uint16_t mtu)
{
    if (mtu != 0 && mtu < 68)
    {
        return false; // RFC 791: every IPv4 link carries 68 bytes
    }
    m_mtu = mtu;
    return true;
}

uint16_t
VpnTunnelNetDevice::GetMtu() const
{
    if (m_mtu)
    {
        return m_mtu;
    }
    if (!m_derivedMtu)
    {
        m_derivedMtu = DeriveMtu();
    }
    return m_derivedMtu;
}

bool
VpnTunnelNetDevice::IsLinkUp() const
{
    return true;
}

void
VpnTunnelNetDevice::AddLinkChangeCallback(Callback<void> callback)
{
    (void)callback;
}

bool
VpnTunnelNetDevice::IsBroadcast() const
{
    return false;
}

Address
VpnTunnelNetDevice::GetBroadcast() const
{
    return Mac48Address::GetBroadcast();
}

bool
VpnTunnelNetDevice::IsMulticast() const
{
    return m_mode == MGRE; // replicated to the NHRP multicast map
}

Address
VpnTunnelNetDevice::GetMulticast(Ipv4Address multicastGroup) const
{
    return Mac48Address::GetMulticast(multicastGroup);
}

Address
VpnTunnelNetDevice::GetMulticast(Ipv6Address addr) const
{
    return Mac48Address::GetMulticast(addr);
}

bool
VpnTunnelNetDevice::IsPointToPoint() const
{
    return m_mode != MGRE && m_mode != ACCESS;
}

bool
VpnTunnelNetDevice::IsBridge() const
{
    return false;
}

bool
VpnTunnelNetDevice::SendFrom(Ptr<Packet> packet,
                             const Address& source,
                             const Address& dest,
                             uint16_t protocolNumber)
{
    (void)source;
    return Send(packet, dest, protocolNumber);
}

Ptr<Node>
VpnTunnelNetDevice::GetNode() const
{
    return m_node;
}

void
VpnTunnelNetDevice::SetNode(Ptr<Node> node)
{
    m_node = node;
}

bool
VpnTunnelNetDevice::NeedsArp() const
{
    return false;
}

void
VpnTunnelNetDevice::SetReceiveCallback(NetDevice::ReceiveCallback cb)
{
    m_rxCallback = cb;
}

void
VpnTunnelNetDevice::SetPromiscReceiveCallback(NetDevice::PromiscReceiveCallback cb)
{
    m_promiscCallback = cb;
}

bool
VpnTunnelNetDevice::SupportsSendFrom() const
{
    return false;
}

} // namespace ns3
