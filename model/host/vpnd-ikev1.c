/*
 * IKEv1 phase 1 in vpnd: Main Mode (RFC 2409 5) configured by `crypto
 * isakmp policy` and `crypto isakmp key`. Datagrams on UDP 500 whose
 * ISAKMP header carries version 1.0 (RFC 2408 3.1) come here instead of
 * the IKEv2 engine.
 *
 * Phase 2 is not served: in this project phase-2 keys come from GDOI
 * (GET VPN), so a Quick Mode request under an established SA is answered
 * with an encrypted NO_PROPOSAL_CHOSEN notify (RFC 2408 3.14), which lets
 * the peer fail it at once instead of retrying. Phase-1 SAs that are gone
 * stay listed as MM_NO_STATE / DELETED for a while, as IOS lists them.
 */
#define _GNU_SOURCE
#include "vpnd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/vpn-err.h"
#include "ikev1/ikev1-conf.h"
#include "ipsec/natt.h"
#include "isakmp/isakmp-const.h"
#include "isakmp/isakmp-msg.h"
#include "show/show-isakmp.h"

#define P1_MAX 64                       /* phase-1 SAs at once (half-open included) */
#define P1_LINGER_NS 30000000000ull     /* a dead SA stays in the view this long */
#define FIRST_CONN_ID 1001u             /* IOS numbers connections from 1001 */

typedef struct vpnd_p1 {
    vpn_ikev1_sa *sa;
    vpn_addr local, remote;
    uint16_t rport;
    uint32_t conn_id;
    bool initiator;
    bool keyed;        /* key line written */
    bool up;           /* "phase 1 up" logged */
    uint64_t dead_at;  /* 0: alive */
} vpnd_p1;

static void p1_free(gpointer p)
{
    vpnd_p1 *s = p;
    vpn_ikev1_sa_del(s->sa);
    g_free(s);
}

static GPtrArray *list(vpnd *d)
{
    if (d->p1 == NULL)
        d->p1 = g_ptr_array_new_with_free_func(p1_free);
    return d->p1;
}

static void on_send(void *user, vpn_ikev1_sa *sa, const uint8_t *dg, size_t len, const uint8_t *view,
                    size_t view_len)
{
    vpnd *d = user;
    vpnd_p1 *s = vpn_ikev1_sa_get_user(sa);
    vpn_ikev2_dgram out;

    (void)view;
    (void)view_len;
    if (s == NULL)
        return;
    /* vpnd_ike_send is plain UDP from a chosen local address and port. */
    memset(&out, 0, sizeof out);
    out.local.addr = s->local;
    out.local.port = VPN_IKE_PORT;
    out.remote.addr = s->remote;
    out.remote.port = s->rport;
    out.data = dg;
    out.len = len;
    vpnd_ike_send(d, &out);
}

static void write_key(vpnd *d, vpnd_p1 *s)
{
    char line[160];

    if (s->keyed || d->key_dir == NULL || vpn_ikev1_sa_wireshark_line(s->sa, line, sizeof line) < 0)
        return;
    if (d->ikev1_keys == NULL) {
        gchar *path = g_build_filename(d->key_dir, "ikev1_decryption_table", NULL);
        d->ikev1_keys = fopen(path, "a");
        if (d->ikev1_keys == NULL)
            vpnd_log(d, VPN_LOG_WARN, "key file %s: %s", path, strerror(errno));
        g_free(path);
        if (d->ikev1_keys == NULL)
            return;
    }
    fprintf(d->ikev1_keys, "%s\n", line);
    fflush(d->ikev1_keys);
    OPENSSL_cleanse(line, sizeof line);
    s->keyed = true;
}

/* Notes what the SA became after the engine ran. */
static void after(vpnd *d, vpnd_p1 *s, uint64_t now)
{
    vpn_ikev1_state st = vpn_ikev1_sa_state(s->sa);
    char a[VPN_ADDR_STRLEN];

    /* The key exists from message 4 on: write it then, so that a failed
     * authentication still decrypts in Wireshark. */
    write_key(d, s);
    if (st == VPN_IKEV1_ST_ESTABLISHED && !s->up) {
        s->up = true;
        vpnd_log(d, VPN_LOG_INFO, "ISAKMP SA %u with %s is up (QM_IDLE)", s->conn_id,
                 vpn_addr_str(&s->remote, a, sizeof a));
    }
    if (st == VPN_IKEV1_ST_DEAD && s->dead_at == 0) {
        s->dead_at = now ? now : 1;
        vpnd_log(d, VPN_LOG_INFO, "ISAKMP SA %u with %s is gone%s", s->conn_id,
                 vpn_addr_str(&s->remote, a, sizeof a), s->up ? "" : " (never established)");
    }
}

