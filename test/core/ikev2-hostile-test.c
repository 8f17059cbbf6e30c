/*
 * The IKEv2 engine against hostile or broken peers. A real initiator (R1)
 * produces the messages; the test changes them (in the clear for
 * IKE_SA_INIT, re-encrypted with R1's keys afterwards) and hands them to
 * the responder (R2). Each case checks what RFC 7296 asks for: the notify
 * in the answer (2.21) or a silent drop, and that no state was created or
 * changed: a clean handshake still works afterwards.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/wire.h"
#include "ikev2/ikev2-codec.h"
#include "ikev2/ikev2-crypto.h"
#include "ikev2-pair.h"

/* ---- plumbing -------------------------------------------------------------------------- */

typedef struct capture {
    uint8_t exchange;   /* what to take from R1 (and not deliver) */
    int taken;
    tp_dgram d;
} capture;

static bool capture_hook(tp_net *n, tp_dgram *d, void *user)
{
    capture *c = user;
    (void)n;
    if (d->from == 0 && tp_exchange(d) == c->exchange && !tp_is_response(d)) {
        if (c->taken++ == 0)
            c->d = *d;
        return false;
    }
    return true;
}

/* Hands bytes to R2 as if from R1 and returns how many datagrams R2 sent
 * back; *answer (if not NULL) receives the last of them (parsed header
 * and message are left to the caller). Queued answers are discarded. */
static size_t to_r2(tp_net *n, const uint8_t *data, size_t len, tp_dgram *answer)
{
    size_t before = n->n_queue, got;
    vpn_ikev2_endpoint src = n->node[0].ep, dst = n->node[1].ep;

    assert_int_equal(vpn_ikev2_input(n->node[1].ctx, n->now, &dst, &src, data, len), 0);
    got = n->n_queue - before;
    if (got && answer)
        *answer = *n->queue[n->n_queue - 1];
    while (n->n_queue > before)
        free(n->queue[--n->n_queue]);
    return got;
}

/* The only notify of an unprotected answer. */
static uint16_t plain_notify(const tp_dgram *d, const uint8_t **data, size_t *len)
{
    static vpn_ikev2_msg m;
    const vpn_ikev2_payload *p;
    assert_int_equal(vpn_ikev2_msg_parse(d->data, d->len, &m), 0);
    assert_int_equal(m.hdr.spi_r, 0); /* no state behind it (2.6, 2.21.1) */
    assert_true(m.hdr.flags & VPN_IKEV2_FLAG_R);
    assert_int_equal(m.n, 1);
    p = &m.pl[0];
    assert_int_equal(p->type, VPN_IKEV2_PL_NOTIFY);
    if (data) {
        *data = p->u.notify.data.ptr;
        *len = p->u.notify.data.len;
    }
    return p->u.notify.type;
}

/* Rebuilds R1's IKE_SA_INIT with a change. */
typedef struct init_edit {
    uint8_t drop_type;           /* leave out payloads of this type */
    bool ke_data;                /* replace the KE data */
    uint8_t ke[600];
    size_t ke_len;
    uint16_t ke_group;
    bool add_unknown;            /* append a payload of type 200 */
    bool unknown_critical;
    uint8_t version;             /* 0: keep */
    bool nonzero_spir;
    bool response_flag;
    bool nonce_first;            /* put the Nonce first (other order) */
} init_edit;

