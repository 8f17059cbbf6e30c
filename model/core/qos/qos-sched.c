/* LLQ + CBWFQ + shaper scheduling decisions (see qos-sched.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "qos/qos-sched.h"

typedef struct bucket {
    double tokens;   /* bytes; the shaper may run below zero (one packet's debt) */
    double size;     /* bytes */
    double rate;     /* bytes per ns */
    uint64_t last_ns;
} bucket;

typedef struct klass {
    uint32_t *len;   /* nsub rings of cap queued packet lengths */
    uint32_t cap, count;
    uint32_t nsub;   /* 1: FIFO; more: fair-queue flow queues */
    uint32_t *head, *cnt; /* per flow queue */
    uint32_t cur;    /* fair-queue: the flow queue served next */
    uint64_t bytes;
    bucket pol;      /* priority: the conditional policer */
    double quantum, deficit; /* bandwidth: DRR */
    vpn_qos_class_stats st;
} klass;

struct vpn_qos_sched {
    vpn_qos_sched_cfg cfg;
    klass k[VPN_QOS_SCHED_CLASS_MAX];
    size_t backlog;
    bucket shaper;
    size_t drr_cur;
    int drr_visited; /* drr_cur already got its quantum this round */
};

static void refill(bucket *b, uint64_t now)
{
    if (now > b->last_ns) {
        b->tokens += (double)(now - b->last_ns) * b->rate;
        if (b->tokens > b->size)
            b->tokens = b->size;
        b->last_ns = now;
    }
}

int vpn_qos_sched_new(const vpn_qos_sched_cfg *cfg, vpn_qos_sched **out)
{
    vpn_qos_sched *s;
    uint64_t min_bw = UINT64_MAX;

    if (out == NULL)
        return VPN_ERR_INVAL;
    *out = NULL;
    if (cfg == NULL || cfg->n_class == 0 || cfg->n_class > VPN_QOS_SCHED_CLASS_MAX)
        return VPN_ERR_INVAL;
    for (size_t i = 0; i < cfg->n_class; i++) {
        if (cfg->cls[i].rate_bps == 0 ||
            (cfg->cls[i].kind != VPN_QOS_CLASS_PRIORITY && cfg->cls[i].kind != VPN_QOS_CLASS_BANDWIDTH))
            return VPN_ERR_INVAL;
        if (cfg->cls[i].kind == VPN_QOS_CLASS_BANDWIDTH && cfg->cls[i].rate_bps < min_bw)
            min_bw = cfg->cls[i].rate_bps;
    }
    s = calloc(1, sizeof *s);
    if (s == NULL)
        return VPN_ERR_NOMEM;
    s->cfg = *cfg;
    for (size_t i = 0; i < cfg->n_class; i++) {
        vpn_qos_class_cfg *c = &s->cfg.cls[i];
        klass *k = &s->k[i];
        c->name[sizeof c->name - 1] = '\0';
        if (c->queue_limit == 0)
            c->queue_limit = 64;
        k->cap = c->queue_limit;
        k->nsub = c->fair_queues ? c->fair_queues : 1;
        if (k->nsub > VPN_QOS_FAIR_QUEUES_MAX || c->kind == VPN_QOS_CLASS_PRIORITY)
            k->nsub = c->kind == VPN_QOS_CLASS_PRIORITY ? 1 : VPN_QOS_FAIR_QUEUES_MAX;
        c->fair_queues = k->nsub > 1 ? k->nsub : 0;
        k->len = calloc((size_t)k->cap * k->nsub, sizeof *k->len);
        k->head = calloc(k->nsub, sizeof *k->head);
        k->cnt = calloc(k->nsub, sizeof *k->cnt);
        if (k->len == NULL || k->head == NULL || k->cnt == NULL) {
            vpn_qos_sched_del(s);
            return VPN_ERR_NOMEM;
        }
        if (c->kind == VPN_QOS_CLASS_PRIORITY) {
            /* IOS LLQ: the policer's default burst is 200 ms at the rate. */
            if (c->burst_bytes == 0)
                c->burst_bytes = (uint32_t)(c->rate_bps / 8 / 5 > 1600 ? c->rate_bps / 8 / 5 : 1600);
            k->pol.rate = (double)c->rate_bps / 8e9;
            k->pol.size = k->pol.tokens = c->burst_bytes;
        } else {
            /* DRR quantum: one full-sized packet for the smallest share. */
            k->quantum = 1500.0 * (double)c->rate_bps / (double)min_bw;
        }
    }
    if (cfg->shape_bps) {
        uint64_t bc = s->cfg.shape_bc_bytes ? s->cfg.shape_bc_bytes : cfg->shape_bps / 8 / 250; /* Tc 4 ms */
        if (bc < 1600)
            bc = 1600;
        s->cfg.shape_bc_bytes = (uint32_t)(bc > UINT32_MAX ? UINT32_MAX : bc);
        s->shaper.rate = (double)cfg->shape_bps / 8e9;
        s->shaper.size = s->shaper.tokens = (double)s->cfg.shape_bc_bytes;
    }
    *out = s;
    return 0;
}

void vpn_qos_sched_del(vpn_qos_sched *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < VPN_QOS_SCHED_CLASS_MAX; i++) {
        free(s->k[i].len);
        free(s->k[i].head);
        free(s->k[i].cnt);
    }
    free(s);
}

int vpn_qos_sched_enqueue(vpn_qos_sched *s, size_t cls, uint32_t len, uint64_t now_ns)
{
    return vpn_qos_sched_enqueue_flow(s, cls, 0, len, now_ns);
}

