/*
 * Manually keyed IPsec between two tunnel interfaces (RFC 4301 4.5 requires
 * manual keying beside IKE): one SA each way, SPIs and keys drawn from the
 * first node's deterministic random stream (so a seed and run give the same
 * keys), or given by the caller. Used where IKE is not the point of a
 * scenario, and as the fallback before IKEv2 brings SAs up itself.
 */
#ifndef VPN_MANUAL_KEY_HELPER_H
#define VPN_MANUAL_KEY_HELPER_H

#include "ns3/node-container.h"
#include "ns3/ptr.h"

#include <cstdint>
#include <string>

namespace ns3
{

class VpnTunnelNetDevice;

/**
 * \ingroup vpn
 * \brief Installs a manually keyed SA pair between two tunnel interfaces.
 */
class VpnManualKeyHelper
{
  public:
    VpnManualKeyHelper();

    /**
     * Selects the ESP transform in IOS transform-set words, e.g.
     * "esp-gcm 128", "esp-gcm 256", "esp-aes 256 esp-sha256-hmac".
     * Aborts the simulation with a clear message if the words are not a
     * valid transform set.
     */
    void SetTransform(const std::string& transformSet);

    /** Counter-based anti-replay window in packets (IOS default 64); 0 turns it off. */
    void SetReplayWindow(uint32_t packets);

    /**
     * Creates both SAs and makes them the tunnels' outbound SAs. The tunnels
     * must face each other (a's source is b's destination and vice versa).
     * The ESP mode follows the tunnel mode (GRE/IPsec: transport; VTI: tunnel).
     */
    void Install(Ptr<VpnTunnelNetDevice> a, Ptr<VpnTunnelNetDevice> b) const;

    /**
     * Gives each node of \p c its own DRBG stream, \p stream upwards (see
     * VpnNodeEngine::AssignStreams). Install draws the SPIs and keys at
     * once, from the node of its first tunnel: call this BEFORE Install.
     * Returns the number of streams used (one per node).
     */
    int64_t AssignStreams(NodeContainer c, int64_t stream);

  private:
    uint16_t m_encrId;
    uint16_t m_encrBits;
    uint16_t m_integId;
    uint32_t m_replayWindow;
};

} // namespace ns3

#endif
