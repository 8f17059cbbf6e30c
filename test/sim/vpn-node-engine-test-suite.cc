// The per-node engine: deterministic randomness from RngSeed/RngRun, time in
// nanoseconds, and engine log events reaching the Log trace source.
#include "ns3/enum.h"
#include "ns3/node.h"
#include "ns3/rng-seed-manager.h"
#include "ns3/simulator.h"
#include "ns3/test.h"
#include "ns3/uinteger.h"
#include "ns3/vpn-module.h"

#include "vpn-sim-topology.h"

extern "C" {
#include "common/rng.h"
#include "common/vpn-log.h"
}

#include <array>
#include <string>
#include <vector>

using namespace ns3;

namespace
{

using Bytes = std::array<uint8_t, 32>;

// Draws 32 bytes from node `index` of a fresh simulation at (seed, run).
std::vector<Bytes>
DrawFromRun(uint32_t seed, uint64_t run, uint32_t nodes)
{
    vpnsim::PinStream(seed, run);
    std::vector<Bytes> out;
    std::vector<Ptr<Node>> keep;
    for (uint32_t i = 0; i < nodes; i++)
    {
        Ptr<Node> node = CreateObject<Node>();
        keep.push_back(node);
        Ptr<VpnNodeEngine> engine = VpnNodeEngine::GetOrCreate(node);
        Bytes b{};
        int rc = vpn_rng_bytes(engine->GetRng(), b.data(), b.size());
        NS_ABORT_IF(rc != 0);
        out.push_back(b);
    }
    Simulator::Destroy();
    return out;
}

} // namespace

class VpnEngineRngTestCase : public TestCase
{
  public:
    VpnEngineRngTestCase()
        : TestCase("same seed and run give the same bytes; other runs and nodes differ")
    {
    }

  private:
    void DoRun() override
    {
        auto a = DrawFromRun(1, 1, 3);
        auto b = DrawFromRun(1, 1, 3);
        auto c = DrawFromRun(1, 2, 3);
        auto d = DrawFromRun(2, 1, 3);
        for (size_t i = 0; i < a.size(); i++)
        {
            NS_TEST_EXPECT_MSG_EQ((a[i] == b[i]), true, "same seed/run must repeat, node " << i);
            NS_TEST_EXPECT_MSG_EQ((a[i] == c[i]), false, "another run must differ, node " << i);
            NS_TEST_EXPECT_MSG_EQ((a[i] == d[i]), false, "another seed must differ, node " << i);
        }
        NS_TEST_EXPECT_MSG_EQ((a[0] == a[1]), false, "two nodes must not share a stream");
        NS_TEST_EXPECT_MSG_EQ((a[1] == a[2]), false, "two nodes must not share a stream");
        vpnsim::PinStream(1);
    }
};

class VpnEngineForkTestCase : public TestCase
{
  public:
    VpnEngineForkTestCase()
        : TestCase("forked engine streams are reproducible and distinct")
    {
    }

  private:
    void DoRun() override
    {
        std::array<Bytes, 2> first{};
        for (int round = 0; round < 2; round++)
        {
            Ptr<Node> node = CreateObject<Node>();
            Ptr<VpnNodeEngine> engine = VpnNodeEngine::GetOrCreate(node);
            vpn_drbg ike;
            vpn_drbg esp;
            NS_TEST_ASSERT_MSG_EQ(engine->ForkDrbg(&ike, "ikev2"), 0, "fork");
            NS_TEST_ASSERT_MSG_EQ(engine->ForkDrbg(&esp, "esp"), 0, "fork");
            Bytes x{};
            Bytes y{};
            vpn_drbg_generate(&ike, x.data(), x.size());
            vpn_drbg_generate(&esp, y.data(), y.size());
            NS_TEST_EXPECT_MSG_EQ((x == y), false, "labels must separate streams");
            first[round] = x;
            vpn_drbg_free(&ike);
            vpn_drbg_free(&esp);
            Simulator::Destroy();
        }
        NS_TEST_EXPECT_MSG_EQ((first[0] == first[1]), true, "a rerun forks the same stream");
    }
};

// EntropySource (issue 22): a node facing a real peer draws from the OS,
// so two runs at the same seed and run differ; Seeded stays reproducible.
class VpnEngineEntropySourceTestCase : public TestCase
{
  public:
    VpnEngineEntropySourceTestCase()
        : TestCase("EntropySource Os: runs at the same seed differ; Seeded repeats; following "
                   "children are re-forked")
    {
    }

  private:
    // One run: a node (Os set by attribute before or after the first draw),
    // its first bytes and those of a following child forked before the switch.
    struct Draw
    {
        Bytes node{};
        Bytes child{};
    };

