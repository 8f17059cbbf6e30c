#include "gdoi-daemon.h"

#include "vpn-node-engine.h"

#include "ns3/abort.h"
#include "ns3/inet-socket-address.h"
#include "ns3/ipv4-packet-info-tag.h"
#include "ns3/log.h"
#include "ns3/node.h"
#include "ns3/packet.h"
#include "ns3/simulator.h"
#include "ns3/socket.h"
#include "ns3/udp-socket-factory.h"

#include <cstdio>
#include <functional>

extern "C" {
#include "common/addr.h"
#include "common/rng.h"
#include "common/vpn-err.h"
#include "getvpn/getvpn.h"
#include "ikev1/ikev1.h"
#include "ipsec/sa.h"
#include "show/show-gdoi.h"
#include "show/show-getvpn.h"
#include "show/show.h"
}

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("GdoiDaemon");
NS_OBJECT_ENSURE_REGISTERED(GdoiDaemon);

namespace
{
Ipv4Address
FromCore(const vpn_addr* a)
{
    return Ipv4Address(vpn_addr_v4_u32(a));
}

vpn_addr
ToCore(Ipv4Address a)
{
    vpn_addr out;
    vpn_addr_v4(&out, a.Get());
    return out;
}

enum View
{
    VIEW_GDOI,
    VIEW_KS_MEMBERS,
    VIEW_KS_COOP,
    VIEW_GM,
    VIEW_IPSEC_SA,
};
} // namespace

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
                            "ns3::GdoiDaemon::TekTracedCallback");
    return tid;
}

GdoiDaemon::GdoiDaemon()
    : m_node(nullptr),
      m_drbg(nullptr)
{
    NS_LOG_FUNCTION(this);
}

GdoiDaemon::~GdoiDaemon()
{
    vpn_getvpn_node_del(m_node);
    if (m_drbg)
    {
        vpn_drbg_free(m_drbg);
        delete m_drbg;
    }
}

void
GdoiDaemon::AddGroup(const vpn_getvpn_group_params& group)
{
    NS_LOG_FUNCTION(this);
    NS_ABORT_MSG_IF(m_node, "GdoiDaemon: groups are fixed once the daemon runs");
    m_groups.push_back(group);
}

void
GdoiDaemon::KeepAlive(std::shared_ptr<void> storage)
{
    m_keep.push_back(std::move(storage));
}

vpn_getvpn_node*
GdoiDaemon::GetCore() const
{
    return m_node;
}

void
GdoiDaemon::StartApplication()
{
    NS_LOG_FUNCTION(this);
    NS_ABORT_MSG_IF(m_groups.empty(), "GdoiDaemon on node " << GetNode()->GetId() << ": no group");
    Ptr<VpnNodeEngine> engine = VpnNodeEngine::GetOrCreate(GetNode());
    m_drbg = new vpn_drbg;
    NS_ABORT_MSG_IF(engine->ForkDrbg(m_drbg, "gdoi") != 0, "DRBG fork failed");
    // the rng handle must outlive the node: keep it with the DRBG
    auto rng = std::make_shared<vpn_rng>();
    vpn_rng_init_drbg(rng.get(), m_drbg);
    m_keep.push_back(rng);

    vpn_getvpn_params p{};
    p.groups = m_groups.data();
    p.n_groups = m_groups.size();
    p.rng = rng.get();
    p.log = engine->GetLog();
    p.send = &GdoiDaemon::SendThunk;
    p.user = this;
    p.now = VpnNodeEngine::NowNs();
    int rc = vpn_getvpn_node_new(&m_node, &p);
    NS_ABORT_MSG_IF(rc != 0, "GdoiDaemon on node " << GetNode()->GetId() << ": "
                                                   << vpn_strerror(rc));

    m_socket = Socket::CreateSocket(GetNode(), UdpSocketFactory::GetTypeId());
    NS_ABORT_MSG_IF(m_socket->Bind(InetSocketAddress(Ipv4Address::GetAny(), VPN_GDOI_PORT)) != 0,
                    "cannot bind UDP 848");
    m_socket->SetRecvPktInfo(true);
    m_socket->SetRecvCallback(MakeCallback(&GdoiDaemon::HandleRead, this));
    AfterEngine();
}

void
GdoiDaemon::StopApplication()
{
    NS_LOG_FUNCTION(this);
    Simulator::Cancel(m_timer);
    if (m_socket)
    {
        m_socket->SetRecvCallback(MakeNullCallback<void, Ptr<Socket>>());
        m_socket->Close();
    }
}

