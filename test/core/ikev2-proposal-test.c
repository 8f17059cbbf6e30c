/*
 * Proposal selection (RFC 7296 2.7, 3.3.3, 3.3.6; RFC 5282 8 for AEAD):
 * the peer's SA payload goes through the real builder and parser, the
 * responder picks, and the initiator checks the pick.
 */
#include <string.h>

#include "common/vpn-err.h"
#include "ikev2/ikev2-codec.h"
#include "ikev2/ikev2-proposal.h"
#include "test-util.h"

#define ENCR VPN_IKEV2_XF_ENCR
#define PRF VPN_IKEV2_XF_PRF
#define INTEG VPN_IKEV2_XF_INTEG
#define DH VPN_IKEV2_XF_DH
#define ESN VPN_IKEV2_XF_ESN

/* A proposal from a list of (type, id, key_len) triples ending in type 0. */
static vpn_ikev2_proposal prop(uint8_t num, uint8_t proto, const uint16_t *t)
{
    vpn_ikev2_proposal p;

    memset(&p, 0, sizeof p);
    p.num = num;
    p.proto = proto;
    for (; t[0]; t += 3)
        assert_int_equal(vpn_ikev2_proposal_add(&p, (uint8_t)t[0], t[1], t[2]), 0);
    return p;
}

/* A message holding one SA payload built from props, parsed into *m. */
typedef struct sa_msg {
    uint8_t buf[4096];
    vpn_ikev2_msg m;
} sa_msg;

static const vpn_ikev2_payload *sa_of(sa_msg *s, const vpn_ikev2_proposal *props, size_t n)
{
    vpn_ikev2_hdr h = {.version = VPN_IKEV2_VERSION, .exchange = VPN_IKEV2_IKE_SA_INIT};
    vpn_ikev2_bld b;
    vpn_wr w;
    size_t len;

    vpn_wr_init(&w, s->buf, sizeof s->buf);
    assert_int_equal(vpn_ikev2_bld_init(&b, &w, &h), 0);
    assert_int_equal(vpn_ikev2_bld_sa(&b, props, n), 0);
    assert_int_equal(vpn_ikev2_bld_finish(&b, &len), 0);
    assert_int_equal(vpn_ikev2_msg_parse(s->buf, len, &s->m), 0);
    return &s->m.pl[0];
}

/* Asserts that p holds exactly the (type, id, key_len) triples of want. */
static void assert_xforms(const vpn_ikev2_proposal *p, const uint16_t *want)
{
    unsigned n = 0;

    for (; want[0]; want += 3, n++) {
        assert_true(n < p->n_xform);
        assert_int_equal(p->xform[n].type, want[0]);
        assert_int_equal(p->xform[n].id, want[1]);
        assert_int_equal(p->xform[n].key_len, want[2]);
    }
    assert_int_equal(p->n_xform, n);
}

static const uint16_t ike_gcm[] = {ENCR, VPN_ENCR_AES_GCM_16, 256, PRF, VPN_PRF_HMAC_SHA2_384, 0,
                                   DH, VPN_DH_ECP_384, 0, 0};
static const uint16_t ike_cbc[] = {ENCR, VPN_ENCR_AES_CBC, 256, ENCR, VPN_ENCR_AES_CBC, 128,
                                   PRF, VPN_PRF_HMAC_SHA2_512, 0, PRF, VPN_PRF_HMAC_SHA2_256, 0,
                                   INTEG, VPN_AUTH_HMAC_SHA2_512_256, 0,
                                   INTEG, VPN_AUTH_HMAC_SHA2_256_128, 0,
                                   DH, VPN_DH_ECP_256, 0, DH, VPN_DH_MODP_2048, 0, 0};

/* ---- IKE proposals ------------------------------------------------------------- */

