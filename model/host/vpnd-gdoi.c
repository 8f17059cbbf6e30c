/*
 * GET VPN in vpnd: the router core's GDOI groups (key server and group
 * member, model/core/getvpn via vpn_router_getvpn_attach) on real sockets.
 *
 * Control plane: the groups come from the same IOS text as in ns-3
 * (gdoi/gdoi-conf.h: `crypto gdoi group`, `crypto isakmp`, `crypto map
 * NAME N gdoi` on an interface). UDP 848 (RFC 6407 2) is one more socket of
 * vpnd-net.c; what arrives goes to vpn_router_udp_input, which picks the
 * group. A key server sends multicast rekeys out of the interface holding
 * its address (IP_MULTICAST_IF); a member joins the group address its key
 * server announced (the SA KEK's DST ID, RFC 6407 5.3) on the crypto-map
 * interface as soon as it knows it.
 *
 * Data plane of a member (the crypto map on the interface), with the
 * kernel's routing in charge of where packets go:
 *   - policy routing sends what the host routes, except vpnd's own
 *     packets, into a TUN device: `ip rule pref 848 not fwmark 0x848
 *     lookup 848` and table 848 holding `default dev gdoi0`;
 *   - vpnd reads each packet from the TUN and hands it to the router's
 *     crypto map (vpn_router_cryptomap_output): matching the key server's
 *     policy it becomes ESP in tunnel mode with the inner addresses
 *     preserved (RFC 6407 3.5.1), else it stays as it was;
 *   - either way vpnd writes it back through a raw socket (IP_HDRINCL)
 *     marked 0x848, which skips table 848: the main table routes it out
 *     of the interface it would have taken anyway, addresses unchanged;
 *   - inbound ESP reaches the raw ESP socket of vpnd-net.c; the router
 *     finds the TEK by SPI and vpnd writes the inner packet into the TUN,
 *     from where the kernel delivers or forwards it (rp_filter is off on
 *     the TUN: inner sources are routed elsewhere).
 * Clear packets arriving on the interface are the kernel's: vpnd does not
 * see them (there is no inbound hook without netfilter), so the RFC 4301
 * 5.2 check "a clear packet the policy protects is dropped" is ns-3's
 * only; unauthorized members are refused by the key server.
 *
 * Key files (with -k): the router's KEY_LINE events (router.h: a line of
 * ikev1_decryption_table per phase 1, the member's registration and the
 * key servers' COOP SAs, an esp_sa line with "*" addresses per TEK) go
 * where every key line goes (vpnd-keys.c); here decode_as_entries maps
 * UDP 848 to ISAKMP.
 * With -P: the datagrams this daemon sends, as a pcap of raw IPv4 with the
 * decrypted view in place of what was encrypted (the E flag cleared), since
 * Wireshark cannot decrypt KEK-encrypted rekeys; a capture and this file
 * read side by side.
 */
#define _GNU_SOURCE
#include "vpnd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/vpn-err.h"
#include "gdoi/gdoi-conf.h"
#include "host-ctl.h"
#include "ikev1/ikev1.h"
#include "ipsec/ip.h"
#include "ipsec/pkt.h"

#define PKT_CAP (VPN_PKT_HEADROOM + 65536 + VPN_PKT_TAILROOM)
#define GDOI_MARK 0x848u
#define GDOI_TABLE "848"
#define GDOI_RULE_PREF "848"
#define VPND_GAP_ACTIVATION_S 2
#define VPND_GAP_DEACTIVATION_S 30

/* What the translated engine configurations point into (kept while the
 * router lives: the rekey key is borrowed by the key server). */
