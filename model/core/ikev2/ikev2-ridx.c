/* The remote identity -> IKE SA handles index (see ikev2-ridx.h), over the
 * common table (common/htab.h). */
#include "ikev2/ikev2-ridx.h"

#include "common/vpn-err.h"

uint32_t ikev2_ridx_key(uint8_t type, const uint8_t *data, size_t len)
{
    /* FNV-1a over the type and the data; any spread will do, every hit is checked */
    uint32_t h = 2166136261u;

    h = (h ^ type) * 16777619u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ data[i]) * 16777619u;
    return h;
}

size_t ikev2_ridx_home(uint32_t key, size_t n)
{
    return vpn_htab_home(key, n);
}

int ikev2_ridx_reset(ikev2_ridx *x, const vpn_alloc *a, size_t count)
{
    /* count fills at most a quarter: as many again fit before it is full */
    return vpn_htab_reset(&x->h, a, count < SIZE_MAX / 4 ? 2 * (count + 1) : SIZE_MAX);
}

int ikev2_ridx_put(ikev2_ridx *x, uint32_t key, uint32_t sa_id)
{
    return sa_id == 0 ? 0 : vpn_htab_put(&x->h, key, sa_id);
}

void ikev2_ridx_del(ikev2_ridx *x, uint32_t key, uint32_t sa_id)
{
    (void)vpn_htab_del(&x->h, key, sa_id);
}

size_t ikev2_ridx_get(const ikev2_ridx *x, uint32_t key, uint32_t *out, size_t cap)
{
    return vpn_htab_get(&x->h, key, out, cap);
}

size_t ikev2_ridx_prune(ikev2_ridx *x, uint32_t key, bool (*live)(void *user, uint32_t sa_id), void *user)
{
    return vpn_htab_prune(&x->h, key, live, user);
}

void ikev2_ridx_free(ikev2_ridx *x)
{
    vpn_htab_free(&x->h);
}
