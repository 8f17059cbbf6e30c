/*
 * The IKEv2 daemon of a node (FlexVPN): an ns-3 Application that gives the
 * node's router core (VpnIpsecStack) an IKEv2 engine for an IOS-style
 * configuration, registers the tunnels it protects, and moves the engine's
 * datagrams on UDP ports 500 and 4500. What engine events do to the data
 * plane (SA installs, rekey handover, removals, lifetimes, DPD activity,
 * on-demand initiation) is the router core's; the daemon traces them.
 */
#ifndef IKEV2_DAEMON_H
#define IKEV2_DAEMON_H

#include "vpn-packet-util.h"
#include "vpn-tunnel-net-device.h"

#include "ns3/application.h"
#include "ns3/event-id.h"
#include "ns3/ipv4-address.h"
#include "ns3/ipv6-address.h"
#include "ns3/traced-callback.h"

#include <map>
#include <string>
#include <vector>

struct vpn_conf;
struct vpn_ikev2_dgram;
struct vpn_ikev2_event;
struct vpn_router;
struct vpn_router_event;
struct vpn_prefix;

namespace ns3
{

class Socket;
class Packet;

/**
 * \ingroup vpn
 * \brief IKEv2 (RFC 7296) for FlexVPN tunnels, driven in simulated time.
 */
class Ikev2Daemon : public Application
{
  public:
    static TypeId GetTypeId();
    Ikev2Daemon();
    ~Ikev2Daemon() override;

    /**
     * Sets the router configuration (IOS syntax: proposals, policies,
     * keyrings, profiles, transform sets, ipsec profiles). Returns an empty
     * string on success, else "line N: reason" (the daemon keeps its
     * previous configuration).
     */
    std::string SetConfig(const std::string& iosText);

    /**
     * Protects a tunnel interface with an ipsec profile of the configuration
     * (IOS `tunnel protection ipsec profile NAME`). With \p initiate the
     * daemon brings IKE up towards the tunnel destination: when it starts
     * (attribute InitiateAtStart) and whenever traffic meets the tunnel with
     * no SA and no negotiation running (first traffic, or after the SA was
     * lost), at most once per OnDemandHoldDown. Otherwise it waits for the
     * peer.
     */
    void Protect(Ptr<VpnTunnelNetDevice> tunnel, const std::string& ipsecProfile, bool initiate);

    /** IOS-like views of the engine state. */
    std::string ShowCryptoIkev2Sa(bool detail) const;
    std::string ShowCryptoSession(bool detail) const;
    std::string ShowCryptoIpsecSa(bool detail) const;
    std::string ShowCryptoIkev2Proposal() const;
    std::string ShowCryptoIkev2Profile() const;
    /** show dmvpn [detail] / show ip nhrp [traffic] of the node's first mGRE interface ("" if none). */
    std::string ShowDmvpn(bool detail) const;
    std::string ShowIpNhrp() const;
    std::string ShowIpNhrpTraffic() const;
    /** FlexVPN virtual templates: `show derived-config interface
     *  Virtual-Access<va>` ("" if no such clone), `show interfaces
     *  virtual-access` (every clone), and how many clones there are. */
    std::string ShowDerivedConfig(uint32_t va) const;
    std::string ShowVirtualAccess() const;
    uint32_t GetVirtualAccessCount() const;

    /** Remote access: show ip local pool; show crypto session username USER. */
    std::string ShowIpLocalPool() const;
    std::string ShowCryptoSessionUser(const std::string& user, bool detail) const;
    /**
     * Remote access, client side: the address the hub assigned to this node
     * (RFC 7296 3.15, INTERNAL_IP4_ADDRESS), put on the tunnel interface
     * while the IKE SA lasts, so that traffic routed into the tunnel leaves
     * from it; 0.0.0.0 when none.
     */
    Ipv4Address GetAssignedAddress() const;
    /**
     * The IPv6 address the hub assigned (INTERNAL_IP6_ADDRESS, RFC 7296
     * 3.15.1; a client whose tunnel carries IPv6, `tunnel mode ipsec
     * dual-overlay`, asks for one), on the tunnel's IPv6 interface while
     * the IKE SA lasts; :: when none.
     */
    Ipv6Address GetAssignedAddress6() const;
    /**
     * Initiator side: the networks the responder's CFG_REPLY named
     * (RFC 7296 3.15.1 INTERNAL_IP4_SUBNET, and INTERNAL_IP6_SUBNET on a
     * node with IPv6 on the tunnel), routed into the tunnel the IKE SA
     * protects while it lasts, as "a.b.c.d/len" (or "x::/len") strings.
     */
    std::vector<std::string> GetLearntRoutes() const;

    /** IKE SAs established so far / CHILD_SAs installed so far. */
    uint32_t GetIkeSasUp() const;
    uint32_t GetChildSasInstalled() const;
    /** Wireshark ikev2_decryption_table lines of every IKE SA keyed so far. */
    const std::vector<std::string>& GetIkeKeyLines() const;

