/*
 * IKE_AUTH authentication methods, two engines in memory with a counter
 * clock: RFC 4754 ECDSA (methods 9, 10, 11, with a peer from before RFC
 * 7427), RFC 7427 Digital Signature (14) with every ECDSA curve and the
 * hash it must carry, RFC 7296 RSA with SHA-1 (1) from a legacy peer,
 * asymmetric authentication (PSK one way, a signature the other), and
 * identities of every type backed by certificates (RFC 4945 3.1).
 */
#define _GNU_SOURCE /* memmem */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/wire.h"
#include "ikev2/ikev2-codec.h"
#include "ikev2/ikev2-crypto.h"
#include "ikev2-pair.h"
#include "ikev2-pki.h"

#define T0 ((time_t)1700000000) /* certificates are valid around this time */
#define DAY ((time_t)86400)

enum { K_P256, K_P384, K_P521, K_RSA, K_N, K_NONE = -1 };

typedef struct keyed_cert {
    EVP_PKEY *k;
    X509 *x;
    vpn_x509 *c;
    vpn_sig_key *s;
} keyed_cert;

static struct {
    EVP_PKEY *ca_k;
    X509 *ca_x;
    vpn_x509 *ca;
    keyed_cert r1[K_N], r2[K_N];
} P;

static EVP_PKEY *new_key(int kind)
{
    static const char *const curves[] = {"P-256", "P-384", "P-521"};
    EVP_PKEY *k = kind == K_RSA ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)
                                : EVP_PKEY_Q_keygen(NULL, NULL, "EC", curves[kind]);
    assert_non_null(k);
    return k;
}

static void make_keyed(keyed_cert *kc, int kind, const char *cn, const char *san, long serial)
{
    cert_spec s = {cn, false, T0 - DAY, T0 + 365 * DAY, san, serial};
    kc->k = new_key(kind);
    kc->x = make_cert(&s, kc->k, P.ca_x, P.ca_k);
    kc->c = to_vpn(kc->x);
    kc->s = key_of(kc->k);
}

static void free_keyed(keyed_cert *kc)
{
    vpn_x509_del(kc->c);
    X509_free(kc->x);
    EVP_PKEY_free(kc->k);
    vpn_sig_key_del(kc->s);
}

/* An ECDSA P-256 CA keeps the certificates small: IKE_AUTH even with an
 * RSA-2048 end entity fits one datagram (no RFC 7383 fragments), so the
 * tests can read and rewrite it. */
static int pki_setup(void **state)
{
    cert_spec ca = {"Lab Root CA", true, T0 - DAY, T0 + 3650 * DAY, NULL, 1};
    (void)state;
    P.ca_k = new_key(K_P256);
    P.ca_x = make_cert(&ca, P.ca_k, NULL, NULL);
    P.ca = to_vpn(P.ca_x);
    for (int i = 0; i < K_N; i++) {
        make_keyed(&P.r1[i], i, "r1.example.net",
                   "DNS:r1.example.net,IP:192.0.2.1,IP:2001:db8::1,email:noc@r1.example.net", 10 + i);
        make_keyed(&P.r2[i], i, "r2.example.net",
                   "DNS:r2.example.net,IP:192.0.2.2,IP:2001:db8::2,email:noc@r2.example.net", 20 + i);
    }
    return 0;
}

static int pki_teardown(void **state)
{
    (void)state;
    for (int i = 0; i < K_N; i++) {
        free_keyed(&P.r1[i]);
        free_keyed(&P.r2[i]);
    }
    vpn_x509_del(P.ca);
    X509_free(P.ca_x);
    EVP_PKEY_free(P.ca_k);
    return 0;
}

/* One router: how it authenticates itself and its peer, its identity, the
 * peer identity its profile matches, its certificate. */
typedef struct side {
    const char *auth_local, *auth_remote; /* "ecdsa-sig", "rsa-sig", "pre-share" */
    const char *identity;                 /* `identity local ...`, NULL: the address */
    const char *match;                    /* `match identity remote ...` */
    int key;                              /* K_*, K_NONE: no certificate */
    bool no_rfc7427;                      /* a peer from before RFC 7427 */
} side;

static char *side_conf(const char *host, const char *peer_addr, const side *s, const char *psk_local,
                       const char *psk_remote)
{
    char *b = malloc(4096), idl[160] = "";
    assert_non_null(b);
    if (s->identity)
        snprintf(idl, sizeof idl, " identity local %s\n", s->identity);
    snprintf(b, 4096,
             "hostname %s\n"
             "crypto ikev2 proposal P1\n encryption aes-cbc-256\n integrity sha256\n group 19\n"
             "crypto ikev2 policy POL1\n proposal P1\n"
             "crypto ikev2 keyring KR\n peer PEER\n  address %s\n"
             "  pre-shared-key local %s\n  pre-shared-key remote %s\n"
             "crypto ikev2 profile PROF\n"
             " match identity remote %s\n"
             "%s"
             " authentication local %s\n"
             " authentication remote %s\n"
             " keyring local KR\n"
             " pki trustpoint LAB\n"
             "crypto ipsec transform-set TS esp-gcm 256\n"
             "crypto ipsec profile IPP\n set transform-set TS\n set ikev2-profile PROF\n",
             host, peer_addr, psk_local, psk_remote, s->match, idl, s->auth_local, s->auth_remote);
    return b;
}