struct vpnd_gdoi {
    vpn_gdoi_conf_ks ks;
    vpn_gdoi_conf_gm gm;
    bool is_ks, is_gm;
    char ifname[VPN_CONF_NAME_MAX]; /* the crypto-map interface */
    vpn_addr local;          /* the member's address */
    vpn_sig_key *key;        /* the rekey RSA key pair (KS) */
    int tun_fd, raw_fd;
    guint tun_watch;
    bool rule;               /* the ip rule is ours to delete */
    char tun_name[IFNAMSIZ];
    vpn_addr joined[4];      /* multicast groups joined */
    size_t n_joined;
    FILE *plain;             /* -P: the decrypted view of what we send */
    uint64_t tun_in, tun_out, raw_out, send_errors;
};

/* Runs `ip ARGS...`. */
static int run_ip(vpnd *d, char *err, size_t errlen, const char *const *args)
{
    const char *argv[16];
    size_t n = 0;
    gchar *errs = NULL;
    gint status = 0;
    GError *ge = NULL;

    argv[n++] = "ip";
    for (; *args && n < 15; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    if (!g_spawn_sync(NULL, (gchar **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                      NULL, &errs, &status, &ge)) {
        snprintf(err, errlen, "cannot run ip: %s", ge->message);
        g_error_free(ge);
        return -1;
    }
    if (!g_spawn_check_wait_status(status, NULL)) {
        gchar *cmd = g_strjoinv(" ", (gchar **)argv);
        snprintf(err, errlen, "'%s' failed: %s", cmd, errs ? g_strstrip(errs) : "");
        g_free(cmd);
        g_free(errs);
        return -1;
    }
    vpnd_log(d, VPN_LOG_DEBUG, "ip %s %s %s ...", argv[1], n > 2 ? argv[2] : "", n > 3 ? argv[3] : "");
    g_free(errs);
    return 0;
}

static void write_proc(const char *fmt, const char *ifname, const char *value)
{
    char path[128];
    FILE *f;

    snprintf(path, sizeof path, fmt, ifname);
    if ((f = fopen(path, "w")) != NULL) {
        fputs(value, f);
        fclose(f);
    }
}

/* ---- the rekey key ------------------------------------------------------------------ */

/* `crypto key generate rsa label L [modulus N]`: IOS keeps the pair outside
 * the configuration; vpnd keeps it in -r FILE (PEM), generated there when
 * the file does not exist yet, so that COOP key servers can share it (as
 * IOS requires, by export and import). Without -r: a fresh pair. */
static int load_key(vpnd *d, char *err, size_t errlen)
{
    struct vpnd_gdoi *g = d->gdoi;
    gchar *pem = NULL;
    gsize len = 0;
    unsigned bits = 2048;
    int rc;

    for (size_t i = 0; i < d->conf->n_rsa_key; i++)
        if (d->conf->rsa_key[i].modulus)
            bits = d->conf->rsa_key[i].modulus;
    if (d->rsa_path == NULL || !g_file_get_contents(d->rsa_path, &pem, &len, NULL)) {
        EVP_PKEY *pk = EVP_RSA_gen(bits);
        BIO *bio = BIO_new(BIO_s_mem());
        char *p = NULL;
        long n;
        if (pk == NULL || bio == NULL || !PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL)) {
            EVP_PKEY_free(pk);
            BIO_free(bio);
            snprintf(err, errlen, "cannot generate the rekey RSA key");
            return -1;
        }
        EVP_PKEY_free(pk);
        n = BIO_get_mem_data(bio, &p);
        pem = g_strndup(p, (gsize)n);
        len = (gsize)n;
        BIO_free(bio);
        if (d->rsa_path) {
            int fd = open(d->rsa_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
            if (fd < 0 || write(fd, pem, len) != (ssize_t)len) {
                snprintf(err, errlen, "rekey key %s: %s", d->rsa_path, strerror(errno));
                if (fd >= 0)
                    close(fd);
                OPENSSL_cleanse(pem, len);
                g_free(pem);
                return -1;
            }
            close(fd);
            vpnd_log(d, VPN_LOG_INFO, "rekey key: %u-bit RSA pair generated into %s", bits, d->rsa_path);
        }
    }
    rc = vpn_sig_key_load_private(&g->key, (const uint8_t *)pem, len);
    OPENSSL_cleanse(pem, len);
    g_free(pem);
    if (rc != 0) {
        snprintf(err, errlen, "rekey key %s: %s", d->rsa_path ? d->rsa_path : "(generated)", vpn_strerror(rc));
        return -1;
    }
    return 0;
}

/* ---- start-up ------------------------------------------------------------------------- */

bool vpnd_gdoi_configured(const vpn_conf *c)
{
    for (size_t i = 0; i < c->n_gdoi_group; i++)
        if (c->gdoi_group[i].server_local)
            return true;
    for (size_t i = 0; i < c->n_iface; i++)
        if (c->iface[i].crypto_map[0])
            return true;
    return false;
}

int vpnd_gdoi_setup(vpnd *d, char *err, size_t errlen)
{
    vpn_getvpn_group_params groups[2];
    struct vpnd_gdoi *g;
    vpn_conf_error ce;
    size_t n = 0;
    int rc;

    if (!vpnd_gdoi_configured(d->conf))
        return 0;
    g = d->gdoi = g_new0(struct vpnd_gdoi, 1);
    g->tun_fd = g->raw_fd = -1;
    memset(groups, 0, sizeof groups);
    memset(&ce, 0, sizeof ce);
    for (size_t i = 0; i < d->conf->n_gdoi_group; i++)
        g->is_ks = g->is_ks || d->conf->gdoi_group[i].server_local;
    if (g->is_ks) {
        if (load_key(d, err, errlen) != 0)
            return -1;
        if ((rc = vpn_gdoi_ks_cfg_from_conf(d->conf, NULL, g->key, &g->ks, &ce)) != 0)
            goto conf_error;
        groups[n].role = VPN_GETVPN_ROLE_KS;
        groups[n].ks = g->ks.cfg;
        /* RFC 6407 5.5 GAP: members go on sending on the old TEK for
         * VPND_GAP_ACTIVATION_S after a rekey, so that every member holds
         * the new one before traffic arrives on it (IOS members likewise
         * keep the old TEK outbound until shortly before it expires) */
        if (!groups[n].ks.gap_activation_s && !groups[n].ks.gap_deactivation_s) {
            groups[n].ks.gap_activation_s = VPND_GAP_ACTIVATION_S;
            groups[n].ks.gap_deactivation_s = VPND_GAP_DEACTIVATION_S;
        }
        n++;
    }
    for (size_t i = 0; i < d->conf->n_iface; i++)
        g->is_gm = g->is_gm || d->conf->iface[i].crypto_map[0];
    if (g->is_gm) {
        /* the translation checks the SAD and SPD it is given; the router's
         * node makes the member's own (getvpn.h) */
        vpn_sad *sad = NULL;
        vpn_spd *spd = NULL;
        if (vpn_sad_new(&sad, &d->rng) != 0 || vpn_spd_new(&spd, VPN_SPD_BYPASS) != 0) {
            vpn_sad_del(sad);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        rc = vpn_gdoi_gm_cfg_from_conf(d->conf, NULL, NULL, sad, spd, &g->gm, &ce);
        vpn_spd_del(spd);
        vpn_sad_del(sad);
        if (rc != 0)
            goto conf_error;
        snprintf(g->ifname, sizeof g->ifname, "%s", g->gm.iface->name);
        g->local = g->gm.cfg.local;
        groups[n].role = VPN_GETVPN_ROLE_GM;
        groups[n].gm = g->gm.cfg;
        groups[n].gm.sad = NULL;
        groups[n].gm.spd = NULL;
        groups[n].map_seq = g->gm.map ? g->gm.map->seq : 10;
        /* the entry's member-local deny ACL (`match address`) */
        groups[n].deny = g->gm.deny;
        groups[n].n_deny = g->gm.n_deny;
        groups[n].start_ns = vpnd_now();
        n++;
    }
    if ((rc = vpn_router_getvpn_attach(d->router, vpnd_now(), groups, n)) != 0) {
        snprintf(err, errlen, "GET VPN groups: %s", vpn_strerror(rc));
        return -1;
    }
    return 0;
conf_error:
    if (ce.line > 0)
        snprintf(err, errlen, "%s line %d: %s", d->config_path, ce.line, ce.msg);
    else
        snprintf(err, errlen, "%s: %s", d->config_path, ce.msg[0] ? ce.msg : vpn_strerror(rc));
    return 1;
}

static gboolean on_tun(gint fd, GIOCondition cond, gpointer user);

/* The key server: multicast rekeys leave from the interface of its address. */
static void ks_multicast_if(vpnd *d, int fd)
{
    struct vpnd_gdoi *g = d->gdoi;
    struct in_addr a;
    unsigned char ttl = 8, loop = 0;

    memcpy(&a, g->ks.cfg.local.b, 4);
    if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &a, sizeof a) != 0)
        vpnd_log(d, VPN_LOG_WARN, "IP_MULTICAST_IF: %s", strerror(errno));
    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl);
    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop);
}

