/*
 * Label stack entries (RFC 3032 2.1) on the wire readers and writers.
 */
#include <string.h>

#include "common/vpn-err.h"
#include "mpls/mpls.h"

int vpn_mpls_lse_pack(const vpn_mpls_lse *e, uint32_t *out)
{
    if (!e || !out || e->label > VPN_MPLS_LABEL_MAX || e->tc > 7)
        return VPN_ERR_INVAL;
    /* Label 20 bits | TC 3 bits (RFC 5462 renamed EXP) | S | TTL 8 bits. */
    *out = e->label << 12 | (uint32_t)e->tc << 9 | (uint32_t)(e->s ? 1 : 0) << 8 | e->ttl;
    return 0;
}

void vpn_mpls_lse_unpack(uint32_t v, vpn_mpls_lse *e)
{
    e->label = v >> 12;
    e->tc = (uint8_t)(v >> 9 & 7);
    e->s = (v >> 8 & 1) != 0;
    e->ttl = (uint8_t)v;
}

int vpn_mpls_lse_write(vpn_wr *w, const vpn_mpls_lse *e)
{
    uint32_t v;
    int rc = vpn_mpls_lse_pack(e, &v);
    if (rc)
        return rc;
    return vpn_wr_u32(w, v);
}

int vpn_mpls_lse_read(vpn_rd *r, vpn_mpls_lse *e)
{
    uint32_t v;
    int rc = vpn_rd_u32(r, &v);
    vpn_mpls_lse_unpack(v, e);
    return rc;
}

/* RFC 3032 2.1 reserved values; 7 (entropy label indicator, RFC 6790), 13
 * (GAL, RFC 5586) and 14 (OAM alert, RFC 3429) are assigned since, and not
 * implemented here. */
static int check_reserved(const vpn_mpls_lse *e)
{
    switch (e->label) {
    case VPN_MPLS_LABEL_IPV4_EXPLICIT_NULL:
    case VPN_MPLS_LABEL_IPV6_EXPLICIT_NULL:
        return 0; /* anywhere in the stack since RFC 4182 */
    case VPN_MPLS_LABEL_ROUTER_ALERT:
        /* "legal anywhere in the label stack except at the bottom" */
        return e->s ? VPN_ERR_MALFORMED : 0;
    case VPN_MPLS_LABEL_IMPLICIT_NULL:
        /* "should never actually appear in the encapsulation" */
        return VPN_ERR_MALFORMED;
    default:
        return e->label < VPN_MPLS_LABEL_FIRST ? VPN_ERR_UNSUPPORTED : 0;
    }
}

int vpn_mpls_stack_parse(const uint8_t *p, size_t len, vpn_mpls_stack *st, size_t *hdr_len)
{
    vpn_rd r;
    int rc = 0;

    if (!st || (!p && len))
        return VPN_ERR_INVAL;
    memset(st, 0, sizeof(*st));
    vpn_rd_init(&r, p, len);
    for (;;) {
        vpn_mpls_lse e;
        if (st->depth == VPN_MPLS_STACK_MAX) {
            rc = VPN_ERR_LIMIT;
            break;
        }
        rc = vpn_mpls_lse_read(&r, &e);
        if (rc)
            break; /* no entry with S set inside the buffer */
        rc = check_reserved(&e);
        if (rc)
            break;
        st->e[st->depth++] = e;
        if (e.s)
            break;
    }
    if (rc) {
        memset(st, 0, sizeof(*st));
        return rc;
    }
    if (hdr_len)
        *hdr_len = st->depth * VPN_MPLS_LSE_LEN;
    return 0;
}
