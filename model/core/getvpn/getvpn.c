/* A node's GET VPN roles and crypto-map data plane (see getvpn.h). */
#include "getvpn/getvpn.h"

#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "common/wire.h"
#include "ipsec/esp.h"
#include "ipsec/ip.h"
#include "isakmp/isakmp-const.h"
#include "isakmp/isakmp-msg.h"

#define ENGINE "getvpn"
#define ISAKMP_HDR_LEN 28

typedef struct gv_group {
    vpn_getvpn_node *node;
    size_t idx;
    vpn_getvpn_role role;
    vpn_gdoi_ks *ks;
    vpn_gdoi_gm *gm;
    vpn_sad *sad;          /* GM: its TEKs */
    vpn_spd *spd;          /* GM: deny lines, then the KS's policy */
    uint32_t map_seq;
    vpn_addr local;        /* the engine's address */
    uint64_t start_at;     /* GM: when to register; UINT64_MAX once started */
} gv_group;

struct vpn_getvpn_node {
    gv_group g[VPN_GETVPN_MAX_GROUPS];
    size_t n;
    size_t order[VPN_GETVPN_MAX_GROUPS]; /* member groups in crypto-map order */
    size_t n_gm;
    const vpn_rng *rng;
    vpn_log log;
    vpn_getvpn_send_fn send;
    void *user;
    vpn_getvpn_stats st;
};

static const char *const drop_names[VPN_GETVPN_DROP_COUNT] = {
    "malformed", "no TEK", "encryption failed", "policy discard", "unknown SPI", "bad ICV",
    "replay", "outside TBAR window", "decapsulation failed", "clear packet under policy",
    "inner packet outside policy",
};

const char *vpn_getvpn_drop_name(vpn_getvpn_drop d)
{
    return (unsigned)d < VPN_GETVPN_DROP_COUNT ? drop_names[d] : "unknown";
}

/* The engines' output, tagged with the group. */
static void group_send(void *user, const vpn_addr *src, const vpn_addr *dst, const uint8_t *dg,
                       size_t len, const uint8_t *view, size_t view_len)
{
    gv_group *g = user;
    vpn_getvpn_node *n = g->node;

    n->st.dgrams_out++;
    n->send(n->user, g->idx, src, dst, dg, len, view, view_len);
}

static void group_free(gv_group *g)
{
    vpn_gdoi_ks_del(g->ks);
    /* the member removes its SAs and SPD entries, so it goes first */
    vpn_gdoi_gm_del(g->gm);
    vpn_spd_del(g->spd);
    vpn_sad_del(g->sad);
    memset(g, 0, sizeof *g);
}

void vpn_getvpn_node_del(vpn_getvpn_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++)
        group_free(&n->g[i]);
    free(n);
}

static int group_init(vpn_getvpn_node *n, size_t i, const vpn_getvpn_group_params *gp,
                      uint64_t now)
{
    gv_group *g = &n->g[i];
    vpn_gdoi_gm_cfg gc;
    int rc;

    g->node = n;
    g->idx = i;
    g->role = gp->role;
    g->map_seq = gp->map_seq;
    g->start_at = UINT64_MAX;
    if (gp->role == VPN_GETVPN_ROLE_KS) {
        vpn_gdoi_ks_params kp = {&gp->ks, n->rng, &n->log, group_send, g, now};
        g->local = gp->ks.local;
        return vpn_gdoi_ks_new_with(&g->ks, &kp);
    }
    if (gp->n_deny > VPN_GETVPN_MAX_DENY || (gp->n_deny && !gp->deny))
        return VPN_ERR_INVAL;
    vpn_sad_params sp;
    vpn_sad_params_init(&sp);
    sp.rng = *n->rng;
    sp.log = n->log;
    /* the member's SAD and SPD are its own: behind its allocation gate */
    sp.alloc = gp->gm.alloc;
    if ((rc = vpn_sad_new_with(&g->sad, &sp)))
        return rc;
    /* the default is "no entry of this group": see vpn_getvpn_node_output */
    if ((rc = vpn_spd_new_a(&gp->gm.alloc, &g->spd, VPN_SPD_BYPASS)))
        return rc;
    for (size_t k = 0; k < gp->n_deny; k++) {
        vpn_spd_entry e;
        memset(&e, 0, sizeof e);
        e.seq = VPN_GETVPN_SPD_SEQ_DENY + (uint32_t)k;
        e.sel = gp->deny[k];
        e.action = VPN_SPD_BYPASS;
        if ((rc = vpn_spd_add(g->spd, &e, NULL)))
            return rc;
    }
    gc = gp->gm;
    gc.sad = g->sad;
    gc.spd = g->spd;
    gc.spd_seq = VPN_GETVPN_SPD_SEQ_GM;
    g->local = gc.local;
    g->start_at = gp->start_ns;
    vpn_gdoi_gm_params mp = {&gc, n->rng, &n->log, group_send, g};
    return vpn_gdoi_gm_new_with(&g->gm, &mp);
}