static void test_picks_the_intersection(void **state)
{
    (void)state;
    sa_msg s;
    vpn_ikev2_proposal peer[2] = {prop(1, VPN_IKEV2_PROTO_IKE, ike_gcm),
                                  prop(2, VPN_IKEV2_PROTO_IKE, ike_cbc)};
    /* we only do CBC with SHA-256 and MODP-2048 or ECP-256 */
    static const uint16_t mine[] = {ENCR, VPN_ENCR_AES_CBC, 128, PRF, VPN_PRF_HMAC_SHA2_256, 0,
                                    INTEG, VPN_AUTH_HMAC_SHA2_256_128, 0,
                                    DH, VPN_DH_MODP_2048, 0, DH, VPN_DH_ECP_256, 0, 0};
    vpn_ikev2_proposal local = prop(1, VPN_IKEV2_PROTO_IKE, mine), got;
    static const uint16_t want_peer_order[] = {ENCR, VPN_ENCR_AES_CBC, 128,
                                               PRF, VPN_PRF_HMAC_SHA2_256, 0,
                                               INTEG, VPN_AUTH_HMAC_SHA2_256_128, 0,
                                               DH, VPN_DH_ECP_256, 0, 0};
    static const uint16_t want_local_order[] = {ENCR, VPN_ENCR_AES_CBC, 128,
                                                PRF, VPN_PRF_HMAC_SHA2_256, 0,
                                                INTEG, VPN_AUTH_HMAC_SHA2_256_128, 0,
                                                DH, VPN_DH_MODP_2048, 0, 0};
    const vpn_ikev2_payload *sa = sa_of(&s, peer, 2);
    size_t idx = 99;

    /* the peer prefers ECP-256 (listed first), we prefer MODP-2048 */
    assert_int_equal(vpn_ikev2_proposal_select(sa, &local, 1, 0, &got, &idx), 0);
    assert_int_equal(idx, 0);
    assert_int_equal(got.num, 2); /* the peer's number comes back */
    assert_int_equal(got.proto, VPN_IKEV2_PROTO_IKE);
    assert_int_equal(got.spi_len, 0);
    assert_xforms(&got, want_peer_order);
    assert_true(vpn_ikev2_proposal_complete(&got));
    assert_int_equal(vpn_ikev2_proposal_select(sa, &local, 1, VPN_IKEV2_SEL_PREFER_LOCAL, &got,
                                               NULL), 0);
    assert_xforms(&got, want_local_order);
}

static void test_proposal_order_preference(void **state)
{
    (void)state;
    sa_msg s;
    vpn_ikev2_proposal peer[2] = {prop(1, VPN_IKEV2_PROTO_IKE, ike_gcm),
                                  prop(2, VPN_IKEV2_PROTO_IKE, ike_cbc)};
    /* we accept both, but list CBC first */
    vpn_ikev2_proposal local[2] = {prop(1, VPN_IKEV2_PROTO_IKE, ike_cbc),
                                   prop(2, VPN_IKEV2_PROTO_IKE, ike_gcm)};
    vpn_ikev2_proposal got;
    const vpn_ikev2_payload *sa = sa_of(&s, peer, 2);
    size_t idx;

    assert_int_equal(vpn_ikev2_proposal_select(sa, local, 2, 0, &got, &idx), 0);
    assert_int_equal(got.num, 1); /* the peer's first: GCM */
    assert_int_equal(idx, 1);
    assert_int_equal(vpn_ikev2_proposal_get(&got, ENCR)->id, VPN_ENCR_AES_GCM_16);
    assert_int_equal(vpn_ikev2_proposal_select(sa, local, 2, VPN_IKEV2_SEL_PREFER_LOCAL, &got,
                                               &idx), 0);
    assert_int_equal(got.num, 2); /* our first: CBC */
    assert_int_equal(idx, 0);
    /* CBC 256 is listed before 128 by both */
    assert_int_equal(vpn_ikev2_proposal_get(&got, ENCR)->key_len, 256);
    assert_int_equal(vpn_ikev2_proposal_get(&got, PRF)->id, VPN_PRF_HMAC_SHA2_512);
}

static void test_no_match_is_notfound(void **state)
{
    (void)state;
    sa_msg s;
    vpn_ikev2_proposal peer[2] = {prop(1, VPN_IKEV2_PROTO_IKE, ike_gcm),
                                  prop(2, VPN_IKEV2_PROTO_IKE, ike_cbc)};
    /* right algorithms, wrong group */
    static const uint16_t g5[] = {ENCR, VPN_ENCR_AES_CBC, 256, PRF, VPN_PRF_HMAC_SHA2_256, 0,
                                  INTEG, VPN_AUTH_HMAC_SHA2_256_128, 0, DH, VPN_DH_MODP_1536, 0, 0};
    /* AES-CBC-192: the key length does not match */
    static const uint16_t k192[] = {ENCR, VPN_ENCR_AES_CBC, 192, PRF, VPN_PRF_HMAC_SHA2_256, 0,
                                    INTEG, VPN_AUTH_HMAC_SHA2_256_128, 0, DH, VPN_DH_ECP_256, 0, 0};
    vpn_ikev2_proposal local[3] = {prop(1, VPN_IKEV2_PROTO_IKE, g5),
                                   prop(2, VPN_IKEV2_PROTO_IKE, k192),
                                   prop(3, VPN_IKEV2_PROTO_ESP, ike_cbc)};
    vpn_ikev2_proposal got;
    const vpn_ikev2_payload *sa = sa_of(&s, peer, 2);

    assert_int_equal(vpn_ikev2_proposal_select(sa, local, 3, 0, &got, NULL), VPN_ERR_NOTFOUND);
    assert_int_equal(vpn_ikev2_proposal_select(sa, local, 3, VPN_IKEV2_SEL_PREFER_LOCAL, &got,
                                               NULL), VPN_ERR_NOTFOUND);
    assert_int_equal(vpn_ikev2_proposal_select(sa, local, 0, 0, &got, NULL), VPN_ERR_NOTFOUND);
    /* not an SA payload */
    assert_int_equal(vpn_ikev2_proposal_select(NULL, local, 3, 0, &got, NULL), VPN_ERR_INVAL);
}