typedef struct addrs {
    const char *r1, *r2;
} addrs;

static const addrs V4 = {"192.0.2.1", "192.0.2.2"};
static const addrs V6 = {"2001:db8::1", "2001:db8::2"};

/* Both routers trust the lab CA and hold the certificate of their side. */
static void pair(tp_net *n, const side *a, const side *b, const addrs *ad)
{
    char *ta = side_conf("R1", ad->r2, a, "from-r1", "from-r2");
    char *tb = side_conf("R2", ad->r1, b, "from-r2", "from-r1");

    tp_init(n);
    n->unix_time_offset_s = (int64_t)T0;
    n->no_rfc7427 = a->no_rfc7427;
    tp_add(n, ta, ad->r1, "R1");
    n->no_rfc7427 = b->no_rfc7427;
    tp_add(n, tb, ad->r2, "R2");
    free(ta);
    free(tb);
    assert_int_equal(vpn_ikev2_trustpoint_add_ca(n->node[0].ctx, "LAB", P.ca), 0);
    assert_int_equal(vpn_ikev2_trustpoint_add_ca(n->node[1].ctx, "LAB", P.ca), 0);
    if (a->key != K_NONE)
        assert_int_equal(
            vpn_ikev2_trustpoint_set_cert(n->node[0].ctx, "LAB", P.r1[a->key].c, P.r1[a->key].s, NULL, 0), 0);
    if (b->key != K_NONE)
        assert_int_equal(
            vpn_ikev2_trustpoint_set_cert(n->node[1].ctx, "LAB", P.r2[b->key].c, P.r2[b->key].s, NULL, 0), 0);
}

static void start(tp_net *n, const addrs *ad)
{
    char l[64], r[64];
    vpn_ikev2_policy p;
    snprintf(l, sizeof l, "%s/%d", ad->r1, ad == &V6 ? 128 : 32);
    snprintf(r, sizeof r, "%s/%d", ad->r2, ad == &V6 ? 128 : 32);
    p = ts_policy(l, r, 47, 1);
    initiate(n, &p);
}

/* Both sides up with one CHILD_SA; R1 authenticated with method am, R2
 * with bm (as each sees it). */
static void assert_up(tp_net *n, uint8_t am, uint8_t bm)
{
    vpn_ikev2_sa_info ia, ib;
    int ea = tp_find_ev(&n->node[0], VPN_IKEV2_EV_CHILD_UP, 0), eb = tp_find_ev(&n->node[1], VPN_IKEV2_EV_CHILD_UP, 0);
    if (ea < 0 || eb < 0)
        fail_msg("no CHILD_SA (R1 log: %s / R2 log: %s)", n->node[0].log.last, n->node[1].log.last);
    tp_assert_child_pair(&n->node[0].ev[ea], &n->node[1].ev[eb]);
    assert_int_equal(vpn_ikev2_sa_count(n->node[0].ctx), 1);
    assert_int_equal(vpn_ikev2_sa_count(n->node[1].ctx), 1);
    assert_int_equal(vpn_ikev2_sa_get(n->node[0].ctx, 0, &ia), 0);
    assert_int_equal(vpn_ikev2_sa_get(n->node[1].ctx, 0, &ib), 0);
    assert_int_equal(ia.auth_local, am);
    assert_int_equal(ib.auth_remote, am);
    assert_int_equal(ib.auth_local, bm);
    assert_int_equal(ia.auth_remote, bm);
}

static void handshake(tp_net *n, const side *a, const side *b, const addrs *ad)
{
    pair(n, a, b, ad);
    start(n, ad);
    tp_run_for(n, 1);
}

/* Neither side keeps an IKE SA or a CHILD_SA (RFC 7296 2.21.2). */
static void assert_nothing_left(tp_net *n)
{
    tp_run_for(n, 100);
    assert_int_equal(tp_count_ev(&n->node[0], VPN_IKEV2_EV_CHILD_UP), 0);
    assert_int_equal(tp_count_ev(&n->node[1], VPN_IKEV2_EV_CHILD_UP),
                     tp_count_ev(&n->node[1], VPN_IKEV2_EV_CHILD_DOWN));
    assert_int_equal(vpn_ikev2_sa_count(n->node[0].ctx), 0);
    assert_int_equal(vpn_ikev2_sa_count(n->node[1].ctx), 0);
}

/* ---- reading IKE_AUTH on the wire ----------------------------------------------------------- */

/* The n-th delivered datagram of an exchange, from node `from`. */
static const tp_dgram *logged(const tp_net *n, uint8_t exchange, int from, int k)
{
    for (size_t i = 0; i < n->n_log; i++)
        if (tp_exchange(n->log[i]) == exchange && n->log[i]->from == from && k-- == 0)
            return n->log[i];
    return NULL;
}

