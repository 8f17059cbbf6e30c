/*
 * Moving packets across the C core boundary. The core works on contiguous
 * bytes, so a protected packet is a new ns-3 Packet; its tags (simulation
 * metadata such as FlowMonitor's probe tags, never on the wire) are carried
 * over so that measurements survive encryption as they survive any ns-3
 * tunnel.
 */
#ifndef VPN_PACKET_UTIL_H
#define VPN_PACKET_UTIL_H

#include "ns3/packet.h"
#include "ns3/ptr.h"

namespace ns3
{

/** Copies every byte tag (over the whole of \p to) and packet tag of \p from. */
void VpnCopyTags(Ptr<const Packet> from, Ptr<Packet> to);

} // namespace ns3

#endif
