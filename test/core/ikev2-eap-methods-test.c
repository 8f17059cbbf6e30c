/*
 * EAP conversations (RFC 3748, RFC 7296 2.16) between the local
 * authenticator and the peer, in memory: MSCHAPv2, MD5-Challenge and GTC
 * with and without query-identity, wrong passwords and unknown users,
 * Nak, a server that does not know the password (bad authenticator
 * response), and hostile messages on both sides that must leave the
 * conversation exactly where it was.
 */
#include <stdlib.h>
#include <string.h>

#include "common/rng.h"
#include "common/vpn-err.h"
#include "crypto/crypto-ids.h"
#include "crypto/kdf.h"
#include "ikev2/ikev2-crypto.h"
#include "ikev2/ikev2-eap.h"
#include "test-util.h"

static const struct {
    const char *user, *pw;
} users[] = {{"alice", "Secr3t!"}, {"bob", "hunter2"}, {"CORP\\carol", "p\xc3\xa4ss"}};

static int lookups;

static int db(void *u, const char *name, char *out, size_t cap)
{
    (void)u;
    lookups++;
    for (size_t i = 0; i < sizeof users / sizeof users[0]; i++)
        if (strcmp(users[i].user, name) == 0) {
            size_t n = strlen(users[i].pw);
            if (n >= cap)
                return VPN_ERR_NOSPACE;
            memcpy(out, users[i].pw, n);
            return (int)n;
        }
    return VPN_ERR_NOTFOUND;
}

typedef struct fixture {
    vpn_drbg d1, d2;
    vpn_eap_server *s;
    vpn_eap_peer *p;
} fixture;

static void make(fixture *f, unsigned smeth, bool query, const char *ike_id, unsigned pmeth,
                 const char *user, const char *pw)
{
    memset(f, 0, sizeof *f);
    assert_int_equal(vpn_drbg_init(&f->d1, "server", 6), 0);
    assert_int_equal(vpn_drbg_init(&f->d2, "peer", 4), 0);
    vpn_eap_server_params sp = {.methods = smeth, .query_identity = query, .identity = ike_id,
                                .password = db};
    vpn_rng_init_drbg(&sp.rng, &f->d1);
    assert_int_equal(vpn_eap_server_new(&f->s, &sp), 0);
    vpn_eap_peer_params pp = {.methods = pmeth, .identity = user, .password = pw};
    vpn_rng_init_drbg(&pp.rng, &f->d2);
    assert_int_equal(vpn_eap_peer_new(&f->p, &pp), 0);
}

static void drop(fixture *f)
{
    vpn_eap_server_free(f->s);
    vpn_eap_peer_free(f->p);
    vpn_drbg_free(&f->d1);
    vpn_drbg_free(&f->d2);
}

/* Runs the conversation to its end; returns the server's result and leaves
 * the last answers of each side in *sa / *pa. */
static vpn_eap_result run(fixture *f, vpn_eap_answer *sa, vpn_eap_answer *pa, unsigned *rounds)
{
    assert_int_equal(vpn_eap_server_start(f->s, sa), 0);
    assert_int_equal(vpn_eap_server_start(f->s, sa), VPN_ERR_STATE);
    for (*rounds = 0; *rounds < 10; (*rounds)++) {
        assert_int_equal(vpn_eap_peer_process(f->p, sa->msg, sa->len, pa), 0);
        if (sa->result != VPN_EAP_CONTINUE)
            return sa->result;
        assert_int_equal(pa->result, VPN_EAP_CONTINUE);
        assert_int_equal(vpn_eap_server_process(f->s, pa->msg, pa->len, sa), 0);
    }
    fail_msg("conversation did not end");
    return VPN_EAP_FAILURE;
}

