/*
 * Builds GET VPN routers from their IOS configuration. Give a node the
 * text a router would have and the ns-3 devices its interfaces are:
 *   - a key server: `crypto isakmp policy/key`, `crypto ipsec
 *     transform-set/profile`, the ACLs, `crypto gdoi group NAME` with
 *     `identity number`, `server local` (rekey algorithm, lifetime,
 *     retransmit, authentication, address for multicast rekeys, `sa ipsec
 *     N` with profile, match address and replay window, `address ipv4`,
 *     `redundancy` with `local priority` and `peer address ipv4`);
 *   - a group member: `crypto gdoi group NAME` with `identity number` and
 *     `server address ipv4` (repeatable), `crypto map NAME N gdoi` with
 *     `set group`, and `crypto map NAME` on its WAN interface;
 *   - interfaces with `ip address` and `ip route` lines on both.
 * The helper gives each configured interface's device its address (a
 * device that already has an IPv4 interface, as MplsProviderHelper gives
 * its CEs, has that interface set down and emptied first: ns-3 cannot move
 * an interface to another device), wraps the crypto-map
 * interface's device in a VpnCryptoMapNetDevice first, adds the static
 * routes, and installs a GdoiDaemon with the node's groups (translated by
 * the C core, gdoi/gdoi-conf.h). A configuration error returns
 * "HOST line N: reason" and leaves the node untouched.
 *
 * The rekey RSA key pair is outside IOS configuration (`crypto key
 * generate rsa`): by default every key server gets the same built-in
 * simulation key (so the same seed gives byte-identical traces and COOP
 * key servers share it, as IOS requires); SetRekeyKeyPem replaces it.
 */
#ifndef GETVPN_HELPER_H
#define GETVPN_HELPER_H

#include "ns3/gdoi-daemon.h"
#include "ns3/net-device.h"
#include "ns3/node-container.h"
#include "ns3/node.h"
#include "ns3/object-factory.h"
#include "ns3/nstime.h"
#include "ns3/ptr.h"
#include "ns3/vpn-crypto-map-net-device.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

struct vpn_sig_key;

namespace ns3
{

/**
 * \ingroup vpn
 * \brief Configures nodes as GET VPN key servers and group members from IOS text.
 */
class GetVpnHelper
{
  public:
    GetVpnHelper();

    /** Uses this PEM key pair to sign rekeys. Returns "" or the reason it was refused. */
    std::string SetRekeyKeyPem(const std::string& pem);

    /** Group members installed from now on start registering at \p t (default 1 s). */
    void SetRegistrationStart(Time t);

    /**
     * Key servers installed from now on announce RFC 6407 5.5 GAP delays
     * when their configuration gives none (IOS has no command for them):
     * members keep sending on the old TEK for \p activation after a rekey,
     * so every member holds the new TEK before traffic arrives on it, and
     * keep the old TEK inbound for \p deactivation. Default: none (members
     * switch at once), as before; vpnd's key server uses 2 s and 30 s.
     */
    void SetGapDelays(Time activation, Time deactivation);

    /**
     * Configures \p node from \p iosConfig; \p interfaces maps the
     * configuration's interface names ("GigabitEthernet0/0") to the node's
     * devices. Returns "" on success, else "HOST line N: reason" (nothing
     * is installed then). The daemon starts at time 0 unless its Start
     * time is changed (GetDaemon).
     */
    std::string Install(Ptr<Node> node,
                        const std::string& iosConfig,
                        const std::map<std::string, Ptr<NetDevice>>& interfaces);

    /** The daemon installed on \p node, or nullptr. */
    Ptr<GdoiDaemon> GetDaemon(Ptr<Node> node) const;
    /** The crypto-map device installed on \p node, or nullptr. */
    Ptr<VpnCryptoMapNetDevice> GetCryptoMap(Ptr<Node> node) const;
    /** Every daemon installed, in installation order. */
    const std::vector<Ptr<GdoiDaemon>>& GetDaemons() const;

    // ---- ns-3 helper shape (ObjectFactory attributes, containers, streams) ----

    /** An attribute of every GdoiDaemon created from now on. */
    void SetAttribute(const std::string& name, const AttributeValue& value);
    /** An attribute of every VpnCryptoMapNetDevice created from now on (e.g. "Mtu"). */
    void SetDeviceAttribute(const std::string& name, const AttributeValue& value);

    /**
     * Install for each node of \p nodes with the configuration and interface
     * map of the same index. "" on success, else the first refusal (nodes
     * before it are installed).
     */
    std::string Install(const NodeContainer& nodes,
                        const std::vector<std::string>& iosConfigs,
                        const std::vector<std::map<std::string, Ptr<NetDevice>>>& interfaces);

    /**
     * Gives each node of \p c its own DRBG stream, \p stream upwards (see
     * VpnNodeEngine::AssignStreams): TEK/KEK SPIs and keys, cookies and
     * nonces then follow RngSeed/RngRun and these numbers. Call before the
     * simulation runs (the daemons draw from the stream when they start).
     * Returns the number of streams used (one per node).
     */
    int64_t AssignStreams(NodeContainer c, int64_t stream);

  private:
    ObjectFactory m_daemonFactory; //!< GdoiDaemon
    ObjectFactory m_deviceFactory; //!< VpnCryptoMapNetDevice
    std::shared_ptr<struct vpn_sig_key> m_key;
    Time m_regStart;
    Time m_gapActivation;   //!< SetGapDelays (zero: none)
    Time m_gapDeactivation; //!< SetGapDelays (zero: none)
    std::map<uint32_t, Ptr<GdoiDaemon>> m_daemons;
    std::map<uint32_t, Ptr<VpnCryptoMapNetDevice>> m_maps;
    std::vector<Ptr<GdoiDaemon>> m_all;
};

} // namespace ns3

#endif
