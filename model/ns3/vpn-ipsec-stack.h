/*
 * A node's IPsec data plane in ns-3: the I/O adapter of the node's router
 * core (model/core/router: IKEv2 engine, SAD, tunnels). It owns the C
 * router, feeds it ESP from a raw IPv4 socket (protocol 50) and the UDP
 * datagrams the IKE daemon's sockets receive, sends what it builds (whole
 * outer IP packets), delivers decrypted packets to the tunnel devices and
 * re-arms one timer at the router's next deadline. GET VPN: GdoiDaemon
 * gives it the node's GDOI groups and is its UDP 848; VpnCryptoMapNetDevice
 * runs packets through its crypto map. Every decision (what an
 * engine event does to the SAD, rekey handover and grace, lifetimes, DPD
 * activity, port 4500 demultiplexing, MTUs) is the core's.
 */
#ifndef VPN_IPSEC_STACK_H
#define VPN_IPSEC_STACK_H

#include "ns3/callback.h"
#include "ns3/event-id.h"
#include "ns3/ipv4-address.h"
#include "ns3/ipv4-routing-table-entry.h"
#include "ns3/nstime.h"
#include "ns3/object.h"
#include "ns3/ptr.h"
#include "ns3/traced-callback.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

struct vpn_router;
struct vpn_router_event;
struct vpn_router_esp_out;
struct vpn_sa;
struct vpn_sa_config;
struct vpn_pkt;
struct vpn_conf;
struct vpn_drbg;
struct vpn_ikev2_dgram;
struct vpn_addr;
struct vpn_nhrp_route;
struct vpn_nhrp_event;
struct vpn_getvpn_group_params;

namespace ns3
{

class Ipv4;
class Ipv4L3Protocol;
class Node;
class Packet;
class Socket;
class VpnTunnelNetDevice;

/**
 * \ingroup vpn
 * \brief The node's VPN router core, its ESP receive path and raw IP send path.
 */
class VpnIpsecStack : public Object
{
  public:
    /** Why a packet was dropped: the core's vpn_router_drop, value for value. */
    enum DropReason
    {
        DROP_NONE = 0,
        DROP_ARGS,
        DROP_NOT_IP,
        DROP_OVERSIZE,
        DROP_NO_SA,
        DROP_GRE,
        DROP_ENCAP,
        DROP_SEND,
        DROP_UDP_SHORT,
        DROP_UDP_PORT,
        DROP_ESP_MALFORMED,
        DROP_ESP_NO_SA,
        DROP_ESP_REPLAY,
        DROP_ESP_AUTH,
        DROP_ESP_POLICY,
        DROP_ESP_EXPIRED,
        DROP_ESP_OTHER,
        DROP_NO_TUNNEL,
        DROP_DELIVER,
        DROP_NO_NBMA,
        DROP_GDOI_UNCLAIMED,
        DROP_GDOI_REFUSED,
        DROP_CRYPTO_MAP,
        DROP_IKEV1,
    };

    /** The reason in words ("tunnel: no IPsec SA"). */
    static std::string GetDropReasonName(DropReason reason);

    static TypeId GetTypeId();

    VpnIpsecStack();
    ~VpnIpsecStack() override;

    /** The node's stack, created and aggregated on first use. */
    static Ptr<VpnIpsecStack> GetOrCreate(Ptr<Node> node);

    /** What the IKEv2 daemon gives the router and takes from it. */
    struct Ikev2Hooks
    {
        Callback<void, const struct vpn_ikev2_dgram*> send;   //!< a datagram for its sockets
        Callback<void, const struct vpn_router_event*> event; //!< engine events, initiations
        Time onDemandHoldDown;                                //!< least time between on-demand initiations
    };

    /**
     * Gives the router an IKEv2 engine with this IOS configuration (parsed
     * and kept here). Must come before the router is used otherwise: a node
     * is keyed by IKE or by hand, not both. Returns "" or the error.
     */
    std::string EnableIkev2(const std::string& iosConfig, const Ikev2Hooks& hooks);
    /**
     * The same with the configuration already parsed: on success the stack
     * owns \p conf (freed with the node), on failure the caller still does.
     * A daemon that parsed its configuration to check it hands it over
     * here instead of the stack parsing the text again: one parsed copy
     * per node (tens of KB each, per spoke at hub scale; issue 14).
     */
    std::string EnableIkev2(struct vpn_conf* conf, const Ikev2Hooks& hooks);

    /**
     * Registers a tunnel device with the router (once; later calls return
     * its id): protected by ipsecProfile (IKE; empty for manual keys),
     * initiating IKE if initiate (already at start if atStart). Aborts on
     * a configuration error, naming the interface.
     */
    uint32_t AddTunnel(VpnTunnelNetDevice* dev,
                       const std::string& ipsecProfile,
                       bool initiate,
                       bool atStart);

