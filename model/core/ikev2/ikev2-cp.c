/*
 * Address pools and the configuration payload: see ikev2-cp.h.
 */
#include "ikev2/ikev2-cp.h"

#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "common/wire.h"
#include "ikev2/ikev2-const.h"

/* ---- pools ------------------------------------------------------------- */

int vpn_ippool_init(vpn_ippool *p, const char *name, const vpn_addr *first, const vpn_addr *last)
{
    return vpn_ippool_init_a(NULL, p, name, first, last);
}

int vpn_ippool_init_a(const vpn_alloc *al, vpn_ippool *p, const char *name, const vpn_addr *first,
                      const vpn_addr *last)
{
    if (p == NULL || name == NULL || first == NULL || last == NULL || name[0] == '\0' ||
        strlen(name) >= VPN_IPPOOL_NAME_MAX)
        return VPN_ERR_INVAL;
    if (first->family != VPN_AF_INET || last->family != VPN_AF_INET)
        return first->family == VPN_AF_INET6 || last->family == VPN_AF_INET6 ? VPN_ERR_UNSUPPORTED
                                                                              : VPN_ERR_INVAL;
    uint32_t a = vpn_addr_v4_u32(first), b = vpn_addr_v4_u32(last);
    if (a > b)
        return VPN_ERR_INVAL;
    if ((uint64_t)b - a + 1 > VPN_IPPOOL_MAX)
        return VPN_ERR_LIMIT;
    uint32_t *own = vpn_calloc(al, (size_t)(b - a) + 1, sizeof *own);
    if (own == NULL)
        return VPN_ERR_NOMEM;
    memset(p, 0, sizeof *p);
    strcpy(p->name, name);
    p->first = a;
    p->last = b;
    p->owner = own;
    p->family = VPN_AF_INET;
    return 0;
}

/* base + (v << shift) over 128 bits, big-endian; false on overflow. */
static bool v6_add_shifted(const uint8_t *base, uint32_t v, unsigned shift, uint8_t *out)
{
    uint8_t add[16] = {0};
    unsigned carry = 0;
    for (unsigned bit = 0; bit < 32; bit++) {
        if (!(v >> bit & 1u))
            continue;
        unsigned pos = shift + bit; /* counted from the least significant bit */
        if (pos >= 128)
            return false;
        add[15 - pos / 8] |= (uint8_t)(1u << (pos % 8));
    }
    for (int i = 15; i >= 0; i--) {
        unsigned sum = (unsigned)base[i] + add[i] + carry;
        out[i] = (uint8_t)sum;
        carry = sum >> 8;
    }
    return carry == 0;
}

int vpn_ippool_init6(vpn_ippool *p, const char *name, const vpn_prefix *prefix, uint8_t assigned_len)
{
    return vpn_ippool_init6_a(NULL, p, name, prefix, assigned_len);
}

/* The slots of `ipv6 local pool` prefix/assigned_len, as numbers: slot v
 * is the prefix base + v * 2^(128 - assigned_len). The one rule for both
 * the pool itself and what `show ip local pool` reports of it. */
static int v6_slots(const vpn_prefix *prefix, uint8_t assigned_len, uint32_t *first, uint32_t *last)
{
    if (prefix == NULL || prefix->addr.family != VPN_AF_INET6 || prefix->len > assigned_len ||
        assigned_len > 128)
        return VPN_ERR_INVAL;
    for (unsigned bit = prefix->len; bit < 128; bit++)
        if (prefix->addr.b[bit / 8] & (0x80u >> (bit % 8)))
            return VPN_ERR_INVAL; /* host bits set: not a prefix */
    unsigned span = (unsigned)assigned_len - prefix->len; /* slots: 2^span */
    /* RFC 4291 2.6.1: with /128 slots the all-zeros one is the anycast address */
    uint32_t f = assigned_len == 128 ? 1u : 0u;
    uint64_t slots = span >= 32 ? (uint64_t)1 << 32 : (uint64_t)1 << span;
    if (slots <= f)
        return VPN_ERR_INVAL; /* a /128 pool of 128: only the anycast address */
    uint64_t n = slots - f;
    if (n > VPN_IPPOOL_MAX)
        n = VPN_IPPOOL_MAX;
    *first = f;
    *last = f + (uint32_t)(n - 1);
    return 0;
}

