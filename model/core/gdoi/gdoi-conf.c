/* GET VPN engine parameters from IOS configuration (see gdoi-conf.h). */
#include "gdoi/gdoi-conf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/vpn-err.h"
#include "crypto/crypto-ids.h"
#include "ikev1/ikev1-conf.h"

/* ACL lines of a TEK policy the KS reads at most */
#define GDOI_ACL_LINES_CAP 256

static int fail(vpn_conf_error *err, int line, int code, const char *fmt, ...) VPN_PRINTF(4, 5);

static int fail(vpn_conf_error *err, int line, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->line = line;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Start of each *_cfg_from_conf: clears *err and the out_len bytes of out so
 * that nothing stale survives a failure. Returns 0 or VPN_ERR_INVAL (c or out
 * is NULL). */
static int conf_begin(const vpn_conf *c, void *out, size_t out_len, vpn_conf_error *err)
{
    if (err) {
        err->line = 0;
        err->msg[0] = 0;
    }
    if (!c || !out)
        return fail(err, 0, VPN_ERR_INVAL, "no configuration");
    memset(out, 0, out_len);
    return 0;
}

static bool is_gdoi_bypass(const vpn_conf_ace *a)
{
    /* "deny udp any eq 848 any eq 848": GDOI itself, which the member
     * always leaves in clear (gdoi.h) */
    return !a->permit && a->proto == 17 && a->src_op == VPN_PORT_EQ && a->src_port[0] == 848 &&
           a->dst_op == VPN_PORT_EQ && a->dst_port[0] == 848;
}

/* An ACE's port interval (any: all ports). */
static void ace_ports(vpn_conf_port_op op, const uint16_t p[2], uint32_t *lo, uint32_t *hi)
{
    *lo = op == VPN_PORT_ANY ? 0 : p[0];
    *hi = op == VPN_PORT_ANY ? 65535 : op == VPN_PORT_EQ ? p[0] : p[1];
}

/* Do the address sets of two prefixes meet (one contains the other)? */
static bool prefix_meets(const vpn_prefix *a, const vpn_prefix *b)
{
    const vpn_prefix *wide = a->len <= b->len ? a : b, *narrow = wide == a ? b : a;
    return wide->len == 0 || vpn_prefix_contains(wide, &narrow->addr);
}

/* Does every packet p matches also match d? (p's prefixes inside d's) */
static bool prefix_covers(const vpn_prefix *d, const vpn_prefix *p)
{
    return d->len == 0 || (p->len >= d->len && vpn_prefix_contains(d, &p->addr));
}

static bool ports_meet(const vpn_conf_ace *a, const vpn_conf_ace *b, bool covers)
{
    uint32_t al, ah, bl, bh, cl, ch, dl, dh;
    ace_ports(a->src_op, a->src_port, &al, &ah);
    ace_ports(b->src_op, b->src_port, &bl, &bh);
    ace_ports(a->dst_op, a->dst_port, &cl, &ch);
    ace_ports(b->dst_op, b->dst_port, &dl, &dh);
    if (covers) /* a's intervals hold b's */
        return al <= bl && bh <= ah && cl <= dl && dh <= ch;
    return al <= bh && bl <= ah && cl <= dh && dl <= ch;
}

/* Can a packet match both deny d and permit p? */
static bool ace_overlaps(const vpn_conf_ace *d, const vpn_conf_ace *p)
{
    return (d->proto == 0 || p->proto == 0 || d->proto == p->proto) &&
           prefix_meets(&d->src, &p->src) && prefix_meets(&d->dst, &p->dst) &&
           ports_meet(d, p, false);
}

/* Does deny d match every packet permit p does? */
static bool ace_covers(const vpn_conf_ace *d, const vpn_conf_ace *p)
{
    return (d->proto == 0 || d->proto == p->proto) && prefix_covers(&d->src, &p->src) &&
           prefix_covers(&d->dst, &p->dst) && ports_meet(d, p, true);
}

/*
 * The TEK policy from the `match address` ACL, in ACL order (RFC 6407
 * 5.4: one SA TEK, with its own source and destination IDs, per line;
 * they share one SPI and keys, as IOS's one TEK per `sa ipsec`, see
 * VPN_GDOI_TEK_SELS_MAX in gdoi.h). Deny lines, which an SA TEK cannot
 * express (RFC 6407 5.4.1), are applied here where possible: a deny that
 * no later permit's traffic meets changes nothing (that traffic is
 * outside the policy, hence clear, anyway) and is left out; a permit an
 * earlier deny covers entirely can never match and is left out; only a
 * deny covering part of a later permit goes to members, as a bypass line
 * (VPN_GDOI_TEK_ATTR_BYPASS). GDOI's own `deny udp any eq 848 any eq
 * 848` is what members always do first (gdoi.h).
 */
static int tek_selectors(const vpn_conf_gdoi_group *g, const vpn_conf_acl *acl,
                         vpn_gdoi_tek_policy *tek, vpn_conf_error *err)
{
    const vpn_conf_ace *cand[GDOI_ACL_LINES_CAP], *use[VPN_GDOI_TEK_SELS_MAX];
    size_t nc = 0, n = 0, np = 0;
    uint32_t deny = 0;

    for (size_t i = 0; i < acl->n_ace; i++) {
        const vpn_conf_ace *a = &acl->ace[i];
        bool dead = false;
        if (is_gdoi_bypass(a))
            continue;
        if ((a->src.len && a->src.addr.family != VPN_AF_INET) ||
            (a->dst.len && a->dst.addr.family != VPN_AF_INET))
            return fail(err, a->line, VPN_ERR_UNSUPPORTED,
                        "group %s: TEK policy ACL %s must be IPv4", g->name, acl->name);
        if (a->dscp >= 0)
            return fail(err, a->line, VPN_ERR_UNSUPPORTED,
                        "group %s: TEK policy ACL %s: dscp is not supported", g->name, acl->name);
        for (size_t j = 0; a->permit && j < nc && !dead; j++)
            dead = !cand[j]->permit && ace_covers(cand[j], a);
        if (dead)
            continue; /* never matched: a deny before it takes it all */
        if (nc == GDOI_ACL_LINES_CAP)
            return fail(err, a->line, VPN_ERR_LIMIT,
                        "group %s: TEK policy ACL %s has more than %d lines", g->name, acl->name,
                        GDOI_ACL_LINES_CAP);
        cand[nc++] = a;
    }
    for (size_t i = 0; i < nc; i++) {
        const vpn_conf_ace *a = cand[i];
        if (!a->permit) {
            bool meets = false;
            for (size_t j = i + 1; j < nc && !meets; j++)
                meets = cand[j]->permit && ace_overlaps(a, cand[j]);
            if (!meets)
                continue; /* no permit after it sees its traffic */
        }
        if (a->src_op == VPN_PORT_RANGE || a->dst_op == VPN_PORT_RANGE)
            return fail(err, a->line, VPN_ERR_UNSUPPORTED,
                        "group %s: TEK policy ACL %s: port ranges are not supported in lines "
                        "members must see (a TEK ID carries one port)",
                        g->name, acl->name);
        if (n == VPN_GDOI_TEK_SELS_MAX)
            return fail(err, a->line, VPN_ERR_LIMIT,
                        "group %s: TEK policy ACL %s has more than %d lines for members", g->name,
                        acl->name, VPN_GDOI_TEK_SELS_MAX);
        if (!a->permit)
            deny |= 1u << n;
        else
            np++;
        use[n++] = a;
    }
    if (!np)
        return fail(err, g->sa_acl_line, VPN_ERR_NOTFOUND,
                    "group %s: TEK policy ACL %s has no permit line that can match", g->name,
                    acl->name);
    for (size_t k = 0; k < n; k++) {
        vpn_spd_sel *sel = k ? &tek->more[k - 1] : &tek->sel;
        memset(sel, 0, sizeof *sel);
        sel->family = VPN_AF_INET;
        sel->proto = use[k]->proto;
        sel->src = use[k]->src;
        sel->dst = use[k]->dst;
        sel->src.addr.family = sel->dst.addr.family = VPN_AF_INET;
        if (use[k]->src_op == VPN_PORT_EQ)
            sel->sport_lo = sel->sport_hi = use[k]->src_port[0];
        if (use[k]->dst_op == VPN_PORT_EQ)
            sel->dport_lo = sel->dport_hi = use[k]->dst_port[0];
    }
    tek->n_more = (uint8_t)(n - 1);
    tek->deny_mask = deny;
    return 0;
}

/* The TEK transform from the ipsec profile's first transform set. */
static int tek_transform(const vpn_conf *c, const vpn_conf_gdoi_group *g,
                         const vpn_conf_ipsec_profile *ip, vpn_gdoi_tek_policy *tek,
                         vpn_conf_error *err)
{
    const vpn_conf_transform_set *t = vpn_conf_find_transform_set(c, ip->transform_set[0]);

    if (!t) /* vpn_conf_validate checked it */
        return fail(err, ip->line, VPN_ERR_NOTFOUND, "ipsec profile %s has no transform set",
                    ip->name);
    if (t->encr.id != VPN_ENCR_AES_CBC && t->encr.id != VPN_ENCR_AES_GCM_16)
        return fail(err, t->line, VPN_ERR_UNSUPPORTED,
                    "group %s: transform-set %s: GET VPN TEKs are esp-aes (with HMAC) or esp-gcm",
                    g->name, t->name);
    tek->encr_id = t->encr.id;
    tek->key_bits = t->encr.bits;
    tek->integ_id = t->integ;
    tek->lifetime_s = ip->lifetime_s;
    return 0;
}

/* The multicast rekey address from `rekey address ipv4 ACL`: permit udp
 * host KS [eq 848] host GROUP [eq 848]. */
static int rekey_group(const vpn_conf *c, const vpn_conf_gdoi_group *g, vpn_addr *mcast,
                       vpn_conf_error *err)
{
    const vpn_conf_acl *acl = vpn_conf_find_acl(c, g->rekey_acl);

    for (size_t i = 0; acl && i < acl->n_ace; i++) {
        const vpn_conf_ace *a = &acl->ace[i];
        if (!a->permit)
            continue;
        if (a->dst.addr.family != VPN_AF_INET || a->dst.len != 32 || (a->dst.addr.b[0] & 0xf0) != 0xe0)
            return fail(err, a->line, VPN_ERR_POLICY,
                        "group %s: rekey address ACL %s must permit one multicast group host",
                        g->name, acl->name);
        if (a->src.len && !vpn_prefix_contains(&a->src, &g->ks_address))
            return fail(err, a->line, VPN_ERR_POLICY,
                        "group %s: rekey address ACL %s: the source is not this key server's "
                        "address",
                        g->name, acl->name);
        *mcast = a->dst.addr;
        return 0;
    }
    return fail(err, g->rekey_acl_line, VPN_ERR_NOTFOUND,
                "group %s: rekey address ACL %s has no permit line", g->name, g->rekey_acl);
}

int vpn_gdoi_ks_cfg_from_conf(const vpn_conf *c, const char *group, const vpn_sig_key *rekey_key,
                              vpn_gdoi_conf_ks *out, vpn_conf_error *err)
{
    const vpn_conf_gdoi_group *g = NULL;
    const vpn_conf_ipsec_profile *ip;
    const vpn_conf_acl *acl;
    vpn_gdoi_ks_cfg *k;
    vpn_addr any;
    int rc;

    if ((rc = conf_begin(c, out, sizeof *out, err)))
        return rc;
    if (group) {
        g = vpn_conf_find_gdoi_group(c, group);
        if (!g)
            return fail(err, 0, VPN_ERR_NOTFOUND, "crypto gdoi group %s is not configured", group);
        if (!g->server_local)
            return fail(err, g->line, VPN_ERR_NOTFOUND,
                        "crypto gdoi group %s has no 'server local' (it is not a key server)", g->name);
    } else {
        for (size_t i = 0; i < c->n_gdoi_group; i++) {
            if (!c->gdoi_group[i].server_local)
                continue;
            if (g)
                return fail(err, c->gdoi_group[i].line, VPN_ERR_POLICY,
                            "several groups have 'server local'; name one");
            g = &c->gdoi_group[i];
        }
        if (!g)
            return fail(err, 0, VPN_ERR_NOTFOUND,
                        "no 'crypto gdoi group' with 'server local' is configured");
    }
    out->group = g;
    k = &out->cfg;
    k->name = g->name;
    k->group_id = g->identity;
    if (!g->has_ks_address)
        return fail(err, g->server_local_line, VPN_ERR_NOTFOUND,
                    "group %s: 'server local' has no 'address ipv4 A'", g->name);
    k->local = g->ks_address;

    /* phase 1: any member may register with the wildcard key */
    vpn_addr_parse(&any, "0.0.0.0");
    rc = vpn_ikev1_cfg_from_conf(c, &k->local, &any, out->suites, &k->ike);
    if (rc == VPN_ERR_NOTFOUND)
        return fail(err, 0, rc, "group %s: no 'crypto isakmp policy' is configured", g->name);
    if (rc)
        return fail(err, 0, rc,
                    "group %s: no ISAKMP policy has a key for members (add 'crypto isakmp key KEY "
                    "address 0.0.0.0 0.0.0.0' and a pre-share policy)",
                    g->name);

    /* TEK policy: sa ipsec N (RFC 6407 5.4) */
    if (!g->has_sa)
        return fail(err, g->server_local_line, VPN_ERR_NOTFOUND,
                    "group %s: 'server local' has no 'sa ipsec N'", g->name);
    if (!g->sa_profile[0])
        return fail(err, g->sa_line, VPN_ERR_NOTFOUND, "group %s: sa ipsec %u has no 'profile'",
                    g->name, g->sa_num);
    if (!g->sa_acl[0])
        return fail(err, g->sa_line, VPN_ERR_NOTFOUND,
                    "group %s: sa ipsec %u has no 'match address ipv4 ACL'", g->name, g->sa_num);
    ip = vpn_conf_find_ipsec_profile(c, g->sa_profile);
    acl = vpn_conf_find_acl(c, g->sa_acl);
    if (!ip)
        return fail(err, g->sa_profile_line, VPN_ERR_NOTFOUND,
                    "group %s: ipsec profile %s is not defined", g->name, g->sa_profile);
    if (!acl)
        return fail(err, g->sa_acl_line, VPN_ERR_NOTFOUND, "group %s: ACL %s is not defined",
                    g->name, g->sa_acl);
    if ((rc = tek_selectors(g, acl, &k->tek, err)) ||
        (rc = tek_transform(c, g, ip, &k->tek, err)))
        return rc;
    switch (g->replay) {
    case VPN_CONF_GDOI_REPLAY_TIME:
        k->tek.tbar_window_s = g->replay_window;
        break;
    case VPN_CONF_GDOI_REPLAY_COUNTER:
        /* many senders share a group SA: a counter window cannot work
         * across them, and the engines implement only time-based replay */
        return fail(err, g->replay_line, VPN_ERR_UNSUPPORTED,
                    "group %s: counter-based anti-replay is not implemented for group SAs; use "
                    "'replay time window-size N'",
                    g->name);
    default:
        k->tek.tbar_window_s = 0;
    }

    /* KEK and rekeys (RFC 6407 5.3) */
    if (g->rekey_aes_bits != 256)
        return fail(err, g->rekey_alg_line, VPN_ERR_UNSUPPORTED,
                    "group %s: the key server implements AES-256 KEKs only (rekey algorithm aes 256)",
                    g->name);
    if (g->rekey_sig_hash != 256)
        return fail(err, g->rekey_sig_hash_line, VPN_ERR_UNSUPPORTED,
                    "group %s: the key server signs rekeys with SHA-256 only (rekey sig-hash "
                    "algorithm sha256)",
                    g->name);
    k->kek_lifetime_s = g->rekey_lifetime_s;
    k->retrans_s = g->retrans_s;
    k->retrans_n = g->retrans_n;
    k->receive_only = g->receive_only;
    if (g->rekey_acl[0] && !g->rekey_unicast) {
        k->multicast = true;
        if ((rc = rekey_group(c, g, &k->mcast, err)))
            return rc;
    }
    if (!g->rekey_key[0])
        return fail(err, g->server_local_line, VPN_ERR_NOTFOUND,
                    "group %s: 'server local' has no 'rekey authentication mypubkey rsa LABEL'",
                    g->name);
    if (!rekey_key)
        return fail(err, g->rekey_key_line, VPN_ERR_INVAL,
                    "group %s: the RSA key pair %s was not supplied", g->name, g->rekey_key);
    k->rekey_key = rekey_key;

    /* who may register, and how many */
    if (g->auth_acl[0]) {
        const vpn_conf_acl *aa = vpn_conf_find_acl(c, g->auth_acl);
        if (!aa)
            return fail(err, g->auth_acl_line, VPN_ERR_NOTFOUND, "group %s: ACL %s is not defined",
                        g->name, g->auth_acl);
        if (aa->n_ace > VPN_GDOI_CONF_RULES_MAX)
            return fail(err, aa->ace[VPN_GDOI_CONF_RULES_MAX].line, VPN_ERR_UNSUPPORTED,
                        "group %s: authorization ACL %s has more than %d lines", g->name, aa->name,
                        VPN_GDOI_CONF_RULES_MAX);
        if (aa->n_ace == 0)
            return fail(err, g->auth_acl_line, VPN_ERR_NOTFOUND,
                        "group %s: authorization ACL %s is empty (it would refuse every member)",
                        g->name, aa->name);
        /* the member's address is the ACE's source (a standard ACL's only one) */
        for (size_t i = 0; i < aa->n_ace; i++) {
            out->rules[i].permit = aa->ace[i].permit;
            out->rules[i].prefix = aa->ace[i].src;
        }
        k->auth_rules = out->rules;
        k->n_auth_rules = aa->n_ace;
    }
    k->max_members = g->max_members;

    /* cooperative key servers */
    /* redundancy: COOP announcements carry every line (VPN_GDOI_COOP_F_LINES) */
    if (g->redundancy) {
        if (g->n_coop_peer == 0)
            return fail(err, g->redundancy_line, VPN_ERR_NOTFOUND,
                        "group %s: 'redundancy' has no 'peer address ipv4'", g->name);
        for (size_t i = 0; i < g->n_coop_peer; i++) {
            if (vpn_addr_eq(&g->coop_peer[i], &g->ks_address))
                return fail(err, g->redundancy_line, VPN_ERR_POLICY,
                            "group %s: a redundancy peer is this key server's own address",
                            g->name);
            out->peers[i].addr = g->coop_peer[i];
            out->peers[i].pub = rekey_key;
        }
        k->coop.peers = out->peers;
        k->coop.n_peers = g->n_coop_peer;
        k->coop.priority = (uint8_t)g->coop_priority;
    }
    return 0;
}

/* The crypto map interface (NULL: the only one), or an error. */
static int map_iface(const vpn_conf *c, const char *interface, const vpn_conf_interface **out,
                     vpn_conf_error *err)
{
    const vpn_conf_interface *f = NULL;

    if (interface) {
        f = vpn_conf_find_interface(c, interface);
        if (!f)
            return fail(err, 0, VPN_ERR_NOTFOUND, "interface %s is not configured", interface);
        if (!f->crypto_map[0])
            return fail(err, f->line, VPN_ERR_NOTFOUND, "interface %s has no 'crypto map'",
                        f->name);
    } else {
        for (size_t i = 0; i < c->n_iface; i++) {
            if (!c->iface[i].crypto_map[0])
                continue;
            if (f)
                return fail(err, c->iface[i].crypto_map_line, VPN_ERR_POLICY,
                            "several interfaces have a crypto map; name one");
            f = &c->iface[i];
        }
        if (!f)
            return fail(err, 0, VPN_ERR_NOTFOUND, "no interface has a 'crypto map'");
    }
    *out = f;
    return 0;
}

size_t vpn_gdoi_conf_gm_entries(const vpn_conf *c, const char *interface)
{
    const vpn_conf_interface *f;
    const vpn_conf_crypto_map *m;
    size_t n = 0;

    if (!c || map_iface(c, interface, &f, NULL))
        return 0;
    m = vpn_conf_find_crypto_map(c, f->crypto_map);
    /* the parser keeps one map's entries together, in sequence order */
    for (; m && m < c->crypto_map + c->n_crypto_map && strcmp(m->name, f->crypto_map) == 0; m++)
        n++;
    return n;
}

/* The entry's local ACL as bypass selectors (deny lines only: the
 * configuration check refused permit lines with their line). */
static int local_denies(const vpn_conf *c, const vpn_conf_crypto_map *m, vpn_gdoi_conf_gm *out,
                        vpn_conf_error *err)
{
    const vpn_conf_acl *acl;

    if (!m->acl[0])
        return 0;
    acl = vpn_conf_find_acl(c, m->acl);
    if (!acl)
        return fail(err, m->acl_line, VPN_ERR_NOTFOUND,
                    "crypto map %s %u: match address ACL %s is not defined", m->name, m->seq, m->acl);
    for (size_t i = 0; i < acl->n_ace; i++) {
        const vpn_conf_ace *a = &acl->ace[i];
        vpn_spd_sel *sel;
        if (a->permit)
            return fail(err, a->line, VPN_ERR_POLICY,
                        "ACL %s: crypto map %s %u (gdoi) takes deny entries only", acl->name,
                        m->name, m->seq);
        if ((a->src.len && a->src.addr.family != VPN_AF_INET) ||
            (a->dst.len && a->dst.addr.family != VPN_AF_INET))
            return fail(err, a->line, VPN_ERR_UNSUPPORTED,
                        "ACL %s: crypto map %s %u: GDOI policies are IPv4", acl->name, m->name,
                        m->seq);
        if (out->n_deny == VPN_GDOI_CONF_DENY_MAX)
            return fail(err, a->line, VPN_ERR_LIMIT,
                        "ACL %s: crypto map %s %u: more than %d lines", acl->name, m->name, m->seq,
                        VPN_GDOI_CONF_DENY_MAX);
        sel = &out->deny[out->n_deny++];
        memset(sel, 0, sizeof *sel);
        sel->family = VPN_AF_INET;
        sel->proto = a->proto;
        sel->src = a->src;
        sel->dst = a->dst;
        sel->src.addr.family = sel->dst.addr.family = VPN_AF_INET;
        if (a->src_op != VPN_PORT_ANY) {
            sel->sport_lo = a->src_port[0];
            sel->sport_hi = a->src_op == VPN_PORT_EQ ? a->src_port[0] : a->src_port[1];
        }
        if (a->dst_op != VPN_PORT_ANY) {
            sel->dport_lo = a->dst_port[0];
            sel->dport_hi = a->dst_op == VPN_PORT_EQ ? a->dst_port[0] : a->dst_port[1];
        }
        if (a->dscp >= 0)
            sel->dscp_mask = 1ull << a->dscp;
    }
    return 0;
}

int vpn_gdoi_gm_cfg_from_conf(const vpn_conf *c, const char *interface, const vpn_addr *local,
                              vpn_sad *sad, vpn_spd *spd, vpn_gdoi_conf_gm *out,
                              vpn_conf_error *err)
{
    if (!sad || !spd) {
        if (err) {
            err->line = 0;
            snprintf(err->msg, sizeof err->msg, "no configuration, SAD or SPD");
        }
        return VPN_ERR_INVAL;
    }
    return vpn_gdoi_gm_cfg_from_conf_entry(c, interface, 0, local, sad, spd, out, err);
}

int vpn_gdoi_gm_cfg_from_conf_entry(const vpn_conf *c, const char *interface, size_t entry,
                                    const vpn_addr *local, vpn_sad *sad, vpn_spd *spd,
                                    vpn_gdoi_conf_gm *out, vpn_conf_error *err)
{
    const vpn_conf_interface *f = NULL;
    const vpn_conf_crypto_map *m;
    const vpn_conf_gdoi_group *g;
    vpn_gdoi_gm_cfg *gc;
    int rc;

    if ((rc = conf_begin(c, out, sizeof *out, err)))
        return rc;
    if ((rc = map_iface(c, interface, &f, err)))
        return rc;
    m = vpn_conf_find_crypto_map(c, f->crypto_map);
    if (!m)
        return fail(err, f->crypto_map_line, VPN_ERR_NOTFOUND, "crypto map %s is not defined",
                    f->crypto_map);
    if (entry >= vpn_gdoi_conf_gm_entries(c, f->name))
        return fail(err, f->crypto_map_line, VPN_ERR_NOTFOUND,
                    "crypto map %s has no entry %zu", f->crypto_map, entry + 1);
    m += entry;
    g = vpn_conf_find_gdoi_group(c, m->group);
    if (!g)
        return fail(err, m->group_line ? m->group_line : m->line, VPN_ERR_NOTFOUND,
                    "crypto map %s %u: group %s is not defined", m->name, m->seq, m->group);
    if (g->server_local)
        return fail(err, m->group_line, VPN_ERR_POLICY,
                    "crypto map %s %u: group %s is a key server's ('server local')", m->name, m->seq,
                    g->name);
    if (g->n_server == 0)
        return fail(err, g->line, VPN_ERR_NOTFOUND,
                    "group %s has no 'server address ipv4 A' (the key servers to register with)",
                    g->name);
    out->iface = f;
    out->map = m;
    out->group = g;
    gc = &out->cfg;
    gc->name = g->name;
    gc->group_id = g->identity;
    if (local) {
        gc->local = *local;
    } else {
        const vpn_conf_interface *rf = g->reg_iface[0] ? vpn_conf_find_interface(c, g->reg_iface) : f;
        if (!rf || !rf->has_address || rf->address.addr.family != VPN_AF_INET)
            return fail(err, rf ? rf->line : g->line, VPN_ERR_NOTFOUND,
                        "interface %s has no IPv4 address to register from",
                        rf ? rf->name : g->reg_iface);
        gc->local = rf->address.addr;
    }
    memcpy(out->servers, g->server, g->n_server * sizeof *g->server);
    gc->servers = out->servers;
    gc->n_servers = g->n_server;
    gc->ks = g->server[0];
    rc = vpn_ikev1_cfg_from_conf(c, &gc->local, &g->server[0], out->suites, &gc->ike);
    if (rc == VPN_ERR_NOTFOUND)
        return fail(err, 0, rc, "group %s: no 'crypto isakmp policy' is configured", g->name);
    if (rc) {
        char a[VPN_ADDR_STRLEN];
        return fail(err, g->server_line, rc,
                    "group %s: no ISAKMP policy has a key for key server %s (add 'crypto isakmp key "
                    "KEY address %s' and a pre-share policy)",
                    g->name, vpn_addr_str(&g->server[0], a, sizeof a), a);
    }
    gc->sad = sad;
    gc->spd = spd;
    gc->spd_seq = m->seq;
    return local_denies(c, m, out, err);
}
