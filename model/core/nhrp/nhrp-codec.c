/* NHRP (RFC 2332) packet codec; see nhrp-codec.h for the layouts. */
#include "nhrp/nhrp-codec.h"

#include <string.h>

#include "common/vpn-err.h"
#include "common/wire.h"
#include "ipsec/ip.h"

#define TL_LEN_MASK 0x3f
#define TL_RESERVED 0xc0 /* 0x80 reserved, 0x40 E.164: IP addresses use NSAP form */

uint16_t vpn_nhrp_checksum(const uint8_t *p, size_t len)
{
    /* RFC 2332 5.2.0.1: the IP checksum (RFC 1071) over the whole packet. */
    return vpn_ip_csum(p, len);
}

const char *vpn_nhrp_type_name(uint8_t type)
{
    static const char *const names[] = {
        "Unknown", "Resolution Request", "Resolution Reply", "Registration Request",
        "Registration Reply", "Purge Request", "Purge Reply", "Error Indication",
        "Traffic Indication",
    };
    return type <= VPN_NHRP_TYPE_MAX ? names[type] : names[0];
}

/* ---- decoding ------------------------------------------------------------------ */

typedef struct dec {
    uint8_t nbma_family; /* VPN_AF_* from ar$afn */
    uint8_t proto_family;
    size_t nbma_len, proto_len;
} dec;

static int perr_set(vpn_nhrp_perr *perr, uint16_t code, size_t off, int err)
{
    if (perr) {
        perr->code = code;
        perr->offset = (uint16_t)off;
    }
    return err;
}

/* An address of n octets (0 = absent) in the given family. */
static int rd_addr(vpn_rd *r, size_t n, uint8_t family, vpn_addr *a)
{
    uint8_t raw[16];
    memset(a, 0, sizeof(*a));
    if (n == 0)
        return 0;
    if (n != (family == VPN_AF_INET6 ? 16u : 4u))
        return vpn_rd_fail(r, VPN_ERR_UNSUPPORTED);
    if (vpn_rd_bytes(r, raw, n))
        return vpn_rd_err(r);
    return vpn_addr_from_bytes(a, raw, n);
}

/* 5.2.0.3: one client information entry. */
static int rd_cie(vpn_rd *r, const dec *d, vpn_nhrp_cie *c)
{
    uint8_t atl, satl, plen;
    uint16_t unused;
    memset(c, 0, sizeof(*c));
    vpn_rd_u8(r, &c->code);
    vpn_rd_u8(r, &c->prefix_len);
    vpn_rd_u16(r, &unused);
    vpn_rd_u16(r, &c->mtu);
    vpn_rd_u16(r, &c->holding_time);
    vpn_rd_u8(r, &atl);
    vpn_rd_u8(r, &satl);
    vpn_rd_u8(r, &plen);
    vpn_rd_u8(r, &c->pref);
    if (vpn_rd_err(r))
        return vpn_rd_err(r);
    if ((atl & TL_RESERVED) || (satl & TL_LEN_MASK) != 0)
        return vpn_rd_fail(r, VPN_ERR_UNSUPPORTED);
    if ((atl & TL_LEN_MASK) && (atl & TL_LEN_MASK) != d->nbma_len)
        return vpn_rd_fail(r, VPN_ERR_MALFORMED);
    if (plen && plen != d->proto_len)
        return vpn_rd_fail(r, VPN_ERR_MALFORMED);
    if (rd_addr(r, atl & TL_LEN_MASK, d->nbma_family, &c->nbma))
        return vpn_rd_err(r);
    if (rd_addr(r, plen, d->proto_family, &c->proto))
        return vpn_rd_err(r);
    if (c->prefix_len > (d->proto_family == VPN_AF_INET6 ? 128 : 32) && c->prefix_len != 0xff)
        return vpn_rd_fail(r, VPN_ERR_MALFORMED);
    return 0;
}