static size_t rebuild_init(const tp_dgram *orig, const init_edit *e, uint8_t *out, size_t cap)
{
    static vpn_ikev2_msg m;
    vpn_ikev2_hdr h;
    vpn_wr w;
    vpn_ikev2_bld b;
    size_t len = 0, ke_off = SIZE_MAX;

    assert_int_equal(vpn_ikev2_msg_parse(orig->data, orig->len, &m), 0);
    h = m.hdr;
    if (e->nonzero_spir)
        h.spi_r = 42;
    if (e->response_flag)
        h.flags |= VPN_IKEV2_FLAG_R;
    vpn_wr_init(&w, out, cap);
    assert_int_equal(vpn_ikev2_bld_init(&b, &w, &h), 0);
    if (e->nonce_first)
        assert_int_equal(vpn_ikev2_bld_payload(&b, vpn_ikev2_msg_find(&m, VPN_IKEV2_PL_NONCE, NULL)), 0);
    for (size_t i = 0; i < m.n; i++) {
        const vpn_ikev2_payload *p = &m.pl[i];
        if (p->type == e->drop_type || (e->nonce_first && p->type == VPN_IKEV2_PL_NONCE))
            continue;
        if (p->type == VPN_IKEV2_PL_KE && e->ke_data) {
            /* a placeholder the size of the new KE, patched below: the
             * builder (rightly) refuses to write a bad KE itself */
            static uint8_t body[620];
            memset(body, 0, sizeof body);
            ke_off = vpn_wr_len(&w);
            assert_int_equal(vpn_ikev2_bld_raw(&b, 199, false, body, 4 + e->ke_len), 0);
            continue;
        }
        assert_int_equal(vpn_ikev2_bld_payload(&b, p), 0);
    }
    if (e->add_unknown) {
        static const uint8_t junk[5] = {1, 2, 3, 4, 5};
        assert_int_equal(vpn_ikev2_bld_raw(&b, 200, e->unknown_critical, junk, sizeof junk), 0);
    }
    assert_int_equal(vpn_ikev2_bld_finish(&b, &len), 0);
    if (ke_off != SIZE_MAX) {
        /* turn the placeholder into the KE: its type in the previous Next
         * Payload field, then group, reserved, data */
        size_t prev = 16;
        for (size_t off = 28; off < ke_off; off += vpn_load16(out + off + 2))
            prev = off;
        out[prev] = VPN_IKEV2_PL_KE;
        vpn_store16(out + ke_off + 4, e->ke_group);
        memcpy(out + ke_off + 8, e->ke, e->ke_len);
    }
    if (e->version)
        out[17] = e->version;
    return len;
}

static void fresh(tp_net *n, capture *c, uint8_t exchange)
{
    peer_conf a = conf_a(), b = conf_b();
    vpn_ikev2_policy p = gre_policy("192.0.2.1", "192.0.2.2", 1);
    setup(n, &a, &b);
    memset(c, 0, sizeof *c);
    c->exchange = exchange;
    n->hook = capture_hook;
    n->hook_user = c;
    initiate(n, &p);
    tp_pump(n);
    assert_int_equal(c->taken, 1);
}

/* After a hostile exchange, the real one still works and R2 has exactly
 * one SA, the good one. */
static void assert_clean_handshake_after(tp_net *n, capture *c)
{
    n->hook = NULL;
    assert_int_equal(vpn_ikev2_input(n->node[1].ctx, n->now, &c->d.dst, &c->d.src, c->d.data, c->d.len), 0);
    tp_run_for(n, 2);
    assert_int_equal(tp_count_ev(&n->node[0], VPN_IKEV2_EV_CHILD_UP), 1);
    assert_int_equal(tp_count_ev(&n->node[1], VPN_IKEV2_EV_CHILD_UP), 1);
    assert_int_equal(vpn_ikev2_sa_count(n->node[1].ctx), 1);
}

/* ---- IKE_SA_INIT ----------------------------------------------------------------------- */

static void init_case(const init_edit *e, int want_answers, uint16_t want_notify)
{
    tp_net n;
    capture c;
    static uint8_t buf[4096];
    tp_dgram ans;
    size_t len, got;

    fresh(&n, &c, 34);
    len = rebuild_init(&c.d, e, buf, sizeof buf);
    got = to_r2(&n, buf, len, &ans);
    assert_int_equal(got, (size_t)want_answers);
    if (want_answers)
        assert_int_equal(plain_notify(&ans, NULL, NULL), want_notify);
    assert_int_equal(vpn_ikev2_sa_count(n.node[1].ctx), 0);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_IKE_UP), 0);
    assert_clean_handshake_after(&n, &c);
    tp_free(&n);
}

static void test_init_missing_payloads(void **state)
{
    init_edit e;
    (void)state;
    memset(&e, 0, sizeof e);
    e.drop_type = VPN_IKEV2_PL_KE;
    init_case(&e, 1, VPN_IKEV2_N_INVALID_SYNTAX);
    e.drop_type = VPN_IKEV2_PL_NONCE;
    init_case(&e, 1, VPN_IKEV2_N_INVALID_SYNTAX);
    e.drop_type = VPN_IKEV2_PL_SA;
    init_case(&e, 1, VPN_IKEV2_N_INVALID_SYNTAX);
}

