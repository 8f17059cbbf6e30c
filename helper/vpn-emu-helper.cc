#include "vpn-emu-helper.h"

#include "ns3/arp-l3-protocol.h"
#include "ns3/boolean.h"
#include "ns3/config.h"
#include "ns3/fd-net-device.h"
#include "ns3/global-value.h"
#include "ns3/ipv4.h"
#include "ns3/log.h"
#include "ns3/pcap-file-wrapper.h"
#include "ns3/simulator.h"
#include "ns3/trace-helper.h"
#include "ns3/nstime.h"
#include "ns3/string.h"
#include "ns3/vpn-node-engine.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <arpa/inet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <fstream>
#include <sstream>
#include <thread>
#include <unistd.h>

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23 // Linux 4.20
#endif

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("VpnEmuHelper");

namespace
{

std::string
Errno(const char* what)
{
    return std::string(what) + ": " + std::strerror(errno);
}

// Checks that ifname exists and is up, and switches its transmit checksum
// offload off (ETHTOOL_STXCSUM; ethtool itself is not installed here), in
// the calling thread's network namespace. "" or the cause.
std::string
PrepareHere(const std::string& ifname)
{
    if (ifname.empty() || ifname.size() >= IFNAMSIZ)
    {
        return "not a valid interface name";
    }
    if (if_nametoindex(ifname.c_str()) == 0)
    {
        return "does not exist";
    }
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
    {
        return Errno("socket");
    }
    std::string cause;
    ifreq ifr{};
    std::memcpy(ifr.ifr_name, ifname.c_str(), ifname.size());
    ethtool_value ev{};
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
    {
        cause = Errno("cannot read its flags");
    }
    else if (!(ifr.ifr_flags & IFF_UP))
    {
        cause = "is not up (ip link set " + ifname + " up)";
    }
    else
    {
        ev.cmd = ETHTOOL_GTXCSUM;
        ifr.ifr_data = reinterpret_cast<char*>(&ev);
        if (ioctl(s, SIOCETHTOOL, &ifr) < 0)
        {
            cause = Errno("cannot read its checksum offload setting");
        }
        else if (ev.data != 0)
        {
            ev.cmd = ETHTOOL_STXCSUM;
            ev.data = 0;
            if (ioctl(s, SIOCETHTOOL, &ifr) < 0)
            {
                cause = Errno("has transmit checksum offload that cannot be switched off");
            }
            else
            {
                ev.cmd = ETHTOOL_GTXCSUM;
                if (ioctl(s, SIOCETHTOOL, &ifr) < 0 || ev.data != 0)
                {
                    cause = "has transmit checksum offload that stays on";
                }
            }
        }
    }
    close(s);
    return cause;
}

// As PrepareHere in network namespace netns (a name `ip netns` made), from a
// thread of its own: setns moves only the calling thread.
std::string
PrepareIn(const std::string& netns, const std::string& ifname)
{
    if (netns.empty())
    {
        return PrepareHere(ifname);
    }
    std::string cause;
    std::thread t([&]() {
        int ns = open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
        if (ns < 0)
        {
            cause = Errno(("cannot open network namespace " + netns).c_str());
            return;
        }
        if (setns(ns, CLONE_NEWNET) < 0)
        {
            cause = Errno(("cannot enter network namespace " + netns).c_str());
        }
        else
        {
            cause = PrepareHere(ifname);
        }
        close(ns);
    });
    t.join();
    return cause;
}

} // namespace

VpnEmuHelper::VpnEmuHelper()
    : m_macSet(false),
      m_osEntropy(true)
{
}

void
VpnEmuHelper::EnableRealtime(Time hardLimit)
{
    NS_LOG_FUNCTION(hardLimit);
    GlobalValue::Bind("SimulatorImplementationType", StringValue("ns3::RealtimeSimulatorImpl"));
    GlobalValue::Bind("ChecksumEnabled", BooleanValue(true));
    if (hardLimit.IsStrictlyPositive())
    {
        Config::SetDefault("ns3::RealtimeSimulatorImpl::SynchronizationMode",
                           StringValue("HardLimit"));
        Config::SetDefault("ns3::RealtimeSimulatorImpl::HardLimit", TimeValue(hardLimit));
    }
}

void
VpnEmuHelper::SetMac(Mac48Address mac)
{
    m_mac = mac;
    m_macSet = true;
}

void
VpnEmuHelper::SetPeer(const std::string& netns, const std::string& ifname)
{
    NS_LOG_FUNCTION(this << netns << ifname);
    m_peerNetns = netns;
    m_peerIf = ifname;
}

void
VpnEmuHelper::SetOsEntropy(bool on)
{
    m_osEntropy = on;
}

