/*
 * ISAKMP/IKEv1 codec (RFC 2408, RFC 2407, RFC 2409): a Main Mode message 1
 * laid out by hand from the RFC diagrams, parsed, decoded and rebuilt byte
 * for byte; data attributes; the encrypted-message path with RFC 2409
 * padding and the decrypted view; and hostile inputs, each of which must
 * fail with an error and leave the caller's structure untouched.
 */
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "isakmp/isakmp-attr.h"
#include "isakmp/isakmp-build.h"
#include "isakmp/isakmp-msg.h"
#include "isakmp/isakmp-names.h"
#include "isakmp/isakmp-policy.h"
#include "test-util.h"

/*
 * Main Mode message 1 (RFC 2409 5, RFC 2408 3.1-3.6, 3.16):
 * HDR (28) | SA (60) [ DOI 1, SIT_IDENTITY_ONLY, proposal #1 PROTO_ISAKMP
 * with one KEY_IKE transform: AES-CBC, 256-bit key, SHA2-256, PSK, group
 * 14, life 86400 s ] | VID (20, RFC 3706 DPD).
 */
#define MM1_HDR "0102030405060708 0000000000000000 01 10 02 00 00000000 0000006c"
#define MM1_SA                                                                                    \
    "0d 00 003c 00000001 00000001"                                                                \
    "00 00 0030 01 01 00 01"                                                                      \
    "00 00 0028 01 01 0000"                                                                       \
    "8001 0007 800e 0100 8002 0004 8003 0001 8004 000e 800b 0001 000c 0004 00015180"
#define MM1_VID "00 00 0014 afcad71368a1f1c96b8696fc77570100"
#define MM1 MM1_HDR MM1_SA MM1_VID

static const uint8_t dpd_vid[16] = {0xaf, 0xca, 0xd7, 0x13, 0x68, 0xa1, 0xf1, 0xc9,
                                    0x6b, 0x86, 0x96, 0xfc, 0x77, 0x57, 0x01, 0x00};

static void assert_ike_attrs_equal(const vpn_ikev1_sa_attrs *a, const vpn_ikev1_sa_attrs *b)
{
    assert_int_equal(a->present, b->present);
    assert_int_equal(a->encr, b->encr);
    assert_int_equal(a->hash, b->hash);
    assert_int_equal(a->auth, b->auth);
    assert_int_equal(a->group_desc, b->group_desc);
    assert_int_equal(a->group_type, b->group_type);
    assert_int_equal(a->prf, b->prf);
    assert_int_equal(a->key_len, b->key_len);
    assert_int_equal(a->field_size, b->field_size);
    assert_true(a->life_secs == b->life_secs);
    assert_true(a->life_kb == b->life_kb);
    assert_int_equal(a->life_types, b->life_types);
}

static void assert_ipsec_attrs_equal(const vpn_ipsec_doi_attrs *a, const vpn_ipsec_doi_attrs *b)
{
    assert_int_equal(a->present, b->present);
    assert_int_equal(a->group_desc, b->group_desc);
    assert_int_equal(a->encap, b->encap);
    assert_int_equal(a->auth_alg, b->auth_alg);
    assert_int_equal(a->key_len, b->key_len);
    assert_int_equal(a->key_rounds, b->key_rounds);
    assert_int_equal(a->comp_dict_size, b->comp_dict_size);
    assert_int_equal(a->ecn_tunnel, b->ecn_tunnel);
    assert_int_equal(a->ext_seq, b->ext_seq);
    assert_int_equal(a->auth_key_len, b->auth_key_len);
    assert_int_equal(a->addr_pres, b->addr_pres);
    assert_int_equal(a->sa_dir, b->sa_dir);
    assert_true(a->life_secs == b->life_secs);
    assert_true(a->life_kb == b->life_kb);
    assert_int_equal(a->life_types, b->life_types);
}

/* Parses buf expecting failure rc, and checks *msg was not touched. */
static void expect_reject(const uint8_t *buf, size_t len, int rc)
{
    vpn_isakmp_msg m, snap;

    memset(&m, 0xa5, sizeof m);
    memcpy(&snap, &m, sizeof m);
    assert_int_equal(vpn_isakmp_msg_parse(buf, len, &m), rc);
    assert_memory_equal(&m, &snap, sizeof m);
}

static void expect_reject_notify(const uint8_t *buf, size_t len, int rc, uint16_t notify)
{
    vpn_isakmp_msg m;
    vpn_isakmp_perr perr = {0};

    assert_int_equal(vpn_isakmp_msg_parse_ex(buf, len, &m, &perr), rc);
    assert_int_equal(perr.notify, notify);
    expect_reject(buf, len, rc);
}

/* Parses, then re-serialises and checks the output equals the input. */
static void assert_roundtrip(const uint8_t *buf, size_t len)
{
    vpn_isakmp_msg m;
    uint8_t out[4096];
    vpn_wr w;

    assert_int_equal(vpn_isakmp_msg_parse(buf, len, &m), 0);
    vpn_wr_init(&w, out, sizeof out);
    assert_int_equal(vpn_isakmp_msg_write(&m, &w), 0);
    assert_int_equal(vpn_wr_len(&w), len);
    assert_memory_equal(out, buf, len);
}

