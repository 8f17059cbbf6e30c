#include "ipsec/esp.h"

#include <string.h>

#include "common/vpn-err.h"
#include "common/wire.h"
#include "ipsec/ip.h"
#include "ipsec/natt.h"
#include "ipsec/sa-priv.h"

static const uint8_t zero_block[16];

int vpn_esp_overhead(const vpn_sa *sa, uint8_t inner_family, size_t *head, size_t *tail)
{
    uint8_t fam;

    if (!sa || (inner_family != VPN_AF_INET && inner_family != VPN_AF_INET6))
        return VPN_ERR_INVAL;
    fam = sa->cfg.mode == VPN_ESP_TUNNEL ? sa->cfg.local.family : inner_family;
    if (head)
        *head = (sa->cfg.mode == VPN_ESP_TRANSPORT ? 0 : vpn_ip_hdr_len(fam)) +
                (sa->cfg.udp_encap ? VPN_UDP_HDR_LEN : 0) + VPN_ESP_HDR_LEN + sa->iv_len;
    if (tail)
        *tail = (sa->cfg.tbar_window_ms ? VPN_TBAR_BLOCK_LEN : 0) + sa->blk - 1 + 2 + sa->icv_len;
    return 0;
}

int vpn_esp_shape_of(const vpn_sa *sa, vpn_esp_shape *out)
{
    if (!sa || !out)
        return VPN_ERR_INVAL;
    memset(out, 0, sizeof *out);
    out->encr_id = sa->cfg.encr_id;
    out->encr_key_bits = sa->cfg.encr_key_bits;
    out->integ_id = sa->cfg.integ_id;
    out->mode = sa->cfg.mode;
    /* Tunnel mode adds a header of the endpoints' family; transport mode
     * keeps the packet's, which is theirs too. Address-preserving SAs have
     * no endpoints: IPv4 is assumed. */
    out->outer_family = sa->cfg.local.family != VPN_AF_NONE ? sa->cfg.local.family : VPN_AF_INET;
    out->udp_encap = sa->cfg.udp_encap;
    out->tbar = sa->cfg.mode != VPN_ESP_TRANSPORT && sa->cfg.tbar_window_ms != 0;
    return 0;
}

/* The parts of an ESP packet around the padded payload under s: fixed
 * bytes outside the encrypted part (outer header in tunnel modes, UDP, ESP
 * header, IV, ICV), the IP header transport mode keeps, the padding block,
 * and the fixed trailer bytes (TFC block, pad length, next header). */
typedef struct esp_sizes {
    size_t fixed, kept, blk, trailer;
} esp_sizes;

static int shape_sizes(const vpn_esp_shape *s, esp_sizes *z)
{
    const vpn_cipher_info *ci;
    const vpn_integ_info *ii = NULL;
    size_t ip;
    bool tunnel;

    if (!s || (s->outer_family != VPN_AF_INET && s->outer_family != VPN_AF_INET6) ||
        (s->mode != VPN_ESP_TUNNEL && s->mode != VPN_ESP_TRANSPORT &&
         s->mode != VPN_ESP_TUNNEL_ADDR_PRESERVE && s->mode != VPN_ESP_TUNNEL_ADDR_PRESERVE_DST))
        return VPN_ERR_INVAL;
    if (vpn_cipher_lookup(s->encr_id, s->encr_key_bits, &ci) != 0)
        return VPN_ERR_UNSUPPORTED;
    if (!ci->aead && s->integ_id != VPN_INTEG_NONE && vpn_integ_lookup(s->integ_id, &ii) != 0)
        return VPN_ERR_UNSUPPORTED;
    tunnel = s->mode != VPN_ESP_TRANSPORT;
    ip = vpn_ip_hdr_len(s->outer_family);
    /* As vpn_esp_encap and vpn_sad_add size them (RFC 4303 2.4 padding). */
    z->blk = ci->block_len < 4 ? 4 : ci->block_len;
    z->kept = tunnel ? 0 : ip;
    z->fixed = (tunnel ? ip : 0) + (s->udp_encap ? VPN_UDP_HDR_LEN : 0) + VPN_ESP_HDR_LEN +
               ci->iv_len + (ci->aead ? ci->icv_len : ii ? ii->icv_len : 0);
    z->trailer = (tunnel && s->tbar ? VPN_TBAR_BLOCK_LEN : 0) + 2;
    return 0;
}

