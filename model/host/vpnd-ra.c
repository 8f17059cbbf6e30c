/*
 * vpnd as a FlexVPN remote-access hub: what the host needs beyond the
 * router's ACCESS tunnel (model/core/router). The engine authenticates the
 * client with EAP (RFC 7296 2.16) against the local `username` database and
 * assigns it an address from the `ip local pool` of the authorization
 * policy (RFC 7296 3.15); the CHILD_SA's remote selector is narrowed to
 * that address. Here: while a client's CHILD_SA is up, the kernel routes
 * the address (a /32) into the Virtual-Template's TUN device, as IOS
 * installs a host route via the session's Virtual-Access interface; the
 * route goes with the last CHILD_SA that holds it (a rekey keeps it). And
 * the views: `show ip local pool`, `show crypto session username U`.
 */
#define _GNU_SOURCE
#include "vpnd.h"

#include <string.h>

#include "common/vpn-err.h"
#include "show/show-ikev2.h"

#define RA_SHOW_CAP (1 << 18)

typedef struct ra_route {
    size_t tunnel;     /* index into d->tun */
    vpn_prefix prefix; /* the client's address */
} ra_route;

static bool same_route(const ra_route *a, const ra_route *b)
{
    return a->tunnel == b->tunnel && a->prefix.len == b->prefix.len && vpn_addr_eq(&a->prefix.addr, &b->prefix.addr);
}

/* Another CHILD_SA still holds this route (a rekey's successor, say). */
static bool route_held(vpnd *d, const ra_route *r)
{
    GHashTableIter it;
    gpointer k, v;

    g_hash_table_iter_init(&it, d->ra_routes);
    while (g_hash_table_iter_next(&it, &k, &v))
        if (v != r && same_route(v, r))
            return true;
    return false;
}

static void route_text(const ra_route *r, char *buf, size_t len)
{
    char s[VPN_ADDR_STRLEN];
    snprintf(buf, len, "%s/%u", vpn_addr_str(&r->prefix.addr, s, sizeof s), r->prefix.len);
}

void vpnd_ra_child_up(vpnd *d, vpnd_tunnel *t, const vpn_ikev2_child_info *c)
{
    /* The remote selector a pool address narrowed it to: one host. A
     * client that kept any/any (no address asked for) gets no route: its
     * traffic has no inner address the host could route to. */
    for (size_t k = 0; k < c->n_ts_remote; k++) {
        ra_route *r;
        vpn_prefix p;
        char a[VPN_ADDR_STRLEN + 4], err[256];
        bool held;

        if (vpn_host_selector_prefix(&c->ts_remote[k], &p) != 0 || p.addr.family != VPN_AF_INET || p.len != 32)
            continue;
        if (d->ra_routes == NULL)
            d->ra_routes = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
        r = g_new0(ra_route, 1);
        r->tunnel = (size_t)(t - d->tun);
        r->prefix = p;
        held = route_held(d, r);
        route_text(r, a, sizeof a);
        if (!held && vpnd_run_ip(d, err, sizeof err, (const char *[]){"route", "replace", a, "dev", t->ifname, NULL}) != 0) {
            vpnd_log(d, VPN_LOG_WARN, "%s: client %s: %s", t->t->name, a, err);
            g_free(r);
            continue;
        }
        g_hash_table_replace(d->ra_routes, GUINT_TO_POINTER(c->id), r);
        if (!held)
            vpnd_log(d, VPN_LOG_INFO, "%s: client route %s into %s (CHILD_SA %u)", t->t->name, a, t->ifname, c->id);
        break; /* one route per CHILD_SA */
    }
}

void vpnd_ra_child_down(vpnd *d, uint32_t child_id)
{
    ra_route *r;
    char a[VPN_ADDR_STRLEN + 4], err[256];

    if (d->ra_routes == NULL || (r = g_hash_table_lookup(d->ra_routes, GUINT_TO_POINTER(child_id))) == NULL)
        return;
    if (!route_held(d, r) && r->tunnel < d->n_tun) {
        route_text(r, a, sizeof a);
        if (vpnd_run_ip(d, err, sizeof err,
                        (const char *[]){"route", "del", a, "dev", d->tun[r->tunnel].ifname, NULL}) != 0)
            vpnd_log(d, VPN_LOG_WARN, "%s", err);
        else
            vpnd_log(d, VPN_LOG_INFO, "%s: client route %s removed", d->tun[r->tunnel].t->name, a);
    }
    g_hash_table_remove(d->ra_routes, GUINT_TO_POINTER(child_id));
}

void vpnd_ra_close(vpnd *d)
{
    /* the routes go with the TUN devices */
    if (d->ra_routes)
        g_hash_table_destroy(d->ra_routes);
    d->ra_routes = NULL;
}

int vpnd_ra_show(vpnd *d, const char *user, bool detail, GString *out)
{
    vpn_show_buf b;
    int rc;

    vpnd_show_begin(&b, RA_SHOW_CAP);
    if (user)
        rc = vpn_router_show_crypto_session_user(d->router, vpnd_now(), user, detail, &b);
    else
        rc = vpn_show_ip_local_pool(vpn_router_ikev2(d->router), &b);
    vpnd_show_end(&b, out);
    if (rc != 0 && rc != VPN_ERR_NOSPACE) {
        g_string_append_printf(out, "%% %s\n", vpn_strerror(rc));
        return 1;
    }
    return 0;
}