/* Decrypts an (unfragmented) IKE_AUTH message sent by node `from` with
 * R1's IKE SA keys; inner gets its payloads (views into plain). */
static void read_auth_msg(tp_net *n, const tp_dgram *d, int from, vpn_ikev2_msg *inner, uint8_t *plain)
{
    static vpn_ikev2_msg m;
    vpn_ikev2_sa_info i;
    vpn_ikev2_sa_keys k;
    vpn_ikev2_crypto c;
    vpn_ikev2_sk_region r;
    const vpn_ikev2_payload *sk;
    size_t l;

    assert_non_null(d);
    assert_int_equal(vpn_ikev2_sa_get(n->node[0].ctx, 0, &i), 0);
    assert_int_equal(vpn_ikev2_sa_keys_get(n->node[0].ctx, i.id, &k), 0);
    /* the keys of the side that did not send it read it */
    assert_int_equal(vpn_ikev2_crypto_init_keys(&c, &k.suite, &k.keys, from != 0), 0);
    assert_int_equal(vpn_ikev2_msg_parse(d->data, d->len, &m), 0);
    sk = vpn_ikev2_msg_find(&m, VPN_IKEV2_PL_SK, NULL);
    if (sk == NULL)
        fail_msg("IKE_AUTH went out in fragments: this test needs it whole");
    assert_int_equal(vpn_ikev2_sk_split(&m, sk, vpn_ikev2_sk_iv_len(&c), vpn_ikev2_sk_icv_len(&c),
                                        vpn_ikev2_sk_block_len(&c), &r),
                     0);
    assert_int_equal(vpn_ikev2_sk_decrypt(&c, d->data, r.iv_off, r.ct_off, r.ct_len, r.icv_off, plain), 0);
    assert_int_equal(vpn_ikev2_sk_unpad(plain, r.ct_len, &l), 0);
    assert_int_equal(vpn_ikev2_msg_parse_inner(plain, l, sk->u.sk.first, inner), 0);
    inner->hdr = m.hdr;
    vpn_ikev2_crypto_free(&c);
    vpn_ikev2_keys_wipe(&k.keys);
}

/* DER of the OIDs ecdsa-with-SHA256/384/512 (RFC 5758 3.2). */
static const uint8_t oid_ecdsa_sha256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
static const uint8_t oid_ecdsa_sha384[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03};
static const uint8_t oid_ecdsa_sha512[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04};

/* The AUTH payload node `from` sent in IKE_AUTH: its method and, for
 * method 14, whether its AlgorithmIdentifier names oid. */
static void check_auth_on_wire(tp_net *n, int from, uint8_t method, const uint8_t *oid, size_t oid_len,
                               size_t sig_len)
{
    static vpn_ikev2_msg inner;
    static uint8_t plain[70000];
    const vpn_ikev2_payload *au;

    read_auth_msg(n, logged(n, VPN_IKEV2_IKE_AUTH, from, 0), from, &inner, plain);
    au = vpn_ikev2_msg_find(&inner, VPN_IKEV2_PL_AUTH, NULL);
    assert_non_null(au);
    assert_int_equal(au->u.auth.method, method);
    if (method == VPN_AUTH_METHOD_DIGITAL_SIG) {
        assert_non_null(oid);
        assert_true(au->u.auth.alg_id.len >= oid_len);
        assert_true(memmem(au->u.auth.alg_id.ptr, au->u.auth.alg_id.len, oid, oid_len) != NULL);
    } else if (sig_len) {
        /* RFC 4754 7: r | s, each as long as the curve's field */
        assert_int_equal(au->u.auth.data.len, sig_len);
    }
}

/* ---- RFC 4754: ECDSA methods 9, 10 and 11 ------------------------------------------------------ */

static side ecdsa_side(int key, const char *match)
{
    side s = {"ecdsa-sig", "ecdsa-sig", "fqdn r1.example.net", match, key, false};
    return s;
}

/* Both routers from before RFC 7427: no SIGNATURE_HASH_ALGORITHMS, so
 * each signs with the RFC 4754 method of its curve, and verifies the
 * other's. */
static void rfc4754_case(int key, uint8_t method, size_t sig_len)
{
    tp_net n;
    side a = ecdsa_side(key, "fqdn r2.example.net"), b = ecdsa_side(key, "fqdn r1.example.net");

    b.identity = "fqdn r2.example.net";
    a.no_rfc7427 = b.no_rfc7427 = true;
    handshake(&n, &a, &b, &V4);
    assert_up(&n, method, method);
    check_auth_on_wire(&n, 0, method, NULL, 0, sig_len);
    check_auth_on_wire(&n, 1, method, NULL, 0, sig_len);
    tp_free(&n);
}

static void test_rfc4754_p256_sha256(void **state)
{
    (void)state;
    rfc4754_case(K_P256, VPN_AUTH_METHOD_ECDSA_256, 64);
}

static void test_rfc4754_p384_sha384(void **state)
{
    (void)state;
    rfc4754_case(K_P384, VPN_AUTH_METHOD_ECDSA_384, 96);
}

