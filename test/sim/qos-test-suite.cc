// LLQ on a branch's loaded access link (issue 13): bulk TCP saturates a
// 2 Mbit/s, 10 ms access link while EF voice crosses it. With the IOS LLQ
// policy voice stays within a few serialization times of the unloaded case
// while best effort waits; with no policy (one FIFO) voice suffers; a
// shaping parent holds a faster link to the contracted sub-rate; a bad
// policy is refused naming its line.

#include "qos-llq-scenario.h"

#include "ns3/core-module.h"
#include "ns3/test.h"
#include "ns3/vpn-module.h"

#include <string>
#include <utility>

using namespace ns3;

namespace
{

// The CE's policy: voice in the priority queue, video with a share,
// everything else in one FIFO in class-default (so the best-effort probe
// waits behind the bulk TCP).
const std::string kLlq = "hostname CE1\n"
                         "class-map match-any VOICE\n"
                         " match dscp ef\n"
                         "class-map match-any VIDEO\n"
                         " match dscp af41\n"
                         "policy-map WAN-EDGE\n"
                         " class VOICE\n"
                         "  priority percent 30\n"
                         " class VIDEO\n"
                         "  bandwidth percent 35\n"
                         " class class-default\n"
                         "  queue-limit 64 packets\n"
                         "interface Serial0/0/0\n"
                         " service-policy output WAN-EDGE\n";

// The same with fair-queue in class-default: a thin best-effort flow gets its
// own flow queue and no longer waits behind the bulk TCP.
std::string
WithFairQueue(std::string cfg)
{
    return cfg.replace(cfg.find("  queue-limit 64 packets"), 24, "  fair-queue");
}

// The same under a 2 Mbit/s shaper, for a 10 Mbit/s hand-off.
const std::string kShaped = kLlq.substr(0, kLlq.find("interface")) +
                            "policy-map SHAPE-2M\n"
                            " class class-default\n"
                            "  shape average 2000000\n"
                            "  service-policy WAN-EDGE\n"
                            "interface GigabitEthernet0/1\n"
                            " service-policy output SHAPE-2M\n";

// One 1500-byte packet at 2 Mbit/s.
const double kSerMs = 1500 * 8 / 2000.0;

const QosLlqFlow*
Find(const QosLlqResult& r, const std::string& name)
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
P99(const QosLlqResult& r, const std::string& name)
{
    const QosLlqFlow* f = Find(r, name);
    return f ? f->sum.p99_ns / 1e6 : 1e9;
}

double
Unloaded(const std::string& config)
{
    QosLlqParams p;
    p.ceConfig = config;
    p.bulkFlows = 0;
    p.video = false;
    p.duration = Seconds(5);
    return P99(RunQosLlq(p), "voice-g711");
}

// A case that can check the CE's queue disc counters after a run.
class QosCase : public TestCase
{
  public:
    using TestCase::TestCase;

  protected:
    // What a queue disc promises ns-3 (QueueDisc::Enqueue asserts the first
    // two in debug builds; release builds, Debian's among them, do not check):
    // every packet offered is either enqueued or dropped before enqueue, and
    // whatever was enqueued was dequeued or is still queued. The policy's own
    // class counters must tell the same story, packet for packet.
    void CheckQdiscCounts(const QosLlqResult& r, const std::string& what)
    {
        const QosLlqResult::QdiscCounts& q = r.qdisc;
        NS_TEST_EXPECT_MSG_GT(q.received, 0, what << ": the queue disc saw traffic");
        NS_TEST_EXPECT_MSG_EQ(q.received,
                              q.droppedBefore + q.enqueued,
                              what << ": received == dropped before enqueue + enqueued");
        NS_TEST_EXPECT_MSG_EQ(q.enqueued,
                              q.dequeued + q.queuedNow,
                              what << ": enqueued == dequeued + still queued");
        NS_TEST_EXPECT_MSG_EQ(q.received, q.classMatched, what << ": offered, ns-3 and classes");
        NS_TEST_EXPECT_MSG_EQ(q.droppedBefore, q.classDropped, what << ": dropped, ns-3 and classes");
        NS_TEST_EXPECT_MSG_EQ(q.dequeued, q.classSent, what << ": sent, ns-3 and classes");
        NS_TEST_EXPECT_MSG_EQ(q.queuedNow, q.classDepth, what << ": queued, ns-3 and classes");
    }
};

class QosLlqProtectsVoice : public QosCase
{
  public:
    QosLlqProtectsVoice()
        : QosCase("LLQ: EF voice within a few serialization times of unloaded; best effort waits")
    {
    }

