#include "isakmp/isakmp-build.h"

#include <string.h>

#include "common/vpn-err.h"

/* Records the first error; the builder's and the writer's stay in step. */
static int bld_fail(vpn_isakmp_bld *b, int err)
{
    if (b->err == 0)
        b->err = err;
    if (b->w.err == 0)
        b->w.err = b->err;
    return b->err;
}

static int bld_err(vpn_isakmp_bld *b)
{
    if (b->err == 0 && b->w.err != 0)
        b->err = b->w.err;
    return b->err;
}

static void put_at(vpn_isakmp_bld *b, size_t pos, unsigned width, uint32_t v)
{
    for (unsigned i = 0; i < width; i++)
        b->w.buf[pos + i] = (uint8_t)(v >> (8 * (width - 1 - i)));
}

int vpn_isakmp_bld_init(vpn_isakmp_bld *b, uint8_t *buf, size_t cap, const vpn_isakmp_hdr *hdr)
{
    vpn_isakmp_hdr h;

    memset(b, 0, sizeof *b);
    vpn_wr_init(&b->w, buf, cap);
    if (hdr == NULL)
        return bld_fail(b, VPN_ERR_INVAL);
    h = *hdr;
    h.next_payload = VPN_ISAKMP_PL_NONE;
    h.length = 0;
    vpn_isakmp_hdr_write(&h, &b->w);
    /* RFC 2408 3.1: the header's Next Payload names the first payload. */
    b->lvl[0].np_pos = 16;
    b->lvl[0].np_width = 1;
    return bld_err(b);
}

int vpn_isakmp_bld_begin(vpn_isakmp_bld *b, uint8_t type)
{
    vpn_isakmp_bld_level *l;
    size_t start;

    if (bld_err(b))
        return b->err;
    if (b->done || b->depth >= VPN_ISAKMP_BLD_DEPTH)
        return bld_fail(b, b->done ? VPN_ERR_STATE : VPN_ERR_LIMIT);
    if (b->depth == 0 && b->n >= VPN_ISAKMP_MAX_PAYLOADS)
        return bld_fail(b, VPN_ERR_LIMIT);
    if (vpn_wr_room(&b->w) < VPN_ISAKMP_GEN_HDR_LEN)
        return bld_fail(b, VPN_ERR_NOSPACE);
    l = &b->lvl[b->depth];
    if (l->np_width)
        put_at(b, l->np_pos, l->np_width, type);
    start = vpn_wr_len(&b->w);
    /* RFC 2408 3.2: next payload (patched by a successor), RESERVED, length. */
    vpn_wr_u8(&b->w, VPN_ISAKMP_PL_NONE);
    vpn_wr_u8(&b->w, 0);
    vpn_wr_u16(&b->w, 0);
    l->np_pos = start;
    l->np_width = 1;
    l->children++;
    if (b->depth == 0) {
        b->pl_off[b->n] = start;
        b->pl_type[b->n] = type;
        b->n++;
    }
    b->depth++;
    memset(&b->lvl[b->depth], 0, sizeof b->lvl[b->depth]);
    b->lvl[b->depth].start = start;
    return bld_err(b);
}

int vpn_isakmp_bld_end(vpn_isakmp_bld *b)
{
    vpn_isakmp_bld_level *l;
    size_t len;

    if (bld_err(b))
        return b->err;
    if (b->depth == 0)
        return bld_fail(b, VPN_ERR_STATE);
    l = &b->lvl[b->depth];
    len = vpn_wr_len(&b->w) - l->start;
    if (len > 0xffff)
        return bld_fail(b, VPN_ERR_OVERFLOW);
    put_at(b, l->start + 2, 2, (uint32_t)len);
    if (l->cnt_width) {
        if (l->children >= (1u << (8 * l->cnt_width)))
            return bld_fail(b, VPN_ERR_OVERFLOW);
        put_at(b, l->cnt_pos, l->cnt_width, l->children);
    }
    b->depth--;
    return 0;
}

static int reserve_field(vpn_isakmp_bld *b, unsigned width, size_t *pos)
{
    if (bld_err(b))
        return b->err;
    if (b->depth == 0 || (width != 1 && width != 2))
        return bld_fail(b, VPN_ERR_STATE);
    *pos = vpn_wr_len(&b->w);
    if (vpn_wr_zero(&b->w, width))
        return bld_err(b);
    return 0;
}

int vpn_isakmp_bld_first_np(vpn_isakmp_bld *b, unsigned width)
{
    size_t pos;

    if (reserve_field(b, width, &pos))
        return b->err;
    b->lvl[b->depth].np_pos = pos;
    b->lvl[b->depth].np_width = (uint8_t)width;
    return 0;
}

