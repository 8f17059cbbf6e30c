#include "gre/gre.h"

#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "common/wire.h"

#define GRE_C 0x8000u
#define GRE_R 0x4000u   /* RFC 1701 routing: RFC 2784 2.3.1 says discard */
#define GRE_K 0x2000u   /* RFC 2890 2.1 */
#define GRE_S 0x1000u   /* RFC 2890 2.2 */
#define GRE_DISCARD (GRE_R | 0x0800u | 0x0400u) /* bits 1, 4, 5 (with K, S allowed) */
#define GRE_VER 0x0007u

size_t vpn_gre_hdr_len(const vpn_gre_hdr *h)
{
    return 4 + (h->has_csum ? 4 : 0) + (h->has_key ? 4 : 0) + (h->has_seq ? 4 : 0);
}

int vpn_gre_encap(vpn_pkt *pkt, const vpn_gre_hdr *h)
{
    size_t n;
    uint8_t *p, *q;

    if (!pkt || !h)
        return VPN_ERR_INVAL;
    n = vpn_gre_hdr_len(h);
    p = vpn_pkt_push(pkt, n);
    if (!p)
        return VPN_ERR_NOSPACE;
    vpn_store16(p, (uint16_t)((h->has_csum ? GRE_C : 0) | (h->has_key ? GRE_K : 0) |
                              (h->has_seq ? GRE_S : 0)));
    vpn_store16(p + 2, h->proto);
    q = p + 4;
    if (h->has_csum) {
        memset(q, 0, 4);
        q += 4;
    }
    if (h->has_key) {
        vpn_store32(q, h->key);
        q += 4;
    }
    if (h->has_seq)
        vpn_store32(q, h->seq);
    if (h->has_csum) /* RFC 2784 2.5: over header and payload, checksum field zero */
        vpn_store16(p + 4, vpn_ip_csum(p, pkt->len));
    return 0;
}

int vpn_gre_peek(const uint8_t *p, size_t len, vpn_gre_hdr *h)
{
    vpn_rd r;
    uint16_t flags, proto, csum, res1;

    if (!p || !h)
        return VPN_ERR_INVAL;
    memset(h, 0, sizeof *h);
    vpn_rd_init(&r, p, len);
    vpn_rd_u16(&r, &flags);
    vpn_rd_u16(&r, &proto);
    if (vpn_rd_err(&r))
        return VPN_ERR_TRUNCATED;
    if ((flags & GRE_DISCARD) || (flags & GRE_VER) != 0)
        return VPN_ERR_MALFORMED;
    h->proto = proto;
    h->has_csum = (flags & GRE_C) != 0;
    h->has_key = (flags & GRE_K) != 0;
    h->has_seq = (flags & GRE_S) != 0;
    if (h->has_csum) {
        vpn_rd_u16(&r, &csum);
        vpn_rd_u16(&r, &res1);
    }
    if (h->has_key)
        vpn_rd_u32(&r, &h->key);
    if (h->has_seq)
        vpn_rd_u32(&r, &h->seq);
    if (vpn_rd_err(&r)) {
        memset(h, 0, sizeof *h);
        return VPN_ERR_TRUNCATED;
    }
    return (int)r.off;
}

int vpn_gre_decap(vpn_pkt *pkt, vpn_gre_hdr *h)
{
    int n;

    if (!pkt || !h)
        return VPN_ERR_INVAL;
    n = vpn_gre_peek(vpn_pkt_data(pkt), pkt->len, h);
    if (n < 0)
        return n;
    if (h->has_csum && vpn_ip_csum(vpn_pkt_data(pkt), pkt->len) != 0)
        return VPN_ERR_AUTH;
    vpn_pkt_pull(pkt, (size_t)n);
    return 0;
}

/* ---- tunnels -------------------------------------------------------------------- */

struct vpn_gre_peer {
    vpn_addr addr;
    uint32_t tx_seq;
    uint32_t rx_seq;
    bool rx_valid;
    vpn_gre_stats stats;
    vpn_gre_peer *next;
};

