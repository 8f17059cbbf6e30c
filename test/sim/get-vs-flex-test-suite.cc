// The GET VPN vs FlexVPN vs DMVPN comparison (issue 13), on the
// get-vs-flex scenario (examples/get-vs-flex-scenario.h) at fixed seeds:
//  - queueing on encrypted traffic: bulk TCP fills a branch's 2 Mbit/s
//    access link; with the CE's LLQ policy EF voice keeps its unloaded
//    delay within a few serialization times, on GET VPN (classified by the
//    preserved DSCP, the crypto map queueing through the policy) and on
//    FlexVPN tunnels; without the policy voice waits behind the TCP;
//  - `qos pre-classify`: a policy that finds voice by its UDP port (an
//    ACL) protects it on a FlexVPN tunnel only with pre-classify (the outer
//    header is ESP);
//  - the designs compared: clear lowest, GET VPN branch to branch below
//    FlexVPN hub-and-spoke by the extra hub leg, DMVPN after the shortcut
//    within a small margin of GET VPN; SAs per router as each design has them.

#include "get-vs-flex-scenario.h"

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
    RngSeedManager::SetSeed(1);
    RngSeedManager::SetRun(1);
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
                   "delay; without the policy it waits behind bulk TCP"),
          m_design(design)
    {
    }

  private:
    void DoRun() override
    {
        GetVsFlexResult idle = RunSeeded(Loaded(m_design, 0));
        GetVsFlexResult llq = RunSeeded(Loaded(m_design, 3));
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

class GetVsFlexTestSuite : public TestSuite
{
  public:
    GetVsFlexTestSuite()
        : TestSuite("get-vs-flex", UNIT)
    {
        AddTestCase(new EncryptedLlqProtectsVoice("getvpn"), TestCase::QUICK);
        AddTestCase(new EncryptedLlqProtectsVoice("flexvpn"), TestCase::QUICK);
        AddTestCase(new PreClassifyOnTunnel, TestCase::QUICK);
        AddTestCase(new DesignsCompared, TestCase::QUICK);
    }
};

static GetVsFlexTestSuite g_getVsFlexTestSuite;

} // namespace
