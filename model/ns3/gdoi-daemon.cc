#include "gdoi-daemon.h"

#include "vpn-ipsec-stack.h"
#include "vpn-node-engine.h"

#include "ns3/abort.h"
#include "ns3/inet-socket-address.h"
#include "ns3/ipv4-packet-info-tag.h"
#include "ns3/log.h"
#include "ns3/node.h"
#include "ns3/packet.h"
#include "ns3/socket.h"
#include "ns3/udp-socket-factory.h"

extern "C" {
#include "common/addr.h"
#include "common/vpn-err.h"
#include "gdoi/gdoi.h"
#include "getvpn/getvpn.h"
#include "ipsec/sa.h"
#include "router/router.h"
#include "show/show.h"
}

#include <algorithm>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("GdoiDaemon");
NS_OBJECT_ENSURE_REGISTERED(GdoiDaemon);

TypeId
GdoiDaemon::GetTypeId()
{
    static TypeId tid =
        TypeId("ns3::GdoiDaemon")
            .SetParent<Application>()
            .SetGroupName("Vpn")
            .AddConstructor<GdoiDaemon>()
            .AddTraceSource("Datagram",
                            "A GDOI datagram this node sent (source, destination, datagram as "
                            "sent, its decrypted view or the datagram itself when it is clear).",
                            MakeTraceSourceAccessor(&GdoiDaemon::m_dgramTrace),
                            "ns3::GdoiDaemon::DatagramTracedCallback")
            .AddTraceSource("TekInstalled",
                            "A group member installed a TEK (a group SA) it had not held before.",
                            MakeTraceSourceAccessor(&GdoiDaemon::m_tekTrace),
                            "ns3::GdoiDaemon::TekTracedCallback")
            .AddTraceSource("GmEvent",
                            "A group member refused a rekey (bad KEK signature, replay, bad KEK, "
                            "malformed, not installable) or failed locally (vpn_gdoi_gm_event).",
                            MakeTraceSourceAccessor(&GdoiDaemon::m_gmEventTrace),
                            "ns3::GdoiDaemon::GmEventTracedCallback");
    return tid;
}

GdoiDaemon::GdoiDaemon()
{
    NS_LOG_FUNCTION(this);
}

GdoiDaemon::~GdoiDaemon()
{
}

void
GdoiDaemon::AddGroup(const vpn_getvpn_group_params& group)
{
    NS_LOG_FUNCTION(this);
    NS_ABORT_MSG_IF(m_stack, "GdoiDaemon: groups are fixed once the daemon runs");
    m_groups.push_back(group);
}

void
GdoiDaemon::KeepAlive(std::shared_ptr<void> storage)
{
    m_keep.push_back(std::move(storage));
}

Ptr<VpnIpsecStack>
GdoiDaemon::GetStack() const
{
    return m_stack;
}

const vpn_getvpn_node*
GdoiDaemon::GetCore() const
{
    return m_stack ? vpn_router_getvpn(m_stack->GetRouter()) : nullptr;
}

void
GdoiDaemon::StartApplication()
{
    NS_LOG_FUNCTION(this);
    NS_ABORT_MSG_IF(m_groups.empty(), "GdoiDaemon on node " << GetNode()->GetId() << ": no group");
    m_socket = Socket::CreateSocket(GetNode(), UdpSocketFactory::GetTypeId());
    NS_ABORT_MSG_IF(m_socket->Bind(InetSocketAddress(Ipv4Address::GetAny(), VPN_GDOI_PORT)) != 0,
                    "cannot bind UDP 848");
    m_socket->SetRecvPktInfo(true);
    m_socket->SetRecvCallback(MakeCallback(&GdoiDaemon::HandleRead, this));
    // members report refusals and local failures here, unless the caller
    // gave its own callback (the events are counted and traced)
    m_gmEvents.assign(VPN_GDOI_GM_EV_COUNT, 0);
    for (size_t g = 0; g < m_groups.size(); g++)
    {
        if (m_groups[g].role == VPN_GETVPN_ROLE_GM && !m_groups[g].gm.event)
        {
            m_gmEventUsers.push_back(
                std::make_unique<GmEventUser>(GmEventUser{this, static_cast<uint32_t>(g)}));
            m_groups[g].gm.event = &GdoiDaemon::GmEventThunk;
            m_groups[g].gm.event_user = m_gmEventUsers.back().get();
        }
    }
    Ptr<VpnIpsecStack> stack = VpnIpsecStack::GetOrCreate(GetNode());
    // the stack holds the daemon through its hooks until either is disposed
    VpnIpsecStack::GdoiHooks hooks;
    hooks.send = MakeCallback(&GdoiDaemon::Send, Ptr<GdoiDaemon>(this));
    hooks.sent = MakeCallback(&GdoiDaemon::Sent, Ptr<GdoiDaemon>(this));
    hooks.after = MakeCallback(&GdoiDaemon::AfterEngine, Ptr<GdoiDaemon>(this));
    hooks.tek = MakeCallback(&GdoiDaemon::TekInstalled, Ptr<GdoiDaemon>(this));
    hooks.ikev1Line = MakeCallback(&GdoiDaemon::Ikev1Line, Ptr<GdoiDaemon>(this));
    m_stack = stack;
    int rc = stack->EnableGetVpn(m_groups, hooks);
    NS_ABORT_MSG_IF(rc != 0, "GdoiDaemon on node " << GetNode()->GetId() << ": "
                                                   << vpn_strerror(rc));
}

