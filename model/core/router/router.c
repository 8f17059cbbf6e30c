/*
 * The node's VPN router (router.h): engine events to SAD changes, tunnel
 * encapsulation, demultiplexing, lifetimes and DPD activity, one deadline.
 */
#include "router/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "crypto/crypto-ids.h"
#include "gre/gre.h"
#include "ikev2/ikev2-esp.h"
#include "ipsec/ip.h"
#include "ipsec/natt.h"
#include "router/router-ikev1.h"
#include "gdoi/gdoi.h"
#include "ikev1/ikev1.h"
#include "ipsec/wskeys.h"
#include <openssl/crypto.h>
#include "common/wire.h"
#include "show/show-gdoi.h"
#include "show/show-getvpn.h"
#include "show/show-ikev2.h"
#include "show/show-nhrp.h"

#define RT_PENDING_MAX 32
#define RT_SHAPES_MAX 6
/* Ids of manual SAs' records: apart from the engine's child ids. */
#define RT_MANUAL_ID_BASE 0x80000000u
#define RT_PEER_QUEUE 4      /* NHRP packets held per mGRE peer until its SA is up */
#define RT_PEER_QLEN 1024
#define RT_DOWN_MAX 64       /* NHRP removals looked at after the engine returns */

/* A peer of an mGRE tunnel, known by its NBMA address; in a hash chain. */
typedef struct rt_peer {
    vpn_addr nbma;
    vpn_gre_peer *gp;         /* the GRE tunnel's per-peer state (owned by it) */
    uint32_t out_child;       /* the record whose outbound SA carries traffic; 0: none */
    uint32_t out_idx;         /* where out_child's record was last found (child_find_at) */
    bool initiating;          /* our IKE_SA_INIT / IKE_AUTH towards it runs */
    uint32_t ike_sa_id;       /* of that initiation */
    bool ever_initiated, pending;
    uint64_t last_initiate;
    uint8_t nq;
    uint16_t qlen[RT_PEER_QUEUE];
    uint8_t (*q)[RT_PEER_QLEN]; /* NHRP payloads waiting for the SA (lazily allocated) */
    uint64_t encrypted, decrypted;
    uint32_t va;              /* virtual template: its Virtual-Access number; 0: none */
    uint32_t va_ike;          /* the IKE SA the clone lives with */
    uint32_t va_tunnel;
    uint64_t va_since;
    struct rt_peer *next, *pend_next;
} rt_peer;

struct vpn_router;

/* What an mGRE tunnel adds: its NHRP engine and peer table. */
typedef struct rt_mgre {
    struct vpn_router *r;
    uint32_t tunnel;
    vpn_nhrp *nhrp;
    uint32_t network_id;
    bool redirect;
    rt_peer **bucket;         /* hash of peers by NBMA address */
    size_t n_bucket, n_peer;
    rt_peer *pend;            /* peers to initiate IKE to at the next timeout */
    vpn_addr *mc;             /* multicast replication scratch */
    size_t cap_mc;
    vpn_addr down[RT_DOWN_MAX]; /* NBMA addresses whose NHRP entries went away */
    size_t n_down;
    struct {
        uint32_t ike_sa_id;
        uint64_t at;
    } dup[RT_DOWN_MAX];       /* redundant IKE SAs we initiated, deleted at `at` */
    size_t n_dup;
    vpn_addr route_nh;        /* the next hop the route callback named */
    uint32_t vt;              /* FlexVPN Virtual-Template number; 0: plain DMVPN */
    vpn_addr p2p;             /* `tunnel destination` of a point-to-point one; family 0: none */
} rt_mgre;

typedef struct rt_tunnel {
    char name[VPN_CONF_NAME_MAX];
    char ipsec_profile[VPN_CONF_NAME_MAX];
    vpn_router_tunnel_mode mode;
    vpn_addr src, dst;
    bool has_key;
    uint32_t key;
    bool initiate, initiate_at_start;
    vpn_gre_tunnel *gre;
    rt_mgre *mg;              /* MGRE only */
    uint32_t out_child;       /* the record whose outbound SA carries traffic; 0: none */
    bool ever_initiated;
    uint64_t last_initiate;
    bool initiate_pending;    /* on-demand: initiate at the next timeout */
    vpn_esp_shape shape[RT_SHAPES_MAX]; /* the transform sets its profile allows */
    size_t n_shape;
    uint64_t encrypted, decrypted, dropped;
    bool dual_overlay;        /* VTI: IPv6 selectors beside the IPv4 ones */
} rt_tunnel;

/* One CHILD_SA pair (or one manual SA) as installed in the SAD. */
typedef struct rt_child {
    uint32_t id;
    uint32_t tunnel;
    uint32_t ike_hint;        /* the IKE SA the engine last found it in (vpn_ikev2_child_activity_at) */
    vpn_addr peer;            /* mGRE: the peer's NBMA address (the SA's remote) */
    uint32_t ike_sa_id;
    vpn_sa *in, *out;         /* owned by the SAD; only this table refers to them */
    bool initiator;           /* we initiated the exchange that made it */
    uint32_t replaces;        /* rekey we answered: the pair still sending until deleted */
    bool superseded;          /* a rekey made a successor: do not ask for another */
    bool dying;               /* CHILD_DOWN(REKEYED): inbound kept until remove_at */
    uint64_t remove_at;
    /* ACCESS tunnels: the remote selectors (the client's assigned address
     * after narrowing), to pick the CHILD_SA an inner packet goes to. */
    vpn_ikev2_selector ts_remote[VPN_IKEV2_TS_MAX];
    size_t n_ts_remote;
} rt_child;

typedef struct rt_pending {
    uint32_t child_id;
    vpn_sa_event ev;
} rt_pending;

struct vpn_router {
    vpn_router_params p;
    char name[VPN_CONF_NAME_MAX];
    vpn_ikev2_ctx *ike;
    vpn_sad *sad;
    rt_tunnel tun[VPN_ROUTER_TUNNELS_MAX];
    size_t n_tun;
    rt_child *child;
    size_t n_child, cap_child;
    size_t n_dying;           /* records with dying set: the timer walks them only when > 0 */
    uint32_t *chash;          /* child id -> index + 1 (open addressing, 0: free) */
    size_t n_chash;           /* a power of two, >= 2 * cap_child */
    uint32_t next_manual;
    rt_pending pending[RT_PENDING_MAX];
    size_t n_pending;
    vpn_router_stats st;
    uint64_t now;             /* of the verb running, for callbacks that need it */
    vpn_getvpn_node *gv;      /* GET VPN groups and crypto map (NULL: none) */
    /* Virtual-Access clones: number -> peer (index = number), free numbers */
    rt_peer **va_tab;
    uint32_t cap_va, va_next;
    uint32_t *va_free;
    size_t n_va_free, cap_va_free, n_va;
    vpn_getvpn_drop cmap_why; /* why the crypto map dropped its last packet */
    rt_ikev1 *v1;             /* IKEv1 phase 1 on UDP 500 (NULL without a conf) */
    /* GET VPN key export: TEK SPIs and phase-1 initiator cookies already
     * reported (a handful per group and rekey) */
    uint32_t *gv_teks;
    size_t n_gv_teks, cap_gv_teks;
    uint64_t *gv_p1;
    size_t n_gv_p1, cap_gv_p1;
};

static void mgre_del(struct vpn_router *r, rt_tunnel *t);
static int mgre_new(struct vpn_router *r, rt_tunnel *t, uint32_t tag, const vpn_router_tunnel_config *cfg);
static void mgre_timeout(struct vpn_router *r, uint64_t now);
static uint64_t mgre_deadline(const struct vpn_router *r, uint64_t t);
static void mgre_ike_event(struct vpn_router *r, const vpn_ikev2_event *ike);
static void gv_scan(struct vpn_router *r);
static vpn_router_drop mgre_input(struct vpn_router *r, uint64_t now, struct rt_child *c, const vpn_esp_rx *rx,
                                  vpn_pkt *pkt, bool has_ip);

static const char *const drop_names[VPN_ROUTER_DROP_COUNT] = {
    [VPN_ROUTER_DROP_NONE] = "none",
    [VPN_ROUTER_DROP_ARGS] = "bad arguments",
    [VPN_ROUTER_DROP_NOT_IP] = "tunnel: not an IP packet",
    [VPN_ROUTER_DROP_OVERSIZE] = "oversized packet",
    [VPN_ROUTER_DROP_NO_SA] = "tunnel: no IPsec SA",
    [VPN_ROUTER_DROP_GRE] = "gre: refused",
    [VPN_ROUTER_DROP_ENCAP] = "esp: encapsulation refused",
    [VPN_ROUTER_DROP_SEND] = "net: send failed",
    [VPN_ROUTER_DROP_UDP_SHORT] = "net: UDP 4500 datagram too short",
    [VPN_ROUTER_DROP_UDP_PORT] = "net: UDP port not served",
    [VPN_ROUTER_DROP_ESP_MALFORMED] = "esp: malformed",
    [VPN_ROUTER_DROP_ESP_NO_SA] = "esp: unknown SPI",
    [VPN_ROUTER_DROP_ESP_REPLAY] = "esp: replayed or too old",
    [VPN_ROUTER_DROP_ESP_AUTH] = "esp: integrity check failed",
    [VPN_ROUTER_DROP_ESP_POLICY] = "esp: inner packet outside the selectors",
    [VPN_ROUTER_DROP_ESP_EXPIRED] = "esp: SA expired",
    [VPN_ROUTER_DROP_ESP_OTHER] = "esp: other error",
    [VPN_ROUTER_DROP_NO_TUNNEL] = "esp: SA of no tunnel",
    [VPN_ROUTER_DROP_DELIVER] = "tunnel: delivery failed",
    [VPN_ROUTER_DROP_NO_NBMA] = "mgre: no NHRP entry for the destination",
    [VPN_ROUTER_DROP_GDOI_UNCLAIMED] = "gdoi: datagram for no group",
    [VPN_ROUTER_DROP_GDOI_REFUSED] = "gdoi: datagram refused by the engine",
    [VPN_ROUTER_DROP_CRYPTO_MAP] = "crypto map: packet dropped",
    [VPN_ROUTER_DROP_IKEV1] = "ikev1: malformed, for no SA or refused",
};

const char *vpn_router_drop_name(vpn_router_drop d)
{
    return (unsigned)d < VPN_ROUTER_DROP_COUNT ? drop_names[d] : "?";
}

const char *vpn_router_key_table_name(vpn_router_key_table t)
{
    switch (t) {
    case VPN_ROUTER_KEYS_ESP_SA:
        return "esp_sa";
    case VPN_ROUTER_KEYS_IKEV1:
        return "ikev1_decryption_table";
    case VPN_ROUTER_KEYS_IKEV2:
        return "ikev2_decryption_table";
    }
    return NULL;
}

#define RT_LOG(r, lvl, ...) vpn_log_emit(&(r)->p.log, (lvl), (r)->name, __VA_ARGS__)

static void emit(vpn_router *r, const vpn_router_event *ev)
{
    if (r->p.event)
        r->p.event(r->p.user, ev);
}

static vpn_router_drop drop(vpn_router *r, vpn_router_drop why, uint32_t tunnel, uint32_t spi)
{
    vpn_router_event ev;

    r->st.drops[why]++;
    if (tunnel < r->n_tun)
        r->tun[tunnel].dropped++;
    RT_LOG(r, VPN_LOG_DEBUG, "drop%s%s: %s", tunnel < r->n_tun ? " on " : "",
           tunnel < r->n_tun ? r->tun[tunnel].name : "", vpn_router_drop_name(why));
    memset(&ev, 0, sizeof ev);
    ev.type = VPN_ROUTER_EV_DROP;
    ev.tunnel = tunnel < r->n_tun ? tunnel : VPN_ROUTER_NO_TUNNEL;
    ev.drop = why;
    ev.sa.spi = spi;
    emit(r, &ev);
    return why;
}

/* ---- the child table ------------------------------------------------------------------ */

/* Records are found by id through a linear-probing hash, so that the
 * per-packet lookups (every ESP packet in) cost the same with 10 or 10,000
 * CHILD_SAs. */
static size_t chash_home(uint32_t id, size_t mask)
{
    /* ids count up in the IKE engine's steps (IKE SAs and CHILD_SAs share
     * the counter): a bare multiply keeps id mod 2^k, so ids a step of 4
     * apart used a quarter of the slots; the fold spreads them over all. */
    uint64_t h = id * 0x9e3779b97f4a7c15ull;
    h ^= h >> 29;
    return (size_t)h & mask;
}

static size_t chash_slot(const vpn_router *r, uint32_t id)
{
    size_t mask = r->n_chash - 1;
    for (size_t i = chash_home(id, mask);; i = (i + 1) & mask)
        if (r->chash[i] == 0 || r->child[r->chash[i] - 1].id == id)
            return i;
}

static rt_child *child_find(const vpn_router *r, uint32_t id)
{
    size_t i;

    if (id == 0 || r->n_chash == 0)
        return NULL;
    i = chash_slot(r, id);
    return r->chash[i] ? &r->child[r->chash[i] - 1] : NULL;
}

/* child_find for a caller that keeps where the record was last found
 * (*idx): checked first, so the per-packet output skips the hash probe
 * (issue 14). Records move (child_unlink puts the last one in a freed
 * place), so a hint can go stale, never mislead: ids are unique in the
 * table, and a record found by its id is the one the hash names. */
static rt_child *child_find_at(const vpn_router *r, uint32_t id, uint32_t *idx)
{
    rt_child *c;

    if (id != 0 && *idx < r->n_child && r->child[*idx].id == id)
        return &r->child[*idx];
    if ((c = child_find(r, id)) != NULL)
        *idx = (uint32_t)(c - r->child);
    return c;
}

/* Traffic on an IKE-keyed record, for its IKE SA's DPD (RFC 7296 2.4):
 * the engine is told where the CHILD_SA was last found, and says where it
 * is now (issue 14: no index probe per packet). */
static void child_activity(vpn_router *r, uint64_t now, rt_child *c, bool in, bool out)
{
    c->ike_hint = vpn_ikev2_child_activity_at(r->ike, now, c->ike_hint, c->id, in, out);
}

/* Removes id's slot (backward-shift deletion keeps every chain intact). */
static void chash_del(vpn_router *r, uint32_t id)
{
    size_t mask = r->n_chash - 1, i, j;

    if (r->n_chash == 0)
        return;
    i = chash_slot(r, id);
    if (r->chash[i] == 0)
        return;
    j = i;
    for (;;) {
        r->chash[i] = 0;
        for (;;) {
            size_t k;
            j = (j + 1) & mask;
            if (r->chash[j] == 0)
                return;
            k = chash_home(r->child[r->chash[j] - 1].id, mask);
            if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
                continue;
            break;
        }
        r->chash[i] = r->chash[j];
        i = j;
    }
}

static int chash_rebuild(vpn_router *r, size_t n)
{
    uint32_t *h = calloc(n, sizeof *h);

    if (h == NULL)
        return VPN_ERR_NOMEM;
    free(r->chash);
    r->chash = h;
    r->n_chash = n;
    for (size_t i = 0; i < r->n_child; i++)
        r->chash[chash_slot(r, r->child[i].id)] = (uint32_t)i + 1;
    return 0;
}

static rt_child *child_new(vpn_router *r, uint32_t id, uint32_t tunnel)
{
    rt_child *c;

    if (r->n_child == r->cap_child) {
        size_t cap = r->cap_child ? r->cap_child * 2 : 8;
        rt_child *n = realloc(r->child, cap * sizeof *n);
        if (n == NULL)
            return NULL;
        r->child = n;
        r->cap_child = cap;
        if (chash_rebuild(r, cap * 4) != 0)
            return NULL;
    }
    c = &r->child[r->n_child++];
    memset(c, 0, sizeof *c);
    c->id = id;
    c->tunnel = tunnel;
    r->chash[chash_slot(r, id)] = (uint32_t)r->n_child;
    return c;
}

/* Takes record c out of the table (the last one moves into its place). */
static void child_unlink(vpn_router *r, rt_child *c)
{
    size_t idx = (size_t)(c - r->child), last = r->n_child - 1;

    chash_del(r, c->id);
    if (c->dying)
        r->n_dying--;
    if (idx != last) {
        r->chash[chash_slot(r, r->child[last].id)] = (uint32_t)idx + 1;
        r->child[idx] = r->child[last];
    }
    r->n_child--;
}

static vpn_router_sa_ref ref_of(const vpn_sa *sa, unsigned dir)
{
    vpn_router_sa_ref ref = {0, dir};
    if (sa)
        ref.spi = vpn_sa_get_config(sa)->spi;
    return ref;
}

static void sa_removed(vpn_router *r, const rt_child *c, vpn_sa *sa, unsigned dir)
{
    vpn_router_event ev;

    memset(&ev, 0, sizeof ev);
    ev.type = VPN_ROUTER_EV_SA_REMOVED;
    ev.tunnel = c->tunnel;
    ev.child_id = c->id >= RT_MANUAL_ID_BASE ? 0 : c->id;
    ev.sa = ref_of(sa, dir);
    vpn_sad_remove(r->sad, sa);
    emit(r, &ev);
}

/* ---- mGRE peers ---------------------------------------------------------------------- */

static size_t addr_hash(const vpn_addr *a)
{
    /* FNV-1a over the address octets */
    uint32_t h = 2166136261u ^ a->family;
    for (size_t i = 0; i < vpn_addr_len(a); i++)
        h = (h ^ a->b[i]) * 16777619u;
    return h;
}

static rt_peer *peer_find(const rt_mgre *mg, const vpn_addr *nbma)
{
    if (mg->n_bucket == 0)
        return NULL;
    for (rt_peer *p = mg->bucket[addr_hash(nbma) & (mg->n_bucket - 1)]; p; p = p->next)
        if (vpn_addr_eq(&p->nbma, nbma))
            return p;
    return NULL;
}

static int peer_grow(rt_mgre *mg)
{
    size_t n = mg->n_bucket ? mg->n_bucket * 2 : 64;
    rt_peer **b = calloc(n, sizeof *b);

    if (b == NULL)
        return VPN_ERR_NOMEM;
    for (size_t i = 0; i < mg->n_bucket; i++) {
        rt_peer *p = mg->bucket[i];
        while (p) {
            rt_peer *next = p->next;
            size_t h = addr_hash(&p->nbma) & (n - 1);
            p->next = b[h];
            b[h] = p;
            p = next;
        }
    }
    free(mg->bucket);
    mg->bucket = b;
    mg->n_bucket = n;
    return 0;
}

