/*
 * One label switching router: LFIB, FTN, VRF tables and the forwarding path
 * (RFC 3031 3.10-3.13, RFC 3032, RFC 3443, RFC 4364 5).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "ipsec/ip.h"
#include "mpls/mpls.h"

#define NAME_MAX_LEN 32
#define DEFAULT_MTU 9216

typedef struct mpls_if {
    int ifindex;
    char name[NAME_MAX_LEN];
    vpn_mpls_if_kind kind;
    int vrf;
} mpls_if;

typedef struct mpls_ftn {
    vpn_addr loopback;
    uint32_t label;
    int out_if;
    vpn_addr next_hop;
} mpls_ftn;

typedef struct mpls_route {
    vpn_prefix prefix;
    bool remote;
    int out_if;          /* local */
    vpn_addr next_hop;
    vpn_addr pe;         /* remote */
    uint32_t label;
} mpls_route;

typedef struct mpls_pe_target {
    vpn_addr pe;
    uint32_t label;
} mpls_pe_target;

typedef struct mpls_mroute {
    vpn_prefix group, source;
    mpls_pe_target *pes;
    size_t n_pes, cap_pes;
    int *ces;
    size_t n_ces, cap_ces;
} mpls_mroute;

typedef struct mpls_vrf {
    char name[NAME_MAX_LEN];
    mpls_route *routes;
    size_t n_routes, cap_routes;
    /* an index over routes by (prefix, length): open addressing, slots hold
     * route index + 1 (0 = empty), hcap a power of two at least twice
     * n_routes; lens has bit L set when a /L route exists. A lookup probes
     * the lengths present from the longest: a VRF with thousands of sites
     * (one /30 per PE-CE link) costs at most 33 probes, not a scan. */
    uint32_t *hidx;
    size_t hcap;
    uint64_t lens;
    mpls_mroute *mroutes;
    size_t n_mroutes, cap_mroutes;
} mpls_vrf;

struct vpn_mpls_router {
    char name[NAME_MAX_LEN];
    vpn_addr loopback;
    vpn_mpls_ttl_mode ttl_mode;
    vpn_mpls_emit_fn emit;
    void *emit_ctx;
    size_t mtu;
    mpls_if *ifs;
    size_t n_ifs, cap_ifs;
    mpls_vrf *vrfs;
    size_t n_vrfs, cap_vrfs;
    vpn_mpls_lfib_entry *lfib; /* sorted by in_label */
    size_t n_lfib, cap_lfib;
    mpls_ftn *ftn;
    size_t n_ftn, cap_ftn;
    vpn_mpls_stats stats;
    uint8_t *work; /* VPN_MPLS_HEADROOM + mtu: the packet being forwarded */
};

/* Makes room for one more element; arrays grow by doubling. */
static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
    size_t ncap;
    void *p;
    if (n < *cap)
        return 0;
    ncap = *cap ? *cap * 2 : 4;
    p = realloc(*arr, ncap * size);
    if (!p)
        return VPN_ERR_NOMEM;
    *arr = p;
    *cap = ncap;
    return 0;
}

static void copy_name(char *dst, const char *src)
{
    snprintf(dst, NAME_MAX_LEN, "%s", src ? src : "");
}

int vpn_mpls_router_new(vpn_mpls_router **out, const vpn_mpls_router_params *p)
{
    vpn_mpls_router *r;
    if (!out || !p || !p->emit || p->loopback.family != VPN_AF_INET ||
        (p->ttl_mode != VPN_MPLS_TTL_UNIFORM && p->ttl_mode != VPN_MPLS_TTL_PIPE) ||
        (p->mtu && (p->mtu < 68 || p->mtu > 65535)))
        return VPN_ERR_INVAL;
    r = calloc(1, sizeof(*r));
    if (!r)
        return VPN_ERR_NOMEM;
    copy_name(r->name, p->name);
    r->loopback = p->loopback;
    r->ttl_mode = p->ttl_mode;
    r->emit = p->emit;
    r->emit_ctx = p->emit_ctx;
    r->mtu = p->mtu ? p->mtu : DEFAULT_MTU;
    r->work = malloc(VPN_MPLS_HEADROOM + r->mtu);
    if (!r->work) {
        free(r);
        return VPN_ERR_NOMEM;
    }
    *out = r;
    return 0;
}

