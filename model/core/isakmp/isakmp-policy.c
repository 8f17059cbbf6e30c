#include "isakmp/isakmp-policy.h"

#include "common/vpn-err.h"
#include "isakmp/isakmp-const.h"

/*
 * The life type / life duration pairing shared by both spaces (RFC 2409
 * appendix A classes 11/12, RFC 2407 4.5 classes 1/2): a type announces
 * which duration comes next; one pair per type.
 */
typedef struct life_state {
    uint16_t pending; /* life type waiting for its duration, 0 if none */
    uint8_t types;
    uint64_t secs, kb;
} life_state;

static int life_type(life_state *s, const vpn_isakmp_attr *a)
{
    uint16_t t;

    if (vpn_isakmp_attr_basic(a, &t) || s->pending)
        return VPN_ERR_MALFORMED;
    if (t != VPN_IKEV1_LIFE_SECONDS && t != VPN_IKEV1_LIFE_KILOBYTES)
        return VPN_ERR_UNSUPPORTED;
    if (s->types & (1u << t))
        return VPN_ERR_MALFORMED;
    s->pending = t;
    return 0;
}

static int life_duration(life_state *s, const vpn_isakmp_attr *a)
{
    uint64_t v;
    int rc;

    if (s->pending == 0)
        return VPN_ERR_MALFORMED;
    if ((rc = vpn_isakmp_attr_uint(a, VPN_ISAKMP_LIFE_MAX, &v)))
        return rc;
    if (s->pending == VPN_IKEV1_LIFE_SECONDS)
        s->secs = v;
    else
        s->kb = v;
    s->types |= (uint8_t)(1u << s->pending);
    s->pending = 0;
    return 0;
}

/* Marks a basic attribute seen once and stores its value. */
static int take_basic(uint32_t *present, const vpn_isakmp_attr *a, uint16_t *dst)
{
    if (*present & (1u << a->type))
        return VPN_ERR_MALFORMED;
    if (vpn_isakmp_attr_basic(a, dst))
        return VPN_ERR_MALFORMED;
    *present |= 1u << a->type;
    return 0;
}

/* A variable attribute whose value is not decoded here (group parameters). */
static int take_var(uint32_t *present, const vpn_isakmp_attr *a)
{
    if (*present & (1u << a->type) || a->tv)
        return VPN_ERR_MALFORMED;
    *present |= 1u << a->type;
    return 0;
}

/* RFC 2409 appendix A. */
int vpn_ikev1_sa_attrs_decode(const uint8_t *p, size_t len, vpn_ikev1_sa_attrs *out)
{
    vpn_ikev1_sa_attrs a = {0};
    life_state life = {0};
    vpn_isakmp_attr_iter it;
    vpn_isakmp_attr at;
    int rc;

    vpn_isakmp_attr_iter_init(&it, p, len);
    while ((rc = vpn_isakmp_attr_next(&it, &at)) == 1) {
        if (life.pending && at.type != VPN_IKEV1_ATTR_LIFE_DURATION)
            return VPN_ERR_MALFORMED;
        switch (at.type) {
        case VPN_IKEV1_ATTR_ENCR: rc = take_basic(&a.present, &at, &a.encr); break;
        case VPN_IKEV1_ATTR_HASH: rc = take_basic(&a.present, &at, &a.hash); break;
        case VPN_IKEV1_ATTR_AUTH: rc = take_basic(&a.present, &at, &a.auth); break;
        case VPN_IKEV1_ATTR_GROUP_DESC: rc = take_basic(&a.present, &at, &a.group_desc); break;
        case VPN_IKEV1_ATTR_GROUP_TYPE: rc = take_basic(&a.present, &at, &a.group_type); break;
        case VPN_IKEV1_ATTR_PRF: rc = take_basic(&a.present, &at, &a.prf); break;
        case VPN_IKEV1_ATTR_KEY_LENGTH: rc = take_basic(&a.present, &at, &a.key_len); break;
        case VPN_IKEV1_ATTR_FIELD_SIZE: rc = take_basic(&a.present, &at, &a.field_size); break;
        case VPN_IKEV1_ATTR_GROUP_PRIME:
        case VPN_IKEV1_ATTR_GROUP_GEN1:
        case VPN_IKEV1_ATTR_GROUP_GEN2:
        case VPN_IKEV1_ATTR_GROUP_CURVE_A:
        case VPN_IKEV1_ATTR_GROUP_CURVE_B:
        case VPN_IKEV1_ATTR_GROUP_ORDER: rc = take_var(&a.present, &at); break;
        case VPN_IKEV1_ATTR_LIFE_TYPE:
            rc = life_type(&life, &at);
            a.present |= 1u << at.type;
            break;
        case VPN_IKEV1_ATTR_LIFE_DURATION:
            rc = life_duration(&life, &at);
            a.present |= 1u << at.type;
            break;
        default: rc = 0; break; /* unknown: the engine decides */
        }
        if (rc)
            return rc;
    }
    if (rc < 0)
        return rc;
    if (life.pending)
        return VPN_ERR_MALFORMED;
    a.life_secs = life.secs;
    a.life_kb = life.kb;
    a.life_types = life.types;
    *out = a;
    return 0;
}

