#include "flexvpn-helper.h"

#include "ns3/abort.h"
#include "ns3/ipv4-list-routing.h"
#include "ns3/ipv4-static-routing-helper.h"
#include "ns3/rip.h"
#include "ns3/ipv4.h"
#include "ns3/log.h"
#include "ns3/string.h"
#include "ns3/uinteger.h"

#include <set>

extern "C" {
#include "common/addr.h"
#include "common/vpn-err.h"
#include "conf/conf.h"
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

} // namespace

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
    }
    Ptr<Rip> rip = CreateObject<Rip>();
    rip->SetInterfaceExclusions(excluded);
    // timers basic: update, invalid (route timeout) and flush (garbage collection).
    rip->SetAttribute("UnsolicitedRoutingUpdate", TimeValue(Seconds(conf->rip.update_s)));
    rip->SetAttribute("TimeoutDelay", TimeValue(Seconds(conf->rip.invalid_s)));
    rip->SetAttribute("GarbageCollectionDelay", TimeValue(Seconds(conf->rip.flush_s - conf->rip.invalid_s)));
    list->AddRoutingProtocol(rip, -10);
    // Aggregated, as RipHelper does, so that the node initializes it.
    node->AggregateObject(rip);
}

Ptr<Ikev2Daemon>
FlexVpnHelper::Install(Ptr<Node> node, const std::string& iosConfig, bool initiate) const
{
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
        if (f.is_tunnel || !f.has_address)
        {
            continue;
        }
        Ipv4Address a = V4(f.address.addr);
        if (InterfaceWithAddress(ipv4, a) >= 0)
        {
            continue;
        }
        NS_ABORT_MSG_IF(std::string(f.name).rfind("Loopback", 0) != 0,
                        host << " line " << f.line << ": interface " << f.name << " address " << a
                             << " is on no interface of the node");
        ipv4->AddAddress(0, Ipv4InterfaceAddress(a, MaskOf(f.address.len)));
    }

    Ptr<Ikev2Daemon> daemon = CreateObject<Ikev2Daemon>();
    std::string cfgErr = daemon->SetConfig(iosConfig);
    NS_ABORT_MSG_IF(!cfgErr.empty(), host << " " << cfgErr);

    for (size_t i = 0; i < conf->n_iface; i++)
    {
        const vpn_conf_interface& f = conf->iface[i];
        if (!f.is_tunnel)
        {
            continue;
        }
        NS_ABORT_MSG_IF(f.tunnel_mode != VPN_CONF_TUNNEL_GRE_IP &&
                            f.tunnel_mode != VPN_CONF_TUNNEL_IPSEC_IPV4,
                        host << " line " << f.line << ": " << f.name
                             << ": only `tunnel mode gre ip` and `tunnel mode ipsec ipv4` are "
                                "supported so far");
        NS_ABORT_MSG_IF(!f.protection[0],
                        host << " line " << f.line << ": " << f.name
                             << " has no `tunnel protection ipsec profile` (clear GRE is not "
                                "supported)");
        NS_ABORT_MSG_IF(!f.has_tunnel_destination,
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
        Ptr<VpnTunnelNetDevice> tun = CreateObject<VpnTunnelNetDevice>();
        tun->SetAttribute("InterfaceName", StringValue(f.name));
        tun->SetAttribute("Mode",
                          StringValue(f.tunnel_mode == VPN_CONF_TUNNEL_IPSEC_IPV4 ? "Vti" : "GreIpsec"));
        tun->SetAttribute("TunnelSource", Ipv4AddressValue(src));
        tun->SetAttribute("TunnelDestination", Ipv4AddressValue(V4(f.tunnel_destination)));
        if (f.has_tunnel_key)
        {
            tun->SetAttribute("TunnelKey", UintegerValue(f.tunnel_key));
        }
        tun->SetAttribute("Mtu", UintegerValue(f.ip_mtu ? f.ip_mtu : 1400));
        node->AddDevice(tun);
        int32_t ifc = ipv4->AddInterface(tun);
        if (f.has_address)
        {
            ipv4->AddAddress(ifc, Ipv4InterfaceAddress(V4(f.address.addr), MaskOf(f.address.len)));
        }
        ipv4->SetUp(ifc);
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
            NS_ABORT_MSG_IF(ifc < 0, host << " line " << r.line << ": next hop " << nh
                                          << " is on no connected subnet");
            sr->AddNetworkRouteTo(net, mask, nh, static_cast<uint32_t>(ifc), r.distance);
        }
    }
    if (conf->rip.enabled)
    {
        InstallRip(node, conf, host);
    }
    vpn_conf_del(conf);
    node->AddApplication(daemon);
    return daemon;
}

} // namespace ns3
