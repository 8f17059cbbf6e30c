/*
 * RTP fixed header (RFC 3550 5.1) for the voice and video sources, and the
 * measurement probe they carry at the start of their payload (send time,
 * flow and sequence number), so that one-way delay survives any tunnel the
 * packet crosses. Wireshark decodes the header with `-d udp.port==P,rtp`.
 */
#ifndef VPN_QOS_RTP_H
#define VPN_QOS_RTP_H

#include <stdbool.h>
#include <stdint.h>

#include "common/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VPN_RTP_HDR_LEN 12
#define VPN_RTP_PT_PCMU 0   /* RFC 3551 Table 4: G.711 mu-law, 8 kHz */
#define VPN_RTP_PT_G729 18  /* RFC 3551 Table 4: G.729, 8 kHz */
#define VPN_RTP_PT_VIDEO 96 /* dynamic (RFC 3551 6) */
#define VPN_QOS_PROBE_LEN 16

typedef struct vpn_rtp_hdr {
    bool marker;
    uint8_t pt;     /* 0-127 */
    uint16_t seq;
    uint32_t ts;
    uint32_t ssrc;
} vpn_rtp_hdr;

/* Writes the 12-byte header (V=2, no padding, extension or CSRC).
 * Errors: VPN_ERR_INVAL (pt > 127, NULL), VPN_ERR_NOSPACE. */
int vpn_rtp_write(vpn_wr *w, const vpn_rtp_hdr *h);

/*
 * Reads a header, skipping CSRCs and a header extension (RFC 3550 5.3.1);
 * r is left at the payload. Padding (P) is not stripped: the probe is at
 * the start. Errors: VPN_ERR_TRUNCATED, VPN_ERR_MALFORMED (version not 2),
 * VPN_ERR_INVAL.
 */
int vpn_rtp_read(vpn_rd *r, vpn_rtp_hdr *h);

/* The probe: send time (ns), flow id, 32-bit sequence number. */
int vpn_qos_probe_write(vpn_wr *w, uint64_t tx_ns, uint32_t flow, uint32_t seq);
/* Errors: VPN_ERR_TRUNCATED, VPN_ERR_INVAL. */
int vpn_qos_probe_read(vpn_rd *r, uint64_t *tx_ns, uint32_t *flow, uint32_t *seq);

#ifdef __cplusplus
}
#endif

#endif