int vpnd_gdoi_open(vpnd *d, int udp_fd, char *err, size_t errlen)
{
    struct vpnd_gdoi *g = d->gdoi;
    struct ifreq ifr;
    unsigned mark = GDOI_MARK;
    int on = 1;

    if (g == NULL)
        return 0;
    /* vpnd's own datagrams never enter the crypto map's TUN */
    if (setsockopt(udp_fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark) != 0) {
        snprintf(err, errlen, "SO_MARK on UDP 848: %s", strerror(errno));
        return -1;
    }
    if (g->is_ks)
        ks_multicast_if(d, udp_fd);
    if (d->key_dir) {
        gchar *path = g_build_filename(d->key_dir, "decode_as_entries", NULL);
        FILE *f = fopen(path, "w");
        g_free(path);
        if (f) {
            /* Wireshark's own file format; GDOI is ISAKMP on another port */
            fputs("# This file is automatically generated, DO NOT MODIFY.\n"
                  "decode_as_entry: udp.port,848,(none),ISAKMP\n", f);
            fclose(f);
        }
    }
    if (d->plain_path) {
        /* pcap (microsecond timestamps, LINKTYPE_RAW 101: raw IPv4), host byte order */
        const uint32_t hdr[6] = {0xa1b2c3d4u, 2u | 4u << 16, 0, 0, 65535, 101};
        if ((g->plain = fopen(d->plain_path, "w")) == NULL || fwrite(hdr, sizeof hdr, 1, g->plain) != 1) {
            snprintf(err, errlen, "%s: %s", d->plain_path, strerror(errno));
            return -1;
        }
        fflush(g->plain);
    }
    if (!g->is_gm)
        return 0;
    snprintf(g->tun_name, sizeof g->tun_name, "%s", d->gdoi_tun ? d->gdoi_tun : "gdoi0");
    g->tun_fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
    if (g->tun_fd < 0) {
        snprintf(err, errlen, "/dev/net/tun: %s", strerror(errno));
        return -1;
    }
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", g->tun_name);
    if (ioctl(g->tun_fd, TUNSETIFF, &ifr) != 0) {
        snprintf(err, errlen, "TUN device %s: %s", g->tun_name, strerror(errno));
        return -1;
    }
    write_proc("/proc/sys/net/ipv6/conf/%s/disable_ipv6", g->tun_name, "1\n");
    /* decrypted packets come out of the TUN with far sources */
    write_proc("/proc/sys/net/ipv4/conf/%s/rp_filter", g->tun_name, "0\n");
    write_proc("/proc/sys/net/ipv4/conf/%s/accept_local", g->tun_name, "1\n");
    g->raw_fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_RAW);
    if (g->raw_fd < 0 || setsockopt(g->raw_fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark) != 0 ||
        setsockopt(g->raw_fd, IPPROTO_IP, IP_HDRINCL, &on, sizeof on) != 0) {
        snprintf(err, errlen, "raw IP socket: %s", strerror(errno));
        return -1;
    }
    /* ESP and clear packets alike are written with room for the ESP overhead
     * left in a 1500-byte WAN: 1400 as IOS guides advise for GET VPN */
    if (run_ip(d, err, errlen, (const char *[]){"link", "set", "dev", g->tun_name, "mtu", "1400", "up", NULL}) ||
        run_ip(d, err, errlen,
               (const char *[]){"route", "replace", "default", "dev", g->tun_name, "table", GDOI_TABLE, NULL}))
        return -1;
    run_ip(d, err, errlen, (const char *[]){"rule", "del", "pref", GDOI_RULE_PREF, NULL}); /* a stale one */
    if (run_ip(d, err, errlen,
               (const char *[]){"rule", "add", "pref", GDOI_RULE_PREF, "not", "fwmark", "0x848", "lookup", GDOI_TABLE,
                                NULL}))
        return -1;
    g->rule = true;
    g->tun_watch = g_unix_fd_add(g->tun_fd, G_IO_IN, on_tun, d);
    vpnd_log(d, VPN_LOG_INFO, "crypto map on %s: routed packets pass through TUN %s (ip rule %s, table %s)",
             g->ifname, g->tun_name, GDOI_RULE_PREF, GDOI_TABLE);
    return 0;
}

