#include "ikev2-daemon.h"

#include "vpn-ipsec-stack.h"
#include "vpn-node-engine.h"

#include "ns3/boolean.h"
#include "ns3/inet-socket-address.h"
#include "ns3/ipv4.h"
#include "ns3/ipv4-static-routing-helper.h"
#include "ns3/ipv6.h"
#include "ns3/ipv6-routing-table-entry.h"
#include "ns3/ipv6-static-routing-helper.h"
#include "ns3/ipv4-packet-info-tag.h"
#include "ns3/log.h"
#include "ns3/node.h"
#include "ns3/packet.h"
#include "ns3/simulator.h"
#include "ns3/socket.h"
#include "ns3/udp-socket-factory.h"
#include "ns3/uinteger.h"
#include "ns3/nstime.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <sstream>

extern "C" {
#include "common/addr.h"
#include "common/vpn-err.h"
#include "conf/conf.h"
#include "ikev2/ikev2-cp.h"
#include "ikev2/ikev2-engine.h"
#include "router/router.h"
#include "show/show-ikev2.h"
#include "show/show.h"
}

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("Ikev2Daemon");
NS_OBJECT_ENSURE_REGISTERED(Ikev2Daemon);

namespace
{
Ipv4Address
FromCore(const vpn_addr& a)
{
    return Ipv4Address(vpn_addr_v4_u32(&a));
}

Ipv6Address
FromCore6(const vpn_addr& a)
{
    uint8_t b[16];
    std::memcpy(b, a.b, 16);
    return Ipv6Address(b);
}

std::string
Render(const std::function<int(vpn_show_buf*)>& fn)
{
    std::vector<char> buf(1 << 16);
    vpn_show_buf b;
    vpn_show_init(&b, buf.data(), buf.size());
    fn(&b);
    return std::string(buf.data(), b.len);
}
} // namespace

TypeId
Ikev2Daemon::GetTypeId()
{
    static TypeId tid =
        TypeId("ns3::Ikev2Daemon")
            .SetParent<Application>()
            .SetGroupName("Vpn")
            .AddConstructor<Ikev2Daemon>()
            .AddAttribute("InitiateAtStart",
                          "Initiating tunnels bring IKE up when the daemon starts; when false "
                          "they wait for the first packet that needs the tunnel (on demand).",
                          BooleanValue(true),
                          MakeBooleanAccessor(&Ikev2Daemon::m_initiateAtStart),
                          MakeBooleanChecker())
            .AddAttribute("OnDemandHoldDown",
                          "Least time between two traffic-triggered initiations of one tunnel "
                          "(so a failing peer is not hammered by every dropped packet).",
                          TimeValue(Seconds(1)),
                          MakeTimeAccessor(&Ikev2Daemon::m_onDemandHoldDown),
                          MakeTimeChecker())
            .AddTraceSource("IkeSaUp",
                            "An IKE SA was established (id, peer, detail).",
                            MakeTraceSourceAccessor(&Ikev2Daemon::m_ikeUpTrace),
                            "ns3::Ikev2Daemon::SaTracedCallback")
            .AddTraceSource("IkeSaDown",
                            "An IKE SA went away (id, peer, reason).",
                            MakeTraceSourceAccessor(&Ikev2Daemon::m_ikeDownTrace),
                            "ns3::Ikev2Daemon::SaTracedCallback")
            .AddTraceSource("AddressAssigned",
                            "Remote access client: the hub's address for this node was put on "
                            "(\"assigned\") or taken off (\"released\") the tunnel (IKE SA id, "
                            "address, what).",
                            MakeTraceSourceAccessor(&Ikev2Daemon::m_addressTrace),
                            "ns3::Ikev2Daemon::SaTracedCallback")
            .AddTraceSource("ChildSaUp",
                            "A CHILD_SA pair was installed (child id, peer, transform).",
                            MakeTraceSourceAccessor(&Ikev2Daemon::m_childUpTrace),
                            "ns3::Ikev2Daemon::SaTracedCallback")
            .AddTraceSource("ChildSaDown",
                            "A CHILD_SA pair went away: replaced by a rekey, deleted (by either "
                            "side, or with its IKE SA), or expired (child id, peer, reason).",
                            MakeTraceSourceAccessor(&Ikev2Daemon::m_childDownTrace),
                            "ns3::Ikev2Daemon::SaTracedCallback")
            .AddTraceSource("ChildSaRekeyed",
                            "A CHILD_SA pair was replaced by a rekey (old id, new id).",
                            MakeTraceSourceAccessor(&Ikev2Daemon::m_childRekeyTrace),
                            "ns3::Ikev2Daemon::RekeyTracedCallback")
            .AddTraceSource("IkeSaRekeyed",
                            "An IKE SA was replaced by a rekey (old id, new id).",
                            MakeTraceSourceAccessor(&Ikev2Daemon::m_ikeRekeyTrace),
                            "ns3::Ikev2Daemon::RekeyTracedCallback")
            .AddTraceSource("Failure",
                            "A negotiation failed (IKE SA id, peer, reason).",
                            MakeTraceSourceAccessor(&Ikev2Daemon::m_failureTrace),
                            "ns3::Ikev2Daemon::SaTracedCallback");
    return tid;
}

