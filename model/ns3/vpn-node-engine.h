/*
 * Per-node home of the C protocol engines.
 *
 * One VpnNodeEngine is aggregated to each Node that runs VPN code. It owns
 * what the C core needs from its environment and nothing protocol-specific:
 *   - simulated time in nanoseconds, the clock every engine is driven by;
 *   - a deterministic random stream (HMAC_DRBG) seeded from ns-3's RngSeed,
 *     RngRun and the node id (or the stream number AssignStreams gave it),
 *     so one seed and run give byte-identical traces, and engines forked
 *     from it draw independent streams; or, with EntropySource Os (a node
 *     facing a real peer through VpnEmuHelper), the same DRBG seeded from
 *     the operating system's entropy, so keys differ on every run;
 *   - a bridge from the engines' log callback to NS_LOG and a trace source.
 */
#ifndef VPN_NODE_ENGINE_H
#define VPN_NODE_ENGINE_H

#include "ns3/object.h"
#include "ns3/traced-callback.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

// The C core's types, declared here so that users of this header need not
// see the core's include path.
struct vpn_drbg;
struct vpn_rng;
struct vpn_log;

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

    /** Where the node's DRBG takes its seed from. */
    enum EntropySource
    {
        SEEDED, //!< RngSeed, RngRun and node id (or stream): byte-reproducible runs
        OS      //!< the operating system's entropy (OpenSSL RAND_bytes): a real peer
    };

    VpnNodeEngine();
    ~VpnNodeEngine() override;

    /**
     * Returns the node's engine, creating and aggregating it on first use.
     */
    static Ptr<VpnNodeEngine> GetOrCreate(Ptr<Node> node);

    /** Current simulated time in nanoseconds (the engines' `now`). */
    static uint64_t NowNs();

    /** The node-wide random stream (valid for the engine's lifetime). */
    const struct vpn_rng* GetRng();

    /**
     * Seeds \p child with a stream of its own for one engine instance; the
     * label keeps streams of different engines apart. Returns a VPN_ERR_*.
     */
    int ForkDrbg(struct vpn_drbg* child, const std::string& label);

    /**
     * As ForkDrbg, and \p child follows the node's stream: AssignStreams
     * re-forks it in place (same address, so rng handles pointing at it stay
     * valid). The owner calls ReleaseDrbg before it frees \p child.
     */
    int ForkFollowingDrbg(struct vpn_drbg* child, const std::string& label);

    /** Stops \p child following the node's stream (it may then be freed). */
    void ReleaseDrbg(struct vpn_drbg* child);

    /**
     * Uses DRBG stream number \p stream for this node instead of its node
     * id: the node's draws (SPIs, nonces, IVs, cookies, DH keys) then depend
     * on the RngSeed, RngRun and \p stream only, as ns-3 random variables
     * do. The node DRBG is reseeded and every following child re-forked;
     * children forked with ForkDrbg keep what they had. Call it before the
     * simulation starts. Returns the number of streams used (1).
     */
    int64_t AssignStreams(int64_t stream);

    /**
     * Switches the node's randomness source. Changing it after engines were
     * forked reseeds the node DRBG and re-forks the following children (as
     * AssignStreams does); children forked with ForkDrbg keep their stream,
     * so switch before installing the engines.
     */
    void SetEntropySource(EntropySource source);
    EntropySource GetEntropySource() const;

    /** Log sink to hand to C engines; events go to NS_LOG and the Log trace. */
    const struct vpn_log* GetLog() const;

    /** Delivers one engine log event to NS_LOG and the Log trace. */
    void DeliverLog(int level, const char* engine, const char* msg);

    /** Node this engine serves (0 before aggregation). */
    uint32_t GetNodeId() const;

    /** Signature of the Log trace source: level, engine name, message. */
    typedef void (*LogTracedCallback)(int level, const std::string& engine,
                                      const std::string& message);

  protected:
    void NotifyNewAggregate() override;
    void DoDispose() override;

  private:
    struct Core; // the C state: DRBG, RNG handle, log sink
    void Seed();
    void Reseed();

    uint32_t m_nodeId;
    bool m_seeded;
    int64_t m_stream; //!< -1: seeded by node id
    EntropySource m_entropy;
    std::vector<std::pair<struct vpn_drbg*, std::string>> m_following;
    std::unique_ptr<Core> m_core;
    uint32_t m_logLevel;
    TracedCallback<int, const std::string&, const std::string&> m_logTrace;
};

} // namespace ns3

#endif
