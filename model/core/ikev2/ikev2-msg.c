/*
 * IKEv2 messages: the header (RFC 7296 3.1), the payload chain (3.2), the
 * SK region (3.14, RFC 7383 2.5) and the builder.
 */
#include "ikev2/ikev2-codec.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/vpn-err.h"
#include "common/vpn-log.h"
#include "ikev2/ikev2-internal.h"

/* ---- parsing --------------------------------------------------------------- */

int vpn_ikev2_hdr_parse(const uint8_t *buf, size_t len, vpn_ikev2_hdr *hdr)
{
    vpn_rd r;

    if (!buf || !hdr)
        return VPN_ERR_INVAL;
    memset(hdr, 0, sizeof *hdr);
    vpn_rd_init(&r, buf, len);
    vpn_rd_u64(&r, &hdr->spi_i);
    vpn_rd_u64(&r, &hdr->spi_r);
    vpn_rd_u8(&r, &hdr->next);
    vpn_rd_u8(&r, &hdr->version);
    vpn_rd_u8(&r, &hdr->exchange);
    vpn_rd_u8(&r, &hdr->flags);
    vpn_rd_u32(&r, &hdr->msg_id);
    if (vpn_rd_u32(&r, &hdr->length))
        return VPN_ERR_TRUNCATED;
    /* 2.5: a different major version is answered, not parsed. */
    if (VPN_IKEV2_MAJOR(hdr->version) != 2)
        return VPN_ERR_UNSUPPORTED;
    if (hdr->length < VPN_IKEV2_HDR_LEN)
        return VPN_ERR_MALFORMED;
    if (hdr->length > len)
        return VPN_ERR_TRUNCATED;
    if (hdr->length < len)
        return VPN_ERR_MALFORMED; /* 3.1: Length is the whole message */
    return 0;
}

static uint64_t type_bit(uint8_t type)
{
    return type < 64 ? (uint64_t)1 << type : 0;
}

/*
 * Walks a chain starting with type `next` over r (which holds exactly the
 * chain's bytes, at offset base in msg->buf).
 */
static int walk(vpn_ikev2_msg *m, vpn_rd *r, size_t base, uint8_t next)
{
    uint64_t seen = 0;

    while (next != VPN_IKEV2_PL_NONE) {
        size_t off = base + r->off;
        vpn_ikev2_payload *p;
        const vpn_ikev2_pl_desc *d;
        uint8_t nx, fl;
        uint16_t plen;
        vpn_rd body;
        int rc;

        m->err_payload = next;
        m->err_offset = off;
        if (m->n >= VPN_IKEV2_MSG_MAX_PAYLOADS)
            return VPN_ERR_LIMIT;
        /* 3.2 generic header; a chain that promises another payload but
         * has no bytes left is truncated. */
        vpn_rd_u8(r, &nx);
        vpn_rd_u8(r, &fl);
        if (vpn_rd_u16(r, &plen))
            return VPN_ERR_TRUNCATED;
        if (plen < VPN_IKEV2_GEN_HDR_LEN)
            return VPN_ERR_MALFORMED;
        if (vpn_rd_sub(r, &body, plen - VPN_IKEV2_GEN_HDR_LEN))
            return VPN_ERR_TRUNCATED;

        p = &m->pl[m->n];
        memset(p, 0, sizeof *p);
        p->type = next;
        p->next = nx;
        p->critical = (fl & VPN_IKEV2_CRITICAL) != 0;
        p->raw.ptr = m->buf + off;
        p->raw.len = plen;
        p->body.ptr = plen > VPN_IKEV2_GEN_HDR_LEN ? m->buf + off + VPN_IKEV2_GEN_HDR_LEN : NULL;
        p->body.len = plen - VPN_IKEV2_GEN_HDR_LEN;

        d = vpn_ikev2_pl_desc_find(next);
        if (!d) {
            /* 2.5: skip what we do not know unless told it is critical. */
            if (p->critical) {
                m->err_notify = VPN_IKEV2_N_UNSUPPORTED_CRITICAL_PAYLOAD;
                return VPN_ERR_UNSUPPORTED;
            }
            m->n++;
            next = nx;
            continue;
        }
        if ((next == VPN_IKEV2_PL_SK || next == VPN_IKEV2_PL_SKF) && m->inner)
            return VPN_ERR_MALFORMED; /* no encryption inside encryption */
        if (!d->multi && (seen & type_bit(next)))
            return VPN_ERR_MALFORMED;
        if (p->body.len < d->min_body)
            return VPN_ERR_MALFORMED;
        rc = d->parse(&body, p);
        if (rc == 0)
            rc = vpn_rd_expect_end(&body);
        if (rc)
            return rc;
        p->known = true;
        seen |= type_bit(next);
        m->n++;
        if (next == VPN_IKEV2_PL_SK || next == VPN_IKEV2_PL_SKF) {
            /* 3.14, RFC 7383 2.5: last payload; Next Payload names the
             * first inner payload, not a following one. */
            if (vpn_rd_left(r) != 0) {
                m->err_offset = base + r->off;
                return VPN_ERR_MALFORMED;
            }
            return 0;
        }
        next = nx;
    }
    if (vpn_rd_left(r) != 0) {
        m->err_payload = 0;
        m->err_offset = base + r->off;
        return VPN_ERR_MALFORMED; /* bytes after the last payload */
    }
    return 0;
}