Ikev2Daemon::Ikev2Daemon()
    : m_conf(nullptr),
      m_engine(false),
      m_ikeUp(0),
      m_childUp(0),
      m_initiateAtStart(true),
      m_onDemandHoldDown(Seconds(1)),
      m_assigned(Ipv4Address::GetAny()),
      m_assignedIf(-1),
      m_assignedIke(0)
{
    NS_LOG_FUNCTION(this);
}

Ikev2Daemon::~Ikev2Daemon()
{
    vpn_conf_del(m_conf);
}

std::string
Ikev2Daemon::SetConfig(const std::string& iosText)
{
    NS_LOG_FUNCTION(this);
    if (m_engine)
    {
        return "the configuration is fixed once the daemon runs";
    }
    vpn_conf* conf = nullptr;
    vpn_conf_error err{};
    int rc = vpn_conf_parse(iosText.c_str(), iosText.size(), &conf, &err);
    if (rc != 0)
    {
        std::ostringstream s;
        s << "line " << err.line << ": " << err.msg;
        return s.str();
    }
    vpn_conf_del(m_conf);
    m_conf = conf; // handed to the node's stack when the engine starts
    return "";
}

void
Ikev2Daemon::Protect(Ptr<VpnTunnelNetDevice> tunnel, const std::string& ipsecProfile, bool initiate)
{
    NS_LOG_FUNCTION(this << tunnel << ipsecProfile << initiate);
    // Registered with the router when the daemon starts (the router needs
    // the engine first); the tunnel's MTU then follows the profile's
    // transform sets (the core derives it).
    m_protected.push_back({tunnel, ipsecProfile, initiate});
}

void
Ikev2Daemon::EnsureEngine()
{
    if (m_engine)
    {
        return;
    }
    NS_ABORT_MSG_IF(!m_conf, "Ikev2Daemon on node " << GetNode()->GetId() << " has no configuration");
    VpnIpsecStack::Ikev2Hooks hooks;
    hooks.send = MakeCallback(&Ikev2Daemon::Send, this);
    hooks.event = MakeCallback(&Ikev2Daemon::OnEvent, this);
    hooks.onDemandHoldDown = m_onDemandHoldDown;
    // The parse SetConfig checked goes to the stack (which keeps it for the
    // router and the show views below): one parsed configuration per node,
    // not two (tens of KB each, per spoke at hub scale; issue 14).
    std::string err = VpnIpsecStack::GetOrCreate(GetNode())->EnableIkev2(m_conf, hooks);
    NS_ABORT_MSG_IF(!err.empty(), "Ikev2Daemon on node " << GetNode()->GetId() << ": " << err);
    m_conf = nullptr;
    m_engine = true;
}

const vpn_router*
Ikev2Daemon::Router() const
{
    Ptr<Node> node = GetNode();
    Ptr<VpnIpsecStack> stack = node ? node->GetObject<VpnIpsecStack>() : nullptr;
    return m_engine && stack ? stack->GetRouter() : nullptr;
}

void
Ikev2Daemon::StartApplication()
{
    NS_LOG_FUNCTION(this);
    EnsureEngine();
    OpenSockets(Ipv4Address::GetAny());
    for (const Protected& p : m_protected)
    {
        OpenSockets(p.tunnel->GetTunnelSource());
    }
    // Every tunnel answers its peer from now on; initiating ones start at
    // once or on their first packet (the router's on-demand rule).
    for (const Protected& p : m_protected)
    {
        p.tunnel->AttachToStack(p.profile, p.initiate, p.initiate && m_initiateAtStart);
    }
    VpnIpsecStack::GetOrCreate(GetNode())->Start();
}

