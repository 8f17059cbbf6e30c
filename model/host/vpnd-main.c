/*
 * vpnd: options, start-up and the main loop. Start-up is all or nothing:
 * the configuration is parsed and translated, certificates loaded, the
 * engine created, sockets bound, TUN devices and routes set up, and only
 * then does the daemon detach (unless -n) and serve. Any failure undoes
 * what was done and exits non-zero with one line saying why:
 *   1  a run-time failure (sockets, TUN, routes, files)
 *   2  the configuration (an unknown or malformed line, or what vpnd
 *      cannot do, such as a multipoint GRE tunnel)
 *   64 bad command-line usage
 */
#define _GNU_SOURCE
#include "vpnd.h"

#include <errno.h>
#include <glib-unix.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/vpn-err.h"
#include "host-ctl.h"

#define EXIT_RUNTIME 1
#define EXIT_CONFIG 2
#define EXIT_USAGE 64

uint64_t vpnd_now(void)
{
    return (uint64_t)g_get_monotonic_time() * 1000u;
}

static void log_line(vpnd *d, vpn_log_level level, const char *who, const char *msg)
{
    FILE *f = d->logf ? d->logf : stderr;
    struct timespec ts;
    struct tm tm;
    char when[32];

    if (level > d->level)
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    localtime_r(&ts.tv_sec, &tm);
    strftime(when, sizeof when, "%H:%M:%S", &tm);
    fprintf(f, "%s.%03ld %-5s %s: %s\n", when, ts.tv_nsec / 1000000, vpn_log_level_name(level), who, msg);
    fflush(f);
}

void vpnd_log(vpnd *d, vpn_log_level level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    if (level > d->level)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_line(d, level, "vpnd", msg);
}

void vpnd_log_cb(void *user, vpn_log_level level, const char *engine, const char *msg)
{
    log_line(user, level, engine ? engine : "core", msg);
}

static const char usage_text[] =
    "usage: vpnd -c CONFIG [-s CTLSOCK] [-k KEYDIR] [-l LEVEL] [-L LOGFILE] [-t TUN] [-p PIDFILE]\n"
    "            [-r RSAKEY] [-g GDOITUN] [-P PCAP] [-n]\n"
    "\n"
    "IKEv2 (FlexVPN), ESP and GET VPN (GDOI) on real sockets: the testbed peer of the ns-3\n"
    "vpn module.\n"
    "\n"
    "  -c CONFIG   IOS-style configuration (crypto ikev2 proposal/policy/keyring/profile,\n"
    "              crypto ipsec transform-set/profile, crypto pki trustpoint, interface TunnelN\n"
    "              with tunnel mode ipsec ipv4, ip route P M TunnelN); required\n"
    "  -s CTLSOCK  control socket for vpnctl (default /run/vpnd.ctl)\n"
    "  -k KEYDIR   write Wireshark key files KEYDIR/ikev2_decryption_table and KEYDIR/esp_sa\n"
    "              for every SA (point XDG_CONFIG_HOME at KEYDIR's parent, KEYDIR named wireshark)\n"
    "              and, for SAs Wireshark cannot decrypt (ChaCha20-Poly1305), their inner\n"
    "              packets to KEYDIR/esp.plain.pcap and their IKE messages, decrypted, to\n"
    "              KEYDIR/ike.plain.pcap instead of a key line\n"
    "  -l LEVEL    log level: error, warn, info (default), debug (or 0-3)\n"
    "  -L LOGFILE  log to LOGFILE (appended) instead of standard error (a detached\n"
    "              daemon without -L logs nothing)\n"
    "  -t TUN      TUN device name (one tunnel: TUN; several: TUN<N> for TunnelN;\n"
    "              default tunnel<N>)\n"
    "  -p PIDFILE  write the daemon's process id to PIDFILE\n"
    "  -r RSAKEY   GET VPN key server: the rekey RSA key pair (PEM), generated into RSAKEY\n"
    "              if it does not exist (COOP key servers share one file)\n"
    "  -g GDOITUN  GET VPN member: the crypto map's TUN device (default gdoi0)\n"
    "  -P PCAP     GET VPN: write the GDOI datagrams this daemon sends to PCAP, decrypted\n"
    "  -n          stay in the foreground (default: detach once everything is set up)\n"
    "  -h          this help\n"
    "\n"
    "Needs root (UDP 500/4500, raw ESP, TUN devices, routes). Exit status: 0 stopped by\n"
    "SIGTERM/SIGINT, 1 run-time failure, 2 configuration error (the line is named), 64 usage.\n"
    "\n"
    "Control commands (vpnctl [-s CTLSOCK] COMMAND...):\n";