void vpn_mpls_router_del(vpn_mpls_router *r)
{
    size_t i, j;
    if (!r)
        return;
    for (i = 0; i < r->n_vrfs; i++) {
        for (j = 0; j < r->vrfs[i].n_mroutes; j++) {
            free(r->vrfs[i].mroutes[j].pes);
            free(r->vrfs[i].mroutes[j].ces);
        }
        free(r->vrfs[i].mroutes);
        free(r->vrfs[i].routes);
        free(r->vrfs[i].hidx);
    }
    free(r->vrfs);
    free(r->ifs);
    free(r->lfib);
    free(r->ftn);
    free(r->work);
    free(r);
}

const char *vpn_mpls_router_name(const vpn_mpls_router *r) { return r->name; }
const vpn_addr *vpn_mpls_router_loopback(const vpn_mpls_router *r) { return &r->loopback; }
const vpn_mpls_stats *vpn_mpls_router_stats(const vpn_mpls_router *r) { return &r->stats; }

static mpls_if *find_if(const vpn_mpls_router *r, int ifindex)
{
    size_t i;
    for (i = 0; i < r->n_ifs; i++)
        if (r->ifs[i].ifindex == ifindex)
            return &r->ifs[i];
    return NULL;
}

const char *vpn_mpls_router_if_name(const vpn_mpls_router *r, int ifindex)
{
    const mpls_if *f = find_if(r, ifindex);
    return f ? f->name : NULL;
}

int vpn_mpls_router_vrf_id(const vpn_mpls_router *r, const char *name)
{
    size_t i;
    if (!r || !name)
        return VPN_ERR_INVAL;
    for (i = 0; i < r->n_vrfs; i++)
        if (strncmp(r->vrfs[i].name, name, NAME_MAX_LEN) == 0)
            return (int)i;
    return VPN_ERR_NOTFOUND;
}

const char *vpn_mpls_router_vrf_name(const vpn_mpls_router *r, int vrf)
{
    return vrf >= 0 && (size_t)vrf < r->n_vrfs ? r->vrfs[vrf].name : NULL;
}

int vpn_mpls_router_add_vrf(vpn_mpls_router *r, const char *name, int *id)
{
    int rc;
    if (!r || !name || !*name || strlen(name) >= NAME_MAX_LEN)
        return VPN_ERR_INVAL;
    rc = vpn_mpls_router_vrf_id(r, name);
    if (rc < 0) {
        if (grow((void **)&r->vrfs, &r->cap_vrfs, r->n_vrfs, sizeof(*r->vrfs)))
            return VPN_ERR_NOMEM;
        memset(&r->vrfs[r->n_vrfs], 0, sizeof(r->vrfs[0]));
        copy_name(r->vrfs[r->n_vrfs].name, name);
        rc = (int)r->n_vrfs++;
    }
    if (id)
        *id = rc;
    return 0;
}

int vpn_mpls_router_add_if(vpn_mpls_router *r, int ifindex, const char *name,
                           vpn_mpls_if_kind kind, const char *vrf)
{
    int vid = -1, rc;
    mpls_if *f;
    if (!r || !name || strlen(name) >= NAME_MAX_LEN ||
        (kind != VPN_MPLS_IF_CORE && kind != VPN_MPLS_IF_CE) || (kind == VPN_MPLS_IF_CE && !vrf))
        return VPN_ERR_INVAL;
    if (find_if(r, ifindex))
        return VPN_ERR_EXISTS;
    if (kind == VPN_MPLS_IF_CE) {
        rc = vpn_mpls_router_add_vrf(r, vrf, &vid);
        if (rc)
            return rc;
    }
    if (grow((void **)&r->ifs, &r->cap_ifs, r->n_ifs, sizeof(*r->ifs)))
        return VPN_ERR_NOMEM;
    f = &r->ifs[r->n_ifs++];
    f->ifindex = ifindex;
    copy_name(f->name, name);
    f->kind = kind;
    f->vrf = vid;
    return 0;
}

/* Index of the first entry with in_label >= label. */
static size_t lfib_lower(const vpn_mpls_router *r, uint32_t label)
{
    size_t lo = 0, hi = r->n_lfib;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->lfib[mid].in_label < label)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static vpn_mpls_lfib_entry *lfib_get(const vpn_mpls_router *r, uint32_t label)
{
    size_t i = lfib_lower(r, label);
    return i < r->n_lfib && r->lfib[i].in_label == label ? &r->lfib[i] : NULL;
}

const vpn_mpls_lfib_entry *vpn_mpls_lfib_find(const vpn_mpls_router *r, uint32_t label)
{
    return lfib_get(r, label);
}

size_t vpn_mpls_lfib_count(const vpn_mpls_router *r) { return r->n_lfib; }

const vpn_mpls_lfib_entry *vpn_mpls_lfib_at(const vpn_mpls_router *r, size_t i)
{
    return i < r->n_lfib ? &r->lfib[i] : NULL;
}

