#include "ipsec/natt.h"

#include <string.h>

#include "common/vpn-err.h"
#include "common/wire.h"

vpn_natt_kind vpn_natt_classify(const uint8_t *p, size_t len)
{
    vpn_rd r;
    uint32_t first;

    if (!p)
        return VPN_NATT_INVALID;
    vpn_rd_init(&r, p, len);
    if (len == 1)
        return p[0] == 0xff ? VPN_NATT_KEEPALIVE : VPN_NATT_INVALID;
    if (vpn_rd_u32(&r, &first) != 0)
        return VPN_NATT_INVALID;
    if (first == 0)
        return VPN_NATT_IKE;
    /* RFC 4303 2: an ESP header is SPI and sequence number at least. */
    return len >= 8 ? VPN_NATT_ESP : VPN_NATT_INVALID;
}

int vpn_natt_ike_encap(vpn_pkt *pkt)
{
    uint8_t *m = vpn_pkt_push(pkt, VPN_NATT_MARKER_LEN);

    if (!m)
        return VPN_ERR_NOSPACE;
    memset(m, 0, VPN_NATT_MARKER_LEN);
    return 0;
}

int vpn_natt_ike_decap(vpn_pkt *pkt)
{
    vpn_rd r;
    uint32_t marker;

    vpn_rd_init(&r, vpn_pkt_data(pkt), pkt->len);
    if (vpn_rd_u32(&r, &marker) != 0)
        return VPN_ERR_TRUNCATED;
    if (marker != 0)
        return VPN_ERR_MALFORMED;
    vpn_pkt_pull(pkt, VPN_NATT_MARKER_LEN);
    return 0;
}

size_t vpn_natt_keepalive_write(uint8_t *out, size_t cap)
{
    if (!out || cap < 1)
        return 0;
    out[0] = 0xff;
    return 1;
}

int vpn_udp_hdr_write(uint8_t *p, uint16_t sport, uint16_t dport, size_t payload_len)
{
    if (payload_len > 65535 - VPN_UDP_HDR_LEN)
        return VPN_ERR_OVERFLOW;
    vpn_store16(p, sport);
    vpn_store16(p + 2, dport);
    vpn_store16(p + 4, (uint16_t)(payload_len + VPN_UDP_HDR_LEN));
    vpn_store16(p + 6, 0);
    return 0;
}

void vpn_udp_csum6(uint8_t *ip6, size_t udp_off, size_t udp_len)
{
    /* RFC 8200 8.1: pseudo-header of addresses, length and next header. */
    uint64_t sum = 0;
    uint8_t *u = ip6 + udp_off;

    u[6] = u[7] = 0;
    for (size_t i = 8; i < 40; i += 2)
        sum += vpn_load16(ip6 + i);
    sum += (uint32_t)udp_len;
    sum += 17;
    for (size_t i = 0; i + 1 < udp_len; i += 2)
        sum += vpn_load16(u + i);
    if (udp_len & 1)
        sum += (uint32_t)u[udp_len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    sum = ~sum & 0xffff;
    vpn_store16(u + 6, sum ? (uint16_t)sum : 0xffff); /* 0 is sent as all ones */
}