int vpn_isakmp_bld_count(vpn_isakmp_bld *b, unsigned width)
{
    size_t pos;

    if (reserve_field(b, width, &pos))
        return b->err;
    b->lvl[b->depth].cnt_pos = pos;
    b->lvl[b->depth].cnt_width = (uint8_t)width;
    return 0;
}

void vpn_isakmp_bld_child(vpn_isakmp_bld *b)
{
    b->lvl[b->depth].children++;
}

int vpn_isakmp_bld_fail(vpn_isakmp_bld *b, int err)
{
    return bld_fail(b, err);
}

int vpn_isakmp_bld_error(vpn_isakmp_bld *b)
{
    return bld_err(b);
}

int vpn_isakmp_bld_raw(vpn_isakmp_bld *b, uint8_t type, const void *body, size_t len)
{
    vpn_isakmp_bld_begin(b, type);
    vpn_wr_bytes(&b->w, body, len);
    if (bld_err(b))
        return b->err;
    return vpn_isakmp_bld_end(b);
}

int vpn_isakmp_bld_placeholder(vpn_isakmp_bld *b, uint8_t type, size_t len, uint8_t **slot)
{
    *slot = NULL;
    vpn_isakmp_bld_begin(b, type);
    if (bld_err(b))
        return b->err;
    if (vpn_wr_take(&b->w, slot, len))
        return bld_err(b);
    memset(*slot, 0, len);
    return vpn_isakmp_bld_end(b);
}

static int close_chain(vpn_isakmp_bld *b)
{
    if (bld_err(b))
        return b->err;
    if (b->done || b->depth != 0)
        return bld_fail(b, VPN_ERR_STATE);
    b->chain_end = vpn_wr_len(&b->w);
    return 0;
}

static int patch_total(vpn_isakmp_bld *b, size_t *len)
{
    size_t total = vpn_wr_len(&b->w);

    if (total > 0xffffffffu)
        return bld_fail(b, VPN_ERR_OVERFLOW);
    put_at(b, 24, 4, (uint32_t)total);
    b->done = true;
    if (len)
        *len = total;
    return 0;
}

int vpn_isakmp_bld_finish(vpn_isakmp_bld *b, size_t *len)
{
    if (close_chain(b))
        return b->err;
    return patch_total(b, len);
}

/* RFC 2409 appendix B padding; RFC 2408 3.1: the length covers it. */
int vpn_isakmp_bld_pad(vpn_isakmp_bld *b, unsigned block, size_t *len)
{
    size_t plain, pad;
    uint8_t *p;

    if (block == 0 || block > 255)
        return bld_fail(b, VPN_ERR_INVAL);
    if (close_chain(b))
        return b->err;
    plain = b->chain_end - VPN_ISAKMP_HDR_LEN;
    pad = block - plain % block; /* 1..block: never zero */
    if (vpn_wr_take(&b->w, &p, pad))
        return bld_err(b);
    memset(p, 0, pad);
    p[pad - 1] = (uint8_t)(pad - 1);
    b->w.buf[19] |= VPN_ISAKMP_FLAG_E;
    return patch_total(b, len);
}

int vpn_isakmp_bld_after(const vpn_isakmp_bld *b, size_t idx, vpn_isakmp_view *out)
{
    size_t from;

    if (!b->done || b->err)
        return VPN_ERR_STATE;
    if (idx >= b->n)
        return VPN_ERR_INVAL;
    from = idx + 1 < b->n ? b->pl_off[idx + 1] : b->chain_end;
    out->p = b->w.buf + from;
    out->len = b->chain_end - from;
    return 0;
}

int vpn_isakmp_bld_before(const vpn_isakmp_bld *b, size_t idx, vpn_isakmp_view *out)
{
    if (!b->done || b->err)
        return VPN_ERR_STATE;
    if (idx >= b->n)
        return VPN_ERR_INVAL;
    out->p = b->w.buf + VPN_ISAKMP_HDR_LEN;
    out->len = b->pl_off[idx] - VPN_ISAKMP_HDR_LEN;
    return 0;
}

/* ---- typed payloads ---------------------------------------------------- */

/* RFC 2408 3.4 with RFC 2407 4.6.1: DOI, situation, proposals. */
int vpn_isakmp_bld_sa_begin(vpn_isakmp_bld *b, uint32_t doi, uint32_t situation)
{
    vpn_isakmp_bld_begin(b, VPN_ISAKMP_PL_SA);
    vpn_wr_u32(&b->w, doi);
    vpn_wr_u32(&b->w, situation);
    return bld_err(b);
}