static void msg_reset(vpn_ikev2_msg *m, const uint8_t *buf, size_t len, bool inner)
{
    /* The payload array is cleared one entry at a time by walk(). */
    memset(&m->hdr, 0, sizeof m->hdr);
    m->hdr_ok = false;
    m->inner = inner;
    m->buf = buf;
    m->len = len;
    m->n = 0;
    m->err_notify = 0;
    m->err_payload = 0;
    m->err_offset = 0;
}

/* Every failure but a version or critical-payload refusal is a syntax error
 * to the peer (RFC 7296 2.21). */
static int parse_fail(vpn_ikev2_msg *m, int rc)
{
    if (rc == 0) {
        m->err_payload = 0; /* walk() left its position here */
        m->err_offset = 0;
    } else if (m->err_notify == 0) {
        m->err_notify = VPN_IKEV2_N_INVALID_SYNTAX;
    }
    return rc;
}

int vpn_ikev2_msg_parse(const uint8_t *buf, size_t len, vpn_ikev2_msg *msg)
{
    vpn_rd r;
    int rc;

    if (!buf || !msg)
        return VPN_ERR_INVAL;
    msg_reset(msg, buf, len, false);
    rc = vpn_ikev2_hdr_parse(buf, len, &msg->hdr);
    msg->hdr_ok = len >= VPN_IKEV2_HDR_LEN;
    if (rc == VPN_ERR_UNSUPPORTED) {
        msg->err_notify = VPN_IKEV2_N_INVALID_MAJOR_VERSION;
        return rc;
    }
    if (rc)
        return parse_fail(msg, rc);
    vpn_rd_init(&r, buf + VPN_IKEV2_HDR_LEN, len - VPN_IKEV2_HDR_LEN);
    return parse_fail(msg, walk(msg, &r, VPN_IKEV2_HDR_LEN, msg->hdr.next));
}

int vpn_ikev2_msg_parse_inner(const uint8_t *buf, size_t len, uint8_t first,
                              vpn_ikev2_msg *msg)
{
    vpn_rd r;

    if ((!buf && len) || !msg)
        return VPN_ERR_INVAL;
    msg_reset(msg, buf, len, true);
    msg->hdr.next = first;
    vpn_rd_init(&r, buf, len);
    return parse_fail(msg, walk(msg, &r, 0, first));
}

/* ---- looking things up ------------------------------------------------------ */

static size_t index_after(const vpn_ikev2_msg *msg, const vpn_ikev2_payload *after)
{
    if (!after)
        return 0;
    if (after < msg->pl || after >= msg->pl + msg->n)
        return msg->n; /* not ours: nothing follows */
    return (size_t)(after - msg->pl) + 1;
}

const vpn_ikev2_payload *vpn_ikev2_msg_find(const vpn_ikev2_msg *msg, uint8_t type,
                                            const vpn_ikev2_payload *after)
{
    if (!msg)
        return NULL;
    for (size_t i = index_after(msg, after); i < msg->n; i++)
        if (msg->pl[i].type == type && msg->pl[i].known)
            return &msg->pl[i];
    return NULL;
}

