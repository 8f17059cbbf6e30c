// GET VPN in simulated time: a key server and group members configured from
// IOS text (GetVpnHelper) over a provider network (GetVpnIntranetHelper):
// every member registers; every member decrypts every other member's
// traffic; the WAN carries no clear packet the policy covers, the outer
// addresses are the hosts' and the DSCP is copied; a unicast and a
// multicast rekey under 50 pps voice between all sites lose nothing; an
// unauthorized member gets no keys and its traffic is refused; the primary
// of two cooperative key servers fails and the secondary takes over with
// nothing lost; a replayed ESP packet older than the TBAR window is dropped
// and counted; a rekey comes by TEK lifetime alone; the same seed gives
// byte-identical traces.
#include "getvpn-intranet-scenario.h"
#include "vpn-sim-topology.h"

#include "ns3/core-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"
#include "ns3/ppp-header.h"
#include "ns3/test.h"
#include "ns3/vpn-module.h"

extern "C" {
#include "common/vpn-err.h"
#include "getvpn/getvpn.h"
}

#include <fstream>
#include <iterator>
#include <string>

using namespace ns3;

namespace
{

// What crossed the WAN (every CE's access link, both directions).
struct Wan
{
    uint64_t esp{0}, gdoi{0}, clearCovered{0}, other{0};
    uint64_t espNotHosts{0}; // ESP whose outer addresses are not two hosts'
    uint64_t espNotEf{0};    // ESP whose outer DSCP is not EF
};

bool
InSites(Ipv4Address a)
{
    return Ipv4Mask("255.0.0.0").IsMatch(a, Ipv4Address("10.0.0.0"));
}

void
WanPacket(Wan* w, Ptr<const Packet> p)
{
    Ipv4Header ip;
    Ptr<Packet> c = p->Copy();
    PppHeader ppp; // p2p's MacTx comes with the PPP header
    c->RemoveHeader(ppp);
    c->RemoveHeader(ip);
    if (ip.GetProtocol() == 50)
    {
        w->esp++;
        // hosts are 10.k.0.2: address preservation keeps them outside
        uint32_t s = ip.GetSource().Get(), d = ip.GetDestination().Get();
        if (!InSites(ip.GetSource()) || !InSites(ip.GetDestination()) || (s & 0xffff) != 2 ||
            (d & 0xffff) != 2)
        {
            w->espNotHosts++;
        }
        if (ip.GetTos() != 0xb8)
        {
            w->espNotEf++;
        }
        return;
    }
    if (ip.GetProtocol() == 17)
    {
        UdpHeader udp;
        c->PeekHeader(udp);
        if (udp.GetSourcePort() == 848 && udp.GetDestinationPort() == 848)
        {
            w->gdoi++;
            return;
        }
    }
    if (InSites(ip.GetSource()) && InSites(ip.GetDestination()))
    {
        w->clearCovered++;
        return;
    }
    w->other++;
}

void
WatchWan(const GetVpnIntranet& net, Wan* w)
{
    for (uint32_t k = 0; k < net.ceWan.GetN(); k++)
    {
        bool ok = net.ceWan.Get(k)->TraceConnectWithoutContext("MacTx",
                                                               MakeBoundCallback(&WanPacket, w));
        ok = ok && net.peAccess.Get(k)->TraceConnectWithoutContext("MacTx",
                                                                   MakeBoundCallback(&WanPacket, w));
        NS_ABORT_MSG_IF(!ok, "cannot watch the WAN");
    }
}

const vpn_getvpn_stats*
Stats(GetVpnHelper& h, Ptr<Node> n)
{
    return vpn_getvpn_node_get_stats(h.GetDaemon(n)->GetCore());
}

uint64_t
Drops(GetVpnHelper& h, Ptr<Node> n)
{
    uint64_t d = 0;
    for (int i = 0; i < VPN_GETVPN_DROP_COUNT; i++)
    {
        d += Stats(h, n)->drops[i];
    }
    return d;
}

void
Rekey(Ptr<GdoiDaemon> ks, bool newKek)
{
    ks->Rekey(0, newKek);
}

void
Multicast(Ptr<GdoiDaemon> ks, Ipv4Address group)
{
    ks->SetMulticastRekey(0, true, group);
}

bool
Seed(uint32_t seed, uint32_t run)
{
    vpnsim::PinStream(seed, run);
    return true;
}

// One run of the intranet, what every case starts from: the random stream
// (seed, run) set first, the key server and members built from o, the WAN
// watched if asked, and (Voice) voice between every pair of sites.
struct Intranet
{
    Intranet(uint32_t seed, uint32_t run, const GetVpnIntranetOptions& opts, bool watchWan = false)
        : seeded(Seed(seed, run)),
          o(opts)
    {
        net = GetVpnIntranetHelper().Build(getvpn, o);
        if (watchWan)
        {
            WatchWan(net, &wan);
        }
    }

    Ptr<GetVpnVoice> Voice(Time start, Time stop)
    {
        voice = GetVpnVoice::InstallAllPairs(net.hosts, start, stop);
        return voice;
    }

