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
 * All encapsulation is done by the C core (model/core/gre, model/core/ipsec);
 * the device moves bytes between ns-3 and it.
 */
#ifndef VPN_TUNNEL_NET_DEVICE_H
#define VPN_TUNNEL_NET_DEVICE_H

#include "vpn-ipsec-stack.h"

#include "ns3/ipv4-address.h"
#include "ns3/mac48-address.h"
#include "ns3/net-device.h"
#include "ns3/traced-callback.h"

#include <cstdint>
#include <string>
#include <vector>

struct vpn_gre_tunnel;
struct vpn_sa;
struct vpn_esp_shape;

namespace ns3
{

/**
 * \ingroup vpn
 * \brief A point-to-point tunnel interface protected by IPsec.
 */
class VpnTunnelNetDevice : public NetDevice, public VpnEspEndpoint
{
  public:
    /** Encapsulation, as `tunnel mode` names it. */
    enum Mode
    {
        GRE_IPSEC, //!< tunnel mode gre ip + tunnel protection (ESP transport over GRE)
        VTI,       //!< tunnel mode ipsec ipv4 (ESP tunnel mode)
    };

    static TypeId GetTypeId();
    VpnTunnelNetDevice();
    ~VpnTunnelNetDevice() override;

    /** The outbound SA to protect with (nullptr: drop everything). */
    void SetOutboundSa(struct vpn_sa* sa);
    struct vpn_sa* GetOutboundSa() const;

    /**
     * A transform the tunnel may be protected with (from its ipsec profile):
     * until an SA is installed, the derived MTU is the smallest these allow.
     */
    void AddConfiguredEsp(const struct vpn_esp_shape& shape);

    /**
     * The MTU of the WAN the tunnel's packets leave by: attribute WanMtu, or
     * the MTU of the device the tunnel destination is routed over (else of
     * the tunnel source's device, else 1500).
     */
    uint16_t GetWanMtu() const;

    Mode GetMode() const;
    Ipv4Address GetTunnelSource() const;
    Ipv4Address GetTunnelDestination() const;
    /** IOS-style name, e.g. "Tunnel0". */
    std::string GetInterfaceName() const;

    /** Packets encrypted and sent / received and decrypted through this tunnel. */
    uint64_t GetPacketsEncrypted() const;
    uint64_t GetPacketsDecrypted() const;
    uint64_t GetPacketsDropped() const;

    // VpnEspEndpoint
    void EspDelivered(const uint8_t* data,
                      size_t len,
                      const struct vpn_sa* sa,
                      Ptr<const Packet> carrier) override;

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

    /** Signature of the Drop trace: reason. */
    typedef void (*DropTracedCallback)(Ptr<const Packet> packet, const std::string& reason);

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
    void Drop(Ptr<const Packet> packet, const std::string& reason);
    void EnsureGre();
    uint16_t DeriveMtu() const;

    Ptr<Node> m_node;
    uint32_t m_ifIndex;
    uint16_t m_mtu;                  //!< `ip mtu`; 0: derived
    uint16_t m_wanMtu;               //!< 0: found by routing
    mutable uint16_t m_derivedMtu;   //!< cache of DeriveMtu; 0: stale
    std::vector<struct vpn_esp_shape> m_configuredEsp;
    Mac48Address m_address;
    Mode m_mode;
    std::string m_name;
    Ipv4Address m_source;
    Ipv4Address m_destination;
    bool m_hasKey;
    uint32_t m_key;
    struct vpn_gre_tunnel* m_gre;
    struct vpn_sa* m_outSa;
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
    TracedCallback<Ptr<const Packet>, const std::string&> m_dropTrace;
};

} // namespace ns3

#endif