const vpn_ikev2_payload *vpn_ikev2_msg_find_notify(const vpn_ikev2_msg *msg, uint16_t type,
                                                   const vpn_ikev2_payload *after)
{
    const vpn_ikev2_payload *p = after;

    while ((p = vpn_ikev2_msg_find(msg, VPN_IKEV2_PL_NOTIFY, p)) != NULL)
        if (p->u.notify.type == type)
            return p;
    return NULL;
}

size_t vpn_ikev2_msg_count(const vpn_ikev2_msg *msg, uint8_t type)
{
    size_t n = 0;

    for (const vpn_ikev2_payload *p = NULL; (p = vpn_ikev2_msg_find(msg, type, p)) != NULL;)
        n++;
    return n;
}

/* Appends to a bounded string, counting what did not fit (as snprintf). */
typedef struct strbuf {
    char *out;
    size_t cap, len;
} strbuf;

static void sb_add(strbuf *sb, const char *fmt, ...) VPN_PRINTF(2, 3);
static void sb_add(strbuf *sb, const char *fmt, ...)
{
    size_t room = sb->len < sb->cap ? sb->cap - sb->len : 0;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(room ? sb->out + sb->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        sb->len += (size_t)n;
}

size_t vpn_ikev2_msg_describe(const vpn_ikev2_msg *msg, char *out, size_t cap)
{
    strbuf sb = {out, out ? cap : 0, 0};

    if (sb.cap)
        out[0] = '\0';
    if (!msg)
        return 0;
    if (!msg->inner)
        sb_add(&sb, "%s %s %u ", vpn_ikev2_exchange_name(msg->hdr.exchange),
               (msg->hdr.flags & VPN_IKEV2_FLAG_R) ? "response" : "request",
               (unsigned)msg->hdr.msg_id);
    sb_add(&sb, "[");
    for (size_t i = 0; i < msg->n; i++) {
        const vpn_ikev2_payload *p = &msg->pl[i];
        if (!p->known) {
            sb_add(&sb, " UNKNOWN(%u)", p->type);
        } else if (p->type == VPN_IKEV2_PL_NOTIFY) {
            const char *nm = vpn_ikev2_notify_name(p->u.notify.type);
            if (strcmp(nm, "UNKNOWN") == 0)
                sb_add(&sb, " N(%u)", p->u.notify.type);
            else
                sb_add(&sb, " N(%s)", nm);
        } else {
            sb_add(&sb, " %s", vpn_ikev2_payload_name(p->type));
        }
    }
    sb_add(&sb, " ]");
    return sb.len;
}

/* ---- SK regions ------------------------------------------------------------ */

int vpn_ikev2_sk_split(const vpn_ikev2_msg *msg, const vpn_ikev2_payload *sk, size_t iv_len,
                       size_t icv_len, size_t block_len, vpn_ikev2_sk_region *out)
{
    vpn_ikev2_view data;
    size_t ct;

    if (!msg || !sk || !out || block_len == 0)
        return VPN_ERR_INVAL;
    if (sk < msg->pl || sk >= msg->pl + msg->n || !sk->known)
        return VPN_ERR_INVAL;
    if (sk->type == VPN_IKEV2_PL_SK)
        data = sk->u.sk.data;
    else if (sk->type == VPN_IKEV2_PL_SKF)
        data = sk->u.skf.data;
    else
        return VPN_ERR_INVAL;
    /* 3.14: at least the IV, the Pad Length octet and the ICV. */
    if (iv_len > data.len || icv_len > data.len - iv_len || data.len - iv_len - icv_len < 1)
        return VPN_ERR_MALFORMED;
    ct = data.len - iv_len - icv_len;
    if (ct % block_len != 0)
        return VPN_ERR_MALFORMED;
    out->iv_off = (size_t)(data.ptr - msg->buf);
    out->iv_len = iv_len;
    out->ct_off = out->iv_off + iv_len;
    out->ct_len = ct;
    out->icv_off = out->ct_off + ct;
    out->icv_len = icv_len;
    return 0;
}

int vpn_ikev2_sk_unpad(const uint8_t *plain, size_t len, size_t *inner_len)
{
    size_t pad;

    if (!plain || !inner_len)
        return VPN_ERR_INVAL;
    if (len == 0)
        return VPN_ERR_MALFORMED;
    pad = plain[len - 1];
    if (pad + 1 > len)
        return VPN_ERR_MALFORMED;
    *inner_len = len - pad - 1;
    return 0;
}

/* ---- building -------------------------------------------------------------- */

static int bld_fail(vpn_ikev2_bld *b, int rc)
{
    if (rc && b->err == 0)
        b->err = rc;
    return b->err;
}

static int bld_init_common(vpn_ikev2_bld *b, vpn_wr *w)
{
    if (!b || !w)
        return VPN_ERR_INVAL;
    memset(b, 0, sizeof *b);
    b->w = w;
    b->start = vpn_wr_len(w);
    b->next_pos = SIZE_MAX;
    return vpn_wr_err(w) ? bld_fail(b, vpn_wr_err(w)) : 0;
}

int vpn_ikev2_bld_init(vpn_ikev2_bld *b, vpn_wr *w, const vpn_ikev2_hdr *hdr)
{
    int rc;

    if (!hdr)
        return VPN_ERR_INVAL;
    rc = bld_init_common(b, w);
    if (rc)
        return rc;
    vpn_wr_u64(w, hdr->spi_i);
    vpn_wr_u64(w, hdr->spi_r);
    b->next_pos = vpn_wr_len(w);
    vpn_wr_u8(w, VPN_IKEV2_PL_NONE);
    vpn_wr_u8(w, hdr->version);
    vpn_wr_u8(w, hdr->exchange);
    vpn_wr_u8(w, hdr->flags);
    vpn_wr_u32(w, hdr->msg_id);
    return bld_fail(b, vpn_wr_u32(w, 0)); /* Length: patched by finish */
}

int vpn_ikev2_bld_init_inner(vpn_ikev2_bld *b, vpn_wr *w)
{
    int rc = bld_init_common(b, w);

    if (rc)
        return rc;
    b->inner = true;
    return 0;
}

/* Bits of once-only types already written in the current chain. */
static uint64_t *bld_seen(vpn_ikev2_bld *b)
{
    return b->in_sk ? &b->seen_inner : &b->seen;
}

static size_t *bld_count(vpn_ikev2_bld *b)
{
    return b->in_sk ? &b->n_inner : &b->n;
}

/*
 * Starts a payload: checks that it may come next, writes its type into the
 * previous Next Payload field (or the header's) and its own generic header
 * with a zero length.
 */
static int bld_begin(vpn_ikev2_bld *b, uint8_t type, bool critical, size_t *hdr_off)
{
    const vpn_ikev2_pl_desc *d = vpn_ikev2_pl_desc_find(type);
    vpn_wr *w = b->w;

    if (b->err)
        return b->err;
    if (b->sealed)
        return bld_fail(b, VPN_ERR_STATE);
    if (type == VPN_IKEV2_PL_NONE)
        return bld_fail(b, VPN_ERR_INVAL);
    if ((type == VPN_IKEV2_PL_SK || type == VPN_IKEV2_PL_SKF) && (b->inner || b->in_sk))
        return bld_fail(b, VPN_ERR_STATE);
    if (*bld_count(b) >= VPN_IKEV2_MSG_MAX_PAYLOADS)
        return bld_fail(b, VPN_ERR_LIMIT);
    /* Whatever we write must parse again: no repeats of once-only types. */
    if (d && !d->multi && (*bld_seen(b) & type_bit(type)))
        return bld_fail(b, VPN_ERR_INVAL);
    if (vpn_wr_room(w) < VPN_IKEV2_GEN_HDR_LEN)
        return bld_fail(b, VPN_ERR_NOSPACE);

    *hdr_off = vpn_wr_len(w);
    if (b->next_pos != SIZE_MAX)
        w->buf[b->next_pos] = type;
    if (b->n == 0 && b->n_inner == 0 && !b->in_sk)
        b->first = type;
    vpn_wr_u8(w, VPN_IKEV2_PL_NONE);
    vpn_wr_u8(w, critical && !d ? VPN_IKEV2_CRITICAL : 0); /* 3.2: C is 0 for known types */
    return bld_fail(b, vpn_wr_u16(w, 0));
}

/*
 * Ends a payload: sets its length, then parses its body again so that the
 * builder can never emit what its own parser would refuse.
 */
static int bld_end(vpn_ikev2_bld *b, uint8_t type, size_t hdr_off)
{
    const vpn_ikev2_pl_desc *d = vpn_ikev2_pl_desc_find(type);
    vpn_wr *w = b->w;
    int rc = vpn_wr_len_patch(w, hdr_off + 2, 2, hdr_off);

    if (rc)
        return bld_fail(b, rc);
    if (d) {
        vpn_ikev2_payload chk;
        vpn_rd r;
        size_t blen = vpn_wr_len(w) - hdr_off - VPN_IKEV2_GEN_HDR_LEN;

        memset(&chk, 0, sizeof chk);
        chk.type = type;
        chk.next = w->buf[hdr_off];
        vpn_rd_init(&r, w->buf + hdr_off + VPN_IKEV2_GEN_HDR_LEN, blen);
        if (blen < d->min_body)
            return bld_fail(b, VPN_ERR_INVAL);
        rc = d->parse(&r, &chk);
        if (rc == 0)
            rc = vpn_rd_expect_end(&r);
        if (rc)
            return bld_fail(b, VPN_ERR_INVAL);
    }
    *bld_seen(b) |= type_bit(type);
    (*bld_count(b))++;
    if (type == VPN_IKEV2_PL_SK || type == VPN_IKEV2_PL_SKF) {
        b->sealed = true;
        b->next_pos = SIZE_MAX;
    } else {
        b->next_pos = hdr_off;
    }
    return 0;
}

static int bld_write_body(vpn_ikev2_bld *b, const vpn_ikev2_payload *p)
{
    const vpn_ikev2_pl_desc *d = p->known ? vpn_ikev2_pl_desc_find(p->type) : NULL;
    int rc;

    if (d)
        rc = d->write(b->w, p);
    else
        rc = vpn_wr_bytes(b->w, p->body.ptr, p->body.len);
    if (rc == 0)
        rc = vpn_wr_err(b->w);
    return bld_fail(b, rc);
}

int vpn_ikev2_bld_payload(vpn_ikev2_bld *b, const vpn_ikev2_payload *p)
{
    size_t off;
    int rc;

    if (!b || !p)
        return VPN_ERR_INVAL;
    if (p->known && !vpn_ikev2_pl_desc_find(p->type))
        return bld_fail(b, VPN_ERR_INVAL);
    /* An unknown type written as known would be parsed differently. */
    if (!p->known && vpn_ikev2_pl_desc_find(p->type))
        return bld_fail(b, VPN_ERR_INVAL);
    rc = bld_begin(b, p->type, p->critical, &off);
    if (rc)
        return rc;
    if (p->known && p->type == VPN_IKEV2_PL_SK)
        b->w->buf[off] = p->u.sk.first;
    else if (p->known && p->type == VPN_IKEV2_PL_SKF)
        b->w->buf[off] = p->u.skf.first;
    rc = bld_write_body(b, p);
    if (rc)
        return rc;
    return bld_end(b, p->type, off);
}

int vpn_ikev2_bld_raw(vpn_ikev2_bld *b, uint8_t type, bool critical, const uint8_t *body,
                      size_t len)
{
    size_t off;
    int rc;

    if (!b || (!body && len))
        return VPN_ERR_INVAL;
    rc = bld_begin(b, type, critical, &off);
    if (rc)
        return rc;
    rc = bld_fail(b, vpn_wr_bytes(b->w, body, len));
    if (rc)
        return rc;
    return bld_end(b, type, off);
}

int vpn_ikev2_bld_finish(vpn_ikev2_bld *b, size_t *len)
{
    if (!b)
        return VPN_ERR_INVAL;
    if (b->err)
        return b->err;
    if (b->in_sk)
        return bld_fail(b, VPN_ERR_STATE);
    if (!b->inner) {
        int rc = vpn_wr_len_patch(b->w, b->start + 24, 4, b->start);
        if (rc)
            return bld_fail(b, rc);
    }
    if (len)
        *len = vpn_wr_len(b->w) - b->start;
    return 0;
}

/* ---- typed appenders ---------------------------------------------------------- */

static vpn_ikev2_view mkview(const uint8_t *p, size_t len)
{
    vpn_ikev2_view v = {len ? p : NULL, len};
    return v;
}

static int bld_typed(vpn_ikev2_bld *b, vpn_ikev2_payload *p, uint8_t type)
{
    p->type = type;
    p->known = true;
    return vpn_ikev2_bld_payload(b, p);
}

int vpn_ikev2_bld_sa(vpn_ikev2_bld *b, const vpn_ikev2_proposal *props, size_t n)
{
    size_t off;
    int rc;

    if (!b || (!props && n))
        return VPN_ERR_INVAL;
    if (n == 0 || n > 255)
        return bld_fail(b, VPN_ERR_INVAL);
    rc = bld_begin(b, VPN_IKEV2_PL_SA, false, &off);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        rc = bld_fail(b, vpn_ikev2_wr_proposal(b->w, &props[i], i + 1 == n));
        if (rc)
            return rc;
    }
    return bld_end(b, VPN_IKEV2_PL_SA, off);
}

