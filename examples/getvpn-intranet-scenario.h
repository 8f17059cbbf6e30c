/*
 * A GET VPN intranet over a provider network, as the seed article draws
 * it: an HQ site (branch 0) and N branches, each a customer edge router
 * (CE, a group member) with one LAN host, attached to its own provider
 * edge router (PE); the key server sits at HQ on PE 0's second access
 * link. The provider is either
 *   - an MPLS L3VPN (options.mpls, MplsProviderHelper): two P routers,
 *     N+1 PEs (even ones on P1, odd ones on P2), the customer in VRF
 *     INTRANET, multicast rekeys by a static VRF multicast route from the
 *     key server to every CE (ingress replication at PE 0); or
 *   - plain IP routing (PEs around one P router, static routes computed
 *     from the topology, static multicast routes for rekeys).
 *
 *   KS ==192.0.2.0/30== PE0 ==198.51.100.0/30== CE0 --10.0.0.0/24-- host0
 *                        |
 *                        P ==172.16.k.0/30== PEk ==198.51.100.4k/30== CEk --10.k.0.0/24-- hostk
 *
 * Every router is configured from IOS text (GetVpnHelper): the texts are
 * kept in the result so examples can write them out.
 */
#ifndef GETVPN_INTRANET_SCENARIO_H
#define GETVPN_INTRANET_SCENARIO_H

#include "ns3/event-id.h"
#include "ns3/getvpn-helper.h"
#include "ns3/ipv4-address.h"
#include "ns3/mpls-provider-helper.h"
#include "ns3/net-device-container.h"
#include "ns3/node-container.h"
#include "ns3/nstime.h"