static vpnd_p1 *p1_new(vpnd *d, const vpn_addr *local, const vpn_addr *remote, uint16_t rport,
                       bool initiator, char *msg, size_t msglen)
{
    vpn_ikev1_suite suites[VPN_IKEV1_SUITES_MAX];
    vpn_ikev1_cfg cfg;
    vpn_ikev1_ctx ctx;
    vpnd_p1 *s;
    size_t alive = 0;
    char a[VPN_ADDR_STRLEN];
    int rc;

    for (guint i = 0; i < list(d)->len; i++)
        alive += ((vpnd_p1 *)g_ptr_array_index(d->p1, i))->dead_at == 0;
    if (alive >= P1_MAX) {
        snprintf(msg, msglen, "too many ISAKMP SAs (%d)", P1_MAX);
        return NULL;
    }
    memset(&cfg, 0, sizeof cfg);
    rc = vpn_ikev1_cfg_from_conf(d->conf, local, remote, suites, &cfg);
    if (rc != 0) {
        snprintf(msg, msglen, "%s: %s", vpn_addr_str(remote, a, sizeof a),
                 rc == VPN_ERR_NOTFOUND ? "no crypto isakmp policy is configured"
                                        : "no crypto isakmp key covers this peer");
        return NULL;
    }
    memset(&ctx, 0, sizeof ctx);
    ctx.rng = &d->rng;
    ctx.log.fn = vpnd_log_cb;
    ctx.log.user = d;
    ctx.log.max = d->level;
    ctx.send = on_send;
    ctx.user = d;
    s = g_new0(vpnd_p1, 1);
    if ((rc = vpn_ikev1_sa_new(&s->sa, &ctx, &cfg, initiator)) != 0) {
        snprintf(msg, msglen, "IKEv1 SA: %s", vpn_strerror(rc));
        g_free(s);
        return NULL;
    }
    vpn_ikev1_sa_set_user(s->sa, s);
    s->local = *local;
    s->remote = *remote;
    s->rport = rport;
    s->initiator = initiator;
    s->conn_id = d->p1_next_conn ? d->p1_next_conn : FIRST_CONN_ID;
    d->p1_next_conn = s->conn_id + 1;
    g_ptr_array_add(d->p1, s);
    return s;
}

void vpnd_ikev1_input(vpnd *d, const vpn_addr *local, const vpn_addr *remote, uint16_t rport,
                      const uint8_t *dg, size_t len)
{
    static const uint8_t zero[8];
    uint64_t now = vpnd_now();
    vpnd_p1 *s = NULL;
    vpn_isakmp_hdr h;
    char msg[256], a[VPN_ADDR_STRLEN];
    uint8_t exch;
    int rc;

    if ((rc = vpn_isakmp_hdr_parse(dg, len, &h)) != 0) {
        (void)rc;
        d->ikev1_dropped++;
        return;
    }
    exch = h.exchange;
    for (guint i = 0; i < list(d)->len; i++) {
        vpnd_p1 *c = g_ptr_array_index(d->p1, i);
        if (c->dead_at == 0 && vpn_addr_eq(&c->remote, remote) &&
            memcmp(vpn_ikev1_sa_icookie(c->sa), h.icookie, 8) == 0) {
            s = c;
            break;
        }
    }
    if (s == NULL) {
        /* RFC 2408 3.1: a new exchange has a zero responder cookie. */
        if (memcmp(h.rcookie, zero, 8) != 0 || exch != VPN_ISAKMP_EXCH_MAIN) {
            vpnd_log(d, VPN_LOG_DEBUG, "IKEv1 exchange %u from %s for no SA of ours", exch,
                     vpn_addr_str(remote, a, sizeof a));
            d->ikev1_dropped++;
            return;
        }
        if ((s = p1_new(d, local, remote, rport, false, msg, sizeof msg)) == NULL) {
            vpnd_log(d, VPN_LOG_WARN, "IKEv1 Main Mode refused: %s", msg);
            return;
        }
    }
    s->rport = rport; /* follow the peer's port, as its replies must */
    if (exch == VPN_ISAKMP_EXCH_QUICK && vpn_ikev1_sa_state(s->sa) == VPN_IKEV1_ST_ESTABLISHED) {
        vpnd_log(d, VPN_LOG_INFO,
                 "Quick Mode from %s refused: phase 2 is not served (keys come from GDOI); "
                 "NO_PROPOSAL_CHOSEN sent", vpn_addr_str(remote, a, sizeof a));
        vpn_ikev1_sa_notify(s->sa, VPN_ISAKMP_N_NO_PROPOSAL_CHOSEN, now);
        return;
    }
    rc = vpn_ikev1_sa_input(s->sa, dg, len, now);
    if (rc != 0 && rc != VPN_ERR_STATE)
        vpnd_log(d, VPN_LOG_WARN, "IKEv1 from %s: %s", vpn_addr_str(remote, a, sizeof a), vpn_strerror(rc));
    after(d, s, now);
}