int vpn_ippool_bounds6(const vpn_prefix *prefix, uint8_t assigned_len, vpn_addr *first, vpn_addr *last,
                       uint32_t *size)
{
    uint32_t f, l;
    uint8_t b[16];
    if (first == NULL || last == NULL || size == NULL)
        return VPN_ERR_INVAL;
    int rc = v6_slots(prefix, assigned_len, &f, &l);
    if (rc != 0)
        return rc;
    /* cannot overflow: every slot lies inside the prefix */
    v6_add_shifted(prefix->addr.b, f, 128u - assigned_len, b);
    vpn_addr_from_bytes(first, b, 16);
    v6_add_shifted(prefix->addr.b, l, 128u - assigned_len, b);
    vpn_addr_from_bytes(last, b, 16);
    *size = l - f + 1;
    return 0;
}

int vpn_ippool_init6_a(const vpn_alloc *al, vpn_ippool *p, const char *name, const vpn_prefix *prefix,
                       uint8_t assigned_len)
{
    uint32_t first, last;
    if (p == NULL || name == NULL || name[0] == '\0' || strlen(name) >= VPN_IPPOOL_NAME_MAX ||
        v6_slots(prefix, assigned_len, &first, &last) != 0)
        return VPN_ERR_INVAL;
    uint32_t *own = vpn_calloc(al, (size_t)(last - first) + 1, sizeof *own);
    if (own == NULL)
        return VPN_ERR_NOMEM;
    memset(p, 0, sizeof *p);
    strcpy(p->name, name);
    p->family = VPN_AF_INET6;
    memcpy(p->base, prefix->addr.b, 16);
    p->prefix_len = prefix->len;
    p->assigned_len = assigned_len;
    p->first = first;
    p->last = last;
    p->owner = own;
    return 0;
}

void vpn_ippool_free(vpn_ippool *p)
{
    if (p == NULL)
        return;
    free(p->owner);
    memset(p, 0, sizeof *p);
}

/* The address of slot index i (0-based from first). */
static void addr_of(const vpn_ippool *p, uint32_t i, vpn_addr *out)
{
    if (p->family == VPN_AF_INET) {
        vpn_addr_v4(out, p->first + i);
        return;
    }
    uint8_t b[16];
    /* cannot overflow: init6 kept every slot inside the prefix */
    v6_add_shifted(p->base, p->first + i, 128u - p->assigned_len, b);
    vpn_addr_from_bytes(out, b, 16);
}

void vpn_ippool_bounds(const vpn_ippool *p, vpn_addr *first, vpn_addr *last)
{
    addr_of(p, 0, first);
    addr_of(p, p->last - p->first, last);
}

static bool slot_of(const vpn_ippool *p, const vpn_addr *a, uint32_t *slot)
{
    if (p == NULL || p->owner == NULL || a == NULL || a->family != p->family)
        return false;
    if (p->family == VPN_AF_INET) {
        uint32_t v = vpn_addr_v4_u32(a);
        if (v < p->first || v > p->last)
            return false;
        *slot = v - p->first;
        return true;
    }
    /* inside the prefix, on a slot boundary, and the slot number in range */
    vpn_prefix net;
    vpn_addr_from_bytes(&net.addr, p->base, 16);
    net.len = p->prefix_len;
    if (!vpn_prefix_contains(&net, a))
        return false;
    unsigned shift = 128u - p->assigned_len;
    for (unsigned bit = 0; bit < shift; bit++)
        if (a->b[15 - bit / 8] & (1u << (bit % 8)))
            return false;
    uint64_t v = 0;
    for (unsigned bit = shift; bit < 128u - p->prefix_len; bit++)
        if (a->b[15 - bit / 8] & (1u << (bit % 8))) {
            if (bit - shift >= 32)
                return false;
            v |= (uint64_t)1 << (bit - shift);
        }
    if (v < p->first || v > p->last)
        return false;
    *slot = (uint32_t)(v - p->first);
    return true;
}

