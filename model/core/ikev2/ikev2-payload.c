/*
 * Payload bodies of RFC 7296 section 3 (plus RFC 7383 SKF): one parse and
 * one write function per type, gathered in a descriptor table. Parsers read
 * a sub-reader that holds exactly the body; elements inside a body
 * (proposals, transforms, selectors, attributes) get their own sub-readers.
 */
#include "ikev2/ikev2-codec.h"
#include "ikev2/ikev2-internal.h"

#include <string.h>

#include "common/vpn-err.h"

static vpn_ikev2_view view_of(const uint8_t *p, size_t len)
{
    vpn_ikev2_view v = {len ? p : NULL, len};
    return v;
}

/* Takes the rest of r as a view. */
static int rd_rest(vpn_rd *r, vpn_ikev2_view *out)
{
    size_t n = vpn_rd_left(r);
    const uint8_t *p = NULL;
    int rc = vpn_rd_view(r, &p, n);

    *out = view_of(p, rc ? 0 : n);
    return rc;
}

static int rd_viewn(vpn_rd *r, vpn_ikev2_view *out, size_t n)
{
    const uint8_t *p = NULL;
    int rc = vpn_rd_view(r, &p, n);

    *out = view_of(p, rc ? 0 : n);
    return rc;
}

static int wr_view(vpn_wr *w, vpn_ikev2_view v)
{
    return vpn_wr_bytes(w, v.ptr, v.len);
}

/* ---- 3.3 Security Association ------------------------------------------ */

/*
 * 3.3.5 Transform Attributes: AF bit + 15-bit type, then a 16-bit value
 * (TV, AF = 1) or a 16-bit length and that many bytes (TLV, AF = 0). The
 * only attribute RFC 7296 defines, Key Length, must be TV.
 */
static int rd_xform_attrs(vpn_ikev2_view attrs, vpn_ikev2_xform_view *out)
{
    vpn_rd r;
    bool seen_key_len = false;

    vpn_rd_init(&r, attrs.ptr, attrs.len);
    while (vpn_rd_left(&r) > 0) {
        uint16_t at, val;
        if (vpn_rd_u16(&r, &at) || vpn_rd_u16(&r, &val))
            return VPN_ERR_TRUNCATED;
        bool tv = (at & VPN_IKEV2_ATTR_TV) != 0;
        at &= (uint16_t)~VPN_IKEV2_ATTR_TV;
        if (!tv && vpn_rd_skip(&r, val))
            return VPN_ERR_TRUNCATED;
        if (at == VPN_IKEV2_ATTR_KEY_LENGTH) {
            if (!tv)
                return VPN_ERR_MALFORMED; /* 3.3.5: Key Length is TV only */
            if (seen_key_len || val == 0)
                out->bad_attr = true;
            seen_key_len = true;
            out->key_len = val;
        } else {
            out->bad_attr = true; /* 3.3.6: we do not understand it */
        }
    }
    return 0;
}

/* 3.3.2 Transform Substructure; *last receives the Last Substruc octet. */
static int rd_xform(vpn_rd *r, vpn_ikev2_xform_view *out, uint8_t *last)
{
    uint8_t resv, resv2;
    uint16_t len;
    vpn_rd x;

    memset(out, 0, sizeof *out);
    vpn_rd_u8(r, last);
    vpn_rd_u8(r, &resv);
    if (vpn_rd_u16(r, &len))
        return VPN_ERR_TRUNCATED;
    if (len < 8)
        return VPN_ERR_MALFORMED;
    if (vpn_rd_sub(r, &x, len - 4u))
        return VPN_ERR_TRUNCATED;
    vpn_rd_u8(&x, &out->type);
    vpn_rd_u8(&x, &resv2);
    vpn_rd_u16(&x, &out->id);
    rd_rest(&x, &out->attrs);
    if (vpn_rd_err(&x))
        return VPN_ERR_TRUNCATED;
    return rd_xform_attrs(out->attrs, out);
}

/* 3.3.1 Proposal Substructure (transforms not yet checked). */
static int rd_prop(vpn_rd *r, vpn_ikev2_prop_view *out, uint8_t *last)
{
    uint8_t resv, spi_size;
    uint16_t len;
    vpn_rd p;

    memset(out, 0, sizeof *out);
    vpn_rd_u8(r, last);
    vpn_rd_u8(r, &resv);
    if (vpn_rd_u16(r, &len))
        return VPN_ERR_TRUNCATED;
    if (len < 8)
        return VPN_ERR_MALFORMED;
    if (vpn_rd_sub(r, &p, len - 4u))
        return VPN_ERR_TRUNCATED;
    vpn_rd_u8(&p, &out->num);
    vpn_rd_u8(&p, &out->proto);
    vpn_rd_u8(&p, &spi_size);
    vpn_rd_u8(&p, &out->n_xform);
    rd_viewn(&p, &out->spi, spi_size);
    rd_rest(&p, &out->xforms);
    return vpn_rd_err(&p) ? VPN_ERR_TRUNCATED : 0;
}