    // Runs the simulation until stop.
    static void RunUntil(Time stop)
    {
        Simulator::Stop(stop);
        Simulator::Run();
    }

    Ptr<GdoiDaemon> Ce(uint32_t c)
    {
        return getvpn.GetDaemon(net.ce.Get(c));
    }

    const vpn_getvpn_stats* CeStats(uint32_t c)
    {
        return Stats(getvpn, net.ce.Get(c));
    }

    uint64_t CeDrops(uint32_t c)
    {
        return Drops(getvpn, net.ce.Get(c));
    }

    bool seeded;
    GetVpnHelper getvpn;
    GetVpnIntranetOptions o;
    GetVpnIntranet net;
    Wan wan;
    Ptr<GetVpnVoice> voice;
};

// The checks more than one case makes.
class GetvpnTestCase : public TestCase
{
  protected:
    explicit GetvpnTestCase(std::string name)
        : TestCase(name)
    {
    }

    // Every voice flow delivered all it sent.
    void ExpectNoLoss(Ptr<GetVpnVoice> voice)
    {
        for (const auto& f : voice->GetFlows())
        {
            NS_TEST_EXPECT_MSG_EQ(f.received, f.sent, "flow " << f.from << "->" << f.to << " lost");
        }
    }

    // No CE's crypto map dropped anything (CEs 0 .. n - 1).
    void ExpectNoDrops(Intranet& in, uint32_t n)
    {
        for (uint32_t c = 0; c < n; c++)
        {
            NS_TEST_EXPECT_MSG_EQ(in.CeDrops(c), 0, "CE " << c << " dropped nothing");
        }
    }
};

} // namespace

/*
 * HQ and 3 branches, voice between every pair of sites (12 flows at 50
 * pps, EF) for 20 s; a unicast rekey at 8 s, then the key server switches
 * to multicast rekeys and rekeys (with a new KEK) at 15 s.
 */
class GetvpnAny2AnyTestCase : public GetvpnTestCase
{
  public:
    GetvpnAny2AnyTestCase()
        : GetvpnTestCase("registration, any-to-any, WAN protected, unicast and multicast rekeys under "
                   "voice with zero loss")
    {
    }

  private:
    void DoRun() override
    {
        GetVpnIntranetOptions o;
        o.branches = 3;
        Intranet in(7, 1, o, true);
        Ptr<GetVpnVoice> voice = in.Voice(Seconds(3), Seconds(23));
        Ptr<GdoiDaemon> ks = in.getvpn.GetDaemon(in.net.ks);
        Simulator::Schedule(Seconds(8), &Rekey, ks, false);
        Simulator::Schedule(Seconds(12), &Multicast, ks, o.rekeyGroup);
        Simulator::Schedule(Seconds(15), &Rekey, ks, true);
        std::string ksShow, gmShow, saShow;
        Simulator::Schedule(Seconds(20), [&]() {
            ksShow = ks->ShowCryptoGdoi() + ks->ShowCryptoGdoiKsMembers();
            gmShow = in.Ce(1)->ShowCryptoGdoi();
            saShow = in.Ce(1)->ShowCryptoIpsecSa();
        });
        Intranet::RunUntil(Seconds(24));

        const vpn_gdoi_ks* k = vpn_getvpn_node_ks(ks->GetCore(), 0);
        NS_TEST_EXPECT_MSG_EQ(vpn_gdoi_ks_members(k), 4, "every member registered");
        NS_TEST_EXPECT_MSG_EQ(vpn_gdoi_ks_get_stats(k)->rekeys, 2, "two rekeys");
        ExpectNoDrops(in, in.net.ce.GetN());
        for (uint32_t c = 0; c < in.net.ce.GetN(); c++)
        {
            Ptr<GdoiDaemon> d = in.Ce(c);
            NS_TEST_EXPECT_MSG_EQ(d->GetRegisteredGroups(), 1, "CE " << c << " registered");
            const vpn_gdoi_gm* gm = vpn_getvpn_node_gm(d->GetCore(), 0);
            NS_TEST_EXPECT_MSG_EQ(vpn_gdoi_gm_get_stats(gm)->rekeys, 2, "CE " << c << " rekeys");
            NS_TEST_EXPECT_MSG_EQ(vpn_gdoi_gm_last_seq(gm), vpn_gdoi_ks_seq(k), "CE " << c << " SEQ");
            NS_TEST_EXPECT_MSG_EQ(in.getvpn.GetCryptoMap(in.net.ce.Get(c))->GetPacketsDropped(), 0,
                                  "CE " << c << " crypto map dropped nothing");
            NS_TEST_EXPECT_MSG_GT(in.CeStats(c)->in_decrypted, 0, "CE " << c);
        }
        // the multicast rekey reached the members over the static tree
        NS_TEST_EXPECT_MSG_EQ(vpn_gdoi_ks_get_stats(k)->acks, 4, "only the unicast rekey is acked");
        const auto& flows = voice->GetFlows();
        NS_TEST_EXPECT_MSG_EQ(flows.size(), 12, "12 flows");
        ExpectNoLoss(voice);
        for (const auto& f : flows)
        {
            NS_TEST_EXPECT_MSG_EQ(f.sent, 1000, "flow " << f.from << "->" << f.to << " sent");
            NS_TEST_EXPECT_MSG_LT(f.delayMaxMs, 150.0, "within the voice budget");
        }
        NS_TEST_EXPECT_MSG_EQ(in.wan.clearCovered, 0, "no clear packet the policy covers on the WAN");
        NS_TEST_EXPECT_MSG_EQ(in.wan.esp, 2 * voice->GetSent(), "every voice packet as ESP, both links");
        NS_TEST_EXPECT_MSG_EQ(in.wan.espNotHosts, 0, "outer addresses are the hosts'");
        NS_TEST_EXPECT_MSG_EQ(in.wan.espNotEf, 0, "DSCP EF copied to the outer header");
        NS_TEST_EXPECT_MSG_GT(in.wan.gdoi, 0, "GDOI in clear (bypass)");
        NS_TEST_EXPECT_MSG_NE(ksShow.find("GETVPN"), std::string::npos, ksShow);
        NS_TEST_EXPECT_MSG_NE(gmShow.find("Registered"), std::string::npos, gmShow);
        NS_TEST_EXPECT_MSG_NE(saShow.find("current outbound spi: 0x"), std::string::npos, saShow);
        Simulator::Destroy();
    }
};

