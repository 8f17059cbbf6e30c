/*
 * From the FlexVPN policy objects to what goes on the wire and back:
 * proposals from `crypto ikev2 proposal` / `policy` and from transform
 * sets, proposal selection (RFC 7296 2.7, 3.3.6), identities (3.5) and
 * their matching against profiles and keyrings, pre-shared keys.
 */
#include <stdio.h>
#include <string.h>

#include "common/vpn-err.h"
#include "ikev2/ikev2-eng.h"

/* ---- proposals ---------------------------------------------------------- */

/* IOS derives the PRF from the integrity algorithm when none is given. */
static uint16_t prf_for_integ(uint16_t integ)
{
    switch (integ) {
    case VPN_AUTH_HMAC_SHA1_96: return VPN_PRF_HMAC_SHA1;
    case VPN_AUTH_HMAC_SHA2_256_128: return VPN_PRF_HMAC_SHA2_256;
    case VPN_AUTH_HMAC_SHA2_384_192: return VPN_PRF_HMAC_SHA2_384;
    case VPN_AUTH_HMAC_SHA2_512_256: return VPN_PRF_HMAC_SHA2_512;
    }
    return 0;
}

/* Key Length attribute: AES takes one, ChaCha20 and NULL do not (RFC 7634 2). */
static uint16_t key_attr(uint16_t encr, uint16_t bits)
{
    return encr == VPN_ENCR_CHACHA20_POLY1305 || encr == VPN_ENCR_NULL ? 0 : bits;
}

/* Adds a transform unless the proposal already has it. */
static void xf_add(vpn_ikev2_proposal *p, uint8_t type, uint16_t id, uint16_t key_len)
{
    for (size_t i = 0; i < p->n_xform; i++)
        if (p->xform[i].type == type && p->xform[i].id == id && p->xform[i].key_len == key_len)
            return;
    vpn_ikev2_proposal_add(p, type, id, key_len);
}

const vpn_conf_policy *ikev2_conf_policy(const vpn_conf *c, const vpn_addr *local)
{
    const vpn_conf_policy *dflt = NULL;

    /* IOS: a policy whose `match address local` names the address wins;
     * then any policy without that match; "default" last. */
    for (size_t i = 0; i < c->n_policy; i++) {
        const vpn_conf_policy *p = &c->policy[i];
        for (size_t j = 0; j < p->n_match_local; j++)
            if (local && vpn_addr_eq(&p->match_local[j], local))
                return p;
    }
    for (size_t i = 0; i < c->n_policy; i++) {
        const vpn_conf_policy *p = &c->policy[i];
        if (p->n_match_local)
            continue;
        if (strcmp(p->name, "default") == 0)
            dflt = p;
        else
            return p;
    }
    return dflt;
}

size_t ikev2_ike_proposals(const vpn_conf *c, const vpn_addr *local, uint16_t only_group,
                           vpn_ikev2_proposal *out, size_t cap)
{
    const vpn_conf_policy *pol = ikev2_conf_policy(c, local);
    size_t n = 0;

    if (pol == NULL)
        return 0;
    for (size_t i = 0; i < pol->n_proposal && n < cap; i++) {
        const vpn_conf_proposal *cp = vpn_conf_find_proposal(c, pol->proposal[i]);
        vpn_ikev2_proposal *p = &out[n];
        bool aead = false, has_group = false;

        if (cp == NULL)
            continue;
        memset(p, 0, sizeof *p);
        p->num = (uint8_t)(n + 1);
        p->proto = VPN_IKEV2_PROTO_IKE;
        for (size_t j = 0; j < cp->n_encr; j++) {
            xf_add(p, VPN_IKEV2_XF_ENCR, cp->encr[j].id, key_attr(cp->encr[j].id, cp->encr[j].bits));
            aead = aead || vpn_ikev2_encr_is_aead(cp->encr[j].id);
        }
        for (size_t j = 0; j < cp->n_prf; j++)
            xf_add(p, VPN_IKEV2_XF_PRF, cp->prf[j], 0);
        if (cp->n_prf == 0)
            for (size_t j = 0; j < cp->n_integ; j++)
                if (prf_for_integ(cp->integ[j]))
                    xf_add(p, VPN_IKEV2_XF_PRF, prf_for_integ(cp->integ[j]), 0);
        if (!aead)
            for (size_t j = 0; j < cp->n_integ; j++)
                xf_add(p, VPN_IKEV2_XF_INTEG, cp->integ[j], 0);
        /* only_group: a responder looking for a proposal with the group of
         * the KE it received (RFC 7296 1.2), or an initiator putting the
         * group of its KE first. */
        for (size_t j = 0; j < cp->n_group; j++) {
            if (only_group && cp->group[j] == only_group) {
                xf_add(p, VPN_IKEV2_XF_DH, cp->group[j], 0);
                has_group = true;
            }
        }
        if (only_group && !has_group)
            continue;
        n++;
    }
    return n;
}

