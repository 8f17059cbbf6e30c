/*
 * libFuzzer target for the IKEv2 codec. For each input:
 *  - parse it as a message; when that succeeds, re-serialise every payload
 *    with the builder, parse the result, and require the same payloads
 *    field by field, and the same bytes from a second re-serialisation;
 *  - cut every SK/SKF with a few cipher shapes and parse the "plaintext"
 *    as an inner chain, with the same round trip;
 *  - parse input[1..] as an inner chain whose first type is input[0];
 *  - run the helpers on whatever parsed (describe, iterators, KE check,
 *    proposal selection against fixed local lists, and the initiator's
 *    check of the selection's answer).
 * A crash, a sanitizer report or a failed CHECK is a finding.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "ikev2/ikev2-codec.h"
#include "ikev2/ikev2-proposal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                  \
    do {                                                                          \
        if (!(c)) {                                                               \
            fprintf(stderr, "CHECK failed: %s (%s:%d)\n", #c, __FILE__, __LINE__); \
            abort();                                                              \
        }                                                                         \
    } while (0)

static int view_eq(vpn_ikev2_view a, vpn_ikev2_view b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static void same_sa(const vpn_ikev2_payload *a, const vpn_ikev2_payload *b)
{
    vpn_ikev2_iter ia, ib;
    vpn_ikev2_prop_view pa, pb;

    CHECK(a->u.sa.n_prop == b->u.sa.n_prop);
    vpn_ikev2_prop_iter_init(&ia, a);
    vpn_ikev2_prop_iter_init(&ib, b);
    while (vpn_ikev2_prop_iter_next(&ia, &pa)) {
        vpn_ikev2_iter xa, xb;
        vpn_ikev2_xform_view va, vb;
        CHECK(vpn_ikev2_prop_iter_next(&ib, &pb));
        CHECK(pa.num == pb.num && pa.proto == pb.proto && pa.n_xform == pb.n_xform);
        CHECK(view_eq(pa.spi, pb.spi));
        vpn_ikev2_xform_iter_init(&xa, &pa);
        vpn_ikev2_xform_iter_init(&xb, &pb);
        while (vpn_ikev2_xform_iter_next(&xa, &va)) {
            CHECK(vpn_ikev2_xform_iter_next(&xb, &vb));
            CHECK(va.type == vb.type && va.id == vb.id && va.key_len == vb.key_len);
            CHECK(va.bad_attr == vb.bad_attr && view_eq(va.attrs, vb.attrs));
        }
        CHECK(!vpn_ikev2_xform_iter_next(&xb, &vb));
    }
    CHECK(!vpn_ikev2_prop_iter_next(&ib, &pb));
}

static void same_ts(const vpn_ikev2_payload *a, const vpn_ikev2_payload *b)
{
    vpn_ikev2_iter ia, ib;
    vpn_ikev2_ts ta, tb;
    unsigned n = 0;

    CHECK(a->u.ts.n_ts == b->u.ts.n_ts);
    vpn_ikev2_ts_iter_init(&ia, a);
    vpn_ikev2_ts_iter_init(&ib, b);
    while (vpn_ikev2_ts_iter_next(&ia, &ta)) {
        CHECK(vpn_ikev2_ts_iter_next(&ib, &tb));
        CHECK(ta.type == tb.type && ta.proto == tb.proto && ta.addr_len == tb.addr_len);
        CHECK(ta.start_port == tb.start_port && ta.end_port == tb.end_port);
        CHECK(memcmp(ta.start, tb.start, sizeof ta.start) == 0);
        CHECK(memcmp(ta.end, tb.end, sizeof ta.end) == 0);
        CHECK(view_eq(ta.raw, tb.raw));
        n++;
    }
    CHECK(n == a->u.ts.n_ts);
}

static void same_cp(const vpn_ikev2_payload *a, const vpn_ikev2_payload *b)
{
    vpn_ikev2_iter ia, ib;
    vpn_ikev2_cp_attr ca, cb;
    unsigned n = 0;

    CHECK(a->u.cp.type == b->u.cp.type && a->u.cp.n_attr == b->u.cp.n_attr);
    vpn_ikev2_cp_iter_init(&ia, a);
    vpn_ikev2_cp_iter_init(&ib, b);
    while (vpn_ikev2_cp_iter_next(&ia, &ca)) {
        CHECK(vpn_ikev2_cp_iter_next(&ib, &cb));
        CHECK(ca.type == cb.type && view_eq(ca.value, cb.value));
        n++;
    }
    CHECK(n == a->u.cp.n_attr);
}

/* a and b describe the same payload (b came through build + parse). */
static void same_payload(const vpn_ikev2_payload *a, const vpn_ikev2_payload *b)
{
    CHECK(a->type == b->type && a->known == b->known && a->raw.len == b->raw.len);
    if (!a->known) {
        CHECK(a->critical == b->critical && view_eq(a->body, b->body));
        return;
    }
    switch (a->type) {
    case VPN_IKEV2_PL_SA:
        same_sa(a, b);
        break;
    case VPN_IKEV2_PL_KE:
        CHECK(a->u.ke.group == b->u.ke.group && view_eq(a->u.ke.data, b->u.ke.data));
        break;
    case VPN_IKEV2_PL_IDI:
    case VPN_IKEV2_PL_IDR:
        CHECK(a->u.id.type == b->u.id.type && view_eq(a->u.id.data, b->u.id.data));
        break;
    case VPN_IKEV2_PL_CERT:
    case VPN_IKEV2_PL_CERTREQ:
        CHECK(a->u.cert.encoding == b->u.cert.encoding && view_eq(a->u.cert.data, b->u.cert.data));
        break;
    case VPN_IKEV2_PL_AUTH:
        CHECK(a->u.auth.method == b->u.auth.method && view_eq(a->u.auth.data, b->u.auth.data));
        CHECK(view_eq(a->u.auth.alg_id, b->u.auth.alg_id) && view_eq(a->u.auth.sig, b->u.auth.sig));
        break;
    case VPN_IKEV2_PL_NONCE:
        CHECK(view_eq(a->u.nonce.data, b->u.nonce.data));
        break;
    case VPN_IKEV2_PL_VENDOR:
        CHECK(view_eq(a->u.vendor.data, b->u.vendor.data));
        break;
    case VPN_IKEV2_PL_NOTIFY:
        CHECK(a->u.notify.proto == b->u.notify.proto && a->u.notify.type == b->u.notify.type);
        CHECK(view_eq(a->u.notify.spi, b->u.notify.spi));
        CHECK(view_eq(a->u.notify.data, b->u.notify.data));
        break;
    case VPN_IKEV2_PL_DELETE:
        CHECK(a->u.del.proto == b->u.del.proto && a->u.del.spi_size == b->u.del.spi_size);
        CHECK(a->u.del.n_spi == b->u.del.n_spi && view_eq(a->u.del.spis, b->u.del.spis));
        break;
    case VPN_IKEV2_PL_TSI:
    case VPN_IKEV2_PL_TSR:
        same_ts(a, b);
        break;
    case VPN_IKEV2_PL_SK:
        CHECK(a->u.sk.first == b->u.sk.first && view_eq(a->u.sk.data, b->u.sk.data));
        break;
    case VPN_IKEV2_PL_CP:
        same_cp(a, b);
        break;
    case VPN_IKEV2_PL_EAP:
        CHECK(a->u.eap.code == b->u.eap.code && a->u.eap.ident == b->u.eap.ident);
        CHECK(a->u.eap.length == b->u.eap.length && a->u.eap.type == b->u.eap.type);
        CHECK(view_eq(a->u.eap.msg, b->u.eap.msg) && view_eq(a->u.eap.data, b->u.eap.data));
        break;
    case VPN_IKEV2_PL_SKF:
        CHECK(a->u.skf.first == b->u.skf.first && a->u.skf.frag_num == b->u.skf.frag_num);
        CHECK(a->u.skf.total == b->u.skf.total && view_eq(a->u.skf.data, b->u.skf.data));
        break;
    default:
        CHECK(0 && "known payload without a comparison");
    }
}

