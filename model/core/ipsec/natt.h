/*
 * UDP encapsulation of ESP for NAT traversal (RFC 3948), which shares UDP
 * port 4500 with IKE (RFC 7296 2.23): what arrives there is told apart by
 * its first bytes.
 *
 *   0xFF (one byte)                 NAT-keepalive (RFC 3948 2.3)
 *   00 00 00 00 ...                 non-ESP marker, then an IKE message (2.2)
 *   SPI (non-zero) ...              an ESP packet (2.1)
 */
#ifndef VPN_IPSEC_NATT_H
#define VPN_IPSEC_NATT_H

#include <stddef.h>
#include <stdint.h>

#include "ipsec/pkt.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VPN_NATT_PORT 4500
#define VPN_IKE_PORT 500
#define VPN_NATT_MARKER_LEN 4
#define VPN_UDP_HDR_LEN 8

typedef enum vpn_natt_kind {
    VPN_NATT_INVALID = 0,  /* too short to be anything */
    VPN_NATT_ESP,
    VPN_NATT_IKE,
    VPN_NATT_KEEPALIVE,
} vpn_natt_kind;

/* Classifies the payload of a UDP datagram received on port 4500. */
vpn_natt_kind vpn_natt_classify(const uint8_t *p, size_t len);

/* Prepends the non-ESP marker to the IKE message in pkt.
 * Errors: VPN_ERR_NOSPACE (no headroom). */
int vpn_natt_ike_encap(vpn_pkt *pkt);
/* Strips it from a UDP payload classified as IKE.
 * Errors: VPN_ERR_MALFORMED (no marker), VPN_ERR_TRUNCATED. */
int vpn_natt_ike_decap(vpn_pkt *pkt);

/* Writes the one-byte NAT-keepalive payload; returns 1, or 0 if cap is 0. */
size_t vpn_natt_keepalive_write(uint8_t *out, size_t cap);

/*
 * Writes an 8-byte UDP header (RFC 768) at p for payload_len bytes with a
 * zero checksum, as RFC 3948 2.1 allows over IPv4. For IPv6, where zero is
 * not allowed (RFC 8200 8.1), finish with vpn_udp_csum6 once the payload
 * is final. Errors: VPN_ERR_OVERFLOW.
 */
int vpn_udp_hdr_write(uint8_t *p, uint16_t sport, uint16_t dport, size_t payload_len);
/* Fills the UDP checksum of the IPv6 packet at ip6 (fixed header then UDP,
 * udp_len bytes of UDP header and payload). */
void vpn_udp_csum6(uint8_t *ip6, size_t udp_off, size_t udp_len);

#ifdef __cplusplus
}
#endif

#endif
