#include "isakmp/gdoi-codec.h"

#include <string.h>

#include "common/vpn-err.h"
#include "isakmp/isakmp-policy.h"

/* RESERVED octets must be zero (isakmp-msg.h explains the choice). */
static int rd_reserved(vpn_rd *r, size_t n)
{
    const uint8_t *p;

    if (vpn_rd_view(r, &p, n))
        return VPN_ERR_MALFORMED;
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return vpn_rd_fail(r, VPN_ERR_MALFORMED);
    return 0;
}

/*
 * SRC/DST identification of SA KEK (5.3, 1-octet data length) and SA TEK
 * (5.4.1, 2-octet data length): type, port, length, data. The data length
 * is checked against the body before the data is taken (no overrun into
 * the next field) and against the ID type's fixed sizes.
 */
static int idsel_read(vpn_rd *r, unsigned lenw, vpn_gdoi_idsel *s)
{
    uint8_t l8 = 0;
    uint16_t l16 = 0;
    size_t len;

    vpn_rd_u8(r, &s->type);
    vpn_rd_u16(r, &s->port);
    if (lenw == 1)
        vpn_rd_u8(r, &l8);
    else
        vpn_rd_u16(r, &l16);
    len = lenw == 1 ? l8 : l16;
    if (vpn_rd_view(r, &s->data.p, len))
        return VPN_ERR_MALFORMED;
    s->data.len = len;
    return vpn_isakmp_id_data_check(s->type, len);
}

/* ---- SA KEK (RFC 6407 5.3) ---------------------------------------------- */

/*
 * The octets between the SPI and the KEK attributes: RFC 6407 5.3's
 * RESERVED2 (4; once RFC 3547's POP algorithm and POP key length), or the
 * 6 zero octets the Cisco GDOI reference implementation (gdoid) writes.
 * Decided from the payload alone: a KEK attribute never starts with two
 * zero octets (that is attribute type 0 in TLV form, RFC 2408 3.3, which
 * no list may hold), so zeros at offset 4 after the SPI mean the 6-octet
 * form, anything else the 4-octet one. Either way the rest must be a
 * complete KEK attribute list; nothing is read past the payload's end.
 */
int vpn_gdoi_sak_decode(const uint8_t *body, size_t len, vpn_gdoi_sak *out)
{
    vpn_gdoi_sak k;
    vpn_gdoi_kek_attrs a;
    vpn_rd r;
    size_t rest;
    int rc;

    memset(&k, 0, sizeof k);
    vpn_rd_init(&r, body, len);
    vpn_rd_u8(&r, &k.protocol);
    if ((rc = idsel_read(&r, 1, &k.src)) || (rc = idsel_read(&r, 1, &k.dst)))
        return rc;
    vpn_rd_bytes(&r, k.spi, sizeof k.spi);
    if (vpn_rd_err(&r) || rd_reserved(&r, 4))
        return VPN_ERR_MALFORMED;
    rest = vpn_rd_left(&r);
    k.layout = VPN_GDOI_LAYOUT_RFC6407;
    if (rest >= 2 && vpn_rd_cur(&r)[0] == 0 && vpn_rd_cur(&r)[1] == 0) {
        if (rd_reserved(&r, 2))
            return VPN_ERR_MALFORMED;
        k.layout = VPN_GDOI_LAYOUT_GDOID;
    }
    k.attrs.p = vpn_rd_cur(&r);
    k.attrs.len = vpn_rd_left(&r);
    if ((rc = vpn_gdoi_kek_attrs_decode(k.attrs.p, k.attrs.len, &a)))
        return rc;
    *out = k;
    return 0;
}

/* ---- SA TEK (RFC 6407 5.4) ---------------------------------------------- */

/*
 * The ESP/AH body after the protocol ID with SRC/DST ID Data Len fields
 * of lenw octets: both IDs, transform, SPI and an attribute list that
 * must end exactly at the payload's end.
 */
static int sat_esp_read(const uint8_t *p, size_t len, unsigned lenw, vpn_gdoi_sat *t)
{
    vpn_ipsec_doi_attrs a;
    vpn_rd r;
    int rc;

    vpn_rd_init(&r, p, len);
    vpn_rd_u8(&r, &t->ip_protocol);
    if ((rc = idsel_read(&r, lenw, &t->src)) || (rc = idsel_read(&r, lenw, &t->dst)))
        return rc;
    vpn_rd_u8(&r, &t->transform_id);
    vpn_rd_u32(&r, &t->spi);
    if (vpn_rd_err(&r))
        return VPN_ERR_MALFORMED;
    t->attrs.p = vpn_rd_cur(&r);
    t->attrs.len = vpn_rd_left(&r);
    return vpn_ipsec_doi_attrs_decode(t->attrs.p, t->attrs.len, &a);
}