/* ---- AEAD ------------------------------------------------------------------------ */

static void test_aead_without_integrity(void **state)
{
    (void)state;
    sa_msg s;
    vpn_ikev2_proposal peer = prop(1, VPN_IKEV2_PROTO_IKE, ike_gcm), got;
    static const uint16_t mine[] = {ENCR, VPN_ENCR_AES_GCM_16, 128, ENCR, VPN_ENCR_AES_GCM_16, 256,
                                    PRF, VPN_PRF_HMAC_SHA2_384, 0, DH, VPN_DH_ECP_384, 0, 0};
    vpn_ikev2_proposal local = prop(1, VPN_IKEV2_PROTO_IKE, mine);
    static const uint16_t want[] = {ENCR, VPN_ENCR_AES_GCM_16, 256, PRF, VPN_PRF_HMAC_SHA2_384, 0,
                                    DH, VPN_DH_ECP_384, 0, 0};

    assert_int_equal(vpn_ikev2_proposal_select(sa_of(&s, &peer, 1), &local, 1, 0, &got, NULL), 0);
    assert_xforms(&got, want);
    assert_null(vpn_ikev2_proposal_get(&got, INTEG));
}

static void test_aead_with_integrity_none(void **state)
{
    (void)state;
    sa_msg s;
    /* some peers list INTEG NONE next to an AEAD cipher */
    static const uint16_t theirs[] = {ENCR, VPN_ENCR_CHACHA20_POLY1305, 0,
                                      PRF, VPN_PRF_HMAC_SHA2_256, 0, INTEG, VPN_INTEG_NONE, 0,
                                      DH, VPN_DH_CURVE25519, 0, 0};
    static const uint16_t mine[] = {ENCR, VPN_ENCR_CHACHA20_POLY1305, 0,
                                    PRF, VPN_PRF_HMAC_SHA2_256, 0, DH, VPN_DH_CURVE25519, 0, 0};
    vpn_ikev2_proposal peer = prop(1, VPN_IKEV2_PROTO_IKE, theirs);
    vpn_ikev2_proposal local = prop(1, VPN_IKEV2_PROTO_IKE, mine), got;

    assert_int_equal(vpn_ikev2_proposal_select(sa_of(&s, &peer, 1), &local, 1, 0, &got, NULL), 0);
    /* one of each type offered comes back: INTEG NONE included */
    assert_int_equal(vpn_ikev2_proposal_get(&got, INTEG)->id, VPN_INTEG_NONE);
    assert_true(vpn_ikev2_proposal_complete(&got));
}

static void test_aead_mixed_with_real_integrity_is_refused(void **state)
{
    (void)state;
    sa_msg s;
    /* GCM with a real integrity algorithm and nothing else */
    static const uint16_t theirs[] = {ENCR, VPN_ENCR_AES_GCM_16, 256, PRF, VPN_PRF_HMAC_SHA2_384, 0,
                                      INTEG, VPN_AUTH_HMAC_SHA2_256_128, 0,
                                      DH, VPN_DH_ECP_384, 0, 0};
    vpn_ikev2_proposal peer = prop(1, VPN_IKEV2_PROTO_IKE, theirs), got;
    vpn_ikev2_proposal aead_local = prop(1, VPN_IKEV2_PROTO_IKE, ike_gcm);
    /* even a local list that names the same integrity cannot make GCM+HMAC
     * a valid SA (RFC 5282 8) */
    vpn_ikev2_proposal same = prop(1, VPN_IKEV2_PROTO_IKE, theirs);

    assert_int_equal(vpn_ikev2_proposal_select(sa_of(&s, &peer, 1), &aead_local, 1, 0, &got, NULL),
                     VPN_ERR_NOTFOUND);
    assert_int_equal(vpn_ikev2_proposal_select(sa_of(&s, &peer, 1), &same, 1, 0, &got, NULL),
                     VPN_ERR_NOTFOUND);
}

static void test_non_aead_needs_integrity(void **state)
{
    (void)state;
    sa_msg s;
    static const uint16_t theirs[] = {ENCR, VPN_ENCR_AES_CBC, 256, PRF, VPN_PRF_HMAC_SHA2_256, 0,
                                      DH, VPN_DH_ECP_256, 0, 0};
    vpn_ikev2_proposal peer = prop(1, VPN_IKEV2_PROTO_IKE, theirs), got;
    vpn_ikev2_proposal local = prop(1, VPN_IKEV2_PROTO_IKE, ike_cbc);
    vpn_ikev2_proposal same = prop(1, VPN_IKEV2_PROTO_IKE, theirs);

    assert_int_equal(vpn_ikev2_proposal_select(sa_of(&s, &peer, 1), &local, 1, 0, &got, NULL),
                     VPN_ERR_NOTFOUND);
    assert_int_equal(vpn_ikev2_proposal_select(sa_of(&s, &peer, 1), &same, 1, 0, &got, NULL),
                     VPN_ERR_NOTFOUND);
}

