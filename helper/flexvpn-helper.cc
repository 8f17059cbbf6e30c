#include "flexvpn-helper.h"

#include "vpn-mpi-helper.h"
#include "mqc-helper.h"

#include "ns3/abort.h"
#include "ns3/boolean.h"
#include "ns3/ipv4-list-routing.h"
#include "ns3/ipv4-static-routing-helper.h"
#include "ns3/rip.h"
#include "ns3/simple-channel.h"
#include "ns3/simple-net-device.h"
#include "ns3/enum.h"
#include "ns3/ipv4.h"
#include "ns3/ipv6.h"
#include "ns3/ipv6-routing-table-entry.h"
#include "ns3/ipv6-static-routing-helper.h"
#include "ns3/log.h"
#include "ns3/simulator.h"
#include "ns3/string.h"
#include "ns3/uinteger.h"
#include "ns3/vpn-node-engine.h"

#include <cstring>
#include <iostream>
#include <set>
#include <sstream>

extern "C" {
#include "common/addr.h"
#include "common/vpn-err.h"
#include "conf/conf.h"
#include "nhrp/nhrp-conf.h"
}

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("FlexVpnHelper");

namespace
{

Ipv4Address
V4(const vpn_addr& a)
{
    return Ipv4Address(vpn_addr_v4_u32(&a));
}

Ipv4Mask
MaskOf(uint8_t len)
{
    return Ipv4Mask(len == 0 ? 0u : 0xffffffffu << (32 - len));
}

template <typename T>
std::string
Str(const T& v)
{
    std::ostringstream s;
    s << v;
    return s.str();
}

// The classful network holding a (what an IOS `network` statement names).
uint32_t
Classful(Ipv4Address a)
{
    uint32_t v = a.Get();
    uint8_t first = static_cast<uint8_t>(v >> 24);
    return v & (first < 128 ? 0xff000000u : first < 192 ? 0xffff0000u : 0xffffff00u);
}

// The ns-3 interface holding address a, or -1.
int32_t
InterfaceWithAddress(Ptr<Ipv4> ipv4, Ipv4Address a)
{
    for (uint32_t i = 0; i < ipv4->GetNInterfaces(); i++)
    {
        for (uint32_t j = 0; j < ipv4->GetNAddresses(i); j++)
        {
            if (ipv4->GetAddress(i, j).GetLocal() == a)
            {
                return static_cast<int32_t>(i);
            }
        }
    }
    return -1;
}

// A Virtual-Template that carries IPv6 has no prefix of its own (IOS:
// `ipv6 unnumbered`), but ns-3's Ipv6StaticRouting picks a source address
// on the outgoing interface for every route it looks up, forwarded packets
// included, and a debug build asserts when that interface has no global
// address. The template borrows one of the node's global addresses as a
// /128, as `ip unnumbered IF` lends IF's IPv4 address: IF's `ipv6 address`
// when the configuration gives one, else the first other interface's. Run
// at simulation start, once the scenario has numbered the node (the IPv6
// addresses are the scenario's to assign).
void
BorrowIpv6Global(Ptr<Ipv6> ipv6, Ptr<VpnTunnelNetDevice> vt, uint32_t ifc6, Ipv6Address lent)
{
    for (uint32_t k = 0; k < ipv6->GetNAddresses(ifc6); k++)
    {
        if (ipv6->GetAddress(ifc6, k).GetScope() == Ipv6InterfaceAddress::GLOBAL)
        {
            return;
        }
    }
    // the `ip unnumbered` interface's configured address when the node has
    // it, else the first global address of another interface
    Ipv6Address pick = Ipv6Address::GetAny();
    if (!lent.IsAny())
    {
        int32_t owner = ipv6->GetInterfaceForAddress(lent);
        if (owner >= 0 && static_cast<uint32_t>(owner) != ifc6)
        {
            pick = lent;
        }
        else
        {
            std::cerr << "FlexVpnHelper: " << vt->GetInterfaceName() << ": the ip unnumbered interface's ipv6 address "
                      << lent << " is not on the node; borrowing another of its global addresses" << std::endl;
        }
    }
    for (uint32_t i = 0; pick.IsAny() && i < ipv6->GetNInterfaces(); i++)
    {
        for (uint32_t k = 0; i != ifc6 && pick.IsAny() && k < ipv6->GetNAddresses(i); k++)
        {
            if (ipv6->GetAddress(i, k).GetScope() == Ipv6InterfaceAddress::GLOBAL)
            {
                pick = ipv6->GetAddress(i, k).GetAddress();
            }
        }
    }
    // Nothing to borrow (an IPv6 pool on a node without a global IPv6
    // address) or refused: say so, the scenario is incomplete; forwarding
    // into the template then sources from :: (a debug ns-3 asserts there).
    if (pick.IsAny() || !vt->AddIpv6Address(ifc6, pick, 128))
    {
        std::cerr << "FlexVpnHelper: " << vt->GetInterfaceName()
                  << " routes an ipv6 local pool but has no global IPv6 address"
                  << (pick.IsAny() ? " and the node none to lend it (give the ip unnumbered interface an ipv6 address)"
                                   : " (the borrowed address was refused)")
                  << std::endl;
        return;
    }
    // ns-3 routes an added address's prefix out of its interface: the
    // borrowed /128 must not pull the node's own address into the tunnel.
    Ptr<Ipv6StaticRouting> sr = Ipv6StaticRoutingHelper().GetStaticRouting(ipv6);
    for (uint32_t r = sr->GetNRoutes(); r-- > 0;)
    {
        Ipv6RoutingTableEntry e = sr->GetRoute(r);
        if (e.GetInterface() == ifc6 && e.GetDest() == pick && e.GetDestNetworkPrefix().GetPrefixLength() == 128)
        {
            sr->RemoveRoute(r);
        }
    }
}

// Is interface name the `ip unnumbered` source of a Virtual-Template?
bool
BorrowedByTemplate(const vpn_conf* c, const char* name)
{
    for (size_t i = 0; i < c->n_iface; i++)
    {
        if (c->iface[i].is_virtual_template && c->iface[i].unnumbered &&
            std::strcmp(c->iface[i].unnumbered_if, name) == 0)
        {
            return true;
        }
    }
    return false;
}

// Does a tunnel name Virtual-Template n in `ip nhrp shortcut virtual-template n`?
bool
ShortcutTemplate(const vpn_conf* c, uint32_t n)
{
    for (size_t i = 0; i < c->n_iface; i++)
    {
        if (!c->iface[i].is_virtual_template && c->iface[i].nhrp.shortcut_vt == n)
        {
            return true;
        }
    }
    return false;
}

// The ns-3 interface on whose subnet next hop nh lies, or -1.
int32_t
InterfaceTowards(Ptr<Ipv4> ipv4, Ipv4Address nh)
{
    for (uint32_t i = 1; i < ipv4->GetNInterfaces(); i++)
    {
        for (uint32_t j = 0; j < ipv4->GetNAddresses(i); j++)
        {
            Ipv4InterfaceAddress ia = ipv4->GetAddress(i, j);
            if (ia.GetMask().IsMatch(ia.GetLocal(), nh))
            {
                return static_cast<int32_t>(i);
            }
        }
    }
    return -1;
}

// A router of a hub-and-spokes network as InstallHubAndSpokes sees it.
struct SiteView
{
    Ipv4Address wan;
    Ipv4Mask wanMask;
    // Every non-loopback interface with an address: its IOS name and address.
    std::vector<std::pair<std::string, Ipv4InterfaceAddress>> ifaces;
    std::vector<std::pair<Ipv4Address, Ipv4Mask>> lans;
};

SiteView
ViewSite(const FlexVpnSite& site, const std::string& role)
{
    NS_ABORT_MSG_IF(!site.wan, role << ": no WAN device");
    Ptr<Node> node = site.wan->GetNode();
    Ptr<Ipv4> ipv4 = node ? node->GetObject<Ipv4>() : nullptr;
    NS_ABORT_MSG_IF(!ipv4, role << ": install an Internet stack before FlexVpnHelper");
    int32_t wanIf = ipv4->GetInterfaceForDevice(site.wan);
    NS_ABORT_MSG_IF(wanIf < 0 || ipv4->GetNAddresses(wanIf) == 0,
                    role << ": the WAN device has no IPv4 address");
    SiteView v;
    v.wan = ipv4->GetAddress(wanIf, 0).GetLocal();
    v.wanMask = ipv4->GetAddress(wanIf, 0).GetMask();
    for (uint32_t i = 1; i < ipv4->GetNInterfaces(); i++)
    {
        if (DynamicCast<VpnTunnelNetDevice>(ipv4->GetNetDevice(i)) || ipv4->GetNAddresses(i) == 0)
        {
            continue;
        }
        Ipv4InterfaceAddress a = ipv4->GetAddress(i, 0);
        v.ifaces.emplace_back("GigabitEthernet0/" + std::to_string(i), a);
        if (static_cast<int32_t>(i) != wanIf)
        {
            v.lans.emplace_back(a.GetLocal().CombineMask(a.GetMask()), a.GetMask());
        }
    }
    return v;
}

// The longest prefix holding every address (IOS `match identity remote address A M`).
std::pair<Ipv4Address, Ipv4Mask>
Covering(const std::vector<SiteView>& sites)
{
    uint32_t first = sites.front().wan.Get();
    uint32_t diff = 0;
    for (const SiteView& s : sites)
    {
        diff |= s.wan.Get() ^ first;
    }
    uint8_t len = 32;
    while (diff)
    {
        diff >>= 1;
        len--;
    }
    Ipv4Mask m = MaskOf(len);
    return {Ipv4Address(first).CombineMask(m), m};
}

std::string
CryptoObjects(const FlexVpnHubSpokeOptions& o)
{
    std::ostringstream c;
    c << "crypto ikev2 proposal PROP1\n";
    std::istringstream lines(o.ikeProposal);
    for (std::string l; std::getline(lines, l);)
    {
        c << " " << l << "\n";
    }
    c << "crypto ikev2 policy POL1\n proposal PROP1\n"
      << "crypto ipsec transform-set TS1 " << o.transformSet << "\n"
      << (o.espTransport ? " mode transport\n" : " mode tunnel\n");
    return c.str();
}

std::string
IkeProfile(const std::string& name,
           Ipv4Address match,
           Ipv4Mask mask,
           const FlexVpnHubSpokeOptions& o)
{
    std::ostringstream c;
    c << "crypto ikev2 profile " << name << "\n match identity remote address " << match << " "
      << mask << "\n authentication remote pre-share\n authentication local pre-share\n"
      << " keyring local KR1\n";
    if (!o.dpd.empty())
    {
        c << " dpd " << o.dpd << "\n";
    }
    if (o.ikeLifetime)
    {
        c << " lifetime " << o.ikeLifetime << "\n";
    }
    c << "crypto ipsec profile IPP\n set transform-set TS1\n set ikev2-profile " << name << "\n";
    if (o.childLifetime)
    {
        c << " set security-association lifetime seconds " << o.childLifetime << "\n";
    }
    return c.str();
}

std::string
Interfaces(const SiteView& v, const std::string& wanPolicy)
{
    std::ostringstream c;
    for (const auto& [name, a] : v.ifaces)
    {
        c << "interface " << name << "\n ip address " << a.GetLocal() << " " << a.GetMask() << "\n";
        if (!wanPolicy.empty() && a.GetLocal() == v.wan)
        {
            c << " service-policy output " << wanPolicy << "\n";
        }
    }
    return c.str();
}

std::string
Tunnel(const std::string& name,
       Ipv4Address addr,
       const std::string& source,
       Ipv4Address dest,
       const FlexVpnHubSpokeOptions& o)
{
    std::ostringstream c;
    c << "interface " << name << "\n ip address " << addr << " 255.255.255.252\n"
      << " tunnel source " << source << "\n"
      << (o.vti ? " tunnel mode ipsec ipv4\n" : "") << " tunnel destination " << dest << "\n"
      << " tunnel protection ipsec profile IPP\n" << (o.qosPreClassify ? " qos pre-classify\n" : "");
    return c.str();
}

std::string
WanName(const SiteView& v)
{
    for (const auto& [name, a] : v.ifaces)
    {
        if (a.GetLocal() == v.wan)
        {
            return name;
        }
    }
    return "";
}

} // namespace