int vpn_mpls_lfib_add(vpn_mpls_router *r, const vpn_mpls_lfib_entry *e)
{
    size_t i;
    const mpls_if *f = NULL;
    if (!r || !e || e->in_label < VPN_MPLS_LABEL_FIRST || e->in_label > VPN_MPLS_LABEL_MAX)
        return VPN_ERR_INVAL;
    switch (e->op) {
    case VPN_MPLS_OP_SWAP:
        /* Out label: explicit-null or an ordinary label (RFC 3032 2.1). */
        if (e->out_label > VPN_MPLS_LABEL_MAX ||
            (e->out_label != VPN_MPLS_LABEL_IPV4_EXPLICIT_NULL &&
             e->out_label < VPN_MPLS_LABEL_FIRST))
            return VPN_ERR_INVAL;
        /* fall through */
    case VPN_MPLS_OP_POP:
        f = find_if(r, e->out_if);
        if (!f || f->kind != VPN_MPLS_IF_CORE)
            return VPN_ERR_INVAL;
        break;
    case VPN_MPLS_OP_POP_VRF:
        f = find_if(r, e->out_if);
        if (!f || f->kind != VPN_MPLS_IF_CE || f->vrf != e->vrf)
            return VPN_ERR_INVAL;
        break;
    case VPN_MPLS_OP_POP_LOOKUP:
        if (e->vrf < 0 || (size_t)e->vrf >= r->n_vrfs)
            return VPN_ERR_INVAL;
        break;
    default:
        return VPN_ERR_INVAL;
    }
    i = lfib_lower(r, e->in_label);
    if (i < r->n_lfib && r->lfib[i].in_label == e->in_label)
        return VPN_ERR_EXISTS;
    if (grow((void **)&r->lfib, &r->cap_lfib, r->n_lfib, sizeof(*r->lfib)))
        return VPN_ERR_NOMEM;
    memmove(&r->lfib[i + 1], &r->lfib[i], (r->n_lfib - i) * sizeof(*r->lfib));
    r->lfib[i] = *e;
    if (e->op == VPN_MPLS_OP_POP_LOOKUP) {
        r->lfib[i].out_if = -1;
        memset(&r->lfib[i].next_hop, 0, sizeof(r->lfib[i].next_hop));
    }
    if (e->op == VPN_MPLS_OP_SWAP || e->op == VPN_MPLS_OP_POP)
        r->lfib[i].vrf = -1;
    r->lfib[i].packets = 0;
    r->lfib[i].bytes = 0;
    r->n_lfib++;
    return 0;
}

static mpls_ftn *ftn_get(const vpn_mpls_router *r, const vpn_addr *lo)
{
    size_t i;
    for (i = 0; i < r->n_ftn; i++)
        if (vpn_addr_eq(&r->ftn[i].loopback, lo))
            return &r->ftn[i];
    return NULL;
}

int vpn_mpls_ftn_set(vpn_mpls_router *r, const vpn_addr *loopback, uint32_t out_label,
                     int out_if, const vpn_addr *next_hop)
{
    mpls_ftn *t;
    const mpls_if *f;
    if (!r || !loopback || !next_hop || loopback->family != VPN_AF_INET)
        return VPN_ERR_INVAL;
    if (out_label > VPN_MPLS_LABEL_MAX ||
        (out_label < VPN_MPLS_LABEL_FIRST && out_label != VPN_MPLS_LABEL_IMPLICIT_NULL &&
         out_label != VPN_MPLS_LABEL_IPV4_EXPLICIT_NULL))
        return VPN_ERR_INVAL;
    f = find_if(r, out_if);
    if (!f || f->kind != VPN_MPLS_IF_CORE)
        return VPN_ERR_INVAL;
    t = ftn_get(r, loopback);
    if (!t) {
        if (grow((void **)&r->ftn, &r->cap_ftn, r->n_ftn, sizeof(*r->ftn)))
            return VPN_ERR_NOMEM;
        t = &r->ftn[r->n_ftn++];
    }
    t->loopback = *loopback;
    t->label = out_label;
    t->out_if = out_if;
    t->next_hop = *next_hop;
    return 0;
}

/* An IPv4 address's first len bits (the rest zero), as a number. */
static uint32_t masked4(const vpn_addr *a, unsigned len)
{
    uint32_t x = (uint32_t)a->b[0] << 24 | (uint32_t)a->b[1] << 16 | (uint32_t)a->b[2] << 8 |
                 a->b[3];
    return len ? x & (0xffffffffu << (32 - len)) : 0;
}