int vpn_ippool_alloc(vpn_ippool *p, uint32_t owner, vpn_addr *out)
{
    if (p == NULL || p->owner == NULL || owner == 0 || out == NULL)
        return VPN_ERR_INVAL;
    uint32_t n = vpn_ippool_size(p), free_slot = UINT32_MAX;
    /* One address per owner: a repeated request (a retransmitted or
     * re-sent CFG_REQUEST) gets the same one back. */
    for (uint32_t i = 0; i < n; i++) {
        if (p->owner[i] == owner) {
            addr_of(p, i, out);
            return 0;
        }
        if (p->owner[i] == 0 && free_slot == UINT32_MAX)
            free_slot = i;
    }
    if (free_slot == UINT32_MAX)
        return VPN_ERR_LIMIT;
    p->owner[free_slot] = owner;
    p->used++;
    addr_of(p, free_slot, out);
    return 0;
}

int vpn_ippool_claim(vpn_ippool *p, uint32_t owner, const vpn_addr *a)
{
    uint32_t s;
    if (p == NULL || p->owner == NULL || owner == 0 || a == NULL)
        return VPN_ERR_INVAL;
    if (!slot_of(p, a, &s))
        return VPN_ERR_NOTFOUND;
    if (p->owner[s] == owner)
        return 0;
    if (p->owner[s] != 0)
        return VPN_ERR_EXISTS;
    /* one address per owner, as vpn_ippool_alloc keeps it */
    for (uint32_t i = 0; i < vpn_ippool_size(p); i++)
        if (p->owner[i] == owner)
            return VPN_ERR_STATE;
    p->owner[s] = owner;
    p->used++;
    return 0;
}

int vpn_ippool_release(vpn_ippool *p, const vpn_addr *a, uint32_t owner)
{
    if (p == NULL || a == NULL || owner == 0)
        return VPN_ERR_INVAL;
    uint32_t s;
    if (!slot_of(p, a, &s) || p->owner[s] != owner)
        return VPN_ERR_NOTFOUND;
    p->owner[s] = 0;
    p->used--;
    return 0;
}

int vpn_ippool_transfer(vpn_ippool *p, const vpn_addr *a, uint32_t from, uint32_t to)
{
    uint32_t s;
    if (p == NULL || a == NULL || from == 0 || to == 0)
        return VPN_ERR_INVAL;
    if (!slot_of(p, a, &s) || p->owner[s] != from)
        return VPN_ERR_NOTFOUND;
    p->owner[s] = to;
    return 0;
}

size_t vpn_ippool_release_owner(vpn_ippool *p, uint32_t owner)
{
    if (p == NULL || p->owner == NULL || owner == 0)
        return 0;
    size_t k = 0;
    for (uint32_t i = 0; i < vpn_ippool_size(p); i++)
        if (p->owner[i] == owner) {
            p->owner[i] = 0;
            p->used--;
            k++;
        }
    return k;
}

uint32_t vpn_ippool_owner(const vpn_ippool *p, const vpn_addr *a)
{
    uint32_t s;
    return slot_of(p, a, &s) ? p->owner[s] : 0;
}

/* ---- CP (RFC 7296 3.15) ------------------------------------------------------ */

/* Walks the attributes itself (not through the codec's iterator) so that a
 * payload whose list does not parse is refused rather than cut short. */
typedef int (*attr_fn)(void *ctx, uint16_t type, const uint8_t *v, size_t len);

static int walk(const vpn_ikev2_payload *cp, uint8_t want_type, attr_fn fn, void *ctx)
{
    if (cp == NULL || cp->type != VPN_IKEV2_PL_CP)
        return VPN_ERR_INVAL;
    if (cp->u.cp.type != want_type)
        return VPN_ERR_STATE;
    vpn_rd r;
    vpn_rd_init(&r, cp->u.cp.attrs.ptr, cp->u.cp.attrs.len);
    while (vpn_rd_left(&r) > 0) {
        uint16_t t, len;
        const uint8_t *v;
        vpn_rd_u16(&r, &t);
        vpn_rd_u16(&r, &len);
        if (vpn_rd_view(&r, &v, len))
            return VPN_ERR_MALFORMED;
        int rc = fn(ctx, t & 0x7fffu, v, len);
        if (rc)
            return rc;
    }
    return 0;
}

