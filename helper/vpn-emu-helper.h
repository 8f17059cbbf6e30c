/*
 * Puts a simulated node on a real Linux interface (issue 22), so that a real
 * IKEv2 peer (strongSwan, vpnd) talks to a router this module simulates in
 * real time.
 *
 * Debian's EmuFdNetDeviceHelper and TapBridge exec helper programs from the
 * package's build path and abort; this helper opens the AF_PACKET socket
 * itself (promiscuous, ignoring the frames it sends) and hands it to an
 * FdNetDevice. It also owns what emulation needs besides the socket:
 *   - the interface must exist and be up (else a clear error, no abort);
 *   - transmit checksum offload must be off on the kernel side of the link
 *     (the kernel otherwise sends UDP with partial checksums, which ns-3 with
 *     ChecksumEnabled drops silently); it is switched off by ioctl (SIOCETHTOOL)
 *     on the interface and, for a veth whose other end lies in another network
 *     namespace, on that end too (SetPeer);
 *   - ARP request jitter 0 (ns-3 waits 0-10 ms before its first request);
 *   - the node's randomness from the operating system (VpnNodeEngine
 *     EntropySource Os): a real peer must not see the same SPIs, nonces and
 *     DH values on every run.
 */
#ifndef VPN_EMU_HELPER_H
#define VPN_EMU_HELPER_H

#include "ns3/callback.h"
#include "ns3/command-line.h"
#include "ns3/ipv4-address.h"
#include "ns3/mac48-address.h"
#include "ns3/net-device.h"
#include "ns3/node.h"
#include "ns3/nstime.h"
#include "ns3/ptr.h"
#include "ns3/vpn-report.h"

#include <chrono>
#include <cstdint>
#include <string>

namespace ns3
{

/**
 * \ingroup vpn
 * \brief Attaches simulated nodes to real interfaces (AF_PACKET + FdNetDevice).
 */
class VpnEmuHelper
{
  public:
    VpnEmuHelper();

    /**
     * Selects ns-3's real-time scheduler (hard limit \p hardLimit: a run
     * falling further behind the wall clock aborts; 0: never) and turns on
     * checksums (ChecksumEnabled), which frames from a real kernel need.
     * Call before creating nodes or scheduling anything.
     */
    static void EnableRealtime(Time hardLimit = Time(0));

    /** MAC address of the simulated interface (default: a fresh one). */
    void SetMac(Mac48Address mac);
    /**
     * The other end of the veth, when it lies in another network namespace
     * (\p netns as `ip netns` names it, "" for this one): its transmit
     * checksum offload is switched off too.
     */
    void SetPeer(const std::string& netns, const std::string& ifname);
    /** Whether Install switches the node's randomness to the OS (default true). */
    void SetOsEntropy(bool on);

    /**
     * What Install would refuse for \p ifname, without changing anything
     * but the offload settings: "" when usable, else "interface NAME: cause"
     * (does not exist, is not up, checksum offload cannot be switched off).
     */
    std::string Prepare(const std::string& ifname) const;

    /**
     * Attaches \p node to the real interface \p ifname: an FdNetDevice on an
     * AF_PACKET socket bound to it, the node's ARP jitter set to 0, the
     * node's entropy switched to the OS; with \p address (not 0.0.0.0) the
     * device gets that IPv4 address and mask (the node must have an
     * internet stack). Returns the device, or 0 with \p error set as
     * Prepare says (root or CAP_NET_RAW is needed for the socket).
     */
    Ptr<NetDevice> Install(Ptr<Node> node,
                           const std::string& ifname,
                           std::string& error,
                           Ipv4Address address = Ipv4Address::GetAny(),
                           Ipv4Mask mask = Ipv4Mask::GetZero()) const;

  private:
    Mac48Address m_mac;
    bool m_macSet;
    std::string m_peerNetns;
    std::string m_peerIf;
    bool m_osEntropy;
};


/**
 * \ingroup vpn
 * \brief Real-time lag of an emulation run: how far the wall clock ran ahead
 * of simulated time when an event every period ran.
 *
 * ns-3's real-time scheduler runs an event at its time or late, never early:
 * a growing lag means the simulation fell behind. Run also ends the run on
 * SIGINT/SIGTERM: the handlers only set a flag, which every sample checks.
 */
class VpnRealtimeLagMeter
{
  public:
    VpnRealtimeLagMeter();

    /**
     * \p cb runs at every sample, in the simulation's thread: where a
     * program acts on flags its own signal handlers set.
     */
    void SetOnSample(Callback<void> cb);

    /**
     * Installs the SIGINT/SIGTERM handlers, samples every \p period from now
     * and runs the simulation for \p duration (or until a signal).
     * \return the wall-clock seconds Simulator::Run took.
     */
    double Run(Time duration, Time period = MilliSeconds(1));

    double MeanMs() const;     //!< mean lag, ms (0 without samples)
    double MaxMs() const;      //!< largest lag, ms
    uint64_t Samples() const;  //!< samples taken
    bool Signalled() const;    //!< whether SIGINT/SIGTERM ended the run
    double WallSeconds() const; //!< what Run returned

  private:
    void Start();
    void Sample();

    Callback<void> m_onSample;
    Time m_period;
    std::chrono::steady_clock::time_point m_wall0;
    Time m_sim0;
    double m_sum;
    double m_max;
    uint64_t m_n;
    bool m_signalled;
    double m_wallSeconds;
};

/**
 * \ingroup vpn
 * \brief The command-line options of a program that puts one simulated
 * router on a real interface (the emulation examples), and what they set up.
 */
struct VpnEmuOptions
{
    std::string ifname{"vu"};            //!< --interface
    std::string peerNetns;               //!< --peerNetns
    std::string peerInterface;           //!< --peerInterface
    std::string out;                     //!< --out
    std::string wanAddress{"198.18.0.1"}; //!< --wanAddress (/24)
    std::string mac;                     //!< --mac
    double duration{60.0};               //!< --duration, wall-clock seconds
    bool osEntropy{true};                //!< --osEntropy (this program's default: on)
    double hardLimit{0.0};               //!< --hardLimit, seconds (0: never)

    /**
     * Adds the options above to \p cmd; \p router names the simulated router
     * on the wire (R1, P), \p peer what is on the other end (peer, member).
     */
    void AddValues(CommandLine& cmd, const std::string& router, const std::string& peer);

    /**
     * Attaches \p node to the real interface as VpnEmuHelper::Install does
     * (MAC, veth peer, entropy and address from the options, mask /24).
     * \return the device, or 0 with \p error set.
     */
    Ptr<NetDevice> Install(Ptr<Node> node, std::string& error) const;

    /** Writes what \p wan (Install's device) sends and receives to \p file (a pcap). */
    void EnablePcap(Ptr<NetDevice> wan, const std::string& file) const;

    /** Adds the interface, the entropy, the run's wall and simulated seconds and \p lag to \p report. */
    void AddToReport(VpnReport& report, const VpnRealtimeLagMeter& lag) const;

    /** Reads the whole of \p path into \p text; false when it cannot be read. */
    static bool ReadFile(const std::string& path, std::string& text);
};

} // namespace ns3

#endif