static size_t route_slot(const mpls_vrf *v, uint32_t net, unsigned len)
{
    uint32_t h = (net ^ (uint32_t)len * 0x9e3779b9u) * 0x85ebca6bu;
    return (h ^ h >> 16) & (v->hcap - 1);
}

/* The route for exactly net/len, or NULL. */
static mpls_route *route_exact(const mpls_vrf *v, uint32_t net, unsigned len)
{
    if (!v->hcap || !(v->lens >> len & 1))
        return NULL;
    for (size_t k = route_slot(v, net, len);; k = (k + 1) & (v->hcap - 1)) {
        mpls_route *rt;
        if (!v->hidx[k])
            return NULL;
        rt = &v->routes[v->hidx[k] - 1];
        if (rt->prefix.len == len && masked4(&rt->prefix.addr, len) == net)
            return rt;
    }
}

static void route_index(mpls_vrf *v, size_t i)
{
    const vpn_prefix *p = &v->routes[i].prefix;
    size_t k = route_slot(v, masked4(&p->addr, p->len), p->len);
    while (v->hidx[k])
        k = (k + 1) & (v->hcap - 1);
    v->hidx[k] = (uint32_t)(i + 1);
}

static int vrf_route_add(vpn_mpls_router *r, int vrf, const mpls_route *nr)
{
    mpls_vrf *v;
    mpls_route *old;
    if (vrf < 0 || (size_t)vrf >= r->n_vrfs)
        return VPN_ERR_NOTFOUND;
    v = &r->vrfs[vrf];
    old = route_exact(v, masked4(&nr->prefix.addr, nr->prefix.len), nr->prefix.len);
    if (old) {
        *old = *nr;
        return 0;
    }
    if (v->n_routes >= UINT32_MAX - 1)
        return VPN_ERR_LIMIT;
    if (2 * (v->n_routes + 1) > v->hcap) {
        size_t nc = v->hcap ? v->hcap * 2 : 16;
        uint32_t *h = calloc(nc, sizeof(*h));
        if (!h)
            return VPN_ERR_NOMEM;
        free(v->hidx);
        v->hidx = h;
        v->hcap = nc;
        for (size_t i = 0; i < v->n_routes; i++)
            route_index(v, i);
    }
    if (grow((void **)&v->routes, &v->cap_routes, v->n_routes, sizeof(*v->routes)))
        return VPN_ERR_NOMEM;
    v->routes[v->n_routes] = *nr;
    route_index(v, v->n_routes++);
    v->lens |= 1ull << nr->prefix.len;
    return 0;
}

static bool prefix_ok(const vpn_prefix *p)
{
    return p && p->addr.family == VPN_AF_INET && p->len <= 32;
}

int vpn_mpls_vrf_route_local(vpn_mpls_router *r, int vrf, const vpn_prefix *prefix, int out_if,
                             const vpn_addr *next_hop)
{
    mpls_route nr;
    const mpls_if *f;
    if (!r || !prefix_ok(prefix) || !next_hop)
        return VPN_ERR_INVAL;
    f = find_if(r, out_if);
    if (!f || f->kind != VPN_MPLS_IF_CE || f->vrf != vrf)
        return vrf < 0 || (size_t)vrf >= r->n_vrfs ? VPN_ERR_NOTFOUND : VPN_ERR_INVAL;
    memset(&nr, 0, sizeof(nr));
    nr.prefix = *prefix;
    nr.out_if = out_if;
    nr.next_hop = *next_hop;
    return vrf_route_add(r, vrf, &nr);
}

int vpn_mpls_vrf_route_remote(vpn_mpls_router *r, int vrf, const vpn_prefix *prefix,
                              const vpn_addr *remote_pe, uint32_t vpn_label)
{
    mpls_route nr;
    if (!r || !prefix_ok(prefix) || !remote_pe || remote_pe->family != VPN_AF_INET ||
        vpn_label < VPN_MPLS_LABEL_FIRST || vpn_label > VPN_MPLS_LABEL_MAX)
        return VPN_ERR_INVAL;
    memset(&nr, 0, sizeof(nr));
    nr.prefix = *prefix;
    nr.remote = true;
    nr.out_if = -1;
    nr.pe = *remote_pe;
    nr.label = vpn_label;
    return vrf_route_add(r, vrf, &nr);
}

static bool prefix_same(const vpn_prefix *a, const vpn_prefix *b)
{
    return a->len == b->len && vpn_prefix_contains(a, &b->addr);
}