size_t ikev2_ike_offer(const vpn_conf *c, const vpn_addr *local, uint16_t first_group,
                       vpn_ikev2_proposal *out, size_t cap)
{
    size_t n = ikev2_ike_proposals(c, local, 0, out, cap);

    /* ikev2_ike_proposals(…, 0, …) left the groups out: add them, the one
     * we send a KE for first so that a responder following our order
     * picks it. */
    {
        const vpn_conf_policy *pol = ikev2_conf_policy(c, local);
        size_t k = 0;
        for (size_t i = 0; pol && i < pol->n_proposal && k < n; i++) {
            const vpn_conf_proposal *cp = vpn_conf_find_proposal(c, pol->proposal[i]);
            if (cp == NULL)
                continue;
            for (size_t j = 0; j < cp->n_group; j++)
                if (cp->group[j] == first_group)
                    xf_add(&out[k], VPN_IKEV2_XF_DH, cp->group[j], 0);
            for (size_t j = 0; j < cp->n_group; j++)
                xf_add(&out[k], VPN_IKEV2_XF_DH, cp->group[j], 0);
            k++;
        }
    }
    return n;
}

uint16_t ikev2_first_group(const vpn_conf *c, const vpn_addr *local)
{
    vpn_ikev2_proposal p[IKEV2_PROPS_MAX];
    size_t n = ikev2_ike_offer(c, local, 0, p, IKEV2_PROPS_MAX);
    const vpn_ikev2_xform *x;

    for (size_t i = 0; i < n; i++)
        if ((x = vpn_ikev2_proposal_get(&p[i], VPN_IKEV2_XF_DH)) != NULL)
            return x->id;
    return 0;
}

bool ikev2_group_offered(const vpn_conf *c, const vpn_addr *local, uint16_t group)
{
    vpn_ikev2_proposal p[IKEV2_PROPS_MAX];
    return group != 0 && ikev2_ike_proposals(c, local, group, p, IKEV2_PROPS_MAX) > 0;
}

uint16_t ikev2_invalid_ke_group(const vpn_ikev2_payload *p)
{
    vpn_rd r;
    uint16_t group = 0;

    vpn_rd_init(&r, p->u.notify.data.ptr, p->u.notify.data.len);
    (void)vpn_rd_u16(&r, &group); /* sticky: checked by the end check */
    return vpn_rd_expect_end(&r) == 0 ? group : 0;
}

size_t ikev2_esp_proposals(const vpn_conf *c, const vpn_conf_ipsec_profile *ipp, uint16_t pfs_group,
                           uint32_t spi, vpn_ikev2_proposal *out, size_t cap)
{
    size_t n = 0;

    for (size_t i = 0; i < ipp->n_transform_set && n < cap; i++) {
        const vpn_conf_transform_set *t = vpn_conf_find_transform_set(c, ipp->transform_set[i]);
        vpn_ikev2_proposal *p = &out[n];

        if (t == NULL)
            continue;
        memset(p, 0, sizeof *p);
        p->num = (uint8_t)(n + 1);
        p->proto = VPN_IKEV2_PROTO_ESP;
        p->spi_len = 4;
        vpn_store32(p->spi, spi);
        xf_add(p, VPN_IKEV2_XF_ENCR, t->encr.id, key_attr(t->encr.id, t->encr.bits));
        if (!vpn_ikev2_encr_is_aead(t->encr.id) && t->integ)
            xf_add(p, VPN_IKEV2_XF_INTEG, t->integ, 0);
        if (pfs_group)
            xf_add(p, VPN_IKEV2_XF_DH, pfs_group, 0);
        /* ESN: we do not offer 64-bit sequence numbers (RFC 7296 3.3.2). */
        xf_add(p, VPN_IKEV2_XF_ESN, VPN_IKEV2_ESN_NO, 0);
        n++;
    }
    return n;
}

uint16_t ikev2_prop_id(const vpn_ikev2_proposal *p, uint8_t type, uint16_t *key_len)
{
    const vpn_ikev2_xform *x = vpn_ikev2_proposal_get(p, type);
    if (key_len)
        *key_len = x ? x->key_len : 0;
    return x ? x->id : 0;
}

/* ---- identities ---------------------------------------------------------- */

