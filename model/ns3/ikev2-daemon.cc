#include "ikev2-daemon.h"

#include "vpn-ipsec-stack.h"
#include "vpn-node-engine.h"

#include "ns3/boolean.h"
#include "ns3/inet-socket-address.h"
#include "ns3/ipv4-packet-info-tag.h"
#include "ns3/log.h"
#include "ns3/node.h"
#include "ns3/packet.h"
#include "ns3/simulator.h"
#include "ns3/socket.h"
#include "ns3/udp-socket-factory.h"
#include "ns3/uinteger.h"
#include "ns3/nstime.h"

#include <functional>
#include <sstream>

extern "C" {
#include "common/addr.h"
#include "common/rng.h"
#include "common/vpn-err.h"
#include "conf/conf.h"
#include "ikev2/ikev2-engine.h"
#include "ikev2/ikev2-esp.h"
#include "ipsec/esp.h"
#include "ipsec/sa.h"
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

vpn_addr
ToCore(Ipv4Address a)
{
    vpn_addr out;
    vpn_addr_v4(&out, a.Get());
    return out;
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
      m_ctx(nullptr),
      m_drbg(nullptr),
      m_ikeUp(0),
      m_childUp(0),
      m_initiateAtStart(true),
      m_onDemandHoldDown(Seconds(1))
{
}

Ikev2Daemon::~Ikev2Daemon()
{
    vpn_ikev2_ctx_del(m_ctx);
    vpn_conf_del(m_conf);
    if (m_drbg)
    {
        vpn_drbg_free(m_drbg);
        delete m_drbg;
    }
}

std::string
Ikev2Daemon::SetConfig(const std::string& iosText)
{
    if (m_ctx)
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
    m_conf = conf;
    return "";
}

void
Ikev2Daemon::Protect(Ptr<VpnTunnelNetDevice> tunnel, const std::string& ipsecProfile, bool initiate)
{
    m_protected.push_back({tunnel, ipsecProfile, initiate, Seconds(0), false});
    // The tunnel sizes its MTU for the transforms the profile may negotiate.
    const vpn_conf_ipsec_profile* ip =
        m_conf ? vpn_conf_find_ipsec_profile(m_conf, ipsecProfile.c_str()) : nullptr;
    for (size_t i = 0; ip && i < ip->n_transform_set; i++)
    {
        const vpn_conf_transform_set* ts = vpn_conf_find_transform_set(m_conf, ip->transform_set[i]);
        if (!ts)
        {
            continue;
        }
        vpn_esp_shape shape{};
        shape.encr_id = ts->encr.id;
        shape.encr_key_bits = ts->encr.bits;
        shape.integ_id = ts->integ;
        shape.mode = ts->mode == VPN_CONF_MODE_TRANSPORT ? VPN_ESP_TRANSPORT : VPN_ESP_TUNNEL;
        shape.outer_family = VPN_AF_INET;
        tunnel->AddConfiguredEsp(shape);
    }
}

void
Ikev2Daemon::EnsureEngine()
{
    if (m_ctx)
    {
        return;
    }
    NS_ABORT_MSG_IF(!m_conf, "Ikev2Daemon on node " << GetNode()->GetId() << " has no configuration");
    Ptr<VpnNodeEngine> engine = VpnNodeEngine::GetOrCreate(GetNode());
    m_drbg = new vpn_drbg;
    NS_ABORT_MSG_IF(engine->ForkDrbg(m_drbg, "ikev2") != 0, "DRBG fork failed");
    vpn_ikev2_params params{};
    params.conf = m_conf;
    vpn_rng_init_drbg(&params.rng, m_drbg);
    params.log = *engine->GetLog();
    params.name = m_conf->hostname[0] ? m_conf->hostname : "ikev2";
    params.send = &Ikev2Daemon::SendThunk;
    params.event = &Ikev2Daemon::EventThunk;
    params.user = this;
    int rc = vpn_ikev2_ctx_new(&m_ctx, &params);
    NS_ABORT_MSG_IF(rc != 0, "IKEv2 engine: " << vpn_strerror(rc));
}

vpn_ikev2_policy
Ikev2Daemon::PolicyFor(const Protected& p, size_t index) const
{
    vpn_ikev2_policy pol{};
    vpn_addr peer = ToCore(p.tunnel->GetTunnelDestination());
    if (p.tunnel->GetMode() == VpnTunnelNetDevice::VTI)
    {
        // any/any, and tunnel mode whatever the transform set says
        vpn_ikev2_policy_vti(&pol, p.profile.c_str(), &peer, static_cast<uint32_t>(index));
        return pol;
    }
    pol.ipsec_profile = p.profile.c_str();
    pol.remote.addr = peer;
    pol.remote.len = 32;
    pol.tag = static_cast<uint32_t>(index);
    // GRE/IPsec protects "permit gre host SRC host DST" (IOS's IPSEC FLOW:
    // permit 47).
    vpn_prefix src{ToCore(p.tunnel->GetTunnelSource()), 32};
    vpn_prefix dst{peer, 32};
    vpn_ikev2_selector_from_prefix(&pol.ts_local[0], &src, 47);
    vpn_ikev2_selector_from_prefix(&pol.ts_remote[0], &dst, 47);
    pol.n_ts_local = pol.n_ts_remote = 1;
    return pol;
}

void
Ikev2Daemon::StartApplication()
{
    EnsureEngine();
    OpenSockets(Ipv4Address::GetAny());
    for (const Protected& p : m_protected)
    {
        OpenSockets(p.tunnel->GetTunnelSource());
    }

    for (size_t i = 0; i < m_protected.size(); i++)
    {
        const Protected& p = m_protected[i];
        if (p.initiate)
        {
            p.tunnel->SetNoSaCallback(MakeCallback(&Ikev2Daemon::OnNoSa, this).Bind(i));
        }
        if (p.initiate && m_initiateAtStart)
        {
            Initiate(i);
            continue;
        }
        vpn_ikev2_policy pol = PolicyFor(p, i);
        int rc = vpn_ikev2_policy_add(m_ctx, &pol);
        NS_ABORT_MSG_IF(rc != 0,
                        p.tunnel->GetInterfaceName() << ": ipsec profile " << p.profile << ": "
                                                     << vpn_strerror(rc));
    }
    Reschedule();
}

void
Ikev2Daemon::Initiate(size_t index)
{
    Protected& p = m_protected[index];
    vpn_ikev2_policy pol = PolicyFor(p, index);
    vpn_ikev2_endpoint local{ToCore(p.tunnel->GetTunnelSource()), VPN_IKEV2_PORT};
    vpn_ikev2_endpoint remote{ToCore(p.tunnel->GetTunnelDestination()), VPN_IKEV2_PORT};
    p.lastInitiate = Simulator::Now();
    p.everInitiated = true;
    int rc = vpn_ikev2_initiate(m_ctx, VpnNodeEngine::NowNs(), &local, &remote, &pol, nullptr);
    // A configuration error (profile, policy) is fatal, as at start; a
    // local limit (too many half-open SAs, say) is reported and the packet
    // that asked for the tunnel stays dropped.
    NS_ABORT_MSG_IF(rc == VPN_ERR_NOTFOUND || rc == VPN_ERR_POLICY || rc == VPN_ERR_INVAL,
                    p.tunnel->GetInterfaceName() << ": ipsec profile " << p.profile << ": "
                                                 << vpn_strerror(rc));
    if (rc != 0)
    {
        m_failureTrace(0, p.tunnel->GetTunnelDestination(), vpn_strerror(rc));
    }
    Reschedule();
}

bool
Ikev2Daemon::Negotiating(size_t index) const
{
    // Any IKE SA of this tunnel, half-open or established, means the tunnel
    // is on its way (its CHILD_SA comes with it) or being rekeyed.
    for (size_t i = 0; i < vpn_ikev2_sa_count(m_ctx); i++)
    {
        vpn_ikev2_sa_info info;
        if (vpn_ikev2_sa_get(m_ctx, i, &info) == 0 && info.policy_tag == index &&
            info.state != VPN_IKEV2_SA_DELETING)
        {
            return true;
        }
    }
    return false;
}

void
Ikev2Daemon::OnNoSa(size_t index)
{
    // Called from inside the tunnel's Send: decide now, initiate from a
    // fresh event so the engine is never entered from the IP stack's call.
    if (!m_ctx || index >= m_protected.size())
    {
        return;
    }
    const Protected& p = m_protected[index];
    if (p.everInitiated && Simulator::Now() - p.lastInitiate < m_onDemandHoldDown)
    {
        return;
    }
    if (Negotiating(index))
    {
        return;
    }
    m_protected[index].lastInitiate = Simulator::Now();
    m_protected[index].everInitiated = true;
    Simulator::ScheduleNow(&Ikev2Daemon::Initiate, this, index);
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
    Simulator::Cancel(m_timer);
    for (auto& [addr, pair] : m_sockets)
    {
        for (Ptr<Socket> s : {pair.first, pair.second})
        {
            s->SetRecvCallback(MakeNullCallback<void, Ptr<Socket>>());
            s->Close();
        }
    }
}

void
Ikev2Daemon::DoDispose()
{
    Simulator::Cancel(m_timer);
    m_sockets.clear();
    m_protected.clear();
    Application::DoDispose();
}

void
Ikev2Daemon::HandleRead(Ptr<Socket> socket)
{
    Ptr<Packet> packet;
    Address from;
    Address bound;
    socket->GetSockName(bound);
    uint16_t localPort = InetSocketAddress::ConvertFrom(bound).GetPort();
    while ((packet = socket->RecvFrom(from)))
    {
        InetSocketAddress src = InetSocketAddress::ConvertFrom(from);
        Ipv4PacketInfoTag info;
        Ipv4Address localAddr = Ipv4Address::GetAny();
        if (packet->RemovePacketTag(info))
        {
            localAddr = info.GetAddress();
        }
        uint32_t len = packet->GetSize();
        std::vector<uint8_t> buf(len);
        packet->CopyData(buf.data(), len);
        // RFC 3948 2.2 / RFC 7296 2.23: on 4500 a non-zero first word is ESP.
        if (localPort == VPN_IKEV2_NATT_PORT && len > 4 &&
            (buf[0] | buf[1] | buf[2] | buf[3]) != 0)
        {
            VpnIpsecStack::GetOrCreate(GetNode())
                ->ReceiveUdpEsp(packet, src.GetIpv4(), src.GetPort(), localAddr, localPort);
            continue;
        }
        vpn_ikev2_endpoint local{ToCore(localAddr), localPort};
        vpn_ikev2_endpoint remote{ToCore(src.GetIpv4()), src.GetPort()};
        vpn_ikev2_recv(m_ctx, VpnNodeEngine::NowNs(), &local, &remote, buf.data(), len);
    }
    Reschedule();
}

void
Ikev2Daemon::Reschedule()
{
    Simulator::Cancel(m_timer);
    if (!m_ctx)
    {
        return;
    }
    uint64_t next = vpn_ikev2_next_deadline(m_ctx);
    if (next == UINT64_MAX)
    {
        return;
    }
    uint64_t now = VpnNodeEngine::NowNs();
    m_timer = Simulator::Schedule(NanoSeconds(next > now ? next - now : 0), &Ikev2Daemon::OnTimer, this);
}

void
Ikev2Daemon::OnTimer()
{
    vpn_ikev2_timeout(m_ctx, VpnNodeEngine::NowNs());
    Reschedule();
}

void
Ikev2Daemon::SendThunk(void* user, const vpn_ikev2_dgram* d)
{
    static_cast<Ikev2Daemon*>(user)->Send(d);
}

void
Ikev2Daemon::EventThunk(void* user, const vpn_ikev2_event* ev)
{
    static_cast<Ikev2Daemon*>(user)->OnEvent(ev);
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
Ikev2Daemon::OnEvent(const vpn_ikev2_event* ev)
{
    Ipv4Address peer = FromCore(ev->remote.addr);
    std::string detail = ev->detail ? ev->detail : "";
    switch (ev->type)
    {
    case VPN_IKEV2_EV_IKE_UP:
    case VPN_IKEV2_EV_IKE_REKEYED: {
        char line[1024];
        if (vpn_ikev2_sa_wireshark_line(m_ctx, ev->ike_sa_id, line, sizeof line) == 0)
        {
            m_ikeKeyLines.emplace_back(line);
        }
        if (ev->type == VPN_IKEV2_EV_IKE_UP)
        {
            m_ikeUp++;
            m_ikeUpTrace(ev->ike_sa_id, peer, detail);
        }
        else
        {
            m_ikeRekeyTrace(ev->old_id, ev->ike_sa_id);
        }
        break;
    }
    case VPN_IKEV2_EV_IKE_DOWN:
        m_ikeDownTrace(ev->ike_sa_id, peer, vpn_ikev2_reason_name(ev->reason));
        break;
    case VPN_IKEV2_EV_FAILED:
        m_failureTrace(ev->ike_sa_id, peer, vpn_ikev2_reason_name(ev->reason));
        break;
    case VPN_IKEV2_EV_CHILD_UP:
        InstallChild(ev);
        break;
    case VPN_IKEV2_EV_CHILD_REKEYED: {
        // The new pair is already in place (its CHILD_UP came first); keep
        // the old inbound SA a moment for packets still in flight.
        uint32_t old = ev->child->old_id;
        m_childRekeyTrace(old, ev->child->id);
        Simulator::Schedule(Seconds(1), &Ikev2Daemon::RemoveChild, this, old);
        break;
    }
    case VPN_IKEV2_EV_CHILD_DOWN:
        RemoveChild(ev->child->id);
        m_childDownTrace(ev->child->id, peer, vpn_ikev2_reason_name(ev->reason));
        break;
    case VPN_IKEV2_EV_CHILD_EXPIRING:
        break;
    }
}

void
Ikev2Daemon::InstallChild(const vpn_ikev2_event* ev)
{
    const vpn_ikev2_child_info* c = ev->child;
    if (c->policy_tag >= m_protected.size())
    {
        NS_LOG_WARN("CHILD_SA " << c->id << " for an unknown policy tag " << c->policy_tag);
        return;
    }
    Ptr<VpnTunnelNetDevice> tunnel = m_protected[c->policy_tag].tunnel;
    Ptr<VpnIpsecStack> stack = VpnIpsecStack::GetOrCreate(GetNode());
    vpn_ts ts[VPN_IKEV2_CHILD_TS_MAX];
    vpn_sa_config in;
    vpn_sa_config out;
    int rc = vpn_ikev2_child_sa_configs(c, ts, VPN_IKEV2_CHILD_TS_MAX, &in, &out);
    if (rc != 0)
    {
        NS_LOG_ERROR("CHILD_SA " << c->id << ": " << vpn_strerror(rc));
        return;
    }

    ChildSas sas;
    sas.tag = c->policy_tag;
    rc = stack->AddSa(in, PeekPointer(tunnel), &sas.in);
    if (rc != 0)
    {
        NS_LOG_ERROR("inbound SA: " << vpn_strerror(rc));
        return;
    }
    rc = stack->AddSa(out, PeekPointer(tunnel), &sas.out);
    if (rc != 0)
    {
        NS_LOG_ERROR("outbound SA: " << vpn_strerror(rc));
        stack->RemoveSa(sas.in);
        return;
    }
    tunnel->SetOutboundSa(sas.out);
    m_children[c->id] = sas;
    m_childUp++;
    m_childUpTrace(c->id, FromCore(c->remote.addr), c->transform_set ? c->transform_set : "");
}

void
Ikev2Daemon::RemoveChild(uint32_t childId)
{
    auto it = m_children.find(childId);
    if (it == m_children.end())
    {
        return;
    }
    Ptr<VpnIpsecStack> stack = VpnIpsecStack::GetOrCreate(GetNode());
    Ptr<VpnTunnelNetDevice> tunnel = m_protected[it->second.tag].tunnel;
    if (tunnel->GetOutboundSa() == it->second.out)
    {
        tunnel->SetOutboundSa(nullptr);
    }
    stack->RemoveSa(it->second.in);
    stack->RemoveSa(it->second.out);
    m_children.erase(it);
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

namespace
{
struct ShowEnv
{
    const std::vector<std::string>* names;
    const std::map<uint32_t, std::pair<const vpn_sa*, const vpn_sa*>>* sas;
};

const char*
EnvInterfaceName(void* user, uint32_t tag)
{
    auto env = static_cast<ShowEnv*>(user);
    return tag < env->names->size() ? (*env->names)[tag].c_str() : nullptr;
}

bool
EnvCounters(void* user, uint32_t childId, vpn_show_child_counters* out)
{
    auto env = static_cast<ShowEnv*>(user);
    auto it = env->sas->find(childId);
    if (it == env->sas->end())
    {
        return false;
    }
    return vpn_show_child_counters_from_sas(it->second.first, it->second.second, out) == 0;
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

std::string
Ikev2Daemon::ShowCryptoIkev2Sa(bool detail) const
{
    if (!m_ctx)
    {
        return "";
    }
    return Render([&](vpn_show_buf* b) {
        return vpn_show_ikev2_sa(m_ctx, VpnNodeEngine::NowNs(), detail, b);
    });
}

// The data-plane side of a view: interface names by policy tag and the SA
// counters of each CHILD_SA pair.
std::string
Ikev2Daemon::RenderWithEnv(int (*render)(const vpn_ikev2_ctx*,
                                         uint64_t,
                                         bool,
                                         const vpn_show_ikev2_env*,
                                         vpn_show_buf*),
                           bool detail) const
{
    if (!m_ctx)
    {
        return "";
    }
    std::vector<std::string> names;
    for (const auto& p : m_protected)
    {
        names.push_back(p.tunnel->GetInterfaceName());
    }
    std::map<uint32_t, std::pair<const vpn_sa*, const vpn_sa*>> sas;
    for (const auto& [id, c] : m_children)
    {
        sas[id] = {c.in, c.out};
    }
    ShowEnv envData{&names, &sas};
    vpn_show_ikev2_env env{};
    env.user = &envData;
    env.interface_name = &EnvInterfaceName;
    env.child_counters = &EnvCounters;
    return Render([&](vpn_show_buf* b) {
        return render(m_ctx, VpnNodeEngine::NowNs(), detail, &env, b);
    });
}

std::string
Ikev2Daemon::ShowCryptoSession(bool detail) const
{
    return RenderWithEnv(&vpn_show_crypto_session, detail);
}

std::string
Ikev2Daemon::ShowCryptoIpsecSa(bool detail) const
{
    return RenderWithEnv(&vpn_show_crypto_ipsec_sa, detail);
}

std::string
Ikev2Daemon::ShowCryptoIkev2Proposal() const
{
    if (!m_conf)
    {
        return "";
    }
    return Render([&](vpn_show_buf* b) { return vpn_show_ikev2_proposal(m_conf, nullptr, b); });
}

std::string
Ikev2Daemon::ShowCryptoIkev2Profile() const
{
    if (!m_conf)
    {
        return "";
    }
    return Render([&](vpn_show_buf* b) { return vpn_show_ikev2_profile(m_conf, nullptr, b); });
}

} // namespace ns3