static void test_rfc4754_p521_sha512(void **state)
{
    (void)state;
    rfc4754_case(K_P521, VPN_AUTH_METHOD_ECDSA_521, 132);
}

/* Only R2 is from before RFC 7427: R1 (which has it) must then sign with
 * RFC 4754 too, here on P-384 (10), while R2's P-521 key gives 11: each
 * verifies a method other than its own. */
static void test_rfc4754_mixed_curves_one_legacy_peer(void **state)
{
    tp_net n;
    side a = ecdsa_side(K_P384, "fqdn r2.example.net"), b = ecdsa_side(K_P521, "fqdn r1.example.net");
    (void)state;

    b.identity = "fqdn r2.example.net";
    b.no_rfc7427 = true;
    handshake(&n, &a, &b, &V4);
    assert_up(&n, VPN_AUTH_METHOD_ECDSA_384, VPN_AUTH_METHOD_ECDSA_521);
    tp_free(&n);
}

/* A legacy peer (no RFC 7427) and an RSA key: R1 signs with RFC 7296 3.8
 * method 1, RSA with SHA-1, the one RSA method such a peer knows (issue 18:
 * it used to have no AUTH to give, and the attempt ended in NO_POLICY). */
static void test_rsa_key_to_legacy_peer_method1(void **state)
{
    tp_net n;
    side a = {"rsa-sig", "ecdsa-sig", "fqdn r1.example.net", "fqdn r2.example.net", K_RSA, false};
    side b = ecdsa_side(K_P256, "fqdn r1.example.net");
    vpn_ikev2_sa_info ia, ib;
    (void)state;

    b.auth_remote = "rsa-sig";
    b.identity = "fqdn r2.example.net";
    b.no_rfc7427 = true;
    handshake(&n, &a, &b, &V4);
    if (tp_find_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP, 0) < 0)
        fail_msg("no CHILD_SA (R1: %s / R2: %s)", n.node[0].log.last, n.node[1].log.last);
    assert_int_equal(vpn_ikev2_sa_get(n.node[0].ctx, 0, &ia), 0);
    assert_int_equal(vpn_ikev2_sa_get(n.node[1].ctx, 0, &ib), 0);
    assert_int_equal(ia.auth_local, VPN_AUTH_METHOD_RSA_SIG);
    assert_int_equal(ib.auth_remote, VPN_AUTH_METHOD_RSA_SIG);
    assert_int_equal(ib.auth_local, VPN_AUTH_METHOD_ECDSA_256); /* RFC 4754 from the legacy side */
    tp_free(&n);
}

/* ---- RFC 7427: method 14 with P-384 and P-521 ---------------------------------------------------- */

/* The hash follows the curve (RFC 7427 4 lets the signer pick among the
 * announced ones; we match the curve's strength, as RFC 5656 6.2.1 does). */
static void test_rfc7427_ecdsa_p384_p521(void **state)
{
    tp_net n;
    side a = ecdsa_side(K_P384, "fqdn r2.example.net"), b = ecdsa_side(K_P521, "fqdn r1.example.net");
    (void)state;

    b.identity = "fqdn r2.example.net";
    handshake(&n, &a, &b, &V4);
    assert_up(&n, VPN_AUTH_METHOD_DIGITAL_SIG, VPN_AUTH_METHOD_DIGITAL_SIG);
    check_auth_on_wire(&n, 0, VPN_AUTH_METHOD_DIGITAL_SIG, oid_ecdsa_sha384, sizeof oid_ecdsa_sha384, 0);
    check_auth_on_wire(&n, 1, VPN_AUTH_METHOD_DIGITAL_SIG, oid_ecdsa_sha512, sizeof oid_ecdsa_sha512, 0);
    tp_free(&n);
    /* and the other way round, P-256 at R2 */
    a = ecdsa_side(K_P521, "fqdn r2.example.net");
    b = ecdsa_side(K_P256, "fqdn r1.example.net");
    b.identity = "fqdn r2.example.net";
    handshake(&n, &a, &b, &V4);
    assert_up(&n, VPN_AUTH_METHOD_DIGITAL_SIG, VPN_AUTH_METHOD_DIGITAL_SIG);
    check_auth_on_wire(&n, 0, VPN_AUTH_METHOD_DIGITAL_SIG, oid_ecdsa_sha512, sizeof oid_ecdsa_sha512, 0);
    check_auth_on_wire(&n, 1, VPN_AUTH_METHOD_DIGITAL_SIG, oid_ecdsa_sha256, sizeof oid_ecdsa_sha256, 0);
    tp_free(&n);
}

/* ---- asymmetric authentication (FlexVPN): PSK one way, a signature the other ------------------ */

/* R1 proves itself with its keyring PSK and verifies R2's ECDSA
 * signature; R2 the other way round. Then the roles swapped. Each side
 * refuses the method it did not configure for the peer. */
