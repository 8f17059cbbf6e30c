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
 *   - (first byte 2 mod 4) a GROUPKEY-PULL played against a fresh member
 *     (fresh key server for phase 1): [length of part A u16][A][B] where
 *     A and B are payload chains as above that the harness sends as
 *     messages 2 (after HASH(2) and Nr) and 4 (after HASH(4)), with
 *     correct HASHes under the phase-1 keys, so registration content is
 *     fuzzed past the HASH checks.
 * After every input the member must be in a consistent state (registered
 * means a usable TEK) with a bounded SAD and SPD.
 * VPN_FUZZ_GEN_SEEDS=DIR writes the seed corpus (a real rekey's payloads);
 * the *-gdoid-* seeds are the Cisco GDOI reference implementation's
 * payloads from test/core/data/gdoid/ (legacy algorithms are enabled).
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
static uint8_t g_v2[4096], g_v4[4096];
static size_t g_v2l, g_v4l;
static unsigned g_nq;

static void on_send(void *user, const vpn_addr *src, const vpn_addr *dst, const uint8_t *dg,
                    size_t len, const uint8_t *view, size_t vlen)
{
    (void)user;
    (void)src;
    if (dg[18] == 32 && view && vlen <= sizeof g_v2 && vpn_addr_eq(dst, &g_gma)) {
        if (!g_v2l) {
            memcpy(g_v2, view, vlen);
            g_v2l = vlen;
        } else if (!g_v4l) {
            memcpy(g_v4, view, vlen);
            g_v4l = vlen;
        }
    }
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
    gc.allow_legacy = true; /* reach the 3DES/SHA-1 paths (gdoid seeds) */
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

/* Appends the TLV chain in data as raw payloads. */
static void add_tlv(vpn_isakmp_bld *b, const uint8_t *data, size_t size)
{
    vpn_rd r;
    vpn_rd_init(&r, data, size);
    while (vpn_rd_left(&r) >= 3) {
        uint8_t t;
        uint16_t l;
        const uint8_t *body;
        vpn_rd_u8(&r, &t);
        vpn_rd_u16(&r, &l);
        if (vpn_rd_view(&r, &body, l))
            break;
        vpn_isakmp_bld_raw(b, t ? t : 13, body, l);
    }
}

/* A pull message from the harness acting as KS: HASH(n), [Nr,] chain. */
static size_t pull_msg(const vpn_ikev1_sa *p1, uint32_t mid, unsigned n, vpn_isakmp_view ni,
                       vpn_isakmp_view nr, const uint8_t *tlv, size_t tlen, uint8_t iv[16],
                       uint8_t *buf, size_t cap)
{
    vpn_isakmp_bld b;
    vpn_isakmp_hdr h;
    vpn_iov d;
    uint8_t in[8192], *slot;
    size_t len, hl;
    vpn_wr w;

    memset(&h, 0, sizeof h);
    memcpy(h.icookie, vpn_ikev1_sa_icookie(p1), 8);
    memcpy(h.rcookie, vpn_ikev1_sa_rcookie(p1), 8);
    h.version = 0x10;
    h.exchange = 32;
    h.msg_id = mid;
    vpn_isakmp_bld_init(&b, buf, cap, &h);
    vpn_isakmp_bld_placeholder(&b, 8, vpn_ikev1_sa_prf_len(p1), &slot);
    if (n == 2)
        vpn_isakmp_bld_raw(&b, 10, nr.p, nr.len);
    add_tlv(&b, tlv, tlen);
    if (vpn_isakmp_bld_pad(&b, 16, &len))
        return 0;
    vpn_wr_init(&w, in, sizeof in);
    if (vpn_gdoi_pull_hash_input_bld(n, &b, ni, nr, &w))
        return 0;
    d.p = in;
    d.len = vpn_wr_len(&w);
    CHECK(vpn_ikev1_sa_prf_a(p1, &d, 1, slot, 64, &hl) == 0);
    CHECK(vpn_ikev1_sa_encrypt(p1, iv, buf + 28, len - 28) == 0);
    return len;
}

static void fuzz_pull(const uint8_t *data, size_t size)
{
    static uint8_t buf[8192], plain[4096], ni_copy[256];
    static const uint8_t nr_bytes[16] = "fuzz-nonce-resp";
    vpn_gdoi_ks *ks = g_ks;
    vpn_gdoi_gm *gm = g_gm;
    vpn_sad *sad = g_sad;
    vpn_spd *spd = g_spd;
    vpn_gdoi_ks_cfg kc;
    vpn_gdoi_gm_cfg gc;
    const vpn_ikev1_sa *p1;
    vpn_isakmp_msg m;
    const vpn_isakmp_payload *np;
    vpn_isakmp_view ni, nr = {nr_bytes, sizeof nr_bytes};
    uint8_t iv[16];
    uint32_t mid;
    uint16_t alen;
    size_t len;

    if (size < 2)
        return;
    alen = (uint16_t)(data[0] << 8 | data[1]);
    data += 2;
    size -= 2;
    if (alen > size)
        alen = (uint16_t)size;
    /* a fresh key server and member; phase 1 runs for real */
    memset(&kc, 0, sizeof kc);
    kc.group_id = 7;
    kc.local = g_ksa;
    kc.ike.psk = (const uint8_t *)"fuzz";
    kc.ike.psk_len = 4;
    kc.ike.local_id = g_ksa;
    kc.tek.sel.family = 4;
    kc.tek.encr_id = 12;
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
    gc.ike.group = 19;
    gc.sad = g_sad;
    gc.spd = g_spd;
    gc.allow_legacy = true; /* reach the 3DES/SHA-1 paths (gdoid seeds) */
    CHECK(vpn_gdoi_gm_new(&g_gm, &gc, &g_rng, NULL, on_send, NULL) == 0);
    g_nq = 0;
    CHECK(vpn_gdoi_gm_start(g_gm, g_now) == 0);
    while (g_nq && vpn_gdoi_gm_get_state(g_gm) != VPN_GDOI_GM_PULL1) {
        uint8_t b[4096];
        size_t l = g_ql[0];
        int to = g_qto[0];
        memcpy(b, g_q[0], l);
        memmove(g_q, g_q + 1, (g_nq - 1) * sizeof g_q[0]);
        memmove(g_ql, g_ql + 1, (g_nq - 1) * sizeof g_ql[0]);
        memmove(g_qto, g_qto + 1, (g_nq - 1) * sizeof g_qto[0]);
        g_nq--;
        if (to == 0)
            vpn_gdoi_ks_input(g_ks, &g_gma, b, l, g_now);
        else
            vpn_gdoi_gm_input(g_gm, b, l, g_now);
    }
    CHECK(vpn_gdoi_gm_get_state(g_gm) == VPN_GDOI_GM_PULL1 && g_nq == 1);
    /* message 1 as the KS would read it */
    p1 = vpn_gdoi_gm_phase1(g_gm);
    CHECK(vpn_isakmp_msg_parse(g_q[0], g_ql[0], &m) == 0 && m.encrypted);
    mid = m.hdr.msg_id;
    CHECK(vpn_ikev1_sa_p2_iv(p1, mid, iv) == 0);
    memcpy(plain, m.body, m.body_len);
    CHECK(vpn_ikev1_sa_decrypt(p1, iv, plain, m.body_len) == 0);
    CHECK(vpn_isakmp_msg_parse_plain(&m, plain, m.body_len, NULL) == 0);
    np = vpn_isakmp_msg_find(&m, 10, 0);
    CHECK(np && np->body_len <= sizeof ni_copy);
    memcpy(ni_copy, np->body, np->body_len); /* plain is reused for message 3 */
    ni.p = ni_copy;
    ni.len = np->body_len;
    g_nq = 0;
    len = pull_msg(p1, mid, 2, ni, nr, data, alen, iv, buf, sizeof buf);
    if (len)
        vpn_gdoi_gm_input(g_gm, buf, len, g_now);
    if (vpn_gdoi_gm_get_state(g_gm) == VPN_GDOI_GM_PULL3) {
        CHECK(g_nq == 1);
        /* message 3 moves the CBC chain on */
        CHECK(vpn_isakmp_msg_parse(g_q[0], g_ql[0], &m) == 0 && m.body_len <= sizeof plain);
        memcpy(plain, m.body, m.body_len);
        CHECK(vpn_ikev1_sa_decrypt(p1, iv, plain, m.body_len) == 0);
        g_nq = 0;
        len = pull_msg(p1, mid, 4, ni, nr, data + alen, size - alen, iv, buf, sizeof buf);
        if (len) {
            int rc = vpn_gdoi_gm_input(g_gm, buf, len, g_now);
            if (getenv("VPN_FUZZ_DEBUG"))
                fprintf(stderr, "pull: message 4 -> %d\n", rc);
        }
    }
    g_nq = 0;
    if (getenv("VPN_FUZZ_DEBUG"))
        fprintf(stderr, "pull: member state %d\n", vpn_gdoi_gm_get_state(g_gm));
    CHECK(vpn_gdoi_gm_get_state(g_gm) != VPN_GDOI_GM_REGISTERED || vpn_gdoi_gm_tek(g_gm));
    CHECK(vpn_sad_count(g_sad) <= 4 && vpn_spd_count(g_spd) <= 3);
    vpn_gdoi_gm_del(g_gm);
    vpn_gdoi_ks_del(g_ks);
    vpn_sad_del(g_sad);
    vpn_spd_del(g_spd);
    g_ks = ks;
    g_gm = gm;
    g_sad = sad;
    g_spd = spd;
}

/* Seed for the pull mode: the real messages 2 and 4 of a registration. */
static void gen_pull_seed(const char *dir, const uint8_t *v2, size_t l2, const uint8_t *v4,
                          size_t l4)
{
    vpn_isakmp_msg m2, m4;
    uint8_t out[8192];
    size_t n = 3, a;

    CHECK(vpn_isakmp_msg_parse(v2, l2, &m2) == 0 && vpn_isakmp_msg_parse(v4, l4, &m4) == 0);
    out[0] = 2;
    for (size_t i = 2; i < m2.n; i++) { /* after HASH and Nr */
        out[n++] = m2.pl[i].type;
        out[n++] = (uint8_t)(m2.pl[i].body_len >> 8);
        out[n++] = (uint8_t)m2.pl[i].body_len;
        memcpy(out + n, m2.pl[i].body, m2.pl[i].body_len);
        n += m2.pl[i].body_len;
    }
    a = n - 3;
    out[1] = (uint8_t)(a >> 8);
    out[2] = (uint8_t)a;
    for (size_t i = 1; i < m4.n; i++) { /* after HASH */
        out[n++] = m4.pl[i].type;
        out[n++] = (uint8_t)(m4.pl[i].body_len >> 8);
        out[n++] = (uint8_t)m4.pl[i].body_len;
        memcpy(out + n, m4.pl[i].body, m4.pl[i].body_len);
        n += m4.pl[i].body_len;
    }
    write_seed(dir, "pull-msgs-2-4.bin", out, n);
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
        if (gen) {
            gen_seeds(gen);
            gen_pull_seed(gen, g_v2, g_v2l, g_v4, g_v4l);
        }
    }
    if (size < 1)
        return 0;
    g_now += 1000; /* keep keys from lapsing over a long run */
    if ((data[0] & 3) == 2) {
        fuzz_pull(data + 1, size - 1);
        return 0;
    }
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
    vpn_gdoi_gm_timeout(g_gm, g_now);
    g_nq = 0;
    CHECK(vpn_gdoi_gm_get_state(g_gm) != VPN_GDOI_GM_REGISTERED || vpn_gdoi_gm_tek(g_gm));
    CHECK(vpn_sad_count(g_sad) <= 4);
    CHECK(vpn_spd_count(g_spd) <= 3);
    return 0;
}