/* The peer, created if need be (NULL: out of memory, another family). */
static rt_peer *peer_get(vpn_router *r, rt_mgre *mg, const vpn_addr *nbma)
{
    rt_peer *p = peer_find(mg, nbma);
    size_t h;

    if (p)
        return p;
    if (nbma->family != r->tun[mg->tunnel].src.family)
        return NULL;
    if ((mg->n_peer + 1 > mg->n_bucket * 2 || mg->n_bucket == 0) && peer_grow(mg) != 0)
        return NULL;
    if ((p = calloc(1, sizeof *p)) == NULL)
        return NULL;
    p->nbma = *nbma;
    if (vpn_gre_peer_add(r->tun[mg->tunnel].gre, nbma, &p->gp) != 0) {
        free(p);
        return NULL;
    }
    h = addr_hash(nbma) & (mg->n_bucket - 1);
    p->next = mg->bucket[h];
    mg->bucket[h] = p;
    mg->n_peer++;
    return p;
}

/* ---- Virtual-Access clones (router.h, FlexVPN virtual templates) ------------------------ */

/* A number for a new clone: a freed one first, else the next. 0: no memory. */
static uint32_t va_alloc(vpn_router *r, rt_peer *p)
{
    uint32_t n;

    if (r->n_va_free > 0) {
        n = r->va_free[--r->n_va_free];
    } else {
        if (r->va_next + 1 >= r->cap_va) {
            uint32_t cap = r->cap_va ? r->cap_va * 2 : 64;
            rt_peer **t = realloc(r->va_tab, cap * sizeof *t);
            if (t == NULL)
                return 0;
            memset(t + r->cap_va, 0, (cap - r->cap_va) * sizeof *t);
            r->va_tab = t;
            r->cap_va = cap;
        }
        n = ++r->va_next;
    }
    r->va_tab[n] = p;
    r->n_va++;
    return n;
}

/* The clone of p goes (no event: the callers say why). */
static void va_release(vpn_router *r, rt_peer *p)
{
    if (p->va == 0)
        return;
    if (r->n_va_free == r->cap_va_free) {
        size_t cap = r->cap_va_free ? r->cap_va_free * 2 : 64;
        uint32_t *f = realloc(r->va_free, cap * sizeof *f);
        if (f) {
            r->va_free = f;
            r->cap_va_free = cap;
        }
    }
    /* without memory for the free list the number is simply not reused */
    if (r->n_va_free < r->cap_va_free)
        r->va_free[r->n_va_free++] = p->va;
    r->va_tab[p->va] = NULL;
    r->n_va--;
    p->va = 0;
    p->va_ike = 0;
}

static void va_event(vpn_router *r, vpn_router_event_type type, const rt_peer *p, uint32_t va)
{
    vpn_router_event ev;

    memset(&ev, 0, sizeof ev);
    ev.type = type;
    ev.tunnel = p->va_tunnel;
    ev.peer = p->nbma;
    ev.va = va;
    emit(r, &ev);
}

static void peer_free(vpn_router *r, rt_mgre *mg, rt_peer *p)
{
    rt_peer **pp = &mg->bucket[addr_hash(&p->nbma) & (mg->n_bucket - 1)];

    while (*pp && *pp != p)
        pp = &(*pp)->next;
    if (*pp)
        *pp = p->next;
    for (rt_peer **q = &mg->pend; *q; q = &(*q)->pend_next)
        if (*q == p) {
            *q = p->pend_next;
            break;
        }
    va_release(r, p);
    vpn_gre_peer_remove(r->tun[mg->tunnel].gre, p->gp);
    free(p->q);
    free(p);
    mg->n_peer--;
}

/* Where record c's outbound SA is named as the one carrying traffic: the
 * tunnel (point to point) or its peer (mGRE). */
static uint32_t *out_slot(vpn_router *r, const rt_child *c)
{
    rt_tunnel *t = &r->tun[c->tunnel];
    rt_peer *p;

    if (t->mode == VPN_ROUTER_TUNNEL_ACCESS)
        return NULL; /* chosen per packet (access_child) */
    if (t->mg == NULL)
        return &t->out_child;
    p = peer_find(t->mg, &c->peer);
    return p ? &p->out_child : NULL;
}

/* The tunnel's traffic moves to the rekey successor of old (if any), else
 * to another pair of the same tunnel (mGRE: with the same peer) that is
 * still installed: both ends initiated, or the peer added a CHILD_SA it
 * then deleted (strongSwan does that when it cannot install what it
 * negotiated). Without this a point-to-point tunnel would stop sending
 * while an SA pair with its peer is up (RFC 7296 1.4.1: deleting one
 * CHILD_SA leaves the others). */
static void hand_over(vpn_router *r, const rt_child *old)
{
    uint32_t *slot = out_slot(r, old);

    if (slot == NULL || *slot != old->id)
        return;
    *slot = 0;
    for (size_t i = 0; i < r->n_child; i++) {
        rt_child *n = &r->child[i];
        if (n->replaces == old->id && !n->dying && n->out) {
            n->replaces = 0;
            *slot = n->id;
            return;
        }
    }
    /* Another pair with the same peer on the tunnel takes over: on mGRE one
     * that came up beside it; on a point-to-point tunnel the survivor of two
     * IKE SAs both ends initiated at once (the engine deletes the other,
     * ikev2_duplicate_check), whichever of the two came up last. */
    for (size_t i = 0; i < r->n_child; i++) {
        rt_child *n = &r->child[i];
        if (n != old && n->tunnel == old->tunnel && !n->dying && n->out && n->replaces == 0 &&
            (r->tun[old->tunnel].mg == NULL || vpn_addr_eq(&n->peer, &old->peer))) {
            *slot = n->id;
            return;
        }
    }
}

static void child_remove(vpn_router *r, uint32_t id)
{
    rt_child *c = child_find(r, id);
    rt_child copy;

    if (c == NULL)
        return;
    hand_over(r, c);
    copy = *c;
    child_unlink(r, c);
    if (copy.in)
        sa_removed(r, &copy, copy.in, VPN_SA_IN);
    if (copy.out)
        sa_removed(r, &copy, copy.out, VPN_SA_OUT);
    if (copy.id < RT_MANUAL_ID_BASE) {
        r->st.children_removed++;
        RT_LOG(r, VPN_LOG_INFO, "CHILD_SA %u removed from %s", copy.id, r->tun[copy.tunnel].name);
    }
}

static void key_line(vpn_router *r, vpn_router_key_table table, const char *line);

/* With key_lines: the SA's esp_sa line, for traffic in direction dir. */
static void esp_key_line(vpn_router *r, const vpn_sa *sa, unsigned dir)
{
    char line[512];

    if (!r->p.key_lines)
        return;
    if (vpn_wskeys_esp_sa_line(sa, dir, 4, line, sizeof line) > 0)
        key_line(r, VPN_ROUTER_KEYS_ESP_SA, line);
    else
        RT_LOG(r, VPN_LOG_WARN, "SPI 0x%08x: no Wireshark key line", vpn_sa_get_config(sa)->spi);
    OPENSSL_cleanse(line, sizeof line);
}

/* The decrypted view for traces: an inner packet under an SA Wireshark
 * cannot decrypt (router.h, esp_plain). */
static void esp_plain(vpn_router *r, uint32_t tunnel, const vpn_sa *sa, bool outbound, const vpn_pkt *pkt)
{
    if (r->p.esp_plain && sa && !vpn_wskeys_sa_decryptable(sa))
        r->p.esp_plain(r->p.user, tunnel, outbound, vpn_pkt_data(pkt), pkt->len);
}

static void sa_installed(vpn_router *r, const rt_child *c, const vpn_sa *sa, unsigned dir)
{
    vpn_router_event ev;

    esp_key_line(r, sa, dir);
    memset(&ev, 0, sizeof ev);
    ev.type = VPN_ROUTER_EV_SA_INSTALLED;
    ev.tunnel = c->tunnel;
    ev.child_id = c->id >= RT_MANUAL_ID_BASE ? 0 : c->id;
    ev.sa = ref_of(sa, dir);
    ev.sa_view = sa;
    emit(r, &ev);
}

/*
 * RFC 4301 4.4.2.1 soft and hard limits from the ipsec profile: the hard
 * byte limit is `lifetime kilobytes`, the soft one where the engine would
 * rekey by time (the exchange's initiator at 90%, the other side at 95%, so
 * both ends do not start a rekey at once; RFC 7296 2.8.1). Time: hard at
 * `lifetime seconds` (the engine rekeys before, by itself).
 */
static void set_limits(vpn_sa_config *cfg, const vpn_ikev2_child_info *ci)
{
    uint64_t bytes = (uint64_t)ci->lifetime_kb * 1024u;

    cfg->hard.bytes = bytes;
    cfg->soft.bytes = ci->initiator ? bytes / 10 * 9 : bytes / 20 * 19;
    cfg->hard.time_ns = (uint64_t)ci->lifetime_s * 1000000000ull;
}

static void mgre_child_up(vpn_router *r, rt_tunnel *t, rt_child *c, const vpn_ikev2_child_info *ci);

static void child_install(vpn_router *r, const vpn_ikev2_child_info *ci)
{
    vpn_ts ts[VPN_IKEV2_CHILD_TS_MAX];
    vpn_sa_config in, out;
    rt_child *c;
    rt_tunnel *t;
    int rc;

    if (ci->policy_tag >= r->n_tun) {
        RT_LOG(r, VPN_LOG_WARN, "CHILD_SA %u for unknown tunnel %u: not installed", ci->id, ci->policy_tag);
        return;
    }
    t = &r->tun[ci->policy_tag];
    if ((rc = vpn_ikev2_child_sa_configs(ci, ts, VPN_IKEV2_CHILD_TS_MAX, &in, &out)) != 0) {
        RT_LOG(r, VPN_LOG_ERROR, "CHILD_SA %u: %s", ci->id, vpn_strerror(rc));
        return;
    }
    set_limits(&in, ci);
    set_limits(&out, ci);
    in.user = out.user = (void *)(uintptr_t)ci->id;
    if ((c = child_new(r, ci->id, ci->policy_tag)) == NULL) {
        RT_LOG(r, VPN_LOG_ERROR, "CHILD_SA %u: out of memory", ci->id);
        return;
    }
    c->initiator = ci->initiator;
    c->peer = ci->remote.addr;
    c->ike_sa_id = ci->ike_sa_id;
    c->ike_hint = ci->ike_sa_id;
    if ((rc = vpn_sad_add(r->sad, &in, r->now, &c->in)) != 0 ||
        (rc = vpn_sad_add(r->sad, &out, r->now, &c->out)) != 0) {
        RT_LOG(r, VPN_LOG_ERROR, "CHILD_SA %u: SA: %s", ci->id, vpn_strerror(rc));
        if (c->in)
            vpn_sad_remove(r->sad, c->in);
        child_unlink(r, c);
        return;
    }
    sa_installed(r, c, c->in, VPN_SA_IN);
    sa_installed(r, c, c->out, VPN_SA_OUT);
    r->st.children_installed++;
    if (ci->old_id != 0) {
        rt_child *old = child_find(r, ci->old_id);
        if (old)
            old->superseded = true;
    }
    /* The rekey grace policy of router.h: a rekey's responder keeps the old
     * pair sending until the initiator deletes it. */
    if (t->mg) {
        mgre_child_up(r, t, c, ci);
        return;
    }
    if (t->mode == VPN_ROUTER_TUNNEL_ACCESS) {
        /* No single outbound SA: access_child picks one per packet. */
        c->n_ts_remote = ci->n_ts_remote < VPN_IKEV2_TS_MAX ? ci->n_ts_remote : VPN_IKEV2_TS_MAX;
        memcpy(c->ts_remote, ci->ts_remote, c->n_ts_remote * sizeof c->ts_remote[0]);
        if (ci->old_id != 0 && !ci->initiator)
            c->replaces = ci->old_id;
        return;
    }
    if (ci->old_id != 0 && !ci->initiator && t->out_child == ci->old_id)
        c->replaces = ci->old_id;
    else
        t->out_child = c->id;
    t->initiate_pending = false;
}

/* Another installed pair of c's tunnel with the same peer (on mGRE: the
 * same NBMA address), not an ACCESS tunnel's other users: the survivor of
 * two IKE SAs both ends initiated at once (ikev2_duplicate_check), or a
 * pair the peer added beside c. */
static bool pair_beside(const vpn_router *r, const rt_child *c)
{
    const rt_tunnel *t = &r->tun[c->tunnel];

    if (t->mode == VPN_ROUTER_TUNNEL_ACCESS)
        return false;
    for (size_t i = 0; i < r->n_child; i++) {
        const rt_child *n = &r->child[i];
        if (n != c && n->tunnel == c->tunnel && !n->dying && n->out &&
            (t->mg == NULL || vpn_addr_eq(&n->peer, &c->peer)))
            return true;
    }
    return false;
}

static void child_down(vpn_router *r, const vpn_ikev2_event *ev)
{
    rt_child *c = child_find(r, ev->child->id);

    if (c == NULL || c->dying)
        return;
    if (ev->reason == VPN_IKEV2_R_REKEYED || pair_beside(r, c)) {
        /* RFC 7296 2.8: packets sent under the old SA may still arrive.
         * So with a pair deleted while another to the same peer stays
         * (both ends initiated at once: the peer sent on whichever pair
         * it installed last until the Delete reached it): the traffic
         * moves to the other pair, and what is in flight on this one is
         * still taken for the grace. */
        hand_over(r, c);
        c->dying = true;
        r->n_dying++;
        c->remove_at = r->now + r->p.rekey_grace_ns;
        RT_LOG(r, VPN_LOG_DEBUG, "CHILD_SA %u replaced: inbound SA kept %llu ms", c->id,
               (unsigned long long)(r->p.rekey_grace_ns / 1000000u));
        return;
    }
    child_remove(r, c->id);
}

/* RFC 7296 2.23: the peer moved (a NAT's new mapping): the pair's ESP
 * goes there from now on, and packets from there are no longer news. */
static void child_moved(vpn_router *r, const vpn_ikev2_child_info *ci)
{
    rt_child *c = child_find(r, ci->id);
    char a[VPN_ADDR_STRLEN];

    if (c == NULL || c->dying)
        return;
    if (vpn_sa_set_peer(c->out, &ci->remote.addr, ci->remote.port) != 0 ||
        vpn_sa_set_peer(c->in, &ci->remote.addr, ci->remote.port) != 0)
        return;
    RT_LOG(r, VPN_LOG_INFO, "CHILD_SA %u: ESP now to %s port %u", c->id,
           vpn_addr_str(&ci->remote.addr, a, sizeof a), ci->remote.port);
}

/* ---- engine callbacks -------------------------------------------------------------------- */

static void on_ike_plain(void *user, uint32_t ike_sa_id, bool outbound, const uint8_t *dgram, size_t len)
{
    vpn_router *r = user;
    r->p.ike_plain(r->p.user, ike_sa_id, outbound, dgram, len);
}

static void on_ike_send(void *user, const vpn_ikev2_dgram *d)
{
    vpn_router *r = user;
    r->p.send_udp(r->p.user, d);
}

static void key_line(vpn_router *r, vpn_router_key_table table, const char *line)
{
    vpn_router_event ev;

    memset(&ev, 0, sizeof ev);
    ev.type = VPN_ROUTER_EV_KEY_LINE;
    ev.tunnel = VPN_ROUTER_NO_TUNNEL;
    ev.key_table = table;
    ev.key_line = line;
    emit(r, &ev);
}

static void on_v1_key_line(void *user, const char *line)
{
    key_line(user, VPN_ROUTER_KEYS_IKEV1, line);
}

/* With key_lines: an IKE SA's ikev2_decryption_table line as soon as it
 * has keys (the engine's ike_keyed): every IKE SA, the redundant one of a
 * simultaneous rekey (RFC 7296 2.8.2) and one whose IKE_AUTH failed too,
 * so the whole capture decrypts. */
static void on_ike_keyed(void *user, uint32_t ike_sa_id)
{
    vpn_router *r = user;
    char line[1024];

    if (vpn_ikev2_sa_wireshark_line(r->ike, ike_sa_id, line, sizeof line) == 0)
        key_line(r, VPN_ROUTER_KEYS_IKEV2, line);
    OPENSSL_cleanse(line, sizeof line);
}

static void on_ike_event(void *user, const vpn_ikev2_event *ike)
{
    vpn_router *r = user;
    vpn_router_event ev;

    switch (ike->type) {
    case VPN_IKEV2_EV_CHILD_UP:
        child_install(r, ike->child);
        break;
    case VPN_IKEV2_EV_CHILD_REKEYED:
        r->st.rekeys++;
        break;
    case VPN_IKEV2_EV_CHILD_DOWN:
        child_down(r, ike);
        break;
    case VPN_IKEV2_EV_CHILD_MOVED:
        child_moved(r, ike->child);
        break;
    default:
        break;
    }
    mgre_ike_event(r, ike);
    memset(&ev, 0, sizeof ev);
    ev.type = VPN_ROUTER_EV_IKEV2;
    ev.ike = ike;
    ev.tunnel = ike->child && ike->child->policy_tag < r->n_tun ? ike->child->policy_tag : VPN_ROUTER_NO_TUNNEL;
    ev.child_id = ike->child ? ike->child->id : 0;
    emit(r, &ev);
}

/* SA lifetime events arrive inside packet processing or vpn_sad_timeout,
 * where the SAD must not change: noted here, acted on by flush(). */
static void on_sa_event(void *user, vpn_sa *sa, vpn_sa_event e, vpn_sa_limit why, uint64_t now)
{
    vpn_router *r = user;
    (void)why;
    (void)now;
    if (r->n_pending < RT_PENDING_MAX) {
        r->pending[r->n_pending].child_id = (uint32_t)(uintptr_t)vpn_sa_get_user(sa);
        r->pending[r->n_pending].ev = e;
        r->n_pending++;
    }
}

/* What SA limits ask of the engine (RFC 7296 2.8): a soft limit, a new
 * CHILD_SA; a hard one, the old deleted (it refuses traffic already). */
static void flush(vpn_router *r)
{
    for (size_t i = 0; i < r->n_pending; i++) {
        rt_pending *p = &r->pending[i];
        rt_child *c = child_find(r, p->child_id);
        int rc;

        if (c == NULL || c->id >= RT_MANUAL_ID_BASE || c->dying || r->ike == NULL)
            continue;
        if (p->ev == VPN_SA_EV_SOFT) {
            if (c->superseded)
                continue;
            rc = vpn_ikev2_child_rekey(r->ike, r->now, c->id);
            RT_LOG(r, VPN_LOG_INFO, "CHILD_SA %u: soft lifetime reached: rekey (%s)", c->id, vpn_strerror(rc));
            if (rc == 0)
                r->st.lifetime_rekeys++;
        } else {
            rc = vpn_ikev2_child_delete(r->ike, r->now, c->id);
            RT_LOG(r, VPN_LOG_INFO, "CHILD_SA %u: hard lifetime reached: delete (%s)", c->id, vpn_strerror(rc));
            r->st.lifetime_deletes++;
            if (rc != 0) /* the engine no longer has it: nothing will tell us */
                child_remove(r, c->id);
        }
    }
    r->n_pending = 0;
}