static void test_mschapv2_query_identity(void **state)
{
    (void)state;
    fixture f;
    vpn_eap_answer sa, pa;
    unsigned r;
    make(&f, VPN_EAP_M_MSCHAPV2, true, NULL, VPN_EAP_M_MSCHAPV2, "alice", "Secr3t!");
    assert_int_equal(run(&f, &sa, &pa, &r), VPN_EAP_SUCCESS);
    /* Identity, Challenge, Success-Request, Success. */
    assert_int_equal(r, 3);
    assert_int_equal(pa.result, VPN_EAP_SUCCESS);
    assert_int_equal(sa.msk_len, VPN_EAP_MSK_LEN);
    assert_int_equal(pa.msk_len, VPN_EAP_MSK_LEN);
    assert_memory_equal(sa.msk, pa.msk, VPN_EAP_MSK_LEN);
    static const uint8_t zero[32];
    assert_memory_not_equal(sa.msk, zero, 32);
    assert_memory_equal(sa.msk + 32, zero, 32);
    assert_string_equal(vpn_eap_server_identity(f.s), "alice");
    assert_int_equal(vpn_eap_server_method(f.s), VPN_EAP_T_MSCHAPV2);
    /* The conversation is over: nothing more is taken. */
    assert_int_equal(pa.len, 0);
    vpn_eap_answer x;
    assert_int_equal(vpn_eap_server_process(f.s, sa.msg, sa.len, &x), VPN_ERR_STATE);
    assert_int_equal(vpn_eap_peer_process(f.p, sa.msg, sa.len, &x), VPN_ERR_STATE);
    drop(&f);
}

static void test_mschapv2_ike_identity_and_domain(void **state)
{
    (void)state;
    fixture f;
    vpn_eap_answer sa, pa;
    unsigned r;
    /* No Identity round: the IKE IDi names the user; the domain prefix
     * stays out of ChallengeHash on both sides. */
    make(&f, VPN_EAP_M_MSCHAPV2, false, "CORP\\carol", VPN_EAP_M_MSCHAPV2, "CORP\\carol",
         "p\xc3\xa4ss");
    assert_int_equal(run(&f, &sa, &pa, &r), VPN_EAP_SUCCESS);
    assert_int_equal(r, 2);
    assert_memory_equal(sa.msk, pa.msk, VPN_EAP_MSK_LEN);
    drop(&f);
}

static void test_md5_and_gtc(void **state)
{
    (void)state;
    static const unsigned m[] = {VPN_EAP_M_MD5, VPN_EAP_M_GTC};
    for (int i = 0; i < 2; i++) {
        fixture f;
        vpn_eap_answer sa, pa;
        unsigned r;
        make(&f, m[i], true, NULL, m[i], "bob", "hunter2");
        assert_int_equal(run(&f, &sa, &pa, &r), VPN_EAP_SUCCESS);
        assert_int_equal(r, 2);
        assert_int_equal(pa.result, VPN_EAP_SUCCESS);
        /* Neither method makes a key: IKE signs with SK_pi / SK_pr. */
        assert_int_equal(sa.msk_len, 0);
        assert_int_equal(pa.msk_len, 0);
        drop(&f);
    }
}

static void test_wrong_password_and_unknown_user(void **state)
{
    (void)state;
    static const unsigned m[] = {VPN_EAP_M_MSCHAPV2, VPN_EAP_M_MD5, VPN_EAP_M_GTC};
    for (int i = 0; i < 3; i++)
        for (int unknown = 0; unknown < 2; unknown++) {
            fixture f;
            vpn_eap_answer sa, pa;
            unsigned r;
            make(&f, m[i], true, NULL, m[i], unknown ? "mallory" : "alice",
                 unknown ? "Secr3t!" : "Secr3t?");
            lookups = 0;
            assert_int_equal(run(&f, &sa, &pa, &r), VPN_EAP_FAILURE);
            assert_int_equal(lookups, 1);
            assert_int_equal(pa.result, VPN_EAP_FAILURE);
            assert_int_equal(sa.msk_len, 0);
            assert_int_equal(pa.msk_len, 0);
            assert_int_equal(sa.len, 4);
            assert_int_equal(sa.msg[0], 4); /* EAP-Failure */
            drop(&f);
        }
}

static void test_nak(void **state)
{
    (void)state;
    fixture f;
    vpn_eap_answer sa, pa;
    unsigned r;
    /* The server offers MSCHAPv2, the peer only does MD5: one Nak, then MD5. */
    make(&f, VPN_EAP_M_MSCHAPV2 | VPN_EAP_M_MD5, true, NULL, VPN_EAP_M_MD5, "bob", "hunter2");
    assert_int_equal(run(&f, &sa, &pa, &r), VPN_EAP_SUCCESS);
    assert_int_equal(r, 3);
    assert_int_equal(vpn_eap_server_method(f.s), VPN_EAP_T_MD5);
    drop(&f);
    /* Nothing in common: refused. */
    make(&f, VPN_EAP_M_MSCHAPV2, true, NULL, VPN_EAP_M_GTC, "bob", "hunter2");
    assert_int_equal(run(&f, &sa, &pa, &r), VPN_EAP_FAILURE);
    drop(&f);
}

