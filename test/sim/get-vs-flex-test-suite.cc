// The GET VPN vs FlexVPN vs DMVPN comparison (issue 13), on the
// get-vs-flex scenario (examples/get-vs-flex-scenario.h) at fixed seeds:
//  - queueing on encrypted traffic: bulk TCP fills a branch's 2 Mbit/s
//    access link; with the CE's LLQ policy EF voice keeps its unloaded
//    delay within a few serialization times, on GET VPN (classified by the
//    preserved DSCP, the crypto map queueing through the policy) and on
//    FlexVPN tunnels, while a best-effort probe waits (in class-default
//    with the TCP); without the policy voice waits behind the TCP;
//  - `qos pre-classify`: a policy that finds voice by its UDP port (an
//    ACL) protects it on a FlexVPN tunnel only with pre-classify (the outer
//    header is ESP);
//  - the designs compared: clear lowest, GET VPN branch to branch below
//    FlexVPN hub-and-spoke by the extra hub leg, DMVPN after the shortcut
//    within a small margin of GET VPN; SAs per router as each design has them;
//  - a branch joining late: the time from its first packet to its first
//    encrypted packet delivered to another branch grows with HQ's distance
//    by at least IKE's round trips and the hub leg for FlexVPN and DMVPN,
//    is GET VPN's registration plus the path (HQ's distance aside), and is
//    above the clear baseline's; no voice leaves a GET VPN member in clear
//    once it has registered.

#include "get-vs-flex-scenario.h"
#include "vpn-sim-topology.h"

#include "ns3/core-module.h"
#include "ns3/test.h"
#include "ns3/vpn-module.h"

#include <string>

using namespace ns3;

namespace
{

const GetVsFlexFlow*
Find(const GetVsFlexResult& r, const std::string& name)
{
    for (const auto& f : r.flows)
    {
        if (f.name == name)
        {
            return &f;
        }
    }
    return nullptr;
}

double
P99(const GetVsFlexResult& r, const std::string& name)
{
    const GetVsFlexFlow* f = Find(r, name);
    NS_ABORT_MSG_IF(!f, "no flow " << name);
    return f->sum.received ? f->sum.p99_ns / 1e6 : 1e9;
}

double
Mean(const GetVsFlexResult& r, const std::string& name)
{
    const GetVsFlexFlow* f = Find(r, name);
    NS_ABORT_MSG_IF(!f, "no flow " << name);
    return f->sum.received ? f->sum.mean_ns / 1e6 : 1e9;
}

// Mean of the branch-to-branch voice flows' mean delays.
double
B2bMean(const GetVsFlexResult& r)
{
    double s = 0;
    uint32_t n = 0;
    for (const auto& f : r.flows)
    {
        if (f.cls == "EF" && f.from != 0 && f.to != 0)
        {
            s += f.sum.received ? f.sum.mean_ns / 1e6 : 1e9;
            n++;
        }
    }
    return n ? s / n : 1e9;
}

GetVsFlexResult
RunSeeded(GetVsFlexParams p)
{
    vpnsim::PinStream(1);
    return RunGetVsFlex(p);
}

// A 2 Mbit/s branch access link that bulk TCP fills.
GetVsFlexParams
Loaded(const std::string& design, uint32_t load)
{
    GetVsFlexParams p;
    p.design = design;
    p.branches = 2;
    p.accessRate = "2Mbps";
    p.load = load;
    p.video = false;
    p.duration = Seconds(2);
    return p;
}

// One 1500-byte packet (and its ESP) at 2 Mbit/s.
const double kSerMs = 1600 * 8 / 2000.0;

class EncryptedLlqProtectsVoice : public TestCase
{
  public:
    explicit EncryptedLlqProtectsVoice(const std::string& design)
        : TestCase("LLQ on " + design + ": EF voice out of a loaded branch keeps its unloaded "
                   "delay while best effort waits; without the policy voice waits behind bulk TCP"),
          m_design(design)
    {
    }