/* ---- ESP proposals ------------------------------------------------------------- */

static void test_esp_with_esn(void **state)
{
    (void)state;
    sa_msg s;
    static const uint16_t theirs[] = {ENCR, VPN_ENCR_AES_GCM_16, 256,
                                      ESN, VPN_IKEV2_ESN_YES, 0, ESN, VPN_IKEV2_ESN_NO, 0, 0};
    static const uint16_t no_esn[] = {ENCR, VPN_ENCR_AES_GCM_16, 256, ESN, VPN_IKEV2_ESN_NO, 0, 0};
    static const uint16_t esn_only[] = {ENCR, VPN_ENCR_AES_GCM_16, 256,
                                        ESN, VPN_IKEV2_ESN_YES, 0, 0};
    static const uint16_t missing_esn[] = {ENCR, VPN_ENCR_AES_GCM_16, 256, 0};
    vpn_ikev2_proposal peer = prop(1, VPN_IKEV2_PROTO_ESP, theirs), got;
    vpn_ikev2_proposal l1 = prop(1, VPN_IKEV2_PROTO_ESP, no_esn);
    vpn_ikev2_proposal l2 = prop(1, VPN_IKEV2_PROTO_ESP, esn_only);
    vpn_ikev2_proposal l3 = prop(1, VPN_IKEV2_PROTO_ESP, missing_esn);
    static const uint8_t spi[4] = {0xc3, 0x5a, 0x00, 0x01};
    const vpn_ikev2_payload *sa;

    peer.spi_len = 4;
    memcpy(peer.spi, spi, 4);
    sa = sa_of(&s, &peer, 1);
    assert_int_equal(vpn_ikev2_proposal_select(sa, &l1, 1, 0, &got, NULL), 0);
    assert_int_equal(vpn_ikev2_proposal_get(&got, ESN)->id, VPN_IKEV2_ESN_NO);
    assert_int_equal(got.spi_len, 4); /* the peer's SPI, for the caller to swap */
    assert_memory_equal(got.spi, spi, 4);
    assert_int_equal(vpn_ikev2_proposal_select(sa, &l2, 1, 0, &got, NULL), 0);
    assert_int_equal(vpn_ikev2_proposal_get(&got, ESN)->id, VPN_IKEV2_ESN_YES);
    /* ESN is mandatory for ESP (3.3.3): a local list without it cannot
     * answer a peer that offers it */
    assert_int_equal(vpn_ikev2_proposal_select(sa, &l3, 1, 0, &got, NULL), VPN_ERR_NOTFOUND);
    /* ... nor does a peer without ESN make a complete ESP SA */
    peer = prop(1, VPN_IKEV2_PROTO_ESP, missing_esn);
    assert_int_equal(vpn_ikev2_proposal_select(sa_of(&s, &peer, 1), &l3, 1, 0, &got, NULL),
                     VPN_ERR_NOTFOUND);
}