int vpn_getvpn_node_new(vpn_getvpn_node **out, const vpn_getvpn_params *p)
{
    vpn_getvpn_node *n;
    int rc;

    if (!out || !p || !p->groups || !p->n_groups || p->n_groups > VPN_GETVPN_MAX_GROUPS ||
        !p->rng || !p->send)
        return VPN_ERR_INVAL;
    for (size_t i = 0; i < p->n_groups; i++) {
        const vpn_getvpn_group_params *a = &p->groups[i];
        if (a->role != VPN_GETVPN_ROLE_KS && a->role != VPN_GETVPN_ROLE_GM)
            return VPN_ERR_INVAL;
        /* phase 1 does not name the group: one KS engine per address */
        for (size_t j = 0; a->role == VPN_GETVPN_ROLE_KS && j < i; j++)
            if (p->groups[j].role == VPN_GETVPN_ROLE_KS &&
                vpn_addr_eq(&p->groups[j].ks.local, &a->ks.local))
                return VPN_ERR_INVAL;
    }
    n = calloc(1, sizeof *n);
    if (!n)
        return VPN_ERR_NOMEM;
    n->rng = p->rng;
    if (p->log)
        n->log = *p->log;
    n->send = p->send;
    n->user = p->user;
    for (size_t i = 0; i < p->n_groups; i++) {
        n->n = i + 1;
        if ((rc = group_init(n, i, &p->groups[i], p->now))) {
            vpn_getvpn_node_del(n);
            return rc;
        }
    }
    /* member groups by crypto map entry number (stable for equal ones) */
    for (size_t i = 0; i < n->n; i++) {
        size_t k;
        if (n->g[i].role != VPN_GETVPN_ROLE_GM)
            continue;
        for (k = n->n_gm; k > 0 && n->g[n->order[k - 1]].map_seq > n->g[i].map_seq; k--)
            n->order[k] = n->order[k - 1];
        n->order[k] = i;
        n->n_gm++;
    }
    *out = n;
    return 0;
}

/* ---- control plane ------------------------------------------------------------ */

static bool is_multicast(const vpn_addr *a)
{
    return a->family == VPN_AF_INET && (a->b[0] & 0xf0) == 0xe0;
}

/* Is this datagram for member g? By its cookies (RFC 2408 3.1): a PUSH
 * carries the KEK SPI there (RFC 6407 4), everything else the phase-1
 * cookies of the member's registration. */
/* The header fields the demux reads (RFC 2408 3.1), on the bounds-checked
 * reader; whether the rest is valid (version, flags, length) is for the
 * engine it goes to, which counts what it refuses. */
