/*
 * A packet in a caller-owned buffer with room on both sides, so that
 * encapsulations prepend headers and append trailers in place: the ESP and
 * GRE paths never allocate or copy a whole packet.
 *
 *   buf                off            off+len                 cap
 *    |<-- headroom -->|<--- packet --->|<----- tailroom ----->|
 *
 * The buffer is owned by the caller throughout; the functions only move
 * off and len. Every move is bounds-checked and fails without change.
 */
#ifndef VPN_PKT_H
#define VPN_PKT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Room a driver should leave for the deepest stack the core builds:
 * IPv6 (40) + UDP (8) + ESP (8) + IV (16) + GRE (16) + IPv6 (40) = 128
 * in front; TBAR block (12) + padding (<= 17) + 2 + ICV (<= 32) behind.
 */
#define VPN_PKT_HEADROOM 128
#define VPN_PKT_TAILROOM 64

typedef struct vpn_pkt {
    uint8_t *buf; /* storage of cap bytes, owned by the caller */
    size_t cap;
    size_t off;   /* first byte of the packet */
    size_t len;   /* packet length */
} vpn_pkt;

/* Points p at buf (cap bytes) with an empty packet after headroom bytes. */
static inline void vpn_pkt_init(vpn_pkt *p, uint8_t *buf, size_t cap, size_t headroom)
{
    p->buf = buf;
    p->cap = cap;
    p->off = headroom <= cap ? headroom : cap;
    p->len = 0;
}

static inline uint8_t *vpn_pkt_data(const vpn_pkt *p) { return p->buf + p->off; }
static inline size_t vpn_pkt_headroom(const vpn_pkt *p) { return p->off; }
static inline size_t vpn_pkt_tailroom(const vpn_pkt *p) { return p->cap - p->off - p->len; }

/* Grows the packet by n bytes at the front; NULL if headroom is short. */
static inline uint8_t *vpn_pkt_push(vpn_pkt *p, size_t n)
{
    if (n > p->off)
        return NULL;
    p->off -= n;
    p->len += n;
    return p->buf + p->off;
}

/* Removes n bytes from the front, returning where they were; NULL if short. */
static inline uint8_t *vpn_pkt_pull(vpn_pkt *p, size_t n)
{
    uint8_t *old = p->buf + p->off;
    if (n > p->len)
        return NULL;
    p->off += n;
    p->len -= n;
    return old;
}

/* Grows the packet by n bytes at the end, returning them; NULL if no room. */
static inline uint8_t *vpn_pkt_put(vpn_pkt *p, size_t n)
{
    uint8_t *end = p->buf + p->off + p->len;
    if (n > vpn_pkt_tailroom(p))
        return NULL;
    p->len += n;
    return end;
}

/* Cuts the packet to len bytes (no-op if it is shorter already). */
static inline void vpn_pkt_trim(vpn_pkt *p, size_t len)
{
    if (len < p->len)
        p->len = len;
}

#ifdef __cplusplus
}
#endif

#endif