std::vector<Ptr<Ikev2Daemon>>
FlexVpnHubAndSpokes::All() const
{
    std::vector<Ptr<Ikev2Daemon>> all{hub};
    all.insert(all.end(), spokes.begin(), spokes.end());
    return all;
}

FlexVpnHubAndSpokes
FlexVpnHelper::InstallHubAndSpokes(const FlexVpnSite& hub,
                                   const std::vector<FlexVpnSite>& spokes,
                                   const FlexVpnHubSpokeOptions& options) const
{
    NS_ABORT_MSG_IF(spokes.empty() || spokes.size() > 255, "InstallHubAndSpokes: 1 to 255 spokes");
    SiteView h = ViewSite(hub, "hub");
    std::vector<SiteView> sv;
    for (size_t i = 0; i < spokes.size(); i++)
    {
        sv.push_back(ViewSite(spokes[i], "spoke " + std::to_string(i + 1)));
    }
    auto tunnelAddr = [&](size_t spoke, uint32_t host) {
        return Ipv4Address(options.tunnelNetwork.Get() + static_cast<uint32_t>(spoke) * 256 + host);
    };
    std::string crypto = CryptoObjects(options);

    // The hub: a keyring entry and a tunnel per spoke, each spoke's LANs into its tunnel.
    std::ostringstream hc;
    hc << "hostname HUB\n" << crypto << "crypto ikev2 keyring KR1\n";
    for (size_t i = 1; i <= sv.size(); i++)
    {
        hc << " peer SPOKE" << i << "\n  address " << sv[i - 1].wan << "\n  pre-shared-key "
           << options.pskPrefix << i << "\n";
    }
    auto [net, mask] = Covering(sv);
    hc << IkeProfile("SPOKES", net, mask, options) << options.qos << Interfaces(h, options.wanServicePolicy);
    for (size_t i = 1; i <= sv.size(); i++)
    {
        hc << Tunnel("Tunnel" + std::to_string(i), tunnelAddr(i, 1), WanName(h), sv[i - 1].wan, options);
    }
    for (size_t i = 1; i <= sv.size(); i++)
    {
        for (const auto& [lan, m] : sv[i - 1].lans)
        {
            hc << "ip route " << lan << " " << m << " Tunnel" << i << "\n";
        }
    }
    if (hub.gateway != Ipv4Address::GetAny())
    {
        hc << "ip route 0.0.0.0 0.0.0.0 " << hub.gateway << "\n";
    }

    FlexVpnHubAndSpokes out;
    out.hubConfig = hc.str();
    out.hub = Install(hub.wan->GetNode(), out.hubConfig, false);

    for (size_t i = 1; i <= sv.size(); i++)
    {
        const SiteView& s = sv[i - 1];
        std::ostringstream c;
        c << "hostname SPOKE" << i << "\n"
          << crypto << "crypto ikev2 keyring KR1\n peer HUB\n  address " << h.wan
          << "\n  pre-shared-key " << options.pskPrefix << i << "\n"
          << IkeProfile("HUB", h.wan, Ipv4Mask("255.255.255.255"), options) << options.qos
          << Interfaces(s, options.wanServicePolicy)
          << Tunnel("Tunnel0", tunnelAddr(i, 2), WanName(s), h.wan, options);
        // Every other site is behind the hub.
        for (const auto& [lan, m] : h.lans)
        {
            c << "ip route " << lan << " " << m << " Tunnel0\n";
        }
        for (size_t j = 1; j <= sv.size(); j++)
        {
            for (const auto& [lan, m] : sv[j - 1].lans)
            {
                if (j != i)
                {
                    c << "ip route " << lan << " " << m << " Tunnel0\n";
                }
            }
        }
        if (spokes[i - 1].gateway != Ipv4Address::GetAny())
        {
            c << "ip route 0.0.0.0 0.0.0.0 " << spokes[i - 1].gateway << "\n";
        }
        out.spokeConfigs.push_back(c.str());
        out.spokes.push_back(Install(spokes[i - 1].wan->GetNode(), out.spokeConfigs.back(), true));
    }
    return out;
}