    /** Starts initiating tunnels (vpn_router_start). */
    void Start();

    /**
     * Adds an SA by hand for a tunnel (its outbound SA, or an inbound one
     * delivering into it). Returns 0 or a VPN_ERR_* code; \p spi
     * (optional) receives the SPI, the SA's handle with its direction.
     */
    int AddSa(const struct vpn_sa_config& cfg, VpnTunnelNetDevice* owner, uint32_t* spi);

    /** Removes an SA by SPI and direction (VPN_SA_IN / VPN_SA_OUT). */
    int RemoveSa(uint32_t spi, unsigned dir);

    /** A tunnel device goes away: nothing is delivered to it any more. */
    void ForgetEndpoint(VpnTunnelNetDevice* owner);

    /** An inner packet into a tunnel; pkt is the core's buffer view. */
    DropReason TunnelOutput(uint32_t tunnel, struct vpn_pkt* pkt, Ptr<const Packet> carrier);

    /** The tunnel's MTU over a WAN of wanMtu bytes (the core's derivation). */
    uint16_t GetTunnelMtu(uint32_t tunnel, uint16_t wanMtu) const;

    /** SPI of the tunnel's outbound SA, 0 if none. */
    uint32_t GetOutboundSpi(uint32_t tunnel) const;

    /**
     * Sends a complete IPv4 packet built by the core (header included),
     * routed by its destination. Returns false if there is no route.
     */
    bool SendIpPacket(const uint8_t* data, size_t len, Ptr<const Packet> tagsFrom = nullptr);

    /**
     * A UDP datagram the IKE daemon's sockets received (ports 500, 4500):
     * the router tells IKE, ESP in UDP and keepalives apart.
     */
    void ReceiveUdp(Ptr<Packet> payload,
                    Ipv4Address src,
                    uint16_t sport,
                    Ipv4Address dst,
                    uint16_t dport);

    /** As ReceiveUdp (the name of the ESP-in-UDP entry of old). */
    void ReceiveUdpEsp(Ptr<Packet> payload,
                       Ipv4Address src,
                       uint16_t sport,
                       Ipv4Address dst,
                       uint16_t dport);

    /** What the GET VPN daemon gives the router and takes from it. */
    struct GdoiHooks
    {
        //! a UDP 848 datagram, during the router call: send it once the call returned (getvpn.h)
        Callback<void, const struct vpn_ikev2_dgram*> send;
        //! a datagram as sent and its decrypted view (the same when it was clear), for traces
        Callback<void, Ipv4Address, Ipv4Address, Ptr<const Packet>, Ptr<const Packet>> sent;
        Callback<void> after; //!< after every router call (queued sends)
        //! a TEK a group installed, once per SPI (the SA during the call only)
        Callback<void, const struct vpn_sa*> tek;
        //! an ikev1_decryption_table line the core made (phase 1 of a registration or COOP)
        Callback<void, std::string> ikev1Line;
    };

    /**
     * Gives the router the node's GDOI groups (vpn_router_getvpn_attach;
     * their pointers borrowed as getvpn.h says). Returns 0 or a VPN_ERR_*.
     */
    int EnableGetVpn(const std::vector<struct vpn_getvpn_group_params>& groups, const GdoiHooks& hooks);

    /**
     * The crypto map on an IPv4 packet leaving / arriving on the crypto-map
     * interface (vpn_router_cryptomap_output / _input). \p why (optional)
     * receives the vpn_getvpn_drop of a DROP_CRYPTO_MAP.
     */
    DropReason CryptoMapOutput(struct vpn_pkt* pkt, bool* encrypted, int* why);
    DropReason CryptoMapInput(struct vpn_pkt* pkt, bool* decrypted, int* why);

    /** Rekeys key-server group \p group now; returns a VPN_ERR_*. */
    int GdoiRekey(size_t group, bool newKek);
    /** Rekey transport of key-server group \p group (multicast to \p address, or unicast). */
    int GdoiSetMulticast(size_t group, bool multicast, Ipv4Address address);

    /** The router's tunnel id of a device attached to it; UINT32_MAX if none. */
    uint32_t GetTunnelId(const VpnTunnelNetDevice* dev) const;

    /** NHRP routes ("H") this node holds in its static routing now. */
    uint32_t GetNhrpRouteCount() const;

    /**
     * IOS `show ip route`: the node's connected (C), static (S), NHRP (H)
     * and RIP (R) routes, longest prefix first, with the tunnel interfaces
     * by their IOS names (others as GigabitEthernet0/N, as FlexVpnHelper
     * names them; Null0 for a RIP summary's discard interface).
     */
    std::string ShowIpRoute() const;

