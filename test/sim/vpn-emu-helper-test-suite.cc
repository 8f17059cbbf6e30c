/*
 * VpnEmuHelper's refusals that need no root (issue 22): an interface that
 * does not exist, a name the kernel cannot hold, a peer namespace that does
 * not exist; nothing is attached and the node keeps its seeded randomness.
 * The attaching itself needs root and a veth: test/interop/emulation-case.sh.
 * VpnRealtimeLagMeter under the real-time scheduler: a sample a period, the
 * per-sample callback at each, SIGTERM ending the run early (and only that run).
 */
#include "ns3/enum.h"
#include "ns3/internet-stack-helper.h"
#include "ns3/node.h"
#include "ns3/simulator.h"
#include "ns3/test.h"
#include "ns3/vpn-module.h"

#include <csignal>
#include <string>

using namespace ns3;

class VpnEmuHelperRefusalTestCase : public TestCase
{
  public:
    VpnEmuHelperRefusalTestCase()
        : TestCase("unusable interfaces are refused with the name and the cause")
    {
    }

  private:
    void DoRun() override
    {
        VpnEmuHelper emu;
        NS_TEST_EXPECT_MSG_EQ(emu.Prepare("nosuch0"),
                              "interface nosuch0: does not exist",
                              "a missing interface");
        NS_TEST_EXPECT_MSG_EQ(emu.Prepare(""), "interface : not a valid interface name", "no name");
        NS_TEST_EXPECT_MSG_EQ(emu.Prepare("a-name-far-too-long-for-linux"),
                              "interface a-name-far-too-long-for-linux: not a valid interface name",
                              "IFNAMSIZ");

        Ptr<Node> node = CreateObject<Node>();
        InternetStackHelper stack;
        stack.Install(node);
        uint32_t devices = node->GetNDevices();
        std::string error;
        Ptr<NetDevice> dev = emu.Install(node, "nosuch0", error);
        NS_TEST_EXPECT_MSG_EQ((dev == nullptr), true, "nothing attached");
        NS_TEST_EXPECT_MSG_EQ(error, "interface nosuch0: does not exist", "Install says why");
        NS_TEST_EXPECT_MSG_EQ(node->GetNDevices(), devices, "no device added");
        // Starts at the other value, so the read is what is checked; typed from
        // its argument (EnumValue<T> since ns-3 3.41, plain EnumValue before).
        EnumValue v(VpnNodeEngine::OS);
        VpnNodeEngine::GetOrCreate(node)->GetAttribute("EntropySource", v);
        NS_TEST_EXPECT_MSG_EQ(v.Get(), VpnNodeEngine::SEEDED, "a refused node keeps Seeded");

        // The interface is checked first: lo (offload fixed on; or down in a
        // fresh namespace) is refused by name before the peer is looked at.
        emu.SetPeer("vpn-no-such-netns", "vs");
        std::string bad = emu.Prepare("lo");
        NS_TEST_EXPECT_MSG_EQ(bad.rfind("interface lo: ", 0), 0, "lo refused by name: " << bad);
        NS_TEST_EXPECT_MSG_EQ((bad.find("checksum offload") != std::string::npos ||
                               bad.find("is not up") != std::string::npos),
                              true,
                              "with its cause: " << bad);
        Simulator::Destroy();
    }
};

class VpnRealtimeLagMeterTestCase : public TestCase
{
  public:
    VpnRealtimeLagMeterTestCase()
        : TestCase("the lag meter samples every period and ends the run on SIGTERM")
    {
    }

  private:
    static void Count(uint32_t* n)
    {
        (*n)++;
    }

    void DoRun() override
    {
        VpnEmuHelper::EnableRealtime();

        // SIGTERM at 20 ms of a 10 s run: the next sample stops it.
        {
            VpnRealtimeLagMeter lag;
            Simulator::Schedule(MilliSeconds(20), [] { std::raise(SIGTERM); });
            lag.Run(Seconds(10));
            NS_TEST_EXPECT_MSG_EQ(lag.Signalled(), true, "SIGTERM ended the run");
            NS_TEST_EXPECT_MSG_LT(Simulator::Now(), MilliSeconds(100), "well before its end");
            NS_TEST_EXPECT_MSG_GT(lag.Samples(), 0U, "sampled until then");
            Simulator::Destroy();
        }

        // A run after it goes its full length: 99 samples in 100 ms (the one
        // at 100 ms comes after the stop), the callback at each.
        {
            VpnRealtimeLagMeter lag;
            uint32_t calls = 0;
            lag.SetOnSample(MakeBoundCallback(&VpnRealtimeLagMeterTestCase::Count, &calls));
            double wall = lag.Run(MilliSeconds(100));
            NS_TEST_EXPECT_MSG_EQ(lag.Signalled(), false, "no signal this time");
            NS_TEST_EXPECT_MSG_EQ(Simulator::Now(), MilliSeconds(100), "ran to its end");
            NS_TEST_EXPECT_MSG_EQ(lag.Samples(), 99U, "one sample a millisecond");
            NS_TEST_EXPECT_MSG_EQ(calls, lag.Samples(), "the callback at every sample");
            NS_TEST_EXPECT_MSG_EQ(wall, lag.WallSeconds(), "Run returns the wall seconds");
            NS_TEST_EXPECT_MSG_GT_OR_EQ(wall, 0.099, "real time: no faster than the wall clock");
            NS_TEST_EXPECT_MSG_GT_OR_EQ(lag.MaxMs(), lag.MeanMs(), "max at least the mean");
            Simulator::Destroy();
        }
        std::signal(SIGTERM, SIG_DFL);
        std::signal(SIGINT, SIG_DFL);
    }
};

class VpnEmuHelperTestSuite : public TestSuite
{
  public:
    VpnEmuHelperTestSuite()
        : TestSuite("vpn-emu-helper")
    {
        AddTestCase(new VpnEmuHelperRefusalTestCase);
        AddTestCase(new VpnRealtimeLagMeterTestCase);
    }
};

static VpnEmuHelperTestSuite g_vpnEmuHelperTestSuite;
