#include "vpn-packet-util.h"

#include "ns3/tag.h"

#include <algorithm>

namespace ns3
{

void
VpnCopyTags(Ptr<const Packet> from, Ptr<Packet> to)
{
    if (!from || !to)
    {
        return;
    }
    ByteTagIterator bytes = from->GetByteTagIterator();
    while (bytes.HasNext())
    {
        ByteTagIterator::Item item = bytes.Next();
        Callback<ObjectBase*> make = item.GetTypeId().GetConstructor();
        Tag* tag = dynamic_cast<Tag*>(make());
        if (tag)
        {
            item.GetTag(*tag);
            to->AddByteTag(*tag);
        }
        delete tag;
    }
    PacketTagIterator packets = from->GetPacketTagIterator();
    while (packets.HasNext())
    {
        PacketTagIterator::Item item = packets.Next();
        Callback<ObjectBase*> make = item.GetTypeId().GetConstructor();
        Tag* tag = dynamic_cast<Tag*>(make());
        if (tag)
        {
            item.GetTag(*tag);
            to->ReplacePacketTag(*tag);
        }
        delete tag;
    }
}

void
VpnTrackedEvents::Add(EventId event)
{
    m_events.erase(std::remove_if(m_events.begin(),
                                  m_events.end(),
                                  [](const EventId& e) { return e.IsExpired(); }),
                   m_events.end());
    m_events.push_back(event);
}

void
VpnTrackedEvents::CancelAll()
{
    for (EventId& e : m_events)
    {
        e.Cancel();
    }
    m_events.clear();
}

} // namespace ns3