int vpn_esp_max_overhead(const vpn_esp_shape *s, size_t *bytes)
{
    esp_sizes z;
    int rc = shape_sizes(s, &z);

    if (rc)
        return rc;
    if (!bytes)
        return VPN_ERR_INVAL;
    *bytes = z.fixed + z.blk - 1 + z.trailer;
    return 0;
}

int vpn_esp_max_input(const vpn_esp_shape *s, size_t outer_mtu, size_t *max_len)
{
    esp_sizes z;
    size_t room, body;
    int rc = shape_sizes(s, &z);

    if (rc)
        return rc;
    if (!max_len)
        return VPN_ERR_INVAL;
    if (outer_mtu > 65535)
        outer_mtu = 65535;
    /* The encrypted part (body, trailer, padding) is whole blocks. */
    if (outer_mtu < z.kept + z.fixed)
        return VPN_ERR_NOSPACE;
    room = (outer_mtu - z.kept - z.fixed) / z.blk * z.blk;
    if (room < z.trailer)
        return VPN_ERR_NOSPACE;
    body = room - z.trailer;
    /* Tunnel mode carries the whole packet, which needs its own header. */
    if (z.kept == 0 && body < vpn_ip_hdr_len(VPN_AF_INET))
        return VPN_ERR_NOSPACE;
    *max_len = z.kept + body;
    return 0;
}

int vpn_esp_tunnel_mtu(const vpn_esp_shape *s, size_t wan_mtu, size_t gre_hdr_len, size_t *mtu)
{
    size_t max_in, wrap;
    int rc;

    if (!mtu)
        return VPN_ERR_INVAL;
    rc = vpn_esp_max_input(s, wan_mtu, &max_in);
    if (rc)
        return rc;
    /* GRE/IPsec: ESP protects the GRE packet (its own IP header, GRE, the
     * inner packet), in transport mode ("permit 47") or tunnel mode. */
    wrap = gre_hdr_len ? vpn_ip_hdr_len(s->outer_family) + gre_hdr_len : 0;
    if (max_in < wrap + vpn_ip_hdr_len(VPN_AF_INET))
        return VPN_ERR_NOSPACE;
    *mtu = max_in - wrap;
    return 0;
}

/* RFC 4303 3.3.2 / RFC 4106 3.1 / RFC 6054 3: see esp.h. */
static int make_iv(vpn_sa *sa, uint64_t seq, uint8_t *iv)
{
    if (sa->iv_len == 0)
        return 0;
    if (sa->cfg.iv_mode == VPN_SA_IV_RANDOM)
        return vpn_rng_bytes(&sa->sad->rng, iv, sa->iv_len);
    if (sa->ci->id == VPN_ENCR_AES_CBC) {
        /* One CBC block under a zero IV is one raw block encryption. */
        memcpy(iv, sa->cbc_salt, 8);
        vpn_store32(iv + 8, (uint32_t)(seq >> 32));
        vpn_store32(iv + 12, (uint32_t)seq);
        return vpn_cipher_encrypt(sa->enc, zero_block, iv, 16);
    }
    if (sa->cfg.sender_id_bits)
        seq |= (uint64_t)sa->cfg.sender_id << (64 - sa->cfg.sender_id_bits);
    vpn_store32(iv, (uint32_t)(seq >> 32));
    vpn_store32(iv + 4, (uint32_t)seq);
    return 0;
}