int vpn_mpls_vrf_mroute_add(vpn_mpls_router *r, int vrf, const vpn_prefix *group,
                            const vpn_prefix *source, const vpn_addr *remote_pe,
                            uint32_t vpn_label, int ce_if)
{
    mpls_vrf *v;
    mpls_mroute *m = NULL;
    size_t i;
    if (!r || !prefix_ok(group) || !prefix_ok(source) || group->len < 4 ||
        (group->addr.b[0] & 0xf0) != 0xe0)
        return VPN_ERR_INVAL;
    if (vrf < 0 || (size_t)vrf >= r->n_vrfs)
        return VPN_ERR_NOTFOUND;
    if (remote_pe) {
        if (remote_pe->family != VPN_AF_INET || vpn_label < VPN_MPLS_LABEL_FIRST ||
            vpn_label > VPN_MPLS_LABEL_MAX)
            return VPN_ERR_INVAL;
    } else {
        const mpls_if *f = find_if(r, ce_if);
        if (!f || f->kind != VPN_MPLS_IF_CE || f->vrf != vrf)
            return VPN_ERR_INVAL;
    }
    v = &r->vrfs[vrf];
    for (i = 0; i < v->n_mroutes; i++)
        if (prefix_same(&v->mroutes[i].group, group) && prefix_same(&v->mroutes[i].source, source))
            m = &v->mroutes[i];
    if (!m) {
        if (grow((void **)&v->mroutes, &v->cap_mroutes, v->n_mroutes, sizeof(*v->mroutes)))
            return VPN_ERR_NOMEM;
        m = &v->mroutes[v->n_mroutes++];
        memset(m, 0, sizeof(*m));
        m->group = *group;
        m->source = *source;
    }
    if (remote_pe) {
        for (i = 0; i < m->n_pes; i++)
            if (vpn_addr_eq(&m->pes[i].pe, remote_pe))
                return 0;
        if (grow((void **)&m->pes, &m->cap_pes, m->n_pes, sizeof(*m->pes)))
            return VPN_ERR_NOMEM;
        m->pes[m->n_pes].pe = *remote_pe;
        m->pes[m->n_pes++].label = vpn_label;
    } else {
        for (i = 0; i < m->n_ces; i++)
            if (m->ces[i] == ce_if)
                return 0;
        if (grow((void **)&m->ces, &m->cap_ces, m->n_ces, sizeof(*m->ces)))
            return VPN_ERR_NOMEM;
        m->ces[m->n_ces++] = ce_if;
    }
    return 0;
}

/* ---- forwarding ------------------------------------------------------------------ */

const char *vpn_mpls_drop_name(vpn_mpls_drop d)
{
    static const char *const names[VPN_MPLS_DROP_COUNT] = {
        "malformed", "no-label", "no-route", "ttl-expired", "interface", "no-space",
    };
    return (unsigned)d < VPN_MPLS_DROP_COUNT ? names[d] : "?";
}

static int drop(vpn_mpls_router *r, vpn_mpls_drop why, int err)
{
    r->stats.drops[why]++;
    return err;
}

/* Longest prefix match (routes are IPv4 only): the lengths present, longest first. */
static const mpls_route *vrf_lookup(const mpls_vrf *v, const vpn_addr *dst)
{
    if (dst->family != VPN_AF_INET)
        return NULL;
    for (int len = 32; len >= 0; len--) {
        const mpls_route *rt;
        if (!(v->lens >> len & 1))
            continue;
        rt = route_exact(v, masked4(dst, (unsigned)len), (unsigned)len);
        if (rt)
            return rt;
    }
    return NULL;
}

static const mpls_mroute *vrf_mlookup(const mpls_vrf *v, const vpn_addr *src, const vpn_addr *grp)
{
    const mpls_mroute *best = NULL;
    size_t i;
    for (i = 0; i < v->n_mroutes; i++) {
        const mpls_mroute *m = &v->mroutes[i];
        if (!vpn_prefix_contains(&m->group, grp) || !vpn_prefix_contains(&m->source, src))
            continue;
        /* (S,G) before (*,G), then the longer group */
        if (!best || m->source.len > best->source.len ||
            (m->source.len == best->source.len && m->group.len > best->group.len))
            best = m;
    }
    return best;
}

static void emit_ip(vpn_mpls_router *r, int out_if, const vpn_addr *nh, const uint8_t *p,
                    size_t len)
{
    r->stats.tx_ip++;
    r->emit(r->emit_ctx, out_if, nh, VPN_MPLS_ETHERTYPE_IPV4, p, len);
}

static void emit_mpls(vpn_mpls_router *r, int out_if, const vpn_addr *nh, const uint8_t *p,
                      size_t len)
{
    r->stats.tx_labelled++;
    r->emit(r->emit_ctx, out_if, nh, VPN_MPLS_ETHERTYPE, p, len);
}

