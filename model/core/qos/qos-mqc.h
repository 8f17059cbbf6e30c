/*
 * From an IOS policy-map (conf-qos.h) to a scheduler configuration
 * (qos-sched.h) and a classifier, and `show policy-map interface` text.
 *
 * A flat policy (classes with priority/bandwidth) or a two-level one
 * (class-default with `shape average` and a child `service-policy`) maps to
 * one vpn_qos_sched: the parent's shaper, the child's classes. Percentages
 * are of the parent rate (the shaper's, else the link's); class-default
 * without a share gets what the other classes leave (at least 1 %).
 *
 * A vpn_qos_policy is self-contained (matches and ACL entries copied): the
 * vpn_conf may be freed after building it. Free with vpn_qos_policy_del.
 */
#ifndef VPN_QOS_MQC_H
#define VPN_QOS_MQC_H

#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "conf/conf.h"
#include "qos/qos-sched.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the classifier looks at in an IPv4/IPv6 header. */
typedef struct vpn_qos_pkt {
    uint8_t dscp;
    uint8_t proto;
    vpn_addr src, dst;
    uint16_t sport, dport; /* 0 when not TCP/UDP */
} vpn_qos_pkt;

typedef struct vpn_qos_policy vpn_qos_policy;

/*
 * Builds policy-map name of c for an interface of link_bps.
 * Errors: VPN_ERR_INVAL (NULL, link_bps 0), VPN_ERR_NOTFOUND (no such
 * policy-map), VPN_ERR_POLICY (shares above the rate, priority on a shaped
 * class-default, ...: err names the line), VPN_ERR_NOMEM.
 */
int vpn_qos_policy_build(const vpn_conf *c, const char *name, uint64_t link_bps, vpn_qos_policy **out,
                         vpn_conf_error *err);
void vpn_qos_policy_del(vpn_qos_policy *p);

/* The scheduler configuration to give vpn_qos_sched_new. */
const vpn_qos_sched_cfg *vpn_qos_policy_sched(const vpn_qos_policy *p);
const char *vpn_qos_policy_name(const vpn_qos_policy *p);

/* The class (index into the scheduler's classes) of pkt: the first class-map
 * in configured order that matches, else class-default. */
size_t vpn_qos_policy_classify(const vpn_qos_policy *p, const vpn_qos_pkt *pkt);

/*
 * Writes `show policy-map interface IFNAME` in IOS's layout for the counters
 * of sched at now_ns into buf (NUL-terminated, truncated to cap). Returns
 * the length it needed (snprintf-like), or VPN_ERR_INVAL.
 */
int vpn_qos_show_policy_map(const vpn_qos_policy *p, const vpn_qos_sched *sched, const char *ifname,
                            uint64_t now_ns, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif

#endif