static void put_life(vpn_wr *w, uint16_t type_attr, uint16_t dur_attr, uint8_t types,
                     uint64_t secs, uint64_t kb)
{
    if (types & (1u << VPN_IKEV1_LIFE_SECONDS)) {
        vpn_isakmp_attr_put_tv(w, type_attr, VPN_IKEV1_LIFE_SECONDS);
        vpn_isakmp_attr_put_uint(w, dur_attr, secs);
    }
    if (types & (1u << VPN_IKEV1_LIFE_KILOBYTES)) {
        vpn_isakmp_attr_put_tv(w, type_attr, VPN_IKEV1_LIFE_KILOBYTES);
        vpn_isakmp_attr_put_uint(w, dur_attr, kb);
    }
}

static void put_if(vpn_wr *w, uint32_t present, uint16_t type, uint16_t v)
{
    if (present & (1u << type))
        vpn_isakmp_attr_put_tv(w, type, v);
}

int vpn_ikev1_sa_attrs_encode(const vpn_ikev1_sa_attrs *a, vpn_wr *w)
{
    put_if(w, a->present, VPN_IKEV1_ATTR_ENCR, a->encr);
    put_if(w, a->present, VPN_IKEV1_ATTR_HASH, a->hash);
    put_if(w, a->present, VPN_IKEV1_ATTR_AUTH, a->auth);
    put_if(w, a->present, VPN_IKEV1_ATTR_GROUP_DESC, a->group_desc);
    put_if(w, a->present, VPN_IKEV1_ATTR_GROUP_TYPE, a->group_type);
    put_life(w, VPN_IKEV1_ATTR_LIFE_TYPE, VPN_IKEV1_ATTR_LIFE_DURATION, a->life_types, a->life_secs,
             a->life_kb);
    put_if(w, a->present, VPN_IKEV1_ATTR_PRF, a->prf);
    put_if(w, a->present, VPN_IKEV1_ATTR_KEY_LENGTH, a->key_len);
    put_if(w, a->present, VPN_IKEV1_ATTR_FIELD_SIZE, a->field_size);
    return vpn_wr_err(w);
}