static void test_mm1_parse(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = tu_hex(MM1, &len);
    vpn_isakmp_msg m;
    vpn_isakmp_sa sa;
    vpn_isakmp_chain pc, xc;
    vpn_isakmp_prop p;
    vpn_isakmp_xform x;
    vpn_ikev1_sa_attrs a;

    assert_int_equal(len, 108);
    assert_int_equal(vpn_isakmp_msg_parse(b, len, &m), 0);
    assert_int_equal(m.hdr.exchange, VPN_ISAKMP_EXCH_MAIN);
    assert_int_equal(m.hdr.version, 0x10);
    assert_int_equal(m.hdr.length, 108);
    assert_int_equal(m.hdr.icookie[7], 8);
    assert_false(m.encrypted);
    assert_int_equal(m.n, 2);
    assert_int_equal(m.pl[0].type, VPN_ISAKMP_PL_SA);
    assert_int_equal(m.pl[0].next, VPN_ISAKMP_PL_VID);
    assert_int_equal(m.pl[0].raw_len, 60);
    assert_int_equal(m.pl[1].type, VPN_ISAKMP_PL_VID);
    assert_int_equal(m.pl[1].body_len, 16);
    assert_memory_equal(m.pl[1].body, dpd_vid, 16);
    assert_ptr_equal(vpn_isakmp_msg_find(&m, VPN_ISAKMP_PL_VID, 0), &m.pl[1]);
    assert_null(vpn_isakmp_msg_find(&m, VPN_ISAKMP_PL_VID, 1));

    assert_int_equal(vpn_isakmp_sa_decode(m.pl[0].body, m.pl[0].body_len, m.hdr.exchange, &sa), 0);
    assert_int_equal(sa.doi, VPN_ISAKMP_DOI_IPSEC);
    assert_int_equal(sa.situation, VPN_IPSEC_DOI_SIT_IDENTITY_ONLY);
    assert_false(sa.gdoi);
    vpn_isakmp_prop_iter_init(&pc, &sa);
    assert_int_equal(vpn_isakmp_prop_next(&pc, &p), 1);
    assert_int_equal(p.num, 1);
    assert_int_equal(p.proto, VPN_ISAKMP_PROTO_ISAKMP);
    assert_int_equal(p.spi.len, 0);
    assert_int_equal(p.ntrans, 1);
    vpn_isakmp_xform_iter_init(&xc, &p);
    assert_int_equal(vpn_isakmp_xform_next(&xc, &x), 1);
    assert_int_equal(x.num, 1);
    assert_int_equal(x.id, VPN_ISAKMP_KEY_IKE);
    assert_int_equal(x.attrs.len, 32);
    assert_int_equal(vpn_isakmp_xform_next(&xc, &x), 0);
    assert_int_equal(vpn_isakmp_prop_next(&pc, &p), 0);

    assert_int_equal(vpn_ikev1_sa_attrs_decode(x.attrs.p, x.attrs.len, &a), 0);
    assert_int_equal(a.encr, VPN_IKEV1_ENCR_AES_CBC);
    assert_int_equal(a.key_len, 256);
    assert_int_equal(a.hash, VPN_IKEV1_HASH_SHA2_256);
    assert_int_equal(a.auth, VPN_IKEV1_AUTH_PSK);
    assert_int_equal(a.group_desc, 14);
    assert_int_equal(a.life_types, 1u << VPN_IKEV1_LIFE_SECONDS);
    assert_true(a.life_secs == 86400);
    assert_true(a.present & (1u << VPN_IKEV1_ATTR_KEY_LENGTH));
    assert_false(a.present & (1u << VPN_IKEV1_ATTR_PRF));
    free(b);
}

/* Builds the same message with the builder and the typed encoders. */
static void test_mm1_build_exact(void **state)
{
    (void)state;
    size_t len, out_len;
    uint8_t *want = tu_hex(MM1, &len);
    uint8_t buf[256], attrs[64];
    vpn_isakmp_hdr h = {0};
    vpn_isakmp_bld b;
    vpn_ikev1_sa_attrs a = {0};
    vpn_wr aw;

    for (int i = 0; i < 8; i++)
        h.icookie[i] = (uint8_t)(i + 1);
    h.version = VPN_ISAKMP_VERSION;
    h.exchange = VPN_ISAKMP_EXCH_MAIN;
    /* The RFC 2409 attribute order used by the hand-made vector. */
    vpn_wr_init(&aw, attrs, sizeof attrs);
    vpn_isakmp_attr_put_tv(&aw, VPN_IKEV1_ATTR_ENCR, VPN_IKEV1_ENCR_AES_CBC);
    vpn_isakmp_attr_put_tv(&aw, VPN_IKEV1_ATTR_KEY_LENGTH, 256);
    vpn_isakmp_attr_put_tv(&aw, VPN_IKEV1_ATTR_HASH, VPN_IKEV1_HASH_SHA2_256);
    vpn_isakmp_attr_put_tv(&aw, VPN_IKEV1_ATTR_AUTH, VPN_IKEV1_AUTH_PSK);
    vpn_isakmp_attr_put_tv(&aw, VPN_IKEV1_ATTR_GROUP_DESC, 14);
    vpn_isakmp_attr_put_tv(&aw, VPN_IKEV1_ATTR_LIFE_TYPE, VPN_IKEV1_LIFE_SECONDS);
    vpn_isakmp_attr_put_uint(&aw, VPN_IKEV1_ATTR_LIFE_DURATION, 86400);
    assert_int_equal(vpn_wr_err(&aw), 0);

    assert_int_equal(vpn_isakmp_bld_init(&b, buf, sizeof buf, &h), 0);
    vpn_isakmp_bld_sa_begin(&b, VPN_ISAKMP_DOI_IPSEC, VPN_IPSEC_DOI_SIT_IDENTITY_ONLY);
    vpn_isakmp_bld_prop_begin(&b, 1, VPN_ISAKMP_PROTO_ISAKMP, NULL, 0);
    vpn_isakmp_bld_xform(&b, 1, VPN_ISAKMP_KEY_IKE, attrs, vpn_wr_len(&aw));
    vpn_isakmp_bld_prop_end(&b);
    vpn_isakmp_bld_sa_end(&b);
    vpn_isakmp_bld_raw(&b, VPN_ISAKMP_PL_VID, dpd_vid, sizeof dpd_vid);
    assert_int_equal(vpn_isakmp_bld_finish(&b, &out_len), 0);
    assert_int_equal(out_len, len);
    assert_memory_equal(buf, want, len);
    assert_roundtrip(want, len);

    /* The typed encoder writes ascending order: a different but valid
     * list that decodes to the same policy. */
    {
        vpn_ikev1_sa_attrs back;
        assert_int_equal(vpn_ikev1_sa_attrs_decode(attrs, vpn_wr_len(&aw), &a), 0);
        vpn_wr_init(&aw, attrs, sizeof attrs);
        assert_int_equal(vpn_ikev1_sa_attrs_encode(&a, &aw), 0);
        tu_assert_hex(attrs, vpn_wr_len(&aw),
                      "8001 0007 8002 0004 8003 0001 8004 000e 800b 0001 000c 0004 00015180"
                      "800e 0100");
        assert_int_equal(vpn_ikev1_sa_attrs_decode(attrs, vpn_wr_len(&aw), &back), 0);
        assert_ike_attrs_equal(&back, &a);
    }
    free(want);
}

