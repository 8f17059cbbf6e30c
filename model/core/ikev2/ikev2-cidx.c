/* The CHILD_SA id -> IKE SA handle index (see ikev2-cidx.h). */
#include "ikev2/ikev2-cidx.h"

#include <stdlib.h>

#include "common/vpn-err.h"

size_t ikev2_cidx_home(uint32_t child_id, size_t n)
{
    /* handles count up: mix them so neighbours spread over the table */
    uint64_t h = (uint64_t)child_id * 0x9e3779b97f4a7c15ull;
    h ^= h >> 29;
    return (size_t)h & (n - 1);
}

/* The slot holding child_id, or the free slot where it would go (the table
 * is never full: at most half used). */
static ikev2_child_ref *slot(const ikev2_cidx *x, uint32_t child_id)
{
    size_t mask = x->n - 1;

    for (size_t i = ikev2_cidx_home(child_id, x->n);; i = (i + 1) & mask)
        if (x->t[i].child_id == 0 || x->t[i].child_id == child_id)
            return &x->t[i];
}

/* Doubles the table (64 slots at first), re-placing every entry. Returns 0
 * or VPN_ERR_NOMEM (then the old table stays). */
static int grow(ikev2_cidx *x, const vpn_alloc *a)
{
    size_t n = x->n ? x->n * 2 : 64;
    ikev2_child_ref *old = x->t, *t = vpn_calloc(a, n, sizeof *t);
    size_t n_old = x->n;

    if (t == NULL)
        return VPN_ERR_NOMEM;
    x->t = t;
    x->n = n;
    for (size_t i = 0; i < n_old; i++)
        if (old[i].child_id)
            *slot(x, old[i].child_id) = old[i];
    free(old);
    return 0;
}

void ikev2_cidx_put(ikev2_cidx *x, const vpn_alloc *a, uint32_t child_id, uint32_t sa_id)
{
    ikev2_child_ref *e;

    if (child_id == 0)
        return;
    if (x->n && (e = slot(x, child_id))->child_id == child_id) {
        e->sa_id = sa_id;
        return;
    }
    if (2 * (x->used + 1) > x->n && grow(x, a) != 0) {
        x->complete = false;
        return;
    }
    e = slot(x, child_id);
    e->child_id = child_id;
    e->sa_id = sa_id;
    x->used++;
}

void ikev2_cidx_del(ikev2_cidx *x, uint32_t child_id)
{
    size_t mask = x->n - 1, i, j;

    if (x->n == 0 || child_id == 0)
        return;
    i = (size_t)(slot(x, child_id) - x->t);
    if (x->t[i].child_id == 0)
        return;
    x->used--;
    /* Backward-shift deletion: the hole at i takes the first later entry of
     * the run that may sit there (its home is not in (i, j]), and so on,
     * until the run ends; every remaining entry stays reachable from its
     * home without tombstones. */
    for (j = i;;) {
        x->t[i].child_id = 0;
        for (;;) {
            size_t k;
            j = (j + 1) & mask;
            if (x->t[j].child_id == 0)
                return;
            k = ikev2_cidx_home(x->t[j].child_id, x->n);
            if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
                continue;
            break;
        }
        x->t[i] = x->t[j];
        i = j;
    }
}

uint32_t ikev2_cidx_get(const ikev2_cidx *x, uint32_t child_id)
{
    const ikev2_child_ref *e;

    if (x->n == 0 || child_id == 0)
        return 0;
    e = slot(x, child_id);
    return e->child_id == child_id ? e->sa_id : 0;
}

void ikev2_cidx_free(ikev2_cidx *x)
{
    free(x->t);
    x->t = NULL;
    x->n = x->used = 0;
}
