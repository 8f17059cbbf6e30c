/*
 * The router's IKEv1 phase-1 table (router-ikev1.h).
 */
#include "router/router-ikev1.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "ikev1/ikev1-conf.h"
#include "ikev1/ikev1.h"
#include "ipsec/natt.h"
#include "isakmp/isakmp-const.h"
#include "isakmp/isakmp-msg.h"
#include "show/show-isakmp.h"

typedef struct rt_p1 {
    vpn_ikev1_sa *sa;
    vpn_addr local, remote;
    uint16_t rport;
    uint32_t conn_id;
    bool initiator;
    bool keyed;        /* key line emitted */
    bool up;           /* "is up" logged */
    uint64_t dead_at;  /* 0: alive */
} rt_p1;

struct rt_ikev1 {
    rt_ikev1_params p;
    rt_p1 **sa;        /* in creation order (the view's order) */
    size_t n, cap;
    uint32_t next_conn;
};

#define LOG(t, lvl, ...) vpn_log_emit(&(t)->p.log, (lvl), (t)->p.name, __VA_ARGS__)

static void on_send(void *user, vpn_ikev1_sa *sa, const uint8_t *dg, size_t len, const uint8_t *view,
                    size_t view_len)
{
    rt_ikev1 *t = user;
    rt_p1 *s = vpn_ikev1_sa_get_user(sa);
    vpn_ikev2_dgram out;

    (void)view;
    (void)view_len;
    if (s == NULL)
        return;
    memset(&out, 0, sizeof out);
    out.local.addr = s->local;
    out.local.port = VPN_IKE_PORT;
    out.remote.addr = s->remote;
    out.remote.port = s->rport;
    out.data = dg;
    out.len = len;
    t->p.send(t->p.user, &out);
}

int rt_ikev1_new(rt_ikev1 **out, const rt_ikev1_params *p)
{
    rt_ikev1 *t;

    if (out == NULL || p == NULL || p->conf == NULL || p->rng == NULL || p->send == NULL)
        return VPN_ERR_INVAL;
    if ((t = calloc(1, sizeof *t)) == NULL)
        return VPN_ERR_NOMEM;
    t->p = *p;
    t->next_conn = RT_IKEV1_FIRST_CONN_ID;
    *out = t;
    return 0;
}

static void p1_free(rt_p1 *s)
{
    vpn_ikev1_sa_del(s->sa); /* wipes its keys */
    free(s);
}

void rt_ikev1_del(rt_ikev1 *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n; i++)
        p1_free(t->sa[i]);
    free(t->sa);
    free(t);
}

/* Notes what the SA became after the engine ran. */
static void after(rt_ikev1 *t, rt_p1 *s, uint64_t now)
{
    vpn_ikev1_state st = vpn_ikev1_sa_state(s->sa);
    char a[VPN_ADDR_STRLEN];

    /* The key exists from message 4 on: export it then, so that a failed
     * authentication still decrypts in Wireshark. */
    if (!s->keyed && t->p.key_line) {
        char line[160];
        if (vpn_ikev1_sa_wireshark_line(s->sa, line, sizeof line) > 0) {
            t->p.key_line(t->p.user, line);
            s->keyed = true;
        }
        OPENSSL_cleanse(line, sizeof line);
    }
    if (st == VPN_IKEV1_ST_ESTABLISHED && !s->up) {
        s->up = true;
        LOG(t, VPN_LOG_INFO, "ISAKMP SA %u with %s is up (QM_IDLE)", s->conn_id,
            vpn_addr_str(&s->remote, a, sizeof a));
    }
    if (st == VPN_IKEV1_ST_DEAD && s->dead_at == 0) {
        s->dead_at = now ? now : 1;
        LOG(t, VPN_LOG_INFO, "ISAKMP SA %u with %s is gone%s", s->conn_id, vpn_addr_str(&s->remote, a, sizeof a),
            s->up ? "" : " (never established)");
    }
}

static void p1_remove(rt_ikev1 *t, size_t i)
{
    p1_free(t->sa[i]);
    memmove(&t->sa[i], &t->sa[i + 1], (t->n - i - 1) * sizeof *t->sa);
    t->n--;
}