void vpnd_gdoi_close(vpnd *d)
{
    struct vpnd_gdoi *g = d->gdoi;
    char err[256];

    if (g == NULL)
        return;
    if (g->tun_watch)
        g_source_remove(g->tun_watch);
    g->tun_watch = 0;
    if (g->rule)
        run_ip(d, err, sizeof err, (const char *[]){"rule", "del", "pref", GDOI_RULE_PREF, NULL});
    g->rule = false;
    if (g->tun_fd >= 0)
        close(g->tun_fd); /* the device and table 848's route go with it */
    if (g->raw_fd >= 0)
        close(g->raw_fd);
    g->tun_fd = g->raw_fd = -1;
}

void vpnd_gdoi_free(vpnd *d)
{
    struct vpnd_gdoi *g = d->gdoi;

    if (g == NULL)
        return;
    vpnd_gdoi_close(d);
    vpn_sig_key_del(g->key);
    if (g->plain)
        fclose(g->plain);
    g_free(g);
    d->gdoi = NULL;
}

/* ---- data plane ------------------------------------------------------------------------- */

/* Writes an IPv4 packet back to the kernel, past table 848. */
static void reinject(vpnd *d, const uint8_t *p, size_t len)
{
    struct vpnd_gdoi *g = d->gdoi;
    struct sockaddr_in to;

    memset(&to, 0, sizeof to);
    to.sin_family = AF_INET;
    memcpy(&to.sin_addr, p + 16, 4);
    if (sendto(g->raw_fd, p, len, 0, (struct sockaddr *)&to, sizeof to) != (ssize_t)len) {
        if (g->send_errors++ < 5)
            vpnd_log(d, VPN_LOG_WARN, "crypto map: send: %s", strerror(errno));
        return;
    }
    g->raw_out++;
}

