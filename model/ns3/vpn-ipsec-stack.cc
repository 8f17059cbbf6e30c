#include "vpn-ipsec-stack.h"

#include "vpn-node-engine.h"
#include "vpn-packet-util.h"
#include "vpn-tunnel-net-device.h"

#include "ns3/abort.h"
#include "ns3/ipv4-header.h"
#include "ns3/ipv4-interface.h"
#include "ns3/ipv4-l3-protocol.h"
#include "ns3/ipv4-list-routing.h"
#include "ns3/ipv4-raw-socket-factory.h"
#include "ns3/ipv4-routing-protocol.h"
#include "ns3/ipv4-static-routing-helper.h"
#include "ns3/ipv4-routing-table-entry.h"
#include "ns3/ipv4-static-routing.h"
#include "ns3/ipv4.h"
#include "ns3/log.h"
#include "ns3/channel.h"
#include "ns3/simple-net-device.h"
#include "ns3/output-stream-wrapper.h"
#include "ns3/rip.h"
#include "ns3/node.h"
#include "ns3/packet.h"
#include "ns3/simulator.h"
#include "ns3/socket.h"
#include "ns3/uinteger.h"

#include <algorithm>
#include <sstream>

extern "C" {
#include "common/addr.h"
#include "common/rng.h"
#include "common/vpn-err.h"
#include "conf/conf.h"
#include "getvpn/getvpn.h"
#include "ipsec/ip.h"
#include "ipsec/pkt.h"
#include "nhrp/nhrp-conf.h"
#include "router/router.h"
}

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("VpnIpsecStack");
NS_OBJECT_ENSURE_REGISTERED(VpnIpsecStack);

static_assert(VpnIpsecStack::DROP_DELIVER == static_cast<int>(VPN_ROUTER_DROP_DELIVER) &&
                  VpnIpsecStack::DROP_NO_SA == static_cast<int>(VPN_ROUTER_DROP_NO_SA) &&
                  VpnIpsecStack::DROP_NO_NBMA == static_cast<int>(VPN_ROUTER_DROP_NO_NBMA) &&
                  VpnIpsecStack::DROP_IKEV1 == static_cast<int>(VPN_ROUTER_DROP_IKEV1) &&
                  VPN_ROUTER_DROP_COUNT == VPN_ROUTER_DROP_IKEV1 + 1,
              "DropReason mirrors vpn_router_drop");

struct VpnIpsecStack::Core
{
    vpn_drbg ikeDrbg{};
    vpn_drbg sadDrbg{};
    bool drbgs{false};
    vpn_conf* conf{nullptr};
    vpn_router* router{nullptr};
    //! GET VPN groups as EnableGetVpn gave them: attached again to the fresh router at PowerOn
    std::vector<vpn_getvpn_group_params> gdoiGroups;
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
            .AddTraceSource("KeyLine",
                            "A Wireshark key line the router core made (table, line): every "
                            "SA, IKE SA, phase-1 SA and TEK once.",
                            MakeTraceSourceAccessor(&VpnIpsecStack::m_keyLineTrace),
                            "ns3::VpnIpsecStack::KeyLineTracedCallback")
            .AddTraceSource("Drop",
                            "A packet the data plane refused, with the reason.",
                            MakeTraceSourceAccessor(&VpnIpsecStack::m_dropTrace),
                            "ns3::VpnIpsecStack::DropTracedCallback")
            .AddTraceSource("PlainPacket",
                            "The inner packet of an ESP packet sent or received under an SA "
                            "Wireshark cannot decrypt (ChaCha20-Poly1305): the decrypted view.",
                            MakeTraceSourceAccessor(&VpnIpsecStack::m_plainTrace),
                            "ns3::VpnIpsecStack::PlainPacketTracedCallback")
            .AddTraceSource("PlainIke",
                            "An encrypted IKEv2 message sent or received under an IKE SA "
                            "Wireshark cannot decrypt, unencrypted in an IP/UDP datagram: "
                            "the decrypted view.",
                            MakeTraceSourceAccessor(&VpnIpsecStack::m_plainIkeTrace),
                            "ns3::VpnIpsecStack::PlainPacketTracedCallback");
    return tid;
}

std::string
VpnIpsecStack::GetDropReasonName(DropReason reason)
{
    return vpn_router_drop_name(static_cast<vpn_router_drop>(reason));
}

namespace
{

// Makes a receive buffer hold len octets with the core's head- and
// tailroom. It grows to the largest packet seen, not to the largest IP
// packet at creation: with 10,000 spokes each node keeps ~2 KB instead of
// 64 KB (as VpnCryptoMapNetDevice::Work does).
void
RxRoom(std::vector<uint8_t>& buf, uint32_t len)
{
    size_t need = VPN_PKT_HEADROOM + static_cast<size_t>(len) + VPN_PKT_TAILROOM;
    if (buf.size() < need)
    {
        buf.resize(need);
    }
}

} // namespace

VpnIpsecStack::VpnIpsecStack()
    : m_core(new Core),
      m_inOutput(false),
      m_nhrpRoutes(0)
{
    NS_LOG_FUNCTION(this);
}

