/*
 * A node's IPsec data plane in ns-3: the SAD of the C core, ESP reception
 * (a raw IPv4 socket for protocol 50) and transmission of the finished
 * outer packets that the core builds, header included.
 *
 * Endpoints (tunnel interfaces, crypto devices) add SAs here and receive
 * what their inbound SAs decapsulate. The protocol work (ESP, replay
 * windows, selectors) all happens in the C core; this class moves bytes.
 */
#ifndef VPN_IPSEC_STACK_H
#define VPN_IPSEC_STACK_H

#include "ns3/ipv4-address.h"
#include "ns3/object.h"
#include "ns3/ptr.h"
#include "ns3/traced-callback.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

struct vpn_sad;
struct vpn_sa;
struct vpn_sa_config;
struct vpn_esp_rx;

namespace ns3
{

class Node;
class Packet;
class Socket;

/**
 * \ingroup vpn
 * Something that owns SAs and takes the packets they decapsulate.
 */
class VpnEspEndpoint
{
  public:
    virtual ~VpnEspEndpoint() = default;
    /**
     * A packet that an inbound SA of this endpoint decapsulated: the inner
     * IP packet (tunnel modes) or the restored packet (transport mode).
     * The bytes are valid during the call only; \p carrier is the packet
     * as received (for its simulation tags).
     */
    virtual void EspDelivered(const uint8_t* data,
                              size_t len,
                              const struct vpn_sa* sa,
                              Ptr<const Packet> carrier) = 0;
};

/**
 * \ingroup vpn
 * \brief The node's SAD, ESP receive path and raw IP send path.
 */
class VpnIpsecStack : public Object
{
  public:
    static TypeId GetTypeId();

    VpnIpsecStack();
    ~VpnIpsecStack() override;

    /** The node's stack, created and aggregated on first use. */
    static Ptr<VpnIpsecStack> GetOrCreate(Ptr<Node> node);

    /** The SAD (created on first use, with an RNG forked from the node's). */
    struct vpn_sad* GetSad();

    /**
     * Adds an SA to the SAD. Packets its inbound side decapsulates go to
     * \p owner (which must call ForgetEndpoint before it goes away).
     * Returns 0 or a VPN_ERR_* code; \p out (optional) receives the SA.
     */
    int AddSa(const struct vpn_sa_config& cfg, VpnEspEndpoint* owner, struct vpn_sa** out);

    /** Removes an SA (its keys are wiped). Returns 0 or a VPN_ERR_* code. */
    int RemoveSa(struct vpn_sa* sa);

    /** Removes every SA owned by \p owner. */
    void ForgetEndpoint(VpnEspEndpoint* owner);

    /**
     * Sends a complete IPv4 packet built by the core (header included),
     * routed by its destination. Returns false if there is no route.
     */
    bool SendIpPacket(const uint8_t* data, size_t len, Ptr<const Packet> tagsFrom = nullptr);

    /**
     * ESP that arrived UDP-encapsulated (RFC 3948) on a socket of the
     * driver's: \p payload starts at the ESP header.
     */
    void ReceiveUdpEsp(Ptr<Packet> payload,
                       Ipv4Address src,
                       uint16_t sport,
                       Ipv4Address dst,
                       uint16_t dport);

    /** Signature of the SaAdded trace source. */
    typedef void (*SaTracedCallback)(const struct vpn_sa* sa);
    /** Signature of the Drop trace source: reason, SPI (0 if none). */
    typedef void (*DropTracedCallback)(const std::string& reason, uint32_t spi);

  protected:
    void DoDispose() override;
    void NotifyNewAggregate() override;

  private:
    void EnsureReceiver();
    void HandleEsp(Ptr<Socket> socket);
    void ProcessInbound(uint32_t len, Ptr<const Packet> carrier);
    void Deliver(const struct vpn_esp_rx& rx, const uint8_t* data, size_t len, Ptr<const Packet> carrier);
    static void DropThunk(void* user, const struct vpn_sa* sa, uint32_t spi, const char* reason,
                          int err);

    Ptr<Node> m_node;
    struct Core;
    Core* m_core;
    Ptr<Socket> m_espSocket;
    std::map<const struct vpn_sa*, VpnEspEndpoint*> m_owner;
    std::vector<uint8_t> m_rxBuf;
    TracedCallback<const struct vpn_sa*> m_saAddedTrace;
    TracedCallback<const std::string&, uint32_t> m_dropTrace;
};

} // namespace ns3

#endif
