/*
 * The GET VPN daemon of a node: an ns-3 Application that gives the node's
 * router (VpnIpsecStack, model/core/router: vpn_router_getvpn_attach) its
 * key-server and group-member groups and is the router's UDP port 848: it
 * feeds it what the socket receives and sends what the groups send. The
 * router's one timer drives the groups; the crypto map is the router's
 * too (VpnCryptoMapNetDevice). Multicast rekeys arrive on the same socket
 * (bound to the any address; ns-3 delivers multicast locally without group
 * membership). All protocol decisions are the C core's.
 */
#ifndef GDOI_DAEMON_H
#define GDOI_DAEMON_H

#include "vpn-packet-util.h"

#include "ns3/application.h"
#include "ns3/event-id.h"
#include "ns3/ipv4-address.h"
#include "ns3/traced-callback.h"

#include <memory>
#include <string>
#include <vector>

struct vpn_getvpn_node;
struct vpn_getvpn_group_params;
struct vpn_sa;
struct vpn_ikev2_dgram;
struct vpn_gdoi_gm_event;

namespace ns3
{

class Socket;
class Packet;
class VpnIpsecStack;

/**
 * \ingroup vpn
 * \brief GDOI (RFC 6407) key server / group member roles of a node, driven in simulated time.
 */
class GdoiDaemon : public Application
{
  public:
    static TypeId GetTypeId();
    GdoiDaemon();
    ~GdoiDaemon() override;

    /**
     * Adds a group the node serves or belongs to. The parameters are used
     * when the application starts: every pointer in them (names, keys,
     * lists) must stay valid until then (GetVpnHelper keeps them in the
     * daemon with KeepAlive). Groups are fixed once the daemon runs.
     */
    void AddGroup(const struct vpn_getvpn_group_params& group);

    /** Keeps \p storage alive as long as the daemon (configuration storage). */
    void KeepAlive(std::shared_ptr<void> storage);

    /** The groups in the node's router (nullptr before the application starts). */
    const struct vpn_getvpn_node* GetCore() const;

    /** The node's router stack once the groups are in it (the crypto map's), else nullptr. */
    Ptr<VpnIpsecStack> GetStack() const;

    /** Rekeys key-server group \p group now (IOS `crypto gdoi ks rekey`). Returns a VPN_ERR_*. */
    int Rekey(size_t group, bool newKek);
    /** Switches the rekey transport of key-server group \p group (next rekey). */
    int SetMulticastRekey(size_t group, bool multicast, Ipv4Address groupAddress);

    /** Views: `show crypto gdoi`, `... ks members`, `... ks coop`, `... gm`, `show crypto ipsec sa`. */
    std::string ShowCryptoGdoi() const;
    std::string ShowCryptoGdoiKsMembers() const;
    std::string ShowCryptoGdoiKsCoop() const;
    std::string ShowCryptoGdoiGm() const;
    std::string ShowCryptoIpsecSa() const;

    /** Groups in which this node is a registered member. */
    uint32_t GetRegisteredGroups() const;
    /** Groups this node is a member of. */
    uint32_t GetMemberGroups() const;

    /**
     * Events of kind \p kind (vpn_gdoi_gm_event_kind: refused rekeys, bad
     * KEK signatures, replays, ...) this node's group members reported.
     */
    uint64_t GetGmEventCount(int kind) const;
    /** The member events counted so far, one "kind: count" line each (zeros left out). */
    std::string ShowGmEvents() const;

    /**
     * Wireshark ikev1_decryption_table lines (initiator cookie, encryption
     * key, hex) of every phase 1 this node's members and COOP key servers
     * established so far.
     */
    const std::vector<std::string>& GetIkev1KeyLines() const;

    /** Signature of the Datagram trace: source, destination, datagram as sent, decrypted view. */
    typedef void (*DatagramTracedCallback)(Ipv4Address src,
                                           Ipv4Address dst,
                                           Ptr<const Packet> datagram,
                                           Ptr<const Packet> view);
    /** Signature of the TekInstalled trace. */
    typedef void (*TekTracedCallback)(const struct vpn_sa* sa);
    /** Signature of the GmEvent trace: group index, kind name, VPN_ERR_*, SEQ (0: none), detail. */
    typedef void (*GmEventTracedCallback)(uint32_t group,
                                          const std::string& kind,
                                          int err,
                                          uint32_t seq,
                                          const std::string& detail);

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

    void HandleRead(Ptr<Socket> socket);
    void AfterEngine();
    void TekInstalled(const struct vpn_sa* sa);
    //! the C engine's vpn_gdoi_gm_cfg.event; user: a GmEventUser
    static void GmEventThunk(void* user, const struct vpn_gdoi_gm_event* ev);
    struct GmEventUser
    {
        GdoiDaemon* daemon;
        uint32_t group;
    };
    std::vector<std::unique_ptr<GmEventUser>> m_gmEventUsers; //!< one per member group
    std::vector<uint64_t> m_gmEvents;                          //!< count by kind
    void Ikev1Line(std::string line);
    void Send(const struct vpn_ikev2_dgram* d);
    void Sent(Ipv4Address src, Ipv4Address dst, Ptr<const Packet> datagram, Ptr<const Packet> view);
    std::string Render(int which) const;

    std::vector<struct vpn_getvpn_group_params> m_groups;
    std::vector<std::shared_ptr<void>> m_keep;
    Ptr<VpnIpsecStack> m_stack; //!< set once the groups are attached
    Ptr<Socket> m_socket;
    std::vector<std::string> m_ikev1Lines;
    //! datagrams the engines sent, sent once the engine call returned (getvpn.h)
    std::vector<std::pair<Ipv4Address, Ptr<Packet>>> m_outQueue;

    TracedCallback<Ipv4Address, Ipv4Address, Ptr<const Packet>, Ptr<const Packet>> m_dgramTrace;
    TracedCallback<const struct vpn_sa*> m_tekTrace;
    TracedCallback<uint32_t, const std::string&, int, uint32_t, const std::string&> m_gmEventTrace;
};

} // namespace ns3

#endif