/* ---- creation -------------------------------------------------------------------------------- */

void vpn_router_params_init(vpn_router_params *p)
{
    if (p)
        memset(p, 0, sizeof *p);
}

int vpn_router_new(vpn_router **out, const vpn_router_params *params)
{
    vpn_router *r;
    const vpn_rng *sad_rng;
    int rc;

    if (out == NULL || params == NULL || params->send_esp == NULL || params->deliver == NULL ||
        (params->conf && params->send_udp == NULL) || params->rng.fill == NULL)
        return VPN_ERR_INVAL;
    *out = NULL;
    if ((r = calloc(1, sizeof *r)) == NULL)
        return VPN_ERR_NOMEM;
    r->p = *params;
    if (r->p.rekey_grace_ns == 0)
        r->p.rekey_grace_ns = VPN_ROUTER_REKEY_GRACE_NS;
    if (r->p.on_demand_holddown_ns == 0)
        r->p.on_demand_holddown_ns = VPN_ROUTER_ON_DEMAND_HOLDDOWN_NS;
    snprintf(r->name, sizeof r->name, "%s",
             params->name ? params->name
                          : (params->conf && params->conf->hostname[0] ? params->conf->hostname : "router"));
    r->p.name = r->name;
    r->next_manual = RT_MANUAL_ID_BASE;
    sad_rng = params->sad_rng.fill ? &params->sad_rng : &params->rng;
    if ((rc = vpn_sad_new(&r->sad, sad_rng)) != 0) {
        free(r);
        return rc;
    }
    vpn_sad_set_log(r->sad, &params->log);
    vpn_sad_set_event_cb(r->sad, on_sa_event, r);
    if (params->conf) {
        vpn_ikev2_params ip;
        memset(&ip, 0, sizeof ip);
        ip.conf = params->conf;
        ip.rng = params->rng;
        ip.log = params->log;
        ip.name = r->name;
        ip.send = on_ike_send;
        ip.event = on_ike_event;
        ip.user = r;
        ip.rto_initial_ns = params->rto_initial_ns;
        ip.rto_max_ns = params->rto_max_ns;
        ip.retries = params->retries;
        ip.unix_time_offset_s = params->unix_time_offset_s;
        ip.no_rfc7427 = params->no_rfc7427;
        ip.eap = params->eap;
        ip.ike_plain = params->ike_plain ? on_ike_plain : NULL;
        ip.ike_keyed = params->key_lines ? on_ike_keyed : NULL;
        if ((rc = vpn_ikev2_ctx_new(&r->ike, &ip)) != 0) {
            vpn_sad_del(r->sad);
            free(r);
            return rc;
        }
        rt_ikev1_params vp;
        memset(&vp, 0, sizeof vp);
        vp.conf = params->conf;
        vp.rng = &r->p.rng;
        vp.log = params->log;
        vp.name = r->name;
        vp.send = on_ike_send;
        vp.key_line = params->key_lines ? on_v1_key_line : NULL;
        vp.user = r;
        if ((rc = rt_ikev1_new(&r->v1, &vp)) != 0) {
            vpn_ikev2_ctx_del(r->ike);
            vpn_sad_del(r->sad);
            free(r);
            return rc;
        }
    }
    *out = r;
    return 0;
}

void vpn_router_del(vpn_router *r)
{
    if (r == NULL)
        return;
    vpn_ikev2_ctx_del(r->ike);
    rt_ikev1_del(r->v1);
    vpn_getvpn_node_del(r->gv); /* its own SADs: TEKs wiped */
    free(r->gv_teks);
    free(r->gv_p1);
    vpn_sad_del(r->sad); /* wipes every SA's keys */
    for (size_t i = 0; i < r->n_tun; i++) {
        mgre_del(r, &r->tun[i]);
        vpn_gre_tunnel_del(r->tun[i].gre);
    }
    free(r->child);
    free(r->chash);
    free(r->va_tab);
    free(r->va_free);
    free(r);
}

/* ---- tunnels ---------------------------------------------------------------------------------- */

void vpn_router_gre_policy(vpn_ikev2_policy *pol, const char *ipsec_profile, const vpn_addr *src,
                           const vpn_addr *dst, uint32_t tag)
{
    vpn_prefix s, d;

    memset(pol, 0, sizeof *pol);
    pol->ipsec_profile = ipsec_profile;
    pol->remote.addr = *dst;
    pol->remote.len = (uint8_t)(vpn_addr_len(dst) * 8);
    pol->tag = tag;
    s.addr = *src;
    s.len = (uint8_t)(vpn_addr_len(src) * 8);
    d.addr = *dst;
    d.len = pol->remote.len;
    /* IOS's IPSEC FLOW of a GRE tunnel: permit 47 host SRC host DST */
    vpn_ikev2_selector_from_prefix(&pol->ts_local[0], &s, VPN_IPPROTO_GRE);
    vpn_ikev2_selector_from_prefix(&pol->ts_remote[0], &d, VPN_IPPROTO_GRE);
    pol->n_ts_local = pol->n_ts_remote = 1;
}

static void policy_add_any6(vpn_ikev2_policy *pol);

static void tunnel_policy(const rt_tunnel *t, uint32_t tag, vpn_ikev2_policy *pol)
{
    if (t->mode == VPN_ROUTER_TUNNEL_MGRE) {
        /* Answer any peer: permit 47 host SRC any (the proposal narrows it
         * to the two ends, RFC 7296 2.9); peers initiate per NBMA address. */
        vpn_addr any;
        memset(&any, 0, sizeof any);
        any.family = t->src.family;
        vpn_router_gre_policy(pol, t->ipsec_profile, &t->src, &any, tag);
        pol->remote.len = 0;
        pol->ts_remote[0].proto = VPN_IPPROTO_GRE;
        {
            vpn_prefix all = {any, 0};
            vpn_ikev2_selector_from_prefix(&pol->ts_remote[0], &all, VPN_IPPROTO_GRE);
        }
        return;
    }
    if (t->mode == VPN_ROUTER_TUNNEL_ACCESS) {
        /* Any client: a VTI's any/any, narrowed by the engine to the
         * address it assigns (RFC 7296 3.15.4 ties the two). */
        vpn_ikev2_policy_vti(pol, t->ipsec_profile, &t->dst, tag);
        memset(&pol->remote, 0, sizeof pol->remote);
        policy_add_any6(pol);
        return;
    }
    if (t->mode == VPN_ROUTER_TUNNEL_VTI) {
        vpn_ikev2_policy_vti(pol, t->ipsec_profile, &t->dst, tag);
        if (t->dual_overlay)
            policy_add_any6(pol);
        return;
    }
    vpn_router_gre_policy(pol, t->ipsec_profile, &t->src, &t->dst, tag);
}

/* A VTI's second pair of selectors, ::/0 both ways: the template or the
 * `tunnel mode ipsec dual-overlay` tunnel carries IPv6 inner packets too
 * (RFC 7296 2.9: one CHILD_SA, a selector of each family). */
static void policy_add_any6(vpn_ikev2_policy *pol)
{
    /* On a remote-access template an IPv6 user's ::/0 meets ::/0 here and
     * is narrowed to the address its `ipv6 pool` gave (3.15.1); a user
     * given an IPv4 address only keeps no IPv6 selector (ikev2-auth.c). A
     * peer given no address at all keeps what it proposed, in either
     * family, as it did with 0.0.0.0/0 before. */
    vpn_prefix any6;

    if (pol->n_ts_local >= VPN_IKEV2_TS_MAX || pol->n_ts_remote >= VPN_IKEV2_TS_MAX)
        return;
    memset(&any6, 0, sizeof any6);
    any6.addr.family = VPN_AF_INET6;
    vpn_ikev2_selector_from_prefix(&pol->ts_local[pol->n_ts_local++], &any6, 0);
    vpn_ikev2_selector_from_prefix(&pol->ts_remote[pol->n_ts_remote++], &any6, 0);
}

/* The ESP shapes the tunnel's ipsec profile allows, for its MTU before an
 * SA exists. A VTI is tunnel mode whatever the transform set says. */
static void tunnel_shapes(const vpn_router *r, rt_tunnel *t)
{
    const vpn_conf_ipsec_profile *ip;

    t->n_shape = 0;
    if (r->p.conf == NULL || (ip = vpn_conf_find_ipsec_profile(r->p.conf, t->ipsec_profile)) == NULL)
        return;
    for (size_t i = 0; i < ip->n_transform_set && t->n_shape < RT_SHAPES_MAX; i++) {
        const vpn_conf_transform_set *ts = vpn_conf_find_transform_set(r->p.conf, ip->transform_set[i]);
        vpn_esp_shape *s = &t->shape[t->n_shape];
        if (ts == NULL)
            continue;
        memset(s, 0, sizeof *s);
        s->encr_id = ts->encr.id;
        s->encr_key_bits = ts->encr.bits;
        s->integ_id = ts->integ;
        s->mode = ts->mode == VPN_CONF_MODE_TRANSPORT && t->mode != VPN_ROUTER_TUNNEL_VTI ? VPN_ESP_TRANSPORT
                                                                                          : VPN_ESP_TUNNEL;
        s->outer_family = t->dst.family;
        t->n_shape++;
    }
}

int vpn_router_tunnel_add(vpn_router *r, const vpn_router_tunnel_config *cfg, uint32_t *id)
{
    rt_tunnel *t;
    uint32_t tag;
    int rc;

    if (r == NULL || cfg == NULL ||
        (cfg->mode != VPN_ROUTER_TUNNEL_GRE_IPSEC && cfg->mode != VPN_ROUTER_TUNNEL_VTI &&
         cfg->mode != VPN_ROUTER_TUNNEL_MGRE && cfg->mode != VPN_ROUTER_TUNNEL_ACCESS) ||
        (cfg->src.family != VPN_AF_INET && cfg->src.family != VPN_AF_INET6) ||
        (cfg->mode != VPN_ROUTER_TUNNEL_MGRE && cfg->mode != VPN_ROUTER_TUNNEL_ACCESS &&
         cfg->src.family != cfg->dst.family) ||
        (cfg->mode == VPN_ROUTER_TUNNEL_ACCESS && r->ike == NULL) ||
        (cfg->mode == VPN_ROUTER_TUNNEL_MGRE && (cfg->nhrp == NULL || r->ike == NULL)) ||
        (cfg->virtual_template && cfg->mode != VPN_ROUTER_TUNNEL_MGRE) ||
        (r->p.conf && cfg->ipsec_profile == NULL))
        return VPN_ERR_INVAL;
    if (r->n_tun == VPN_ROUTER_TUNNELS_MAX)
        return VPN_ERR_LIMIT;
    tag = (uint32_t)r->n_tun;
    t = &r->tun[tag];
    memset(t, 0, sizeof *t);
    if (cfg->name)
        snprintf(t->name, sizeof t->name, "%s", cfg->name);
    else
        snprintf(t->name, sizeof t->name, "Tunnel%u", tag);
    snprintf(t->ipsec_profile, sizeof t->ipsec_profile, "%s", cfg->ipsec_profile ? cfg->ipsec_profile : "");
    t->mode = cfg->mode;
    t->src = cfg->src;
    t->dst = cfg->dst;
    if (t->mode == VPN_ROUTER_TUNNEL_MGRE || t->mode == VPN_ROUTER_TUNNEL_ACCESS) {
        memset(&t->dst, 0, sizeof t->dst);
        t->dst.family = t->src.family; /* for MTU and header sizes */
    }
    t->has_key = cfg->has_key;
    t->key = cfg->key;
    t->dual_overlay = cfg->dual_overlay && t->mode == VPN_ROUTER_TUNNEL_VTI;
    /* A hub does not know its clients: it never initiates towards them. */
    t->initiate = cfg->initiate && t->mode != VPN_ROUTER_TUNNEL_ACCESS;
    t->initiate_at_start = cfg->initiate_at_start && t->initiate;
    if (t->mode == VPN_ROUTER_TUNNEL_GRE_IPSEC) {
        vpn_gre_tunnel_config g;
        memset(&g, 0, sizeof g);
        g.local = t->src;
        g.remote = t->dst;
        g.has_key = t->has_key;
        g.key = t->key;
        g.tos = VPN_GRE_TOS_COPY;
        if ((rc = vpn_gre_tunnel_new(&t->gre, &g)) != 0)
            return rc;
    } else if (t->mode == VPN_ROUTER_TUNNEL_MGRE && (rc = mgre_new(r, t, tag, cfg)) != 0) {
        return rc;
    }
    if (r->ike) {
        vpn_ikev2_policy pol;
        tunnel_policy(t, tag, &pol);
        if ((rc = vpn_ikev2_policy_add(r->ike, &pol)) != 0) {
            mgre_del(r, t);
            vpn_gre_tunnel_del(t->gre);
            t->gre = NULL;
            return rc;
        }
    }
    tunnel_shapes(r, t);
    r->n_tun++;
    if (id)
        *id = tag;
    return 0;
}

static int initiate(vpn_router *r, uint64_t now, uint32_t tunnel)
{
    rt_tunnel *t = &r->tun[tunnel];
    vpn_ikev2_policy pol;
    vpn_ikev2_endpoint local = {t->src, VPN_IKEV2_PORT}, remote = {t->dst, VPN_IKEV2_PORT};
    vpn_router_event ev;
    int rc;

    tunnel_policy(t, tunnel, &pol);
    t->last_initiate = now;
    t->ever_initiated = true;
    t->initiate_pending = false;
    rc = vpn_ikev2_initiate(r->ike, now, &local, &remote, &pol, NULL);
    RT_LOG(r, rc ? VPN_LOG_WARN : VPN_LOG_INFO, "%s: initiate IKE: %s", t->name, vpn_strerror(rc));
    memset(&ev, 0, sizeof ev);
    ev.type = VPN_ROUTER_EV_INITIATED;
    ev.tunnel = tunnel;
    ev.err = rc;
    emit(r, &ev);
    return rc;
}

int vpn_router_start(vpn_router *r, uint64_t now)
{
    if (r == NULL)
        return VPN_ERR_INVAL;
    r->now = now;
    for (uint32_t i = 0; r->ike && i < r->n_tun; i++)
        if (r->tun[i].initiate && r->tun[i].initiate_at_start && r->tun[i].mg == NULL)
            initiate(r, now, i);
    /* mGRE: the NHRP engine's registrations (due at once) bring IKE up to
     * each NHS through the on-demand path. */
    mgre_timeout(r, now);
    flush(r);
    return 0;
}

static uint32_t established_ike_sa(const vpn_router *r, uint32_t tunnel);

/* RFC 7296 1.3.1: a new CHILD_SA for the tunnel under its IKE SA ike_id
 * (one that stayed when the tunnel's CHILD_SA went). */
static int child_under(vpn_router *r, uint64_t now, uint32_t tunnel, uint32_t ike_id)
{
    vpn_ikev2_policy pol;
    int rc;

    tunnel_policy(&r->tun[tunnel], tunnel, &pol);
    rc = vpn_ikev2_child_create(r->ike, now, ike_id, &pol);
    RT_LOG(r, rc ? VPN_LOG_WARN : VPN_LOG_INFO, "%s: no CHILD_SA under IKE SA %u: create one: %s",
           r->tun[tunnel].name, ike_id, vpn_strerror(rc));
    return rc;
}

int vpn_router_tunnel_initiate(vpn_router *r, uint64_t now, uint32_t tunnel)
{
    uint32_t ike_id;
    int rc;

    if (r == NULL || r->ike == NULL || tunnel >= r->n_tun || r->tun[tunnel].mg ||
        r->tun[tunnel].mode == VPN_ROUTER_TUNNEL_ACCESS)
        return VPN_ERR_INVAL;
    r->now = now;
    /* an established IKE SA of the tunnel without its CHILD_SA gets a
     * new one, as IOS's and strongSwan's initiate do: a second IKE SA to
     * the same peer would only be a duplicate */
    if (r->tun[tunnel].out_child == 0 && (ike_id = established_ike_sa(r, tunnel)) != 0)
        rc = child_under(r, now, tunnel, ike_id);
    else
        rc = initiate(r, now, tunnel);
    flush(r);
    return rc;
}

/* Management verbs: the engine's, with the router's clock and SA actions. */
#define RT_MGMT(fn, call)                                                                               \
    int fn(vpn_router *r, uint64_t now, uint32_t id)                                                    \
    {                                                                                                   \
        int rc;                                                                                         \
        if (r == NULL || r->ike == NULL)                                                                \
            return VPN_ERR_INVAL;                                                                       \
        r->now = now;                                                                                   \
        rc = call(r->ike, now, id);                                                                     \
        flush(r);                                                                                       \
        return rc;                                                                                      \
    }

RT_MGMT(vpn_router_ike_delete, vpn_ikev2_delete)
RT_MGMT(vpn_router_child_delete, vpn_ikev2_child_delete)
RT_MGMT(vpn_router_child_rekey, vpn_ikev2_child_rekey)
RT_MGMT(vpn_router_ike_rekey, vpn_ikev2_ike_rekey)
RT_MGMT(vpn_router_dpd, vpn_ikev2_dpd)

/* Any IKE SA of the tunnel, half-open or established, not being deleted:
 * the tunnel is on its way (its CHILD_SA comes with it). */
static bool negotiating(const vpn_router *r, uint32_t tunnel)
{
    for (size_t i = 0; i < vpn_ikev2_sa_count(r->ike); i++) {
        vpn_ikev2_sa_info info;
        if (vpn_ikev2_sa_get(r->ike, i, &info) == 0 && info.policy_tag == tunnel &&
            info.state != VPN_IKEV2_SA_DELETING)
            return true;
    }
    return false;
}

/* IOS brings a protected tunnel up on traffic, at most once per hold-down. */
/* The tunnel's established IKE SA (the newest), 0 if none: traffic into
 * a tunnel whose CHILD_SA went while its IKE SA stayed (deleted by the
 * peer or by hand, a failed rekey) makes a new CHILD_SA under it, as IOS
 * does for tunnel protection, instead of waiting for the IKE SA to go. */
static uint32_t established_ike_sa(const vpn_router *r, uint32_t tunnel)
{
    uint32_t id = 0;

    for (size_t i = 0; i < vpn_ikev2_sa_count(r->ike); i++) {
        vpn_ikev2_sa_info info;
        if (vpn_ikev2_sa_get(r->ike, i, &info) == 0 && info.policy_tag == tunnel &&
            info.state == VPN_IKEV2_SA_ESTABLISHED)
            id = info.id;
    }
    return id;
}