/* AAD for combined-mode algorithms: SPI || [seq high] || seq low
 * (RFC 4106 5, RFC 7634 2.1). Returns its length. */
static size_t make_aad(const vpn_sa *sa, uint64_t seq, uint8_t aad[12])
{
    vpn_store32(aad, sa->cfg.spi);
    if (sa->cfg.esn) {
        vpn_store32(aad + 4, (uint32_t)(seq >> 32));
        vpn_store32(aad + 8, (uint32_t)seq);
        return 12;
    }
    vpn_store32(aad + 4, (uint32_t)seq);
    return 8;
}

static int out_drop(vpn_sa *sa, vpn_sa_err kind, int err)
{
    return vpn_sa_drop(sa->sad, sa, sa->cfg.spi, kind, false, err);
}

int vpn_esp_encap(vpn_sa *sa, vpn_pkt *pkt, uint64_t now)
{
    vpn_ip_info in;
    bool tunnel, udp;
    uint8_t nh, fam = 0;
    size_t inner_len, hl = 0, body, tfc, pad, trailer, esp_hdr, outer_len = 0, need_head, total;
    uint8_t *esp, *payload, *t, *icv;
    size_t payload_len;
    uint64_t seq;
    int rc;

    if (!sa || !pkt || !(sa->cfg.dir & VPN_SA_OUT) || pkt->off + pkt->len > pkt->cap)
        return VPN_ERR_INVAL;
    rc = vpn_ip_parse(vpn_pkt_data(pkt), pkt->len, &in);
    if (rc)
        return out_drop(sa, VPN_SA_ERR_PROTO, rc);
    tunnel = sa->cfg.mode != VPN_ESP_TRANSPORT;
    udp = sa->cfg.udp_encap;
    if (!tunnel && in.frag)
        return out_drop(sa, VPN_SA_ERR_PROTO, VPN_ERR_UNSUPPORTED);
    rc = vpn_sa_life_check(sa, tunnel ? in.total_len : in.total_len - in.hdr_len, now);
    if (rc)
        return out_drop(sa, VPN_SA_ERR_EXPIRED, rc);
    if (sa->stats.seq_out >= sa->seq_max) {
        vpn_sa_fire(sa, VPN_SA_EV_HARD, VPN_SA_LIMIT_SEQ, now);
        return out_drop(sa, VPN_SA_ERR_SEQ_OVERFLOW, VPN_ERR_OVERFLOW);
    }

    inner_len = in.total_len;
    if (tunnel) {
        nh = in.version == 4 ? VPN_IPPROTO_IPIP : VPN_IPPROTO_IPV6;
        body = inner_len;
        fam = sa->cfg.mode == VPN_ESP_TUNNEL ? sa->cfg.local.family : in.version;
        outer_len = vpn_ip_hdr_len(fam);
    } else {
        nh = in.proto;
        hl = in.hdr_len;
        body = inner_len - hl;
    }
    /* RFC 4303 2.4: pad so that the payload, pad length and next header end
     * on the cipher's block size (and on 4 bytes). */
    tfc = tunnel && sa->cfg.tbar_window_ms ? VPN_TBAR_BLOCK_LEN : 0;
    pad = (sa->blk - (body + tfc + 2) % sa->blk) % sa->blk;
    trailer = tfc + pad + 2;
    esp_hdr = VPN_ESP_HDR_LEN + sa->iv_len;
    need_head = outer_len + (udp ? VPN_UDP_HDR_LEN : 0) + esp_hdr;
    total = inner_len + need_head + trailer + sa->icv_len;
    if (total > 65535)
        return out_drop(sa, VPN_SA_ERR_NOSPACE, VPN_ERR_OVERFLOW);
    /* Room is judged as if link padding were gone; nothing changes yet. */
    if (vpn_pkt_headroom(pkt) < need_head ||
        pkt->cap - pkt->off - inner_len < trailer + sa->icv_len)
        return out_drop(sa, VPN_SA_ERR_NOSPACE, VPN_ERR_NOSPACE);
    vpn_pkt_trim(pkt, inner_len);

    seq = ++sa->stats.seq_out;

    /* Trailer: [pseudotime block] padding 1, 2, 3, ... pad length, next header. */
    t = vpn_pkt_put(pkt, trailer);
    if (tfc) {
        vpn_tbar_block_write(t, vpn_tbar_now_ms(&sa->tbar, now));
        t += tfc;
    }
    for (size_t i = 0; i < pad; i++)
        t[i] = (uint8_t)(i + 1);
    t[pad] = (uint8_t)pad;
    t[pad + 1] = nh;

    if (tunnel) {
        esp = vpn_pkt_push(pkt, esp_hdr);
    } else {
        /* Open a gap for [UDP] ESP header and IV after the IP header. */
        uint8_t *old = vpn_pkt_data(pkt);
        size_t gap = esp_hdr + (udp ? VPN_UDP_HDR_LEN : 0);
        uint8_t *ip = vpn_pkt_push(pkt, gap);
        memmove(ip, old, hl);
        esp = ip + hl + (udp ? VPN_UDP_HDR_LEN : 0);
    }
    payload = esp + esp_hdr;
    payload_len = body + trailer;
    vpn_store32(esp, sa->cfg.spi);
    vpn_store32(esp + 4, (uint32_t)seq);
    rc = make_iv(sa, seq, esp + VPN_ESP_HDR_LEN);
    if (rc)
        return out_drop(sa, VPN_SA_ERR_INTERNAL, rc);

    icv = vpn_pkt_put(pkt, sa->icv_len);
    if (sa->ci->aead) {
        uint8_t aad[12];
        size_t aad_len = make_aad(sa, seq, aad);
        rc = vpn_cipher_seal(sa->enc, esp + VPN_ESP_HDR_LEN, aad, aad_len, payload, payload_len, icv);
    } else {
        rc = vpn_cipher_encrypt(sa->enc, esp + VPN_ESP_HDR_LEN, payload, payload_len);
        if (rc == 0 && sa->integ) {
            /* RFC 4303 2.8 / 3.3.2.2: the ICV covers ESP header, IV and
             * ciphertext, plus the implicit high sequence bits with ESN. */
            uint8_t hi[4];
            vpn_iov iov[2] = {{esp, esp_hdr + payload_len}, {hi, 4}};
            vpn_store32(hi, (uint32_t)(seq >> 32));
            rc = vpn_integ_compute(sa->integ, iov, sa->cfg.esn ? 2 : 1, icv);
        }
    }
    if (rc)
        return out_drop(sa, VPN_SA_ERR_INTERNAL, rc);

    if (tunnel) {
        vpn_ip_hdr h;
        uint8_t *ip;
        size_t esp_total = pkt->len;
        if (udp) {
            uint8_t *u = vpn_pkt_push(pkt, VPN_UDP_HDR_LEN);
            vpn_udp_hdr_write(u, sa->cfg.udp_sport, sa->cfg.udp_dport, esp_total);
        }
        memset(&h, 0, sizeof h);
        if (sa->cfg.mode == VPN_ESP_TUNNEL) {
            h.src = sa->cfg.local;
            h.dst = sa->cfg.remote;
        } else if (sa->cfg.mode == VPN_ESP_TUNNEL_ADDR_PRESERVE_DST) {
            h.src = sa->cfg.local;
            h.dst = in.dst;
        } else {
            h.src = in.src;
            h.dst = in.dst;
        }
        h.proto = udp ? VPN_IPPROTO_UDP : VPN_IPPROTO_ESP;
        h.tos = (uint8_t)(((sa->cfg.dscp == VPN_SA_DSCP_COPY ? in.tos >> 2 : sa->cfg.dscp) << 2) |
                          vpn_ecn_encap(in.tos, sa->cfg.ecn_compat));
        h.ttl = sa->cfg.ttl;
        h.df = sa->cfg.df == VPN_SA_DF_SET || (sa->cfg.df == VPN_SA_DF_COPY && in.version == 4 && in.df);
        h.id = sa->ip_id++;
        ip = vpn_pkt_push(pkt, outer_len);
        vpn_ip_hdr_write(ip, &h, pkt->len - outer_len);
        if (udp && fam == VPN_AF_INET6)
            vpn_udp_csum6(ip, outer_len, pkt->len - outer_len);
    } else {
        uint8_t *ip = vpn_pkt_data(pkt);
        ip[in.nh_off] = udp ? VPN_IPPROTO_UDP : VPN_IPPROTO_ESP;
        if (udp)
            vpn_udp_hdr_write(ip + hl, sa->cfg.udp_sport, sa->cfg.udp_dport,
                              pkt->len - hl - VPN_UDP_HDR_LEN);
        if (in.version == 4) {
            vpn_store16(ip + 2, (uint16_t)pkt->len);
            vpn_ip4_csum_set(ip);
        } else {
            vpn_store16(ip + 4, (uint16_t)(pkt->len - 40));
            if (udp)
                vpn_udp_csum6(ip, hl, pkt->len - hl);
        }
    }

    sa->stats.pkts_out++;
    sa->stats.bytes_out += body;
    vpn_sa_life_account(sa, body, now);
    if (seq >= sa->seq_max)
        vpn_sa_fire(sa, VPN_SA_EV_HARD, VPN_SA_LIMIT_SEQ, now);
    else if (seq >= sa->seq_soft)
        vpn_sa_fire(sa, VPN_SA_EV_SOFT, VPN_SA_LIMIT_SEQ, now);
    return 0;
}

