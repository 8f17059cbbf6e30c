/*
 * Per-node home of the C protocol engines.
 *
 * One VpnNodeEngine is aggregated to each Node that runs VPN code. It owns
 * what the C core needs from its environment and nothing protocol-specific:
 *   - simulated time in nanoseconds, the clock every engine is driven by;
 *   - a deterministic random stream (HMAC_DRBG) seeded from ns-3's RngSeed,
 *     RngRun and the node id, so one seed and run give byte-identical
 *     traces, and engines forked from it draw independent streams;
 *   - a bridge from the engines' log callback to NS_LOG and a trace source.
 */
#ifndef VPN_NODE_ENGINE_H
#define VPN_NODE_ENGINE_H

#include "ns3/object.h"
#include "ns3/traced-callback.h"

#include <cstdint>
#include <string>

extern "C" {
#include "common/rng.h"
#include "common/vpn-err.h"
#include "common/vpn-log.h"
}

namespace ns3
{

class Node;

/**
 * \ingroup vpn
 * \brief Per-node context for the VPN engines: time, randomness, logging.
 */
class VpnNodeEngine : public Object
{
  public:
    static TypeId GetTypeId();

    VpnNodeEngine();
    ~VpnNodeEngine() override;

    /**
     * Returns the node's engine, creating and aggregating it on first use.
     */
    static Ptr<VpnNodeEngine> GetOrCreate(Ptr<Node> node);

    /** Current simulated time in nanoseconds (the engines' `now`). */
    static uint64_t NowNs();

    /** The node-wide random stream (valid for the engine's lifetime). */
    const vpn_rng* GetRng();

    /**
     * Seeds \p child with a stream of its own for one engine instance; the
     * label keeps streams of different engines apart. Returns a VPN_ERR_*.
     */
    int ForkDrbg(vpn_drbg* child, const std::string& label);

    /** Log sink to hand to C engines; events go to NS_LOG and the Log trace. */
    const vpn_log* GetLog() const;

    /** Node this engine serves (0 before aggregation). */
    uint32_t GetNodeId() const;

    /** Signature of the Log trace source: level, engine name, message. */
    typedef void (*LogTracedCallback)(int level, const std::string& engine,
                                      const std::string& message);

  protected:
    void NotifyNewAggregate() override;
    void DoDispose() override;

  private:
    void Seed();
    static void LogThunk(void* user, vpn_log_level level, const char* engine, const char* msg);

    uint32_t m_nodeId;
    bool m_seeded;
    vpn_drbg m_drbg;
    vpn_rng m_rng;
    vpn_log m_log;
    uint32_t m_logLevel;
    TracedCallback<int, const std::string&, const std::string&> m_logTrace;
};

} // namespace ns3

#endif
