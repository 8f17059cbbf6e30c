/*
 * ./scripts/bench ikev2: full IKEv2 handshakes (IKE_SA_INIT + IKE_AUTH with
 * the first CHILD_SA) per second on one core, both peers in this process,
 * for (ECP group 19, PSK) and (MODP 2048, RSA-2048 certificates); beside
 * them, the bare OpenSSL operations one handshake needs (both sides'
 * Diffie-Hellman, signatures and verifications, and the HMAC/AES work of
 * the key derivation and the four messages) timed in the same run, which
 * give the crypto-only ceiling; and the memory an established IKE SA (with
 * its CHILD_SA) holds. The last line is
 * ikev2_g19_psk_vs_crypto=<handshakes per second / ceiling>.
 * Times are CPU time; each rate is measured REPS times (the handshakes and
 * their ceiling one after the other, the ratio taken per repetition) and
 * given as the median with the range [min-max].
 * VPN_BENCH_QUICK=1 runs a few iterations only (the ctest smoke run).
 */
#define _DEFAULT_SOURCE

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/rng.h"
#include "conf/conf.h"
#include "crypto/sig.h"
#include "crypto/x509.h"
#include "ikev2/ikev2-engine.h"
#include "bench-quick.h"

#define QMAX 64
#define REPS 5

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median, minimum and maximum of v[0..n) (sorted in place). */
typedef struct stat3 {
    double med, lo, hi;
} stat3;

static stat3 stats(double *v, int n)
{
    stat3 s;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    s.med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    s.lo = v[0];
    s.hi = v[n - 1];
    return s;
}

/* CPU time of the process (one thread): other jobs on a shared machine do
 * not count. */
static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "ikev2 bench: %s\n", what);
    exit(1);
}

/* ---- two engines on a queue --------------------------------------------------------- */

typedef struct pkt {
    int to;
    vpn_ikev2_endpoint src, dst;
    size_t len;
    uint8_t data[4096];
} pkt;

typedef struct side {
    vpn_ikev2_ctx *ctx;
    vpn_drbg drbg;
    vpn_ikev2_endpoint ep;
    unsigned children;
} side;

static side S[2];
static pkt *Q[QMAX];
static size_t NQ;

static void on_send(void *user, const vpn_ikev2_dgram *d)
{
    side *s = user;
    pkt *p;
    if (NQ == QMAX || d->len > sizeof p->data)
        die("network overflow");
    p = malloc(sizeof *p);
    if (p == NULL)
        die("out of memory");
    p->to = s == &S[0] ? 1 : 0;
    p->src = d->local;
    p->dst = d->remote;
    p->len = d->len;
    memcpy(p->data, d->data, d->len);
    Q[NQ++] = p;
}

static void on_event(void *user, const vpn_ikev2_event *ev)
{
    side *s = user;
    if (ev->type == VPN_IKEV2_EV_CHILD_UP)
        s->children++;
    if (ev->type == VPN_IKEV2_EV_FAILED)
        die("a handshake failed");
}

static void pump(uint64_t now)
{
    while (NQ) {
        pkt *p = Q[0];
        memmove(&Q[0], &Q[1], (NQ - 1) * sizeof Q[0]);
        NQ--;
        vpn_ikev2_input(S[p->to].ctx, now, &p->dst, &p->src, p->data, p->len);
        free(p);
    }
}

typedef struct creds {
    vpn_x509 *ca, *cert[2];
    vpn_sig_key *key[2];
} creds;

static void sides_new(vpn_conf *conf[2], const creds *cr, unsigned seed)
{
    for (int i = 0; i < 2; i++) {
        vpn_ikev2_params p;
        char s[32];
        snprintf(s, sizeof s, "bench-%d-%u", i, seed);
        memset(&S[i], 0, sizeof S[i]);
        vpn_drbg_init(&S[i].drbg, s, strlen(s));
        vpn_addr_parse(&S[i].ep.addr, i ? "192.0.2.2" : "192.0.2.1");
        S[i].ep.port = 500;
        memset(&p, 0, sizeof p);
        p.conf = conf[i];
        vpn_rng_init_drbg(&p.rng, &S[i].drbg);
        p.send = on_send;
        p.event = on_event;
        p.user = &S[i];
        p.unix_time_offset_s = 1700000000;
        if (vpn_ikev2_ctx_new(&S[i].ctx, &p) != 0)
            die("ctx");
        if (cr) {
            vpn_ikev2_trustpoint_add_ca(S[i].ctx, "LAB", cr->ca);
            if (vpn_ikev2_trustpoint_set_cert(S[i].ctx, "LAB", cr->cert[i], cr->key[i], NULL, 0) != 0)
                die("certificate");
        }
    }
}