static void on_demand(vpn_router *r, uint64_t now, uint32_t tunnel)
{
    rt_tunnel *t = &r->tun[tunnel];

    if (r->ike == NULL || !t->initiate || t->initiate_pending)
        return;
    if (t->ever_initiated && now - t->last_initiate < r->p.on_demand_holddown_ns)
        return;
    if (negotiating(r, tunnel) && established_ike_sa(r, tunnel) == 0)
        return;
    /* Initiated from the next timeout, not from inside the driver's send
     * path: vpn_router_next_deadline says now. */
    t->initiate_pending = true;
    t->last_initiate = now;
    t->ever_initiated = true;
}

static vpn_router_drop send_esp(vpn_router *r, uint32_t tunnel, const vpn_sa *sa, const vpn_pkt *pkt)
{
    const vpn_sa_config *cfg = vpn_sa_get_config(sa);
    vpn_router_esp_out o;

    memset(&o, 0, sizeof o);
    o.tunnel = tunnel;
    o.data = vpn_pkt_data(pkt);
    o.len = pkt->len;
    o.l4_off = vpn_ip_hdr_len(cfg->remote.family ? cfg->remote.family : r->tun[tunnel].dst.family);
    o.udp_encap = cfg->udp_encap;
    o.src = cfg->local;
    o.dst = cfg->remote;
    o.sport = cfg->udp_sport ? cfg->udp_sport : VPN_NATT_PORT;
    o.dport = cfg->udp_dport ? cfg->udp_dport : VPN_NATT_PORT;
    if (!cfg->udp_encap)
        o.sport = o.dport = 0;
    if (!r->p.send_esp(r->p.user, &o))
        return drop(r, VPN_ROUTER_DROP_SEND, tunnel, cfg->spi);
    r->st.esp_out++;
    return VPN_ROUTER_DROP_NONE;
}

/* The addresses a selector covers less one (0 = a single address); for
 * IPv6 only the low 64 bits count, enough to rank a /128 above a /64. */
static uint64_t sel_span(const vpn_ikev2_selector *s)
{
    size_t n = vpn_addr_len(&s->addr_lo);
    uint64_t lo = 0, hi = 0;

    for (size_t i = n > 8 ? n - 8 : 0; i < n; i++) {
        lo = lo << 8 | s->addr_lo.b[i];
        hi = hi << 8 | s->addr_hi.b[i];
    }
    if (n == 16 && memcmp(s->addr_lo.b, s->addr_hi.b, 8) != 0)
        return UINT64_MAX;
    return hi - lo;
}

static bool sel_holds(const vpn_ikev2_selector *s, const vpn_addr *a)
{
    size_t n = vpn_addr_len(a);
    return n && s->addr_lo.family == a->family && s->addr_hi.family == a->family &&
           memcmp(s->addr_lo.b, a->b, n) <= 0 && memcmp(a->b, s->addr_hi.b, n) <= 0;
}

/*
 * The IP version nibble of the packet at ip (len bytes; RFC 791 3.1,
 * RFC 8200 3): 0 when there is no first byte.
 */
static uint8_t ip_version(const uint8_t *ip, size_t len)
{
    vpn_rd rd;
    uint8_t b = 0;

    vpn_rd_init(&rd, ip, len);
    (void)vpn_rd_u8(&rd, &b); /* 0 on a short read */
    return (uint8_t)(b >> 4);
}

/*
 * The destination address of the inner IP packet at ip (len bytes), from
 * the fixed header alone (RFC 791 3.1 octets 16-19, RFC 8200 3 octets
 * 24-39): the rest of the header is the encapsulation's to check.
 * false: not IPv4/IPv6, or too short to hold the address.
 */
static bool inner_dst(const uint8_t *ip, size_t len, vpn_addr *dst)
{
    vpn_rd rd;
    uint8_t a[16];
    size_t skip, alen;

    switch (ip_version(ip, len)) {
    case 4:
        skip = 16;
        alen = 4;
        break;
    case 6:
        skip = 24;
        alen = 16;
        break;
    default:
        return false;
    }
    vpn_rd_init(&rd, ip, len);
    (void)vpn_rd_skip(&rd, skip);
    (void)vpn_rd_bytes(&rd, a, alen);
    return vpn_rd_err(&rd) == 0 && vpn_addr_from_bytes(dst, a, alen) == 0;
}

/*
 * ACCESS tunnels: the CHILD_SA an inner packet goes to, by its destination
 * and the records' remote selectors; the narrowest selector wins, then the
 * newest record. A rekey's responder keeps sending on the old pair until
 * the initiator deletes it (router.h): a record that replaces a live one is
 * passed over. A walk over the records: fine for the sessions a testbed or
 * a simulated hub holds; a hash by assigned address comes when it matters.
 */
static rt_child *access_child(vpn_router *r, uint32_t tunnel, const vpn_pkt *pkt)
{
    vpn_addr dst;
    rt_child *best = NULL;
    uint64_t best_span = UINT64_MAX;

    if (!inner_dst(vpn_pkt_data(pkt), pkt->len, &dst))
        return NULL;
    for (size_t i = 0; i < r->n_child; i++) {
        rt_child *c = &r->child[i];
        const rt_child *old;
        if (c->tunnel != tunnel || c->dying || c->out == NULL)
            continue;
        if (c->replaces && (old = child_find(r, c->replaces)) != NULL && !old->dying && old->out)
            continue;
        for (size_t k = 0; k < c->n_ts_remote; k++) {
            uint64_t span = sel_span(&c->ts_remote[k]);
            if (!sel_holds(&c->ts_remote[k], &dst))
                continue;
            if (best == NULL || span < best_span || (span == best_span && c->id > best->id)) {
                best = c;
                best_span = span;
            }
        }
    }
    return best;
}

vpn_router_drop vpn_router_tunnel_output(vpn_router *r, uint64_t now, uint32_t tunnel, vpn_pkt *pkt)
{
    rt_tunnel *t;
    rt_child *c;
    vpn_router_drop res;
    uint8_t v;
    int rc;

    if (r == NULL)
        return VPN_ROUTER_DROP_ARGS;
    if (tunnel >= r->n_tun || pkt == NULL)
        return drop(r, VPN_ROUTER_DROP_ARGS, VPN_ROUTER_NO_TUNNEL, 0);
    r->now = now;
    t = &r->tun[tunnel];
    v = ip_version(vpn_pkt_data(pkt), pkt->len);
    if (v != 4 && v != 6)
        return drop(r, VPN_ROUTER_DROP_NOT_IP, tunnel, 0);
    if (t->mg)
        return vpn_router_mgre_output(r, now, tunnel, NULL, pkt);
    c = t->mode == VPN_ROUTER_TUNNEL_ACCESS ? access_child(r, tunnel, pkt) : child_find(r, t->out_child);
    if (c == NULL || c->out == NULL) {
        res = drop(r, VPN_ROUTER_DROP_NO_SA, tunnel, 0);
        on_demand(r, now, tunnel);
        return res;
    }
    esp_plain(r, tunnel, c->out, true, pkt);
    if (t->gre && vpn_gre_tunnel_encap(t->gre, NULL, pkt, v == 4 ? VPN_GRE_PROTO_IPV4 : VPN_GRE_PROTO_IPV6) != 0)
        return drop(r, VPN_ROUTER_DROP_GRE, tunnel, 0);
    rc = vpn_esp_encap(c->out, pkt, now);
    if (rc != 0) {
        res = drop(r, rc == VPN_ERR_NOSPACE ? VPN_ROUTER_DROP_OVERSIZE : VPN_ROUTER_DROP_ENCAP, tunnel,
                   vpn_sa_get_config(c->out)->spi);
        flush(r);
        return res;
    }
    res = send_esp(r, tunnel, c->out, pkt);
    if (res == VPN_ROUTER_DROP_NONE) {
        t->encrypted++;
        if (c->id < RT_MANUAL_ID_BASE)
            child_activity(r, now, c, false, true);
    }
    flush(r);
    return res;
}

/* ---- multipoint GRE (DMVPN) ------------------------------------------------------------ */

static void mgre_settle(vpn_router *r, rt_mgre *mg);

/* Initiates IKE to peer p (IOS: the crypto socket of an mGRE interface is
 * opened per NHRP peer, spoke to hub at start, spoke to spoke on demand). */
static void mgre_initiate(vpn_router *r, uint64_t now, rt_mgre *mg, rt_peer *p)
{
    rt_tunnel *t = &r->tun[mg->tunnel];
    vpn_ikev2_policy pol;
    vpn_ikev2_endpoint local = {t->src, VPN_IKEV2_PORT}, remote = {p->nbma, VPN_IKEV2_PORT};
    vpn_router_event ev;
    char a[VPN_ADDR_STRLEN];
    int rc;

    vpn_router_gre_policy(&pol, t->ipsec_profile, &t->src, &p->nbma, mg->tunnel);
    p->last_initiate = now;
    p->ever_initiated = true;
    p->ike_sa_id = 0;
    rc = vpn_ikev2_initiate(r->ike, now, &local, &remote, &pol, &p->ike_sa_id);
    p->initiating = rc == 0;
    r->st.on_demand_initiations++;
    RT_LOG(r, rc ? VPN_LOG_WARN : VPN_LOG_INFO, "%s: initiate IKE to %s: %s", t->name,
           vpn_addr_str(&p->nbma, a, sizeof a), vpn_strerror(rc));
    memset(&ev, 0, sizeof ev);
    ev.type = VPN_ROUTER_EV_INITIATED;
    ev.tunnel = mg->tunnel;
    ev.err = rc;
    ev.peer = p->nbma;
    emit(r, &ev);
}

/* Traffic for a peer without an SA: IKE at the next timeout, at most once
 * per hold-down, not while an initiation runs. */
static void mgre_on_demand(vpn_router *r, uint64_t now, rt_mgre *mg, rt_peer *p)
{
    if (r->ike == NULL || p->pending || p->initiating)
        return;
    /* a FlexVPN hub's clones say `no tunnel protection ipsec initiate`:
     * spokes come to the hub, never the other way */
    if (mg->vt && vpn_nhrp_nhs_count(mg->nhrp) == 0)
        return;
    if (p->ever_initiated && now - p->last_initiate < r->p.on_demand_holddown_ns)
        return;
    p->pending = true;
    p->last_initiate = now;
    p->ever_initiated = true;
    p->pend_next = mg->pend;
    mg->pend = p;
}

/* GRE (protocol proto, the tunnel key) + ESP with the peer's SA + send. */
static vpn_router_drop mgre_send(vpn_router *r, uint64_t now, rt_mgre *mg, rt_peer *p, vpn_pkt *pkt, uint16_t proto)
{
    rt_tunnel *t = &r->tun[mg->tunnel];
    rt_child *c = child_find_at(r, p->out_child, &p->out_idx);
    vpn_router_drop res;
    int rc;

    if (c == NULL || c->out == NULL)
        return drop(r, VPN_ROUTER_DROP_NO_SA, mg->tunnel, 0);
    if (vpn_gre_tunnel_encap(t->gre, p->gp, pkt, proto) != 0)
        return drop(r, VPN_ROUTER_DROP_GRE, mg->tunnel, 0);
    if ((rc = vpn_esp_encap(c->out, pkt, now)) != 0)
        return drop(r, rc == VPN_ERR_NOSPACE ? VPN_ROUTER_DROP_OVERSIZE : VPN_ROUTER_DROP_ENCAP, mg->tunnel,
                    vpn_sa_get_config(c->out)->spi);
    res = send_esp(r, mg->tunnel, c->out, pkt);
    if (res == VPN_ROUTER_DROP_NONE) {
        t->encrypted++;
        p->encrypted++;
        child_activity(r, now, c, false, true);
    }
    return res;
}

/* One copy of a multicast packet to a peer (the original stays for the
 * next): true when it left. buf is scratch of cap bytes. */
static bool mgre_send_copy(vpn_router *r, uint64_t now, rt_mgre *mg, rt_peer *p, const vpn_pkt *pkt,
                           uint16_t proto, uint8_t *buf, size_t cap)
{
    vpn_pkt copy;

    vpn_pkt_init(&copy, buf, cap, VPN_PKT_HEADROOM);
    memcpy(vpn_pkt_put(&copy, pkt->len), vpn_pkt_data(pkt), pkt->len);
    return mgre_send(r, now, mg, p, &copy, proto) == VPN_ROUTER_DROP_NONE;
}

/* The NHRP engine sends (RFC 2332 over GRE protocol type 0x2001). Without
 * an SA to the peer yet the packet waits for it (a registration at start,
 * a resolution reply to a spoke not met before). */
static void on_nhrp_send(void *user, const vpn_addr *nbma, const uint8_t *data, size_t len)
{
    rt_mgre *mg = user;
    vpn_router *r = mg->r;
    rt_peer *p = peer_get(r, mg, nbma);
    uint8_t buf[VPN_PKT_HEADROOM + RT_PEER_QLEN + VPN_PKT_TAILROOM];
    vpn_pkt pkt;

    if (p == NULL || len > RT_PEER_QLEN) {
        drop(r, VPN_ROUTER_DROP_ARGS, mg->tunnel, 0);
        return;
    }
    if (child_find(r, p->out_child) == NULL) {
        if (p->q == NULL)
            p->q = malloc(RT_PEER_QUEUE * sizeof *p->q);
        if (p->q && p->nq < RT_PEER_QUEUE) {
            memcpy(p->q[p->nq], data, len);
            p->qlen[p->nq++] = (uint16_t)len;
        } else {
            drop(r, VPN_ROUTER_DROP_NO_SA, mg->tunnel, 0);
        }
        mgre_on_demand(r, r->now, mg, p);
        return;
    }
    vpn_pkt_init(&pkt, buf, sizeof buf, VPN_PKT_HEADROOM);
    memcpy(vpn_pkt_put(&pkt, len), data, len);
    (void)mgre_send(r, r->now, mg, p, &pkt, VPN_GRE_PROTO_NHRP);
}

/* Which NBMA addresses lost an NHRP entry: looked at once the engine is
 * done (mgre_settle). */
static void note_down(rt_mgre *mg, const vpn_addr *nbma)
{
    for (size_t i = 0; i < mg->n_down; i++)
        if (vpn_addr_eq(&mg->down[i], nbma))
            return;
    if (mg->n_down < RT_DOWN_MAX)
        mg->down[mg->n_down++] = *nbma;
}

static void on_nhrp_event(void *user, const vpn_nhrp_event *nev)
{
    rt_mgre *mg = user;
    vpn_router *r = mg->r;
    vpn_router_event ev;

    switch (nev->type) {
    case VPN_NHRP_EV_ENTRY_REMOVED:
    case VPN_NHRP_EV_ENTRY_EXPIRED:
    case VPN_NHRP_EV_SHORTCUT_REMOVED:
    case VPN_NHRP_EV_ENTRY_UPDATED:
        if (nev->nbma.family)
            note_down(mg, &nev->nbma);
        break;
    default:
        break;
    }
    memset(&ev, 0, sizeof ev);
    ev.type = VPN_ROUTER_EV_NHRP;
    ev.tunnel = mg->tunnel;
    ev.nhrp = nev;
    ev.peer = nev->nbma;
    emit(r, &ev);
}

static int on_nhrp_route(void *user, const vpn_addr *dst, vpn_nhrp_route *out)
{
    rt_mgre *mg = user;
    vpn_router *r = mg->r;

    if (r->p.route == NULL) {
        memset(out, 0, sizeof *out);
        return VPN_ERR_NOTFOUND;
    }
    return r->p.route(r->p.user, mg->tunnel, dst, out);
}

typedef struct rt_ref_scan {
    const vpn_addr *nbma;
    bool found;
} rt_ref_scan;

static void ref_scan(void *user, const vpn_nhrp_entry_info *e)
{
    rt_ref_scan *s = user;
    if (vpn_addr_eq(&e->nbma, s->nbma))
        s->found = true;
}

/* Is peer nbma still needed: an NHS, or the NBMA address of an entry? */
static bool nbma_referenced(const rt_mgre *mg, const vpn_addr *nbma)
{
    rt_ref_scan s = {nbma, false};

    for (size_t i = 0; i < vpn_nhrp_nhs_count(mg->nhrp); i++) {
        vpn_nhrp_nhs_info ni;
        if (vpn_nhrp_nhs_get(mg->nhrp, i, &ni) == 0 && vpn_addr_eq(&ni.nbma, nbma))
            return true;
    }
    /* a walk over the cache, but only when an entry went away */
    vpn_nhrp_foreach(mg->nhrp, ref_scan, &s);
    return s.found;
}

/* After an NHRP verb: the peers that lost their last entry lose their IKE
 * SAs (IOS tears the crypto socket of an mGRE peer down with its NHRP
 * entry), which takes their CHILD_SAs with them. */
static void mgre_settle(vpn_router *r, rt_mgre *mg)
{
    while (mg->n_down > 0) {
        vpn_addr a = mg->down[--mg->n_down];
        rt_peer *p = peer_find(mg, &a);
        vpn_router_event ev;
        uint32_t ids[8];
        size_t n_ids = 0;

        if (p == NULL || nbma_referenced(mg, &a))
            continue;
        for (size_t i = 0; i < r->n_child && n_ids < 8; i++) {
            const rt_child *c = &r->child[i];
            bool seen = false;
            if (c->tunnel != mg->tunnel || !vpn_addr_eq(&c->peer, &a) || c->id >= RT_MANUAL_ID_BASE)
                continue;
            for (size_t k = 0; k < n_ids; k++)
                seen |= ids[k] == c->ike_sa_id;
            if (!seen)
                ids[n_ids++] = c->ike_sa_id;
        }
        if (p->initiating && p->ike_sa_id && n_ids < 8)
            ids[n_ids++] = p->ike_sa_id;
        for (size_t k = 0; k < n_ids && r->ike; k++)
            (void)vpn_ikev2_delete(r->ike, r->now, ids[k]);
        /* RFC 7296 1.4.1: CHILD_DOWN came with each Delete; what is left
         * (a manual SA) keeps the peer */
        p = peer_find(mg, &a);
        if (p && child_find(r, p->out_child) == NULL) {
            bool has_child = false;
            for (size_t i = 0; i < r->n_child && !has_child; i++)
                has_child = r->child[i].tunnel == mg->tunnel && vpn_addr_eq(&r->child[i].peer, &a);
            if (!has_child)
                peer_free(r, mg, p);
        }
        memset(&ev, 0, sizeof ev);
        ev.type = VPN_ROUTER_EV_PEER_DOWN;
        ev.tunnel = mg->tunnel;
        ev.peer = a;
        emit(r, &ev);
    }
    flush(r);
}