/*
 * The transforms of one proposal: exactly n_xform of them, each but the
 * last marked 3 ("more"), the last 0 (3.3.2, kept from IKEv1 for
 * compatibility; a mismatch means a broken encoder or a spliced message).
 */
static int check_xforms(const vpn_ikev2_prop_view *pv)
{
    vpn_rd r;
    unsigned n = 0;

    vpn_rd_init(&r, pv->xforms.ptr, pv->xforms.len);
    while (vpn_rd_left(&r) > 0) {
        vpn_ikev2_xform_view xv;
        uint8_t last;
        int rc = rd_xform(&r, &xv, &last);
        if (rc)
            return rc;
        n++;
        if (last != (vpn_rd_left(&r) > 0 ? 3 : 0))
            return VPN_ERR_MALFORMED;
    }
    return n == pv->n_xform ? 0 : VPN_ERR_MALFORMED;
}

static int sa_parse(vpn_rd *b, vpn_ikev2_payload *p)
{
    vpn_ikev2_pl_sa *sa = &p->u.sa;
    vpn_rd r;
    unsigned prev = 0;

    rd_rest(b, &sa->props);
    vpn_rd_init(&r, sa->props.ptr, sa->props.len);
    while (vpn_rd_left(&r) > 0) {
        vpn_ikev2_prop_view pv;
        uint8_t last;
        int rc = rd_prop(&r, &pv, &last);
        if (rc)
            return rc;
        if (last != (vpn_rd_left(&r) > 0 ? 2 : 0))
            return VPN_ERR_MALFORMED;
        /* 3.3.1: numbers start at 1 (a reply carries just the chosen one)
         * and count up by one. */
        if (pv.num == 0 || (sa->n_prop > 0 && pv.num != prev + 1))
            return VPN_ERR_MALFORMED;
        prev = pv.num;
        rc = check_xforms(&pv);
        if (rc)
            return rc;
        sa->n_prop++;
    }
    return sa->n_prop > 0 ? 0 : VPN_ERR_MALFORMED; /* 3.3: one or more */
}

static int wr_xform_view(vpn_wr *w, const vpn_ikev2_xform_view *x, bool last)
{
    vpn_wr_u8(w, last ? 0 : 3);
    vpn_wr_u8(w, 0);
    if (x->attrs.len > 0xffffu - 8u)
        return VPN_ERR_OVERFLOW;
    vpn_wr_u16(w, (uint16_t)(8u + x->attrs.len));
    vpn_wr_u8(w, x->type);
    vpn_wr_u8(w, 0);
    vpn_wr_u16(w, x->id);
    return wr_view(w, x->attrs);
}

static int wr_prop_begin(vpn_wr *w, bool last, uint8_t num, uint8_t proto,
                         vpn_ikev2_view spi, unsigned n_xform, size_t *len_pos, size_t *start)
{
    if (spi.len > 255 || n_xform > 255)
        return VPN_ERR_INVAL;
    *start = vpn_wr_len(w);
    vpn_wr_u8(w, last ? 0 : 2);
    vpn_wr_u8(w, 0);
    vpn_wr_len_reserve(w, 2, len_pos);
    vpn_wr_u8(w, num);
    vpn_wr_u8(w, proto);
    vpn_wr_u8(w, (uint8_t)spi.len);
    vpn_wr_u8(w, (uint8_t)n_xform);
    return wr_view(w, spi);
}

static int sa_write(vpn_wr *w, const vpn_ikev2_payload *p)
{
    vpn_ikev2_iter pi;
    vpn_ikev2_prop_view pv;

    vpn_ikev2_prop_iter_init(&pi, p);
    while (vpn_ikev2_prop_iter_next(&pi, &pv)) {
        vpn_ikev2_iter xi;
        vpn_ikev2_xform_view xv;
        size_t len_pos, start;
        int rc = wr_prop_begin(w, pi.left == 0, pv.num, pv.proto, pv.spi, pv.n_xform,
                               &len_pos, &start);
        if (rc)
            return rc;
        vpn_ikev2_xform_iter_init(&xi, &pv);
        while (vpn_ikev2_xform_iter_next(&xi, &xv)) {
            rc = wr_xform_view(w, &xv, xi.left == 0);
            if (rc)
                return rc;
        }
        rc = vpn_wr_len_patch(w, len_pos, 2, start);
        if (rc)
            return rc;
    }
    return vpn_wr_err(w);
}

