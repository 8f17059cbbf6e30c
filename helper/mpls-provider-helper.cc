#include "mpls-provider-helper.h"

#include "ns3/abort.h"
#include "ns3/drop-tail-queue.h"
#include "ns3/ethernet-header.h"
#include "ns3/internet-stack-helper.h"
#include "ns3/ipv4-static-routing-helper.h"
#include "ns3/ipv4.h"
#include "ns3/log.h"
#include "ns3/point-to-point-helper.h"
#include "ns3/simple-channel.h"
#include "ns3/simple-net-device.h"
#include "ns3/simulator.h"
#include "ns3/trace-helper.h"
#include "ns3/uinteger.h"

#include <fstream>

extern "C" {
#include "common/addr.h"
#include "common/vpn-err.h"
#include "mpls/mpls.h"
}

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("MplsProviderHelper");

MplsProviderHelper::Prefix::Prefix(const char* text)
{
    vpn_prefix p;
    int rc = vpn_prefix_parse(&p, text);
    NS_ABORT_MSG_IF(rc || p.addr.family != VPN_AF_INET, "not an IPv4 prefix: " << text);
    network = Ipv4Address(vpn_addr_v4_u32(&p.addr));
    length = p.len;
}

MplsProviderHelper::Prefix::Prefix(Ipv4Address net, uint8_t len)
    : network(net),
      length(len)
{
    NS_ABORT_MSG_IF(len > 32, "prefix length " << (int)len << " > 32");
}

static vpn_prefix
ToCore(const MplsProviderHelper::Prefix& p)
{
    vpn_prefix v{};
    vpn_addr_v4(&v.addr, p.network.Get());
    v.len = p.length;
    return v;
}

static vpn_addr
ToCore(Ipv4Address a)
{
    vpn_addr v;
    vpn_addr_v4(&v, a.Get());
    return v;
}

MplsProviderHelper::MplsProviderHelper()
    : m_php(true),
      m_ttlMode(MplsRouter::TTL_UNIFORM),
      m_loopbackBase("10.255.0.0"),
      m_coreBase("10.0.0.0"),
      m_coreMtu(1600),
      m_installed(false)
{
}

void
MplsProviderHelper::SetPhp(bool php)
{
    m_php = php;
}

void
MplsProviderHelper::SetTtlMode(MplsRouter::TtlMode mode)
{
    NS_ABORT_MSG_IF(!m_routers.empty(), "SetTtlMode before adding routers");
    m_ttlMode = mode;
}

void
MplsProviderHelper::SetLoopbackBase(Ipv4Address base)
{
    NS_ABORT_MSG_IF(!m_routers.empty(), "SetLoopbackBase before adding routers");
    m_loopbackBase = base;
}

void
MplsProviderHelper::SetCoreNetworkBase(Ipv4Address base)
{
    NS_ABORT_MSG_IF(!m_links.empty(), "SetCoreNetworkBase before adding links");
    m_coreBase = base;
}

void
MplsProviderHelper::SetCoreMtu(uint16_t mtu)
{
    m_coreMtu = mtu;
}

Ptr<Node>
MplsProviderHelper::AddRouter(const std::string& name, bool pe)
{
    NS_LOG_FUNCTION(this << name << pe);
    NS_ABORT_MSG_IF(m_installed, "AddPe/AddP after Install");
    for (const auto& r : m_routers)
    {
        NS_ABORT_MSG_IF(r.name == name, "a router named " << name << " exists");
    }
    RouterInfo info;
    info.node = CreateObject<Node>();
    info.router = CreateObject<MplsRouter>();
    info.name = name;
    info.pe = pe;
    info.coreIfs = 0;
    info.ceIfs = 0;
    Ipv4Address lo(m_loopbackBase.Get() + (uint32_t)m_routers.size() + 1);
    info.router->Setup(info.node, name, lo, m_ttlMode);
    m_routers.push_back(info);
    return info.node;
}

Ptr<Node>
MplsProviderHelper::AddPe(const std::string& name)
{
    return AddRouter(name, true);
}

Ptr<Node>
MplsProviderHelper::AddP(const std::string& name)
{
    return AddRouter(name, false);
}

uint32_t
MplsProviderHelper::IndexOf(Ptr<Node> node) const
{
    for (uint32_t i = 0; i < m_routers.size(); i++)
    {
        if (m_routers[i].node == node)
        {
            return i;
        }
    }
    NS_ABORT_MSG("node " << node->GetId() << " is not a provider router of this helper");
    return 0;
}