static void test_peer_checks_authenticator(void **state)
{
    (void)state;
    fixture f;
    vpn_eap_answer sa, pa, x;
    make(&f, VPN_EAP_M_MSCHAPV2, false, "alice", VPN_EAP_M_MSCHAPV2, "alice", "Secr3t!");
    assert_int_equal(vpn_eap_server_start(f.s, &sa), 0);
    assert_int_equal(vpn_eap_peer_process(f.p, sa.msg, sa.len, &pa), 0);
    /* Before the method ends, a Success is not believed. */
    uint8_t succ[4] = {3, sa.msg[1], 0, 4};
    assert_int_equal(vpn_eap_peer_process(f.p, succ, 4, &x), VPN_ERR_STATE);
    assert_int_equal(vpn_eap_server_process(f.s, pa.msg, pa.len, &sa), 0);
    /* "S=" + 40 hex digits start at offset 9 of the Success Request. */
    vpn_eap_answer bad = sa;
    assert_int_equal(bad.msg[9], 'S');
    bad.msg[20] = bad.msg[20] == '0' ? '1' : '0';
    assert_int_equal(vpn_eap_peer_process(f.p, bad.msg, bad.len, &x), VPN_ERR_AUTH);
    bad = sa;
    bad.len = 20; /* cut inside the authenticator response */
    bad.msg[3] = 20;
    bad.msg[7] = 16;
    assert_int_equal(vpn_eap_peer_process(f.p, bad.msg, bad.len, &x), VPN_ERR_MALFORMED);
    /* The genuine one still completes. */
    assert_int_equal(vpn_eap_peer_process(f.p, sa.msg, sa.len, &pa), 0);
    assert_int_equal(vpn_eap_server_process(f.s, pa.msg, pa.len, &sa), 0);
    assert_int_equal(sa.result, VPN_EAP_SUCCESS);
    assert_int_equal(vpn_eap_peer_process(f.p, sa.msg, sa.len, &pa), 0);
    assert_int_equal(pa.result, VPN_EAP_SUCCESS);
    assert_memory_equal(sa.msk, pa.msk, VPN_EAP_MSK_LEN);
    drop(&f);
}

/* Each mutation of a good Response is refused and the good one still works. */
static void hostile_server(const vpn_eap_answer *good_in, vpn_eap_server *s)
{
    vpn_eap_answer x;
    uint8_t m[VPN_EAP_MSG_MAX + 8];
    size_t n = good_in->len;
    memcpy(m, good_in->msg, n);
    /* Truncated at every length (Length no longer matches). */
    for (size_t k = 0; k < n; k++)
        assert_true(vpn_eap_server_process(s, m, k, &x) < 0);
    /* Length field off by one either way. */
    m[3] = (uint8_t)(n + 1);
    assert_int_equal(vpn_eap_server_process(s, m, n, &x), VPN_ERR_TRUNCATED);
    m[3] = (uint8_t)(n - 1);
    assert_int_equal(vpn_eap_server_process(s, m, n, &x), VPN_ERR_MALFORMED);
    m[3] = (uint8_t)n;
    /* Wrong Identifier, wrong codes, reserved type. */
    m[1]++;
    assert_int_equal(vpn_eap_server_process(s, m, n, &x), VPN_ERR_STATE);
    m[1]--;
    m[0] = 1;
    assert_int_equal(vpn_eap_server_process(s, m, n, &x), VPN_ERR_STATE);
    m[0] = 5;
    assert_int_equal(vpn_eap_server_process(s, m, n, &x), VPN_ERR_UNSUPPORTED);
    m[0] = 3;
    assert_int_equal(vpn_eap_server_process(s, m, n, &x), VPN_ERR_MALFORMED);
    m[0] = 2;
    uint8_t t = m[4];
    m[4] = 254;
    assert_int_equal(vpn_eap_server_process(s, m, n, &x), VPN_ERR_UNSUPPORTED);
    m[4] = VPN_EAP_T_NOTIFICATION;
    assert_int_equal(vpn_eap_server_process(s, m, n, &x), VPN_ERR_MALFORMED);
    m[4] = t;
    assert_int_equal(vpn_eap_server_process(s, NULL, 0, &x), VPN_ERR_TRUNCATED);
}

