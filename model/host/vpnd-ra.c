/*
 * vpnd as a FlexVPN remote-access hub: what the host needs beyond the
 * router's ACCESS tunnel (model/core/router). The engine authenticates the
 * client with EAP (RFC 7296 2.16) against the local `username` database and
 * assigns it an address from the `ip local pool` of the authorization
 * policy (RFC 7296 3.15); the CHILD_SA's remote selector is narrowed to
 * that address. Here: while a client's CHILD_SA is up, the kernel routes
 * the address (a /32, and an IPv6 user's /128; a spoke's subnet for a site-to-site peer on the
 * same template) into the Virtual-Template's TUN device, as IOS
 * installs a host route via the session's Virtual-Access interface; the
 * route goes with the last CHILD_SA that holds it (a rekey keeps it). And
 * the views: `show ip local pool`, `show crypto session username U`.
 * And the RADIUS client of EAP passthrough (end of this file).
 */
#define _GNU_SOURCE
#include "vpnd.h"

#include <string.h>

#include <errno.h>
#include <glib-unix.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/vpn-err.h"
#include "radius/radius.h"
#include "show/show-ikev2.h"

#define RA_SHOW_CAP (1 << 18)

typedef struct ra_route {
    size_t tunnel;     /* index into d->tun */
    vpn_prefix prefix; /* the client's address (or a spoke's subnet) */
} ra_route;

/* What one CHILD_SA routes: one prefix per address family at most (a
 * dual-stack user's IPv4 and IPv6 addresses, RFC 7296 3.15.1). */
typedef struct ra_routes {
    ra_route r[2];
    size_t n;
} ra_routes;

static bool same_route(const ra_route *a, const ra_route *b)
{
    return a->tunnel == b->tunnel && a->prefix.len == b->prefix.len && vpn_addr_eq(&a->prefix.addr, &b->prefix.addr);
}

/* Another CHILD_SA (not `self`) still holds this route (a rekey's successor, say). */
static bool route_held(vpnd *d, const ra_routes *self, const ra_route *r)
{
    GHashTableIter it;
    gpointer k, v;

    g_hash_table_iter_init(&it, d->ra_routes);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        const ra_routes *o = v;
        if (o == self)
            continue;
        for (size_t i = 0; i < o->n; i++)
            if (same_route(&o->r[i], r))
                return true;
    }
    return false;
}

static void route_text(const ra_route *r, char *buf, size_t len)
{
    char s[VPN_ADDR_STRLEN];
    snprintf(buf, len, "%s/%u", vpn_addr_str(&r->prefix.addr, s, sizeof s), r->prefix.len);
}

void vpnd_ra_child_up(vpnd *d, vpnd_tunnel *t, const vpn_ikev2_child_info *c)
{
    /* The remote selectors a pool address narrowed them to: one host per
     * family (IPv4, and IPv6 for a user of an `ipv6 pool`); or a
     * site-to-site spoke's subnet on the same Virtual-Template (the hub
     * block serves both). A peer that kept any/any (no address asked for,
     * no subnet) gets no route: nothing says what lies behind it. `ip`
     * takes either family from the prefix; the TUN of an access template
     * keeps IPv6 on (vpnd-dp.c). */
    ra_routes *rs = g_new0(ra_routes, 1);

    if (d->ra_routes == NULL)
        d->ra_routes = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    for (size_t k = 0; k < c->n_ts_remote && rs->n < 2; k++) {
        ra_route r;
        vpn_prefix p;
        char a[VPN_ADDR_STRLEN + 4], err[256];
        bool held, seen = false;

        if (vpn_host_selector_prefix(&c->ts_remote[k], &p) != 0 ||
            (p.addr.family != VPN_AF_INET && p.addr.family != VPN_AF_INET6) || p.len == 0)
            continue;
        for (size_t i = 0; i < rs->n; i++)
            seen = seen || rs->r[i].prefix.addr.family == p.addr.family;
        if (seen)
            continue; /* one route per family and CHILD_SA */
        r.tunnel = (size_t)(t - d->tun);
        r.prefix = p;
        held = route_held(d, rs, &r);
        route_text(&r, a, sizeof a);
        if (!held && vpnd_run_ip(d, err, sizeof err, (const char *[]){"route", "replace", a, "dev", t->ifname, NULL}) != 0) {
            vpnd_log(d, VPN_LOG_WARN, "%s: client %s: %s", t->t->name, a, err);
            continue;
        }
        rs->r[rs->n++] = r;
        if (!held)
            vpnd_log(d, VPN_LOG_INFO, "%s: client route %s into %s (CHILD_SA %u)", t->t->name, a, t->ifname, c->id);
    }
    if (rs->n == 0) {
        g_free(rs);
        return;
    }
    g_hash_table_replace(d->ra_routes, GUINT_TO_POINTER(c->id), rs);
}