static void test_init_oversized_and_bad_ke(void **state)
{
    init_edit e;
    (void)state;
    memset(&e, 0, sizeof e);
    /* group 19 wants 64 octets (RFC 5903 7): 65 is refused */
    e.ke_data = true;
    e.ke_group = VPN_DH_ECP_256;
    e.ke_len = 65;
    memset(e.ke, 0x11, e.ke_len);
    init_case(&e, 1, VPN_IKEV2_N_INVALID_SYNTAX);
    /* far too large */
    e.ke_len = 600;
    init_case(&e, 1, VPN_IKEV2_N_INVALID_SYNTAX);
    /* empty */
    e.ke_len = 0;
    init_case(&e, 1, VPN_IKEV2_N_INVALID_SYNTAX);
    /* the right size, but not a point on the curve (RFC 6989 2.3) */
    e.ke_len = 64;
    memset(e.ke, 0, 64);
    init_case(&e, 1, VPN_IKEV2_N_INVALID_SYNTAX);
}

static void test_init_truncated_and_overrun(void **state)
{
    tp_net n;
    capture c;
    static uint8_t buf[4096];
    (void)state;

    fresh(&n, &c, 34);
    /* every truncation: no state; an answer at most, never a crash */
    for (size_t cut = 1; cut < c.d.len; cut++) {
        tp_dgram ans;
        size_t got;
        memcpy(buf, c.d.data, c.d.len - cut);
        got = to_r2(&n, buf, c.d.len - cut, &ans);
        assert_true(got <= 1);
        if (got)
            assert_int_equal(plain_notify(&ans, NULL, NULL), VPN_IKEV2_N_INVALID_SYNTAX);
        assert_int_equal(vpn_ikev2_sa_count(n.node[1].ctx), 0);
        /* the header's Length still claims the full size: lengths overrun */
        vpn_store32(buf + 24, (uint32_t)(c.d.len - cut));
        got = to_r2(&n, buf, c.d.len - cut, &ans);
        assert_true(got <= 1);
        assert_int_equal(vpn_ikev2_sa_count(n.node[1].ctx), 0);
    }
    /* a payload length running past the message */
    memcpy(buf, c.d.data, c.d.len);
    vpn_store16(buf + 28 + 2, 0xfff0);
    assert_true(to_r2(&n, buf, c.d.len, NULL) <= 1);
    assert_int_equal(vpn_ikev2_sa_count(n.node[1].ctx), 0);
    assert_clean_handshake_after(&n, &c);
    tp_free(&n);
}

static void test_init_critical_unknown(void **state)
{
    init_edit e;
    tp_net n;
    capture c;
    static uint8_t buf[4096];
    tp_dgram ans;
    const uint8_t *data;
    size_t len, dlen;
    (void)state;

    memset(&e, 0, sizeof e);
    e.add_unknown = true;
    e.unknown_critical = true;
    fresh(&n, &c, 34);
    len = rebuild_init(&c.d, &e, buf, sizeof buf);
    assert_int_equal(to_r2(&n, buf, len, &ans), 1);
    /* RFC 7296 2.5: UNSUPPORTED_CRITICAL_PAYLOAD naming type 200 */
    assert_int_equal(plain_notify(&ans, &data, &dlen), VPN_IKEV2_N_UNSUPPORTED_CRITICAL_PAYLOAD);
    assert_int_equal(dlen, 1);
    assert_int_equal(data[0], 200);
    assert_int_equal(vpn_ikev2_sa_count(n.node[1].ctx), 0);
    tp_free(&n);
}

/* Unknown non-critical payloads are skipped (3.2); payload order other
 * than the RFC's drawings is accepted (it is not significant outside SK). */
static void test_init_tolerated(void **state)
{
    init_edit e;
    tp_net n;
    capture c;
    static uint8_t buf[4096];
    tp_dgram ans;
    size_t len;
    (void)state;

    memset(&e, 0, sizeof e);
    e.add_unknown = true;
    e.nonce_first = true;
    fresh(&n, &c, 34);
    len = rebuild_init(&c.d, &e, buf, sizeof buf);
    assert_int_equal(to_r2(&n, buf, len, &ans), 1);
    assert_true(tp_is_response(&ans));
    assert_int_equal(vpn_ikev2_sa_count(n.node[1].ctx), 1);
    tp_free(&n);
}

