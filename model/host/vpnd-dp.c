/*
 * vpnd's data path: one TUN device per tunnel interface (a static VTI),
 * routes for the prefixes the configuration sends into it, and ESP with
 * the core's SAD: what the kernel routes into a TUN is encrypted with the
 * tunnel's outbound SA and leaves as ESP (in UDP on port 4500 when the
 * engine detected a NAT, RFC 3948); ESP from the network is decrypted and
 * written to the TUN of the tunnel its SA belongs to. CHILD_SAs come and go
 * with the engine's events.
 */
#define _GNU_SOURCE
#include "vpnd.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/vpn-err.h"
#include "ikev2/ikev2-esp.h"
#include "ipsec/ip.h"
#include "ipsec/pkt.h"
#include "ipsec/wskeys.h"

#define PKT_CAP (VPN_PKT_HEADROOM + 65536 + VPN_PKT_TAILROOM)
/* Keep a replaced inbound SA this long for packets still in flight. */
#define REKEY_GRACE_MS 2000

static const char *const drop_names[VPND_DROP_COUNT] = {
    [VPND_DROP_TUN_NOT_IP] = "tun: not an IPv4 packet",
    [VPND_DROP_TUN_NO_SA] = "tun: no CHILD_SA for the tunnel",
    [VPND_DROP_ENCAP] = "tun: ESP encapsulation failed",
    [VPND_DROP_SEND] = "net: ESP send failed",
    [VPND_DROP_UDP_SHORT] = "net: UDP 4500 datagram too short",
    [VPND_DROP_IKE_BAD_PORT] = "net: IKE on an unexpected port",
    [VPND_DROP_ESP_MALFORMED] = "esp: malformed",
    [VPND_DROP_ESP_NO_SA] = "esp: unknown SPI",
    [VPND_DROP_ESP_REPLAY] = "esp: replayed or too old",
    [VPND_DROP_ESP_AUTH] = "esp: integrity check failed",
    [VPND_DROP_ESP_POLICY] = "esp: inner packet outside the selectors",
    [VPND_DROP_ESP_OTHER] = "esp: other error",
    [VPND_DROP_ESP_NOT_TUNNEL] = "esp: SA of no tunnel",
    [VPND_DROP_TUN_WRITE] = "tun: write failed",
};

const char *vpnd_drop_name(vpnd_drop d)
{
    return d < VPND_DROP_COUNT ? drop_names[d] : "?";
}

void vpnd_drop_count(vpnd *d, vpnd_drop why)
{
    if (why < VPND_DROP_COUNT)
        d->drops[why]++;
}

/* Runs `ip ARGS...`; the host's routing is iproute2's business. */
static int run_ip(vpnd *d, char *err, size_t errlen, const char *const *args)
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

int vpnd_dp_open(vpnd *d, char *err, size_t errlen)
{
    for (size_t i = 0; i < d->plan.n_tunnel; i++) {
        const vpn_host_tunnel *t = &d->plan.tunnel[i];
        vpnd_tunnel *vt = &d->tun[i];
        char mtu[16], a[VPN_ADDR_STRLEN + 4], path[96];

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
        /* An IPv4 VTI: keep the kernel's IPv6 chatter (router solicitations) out. */
        snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/disable_ipv6", vt->ifname);
        FILE *f = fopen(path, "w");
        if (f) {
            fputs("1\n", f);
            fclose(f);
        }
        snprintf(mtu, sizeof mtu, "%u", t->mtu);
        if (run_ip(d, err, errlen, (const char *[]){"link", "set", "dev", vt->ifname, "mtu", mtu, "up", NULL}))
            return -1;
        if (t->has_address) {
            char s[VPN_ADDR_STRLEN];
            snprintf(a, sizeof a, "%s/%u", vpn_addr_str(&t->address.addr, s, sizeof s), t->address.len);
            if (run_ip(d, err, errlen, (const char *[]){"addr", "replace", a, "dev", vt->ifname, NULL}))
                return -1;
        }
        for (size_t r = 0; r < t->n_route; r++) {
            char s[VPN_ADDR_STRLEN];
            snprintf(a, sizeof a, "%s/%u", vpn_addr_str(&t->route[r].addr, s, sizeof s), t->route[r].len);
            if (run_ip(d, err, errlen, (const char *[]){"route", "replace", a, "dev", vt->ifname, NULL}))
                return -1;
        }
        vt->watch = g_unix_fd_add(vt->fd, G_IO_IN, on_tun, d);
        vpnd_log(d, VPN_LOG_INFO, "%s: TUN %s, %zu route(s), peer %s", t->name, vt->ifname, t->n_route,
                 vpn_addr_str(&t->dst, a, sizeof a));
    }
    return 0;
}