static int demux_fields(const uint8_t *dg, size_t len, vpn_isakmp_hdr *h)
{
    vpn_rd r;

    memset(h, 0, sizeof *h);
    vpn_rd_init(&r, dg, len);
    vpn_rd_bytes(&r, h->icookie, sizeof h->icookie);
    vpn_rd_bytes(&r, h->rcookie, sizeof h->rcookie);
    vpn_rd_u8(&r, &h->next_payload);
    vpn_rd_u8(&r, &h->version);
    vpn_rd_u8(&r, &h->exchange);
    return vpn_rd_err(&r);
}

static bool gm_claims(const gv_group *g, const vpn_addr *dst, const vpn_isakmp_hdr *h)
{
    if (!vpn_addr_eq(dst, &g->local) && !is_multicast(dst))
        return false;
    if (h->exchange == VPN_GDOI_EXCH_PUSH) {
        /* the KEK SPI is the two cookies (RFC 6407 5.3) */
        static const uint8_t zero[VPN_GDOI_KEK_SPI_LEN];
        const uint8_t *kek = vpn_gdoi_gm_kek_spi(g->gm);
        return kek && memcmp(kek, zero, sizeof zero) &&
               memcmp(h->icookie, kek, VPN_ISAKMP_COOKIE_LEN) == 0 &&
               memcmp(h->rcookie, kek + VPN_ISAKMP_COOKIE_LEN, VPN_ISAKMP_COOKIE_LEN) == 0;
    }
    if (is_multicast(dst))
        return false;
    const vpn_ikev1_sa *p1 = vpn_gdoi_gm_phase1(g->gm);
    return p1 && memcmp(h->icookie, vpn_ikev1_sa_icookie(p1), VPN_ISAKMP_COOKIE_LEN) == 0;
}

int vpn_getvpn_node_dgram_input(vpn_getvpn_node *n, const vpn_addr *src, const vpn_addr *dst,
                                const uint8_t *dg, size_t len, uint64_t now)
{
    gv_group *to = NULL;
    vpn_isakmp_hdr h;
    int rc;

    if (!n || !src || !dst || (!dg && len))
        return VPN_ERR_INVAL;
    n->st.dgrams_in++;
    if (len < ISAKMP_HDR_LEN || demux_fields(dg, len, &h)) {
        n->st.dgrams_unclaimed++;
        vpn_log_emit(&n->log, VPN_LOG_INFO, ENGINE, "UDP 848 datagram of %zu bytes ignored",
                     len);
        return VPN_ERR_MALFORMED;
    }
    for (size_t i = 0; i < n->n && !to; i++)
        if (n->g[i].role == VPN_GETVPN_ROLE_KS && vpn_addr_eq(dst, &n->g[i].local))
            to = &n->g[i];
    for (size_t k = 0; k < n->n_gm && !to; k++)
        if (gm_claims(&n->g[n->order[k]], dst, &h))
            to = &n->g[n->order[k]];
    if (!to) {
        char a[VPN_ADDR_STRLEN];
        n->st.dgrams_unclaimed++;
        vpn_log_emit(&n->log, VPN_LOG_INFO, ENGINE, "UDP 848 datagram from %s for no group",
                     vpn_addr_str(src, a, sizeof a));
        return VPN_ERR_NOTFOUND;
    }
    rc = to->ks ? vpn_gdoi_ks_input(to->ks, src, dg, len, now)
                : vpn_gdoi_gm_input_from(to->gm, src, dg, len, now);
    if (rc) {
        n->st.dgrams_refused++;
        vpn_log_emit(&n->log, VPN_LOG_INFO, ENGINE, "group %zu refused a datagram: %s", to->idx,
                     vpn_strerror(rc));
    }
    return rc;
}

uint64_t vpn_getvpn_node_next_deadline(vpn_getvpn_node *n)
{
    uint64_t d = UINT64_MAX, x;

    if (!n)
        return d;
    for (size_t i = 0; i < n->n; i++) {
        gv_group *g = &n->g[i];
        if (g->ks) {
            x = vpn_gdoi_ks_next_deadline(g->ks);
        } else {
            x = vpn_gdoi_gm_next_deadline(g->gm);
            if (g->start_at < x)
                x = g->start_at;
            uint64_t s = vpn_sad_next_deadline(g->sad);
            if (s < x)
                x = s;
        }
        if (x < d)
            d = x;
    }
    return d;
}