static void test_attr_iterator(void **state)
{
    (void)state;
    size_t len;
    /* TV 1=7, TLV 2 (3 octets), TV 0x7fff=0xffff, empty TLV 4. */
    uint8_t *b = tu_hex("8001 0007 0002 0003 aabbcc ffff ffff 0004 0000", &len);
    vpn_isakmp_attr_iter it;
    vpn_isakmp_attr a;
    uint16_t v;
    uint64_t u;
    vpn_isakmp_view view;

    vpn_isakmp_attr_iter_init(&it, b, len);
    assert_int_equal(vpn_isakmp_attr_next(&it, &a), 1);
    assert_int_equal(a.type, 1);
    assert_true(a.tv);
    assert_int_equal(vpn_isakmp_attr_basic(&a, &v), 0);
    assert_int_equal(v, 7);
    assert_int_equal(vpn_isakmp_attr_uint(&a, 100, &u), 0); /* V may arrive basic */
    assert_true(u == 7);
    assert_int_equal(vpn_isakmp_attr_bytes(&a, &view), VPN_ERR_MALFORMED);
    assert_int_equal(vpn_isakmp_attr_next(&it, &a), 1);
    assert_int_equal(a.type, 2);
    assert_false(a.tv);
    assert_int_equal(a.len, 3);
    assert_int_equal(vpn_isakmp_attr_basic(&a, &v), VPN_ERR_MALFORMED); /* B never TLV */
    assert_int_equal(vpn_isakmp_attr_uint(&a, 0xffffff, &u), 0);
    assert_true(u == 0xaabbcc);
    assert_int_equal(vpn_isakmp_attr_uint(&a, 0xaabbcb, &u), VPN_ERR_OVERFLOW);
    assert_int_equal(vpn_isakmp_attr_next(&it, &a), 1);
    assert_int_equal(a.type, 0x7fff);
    assert_int_equal(vpn_isakmp_attr_next(&it, &a), 1);
    assert_int_equal(a.type, 4);
    assert_int_equal(a.len, 0);
    assert_int_equal(vpn_isakmp_attr_uint(&a, 1, &u), VPN_ERR_MALFORMED);
    assert_int_equal(vpn_isakmp_attr_next(&it, &a), 0);
    assert_int_equal(vpn_isakmp_attrs_check(b, len), 0);
    assert_int_equal(vpn_isakmp_attr_find(b, len, 2, &a), 1);
    assert_int_equal(a.len, 3);
    assert_int_equal(vpn_isakmp_attr_find(b, len, 9, &a), 0);

    /* Every cut inside an attribute is malformed (its container said the
     * list was complete); cuts between attributes are clean ends. */
    for (size_t l = 0; l <= len; l++) {
        int rc = vpn_isakmp_attrs_check(b, l);
        if (l == 0 || l == 4 || l == 11 || l == 15 || l == 19)
            assert_int_equal(rc, 0);
        else
            assert_int_equal(rc, VPN_ERR_MALFORMED);
    }
    free(b);
}

static void test_attr_overruns_and_limits(void **state)
{
    (void)state;
    uint8_t big[4 * (VPN_ISAKMP_MAX_ATTRS + 1)];
    size_t len;
    uint8_t *over = tu_hex("8001 0007 0002 0010 aabb", &len);
    uint8_t *nine = tu_hex("0002 0009 010203040506070809", &len);
    vpn_isakmp_attr_iter it;
    vpn_isakmp_attr a;
    uint64_t u;
    vpn_wr w;
    uint8_t out[16];

    /* A TLV claiming 16 octets where 2 remain. */
    assert_int_equal(vpn_isakmp_attrs_check(over, 10), VPN_ERR_MALFORMED);
    vpn_isakmp_attr_iter_init(&it, over, 10);
    assert_int_equal(vpn_isakmp_attr_next(&it, &a), 1);
    assert_int_equal(vpn_isakmp_attr_next(&it, &a), VPN_ERR_MALFORMED);
    assert_int_equal(vpn_isakmp_attr_next(&it, &a), VPN_ERR_MALFORMED); /* sticky */

    /* A 9-octet integer does not fit. */
    vpn_isakmp_attr_iter_init(&it, nine, len);
    assert_int_equal(vpn_isakmp_attr_next(&it, &a), 1);
    assert_int_equal(vpn_isakmp_attr_uint(&a, UINT64_MAX, &u), VPN_ERR_MALFORMED);

    /* One attribute past the limit. */
    for (size_t i = 0; i < sizeof big; i += 4) {
        big[i] = 0x80;
        big[i + 1] = 1;
        big[i + 2] = 0;
        big[i + 3] = 1;
    }
    assert_int_equal(vpn_isakmp_attrs_check(big, sizeof big - 4), 0);
    assert_int_equal(vpn_isakmp_attrs_check(big, sizeof big), VPN_ERR_LIMIT);

    /* Writers. */
    vpn_wr_init(&w, out, sizeof out);
    assert_int_equal(vpn_isakmp_attr_put_uint(&w, 12, 0x100000000ull), 0);
    tu_assert_hex(out, vpn_wr_len(&w), "000c 0008 0000000100000000");
    vpn_wr_init(&w, out, sizeof out);
    assert_int_equal(vpn_isakmp_attr_put_tv(&w, 0x8001, 1), VPN_ERR_INVAL);
    vpn_wr_init(&w, out, 4);
    assert_int_equal(vpn_isakmp_attr_put_tlv(&w, 1, out, 1), VPN_ERR_NOSPACE);
    free(over);
    free(nine);
}

