/*
 * vpnd's data path: one TUN device per tunnel interface (a static VTI or a
 * GRE/IPsec tunnel) and routes for the prefixes the configuration sends
 * into it. A GRE tunnel's TUN carries the inner packets: GRE is put on and
 * taken off in the router core (the host kernel may have no GRE). What the kernel
 * routes into a TUN goes to the router core (vpn_router_tunnel_output),
 * which encrypts it and hands back ESP to send (vpnd-net.c); what the
 * router decrypts comes back here to be written to the TUN. SA installs,
 * rekeys, removals and on-demand initiation are the router's; this file
 * writes key files, learns routes and logs from its events.
 */
#define _GNU_SOURCE
#include "vpnd.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <ifaddrs.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/vpn-err.h"
#include "ipsec/ip.h"
#include "ipsec/pkt.h"

#define PKT_CAP (VPN_PKT_HEADROOM + 65536 + VPN_PKT_TAILROOM)

/* Runs `ip ARGS...`; the host's routing is iproute2's business. */
int vpnd_run_ip(vpnd *d, char *err, size_t errlen, const char *const *args)
{
    const char *argv[16];
    size_t n = 0;
    gchar *out = NULL, *errs = NULL;
    gint status = 0;
    GError *ge = NULL;

    argv[n++] = "ip";
    for (; *args && n < 15; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    if (!g_spawn_sync(NULL, (gchar **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &errs, &status,
                      &ge)) {
        snprintf(err, errlen, "cannot run ip: %s", ge->message);
        g_error_free(ge);
        return -1;
    }
    if (!g_spawn_check_wait_status(status, NULL)) {
        GString *cmd = g_string_new("ip");
        for (size_t i = 1; i < n; i++)
            g_string_append_printf(cmd, " %s", argv[i]);
        snprintf(err, errlen, "'%s' failed: %s", cmd->str, errs ? g_strstrip(errs) : "");
        g_string_free(cmd, TRUE);
        g_free(out);
        g_free(errs);
        return -1;
    }
    if (d->level >= VPN_LOG_DEBUG) {
        gchar *cmd = g_strjoinv(" ", (gchar **)argv);
        vpnd_log(d, VPN_LOG_DEBUG, "%s", cmd);
        g_free(cmd);
    }
    g_free(out);
    g_free(errs);
    return 0;
}

static int tun_create(const char *name, char *err, size_t errlen)
{
    struct ifreq ifr;
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);

    if (fd < 0) {
        snprintf(err, errlen, "/dev/net/tun: %s", strerror(errno));
        return -1;
    }
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
    if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
        snprintf(err, errlen, "TUN device %s: %s", name, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static gboolean on_tun(gint fd, GIOCondition cond, gpointer user);

/* The MTU of the interface holding address a (the tunnel source), 1500
 * when none does (an address the host has not got yet). */
static uint32_t wan_mtu_of(const vpn_addr *a)
{
    struct ifaddrs *ifs = NULL;
    uint32_t mtu = 1500;

    if (getifaddrs(&ifs) != 0)
        return mtu;
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
        const struct sockaddr *sa = i->ifa_addr;
        const void *raw = NULL;
        if (sa == NULL)
            continue;
        if (sa->sa_family == AF_INET && a->family == VPN_AF_INET)
            raw = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
        else if (sa->sa_family == AF_INET6 && a->family == VPN_AF_INET6)
            raw = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        if (raw == NULL || memcmp(raw, a->b, vpn_addr_len(a)) != 0)
            continue;
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct ifreq ifr;
        memset(&ifr, 0, sizeof ifr);
        snprintf(ifr.ifr_name, IFNAMSIZ, "%s", i->ifa_name);
        if (fd >= 0 && ioctl(fd, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0)
            mtu = (uint32_t)ifr.ifr_mtu;
        if (fd >= 0)
            close(fd);
        break;
    }
    freeifaddrs(ifs);
    return mtu;
}

/*
 * Without `ip mtu`, a tunnel's MTU is 1400 unless GRE and ESP (the
 * negotiated SA's, else the worst the ipsec profile allows:
 * vpn_router_tunnel_mtu) do not fit the WAN interface's MTU with it, as
 * over an IPv6 underlay: then the largest that fits, so that no inner
 * packet the kernel sends into the TUN leaves as outer IP fragments (the
 * ns-3 side derives its tunnel MTUs the same way). Returns the MTU to use.
 */
static uint32_t tunnel_mtu(vpnd *d, size_t i)
{
    const vpn_host_tunnel *t = d->tun[i].t;
    uint16_t m = 0;

    if (t->mtu_set || t->access || vpn_router_tunnel_mtu(d->router, (uint32_t)i, d->tun[i].wan_mtu, &m) != 0)
        return t->mtu;
    return m < t->mtu ? m : t->mtu;
}

static int set_mtu(vpnd *d, vpnd_tunnel *vt, uint32_t mtu, char *err, size_t errlen)
{
    char m[16];

    snprintf(m, sizeof m, "%u", mtu);
    if (vpnd_run_ip(d, err, errlen, (const char *[]){"link", "set", "dev", vt->ifname, "mtu", m, "up", NULL}))
        return -1;
    vt->mtu = mtu;
    return 0;
}

int vpnd_dp_open(vpnd *d, char *err, size_t errlen)
{
    for (size_t i = 0; i < d->plan.n_tunnel; i++) {
        const vpn_host_tunnel *t = &d->plan.tunnel[i];
        vpnd_tunnel *vt = &d->tun[i];
        char a[VPN_ADDR_STRLEN + 4], path[96];

        vt->t = t;
        vt->fd = -1;
        if (d->tun_name && d->plan.n_tunnel == 1)
            snprintf(vt->ifname, sizeof vt->ifname, "%s", d->tun_name);
        else if (d->tun_name)
            snprintf(vt->ifname, sizeof vt->ifname, "%.10s%u", d->tun_name, t->number);
        else
            snprintf(vt->ifname, sizeof vt->ifname, "tunnel%u", t->number);
        d->n_tun = i + 1;
        if ((vt->fd = tun_create(vt->ifname, err, errlen)) < 0)
            return -1;
        /* An IPv4 tunnel (VTI or GRE): keep the kernel's IPv6 chatter (router solicitations)
         * out. A remote-access template carries IPv6 users too (routes to
         * their /128s): IPv6 stays on, without solicitations or DAD. */
        static const char *const v4only[] = {"disable_ipv6", NULL};
        static const char *const access6[] = {"router_solicitations", "accept_dad", NULL};
        for (const char *const *k = t->access ? access6 : v4only; *k; k++) {
            snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/%s", vt->ifname, *k);
            FILE *f = fopen(path, "w");
            if (f) {
                fputs(t->access ? "0\n" : "1\n", f);
                fclose(f);
            }
        }
        vt->wan_mtu = wan_mtu_of(&t->src);
        if (set_mtu(d, vt, tunnel_mtu(d, i), err, errlen))
            return -1;
        if (t->has_address) {
            char s[VPN_ADDR_STRLEN];
            snprintf(a, sizeof a, "%s/%u", vpn_addr_str(&t->address.addr, s, sizeof s), t->address.len);
            if (vpnd_run_ip(d, err, errlen, (const char *[]){"addr", "replace", a, "dev", vt->ifname, NULL}))
                return -1;
        }
        for (size_t r = 0; r < t->n_route; r++) {
            char s[VPN_ADDR_STRLEN];
            snprintf(a, sizeof a, "%s/%u", vpn_addr_str(&t->route[r].addr, s, sizeof s), t->route[r].len);
            if (vpnd_run_ip(d, err, errlen, (const char *[]){"route", "replace", a, "dev", vt->ifname, NULL}))
                return -1;
        }
        vt->watch = g_unix_fd_add(vt->fd, G_IO_IN, on_tun, d);
        vpnd_log(d, VPN_LOG_INFO, "%s: TUN %s, %s, MTU %u (WAN %u), %zu route(s), peer %s", t->name, vt->ifname,
                 t->gre ? "GRE/IPsec" : t->access ? "Virtual-Template" : "VTI", vt->mtu, vt->wan_mtu, t->n_route,
                 t->access ? "any (remote access)" : vpn_addr_str(&t->dst, a, sizeof a));
    }
    return 0;
}

void vpnd_dp_close(vpnd *d)
{
    vpnd_ra_close(d);
    /* Closing a TUN deletes the device and its routes with it. */
    for (size_t i = 0; i < d->n_tun; i++) {
        if (d->tun[i].watch)
            g_source_remove(d->tun[i].watch);
        if (d->tun[i].fd >= 0)
            close(d->tun[i].fd);
        d->tun[i].fd = -1;
        d->tun[i].watch = 0;
    }
}

/* ---- router events ------------------------------------------------------------------- */

/*
 * RFC 7296 2.9: a peer may narrow the VTI's any/any to the subnets it
 * protects; route those into the TUN too (the configuration's `ip route`
 * lines are there already). A selector holding the peer's own outer
 * address would pull IKE and ESP into the tunnel: it is not routed.
 */
static void learn_routes(vpnd *d, vpnd_tunnel *t, const vpn_ikev2_child_info *c)
{
    for (size_t k = 0; k < c->n_ts_remote; k++) {
        vpn_prefix p;
        char a[VPN_ADDR_STRLEN + 4], s[VPN_ADDR_STRLEN], err[256];
        bool known = false;

        if (vpn_host_selector_prefix(&c->ts_remote[k], &p) != 0 || p.len == 0 || p.addr.family != VPN_AF_INET)
            continue;
        for (size_t i = 0; i < t->t->n_route && !known; i++)
            known = t->t->route[i].len == p.len && vpn_addr_eq(&t->t->route[i].addr, &p.addr);
        for (size_t i = 0; i < t->n_learned && !known; i++)
            known = t->learned[i].len == p.len && vpn_addr_eq(&t->learned[i].addr, &p.addr);
        if (known || t->n_learned == sizeof t->learned / sizeof t->learned[0])
            continue;
        snprintf(a, sizeof a, "%s/%u", vpn_addr_str(&p.addr, s, sizeof s), p.len);
        if (vpn_prefix_contains(&p, &t->t->dst) || vpn_prefix_contains(&p, &t->t->src)) {
            vpnd_log(d, VPN_LOG_WARN, "%s: peer's selector %s holds a tunnel endpoint: not routed", t->t->name, a);
            continue;
        }
        if (vpnd_run_ip(d, err, sizeof err, (const char *[]){"route", "replace", a, "dev", t->ifname, NULL}) != 0) {
            vpnd_log(d, VPN_LOG_WARN, "%s: %s", t->t->name, err);
            continue;
        }
        t->learned[t->n_learned++] = p;
        vpnd_log(d, VPN_LOG_INFO, "%s: route %s into %s (peer's selector)", t->t->name, a, t->ifname);
    }
}

/* The SA carrying a tunnel's traffic changed (up, rekeyed, another pair
 * taking over after a delete): its overhead (mode, NAT-T) may differ. */
static void refresh_mtus(vpnd *d)
{
    for (size_t i = 0; i < d->n_tun; i++) {
        vpnd_tunnel *vt = &d->tun[i];
        uint32_t m = tunnel_mtu(d, i), was = vt->mtu;
        char err[256];

        if (vt->fd < 0 || m == was)
            continue;
        if (set_mtu(d, vt, m, err, sizeof err) != 0)
            vpnd_log(d, VPN_LOG_WARN, "%s: %s", vt->t->name, err);
        else
            vpnd_log(d, VPN_LOG_INFO, "%s: MTU %u -> %u for the SA now carrying its traffic (WAN %u)",
                     vt->t->name, was, m, vt->wan_mtu);
    }
}

static void ike_event(vpnd *d, const vpn_ikev2_event *ev)
{
    char a[VPN_ADDR_STRLEN];
    const char *reason = vpn_ikev2_reason_name(ev->reason);
    const vpn_ikev2_child_info *c = ev->child;

    vpn_addr_str(&ev->remote.addr, a, sizeof a);
    switch (ev->type) {
    case VPN_IKEV2_EV_IKE_UP:
        vpnd_log(d, VPN_LOG_INFO, "IKE SA %u up with %s", ev->ike_sa_id, a);
        break;
    case VPN_IKEV2_EV_IKE_REKEYED:
        vpnd_log(d, VPN_LOG_INFO, "IKE SA %u rekeyed as %u", ev->old_id, ev->ike_sa_id);
        break;
    case VPN_IKEV2_EV_IKE_DOWN:
        vpnd_log(d, VPN_LOG_INFO, "IKE SA %u with %s down: %s", ev->ike_sa_id, a, reason);
        vpnd_radius_end(d, ev->ike_sa_id);
        break;
    case VPN_IKEV2_EV_FAILED:
        if (ev->ike_sa_id)
            vpnd_radius_end(d, ev->ike_sa_id); /* a RADIUS conversation it left */
        vpnd_log(d, VPN_LOG_WARN, "IKE SA %u with %s failed: %s%s%s", ev->ike_sa_id, a, reason,
                 ev->detail ? ": " : "", ev->detail ? ev->detail : "");
        break;
    case VPN_IKEV2_EV_CHILD_UP:
        if (c->policy_tag >= d->n_tun || !vpn_router_child_sas(d->router, c->id, NULL, NULL))
            break; /* the router logged why it did not install it */
        if (d->tun[c->policy_tag].t->access)
            vpnd_ra_child_up(d, &d->tun[c->policy_tag], c);
        else if (!d->tun[c->policy_tag].t->gre)
            learn_routes(d, &d->tun[c->policy_tag], c); /* GRE's selectors are the two ends */
        refresh_mtus(d);
        vpnd_log(d, VPN_LOG_INFO, "CHILD_SA %u up on %s: SPI in 0x%08x out 0x%08x, %s, peer %s%s", c->id,
                 d->tun[c->policy_tag].t->name, c->spi_in, c->spi_out, c->transform_set ? c->transform_set : "",
                 vpn_addr_str(&c->remote.addr, a, sizeof a), c->udp_encap ? " (ESP in UDP)" : "");
        break;
    case VPN_IKEV2_EV_CHILD_REKEYED:
        vpnd_log(d, VPN_LOG_INFO, "CHILD_SA %u rekeyed as %u", c->old_id, c->id);
        refresh_mtus(d);
        break;
    case VPN_IKEV2_EV_CHILD_DOWN:
        vpnd_log(d, VPN_LOG_INFO, "CHILD_SA %u down: %s", c->id, reason);
        vpnd_ra_child_down(d, c->id);
        refresh_mtus(d);
        break;
    case VPN_IKEV2_EV_CHILD_EXPIRING:
        break;
    case VPN_IKEV2_EV_CHILD_MOVED:
        vpnd_log(d, VPN_LOG_INFO, "CHILD_SA %u: peer moved to %s port %u (RFC 7296 2.23)", c->id,
                 vpn_addr_str(&c->remote.addr, a, sizeof a), c->remote.port);
        break;
    }
}

void vpnd_router_event(void *user, const vpn_router_event *ev)
{
    vpnd *d = user;

    switch (ev->type) {
    case VPN_ROUTER_EV_IKEV2:
        ike_event(d, ev->ike);
        break;
    case VPN_ROUTER_EV_KEY_LINE:
        vpnd_keys_line(d, ev->key_table, ev->key_line);
        break;
    case VPN_ROUTER_EV_INITIATED:
        if (ev->tunnel < d->n_tun)
            vpnd_log(d, ev->err ? VPN_LOG_WARN : VPN_LOG_INFO, "%s: initiating IKE: %s", d->tun[ev->tunnel].t->name,
                     vpn_strerror(ev->err));
        break;
    default:
        break; /* drops are counted by the router (show drops) */
    }
}

/* ---- packets ------------------------------------------------------------------------- */

uint32_t vpnd_tunnel_ike_sa(const vpnd *d, size_t i, bool established_only)
{
    const vpn_ikev2_ctx *ike = vpn_router_ikev2(d->router);
    uint32_t found = 0;

    for (size_t k = 0; k < vpn_ikev2_sa_count(ike); k++) {
        vpn_ikev2_sa_info info;
        if (vpn_ikev2_sa_get(ike, k, &info) != 0 || info.policy_tag != i || info.state == VPN_IKEV2_SA_DELETING)
            continue;
        if (established_only && info.state == VPN_IKEV2_SA_CONNECTING)
            continue;
        if (!vpn_addr_eq(&info.remote.addr, &d->tun[i].t->dst))
            continue;
        found = info.id; /* the newest wins */
    }
    return found;
}

int vpnd_initiate(vpnd *d, size_t i, char *msg, size_t msglen)
{
    int rc = vpn_router_tunnel_initiate(d->router, vpnd_now(), (uint32_t)i);

    if (rc != 0)
        snprintf(msg, msglen, "%s: initiate failed: %s", d->tun[i].t->name, vpn_strerror(rc));
    else
        snprintf(msg, msglen, "%s: initiating IKE SA %u", d->tun[i].t->name, vpnd_tunnel_ike_sa(d, i, false));
    vpnd_reschedule(d);
    return rc;
}

static gboolean on_tun(gint fd, GIOCondition cond, gpointer user)
{
    vpnd *d = user;
    static uint8_t buf[PKT_CAP];
    size_t i;

    (void)cond;
    for (i = 0; i < d->n_tun && d->tun[i].fd != fd; i++)
        ;
    if (i == d->n_tun)
        return G_SOURCE_REMOVE;
    for (int budget = 0; budget < 64; budget++) {
        vpn_pkt pkt;
        ssize_t n = read(fd, buf + VPN_PKT_HEADROOM, 65535);

        if (n <= 0)
            break;
        vpn_pkt_init(&pkt, buf, sizeof buf, VPN_PKT_HEADROOM);
        pkt.len = (size_t)n;
        d->tun[i].pkts_from_tun++;
        /* GRE/ESP, the SA, on-demand IKE: the router's (drops counted there) */
        vpn_router_tunnel_output(d->router, vpnd_now(), (uint32_t)i, &pkt);
    }
    vpnd_reschedule(d);
    return G_SOURCE_CONTINUE;
}

bool vpnd_deliver(void *user, uint32_t tunnel, const uint8_t *data, size_t len)
{
    vpnd *d = user;

    if (tunnel == VPN_ROUTER_CRYPTO_MAP)
        return vpnd_gdoi_deliver(d, data, len);
    if (tunnel >= d->n_tun || write(d->tun[tunnel].fd, data, len) != (ssize_t)len)
        return false;
    d->tun[tunnel].pkts_to_tun++;
    return true;
}