static void test_psk_and_ecdsa_both_directions(void **state)
{
    tp_net n;
    side a = {"pre-share", "ecdsa-sig", "fqdn r1.example.net", "fqdn r2.example.net", K_NONE, false};
    side b = {"ecdsa-sig", "pre-share", "fqdn r2.example.net", "fqdn r1.example.net", K_P256, false};
    vpn_ikev2_sa_info ia, ib;
    (void)state;

    handshake(&n, &a, &b, &V4);
    assert_up(&n, VPN_AUTH_METHOD_PSK, VPN_AUTH_METHOD_DIGITAL_SIG);
    assert_int_equal(vpn_ikev2_sa_get(n.node[0].ctx, 0, &ia), 0);
    assert_int_equal(vpn_ikev2_sa_get(n.node[1].ctx, 0, &ib), 0);
    assert_int_equal(ia.auth_sign, VPN_CONF_AUTH_PSK);
    assert_int_equal(ia.auth_verify, VPN_CONF_AUTH_ECDSA_SIG);
    assert_int_equal(ib.auth_sign, VPN_CONF_AUTH_ECDSA_SIG);
    assert_int_equal(ib.auth_verify, VPN_CONF_AUTH_PSK);
    tp_free(&n);

    a.auth_local = "ecdsa-sig";
    a.auth_remote = "pre-share";
    a.key = K_P384;
    b.auth_local = "pre-share";
    b.auth_remote = "ecdsa-sig";
    b.key = K_NONE;
    handshake(&n, &a, &b, &V4);
    assert_up(&n, VPN_AUTH_METHOD_DIGITAL_SIG, VPN_AUTH_METHOD_PSK);
    assert_int_equal(vpn_ikev2_sa_get(n.node[0].ctx, 0, &ia), 0);
    assert_int_equal(ia.auth_sign, VPN_CONF_AUTH_ECDSA_SIG);
    assert_int_equal(ia.auth_verify, VPN_CONF_AUTH_PSK);
    tp_free(&n);

    /* R2 expects a PSK from R1 but R1 signs: AUTHENTICATION_FAILED */
    b.auth_remote = "pre-share";
    handshake(&n, &a, &b, &V4);
    assert_nothing_left(&n);
    tp_free(&n);
}

/* The same with a legacy ECDSA signer: PSK one way, RFC 4754 method 9
 * the other. */
static void test_psk_and_rfc4754_ecdsa(void **state)
{
    tp_net n;
    side a = {"pre-share", "ecdsa-sig", "fqdn r1.example.net", "fqdn r2.example.net", K_NONE, true};
    side b = {"ecdsa-sig", "pre-share", "fqdn r2.example.net", "fqdn r1.example.net", K_P256, true};
    (void)state;

    handshake(&n, &a, &b, &V4);
    assert_up(&n, VPN_AUTH_METHOD_PSK, VPN_AUTH_METHOD_ECDSA_256);
    tp_free(&n);
}

/* ikev2-cert covers R1 PSK / R2 RSA; here R1 signs with RSA (method 14,
 * SHA-256 at least) and R2 answers with its PSK. */
static void test_rsa_and_psk(void **state)
{
    tp_net n;
    side a = {"rsa-sig", "pre-share", "fqdn r1.example.net", "fqdn r2.example.net", K_RSA, false};
    side b = {"pre-share", "rsa-sig", "fqdn r2.example.net", "fqdn r1.example.net", K_NONE, false};
    vpn_ikev2_sa_info ib;
    (void)state;

    handshake(&n, &a, &b, &V4);
    assert_up(&n, VPN_AUTH_METHOD_DIGITAL_SIG, VPN_AUTH_METHOD_PSK);
    assert_int_equal(vpn_ikev2_sa_get(n.node[1].ctx, 0, &ib), 0);
    assert_int_equal(ib.auth_verify, VPN_CONF_AUTH_RSA_SIG);
    assert_int_equal(ib.auth_sign, VPN_CONF_AUTH_PSK);
    tp_free(&n);
    /* R2 wants ECDSA from R1, R1 has an RSA key: refused */
    b.auth_remote = "ecdsa-sig";
    handshake(&n, &a, &b, &V4);
    assert_nothing_left(&n);
    tp_free(&n);
}

/* ---- RFC 7296 3.8 method 1 (RSA, PKCS#1 v1.5 with SHA-1) from a legacy peer ------------------- */

typedef struct hold {
    int taken;
    tp_dgram d;
} hold;

/* Holds back R1's IKE_AUTH request (and its retransmissions). */
static bool hold_auth(tp_net *n, tp_dgram *d, void *user)
{
    hold *h = user;
    (void)n;
    if (d->from == 0 && tp_exchange(d) == VPN_IKEV2_IKE_AUTH && !tp_is_response(d)) {
        if (h->taken++ == 0)
            h->d = *d;
        return false;
    }
    return true;
}

/* PKCS#1 v1.5 signature with md over msg by R1's RSA key. */
static size_t rsa_sign(const EVP_MD *md, const uint8_t *msg, size_t len, uint8_t *sig, size_t cap)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    size_t sl = cap;
    assert_non_null(c);
    assert_int_equal(EVP_DigestSignInit(c, NULL, md, NULL, P.r1[K_RSA].k), 1);
    assert_int_equal(EVP_DigestSign(c, sig, &sl, msg, len), 1);
    EVP_MD_CTX_free(c);
    return sl;
}