void vpnd_dp_close(vpnd *d)
{
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

/* ---- SAs ---------------------------------------------------------------------------- */

static void child_free(gpointer p)
{
    g_free(p);
}

/* The old pair of a rekey we answered is gone: its successor sends now. */
static void switch_to_successor(vpnd *d, const vpnd_child *old)
{
    GHashTableIter it;
    gpointer k, v;

    g_hash_table_iter_init(&it, d->children);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        vpnd_child *n = v;
        if (n->replaces == old->id && !n->dying) {
            n->replaces = 0;
            d->tun[n->tunnel].out = n->out;
            d->tun[n->tunnel].out_child = n->id;
            return;
        }
    }
}

static void child_remove(vpnd *d, uint32_t id)
{
    vpnd_child *c = g_hash_table_lookup(d->children, GUINT_TO_POINTER(id));

    if (c == NULL)
        return;
    if (c->tunnel < d->n_tun && d->tun[c->tunnel].out == c->out) {
        d->tun[c->tunnel].out = NULL;
        d->tun[c->tunnel].out_child = 0;
        switch_to_successor(d, c);
    }
    vpn_sad_remove(d->sad, c->in);
    vpn_sad_remove(d->sad, c->out);
    vpnd_log(d, VPN_LOG_INFO, "CHILD_SA %u removed", id);
    g_hash_table_remove(d->children, GUINT_TO_POINTER(id));
}

typedef struct later {
    vpnd *d;
    uint32_t id;
} later;

static gboolean remove_later(gpointer p)
{
    later *l = p;
    child_remove(l->d, l->id);
    g_free(l);
    return G_SOURCE_REMOVE;
}

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
        if (run_ip(d, err, sizeof err, (const char *[]){"route", "replace", a, "dev", t->ifname, NULL}) != 0) {
            vpnd_log(d, VPN_LOG_WARN, "%s: %s", t->t->name, err);
            continue;
        }
        t->learned[t->n_learned++] = p;
        vpnd_log(d, VPN_LOG_INFO, "%s: route %s into %s (peer's selector)", t->t->name, a, t->ifname);
    }
}

static void child_install(vpnd *d, const vpn_ikev2_child_info *c)
{
    vpn_ts ts[VPN_IKEV2_CHILD_TS_MAX];
    vpn_sa_config in, out;
    vpnd_child *ch;
    char a[VPN_ADDR_STRLEN];
    int rc;

    if (c->policy_tag >= d->n_tun) {
        vpnd_log(d, VPN_LOG_WARN, "CHILD_SA %u for unknown policy tag %u: not installed", c->id, c->policy_tag);
        return;
    }
    if ((rc = vpn_ikev2_child_sa_configs(c, ts, sizeof ts / sizeof ts[0], &in, &out)) != 0) {
        vpnd_log(d, VPN_LOG_ERROR, "CHILD_SA %u: %s", c->id, vpn_strerror(rc));
        return;
    }
    ch = g_new0(vpnd_child, 1);
    ch->id = c->id;
    ch->tunnel = c->policy_tag;
    in.user = out.user = ch;
    if ((rc = vpn_sad_add(d->sad, &in, vpnd_now(), &ch->in)) != 0) {
        vpnd_log(d, VPN_LOG_ERROR, "CHILD_SA %u: inbound SA: %s", c->id, vpn_strerror(rc));
        g_free(ch);
        return;
    }
    if ((rc = vpn_sad_add(d->sad, &out, vpnd_now(), &ch->out)) != 0) {
        vpnd_log(d, VPN_LOG_ERROR, "CHILD_SA %u: outbound SA: %s", c->id, vpn_strerror(rc));
        vpn_sad_remove(d->sad, ch->in);
        g_free(ch);
        return;
    }
    g_hash_table_replace(d->children, GUINT_TO_POINTER(c->id), ch);
    /* The newest pair carries the tunnel's traffic. As the responder of a
     * rekey (RFC 7296 2.8) we keep sending on the old pair until the
     * initiator deletes it: the initiator installs the new inbound SA only
     * once our response arrives, and a packet sent on it sooner is lost
     * (seen against strongSwan). */
    if (c->old_id != 0 && !c->initiator && d->tun[ch->tunnel].out_child == c->old_id) {
        ch->replaces = c->old_id;
    } else {
        d->tun[ch->tunnel].out = ch->out;
        d->tun[ch->tunnel].out_child = c->id;
    }
    vpnd_keys_esp(d, ch->in, VPN_SA_IN);
    vpnd_keys_esp(d, ch->out, VPN_SA_OUT);
    learn_routes(d, &d->tun[ch->tunnel], c);
    vpnd_log(d, VPN_LOG_INFO, "CHILD_SA %u up on %s: SPI in 0x%08x out 0x%08x, %s, peer %s%s", c->id,
             d->tun[ch->tunnel].t->name, c->spi_in, c->spi_out, c->transform_set ? c->transform_set : "",
             vpn_addr_str(&c->remote.addr, a, sizeof a), c->udp_encap ? " (ESP in UDP)" : "");
}