static void test_every_truncation_fails(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = tu_hex(MM1, &len);

    for (size_t l = 0; l < len; l++)
        expect_reject(b, l, VPN_ERR_TRUNCATED);
    /* A datagram longer than the header says. */
    {
        uint8_t longer[200];
        memcpy(longer, b, len);
        longer[len] = 0;
        expect_reject_notify(longer, len + 1, VPN_ERR_MALFORMED,
                             VPN_ISAKMP_N_UNEQUAL_PAYLOAD_LENGTHS);
    }
    free(b);
}

static void test_header_checks(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = tu_hex(MM1, &len);
    vpn_isakmp_hdr h;

    /* Header length field against the datagram. */
    b[27] = 0x6b;
    expect_reject(b, len, VPN_ERR_MALFORMED);
    b[27] = 0x6d;
    expect_reject(b, len, VPN_ERR_TRUNCATED);
    b[26] = 0xff;
    b[27] = 0x6c;
    expect_reject(b, len, VPN_ERR_TRUNCATED);
    b[26] = 0;
    /* RFC 2408 5.1 versions, 3.1 flags. */
    b[17] = 0x20;
    expect_reject_notify(b, len, VPN_ERR_UNSUPPORTED, VPN_ISAKMP_N_INVALID_MAJOR_VERSION);
    b[17] = 0x11;
    expect_reject_notify(b, len, VPN_ERR_UNSUPPORTED, VPN_ISAKMP_N_INVALID_MINOR_VERSION);
    b[17] = 0x10;
    b[19] = 0x08;
    expect_reject_notify(b, len, VPN_ERR_MALFORMED, VPN_ISAKMP_N_INVALID_FLAGS);
    b[19] = 0;
    assert_int_equal(vpn_isakmp_hdr_parse(b, 27, &h), VPN_ERR_TRUNCATED);
    assert_int_equal(vpn_isakmp_hdr_parse(b, len, &h), 0);
    assert_int_equal(h.length, len);
    free(b);
}

static void test_payload_structure_rejections(void **state)
{
    (void)state;
    size_t len;
    uint8_t *g = tu_hex(MM1, &len);
    uint8_t b[256];
    vpn_isakmp_perr perr;
    vpn_isakmp_msg m;

#define RESET() memcpy(b, g, len)
    /* Generic header RESERVED (RFC 2408 3.2) must be zero: our choice. */
    RESET();
    b[28 + 1] = 0x80;
    expect_reject_notify(b, len, VPN_ERR_MALFORMED, VPN_ISAKMP_N_PAYLOAD_MALFORMED);
    /* Transform RESERVED2 (3.6). */
    RESET();
    b[28 + 12 + 8 + 6] = 1;
    expect_reject_notify(b, len, VPN_ERR_MALFORMED, VPN_ISAKMP_N_BAD_PROPOSAL_SYNTAX);
    /* Payload lengths: below the generic header, past the message. */
    RESET();
    b[88 + 3] = 3;
    expect_reject(b, len, VPN_ERR_MALFORMED);
    RESET();
    b[88 + 3] = 0x15;
    expect_reject(b, len, VPN_ERR_MALFORMED);
    /* A zero-length VID (4-octet payload, trailing 16 octets). */
    RESET();
    b[88 + 3] = 4;
    expect_reject(b, len, VPN_ERR_MALFORMED);
    /* Unknown payload types have no critical bit to consult: RFC 2408
     * 5.1 INVALID-PAYLOAD-TYPE. Proposal and SA KEK are not top level. */
    RESET();
    b[28] = 14;
    assert_int_equal(vpn_isakmp_msg_parse_ex(b, len, &m, &perr), VPN_ERR_UNSUPPORTED);
    assert_int_equal(perr.notify, VPN_ISAKMP_N_INVALID_PAYLOAD_TYPE);
    assert_int_equal(perr.payload, 14);
    assert_int_equal(perr.offset, 60);
    expect_reject(b, len, VPN_ERR_UNSUPPORTED);
    RESET();
    b[28] = VPN_ISAKMP_PL_P;
    expect_reject_notify(b, len, VPN_ERR_UNSUPPORTED, VPN_ISAKMP_N_INVALID_PAYLOAD_TYPE);
    RESET();
    b[16] = VPN_GDOI_PL_SAK;
    expect_reject_notify(b, len, VPN_ERR_UNSUPPORTED, VPN_ISAKMP_N_INVALID_PAYLOAD_TYPE);
    /* Proposal says 2 transforms, one is present. */
    RESET();
    b[28 + 12 + 7] = 2;
    expect_reject_notify(b, len, VPN_ERR_MALFORMED, VPN_ISAKMP_N_BAD_PROPOSAL_SYNTAX);
    /* Proposal's next payload must be 2 or 0 (3.5). */
    RESET();
    b[28 + 12] = VPN_ISAKMP_PL_T;
    expect_reject(b, len, VPN_ERR_MALFORMED);
    /* A transform's next must be 3 or 0 (3.6). */
    RESET();
    b[28 + 12 + 8] = VPN_ISAKMP_PL_P;
    expect_reject(b, len, VPN_ERR_MALFORMED);
    /* Unknown DOI, unsupported situation (labelled secrecy). */
    RESET();
    b[28 + 7] = 9;
    expect_reject_notify(b, len, VPN_ERR_UNSUPPORTED, VPN_ISAKMP_N_DOI_NOT_SUPPORTED);
    RESET();
    b[28 + 11] = VPN_IPSEC_DOI_SIT_SECRECY;
    expect_reject_notify(b, len, VPN_ERR_UNSUPPORTED, VPN_ISAKMP_N_SITUATION_NOT_SUPPORTED);
    /* TV/TLV confusion: Encryption Algorithm (basic) sent as TLV. */
    RESET();
    b[28 + 12 + 8 + 8] = 0x00; /* 8001 0007 -> 0001 0007: a 7-octet TLV */
    expect_reject(b, len, VPN_ERR_MALFORMED);
    /* Life duration with its type removed (type 11 renamed 99). */
    RESET();
    b[28 + 12 + 8 + 8 + 20] = 0x80;
    b[28 + 12 + 8 + 8 + 21] = 99;
    expect_reject(b, len, VPN_ERR_MALFORMED);
    /* An attribute length running past the transform. */
    RESET();
    b[28 + 12 + 8 + 8 + 27] = 5;
    expect_reject(b, len, VPN_ERR_MALFORMED);
    /* DOI 2 in phase 1 (RFC 6407 3.1 GMs send it): proposal form. */
    RESET();
    b[28 + 7] = 2;
    assert_roundtrip(b, len);
    {
        vpn_isakmp_sa sa;
        assert_int_equal(vpn_isakmp_msg_parse(b, len, &m), 0);
        assert_int_equal(vpn_isakmp_sa_decode(m.pl[0].body, m.pl[0].body_len,
                                              m.hdr.exchange, &sa), 0);
        assert_int_equal(sa.doi, 2);
        assert_false(sa.gdoi);
    }
#undef RESET
    free(g);
}

