/*
 * A tunnel interface (IOS `interface TunnelN`): an ns-3 NetDevice with its
 * own IPv4 address, over which routing runs, whose packets leave the node
 * protected by IPsec:
 *   - GRE_IPSEC: GRE (RFC 2784) between tunnel source and destination,
 *     the GRE packet protected by an ESP SA in transport mode ("permit 47",
 *     IOS's default `tunnel mode gre ip` with tunnel protection);
 *   - VTI: ESP tunnel mode straight (`tunnel mode ipsec ipv4`).
 * Without an outbound SA a protected tunnel drops what it is given: traffic
 * is never sent in clear.
 *
 *   - MGRE: multipoint GRE (DMVPN): one device for all peers; the router
 *     core picks each packet's NBMA destination from the interface's NHRP
 *     engine and the routing table, with an IPsec SA per peer.
 *   - ACCESS: a Virtual-Template (remote access hub): one device for all
 *     clients, each packet to the CHILD_SA of the client its destination
 *     (an address the hub assigned) belongs to.
 * All encapsulation is done by the node's router core (model/core/router,
 * reached through VpnIpsecStack); the device moves bytes between ns-3 and it.
 */
#ifndef VPN_TUNNEL_NET_DEVICE_H
#define VPN_TUNNEL_NET_DEVICE_H

#include "vpn-ipsec-stack.h"

#include "ns3/ipv4-address.h"
#include "ns3/ipv6-address.h"
#include "ns3/mac48-address.h"
#include "ns3/net-device.h"
#include "ns3/traced-callback.h"

#include <cstdint>
#include <string>
#include <vector>


namespace ns3
{

/**
 * \ingroup vpn
 * \brief A point-to-point tunnel interface protected by IPsec.
 */
class VpnTunnelNetDevice : public NetDevice
{
  public:
    /** Encapsulation, as `tunnel mode` names it. */
    enum Mode
    {
        GRE_IPSEC, //!< tunnel mode gre ip + tunnel protection (ESP transport over GRE)
        VTI,       //!< tunnel mode ipsec ipv4 (ESP tunnel mode)
        MGRE,      //!< tunnel mode gre multipoint (DMVPN): one device, a peer per
                   //!< packet from NHRP, chosen by the router core
        ACCESS,    //!< interface Virtual-Template (FlexVPN remote access hub): one
                   //!< device for every client, ESP tunnel mode, the client's SA
                   //!< chosen by the router core from the inner destination
    };

    static TypeId GetTypeId();
    VpnTunnelNetDevice();
    ~VpnTunnelNetDevice() override;

    /**
     * Registers the tunnel with the node's router (VpnIpsecStack) and
     * returns its id there: protected by ipsecProfile through IKE, or (an
     * empty profile) keyed by hand. Later calls return the same id.
     */
    uint32_t AttachToStack(const std::string& ipsecProfile = "",
                           bool initiate = false,
                           bool initiateAtStart = false);

    /** SPI of the outbound SA protecting the tunnel now, 0 if none. */
    uint32_t GetOutboundSpi() const;

    /**
     * The MTU of the WAN the tunnel's packets leave by: attribute WanMtu, or
     * the MTU of the device the tunnel destination is routed over (else of
     * the tunnel source's device, else 1500).
     */
    uint16_t GetWanMtu() const;

    Mode GetMode() const;
    /** `tunnel mode ipsec dual-overlay` (attribute DualOverlay). */
    bool GetDualOverlay() const;
    /**
     * The node's IPv6 interface on this tunnel, added and brought up the
     * first time (IPv6 inner traffic: a remote-access user's assigned
     * address, a hub's IPv6 pools). Duplicate address detection is left
     * out for it (RFC 4862 5.1, DupAddrDetectTransmits 0): the one peer
     * across the tunnel assigned the address. -1: the node has no IPv6.
     */
    int32_t EnsureIpv6Interface();
    /** Adds addr/prefixLen to that interface, without DAD (as above). */
    bool AddIpv6Address(uint32_t ifc, Ipv6Address addr, uint8_t prefixLen);
    /** GRE key (RFC 2890), 0: none. */
    uint32_t GetTunnelKey() const;
    Ipv4Address GetTunnelSource() const;
    Ipv4Address GetTunnelDestination() const;
    /** IOS-style name, e.g. "Tunnel0". */
    std::string GetInterfaceName() const;

    /** Packets encrypted and sent / received and decrypted through this tunnel. */
    uint64_t GetPacketsEncrypted() const;
    uint64_t GetPacketsDecrypted() const;
    uint64_t GetPacketsDropped() const;