/* ---- inbound ------------------------------------------------------------------------ */

static bool addr_in_range(const vpn_addr *a, const vpn_addr *lo, const vpn_addr *hi)
{
    size_t n = vpn_addr_len(lo);
    return a->family == lo->family && memcmp(a->b, lo->b, n) >= 0 && memcmp(a->b, hi->b, n) <= 0;
}

static bool port_in(bool has, uint16_t p, uint16_t lo, uint16_t hi)
{
    if ((lo == 0 && hi == 0) || (lo == 0 && hi == 65535))
        return true;
    return has && p >= lo && p <= hi;
}

/* RFC 4301 5.2 step 4: the inner packet must match the SA's selectors. */
static bool selectors_match(const vpn_sa *sa, const vpn_ip_info *in)
{
    if (sa->cfg.n_ts == 0)
        return true;
    for (size_t i = 0; i < sa->cfg.n_ts; i++) {
        const vpn_ts *t = &sa->ts[i];
        if (t->proto && t->proto != in->proto)
            continue;
        if (t->src_lo.family && !addr_in_range(&in->src, &t->src_lo, &t->src_hi))
            continue;
        if (t->dst_lo.family && !addr_in_range(&in->dst, &t->dst_lo, &t->dst_hi))
            continue;
        if (!port_in(in->has_ports, in->sport, t->sport_lo, t->sport_hi) ||
            !port_in(in->has_ports, in->dport, t->dport_lo, t->dport_hi))
            continue;
        return true;
    }
    return false;
}