void
GdoiDaemon::StopApplication()
{
    NS_LOG_FUNCTION(this);
    if (m_socket)
    {
        m_socket->SetRecvCallback(MakeNullCallback<void, Ptr<Socket>>());
        m_socket->Close();
    }
    // A stopped daemon is silent (a key server that stopped sends no more
    // announcements or rekeys): AfterEngine finds no socket. The closed one
    // is not enough: in ns-3 3.48 UdpSocketImpl::Close releases the
    // endpoint and the next SendTo binds the socket again (an ephemeral
    // port, shutdown flags cleared), which 3.37's closed socket refused.
    m_socket = nullptr;
    m_outQueue.clear();
}

void
GdoiDaemon::TrackEvent(EventId event)
{
    NS_LOG_FUNCTION(this);
    m_tracked.Add(event);
}

void
GdoiDaemon::DoDispose()
{
    NS_LOG_FUNCTION(this);
    m_tracked.CancelAll();
    m_socket = nullptr;
    m_stack = nullptr; // the router (and the groups in it) is the stack's to release
    m_outQueue.clear();
    Application::DoDispose();
}

void
GdoiDaemon::Sent(Ipv4Address src, Ipv4Address dst, Ptr<const Packet> datagram, Ptr<const Packet> view)
{
    m_dgramTrace(src, dst, datagram, view);
}

void
GdoiDaemon::Send(const vpn_ikev2_dgram* d)
{
    // The router is still running: the packet goes down through this
    // node's crypto map, which must not enter the core now (getvpn.h).
    m_outQueue.emplace_back(Ipv4Address(vpn_addr_v4_u32(&d->remote.addr)),
                            Create<Packet>(d->data, static_cast<uint32_t>(d->len)));
}

void
GdoiDaemon::HandleRead(Ptr<Socket> socket)
{
    NS_LOG_FUNCTION(this << socket);
    Ptr<Packet> packet;
    Address from;
    while ((packet = socket->RecvFrom(from)))
    {
        InetSocketAddress src = InetSocketAddress::ConvertFrom(from);
        Ipv4PacketInfoTag info;
        Ipv4Address localAddr = Ipv4Address::GetAny();
        if (packet->RemovePacketTag(info))
        {
            localAddr = info.GetAddress();
        }
        m_stack->ReceiveUdp(packet, src.GetIpv4(), src.GetPort(), localAddr, VPN_GDOI_PORT);
    }
}

void
GdoiDaemon::AfterEngine()
{
    if (!m_socket)
    {
        m_outQueue.clear(); // stopped: what the engines still produce goes nowhere
        return;
    }
    if (!GetCore())
    {
        return;
    }
    // datagrams the engines produced
    std::vector<std::pair<Ipv4Address, Ptr<Packet>>> out;
    out.swap(m_outQueue);
    for (auto& [dst, p] : out)
    {
        if (m_socket->SendTo(p, 0, InetSocketAddress(dst, VPN_GDOI_PORT)) < 0)
        {
            NS_LOG_WARN("node " << GetNode()->GetId() << ": cannot send to " << dst);
        }
    }
}

void
GdoiDaemon::TekInstalled(const vpn_sa* sa)
{
    m_tekTrace(sa);
}

