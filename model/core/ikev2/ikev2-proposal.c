/*
 * Proposal selection and reply checking (RFC 7296 2.7, 3.3.3, 3.3.6).
 */
#include "ikev2/ikev2-proposal.h"

#include <string.h>

#include "common/vpn-err.h"

int vpn_ikev2_proposal_add(vpn_ikev2_proposal *p, uint8_t type, uint16_t id, uint16_t key_len)
{
    vpn_ikev2_xform *x;

    if (!p)
        return VPN_ERR_INVAL;
    if (p->n_xform >= VPN_IKEV2_PROP_MAX_XFORMS)
        return VPN_ERR_LIMIT;
    x = &p->xform[p->n_xform++];
    x->type = type;
    x->id = id;
    x->key_len = key_len;
    x->bad = false;
    return 0;
}

const vpn_ikev2_xform *vpn_ikev2_proposal_get(const vpn_ikev2_proposal *p, uint8_t type)
{
    if (!p)
        return NULL;
    for (unsigned i = 0; i < p->n_xform && i < VPN_IKEV2_PROP_MAX_XFORMS; i++)
        if (p->xform[i].type == type)
            return &p->xform[i];
    return NULL;
}

/* 3.3.2/3.3.3: types where ID 0 means "none of this", which may be left out. */
static bool type_allows_none(uint8_t type)
{
    return type == VPN_IKEV2_XF_INTEG || type == VPN_IKEV2_XF_DH ||
           (type >= VPN_IKEV2_XF_ADDKE1 && type <= VPN_IKEV2_XF_ADDKE7);
}

static unsigned count_type(const vpn_ikev2_proposal *p, uint8_t type)
{
    unsigned n = 0;

    for (unsigned i = 0; i < p->n_xform; i++)
        n += p->xform[i].type == type;
    return n;
}

bool vpn_ikev2_proposal_complete(const vpn_ikev2_proposal *p)
{
    const vpn_ikev2_xform *encr, *integ, *prf, *dh, *esn;
    bool integ_real;

    if (!p || p->n_xform > VPN_IKEV2_PROP_MAX_XFORMS)
        return false;
    for (unsigned i = 0; i < p->n_xform; i++) {
        if (p->xform[i].bad || count_type(p, p->xform[i].type) != 1)
            return false;
        if (p->xform[i].type > VPN_IKEV2_XF_TYPE_MAX || p->xform[i].type == 0)
            return false;
    }
    encr = vpn_ikev2_proposal_get(p, VPN_IKEV2_XF_ENCR);
    integ = vpn_ikev2_proposal_get(p, VPN_IKEV2_XF_INTEG);
    prf = vpn_ikev2_proposal_get(p, VPN_IKEV2_XF_PRF);
    dh = vpn_ikev2_proposal_get(p, VPN_IKEV2_XF_DH);
    esn = vpn_ikev2_proposal_get(p, VPN_IKEV2_XF_ESN);
    integ_real = integ && integ->id != VPN_INTEG_NONE;
    /* RFC 5282 8: combined-mode ciphers carry their own integrity. */
    if (encr && vpn_ikev2_encr_is_aead(encr->id)) {
        if (integ_real)
            return false;
    } else if (!integ_real) {
        return false;
    }

    switch (p->proto) {
    case VPN_IKEV2_PROTO_IKE: /* 3.3.3: ENCR, PRF, INTEG (unless AEAD), D-H */
        return encr && prf && dh && dh->id != VPN_DH_NONE && !esn;
    case VPN_IKEV2_PROTO_ESP: /* ENCR, ESN; INTEG unless AEAD; D-H optional */
        return encr && esn && !prf;
    case VPN_IKEV2_PROTO_AH: /* INTEG, ESN; D-H optional */
        return !encr && integ_real && esn && !prf;
    default:
        return false;
    }
}

static bool xform_eq(const vpn_ikev2_xform *a, const vpn_ikev2_xform *b)
{
    return a->type == b->type && a->id == b->id && a->key_len == b->key_len && !a->bad &&
           !b->bad;
}

/* p's usable transform of `type` with ID 0 (NONE), or NULL. */
static const vpn_ikev2_xform *find_none(const vpn_ikev2_proposal *p, uint8_t type)
{
    for (unsigned i = 0; i < p->n_xform; i++)
        if (p->xform[i].type == type && p->xform[i].id == 0 && !p->xform[i].bad)
            return &p->xform[i];
    return NULL;
}

static bool lists_none(const vpn_ikev2_proposal *p, uint8_t type)
{
    return find_none(p, type) != NULL;
}

/* First transform of `type` in `pref` that `other` also has, or NULL. */
static const vpn_ikev2_xform *pick(const vpn_ikev2_proposal *pref,
                                   const vpn_ikev2_proposal *other, uint8_t type)
{
    for (unsigned i = 0; i < pref->n_xform; i++) {
        const vpn_ikev2_xform *a = &pref->xform[i];
        if (a->type != type || a->bad)
            continue;
        for (unsigned j = 0; j < other->n_xform; j++)
            if (xform_eq(a, &other->xform[j]))
                return a;
    }
    return NULL;
}