static gboolean on_tun(gint fd, GIOCondition cond, gpointer user)
{
    vpnd *d = user;
    static uint8_t buf[PKT_CAP];

    (void)cond;
    for (int budget = 0; budget < 64; budget++) {
        vpn_pkt pkt;
        bool esp = false;
        ssize_t n = read(fd, buf + VPN_PKT_HEADROOM, 65535);

        if (n <= 0)
            break;
        d->gdoi->tun_in++;
        if (n < 20 || buf[VPN_PKT_HEADROOM] >> 4 != 4)
            continue; /* IPv4 only (GDOI TEK policies are IPv4 here) */
        vpn_pkt_init(&pkt, buf, sizeof buf, VPN_PKT_HEADROOM);
        pkt.len = (size_t)n;
        if (vpn_router_cryptomap_output(d->router, vpnd_now(), &pkt, &esp) == VPN_ROUTER_DROP_NONE)
            reinject(d, vpn_pkt_data(&pkt), pkt.len);
    }
    vpnd_gdoi_after(d);
    vpnd_reschedule(d);
    return G_SOURCE_CONTINUE;
}

bool vpnd_gdoi_deliver(vpnd *d, const uint8_t *data, size_t len)
{
    struct vpnd_gdoi *g = d->gdoi;

    if (g == NULL || g->tun_fd < 0 || write(g->tun_fd, data, len) != (ssize_t)len)
        return false;
    g->tun_out++;
    return true;
}

