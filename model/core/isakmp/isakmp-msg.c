#include "isakmp/isakmp-msg.h"

#include <string.h>

#include "common/vpn-err.h"
#include "isakmp/gdoi-codec.h"
#include "isakmp/isakmp-build.h"
#include "isakmp/isakmp-policy.h"

/* A short read inside a body whose length its container vouched for is a
 * malformed body, not a truncated datagram. */
static int inner(int rc)
{
    return rc == VPN_ERR_TRUNCATED ? VPN_ERR_MALFORMED : rc;
}

/* Reads n RESERVED octets, which must be zero (see the header comment). */
static int rd_reserved(vpn_rd *r, size_t n)
{
    const uint8_t *p;

    if (vpn_rd_view(r, &p, n))
        return VPN_ERR_MALFORMED;
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return vpn_rd_fail(r, VPN_ERR_MALFORMED);
    return 0;
}

static void set_perr(vpn_isakmp_perr *perr, uint16_t notify, uint8_t payload, size_t off)
{
    if (perr) {
        perr->notify = notify;
        perr->payload = payload;
        perr->offset = off;
    }
}

/* ---- header (RFC 2408 3.1) ---------------------------------------------- */

int vpn_isakmp_hdr_parse(const uint8_t *buf, size_t len, vpn_isakmp_hdr *out)
{
    vpn_isakmp_hdr h;
    vpn_rd r;

    if (buf == NULL || len < VPN_ISAKMP_HDR_LEN)
        return VPN_ERR_TRUNCATED;
    vpn_rd_init(&r, buf, len);
    vpn_rd_bytes(&r, h.icookie, sizeof h.icookie);
    vpn_rd_bytes(&r, h.rcookie, sizeof h.rcookie);
    vpn_rd_u8(&r, &h.next_payload);
    vpn_rd_u8(&r, &h.version);
    vpn_rd_u8(&r, &h.exchange);
    vpn_rd_u8(&r, &h.flags);
    vpn_rd_u32(&r, &h.msg_id);
    vpn_rd_u32(&r, &h.length);
    if (vpn_rd_err(&r))
        return vpn_rd_err(&r);
    /* RFC 2408 5.1: version 1.0 only; 3.1: other flag bits must be zero. */
    if (h.version != VPN_ISAKMP_VERSION)
        return VPN_ERR_UNSUPPORTED;
    if (h.flags & ~VPN_ISAKMP_FLAGS_KNOWN)
        return VPN_ERR_MALFORMED;
    *out = h;
    return 0;
}

int vpn_isakmp_hdr_write(const vpn_isakmp_hdr *h, vpn_wr *w)
{
    if (vpn_wr_room(w) < VPN_ISAKMP_HDR_LEN) {
        if (w->err == 0)
            w->err = VPN_ERR_NOSPACE;
        return w->err;
    }
    vpn_wr_bytes(w, h->icookie, sizeof h->icookie);
    vpn_wr_bytes(w, h->rcookie, sizeof h->rcookie);
    vpn_wr_u8(w, h->next_payload);
    vpn_wr_u8(w, h->version);
    vpn_wr_u8(w, h->exchange);
    vpn_wr_u8(w, h->flags);
    vpn_wr_u32(w, h->msg_id);
    return vpn_wr_u32(w, h->length);
}

/* ---- payload chains (RFC 2408 3.2) -------------------------------------- */

void vpn_isakmp_chain_init(vpn_isakmp_chain *c, const uint8_t *p, size_t len, uint8_t first,
                           unsigned max)
{
    vpn_rd_init(&c->rd, p, len);
    c->next = first;
    c->count = 0;
    c->max = max;
}

int vpn_isakmp_chain_next(vpn_isakmp_chain *c, vpn_isakmp_payload *out)
{
    const uint8_t *start, *body;
    uint8_t next, rsv;
    uint16_t len;

    if (c->rd.err)
        return c->rd.err;
    if (c->next == VPN_ISAKMP_PL_NONE)
        return 0;
    if (c->count >= c->max)
        return vpn_rd_fail(&c->rd, VPN_ERR_LIMIT);
    start = vpn_rd_cur(&c->rd);
    vpn_rd_u8(&c->rd, &next);
    vpn_rd_u8(&c->rd, &rsv);
    vpn_rd_u16(&c->rd, &len);
    if (c->rd.err || rsv != 0 || len < VPN_ISAKMP_GEN_HDR_LEN ||
        vpn_rd_view(&c->rd, &body, len - VPN_ISAKMP_GEN_HDR_LEN)) {
        c->rd.err = VPN_ERR_MALFORMED;
        return c->rd.err;
    }
    out->type = c->next;
    out->next = next;
    out->raw = start;
    out->raw_len = len;
    out->body = body;
    out->body_len = (size_t)len - VPN_ISAKMP_GEN_HDR_LEN;
    c->next = next;
    c->count++;
    return 1;
}