void
Ikev2Daemon::OpenSockets(Ipv4Address local)
{
    if (m_sockets.count(local.Get()))
    {
        return;
    }
    TypeId udp = UdpSocketFactory::GetTypeId();
    Ptr<Socket> s500 = Socket::CreateSocket(GetNode(), udp);
    Ptr<Socket> s4500 = Socket::CreateSocket(GetNode(), udp);
    NS_ABORT_MSG_IF(s500->Bind(InetSocketAddress(local, VPN_IKEV2_PORT)) != 0,
                    "cannot bind UDP " << local << ":500");
    NS_ABORT_MSG_IF(s4500->Bind(InetSocketAddress(local, VPN_IKEV2_NATT_PORT)) != 0,
                    "cannot bind UDP " << local << ":4500");
    for (Ptr<Socket> s : {s500, s4500})
    {
        s->SetRecvPktInfo(true);
        s->SetRecvCallback(MakeCallback(&Ikev2Daemon::HandleRead, this));
    }
    m_sockets[local.Get()] = {s500, s4500};
}

void
Ikev2Daemon::StopApplication()
{
    NS_LOG_FUNCTION(this);
    for (auto& [addr, pair] : m_sockets)
    {
        for (Ptr<Socket> s : {pair.first, pair.second})
        {
            s->SetRecvCallback(MakeNullCallback<void, Ptr<Socket>>());
            s->Close();
        }
    }
    // A stopped daemon is silent: Send finds no socket. Keeping the closed
    // ones is not enough: in ns-3 3.48 UdpSocketImpl::Close releases the
    // endpoint and the next SendTo binds the socket again (an ephemeral
    // port, shutdown flags cleared), so the engine's timers (a rekey, a
    // DPD) still reached the peer, which 3.37's closed socket refused.
    m_sockets.clear();
}

void
Ikev2Daemon::TrackEvent(EventId event)
{
    NS_LOG_FUNCTION(this);
    m_tracked.Add(event);
}

void
Ikev2Daemon::DoDispose()
{
    NS_LOG_FUNCTION(this);
    m_tracked.CancelAll();
    m_sockets.clear();
    m_protected.clear();
    m_siteRoutes.clear();
    vpn_conf_del(m_conf);
    m_conf = nullptr;
    Application::DoDispose();
}

void
Ikev2Daemon::HandleRead(Ptr<Socket> socket)
{
    NS_LOG_FUNCTION(this << socket);
    Ptr<Packet> packet;
    Address from;
    Address bound;
    socket->GetSockName(bound);
    uint16_t localPort = InetSocketAddress::ConvertFrom(bound).GetPort();
    Ptr<VpnIpsecStack> stack = VpnIpsecStack::GetOrCreate(GetNode());
    while ((packet = socket->RecvFrom(from)))
    {
        InetSocketAddress src = InetSocketAddress::ConvertFrom(from);
        Ipv4PacketInfoTag info;
        Ipv4Address localAddr = Ipv4Address::GetAny();
        if (packet->RemovePacketTag(info))
        {
            localAddr = info.GetAddress();
        }
        // IKE, ESP in UDP or a keepalive: the router tells them apart
        // (RFC 3948 2.2, RFC 7296 2.23).
        stack->ReceiveUdp(packet, src.GetIpv4(), src.GetPort(), localAddr, localPort);
    }
}

void
Ikev2Daemon::Send(const vpn_ikev2_dgram* d)
{
    auto it = m_sockets.find(vpn_addr_v4_u32(&d->local.addr));
    if (it == m_sockets.end())
    {
        it = m_sockets.find(Ipv4Address::GetAny().Get());
    }
    if (it == m_sockets.end())
    {
        return;
    }
    Ptr<Socket> s = d->local.port == VPN_IKEV2_NATT_PORT ? it->second.second : it->second.first;
    Ptr<Packet> p = Create<Packet>(d->data, static_cast<uint32_t>(d->len));
    s->SendTo(p, 0, InetSocketAddress(FromCore(d->remote.addr), d->remote.port));
}

void
Ikev2Daemon::OnEvent(const vpn_router_event* ev)
{
    if (ev->type == VPN_ROUTER_EV_INITIATED && ev->err != 0)
    {
        Ipv4Address peer;
        if (ev->tunnel < m_protected.size())
        {
            peer = m_protected[ev->tunnel].tunnel->GetTunnelDestination();
        }
        m_failureTrace(0, peer, vpn_strerror(ev->err));
    }
    else if (ev->type == VPN_ROUTER_EV_IKEV2)
    {
        OnIkeEvent(ev->ike);
    }
    else if (ev->type == VPN_ROUTER_EV_KEY_LINE && ev->key_table == VPN_ROUTER_KEYS_IKEV2)
    {
        m_ikeKeyLines.emplace_back(ev->key_line); // made by the core before the IKE event
    }
}