/* Serialises m into a fresh buffer of exactly m->len bytes (ASan sees any
 * overrun). Returns the buffer; the caller frees. */
static uint8_t *rebuild(const vpn_ikev2_msg *m)
{
    uint8_t *out = malloc(m->len ? m->len : 1);
    vpn_ikev2_bld b;
    vpn_wr w;
    size_t len = 0;

    CHECK(out);
    vpn_wr_init(&w, out, m->len);
    if (m->inner)
        CHECK(vpn_ikev2_bld_init_inner(&b, &w) == 0);
    else
        CHECK(vpn_ikev2_bld_init(&b, &w, &m->hdr) == 0);
    for (size_t i = 0; i < m->n; i++)
        CHECK(vpn_ikev2_bld_payload(&b, &m->pl[i]) == 0);
    CHECK(vpn_ikev2_bld_finish(&b, &len) == 0);
    CHECK(len == m->len);
    if (m->inner)
        CHECK(m->n == 0 || b.first == m->hdr.next);
    return out;
}

static void roundtrip(const vpn_ikev2_msg *m1)
{
    static vpn_ikev2_msg m2, m3;
    uint8_t *b1 = rebuild(m1), *b2;
    int rc;

    if (m1->inner)
        rc = vpn_ikev2_msg_parse_inner(b1, m1->len, m1->hdr.next, &m2);
    else
        rc = vpn_ikev2_msg_parse(b1, m1->len, &m2);
    CHECK(rc == 0);
    CHECK(m2.n == m1->n);
    CHECK(memcmp(&m2.hdr, &m1->hdr, sizeof m1->hdr) == 0);
    for (size_t i = 0; i < m1->n; i++)
        same_payload(&m1->pl[i], &m2.pl[i]);
    /* canonical from here on: the bytes are a fixed point */
    b2 = rebuild(&m2);
    CHECK(memcmp(b1, b2, m1->len) == 0);
    if (m1->inner)
        CHECK(vpn_ikev2_msg_parse_inner(b2, m1->len, m1->hdr.next, &m3) == 0);
    else
        CHECK(vpn_ikev2_msg_parse(b2, m1->len, &m3) == 0);
    free(b2);
    free(b1);
}