static void test_init_bad_header(void **state)
{
    init_edit e;
    tp_net n;
    capture c;
    static uint8_t buf[4096];
    tp_dgram ans;
    size_t len;
    (void)state;

    /* major version 3: INVALID_MAJOR_VERSION (2.5) */
    memset(&e, 0, sizeof e);
    e.version = 0x30;
    fresh(&n, &c, 34);
    len = rebuild_init(&c.d, &e, buf, sizeof buf);
    assert_int_equal(to_r2(&n, buf, len, &ans), 1);
    assert_int_equal(plain_notify(&ans, NULL, NULL), VPN_IKEV2_N_INVALID_MAJOR_VERSION);
    /* minor version 1 is fine (2.5: ignore the minor version) */
    e.version = 0x21;
    len = rebuild_init(&c.d, &e, buf, sizeof buf);
    assert_int_equal(to_r2(&n, buf, len, &ans), 1);
    assert_true(tp_is_response(&ans));
    assert_int_equal(vpn_ikev2_sa_count(n.node[1].ctx), 1);
    tp_free(&n);
    /* a request naming a responder SPI, or posing as a response: dropped */
    memset(&e, 0, sizeof e);
    e.nonzero_spir = true;
    init_case(&e, 0, 0);
    memset(&e, 0, sizeof e);
    e.response_flag = true;
    init_case(&e, 0, 0);
}

/* ---- after IKE_SA_INIT: protected messages ------------------------------------------ */

typedef struct sk_ctx {
    vpn_ikev2_crypto cr;     /* R1's side of the SA */
    vpn_ikev2_crypto peer;   /* R2's side, to read what R1 sent */
    vpn_ikev2_sa_keys k;
    vpn_drbg drbg;
    vpn_rng rng;
} sk_ctx;

static void sk_init(sk_ctx *s, tp_net *n)
{
    vpn_ikev2_sa_info i;
    assert_int_equal(vpn_ikev2_sa_get(n->node[0].ctx, 0, &i), 0);
    assert_int_equal(vpn_ikev2_sa_keys_get(n->node[0].ctx, i.id, &s->k), 0);
    assert_int_equal(vpn_ikev2_crypto_init_keys(&s->cr, &s->k.suite, &s->k.keys, true), 0);
    assert_int_equal(vpn_ikev2_crypto_init_keys(&s->peer, &s->k.suite, &s->k.keys, false), 0);
    assert_int_equal(vpn_drbg_init(&s->drbg, "hostile", 7), 0);
    vpn_rng_init_drbg(&s->rng, &s->drbg);
}

static void sk_free(sk_ctx *s)
{
    vpn_ikev2_crypto_free(&s->cr);
    vpn_ikev2_crypto_free(&s->peer);
    vpn_ikev2_keys_wipe(&s->k.keys);
    vpn_drbg_free(&s->drbg);
}

/* The inner payloads of what R1 sent (decrypted), as a message. */
static void sk_read(sk_ctx *s, const tp_dgram *d, vpn_ikev2_msg *inner, uint8_t *plain)
{
    static vpn_ikev2_msg m;
    vpn_ikev2_sk_region r;
    const vpn_ikev2_payload *sk;
    size_t l;

    assert_int_equal(vpn_ikev2_msg_parse(d->data, d->len, &m), 0);
    sk = vpn_ikev2_msg_find(&m, VPN_IKEV2_PL_SK, NULL);
    assert_non_null(sk);
    assert_int_equal(vpn_ikev2_sk_split(&m, sk, vpn_ikev2_sk_iv_len(&s->peer), vpn_ikev2_sk_icv_len(&s->peer),
                                        vpn_ikev2_sk_block_len(&s->peer), &r),
                     0);
    assert_int_equal(vpn_ikev2_sk_decrypt(&s->peer, d->data, r.iv_off, r.ct_off, r.ct_len, r.icv_off, plain), 0);
    assert_int_equal(vpn_ikev2_sk_unpad(plain, r.ct_len, &l), 0);
    assert_int_equal(vpn_ikev2_msg_parse_inner(plain, l, sk->u.sk.first, inner), 0);
    inner->hdr = m.hdr;
}

/* An encrypted message from R1: header h, the payloads of inner except
 * drop_type, then an optional raw extra payload. raw_chain (if not NULL)
 * replaces the payloads by bytes as they are (a broken chain). */
