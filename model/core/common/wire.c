#include "common/wire.h"

#include <assert.h>
#include <string.h>

#include "common/vpn-err.h"

/*
 * Debug builds (no NDEBUG) check the cursor's invariant on every call that
 * takes one: the offset within the buffer, a buffer behind any length, an
 * error that is 0 or a VPN_ERR_* code (errors are sticky: only the init
 * functions clear one). Code that pokes a cursor's fields by hand and
 * breaks it stops there instead of reading out of bounds later. ctest
 * common-wire builds this file without NDEBUG and checks that it stops;
 * the fuzz targets' core is built without NDEBUG too.
 */
#define WIRE_INVARIANT(c, size)                                                                  \
    assert((c)->off <= (c)->size && ((c)->buf != NULL || (c)->size == 0) && (c)->err <= 0 &&  \
           (c)->err >= VPN_ERR_MIN)

void vpn_rd_init(vpn_rd *r, const void *buf, size_t len)
{
    r->buf = buf;
    r->len = buf ? len : 0;
    r->off = 0;
    r->err = 0;
}

int vpn_rd_fail(vpn_rd *r, int err)
{
    WIRE_INVARIANT(r, len);
    assert(err < 0 && err >= VPN_ERR_MIN); /* 0 would leave the cursor usable */
    if (r->err == 0)
        r->err = err;
    return r->err;
}

/* Checks that n more bytes can be read; on failure the cursor turns sticky. */
static int rd_need(vpn_rd *r, size_t n)
{
    WIRE_INVARIANT(r, len);
    if (r->err)
        return r->err;
    if (n > r->len - r->off)
        return vpn_rd_fail(r, VPN_ERR_TRUNCATED);
    return 0;
}

static int rd_uint(vpn_rd *r, unsigned width, uint64_t *out)
{
    uint64_t v = 0;
    int rc = rd_need(r, width);

    *out = 0;
    if (rc)
        return rc;
    for (unsigned i = 0; i < width; i++)
        v = v << 8 | r->buf[r->off + i];
    r->off += width;
    *out = v;
    return 0;
}

int vpn_rd_u8(vpn_rd *r, uint8_t *out)
{
    uint64_t v;
    int rc = rd_uint(r, 1, &v);
    *out = (uint8_t)v;
    return rc;
}

int vpn_rd_u16(vpn_rd *r, uint16_t *out)
{
    uint64_t v;
    int rc = rd_uint(r, 2, &v);
    *out = (uint16_t)v;
    return rc;
}

int vpn_rd_u24(vpn_rd *r, uint32_t *out)
{
    uint64_t v;
    int rc = rd_uint(r, 3, &v);
    *out = (uint32_t)v;
    return rc;
}

int vpn_rd_u32(vpn_rd *r, uint32_t *out)
{
    uint64_t v;
    int rc = rd_uint(r, 4, &v);
    *out = (uint32_t)v;
    return rc;
}

int vpn_rd_u64(vpn_rd *r, uint64_t *out)
{
    return rd_uint(r, 8, out);
}

int vpn_rd_bytes(vpn_rd *r, void *out, size_t n)
{
    int rc = rd_need(r, n);

    if (rc) {
        if (out && n)
            memset(out, 0, n);
        return rc;
    }
    if (n)
        memcpy(out, r->buf + r->off, n);
    r->off += n;
    return 0;
}

int vpn_rd_view(vpn_rd *r, const uint8_t **out, size_t n)
{
    int rc = rd_need(r, n);

    *out = NULL;
    if (rc)
        return rc;
    *out = r->buf + r->off;
    r->off += n;
    return 0;
}

int vpn_rd_skip(vpn_rd *r, size_t n)
{
    int rc = rd_need(r, n);

    if (rc)
        return rc;
    r->off += n;
    return 0;
}