static void test_absurd_payload_counts(void **state)
{
    (void)state;
    uint8_t buf[2048];
    vpn_isakmp_hdr h = {0};
    vpn_isakmp_bld b;
    size_t len;

    h.version = VPN_ISAKMP_VERSION;
    h.exchange = VPN_ISAKMP_EXCH_INFO;
    vpn_isakmp_bld_init(&b, buf, sizeof buf, &h);
    for (int i = 0; i < VPN_ISAKMP_MAX_PAYLOADS; i++)
        vpn_isakmp_bld_raw(&b, VPN_ISAKMP_PL_VID, dpd_vid, 4);
    /* The builder refuses a 33rd top-level payload... */
    assert_int_equal(vpn_isakmp_bld_raw(&b, VPN_ISAKMP_PL_VID, dpd_vid, 4), VPN_ERR_LIMIT);
    assert_int_equal(vpn_isakmp_bld_finish(&b, &len), VPN_ERR_LIMIT);
    /* ...32 parse, and a hand-extended 33rd is refused by the parser. */
    vpn_isakmp_bld_init(&b, buf, sizeof buf, &h);
    for (int i = 0; i < VPN_ISAKMP_MAX_PAYLOADS; i++)
        vpn_isakmp_bld_raw(&b, VPN_ISAKMP_PL_VID, dpd_vid, 4);
    assert_int_equal(vpn_isakmp_bld_finish(&b, &len), 0);
    assert_roundtrip(buf, len);
    buf[len - 8] = VPN_ISAKMP_PL_VID; /* the last VID now names a successor */
    memcpy(buf + len, "\x00\x00\x00\x08\x01\x02\x03\x04", 8);
    len += 8;
    vpn_store32(buf + 24, (uint32_t)len);
    expect_reject(buf, len, VPN_ERR_LIMIT);
}

