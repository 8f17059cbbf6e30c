/*
 * ESP data-plane benchmark (./scripts/bench esp), one thread:
 *   - encrypt (vpn_esp_encap) and decrypt (vpn_esp_decap, replay window on)
 *     of tunnel-mode IPv4 packets of 64, 200 and 1400 bytes, for
 *     AES-GCM-128 and AES-CBC-128 + HMAC-SHA-256-128;
 *   - beside OpenSSL doing only the cryptography on the same sizes in the
 *     same run, like with like: encap against an AEAD seal (GCM) or a CBC
 *     encryption plus HMAC (CBC), decap against an AEAD open or an HMAC
 *     check plus CBC decryption (CBC decryption runs blocks in parallel,
 *     encryption cannot, so decap against bare encryption looked "faster
 *     than bare"); pre-keyed EVP contexts;
 *   - times are the process's CPU time (other jobs on the machine do not
 *     count), every figure measured REPS times, each ESP measurement right after
 *     its bare one, and given as the median with the range [min-max] of
 *     the repetitions (ratios are taken per repetition, then the median:
 *     on a shared machine one long measurement moved the 1400-byte GCM
 *     ratio between 0.48 and 1.12);
 *   - SPD lookup with 10 and with 10,000 entries;
 *   - allocations per packet: OpenSSL's (CRYPTO_set_mem_functions, set
 *     first thing in main) and all of the process's (malloc interposed,
 *     glibc only), over many packets through encap and decap.
 * The ESP figures include copying the packet into the work buffer (encap
 * and decap work in place); the bare figures do not.
 * VPN_BENCH_QUICK=1 runs a few iterations only (the ctest smoke run).
 * The last line is esp_gcm128_1400_vs_aead=<median of ESP encap / bare AEAD
 * seal, 1400 bytes>.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "common/rng.h"
#include "common/vpn-err.h"
#include "common/wire.h"
#include "crypto/crypto-ids.h"
#include "ipsec/esp.h"
#include "ipsec/ip.h"
#include "ipsec/spd.h"
#include "bench-quick.h"

/* ---- allocation counting ----------------------------------------------------------- */

static unsigned long long g_ossl_allocs, g_libc_allocs;

static void *count_malloc(size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    g_ossl_allocs++;
    return malloc(n);
}

static void *count_realloc(void *p, size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    g_ossl_allocs++;
    return realloc(p, n);
}

static void count_free(void *p, const char *file, int line)
{
    (void)file;
    (void)line;
    free(p);
}

#if defined(__GLIBC__)
/* Every allocation in the process, ours included, through glibc's own
 * entry points. */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
void *malloc(size_t n)
{
    g_libc_allocs++;
    return __libc_malloc(n);
}
void *calloc(size_t a, size_t b)
{
    g_libc_allocs++;
    return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n)
{
    g_libc_allocs++;
    return __libc_realloc(p, n);
}
void free(void *p)
{
    __libc_free(p);
}
#define HAVE_LIBC_COUNT 1
#else
#define HAVE_LIBC_COUNT 0
#endif

/* ---- timing -------------------------------------------------------------------------- */

/* CPU time of the process (one thread): on a machine shared with other
 * jobs, wall time also counts the slices they take. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int g_quick;
static double g_budget = 0.08; /* seconds per measurement */
#define REPS 9                 /* repetitions of each measurement (1 in quick mode) */

#define CAP 2048
#define HEAD 128
#define BATCH 32

static int fill_rng(void *ctx, uint8_t *out, size_t len)
{
    uint64_t *c = ctx;
    for (size_t i = 0; i < len; i++)
        out[i] = (uint8_t)(++*c * 0x9e3779b97f4a7c15ull >> 56);
    return 0;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "esp-bench: %s failed: %d %s\n", what, rc, vpn_strerror(rc));
    exit(1);
}

static vpn_addr a4(uint32_t v)
{
    vpn_addr a;
    vpn_addr_v4(&a, v);
    return a;
}

/* An IPv4 UDP packet of exactly size bytes. */
static void make_inner(uint8_t *out, size_t size)
{
    vpn_ip_hdr h;
    memset(&h, 0, sizeof h);
    h.src = a4(0x0a010001);
    h.dst = a4(0x0a020001);
    h.proto = VPN_IPPROTO_UDP;
    h.ttl = 64;
    h.tos = 0xb8;
    vpn_ip_hdr_write(out, &h, size - 20);
    vpn_store16(out + 20, 4000);
    vpn_store16(out + 22, 5000);
    vpn_store16(out + 24, (uint16_t)(size - 20));
    vpn_store16(out + 26, 0);
    for (size_t i = 28; i < size; i++)
        out[i] = (uint8_t)i;
}