    /**
     * A packet an inbound SA of this tunnel decapsulated (the router took
     * GRE off too): the inner IP packet, valid during the call; \p carrier
     * is the packet as received (for its simulation tags).
     */
    void Deliver(const uint8_t* data, size_t len, Ptr<const Packet> carrier);

    /** The router dropped an inbound packet of this tunnel. */
    void DropFromStack(Ptr<const Packet> carrier, VpnIpsecStack::DropReason reason);

    /** An SA of the tunnel came or went: its derived MTU may change. */
    void NotifySaChanged();

    // NetDevice
    void SetIfIndex(const uint32_t index) override;
    uint32_t GetIfIndex() const override;
    Ptr<Channel> GetChannel() const override;
    void SetAddress(Address address) override;
    Address GetAddress() const override;
    bool SetMtu(const uint16_t mtu) override;
    uint16_t GetMtu() const override;
    bool IsLinkUp() const override;
    void AddLinkChangeCallback(Callback<void> callback) override;
    bool IsBroadcast() const override;
    Address GetBroadcast() const override;
    bool IsMulticast() const override;
    Address GetMulticast(Ipv4Address multicastGroup) const override;
    Address GetMulticast(Ipv6Address addr) const override;
    bool IsPointToPoint() const override;
    bool IsBridge() const override;
    bool Send(Ptr<Packet> packet, const Address& dest, uint16_t protocolNumber) override;
    bool SendFrom(Ptr<Packet> packet,
                  const Address& source,
                  const Address& dest,
                  uint16_t protocolNumber) override;
    Ptr<Node> GetNode() const override;
    void SetNode(Ptr<Node> node) override;
    bool NeedsArp() const override;
    void SetReceiveCallback(NetDevice::ReceiveCallback cb) override;
    void SetPromiscReceiveCallback(NetDevice::PromiscReceiveCallback cb) override;
    bool SupportsSendFrom() const override;

    /** Signature of the Drop trace: the packet, why (the router's reason). */
    typedef void (*DropTracedCallback)(Ptr<const Packet> packet, VpnIpsecStack::DropReason reason);

    /**
     * Called (after the drop is traced) whenever a packet is dropped because
     * the tunnel has no outbound SA: how `tunnel protection` brings IKE up on
     * first traffic.
     */
    void SetNoSaCallback(Callback<void> cb);

  protected:
    void DoDispose() override;
    void DoInitialize() override;

  private:
    void Drop(Ptr<const Packet> packet, VpnIpsecStack::DropReason reason);
    /** `qos pre-classify`: tags \p packet with its inner header
     *  (MqcPreClassifyTag), which the core parses from its bytes \p data. */
    void TagInner(Ptr<Packet> packet, const uint8_t* data, size_t len) const;
    uint16_t DeriveMtu() const;

    Ptr<Node> m_node;
    uint32_t m_ifIndex;
    uint16_t m_mtu;                  //!< `ip mtu`; 0: derived
    uint16_t m_wanMtu;               //!< 0: found by routing
    mutable uint16_t m_derivedMtu;   //!< cache of DeriveMtu; 0: stale
    Mac48Address m_address;
    Address m_addressAsAddress; //!< m_address converted once, for the per-packet receive callbacks
    Mode m_mode;
    std::string m_name;
    Ipv4Address m_source;
    Ipv4Address m_destination;
    uint32_t m_key;
    bool m_preClassify{false}; //!< `qos pre-classify`
    bool m_dualOverlay{false}; //!< `tunnel mode ipsec dual-overlay`
    uint32_t m_tunnelId; //!< in the node's router; UINT32_MAX until attached
    Ptr<VpnIpsecStack> m_stack; //!< the node's router, once attached
    std::vector<uint8_t> m_txBuf;
    NetDevice::ReceiveCallback m_rxCallback;
    Callback<void> m_noSaCallback;
    NetDevice::PromiscReceiveCallback m_promiscCallback;
    uint64_t m_encrypted;
    uint64_t m_decrypted;
    uint64_t m_dropped;

    TracedCallback<Ptr<const Packet>> m_snifferTrace;        //!< inner packets, both ways (pcap)
    TracedCallback<Ptr<const Packet>> m_encryptedTrace;      //!< inner packet, sent protected
    TracedCallback<Ptr<const Packet>> m_decryptedTrace;      //!< inner packet, received protected
    TracedCallback<Ptr<const Packet>, VpnIpsecStack::DropReason> m_dropTrace;
};

} // namespace ns3

#endif