static void test_id_notify_delete_cert(void **state)
{
    (void)state;
    uint8_t buf[512], spis[32];
    const uint8_t addr[4] = {192, 0, 2, 1};
    vpn_isakmp_hdr h = {0};
    vpn_isakmp_bld b;
    vpn_isakmp_msg m;
    vpn_isakmp_id id = {VPN_ISAKMP_ID_IPV4_ADDR, 17, 500, {addr, 4}}, id2;
    vpn_isakmp_notify n = {VPN_ISAKMP_DOI_IPSEC, VPN_ISAKMP_PROTO_ISAKMP,
                           VPN_ISAKMP_N_R_U_THERE, {spis, 16}, {addr, 4}}, n2;
    vpn_isakmp_delete d = {VPN_ISAKMP_DOI_IPSEC, VPN_ISAKMP_PROTO_IPSEC_ESP, 4, 2, {spis, 8}}, d2;
    vpn_isakmp_cert c;
    size_t len;

    for (int i = 0; i < 32; i++)
        spis[i] = (uint8_t)i;
    h.version = VPN_ISAKMP_VERSION;
    h.exchange = VPN_ISAKMP_EXCH_INFO;
    vpn_isakmp_bld_init(&b, buf, sizeof buf, &h);
    vpn_isakmp_bld_id(&b, &id);
    vpn_isakmp_bld_notify(&b, &n);
    vpn_isakmp_bld_delete(&b, &d);
    vpn_isakmp_bld_cert(&b, VPN_ISAKMP_PL_CERT, VPN_ISAKMP_CERT_X509_SIG, spis, 10);
    vpn_isakmp_bld_cert(&b, VPN_ISAKMP_PL_CR, VPN_ISAKMP_CERT_X509_SIG, NULL, 0);
    assert_int_equal(vpn_isakmp_bld_finish(&b, &len), 0);
    assert_roundtrip(buf, len);
    assert_int_equal(vpn_isakmp_msg_parse(buf, len, &m), 0);
    assert_int_equal(m.n, 5);
    assert_int_equal(vpn_isakmp_id_decode(m.pl[0].body, m.pl[0].body_len, &id2), 0);
    assert_int_equal(id2.type, VPN_ISAKMP_ID_IPV4_ADDR);
    assert_int_equal(id2.proto, 17);
    assert_int_equal(id2.port, 500);
    assert_memory_equal(id2.data.p, addr, 4);
    tu_assert_hex(m.pl[0].raw, m.pl[0].raw_len, "0b 00 000c 01 11 01f4 c0000201");
    assert_int_equal(vpn_isakmp_notify_decode(m.pl[1].body, m.pl[1].body_len, &n2), 0);
    assert_int_equal(n2.type, VPN_ISAKMP_N_R_U_THERE);
    assert_int_equal(n2.spi.len, 16);
    assert_int_equal(n2.data.len, 4);
    assert_int_equal(vpn_isakmp_delete_decode(m.pl[2].body, m.pl[2].body_len, &d2), 0);
    assert_int_equal(d2.nspi, 2);
    assert_memory_equal(vpn_isakmp_delete_spi(&d2, 1), spis + 4, 4);
    assert_null(vpn_isakmp_delete_spi(&d2, 2));
    assert_int_equal(vpn_isakmp_cert_decode(VPN_ISAKMP_PL_CR, m.pl[4].body, m.pl[4].body_len,
                                            &c), 0);
    assert_int_equal(c.data.len, 0);

    /* Hostile bodies. */
    {
        size_t l;
        uint8_t *x;
        x = tu_hex("01 00 0000 c00002", &l); /* IPv4 ID of 3 octets */
        assert_int_equal(vpn_isakmp_id_decode(x, l, &id2), VPN_ERR_MALFORMED);
        free(x);
        x = tu_hex("00 00 0000 01", &l); /* RESERVED ID type */
        assert_int_equal(vpn_isakmp_id_decode(x, l, &id2), VPN_ERR_MALFORMED);
        free(x);
        x = tu_hex("00000001 03 04 0001 0102", &l); /* notify SPI size past the end */
        assert_int_equal(vpn_isakmp_notify_decode(x, l, &n2), VPN_ERR_MALFORMED);
        free(x);
        x = tu_hex("00000001 03 04 0003 0102030405060708", &l); /* 3 SPIs, 2 present */
        assert_int_equal(vpn_isakmp_delete_decode(x, l, &d2), VPN_ERR_MALFORMED);
        free(x);
        x = tu_hex("00000001 03 00 0001", &l); /* SPI size 0 */
        assert_int_equal(vpn_isakmp_delete_decode(x, l, &d2), VPN_ERR_MALFORMED);
        free(x);
        x = tu_hex("04", &l); /* a CERT without data */
        assert_int_equal(vpn_isakmp_cert_decode(VPN_ISAKMP_PL_CERT, x, l, &c), VPN_ERR_MALFORMED);
        free(x);
    }
}