    /** Signature of the IkeSaUp/IkeSaDown/Failure traces: SA id, peer, reason. */
    typedef void (*SaTracedCallback)(uint32_t id, Ipv4Address peer, const std::string& reason);

    /** Signature of the rekey traces: the replaced SA's id, the new SA's id. */
    typedef void (*RekeyTracedCallback)(uint32_t oldId, uint32_t newId);

    /** An event that calls into this daemon (a show snapshot of
     *  VpnTraceHelper): held here and cancelled in DoDispose, so that none
     *  outlives it. */
    void TrackEvent(EventId event);

  protected:
    void DoDispose() override;

  private:
    VpnTrackedEvents m_tracked; //!< TrackEvent's, cancelled in DoDispose
    void StartApplication() override;
    void StopApplication() override;

    struct Protected
    {
        Ptr<VpnTunnelNetDevice> tunnel;
        std::string profile;
        bool initiate;
    };

    void EnsureEngine();
    void HandleRead(Ptr<Socket> socket);
    void Send(const vpn_ikev2_dgram* d);
    void OnEvent(const vpn_router_event* ev);
    void OnIkeEvent(const vpn_ikev2_event* ev);
    const vpn_router* Router() const;
    void OpenSockets(Ipv4Address local);
    void TakeAssignedAddress(const vpn_ikev2_event* ev);
    void ReleaseAssignedAddress(uint32_t ikeSaId);
    void TakeAssignedAddress6(const vpn_ikev2_event* ev);
    void ReleaseAssignedAddress6(uint32_t ikeSaId);
    bool AddLearntRoute6(uint32_t ikeSaId, const struct vpn_prefix& p, uint32_t tag);
    void AddSiteRoute(const vpn_ikev2_event* ev);
    void RemoveSiteRoute(uint32_t childId);
    void AddLearntRoutes(const vpn_ikev2_event* ev);
    void RemoveLearntRoutes(uint32_t ikeSaId);

    /** The configuration's parse until the engine starts (then the
     *  stack's: GetConf); for the show views. */
    const struct vpn_conf* Conf() const;

    struct vpn_conf* m_conf;
    bool m_engine;
    /** Sockets on 500 and 4500 per local address (0.0.0.0 included), so
     *  IKE leaves from the tunnel source (a loopback, say) it names. */
    std::map<uint32_t, std::pair<Ptr<Socket>, Ptr<Socket>>> m_sockets;
    std::vector<Protected> m_protected;
    std::vector<std::string> m_ikeKeyLines;
    uint32_t m_ikeUp;
    uint32_t m_childUp;
    bool m_initiateAtStart;
    Time m_onDemandHoldDown;
    TracedCallback<uint32_t, Ipv4Address, const std::string&> m_ikeUpTrace;
    TracedCallback<uint32_t, Ipv4Address, const std::string&> m_ikeDownTrace;
    TracedCallback<uint32_t, Ipv4Address, const std::string&> m_failureTrace;
    TracedCallback<uint32_t, Ipv4Address, const std::string&> m_childUpTrace;
    TracedCallback<uint32_t, Ipv4Address, const std::string&> m_childDownTrace;
    TracedCallback<uint32_t, uint32_t> m_childRekeyTrace;
    TracedCallback<uint32_t, uint32_t> m_ikeRekeyTrace;
    TracedCallback<uint32_t, Ipv4Address, const std::string&> m_addressTrace;
    Ipv4Address m_assigned;    //!< the hub's address for us (remote access client)
    int32_t m_assignedIf;      //!< the interface it is on, -1: none
    uint32_t m_assignedIke;    //!< the IKE SA it came with
    Ipv6Address m_assigned6;   //!< the IPv6 one (RFC 7296 3.15.1), :: if none
    int32_t m_assigned6If{-1}; //!< its IPv6 interface, -1: none
    uint32_t m_assigned6Ike{0};
    /** Remote-access hub: a site-to-site peer's network (its CHILD_SA's
     *  remote selector) routed into the Virtual-Template, per CHILD_SA. */
    struct SiteRoute
    {
        Ipv4Address net;
        Ipv4Mask mask;
        uint32_t ifc;
    };
    /** Removes the static route r names (the newest one matching). */
    void DeleteStaticRoute(const SiteRoute& r);
    std::map<uint32_t, SiteRoute> m_siteRoutes;
    /** Initiator: the hub's CFG_REPLY networks routed into the tunnel, per IKE SA. */
    std::map<uint32_t, std::vector<SiteRoute>> m_learntRoutes;
    /** ... the IPv6 ones (INTERNAL_IP6_SUBNET), per IKE SA. */
    struct Route6
    {
        Ipv6Address net;
        uint8_t len;
        uint32_t ifc;
    };
    std::map<uint32_t, std::vector<Route6>> m_learntRoutes6;
};

} // namespace ns3

#endif