/* ---- SA, proposals, transforms (RFC 2408 3.4-3.6) ---------------------- */

void vpn_isakmp_prop_iter_init(vpn_isakmp_chain *c, const vpn_isakmp_sa *sa)
{
    vpn_isakmp_chain_init(c, sa->chain.p, sa->chain.len,
                          sa->gdoi ? VPN_ISAKMP_PL_NONE : VPN_ISAKMP_PL_P,
                          VPN_ISAKMP_MAX_PROPOSALS);
}

int vpn_isakmp_prop_next(vpn_isakmp_chain *c, vpn_isakmp_prop *p)
{
    vpn_isakmp_payload pl;
    vpn_isakmp_prop out;
    uint8_t spi_size;
    vpn_rd r;
    int rc = vpn_isakmp_chain_next(c, &pl);

    if (rc != 1)
        return rc;
    /* RFC 2408 3.5: a proposal's next payload is 2 or 0. */
    if (pl.next != VPN_ISAKMP_PL_P && pl.next != VPN_ISAKMP_PL_NONE) {
        vpn_rd_fail(&c->rd, VPN_ERR_MALFORMED); /* sticky for later calls */
        return VPN_ERR_MALFORMED; /* not the reader's field: never 1 (an item) */
    }
    vpn_rd_init(&r, pl.body, pl.body_len);
    vpn_rd_u8(&r, &out.num);
    vpn_rd_u8(&r, &out.proto);
    vpn_rd_u8(&r, &spi_size);
    vpn_rd_u8(&r, &out.ntrans);
    vpn_rd_view(&r, &out.spi.p, spi_size);
    if (vpn_rd_err(&r)) {
        vpn_rd_fail(&c->rd, VPN_ERR_MALFORMED); /* sticky for later calls */
        return VPN_ERR_MALFORMED; /* not the reader's field: never 1 (an item) */
    }
    out.spi.len = spi_size;
    out.xforms.p = vpn_rd_cur(&r);
    out.xforms.len = vpn_rd_left(&r);
    *p = out;
    return 1;
}

void vpn_isakmp_xform_iter_init(vpn_isakmp_chain *c, const vpn_isakmp_prop *p)
{
    vpn_isakmp_chain_init(c, p->xforms.p, p->xforms.len, VPN_ISAKMP_PL_T,
                          VPN_ISAKMP_MAX_TRANSFORMS);
}

int vpn_isakmp_xform_next(vpn_isakmp_chain *c, vpn_isakmp_xform *x)
{
    vpn_isakmp_payload pl;
    vpn_isakmp_xform out;
    vpn_rd r;
    int rc = vpn_isakmp_chain_next(c, &pl);

    if (rc != 1)
        return rc;
    /* RFC 2408 3.6: a transform's next payload is 3 or 0. */
    if (pl.next != VPN_ISAKMP_PL_T && pl.next != VPN_ISAKMP_PL_NONE) {
        vpn_rd_fail(&c->rd, VPN_ERR_MALFORMED); /* sticky for later calls */
        return VPN_ERR_MALFORMED; /* not the reader's field: never 1 (an item) */
    }
    vpn_rd_init(&r, pl.body, pl.body_len);
    vpn_rd_u8(&r, &out.num);
    vpn_rd_u8(&r, &out.id);
    if (vpn_rd_err(&r) || rd_reserved(&r, 2)) {
        vpn_rd_fail(&c->rd, VPN_ERR_MALFORMED); /* sticky for later calls */
        return VPN_ERR_MALFORMED; /* not the reader's field: never 1 (an item) */
    }
    out.attrs.p = vpn_rd_cur(&r);
    out.attrs.len = vpn_rd_left(&r);
    *x = out;
    return 1;
}

/* Attributes of a transform, read in the space its proposal's protocol
 * selects (RFC 2409 appendix A for ISAKMP, RFC 2407 4.5 for AH/ESP). */
static int xform_attrs_check(uint8_t proto, const vpn_isakmp_view *attrs)
{
    if (proto == VPN_ISAKMP_PROTO_ISAKMP) {
        vpn_ikev1_sa_attrs a;
        return vpn_ikev1_sa_attrs_decode(attrs->p, attrs->len, &a);
    }
    if (proto == VPN_ISAKMP_PROTO_IPSEC_AH || proto == VPN_ISAKMP_PROTO_IPSEC_ESP) {
        vpn_ipsec_doi_attrs a;
        return vpn_ipsec_doi_attrs_decode(attrs->p, attrs->len, &a);
    }
    return vpn_isakmp_attrs_check(attrs->p, attrs->len);
}

