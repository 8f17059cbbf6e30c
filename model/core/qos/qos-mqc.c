/* IOS policy-map -> scheduler configuration, classifier, show text. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "conf/conf-internal.h"
#include "qos/qos-mqc.h"

typedef struct mqc_class {
    bool is_default;
    bool match_any;
    size_t n_match;
    vpn_conf_qos_match match[VPN_CONF_QOS_MATCH_MAX];
    vpn_conf_ace *ace[VPN_CONF_QOS_MATCH_MAX]; /* copied ACL entries per ACL match */
    size_t n_ace[VPN_CONF_QOS_MATCH_MAX];
    bool fair_queue;
    vpn_conf_qos_action action;
    vpn_conf_qos_unit unit;
    uint32_t value;
} mqc_class;

struct vpn_qos_policy {
    char name[VPN_CONF_NAME_MAX];
    char child[VPN_CONF_NAME_MAX];
    uint64_t link_bps, parent_bps;
    vpn_qos_sched_cfg cfg;
    mqc_class cls[VPN_QOS_SCHED_CLASS_MAX];
};

void vpn_qos_policy_del(vpn_qos_policy *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < VPN_QOS_SCHED_CLASS_MAX; i++)
        for (size_t j = 0; j < VPN_CONF_QOS_MATCH_MAX; j++)
            free(p->cls[i].ace[j]);
    free(p);
}

static int copy_class(const vpn_conf *c, const vpn_conf_qos_class *k, mqc_class *m)
{
    m->is_default = strcmp(k->name, "class-default") == 0;
    m->fair_queue = k->fair_queue;
    m->action = k->action;
    m->unit = k->unit;
    m->value = k->value;
    if (m->is_default)
        return 0;
    const vpn_conf_class_map *cm = vpn_conf_find_class_map(c, k->name);
    if (cm == NULL)
        return VPN_ERR_NOTFOUND;
    m->match_any = cm->match_any;
    m->n_match = cm->n_match;
    memcpy(m->match, cm->match, sizeof m->match);
    for (size_t j = 0; j < cm->n_match; j++) {
        if (cm->match[j].type != VPN_CONF_QOS_MATCH_ACL)
            continue;
        const vpn_conf_acl *acl = vpn_conf_find_acl(c, cm->match[j].acl);
        if (acl == NULL)
            return VPN_ERR_NOTFOUND;
        if (acl->n_ace) {
            m->ace[j] = malloc(acl->n_ace * sizeof *acl->ace);
            if (m->ace[j] == NULL)
                return VPN_ERR_NOMEM;
            memcpy(m->ace[j], acl->ace, acl->n_ace * sizeof *acl->ace);
        }
        m->n_ace[j] = acl->n_ace;
    }
    return 0;
}

