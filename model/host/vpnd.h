/*
 * vpnd, the real-network testbed daemon: an I/O adapter over the core's
 * router (model/core/router: IKEv2 engine, SAD, tunnels) on real UDP
 * sockets, a raw ESP socket and TUN devices, driven by a GLib main loop.
 * Shared state of its parts:
 *   vpnd-main.c   options, start-up (nothing runs half-configured), main loop
 *   vpnd-net.c    UDP 500/4500 (IPv4 and IPv6), raw ESP, the router's timer
 *   vpnd-dp.c     TUN devices, routes, the router's callbacks
 *   vpnd-ctl.c    the control socket and its commands
 *   vpnd-keys.c   Wireshark key files, certificates from trustpoints
 *   vpnd-ikev1.c  IKEv1 phase 1 (crypto isakmp), UDP 500 version 1.0
 *   vpnd-gdoi.c   GET VPN: the router's GDOI groups on UDP 848, the crypto map
 *   vpnd-ra.c     remote access: routes to clients' assigned addresses, views
 */
#ifndef VPND_H
#define VPND_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "common/rng.h"
#include "common/vpn-log.h"
#include "conf/conf.h"
#include "crypto/sig.h"
#include "crypto/x509.h"
#include "host-plan.h"
#include "ikev2/ikev2-engine.h"
#include "ipsec/esp.h"
#include "ipsec/sa.h"
#include "router/router.h"
#include "show/show.h"

typedef struct vpnd_tunnel {
    const vpn_host_tunnel *t; /* into plan */
    char ifname[16];          /* the TUN device */
    int fd;
    guint watch;
    uint64_t pkts_to_tun, pkts_from_tun;
    uint32_t mtu;             /* the TUN device's MTU now */
    uint32_t wan_mtu;         /* of the interface holding the tunnel source (1500 if none) */
    /* Routes added for remote selectors a peer narrowed to (kept while the
     * daemon runs, so traffic brings the tunnel back on demand). */
    vpn_prefix learned[16];
    size_t n_learned;
} vpnd_tunnel;

typedef struct vpnd_sock {
    int fd;
    guint watch;
    int family;       /* AF_INET / AF_INET6 */
    uint16_t port;    /* 500, 4500, 0 for raw ESP */
} vpnd_sock;

#define VPND_MAX_SOCKS 8

typedef struct vpnd {
    /* options */
    const char *config_path, *ctl_path, *key_dir, *log_path, *tun_name, *pid_path;
    const char *rsa_path;  /* -r: the GET VPN rekey key pair (PEM) */
    const char *gdoi_tun;  /* -g: the crypto map's TUN device */
    const char *plain_path; /* -P: pcap of the GDOI datagrams sent, decrypted */
    vpn_log_level level;
    bool foreground;
    FILE *logf;

    vpn_conf *conf;
    vpn_host_plan plan;
    vpn_rng rng;
    vpn_router *router;   /* IKEv2 engine, SAD, tunnels (index = plan index) */

    vpnd_tunnel tun[VPN_HOST_TUNNELS_MAX];
    size_t n_tun;

    vpnd_sock sock[VPND_MAX_SOCKS];
    size_t n_sock;

    guint timer;
    uint64_t timer_at;    /* deadline the timer is armed for, UINT64_MAX: none */

    int ctl_fd;
    guint ctl_watch;

    FILE *ike_keys, *esp_keys;

    /* certificates loaded from trustpoints (owned) */
    GPtrArray *certs;      /* vpn_x509* */
    GPtrArray *keys;       /* vpn_sig_key* */

    FILE *ikev1_keys;       /* KEYDIR/ikev1_decryption_table, opened on first use */
    FILE *esp_plain;        /* KEYDIR/esp.plain.pcap, opened on the first packet */
    FILE *ike_plain;        /* KEYDIR/ike.plain.pcap, opened on the first message */

    struct vpnd_gdoi *gdoi; /* GET VPN (vpnd-gdoi.c), NULL when not configured */
    /* remote access (vpnd-ra.c): CHILD_SA id -> the client route it holds */
    GHashTable *ra_routes;
    /* RADIUS for EAP passthrough (vpnd-ra.c), NULL when not configured */
    struct vpnd_radius *radius;

    gint64 started_us;
    GMainLoop *loop;
    int exit_code;
} vpnd;