static int req_attr(void *ctx, uint16_t t, const uint8_t *v, size_t len)
{
    vpn_cp_request *q = ctx;
    switch (t) {
    case VPN_IKEV2_CFG_INTERNAL_IP4_ADDRESS:
        /* 3.15.1: empty, or the address the peer would like. */
        if (len != 0 && len != 4)
            return VPN_ERR_MALFORMED;
        q->ip4_address = true;
        if (len == 4 && vpn_load32(v) != 0) {
            q->has_hint = true;
            vpn_addr_from_bytes(&q->hint, v, 4);
        }
        return 0;
    case VPN_IKEV2_CFG_INTERNAL_IP4_NETMASK:
    case VPN_IKEV2_CFG_INTERNAL_IP4_DNS:
        if (len != 0 && len != 4)
            return VPN_ERR_MALFORMED;
        if (t == VPN_IKEV2_CFG_INTERNAL_IP4_DNS)
            q->ip4_dns = true;
        else
            q->ip4_netmask = true;
        return 0;
    case VPN_IKEV2_CFG_INTERNAL_IP4_SUBNET:
        if (len != 0 && len != 8)
            return VPN_ERR_MALFORMED;
        q->ip4_subnet = true;
        if (len == 8) {
            /* a value: a subnet the peer protects (IOS spokes announce
             * their `route set` networks this way) */
            vpn_addr m;
            vpn_prefix pf;
            vpn_addr_from_bytes(&m, v + 4, 4);
            if (vpn_mask_to_len(&m, false, &pf.len))
                return VPN_ERR_MALFORMED;
            vpn_addr_from_bytes(&pf.addr, v, 4);
            if (q->n_subnets == VPN_CP_MAX_SUBNETS)
                return VPN_ERR_LIMIT;
            q->subnets[q->n_subnets++] = pf;
        }
        return 0;
    case VPN_IKEV2_CFG_INTERNAL_IP6_ADDRESS:
        /* 3.15.1: empty, or sixteen octets of address and one of prefix
         * length (a wish this side does not honour: the pool decides) */
        if ((len != 0 && len != 17) || (len == 17 && v[16] > 128))
            return VPN_ERR_MALFORMED;
        q->ip6_address = true;
        return 0;
    case VPN_IKEV2_CFG_INTERNAL_IP6_DNS:
        if (len != 0 && len != 16)
            return VPN_ERR_MALFORMED;
        q->ip6_dns = true;
        return 0;
    case VPN_IKEV2_CFG_INTERNAL_IP6_SUBNET:
        /* 3.15.1: empty, or address and prefix length, seventeen octets */
        if (len != 0 && len != 17)
            return VPN_ERR_MALFORMED;
        q->ip6_subnet = true;
        if (len == 17) {
            vpn_prefix pf;
            if (v[16] > 128)
                return VPN_ERR_MALFORMED;
            vpn_addr_from_bytes(&pf.addr, v, 16);
            pf.len = v[16];
            if (q->n_subnets == VPN_CP_MAX_SUBNETS)
                return VPN_ERR_LIMIT;
            q->subnets[q->n_subnets++] = pf;
        }
        return 0;
    default:
        return 0; /* unknown or not served: skipped, 3.15.1 */
    }
}

int vpn_cp_parse_request(const vpn_ikev2_payload *cp, vpn_cp_request *out)
{
    if (out == NULL)
        return VPN_ERR_INVAL;
    vpn_cp_request q;
    memset(&q, 0, sizeof q);
    int rc = walk(cp, VPN_IKEV2_CFG_REQUEST, req_attr, &q);
    if (rc)
        return rc;
    *out = q;
    return 0;
}

static void put_attr(vpn_ikev2_cp_attr *a, size_t *n, uint16_t type, const uint8_t *v, size_t len)
{
    a[*n].type = type;
    a[*n].value.ptr = v;
    a[*n].value.len = len;
    (*n)++;
}

/* One subnet value (RFC 7296 3.15.1): IPv4 address and netmask, eight
 * octets; IPv6 address and prefix length, seventeen. Returns the length
 * written to out (17 octets room), 0 for a prefix of neither family or too
 * long. */