static bool peer_is_nhs(const rt_mgre *mg, const vpn_addr *nbma)
{
    for (size_t i = 0; i < vpn_nhrp_nhs_count(mg->nhrp); i++) {
        vpn_nhrp_nhs_info ni;
        if (vpn_nhrp_nhs_get(mg->nhrp, i, &ni) == 0 && vpn_addr_eq(&ni.nbma, nbma))
            return true;
    }
    return false;
}

/* The peer's IKE SA brought a CHILD_SA up on a virtual template: IOS
 * clones the template into Virtual-AccessN once the session is
 * authenticated. A new IKE SA of a peer that has a clone (a rebooted spoke
 * whose old SA INITIAL_CONTACT cleared) keeps its clone. */
static void va_clone(vpn_router *r, rt_mgre *mg, rt_peer *p, uint32_t ike_sa_id)
{
    char a[VPN_ADDR_STRLEN];

    if (p->va != 0) {
        p->va_ike = ike_sa_id;
        return;
    }
    if ((p->va = va_alloc(r, p)) == 0) {
        RT_LOG(r, VPN_LOG_ERROR, "%s: no memory for a Virtual-Access", r->tun[mg->tunnel].name);
        return;
    }
    p->va_ike = ike_sa_id;
    p->va_tunnel = mg->tunnel;
    p->va_since = r->now;
    RT_LOG(r, VPN_LOG_INFO, "Virtual-Access%u cloned from Virtual-Template%u for %s (IKE SA %u)", p->va, mg->vt,
           vpn_addr_str(&p->nbma, a, sizeof a), ike_sa_id);
    va_event(r, VPN_ROUTER_EV_VA_UP, p, p->va);
}

/* IKE SA events for clones: a rekey moves the clone to the new SA
 * (RFC 7296 2.18: the children move with it); the SA going takes the
 * clone with it. */
static void va_ike_event(vpn_router *r, const vpn_ikev2_event *ike)
{
    for (size_t i = 0; i < r->n_tun; i++) {
        rt_mgre *mg = r->tun[i].mg;
        rt_peer *p;
        uint32_t va;
        char a[VPN_ADDR_STRLEN];

        if (mg == NULL || mg->vt == 0 || (p = peer_find(mg, &ike->remote.addr)) == NULL || p->va == 0)
            continue;
        if (ike->type == VPN_IKEV2_EV_IKE_REKEYED && p->va_ike == ike->old_id) {
            p->va_ike = ike->ike_sa_id;
        } else if (ike->type == VPN_IKEV2_EV_IKE_DOWN && p->va_ike == ike->ike_sa_id) {
            const rt_child *c = child_find(r, p->out_child);
            if (c && c->ike_sa_id != ike->ike_sa_id) {
                /* both ends initiated at once: the redundant IKE SA went, the
                 * session (and its clone) lives on in the other */
                p->va_ike = c->ike_sa_id;
                continue;
            }
            va = p->va;
            RT_LOG(r, VPN_LOG_INFO, "Virtual-Access%u of %s torn down: IKE SA %u %s", va,
                   vpn_addr_str(&p->nbma, a, sizeof a), ike->ike_sa_id, vpn_ikev2_reason_name(ike->reason));
            va_release(r, p);
            va_event(r, VPN_ROUTER_EV_VA_DOWN, p, va);
        }
    }
}

/* Which of two IKE SAs with one peer, made at once by both ends, stays:
 * true for x. RFC 7296 2.8.1 settles simultaneous rekeys by what both ends
 * see alike (the nonces); here the IKE SPIs (2.6) serve the same way: both
 * ends know both pairs, whereas addresses differ across a NAT. The pair
 * SPIi | SPIr that is lower wins. */
static bool ike_sa_first(const vpn_router *r, uint32_t x, uint32_t y)
{
    vpn_ikev2_sa_info a, b;
    int d;

    if (vpn_ikev2_sa_find(r->ike, x, &a) != 0)
        return false;
    if (vpn_ikev2_sa_find(r->ike, y, &b) != 0)
        return true;
    d = memcmp(a.spi_i, b.spi_i, sizeof a.spi_i);
    if (d == 0)
        d = memcmp(a.spi_r, b.spi_r, sizeof a.spi_r);
    return d < 0;
}

static void mgre_child_up(vpn_router *r, rt_tunnel *t, rt_child *c, const vpn_ikev2_child_info *ci)
{
    rt_mgre *mg = t->mg;
    rt_peer *p = peer_get(r, mg, &c->peer);
    uint8_t buf[VPN_PKT_HEADROOM + RT_PEER_QLEN + VPN_PKT_TAILROOM];
    uint32_t id = c->id;

    if (p == NULL) {
        RT_LOG(r, VPN_LOG_ERROR, "%s: CHILD_SA %u: no peer record", t->name, c->id);
        return;
    }
    /* Rekey grace as for point-to-point tunnels; otherwise the newest pair
     * carries the traffic (a peer that rebooted and came back), except when
     * both ends initiated at once (each answered the other's resolution):
     * then both send on the pair of the IKE SA with the lower SPIs (the
     * same choice at both ends, NAT or not: see ike_sa_first), and the
     * other's initiator deletes its IKE SA once what is in flight on it
     * has arrived (one rekey grace). */
    if (ci->old_id != 0 && !ci->initiator && p->out_child == ci->old_id) {
        c->replaces = ci->old_id;
    } else {
        rt_child *o = child_find(r, p->out_child);
        if (o && o->ike_sa_id != c->ike_sa_id && o->initiator != c->initiator && !o->dying && o->out) {
            rt_child *redundant = ike_sa_first(r, c->ike_sa_id, o->ike_sa_id) ? o : c;
            if (redundant == o)
                p->out_child = c->id;
            if (redundant->initiator && mg->n_dup < RT_DOWN_MAX) {
                mg->dup[mg->n_dup].ike_sa_id = redundant->ike_sa_id;
                mg->dup[mg->n_dup].at = r->now + r->p.rekey_grace_ns;
                mg->n_dup++;
            }
        } else {
            p->out_child = c->id;
        }
    }
    if (p->ike_sa_id == ci->ike_sa_id || p->initiating)
        p->initiating = false;
    if (mg->vt && !peer_is_nhs(mg, &p->nbma))
        va_clone(r, mg, p, ci->ike_sa_id);
    /* what waited for the SA (c may move: use the id) */
    for (uint8_t i = 0; i < p->nq; i++) {
        vpn_pkt pkt;
        vpn_pkt_init(&pkt, buf, sizeof buf, VPN_PKT_HEADROOM);
        memcpy(vpn_pkt_put(&pkt, p->qlen[i]), p->q[i], p->qlen[i]);
        (void)mgre_send(r, r->now, mg, p, &pkt, VPN_GRE_PROTO_NHRP);
    }
    p->nq = 0;
    (void)id;
}

/* The end of an initiation that made no CHILD_SA: on-demand may try again. */
static void mgre_ike_event(vpn_router *r, const vpn_ikev2_event *ike)
{
    if (r->n_va > 0)
        va_ike_event(r, ike);
    if (ike->type != VPN_IKEV2_EV_FAILED && ike->type != VPN_IKEV2_EV_IKE_DOWN)
        return;
    for (size_t i = 0; i < r->n_tun; i++) {
        rt_peer *p;
        if (r->tun[i].mg == NULL || (p = peer_find(r->tun[i].mg, &ike->remote.addr)) == NULL)
            continue;
        if (p->initiating && (p->ike_sa_id == 0 || p->ike_sa_id == ike->ike_sa_id))
            p->initiating = false;
    }
}

/*
 * RFC 1112 4 / RFC 919 7 (class D, limited broadcast) and RFC 4291 2.7
 * (ff00::/8): what the mGRE output copies to every multicast NBMA address.
 * Not IP or too short for its destination: false.
 */
static bool is_multicast(const uint8_t *ip, size_t len)
{
    static const uint8_t bcast[4] = {255, 255, 255, 255};
    vpn_addr dst;

    if (!inner_dst(ip, len, &dst))
        return false;
    if (dst.family == VPN_AF_INET)
        return dst.b[0] >> 4 == 14 || memcmp(dst.b, bcast, 4) == 0;
    return dst.b[0] == 0xff;
}

/* The peer a packet to dst via next_hop goes to (NULL: NHRP has none). */
static rt_peer *mgre_peer_for(vpn_router *r, rt_mgre *mg, const vpn_addr *dst, const vpn_addr *next_hop)
{
    vpn_nhrp_entry_info e;

    if (dst && vpn_nhrp_lookup(mg->nhrp, dst, &e) == 0 && e.nbma.family)
        return peer_get(r, mg, &e.nbma);
    if (next_hop && next_hop->family && vpn_nhrp_lookup(mg->nhrp, next_hop, &e) == 0 && e.nbma.family)
        return peer_get(r, mg, &e.nbma);
    return NULL;
}

vpn_router_drop vpn_router_mgre_output(vpn_router *r, uint64_t now, uint32_t tunnel, const vpn_addr *next_hop,
                                       vpn_pkt *pkt)
{
    rt_mgre *mg;
    rt_peer *p, *via;
    vpn_addr dst;
    const uint8_t *ip;
    vpn_router_drop res;
    uint16_t proto;

    if (r == NULL)
        return VPN_ROUTER_DROP_ARGS;
    if (tunnel >= r->n_tun || pkt == NULL || r->tun[tunnel].mg == NULL)
        return drop(r, VPN_ROUTER_DROP_ARGS, VPN_ROUTER_NO_TUNNEL, 0);
    r->now = now;
    mg = r->tun[tunnel].mg;
    ip = vpn_pkt_data(pkt);
    if (!inner_dst(ip, pkt->len, &dst))
        return drop(r, VPN_ROUTER_DROP_NOT_IP, tunnel, 0);
    proto = dst.family == VPN_AF_INET ? VPN_GRE_PROTO_IPV4 : VPN_GRE_PROTO_IPV6;
    if (is_multicast(ip, pkt->len)) {
        /* ip nhrp map multicast [dynamic]: one copy per NBMA address */
        size_t n = vpn_nhrp_multicast_nbma(mg->nhrp, mg->mc, mg->cap_mc);
        uint8_t buf[VPN_PKT_HEADROOM + 2048 + VPN_PKT_TAILROOM];
        size_t sent = 0;
        if (n > mg->cap_mc) {
            vpn_addr *m = realloc(mg->mc, n * sizeof *m);
            if (m == NULL)
                return drop(r, VPN_ROUTER_DROP_ARGS, tunnel, 0);
            mg->mc = m;
            mg->cap_mc = n;
            n = vpn_nhrp_multicast_nbma(mg->nhrp, mg->mc, mg->cap_mc);
        }
        size_t copies = n;
        if (pkt->len > 2048)
            return drop(r, VPN_ROUTER_DROP_OVERSIZE, tunnel, 0);
        for (size_t i = 0; i < n; i++) {
            if ((p = peer_get(r, mg, &mg->mc[i])) == NULL)
                continue;
            if (child_find(r, p->out_child) == NULL) {
                mgre_on_demand(r, now, mg, p);
                continue;
            }
            sent += mgre_send_copy(r, now, mg, p, pkt, proto, buf, sizeof buf);
        }
        /* A point-to-point tunnel with NHRP (a FlexVPN spoke's Tunnel0 with
         * `tunnel destination`) sends multicast to its destination, as any
         * point-to-point GRE tunnel does, with or without a multicast map. */
        if (mg->p2p.family) {
            bool listed = false;
            for (size_t i = 0; i < n && !listed; i++)
                listed = vpn_addr_eq(&mg->mc[i], &mg->p2p);
            if (!listed && (p = peer_get(r, mg, &mg->p2p)) != NULL) {
                copies++;
                if (child_find(r, p->out_child) == NULL)
                    mgre_on_demand(r, now, mg, p);
                else
                    sent += mgre_send_copy(r, now, mg, p, pkt, proto, buf, sizeof buf);
            }
        }
        /* A virtual template sends on each of its Virtual-Access clones, as
         * IOS sends multicast (routing protocol updates) on every
         * point-to-point Virtual-Access interface: one copy per clone of
         * this template not in the NHRP multicast list already. */
        for (uint32_t v = 1; mg->vt && v <= r->va_next && v < r->cap_va; v++) {
            bool listed = false;
            if ((p = r->va_tab[v]) == NULL || p->va_tunnel != mg->tunnel)
                continue;
            for (size_t i = 0; i < n && !listed; i++)
                listed = vpn_addr_eq(&mg->mc[i], &p->nbma);
            if (listed || child_find(r, p->out_child) == NULL)
                continue;
            copies++;
            sent += mgre_send_copy(r, now, mg, p, pkt, proto, buf, sizeof buf);
        }
        flush(r);
        return sent || copies == 0 ? VPN_ROUTER_DROP_NONE : drop(r, VPN_ROUTER_DROP_NO_SA, tunnel, 0);
    }
    if (next_hop == NULL && r->p.route) {
        /* a driver that cannot pass the next hop (ns-3's devices get none):
         * the routing table's answer for the destination */
        vpn_nhrp_route rt;
        memset(&rt, 0, sizeof rt);
        if (r->p.route(r->p.user, tunnel, &dst, &rt) == 0 && rt.kind == VPN_NHRP_ROUTE_TUNNEL) {
            mg->route_nh = rt.next_hop;
            next_hop = &mg->route_nh;
        }
    }
    if ((p = mgre_peer_for(r, mg, &dst, next_hop)) == NULL)
        return drop(r, VPN_ROUTER_DROP_NO_NBMA, tunnel, 0);
    if (child_find_at(r, p->out_child, &p->out_idx) == NULL) {
        /* The shortcut's SA is not up yet: the routed path (the hub) still
         * carries the traffic, so that moving to the shortcut loses nothing. */
        mgre_on_demand(r, now, mg, p);
        via = mgre_peer_for(r, mg, NULL, next_hop);
        if (via == NULL || via == p || child_find_at(r, via->out_child, &via->out_idx) == NULL)
            return drop(r, VPN_ROUTER_DROP_NO_SA, tunnel, 0);
        p = via;
    }
    res = mgre_send(r, now, mg, p, pkt, proto);
    flush(r);
    return res;
}

/* An mGRE tunnel's share of esp_done: GRE off (the key must match),
 * NHRP to the engine, IP to the driver (and phase 3 redirect). */
static vpn_router_drop mgre_input(vpn_router *r, uint64_t now, rt_child *c, const vpn_esp_rx *rx, vpn_pkt *pkt,
                                  bool has_ip)
{
    uint32_t tunnel = c->tunnel;
    rt_tunnel *t = &r->tun[tunnel];
    rt_mgre *mg = t->mg;
    vpn_addr src = c->peer;
    uint16_t proto;
    rt_peer *p;
    int grc;

    if (!has_ip && vpn_sa_get_config(rx->sa)->mode == VPN_ESP_TRANSPORT) {
        vpn_gre_hdr h;
        memset(&h, 0, sizeof h);
        grc = rx->next_header == VPN_IPPROTO_GRE ? vpn_gre_decap(pkt, &h) : VPN_ERR_MALFORMED;
        /* RFC 2890 2.1: the key tells the tunnel; another key is not ours */
        if (grc == 0 && (h.has_key != t->has_key || (h.has_key && h.key != t->key)))
            grc = VPN_ERR_POLICY;
        proto = h.proto;
    } else {
        vpn_gre_rx grx;
        memset(&grx, 0, sizeof grx);
        grc = vpn_gre_tunnel_decap(t->gre, pkt, &grx);
        proto = grx.proto;
        if (grc == 0)
            src = grx.src;
    }
    if (grc != 0)
        return drop(r, VPN_ROUTER_DROP_GRE, tunnel, 0);
    if ((p = peer_find(mg, &src)) != NULL)
        p->decrypted++;
    if (proto == VPN_GRE_PROTO_NHRP) {
        /* RFC 2332 over GRE: the engine drops and counts what is bad */
        (void)vpn_nhrp_input(mg->nhrp, now, mg->network_id, &src, vpn_pkt_data(pkt), pkt->len);
        t->decrypted++;
        mgre_settle(r, mg);
        return VPN_ROUTER_DROP_NONE;
    }
    if (proto != VPN_GRE_PROTO_IPV4 && proto != VPN_GRE_PROTO_IPV6)
        return drop(r, VPN_ROUTER_DROP_GRE, tunnel, 0);
    if (mg->redirect && r->p.route && !is_multicast(vpn_pkt_data(pkt), pkt->len)) {
        /* Phase 3: a packet that came in on this NBMA network and is routed
         * back out of it (in and out of the same network-id). Multicast
         * (routing protocol updates) is for this router: never redirected. */
        vpn_addr dst;
        vpn_nhrp_route rt;
        memset(&rt, 0, sizeof rt);
        if (inner_dst(vpn_pkt_data(pkt), pkt->len, &dst) && r->p.route(r->p.user, tunnel, &dst, &rt) == 0 &&
            rt.kind == VPN_NHRP_ROUTE_TUNNEL) {
            (void)vpn_nhrp_forwarded(mg->nhrp, now, &src, mg->network_id, mg->network_id, vpn_pkt_data(pkt),
                                     pkt->len);
            mgre_settle(r, mg);
        }
    }
    if (!r->p.deliver(r->p.user, tunnel, vpn_pkt_data(pkt), pkt->len))
        return drop(r, VPN_ROUTER_DROP_DELIVER, tunnel, 0);
    t->decrypted++;
    return VPN_ROUTER_DROP_NONE;
}

static int mgre_new(vpn_router *r, rt_tunnel *t, uint32_t tag, const vpn_router_tunnel_config *cfg)
{
    rt_mgre *mg = calloc(1, sizeof *mg);
    vpn_nhrp_params np;
    vpn_gre_tunnel_config g;
    int rc;

    if (mg == NULL)
        return VPN_ERR_NOMEM;
    mg->r = r;
    mg->tunnel = tag;
    np = *cfg->nhrp;
    if (np.ifname == NULL)
        np.ifname = t->name;
    if (np.nbma.family == VPN_AF_NONE)
        np.nbma = t->src;
    if (np.log.fn == NULL)
        np.log = r->p.log;
    if (np.rng == NULL)
        np.rng = &r->p.rng;
    np.send = on_nhrp_send;
    np.event = on_nhrp_event;
    np.route = on_nhrp_route;
    np.user = mg;
    mg->network_id = np.network_id;
    mg->redirect = np.redirect;
    mg->vt = cfg->virtual_template;
    if (cfg->dst.family && !vpn_addr_is_any(&cfg->dst))
        mg->p2p = cfg->dst;
    memset(&g, 0, sizeof g);
    g.local = t->src; /* remote VPN_AF_NONE: multipoint */
    g.has_key = t->has_key;
    g.key = t->key;
    g.tos = VPN_GRE_TOS_COPY;
    if ((rc = vpn_gre_tunnel_new(&t->gre, &g)) != 0) {
        free(mg);
        return rc;
    }
    if ((rc = vpn_nhrp_new(&mg->nhrp, &np)) != 0) {
        vpn_gre_tunnel_del(t->gre);
        t->gre = NULL;
        free(mg);
        return rc;
    }
    t->mg = mg;
    return 0;
}