int vpn_ikev2_bld_ke(vpn_ikev2_bld *b, uint16_t group, const uint8_t *data, size_t len)
{
    vpn_ikev2_payload p;

    if (!b || (!data && len))
        return VPN_ERR_INVAL;
    memset(&p, 0, sizeof p);
    p.u.ke.group = group;
    p.u.ke.data = mkview(data, len);
    return bld_typed(b, &p, VPN_IKEV2_PL_KE);
}

int vpn_ikev2_bld_id(vpn_ikev2_bld *b, uint8_t pl_type, uint8_t id_type, const uint8_t *data,
                     size_t len)
{
    vpn_ikev2_payload p;

    if (!b || (!data && len))
        return VPN_ERR_INVAL;
    if (pl_type != VPN_IKEV2_PL_IDI && pl_type != VPN_IKEV2_PL_IDR)
        return bld_fail(b, VPN_ERR_INVAL);
    memset(&p, 0, sizeof p);
    p.u.id.type = id_type;
    p.u.id.data = mkview(data, len);
    return bld_typed(b, &p, pl_type);
}

int vpn_ikev2_bld_cert(vpn_ikev2_bld *b, uint8_t pl_type, uint8_t encoding,
                       const uint8_t *data, size_t len)
{
    vpn_ikev2_payload p;

    if (!b || (!data && len))
        return VPN_ERR_INVAL;
    if (pl_type != VPN_IKEV2_PL_CERT && pl_type != VPN_IKEV2_PL_CERTREQ)
        return bld_fail(b, VPN_ERR_INVAL);
    memset(&p, 0, sizeof p);
    p.u.cert.encoding = encoding;
    p.u.cert.data = mkview(data, len);
    return bld_typed(b, &p, pl_type);
}

