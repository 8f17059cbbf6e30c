#include "vpn-node-engine.h"

#include "ns3/abort.h"
#include "ns3/log.h"
#include "ns3/node.h"
#include "ns3/rng-seed-manager.h"
#include "ns3/simulator.h"
#include "ns3/uinteger.h"

#include <cstdio>

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
    int rc = vpn_drbg_init(&m_core->drbg, seed, static_cast<size_t>(n));
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
    return 1;
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
