/*
 * Distributed runs on ns-3's MPI simulator (issue 19): which rank this
 * process is, whether a node is simulated here, and where this rank writes
 * its output. ns-3 partitions by node: every rank builds the whole topology
 * (same nodes, same order, so node ids and random streams agree), each node
 * carries the rank that simulates it (its system id, given when it is
 * created), and a point-to-point link between nodes of different ranks
 * becomes a PointToPointRemoteChannel (PointToPointHelper does that by
 * itself), whose delay is the ranks' lookahead: it must not be zero.
 * Helpers configure every node on every rank but start engines and traffic
 * only on the rank's own nodes.
 *
 * Built without ns-3's MPI module (Debian's binary packages: NS3_MPI is not
 * defined) the class still exists: one rank, every node local, and asking
 * for more ranks is an error.
 */
#ifndef VPN_MPI_HELPER_H
#define VPN_MPI_HELPER_H

#include "ns3/node.h"
#include "ns3/ptr.h"

#include <cstdint>
#include <string>

namespace ns3
{

/**
 * \ingroup vpn
 * \brief The MPI side of a distributed run, and its absence in a serial one.
 */
class VpnMpi
{
  public:
    /**
     * With \p ranks > 1: selects ns-3's distributed simulator and starts MPI
     * (call before any node is created). Returns "" or why it cannot
     * (no MPI module in this build, or mpirun started a different number
     * of processes than \p ranks). With \p ranks == 1 it starts nothing
     * and refuses (returns why) a run that would crash or mislead: ns-3's
     * distributed simulator named as SimulatorImplementationType, or mpirun
     * having started more than one process.
     */
    static std::string Enable(int* argc, char*** argv, uint32_t ranks);
    /**
     * For the programs that run on one process only (every example but
     * getvpn-mpls-any2any, and the GET VPN bench): call right after the
     * command line is parsed, before any node exists. Returns true for a
     * serial run; otherwise prints on stderr, prefixed with \p program, why
     * it is refused (ns-3's distributed simulator named as
     * SimulatorImplementationType, which ns-3 aborts on without MPI set up,
     * or mpirun having started several copies) and returns false: the
     * program then exits with status 2.
     */
    static bool SerialOnly(const std::string& program);
    /** Ends MPI after Simulator::Destroy (nothing in a serial run). */
    static void Disable();
    /** True between Enable (with ranks > 1) and Disable. */
    static bool IsEnabled();
    /** This process's rank (0 in a serial run). */
    static uint32_t GetRank();
    /** Ranks in the run (1 in a serial run). */
    static uint32_t GetSize();
    /** Whether \p node is simulated by this rank (always in a serial run). */
    static bool IsLocal(Ptr<const Node> node);
    /** Creates a node simulated by rank \p rank (modulo the ranks in the run). */
    static Ptr<Node> CreateNode(uint32_t rank);
    /** \p out in a serial run, \p out + "/rank-R" in a distributed one. */
    static std::string RankDir(const std::string& out);
    /**
     * \p value summed over every rank (MPI_Allreduce; every rank must call
     * it, in the same order); \p value itself in a serial run.
     */
    static uint64_t Sum(uint64_t value);
    /** The largest \p value over every rank (as Sum). */
    static double Max(double value);

  private:
    static bool s_enabled;
};

} // namespace ns3

#endif