static void put_lse(uint8_t *p, uint32_t label, uint8_t tc, bool s, uint8_t ttl)
{
    vpn_mpls_lse e = { label, tc, s, ttl };
    uint32_t v = 0;
    (void)vpn_mpls_lse_pack(&e, &v); /* label and tc come from validated tables */
    vpn_store32(p, v);
}

/* Sets the IPv4 TTL at hdr (a parsed header) and its checksum. */
static void ip_ttl_set(uint8_t *hdr, uint8_t ttl)
{
    hdr[8] = ttl;
    vpn_ip4_csum_set(hdr);
}

/*
 * Sends the IPv4 packet at ip (len bytes, TTL already the one to travel
 * with) to a remote PE under vpn_label: RFC 4364 5 two-level stack, the
 * transport label on top from the FTN. Returns 1 or a negative error.
 */
static int send_to_pe(vpn_mpls_router *r, uint8_t *ip, size_t len, const vpn_addr *pe,
                      uint32_t vpn_label)
{
    const mpls_ftn *t = ftn_get(r, pe);
    uint8_t tc, ttl;
    size_t n;
    if (!t)
        return drop(r, VPN_MPLS_DROP_NO_ROUTE, VPN_ERR_NOTFOUND);
    /* RFC 3270 / RFC 5462: EXP from the precedence bits of the DSCP. */
    tc = (uint8_t)(ip[1] >> 5);
    /* RFC 3443 3.1 uniform: the label TTL is the IP TTL (already
     * decremented by this PE); 3.3 short pipe: 255. */
    ttl = r->ttl_mode == VPN_MPLS_TTL_UNIFORM ? ip[8] : 255;
    n = t->label == VPN_MPLS_LABEL_IMPLICIT_NULL ? 1 : 2;
    /* The work buffer always has VPN_MPLS_HEADROOM in front of ip. */
    put_lse(ip - 4, vpn_label, tc, true, ttl);
    if (n == 2)
        put_lse(ip - 8, t->label, tc, false, ttl);
    emit_mpls(r, t->out_if, &t->next_hop, ip - 4 * n, len + 4 * n);
    return 1;
}

static int is_multicast(const vpn_addr *a) { return (a->b[0] & 0xf0) == 0xe0; }

/* Local CE copies of a multicast packet, all but skip_if. */
static int mcast_local(vpn_mpls_router *r, const mpls_mroute *m, int skip_if, const vpn_addr *grp,
                       const uint8_t *ip, size_t len)
{
    int sent = 0;
    size_t i;
    for (i = 0; i < m->n_ces; i++) {
        if (m->ces[i] == skip_if)
            continue;
        emit_ip(r, m->ces[i], grp, ip, len);
        sent++;
    }
    return sent;
}

static int parse_ip4(uint8_t *ip, size_t len, vpn_ip_info *info)
{
    int rc = vpn_ip_parse(ip, len, info);
    if (rc)
        return rc;
    return info->version == 4 ? 0 : VPN_ERR_UNSUPPORTED;
}

/* An IPv4 packet from a CE in vrf (RFC 4364 5: ingress PE). */
static int from_ce(vpn_mpls_router *r, const mpls_if *in, uint8_t *ip, size_t len)
{
    const mpls_vrf *v = &r->vrfs[in->vrf];
    vpn_ip_info info;
    int rc = parse_ip4(ip, len, &info);
    if (rc)
        return drop(r, VPN_MPLS_DROP_MALFORMED, rc);
    len = info.total_len;
    /* The PE is an IP hop for the customer. */
    if (info.ttl <= 1)
        return drop(r, VPN_MPLS_DROP_TTL, VPN_ERR_EXPIRED);
    ip_ttl_set(ip, (uint8_t)(info.ttl - 1));
    if (is_multicast(&info.dst)) {
        const mpls_mroute *m = vrf_mlookup(v, &info.src, &info.dst);
        int sent, one;
        size_t i;
        if (!m)
            return drop(r, VPN_MPLS_DROP_NO_ROUTE, VPN_ERR_NOTFOUND);
        /* Ingress replication: one labelled copy per egress PE. */
        sent = mcast_local(r, m, in->ifindex, &info.dst, ip, len);
        for (i = 0; i < m->n_pes; i++) {
            one = send_to_pe(r, ip, len, &m->pes[i].pe, m->pes[i].label);
            if (one > 0)
                sent += one;
        }
        return sent;
    }
    {
        const mpls_route *rt = vrf_lookup(v, &info.dst);
        if (!rt)
            return drop(r, VPN_MPLS_DROP_NO_ROUTE, VPN_ERR_NOTFOUND);
        if (!rt->remote) {
            /* CE links are point-to-point: what would go back out where it
             * came from (the PE's own link address, say) would only bounce
             * between PE and CE until its TTL ran out. */
            if (rt->out_if == in->ifindex)
                return drop(r, VPN_MPLS_DROP_NO_ROUTE, VPN_ERR_NOTFOUND);
            emit_ip(r, rt->out_if, &rt->next_hop, ip, len);
            return 1;
        }
        return send_to_pe(r, ip, len, &rt->pe, rt->label);
    }
}

