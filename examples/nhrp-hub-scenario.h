/*
 * The scenario dmvpn-phase3 and flexvpn-hub-vt share: a hub and N spokes
 * (--spokes=N) behind a provider router (PE), configured from IOS text by
 * FlexVpnHelper::InstallDmvpn (one multipoint Tunnel0 everywhere) or
 * InstallHubVirtualTemplate (the hub's Virtual-Template1, spokes' GRE
 * Tunnel0 with `ip nhrp shortcut virtual-template 1`).
 *
 *   HUB ==198.51.100.0/30== PE ==100.64.x.y/30== SPOKEi --10.i.0.0/24-- hostI
 *
 * Voice (50 pps, 160 octets of payload) both ways between the hosts of
 * spokes 1 and 2, 3 and 4, ... goes through the hub first, then on the
 * NHRP shortcut. Writes the configurations, `show` views, WAN captures and
 * summary.txt / summary.json (per spoke pair and direction: the time to the
 * shortcut, the delays before and after it, the packets lost) into --out.
 */
#ifndef NHRP_HUB_SCENARIO_H
#define NHRP_HUB_SCENARIO_H

#include <string>

namespace ns3
{

/**
 * Parses the options (--out defaults to out/NAME), builds, runs and reports;
 * \p file names the example in --help. Returns a process exit code (2:
 * bad options).
 */
int RunNhrpHubScenario(int argc, char* argv[], const char* file, const std::string& name, bool virtualTemplate);

} // namespace ns3

#endif
