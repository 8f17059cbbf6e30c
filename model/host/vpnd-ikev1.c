/*
 * IKEv1 phase 1 in vpnd: the control commands over the router's phase-1
 * table (router.h, "IKEv1 phase 1"), which runs Main Mode on UDP 500 for
 * `crypto isakmp policy` / `crypto isakmp key`. What is left here is I/O:
 * the kernel's route source for an initiation, and the answers' text.
 */
#define _GNU_SOURCE
#include "vpnd.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/vpn-err.h"
#include "ipsec/natt.h"
#include "show/show-isakmp.h"

/* The local address the kernel would use towards peer (a connected UDP
 * socket sends nothing). */
static int route_source(const vpn_addr *peer, vpn_addr *local)
{
    struct sockaddr_storage ss, me;
    socklen_t sl, ml = sizeof me;
    int fd, rc = -1;

    vpnd_sockaddr(peer, VPN_IKE_PORT, &ss, &sl);
    fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&ss, sl) == 0 && getsockname(fd, (struct sockaddr *)&me, &ml) == 0) {
        if (me.ss_family == AF_INET6)
            vpn_addr_from_bytes(local, ((struct sockaddr_in6 *)&me)->sin6_addr.s6_addr, 16);
        else
            vpn_addr_from_bytes(local, (const uint8_t *)&((struct sockaddr_in *)&me)->sin_addr, 4);
        rc = 0;
    }
    close(fd);
    return rc;
}

int vpnd_ikev1_initiate(vpnd *d, const char *peer_text, GString *out)
{
    vpn_addr peer, local;
    uint32_t conn_id = 0;
    int rc;

    if (vpn_addr_parse(&peer, peer_text) != 0) {
        g_string_append_printf(out, "%% '%s' is not an IP address\n", peer_text);
        return 1;
    }
    if (route_source(&peer, &local) != 0) {
        g_string_append_printf(out, "%% no route to %s: %s\n", peer_text, strerror(errno));
        return 1;
    }
    rc = vpn_router_isakmp_initiate(d->router, vpnd_now(), &local, &peer, &conn_id);
    vpnd_reschedule(d);
    switch (rc) {
    case 0:
        g_string_append_printf(out, "ISAKMP SA %u: Main Mode to %s started\n", conn_id, peer_text);
        return 0;
    case VPN_ERR_LIMIT:
        g_string_append(out, "% too many ISAKMP SAs\n");
        return 1;
    case VPN_ERR_NOTFOUND:
        g_string_append_printf(out, "%% %s: no crypto isakmp policy is configured\n", peer_text);
        return 1;
    case VPN_ERR_AUTH:
        g_string_append_printf(out, "%% %s: no crypto isakmp key covers this peer\n", peer_text);
        return 1;
    default:
        g_string_append_printf(out, "%% Main Mode to %s: %s\n", peer_text, vpn_strerror(rc));
        return 1;
    }
}

int vpnd_ikev1_clear(vpnd *d, bool has_id, uint32_t conn_id, GString *out)
{
    int n = vpn_router_isakmp_clear(d->router, vpnd_now(), !has_id, conn_id);

    vpnd_reschedule(d);
    if (n < 0) {
        g_string_append_printf(out, "%% no ISAKMP SA with conn-id %u\n", conn_id);
        return 1;
    }
    if (has_id)
        g_string_append_printf(out, "ISAKMP SA %u deleted\n", conn_id);
    else
        g_string_append_printf(out, "%d ISAKMP SA%s deleted\n", n, n == 1 ? "" : "s");
    return 0;
}

void vpnd_ikev1_show_sa(vpnd *d, GString *out)
{
    vpn_show_buf b;

    vpnd_show_begin(&b, VPN_SHOW_ISAKMP_SA_CAP(vpn_router_isakmp_count(d->router)));
    vpn_router_show_isakmp_sa(d->router, &b);
    vpnd_show_end(&b, out);
}

void vpnd_ikev1_show_policy(vpnd *d, GString *out)
{
    vpn_show_buf b;

    /* a suite prints in under 400 characters */
    vpnd_show_begin(&b, 512 + d->conf->n_isakmp_policy * 512);
    vpn_show_isakmp_policy(d->conf, &b);
    vpnd_show_end(&b, out);
}