struct vpn_gre_tunnel {
    vpn_gre_tunnel_config cfg;
    vpn_gre_peer **buckets;
    size_t nbuckets, npeers;
    vpn_gre_peer *p2p;   /* the remote, for point-to-point tunnels */
    uint16_t ip_id;
    vpn_gre_stats stats;
};

static size_t addr_hash(const vpn_addr *a, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < vpn_addr_len(a); i++) {
        h ^= a->b[i];
        h *= 0x100000001b3ull;
    }
    return (size_t)(h ^ h >> 32) & (n - 1);
}

int vpn_gre_tunnel_new(vpn_gre_tunnel **out, const vpn_gre_tunnel_config *cfg)
{
    vpn_gre_tunnel *t;

    if (!out || !cfg || (cfg->local.family != VPN_AF_INET && cfg->local.family != VPN_AF_INET6))
        return VPN_ERR_INVAL;
    if (cfg->remote.family != VPN_AF_NONE && cfg->remote.family != cfg->local.family)
        return VPN_ERR_INVAL;
    if (cfg->tos != VPN_GRE_TOS_COPY && (cfg->tos < 0 || cfg->tos > 255))
        return VPN_ERR_INVAL;
    *out = NULL;
    t = calloc(1, sizeof *t);
    if (!t)
        return VPN_ERR_NOMEM;
    t->cfg = *cfg;
    if (!t->cfg.ttl)
        t->cfg.ttl = 255;
    if (cfg->remote.family != VPN_AF_NONE && vpn_gre_peer_add(t, &cfg->remote, &t->p2p) != 0) {
        vpn_gre_tunnel_del(t);
        return VPN_ERR_NOMEM;
    }
    *out = t;
    return 0;
}

void vpn_gre_tunnel_del(vpn_gre_tunnel *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nbuckets; i++) {
        for (vpn_gre_peer *p = t->buckets[i]; p;) {
            vpn_gre_peer *nx = p->next;
            free(p);
            p = nx;
        }
    }
    free(t->buckets);
    free(t);
}

const vpn_gre_tunnel_config *vpn_gre_tunnel_get_config(const vpn_gre_tunnel *t)
{
    return t ? &t->cfg : NULL;
}

const vpn_gre_stats *vpn_gre_tunnel_get_stats(const vpn_gre_tunnel *t)
{
    return t ? &t->stats : NULL;
}

void vpn_gre_tunnel_stats_get(const vpn_gre_tunnel *t, vpn_gre_stats *out)
{
    if (out == NULL)
        return;
    if (t == NULL)
        memset(out, 0, sizeof *out);
    else
        *out = t->stats;
}

vpn_gre_peer *vpn_gre_peer_find(const vpn_gre_tunnel *t, const vpn_addr *nbma)
{
    if (!t || !nbma || !t->nbuckets)
        return NULL;
    for (vpn_gre_peer *p = t->buckets[addr_hash(nbma, t->nbuckets)]; p; p = p->next)
        if (vpn_addr_eq(&p->addr, nbma))
            return p;
    return NULL;
}

int vpn_gre_peer_add(vpn_gre_tunnel *t, const vpn_addr *nbma, vpn_gre_peer **out)
{
    vpn_gre_peer *p;
    size_t h;

    if (!t || !nbma || nbma->family != t->cfg.local.family)
        return VPN_ERR_INVAL;
    if (vpn_gre_peer_find(t, nbma))
        return VPN_ERR_EXISTS;
    if (t->npeers + 1 > t->nbuckets) {
        size_t n = t->nbuckets ? t->nbuckets * 2 : 16;
        vpn_gre_peer **b = calloc(n, sizeof *b);
        if (!b)
            return VPN_ERR_NOMEM;
        for (size_t i = 0; i < t->nbuckets; i++) {
            for (vpn_gre_peer *q = t->buckets[i]; q;) {
                vpn_gre_peer *nx = q->next;
                size_t k = addr_hash(&q->addr, n);
                q->next = b[k];
                b[k] = q;
                q = nx;
            }
        }
        free(t->buckets);
        t->buckets = b;
        t->nbuckets = n;
    }
    p = calloc(1, sizeof *p);
    if (!p)
        return VPN_ERR_NOMEM;
    p->addr = *nbma;
    h = addr_hash(nbma, t->nbuckets);
    p->next = t->buckets[h];
    t->buckets[h] = p;
    t->npeers++;
    if (out)
        *out = p;
    return 0;
}

