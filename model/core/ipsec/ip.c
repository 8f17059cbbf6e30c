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
    const uint8_t *h;

    switch (out->proto) {
    case VPN_IPPROTO_TCP:
    case VPN_IPPROTO_UDP:
    case VPN_IPPROTO_SCTP:
        if (vpn_rd_view(r, &h, 4) == 0) {
            out->sport = vpn_load16(h);
            out->dport = vpn_load16(h + 2);
            out->has_ports = true;
        }
        break;
    case VPN_IPPROTO_ICMP:
    case VPN_IPPROTO_ICMPV6:
        if (vpn_rd_view(r, &h, 2) == 0) {
            out->sport = vpn_load16(h);
            out->has_ports = true;
        }
        break;
    default:
        break;
    }
}

static int parse4(vpn_rd *r, size_t len, vpn_ip_info *out)
{
    const uint8_t *h;
    uint16_t total, frag;
    size_t ihl;

    /* One bounds-checked view of the fixed header, then plain loads. */
    if (vpn_rd_view(r, &h, 20) != 0)
        return VPN_ERR_TRUNCATED;
    ihl = (size_t)(h[0] & 0x0f) * 4;
    total = vpn_load16(h + 2);
    frag = vpn_load16(h + 6);
    if (ihl < 20 || total < ihl)
        return VPN_ERR_MALFORMED;
    if (total > len)
        return VPN_ERR_TRUNCATED;
    r->len = total; /* stay inside the packet, not its link padding */
    if (vpn_rd_skip(r, ihl - 20) != 0)
        return VPN_ERR_TRUNCATED;
    out->version = 4;
    out->tos = h[1];
    out->ttl = h[8];
    out->proto = h[9];
    out->ip_id = vpn_load16(h + 4);
    out->df = (frag & 0x4000) != 0;
    out->frag = (frag & 0x3fff) != 0;   /* MF or a non-zero offset */
    out->hdr_len = ihl;
    out->nh_off = 9;
    out->total_len = total;
    vpn_addr_from_bytes(&out->src, h + 12, 4);
    vpn_addr_from_bytes(&out->dst, h + 16, 4);
    /* Ports live only in the first fragment. */
    if ((frag & 0x1fff) == 0)
        parse_ports(r, out);
    return 0;
}

static int parse6(vpn_rd *r, size_t len, vpn_ip_info *out)
{
    const uint8_t *h;
    uint16_t plen;
    uint8_t nh;
    bool first_frag = true;

    if (vpn_rd_view(r, &h, 40) != 0)
        return VPN_ERR_TRUNCATED;
    plen = vpn_load16(h + 4);
    nh = h[6];
    out->version = 6;
    out->tos = (uint8_t)(vpn_load32(h) >> 20);
    out->ttl = h[7];
    out->total_len = 40 + (size_t)plen;
    out->nh_off = 6;
    if (plen == 0)
        return VPN_ERR_MALFORMED;   /* jumbograms (RFC 2675) are not for us */
    if (out->total_len > len)
        return VPN_ERR_TRUNCATED;
    vpn_addr_from_bytes(&out->src, h + 8, 16);
    vpn_addr_from_bytes(&out->dst, h + 24, 16);
    r->len = out->total_len;
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
    vpn_rd_init(&r, p, len);
    switch (p[0] >> 4) {
    case 4:
        rc = parse4(&r, len, out);
        break;
    case 6:
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
