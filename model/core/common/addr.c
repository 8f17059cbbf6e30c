#include "common/addr.h"

#include <stdio.h>
#include <string.h>

#include "common/vpn-err.h"

void vpn_addr_v4(vpn_addr *a, uint32_t v)
{
    memset(a, 0, sizeof *a);
    a->family = VPN_AF_INET;
    a->b[0] = (uint8_t)(v >> 24);
    a->b[1] = (uint8_t)(v >> 16);
    a->b[2] = (uint8_t)(v >> 8);
    a->b[3] = (uint8_t)v;
}

uint32_t vpn_addr_v4_u32(const vpn_addr *a)
{
    return (uint32_t)a->b[0] << 24 | (uint32_t)a->b[1] << 16 | (uint32_t)a->b[2] << 8 | a->b[3];
}

int vpn_addr_from_bytes(vpn_addr *a, const uint8_t *p, size_t len)
{
    if (len != 4 && len != 16)
        return VPN_ERR_INVAL;
    memset(a, 0, sizeof *a);
    a->family = len == 4 ? VPN_AF_INET : VPN_AF_INET6;
    memcpy(a->b, p, len);
    return 0;
}

static int parse_v4(const char *s, uint8_t out[4])
{
    for (int i = 0; i < 4; i++) {
        unsigned v = 0;
        int digits = 0;
        while (*s >= '0' && *s <= '9') {
            v = v * 10 + (unsigned)(*s++ - '0');
            if (++digits > 3 || v > 255)
                return VPN_ERR_MALFORMED;
        }
        if (digits == 0)
            return VPN_ERR_MALFORMED;
        out[i] = (uint8_t)v;
        if (i < 3 && *s++ != '.')
            return VPN_ERR_MALFORMED;
    }
    return *s == '\0' ? 0 : VPN_ERR_MALFORMED;
}

