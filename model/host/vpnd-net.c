/*
 * vpnd's sockets: UDP 500 and 4500 for IKE (RFC 7296 2.23) and ESP in UDP
 * (RFC 3948), IPv4 and IPv6, bound to the wildcard address with packet
 * info so each datagram's local address reaches the router and replies
 * leave from it; raw IPPROTO_ESP sockets for ESP without NAT; and the one
 * timer re-armed at the router's next deadline; with GET VPN, UDP 848
 * (IPv4) for the router's GDOI groups. What a datagram is (IKE,
 * ESP in UDP, a keepalive, IKEv1) is the router's to tell.
 */
#define _GNU_SOURCE
#include "vpnd.h"

#include <glib-unix.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/vpn-err.h"
#include "ipsec/ip.h"
#include "ipsec/natt.h"
#include "ipsec/pkt.h"

#define RX_CAP (VPN_PKT_HEADROOM + 65536 + VPN_PKT_TAILROOM)

void vpnd_sockaddr(const vpn_addr *a, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    if (a->family == VPN_AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
        memcpy(&s6->sin6_addr, a->b, 16);
        *len = sizeof *s6;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
        memcpy(&s4->sin_addr, a->b, 4);
        *len = sizeof *s4;
    }
}

static void from_sockaddr(const struct sockaddr_storage *ss, vpn_addr *a, uint16_t *port)
{
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
        vpn_addr_from_bytes(a, s6->sin6_addr.s6_addr, 16);
        *port = ntohs(s6->sin6_port);
    } else {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
        vpn_addr_from_bytes(a, (const uint8_t *)&s4->sin_addr, 4);
        *port = ntohs(s4->sin_port);
    }
}

/* The local address a datagram was sent to, from IP_PKTINFO / IPV6_PKTINFO. */
static void local_of(struct msghdr *m, int family, vpn_addr *a)
{
    memset(a, 0, sizeof *a);
    a->family = family == AF_INET6 ? VPN_AF_INET6 : VPN_AF_INET;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            vpn_addr_from_bytes(a, (const uint8_t *)&pi.ipi_addr, 4);
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            vpn_addr_from_bytes(a, pi.ipi6_addr.s6_addr, 16);
        }
    }
}

/* sendmsg with the source address set through packet info. */
static ssize_t send_from(int fd, const vpn_addr *src, const vpn_addr *dst, uint16_t port,
                         const void *data, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    struct iovec iov = {(void *)data, len};
    union {
        char b[CMSG_SPACE(sizeof(struct in6_pktinfo))];
        struct cmsghdr align;
    } cb;
    struct msghdr m;

    vpnd_sockaddr(dst, port, &ss, &sl);
    memset(&m, 0, sizeof m);
    memset(&cb, 0, sizeof cb);
    m.msg_name = &ss;
    m.msg_namelen = sl;
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    if (src && src->family == dst->family && !vpn_addr_is_any(src)) {
        struct cmsghdr *c;
        m.msg_control = cb.b;
        if (dst->family == VPN_AF_INET6) {
            struct in6_pktinfo pi;
            memset(&pi, 0, sizeof pi);
            memcpy(&pi.ipi6_addr, src->b, 16);
            m.msg_controllen = CMSG_SPACE(sizeof pi);
            c = CMSG_FIRSTHDR(&m);
            c->cmsg_level = IPPROTO_IPV6;
            c->cmsg_type = IPV6_PKTINFO;
            c->cmsg_len = CMSG_LEN(sizeof pi);
            memcpy(CMSG_DATA(c), &pi, sizeof pi);
        } else {
            struct in_pktinfo pi;
            memset(&pi, 0, sizeof pi);
            memcpy(&pi.ipi_spec_dst, src->b, 4);
            m.msg_controllen = CMSG_SPACE(sizeof pi);
            c = CMSG_FIRSTHDR(&m);
            c->cmsg_level = IPPROTO_IP;
            c->cmsg_type = IP_PKTINFO;
            c->cmsg_len = CMSG_LEN(sizeof pi);
            memcpy(CMSG_DATA(c), &pi, sizeof pi);
        }
    }
    return sendmsg(fd, &m, 0);
}