int vpn_qos_policy_build(const vpn_conf *c, const char *name, uint64_t link_bps, vpn_qos_policy **out,
                         vpn_conf_error *err)
{
    const vpn_conf_policy_map *pm, *q;
    vpn_qos_policy *p;
    uint64_t parent, left, reserved = 0;
    int rc;

    if (out == NULL)
        return VPN_ERR_INVAL;
    *out = NULL;
    if (c == NULL || name == NULL || link_bps == 0)
        return VPN_ERR_INVAL;
    pm = vpn_conf_find_policy_map(c, name);
    if (pm == NULL)
        return vpn_conf_fail(err, 0, VPN_ERR_NOTFOUND, "policy-map %s is not defined", name);
    p = calloc(1, sizeof *p);
    if (p == NULL)
        return VPN_ERR_NOMEM;
    vpn_conf_copy_name(p->name, sizeof p->name, pm->name);
    p->link_bps = parent = link_bps;
    q = pm;
    /* Hierarchical: a parent whose only class is class-default with a shaper
     * and a child policy (the sub-rate access link). */
    if (pm->n_class == 1 && pm->cls[0].shape_bps && pm->cls[0].child[0]) {
        const vpn_conf_qos_class *k = &pm->cls[0];
        if (strcmp(k->name, "class-default") != 0 || k->action != VPN_CONF_QOS_ACT_NONE) {
            rc = vpn_conf_fail(err, k->line, VPN_ERR_POLICY,
                               "policy-map %s: a shaping parent takes class-default with shape and service-policy "
                               "only", pm->name);
            goto fail;
        }
        q = vpn_conf_find_policy_map(c, k->child);
        if (q == NULL) {
            rc = vpn_conf_fail(err, k->child_line, VPN_ERR_NOTFOUND, "policy-map %s is not defined", k->child);
            goto fail;
        }
        vpn_conf_copy_name(p->child, sizeof p->child, q->name);
        p->cfg.shape_bps = k->shape_bps < link_bps ? k->shape_bps : link_bps;
        parent = p->cfg.shape_bps;
    } else {
        for (size_t i = 0; i < pm->n_class; i++)
            if (pm->cls[i].child[0]) {
                rc = vpn_conf_fail(err, pm->cls[i].child_line, VPN_ERR_POLICY,
                                   "policy-map %s: a child service-policy is supported under a shaped "
                                   "class-default that is the parent's only class", pm->name);
                goto fail;
            } else if (pm->cls[i].shape_bps && strcmp(pm->cls[i].name, "class-default") == 0 &&
                       pm->n_class == 1) {
                p->cfg.shape_bps = pm->cls[i].shape_bps < link_bps ? pm->cls[i].shape_bps : link_bps;
                parent = p->cfg.shape_bps;
            } else if (pm->cls[i].shape_bps) {
                rc = vpn_conf_fail(err, pm->cls[i].line, VPN_ERR_POLICY,
                                   "policy-map %s: per-class shaping is not supported (shape class-default "
                                   "alone, with a child policy)", pm->name);
                goto fail;
            }
    }
    p->parent_bps = parent;
    /* Classes in configured order; class-default is last (the parser keeps it so). */
    bool have_default = false;
    for (size_t i = 0; i < q->n_class; i++) {
        const vpn_conf_qos_class *k = &q->cls[i];
        vpn_qos_class_cfg *s = &p->cfg.cls[p->cfg.n_class];
        if ((rc = copy_class(c, k, &p->cls[p->cfg.n_class])) != 0) {
            rc = vpn_conf_fail(err, k->line, rc, "policy-map %s class %s cannot be built", q->name, k->name);
            goto fail;
        }
        vpn_conf_copy_name(s->name, sizeof s->name, k->name);
        s->queue_limit = k->queue_limit;
        s->burst_bytes = k->burst_bytes;
        s->fair_queues = k->fair_queue ? VPN_QOS_FAIR_QUEUES_MAX : 0; /* IOS: 256 dynamic queues */
        s->kind = k->action == VPN_CONF_QOS_ACT_PRIORITY ? VPN_QOS_CLASS_PRIORITY : VPN_QOS_CLASS_BANDWIDTH;
        if (k->action != VPN_CONF_QOS_ACT_NONE && k->unit != VPN_CONF_QOS_REMAINING_PERCENT) {
            s->rate_bps = k->unit == VPN_CONF_QOS_PERCENT ? parent * k->value / 100 : (uint64_t)k->value * 1000;
            reserved += s->rate_bps;
        }
        have_default = have_default || p->cls[p->cfg.n_class].is_default;
        p->cfg.n_class++;
    }
    if (!have_default) {
        /* IOS: every policy has class-default, FIFO unless configured. */
        if (p->cfg.n_class == VPN_QOS_SCHED_CLASS_MAX) {
            rc = vpn_conf_fail(err, q->line, VPN_ERR_LIMIT, "policy-map %s has too many classes", q->name);
            goto fail;
        }
        vpn_qos_class_cfg *s = &p->cfg.cls[p->cfg.n_class];
        vpn_conf_copy_name(s->name, sizeof s->name, "class-default");
        s->kind = VPN_QOS_CLASS_BANDWIDTH;
        p->cls[p->cfg.n_class].is_default = true;
        p->cfg.n_class++;
    }
    if (reserved > parent) {
        rc = vpn_conf_fail(err, q->line, VPN_ERR_POLICY,
                           "policy-map %s reserves %llu bit/s of %llu bit/s", q->name,
                           (unsigned long long)reserved, (unsigned long long)parent);
        goto fail;
    }
    /* bandwidth remaining percent and unconfigured classes share what is left. */
    left = parent - reserved;
    for (size_t i = 0; i < p->cfg.n_class; i++) {
        vpn_qos_class_cfg *s = &p->cfg.cls[i];
        if (s->rate_bps)
            continue;
        if (p->cls[i].action == VPN_CONF_QOS_ACT_BANDWIDTH && p->cls[i].unit == VPN_CONF_QOS_REMAINING_PERCENT)
            s->rate_bps = left * p->cls[i].value / 100;
        else
            s->rate_bps = left;
        if (s->rate_bps < parent / 100)
            s->rate_bps = parent / 100 ? parent / 100 : 1;
    }
    *out = p;
    return 0;
fail:
    vpn_qos_policy_del(p);
    return rc;
}