static void mgre_del(vpn_router *r, rt_tunnel *t)
{
    rt_mgre *mg = t->mg;

    if (mg == NULL)
        return;
    for (size_t i = 0; i < mg->n_bucket; i++)
        while (mg->bucket[i])
            peer_free(r, mg, mg->bucket[i]);
    vpn_nhrp_del(mg->nhrp);
    free(mg->bucket);
    free(mg->mc);
    free(mg);
    t->mg = NULL;
}

/* Timers of the mGRE tunnels: NHRP's, then on-demand initiations. */
static void mgre_timeout(vpn_router *r, uint64_t now)
{
    for (size_t i = 0; i < r->n_tun; i++) {
        rt_mgre *mg = r->tun[i].mg;
        if (mg == NULL)
            continue;
        if (vpn_nhrp_next_deadline(mg->nhrp) <= now) {
            vpn_nhrp_timeout(mg->nhrp, now);
            mgre_settle(r, mg);
        }
        for (size_t k = 0; k < mg->n_dup;) {
            if (mg->dup[k].at > now) {
                k++;
                continue;
            }
            if (r->ike)
                (void)vpn_ikev2_delete(r->ike, now, mg->dup[k].ike_sa_id);
            mg->dup[k] = mg->dup[--mg->n_dup];
        }
        while (mg->pend) {
            rt_peer *p = mg->pend;
            mg->pend = p->pend_next;
            p->pending = false;
            if (r->ike && child_find(r, p->out_child) == NULL && !p->initiating)
                mgre_initiate(r, now, mg, p);
        }
        flush(r);
    }
}

static uint64_t mgre_deadline(const vpn_router *r, uint64_t t)
{
    for (size_t i = 0; i < r->n_tun; i++) {
        const rt_mgre *mg = r->tun[i].mg;
        uint64_t d;
        if (mg == NULL)
            continue;
        if ((d = vpn_nhrp_next_deadline(mg->nhrp)) < t)
            t = d;
        if (mg->pend && r->now < t)
            t = r->now;
        for (size_t k = 0; k < mg->n_dup; k++)
            if (mg->dup[k].at < t)
                t = mg->dup[k].at;
    }
    return t;
}

const vpn_nhrp *vpn_router_nhrp(const vpn_router *r, uint32_t tunnel)
{
    return r && tunnel < r->n_tun && r->tun[tunnel].mg ? r->tun[tunnel].mg->nhrp : NULL;
}

int vpn_router_nhrp_resolve(vpn_router *r, uint64_t now, uint32_t tunnel, const vpn_addr *dst)
{
    int rc;

    if (r == NULL || tunnel >= r->n_tun || r->tun[tunnel].mg == NULL || dst == NULL)
        return VPN_ERR_INVAL;
    r->now = now;
    rc = vpn_nhrp_resolve(r->tun[tunnel].mg->nhrp, now, dst);
    mgre_settle(r, r->tun[tunnel].mg);
    return rc;
}

static void peer_info(const vpn_router *r, const rt_peer *p, vpn_router_peer_info *out)
{
    const rt_child *c = child_find(r, p->out_child);

    memset(out, 0, sizeof *out);
    out->nbma = p->nbma;
    if (c && c->out) {
        out->out_child = c->id >= RT_MANUAL_ID_BASE ? 0 : c->id;
        out->out_sa = ref_of(c->out, VPN_SA_OUT);
        out->ike_sa_id = c->ike_sa_id;
    }
    out->encrypted = p->encrypted;
    out->decrypted = p->decrypted;
    out->initiating = p->initiating;
    out->va = p->va;
}

size_t vpn_router_mgre_peer_count(const vpn_router *r, uint32_t tunnel)
{
    return r && tunnel < r->n_tun && r->tun[tunnel].mg ? r->tun[tunnel].mg->n_peer : 0;
}

int vpn_router_mgre_peer_get(const vpn_router *r, uint32_t tunnel, const vpn_addr *nbma, vpn_router_peer_info *out)
{
    const rt_peer *p;

    if (r == NULL || nbma == NULL || out == NULL || tunnel >= r->n_tun || r->tun[tunnel].mg == NULL)
        return VPN_ERR_INVAL;
    if ((p = peer_find(r->tun[tunnel].mg, nbma)) == NULL)
        return VPN_ERR_NOTFOUND;
    peer_info(r, p, out);
    return 0;
}

void vpn_router_mgre_peer_foreach(const vpn_router *r, uint32_t tunnel,
                                  void (*fn)(void *user, const vpn_router_peer_info *p), void *user)
{
    const rt_mgre *mg;

    if (r == NULL || fn == NULL || tunnel >= r->n_tun || (mg = r->tun[tunnel].mg) == NULL)
        return;
    for (size_t i = 0; i < mg->n_bucket; i++)
        for (const rt_peer *p = mg->bucket[i]; p; p = p->next) {
            vpn_router_peer_info pi;
            peer_info(r, p, &pi);
            fn(user, &pi);
        }
}

typedef struct rt_show_peers {
    vpn_show_buf *b;
} rt_show_peers;

static void show_peer(void *user, const vpn_router_peer_info *p)
{
    rt_show_peers *s = user;
    char a[VPN_ADDR_STRLEN];

    vpn_show_printf(s->b, "  Peer NBMA %s: %s, CHILD_SA %u (out SPI 0x%08X), IKE SA %u, %llu out / %llu in\n",
                    vpn_addr_str(&p->nbma, a, sizeof a),
                    p->out_child ? "UP-ACTIVE" : p->initiating ? "UP-NEGOTIATING" : "DOWN", p->out_child,
                    p->out_sa.spi, p->ike_sa_id, (unsigned long long)p->encrypted,
                    (unsigned long long)p->decrypted);
}

int vpn_router_show_dmvpn(const vpn_router *r, uint64_t now, uint32_t tunnel, bool detail, vpn_show_buf *b)
{
    const vpn_nhrp *n = vpn_router_nhrp(r, tunnel);
    rt_show_peers s = {b};
    int rc;

    if (n == NULL || b == NULL)
        return VPN_ERR_INVAL;
    if ((rc = vpn_show_dmvpn(n, now, b)) != 0 || !detail)
        return rc;
    vpn_show_printf(b, "\nCrypto per peer (%s, %zu peers):\n", r->tun[tunnel].name, r->tun[tunnel].mg->n_peer);
    vpn_router_mgre_peer_foreach(r, tunnel, show_peer, &s);
    return vpn_show_result(b);
}

int vpn_router_show_ip_nhrp(const vpn_router *r, uint64_t now, uint32_t tunnel, vpn_show_buf *b)
{
    const vpn_nhrp *n = vpn_router_nhrp(r, tunnel);

    if (n == NULL || b == NULL)
        return VPN_ERR_INVAL;
    return vpn_show_ip_nhrp(n, now, b);
}

int vpn_router_show_ip_nhrp_traffic(const vpn_router *r, uint32_t tunnel, vpn_show_buf *b)
{
    const vpn_nhrp *n = vpn_router_nhrp(r, tunnel);
    vpn_nhrp_stats st;

    if (n == NULL || b == NULL)
        return VPN_ERR_INVAL;
    vpn_nhrp_stats_get(n, &st);
    return vpn_show_nhrp_traffic(r->tun[tunnel].name, &st, b);
}

/* ---- GET VPN: GDOI groups and the crypto map ---------------------------------------------- */

/* The groups' datagrams: UDP 848 from the engine's address (RFC 6407 2). */
static void gv_send(void *user, size_t group, const vpn_addr *src, const vpn_addr *dst, const uint8_t *dg,
                    size_t len, const uint8_t *view, size_t view_len)
{
    vpn_router *r = user;
    vpn_ikev2_dgram d;

    (void)group;
    memset(&d, 0, sizeof d);
    d.local.addr = *src;
    d.local.port = VPN_GDOI_PORT;
    d.remote.addr = *dst;
    d.remote.port = VPN_GDOI_PORT;
    d.data = dg;
    d.len = len;
    r->p.send_udp(r->p.user, &d);
    if (r->p.gdoi_sent)
        r->p.gdoi_sent(r->p.user, src, dst, dg, len, view, view_len);
}

int vpn_router_getvpn_attach(vpn_router *r, uint64_t now, const vpn_getvpn_group_params *groups, size_t n)
{
    vpn_getvpn_params gp;

    if (r == NULL || r->p.send_udp == NULL)
        return VPN_ERR_INVAL;
    if (r->gv)
        return VPN_ERR_STATE;
    memset(&gp, 0, sizeof gp);
    gp.groups = groups;
    gp.n_groups = n;
    gp.rng = &r->p.rng; /* r->p lives as long as the node */
    gp.log = &r->p.log;
    gp.send = gv_send;
    gp.user = r;
    gp.now = now;
    r->now = now;
    int rc = vpn_getvpn_node_new(&r->gv, &gp);
    gv_scan(r);
    return rc;
}

static bool seen_add32(uint32_t **v, size_t *n, size_t *cap, uint32_t x)
{
    for (size_t i = 0; i < *n; i++)
        if ((*v)[i] == x)
            return false;
    if (*n == *cap) {
        size_t c = *cap ? 2 * *cap : 16;
        uint32_t *g = realloc(*v, c * sizeof *g);
        if (g == NULL)
            return true; /* reported again later: better than never */
        *v = g;
        *cap = c;
    }
    (*v)[(*n)++] = x;
    return true;
}

static bool seen_add64(uint64_t **v, size_t *n, size_t *cap, uint64_t x)
{
    for (size_t i = 0; i < *n; i++)
        if ((*v)[i] == x)
            return false;
    if (*n == *cap) {
        size_t c = *cap ? 2 * *cap : 16;
        uint64_t *g = realloc(*v, c * sizeof *g);
        if (g == NULL)
            return true;
        *v = g;
        *cap = c;
    }
    (*v)[(*n)++] = x;
    return true;
}

static void gv_p1_line(vpn_router *r, const vpn_ikev1_sa *p1)
{
    char line[256];
    uint64_t ck = 0;

    /* the keys exist from Main Mode message 4 on; once per SA */
    if (p1 == NULL || !r->p.key_lines || vpn_ikev1_sa_wireshark_line(p1, line, sizeof line) <= 0)
        return;
    for (int i = 0; i < 8; i++)
        ck = ck << 8 | vpn_ikev1_sa_icookie(p1)[i];
    if (seen_add64(&r->gv_p1, &r->n_gv_p1, &r->cap_gv_p1, ck))
        key_line(r, VPN_ROUTER_KEYS_IKEV1, line);
    OPENSSL_cleanse(line, sizeof line);
}

/* After the GDOI groups ran: TEKs new since the last look become
 * SA_INSTALLED events on VPN_ROUTER_CRYPTO_MAP (and esp_sa lines), phase-1
 * SAs with keys ikev1_decryption_table lines. The one key-export scan
 * for every driver. */
static void gv_scan(vpn_router *r)
{
    for (size_t g = 0; r->gv && g < vpn_getvpn_node_n_groups(r->gv); g++) {
        const vpn_gdoi_gm *gm = vpn_getvpn_node_gm(r->gv, g);
        const vpn_gdoi_ks *ks = vpn_getvpn_node_ks(r->gv, g);
        const vpn_sad *sad = vpn_getvpn_node_sad(r->gv, g);

        for (size_t i = 0; ks && i < VPN_GDOI_COOP_MAX_PEERS; i++)
            gv_p1_line(r, vpn_gdoi_ks_coop_phase1(ks, i));
        if (gm)
            gv_p1_line(r, vpn_gdoi_gm_phase1(gm));
        for (vpn_sa *sa = sad ? vpn_sad_next(sad, NULL) : NULL; sa; sa = vpn_sad_next(sad, sa)) {
            const vpn_sa_config *c = vpn_sa_get_config(sa);
            unsigned dir = c->dir == VPN_SA_OUT ? VPN_SA_OUT : VPN_SA_IN;
            vpn_router_event ev;

            if (!seen_add32(&r->gv_teks, &r->n_gv_teks, &r->cap_gv_teks, c->spi))
                continue;
            RT_LOG(r, VPN_LOG_INFO, "TEK SPI 0x%08x installed", c->spi);
            esp_key_line(r, sa, dir);
            memset(&ev, 0, sizeof ev);
            ev.type = VPN_ROUTER_EV_SA_INSTALLED;
            ev.tunnel = VPN_ROUTER_CRYPTO_MAP;
            ev.sa.spi = c->spi;
            ev.sa.dir = dir;
            ev.sa_view = sa;
            emit(r, &ev);
        }
    }
}

const vpn_getvpn_node *vpn_router_getvpn(const vpn_router *r)
{
    return r ? r->gv : NULL;
}

vpn_router_drop vpn_router_cryptomap_output(vpn_router *r, uint64_t now, vpn_pkt *pkt, bool *encrypted)
{
    int v;

    if (encrypted)
        *encrypted = false;
    if (r == NULL)
        return VPN_ROUTER_DROP_ARGS;
    if (pkt == NULL)
        return drop(r, VPN_ROUTER_DROP_ARGS, VPN_ROUTER_NO_TUNNEL, 0);
    r->now = now;
    if (r->gv == NULL) {
        r->st.cmap_clear_out++;
        return VPN_ROUTER_DROP_NONE;
    }
    v = vpn_getvpn_node_output(r->gv, pkt, now, &r->cmap_why);
    if (v == VPN_GETVPN_ENCRYPTED) {
        r->st.cmap_encrypted++;
        if (encrypted)
            *encrypted = true;
        return VPN_ROUTER_DROP_NONE;
    }
    if (v == VPN_GETVPN_PASS) {
        r->st.cmap_clear_out++;
        return VPN_ROUTER_DROP_NONE;
    }
    return drop(r, VPN_ROUTER_DROP_CRYPTO_MAP, VPN_ROUTER_CRYPTO_MAP, 0);
}

vpn_router_drop vpn_router_cryptomap_input(vpn_router *r, uint64_t now, vpn_pkt *pkt, bool *decrypted)
{
    int v;

    if (decrypted)
        *decrypted = false;
    if (r == NULL)
        return VPN_ROUTER_DROP_ARGS;
    if (pkt == NULL)
        return drop(r, VPN_ROUTER_DROP_ARGS, VPN_ROUTER_NO_TUNNEL, 0);
    r->now = now;
    if (r->gv == NULL) {
        r->st.cmap_clear_in++;
        return VPN_ROUTER_DROP_NONE;
    }
    v = vpn_getvpn_node_input(r->gv, pkt, now, &r->cmap_why);
    if (v == VPN_GETVPN_DECRYPTED) {
        r->st.cmap_decrypted++;
        if (decrypted)
            *decrypted = true;
        return VPN_ROUTER_DROP_NONE;
    }
    if (v == VPN_GETVPN_PASS) {
        r->st.cmap_clear_in++;
        return VPN_ROUTER_DROP_NONE;
    }
    return drop(r, VPN_ROUTER_DROP_CRYPTO_MAP, VPN_ROUTER_CRYPTO_MAP, 0);
}

/* Is this whole IP packet ESP that no SA of the SAD is for? Then it is the
 * crypto map's (group SAs live in the groups' own SADs). */
static bool cmap_claims(const vpn_router *r, const vpn_pkt *pkt)
{
    vpn_ip_info ii;
    vpn_rd rd;
    uint32_t spi;
    const uint8_t *p = vpn_pkt_data(pkt);

    if (vpn_ip_parse(p, pkt->len, &ii) != 0 || ii.version != 4 || ii.proto != VPN_IPPROTO_ESP || ii.frag)
        return false;
    /* RFC 4303 2.1: the SPI opens the ESP header */
    vpn_rd_init(&rd, p, pkt->len);
    if (vpn_rd_skip(&rd, ii.hdr_len) != 0 || vpn_rd_u32(&rd, &spi) != 0)
        return false;
    return vpn_sad_lookup(r->sad, spi, &ii.dst) == NULL;
}

static vpn_router_drop cmap_ip_input(vpn_router *r, uint64_t now, vpn_pkt *pkt)
{
    bool dec = false;
    vpn_router_drop d = vpn_router_cryptomap_input(r, now, pkt, &dec);

    if (d != VPN_ROUTER_DROP_NONE || !dec)
        return d;
    r->st.esp_in++;
    if (!r->p.deliver(r->p.user, VPN_ROUTER_CRYPTO_MAP, vpn_pkt_data(pkt), pkt->len))
        return drop(r, VPN_ROUTER_DROP_DELIVER, VPN_ROUTER_CRYPTO_MAP, 0);
    return VPN_ROUTER_DROP_NONE;
}

int vpn_router_gdoi_ks_rekey(vpn_router *r, uint64_t now, bool new_kek)
{
    int n = 0, rc;

    if (r == NULL)
        return VPN_ERR_INVAL;
    r->now = now;
    for (size_t g = 0; g < vpn_getvpn_node_n_groups(r->gv); g++) {
        vpn_gdoi_ks *ks = vpn_getvpn_node_ks_mut(r->gv, g);
        if (ks == NULL)
            continue;
        rc = vpn_gdoi_ks_rekey(ks, new_kek, now);
        gv_scan(r);
        if (rc != 0)
            return rc;
        n++;
    }
    return n ? n : VPN_ERR_NOTFOUND;
}

vpn_getvpn_drop vpn_router_cryptomap_last_drop(const vpn_router *r)
{
    return r ? r->cmap_why : VPN_GETVPN_DROP_MALFORMED;
}

int vpn_router_gdoi_ks_rekey_group(vpn_router *r, uint64_t now, size_t group, bool new_kek)
{
    vpn_gdoi_ks *ks;

    if (r == NULL)
        return VPN_ERR_INVAL;
    if (r->gv == NULL || (ks = vpn_getvpn_node_ks_mut(r->gv, group)) == NULL)
        return VPN_ERR_NOTFOUND;
    r->now = now;
    int rc = vpn_gdoi_ks_rekey(ks, new_kek, now);
    gv_scan(r);
    return rc;
}

int vpn_router_gdoi_ks_set_multicast(vpn_router *r, size_t group, bool multicast, const vpn_addr *group_addr)
{
    vpn_gdoi_ks *ks;

    if (r == NULL)
        return VPN_ERR_INVAL;
    if (r->gv == NULL || (ks = vpn_getvpn_node_ks_mut(r->gv, group)) == NULL)
        return VPN_ERR_NOTFOUND;
    return vpn_gdoi_ks_set_multicast(ks, multicast, group_addr);
}