static int p1_new(rt_ikev1 *t, const vpn_addr *local, const vpn_addr *remote, uint16_t rport, bool initiator,
                  rt_p1 **out)
{
    vpn_ikev1_suite suites[VPN_IKEV1_SUITES_MAX];
    vpn_ikev1_cfg cfg;
    vpn_ikev1_ctx ctx;
    rt_p1 *s;
    size_t alive = 0;
    int rc;

    for (size_t i = 0; i < t->n; i++)
        alive += t->sa[i]->dead_at == 0;
    if (alive >= RT_IKEV1_MAX)
        return VPN_ERR_LIMIT;
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 8;
        rt_p1 **grown = realloc(t->sa, cap * sizeof *grown);
        if (grown == NULL)
            return VPN_ERR_NOMEM;
        t->sa = grown;
        t->cap = cap;
    }
    memset(&cfg, 0, sizeof cfg);
    if ((rc = vpn_ikev1_cfg_from_conf(t->p.conf, local, remote, suites, &cfg)) != 0)
        return rc;
    memset(&ctx, 0, sizeof ctx);
    ctx.rng = t->p.rng;
    ctx.log = t->p.log;
    ctx.send = on_send;
    ctx.user = t;
    if ((s = calloc(1, sizeof *s)) == NULL)
        return VPN_ERR_NOMEM;
    if ((rc = vpn_ikev1_sa_new(&s->sa, &ctx, &cfg, initiator)) != 0) {
        free(s);
        return rc;
    }
    vpn_ikev1_sa_set_user(s->sa, s);
    s->local = *local;
    s->remote = *remote;
    s->rport = rport;
    s->initiator = initiator;
    s->conn_id = t->next_conn++;
    t->sa[t->n++] = s;
    *out = s;
    return 0;
}

int rt_ikev1_input(rt_ikev1 *t, uint64_t now, const vpn_ikev2_endpoint *local, const vpn_ikev2_endpoint *remote,
                   const uint8_t *dg, size_t len)
{
    static const uint8_t zero[VPN_ISAKMP_COOKIE_LEN];
    rt_p1 *s = NULL;
    bool fresh = false;
    vpn_isakmp_hdr h;
    char a[VPN_ADDR_STRLEN];
    int rc;

    if (t == NULL || local == NULL || remote == NULL || dg == NULL)
        return VPN_ERR_INVAL;
    /* RFC 2408 3.1 */
    if (vpn_isakmp_hdr_parse(dg, len, &h) != 0)
        return VPN_ERR_MALFORMED;
    for (size_t i = 0; i < t->n; i++) {
        rt_p1 *c = t->sa[i];
        if (c->dead_at == 0 && vpn_addr_eq(&c->remote, &remote->addr) &&
            memcmp(vpn_ikev1_sa_icookie(c->sa), h.icookie, VPN_ISAKMP_COOKIE_LEN) == 0) {
            s = c;
            break;
        }
    }
    if (s == NULL) {
        /* RFC 2408 3.1: a new exchange has a zero responder cookie. */
        if (memcmp(h.rcookie, zero, sizeof zero) != 0 || h.exchange != VPN_ISAKMP_EXCH_MAIN) {
            LOG(t, VPN_LOG_DEBUG, "IKEv1 exchange %u from %s for no SA of ours", h.exchange,
                vpn_addr_str(&remote->addr, a, sizeof a));
            return VPN_ERR_NOTFOUND;
        }
        if ((rc = p1_new(t, &local->addr, &remote->addr, remote->port, false, &s)) != 0) {
            LOG(t, VPN_LOG_WARN, "IKEv1 Main Mode from %s refused: %s", vpn_addr_str(&remote->addr, a, sizeof a),
                rc == VPN_ERR_LIMIT      ? "too many ISAKMP SAs"
                : rc == VPN_ERR_NOTFOUND ? "no crypto isakmp policy is configured"
                : rc == VPN_ERR_AUTH     ? "no crypto isakmp key covers this peer"
                                         : vpn_strerror(rc));
            return rc;
        }
        fresh = true;
    }
    s->rport = remote->port; /* follow the peer's port, as its replies must */
    if (h.exchange == VPN_ISAKMP_EXCH_QUICK && vpn_ikev1_sa_state(s->sa) == VPN_IKEV1_ST_ESTABLISHED) {
        LOG(t, VPN_LOG_INFO,
            "Quick Mode from %s refused: phase 2 is not served (keys come from GDOI); NO_PROPOSAL_CHOSEN sent",
            vpn_addr_str(&remote->addr, a, sizeof a));
        vpn_ikev1_sa_notify(s->sa, VPN_ISAKMP_N_NO_PROPOSAL_CHOSEN, now);
        return 0;
    }
    rc = vpn_ikev1_sa_input(s->sa, dg, len, now);
    if (rc != 0 && rc != VPN_ERR_STATE)
        LOG(t, VPN_LOG_WARN, "IKEv1 from %s: %s", vpn_addr_str(&remote->addr, a, sizeof a), vpn_strerror(rc));
    if (rc != 0 && fresh && vpn_ikev1_sa_state(s->sa) == VPN_IKEV1_ST_IDLE) {
        /* a first message the engine refused without an answer: an SA
         * kept for it would have no timer and never go */
        p1_remove(t, t->n - 1);
        return rc;
    }
    after(t, s, now);
    return 0;
}