static size_t sk_build(sk_ctx *s, const vpn_ikev2_hdr *h, const vpn_ikev2_msg *inner, uint8_t drop_type,
                       int extra_type, bool extra_critical, const uint8_t *raw_chain, size_t raw_len,
                       uint8_t raw_first, uint8_t *out, size_t cap)
{
    vpn_wr w;
    vpn_ikev2_bld b;
    vpn_ikev2_sk_region r;
    size_t len = 0;

    vpn_wr_init(&w, out, cap);
    assert_int_equal(vpn_ikev2_bld_init(&b, &w, h), 0);
    if (raw_chain) {
        /* an SK payload whose plaintext is raw_chain + padding */
        size_t blk = vpn_ikev2_sk_block_len(&s->cr), iv = vpn_ikev2_sk_iv_len(&s->cr);
        size_t icv = vpn_ikev2_sk_icv_len(&s->cr), pad = (blk - (raw_len + 1) % blk) % blk;
        size_t sk_len = 4 + iv + raw_len + pad + 1 + icv;
        uint8_t *p = out + 28;
        out[16] = VPN_IKEV2_PL_SK;
        p[0] = 0;
        p[1] = 0;
        p[2] = (uint8_t)(sk_len >> 8);
        p[3] = (uint8_t)sk_len;
        p[0] = raw_first;
        memcpy(p + 4 + iv, raw_chain, raw_len);
        memset(p + 4 + iv + raw_len, 0, pad);
        p[4 + iv + raw_len + pad] = (uint8_t)pad;
        len = 28 + sk_len;
        vpn_store32(out + 24, (uint32_t)len);
        assert_int_equal(vpn_ikev2_sk_encrypt(&s->cr, &s->rng, out, 28 + 4, 28 + 4 + iv, raw_len + pad + 1,
                                              28 + 4 + iv + raw_len + pad + 1),
                         0);
        return len;
    }
    assert_int_equal(vpn_ikev2_bld_sk_open(&b, vpn_ikev2_sk_iv_len(&s->cr)), 0);
    for (size_t i = 0; inner && i < inner->n; i++)
        if (inner->pl[i].type != drop_type)
            assert_int_equal(vpn_ikev2_bld_payload(&b, &inner->pl[i]), 0);
    if (extra_type >= 0) {
        static const uint8_t junk[3] = {9, 9, 9};
        assert_int_equal(vpn_ikev2_bld_raw(&b, (uint8_t)extra_type, extra_critical, junk, 3), 0);
    }
    assert_int_equal(vpn_ikev2_bld_sk_close(&b, vpn_ikev2_sk_block_len(&s->cr), vpn_ikev2_sk_icv_len(&s->cr), &r),
                     0);
    assert_int_equal(vpn_ikev2_bld_finish(&b, &len), 0);
    assert_int_equal(vpn_ikev2_sk_encrypt(&s->cr, &s->rng, out, r.iv_off, r.ct_off, r.ct_len, r.icv_off), 0);
    return len;
}

/* The first notify of R2's encrypted answer that tells an outcome. */
static uint16_t sk_answer_notify(sk_ctx *s, const tp_dgram *ans)
{
    static vpn_ikev2_msg m, inner;
    static uint8_t plain[70000];
    vpn_ikev2_sk_region r;
    const vpn_ikev2_payload *sk, *nt;
    size_t l;

    assert_int_equal(vpn_ikev2_msg_parse(ans->data, ans->len, &m), 0);
    sk = vpn_ikev2_msg_find(&m, VPN_IKEV2_PL_SK, NULL);
    assert_non_null(sk);
    assert_int_equal(vpn_ikev2_sk_split(&m, sk, vpn_ikev2_sk_iv_len(&s->cr), vpn_ikev2_sk_icv_len(&s->cr),
                                        vpn_ikev2_sk_block_len(&s->cr), &r),
                     0);
    assert_int_equal(vpn_ikev2_sk_decrypt(&s->cr, ans->data, r.iv_off, r.ct_off, r.ct_len, r.icv_off, plain), 0);
    assert_int_equal(vpn_ikev2_sk_unpad(plain, r.ct_len, &l), 0);
    assert_int_equal(vpn_ikev2_msg_parse_inner(plain, l, sk->u.sk.first, &inner), 0);
    /* SET_WINDOW_SIZE (RFC 7296 2.3) rides on every answer: not an outcome */
    nt = vpn_ikev2_msg_find(&inner, VPN_IKEV2_PL_NOTIFY, NULL);
    while (nt && nt->u.notify.type == VPN_IKEV2_N_SET_WINDOW_SIZE)
        nt = vpn_ikev2_msg_find(&inner, VPN_IKEV2_PL_NOTIFY, nt);
    return nt ? nt->u.notify.type : 0;
}