static void test_hostile_responses(void **state)
{
    (void)state;
    fixture f;
    vpn_eap_answer sa, pa, x;
    make(&f, VPN_EAP_M_MSCHAPV2, true, NULL, VPN_EAP_M_MSCHAPV2, "alice", "Secr3t!");
    assert_int_equal(vpn_eap_server_start(f.s, &sa), 0);
    /* Identity round. */
    assert_int_equal(vpn_eap_peer_process(f.p, sa.msg, sa.len, &pa), 0);
    hostile_server(&pa, f.s);
    {
        /* An empty identity and one with a NUL are refused. */
        uint8_t e[5] = {2, pa.msg[1], 0, 5, 1};
        assert_int_equal(vpn_eap_server_process(f.s, e, 5, &x), VPN_ERR_MALFORMED);
        uint8_t z[7] = {2, pa.msg[1], 0, 7, 1, 'a', 0};
        assert_int_equal(vpn_eap_server_process(f.s, z, 7, &x), VPN_ERR_MALFORMED);
    }
    assert_int_equal(vpn_eap_server_process(f.s, pa.msg, pa.len, &sa), 0);
    /* MSCHAPv2 Response round. */
    assert_int_equal(vpn_eap_peer_process(f.p, sa.msg, sa.len, &pa), 0);
    hostile_server(&pa, f.s);
    {
        vpn_eap_answer b = pa;
        b.msg[8]++; /* MS-Length */
        assert_int_equal(vpn_eap_server_process(f.s, b.msg, b.len, &x), VPN_ERR_MALFORMED);
        b = pa;
        b.msg[9] = 48; /* Value-Size */
        assert_int_equal(vpn_eap_server_process(f.s, b.msg, b.len, &x), VPN_ERR_MALFORMED);
        b = pa;
        b.msg[6]++; /* MS-CHAPv2-ID */
        assert_int_equal(vpn_eap_server_process(f.s, b.msg, b.len, &x), VPN_ERR_MALFORMED);
        b = pa;
        b.msg[5] = 1; /* a Challenge OpCode in a Response */
        assert_int_equal(vpn_eap_server_process(f.s, b.msg, b.len, &x), VPN_ERR_MALFORMED);
    }
    lookups = 0;
    assert_int_equal(vpn_eap_server_process(f.s, pa.msg, pa.len, &sa), 0);
    assert_int_equal(lookups, 1);
    assert_int_equal(sa.result, VPN_EAP_CONTINUE);
    /* Success acknowledgement round. */
    assert_int_equal(vpn_eap_peer_process(f.p, sa.msg, sa.len, &pa), 0);
    hostile_server(&pa, f.s);
    assert_int_equal(vpn_eap_server_process(f.s, pa.msg, pa.len, &sa), 0);
    assert_int_equal(sa.result, VPN_EAP_SUCCESS);
    drop(&f);
}