/*
 * Egress: the IPv4 packet under the last label popped. lse_ttl is the
 * popped label's TTL after this hop's decrement.
 */
static int egress_ip(vpn_mpls_router *r, const vpn_mpls_lfib_entry *e, uint8_t lse_ttl, uint8_t *ip,
                     size_t len)
{
    vpn_ip_info info;
    uint8_t ttl;
    int rc = parse_ip4(ip, len, &info);
    if (rc)
        return drop(r, VPN_MPLS_DROP_MALFORMED, rc);
    len = info.total_len;
    if (r->ttl_mode == VPN_MPLS_TTL_UNIFORM) {
        /* RFC 3443 3.1: the label TTL goes back into the IP header. */
        ttl = lse_ttl < info.ttl ? lse_ttl : info.ttl;
    } else {
        /* RFC 3443 3.3 short pipe: the egress is an IP hop. */
        if (info.ttl <= 1)
            return drop(r, VPN_MPLS_DROP_TTL, VPN_ERR_EXPIRED);
        ttl = (uint8_t)(info.ttl - 1);
    }
    if (ttl == 0)
        return drop(r, VPN_MPLS_DROP_TTL, VPN_ERR_EXPIRED);
    ip_ttl_set(ip, ttl);
    if (e->op == VPN_MPLS_OP_POP_VRF) {
        emit_ip(r, e->out_if, &e->next_hop, ip, len);
        return 1;
    }
    /* Aggregate label: look up in the VRF, CE side only (no hairpin into
     * the core, and multicast copies are not replicated again). */
    {
        const mpls_vrf *v = &r->vrfs[e->vrf];
        if (is_multicast(&info.dst)) {
            const mpls_mroute *m = vrf_mlookup(v, &info.src, &info.dst);
            if (!m)
                return drop(r, VPN_MPLS_DROP_NO_ROUTE, VPN_ERR_NOTFOUND);
            return mcast_local(r, m, -1, &info.dst, ip, len);
        } else {
            const mpls_route *rt = vrf_lookup(v, &info.dst);
            if (!rt || rt->remote)
                return drop(r, VPN_MPLS_DROP_NO_ROUTE, VPN_ERR_NOTFOUND);
            emit_ip(r, rt->out_if, &rt->next_hop, ip, len);
            return 1;
        }
    }
}

static int lfib_apply(vpn_mpls_router *r, const vpn_mpls_lfib_entry *e, const vpn_mpls_stack *stp,
                      size_t k, uint8_t ttl, uint8_t *p, size_t len, size_t hlen);

/* A labelled packet from the core (RFC 3031 3.10, RFC 3032 2.4). */
static int from_core(vpn_mpls_router *r, uint8_t *p, size_t len)
{
    vpn_mpls_stack st;
    size_t hlen, k = 0;
    vpn_mpls_lfib_entry *e;
    uint8_t ttl;
    int rc = vpn_mpls_stack_parse(p, len, &st, &hlen);
    if (rc)
        return drop(r, VPN_MPLS_DROP_MALFORMED, rc);
    /* RFC 4182: explicit-null on top is popped and the next entry looked
     * at; its TTL/TC stay as they are (decremented with the next label). */
    while (k < st.depth && st.e[k].label == VPN_MPLS_LABEL_IPV4_EXPLICIT_NULL) {
        if (st.e[k].s) /* plain IPv4 below: this model has no global IP table */
            return drop(r, VPN_MPLS_DROP_NO_ROUTE, VPN_ERR_NOTFOUND);
        if (r->ttl_mode == VPN_MPLS_TTL_UNIFORM && st.e[k + 1].ttl > st.e[k].ttl)
            st.e[k + 1].ttl = st.e[k].ttl;
        k++;
    }
    /* Router alert and IPv6 explicit-null would go to the control plane
     * or an IPv6 table; neither exists here. */
    e = lfib_get(r, st.e[k].label);
    if (!e)
        return drop(r, VPN_MPLS_DROP_NO_LABEL, VPN_ERR_NOTFOUND);
    /* RFC 3032 2.4.1: a TTL that reaches zero is not forwarded. */
    if (st.e[k].ttl <= 1)
        return drop(r, VPN_MPLS_DROP_TTL, VPN_ERR_EXPIRED);
    ttl = (uint8_t)(st.e[k].ttl - 1);
    rc = lfib_apply(r, e, &st, k, ttl, p, len, hlen);
    /* Bytes Label Switched: packets that went out, as they came in. */
    if (rc > 0) {
        e->packets++;
        e->bytes += len;
    }
    return rc;
}

