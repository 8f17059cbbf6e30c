/*
 * FlexVPN site to site with static routes: the first seed article. HUB1
 * and SPOKE1, a LAN behind each, a GRE tunnel between HUB1's WAN address
 * and SPOKE1's Loopback0 protected by IPsec (IKEv2 with pre-shared keys from
 * a keyring, a different key each way), static routes into the tunnel.
 * Configurations: scenarios/flexvpn-l2l-static/{HUB1,SPOKE1}.cfg.
 * Outputs and options: see FlexVpnSiteToSite (examples/flexvpn-site-to-site.h)
 * and the README.
 */
#include "ns3/core-module.h"
#include "ns3/vpn-module.h"

#include "flexvpn-site-to-site.h"

#ifndef VPN_SOURCE_DIR
#define VPN_SOURCE_DIR "."
#endif

using namespace ns3;

int
main(int argc, char* argv[])
{
    FlexVpnSiteToSite scenario("flexvpn-l2l-static",
                               std::string(VPN_SOURCE_DIR) + "/scenarios/flexvpn-l2l-static");
    CommandLine cmd(__FILE__);
    scenario.AddOptions(cmd);
    cmd.Parse(argc, argv);
    if (!VpnMpi::SerialOnly("flexvpn-l2l-static"))
    {
        return 2;
    }
    return scenario.Run();
}