void vpn_getvpn_node_timeout(vpn_getvpn_node *n, uint64_t now)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++) {
        gv_group *g = &n->g[i];
        if (g->ks) {
            if (vpn_gdoi_ks_next_deadline(g->ks) <= now)
                vpn_gdoi_ks_timeout(g->ks, now);
            continue;
        }
        if (g->start_at <= now) {
            int rc;
            g->start_at = UINT64_MAX;
            /* a failed start is retried by the member's own timer
             * (VPN_ERR_STATE: already registering) */
            if ((rc = vpn_gdoi_gm_start(g->gm, now)) && rc != VPN_ERR_STATE) {
                vpn_log_emit(&n->log, VPN_LOG_WARN, ENGINE, "group %zu: cannot register: %s",
                             i, vpn_strerror(rc));
                g->start_at = now + 10ull * 1000000000ull;
            }
        }
        if (vpn_gdoi_gm_next_deadline(g->gm) <= now)
            vpn_gdoi_gm_timeout(g->gm, now);
        if (vpn_sad_next_deadline(g->sad) <= now)
            vpn_sad_timeout(g->sad, now);
    }
}

/* ---- data plane --------------------------------------------------------------- */

static int drop(vpn_getvpn_node *n, vpn_getvpn_drop why, const vpn_ip_info *ii, uint32_t spi,
                vpn_getvpn_drop *out)
{
    char s[VPN_ADDR_STRLEN], d[VPN_ADDR_STRLEN];

    n->st.drops[why]++;
    if (out)
        *out = why;
    if (ii)
        vpn_log_emit(&n->log, VPN_LOG_INFO, ENGINE, "packet %s -> %s (protocol %u, SPI 0x%08x) "
                     "dropped: %s", vpn_addr_str(&ii->src, s, sizeof s),
                     vpn_addr_str(&ii->dst, d, sizeof d), ii->proto, spi,
                     vpn_getvpn_drop_name(why));
    else
        vpn_log_emit(&n->log, VPN_LOG_INFO, ENGINE, "packet dropped: %s",
                     vpn_getvpn_drop_name(why));
    return VPN_GETVPN_DROP;
}

/* The selector fields of the IP packet in p (ports only from first fragments). */
static int parse(const uint8_t *p, size_t len, vpn_ip_info *ii)
{
    int rc = vpn_ip_parse(p, len, ii);
    if (rc)
        return rc;
    if (!ii->frag && ii->total_len > ii->hdr_len)
        vpn_ip_parse_ports(ii, p + ii->hdr_len, ii->total_len - ii->hdr_len);
    return 0;
}

/* The packet as the crypto map's ACL sees returning traffic: mirrored. */
static void mirror(const vpn_ip_info *in, vpn_ip_info *out)
{
    *out = *in;
    out->src = in->dst;
    out->dst = in->src;
    if (in->has_ports && in->proto != VPN_IPPROTO_ICMP && in->proto != VPN_IPPROTO_ICMPV6) {
        out->sport = in->dport;
        out->dport = in->sport;
    }
}