static int lfib_apply(vpn_mpls_router *r, const vpn_mpls_lfib_entry *e, const vpn_mpls_stack *stp,
                      size_t k, uint8_t ttl, uint8_t *p, size_t len, size_t hlen)
{
    const vpn_mpls_stack *sp = stp; /* the parsed stack of p */
    int rc;
    switch (e->op) {
    case VPN_MPLS_OP_SWAP: {
        /* The swapped entry replaces everything popped so far. */
        uint8_t *top = p + 4 * k;
        put_lse(top, e->out_label, sp->e[k].tc, sp->e[k].s, ttl);
        emit_mpls(r, e->out_if, &e->next_hop, top, len - 4 * k);
        return 1;
    }
    case VPN_MPLS_OP_POP: {
        /* Penultimate hop (RFC 3031 3.16): what is below goes on unlabelled
         * by this LSP; RFC 3443 uniform: the TTL moves down. */
        uint8_t *below = p + 4 * (k + 1);
        if (sp->e[k].s) {
            /* Bare IPv4 on a core link (an LSP to a P's loopback). */
            vpn_ip_info info;
            size_t iplen = len - 4 * (k + 1);
            rc = parse_ip4(below, iplen, &info);
            if (rc)
                return drop(r, VPN_MPLS_DROP_MALFORMED, rc);
            if (r->ttl_mode == VPN_MPLS_TTL_UNIFORM && ttl < info.ttl)
                ip_ttl_set(below, ttl);
            emit_ip(r, e->out_if, &e->next_hop, below, info.total_len);
            return 1;
        }
        if (r->ttl_mode == VPN_MPLS_TTL_UNIFORM && sp->e[k + 1].ttl > ttl)
            put_lse(below, sp->e[k + 1].label, sp->e[k + 1].tc, sp->e[k + 1].s, ttl);
        emit_mpls(r, e->out_if, &e->next_hop, below, len - 4 * (k + 1));
        return 1;
    }
    case VPN_MPLS_OP_POP_VRF:
    case VPN_MPLS_OP_POP_LOOKUP:
        /* The VPN label is at the bottom (RFC 4364 5): IPv4 follows. */
        if (!sp->e[k].s)
            return drop(r, VPN_MPLS_DROP_MALFORMED, VPN_ERR_MALFORMED);
        return egress_ip(r, e, ttl, p + hlen, len - hlen);
    }
    return drop(r, VPN_MPLS_DROP_MALFORMED, VPN_ERR_INVAL);
}

int vpn_mpls_router_input(vpn_mpls_router *r, int in_if, uint16_t ethertype, const uint8_t *data,
                          size_t len)
{
    const mpls_if *in;
    uint8_t *p;
    if (!r || (!data && len))
        return VPN_ERR_INVAL;
    in = find_if(r, in_if);
    if (ethertype == VPN_MPLS_ETHERTYPE)
        r->stats.rx_labelled++;
    else
        r->stats.rx_ip++;
    /* Labelled packets only on core links, plain IPv4 only from CEs
     * (RFC 4364 10: a CE does not get to send labelled packets in). */
    if (!in || (ethertype == VPN_MPLS_ETHERTYPE && in->kind != VPN_MPLS_IF_CORE) ||
        (ethertype == VPN_MPLS_ETHERTYPE_IPV4 && in->kind != VPN_MPLS_IF_CE) ||
        (ethertype != VPN_MPLS_ETHERTYPE && ethertype != VPN_MPLS_ETHERTYPE_IPV4))
        return drop(r, VPN_MPLS_DROP_IFACE, VPN_ERR_NOTFOUND);
    if (len > r->mtu)
        return drop(r, VPN_MPLS_DROP_NOSPACE, VPN_ERR_NOSPACE);
    p = r->work + VPN_MPLS_HEADROOM;
    if (len)
        memcpy(p, data, len);
    if (in->kind == VPN_MPLS_IF_CE)
        return from_ce(r, in, p, len);
    return from_core(r, p, len);
}