void
MplsProviderHelper::AddCoreLink(Ptr<Node> a, Ptr<Node> b, DataRate rate, Time delay)
{
    NS_LOG_FUNCTION(this << a << b << rate << delay);
    NS_ABORT_MSG_IF(m_installed, "AddCoreLink after Install");
    uint32_t ia = IndexOf(a);
    uint32_t ib = IndexOf(b);
    NS_ABORT_MSG_IF(ia == ib, "a core link needs two routers");
    // Full-duplex Ethernet: a queue and a serializer per direction, then
    // the propagation delay (see the header for why not CsmaNetDevice).
    Ptr<SimpleChannel> channel = CreateObject<SimpleChannel>();
    channel->SetAttribute("Delay", TimeValue(delay));
    Ptr<SimpleNetDevice> d[2];
    Ptr<Node> ends[2] = {a, b};
    for (int i = 0; i < 2; i++)
    {
        d[i] = CreateObject<SimpleNetDevice>();
        d[i]->SetAddress(Mac48Address::Allocate());
        d[i]->SetAttribute("DataRate", DataRateValue(rate));
        d[i]->SetQueue(CreateObject<DropTailQueue<Packet>>());
        d[i]->SetMtu(m_coreMtu);
        ends[i]->AddDevice(d[i]);
        d[i]->SetChannel(channel);
    }
    LinkInfo l;
    l.a = ia;
    l.b = ib;
    l.devA = d[0];
    l.devB = d[1];
    uint32_t net = m_coreBase.Get() + 4 * (uint32_t)m_links.size();
    l.addrA = Ipv4Address(net + 1);
    l.addrB = Ipv4Address(net + 2);
    RouterInfo& ra = m_routers[ia];
    RouterInfo& rb = m_routers[ib];
    ra.router->AddCoreInterface(l.devA, "Gi0/" + std::to_string(ra.coreIfs++));
    rb.router->AddCoreInterface(l.devB, "Gi0/" + std::to_string(rb.coreIfs++));
    m_links.push_back(l);
}

uint32_t
MplsProviderHelper::AttachSite(Ptr<Node> pe,
                               const std::string& vrf,
                               Ptr<Node> ce,
                               Ipv4Address linkNetwork,
                               const std::vector<Prefix>& prefixes,
                               DataRate rate,
                               Time delay)
{
    NS_LOG_FUNCTION(this << pe << vrf << ce << linkNetwork << rate << delay);
    NS_ABORT_MSG_IF(m_installed, "AttachSite after Install");
    uint32_t ip = IndexOf(pe);
    RouterInfo& r = m_routers[ip];
    NS_ABORT_MSG_IF(!r.pe, r.name << " is a P router: sites attach to PEs");
    NS_ABORT_MSG_IF(vrf.empty(), "a site needs a VRF name");
    NS_ABORT_MSG_IF((linkNetwork.Get() & 3) != 0, "link network " << linkNetwork << " is not a /30");

    PointToPointHelper p2p;
    p2p.SetDeviceAttribute("DataRate", DataRateValue(rate));
    p2p.SetChannelAttribute("Delay", TimeValue(delay));
    NodeContainer pair(pe, ce);
    NetDeviceContainer d = p2p.Install(pair);

    SiteInfo s;
    s.pe = ip;
    s.vrf = vrf;
    s.ce = ce;
    s.peDev = d.Get(0);
    s.ceDev = d.Get(1);
    s.peAddr = Ipv4Address(linkNetwork.Get() + 1);
    s.ceAddr = Ipv4Address(linkNetwork.Get() + 2);
    s.prefixes = prefixes;
    // The PE-CE link is a connected route of the VRF ("redistribute connected").
    s.prefixes.emplace_back(linkNetwork, 30);
    r.router->AddCeInterface(s.peDev, "Gi1/" + std::to_string(r.ceIfs++), vrf);

    // The customer side: an ordinary ns-3 IPv4 node, default route to the PE.
    if (!ce->GetObject<Ipv4>())
    {
        InternetStackHelper stack;
        stack.Install(ce);
    }
    Ptr<Ipv4> ipv4 = ce->GetObject<Ipv4>();
    int32_t ifIndex = ipv4->AddInterface(s.ceDev);
    ipv4->AddAddress(ifIndex, Ipv4InterfaceAddress(s.ceAddr, Ipv4Mask("255.255.255.252")));
    ipv4->SetUp(ifIndex);
    Ipv4StaticRoutingHelper routing;
    routing.GetStaticRouting(ipv4)->SetDefaultRoute(s.peAddr, ifIndex);

    m_sites.push_back(s);
    return (uint32_t)m_sites.size() - 1;
}