static void sides_del(void)
{
    for (int i = 0; i < 2; i++) {
        vpn_ikev2_ctx_del(S[i].ctx);
        vpn_drbg_free(&S[i].drbg);
    }
}

/* One handshake to the first CHILD_SA on both sides. */
static void handshake(uint64_t now)
{
    vpn_ikev2_policy pol;
    unsigned c0 = S[0].children, c1 = S[1].children;
    memset(&pol, 0, sizeof pol);
    pol.ipsec_profile = "IPP";
    if (vpn_ikev2_initiate(S[0].ctx, now, &S[0].ep, &S[1].ep, &pol, NULL) != 0)
        die("initiate");
    pump(now);
    if (S[0].children != c0 + 1 || S[1].children != c1 + 1)
        die("no CHILD_SA");
}

static double handshake_rate(vpn_conf *conf[2], const creds *cr, int n)
{
    double t0, t;
    /* a fresh pair each time: the cost of a session from nothing */
    t0 = now_s();
    for (int i = 0; i < n; i++) {
        sides_new(conf, cr, (unsigned)i);
        handshake(1000000000ull);
        sides_del();
    }
    t = now_s() - t0;
    return n / t;
}

/* Bytes the heap holds per established IKE SA + CHILD_SA, both sides
 * counted, averaged over m SAs in one pair of engines. */
static double memory_per_sa(vpn_conf *conf[2], const creds *cr, int m)
{
    struct mallinfo2 a, b;
    sides_new(conf, cr, 999);
    handshake(1000000000ull); /* warm-up: lazily allocated tables */
    a = mallinfo2();
    for (int i = 0; i < m; i++)
        handshake(1000000000ull);
    b = mallinfo2();
    sides_del();
    return (double)(b.uordblks - a.uordblks) / m / 2;
}

/* ---- the bare crypto one handshake needs --------------------------------------------- */

/*
 * Diffie-Hellman at its cheapest with OpenSSL: the group set up once,
 * then per side one scalar multiplication (or exponentiation) for the
 * public value and one for the shared secret; MODP exponents of twice the
 * group's strength (224 bits for MODP 2048, NIST SP 800-56A 5.6.1.1.4),
 * as the engine uses.
 */
static EC_GROUP *p256;
static BIGNUM *modp_p, *modp_g;
static BN_MONT_CTX *modp_mont;
static BN_CTX *bnctx;

static void dh_setup(void)
{
    bnctx = BN_CTX_new();
    p256 = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    modp_p = BN_get_rfc3526_prime_2048(NULL);
    modp_g = BN_new();
    BN_set_word(modp_g, 2);
    modp_mont = BN_MONT_CTX_new();
    if (!bnctx || !p256 || !modp_p || !modp_mont || !BN_MONT_CTX_set(modp_mont, modp_p, bnctx))
        die("dh setup");
}

static void dh_teardown(void)
{
    EC_GROUP_free(p256);
    BN_free(modp_p);
    BN_free(modp_g);
    BN_MONT_CTX_free(modp_mont);
    BN_CTX_free(bnctx);
}

static void ecdh_pair(void)
{
    BIGNUM *d[2] = {BN_new(), BN_new()};
    EC_POINT *q[2] = {EC_POINT_new(p256), EC_POINT_new(p256)}, *s = EC_POINT_new(p256);
    const BIGNUM *n = EC_GROUP_get0_order(p256);
    for (int i = 0; i < 2; i++)
        if (!BN_rand_range(d[i], n) || !EC_POINT_mul(p256, q[i], d[i], NULL, NULL, bnctx))
            die("ecdh");
    for (int i = 0; i < 2; i++)
        if (!EC_POINT_is_on_curve(p256, q[1 - i], bnctx) || !EC_POINT_mul(p256, s, NULL, q[1 - i], d[i], bnctx))
            die("ecdh");
    for (int i = 0; i < 2; i++) {
        BN_clear_free(d[i]);
        EC_POINT_free(q[i]);
    }
    EC_POINT_clear_free(s);
}

static void modp_pair(void)
{
    BIGNUM *x[2] = {BN_new(), BN_new()}, *y[2] = {BN_new(), BN_new()}, *z = BN_new();
    for (int i = 0; i < 2; i++)
        if (!BN_rand(x[i], 224, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) ||
            !BN_mod_exp_mont_consttime(y[i], modp_g, x[i], modp_p, bnctx, modp_mont))
            die("modp");
    for (int i = 0; i < 2; i++)
        if (!BN_mod_exp_mont_consttime(z, y[1 - i], x[i], modp_p, bnctx, modp_mont))
            die("modp");
    for (int i = 0; i < 2; i++) {
        BN_clear_free(x[i]);
        BN_free(y[i]);
    }
    BN_clear_free(z);
}