static int parse_level(const char *s, vpn_log_level *out)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0 || (s[0] == '0' + i && s[1] == '\0')) {
            *out = (vpn_log_level)i;
            return 0;
        }
    return -1;
}

static gboolean on_signal(gpointer user)
{
    vpnd *d = user;
    vpnd_log(d, VPN_LOG_INFO, "stopping");
    g_main_loop_quit(d->loop);
    return G_SOURCE_CONTINUE;
}

static int rng_fill_system(void *ctx, uint8_t *out, size_t len);
static int rng_fill_system(void *ctx, uint8_t *out, size_t len)
{
    vpn_rng r;
    (void)ctx;
    vpn_rng_init_system(&r);
    return vpn_rng_bytes(&r, out, len);
}

/* Reads, parses, translates. 0 or EXIT_CONFIG / EXIT_RUNTIME with err set. */
static int load_config(vpnd *d, char *err, size_t errlen)
{
    gchar *text = NULL;
    gsize len = 0;
    GError *ge = NULL;
    vpn_conf_error ce;
    int rc;

    if (!g_file_get_contents(d->config_path, &text, &len, &ge)) {
        snprintf(err, errlen, "%s", ge->message);
        g_error_free(ge);
        return EXIT_RUNTIME;
    }
    memset(&ce, 0, sizeof ce);
    rc = vpn_conf_parse(text, len, &d->conf, &ce);
    OPENSSL_cleanse(text, len);
    g_free(text);
    if (rc != 0) {
        if (ce.line > 0)
            snprintf(err, errlen, "%s line %d: %s", d->config_path, ce.line, ce.msg);
        else
            snprintf(err, errlen, "%s: %s", d->config_path, ce.msg[0] ? ce.msg : vpn_strerror(rc));
        return EXIT_CONFIG;
    }
    {
        char perr[300];
        if (vpn_host_plan_build(d->conf, &d->plan, perr, sizeof perr) != 0) {
            snprintf(err, errlen, "%s %s", d->config_path, perr);
            return EXIT_CONFIG;
        }
    }
    return 0;
}