int vpn_ikev2_bld_auth(vpn_ikev2_bld *b, uint8_t method, const uint8_t *data, size_t len)
{
    vpn_ikev2_payload p;

    if (!b || (!data && len))
        return VPN_ERR_INVAL;
    memset(&p, 0, sizeof p);
    p.u.auth.method = method;
    p.u.auth.data = mkview(data, len);
    return bld_typed(b, &p, VPN_IKEV2_PL_AUTH);
}

int vpn_ikev2_bld_auth_ds(vpn_ikev2_bld *b, const uint8_t *alg_id, size_t alg_len,
                          const uint8_t *sig, size_t sig_len)
{
    size_t off;
    int rc;

    if (!b || (!alg_id && alg_len) || (!sig && sig_len))
        return VPN_ERR_INVAL;
    if (alg_len == 0 || alg_len > 255 || sig_len == 0)
        return bld_fail(b, VPN_ERR_INVAL);
    rc = bld_begin(b, VPN_IKEV2_PL_AUTH, false, &off);
    if (rc)
        return rc;
    /* RFC 7427 3: method, reserved, then length-prefixed AlgorithmIdentifier */
    vpn_wr_u8(b->w, VPN_IKEV2_AUTH_DIGITAL_SIGNATURE);
    vpn_wr_zero(b->w, 3);
    vpn_wr_u8(b->w, (uint8_t)alg_len);
    vpn_wr_bytes(b->w, alg_id, alg_len);
    rc = bld_fail(b, vpn_wr_bytes(b->w, sig, sig_len));
    if (rc)
        return rc;
    return bld_end(b, VPN_IKEV2_PL_AUTH, off);
}