/*
 * 5.4.1's SRC/DST ID Data Len fields are 2 octets in RFC 6407 and 1
 * octet in RFC 3547 5.4.1, which gdoid still sends. Both readings are
 * tried within the payload; the one that yields IDs of valid lengths and
 * an attribute list ending exactly at the payload's end wins. If both do
 * (possible only with variable-length ID types), the payload is refused
 * as ambiguous rather than guessed.
 */
int vpn_gdoi_sat_decode(const uint8_t *body, size_t len, vpn_gdoi_sat *out)
{
    vpn_gdoi_sat t, t1;
    vpn_rd r;
    int rc, rc1;

    memset(&t, 0, sizeof t);
    vpn_rd_init(&r, body, len);
    if (vpn_rd_u8(&r, &t.protocol_id) || t.protocol_id == 0)
        return VPN_ERR_MALFORMED;
    if (t.protocol_id == VPN_GDOI_TEK_PROTO_ESP || t.protocol_id == VPN_GDOI_TEK_PROTO_AH) {
        /* 5.4.1: the AH form (5.4.2) has the same layout. */
        t1 = t;
        rc = sat_esp_read(vpn_rd_cur(&r), vpn_rd_left(&r), 2, &t);
        rc1 = sat_esp_read(vpn_rd_cur(&r), vpn_rd_left(&r), 1, &t1);
        if (rc == 0 && rc1 == 0)
            return VPN_ERR_MALFORMED; /* ambiguous */
        if (rc != 0 && rc1 != 0)
            return rc;
        if (rc1 == 0) {
            t = t1;
            t.layout = VPN_GDOI_LAYOUT_GDOID;
        }
    } else {
        /* Other TEK protocols (SRTP, IEC 61850): kept for the engine. */
        t.opaque.p = vpn_rd_cur(&r);
        t.opaque.len = vpn_rd_left(&r);
    }
    *out = t;
    return 0;
}

/* ---- GAP (RFC 6407 5.5) -------------------------------------------------- */

int vpn_gdoi_gap_decode(const uint8_t *body, size_t len, vpn_isakmp_view *attrs)
{
    vpn_gdoi_gap_attrs a;
    int rc;

    if ((rc = vpn_gdoi_gap_attrs_decode(body, len, &a)))
        return rc;
    attrs->p = body;
    attrs->len = len;
    return 0;
}

/* ---- the GDOI SA chain (RFC 6407 5.2) ---------------------------------- */

void vpn_gdoi_sa_iter_init(vpn_isakmp_chain *c, const vpn_isakmp_sa *sa)
{
    vpn_isakmp_chain_init(c, sa->chain.p, sa->chain.len,
                          sa->gdoi ? sa->first : VPN_ISAKMP_PL_NONE, VPN_GDOI_MAX_TEKS + 2);
}

int vpn_gdoi_sa_next(vpn_isakmp_chain *c, vpn_isakmp_payload *sub)
{
    vpn_isakmp_payload pl;
    int rc = vpn_isakmp_chain_next(c, &pl);

    if (rc != 1)
        return rc;
    if (pl.type != VPN_GDOI_PL_SAK && pl.type != VPN_GDOI_PL_SAT && pl.type != VPN_GDOI_PL_GAP) {
        vpn_rd_fail(&c->rd, VPN_ERR_MALFORMED); /* sticky for later calls */
        return VPN_ERR_MALFORMED; /* not the reader's field: never 1 (an item) */
    }
    *sub = pl;
    return 1;
}

int vpn_gdoi_sa_check(const vpn_isakmp_sa *sa)
{
    vpn_isakmp_chain c;
    vpn_isakmp_payload sub;
    unsigned stage = 0, teks = 0; /* 0 start, 1 after KEK, 2 after GAP, 3 in TEKs */
    int rc;

    if (!sa->gdoi || sa->first == VPN_ISAKMP_PL_NONE)
        return VPN_ERR_MALFORMED;
    vpn_gdoi_sa_iter_init(&c, sa);
    while ((rc = vpn_gdoi_sa_next(&c, &sub)) == 1) {
        union {
            vpn_gdoi_sak k;
            vpn_gdoi_sat t;
            vpn_isakmp_view v;
        } u;

        if (sub.type == VPN_GDOI_PL_SAK) {
            if (stage != 0)
                return VPN_ERR_MALFORMED;
            stage = 1;
            rc = vpn_gdoi_sak_decode(sub.body, sub.body_len, &u.k);
        } else if (sub.type == VPN_GDOI_PL_GAP) {
            if (stage > 1)
                return VPN_ERR_MALFORMED;
            stage = 2;
            rc = vpn_gdoi_gap_decode(sub.body, sub.body_len, &u.v);
        } else {
            if (++teks > VPN_GDOI_MAX_TEKS)
                return VPN_ERR_LIMIT;
            stage = 3;
            rc = vpn_gdoi_sat_decode(sub.body, sub.body_len, &u.t);
        }
        if (rc)
            return rc;
    }
    if (rc < 0)
        return rc;
    if (vpn_isakmp_chain_used(&c) != sa->chain.len)
        return VPN_ERR_MALFORMED;
    return 0;
}

