/*
 * ./scripts/bench getvpn: GET VPN at scale in ns-3. One key server and N
 * group members, each member its own CE router on its own access link, over
 * an MPLS L3VPN provider (2 P routers, up to --pes PEs with the CEs spread
 * over them, the key server on PE 0; VRF INTRANET). Members are configured
 * from IOS text (GetVpnHelper), register with IKEv1 Main Mode (PSK, DH group
 * 14) and GROUPKEY-PULL, starting evenly spread over --window seconds per
 * 1,000 members; once all are registered the key server sends one
 * multicast rekey (a static VRF multicast route, ingress replication at
 * PE 0) and the run ends when every member has installed the new TEK.
 *
 * Each run is a child process (so its peak memory is its own). For every N
 * it prints members registered, convergence (simulated seconds from the
 * first registration start to the last member registered, and to the last
 * member rekeyed), wall time and peak memory (and per member), beside a
 * baseline measured in the same invocation: the same topology without GDOI,
 * where each CE sends one UDP datagram to the key server's address at the
 * time it would have started registering and waits for the echo (what the
 * ns-3 network costs by itself). N = 1,000 and 8,000 by default
 * (--members=LIST); the last line is getvpn_<largest N>gm_wall_s=<seconds>.
 * VPN_BENCH_QUICK=1: N = 40 only (the ctest smoke run).
 */
#include "getvpn-intranet-scenario.h"

#include "ns3/core-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/vpn-module.h"

extern "C" {
#include "getvpn/getvpn.h"
}
#include "bench-quick.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

using namespace ns3;

