/*
 * The GET VPN vs FlexVPN vs DMVPN comparison (issue 13), one design per
 * run on one underlay: HQ (site 0) and N branches, each a CE router with a
 * LAN host, on an MPLS L3VPN provider (MplsProviderHelper: two P routers,
 * a PE per site); the GET VPN key server sits at HQ's PE. HQ's access link
 * carries its provider delay (hqDelay), so HQ can be far from the branches.
 *
 *   KS ==192.0.2.0/30== PE0 ==198.51.100.0/30 (hqDelay)== HQ --10.0.0.0/24-- host0
 *                        |   MPLS: PEk on P1 or P2, P1 - P2
 *                       PEk ==198.51.100.4k/30== BRANCHk --10.k.0.0/24-- hostk
 *
 * Designs, every router configured from IOS text through the existing
 * helpers, the same MQC policy (`service-policy output` on each CE's WAN):
 *   clear    no encryption (the baseline);
 *   getvpn   GetVpnHelper: group members on every CE, key server at HQ, any-to-any;
 *   flexvpn  FlexVpnHelper::InstallHubAndSpokes: HQ the hub, branch to branch
 *            through it (decrypted and re-encrypted), `qos pre-classify`;
 *   dmvpn    FlexVpnHelper::InstallDmvpn: phase 3, through the hub until the
 *            NHRP shortcut, then spoke to spoke.
 * Traffic: G.711 voice (RTP, EF) both ways between every pair of sites (a
 * warm-up second first, so DMVPN's shortcuts exist when measuring starts),
 * video (RTP, AF41) from each branch to HQ, and `load` bulk TCP flows from
 * each branch to HQ (best effort) filling the branch access links.
 *
 * The last branch joins late: its router's VPN starts (GET VPN: its
 * registration to the key server; FlexVPN, DMVPN: its IKEv2 daemon) at
 * lateJoin, when the others are up, and its first call, to BRANCH1, starts
 * then too. The join time is measured from events, not computed: the
 * first packet of that call leaving the new branch's host, to the first of
 * its packets that reached BRANCH1's CE encrypted and was delivered to
 * BRANCH1's host (what came over the provider in clear, as a GET VPN
 * member sends before it registers, does not count).
 *
 * GET VPN before registration: the member has no policy yet and forwards
 * in clear (IOS's default; IOS drops only with `fail-close`, not modelled);
 * registered members drop clear packets their policy covers
 * (getvpn/getvpn.c). Voice that left a CE in clear is counted
 * (voiceClearPackets), and what left one in clear after its router had
 * its first SA (voiceClearAfterSa: 0 unless something leaks).
 */
#ifndef GET_VS_FLEX_SCENARIO_H
#define GET_VS_FLEX_SCENARIO_H

#include "ns3/nstime.h"

#include <map>
#include <string>
#include <vector>

extern "C"
{
#include "qos/qos-metrics.h"
}