/* ---- KD (RFC 6407 5.6) -------------------------------------------------- */

void vpn_gdoi_kp_iter_init(vpn_gdoi_kp_iter *it, const vpn_gdoi_kd *kd)
{
    vpn_rd_init(&it->rd, kd->packets.p, kd->packets.len);
    it->left = kd->n;
}

/* The SPI size each key packet type must carry. */
static int kp_spi_ok(uint8_t type, size_t spi_len)
{
    switch (type) {
    case VPN_GDOI_KD_TEK: return spi_len == VPN_GDOI_TEK_SPI_LEN;
    case VPN_GDOI_KD_KEK:
    case VPN_GDOI_KD_LKH: return spi_len == VPN_GDOI_KEK_SPI_LEN;
    /* UNVERIFIED: RFC 6407 5.6.4's SID SPI size could not be re-read;
     * any size is accepted and the engine ignores it. */
    case VPN_GDOI_KD_SID: return 1;
    default: return 0;
    }
}

int vpn_gdoi_kp_next(vpn_gdoi_kp_iter *it, vpn_gdoi_kp *kp)
{
    vpn_gdoi_kp out;
    uint8_t spi_size;
    uint16_t len;
    vpn_rd sub;

    if (it->rd.err)
        return it->rd.err;
    if (it->left == 0)
        return 0;
    vpn_rd_u8(&it->rd, &out.type);
    if (vpn_rd_err(&it->rd) || rd_reserved(&it->rd, 1))
        goto bad;
    vpn_rd_u16(&it->rd, &len);
    /* The KD Length covers the whole key packet, its 4-octet head included. */
    if (vpn_rd_err(&it->rd) || len < 5 || vpn_rd_sub(&it->rd, &sub, (size_t)len - 4))
        goto bad;
    vpn_rd_u8(&sub, &spi_size);
    if (vpn_rd_view(&sub, &out.spi.p, spi_size) || !kp_spi_ok(out.type, spi_size))
        goto bad;
    out.spi.len = spi_size;
    out.attrs.p = vpn_rd_cur(&sub);
    out.attrs.len = vpn_rd_left(&sub);
    it->left--;
    *kp = out;
    return 1;
bad:
    it->rd.err = VPN_ERR_MALFORMED;
    return it->rd.err;
}

static int kp_attrs_check(const vpn_gdoi_kp *kp)
{
    union {
        vpn_gdoi_tek_keys t;
        vpn_gdoi_kek_keys k;
        vpn_gdoi_sid_attrs s;
    } u;

    switch (kp->type) {
    case VPN_GDOI_KD_TEK: return vpn_gdoi_tek_keys_decode(kp->attrs.p, kp->attrs.len, &u.t);
    case VPN_GDOI_KD_KEK: return vpn_gdoi_kek_keys_decode(kp->attrs.p, kp->attrs.len, &u.k);
    case VPN_GDOI_KD_SID: return vpn_gdoi_sid_attrs_decode(kp->attrs.p, kp->attrs.len, &u.s);
    default: return vpn_isakmp_attrs_check(kp->attrs.p, kp->attrs.len);
    }
}

int vpn_gdoi_kd_decode(const uint8_t *body, size_t len, vpn_gdoi_kd *out)
{
    vpn_gdoi_kd kd;
    vpn_gdoi_kp_iter it;
    vpn_gdoi_kp kp;
    vpn_rd r;
    int rc;

    vpn_rd_init(&r, body, len);
    vpn_rd_u16(&r, &kd.n);
    if (vpn_rd_err(&r) || rd_reserved(&r, 2) || kd.n == 0)
        return VPN_ERR_MALFORMED;
    if (kd.n > VPN_GDOI_MAX_KEY_PACKETS)
        return VPN_ERR_LIMIT;
    kd.packets.p = vpn_rd_cur(&r);
    kd.packets.len = vpn_rd_left(&r);
    vpn_gdoi_kp_iter_init(&it, &kd);
    while ((rc = vpn_gdoi_kp_next(&it, &kp)) == 1)
        if ((rc = kp_attrs_check(&kp)))
            return rc;
    if (rc < 0)
        return rc;
    /* Exactly n packets, filling the payload. */
    if (vpn_rd_left(&it.rd) != 0)
        return VPN_ERR_MALFORMED;
    *out = kd;
    return 0;
}