void
Ikev2Daemon::OnIkeEvent(const vpn_ikev2_event* ev)
{
    Ipv4Address peer = FromCore(ev->remote.addr);
    std::string detail = ev->detail ? ev->detail : "";
    switch (ev->type)
    {
    case VPN_IKEV2_EV_IKE_UP:
    case VPN_IKEV2_EV_IKE_REKEYED: {
        if (ev->type == VPN_IKEV2_EV_IKE_UP)
        {
            m_ikeUp++;
            m_ikeUpTrace(ev->ike_sa_id, peer, detail);
        }
        else
        {
            auto it = m_learntRoutes.find(ev->old_id);
            if (it != m_learntRoutes.end())
            {
                // 2.18: the new IKE SA carries the old one's CHILD_SAs, and so its routes
                m_learntRoutes[ev->ike_sa_id] = it->second;
                m_learntRoutes.erase(ev->old_id);
            }
            auto it6 = m_learntRoutes6.find(ev->old_id);
            if (it6 != m_learntRoutes6.end())
            {
                m_learntRoutes6[ev->ike_sa_id] = it6->second;
                m_learntRoutes6.erase(ev->old_id);
            }
            if (m_assigned6Ike == ev->old_id && m_assigned6If >= 0)
            {
                m_assigned6Ike = ev->ike_sa_id;
            }
            m_ikeRekeyTrace(ev->old_id, ev->ike_sa_id);
        }
        break;
    }
    case VPN_IKEV2_EV_IKE_DOWN:
        ReleaseAssignedAddress(ev->ike_sa_id);
        RemoveLearntRoutes(ev->ike_sa_id);
        m_ikeDownTrace(ev->ike_sa_id, peer, vpn_ikev2_reason_name(ev->reason));
        break;
    case VPN_IKEV2_EV_FAILED:
        m_failureTrace(ev->ike_sa_id, peer, vpn_ikev2_reason_name(ev->reason));
        break;
    case VPN_IKEV2_EV_CHILD_UP:
        // The router installed the pair (or logged why it could not).
        if (vpn_router_child_sas(Router(), ev->child->id, nullptr, nullptr))
        {
            TakeAssignedAddress(ev);
            AddSiteRoute(ev);
            AddLearntRoutes(ev);
            m_childUp++;
            m_childUpTrace(ev->child->id,
                           FromCore(ev->child->remote.addr),
                           ev->child->transform_set ? ev->child->transform_set : "");
        }
        break;
    case VPN_IKEV2_EV_CHILD_REKEYED:
        if (m_siteRoutes.count(ev->child->old_id))
        {
            // the successor holds the route now (2.8: same selectors)
            m_siteRoutes[ev->child->id] = m_siteRoutes[ev->child->old_id];
        }
        m_childRekeyTrace(ev->child->old_id, ev->child->id);
        break;
    case VPN_IKEV2_EV_CHILD_DOWN:
        RemoveSiteRoute(ev->child->id);
        m_childDownTrace(ev->child->id, peer, vpn_ikev2_reason_name(ev->reason));
        break;
    case VPN_IKEV2_EV_CHILD_EXPIRING:
    case VPN_IKEV2_EV_CHILD_MOVED: // the router core moved the SAs (RFC 7296 2.23)
        break;
    }
}

// RFC 7296 3.15.1: the INTERNAL_IP4_ADDRESS the responder gave us is our
// inner address; the tunnel interface carries it while the IKE SA lasts.
void
Ikev2Daemon::TakeAssignedAddress(const vpn_ikev2_event* ev)
{
    TakeAssignedAddress6(ev);
    vpn_ikev2_sa_info info;
    if (vpn_ikev2_sa_find(vpn_router_ikev2(Router()), ev->ike_sa_id, &info) != 0 || !info.initiator ||
        info.assigned.family != VPN_AF_INET || ev->child->policy_tag >= m_protected.size())
    {
        return;
    }
    Ipv4Address a = FromCore(info.assigned);
    Ptr<Ipv4> ipv4 = GetNode()->GetObject<Ipv4>();
    int32_t ifc = ipv4 ? ipv4->GetInterfaceForDevice(m_protected[ev->child->policy_tag].tunnel) : -1;
    if (ifc < 0 || (a == m_assigned && ifc == m_assignedIf))
    {
        m_assignedIke = ev->ike_sa_id;
        return;
    }
    if (m_assignedIf >= 0)
    {
        ReleaseAssignedAddress(m_assignedIke);
    }
    ipv4->AddAddress(ifc, Ipv4InterfaceAddress(a, Ipv4Mask("255.255.255.255")));
    m_assigned = a;
    m_assignedIf = ifc;
    m_assignedIke = ev->ike_sa_id;
    NS_LOG_INFO("node " << GetNode()->GetId() << ": assigned " << a << " on interface " << ifc);
    m_addressTrace(ev->ike_sa_id, a, "assigned");
}