static int in_drop(vpn_sa *sa, uint32_t spi, vpn_sa_err kind, int err)
{
    return vpn_sa_drop(sa->sad, sa, spi, kind, true, err);
}

int vpn_esp_decap_payload(vpn_sad *sad, vpn_pkt *pkt, const vpn_esp_outer *outer, uint64_t now,
                          vpn_esp_rx *rx)
{
    vpn_rd r;
    uint32_t spi, seql;
    vpn_sa *sa;
    uint8_t *data, *iv, *payload, *icv;
    size_t len, payload_len, dlen, padlen;
    uint64_t seq;
    uint8_t nh;
    int rc;

    if (!sad || !pkt || !outer || !rx || pkt->off + pkt->len > pkt->cap)
        return VPN_ERR_INVAL;
    memset(rx, 0, sizeof *rx);
    rx->outer = *outer;
    data = vpn_pkt_data(pkt);
    len = pkt->len;

    vpn_rd_init(&r, data, len);
    vpn_rd_u32(&r, &spi);
    vpn_rd_u32(&r, &seql);
    if (vpn_rd_err(&r)) {
        sad->stats.malformed++;
        return vpn_sad_drop(sad, spi, "truncated ESP header", VPN_ERR_TRUNCATED);
    }
    sa = vpn_sad_lookup(sad, spi, &outer->dst);
    if (!sa || !(sa->cfg.dir & VPN_SA_IN)) {
        sad->stats.no_sa++;
        return vpn_sad_drop(sad, spi, "unknown SPI", VPN_ERR_NOTFOUND);
    }
    rc = vpn_sa_life_check(sa, len, now);
    if (rc)
        return in_drop(sa, spi, VPN_SA_ERR_EXPIRED, rc);

    /* RFC 4303 3.4.2 / 2.4: room for IV, trailer and ICV, whole blocks. */
    if (len < VPN_ESP_HDR_LEN + sa->iv_len + 2 + sa->icv_len)
        return in_drop(sa, spi, VPN_SA_ERR_TRUNC, VPN_ERR_TRUNCATED);
    payload_len = len - VPN_ESP_HDR_LEN - sa->iv_len - sa->icv_len;
    if (payload_len % (sa->ci->aead ? 4 : sa->blk) != 0)
        return in_drop(sa, spi, VPN_SA_ERR_TRUNC, VPN_ERR_MALFORMED);

    /* RFC 4303 3.4.3: check the window before spending effort on the ICV. */
    rc = vpn_replay_check(&sa->replay, seql, &seq);
    if (rc)
        return in_drop(sa, spi, VPN_SA_ERR_REPLAY, rc);

    iv = data + VPN_ESP_HDR_LEN;
    payload = iv + sa->iv_len;
    icv = payload + payload_len;
    if (sa->ci->aead) {
        uint8_t aad[12];
        size_t aad_len = make_aad(sa, seq, aad);
        rc = vpn_cipher_open(sa->dec, iv, aad, aad_len, payload, payload_len, icv);
    } else {
        rc = 0;
        if (sa->integ) {
            /* RFC 4303 3.4.4.1: verify before decrypting. */
            uint8_t hi[4];
            vpn_iov iov[2] = {{data, VPN_ESP_HDR_LEN + sa->iv_len + payload_len}, {hi, 4}};
            vpn_store32(hi, (uint32_t)(seq >> 32));
            rc = vpn_integ_verify(sa->integ, iov, sa->cfg.esn ? 2 : 1, icv);
        }
        if (rc == 0)
            rc = vpn_cipher_decrypt(sa->dec, iv, payload, payload_len);
    }
    if (rc == VPN_ERR_AUTH)
        return in_drop(sa, spi, VPN_SA_ERR_AUTH, rc);
    if (rc)
        return in_drop(sa, spi, VPN_SA_ERR_INTERNAL, rc);

    /* RFC 7296 2.23: a NAT peer-follow may only be triggered by a packet
     * newer than every one verified before it, not merely one the window
     * has not seen: a held-back authentic packet from the old address
     * would otherwise move the SA back. Judged before the window moves. */
    rx->newest = seq > sa->replay.top;
    /* Authentic: now, and only now, the window moves (RFC 4303 3.4.3). */
    rc = vpn_replay_update(&sa->replay, seq);
    if (rc)
        return in_drop(sa, spi, VPN_SA_ERR_REPLAY, rc);
    if (seq > sa->stats.seq_in)
        sa->stats.seq_in = seq;
    rx->sa = sa;
    rx->seq = seq;

    /* RFC 4303 2.4 - 2.6: pad length, next header, default padding 1, 2, ... */
    padlen = payload[payload_len - 2];
    nh = payload[payload_len - 1];
    rx->next_header = nh;
    if (padlen + 2 > payload_len)
        return in_drop(sa, spi, VPN_SA_ERR_PAD, VPN_ERR_MALFORMED);
    dlen = payload_len - 2 - padlen;
    for (size_t i = 0; i < padlen; i++)
        if (payload[dlen + i] != (uint8_t)(i + 1))
            return in_drop(sa, spi, VPN_SA_ERR_PAD, VPN_ERR_MALFORMED);
    if (nh == VPN_IPPROTO_NONE) {
        rx->verdict = VPN_ESP_DUMMY;
        pkt->off = (size_t)(payload - pkt->buf);
        pkt->len = 0;
        return 0;
    }

    if (sa->cfg.mode != VPN_ESP_TRANSPORT) {
        vpn_ip_info in;
        uint8_t ecn;
        if (nh != VPN_IPPROTO_IPIP && nh != VPN_IPPROTO_IPV6)
            return in_drop(sa, spi, VPN_SA_ERR_PROTO, VPN_ERR_MALFORMED);
        rc = vpn_ip_parse(payload, dlen, &in);
        if (rc || (nh == VPN_IPPROTO_IPIP) != (in.version == 4))
            return in_drop(sa, spi, VPN_SA_ERR_PROTO, VPN_ERR_MALFORMED);
        /* Anything after the inner packet is TFC padding (RFC 4303 2.7). */
        if (sa->cfg.tbar_window_ms) {
            uint64_t pt;
            if (vpn_tbar_block_read(payload + in.total_len, dlen - in.total_len, &pt) != 0 ||
                vpn_tbar_check(&sa->tbar, now, pt) != 0)
                return in_drop(sa, spi, VPN_SA_ERR_TBAR, VPN_ERR_REPLAY);
            rx->has_pseudotime = true;
            rx->pseudotime_ms = pt;
        }
        /* RFC 6040 4.2: fold the outer ECN field into the inner one. */
        if (vpn_ecn_decap(in.tos & 3, outer->tos & 3, &ecn) != 0)
            return in_drop(sa, spi, VPN_SA_ERR_ECN, VPN_ERR_POLICY);
        if (ecn != (in.tos & 3))
            vpn_ip_tos_set(payload, (uint8_t)((in.tos & 0xfc) | ecn));
        if (!selectors_match(sa, &in))
            return in_drop(sa, spi, VPN_SA_ERR_SELECTOR, VPN_ERR_POLICY);
        dlen = in.total_len;
    } else {
        vpn_ip_info in;
        memset(&in, 0, sizeof in);
        in.src = outer->src;
        in.dst = outer->dst;
        in.proto = nh;
        vpn_ip_parse_ports(&in, payload, dlen);
        if (!selectors_match(sa, &in))
            return in_drop(sa, spi, VPN_SA_ERR_SELECTOR, VPN_ERR_POLICY);
    }
    pkt->off = (size_t)(payload - pkt->buf);
    pkt->len = dlen;
    rx->verdict = VPN_ESP_DELIVER;
    sa->stats.pkts_in++;
    sa->stats.bytes_in += dlen;
    vpn_sa_life_account(sa, dlen, now);
    return 0;
}