static int hexv(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* RFC 4291 2.2: groups of hex, one "::" for a run of zero groups, and an
 * optional dotted IPv4 tail in the last 32 bits. */
static int parse_v6(const char *s, uint8_t out[16])
{
    uint8_t head[16], tail[16];
    size_t nh = 0, nt = 0;
    bool gap = false;
    const char *p = s;

    if (p[0] == ':') {
        if (p[1] != ':')
            return VPN_ERR_MALFORMED;
        gap = true;
        p += 2;
    }
    while (*p) {
        uint8_t *dst = gap ? tail : head;
        size_t *n = gap ? &nt : &nh;
        unsigned v = 0;
        int digits = 0;

        /* IPv4 tail? */
        const char *q = p;
        while (*q && *q != ':' && *q != '.')
            q++;
        if (*q == '.') {
            if (*n + (gap ? nh : nt) + 4 > 16 || parse_v4(p, dst + *n) != 0)
                return VPN_ERR_MALFORMED;
            *n += 4;
            p += strlen(p);
            break;
        }
        while (hexv(*p) >= 0) {
            v = v << 4 | (unsigned)hexv(*p++);
            if (++digits > 4)
                return VPN_ERR_MALFORMED;
        }
        if (digits == 0 || nh + nt + 2 > 16)
            return VPN_ERR_MALFORMED;
        dst[(*n)++] = (uint8_t)(v >> 8);
        dst[(*n)++] = (uint8_t)v;
        if (*p == '\0')
            break;
        if (*p != ':')
            return VPN_ERR_MALFORMED;
        p++;
        if (*p == ':') {
            if (gap)
                return VPN_ERR_MALFORMED;
            gap = true;
            p++;
            continue;
        }
        if (*p == '\0')
            return VPN_ERR_MALFORMED; /* trailing single colon */
    }
    if (!gap && nh != 16)
        return VPN_ERR_MALFORMED;
    if (gap && nh + nt > 14)
        return VPN_ERR_MALFORMED;
    memset(out, 0, 16);
    memcpy(out, head, nh);
    memcpy(out + 16 - nt, tail, nt);
    return 0;
}

int vpn_addr_parse(vpn_addr *a, const char *s)
{
    vpn_addr t;

    if (a == NULL || s == NULL)
        return VPN_ERR_MALFORMED;
    memset(&t, 0, sizeof t);
    if (strchr(s, ':')) {
        if (strlen(s) > 45 || parse_v6(s, t.b) != 0)
            return VPN_ERR_MALFORMED;
        t.family = VPN_AF_INET6;
    } else {
        if (parse_v4(s, t.b) != 0)
            return VPN_ERR_MALFORMED;
        t.family = VPN_AF_INET;
    }
    *a = t;
    return 0;
}

const char *vpn_addr_str(const vpn_addr *a, char *buf, size_t len)
{
    if (len == 0)
        return buf;
    if (a->family == VPN_AF_INET) {
        snprintf(buf, len, "%u.%u.%u.%u", a->b[0], a->b[1], a->b[2], a->b[3]);
    } else if (a->family == VPN_AF_INET6) {
        /* RFC 5952 4.2: compress the longest run (>= 2) of zero groups,
         * the first one on a tie; lowercase, no leading zeros. */
        int best = -1, bestlen = 0;
        for (int i = 0; i < 8;) {
            int j = i;
            while (j < 8 && a->b[2 * j] == 0 && a->b[2 * j + 1] == 0)
                j++;
            if (j - i > bestlen && j - i >= 2) {
                best = i;
                bestlen = j - i;
            }
            i = j > i ? j : i + 1;
        }
        size_t o = 0;
        buf[0] = 0;
        for (int i = 0; i < 8 && o < len; i++) {
            if (i == best) {
                o += (size_t)snprintf(buf + o, len - o, "::");
                i += bestlen - 1;
                continue;
            }
            if (o > 0 && buf[o - 1] != ':')
                o += (size_t)snprintf(buf + o, len - o, ":");
            if (o < len)
                o += (size_t)snprintf(buf + o, len - o, "%x", (unsigned)a->b[2 * i] << 8 | a->b[2 * i + 1]);
        }
    } else {
        snprintf(buf, len, "-");
    }
    return buf;
}

bool vpn_addr_eq(const vpn_addr *x, const vpn_addr *y)
{
    /* constant lengths: compared inline, not by a call to memcmp (every
     * packet's lookups compare addresses; issue 14) */
    if (x->family != y->family)
        return false;
    if (x->family == VPN_AF_INET)
        return memcmp(x->b, y->b, 4) == 0;
    if (x->family == VPN_AF_INET6)
        return memcmp(x->b, y->b, 16) == 0;
    return true; /* vpn_addr_len: no octets to compare */
}

bool vpn_addr_is_any(const vpn_addr *a)
{
    static const uint8_t zero[16];
    return a->family == VPN_AF_NONE || memcmp(a->b, zero, vpn_addr_len(a)) == 0;
}

int vpn_prefix_parse(vpn_prefix *p, const char *s)
{
    char buf[64];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    vpn_prefix t;
    unsigned len = 0;

    if (n >= sizeof buf)
        return VPN_ERR_MALFORMED;
    memcpy(buf, s, n);
    buf[n] = 0;
    if (vpn_addr_parse(&t.addr, buf) != 0)
        return VPN_ERR_MALFORMED;
    if (slash) {
        const char *d = slash + 1;
        if (*d == '\0')
            return VPN_ERR_MALFORMED;
        for (; *d; d++) {
            if (*d < '0' || *d > '9' || len > 128)
                return VPN_ERR_MALFORMED;
            len = len * 10 + (unsigned)(*d - '0');
        }
        if (len > vpn_addr_len(&t.addr) * 8)
            return VPN_ERR_MALFORMED;
    } else {
        len = (unsigned)vpn_addr_len(&t.addr) * 8;
    }
    t.len = (uint8_t)len;
    *p = t;
    return 0;
}

int vpn_mask_to_len(const vpn_addr *mask, bool wildcard, uint8_t *len)
{
    size_t bytes = vpn_addr_len(mask);
    unsigned n = 0;
    bool ended = false;

    if (bytes == 0)
        return VPN_ERR_MALFORMED;
    for (size_t i = 0; i < bytes; i++) {
        uint8_t b = wildcard ? (uint8_t)~mask->b[i] : mask->b[i];
        for (int bit = 7; bit >= 0; bit--) {
            bool set = (b >> bit) & 1;
            if (set && ended)
                return VPN_ERR_MALFORMED;
            if (set)
                n++;
            else
                ended = true;
        }
    }
    *len = (uint8_t)n;
    return 0;
}

void vpn_len_to_mask(uint8_t len, vpn_addr *mask) /* IPv4 masks only */
{
    memset(mask, 0, sizeof *mask);
    mask->family = VPN_AF_INET;
    for (unsigned i = 0; i < 4; i++) {
        unsigned bits = len > 8 * i ? len - 8 * i : 0;
        mask->b[i] = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
    }
}

bool vpn_prefix_contains(const vpn_prefix *p, const vpn_addr *a)
{
    unsigned full, rest;

    if (p->addr.family != a->family)
        return false;
    full = p->len / 8u;
    rest = p->len % 8u;
    if (memcmp(p->addr.b, a->b, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t m = (uint8_t)(0xff << (8 - rest));
    return (p->addr.b[full] & m) == (a->b[full] & m);
}
