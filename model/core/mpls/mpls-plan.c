/*
 * The converged state of LDP (RFC 5036) and MP-BGP VPNv4 (RFC 4364 4.3)
 * over a known topology, installed directly into the routers' tables: a
 * stand-in for running those protocols, not an implementation of them.
 */
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "mpls/mpls.h"

#define UNREACHED ((size_t)-1)

typedef struct plan_state {
    const vpn_mpls_plan *p;
    size_t n;
    size_t *dist;       /* dist[d * n + x]: hops from x to d */
    uint32_t *next;     /* next free label per router */
    uint32_t *local;    /* local[x * n + d]: x's label for d's loopback */
    uint32_t **agg;     /* agg[x][vrf]: x's aggregate label for a VRF */
} plan_state;

static int alloc_label(plan_state *s, size_t x, uint32_t *out)
{
    if (s->next[x] > VPN_MPLS_LABEL_MAX)
        return VPN_ERR_LIMIT;
    *out = s->next[x]++;
    return 0;
}

/* Breadth-first search from every router: hop counts over the links. */
static int bfs_all(plan_state *s)
{
    size_t n = s->n, d, i, head, tail;
    size_t *queue = malloc(n * sizeof(*queue));
    if (!queue)
        return VPN_ERR_NOMEM;
    for (d = 0; d < n; d++) {
        size_t *dist = &s->dist[d * n];
        for (i = 0; i < n; i++)
            dist[i] = UNREACHED;
        dist[d] = 0;
        head = tail = 0;
        queue[tail++] = d;
        while (head < tail) {
            size_t x = queue[head++];
            for (i = 0; i < s->p->n_links; i++) {
                const vpn_mpls_plan_link *l = &s->p->links[i];
                size_t y = l->a == x ? l->b : l->b == x ? l->a : UNREACHED;
                if (y != UNREACHED && dist[y] == UNREACHED) {
                    dist[y] = dist[x] + 1;
                    queue[tail++] = y;
                }
            }
        }
    }
    free(queue);
    return 0;
}

/*
 * x's next hop towards d: the neighbour one hop closer, lowest router index
 * first, then lowest link index. Fills the interface and neighbour address.
 */
static size_t next_hop(const plan_state *s, size_t x, size_t d, int *out_if, vpn_addr *nh)
{
    const size_t *dist = &s->dist[d * s->n];
    size_t best = UNREACHED, i;
    if (dist[x] == UNREACHED || x == d)
        return UNREACHED;
    for (i = 0; i < s->p->n_links; i++) {
        const vpn_mpls_plan_link *l = &s->p->links[i];
        size_t y;
        int oif;
        vpn_addr addr;
        if (l->a == x) {
            y = l->b;
            oif = l->a_if;
            addr = l->b_addr;
        } else if (l->b == x) {
            y = l->a;
            oif = l->b_if;
            addr = l->a_addr;
        } else {
            continue;
        }
        if (dist[y] + 1 != dist[x] || (best != UNREACHED && y >= best))
            continue;
        best = y;
        *out_if = oif;
        *nh = addr;
    }
    return best;
}

static int install_lsps(plan_state *s)
{
    size_t n = s->n, x, d;
    int rc;
    /* Labels: each router, one per other router's loopback (LDP's
     * downstream-unsolicited, liberal retention converged). */
    for (x = 0; x < n; x++)
        for (d = 0; d < n; d++)
            if (x != d && s->dist[d * n + x] != UNREACHED) {
                rc = alloc_label(s, x, &s->local[x * n + d]);
                if (rc)
                    return rc;
            }
    for (x = 0; x < n; x++) {
        for (d = 0; d < n; d++) {
            vpn_mpls_lfib_entry e;
            vpn_addr nh;
            int oif = -1;
            uint32_t out;
            size_t y = next_hop(s, x, d, &oif, &nh);
            if (y == UNREACHED)
                continue;
            if (y == d) /* the egress advertised implicit- or explicit-null */
                out = s->p->php ? VPN_MPLS_LABEL_IMPLICIT_NULL : VPN_MPLS_LABEL_IPV4_EXPLICIT_NULL;
            else
                out = s->local[y * n + d];
            memset(&e, 0, sizeof(e));
            e.in_label = s->local[x * n + d];
            e.op = out == VPN_MPLS_LABEL_IMPLICIT_NULL ? VPN_MPLS_OP_POP : VPN_MPLS_OP_SWAP;
            e.out_label = out;
            e.out_if = oif;
            e.next_hop = nh;
            e.vrf = -1;
            e.fec.addr = *vpn_mpls_router_loopback(s->p->routers[d]);
            e.fec.len = 32;
            rc = vpn_mpls_lfib_add(s->p->routers[x], &e);
            if (!rc)
                rc = vpn_mpls_ftn_set(s->p->routers[x], &e.fec.addr, out, oif, &nh);
            if (rc)
                return rc;
        }
    }
    return 0;
}