void
GdoiDaemon::DoDispose()
{
    NS_LOG_FUNCTION(this);
    Simulator::Cancel(m_timer);
    m_socket = nullptr;
    vpn_getvpn_node_del(m_node);
    m_node = nullptr;
    m_outQueue.clear();
    Application::DoDispose();
}

void
GdoiDaemon::SendThunk(void* user,
                      size_t group,
                      const vpn_addr* src,
                      const vpn_addr* dst,
                      const uint8_t* dg,
                      size_t len,
                      const uint8_t* view,
                      size_t viewLen)
{
    (void)group;
    static_cast<GdoiDaemon*>(user)->Send(src, dst, dg, len, view, viewLen);
}

void
GdoiDaemon::Send(const vpn_addr* src,
                 const vpn_addr* dst,
                 const uint8_t* dg,
                 size_t len,
                 const uint8_t* view,
                 size_t viewLen)
{
    Ptr<Packet> p = Create<Packet>(dg, static_cast<uint32_t>(len));
    Ptr<Packet> v = view ? Create<Packet>(view, static_cast<uint32_t>(viewLen)) : p;
    m_dgramTrace(FromCore(src), FromCore(dst), p, v);
    // The engine is still running: the packet goes down through this
    // node's crypto map, which must not enter the core now (getvpn.h).
    m_outQueue.emplace_back(FromCore(dst), p);
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
        uint32_t len = packet->GetSize();
        std::vector<uint8_t> buf(len);
        packet->CopyData(buf.data(), len);
        vpn_addr s = ToCore(src.GetIpv4());
        vpn_addr d = ToCore(localAddr);
        int rc = vpn_getvpn_node_dgram_input(m_node, &s, &d, buf.data(), len,
                                             VpnNodeEngine::NowNs());
        if (rc != 0)
        {
            NS_LOG_INFO("node " << GetNode()->GetId() << ": datagram from " << src.GetIpv4()
                                << " to " << localAddr << ": " << vpn_strerror(rc));
        }
    }
    AfterEngine();
}

void
GdoiDaemon::AfterEngine()
{
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
    // keys for the trace files: new TEKs and phase-1 SAs
    size_t n = vpn_getvpn_node_n_groups(m_node);
    for (size_t g = 0; g < n; g++)
    {
        const vpn_gdoi_gm* gm = vpn_getvpn_node_gm(m_node, g);
        const vpn_gdoi_ks* ks = vpn_getvpn_node_ks(m_node, g);
        std::vector<const vpn_ikev1_sa*> p1s;
        if (gm)
        {
            const vpn_sad* sad = vpn_getvpn_node_sad(m_node, g);
            for (vpn_sa* sa = vpn_sad_next(sad, nullptr); sa; sa = vpn_sad_next(sad, sa))
            {
                if (m_teksSeen.insert(vpn_sa_get_config(sa)->spi).second)
                {
                    m_tekTrace(sa);
                }
            }
            p1s.push_back(vpn_gdoi_gm_phase1(gm));
        }
        for (size_t i = 0; ks && i < VPN_GDOI_COOP_MAX_PEERS; i++)
        {
            p1s.push_back(vpn_gdoi_ks_coop_phase1(ks, i));
        }
        for (const vpn_ikev1_sa* p1 : p1s)
        {
            char line[256];
            if (!p1 || vpn_ikev1_sa_state(p1) != VPN_IKEV1_ST_ESTABLISHED ||
                vpn_ikev1_sa_wireshark_line(p1, line, sizeof line) <= 0)
            {
                continue;
            }
            if (m_p1Seen.insert(line).second)
            {
                m_ikev1Lines.push_back(line);
            }
        }
    }
    Reschedule();
}

void
GdoiDaemon::Reschedule()
{
    Simulator::Cancel(m_timer);
    if (!m_node)
    {
        return;
    }
    uint64_t next = vpn_getvpn_node_next_deadline(m_node);
    if (next == UINT64_MAX)
    {
        return;
    }
    uint64_t now = VpnNodeEngine::NowNs();
    m_timer = Simulator::Schedule(NanoSeconds(next > now ? next - now : 0),
                                  &GdoiDaemon::OnTimer,
                                  this);
}

void
GdoiDaemon::OnTimer()
{
    NS_LOG_FUNCTION(this);
    vpn_getvpn_node_timeout(m_node, VpnNodeEngine::NowNs());
    AfterEngine();
}