/* ---- SEQ (5.7), group ID (5.1) ------------------------------------------ */

int vpn_gdoi_seq_decode(const uint8_t *body, size_t len, uint32_t *seq)
{
    if (len != VPN_GDOI_SEQ_LEN)
        return VPN_ERR_MALFORMED;
    *seq = vpn_load32(body);
    return 0;
}

int vpn_gdoi_group_id_decode(const uint8_t *body, size_t len, uint32_t *gid)
{
    vpn_isakmp_id id;
    int rc;

    if ((rc = vpn_isakmp_id_decode(body, len, &id)))
        return rc;
    if (id.type != VPN_ISAKMP_ID_KEY_ID || id.data.len != 4)
        return VPN_ERR_UNSUPPORTED;
    if (id.proto != 0 || id.port != 0)
        return VPN_ERR_MALFORMED;
    *gid = vpn_load32(id.data.p);
    return 0;
}

/* ---- typed attribute lists ---------------------------------------------- */

static int once(uint32_t *present, uint16_t type)
{
    if (*present & (1u << type))
        return VPN_ERR_MALFORMED;
    *present |= 1u << type;
    return 0;
}

static int basic(uint32_t *present, const vpn_isakmp_attr *a, uint16_t *dst)
{
    if (once(present, a->type) || vpn_isakmp_attr_basic(a, dst))
        return VPN_ERR_MALFORMED;
    return 0;
}

/* A byte-string variable attribute: TLV form and at least one octet. */
static int bytes(uint32_t *present, const vpn_isakmp_attr *a, vpn_isakmp_view *dst)
{
    if (once(present, a->type) || vpn_isakmp_attr_bytes(a, dst) || dst->len == 0)
        return VPN_ERR_MALFORMED;
    return 0;
}

/* RFC 6407 5.3.1-5.3.8, RFC 8263 2. */
int vpn_gdoi_kek_attrs_decode(const uint8_t *p, size_t len, vpn_gdoi_kek_attrs *out)
{
    vpn_gdoi_kek_attrs a = {0};
    vpn_isakmp_attr_iter it;
    vpn_isakmp_attr at;
    int rc;

    vpn_isakmp_attr_iter_init(&it, p, len);
    while ((rc = vpn_isakmp_attr_next(&it, &at)) == 1) {
        switch (at.type) {
        case VPN_GDOI_KEK_MGMT_ALG: rc = basic(&a.present, &at, &a.mgmt_alg); break;
        case VPN_GDOI_KEK_ALG: rc = basic(&a.present, &at, &a.alg); break;
        case VPN_GDOI_KEK_KEY_LEN: rc = basic(&a.present, &at, &a.key_len); break;
        case VPN_GDOI_KEK_SIG_HASH: rc = basic(&a.present, &at, &a.sig_hash); break;
        case VPN_GDOI_KEK_SIG_ALG: rc = basic(&a.present, &at, &a.sig_alg); break;
        case VPN_GDOI_KEK_SIG_KEY_LEN: rc = basic(&a.present, &at, &a.sig_key_len); break;
        case VPN_GDOI_KEK_ACK_REQUESTED: rc = basic(&a.present, &at, &a.ack_requested); break;
        case VPN_GDOI_KEK_LIFETIME: {
            uint64_t v;
            if ((rc = once(&a.present, at.type)) == 0 &&
                (rc = vpn_isakmp_attr_uint(&at, 0xffffffffu, &v)) == 0)
                a.lifetime = (uint32_t)v;
            break;
        }
        default: rc = 0; break;
        }
        if (rc)
            return rc;
    }
    if (rc < 0)
        return rc;
    *out = a;
    return 0;
}

static void put_if(vpn_wr *w, uint32_t present, uint16_t type, uint16_t v)
{
    if (present & (1u << type))
        vpn_isakmp_attr_put_tv(w, type, v);
}

static void put_bytes_if(vpn_wr *w, uint32_t present, uint16_t type, const vpn_isakmp_view *v)
{
    if (present & (1u << type))
        vpn_isakmp_attr_put_tlv(w, type, v->p, v->len);
}