#include "ns3/simple-ref-count.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ns3
{

class PointToPointHelper;

/**
 * \ingroup vpn
 * \brief What varies between GET VPN intranets; every field has a default.
 */
struct GetVpnIntranetOptions
{
    /** Branches besides HQ (1..60). */
    uint32_t branches{3};
    std::string accessRate{"100Mbps"};
    Time accessDelay{MilliSeconds(2)};
    std::string coreRate{"1Gbps"};
    Time coreDelay{MilliSeconds(10)};
    /** TEK lifetime (`set security-association lifetime seconds`). */
    uint32_t tekLifetime{3600};
    /** KEK lifetime (`rekey lifetime seconds`, 300..86400). */
    uint32_t kekLifetime{86400};
    /** `replay time window-size` (seconds). */
    uint32_t replayWindow{5};
    /** The transform set (IOS words). */
    std::string transform{"esp-aes 256 esp-sha256-hmac"};
    /** Multicast rekeys (`rekey address ipv4`) to rekeyGroup, else `rekey transport unicast`. */
    bool multicastRekey{false};
    Ipv4Address rekeyGroup{"239.192.1.1"};
    /** Branches (0 = HQ) the key server's authorization ACL leaves out. */
    std::vector<uint32_t> unauthorized;
    /** When members start registering. */
    Time registrationStart{Seconds(1)};
    /** An MPLS provider (two Ps, N+1 PEs) instead of plain IP routing. */
    bool mpls{false};
    /**
     * A second, cooperative key server KS2 (192.0.2.6, priority 50; KS1 has
     * 100) on its own link to PE 0; members list both (`server address
     * ipv4`). Multicast rekeys are routed from KS1 only.
     */
    bool coop{false};
    /** The key server's TEK policy (the permit line of its `match address` ACL). */
    std::string policy{"permit ip 10.0.0.0 0.255.255.255 10.0.0.0 0.255.255.255"};
    /**
     * Multicast data (MPLS provider only): hostk of branch dataSource sends to
     * dataGroup, every other site receives; the VRF and the CEs get static
     * multicast routes. The policy must cover it, e.g.
     * `permit ip 10.0.0.0 0.255.255.255 any`.
     */
    Ipv4Address dataGroup{Ipv4Address::GetAny()};
    uint32_t dataSource{1};
    /**
     * Departments (the seed's isolated intranets; not with coop): KS2
     * (192.0.2.6) is the key server of a second group, DEPT2 (identity
     * 5678), whose TEK policy is secondPolicy (ACL lines, several separated
     * by "\n "). Branches in secondMembers are members of both groups (a
     * second crypto map entry, 20); branches in secondOnly of DEPT2 only.
     */
    bool secondGroup{false};
    std::string secondPolicy{"permit ip 10.0.0.0 0.255.255.255 10.0.0.0 0.255.255.255"};
    std::vector<uint32_t> secondMembers;
    std::vector<uint32_t> secondOnly;
    /**
     * Member-local deny lines (IOS `match address` on every CE's first
     * crypto map entry; deny entries only, several separated by "\n "):
     * that traffic bypasses the group and goes in clear. Empty: none.
     */
    std::string localDeny;
};

/**
 * \ingroup vpn
 * \brief The nodes and devices of a built intranet.
 */
struct GetVpnIntranet
{
    Ptr<Node> ks;
    Ptr<Node> p;           //!< the (first) P router
    std::shared_ptr<MplsProviderHelper> mpls; //!< the MPLS provider, when options.mpls
    NodeContainer pe;      //!< pe.Get(k) serves branch k (0 = HQ, with the KS)
    NodeContainer ce;      //!< ce.Get(k): branch k's router (a group member)
    NodeContainer hosts;   //!< hosts.Get(k): branch k's LAN host, 10.k.0.2
    NetDeviceContainer ceWan;    //!< CE k's WAN device under its crypto map (the provider's view)
    NetDeviceContainer peAccess; //!< PE k's device towards CE k
    NetDeviceContainer core;     //!< every core link device (plain IP provider)
    Ptr<NetDevice> ksWan;        //!< the key server's WAN device
    Ptr<Node> ks2;               //!< the cooperative key server (options.coop)
    Ptr<NetDevice> ks2Wan;
    std::string ks2Config;
    std::string ksConfig;
    std::vector<std::string> ceConfigs;
    Ipv4Address ksAddress;

    /** Branch k's host address (10.k.0.2). */
    static Ipv4Address HostAddress(uint32_t k);
};

class VpnTraceHelper;

/**
 * \ingroup vpn
 * \brief Builds GetVpnIntranet topologies.
 */
class GetVpnIntranetHelper
{
  public:
    /**
     * Creates the nodes, links and routes and configures the key server
     * and the CEs through \p getvpn. Aborts on a configuration error (the
     * texts are generated, so that is a bug).
     */
    GetVpnIntranet Build(GetVpnHelper& getvpn, const GetVpnIntranetOptions& options = {}) const;

    /** Key server \p index's IOS configuration (0: KS1, 1: KS2 with options.coop). */
    static std::string KeyServerConfig(const GetVpnIntranetOptions& options, uint32_t index = 0);
    /** CE k's IOS configuration. */
    static std::string MemberConfig(const GetVpnIntranetOptions& options, uint32_t k);

    /** "HQ" for site 0, "BRANCHk" for branch k: the names of files and captures. */
    static std::string SiteName(uint32_t k);

    /**
     * What the examples record of an MPLS intranet: the key export, GDOI
     * captures of the key servers (and of the members when \p memberGdoiPcaps),
     * each router's configuration under \p out, the clear side of each
     * member's crypto map and the provider's links.
     */
    static void EnableTraces(GetVpnHelper& getvpn,
                             const GetVpnIntranet& net,
                             VpnTraceHelper& trace,
                             const std::string& out,
                             bool memberGdoiPcaps);

    /** Counters summed over all members (every CE), for the reports. */
    struct MemberTotals
    {
        uint64_t registered = 0; //!< groups registered
        uint64_t reRegistrations = 0; //!< registrations after each member's first
        uint64_t rekeys = 0;     //!< rekeys received
        uint64_t encrypted = 0;  //!< packets encrypted
        uint64_t decrypted = 0;  //!< packets decrypted
        uint64_t drops = 0;      //!< data-plane drops of any reason
    };

    /** Sums the members' counters (group 0) once the simulation has run. */
    static MemberTotals SumMembers(GetVpnHelper& getvpn, const GetVpnIntranet& net);

  private:
    void InstallKeyServers(GetVpnHelper& getvpn,
                           const GetVpnIntranetOptions& options,
                           GetVpnIntranet& net) const;
    void BuildMpls(GetVpnHelper& getvpn,
                   const GetVpnIntranetOptions& options,
                   GetVpnIntranet& net,
                   PointToPointHelper& access,
                   PointToPointHelper& lan) const;
};

class Socket;
class Packet;

/**
 * \ingroup vpn
 * \brief G.711-like voice between hosts: 172 bytes (RTP header and 160
 * bytes of samples) every 20 ms per direction, DSCP EF, each packet
 * carrying its sequence number and send time (SeqTsHeader) so that the
 * receiver measures loss and one-way delay per flow.
 */
class GetVpnVoice : public SimpleRefCount<GetVpnVoice>
{
  public:
    struct Flow
    {
        uint32_t from, to; //!< indexes into the host container
        uint64_t sent{0}, received{0};
        double delaySumMs{0}, delayMaxMs{0};
        double MeanDelayMs() const { return received ? delaySumMs / received : 0; }
    };

    /** A flow each way between every pair of \p hosts (first IPv4 address of interface 1). */
    static Ptr<GetVpnVoice> InstallAllPairs(const NodeContainer& hosts,
                                            Time start,
                                            Time stop,
                                            Time interval = MilliSeconds(20));

    const std::vector<Flow>& GetFlows() const;
    uint64_t GetSent() const;
    uint64_t GetReceived() const;

    /** Cancels every flow's next packet (also done when the last reference goes). */
    void Stop();
    ~GetVpnVoice();

  private:
    void SendOne(size_t flow);
    void Receive(Ptr<Socket> socket);

    std::vector<Flow> m_flows;
    std::vector<Ptr<Socket>> m_tx;
    std::vector<Ptr<Socket>> m_rx;
    std::vector<EventId> m_next; //!< per flow: its next SendOne
    std::map<std::pair<uint32_t, uint32_t>, size_t> m_byAddr; //!< (src, dst) address -> flow
    Time m_stop;
    Time m_interval;
};

} // namespace ns3

#endif