typedef struct auth_case {
    uint8_t drop_type;
    int extra_type;
    bool extra_critical;
    bool broken_chain;
    uint8_t exchange;     /* 0: IKE_AUTH */
    uint16_t want_notify; /* 0: a normal answer */
    bool r2_sa_left;      /* R2 still has the SA afterwards */
} auth_case;

static void auth_run(const auth_case *k)
{
    tp_net n;
    capture c;
    sk_ctx s;
    static vpn_ikev2_msg inner;
    static uint8_t plain[70000], buf[70000];
    vpn_ikev2_hdr h;
    tp_dgram ans;
    size_t len;

    fresh(&n, &c, 35); /* R1's IKE_AUTH is held back */
    assert_int_equal(vpn_ikev2_sa_count(n.node[1].ctx), 1);
    sk_init(&s, &n);
    sk_read(&s, &c.d, &inner, plain);
    h = inner.hdr;
    if (k->exchange)
        h.exchange = k->exchange;
    if (k->broken_chain) {
        /* IDi claiming 200 octets in a 12-octet chain */
        static const uint8_t chain[12] = {VPN_IKEV2_PL_AUTH, 0, 0, 200, 1, 0, 0, 0, 192, 0, 2, 1};
        len = sk_build(&s, &h, NULL, 0, -1, false, chain, sizeof chain, VPN_IKEV2_PL_IDI, buf, sizeof buf);
    } else {
        len = sk_build(&s, &h, &inner, k->drop_type, k->extra_type, k->extra_critical, NULL, 0, 0, buf,
                       sizeof buf);
    }
    assert_int_equal(to_r2(&n, buf, len, &ans), 1);
    assert_int_equal(sk_answer_notify(&s, &ans), k->want_notify);
    assert_int_equal(vpn_ikev2_sa_count(n.node[1].ctx), k->r2_sa_left ? 1 : 0);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_CHILD_UP), k->want_notify ? 0 : 1);
    sk_free(&s);
    tp_free(&n);
}

static void test_auth_missing_payloads(void **state)
{
    auth_case k;
    (void)state;
    memset(&k, 0, sizeof k);
    k.extra_type = -1;
    k.drop_type = VPN_IKEV2_PL_AUTH;
    k.want_notify = VPN_IKEV2_N_INVALID_SYNTAX;
    auth_run(&k);
    k.drop_type = VPN_IKEV2_PL_IDI;
    auth_run(&k);
    /* no TSr: the IKE SA is made, the CHILD_SA is refused */
    k.drop_type = VPN_IKEV2_PL_TSR;
    k.want_notify = VPN_IKEV2_N_INVALID_SYNTAX;
    k.r2_sa_left = true;
    auth_run(&k);
}

static void test_auth_malformed_inner(void **state)
{
    auth_case k;
    (void)state;
    memset(&k, 0, sizeof k);
    k.extra_type = -1;
    k.broken_chain = true;
    k.want_notify = VPN_IKEV2_N_INVALID_SYNTAX;
    auth_run(&k);
    /* an unknown critical payload inside SK */
    memset(&k, 0, sizeof k);
    k.extra_type = 201;
    k.extra_critical = true;
    k.want_notify = VPN_IKEV2_N_UNSUPPORTED_CRITICAL_PAYLOAD;
    auth_run(&k);
    /* the same, not critical: ignored, the SA comes up */
    memset(&k, 0, sizeof k);
    k.extra_type = 201;
    k.r2_sa_left = true;
    auth_run(&k);
}

/* CREATE_CHILD_SA or INFORMATIONAL before IKE_AUTH: wrong state. */
static void test_wrong_exchange_before_auth(void **state)
{
    auth_case k;
    (void)state;
    memset(&k, 0, sizeof k);
    k.extra_type = -1;
    k.exchange = VPN_IKEV2_CREATE_CHILD_SA;
    k.want_notify = VPN_IKEV2_N_INVALID_SYNTAX;
    auth_run(&k);
    k.exchange = VPN_IKEV2_INFORMATIONAL;
    auth_run(&k);
}

/* Tampered or truncated protected messages are dropped without an
 * answer, and the half-open SA waits on, unchanged, for the real one. */