/*
 * A rekey nobody asks for: with a 600 s TEK the key server rekeys on its
 * own schedule (lead = lifetime / 5, so at 480 s; RFC 6407 4: the KS pushes
 * new keys before the old expire), by unicast; voice runs across it between
 * all sites and loses nothing, every member takes the new TEK without
 * registering again (their re-registration would only come 60 s before
 * the old keys lapse), and acknowledges it.
 */
class GetvpnLifetimeRekeyTestCase : public GetvpnTestCase
{
  public:
    GetvpnLifetimeRekeyTestCase()
        : GetvpnTestCase("rekey by TEK lifetime (not forced) under voice with zero loss")
    {
    }

  private:
    void DoRun() override
    {
        GetVpnIntranetOptions o;
        o.branches = 2;
        o.tekLifetime = 600;
        Intranet in(11, 1, o);
        Ptr<GdoiDaemon> ks = in.getvpn.GetDaemon(in.net.ks);
        Ptr<GetVpnVoice> voice = in.Voice(Seconds(470), Seconds(500));
        uint32_t spiBefore = 0;
        uint64_t rekeysBefore = 99;
        Simulator::Schedule(Seconds(470), [&]() {
            const vpn_gdoi_ks* k = vpn_getvpn_node_ks(ks->GetCore(), 0);
            spiBefore = vpn_gdoi_ks_tek_spi(k);
            rekeysBefore = vpn_gdoi_ks_get_stats(k)->rekeys;
        });
        Intranet::RunUntil(Seconds(501));

        const vpn_gdoi_ks* k = vpn_getvpn_node_ks(ks->GetCore(), 0);
        NS_TEST_EXPECT_MSG_EQ(rekeysBefore, 0, "no rekey before the lifetime's lead");
        NS_TEST_EXPECT_MSG_EQ(vpn_gdoi_ks_get_stats(k)->rekeys, 1, "one rekey, by lifetime");
        NS_TEST_EXPECT_MSG_NE(vpn_gdoi_ks_tek_spi(k), spiBefore, "a new TEK");
        NS_TEST_EXPECT_MSG_EQ(vpn_gdoi_ks_get_stats(k)->acks, 3, "every member acknowledged");
        ExpectNoDrops(in, in.net.ce.GetN());
        for (uint32_t c = 0; c < in.net.ce.GetN(); c++)
        {
            const vpn_gdoi_gm* gm = vpn_getvpn_node_gm(in.Ce(c)->GetCore(), 0);
            NS_TEST_EXPECT_MSG_EQ(vpn_gdoi_gm_get_stats(gm)->rekeys, 1, "CE " << c << " rekeyed");
            NS_TEST_EXPECT_MSG_EQ(vpn_gdoi_gm_get_stats(gm)->registrations, 1,
                                  "CE " << c << " did not register again");
            NS_TEST_EXPECT_MSG_EQ(vpn_sa_get_config(vpn_gdoi_gm_tek(gm))->spi,
                                  vpn_gdoi_ks_tek_spi(k),
                                  "CE " << c << " sends on the new TEK");
        }
        ExpectNoLoss(voice);
        for (const auto& f : voice->GetFlows())
        {
            NS_TEST_EXPECT_MSG_EQ(f.sent, 1500, "flow " << f.from << "->" << f.to << " sent");
        }
        Simulator::Destroy();
    }
};

/* Branch 2 is left out of the key server's authorization ACL. */
class GetvpnUnauthorizedTestCase : public GetvpnTestCase
{
  public:
    GetvpnUnauthorizedTestCase()
        : GetvpnTestCase("a member the key server does not authorize gets no keys; its traffic is refused")
    {
    }