static int check_site(const plan_state *s, const vpn_mpls_plan_site *site, int *vrf)
{
    vpn_mpls_router *r;
    if (site->pe >= s->n || !site->vrf)
        return VPN_ERR_INVAL;
    r = s->p->routers[site->pe];
    *vrf = vpn_mpls_router_vrf_id(r, site->vrf);
    return *vrf < 0 ? VPN_ERR_INVAL : 0;
}

/* Aggregate label of x's VRF named name (allocated in x's VRF order). */
static uint32_t agg_of(const plan_state *s, size_t x, const char *name)
{
    int v = vpn_mpls_router_vrf_id(s->p->routers[x], name);
    return v < 0 ? 0 : s->agg[x][v];
}

static int install_vpn(plan_state *s)
{
    size_t i, j, x;
    int rc;
    for (i = 0; i < s->p->n_sites; i++) {
        const vpn_mpls_plan_site *site = &s->p->sites[i];
        vpn_mpls_router *pe;
        int vrf;
        rc = check_site(s, site, &vrf);
        if (rc)
            return rc;
        pe = s->p->routers[site->pe];
        for (j = 0; j < site->n_prefixes; j++) {
            vpn_mpls_lfib_entry e;
            const vpn_prefix *pfx = &site->prefixes[j];
            /* RFC 4364 4.3.2: a per-prefix label, popped straight to the CE. */
            memset(&e, 0, sizeof(e));
            rc = alloc_label(s, site->pe, &e.in_label);
            if (rc)
                return rc;
            e.op = VPN_MPLS_OP_POP_VRF;
            e.out_if = site->ce_if;
            e.next_hop = site->ce_addr;
            e.vrf = vrf;
            e.fec = *pfx;
            rc = vpn_mpls_lfib_add(pe, &e);
            if (!rc)
                rc = vpn_mpls_vrf_route_local(pe, vrf, pfx, site->ce_if, &site->ce_addr);
            if (rc)
                return rc;
            /* Import at every other PE with the VRF (route targets by name). */
            for (x = 0; x < s->n; x++) {
                int xv;
                if (x == site->pe)
                    continue;
                xv = vpn_mpls_router_vrf_id(s->p->routers[x], site->vrf);
                if (xv < 0)
                    continue;
                if (s->dist[site->pe * s->n + x] == UNREACHED)
                    return VPN_ERR_NOTFOUND;
                rc = vpn_mpls_vrf_route_remote(s->p->routers[x], xv, pfx,
                                               vpn_mpls_router_loopback(pe), e.in_label);
                if (rc)
                    return rc;
            }
        }
    }
    return 0;
}