static const vpnd_sock *find_sock(const vpnd *d, uint8_t family, uint16_t port)
{
    int af = family == VPN_AF_INET6 ? AF_INET6 : AF_INET;
    for (size_t i = 0; i < d->n_sock; i++)
        if (d->sock[i].family == af && d->sock[i].port == port)
            return &d->sock[i];
    return NULL;
}

void vpnd_ike_send(void *user, const vpn_ikev2_dgram *dg)
{
    vpnd *d = user;
    const vpnd_sock *s = find_sock(d, dg->remote.addr.family, dg->local.port);
    char a[VPN_ADDR_STRLEN];

    if (s == NULL) {
        vpnd_log(d, VPN_LOG_WARN, "no socket for IKE from port %u to %s", dg->local.port,
                 vpn_addr_str(&dg->remote.addr, a, sizeof a));
        return;
    }
    if (send_from(s->fd, &dg->local.addr, &dg->remote.addr, dg->remote.port, dg->data, dg->len) < 0)
        vpnd_log(d, VPN_LOG_WARN, "IKE send to %s:%u: %s", vpn_addr_str(&dg->remote.addr, a, sizeof a),
                 dg->remote.port, strerror(errno));
}

bool vpnd_esp_send(void *user, const vpn_router_esp_out *o)
{
    vpnd *d = user;
    size_t hl = o->l4_off + (o->udp_encap ? VPN_UDP_HDR_LEN : 0);
    const vpnd_sock *s = find_sock(d, o->dst.family, o->udp_encap ? o->sport : 0);

    /* The kernel writes the outer IP header (and UDP header) itself: send
     * what follows the router's, from the SA's local address. */
    if (s == NULL || o->len < hl)
        return false;
    return send_from(s->fd, &o->src, &o->dst, o->udp_encap ? o->dport : 0, o->data + hl, o->len - hl) >= 0;
}

static gboolean on_udp(gint fd, GIOCondition cond, gpointer user)
{
    vpnd *d = user;
    vpnd_sock *s = NULL;
    static uint8_t buf[RX_CAP];

    (void)cond;
    for (size_t i = 0; i < d->n_sock; i++)
        if (d->sock[i].fd == fd)
            s = &d->sock[i];
    if (s == NULL)
        return G_SOURCE_REMOVE;
    for (int budget = 0; budget < 64; budget++) {
        struct sockaddr_storage from;
        union {
            char b[256];
            struct cmsghdr align;
        } cb;
        struct iovec iov = {buf + VPN_PKT_HEADROOM, 65536};
        struct msghdr m;
        ssize_t n;
        vpn_ikev2_endpoint local, remote;
        vpn_pkt pkt;

        memset(&m, 0, sizeof m);
        m.msg_name = &from;
        m.msg_namelen = sizeof from;
        m.msg_iov = &iov;
        m.msg_iovlen = 1;
        m.msg_control = cb.b;
        m.msg_controllen = sizeof cb.b;
        n = recvmsg(fd, &m, MSG_DONTWAIT);
        if (n < 0)
            break;
        local_of(&m, s->family, &local.addr);
        from_sockaddr(&from, &remote.addr, &remote.port);
        local.port = s->port;
        vpn_pkt_init(&pkt, buf, sizeof buf, VPN_PKT_HEADROOM);
        pkt.len = (size_t)n;
        if (s->port == 0 && s->family == AF_INET) {
            /* raw IPv4 sockets see the IP header */
            vpn_router_ip_input(d->router, vpnd_now(), &pkt);
        } else if (s->port == 0) {
            vpn_esp_outer o;
            memset(&o, 0, sizeof o);
            o.src = remote.addr;
            o.dst = local.addr;
            vpn_router_esp_input(d->router, vpnd_now(), &pkt, &o);
        } else {
            vpn_router_udp_input(d->router, vpnd_now(), &local, &remote, &pkt);
        }
    }
    vpnd_gdoi_after(d);
    vpnd_reschedule(d);
    return G_SOURCE_CONTINUE;
}