std::string
VpnEmuHelper::Prepare(const std::string& ifname) const
{
    NS_LOG_FUNCTION(this << ifname);
    std::string cause = PrepareHere(ifname);
    if (!cause.empty())
    {
        return "interface " + ifname + ": " + cause;
    }
    if (!m_peerIf.empty())
    {
        cause = PrepareIn(m_peerNetns, m_peerIf);
        if (!cause.empty())
        {
            return "interface " + m_peerIf +
                   (m_peerNetns.empty() ? "" : " in network namespace " + m_peerNetns) + ": " +
                   cause;
        }
    }
    return "";
}

Ptr<NetDevice>
VpnEmuHelper::Install(Ptr<Node> node,
                      const std::string& ifname,
                      std::string& error,
                      Ipv4Address address,
                      Ipv4Mask mask) const
{
    NS_LOG_FUNCTION(this << node << ifname << address);
    error = Prepare(ifname);
    if (!error.empty())
    {
        return nullptr;
    }
    Ptr<Ipv4> ipv4 = node->GetObject<Ipv4>();
    Ptr<ArpL3Protocol> arp = node->GetObject<ArpL3Protocol>();
    if (!ipv4 || !arp)
    {
        error = "node " + std::to_string(node->GetId()) +
                ": install an internet stack before attaching it to interface " + ifname;
        return nullptr;
    }
    // Protocol 0 at socket() and ETH_P_ALL at bind(): no frame of another
    // interface slips in between.
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (fd < 0)
    {
        error = "interface " + ifname + ": " + Errno("cannot open an AF_PACKET socket (root or "
                                                     "CAP_NET_RAW needed)");
        return nullptr;
    }
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = static_cast<int>(if_nametoindex(ifname.c_str()));
    packet_mreq mr{};
    mr.mr_ifindex = sll.sll_ifindex;
    mr.mr_type = PACKET_MR_PROMISC; // frames for the simulated node's own MAC
    int one = 1;
    if (bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) < 0)
    {
        error = "interface " + ifname + ": " + Errno("cannot bind an AF_PACKET socket");
    }
    else if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) < 0)
    {
        error = "interface " + ifname + ": " + Errno("cannot make it promiscuous");
    }
    else if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) < 0)
    {
        // Without it the device would read back every frame it sends.
        error = "interface " + ifname + ": " + Errno("cannot ignore outgoing frames");
    }
    if (!error.empty())
    {
        close(fd);
        return nullptr;
    }

    Ptr<FdNetDevice> dev = CreateObject<FdNetDevice>();
    dev->SetAddress(m_macSet ? m_mac : Mac48Address::Allocate());
    node->AddDevice(dev);
    dev->SetFileDescriptor(fd); // the device closes it when disposed

    // ns-3 waits 0-10 ms before an ARP request by default: the peer's first
    // packet would wait for it.
    arp->SetAttribute("RequestJitter", StringValue("ns3::ConstantRandomVariable[Constant=0.0]"));
    if (m_osEntropy)
    {
        VpnNodeEngine::GetOrCreate(node)->SetEntropySource(VpnNodeEngine::OS);
    }
    if (address != Ipv4Address::GetAny())
    {
        int32_t i = ipv4->AddInterface(dev);
        ipv4->AddAddress(i, Ipv4InterfaceAddress(address, mask));
        ipv4->SetUp(i);
    }
    return dev;
}

// ---- VpnRealtimeLagMeter ------------------------------------------------------

namespace
{

// Set by SIGINT/SIGTERM; a handler may only touch a lock-free atomic.
std::atomic<bool> g_stopRequested{false};

void
OnStopSignal(int)
{
    g_stopRequested = true;
}

} // namespace

VpnRealtimeLagMeter::VpnRealtimeLagMeter()
    : m_sum(0),
      m_max(0),
      m_n(0),
      m_signalled(false),
      m_wallSeconds(0)
{
}

void
VpnRealtimeLagMeter::SetOnSample(Callback<void> cb)
{
    m_onSample = cb;
}

double
VpnRealtimeLagMeter::Run(Time duration, Time period)
{
    NS_LOG_FUNCTION(this << duration << period);
    g_stopRequested = false; // a signal that ended an earlier run ends only that one
    std::signal(SIGINT, &OnStopSignal);
    std::signal(SIGTERM, &OnStopSignal);
    m_period = period;
    // The clocks are read in the run's first event, when the real-time
    // scheduler has taken its own origin.
    Simulator::ScheduleNow(&VpnRealtimeLagMeter::Start, this);
    Simulator::Stop(duration);
    auto wall0 = std::chrono::steady_clock::now();
    Simulator::Run();
    m_wallSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    return m_wallSeconds;
}