/* Engine clock: monotonic nanoseconds. */
uint64_t vpnd_now(void);
void vpnd_log(vpnd *d, vpn_log_level level, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
void vpnd_log_cb(void *user, vpn_log_level level, const char *engine, const char *msg);

/* vpnd-net.c */
int vpnd_net_open(vpnd *d, char *err, size_t errlen);
void vpnd_net_close(vpnd *d);
/* The router's send_udp and send_esp callbacks. */
void vpnd_ike_send(void *user, const vpn_ikev2_dgram *dg);
bool vpnd_esp_send(void *user, const vpn_router_esp_out *o);
/* a and port as a socket address (IPv6 if a is, else IPv4). */
void vpnd_sockaddr(const vpn_addr *a, uint16_t port, struct sockaddr_storage *ss, socklen_t *len);
/* Re-arms the one timer at the router's next deadline. */
void vpnd_reschedule(vpnd *d);

/* vpnd-dp.c */
int vpnd_dp_open(vpnd *d, char *err, size_t errlen);
void vpnd_dp_close(vpnd *d);
/* The router's deliver and event callbacks. */
bool vpnd_deliver(void *user, uint32_t tunnel, const uint8_t *data, size_t len);
void vpnd_router_event(void *user, const vpn_router_event *ev);
/* Initiates tunnel i now (vpnctl initiate). Returns VPN_ERR_*. */
int vpnd_initiate(vpnd *d, size_t i, char *msg, size_t msglen);
/* The IKE SA of tunnel i that is not being deleted (0: none). */
uint32_t vpnd_tunnel_ike_sa(const vpnd *d, size_t i, bool established_only);

/* Runs `ip ARGS...` (NULL-terminated); err says why it failed. */
int vpnd_run_ip(vpnd *d, char *err, size_t errlen, const char *const *args);

/* vpnd-ra.c */
/* A CHILD_SA came up / went on an access tunnel (Virtual-Template): the
 * route to the client's assigned address into its TUN device. */
void vpnd_ra_child_up(vpnd *d, vpnd_tunnel *t, const vpn_ikev2_child_info *c);
void vpnd_ra_child_down(vpnd *d, uint32_t child_id);
void vpnd_ra_close(vpnd *d);
/* show ip local pool (user NULL) / show crypto session username USER. */
int vpnd_ra_show(vpnd *d, const char *user, bool detail, GString *out);
int vpnd_radius_open(vpnd *d, char *err, size_t errlen);
const vpn_ikev2_eap_backend *vpnd_radius_backend(vpnd *d);
uint64_t vpnd_radius_deadline(const vpnd *d);
void vpnd_radius_tick(vpnd *d, uint64_t now);
void vpnd_radius_end(vpnd *d, uint32_t ike_sa_id);
void vpnd_radius_show(vpnd *d, GString *out);
void vpnd_radius_close(vpnd *d);

/* vpnd-ctl.c */
int vpnd_ctl_open(vpnd *d, char *err, size_t errlen);
void vpnd_ctl_close(vpnd *d);
/* Runs one command line; the answer text goes into out, returns the exit code. */
int vpnd_ctl_exec(vpnd *d, const char *line, GString *out);
/* Scratch space for a core renderer (show/): begin allocates cap bytes
 * into b, end appends what was rendered to out and frees them. */
void vpnd_show_begin(vpn_show_buf *b, size_t cap);
void vpnd_show_end(vpn_show_buf *b, GString *out);

/* vpnd-keys.c */
int vpnd_keys_open(vpnd *d, char *err, size_t errlen);
void vpnd_keys_close(vpnd *d);
/* A KEY_LINE event: the line appended to its table's file in KEYDIR. */
void vpnd_keys_line(vpnd *d, vpn_router_key_table table, const char *line);
/* The router's esp_plain: a record of KEYDIR/esp.plain.pcap, the decrypted
 * view of SAs Wireshark cannot decrypt (no key line is written for them). */
void vpnd_esp_plain(void *user, uint32_t tunnel, bool outbound, const uint8_t *data, size_t len);
/* The router's ike_plain: a record of KEYDIR/ike.plain.pcap, the decrypted
 * IKE messages of IKE SAs Wireshark cannot decrypt. */
void vpnd_ike_plain(void *user, uint32_t ike_sa_id, bool outbound, const uint8_t *dgram, size_t len);
int vpnd_pki_load(vpnd *d, char *err, size_t errlen);
void vpnd_pki_free(vpnd *d);

/* vpnd-ikev1.c: over the router's IKEv1 phase 1 */
/* Control commands; the answer goes into out, the exit code is returned. */
int vpnd_ikev1_initiate(vpnd *d, const char *peer, GString *out);
int vpnd_ikev1_clear(vpnd *d, bool has_id, uint32_t conn_id, GString *out);
void vpnd_ikev1_show_sa(vpnd *d, GString *out);
void vpnd_ikev1_show_policy(vpnd *d, GString *out);

/* vpnd-gdoi.c */
/* Does the configuration make this host a key server or a member? */
bool vpnd_gdoi_configured(const vpn_conf *c);
/* Translates the GET VPN configuration and gives the router its groups:
 * 0, 1 for a configuration error, -1 otherwise (err says why). */
int vpnd_gdoi_setup(vpnd *d, char *err, size_t errlen);
/* Options of the UDP 848 socket, decode_as_entries, the member's TUN,
 * policy routing and raw socket. */
int vpnd_gdoi_open(vpnd *d, int udp_fd, char *err, size_t errlen);
void vpnd_gdoi_close(vpnd *d);
void vpnd_gdoi_free(vpnd *d);
/* After every router call: rekey groups to join, key lines to write. */
void vpnd_gdoi_after(vpnd *d);
/* The router's gdoi_sent: the -P pcap. */
void vpnd_gdoi_sent(void *user, const vpn_addr *src, const vpn_addr *dst, const uint8_t *dg, size_t len,
                    const uint8_t *view, size_t view_len);
/* The router's deliver for VPN_ROUTER_CRYPTO_MAP. */
bool vpnd_gdoi_deliver(vpnd *d, const uint8_t *data, size_t len);
/* show crypto gdoi ..., clear crypto gdoi, crypto gdoi ks rekey. */
int vpnd_gdoi_ctl(vpnd *d, int cmd, GString *out);
void vpnd_gdoi_show_ipsec(vpnd *d, GString *out);
void vpnd_gdoi_status(vpnd *d, GString *out);

#endif