void vpnd_ike_event(void *user, const vpn_ikev2_event *ev)
{
    vpnd *d = user;
    char a[VPN_ADDR_STRLEN];
    const char *reason = vpn_ikev2_reason_name(ev->reason);

    vpn_addr_str(&ev->remote.addr, a, sizeof a);
    switch (ev->type) {
    case VPN_IKEV2_EV_IKE_UP:
        vpnd_keys_ike(d, ev->ike_sa_id);
        vpnd_log(d, VPN_LOG_INFO, "IKE SA %u up with %s", ev->ike_sa_id, a);
        break;
    case VPN_IKEV2_EV_IKE_REKEYED:
        vpnd_keys_ike(d, ev->ike_sa_id);
        vpnd_log(d, VPN_LOG_INFO, "IKE SA %u rekeyed as %u", ev->old_id, ev->ike_sa_id);
        break;
    case VPN_IKEV2_EV_IKE_DOWN:
        vpnd_log(d, VPN_LOG_INFO, "IKE SA %u with %s down: %s", ev->ike_sa_id, a, reason);
        break;
    case VPN_IKEV2_EV_FAILED:
        /* The SA still exists during this event: a failed IKE_AUTH (a wrong
         * PSK, say) was encrypted with keys Wireshark should have too. */
        if (ev->ike_sa_id)
            vpnd_keys_ike(d, ev->ike_sa_id);
        vpnd_log(d, VPN_LOG_WARN, "IKE SA %u with %s failed: %s%s%s", ev->ike_sa_id, a, reason,
                 ev->detail ? ": " : "", ev->detail ? ev->detail : "");
        break;
    case VPN_IKEV2_EV_CHILD_UP:
        child_install(d, ev->child);
        break;
    case VPN_IKEV2_EV_CHILD_REKEYED:
        vpnd_log(d, VPN_LOG_INFO, "CHILD_SA %u rekeyed as %u", ev->child->old_id, ev->child->id);
        break;
    case VPN_IKEV2_EV_CHILD_DOWN: {
        vpnd_child *c = g_hash_table_lookup(d->children, GUINT_TO_POINTER(ev->child->id));
        if (c == NULL)
            break;
        if (ev->reason == VPN_IKEV2_R_REKEYED && !c->dying) {
            /* RFC 7296 2.8: packets sent under the old SA may still arrive. */
            later *l = g_new0(later, 1);
            l->d = d;
            l->id = c->id;
            c->dying = true;
            if (d->tun[c->tunnel].out == c->out) {
                d->tun[c->tunnel].out = NULL;
                d->tun[c->tunnel].out_child = 0;
                switch_to_successor(d, c);
            }
            g_timeout_add(REKEY_GRACE_MS, remove_later, l);
        } else if (!c->dying) {
            child_remove(d, ev->child->id);
        }
        break;
    }
    case VPN_IKEV2_EV_CHILD_EXPIRING:
        break;
    }
}

/* ---- packets ------------------------------------------------------------------------- */