int vpn_ikev2_wr_proposal(vpn_wr *w, const vpn_ikev2_proposal *prop, bool last)
{
    size_t len_pos, start;
    int rc;

    if (prop->spi_len > sizeof prop->spi || prop->n_xform > VPN_IKEV2_PROP_MAX_XFORMS)
        return VPN_ERR_INVAL;
    rc = wr_prop_begin(w, last, prop->num, prop->proto, view_of(prop->spi, prop->spi_len),
                       prop->n_xform, &len_pos, &start);
    if (rc)
        return rc;
    for (unsigned i = 0; i < prop->n_xform; i++) {
        const vpn_ikev2_xform *x = &prop->xform[i];
        vpn_wr_u8(w, i + 1u == prop->n_xform ? 0 : 3);
        vpn_wr_u8(w, 0);
        vpn_wr_u16(w, x->key_len ? 12 : 8);
        vpn_wr_u8(w, x->type);
        vpn_wr_u8(w, 0);
        vpn_wr_u16(w, x->id);
        if (x->key_len) {
            vpn_wr_u16(w, VPN_IKEV2_ATTR_TV | VPN_IKEV2_ATTR_KEY_LENGTH);
            vpn_wr_u16(w, x->key_len);
        }
    }
    return vpn_wr_len_patch(w, len_pos, 2, start);
}

void vpn_ikev2_prop_iter_init(vpn_ikev2_iter *it, const vpn_ikev2_payload *sa)
{
    memset(it, 0, sizeof *it);
    if (!sa || sa->type != VPN_IKEV2_PL_SA || !sa->known)
        return;
    vpn_rd_init(&it->r, sa->u.sa.props.ptr, sa->u.sa.props.len);
    it->left = sa->u.sa.n_prop;
}

bool vpn_ikev2_prop_iter_next(vpn_ikev2_iter *it, vpn_ikev2_prop_view *out)
{
    uint8_t last;

    if (it->left == 0)
        return false;
    if (rd_prop(&it->r, out, &last)) {
        it->left = 0;
        return false;
    }
    it->left--;
    return true;
}

void vpn_ikev2_xform_iter_init(vpn_ikev2_iter *it, const vpn_ikev2_prop_view *prop)
{
    memset(it, 0, sizeof *it);
    if (!prop)
        return;
    vpn_rd_init(&it->r, prop->xforms.ptr, prop->xforms.len);
    it->left = prop->n_xform;
}

bool vpn_ikev2_xform_iter_next(vpn_ikev2_iter *it, vpn_ikev2_xform_view *out)
{
    uint8_t last;

    if (it->left == 0)
        return false;
    if (rd_xform(&it->r, out, &last)) {
        it->left = 0;
        return false;
    }
    it->left--;
    return true;
}

int vpn_ikev2_proposal_from_view(const vpn_ikev2_prop_view *v, vpn_ikev2_proposal *out)
{
    vpn_ikev2_iter it;
    vpn_ikev2_xform_view xv;

    if (!v || !out)
        return VPN_ERR_INVAL;
    memset(out, 0, sizeof *out);
    if (v->spi.len > sizeof out->spi || v->n_xform > VPN_IKEV2_PROP_MAX_XFORMS)
        return VPN_ERR_LIMIT;
    out->num = v->num;
    out->proto = v->proto;
    out->spi_len = (uint8_t)v->spi.len;
    if (v->spi.len)
        memcpy(out->spi, v->spi.ptr, v->spi.len);
    vpn_ikev2_xform_iter_init(&it, v);
    while (vpn_ikev2_xform_iter_next(&it, &xv)) {
        vpn_ikev2_xform *x = &out->xform[out->n_xform++];
        x->type = xv.type;
        x->id = xv.id;
        x->key_len = xv.key_len;
        x->bad = xv.bad_attr;
    }
    return 0;
}

/* ---- 3.4 Key Exchange ---------------------------------------------------- */

static int ke_parse(vpn_rd *b, vpn_ikev2_payload *p)
{
    uint16_t resv;

    vpn_rd_u16(b, &p->u.ke.group);
    vpn_rd_u16(b, &resv);
    rd_rest(b, &p->u.ke.data);
    if (vpn_rd_err(b))
        return VPN_ERR_TRUNCATED;
    return p->u.ke.data.len > 0 ? 0 : VPN_ERR_MALFORMED;
}

static int ke_write(vpn_wr *w, const vpn_ikev2_payload *p)
{
    vpn_wr_u16(w, p->u.ke.group);
    vpn_wr_u16(w, 0);
    return wr_view(w, p->u.ke.data);
}