// A remote-access hub's Virtual-Template serves site-to-site spokes too
// (FlexVPN's one block): a CHILD_SA whose remote selector is a network (the
// spoke announced it and the hub narrowed to it) gets a route into the
// template's device while it lasts, as IOS routes a spoke's networks via its
// Virtual-Access. Users' host addresses are covered by the pool routes.
void
Ikev2Daemon::AddSiteRoute(const vpn_ikev2_event* ev)
{
    const vpn_ikev2_child_info* c = ev->child;
    if (c->policy_tag >= m_protected.size() ||
        m_protected[c->policy_tag].tunnel->GetMode() != VpnTunnelNetDevice::ACCESS || c->n_ts_remote == 0)
    {
        return;
    }
    const vpn_ikev2_selector& t = c->ts_remote[0];
    if (t.addr_lo.family != VPN_AF_INET || t.addr_hi.family != VPN_AF_INET)
    {
        return;
    }
    uint32_t lo = vpn_addr_v4_u32(&t.addr_lo);
    uint32_t hi = vpn_addr_v4_u32(&t.addr_hi);
    uint32_t host = lo ^ hi;
    // a prefix: lo..hi spans the host bits exactly; any/any and single hosts get none
    if ((host & (host + 1)) != 0 || (lo & host) != 0 || host == 0 || host == 0xffffffffu)
    {
        return;
    }
    Ptr<Ipv4> ipv4 = GetNode()->GetObject<Ipv4>();
    int32_t ifc = ipv4 ? ipv4->GetInterfaceForDevice(m_protected[c->policy_tag].tunnel) : -1;
    Ptr<Ipv4StaticRouting> sr = ipv4 ? Ipv4StaticRoutingHelper().GetStaticRouting(ipv4) : nullptr;
    if (ifc < 0 || !sr)
    {
        return;
    }
    SiteRoute r{Ipv4Address(lo), Ipv4Mask(~host), static_cast<uint32_t>(ifc)};
    bool held = false;
    for (const auto& e : m_siteRoutes)
    {
        held = held || (e.second.net == r.net && e.second.mask == r.mask && e.second.ifc == r.ifc);
    }
    if (!held)
    {
        sr->AddNetworkRouteTo(r.net, r.mask, r.ifc);
        NS_LOG_INFO("node " << GetNode()->GetId() << ": site route " << r.net << "/" << r.mask.GetPrefixLength()
                            << " into interface " << ifc << " (CHILD_SA " << c->id << ")");
    }
    m_siteRoutes[c->id] = r;
}

void
Ikev2Daemon::RemoveSiteRoute(uint32_t childId)
{
    auto it = m_siteRoutes.find(childId);
    if (it == m_siteRoutes.end())
    {
        return;
    }
    SiteRoute r = it->second;
    m_siteRoutes.erase(it);
    for (const auto& e : m_siteRoutes)
    {
        if (e.second.net == r.net && e.second.mask == r.mask && e.second.ifc == r.ifc)
        {
            return; // another CHILD_SA (a rekey's successor) still holds it
        }
    }
    DeleteStaticRoute(r);
}

void
Ikev2Daemon::DeleteStaticRoute(const SiteRoute& r)
{
    Ptr<Ipv4> ipv4 = GetNode()->GetObject<Ipv4>();
    Ptr<Ipv4StaticRouting> sr = ipv4 ? Ipv4StaticRoutingHelper().GetStaticRouting(ipv4) : nullptr;
    for (uint32_t i = sr ? sr->GetNRoutes() : 0; i-- > 0;)
    {
        Ipv4RoutingTableEntry e = sr->GetRoute(i);
        if (e.GetDest() == r.net && e.GetDestNetworkMask() == r.mask && e.GetInterface() == r.ifc)
        {
            sr->RemoveRoute(i);
            break;
        }
    }
}