uint32_t vpnd_tunnel_ike_sa(const vpnd *d, size_t i, bool established_only)
{
    uint32_t found = 0;
    for (size_t k = 0; k < vpn_ikev2_sa_count(d->ike); k++) {
        vpn_ikev2_sa_info info;
        if (vpn_ikev2_sa_get(d->ike, k, &info) != 0 || info.policy_tag != i ||
            info.state == VPN_IKEV2_SA_DELETING)
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
    const vpn_host_tunnel *t = d->tun[i].t;
    vpn_ikev2_policy pol;
    vpn_ikev2_endpoint local, remote;
    uint32_t id = 0;
    int rc;

    vpn_host_tunnel_policy(t, (uint32_t)i, &pol);
    local.addr = t->src;
    local.port = VPN_IKEV2_PORT;
    remote.addr = t->dst;
    remote.port = VPN_IKEV2_PORT;
    d->tun[i].last_initiate_us = g_get_monotonic_time();
    d->tun[i].initiated = true;
    rc = vpn_ikev2_initiate(d->ike, vpnd_now(), &local, &remote, &pol, &id);
    if (rc != 0)
        snprintf(msg, msglen, "%s: initiate failed: %s", t->name, vpn_strerror(rc));
    else
        snprintf(msg, msglen, "%s: initiating IKE SA %u", t->name, id);
    vpnd_log(d, rc ? VPN_LOG_WARN : VPN_LOG_INFO, "%s", msg);
    vpnd_reschedule(d);
    return rc;
}

/* IOS brings a tunnel up when traffic needs it: at most once a second. */
static void on_demand(vpnd *d, size_t i)
{
    char msg[160];
    if (d->tun[i].initiated && g_get_monotonic_time() - d->tun[i].last_initiate_us < G_USEC_PER_SEC)
        return;
    if (vpnd_tunnel_ike_sa(d, i, false) != 0) {
        d->tun[i].last_initiate_us = g_get_monotonic_time();
        d->tun[i].initiated = true;
        return;
    }
    vpnd_initiate(d, i, msg, sizeof msg);
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
        int rc;

        if (n <= 0)
            break;
        vpn_pkt_init(&pkt, buf, sizeof buf, VPN_PKT_HEADROOM);
        pkt.len = (size_t)n;
        d->tun[i].pkts_from_tun++;
        if ((buf[VPN_PKT_HEADROOM] >> 4) != 4) {
            vpnd_drop_count(d, VPND_DROP_TUN_NOT_IP);
            continue;
        }
        if (d->tun[i].out == NULL) {
            vpnd_drop_count(d, VPND_DROP_TUN_NO_SA);
            on_demand(d, i);
            continue;
        }
        if ((rc = vpn_esp_encap(d->tun[i].out, &pkt, vpnd_now())) != 0) {
            vpnd_drop_count(d, VPND_DROP_ENCAP);
            vpnd_log(d, VPN_LOG_DEBUG, "%s: encap: %s", d->tun[i].t->name, vpn_strerror(rc));
            continue;
        }
        if (vpnd_esp_send(d, d->tun[i].out, vpn_pkt_data(&pkt), pkt.len) != 0) {
            vpnd_drop_count(d, VPND_DROP_SEND);
            continue;
        }
        vpn_ikev2_child_activity(d->ike, vpnd_now(), d->tun[i].out_child, false, true);
    }
    vpnd_reschedule(d);
    return G_SOURCE_CONTINUE;
}

void vpnd_esp_input(vpnd *d, uint8_t *buf, size_t cap, size_t off, size_t len, const vpn_esp_outer *outer)
{
    vpn_pkt pkt;
    vpn_esp_rx rx;
    vpnd_child *c;
    int rc;

    vpn_pkt_init(&pkt, buf, cap, off);
    pkt.len = len;
    rc = vpn_esp_decap_payload(d->sad, &pkt, outer, vpnd_now(), &rx);
    if (rc != 0) {
        vpnd_drop_count(d, rc == VPN_ERR_NOTFOUND                             ? VPND_DROP_ESP_NO_SA
                           : rc == VPN_ERR_REPLAY                             ? VPND_DROP_ESP_REPLAY
                           : rc == VPN_ERR_AUTH                               ? VPND_DROP_ESP_AUTH
                           : rc == VPN_ERR_POLICY                             ? VPND_DROP_ESP_POLICY
                           : rc == VPN_ERR_MALFORMED || rc == VPN_ERR_TRUNCATED ? VPND_DROP_ESP_MALFORMED
                                                                              : VPND_DROP_ESP_OTHER);
        return;
    }
    if (rx.verdict != VPN_ESP_DELIVER)
        return;
    c = vpn_sa_get_user(rx.sa);
    if (c == NULL || c->tunnel >= d->n_tun) {
        vpnd_drop_count(d, VPND_DROP_ESP_NOT_TUNNEL);
        return;
    }
    if (write(d->tun[c->tunnel].fd, vpn_pkt_data(&pkt), pkt.len) != (ssize_t)pkt.len) {
        vpnd_drop_count(d, VPND_DROP_TUN_WRITE);
        return;
    }
    d->tun[c->tunnel].pkts_to_tun++;
    vpn_ikev2_child_activity(d->ike, vpnd_now(), c->id, true, false);
}

void vpnd_dp_init_children(vpnd *d)
{
    d->children = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, child_free);
}
