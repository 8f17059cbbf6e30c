#include "ipsec/ip.h"

#include <string.h>

#include "common/vpn-err.h"
#include "common/wire.h"

/* ---- parsing --------------------------------------------------------------- */

/* Reads the first four bytes of an upper-layer header into ports when the
 * protocol has them (RFC 4301 4.4.1.1; ICMP type and code for ICMP). Only
 * called for a first (or no) fragment. */
static void parse_ports(vpn_rd *r, vpn_ip_info *out)
{
    uint16_t a, b;
    uint8_t t, c;

    switch (out->proto) {
    case VPN_IPPROTO_TCP:
    case VPN_IPPROTO_UDP:
    case VPN_IPPROTO_SCTP:
        if (vpn_rd_u16(r, &a) == 0 && vpn_rd_u16(r, &b) == 0) {
            out->sport = a;
            out->dport = b;
            out->has_ports = true;
        }
        break;
    case VPN_IPPROTO_ICMP:
    case VPN_IPPROTO_ICMPV6:
        if (vpn_rd_u8(r, &t) == 0 && vpn_rd_u8(r, &c) == 0) {
            out->sport = (uint16_t)(t << 8 | c);
            out->has_ports = true;
        }
        break;
    default:
        break;
    }
}

static int parse4(vpn_rd *r, size_t len, vpn_ip_info *out)
{
    uint8_t vihl, tos, ttl, proto;
    uint16_t total, id, frag, csum;
    const uint8_t *src, *dst;
    size_t ihl;

    vpn_rd_u8(r, &vihl);
    vpn_rd_u8(r, &tos);
    vpn_rd_u16(r, &total);
    vpn_rd_u16(r, &id);
    vpn_rd_u16(r, &frag);
    vpn_rd_u8(r, &ttl);
    vpn_rd_u8(r, &proto);
    vpn_rd_u16(r, &csum);
    vpn_rd_view(r, &src, 4);
    vpn_rd_view(r, &dst, 4);
    if (vpn_rd_err(r))
        return VPN_ERR_TRUNCATED;
    ihl = (size_t)(vihl & 0x0f) * 4;
    if (ihl < 20 || total < ihl)
        return VPN_ERR_MALFORMED;
    if (total > len)
        return VPN_ERR_TRUNCATED;
    if (vpn_rd_skip(r, ihl - 20) != 0)
        return VPN_ERR_TRUNCATED;
    out->version = 4;
    out->tos = tos;
    out->ttl = ttl;
    out->proto = proto;
    out->ip_id = id;
    out->df = (frag & 0x4000) != 0;
    out->frag = (frag & 0x3fff) != 0;   /* MF or a non-zero offset */
    out->hdr_len = ihl;
    out->nh_off = 9;
    out->total_len = total;
    vpn_addr_from_bytes(&out->src, src, 4);
    vpn_addr_from_bytes(&out->dst, dst, 4);
    /* Ports live only in the first fragment. */
    if ((frag & 0x1fff) == 0)
        parse_ports(r, out);
    return 0;
}

static int parse6(vpn_rd *r, size_t len, vpn_ip_info *out)
{
    uint32_t w;
    uint16_t plen;
    uint8_t nh, hop;
    const uint8_t *src, *dst;
    bool first_frag = true;

    vpn_rd_u32(r, &w);
    vpn_rd_u16(r, &plen);
    vpn_rd_u8(r, &nh);
    vpn_rd_u8(r, &hop);
    vpn_rd_view(r, &src, 16);
    vpn_rd_view(r, &dst, 16);
    if (vpn_rd_err(r))
        return VPN_ERR_TRUNCATED;
    out->version = 6;
    out->tos = (uint8_t)(w >> 20);
    out->ttl = hop;
    out->total_len = 40 + (size_t)plen;
    out->nh_off = 6;
    if (plen == 0)
        return VPN_ERR_MALFORMED;   /* jumbograms (RFC 2675) are not for us */
    if (out->total_len > len)
        return VPN_ERR_TRUNCATED;
    vpn_addr_from_bytes(&out->src, src, 16);
    vpn_addr_from_bytes(&out->dst, dst, 16);
    /* RFC 8200 4: walk the extension headers up to the upper layer. */
    for (;;) {
        size_t here = r->off;
        uint8_t next, hlen;
        if (nh == VPN_IPPROTO_HOPOPTS || nh == VPN_IPPROTO_ROUTING || nh == VPN_IPPROTO_DSTOPTS) {
            if (vpn_rd_u8(r, &next) || vpn_rd_u8(r, &hlen) || vpn_rd_skip(r, (size_t)hlen * 8 + 6))
                return VPN_ERR_TRUNCATED;
        } else if (nh == VPN_IPPROTO_FRAGMENT) {
            uint16_t offm;
            if (vpn_rd_u8(r, &next) || vpn_rd_u8(r, &hlen) || vpn_rd_u16(r, &offm) ||
                vpn_rd_skip(r, 4))
                return VPN_ERR_TRUNCATED;
            out->frag = true;
            first_frag = (offm & 0xfff8) == 0;
        } else {
            break;
        }
        if (r->off > out->total_len)
            return VPN_ERR_MALFORMED;
        out->nh_off = here;
        nh = next;
    }
    out->proto = nh;
    out->hdr_len = r->off;
    if (first_frag)
        parse_ports(r, out);
    return 0;
}

