/*
 * vpnd's control socket (a unix stream socket, one command per
 * connection; protocol in host-ctl.h) and the commands themselves. The
 * views are the core's renderers (show/), the same ones the ns-3 side
 * prints; the data plane lends them interface names and SA counters.
 */
#define _GNU_SOURCE
#include "vpnd.h"

#include <errno.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/vpn-err.h"
#include "host-ctl.h"
#include "show/show-ikev2.h"
#include "router/router.h"
#include "show/show.h"

#define SHOW_CAP (1 << 18)

typedef int (*render_fn)(const vpn_router *, uint64_t, bool, vpn_show_buf *);

void vpnd_show_begin(vpn_show_buf *b, size_t cap)
{
    vpn_show_init(b, g_malloc(cap), cap);
}

void vpnd_show_end(vpn_show_buf *b, GString *out)
{
    g_string_append_len(out, b->p, (gssize)b->len);
    g_free(b->p);
    b->p = NULL;
}

/* A router view (interface names and SA counters are the router's). */
static int render(vpnd *d, render_fn fn, bool detail, GString *out)
{
    vpn_show_buf b;
    int rc;

    vpnd_show_begin(&b, SHOW_CAP);
    rc = fn(d->router, vpnd_now(), detail, &b);
    vpnd_show_end(&b, out);
    return rc == VPN_ERR_NOSPACE ? 0 : rc;
}

static int render_conf(vpnd *d, int (*fn)(const vpn_conf *, const char *, vpn_show_buf *), const char *name,
                       GString *out)
{
    vpn_show_buf b;
    int rc;

    vpnd_show_begin(&b, SHOW_CAP);
    rc = fn(d->conf, name && name[0] ? name : NULL, &b);
    vpnd_show_end(&b, out);
    if (rc == VPN_ERR_NOTFOUND) {
        g_string_append_printf(out, "%% no such object: %s\n", name);
        return 1;
    }
    return 0;
}

static int tunnel_index(vpnd *d, const char *name, GString *out)
{
    const vpn_host_tunnel *t = vpn_host_plan_find(&d->plan, name);
    if (t == NULL) {
        g_string_append_printf(out, "%% %s is not a configured tunnel interface\n", name);
        return -1;
    }
    return (int)(t - d->plan.tunnel);
}