Ptr<VpnTunnelNetDevice>
FlexVpnHelper::GetTunnel(Ptr<Node> node, const std::string& name)
{
    for (uint32_t i = 0; i < node->GetNDevices(); i++)
    {
        Ptr<VpnTunnelNetDevice> t = DynamicCast<VpnTunnelNetDevice>(node->GetDevice(i));
        if (t && t->GetInterfaceName() == name)
        {
            return t;
        }
    }
    return nullptr;
}

// `router rip`: ns-3's RIPv2 on the interfaces whose addresses fall in a
// network statement (IOS semantics), passive interfaces excluded, below
// static routes (IOS administrative distance 1 before 120).
void
FlexVpnHelper::InstallRip(Ptr<Node> node, const vpn_conf* conf, const std::string& host)
{
    Ptr<Ipv4> ipv4 = node->GetObject<Ipv4>();
    Ptr<Ipv4ListRouting> list = DynamicCast<Ipv4ListRouting>(ipv4->GetRoutingProtocol());
    NS_ABORT_MSG_IF(!list, host << ": router rip needs the default list routing of InternetStackHelper");
    std::set<uint32_t> passive;
    for (size_t i = 0; i < conf->rip.n_passive; i++)
    {
        const char* name = conf->rip.passive[i];
        if (Ptr<VpnTunnelNetDevice> t = GetTunnel(node, name))
        {
            passive.insert(ipv4->GetInterfaceForDevice(t));
        }
        else if (const vpn_conf_interface* f = vpn_conf_find_interface(conf, name))
        {
            int32_t ifc = f->has_address ? InterfaceWithAddress(ipv4, V4(f->address.addr)) : -1;
            if (ifc >= 0)
            {
                passive.insert(static_cast<uint32_t>(ifc));
            }
        }
    }
    std::set<uint32_t> excluded;
    std::set<uint32_t> uncovered;
    for (uint32_t i = 0; i < ipv4->GetNInterfaces(); i++)
    {
        bool covered = false;
        for (uint32_t j = 0; j < ipv4->GetNAddresses(i) && i > 0; j++)
        {
            vpn_addr a;
            vpn_addr_v4(&a, ipv4->GetAddress(i, j).GetLocal().Get());
            for (size_t k = 0; k < conf->rip.n_network; k++)
            {
                covered = covered || vpn_prefix_contains(&conf->rip.network[k], &a);
            }
        }
        if (!covered || passive.count(i))
        {
            excluded.insert(i);
        }
        if (!covered && i > 0)
        {
            uncovered.insert(i);
        }
    }
    // `ip summary-address rip A M` (IOS installs the summary to Null0): a
    // Null0 device (alone on its channel, so nothing leaves it) holding the
    // summary's last host address, so that RIP advertises the summary as a
    // connected route. ns-3's RIP has no per-interface summary; the
    // specifics stay out of the spokes' tables through split horizon (they
    // were learnt on the tunnel the summary goes out of).
    bool summary = false;
    bool noSplitHorizon = false;
    for (size_t k = 0; k < conf->n_iface; k++)
    {
        const vpn_conf_interface& f = conf->iface[k];
        noSplitHorizon = noSplitHorizon || f.rip_no_split_horizon;
        if (!f.has_rip_summary)
        {
            continue;
        }
        NS_ABORT_MSG_IF(summary, host << " line " << f.line << ": one ip summary-address rip per router");
        summary = true;
        Ptr<SimpleNetDevice> null0 = CreateObject<SimpleNetDevice>();
        null0->SetAddress(Mac48Address::Allocate());
        null0->SetAttribute("PointToPointMode", BooleanValue(true));
        null0->SetChannel(CreateObject<SimpleChannel>());
        node->AddDevice(null0);
        uint32_t m = MaskOf(f.rip_summary.len).Get();
        uint32_t net = vpn_addr_v4_u32(&f.rip_summary.addr) & m;
        uint32_t ifc = ipv4->AddInterface(null0);
        ipv4->AddAddress(ifc, Ipv4InterfaceAddress(Ipv4Address((net | ~m) - 1), Ipv4Mask(m)));
        ipv4->SetUp(ifc);
    }
    Ptr<Rip> rip = CreateObject<Rip>();
    rip->SetInterfaceExclusions(excluded);
    // `no ip split-horizon` (RFC 2453 section 3.4.3): ns-3's RIP applies
    // one strategy to the whole router, so the router's every interface
    // goes without it (a DMVPN hub has RIP on its tunnel only).
    if (noSplitHorizon)
    {
        rip->SetAttribute("SplitHorizon", EnumValue(Rip::NO_SPLIT_HORIZON));
    }
    // timers basic: update, invalid (route timeout) and flush (garbage collection).
    rip->SetAttribute("UnsolicitedRoutingUpdate", TimeValue(Seconds(conf->rip.update_s)));
    rip->SetAttribute("TimeoutDelay", TimeValue(Seconds(conf->rip.invalid_s)));
    rip->SetAttribute("GarbageCollectionDelay", TimeValue(Seconds(conf->rip.flush_s - conf->rip.invalid_s)));
    // On a DMVPN router (an mGRE tunnel) or with a summary, RIP answers
    // before the static routes: ns-3's list routing takes the first
    // protocol that matches, not the longest match across them, and the
    // static table's default to the provider (or the summary's connected
    // route to Null0) would shadow every route RIP learns. NHRP routes (H),
    // more specific than the RIP routes they bypass, then go into a static
    // table of their own above RIP (the first one Ipv4StaticRoutingHelper
    // finds, where VpnIpsecStack installs them).
    bool mgre = false;
    bool shortcut = false;
    for (size_t k = 0; k < conf->n_iface; k++)
    {
        // an mGRE tunnel, or an NHRP one of the virtual-template hub's
        // network (the spokes' Tunnel0 and templates): the same reasoning
        if (conf->iface[k].tunnel_mode == VPN_CONF_TUNNEL_GRE_MULTIPOINT || conf->iface[k].nhrp.has_network_id)
        {
            mgre = true;
            shortcut = shortcut || conf->iface[k].nhrp.shortcut;
        }
    }
    list->AddRoutingProtocol(rip, summary || mgre ? 10 : -10);
    if (shortcut)
    {
        list->AddRoutingProtocol(CreateObject<Ipv4StaticRouting>(), 20);
    }
    if (summary || mgre)
    {
        // ns-3's RIP advertises the subnet of every interface, where IOS
        // advertises those its network statements cover: a spoke would learn
        // the hub's WAN (the tunnel's own destination) through the tunnel.
        // Withdrawn once RIP has started (its table is filled on start).
        Simulator::Schedule(Seconds(0), [rip, ipv4, uncovered]() {
            for (uint32_t i : uncovered)
            {
                for (uint32_t j = 0; j < ipv4->GetNAddresses(i); j++)
                {
                    rip->NotifyRemoveAddress(i, ipv4->GetAddress(i, j));
                }
            }
        });
    }
    // Aggregated, as RipHelper does, so that the node initializes it.
    node->AggregateObject(rip);
}

