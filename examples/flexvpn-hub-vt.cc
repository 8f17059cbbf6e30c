/*
 * FlexVPN hub with a virtual template (issue 14): a hub and N spokes
 * (--spokes=N) behind a provider router (PE), as flexvpn-hub-spoke and
 * dmvpn-phase3 lay them out, configured from IOS text by
 * FlexVpnHelper::InstallHubVirtualTemplate. The hub has ONE block of tunnel
 * configuration, `interface Virtual-Template1 type tunnel` with
 * `virtual-template 1` in its IKEv2 profile, and its router core clones a
 * Virtual-Access interface per authenticated spoke (one ns-3 device for all
 * of them). Spokes have a GRE/IPsec Tunnel0 to the hub with `ip nhrp
 * shortcut virtual-template 1` and route the summary 10.0.0.0/8 via the
 * hub.
 *
 *   HUB ==198.51.100.0/30== PE ==100.64.x.y/30== SPOKEi --10.i.0.0/24-- hostI
 *   HUB: Loopback0 172.16.0.1/32, Virtual-Template1 unnumbered Loopback0
 *   SPOKEi: Tunnel0 172.16.0.(i+1)/16 to the hub, Virtual-Template1 for spokes
 *
 * Traffic: voice (50 pps, 160 octets of payload) both ways between the
 * hosts of spokes 1 and 2, 3 and 4, ... The first packets go through the
 * hub; the hub (ip nhrp redirect on the template) sends a Traffic
 * Indication, the spokes resolve each other, bring up IKEv2 between them
 * (each cloning its own Virtual-Template1) and install the NHRP route;
 * traffic moves to the direct tunnel. The summary reports the clones and,
 * per spoke pair and direction, the time to the shortcut, the delays before
 * and after it and the packets lost.
 */
#include "nhrp-hub-scenario.h"

int
main(int argc, char* argv[])
{
    return ns3::RunNhrpHubScenario(argc, argv, __FILE__, "flexvpn-hub-vt", true);
}