// RFC 7296 3.15.1: an initiator routes the networks the responder's
// CFG_REPLY names into the tunnel of the CHILD_SA it set up (an IOS FlexVPN
// spoke installs the routes it learns over IKEv2 so); which ones the core
// decides (vpn_ikev2_sa_routes), the routes go with the IKE SA.
void
Ikev2Daemon::AddLearntRoutes(const vpn_ikev2_event* ev)
{
    if (m_learntRoutes.count(ev->ike_sa_id) || ev->child->policy_tag >= m_protected.size())
    {
        return;
    }
    vpn_prefix p[VPN_CP_MAX_SUBNETS];
    int n = vpn_ikev2_sa_routes(vpn_router_ikev2(Router()), ev->ike_sa_id, p, VPN_CP_MAX_SUBNETS);
    Ptr<Ipv4> ipv4 = GetNode()->GetObject<Ipv4>();
    int32_t ifc = ipv4 ? ipv4->GetInterfaceForDevice(m_protected[ev->child->policy_tag].tunnel) : -1;
    Ptr<Ipv4StaticRouting> sr = ipv4 ? Ipv4StaticRoutingHelper().GetStaticRouting(ipv4) : nullptr;
    if (n <= 0 || ifc < 0 || !sr)
    {
        return;
    }
    std::vector<SiteRoute> added;
    for (int i = 0; i < std::min(n, static_cast<int>(VPN_CP_MAX_SUBNETS)); i++)
    {
        if (p[i].addr.family == VPN_AF_INET6)
        {
            if (!AddLearntRoute6(ev->ike_sa_id, p[i], ev->child->policy_tag))
            {
                NS_LOG_INFO("node " << GetNode()->GetId()
                                    << ": IPv6 route from CFG_REPLY not installed (no IPv6 on the tunnel)");
            }
            continue;
        }
        if (p[i].addr.family != VPN_AF_INET)
        {
            continue;
        }
        vpn_addr m;
        vpn_len_to_mask(p[i].len, &m);
        SiteRoute r{FromCore(p[i].addr), Ipv4Mask(vpn_addr_v4_u32(&m)), static_cast<uint32_t>(ifc)};
        sr->AddNetworkRouteTo(r.net, r.mask, r.ifc);
        added.push_back(r);
        NS_LOG_INFO("node " << GetNode()->GetId() << ": learnt route " << r.net << "/"
                            << r.mask.GetPrefixLength() << " into interface " << ifc << " (IKE SA "
                            << ev->ike_sa_id << ")");
    }
    m_learntRoutes[ev->ike_sa_id] = added;
}

void
Ikev2Daemon::RemoveLearntRoutes(uint32_t ikeSaId)
{
    auto it6 = m_learntRoutes6.find(ikeSaId);
    if (it6 != m_learntRoutes6.end())
    {
        Ptr<Ipv6> ipv6 = GetNode()->GetObject<Ipv6>();
        Ptr<Ipv6StaticRouting> sr6 = ipv6 ? Ipv6StaticRoutingHelper().GetStaticRouting(ipv6) : nullptr;
        for (const Route6& r : it6->second)
        {
            for (uint32_t i = sr6 ? sr6->GetNRoutes() : 0; i-- > 0;)
            {
                Ipv6RoutingTableEntry e = sr6->GetRoute(i);
                if (e.GetDest() == r.net && e.GetDestNetworkPrefix().GetPrefixLength() == r.len &&
                    e.GetInterface() == r.ifc)
                {
                    sr6->RemoveRoute(i);
                    break;
                }
            }
        }
        m_learntRoutes6.erase(it6);
    }
    auto it = m_learntRoutes.find(ikeSaId);
    if (it == m_learntRoutes.end())
    {
        return;
    }
    for (const SiteRoute& r : it->second)
    {
        DeleteStaticRoute(r);
    }
    m_learntRoutes.erase(it);
}

std::vector<std::string>
Ikev2Daemon::GetLearntRoutes() const
{
    std::vector<std::string> out;
    for (const auto& e : m_learntRoutes)
    {
        for (const SiteRoute& r : e.second)
        {
            std::ostringstream os;
            os << r.net << "/" << r.mask.GetPrefixLength();
            out.push_back(os.str());
        }
    }
    for (const auto& e : m_learntRoutes6)
    {
        for (const Route6& r : e.second)
        {
            std::ostringstream os;
            os << r.net << "/" << static_cast<unsigned>(r.len);
            out.push_back(os.str());
        }
    }
    return out;
}

void
Ikev2Daemon::ReleaseAssignedAddress(uint32_t ikeSaId)
{
    ReleaseAssignedAddress6(ikeSaId);
    if (m_assignedIf < 0 || ikeSaId != m_assignedIke)
    {
        return;
    }
    Ptr<Ipv4> ipv4 = GetNode()->GetObject<Ipv4>();
    if (ipv4)
    {
        ipv4->RemoveAddress(static_cast<uint32_t>(m_assignedIf), m_assigned);
    }
    m_addressTrace(ikeSaId, m_assigned, "released");
    m_assigned = Ipv4Address::GetAny();
    m_assignedIf = -1;
    m_assignedIke = 0;
}

Ipv4Address
Ikev2Daemon::GetAssignedAddress() const
{
    return m_assigned;
}

Ipv6Address
Ikev2Daemon::GetAssignedAddress6() const
{
    return m_assigned6;
}

