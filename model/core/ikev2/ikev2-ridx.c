/* The remote identity -> IKE SA handles index (see ikev2-ridx.h). */
#include "ikev2/ikev2-ridx.h"

#include <stdlib.h>

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
    uint64_t h = (uint64_t)key * 0x9e3779b97f4a7c15ull;
    h ^= h >> 29;
    return (size_t)h & (n - 1);
}

/* The slot holding (key, sa_id), or the free slot ending key's run (the
 * table is never full: at most half used). */
static ikev2_ridx_ent *slot(const ikev2_ridx *x, uint32_t key, uint32_t sa_id)
{
    size_t mask = x->n - 1;

    for (size_t i = ikev2_ridx_home(key, x->n);; i = (i + 1) & mask)
        if (x->t[i].sa_id == 0 || (x->t[i].sa_id == sa_id && x->t[i].key == key))
            return &x->t[i];
}

int ikev2_ridx_reset(ikev2_ridx *x, const vpn_alloc *a, size_t count)
{
    size_t n = 64;
    ikev2_ridx_ent *t;

    while (n / 4 < count + 1) /* count fills at most a quarter: as many again fit */
        n *= 2;
    if ((t = vpn_calloc(a, n, sizeof *t)) == NULL)
        return VPN_ERR_NOMEM;
    free(x->t);
    x->t = t;
    x->n = n;
    x->used = 0;
    return 0;
}

int ikev2_ridx_put(ikev2_ridx *x, uint32_t key, uint32_t sa_id)
{
    ikev2_ridx_ent *e;

    if (sa_id == 0)
        return 0;
    if (x->n && (e = slot(x, key, sa_id))->sa_id == sa_id)
        return 0;
    if (2 * (x->used + 1) > x->n)
        return VPN_ERR_NOSPACE;
    e = slot(x, key, sa_id);
    e->sa_id = sa_id;
    e->key = key;
    x->used++;
    return 0;
}

void ikev2_ridx_del(ikev2_ridx *x, uint32_t key, uint32_t sa_id)
{
    size_t mask = x->n - 1, i, j;

    if (x->n == 0 || sa_id == 0)
        return;
    i = (size_t)(slot(x, key, sa_id) - x->t);
    if (x->t[i].sa_id == 0)
        return;
    x->used--;
    /* Backward-shift deletion (as ikev2-cidx.c): the hole at i takes the
     * first later entry of the run whose home is not in (i, j], and so on
     * until the run ends; every entry stays reachable from its home. */
    for (j = i;;) {
        x->t[i].sa_id = 0;
        for (;;) {
            size_t k;
            j = (j + 1) & mask;
            if (x->t[j].sa_id == 0)
                return;
            k = ikev2_ridx_home(x->t[j].key, x->n);
            if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
                continue;
            break;
        }
        x->t[i] = x->t[j];
        i = j;
    }
}

size_t ikev2_ridx_get(const ikev2_ridx *x, uint32_t key, uint32_t *out, size_t cap)
{
    size_t n = 0, mask = x->n - 1;

    if (x->n == 0)
        return 0;
    for (size_t i = ikev2_ridx_home(key, x->n); x->t[i].sa_id; i = (i + 1) & mask)
        if (x->t[i].key == key) {
            if (n < cap)
                out[n] = x->t[i].sa_id;
            n++;
        }
    return n;
}

size_t ikev2_ridx_prune(ikev2_ridx *x, uint32_t key, bool (*live)(void *user, uint32_t sa_id), void *user)
{
    size_t n = 0, mask = x->n - 1;

    if (x->n == 0)
        return 0;
    /* a deletion shifts only later entries of the run back, into the slot
     * just freed: that slot is looked at again, the ones before never move */
    for (size_t i = ikev2_ridx_home(key, x->n); x->t[i].sa_id;) {
        if (x->t[i].key == key && !live(user, x->t[i].sa_id)) {
            ikev2_ridx_del(x, key, x->t[i].sa_id);
            continue;
        }
        n += x->t[i].key == key;
        i = (i + 1) & mask;
    }
    return n;
}

void ikev2_ridx_free(ikev2_ridx *x)
{
    free(x->t);
    x->t = NULL;
    x->n = x->used = 0;
}