int
GdoiDaemon::ProcessOutbound(vpn_pkt* pkt, int* why)
{
    if (!m_node)
    {
        return VPN_GETVPN_PASS;
    }
    vpn_getvpn_drop d = VPN_GETVPN_DROP_MALFORMED;
    int rc = vpn_getvpn_node_output(m_node, pkt, VpnNodeEngine::NowNs(), &d);
    if (why)
    {
        *why = d;
    }
    return rc;
}

int
GdoiDaemon::ProcessInbound(vpn_pkt* pkt, int* why)
{
    if (!m_node)
    {
        return VPN_GETVPN_PASS;
    }
    vpn_getvpn_drop d = VPN_GETVPN_DROP_MALFORMED;
    int rc = vpn_getvpn_node_input(m_node, pkt, VpnNodeEngine::NowNs(), &d);
    if (why)
    {
        *why = d;
    }
    return rc;
}

int
GdoiDaemon::Rekey(size_t group, bool newKek)
{
    NS_LOG_FUNCTION(this << group << newKek);
    vpn_gdoi_ks* ks = vpn_getvpn_node_ks_mut(m_node, group);
    if (!ks)
    {
        return VPN_ERR_NOTFOUND;
    }
    int rc = vpn_gdoi_ks_rekey(ks, newKek, VpnNodeEngine::NowNs());
    AfterEngine();
    return rc;
}

int
GdoiDaemon::SetMulticastRekey(size_t group, bool multicast, Ipv4Address groupAddress)
{
    NS_LOG_FUNCTION(this << group << multicast << groupAddress);
    vpn_gdoi_ks* ks = vpn_getvpn_node_ks_mut(m_node, group);
    if (!ks)
    {
        return VPN_ERR_NOTFOUND;
    }
    vpn_addr g = ToCore(groupAddress);
    return vpn_gdoi_ks_set_multicast(ks, multicast, &g);
}

std::string
GdoiDaemon::Render(int which) const
{
    if (!m_node)
    {
        return "";
    }
    std::vector<char> buf(1 << 17);
    vpn_show_buf b;
    vpn_show_init(&b, buf.data(), buf.size());
    uint64_t now = VpnNodeEngine::NowNs();
    size_t n = vpn_getvpn_node_n_groups(m_node);
    if (which == VIEW_IPSEC_SA)
    {
        vpn_show_getvpn_ipsec_sa(m_node, "GigabitEthernet0/0", now, &b);
        return std::string(buf.data(), b.len);
    }
    for (size_t g = 0; g < n; g++)
    {
        const vpn_gdoi_ks* ks = vpn_getvpn_node_ks(m_node, g);
        const vpn_gdoi_gm* gm = vpn_getvpn_node_gm(m_node, g);
        switch (which)
        {
        case VIEW_GDOI:
            if (ks)
            {
                vpn_show_gdoi_ks(ks, now, &b);
            }
            else
            {
                vpn_show_gdoi_gm(gm, now, &b);
            }
            break;
        case VIEW_KS_MEMBERS:
            if (ks)
            {
                vpn_show_gdoi_ks_members(ks, &b);
            }
            break;
        case VIEW_KS_COOP:
            if (ks)
            {
                vpn_show_gdoi_ks_coop(ks, now, &b);
            }
            break;
        case VIEW_GM:
            if (gm)
            {
                vpn_show_gdoi_gm(gm, now, &b);
            }
            break;
        }
    }
    return std::string(buf.data(), b.len);
}

std::string
GdoiDaemon::ShowCryptoGdoi() const
{
    return Render(VIEW_GDOI);
}

std::string
GdoiDaemon::ShowCryptoGdoiKsMembers() const
{
    return Render(VIEW_KS_MEMBERS);
}

std::string
GdoiDaemon::ShowCryptoGdoiKsCoop() const
{
    return Render(VIEW_KS_COOP);
}

std::string
GdoiDaemon::ShowCryptoGdoiGm() const
{
    return Render(VIEW_GM);
}

std::string
GdoiDaemon::ShowCryptoIpsecSa() const
{
    return Render(VIEW_IPSEC_SA);
}

uint32_t
GdoiDaemon::GetRegisteredGroups() const
{
    uint32_t r = 0;
    size_t n = vpn_getvpn_node_n_groups(m_node);
    for (size_t g = 0; g < n; g++)
    {
        const vpn_gdoi_gm* gm = vpn_getvpn_node_gm(m_node, g);
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
