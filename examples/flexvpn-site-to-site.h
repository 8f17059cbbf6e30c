/*
 * The seed articles' site-to-site scenario as a reusable piece:
 *
 *   hostA --LAN1 10.1.0.0/24-- HUB1 ==WAN 198.51.100.0/30== SPOKE1 --LAN2 10.2.0.0/24-- hostB
 *
 * HUB1 and SPOKE1 are configured from IOS text (HUB1.cfg, SPOKE1.cfg in a
 * folder), SPOKE1 initiates IKEv2, and once the tunnel is up a voice-like
 * UDP flow is echoed between the hosts. Everything goes into one output
 * folder: pcaps of the WAN, the LANs and HUB1's Tunnel0, Wireshark key
 * files, `show crypto ...` snapshots, the routing tables, the configurations
 * used, and summary.txt / summary.json. Examples flexvpn-l2l-static and
 * flexvpn-l2l-dynamic differ only in their configurations.
 */
#ifndef FLEXVPN_SITE_TO_SITE_H
#define FLEXVPN_SITE_TO_SITE_H

#include "ns3/command-line.h"

#include <cstdint>
#include <string>

namespace ns3
{

/**
 * \ingroup vpn
 * \brief HUB1 and SPOKE1 with a LAN each, joined by a FlexVPN tunnel.
 */
class FlexVpnSiteToSite
{
  public:
    /** \p name names the scenario; \p configDir holds HUB1.cfg and SPOKE1.cfg. */
    FlexVpnSiteToSite(const std::string& name, const std::string& configDir);

    /** Registers the scenario's options (--out, --configDir, --duration, ...). */
    void AddOptions(CommandLine& cmd);

    /** Builds, runs and reports; returns a process exit code (2: bad options). */
    int Run();

  private:
    std::string m_name;
    std::string m_out;
    std::string m_configDir;
    double m_duration;
    std::string m_wanDelay;
    std::string m_wanRate;
    uint32_t m_payload;
    double m_interval;
};

} // namespace ns3

#endif