void vpn_ip_parse_ports(vpn_ip_info *info, const uint8_t *p, size_t len)
{
    vpn_rd r;

    if (!info || !p)
        return;
    vpn_rd_init(&r, p, len);
    parse_ports(&r, info);
}

int vpn_ip_parse(const uint8_t *p, size_t len, vpn_ip_info *out)
{
    vpn_rd r;
    int rc;

    if (!p || !out)
        return VPN_ERR_INVAL;
    memset(out, 0, sizeof *out);
    if (len < 1)
        return VPN_ERR_TRUNCATED;
    switch (p[0] >> 4) {
    case 4:
        /* Read within the claimed length only, once we know it. */
        vpn_rd_init(&r, p, len >= 4 && vpn_load16(p + 2) <= len ? vpn_load16(p + 2) : len);
        rc = parse4(&r, len, out);
        break;
    case 6:
        vpn_rd_init(&r, p, len >= 6 && 40u + vpn_load16(p + 4) <= len ? 40u + vpn_load16(p + 4) : len);
        rc = parse6(&r, len, out);
        break;
    default:
        return VPN_ERR_MALFORMED;
    }
    if (rc)
        memset(out, 0, sizeof *out);
    return rc;
}

/* ---- checksums and writers ------------------------------------------------------ */

uint16_t vpn_ip_csum(const uint8_t *p, size_t len)
{
    uint64_t sum = 0;
    size_t i = 0;

    for (; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (i < len)
        sum += (uint32_t)(p[i] << 8);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

void vpn_ip4_csum_set(uint8_t *hdr)
{
    size_t ihl = (size_t)(hdr[0] & 0x0f) * 4;
    hdr[10] = hdr[11] = 0;
    vpn_store16(hdr + 10, vpn_ip_csum(hdr, ihl));
}

size_t vpn_ip_hdr_len(uint8_t family)
{
    return family == 4 ? 20 : family == 6 ? 40 : 0;
}

int vpn_ip_hdr_write(uint8_t *p, const vpn_ip_hdr *h, size_t payload_len)
{
    if (!p || !h || h->src.family != h->dst.family)
        return VPN_ERR_INVAL;
    if (h->src.family == 4) {
        if (payload_len > 65535 - 20)
            return VPN_ERR_OVERFLOW;
        p[0] = 0x45;
        p[1] = h->tos;
        vpn_store16(p + 2, (uint16_t)(payload_len + 20));
        vpn_store16(p + 4, h->id);
        vpn_store16(p + 6, h->df ? 0x4000 : 0);
        p[8] = h->ttl;
        p[9] = h->proto;
        memcpy(p + 12, h->src.b, 4);
        memcpy(p + 16, h->dst.b, 4);
        vpn_ip4_csum_set(p);
        return 0;
    }
    if (h->src.family == 6) {
        if (payload_len > 65535)
            return VPN_ERR_OVERFLOW;
        vpn_store32(p, 6u << 28 | (uint32_t)h->tos << 20 | (h->flow_label & 0xfffff));
        vpn_store16(p + 4, (uint16_t)payload_len);
        p[6] = h->proto;
        p[7] = h->ttl;
        memcpy(p + 8, h->src.b, 16);
        memcpy(p + 24, h->dst.b, 16);
        return 0;
    }
    return VPN_ERR_INVAL;
}

uint8_t vpn_ip_tos_get(const uint8_t *p)
{
    if (p[0] >> 4 == 6)
        return (uint8_t)((p[0] & 0x0f) << 4 | p[1] >> 4);
    return p[1];
}

void vpn_ip_tos_set(uint8_t *p, uint8_t tos)
{
    if (p[0] >> 4 == 6) {
        p[0] = (uint8_t)((p[0] & 0xf0) | tos >> 4);
        p[1] = (uint8_t)((p[1] & 0x0f) | (tos & 0x0f) << 4);
        return;
    }
    p[1] = tos;
    vpn_ip4_csum_set(p);
}

int vpn_ecn_decap(uint8_t inner_ecn, uint8_t outer_ecn, uint8_t *out)
{
    inner_ecn &= 3;
    outer_ecn &= 3;
    if (inner_ecn == VPN_ECN_NOT_ECT) {
        /* A Not-ECT transport cannot be told of congestion: drop on CE. */
        if (outer_ecn == VPN_ECN_CE)
            return VPN_ERR_POLICY;
        *out = VPN_ECN_NOT_ECT;
        return 0;
    }
    if (outer_ecn == VPN_ECN_CE || inner_ecn == VPN_ECN_CE)
        *out = VPN_ECN_CE;
    else if (outer_ecn == VPN_ECN_ECT1)
        *out = VPN_ECN_ECT1;   /* ECT(1) outer over ECT(0) inner propagates */
    else
        *out = inner_ecn;
    return 0;
}