int vpn_gdoi_kek_attrs_encode(const vpn_gdoi_kek_attrs *a, vpn_wr *w)
{
    put_if(w, a->present, VPN_GDOI_KEK_MGMT_ALG, a->mgmt_alg);
    put_if(w, a->present, VPN_GDOI_KEK_ALG, a->alg);
    put_if(w, a->present, VPN_GDOI_KEK_KEY_LEN, a->key_len);
    if (a->present & (1u << VPN_GDOI_KEK_LIFETIME))
        vpn_isakmp_attr_put_uint(w, VPN_GDOI_KEK_LIFETIME, a->lifetime);
    put_if(w, a->present, VPN_GDOI_KEK_SIG_HASH, a->sig_hash);
    put_if(w, a->present, VPN_GDOI_KEK_SIG_ALG, a->sig_alg);
    put_if(w, a->present, VPN_GDOI_KEK_SIG_KEY_LEN, a->sig_key_len);
    put_if(w, a->present, VPN_GDOI_KEK_ACK_REQUESTED, a->ack_requested);
    return vpn_wr_err(w);
}

/* RFC 6407 5.5. */
int vpn_gdoi_gap_attrs_decode(const uint8_t *p, size_t len, vpn_gdoi_gap_attrs *out)
{
    vpn_gdoi_gap_attrs a = {0};
    vpn_isakmp_attr_iter it;
    vpn_isakmp_attr at;
    int rc;

    vpn_isakmp_attr_iter_init(&it, p, len);
    while ((rc = vpn_isakmp_attr_next(&it, &at)) == 1) {
        switch (at.type) {
        case VPN_GDOI_GAP_ACTIVATION_DELAY:
            rc = basic(&a.present, &at, &a.activation_delay);
            break;
        case VPN_GDOI_GAP_DEACTIVATION_DELAY:
            rc = basic(&a.present, &at, &a.deactivation_delay);
            break;
        case VPN_GDOI_GAP_SENDER_ID_REQUEST:
            rc = basic(&a.present, &at, &a.sender_id_request);
            break;
        default: rc = 0; break;
        }
        if (rc)
            return rc;
    }
    if (rc < 0)
        return rc;
    *out = a;
    return 0;
}

int vpn_gdoi_gap_attrs_encode(const vpn_gdoi_gap_attrs *a, vpn_wr *w)
{
    put_if(w, a->present, VPN_GDOI_GAP_ACTIVATION_DELAY, a->activation_delay);
    put_if(w, a->present, VPN_GDOI_GAP_DEACTIVATION_DELAY, a->deactivation_delay);
    put_if(w, a->present, VPN_GDOI_GAP_SENDER_ID_REQUEST, a->sender_id_request);
    return vpn_wr_err(w);
}

/* RFC 6407 5.6.1. */
int vpn_gdoi_tek_keys_decode(const uint8_t *p, size_t len, vpn_gdoi_tek_keys *out)
{
    vpn_gdoi_tek_keys k = {0};
    vpn_isakmp_attr_iter it;
    vpn_isakmp_attr at;
    int rc;

    vpn_isakmp_attr_iter_init(&it, p, len);
    while ((rc = vpn_isakmp_attr_next(&it, &at)) == 1) {
        switch (at.type) {
        case VPN_GDOI_TEK_ALGORITHM_KEY: rc = bytes(&k.present, &at, &k.alg_key); break;
        case VPN_GDOI_TEK_INTEGRITY_KEY: rc = bytes(&k.present, &at, &k.integ_key); break;
        case VPN_GDOI_TEK_SOURCE_AUTH_KEY: rc = bytes(&k.present, &at, &k.src_auth_key); break;
        default: rc = 0; break;
        }
        if (rc)
            return rc;
    }
    if (rc < 0)
        return rc;
    *out = k;
    return 0;
}

int vpn_gdoi_tek_keys_encode(const vpn_gdoi_tek_keys *k, vpn_wr *w)
{
    put_bytes_if(w, k->present, VPN_GDOI_TEK_ALGORITHM_KEY, &k->alg_key);
    put_bytes_if(w, k->present, VPN_GDOI_TEK_INTEGRITY_KEY, &k->integ_key);
    put_bytes_if(w, k->present, VPN_GDOI_TEK_SOURCE_AUTH_KEY, &k->src_auth_key);
    return vpn_wr_err(w);
}