static size_t subnet_value(const vpn_prefix *p, uint8_t *out, uint16_t *type)
{
    if (p->addr.family == VPN_AF_INET && p->len <= 32) {
        vpn_addr m;
        vpn_len_to_mask(p->len, &m);
        memcpy(out, p->addr.b, 4);
        memcpy(out + 4, m.b, 4);
        *type = VPN_IKEV2_CFG_INTERNAL_IP4_SUBNET;
        return 8;
    }
    if (p->addr.family == VPN_AF_INET6 && p->len <= 128) {
        memcpy(out, p->addr.b, 16);
        out[16] = p->len;
        *type = VPN_IKEV2_CFG_INTERNAL_IP6_SUBNET;
        return 17;
    }
    return 0;
}

int vpn_cp_build_reply(vpn_ikev2_bld *b, const vpn_cp_request *req, const vpn_cp_grant *g)
{
    if (b == NULL || req == NULL || g == NULL || g->n_dns > VPN_CP_MAX_DNS ||
        g->n_subnets > VPN_CP_MAX_SUBNETS || g->prefix6 > 128)
        return VPN_ERR_INVAL;
    vpn_ikev2_cp_attr at[3 + VPN_CP_MAX_DNS + VPN_CP_MAX_SUBNETS];
    uint8_t mask[4], a6[17], sub[VPN_CP_MAX_SUBNETS][17];
    size_t n = 0;
    if (req->ip4_address && g->address.family == VPN_AF_INET) {
        put_attr(at, &n, VPN_IKEV2_CFG_INTERNAL_IP4_ADDRESS, g->address.b, 4);
        if (g->netmask != 0) {
            vpn_store32(mask, g->netmask);
            put_attr(at, &n, VPN_IKEV2_CFG_INTERNAL_IP4_NETMASK, mask, 4);
        }
    }
    if (req->ip6_address && g->address6.family == VPN_AF_INET6) {
        /* 3.15.1: the address, then its prefix length */
        memcpy(a6, g->address6.b, 16);
        a6[16] = g->prefix6;
        put_attr(at, &n, VPN_IKEV2_CFG_INTERNAL_IP6_ADDRESS, a6, 17);
    }
    for (size_t i = 0; i < g->n_dns; i++) {
        if (req->ip4_dns && g->dns[i].family == VPN_AF_INET)
            put_attr(at, &n, VPN_IKEV2_CFG_INTERNAL_IP4_DNS, g->dns[i].b, 4);
        if (req->ip6_dns && g->dns[i].family == VPN_AF_INET6)
            put_attr(at, &n, VPN_IKEV2_CFG_INTERNAL_IP6_DNS, g->dns[i].b, 16);
    }
    for (size_t i = 0; i < g->n_subnets; i++) {
        uint16_t t;
        size_t len = subnet_value(&g->subnets[i], sub[i], &t);
        if (len != 0)
            put_attr(at, &n, t, sub[i], len);
    }
    return vpn_ikev2_bld_cp(b, VPN_IKEV2_CFG_REPLY, at, n);
}

int vpn_cp_build_request(vpn_ikev2_bld *b)
{
    if (b == NULL)
        return VPN_ERR_INVAL;
    vpn_ikev2_cp_attr at[2];
    size_t n = 0;
    put_attr(at, &n, VPN_IKEV2_CFG_INTERNAL_IP4_ADDRESS, NULL, 0);
    put_attr(at, &n, VPN_IKEV2_CFG_INTERNAL_IP4_DNS, NULL, 0);
    return vpn_ikev2_bld_cp(b, VPN_IKEV2_CFG_REQUEST, at, n);
}

int vpn_cp_build_request_af(vpn_ikev2_bld *b, bool ip4, bool ip6)
{
    if (b == NULL || (!ip4 && !ip6))
        return VPN_ERR_INVAL;
    vpn_ikev2_cp_attr at[4];
    size_t n = 0;
    if (ip4) {
        put_attr(at, &n, VPN_IKEV2_CFG_INTERNAL_IP4_ADDRESS, NULL, 0);
        put_attr(at, &n, VPN_IKEV2_CFG_INTERNAL_IP4_DNS, NULL, 0);
    }
    if (ip6) {
        put_attr(at, &n, VPN_IKEV2_CFG_INTERNAL_IP6_ADDRESS, NULL, 0);
        put_attr(at, &n, VPN_IKEV2_CFG_INTERNAL_IP6_DNS, NULL, 0);
    }
    return vpn_ikev2_bld_cp(b, VPN_IKEV2_CFG_REQUEST, at, n);
}