    /**
     * A power cycle of an IKE-keyed router: every SA, IKE SA and NHRP entry
     * is lost (keys wiped), the NHRP routes go, and a fresh router from the
     * same configuration starts at once with the same tunnels (spokes
     * register again). For DMVPN tests of peers that rebooted.
     */
    void Reboot();

    /**
     * Management, as `clear crypto ikev2 sa` and `vpnctl initiate` do it:
     * delete every IKE SA (the peers are told; returns how many), or start
     * IKE for a tunnel now (returns 0 or the router's VPN_ERR_* code).
     */
    uint32_t ClearIkeSas();
    int InitiateTunnel(uint32_t tunnelId);
    /** `clear crypto session remote ADDR`: the IKE SAs with \p peer only (returns how many). */
    uint32_t ClearIkeSas(Ipv4Address peer);
    /**
     * Rekeys every established IKE SA now (RFC 7296 2.18), as its lifetime
     * would. Returns how many rekeys started. For timed events.
     */
    uint32_t RekeyIkeSas();
    /** The IKE SAs with \p peer only (returns how many rekeys started). */
    uint32_t RekeyIkeSas(Ipv4Address peer);
    /** `clear crypto gdoi` on a group member: register again now; returns a
     *  count or VPN_ERR_NOTFOUND (vpn_router_gdoi_reregister). */
    int GdoiReregister();

    /**
     * A node switched off (PowerOff) and on again (PowerOn), for timed events
     * of scenario files. Off: every IPv4 interface but the loopback goes down
     * (nothing in or out; ns-3 takes the static routes through them away,
     * they are kept here) and an IKE-keyed router loses every SA, IKE SA and
     * NHRP entry as in Reboot. On: the interfaces come up, the static routes
     * are as they were, and the router starts fresh (Reboot): initiating
     * tunnels bring IKE up again, peers find the lost SAs by DPD. A GET VPN
     * node (EnableGetVpn) loses its GDOI state when off (TEKs, KEK, phase-1
     * SAs; a key server its keys) and gets its groups again when on, so a
     * member registers anew. Returns false when already in that state.
     */
    bool PowerOff();
    bool PowerOn();
    bool IsPoweredOff() const;

    /**
     * Rekeys the CHILD_SA carrying each point-to-point tunnel's traffic now
     * (as its lifetime would; RFC 7296 1.3.3). Returns how many rekeys
     * started. For timed events of scenario files.
     */
    uint32_t RekeyChildSas();
    /**
     * Rekeys the CHILD_SAs negotiated with \p peer now, whatever the tunnel:
     * a point-to-point tunnel's, a Virtual-Access's, and on a multipoint GRE
     * (DMVPN) tunnel that peer's own pair (each NHRP peer has its IKE SA and
     * CHILD_SA). Returns how many rekeys started. For timed events.
     */
    uint32_t RekeyChildSas(Ipv4Address peer);

    /** The router (nullptr until first used); for show views and tests. */
    const struct vpn_router* GetRouter() const;
    /** The IOS configuration EnableIkev2 was given (nullptr before). */
    const struct vpn_conf* GetConf() const;

    /** SAs held and the errors counted on them (send + receive). */
    uint32_t GetSaCount() const;
    /** IKE SAs established (or rekeying) now. */
    uint32_t GetIkeSaCount() const;
    uint64_t GetSaErrors() const;

    /** Signature of the SaAdded trace source (the SA during the call only). */
    typedef void (*SaTracedCallback)(const struct vpn_sa* sa);
    /** Signature of the KeyLine trace source: Wireshark's table ("esp_sa",
     *  "ikev2_decryption_table", ...) and one line of it, made by the core. */
    typedef void (*KeyLineTracedCallback)(std::string table, std::string line);
    /** Signature of the Drop trace source: reason, SPI (0 if none). */
    typedef void (*DropTracedCallback)(DropReason reason, uint32_t spi);
    /** Signature of the PlainPacket trace source: the inner packet (raw IP)
     *  of an ESP packet sent (\p outbound) or received under an SA whose
     *  algorithms Wireshark cannot decrypt (the core decides: wskeys.h). */
    typedef void (*PlainPacketTracedCallback)(Ptr<const Packet> packet, bool outbound);

  protected:
    void DoDispose() override;
    void NotifyNewAggregate() override;

