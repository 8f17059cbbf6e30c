#include "vpn-packet-util.h"

#include "ns3/tag.h"

#include <algorithm>
#include <memory>
#include <unordered_map>

namespace ns3
{

namespace
{

// One scratch instance per tag type, made once: a tag is copied through its
// serialized form (GetTag deserializes into the scratch, Add*Tag serializes
// it again), so reusing the instance carries nothing from one copy to the
// next, and the per-packet constructor call, dynamic_cast and delete of the
// tag go (they were a few percent of a 1,000-spoke hub's run).
Tag*
Scratch(TypeId tid)
{
    static std::unordered_map<uint32_t, std::unique_ptr<Tag>> scratch;
    auto it = scratch.find(tid.GetUid());
    if (it != scratch.end())
    {
        return it->second.get();
    }
    Callback<ObjectBase*> make = tid.GetConstructor();
    ObjectBase* obj = make();
    Tag* tag = dynamic_cast<Tag*>(obj);
    if (!tag)
    {
        delete obj;
    }
    // a type that is no Tag is remembered as such (nullptr)
    return scratch.emplace(tid.GetUid(), std::unique_ptr<Tag>(tag)).first->second.get();
}

} // namespace

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
        if (Tag* tag = Scratch(item.GetTypeId()))
        {
            item.GetTag(*tag);
            to->AddByteTag(*tag);
        }
    }
    PacketTagIterator packets = from->GetPacketTagIterator();
    while (packets.HasNext())
    {
        PacketTagIterator::Item item = packets.Next();
        if (Tag* tag = Scratch(item.GetTypeId()))
        {
            item.GetTag(*tag);
            to->ReplacePacketTag(*tag);
        }
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
