/* Configuration -> host daemon plan (host-plan.h). */
#include "host-plan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/vpn-err.h"
#include "router/router.h"

static int fail(char *err, size_t errlen, int code, int line, const char *fmt, ...) VPN_PRINTF(5, 6);

static int fail(char *err, size_t errlen, int code, int line, const char *fmt, ...)
{
    va_list ap;
    int n = 0;

    if (err == NULL || errlen == 0)
        return code;
    if (line > 0)
        n = snprintf(err, errlen, "line %d: ", line);
    if (n < 0 || (size_t)n >= errlen)
        return code;
    va_start(ap, fmt);
    vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return code;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src);
}

/* The outer source of a tunnel: `tunnel source A`, or the address of the
 * interface `tunnel source IF` names. */
static int tunnel_source(const vpn_conf *c, const vpn_conf_interface *f, vpn_addr *out, char *err,
                         size_t errlen)
{
    const vpn_conf_interface *s;

    if (f->has_tunnel_source) {
        *out = f->tunnel_source;
        return 0;
    }
    if (!f->tunnel_source_if[0])
        return fail(err, errlen, VPN_ERR_POLICY, f->line,
                    "%s has no tunnel source (vpnd needs the local address IKE and ESP leave from)",
                    f->name);
    s = vpn_conf_find_interface(c, f->tunnel_source_if);
    if (s == NULL || !s->has_address)
        return fail(err, errlen, VPN_ERR_POLICY, f->line,
                    "%s: tunnel source %s needs an `ip address` in the configuration", f->name,
                    f->tunnel_source_if);
    *out = s->address.addr;
    return 0;
}

static int add_tunnel(const vpn_conf *c, const vpn_conf_interface *f, vpn_host_plan *plan, char *err,
                      size_t errlen)
{
    vpn_host_tunnel *t;
    int rc;

    if (f->tunnel_mode == VPN_CONF_TUNNEL_GRE_MULTIPOINT)
        return fail(err, errlen, VPN_ERR_UNSUPPORTED, f->line,
                    "%s: tunnel mode gre multipoint is not supported by vpnd; use `tunnel mode gre ip` "
                    "(point-to-point GRE/IPsec) or `tunnel mode ipsec ipv4` (VTI)",
                    f->name);
    if (f->tunnel_mode == VPN_CONF_TUNNEL_GRE_IP && f->is_virtual_template)
        return fail(err, errlen, VPN_ERR_UNSUPPORTED, f->line,
                    "%s: vpnd serves remote access on `tunnel mode ipsec ipv4` templates, "
                    "not `tunnel mode gre ip`",
                    f->name);
    if (f->tunnel_mode != VPN_CONF_TUNNEL_IPSEC_IPV4 && f->tunnel_mode != VPN_CONF_TUNNEL_GRE_IP)
        return fail(err, errlen, VPN_ERR_UNSUPPORTED, f->line,
                    "%s: vpnd supports `tunnel mode ipsec ipv4` and `tunnel mode gre ip` only", f->name);
    if (!f->protection[0])
        return fail(err, errlen, VPN_ERR_POLICY, f->line,
                    "%s has no `tunnel protection ipsec profile`", f->name);
    if (!f->has_tunnel_destination && !f->is_virtual_template)
        return fail(err, errlen, VPN_ERR_POLICY, f->line, "%s has no tunnel destination", f->name);
    if (f->is_virtual_template && f->has_tunnel_destination)
        return fail(err, errlen, VPN_ERR_POLICY, f->line,
                    "%s: a Virtual-Template takes no tunnel destination (its clients are not known)", f->name);
    if (plan->n_tunnel == VPN_HOST_TUNNELS_MAX)
        return fail(err, errlen, VPN_ERR_LIMIT, f->line, "more than %d tunnel interfaces",
                    VPN_HOST_TUNNELS_MAX);
    t = &plan->tunnel[plan->n_tunnel];
    memset(t, 0, sizeof *t);
    if ((rc = tunnel_source(c, f, &t->src, err, errlen)) != 0)
        return rc;
    t->dst = f->tunnel_destination;
    t->access = f->is_virtual_template;
    t->gre = f->tunnel_mode == VPN_CONF_TUNNEL_GRE_IP;
    t->has_key = f->has_tunnel_key;
    t->key = f->tunnel_key;
    if (t->access) {
        memset(&t->dst, 0, sizeof t->dst);
        t->dst.family = t->src.family;
        if (t->src.family != VPN_AF_INET)
            return fail(err, errlen, VPN_ERR_UNSUPPORTED, f->line,
                        "%s: vpnd serves remote access over IPv4 only", f->name);
    }
    if (t->src.family != t->dst.family)
        return fail(err, errlen, VPN_ERR_POLICY, f->line,
                    "%s: tunnel source and destination are of different address families", f->name);
    if (!t->access && vpn_addr_is_any(&t->dst))
        return fail(err, errlen, VPN_ERR_POLICY, f->line, "%s: tunnel destination cannot be 0.0.0.0",
                    f->name);
    copy_str(t->name, sizeof t->name, f->name);
    t->number = t->access ? f->vt_number : (uint32_t)strtoul(f->name + 6, NULL, 10);
    copy_str(t->ipsec_profile, sizeof t->ipsec_profile, f->protection);
    t->has_address = f->has_address;
    t->address = f->address;
    if (f->has_address && f->address.addr.family != VPN_AF_INET)
        return fail(err, errlen, VPN_ERR_UNSUPPORTED, f->line,
                    "%s: vpnd's tunnel interfaces carry IPv4: an IPv4 `ip address` only", f->name);
    t->mtu = f->ip_mtu ? f->ip_mtu : 1400;
    t->mtu_set = f->ip_mtu != 0;
    t->line = f->line;
    plan->n_tunnel++;
    return 0;
}