int vpn_ikev2_bld_nonce(vpn_ikev2_bld *b, const uint8_t *data, size_t len)
{
    vpn_ikev2_payload p;

    if (!b || (!data && len))
        return VPN_ERR_INVAL;
    if (len < VPN_IKEV2_NONCE_MIN || len > VPN_IKEV2_NONCE_MAX)
        return bld_fail(b, VPN_ERR_INVAL);
    memset(&p, 0, sizeof p);
    p.u.nonce.data = mkview(data, len);
    return bld_typed(b, &p, VPN_IKEV2_PL_NONCE);
}

int vpn_ikev2_bld_notify(vpn_ikev2_bld *b, uint8_t proto, const uint8_t *spi, size_t spi_len,
                         uint16_t type, const uint8_t *data, size_t len)
{
    vpn_ikev2_payload p;

    if (!b || (!spi && spi_len) || (!data && len))
        return VPN_ERR_INVAL;
    memset(&p, 0, sizeof p);
    p.u.notify.proto = proto;
    p.u.notify.type = type;
    p.u.notify.spi = mkview(spi, spi_len);
    p.u.notify.data = mkview(data, len);
    return bld_typed(b, &p, VPN_IKEV2_PL_NOTIFY);
}

int vpn_ikev2_bld_delete(vpn_ikev2_bld *b, uint8_t proto, uint8_t spi_size,
                         const uint8_t *spis, size_t n)
{
    vpn_ikev2_payload p;

    if (!b || (!spis && n && spi_size))
        return VPN_ERR_INVAL;
    if (n > 0xffffu)
        return bld_fail(b, VPN_ERR_INVAL);
    memset(&p, 0, sizeof p);
    p.u.del.proto = proto;
    p.u.del.spi_size = spi_size;
    p.u.del.n_spi = (uint16_t)n;
    p.u.del.spis = mkview(spis, (size_t)spi_size * n);
    return bld_typed(b, &p, VPN_IKEV2_PL_DELETE);
}

