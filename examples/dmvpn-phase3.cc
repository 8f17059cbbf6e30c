/*
 * DMVPN phase 3: a hub and N spokes (--spokes=N) behind a provider router
 * (PE), every router with ONE multipoint GRE tunnel (Tunnel0, NHRP, IKEv2
 * and an IPsec SA per peer), configured from IOS text by
 * FlexVpnHelper::InstallDmvpn. Spokes route the summary 10.0.0.0/8 via the
 * hub's tunnel address.
 *
 *   HUB ==198.51.100.0/30== PE ==100.64.x.y/30== SPOKEi --10.i.0.0/24-- hostI
 *   Tunnel0 everywhere, 172.16.0.0/16: the hub .0.1, spoke i the i-th after
 *
 * Traffic: voice (50 pps, 160 octets of payload) both ways between the
 * hosts of spokes 1 and 2, 3 and 4, ... The first packets go through the
 * hub; the hub redirects (NHRP Traffic Indication), the spokes resolve each
 * other, bring up IKEv2 between them and install the NHRP route; traffic
 * moves to the direct tunnel. The summary reports, per spoke pair and
 * direction, the time from the first packet to the shortcut, the mean
 * delay before and after it, and the packets lost.
 */
#include "nhrp-hub-scenario.h"

int
main(int argc, char* argv[])
{
    return ns3::RunNhrpHubScenario(argc, argv, __FILE__, "dmvpn-phase3", false);
}
