/*
 * The GET VPN daemon of a node: an ns-3 Application that runs the node's
 * vpn_getvpn_node (model/core/getvpn/getvpn.h: its key server and group
 * member engines) on UDP port 848, re-arms one timer at the node's next
 * deadline, and serves the crypto-map data plane to the node's
 * VpnCryptoMapNetDevice. Multicast rekeys arrive on the same socket (it is
 * bound to the any address; ns-3 delivers multicast locally without group
 * membership). All protocol decisions are the C core's.
 */
#ifndef GDOI_DAEMON_H
#define GDOI_DAEMON_H

#include "ns3/application.h"
#include "ns3/event-id.h"
#include "ns3/ipv4-address.h"
#include "ns3/traced-callback.h"

#include <memory>
#include <set>
#include <string>
#include <vector>

struct vpn_getvpn_node;
struct vpn_getvpn_group_params;
struct vpn_sig_key;
struct vpn_sa;
struct vpn_pkt;
struct vpn_drbg;
struct vpn_conf;
struct vpn_addr;

namespace ns3
{

class Socket;
class Packet;

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

    /** The core object (nullptr before the application starts). */
    struct vpn_getvpn_node* GetCore() const;

    /**
     * The crypto map: runs an outbound / inbound IP packet through the
     * node's data plane (vpn_getvpn_node_output / _input). Before the
     * daemon starts, everything passes. Returns a vpn_getvpn_verdict;
     * \p why receives the vpn_getvpn_drop of a drop.
     */
    int ProcessOutbound(struct vpn_pkt* pkt, int* why);
    int ProcessInbound(struct vpn_pkt* pkt, int* why);

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

  protected:
    void DoDispose() override;

  private:
    void StartApplication() override;
    void StopApplication() override;

    void HandleRead(Ptr<Socket> socket);
    void Reschedule();
    void OnTimer();
    void AfterEngine();
    static void SendThunk(void* user,
                          size_t group,
                          const struct vpn_addr* src,
                          const struct vpn_addr* dst,
                          const uint8_t* dg,
                          size_t len,
                          const uint8_t* view,
                          size_t viewLen);
    void Send(const struct vpn_addr* src,
              const struct vpn_addr* dst,
              const uint8_t* dg,
              size_t len,
              const uint8_t* view,
              size_t viewLen);
    std::string Render(int which) const;

    std::vector<struct vpn_getvpn_group_params> m_groups;
    std::vector<std::shared_ptr<void>> m_keep;
    struct vpn_getvpn_node* m_node;
    struct vpn_drbg* m_drbg;
    Ptr<Socket> m_socket;
    EventId m_timer;
    std::set<uint32_t> m_teksSeen;
    std::set<std::string> m_p1Seen;
    std::vector<std::string> m_ikev1Lines;
    //! datagrams the engines sent, sent once the engine call returned (getvpn.h)
    std::vector<std::pair<Ipv4Address, Ptr<Packet>>> m_outQueue;

    TracedCallback<Ipv4Address, Ipv4Address, Ptr<const Packet>, Ptr<const Packet>> m_dgramTrace;
    TracedCallback<const struct vpn_sa*> m_tekTrace;
};

} // namespace ns3

#endif
