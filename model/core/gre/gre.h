/*
 * GRE (RFC 2784) with the key and sequence number extensions (RFC 2890),
 * in place on vpn_pkt buffers.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |C| |K|S| Reserved0       | Ver |         Protocol Type         |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |      Checksum (optional)      |       Reserved1 (Optional)    |
 *  |                         Key (optional)                        |
 *  |                 Sequence Number (Optional)                    |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Two levels: vpn_gre_encap/decap add and strip the GRE header alone;
 * a vpn_gre_tunnel adds the delivery IP header too and keeps per-peer
 * state, so one tunnel (one key) serves many peers: multipoint GRE as
 * DMVPN uses it, where each peer is known by its NBMA (outer) address.
 */
#ifndef VPN_GRE_H
#define VPN_GRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "ipsec/ip.h"
#include "ipsec/pkt.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Protocol Type values (EtherTypes). */
#define VPN_GRE_PROTO_IPV4 0x0800
#define VPN_GRE_PROTO_IPV6 0x86dd
#define VPN_GRE_PROTO_NHRP 0x2001  /* RFC 2332 over GRE, as DMVPN sends it */

#define VPN_GRE_HDR_MAX 16

typedef struct vpn_gre_hdr {
    uint16_t proto;
    bool has_csum;
    bool has_key;
    bool has_seq;
    uint32_t key;
    uint32_t seq;
} vpn_gre_hdr;

/* Header length for these options: 4 to 16. */
size_t vpn_gre_hdr_len(const vpn_gre_hdr *h);

/*
 * Prepends a GRE header to the payload in pkt (checksum, if asked, over
 * header and payload, RFC 2784 2.5). Errors: VPN_ERR_INVAL, VPN_ERR_NOSPACE.
 */
int vpn_gre_encap(vpn_pkt *pkt, const vpn_gre_hdr *h);
/*
 * Parses and strips the GRE header at the start of pkt, leaving the
 * payload. Errors: VPN_ERR_TRUNCATED, VPN_ERR_MALFORMED (version not 0,
 * reserved or routing bits set: RFC 2784 2.3.1 says discard),
 * VPN_ERR_AUTH (checksum wrong). pkt is unchanged on error.
 */
int vpn_gre_decap(vpn_pkt *pkt, vpn_gre_hdr *h);
/* Reads the header at p without changing anything; returns its length or
 * a negative error as vpn_gre_decap (the checksum is not verified). */
int vpn_gre_peek(const uint8_t *p, size_t len, vpn_gre_hdr *h);

/* ---- tunnels -------------------------------------------------------------------- */

#define VPN_GRE_TOS_COPY (-1)

typedef struct vpn_gre_tunnel_config {
    vpn_addr local;         /* tunnel source (family 4 or 6) */
    vpn_addr remote;        /* point-to-point destination; VPN_AF_NONE = multipoint */
    bool has_key;           /* `tunnel key` */
    uint32_t key;
    bool csum;              /* send checksums */
    bool seq;               /* send sequence numbers, and check them (RFC 2890 2.2) */
    uint8_t ttl;            /* 0 = 255, IOS's tunnel default */
    int tos;                /* VPN_GRE_TOS_COPY (inner to outer, RFC 6040 normal mode) or a fixed TOS byte */
} vpn_gre_tunnel_config;

typedef enum vpn_gre_err {
    VPN_GRE_ERR_MALFORMED = 0, /* outer IP or GRE header unusable */
    VPN_GRE_ERR_CSUM,          /* checksum wrong */
    VPN_GRE_ERR_SEQ,           /* sequence number missing, old or repeated */
    VPN_GRE_ERR_PEER,          /* point-to-point: from the wrong source */
    VPN_GRE_ERR_ECN,           /* RFC 6040 drop */
    VPN_GRE_ERR_NOSPACE,       /* outbound: no room */
    VPN_GRE_ERR_COUNT
} vpn_gre_err;