static void test_esp_cbc_and_pfs(void **state)
{
    (void)state;
    sa_msg s;
    /* an IKE_AUTH SAi2 without a DH transform, and a CREATE_CHILD_SA one
     * offering PFS or not */
    static const uint16_t no_pfs[] = {ENCR, VPN_ENCR_AES_CBC, 128,
                                      INTEG, VPN_AUTH_HMAC_SHA1_96, 0, ESN, 0, 0, 0};
    static const uint16_t pfs_optional[] = {ENCR, VPN_ENCR_AES_CBC, 128,
                                            INTEG, VPN_AUTH_HMAC_SHA1_96, 0,
                                            DH, VPN_DH_MODP_2048, 0, DH, VPN_DH_NONE, 0,
                                            ESN, 0, 0, 0};
    static const uint16_t pfs_required[] = {ENCR, VPN_ENCR_AES_CBC, 128,
                                            INTEG, VPN_AUTH_HMAC_SHA1_96, 0,
                                            DH, VPN_DH_MODP_2048, 0, ESN, 0, 0, 0};
    static const uint16_t pfs_none_ok[] = {ENCR, VPN_ENCR_AES_CBC, 128,
                                           INTEG, VPN_AUTH_HMAC_SHA1_96, 0,
                                           DH, VPN_DH_NONE, 0, ESN, 0, 0, 0};
    vpn_ikev2_proposal got;
    vpn_ikev2_proposal p_no = prop(1, VPN_IKEV2_PROTO_ESP, no_pfs);
    vpn_ikev2_proposal p_opt = prop(1, VPN_IKEV2_PROTO_ESP, pfs_optional);
    vpn_ikev2_proposal l_no = prop(1, VPN_IKEV2_PROTO_ESP, no_pfs);
    vpn_ikev2_proposal l_req = prop(1, VPN_IKEV2_PROTO_ESP, pfs_required);
    vpn_ikev2_proposal l_none = prop(1, VPN_IKEV2_PROTO_ESP, pfs_none_ok);

    /* peer without DH, we without DH */
    assert_int_equal(vpn_ikev2_proposal_select(sa_of(&s, &p_no, 1), &l_no, 1, 0, &got, NULL), 0);
    assert_null(vpn_ikev2_proposal_get(&got, DH));
    /* we require PFS, peer offers no DH */
    assert_int_equal(vpn_ikev2_proposal_select(sa_of(&s, &p_no, 1), &l_req, 1, 0, &got, NULL),
                     VPN_ERR_NOTFOUND);
    /* we accept "DH NONE" and peer offers no DH: left out */
    assert_int_equal(vpn_ikev2_proposal_select(sa_of(&s, &p_no, 1), &l_none, 1, 0, &got, NULL), 0);
    assert_null(vpn_ikev2_proposal_get(&got, DH));
    /* peer offers PFS or none, we do not configure DH: NONE comes back */
    assert_int_equal(vpn_ikev2_proposal_select(sa_of(&s, &p_opt, 1), &l_no, 1, 0, &got, NULL), 0);
    assert_int_equal(vpn_ikev2_proposal_get(&got, DH)->id, VPN_DH_NONE);
    /* peer offers PFS or none, we require PFS */
    assert_int_equal(vpn_ikev2_proposal_select(sa_of(&s, &p_opt, 1), &l_req, 1, 0, &got, NULL), 0);
    assert_int_equal(vpn_ikev2_proposal_get(&got, DH)->id, VPN_DH_MODP_2048);
}

/* ---- transforms and types we do not understand -------------------------------- */

static void test_unknown_type_and_attribute(void **state)
{
    (void)state;
    sa_msg s;
    static const uint16_t with_unknown_type[] = {ENCR, VPN_ENCR_AES_CBC, 256,
                                                 PRF, VPN_PRF_HMAC_SHA2_256, 0,
                                                 INTEG, VPN_AUTH_HMAC_SHA2_256_128, 0,
                                                 DH, VPN_DH_ECP_256, 0, 200, 1, 0, 0};
    vpn_ikev2_proposal peer[2] = {prop(1, VPN_IKEV2_PROTO_IKE, with_unknown_type),
                                  prop(2, VPN_IKEV2_PROTO_IKE, ike_cbc)};
    vpn_ikev2_proposal local = prop(1, VPN_IKEV2_PROTO_IKE, ike_cbc), got;
    const vpn_ikev2_payload *sa = sa_of(&s, peer, 2);

    /* 3.3.6: the proposal with a type we do not know is skipped, the
     * other one processed as usual */
    assert_int_equal(vpn_ikev2_proposal_select(sa, &local, 1, 0, &got, NULL), 0);
    assert_int_equal(got.num, 2);

    /* an ENCR transform with an unknown attribute is unacceptable, the
     * other ENCR transform in the proposal still counts */
    {
        static const uint8_t sa_body[] =
            /* SA, one IKE proposal with 5 transforms */
            "\x00\x00\x00\x40"                 /* 4 + 60 */
            "\x00\x00\x00\x3c\x01\x01\x00\x05" /* 8 + 16 + 12 + 8 + 8 + 8 */
            "\x03\x00\x00\x10\x01\x00\x00\x0c\x80\x0e\x01\x00\x80\x63\x00\x01" /* CBC-256 + ?? */
            "\x03\x00\x00\x0c\x01\x00\x00\x0c\x80\x0e\x00\x80"                 /* CBC-128 */
            "\x03\x00\x00\x08\x02\x00\x00\x05"
            "\x03\x00\x00\x08\x03\x00\x00\x0c"
            "\x00\x00\x00\x08\x04\x00\x00\x13";
        uint8_t msg[28 + sizeof sa_body - 1];
        vpn_ikev2_msg m;
        static const uint16_t want[] = {ENCR, VPN_ENCR_AES_CBC, 128, PRF, VPN_PRF_HMAC_SHA2_256, 0,
                                        INTEG, VPN_AUTH_HMAC_SHA2_256_128, 0,
                                        DH, VPN_DH_ECP_256, 0, 0};

        memset(msg, 0, 28);
        msg[16] = VPN_IKEV2_PL_SA;
        msg[17] = 0x20;
        msg[18] = VPN_IKEV2_IKE_SA_INIT;
        vpn_store32(msg + 24, sizeof msg);
        memcpy(msg + 28, sa_body, sizeof sa_body - 1);
        assert_int_equal(vpn_ikev2_msg_parse(msg, sizeof msg, &m), 0);
        assert_int_equal(vpn_ikev2_proposal_select(&m.pl[0], &local, 1, 0, &got, NULL), 0);
        assert_xforms(&got, want);
    }
}