void vpnd_ra_child_down(vpnd *d, uint32_t child_id)
{
    ra_routes *rs;
    char a[VPN_ADDR_STRLEN + 4], err[256];

    if (d->ra_routes == NULL || (rs = g_hash_table_lookup(d->ra_routes, GUINT_TO_POINTER(child_id))) == NULL)
        return;
    for (size_t i = 0; i < rs->n; i++) {
        const ra_route *r = &rs->r[i];
        if (route_held(d, rs, r) || r->tunnel >= d->n_tun)
            continue;
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

/* ---- RADIUS for EAP passthrough ------------------------------------------ */
/*
 * A profile with `aaa authentication eap LIST` naming a RADIUS group gets
 * one vpn_radius_client (model/core/radius) over that group's servers; the
 * IKEv2 engine hands it every EAP step (vpn_ikev2_eap_backend) and the
 * answers go back with vpn_ikev2_eap_answer. One unconnected UDP socket
 * carries every request; replies are matched to a server by source
 * address and port. Other profiles stay on the local user database.
 */
struct vpnd_radius;

typedef struct radius_profile {
    struct vpnd_radius *r;
    const vpn_conf_profile *pr;
    vpn_radius_client *client;
    vpn_addr addr[VPN_RADIUS_SERVERS_MAX];
    uint16_t port[VPN_RADIUS_SERVERS_MAX];
    char name[VPN_RADIUS_SERVERS_MAX][VPN_CONF_NAME_MAX];
    size_t n;
} radius_profile;

struct vpnd_radius {
    vpnd *d;
    vpn_ikev2_eap_backend backend;
    int fd;
    guint watch;
    radius_profile *prof;
    size_t n_prof;
};

static radius_profile *radius_find(struct vpnd_radius *r, const char *profile)
{
    for (size_t i = 0; i < r->n_prof; i++)
        if (strcmp(r->prof[i].pr->name, profile) == 0)
            return &r->prof[i];
    return NULL;
}

static void radius_send(void *user, size_t server, const uint8_t *dg, size_t len)
{
    radius_profile *rp = user;
    struct sockaddr_storage ss;
    socklen_t sl;
    char a[VPN_ADDR_STRLEN];

    vpnd_sockaddr(&rp->addr[server], rp->port[server], &ss, &sl);
    if (sendto(rp->r->fd, dg, len, 0, (struct sockaddr *)&ss, sl) < 0)
        vpnd_log(rp->r->d, VPN_LOG_WARN, "RADIUS to %s (%s:%u): %s", rp->name[server],
                 vpn_addr_str(&rp->addr[server], a, sizeof a), rp->port[server], strerror(errno));
}

static void radius_answer(void *user, uint32_t handle, const vpn_radius_result *res)
{
    radius_profile *rp = user;
    vpnd *d = rp->r->d;
    char a[VPN_ADDR_STRLEN];
    int rc;

    if (res->status == VPN_ERR_EXPIRED)
        vpnd_log(d, VPN_LOG_WARN, "IKE SA %u: no RADIUS server of profile %s answered", handle, rp->pr->name);
    else if (res->code == VPN_RADIUS_ACCESS_ACCEPT)
        vpnd_log(d, VPN_LOG_INFO, "IKE SA %u: RADIUS %s: Access-Accept%s%s", handle, rp->name[res->server],
                 res->framed_ip.family ? ", Framed-IP-Address " : "",
                 res->framed_ip.family ? vpn_addr_str(&res->framed_ip, a, sizeof a) : "");
    else if (res->code == VPN_RADIUS_ACCESS_REJECT)
        vpnd_log(d, VPN_LOG_INFO, "IKE SA %u: RADIUS %s: Access-Reject", handle, rp->name[res->server]);
    if (res->status == 0 && res->code == VPN_RADIUS_ACCESS_ACCEPT) {
        /* the authorization attributes, for `aaa authorization user eap cached` */
        vpn_cp_authz z;
        memset(&z, 0, sizeof z);
        z.address = res->framed_ip;
        snprintf(z.pool, sizeof z.pool, "%s", res->addr_pool);
        for (size_t i = 0; i < res->n_dns && z.n_dns < VPN_CP_MAX_DNS; i++)
            z.dns[z.n_dns++] = res->dns[i];
        for (size_t i = 0; i < res->n_routes && z.n_subnets < VPN_CP_MAX_SUBNETS; i++)
            z.subnets[z.n_subnets++] = res->routes[i];
        if ((rc = vpn_router_eap_authorize(d->router, handle, &z)) != 0)
            vpnd_log(d, VPN_LOG_INFO, "IKE SA %u: RADIUS attributes dropped (%s)", handle, vpn_strerror(rc));
        if (z.pool[0] || z.n_dns || z.n_subnets)
            vpnd_log(d, VPN_LOG_INFO, "IKE SA %u: RADIUS authorizes%s%s, %zu DNS, %zu route%s", handle,
                     z.pool[0] ? " pool " : "", z.pool, z.n_dns, z.n_subnets, z.n_subnets == 1 ? "" : "s");
    }
    rc = vpn_router_eap_answer(d->router, vpnd_now(), handle, &res->eap);
    if (rc != 0)
        vpnd_log(d, VPN_LOG_INFO, "IKE SA %u: RADIUS answer dropped (%s)", handle, vpn_strerror(rc));
}

/* vpn_ikev2_eap_fn: the engine's EAP steps for RADIUS profiles. */
static int radius_step(void *user, uint32_t ike_sa_id, const char *profile, const char *identity,
                       const uint8_t *msg, size_t len, vpn_eap_answer *a)
{
    struct vpnd_radius *r = user;
    radius_profile *rp = radius_find(r, profile);
    int rc;

    if (rp == NULL)
        return msg == NULL ? VPN_IKEV2_EAP_LOCAL : VPN_ERR_STATE;
    if (msg == NULL) {
        rc = vpn_radius_eap_start(rp->client, vpnd_now(), ike_sa_id, identity, rp->pr->eap_query_identity, a);
        return rc == 1 ? VPN_IKEV2_EAP_PENDING : rc;
    }
    rc = vpn_radius_eap_send(rp->client, vpnd_now(), ike_sa_id, identity, msg, len);
    return rc == 0 ? VPN_IKEV2_EAP_PENDING : rc;
}

static gboolean on_radius(gint fd, GIOCondition cond, gpointer user)
{
    struct vpnd_radius *r = user;
    uint8_t buf[VPN_RADIUS_MAX_LEN];

    (void)cond;
    for (int budget = 0; budget < 64; budget++) {
        struct sockaddr_storage from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
        vpn_addr src;
        uint16_t port;
        bool matched = false;

        if (n < 0)
            break;
        if (from.ss_family != AF_INET)
            continue;
        memset(&src, 0, sizeof src);
        src.family = VPN_AF_INET;
        memcpy(src.b, &((struct sockaddr_in *)&from)->sin_addr, 4);
        port = ntohs(((struct sockaddr_in *)&from)->sin_port);
        /* several profiles may share a server: the Identifier tells them apart */
        for (size_t i = 0; i < r->n_prof && !matched; i++)
            for (size_t k = 0; k < r->prof[i].n && !matched; k++)
                if (vpn_addr_eq(&r->prof[i].addr[k], &src) && r->prof[i].port[k] == port)
                    matched = vpn_radius_input(r->prof[i].client, vpnd_now(), k, buf, (size_t)n) == 0;
        if (!matched)
            vpnd_log(r->d, VPN_LOG_DEBUG, "RADIUS datagram from port %u dropped", port);
    }
    vpnd_reschedule(r->d);
    return G_SOURCE_CONTINUE;
}

int vpnd_radius_open(vpnd *d, char *err, size_t errlen)
{
    struct vpnd_radius *r;
    struct sockaddr_in any;

    for (size_t i = 0; i < d->conf->n_profile; i++) {
        const vpn_conf_radius_server *srv[VPN_RADIUS_SERVERS_MAX];
        const vpn_conf_profile *pr = &d->conf->profile[i];
        size_t n = vpn_conf_eap_radius_servers(d->conf, pr, srv, VPN_RADIUS_SERVERS_MAX);
        vpn_radius_params p;
        radius_profile *rp;
        int rc;

        if (n == 0)
            continue;
        if (d->radius == NULL) {
            d->radius = g_new0(struct vpnd_radius, 1);
            d->radius->d = d;
            d->radius->fd = -1;
            d->radius->backend.step = radius_step;
            d->radius->backend.user = d->radius;
            /* room for every profile: the array never moves after this */
            d->radius->prof = g_new0(radius_profile, d->conf->n_profile);
        }
        r = d->radius;
        rp = &r->prof[r->n_prof];
        memset(&p, 0, sizeof p);
        rp->r = r;
        rp->pr = pr;
        rp->n = n;
        for (size_t k = 0; k < n; k++) {
            p.servers[k].addr = srv[k]->addr;
            p.servers[k].port = srv[k]->auth_port;
            p.servers[k].secret = srv[k]->key;
            rp->addr[k] = srv[k]->addr;
            rp->port[k] = srv[k]->auth_port;
            snprintf(rp->name[k], sizeof rp->name[k], "%s", srv[k]->name);
        }
        p.n_servers = n;
        /* IOS keeps timeout and retransmit per server; one pair per client
         * here: the first server's */
        p.timeout_ns = (uint64_t)srv[0]->timeout_s * 1000000000u;
        p.retransmit = srv[0]->retransmit;
        p.nas_identifier = d->conf->hostname[0] ? d->conf->hostname : "vpnd";
        p.rng = d->rng;
        p.send = radius_send;
        p.answer = radius_answer;
        p.user = rp;
        if ((rc = vpn_radius_client_new(&rp->client, &p)) != 0) {
            snprintf(err, errlen, "profile %s: RADIUS: %s", pr->name, vpn_strerror(rc));
            return -1;
        }
        r->n_prof++;
        vpnd_log(d, VPN_LOG_INFO, "profile %s: EAP through RADIUS (%zu server%s, first %s)", pr->name, n,
                 n == 1 ? "" : "s", srv[0]->name);
    }
    if ((r = d->radius) == NULL)
        return 0;
    if ((r->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0) {
        snprintf(err, errlen, "RADIUS socket: %s", strerror(errno));
        return -1;
    }
    memset(&any, 0, sizeof any);
    any.sin_family = AF_INET;
    if (bind(r->fd, (struct sockaddr *)&any, sizeof any) != 0) {
        snprintf(err, errlen, "RADIUS socket: %s", strerror(errno));
        return -1;
    }
    r->watch = g_unix_fd_add(r->fd, G_IO_IN, on_radius, r);
    return 0;
}

const vpn_ikev2_eap_backend *vpnd_radius_backend(vpnd *d)
{
    return d->radius ? &d->radius->backend : NULL;
}

uint64_t vpnd_radius_deadline(const vpnd *d)
{
    uint64_t next = UINT64_MAX;
    if (d->radius == NULL)
        return next;
    for (size_t i = 0; i < d->radius->n_prof; i++) {
        uint64_t t = vpn_radius_deadline(d->radius->prof[i].client);
        if (t < next)
            next = t;
    }
    return next;
}

void vpnd_radius_tick(vpnd *d, uint64_t now)
{
    if (d->radius == NULL)
        return;
    for (size_t i = 0; i < d->radius->n_prof; i++) {
        radius_profile *rp = &d->radius->prof[i];
        size_t before = vpn_radius_current_server(rp->client);
        vpn_radius_timeout(rp->client, now);
        if (vpn_radius_current_server(rp->client) != before)
            vpnd_log(d, VPN_LOG_WARN, "profile %s: RADIUS server %s silent, now using %s", rp->pr->name,
                     rp->name[before], rp->name[vpn_radius_current_server(rp->client)]);
    }
}

/* An IKE SA went: its RADIUS conversation, if one is left, goes too (a
 * client that stops after an Access-Challenge would leave it forever). */
void vpnd_radius_end(vpnd *d, uint32_t ike_sa_id)
{
    if (d->radius == NULL)
        return;
    for (size_t i = 0; i < d->radius->n_prof; i++)
        vpn_radius_end(d->radius->prof[i].client, ike_sa_id);
}

/* show aaa servers: per profile (one client each), its servers in order,
 * the one in use, and the client's counters. */
void vpnd_radius_show(vpnd *d, GString *out)
{
    char a[VPN_ADDR_STRLEN];

    if (d->radius == NULL) {
        g_string_append(out, "no RADIUS server in use\n");
        return;
    }
    for (size_t i = 0; i < d->radius->n_prof; i++) {
        radius_profile *rp = &d->radius->prof[i];
        size_t cur = vpn_radius_current_server(rp->client);
        vpn_radius_stats st;
        vpn_radius_get_stats(rp->client, &st);
        g_string_append_printf(out, "Profile %s: EAP through RADIUS\n", rp->pr->name);
        for (size_t k = 0; k < rp->n; k++)
            g_string_append_printf(out, "  RADIUS: id %zu, priority %zu, host %s, auth-port %u%s\n", k + 1, k + 1,
                                   vpn_addr_str(&rp->addr[k], a, sizeof a), rp->port[k],
                                   k == cur ? ", in use" : "");
        g_string_append_printf(out,
                               "  Authen: request %" G_GUINT64_FORMAT ", timeouts %" G_GUINT64_FORMAT
                               ", failover %" G_GUINT64_FORMAT ", retransmission %" G_GUINT64_FORMAT "\n"
                               "          Response: accept %" G_GUINT64_FORMAT ", reject %" G_GUINT64_FORMAT
                               ", challenge %" G_GUINT64_FORMAT ", dropped %" G_GUINT64_FORMAT "\n",
                               st.requests, st.timeouts, st.failovers, st.retransmits, st.accepts, st.rejects,
                               st.challenges, st.dropped);
    }
}

void vpnd_radius_close(vpnd *d)
{
    struct vpnd_radius *r = d->radius;
    if (r == NULL)
        return;
    if (r->watch)
        g_source_remove(r->watch);
    if (r->fd >= 0)
        close(r->fd);
    for (size_t i = 0; i < r->n_prof; i++)
        vpn_radius_client_free(r->prof[i].client);
    g_free(r->prof);
    g_free(r);
    d->radius = NULL;
}