static void test_hostile_requests(void **state)
{
    (void)state;
    fixture f;
    vpn_eap_answer sa, pa, x;
    make(&f, VPN_EAP_M_MSCHAPV2, false, "alice", VPN_EAP_M_MSCHAPV2 | VPN_EAP_M_MD5, "alice",
         "Secr3t!");
    assert_int_equal(vpn_eap_server_start(f.s, &sa), 0);
    uint8_t m[VPN_EAP_MSG_MAX];
    size_t n = sa.len;
    memcpy(m, sa.msg, n);
    for (size_t k = 0; k < n; k++)
        assert_true(vpn_eap_peer_process(f.p, m, k, &x) < 0);
    m[0] = 2; /* a Response to the peer */
    assert_int_equal(vpn_eap_peer_process(f.p, m, n, &x), VPN_ERR_STATE);
    m[0] = 1;
    m[8]--; /* MS-Length */
    assert_int_equal(vpn_eap_peer_process(f.p, m, n, &x), VPN_ERR_MALFORMED);
    m[8]++;
    m[9] = 8; /* Value-Size */
    assert_int_equal(vpn_eap_peer_process(f.p, m, n, &x), VPN_ERR_MALFORMED);
    m[9] = 16;
    m[5] = 9; /* unknown OpCode */
    assert_int_equal(vpn_eap_peer_process(f.p, m, n, &x), VPN_ERR_MALFORMED);
    m[5] = 3; /* Success before any Response */
    assert_int_equal(vpn_eap_peer_process(f.p, m, n, &x), VPN_ERR_STATE);
    m[5] = 1;
    /* MD5 with a Value-Size beyond the data, and zero. */
    uint8_t md5[8] = {1, 9, 0, 8, VPN_EAP_T_MD5, 16, 1, 2};
    assert_int_equal(vpn_eap_peer_process(f.p, md5, 8, &x), VPN_ERR_MALFORMED);
    md5[5] = 0;
    assert_int_equal(vpn_eap_peer_process(f.p, md5, 8, &x), VPN_ERR_MALFORMED);
    uint8_t nak[6] = {1, 9, 0, 6, VPN_EAP_T_NAK, 4};
    assert_int_equal(vpn_eap_peer_process(f.p, nak, 6, &x), VPN_ERR_MALFORMED);
    /* An unaccepted method is Nak'ed with what we do, nothing more. */
    uint8_t gtc[5] = {1, 9, 0, 5, VPN_EAP_T_GTC};
    assert_int_equal(vpn_eap_peer_process(f.p, gtc, 5, &x), 0);
    assert_int_equal(x.len, 7);
    assert_int_equal(x.msg[4], VPN_EAP_T_NAK);
    assert_int_equal(x.msg[5], VPN_EAP_T_MSCHAPV2);
    assert_int_equal(x.msg[6], VPN_EAP_T_MD5);
    /* The genuine exchange still completes. */
    assert_int_equal(vpn_eap_peer_process(f.p, sa.msg, sa.len, &pa), 0);
    assert_int_equal(vpn_eap_server_process(f.s, pa.msg, pa.len, &sa), 0);
    assert_int_equal(vpn_eap_peer_process(f.p, sa.msg, sa.len, &pa), 0);
    assert_int_equal(vpn_eap_server_process(f.s, pa.msg, pa.len, &sa), 0);
    assert_int_equal(vpn_eap_peer_process(f.p, sa.msg, sa.len, &pa), 0);
    assert_int_equal(pa.result, VPN_EAP_SUCCESS);
    assert_memory_equal(sa.msk, pa.msk, VPN_EAP_MSK_LEN);
    drop(&f);
}

/*
 * RFC 7296 2.16: after EAP, both AUTH payloads use the MSK as the shared
 * key of 2.15: prf(prf(MSK, "Key Pad for IKEv2"), SignedOctets). The MSK
 * holds zero octets (its padding, and maybe inside the keys), so it must
 * go in as a counted key, never a C string. Both sides' MSKs give the
 * same AUTH for every PRF; a wrong password gives no MSK at all, and a
 * different MSK (another conversation) a different AUTH.
 */
static void auth_with(const uint8_t *msk, size_t msk_len, uint16_t prf, uint8_t *out, size_t *len)
{
    static const uint8_t real1[] = "IKE_SA_INIT request octets", nr[32] = {7}, idb[] = {3, 0, 0, 0, 'a'};
    vpn_key skp;
    memset(&skp, 0, sizeof skp);
    skp.len = 32;
    memset(skp.b, 0x5c, skp.len);
    vpn_iov k = {msk, msk_len}, m = {real1, sizeof real1}, n = {nr, sizeof nr}, b = {idb, sizeof idb};
    assert_int_equal(vpn_ikev2_auth_psk(prf, k, m, n, &skp, b, out, 64, len), 0);
}