  private:
    void DoRun() override
    {
        GetVpnIntranetOptions o;
        o.branches = 2;
        o.unauthorized = {2};
        Intranet in(7, 2, o, true);
        Ptr<GetVpnVoice> voice = in.Voice(Seconds(3), Seconds(5));
        Intranet::RunUntil(Seconds(6));

        Ptr<GdoiDaemon> ks = in.getvpn.GetDaemon(in.net.ks);
        const vpn_gdoi_ks* k = vpn_getvpn_node_ks(ks->GetCore(), 0);
        NS_TEST_EXPECT_MSG_EQ(vpn_gdoi_ks_members(k), 2, "HQ and branch 1 only");
        NS_TEST_EXPECT_MSG_GT(vpn_gdoi_ks_get_stats(k)->refused, 0, "refusal counted");
        Ptr<GdoiDaemon> bad = in.Ce(2);
        NS_TEST_EXPECT_MSG_EQ(bad->GetRegisteredGroups(), 0, "branch 2 not registered");
        NS_TEST_EXPECT_MSG_EQ(vpn_sad_count(vpn_getvpn_node_sad(bad->GetCore(), 0)), 0,
                              "branch 2 holds no TEK");
        for (const auto& f : voice->GetFlows())
        {
            if (f.from == 2 || f.to == 2)
            {
                NS_TEST_EXPECT_MSG_EQ(f.received, 0, "flow " << f.from << "->" << f.to
                                                              << " must not get through");
            }
            else
            {
                NS_TEST_EXPECT_MSG_EQ(f.received, f.sent, "flow " << f.from << "->" << f.to);
            }
        }
        // branch 2 sends in clear (it has no policy); the members refuse that
        uint64_t clear = 0, spi = 0;
        for (uint32_t c = 0; c < 2; c++)
        {
            clear += in.CeStats(c)->drops[VPN_GETVPN_DROP_CLEAR];
        }
        spi = in.CeStats(2)->drops[VPN_GETVPN_DROP_UNKNOWN_SPI];
        NS_TEST_EXPECT_MSG_EQ(clear, 2 * 100, "its clear packets refused by HQ and branch 1");
        NS_TEST_EXPECT_MSG_EQ(spi, 2 * 100, "it cannot read the group's ESP");
        // (each crosses two watched links: its own access link and the receiver's)
        NS_TEST_EXPECT_MSG_EQ(in.wan.clearCovered, 2 * 200, "only the outsider's packets go clear");
        Simulator::Destroy();
    }
};

/*
 * Cooperative key servers: KS1 (priority 100) is primary, KS2 secondary.
 * After the election (10 s) KS2 syncs from KS1's announcements. KS1 stops
 * at 30 s under voice between HQ and 2 branches; KS2 declares it dead (90 s
 * without announcements), takes over with the synced keys and SEQ, and
 * rekeys at 125 s; members keep their SAs throughout and never re-register.
 */
class GetvpnCoopFailoverTestCase : public GetvpnTestCase
{
  public:
    GetvpnCoopFailoverTestCase()
        : GetvpnTestCase("the primary key server fails under voice; the secondary takes over and "
                   "rekeys; nothing is lost")
    {
    }

  private:
    void DoRun() override
    {
        GetVpnIntranetOptions o;
        o.branches = 2;
        o.coop = true;
        Intranet in(7, 4, o);
        Ptr<GdoiDaemon> ks1 = in.getvpn.GetDaemon(in.net.ks);
        Ptr<GdoiDaemon> ks2 = in.getvpn.GetDaemon(in.net.ks2);
        // key servers serve members once their election is over (10 s): voice
        // starts when every member is registered
        Ptr<GetVpnVoice> voice = in.Voice(Seconds(15), Seconds(130));
        int roleBefore = -1;
        Simulator::Schedule(Seconds(25), [&]() {
            roleBefore = vpn_gdoi_ks_coop_role(vpn_getvpn_node_ks(ks2->GetCore(), 0));
        });
        ks1->SetStopTime(Seconds(30));
        // A key server that stopped is silent: KS2 must see its
        // announcements end. On ns-3 3.48 a closed UDP socket rebinds on the
        // next send, and KS1's announcements kept KS2 secondary.
        vpnsim::UdpTxWatch ks1AfterStop(in.net.ks, Seconds(30), {848}); // GDOI (RFC 6407 5)
        Simulator::Schedule(Seconds(125), &Rekey, ks2, false);
        Intranet::RunUntil(Seconds(131));
        NS_TEST_EXPECT_MSG_EQ(ks1AfterStop.Count(), 0, "KS1 sent nothing after it stopped");

        const vpn_gdoi_ks* k2 = vpn_getvpn_node_ks(ks2->GetCore(), 0);
        NS_TEST_EXPECT_MSG_EQ(roleBefore, VPN_GDOI_COOP_SECONDARY, "KS2 was secondary");
        NS_TEST_EXPECT_MSG_EQ(vpn_gdoi_ks_coop_role(k2), VPN_GDOI_COOP_PRIMARY, "KS2 took over");
        NS_TEST_EXPECT_MSG_GT(vpn_gdoi_ks_coop_stats(k2)->takeovers, 0, "a takeover counted");
        ExpectNoDrops(in, in.net.ce.GetN());
        for (uint32_t c = 0; c < in.net.ce.GetN(); c++)
        {
            Ptr<GdoiDaemon> d = in.Ce(c);
            const vpn_gdoi_gm* gm = vpn_getvpn_node_gm(d->GetCore(), 0);
            NS_TEST_EXPECT_MSG_EQ(d->GetRegisteredGroups(), 1, "CE " << c << " registered");
            NS_TEST_EXPECT_MSG_EQ(vpn_gdoi_gm_get_stats(gm)->registrations, 1,
                                  "CE " << c << " never re-registered");
            NS_TEST_EXPECT_MSG_EQ(vpn_gdoi_gm_last_seq(gm), vpn_gdoi_ks_seq(k2),
                                  "CE " << c << " has KS2's rekey");
            const vpn_sa* tek = vpn_gdoi_gm_tek(gm);
            NS_TEST_ASSERT_MSG_EQ((tek != nullptr), true, "CE " << c << " TEK");
            NS_TEST_EXPECT_MSG_EQ(vpn_sa_get_config(tek)->spi,
                                  vpn_gdoi_ks_tek_spi(k2),
                                  "CE " << c << " sends on KS2's TEK");
        }
        ExpectNoLoss(voice);
        NS_TEST_EXPECT_MSG_EQ(voice->GetSent(), 6 * 5750, "6 flows for 115 s");
        Simulator::Destroy();
    }
};