int vpn_qos_sched_enqueue_flow(vpn_qos_sched *s, size_t cls, uint32_t flow_hash, uint32_t len, uint64_t now_ns)
{
    klass *k;
    uint32_t sub, flow_limit;

    if (s == NULL || cls >= s->cfg.n_class || len == 0)
        return VPN_ERR_INVAL;
    k = &s->k[cls];
    if (k->st.matched_pkts == 0)
        k->st.first_ns = now_ns;
    k->st.last_ns = now_ns;
    k->st.matched_pkts++;
    k->st.matched_bytes += len;
    if (s->cfg.cls[cls].kind == VPN_QOS_CLASS_PRIORITY) {
        refill(&k->pol, now_ns);
        if (k->pol.tokens >= len) {
            k->pol.tokens -= len;
        } else if (s->backlog > 0) {
            /* Over the rate while the link is congested: IOS's LLQ policer. */
            k->st.drop_policer++;
            return VPN_ERR_POLICY;
        }
    }
    sub = flow_hash % k->nsub;
    /* Fair-queue: one flow may hold a quarter of the class's queue-limit
     * (at least one packet), so that a greedy flow cannot fill it. */
    flow_limit = k->nsub > 1 ? (k->cap / 4 ? k->cap / 4 : 1) : k->cap;
    if (k->count == k->cap || k->cnt[sub] == flow_limit) {
        k->st.drop_tail++;
        return VPN_ERR_LIMIT;
    }
    k->len[(size_t)sub * k->cap + (k->head[sub] + k->cnt[sub]) % k->cap] = len;
    k->cnt[sub]++;
    k->count++;
    k->bytes += len;
    s->backlog++;
    k->st.depth = k->count;
    if (k->count > k->st.depth_max)
        k->st.depth_max = k->count;
    return 0;
}

/* The flow queue a class serves next: round robin over its non-empty ones. */
static uint32_t next_sub(const klass *k)
{
    for (uint32_t j = 0; j < k->nsub; j++) {
        uint32_t q = (k->cur + j) % k->nsub;
        if (k->cnt[q])
            return q;
    }
    return 0;
}

static uint32_t head_len(const klass *k)
{
    uint32_t q = next_sub(k);
    return k->len[(size_t)q * k->cap + k->head[q]];
}

static int take(vpn_qos_sched *s, size_t i, uint32_t *len, uint32_t *sub)
{
    klass *k = &s->k[i];
    uint32_t q = next_sub(k);
    *len = k->len[(size_t)q * k->cap + k->head[q]];
    *sub = q;
    k->head[q] = (k->head[q] + 1) % k->cap;
    k->cnt[q]--;
    k->cur = (q + 1) % k->nsub;
    k->count--;
    k->bytes -= *len;
    s->backlog--;
    k->st.depth = k->count;
    k->st.sent_pkts++;
    k->st.sent_bytes += *len;
    if (s->cfg.shape_bps)
        s->shaper.tokens -= *len;
    return (int)i;
}

int vpn_qos_sched_dequeue(vpn_qos_sched *s, uint64_t now_ns, uint32_t *len, uint64_t *next_ns)
{
    uint32_t sub;
    return vpn_qos_sched_dequeue_flow(s, now_ns, len, &sub, next_ns);
}

int vpn_qos_sched_dequeue_flow(vpn_qos_sched *s, uint64_t now_ns, uint32_t *len, uint32_t *sub, uint64_t *next_ns)
{
    size_t n;

    if (s == NULL || len == NULL || sub == NULL)
        return VPN_ERR_INVAL;
    if (next_ns)
        *next_ns = VPN_QOS_SCHED_NONE;
    if (s->backlog == 0)
        return VPN_ERR_NOTFOUND;
    if (s->cfg.shape_bps) {
        refill(&s->shaper, now_ns);
        if (s->shaper.tokens < 0) {
            /* Conforming again once the debt is paid back. */
            if (next_ns)
                *next_ns = now_ns + (uint64_t)ceil(-s->shaper.tokens / s->shaper.rate);
            return VPN_ERR_STATE;
        }
    }
    n = s->cfg.n_class;
    for (size_t i = 0; i < n; i++)
        if (s->cfg.cls[i].kind == VPN_QOS_CLASS_PRIORITY && s->k[i].count)
            return take(s, i, len, sub);
    /* Deficit round robin over the bandwidth classes: a class gets its
     * quantum once per visit and sends while its deficit covers its head. */
    for (;;) {
        size_t i = s->drr_cur;
        klass *k = &s->k[i];
        if (s->cfg.cls[i].kind == VPN_QOS_CLASS_BANDWIDTH && k->count) {
            if (!s->drr_visited) {
                k->deficit += k->quantum;
                s->drr_visited = 1;
            }
            uint32_t head = head_len(k);
            if (k->deficit >= head) {
                k->deficit -= head;
                if (k->count == 1)
                    k->deficit = 0; /* an emptied class keeps no credit */
                return take(s, i, len, sub);
            }
        } else {
            k->deficit = 0;
        }
        s->drr_cur = (i + 1) % n;
        s->drr_visited = 0;
    }
}

size_t vpn_qos_sched_backlog(const vpn_qos_sched *s)
{
    return s ? s->backlog : 0;
}

const vpn_qos_class_stats *vpn_qos_sched_stats(const vpn_qos_sched *s, size_t cls)
{
    if (s == NULL || cls >= s->cfg.n_class)
        return NULL;
    return &s->k[cls].st;
}

const vpn_qos_sched_cfg *vpn_qos_sched_config(const vpn_qos_sched *s)
{
    return s ? &s->cfg : NULL;
}