typedef struct result {
    double ops, mbps, ns;
} result;

static result finish(double secs, unsigned long long ops, size_t size)
{
    result r;
    r.ops = (double)ops / secs;
    r.mbps = r.ops * (double)size / 1e6;
    r.ns = 1e9 / r.ops;
    return r;
}

typedef struct esp_pair {
    vpn_sad *tx, *rx;
    vpn_sa *out, *in;
} esp_pair;

static void pair_open(esp_pair *p, vpn_rng *rng, uint16_t encr, uint16_t integ)
{
    static uint8_t ek[32], ik[32];
    vpn_sa_config c;
    int rc;

    for (int i = 0; i < 32; i++) {
        ek[i] = (uint8_t)(i + 1);
        ik[i] = (uint8_t)(i + 101);
    }
    memset(&c, 0, sizeof c);
    c.spi = 0x12345678;
    c.mode = VPN_ESP_TUNNEL;
    c.encr_id = encr;
    c.encr_key_bits = 128;
    c.encr_key = ek;
    c.encr_key_len = encr == VPN_ENCR_AES_CBC ? 16 : 20;
    c.integ_id = integ;
    c.integ_key = integ ? ik : NULL;
    c.integ_key_len = integ ? 32 : 0;
    c.replay_window = 1024;
    c.dscp = VPN_SA_DSCP_COPY;
    c.local = a4(0xc6336401);
    c.remote = a4(0xc6336402);
    if ((rc = vpn_sad_new(&p->tx, rng)) || (rc = vpn_sad_new(&p->rx, rng)))
        die("vpn_sad_new", rc);
    c.dir = VPN_SA_OUT;
    if ((rc = vpn_sad_add(p->tx, &c, 0, &p->out)))
        die("vpn_sad_add", rc);
    c.dir = VPN_SA_IN;
    c.local = a4(0xc6336402);
    c.remote = a4(0xc6336401);
    if ((rc = vpn_sad_add(p->rx, &c, 0, &p->in)))
        die("vpn_sad_add", rc);
}

static void pair_close(esp_pair *p)
{
    vpn_sad_del(p->tx);
    vpn_sad_del(p->rx);
}

static result bench_encap(esp_pair *p, size_t size)
{
    static uint8_t inner[CAP], buf[CAP];
    unsigned long long ops = 0;
    double t0, t;
    vpn_pkt k;
    int rc;

    make_inner(inner, size);
    t0 = now_s();
    do {
        for (int i = 0; i < 256; i++) {
            vpn_pkt_init(&k, buf, CAP, HEAD);
            memcpy(vpn_pkt_put(&k, size), inner, size);
            if ((rc = vpn_esp_encap(p->out, &k, 0)))
                die("vpn_esp_encap", rc);
        }
        ops += 256;
        t = now_s() - t0;
    } while (t < g_budget && !(g_quick && ops >= 256));
    return finish(t, ops, size);
}

static result bench_decap(esp_pair *p, size_t size)
{
    static uint8_t inner[CAP], store[BATCH][CAP], buf[CAP];
    static size_t off[BATCH], len[BATCH];
    unsigned long long ops = 0;
    double t = 0;
    vpn_pkt k;
    vpn_esp_rx rx;
    int rc;

    make_inner(inner, size);
    do {
        double t0;
        /* A fresh batch with the next sequence numbers (not timed). */
        for (int i = 0; i < BATCH; i++) {
            vpn_pkt_init(&k, store[i], CAP, HEAD);
            memcpy(vpn_pkt_put(&k, size), inner, size);
            if ((rc = vpn_esp_encap(p->out, &k, 0)))
                die("vpn_esp_encap", rc);
            off[i] = k.off;
            len[i] = k.len;
        }
        t0 = now_s();
        for (int i = 0; i < BATCH; i++) {
            k.buf = buf;
            k.cap = CAP;
            k.off = off[i];
            k.len = len[i];
            memcpy(buf + off[i], store[i] + off[i], len[i]);
            if ((rc = vpn_esp_decap(p->rx, &k, 0, &rx)))
                die("vpn_esp_decap", rc);
        }
        t += now_s() - t0;
        ops += BATCH;
    } while (t < g_budget && !g_quick);
    return finish(t, ops, size);
}