static int proposals_check(const vpn_isakmp_sa *sa)
{
    vpn_isakmp_chain pc, xc;
    vpn_isakmp_prop p;
    vpn_isakmp_xform x;
    int rc;

    vpn_isakmp_prop_iter_init(&pc, sa);
    while ((rc = vpn_isakmp_prop_next(&pc, &p)) == 1) {
        unsigned n = 0;

        vpn_isakmp_xform_iter_init(&xc, &p);
        while ((rc = vpn_isakmp_xform_next(&xc, &x)) == 1) {
            n++;
            if ((rc = xform_attrs_check(p.proto, &x.attrs)))
                return rc;
        }
        if (rc < 0)
            return rc;
        /* RFC 2408 3.5: # of transforms must match, the chain fill the body. */
        if (n == 0 || n != p.ntrans || vpn_isakmp_chain_used(&xc) != p.xforms.len)
            return VPN_ERR_MALFORMED;
    }
    if (rc < 0)
        return rc;
    if (pc.count == 0 || vpn_isakmp_chain_used(&pc) != sa->chain.len)
        return VPN_ERR_MALFORMED;
    return 0;
}

static bool gdoi_exchange(uint8_t exchange)
{
    return exchange == VPN_GDOI_EXCH_PULL || exchange == VPN_GDOI_EXCH_PUSH;
}

int vpn_isakmp_sa_decode(const uint8_t *body, size_t len, uint8_t exchange, vpn_isakmp_sa *out)
{
    vpn_isakmp_sa sa = {0};
    vpn_rd r;
    int rc;

    vpn_rd_init(&r, body, len);
    vpn_rd_u32(&r, &sa.doi);
    vpn_rd_u32(&r, &sa.situation);
    if (vpn_rd_err(&r))
        return VPN_ERR_MALFORMED;
    if (sa.doi > VPN_ISAKMP_DOI_GDOI)
        return VPN_ERR_UNSUPPORTED;
    if (sa.doi == VPN_ISAKMP_DOI_GDOI && gdoi_exchange(exchange)) {
        uint16_t first;

        /* RFC 6407 5.2. */
        if (sa.situation != 0)
            return VPN_ERR_UNSUPPORTED;
        vpn_rd_u16(&r, &first);
        if (vpn_rd_err(&r) || rd_reserved(&r, 2) || first > 0xff)
            return VPN_ERR_MALFORMED;
        sa.gdoi = true;
        sa.first = (uint8_t)first;
        sa.chain.p = vpn_rd_cur(&r);
        sa.chain.len = vpn_rd_left(&r);
        rc = vpn_gdoi_sa_check(&sa);
    } else {
        /* RFC 2407 4.6.1: labelled situations carry more fields; we do
         * not implement them (SITUATION-NOT-SUPPORTED). */
        if (sa.doi == VPN_ISAKMP_DOI_IPSEC &&
            (sa.situation & ~(uint32_t)VPN_IPSEC_DOI_SIT_IDENTITY_ONLY))
            return VPN_ERR_UNSUPPORTED;
        sa.chain.p = vpn_rd_cur(&r);
        sa.chain.len = vpn_rd_left(&r);
        rc = proposals_check(&sa);
    }
    if (rc)
        return inner(rc);
    *out = sa;
    return 0;
}

/* ---- ID, CERT, CERTREQ, Notify, Delete ---------------------------------- */

/* RFC 2407 4.6.2.2-4.6.2.12: fixed sizes of the address forms. */
int vpn_isakmp_id_data_check(uint8_t t, size_t len)
{
    size_t want = 0;

    switch (t) {
    case 0: return VPN_ERR_MALFORMED; /* RESERVED */
    case VPN_ISAKMP_ID_IPV4_ADDR: want = 4; break;
    case VPN_ISAKMP_ID_IPV4_ADDR_SUBNET:
    case VPN_ISAKMP_ID_IPV4_ADDR_RANGE: want = 8; break;
    case VPN_ISAKMP_ID_IPV6_ADDR: want = 16; break;
    case VPN_ISAKMP_ID_IPV6_ADDR_SUBNET:
    case VPN_ISAKMP_ID_IPV6_ADDR_RANGE: want = 32; break;
    default: return len >= 1 ? 0 : VPN_ERR_MALFORMED;
    }
    return len == want ? 0 : VPN_ERR_MALFORMED;
}