static int install_mcast(plan_state *s)
{
    size_t i, j, x;
    int rc;
    for (i = 0; i < s->p->n_mroutes; i++) {
        const vpn_mpls_plan_mroute *m = &s->p->mroutes[i];
        if (!m->vrf || (m->n_sites && !m->sites))
            return VPN_ERR_INVAL;
        for (j = 0; j < m->n_sites; j++) {
            const vpn_mpls_plan_site *site;
            int vrf;
            if (m->sites[j] >= s->p->n_sites)
                return VPN_ERR_INVAL;
            site = &s->p->sites[m->sites[j]];
            rc = check_site(s, site, &vrf);
            if (rc)
                return rc;
            if (strcmp(site->vrf, m->vrf) != 0)
                return VPN_ERR_INVAL;
            /* Every PE with the VRF may be an ingress: each learns to reach
             * this subscriber (its own CE interface, or its PE). */
            for (x = 0; x < s->n; x++) {
                vpn_mpls_router *r = s->p->routers[x];
                int xv = vpn_mpls_router_vrf_id(r, m->vrf);
                if (xv < 0)
                    continue;
                if (x == site->pe) {
                    rc = vpn_mpls_vrf_mroute_add(r, xv, &m->group, &m->source, NULL, 0, site->ce_if);
                } else {
                    if (s->dist[site->pe * s->n + x] == UNREACHED)
                        return VPN_ERR_NOTFOUND;
                    rc = vpn_mpls_vrf_mroute_add(r, xv, &m->group, &m->source,
                                                 vpn_mpls_router_loopback(s->p->routers[site->pe]),
                                                 agg_of(s, site->pe, m->vrf), -1);
                }
                if (rc)
                    return rc;
            }
        }
    }
    return 0;
}

/* One aggregate label per VRF per PE, for copies that need a VRF lookup. */
static int install_agg(plan_state *s)
{
    size_t x;
    int v, rc;
    for (x = 0; x < s->n; x++) {
        vpn_mpls_router *r = s->p->routers[x];
        for (v = 0; vpn_mpls_router_vrf_name(r, v); v++)
            ;
        s->agg[x] = calloc((size_t)v + 1, sizeof(uint32_t));
        if (!s->agg[x])
            return VPN_ERR_NOMEM;
        for (v = 0; vpn_mpls_router_vrf_name(r, v); v++) {
            vpn_mpls_lfib_entry e;
            memset(&e, 0, sizeof(e));
            rc = alloc_label(s, x, &e.in_label);
            if (rc)
                return rc;
            e.op = VPN_MPLS_OP_POP_LOOKUP;
            e.vrf = v;
            e.fec.addr.family = VPN_AF_INET; /* 0.0.0.0/0: the whole VRF */
            rc = vpn_mpls_lfib_add(r, &e);
            if (rc)
                return rc;
            s->agg[x][v] = e.in_label;
        }
    }
    return 0;
}

int vpn_mpls_plan_install(const vpn_mpls_plan *plan)
{
    plan_state s;
    size_t i, n;
    int rc;
    if (!plan || !plan->routers || plan->n_routers == 0 || (plan->n_links && !plan->links) ||
        (plan->n_sites && !plan->sites) || (plan->n_mroutes && !plan->mroutes))
        return VPN_ERR_INVAL;
    n = plan->n_routers;
    for (i = 0; i < n; i++)
        if (!plan->routers[i] || vpn_mpls_lfib_count(plan->routers[i]) != 0)
            return VPN_ERR_INVAL;
    for (i = 0; i < plan->n_links; i++)
        if (plan->links[i].a >= n || plan->links[i].b >= n || plan->links[i].a == plan->links[i].b)
            return VPN_ERR_INVAL;
    memset(&s, 0, sizeof(s));
    s.p = plan;
    s.n = n;
    s.dist = calloc(n * n, sizeof(*s.dist));
    s.local = calloc(n * n, sizeof(*s.local));
    s.next = calloc(n, sizeof(*s.next));
    s.agg = calloc(n, sizeof(*s.agg));
    rc = VPN_ERR_NOMEM;
    if (s.dist && s.local && s.next && s.agg) {
        for (i = 0; i < n; i++)
            s.next[i] = VPN_MPLS_LABEL_FIRST;
        rc = bfs_all(&s);
        if (!rc)
            rc = install_lsps(&s);
        if (!rc)
            rc = install_vpn(&s);
        if (!rc)
            rc = install_agg(&s);
        if (!rc)
            rc = install_mcast(&s);
    }
    if (s.agg)
        for (i = 0; i < n; i++)
            free(s.agg[i]);
    free(s.agg);
    free(s.next);
    free(s.local);
    free(s.dist);
    return rc;
}
