/* MQC references and bandwidth shares (conf-qos.h): what IOS refuses when a
 * policy-map is attached, refused here with the line that says it. */
#include <string.h>

#include "common/vpn-err.h"
#include "conf/conf-internal.h"
#include "conf/conf.h"

static int check_policy_map(const vpn_conf *c, const vpn_conf_policy_map *pm, vpn_conf_error *err)
{
    uint32_t pct = 0, rem = 0;
    int units = -1; /* unit of the first bandwidth/priority share seen */

    for (size_t i = 0; i < pm->n_class; i++) {
        const vpn_conf_qos_class *k = &pm->cls[i];
        bool is_default = strcmp(k->name, "class-default") == 0;
        if (!is_default && !vpn_conf_find_class_map(c, k->name))
            return vpn_conf_fail(err, k->line, VPN_ERR_NOTFOUND, "policy-map %s: class-map %s is not defined",
                                 pm->name, k->name);
        if (is_default && k->action == VPN_CONF_QOS_ACT_PRIORITY)
            return vpn_conf_fail(err, k->line, VPN_ERR_POLICY,
                                 "policy-map %s: priority is not allowed in class-default", pm->name);
        if (k->action != VPN_CONF_QOS_ACT_NONE) {
            if (k->unit == VPN_CONF_QOS_REMAINING_PERCENT)
                rem += k->value;
            else {
                if (units >= 0 && units != (int)k->unit)
                    return vpn_conf_fail(err, k->line, VPN_ERR_POLICY,
                                         "policy-map %s: mixes kbps and percent shares (IOS needs one unit)",
                                         pm->name);
                units = (int)k->unit;
                if (k->unit == VPN_CONF_QOS_PERCENT)
                    pct += k->value;
            }
        }
        if (k->child[0]) {
            const vpn_conf_policy_map *ch = vpn_conf_find_policy_map(c, k->child);
            if (ch == NULL)
                return vpn_conf_fail(err, k->child_line, VPN_ERR_NOTFOUND,
                                     "policy-map %s class %s: service-policy %s is not defined", pm->name, k->name,
                                     k->child);
            if (k->shape_bps == 0)
                return vpn_conf_fail(err, k->child_line, VPN_ERR_POLICY,
                                     "policy-map %s class %s: a child service-policy needs 'shape average'",
                                     pm->name, k->name);
            bool nested = ch == pm;
            for (size_t j = 0; j < ch->n_class; j++)
                nested = nested || ch->cls[j].child[0];
            /* The child is checked on its own by the caller's loop. */
            if (nested)
                return vpn_conf_fail(err, k->child_line, VPN_ERR_POLICY,
                                     "policy-map %s: service-policy %s: only two levels (shaper parent, queueing "
                                     "child) are supported", pm->name, ch->name);
        }
    }
    if (pct > 100)
        return vpn_conf_fail(err, pm->line, VPN_ERR_POLICY,
                             "policy-map %s: priority and bandwidth percent add up to %u (more than 100)", pm->name,
                             pct);
    if (rem > 100)
        return vpn_conf_fail(err, pm->line, VPN_ERR_POLICY,
                             "policy-map %s: bandwidth remaining percent adds up to %u (more than 100)", pm->name,
                             rem);
    return 0;
}

int vpn_conf_validate_qos(const vpn_conf *c, vpn_conf_error *err)
{
    int rc;

    for (size_t i = 0; i < c->n_class_map; i++) {
        const vpn_conf_class_map *m = &c->class_map[i];
        if (m->n_match == 0)
            return vpn_conf_fail(err, m->line, VPN_ERR_POLICY, "class-map %s has no match statement", m->name);
        for (size_t j = 0; j < m->n_match; j++)
            if (m->match[j].type == VPN_CONF_QOS_MATCH_ACL && !vpn_conf_find_acl(c, m->match[j].acl))
                return vpn_conf_fail(err, m->match[j].line, VPN_ERR_NOTFOUND,
                                     "class-map %s: access-list %s is not defined", m->name, m->match[j].acl);
    }
    for (size_t i = 0; i < c->n_policy_map; i++)
        if ((rc = check_policy_map(c, &c->policy_map[i], err)) != 0)
            return rc;
    for (size_t i = 0; i < c->n_iface; i++) {
        const vpn_conf_interface *f = &c->iface[i];
        if (f->service_policy_out[0] && !vpn_conf_find_policy_map(c, f->service_policy_out))
            return vpn_conf_fail(err, f->service_policy_line, VPN_ERR_NOTFOUND,
                                 "interface %s: policy-map %s is not defined", f->name, f->service_policy_out);
    }
    return 0;
}
