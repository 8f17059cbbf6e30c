#include "getvpn-helper.h"

#include "vpn-mpi-helper.h"
#include "mqc-helper.h"

#include "ns3/abort.h"
#include "ns3/ipv4-routing-table-entry.h"
#include "ns3/ipv4-static-routing-helper.h"
#include "ns3/ipv4.h"
#include "ns3/log.h"
#include "ns3/vpn-node-engine.h"

#include <algorithm>
#include <sstream>

extern "C" {
#include "common/addr.h"
#include "common/rng.h"
#include "common/vpn-err.h"
#include "conf/conf.h"
#include "crypto/sig.h"
#include "gdoi/gdoi-conf.h"
#include "getvpn/getvpn.h"
#include "ipsec/sa.h"
#include "ipsec/spd.h"
}

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("GetVpnHelper");

namespace
{
// The built-in rekey key pair: a 2048-bit RSA key made for this module's
// simulations only (published here, so it protects nothing real).
const char kSimRekeyKey[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDvtsOW/AsHzD34\n"
    "JJVaDPoH/9nNfrFiOFjzp/mLUL+4HCvPQkT/MPKQEdp0FI8Ne8QlC28yNpDBxSq8\n"
    "QMBoqbrIDZEgpZDzYohLdrub8BY3iXnu2BR7Q0qpILD3SLoxDDQL9+XuzwnIZuQA\n"
    "aBue7ScaN8pCQ4frLdiunsMqWhObLlM29DAmWWI7Hfzwc+JjGOxQVytzAx8OhQMb\n"
    "QYnpPTufbrdVbCtHHa77kdQlEJdh3a+EnZ6NbFmPx8g/qY/YMCEVvyv8AJmz1wqO\n"
    "VMwLcJhNZbBk0dX08RT2aK2V1AXf8xzNl3o3esBhjCI3spmQuc80RX1tvkcnV11X\n"
    "rTLa31dZAgMBAAECggEAIqMYTJxrWkYYfN7fDHMBkd8AnAvUGmrP7O0hnBAf6RIm\n"
    "VmgEoOcetX3kQI+pQqaBPLppPSqF7NR44gNtNJ0J1db4Axf0A5Gs5f09teuRb5bt\n"
    "cntF17BtJ6ux8RlQ0L4rAGu34rOHKK44AG21SAKL0DhYK7j8Tm7XzMDjVx71jvTG\n"
    "sCVDqo/nrq8CS18miCNBpUPV4L7hIBGUwkp6QX/sDp0RqpcYCtH5NKbuL3yQMi1e\n"
    "OB7KS9S186VB4sJdn5AN/SYHk+FTnPX2o1rZ0eIbRr9/O2YaoDEoOz2mWzLX6vs/\n"
    "JGTpiVM6H8F4fO9Zpzhqx3d1gwc1A89F6DdWdhZSXQKBgQD/3v5cSXuIPycbdMTG\n"
    "aiUrZQYn4g9+FbBcu3zAd59WEdv7z2aqlfTHsbr3/YxW7dJXnYP47ol3CIkFYovf\n"
    "uLeqRmBnfpjz355TKGO+KcSGNWOd04Zo8MM4Ir3nFMaX0/WgMah4DmRl+zR4s/Kk\n"
    "66+6vTsGqbtKEemeVoW6BuST5wKBgQDv1a+r1u5ICA6JLkrl42cs3l9R5OXYWO8x\n"
    "UAv1+AqewV3GZCntUNH/nGDjrS2N5x7XiufyocBsPL5hwh7brRc6H3hyq5uoAH8D\n"
    "y7putJKsN32NztUNvdo1fI8KbQPdpYl9qgRG3V0EG9SdQeZvitwfaGQk7jgHDLdP\n"
    "+2FgusNSvwKBgF2KkWT9vDqgE9T2yGVdMr99jFWSUGWg2jvckwvt74NQviJ9vSPJ\n"
    "9JX4xMiame7BvO8o97FOy1SH+0fLsiUU65hFaEMNxi8J5mCyWFyR+nWyGPv+85lz\n"
    "w3rHQLO1JbEl3Rs2bEePw2aBArrJ1oAyZakYOvcBoCXBDK5FJVhP4sqrAoGAbZLd\n"
    "Xc8msnYr3fTudzV8D/3Q4uOHN176eTcvH8OhZoLFyzw8A5anOvdBNQQMCgcMCkIG\n"
    "Us4f0dO2z4cW/hqIwB9csldBGHKRlTRhCu8pC9GWZVGX+V1B8qnj2EmSOJPGy0kA\n"
    "BzhfpN7qNqbDFzcD9r2E83J62o2uurYI+V6ampUCgYEA666ZtcgOjNqOrPAcD8d/\n"
    "s/brdbOxytygUJHyP+xKHhxAXW4L6v4fJusmFRfrDPqvuj5QKRdr4dSSuO779EfH\n"
    "DaZOSfywVrLarlfvM40a0mttFaaX8Zv2fFVymE2vZltTo5aCnVwY5nGJFVuujkdL\n"
    "N5rTNuomM4+IbMV3JWR5b4M=\n"
    "-----END PRIVATE KEY-----\n";

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

std::shared_ptr<vpn_sig_key>
LoadKey(const std::string& pem, int* rc)
{
    vpn_sig_key* k = nullptr;
    *rc = vpn_sig_key_load_private(&k, reinterpret_cast<const uint8_t*>(pem.data()), pem.size());
    if (*rc != 0)
    {
        return nullptr;
    }
    return std::shared_ptr<vpn_sig_key>(k, vpn_sig_key_del);
}

// A device some other helper already gave an IPv4 interface (say
// MplsProviderHelper::AttachSite, which configures CEs itself): that
// interface is set down and emptied of its addresses and of the static
// routes through it; the configuration then reuses it, or, for the crypto
// map's device, leaves it down and builds one on the wrapper (ns-3 cannot
// move an interface to another device, and a second interface on the same
// device would deliver every packet twice). Returns the interface or -1.
int32_t
Retire(Ptr<Ipv4> ipv4, Ptr<NetDevice> dev)
{
    int32_t i = ipv4->GetInterfaceForDevice(dev);
    if (i < 0)
    {
        return -1;
    }
    uint32_t ifc = static_cast<uint32_t>(i);
    Ipv4StaticRoutingHelper srh;
    Ptr<Ipv4StaticRouting> sr = srh.GetStaticRouting(ipv4);
    for (uint32_t r = sr->GetNRoutes(); r-- > 0;)
    {
        if (sr->GetRoute(r).GetInterface() == ifc)
        {
            sr->RemoveRoute(r);
        }
    }
    ipv4->SetDown(ifc);
    while (ipv4->GetNAddresses(ifc) > 0)
    {
        ipv4->RemoveAddress(ifc, 0);
    }
    return i;
}

// What a daemon keeps alive: the parsed configuration and the storage the
// translated engine configurations point into.
struct Storage
{
    vpn_conf* conf{nullptr};
    std::vector<vpn_gdoi_conf_ks> ks; // one per `server local` group
    std::vector<vpn_gdoi_conf_gm> gm; // one per crypto map entry
    std::shared_ptr<vpn_sig_key> key;
    ~Storage()
    {
        vpn_conf_del(conf);
    }
};
} // namespace

GetVpnHelper::GetVpnHelper()
    : m_regStart(Seconds(1))
{
    NS_LOG_FUNCTION(this);
    int rc = 0;
    m_key = LoadKey(kSimRekeyKey, &rc);
    NS_ABORT_MSG_IF(!m_key, "built-in GET VPN rekey key: " << vpn_strerror(rc));
    m_daemonFactory.SetTypeId(GdoiDaemon::GetTypeId());
    m_deviceFactory.SetTypeId(VpnCryptoMapNetDevice::GetTypeId());
}

std::string
GetVpnHelper::SetRekeyKeyPem(const std::string& pem)
{
    NS_LOG_FUNCTION(this);
    int rc = 0;
    std::shared_ptr<vpn_sig_key> k = LoadKey(pem, &rc);
    if (!k)
    {
        return std::string("rekey key: ") + vpn_strerror(rc);
    }
    if (vpn_sig_key_type_of(k.get()) != VPN_SIG_KEY_RSA)
    {
        return "rekey key: GDOI rekeys are signed with RSA";
    }
    m_key = k;
    return "";
}

void
GetVpnHelper::SetRegistrationStart(Time t)
{
    NS_LOG_FUNCTION(this << t);
    m_regStart = t;
}

void
GetVpnHelper::SetGapDelays(Time activation, Time deactivation)
{
    NS_LOG_FUNCTION(this << activation << deactivation);
    m_gapActivation = activation;
    m_gapDeactivation = deactivation;
}

std::string
GetVpnHelper::Install(Ptr<Node> node,
                      const std::string& iosConfig,
                      const std::map<std::string, Ptr<NetDevice>>& interfaces)
{
    NS_LOG_FUNCTION(this << node);
    auto st = std::make_shared<Storage>();
    vpn_conf_error err{};
    std::ostringstream e;
    int rc = vpn_conf_parse(iosConfig.c_str(), iosConfig.size(), &st->conf, &err);
    if (rc != 0)
    {
        e << "node " << node->GetId() << " line " << err.line << ": " << err.msg;
        return e.str();
    }
    const vpn_conf* conf = st->conf;
    std::string host = conf->hostname[0] ? conf->hostname : "node " + std::to_string(node->GetId());
    Ptr<Ipv4> ipv4 = node->GetObject<Ipv4>();
    if (!ipv4)
    {
        return host + ": install an Internet stack before GetVpnHelper";
    }
    st->key = m_key;

    // ---- check everything before the node changes
    std::vector<vpn_getvpn_group_params> groups;
    size_t nks = 0;
    for (size_t i = 0; i < conf->n_gdoi_group; i++)
    {
        nks += conf->gdoi_group[i].server_local ? 1 : 0;
    }
    // sized once: the group parameters point into these
    st->ks.resize(nks);
    for (size_t i = 0, k = 0; i < conf->n_gdoi_group; i++)
    {
        if (!conf->gdoi_group[i].server_local)
        {
            continue;
        }
        // every key-server group (the node takes one per KS address)
        rc = vpn_gdoi_ks_cfg_from_conf(conf, conf->gdoi_group[i].name, m_key.get(), &st->ks[k], &err);
        if (rc != 0)
        {
            e << host << " line " << err.line << ": " << err.msg;
            return e.str();
        }
        for (size_t j = 0; j < k; j++)
        {
            if (vpn_addr_eq(&st->ks[j].cfg.local, &st->ks[k].cfg.local))
            {
                e << host << " line " << st->ks[k].group->ks_address_line << ": group "
                  << st->ks[k].group->name << ": address ipv4 is already group "
                  << st->ks[j].group->name << "'s (one key-server group per address)";
                return e.str();
            }
        }
        vpn_getvpn_group_params g{};
        g.role = VPN_GETVPN_ROLE_KS;
        g.ks = st->ks[k].cfg;
        if (!g.ks.gap_activation_s && !g.ks.gap_deactivation_s)
        {
            // whole seconds on the wire (RFC 6407 5.5, 16-bit fields)
            g.ks.gap_activation_s =
                static_cast<uint16_t>(std::min<int64_t>(m_gapActivation.GetSeconds() < 0 ? 0 : static_cast<int64_t>(m_gapActivation.GetSeconds()), 65535));
            g.ks.gap_deactivation_s =
                static_cast<uint16_t>(std::min<int64_t>(m_gapDeactivation.GetSeconds() < 0 ? 0 : static_cast<int64_t>(m_gapDeactivation.GetSeconds()), 65535));
        }
        groups.push_back(g);
        k++;
    }
    const vpn_conf_interface* mapIf = nullptr;
    for (size_t i = 0; i < conf->n_iface; i++)
    {
        if (conf->iface[i].crypto_map[0])
        {
            mapIf = &conf->iface[i];
        }
    }
    if (mapIf)
    {
        // one member group per crypto map entry (a router in several
        // groups: the seed's departments), each with its local deny lines;
        // the node makes each group's SAD and SPD (getvpn.h)
        size_t n = vpn_gdoi_conf_gm_entries(conf, nullptr);
        if (n > VPN_GETVPN_MAX_GROUPS - groups.size())
        {
            e << host << " line " << mapIf->crypto_map_line << ": crypto map " << mapIf->crypto_map
              << ": more than " << VPN_GETVPN_MAX_GROUPS << " groups on one router";
            return e.str();
        }
        st->gm.resize(n > 0 ? n : 1); // none: entry 0 says why
        for (size_t k = 0; k < st->gm.size(); k++)
        {
            vpn_gdoi_conf_gm* gm = &st->gm[k];
            rc = vpn_gdoi_gm_cfg_from_conf_entry(conf, nullptr, k, nullptr, nullptr, nullptr, gm, &err);
            if (rc != 0)
            {
                e << host << " line " << err.line << ": " << err.msg;
                return e.str();
            }
            vpn_getvpn_group_params g{};
            g.role = VPN_GETVPN_ROLE_GM;
            g.gm = gm->cfg;
            g.map_seq = gm->map->seq;
            g.deny = gm->deny;
            g.n_deny = gm->n_deny;
            g.start_ns = static_cast<uint64_t>(m_regStart.GetNanoSeconds());
            groups.push_back(g);
        }
    }
    if (groups.empty())
    {
        return host + " line 0: no 'crypto gdoi group' with 'server local' and no interface with "
                      "a 'crypto map'";
    }
    // interfaces: each configured address needs its device, without IPv4 yet
    for (size_t i = 0; i < conf->n_iface; i++)
    {
        const vpn_conf_interface& f = conf->iface[i];
        if (f.is_tunnel)
        {
            e << host << " line " << f.line << ": " << f.name
              << ": tunnel interfaces are FlexVpnHelper's";
            return e.str();
        }
        if (!f.has_address)
        {
            continue;
        }
        auto it = interfaces.find(f.name);
        if (it == interfaces.end() || !it->second)
        {
            e << host << " line " << f.line << ": interface " << f.name
              << " has no ns-3 device (pass it in the interfaces map)";
            return e.str();
        }
        if (it->second->GetNode() != node)
        {
            e << host << " line " << f.line << ": interface " << f.name
              << ": the device is not the node's";
            return e.str();
        }
    }
    for (size_t i = 0; i < conf->n_route; i++)
    {
        const vpn_conf_route& r = conf->route[i];
        bool ok = false;
        for (size_t k = 0; k < conf->n_iface && !ok; k++)
        {
            const vpn_conf_interface& f = conf->iface[k];
            if (r.via_interface)
            {
                ok = std::string(f.name) == r.interface && f.has_address;
            }
            else if (f.has_address)
            {
                ok = MaskOf(f.address.len).IsMatch(V4(f.address.addr), V4(r.next_hop));
            }
        }
        if (!ok)
        {
            e << host << " line " << r.line << ": ip route: "
              << (r.via_interface ? "no such interface with an address"
                                  : "next hop on no connected subnet");
            return e.str();
        }
    }

    // ---- build
    Ptr<GdoiDaemon> daemon = m_daemonFactory.Create<GdoiDaemon>();
    for (size_t i = 0; i < conf->n_iface; i++)
    {
        const vpn_conf_interface& f = conf->iface[i];
        if (!f.has_address)
        {
            continue;
        }
        Ptr<NetDevice> dev = interfaces.at(f.name);
        if (f.service_policy_out[0])
        {
            // On the physical device: under a crypto map it queues the ESP
            // packets, classified by the header GET VPN preserves.
            std::string qerr;
            if (!MqcHelper::InstallServicePolicy(dev, iosConfig, f.name, &qerr))
            {
                e << host << " " << qerr;
                return e.str();
            }
            MqcHelper::SetTxRing(dev, 1);
        }
        int32_t ifc = Retire(ipv4, dev);
        if (&f == mapIf)
        {
            Ptr<VpnCryptoMapNetDevice> map = m_deviceFactory.Create<VpnCryptoMapNetDevice>();
            node->AddDevice(map);
            map->SetInnerDevice(dev);
            map->SetDaemon(daemon);
            m_maps[node->GetId()] = map;
            dev = map;
            ifc = -1; // the old interface stays down: the wrapper gets a new one
        }
        if (ifc < 0)
        {
            ifc = ipv4->AddInterface(dev);
        }
        ipv4->AddAddress(ifc, Ipv4InterfaceAddress(V4(f.address.addr), MaskOf(f.address.len)));
        ipv4->SetUp(ifc);
    }
    Ipv4StaticRoutingHelper routing;
    Ptr<Ipv4StaticRouting> sr = routing.GetStaticRouting(ipv4);
    for (size_t i = 0; i < conf->n_route; i++)
    {
        const vpn_conf_route& r = conf->route[i];
        Ipv4Address net = V4(r.prefix.addr);
        Ipv4Mask mask = MaskOf(r.prefix.len);
        for (size_t k = 0; k < conf->n_iface; k++)
        {
            const vpn_conf_interface& f = conf->iface[k];
            if (!f.has_address)
            {
                continue;
            }
            int32_t ifc = ipv4->GetInterfaceForAddress(V4(f.address.addr));
            if (r.via_interface && std::string(f.name) == r.interface)
            {
                sr->AddNetworkRouteTo(net, mask, static_cast<uint32_t>(ifc), r.distance);
                break;
            }
            if (!r.via_interface && MaskOf(f.address.len).IsMatch(V4(f.address.addr), V4(r.next_hop)))
            {
                sr->AddNetworkRouteTo(net, mask, V4(r.next_hop), static_cast<uint32_t>(ifc),
                                      r.distance);
                break;
            }
        }
    }
    for (const auto& g : groups)
    {
        daemon->AddGroup(g);
    }
    daemon->KeepAlive(st);
    if (VpnMpi::IsLocal(node))
    {
        node->AddApplication(daemon);
    }
    else
    {
        // another MPI rank simulates the node: configured alike (same
        // devices, addresses and routes everywhere), never started here
        daemon->SetNode(node);
    }
    m_daemons[node->GetId()] = daemon;
    m_all.push_back(daemon);
    return "";
}

Ptr<GdoiDaemon>
GetVpnHelper::GetDaemon(Ptr<Node> node) const
{
    auto it = m_daemons.find(node->GetId());
    return it == m_daemons.end() ? nullptr : it->second;
}

Ptr<VpnCryptoMapNetDevice>
GetVpnHelper::GetCryptoMap(Ptr<Node> node) const
{
    auto it = m_maps.find(node->GetId());
    return it == m_maps.end() ? nullptr : it->second;
}

const std::vector<Ptr<GdoiDaemon>>&
GetVpnHelper::GetDaemons() const
{
    return m_all;
}

void
GetVpnHelper::SetAttribute(const std::string& name, const AttributeValue& value)
{
    NS_LOG_FUNCTION(this << name);
    m_daemonFactory.Set(name, value);
}

void
GetVpnHelper::SetDeviceAttribute(const std::string& name, const AttributeValue& value)
{
    NS_LOG_FUNCTION(this << name);
    m_deviceFactory.Set(name, value);
}

std::string
GetVpnHelper::Install(const NodeContainer& nodes,
                      const std::vector<std::string>& iosConfigs,
                      const std::vector<std::map<std::string, Ptr<NetDevice>>>& interfaces)
{
    NS_LOG_FUNCTION(this << nodes.GetN());
    if (nodes.GetN() != iosConfigs.size() || nodes.GetN() != interfaces.size())
    {
        std::ostringstream e;
        e << nodes.GetN() << " nodes, " << iosConfigs.size() << " configurations, "
          << interfaces.size() << " interface maps: one of each per node";
        return e.str();
    }
    for (uint32_t i = 0; i < nodes.GetN(); i++)
    {
        std::string err = Install(nodes.Get(i), iosConfigs[i], interfaces[i]);
        if (!err.empty())
        {
            return err;
        }
    }
    return "";
}

int64_t
GetVpnHelper::AssignStreams(NodeContainer c, int64_t stream)
{
    NS_LOG_FUNCTION(this << stream);
    int64_t used = 0;
    for (auto it = c.Begin(); it != c.End(); ++it)
    {
        used += VpnNodeEngine::GetOrCreate(*it)->AssignStreams(stream + used);
    }
    return used;
}

} // namespace ns3