size_t vpn_router_gdoi_rekey_groups(const vpn_router *r, uint64_t now, vpn_addr *out, size_t max)
{
    size_t n = 0;

    for (size_t g = 0; r && r->gv && g < vpn_getvpn_node_n_groups(r->gv); g++) {
        const vpn_gdoi_gm *gm = vpn_getvpn_node_gm(r->gv, g);
        vpn_gdoi_gm_info info;
        bool seen = false;

        if (gm == NULL || vpn_gdoi_gm_get_state(gm) != VPN_GDOI_GM_REGISTERED)
            continue;
        vpn_gdoi_gm_get_info(gm, now, &info);
        /* RFC 6407 5.3: the SA KEK's DST ID is the rekey group */
        if (info.kek.mcast.family != VPN_AF_INET || (info.kek.mcast.b[0] & 0xf0) != 0xe0)
            continue;
        for (size_t i = 0; i < n && i < max; i++)
            seen = seen || vpn_addr_eq(&out[i], &info.kek.mcast);
        if (seen)
            continue;
        if (n < max)
            out[n] = info.kek.mcast;
        n++;
    }
    return n;
}

int vpn_router_gdoi_reregister(vpn_router *r, uint64_t now)
{
    int n = 0;

    if (r == NULL)
        return VPN_ERR_INVAL;
    r->now = now;
    for (size_t g = 0; g < vpn_getvpn_node_n_groups(r->gv); g++)
        if (vpn_getvpn_node_gm_restart(r->gv, g, now) == 0)
            n++;
    gv_scan(r);
    return n ? n : VPN_ERR_NOTFOUND;
}

int vpn_router_show_gdoi(const vpn_router *r, uint64_t now, vpn_router_gdoi_view view, const char *iface,
                         vpn_show_buf *b)
{
    int rc = 0;

    if (r == NULL || b == NULL)
        return VPN_ERR_INVAL;
    if (r->gv == NULL)
        return 0;
    if (view == VPN_ROUTER_GDOI_IPSEC_SA)
        return vpn_show_getvpn_ipsec_sa(r->gv, iface ? iface : "GigabitEthernet0/0", now, b);
    for (size_t g = 0; g < vpn_getvpn_node_n_groups(r->gv) && rc == 0; g++) {
        const vpn_gdoi_ks *ks = vpn_getvpn_node_ks(r->gv, g);
        const vpn_gdoi_gm *gm = vpn_getvpn_node_gm(r->gv, g);
        switch (view) {
        case VPN_ROUTER_GDOI_ALL:
            rc = ks ? vpn_show_gdoi_ks(ks, now, b) : vpn_show_gdoi_gm(gm, now, b);
            break;
        case VPN_ROUTER_GDOI_KS_MEMBERS:
            rc = ks ? vpn_show_gdoi_ks_members(ks, b) : 0;
            break;
        case VPN_ROUTER_GDOI_KS_COOP:
            rc = ks ? vpn_show_gdoi_ks_coop(ks, now, b) : 0;
            break;
        case VPN_ROUTER_GDOI_GM:
            rc = gm ? vpn_show_gdoi_gm(gm, now, b) : 0;
            break;
        default:
            return VPN_ERR_INVAL;
        }
    }
    return rc;
}

/* ---- input --------------------------------------------------------------------------------- */

static vpn_router_drop esp_error(vpn_router *r, int rc)
{
    switch (rc) {
    case VPN_ERR_NOTFOUND: return VPN_ROUTER_DROP_ESP_NO_SA;
    case VPN_ERR_REPLAY: return VPN_ROUTER_DROP_ESP_REPLAY;
    case VPN_ERR_AUTH: return VPN_ROUTER_DROP_ESP_AUTH;
    case VPN_ERR_POLICY: return VPN_ROUTER_DROP_ESP_POLICY;
    case VPN_ERR_EXPIRED: return VPN_ROUTER_DROP_ESP_EXPIRED;
    case VPN_ERR_MALFORMED:
    case VPN_ERR_TRUNCATED:
    case VPN_ERR_UNSUPPORTED: return VPN_ROUTER_DROP_ESP_MALFORMED;
    default: (void)r; return VPN_ROUTER_DROP_ESP_OTHER;
    }
}

/* After vpn_esp_decap*: deliver what an SA of a tunnel decrypted. */
static vpn_router_drop esp_done(vpn_router *r, uint64_t now, int rc, const vpn_esp_rx *rx, vpn_pkt *pkt,
                                uint32_t spi, bool has_ip)
{
    rt_child *c;
    rt_tunnel *t;

    if (rc != 0) {
        flush(r);
        return drop(r, esp_error(r, rc), VPN_ROUTER_NO_TUNNEL, spi);
    }
    r->st.esp_in++;
    if (rx->verdict != VPN_ESP_DELIVER) {
        flush(r);
        return VPN_ROUTER_DROP_NONE; /* RFC 4303 2.6 dummy packets, keepalives */
    }
    c = child_find(r, (uint32_t)(uintptr_t)vpn_sa_get_user(rx->sa));
    if (c == NULL || c->tunnel >= r->n_tun) {
        flush(r);
        return drop(r, VPN_ROUTER_DROP_NO_TUNNEL, VPN_ROUTER_NO_TUNNEL, vpn_sa_get_config(rx->sa)->spi);
    }
    t = &r->tun[c->tunnel];
    if (c->id < RT_MANUAL_ID_BASE)
        child_activity(r, now, c, true, false);
    flush(r);
    if (t->mg)
        return mgre_input(r, now, c, rx, pkt, has_ip);
    if (t->gre) {
        /* ESP transport mode restored the GRE packet (its IP header too
         * when the driver gave us one): take the tunnel off. */
        uint16_t proto = 0;
        int grc;
        if (!has_ip && vpn_sa_get_config(rx->sa)->mode == VPN_ESP_TRANSPORT) {
            vpn_gre_hdr h;
            memset(&h, 0, sizeof h);
            grc = rx->next_header == VPN_IPPROTO_GRE ? vpn_gre_decap(pkt, &h) : VPN_ERR_MALFORMED;
            /* RFC 2890 2.1: the key tells the tunnel; another key is not
             * ours (vpn_gre_tunnel_decap checks it when the IP header is
             * there; here, ESP in UDP or from an IPv6 raw socket, it is not) */
            if (grc == 0 && (h.has_key != t->has_key || (h.has_key && h.key != t->key)))
                grc = VPN_ERR_POLICY;
            proto = h.proto;
        } else {
            vpn_gre_rx grx;
            grc = vpn_gre_tunnel_decap(t->gre, pkt, &grx);
            proto = grx.proto;
        }
        if (grc != 0 || (proto != VPN_GRE_PROTO_IPV4 && proto != VPN_GRE_PROTO_IPV6))
            return drop(r, VPN_ROUTER_DROP_GRE, c->tunnel, 0);
    }
    esp_plain(r, c->tunnel, rx->sa, false, pkt);
    if (!r->p.deliver(r->p.user, c->tunnel, vpn_pkt_data(pkt), pkt->len))
        return drop(r, VPN_ROUTER_DROP_DELIVER, c->tunnel, 0);
    t->decrypted++;
    return VPN_ROUTER_DROP_NONE;
}

vpn_router_drop vpn_router_esp_input(vpn_router *r, uint64_t now, vpn_pkt *pkt, const vpn_esp_outer *outer)
{
    vpn_esp_rx rx;
    vpn_rd rd;
    vpn_router_drop drop_why;
    uint32_t spi = 0, moved = 0;
    int rc;

    if (r == NULL)
        return VPN_ROUTER_DROP_ARGS;
    if (pkt == NULL || outer == NULL)
        return drop(r, VPN_ROUTER_DROP_ARGS, VPN_ROUTER_NO_TUNNEL, 0);
    r->now = now;
    /* RFC 4303 2.1: the SPI a failure is counted under (0 when short) */
    vpn_rd_init(&rd, vpn_pkt_data(pkt), pkt->len);
    (void)vpn_rd_u32(&rd, &spi);
    rc = vpn_esp_decap_payload(r->sad, pkt, outer, now, &rx);
    if (rc == 0 && outer->udp && rx.sa) {
        /* RFC 7296 2.23: an authentic ESP packet, with a sequence number
         * above every one verified before it, from elsewhere than the
         * peer's known address and port: a NAT in front of it made a new
         * mapping. The engine decides whether the SA follows. Only the
         * newest packet counts ("in response to a new packet"): one that
         * merely passes the window may be an old packet held back or
         * replayed from the old address, and must not move the SA back;
         * and without replay protection (window 0) nothing counts. */
        const vpn_sa_config *cfg = vpn_sa_get_config(rx.sa);
        uint32_t id = (uint32_t)(uintptr_t)vpn_sa_get_user(rx.sa);
        if (rx.newest && cfg->udp_encap && cfg->replay_window && id < RT_MANUAL_ID_BASE && r->ike &&
            (cfg->udp_sport != outer->sport || !vpn_addr_eq(&cfg->remote, &outer->src)))
            moved = id;
    }
    drop_why = esp_done(r, now, rc, &rx, pkt, spi, false);
    if (moved) {
        vpn_ikev2_endpoint from;
        memset(&from, 0, sizeof from);
        from.addr = outer->src;
        from.port = outer->sport;
        (void)vpn_ikev2_child_peer_moved(r->ike, now, moved, &from);
    }
    return drop_why;
}

vpn_router_drop vpn_router_ip_input(vpn_router *r, uint64_t now, vpn_pkt *pkt)
{
    vpn_esp_rx rx;
    int rc;

    if (r == NULL)
        return VPN_ROUTER_DROP_ARGS;
    if (pkt == NULL)
        return drop(r, VPN_ROUTER_DROP_ARGS, VPN_ROUTER_NO_TUNNEL, 0);
    r->now = now;
    if (r->gv && cmap_claims(r, pkt))
        return cmap_ip_input(r, now, pkt);
    rc = vpn_esp_decap(r->sad, pkt, now, &rx);
    return esp_done(r, now, rc, &rx, pkt, 0, true);
}

/*
 * RFC 2408 3.1: the major version of the ISAKMP header at p (len bytes),
 * the high nibble of octet 17; 0 when the 28-byte header is not all there.
 */
static uint8_t isakmp_major(const uint8_t *p, size_t len)
{
    vpn_rd rd;
    uint8_t v = 0;

    if (len < 28)
        return 0;
    vpn_rd_init(&rd, p, len);
    (void)vpn_rd_skip(&rd, 17);
    (void)vpn_rd_u8(&rd, &v);
    return (uint8_t)(v >> 4);
}

vpn_router_drop vpn_router_udp_input(vpn_router *r, uint64_t now, const vpn_ikev2_endpoint *local,
                                     const vpn_ikev2_endpoint *remote, vpn_pkt *pkt)
{
    const uint8_t *p;

    if (r == NULL)
        return VPN_ROUTER_DROP_ARGS;
    if (local == NULL || remote == NULL || pkt == NULL)
        return drop(r, VPN_ROUTER_DROP_ARGS, VPN_ROUTER_NO_TUNNEL, 0);
    r->now = now;
    p = vpn_pkt_data(pkt);
    if (local->port == VPN_NATT_PORT) {
        /* RFC 3948 2.1-2.3 / RFC 7296 2.23: what shares port 4500 */
        switch (vpn_natt_classify(p, pkt->len)) {
        case VPN_NATT_ESP: {
            vpn_esp_outer o;
            memset(&o, 0, sizeof o);
            o.src = remote->addr;
            o.dst = local->addr;
            o.udp = true;
            o.sport = remote->port;
            o.dport = local->port;
            return vpn_router_esp_input(r, now, pkt, &o);
        }
        case VPN_NATT_KEEPALIVE:
            r->st.keepalives_in++;
            return VPN_ROUTER_DROP_NONE;
        case VPN_NATT_IKE:
            break; /* the engine strips the marker itself */
        default:
            return drop(r, VPN_ROUTER_DROP_UDP_SHORT, VPN_ROUTER_NO_TUNNEL, 0);
        }
    } else if (local->port == VPN_GDOI_PORT && r->gv) {
        /* RFC 6407 2: GDOI's own port; the node picks the group (KS by
         * address, member by cookies or KEK SPI); malformed or refused
         * datagrams leave every engine as it was */
        int rc = vpn_getvpn_node_dgram_input(r->gv, &remote->addr, &local->addr, p, pkt->len, now);
        r->st.gdoi_in++;
        gv_scan(r);
        if (rc == VPN_ERR_NOTFOUND || rc == VPN_ERR_MALFORMED)
            return drop(r, VPN_ROUTER_DROP_GDOI_UNCLAIMED, VPN_ROUTER_NO_TUNNEL, 0);
        if (rc != 0)
            return drop(r, VPN_ROUTER_DROP_GDOI_REFUSED, VPN_ROUTER_NO_TUNNEL, 0);
        return VPN_ROUTER_DROP_NONE;
    } else if (local->port == VPN_IKE_PORT && r->v1 && isakmp_major(p, pkt->len) == 1) {
        /* RFC 2408 3.1: major version 1 in the high nibble of octet 17:
         * IKEv1 phase 1; what no SA takes leaves the table as it was */
        r->st.ikev1_in++;
        if (rt_ikev1_input(r->v1, now, local, remote, p, pkt->len) != 0)
            return drop(r, VPN_ROUTER_DROP_IKEV1, VPN_ROUTER_NO_TUNNEL, 0);
        return VPN_ROUTER_DROP_NONE;
    } else if (local->port != VPN_IKE_PORT || r->ike == NULL) {
        /* other ports, or no conf: engines that do not live here */
        if (r->p.udp_other) {
            r->p.udp_other(r->p.user, local, remote, p, pkt->len);
            return VPN_ROUTER_DROP_NONE;
        }
        return drop(r, VPN_ROUTER_DROP_UDP_PORT, VPN_ROUTER_NO_TUNNEL, 0);
    }
    if (r->ike == NULL)
        return drop(r, VPN_ROUTER_DROP_UDP_PORT, VPN_ROUTER_NO_TUNNEL, 0);
    r->st.ike_in++;
    /* Malformed IKE is dropped and counted by the engine; only local
     * failures come back, and those are not the datagram's fault either. */
    (void)vpn_ikev2_input(r->ike, now, local, remote, p, pkt->len);
    flush(r);
    return VPN_ROUTER_DROP_NONE;
}

/* ---- time ------------------------------------------------------------------------------------ */

int vpn_router_timeout(vpn_router *r, uint64_t now)
{
    uint32_t ike_id;

    if (r == NULL)
        return VPN_ERR_INVAL;
    r->now = now;
    /* The engine first: at the same instant its own expiry wins over the
     * SA's time limit, so the reason it reports is its own. */
    if (r->ike)
        vpn_ikev2_timeout(r->ike, now);
    vpn_sad_timeout(r->sad, now);
    flush(r);
    /* Per packet the driver asks for the deadline and calls this when it
     * passes: no walk over every CHILD_SA unless one is dying. */
    for (size_t i = 0; r->n_dying && i < r->n_child;) {
        rt_child *c = &r->child[i];
        if (c->dying && c->remove_at <= now) {
            child_remove(r, c->id); /* moves the last record here */
            continue;
        }
        i++;
    }
    mgre_timeout(r, now);
    if (r->gv && vpn_getvpn_node_next_deadline(r->gv) <= now)
        vpn_getvpn_node_timeout(r->gv, now);
    gv_scan(r);
    if (rt_ikev1_next_deadline(r->v1) <= now)
        rt_ikev1_timeout(r->v1, now);
    for (uint32_t i = 0; r->ike && i < r->n_tun; i++) {
        if (!r->tun[i].initiate_pending)
            continue;
        r->tun[i].initiate_pending = false;
        if (r->tun[i].out_child != 0)
            continue;
        if (!negotiating(r, i)) {
            r->st.on_demand_initiations++;
            initiate(r, now, i);
        } else if ((ike_id = established_ike_sa(r, i)) != 0) {
            if (child_under(r, now, i, ike_id) == 0)
                r->st.on_demand_children++;
        }
    }
    flush(r);
    return 0;
}

uint64_t vpn_router_next_deadline(const vpn_router *r)
{
    uint64_t t;

    if (r == NULL)
        return UINT64_MAX;
    t = vpn_sad_next_deadline(r->sad);
    if (r->ike) {
        uint64_t e = vpn_ikev2_next_deadline(r->ike);
        if (e < t)
            t = e;
    }
    for (size_t i = 0; r->n_dying && i < r->n_child; i++)
        if (r->child[i].dying && r->child[i].remove_at < t)
            t = r->child[i].remove_at;
    for (size_t i = 0; i < r->n_tun; i++)
        if (r->tun[i].initiate_pending && r->now < t)
            t = r->now;
    if (r->gv) {
        uint64_t g = vpn_getvpn_node_next_deadline(r->gv);
        if (g < t)
            t = g;
    }
    if (rt_ikev1_next_deadline(r->v1) < t)
        t = rt_ikev1_next_deadline(r->v1);
    return mgre_deadline(r, t);
}

/* ---- IKEv1 phase 1 ------------------------------------------------------------------------------ */

int vpn_router_isakmp_initiate(vpn_router *r, uint64_t now, const vpn_addr *local, const vpn_addr *peer,
                               uint32_t *conn_id)
{
    if (r == NULL || local == NULL || peer == NULL)
        return VPN_ERR_INVAL;
    if (r->v1 == NULL)
        return VPN_ERR_STATE;
    r->now = now;
    return rt_ikev1_initiate(r->v1, now, local, peer, conn_id);
}

int vpn_router_isakmp_clear(vpn_router *r, uint64_t now, bool all, uint32_t conn_id)
{
    if (r == NULL)
        return VPN_ERR_INVAL;
    r->now = now;
    if (r->v1 == NULL)
        return all ? 0 : VPN_ERR_NOTFOUND;
    return rt_ikev1_clear(r->v1, now, all, conn_id);
}

size_t vpn_router_isakmp_count(const vpn_router *r)
{
    return r ? rt_ikev1_count(r->v1) : 0;
}

int vpn_router_show_isakmp_sa(const vpn_router *r, vpn_show_buf *b)
{
    if (r == NULL || b == NULL)
        return VPN_ERR_INVAL;
    return rt_ikev1_show_sa(r->v1, b);
}

/* ---- manual keying ----------------------------------------------------------------------------- */

