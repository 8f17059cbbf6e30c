/*
 * libFuzzer target: a registered GDOI group member against hostile
 * GROUPKEY-PUSH content. Setup (once): a key server and a member register
 * in memory. Each input is then either
 *   - (first byte odd) a raw datagram handed to the member, or
 *   - (first byte even) a payload chain [type u8][length u16][body]...
 *     that the harness wraps as an authentic rekey: SEQ above the last
 *     one first, the chain, a SIG made with the key server's RSA key,
 *     all encrypted under the member's current KEK. This gets past the
 *     signature and replay checks to the SA/KD decoders, the staging and
 *     the SAD/SPD installation (the CVE-2023-20109 class: a trusted but
 *     broken key server must not crash or corrupt a member).
 * After every input the member must still be registered with a usable
 * TEK and a bounded SAD.
 * VPN_FUZZ_GEN_SEEDS=DIR writes the seed corpus (a real rekey's payloads).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/rng.h"
#include "crypto/cipher.h"
#include "gdoi/gdoi.h"
#include "isakmp/gdoi-codec.h"
#include "isakmp/isakmp-build.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                  \
    do {                                                                                          \
        if (!(c))                                                                                 \
            abort();                                                                              \
    } while (0)
#define NS 1000000000ull

static vpn_drbg g_drbg;
static vpn_rng g_rng;
static vpn_sig_key *g_rsa;
static vpn_gdoi_ks *g_ks;
static vpn_gdoi_gm *g_gm;
static vpn_sad *g_sad;
static vpn_spd *g_spd;
static vpn_addr g_ksa, g_gma;
static uint64_t g_now = 5 * NS;
static uint8_t g_q[32][4096], g_push_view[4096];
static size_t g_ql[32], g_push_view_len;
static int g_qto[32]; /* 0 KS, 1 GM */
static unsigned g_nq;

static void on_send(void *user, const vpn_addr *src, const vpn_addr *dst, const uint8_t *dg,
                    size_t len, const uint8_t *view, size_t vlen)
{
    (void)user;
    (void)src;
    if (dg[18] == 33 && view && vlen <= sizeof g_push_view) {
        memcpy(g_push_view, view, vlen);
        g_push_view_len = vlen;
    }
    if (g_nq < 32 && len <= 4096) {
        memcpy(g_q[g_nq], dg, len);
        g_ql[g_nq] = len;
        g_qto[g_nq++] = vpn_addr_eq(dst, &g_ksa) ? 0 : 1;
    }
}

static void pump(void)
{
    for (int r = 0; r < 32 && g_nq; r++) {
        static uint8_t b[32][4096];
        size_t l[32];
        int to[32];
        unsigned n = g_nq;
        memcpy(b, g_q, sizeof b);
        memcpy(l, g_ql, sizeof l);
        memcpy(to, g_qto, sizeof to);
        g_nq = 0;
        for (unsigned i = 0; i < n; i++) {
            if (to[i] == 0)
                vpn_gdoi_ks_input(g_ks, &g_gma, b[i], l[i], g_now);
            else
                vpn_gdoi_gm_input(g_gm, b[i], l[i], g_now);
        }
    }
}

static void setup(void)
{
    vpn_gdoi_ks_cfg kc;
    vpn_gdoi_gm_cfg gc;
    EVP_PKEY *pk;

    vpn_drbg_init(&g_drbg, "gdoi-fuzz-gm", 12);
    vpn_rng_init_drbg(&g_rng, &g_drbg);
    pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    CHECK(pk && vpn_sig_key_from_evp(&g_rsa, pk) == 0);
    EVP_PKEY_free(pk);
    vpn_addr_parse(&g_ksa, "192.0.2.1");
    vpn_addr_parse(&g_gma, "198.51.100.11");
    memset(&kc, 0, sizeof kc);
    kc.group_id = 7;
    kc.local = g_ksa;
    kc.ike.psk = (const uint8_t *)"fuzz";
    kc.ike.psk_len = 4;
    kc.ike.local_id = g_ksa;
    kc.tek.sel.family = 4;
    vpn_prefix_parse(&kc.tek.sel.src, "10.0.0.0/8");
    vpn_prefix_parse(&kc.tek.sel.dst, "10.0.0.0/8");
    kc.tek.encr_id = 12;
    kc.tek.tbar_window_s = 10;
    kc.rekey_key = g_rsa;
    CHECK(vpn_gdoi_ks_new(&g_ks, &kc, &g_rng, NULL, on_send, NULL, g_now) == 0);
    CHECK(vpn_sad_new(&g_sad, &g_rng) == 0);
    CHECK(vpn_spd_new(&g_spd, VPN_SPD_BYPASS) == 0);
    memset(&gc, 0, sizeof gc);
    gc.group_id = 7;
    gc.local = g_gma;
    gc.ks = g_ksa;
    gc.ike.psk = (const uint8_t *)"fuzz";
    gc.ike.psk_len = 4;
    gc.sad = g_sad;
    gc.spd = g_spd;
    CHECK(vpn_gdoi_gm_new(&g_gm, &gc, &g_rng, NULL, on_send, NULL) == 0);
    CHECK(vpn_gdoi_gm_start(g_gm, g_now) == 0);
    pump();
    CHECK(vpn_gdoi_gm_get_state(g_gm) == VPN_GDOI_GM_REGISTERED);
    CHECK(vpn_gdoi_ks_rekey(g_ks, true, g_now) == 0);
    pump();
    CHECK(vpn_gdoi_gm_last_seq(g_gm) == 1);
}