/* CIEs until the reader is empty. */
static int rd_cie_list(vpn_rd *r, const dec *d, vpn_nhrp_cie *out, size_t max, size_t *n)
{
    *n = 0;
    while (vpn_rd_left(r) > 0) {
        if (*n == max)
            return vpn_rd_fail(r, VPN_ERR_UNSUPPORTED);
        if (vpn_rd_left(r) < 12)
            return vpn_rd_fail(r, VPN_ERR_MALFORMED);
        if (rd_cie(r, d, &out[*n]))
            return vpn_rd_err(r);
        (*n)++;
    }
    return vpn_rd_err(r);
}

/* 5.3: the extension part, from ar$extoff to ar$pktsz. */
static int rd_extensions(vpn_rd *r, size_t base, const dec *d, vpn_nhrp_msg *m,
                         vpn_nhrp_perr *perr)
{
    bool seen[16] = {false};
    for (;;) {
        size_t at = base + r->off;
        uint16_t tc, len;
        vpn_rd sub;
        if (vpn_rd_left(r) == 0)
            return perr_set(perr, VPN_NHRP_ERR_PROTOCOL, at, VPN_ERR_MALFORMED); /* no End */
        vpn_rd_u16(r, &tc);
        vpn_rd_u16(r, &len);
        if (vpn_rd_err(r) || vpn_rd_sub(r, &sub, len))
            return perr_set(perr, VPN_NHRP_ERR_PROTOCOL, at, VPN_ERR_MALFORMED);
        uint16_t type = tc & 0x3fff;
        bool compulsory = (tc & VPN_NHRP_EXT_COMPULSORY) != 0;
        if (type < 16) {
            if (seen[type])
                return perr_set(perr, VPN_NHRP_ERR_INVALID_EXT, at, VPN_ERR_MALFORMED);
            seen[type] = true;
        }
        int err = 0;
        switch (type) {
        case VPN_NHRP_EXT_END:
            /* The End extension is empty and last (5.3.0). */
            if (len != 0 || vpn_rd_left(r) != 0)
                return perr_set(perr, VPN_NHRP_ERR_PROTOCOL, at, VPN_ERR_MALFORMED);
            return 0;
        case VPN_NHRP_EXT_RESPONDER: {
            size_t n = 0;
            m->has_responder = true;
            err = rd_cie_list(&sub, d, &m->responder, 1, &n);
            m->responder_set = n == 1;
            break;
        }
        case VPN_NHRP_EXT_FWD_RECORD:
            m->has_fwd = true;
            err = rd_cie_list(&sub, d, m->fwd, VPN_NHRP_MAX_RECORDS, &m->n_fwd);
            break;
        case VPN_NHRP_EXT_REV_RECORD:
            m->has_rev = true;
            err = rd_cie_list(&sub, d, m->rev, VPN_NHRP_MAX_RECORDS, &m->n_rev);
            break;
        case VPN_NHRP_EXT_AUTH: {
            uint16_t reserved;
            m->has_auth = true;
            vpn_rd_u16(&sub, &reserved);
            vpn_rd_u16(&sub, &m->auth_spi);
            m->auth_len = vpn_rd_left(&sub);
            if (vpn_rd_err(&sub) || m->auth_len > VPN_NHRP_AUTH_MAX)
                err = VPN_ERR_MALFORMED;
            else
                vpn_rd_view(&sub, &m->auth, m->auth_len);
            break;
        }
        case VPN_NHRP_EXT_VENDOR:
            m->has_vendor = true;
            vpn_rd_u24(&sub, &m->vendor_oui);
            m->vendor_len = vpn_rd_left(&sub);
            vpn_rd_view(&sub, &m->vendor, m->vendor_len);
            err = vpn_rd_err(&sub) ? VPN_ERR_MALFORMED : 0;
            break;
        default:
            /* 5.3: unknown and compulsory -> drop and report; else ignore. */
            if (compulsory)
                return perr_set(perr, VPN_NHRP_ERR_UNRECOGNIZED_EXT, at, VPN_ERR_MALFORMED);
            break;
        }
        if (err)
            return perr_set(perr, VPN_NHRP_ERR_PROTOCOL, at,
                            err == VPN_ERR_UNSUPPORTED ? VPN_ERR_UNSUPPORTED : VPN_ERR_MALFORMED);
    }
}

