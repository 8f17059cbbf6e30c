/* IOS `ip nhrp` configuration -> NHRP engine parameters; see nhrp-conf.h. */
#include "nhrp/nhrp-conf.h"

#include <stdio.h>
#include <string.h>

#include "common/vpn-err.h"

static int fail(vpn_conf_error *err, int line, int code, const char *msg, const char *arg)
{
    if (err) {
        err->line = line;
        snprintf(err->msg, sizeof err->msg, "%s%s", msg, arg ? arg : "");
    }
    return code;
}

int vpn_nhrp_params_from_conf(const vpn_conf *c, const char *ifname, vpn_nhrp_conf_params *out,
                              vpn_conf_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
    if (!c || !ifname || !out)
        return VPN_ERR_INVAL;
    memset(out, 0, sizeof *out);
    const vpn_conf_interface *f = vpn_conf_find_interface(c, ifname);
    if (!f)
        return fail(err, 0, VPN_ERR_NOTFOUND, "no interface ", ifname);
    const vpn_conf_nhrp *h = &f->nhrp;
    if (!h->enabled)
        return fail(err, f->line, VPN_ERR_POLICY, "no 'ip nhrp' configuration on ", ifname);
    if (!h->has_network_id)
        return fail(err, h->line, VPN_ERR_POLICY, "'ip nhrp network-id' is required on ", ifname);
    /* A FlexVPN Virtual-Template is `ip unnumbered Loopback0`: NHRP speaks
     * with that interface's address. */
    const vpn_conf_interface *af = f;
    if (!f->has_address && f->unnumbered)
        af = vpn_conf_find_interface(c, f->unnumbered_if);
    if (!af || !af->has_address)
        return fail(err, f->line, VPN_ERR_POLICY, "NHRP needs 'ip address' (or 'ip unnumbered IF') on ",
                    ifname);

    vpn_nhrp_params *p = &out->p;
    snprintf(out->ifname, sizeof out->ifname, "%s", ifname);
    p->ifname = out->ifname;
    p->proto = af->address.addr;
    p->proto_prefix_len = af->address.len;
    /* Our NBMA address: the tunnel source. */
    if (f->has_tunnel_source) {
        p->nbma = f->tunnel_source;
    } else if (f->tunnel_source_if[0]) {
        const vpn_conf_interface *src = vpn_conf_find_interface(c, f->tunnel_source_if);
        if (!src || !src->has_address)
            return fail(err, f->line, VPN_ERR_POLICY, "tunnel source interface has no address: ",
                        f->tunnel_source_if);
        p->nbma = src->address.addr;
    } else {
        return fail(err, f->line, VPN_ERR_POLICY, "NHRP needs 'tunnel source' on ", ifname);
    }
    p->network_id = h->network_id;
    if (h->auth[0]) {
        snprintf(out->auth, sizeof out->auth, "%s", h->auth);
        p->auth = out->auth;
    }
    p->holdtime_s = h->holdtime;
    p->reg_interval_s = h->reg_timeout;
    p->reg_no_unique = h->reg_no_unique;
    p->redirect = h->redirect;
    p->redirect_timeout_s = h->redirect_timeout;
    p->shortcut = h->shortcut;
    p->mtu = (uint16_t)(f->ip_mtu > 0xffff ? 0 : f->ip_mtu);
    p->nhs_role = h->n_nhs == 0;

    for (size_t i = 0; i < h->n_map; i++) {
        const vpn_conf_nhrp_map *m = &h->map[i];
        if (m->proto.family != p->proto.family || m->nbma.family != p->nbma.family)
            return fail(err, m->line, VPN_ERR_POLICY,
                        "ip nhrp map: addresses of another family than the tunnel's", NULL);
        out->maps[i].proto.addr = m->proto;
        out->maps[i].proto.len = m->proto.family == VPN_AF_INET6 ? 128 : 32;
        out->maps[i].nbma = m->nbma;
    }
    p->maps = out->maps;
    p->n_maps = h->n_map;

    for (size_t i = 0; i < h->n_nhs; i++) {
        const vpn_conf_nhrp_nhs *s = &h->nhs[i];
        vpn_nhrp_nhs_cfg *o = &out->nhs[i];
        o->proto = s->proto;
        o->multicast = s->multicast;
        if (s->has_nbma) {
            o->nbma = s->nbma;
        } else {
            bool found = false;
            for (size_t k = 0; k < h->n_map && !found; k++)
                if (vpn_addr_eq(&h->map[k].proto, &s->proto)) {
                    o->nbma = h->map[k].nbma; /* the older `ip nhrp map A B` + `nhs A` form */
                    found = true;
                }
            if (!found && f->has_tunnel_destination) {
                o->nbma = f->tunnel_destination; /* point-to-point GRE spoke */
                found = true;
            }
            if (!found)
                return fail(err, s->line, VPN_ERR_POLICY,
                            "ip nhrp nhs: no NBMA address (add 'nbma B' or 'ip nhrp map A B')",
                            NULL);
        }
        if (o->proto.family != p->proto.family || o->nbma.family != p->nbma.family)
            return fail(err, s->line, VPN_ERR_POLICY,
                        "ip nhrp nhs: addresses of another family than the tunnel's", NULL);
    }
    p->nhs = out->nhs;
    p->n_nhs = h->n_nhs;

    for (size_t i = 0; i < h->n_mcast; i++) {
        if (h->mcast[i].family != p->nbma.family)
            return fail(err, h->line, VPN_ERR_POLICY,
                        "ip nhrp map multicast: an address of another family than the tunnel source",
                        NULL);
        out->mcast[i] = h->mcast[i];
    }
    p->mcast = out->mcast;
    p->n_mcast = h->n_mcast;
    p->mcast_dynamic = h->mcast_dynamic;
    return 0;
}