int vpn_isakmp_id_decode(const uint8_t *body, size_t len, vpn_isakmp_id *out)
{
    vpn_isakmp_id id;
    vpn_rd r;

    vpn_rd_init(&r, body, len);
    vpn_rd_u8(&r, &id.type);
    vpn_rd_u8(&r, &id.proto);
    vpn_rd_u16(&r, &id.port);
    if (vpn_rd_err(&r))
        return VPN_ERR_MALFORMED;
    id.data.p = vpn_rd_cur(&r);
    id.data.len = vpn_rd_left(&r);
    if (vpn_isakmp_id_data_check(id.type, id.data.len))
        return VPN_ERR_MALFORMED;
    *out = id;
    return 0;
}

int vpn_isakmp_cert_decode(uint8_t type, const uint8_t *body, size_t len, vpn_isakmp_cert *out)
{
    if (len < 1 || (type == VPN_ISAKMP_PL_CERT && len < 2))
        return VPN_ERR_MALFORMED;
    out->enc = body[0];
    out->data.p = body + 1;
    out->data.len = len - 1;
    return 0;
}

int vpn_isakmp_notify_decode(const uint8_t *body, size_t len, vpn_isakmp_notify *out)
{
    vpn_isakmp_notify n;
    uint8_t spi_size;
    vpn_rd r;

    vpn_rd_init(&r, body, len);
    vpn_rd_u32(&r, &n.doi);
    vpn_rd_u8(&r, &n.proto);
    vpn_rd_u8(&r, &spi_size);
    vpn_rd_u16(&r, &n.type);
    vpn_rd_view(&r, &n.spi.p, spi_size);
    if (vpn_rd_err(&r))
        return VPN_ERR_MALFORMED;
    n.spi.len = spi_size;
    n.data.p = vpn_rd_cur(&r);
    n.data.len = vpn_rd_left(&r);
    *out = n;
    return 0;
}

int vpn_isakmp_delete_decode(const uint8_t *body, size_t len, vpn_isakmp_delete *out)
{
    vpn_isakmp_delete d;
    vpn_rd r;

    vpn_rd_init(&r, body, len);
    vpn_rd_u32(&r, &d.doi);
    vpn_rd_u8(&r, &d.proto);
    vpn_rd_u8(&r, &d.spi_size);
    vpn_rd_u16(&r, &d.nspi);
    if (vpn_rd_err(&r) || d.spi_size == 0 || d.nspi == 0 ||
        vpn_rd_left(&r) != (size_t)d.nspi * d.spi_size)
        return VPN_ERR_MALFORMED;
    d.spis.p = vpn_rd_cur(&r);
    d.spis.len = vpn_rd_left(&r);
    *out = d;
    return 0;
}

const uint8_t *vpn_isakmp_delete_spi(const vpn_isakmp_delete *d, unsigned i)
{
    if (i >= d->nspi)
        return NULL;
    return d->spis.p + (size_t)i * d->spi_size;
}

/* RFC 3947 5.2 NAT-OA: ID type, RESERVED (3), an IPv4 or IPv6 address. */
static int nat_oa_check(const uint8_t *body, size_t len)
{
    vpn_rd r;
    uint8_t t;

    vpn_rd_init(&r, body, len);
    vpn_rd_u8(&r, &t);
    if (vpn_rd_err(&r) || rd_reserved(&r, 3))
        return VPN_ERR_MALFORMED;
    if (t == VPN_ISAKMP_ID_IPV4_ADDR && vpn_rd_left(&r) == 4)
        return 0;
    if (t == VPN_ISAKMP_ID_IPV6_ADDR && vpn_rd_left(&r) == 16)
        return 0;
    return VPN_ERR_MALFORMED;
}

static bool top_level_type(uint8_t t, uint8_t exchange)
{
    if (t == VPN_GDOI_PL_COOP)
        return exchange == VPN_GDOI_EXCH_COOP; /* private use, ours only there */
    switch (t) {
    case VPN_ISAKMP_PL_SA:
    case VPN_ISAKMP_PL_KE:
    case VPN_ISAKMP_PL_ID:
    case VPN_ISAKMP_PL_CERT:
    case VPN_ISAKMP_PL_CR:
    case VPN_ISAKMP_PL_HASH:
    case VPN_ISAKMP_PL_SIG:
    case VPN_ISAKMP_PL_NONCE:
    case VPN_ISAKMP_PL_N:
    case VPN_ISAKMP_PL_D:
    case VPN_ISAKMP_PL_VID:
    case VPN_GDOI_PL_KD:
    case VPN_GDOI_PL_SEQ:
    case VPN_ISAKMP_PL_NAT_D:
    case VPN_ISAKMP_PL_NAT_OA:
    case VPN_GDOI_PL_GAP: return true;
    default: return false;
    }
}