int vpn_rd_sub(vpn_rd *r, vpn_rd *sub, size_t n)
{
    int rc = rd_need(r, n);

    if (rc) {
        vpn_rd_init(sub, NULL, 0);
        sub->err = rc;
        return rc;
    }
    vpn_rd_init(sub, r->buf + r->off, n);
    r->off += n;
    return 0;
}

int vpn_rd_expect_end(vpn_rd *r)
{
    WIRE_INVARIANT(r, len);
    if (r->err)
        return r->err;
    if (r->off != r->len)
        return vpn_rd_fail(r, VPN_ERR_MALFORMED);
    return 0;
}

void vpn_wr_init(vpn_wr *w, void *buf, size_t cap)
{
    w->buf = buf;
    w->cap = buf ? cap : 0;
    w->off = 0;
    w->err = 0;
}

static int wr_need(vpn_wr *w, size_t n)
{
    WIRE_INVARIANT(w, cap);
    if (w->err)
        return w->err;
    if (n > w->cap - w->off) {
        w->err = VPN_ERR_NOSPACE;
        return w->err;
    }
    return 0;
}

static int wr_uint(vpn_wr *w, unsigned width, uint64_t v)
{
    int rc = wr_need(w, width);

    if (rc)
        return rc;
    for (unsigned i = 0; i < width; i++)
        w->buf[w->off + i] = (uint8_t)(v >> (8 * (width - 1 - i)));
    w->off += width;
    return 0;
}

int vpn_wr_u8(vpn_wr *w, uint8_t v) { return wr_uint(w, 1, v); }
int vpn_wr_u16(vpn_wr *w, uint16_t v) { return wr_uint(w, 2, v); }
int vpn_wr_u32(vpn_wr *w, uint32_t v) { return wr_uint(w, 4, v); }
int vpn_wr_u64(vpn_wr *w, uint64_t v) { return wr_uint(w, 8, v); }

int vpn_wr_u24(vpn_wr *w, uint32_t v)
{
    WIRE_INVARIANT(w, cap);
    if (v > 0xffffffu) {
        if (w->err == 0)
            w->err = VPN_ERR_OVERFLOW;
        return w->err;
    }
    return wr_uint(w, 3, v);
}

int vpn_wr_bytes(vpn_wr *w, const void *p, size_t n)
{
    int rc = wr_need(w, n);

    if (rc)
        return rc;
    if (n)
        memcpy(w->buf + w->off, p, n);
    w->off += n;
    return 0;
}

int vpn_wr_zero(vpn_wr *w, size_t n)
{
    int rc = wr_need(w, n);

    if (rc)
        return rc;
    memset(w->buf + w->off, 0, n);
    w->off += n;
    return 0;
}

int vpn_wr_take(vpn_wr *w, uint8_t **out, size_t n)
{
    int rc = wr_need(w, n);

    *out = NULL;
    if (rc)
        return rc;
    *out = w->buf + w->off;
    w->off += n;
    return 0;
}

int vpn_wr_len_reserve(vpn_wr *w, unsigned width, size_t *pos)
{
    WIRE_INVARIANT(w, cap);
    if (width != 1 && width != 2 && width != 4) {
        if (w->err == 0)
            w->err = VPN_ERR_INVAL;
        return w->err;
    }
    *pos = w->off;
    return vpn_wr_zero(w, width);
}

int vpn_wr_len_patch(vpn_wr *w, size_t pos, unsigned width, size_t from)
{
    uint64_t len, max;

    WIRE_INVARIANT(w, cap);
    if (w->err)
        return w->err;
    if ((width != 1 && width != 2 && width != 4) || from > w->off || pos + width > w->off) {
        w->err = VPN_ERR_INVAL;
        return w->err;
    }
    len = w->off - from;
    max = width == 4 ? 0xffffffffu : (1u << (8 * width)) - 1;
    if (len > max) {
        w->err = VPN_ERR_OVERFLOW;
        return w->err;
    }
    for (unsigned i = 0; i < width; i++)
        w->buf[pos + i] = (uint8_t)(len >> (8 * (width - 1 - i)));
    return 0;
}
