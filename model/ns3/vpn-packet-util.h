/*
 * Moving packets across the C core boundary. The core works on contiguous
 * bytes, so a protected packet is a new ns-3 Packet; its tags (simulation
 * metadata such as FlowMonitor's probe tags, never on the wire) are carried
 * over so that measurements survive encryption as they survive any ns-3
 * tunnel.
 */
#ifndef VPN_PACKET_UTIL_H
#define VPN_PACKET_UTIL_H

#include "ns3/event-id.h"
#include "ns3/packet.h"
#include "ns3/ptr.h"

#include <vector>

namespace ns3
{

/**
 * Copies every byte tag (over the whole of \p to) and packet tag of \p from.
 * Returns whether \p to holds a packet tag afterwards (false: a
 * RemovePacketTag on it has nothing to find).
 */
bool VpnCopyTags(const Ptr<const Packet>& from, const Ptr<Packet>& to);

/**
 * Events that call into an object (show snapshots of VpnTraceHelper), held
 * so that the object's DoDispose can cancel them and none outlives it.
 */
class VpnTrackedEvents
{
  public:
    /** Holds \p event; forgets the ones that already ran. */
    void Add(EventId event);
    /** Cancels every held event and forgets them all. */
    void CancelAll();

  private:
    std::vector<EventId> m_events; //!< pending (or run, until the next Add)
};

} // namespace ns3

#endif