static void status(vpnd *d, GString *out)
{
    const vpn_ikev2_ctx *ike = vpn_router_ikev2(d->router);
    vpn_ikev2_stats st;
    vpn_ikev2_stats_get(ike, &st);
    g_string_append_printf(out, "vpnd pid=%d uptime=%llds config=%s ike_sas=%zu child_sas=%zu ike_up=%llu ike_failed=%llu\n",
                           (int)getpid(), (long long)((g_get_monotonic_time() - d->started_us) / G_USEC_PER_SEC),
                           d->config_path, vpn_ikev2_sa_count(ike), vpn_router_sa_list(d->router, NULL, 0) / 2,
                           (unsigned long long)st.sa_up, (unsigned long long)st.sa_failed);
    for (size_t i = 0; i < d->n_tun; i++) {
        vpnd_tunnel *t = &d->tun[i];
        char s[VPN_ADDR_STRLEN], r[VPN_ADDR_STRLEN];
        uint32_t ike_id = vpnd_tunnel_ike_sa(d, i, true);
        uint32_t neg = vpnd_tunnel_ike_sa(d, i, false);
        uint64_t enc = 0, dec = 0;
        vpn_router_tunnel_info ti;
        vpn_router_sa_ref in, outsa;
        vpn_sa_stats ss;
        vpn_router_tunnel_get(d->router, (uint32_t)i, &ti);
        if (ti.out_child && vpn_router_child_sas(d->router, ti.out_child, &in, &outsa)) {
            if (vpn_router_sa_get(d->router, &outsa, NULL, &ss))
                enc = ss.pkts_out;
            if (vpn_router_sa_get(d->router, &in, NULL, &ss))
                dec = ss.pkts_in;
        }
        if (t->t->access) {
            /* a Virtual-Template: one line with its sessions (clients) */
            size_t sessions = 0;
            const vpn_ikev2_ctx *ike2 = vpn_router_ikev2(d->router);
            for (size_t k = 0; k < vpn_ikev2_sa_count(ike2); k++) {
                vpn_ikev2_sa_info info;
                sessions += vpn_ikev2_sa_get(ike2, k, &info) == 0 && info.policy_tag == i &&
                            info.state == VPN_IKEV2_SA_ESTABLISHED;
            }
            g_string_append_printf(out, "%s tun=%s src=%s access sessions=%zu pkts_encrypted=%llu "
                                   "pkts_decrypted=%llu tun_in=%llu tun_out=%llu\n",
                                   t->t->name, t->ifname, vpn_addr_str(&t->t->src, s, sizeof s), sessions,
                                   (unsigned long long)ti.encrypted, (unsigned long long)ti.decrypted,
                                   (unsigned long long)t->pkts_from_tun, (unsigned long long)t->pkts_to_tun);
            continue;
        }
        g_string_append_printf(out,
                               "%s tun=%s src=%s dst=%s state=%s ike_sa=%u child_sa=%u pkts_encrypted=%llu "
                               "pkts_decrypted=%llu tun_in=%llu tun_out=%llu\n",
                               t->t->name, t->ifname, vpn_addr_str(&t->t->src, s, sizeof s),
                               vpn_addr_str(&t->t->dst, r, sizeof r),
                               ti.out_sa.spi ? "up" : neg ? "negotiating" : "down", ike_id ? ike_id : neg,
                               ti.out_child, (unsigned long long)enc, (unsigned long long)dec,
                               (unsigned long long)t->pkts_from_tun, (unsigned long long)t->pkts_to_tun);
    }
}

static void drops(vpnd *d, GString *out)
{
    vpn_ikev2_stats st;
    vpn_router_stats rs;
    vpn_sad_stats ss;
    uint64_t sa_err[VPN_SA_ERR_COUNT] = {0};
    size_t n = vpn_router_sa_list(d->router, NULL, 0);
    vpn_router_sa_ref *refs = g_new0(vpn_router_sa_ref, n + 1);

    vpn_ikev2_stats_get(vpn_router_ikev2(d->router), &st);
    vpn_router_stats_get(d->router, &rs);
    vpn_router_sad_stats(d->router, &ss);
    g_string_append_printf(out, "%-44s %llu\n", "ike: dropped by the engine", (unsigned long long)st.dropped);
    {
        const vpn_getvpn_stats *gs = vpn_getvpn_node_get_stats(vpn_router_getvpn(d->router));
        for (int i = 0; gs && i < VPN_GETVPN_DROP_COUNT; i++) {
            char label[64];
            snprintf(label, sizeof label, "crypto map: %s", vpn_getvpn_drop_name((vpn_getvpn_drop)i));
            g_string_append_printf(out, "%-44s %llu\n", label, (unsigned long long)gs->drops[i]);
        }
    }
    for (int i = 1; i < VPN_ROUTER_DROP_COUNT; i++)
        g_string_append_printf(out, "%-44s %llu\n", vpn_router_drop_name((vpn_router_drop)i),
                               (unsigned long long)rs.drops[i]);
    g_string_append_printf(out, "%-44s %llu\n", "sad: unknown SPI", (unsigned long long)ss.no_sa);
    /* not drops: what port 4500 took as NAT-keepalives (RFC 3948 2.3) */
    g_string_append_printf(out, "%-44s %llu\n", "natt: keepalives received", (unsigned long long)rs.keepalives_in);
    g_string_append_printf(out, "%-44s %llu\n", "sad: malformed outer headers", (unsigned long long)ss.malformed);
    vpn_router_sa_list(d->router, refs, n);
    for (size_t k = 0; k < n; k++) {
        vpn_sa_stats s;
        if (!vpn_router_sa_get(d->router, &refs[k], NULL, &s))
            continue;
        for (int e = 0; e < VPN_SA_ERR_COUNT; e++)
            sa_err[e] += s.err[e];
    }
    g_free(refs);
    for (int e = 0; e < VPN_SA_ERR_COUNT; e++) {
        char label[64];
        snprintf(label, sizeof label, "sa: %s", vpn_sa_err_name((vpn_sa_err)e));
        g_string_append_printf(out, "%-44s %llu\n", label, (unsigned long long)sa_err[e]);
    }
}