std::string
FlexVpnHelper::Check(Ptr<Node> node, const std::string& iosConfig, uint32_t& line) const
{
    NS_LOG_FUNCTION(this << node);
    line = 0;
    Ptr<Ipv4> ipv4 = node->GetObject<Ipv4>();
    if (!ipv4)
    {
        return "install an Internet stack before FlexVpnHelper";
    }
    vpn_conf* conf = nullptr;
    vpn_conf_error err{};
    if (vpn_conf_parse(iosConfig.c_str(), iosConfig.size(), &conf, &err) != 0)
    {
        line = static_cast<uint32_t>(err.line);
        return err.msg;
    }
    // Everything Install (and the router, once the daemon starts) would
    // refuse, found now, before anything is built or written.
    std::ostringstream e;
    for (size_t i = 0; i < conf->n_iface && e.str().empty(); i++)
    {
        const vpn_conf_interface& f = conf->iface[i];
        line = static_cast<uint32_t>(f.line);
        if (!f.is_tunnel)
        {
            if (f.has_address && f.address.addr.family == VPN_AF_INET &&
                InterfaceWithAddress(ipv4, V4(f.address.addr)) < 0 && std::string(f.name).rfind("Loopback", 0) != 0)
            {
                e << "interface " << f.name << " address " << V4(f.address.addr)
                  << " is on no interface of the node";
            }
            continue;
        }
        bool mgre = f.tunnel_mode == VPN_CONF_TUNNEL_GRE_MULTIPOINT;
        const vpn_conf_interface* s = f.has_tunnel_source ? nullptr : vpn_conf_find_interface(conf, f.tunnel_source_if);
        if (f.tunnel_mode != VPN_CONF_TUNNEL_GRE_IP && f.tunnel_mode != VPN_CONF_TUNNEL_IPSEC_IPV4 &&
            f.tunnel_mode != VPN_CONF_TUNNEL_IPSEC_DUAL && !mgre)
        {
            e << f.name
              << ": only `tunnel mode gre ip`, `gre multipoint`, `ipsec ipv4` and `ipsec dual-overlay` are "
                 "supported so far";
        }
        else if (!f.protection[0])
        {
            e << f.name << " has no `tunnel protection ipsec profile` (clear GRE is not supported)";
        }
        else if (!vpn_conf_find_ipsec_profile(conf, f.protection))
        {
            e << f.name << ": no crypto ipsec profile " << f.protection;
        }
        else if (!f.has_tunnel_destination && !mgre && !f.is_virtual_template)
        {
            // a Virtual-Template's clones take their peers' addresses
            e << f.name << " has no tunnel destination";
        }
        else if (!f.has_tunnel_source && (!s || !s->has_address))
        {
            e << f.name << ": tunnel source needs an interface with an address";
        }
        else if (mgre)
        {
            vpn_nhrp_conf_params np{};
            vpn_conf_error nerr{};
            if (vpn_nhrp_params_from_conf(conf, f.name, &np, &nerr) != 0)
            {
                line = static_cast<uint32_t>(nerr.line ? nerr.line : f.line);
                e << nerr.msg;
            }
        }
    }
    for (size_t i = 0; i < conf->n_route && e.str().empty(); i++)
    {
        const vpn_conf_route& r = conf->route[i];
        line = static_cast<uint32_t>(r.line);
        if (r.via_interface)
        {
            const vpn_conf_interface* f = vpn_conf_find_interface(conf, r.interface);
            bool ok = f && (f->is_tunnel || (f->has_address && InterfaceWithAddress(ipv4, V4(f->address.addr)) >= 0));
            if (!ok)
            {
                e << "ip route via " << r.interface << ": no such interface on the node";
            }
            continue;
        }
        // A next hop on a connected subnet: the node's or a tunnel's of this configuration.
        Ipv4Address nh = V4(r.next_hop);
        bool ok = InterfaceTowards(ipv4, nh) >= 0;
        for (size_t k = 0; k < conf->n_iface && !ok; k++)
        {
            const vpn_conf_interface& f = conf->iface[k];
            ok = f.has_address && (f.is_tunnel || std::string(f.name).rfind("Loopback", 0) == 0) &&
                 MaskOf(f.address.len).IsMatch(V4(f.address.addr), nh);
            // an unnumbered template has no subnet: Install reaches its
            // peers' tunnel addresses through it (NHRP knows them)
            ok = ok || f.is_virtual_template;
        }
        if (!ok)
        {
            e << "next hop " << nh << " is on no connected subnet";
        }
    }
    vpn_conf_del(conf);
    if (e.str().empty())
    {
        line = 0;
    }
    return e.str();
}