static void test_auth_tampered_dropped(void **state)
{
    tp_net n;
    capture c;
    static uint8_t buf[70000];
    vpn_ikev2_stats st;
    (void)state;

    fresh(&n, &c, 35);
    for (size_t off = 28; off < c.d.len; off += 7) {
        memcpy(buf, c.d.data, c.d.len);
        buf[off] ^= 0x01;
        assert_int_equal(to_r2(&n, buf, c.d.len, NULL), 0);
    }
    for (size_t cut = 1; cut < c.d.len - 28; cut += 3) {
        memcpy(buf, c.d.data, c.d.len - cut);
        vpn_store32(buf + 24, (uint32_t)(c.d.len - cut));
        assert_int_equal(to_r2(&n, buf, c.d.len - cut, NULL), 0);
    }
    /* unknown SPIs */
    memcpy(buf, c.d.data, c.d.len);
    buf[9] ^= 0xff;
    assert_int_equal(to_r2(&n, buf, c.d.len, NULL), 0);
    vpn_ikev2_stats_get(n.node[1].ctx, &st);
    assert_int_equal(st.half_open_in, 1);
    assert_true(st.dropped > 10);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_FAILED), 0);
    assert_clean_handshake_after(&n, &c);
    tp_free(&n);
}

/* An established SA pair, R1's IKE_AUTH request read back with R1's keys
 * (s, inner in plain): its header, to build further requests of R1's from. */
static vpn_ikev2_hdr established(tp_net *n, sk_ctx *s, vpn_ikev2_msg *inner, uint8_t *plain)
{
    capture c;
    tp_dgram auth;

    fresh(n, &c, 35);
    auth = c.d;
    assert_clean_handshake_after(n, &c);
    n->hook_user = NULL; /* c goes with this frame */
    sk_init(s, n);
    sk_read(s, &auth, inner, plain);
    return inner->hdr;
}

/* On an established SA: a second IKE_AUTH is refused (INVALID_SYNTAX) and
 * changes nothing; an unsolicited response is dropped; a Delete naming
 * an SPI we do not have is answered and ignored. */
static void test_established_wrong_state(void **state)
{
    tp_net n;
    sk_ctx s;
    static vpn_ikev2_msg inner;
    static uint8_t plain[70000], buf[70000];
    vpn_ikev2_hdr h;
    vpn_ikev2_sa_info i1;
    tp_dgram ans;
    size_t len;
    (void)state;

    h = established(&n, &s, &inner, plain);
    h.msg_id = 2;
    len = sk_build(&s, &h, &inner, 0, -1, false, NULL, 0, 0, buf, sizeof buf);
    assert_int_equal(to_r2(&n, buf, len, &ans), 1);
    assert_int_equal(sk_answer_notify(&s, &ans), VPN_IKEV2_N_INVALID_SYNTAX);
    assert_int_equal(vpn_ikev2_sa_get(n.node[1].ctx, 0, &i1), 0);
    assert_int_equal(i1.state, VPN_IKEV2_SA_ESTABLISHED);
    assert_int_equal(i1.n_children, 1);
    /* an unsolicited response from R1 */
    h.msg_id = 3;
    h.flags |= VPN_IKEV2_FLAG_R;
    len = sk_build(&s, &h, NULL, 0, -1, false, NULL, 0, 0, buf, sizeof buf);
    assert_int_equal(to_r2(&n, buf, len, NULL), 0);
    /* INFORMATIONAL { D(ESP, unknown SPI) }: an empty answer */
    {
        static vpn_ikev2_msg d;
        uint8_t chain[16] = {0, 0, 0, 12, VPN_IKEV2_PROTO_ESP, 4, 0, 1, 0xde, 0xad, 0xbe, 0xef};
        h.flags &= (uint8_t)~VPN_IKEV2_FLAG_R;
        h.exchange = VPN_IKEV2_INFORMATIONAL;
        (void)d;
        len = sk_build(&s, &h, NULL, 0, -1, false, chain, 12, VPN_IKEV2_PL_DELETE, buf, sizeof buf);
        assert_int_equal(to_r2(&n, buf, len, &ans), 1);
        assert_int_equal(sk_answer_notify(&s, &ans), 0);
    }
    assert_int_equal(vpn_ikev2_sa_get(n.node[1].ctx, 0, &i1), 0);
    assert_int_equal(i1.n_children, 1);
    assert_int_equal(i1.msgid_next_recv, 4);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_CHILD_DOWN), 0);
    sk_free(&s);
    tp_free(&n);
}