int vpn_isakmp_payload_check(uint8_t type, const uint8_t *body, size_t len, uint8_t exchange)
{
    union {
        vpn_isakmp_sa sa;
        vpn_isakmp_id id;
        vpn_isakmp_cert cert;
        vpn_isakmp_notify n;
        vpn_isakmp_delete d;
        vpn_gdoi_kd kd;
        vpn_isakmp_view v;
        uint32_t u32;
    } u;

    switch (type) {
    case VPN_ISAKMP_PL_SA: return vpn_isakmp_sa_decode(body, len, exchange, &u.sa);
    case VPN_ISAKMP_PL_ID: return vpn_isakmp_id_decode(body, len, &u.id);
    case VPN_ISAKMP_PL_CERT:
    case VPN_ISAKMP_PL_CR: return vpn_isakmp_cert_decode(type, body, len, &u.cert);
    case VPN_ISAKMP_PL_N: return vpn_isakmp_notify_decode(body, len, &u.n);
    case VPN_ISAKMP_PL_D: return vpn_isakmp_delete_decode(body, len, &u.d);
    case VPN_ISAKMP_PL_NONCE:
        /* RFC 2409 5: nonces are 8 to 256 octets. */
        return len >= VPN_ISAKMP_NONCE_MIN && len <= VPN_ISAKMP_NONCE_MAX ? 0 : VPN_ERR_MALFORMED;
    case VPN_ISAKMP_PL_KE:
    case VPN_ISAKMP_PL_HASH:
    case VPN_ISAKMP_PL_SIG:
    case VPN_ISAKMP_PL_VID:
    case VPN_ISAKMP_PL_NAT_D: return len >= 1 ? 0 : VPN_ERR_MALFORMED;
    case VPN_ISAKMP_PL_NAT_OA: return nat_oa_check(body, len);
    case VPN_GDOI_PL_KD: return vpn_gdoi_kd_decode(body, len, &u.kd);
    case VPN_GDOI_PL_SEQ: return vpn_gdoi_seq_decode(body, len, &u.u32);
    case VPN_GDOI_PL_GAP: return vpn_gdoi_gap_decode(body, len, &u.v);
    /* opaque here; gdoi/gdoi-coop.c decodes it after HASH and SIG checks */
    case VPN_GDOI_PL_COOP:
        return exchange != VPN_GDOI_EXCH_COOP ? VPN_ERR_UNSUPPORTED
               : len >= 1                      ? 0
                                               : VPN_ERR_MALFORMED;
    default: return VPN_ERR_UNSUPPORTED;
    }
}

/* What to tell the peer about a payload that failed its check (RFC 2408 5). */
static uint16_t notify_for(uint8_t type, const uint8_t *body, size_t len, int rc)
{
    if (type == VPN_ISAKMP_PL_SA) {
        if (rc == VPN_ERR_UNSUPPORTED && len >= 8) {
            if (vpn_load32(body) > VPN_ISAKMP_DOI_GDOI)
                return VPN_ISAKMP_N_DOI_NOT_SUPPORTED;
            return VPN_ISAKMP_N_SITUATION_NOT_SUPPORTED;
        }
        return VPN_ISAKMP_N_BAD_PROPOSAL_SYNTAX;
    }
    if (rc == VPN_ERR_UNSUPPORTED)
        return VPN_ISAKMP_N_ATTRIBUTES_NOT_SUPPORTED;
    if (type == VPN_ISAKMP_PL_ID)
        return VPN_ISAKMP_N_INVALID_ID_INFORMATION;
    return VPN_ISAKMP_N_PAYLOAD_MALFORMED;
}

/* ---- messages ----------------------------------------------------------- */

