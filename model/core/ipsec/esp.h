/*
 * ESP (RFC 4303) on packets in place.
 *
 * Outbound, vpn_esp_encap turns the IP packet in a vpn_pkt into the packet
 * to send: tunnel mode prepends an outer IPv4/IPv6 header (from the SA's
 * endpoints, or from the inner packet's own addresses for
 * VPN_ESP_TUNNEL_ADDR_PRESERVE), transport mode inserts ESP after the IP
 * header (and its IPv6 extension headers); with udp_encap a UDP header
 * (RFC 3948) goes before ESP. Padding, pad length, next header and ICV are
 * appended in the tailroom. Nothing is allocated.
 *
 * Inbound, vpn_esp_decap takes an IP packet as received (ESP, or UDP to
 * port 4500), finds the SA, checks the replay window, verifies the ICV,
 * moves the window, checks the padding, the next header, the inner packet
 * and the SA's selectors and, for group SAs, the time-based window, and
 * leaves the inner packet (tunnel) or the restored packet (transport) in
 * the vpn_pkt. vpn_esp_decap_payload does the same from the ESP header on,
 * for drivers that receive ESP without its IP header (an ns-3 L4 protocol).
 *
 * Every refused packet is counted on its SA (or on the SAD when no SA is
 * known), logged, reported to the drop callback, and returned as an error;
 * the packet's bytes are then unspecified and the caller drops it.
 *
 * IVs (RFC 4303 3.3.2, RFC 4106 3.1, RFC 3602 3): by default an AEAD IV
 * is the 64-bit sequence number (with RFC 6054 sender ID bits on group
 * senders), which is unique per key and costs no randomness; a CBC IV is
 * E_K(salt || seq), the encrypted-nonce construction of NIST SP 800-38A
 * appendix C, with a per-SA random salt: unpredictable and still free of
 * per-packet RNG calls. VPN_SA_IV_RANDOM draws every IV from the SAD's RNG.
 *
 * DSCP (RFC 4301 5.1.2.1) is copied from inner to outer unless the SA sets
 * a fixed value; ECN follows RFC 6040 (normal mode by default) at both
 * ends. The inner DSCP is left alone on decapsulation.
 *
 * Time-based anti-replay: the sender's pseudotime rides in a 12-byte block
 * used as TFC padding after the inner packet (replay.h has the layout).
 */
#ifndef VPN_IPSEC_ESP_H
#define VPN_IPSEC_ESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "ipsec/pkt.h"
#include "ipsec/sa.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VPN_ESP_HDR_LEN 8

/* What the outer layers said about an ESP packet. */
typedef struct vpn_esp_outer {
    vpn_addr src, dst;
    uint8_t tos;            /* outer DSCP/ECN, for RFC 6040 decapsulation */
    bool udp;               /* arrived UDP-encapsulated (RFC 3948) */
    uint16_t sport, dport;  /* the UDP ports then */
} vpn_esp_outer;

typedef enum vpn_esp_verdict {
    VPN_ESP_DELIVER = 1,  /* pkt holds the inner / restored packet */
    VPN_ESP_DUMMY,        /* authentic RFC 4303 2.6 dummy packet: discard */
    VPN_ESP_IKE,          /* UDP 4500 with non-ESP marker: pkt holds the IKE message */
    VPN_ESP_KEEPALIVE,    /* NAT-keepalive (RFC 3948 2.3): discard */
} vpn_esp_verdict;

typedef struct vpn_esp_rx {
    vpn_esp_verdict verdict;
    vpn_sa *sa;              /* the SA (DELIVER, DUMMY) */
    uint64_t seq;            /* full sequence number */
    bool newest;             /* seq above every sequence number verified before (RFC 7296 2.23) */
    uint8_t next_header;     /* from the trailer */
    bool has_pseudotime;
    uint64_t pseudotime_ms;  /* sender's TBAR pseudotime */
    vpn_esp_outer outer;
} vpn_esp_rx;

/*
 * Worst-case growth of a packet of the given inner family (4 or 6) under
 * sa: bytes needed in front and behind. Errors: VPN_ERR_INVAL.
 */
int vpn_esp_overhead(const vpn_sa *sa, uint8_t inner_family, size_t *head, size_t *tail);

/*
 * What sizes an SA's packets, known before the SA exists (from a
 * configured transform-set) or read off one (vpn_esp_shape_of). Used to
 * size tunnel interfaces: the inner MTU is what fits the WAN MTU.
 */
