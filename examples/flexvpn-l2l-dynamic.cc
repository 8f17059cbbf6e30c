/*
 * FlexVPN site to site with a routing protocol: the second seed article.
 * The same routers as flexvpn-l2l-static, but the LAN routes are learned
 * over the tunnel by RIPv2 (`router rip` with the LAN and tunnel networks);
 * the seed article runs EIGRP, which ns-3 does not have: RIP stands in.
 * routes-HUB1.txt and routes-SPOKE1.txt show the far LAN via Tunnel0.
 * Configurations: scenarios/flexvpn-l2l-dynamic/{HUB1,SPOKE1}.cfg.
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
    FlexVpnSiteToSite scenario("flexvpn-l2l-dynamic",
                               std::string(VPN_SOURCE_DIR) + "/scenarios/flexvpn-l2l-dynamic");
    CommandLine cmd(__FILE__);
    scenario.AddOptions(cmd);
    cmd.Parse(argc, argv);
    if (!VpnMpi::SerialOnly("flexvpn-l2l-dynamic"))
    {
        return 2;
    }
    return scenario.Run();
}
