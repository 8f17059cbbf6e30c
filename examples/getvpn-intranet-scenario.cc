#include "getvpn-intranet-scenario.h"

#include "ns3/vpn-trace-helper.h"
#include "ns3/vpn-mpi-helper.h"

#include "ns3/abort.h"
#include "ns3/internet-stack-helper.h"
#include "ns3/ipv4-static-routing-helper.h"
#include "ns3/ipv4.h"
#include "ns3/point-to-point-helper.h"
#include "ns3/inet-socket-address.h"
#include "ns3/packet.h"
#include "ns3/seq-ts-header.h"
#include "ns3/simulator.h"
#include "ns3/socket.h"
#include "ns3/string.h"
#include "ns3/udp-socket-factory.h"
#include "ns3/vpn-ns3-compat.h"

#include "getvpn/getvpn.h"
#include <algorithm>
#include <fstream>
#include <sstream>

namespace ns3
{

namespace
{
Ipv4Address
A(uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
    return Ipv4Address((a << 24) | (b << 16) | (c << 8) | d);
}

// 198.51.100.4k/30: PE .4k+1, CE .4k+2
Ipv4Address
AccessPe(uint32_t k)
{
    return A(198, 51, 100, 4 * k + 1);
}

Ipv4Address
AccessCe(uint32_t k)
{
    return A(198, 51, 100, 4 * k + 2);
}

std::string
Str(Ipv4Address a)
{
    std::ostringstream s;
    a.Print(s);
    return s.str();
}

// An address on a fresh interface of dev's node.
uint32_t
AddIf(Ptr<NetDevice> dev, Ipv4Address a, Ipv4Mask m)
{
    Ptr<Ipv4> ipv4 = dev->GetNode()->GetObject<Ipv4>();
    int32_t i = ipv4->AddInterface(dev);
    ipv4->AddAddress(i, Ipv4InterfaceAddress(a, m));
    ipv4->SetUp(i);
    return static_cast<uint32_t>(i);
}

const char* kIsakmp = "crypto isakmp policy 10\n"
                      " encryption aes 256\n"
                      " hash sha256\n"
                      " authentication pre-share\n"
                      " group 14\n";
} // namespace

Ipv4Address
GetVpnIntranet::HostAddress(uint32_t k)
{
    return A(10, k, 0, 2);
}

std::string
GetVpnIntranetHelper::KeyServerConfig(const GetVpnIntranetOptions& o, uint32_t index)
{
    // KS1 at 192.0.2.2 (link 192.0.2.0/30), KS2 at 192.0.2.6 (192.0.2.4/30)
    std::string self = index == 0 ? "192.0.2.2" : "192.0.2.6";
    bool dept2 = index == 1 && o.secondGroup;
    std::string gw = index == 0 ? "192.0.2.1" : "192.0.2.5";
    std::string peer = index == 0 ? "192.0.2.6" : "192.0.2.2";
    std::ostringstream c;
    c << "hostname KS" << index + 1 << "\n"
      << kIsakmp << "crypto isakmp key getvpn-psk address 0.0.0.0 0.0.0.0\n"
      << "crypto key generate rsa general-keys label GETVPN-KEY modulus 2048\n"
      << "crypto ipsec transform-set TS " << o.transform << "\n"
      << "crypto ipsec profile GETVPN-PROF\n"
      << " set transform-set TS\n"
      << " set security-association lifetime seconds " << o.tekLifetime << "\n"
      << "ip access-list extended GETVPN-POLICY\n"
      << " deny udp any eq 848 any eq 848\n"
      << " " << (dept2 ? o.secondPolicy : o.policy) << "\n"
      << "ip access-list extended GETVPN-REKEY\n"
      << " permit udp host " << self << " eq 848 host " << Str(o.rekeyGroup) << " eq 848\n";
    if (!o.unauthorized.empty())
    {
        c << "ip access-list standard GETVPN-MEMBERS\n";
        for (uint32_t k = 0; k <= o.branches; k++)
        {
            if (std::find(o.unauthorized.begin(), o.unauthorized.end(), k) == o.unauthorized.end())
            {
                c << " permit host " << Str(AccessCe(k)) << "\n";
            }
        }
    }
    c << (dept2 ? "crypto gdoi group DEPT2\n identity number 5678\n"
                : "crypto gdoi group GETVPN\n identity number 1234\n")
      << " server local\n"
      << "  rekey algorithm aes 256\n"
      << "  rekey lifetime seconds " << o.kekLifetime << "\n"
      << "  rekey retransmit 10 number 2\n"
      << "  rekey authentication mypubkey rsa GETVPN-KEY\n";
    if (o.multicastRekey)
    {
        c << "  rekey address ipv4 GETVPN-REKEY\n";
    }
    else
    {
        c << "  rekey transport unicast\n";
    }
    if (!o.unauthorized.empty())
    {
        c << "  authorization address ipv4 GETVPN-MEMBERS\n";
    }
    c << "  sa ipsec 1\n"
      << "   profile GETVPN-PROF\n"
      << "   match address ipv4 GETVPN-POLICY\n"
      << "   replay time window-size " << o.replayWindow << "\n"
      << "  address ipv4 " << self << "\n";
    if (o.coop)
    {
        // IOS: the highest priority is primary
        c << "  redundancy\n"
          << "   local priority " << (index == 0 ? 100 : 50) << "\n"
          << "   peer address ipv4 " << peer << "\n";
    }
    c << "interface GigabitEthernet0/0\n"
      << " ip address " << self << " 255.255.255.252\n"
      << "ip route 0.0.0.0 0.0.0.0 " << gw << "\n";
    return c.str();
}

std::string
GetVpnIntranetHelper::SiteName(uint32_t k)
{
    return k == 0 ? "HQ" : "BRANCH" + std::to_string(k);
}

void
GetVpnIntranetHelper::EnableTraces(GetVpnHelper& getvpn,
                                   const GetVpnIntranet& net,
                                   VpnTraceHelper& trace,
                                   const std::string& out,
                                   bool memberGdoiPcaps)
{
    NS_ABORT_MSG_UNLESS(net.mpls, "EnableTraces needs an MPLS intranet");
    trace.EnableGetVpnKeyExport(getvpn.GetDaemons());
    trace.EnableGdoiPcap("KS1", getvpn.GetDaemon(net.ks));
    if (net.ks2)
    {
        trace.EnableGdoiPcap("KS2", getvpn.GetDaemon(net.ks2));
    }
    std::ofstream(out + "/KS1.cfg") << net.ksConfig;
    if (net.ks2)
    {
        std::ofstream(out + "/KS2.cfg") << net.ks2Config;
    }
    for (uint32_t k = 0; k < net.ce.GetN(); k++)
    {
        std::string name = SiteName(k);
        std::ofstream(out + "/" + name + ".cfg") << net.ceConfigs[k];
        if (memberGdoiPcaps)
        {
            trace.EnableGdoiPcap(name, getvpn.GetDaemon(net.ce.Get(k)));
        }
        trace.EnableCryptoMapPcap("clear-" + name, getvpn.GetCryptoMap(net.ce.Get(k)));
    }
    net.mpls->EnablePcap(out, true);
}

GetVpnIntranetHelper::MemberTotals
GetVpnIntranetHelper::SumMembers(GetVpnHelper& getvpn, const GetVpnIntranet& net)
{
    MemberTotals t;
    for (uint32_t c = 0; c < net.ce.GetN(); c++)
    {
        Ptr<GdoiDaemon> d = getvpn.GetDaemon(net.ce.Get(c));
        if (!d->GetCore())
        {
            continue; // not started: another MPI rank simulates it
        }
        t.registered += d->GetRegisteredGroups();
        const vpn_gdoi_gm_stats* gm = vpn_gdoi_gm_get_stats(vpn_getvpn_node_gm(d->GetCore(), 0));
        t.reRegistrations += gm->registrations - 1;
        t.rekeys += gm->rekeys;
        const vpn_getvpn_stats* s = vpn_getvpn_node_get_stats(d->GetCore());
        t.encrypted += s->out_encrypted;
        t.decrypted += s->in_decrypted;
        for (int r = 0; r < VPN_GETVPN_DROP_COUNT; r++)
        {
            t.drops += s->drops[r];
        }
    }
    return t;
}

std::string
GetVpnIntranetHelper::MemberConfig(const GetVpnIntranetOptions& o, uint32_t k)
{
    std::ostringstream c;
    auto in = [k](const std::vector<uint32_t>& v) {
        return std::find(v.begin(), v.end(), k) != v.end();
    };
    bool first = !o.secondGroup || !in(o.secondOnly);
    bool second = o.secondGroup && (in(o.secondOnly) || in(o.secondMembers));
    c << "hostname " << (k == 0 ? std::string("HQ") : "BRANCH" + std::to_string(k)) << "\n"
      << kIsakmp << "crypto isakmp key getvpn-psk address 192.0.2.0 255.255.255.248\n";
    if (first)
    {
        c << "crypto gdoi group GETVPN\n"
          << " identity number 1234\n"
          << " server address ipv4 192.0.2.2\n"
          << (o.coop ? " server address ipv4 192.0.2.6\n" : "");
    }
    if (second)
    {
        c << "crypto gdoi group DEPT2\n"
          << " identity number 5678\n"
          << " server address ipv4 192.0.2.6\n";
    }
    if (!o.localDeny.empty())
    {
        c << "ip access-list extended LOCAL-DENY\n"
          << " " << o.localDeny << "\n";
    }
    // one crypto map entry per group (the router a member of each)
    if (first)
    {
        c << "crypto map GETVPN-MAP 10 gdoi\n"
          << " set group GETVPN\n";
    }
    if (second)
    {
        c << "crypto map GETVPN-MAP 20 gdoi\n"
          << " set group DEPT2\n";
    }
    if (!o.localDeny.empty())
    {
        c << "crypto map GETVPN-MAP " << (first ? 10 : 20) << " gdoi\n"
          << " match address LOCAL-DENY\n";
    }
    c      << "interface GigabitEthernet0/0\n"
      << " ip address " << Str(AccessCe(k)) << " 255.255.255.252\n"
      << " crypto map GETVPN-MAP\n"
      << "interface GigabitEthernet0/1\n"
      << " ip address 10." << k << ".0.1 255.255.255.0\n"
      << "ip route 0.0.0.0 0.0.0.0 " << Str(AccessPe(k)) << "\n";
    return c.str();
}

void
GetVpnIntranetHelper::InstallKeyServers(GetVpnHelper& getvpn,
                                        const GetVpnIntranetOptions& o,
                                        GetVpnIntranet& net) const
{
    net.ksConfig = KeyServerConfig(o, 0);
    std::string err = getvpn.Install(net.ks, net.ksConfig, {{"GigabitEthernet0/0", net.ksWan}});
    NS_ABORT_MSG_IF(!err.empty(), "GetVpnIntranet key server: " << err);
    if (net.ks2)
    {
        net.ks2Config = KeyServerConfig(o, 1);
        err = getvpn.Install(net.ks2, net.ks2Config, {{"GigabitEthernet0/0", net.ks2Wan}});
        NS_ABORT_MSG_IF(!err.empty(), "GetVpnIntranet key server 2: " << err);
    }
}

void
GetVpnIntranetHelper::BuildMpls(GetVpnHelper& getvpn,
                                const GetVpnIntranetOptions& o,
                                GetVpnIntranet& net,
                                PointToPointHelper& access,
                                PointToPointHelper& lan) const
{
    MplsProviderHelper& mp = *net.mpls;
    uint32_t n = o.branches + 1;
    DataRate coreRate(o.coreRate), accessRate(o.accessRate);
    Ptr<Node> p1 = mp.GetPs().Get(0);
    Ptr<Node> p2 = mp.GetPs().Get(1);
    mp.AddCoreLink(p1, p2, coreRate, o.coreDelay);
    for (uint32_t k = 0; k < n; k++)
    {
        mp.AddCoreLink(net.pe.Get(k), k % 2 ? p2 : p1, coreRate, o.coreDelay);
    }
    // the key server's site, then HQ's and the branches'
    uint32_t ksSite = mp.AttachSite(net.pe.Get(0), "INTRANET", net.ks, Ipv4Address("192.0.2.0"),
                                    {}, accessRate, o.accessDelay);
    net.ksWan = mp.GetCeDevice(ksSite);
    if (net.ks2)
    {
        uint32_t s2 = mp.AttachSite(net.pe.Get(0), "INTRANET", net.ks2, Ipv4Address("192.0.2.4"),
                                    {}, accessRate, o.accessDelay);
        net.ks2Wan = mp.GetCeDevice(s2);
    }
    std::vector<uint32_t> sites;
    for (uint32_t k = 0; k < n; k++)
    {
        uint32_t s = mp.AttachSite(net.pe.Get(k),
                                   "INTRANET",
                                   net.ce.Get(k),
                                   A(198, 51, 100, 4 * k),
                                   {MplsProviderHelper::Prefix(A(10, k, 0, 0), 24)},
                                   accessRate,
                                   o.accessDelay);
        sites.push_back(s);
        net.peAccess.Add(mp.GetPeDevice(s));
        net.ceWan.Add(mp.GetCeDevice(s));
    }
    // multicast rekeys: from the key server to every member's site
    mp.AddMulticastRoute("INTRANET",
                         MplsProviderHelper::Prefix(o.rekeyGroup, 32),
                         sites,
                         MplsProviderHelper::Prefix(net.ksAddress, 32));
    // encrypted multicast data: the ESP keeps the group address (address
    // preservation), so the provider's tree for the clear group carries it
    if (o.dataGroup != Ipv4Address::GetAny())
    {
        std::vector<uint32_t> rx;
        for (uint32_t k = 0; k < n; k++)
        {
            if (k != o.dataSource)
            {
                rx.push_back(sites[k]);
            }
        }
        mp.AddMulticastRoute("INTRANET",
                             MplsProviderHelper::Prefix(o.dataGroup, 32),
                             rx,
                             MplsProviderHelper::Prefix(GetVpnIntranet::HostAddress(o.dataSource), 32));
    }
    mp.Install();

    Ipv4StaticRoutingHelper srh;
    InstallKeyServers(getvpn, o, net);
    std::string err;
    for (uint32_t k = 0; k < n; k++)
    {
        Ptr<Node> host = net.hosts.Get(k);
        NetDeviceContainer l = lan.Install(net.ce.Get(k), host);
        AddIf(l.Get(1), A(10, k, 0, 2), Ipv4Mask("255.255.255.0"));
        srh.GetStaticRouting(host->GetObject<Ipv4>())
            ->SetDefaultRoute(A(10, k, 0, 1), host->GetObject<Ipv4>()->GetInterfaceForDevice(l.Get(1)));
        net.ceConfigs.push_back(MemberConfig(o, k));
        err = getvpn.Install(net.ce.Get(k),
                             net.ceConfigs.back(),
                             {{"GigabitEthernet0/0", net.ceWan.Get(k)}, {"GigabitEthernet0/1", l.Get(0)}});
        NS_ABORT_MSG_IF(!err.empty(), "GetVpnIntranet CE " << k << ": " << err);
        if (o.dataGroup != Ipv4Address::GetAny())
        {
            // the CE forwards the group: LAN -> WAN at the source, WAN -> LAN elsewhere
            Ptr<Ipv4> ip = net.ce.Get(k)->GetObject<Ipv4>();
            uint32_t lanIf = ip->GetInterfaceForDevice(l.Get(0));
            uint32_t wanIf = ip->GetInterfaceForDevice(getvpn.GetCryptoMap(net.ce.Get(k)));
            Ipv4Address src = GetVpnIntranet::HostAddress(o.dataSource);
            if (k == o.dataSource)
            {
                srh.GetStaticRouting(ip)->AddMulticastRoute(src, o.dataGroup, lanIf, {wanIf});
            }
            else
            {
                srh.GetStaticRouting(ip)->AddMulticastRoute(src, o.dataGroup, wanIf, {lanIf});
            }
        }
    }
    (void)access;
}

GetVpnIntranet
GetVpnIntranetHelper::Build(GetVpnHelper& getvpn, const GetVpnIntranetOptions& o) const
{
    NS_ABORT_MSG_IF(o.branches < 1 || o.branches > 60, "GetVpnIntranet: 1 to 60 branches");
    GetVpnIntranet net;
    uint32_t n = o.branches + 1;
    net.ks = CreateObject<Node>();
    NS_ABORT_MSG_IF(o.coop && o.secondGroup, "GetVpnIntranet: KS2 is either cooperative or DEPT2's");
    if (o.coop || o.secondGroup)
    {
        net.ks2 = CreateObject<Node>();
        InternetStackHelper().Install(net.ks2);
    }
    if (o.mpls)
    {
        net.mpls = std::make_shared<MplsProviderHelper>();
        // provider addresses apart from the customer's 10/8 (they live in
        // the global table, the customer in VRF INTRANET, but traces read
        // better without look-alikes)
        net.mpls->SetLoopbackBase(Ipv4Address("172.31.255.0"));
        net.mpls->SetCoreNetworkBase(Ipv4Address("172.30.0.0"));
        for (uint32_t k = 0; k < n; k++)
        {
            net.pe.Add(net.mpls->AddPe("PE" + std::to_string(k)));
        }
        net.p = net.mpls->AddP("P1");
        net.mpls->AddP("P2");
    }
    else
    {
        net.p = CreateObject<Node>();
        net.pe.Create(n);
    }
    // Distributed runs (VpnMpi, ns-3's MPI simulator) are partitioned at
    // the provider edge: the provider and the key servers on rank 0, site k
    // (its CE and LAN host) on rank k mod ranks, so the only links between
    // ranks are PE-CE access links (point-to-point, accessDelay > 0 is the
    // lookahead). One rank: every node on it.
    for (uint32_t k = 0; k < n; k++)
    {
        net.ce.Add(VpnMpi::CreateNode(k));
    }
    for (uint32_t k = 0; k < n; k++)
    {
        net.hosts.Add(VpnMpi::CreateNode(k));
    }
    net.ksAddress = Ipv4Address("192.0.2.2");
    getvpn.SetRegistrationStart(o.registrationStart);
    InternetStackHelper stack;
    stack.Install(net.ks);
    stack.Install(net.ce);
    stack.Install(net.hosts);
    if (!o.mpls)
    {
        stack.Install(net.p);
        stack.Install(net.pe);
    }

    PointToPointHelper access;
    access.SetDeviceAttribute("DataRate", StringValue(o.accessRate));
    access.SetChannelAttribute("Delay", TimeValue(o.accessDelay));
    PointToPointHelper core;
    core.SetDeviceAttribute("DataRate", StringValue(o.coreRate));
    core.SetChannelAttribute("Delay", TimeValue(o.coreDelay));
    PointToPointHelper lan;
    lan.SetDeviceAttribute("DataRate", StringValue("1Gbps"));
    lan.SetChannelAttribute("Delay", StringValue("100us"));

    if (o.mpls)
    {
        BuildMpls(getvpn, o, net, access, lan);
        return net;
    }
    Ipv4Mask m30("255.255.255.252");
    Ipv4StaticRoutingHelper srh;
    Ptr<Ipv4StaticRouting> pRoutes = srh.GetStaticRouting(net.p->GetObject<Ipv4>());
    std::vector<uint32_t> pToPe(n), peToP(n), peToCe(n);
    uint32_t pe0ToKs = 0;

    // the key server on PE 0
    NetDeviceContainer ksLink = access.Install(net.pe.Get(0), net.ks);
    net.ksWan = ksLink.Get(1);
    pe0ToKs = AddIf(ksLink.Get(0), Ipv4Address("192.0.2.1"), m30);
    if (net.ks2)
    {
        NetDeviceContainer ks2Link = access.Install(net.pe.Get(0), net.ks2);
        net.ks2Wan = ks2Link.Get(1);
        AddIf(ks2Link.Get(0), Ipv4Address("192.0.2.5"), m30);
    }
    InstallKeyServers(getvpn, o, net);
    std::string err;

    for (uint32_t k = 0; k < n; k++)
    {
        Ptr<Node> pe = net.pe.Get(k);
        Ptr<Node> ce = net.ce.Get(k);
        Ptr<Node> host = net.hosts.Get(k);
        Ptr<Ipv4StaticRouting> peRoutes = srh.GetStaticRouting(pe->GetObject<Ipv4>());
        // core: P .1, PE .2 on 172.16.k.0/30
        NetDeviceContainer c = core.Install(net.p, pe);
        net.core.Add(c);
        pToPe[k] = AddIf(c.Get(0), A(172, 16, k, 1), m30);
        peToP[k] = AddIf(c.Get(1), A(172, 16, k, 2), m30);
        // access: the CE's side is configured by GetVpnHelper
        NetDeviceContainer a = access.Install(pe, ce);
        net.peAccess.Add(a.Get(0));
        net.ceWan.Add(a.Get(1));
        peToCe[k] = AddIf(a.Get(0), AccessPe(k), m30);
        NetDeviceContainer l = lan.Install(ce, host);
        AddIf(l.Get(1), A(10, k, 0, 2), Ipv4Mask("255.255.255.0"));
        srh.GetStaticRouting(host->GetObject<Ipv4>())
            ->SetDefaultRoute(A(10, k, 0, 1), host->GetObject<Ipv4>()->GetInterfaceForDevice(l.Get(1)));
        net.ceConfigs.push_back(MemberConfig(o, k));
        err = getvpn.Install(ce,
                             net.ceConfigs.back(),
                             {{"GigabitEthernet0/0", a.Get(1)}, {"GigabitEthernet0/1", l.Get(0)}});
        NS_ABORT_MSG_IF(!err.empty(), "GetVpnIntranet CE " << k << ": " << err);
        // provider routes, as a converged IGP would have them
        peRoutes->AddNetworkRouteTo(A(10, k, 0, 0), Ipv4Mask("255.255.255.0"), AccessCe(k), peToCe[k]);
        peRoutes->SetDefaultRoute(A(172, 16, k, 1), peToP[k]);
        pRoutes->AddNetworkRouteTo(A(10, k, 0, 0), Ipv4Mask("255.255.255.0"), A(172, 16, k, 2), pToPe[k]);
        pRoutes->AddNetworkRouteTo(A(198, 51, 100, 4 * k), m30, A(172, 16, k, 2), pToPe[k]);
    }
    pRoutes->AddNetworkRouteTo(Ipv4Address("192.0.2.0"), Ipv4Mask("255.255.255.248"),
                               A(172, 16, 0, 2), pToPe[0]);

    // multicast rekeys: KS -> PE0 -> P -> every PE -> its CE (static
    // multicast routes, as the issue allows instead of an MPLS multicast VPN)
    Ptr<Ipv4StaticRouting> pe0 = srh.GetStaticRouting(net.pe.Get(0)->GetObject<Ipv4>());
    pe0->AddMulticastRoute(net.ksAddress, o.rekeyGroup, pe0ToKs, {peToP[0], peToCe[0]});
    std::vector<uint32_t> pOut;
    for (uint32_t k = 1; k < n; k++)
    {
        pOut.push_back(pToPe[k]);
        srh.GetStaticRouting(net.pe.Get(k)->GetObject<Ipv4>())
            ->AddMulticastRoute(net.ksAddress, o.rekeyGroup, peToP[k], {peToCe[k]});
    }
    if (!pOut.empty())
    {
        pRoutes->AddMulticastRoute(net.ksAddress, o.rekeyGroup, pToPe[0], pOut);
    }
    return net;
}

namespace
{
const uint16_t kVoicePort = 16384; // RTP's usual first port
const uint32_t kVoiceBytes = 172;  // RTP 12 + G.711 20 ms
} // namespace

Ptr<GetVpnVoice>
GetVpnVoice::InstallAllPairs(const NodeContainer& hosts, Time start, Time stop, Time interval)
{
    Ptr<GetVpnVoice> v = Create<GetVpnVoice>();
    v->m_stop = stop;
    v->m_interval = interval;
    std::vector<Ipv4Address> addr;
    for (uint32_t i = 0; i < hosts.GetN(); i++)
    {
        Ptr<Node> h = hosts.Get(i);
        addr.push_back(h->GetObject<Ipv4>()->GetAddress(1, 0).GetLocal());
        Ptr<Socket> rx = Socket::CreateSocket(h, UdpSocketFactory::GetTypeId());
        NS_ABORT_MSG_IF(rx->Bind(InetSocketAddress(Ipv4Address::GetAny(), kVoicePort)) != 0,
                        "voice: cannot bind");
        rx->SetRecvCallback(MakeCallback(&GetVpnVoice::Receive, PeekPointer(v)));
        v->m_rx.push_back(rx);
    }
    for (uint32_t i = 0; i < hosts.GetN(); i++)
    {
        for (uint32_t j = 0; j < hosts.GetN(); j++)
        {
            if (i == j)
            {
                continue;
            }
            Ptr<Socket> tx = Socket::CreateSocket(hosts.Get(i), UdpSocketFactory::GetTypeId());
            tx->Bind();
            // DSCP EF (ns-3 3.37 takes the TOS from the connected address)
            tx->Connect(vpncompat::WithTos(tx, InetSocketAddress(addr[j], kVoicePort), 0xb8));
            Flow f;
            f.from = i;
            f.to = j;
            v->m_byAddr[{addr[i].Get(), addr[j].Get()}] = v->m_flows.size();
            v->m_flows.push_back(f);
            v->m_tx.push_back(tx);
            if (!VpnMpi::IsLocal(hosts.Get(i)))
            {
                // another MPI rank sends this flow (and counts it sent)
                v->m_next.emplace_back();
                continue;
            }
            // flows start 1 ms apart so that they do not all queue at once
            v->m_next.push_back(Simulator::Schedule(start + MilliSeconds(v->m_flows.size() % 20),
                                                    &GetVpnVoice::SendOne,
                                                    PeekPointer(v),
                                                    v->m_flows.size() - 1));
        }
    }
    return v;
}

void
GetVpnVoice::SendOne(size_t flow)
{
    if (Simulator::Now() >= m_stop)
    {
        return;
    }
    Flow& f = m_flows[flow];
    SeqTsHeader h;
    h.SetSeq(static_cast<uint32_t>(f.sent));
    Ptr<Packet> p = Create<Packet>(kVoiceBytes - h.GetSerializedSize());
    p->AddHeader(h);
    if (m_tx[flow]->Send(p) >= 0)
    {
        f.sent++;
    }
    m_next[flow] = Simulator::Schedule(m_interval, &GetVpnVoice::SendOne, this, flow);
}

void
GetVpnVoice::Stop()
{
    for (EventId& e : m_next)
    {
        e.Cancel();
    }
}

GetVpnVoice::~GetVpnVoice()
{
    // the events hold a raw pointer to this
    Stop();
}

void
GetVpnVoice::Receive(Ptr<Socket> socket)
{
    Ptr<Packet> p;
    Address from;
    while ((p = socket->RecvFrom(from)))
    {
        Ipv4Address src = InetSocketAddress::ConvertFrom(from).GetIpv4();
        Address self;
        socket->GetSockName(self);
        Ipv4Address dst = socket->GetNode()->GetObject<Ipv4>()->GetAddress(1, 0).GetLocal();
        auto it = m_byAddr.find({src.Get(), dst.Get()});
        SeqTsHeader h;
        if (it == m_byAddr.end() || p->GetSize() < h.GetSerializedSize())
        {
            continue;
        }
        p->RemoveHeader(h);
        Flow& f = m_flows[it->second];
        double ms = (Simulator::Now() - h.GetTs()).GetSeconds() * 1000.0;
        f.received++;
        f.delaySumMs += ms;
        f.delayMaxMs = std::max(f.delayMaxMs, ms);
    }
}

const std::vector<GetVpnVoice::Flow>&
GetVpnVoice::GetFlows() const
{
    return m_flows;
}

uint64_t
GetVpnVoice::GetSent() const
{
    uint64_t s = 0;
    for (const Flow& f : m_flows)
    {
        s += f.sent;
    }
    return s;
}

uint64_t
GetVpnVoice::GetReceived() const
{
    uint64_t s = 0;
    for (const Flow& f : m_flows)
    {
        s += f.received;
    }
    return s;
}

} // namespace ns3