/* OpenSSL alone: AES-128-GCM seal of size bytes with an 8-byte AAD, the
 * context keyed once, a new nonce per packet. */
static result bench_bare_aead(size_t size)
{
    static uint8_t buf[CAP], key[16], nonce[12], aad[8], tag[16];
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    EVP_CIPHER *gcm = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
    unsigned long long ops = 0;
    double t0, t;
    int l;

    if (!ctx || !gcm || EVP_EncryptInit_ex(ctx, gcm, NULL, key, NULL) != 1)
        die("EVP GCM", 0);
    t0 = now_s();
    do {
        for (int i = 0; i < 256; i++) {
            int ok;
            nonce[11] = (uint8_t)i;
            ok = EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, nonce) == 1 &&
                 EVP_EncryptUpdate(ctx, NULL, &l, aad, 8) == 1 &&
                 EVP_EncryptUpdate(ctx, buf, &l, buf, (int)size) == 1 &&
                 EVP_EncryptFinal_ex(ctx, buf + size, &l) == 1 &&
                 EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag) == 1;
            if (!ok)
                die("bare AEAD", 0);
        }
        ops += 256;
        t = now_s() - t0;
    } while (t < g_budget && !(g_quick && ops >= 256));
    EVP_CIPHER_free(gcm);
    EVP_CIPHER_CTX_free(ctx);
    return finish(t, ops, size);
}

/* OpenSSL alone: AES-128-CBC over size bytes rounded to blocks, then
 * HMAC-SHA-256 over header, IV and ciphertext. */
static result bench_bare_cbc_hmac(size_t size)
{
    static uint8_t buf[CAP], key[16], iv[16], mac[64], md[32];
    size_t n = (size + 15) / 16 * 16;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    EVP_CIPHER *cbc = EVP_CIPHER_fetch(NULL, "AES-128-CBC", NULL);
    EVP_MAC *hm = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *mc = hm ? EVP_MAC_CTX_new(hm) : NULL;
    OSSL_PARAM params[2];
    unsigned long long ops = 0;
    double t0, t;
    int l;
    size_t ml;

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    if (!ctx || !cbc || !mc || EVP_EncryptInit_ex(ctx, cbc, NULL, key, iv) != 1 ||
        EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 || EVP_MAC_init(mc, mac, 32, params) != 1)
        die("EVP CBC/HMAC", 0);
    t0 = now_s();
    do {
        for (int i = 0; i < 256; i++) {
            int ok = EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, iv) == 1 &&
                     EVP_EncryptUpdate(ctx, buf + 24, &l, buf + 24, (int)n) == 1 &&
                     EVP_MAC_init(mc, NULL, 0, NULL) == 1 &&
                     EVP_MAC_update(mc, buf, n + 24) == 1 &&
                     EVP_MAC_final(mc, md, &ml, sizeof md) == 1;
            if (!ok)
                die("bare CBC+HMAC", 0);
        }
        ops += 256;
        t = now_s() - t0;
    } while (t < g_budget && !(g_quick && ops >= 256));
    EVP_MAC_CTX_free(mc);
    EVP_MAC_free(hm);
    EVP_CIPHER_free(cbc);
    EVP_CIPHER_CTX_free(ctx);
    return finish(t, ops, size);
}

/* OpenSSL alone: AES-128-GCM open (decrypt and check the tag) of size bytes
 * with an 8-byte AAD, out of place (the ciphertext stays intact). */