const vpn_qos_sched_cfg *vpn_qos_policy_sched(const vpn_qos_policy *p)
{
    return p ? &p->cfg : NULL;
}

const char *vpn_qos_policy_name(const vpn_qos_policy *p)
{
    return p ? p->name : "";
}

static bool port_ok(vpn_conf_port_op op, const uint16_t r[2], uint16_t port)
{
    switch (op) {
    case VPN_PORT_ANY: return true;
    case VPN_PORT_EQ: return port == r[0];
    case VPN_PORT_RANGE: return port >= r[0] && port <= r[1];
    }
    return false;
}

/* First matching ACE decides; the implicit deny at the end does not match. */
static bool acl_matches(const vpn_conf_ace *ace, size_t n, const vpn_qos_pkt *k)
{
    for (size_t i = 0; i < n; i++) {
        const vpn_conf_ace *a = &ace[i];
        if (a->proto && a->proto != k->proto)
            continue;
        if (a->src.len && !vpn_prefix_contains(&a->src, &k->src))
            continue;
        if (a->dst.len && !vpn_prefix_contains(&a->dst, &k->dst))
            continue;
        if (!port_ok(a->src_op, a->src_port, k->sport) || !port_ok(a->dst_op, a->dst_port, k->dport))
            continue;
        if (a->dscp >= 0 && a->dscp != k->dscp)
            continue;
        return a->permit;
    }
    return false;
}

static bool one_match(const mqc_class *m, size_t j, const vpn_qos_pkt *k)
{
    switch (m->match[j].type) {
    case VPN_CONF_QOS_MATCH_DSCP: return (m->match[j].dscp >> (k->dscp & 63)) & 1;
    case VPN_CONF_QOS_MATCH_ACL: return acl_matches(m->ace[j], m->n_ace[j], k);
    case VPN_CONF_QOS_MATCH_ANY: return true;
    }
    return false;
}

size_t vpn_qos_policy_classify(const vpn_qos_policy *p, const vpn_qos_pkt *pkt)
{
    size_t dflt = 0;

    if (p == NULL || pkt == NULL)
        return 0;
    for (size_t i = 0; i < p->cfg.n_class; i++) {
        const mqc_class *m = &p->cls[i];
        bool hit;
        if (m->is_default) {
            dflt = i;
            continue;
        }
        /* match-all: every statement; match-any: one of them. */
        hit = !m->match_any;
        for (size_t j = 0; j < m->n_match; j++) {
            bool h = one_match(m, j, pkt);
            if (m->match_any && h) {
                hit = true;
                break;
            }
            if (!m->match_any && !h) {
                hit = false;
                break;
            }
        }
        if (hit && m->n_match)
            return i;
    }
    return dflt;
}

/* ---- show policy-map interface ------------------------------------------ */

typedef struct out {
    char *buf;
    size_t cap, len;
} out;

