/* Binary min-heap of deadlines (see dheap.h). */
#include "common/dheap.h"

#include "common/vpn-err.h"

int vpn_dheap_reserve(vpn_dheap *h, const vpn_alloc *a, size_t cap)
{
    vpn_dheap_ent *n;

    if (cap <= h->cap)
        return 0;
    if (cap > SIZE_MAX / sizeof *n || (n = vpn_realloc(a, h->e, cap * sizeof *n)) == NULL)
        return VPN_ERR_NOMEM;
    h->e = n;
    h->cap = cap;
    return 0;
}

void vpn_dheap_free(vpn_dheap *h)
{
    for (size_t i = 0; i < h->n; i++)
        *h->e[i].pos = VPN_DHEAP_NONE;
    free(h->e);
    h->e = NULL;
    h->n = h->cap = 0;
}

static void place(vpn_dheap *h, size_t i, vpn_dheap_ent x)
{
    h->e[i] = x;
    *x.pos = i;
}

static void sift_up(vpn_dheap *h, size_t i)
{
    vpn_dheap_ent x = h->e[i];

    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (h->e[p].key <= x.key)
            break;
        place(h, i, h->e[p]);
        i = p;
    }
    place(h, i, x);
}

static void sift_down(vpn_dheap *h, size_t i)
{
    vpn_dheap_ent x = h->e[i];

    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && h->e[c + 1].key < h->e[c].key)
            c++;
        if (x.key <= h->e[c].key)
            break;
        place(h, i, h->e[c]);
        i = c;
    }
    place(h, i, x);
}

int vpn_dheap_push(vpn_dheap *h, void *item, size_t *pos, uint64_t key)
{
    if (h->n >= h->cap)
        return VPN_ERR_NOSPACE;
    h->e[h->n].key = key;
    h->e[h->n].pos = pos;
    h->e[h->n].item = item;
    *pos = h->n++;
    sift_up(h, h->n - 1);
    return 0;
}

void vpn_dheap_update(vpn_dheap *h, size_t i, uint64_t key)
{
    uint64_t old;

    if (i >= h->n)
        return;
    old = h->e[i].key;
    h->e[i].key = key;
    if (key < old)
        sift_up(h, i);
    else if (key > old)
        sift_down(h, i);
}

void vpn_dheap_remove(vpn_dheap *h, size_t i)
{
    size_t *gone;

    if (i >= h->n)
        return;
    gone = h->e[i].pos;
    h->n--;
    if (i < h->n) {
        /* the last entry fills the hole; it may belong above or below it */
        uint64_t old = h->e[i].key;
        place(h, i, h->e[h->n]);
        if (h->e[i].key < old)
            sift_up(h, i);
        else
            sift_down(h, i);
    }
    *gone = VPN_DHEAP_NONE;
}

size_t vpn_dheap_due(const vpn_dheap *h, uint64_t upto, void **out, size_t cap)
{
    size_t n = 0, i = 0;

    /* Depth first over the due entries only: a subtree whose root is later
     * than upto holds nothing due. No stack: the heap's shape says where
     * the parent (i-1)/2 and the right sibling i+1 of a left child are. */
    if (h->n == 0 || h->e[0].key > upto)
        return 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (n < cap)
            out[n] = h->e[i].item;
        n++;
        if (c < h->n && h->e[c].key <= upto) {
            i = c;
            continue;
        }
        if (c + 1 < h->n && h->e[c + 1].key <= upto) {
            i = c + 1;
            continue;
        }
        /* climb to the nearest left child whose right sibling is due */
        for (;;) {
            if (i == 0)
                return n;
            if ((i & 1) && i + 1 < h->n && h->e[i + 1].key <= upto) {
                i++;
                break;
            }
            i = (i - 1) / 2;
        }
    }
}
