#include "vpn-trace-helper.h"

#include "ns3/abort.h"
#include "ns3/ikev2-daemon.h"
#include "ns3/callback.h"
#include "ns3/log.h"
#include "ns3/node.h"
#include "ns3/pcap-file-wrapper.h"
#include "ns3/packet.h"
#include "ns3/simulator.h"
#include "ns3/system-path.h"
#include "ns3/trace-helper.h"
#include "ns3/vpn-ipsec-stack.h"
#include "ns3/vpn-tunnel-net-device.h"

#include <fstream>

extern "C" {
#include "ipsec/sa.h"
#include "ipsec/wskeys.h"
#include "common/vpn-err.h"
}

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("VpnTraceHelper");

VpnTraceHelper::VpnTraceHelper(const std::string& outDir)
    : m_outDir(outDir)
{
    SystemPath::MakeDirectories(m_outDir);
}

const std::string&
VpnTraceHelper::GetOutputDirectory() const
{
    return m_outDir;
}

static void
WriteRaw(Ptr<PcapFileWrapper> file, Ptr<const Packet> packet)
{
    file->Write(Simulator::Now(), packet);
}

void
VpnTraceHelper::EnableTunnelPcap(const std::string& name, Ptr<VpnTunnelNetDevice> tunnel) const
{
    PcapHelper pcap;
    Ptr<PcapFileWrapper> file =
        pcap.CreateFile(m_outDir + "/" + name + ".pcap", std::ios::out, PcapHelper::DLT_RAW);
    tunnel->TraceConnectWithoutContext("Sniffer", MakeBoundCallback(&WriteRaw, file));
}

void
VpnTraceHelper::SaAdded(Ptr<KeyFile> file, const vpn_sa* sa)
{
    const vpn_sa_config* cfg = vpn_sa_get_config(sa);
    char line[512];
    // An SA's line names traffic as it travels: write it for the direction
    // the SA was created for (inbound SAs describe the peer's sending).
    unsigned dir = (cfg->dir & VPN_SA_OUT) ? VPN_SA_OUT : VPN_SA_IN;
    int n = vpn_wskeys_esp_sa_line(sa, dir, 4, line, sizeof line);
    if (n < 0)
    {
        NS_LOG_WARN("SA 0x" << std::hex << cfg->spi << ": no Wireshark key line ("
                            << vpn_strerror(n) << ")");
        return;
    }
    if (!file->lines.insert(line).second)
    {
        return; // the other end of the same SA
    }
    std::ofstream out(file->path, std::ios::app);
    NS_ABORT_MSG_IF(!out, "cannot write " << file->path);
    out << line << "\n";
}

void
VpnTraceHelper::EnableKeyExport(NodeContainer nodes)
{
    if (!m_keys)
    {
        m_keys = Create<KeyFile>();
        SystemPath::MakeDirectories(m_outDir + "/wireshark");
        m_keys->path = m_outDir + "/wireshark/esp_sa";
        std::ofstream truncate(m_keys->path, std::ios::trunc);
        NS_ABORT_MSG_IF(!truncate, "cannot write " << m_keys->path);
    }
    for (auto it = nodes.Begin(); it != nodes.End(); ++it)
    {
        VpnIpsecStack::GetOrCreate(*it)->TraceConnectWithoutContext(
            "SaAdded",
            MakeBoundCallback(&VpnTraceHelper::SaAdded, m_keys));
    }
}

size_t
VpnTraceHelper::WriteIkeKeys(const std::vector<Ptr<Ikev2Daemon>>& daemons) const
{
    SystemPath::MakeDirectories(m_outDir + "/wireshark");
    std::string path = m_outDir + "/wireshark/ikev2_decryption_table";
    std::ofstream out(path, std::ios::trunc);
    NS_ABORT_MSG_IF(!out, "cannot write " << path);
    std::set<std::string> seen;
    for (const auto& d : daemons)
    {
        for (const std::string& line : d->GetIkeKeyLines())
        {
            // Both ends know each SA; Wireshark wants it once.
            if (seen.insert(line.substr(0, 33)).second)
            {
                out << line << "\n";
            }
        }
    }
    return seen.size();
}

static void
WriteShow(Ptr<Ikev2Daemon> daemon, std::string path)
{
    std::ofstream out(path, std::ios::trunc);
    NS_ABORT_MSG_IF(!out, "cannot write " << path);
    out << "! simulated time " << Simulator::Now().GetSeconds() << " s\n";
    out << "#show crypto ikev2 sa detail\n" << daemon->ShowCryptoIkev2Sa(true) << "\n";
    out << "#show crypto session detail\n" << daemon->ShowCryptoSession(true) << "\n";
    out << "#show crypto ipsec sa\n" << daemon->ShowCryptoIpsecSa(false) << "\n";
    out << "#show crypto ikev2 proposal\n" << daemon->ShowCryptoIkev2Proposal() << "\n";
    out << "#show crypto ikev2 profile\n" << daemon->ShowCryptoIkev2Profile();
}

void
VpnTraceHelper::ScheduleShowSnapshot(Ptr<Ikev2Daemon> daemon, const std::string& file, Time at) const
{
    Simulator::Schedule(at - Simulator::Now(), &WriteShow, daemon, m_outDir + "/" + file);
}

size_t
VpnTraceHelper::GetKeyLinesWritten() const
{
    return m_keys ? m_keys->lines.size() : 0;
}

} // namespace ns3