int vpn_ikev2_ke_check(const vpn_ikev2_payload *ke)
{
    size_t want;

    if (!ke || ke->type != VPN_IKEV2_PL_KE || !ke->known)
        return VPN_ERR_INVAL;
    want = vpn_ikev2_dh_ke_len(ke->u.ke.group);
    if (want == 0)
        return VPN_ERR_UNSUPPORTED;
    return ke->u.ke.data.len == want ? 0 : VPN_ERR_MALFORMED;
}

/* ---- 3.5 Identification -------------------------------------------------- */

static int id_parse(vpn_rd *b, vpn_ikev2_payload *p)
{
    vpn_ikev2_pl_id *id = &p->u.id;

    vpn_rd_u8(b, &id->type);
    vpn_rd_skip(b, 3);
    rd_rest(b, &id->data);
    if (vpn_rd_err(b))
        return VPN_ERR_TRUNCATED;
    switch (id->type) {
    case VPN_IKEV2_ID_IPV4_ADDR:
        return id->data.len == 4 ? 0 : VPN_ERR_MALFORMED;
    case VPN_IKEV2_ID_IPV6_ADDR:
        return id->data.len == 16 ? 0 : VPN_ERR_MALFORMED;
    case VPN_IKEV2_ID_NULL:
        return id->data.len == 0 ? 0 : VPN_ERR_MALFORMED; /* RFC 7619 3 */
    case VPN_IKEV2_ID_FQDN:
    case VPN_IKEV2_ID_RFC822_ADDR:
    case VPN_IKEV2_ID_DER_ASN1_DN:
    case VPN_IKEV2_ID_DER_ASN1_GN:
    case VPN_IKEV2_ID_KEY_ID:
        return id->data.len > 0 ? 0 : VPN_ERR_MALFORMED;
    default:
        return 0; /* the engine decides about types it does not use */
    }
}

static int id_write(vpn_wr *w, const vpn_ikev2_payload *p)
{
    vpn_wr_u8(w, p->u.id.type);
    vpn_wr_zero(w, 3);
    return wr_view(w, p->u.id.data);
}

/* ---- 3.6 Certificate, 3.7 Certificate Request ---------------------------- */

static int cert_parse(vpn_rd *b, vpn_ikev2_payload *p)
{
    vpn_rd_u8(b, &p->u.cert.encoding);
    rd_rest(b, &p->u.cert.data);
    if (vpn_rd_err(b))
        return VPN_ERR_TRUNCATED;
    return p->u.cert.data.len > 0 ? 0 : VPN_ERR_MALFORMED;
}

static int certreq_parse(vpn_rd *b, vpn_ikev2_payload *p)
{
    vpn_rd_u8(b, &p->u.cert.encoding);
    rd_rest(b, &p->u.cert.data);
    if (vpn_rd_err(b))
        return VPN_ERR_TRUNCATED;
    /* 3.7: for X.509 the authorities are concatenated SHA-1 key hashes;
     * an empty list asks for any certificate. */
    if (p->u.cert.encoding == VPN_IKEV2_CERT_X509_SIG &&
        p->u.cert.data.len % VPN_IKEV2_CERTREQ_HASH_LEN != 0)
        return VPN_ERR_MALFORMED;
    return 0;
}

static int cert_write(vpn_wr *w, const vpn_ikev2_payload *p)
{
    vpn_wr_u8(w, p->u.cert.encoding);
    return wr_view(w, p->u.cert.data);
}

/* ---- 3.8 Authentication (RFC 7427 3 for method 14) ----------------------- */

static int auth_parse(vpn_rd *b, vpn_ikev2_payload *p)
{
    vpn_ikev2_pl_auth *a = &p->u.auth;
    vpn_rd d;
    uint8_t alg_len;

    vpn_rd_u8(b, &a->method);
    vpn_rd_skip(b, 3);
    rd_rest(b, &a->data);
    if (vpn_rd_err(b))
        return VPN_ERR_TRUNCATED;
    if (a->data.len == 0)
        return VPN_ERR_MALFORMED;
    if (a->method != VPN_IKEV2_AUTH_DIGITAL_SIGNATURE)
        return 0;
    /* RFC 7427 3: ASN.1 Length (1 octet), AlgorithmIdentifier, Signature. */
    vpn_rd_init(&d, a->data.ptr, a->data.len);
    vpn_rd_u8(&d, &alg_len);
    rd_viewn(&d, &a->alg_id, alg_len);
    rd_rest(&d, &a->sig);
    if (vpn_rd_err(&d))
        return VPN_ERR_MALFORMED;
    return alg_len > 0 && a->sig.len > 0 ? 0 : VPN_ERR_MALFORMED;
}

static int auth_write(vpn_wr *w, const vpn_ikev2_payload *p)
{
    vpn_wr_u8(w, p->u.auth.method);
    vpn_wr_zero(w, 3);
    return wr_view(w, p->u.auth.data);
}