/* Found by the fuzzer: a NONE the peer offers for a type we do not
 * configure goes back unmodified, so that the peer's check accepts it. */
static void test_none_returned_with_its_attributes(void **state)
{
    (void)state;
    sa_msg s, r;
    static const uint16_t theirs[] = {ENCR, VPN_ENCR_AES_CBC, 256, PRF, VPN_PRF_HMAC_SHA2_256, 0,
                                      INTEG, VPN_AUTH_HMAC_SHA2_256_128, 0,
                                      DH, VPN_DH_MODP_2048, 0, VPN_IKEV2_XF_ADDKE1, 0, 128, 0};
    static const uint16_t mine[] = {ENCR, VPN_ENCR_AES_CBC, 256, PRF, VPN_PRF_HMAC_SHA2_256, 0,
                                    INTEG, VPN_AUTH_HMAC_SHA2_256_128, 0,
                                    DH, VPN_DH_MODP_2048, 0, 0};
    vpn_ikev2_proposal peer = prop(1, VPN_IKEV2_PROTO_IKE, theirs);
    vpn_ikev2_proposal local = prop(1, VPN_IKEV2_PROTO_IKE, mine), got, accepted;

    assert_int_equal(vpn_ikev2_proposal_select(sa_of(&s, &peer, 1), &local, 1, 0, &got, NULL), 0);
    assert_int_equal(vpn_ikev2_proposal_get(&got, VPN_IKEV2_XF_ADDKE1)->key_len, 128);
    assert_int_equal(vpn_ikev2_proposal_check_reply(sa_of(&r, &got, 1), &peer, 1, &accepted), 0);
}

static void test_protocol_must_match(void **state)
{
    (void)state;
    sa_msg s;
    static const uint16_t esp[] = {ENCR, VPN_ENCR_AES_GCM_16, 256, ESN, 0, 0, 0};
    vpn_ikev2_proposal peer = prop(1, VPN_IKEV2_PROTO_ESP, esp), got;
    vpn_ikev2_proposal ah = prop(1, VPN_IKEV2_PROTO_AH, esp);

    assert_int_equal(vpn_ikev2_proposal_select(sa_of(&s, &peer, 1), &ah, 1, 0, &got, NULL),
                     VPN_ERR_NOTFOUND);
}

static void test_complete(void **state)
{
    (void)state;
    static const uint16_t ike_ok[] = {ENCR, VPN_ENCR_AES_CBC, 128, PRF, 5, 0, INTEG, 12, 0,
                                      DH, 14, 0, 0};
    static const uint16_t ike_two_dh[] = {ENCR, VPN_ENCR_AES_CBC, 128, PRF, 5, 0, INTEG, 12, 0,
                                          DH, 14, 0, DH, 19, 0, 0};
    static const uint16_t ike_dh_none[] = {ENCR, VPN_ENCR_AES_CBC, 128, PRF, 5, 0, INTEG, 12, 0,
                                           DH, 0, 0, 0};
    static const uint16_t ike_no_prf[] = {ENCR, VPN_ENCR_AES_CBC, 128, INTEG, 12, 0, DH, 14, 0, 0};
    static const uint16_t ike_esn[] = {ENCR, VPN_ENCR_AES_CBC, 128, PRF, 5, 0, INTEG, 12, 0,
                                       DH, 14, 0, ESN, 0, 0, 0};
    static const uint16_t esp_prf[] = {ENCR, VPN_ENCR_AES_GCM_16, 128, PRF, 5, 0, ESN, 0, 0, 0};
    static const uint16_t ah_ok[] = {INTEG, 12, 0, ESN, 1, 0, 0};
    static const uint16_t ah_encr[] = {ENCR, VPN_ENCR_AES_CBC, 128, INTEG, 12, 0, ESN, 1, 0, 0};
    vpn_ikev2_proposal p;

    p = prop(1, VPN_IKEV2_PROTO_IKE, ike_ok);
    assert_true(vpn_ikev2_proposal_complete(&p));
    p = prop(1, VPN_IKEV2_PROTO_IKE, ike_two_dh);
    assert_false(vpn_ikev2_proposal_complete(&p));
    p = prop(1, VPN_IKEV2_PROTO_IKE, ike_dh_none);
    assert_false(vpn_ikev2_proposal_complete(&p));
    p = prop(1, VPN_IKEV2_PROTO_IKE, ike_no_prf);
    assert_false(vpn_ikev2_proposal_complete(&p));
    p = prop(1, VPN_IKEV2_PROTO_IKE, ike_esn);
    assert_false(vpn_ikev2_proposal_complete(&p));
    p = prop(1, VPN_IKEV2_PROTO_ESP, esp_prf);
    assert_false(vpn_ikev2_proposal_complete(&p));
    p = prop(1, VPN_IKEV2_PROTO_AH, ah_ok);
    assert_true(vpn_ikev2_proposal_complete(&p));
    p = prop(1, VPN_IKEV2_PROTO_AH, ah_encr);
    assert_false(vpn_ikev2_proposal_complete(&p));
    p = prop(1, 9, ah_ok);
    assert_false(vpn_ikev2_proposal_complete(&p));
    /* a transform marked bad never counts */
    p = prop(1, VPN_IKEV2_PROTO_IKE, ike_ok);
    p.xform[0].bad = true;
    assert_false(vpn_ikev2_proposal_complete(&p));
    assert_false(vpn_ikev2_proposal_complete(NULL));
}