static int start_engine(vpnd *d, char *err, size_t errlen)
{
    vpn_router_params p;
    int rc;

    vpn_router_params_init(&p);
    p.conf = d->conf;
    p.rng = d->rng;
    p.log.fn = vpnd_log_cb;
    p.log.user = d;
    p.log.max = d->level;
    p.name = d->conf->hostname[0] ? d->conf->hostname : "vpnd";
    p.send_udp = vpnd_ike_send;
    p.send_esp = vpnd_esp_send;
    p.deliver = vpnd_deliver;
    p.event = vpnd_router_event;
    p.gdoi_sent = vpnd_gdoi_sent;
    p.esp_plain = d->key_dir ? vpnd_esp_plain : NULL;
    p.ike_plain = d->key_dir ? vpnd_ike_plain : NULL;
    p.key_lines = d->key_dir != NULL; /* KEY_LINE events: vpnd_keys_line */
    p.user = d;
    /* The engine's clock is monotonic; certificates need Unix time. */
    p.unix_time_offset_s = (int64_t)time(NULL) - (int64_t)(vpnd_now() / 1000000000u);
    if (vpnd_radius_open(d, err, errlen) != 0)
        return EXIT_RUNTIME;
    p.eap = vpnd_radius_backend(d);
    if ((rc = vpn_router_new(&d->router, &p)) != 0) {
        snprintf(err, errlen, "router: %s", vpn_strerror(rc));
        return EXIT_RUNTIME;
    }
    if (vpnd_pki_load(d, err, errlen) != 0)
        return EXIT_CONFIG;
    /* Every tunnel answers its peer's initiation (and rekeys) from the
     * start, and brings IKE up when traffic needs it (vpnctl initiate does
     * it at once). Tunnel ids are plan indexes. */
    for (size_t i = 0; i < d->plan.n_tunnel; i++) {
        const vpn_host_tunnel *t = &d->plan.tunnel[i];
        vpn_router_tunnel_config tc;
        uint32_t id;
        memset(&tc, 0, sizeof tc);
        tc.name = t->name;
        /* GRE/IPsec: the router core's GRE (model/core/gre) wraps what the
         * kernel routes into the TUN, the same path ns-3's tunnels take. */
        tc.mode = t->access ? VPN_ROUTER_TUNNEL_ACCESS : t->gre ? VPN_ROUTER_TUNNEL_GRE_IPSEC : VPN_ROUTER_TUNNEL_VTI;
        tc.has_key = t->has_key;
        tc.key = t->key;
        tc.src = t->src;
        tc.dst = t->dst;
        tc.ipsec_profile = t->ipsec_profile;
        tc.initiate = !t->access; /* a remote-access hub only answers */
        if ((rc = vpn_router_tunnel_add(d->router, &tc, &id)) != 0 || id != i) {
            snprintf(err, errlen, "%s line %d: %s: ipsec profile %s: %s", d->config_path, t->line, t->name,
                     t->ipsec_profile, vpn_strerror(rc));
            return EXIT_CONFIG;
        }
    }
    if ((rc = vpnd_gdoi_setup(d, err, errlen)) != 0)
        return rc > 0 ? EXIT_CONFIG : EXIT_RUNTIME;
    vpn_router_start(d->router, vpnd_now());
    return 0;
}

static void teardown(vpnd *d)
{
    vpnd_ctl_close(d);
    vpnd_net_close(d);
    vpnd_dp_close(d);
    vpnd_gdoi_free(d);
    vpnd_radius_close(d);
    vpn_router_del(d->router);
    d->router = NULL;
    vpnd_pki_free(d);
    vpnd_keys_close(d);
    vpn_conf_del(d->conf);
    d->conf = NULL;
    if (d->pid_path)
        unlink(d->pid_path);
}

static int write_pid(const char *path, pid_t pid, char *err, size_t errlen)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        snprintf(err, errlen, "pid file %s: %s", path, strerror(errno));
        return -1;
    }
    fprintf(f, "%d\n", (int)pid);
    fclose(f);
    return 0;
}

