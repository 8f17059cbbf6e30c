/*
 * VpnEmuHelper's refusals that need no root (issue 22): an interface that
 * does not exist, a name the kernel cannot hold, a peer namespace that does
 * not exist; nothing is attached and the node keeps its seeded randomness.
 * The attaching itself needs root and a veth: test/interop/emulation-case.sh.
 */
#include "ns3/enum.h"
#include "ns3/internet-stack-helper.h"
#include "ns3/node.h"
#include "ns3/simulator.h"
#include "ns3/test.h"
#include "ns3/vpn-module.h"

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

class VpnEmuHelperTestSuite : public TestSuite
{
  public:
    VpnEmuHelperTestSuite()
        : TestSuite("vpn-emu-helper")
    {
        AddTestCase(new VpnEmuHelperRefusalTestCase);
    }
};

static VpnEmuHelperTestSuite g_vpnEmuHelperTestSuite;