/*
 * R1 (the engine, RSA certificate) plays a peer from before RFC 7427: its
 * IKE_AUTH is taken off the wire, its AUTH replaced by method 1 signed
 * with md over the octets of RFC 7296 2.15 (RealMessage1 | Nr |
 * prf(SK_pi, IDi')), re-encrypted with R1's keys and given to R2. With
 * SHA-1 R2 must accept it; any other hash, or a bad signature, is
 * AUTHENTICATION_FAILED with nothing left on either side.
 */
static void legacy_rsa_case(const EVP_MD *md, bool corrupt, bool want_up)
{
    tp_net n;
    hold h;
    side a = {"rsa-sig", "ecdsa-sig", "fqdn r1.example.net", "fqdn r2.example.net", K_RSA, false};
    side b = {"ecdsa-sig", "rsa-sig", "fqdn r2.example.net", "fqdn r1.example.net", K_P256, false};
    static vpn_ikev2_msg inner, resp;
    static uint8_t plain[70000], buf[70000], oct[4096];
    uint8_t sig[512];
    size_t oct_len = 0, sig_len, len = 0;
    const tp_dgram *init_req, *init_resp;
    const vpn_ikev2_payload *nr, *idi;
    vpn_ikev2_payload *au = NULL;
    vpn_ikev2_sa_info ia, ib;
    vpn_ikev2_sa_keys k;
    vpn_ikev2_crypto cr;
    vpn_ikev2_sk_region r;
    vpn_ikev2_bld bl;
    vpn_drbg drbg;
    vpn_rng rng;
    vpn_wr w;

    pair(&n, &a, &b, &V4);
    memset(&h, 0, sizeof h);
    n.hook = hold_auth;
    n.hook_user = &h;
    start(&n, &V4);
    tp_pump(&n);
    assert_int_equal(h.taken, 1);

    /* the octets R1 signs */
    init_req = logged(&n, VPN_IKEV2_IKE_SA_INIT, 0, 0);
    init_resp = logged(&n, VPN_IKEV2_IKE_SA_INIT, 1, 0);
    assert_non_null(init_req);
    assert_non_null(init_resp);
    assert_int_equal(vpn_ikev2_msg_parse(init_resp->data, init_resp->len, &resp), 0);
    nr = vpn_ikev2_msg_find(&resp, VPN_IKEV2_PL_NONCE, NULL);
    assert_non_null(nr);
    read_auth_msg(&n, &h.d, 0, &inner, plain);
    idi = vpn_ikev2_msg_find(&inner, VPN_IKEV2_PL_IDI, NULL);
    assert_non_null(idi);
    assert_int_equal(vpn_ikev2_sa_get(n.node[0].ctx, 0, &ia), 0);
    assert_int_equal(vpn_ikev2_sa_keys_get(n.node[0].ctx, ia.id, &k), 0);
    {
        vpn_iov real = {init_req->data, init_req->len}, nonce = {nr->u.nonce.data.ptr, nr->u.nonce.data.len},
                body = {idi->body.ptr, idi->body.len};
        assert_int_equal(vpn_ikev2_signed_octets(k.suite.prf, real, nonce, &k.keys.sk_pi, body, oct, sizeof oct,
                                                 &oct_len),
                         0);
    }
    sig_len = rsa_sign(md, oct, oct_len, sig, sizeof sig);
    if (corrupt)
        sig[sig_len / 2] ^= 0x40;

    /* the same IKE_AUTH with AUTH method 1 */
    for (size_t i = 0; i < inner.n; i++)
        if (inner.pl[i].type == VPN_IKEV2_PL_AUTH)
            au = &inner.pl[i];
    assert_non_null(au);
    assert_int_equal(au->u.auth.method, VPN_AUTH_METHOD_DIGITAL_SIG);
    memset(&au->u.auth, 0, sizeof au->u.auth);
    au->u.auth.method = VPN_AUTH_METHOD_RSA_SIG;
    au->u.auth.data.ptr = sig;
    au->u.auth.data.len = sig_len;
    assert_int_equal(vpn_ikev2_crypto_init_keys(&cr, &k.suite, &k.keys, true), 0);
    assert_int_equal(vpn_drbg_init(&drbg, "legacy", 6), 0);
    vpn_rng_init_drbg(&rng, &drbg);
    vpn_wr_init(&w, buf, sizeof buf);
    assert_int_equal(vpn_ikev2_bld_init(&bl, &w, &inner.hdr), 0);
    assert_int_equal(vpn_ikev2_bld_sk_open(&bl, vpn_ikev2_sk_iv_len(&cr)), 0);
    for (size_t i = 0; i < inner.n; i++)
        assert_int_equal(vpn_ikev2_bld_payload(&bl, &inner.pl[i]), 0);
    assert_int_equal(vpn_ikev2_bld_sk_close(&bl, vpn_ikev2_sk_block_len(&cr), vpn_ikev2_sk_icv_len(&cr), &r), 0);
    assert_int_equal(vpn_ikev2_bld_finish(&bl, &len), 0);
    assert_int_equal(vpn_ikev2_sk_encrypt(&cr, &rng, buf, r.iv_off, r.ct_off, r.ct_len, r.icv_off), 0);
    vpn_ikev2_crypto_free(&cr);
    vpn_ikev2_keys_wipe(&k.keys);
    vpn_drbg_free(&drbg);

    /* to R2 as from R1; R2's answer goes back to R1 over the network */
    n.hook = NULL;
    assert_int_equal(vpn_ikev2_input(n.node[1].ctx, n.now, &h.d.dst, &h.d.src, buf, len), 0);
    tp_pump(&n);
    if (!want_up) {
        int e = tp_find_ev(&n.node[1], VPN_IKEV2_EV_FAILED, 0);
        assert_true(e >= 0);
        assert_int_equal(n.node[1].ev[e].reason, VPN_IKEV2_R_AUTH_FAILED);
        assert_nothing_left(&n);
        tp_free(&n);
        return;
    }
    if (tp_count_ev(&n.node[1], VPN_IKEV2_EV_CHILD_UP) != 1)
        fail_msg("R2 refused method 1: %s", n.node[1].log.last);
    assert_int_equal(tp_count_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP), 1);
    tp_assert_child_pair(&n.node[0].ev[tp_find_ev(&n.node[0], VPN_IKEV2_EV_CHILD_UP, 0)],
                         &n.node[1].ev[tp_find_ev(&n.node[1], VPN_IKEV2_EV_CHILD_UP, 0)]);
    assert_int_equal(vpn_ikev2_sa_get(n.node[1].ctx, 0, &ib), 0);
    assert_int_equal(ib.auth_remote, VPN_AUTH_METHOD_RSA_SIG);
    assert_int_equal(ib.auth_verify, VPN_CONF_AUTH_RSA_SIG);
    assert_int_equal(ib.auth_local, VPN_AUTH_METHOD_DIGITAL_SIG);
    /* the SA works on: a liveness check both ways */
    tp_run_for(&n, 10);
    assert_int_equal(vpn_ikev2_sa_count(n.node[0].ctx), 1);
    assert_int_equal(vpn_ikev2_sa_count(n.node[1].ctx), 1);
    tp_free(&n);
}