  private:
    void DoRun() override
    {
        GetVsFlexParams probed = Loaded(m_design, 3);
        probed.beProbe = true;
        GetVsFlexResult idle = RunSeeded(Loaded(m_design, 0));
        GetVsFlexResult llq = RunSeeded(probed);
        GetVsFlexParams f = Loaded(m_design, 3);
        f.qos = "";
        GetVsFlexResult fifo = RunSeeded(f);
        for (const std::string flow : {"voice BRANCH1>HQ", "voice BRANCH1>BRANCH2"})
        {
            double i = P99(idle, flow);
            double l = P99(llq, flow);
            double q = P99(fifo, flow);
            NS_TEST_EXPECT_MSG_LT(l, i + 3 * kSerMs, m_design << " " << flow << ": LLQ p99 " << l
                                                             << " ms, unloaded " << i << " ms");
            NS_TEST_EXPECT_MSG_GT(q, i + 20 * kSerMs, m_design << " " << flow << ": FIFO p99 " << q
                                                              << " ms, unloaded " << i << " ms");
            NS_TEST_EXPECT_MSG_EQ(Find(llq, flow)->sum.received, Find(llq, flow)->sum.sent,
                                  "voice lost under LLQ");
        }
        // best effort waits: the probe, in class-default with the TCP (one
        // ESP flow to fair-queue, whose hash sees only the outer header)
        double be = P99(llq, "probe BRANCH1>HQ");
        double voice = P99(llq, "voice BRANCH1>HQ");
        NS_TEST_EXPECT_MSG_GT(be, voice + 5 * kSerMs, m_design << ": best effort p99 " << be
                                                             << " ms, voice " << voice << " ms");
        // the load was there: TCP got most of the link in both runs
        NS_TEST_EXPECT_MSG_GT(llq.bulkGoodputBps, 1.0e6, "bulk TCP did not fill the link");
        NS_TEST_EXPECT_MSG_GT(fifo.bulkGoodputBps, 1.0e6, "bulk TCP did not fill the link");
    }

    std::string m_design;
};

// Voice found by its UDP port: only the inner header has one.
const std::string kAclQos = "ip access-list extended RTP\n"
                            " permit udp any any eq 16384\n"
                            "class-map match-any VOICE\n"
                            " match access-group name RTP\n"
                            "policy-map WAN-EDGE\n"
                            " class VOICE\n"
                            "  priority percent 30\n"
                            " class class-default\n"
                            "  queue-limit 64 packets\n";

class PreClassifyOnTunnel : public TestCase
{
  public:
    PreClassifyOnTunnel()
        : TestCase("qos pre-classify: a FlexVPN tunnel's WAN policy matches the inner UDP port "
                   "only with pre-classify")
    {
    }

  private:
    void DoRun() override
    {
        GetVsFlexParams p = Loaded("flexvpn", 3);
        p.qos = kAclQos;
        p.preClassify = true;
        GetVsFlexResult pre = RunSeeded(p);
        p.preClassify = false;
        GetVsFlexResult outer = RunSeeded(p);
        GetVsFlexResult idle = RunSeeded(Loaded("flexvpn", 0));
        double i = P99(idle, "voice BRANCH1>HQ");
        double a = P99(pre, "voice BRANCH1>HQ");
        double b = P99(outer, "voice BRANCH1>HQ");
        NS_TEST_EXPECT_MSG_LT(a, i + 3 * kSerMs, "pre-classify p99 " << a << " ms, unloaded " << i);
        NS_TEST_EXPECT_MSG_GT(b, i + 20 * kSerMs, "outer-header p99 " << b << " ms, unloaded " << i);
        bool said = pre.configs["BRANCH1"].find(" qos pre-classify\n") != std::string::npos;
        NS_TEST_EXPECT_MSG_EQ(said, true, "no qos pre-classify in the spoke's configuration");
    }
};

class DesignsCompared : public TestCase
{
  public:
    DesignsCompared()
        : TestCase("clear lowest; GET VPN branch to branch below FlexVPN hub-and-spoke by the "
                   "hub leg; DMVPN after the shortcut within a small margin of GET VPN")
    {
    }