/* ---- 3.9 Nonce, 3.12 Vendor ID ------------------------------------------- */

static int nonce_parse(vpn_rd *b, vpn_ikev2_payload *p)
{
    rd_rest(b, &p->u.nonce.data);
    if (p->u.nonce.data.len < VPN_IKEV2_NONCE_MIN || p->u.nonce.data.len > VPN_IKEV2_NONCE_MAX)
        return VPN_ERR_MALFORMED;
    return 0;
}

static int data_write(vpn_wr *w, const vpn_ikev2_payload *p)
{
    /* nonce and vendor share vpn_ikev2_pl_data at the same place */
    return wr_view(w, p->type == VPN_IKEV2_PL_NONCE ? p->u.nonce.data : p->u.vendor.data);
}

static int vendor_parse(vpn_rd *b, vpn_ikev2_payload *p)
{
    return rd_rest(b, &p->u.vendor.data);
}

/* ---- 3.10 Notify --------------------------------------------------------- */

static int notify_parse(vpn_rd *b, vpn_ikev2_payload *p)
{
    vpn_ikev2_pl_notify *n = &p->u.notify;
    uint8_t spi_size;

    /* The Protocol ID is ignored on receipt when there is no SPI (3.10). */
    vpn_rd_u8(b, &n->proto);
    vpn_rd_u8(b, &spi_size);
    vpn_rd_u16(b, &n->type);
    rd_viewn(b, &n->spi, spi_size);
    rd_rest(b, &n->data);
    return vpn_rd_err(b) ? VPN_ERR_TRUNCATED : 0;
}

static int notify_write(vpn_wr *w, const vpn_ikev2_payload *p)
{
    const vpn_ikev2_pl_notify *n = &p->u.notify;

    if (n->spi.len > 255)
        return VPN_ERR_INVAL;
    vpn_wr_u8(w, n->proto);
    vpn_wr_u8(w, (uint8_t)n->spi.len);
    vpn_wr_u16(w, n->type);
    wr_view(w, n->spi);
    return wr_view(w, n->data);
}

/* ---- 3.11 Delete --------------------------------------------------------- */

static int delete_parse(vpn_rd *b, vpn_ikev2_payload *p)
{
    vpn_ikev2_pl_delete *d = &p->u.del;

    vpn_rd_u8(b, &d->proto);
    vpn_rd_u8(b, &d->spi_size);
    vpn_rd_u16(b, &d->n_spi);
    if (vpn_rd_err(b))
        return VPN_ERR_TRUNCATED;
    /* 3.11: the IKE SA is named by the header, so no SPIs; AH and ESP SPIs
     * are four octets. */
    if (d->proto == VPN_IKEV2_PROTO_IKE && (d->spi_size != 0 || d->n_spi != 0))
        return VPN_ERR_MALFORMED;
    if ((d->proto == VPN_IKEV2_PROTO_AH || d->proto == VPN_IKEV2_PROTO_ESP) && d->spi_size != 4)
        return VPN_ERR_MALFORMED;
    if (rd_viewn(b, &d->spis, (size_t)d->spi_size * d->n_spi))
        return VPN_ERR_TRUNCATED;
    return 0;
}

static int delete_write(vpn_wr *w, const vpn_ikev2_payload *p)
{
    const vpn_ikev2_pl_delete *d = &p->u.del;

    if (d->spis.len != (size_t)d->spi_size * d->n_spi)
        return VPN_ERR_INVAL;
    vpn_wr_u8(w, d->proto);
    vpn_wr_u8(w, d->spi_size);
    vpn_wr_u16(w, d->n_spi);
    return wr_view(w, d->spis);
}

/* ---- 3.13 Traffic Selector ----------------------------------------------- */

/* 3.13.1: one selector. Ports 65535..0 mean OPAQUE; any other start > end,
 * and any start address above the end address, is not a range. */