int ikev2_id_local(const vpn_conf_profile *prof, const vpn_addr *local, ikev2_id *out)
{
    const vpn_conf_identity *il = prof ? &prof->identity_local : NULL;
    size_t n;

    memset(out, 0, sizeof *out);
    if (il == NULL || il->type == VPN_CONF_ID_NONE ||
        (il->type == VPN_CONF_ID_ADDRESS && vpn_addr_is_any(&il->addr.addr))) {
        const vpn_addr *a = local;
        if (il && il->type == VPN_CONF_ID_ADDRESS)
            a = &il->addr.addr;
        out->type = a->family == VPN_AF_INET6 ? VPN_IKEV2_ID_IPV6_ADDR : VPN_IKEV2_ID_IPV4_ADDR;
        out->len = vpn_addr_len(a);
        memcpy(out->data, a->b, out->len);
        return 0;
    }
    switch (il->type) {
    case VPN_CONF_ID_ADDRESS:
        out->type = il->addr.addr.family == VPN_AF_INET6 ? VPN_IKEV2_ID_IPV6_ADDR : VPN_IKEV2_ID_IPV4_ADDR;
        out->len = vpn_addr_len(&il->addr.addr);
        memcpy(out->data, il->addr.addr.b, out->len);
        return 0;
    case VPN_CONF_ID_FQDN:
        out->type = VPN_IKEV2_ID_FQDN;
        break;
    case VPN_CONF_ID_EMAIL:
        out->type = VPN_IKEV2_ID_RFC822_ADDR;
        break;
    case VPN_CONF_ID_KEY_ID:
        out->type = VPN_IKEV2_ID_KEY_ID;
        break;
    default:
        return VPN_ERR_UNSUPPORTED; /* DN comes from a certificate */
    }
    n = strlen(il->value);
    if (n == 0 || n > sizeof out->data)
        return VPN_ERR_POLICY;
    memcpy(out->data, il->value, n);
    out->len = n;
    return 0;
}

int ikev2_id_to_conf(const ikev2_id *id, vpn_conf_identity *out)
{
    memset(out, 0, sizeof *out);
    switch (id->type) {
    case VPN_IKEV2_ID_IPV4_ADDR:
    case VPN_IKEV2_ID_IPV6_ADDR:
        if (vpn_addr_from_bytes(&out->addr.addr, id->data, id->len) != 0 ||
            (id->type == VPN_IKEV2_ID_IPV4_ADDR) != (id->len == 4))
            return VPN_ERR_MALFORMED;
        out->type = VPN_CONF_ID_ADDRESS;
        out->addr.len = (uint8_t)(id->len * 8);
        return 0;
    case VPN_IKEV2_ID_FQDN:
        out->type = VPN_CONF_ID_FQDN;
        break;
    case VPN_IKEV2_ID_RFC822_ADDR:
        out->type = VPN_CONF_ID_EMAIL;
        break;
    case VPN_IKEV2_ID_KEY_ID:
        out->type = VPN_CONF_ID_KEY_ID;
        break;
    default:
        return VPN_ERR_UNSUPPORTED;
    }
    /* Text identities: no NUL inside, and they must fit. */
    if (id->len == 0 || id->len >= sizeof out->value || memchr(id->data, 0, id->len))
        return VPN_ERR_MALFORMED;
    memcpy(out->value, id->data, id->len);
    out->value[id->len] = '\0';
    return 0;
}

void ikev2_id_text(const ikev2_id *id, char *buf, size_t len)
{
    vpn_addr a;

    if (len == 0)
        return;
    buf[0] = '\0';
    switch (id->type) {
    case VPN_IKEV2_ID_IPV4_ADDR:
    case VPN_IKEV2_ID_IPV6_ADDR:
        if (vpn_addr_from_bytes(&a, id->data, id->len) == 0)
            vpn_addr_str(&a, buf, len);
        return;
    case VPN_IKEV2_ID_FQDN:
    case VPN_IKEV2_ID_RFC822_ADDR:
    case VPN_IKEV2_ID_KEY_ID: {
        size_t n = id->len < len - 1 ? id->len : len - 1;
        for (size_t i = 0; i < n; i++)
            buf[i] = id->data[i] >= 0x20 && id->data[i] < 0x7f ? (char)id->data[i] : '?';
        buf[n] = '\0';
        return;
    }
    default:
        snprintf(buf, len, "(%s)", vpn_ikev2_id_type_name(id->type));
    }
}

/* The profile a responder uses for a peer: `match address local` and
 * `match identity remote` must both fit (IOS profile selection). */