void
VpnRealtimeLagMeter::Start()
{
    m_wall0 = std::chrono::steady_clock::now();
    m_sim0 = Simulator::Now();
    Simulator::Schedule(m_period, &VpnRealtimeLagMeter::Sample, this);
}

void
VpnRealtimeLagMeter::Sample()
{
    double wall =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - m_wall0).count();
    double lag = wall - (Simulator::Now() - m_sim0).GetSeconds() * 1000.0;
    m_sum += lag;
    m_max = std::max(m_max, lag);
    m_n++;
    if (g_stopRequested)
    {
        m_signalled = true;
        Simulator::Stop();
        return;
    }
    if (!m_onSample.IsNull())
    {
        m_onSample();
    }
    Simulator::Schedule(m_period, &VpnRealtimeLagMeter::Sample, this);
}

double
VpnRealtimeLagMeter::MeanMs() const
{
    return m_n ? m_sum / static_cast<double>(m_n) : 0.0;
}

double
VpnRealtimeLagMeter::MaxMs() const
{
    return m_max;
}

uint64_t
VpnRealtimeLagMeter::Samples() const
{
    return m_n;
}

bool
VpnRealtimeLagMeter::Signalled() const
{
    return m_signalled;
}

double
VpnRealtimeLagMeter::WallSeconds() const
{
    return m_wallSeconds;
}

// ---- VpnEmuOptions -------------------------------------------------------------

void
VpnEmuOptions::AddValues(CommandLine& cmd, const std::string& router, const std::string& peer)
{
    cmd.AddValue("interface", "Real interface " + router + "'s GigabitEthernet0/0 is attached to", ifname);
    cmd.AddValue("peerNetns",
                 "Network namespace of the interface's veth peer (its checksum offload "
                 "is switched off too); empty: this one",
                 peerNetns);
    cmd.AddValue("peerInterface", "The veth peer's name; empty: none", peerInterface);
    cmd.AddValue("out", "Output folder", out);
    cmd.AddValue("wanAddress", router + "'s address on the real interface (/24; as in its configuration, if it has one)",
                 wanAddress);
    cmd.AddValue("mac", router + "'s MAC address on the real interface", mac);
    cmd.AddValue("duration", "Seconds of wall clock to run (SIGINT/SIGTERM end it earlier)", duration);
    cmd.AddValue("osEntropy",
                 "Keys, SPIs and nonces from the OS (this example's default; VpnNodeEngine's "
                 "EntropySource attribute defaults to Seeded); 0: from RngSeed/RngRun, "
                 "the same on every run (never against a real " + peer + ")",
                 osEntropy);
    cmd.AddValue("hardLimit", "Abort when this many seconds behind the wall clock (0: never)", hardLimit);
}

Ptr<NetDevice>
VpnEmuOptions::Install(Ptr<Node> node, std::string& error) const
{
    NS_LOG_FUNCTION(this << node);
    VpnEmuHelper emu;
    emu.SetMac(Mac48Address(mac.c_str()));
    emu.SetPeer(peerNetns, peerInterface);
    emu.SetOsEntropy(osEntropy);
    return emu.Install(node, ifname, error, Ipv4Address(wanAddress.c_str()), Ipv4Mask("255.255.255.0"));
}

void
VpnEmuOptions::EnablePcap(Ptr<NetDevice> wan, const std::string& file) const
{
    NS_LOG_FUNCTION(this << wan << file);
    PcapHelper pcap;
    Ptr<PcapFileWrapper> f = pcap.CreateFile(file, std::ios::out, PcapHelper::DLT_EN10MB);
    pcap.HookDefaultSink<FdNetDevice>(DynamicCast<FdNetDevice>(wan), "Sniffer", f);
}

void
VpnEmuOptions::AddToReport(VpnReport& report, const VpnRealtimeLagMeter& lag) const
{
    report.Add("interface", ifname);
    report.Add("entropy", osEntropy ? "os" : "seeded");
    report.AddFigure("wall_seconds", lag.WallSeconds());
    report.AddFigure("simulated_seconds", Simulator::Now().GetSeconds());
    report.AddFigure("rt_lag_mean_ms", lag.MeanMs());
    report.AddFigure("rt_lag_max_ms", lag.MaxMs());
    report.Add("rt_lag_samples", lag.Samples());
}

bool
VpnEmuOptions::ReadFile(const std::string& path, std::string& text)
{
    std::ifstream in(path);
    if (!in)
    {
        return false;
    }
    std::ostringstream s;
    s << in.rdbuf();
    text = s.str();
    return true;
}

} // namespace ns3