typedef struct vpn_gre_stats {
    uint64_t pkts_in, bytes_in, pkts_out, bytes_out;
    uint64_t err[VPN_GRE_ERR_COUNT];
} vpn_gre_stats;

typedef struct vpn_gre_tunnel vpn_gre_tunnel;
typedef struct vpn_gre_peer vpn_gre_peer;

/* Errors: VPN_ERR_INVAL, VPN_ERR_NOMEM. The caller owns *out. */
int vpn_gre_tunnel_new(vpn_gre_tunnel **out, const vpn_gre_tunnel_config *cfg);
/* Frees the tunnel and its peers. NULL is fine. */
void vpn_gre_tunnel_del(vpn_gre_tunnel *t);
const vpn_gre_tunnel_config *vpn_gre_tunnel_get_config(const vpn_gre_tunnel *t);
const vpn_gre_stats *vpn_gre_tunnel_get_stats(const vpn_gre_tunnel *t);
/* The engine contract's getter: copies the counters; zeros for NULL. */
void vpn_gre_tunnel_stats_get(const vpn_gre_tunnel *t, vpn_gre_stats *out);

/*
 * Adds a peer by NBMA address (the tunnel owns it; valid until removed).
 * Errors: VPN_ERR_INVAL (family differs from local), VPN_ERR_EXISTS, VPN_ERR_NOMEM.
 */
int vpn_gre_peer_add(vpn_gre_tunnel *t, const vpn_addr *nbma, vpn_gre_peer **out);
/* Errors: VPN_ERR_NOTFOUND. */
int vpn_gre_peer_remove(vpn_gre_tunnel *t, vpn_gre_peer *p);
vpn_gre_peer *vpn_gre_peer_find(const vpn_gre_tunnel *t, const vpn_addr *nbma);
size_t vpn_gre_peer_count(const vpn_gre_tunnel *t);
const vpn_addr *vpn_gre_peer_addr(const vpn_gre_peer *p);
const vpn_gre_stats *vpn_gre_peer_get_stats(const vpn_gre_peer *p);
/* The engine contract's getter: copies the counters; zeros for NULL. */
void vpn_gre_peer_stats_get(const vpn_gre_peer *p, vpn_gre_stats *out);

/*
 * Encapsulates the payload in pkt (protocol type proto) towards peer, or
 * towards the configured remote when peer is NULL: GRE header (the peer's
 * next sequence number, if enabled) and outer IP header. For IPv4/IPv6
 * payloads the outer TOS follows the config.
 * Errors: VPN_ERR_INVAL (no destination), VPN_ERR_NOSPACE, VPN_ERR_OVERFLOW.
 */
int vpn_gre_tunnel_encap(vpn_gre_tunnel *t, vpn_gre_peer *peer, vpn_pkt *pkt, uint16_t proto);

typedef struct vpn_gre_rx {
    uint16_t proto;          /* payload protocol type */
    vpn_gre_peer *peer;      /* the peer it came from, NULL if not (yet) known */
    vpn_addr src;            /* outer source (NBMA address) */
    vpn_gre_hdr hdr;
} vpn_gre_rx;

/*
 * Processes a received outer IP packet carrying GRE. VPN_ERR_NOTFOUND
 * (pkt unchanged, nothing counted) means it is not for this tunnel: wrong
 * destination, or key presence or value differs, so the caller can try
 * another tunnel. Otherwise on success pkt holds the payload.
 * Errors: VPN_ERR_NOTFOUND, VPN_ERR_MALFORMED / VPN_ERR_TRUNCATED,
 * VPN_ERR_AUTH (checksum), VPN_ERR_REPLAY (sequence), VPN_ERR_POLICY
 * (wrong point-to-point source, RFC 6040 drop).
 */
int vpn_gre_tunnel_decap(vpn_gre_tunnel *t, vpn_pkt *pkt, vpn_gre_rx *rx);

#ifdef __cplusplus
}
#endif

#endif
