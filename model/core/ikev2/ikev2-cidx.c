/* The CHILD_SA id -> IKE SA handle index (see ikev2-cidx.h), over the
 * common table (common/htab.h). */
#include "ikev2/ikev2-cidx.h"

size_t ikev2_cidx_home(uint32_t child_id, size_t n)
{
    return vpn_htab_home(child_id, n);
}

void ikev2_cidx_put(ikev2_cidx *x, const vpn_alloc *a, uint32_t child_id, uint32_t sa_id)
{
    vpn_htab_ent *e;

    if (child_id == 0)
        return;
    if (sa_id == 0) { /* handles are never 0: "held by none" is no entry */
        ikev2_cidx_del(x, child_id);
        return;
    }
    if ((e = vpn_htab_find(&x->h, child_id)) != NULL) {
        e->val = sa_id; /* moved to another SA (IKE rekey): in place */
        return;
    }
    if (vpn_htab_put(&x->h, child_id, sa_id) == 0)
        return;
    /* full: twice the room, or the child is left out and lookups walk */
    if (vpn_htab_reserve(&x->h, a, x->h.used + 1) != 0 || vpn_htab_put(&x->h, child_id, sa_id) != 0)
        x->complete = false;
}

void ikev2_cidx_del(ikev2_cidx *x, uint32_t child_id)
{
    vpn_htab_ent *e = child_id ? vpn_htab_find(&x->h, child_id) : NULL;

    if (e)
        vpn_htab_remove(&x->h, e);
}

uint32_t ikev2_cidx_get(const ikev2_cidx *x, uint32_t child_id)
{
    const vpn_htab_ent *e = child_id ? vpn_htab_find(&x->h, child_id) : NULL;

    return e ? e->val : 0;
}

void ikev2_cidx_free(ikev2_cidx *x)
{
    vpn_htab_free(&x->h);
}