/* The symmetric work both sides do: ~40 HMAC-SHA-256 of ~200 octets
 * (SKEYSEED, prf+ for SK_* and KEYMAT, AUTH), AES-256-CBC of four
 * messages twice (encrypt and decrypt) and their ICVs. */
static void symmetric(void)
{
    static uint8_t key[32], msg[256], out[64 + 256];
    unsigned l;
    int ol;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    for (int i = 0; i < 40; i++)
        HMAC(EVP_sha256(), key, 32, msg, 200, out, &l);
    for (int i = 0; i < 8; i++) {
        EVP_EncryptInit_ex(c, EVP_aes_256_cbc(), NULL, key, key);
        EVP_CIPHER_CTX_set_padding(c, 0);
        EVP_EncryptUpdate(c, out, &ol, msg, 224);
        HMAC(EVP_sha256(), key, 32, msg, 256, out, &l);
    }
    EVP_CIPHER_CTX_free(c);
}

static double crypto_rate_ecp(int n)
{
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        ecdh_pair();
        symmetric();
    }
    return n / (now_s() - t0);
}

static double crypto_rate_modp_rsa(int n, EVP_PKEY *rsa_a, EVP_PKEY *rsa_b, X509 *ca_x, X509 *xa, X509 *xb)
{
    uint8_t msg[600] = {0}, sig[512];
    double t0 = now_s();
    EVP_PKEY *ca_pub = X509_get0_pubkey(ca_x);
    for (int i = 0; i < n; i++) {
        EVP_PKEY *rsa[2] = {rsa_a, rsa_b};
        modp_pair();
        for (int k = 0; k < 2; k++) {
            /* each side signs its AUTH and verifies the other's, and the
             * other's certificate against the CA */
            size_t sl = sizeof sig;
            EVP_MD_CTX *m = EVP_MD_CTX_new();
            EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, rsa[k]);
            EVP_DigestSign(m, sig, &sl, msg, sizeof msg);
            EVP_MD_CTX_free(m);
            m = EVP_MD_CTX_new();
            EVP_DigestVerifyInit(m, NULL, EVP_sha256(), NULL, rsa[k]);
            if (EVP_DigestVerify(m, sig, sl, msg, sizeof msg) != 1)
                die("verify");
            EVP_MD_CTX_free(m);
            if (X509_verify(k ? xb : xa, ca_pub) != 1)
                die("certificate verify");
        }
        symmetric();
    }
    return n / (now_s() - t0);
}

/* ---- set-up ------------------------------------------------------------------------------ */

static const char conf_fmt[] =
    "crypto ikev2 proposal P\n encryption aes-cbc-256\n integrity sha256\n group %s\n"
    "crypto ikev2 policy POL\n proposal P\n"
    "crypto ikev2 keyring KR\n peer X\n  address 0.0.0.0 0.0.0.0\n  pre-shared-key bench\n"
    "crypto ikev2 profile PROF\n match identity remote any\n%s"
    " authentication local %s\n authentication remote %s\n keyring local KR\n pki trustpoint LAB\n"
    "crypto ipsec transform-set TS esp-gcm 256\n"
    "crypto ipsec profile IPP\n set transform-set TS\n set ikev2-profile PROF\n";

static vpn_conf *conf_of(const char *group, const char *auth, const char *identity)
{
    char t[2048], id[128] = "";
    vpn_conf *c = NULL;
    vpn_conf_error e;
    if (identity)
        snprintf(id, sizeof id, " identity local %s\n", identity);
    snprintf(t, sizeof t, conf_fmt, group, id, auth, auth);
    if (vpn_conf_parse(t, strlen(t), &c, &e) != 0)
        die(e.msg);
    return c;
}

