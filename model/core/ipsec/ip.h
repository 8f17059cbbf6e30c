/*
 * The little of IPv4 (RFC 791) and IPv6 (RFC 8200) the data plane needs
 * (addresses are common/addr.h's vpn_addr): a header parser that yields the selector fields (RFC 4301
 * 4.4.1.1: addresses, next layer protocol, ports, DSCP), header writers for
 * outer headers, checksums, and the ECN rules of RFC 6040.
 */
#ifndef VPN_IPSEC_IP_H
#define VPN_IPSEC_IP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"

#ifdef __cplusplus
extern "C" {
#endif

enum vpn_ipproto {
    VPN_IPPROTO_HOPOPTS = 0,
    VPN_IPPROTO_ICMP = 1,
    VPN_IPPROTO_IPIP = 4,      /* IPv4 in IP: ESP next header in tunnel mode */
    VPN_IPPROTO_TCP = 6,
    VPN_IPPROTO_UDP = 17,
    VPN_IPPROTO_IPV6 = 41,
    VPN_IPPROTO_ROUTING = 43,
    VPN_IPPROTO_FRAGMENT = 44,
    VPN_IPPROTO_GRE = 47,
    VPN_IPPROTO_ESP = 50,
    VPN_IPPROTO_AH = 51,
    VPN_IPPROTO_ICMPV6 = 58,
    VPN_IPPROTO_NONE = 59,     /* RFC 4303 2.6: dummy packet */
    VPN_IPPROTO_DSTOPTS = 60,
    VPN_IPPROTO_SCTP = 132,
};

/* What vpn_ip_parse learns from a header. */
typedef struct vpn_ip_info {
    uint8_t version;   /* 4 or 6 */
    uint8_t tos;       /* IPv4 TOS / IPv6 traffic class: DSCP << 2 | ECN */
    uint8_t proto;     /* upper-layer protocol (after IPv6 extension headers) */
    uint8_t ttl;       /* TTL or hop limit */
    bool df;           /* IPv4 don't-fragment */
    bool frag;         /* a fragment (IPv4 MF/offset or an IPv6 fragment header) */
    bool has_ports;    /* sport/dport are valid */
    uint16_t sport;    /* TCP/UDP/SCTP ports; ICMP: type << 8 | code in sport */
    uint16_t dport;
    uint16_t ip_id;    /* IPv4 identification */
    size_t hdr_len;    /* offset of the upper-layer header */
    size_t nh_off;     /* offset of the byte that names proto */
    size_t total_len;  /* length claimed by the header (<= the bytes given) */
    vpn_addr src, dst;
} vpn_ip_info;

/*
 * Parses an IPv4 or IPv6 header at p (len bytes, the packet possibly
 * followed by padding). IPv6 extension headers 0, 43, 60 and 44 are
 * walked; ESP and AH end the walk like an upper layer.
 * Errors: VPN_ERR_TRUNCATED (fewer bytes than the header or its length
 * field claims), VPN_ERR_MALFORMED (bad version, IHL or length).
 */
int vpn_ip_parse(const uint8_t *p, size_t len, vpn_ip_info *out);

/*
 * Fills info->sport/dport/has_ports from the first bytes of an upper-layer
 * header of protocol info->proto (p, len bytes): TCP, UDP and SCTP ports,
 * ICMP type << 8 | code. Leaves them unset if the header is too short.
 */
void vpn_ip_parse_ports(vpn_ip_info *info, const uint8_t *p, size_t len);

/* RFC 1071 Internet checksum of len bytes (the value to store). */
uint16_t vpn_ip_csum(const uint8_t *p, size_t len);
/* Recomputes the IPv4 header checksum of the header at hdr (IHL taken from it). */
void vpn_ip4_csum_set(uint8_t *hdr);

/* An outer header to write. */
typedef struct vpn_ip_hdr {
    vpn_addr src, dst; /* same family: 4 or 6 */
    uint8_t proto;
    uint8_t tos;          /* DSCP << 2 | ECN */
    uint8_t ttl;
    bool df;              /* IPv4 only */
    uint16_t id;          /* IPv4 only */
    uint32_t flow_label;  /* IPv6 only, 20 bits */
} vpn_ip_hdr;

/* 20 for family 4, 40 for family 6, else 0. */
size_t vpn_ip_hdr_len(uint8_t family);
/*
 * Writes a header without options at p (vpn_ip_hdr_len bytes, caller-checked)
 * for payload_len bytes of payload, with its checksum.
 * Errors: VPN_ERR_INVAL (families differ or unknown), VPN_ERR_OVERFLOW.
 */
int vpn_ip_hdr_write(uint8_t *p, const vpn_ip_hdr *h, size_t payload_len);

/* TOS / traffic class of a header known to be valid (version from byte 0). */
uint8_t vpn_ip_tos_get(const uint8_t *p);
/* Sets it, keeping an IPv4 checksum right. */
void vpn_ip_tos_set(uint8_t *p, uint8_t tos);

/* ECN codepoints (RFC 3168 5). */
enum vpn_ecn { VPN_ECN_NOT_ECT = 0, VPN_ECN_ECT1 = 1, VPN_ECN_ECT0 = 2, VPN_ECN_CE = 3 };

/*
 * RFC 6040 4.1: the outer ECN field at encapsulation. Normal mode copies
 * the inner field (CE included); compatibility mode sends Not-ECT.
 */
static inline uint8_t vpn_ecn_encap(uint8_t inner_tos, bool compat)
{
    return compat ? (uint8_t)VPN_ECN_NOT_ECT : (uint8_t)(inner_tos & 3);
}
/*
 * RFC 6040 4.2 (figure 4): the inner ECN field after decapsulation.
 * Returns 0 with *out set, or VPN_ERR_POLICY when the packet must be
 * dropped (outer CE over a Not-ECT inner packet).
 */
int vpn_ecn_decap(uint8_t inner_ecn, uint8_t outer_ecn, uint8_t *out);

#ifdef __cplusplus
}
#endif

#endif