std::string
FlexVpnHelper::FormatError(const std::string& file, uint32_t line, const std::string& message)
{
    return line ? file + ":" + std::to_string(line) + ": " + message : file + ": " + message;
}

Ptr<Ikev2Daemon>
FlexVpnHelper::Install(Ptr<Node> node, const std::string& iosConfig, bool initiate) const
{
    uint32_t line = 0;
    std::string bad = Check(node, iosConfig, line);
    NS_ABORT_MSG_IF(!bad.empty(), "node " << node->GetId() << " line " << line << ": " << bad);
    vpn_conf* conf = nullptr;
    vpn_conf_error err{};
    int rc = vpn_conf_parse(iosConfig.c_str(), iosConfig.size(), &conf, &err);
    NS_ABORT_MSG_IF(rc != 0, "node " << node->GetId() << " line " << err.line << ": " << err.msg);
    std::string host = conf->hostname[0] ? conf->hostname : "node " + std::to_string(node->GetId());
    Ptr<Ipv4> ipv4 = node->GetObject<Ipv4>();
    NS_ABORT_MSG_IF(!ipv4, host << ": install an Internet stack before FlexVpnHelper");

    // Physical and loopback interfaces: find them by address.
    for (size_t i = 0; i < conf->n_iface; i++)
    {
        const vpn_conf_interface& f = conf->iface[i];
        if (f.is_tunnel || !f.has_address || f.address.addr.family != VPN_AF_INET ||
            BorrowedByTemplate(conf, f.name))
        {
            continue; // (`ipv6 address` lines: the IPv6 addresses are the scenario's to assign)
        }
        Ipv4Address a = V4(f.address.addr);
        int32_t phys = InterfaceWithAddress(ipv4, a);
        if (phys >= 0)
        {
            if (f.service_policy_out[0])
            {
                // The WAN's queueing: tunnels' ESP is classified on the outer
                // header (DSCP copied from the inner) or, with `qos
                // pre-classify` on the tunnel, on the inner one.
                std::string qerr;
                Ptr<NetDevice> dev = ipv4->GetNetDevice(static_cast<uint32_t>(phys));
                NS_ABORT_MSG_IF(!MqcHelper::InstallServicePolicy(dev, iosConfig, f.name, &qerr),
                                host << " " << qerr);
                MqcHelper::SetTxRing(dev, 1);
            }
            continue;
        }
        NS_ABORT_MSG_IF(std::string(f.name).rfind("Loopback", 0) != 0,
                        host << " line " << f.line << ": interface " << f.name << " address " << a
                             << " is on no interface of the node");
        ipv4->AddAddress(0, Ipv4InterfaceAddress(a, MaskOf(f.address.len)));
    }

    Ptr<Ikev2Daemon> daemon = m_daemonFactory.Create<Ikev2Daemon>();
    std::string cfgErr = daemon->SetConfig(iosConfig);
    NS_ABORT_MSG_IF(!cfgErr.empty(), host << " " << cfgErr);

    for (size_t i = 0; i < conf->n_iface; i++)
    {
        const vpn_conf_interface& f = conf->iface[i];
        if (!f.is_tunnel)
        {
            continue;
        }
        // interface Virtual-Template N type tunnel with `tunnel mode ipsec
        // ipv4`: the remote-access hub's one interface for every client (no
        // destination). A GRE template is FlexVPN's hub/spoke-to-spoke
        // template, cloned per peer by the router core (below).
        bool vti = f.tunnel_mode == VPN_CONF_TUNNEL_IPSEC_IPV4 || f.tunnel_mode == VPN_CONF_TUNNEL_IPSEC_DUAL;
        bool access = f.is_virtual_template && vti;
        // A spoke's own Virtual-Template (sessions from other spokes) rides
        // the device of the tunnel whose `ip nhrp shortcut virtual-template`
        // names it: no device of its own.
        if (f.is_virtual_template && !access && ShortcutTemplate(conf, f.vt_number))
        {
            continue;
        }
        NS_ABORT_MSG_IF(f.is_virtual_template && !access && f.tunnel_mode != VPN_CONF_TUNNEL_GRE_IP,
                        host << " line " << f.line << ": " << f.name
                             << ": a Virtual-Template takes `tunnel mode gre ip` (the default; FlexVPN "
                                "hub) or `tunnel mode ipsec ipv4` (remote access)");
        NS_ABORT_MSG_IF(f.tunnel_mode != VPN_CONF_TUNNEL_GRE_IP && !vti &&
                            f.tunnel_mode != VPN_CONF_TUNNEL_GRE_MULTIPOINT,
                        host << " line " << f.line << ": " << f.name
                             << ": only `tunnel mode gre ip`, `gre multipoint` and `ipsec ipv4` "
                                "are supported so far");
        // FlexVPN: a Virtual-Template and a point-to-point tunnel speaking
        // NHRP are one multipoint device each (the router core clones the
        // per-peer Virtual-Access interfaces)
        bool mgre = f.tunnel_mode == VPN_CONF_TUNNEL_GRE_MULTIPOINT || (f.is_virtual_template && !access) ||
                    (f.nhrp.enabled && f.tunnel_mode == VPN_CONF_TUNNEL_GRE_IP);
        NS_ABORT_MSG_IF(!f.protection[0],
                        host << " line " << f.line << ": " << f.name
                             << " has no `tunnel protection ipsec profile` (clear GRE is not "
                                "supported)");
        NS_ABORT_MSG_IF(!f.has_tunnel_destination && !mgre && !access,
                        host << " line " << f.line << ": " << f.name << " has no tunnel destination");
        Ipv4Address src;
        if (f.has_tunnel_source)
        {
            src = V4(f.tunnel_source);
        }
        else
        {
            const vpn_conf_interface* s = vpn_conf_find_interface(conf, f.tunnel_source_if);
            NS_ABORT_MSG_IF(!s || !s->has_address,
                            host << " line " << f.line << ": " << f.name
                                 << ": tunnel source needs an interface with an address");
            src = V4(s->address.addr);
        }
        Ptr<VpnTunnelNetDevice> tun = m_deviceFactory.Create<VpnTunnelNetDevice>();
        tun->SetAttribute("InterfaceName", StringValue(f.name));
        tun->SetAttribute("Mode",
                          StringValue(access ? "Access"
                                      : mgre ? "Mgre"
                                      : vti  ? "Vti"
                                             : "GreIpsec"));
        tun->SetAttribute("DualOverlay", BooleanValue(f.tunnel_mode == VPN_CONF_TUNNEL_IPSEC_DUAL));
        tun->SetAttribute("TunnelSource", Ipv4AddressValue(src));
        if ((!mgre || f.has_tunnel_destination) && !access)
        {
            // (an NHRP tunnel with a destination, a FlexVPN spoke's Tunnel0,
            // sends its multicast there)
            tun->SetAttribute("TunnelDestination", Ipv4AddressValue(V4(f.tunnel_destination)));
        }
        if (f.has_tunnel_key)
        {
            tun->SetAttribute("TunnelKey", UintegerValue(f.tunnel_key));
        }
        // `ip mtu` if given, else derived from the WAN MTU and the overhead.
        tun->SetAttribute("Mtu", UintegerValue(f.ip_mtu));
        tun->SetAttribute("QosPreClassify", BooleanValue(f.qos_pre_classify));
        node->AddDevice(tun);
        int32_t ifc = ipv4->AddInterface(tun);
        if (f.has_address)
        {
            ipv4->AddAddress(ifc, Ipv4InterfaceAddress(V4(f.address.addr), MaskOf(f.address.len)));
        }
        else if (access && f.unnumbered)
        {
            // `ip unnumbered IF` borrows IF's address: ns-3 wants one on
            // every interface it routes out of (the source of a route).
            const vpn_conf_interface* u = vpn_conf_find_interface(conf, f.unnumbered_if);
            NS_ABORT_MSG_IF(!u || !u->has_address,
                            host << " line " << f.line << ": " << f.name << ": ip unnumbered "
                                 << f.unnumbered_if << " needs an interface with an address");
            ipv4->AddAddress(ifc, Ipv4InterfaceAddress(V4(u->address.addr), MaskOf(32)));
        }
        else if (const vpn_conf_interface* u =
                     f.unnumbered && f.is_virtual_template ? vpn_conf_find_interface(conf, f.unnumbered_if) : nullptr;
                 u && u->has_address && !u->is_tunnel)
        {
            // ip unnumbered on a template: the borrowed address lives on the
            // template's device. (A remote-access client's unnumbered Tunnel0
            // takes the address the hub assigns instead: Ikev2Daemon.)
            ipv4->AddAddress(ifc, Ipv4InterfaceAddress(V4(u->address.addr), MaskOf(u->address.len)));
        }
        NS_ABORT_MSG_IF(access && !f.has_address && !f.unnumbered,
                        host << " line " << f.line << ": " << f.name
                             << " needs `ip unnumbered IF` or an `ip address`");
        ipv4->SetUp(ifc);
        if (f.tunnel_mode == VPN_CONF_TUNNEL_IPSEC_DUAL && node->GetObject<Ipv6>())
        {
            // IPv6 inner traffic: the tunnel's IPv6 interface now, before any
            // packet (the hub's address for us goes on it, Ikev2Daemon)
            tun->EnsureIpv6Interface();
        }
        daemon->Protect(tun, f.protection, initiate);
    }

    Ipv4StaticRoutingHelper routing;
    Ptr<Ipv4StaticRouting> sr = routing.GetStaticRouting(ipv4);
    for (size_t i = 0; i < conf->n_route; i++)
    {
        const vpn_conf_route& r = conf->route[i];
        Ipv4Address net = V4(r.prefix.addr);
        Ipv4Mask mask = MaskOf(r.prefix.len);
        if (r.via_interface)
        {
            int32_t ifc = -1;
            if (Ptr<VpnTunnelNetDevice> t = GetTunnel(node, r.interface))
            {
                ifc = ipv4->GetInterfaceForDevice(t);
            }
            else if (const vpn_conf_interface* f = vpn_conf_find_interface(conf, r.interface))
            {
                ifc = f->has_address ? InterfaceWithAddress(ipv4, V4(f->address.addr)) : -1;
            }
            NS_ABORT_MSG_IF(ifc < 0, host << " line " << r.line << ": ip route via " << r.interface
                                          << ": no such interface on the node");
            sr->AddNetworkRouteTo(net, mask, static_cast<uint32_t>(ifc), r.distance);
        }
        else
        {
            Ipv4Address nh = V4(r.next_hop);
            int32_t ifc = InterfaceTowards(ipv4, nh);
            if (ifc < 0)
            {
                // an unnumbered template has no subnet: its peers' tunnel
                // addresses are reached through it (NHRP knows them)
                for (size_t k = 0; k < conf->n_iface && ifc < 0; k++)
                {
                    Ptr<VpnTunnelNetDevice> t;
                    if (conf->iface[k].is_virtual_template && (t = GetTunnel(node, conf->iface[k].name)))
                    {
                        ifc = ipv4->GetInterfaceForDevice(t);
                    }
                }
            }
            NS_ABORT_MSG_IF(ifc < 0, host << " line " << r.line << ": next hop " << nh
                                          << " is on no connected subnet");
            sr->AddNetworkRouteTo(net, mask, nh, static_cast<uint32_t>(ifc), r.distance);
        }
    }
    // Remote access: the pools' addresses are reached through the
    // Virtual-Template (the router core picks each client's SA by the
    // address; one nobody holds is dropped as having no SA). A route per
    // pool: its smallest covering prefix.
    for (size_t i = 0; i < conf->n_ip_pool; i++)
    {
        Ptr<VpnTunnelNetDevice> vt;
        for (size_t k = 0; k < conf->n_iface && !vt; k++)
        {
            if (conf->iface[k].is_virtual_template && (conf->iface[k].tunnel_mode == VPN_CONF_TUNNEL_IPSEC_IPV4 ||
                                                        conf->iface[k].tunnel_mode == VPN_CONF_TUNNEL_IPSEC_DUAL))
            {
                vt = GetTunnel(node, conf->iface[k].name);
            }
        }
        if (!vt)
        {
            break;
        }
        uint32_t lo = vpn_addr_v4_u32(&conf->ip_pool[i].first);
        uint32_t hi = vpn_addr_v4_u32(&conf->ip_pool[i].last);
        uint8_t len = 32;
        while (len > 0 && (lo >> (32 - len)) != (hi >> (32 - len)))
        {
            len--;
        }
        uint32_t net = len == 0 ? 0 : lo & ~((1u << (32 - len)) - 1u);
        sr->AddNetworkRouteTo(Ipv4Address(net), MaskOf(len), static_cast<uint32_t>(ipv4->GetInterfaceForDevice(vt)));
    }
    // ... and the `ipv6 local pool`s, on a node with an IPv6 stack: the
    // template joins IPv6 (forwarding, no DAD: nobody else is on it) and
    // each pool's prefix is routed into it.
    Ptr<Ipv6> ipv6 = node->GetObject<Ipv6>();
    for (size_t i = 0; ipv6 && i < conf->n_ipv6_pool; i++)
    {
        Ptr<VpnTunnelNetDevice> vt;
        const vpn_conf_interface* tmpl = nullptr;
        for (size_t k = 0; k < conf->n_iface && !vt; k++)
        {
            if (conf->iface[k].is_virtual_template && (conf->iface[k].tunnel_mode == VPN_CONF_TUNNEL_IPSEC_IPV4 ||
                                                        conf->iface[k].tunnel_mode == VPN_CONF_TUNNEL_IPSEC_DUAL))
            {
                vt = GetTunnel(node, conf->iface[k].name);
                tmpl = &conf->iface[k];
            }
        }
        if (!vt)
        {
            break;
        }
        int32_t ifc6 = vt->EnsureIpv6Interface();
        NS_ABORT_MSG_IF(ifc6 < 0, host << ": " << vt->GetInterfaceName() << " cannot join IPv6");
        ipv6->SetForwarding(static_cast<uint32_t>(ifc6), true);
        const vpn_prefix& p = conf->ipv6_pool[i].prefix;
        uint8_t b[16];
        std::memcpy(b, p.addr.b, 16);
        Ipv6StaticRoutingHelper().GetStaticRouting(ipv6)->AddNetworkRouteTo(Ipv6Address(b), Ipv6Prefix(p.len),
                                                                           static_cast<uint32_t>(ifc6));
        // `ip unnumbered IF`: IF's configured `ipv6 address` is the one lent
        const vpn_conf_interface* u = tmpl->unnumbered ? vpn_conf_find_interface(conf, tmpl->unnumbered_if) : nullptr;
        Ipv6Address lent = Ipv6Address::GetAny();
        if (u && u->has_address6 && u->address6.addr.family == VPN_AF_INET6)
        {
            uint8_t a6[16];
            std::memcpy(a6, u->address6.addr.b, 16);
            lent = Ipv6Address(a6);
        }
        Simulator::ScheduleWithContext(node->GetId(), Seconds(0), &BorrowIpv6Global, ipv6, vt,
                                       static_cast<uint32_t>(ifc6), lent);
    }
    if (conf->rip.enabled)
    {
        InstallRip(node, conf, host);
    }
    vpn_conf_del(conf);
    if (VpnMpi::IsLocal(node))
    {
        node->AddApplication(daemon);
    }
    else
    {
        // another MPI rank simulates the node: configured alike, never started here
        daemon->SetNode(node);
    }
    return daemon;
}