void
MplsProviderHelper::AddMulticastRoute(const std::string& vrf,
                                      Prefix group,
                                      const std::vector<uint32_t>& sites,
                                      Prefix source)
{
    NS_LOG_FUNCTION(this << vrf << group.network << sites.size());
    NS_ABORT_MSG_IF(m_installed, "AddMulticastRoute after Install");
    NS_ABORT_MSG_IF(!group.network.IsMulticast(), group.network << " is not a multicast group");
    for (uint32_t s : sites)
    {
        NS_ABORT_MSG_IF(s >= m_sites.size(), "no site " << s);
        NS_ABORT_MSG_IF(m_sites[s].vrf != vrf, "site " << s << " is in VRF " << m_sites[s].vrf
                                                       << ", not " << vrf);
    }
    m_mroutes.push_back(MrouteInfo{vrf, group, source, sites});
}

void
MplsProviderHelper::Install()
{
    NS_LOG_FUNCTION(this);
    NS_ABORT_MSG_IF(m_installed, "Install called twice");
    std::vector<vpn_mpls_router*> routers;
    for (const auto& r : m_routers)
    {
        routers.push_back(r.router->GetCore());
    }
    std::vector<vpn_mpls_plan_link> links;
    for (const auto& l : m_links)
    {
        vpn_mpls_plan_link pl{};
        pl.a = l.a;
        pl.b = l.b;
        pl.a_if = (int)l.devA->GetIfIndex();
        pl.b_if = (int)l.devB->GetIfIndex();
        pl.a_addr = ToCore(l.addrA);
        pl.b_addr = ToCore(l.addrB);
        links.push_back(pl);
        m_routers[l.a].router->AddNeighbor(l.devA, l.addrB, l.devB->GetAddress());
        m_routers[l.b].router->AddNeighbor(l.devB, l.addrA, l.devA->GetAddress());
    }
    std::vector<std::vector<vpn_prefix>> prefixes(m_sites.size());
    std::vector<vpn_mpls_plan_site> sites;
    for (uint32_t i = 0; i < m_sites.size(); i++)
    {
        for (const auto& p : m_sites[i].prefixes)
        {
            prefixes[i].push_back(ToCore(p));
        }
        vpn_mpls_plan_site ps{};
        ps.pe = m_sites[i].pe;
        ps.vrf = m_sites[i].vrf.c_str();
        ps.ce_if = (int)m_sites[i].peDev->GetIfIndex();
        ps.ce_addr = ToCore(m_sites[i].ceAddr);
        ps.prefixes = prefixes[i].data();
        ps.n_prefixes = prefixes[i].size();
        sites.push_back(ps);
    }
    std::vector<std::vector<size_t>> subs(m_mroutes.size());
    std::vector<vpn_mpls_plan_mroute> mroutes;
    for (uint32_t i = 0; i < m_mroutes.size(); i++)
    {
        subs[i].assign(m_mroutes[i].sites.begin(), m_mroutes[i].sites.end());
        vpn_mpls_plan_mroute pm{};
        pm.vrf = m_mroutes[i].vrf.c_str();
        pm.group = ToCore(m_mroutes[i].group);
        pm.source = ToCore(m_mroutes[i].source);
        pm.sites = subs[i].data();
        pm.n_sites = subs[i].size();
        mroutes.push_back(pm);
    }
    vpn_mpls_plan plan{};
    plan.routers = routers.data();
    plan.n_routers = routers.size();
    plan.links = links.data();
    plan.n_links = links.size();
    plan.sites = sites.data();
    plan.n_sites = sites.size();
    plan.mroutes = mroutes.data();
    plan.n_mroutes = mroutes.size();
    plan.php = m_php;
    int rc = vpn_mpls_plan_install(&plan);
    NS_ABORT_MSG_IF(rc == VPN_ERR_NOTFOUND,
                    "MPLS provider: two PEs share a VRF but have no path between them");
    NS_ABORT_MSG_IF(rc, "MPLS provider: cannot install the tables: " << vpn_strerror(rc));
    m_installed = true;
}