  private:
    void DoRun() override
    {
        std::map<std::string, GetVsFlexResult> r;
        for (const std::string& d : GetVsFlexDesigns())
        {
            GetVsFlexParams p;
            p.design = d;
            p.branches = 3;
            p.hqDelay = MilliSeconds(40);
            p.duration = Seconds(1.5);
            r[d] = RunSeeded(p);
            for (const auto& f : r[d].flows)
            {
                NS_TEST_EXPECT_MSG_EQ(f.sum.received, f.sum.sent, d << " " << f.name << " lost packets");
            }
        }
        double clear = B2bMean(r["clear"]);
        double get = B2bMean(r["getvpn"]);
        double flex = B2bMean(r["flexvpn"]);
        double dmvpn = B2bMean(r["dmvpn"]);
        // The hub leg: what going through HQ adds to the direct path, from GET VPN's own flows.
        double leg = 0;
        uint32_t n = 0;
        for (uint32_t a = 1; a <= 3; a++)
        {
            for (uint32_t b = 1; b <= 3; b++)
            {
                if (a != b)
                {
                    std::string s = "BRANCH" + std::to_string(a), t = "BRANCH" + std::to_string(b);
                    leg += Mean(r["getvpn"], "voice " + s + ">HQ") + Mean(r["getvpn"], "voice HQ>" + t) -
                           Mean(r["getvpn"], "voice " + s + ">" + t);
                    n++;
                }
            }
        }
        leg /= n;
        NS_TEST_EXPECT_MSG_GT(leg, 2 * 40.0, "the hub leg crosses HQ's 40 ms link twice");
        NS_TEST_EXPECT_MSG_LT(clear, get, "clear is the baseline");
        NS_TEST_EXPECT_MSG_LT(get - clear, 1.0, "GET VPN adds only its overhead's serialization");
        NS_TEST_EXPECT_MSG_EQ_TOL(flex - get, leg, 3.0, "FlexVPN b2b " << flex << " ms, GET " << get);
        NS_TEST_EXPECT_MSG_EQ_TOL(dmvpn, get, 1.0, "DMVPN after the shortcut " << dmvpn << " ms");
        NS_TEST_EXPECT_MSG_LT(clear, dmvpn, "clear is the baseline");
        NS_TEST_EXPECT_MSG_LT(clear, flex, "clear is the baseline");
        // DMVPN's warm-up went through the hub first
        NS_TEST_EXPECT_MSG_GT(r["dmvpn"].warmupB2bMaxMs, 2 * 40.0, "no packet went via the hub");
        // SAs: one group TEK everywhere; a pair per spoke at the hub; shortcuts at a DMVPN spoke
        NS_TEST_EXPECT_MSG_EQ(r["getvpn"].sasHq, r["getvpn"].sasBranch, "GET VPN: the same group SAs");
        NS_TEST_EXPECT_MSG_EQ(r["flexvpn"].sasHq, 2u * 3, "FlexVPN hub: a pair per spoke");
        NS_TEST_EXPECT_MSG_EQ(r["flexvpn"].sasBranch, 2u, "FlexVPN spoke: one pair");
        NS_TEST_EXPECT_MSG_EQ(r["flexvpn"].tunnelsHq, 3u, "FlexVPN hub: a tunnel per spoke");
        NS_TEST_EXPECT_MSG_EQ(r["dmvpn"].tunnelsHq, 1u, "DMVPN hub: one mGRE tunnel");
        NS_TEST_EXPECT_MSG_EQ(r["dmvpn"].sasBranch, 2u * 3, "DMVPN spoke: hub and two shortcuts");
        NS_TEST_EXPECT_MSG_EQ(r["clear"].sasHq + r["clear"].controlPackets, 0u, "clear: no crypto");
        NS_TEST_EXPECT_MSG_GT(r["dmvpn"].nhrpMessages, 0u, "DMVPN: NHRP counted");
        // the overhead is real bytes: ESP and, for GRE/IPsec, GRE
        NS_TEST_EXPECT_MSG_EQ(r["clear"].voiceWireBytes, r["clear"].voiceClearBytes, "clear: no overhead");
        NS_TEST_EXPECT_MSG_GT(r["getvpn"].voiceWireBytes, r["getvpn"].voiceClearBytes + 30, "GET: ESP");
        NS_TEST_EXPECT_MSG_GT(r["flexvpn"].voiceWireBytes, r["flexvpn"].voiceClearBytes + 30, "Flex: ESP");
    }
};

// HQ's extra distance in LateJoin: hqDelay 20 ms, then 100 ms.
const double kHqNearMs = 20;
const double kHqFarMs = 100;

class LateJoin : public TestCase
{
  public:
    LateJoin()
        : TestCase("a branch joining late: its first encrypted packet to another branch takes "
                   "IKE's round trips and the hub leg (FlexVPN, DMVPN) or GET VPN's registration, "
                   "more than clear; no voice leaves a registered GET VPN member in clear")
    {
    }

  private:
    static GetVsFlexResult Run(const std::string& design, double hqMs)
    {
        GetVsFlexParams p;
        p.design = design;
        p.branches = 2;
        p.hqDelay = MilliSeconds(hqMs);
        p.load = 0;
        p.video = false;
        p.duration = Seconds(1);
        return RunSeeded(p);
    }