/* RFC 2407 4.5, RFC 4304, RFC 4359, RFC 6407 5.4.1. */
int vpn_ipsec_doi_attrs_decode(const uint8_t *p, size_t len, vpn_ipsec_doi_attrs *out)
{
    vpn_ipsec_doi_attrs a = {0};
    life_state life = {0};
    vpn_isakmp_attr_iter it;
    vpn_isakmp_attr at;
    int rc;

    vpn_isakmp_attr_iter_init(&it, p, len);
    while ((rc = vpn_isakmp_attr_next(&it, &at)) == 1) {
        if (life.pending && at.type != VPN_IPSEC_DOI_ATTR_LIFE_DURATION)
            return VPN_ERR_MALFORMED;
        switch (at.type) {
        case VPN_IPSEC_DOI_ATTR_GROUP_DESC: rc = take_basic(&a.present, &at, &a.group_desc); break;
        case VPN_IPSEC_DOI_ATTR_ENCAP_MODE: rc = take_basic(&a.present, &at, &a.encap); break;
        case VPN_IPSEC_DOI_ATTR_AUTH_ALG: rc = take_basic(&a.present, &at, &a.auth_alg); break;
        case VPN_IPSEC_DOI_ATTR_KEY_LENGTH: rc = take_basic(&a.present, &at, &a.key_len); break;
        case VPN_IPSEC_DOI_ATTR_KEY_ROUNDS: rc = take_basic(&a.present, &at, &a.key_rounds); break;
        case VPN_IPSEC_DOI_ATTR_ECN_TUNNEL: rc = take_basic(&a.present, &at, &a.ecn_tunnel); break;
        case VPN_IPSEC_DOI_ATTR_EXT_SEQ: rc = take_basic(&a.present, &at, &a.ext_seq); break;
        case VPN_IPSEC_DOI_ATTR_AUTH_KEY_LENGTH:
            rc = take_basic(&a.present, &at, &a.auth_key_len);
            break;
        case VPN_IPSEC_DOI_ATTR_ADDR_PRESERVATION:
            rc = take_basic(&a.present, &at, &a.addr_pres);
            break;
        case VPN_IPSEC_DOI_ATTR_SA_DIRECTION: rc = take_basic(&a.present, &at, &a.sa_dir); break;
        case VPN_IPSEC_DOI_ATTR_COMP_DICT_SIZE:
            rc = take_basic(&a.present, &at, &a.comp_dict_size);
            break;
        case VPN_IPSEC_DOI_ATTR_COMP_PRIV_ALG:
        case VPN_IPSEC_DOI_ATTR_SIG_ENC_ALG: rc = take_var(&a.present, &at); break;
        case VPN_IPSEC_DOI_ATTR_LIFE_TYPE:
            rc = life_type(&life, &at);
            a.present |= 1u << at.type;
            break;
        case VPN_IPSEC_DOI_ATTR_LIFE_DURATION:
            rc = life_duration(&life, &at);
            a.present |= 1u << at.type;
            break;
        default: rc = 0; break;
        }
        if (rc)
            return rc;
    }
    if (rc < 0)
        return rc;
    if (life.pending)
        return VPN_ERR_MALFORMED;
    a.life_secs = life.secs;
    a.life_kb = life.kb;
    a.life_types = life.types;
    *out = a;
    return 0;
}

int vpn_ipsec_doi_attrs_encode(const vpn_ipsec_doi_attrs *a, vpn_wr *w)
{
    put_life(w, VPN_IPSEC_DOI_ATTR_LIFE_TYPE, VPN_IPSEC_DOI_ATTR_LIFE_DURATION, a->life_types,
             a->life_secs, a->life_kb);
    put_if(w, a->present, VPN_IPSEC_DOI_ATTR_GROUP_DESC, a->group_desc);
    put_if(w, a->present, VPN_IPSEC_DOI_ATTR_ENCAP_MODE, a->encap);
    put_if(w, a->present, VPN_IPSEC_DOI_ATTR_AUTH_ALG, a->auth_alg);
    put_if(w, a->present, VPN_IPSEC_DOI_ATTR_KEY_LENGTH, a->key_len);
    put_if(w, a->present, VPN_IPSEC_DOI_ATTR_KEY_ROUNDS, a->key_rounds);
    put_if(w, a->present, VPN_IPSEC_DOI_ATTR_COMP_DICT_SIZE, a->comp_dict_size);
    put_if(w, a->present, VPN_IPSEC_DOI_ATTR_ECN_TUNNEL, a->ecn_tunnel);
    put_if(w, a->present, VPN_IPSEC_DOI_ATTR_EXT_SEQ, a->ext_seq);
    put_if(w, a->present, VPN_IPSEC_DOI_ATTR_AUTH_KEY_LENGTH, a->auth_key_len);
    put_if(w, a->present, VPN_IPSEC_DOI_ATTR_ADDR_PRESERVATION, a->addr_pres);
    put_if(w, a->present, VPN_IPSEC_DOI_ATTR_SA_DIRECTION, a->sa_dir);
    return vpn_wr_err(w);
}