int vpn_ikev2_bld_vendor(vpn_ikev2_bld *b, const uint8_t *data, size_t len)
{
    vpn_ikev2_payload p;

    if (!b || (!data && len))
        return VPN_ERR_INVAL;
    memset(&p, 0, sizeof p);
    p.u.vendor.data = mkview(data, len);
    return bld_typed(b, &p, VPN_IKEV2_PL_VENDOR);
}

int vpn_ikev2_bld_ts(vpn_ikev2_bld *b, uint8_t pl_type, const vpn_ikev2_ts *ts, size_t n)
{
    size_t off;
    int rc;

    if (!b || (!ts && n))
        return VPN_ERR_INVAL;
    if ((pl_type != VPN_IKEV2_PL_TSI && pl_type != VPN_IKEV2_PL_TSR) || n == 0 || n > 255)
        return bld_fail(b, VPN_ERR_INVAL);
    rc = bld_begin(b, pl_type, false, &off);
    if (rc)
        return rc;
    vpn_wr_u8(b->w, (uint8_t)n);
    vpn_wr_zero(b->w, 3);
    for (size_t i = 0; i < n; i++) {
        if (ts[i].type != VPN_IKEV2_TS_IPV4_ADDR_RANGE &&
            ts[i].type != VPN_IKEV2_TS_IPV6_ADDR_RANGE)
            return bld_fail(b, VPN_ERR_INVAL);
        rc = bld_fail(b, vpn_ikev2_wr_ts(b->w, &ts[i]));
        if (rc)
            return rc;
    }
    return bld_end(b, pl_type, off);
}

int vpn_ikev2_bld_cp(vpn_ikev2_bld *b, uint8_t cfg_type, const vpn_ikev2_cp_attr *attrs,
                     size_t n)
{
    size_t off;
    int rc;

    if (!b || (!attrs && n))
        return VPN_ERR_INVAL;
    rc = bld_begin(b, VPN_IKEV2_PL_CP, false, &off);
    if (rc)
        return rc;
    vpn_wr_u8(b->w, cfg_type);
    vpn_wr_zero(b->w, 3);
    for (size_t i = 0; i < n; i++) {
        rc = bld_fail(b, vpn_ikev2_wr_cp_attr(b->w, &attrs[i]));
        if (rc)
            return rc;
    }
    return bld_end(b, VPN_IKEV2_PL_CP, off);
}

int vpn_ikev2_bld_eap(vpn_ikev2_bld *b, const uint8_t *msg, size_t len)
{
    vpn_ikev2_payload p;

    if (!b || (!msg && len))
        return VPN_ERR_INVAL;
    memset(&p, 0, sizeof p);
    p.u.eap.msg = mkview(msg, len);
    return bld_typed(b, &p, VPN_IKEV2_PL_EAP);
}