FlexVpnHubAndSpokes
FlexVpnHelper::InstallDmvpn(const FlexVpnSite& hub,
                            const std::vector<FlexVpnSite>& spokes,
                            const DmvpnOptions& o) const
{
    NS_LOG_FUNCTION(this << spokes.size());
    return InstallNhrpHub(hub, spokes, o, false);
}

// DMVPN (one mGRE Tunnel0 everywhere) and the FlexVPN virtual-template hub
// (spokes' GRE Tunnel0 to the hub's Virtual-Template1) differ only in their
// tunnel blocks and the IKEv2 profile; the rest of the configurations (crypto,
// interfaces, routes or RIP) is written once here.
FlexVpnHubAndSpokes
FlexVpnHelper::InstallNhrpHub(const FlexVpnSite& hub,
                              const std::vector<FlexVpnSite>& spokes,
                              const DmvpnOptions& o,
                              bool virtualTemplate) const
{
    const char* what = virtualTemplate ? "InstallHubVirtualTemplate" : "InstallDmvpn";
    NS_ABORT_MSG_IF(spokes.empty() || spokes.size() > 65000, what << ": 1 to 65000 spokes");
    SiteView h = ViewSite(hub, "hub");
    std::vector<SiteView> sv;
    std::vector<SiteView> all{h};
    for (size_t i = 0; i < spokes.size(); i++)
    {
        sv.push_back(ViewSite(spokes[i], "spoke " + std::to_string(i + 1)));
        all.push_back(sv.back());
    }
    auto tunnelAddr = [&](size_t i) { return Ipv4Address(o.tunnelNetwork.Get() + 1 + static_cast<uint32_t>(i)); };
    FlexVpnHubSpokeOptions fo;
    fo.ikeProposal = o.ikeProposal;
    fo.transformSet = o.transformSet;
    fo.espTransport = o.espTransport;
    fo.dpd = o.dpd;
    auto [net, mask] = Covering(all);
    std::ostringstream common;
    common << CryptoObjects(fo) << "crypto ikev2 keyring KR1\n peer ANY\n  address 0.0.0.0 0.0.0.0\n"
           << "  pre-shared-key " << o.psk << "\n"
           << IkeProfile(virtualTemplate ? "FLEX" : "DMVPN", net, mask, fo)
           << (virtualTemplate ? "crypto ikev2 profile FLEX\n virtual-template 1\n" : "");
    std::string nhrp = " ip nhrp network-id " + std::to_string(o.networkId) + "\n ip nhrp holdtime " +
                       std::to_string(o.holdtime) + "\n";
    // RIP on the hub's mGRE (RFC 2453): phase 3 summarises to the spokes
    // (split horizon keeps the spokes' own prefixes from going back out);
    // phase 2 (no summary) turns split horizon off so that every spoke
    // learns every other spoke's LANs through the one interface.
    std::string hubRip;
    if (o.rip)
    {
        hubRip = o.ripSummarise ? " ip summary-address rip " + Str(o.summary) + " " + Str(o.summaryMask) + "\n"
                                : std::string(" no ip split-horizon\n");
    }
    auto mgre = [&](const SiteView& v, size_t i) {
        std::ostringstream c;
        c << "interface Tunnel0\n ip address " << tunnelAddr(i) << " 255.255.0.0\n";
        if (!o.nhrpAuth.empty())
        {
            c << " ip nhrp authentication " << o.nhrpAuth << "\n";
        }
        c << nhrp;
        if (i == 0)
        {
            c << " ip nhrp map multicast dynamic\n ip nhrp redirect\n" << hubRip;
        }
        else
        {
            c << " ip nhrp nhs " << tunnelAddr(0) << " nbma " << h.wan << " multicast\n ip nhrp shortcut\n";
        }
        c << " tunnel source " << WanName(v) << "\n tunnel mode gre multipoint\n tunnel key " << o.tunnelKey
          << "\n tunnel protection ipsec profile IPP\n" << (o.qosPreClassify ? " qos pre-classify\n" : "");
        return c.str();
    };
    auto hubTunnel = [&]() {
        if (!virtualTemplate)
        {
            return mgre(h, 0);
        }
        std::ostringstream c;
        c << "interface Loopback0\n ip address " << tunnelAddr(0)
          << " 255.255.255.255\ninterface Virtual-Template1 type tunnel\n ip unnumbered Loopback0\n" << nhrp
          << " ip nhrp redirect\n" << hubRip << " tunnel source " << WanName(h)
          << "\n tunnel protection ipsec profile IPP\n";
        return c.str();
    };
    auto spokeTunnel = [&](const SiteView& v, size_t i) {
        if (!virtualTemplate)
        {
            return mgre(v, i);
        }
        std::ostringstream c;
        c << "interface Tunnel0\n ip address " << tunnelAddr(i) << " 255.255.0.0\n"
          << nhrp << " ip nhrp nhs " << tunnelAddr(0) << "\n ip nhrp shortcut virtual-template 1\n"
          << " ip nhrp redirect\n tunnel source " << WanName(v) << "\n tunnel destination " << h.wan
          << "\n tunnel protection ipsec profile IPP\n"
          << "interface Virtual-Template1 type tunnel\n ip unnumbered Tunnel0\n"
          << nhrp << " tunnel source " << WanName(v) << "\n tunnel protection ipsec profile IPP\n";
        return c.str();
    };
    // router rip with the classful networks of the site's LANs, the tunnel
    // network and (hub) the summary; fast timers so that a spoke hears the
    // summary within seconds of registering.
    auto rip = [&](const SiteView& v, bool isHub) {
        std::set<uint32_t> nets{Classful(o.tunnelNetwork)};
        for (const auto& [lan, m] : v.lans)
        {
            nets.insert(Classful(lan));
        }
        if (isHub && o.ripSummarise)
        {
            nets.insert(Classful(o.summary));
        }
        std::ostringstream c;
        c << "router rip\n version 2\n";
        for (uint32_t n : nets)
        {
            c << " network " << Ipv4Address(n) << "\n";
        }
        c << " timers basic " << o.ripUpdate << " " << 3 * o.ripUpdate << " " << 3 * o.ripUpdate << " "
          << 4 * o.ripUpdate << "\n no auto-summary\n";
        return c.str();
    };

    std::ostringstream hc;
    hc << "hostname HUB\n" << common.str() << o.qos << Interfaces(h, o.wanServicePolicy) << hubTunnel();
    for (size_t i = 1; i <= sv.size() && !o.rip; i++)
    {
        for (const auto& [lan, m] : sv[i - 1].lans)
        {
            hc << "ip route " << lan << " " << m << " " << tunnelAddr(i) << "\n";
        }
    }
    if (hub.gateway != Ipv4Address::GetAny())
    {
        hc << "ip route 0.0.0.0 0.0.0.0 " << hub.gateway << "\n";
    }
    if (o.rip)
    {
        hc << rip(h, true);
    }
    FlexVpnHubAndSpokes out;
    out.hubConfig = hc.str();
    out.hub = Install(hub.wan->GetNode(), out.hubConfig, false);
    for (size_t i = 1; i <= sv.size(); i++)
    {
        std::ostringstream c;
        c << "hostname SPOKE" << i << "\n"
          << common.str() << o.qos << Interfaces(sv[i - 1], o.wanServicePolicy) << spokeTunnel(sv[i - 1], i);
        if (!o.rip)
        {
            c << "ip route " << o.summary << " " << o.summaryMask << " " << tunnelAddr(0) << "\n";
        }
        if (spokes[i - 1].gateway != Ipv4Address::GetAny())
        {
            c << "ip route 0.0.0.0 0.0.0.0 " << spokes[i - 1].gateway << "\n";
        }
        if (o.rip)
        {
            c << rip(sv[i - 1], false);
        }
        out.spokeConfigs.push_back(c.str());
        // the NHRP engine registers at start, which brings IKE up on demand
        out.spokes.push_back(Install(spokes[i - 1].wan->GetNode(), out.spokeConfigs.back(), true));
    }
    return out;
}

