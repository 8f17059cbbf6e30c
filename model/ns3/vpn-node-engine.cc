#include "vpn-node-engine.h"
#include "vpn-ns3-compat.h"

#include "ns3/abort.h"
#include "ns3/enum.h"
#include "ns3/log.h"
#include "ns3/node.h"
#include "ns3/rng-seed-manager.h"
#include "ns3/simulator.h"
#include "ns3/uinteger.h"

#include <cstdio>
#include <cstring>

#include <openssl/crypto.h>

extern "C" {
#include "common/rng.h"
#include "common/vpn-err.h"
#include "common/vpn-log.h"
}

namespace ns3
{

struct VpnNodeEngine::Core
{
    vpn_drbg drbg{};
    vpn_rng rng{};
    vpn_log log{};
};

NS_LOG_COMPONENT_DEFINE("VpnNodeEngine");
NS_OBJECT_ENSURE_REGISTERED(VpnNodeEngine);

TypeId
VpnNodeEngine::GetTypeId()
{
    static TypeId tid =
        TypeId("ns3::VpnNodeEngine")
            .SetParent<Object>()
            .SetGroupName("Vpn")
            .AddConstructor<VpnNodeEngine>()
            .AddAttribute("LogLevel",
                          "Most verbose engine log level delivered (0 error, 1 warn, "
                          "2 info, 3 debug).",
                          UintegerValue(VPN_LOG_INFO),
                          MakeUintegerAccessor(&VpnNodeEngine::m_logLevel),
                          MakeUintegerChecker<uint32_t>(0, 3))
            .AddAttribute("EntropySource",
                          "Seed of the node's random stream (SPIs, nonces, DH keys, IVs): "
                          "Seeded (RngSeed/RngRun/node id, byte-reproducible) or Os (the "
                          "operating system's entropy; VpnEmuHelper sets it on nodes facing "
                          "a real interface).",
                          EnumValue(VpnNodeEngine::SEEDED),
                          vpncompat::MakeEnumAccessor<VpnNodeEngine::EntropySource>(
                              &VpnNodeEngine::SetEntropySource,
                              &VpnNodeEngine::GetEntropySource),
                          MakeEnumChecker(VpnNodeEngine::SEEDED,
                                          "Seeded",
                                          VpnNodeEngine::OS,
                                          "Os"))
            .AddTraceSource("Log",
                            "A log event from one of the node's engines.",
                            MakeTraceSourceAccessor(&VpnNodeEngine::m_logTrace),
                            "ns3::VpnNodeEngine::LogTracedCallback");
    return tid;
}

VpnNodeEngine::VpnNodeEngine()
    : m_nodeId(0),
      m_seeded(false),
      m_stream(-1),
      m_entropy(SEEDED),
      m_core(std::make_unique<Core>()),
      m_logLevel(VPN_LOG_INFO)
{
    NS_LOG_FUNCTION(this);
}

VpnNodeEngine::~VpnNodeEngine()
{
    NS_LOG_FUNCTION(this);
    vpn_drbg_free(&m_core->drbg);
}

Ptr<VpnNodeEngine>
VpnNodeEngine::GetOrCreate(Ptr<Node> node)
{
    Ptr<VpnNodeEngine> engine = node->GetObject<VpnNodeEngine>();
    if (!engine)
    {
        engine = CreateObject<VpnNodeEngine>();
        node->AggregateObject(engine);
    }
    return engine;
}

uint64_t
VpnNodeEngine::NowNs()
{
    return static_cast<uint64_t>(Simulator::Now().GetNanoSeconds());
}

void
VpnNodeEngine::NotifyNewAggregate()
{
    Ptr<Node> node = GetObject<Node>();
    if (node && !m_seeded)
    {
        m_nodeId = node->GetId();
        Seed();
    }
    Object::NotifyNewAggregate();
}

// The seed names ns-3's global seed and run and the node: the same triple
// gives the same stream, whatever else the simulation does.
void
VpnNodeEngine::Seed()
{
    char seed[96];
    // Without AssignStreams the seed string is what it always was, so
    // existing traces stay byte-identical.
    int n = m_stream < 0 ? std::snprintf(seed,
                                         sizeof seed,
                                         "ns3-vpn seed=%u run=%llu node=%u",
                                         RngSeedManager::GetSeed(),
                                         static_cast<unsigned long long>(RngSeedManager::GetRun()),
                                         m_nodeId)
                         : std::snprintf(seed,
                                         sizeof seed,
                                         "ns3-vpn seed=%u run=%llu stream=%lld",
                                         RngSeedManager::GetSeed(),
                                         static_cast<unsigned long long>(RngSeedManager::GetRun()),
                                         static_cast<long long>(m_stream));
    uint8_t material[sizeof seed + 48];
    std::memcpy(material, seed, static_cast<size_t>(n));
    size_t len = static_cast<size_t>(n);
    if (m_entropy == OS)
    {
        // A real peer must not see the same SPIs, nonces and DH private
        // values on every run (RFC 7296 2.10, 2.12): 384 bits from the OS
        // as the DRBG's entropy input (SP 800-90A 8.6.7 wants at least
        // 1.5 x 128 bits for a 128-bit strength instantiation).
        vpn_rng os;
        vpn_rng_init_system(&os);
        int rc = vpn_rng_bytes(&os, material + len, 48);
        NS_ABORT_MSG_IF(rc != 0, "no entropy from the operating system: " << vpn_strerror(rc));
        len += 48;
    }
    int rc = vpn_drbg_init(&m_core->drbg, material, len);
    OPENSSL_cleanse(material, sizeof material); // the OS part is key material
    NS_ABORT_MSG_IF(rc != 0, "DRBG instantiation failed: " << vpn_strerror(rc));
    vpn_rng_init_drbg(&m_core->rng, &m_core->drbg);
    m_seeded = true;
}

const vpn_rng*
VpnNodeEngine::GetRng()
{
    if (!m_seeded)
    {
        Seed();
    }
    return &m_core->rng;
}

int
VpnNodeEngine::ForkDrbg(vpn_drbg* child, const std::string& label)
{
    NS_LOG_FUNCTION(this << label);
    GetRng();
    return vpn_drbg_fork(&m_core->drbg, child, label.c_str());
}

int
VpnNodeEngine::ForkFollowingDrbg(vpn_drbg* child, const std::string& label)
{
    NS_LOG_FUNCTION(this << child << label);
    int rc = ForkDrbg(child, label);
    if (rc == 0)
    {
        m_following.emplace_back(child, label);
    }
    return rc;
}

void
VpnNodeEngine::ReleaseDrbg(vpn_drbg* child)
{
    NS_LOG_FUNCTION(this << child);
    for (auto it = m_following.begin(); it != m_following.end(); ++it)
    {
        if (it->first == child)
        {
            m_following.erase(it);
            return;
        }
    }
}

int64_t
VpnNodeEngine::AssignStreams(int64_t stream)
{
    NS_LOG_FUNCTION(this << stream);
    NS_ABORT_MSG_IF(stream < 0, "VpnNodeEngine::AssignStreams: negative stream " << stream);
    m_stream = stream;
    Reseed();
    return 1;
}

void
VpnNodeEngine::SetEntropySource(EntropySource source)
{
    NS_LOG_FUNCTION(this << source);
    if (source == m_entropy)
    {
        return;
    }
    m_entropy = source;
    if (m_seeded)
    {
        Reseed();
    }
}

VpnNodeEngine::EntropySource
VpnNodeEngine::GetEntropySource() const
{
    return m_entropy;
}

void
VpnNodeEngine::Reseed()
{
    if (m_seeded)
    {
        vpn_drbg_free(&m_core->drbg);
    }
    Seed();
    // Re-fork in the order they were forked: the same calls give the same streams.
    for (auto& [child, label] : m_following)
    {
        vpn_drbg_free(child);
        int rc = vpn_drbg_fork(&m_core->drbg, child, label.c_str());
        NS_ABORT_MSG_IF(rc != 0, "DRBG fork failed: " << vpn_strerror(rc));
    }
}

void
VpnNodeEngine::DeliverLog(int level, const char* engine, const char* msg)
{
    NS_LOG_LOGIC("node " << m_nodeId << " [" << vpn_log_level_name(static_cast<vpn_log_level>(level))
                         << "] " << engine << ": " << msg);
    m_logTrace(level, engine, msg);
}

// The C callback type takes the enum; adapt without a cast of the function.
static void
LogAdapter(void* user, vpn_log_level level, const char* engine, const char* msg)
{
    static_cast<VpnNodeEngine*>(user)->DeliverLog(static_cast<int>(level), engine, msg);
}

const vpn_log*
VpnNodeEngine::GetLog() const
{
    auto self = const_cast<VpnNodeEngine*>(this);
    m_core->log.fn = &LogAdapter;
    m_core->log.user = self;
    m_core->log.max = static_cast<vpn_log_level>(m_logLevel);
    return &m_core->log;
}

uint32_t
VpnNodeEngine::GetNodeId() const
{
    return m_nodeId;
}

void
VpnNodeEngine::DoDispose()
{
    NS_LOG_FUNCTION(this);
    m_following.clear();
    vpn_drbg_free(&m_core->drbg);
    m_seeded = false;
    Object::DoDispose();
}

} // namespace ns3