static X509 *make_cert(const char *cn, const char *san, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    X509V3_CTX v3;
    X509_EXTENSION *e;
    X509_set_version(x, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_subject_name(x, name);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    ASN1_TIME_set(X509_getm_notBefore(x), 1700000000 - 86400);
    ASN1_TIME_set(X509_getm_notAfter(x), 1700000000 + 86400 * 365);
    X509_set_pubkey(x, key);
    X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
    e = X509V3_EXT_nconf_nid(NULL, &v3, NID_basic_constraints, issuer ? "critical,CA:FALSE" : "critical,CA:TRUE");
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    if (san) {
        e = X509V3_EXT_nconf_nid(NULL, &v3, NID_subject_alt_name, san);
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    X509_sign(x, ikey ? ikey : key, EVP_sha256());
    X509_NAME_free(name);
    return x;
}

static vpn_x509 *to_vpn(X509 *x)
{
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    vpn_x509 *c;
    if (n <= 0 || vpn_x509_load(&c, der, (size_t)n) != 0)
        die("x509");
    OPENSSL_free(der);
    return c;
}

int main(void)
{
    int quick = vpn_bench_quick();
    int n = quick ? 20 : 2000, n_rsa = quick ? 5 : 300, m = quick ? 10 : 200;
    vpn_conf *psk[2], *rsa[2];
    EVP_PKEY *ca_k, *k[2];
    X509 *ca_x, *x[2];
    creds cr;
    double hs, ceil, hs_rsa, ceil_rsa, mem_psk, mem_rsa;

    psk[0] = psk[1] = conf_of("19", "pre-share", NULL);
    rsa[0] = conf_of("14", "rsa-sig", "fqdn a.example.net");
    rsa[1] = conf_of("14", "rsa-sig", "fqdn b.example.net");
    ca_k = EVP_RSA_gen(2048);
    k[0] = EVP_RSA_gen(2048);
    k[1] = EVP_RSA_gen(2048);
    ca_x = make_cert("Bench CA", NULL, ca_k, NULL, NULL);
    x[0] = make_cert("a.example.net", "DNS:a.example.net", k[0], ca_x, ca_k);
    x[1] = make_cert("b.example.net", "DNS:b.example.net", k[1], ca_x, ca_k);
    cr.ca = to_vpn(ca_x);
    for (int i = 0; i < 2; i++) {
        cr.cert[i] = to_vpn(x[i]);
        if (vpn_sig_key_from_evp(&cr.key[i], k[i]) != 0)
            die("key");
    }

    dh_setup();
    {
        double h[REPS], c[REPS], r[REPS], hr[REPS], cr2[REPS], rr[REPS];
        int reps = quick ? 1 : REPS;
        stat3 sh, sc, sr, shr, scr, srr;
        for (int i = 0; i < reps; i++) {
            h[i] = handshake_rate(psk, NULL, n / reps);
            c[i] = crypto_rate_ecp(n / reps);
            r[i] = h[i] / c[i];
            hr[i] = handshake_rate(rsa, &cr, n_rsa / reps);
            cr2[i] = crypto_rate_modp_rsa(n_rsa / reps, k[0], k[1], ca_x, x[0], x[1]);
            rr[i] = hr[i] / cr2[i];
        }
        sh = stats(h, reps);
        sc = stats(c, reps);
        sr = stats(r, reps);
        shr = stats(hr, reps);
        scr = stats(cr2, reps);
        srr = stats(rr, reps);
        hs = sh.med;
        ceil = sc.med;
        hs_rsa = shr.med;
        ceil_rsa = scr.med;
        mem_psk = memory_per_sa(psk, NULL, m);
        mem_rsa = memory_per_sa(rsa, &cr, m);

        printf("IKEv2 handshakes (IKE_SA_INIT + IKE_AUTH + first CHILD_SA), both peers on one core;\n"
               "CPU time, median of %d runs [min-max]\n", reps);
        printf("  ECP 19 + PSK:         %9.1f handshakes/s [%.1f-%.1f]   crypto-only ceiling %9.1f/s [%.1f-%.1f]"
               "   ratio %.3f [%.3f-%.3f]\n", hs, sh.lo, sh.hi, ceil, sc.lo, sc.hi, sr.med, sr.lo, sr.hi);
        printf("  MODP 2048 + RSA-2048: %9.1f handshakes/s [%.1f-%.1f]   crypto-only ceiling %9.1f/s [%.1f-%.1f]"
               "   ratio %.3f [%.3f-%.3f]\n", hs_rsa, shr.lo, shr.hi, ceil_rsa, scr.lo, scr.hi, srr.med, srr.lo,
               srr.hi);
        printf("  heap per established IKE SA with one CHILD_SA (one side): PSK %.0f bytes, RSA %.0f bytes\n",
               mem_psk, mem_rsa);
        printf("ikev2_modp2048_rsa_vs_crypto=%.3f\n", srr.med);
        printf("ikev2_g19_psk_vs_crypto=%.3f\n", sr.med);
    }

    for (int i = 0; i < 2; i++) {
        vpn_x509_del(cr.cert[i]);
        vpn_sig_key_del(cr.key[i]);
        X509_free(x[i]);
        EVP_PKEY_free(k[i]);
    }
    vpn_x509_del(cr.ca);
    X509_free(ca_x);
    EVP_PKEY_free(ca_k);
    dh_teardown();
    vpn_conf_del(psk[0]);
    vpn_conf_del(rsa[0]);
    vpn_conf_del(rsa[1]);
    return 0;
}