typedef struct vpn_esp_shape {
    uint16_t encr_id;        /* enum vpn_encr_id */
    uint16_t encr_key_bits;  /* Key Length attribute (0 for fixed sizes) */
    uint16_t integ_id;       /* enum vpn_integ_id; VPN_INTEG_NONE with AEAD */
    vpn_esp_mode mode;
    uint8_t outer_family;    /* 4 or 6: the header tunnel mode adds, or transport mode keeps */
    bool udp_encap;          /* RFC 3948: 8 more bytes */
    bool tbar;               /* a time-based anti-replay block (tunnel modes) */
} vpn_esp_shape;

/* The shape of sa. Errors: VPN_ERR_INVAL. */
int vpn_esp_shape_of(const vpn_sa *sa, vpn_esp_shape *out);

/*
 * Worst-case bytes ESP under s adds to a packet: the outer IP header in
 * tunnel modes, UDP (NAT-T), the ESP header and IV, the most padding the
 * cipher's block can need, pad length and next header, the TBAR block, the
 * ICV. Errors: VPN_ERR_INVAL, VPN_ERR_UNSUPPORTED (unknown algorithm).
 */
int vpn_esp_max_overhead(const vpn_esp_shape *s, size_t *bytes);

/*
 * The largest IP packet (header included, IPv4 without options) that
 * vpn_esp_encap under s turns into a packet of at most outer_mtu bytes.
 * Exact: the padding is counted for that size, so one byte more no longer
 * fits. Errors: VPN_ERR_INVAL, VPN_ERR_UNSUPPORTED, VPN_ERR_NOSPACE
 * (outer_mtu leaves no room for an IP header).
 */
int vpn_esp_max_input(const vpn_esp_shape *s, size_t outer_mtu, size_t *max_len);

/*
 * The IP MTU of a tunnel interface over a WAN of wan_mtu bytes: VTI
 * (gre_hdr_len 0) hands inner packets to ESP directly; GRE/IPsec
 * (gre_hdr_len from vpn_gre_hdr_len) wraps them in an IP header of the
 * outer family and GRE first, whichever ESP mode follows. Same errors.
 */
int vpn_esp_tunnel_mtu(const vpn_esp_shape *s, size_t wan_mtu, size_t gre_hdr_len, size_t *mtu);

/*
 * Protects the IP packet in pkt with outbound SA sa at time now. On success
 * pkt holds the packet to send. Bytes beyond the inner header's length
 * (link padding) are dropped first.
 * Errors: VPN_ERR_INVAL (not an outbound SA), VPN_ERR_MALFORMED /
 * VPN_ERR_TRUNCATED (not an IP packet), VPN_ERR_UNSUPPORTED (transport mode
 * on a fragment), VPN_ERR_NOSPACE (head- or tailroom), VPN_ERR_OVERFLOW
 * (sequence numbers exhausted, or the result would exceed 65535 bytes),
 * VPN_ERR_EXPIRED (hard lifetime), VPN_ERR_CRYPTO or the RNG's error.
 * On error pkt is unchanged, except after a failure of the crypto library
 * or the RNG (VPN_ERR_CRYPTO, the RNG's code): drop the packet then.
 */
int vpn_esp_encap(vpn_sa *sa, vpn_pkt *pkt, uint64_t now);

/*
 * Processes one received IP packet. On success rx->verdict says what pkt
 * now holds. Errors: VPN_ERR_MALFORMED / VPN_ERR_TRUNCATED (headers or
 * ESP too short, bad trailer), VPN_ERR_UNSUPPORTED (not ESP, or a
 * fragment), VPN_ERR_NOTFOUND (unknown SPI), VPN_ERR_REPLAY (counter or
 * time window), VPN_ERR_AUTH (ICV), VPN_ERR_POLICY (outside selectors, or
 * an RFC 6040 drop), VPN_ERR_EXPIRED, VPN_ERR_CRYPTO.
 */
int vpn_esp_decap(vpn_sad *sad, vpn_pkt *pkt, uint64_t now, vpn_esp_rx *rx);

/*
 * As vpn_esp_decap, with pkt starting at the ESP header and outer saying
 * what the IP (and UDP) layers saw. Transport mode leaves the upper-layer
 * payload in pkt and its protocol in rx->next_header.
 */
int vpn_esp_decap_payload(vpn_sad *sad, vpn_pkt *pkt, const vpn_esp_outer *outer, uint64_t now,
                          vpn_esp_rx *rx);

#ifdef __cplusplus
}
#endif

#endif