static void test_msk_feeds_auth(void **state)
{
    (void)state;
    static const uint16_t prfs[] = {VPN_PRF_HMAC_SHA1, VPN_PRF_HMAC_SHA2_256, VPN_PRF_HMAC_SHA2_384,
                                    VPN_PRF_HMAC_SHA2_512};
    fixture f;
    vpn_eap_answer sa, pa;
    unsigned r;
    make(&f, VPN_EAP_M_MSCHAPV2, true, NULL, VPN_EAP_M_MSCHAPV2, "alice", "Secr3t!");
    assert_int_equal(run(&f, &sa, &pa, &r), VPN_EAP_SUCCESS);
    drop(&f);
    /* A second conversation: fresh challenges, another MSK. */
    vpn_eap_answer sa2, pa2;
    make(&f, VPN_EAP_M_MSCHAPV2, true, NULL, VPN_EAP_M_MSCHAPV2, "alice", "Secr3t!");
    vpn_drbg_free(&f.d1);
    assert_int_equal(vpn_drbg_init(&f.d1, "server2", 7), 0);
    assert_int_equal(run(&f, &sa2, &pa2, &r), VPN_EAP_SUCCESS);
    drop(&f);
    assert_memory_not_equal(sa.msk, sa2.msk, 32);
    for (size_t i = 0; i < sizeof prfs / sizeof prfs[0]; i++) {
        uint8_t a1[64], a2[64], a3[64];
        size_t l1, l2, l3;
        auth_with(sa.msk, sa.msk_len, prfs[i], a1, &l1);
        auth_with(pa.msk, pa.msk_len, prfs[i], a2, &l2);
        auth_with(sa2.msk, sa2.msk_len, prfs[i], a3, &l3);
        assert_int_equal(l1, l2);
        assert_memory_equal(a1, a2, l1);
        assert_memory_not_equal(a1, a3, l1);
        /* Cut at the first zero octet (what strlen would do) it differs. */
        size_t z = 0;
        while (z < sa.msk_len && sa.msk[z] != 0)
            z++;
        assert_true(z < sa.msk_len);
        if (z < 32) {
            auth_with(sa.msk, z, prfs[i], a3, &l3);
            assert_memory_not_equal(a1, a3, l1);
        }
    }
    vpn_eap_answer_wipe(&sa);
    assert_int_equal(sa.msk_len, 0);
}

static void test_params(void **state)
{
    (void)state;
    vpn_eap_server *s = NULL;
    vpn_eap_peer *p = NULL;
    vpn_eap_server_params sp = {.methods = VPN_EAP_M_MD5, .password = db};
    assert_int_equal(vpn_eap_server_new(&s, &sp), VPN_ERR_INVAL); /* no identity, no query */
    sp.query_identity = true;
    sp.methods = 0;
    assert_int_equal(vpn_eap_server_new(&s, &sp), VPN_ERR_INVAL);
    sp.methods = VPN_EAP_M_MD5;
    sp.password = NULL;
    assert_int_equal(vpn_eap_server_new(&s, &sp), VPN_ERR_INVAL);
    vpn_eap_peer_params pp = {.methods = VPN_EAP_M_MD5, .identity = "a", .password = NULL};
    assert_int_equal(vpn_eap_peer_new(&p, &pp), VPN_ERR_INVAL);
    assert_null(s);
    assert_null(p);
}

/* ---- injected failures: the RNG and the allocation gate ------------------ */

typedef struct inject {
    vpn_rng inner;
    unsigned calls, fail_at, failed;
} inject;

static int fail_fill(void *ctx, uint8_t *out, size_t len)
{
    inject *j = ctx;
    if (++j->calls == j->fail_at) {
        j->failed++;
        return VPN_ERR_CRYPTO;
    }
    return vpn_rng_bytes(&j->inner, out, len);
}

/* One MSCHAPv2 conversation (query-identity) with the k-th RNG draw of
 * either side failing: the call that hit it returns the RNG's error and
 * leaves the conversation where it was, so the same call again goes on;
 * it ends in success with the same MSK on both sides. Returns the draws. */