static int open_one(vpnd *d, int family, int type, int proto, uint16_t port, char *err, size_t errlen)
{
    int fd, on = 1, rcvbuf = 4 << 20;
    struct sockaddr_storage ss;
    socklen_t sl;
    vpn_addr any;
    vpnd_sock *s;

    fd = socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, proto);
    if (fd < 0) {
        if (family == AF_INET6 && errno == EAFNOSUPPORT) {
            vpnd_log(d, VPN_LOG_WARN, "no IPv6 on this host: IKE and ESP over IPv4 only");
            return 0;
        }
        snprintf(err, errlen, "socket(%s, %s): %s", family == AF_INET6 ? "IPv6" : "IPv4",
                 port ? "UDP" : "ESP", strerror(errno));
        return -1;
    }
    /* ESP arrives here at line rate and leaves through the TUN device only
     * as fast as we run: a default buffer (~208 KB, some 150 datagrams)
     * overflows within one scheduling stall of a loaded host, and every
     * datagram past it is lost (RcvbufErrors). 4 MB: SO_RCVBUFFORCE past
     * rmem_max (we hold CAP_NET_ADMIN for the TUN device), else as much as
     * rmem_max allows. */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (family == AF_INET6) {
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
        setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on);
    } else {
        setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on);
    }
    if (port) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        memset(&any, 0, sizeof any);
        any.family = family == AF_INET6 ? VPN_AF_INET6 : VPN_AF_INET;
        vpnd_sockaddr(&any, port, &ss, &sl);
        if (bind(fd, (struct sockaddr *)&ss, sl) != 0) {
            snprintf(err, errlen, "bind UDP %s port %u: %s", family == AF_INET6 ? "[::]" : "0.0.0.0", port,
                     strerror(errno));
            close(fd);
            return -1;
        }
    }
    s = &d->sock[d->n_sock++];
    s->fd = fd;
    s->family = family;
    s->port = port;
    s->watch = g_unix_fd_add(fd, G_IO_IN, on_udp, d);
    return 0;
}

int vpnd_net_open(vpnd *d, char *err, size_t errlen)
{
    static const uint16_t ports[] = {VPN_IKE_PORT, VPN_NATT_PORT};
    static const int fams[] = {AF_INET, AF_INET6};

    for (size_t f = 0; f < 2; f++) {
        for (size_t p = 0; p < 2; p++)
            if (open_one(d, fams[f], SOCK_DGRAM, IPPROTO_UDP, ports[p], err, errlen) != 0)
                return -1;
        if (open_one(d, fams[f], SOCK_RAW, IPPROTO_ESP, 0, err, errlen) != 0)
            return -1;
    }
    /* GET VPN: GDOI on UDP 848 (RFC 6407 2), IPv4 (the TEK policies are) */
    if (d->gdoi) {
        if (open_one(d, AF_INET, SOCK_DGRAM, IPPROTO_UDP, VPN_GDOI_PORT, err, errlen) != 0)
            return -1;
        return vpnd_gdoi_open(d, d->sock[d->n_sock - 1].fd, err, errlen);
    }
    return 0;
}

void vpnd_net_close(vpnd *d)
{
    for (size_t i = 0; i < d->n_sock; i++) {
        if (d->sock[i].watch)
            g_source_remove(d->sock[i].watch);
        close(d->sock[i].fd);
    }
    d->n_sock = 0;
    if (d->timer)
        g_source_remove(d->timer);
    d->timer = 0;
}

static gboolean on_timer(gpointer user)
{
    vpnd *d = user;
    uint64_t now = vpnd_now();

    d->timer = 0;
    d->timer_at = UINT64_MAX;
    vpn_router_timeout(d->router, now);
    vpnd_radius_tick(d, now);
    vpnd_gdoi_after(d);
    vpnd_reschedule(d);
    return G_SOURCE_REMOVE;
}

void vpnd_reschedule(vpnd *d)
{
    uint64_t next = vpn_router_next_deadline(d->router);
    uint64_t now = vpnd_now(), ms;

    uint64_t rad = vpnd_radius_deadline(d);
    if (rad < next)
        next = rad;
    if (next == d->timer_at && d->timer)
        return;
    if (d->timer)
        g_source_remove(d->timer);
    d->timer = 0;
    d->timer_at = next;
    if (next == UINT64_MAX)
        return;
    /* Round up: waking a little late is harmless, early means a spin. */
    ms = next > now ? (next - now + 999999) / 1000000 : 0;
    if (ms > 3600 * 1000)
        ms = 3600 * 1000;
    d->timer = g_timeout_add((guint)ms, on_timer, d);
}