int main(int argc, char **argv)
{
    static vpnd d;
    char err[600];
    int opt, rc;

    memset(&d, 0, sizeof d);
    d.ctl_path = "/run/vpnd.ctl";
    d.level = VPN_LOG_INFO;
    d.ctl_fd = -1;
    d.timer_at = UINT64_MAX;
    while ((opt = getopt(argc, argv, "c:s:k:l:L:t:p:r:g:P:nh")) != -1) {
        switch (opt) {
        case 'c': d.config_path = optarg; break;
        case 's': d.ctl_path = optarg; break;
        case 'k': d.key_dir = optarg; break;
        case 'l':
            if (parse_level(optarg, &d.level) != 0) {
                fprintf(stderr, "vpnd: -l takes error, warn, info or debug, not '%s'\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'L': d.log_path = optarg; break;
        case 't':
            if (strlen(optarg) == 0 || strlen(optarg) > 12) {
                fprintf(stderr, "vpnd: -t takes a device name of 1 to 12 characters\n");
                return EXIT_USAGE;
            }
            d.tun_name = optarg;
            break;
        case 'p': d.pid_path = optarg; break;
        case 'r': d.rsa_path = optarg; break;
        case 'P': d.plain_path = optarg; break;
        case 'g':
            if (strlen(optarg) == 0 || strlen(optarg) > 15) {
                fprintf(stderr, "vpnd: -g takes a device name of 1 to 15 characters\n");
                return EXIT_USAGE;
            }
            d.gdoi_tun = optarg;
            break;
        case 'n': d.foreground = true; break;
        case 'h':
            fputs(usage_text, stdout);
            fputs(vpn_host_ctl_help(), stdout);
            return 0;
        default:
            fputs(usage_text, stderr);
            return EXIT_USAGE;
        }
    }
    if (optind != argc || d.config_path == NULL) {
        fprintf(stderr, "vpnd: %s\n", d.config_path ? "unexpected arguments" : "-c CONFIG is required");
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    if (d.log_path && (d.logf = fopen(d.log_path, "a")) == NULL) {
        fprintf(stderr, "vpnd: log file %s: %s\n", d.log_path, strerror(errno));
        return EXIT_RUNTIME;
    }
    d.rng.fill = rng_fill_system;
    d.started_us = g_get_monotonic_time();
    signal(SIGPIPE, SIG_IGN);

    err[0] = '\0';
    if ((rc = load_config(&d, err, sizeof err)) == 0 && (rc = start_engine(&d, err, sizeof err)) == 0) {
        rc = EXIT_RUNTIME;
        if (vpnd_keys_open(&d, err, sizeof err) == 0 && vpnd_net_open(&d, err, sizeof err) == 0 &&
            vpnd_dp_open(&d, err, sizeof err) == 0 && vpnd_ctl_open(&d, err, sizeof err) == 0)
            rc = 0;
    }
    if (rc != 0) {
        fprintf(stderr, "vpnd: %s\n", err);
        if (d.logf)
            vpnd_log(&d, VPN_LOG_ERROR, "%s", err);
        teardown(&d);
        return rc;
    }
    if (!d.foreground) {
        pid_t pid = fork();
        if (pid < 0) {
            fprintf(stderr, "vpnd: fork: %s\n", strerror(errno));
            teardown(&d);
            return EXIT_RUNTIME;
        }
        if (pid > 0) {
            /* The parent reports the child's pid only once it serves. */
            if (d.pid_path && write_pid(d.pid_path, pid, err, sizeof err) != 0)
                fprintf(stderr, "vpnd: %s\n", err);
            _exit(0);
        }
        setsid();
        if (freopen("/dev/null", "r", stdin) == NULL || freopen("/dev/null", "w", stdout) == NULL ||
            (d.logf == NULL && freopen("/dev/null", "w", stderr) == NULL))
            return EXIT_RUNTIME;
    } else if (d.pid_path && write_pid(d.pid_path, getpid(), err, sizeof err) != 0) {
        fprintf(stderr, "vpnd: %s\n", err);
        teardown(&d);
        return EXIT_RUNTIME;
    }
    vpnd_log(&d, VPN_LOG_INFO, "running: %zu tunnel(s)%s, control socket %s%s%s", d.n_tun,
             d.gdoi ? ", GET VPN" : "", d.ctl_path, d.key_dir ? ", key files in " : "", d.key_dir ? d.key_dir : "");
    d.loop = g_main_loop_new(NULL, FALSE);
    g_unix_signal_add(SIGTERM, on_signal, &d);
    g_unix_signal_add(SIGINT, on_signal, &d);
    vpnd_reschedule(&d);
    g_main_loop_run(d.loop);
    /* Tell peers we are going (best effort), then undo everything. */
    for (size_t i = vpn_ikev2_sa_count(vpn_router_ikev2(d.router)); i > 0; i--) {
        vpn_ikev2_sa_info info;
        if (vpn_ikev2_sa_get(vpn_router_ikev2(d.router), i - 1, &info) == 0 &&
            info.state != VPN_IKEV2_SA_CONNECTING)
            vpn_router_ike_delete(d.router, vpnd_now(), info.id);
    }
    g_main_loop_unref(d.loop);
    teardown(&d);
    if (d.logf)
        fclose(d.logf);
    return 0;
}