int vpn_router_sa_add(vpn_router *r, uint64_t now, uint32_t tunnel, const vpn_sa_config *cfg,
                      vpn_router_sa_ref *ref)
{
    vpn_sa_config c;
    rt_child *rec;
    vpn_sa *sa = NULL;
    int rc;

    if (r == NULL || cfg == NULL || tunnel >= r->n_tun || (cfg->dir != VPN_SA_IN && cfg->dir != VPN_SA_OUT))
        return VPN_ERR_INVAL;
    r->now = now;
    c = *cfg;
    c.user = (void *)(uintptr_t)r->next_manual;
    if ((rc = vpn_sad_add(r->sad, &c, now, &sa)) != 0)
        return rc;
    if ((rec = child_new(r, r->next_manual++, tunnel)) == NULL) {
        vpn_sad_remove(r->sad, sa);
        return VPN_ERR_NOMEM;
    }
    if (r->next_manual == 0)
        r->next_manual = RT_MANUAL_ID_BASE;
    if (cfg->dir == VPN_SA_IN) {
        rec->in = sa;
    } else {
        rec->out = sa;
        r->tun[tunnel].out_child = rec->id;
    }
    sa_installed(r, rec, sa, cfg->dir);
    if (ref)
        *ref = ref_of(sa, cfg->dir);
    return 0;
}

static rt_child *find_sa(const vpn_router *r, const vpn_router_sa_ref *ref, vpn_sa **sa)
{
    vpn_sa *s;
    rt_child *c;

    /* two hash lookups: the SAD by (SPI, direction), the child table by
     * the id every SA of the router carries as its user cookie */
    if (ref == NULL || (ref->dir != VPN_SA_IN && ref->dir != VPN_SA_OUT) ||
        (s = vpn_sad_find(r->sad, ref->spi, ref->dir)) == NULL ||
        (c = child_find(r, (uint32_t)(uintptr_t)vpn_sa_get_user(s))) == NULL ||
        (ref->dir == VPN_SA_IN ? c->in : c->out) != s)
        return NULL;
    if (sa)
        *sa = s;
    return c;
}

int vpn_router_sa_remove(vpn_router *r, const vpn_router_sa_ref *ref)
{
    vpn_sa *sa = NULL;
    rt_child *c;

    if (r == NULL || ref == NULL)
        return VPN_ERR_INVAL;
    if ((c = find_sa(r, ref, &sa)) == NULL)
        return VPN_ERR_NOTFOUND;
    if ((ref->dir == VPN_SA_IN ? c->out : c->in) == NULL) {
        child_remove(r, c->id);
        return 0;
    }
    if (ref->dir == VPN_SA_OUT) {
        hand_over(r, c);
        c->out = NULL;
    } else {
        c->in = NULL;
    }
    sa_removed(r, c, sa, ref->dir);
    return 0;
}

/* ---- state ------------------------------------------------------------------------------------ */

size_t vpn_router_tunnel_count(const vpn_router *r)
{
    return r ? r->n_tun : 0;
}

int vpn_router_tunnel_get(const vpn_router *r, uint32_t tunnel, vpn_router_tunnel_info *out)
{
    const rt_tunnel *t;
    const rt_child *c;

    if (r == NULL || out == NULL)
        return VPN_ERR_INVAL;
    memset(out, 0, sizeof *out);
    if (tunnel >= r->n_tun)
        return VPN_ERR_NOTFOUND;
    t = &r->tun[tunnel];
    memcpy(out->name, t->name, sizeof out->name);
    out->mode = t->mode;
    out->src = t->src;
    out->dst = t->dst;
    if ((c = child_find(r, t->out_child)) != NULL && c->out) {
        out->out_child = c->id >= RT_MANUAL_ID_BASE ? 0 : c->id;
        out->out_sa = ref_of(c->out, VPN_SA_OUT);
    }
    out->encrypted = t->encrypted;
    out->decrypted = t->decrypted;
    out->dropped = t->dropped;
    return 0;
}

void vpn_router_stats_get(const vpn_router *r, vpn_router_stats *out)
{
    if (out == NULL)
        return;
    if (r == NULL)
        memset(out, 0, sizeof *out);
    else
        *out = r->st;
}

bool vpn_router_sa_get(const vpn_router *r, const vpn_router_sa_ref *ref, vpn_sa_config *cfg,
                       vpn_sa_stats *stats)
{
    vpn_sa *sa = NULL;

    if (r == NULL || find_sa(r, ref, &sa) == NULL)
        return false;
    if (cfg)
        *cfg = *vpn_sa_get_config(sa);
    if (stats)
        *stats = *vpn_sa_get_stats(sa);
    return true;
}

bool vpn_router_child_sas(const vpn_router *r, uint32_t child_id, vpn_router_sa_ref *in,
                          vpn_router_sa_ref *out)
{
    const rt_child *c = r && child_id < RT_MANUAL_ID_BASE ? child_find(r, child_id) : NULL;

    if (c == NULL)
        return false;
    if (in)
        *in = ref_of(c->in, VPN_SA_IN);
    if (out)
        *out = ref_of(c->out, VPN_SA_OUT);
    return true;
}

static void guess_shape(vpn_esp_shape *s)
{
    memset(s, 0, sizeof *s);
    s->encr_id = VPN_ENCR_AES_CBC;
    s->encr_key_bits = 256;
    s->integ_id = VPN_AUTH_HMAC_SHA2_512_256;
    s->mode = VPN_ESP_TUNNEL;
    s->udp_encap = true;
}

static uint16_t mtu_of(vpn_esp_shape *shapes, size_t n, vpn_router_tunnel_mode mode, bool gre_key,
                       uint8_t family, size_t wan_mtu)
{
    size_t best = 65535, gre_len = 0;

    if (mode == VPN_ROUTER_TUNNEL_GRE_IPSEC || mode == VPN_ROUTER_TUNNEL_MGRE) {
        vpn_gre_hdr h;
        memset(&h, 0, sizeof h);
        h.has_key = gre_key;
        gre_len = vpn_gre_hdr_len(&h);
    }
    for (size_t i = 0; i < n; i++) {
        size_t m = 0;
        shapes[i].outer_family = family;
        if (vpn_esp_tunnel_mtu(&shapes[i], wan_mtu, gre_len, &m) != 0)
            m = 68; /* a WAN too small for ESP: IPv4's minimum */
        if (m < best)
            best = m;
    }
    return (uint16_t)(best < 68 ? 68 : best);
}

int vpn_router_mtu_guess(vpn_router_tunnel_mode mode, bool gre_key, uint8_t family, size_t wan_mtu,
                         uint16_t *mtu)
{
    vpn_esp_shape s;

    if (mtu == NULL || (family != VPN_AF_INET && family != VPN_AF_INET6))
        return VPN_ERR_INVAL;
    guess_shape(&s);
    *mtu = mtu_of(&s, 1, mode, gre_key, family, wan_mtu);
    return 0;
}

int vpn_router_tunnel_mtu(const vpn_router *r, uint32_t tunnel, size_t wan_mtu, uint16_t *mtu)
{
    vpn_esp_shape shapes[RT_SHAPES_MAX];
    size_t n = 0;
    const rt_tunnel *t;
    const rt_child *c;

    if (r == NULL || mtu == NULL)
        return VPN_ERR_INVAL;
    if (tunnel >= r->n_tun)
        return VPN_ERR_NOTFOUND;
    t = &r->tun[tunnel];
    if ((c = child_find(r, t->out_child)) != NULL && c->out && vpn_esp_shape_of(c->out, &shapes[0]) == 0) {
        n = 1;
    } else if (t->n_shape) {
        memcpy(shapes, t->shape, t->n_shape * sizeof shapes[0]);
        n = t->n_shape;
    } else {
        guess_shape(&shapes[0]);
        n = 1;
    }
    *mtu = mtu_of(shapes, n, t->mode, t->has_key, t->dst.family, wan_mtu);
    return 0;
}

size_t vpn_router_sa_list(const vpn_router *r, vpn_router_sa_ref *out, size_t cap)
{
    size_t n = 0;

    for (size_t i = 0; r && i < r->n_child; i++) {
        const rt_child *c = &r->child[i];
        if (c->in) {
            if (out && n < cap)
                out[n] = ref_of(c->in, VPN_SA_IN);
            n++;
        }
        if (c->out) {
            if (out && n < cap)
                out[n] = ref_of(c->out, VPN_SA_OUT);
            n++;
        }
    }
    return n;
}

vpn_ikev2_ctx *vpn_router_ikev2_setup(vpn_router *r)
{
    return r ? r->ike : NULL;
}

int vpn_router_eap_answer(vpn_router *r, uint64_t now, uint32_t ike_sa_id, const vpn_eap_answer *a)
{
    if (r == NULL || r->ike == NULL)
        return VPN_ERR_INVAL;
    return vpn_ikev2_eap_answer(r->ike, now, ike_sa_id, a);
}

int vpn_router_eap_authorize(vpn_router *r, uint32_t ike_sa_id, const vpn_cp_authz *z)
{
    if (r == NULL || r->ike == NULL)
        return VPN_ERR_INVAL;
    return vpn_ikev2_eap_authorize(r->ike, ike_sa_id, z);
}

const vpn_ikev2_ctx *vpn_router_ikev2(const vpn_router *r)
{
    return r ? r->ike : NULL;
}

void vpn_router_sad_stats(const vpn_router *r, vpn_sad_stats *out)
{
    if (out == NULL)
        return;
    if (r == NULL)
        memset(out, 0, sizeof *out);
    else
        *out = *vpn_sad_get_stats(r->sad);
}

/* ---- show ------------------------------------------------------------------------------------- */

static const char *env_name(void *user, uint32_t tag)
{
    const vpn_router *r = user;
    return tag < r->n_tun ? r->tun[tag].name : NULL;
}

static bool env_counters(void *user, uint32_t child_id, vpn_show_child_counters *out)
{
    const vpn_router *r = user;
    const rt_child *c = child_find(r, child_id);
    return c && c->in && c->out && vpn_show_child_counters_from_sas(c->in, c->out, out) == 0;
}

/* A template's session shows on its clone: "Virtual-AccessN". */
static const char *env_peer_name(void *user, uint32_t tag, const vpn_addr *peer, char *buf, size_t len)
{
    const vpn_router *r = user;
    const rt_peer *p;

    if (tag >= r->n_tun || r->tun[tag].mg == NULL || r->tun[tag].mg->vt == 0 ||
        (p = peer_find(r->tun[tag].mg, peer)) == NULL || p->va == 0)
        return NULL;
    snprintf(buf, len, "Virtual-Access%u", p->va);
    return buf;
}

static void env_of(const vpn_router *r, vpn_show_ikev2_env *env)
{
    memset(env, 0, sizeof *env);
    env->user = (void *)r;
    env->interface_name = env_name;
    env->peer_interface_name = env_peer_name;
    env->child_counters = env_counters;
}

int vpn_router_show_ikev2_sa(const vpn_router *r, uint64_t now, bool detail, vpn_show_buf *b)
{
    if (r == NULL || b == NULL || r->ike == NULL)
        return VPN_ERR_INVAL;
    return vpn_show_ikev2_sa(r->ike, now, detail, b);
}

int vpn_router_show_crypto_session(const vpn_router *r, uint64_t now, bool detail, vpn_show_buf *b)
{
    vpn_show_ikev2_env env;

    if (r == NULL || b == NULL || r->ike == NULL)
        return VPN_ERR_INVAL;
    env_of(r, &env);
    return vpn_show_crypto_session(r->ike, now, detail, &env, b);
}

int vpn_router_show_crypto_session_user(const vpn_router *r, uint64_t now, const char *user, bool detail,
                                        vpn_show_buf *b)
{
    vpn_show_ikev2_env env;

    if (r == NULL || b == NULL || user == NULL || r->ike == NULL)
        return VPN_ERR_INVAL;
    env_of(r, &env);
    return vpn_show_crypto_session_user(r->ike, now, user, detail, &env, b);
}

int vpn_router_show_ipsec_sa(const vpn_router *r, uint64_t now, bool detail, vpn_show_buf *b)
{
    vpn_show_ikev2_env env;

    if (r == NULL || b == NULL || r->ike == NULL)
        return VPN_ERR_INVAL;
    env_of(r, &env);
    return vpn_show_crypto_ipsec_sa(r->ike, now, detail, &env, b);
}

int vpn_router_show_drops(const vpn_router *r, vpn_show_buf *b)
{
    if (r == NULL || b == NULL)
        return VPN_ERR_INVAL;
    for (int i = 1; i < VPN_ROUTER_DROP_COUNT; i++)
        if (r->st.drops[i])
            vpn_show_printf(b, "%s: %llu\n", drop_names[i], (unsigned long long)r->st.drops[i]);
    return vpn_show_result(b);
}

/* ---- Virtual-Access views ----------------------------------------------------------------- */

size_t vpn_router_va_count(const vpn_router *r)
{
    return r ? r->n_va : 0;
}

int vpn_router_va_get(const vpn_router *r, uint32_t va, vpn_router_va_info *out)
{
    const rt_peer *p;

    if (r == NULL || out == NULL)
        return VPN_ERR_INVAL;
    if (va == 0 || va >= r->cap_va || (p = r->va_tab[va]) == NULL)
        return VPN_ERR_NOTFOUND;
    memset(out, 0, sizeof *out);
    out->va = va;
    out->tunnel = p->va_tunnel;
    out->virtual_template = r->tun[p->va_tunnel].mg->vt;
    out->peer = p->nbma;
    out->ike_sa_id = p->va_ike;
    out->since_ns = p->va_since;
    return 0;
}

static const vpn_conf_interface *va_template(const vpn_router *r, uint32_t vt)
{
    if (r->p.conf == NULL)
        return NULL;
    for (size_t i = 0; i < r->p.conf->n_iface; i++)
        if (r->p.conf->iface[i].is_virtual_template && r->p.conf->iface[i].vt_number == vt)
            return &r->p.conf->iface[i];
    return NULL;
}

/* The clone's configuration lines, "!" to "end", as IOS derives them. */
static void va_lines(const vpn_router *r, const vpn_router_va_info *v, vpn_show_buf *b)
{
    const vpn_conf_interface *f = va_template(r, v->virtual_template);
    const rt_tunnel *t = &r->tun[v->tunnel];
    char a[VPN_ADDR_STRLEN];

    vpn_show_printf(b, "!\ninterface Virtual-Access%u\n", v->va);
    if (f && f->unnumbered)
        vpn_show_printf(b, " ip unnumbered %s\n", f->unnumbered_if);
    else if (f && f->has_address)
        vpn_show_printf(b, " ip address %s\n", vpn_addr_str(&f->address.addr, a, sizeof a));
    if (f && f->ip_mtu)
        vpn_show_printf(b, " ip mtu %u\n", (unsigned)f->ip_mtu);
    if (f && f->nhrp.has_network_id)
        vpn_show_printf(b, " ip nhrp network-id %u\n", (unsigned)f->nhrp.network_id);
    if (f && f->nhrp.redirect)
        vpn_show_printf(b, " ip nhrp redirect\n");
    if (f && f->tunnel_source_if[0])
        vpn_show_printf(b, " tunnel source %s\n", f->tunnel_source_if);
    else
        vpn_show_printf(b, " tunnel source %s\n", vpn_addr_str(&t->src, a, sizeof a));
    if (f && f->tunnel_mode == VPN_CONF_TUNNEL_IPSEC_IPV4)
        vpn_show_printf(b, " tunnel mode ipsec ipv4\n");
    vpn_show_printf(b, " tunnel destination %s\n", vpn_addr_str(&v->peer, a, sizeof a));
    if (t->ipsec_profile[0])
        vpn_show_printf(b, " tunnel protection ipsec profile %s\n", t->ipsec_profile);
    /* the session came from the peer: the clone does not start IKE */
    vpn_show_printf(b, " no tunnel protection ipsec initiate\nend\n");
}

int vpn_router_show_derived_config(const vpn_router *r, uint32_t va, vpn_show_buf *b)
{
    vpn_router_va_info v;
    char tmp[1024];
    vpn_show_buf body;
    int rc;

    if (r == NULL || b == NULL)
        return VPN_ERR_INVAL;
    if ((rc = vpn_router_va_get(r, va, &v)) != 0)
        return rc;
    /* IOS counts the derived lines' bytes in the header: render them first */
    vpn_show_init(&body, tmp, sizeof tmp);
    va_lines(r, &v, &body);
    if ((rc = vpn_show_result(&body)) != 0)
        return rc;
    vpn_show_printf(b, "Building configuration...\n\nDerived configuration : %zu bytes\n%s", strlen(tmp), tmp);
    return vpn_show_result(b);
}

int vpn_router_show_virtual_access(const vpn_router *r, uint64_t now, vpn_show_buf *b)
{
    char a[VPN_ADDR_STRLEN], l[VPN_ADDR_STRLEN];

    if (r == NULL || b == NULL)
        return VPN_ERR_INVAL;
    for (uint32_t n = 1; n <= r->va_next && n < r->cap_va; n++) {
        vpn_router_va_info v;
        const vpn_conf_interface *f;
        const rt_tunnel *t;
        const rt_peer *p = r->va_tab[n];
        uint64_t up_s;

        if (p == NULL || vpn_router_va_get(r, n, &v) != 0)
            continue;
        f = va_template(r, v.virtual_template);
        t = &r->tun[v.tunnel];
        up_s = now > v.since_ns ? (now - v.since_ns) / 1000000000ull : 0;
        vpn_show_printf(b, "Virtual-Access%u is up, line protocol is up\n", n);
        vpn_show_printf(b, "  Hardware is Virtual Access interface\n");
        if (f && f->unnumbered) {
            const vpn_conf_interface *u = vpn_conf_find_interface(r->p.conf, f->unnumbered_if);
            vpn_show_printf(b, "  Interface is unnumbered. Using address of %s (%s)\n", f->unnumbered_if,
                            u && u->has_address ? vpn_addr_str(&u->address.addr, l, sizeof l) : "0.0.0.0");
        }
        vpn_show_printf(b, "  Tunnel vaccess, cloned from Virtual-Template%u\n", v.virtual_template);
        vpn_show_printf(b, "  Tunnel source %s%s%s%s, destination %s\n", vpn_addr_str(&t->src, l, sizeof l),
                        f && f->tunnel_source_if[0] ? " (" : "", f ? f->tunnel_source_if : "",
                        f && f->tunnel_source_if[0] ? ")" : "", vpn_addr_str(&v.peer, a, sizeof a));
        vpn_show_printf(b, "  Tunnel protocol/transport %s\n",
                        f && f->tunnel_mode == VPN_CONF_TUNNEL_IPSEC_IPV4 ? "IPSEC/IP" : "GRE/IP");
        if (t->ipsec_profile[0])
            vpn_show_printf(b, "  Tunnel protection via IPSec (profile \"%s\")\n", t->ipsec_profile);
        vpn_show_printf(b, "  IKEv2 SA %u, up %llu:%02llu:%02llu\n", v.ike_sa_id,
                        (unsigned long long)(up_s / 3600), (unsigned long long)(up_s / 60 % 60),
                        (unsigned long long)(up_s % 60));
        vpn_show_printf(b, "     %llu packets input, %llu packets output\n", (unsigned long long)p->decrypted,
                        (unsigned long long)p->encrypted);
    }
    return vpn_show_result(b);
}