static int rd_ts(vpn_rd *r, vpn_ikev2_ts *ts)
{
    uint16_t len;
    vpn_rd s;
    const uint8_t *start = vpn_rd_cur(r);

    memset(ts, 0, sizeof *ts);
    vpn_rd_u8(r, &ts->type);
    vpn_rd_u8(r, &ts->proto);
    if (vpn_rd_u16(r, &len))
        return VPN_ERR_TRUNCATED;
    if (len < 4)
        return VPN_ERR_MALFORMED;
    if (vpn_rd_sub(r, &s, len - 4u))
        return VPN_ERR_TRUNCATED;
    ts->raw = view_of(start, len);
    switch (ts->type) {
    case VPN_IKEV2_TS_IPV4_ADDR_RANGE:
        if (len != 16)
            return VPN_ERR_MALFORMED;
        ts->addr_len = 4;
        break;
    case VPN_IKEV2_TS_IPV6_ADDR_RANGE:
        if (len != 40)
            return VPN_ERR_MALFORMED;
        ts->addr_len = 16;
        break;
    default:
        return 0; /* unknown type: kept raw; the engine answers TS_UNACCEPTABLE */
    }
    vpn_rd_u16(&s, &ts->start_port);
    vpn_rd_u16(&s, &ts->end_port);
    vpn_rd_bytes(&s, ts->start, ts->addr_len);
    vpn_rd_bytes(&s, ts->end, ts->addr_len);
    if (vpn_rd_expect_end(&s))
        return VPN_ERR_MALFORMED;
    if (ts->start_port > ts->end_port && !(ts->start_port == 65535 && ts->end_port == 0))
        return VPN_ERR_MALFORMED;
    if (memcmp(ts->start, ts->end, ts->addr_len) > 0)
        return VPN_ERR_MALFORMED;
    return 0;
}

static int ts_parse(vpn_rd *b, vpn_ikev2_payload *p)
{
    vpn_ikev2_pl_ts *t = &p->u.ts;
    vpn_rd r;
    unsigned n = 0;

    vpn_rd_u8(b, &t->n_ts);
    vpn_rd_skip(b, 3);
    rd_rest(b, &t->ts);
    if (vpn_rd_err(b))
        return VPN_ERR_TRUNCATED;
    vpn_rd_init(&r, t->ts.ptr, t->ts.len);
    while (vpn_rd_left(&r) > 0) {
        vpn_ikev2_ts ts;
        int rc = rd_ts(&r, &ts);
        if (rc)
            return rc;
        n++;
    }
    return n > 0 && n == t->n_ts ? 0 : VPN_ERR_MALFORMED;
}

int vpn_ikev2_wr_ts(vpn_wr *w, const vpn_ikev2_ts *ts)
{
    size_t alen;

    switch (ts->type) {
    case VPN_IKEV2_TS_IPV4_ADDR_RANGE:
        alen = 4;
        break;
    case VPN_IKEV2_TS_IPV6_ADDR_RANGE:
        alen = 16;
        break;
    default:
        /* unknown types round-trip as read */
        return ts->raw.len >= 4 ? wr_view(w, ts->raw) : VPN_ERR_INVAL;
    }
    if (ts->addr_len != alen)
        return VPN_ERR_INVAL;
    vpn_wr_u8(w, ts->type);
    vpn_wr_u8(w, ts->proto);
    vpn_wr_u16(w, (uint16_t)(8u + 2u * alen));
    vpn_wr_u16(w, ts->start_port);
    vpn_wr_u16(w, ts->end_port);
    vpn_wr_bytes(w, ts->start, alen);
    return vpn_wr_bytes(w, ts->end, alen);
}

static int ts_write(vpn_wr *w, const vpn_ikev2_payload *p)
{
    vpn_ikev2_iter it;
    vpn_ikev2_ts ts;

    vpn_wr_u8(w, p->u.ts.n_ts);
    vpn_wr_zero(w, 3);
    vpn_ikev2_ts_iter_init(&it, p);
    while (vpn_ikev2_ts_iter_next(&it, &ts)) {
        int rc = vpn_ikev2_wr_ts(w, &ts);
        if (rc)
            return rc;
    }
    return vpn_wr_err(w);
}

void vpn_ikev2_ts_iter_init(vpn_ikev2_iter *it, const vpn_ikev2_payload *ts)
{
    memset(it, 0, sizeof *it);
    if (!ts || (ts->type != VPN_IKEV2_PL_TSI && ts->type != VPN_IKEV2_PL_TSR) || !ts->known)
        return;
    vpn_rd_init(&it->r, ts->u.ts.ts.ptr, ts->u.ts.ts.len);
    it->left = ts->u.ts.n_ts;
}

bool vpn_ikev2_ts_iter_next(vpn_ikev2_iter *it, vpn_ikev2_ts *out)
{
    if (it->left == 0)
        return false;
    if (rd_ts(&it->r, out)) {
        it->left = 0;
        return false;
    }
    it->left--;
    return true;
}

/* ---- 3.14 Encrypted and Authenticated ------------------------------------ */

static int sk_parse(vpn_rd *b, vpn_ikev2_payload *p)
{
    p->u.sk.first = p->next;
    return rd_rest(b, &p->u.sk.data);
}

static int sk_write(vpn_wr *w, const vpn_ikev2_payload *p)
{
    return wr_view(w, p->u.sk.data);
}

/* ---- 3.15 Configuration -------------------------------------------------- */