static result bench_bare_aead_open(size_t size)
{
    static uint8_t ct[CAP], pt[CAP], key[16], nonce[12], aad[8], tag[16];
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    EVP_CIPHER *gcm = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
    unsigned long long ops = 0;
    double t0, t;
    int l;

    /* One valid sealed message to open again and again. */
    if (!ctx || !gcm || EVP_EncryptInit_ex(ctx, gcm, NULL, key, nonce) != 1 ||
        EVP_EncryptUpdate(ctx, NULL, &l, aad, 8) != 1 ||
        EVP_EncryptUpdate(ctx, ct, &l, pt, (int)size) != 1 || EVP_EncryptFinal_ex(ctx, ct + size, &l) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag) != 1 ||
        EVP_DecryptInit_ex(ctx, gcm, NULL, key, NULL) != 1)
        die("EVP GCM open", 0);
    t0 = now_s();
    do {
        for (int i = 0; i < 256; i++) {
            int ok = EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, nonce) == 1 &&
                     EVP_DecryptUpdate(ctx, NULL, &l, aad, 8) == 1 &&
                     EVP_DecryptUpdate(ctx, pt, &l, ct, (int)size) == 1 &&
                     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, tag) == 1 &&
                     EVP_DecryptFinal_ex(ctx, pt + size, &l) == 1;
            if (!ok)
                die("bare AEAD open", 0);
        }
        ops += 256;
        t = now_s() - t0;
    } while (t < g_budget && !(g_quick && ops >= 256));
    EVP_CIPHER_free(gcm);
    EVP_CIPHER_CTX_free(ctx);
    return finish(t, ops, size);
}

/* OpenSSL alone, what decap does: HMAC-SHA-256 over header, IV and
 * ciphertext compared with the ICV, then AES-128-CBC decryption of size
 * bytes rounded to blocks, out of place. */
static result bench_bare_hmac_cbc_dec(size_t size)
{
    static uint8_t buf[CAP], out[CAP], key[16], iv[16], mac[64], md[32], icv[32];
    size_t n = (size + 15) / 16 * 16;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    EVP_CIPHER *cbc = EVP_CIPHER_fetch(NULL, "AES-128-CBC", NULL);
    EVP_MAC *hm = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *mc = hm ? EVP_MAC_CTX_new(hm) : NULL;
    OSSL_PARAM params[2];
    unsigned long long ops = 0;
    double t0, t;
    int l;
    size_t ml;

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    if (!ctx || !cbc || !mc || EVP_DecryptInit_ex(ctx, cbc, NULL, key, iv) != 1 ||
        EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 || EVP_MAC_init(mc, mac, 32, params) != 1 ||
        EVP_MAC_update(mc, buf, n + 24) != 1 || EVP_MAC_final(mc, icv, &ml, sizeof icv) != 1)
        die("EVP HMAC/CBC", 0);
    t0 = now_s();
    do {
        for (int i = 0; i < 256; i++) {
            int ok = EVP_MAC_init(mc, NULL, 0, NULL) == 1 && EVP_MAC_update(mc, buf, n + 24) == 1 &&
                     EVP_MAC_final(mc, md, &ml, sizeof md) == 1 && CRYPTO_memcmp(md, icv, 16) == 0 &&
                     EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, iv) == 1 &&
                     EVP_DecryptUpdate(ctx, out, &l, buf + 24, (int)n) == 1;
            if (!ok)
                die("bare HMAC+CBC decrypt", 0);
        }
        ops += 256;
        t = now_s() - t0;
    } while (t < g_budget && !(g_quick && ops >= 256));
    EVP_MAC_CTX_free(mc);
    EVP_MAC_free(hm);
    EVP_CIPHER_free(cbc);
    EVP_CIPHER_CTX_free(ctx);
    return finish(t, ops, size);
}

/* ---- repetitions ------------------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median, minimum and maximum of n values (n >= 1); v is sorted. */
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

/* ---- SPD ------------------------------------------------------------------------------- */

/* n entries like a site-to-site ACL: 10.a.b.0/24 -> 172.16+c.d.0/24
 * protect, a few bypass and discard lines among them, and a final
 * permit-any. Lookups hit random entries. */