uint64_t rt_ikev1_next_deadline(const rt_ikev1 *t)
{
    uint64_t next = UINT64_MAX;

    for (size_t i = 0; t && i < t->n; i++) {
        const rt_p1 *s = t->sa[i];
        uint64_t d = s->dead_at ? s->dead_at + RT_IKEV1_LINGER_NS : vpn_ikev1_sa_next_deadline(s->sa);
        if (d < next)
            next = d;
    }
    return next;
}

void rt_ikev1_timeout(rt_ikev1 *t, uint64_t now)
{
    for (size_t i = 0; t && i < t->n;) {
        rt_p1 *s = t->sa[i];
        if (s->dead_at && now >= s->dead_at + RT_IKEV1_LINGER_NS) {
            p1_remove(t, i);
            continue;
        }
        if (!s->dead_at && vpn_ikev1_sa_next_deadline(s->sa) <= now) {
            vpn_ikev1_sa_timeout(s->sa, now);
            after(t, s, now);
        }
        i++;
    }
}

int rt_ikev1_initiate(rt_ikev1 *t, uint64_t now, const vpn_addr *local, const vpn_addr *peer, uint32_t *conn_id)
{
    rt_p1 *s;
    int rc;

    if (t == NULL || local == NULL || peer == NULL)
        return VPN_ERR_INVAL;
    if ((rc = p1_new(t, local, peer, VPN_IKE_PORT, true, &s)) != 0)
        return rc;
    if ((rc = vpn_ikev1_sa_start(s->sa, now)) != 0) {
        p1_remove(t, t->n - 1);
        return rc;
    }
    if (conn_id)
        *conn_id = s->conn_id;
    return 0;
}

int rt_ikev1_clear(rt_ikev1 *t, uint64_t now, bool all, uint32_t conn_id)
{
    int n = 0;

    for (size_t i = 0; t && i < t->n; i++) {
        rt_p1 *s = t->sa[i];
        if (s->dead_at || (!all && s->conn_id != conn_id))
            continue;
        /* An established SA tells its peer (RFC 2408 3.15); one still
         * negotiating is just dropped. */
        if (vpn_ikev1_sa_delete(s->sa, now) != 0)
            s->dead_at = now ? now : 1;
        after(t, s, now);
        n++;
    }
    return !all && n == 0 ? VPN_ERR_NOTFOUND : n;
}

size_t rt_ikev1_count(const rt_ikev1 *t)
{
    return t ? t->n : 0;
}

int rt_ikev1_show_sa(const rt_ikev1 *t, vpn_show_buf *b)
{
    size_t n = rt_ikev1_count(t);
    vpn_show_isakmp_row *rows = calloc(n ? n : 1, sizeof *rows);
    int rc;

    if (rows == NULL)
        return VPN_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        const rt_p1 *s = t->sa[i];
        /* Without its SA a row prints as MM_NO_STATE, DELETED. */
        rows[i].sa = s->dead_at ? NULL : s->sa;
        rows[i].local = s->local;
        rows[i].remote = s->remote;
        rows[i].conn_id = s->conn_id;
        rows[i].initiator = s->initiator;
    }
    rc = vpn_show_isakmp_sa(rows, n, b);
    free(rows);
    return rc;
}