/* Walks and validates a top-level chain into m (a private copy). */
static int walk(const uint8_t *p, size_t len, uint8_t first, uint8_t exchange, bool padded,
                vpn_isakmp_msg *m, vpn_isakmp_perr *perr)
{
    vpn_isakmp_chain c;
    vpn_isakmp_payload pl;
    size_t used;
    int rc;

    m->n = 0;
    vpn_isakmp_chain_init(&c, p, len, first, VPN_ISAKMP_MAX_PAYLOADS);
    while ((rc = vpn_isakmp_chain_next(&c, &pl)) == 1) {
        size_t off = (size_t)(pl.raw - p);

        if (!top_level_type(pl.type, exchange)) {
            set_perr(perr, VPN_ISAKMP_N_INVALID_PAYLOAD_TYPE, pl.type, off);
            return VPN_ERR_UNSUPPORTED;
        }
        if ((rc = vpn_isakmp_payload_check(pl.type, pl.body, pl.body_len, exchange))) {
            rc = inner(rc);
            set_perr(perr, notify_for(pl.type, pl.body, pl.body_len, rc), pl.type, off);
            return rc;
        }
        m->pl[m->n++] = pl;
    }
    if (rc < 0) {
        set_perr(perr, VPN_ISAKMP_N_PAYLOAD_MALFORMED, c.next, vpn_isakmp_chain_used(&c));
        return rc;
    }
    used = vpn_isakmp_chain_used(&c);
    /* Unencrypted: the chain fills the message exactly (RFC 2408 5.1's
     * length checks). Decrypted: the rest is padding. */
    if (used != len && (!padded || len - used > VPN_ISAKMP_MAX_PAD)) {
        set_perr(perr, VPN_ISAKMP_N_UNEQUAL_PAYLOAD_LENGTHS, 0, used);
        return VPN_ERR_MALFORMED;
    }
    m->chain = p;
    m->chain_len = used;
    return 0;
}

int vpn_isakmp_msg_parse_ex(const uint8_t *buf, size_t len, vpn_isakmp_msg *msg,
                            vpn_isakmp_perr *perr)
{
    vpn_isakmp_msg m;
    int rc;

    memset(&m, 0, offsetof(vpn_isakmp_msg, pl));
    if ((rc = vpn_isakmp_hdr_parse(buf, len, &m.hdr))) {
        uint16_t n = VPN_ISAKMP_N_UNEQUAL_PAYLOAD_LENGTHS;
        if (rc == VPN_ERR_UNSUPPORTED)
            n = (buf[17] >> 4) != 1 ? VPN_ISAKMP_N_INVALID_MAJOR_VERSION
                                    : VPN_ISAKMP_N_INVALID_MINOR_VERSION;
        else if (rc == VPN_ERR_MALFORMED)
            n = VPN_ISAKMP_N_INVALID_FLAGS;
        set_perr(perr, n, 0, 0);
        return rc;
    }
    /* RFC 2408 3.1: the length is that of the whole message; a datagram
     * carries exactly one message. */
    if (m.hdr.length != len) {
        set_perr(perr, VPN_ISAKMP_N_UNEQUAL_PAYLOAD_LENGTHS, 0, 24);
        return m.hdr.length > len ? VPN_ERR_TRUNCATED : VPN_ERR_MALFORMED;
    }
    m.raw = buf;
    m.raw_len = len;
    m.body = buf + VPN_ISAKMP_HDR_LEN;
    m.body_len = len - VPN_ISAKMP_HDR_LEN;
    if (m.hdr.flags & VPN_ISAKMP_FLAG_E) {
        if (m.body_len == 0) {
            set_perr(perr, VPN_ISAKMP_N_PAYLOAD_MALFORMED, 0, VPN_ISAKMP_HDR_LEN);
            return VPN_ERR_MALFORMED;
        }
        m.encrypted = true;
        memcpy(msg, &m, offsetof(vpn_isakmp_msg, pl));
        return 0;
    }
    if ((rc = walk(m.body, m.body_len, m.hdr.next_payload, m.hdr.exchange, false, &m, perr)))
        return rc;
    memcpy(msg, &m, offsetof(vpn_isakmp_msg, pl) + m.n * sizeof m.pl[0]);
    return 0;
}

int vpn_isakmp_msg_parse(const uint8_t *buf, size_t len, vpn_isakmp_msg *msg)
{
    return vpn_isakmp_msg_parse_ex(buf, len, msg, NULL);
}

int vpn_isakmp_plain_chain_len(const uint8_t *plain, size_t len, uint8_t first,
                               size_t *chain_len)
{
    vpn_isakmp_chain c;
    vpn_isakmp_payload pl;
    size_t used;
    int rc;

    vpn_isakmp_chain_init(&c, plain, len, first, VPN_ISAKMP_MAX_PAYLOADS);
    while ((rc = vpn_isakmp_chain_next(&c, &pl)) == 1)
        ;
    if (rc < 0)
        return rc;
    used = vpn_isakmp_chain_used(&c);
    if (len - used > VPN_ISAKMP_MAX_PAD)
        return VPN_ERR_MALFORMED;
    *chain_len = used;
    return 0;
}