int vpn_gre_peer_remove(vpn_gre_tunnel *t, vpn_gre_peer *p)
{
    vpn_gre_peer **pp;

    if (!t || !p || !t->nbuckets || p == t->p2p)
        return VPN_ERR_NOTFOUND;
    for (pp = &t->buckets[addr_hash(&p->addr, t->nbuckets)]; *pp && *pp != p; pp = &(*pp)->next)
        ;
    if (!*pp)
        return VPN_ERR_NOTFOUND;
    *pp = p->next;
    t->npeers--;
    free(p);
    return 0;
}

size_t vpn_gre_peer_count(const vpn_gre_tunnel *t)
{
    return t ? t->npeers : 0;
}

const vpn_addr *vpn_gre_peer_addr(const vpn_gre_peer *p)
{
    return p ? &p->addr : NULL;
}

const vpn_gre_stats *vpn_gre_peer_get_stats(const vpn_gre_peer *p)
{
    return p ? &p->stats : NULL;
}

void vpn_gre_peer_stats_get(const vpn_gre_peer *p, vpn_gre_stats *out)
{
    if (out == NULL)
        return;
    if (p == NULL)
        memset(out, 0, sizeof *out);
    else
        *out = p->stats;
}

static bool is_ip_proto(uint16_t proto)
{
    return proto == VPN_GRE_PROTO_IPV4 || proto == VPN_GRE_PROTO_IPV6;
}

int vpn_gre_tunnel_encap(vpn_gre_tunnel *t, vpn_gre_peer *peer, vpn_pkt *pkt, uint16_t proto)
{
    vpn_gre_hdr g;
    vpn_ip_hdr h;
    size_t outer, payload_len;
    uint8_t *ip;

    if (!t || !pkt || pkt->off + pkt->len > pkt->cap)
        return VPN_ERR_INVAL;
    if (!peer)
        peer = t->p2p;
    if (!peer)
        return VPN_ERR_INVAL;
    memset(&h, 0, sizeof h);
    if (t->cfg.tos == VPN_GRE_TOS_COPY) {
        /* DSCP copied, ECN per RFC 6040 normal mode: the inner byte as is. */
        vpn_ip_info in;
        if (is_ip_proto(proto) && vpn_ip_parse(vpn_pkt_data(pkt), pkt->len, &in) == 0)
            h.tos = in.tos;
    } else {
        h.tos = (uint8_t)t->cfg.tos;
    }
    memset(&g, 0, sizeof g);
    g.proto = proto;
    g.has_csum = t->cfg.csum;
    g.has_key = t->cfg.has_key;
    g.key = t->cfg.key;
    g.has_seq = t->cfg.seq;
    g.seq = peer->tx_seq; /* RFC 2890 2.2: the first packet carries 0 */
    outer = vpn_ip_hdr_len(t->cfg.local.family);
    payload_len = pkt->len;
    if (pkt->len + vpn_gre_hdr_len(&g) + outer > 65535) {
        t->stats.err[VPN_GRE_ERR_NOSPACE]++;
        return VPN_ERR_OVERFLOW;
    }
    if (vpn_pkt_headroom(pkt) < vpn_gre_hdr_len(&g) + outer) {
        t->stats.err[VPN_GRE_ERR_NOSPACE]++;
        return VPN_ERR_NOSPACE;
    }
    vpn_gre_encap(pkt, &g);
    h.src = t->cfg.local;
    h.dst = peer->addr;
    h.proto = VPN_IPPROTO_GRE;
    h.ttl = t->cfg.ttl;
    h.id = t->ip_id++;
    ip = vpn_pkt_push(pkt, outer);
    vpn_ip_hdr_write(ip, &h, pkt->len - outer);
    if (t->cfg.seq)
        peer->tx_seq++;
    peer->stats.pkts_out++;
    peer->stats.bytes_out += payload_len;
    t->stats.pkts_out++;
    t->stats.bytes_out += payload_len;
    return 0;
}