// RFC 7296 3.15.1: the INTERNAL_IP6_ADDRESS (with its prefix length) goes
// on the tunnel's IPv6 interface as the IPv4 one does on its IPv4 one.
void
Ikev2Daemon::TakeAssignedAddress6(const vpn_ikev2_event* ev)
{
    vpn_ikev2_sa_info info;
    if (vpn_ikev2_sa_find(vpn_router_ikev2(Router()), ev->ike_sa_id, &info) != 0 || !info.initiator ||
        info.assigned6.family != VPN_AF_INET6 || ev->child->policy_tag >= m_protected.size())
    {
        return;
    }
    // The tunnel joined IPv6 when it was built (FlexVpnHelper, a
    // dual-overlay tunnel): adding an interface here, inside the receive
    // path of the packet that brought the event, would change the node's
    // protocol handlers while ns-3 walks them.
    Ptr<VpnTunnelNetDevice> tun = m_protected[ev->child->policy_tag].tunnel;
    Ptr<Ipv6> ipv6 = GetNode()->GetObject<Ipv6>();
    int32_t ifc = ipv6 ? ipv6->GetInterfaceForDevice(tun) : -1;
    Ipv6Address a = FromCore6(info.assigned6);
    if (ifc < 0)
    {
        NS_LOG_INFO("node " << GetNode()->GetId() << ": assigned " << a << " but the tunnel has no IPv6 interface");
        return;
    }
    if (a == m_assigned6 && ifc == m_assigned6If)
    {
        m_assigned6Ike = ev->ike_sa_id;
        return;
    }
    if (m_assigned6If >= 0)
    {
        ReleaseAssignedAddress6(m_assigned6Ike);
    }
    tun->AddIpv6Address(static_cast<uint32_t>(ifc), a, info.assigned6_len);
    m_assigned6 = a;
    m_assigned6If = ifc;
    m_assigned6Ike = ev->ike_sa_id;
    NS_LOG_INFO("node " << GetNode()->GetId() << ": assigned " << a << "/" << unsigned(info.assigned6_len)
                        << " on IPv6 interface " << ifc);
}

void
Ikev2Daemon::ReleaseAssignedAddress6(uint32_t ikeSaId)
{
    if (m_assigned6If < 0 || ikeSaId != m_assigned6Ike)
    {
        return;
    }
    if (Ptr<Ipv6> ipv6 = GetNode()->GetObject<Ipv6>())
    {
        ipv6->RemoveAddress(static_cast<uint32_t>(m_assigned6If), m_assigned6);
    }
    m_assigned6 = Ipv6Address::GetAny();
    m_assigned6If = -1;
    m_assigned6Ike = 0;
}

// INTERNAL_IP6_SUBNET (3.15.1): into the tunnel's IPv6 interface, which
// exists once the hub gave an IPv6 address (TakeAssignedAddress6).
bool
Ikev2Daemon::AddLearntRoute6(uint32_t ikeSaId, const vpn_prefix& p, uint32_t tag)
{
    Ptr<Ipv6> ipv6 = GetNode()->GetObject<Ipv6>();
    int32_t ifc = ipv6 && tag < m_protected.size() ? ipv6->GetInterfaceForDevice(m_protected[tag].tunnel) : -1;
    if (ifc < 0)
    {
        return false;
    }
    Route6 r{FromCore6(p.addr), p.len, static_cast<uint32_t>(ifc)};
    Ipv6StaticRoutingHelper().GetStaticRouting(ipv6)->AddNetworkRouteTo(r.net, Ipv6Prefix(r.len), r.ifc);
    m_learntRoutes6[ikeSaId].push_back(r);
    NS_LOG_INFO("node " << GetNode()->GetId() << ": learnt route " << r.net << "/" << unsigned(r.len)
                        << " into IPv6 interface " << ifc << " (IKE SA " << ikeSaId << ")");
    return true;
}

std::string
Ikev2Daemon::ShowIpLocalPool() const
{
    const vpn_router* r = Router();
    if (!r)
    {
        return "";
    }
    return Render([&](vpn_show_buf* b) { return vpn_show_ip_local_pool(vpn_router_ikev2(r), b); });
}

std::string
Ikev2Daemon::ShowCryptoSessionUser(const std::string& user, bool detail) const
{
    const vpn_router* r = Router();
    if (!r)
    {
        return "";
    }
    return Render([&](vpn_show_buf* b) {
        return vpn_router_show_crypto_session_user(r, VpnNodeEngine::NowNs(), user.c_str(), detail, b);
    });
}

uint32_t
Ikev2Daemon::GetIkeSasUp() const
{
    return m_ikeUp;
}

uint32_t
Ikev2Daemon::GetChildSasInstalled() const
{
    return m_childUp;
}

const std::vector<std::string>&
Ikev2Daemon::GetIkeKeyLines() const
{
    return m_ikeKeyLines;
}

