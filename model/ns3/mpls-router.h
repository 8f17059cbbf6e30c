/*
 * An MPLS label switching router (PE or P) as an ns-3 node: the forwarding
 * is the C core's (model/core/mpls/); this object only moves frames between
 * the node's NetDevices and that core.
 *
 * Core interfaces (PE-P, P-P) are Ethernet (CsmaNetDevice): frames arrive
 * under EtherType 0x8847 through a protocol handler registered for that
 * device, and leave with NetDevice::Send to the neighbour's MAC address,
 * which the helper registers per (interface, next-hop address). CE-facing
 * interfaces carry plain IPv4 (0x0800), typically point-to-point. The node
 * needs no ns-3 IPv4 stack: the provider's addresses live in the core's
 * tables (next hops, loopbacks), as a provider router's control plane
 * would keep them.
 */
#ifndef MPLS_ROUTER_H
#define MPLS_ROUTER_H

#include "ns3/address.h"
#include "ns3/ipv4-address.h"
#include "ns3/net-device.h"
#include "ns3/node.h"
#include "ns3/object.h"
#include "ns3/packet.h"
#include "ns3/traced-callback.h"

#include <cstdint>
#include <map>
#include <string>
#include <utility>

// The C core's router, opaque to users of this header.
struct vpn_mpls_router;
struct vpn_addr;

namespace ns3
{

/**
 * \ingroup vpn
 * \brief A PE or P router whose MPLS and VRF forwarding runs in the C core.
 */
class MplsRouter : public Object
{
  public:
    /** RFC 3443 TTL models. */
    enum TtlMode
    {
        TTL_UNIFORM = 0, //!< IP TTL copied into the labels and back
        TTL_PIPE = 1,    //!< labels start at 255; the IP TTL counts the PEs only (short pipe)
    };

    static TypeId GetTypeId();

    MplsRouter();
    ~MplsRouter() override;

    /**
     * Creates the C router for \p node (and aggregates this object to it).
     * \p name appears in show output; \p loopback is the router id.
     */
    void Setup(Ptr<Node> node, const std::string& name, Ipv4Address loopback, TtlMode ttlMode);

    /** A core interface (Ethernet, labelled frames); \p name for show output. */
    void AddCoreInterface(Ptr<NetDevice> dev, const std::string& name);
    /** A CE-facing interface carrying plain IPv4, in VRF \p vrf. */
    void AddCeInterface(Ptr<NetDevice> dev, const std::string& name, const std::string& vrf);
    /** The link address of neighbour \p nextHop behind \p dev. */
    void AddNeighbor(Ptr<NetDevice> dev, Ipv4Address nextHop, const Address& mac);

    /** The C router, for the helper that fills its tables. */
    struct vpn_mpls_router* GetCore() const;
    std::string GetRouterName() const;
    Ipv4Address GetLoopback() const;

    /** `show mpls forwarding-table` (IOS layout). */
    std::string ShowForwardingTable() const;

    /** Packets dropped for reason \p reason (vpn_mpls_drop), or all if > count. */
    uint64_t GetDrops(uint32_t reason) const;
    /** Labelled packets sent. */
    uint64_t GetTxLabelled() const;
    /** Plain IPv4 packets sent (to CEs). */
    uint64_t GetTxIp() const;

    /** Signature of the Drop trace: the packet as received, the VPN_ERR_* code. */
    typedef void (*DropTracedCallback)(Ptr<const Packet> packet, int err);

  protected:
    void DoDispose() override;

  private:
    void Receive(Ptr<NetDevice> dev,
                 Ptr<const Packet> packet,
                 uint16_t protocol,
                 const Address& from,
                 const Address& to,
                 NetDevice::PacketType type);
    static void EmitThunk(void* ctx,
                          int outIf,
                          const struct vpn_addr* nextHop,
                          uint16_t ethertype,
                          const uint8_t* data,
                          size_t len);
    void Emit(int outIf, Ipv4Address nextHop, uint16_t ethertype, const uint8_t* data, size_t len);

    Ptr<Node> m_node;
    std::string m_name;
    Ipv4Address m_loopback;
    struct vpn_mpls_router* m_core;
    std::map<std::pair<uint32_t, uint32_t>, Address> m_neighbors; //!< (ifindex, next hop) -> MAC
    Ptr<const Packet> m_current; //!< the packet being forwarded (its tags go on every copy)
    TracedCallback<Ptr<const Packet>, int> m_dropTrace;
    TracedCallback<Ptr<const Packet>, uint32_t> m_txTrace;
};

} // namespace ns3

#endif