uint64_t vpnd_ikev1_deadline(const vpnd *d)
{
    uint64_t next = UINT64_MAX;

    for (guint i = 0; d->p1 && i < d->p1->len; i++) {
        const vpnd_p1 *s = g_ptr_array_index(d->p1, i);
        uint64_t t = s->dead_at ? s->dead_at + P1_LINGER_NS : vpn_ikev1_sa_next_deadline(s->sa);
        if (t < next)
            next = t;
    }
    return next;
}

void vpnd_ikev1_tick(vpnd *d, uint64_t now)
{
    for (guint i = 0; d->p1 && i < d->p1->len;) {
        vpnd_p1 *s = g_ptr_array_index(d->p1, i);
        if (s->dead_at && now >= s->dead_at + P1_LINGER_NS) {
            g_ptr_array_remove_index(d->p1, i);
            continue;
        }
        if (!s->dead_at && vpn_ikev1_sa_next_deadline(s->sa) <= now) {
            vpn_ikev1_sa_timeout(s->sa, now);
            after(d, s, now);
        }
        i++;
    }
}

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
    vpnd_p1 *s;
    char msg[256];
    int rc;

    if (vpn_addr_parse(&peer, peer_text) != 0) {
        g_string_append_printf(out, "%% '%s' is not an IP address\n", peer_text);
        return 1;
    }
    if (route_source(&peer, &local) != 0) {
        g_string_append_printf(out, "%% no route to %s: %s\n", peer_text, strerror(errno));
        return 1;
    }
    if ((s = p1_new(d, &local, &peer, VPN_IKE_PORT, true, msg, sizeof msg)) == NULL) {
        g_string_append_printf(out, "%% %s\n", msg);
        return 1;
    }
    if ((rc = vpn_ikev1_sa_start(s->sa, vpnd_now())) != 0) {
        g_string_append_printf(out, "%% Main Mode to %s: %s\n", peer_text, vpn_strerror(rc));
        g_ptr_array_remove(d->p1, s);
        return 1;
    }
    g_string_append_printf(out, "ISAKMP SA %u: Main Mode to %s started\n", s->conn_id, peer_text);
    return 0;
}

int vpnd_ikev1_clear(vpnd *d, bool has_id, uint32_t conn_id, GString *out)
{
    uint64_t now = vpnd_now();
    unsigned n = 0;

    for (guint i = 0; d->p1 && i < d->p1->len; i++) {
        vpnd_p1 *s = g_ptr_array_index(d->p1, i);
        if (s->dead_at || (has_id && s->conn_id != conn_id))
            continue;
        /* An established SA tells its peer (RFC 2408 3.15); one still
         * negotiating is just dropped. */
        if (vpn_ikev1_sa_delete(s->sa, now) != 0)
            s->dead_at = now ? now : 1;
        after(d, s, now);
        g_string_append_printf(out, "ISAKMP SA %u deleted\n", s->conn_id);
        n++;
    }
    if (has_id && n == 0) {
        g_string_append_printf(out, "%% no ISAKMP SA with conn-id %u\n", conn_id);
        return 1;
    }
    return 0;
}

void vpnd_ikev1_show_sa(vpnd *d, GString *out)
{
    guint n = d->p1 ? d->p1->len : 0;
    vpn_show_isakmp_row *rows = g_new0(vpn_show_isakmp_row, n ? n : 1);
    vpn_show_buf b;

    for (guint i = 0; i < n; i++) {
        const vpnd_p1 *s = g_ptr_array_index(d->p1, i);
        /* Without its SA a row prints as MM_NO_STATE, DELETED. */
        rows[i].sa = s->dead_at ? NULL : s->sa;
        rows[i].local = s->local;
        rows[i].remote = s->remote;
        rows[i].conn_id = s->conn_id;
        rows[i].initiator = s->initiator;
    }
    vpnd_show_begin(&b, VPN_SHOW_ISAKMP_SA_CAP(n));
    vpn_show_isakmp_sa(rows, n, &b);
    vpnd_show_end(&b, out);
    g_free(rows);
}

void vpnd_ikev1_show_policy(vpnd *d, GString *out)
{
    vpn_show_buf b;

    /* a suite prints in under 400 characters */
    vpnd_show_begin(&b, 512 + d->conf->n_isakmp_policy * 512);
    vpn_show_isakmp_policy(d->conf, &b);
    vpnd_show_end(&b, out);
}

void vpnd_ikev1_free(vpnd *d)
{
    if (d->p1)
        g_ptr_array_free(d->p1, TRUE);
    d->p1 = NULL;
    if (d->ikev1_keys)
        fclose(d->ikev1_keys);
    d->ikev1_keys = NULL;
}
