/*
 * Builds an MPLS L3VPN provider (RFC 4364) out of ns-3 nodes: PE and P
 * routers (MplsRouter, forwarding in the C core), Ethernet core links with
 * a rate and delay, and customer sites, each a CE node attached to a PE by
 * a point-to-point link in a named VRF.
 *
 * What is real and what is computed:
 *   - the data plane is real: labelled frames (EtherType 0x8847, transport
 *     label over VPN label) on the core links, label swap/pop in the Ps,
 *     PHP or explicit-null, RFC 3443 TTL handling, DSCP copied into EXP at
 *     the ingress PE, plain IPv4 on PE-CE links;
 *   - the control plane is computed, not run: Install() gives every router
 *     the converged state LDP and MP-BGP would reach (shortest-path LSPs by
 *     hop count to every loopback, per-prefix VPN labels, VRF routes
 *     imported by VRF name, which stands for the route targets);
 *   - multicast is static: routes per VRF that the ingress PE replicates to
 *     the egress PEs over the unicast LSPs (no mLDP, no MVPN).
 *
 * Core links are full-duplex Ethernet: two SimpleNetDevices (a queue and
 * a serializer at the link rate per direction) on a SimpleChannel with the
 * propagation delay, carrying EtherType 0x8847 between MAC addresses. Not
 * CsmaNetDevice: ns-3's CSMA channel is half-duplex and stays busy for the
 * propagation delay of every frame, so a 5 ms core link carries one frame
 * per 5 ms in both directions together and adds tens of milliseconds of
 * queueing at light load, which would swamp any delay budget measured
 * across the provider. Not PointToPointNetDevice: in ns-3 3.37 it maps
 * only IPv4 and IPv6 to PPP. The pcaps of core links are written by a tap
 * (Ethernet framing, both directions, at arrival time).
 *
 * Use: AddPe/AddP, AddCoreLink, AttachSite, optionally AddMulticastRoute,
 * then Install() once, before the simulation runs.
 */
#ifndef MPLS_PROVIDER_HELPER_H
#define MPLS_PROVIDER_HELPER_H

#include "ns3/data-rate.h"
#include "ns3/ipv4-address.h"
#include "ns3/mpls-router.h"
#include "ns3/net-device.h"
#include "ns3/node-container.h"
#include "ns3/nstime.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ns3
{

/**
 * \ingroup vpn
 * \brief Builds PEs, Ps, core links and VRF sites, and fills their tables.
 */
class MplsProviderHelper
{
  public:
    /** An IPv4 prefix, e.g. Prefix("10.1.0.0/16"). */
    struct Prefix
    {
        Ipv4Address network;
        uint8_t length;
        Prefix(const char* text);
        Prefix(Ipv4Address network, uint8_t length);
    };

    MplsProviderHelper();

    /** Penultimate-hop popping (default on); off: the egress asks for explicit-null. */
    void SetPhp(bool php);
    /** RFC 3443 TTL model (default uniform). */
    void SetTtlMode(MplsRouter::TtlMode mode);
    /** Router loopbacks are base + 1, + 2, ... in creation order (default 10.255.0.0). */
    void SetLoopbackBase(Ipv4Address base);
    /** Core links get consecutive /30s from here (default 10.0.0.0). */
    void SetCoreNetworkBase(Ipv4Address base);
    /** Core interface MTU (default 1600: room for labels on a 1500-byte packet). */
    void SetCoreMtu(uint16_t mtu);

    /** A new PE router node. */
    Ptr<Node> AddPe(const std::string& name);
    /** A new P router node. */
    Ptr<Node> AddP(const std::string& name);
    /** An Ethernet core link between two provider routers. */
    void AddCoreLink(Ptr<Node> a, Ptr<Node> b, DataRate rate, Time delay);

    /**
     * Attaches CE node \p ce to \p pe in VRF \p vrf over a new point-to-point
     * link on the /30 \p linkNetwork (PE .1, CE .2). The CE gets an IPv4
     * stack if it has none, the interface and a default route to the PE.
     * The VRF learns \p prefixes and the link's /30 at this site.
     * Returns the site index.
     */
    uint32_t AttachSite(Ptr<Node> pe,
                        const std::string& vrf,
                        Ptr<Node> ce,
                        Ipv4Address linkNetwork,
                        const std::vector<Prefix>& prefixes,
                        DataRate rate,
                        Time delay);

    /**
     * A static multicast route in \p vrf: packets to \p group from \p source
     * (0.0.0.0/0: any) reach every site in \p sites (indexes from
     * AttachSite) once, by ingress replication at the PE they enter.
     */
    void AddMulticastRoute(const std::string& vrf,
                           Prefix group,
                           const std::vector<uint32_t>& sites,
                           Prefix source = Prefix(Ipv4Address::GetAny(), 0));

    /** Computes LSPs and VPN routes and installs them. Call once, after the above. */
    void Install();

    /**
     * Pcaps into \p dir: core-A-B.pcap per core link (Ethernet, both
     * directions, each frame at its arrival), and with \p ceLinks
     * ce-PE-siteN.pcap per PE-CE link (PPP, PE side).
     */
    void EnablePcap(const std::string& dir, bool ceLinks = true);

    /** Writes show-mpls-NAME.txt (`show mpls forwarding-table`) per router into \p dir. */
    void WriteShow(const std::string& dir) const;

    NodeContainer GetPes() const;
    NodeContainer GetPs() const;
    Ptr<MplsRouter> GetRouter(Ptr<Node> node) const;
    Ptr<MplsRouter> GetRouter(const std::string& name) const;
    /** The CE's address on its PE link (the site's .2). */
    Ipv4Address GetCeAddress(uint32_t site) const;
    /** The PE's address on that link (the CE's default gateway). */
    Ipv4Address GetPeAddress(uint32_t site) const;
    Ptr<NetDevice> GetCeDevice(uint32_t site) const;
    Ptr<NetDevice> GetPeDevice(uint32_t site) const;
    /** Core link devices, in AddCoreLink order: (A side, B side). */
    std::vector<std::pair<Ptr<NetDevice>, Ptr<NetDevice>>> GetCoreDevices() const;

  private:
    struct RouterInfo
    {
        Ptr<Node> node;
        Ptr<MplsRouter> router;
        std::string name;
        bool pe;
        uint32_t coreIfs;
        uint32_t ceIfs;
    };

    struct LinkInfo
    {
        uint32_t a;
        uint32_t b;
        Ptr<NetDevice> devA;
        Ptr<NetDevice> devB;
        Ipv4Address addrA;
        Ipv4Address addrB;
    };

    struct SiteInfo
    {
        uint32_t pe;
        std::string vrf;
        Ptr<Node> ce;
        Ptr<NetDevice> peDev;
        Ptr<NetDevice> ceDev;
        Ipv4Address peAddr;
        Ipv4Address ceAddr;
        std::vector<Prefix> prefixes;
    };

    struct MrouteInfo
    {
        std::string vrf;
        Prefix group;
        Prefix source;
        std::vector<uint32_t> sites;
    };

    Ptr<Node> AddRouter(const std::string& name, bool pe);
    uint32_t IndexOf(Ptr<Node> node) const;

    bool m_php;
    MplsRouter::TtlMode m_ttlMode;
    Ipv4Address m_loopbackBase;
    Ipv4Address m_coreBase;
    uint16_t m_coreMtu;
    bool m_installed;
    std::vector<RouterInfo> m_routers;
    std::vector<LinkInfo> m_links;
    std::vector<SiteInfo> m_sites;
    std::vector<MrouteInfo> m_mroutes;
};

} // namespace ns3

#endif