const vpn_host_tunnel *vpn_host_plan_find(const vpn_host_plan *plan, const char *name)
{
    if (plan == NULL || name == NULL)
        return NULL;
    for (size_t i = 0; i < plan->n_tunnel; i++)
        if (strcasecmp(plan->tunnel[i].name, name) == 0)
            return &plan->tunnel[i];
    return NULL;
}

int vpn_host_plan_build(const vpn_conf *c, vpn_host_plan *plan, char *err, size_t errlen)
{
    int rc;

    if (err && errlen)
        err[0] = '\0';
    if (c == NULL || plan == NULL)
        return fail(err, errlen, VPN_ERR_INVAL, 0, "no configuration");
    memset(plan, 0, sizeof *plan);
    for (size_t i = 0; i < c->n_iface; i++) {
        const vpn_conf_interface *f = &c->iface[i];
        if ((f->is_tunnel || f->is_virtual_template) && (rc = add_tunnel(c, f, plan, err, errlen)) != 0)
            return rc;
    }
    if (plan->n_tunnel == 0 && c->n_isakmp_policy == 0)
        return fail(err, errlen, VPN_ERR_POLICY, 0,
                    "no tunnel interface: vpnd needs an `interface TunnelN` (`tunnel mode ipsec ipv4` or "
                    "`tunnel mode gre ip`) with `tunnel protection ipsec profile` "
                    "(or, for IKEv1 phase 1 only, a `crypto isakmp policy`)");
    for (size_t i = 0; i < c->n_route; i++) {
        const vpn_conf_route *r = &c->route[i];
        vpn_host_tunnel *t = NULL;
        for (size_t j = 0; r->via_interface && j < plan->n_tunnel; j++)
            if (strcmp(plan->tunnel[j].name, r->interface) == 0)
                t = &plan->tunnel[j];
        if (t == NULL)
            return fail(err, errlen, VPN_ERR_UNSUPPORTED, r->line,
                        "vpnd installs only routes into a tunnel interface (`ip route P M TunnelN`); "
                        "other routes belong to the host");
        if (r->prefix.addr.family != VPN_AF_INET)
            return fail(err, errlen, VPN_ERR_UNSUPPORTED, r->line,
                        "%s carries IPv4: IPv6 routes cannot enter it", t->name);
        if (t->n_route == VPN_HOST_ROUTES_MAX)
            return fail(err, errlen, VPN_ERR_LIMIT, r->line, "more than %d routes into %s",
                        VPN_HOST_ROUTES_MAX, t->name);
        t->route[t->n_route++] = r->prefix;
    }
    return 0;
}

void vpn_host_tunnel_policy(const vpn_host_tunnel *t, uint32_t tag, vpn_ikev2_policy *pol)
{
    if (t->gre)
        vpn_router_gre_policy(pol, t->ipsec_profile, &t->src, &t->dst, tag);
    else
        vpn_ikev2_policy_vti(pol, t->ipsec_profile, &t->dst, tag);
}

int vpn_host_selector_prefix(const vpn_ikev2_selector *s, vpn_prefix *out)
{
    size_t n = vpn_addr_len(&s->addr_lo);
    int len = 0;
    bool in_host = false;

    if (n == 0 || s->addr_hi.family != s->addr_lo.family)
        return -1;
    for (size_t i = 0; i < n; i++)
        for (int b = 7; b >= 0; b--) {
            int lo = (s->addr_lo.b[i] >> b) & 1, hi = (s->addr_hi.b[i] >> b) & 1;
            if (!in_host && lo == hi) {
                len++;
                continue;
            }
            in_host = true;
            if (lo != 0 || hi != 1)
                return -1;
        }
    out->addr = s->addr_lo;
    out->len = (uint8_t)len;
    return 0;
}