static unsigned eap_rng_run(unsigned k)
{
    vpn_drbg d1, d2;
    inject j;
    vpn_eap_server *s;
    vpn_eap_peer *p;
    vpn_eap_answer sa, pa;
    unsigned errors = 0;
    int rc;

    memset(&j, 0, sizeof j);
    j.fail_at = k;
    assert_int_equal(vpn_drbg_init(&d1, "server", 6), 0);
    assert_int_equal(vpn_drbg_init(&d2, "peer", 4), 0);
    vpn_rng_init_drbg(&j.inner, &d1);
    vpn_eap_server_params sp = {.methods = VPN_EAP_M_MSCHAPV2, .query_identity = true, .password = db};
    sp.rng.fill = fail_fill;
    sp.rng.ctx = &j;
    assert_int_equal(vpn_eap_server_new(&s, &sp), 0);
    /* the peer's draws go through the same counter (its own DRBG behind) */
    inject jp;
    memset(&jp, 0, sizeof jp);
    vpn_rng_init_drbg(&jp.inner, &d2);
    vpn_eap_peer_params pp = {.methods = VPN_EAP_M_MSCHAPV2, .identity = "alice", .password = "Secr3t!"};
    pp.rng.fill = fail_fill;
    pp.rng.ctx = &jp;
    assert_int_equal(vpn_eap_peer_new(&p, &pp), 0);
    jp.fail_at = k > 100 ? k - 100 : 0; /* k > 100: the peer's (k - 100)-th */
    if (k > 100)
        j.fail_at = 0;

    while ((rc = vpn_eap_server_start(s, &sa)) != 0) {
        assert_int_equal(rc, VPN_ERR_CRYPTO);
        errors++;
    }
    for (unsigned round = 0; sa.result == VPN_EAP_CONTINUE; round++) {
        assert_true(round < 10);
        while ((rc = vpn_eap_peer_process(p, sa.msg, sa.len, &pa)) != 0) {
            assert_int_equal(rc, VPN_ERR_CRYPTO);
            errors++;
        }
        assert_int_equal(pa.result, VPN_EAP_CONTINUE);
        while ((rc = vpn_eap_server_process(s, pa.msg, pa.len, &sa)) != 0) {
            assert_int_equal(rc, VPN_ERR_CRYPTO);
            errors++;
        }
    }
    assert_int_equal(sa.result, VPN_EAP_SUCCESS);
    assert_int_equal(vpn_eap_peer_process(p, sa.msg, sa.len, &pa), 0);
    assert_int_equal(pa.result, VPN_EAP_SUCCESS);
    assert_int_equal(sa.msk_len, VPN_EAP_MSK_LEN);
    assert_memory_equal(sa.msk, pa.msk, VPN_EAP_MSK_LEN);
    assert_int_equal(errors, j.failed + jp.failed);
    vpn_eap_answer_wipe(&sa);
    vpn_eap_answer_wipe(&pa);
    vpn_eap_server_free(s);
    vpn_eap_peer_free(p);
    vpn_drbg_free(&d1);
    vpn_drbg_free(&d2);
    return k > 100 ? jp.calls : j.calls;
}

static void test_rng_sweep(void **state)
{
    (void)state;
    unsigned server = eap_rng_run(0), peer;

    assert_true(server >= 2); /* the Identifier and the authenticator challenge */
    for (unsigned k = 1; k <= server; k++)
        eap_rng_run(k);
    peer = eap_rng_run(100); /* nothing fails: counts the peer's draws */
    assert_true(peer >= 1);  /* the peer challenge */
    for (unsigned k = 101; k <= 100 + peer; k++)
        eap_rng_run(k);
}

static bool refuse_all(void *user, size_t size)
{
    (void)size;
    ++*(unsigned *)user;
    return false;
}

/* Both objects ask the gate; refused, they return VPN_ERR_NOMEM and
 * nothing (the ASan twin checks nothing leaks). */
static void test_alloc_refused(void **state)
{
    (void)state;
    unsigned asked = 0;
    vpn_eap_server *s = NULL;
    vpn_eap_peer *p = NULL;
    vpn_drbg d;

    assert_int_equal(vpn_drbg_init(&d, "gate", 4), 0);
    vpn_eap_server_params sp = {.methods = VPN_EAP_M_MSCHAPV2, .query_identity = true, .password = db};
    vpn_rng_init_drbg(&sp.rng, &d);
    sp.alloc.allow = refuse_all;
    sp.alloc.user = &asked;
    assert_int_equal(vpn_eap_server_new(&s, &sp), VPN_ERR_NOMEM);
    assert_int_equal(asked, 1);
    vpn_eap_peer_params pp = {.methods = VPN_EAP_M_MSCHAPV2, .identity = "alice", .password = "x"};
    vpn_rng_init_drbg(&pp.rng, &d);
    pp.alloc = sp.alloc;
    assert_int_equal(vpn_eap_peer_new(&p, &pp), VPN_ERR_NOMEM);
    assert_int_equal(asked, 2);
    assert_null(s);
    assert_null(p);
    vpn_drbg_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mschapv2_query_identity),
        cmocka_unit_test(test_mschapv2_ike_identity_and_domain),
        cmocka_unit_test(test_md5_and_gtc),
        cmocka_unit_test(test_wrong_password_and_unknown_user),
        cmocka_unit_test(test_nak),
        cmocka_unit_test(test_peer_checks_authenticator),
        cmocka_unit_test(test_hostile_responses),
        cmocka_unit_test(test_hostile_requests),
        cmocka_unit_test(test_msk_feeds_auth),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_rng_sweep),
        cmocka_unit_test(test_alloc_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
