#include "vpn-packet-util.h"

#include "ns3/tag.h"

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

} // namespace ns3
