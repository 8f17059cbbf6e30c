/*
 * Installs a router's IOS `service-policy output` on an ns-3 device: parses
 * the configuration text (the C core's parser), builds the policy-map for
 * the device's rate and makes an MqcQueueDisc the device's root queue disc.
 * Any NetDevice with a traffic-control layer can carry it: a point-to-point
 * or CSMA WAN link (rate read from its DataRate), or a tunnel device or the
 * WAN device under a crypto map (rate given by the caller).
 */
#ifndef MQC_HELPER_H
#define MQC_HELPER_H

#include "ns3/mqc-queue-disc.h"
#include "ns3/net-device.h"

#include <string>

namespace ns3
{

/**
 * \ingroup vpn
 * \brief IOS MQC text onto ns-3's traffic-control layer.
 */
class MqcHelper
{
  public:
    /**
     * Installs the policy-map that interface \p ifName's `service-policy
     * output` names in \p iosText. \p linkBps 0: the device's DataRate.
     * Returns the queue disc, or nullptr with \p error saying why (the
     * configuration's error names the line).
     */
    static Ptr<MqcQueueDisc> InstallServicePolicy(Ptr<NetDevice> dev,
                                                  const std::string& iosText,
                                                  const std::string& ifName,
                                                  std::string* error = nullptr,
                                                  uint64_t linkBps = 0);

    /** Installs policy-map \p policyMap of \p iosText directly. */
    static Ptr<MqcQueueDisc> InstallPolicyMap(Ptr<NetDevice> dev,
                                              const std::string& iosText,
                                              const std::string& policyMap,
                                              std::string* error = nullptr,
                                              uint64_t linkBps = 0);

    /** A router with no policy: one FIFO (IOS `hold-queue 40 out` by default). */
    static void InstallFifo(Ptr<NetDevice> dev, uint32_t packets = 40);

    /**
     * Shrinks the device's own transmit queue to a small tx-ring, so that
     * packets wait in the queue disc (where the policy acts), as on a router.
     */
    static void SetTxRing(Ptr<NetDevice> dev, uint32_t packets = 2);
};

} // namespace ns3

#endif