std::string
Ikev2Daemon::ShowCryptoIkev2Sa(bool detail) const
{
    const vpn_router* r = Router();
    if (!r)
    {
        return "";
    }
    return Render([&](vpn_show_buf* b) {
        return vpn_router_show_ikev2_sa(r, VpnNodeEngine::NowNs(), detail, b);
    });
}

std::string
Ikev2Daemon::ShowCryptoSession(bool detail) const
{
    const vpn_router* r = Router();
    if (!r)
    {
        return "";
    }
    return Render([&](vpn_show_buf* b) {
        return vpn_router_show_crypto_session(r, VpnNodeEngine::NowNs(), detail, b);
    });
}

// The router's first multipoint GRE tunnel, UINT32_MAX if none.
static uint32_t
FirstMgre(const vpn_router* r)
{
    for (uint32_t i = 0; r && i < vpn_router_tunnel_count(r); i++)
    {
        vpn_router_tunnel_info ti;
        if (vpn_router_tunnel_get(r, i, &ti) == 0 && ti.mode == VPN_ROUTER_TUNNEL_MGRE)
        {
            return i;
        }
    }
    return UINT32_MAX;
}

std::string
Ikev2Daemon::ShowDmvpn(bool detail) const
{
    const vpn_router* r = Router();
    uint32_t t = FirstMgre(r);
    if (t == UINT32_MAX)
    {
        return "";
    }
    return Render([&](vpn_show_buf* b) { return vpn_router_show_dmvpn(r, VpnNodeEngine::NowNs(), t, detail, b); });
}

std::string
Ikev2Daemon::ShowIpNhrp() const
{
    const vpn_router* r = Router();
    uint32_t t = FirstMgre(r);
    if (t == UINT32_MAX)
    {
        return "";
    }
    return Render([&](vpn_show_buf* b) { return vpn_router_show_ip_nhrp(r, VpnNodeEngine::NowNs(), t, b); });
}

std::string
Ikev2Daemon::ShowIpNhrpTraffic() const
{
    const vpn_router* r = Router();
    uint32_t t = FirstMgre(r);
    if (t == UINT32_MAX)
    {
        return "";
    }
    return Render([&](vpn_show_buf* b) { return vpn_router_show_ip_nhrp_traffic(r, t, b); });
}

std::string
Ikev2Daemon::ShowDerivedConfig(uint32_t va) const
{
    const vpn_router* r = Router();
    vpn_router_va_info info;
    if (!r || vpn_router_va_get(r, va, &info) != 0)
    {
        return "";
    }
    return Render([&](vpn_show_buf* b) { return vpn_router_show_derived_config(r, va, b); });
}

std::string
Ikev2Daemon::ShowVirtualAccess() const
{
    const vpn_router* r = Router();
    if (!r)
    {
        return "";
    }
    // one block per clone: thousands of them outgrow Render's buffer
    std::vector<char> buf(1 << 16);
    for (;;)
    {
        vpn_show_buf b;
        vpn_show_init(&b, buf.data(), buf.size());
        if (vpn_router_show_virtual_access(r, VpnNodeEngine::NowNs(), &b) != VPN_ERR_NOSPACE)
        {
            return std::string(buf.data(), b.len);
        }
        buf.resize(buf.size() * 2);
    }
}

uint32_t
Ikev2Daemon::GetVirtualAccessCount() const
{
    return static_cast<uint32_t>(vpn_router_va_count(Router()));
}

std::string
Ikev2Daemon::ShowCryptoIpsecSa(bool detail) const
{
    const vpn_router* r = Router();
    if (!r)
    {
        return "";
    }
    return Render([&](vpn_show_buf* b) {
        return vpn_router_show_ipsec_sa(r, VpnNodeEngine::NowNs(), detail, b);
    });
}

const vpn_conf*
Ikev2Daemon::Conf() const
{
    if (m_conf)
    {
        return m_conf; // not started yet
    }
    Ptr<Node> node = GetNode();
    Ptr<VpnIpsecStack> stack = m_engine && node ? node->GetObject<VpnIpsecStack>() : nullptr;
    return stack ? stack->GetConf() : nullptr;
}

std::string
Ikev2Daemon::ShowCryptoIkev2Proposal() const
{
    const vpn_conf* conf = Conf();
    if (!conf)
    {
        return "";
    }
    return Render([&](vpn_show_buf* b) { return vpn_show_ikev2_proposal(conf, nullptr, b); });
}

std::string
Ikev2Daemon::ShowCryptoIkev2Profile() const
{
    const vpn_conf* conf = Conf();
    if (!conf)
    {
        return "";
    }
    return Render([&](vpn_show_buf* b) { return vpn_show_ikev2_profile(conf, nullptr, b); });
}

} // namespace ns3