/* RFC 2409 appendix B padding, then the decrypted view. */
static void test_encrypted_path(void **state)
{
    (void)state;
    uint8_t buf[512], plain[512], view[512], hash[20];
    const uint8_t addr[4] = {10, 0, 0, 1};
    vpn_isakmp_hdr h = {0};
    vpn_isakmp_bld b;
    vpn_isakmp_msg m, snap;
    vpn_isakmp_id id = {VPN_ISAKMP_ID_IPV4_ADDR, 0, 0, {addr, 4}};
    vpn_isakmp_view after, before;
    size_t len, chain;
    uint8_t *slot;
    vpn_wr w;

    memset(hash, 0x77, sizeof hash);
    h.version = VPN_ISAKMP_VERSION;
    h.exchange = VPN_ISAKMP_EXCH_MAIN;
    h.icookie[0] = 1;
    h.rcookie[0] = 2;
    vpn_isakmp_bld_init(&b, buf, sizeof buf, &h);
    vpn_isakmp_bld_id(&b, &id);                                  /* 12 octets */
    vpn_isakmp_bld_placeholder(&b, VPN_ISAKMP_PL_HASH, 20, &slot); /* 24 octets */
    assert_int_equal(vpn_isakmp_bld_pad(&b, 16, &len), 0);
    /* 36 octets of chain, 12 of padding: 11 zeros and the count 11. */
    assert_int_equal(len, 28 + 48);
    assert_int_equal(buf[19], VPN_ISAKMP_FLAG_E);
    assert_int_equal(vpn_load32(buf + 24), len);
    tu_assert_hex(buf + 28 + 36, 12, "0000000000000000000000 0b");
    assert_int_equal(vpn_isakmp_bld_after(&b, 0, &after), 0);
    assert_int_equal(after.len, 24); /* the HASH payload, not the padding */
    assert_int_equal(vpn_isakmp_bld_before(&b, 1, &before), 0);
    assert_int_equal(before.len, 12);
    memcpy(slot, hash, sizeof hash);

    /* Header only, then the "decrypted" body (this test does not encrypt). */
    memcpy(plain, buf + 28, len - 28);
    assert_int_equal(vpn_isakmp_msg_parse(buf, len, &m), 0);
    assert_true(m.encrypted);
    assert_false(m.decrypted);
    assert_int_equal(m.n, 0);
    assert_int_equal(m.body_len, 48);
    assert_int_equal(vpn_isakmp_msg_after(&m, 0, &after), VPN_ERR_INVAL);
    assert_int_equal(vpn_isakmp_plain_chain_len(plain, 48, m.hdr.next_payload, &chain), 0);
    assert_int_equal(chain, 36);
    assert_int_equal(vpn_isakmp_msg_parse_plain(&m, plain, 48, NULL), 0);
    assert_true(m.decrypted);
    assert_int_equal(m.n, 2);
    assert_int_equal(m.chain_len, 36);
    assert_memory_equal(m.pl[1].body, hash, 20);
    assert_int_equal(vpn_isakmp_msg_parse_plain(&m, plain, 48, NULL), VPN_ERR_STATE);

    /* Zero padding without a count octet (other IKEv1 stacks) is fine too;
     * 257 octets of trailing data are not padding. */
    {
        uint8_t big[600];
        memcpy(big, plain, 36);
        memset(big + 36, 0, sizeof big - 36);
        assert_int_equal(vpn_isakmp_plain_chain_len(big, 48, VPN_ISAKMP_PL_ID, &chain), 0);
        assert_int_equal(vpn_isakmp_plain_chain_len(big, 36 + 256, VPN_ISAKMP_PL_ID, &chain), 0);
        assert_int_equal(vpn_isakmp_plain_chain_len(big, 36 + 257, VPN_ISAKMP_PL_ID, &chain),
                         VPN_ERR_MALFORMED);
        assert_int_equal(vpn_isakmp_msg_parse(buf, len, &m), 0);
        memcpy(&snap, &m, sizeof m);
        assert_int_equal(vpn_isakmp_msg_parse_plain(&m, big, 36 + 257, NULL), VPN_ERR_MALFORMED);
        assert_memory_equal(&m, &snap, sizeof m);
        /* A plaintext whose chain overruns (bad key gives garbage). */
        big[3] = 0xff;
        assert_int_equal(vpn_isakmp_msg_parse_plain(&m, big, 48, NULL), VPN_ERR_MALFORMED);
        assert_memory_equal(&m, &snap, sizeof m);
    }

    /* The decrypted view: E clear, plaintext chain, no padding, length fixed. */
    vpn_wr_init(&w, view, sizeof view);
    assert_int_equal(vpn_isakmp_decrypted_view(buf, len, plain, 48, &w), 0);
    assert_int_equal(vpn_wr_len(&w), 28 + 36);
    assert_int_equal(view[19], 0);
    assert_int_equal(vpn_load32(view + 24), 64);
    assert_memory_equal(view, buf, 19);
    assert_memory_equal(view + 28, plain, 36);
    assert_roundtrip(view, 64);
    /* msg_write of the decrypted message gives the same view. */
    {
        uint8_t again[512];
        assert_int_equal(vpn_isakmp_msg_parse(buf, len, &m), 0);
        assert_int_equal(vpn_isakmp_msg_parse_plain(&m, plain, 48, NULL), 0);
        vpn_wr_init(&w, again, sizeof again);
        assert_int_equal(vpn_isakmp_msg_write(&m, &w), 0);
        assert_int_equal(vpn_wr_len(&w), 64);
        assert_memory_equal(again, view, 64);
    }
    /* Not encrypted: no decrypted view; parse_plain refuses. */
    vpn_wr_init(&w, plain, sizeof plain);
    assert_int_equal(vpn_isakmp_decrypted_view(view, 64, view + 28, 36, &w), VPN_ERR_STATE);
    assert_int_equal(vpn_isakmp_msg_parse(view, 64, &m), 0);
    assert_int_equal(vpn_isakmp_msg_parse_plain(&m, view + 28, 36, NULL), VPN_ERR_STATE);
    /* An encrypted header with nothing after it. */
    {
        uint8_t e[28];
        memcpy(e, buf, 28);
        vpn_store32(e + 24, 28);
        expect_reject(e, 28, VPN_ERR_MALFORMED);
    }
}

static void test_builder_errors(void **state)
{
    (void)state;
    uint8_t buf[64], big[70000];
    vpn_isakmp_hdr h = {0};
    vpn_isakmp_bld b;
    size_t len;

    h.version = VPN_ISAKMP_VERSION;
    assert_int_equal(vpn_isakmp_bld_init(&b, buf, 20, &h), VPN_ERR_NOSPACE);
    vpn_isakmp_bld_init(&b, buf, sizeof buf, &h);
    assert_int_equal(vpn_isakmp_bld_end(&b), VPN_ERR_STATE);
    assert_int_equal(vpn_isakmp_bld_raw(&b, VPN_ISAKMP_PL_VID, buf, 1), VPN_ERR_STATE); /* sticky */
    vpn_isakmp_bld_init(&b, buf, sizeof buf, &h);
    assert_int_equal(vpn_isakmp_bld_raw(&b, VPN_ISAKMP_PL_VID, big, 40), VPN_ERR_NOSPACE);
    assert_int_equal(vpn_isakmp_bld_finish(&b, &len), VPN_ERR_NOSPACE);
    vpn_isakmp_bld_init(&b, buf, sizeof buf, &h);
    vpn_isakmp_bld_begin(&b, VPN_ISAKMP_PL_SA);
    assert_int_equal(vpn_isakmp_bld_finish(&b, &len), VPN_ERR_STATE); /* SA still open */
    {
        /* A payload length is 16 bits, generic header included. */
        static uint8_t out[70100];
        memset(big, 1, sizeof big);
        vpn_isakmp_bld_init(&b, out, sizeof out, &h);
        assert_int_equal(vpn_isakmp_bld_raw(&b, VPN_ISAKMP_PL_VID, big, 65531), 0);
        vpn_isakmp_bld_init(&b, out, sizeof out, &h);
        assert_int_equal(vpn_isakmp_bld_raw(&b, VPN_ISAKMP_PL_VID, big, 65532), VPN_ERR_OVERFLOW);
    }
    vpn_isakmp_bld_init(&b, buf, sizeof buf, &h);
    assert_int_equal(vpn_isakmp_bld_pad(&b, 0, &len), VPN_ERR_INVAL);
}