int vpn_isakmp_msg_parse_plain(vpn_isakmp_msg *msg, const uint8_t *plain, size_t len,
                               vpn_isakmp_perr *perr)
{
    vpn_isakmp_msg m;
    int rc;

    if (!msg->encrypted || msg->decrypted)
        return VPN_ERR_STATE;
    if (plain == NULL && len)
        return VPN_ERR_INVAL;
    memcpy(&m, msg, offsetof(vpn_isakmp_msg, pl));
    if ((rc = walk(plain, len, m.hdr.next_payload, m.hdr.exchange, true, &m, perr)))
        return rc;
    m.decrypted = true;
    memcpy(msg, &m, offsetof(vpn_isakmp_msg, pl) + m.n * sizeof m.pl[0]);
    return 0;
}

const vpn_isakmp_payload *vpn_isakmp_msg_find(const vpn_isakmp_msg *m, uint8_t type,
                                              unsigned nth)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->pl[i].type == type && nth-- == 0)
            return &m->pl[i];
    return NULL;
}

size_t vpn_isakmp_msg_index(const vpn_isakmp_msg *m, const vpn_isakmp_payload *p)
{
    return (size_t)(p - m->pl);
}

static bool chain_parsed(const vpn_isakmp_msg *m)
{
    return m->raw != NULL && (!m->encrypted || m->decrypted);
}

int vpn_isakmp_msg_after(const vpn_isakmp_msg *m, size_t idx, vpn_isakmp_view *out)
{
    const uint8_t *from;

    if (!chain_parsed(m) || idx >= m->n)
        return VPN_ERR_INVAL;
    from = m->pl[idx].raw + m->pl[idx].raw_len;
    out->p = from;
    out->len = m->chain_len - (size_t)(from - m->chain);
    return 0;
}

int vpn_isakmp_msg_before(const vpn_isakmp_msg *m, size_t idx, vpn_isakmp_view *out)
{
    if (!chain_parsed(m) || idx >= m->n)
        return VPN_ERR_INVAL;
    out->p = m->chain;
    out->len = (size_t)(m->pl[idx].raw - m->chain);
    return 0;
}

/* ---- re-serialising ----------------------------------------------------- */

static int write_sa(vpn_isakmp_bld *b, const vpn_isakmp_payload *pl, uint8_t exchange)
{
    vpn_isakmp_sa sa;
    vpn_isakmp_chain c, xc;
    vpn_isakmp_payload sub;
    vpn_isakmp_prop p;
    vpn_isakmp_xform x;
    int rc;

    if ((rc = vpn_isakmp_sa_decode(pl->body, pl->body_len, exchange, &sa)))
        return rc;
    if (sa.gdoi) {
        vpn_gdoi_bld_sa_begin(b, sa.situation);
        vpn_gdoi_sa_iter_init(&c, &sa);
        while ((rc = vpn_gdoi_sa_next(&c, &sub)) == 1) {
            if (sub.type == VPN_GDOI_PL_SAK) {
                vpn_gdoi_sak k;
                if ((rc = vpn_gdoi_sak_decode(sub.body, sub.body_len, &k)))
                    return rc;
                vpn_gdoi_bld_sak(b, &k);
            } else if (sub.type == VPN_GDOI_PL_SAT) {
                vpn_gdoi_sat t;
                if ((rc = vpn_gdoi_sat_decode(sub.body, sub.body_len, &t)))
                    return rc;
                vpn_gdoi_bld_sat(b, &t);
            } else {
                vpn_gdoi_bld_gap(b, sub.body, sub.body_len);
            }
        }
        if (rc < 0)
            return rc;
        return vpn_gdoi_bld_sa_end(b);
    }
    vpn_isakmp_bld_sa_begin(b, sa.doi, sa.situation);
    vpn_isakmp_prop_iter_init(&c, &sa);
    while ((rc = vpn_isakmp_prop_next(&c, &p)) == 1) {
        vpn_isakmp_bld_prop_begin(b, p.num, p.proto, p.spi.p, p.spi.len);
        vpn_isakmp_xform_iter_init(&xc, &p);
        while ((rc = vpn_isakmp_xform_next(&xc, &x)) == 1)
            vpn_isakmp_bld_xform(b, x.num, x.id, x.attrs.p, x.attrs.len);
        if (rc < 0)
            return rc;
        vpn_isakmp_bld_prop_end(b);
    }
    if (rc < 0)
        return rc;
    return vpn_isakmp_bld_sa_end(b);
}

