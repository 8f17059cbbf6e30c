#include "ipsec/replay.h"

#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "common/wire.h"

int vpn_replay_init(vpn_replay *r, uint32_t window, bool esn)
{
    uint32_t n = 1;

    memset(r, 0, sizeof *r);
    if (window > VPN_REPLAY_WINDOW_MAX)
        return VPN_ERR_INVAL;
    /* One block more than the window needs, so that the block holding the
     * oldest in-window bit is never the one being cleared (RFC 6479 2). */
    while (n < (window + 63) / 64 + 1)
        n <<= 1;
    r->bits = calloc(n, sizeof *r->bits);
    if (!r->bits)
        return VPN_ERR_NOMEM;
    r->mask = n - 1;
    r->window = window;
    r->esn = esn;
    return 0;
}

void vpn_replay_free(vpn_replay *r)
{
    if (!r)
        return;
    free(r->bits);
    memset(r, 0, sizeof *r);
}

/* RFC 4303 A2.2: which 2^32 block seql belongs to, given the window's top.
 * Without a window (anti-replay off) half the number space is assumed. */
static int infer_esn(const vpn_replay *r, uint32_t seql, uint64_t *seq)
{
    uint64_t w = r->window ? r->window : (1ull << 31);
    uint32_t tl = (uint32_t)r->top;
    uint32_t th = (uint32_t)(r->top >> 32);
    uint32_t bottom = (uint32_t)(tl - (uint32_t)w + 1); /* Tl - W + 1 mod 2^32 */
    uint64_t hi;

    if ((uint64_t)tl >= w - 1) {
        /* Case A: the window lies within one subspace. */
        hi = seql >= bottom ? th : (uint64_t)th + 1;
    } else {
        /* Case B: the window spans two subspaces. */
        if (seql >= bottom) {
            if (th == 0)
                return VPN_ERR_REPLAY; /* before the first packet */
            hi = (uint64_t)th - 1;
        } else {
            hi = th;
        }
    }
    if (hi > 0xffffffffu)
        return VPN_ERR_REPLAY; /* the 64-bit space is exhausted */
    *seq = hi << 32 | seql;
    return 0;
}

int vpn_replay_check(const vpn_replay *r, uint32_t seql, uint64_t *seq)
{
    uint64_t s;

    if (r->esn) {
        if (infer_esn(r, seql, &s) != 0)
            return VPN_ERR_REPLAY;
    } else {
        s = seql;
    }
    if (s == 0)
        return VPN_ERR_REPLAY;
    *seq = s;
    if (r->window == 0 || s > r->top)
        return 0;
    if (r->top - s >= r->window)
        return VPN_ERR_REPLAY; /* left of the window */
    if (r->bits[(s >> 6) & r->mask] & (1ull << (s & 63)))
        return VPN_ERR_REPLAY; /* seen */
    return 0;
}

int vpn_replay_update(vpn_replay *r, uint64_t seq)
{
    if (seq == 0)
        return VPN_ERR_REPLAY;
    if (seq > r->top) {
        if (r->window) {
            /* Clear the blocks the window slides over (at most all of them). */
            uint64_t from = (r->top >> 6) + 1, to = seq >> 6;
            uint64_t n = to - from + 1;
            if (to >= from) {
                if (n > (uint64_t)r->mask + 1)
                    n = (uint64_t)r->mask + 1;
                for (uint64_t i = 0; i < n; i++)
                    r->bits[(from + i) & r->mask] = 0;
            }
        }
        r->top = seq;
    } else if (r->window) {
        if (r->top - seq >= r->window)
            return VPN_ERR_REPLAY;
        if (r->bits[(seq >> 6) & r->mask] & (1ull << (seq & 63)))
            return VPN_ERR_REPLAY;
    }
    if (r->window)
        r->bits[(seq >> 6) & r->mask] |= 1ull << (seq & 63);
    return 0;
}

/* ---- TBAR ---------------------------------------------------------------------- */

void vpn_tbar_init(vpn_tbar *t, uint64_t window_ms)
{
    t->window_ms = window_ms;
    t->offset_ns = 0;
}

void vpn_tbar_sync(vpn_tbar *t, uint64_t now, uint64_t pseudotime_ms)
{
    t->offset_ns = (int64_t)(pseudotime_ms * 1000000u) - (int64_t)now;
}

uint64_t vpn_tbar_now_ms(const vpn_tbar *t, uint64_t now)
{
    int64_t pt = (int64_t)now + t->offset_ns;
    return pt < 0 ? 0 : (uint64_t)pt / 1000000u;
}

int vpn_tbar_check(const vpn_tbar *t, uint64_t now, uint64_t sender_ms)
{
    uint64_t own = vpn_tbar_now_ms(t, now);
    uint64_t diff = own > sender_ms ? own - sender_ms : sender_ms - own;
    return diff <= t->window_ms ? 0 : VPN_ERR_REPLAY;
}

void vpn_tbar_block_write(uint8_t *p, uint64_t pseudotime_ms)
{
    p[0] = 'T';
    p[1] = 'B';
    p[2] = VPN_TBAR_BLOCK_LEN;
    p[3] = 1;
    vpn_store32(p + 4, (uint32_t)(pseudotime_ms >> 32));
    vpn_store32(p + 8, (uint32_t)pseudotime_ms);
}

int vpn_tbar_block_read(const uint8_t *p, size_t len, uint64_t *pseudotime_ms)
{
    vpn_rd r;
    uint8_t t, b, l, v;
    uint64_t pt;

    vpn_rd_init(&r, p, len);
    vpn_rd_u8(&r, &t);
    vpn_rd_u8(&r, &b);
    vpn_rd_u8(&r, &l);
    vpn_rd_u8(&r, &v);
    vpn_rd_u64(&r, &pt);
    if (vpn_rd_err(&r))
        return VPN_ERR_TRUNCATED;
    if (t != 'T' || b != 'B' || l != VPN_TBAR_BLOCK_LEN || v != 1)
        return VPN_ERR_MALFORMED;
    *pseudotime_ms = pt;
    return 0;
}
