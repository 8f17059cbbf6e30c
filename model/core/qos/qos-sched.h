/*
 * An IOS-style egress scheduler, sans-IO: the caller keeps the packets (one
 * FIFO per class, in the same order as here) and asks which class sends
 * next. Time comes in as ns; a shaper that holds traffic back says when to
 * ask again.
 *
 *  - Priority classes (LLQ, `priority`): served first, in configured order.
 *    Each has a conditional policer (token bucket at its rate, IOS default
 *    burst 200 ms): traffic above the rate is dropped only when the
 *    interface is congested (something is already queued), as IOS does.
 *  - Bandwidth classes and class-default (CBWFQ): deficit round robin
 *    (Shreedhar and Varghese) with quanta proportional to their rates, so
 *    each gets at least its share of what the priority classes leave.
 *  - An optional shaper (`shape average` of a parent policy): a token bucket
 *    over everything, priority included; Bc = rate * Tc, Tc 4 ms unless set,
 *    never below one MTU-sized packet.
 *
 * Ownership: vpn_qos_sched_new copies the configuration; free with
 * vpn_qos_sched_del.
 */
#ifndef VPN_QOS_SCHED_H
#define VPN_QOS_SCHED_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VPN_QOS_SCHED_CLASS_MAX 16
#define VPN_QOS_FAIR_QUEUES_MAX 256
#define VPN_QOS_SCHED_NONE UINT64_MAX

typedef enum vpn_qos_class_kind {
    VPN_QOS_CLASS_PRIORITY = 0, /* strict priority, conditional policer at rate_bps */
    VPN_QOS_CLASS_BANDWIDTH,    /* DRR share at rate_bps */
} vpn_qos_class_kind;

typedef struct vpn_qos_class_cfg {
    char name[64];
    vpn_qos_class_kind kind;
    uint64_t rate_bps;      /* > 0 */
    uint32_t burst_bytes;   /* priority policer burst; 0: 200 ms at rate_bps */
    uint32_t queue_limit;   /* packets; 0: 64 (IOS default) */
    uint32_t fair_queues;   /* bandwidth classes: 0 FIFO; N flow queues served round
                             * robin (IOS fair-queue), each holding at most a quarter
                             * of queue_limit */
} vpn_qos_class_cfg;

typedef struct vpn_qos_sched_cfg {
    uint64_t shape_bps;       /* 0: no shaper */
    uint32_t shape_bc_bytes;  /* 0: 4 ms at shape_bps, at least 1600 */
    size_t n_class;
    vpn_qos_class_cfg cls[VPN_QOS_SCHED_CLASS_MAX];
} vpn_qos_sched_cfg;

/* Counters per class, as `show policy-map interface` prints them. */
typedef struct vpn_qos_class_stats {
    uint64_t matched_pkts, matched_bytes; /* offered to the class */
    uint64_t sent_pkts, sent_bytes;
    uint64_t drop_tail;                   /* queue-limit reached */
    uint64_t drop_policer;                /* priority traffic over its rate under congestion */
    uint32_t depth, depth_max;            /* packets queued now, at most */
    uint64_t first_ns, last_ns;           /* first and last offered packet */
} vpn_qos_class_stats;

typedef struct vpn_qos_sched vpn_qos_sched;

/* Errors: VPN_ERR_INVAL (no class, too many, a zero rate), VPN_ERR_NOMEM. */
int vpn_qos_sched_new(const vpn_qos_sched_cfg *cfg, vpn_qos_sched **out);
void vpn_qos_sched_del(vpn_qos_sched *s);

/*
 * Offers a packet of len bytes to class cls at now_ns. 0: the caller queues
 * it at the tail of that class's FIFO. Otherwise the caller drops it:
 * VPN_ERR_LIMIT (queue-limit), VPN_ERR_POLICY (priority policer, congested).
 * VPN_ERR_INVAL: bad class or len 0 (counted nowhere).
 */
int vpn_qos_sched_enqueue(vpn_qos_sched *s, size_t cls, uint32_t len, uint64_t now_ns);

/*
 * The same for a class with fair_queues: flow_hash (e.g. of the 5-tuple)
 * picks the flow queue; the caller keeps one FIFO per (class, flow queue
 * = flow_hash % fair_queues). Same errors.
 */
int vpn_qos_sched_enqueue_flow(vpn_qos_sched *s, size_t cls, uint32_t flow_hash, uint32_t len, uint64_t now_ns);

/*
 * Picks the class whose head packet goes next at now_ns; on success returns
 * the class index (>= 0), *len its head packet's length; the caller sends
 * that class's head. VPN_ERR_NOTFOUND: nothing queued. VPN_ERR_STATE: the
 * shaper holds traffic back; *next_ns says when to ask again. next_ns may be
 * NULL. VPN_ERR_INVAL: NULL arguments.
 */
int vpn_qos_sched_dequeue(vpn_qos_sched *s, uint64_t now_ns, uint32_t *len, uint64_t *next_ns);

/* The same, *sub saying which flow queue of the class (0 for FIFO classes). */
int vpn_qos_sched_dequeue_flow(vpn_qos_sched *s, uint64_t now_ns, uint32_t *len, uint32_t *sub, uint64_t *next_ns);

/* Packets queued in all classes. */
size_t vpn_qos_sched_backlog(const vpn_qos_sched *s);
const vpn_qos_class_stats *vpn_qos_sched_stats(const vpn_qos_sched *s, size_t cls);
const vpn_qos_sched_cfg *vpn_qos_sched_config(const vpn_qos_sched *s);

#ifdef __cplusplus
}
#endif

#endif