static int decode(const uint8_t *buf, size_t len, vpn_nhrp_msg *m, vpn_nhrp_perr *perr)
{
    vpn_rd r, mand;
    uint8_t snap[5], version, shtl, sstl, src_len, dst_len;
    uint16_t pktsz, csum, extoff;
    dec d;

    vpn_rd_init(&r, buf, len);
    vpn_rd_u16(&r, &m->afn);
    vpn_rd_u16(&r, &m->pro_type);
    vpn_rd_bytes(&r, snap, sizeof(snap));
    vpn_rd_u8(&r, &m->hopcnt);
    vpn_rd_u16(&r, &pktsz);
    vpn_rd_u16(&r, &csum);
    vpn_rd_u16(&r, &extoff);
    vpn_rd_u8(&r, &version);
    vpn_rd_u8(&r, &m->type);
    vpn_rd_u8(&r, &shtl);
    vpn_rd_u8(&r, &sstl);
    if (vpn_rd_err(&r))
        return VPN_ERR_TRUNCATED;
    (void)csum;
    /* 5.2.0.1 */
    if (pktsz < VPN_NHRP_FIXED_LEN)
        return perr_set(perr, 0, 10, VPN_ERR_MALFORMED);
    if (pktsz > len)
        return VPN_ERR_TRUNCATED;
    if (vpn_nhrp_checksum(buf, pktsz) != 0)
        return VPN_ERR_AUTH; /* a corrupted packet is dropped silently */
    if (version != VPN_NHRP_VERSION)
        return perr_set(perr, VPN_NHRP_ERR_PROTOCOL, 16, VPN_ERR_UNSUPPORTED);
    if (m->type < 1 || m->type > VPN_NHRP_TYPE_MAX)
        return perr_set(perr, VPN_NHRP_ERR_PROTOCOL, 17, VPN_ERR_UNSUPPORTED);
    if (snap[0] | snap[1] | snap[2] | snap[3] | snap[4])
        return perr_set(perr, VPN_NHRP_ERR_PROTOCOL, 4, VPN_ERR_MALFORMED);
    if (extoff != 0 && (extoff < VPN_NHRP_FIXED_LEN || extoff > pktsz))
        return perr_set(perr, VPN_NHRP_ERR_PROTOCOL, 12, VPN_ERR_MALFORMED);
    if (extoff != 0 && m->type == VPN_NHRP_ERROR_IND)
        return perr_set(perr, 0, 12, VPN_ERR_MALFORMED); /* 5.2.7 */

    memset(&d, 0, sizeof(d));
    switch (m->afn) {
    case VPN_NHRP_AFN_IPV4: d.nbma_family = VPN_AF_INET; d.nbma_len = 4; break;
    case VPN_NHRP_AFN_IPV6: d.nbma_family = VPN_AF_INET6; d.nbma_len = 16; break;
    default: return perr_set(perr, VPN_NHRP_ERR_PROTOCOL, 0, VPN_ERR_UNSUPPORTED);
    }
    switch (m->pro_type) {
    case VPN_NHRP_PRO_IPV4: d.proto_family = VPN_AF_INET; d.proto_len = 4; break;
    case VPN_NHRP_PRO_IPV6: d.proto_family = VPN_AF_INET6; d.proto_len = 16; break;
    default: return perr_set(perr, VPN_NHRP_ERR_PROTOCOL, 2, VPN_ERR_UNSUPPORTED);
    }
    if ((shtl & TL_RESERVED) || (sstl & TL_LEN_MASK) != 0)
        return perr_set(perr, VPN_NHRP_ERR_PROTOCOL, 18, VPN_ERR_UNSUPPORTED);
    if ((shtl & TL_LEN_MASK) && (shtl & TL_LEN_MASK) != d.nbma_len)
        return perr_set(perr, VPN_NHRP_ERR_PROTOCOL, 18, VPN_ERR_MALFORMED);

    /* 5.2.0.2: the mandatory part runs to ar$extoff (or the end). */
    size_t mand_end = extoff ? extoff : pktsz;
    vpn_rd_init(&r, buf, pktsz);
    vpn_rd_skip(&r, VPN_NHRP_FIXED_LEN);
    if (vpn_rd_sub(&r, &mand, mand_end - VPN_NHRP_FIXED_LEN))
        return perr_set(perr, VPN_NHRP_ERR_PROTOCOL, 12, VPN_ERR_MALFORMED);
    vpn_rd_u8(&mand, &src_len);
    vpn_rd_u8(&mand, &dst_len);
    if (m->type == VPN_NHRP_ERROR_IND) {
        uint16_t unused;
        vpn_rd_u16(&mand, &unused);
        vpn_rd_u16(&mand, &m->err_code);
        vpn_rd_u16(&mand, &m->err_offset);
    } else if (m->type == VPN_NHRP_TRAFFIC_IND) {
        uint16_t unused;
        vpn_rd_u16(&mand, &unused);
        vpn_rd_u16(&mand, &m->traffic_code);
        vpn_rd_u16(&mand, &unused);
    } else {
        vpn_rd_u16(&mand, &m->flags);
        vpn_rd_u32(&mand, &m->req_id);
    }
    if (vpn_rd_err(&mand))
        return perr_set(perr, VPN_NHRP_ERR_PROTOCOL, VPN_NHRP_FIXED_LEN, VPN_ERR_TRUNCATED);
    if ((src_len && src_len != d.proto_len) || (dst_len && dst_len != d.proto_len))
        return perr_set(perr, VPN_NHRP_ERR_PROTOCOL, VPN_NHRP_FIXED_LEN, VPN_ERR_MALFORMED);
    rd_addr(&mand, shtl & TL_LEN_MASK, d.nbma_family, &m->src_nbma);
    rd_addr(&mand, src_len, d.proto_family, &m->src_proto);
    rd_addr(&mand, dst_len, d.proto_family, &m->dst_proto);
    if (vpn_rd_err(&mand))
        return perr_set(perr, VPN_NHRP_ERR_PROTOCOL, VPN_NHRP_FIXED_LEN + 8, vpn_rd_err(&mand));
    if (m->type == VPN_NHRP_ERROR_IND || m->type == VPN_NHRP_TRAFFIC_IND) {
        m->payload_len = vpn_rd_left(&mand);
        vpn_rd_view(&mand, &m->payload, m->payload_len);
    } else {
        size_t at = VPN_NHRP_FIXED_LEN + mand.off;
        int err = rd_cie_list(&mand, &d, m->cie, VPN_NHRP_MAX_CIES, &m->n_cie);
        if (err)
            return perr_set(perr, VPN_NHRP_ERR_PROTOCOL, at,
                            err == VPN_ERR_TRUNCATED ? VPN_ERR_MALFORMED : err);
    }
    if (extoff == 0)
        return 0;
    m->has_ext = true;
    vpn_rd ext;
    vpn_rd_init(&ext, buf + extoff, pktsz - extoff);
    return rd_extensions(&ext, extoff, &d, m, perr);
}