VpnIpsecStack::~VpnIpsecStack()
{
    if (m_core)
    {
        vpn_router_del(m_core->router);
        vpn_conf_del(m_core->conf);
        if (m_core->drbgs)
        {
            vpn_drbg_free(&m_core->ikeDrbg);
            vpn_drbg_free(&m_core->sadDrbg);
        }
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

void
VpnIpsecStack::CreateRouter(const vpn_conf* conf)
{
    NS_LOG_FUNCTION(this << conf);
    NS_ABORT_MSG_IF(!m_node, "VpnIpsecStack must be aggregated to a Node");
    Ptr<VpnNodeEngine> engine = VpnNodeEngine::GetOrCreate(m_node);
    // following: AssignStreams after Install still reaches the router's draws
    NS_ABORT_MSG_IF(engine->ForkFollowingDrbg(&m_core->ikeDrbg, "ikev2") != 0 ||
                        engine->ForkFollowingDrbg(&m_core->sadDrbg, "ipsec-sad") != 0,
                    "DRBG fork failed");
    m_core->drbgs = true;
    vpn_router_params p;
    vpn_router_params_init(&p);
    p.conf = conf;
    vpn_rng_init_drbg(&p.rng, &m_core->ikeDrbg);
    vpn_rng_init_drbg(&p.sad_rng, &m_core->sadDrbg);
    p.log = *engine->GetLog();
    p.send_udp = &VpnIpsecStack::SendUdpThunk;
    p.send_esp = &VpnIpsecStack::SendEspThunk;
    p.deliver = &VpnIpsecStack::DeliverThunk;
    p.event = &VpnIpsecStack::EventThunk;
    p.route = &VpnIpsecStack::RouteThunk;
    p.gdoi_sent = &VpnIpsecStack::GdoiSentThunk;
    p.esp_plain = &VpnIpsecStack::EspPlainThunk;
    p.ike_plain = &VpnIpsecStack::IkePlainThunk;
    p.user = this;
    p.key_lines = true; // KeyLine, the daemons' key lists
    if (conf)
    {
        p.on_demand_holddown_ns = static_cast<uint64_t>(m_hooks.onDemandHoldDown.GetNanoSeconds());
    }
    int rc = vpn_router_new(&m_core->router, &p);
    NS_ABORT_MSG_IF(rc != 0, "VPN router: " << vpn_strerror(rc));
}

vpn_router*
VpnIpsecStack::Router()
{
    if (!m_core->router)
    {
        CreateRouter(nullptr);
    }
    return m_core->router;
}

const vpn_router*
VpnIpsecStack::GetRouter() const
{
    return m_core ? m_core->router : nullptr;
}

const vpn_conf*
VpnIpsecStack::GetConf() const
{
    return m_core ? m_core->conf : nullptr;
}

uint32_t
VpnIpsecStack::ClearIkeSas()
{
    NS_LOG_FUNCTION(this);
    return ForEachIkeSa(false, Ipv4Address(), &vpn_router_ike_delete);
}

uint32_t
VpnIpsecStack::ClearIkeSas(Ipv4Address peer)
{
    NS_LOG_FUNCTION(this << peer);
    return ForEachIkeSa(true, peer, &vpn_router_ike_delete);
}

uint32_t
VpnIpsecStack::RekeyIkeSas()
{
    NS_LOG_FUNCTION(this);
    return ForEachIkeSa(false, Ipv4Address(), &vpn_router_ike_rekey);
}

uint32_t
VpnIpsecStack::RekeyIkeSas(Ipv4Address peer)
{
    NS_LOG_FUNCTION(this << peer);
    return ForEachIkeSa(true, peer, &vpn_router_ike_rekey);
}

uint32_t
VpnIpsecStack::RekeyChildSas(Ipv4Address peer)
{
    NS_LOG_FUNCTION(this << peer);
    const vpn_ikev2_ctx* ike = m_core->router ? vpn_router_ikev2(m_core->router) : nullptr;
    vpn_addr want;
    vpn_addr_v4(&want, peer.Get());
    // the ids first: a rekey changes the lists being walked
    std::vector<uint32_t> ids;
    for (size_t i = 0; ike && i < vpn_ikev2_sa_count(ike); i++)
    {
        vpn_ikev2_sa_info info;
        if (vpn_ikev2_sa_get(ike, i, &info) != 0 || info.state != VPN_IKEV2_SA_ESTABLISHED ||
            !vpn_addr_eq(&info.remote.addr, &want))
        {
            continue;
        }
        vpn_ikev2_child_state c;
        for (size_t k = 0; vpn_ikev2_child_get(ike, info.id, k, &c) == 0; k++)
        {
            ids.push_back(c.info.id);
        }
    }
    uint32_t n = 0;
    for (uint32_t id : ids)
    {
        n += vpn_router_child_rekey(m_core->router, VpnNodeEngine::NowNs(), id) == 0;
    }
    Reschedule();
    return n;
}

uint32_t
VpnIpsecStack::ForEachIkeSa(bool onePeer, Ipv4Address peer, int (*op)(vpn_router*, uint64_t, uint32_t))
{
    const vpn_ikev2_ctx* ike = m_core->router ? vpn_router_ikev2(m_core->router) : nullptr;
    std::vector<uint32_t> ids;
    vpn_addr want;
    vpn_addr_v4(&want, peer.Get());
    for (size_t i = 0; ike && i < vpn_ikev2_sa_count(ike); i++)
    {
        vpn_ikev2_sa_info info;
        if (vpn_ikev2_sa_get(ike, i, &info) == 0 && (!onePeer || vpn_addr_eq(&info.remote.addr, &want)))
        {
            ids.push_back(info.id);
        }
    }
    uint32_t n = 0;
    for (uint32_t id : ids)
    {
        n += op(m_core->router, VpnNodeEngine::NowNs(), id) == 0;
    }
    Reschedule();
    return n;
}

int
VpnIpsecStack::GdoiReregister()
{
    NS_LOG_FUNCTION(this);
    int rc = vpn_router_gdoi_reregister(Router(), VpnNodeEngine::NowNs());
    Reschedule();
    return rc;
}

bool
VpnIpsecStack::IsPoweredOff() const
{
    return m_off;
}

bool
VpnIpsecStack::PowerOff()
{
    NS_LOG_FUNCTION(this);
    Ptr<Ipv4> ipv4 = m_node->GetObject<Ipv4>();
    if (m_off || !ipv4)
    {
        return false;
    }
    Ipv4StaticRoutingHelper helper;
    Ptr<Ipv4StaticRouting> sr = helper.GetStaticRouting(ipv4);
    m_offRoutes.clear();
    for (uint32_t i = 0; sr && i < sr->GetNRoutes(); i++)
    {
        Ipv4RoutingTableEntry e = sr->GetRoute(i);
        bool nhrp = false; // NHRP routes are the router's: they go with its state
        for (const auto& r : m_nhrpRouteList)
        {
            nhrp = nhrp || (e.GetDest() == r.first && e.GetDestNetworkMask() == r.second.first &&
                            e.GetInterface() == r.second.second);
        }
        if (!nhrp)
        {
            m_offRoutes.push_back({e, sr->GetMetric(i)});
        }
    }
    // interface 0 is the loopback: it stays up
    for (uint32_t i = 1; i < ipv4->GetNInterfaces(); i++)
    {
        ipv4->SetDown(i);
    }
    m_off = true;
    if (m_core->router && m_core->conf)
    {
        Reboot(); // the state is gone now; the fresh router cannot reach anyone
    }
    else if (m_core->router && !m_core->gdoiGroups.empty())
    {
        // GET VPN: a member's TEKs, KEK and phase-1 SA go with the power (a
        // key server's keys too); PowerOn attaches the groups again
        DropRouter();
    }
    return true;
}

bool
VpnIpsecStack::PowerOn()
{
    NS_LOG_FUNCTION(this);
    Ptr<Ipv4> ipv4 = m_node->GetObject<Ipv4>();
    if (!m_off || !ipv4)
    {
        return false;
    }
    for (uint32_t i = 1; i < ipv4->GetNInterfaces(); i++)
    {
        ipv4->SetUp(i);
    }
    // the table as it was (SetUp added the connected routes again)
    Ipv4StaticRoutingHelper helper;
    Ptr<Ipv4StaticRouting> sr = helper.GetStaticRouting(ipv4);
    while (sr && sr->GetNRoutes() > 0)
    {
        sr->RemoveRoute(0);
    }
    for (const SavedRoute& r : m_offRoutes)
    {
        const Ipv4RoutingTableEntry& e = r.entry;
        if (e.IsGateway())
        {
            sr->AddNetworkRouteTo(e.GetDestNetwork(), e.GetDestNetworkMask(), e.GetGateway(), e.GetInterface(),
                                  r.metric);
        }
        else
        {
            sr->AddNetworkRouteTo(e.GetDestNetwork(), e.GetDestNetworkMask(), e.GetInterface(), r.metric);
        }
    }
    m_offRoutes.clear();
    m_off = false;
    if (m_core->router && m_core->conf)
    {
        Reboot(); // a fresh start: initiators bring IKE up, spokes register
    }
    else if (!m_core->gdoiGroups.empty() && (!m_core->router || !vpn_router_getvpn(m_core->router)))
    {
        // members register anew (their start time has passed), as after a
        // reload; a router made while off (a call reached Router()) is empty
        if (m_core->router)
        {
            DropRouter();
        }
        CreateRouter(nullptr);
        int rc = vpn_router_getvpn_attach(m_core->router, VpnNodeEngine::NowNs(), m_core->gdoiGroups.data(),
                                          m_core->gdoiGroups.size());
        NS_ABORT_MSG_IF(rc != 0, "GET VPN groups attached again: " << vpn_strerror(rc));
        Reschedule();
    }
    return true;
}

void
VpnIpsecStack::DropRouter()
{
    NS_LOG_FUNCTION(this);
    Simulator::Cancel(m_timer);
    m_timerAt = UINT64_MAX;
    // the C router goes (keys wiped), no callbacks; the DRBGs are forked anew
    vpn_router_del(m_core->router);
    m_core->router = nullptr;
    ReleaseDrbgs();
    vpn_drbg_free(&m_core->ikeDrbg);
    vpn_drbg_free(&m_core->sadDrbg);
    m_core->drbgs = false;
}

int
VpnIpsecStack::InitiateTunnel(uint32_t tunnelId)
{
    NS_LOG_FUNCTION(this << tunnelId);
    if (!m_core->router)
    {
        return VPN_ERR_INVAL;
    }
    int rc = vpn_router_tunnel_initiate(m_core->router, VpnNodeEngine::NowNs(), tunnelId);
    Reschedule();
    return rc;
}

std::string
VpnIpsecStack::EnableIkev2(const std::string& iosConfig, const Ikev2Hooks& hooks)
{
    NS_LOG_FUNCTION(this);
    vpn_conf* conf = nullptr;
    vpn_conf_error err{};
    int rc = vpn_conf_parse(iosConfig.c_str(), iosConfig.size(), &conf, &err);
    if (rc != 0)
    {
        return "line " + std::to_string(err.line) + ": " + err.msg;
    }
    std::string e = EnableIkev2(conf, hooks);
    if (!e.empty())
    {
        vpn_conf_del(conf);
    }
    return e;
}

std::string
VpnIpsecStack::EnableIkev2(vpn_conf* conf, const Ikev2Hooks& hooks)
{
    NS_LOG_FUNCTION(this << conf);
    if (m_core->router)
    {
        return "the node's router already runs (IKE and manual keys on one node are not supported)";
    }
    if (!conf)
    {
        return "no configuration";
    }
    vpn_conf_del(m_core->conf);
    m_core->conf = conf;
    m_hooks = hooks;
    CreateRouter(m_core->conf);
    return "";
}

uint32_t
VpnIpsecStack::AddTunnel(VpnTunnelNetDevice* dev, const std::string& ipsecProfile, bool initiate, bool atStart)
{
    NS_LOG_FUNCTION(this << dev << ipsecProfile << initiate << atStart);
    for (size_t i = 0; i < m_tunnels.size(); i++)
    {
        if (m_tunnels[i] == dev)
        {
            return static_cast<uint32_t>(i);
        }
    }
    TunnelArgs args{ipsecProfile, initiate, atStart};
    AddToRouter(dev, args);
    uint32_t id = static_cast<uint32_t>(m_tunnels.size());
    m_tunnels.push_back(dev);
    m_tunnelArgs.push_back(args);
    EnsureReceiver();
    return id;
}

void
VpnIpsecStack::AddToRouter(VpnTunnelNetDevice* dev, const TunnelArgs& a)
{
    const std::string& ipsecProfile = a.profile;
    bool initiate = a.initiate;
    bool atStart = a.atStart;
    vpn_router_tunnel_config tc{};
    std::string name = dev->GetInterfaceName();
    tc.name = name.c_str();
    tc.mode = dev->GetMode() == VpnTunnelNetDevice::VTI      ? VPN_ROUTER_TUNNEL_VTI
              : dev->GetMode() == VpnTunnelNetDevice::ACCESS ? VPN_ROUTER_TUNNEL_ACCESS
                                                             : VPN_ROUTER_TUNNEL_GRE_IPSEC;
    tc.dual_overlay = dev->GetDualOverlay();
    vpn_nhrp_conf_params np{};
    if (dev->GetMode() == VpnTunnelNetDevice::MGRE)
    {
        // `ip nhrp ...` of this interface from the node's configuration
        NS_ABORT_MSG_IF(!m_core->conf, name << ": multipoint GRE needs the node's IOS configuration");
        vpn_conf_error err{};
        int prc = vpn_nhrp_params_from_conf(m_core->conf, name.c_str(), &np, &err);
        NS_ABORT_MSG_IF(prc != 0, name << " line " << err.line << ": " << err.msg);
        tc.mode = VPN_ROUTER_TUNNEL_MGRE;
        tc.nhrp = &np.p;
        // FlexVPN: a Virtual-Template clones a Virtual-Access per peer; a
        // spoke's tunnel clones its `ip nhrp shortcut virtual-template N`
        // for sessions with other spokes
        const vpn_conf_interface* f = vpn_conf_find_interface(m_core->conf, name.c_str());
        tc.virtual_template = f ? (f->is_virtual_template ? f->vt_number : f->nhrp.shortcut_vt) : 0;
    }
    vpn_addr_v4(&tc.src, dev->GetTunnelSource().Get());
    vpn_addr_v4(&tc.dst, dev->GetTunnelDestination().Get());
    tc.has_key = dev->GetTunnelKey() != 0;
    tc.key = dev->GetTunnelKey();
    tc.ipsec_profile = ipsecProfile.empty() ? nullptr : ipsecProfile.c_str();
    tc.initiate = initiate;
    tc.initiate_at_start = atStart;
    uint32_t id = 0;
    int rc = vpn_router_tunnel_add(Router(), &tc, &id);
    NS_ABORT_MSG_IF(rc != 0,
                    name << ": ipsec profile " << ipsecProfile << ": " << vpn_strerror(rc));
    // the router numbers tunnels in the order they come, as m_tunnels does
    NS_ABORT_MSG_IF(id >= m_tunnels.size() + 1, name << ": tunnel id " << id << " out of order");
}

void
VpnIpsecStack::Reboot()
{
    NS_LOG_FUNCTION(this);
    NS_ABORT_MSG_IF(!m_core->router || !m_core->conf, "Reboot: only an IKE-keyed router reboots");
    Ipv4StaticRoutingHelper helper;
    Ptr<Ipv4> ipv4 = m_node->GetObject<Ipv4>();
    Ptr<Ipv4StaticRouting> sr = ipv4 ? helper.GetStaticRouting(ipv4) : nullptr;
    for (const auto& r : m_nhrpRouteList)
    {
        for (uint32_t i = sr ? sr->GetNRoutes() : 0; i-- > 0;)
        {
            Ipv4RoutingTableEntry e = sr->GetRoute(i);
            if (e.GetDest() == r.first && e.GetDestNetworkMask() == r.second.first &&
                e.GetInterface() == r.second.second)
            {
                sr->RemoveRoute(i);
            }
        }
    }
    m_nhrpRouteList.clear();
    m_nhrpRoutes = 0;
    DropRouter();
    CreateRouter(m_core->conf);
    for (size_t i = 0; i < m_tunnels.size(); i++)
    {
        if (m_tunnels[i])
        {
            AddToRouter(m_tunnels[i], m_tunnelArgs[i]);
        }
    }
    vpn_router_start(m_core->router, VpnNodeEngine::NowNs());
    Reschedule();
}


uint32_t
VpnIpsecStack::RekeyChildSas()
{
    NS_LOG_FUNCTION(this);
    return ForEachTunnelChild(&vpn_router_child_rekey);
}

uint32_t
VpnIpsecStack::ForEachTunnelChild(int (*op)(vpn_router*, uint64_t, uint32_t))
{
    if (!m_core->router)
    {
        return 0;
    }
    uint32_t done = 0;
    uint64_t now = VpnNodeEngine::NowNs();
    for (uint32_t t = 0; t < vpn_router_tunnel_count(m_core->router); t++)
    {
        vpn_router_tunnel_info info{};
        if (vpn_router_tunnel_get(m_core->router, t, &info) == 0 && info.mode != VPN_ROUTER_TUNNEL_MGRE &&
            info.out_child != 0 && op(m_core->router, now, info.out_child) == 0)
        {
            done++;
        }
    }
    Reschedule();
    return done;
}

void
VpnIpsecStack::Start()
{
    NS_LOG_FUNCTION(this);
    vpn_router_start(Router(), VpnNodeEngine::NowNs());
    Reschedule();
}

int
VpnIpsecStack::AddSa(const vpn_sa_config& cfg, VpnTunnelNetDevice* owner, uint32_t* spi)
{
    NS_LOG_FUNCTION(this << owner);
    uint32_t tunnel = owner->AttachToStack();
    vpn_router_sa_ref ref{};
    int rc = vpn_router_sa_add(Router(), VpnNodeEngine::NowNs(), tunnel, &cfg, &ref);
    if (rc == 0 && spi)
    {
        *spi = ref.spi;
    }
    Reschedule();
    return rc;
}

int
VpnIpsecStack::RemoveSa(uint32_t spi, unsigned dir)
{
    NS_LOG_FUNCTION(this << spi << dir);
    vpn_router_sa_ref ref{spi, dir};
    return vpn_router_sa_remove(Router(), &ref);
}

void
VpnIpsecStack::ForgetEndpoint(VpnTunnelNetDevice* owner)
{
    NS_LOG_FUNCTION(this << owner);
    for (auto& t : m_tunnels)
    {
        if (t == owner)
        {
            t = nullptr;
        }
    }
}

uint16_t
VpnIpsecStack::GetTunnelMtu(uint32_t tunnel, uint16_t wanMtu) const
{
    uint16_t mtu = 68;
    vpn_router_tunnel_mtu(m_core->router, tunnel, wanMtu, &mtu);
    return mtu;
}

uint32_t
VpnIpsecStack::GetOutboundSpi(uint32_t tunnel) const
{
    vpn_router_tunnel_info ti;
    if (vpn_router_tunnel_get(m_core->router, tunnel, &ti) != 0)
    {
        return 0;
    }
    return ti.out_sa.spi;
}

VpnIpsecStack::DropReason
VpnIpsecStack::TunnelOutput(uint32_t tunnel, vpn_pkt* pkt, Ptr<const Packet> carrier)
{
    NS_LOG_FUNCTION(this << tunnel);
    m_txCarrier = carrier;
    m_inOutput = true;
    vpn_router_drop res = vpn_router_tunnel_output(Router(), VpnNodeEngine::NowNs(), tunnel, pkt);
    m_inOutput = false;
    m_txCarrier = nullptr;
    Reschedule();
    return static_cast<DropReason>(res);
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
    NS_LOG_FUNCTION(this << socket);
    Ptr<Packet> packet;
    while ((packet = socket->Recv()))
    {
        uint32_t len = packet->GetSize();
        if (len > 65535)
        {
            m_dropTrace(DROP_OVERSIZE, 0);
            continue;
        }
        RxRoom(m_rxBuf, len);
        packet->CopyData(m_rxBuf.data() + VPN_PKT_HEADROOM, len);
        vpn_pkt pkt;
        vpn_pkt_init(&pkt, m_rxBuf.data(), m_rxBuf.size(), VPN_PKT_HEADROOM);
        pkt.len = len;
        m_rxCarrier = packet;
        vpn_router_ip_input(Router(), VpnNodeEngine::NowNs(), &pkt);
        m_rxCarrier = nullptr;
    }
    Reschedule();
}

void
VpnIpsecStack::ReceiveUdp(Ptr<Packet> payload,
                          Ipv4Address src,
                          uint16_t sport,
                          Ipv4Address dst,
                          uint16_t dport)
{
    NS_LOG_FUNCTION(this << src << sport << dst << dport);
    uint32_t len = payload->GetSize();
    if (len > 65535)
    {
        m_dropTrace(DROP_OVERSIZE, 0);
        return;
    }
    RxRoom(m_rxBuf, len);
    payload->CopyData(m_rxBuf.data() + VPN_PKT_HEADROOM, len);
    vpn_pkt pkt;
    vpn_pkt_init(&pkt, m_rxBuf.data(), m_rxBuf.size(), VPN_PKT_HEADROOM);
    pkt.len = len;
    vpn_ikev2_endpoint local{};
    vpn_ikev2_endpoint remote{};
    vpn_addr_v4(&local.addr, dst.Get());
    local.port = dport;
    vpn_addr_v4(&remote.addr, src.Get());
    remote.port = sport;
    m_rxCarrier = payload;
    vpn_router_udp_input(Router(), VpnNodeEngine::NowNs(), &local, &remote, &pkt);
    m_rxCarrier = nullptr;
    Reschedule();
}

void
VpnIpsecStack::ReceiveUdpEsp(Ptr<Packet> payload,
                             Ipv4Address src,
                             uint16_t sport,
                             Ipv4Address dst,
                             uint16_t dport)
{
    NS_LOG_FUNCTION(this << src << sport << dst << dport);
    ReceiveUdp(payload, src, sport, dst, dport);
}

bool
VpnIpsecStack::SendIpPacket(const uint8_t* data, size_t len, Ptr<const Packet> tagsFrom)
{
    NS_LOG_FUNCTION(this << len);
    Ptr<Ipv4> ipv4 = GetIpv4();
    NS_ABORT_MSG_IF(!ipv4, "VpnIpsecStack needs an IPv4 stack on the node");
    Ptr<Packet> packet = Create<Packet>(data, static_cast<uint32_t>(len));
    VpnCopyTags(tagsFrom, packet);
    Ipv4Header header;
    packet->RemoveHeader(header);
    Socket::SocketErrno err = Socket::ERROR_NOTERROR;
    Ptr<Ipv4Route> route = ipv4->GetRoutingProtocol()->RouteOutput(packet, header, nullptr, err);
    if (!route)
    {
        return false;
    }
    ipv4->SendWithHeader(packet, header, route);
    return true;
}

int
VpnIpsecStack::EnableGetVpn(const std::vector<vpn_getvpn_group_params>& groups, const GdoiHooks& hooks)
{
    NS_LOG_FUNCTION(this << groups.size());
    m_gdoiHooks = hooks;
    m_core->gdoiGroups = groups;
    int rc = vpn_router_getvpn_attach(Router(), VpnNodeEngine::NowNs(), groups.data(), groups.size());
    Reschedule();
    return rc;
}

VpnIpsecStack::DropReason
VpnIpsecStack::CryptoMapOutput(vpn_pkt* pkt, bool* encrypted, int* why)
{
    vpn_router_drop d = vpn_router_cryptomap_output(Router(), VpnNodeEngine::NowNs(), pkt, encrypted);
    if (why)
    {
        *why = vpn_router_cryptomap_last_drop(m_core->router);
    }
    // data only: no engine ran, no deadline moved (and no per-packet hook)
    return static_cast<DropReason>(d);
}

VpnIpsecStack::DropReason
VpnIpsecStack::CryptoMapInput(vpn_pkt* pkt, bool* decrypted, int* why)
{
    vpn_router_drop d = vpn_router_cryptomap_input(Router(), VpnNodeEngine::NowNs(), pkt, decrypted);
    if (why)
    {
        *why = vpn_router_cryptomap_last_drop(m_core->router);
    }
    // data only: no engine ran, no deadline moved (and no per-packet hook)
    return static_cast<DropReason>(d);
}

int
VpnIpsecStack::GdoiRekey(size_t group, bool newKek)
{
    NS_LOG_FUNCTION(this << group << newKek);
    int rc = vpn_router_gdoi_ks_rekey_group(Router(), VpnNodeEngine::NowNs(), group, newKek);
    Reschedule();
    return rc;
}

int
VpnIpsecStack::GdoiSetMulticast(size_t group, bool multicast, Ipv4Address address)
{
    NS_LOG_FUNCTION(this << group << multicast << address);
    vpn_addr a;
    vpn_addr_v4(&a, address.Get());
    return vpn_router_gdoi_ks_set_multicast(Router(), group, multicast, &a);
}

uint32_t
VpnIpsecStack::GetSaCount() const
{
    return static_cast<uint32_t>(vpn_router_sa_list(m_core->router, nullptr, 0));
}

uint32_t
VpnIpsecStack::GetIkeSaCount() const
{
    const vpn_ikev2_ctx* ike = m_core->router ? vpn_router_ikev2(m_core->router) : nullptr;
    uint32_t n = 0;
    for (size_t i = 0; ike && i < vpn_ikev2_sa_count(ike); i++)
    {
        vpn_ikev2_sa_info info;
        n += vpn_ikev2_sa_get(ike, i, &info) == 0 &&
             (info.state == VPN_IKEV2_SA_ESTABLISHED || info.state == VPN_IKEV2_SA_REKEYING);
    }
    return n;
}

uint64_t
VpnIpsecStack::GetSaErrors() const
{
    std::vector<vpn_router_sa_ref> refs(GetSaCount());
    vpn_router_sa_list(m_core->router, refs.data(), refs.size());
    uint64_t errors = 0;
    for (const auto& ref : refs)
    {
        vpn_sa_stats st;
        if (vpn_router_sa_get(m_core->router, &ref, nullptr, &st))
        {
            errors += st.recv_errors + st.send_errors;
        }
    }
    return errors;
}

// ---- the router's callbacks --------------------------------------------------------------

void
VpnIpsecStack::SendUdpThunk(void* user, const vpn_ikev2_dgram* d)
{
    auto self = static_cast<VpnIpsecStack*>(user);
    if (d->local.port == VPN_GDOI_PORT && !self->m_gdoiHooks.send.IsNull())
    {
        self->m_gdoiHooks.send(d);
    }
    else if (!self->m_hooks.send.IsNull())
    {
        self->m_hooks.send(d);
    }
}

void
VpnIpsecStack::GdoiSentThunk(void* user,
                             const vpn_addr* src,
                             const vpn_addr* dst,
                             const uint8_t* dg,
                             size_t len,
                             const uint8_t* view,
                             size_t viewLen)
{
    auto self = static_cast<VpnIpsecStack*>(user);
    if (self->m_gdoiHooks.sent.IsNull())
    {
        return;
    }
    Ptr<Packet> p = Create<Packet>(dg, static_cast<uint32_t>(len));
    Ptr<Packet> v = view ? Create<Packet>(view, static_cast<uint32_t>(viewLen)) : p;
    self->m_gdoiHooks.sent(Ipv4Address(vpn_addr_v4_u32(src)), Ipv4Address(vpn_addr_v4_u32(dst)), p, v);
}

void
VpnIpsecStack::EspPlainThunk(void* user, uint32_t tunnel, bool outbound, const uint8_t* data, size_t len)
{
    auto self = static_cast<VpnIpsecStack*>(user);
    NS_LOG_FUNCTION(self << tunnel << outbound << len);
    self->m_plainTrace(Create<Packet>(data, static_cast<uint32_t>(len)), outbound);
}

void
VpnIpsecStack::IkePlainThunk(void* user, uint32_t ikeSaId, bool outbound, const uint8_t* dgram, size_t len)
{
    auto self = static_cast<VpnIpsecStack*>(user);
    NS_LOG_FUNCTION(self << ikeSaId << outbound << len);
    self->m_plainIkeTrace(Create<Packet>(dgram, static_cast<uint32_t>(len)), outbound);
}

bool
VpnIpsecStack::SendEspThunk(void* user, const vpn_router_esp_out* o)
{
    auto self = static_cast<VpnIpsecStack*>(user);
    return self->SendIpPacket(o->data, o->len, self->m_txCarrier);
}

bool
VpnIpsecStack::DeliverThunk(void* user, uint32_t tunnel, const uint8_t* data, size_t len)
{
    auto self = static_cast<VpnIpsecStack*>(user);
    if (tunnel >= self->m_tunnels.size() || !self->m_tunnels[tunnel])
    {
        return false;
    }
    self->m_tunnels[tunnel]->Deliver(data, len, self->m_rxCarrier);
    return true;
}

void
VpnIpsecStack::EventThunk(void* user, const vpn_router_event* ev)
{
    auto self = static_cast<VpnIpsecStack*>(user);
    VpnTunnelNetDevice* dev =
        ev->tunnel < self->m_tunnels.size() ? self->m_tunnels[ev->tunnel] : nullptr;
    switch (ev->type)
    {
    case VPN_ROUTER_EV_KEY_LINE:
        self->m_keyLineTrace(vpn_router_key_table_name(ev->key_table), ev->key_line);
        if (ev->key_table == VPN_ROUTER_KEYS_IKEV1 && !self->m_gdoiHooks.ikev1Line.IsNull())
        {
            self->m_gdoiHooks.ikev1Line(ev->key_line);
        }
        break;
    case VPN_ROUTER_EV_SA_INSTALLED:
        if (ev->tunnel == VPN_ROUTER_CRYPTO_MAP)
        {
            if (!self->m_gdoiHooks.tek.IsNull())
            {
                self->m_gdoiHooks.tek(ev->sa_view);
            }
            break;
        }
        self->m_saAddedTrace(ev->sa_view);
        [[fallthrough]]; // the tunnel's MTU may have changed
    case VPN_ROUTER_EV_SA_REMOVED:
        if (dev)
        {
            dev->NotifySaChanged();
        }
        break;
    case VPN_ROUTER_EV_NHRP:
        if (ev->nhrp->type == VPN_NHRP_EV_SHORTCUT_INSTALLED || ev->nhrp->type == VPN_NHRP_EV_SHORTCUT_REMOVED)
        {
            self->InstallNhrpRoute(ev->tunnel, ev->nhrp);
        }
        break;
    case VPN_ROUTER_EV_DROP:
        NS_LOG_INFO("node " << (self->m_node ? self->m_node->GetId() : 0) << " drop spi 0x" << std::hex
                            << ev->sa.spi << std::dec << ": " << vpn_router_drop_name(ev->drop));
        self->m_dropTrace(static_cast<DropReason>(ev->drop), ev->sa.spi);
        // Inbound drops of a tunnel are its own too; outbound ones the
        // tunnel traces itself, with the packet.
        if (dev && !self->m_inOutput)
        {
            dev->DropFromStack(self->m_rxCarrier, static_cast<DropReason>(ev->drop));
        }
        break;
    default:
        break;
    }
    if (!self->m_hooks.event.IsNull())
    {
        self->m_hooks.event(ev);
    }
}

uint32_t
VpnIpsecStack::GetTunnelId(const VpnTunnelNetDevice* dev) const
{
    for (size_t i = 0; i < m_tunnels.size(); i++)
    {
        if (m_tunnels[i] == dev)
        {
            return static_cast<uint32_t>(i);
        }
    }
    return UINT32_MAX;
}

namespace
{

// FlexVpnHelper's Null0 for `ip summary-address rip`: a SimpleNetDevice
// alone on its channel (what it sends reaches nobody).
bool
IsNull0(Ptr<NetDevice> dev)
{
    Ptr<SimpleNetDevice> s = DynamicCast<SimpleNetDevice>(dev);
    return s && s->GetChannel() && s->GetChannel()->GetNDevices() == 1;
}

} // namespace

Ptr<Ipv4>
VpnIpsecStack::GetIpv4()
{
    // aggregated once, never replaced: looked up until it is there, then kept
    if (!m_ipv4 && m_node)
    {
        m_ipv4 = m_node->GetObject<Ipv4>();
        m_ipv4L3 = PeekPointer(DynamicCast<Ipv4L3Protocol>(m_ipv4));
    }
    return m_ipv4;
}

bool
VpnIpsecStack::IsNull0At(Ptr<Ipv4> ipv4, uint32_t ifc)
{
    // An interface keeps its device: whether it is a SimpleNetDevice is
    // asked once; the channel (alone on it: Null0) is looked at each time.
    if (m_simpleIf.size() <= ifc)
    {
        m_simpleIf.resize(ifc + 1, 0);
    }
    if (m_simpleIf[ifc] == 0)
    {
        m_simpleIf[ifc] = DynamicCast<SimpleNetDevice>(ipv4->GetNetDevice(ifc)) ? 1 : 2;
    }
    return m_simpleIf[ifc] == 1 && IsNull0(ipv4->GetNetDevice(ifc));
}

int32_t
VpnIpsecStack::TunnelInterface(uint32_t tunnel, Ptr<Ipv4> ipv4)
{
    // ns-3 never takes an interface away: once the tunnel device has one, it is kept
    if (m_tunnelIf.size() <= tunnel)
    {
        m_tunnelIf.resize(tunnel + 1, -1);
    }
    if (m_tunnelIf[tunnel] < 0)
    {
        m_tunnelIf[tunnel] = ipv4->GetInterfaceForDevice(m_tunnels[tunnel]);
    }
    return m_tunnelIf[tunnel];
}

uint32_t
VpnIpsecStack::GetNhrpRouteCount() const
{
    return m_nhrpRoutes;
}

std::string
VpnIpsecStack::ShowIpRoute() const
{
    Ptr<Ipv4> ipv4 = m_node ? m_node->GetObject<Ipv4>() : nullptr;
    if (!ipv4)
    {
        return "";
    }
    auto ifName = [&](uint32_t i) -> std::string {
        Ptr<NetDevice> dev = ipv4->GetNetDevice(i);
        if (Ptr<VpnTunnelNetDevice> t = DynamicCast<VpnTunnelNetDevice>(dev))
        {
            return t->GetInterfaceName();
        }
        return IsNull0(dev) ? "Null0" : "GigabitEthernet0/" + std::to_string(i);
    };
    struct Line
    {
        uint8_t len;
        std::string text;
    };
    std::vector<Line> lines;
    auto add = [&](char code, Ipv4Address net, Ipv4Mask mask, const std::string& rest) {
        std::ostringstream l;
        l << code << "        " << net << "/" << mask.GetPrefixLength() << rest << "\n";
        lines.push_back({static_cast<uint8_t>(mask.GetPrefixLength()), l.str()});
    };
    // every static table (a DMVPN spoke with RIP has one for its NHRP
    // routes above RIP, see FlexVpnHelper::InstallRip); connected routes
    // appear in each, once here
    std::vector<Ptr<Ipv4StaticRouting>> tables;
    if (Ptr<Ipv4ListRouting> list = DynamicCast<Ipv4ListRouting>(ipv4->GetRoutingProtocol()))
    {
        for (uint32_t i = 0; i < list->GetNRoutingProtocols(); i++)
        {
            int16_t prio = 0;
            if (Ptr<Ipv4StaticRouting> t = DynamicCast<Ipv4StaticRouting>(list->GetRoutingProtocol(i, prio)))
            {
                tables.push_back(t);
            }
        }
    }
    else if (Ptr<Ipv4StaticRouting> t = DynamicCast<Ipv4StaticRouting>(ipv4->GetRoutingProtocol()))
    {
        tables.push_back(t);
    }
    std::vector<Ipv4RoutingTableEntry> entries;
    for (const auto& t : tables)
    {
        for (uint32_t i = 0; i < t->GetNRoutes(); i++)
        {
            Ipv4RoutingTableEntry e = t->GetRoute(i);
            bool seen = false;
            for (const auto& x : entries)
            {
                seen = seen || (x.GetDest() == e.GetDest() && x.GetDestNetworkMask() == e.GetDestNetworkMask() &&
                                x.GetGateway() == e.GetGateway() && x.GetInterface() == e.GetInterface());
            }
            if (!seen)
            {
                entries.push_back(e);
            }
        }
    }
    for (const Ipv4RoutingTableEntry& e : entries)
    {
        if (e.GetInterface() == 0)
        {
            continue; // loopback
        }
        bool nhrp = false;
        for (const auto& r : m_nhrpRouteList)
        {
            nhrp = nhrp || (r.first == e.GetDest() && r.second.first == e.GetDestNetworkMask() &&
                            r.second.second == e.GetInterface());
        }
        std::ostringstream rest;
        if (e.GetGateway() == Ipv4Address::GetZero())
        {
            rest << " is directly connected, " << ifName(e.GetInterface());
        }
        else
        {
            // IOS administrative distances: static 1, NHRP 250
            rest << " [" << (nhrp ? 250 : 1) << "/0] via " << e.GetGateway() << ", " << ifName(e.GetInterface());
        }
        add(nhrp ? 'H' : e.GetGateway() == Ipv4Address::GetZero() ? 'C' : 'S', e.GetDestNetwork(),
            e.GetDestNetworkMask(), rest.str());
    }
    // ns-3's RIP lists its table only as text: "Destination Gateway Genmask
    // Flags Metric Ref Use Iface" rows after two header lines.
    if (Ptr<Rip> rip = m_node->GetObject<Rip>())
    {
        std::ostringstream text;
        rip->PrintRoutingTable(Create<OutputStreamWrapper>(&text), Time::S);
        std::istringstream in(text.str());
        for (std::string row; std::getline(in, row);)
        {
            std::istringstream f(row);
            std::string dst;
            std::string gw;
            std::string mask;
            std::string flags;
            uint32_t metric = 0;
            std::string ref;
            std::string use;
            std::string iface;
            if (!(f >> dst >> gw >> mask >> flags >> metric >> ref >> use >> iface) || gw == "0.0.0.0")
            {
                continue; // headers, and RIP's copies of connected routes
            }
            std::ostringstream rest;
            rest << " [120/" << metric << "] via " << gw << ", "
                 << (iface.find_first_not_of("0123456789") == std::string::npos
                         ? ifName(static_cast<uint32_t>(std::stoul(iface)))
                         : iface);
            add('R', Ipv4Address(dst.c_str()), Ipv4Mask(mask.c_str()), rest.str());
        }
    }
    std::stable_sort(lines.begin(), lines.end(), [](const Line& a, const Line& b) { return a.len > b.len; });
    std::string out = "Codes: C - connected, S - static, R - RIP, H - NHRP\n\n";
    for (const Line& l : lines)
    {
        out += l.text;
    }
    return out;
}

// The routing table's answer for an mGRE tunnel (NHRP's route callback):
// out of the tunnel to a next hop, or local (a connected subnet of another
// interface, whose prefix a Resolution Reply announces).
int
VpnIpsecStack::RouteThunk(void* user, uint32_t tunnel, const vpn_addr* dst, vpn_nhrp_route* out)
{
    auto self = static_cast<VpnIpsecStack*>(user);
    *out = vpn_nhrp_route{};
    Ptr<Ipv4> ipv4 = self->GetIpv4();
    if (!ipv4 || dst->family != VPN_AF_INET || tunnel >= self->m_tunnels.size() || !self->m_tunnels[tunnel])
    {
        return VPN_ERR_NOTFOUND;
    }
    Ipv4Address d(vpn_addr_v4_u32(dst));
    if (d.IsMulticast() || d.IsBroadcast())
    {
        return VPN_ERR_NOTFOUND; // not routed (ns-3's RIP asserts an output device for these)
    }
    // One walk over the node's addresses (this runs for every packet out of
    // an mGRE tunnel, for its inner destination and its next hop): an own
    // address on any interface, the loopback's too, is what
    // GetInterfaceForAddress would find and comes first; else the first
    // connected prefix of a non-loopback interface holding d. Ipv4L3Protocol's
    // interfaces are read directly (Ipv4::GetAddress looks the interface up
    // again for every address); nothing is kept from one packet to the next.
    bool own = false;
    int32_t connIf = -1;
    Ipv4Mask connMask;
    auto visit = [&](uint32_t i, const Ipv4InterfaceAddress& a) {
        if (a.GetLocal() == d)
        {
            own = true;
            return true; // nothing else matters
        }
        // a RIP summary's Null0 holds no hosts: its prefix is not ours to announce
        if (i > 0 && connIf < 0 && a.GetMask().IsMatch(a.GetLocal(), d) &&
            !self->IsNull0At(ipv4, i))
        {
            connIf = static_cast<int32_t>(i);
            connMask = a.GetMask();
        }
        return false;
    };
    // ns-3's Ipv4 is an Ipv4L3Protocol (GetIpv4 keeps it): its interfaces
    // are read directly (no Ptr copy per address); another Ipv4 routes nothing
    if (!self->m_ipv4L3)
    {
        return VPN_ERR_NOTFOUND;
    }
    for (uint32_t i = 0, n = self->m_ipv4L3->GetNInterfaces(); i < n && !own; i++)
    {
        Ptr<Ipv4Interface> ifc = self->m_ipv4L3->GetInterface(i);
        uint32_t m = ifc->GetNAddresses();
        for (uint32_t j = 0; j < m && !visit(i, ifc->GetAddress(j)); j++)
        {
        }
    }
    if (own)
    {
        // this router's own address (the tunnel's too: a spoke's RIP answer
        // to the hub's request) is delivered here, not routed back out of
        // the tunnel: no redirect for it. The tunnel's address is also on
        // the tunnel's connected prefix, which would say TUNNEL (dmvpn suite:
        // "a spoke's traffic to the hub's tunnel address ... no redirect").
        out->kind = VPN_NHRP_ROUTE_LOCAL;
        out->prefix_len = 32;
        return 0;
    }
    if (connIf >= 0)
    {
        if (connIf == self->TunnelInterface(tunnel, ipv4))
        {
            out->kind = VPN_NHRP_ROUTE_TUNNEL; // on the tunnel's own subnet
            out->next_hop = *dst;
        }
        else
        {
            out->kind = VPN_NHRP_ROUTE_LOCAL;
        }
        out->prefix_len = static_cast<uint8_t>(connMask.GetPrefixLength());
        return 0;
    }
    Ipv4Header h;
    h.SetDestination(d);
    Socket::SocketErrno err = Socket::ERROR_NOTERROR;
    // No packet: this runs for every packet out of an mGRE tunnel, and the
    // routing protocols' RouteOutput accepts a null one (ns-3's contract).
    Ptr<Ipv4Route> rt = ipv4->GetRoutingProtocol()->RouteOutput(nullptr, h, nullptr, err);
    if (!rt)
    {
        return VPN_ERR_NOTFOUND;
    }
    if (rt->GetOutputDevice() == self->m_tunnels[tunnel])
    {
        out->kind = VPN_NHRP_ROUTE_TUNNEL;
        Ipv4Address gw = rt->GetGateway() == Ipv4Address::GetAny() ? d : rt->GetGateway();
        vpn_addr_v4(&out->next_hop, gw.Get());
    }
    else
    {
        out->kind = VPN_NHRP_ROUTE_LOCAL;
    }
    out->prefix_len = 32;
    return 0;
}

// NHRP routes (IOS shows them as "H"): the shortcut's prefix via the
// responder's tunnel address, into the mGRE device.
void
VpnIpsecStack::InstallNhrpRoute(uint32_t tunnel, const vpn_nhrp_event* ev)
{
    Ptr<Ipv4> ipv4 = m_node ? m_node->GetObject<Ipv4>() : nullptr;
    if (!ipv4 || tunnel >= m_tunnels.size() || !m_tunnels[tunnel] || ev->proto.addr.family != VPN_AF_INET)
    {
        return;
    }
    int32_t ifc = ipv4->GetInterfaceForDevice(m_tunnels[tunnel]);
    Ptr<Ipv4StaticRouting> sr = Ipv4StaticRoutingHelper().GetStaticRouting(ipv4);
    if (ifc < 0 || !sr)
    {
        return;
    }
    Ipv4Address net(vpn_addr_v4_u32(&ev->proto.addr));
    Ipv4Mask mask(ev->proto.len == 0 ? 0u : ~0u << (32 - ev->proto.len));
    Ipv4Address nh(vpn_addr_v4_u32(&ev->next_hop));
    // one route per prefix: a replaced shortcut loses its old route first
    for (uint32_t i = sr->GetNRoutes(); i-- > 0;)
    {
        Ipv4RoutingTableEntry e = sr->GetRoute(i);
        if (e.GetDest() == net && e.GetDestNetworkMask() == mask && e.GetInterface() == static_cast<uint32_t>(ifc))
        {
            sr->RemoveRoute(i);
            m_nhrpRoutes--;
            for (size_t k = 0; k < m_nhrpRouteList.size(); k++)
            {
                if (m_nhrpRouteList[k].first == net && m_nhrpRouteList[k].second.first == mask)
                {
                    m_nhrpRouteList.erase(m_nhrpRouteList.begin() + static_cast<long>(k));
                    break;
                }
            }
        }
    }
    if (ev->type == VPN_NHRP_EV_SHORTCUT_INSTALLED)
    {
        sr->AddNetworkRouteTo(net, mask, nh, static_cast<uint32_t>(ifc), 0);
        m_nhrpRoutes++;
        m_nhrpRouteList.push_back({net, {mask, static_cast<uint32_t>(ifc)}});
    }
}

// ---- the one timer -------------------------------------------------------------------------

void
VpnIpsecStack::Reschedule()
{
    if (!m_gdoiHooks.after.IsNull())
    {
        m_gdoiHooks.after();
    }
    uint64_t next = vpn_router_next_deadline(m_core->router);
    uint64_t now = VpnNodeEngine::NowNs();
    uint64_t at = next > now ? next : now;
    // Called after every packet: an unchanged deadline keeps its event (a
    // cancelled event stays in the scheduler until its time comes).
    // m_timerAt is UINT64_MAX unless m_timer is pending: it is reset wherever
    // the event is cancelled and when it runs (OnTimer), so equal deadlines
    // mean a pending event without asking the scheduler (EventId::IsExpired,
    // per packet) whether it is.
    if (next != UINT64_MAX && at == m_timerAt)
    {
        NS_ASSERT(!m_timer.IsExpired());
        return;
    }
    Simulator::Cancel(m_timer);
    m_timerAt = UINT64_MAX;
    if (next == UINT64_MAX)
    {
        return;
    }
    m_timerAt = at;
    m_timer = Simulator::Schedule(NanoSeconds(at - now), &VpnIpsecStack::OnTimer, this);
}

void
VpnIpsecStack::OnTimer()
{
    NS_LOG_FUNCTION(this);
    m_timerAt = UINT64_MAX; // m_timer has run
    vpn_router_timeout(m_core->router, VpnNodeEngine::NowNs());
    Reschedule();
}

void
VpnIpsecStack::DoDispose()
{
    NS_LOG_FUNCTION(this);
    Simulator::Cancel(m_timer);
    m_timerAt = UINT64_MAX;
    if (m_espSocket)
    {
        m_espSocket->SetRecvCallback(MakeNullCallback<void, Ptr<Socket>>());
        m_espSocket->Close();
        m_espSocket = nullptr;
    }
    m_tunnels.clear();
    m_tunnelIf.clear();
    m_simpleIf.clear();
    m_ipv4 = nullptr;
    m_ipv4L3 = nullptr;
    m_hooks = Ikev2Hooks();
    m_gdoiHooks = GdoiHooks();
    if (m_core)
    {
        // The C objects go now: no callback can reach a disposed node.
        vpn_router_del(m_core->router);
        m_core->router = nullptr;
        vpn_conf_del(m_core->conf);
        m_core->conf = nullptr;
        ReleaseDrbgs();
    }
    m_node = nullptr;
    Object::DoDispose();
}

void
VpnIpsecStack::ReleaseDrbgs()
{
    Ptr<VpnNodeEngine> engine = m_node ? m_node->GetObject<VpnNodeEngine>() : nullptr;
    if (engine && m_core && m_core->drbgs)
    {
        engine->ReleaseDrbg(&m_core->ikeDrbg);
        engine->ReleaseDrbg(&m_core->sadDrbg);
    }
}

} // namespace ns3