FlexVpnHelper::FlexVpnHelper()
{
    NS_LOG_FUNCTION(this);
    m_daemonFactory.SetTypeId(Ikev2Daemon::GetTypeId());
    m_deviceFactory.SetTypeId(VpnTunnelNetDevice::GetTypeId());
}

void
FlexVpnHelper::SetAttribute(const std::string& name, const AttributeValue& value)
{
    NS_LOG_FUNCTION(this << name);
    m_daemonFactory.Set(name, value);
}

void
FlexVpnHelper::SetDeviceAttribute(const std::string& name, const AttributeValue& value)
{
    NS_LOG_FUNCTION(this << name);
    m_deviceFactory.Set(name, value);
}

ApplicationContainer
FlexVpnHelper::Install(const NodeContainer& nodes,
                       const std::vector<std::string>& iosConfigs,
                       bool initiate) const
{
    NS_LOG_FUNCTION(this << nodes.GetN() << initiate);
    NS_ABORT_MSG_IF(nodes.GetN() != iosConfigs.size(),
                    "FlexVpnHelper::Install: " << nodes.GetN() << " nodes but "
                                               << iosConfigs.size() << " configurations");
    ApplicationContainer apps;
    for (uint32_t i = 0; i < nodes.GetN(); i++)
    {
        apps.Add(Install(nodes.Get(i), iosConfigs[i], initiate));
    }
    return apps;
}

int64_t
FlexVpnHelper::AssignStreams(NodeContainer c, int64_t stream)
{
    NS_LOG_FUNCTION(this << stream);
    int64_t used = 0;
    for (auto it = c.Begin(); it != c.End(); ++it)
    {
        used += VpnNodeEngine::GetOrCreate(*it)->AssignStreams(stream + used);
    }
    return used;
}

FlexVpnHubAndSpokes
FlexVpnHelper::InstallHubVirtualTemplate(const FlexVpnSite& hub,
                                         const std::vector<FlexVpnSite>& spokes,
                                         const DmvpnOptions& o) const
{
    NS_LOG_FUNCTION(this << spokes.size());
    return InstallNhrpHub(hub, spokes, o, true);
}

} // namespace ns3