static void test_receive_rsa_sha1_method1(void **state)
{
    (void)state;
    legacy_rsa_case(EVP_sha1(), false, true);
}

/* Method 1 fixes the hash: a PKCS#1 v1.5 signature with SHA-256 under
 * method 1 does not verify. */
static void test_method1_with_sha256_refused(void **state)
{
    (void)state;
    legacy_rsa_case(EVP_sha256(), false, false);
}

static void test_method1_bad_signature_refused(void **state)
{
    (void)state;
    legacy_rsa_case(EVP_sha1(), true, false);
}

/* ---- identities of every type in a handshake, backed by the certificate (RFC 4945 3.1) --------- */

static void assert_ids(tp_net *n, uint8_t a_type, const char *a_text, uint8_t b_type, const char *b_text)
{
    vpn_ikev2_sa_info ia, ib;
    assert_int_equal(vpn_ikev2_sa_get(n->node[0].ctx, 0, &ia), 0);
    assert_int_equal(vpn_ikev2_sa_get(n->node[1].ctx, 0, &ib), 0);
    assert_int_equal(ia.id_local.type, a_type);
    assert_int_equal(ib.id_remote.type, a_type);
    assert_string_equal(ia.id_local.text, a_text);
    assert_string_equal(ib.id_remote.text, a_text);
    assert_int_equal(ib.id_local.type, b_type);
    assert_int_equal(ia.id_remote.type, b_type);
    assert_string_equal(ib.id_local.text, b_text);
    assert_string_equal(ia.id_remote.text, b_text);
}

/* IKEv2 over IPv6, ID_IPV6_ADDR on both sides (R1 names it, R2 takes its
 * address by default), each found among the certificate's IP SANs. */
static void test_cert_identity_ipv6_address(void **state)
{
    tp_net n;
    side a = ecdsa_side(K_P256, "address 2001:db8::2");
    side b = ecdsa_side(K_P384, "address 2001:db8::1");
    (void)state;

    a.identity = "address 2001:db8::1";
    b.identity = NULL;
    handshake(&n, &a, &b, &V6);
    assert_up(&n, VPN_AUTH_METHOD_DIGITAL_SIG, VPN_AUTH_METHOD_DIGITAL_SIG);
    assert_ids(&n, VPN_IKEV2_ID_IPV6_ADDR, "2001:db8::1", VPN_IKEV2_ID_IPV6_ADDR, "2001:db8::2");
    tp_free(&n);
    /* an address the certificate does not hold */
    a.identity = "address 2001:db8::99";
    b.match = "address 2001:db8::/64";
    handshake(&n, &a, &b, &V6);
    assert_nothing_left(&n);
    tp_free(&n);
}