    Draw Run(bool os, bool switchLate)
    {
        vpnsim::PinStream(1);
        Ptr<Node> node = CreateObject<Node>();
        Ptr<VpnNodeEngine> engine = VpnNodeEngine::GetOrCreate(node);
        vpn_drbg child;
        NS_ABORT_IF(engine->ForkFollowingDrbg(&child, "ikev2") != 0);
        if (os && !switchLate)
        {
            engine->SetAttribute("EntropySource", EnumValue(VpnNodeEngine::OS));
        }
        Draw d;
        if (os && switchLate)
        {
            Bytes before{};
            NS_ABORT_IF(vpn_rng_bytes(engine->GetRng(), before.data(), before.size()) != 0);
            engine->SetEntropySource(VpnNodeEngine::OS);
        }
        NS_ABORT_IF(vpn_rng_bytes(engine->GetRng(), d.node.data(), d.node.size()) != 0);
        NS_ABORT_IF(vpn_drbg_generate(&child, d.child.data(), d.child.size()) != 0);
        engine->ReleaseDrbg(&child);
        vpn_drbg_free(&child);
        Simulator::Destroy();
        return d;
    }

    void DoRun() override
    {
        Draw s1 = Run(false, false);
        Draw s2 = Run(false, false);
        NS_TEST_EXPECT_MSG_EQ((s1.node == s2.node && s1.child == s2.child), true,
                              "Seeded must repeat at the same seed and run");
        Draw o1 = Run(true, false);
        Draw o2 = Run(true, false);
        NS_TEST_EXPECT_MSG_EQ((o1.node == o2.node), false, "Os: two runs must differ");
        NS_TEST_EXPECT_MSG_EQ((o1.child == o2.child), false,
                              "Os: a following child must be re-forked from the OS-seeded stream");
        NS_TEST_EXPECT_MSG_EQ((o1.node == s1.node), false, "Os must not equal Seeded");
        Draw l1 = Run(true, true);
        Draw l2 = Run(true, true);
        NS_TEST_EXPECT_MSG_EQ((l1.node == l2.node || l1.child == l2.child), false,
                              "Os set after the first draw must reseed too");
        Ptr<VpnNodeEngine> e = CreateObject<VpnNodeEngine>();
        // Starts at the other value, so the read is what is checked; typed from
        // its argument (EnumValue<T> since ns-3 3.41, plain EnumValue before).
        EnumValue v(VpnNodeEngine::OS);
        e->GetAttribute("EntropySource", v);
        NS_TEST_EXPECT_MSG_EQ(v.Get(), VpnNodeEngine::SEEDED, "Seeded is the default");
        Simulator::Destroy();
    }
};

class VpnEngineClockAndLogTestCase : public TestCase
{
  public:
    VpnEngineClockAndLogTestCase()
        : TestCase("engine time is simulated nanoseconds; logs reach the trace")
    {
    }

  private:
    std::vector<std::string> m_logs;
    uint64_t m_seenNow{0};

    void Sink(int level, const std::string& engine, const std::string& msg)
    {
        m_logs.push_back(std::to_string(level) + " " + engine + " " + msg);
    }

    void DoRun() override
    {
        Ptr<Node> node = CreateObject<Node>();
        Ptr<VpnNodeEngine> engine = VpnNodeEngine::GetOrCreate(node);
        NS_TEST_ASSERT_MSG_EQ(VpnNodeEngine::GetOrCreate(node), engine, "one engine per node");
        NS_TEST_ASSERT_MSG_EQ(engine->GetNodeId(), node->GetId(), "node id");
        engine->SetAttribute("LogLevel", UintegerValue(VPN_LOG_INFO));
        engine->TraceConnectWithoutContext("Log", MakeCallback(&VpnEngineClockAndLogTestCase::Sink, this));
        Simulator::Schedule(Seconds(1.5) + NanoSeconds(7), [this, engine]() {
            m_seenNow = VpnNodeEngine::NowNs();
            vpn_log_emit(engine->GetLog(), VPN_LOG_INFO, "ikev2", "SA %d up", 1);
            vpn_log_emit(engine->GetLog(), VPN_LOG_DEBUG, "ikev2", "filtered");
        });
        Simulator::Run();
        Simulator::Destroy();
        NS_TEST_EXPECT_MSG_EQ(m_seenNow, 1500000007ULL, "nanosecond clock");
        NS_TEST_ASSERT_MSG_EQ(m_logs.size(), 1, "debug event filtered by LogLevel");
        NS_TEST_EXPECT_MSG_EQ(m_logs[0], "2 ikev2 SA 1 up", "log event content");
    }
};

class VpnNodeEngineTestSuite : public TestSuite
{
  public:
    VpnNodeEngineTestSuite()
        : TestSuite("vpn-node-engine")
    {
        AddTestCase(new VpnEngineRngTestCase);
        AddTestCase(new VpnEngineForkTestCase);
        AddTestCase(new VpnEngineEntropySourceTestCase);
        AddTestCase(new VpnEngineClockAndLogTestCase);
    }
};

static VpnNodeEngineTestSuite g_vpnNodeEngineTestSuite;