/* RFC 6407 5.6.2. */
int vpn_gdoi_kek_keys_decode(const uint8_t *p, size_t len, vpn_gdoi_kek_keys *out)
{
    vpn_gdoi_kek_keys k = {0};
    vpn_isakmp_attr_iter it;
    vpn_isakmp_attr at;
    int rc;

    vpn_isakmp_attr_iter_init(&it, p, len);
    while ((rc = vpn_isakmp_attr_next(&it, &at)) == 1) {
        switch (at.type) {
        case VPN_GDOI_KEK_ALGORITHM_KEY: rc = bytes(&k.present, &at, &k.alg_key); break;
        case VPN_GDOI_SIG_ALGORITHM_KEY: rc = bytes(&k.present, &at, &k.sig_key); break;
        default: rc = 0; break;
        }
        if (rc)
            return rc;
    }
    if (rc < 0)
        return rc;
    *out = k;
    return 0;
}

int vpn_gdoi_kek_keys_encode(const vpn_gdoi_kek_keys *k, vpn_wr *w)
{
    put_bytes_if(w, k->present, VPN_GDOI_KEK_ALGORITHM_KEY, &k->alg_key);
    put_bytes_if(w, k->present, VPN_GDOI_SIG_ALGORITHM_KEY, &k->sig_key);
    return vpn_wr_err(w);
}

/* RFC 6407 5.6.4. */
int vpn_gdoi_sid_attrs_decode(const uint8_t *p, size_t len, vpn_gdoi_sid_attrs *out)
{
    vpn_gdoi_sid_attrs a = {0};
    vpn_isakmp_attr_iter it;
    vpn_isakmp_attr at;
    int rc;

    vpn_isakmp_attr_iter_init(&it, p, len);
    while ((rc = vpn_isakmp_attr_next(&it, &at)) == 1) {
        switch (at.type) {
        case VPN_GDOI_SID_NUMBER_OF_BITS: rc = basic(&a.present, &at, &a.nbits); break;
        case VPN_GDOI_SID_VALUE: rc = bytes(&a.present, &at, &a.value); break;
        default: rc = 0; break;
        }
        if (rc)
            return rc;
    }
    if (rc < 0)
        return rc;
    *out = a;
    return 0;
}

int vpn_gdoi_sid_attrs_encode(const vpn_gdoi_sid_attrs *a, vpn_wr *w)
{
    put_if(w, a->present, VPN_GDOI_SID_NUMBER_OF_BITS, a->nbits);
    put_bytes_if(w, a->present, VPN_GDOI_SID_VALUE, &a->value);
    return vpn_wr_err(w);
}

/* ---- builders ----------------------------------------------------------- */

/* RFC 6407 5.2. */
int vpn_gdoi_bld_sa_begin(vpn_isakmp_bld *b, uint32_t situation)
{
    vpn_isakmp_bld_begin(b, VPN_ISAKMP_PL_SA);
    vpn_wr_u32(&b->w, VPN_ISAKMP_DOI_GDOI);
    vpn_wr_u32(&b->w, situation);
    vpn_isakmp_bld_first_np(b, 2); /* SA Attribute Next Payload */
    vpn_wr_u16(&b->w, 0);          /* RESERVED2 */
    return vpn_isakmp_bld_error(b);
}

int vpn_gdoi_bld_sa_end(vpn_isakmp_bld *b)
{
    return vpn_isakmp_bld_end(b);
}

static void put_idsel(vpn_isakmp_bld *b, const vpn_gdoi_idsel *s, unsigned lenw)
{
    if (s->data.len > (lenw == 1 ? 0xffu : 0xffffu)) {
        vpn_isakmp_bld_fail(b, VPN_ERR_OVERFLOW);
        return;
    }
    vpn_wr_u8(&b->w, s->type);
    vpn_wr_u16(&b->w, s->port);
    if (lenw == 1)
        vpn_wr_u8(&b->w, (uint8_t)s->data.len);
    else
        vpn_wr_u16(&b->w, (uint16_t)s->data.len);
    vpn_wr_bytes(&b->w, s->data.p, s->data.len);
}

/* RFC 6407 5.3. */
int vpn_gdoi_bld_sak(vpn_isakmp_bld *b, const vpn_gdoi_sak *k)
{
    vpn_isakmp_bld_begin(b, VPN_GDOI_PL_SAK);
    vpn_wr_u8(&b->w, k->protocol);
    put_idsel(b, &k->src, 1);
    put_idsel(b, &k->dst, 1);
    vpn_wr_bytes(&b->w, k->spi, sizeof k->spi);
    /* RESERVED2 (RFC 6407 5.3), or gdoid's 6 octets (vpn_gdoi_sak_decode) */
    vpn_wr_zero(&b->w, k->layout == VPN_GDOI_LAYOUT_GDOID ? 6 : 4);
    vpn_wr_bytes(&b->w, k->attrs.p, k->attrs.len);
    if (vpn_isakmp_bld_error(b))
        return vpn_isakmp_bld_error(b);
    return vpn_isakmp_bld_end(b);
}