/* Local lists to select against: the IOS-XE-like default and an AEAD IKE
 * proposal, and two ESP transform sets. */
static void local_lists(vpn_ikev2_proposal ike[2], vpn_ikev2_proposal esp[2])
{
    memset(ike, 0, 2 * sizeof ike[0]);
    memset(esp, 0, 2 * sizeof esp[0]);
    ike[0].num = 1;
    ike[0].proto = VPN_IKEV2_PROTO_IKE;
    vpn_ikev2_proposal_add(&ike[0], VPN_IKEV2_XF_ENCR, VPN_ENCR_AES_CBC, 256);
    vpn_ikev2_proposal_add(&ike[0], VPN_IKEV2_XF_INTEG, VPN_AUTH_HMAC_SHA2_512_256, 0);
    vpn_ikev2_proposal_add(&ike[0], VPN_IKEV2_XF_INTEG, VPN_AUTH_HMAC_SHA2_384_192, 0);
    vpn_ikev2_proposal_add(&ike[0], VPN_IKEV2_XF_PRF, VPN_PRF_HMAC_SHA2_512, 0);
    vpn_ikev2_proposal_add(&ike[0], VPN_IKEV2_XF_PRF, VPN_PRF_HMAC_SHA2_384, 0);
    vpn_ikev2_proposal_add(&ike[0], VPN_IKEV2_XF_DH, VPN_DH_ECP_256, 0);
    vpn_ikev2_proposal_add(&ike[0], VPN_IKEV2_XF_DH, VPN_DH_MODP_2048, 0);
    ike[1].num = 2;
    ike[1].proto = VPN_IKEV2_PROTO_IKE;
    vpn_ikev2_proposal_add(&ike[1], VPN_IKEV2_XF_ENCR, VPN_ENCR_AES_GCM_16, 256);
    vpn_ikev2_proposal_add(&ike[1], VPN_IKEV2_XF_PRF, VPN_PRF_HMAC_SHA2_384, 0);
    vpn_ikev2_proposal_add(&ike[1], VPN_IKEV2_XF_DH, VPN_DH_ECP_256, 0);
    vpn_ikev2_proposal_add(&ike[1], VPN_IKEV2_XF_DH, VPN_DH_CURVE25519, 0);
    esp[0].num = 1;
    esp[0].proto = VPN_IKEV2_PROTO_ESP;
    vpn_ikev2_proposal_add(&esp[0], VPN_IKEV2_XF_ENCR, VPN_ENCR_AES_GCM_16, 128);
    vpn_ikev2_proposal_add(&esp[0], VPN_IKEV2_XF_DH, VPN_DH_NONE, 0);
    vpn_ikev2_proposal_add(&esp[0], VPN_IKEV2_XF_ESN, VPN_IKEV2_ESN_NO, 0);
    esp[1].num = 2;
    esp[1].proto = VPN_IKEV2_PROTO_ESP;
    vpn_ikev2_proposal_add(&esp[1], VPN_IKEV2_XF_ENCR, VPN_ENCR_AES_CBC, 128);
    vpn_ikev2_proposal_add(&esp[1], VPN_IKEV2_XF_INTEG, VPN_AUTH_HMAC_SHA1_96, 0);
    vpn_ikev2_proposal_add(&esp[1], VPN_IKEV2_XF_ESN, VPN_IKEV2_ESN_NO, 0);
    vpn_ikev2_proposal_add(&esp[1], VPN_IKEV2_XF_ESN, VPN_IKEV2_ESN_YES, 0);
}