const vpn_conf_profile *ikev2_profile_for_peer(const vpn_conf *c, const vpn_addr *local,
                                               const vpn_conf_identity *remote_id)
{
    for (size_t i = 0; i < c->n_profile; i++) {
        const vpn_conf_profile *p = &c->profile[i];
        bool local_ok = p->n_match_local == 0;
        for (size_t j = 0; j < p->n_match_local && !local_ok; j++)
            local_ok = vpn_addr_eq(&p->match_local[j], local);
        if (local_ok && vpn_conf_profile_matches(p, remote_id))
            return p;
    }
    return NULL;
}

static const char *keyring_psk(const vpn_conf *c, const vpn_conf_profile *prof, const vpn_addr *remote,
                               const vpn_conf_identity *remote_id, bool local)
{
    const vpn_conf_keyring *kr;
    const vpn_conf_peer *peer;

    if (prof->keyring[0] == '\0' || (kr = vpn_conf_find_keyring(c, prof->keyring)) == NULL)
        return NULL;
    peer = vpn_conf_keyring_match(kr, remote, remote_id);
    if (peer == NULL)
        return NULL;
    if (local)
        return peer->psk_local[0] ? peer->psk_local : NULL;
    return peer->psk_remote[0] ? peer->psk_remote : NULL;
}

const char *ikev2_psk_local(const vpn_conf *c, const vpn_conf_profile *prof, const vpn_addr *remote,
                            const vpn_conf_identity *remote_id)
{
    if (prof == NULL)
        return NULL;
    if (prof->auth_local_key[0])
        return prof->auth_local_key;
    return keyring_psk(c, prof, remote, remote_id, true);
}

const char *ikev2_psk_remote(const vpn_conf *c, const vpn_conf_profile *prof, const vpn_addr *remote,
                             const vpn_conf_identity *remote_id)
{
    if (prof == NULL)
        return NULL;
    if (prof->auth_remote_key[0])
        return prof->auth_remote_key;
    return keyring_psk(c, prof, remote, remote_id, false);
}

bool ikev2_profile_accepts_auth(const vpn_conf_profile *prof, vpn_conf_auth a)
{
    for (size_t i = 0; i < prof->n_auth_remote; i++)
        if (prof->auth_remote[i] == a)
            return true;
    return false;
}

/* ---- selectors on the wire ----------------------------------------------- */

int ikev2_ts_from_wire(const vpn_ikev2_ts *w, vpn_ikev2_selector *s)
{
    uint8_t fam;

    if (w->type == VPN_IKEV2_TS_IPV4_ADDR_RANGE && w->addr_len == 4)
        fam = VPN_AF_INET;
    else if (w->type == VPN_IKEV2_TS_IPV6_ADDR_RANGE && w->addr_len == 16)
        fam = VPN_AF_INET6;
    else
        return VPN_ERR_UNSUPPORTED;
    memset(s, 0, sizeof *s);
    s->family = fam;
    s->proto = w->proto;
    s->port_lo = w->start_port;
    s->port_hi = w->end_port;
    vpn_addr_from_bytes(&s->addr_lo, w->start, w->addr_len);
    vpn_addr_from_bytes(&s->addr_hi, w->end, w->addr_len);
    return 0;
}

void ikev2_ts_to_wire(const vpn_ikev2_selector *s, vpn_ikev2_ts *w)
{
    size_t n = vpn_addr_len(&s->addr_lo);

    memset(w, 0, sizeof *w);
    w->type = s->family == VPN_AF_INET6 ? VPN_IKEV2_TS_IPV6_ADDR_RANGE : VPN_IKEV2_TS_IPV4_ADDR_RANGE;
    w->proto = s->proto;
    w->start_port = s->port_lo;
    w->end_port = s->port_hi;
    w->addr_len = (uint8_t)n;
    memcpy(w->start, s->addr_lo.b, n);
    memcpy(w->end, s->addr_hi.b, n);
}

size_t ikev2_ts_parse(const vpn_ikev2_payload *pl, vpn_ikev2_selector *out, size_t cap, bool *unsupported)
{
    vpn_ikev2_iter it;
    vpn_ikev2_ts w;
    size_t n = 0;

    if (unsupported)
        *unsupported = false;
    vpn_ikev2_ts_iter_init(&it, pl);
    while (vpn_ikev2_ts_iter_next(&it, &w)) {
        vpn_ikev2_selector s;
        if (ikev2_ts_from_wire(&w, &s) != 0) {
            if (unsupported)
                *unsupported = true;
            continue; /* selector types we do not know are skipped */
        }
        if (n < cap)
            out[n++] = s;
    }
    return n;
}