static void test_add_limit(void **state)
{
    (void)state;
    vpn_ikev2_proposal p;

    memset(&p, 0, sizeof p);
    for (unsigned i = 0; i < VPN_IKEV2_PROP_MAX_XFORMS; i++)
        assert_int_equal(vpn_ikev2_proposal_add(&p, DH, (uint16_t)i, 0), 0);
    assert_int_equal(vpn_ikev2_proposal_add(&p, DH, 1, 0), VPN_ERR_LIMIT);
    assert_int_equal(vpn_ikev2_proposal_add(NULL, DH, 1, 0), VPN_ERR_INVAL);
}

/* ---- the initiator's check of the reply ----------------------------------------- */

static void test_reply_roundtrip(void **state)
{
    (void)state;
    sa_msg s, r;
    vpn_ikev2_proposal offer[2] = {prop(1, VPN_IKEV2_PROTO_IKE, ike_gcm),
                                   prop(2, VPN_IKEV2_PROTO_IKE, ike_cbc)};
    vpn_ikev2_proposal local = prop(1, VPN_IKEV2_PROTO_IKE, ike_cbc), chosen, accepted;

    /* responder picks, sends SAr1; initiator checks it */
    assert_int_equal(vpn_ikev2_proposal_select(sa_of(&s, offer, 2), &local, 1, 0, &chosen, NULL),
                     0);
    assert_int_equal(vpn_ikev2_proposal_check_reply(sa_of(&r, &chosen, 1), offer, 2, &accepted),
                     0);
    assert_int_equal(accepted.num, 2);
    assert_int_equal(accepted.n_xform, 4);
    assert_memory_equal(accepted.xform, chosen.xform, sizeof accepted.xform);
}

static void test_reply_violations(void **state)
{
    (void)state;
    sa_msg r;
    vpn_ikev2_proposal offer[2] = {prop(1, VPN_IKEV2_PROTO_IKE, ike_gcm),
                                   prop(2, VPN_IKEV2_PROTO_IKE, ike_cbc)};
    vpn_ikev2_proposal accepted, bad[2];
    static const uint16_t good[] = {ENCR, VPN_ENCR_AES_CBC, 128, PRF, VPN_PRF_HMAC_SHA2_256, 0,
                                    INTEG, VPN_AUTH_HMAC_SHA2_256_128, 0, DH, VPN_DH_ECP_256, 0, 0};
    static const uint16_t two_encr[] = {ENCR, VPN_ENCR_AES_CBC, 128, ENCR, VPN_ENCR_AES_CBC, 256,
                                        PRF, VPN_PRF_HMAC_SHA2_256, 0,
                                        INTEG, VPN_AUTH_HMAC_SHA2_256_128, 0,
                                        DH, VPN_DH_ECP_256, 0, 0};
    static const uint16_t not_offered[] = {ENCR, VPN_ENCR_AES_CBC, 192,
                                           PRF, VPN_PRF_HMAC_SHA2_256, 0,
                                           INTEG, VPN_AUTH_HMAC_SHA2_256_128, 0,
                                           DH, VPN_DH_ECP_256, 0, 0};
    static const uint16_t no_dh[] = {ENCR, VPN_ENCR_AES_CBC, 128, PRF, VPN_PRF_HMAC_SHA2_256, 0,
                                     INTEG, VPN_AUTH_HMAC_SHA2_256_128, 0, 0};

    bad[0] = prop(2, VPN_IKEV2_PROTO_IKE, good);
    assert_int_equal(vpn_ikev2_proposal_check_reply(sa_of(&r, bad, 1), offer, 2, &accepted), 0);
    /* the right transforms under the GCM proposal's number */
    bad[0] = prop(1, VPN_IKEV2_PROTO_IKE, good);
    assert_int_equal(vpn_ikev2_proposal_check_reply(sa_of(&r, bad, 1), offer, 2, &accepted),
                     VPN_ERR_POLICY);
    /* a number we never offered */
    bad[0] = prop(3, VPN_IKEV2_PROTO_IKE, good);
    assert_int_equal(vpn_ikev2_proposal_check_reply(sa_of(&r, bad, 1), offer, 2, &accepted),
                     VPN_ERR_POLICY);
    /* not narrowed to one per type */
    bad[0] = prop(2, VPN_IKEV2_PROTO_IKE, two_encr);
    assert_int_equal(vpn_ikev2_proposal_check_reply(sa_of(&r, bad, 1), offer, 2, &accepted),
                     VPN_ERR_POLICY);
    /* a key length we did not offer */
    bad[0] = prop(2, VPN_IKEV2_PROTO_IKE, not_offered);
    assert_int_equal(vpn_ikev2_proposal_check_reply(sa_of(&r, bad, 1), offer, 2, &accepted),
                     VPN_ERR_POLICY);
    /* a type left out */
    bad[0] = prop(2, VPN_IKEV2_PROTO_IKE, no_dh);
    assert_int_equal(vpn_ikev2_proposal_check_reply(sa_of(&r, bad, 1), offer, 2, &accepted),
                     VPN_ERR_POLICY);
    /* two proposals back */
    bad[0] = prop(1, VPN_IKEV2_PROTO_IKE, good);
    bad[1] = prop(2, VPN_IKEV2_PROTO_IKE, good);
    assert_int_equal(vpn_ikev2_proposal_check_reply(sa_of(&r, bad, 2), offer, 2, &accepted),
                     VPN_ERR_POLICY);
    /* another protocol under our number */
    bad[0] = prop(2, VPN_IKEV2_PROTO_ESP, good);
    assert_int_equal(vpn_ikev2_proposal_check_reply(sa_of(&r, bad, 1), offer, 2, &accepted),
                     VPN_ERR_POLICY);
    assert_int_equal(vpn_ikev2_proposal_check_reply(NULL, offer, 2, &accepted), VPN_ERR_INVAL);
}