static double bench_spd(size_t n)
{
    enum { FLOWS = 4096 };
    static vpn_ip_info flows[FLOWS];
    vpn_spd *spd;
    unsigned long long ops = 0, hits = 0;
    double t0, t;
    uint32_t x = 12345;
    int rc;

    if ((rc = vpn_spd_new(&spd, VPN_SPD_DISCARD)))
        die("vpn_spd_new", rc);
    for (size_t i = 0; i < n; i++) {
        vpn_spd_entry e;
        memset(&e, 0, sizeof e);
        e.seq = (uint32_t)(i + 1) * 10;
        e.action = i % 97 == 5 ? VPN_SPD_BYPASS : VPN_SPD_PROTECT;
        e.sel.family = 4;
        e.sel.src.addr = a4(0x0a000000u | (uint32_t)(i & 0xffff) << 8);
        e.sel.src.len = 24;
        e.sel.dst.addr = a4(0xac100000u | (uint32_t)((i * 7) & 0xfffff) << 8);
        e.sel.dst.len = 24;
        if (i % 13 == 0)
            e.sel.proto = VPN_IPPROTO_UDP;
        if ((rc = vpn_spd_add(spd, &e, NULL)))
            die("vpn_spd_add", rc);
    }
    {
        vpn_spd_entry any;
        memset(&any, 0, sizeof any);
        any.seq = UINT32_MAX;
        any.action = VPN_SPD_BYPASS;
        any.sel.family = 4;
        vpn_spd_add(spd, &any, NULL);
    }
    for (int i = 0; i < FLOWS; i++) {
        size_t k;
        x = x * 1103515245u + 12345u;
        k = (x >> 8) % n;
        memset(&flows[i], 0, sizeof flows[i]);
        flows[i].version = 4;
        flows[i].src = a4(0x0a000000u | (uint32_t)(k & 0xffff) << 8 | 7);
        flows[i].dst = a4(0xac100000u | (uint32_t)((k * 7) & 0xfffff) << 8 | 9);
        flows[i].proto = VPN_IPPROTO_UDP;
        flows[i].has_ports = true;
        flows[i].sport = 4000;
        flows[i].dport = 5000;
    }
    t0 = now_s();
    do {
        for (int i = 0; i < FLOWS; i++)
            hits += vpn_spd_lookup(spd, &flows[i], NULL) == VPN_SPD_PROTECT;
        ops += FLOWS;
        t = now_s() - t0;
    } while (t < g_budget && !g_quick);
    if (hits == 0)
        die("SPD lookups found nothing", 0);
    vpn_spd_del(spd);
    return t / (double)ops * 1e9;
}

/* ---- allocations ------------------------------------------------------------------------ */

static void count_allocs(esp_pair *p, size_t size, double *ossl, double *libc)
{
    static uint8_t inner[CAP], buf[CAP];
    const int N = 2000;
    unsigned long long o0, l0;
    vpn_pkt k;
    vpn_esp_rx rx;
    int rc;

    make_inner(inner, size);
    /* Warm up (first-use allocations inside OpenSSL are not per packet). */
    for (int i = 0; i < 10; i++) {
        vpn_pkt_init(&k, buf, CAP, HEAD);
        memcpy(vpn_pkt_put(&k, size), inner, size);
        vpn_esp_encap(p->out, &k, 0);
        vpn_esp_decap(p->rx, &k, 0, &rx);
    }
    o0 = g_ossl_allocs;
    l0 = g_libc_allocs;
    for (int i = 0; i < N; i++) {
        vpn_pkt_init(&k, buf, CAP, HEAD);
        memcpy(vpn_pkt_put(&k, size), inner, size);
        if ((rc = vpn_esp_encap(p->out, &k, 0)))
            die("vpn_esp_encap", rc);
        if ((rc = vpn_esp_decap(p->rx, &k, 0, &rx)))
            die("vpn_esp_decap", rc);
    }
    *ossl = (double)(g_ossl_allocs - o0) / N;
    *libc = (double)(g_libc_allocs - l0) / N;
}

static void print_row(const char *name, size_t size, stat3 ops, double ns, stat3 ratio, int has_ratio)
{
    char r[48] = "1.00 (baseline)";
    if (has_ratio)
        snprintf(r, sizeof r, "%.2f [%.2f-%.2f]", ratio.med, ratio.lo, ratio.hi);
    printf("%-34s %6zu %10.0f [%.0f-%.0f] %9.1f %9.1f  %s\n", name, size, ops.med, ops.lo, ops.hi,
           ops.med * (double)size / 1e6, ns, r);
}