/* ID_IPV4_ADDR (the default identity) with RSA and ECDSA certificates. */
static void test_cert_identity_ipv4_address(void **state)
{
    tp_net n;
    side a = {"rsa-sig", "ecdsa-sig", NULL, "address 192.0.2.2", K_RSA, false};
    side b = {"ecdsa-sig", "rsa-sig", NULL, "address 192.0.2.1", K_P521, false};
    (void)state;

    handshake(&n, &a, &b, &V4);
    assert_up(&n, VPN_AUTH_METHOD_DIGITAL_SIG, VPN_AUTH_METHOD_DIGITAL_SIG);
    assert_ids(&n, VPN_IKEV2_ID_IPV4_ADDR, "192.0.2.1", VPN_IKEV2_ID_IPV4_ADDR, "192.0.2.2");
    tp_free(&n);
}

/* ID_RFC822_ADDR from the certificate's email SAN; the profile matches
 * it exactly at R2, by domain at R1. */
static void test_cert_identity_email(void **state)
{
    tp_net n;
    side a = ecdsa_side(K_P256, "email domain r2.example.net");
    side b = ecdsa_side(K_P256, "email noc@r1.example.net");
    (void)state;

    a.identity = "email noc@r1.example.net";
    b.identity = "email noc@r2.example.net";
    a.no_rfc7427 = true; /* and with RFC 4754 signatures */
    handshake(&n, &a, &b, &V4);
    assert_up(&n, VPN_AUTH_METHOD_ECDSA_256, VPN_AUTH_METHOD_ECDSA_256);
    assert_ids(&n, VPN_IKEV2_ID_RFC822_ADDR, "noc@r1.example.net", VPN_IKEV2_ID_RFC822_ADDR, "noc@r2.example.net");
    tp_free(&n);
    /* R1 claims an address its certificate does not hold */
    a.identity = "email ops@r1.example.net";
    b.match = "email domain r1.example.net";
    handshake(&n, &a, &b, &V4);
    assert_nothing_left(&n);
    tp_free(&n);
}

/* ID_DER_ASN1_DN, the certificate subject, both ways with ECDSA keys. */
static void test_cert_identity_dn(void **state)
{
    tp_net n;
    side a = ecdsa_side(K_P384, "any"), b = ecdsa_side(K_P256, "any");
    (void)state;

    a.identity = b.identity = "dn";
    handshake(&n, &a, &b, &V4);
    assert_up(&n, VPN_AUTH_METHOD_DIGITAL_SIG, VPN_AUTH_METHOD_DIGITAL_SIG);
    assert_ids(&n, VPN_IKEV2_ID_DER_ASN1_DN, "O=VPN Test Lab, CN=r1.example.net", VPN_IKEV2_ID_DER_ASN1_DN,
               "O=VPN Test Lab, CN=r2.example.net");
    tp_free(&n);
}

/* ID_KEY_ID on the PSK side of an asymmetric pair, email on the signing
 * side: R2 picks its profile by the key-id. */
static void test_key_id_psk_with_email_cert(void **state)
{
    tp_net n;
    side a = {"pre-share", "ecdsa-sig", "key-id 0x1234ABCD", "email noc@r2.example.net", K_NONE, false};
    side b = {"ecdsa-sig", "pre-share", "email noc@r2.example.net", "key-id 0x1234ABCD", K_P521, false};
    (void)state;

    handshake(&n, &a, &b, &V4);
    assert_up(&n, VPN_AUTH_METHOD_PSK, VPN_AUTH_METHOD_DIGITAL_SIG);
    assert_ids(&n, VPN_IKEV2_ID_KEY_ID, "0x1234ABCD", VPN_IKEV2_ID_RFC822_ADDR, "noc@r2.example.net");
    tp_free(&n);
    /* another key-id: no profile at R2 */
    a.identity = "key-id 0x1234ABCE";
    handshake(&n, &a, &b, &V4);
    assert_nothing_left(&n);
    tp_free(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4754_p256_sha256),
        cmocka_unit_test(test_rfc4754_p384_sha384),
        cmocka_unit_test(test_rfc4754_p521_sha512),
        cmocka_unit_test(test_rfc4754_mixed_curves_one_legacy_peer),
        cmocka_unit_test(test_rsa_key_to_legacy_peer_method1),
        cmocka_unit_test(test_rfc7427_ecdsa_p384_p521),
        cmocka_unit_test(test_psk_and_ecdsa_both_directions),
        cmocka_unit_test(test_psk_and_rfc4754_ecdsa),
        cmocka_unit_test(test_rsa_and_psk),
        cmocka_unit_test(test_receive_rsa_sha1_method1),
        cmocka_unit_test(test_method1_with_sha256_refused),
        cmocka_unit_test(test_method1_bad_signature_refused),
        cmocka_unit_test(test_cert_identity_ipv6_address),
        cmocka_unit_test(test_cert_identity_ipv4_address),
        cmocka_unit_test(test_cert_identity_email),
        cmocka_unit_test(test_cert_identity_dn),
        cmocka_unit_test(test_key_id_psk_with_email_cert),
    };
    return cmocka_run_group_tests(tests, pki_setup, pki_teardown);
}