/* The router's gdoi_sent: one record of the -P pcap, IPv4 and UDP 848
 * headers made up around the view (or the datagram sent in clear). */
void vpnd_gdoi_sent(void *user, const vpn_addr *src, const vpn_addr *dst, const uint8_t *dg, size_t len,
                    const uint8_t *view, size_t view_len)
{
    vpnd *d = user;
    struct vpnd_gdoi *g = d->gdoi;
    const uint8_t *p = view ? view : dg;
    size_t n = view ? view_len : len, tot = 28 + n;
    uint8_t h[28];
    uint32_t rec[4];
    gint64 us = g_get_real_time();
    uint16_t c;

    if (g == NULL || g->plain == NULL || src->family != VPN_AF_INET || tot > 65535)
        return;
    memset(h, 0, sizeof h);
    h[0] = 0x45;
    h[2] = (uint8_t)(tot >> 8);
    h[3] = (uint8_t)tot;
    h[6] = 0x40; /* DF */
    h[8] = 64;
    h[9] = 17;
    memcpy(h + 12, src->b, 4);
    memcpy(h + 16, dst->b, 4);
    c = vpn_ip_csum(h, 20);
    h[10] = (uint8_t)(c >> 8);
    h[11] = (uint8_t)c;
    h[20] = h[22] = VPN_GDOI_PORT >> 8;
    h[21] = h[23] = VPN_GDOI_PORT & 0xff;
    h[24] = (uint8_t)((8 + n) >> 8);
    h[25] = (uint8_t)(8 + n); /* UDP checksum 0: none (RFC 768) */
    rec[0] = (uint32_t)(us / 1000000);
    rec[1] = (uint32_t)(us % 1000000);
    rec[2] = rec[3] = (uint32_t)tot;
    if (fwrite(rec, sizeof rec, 1, g->plain) != 1 || fwrite(h, sizeof h, 1, g->plain) != 1 ||
        fwrite(p, 1, n, g->plain) != n)
        vpnd_log(d, VPN_LOG_WARN, "%s: %s", d->plain_path, strerror(errno));
    fflush(g->plain);
}

/* ---- after every engine call: multicast groups and key lines ------------------------------ */

static void join(vpnd *d, int udp_fd, const vpn_addr *grp)
{
    struct vpnd_gdoi *g = d->gdoi;
    struct ip_mreqn m;
    char a[VPN_ADDR_STRLEN];

    for (size_t i = 0; i < g->n_joined; i++)
        if (vpn_addr_eq(&g->joined[i], grp))
            return;
    if (g->n_joined == sizeof g->joined / sizeof g->joined[0])
        return;
    memset(&m, 0, sizeof m);
    memcpy(&m.imr_multiaddr, grp->b, 4);
    memcpy(&m.imr_address, g->local.b, 4);
    {
        /* the crypto-map interface's index (linux/if.h, not net/if.h: the two clash) */
        struct ifreq ifr;
        memset(&ifr, 0, sizeof ifr);
        snprintf(ifr.ifr_name, IFNAMSIZ, "%.*s", IFNAMSIZ - 1, g->ifname);
        if (ioctl(udp_fd, SIOCGIFINDEX, &ifr) == 0)
            m.imr_ifindex = ifr.ifr_ifindex;
    }
    g->joined[g->n_joined++] = *grp;
    if (setsockopt(udp_fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) != 0)
        vpnd_log(d, VPN_LOG_WARN, "cannot join rekey group %s on %s: %s", vpn_addr_str(grp, a, sizeof a),
                 g->ifname, strerror(errno));
    else
        vpnd_log(d, VPN_LOG_INFO, "joined rekey group %s on %s", vpn_addr_str(grp, a, sizeof a), g->ifname);
}