/*
 * The capture of a core link: every frame, in either direction, as the far
 * end receives it, with the Ethernet header the link would carry.
 */
static void
CoreTap(Ptr<PcapFileWrapper> file,
        Ptr<NetDevice> dev,
        Ptr<const Packet> packet,
        uint16_t protocol,
        const Address& from,
        const Address& to,
        NetDevice::PacketType /* type */)
{
    NS_LOG_FUNCTION(dev << packet << protocol);
    EthernetHeader eth(false);
    eth.SetSource(Mac48Address::ConvertFrom(from));
    eth.SetDestination(Mac48Address::ConvertFrom(to));
    eth.SetLengthType(protocol);
    Ptr<Packet> frame = packet->Copy();
    frame->AddHeader(eth);
    file->Write(Simulator::Now(), frame);
}

void
MplsProviderHelper::EnablePcap(const std::string& dir, bool ceLinks)
{
    NS_LOG_FUNCTION(this << dir << ceLinks);
    PcapHelper pcap;
    for (const auto& l : m_links)
    {
        Ptr<PcapFileWrapper> file =
            pcap.CreateFile(dir + "/core-" + m_routers[l.a].name + "-" + m_routers[l.b].name +
                                ".pcap",
                            std::ios::out,
                            PcapHelper::DLT_EN10MB);
        for (const auto& dev : {l.devA, l.devB})
        {
            // A promiscuous handler sees every frame the device receives.
            dev->GetNode()->RegisterProtocolHandler(MakeBoundCallback(&CoreTap, file), 0, dev,
                                                    true);
        }
    }
    if (!ceLinks)
    {
        return;
    }
    PointToPointHelper p2p;
    for (uint32_t i = 0; i < m_sites.size(); i++)
    {
        p2p.EnablePcap(dir + "/ce-" + m_routers[m_sites[i].pe].name + "-site" + std::to_string(i) +
                           ".pcap",
                       m_sites[i].peDev, false, true);
    }
}

void
MplsProviderHelper::WriteShow(const std::string& dir) const
{
    for (const auto& r : m_routers)
    {
        std::ofstream f(dir + "/show-mpls-" + r.name + ".txt");
        f << r.name << "#show mpls forwarding-table\n" << r.router->ShowForwardingTable();
    }
}

NodeContainer
MplsProviderHelper::GetPes() const
{
    NodeContainer c;
    for (const auto& r : m_routers)
    {
        if (r.pe)
        {
            c.Add(r.node);
        }
    }
    return c;
}

NodeContainer
MplsProviderHelper::GetPs() const
{
    NodeContainer c;
    for (const auto& r : m_routers)
    {
        if (!r.pe)
        {
            c.Add(r.node);
        }
    }
    return c;
}

Ptr<MplsRouter>
MplsProviderHelper::GetRouter(Ptr<Node> node) const
{
    return m_routers[IndexOf(node)].router;
}

Ptr<MplsRouter>
MplsProviderHelper::GetRouter(const std::string& name) const
{
    for (const auto& r : m_routers)
    {
        if (r.name == name)
        {
            return r.router;
        }
    }
    NS_ABORT_MSG("no provider router named " << name);
    return nullptr;
}

Ipv4Address
MplsProviderHelper::GetCeAddress(uint32_t site) const
{
    NS_ABORT_MSG_IF(site >= m_sites.size(), "no site " << site);
    return m_sites[site].ceAddr;
}

Ipv4Address
MplsProviderHelper::GetPeAddress(uint32_t site) const
{
    NS_ABORT_MSG_IF(site >= m_sites.size(), "no site " << site);
    return m_sites[site].peAddr;
}

Ptr<NetDevice>
MplsProviderHelper::GetCeDevice(uint32_t site) const
{
    NS_ABORT_MSG_IF(site >= m_sites.size(), "no site " << site);
    return m_sites[site].ceDev;
}

Ptr<NetDevice>
MplsProviderHelper::GetPeDevice(uint32_t site) const
{
    NS_ABORT_MSG_IF(site >= m_sites.size(), "no site " << site);
    return m_sites[site].peDev;
}

std::vector<std::pair<Ptr<NetDevice>, Ptr<NetDevice>>>
MplsProviderHelper::GetCoreDevices() const
{
    std::vector<std::pair<Ptr<NetDevice>, Ptr<NetDevice>>> v;
    for (const auto& l : m_links)
    {
        v.emplace_back(l.devA, l.devB);
    }
    return v;
}

} // namespace ns3