int vpn_cp_build_request_subnets(vpn_ikev2_bld *b, const vpn_prefix *subnets, size_t n_subnets)
{
    if (b == NULL || (subnets == NULL && n_subnets) || n_subnets > VPN_CP_MAX_SUBNETS)
        return VPN_ERR_INVAL;
    vpn_ikev2_cp_attr at[VPN_CP_MAX_SUBNETS];
    uint8_t sub[VPN_CP_MAX_SUBNETS][17];
    size_t n = 0;
    for (size_t i = 0; i < n_subnets; i++) {
        uint16_t t;
        size_t len = subnet_value(&subnets[i], sub[n], &t);
        if (len == 0)
            return VPN_ERR_INVAL;
        put_attr(at, &n, t, sub[n], len);
    }
    return vpn_ikev2_bld_cp(b, VPN_IKEV2_CFG_REQUEST, at, n);
}

static int reply_attr(void *ctx, uint16_t t, const uint8_t *v, size_t len)
{
    vpn_cp_grant *g = ctx;
    switch (t) {
    case VPN_IKEV2_CFG_INTERNAL_IP4_ADDRESS:
        if (len != 4 || g->address.family != VPN_AF_NONE)
            return VPN_ERR_MALFORMED;
        vpn_addr_from_bytes(&g->address, v, 4);
        return 0;
    case VPN_IKEV2_CFG_INTERNAL_IP4_NETMASK:
        if (len != 4)
            return VPN_ERR_MALFORMED;
        g->netmask = vpn_load32(v);
        return 0;
    case VPN_IKEV2_CFG_INTERNAL_IP4_DNS:
        if (len != 4)
            return VPN_ERR_MALFORMED;
        if (g->n_dns == VPN_CP_MAX_DNS)
            return VPN_ERR_LIMIT;
        vpn_addr_from_bytes(&g->dns[g->n_dns++], v, 4);
        return 0;
    case VPN_IKEV2_CFG_INTERNAL_IP4_SUBNET: {
        if (len != 8)
            return VPN_ERR_MALFORMED;
        if (g->n_subnets == VPN_CP_MAX_SUBNETS)
            return VPN_ERR_LIMIT;
        vpn_addr m;
        vpn_prefix *p = &g->subnets[g->n_subnets];
        vpn_addr_from_bytes(&m, v + 4, 4);
        if (vpn_mask_to_len(&m, false, &p->len))
            return VPN_ERR_MALFORMED;
        vpn_addr_from_bytes(&p->addr, v, 4);
        g->n_subnets++;
        return 0;
    }
    case VPN_IKEV2_CFG_INTERNAL_IP6_ADDRESS:
        /* 3.15.1: sixteen octets of address, one of prefix length */
        if (len != 17 || v[16] > 128 || g->address6.family != VPN_AF_NONE)
            return VPN_ERR_MALFORMED;
        vpn_addr_from_bytes(&g->address6, v, 16);
        g->prefix6 = v[16];
        return 0;
    case VPN_IKEV2_CFG_INTERNAL_IP6_DNS:
        if (len != 16)
            return VPN_ERR_MALFORMED;
        if (g->n_dns == VPN_CP_MAX_DNS)
            return VPN_ERR_LIMIT;
        vpn_addr_from_bytes(&g->dns[g->n_dns++], v, 16);
        return 0;
    case VPN_IKEV2_CFG_INTERNAL_IP6_SUBNET: {
        if (len != 17 || v[16] > 128)
            return VPN_ERR_MALFORMED;
        if (g->n_subnets == VPN_CP_MAX_SUBNETS)
            return VPN_ERR_LIMIT;
        vpn_prefix *p = &g->subnets[g->n_subnets++];
        vpn_addr_from_bytes(&p->addr, v, 16);
        p->len = v[16];
        return 0;
    }
    default:
        return 0;
    }
}

int vpn_cp_parse_reply(const vpn_ikev2_payload *cp, vpn_cp_grant *g)
{
    if (g == NULL)
        return VPN_ERR_INVAL;
    vpn_cp_grant t;
    memset(&t, 0, sizeof t);
    int rc = walk(cp, VPN_IKEV2_CFG_REPLY, reply_attr, &t);
    if (rc)
        return rc;
    *g = t;
    return 0;
}
