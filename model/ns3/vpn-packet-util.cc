#include "vpn-packet-util.h"

#include "ns3/tag.h"

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
    uint32_t uid = tid.GetUid();
    static std::unordered_map<uint32_t, std::unique_ptr<Tag>> scratch;
    // the type of the last call: a run carries the same one or two tag types
    // on every packet, so most calls end here without a hash lookup
    static uint32_t lastUid = 0; // 0 is no TypeId's uid
    static Tag* lastTag = nullptr;
    if (uid == lastUid)
    {
        return lastTag;
    }
    auto it = scratch.find(uid);
    if (it == scratch.end())
    {
        Callback<ObjectBase*> make = tid.GetConstructor();
        ObjectBase* obj = make();
        Tag* tag = dynamic_cast<Tag*>(obj);
        if (!tag)
        {
            delete obj;
        }
        // a type that is no Tag is remembered as such (nullptr)
        it = scratch.emplace(uid, std::unique_ptr<Tag>(tag)).first;
    }
    lastUid = uid;
    lastTag = it->second.get();
    return lastTag;
}

} // namespace

bool
VpnCopyTags(const Ptr<const Packet>& from, const Ptr<Packet>& to)
{
    if (!from || !to)
    {
        return to && to->GetPacketTagIterator().HasNext();
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
    bool fresh = !to->GetPacketTagIterator().HasNext();
    bool copied = false;
    // Replace = search the list, then Add when absent. A packet holds one
    // tag of a type at most (PacketTagList), so on a packet that had no
    // packet tags (one just made from the core's bytes: every caller's case)
    // each is absent: it is added without the search.
    while (packets.HasNext())
    {
        PacketTagIterator::Item item = packets.Next();
        Tag* tag = Scratch(item.GetTypeId());
        if (!tag)
        {
            continue;
        }
        item.GetTag(*tag);
        copied = true;
        if (fresh)
        {
            to->AddPacketTag(*tag);
        }
        else
        {
            to->ReplacePacketTag(*tag);
        }
    }
    return copied || !fresh;
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