  private:
    struct vpn_router* Router();
    void CreateRouter(const struct vpn_conf* conf);
    /** Deletes the C router (keys wiped) and its timer and DRBGs; Reboot and PowerOff. */
    void DropRouter();
    /** Stops the node engine re-forking this stack's DRBGs (before they are freed). */
    void ReleaseDrbgs();
    void EnsureReceiver();
    void HandleEsp(Ptr<Socket> socket);
    /** After every router call: the GDOI hook, then the one timer. */
    void Reschedule();
    /** Applies \p op to each point-to-point tunnel's CHILD_SA; returns the successes. */
    uint32_t ForEachTunnelChild(int (*op)(struct vpn_router*, uint64_t, uint32_t));
    /** Applies \p op to each IKE SA (with \p peer only when \p onePeer); returns the successes. */
    uint32_t ForEachIkeSa(bool onePeer, Ipv4Address peer, int (*op)(struct vpn_router*, uint64_t, uint32_t));
    void OnTimer();
    static void SendUdpThunk(void* user, const struct vpn_ikev2_dgram* d);
    static void GdoiSentThunk(void* user,
                              const struct vpn_addr* src,
                              const struct vpn_addr* dst,
                              const uint8_t* dg,
                              size_t len,
                              const uint8_t* view,
                              size_t viewLen);
    static bool SendEspThunk(void* user, const struct vpn_router_esp_out* o);
    static bool DeliverThunk(void* user, uint32_t tunnel, const uint8_t* data, size_t len);
    static void EspPlainThunk(void* user, uint32_t tunnel, bool outbound, const uint8_t* data, size_t len);
    static void IkePlainThunk(void* user, uint32_t ikeSaId, bool outbound, const uint8_t* dgram, size_t len);
    static void EventThunk(void* user, const struct vpn_router_event* ev);
    static int RouteThunk(void* user, uint32_t tunnel, const struct vpn_addr* dst, struct vpn_nhrp_route* out);
    void InstallNhrpRoute(uint32_t tunnel, const struct vpn_nhrp_event* ev);
    /** The node's IPv4, looked up once it is aggregated (per-packet paths). */
    Ptr<Ipv4> GetIpv4();
    /** Interface \p ifc is FlexVpnHelper's Null0 (its device kind cached). */
    bool IsNull0At(Ptr<Ipv4> ipv4, uint32_t ifc);
    /** The IPv4 interface of tunnel \p tunnel's device (cached once found), -1: none. */
    int32_t TunnelInterface(uint32_t tunnel, Ptr<Ipv4> ipv4);

    Ptr<Node> m_node;
    struct Core;
    Core* m_core;
    Ptr<Socket> m_espSocket;
    EventId m_timer;
    uint64_t m_timerAt{UINT64_MAX}; //!< the deadline m_timer is pending for (ns); UINT64_MAX: none
    std::vector<VpnTunnelNetDevice*> m_tunnels; //!< by router tunnel id
    std::vector<int32_t> m_tunnelIf;            //!< by tunnel id: its IPv4 interface, -1 unknown
    std::vector<uint8_t> m_simpleIf;            //!< by IPv4 interface: 0 unknown, 1 SimpleNetDevice, 2 other
    Ptr<Ipv4> m_ipv4;                           //!< the node's, once looked up
    Ipv4L3Protocol* m_ipv4L3{nullptr};          //!< m_ipv4 if it is one (held by m_ipv4)
    Ikev2Hooks m_hooks;
    GdoiHooks m_gdoiHooks;
    Ptr<const Packet> m_txCarrier; //!< the inner packet being sent (for its tags)
    Ptr<const Packet> m_rxCarrier; //!< the packet being received
    bool m_inOutput;               //!< drops now are the tunnel's to trace
    uint32_t m_nhrpRoutes;         //!< NHRP routes installed and not yet removed
    struct TunnelArgs
    {
        std::string profile;
        bool initiate;
        bool atStart;
    };
    std::vector<TunnelArgs> m_tunnelArgs; //!< by tunnel id, to add them again at Reboot
    std::vector<std::pair<Ipv4Address, std::pair<Ipv4Mask, uint32_t>>> m_nhrpRouteList; //!< installed H routes
    void AddToRouter(VpnTunnelNetDevice* dev, const TunnelArgs& a);
    struct SavedRoute
    {
        Ipv4RoutingTableEntry entry;
        uint32_t metric;
    };
    std::vector<SavedRoute> m_offRoutes; //!< the static routes while powered off
    bool m_off{false};
    std::vector<uint8_t> m_rxBuf;
    TracedCallback<const struct vpn_sa*> m_saAddedTrace;
    TracedCallback<std::string, std::string> m_keyLineTrace;
    TracedCallback<DropReason, uint32_t> m_dropTrace;
    TracedCallback<Ptr<const Packet>, bool> m_plainTrace;
    TracedCallback<Ptr<const Packet>, bool> m_plainIkeTrace; //!< PlainIke: IP/UDP/IKE, unencrypted
};

} // namespace ns3

#endif