static int clear_ike(vpnd *d, const vpn_host_ctl_req *r, GString *out)
{
    GArray *ids = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    int rc = 0;

    for (size_t i = 0; i < vpn_ikev2_sa_count(vpn_router_ikev2(d->router)); i++) {
        vpn_ikev2_sa_info info;
        if (vpn_ikev2_sa_get(vpn_router_ikev2(d->router), i, &info) == 0 && (!r->has_id || info.id == r->id))
            g_array_append_val(ids, info.id);
    }
    if (r->has_id && ids->len == 0) {
        g_string_append_printf(out, "%% no IKE SA with id %u\n", r->id);
        rc = 1;
    }
    for (guint i = 0; i < ids->len; i++) {
        uint32_t id = g_array_index(ids, uint32_t, i);
        int e = vpn_router_ike_delete(d->router, vpnd_now(), id);
        g_string_append_printf(out, "IKE SA %u: %s\n", id, e ? vpn_strerror(e) : "deleted");
    }
    g_array_free(ids, TRUE);
    return rc;
}

static int clear_ipsec(vpnd *d, GString *out)
{
    const vpn_ikev2_ctx *ike = vpn_router_ikev2(d->router);
    GArray *ids = g_array_new(FALSE, FALSE, sizeof(uint32_t));

    /* the CHILD_SAs the engine has (not the ones the router still keeps
     * for the rekey grace) */
    for (size_t i = 0; i < vpn_ikev2_sa_count(ike); i++) {
        vpn_ikev2_sa_info info;
        vpn_ikev2_child_state c;
        if (vpn_ikev2_sa_get(ike, i, &info) != 0)
            continue;
        for (size_t k = 0; vpn_ikev2_child_get(ike, info.id, k, &c) == 0; k++)
            g_array_append_val(ids, c.info.id);
    }
    for (guint i = 0; i < ids->len; i++) {
        uint32_t id = g_array_index(ids, uint32_t, i);
        int e = vpn_router_child_delete(d->router, vpnd_now(), id);
        g_string_append_printf(out, "CHILD_SA %u: %s\n", id, e ? vpn_strerror(e) : "deleted");
    }
    g_array_free(ids, TRUE);
    return 0;
}