namespace
{
// The first ESP packet from src to dst that a device sends (the any
// address on either side: from or to anyone).
struct EspBetween
{
    Ipv4Address src, dst;
    Ptr<Packet> esp;
};

bool
Matches(Ipv4Address want, Ipv4Address got)
{
    return want == Ipv4Address::GetAny() || want == got;
}

void
GrabEspBetween(EspBetween* r, Ptr<const Packet> p)
{
    Ptr<Packet> c = p->Copy();
    PppHeader ppp;
    c->RemoveHeader(ppp);
    Ipv4Header ip;
    c->PeekHeader(ip);
    if (ip.GetProtocol() == 50 && !r->esp && Matches(r->src, ip.GetSource()) &&
        Matches(r->dst, ip.GetDestination()))
    {
        r->esp = c;
    }
}

void
InjectEsp(Ptr<NetDevice> dev, EspBetween* r, Address to)
{
    NS_ASSERT(r->esp);
    dev->Send(r->esp->Copy(), to, 0x0800);
}
} // namespace

/* An attacker on the PE replays a captured ESP packet after the window. */
class GetvpnTbarReplayTestCase : public GetvpnTestCase
{
  public:
    GetvpnTbarReplayTestCase()
        : GetvpnTestCase("a replayed ESP packet older than the TBAR window is dropped and counted")
    {
    }

  private:
    void DoRun() override
    {
        GetVpnIntranetOptions o;
        o.branches = 1;
        o.replayWindow = 2;
        Intranet in(7, 3, o);
        Ptr<GetVpnVoice> voice = in.Voice(Seconds(3), Seconds(4));
        EspBetween r{Ipv4Address::GetAny(), Ipv4Address::GetAny(), nullptr};
        // what PE 1 sends to branch 1
        in.net.peAccess.Get(1)->TraceConnectWithoutContext("MacTx",
                                                           MakeBoundCallback(&GrabEspBetween, &r));
        Address ceMac = in.net.ceWan.Get(1)->GetAddress();
        Simulator::Schedule(Seconds(4.5), &InjectEsp, in.net.peAccess.Get(1), &r, ceMac); // inside +-2 s
        Simulator::Schedule(Seconds(9), &InjectEsp, in.net.peAccess.Get(1), &r, ceMac);   // outside
        Intranet::RunUntil(Seconds(10));

        const vpn_getvpn_stats* s = in.CeStats(1);
        // every voice packet, plus the copy replayed inside the window
        NS_TEST_EXPECT_MSG_EQ(voice->GetReceived(), voice->GetSent() + 1, "voice itself is intact");
        NS_TEST_EXPECT_MSG_EQ(s->drops[VPN_GETVPN_DROP_TBAR], 1, "the late replay is dropped");
        // TBAR alone accepts a copy inside the window (GET VPN's trade-off
        // for shared keys): the replay at 4.5 s went through
        NS_TEST_EXPECT_MSG_EQ(s->in_decrypted, voice->GetSent() / 2 + 1, "the early copy passed");
        NS_TEST_EXPECT_MSG_EQ(in.getvpn.GetCryptoMap(in.net.ce.Get(1))->GetPacketsDropped(), 1,
                              "one drop traced by the crypto map");
        Simulator::Destroy();
    }
};

/*
 * Departments (the seed): group GETVPN (KS1) protects HQ <-> branch 1,
 * group DEPT2 (KS2) HQ <-> branch 2. HQ is a member of both (two crypto
 * map entries from its IOS text), branch 1 of GETVPN only, branch 2 of
 * DEPT2 only. Each group's voice goes under its own TEK and arrives; a
 * GETVPN packet delivered to branch 2 and a DEPT2 packet delivered to
 * branch 1 (an attacker on the PE) are not decrypted.
 */