  private:
    void DoRun() override
    {
        double base = Unloaded(kLlq);
        // Unloaded: 10 ms propagation + 0.8 ms serialization + LAN hops.
        NS_TEST_EXPECT_MSG_LT(base, 12.0, "unloaded voice delay");
        QosLlqParams p;
        p.ceConfig = kLlq;
        QosLlqResult r = RunQosLlq(p);
        NS_TEST_ASSERT_MSG_EQ(r.error, "", "policy refused");
        double voice = P99(r, "voice-g711");
        double g729 = P99(r, "voice-g729");
        double be = P99(r, "be-probe");
        // A voice packet waits at most for the packet on the wire and the
        // one in the tx-ring: two serialization times, plus voice ahead of it.
        NS_TEST_EXPECT_MSG_LT(voice, base + 3 * kSerMs, "G.711 p99 with LLQ");
        NS_TEST_EXPECT_MSG_LT(g729, base + 3 * kSerMs, "G.729 p99 with LLQ");
        NS_TEST_EXPECT_MSG_GT(be, voice + 5 * kSerMs, "best effort does wait");
        const QosLlqFlow* v = Find(r, "voice-g711");
        NS_TEST_EXPECT_MSG_EQ(v->sum.lost, 0, "no voice lost");
        NS_TEST_EXPECT_MSG_GT(v->sum.received, 300, "voice flowed");
        double mos = vpn_qos_mos(vpn_qos_emodel_voice(VPN_QOS_G711, voice, 0));
        NS_TEST_EXPECT_MSG_GT(mos, 4.3, "MOS");
        // The link was full: TCP got most of what voice and video left.
        NS_TEST_EXPECT_MSG_GT(r.bulkGoodputBps, 0.8e6, "bulk TCP filled the link");
        CheckQdiscCounts(r, "LLQ");
        NS_TEST_EXPECT_MSG_NE(r.showPolicyMap.find("Class-map: VOICE (match-any)"),
                              std::string::npos,
                              r.showPolicyMap);
    }
};

class QosFairQueueIsolatesThinFlow : public QosCase
{
  public:
    QosFairQueueIsolatesThinFlow()
        : QosCase("fair-queue in class-default: a thin best-effort flow does not wait behind "
                   "bulk TCP")
    {
    }

  private:
    void DoRun() override
    {
        QosLlqParams p;
        p.ceConfig = WithFairQueue(kLlq);
        QosLlqResult r = RunQosLlq(p);
        NS_TEST_ASSERT_MSG_EQ(r.error, "", "policy refused");
        double voice = P99(r, "voice-g711");
        // Round robin over three flow queues (two TCP, the probe): the probe
        // waits for at most a packet of each TCP flow, the wire and the tx-ring.
        NS_TEST_EXPECT_MSG_LT(P99(r, "be-probe"), voice + 4 * kSerMs, "thin flow isolated");
        NS_TEST_EXPECT_MSG_GT(r.bulkGoodputBps, 0.8e6, "bulk TCP still fills the link");
        CheckQdiscCounts(r, "fair-queue");
        NS_TEST_EXPECT_MSG_NE(r.showPolicyMap.find("Fair-queue: per-flow queue limit 16 packets"),
                              std::string::npos,
                              r.showPolicyMap);
    }
};

class QosFifoHurtsVoice : public TestCase
{
  public:
    QosFifoHurtsVoice()
        : TestCase("no policy: one FIFO, voice waits behind bulk TCP")
    {
    }

  private:
    void DoRun() override
    {
        double base = Unloaded(kLlq);
        QosLlqParams p; // ceConfig empty: a FIFO of 40 packets
        QosLlqResult r = RunQosLlq(p);
        double voice = P99(r, "voice-g711");
        NS_TEST_EXPECT_MSG_GT(voice, base + 10 * kSerMs, "voice suffers without the policy");
        NS_TEST_EXPECT_MSG_GT(r.bulkGoodputBps, 0.8e6, "bulk TCP filled the link");
    }
};

class QosShaperHoldsSubRate : public QosCase
{
  public:
    QosShaperHoldsSubRate()
        : QosCase("shape average 2 Mbps on a 10 Mbps hand-off, LLQ child")
    {
    }