/*
 * Whatever the responder picks must pass the initiator's own check against
 * the proposal it came from.
 */
static void check_selection(const vpn_ikev2_payload *sa)
{
    vpn_ikev2_proposal ike[2], esp[2], chosen, peer, accepted;
    const vpn_ikev2_proposal *lists[2] = {ike, esp};

    local_lists(ike, esp);
    for (unsigned l = 0; l < 2; l++) {
        for (unsigned flags = 0; flags <= VPN_IKEV2_SEL_PREFER_LOCAL; flags++) {
            vpn_ikev2_iter it;
            vpn_ikev2_prop_view pv;
            vpn_ikev2_msg reply;
            uint8_t buf[2048];
            vpn_ikev2_bld b;
            vpn_wr w;
            size_t idx = 9, len;
            int found = 0;
            vpn_ikev2_hdr h = {.version = VPN_IKEV2_VERSION};

            int rc = vpn_ikev2_proposal_select(sa, lists[l], 2, flags, &chosen, &idx);
            CHECK(rc == 0 || rc == VPN_ERR_NOTFOUND);
            if (rc)
                continue;
            CHECK(idx < 2);
            CHECK(vpn_ikev2_proposal_complete(&chosen));
            vpn_ikev2_prop_iter_init(&it, sa);
            while (vpn_ikev2_prop_iter_next(&it, &pv))
                if (pv.num == chosen.num) {
                    CHECK(vpn_ikev2_proposal_from_view(&pv, &peer) == 0);
                    found = 1;
                }
            CHECK(found);
            vpn_wr_init(&w, buf, sizeof buf);
            CHECK(vpn_ikev2_bld_init(&b, &w, &h) == 0);
            CHECK(vpn_ikev2_bld_sa(&b, &chosen, 1) == 0);
            CHECK(vpn_ikev2_bld_finish(&b, &len) == 0);
            CHECK(vpn_ikev2_msg_parse(buf, len, &reply) == 0);
            CHECK(vpn_ikev2_proposal_check_reply(&reply.pl[0], &peer, 1, &accepted) == 0);
        }
    }
    /* as an answer to our offers, the SA is either acceptable or not */
    {
        int rc = vpn_ikev2_proposal_check_reply(sa, ike, 2, &accepted);
        CHECK(rc == 0 || rc == VPN_ERR_POLICY);
        if (rc == 0)
            CHECK(vpn_ikev2_proposal_complete(&accepted));
    }
}