/* RFC 6407 5.5. */
int vpn_gdoi_bld_gap(vpn_isakmp_bld *b, const uint8_t *attrs, size_t len)
{
    return vpn_isakmp_bld_raw(b, VPN_GDOI_PL_GAP, attrs, len);
}

/* RFC 6407 5.4, 5.4.1. */
int vpn_gdoi_bld_sat(vpn_isakmp_bld *b, const vpn_gdoi_sat *t)
{
    vpn_isakmp_bld_begin(b, VPN_GDOI_PL_SAT);
    vpn_wr_u8(&b->w, t->protocol_id);
    if (t->protocol_id == VPN_GDOI_TEK_PROTO_ESP || t->protocol_id == VPN_GDOI_TEK_PROTO_AH) {
        /* 2-octet ID Data Len (RFC 6407 5.4.1), or RFC 3547's 1 octet */
        unsigned lenw = t->layout == VPN_GDOI_LAYOUT_GDOID ? 1 : 2;
        vpn_wr_u8(&b->w, t->ip_protocol);
        put_idsel(b, &t->src, lenw);
        put_idsel(b, &t->dst, lenw);
        vpn_wr_u8(&b->w, t->transform_id);
        vpn_wr_u32(&b->w, t->spi);
        vpn_wr_bytes(&b->w, t->attrs.p, t->attrs.len);
    } else {
        vpn_wr_bytes(&b->w, t->opaque.p, t->opaque.len);
    }
    if (vpn_isakmp_bld_error(b))
        return vpn_isakmp_bld_error(b);
    return vpn_isakmp_bld_end(b);
}

int vpn_gdoi_bld_sa(vpn_isakmp_bld *b, const vpn_gdoi_sak *kek, const vpn_isakmp_view *gap,
                    const vpn_gdoi_sat *teks, size_t nteks)
{
    if (kek == NULL && gap == NULL && nteks == 0)
        return vpn_isakmp_bld_fail(b, VPN_ERR_INVAL);
    vpn_gdoi_bld_sa_begin(b, 0);
    if (kek)
        vpn_gdoi_bld_sak(b, kek);
    if (gap)
        vpn_gdoi_bld_gap(b, gap->p, gap->len);
    for (size_t i = 0; i < nteks; i++)
        vpn_gdoi_bld_sat(b, &teks[i]);
    return vpn_gdoi_bld_sa_end(b);
}

/* RFC 6407 5.6. */
int vpn_gdoi_bld_kd_begin(vpn_isakmp_bld *b)
{
    vpn_isakmp_bld_begin(b, VPN_GDOI_PL_KD);
    vpn_isakmp_bld_count(b, 2); /* Number of Key Packets */
    vpn_wr_u16(&b->w, 0);       /* RESERVED2 */
    return vpn_isakmp_bld_error(b);
}

int vpn_gdoi_bld_kp(vpn_isakmp_bld *b, uint8_t type, const uint8_t *spi, size_t spi_len,
                    const uint8_t *attrs, size_t attrs_len)
{
    size_t start, pos;

    if (vpn_isakmp_bld_error(b))
        return vpn_isakmp_bld_error(b);
    if (spi_len > 0xff)
        return vpn_isakmp_bld_fail(b, VPN_ERR_OVERFLOW);
    start = vpn_wr_len(&b->w);
    vpn_wr_u8(&b->w, type);
    vpn_wr_u8(&b->w, 0); /* RESERVED */
    vpn_wr_len_reserve(&b->w, 2, &pos);
    vpn_wr_u8(&b->w, (uint8_t)spi_len);
    vpn_wr_bytes(&b->w, spi, spi_len);
    vpn_wr_bytes(&b->w, attrs, attrs_len);
    vpn_wr_len_patch(&b->w, pos, 2, start); /* the whole packet */
    if (vpn_isakmp_bld_error(b))
        return vpn_isakmp_bld_error(b);
    vpn_isakmp_bld_child(b);
    return 0;
}

int vpn_gdoi_bld_kd_end(vpn_isakmp_bld *b)
{
    return vpn_isakmp_bld_end(b);
}

int vpn_gdoi_bld_kd(vpn_isakmp_bld *b, const vpn_gdoi_kp *kps, size_t n)
{
    vpn_gdoi_bld_kd_begin(b);
    for (size_t i = 0; i < n; i++)
        vpn_gdoi_bld_kp(b, kps[i].type, kps[i].spi.p, kps[i].spi.len, kps[i].attrs.p,
                        kps[i].attrs.len);
    return vpn_gdoi_bld_kd_end(b);
}