static void test_reply_may_omit_offered_none(void **state)
{
    (void)state;
    sa_msg r;
    static const uint16_t offered[] = {ENCR, VPN_ENCR_AES_GCM_16, 128,
                                       DH, VPN_DH_MODP_2048, 0, DH, VPN_DH_NONE, 0,
                                       ESN, 0, 0, 0};
    static const uint16_t answer[] = {ENCR, VPN_ENCR_AES_GCM_16, 128, ESN, 0, 0, 0};
    vpn_ikev2_proposal offer = prop(1, VPN_IKEV2_PROTO_ESP, offered);
    vpn_ikev2_proposal reply = prop(1, VPN_IKEV2_PROTO_ESP, answer), accepted;

    assert_int_equal(vpn_ikev2_proposal_check_reply(sa_of(&r, &reply, 1), &offer, 1, &accepted),
                     0);
    assert_null(vpn_ikev2_proposal_get(&accepted, DH));
    /* without NONE in the offer, PFS was required: leaving DH out is not
     * an answer (DH is optional for ESP, so completeness alone allows it) */
    offer.n_xform = 0;
    assert_int_equal(vpn_ikev2_proposal_add(&offer, ENCR, VPN_ENCR_AES_GCM_16, 128), 0);
    assert_int_equal(vpn_ikev2_proposal_add(&offer, DH, VPN_DH_MODP_2048, 0), 0);
    assert_int_equal(vpn_ikev2_proposal_add(&offer, ESN, 0, 0), 0);
    assert_int_equal(vpn_ikev2_proposal_check_reply(sa_of(&r, &reply, 1), &offer, 1, &accepted),
                     VPN_ERR_POLICY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_picks_the_intersection),
        cmocka_unit_test(test_proposal_order_preference),
        cmocka_unit_test(test_no_match_is_notfound),
        cmocka_unit_test(test_aead_without_integrity),
        cmocka_unit_test(test_aead_with_integrity_none),
        cmocka_unit_test(test_aead_mixed_with_real_integrity_is_refused),
        cmocka_unit_test(test_non_aead_needs_integrity),
        cmocka_unit_test(test_esp_with_esn),
        cmocka_unit_test(test_esp_cbc_and_pfs),
        cmocka_unit_test(test_unknown_type_and_attribute),
        cmocka_unit_test(test_none_returned_with_its_attributes),
        cmocka_unit_test(test_protocol_must_match),
        cmocka_unit_test(test_complete),
        cmocka_unit_test(test_add_limit),
        cmocka_unit_test(test_reply_roundtrip),
        cmocka_unit_test(test_reply_violations),
        cmocka_unit_test(test_reply_may_omit_offered_none),
    };
    return cmocka_run_group_tests_name("ikev2-proposal", tests, NULL, NULL);
}