void vpnd_gdoi_after(vpnd *d)
{
    vpn_addr grp[4];
    size_t n;
    int udp_fd = -1;

    if (d->gdoi == NULL)
        return;
    for (size_t i = 0; i < d->n_sock; i++)
        if (d->sock[i].port == VPN_GDOI_PORT && d->sock[i].family == AF_INET)
            udp_fd = d->sock[i].fd;
    if (udp_fd < 0)
        return;
    /* RFC 6407 5.3: the rekey groups of registered member groups */
    n = vpn_router_gdoi_rekey_groups(d->router, vpnd_now(), grp, 4);
    for (size_t i = 0; i < n && i < 4; i++)
        join(d, udp_fd, &grp[i]);
}

/* ---- control ---------------------------------------------------------------------------- */

int vpnd_gdoi_ctl(vpnd *d, int cmd, GString *out)
{
    static const struct {
        int cmd;
        vpn_router_gdoi_view view;
    } views[] = {
        {VPN_HOST_CMD_SHOW_GDOI, VPN_ROUTER_GDOI_ALL},
        {VPN_HOST_CMD_SHOW_GDOI_KS_MEMBERS, VPN_ROUTER_GDOI_KS_MEMBERS},
        {VPN_HOST_CMD_SHOW_GDOI_KS_COOP, VPN_ROUTER_GDOI_KS_COOP},
        {VPN_HOST_CMD_SHOW_GDOI_GM, VPN_ROUTER_GDOI_GM},
    };
    int rc;

    if (d->gdoi == NULL) {
        g_string_append(out, "% GET VPN is not configured (no crypto gdoi group with server local, "
                             "no interface with a crypto map)\n");
        return 1;
    }
    for (size_t i = 0; i < sizeof views / sizeof views[0]; i++) {
        if (views[i].cmd != cmd)
            continue;
        vpn_show_buf b;
        vpnd_show_begin(&b, 1 << 18);
        vpn_router_show_gdoi(d->router, vpnd_now(), views[i].view, d->gdoi->ifname, &b);
        vpnd_show_end(&b, out);
        return 0;
    }
    if (cmd == VPN_HOST_CMD_CLEAR_GDOI) {
        rc = vpn_router_gdoi_reregister(d->router, vpnd_now());
        if (rc < 0) {
            g_string_append_printf(out, "%% clear crypto gdoi: %s%s\n", vpn_strerror(rc),
                                   rc == VPN_ERR_NOTFOUND ? " (no member group here)" : "");
            return 1;
        }
        g_string_append_printf(out, "%d member group(s) registering again\n", rc);
        return 0;
    }
    if (cmd == VPN_HOST_CMD_GDOI_KS_REKEY) {
        rc = vpn_router_gdoi_ks_rekey(d->router, vpnd_now(), false);
        if (rc < 0) {
            g_string_append_printf(out, "%% crypto gdoi ks rekey: %s%s\n", vpn_strerror(rc),
                                   rc == VPN_ERR_NOTFOUND ? " (no key server group here)" : "");
            return 1;
        }
        g_string_append_printf(out, "%d group(s) rekeyed\n", rc);
        return 0;
    }
    return 1;
}

/* The crypto map's part of `show crypto ipsec sa` and of `status`. */
void vpnd_gdoi_show_ipsec(vpnd *d, GString *out)
{
    vpn_show_buf b;

    if (d->gdoi == NULL || !d->gdoi->is_gm)
        return;
    vpnd_show_begin(&b, 1 << 18);
    vpn_router_show_gdoi(d->router, vpnd_now(), VPN_ROUTER_GDOI_IPSEC_SA, d->gdoi->ifname, &b);
    vpnd_show_end(&b, out);
}