int vpn_getvpn_node_output(vpn_getvpn_node *n, vpn_pkt *pkt, uint64_t now, vpn_getvpn_drop *why)
{
    vpn_ip_info ii;

    if (!n || !pkt)
        return VPN_ERR_INVAL;
    if (parse(vpn_pkt_data(pkt), pkt->len, &ii))
        return drop(n, VPN_GETVPN_DROP_MALFORMED, NULL, 0, why);
    /* RFC 4301 5.1: the crypto map's entries in order; the first that
     * protects the packet decides, a deny (bypass) skips the entry */
    for (size_t k = 0; k < n->n_gm; k++) {
        gv_group *g = &n->g[n->order[k]];
        const vpn_spd_entry *e;
        vpn_spd_action a = vpn_spd_lookup(g->spd, &ii, &e);
        if (!e || a == VPN_SPD_BYPASS)
            continue;
        if (a == VPN_SPD_DISCARD)
            return drop(n, VPN_GETVPN_DROP_DISCARD, &ii, 0, why);
        /* fail closed while the policy is there and the TEK is not */
        if (!e->sa)
            return drop(n, VPN_GETVPN_DROP_NO_TEK, &ii, 0, why);
        /* address preservation, DSCP/ECN copy and TBAR are the SA's
         * (tunnel mode VPN_ESP_TUNNEL_ADDR_PRESERVE, see esp.h) */
        if (vpn_esp_encap(e->sa, pkt, now))
            return drop(n, VPN_GETVPN_DROP_ENCRYPT, &ii, vpn_sa_get_config(e->sa)->spi, why);
        n->st.out_encrypted++;
        return VPN_GETVPN_ENCRYPTED;
    }
    n->st.out_clear++;
    return VPN_GETVPN_PASS;
}

static vpn_getvpn_drop decap_reason(int rc, const vpn_sa *sa, uint64_t tbar_before)
{
    switch (rc) {
    case VPN_ERR_AUTH:
        return VPN_GETVPN_DROP_AUTH;
    case VPN_ERR_REPLAY:
        return vpn_sa_get_stats(sa)->err[VPN_SA_ERR_TBAR] != tbar_before
                   ? VPN_GETVPN_DROP_TBAR
                   : VPN_GETVPN_DROP_REPLAY;
    default:
        return VPN_GETVPN_DROP_DECAP;
    }
}

/* A permit line of the group's policy, the one its TEKs carry; a deny
 * (bypass) line or the GDOI bypass is not one (RFC 4301 5.2 step 4). */
static bool in_policy(const gv_group *g, const vpn_ip_info *ii)
{
    return vpn_gdoi_gm_policy_permits(g->gm, ii);
}

static int input_esp(vpn_getvpn_node *n, vpn_pkt *pkt, const vpn_ip_info *ii, uint64_t now,
                     vpn_getvpn_drop *why)
{
    const uint8_t *p = vpn_pkt_data(pkt);
    gv_group *g = NULL;
    vpn_sa *sa = NULL;
    vpn_esp_rx rx;
    vpn_ip_info in, m;
    uint64_t tbar;
    uint32_t spi;
    int rc;

    if (ii->total_len < ii->hdr_len + VPN_ESP_HDR_LEN)
        return drop(n, VPN_GETVPN_DROP_MALFORMED, ii, 0, why);
    spi = vpn_load32(p + ii->hdr_len);
    /* group SAs have wildcard destinations (RFC 4301 4.1, RFC 6407) */
    for (size_t k = 0; k < n->n_gm && !sa; k++) {
        g = &n->g[n->order[k]];
        sa = vpn_sad_lookup(g->sad, spi, &ii->dst);
    }
    if (!sa)
        return drop(n, VPN_GETVPN_DROP_UNKNOWN_SPI, ii, spi, why);
    tbar = vpn_sa_get_stats(sa)->err[VPN_SA_ERR_TBAR];
    if ((rc = vpn_esp_decap(g->sad, pkt, now, &rx)))
        return drop(n, decap_reason(rc, sa, tbar), ii, spi, why);
    if (rx.verdict != VPN_ESP_DELIVER)
        return drop(n, VPN_GETVPN_DROP_DECAP, ii, spi, why);
    /* RFC 4301 5.2 step 4: the inner packet must be one the group's
     * policy sends under its TEKs: every member applies the KS's
     * selector as it is (RFC 6407 5.4.1), the mirror is accepted too
     * (IOS applies crypto map ACLs to returning traffic mirrored) */
    if (parse(vpn_pkt_data(pkt), pkt->len, &in))
        return drop(n, VPN_GETVPN_DROP_MALFORMED, ii, spi, why);
    mirror(&in, &m);
    if (!in_policy(g, &in) && !in_policy(g, &m))
        return drop(n, VPN_GETVPN_DROP_INNER_POLICY, &in, spi, why);
    n->st.in_decrypted++;
    return VPN_GETVPN_DECRYPTED;
}

