/*
 * Traces people can open in Wireshark: pcaps of tunnel interfaces (inner
 * packets, raw IP) and the key file that lets Wireshark decrypt the ESP on
 * the WAN captures: <out>/wireshark/esp_sa, one line per SA and direction
 * for every SA ever created (rekeyed ones included), so that
 *   XDG_CONFIG_HOME=<out> tshark -o esp.enable_encryption_decode:TRUE -r <pcap>
 * decrypts everything.
 */
#ifndef VPN_TRACE_HELPER_H
#define VPN_TRACE_HELPER_H

#include "ns3/node-container.h"
#include "ns3/ptr.h"
#include "ns3/nstime.h"
#include "ns3/simple-ref-count.h"

#include <set>
#include <string>
#include <vector>

struct vpn_sa;

namespace ns3
{

class VpnTunnelNetDevice;
class Ikev2Daemon;
class GdoiDaemon;
class VpnCryptoMapNetDevice;

/**
 * \ingroup vpn
 * \brief Pcaps of tunnel interfaces and Wireshark key files in one folder.
 */
class VpnTraceHelper
{
  public:
    /** All files go under \p outDir (created if missing). */
    explicit VpnTraceHelper(const std::string& outDir);

    const std::string& GetOutputDirectory() const;

    /** Writes the inner packets of a tunnel to <out>/<name>.pcap (link type raw IP). */
    void EnableTunnelPcap(const std::string& name, Ptr<VpnTunnelNetDevice> tunnel) const;

    /**
     * Exports the keys of every SA the nodes create from now on to
     * <out>/wireshark/esp_sa (each SA once, however many nodes hold it).
     */
    void EnableKeyExport(NodeContainer nodes);

    /**
     * Writes <out>/wireshark/ikev2_decryption_table with the keys of every
     * IKE SA the daemons established (rekeyed ones included); call after
     * the simulation ran. Returns the number of lines.
     */
    size_t WriteIkeKeys(const std::vector<Ptr<Ikev2Daemon>>& daemons) const;

    /**
     * Writes the daemon's `show crypto ...` views to <out>/<file> at
     * simulated time \p at (IKEv2 SAs with detail, sessions, IPsec SAs).
     */
    void ScheduleShowSnapshot(Ptr<Ikev2Daemon> daemon, const std::string& file, Time at) const;

    /**
     * GET VPN: every TEK the daemons' group members install from now on
     * goes to <out>/wireshark/esp_sa (group SAs, "*" addresses, one line
     * per TEK, rekeyed ones included), and <out>/wireshark/decode_as_entries
     * makes Wireshark read UDP 848 as ISAKMP.
     */
    void EnableGetVpnKeyExport(const std::vector<Ptr<GdoiDaemon>>& daemons);

    /**
     * Writes <out>/wireshark/ikev1_decryption_table with every phase 1 the
     * daemons established; call after the simulation ran. Returns the
     * number of lines.
     */
    size_t WriteIkev1Keys(const std::vector<Ptr<GdoiDaemon>>& daemons) const;

    /**
     * Writes the GDOI datagrams \p daemon sends to <out>/gdoi-<name>.pcap
     * (as sent) and <out>/gdoi-<name>.plain.pcap (the engines' decrypted
     * view of the same datagrams: Wireshark cannot decrypt KEK-protected
     * rekeys), raw IPv4 with UDP 848.
     */
    void EnableGdoiPcap(const std::string& name, Ptr<GdoiDaemon> daemon) const;

    /**
     * The decrypted view of what Wireshark cannot decrypt: <out>/<name>.plain.pcap
     * (raw IP) holds the inner packet of every ESP packet \p node sends or
     * receives under an SA whose algorithms the installed Wireshark cannot
     * decrypt (ChaCha20-Poly1305; the core decides, ipsec/wskeys.h), in
     * place of the esp_sa line such an SA does not get, and
     * <out>/<name>.ike.plain.pcap (raw IP) every encrypted IKEv2 message it
     * sends or receives under such an IKE SA, unencrypted (the SK
     * payload's inner payloads in its place) in an IP/UDP datagram. Empty
     * when every SA is readable with the key files.
     */
    void EnablePlainPcap(const std::string& name, Ptr<Node> node) const;

    /** The clear side of a crypto map to <out>/<name>.pcap (raw IP). */
    void EnableCryptoMapPcap(const std::string& name, Ptr<VpnCryptoMapNetDevice> map) const;

    /**
     * Writes the daemon's GET VPN views to <out>/<file> at \p at: show
     * crypto gdoi, ks members, ks coop, gm, show crypto ipsec sa.
     */
    void ScheduleShowSnapshot(Ptr<GdoiDaemon> daemon, const std::string& file, Time at) const;

    /** Number of esp_sa lines written so far. */
    size_t GetKeyLinesWritten() const;

  private:
    struct KeyFile : public SimpleRefCount<KeyFile>
    {
        std::string path;
        std::set<std::string> lines;
    };
    static void KeyLine(Ptr<KeyFile> file, std::string table, std::string line);
    void EnsureKeyFile();

    std::string m_outDir;
    Ptr<KeyFile> m_keys;
};

} // namespace ns3

#endif