void
GdoiDaemon::GmEventThunk(void* user, const vpn_gdoi_gm_event* ev)
{
    GmEventUser* u = static_cast<GmEventUser*>(user);
    GdoiDaemon* self = u->daemon;
    if (ev->kind >= 0 && static_cast<size_t>(ev->kind) < self->m_gmEvents.size())
    {
        self->m_gmEvents[ev->kind]++;
    }
    NS_LOG_WARN("node " << self->GetNode()->GetId() << " group " << u->group << ": "
                        << vpn_gdoi_gm_event_name(ev->kind) << " (" << vpn_strerror(ev->err)
                        << "): " << (ev->detail ? ev->detail : ""));
    self->m_gmEventTrace(u->group,
                         vpn_gdoi_gm_event_name(ev->kind),
                         ev->err,
                         ev->seq,
                         ev->detail ? ev->detail : "");
}

uint64_t
GdoiDaemon::GetGmEventCount(int kind) const
{
    return kind >= 0 && static_cast<size_t>(kind) < m_gmEvents.size() ? m_gmEvents[kind] : 0;
}

std::string
GdoiDaemon::ShowGmEvents() const
{
    std::string out;
    for (size_t k = 0; k < m_gmEvents.size(); k++)
    {
        if (m_gmEvents[k])
        {
            out += std::string(vpn_gdoi_gm_event_name(static_cast<vpn_gdoi_gm_event_kind>(k))) +
                   ": " + std::to_string(m_gmEvents[k]) + "\n";
        }
    }
    return out;
}

void
GdoiDaemon::Ikev1Line(std::string line)
{
    m_ikev1Lines.push_back(line); // once per phase-1 SA (the core's key export)
}

int
GdoiDaemon::Rekey(size_t group, bool newKek)
{
    NS_LOG_FUNCTION(this << group << newKek);
    return m_stack ? m_stack->GdoiRekey(group, newKek) : VPN_ERR_NOTFOUND;
}

int
GdoiDaemon::SetMulticastRekey(size_t group, bool multicast, Ipv4Address groupAddress)
{
    NS_LOG_FUNCTION(this << group << multicast << groupAddress);
    return m_stack ? m_stack->GdoiSetMulticast(group, multicast, groupAddress) : VPN_ERR_NOTFOUND;
}

std::string
GdoiDaemon::Render(int which) const
{
    if (!m_stack)
    {
        return "";
    }
    std::vector<char> buf(1 << 17);
    vpn_show_buf b;
    vpn_show_init(&b, buf.data(), buf.size());
    vpn_router_show_gdoi(m_stack->GetRouter(),
                         VpnNodeEngine::NowNs(),
                         static_cast<vpn_router_gdoi_view>(which),
                         "GigabitEthernet0/0",
                         &b);
    return std::string(buf.data(), b.len);
}

std::string
GdoiDaemon::ShowCryptoGdoi() const
{
    return Render(VPN_ROUTER_GDOI_ALL);
}

std::string
GdoiDaemon::ShowCryptoGdoiKsMembers() const
{
    return Render(VPN_ROUTER_GDOI_KS_MEMBERS);
}

std::string
GdoiDaemon::ShowCryptoGdoiKsCoop() const
{
    return Render(VPN_ROUTER_GDOI_KS_COOP);
}

std::string
GdoiDaemon::ShowCryptoGdoiGm() const
{
    return Render(VPN_ROUTER_GDOI_GM);
}

std::string
GdoiDaemon::ShowCryptoIpsecSa() const
{
    return Render(VPN_ROUTER_GDOI_IPSEC_SA);
}

uint32_t
GdoiDaemon::GetRegisteredGroups() const
{
    uint32_t r = 0;
    const vpn_getvpn_node* node = GetCore();
    size_t n = node ? vpn_getvpn_node_n_groups(node) : 0;
    for (size_t g = 0; g < n; g++)
    {
        const vpn_gdoi_gm* gm = vpn_getvpn_node_gm(node, g);
        if (gm && vpn_gdoi_gm_get_state(gm) == VPN_GDOI_GM_REGISTERED)
        {
            r++;
        }
    }
    return r;
}

uint32_t
GdoiDaemon::GetMemberGroups() const
{
    uint32_t r = 0;
    for (const auto& g : m_groups)
    {
        r += g.role == VPN_GETVPN_ROLE_GM;
    }
    return r;
}

const std::vector<std::string>&
GdoiDaemon::GetIkev1KeyLines() const
{
    return m_ikev1Lines;
}

} // namespace ns3
