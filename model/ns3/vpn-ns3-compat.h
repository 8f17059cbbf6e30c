/*
 * The few ns-3 APIs that changed between the releases the module supports
 * (Debian's 3.37 through 3.48), in one place. The build passes the ns-3
 * minor version as VPN_NS3_MINOR (CMake: from ns-3's VERSION file in-tree,
 * from find_package(ns3) standalone); without it the oldest supported
 * release is assumed. Everything else in the module is written to the API
 * common to all of them (e.g. TestSuite/AddTestCase use their defaults,
 * which are UNIT and QUICK on every version).
 */
#ifndef VPN_NS3_COMPAT_H
#define VPN_NS3_COMPAT_H

#include "ns3/enum.h"
#include "ns3/inet-socket-address.h"
#include "ns3/socket.h"
#include "ns3/uinteger.h"

#include <string>
#include <type_traits>
#include <utility>

#ifndef VPN_NS3_MINOR
#define VPN_NS3_MINOR 37
#endif

namespace ns3
{
namespace vpncompat
{

/**
 * MakeEnumAccessor for a member of enum type E: since 3.41 the enum type is
 * a template argument (EnumValue<T>), which 3.37 does not accept.
 */
template <typename E, typename A>
Ptr<const AttributeAccessor>
MakeEnumAccessor(A member)
{
#if VPN_NS3_MINOR >= 41
    return ns3::MakeEnumAccessor<E>(member);
#else
    return ns3::MakeEnumAccessor(member);
#endif
}

/** The same for an enum attribute read and written through a getter and a setter. */
template <typename E, typename A1, typename A2>
Ptr<const AttributeAccessor>
MakeEnumAccessor(A1 a1, A2 a2)
{
#if VPN_NS3_MINOR >= 41
    return ns3::MakeEnumAccessor<E>(a1, a2);
#else
    return ns3::MakeEnumAccessor(a1, a2);
#endif
}

/**
 * The argument type of a CommandLine::AddValue callback: std::string up to
 * 3.37, const std::string& since 3.38.
 */
#if VPN_NS3_MINOR >= 38
using CommandLineArg = const std::string&;
#else
using CommandLineArg = std::string;
#endif

/**
 * How Ipv4RoutingProtocol::RouteInput takes its four callbacks, for an
 * override to match: by value up to 3.38, by const reference since 3.39.
 * Write RouteInputCb<UnicastForwardCallback> ucb.
 */
#if VPN_NS3_MINOR >= 39
template <typename C>
using RouteInputCb = const C&;
#else
template <typename C>
using RouteInputCb = C;
#endif

namespace detail
{
/** Whether the address type carries a TOS (InetSocketAddress::SetTos). */
template <typename A, typename = void>
struct HasSetTos : std::false_type
{
};

template <typename A>
struct HasSetTos<A, std::void_t<decltype(std::declval<A&>().SetTos(uint8_t{}))>> : std::true_type
{
};
} // namespace detail

/**
 * Marks what \p socket sends to \p to with the IP TOS byte \p tos; returns
 * the address to connect or send to. While InetSocketAddress has SetTos
 * (3.37), UDP takes the TOS from the address and ignores Socket::SetIpTos;
 * later releases dropped it and use the socket's. Detected, not versioned.
 */
template <typename A>
A
WithTos(const Ptr<Socket>& socket, A to, uint8_t tos)
{
    if constexpr (detail::HasSetTos<A>::value)
    {
        to.SetTos(tos);
    }
    else
    {
        socket->SetIpTos(tos);
    }
    return to;
}

/**
 * The same for the application a helper installs (e.g. BulkSendHelper):
 * the address's TOS, or else the application's "Tos" attribute.
 */
template <typename H, typename A>
A
AppWithTos(H& helper, A to, uint8_t tos)
{
    if constexpr (detail::HasSetTos<A>::value)
    {
        to.SetTos(tos);
    }
    else
    {
        helper.SetAttribute("Tos", UintegerValue(tos));
    }
    return to;
}

} // namespace vpncompat
} // namespace ns3

#endif /* VPN_NS3_COMPAT_H */