static int write_payload(vpn_isakmp_bld *b, const vpn_isakmp_payload *pl, uint8_t exchange)
{
    int rc;

    switch (pl->type) {
    case VPN_ISAKMP_PL_SA: return write_sa(b, pl, exchange);
    case VPN_ISAKMP_PL_ID: {
        vpn_isakmp_id id;
        if ((rc = vpn_isakmp_id_decode(pl->body, pl->body_len, &id)))
            return rc;
        return vpn_isakmp_bld_id(b, &id);
    }
    case VPN_ISAKMP_PL_CERT:
    case VPN_ISAKMP_PL_CR: {
        vpn_isakmp_cert c;
        if ((rc = vpn_isakmp_cert_decode(pl->type, pl->body, pl->body_len, &c)))
            return rc;
        return vpn_isakmp_bld_cert(b, pl->type, c.enc, c.data.p, c.data.len);
    }
    case VPN_ISAKMP_PL_N: {
        vpn_isakmp_notify n;
        if ((rc = vpn_isakmp_notify_decode(pl->body, pl->body_len, &n)))
            return rc;
        return vpn_isakmp_bld_notify(b, &n);
    }
    case VPN_ISAKMP_PL_D: {
        vpn_isakmp_delete d;
        if ((rc = vpn_isakmp_delete_decode(pl->body, pl->body_len, &d)))
            return rc;
        return vpn_isakmp_bld_delete(b, &d);
    }
    case VPN_GDOI_PL_KD: {
        vpn_gdoi_kd kd;
        vpn_gdoi_kp_iter it;
        vpn_gdoi_kp kp;
        if ((rc = vpn_gdoi_kd_decode(pl->body, pl->body_len, &kd)))
            return rc;
        vpn_gdoi_bld_kd_begin(b);
        vpn_gdoi_kp_iter_init(&it, &kd);
        while ((rc = vpn_gdoi_kp_next(&it, &kp)) == 1)
            vpn_gdoi_bld_kp(b, kp.type, kp.spi.p, kp.spi.len, kp.attrs.p, kp.attrs.len);
        if (rc < 0)
            return rc;
        return vpn_gdoi_bld_kd_end(b);
    }
    case VPN_GDOI_PL_SEQ: {
        uint32_t seq;
        if ((rc = vpn_gdoi_seq_decode(pl->body, pl->body_len, &seq)))
            return rc;
        return vpn_gdoi_bld_seq(b, seq);
    }
    case VPN_GDOI_PL_GAP: return vpn_gdoi_bld_gap(b, pl->body, pl->body_len);
    default: return vpn_isakmp_bld_raw(b, pl->type, pl->body, pl->body_len);
    }
}

int vpn_isakmp_msg_write(const vpn_isakmp_msg *m, vpn_wr *w)
{
    vpn_isakmp_bld b;
    vpn_isakmp_hdr h;
    uint8_t *dst;
    size_t len;
    int rc;

    if (m->raw == NULL)
        return VPN_ERR_INVAL;
    if (m->encrypted && !m->decrypted)
        return vpn_wr_bytes(w, m->raw, m->raw_len);
    if (vpn_wr_err(w))
        return vpn_wr_err(w);
    h = m->hdr;
    h.flags &= (uint8_t)~VPN_ISAKMP_FLAG_E;
    vpn_isakmp_bld_init(&b, w->buf + w->off, vpn_wr_room(w), &h);
    for (size_t i = 0; i < m->n; i++) {
        if ((rc = write_payload(&b, &m->pl[i], m->hdr.exchange))) {
            if (w->err == 0)
                w->err = rc;
            return rc;
        }
    }
    if ((rc = vpn_isakmp_bld_finish(&b, &len))) {
        if (w->err == 0)
            w->err = rc;
        return rc;
    }
    return vpn_wr_take(w, &dst, len);
}

int vpn_isakmp_decrypted_view(const uint8_t *msg, size_t len, const uint8_t *plain,
                              size_t plain_len, vpn_wr *out)
{
    vpn_isakmp_msg m;
    vpn_isakmp_hdr h;
    int rc;

    if ((rc = vpn_isakmp_msg_parse(msg, len, &m)))
        return rc;
    if (!m.encrypted)
        return VPN_ERR_STATE;
    if ((rc = vpn_isakmp_msg_parse_plain(&m, plain, plain_len, NULL)))
        return rc;
    h = m.hdr;
    h.flags &= (uint8_t)~VPN_ISAKMP_FLAG_E;
    h.length = (uint32_t)(VPN_ISAKMP_HDR_LEN + m.chain_len);
    if (vpn_wr_room(out) < h.length) {
        if (out->err == 0)
            out->err = VPN_ERR_NOSPACE;
        return out->err;
    }
    vpn_isakmp_hdr_write(&h, out);
    return vpn_wr_bytes(out, m.chain, m.chain_len);
}