static int rx_err(vpn_gre_tunnel *t, vpn_gre_peer *p, vpn_gre_err kind, int err)
{
    t->stats.err[kind]++;
    if (p)
        p->stats.err[kind]++;
    return err;
}

int vpn_gre_tunnel_decap(vpn_gre_tunnel *t, vpn_pkt *pkt, vpn_gre_rx *rx)
{
    vpn_ip_info ip;
    vpn_gre_hdr g;
    vpn_gre_peer *peer;
    size_t saved_off, saved_len;
    int n, rc;

    if (!t || !pkt || !rx || pkt->off + pkt->len > pkt->cap)
        return VPN_ERR_INVAL;
    memset(rx, 0, sizeof *rx);
    rc = vpn_ip_parse(vpn_pkt_data(pkt), pkt->len, &ip);
    if (rc)
        return rx_err(t, NULL, VPN_GRE_ERR_MALFORMED, rc);
    if (ip.proto != VPN_IPPROTO_GRE || !vpn_addr_eq(&ip.dst, &t->cfg.local))
        return VPN_ERR_NOTFOUND;
    n = vpn_gre_peek(vpn_pkt_data(pkt) + ip.hdr_len, ip.total_len - ip.hdr_len, &g);
    if (n < 0)
        return rx_err(t, NULL, VPN_GRE_ERR_MALFORMED, n);
    /* RFC 2890 2.1: the key tells tunnels apart; a mismatch is not ours. */
    if (g.has_key != t->cfg.has_key || (g.has_key && g.key != t->cfg.key))
        return VPN_ERR_NOTFOUND;
    if (ip.frag)
        return rx_err(t, NULL, VPN_GRE_ERR_MALFORMED, VPN_ERR_UNSUPPORTED);
    peer = vpn_gre_peer_find(t, &ip.src);
    if (t->p2p && peer != t->p2p)
        return rx_err(t, NULL, VPN_GRE_ERR_PEER, VPN_ERR_POLICY);

    saved_off = pkt->off;
    saved_len = pkt->len;
    vpn_pkt_trim(pkt, ip.total_len);
    vpn_pkt_pull(pkt, ip.hdr_len);
    rc = vpn_gre_decap(pkt, &g);
    if (rc) {
        pkt->off = saved_off;
        pkt->len = saved_len;
        return rx_err(t, peer, rc == VPN_ERR_AUTH ? VPN_GRE_ERR_CSUM : VPN_GRE_ERR_MALFORMED, rc);
    }
    /* RFC 2890 2.2: with sequencing on, drop what is not newer than the last
     * packet from this peer (serial arithmetic). Unknown mGRE peers (not yet
     * registered) cannot be tracked. */
    if (t->cfg.seq) {
        if (!g.has_seq || (peer && peer->rx_valid && (int32_t)(g.seq - peer->rx_seq) <= 0)) {
            pkt->off = saved_off;
            pkt->len = saved_len;
            return rx_err(t, peer, VPN_GRE_ERR_SEQ, VPN_ERR_REPLAY);
        }
    }
    if (is_ip_proto(g.proto)) {
        /* RFC 6040 4.2 for IP payloads. */
        vpn_ip_info in;
        uint8_t ecn;
        if (vpn_ip_parse(vpn_pkt_data(pkt), pkt->len, &in) == 0) {
            if (vpn_ecn_decap(in.tos & 3, ip.tos & 3, &ecn) != 0) {
                pkt->off = saved_off;
                pkt->len = saved_len;
                return rx_err(t, peer, VPN_GRE_ERR_ECN, VPN_ERR_POLICY);
            }
            if (ecn != (in.tos & 3))
                vpn_ip_tos_set(vpn_pkt_data(pkt), (uint8_t)((in.tos & 0xfc) | ecn));
        }
    }
    if (t->cfg.seq && peer) {
        peer->rx_seq = g.seq;
        peer->rx_valid = true;
    }
    rx->proto = g.proto;
    rx->peer = peer;
    rx->src = ip.src;
    rx->hdr = g;
    t->stats.pkts_in++;
    t->stats.bytes_in += pkt->len;
    if (peer) {
        peer->stats.pkts_in++;
        peer->stats.bytes_in += pkt->len;
    }
    return 0;
}