int main(void)
{
    static const size_t sizes[] = {64, 200, 1400};
    uint64_t ctr = 0;
    vpn_rng rng = {fill_rng, &ctr};
    double gcm1400_ratio = 0, spd10, spd10k;
    double a_ossl[2], a_libc[2];
    int reps;

    /* Before anything in OpenSSL allocates. */
    CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free);
    g_quick = vpn_bench_quick();
    if (g_quick)
        g_budget = 0.001;
    reps = g_quick ? 1 : REPS;

    printf("ESP data plane, one thread%s; bare = OpenSSL crypto only on the same bytes\n",
           g_quick ? " (quick mode: figures are not meaningful)" : "");
    printf("each figure: median of %d runs of %.0f ms of CPU time [min-max]; encap is compared with the bare\n"
           "encryption, decap with the bare decryption of the same mode and size, run right before it\n",
           reps, g_budget * 1000);
    printf("%-34s %6s %10s %-17s %9s %9s  %s\n", "operation", "bytes", "ops/s", "", "MB/s", "ns/op",
           "vs bare");
    for (int alg = 0; alg < 2; alg++) {
        esp_pair p;
        const char *an = alg == 0 ? "aes-gcm-128" : "aes-cbc-128+hmac-sha256";
        pair_open(&p, &rng, alg == 0 ? VPN_ENCR_AES_GCM_16 : VPN_ENCR_AES_CBC,
                  alg == 0 ? VPN_INTEG_NONE : VPN_AUTH_HMAC_SHA2_256_128);
        for (size_t si = 0; si < 3; si++) {
            size_t sz = sizes[si];
            double be[REPS], bd[REPS], en[REPS], de[REPS], re[REPS], rd[REPS];
            stat3 sbe, sbd, sen, sde, sre, srd;
            char name[64];

            for (int r = 0; r < reps; r++) {
                be[r] = (alg == 0 ? bench_bare_aead(sz) : bench_bare_cbc_hmac(sz)).ops;
                en[r] = bench_encap(&p, sz).ops;
                bd[r] = (alg == 0 ? bench_bare_aead_open(sz) : bench_bare_hmac_cbc_dec(sz)).ops;
                de[r] = bench_decap(&p, sz).ops;
                re[r] = en[r] / be[r];
                rd[r] = de[r] / bd[r];
            }
            sbe = stats(be, reps);
            sen = stats(en, reps);
            sbd = stats(bd, reps);
            sde = stats(de, reps);
            sre = stats(re, reps);
            srd = stats(rd, reps);
            snprintf(name, sizeof name, "bare %s", alg == 0 ? "aead seal" : "cbc enc+hmac");
            print_row(name, sz, sbe, 1e9 / sbe.med, sre, 0);
            snprintf(name, sizeof name, "esp encap %s", an);
            print_row(name, sz, sen, 1e9 / sen.med, sre, 1);
            snprintf(name, sizeof name, "bare %s", alg == 0 ? "aead open" : "hmac+cbc dec");
            print_row(name, sz, sbd, 1e9 / sbd.med, srd, 0);
            snprintf(name, sizeof name, "esp decap %s", an);
            print_row(name, sz, sde, 1e9 / sde.med, srd, 1);
            if (alg == 0 && sz == 1400)
                gcm1400_ratio = sre.med;
        }
        count_allocs(&p, 1400, &a_ossl[alg], &a_libc[alg]);
        pair_close(&p);
    }
    {
        double s10[REPS], s10k[REPS], rr[REPS];
        stat3 a, b, c;
        for (int r = 0; r < reps; r++) {
            s10[r] = bench_spd(10);
            s10k[r] = bench_spd(10000);
            rr[r] = s10k[r] / s10[r];
        }
        a = stats(s10, reps);
        b = stats(s10k, reps);
        c = stats(rr, reps);
        spd10 = a.med;
        spd10k = b.med;
        printf("%-34s %6s %10.0f %-17s %9s %9.1f  [%.1f-%.1f ns]\n", "spd lookup, 10 entries", "-",
               1e9 / spd10, "", "-", spd10, a.lo, a.hi);
        printf("%-34s %6s %10.0f %-17s %9s %9.1f  [%.1f-%.1f ns] x%.2f [%.2f-%.2f] of 10 entries\n",
               "spd lookup, 10000 entries", "-", 1e9 / spd10k, "", "-", spd10k, b.lo, b.hi, c.med, c.lo,
               c.hi);
    }
    printf("allocations per packet (encap + decap, 1400 B): gcm openssl %.3f all %s%.3f; "
           "cbc+hmac openssl %.3f all %s%.3f\n",
           a_ossl[0], HAVE_LIBC_COUNT ? "" : "(n/a) ", a_libc[0], a_ossl[1],
           HAVE_LIBC_COUNT ? "" : "(n/a) ", a_libc[1]);
    printf("esp_gcm128_1400_vs_aead=%.3f\n", gcm1400_ratio);
    return 0;
}