int vpnd_ctl_exec(vpnd *d, const char *line, GString *out)
{
    vpn_host_ctl_req r;
    char err[256], msg[256];
    int i, rc = 0;

    if (vpn_host_ctl_parse(line, &r, err, sizeof err) != 0) {
        g_string_append_printf(out, "%% %s\n", err);
        return 1;
    }
    switch (r.cmd) {
    case VPN_HOST_CMD_SHOW_IKEV2_SA: {
        vpn_show_buf b;
        vpnd_show_begin(&b, SHOW_CAP);
        vpn_router_show_ikev2_sa(d->router, vpnd_now(), r.detail, &b);
        vpnd_show_end(&b, out);
        return 0;
    }
    case VPN_HOST_CMD_SHOW_IPSEC_SA:
        rc = render(d, vpn_router_show_ipsec_sa, r.detail, out);
        vpnd_gdoi_show_ipsec(d, out); /* the crypto map's group SAs */
        return rc;
    case VPN_HOST_CMD_SHOW_SESSION:
        return render(d, vpn_router_show_crypto_session, r.detail, out);
    case VPN_HOST_CMD_SHOW_AAA_SERVERS:
        vpnd_radius_show(d, out);
        return 0;
    case VPN_HOST_CMD_SHOW_IP_LOCAL_POOL:
    case VPN_HOST_CMD_SHOW_SESSION_USER:
        return vpnd_ra_show(d, r.cmd == VPN_HOST_CMD_SHOW_SESSION_USER ? r.arg : NULL, r.detail, out);
    case VPN_HOST_CMD_SHOW_IKEV2_STATS: {
        vpn_show_buf b;
        vpnd_show_begin(&b, SHOW_CAP);
        vpn_show_ikev2_stats(vpn_router_ikev2(d->router), &b);
        vpnd_show_end(&b, out);
        return 0;
    }
    case VPN_HOST_CMD_SHOW_IKEV2_PROPOSAL:
        return render_conf(d, vpn_show_ikev2_proposal, r.arg, out);
    case VPN_HOST_CMD_SHOW_IKEV2_POLICY:
        return render_conf(d, vpn_show_ikev2_policy, r.arg, out);
    case VPN_HOST_CMD_SHOW_IKEV2_PROFILE:
        return render_conf(d, vpn_show_ikev2_profile, r.arg, out);
    case VPN_HOST_CMD_SHOW_DROPS:
        drops(d, out);
        return 0;
    case VPN_HOST_CMD_INITIATE:
        for (size_t k = 0; k < d->n_tun; k++) {
            if (r.arg[0] && strcasecmp(r.arg, d->tun[k].t->name) != 0)
                continue;
            if (vpnd_initiate(d, k, msg, sizeof msg) != 0)
                rc = 1;
            g_string_append_printf(out, "%s\n", msg);
        }
        if (out->len == 0) {
            g_string_append_printf(out, "%% %s is not a configured tunnel interface\n", r.arg);
            rc = 1;
        }
        return rc;
    case VPN_HOST_CMD_CLEAR_IKEV2_SA:
        return clear_ike(d, &r, out);
    case VPN_HOST_CMD_CLEAR_IPSEC_SA:
        return clear_ipsec(d, out);
    case VPN_HOST_CMD_REKEY_CHILD:
    case VPN_HOST_CMD_REKEY_IKE:
    case VPN_HOST_CMD_DPD: {
        uint32_t ike;
        vpn_router_tunnel_info ti;
        int e;
        if ((i = tunnel_index(d, r.arg, out)) < 0)
            return 1;
        ike = vpnd_tunnel_ike_sa(d, (size_t)i, true);
        vpn_router_tunnel_get(d->router, (uint32_t)i, &ti);
        if (r.cmd == VPN_HOST_CMD_REKEY_CHILD) {
            if (ti.out_child == 0) {
                g_string_append_printf(out, "%% %s has no CHILD_SA\n", r.arg);
                return 1;
            }
            e = vpn_router_child_rekey(d->router, vpnd_now(), ti.out_child);
            g_string_append_printf(out, "%s: CHILD_SA %u rekey: %s\n", d->tun[i].t->name, ti.out_child,
                                   e ? vpn_strerror(e) : "started");
        } else if (ike == 0) {
            g_string_append_printf(out, "%% %s has no established IKE SA\n", r.arg);
            return 1;
        } else if (r.cmd == VPN_HOST_CMD_REKEY_IKE) {
            e = vpn_router_ike_rekey(d->router, vpnd_now(), ike);
            g_string_append_printf(out, "%s: IKE SA %u rekey: %s\n", d->tun[i].t->name, ike,
                                   e ? vpn_strerror(e) : "started");
        } else {
            e = vpn_router_dpd(d->router, vpnd_now(), ike);
            g_string_append_printf(out, "%s: IKE SA %u liveness check: %s\n", d->tun[i].t->name, ike,
                                   e ? vpn_strerror(e) : "sent");
        }
        return e ? 1 : 0;
    }
    case VPN_HOST_CMD_STATUS:
        status(d, out);
        vpnd_gdoi_status(d, out);
        return 0;
    case VPN_HOST_CMD_HELP:
        g_string_append(out, vpn_host_ctl_help());
        return 0;
    case VPN_HOST_CMD_SHOW_ISAKMP_SA:
        vpnd_ikev1_show_sa(d, out);
        return 0;
    case VPN_HOST_CMD_SHOW_ISAKMP_POLICY:
        vpnd_ikev1_show_policy(d, out);
        return 0;
    case VPN_HOST_CMD_INITIATE_ISAKMP:
        return vpnd_ikev1_initiate(d, r.arg, out);
    case VPN_HOST_CMD_CLEAR_ISAKMP:
        return vpnd_ikev1_clear(d, r.has_id, r.id, out);
    case VPN_HOST_CMD_SHOW_GDOI:
    case VPN_HOST_CMD_SHOW_GDOI_KS_MEMBERS:
    case VPN_HOST_CMD_SHOW_GDOI_KS_COOP:
    case VPN_HOST_CMD_SHOW_GDOI_GM:
    case VPN_HOST_CMD_CLEAR_GDOI:
    case VPN_HOST_CMD_GDOI_KS_REKEY:
        rc = vpnd_gdoi_ctl(d, r.cmd, out);
        vpnd_gdoi_after(d);
        return rc;
    }
    return 1;
}