int vpn_nhrp_decode(const uint8_t *buf, size_t len, vpn_nhrp_msg *m, vpn_nhrp_perr *perr)
{
    if (perr)
        memset(perr, 0, sizeof(*perr));
    if (!m)
        return VPN_ERR_INVAL;
    memset(m, 0, sizeof(*m));
    if (!buf)
        return VPN_ERR_INVAL;
    int err = decode(buf, len, m, perr);
    if (err)
        memset(m, 0, sizeof(*m));
    return err;
}

/* ---- encoding ------------------------------------------------------------------ */

typedef struct enc {
    uint8_t nbma_family, proto_family;
} enc;

static bool fam_ok(const vpn_addr *a, uint8_t family)
{
    return a->family == VPN_AF_NONE || a->family == family;
}

static int wr_addr(vpn_wr *w, const vpn_addr *a)
{
    return vpn_wr_bytes(w, a->b, vpn_addr_len(a));
}

static int wr_cie(vpn_wr *w, const enc *e, const vpn_nhrp_cie *c)
{
    if (!fam_ok(&c->nbma, e->nbma_family) || !fam_ok(&c->proto, e->proto_family))
        return VPN_ERR_INVAL;
    vpn_wr_u8(w, c->code);
    vpn_wr_u8(w, c->prefix_len);
    vpn_wr_u16(w, 0);
    vpn_wr_u16(w, c->mtu);
    vpn_wr_u16(w, c->holding_time);
    vpn_wr_u8(w, (uint8_t)vpn_addr_len(&c->nbma));
    vpn_wr_u8(w, 0);
    vpn_wr_u8(w, (uint8_t)vpn_addr_len(&c->proto));
    vpn_wr_u8(w, c->pref);
    wr_addr(w, &c->nbma);
    wr_addr(w, &c->proto);
    return vpn_wr_err(w);
}