/* RFC 7296 1.3: a CREATE_CHILD_SA request without a Nonce (here: IKE_AUTH's
 * SA and TS payloads under the CREATE_CHILD_SA exchange), or without an
 * SA payload, is refused with INVALID_SYNTAX before any exchange looks at
 * it; the established SA and its CHILD_SA stay as they were. */
static void test_create_child_missing_payloads(void **state)
{
    tp_net n;
    sk_ctx s;
    static vpn_ikev2_msg inner;
    static uint8_t plain[70000], buf[70000];
    vpn_ikev2_hdr h;
    vpn_ikev2_sa_info i1;
    tp_dgram ans;
    size_t len;
    (void)state;

    h = established(&n, &s, &inner, plain);
    h.exchange = VPN_IKEV2_CREATE_CHILD_SA;
    h.msg_id = 2; /* no Nonce */
    len = sk_build(&s, &h, &inner, 0, -1, false, NULL, 0, 0, buf, sizeof buf);
    assert_int_equal(to_r2(&n, buf, len, &ans), 1);
    assert_int_equal(sk_answer_notify(&s, &ans), VPN_IKEV2_N_INVALID_SYNTAX);
    h.msg_id = 3; /* no Nonce, no SA */
    len = sk_build(&s, &h, &inner, VPN_IKEV2_PL_SA, -1, false, NULL, 0, 0, buf, sizeof buf);
    assert_int_equal(to_r2(&n, buf, len, &ans), 1);
    assert_int_equal(sk_answer_notify(&s, &ans), VPN_IKEV2_N_INVALID_SYNTAX);
    assert_int_equal(vpn_ikev2_sa_get(n.node[1].ctx, 0, &i1), 0);
    assert_int_equal(i1.state, VPN_IKEV2_SA_ESTABLISHED);
    assert_int_equal(i1.n_children, 1);
    assert_int_equal(i1.msgid_next_recv, 4);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_CHILD_UP), 1);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_CHILD_DOWN), 0);
    sk_free(&s);
    tp_free(&n);
}

/* An exchange type we do not know (40, unassigned in RFC 7296 3.1) on an
 * established SA: answered INVALID_SYNTAX, in the window like any request,
 * and the SA is unchanged. */
static void test_unknown_exchange_answered(void **state)
{
    tp_net n;
    sk_ctx s;
    static vpn_ikev2_msg inner;
    static uint8_t plain[70000], buf[70000];
    vpn_ikev2_hdr h;
    vpn_ikev2_sa_info i1;
    tp_dgram ans;
    size_t len;
    (void)state;

    h = established(&n, &s, &inner, plain);
    h.exchange = 40;
    h.msg_id = 2;
    len = sk_build(&s, &h, NULL, 0, -1, false, NULL, 0, 0, buf, sizeof buf);
    assert_int_equal(to_r2(&n, buf, len, &ans), 1);
    assert_int_equal(sk_answer_notify(&s, &ans), VPN_IKEV2_N_INVALID_SYNTAX);
    assert_int_equal(vpn_ikev2_sa_get(n.node[1].ctx, 0, &i1), 0);
    assert_int_equal(i1.state, VPN_IKEV2_SA_ESTABLISHED);
    assert_int_equal(i1.n_children, 1);
    assert_int_equal(i1.msgid_next_recv, 3);
    assert_int_equal(tp_count_ev(&n.node[1], VPN_IKEV2_EV_CHILD_DOWN), 0);
    sk_free(&s);
    tp_free(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_missing_payloads),
        cmocka_unit_test(test_init_oversized_and_bad_ke),
        cmocka_unit_test(test_init_truncated_and_overrun),
        cmocka_unit_test(test_init_critical_unknown),
        cmocka_unit_test(test_init_tolerated),
        cmocka_unit_test(test_init_bad_header),
        cmocka_unit_test(test_auth_missing_payloads),
        cmocka_unit_test(test_auth_malformed_inner),
        cmocka_unit_test(test_wrong_exchange_before_auth),
        cmocka_unit_test(test_auth_tampered_dropped),
        cmocka_unit_test(test_established_wrong_state),
        cmocka_unit_test(test_create_child_missing_payloads),
        cmocka_unit_test(test_unknown_exchange_answered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
