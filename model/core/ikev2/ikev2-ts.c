/* Traffic-selector narrowing and checks (RFC 7296 2.9, 3.13.1). */
#include "ikev2/ikev2-ts.h"

#include <stdio.h>
#include <string.h>

static int addr_cmp(const vpn_addr *a, const vpn_addr *b)
{
    return memcmp(a->b, b->b, vpn_addr_len(a));
}

static bool ports_opaque(const vpn_ikev2_selector *s)
{
    return s->port_lo > s->port_hi;
}

static bool ports_any(const vpn_ikev2_selector *s)
{
    return s->port_lo == 0 && s->port_hi == 0xffff;
}

void vpn_ikev2_selector_any(vpn_ikev2_selector *s, uint8_t family)
{
    memset(s, 0, sizeof *s);
    s->family = family;
    s->port_hi = 0xffff;
    s->addr_lo.family = s->addr_hi.family = family;
    memset(s->addr_hi.b, 0xff, family == VPN_AF_INET6 ? 16 : 4);
}

void vpn_ikev2_selector_from_prefix(vpn_ikev2_selector *s, const vpn_prefix *p, uint8_t proto)
{
    size_t alen = vpn_addr_len(&p->addr), bits = p->len;

    vpn_ikev2_selector_any(s, p->addr.family);
    s->proto = proto;
    if (bits > alen * 8)
        bits = alen * 8;
    for (size_t i = 0; i < alen; i++) {
        uint8_t mask = bits >= 8 * (i + 1) ? 0xff : bits > 8 * i ? (uint8_t)(0xff << (8 - (bits - 8 * i))) : 0;
        s->addr_lo.b[i] = p->addr.b[i] & mask;
        s->addr_hi.b[i] = (uint8_t)(p->addr.b[i] | (uint8_t)~mask);
    }
}

bool vpn_ikev2_selector_valid(const vpn_ikev2_selector *s)
{
    if (s->family != VPN_AF_INET && s->family != VPN_AF_INET6)
        return false;
    if (s->addr_lo.family != s->family || s->addr_hi.family != s->family)
        return false;
    return addr_cmp(&s->addr_lo, &s->addr_hi) <= 0;
}

bool vpn_ikev2_selector_intersect(const vpn_ikev2_selector *a, const vpn_ikev2_selector *b,
                                  vpn_ikev2_selector *out)
{
    vpn_ikev2_selector r;

    if (!vpn_ikev2_selector_valid(a) || !vpn_ikev2_selector_valid(b) || a->family != b->family)
        return false;
    r = *a;
    /* Protocol 0 is "any" (3.13.1). */
    if (a->proto == 0)
        r.proto = b->proto;
    else if (b->proto != 0 && b->proto != a->proto)
        return false;
    /* Ports: OPAQUE only meets OPAQUE or "any". */
    if (ports_opaque(a) || ports_opaque(b)) {
        if (ports_opaque(a) && ports_opaque(b))
            r.port_lo = a->port_lo, r.port_hi = a->port_hi;
        else if (ports_opaque(a) && ports_any(b))
            r.port_lo = a->port_lo, r.port_hi = a->port_hi;
        else if (ports_opaque(b) && ports_any(a))
            r.port_lo = b->port_lo, r.port_hi = b->port_hi;
        else
            return false;
    } else {
        r.port_lo = a->port_lo > b->port_lo ? a->port_lo : b->port_lo;
        r.port_hi = a->port_hi < b->port_hi ? a->port_hi : b->port_hi;
        if (r.port_lo > r.port_hi)
            return false;
    }
    r.addr_lo = addr_cmp(&a->addr_lo, &b->addr_lo) >= 0 ? a->addr_lo : b->addr_lo;
    r.addr_hi = addr_cmp(&a->addr_hi, &b->addr_hi) <= 0 ? a->addr_hi : b->addr_hi;
    if (addr_cmp(&r.addr_lo, &r.addr_hi) > 0)
        return false;
    if (out)
        *out = r;
    return true;
}

bool vpn_ikev2_selector_within(const vpn_ikev2_selector *in, const vpn_ikev2_selector *out)
{
    if (!vpn_ikev2_selector_valid(in) || !vpn_ikev2_selector_valid(out) || in->family != out->family)
        return false;
    if (out->proto != 0 && in->proto != out->proto)
        return false;
    if (ports_opaque(in) || ports_opaque(out)) {
        if (!(ports_any(out) || (ports_opaque(in) && ports_opaque(out))))
            return false;
    } else if (in->port_lo < out->port_lo || in->port_hi > out->port_hi) {
        return false;
    }
    return addr_cmp(&in->addr_lo, &out->addr_lo) >= 0 && addr_cmp(&in->addr_hi, &out->addr_hi) <= 0;
}

static bool contains_same(const vpn_ikev2_selector *arr, size_t n, const vpn_ikev2_selector *s)
{
    for (size_t i = 0; i < n; i++)
        if (vpn_ikev2_selector_within(s, &arr[i]))
            return true;
    return false;
}

size_t vpn_ikev2_ts_narrow(const vpn_ikev2_selector *prop, size_t n_prop,
                           const vpn_ikev2_selector *pol, size_t n_pol,
                           vpn_ikev2_selector *out, size_t out_cap)
{
    size_t n = 0;

    for (size_t i = 0; i < n_prop; i++) {
        if (n_pol == 0) {
            /* An empty policy accepts anything of a valid family. */
            if (vpn_ikev2_selector_valid(&prop[i]) && n < out_cap && !contains_same(out, n, &prop[i]))
                out[n++] = prop[i];
            continue;
        }
        for (size_t j = 0; j < n_pol; j++) {
            vpn_ikev2_selector r;
            if (!vpn_ikev2_selector_intersect(&prop[i], &pol[j], &r))
                continue;
            if (n < out_cap && !contains_same(out, n, &r))
                out[n++] = r;
        }
    }
    return n;
}

bool vpn_ikev2_ts_subset(const vpn_ikev2_selector *sub, size_t n_sub,
                         const vpn_ikev2_selector *set, size_t n_set)
{
    if (n_sub == 0)
        return false;
    for (size_t i = 0; i < n_sub; i++)
        if (!contains_same(set, n_set, &sub[i]))
            return false;
    return true;
}

const char *vpn_ikev2_selector_str(const vpn_ikev2_selector *s, char *buf, size_t len)
{
    char lo[VPN_ADDR_STRLEN], hi[VPN_ADDR_STRLEN];

    vpn_addr_str(&s->addr_lo, lo, sizeof lo);
    vpn_addr_str(&s->addr_hi, hi, sizeof hi);
    snprintf(buf, len, "%s-%s proto %u ports %u-%u", lo, hi, s->proto, s->port_lo, s->port_hi);
    return buf;
}