class GetvpnDepartmentsTestCase : public GetvpnTestCase
{
  public:
    GetvpnDepartmentsTestCase()
        : GetvpnTestCase("a router in two groups: each group's traffic under its own TEK, read by its "
                   "members only")
    {
    }

  private:
    void DoRun() override
    {
        GetVpnIntranetOptions o;
        o.branches = 2;
        o.policy = "permit ip 10.0.0.0 0.0.255.255 10.1.0.0 0.0.255.255\n"
                   " permit ip 10.1.0.0 0.0.255.255 10.0.0.0 0.0.255.255";
        o.secondGroup = true;
        o.secondPolicy = "permit ip 10.0.0.0 0.0.255.255 10.2.0.0 0.0.255.255\n"
                         " permit ip 10.2.0.0 0.0.255.255 10.0.0.0 0.0.255.255";
        o.secondMembers = {0};
        o.secondOnly = {2};
        Intranet in(7, 5, o);
        GetVpnIntranet& net = in.net;
        Ptr<GetVpnVoice> voice = in.Voice(Seconds(3), Seconds(5));
        EspBetween toB1{GetVpnIntranet::HostAddress(0), GetVpnIntranet::HostAddress(1), nullptr};
        EspBetween toB2{GetVpnIntranet::HostAddress(0), GetVpnIntranet::HostAddress(2), nullptr};
        net.peAccess.Get(1)->TraceConnectWithoutContext("MacTx",
                                                        MakeBoundCallback(&GrabEspBetween, &toB1));
        net.peAccess.Get(2)->TraceConnectWithoutContext("MacTx",
                                                        MakeBoundCallback(&GrabEspBetween, &toB2));
        // the other group's packet, delivered to the wrong branch
        Simulator::Schedule(Seconds(5.5), &InjectEsp, net.peAccess.Get(2), &toB1,
                            net.ceWan.Get(2)->GetAddress());
        Simulator::Schedule(Seconds(5.5), &InjectEsp, net.peAccess.Get(1), &toB2,
                            net.ceWan.Get(1)->GetAddress());
        Intranet::RunUntil(Seconds(6));

        Ptr<GdoiDaemon> hq = in.Ce(0);
        const vpn_getvpn_node* core = hq->GetCore();
        NS_TEST_ASSERT_MSG_EQ(vpn_getvpn_node_n_groups(core), 2, "HQ: one group per map entry");
        NS_TEST_EXPECT_MSG_EQ(hq->GetRegisteredGroups(), 2, "HQ registered in both");
        const vpn_gdoi_ks* ks1 = vpn_getvpn_node_ks(in.getvpn.GetDaemon(net.ks)->GetCore(), 0);
        const vpn_gdoi_ks* ks2 = vpn_getvpn_node_ks(in.getvpn.GetDaemon(net.ks2)->GetCore(), 0);
        NS_TEST_EXPECT_MSG_EQ(vpn_gdoi_ks_members(ks1), 2, "GETVPN: HQ and branch 1");
        NS_TEST_EXPECT_MSG_EQ(vpn_gdoi_ks_members(ks2), 2, "DEPT2: HQ and branch 2");
        uint32_t spi1 = vpn_gdoi_ks_tek_spi(ks1), spi2 = vpn_gdoi_ks_tek_spi(ks2);
        NS_TEST_EXPECT_MSG_NE(spi1, spi2, "two groups, two TEKs");
        // HQ's groups: entry 10 is GETVPN's, 20 DEPT2's, each with its group's TEK
        vpn_gdoi_gm_info info;
        vpn_gdoi_gm_get_info(vpn_getvpn_node_gm(core, 0), 0, &info);
        NS_TEST_EXPECT_MSG_EQ(info.group_id, 1234u, "entry 10: GETVPN");
        vpn_gdoi_gm_get_info(vpn_getvpn_node_gm(core, 1), 0, &info);
        NS_TEST_EXPECT_MSG_EQ(info.group_id, 5678u, "entry 20: DEPT2");
        NS_TEST_EXPECT_MSG_EQ(vpn_sa_get_config(vpn_gdoi_gm_tek(vpn_getvpn_node_gm(core, 0)))->spi,
                              spi1, "GETVPN's TEK");
        NS_TEST_EXPECT_MSG_EQ(vpn_sa_get_config(vpn_gdoi_gm_tek(vpn_getvpn_node_gm(core, 1)))->spi,
                              spi2, "DEPT2's TEK");
        // the captured packets are the groups' (SPI after the 20-byte header)
        NS_TEST_ASSERT_MSG_NE(toB1.esp, nullptr, "HQ -> branch 1 went as ESP");
        NS_TEST_ASSERT_MSG_NE(toB2.esp, nullptr, "HQ -> branch 2 went as ESP");
        uint8_t h[24];
        toB1.esp->CopyData(h, sizeof h);
        NS_TEST_EXPECT_MSG_EQ((uint32_t(h[20]) << 24 | h[21] << 16 | h[22] << 8 | h[23]), spi1,
                              "under GETVPN's TEK");
        toB2.esp->CopyData(h, sizeof h);
        NS_TEST_EXPECT_MSG_EQ((uint32_t(h[20]) << 24 | h[21] << 16 | h[22] << 8 | h[23]), spi2,
                              "under DEPT2's TEK");
        ExpectNoLoss(voice);
        // each branch could not read the other department's packet
        NS_TEST_EXPECT_MSG_EQ(in.CeStats(2)->drops[VPN_GETVPN_DROP_UNKNOWN_SPI], 1,
                              "branch 2 cannot read GETVPN");
        NS_TEST_EXPECT_MSG_EQ(in.CeStats(1)->drops[VPN_GETVPN_DROP_UNKNOWN_SPI], 1,
                              "branch 1 cannot read DEPT2");
        NS_TEST_EXPECT_MSG_EQ(in.CeStats(2)->in_decrypted,
                              in.CeStats(0)->out_encrypted - in.CeStats(1)->in_decrypted,
                              "every HQ packet decrypted by its own group's branch");
        Simulator::Destroy();
    }
};