static void test_ipsec_attrs(void **state)
{
    (void)state;
    size_t len;
    uint8_t out[64];
    vpn_ipsec_doi_attrs a, back;
    vpn_wr w;
    /* seconds 3600 (duration sent basic, allowed for V), kilobytes 4608000,
     * tunnel, HMAC-SHA2-256, 256-bit key, RFC 6407 both / symmetric. */
    uint8_t *b = tu_hex("8001 0001 8002 0e10 8001 0002 0002 0004 00465000 8004 0001 8005 0005"
                        "8006 0100 800e 0004 800f 0003",
                        &len);

    assert_int_equal(vpn_ipsec_doi_attrs_decode(b, len, &a), 0);
    assert_true(a.life_secs == 3600);
    assert_true(a.life_kb == 4608000);
    assert_int_equal(a.encap, VPN_IPSEC_DOI_ENCAP_TUNNEL);
    assert_int_equal(a.auth_alg, VPN_IPSEC_DOI_AUTH_HMAC_SHA2_256);
    assert_int_equal(a.key_len, 256);
    assert_int_equal(a.addr_pres, VPN_GDOI_ADDR_PRES_BOTH);
    assert_int_equal(a.sa_dir, VPN_GDOI_SA_DIR_SYMMETRIC);
    vpn_wr_init(&w, out, sizeof out);
    assert_int_equal(vpn_ipsec_doi_attrs_encode(&a, &w), 0);
    assert_int_equal(vpn_ipsec_doi_attrs_decode(out, vpn_wr_len(&w), &back), 0);
    assert_ipsec_attrs_equal(&a, &back);
    free(b);

    /* Duplicates, orphan durations, repeated life types, unknown types. */
    b = tu_hex("8004 0001 8004 0002", &len);
    assert_int_equal(vpn_ipsec_doi_attrs_decode(b, len, &a), VPN_ERR_MALFORMED);
    free(b);
    b = tu_hex("8002 0e10", &len);
    assert_int_equal(vpn_ipsec_doi_attrs_decode(b, len, &a), VPN_ERR_MALFORMED);
    free(b);
    b = tu_hex("8001 0001 8002 0e10 8001 0001 8002 0e10", &len);
    assert_int_equal(vpn_ipsec_doi_attrs_decode(b, len, &a), VPN_ERR_MALFORMED);
    free(b);
    b = tu_hex("8001 0001 8004 0001 8002 0e10", &len); /* type not followed by duration */
    assert_int_equal(vpn_ipsec_doi_attrs_decode(b, len, &a), VPN_ERR_MALFORMED);
    free(b);
    b = tu_hex("8001 0001", &len);
    assert_int_equal(vpn_ipsec_doi_attrs_decode(b, len, &a), VPN_ERR_MALFORMED);
    free(b);
    b = tu_hex("8001 0009 8002 0001", &len);
    assert_int_equal(vpn_ipsec_doi_attrs_decode(b, len, &a), VPN_ERR_UNSUPPORTED);
    free(b);
    b = tu_hex("0005 0002 0005", &len); /* auth algorithm (B) as TLV */
    assert_int_equal(vpn_ipsec_doi_attrs_decode(b, len, &a), VPN_ERR_MALFORMED);
    free(b);
    b = tu_hex("8063 0001 0064 0001 aa", &len); /* unknown 99, 100: skipped */
    assert_int_equal(vpn_ipsec_doi_attrs_decode(b, len, &a), 0);
    assert_int_equal(a.present, 0);
    free(b);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(vpn_isakmp_exch_name(2, 1), "Identity Protection (Main Mode)");
    assert_string_equal(vpn_isakmp_exch_name(32, VPN_ISAKMP_DOI_IPSEC), "Quick Mode");
    assert_string_equal(vpn_isakmp_exch_name(32, VPN_ISAKMP_DOI_GDOI), "GROUPKEY-PULL");
    assert_string_equal(vpn_isakmp_exch_name(33, VPN_ISAKMP_DOI_GDOI), "GROUPKEY-PUSH");
    assert_string_equal(vpn_isakmp_exch_name(99, 2), "UNKNOWN");
    assert_string_equal(vpn_isakmp_pl_name(17), "Key Download");
    assert_string_equal(vpn_isakmp_pl_name(99), "UNKNOWN");
    assert_string_equal(vpn_isakmp_notify_name(23), "INVALID-HASH-INFORMATION");
    assert_string_equal(vpn_isakmp_notify_name(24578), "INITIAL-CONTACT");
    assert_string_equal(vpn_isakmp_id_type_name(11), "ID_KEY_ID");
    assert_string_equal(vpn_isakmp_attr_name(VPN_ATTRS_IKEV1, 12), "Life Duration");
    assert_string_equal(vpn_isakmp_attr_name(VPN_ATTRS_IPSEC_DOI, 15), "SA Direction");
    assert_string_equal(vpn_isakmp_attr_name(VPN_ATTRS_GDOI_KEK, 5), "SIG_HASH_ALGORITHM");
    assert_string_equal(vpn_isakmp_attr_name(VPN_ATTRS_GDOI_KD_TEK, 2), "TEK_INTEGRITY_KEY");
    assert_string_equal(vpn_isakmp_attr_name(VPN_ATTRS_GDOI_KD_KEK, 7), "UNKNOWN");
    assert_string_equal(vpn_ikev1_encr_name(7), "AES-CBC");
    assert_string_equal(vpn_ipsec_doi_esp_name(12), "ESP_AES-CBC");
    assert_string_equal(vpn_isakmp_doi_name(2), "GDOI");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mm1_parse),
        cmocka_unit_test(test_mm1_build_exact),
        cmocka_unit_test(test_attr_iterator),
        cmocka_unit_test(test_attr_overruns_and_limits),
        cmocka_unit_test(test_every_truncation_fails),
        cmocka_unit_test(test_header_checks),
        cmocka_unit_test(test_payload_structure_rejections),
        cmocka_unit_test(test_absurd_payload_counts),
        cmocka_unit_test(test_id_notify_delete_cert),
        cmocka_unit_test(test_encrypted_path),
        cmocka_unit_test(test_builder_errors),
        cmocka_unit_test(test_ipsec_attrs),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests_name("ikev1-codec", tests, NULL, NULL);
}
