/*
 * Cisco MQC (Modular QoS CLI) objects of an IOS configuration:
 *   class-map [match-any|match-all] NAME
 *     match [ip] dscp VALUE...      (ef, afXY, csN, default, 0-63)
 *     match access-group name ACL | match access-group ACL
 *     match any
 *   policy-map NAME
 *     class NAME | class class-default
 *       priority percent N | priority KBPS [BURST-BYTES]
 *       bandwidth percent N | bandwidth KBPS | bandwidth remaining percent N
 *       fair-queue
 *       queue-limit N [packets]
 *       shape average BPS
 *       service-policy CHILD       (hierarchical: shaper parent, LLQ child)
 *   interface X
 *     service-policy output NAME
 *     qos pre-classify
 * Included by conf.h; a vpn_conf owns these arrays.
 */
#ifndef VPN_CONF_QOS_H
#define VPN_CONF_QOS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VPN_CONF_QOS_MATCH_MAX 16 /* match statements per class-map */
#define VPN_CONF_QOS_CLASS_MAX 16 /* classes per policy-map, class-default included */
#define VPN_CONF_QOS_QLIMIT 64u   /* IOS default queue-limit, packets */

typedef enum vpn_conf_qos_match_type {
    VPN_CONF_QOS_MATCH_DSCP = 0, /* match [ip] dscp V... */
    VPN_CONF_QOS_MATCH_ACL,      /* match access-group [name] ACL */
    VPN_CONF_QOS_MATCH_ANY,      /* match any */
} vpn_conf_qos_match_type;

typedef struct vpn_conf_qos_match {
    vpn_conf_qos_match_type type;
    uint64_t dscp;        /* bit d set: DSCP d matches (one statement ORs its values) */
    char acl[64];
    int line;
} vpn_conf_qos_match;

/* class-map [match-any|match-all] NAME; IOS's default is match-all. */
typedef struct vpn_conf_class_map {
    char name[64];
    bool match_any;
    vpn_conf_qos_match match[VPN_CONF_QOS_MATCH_MAX];
    size_t n_match;
    int line;
} vpn_conf_class_map;

typedef enum vpn_conf_qos_action {
    VPN_CONF_QOS_ACT_NONE = 0,
    VPN_CONF_QOS_ACT_PRIORITY,  /* LLQ: strict priority with a conditional policer */
    VPN_CONF_QOS_ACT_BANDWIDTH, /* CBWFQ: a guaranteed share */
} vpn_conf_qos_action;

typedef enum vpn_conf_qos_unit {
    VPN_CONF_QOS_KBPS = 0,
    VPN_CONF_QOS_PERCENT,           /* of the parent's rate (shaper or link) */
    VPN_CONF_QOS_REMAINING_PERCENT, /* of what priority and bandwidth leave */
} vpn_conf_qos_unit;

/* class NAME inside a policy-map */
typedef struct vpn_conf_qos_class {
    char name[64];           /* a class-map's name or "class-default" */
    vpn_conf_qos_action action;
    vpn_conf_qos_unit unit;
    uint32_t value;          /* kbps or percent */
    uint32_t burst_bytes;    /* priority KBPS BURST; 0: IOS default (200 ms) */
    bool fair_queue;
    uint32_t queue_limit;    /* packets; 0: VPN_CONF_QOS_QLIMIT */
    uint64_t shape_bps;      /* shape average; 0: none */
    char child[64];          /* service-policy CHILD */
    int child_line;
    int line;
} vpn_conf_qos_class;

typedef struct vpn_conf_policy_map {
    char name[64];
    vpn_conf_qos_class cls[VPN_CONF_QOS_CLASS_MAX]; /* in configured order */
    size_t n_class;
    int line;
} vpn_conf_policy_map;

#ifdef __cplusplus
}
#endif

#endif