int vpn_esp_decap(vpn_sad *sad, vpn_pkt *pkt, uint64_t now, vpn_esp_rx *rx)
{
    vpn_ip_info ip;
    vpn_esp_outer outer;
    size_t ip_off, hl;
    int rc;

    if (!sad || !pkt || !rx || pkt->off + pkt->len > pkt->cap)
        return VPN_ERR_INVAL;
    memset(rx, 0, sizeof *rx);
    rc = vpn_ip_parse(vpn_pkt_data(pkt), pkt->len, &ip);
    if (rc) {
        sad->stats.malformed++;
        return vpn_sad_drop(sad, 0, "malformed outer IP header", rc);
    }
    if (ip.frag) {
        sad->stats.malformed++;
        return vpn_sad_drop(sad, 0, "fragment (reassemble first)", VPN_ERR_UNSUPPORTED);
    }
    vpn_pkt_trim(pkt, ip.total_len);
    memset(&outer, 0, sizeof outer);
    outer.src = ip.src;
    outer.dst = ip.dst;
    outer.tos = ip.tos;
    hl = ip.hdr_len;
    ip_off = pkt->off;

    if (ip.proto == VPN_IPPROTO_UDP) {
        vpn_rd r;
        uint16_t ulen, csum;
        vpn_natt_kind kind;

        vpn_rd_init(&r, vpn_pkt_data(pkt) + hl, pkt->len - hl);
        vpn_rd_u16(&r, &outer.sport);
        vpn_rd_u16(&r, &outer.dport);
        vpn_rd_u16(&r, &ulen);
        vpn_rd_u16(&r, &csum);
        if (vpn_rd_err(&r) || ulen < VPN_UDP_HDR_LEN || ulen > pkt->len - hl) {
            sad->stats.malformed++;
            return vpn_sad_drop(sad, 0, "malformed UDP header", VPN_ERR_MALFORMED);
        }
        if (outer.dport != VPN_NATT_PORT) {
            sad->stats.not_esp++;
            return vpn_sad_drop(sad, 0, "not ESP", VPN_ERR_UNSUPPORTED);
        }
        vpn_pkt_trim(pkt, hl + ulen);
        outer.udp = true;
        kind = vpn_natt_classify(vpn_pkt_data(pkt) + hl + VPN_UDP_HDR_LEN, ulen - VPN_UDP_HDR_LEN);
        if (kind == VPN_NATT_KEEPALIVE || kind == VPN_NATT_IKE) {
            rx->outer = outer;
            rx->verdict = kind == VPN_NATT_IKE ? VPN_ESP_IKE : VPN_ESP_KEEPALIVE;
            if (kind == VPN_NATT_IKE)
                vpn_pkt_pull(pkt, hl + VPN_UDP_HDR_LEN + VPN_NATT_MARKER_LEN);
            return 0;
        }
        if (kind != VPN_NATT_ESP) {
            sad->stats.malformed++;
            return vpn_sad_drop(sad, 0, "runt UDP-encapsulated packet", VPN_ERR_TRUNCATED);
        }
        vpn_pkt_pull(pkt, hl + VPN_UDP_HDR_LEN);
    } else if (ip.proto == VPN_IPPROTO_ESP) {
        vpn_pkt_pull(pkt, hl);
    } else {
        sad->stats.not_esp++;
        return vpn_sad_drop(sad, 0, "not ESP", VPN_ERR_UNSUPPORTED);
    }

    rc = vpn_esp_decap_payload(sad, pkt, &outer, now, rx);
    if (rc || rx->verdict != VPN_ESP_DELIVER || rx->sa->cfg.mode != VPN_ESP_TRANSPORT)
        return rc;

    /* Transport mode: put the IP header back in front of the payload, naming
     * the payload's protocol and the new length (RFC 4303 3.4.4.2). */
    {
        uint8_t *dst = vpn_pkt_data(pkt) - hl;
        memmove(dst, pkt->buf + ip_off, hl);
        pkt->off -= hl;
        pkt->len += hl;
        dst[ip.nh_off] = rx->next_header;
        if (ip.version == 4) {
            vpn_store16(dst + 2, (uint16_t)pkt->len);
            vpn_ip4_csum_set(dst);
        } else {
            vpn_store16(dst + 4, (uint16_t)(pkt->len - 40));
        }
    }
    return 0;
}