/*
 * A member-local ACL (IOS `match address` on the crypto map entry, deny
 * entries only): voice between HQ and branch 2 bypasses the group and goes
 * in clear both ways (and is accepted in clear), the rest stays encrypted.
 */
class GetvpnLocalDenyTestCase : public GetvpnTestCase
{
  public:
    GetvpnLocalDenyTestCase()
        : GetvpnTestCase("a member-local deny ACL sends its traffic in clear; the rest stays encrypted")
    {
    }

  private:
    void DoRun() override
    {
        GetVpnIntranetOptions o;
        o.branches = 2;
        o.localDeny = "deny ip host 10.0.0.2 host 10.2.0.2\n deny ip host 10.2.0.2 host 10.0.0.2";
        Intranet in(7, 6, o, true);
        Ptr<GetVpnVoice> voice = in.Voice(Seconds(3), Seconds(5));
        Intranet::RunUntil(Seconds(6));

        uint64_t hqB2 = 0, other = 0;
        ExpectNoLoss(voice);
        for (const auto& f : voice->GetFlows())
        {
            bool bypass = (f.from == 0 && f.to == 2) || (f.from == 2 && f.to == 0);
            (bypass ? hqB2 : other) += f.sent;
        }
        NS_TEST_EXPECT_MSG_GT(hqB2, 0, "HQ <-> branch 2 voice ran");
        // clear packets cross two watched links each
        NS_TEST_EXPECT_MSG_EQ(in.wan.clearCovered, 2 * hqB2, "HQ <-> branch 2 in clear");
        NS_TEST_EXPECT_MSG_EQ(in.wan.esp, 2 * other, "everything else encrypted");
        ExpectNoDrops(in, 3);
        // out of the crypto maps in clear: the bypassed voice and GDOI itself
        const vpn_getvpn_stats* s0 = in.CeStats(0);
        const vpn_getvpn_stats* s2 = in.CeStats(2);
        NS_TEST_EXPECT_MSG_EQ(s0->out_clear + s2->out_clear, hqB2 + s0->dgrams_out + s2->dgrams_out,
                              "the bypassed packets left the crypto maps in clear");
        NS_TEST_EXPECT_MSG_EQ(in.CeStats(1)->out_clear, in.CeStats(1)->dgrams_out, "branch 1: GDOI only");
        Simulator::Destroy();
    }
};

namespace
{
std::string
ReadAll(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A short run writing its traces and keys to dir.
void
TracedRun(const std::string& dir)
{
    GetVpnIntranetOptions o;
    o.branches = 2;
    Intranet in(11, 1, o);
    GetVpnHelper& getvpn = in.getvpn;
    GetVpnIntranet& net = in.net;
    VpnTraceHelper trace(dir);
    trace.EnableGetVpnKeyExport(getvpn.GetDaemons());
    trace.EnableGdoiPcap("KS1", getvpn.GetDaemon(net.ks));
    PointToPointHelper p2p;
    p2p.EnablePcap(dir + "/wan-branch1.pcap", net.ceWan.Get(1), false, true);
    in.Voice(Seconds(2), Seconds(3));
    Simulator::Schedule(Seconds(2.5), &Rekey, getvpn.GetDaemon(net.ks), false);
    Intranet::RunUntil(Seconds(4));
    trace.WriteIkev1Keys(getvpn.GetDaemons());
    Simulator::Destroy();
}
} // namespace

class GetvpnDeterminismTestCase : public GetvpnTestCase
{
  public:
    GetvpnDeterminismTestCase()
        : GetvpnTestCase("the same seed gives byte-identical pcaps and key files")
    {
    }