static int wr_ext_cies(vpn_wr *w, const enc *e, uint16_t type, const vpn_nhrp_cie *c, size_t n)
{
    size_t pos, from = vpn_wr_len(w);
    vpn_wr_u16(w, VPN_NHRP_EXT_COMPULSORY | type);
    vpn_wr_len_reserve(w, 2, &pos);
    for (size_t i = 0; i < n; i++) {
        int err = wr_cie(w, e, &c[i]);
        if (err)
            return err;
    }
    /* The length counts the value only, not the 4-octet header. */
    return vpn_wr_len_patch(w, pos, 2, from + 4);
}

int vpn_nhrp_encode(const vpn_nhrp_msg *m, uint8_t *buf, size_t cap, size_t *out_len)
{
    vpn_wr w;
    enc e;
    if (!m || !buf || !out_len || m->type < 1 || m->type > VPN_NHRP_TYPE_MAX)
        return VPN_ERR_INVAL;
    if (m->n_cie > VPN_NHRP_MAX_CIES || m->n_fwd > VPN_NHRP_MAX_RECORDS ||
        m->n_rev > VPN_NHRP_MAX_RECORDS || m->auth_len > VPN_NHRP_AUTH_MAX)
        return VPN_ERR_INVAL;
    if (m->has_ext && m->type == VPN_NHRP_ERROR_IND)
        return VPN_ERR_INVAL; /* 5.2.7 */
    uint16_t afn = m->afn ? m->afn
                          : (m->src_nbma.family == VPN_AF_INET6 ? VPN_NHRP_AFN_IPV6 : VPN_NHRP_AFN_IPV4);
    uint16_t pro = m->pro_type;
    if (!pro) {
        uint8_t f = m->src_proto.family ? m->src_proto.family : m->dst_proto.family;
        pro = f == VPN_AF_INET6 ? VPN_NHRP_PRO_IPV6 : VPN_NHRP_PRO_IPV4;
    }
    if ((afn != VPN_NHRP_AFN_IPV4 && afn != VPN_NHRP_AFN_IPV6) ||
        (pro != VPN_NHRP_PRO_IPV4 && pro != VPN_NHRP_PRO_IPV6))
        return VPN_ERR_INVAL;
    e.nbma_family = afn == VPN_NHRP_AFN_IPV6 ? VPN_AF_INET6 : VPN_AF_INET;
    e.proto_family = pro == VPN_NHRP_PRO_IPV6 ? VPN_AF_INET6 : VPN_AF_INET;
    if (!fam_ok(&m->src_nbma, e.nbma_family) || !fam_ok(&m->src_proto, e.proto_family) ||
        !fam_ok(&m->dst_proto, e.proto_family))
        return VPN_ERR_INVAL;

    vpn_wr_init(&w, buf, cap);
    /* 5.2.0.1 fixed header; pktsz, checksum and extoff patched below. */
    vpn_wr_u16(&w, afn);
    vpn_wr_u16(&w, pro);
    vpn_wr_zero(&w, 5);
    vpn_wr_u8(&w, m->hopcnt);
    vpn_wr_zero(&w, 6);
    vpn_wr_u8(&w, VPN_NHRP_VERSION);
    vpn_wr_u8(&w, m->type);
    vpn_wr_u8(&w, (uint8_t)vpn_addr_len(&m->src_nbma));
    vpn_wr_u8(&w, 0);
    /* 5.2.0.2 */
    vpn_wr_u8(&w, (uint8_t)vpn_addr_len(&m->src_proto));
    vpn_wr_u8(&w, (uint8_t)vpn_addr_len(&m->dst_proto));
    if (m->type == VPN_NHRP_ERROR_IND) {
        vpn_wr_u16(&w, 0);
        vpn_wr_u16(&w, m->err_code);
        vpn_wr_u16(&w, m->err_offset);
    } else if (m->type == VPN_NHRP_TRAFFIC_IND) {
        vpn_wr_u16(&w, 0);
        vpn_wr_u16(&w, m->traffic_code);
        vpn_wr_u16(&w, 0);
    } else {
        vpn_wr_u16(&w, m->flags);
        vpn_wr_u32(&w, m->req_id);
    }
    wr_addr(&w, &m->src_nbma);
    wr_addr(&w, &m->src_proto);
    wr_addr(&w, &m->dst_proto);
    if (m->type == VPN_NHRP_ERROR_IND || m->type == VPN_NHRP_TRAFFIC_IND) {
        if (m->payload_len && !m->payload)
            return VPN_ERR_INVAL;
        vpn_wr_bytes(&w, m->payload, m->payload_len);
    } else {
        for (size_t i = 0; i < m->n_cie; i++) {
            int err = wr_cie(&w, &e, &m->cie[i]);
            if (err)
                return err;
        }
    }
    size_t extoff = 0;
    if (m->has_ext) {
        int err = 0;
        extoff = vpn_wr_len(&w);
        if (m->has_responder)
            err = wr_ext_cies(&w, &e, VPN_NHRP_EXT_RESPONDER, &m->responder, m->responder_set ? 1 : 0);
        if (!err && m->has_fwd)
            err = wr_ext_cies(&w, &e, VPN_NHRP_EXT_FWD_RECORD, m->fwd, m->n_fwd);
        if (!err && m->has_rev)
            err = wr_ext_cies(&w, &e, VPN_NHRP_EXT_REV_RECORD, m->rev, m->n_rev);
        if (err)
            return err;
        if (m->has_vendor) {
            if (m->vendor_len && !m->vendor)
                return VPN_ERR_INVAL;
            vpn_wr_u16(&w, VPN_NHRP_EXT_VENDOR);
            vpn_wr_u16(&w, (uint16_t)(3 + m->vendor_len));
            vpn_wr_u24(&w, m->vendor_oui);
            vpn_wr_bytes(&w, m->vendor, m->vendor_len);
        }
        if (m->has_auth) {
            if (m->auth_len && !m->auth)
                return VPN_ERR_INVAL;
            vpn_wr_u16(&w, VPN_NHRP_EXT_COMPULSORY | VPN_NHRP_EXT_AUTH);
            vpn_wr_u16(&w, (uint16_t)(4 + m->auth_len));
            vpn_wr_u16(&w, 0);
            vpn_wr_u16(&w, m->auth_spi);
            vpn_wr_bytes(&w, m->auth, m->auth_len);
        }
        vpn_wr_u16(&w, VPN_NHRP_EXT_COMPULSORY | VPN_NHRP_EXT_END);
        vpn_wr_u16(&w, 0);
    }
    if (vpn_wr_err(&w))
        return vpn_wr_err(&w);
    size_t len = vpn_wr_len(&w);
    if (len > 0xffff)
        return VPN_ERR_NOSPACE;
    vpn_store16(buf + 10, (uint16_t)len);
    vpn_store16(buf + 14, (uint16_t)extoff);
    vpn_store16(buf + 12, 0);
    vpn_store16(buf + 12, vpn_nhrp_checksum(buf, len));
    *out_len = len;
    return 0;
}
