/* The open-addressing hash table (see htab.h). */
#include "common/htab.h"

#include <stdlib.h>

#include "common/vpn-err.h"

size_t vpn_htab_home(uint32_t key, size_t n)
{
    /* Fibonacci hashing: handles and SPIs that count up or share low bits
     * spread over the table */
    uint64_t h = (uint64_t)key * 0x9e3779b97f4a7c15ull;
    h ^= h >> 29;
    return (size_t)h & (n - 1);
}

/* The slot holding (key, val), or the free slot ending key's run (the
 * table is never full: at most half used). */
static vpn_htab_ent *slot(const vpn_htab *h, uint32_t key, uint32_t val)
{
    size_t mask = h->n - 1;

    for (size_t i = vpn_htab_home(key, h->n);; i = (i + 1) & mask)
        if (h->t[i].val == 0 || (h->t[i].val == val && h->t[i].key == key))
            return &h->t[i];
}

vpn_htab_ent *vpn_htab_find_pair(const vpn_htab *h, uint32_t key, uint32_t val)
{
    vpn_htab_ent *e;

    if (h->n == 0 || val == 0)
        return NULL;
    e = slot(h, key, val);
    return e->val ? e : NULL;
}

vpn_htab_ent *vpn_htab_find(const vpn_htab *h, uint32_t key)
{
    size_t mask = h->n - 1;

    if (h->n == 0)
        return NULL;
    for (size_t i = vpn_htab_home(key, h->n); h->t[i].val; i = (i + 1) & mask)
        if (h->t[i].key == key)
            return &h->t[i];
    return NULL;
}

int vpn_htab_put(vpn_htab *h, uint32_t key, uint32_t val)
{
    vpn_htab_ent *e;

    if (val == 0)
        return VPN_ERR_INVAL;
    if (h->n == 0)
        return VPN_ERR_NOSPACE;
    if ((e = slot(h, key, val))->val)
        return 0; /* that pair is there */
    if (2 * (h->used + 1) > h->n)
        return VPN_ERR_NOSPACE;
    /* e: the free slot ending key's run, where the pair goes */
    e->key = key;
    e->val = val;
    h->used++;
    return 0;
}

/* Slots for count entries at most half used, VPN_HTAB_MIN at least; 0 if
 * that many cannot be asked for. */
static size_t slots_for(size_t count)
{
    size_t n = VPN_HTAB_MIN;

    if (count > SIZE_MAX / 4 / sizeof(vpn_htab_ent))
        return 0;
    while (n / 2 < count)
        n *= 2;
    return n;
}

/* A new empty array of n slots, or NULL. */
static vpn_htab_ent *alloc_slots(const vpn_alloc *a, size_t n)
{
    return n ? vpn_calloc(a, n, sizeof(vpn_htab_ent)) : NULL;
}

int vpn_htab_reserve(vpn_htab *h, const vpn_alloc *a, size_t count)
{
    size_t n = slots_for(count), n_old = h->n;
    vpn_htab_ent *t, *old = h->t;

    if (n != 0 && n <= h->n)
        return 0;
    if ((t = alloc_slots(a, n)) == NULL)
        return VPN_ERR_NOMEM;
    h->t = t;
    h->n = n;
    for (size_t i = 0; i < n_old; i++)
        if (old[i].val)
            *slot(h, old[i].key, old[i].val) = old[i];
    free(old);
    return 0;
}

int vpn_htab_reset(vpn_htab *h, const vpn_alloc *a, size_t count)
{
    size_t n = slots_for(count);
    vpn_htab_ent *t;

    if ((t = alloc_slots(a, n)) == NULL)
        return VPN_ERR_NOMEM;
    free(h->t);
    h->t = t;
    h->n = n;
    h->used = 0;
    return 0;
}

void vpn_htab_remove(vpn_htab *h, vpn_htab_ent *e)
{
    size_t mask = h->n - 1, i = (size_t)(e - h->t), j;

    if (h->n == 0 || i >= h->n || h->t[i].val == 0)
        return;
    h->used--;
    /* Backward-shift deletion: the hole at i takes the first later entry
     * of the run that may sit there (its home is not in (i, j], cyclically),
     * and so on until the run ends; every entry left stays reachable from
     * its home without tombstones. */
    for (j = i;;) {
        h->t[i].val = 0;
        for (;;) {
            size_t k;
            j = (j + 1) & mask;
            if (h->t[j].val == 0)
                return;
            k = vpn_htab_home(h->t[j].key, h->n);
            if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
                continue;
            break;
        }
        h->t[i] = h->t[j];
        i = j;
    }
}

bool vpn_htab_del(vpn_htab *h, uint32_t key, uint32_t val)
{
    vpn_htab_ent *e = vpn_htab_find_pair(h, key, val);

    if (e == NULL)
        return false;
    vpn_htab_remove(h, e);
    return true;
}

size_t vpn_htab_get(const vpn_htab *h, uint32_t key, uint32_t *out, size_t cap)
{
    size_t n = 0, mask = h->n - 1;

    if (h->n == 0)
        return 0;
    for (size_t i = vpn_htab_home(key, h->n); h->t[i].val; i = (i + 1) & mask)
        if (h->t[i].key == key) {
            if (n < cap)
                out[n] = h->t[i].val;
            n++;
        }
    return n;
}

size_t vpn_htab_prune(vpn_htab *h, uint32_t key, bool (*keep)(void *user, uint32_t val), void *user)
{
    size_t n = 0, mask = h->n - 1;

    if (h->n == 0)
        return 0;
    /* a removal shifts only later entries of the run back, into the slot
     * just freed: that slot is looked at again, the ones before never move */
    for (size_t i = vpn_htab_home(key, h->n); h->t[i].val;) {
        if (h->t[i].key == key && !keep(user, h->t[i].val)) {
            vpn_htab_remove(h, &h->t[i]);
            continue;
        }
        n += h->t[i].key == key;
        i = (i + 1) & mask;
    }
    return n;
}

void vpn_htab_free(vpn_htab *h)
{
    free(h->t);
    h->t = NULL;
    h->n = h->used = 0;
}