int vpn_gdoi_bld_seq(vpn_isakmp_bld *b, uint32_t seq)
{
    uint8_t v[VPN_GDOI_SEQ_LEN];

    vpn_store32(v, seq);
    return vpn_isakmp_bld_raw(b, VPN_GDOI_PL_SEQ, v, sizeof v);
}

int vpn_gdoi_bld_group_id(vpn_isakmp_bld *b, uint32_t gid)
{
    uint8_t v[4];
    vpn_isakmp_id id = {VPN_ISAKMP_ID_KEY_ID, 0, 0, {v, sizeof v}};

    vpn_store32(v, gid);
    return vpn_isakmp_bld_id(b, &id);
}

/* ---- authenticated byte strings ----------------------------------------- */

/* RFC 6407 3.2. */
int vpn_gdoi_pull_hash_input(unsigned n, uint32_t msg_id, vpn_isakmp_view ni_b,
                             vpn_isakmp_view nr_b, vpn_isakmp_view after, vpn_wr *out)
{
    if (n < 1 || n > 4 || (n >= 2 && ni_b.len == 0) || (n >= 3 && nr_b.len == 0))
        return VPN_ERR_INVAL;
    vpn_wr_u32(out, msg_id);
    if (n >= 2)
        vpn_wr_bytes(out, ni_b.p, ni_b.len);
    if (n >= 3)
        vpn_wr_bytes(out, nr_b.p, nr_b.len);
    return vpn_wr_bytes(out, after.p, after.len);
}

int vpn_gdoi_pull_hash_input_msg(unsigned n, const vpn_isakmp_msg *m, vpn_isakmp_view ni_b,
                                 vpn_isakmp_view nr_b, vpn_wr *out)
{
    vpn_isakmp_view after;
    int rc;

    if (m->n == 0 || m->pl[0].type != VPN_ISAKMP_PL_HASH)
        return VPN_ERR_MALFORMED;
    if ((rc = vpn_isakmp_msg_after(m, 0, &after)))
        return rc;
    return vpn_gdoi_pull_hash_input(n, m->hdr.msg_id, ni_b, nr_b, after, out);
}

int vpn_gdoi_pull_hash_input_bld(unsigned n, const vpn_isakmp_bld *b, vpn_isakmp_view ni_b,
                                 vpn_isakmp_view nr_b, vpn_wr *out)
{
    vpn_isakmp_view after;
    int rc;

    if (b->n == 0 || b->pl_type[0] != VPN_ISAKMP_PL_HASH)
        return VPN_ERR_MALFORMED;
    if ((rc = vpn_isakmp_bld_after(b, 0, &after)))
        return rc;
    return vpn_gdoi_pull_hash_input(n, vpn_load32(b->w.buf + 20), ni_b, nr_b, after, out);
}

/* RFC 6407 4. */
int vpn_gdoi_push_sig_input(const uint8_t hdr[VPN_ISAKMP_HDR_LEN], vpn_isakmp_view before_sig,
                            vpn_wr *out)
{
    vpn_wr_bytes(out, VPN_GDOI_PUSH_SIG_LABEL, sizeof VPN_GDOI_PUSH_SIG_LABEL - 1);
    vpn_wr_bytes(out, hdr, VPN_ISAKMP_HDR_LEN);
    return vpn_wr_bytes(out, before_sig.p, before_sig.len);
}

int vpn_gdoi_push_sig_input_msg(const vpn_isakmp_msg *m, vpn_wr *out)
{
    vpn_isakmp_view before;
    int rc;

    if (m->raw == NULL || (m->encrypted && !m->decrypted))
        return VPN_ERR_STATE;
    if (m->n == 0 || m->pl[m->n - 1].type != VPN_ISAKMP_PL_SIG)
        return VPN_ERR_MALFORMED;
    if ((rc = vpn_isakmp_msg_before(m, m->n - 1, &before)))
        return rc;
    return vpn_gdoi_push_sig_input(m->raw, before, out);
}

int vpn_gdoi_push_sig_input_bld(const vpn_isakmp_bld *b, vpn_wr *out)
{
    vpn_isakmp_view before;
    int rc;

    if (!b->done)
        return VPN_ERR_STATE;
    if (b->n == 0 || b->pl_type[b->n - 1] != VPN_ISAKMP_PL_SIG)
        return VPN_ERR_MALFORMED;
    if ((rc = vpn_isakmp_bld_before(b, b->n - 1, &before)))
        return rc;
    return vpn_gdoi_push_sig_input(b->w.buf, before, out);
}