namespace
{

struct Result
{
    uint32_t members;
    uint32_t gdoi;       // 0: baseline, 1: GET VPN
    uint32_t registered; // members registered (baseline: echoes back)
    uint32_t rekeyed;    // members holding the rekey's TEK
    double convergeS;    // simulated: first start -> last registration
    double rekeyS;       // simulated: rekey sent -> last member has it
    double buildS;       // wall: topology and configuration
    double wallS;        // wall: the whole run (build + simulation)
    double cpuS;         // CPU (user + system) of the run: wall on a machine to itself
    double peakMb;       // VmHWM
    double baseMb;       // VmRSS before building
    uint64_t ksRefused;
};

struct Run
{
    uint32_t n = 0;
    Time firstStart;
    Time lastReg;
    Time rekeyAt;
    Time lastRekey;
    uint32_t registered = 0;
    uint32_t rekeyed = 0;
    std::vector<uint8_t> teks; // per member: TEKs installed
    Ptr<GdoiDaemon> ks;
};

Run g_run;

double
ProcMb(const char* key)
{
    std::ifstream f("/proc/self/status");
    std::string line;
    size_t kl = std::strlen(key);
    while (std::getline(f, line))
    {
        if (line.compare(0, kl, key) == 0)
        {
            return std::strtod(line.c_str() + kl + 1, nullptr) / 1024.0;
        }
    }
    return 0;
}

Ipv4Address
CeLink(uint32_t k)
{
    return Ipv4Address(Ipv4Address("100.64.0.0").Get() + 4 * k);
}

std::string
Str(Ipv4Address a)
{
    std::ostringstream s;
    a.Print(s);
    return s.str();
}

std::string
MemberConfig(uint32_t k)
{
    std::ostringstream c;
    c << "hostname GM" << k << "\n"
      << "crypto isakmp policy 10\n"
      << " encryption aes 256\n"
      << " hash sha256\n"
      << " authentication pre-share\n"
      << " group 14\n"
      << "crypto isakmp key getvpn-psk address 192.0.2.0 255.255.255.252\n"
      << "crypto gdoi group GETVPN\n"
      << " identity number 1234\n"
      << " server address ipv4 192.0.2.2\n"
      << "crypto map GETVPN-MAP 10 gdoi\n"
      << " set group GETVPN\n"
      << "interface GigabitEthernet0/0\n"
      << " ip address " << Str(Ipv4Address(CeLink(k).Get() + 2)) << " 255.255.255.252\n"
      << " crypto map GETVPN-MAP\n"
      << "ip route 0.0.0.0 0.0.0.0 " << Str(Ipv4Address(CeLink(k).Get() + 1)) << "\n";
    return c.str();
}

void
AllRekeyed()
{
    Simulator::Stop();
}

void
SendRekey()
{
    g_run.rekeyAt = Simulator::Now();
    int rc = g_run.ks->Rekey(0, false);
    if (rc)
    {
        std::fprintf(stderr, "rekey failed: %d\n", rc);
        Simulator::Stop();
    }
}

void
OnTek(uint32_t k, const struct vpn_sa* /* sa */)
{
    uint8_t& t = g_run.teks[k];
    if (t < 2)
    {
        t++;
    }
    if (t == 1)
    {
        g_run.lastReg = Simulator::Now();
        if (++g_run.registered == g_run.n)
        {
            // all in: one multicast rekey a second later
            Simulator::Schedule(Seconds(1), &SendRekey);
        }
    }
    else if (t == 2 && g_run.rekeyAt.IsStrictlyPositive())
    {
        g_run.lastRekey = Simulator::Now();
        if (++g_run.rekeyed == g_run.n)
        {
            Simulator::ScheduleNow(&AllRekeyed);
        }
    }
}

// Baseline: the key server's node echoes; each CE sends one datagram.
void
EchoBack(Ptr<Socket> s)
{
    Ptr<Packet> p;
    Address from;
    while ((p = s->RecvFrom(from)))
    {
        s->SendTo(p, 0, from);
    }
}

void
EchoReceived(Ptr<Socket> s)
{
    Ptr<Packet> p;
    while ((p = s->Recv()))
    {
        g_run.lastReg = Simulator::Now();
        if (++g_run.registered == g_run.n)
        {
            Simulator::ScheduleNow(&AllRekeyed);
        }
    }
}

void
SendProbe(Ptr<Socket> s)
{
    s->Send(Create<Packet>(200));
}

Result
RunOne(uint32_t n, bool gdoi, uint32_t pes, double windowPer1000)
{
    auto t0 = std::chrono::steady_clock::now();
    Result r{};
    r.members = n;
    r.gdoi = gdoi;
    r.baseMb = ProcMb("VmRSS:");
    {
        struct rusage ru0;
        getrusage(RUSAGE_SELF, &ru0);
        r.cpuS = ru0.ru_utime.tv_sec + ru0.ru_stime.tv_sec +
                 (ru0.ru_utime.tv_usec + ru0.ru_stime.tv_usec) / 1e6;
    }
    g_run = Run();
    g_run.n = n;
    g_run.teks.assign(n, 0);

    uint32_t npe = std::max<uint32_t>(1, std::min(pes, n)) + 1; // PE 0 serves the key server
    MplsProviderHelper mp;
    mp.SetLoopbackBase(Ipv4Address("172.31.255.0"));
    mp.SetCoreNetworkBase(Ipv4Address("172.30.0.0"));
    NodeContainer pe;
    for (uint32_t i = 0; i < npe; i++)
    {
        pe.Add(mp.AddPe("PE" + std::to_string(i)));
    }
    Ptr<Node> p1 = mp.AddP("P1");
    Ptr<Node> p2 = mp.AddP("P2");
    DataRate core("10Gbps");
    DataRate access("100Mbps");
    mp.AddCoreLink(p1, p2, core, MilliSeconds(5));
    for (uint32_t i = 0; i < npe; i++)
    {
        mp.AddCoreLink(pe.Get(i), i % 2 ? p2 : p1, core, MilliSeconds(5));
    }
    Ptr<Node> ks = CreateObject<Node>();
    InternetStackHelper().Install(ks);
    uint32_t ksSite =
        mp.AttachSite(pe.Get(0), "INTRANET", ks, Ipv4Address("192.0.2.0"), {}, DataRate("1Gbps"),
                      MilliSeconds(1));
    NodeContainer ce;
    ce.Create(n);
    std::vector<uint32_t> sites;
    for (uint32_t k = 0; k < n; k++)
    {
        sites.push_back(mp.AttachSite(pe.Get(1 + k % (npe - 1)), "INTRANET", ce.Get(k), CeLink(k),
                                      {}, access, MilliSeconds(2)));
    }
    GetVpnIntranetOptions o;
    o.multicastRekey = true;
    Ipv4Address ksAddr("192.0.2.2");
    mp.AddMulticastRoute("INTRANET", MplsProviderHelper::Prefix(o.rekeyGroup, 32), sites,
                         MplsProviderHelper::Prefix(ksAddr, 32));
    mp.Install();

    Time start = Seconds(1);
    Time window = Seconds(windowPer1000 * n / 1000.0);
    g_run.firstStart = start;
    GetVpnHelper getvpn;
    if (gdoi)
    {
        std::string err = getvpn.Install(ks, GetVpnIntranetHelper::KeyServerConfig(o),
                                         {{"GigabitEthernet0/0", mp.GetCeDevice(ksSite)}});
        NS_ABORT_MSG_IF(!err.empty(), "key server: " << err);
        g_run.ks = getvpn.GetDaemon(ks);
        for (uint32_t k = 0; k < n; k++)
        {
            getvpn.SetRegistrationStart(start + window * (double(k) / n));
            err = getvpn.Install(ce.Get(k), MemberConfig(k),
                                 {{"GigabitEthernet0/0", mp.GetCeDevice(sites[k])}});
            NS_ABORT_MSG_IF(!err.empty(), "member " << k << ": " << err);
            getvpn.GetDaemon(ce.Get(k))->TraceConnectWithoutContext(
                "TekInstalled", MakeBoundCallback(&OnTek, k));
        }
    }
    else
    {
        Ptr<Socket> echo = Socket::CreateSocket(ks, UdpSocketFactory::GetTypeId());
        echo->Bind(InetSocketAddress(Ipv4Address::GetAny(), 848));
        echo->SetRecvCallback(MakeCallback(&EchoBack));
        for (uint32_t k = 0; k < n; k++)
        {
            Ptr<Socket> s = Socket::CreateSocket(ce.Get(k), UdpSocketFactory::GetTypeId());
            s->Bind();
            s->Connect(InetSocketAddress(ksAddr, 848));
            s->SetRecvCallback(MakeCallback(&EchoReceived));
            Simulator::Schedule(start + window * (double(k) / n), &SendProbe, s);
        }
    }
    r.buildS = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    // a hard stop well past any retransmission
    Simulator::Stop(start + window + Seconds(600));
    Simulator::Run();
    r.registered = g_run.registered;
    r.rekeyed = g_run.rekeyed;
    r.convergeS = (g_run.lastReg - g_run.firstStart).GetSeconds();
    r.rekeyS = g_run.rekeyAt.IsStrictlyPositive() ? (g_run.lastRekey - g_run.rekeyAt).GetSeconds()
                                                  : 0;
    if (gdoi)
    {
        r.ksRefused = vpn_gdoi_ks_get_stats(vpn_getvpn_node_ks(g_run.ks->GetCore(), 0))->refused;
    }
    r.peakMb = ProcMb("VmHWM:");
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    r.cpuS = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
             (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6 - r.cpuS;
    r.wallS = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

// One run in a child process; false if it failed.
bool
RunChild(uint32_t n, bool gdoi, uint32_t pes, double window, Result* out, bool inProcess)
{
    if (inProcess)
    {
        // for profilers that do not follow a fork (the peak then spans runs)
        *out = RunOne(n, gdoi, pes, window);
        Simulator::Destroy();
        return true;
    }
    int fd[2];
    if (pipe(fd) != 0)
    {
        return false;
    }
    std::fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
    {
        return false;
    }
    if (pid == 0)
    {
        close(fd[0]);
        Result r = RunOne(n, gdoi, pes, window);
        ssize_t w = write(fd[1], &r, sizeof r);
        _exit(w == (ssize_t)sizeof r ? 0 : 1);
    }
    close(fd[1]);
    ssize_t got = read(fd[0], out, sizeof *out);
    close(fd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return got == (ssize_t)sizeof *out && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

} // namespace

int
main(int argc, char* argv[])
{
    bool quick = vpn_bench_quick() != 0;
    std::string members = quick ? "40" : "1000,8000";
    uint32_t pes = 32;
    double window = 1.0;
    bool baseline = true;
    bool inProcess = false;
    CommandLine cmd(__FILE__);
    cmd.AddValue("members", "Comma-separated member counts", members);
    cmd.AddValue("pes", "PEs the members are spread over (plus PE 0 for the key server)", pes);
    cmd.AddValue("window", "Registration starts spread over this many seconds per 1,000 members",
                 window);
    cmd.AddValue("baseline", "Also run each size without GDOI", baseline);
    cmd.AddValue("inProcess", "Run in this process, not a child per run (for profilers)",
                 inProcess);
    cmd.Parse(argc, argv);
    if (!VpnMpi::SerialOnly("vpn-bench-getvpn"))
    {
        return 2;
    }
    std::vector<uint32_t> ns;
    std::stringstream ss(members);
    for (std::string tok; std::getline(ss, tok, ',');)
    {
        long v = std::strtol(tok.c_str(), nullptr, 10);
        if (v < 1 || v > 16000)
        {
            std::cerr << "--members: counts from 1 to 16000\n";
            return 2;
        }
        ns.push_back(static_cast<uint32_t>(v));
    }
    if (ns.empty() || pes < 1 || window < 0)
    {
        std::cerr << "--members needs a count, --pes at least 1, --window >= 0\n";
        return 2;
    }

    std::printf("getvpn bench: 1 key server, N members (one CE each, own access link) over "
                "MPLS (2 P, %u PE + PE0);\n"
                "IKEv1 Main Mode PSK DH group 14 + GROUPKEY-PULL, starts spread over %.2f s per "
                "1,000 members, then one multicast rekey.\n"
                "baseline: the same topology without GDOI, one UDP echo per CE to the key "
                "server's address.\n\n",
                pes, window);
    std::printf("%-7s %-8s %10s %9s %8s %9s %8s %8s %8s %8s %9s\n", "members", "run",
                "registered", "conv_s", "rekeyed", "rekey_s", "build_s", "wall_s", "cpu_s",
                "peak_MB", "KB/member");
    double lastWall = 0;
    uint32_t lastN = 0;
    bool ok = true;
    for (uint32_t n : ns)
    {
        for (int g = baseline ? 0 : 1; g <= 1; g++)
        {
            Result r{};
            if (!RunChild(n, g == 1, pes, window, &r, inProcess))
            {
                std::printf("%-7u %-8s run failed\n", n, g ? "getvpn" : "baseline");
                ok = false;
                continue;
            }
            double perKb = (r.peakMb - r.baseMb) * 1024.0 / n;
            if (g)
            {
                std::printf("%-7u %-8s %10u %9.3f %8u %9.3f %8.2f %8.2f %8.2f %8.1f %9.1f\n", n,
                            "getvpn", r.registered, r.convergeS, r.rekeyed, r.rekeyS, r.buildS,
                            r.wallS, r.cpuS, r.peakMb, perKb);
                if (r.registered != n || r.rekeyed != n)
                {
                    std::printf("        not all members registered and rekeyed (key server "
                                "refused %llu)\n",
                                (unsigned long long)r.ksRefused);
                    ok = false;
                }
                lastWall = r.wallS;
                lastN = n;
            }
            else
            {
                std::printf("%-7u %-8s %10u %9.3f %8s %9s %8.2f %8.2f %8.2f %8.1f %9.1f\n", n,
                            "baseline", r.registered, r.convergeS, "-", "-", r.buildS, r.wallS,
                            r.cpuS, r.peakMb, perKb);
            }
            std::fflush(stdout);
        }
    }
    if (!ok || !lastN)
    {
        return 1;
    }
    std::printf("getvpn_%ugm_wall_s=%.2f\n", lastN, lastWall);
    return 0;
}