/* ---- SK and SKF ------------------------------------------------------------------ */

int vpn_ikev2_bld_sk_open(vpn_ikev2_bld *b, size_t iv_len)
{
    size_t off;
    int rc;

    if (!b)
        return VPN_ERR_INVAL;
    rc = bld_begin(b, VPN_IKEV2_PL_SK, false, &off);
    if (rc)
        return rc;
    rc = bld_fail(b, vpn_wr_zero(b->w, iv_len));
    if (rc)
        return rc;
    b->seen |= type_bit(VPN_IKEV2_PL_SK);
    b->n++;
    b->sk_hdr = off;
    b->sk_iv = off + VPN_IKEV2_GEN_HDR_LEN;
    b->sk_ct = b->sk_iv + iv_len;
    b->in_sk = true;
    b->n_inner = 0;
    b->seen_inner = 0;
    b->next_pos = off; /* the first inner type goes into the SK header */
    return 0;
}

/* Zero padding + Pad Length up to a multiple of block_len, then the ICV. */
static int wr_pad_icv(vpn_wr *w, size_t plain, size_t block_len, size_t icv_len)
{
    size_t pad = (block_len - (plain + 1) % block_len) % block_len;

    vpn_wr_zero(w, pad);
    vpn_wr_u8(w, (uint8_t)pad);
    return vpn_wr_zero(w, icv_len);
}

int vpn_ikev2_bld_sk_close(vpn_ikev2_bld *b, size_t block_len, size_t icv_len,
                           vpn_ikev2_sk_region *out)
{
    size_t plain;
    int rc;

    if (!b || !out)
        return VPN_ERR_INVAL;
    if (b->err)
        return b->err;
    if (!b->in_sk)
        return bld_fail(b, VPN_ERR_STATE);
    if (block_len == 0 || block_len > 256)
        return bld_fail(b, VPN_ERR_INVAL);
    plain = vpn_wr_len(b->w) - b->sk_ct;
    rc = bld_fail(b, wr_pad_icv(b->w, plain, block_len, icv_len));
    if (rc)
        return rc;
    rc = bld_fail(b, vpn_wr_len_patch(b->w, b->sk_hdr + 2, 2, b->sk_hdr));
    if (rc)
        return rc;
    b->in_sk = false;
    b->sealed = true;
    b->next_pos = SIZE_MAX;
    out->iv_off = b->sk_iv - b->start;
    out->iv_len = b->sk_ct - b->sk_iv;
    out->ct_off = b->sk_ct - b->start;
    out->icv_off = vpn_wr_len(b->w) - icv_len - b->start;
    out->ct_len = out->icv_off - out->ct_off;
    out->icv_len = icv_len;
    return 0;
}

int vpn_ikev2_bld_skf(vpn_ikev2_bld *b, uint16_t frag_num, uint16_t total, uint8_t first,
                      size_t iv_len, const uint8_t *chunk, size_t chunk_len, size_t block_len,
                      size_t icv_len, vpn_ikev2_sk_region *out)
{
    size_t off, iv;
    int rc;

    if (!b || !out || (!chunk && chunk_len))
        return VPN_ERR_INVAL;
    if (frag_num == 0 || frag_num > total || block_len == 0 || block_len > 256)
        return bld_fail(b, VPN_ERR_INVAL);
    rc = bld_begin(b, VPN_IKEV2_PL_SKF, false, &off);
    if (rc)
        return rc;
    b->w->buf[off] = first; /* RFC 7383 2.5: first inner type, fragment 1 only */
    vpn_wr_u16(b->w, frag_num);
    vpn_wr_u16(b->w, total);
    iv = vpn_wr_len(b->w);
    vpn_wr_zero(b->w, iv_len);
    vpn_wr_bytes(b->w, chunk, chunk_len);
    rc = bld_fail(b, wr_pad_icv(b->w, chunk_len, block_len, icv_len));
    if (rc)
        return rc;
    rc = bld_end(b, VPN_IKEV2_PL_SKF, off);
    if (rc)
        return rc;
    out->iv_off = iv - b->start;
    out->iv_len = iv_len;
    out->ct_off = out->iv_off + iv_len;
    out->icv_off = vpn_wr_len(b->w) - icv_len - b->start;
    out->ct_len = out->icv_off - out->ct_off;
    out->icv_len = icv_len;
    return 0;
}