  private:
    void DoRun() override
    {
        std::string a = CreateTempDirFilename("getvpn-run-a");
        std::string b = CreateTempDirFilename("getvpn-run-b");
        TracedRun(a);
        TracedRun(b);
        for (const char* f : {"/wan-branch1.pcap",
                              "/gdoi-KS1.pcap",
                              "/gdoi-KS1.plain.pcap",
                              "/wireshark/esp_sa",
                              "/wireshark/ikev1_decryption_table"})
        {
            std::string x = ReadAll(a + f), y = ReadAll(b + f);
            NS_TEST_EXPECT_MSG_GT(x.size(), 100, f << " written");
            NS_TEST_EXPECT_MSG_EQ((x == y), true, f << " identical");
        }
        // two TEKs (registration and the rekey): two esp_sa lines
        std::string keys = ReadAll(a + "/wireshark/esp_sa");
        NS_TEST_EXPECT_MSG_EQ(std::count(keys.begin(), keys.end(), '\n'), 2, keys);
        NS_TEST_EXPECT_MSG_NE(keys.find("\"*\",\"*\""), std::string::npos, keys);
        std::string p1 = ReadAll(a + "/wireshark/ikev1_decryption_table");
        NS_TEST_EXPECT_MSG_EQ(std::count(p1.begin(), p1.end(), '\n'), 3, "three phase 1s");
    }
};

/*
 * The members' events reach the shim: multicast rekeys are retransmitted
 * (10 s apart, twice, as IOS does) and every member refuses the copies as
 * replays (RFC 6407 4.1); each refusal is one GmEvent trace call, counted by
 * GdoiDaemon and equal to the core's replay counter.
 */
class GetvpnGmEventsTestCase : public GetvpnTestCase
{
  public:
    GetvpnGmEventsTestCase()
        : GetvpnTestCase("members report refused (replayed) multicast rekeys as events")
    {
    }

  private:
    struct Seen
    {
        uint64_t replays = 0, other = 0;
        uint32_t lastSeq = 0;
    };

    static void OnEvent(Seen* s,
                        uint32_t group,
                        const std::string& kind,
                        int err,
                        uint32_t seq,
                        const std::string& detail)
    {
        if (kind == "replay" && err == VPN_ERR_REPLAY && group == 0 && !detail.empty())
        {
            s->replays++;
            s->lastSeq = seq;
        }
        else
        {
            s->other++;
        }
    }

    void DoRun() override
    {
        GetVpnIntranetOptions o;
        o.branches = 1;
        Intranet in(13, 1, o);
        Ptr<GdoiDaemon> ks = in.getvpn.GetDaemon(in.net.ks);
        std::vector<Seen> seen(in.net.ce.GetN());
        for (uint32_t c = 0; c < in.net.ce.GetN(); c++)
        {
            in.Ce(c)->TraceConnectWithoutContext("GmEvent",
                                                 MakeBoundCallback(&OnEvent, &seen[c]));
        }
        Simulator::Schedule(Seconds(5), &Multicast, ks, o.rekeyGroup);
        Simulator::Schedule(Seconds(8), &Rekey, ks, false);
        std::string before;
        Simulator::Schedule(Seconds(7), [&]() { before = in.Ce(0)->ShowGmEvents(); });
        Intranet::RunUntil(Seconds(31));

        const vpn_gdoi_ks* k = vpn_getvpn_node_ks(ks->GetCore(), 0);
        NS_TEST_EXPECT_MSG_EQ(before, "", "no event before the rekey");
        for (uint32_t c = 0; c < in.net.ce.GetN(); c++)
        {
            Ptr<GdoiDaemon> d = in.Ce(c);
            const vpn_gdoi_gm* gm = vpn_getvpn_node_gm(d->GetCore(), 0);
            NS_TEST_EXPECT_MSG_EQ(vpn_gdoi_gm_get_stats(gm)->rekeys, 1, "CE " << c << " rekeyed");
            NS_TEST_EXPECT_MSG_EQ(vpn_gdoi_gm_get_stats(gm)->replays, 2,
                                  "CE " << c << ": both retransmissions refused");
            NS_TEST_EXPECT_MSG_EQ(d->GetGmEventCount(VPN_GDOI_GM_EV_REPLAY), 2,
                                  "CE " << c << " counted them");
            NS_TEST_EXPECT_MSG_EQ(seen[c].replays, 2, "CE " << c << " traced them");
            NS_TEST_EXPECT_MSG_EQ(seen[c].lastSeq, vpn_gdoi_ks_seq(k), "CE " << c << " SEQ");
            NS_TEST_EXPECT_MSG_EQ(seen[c].other, 0, "CE " << c << ": no other event");
            NS_TEST_EXPECT_MSG_EQ(d->ShowGmEvents(), "replay: 2\n", "CE " << c);
        }
        Simulator::Destroy();
    }
};

class GetvpnTestSuite : public TestSuite
{
  public:
    GetvpnTestSuite()
        : TestSuite("getvpn")
    {
        AddTestCase(new GetvpnAny2AnyTestCase);
        AddTestCase(new GetvpnUnauthorizedTestCase);
        AddTestCase(new GetvpnLifetimeRekeyTestCase);
        AddTestCase(new GetvpnTbarReplayTestCase);
        AddTestCase(new GetvpnCoopFailoverTestCase);
        AddTestCase(new GetvpnDeterminismTestCase);
        AddTestCase(new GetvpnDepartmentsTestCase);
        AddTestCase(new GetvpnLocalDenyTestCase);
        AddTestCase(new GetvpnGmEventsTestCase);
    }
};

static GetvpnTestSuite g_getvpnTestSuite;
