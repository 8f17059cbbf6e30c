#include "isakmp/isakmp-attr.h"

#include "common/vpn-err.h"

#define AF_BIT 0x8000u

void vpn_isakmp_attr_iter_init(vpn_isakmp_attr_iter *it, const uint8_t *p, size_t len)
{
    vpn_rd_init(&it->rd, p, len);
    it->count = 0;
}

/* RFC 2408 3.3. */
int vpn_isakmp_attr_next(vpn_isakmp_attr_iter *it, vpn_isakmp_attr *a)
{
    uint16_t t, l;
    const uint8_t *val;

    if (it->rd.err)
        return it->rd.err;
    if (vpn_rd_left(&it->rd) == 0)
        return 0;
    if (it->count >= VPN_ISAKMP_MAX_ATTRS)
        return vpn_rd_fail(&it->rd, VPN_ERR_LIMIT);
    /* A list's length comes from its container: a short read means the
     * attribute lies about its size, which is malformed, not truncated. */
    if (vpn_rd_u16(&it->rd, &t) || vpn_rd_u16(&it->rd, &l)) {
        it->rd.err = VPN_ERR_MALFORMED;
        return it->rd.err;
    }
    if (t & AF_BIT) {
        a->type = (uint16_t)(t & ~AF_BIT);
        a->tv = true;
        a->val = vpn_rd_cur(&it->rd) - 2;
        a->len = 2;
    } else {
        if (vpn_rd_view(&it->rd, &val, l)) {
            it->rd.err = VPN_ERR_MALFORMED;
            return it->rd.err;
        }
        a->type = t;
        a->tv = false;
        a->val = val;
        a->len = l;
    }
    it->count++;
    return 1;
}

int vpn_isakmp_attrs_check(const uint8_t *p, size_t len)
{
    vpn_isakmp_attr_iter it;
    vpn_isakmp_attr a;
    int rc;

    vpn_isakmp_attr_iter_init(&it, p, len);
    while ((rc = vpn_isakmp_attr_next(&it, &a)) == 1)
        ;
    return rc;
}

int vpn_isakmp_attr_find(const uint8_t *p, size_t len, uint16_t t, vpn_isakmp_attr *a)
{
    vpn_isakmp_attr_iter it;
    vpn_isakmp_attr cur;
    int rc;

    vpn_isakmp_attr_iter_init(&it, p, len);
    while ((rc = vpn_isakmp_attr_next(&it, &cur)) == 1) {
        if (cur.type == t) {
            *a = cur;
            return 1;
        }
    }
    return rc;
}

int vpn_isakmp_attr_basic(const vpn_isakmp_attr *a, uint16_t *v)
{
    if (!a->tv)
        return VPN_ERR_MALFORMED;
    *v = vpn_load16(a->val);
    return 0;
}

int vpn_isakmp_attr_uint(const vpn_isakmp_attr *a, uint64_t max, uint64_t *v)
{
    uint64_t x = 0;

    if (a->tv) {
        x = vpn_load16(a->val);
    } else {
        if (a->len == 0 || a->len > 8)
            return VPN_ERR_MALFORMED;
        for (size_t i = 0; i < a->len; i++)
            x = x << 8 | a->val[i];
    }
    if (x > max)
        return VPN_ERR_OVERFLOW;
    *v = x;
    return 0;
}

int vpn_isakmp_attr_bytes(const vpn_isakmp_attr *a, vpn_isakmp_view *out)
{
    if (a->tv)
        return VPN_ERR_MALFORMED;
    out->p = a->val;
    out->len = a->len;
    return 0;
}

int vpn_isakmp_attr_put_tv(vpn_wr *w, uint16_t type, uint16_t val)
{
    if (type & AF_BIT) {
        if (w->err == 0)
            w->err = VPN_ERR_INVAL;
        return w->err;
    }
    vpn_wr_u16(w, (uint16_t)(type | AF_BIT));
    return vpn_wr_u16(w, val);
}

int vpn_isakmp_attr_put_tlv(vpn_wr *w, uint16_t type, const void *val, size_t len)
{
    if (type & AF_BIT) {
        if (w->err == 0)
            w->err = VPN_ERR_INVAL;
        return w->err;
    }
    if (len > 0xffff) {
        if (w->err == 0)
            w->err = VPN_ERR_OVERFLOW;
        return w->err;
    }
    vpn_wr_u16(w, type);
    vpn_wr_u16(w, (uint16_t)len);
    return vpn_wr_bytes(w, val, len);
}

int vpn_isakmp_attr_put_uint(vpn_wr *w, uint16_t type, uint64_t v)
{
    uint8_t b[8];
    size_t n = v > 0xffffffffu ? 8 : 4;

    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    return vpn_isakmp_attr_put_tlv(w, type, b, n);
}