int vpn_ikev2_proposal_match(const vpn_ikev2_proposal *peer, const vpn_ikev2_proposal *local,
                             bool local_order, vpn_ikev2_proposal *out)
{
    vpn_ikev2_proposal res;

    if (!peer || !local || !out)
        return VPN_ERR_INVAL;
    if (peer->n_xform > VPN_IKEV2_PROP_MAX_XFORMS || local->n_xform > VPN_IKEV2_PROP_MAX_XFORMS ||
        peer->spi_len > sizeof peer->spi)
        return VPN_ERR_INVAL;
    if (peer->proto != local->proto)
        return VPN_ERR_NOTFOUND;
    memset(&res, 0, sizeof res);
    res.num = peer->num;
    res.proto = peer->proto;
    res.spi_len = peer->spi_len;
    memcpy(res.spi, peer->spi, peer->spi_len);

    /* Every type either side mentions, in ascending order (0 included: it
     * is a type nobody understands, which makes the proposal unusable). */
    for (unsigned t = 0; t <= 255; t++) {
        uint8_t type = (uint8_t)t;
        unsigned in_peer = count_type(peer, type), in_local = count_type(local, type);
        const vpn_ikev2_xform *x;

        if (in_peer == 0 && in_local == 0)
            continue;
        if (in_peer && in_local) {
            x = local_order ? pick(local, peer, type) : pick(peer, local, type);
            if (!x)
                return VPN_ERR_NOTFOUND;
            res.xform[res.n_xform++] = *x;
        } else if (in_peer) {
            /* The peer offers a type we do not configure: fine only if it
             * also offers doing without it. That NONE goes back as it came,
             * attributes included (3.3.6). */
            x = type_allows_none(type) ? find_none(peer, type) : NULL;
            if (!x)
                return VPN_ERR_NOTFOUND;
            res.xform[res.n_xform++] = *x;
        } else {
            /* We require a type the peer did not offer. */
            if (!type_allows_none(type) || !lists_none(local, type))
                return VPN_ERR_NOTFOUND;
        }
    }
    if (!vpn_ikev2_proposal_complete(&res))
        return VPN_ERR_NOTFOUND;
    *out = res;
    return 0;
}

int vpn_ikev2_proposal_select(const vpn_ikev2_payload *sa, const vpn_ikev2_proposal *local,
                              size_t n_local, unsigned flags, vpn_ikev2_proposal *chosen,
                              size_t *local_index)
{
    bool local_order = (flags & VPN_IKEV2_SEL_PREFER_LOCAL) != 0;
    size_t n_outer = local_order ? n_local : 1;

    if (!sa || sa->type != VPN_IKEV2_PL_SA || !sa->known || !chosen || (!local && n_local))
        return VPN_ERR_INVAL;
    /* Outer loop over whichever side's order wins; the peer's proposals
     * are re-walked from the wire each time (no copy of the whole list). */
    for (size_t o = 0; o < n_outer; o++) {
        vpn_ikev2_iter it;
        vpn_ikev2_prop_view pv;

        vpn_ikev2_prop_iter_init(&it, sa);
        while (vpn_ikev2_prop_iter_next(&it, &pv)) {
            vpn_ikev2_proposal peer, res;

            if (vpn_ikev2_proposal_from_view(&pv, &peer))
                continue; /* cannot be represented: treat as unacceptable */
            for (size_t i = local_order ? o : 0; i < (local_order ? o + 1 : n_local); i++) {
                if (vpn_ikev2_proposal_match(&peer, &local[i], local_order, &res) == 0) {
                    *chosen = res;
                    if (local_index)
                        *local_index = i;
                    return 0;
                }
            }
        }
    }
    return VPN_ERR_NOTFOUND;
}

static bool has_xform(const vpn_ikev2_proposal *p, const vpn_ikev2_xform *x)
{
    for (unsigned i = 0; i < p->n_xform; i++)
        if (xform_eq(&p->xform[i], x))
            return true;
    return false;
}

int vpn_ikev2_proposal_check_reply(const vpn_ikev2_payload *sa,
                                   const vpn_ikev2_proposal *offered, size_t n_offered,
                                   vpn_ikev2_proposal *accepted)
{
    vpn_ikev2_iter it;
    vpn_ikev2_prop_view pv;
    vpn_ikev2_proposal rp;
    const vpn_ikev2_proposal *o = NULL;

    if (!sa || sa->type != VPN_IKEV2_PL_SA || !sa->known || !accepted ||
        (!offered && n_offered))
        return VPN_ERR_INVAL;
    /* 2.7: the responder returns a single proposal. */
    if (sa->u.sa.n_prop != 1)
        return VPN_ERR_POLICY;
    vpn_ikev2_prop_iter_init(&it, sa);
    if (!vpn_ikev2_prop_iter_next(&it, &pv) || vpn_ikev2_proposal_from_view(&pv, &rp))
        return VPN_ERR_POLICY;
    for (size_t i = 0; i < n_offered; i++)
        if (offered[i].num == rp.num) {
            o = &offered[i];
            break;
        }
    if (!o || o->proto != rp.proto || !vpn_ikev2_proposal_complete(&rp))
        return VPN_ERR_POLICY;
    for (unsigned i = 0; i < rp.n_xform; i++)
        if (!has_xform(o, &rp.xform[i]))
            return VPN_ERR_POLICY;
    /* One of each type we offered, unless we offered doing without it. */
    for (unsigned i = 0; i < o->n_xform; i++) {
        uint8_t type = o->xform[i].type;
        if (count_type(&rp, type) == 0 && !(type_allows_none(type) && lists_none(o, type)))
            return VPN_ERR_POLICY;
    }
    *accepted = rp;
    return 0;
}