int vpn_getvpn_node_input(vpn_getvpn_node *n, vpn_pkt *pkt, uint64_t now, vpn_getvpn_drop *why)
{
    vpn_ip_info ii, m;

    if (!n || !pkt)
        return VPN_ERR_INVAL;
    if (parse(vpn_pkt_data(pkt), pkt->len, &ii))
        return drop(n, VPN_GETVPN_DROP_MALFORMED, NULL, 0, why);
    if (ii.proto == VPN_IPPROTO_ESP && !ii.frag && n->n_gm)
        return input_esp(n, pkt, &ii, now, why);
    /* RFC 4301 5.2: a clear packet that a sender's policy protects should
     * have come encrypted (an unregistered member's traffic, a forgery).
     * Senders apply the selector as it is; a deny line exempts the packet
     * in either direction, as IOS mirrors crypto map ACLs. */
    mirror(&ii, &m);
    for (size_t k = 0; k < n->n_gm; k++) {
        vpn_spd *spd = n->g[n->order[k]].spd;
        const vpn_spd_entry *ed, *em;
        vpn_spd_action ad = vpn_spd_lookup(spd, &ii, &ed);
        vpn_spd_action am = vpn_spd_lookup(spd, &m, &em);
        if ((ed && ad == VPN_SPD_BYPASS) || (em && am == VPN_SPD_BYPASS) || !ed)
            continue;
        return drop(n, ad == VPN_SPD_DISCARD ? VPN_GETVPN_DROP_DISCARD : VPN_GETVPN_DROP_CLEAR,
                    &ii, 0, why);
    }
    n->st.in_clear++;
    return VPN_GETVPN_PASS;
}

/* ---- state -------------------------------------------------------------------- */

const vpn_getvpn_stats *vpn_getvpn_node_get_stats(const vpn_getvpn_node *n)
{
    return n ? &n->st : NULL;
}

void vpn_getvpn_node_stats_get(const vpn_getvpn_node *n, vpn_getvpn_stats *out)
{
    if (out == NULL)
        return;
    if (n == NULL)
        memset(out, 0, sizeof *out);
    else
        *out = n->st;
}

size_t vpn_getvpn_node_n_groups(const vpn_getvpn_node *n) { return n ? n->n : 0; }

vpn_getvpn_role vpn_getvpn_node_role(const vpn_getvpn_node *n, size_t group)
{
    return n && group < n->n ? n->g[group].role : (vpn_getvpn_role)0;
}

const vpn_gdoi_ks *vpn_getvpn_node_ks(const vpn_getvpn_node *n, size_t group)
{
    return n && group < n->n ? n->g[group].ks : NULL;
}

vpn_gdoi_ks *vpn_getvpn_node_ks_mut(vpn_getvpn_node *n, size_t group)
{
    return n && group < n->n ? n->g[group].ks : NULL;
}

const vpn_gdoi_gm *vpn_getvpn_node_gm(const vpn_getvpn_node *n, size_t group)
{
    return n && group < n->n ? n->g[group].gm : NULL;
}

int vpn_getvpn_node_gm_restart(vpn_getvpn_node *n, size_t group, uint64_t now)
{
    if (!n || group >= n->n || !n->g[group].gm)
        return VPN_ERR_INVAL;
    n->g[group].start_at = UINT64_MAX;
    return vpn_gdoi_gm_start(n->g[group].gm, now);
}

const vpn_sad *vpn_getvpn_node_sad(const vpn_getvpn_node *n, size_t group)
{
    return n && group < n->n ? n->g[group].sad : NULL;
}