static void put(out *o, const char *fmt, ...)
{
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(o->len < o->cap ? o->buf + o->len : NULL, o->len < o->cap ? o->cap - o->len : 0, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->len += (size_t)n;
}

static const char *dscp_name(unsigned d, char *b, size_t n)
{
    static const char *const af[] = {"af11", "af12", "af13", "af21", "af22", "af23",
                                     "af31", "af32", "af33", "af41", "af42", "af43"};
    if (d == 46)
        return "ef";
    if (d == 0)
        return "default";
    if (d % 8 == 0) {
        snprintf(b, n, "cs%u", d / 8);
        return b;
    }
    if (d >= 10 && d <= 38 && d % 2 == 0 && (d % 8) >= 2 && (d % 8) <= 6)
        return af[(d / 8 - 1) * 3 + (d % 8) / 2 - 1];
    snprintf(b, n, "%u", d);
    return b;
}

int vpn_qos_show_policy_map(const vpn_qos_policy *p, const vpn_qos_sched *sched, const char *ifname,
                            uint64_t now_ns, char *buf, size_t cap)
{
    out o = {buf, cap, 0};
    const char *ind = "    ";

    if (p == NULL || sched == NULL || ifname == NULL || (buf == NULL && cap) ||
        vpn_qos_sched_config(sched)->n_class != p->cfg.n_class)
        return VPN_ERR_INVAL;
    if (cap)
        buf[0] = '\0';
    put(&o, " %s\n\n  Service-policy output: %s\n\n", ifname, p->name);
    if (p->child[0]) {
        uint64_t mp = 0, mb = 0, dr = 0;
        for (size_t i = 0; i < p->cfg.n_class; i++) {
            const vpn_qos_class_stats *st = vpn_qos_sched_stats(sched, i);
            mp += st->matched_pkts;
            mb += st->matched_bytes;
            dr += st->drop_tail + st->drop_policer;
        }
        put(&o, "    Class-map: class-default (match-any)\n      %llu packets, %llu bytes\n",
            (unsigned long long)mp, (unsigned long long)mb);
        put(&o, "      Match: any\n      Queueing\n      (total drops) %llu\n", (unsigned long long)dr);
        put(&o, "      shape (average) cir %llu, bc %u, be 0\n      target shape rate %llu\n\n",
            (unsigned long long)p->cfg.shape_bps, vpn_qos_sched_config(sched)->shape_bc_bytes * 8,
            (unsigned long long)p->cfg.shape_bps);
        put(&o, "      Service-policy : %s\n\n", p->child);
        ind = "        ";
    }
    for (size_t i = 0; i < p->cfg.n_class; i++) {
        const vpn_qos_class_stats *st = vpn_qos_sched_stats(sched, i);
        const vpn_qos_class_cfg *k = &vpn_qos_sched_config(sched)->cls[i]; /* defaults filled in */
        const mqc_class *m = &p->cls[i];
        uint64_t span = st->last_ns > st->first_ns ? st->last_ns - st->first_ns : 0;
        unsigned long long offered = span ? (unsigned long long)((double)st->matched_bytes * 8e9 / (double)span) : 0;
        (void)now_ns;
        put(&o, "%sClass-map: %s (%s)\n", ind, k->name, m->is_default || m->match_any ? "match-any" : "match-all");
        put(&o, "%s  %llu packets, %llu bytes\n", ind, (unsigned long long)st->matched_pkts,
            (unsigned long long)st->matched_bytes);
        put(&o, "%s  offered rate %llu bps, drop rate %llu bps\n", ind, offered,
            span && st->matched_pkts ? offered * (st->drop_tail + st->drop_policer) / st->matched_pkts : 0ull);
        if (m->is_default && m->n_match == 0)
            put(&o, "%s  Match: any\n", ind);
        for (size_t j = 0; j < m->n_match; j++) {
            if (m->match[j].type == VPN_CONF_QOS_MATCH_DSCP) {
                put(&o, "%s  Match:  dscp", ind);
                for (unsigned d = 0; d < 64; d++)
                    if ((m->match[j].dscp >> d) & 1) {
                        char b[8];
                        put(&o, " %s (%u)", dscp_name(d, b, sizeof b), d);
                    }
                put(&o, "\n");
            } else if (m->match[j].type == VPN_CONF_QOS_MATCH_ACL) {
                put(&o, "%s  Match: access-group name %s\n", ind, m->match[j].acl);
            } else {
                put(&o, "%s  Match: any\n", ind);
            }
        }
        if (k->kind == VPN_QOS_CLASS_PRIORITY) {
            put(&o, "%s  Priority: %llu kbps, burst bytes %u, b/w exceed drops: %llu\n", ind,
                (unsigned long long)(k->rate_bps / 1000), k->burst_bytes, (unsigned long long)st->drop_policer);
        } else {
            put(&o, "%s  Queueing\n%s  queue limit %u packets\n", ind, ind, k->queue_limit);
            put(&o, "%s  (queue depth/total drops/no-buffer drops) %u/%llu/0\n", ind, st->depth,
                (unsigned long long)st->drop_tail);
            put(&o, "%s  (pkts output/bytes output) %llu/%llu\n", ind, (unsigned long long)st->sent_pkts,
                (unsigned long long)st->sent_bytes);
            if (m->action == VPN_CONF_QOS_ACT_BANDWIDTH) {
                if (m->unit == VPN_CONF_QOS_KBPS)
                    put(&o, "%s  bandwidth %u kbps\n", ind, m->value);
                else
                    put(&o, "%s  bandwidth %s%u%% (%llu kbps)\n", ind,
                        m->unit == VPN_CONF_QOS_REMAINING_PERCENT ? "remaining " : "", m->value,
                        (unsigned long long)(k->rate_bps / 1000));
            }
            if (k->fair_queues)
                put(&o, "%s  Fair-queue: per-flow queue limit %u packets\n", ind,
                    k->queue_limit / 4 ? k->queue_limit / 4 : 1);
        }
        put(&o, "\n");
    }
    return o.len > (size_t)INT32_MAX ? VPN_ERR_OVERFLOW : (int)o.len;
}