/* 3.15.1: value lengths of the attributes RFC 7296 defines (0 = a request). */
static bool cp_len_ok(uint16_t type, size_t len)
{
    switch (type) {
    case VPN_IKEV2_CFG_INTERNAL_IP4_ADDRESS:
    case VPN_IKEV2_CFG_INTERNAL_IP4_NETMASK:
    case VPN_IKEV2_CFG_INTERNAL_IP4_DNS:
    case VPN_IKEV2_CFG_INTERNAL_IP4_NBNS:
    case VPN_IKEV2_CFG_INTERNAL_IP4_DHCP:
        return len == 0 || len == 4;
    case VPN_IKEV2_CFG_INTERNAL_IP6_ADDRESS:
    case VPN_IKEV2_CFG_INTERNAL_IP6_SUBNET:
        return len == 0 || len == 17; /* address + prefix length */
    case VPN_IKEV2_CFG_INTERNAL_IP6_DNS:
    case VPN_IKEV2_CFG_INTERNAL_IP6_DHCP:
        return len == 0 || len == 16;
    case VPN_IKEV2_CFG_INTERNAL_IP4_SUBNET:
        return len == 0 || len == 8; /* address + netmask */
    case VPN_IKEV2_CFG_SUPPORTED_ATTRIBUTES:
        return len % 2 == 0;
    default:
        return true;
    }
}

static int rd_cp_attr(vpn_rd *r, vpn_ikev2_cp_attr *a)
{
    uint16_t t, len;

    vpn_rd_u16(r, &t);
    if (vpn_rd_u16(r, &len))
        return VPN_ERR_TRUNCATED;
    a->type = t & 0x7fffu; /* the top bit is reserved, ignored on receipt */
    if (rd_viewn(r, &a->value, len))
        return VPN_ERR_TRUNCATED;
    return cp_len_ok(a->type, len) ? 0 : VPN_ERR_MALFORMED;
}

static int cp_parse(vpn_rd *b, vpn_ikev2_payload *p)
{
    vpn_ikev2_pl_cp *cp = &p->u.cp;
    vpn_rd r;

    vpn_rd_u8(b, &cp->type);
    vpn_rd_skip(b, 3);
    rd_rest(b, &cp->attrs);
    if (vpn_rd_err(b))
        return VPN_ERR_TRUNCATED;
    vpn_rd_init(&r, cp->attrs.ptr, cp->attrs.len);
    while (vpn_rd_left(&r) > 0) {
        vpn_ikev2_cp_attr a;
        int rc = rd_cp_attr(&r, &a);
        if (rc)
            return rc;
        cp->n_attr++;
    }
    return 0;
}

int vpn_ikev2_wr_cp_attr(vpn_wr *w, const vpn_ikev2_cp_attr *a)
{
    if (a->type > 0x7fffu || a->value.len > 0xffffu)
        return VPN_ERR_INVAL;
    vpn_wr_u16(w, a->type);
    vpn_wr_u16(w, (uint16_t)a->value.len);
    return wr_view(w, a->value);
}

static int cp_write(vpn_wr *w, const vpn_ikev2_payload *p)
{
    vpn_ikev2_iter it;
    vpn_ikev2_cp_attr a;

    vpn_wr_u8(w, p->u.cp.type);
    vpn_wr_zero(w, 3);
    vpn_ikev2_cp_iter_init(&it, p);
    while (vpn_ikev2_cp_iter_next(&it, &a)) {
        int rc = vpn_ikev2_wr_cp_attr(w, &a);
        if (rc)
            return rc;
    }
    return vpn_wr_err(w);
}

void vpn_ikev2_cp_iter_init(vpn_ikev2_iter *it, const vpn_ikev2_payload *cp)
{
    memset(it, 0, sizeof *it);
    if (!cp || cp->type != VPN_IKEV2_PL_CP || !cp->known)
        return;
    vpn_rd_init(&it->r, cp->u.cp.attrs.ptr, cp->u.cp.attrs.len);
    it->left = cp->u.cp.n_attr;
}

bool vpn_ikev2_cp_iter_next(vpn_ikev2_iter *it, vpn_ikev2_cp_attr *out)
{
    if (it->left == 0)
        return false;
    if (rd_cp_attr(&it->r, out)) {
        it->left = 0;
        return false;
    }
    it->left--;
    return true;
}

/* ---- 3.16 EAP ------------------------------------------------------------ */