static void write_seed(const char *dir, const char *name, const uint8_t *p, size_t n)
{
    char path[1024];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    CHECK(f);
    fwrite(p, 1, n, f);
    fclose(f);
}

/* Seeds: the real rekey's payloads (without SEQ and SIG) in the TLV form. */
static void gen_seeds(const char *dir)
{
    vpn_isakmp_msg m;
    uint8_t out[4096];
    size_t n = 0;

    CHECK(vpn_isakmp_msg_parse(g_push_view, g_push_view_len, &m) == 0);
    out[n++] = 0;
    for (size_t i = 1; i + 1 < m.n; i++) {
        out[n++] = m.pl[i].type;
        out[n++] = (uint8_t)(m.pl[i].body_len >> 8);
        out[n++] = (uint8_t)m.pl[i].body_len;
        memcpy(out + n, m.pl[i].body, m.pl[i].body_len);
        n += m.pl[i].body_len;
    }
    write_seed(dir, "push-chain.bin", out, n);
    {
        uint8_t raw[4097];
        raw[0] = 1;
        memcpy(raw + 1, g_push_view, g_push_view_len);
        write_seed(dir, "push-raw-view.bin", raw, g_push_view_len + 1);
    }
}

/* Wraps the chain as an authentic, KEK-encrypted rekey. */
static size_t seal(const uint8_t *data, size_t size, uint8_t *buf, size_t cap)
{
    vpn_isakmp_bld b;
    vpn_isakmp_hdr h;
    vpn_sig_alg alg;
    vpn_cipher *c;
    vpn_rd r;
    vpn_wr w;
    uint8_t in[8192], *slot;
    const uint8_t *key, *iv;
    size_t len, sl;

    memset(&h, 0, sizeof h);
    memcpy(h.icookie, vpn_gdoi_gm_kek_spi(g_gm), 8);
    memcpy(h.rcookie, vpn_gdoi_gm_kek_spi(g_gm) + 8, 8);
    h.version = 0x10;
    h.exchange = 33;
    vpn_isakmp_bld_init(&b, buf, cap, &h);
    vpn_gdoi_bld_seq(&b, vpn_gdoi_gm_last_seq(g_gm) + 1);
    vpn_rd_init(&r, data, size);
    while (vpn_rd_left(&r) >= 3) {
        uint8_t t;
        uint16_t l;
        const uint8_t *body;
        vpn_rd_u8(&r, &t);
        vpn_rd_u16(&r, &l);
        if (vpn_rd_view(&r, &body, l))
            break;
        if (t == 0)
            t = 13;
        vpn_isakmp_bld_raw(&b, t, body, l);
    }
    vpn_isakmp_bld_placeholder(&b, 9, vpn_sig_max_len(g_rsa), &slot);
    if (vpn_isakmp_bld_pad(&b, 16, &len))
        return 0;
    vpn_wr_init(&w, in, sizeof in);
    if (vpn_gdoi_push_sig_input_bld(&b, &w))
        return 0;
    vpn_sig_alg_init(&alg, VPN_SIG_RSA_PKCS1, VPN_IKE_HASH_SHA2_256);
    sl = vpn_sig_max_len(g_rsa);
    CHECK(vpn_sig_sign(g_rsa, &alg, &g_rng, in, vpn_wr_len(&w), slot, &sl) == 0);
    vpn_gdoi_gm_kek(g_gm, &key, &iv);
    CHECK(key && iv);
    CHECK(vpn_cipher_new(&c, 12, 256, key, 32, true) == 0);
    CHECK(vpn_cipher_encrypt(c, iv, buf + 28, len - 28) == 0);
    vpn_cipher_del(c);
    return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    static uint8_t buf[8192];
    const char *gen;
    size_t len;

    if (!ready) {
        setup();
        ready = 1;
        gen = getenv("VPN_FUZZ_GEN_SEEDS");
        if (gen)
            gen_seeds(gen);
    }
    if (size < 1)
        return 0;
    g_now += 1000; /* keep keys from lapsing over a long run */
    if (data[0] & 1) {
        vpn_gdoi_gm_input(g_gm, data + 1, size - 1, g_now);
    } else {
        len = seal(data + 1, size - 1, buf, sizeof buf);
        if (len) {
            int rc = vpn_gdoi_gm_input(g_gm, buf, len, g_now);
            if (getenv("VPN_FUZZ_DEBUG"))
                fprintf(stderr, "sealed rekey: %d, seq now %u\n", rc, vpn_gdoi_gm_last_seq(g_gm));
        }
    }
    g_nq = 0;
    vpn_gdoi_gm_tick(g_gm, g_now);
    g_nq = 0;
    CHECK(vpn_gdoi_gm_get_state(g_gm) != VPN_GDOI_GM_REGISTERED || vpn_gdoi_gm_tek(g_gm));
    CHECK(vpn_sad_count(g_sad) <= 4);
    CHECK(vpn_spd_count(g_spd) <= 3);
    return 0;
}