    void DoRun() override
    {
        std::map<std::string, GetVsFlexResult> near;
        std::map<std::string, GetVsFlexResult> far;
        for (const std::string& d : GetVsFlexDesigns())
        {
            near[d] = Run(d, kHqNearMs);
            far[d] = Run(d, kHqFarMs);
            NS_TEST_ASSERT_MSG_GT(near[d].joinSetupMs, 0.0, d << ": the late branch's call never arrived");
            NS_TEST_ASSERT_MSG_GT(far[d].joinSetupMs, 0.0, d << ": the late branch's call never arrived");
        }
        // Two branches: BRANCH2 (the late one) and HQ's CE hang off P1 by
        // 5 ms links, BRANCH1 off P2 (P1-P2 5 ms), the key server off HQ's
        // PE by 1 ms; each branch's access link is 2 ms.
        // clear: the path's one-way delay, HQ aside
        double clear = near["clear"].joinSetupMs;
        NS_TEST_EXPECT_MSG_GT(clear, 2 * 2.0 + 3 * 5.0 - 0.5, "clear: faster than the path");
        NS_TEST_EXPECT_MSG_LT(clear, 2 * 2.0 + 3 * 5.0 + 2.0, "clear: slower than the path");
        NS_TEST_EXPECT_MSG_EQ_TOL(far["clear"].joinSetupMs, clear, 0.5, "clear depends on HQ");
        const double extra = kHqFarMs - kHqNearMs; // on HQ's link, each way
        for (const std::string d : {"getvpn", "flexvpn", "dmvpn"})
        {
            for (auto* r : {&near, &far})
            {
                const GetVsFlexResult& x = (*r)[d];
                NS_TEST_EXPECT_MSG_GT(x.joinSetupMs, clear, d << " joins faster than clear");
                // the SA came first, then the first encrypted packet crossed the path
                NS_TEST_EXPECT_MSG_GT(x.joinSaMs, 0.0, d << ": no SA seen at the late branch");
                NS_TEST_EXPECT_MSG_GT(x.joinSetupMs, x.joinSaMs + clear - 0.5, d << ": delivered before its SA");
                NS_TEST_EXPECT_MSG_EQ(x.voiceClearAfterSa, 0u, d << ": voice left a CE in clear after its SA");
                NS_TEST_EXPECT_MSG_EQ(x.joinClearDelivered, 0u, d << ": the call arrived in clear");
            }
        }
        // FlexVPN and DMVPN: IKE_SA_INIT and IKE_AUTH, two round trips to
        // the hub, each crossing HQ's link twice; then the first packet
        // sent (one every 20 ms: the first after the SA) goes through the
        // hub, in and out of HQ's link
        for (const std::string d : {"flexvpn", "dmvpn"})
        {
            NS_TEST_EXPECT_MSG_GT(near[d].joinSaMs, 2 * 2 * (2.0 + 2 * 5.0 + kHqNearMs) - 0.5,
                                  d << ": IKE faster than two round trips to the hub");
            double saGrow = far[d].joinSaMs - near[d].joinSaMs;
            NS_TEST_EXPECT_MSG_GT(saGrow, 4 * extra - 0.5, d << ": IKE's two round trips to the hub");
            double grow = far[d].joinSetupMs - near[d].joinSetupMs;
            NS_TEST_EXPECT_MSG_GT(grow, 6 * extra - 20.0 - 0.5,
                                  d << ": the join grew by " << grow << " ms with HQ " << extra
                                    << " ms further");
            for (auto* r : {&near, &far})
            {
                const GetVsFlexResult& x = (*r)[d];
                double hq = r == &near ? kHqNearMs : kHqFarMs;
                NS_TEST_EXPECT_MSG_GT(x.joinSetupMs - x.joinSaMs, 2 * hq, d << ": not through the hub");
            }
        }
        // GET VPN: the key server is at HQ's PE, not behind HQ's link. The
        // registration is Main Mode (three round trips) and GROUPKEY-PULL
        // (two) to it; the first encrypted packet is the first one sent
        // after the TEK is in (one every 20 ms), then the path.
        for (auto* r : {&near, &far})
        {
            const GetVsFlexResult& g = (*r)["getvpn"];
            NS_TEST_EXPECT_MSG_GT(g.joinSaMs, 5 * 2 * (2.0 + 2 * 5.0 + 1.0) - 0.5,
                                  "GET VPN: registration faster than five round trips to the key server");
            NS_TEST_EXPECT_MSG_LT(g.joinSetupMs, g.joinSaMs + 20.0 + clear + 0.5,
                                  "GET VPN: the first encrypted packet later than registration + path");
            // IOS's default before registration (no fail-close): the new member sent in clear
            NS_TEST_EXPECT_MSG_GT(g.voiceClearPackets, 0u, "GET VPN: nothing left before registration");
        }
        NS_TEST_EXPECT_MSG_EQ_TOL(far["getvpn"].joinSetupMs, near["getvpn"].joinSetupMs, 1.0,
                                  "GET VPN's join depends on HQ's distance");
        // the point for students: far from HQ, GET VPN joins first
        NS_TEST_EXPECT_MSG_LT(far["getvpn"].joinSetupMs, far["flexvpn"].joinSetupMs, "GET VPN vs FlexVPN");
    }
};

class GetVsFlexTestSuite : public TestSuite
{
  public:
    GetVsFlexTestSuite()
        : TestSuite("get-vs-flex")
    {
        AddTestCase(new EncryptedLlqProtectsVoice("getvpn"));
        AddTestCase(new EncryptedLlqProtectsVoice("flexvpn"));
        AddTestCase(new PreClassifyOnTunnel);
        AddTestCase(new DesignsCompared);
        AddTestCase(new LateJoin);
    }
};

static GetVsFlexTestSuite g_getVsFlexTestSuite;

} // namespace