static int eap_parse(vpn_rd *b, vpn_ikev2_payload *p)
{
    vpn_ikev2_pl_eap *e = &p->u.eap;
    vpn_rd r;

    rd_rest(b, &e->msg);
    vpn_rd_init(&r, e->msg.ptr, e->msg.len);
    vpn_rd_u8(&r, &e->code);
    vpn_rd_u8(&r, &e->ident);
    if (vpn_rd_u16(&r, &e->length))
        return VPN_ERR_TRUNCATED;
    /* RFC 3748 4.1: the EAP Length covers the whole EAP message, which is
     * exactly the payload body here. */
    if (e->length != e->msg.len)
        return VPN_ERR_MALFORMED;
    switch (e->code) {
    case VPN_IKEV2_EAP_SUCCESS:
    case VPN_IKEV2_EAP_FAILURE:
        return e->length == 4 ? 0 : VPN_ERR_MALFORMED; /* RFC 3748 4.2 */
    case VPN_IKEV2_EAP_REQUEST:
    case VPN_IKEV2_EAP_RESPONSE:
    case VPN_IKEV2_EAP_INITIATE:
    case VPN_IKEV2_EAP_FINISH:
        if (vpn_rd_u8(&r, &e->type))
            return VPN_ERR_MALFORMED;
        return rd_rest(&r, &e->data);
    default:
        return VPN_ERR_MALFORMED;
    }
}

static int eap_write(vpn_wr *w, const vpn_ikev2_payload *p)
{
    return wr_view(w, p->u.eap.msg);
}

/* ---- RFC 7383 2.5 Encrypted and Authenticated Fragment ------------------- */

static int skf_parse(vpn_rd *b, vpn_ikev2_payload *p)
{
    vpn_ikev2_pl_skf *f = &p->u.skf;

    f->first = p->next;
    vpn_rd_u16(b, &f->frag_num);
    vpn_rd_u16(b, &f->total);
    rd_rest(b, &f->data);
    if (vpn_rd_err(b))
        return VPN_ERR_TRUNCATED;
    if (f->frag_num == 0 || f->total == 0 || f->frag_num > f->total)
        return VPN_ERR_MALFORMED;
    return 0;
}

static int skf_write(vpn_wr *w, const vpn_ikev2_payload *p)
{
    vpn_wr_u16(w, p->u.skf.frag_num);
    vpn_wr_u16(w, p->u.skf.total);
    return wr_view(w, p->u.skf.data);
}

/* ---- the table ----------------------------------------------------------- */

/* type, name, section, minimum body, may repeat, parse, write */
static const vpn_ikev2_pl_desc descs[] = {
    {VPN_IKEV2_PL_SA, "SA", "RFC 7296 3.3", 8, false, sa_parse, sa_write},
    {VPN_IKEV2_PL_KE, "KE", "RFC 7296 3.4", 4, false, ke_parse, ke_write},
    {VPN_IKEV2_PL_IDI, "IDi", "RFC 7296 3.5", 4, false, id_parse, id_write},
    {VPN_IKEV2_PL_IDR, "IDr", "RFC 7296 3.5", 4, false, id_parse, id_write},
    {VPN_IKEV2_PL_CERT, "CERT", "RFC 7296 3.6", 1, true, cert_parse, cert_write},
    {VPN_IKEV2_PL_CERTREQ, "CERTREQ", "RFC 7296 3.7", 1, true, certreq_parse, cert_write},
    {VPN_IKEV2_PL_AUTH, "AUTH", "RFC 7296 3.8, RFC 7427 3", 4, false, auth_parse, auth_write},
    {VPN_IKEV2_PL_NONCE, "Ni/Nr", "RFC 7296 3.9", VPN_IKEV2_NONCE_MIN, false, nonce_parse,
     data_write},
    {VPN_IKEV2_PL_NOTIFY, "N", "RFC 7296 3.10", 4, true, notify_parse, notify_write},
    {VPN_IKEV2_PL_DELETE, "D", "RFC 7296 3.11", 4, true, delete_parse, delete_write},
    {VPN_IKEV2_PL_VENDOR, "V", "RFC 7296 3.12", 0, true, vendor_parse, data_write},
    {VPN_IKEV2_PL_TSI, "TSi", "RFC 7296 3.13", 4, false, ts_parse, ts_write},
    {VPN_IKEV2_PL_TSR, "TSr", "RFC 7296 3.13", 4, false, ts_parse, ts_write},
    {VPN_IKEV2_PL_SK, "SK", "RFC 7296 3.14", 0, false, sk_parse, sk_write},
    {VPN_IKEV2_PL_CP, "CP", "RFC 7296 3.15", 4, false, cp_parse, cp_write},
    {VPN_IKEV2_PL_EAP, "EAP", "RFC 7296 3.16, RFC 3748 4", 4, false, eap_parse, eap_write},
    {VPN_IKEV2_PL_SKF, "SKF", "RFC 7383 2.5", 4, false, skf_parse, skf_write},
};

const vpn_ikev2_pl_desc *vpn_ikev2_pl_desc_find(uint8_t type)
{
    for (size_t i = 0; i < sizeof descs / sizeof descs[0]; i++)
        if (descs[i].type == type)
            return &descs[i];
    return NULL;
}