namespace ns3
{

/** \ingroup vpn The designs RunGetVsFlex knows, in table order. */
const std::vector<std::string>& GetVsFlexDesigns();

/** \ingroup vpn What to run; every field has a default. */
struct GetVsFlexParams
{
    std::string design{"getvpn"};   //!< clear | getvpn | flexvpn | dmvpn
    uint32_t branches{6};           //!< besides HQ (2..20)
    Time hqDelay{MilliSeconds(20)}; //!< HQ's access link (its provider delay)
    Time accessDelay{MilliSeconds(2)}; //!< each branch's access link
    Time coreDelay{MilliSeconds(5)};   //!< each MPLS core link
    std::string accessRate{"10Mbps"};  //!< branch access links
    std::string hqRate{"100Mbps"};     //!< HQ's access link
    uint32_t load{1};               //!< bulk TCP flows from each branch to HQ (0: unloaded)
    bool voice{true};               //!< voice between every pair of sites
    bool video{true};               //!< video from each branch to HQ
    /** A best-effort probe, "probe BRANCH1>HQ" (class BE): voice-sized RTP, DSCP 0, measured. */
    bool beProbe{false};
    /**
     * The CEs' MQC (class-maps, ACLs, policy-maps) whose policy-map
     * WAN-EDGE goes on each CE's WAN as `service-policy output`; "" = no
     * policy: the WAN device's own FIFO (100 packets).
     */
    std::string qos{DefaultQos()};
    /** `qos pre-classify` on FlexVPN and DMVPN tunnels. */
    bool preClassify{true};
    Time measureStart{Seconds(4)};  //!< measured voice and video start (warm-up from 1.5 s)
    /** When the last branch's VPN and its first call (to BRANCH1) start (before measureStart - 2.5 s). */
    Time lateJoin{Seconds(1)};
    Time duration{Seconds(3)};      //!< measured seconds
    /**
     * "" = no traces; else this design's folder: BRANCH1's and HQ's access
     * links (wan-BRANCH1.pcap, wan-HQ.pcap) and the Wireshark key files for
     * exactly this run's SAs (wireshark/esp_sa, ikev2_decryption_table,
     * ikev1_decryption_table, decode_as_entries), so that
     * XDG_CONFIG_HOME=<pcapDir> tshark -o esp.enable_encryption_decode:TRUE
     * decrypts them. Captured: everything until the bulk TCP starts (the
     * tunnels', GDOI's and IKE's setup, the warm-up calls), then only the
     * first pcapLoaded of the measured window (bulk TCP fills the links:
     * whole runs would be tens of MB).
     */
    std::string pcapDir;
    Time pcapLoaded{MilliSeconds(200)}; //!< of the measured window, in the pcaps

    /** LLQ for EF, a share for AF41, fair-queue for the rest. */
    static std::string DefaultQos();
};

/** \ingroup vpn One measured flow. */
struct GetVsFlexFlow
{
    std::string name; //!< "voice BRANCH1>BRANCH2", "video BRANCH1>HQ"
    std::string cls;  //!< EF, AF41, BE (the probe)
    std::string codec; //!< "G.711" for voice
    uint32_t from, to; //!< sites (0 = HQ)
    vpn_qos_summary sum;
    std::vector<double> delaysMs; //!< sorted
};

/** \ingroup vpn What one design gave. */
struct GetVsFlexResult
{
    std::string design;
    std::vector<GetVsFlexFlow> flows;
    double warmupB2bMaxMs{0};   //!< the warm-up second's worst branch-to-branch voice delay
    uint32_t sasHq{0}, sasBranch{0};       //!< IPsec SAs at HQ's and BRANCH1's router
    uint32_t ikeSasHq{0}, ikeSasBranch{0}; //!< IKE SAs (FlexVPN, DMVPN)
    uint32_t tunnelsHq{0}, tunnelsBranch{0}; //!< tunnel interfaces
    uint64_t controlPackets{0}, controlBytes{0}; //!< IKE (UDP 500/4500) and GDOI (848) on every router's WAN
    uint64_t nhrpMessages{0};   //!< NHRP sent by every router (inside the protected GRE)
    uint64_t voicePackets{0};   //!< EF packets leaving BRANCH1's CE
    double voiceWireBytes{0};   //!< their mean IP size there
    double voiceClearBytes{0};  //!< the same voice packet unencrypted (IP, UDP, RTP, payload)
    double bulkGoodputBps{0};   //!< TCP goodput into HQ over the measured window
    /**
     * The late branch's join, in ms from its first call's first packet
     * (sent by its host): to the first packet of that call delivered to
     * BRANCH1's host that reached BRANCH1's CE encrypted (clear design:
     * the first delivered); -1 if none.
     */
    double joinSetupMs{-1};
    /** To its router's first SA (GET VPN: its first TEK, i.e. registered; FlexVPN, DMVPN: its first CHILD_SA); -1 if none. */
    double joinSaMs{-1};
    uint32_t joinClearDelivered{0}; //!< encrypted designs: that call's packets delivered after crossing the provider in clear
    uint64_t voiceClearPackets{0};  //!< voice packets that left a CE's WAN in clear (encrypted designs)
    uint64_t voiceClearAfterSa{0};  //!< of those, sent after that router's first SA (GET VPN: registered)
    std::map<std::string, std::string> configs; //!< router name -> IOS text used
};

/** Builds, runs and tears down one simulation (aborts on a configuration error). */
GetVsFlexResult RunGetVsFlex(const GetVsFlexParams& p);

} // namespace ns3

#endif