void vpnd_gdoi_status(vpnd *d, GString *out)
{
    struct vpnd_gdoi *g = d->gdoi;
    const vpn_getvpn_node *n = vpn_router_getvpn(d->router);
    const vpn_getvpn_stats *st = vpn_getvpn_node_get_stats(n);

    if (g == NULL || st == NULL)
        return;
    g_string_append_printf(out,
                           "gdoi role=%s%s%s interface=%s tun=%s encrypted=%llu decrypted=%llu clear_out=%llu "
                           "dropped_out=%llu tun_in=%llu tun_out=%llu dgrams_in=%llu dgrams_refused=%llu "
                           "dgrams_unclaimed=%llu\n",
                           g->is_ks ? "ks" : "", g->is_ks && g->is_gm ? "," : "", g->is_gm ? "gm" : "",
                           g->ifname[0] ? g->ifname : "-", g->tun_name[0] ? g->tun_name : "-",
                           (unsigned long long)st->out_encrypted, (unsigned long long)st->in_decrypted,
                           (unsigned long long)st->out_clear,
                           (unsigned long long)(st->drops[VPN_GETVPN_DROP_NO_TEK] + st->drops[VPN_GETVPN_DROP_ENCRYPT] +
                                                st->drops[VPN_GETVPN_DROP_DISCARD]),
                           (unsigned long long)g->tun_in, (unsigned long long)g->tun_out,
                           (unsigned long long)st->dgrams_in, (unsigned long long)st->dgrams_refused,
                           (unsigned long long)st->dgrams_unclaimed);
    for (size_t k = 0; k < vpn_getvpn_node_n_groups(n); k++) {
        const vpn_gdoi_gm *gm = vpn_getvpn_node_gm(n, k);
        const vpn_gdoi_ks *ks = vpn_getvpn_node_ks(n, k);
        if (gm) {
            const vpn_gdoi_gm_stats *s = vpn_gdoi_gm_get_stats(gm);
            g_string_append_printf(out,
                                   "gm group=%zu state=%s registrations=%llu rekeys=%llu rejected=%llu replays=%llu "
                                   "bad_sig=%llu malformed=%llu acks=%llu seq=%u\n",
                                   k, vpn_gdoi_gm_get_state(gm) == VPN_GDOI_GM_REGISTERED ? "registered" : "registering",
                                   (unsigned long long)s->registrations, (unsigned long long)s->rekeys,
                                   (unsigned long long)s->rekeys_rejected, (unsigned long long)s->replays,
                                   (unsigned long long)s->bad_sig, (unsigned long long)s->malformed,
                                   (unsigned long long)s->acks_sent, vpn_gdoi_gm_last_seq(gm));
        }
        if (ks) {
            const vpn_gdoi_ks_stats *s = vpn_gdoi_ks_get_stats(ks);
            g_string_append_printf(out,
                                   "ks group=%zu members=%zu registrations=%llu refused=%llu unauthorized=%llu "
                                   "rekeys=%llu acks=%llu bad_msgs=%llu seq=%u role=%s\n",
                                   k, vpn_gdoi_ks_members(ks), (unsigned long long)s->registrations,
                                   (unsigned long long)s->refused, (unsigned long long)s->refused_unauthorized,
                                   (unsigned long long)s->rekeys, (unsigned long long)s->acks,
                                   (unsigned long long)s->bad_msgs, vpn_gdoi_ks_seq(ks),
                                   vpn_gdoi_ks_coop_role(ks) == VPN_GDOI_COOP_PRIMARY     ? "primary"
                                   : vpn_gdoi_ks_coop_role(ks) == VPN_GDOI_COOP_SECONDARY ? "secondary"
                                                                                          : "election");
        }
    }
}
