/*
 * A crypto map on a WAN interface (IOS `interface X / crypto map NAME`),
 * as a bump in the wire: a NetDevice that wraps the WAN NetDevice. The
 * node's IPv4 interface sits on this device; what IPv4 sends through it
 * goes through the node's router's crypto map (VpnIpsecStack, C core
 * vpn_router_cryptomap_output / _input over the groups GdoiDaemon gave it)
 * and then to the wrapped device, encrypted or in clear;
 * what the wrapped device receives goes through the data plane before the
 * IPv4 stack sees it. So the wrapped device's pcap shows the WAN as the
 * provider sees it (ESP with the hosts' addresses), and this device's
 * Sniffer trace the clear packets.
 *
 * Why a wrapper: ns-3 3.37 has no IPv4 netfilter hooks, and a queue disc
 * sees outbound packets only (and without their IP header), so the one
 * place that sees both directions of a given interface with whole IP
 * packets is the device below IPv4.
 *
 * Limits: the wrapped device's channel has no IPv4 interface on its own
 * device, so Ipv4GlobalRoutingHelper cannot see links through a wrapper;
 * use static routes (or a helper that computes routes) on those links.
 * Non-IPv4 frames (ARP on a CSMA WAN) pass unchanged.
 */
#ifndef VPN_CRYPTO_MAP_NET_DEVICE_H
#define VPN_CRYPTO_MAP_NET_DEVICE_H

#include "ns3/net-device.h"
#include "ns3/traced-callback.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ns3
{

class GdoiDaemon;

/**
 * \ingroup vpn
 * \brief Bump-in-the-wire device applying a GET VPN crypto map to a WAN device.
 */
class VpnCryptoMapNetDevice : public NetDevice
{
  public:
    static TypeId GetTypeId();
    VpnCryptoMapNetDevice();
    ~VpnCryptoMapNetDevice() override;

    /**
     * Wraps \p inner (already added to the node): its received frames come
     * here from now on.
     */
    void SetInnerDevice(Ptr<NetDevice> inner);
    Ptr<NetDevice> GetInnerDevice() const;
    /** The daemon whose groups the crypto map uses (its node's router, once it runs). */
    void SetDaemon(Ptr<GdoiDaemon> daemon);

    /** Packets encrypted / decrypted / passed in clear / dropped. */
    uint64_t GetPacketsEncrypted() const;
    uint64_t GetPacketsDecrypted() const;
    uint64_t GetPacketsClear() const;
    uint64_t GetPacketsDropped() const;

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

    /** Signature of the Drop trace: the packet and the reason. */
    typedef void (*DropTracedCallback)(Ptr<const Packet> packet, const std::string& reason);

  protected:
    void DoDispose() override;

  private:
    /** To the wrapped device, through its service-policy (MqcQueueDisc) when it has one. */
    bool SendInner(Ptr<Packet> packet, const Address& dest, uint16_t protocolNumber);
    bool FromInner(Ptr<NetDevice> device,
                   Ptr<const Packet> packet,
                   uint16_t protocol,
                   const Address& from);
    void Drop(Ptr<const Packet> packet, int why);
    /** Makes m_buf hold an IP packet of \p len octets with room; false if too big. */
    bool Work(uint32_t len);

    Ptr<Node> m_node;
    Ptr<NetDevice> m_inner;
    Ptr<GdoiDaemon> m_daemon;
    uint32_t m_ifIndex;
    uint16_t m_mtu; //!< 0: the wrapped device's less the ESP overhead
    std::vector<uint8_t> m_buf; //!< work buffer, grown on demand (Work)
    NetDevice::ReceiveCallback m_rxCallback;
    NetDevice::PromiscReceiveCallback m_promiscCallback;
    uint64_t m_encrypted;
    uint64_t m_decrypted;
    uint64_t m_clear;
    uint64_t m_dropped;

    TracedCallback<Ptr<const Packet>> m_snifferTrace; //!< clear IP packets, both ways
    TracedCallback<Ptr<const Packet>, const std::string&> m_dropTrace;
};

} // namespace ns3

#endif
