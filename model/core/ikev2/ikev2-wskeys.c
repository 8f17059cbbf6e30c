#include "ikev2/ikev2-wskeys.h"

#include <stdio.h>

#include "common/vpn-err.h"
#include "crypto/cipher.h"
#include "crypto/integ.h"
#include "ikev2/ikev2-eng.h"

static size_t put_hex(char *out, size_t cap, size_t o, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n && o + 2 < cap; i++) {
        out[o++] = digits[p[i] >> 4];
        out[o++] = digits[p[i] & 15];
    }
    return o;
}

int vpn_ikev2_wskeys_line(const vpn_ikev2_ctx *ctx, uint32_t ike_sa_id, char *out, size_t cap)
{
    const ikev2_sa *sa;
    const vpn_ikev2_crypto *c;
    const char *integ_label;
    size_t o = 0;
    int n;

    if (ctx == NULL || out == NULL || cap == 0)
        return VPN_ERR_INVAL;
    sa = ikev2_sa_by_id(ctx, ike_sa_id);
    if (sa == NULL)
        return VPN_ERR_NOTFOUND;
    if (!sa->keyed)
        return VPN_ERR_STATE;
    c = &sa->cr;
    if (c->cinfo == NULL || c->cinfo->ws_ikev2 == NULL)
        return VPN_ERR_UNSUPPORTED;
    integ_label = c->iinfo ? c->iinfo->ws_ikev2 : "NONE [RFC4306]";
    if (integ_label == NULL)
        return VPN_ERR_UNSUPPORTED;
    /* Worst case: 2x16 SPI + 4x64-byte keys in hex + labels. */
    if (cap < 700)
        return VPN_ERR_NOSPACE;
    o = put_hex(out, cap, o, sa->spi_i, 8);
    out[o++] = ',';
    o = put_hex(out, cap, o, sa->spi_r, 8);
    out[o++] = ',';
    o = put_hex(out, cap, o, c->keys.sk_ei.b, c->keys.sk_ei.len);
    out[o++] = ',';
    o = put_hex(out, cap, o, c->keys.sk_er.b, c->keys.sk_er.len);
    n = snprintf(out + o, cap - o, ",\"%s\",", c->cinfo->ws_ikev2);
    if (n < 0 || (size_t)n >= cap - o)
        return VPN_ERR_NOSPACE;
    o += (size_t)n;
    o = put_hex(out, cap, o, c->keys.sk_ai.b, c->keys.sk_ai.len);
    out[o++] = ',';
    o = put_hex(out, cap, o, c->keys.sk_ar.b, c->keys.sk_ar.len);
    n = snprintf(out + o, cap - o, ",\"%s\"", integ_label);
    if (n < 0 || (size_t)n >= cap - o)
        return VPN_ERR_NOSPACE;
    o += (size_t)n;
    return (int)o;
}