static gboolean on_ctl(gint fd, GIOCondition cond, gpointer user)
{
    vpnd *d = user;
    char line[VPN_HOST_CTL_LINE_MAX + 1];
    size_t n = 0;
    struct timeval tv = {2, 0};
    GString *out;
    gchar *head;
    int c, code;

    (void)cond;
    c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0)
        return G_SOURCE_CONTINUE;
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    while (n < VPN_HOST_CTL_LINE_MAX) {
        ssize_t k = read(c, line + n, VPN_HOST_CTL_LINE_MAX - n);
        if (k <= 0)
            break;
        n += (size_t)k;
        if (memchr(line, '\n', n))
            break;
    }
    line[n] = '\0';
    out = g_string_new(NULL);
    if (memchr(line, '\0', n) != NULL) {
        g_string_append(out, "% NUL byte in command\n");
        code = 1;
    } else if (!memchr(line, '\n', n)) {
        g_string_append(out, "% command not terminated (or longer than 512 bytes)\n");
        code = 1;
    } else {
        *strchr(line, '\n') = '\0';
        vpnd_log(d, VPN_LOG_DEBUG, "control: %s", line);
        code = vpnd_ctl_exec(d, line, out);
    }
    head = g_strdup_printf("%d\n", code);
    if (write(c, head, strlen(head)) < 0 || write(c, out->str, out->len) < 0)
        vpnd_log(d, VPN_LOG_DEBUG, "control: reply: %s", strerror(errno));
    g_free(head);
    g_string_free(out, TRUE);
    close(c);
    vpnd_reschedule(d);
    return G_SOURCE_CONTINUE;
}

int vpnd_ctl_open(vpnd *d, char *err, size_t errlen)
{
    struct sockaddr_un sa;
    int fd;

    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(d->ctl_path) >= sizeof sa.sun_path) {
        snprintf(err, errlen, "control socket path too long: %s", d->ctl_path);
        return -1;
    }
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", d->ctl_path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(err, errlen, "control socket: %s", strerror(errno));
        return -1;
    }
    /* A socket file left by a dead daemon is replaced; a live one is not. */
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0) {
        snprintf(err, errlen, "control socket %s: another vpnd is listening there", d->ctl_path);
        close(probe);
        close(fd);
        return -1;
    }
    if (probe >= 0)
        close(probe);
    unlink(d->ctl_path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 8) != 0) {
        snprintf(err, errlen, "control socket %s: %s", d->ctl_path, strerror(errno));
        close(fd);
        return -1;
    }
    chmod(d->ctl_path, 0600);
    d->ctl_fd = fd;
    d->ctl_watch = g_unix_fd_add(fd, G_IO_IN, on_ctl, d);
    return 0;
}

void vpnd_ctl_close(vpnd *d)
{
    if (d->ctl_watch)
        g_source_remove(d->ctl_watch);
    if (d->ctl_fd >= 0) {
        close(d->ctl_fd);
        unlink(d->ctl_path);
    }
    d->ctl_watch = 0;
    d->ctl_fd = -1;
}