int vpn_isakmp_bld_sa_end(vpn_isakmp_bld *b)
{
    return vpn_isakmp_bld_end(b);
}

/* RFC 2408 3.5. */
int vpn_isakmp_bld_prop_begin(vpn_isakmp_bld *b, uint8_t num, uint8_t proto, const uint8_t *spi,
                              size_t spi_len)
{
    if (spi_len > 0xff)
        return bld_fail(b, VPN_ERR_OVERFLOW);
    vpn_isakmp_bld_begin(b, VPN_ISAKMP_PL_P);
    vpn_wr_u8(&b->w, num);
    vpn_wr_u8(&b->w, proto);
    vpn_wr_u8(&b->w, (uint8_t)spi_len);
    vpn_isakmp_bld_count(b, 1);
    vpn_wr_bytes(&b->w, spi, spi_len);
    return bld_err(b);
}

/* RFC 2408 3.6. */
int vpn_isakmp_bld_xform(vpn_isakmp_bld *b, uint8_t num, uint8_t id, const uint8_t *attrs,
                         size_t attrs_len)
{
    vpn_isakmp_bld_begin(b, VPN_ISAKMP_PL_T);
    vpn_wr_u8(&b->w, num);
    vpn_wr_u8(&b->w, id);
    vpn_wr_u16(&b->w, 0); /* RESERVED2 */
    vpn_wr_bytes(&b->w, attrs, attrs_len);
    if (bld_err(b))
        return b->err;
    return vpn_isakmp_bld_end(b);
}

int vpn_isakmp_bld_prop_end(vpn_isakmp_bld *b)
{
    return vpn_isakmp_bld_end(b);
}

/* RFC 2408 3.8, RFC 2407 4.6.2. */
int vpn_isakmp_bld_id(vpn_isakmp_bld *b, const vpn_isakmp_id *id)
{
    vpn_isakmp_bld_begin(b, VPN_ISAKMP_PL_ID);
    vpn_wr_u8(&b->w, id->type);
    vpn_wr_u8(&b->w, id->proto);
    vpn_wr_u16(&b->w, id->port);
    vpn_wr_bytes(&b->w, id->data.p, id->data.len);
    if (bld_err(b))
        return b->err;
    return vpn_isakmp_bld_end(b);
}

/* RFC 2408 3.9, 3.10. */
int vpn_isakmp_bld_cert(vpn_isakmp_bld *b, uint8_t type, uint8_t enc, const uint8_t *data,
                        size_t len)
{
    if (type != VPN_ISAKMP_PL_CERT && type != VPN_ISAKMP_PL_CR)
        return bld_fail(b, VPN_ERR_INVAL);
    vpn_isakmp_bld_begin(b, type);
    vpn_wr_u8(&b->w, enc);
    vpn_wr_bytes(&b->w, data, len);
    if (bld_err(b))
        return b->err;
    return vpn_isakmp_bld_end(b);
}

/* RFC 2408 3.14. */
int vpn_isakmp_bld_notify(vpn_isakmp_bld *b, const vpn_isakmp_notify *n)
{
    if (n->spi.len > 0xff)
        return bld_fail(b, VPN_ERR_OVERFLOW);
    vpn_isakmp_bld_begin(b, VPN_ISAKMP_PL_N);
    vpn_wr_u32(&b->w, n->doi);
    vpn_wr_u8(&b->w, n->proto);
    vpn_wr_u8(&b->w, (uint8_t)n->spi.len);
    vpn_wr_u16(&b->w, n->type);
    vpn_wr_bytes(&b->w, n->spi.p, n->spi.len);
    vpn_wr_bytes(&b->w, n->data.p, n->data.len);
    if (bld_err(b))
        return b->err;
    return vpn_isakmp_bld_end(b);
}

/* RFC 2408 3.15. */
int vpn_isakmp_bld_delete(vpn_isakmp_bld *b, const vpn_isakmp_delete *d)
{
    if ((size_t)d->nspi * d->spi_size != d->spis.len)
        return bld_fail(b, VPN_ERR_INVAL);
    vpn_isakmp_bld_begin(b, VPN_ISAKMP_PL_D);
    vpn_wr_u32(&b->w, d->doi);
    vpn_wr_u8(&b->w, d->proto);
    vpn_wr_u8(&b->w, d->spi_size);
    vpn_wr_u16(&b->w, d->nspi);
    vpn_wr_bytes(&b->w, d->spis.p, d->spis.len);
    if (bld_err(b))
        return b->err;
    return vpn_isakmp_bld_end(b);
}
