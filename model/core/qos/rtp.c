/* RTP fixed header, RFC 3550 5.1, and the measurement probe (rtp.h). */
#include "qos/rtp.h"

#include "common/vpn-err.h"

/*
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * |                           timestamp                           |
 * |           synchronization source (SSRC) identifier            |
 */
int vpn_rtp_write(vpn_wr *w, const vpn_rtp_hdr *h)
{
    if (w == NULL || h == NULL || h->pt > 127)
        return VPN_ERR_INVAL;
    if (vpn_wr_room(w) < VPN_RTP_HDR_LEN)
        return VPN_ERR_NOSPACE;
    vpn_wr_u8(w, 0x80);
    vpn_wr_u8(w, (uint8_t)((h->marker ? 0x80 : 0) | h->pt));
    vpn_wr_u16(w, h->seq);
    vpn_wr_u32(w, h->ts);
    return vpn_wr_u32(w, h->ssrc);
}

int vpn_rtp_read(vpn_rd *r, vpn_rtp_hdr *h)
{
    uint8_t b0, b1;
    int rc;

    if (r == NULL || h == NULL)
        return VPN_ERR_INVAL;
    if ((rc = vpn_rd_u8(r, &b0)) || (rc = vpn_rd_u8(r, &b1)) || (rc = vpn_rd_u16(r, &h->seq)) ||
        (rc = vpn_rd_u32(r, &h->ts)) || (rc = vpn_rd_u32(r, &h->ssrc)))
        return rc;
    if ((b0 >> 6) != 2)
        return vpn_rd_fail(r, VPN_ERR_MALFORMED);
    h->marker = (b1 & 0x80) != 0;
    h->pt = b1 & 0x7f;
    if ((rc = vpn_rd_skip(r, 4u * (b0 & 0x0f))) != 0) /* CSRC list */
        return rc;
    if (b0 & 0x10) {
        /* 5.3.1: 16-bit profile field, 16-bit length in 32-bit words. */
        uint16_t profile, words;
        if ((rc = vpn_rd_u16(r, &profile)) || (rc = vpn_rd_u16(r, &words)) || (rc = vpn_rd_skip(r, 4u * words)))
            return rc;
    }
    return 0;
}

int vpn_qos_probe_write(vpn_wr *w, uint64_t tx_ns, uint32_t flow, uint32_t seq)
{
    if (w == NULL)
        return VPN_ERR_INVAL;
    if (vpn_wr_room(w) < VPN_QOS_PROBE_LEN)
        return VPN_ERR_NOSPACE;
    vpn_wr_u64(w, tx_ns);
    vpn_wr_u32(w, flow);
    return vpn_wr_u32(w, seq);
}

int vpn_qos_probe_read(vpn_rd *r, uint64_t *tx_ns, uint32_t *flow, uint32_t *seq)
{
    int rc;
    if (r == NULL || tx_ns == NULL || flow == NULL || seq == NULL)
        return VPN_ERR_INVAL;
    if ((rc = vpn_rd_u64(r, tx_ns)) || (rc = vpn_rd_u32(r, flow)) || (rc = vpn_rd_u32(r, seq)))
        return rc;
    return 0;
}