static void exercise(const vpn_ikev2_msg *m)
{
    char line[64], tiny[4];
    size_t want = vpn_ikev2_msg_describe(m, line, sizeof line);

    CHECK(strlen(line) == (want < sizeof line ? want : sizeof line - 1));
    vpn_ikev2_msg_describe(m, tiny, sizeof tiny);
    CHECK(strlen(tiny) < sizeof tiny);
    for (size_t i = 0; i < m->n; i++) {
        const vpn_ikev2_payload *p = &m->pl[i];
        CHECK(p->raw.ptr >= m->buf && p->raw.ptr + p->raw.len <= m->buf + m->len);
        /* lookups find known payloads and never unknown ones */
        CHECK((vpn_ikev2_msg_find(m, p->type, NULL) != NULL) == p->known);
        if (!p->known)
            continue;
        switch (p->type) {
        case VPN_IKEV2_PL_SA:
            check_selection(p);
            break;
        case VPN_IKEV2_PL_KE: {
            int rc = vpn_ikev2_ke_check(p);
            CHECK(rc == 0 || rc == VPN_ERR_MALFORMED || rc == VPN_ERR_UNSUPPORTED);
            break;
        }
        default:
            break;
        }
    }
}

static void try_inner(const uint8_t *plain, size_t len, uint8_t first)
{
    static vpn_ikev2_msg in;

    if (vpn_ikev2_msg_parse_inner(plain, len, first, &in) == 0) {
        CHECK(in.inner);
        exercise(&in);
        roundtrip(&in);
    }
}

static void try_encrypted(const vpn_ikev2_msg *m, const vpn_ikev2_payload *sk)
{
    static const size_t shapes[][3] = {{16, 16, 16}, {8, 16, 1}, {0, 0, 1}, {16, 12, 16}, {8, 8, 4}};

    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        vpn_ikev2_sk_region r;
        size_t inner;
        uint8_t first = sk->type == VPN_IKEV2_PL_SK ? sk->u.sk.first : sk->u.skf.first;

        if (vpn_ikev2_sk_split(m, sk, shapes[s][0], shapes[s][1], shapes[s][2], &r))
            continue;
        CHECK(r.iv_off + r.iv_len == r.ct_off && r.ct_off + r.ct_len == r.icv_off);
        CHECK(r.icv_off + r.icv_len == (size_t)(sk->raw.ptr + sk->raw.len - m->buf));
        CHECK(r.icv_off + r.icv_len <= m->len && r.ct_len > 0);
        if (vpn_ikev2_sk_unpad(m->buf + r.ct_off, r.ct_len, &inner) == 0)
            try_inner(m->buf + r.ct_off, inner, first);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static vpn_ikev2_msg m;
    vpn_ikev2_hdr h;
    int rc = vpn_ikev2_msg_parse(data, size, &m);

    /* the header-only parse agrees with the full parse about the header */
    if (vpn_ikev2_hdr_parse(data, size, &h) == 0 || m.hdr_ok)
        CHECK(memcmp(&h, &m.hdr, sizeof h) == 0);
    if (rc == 0) {
        exercise(&m);
        roundtrip(&m);
        for (size_t i = 0; i < m.n; i++)
            if (m.pl[i].known &&
                (m.pl[i].type == VPN_IKEV2_PL_SK || m.pl[i].type == VPN_IKEV2_PL_SKF))
                try_encrypted(&m, &m.pl[i]);
    } else {
        CHECK(rc < 0 && rc >= VPN_ERR_MIN);
        CHECK(rc == VPN_ERR_INVAL || m.err_notify != 0);
    }
    if (size > 0)
        try_inner(data + 1, size - 1, data[0]);
    return 0;
}