  private:
    void DoRun() override
    {
        QosLlqParams p;
        p.ceConfig = kShaped;
        p.ceWanIf = "GigabitEthernet0/1";
        p.accessBps = 10000000;
        p.voice = true;
        p.video = false;
        QosLlqResult r = RunQosLlq(p);
        NS_TEST_ASSERT_MSG_EQ(r.error, "", "policy refused");
        // Everything together stays under the shaped rate, and close to it.
        const QosLlqFlow* v = Find(r, "voice-g711");
        const QosLlqFlow* g = Find(r, "voice-g729");
        const QosLlqFlow* b = Find(r, "be-probe");
        double dur = 8.0; // the RTP flows ran 2 s to 10 s
        double total = r.bulkGoodputBps + (v->sum.bytes + g->sum.bytes + b->sum.bytes) * 8 / dur;
        NS_TEST_EXPECT_MSG_LT(total, 2.0e6, "shaped to 2 Mbit/s (payload bytes)");
        NS_TEST_EXPECT_MSG_GT(total, 1.6e6, "and using it");
        // The shaper's queue is in front of voice only in the priority class.
        double unloaded = 10.0 + 1.5; // 10 ms + serialization at 10 Mbit/s + LAN
        double voice = P99(r, "voice-g711");
        NS_TEST_EXPECT_MSG_LT(voice, unloaded + 3 * kSerMs, "voice under the shaper");
        NS_TEST_EXPECT_MSG_GT(P99(r, "be-probe"), voice + 5 * kSerMs, "best effort waits");
        CheckQdiscCounts(r, "shaper");
        NS_TEST_EXPECT_MSG_NE(r.showPolicyMap.find("shape (average) cir 2000000"),
                              std::string::npos,
                              r.showPolicyMap);
    }
};

class QosQdiscCountsAgree : public QosCase
{
  public:
    QosQdiscCountsAgree()
        : QosCase("the LLQ queue disc keeps ns-3's QueueDisc counters: offered = enqueued + "
                  "dropped, enqueued = dequeued + queued, and they match the classes'")
    {
    }

  private:
    void DoRun() override
    {
        // Bulk TCP overflows class-default (64 packets, or 16 per flow queue
        // with fair-queue): the drop path and, with fair-queue, several flow
        // queues of one class are exercised. Short, so it runs under every RngRun.
        const std::pair<std::string, std::string> runs[] = {{"LLQ", kLlq},
                                                            {"fair-queue", WithFairQueue(kLlq)}};
        for (const auto& [what, cfg] : runs)
        {
            QosLlqParams p;
            p.ceConfig = cfg;
            p.duration = Seconds(6);
            QosLlqResult r = RunQosLlq(p);
            NS_TEST_ASSERT_MSG_EQ(r.error, "", "policy refused");
            NS_TEST_EXPECT_MSG_GT(r.qdisc.droppedBefore, 0, what << ": the bulk TCP overflowed a queue");
            NS_TEST_EXPECT_MSG_GT(r.qdisc.dequeued, 0, what << ": packets left the queue disc");
            CheckQdiscCounts(r, what);
        }
    }
};

class QosBadPolicyRefused : public TestCase
{
  public:
    QosBadPolicyRefused()
        : TestCase("a policy reserving more than the link is refused, naming its line")
    {
    }

  private:
    void DoRun() override
    {
        QosLlqParams p;
        p.ceConfig = "class-map V\n match dscp ef\npolicy-map P\n class V\n  priority 3000\n"
                     "interface Serial0/0/0\n service-policy output P\n";
        p.duration = Seconds(1);
        QosLlqResult r = RunQosLlq(p);
        NS_TEST_EXPECT_MSG_NE(r.error.find("line 3"), std::string::npos, r.error);
        NS_TEST_EXPECT_MSG_EQ(r.flows.size(), 0, "nothing ran");
        p.ceConfig = "policy-map P\n class V\n";
        r = RunQosLlq(p);
        NS_TEST_EXPECT_MSG_NE(r.error.find("line 2"), std::string::npos, r.error);
    }
};

class QosLlqTestSuite : public TestSuite
{
  public:
    QosLlqTestSuite()
        : TestSuite("qos-llq")
    {
        AddTestCase(new QosLlqProtectsVoice);
        AddTestCase(new QosFairQueueIsolatesThinFlow);
        AddTestCase(new QosFifoHurtsVoice);
        AddTestCase(new QosShaperHoldsSubRate);
        AddTestCase(new QosQdiscCountsAgree);
        AddTestCase(new QosBadPolicyRefused);
    }
};

static QosLlqTestSuite g_qosLlqTestSuite;

} // namespace
