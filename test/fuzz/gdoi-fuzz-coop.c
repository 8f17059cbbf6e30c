/*
 * libFuzzer target: COOP announcement parsing and handling at a secondary
 * key server. Setup (once): two cooperating KSs in memory establish their
 * KS-KS phase 1 and elect (KS0 primary, KS1 secondary, synced). Each input
 * is, by its first byte mod 4:
 *   0  a raw datagram to KS1 from KS0's address (header, decryption, HASH);
 *   1  a COOP payload body that the harness seals as KS0 would (HASH under
 *      the KS-KS phase-1 SA, SIG with KS0's key, a fresh announcement
 *      sequence number and, unless bit 2 of the first byte is set, this
 *      run's rekey-key hash patched in when the body is long enough), so the
 *      body decoder and what KS1 does with an authentic announcement
 *      (adopting keys, members, role changes, merge) are fuzzed past the
 *      HASH, signature and replay checks;
 *   2  a body for vpn_gdoi_coop_ann_decode alone: what it accepts must
 *      re-encode to the same bytes (the format is strict);
 *   3  a raw datagram to KS1 from an address that is no peer.
 * After every input KS1 must be in a consistent state. Every 64 inputs
 * its timers run (it may rekey, announce, take over).
 * VPN_FUZZ_GEN_SEEDS=DIR writes the seed corpus (real announcements).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/rng.h"
#include "common/wire.h"
#include "crypto/prf.h"
#include "gdoi/gdoi.h"
#include "isakmp/isakmp-build.h"
#include "isakmp/isakmp-const.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                  \
    do {                                                                                          \
        if (!(c))                                                                                 \
            abort();                                                                              \
    } while (0)
#define NS 1000000000ull
#define DG 20000

static vpn_drbg g_drbg;
static vpn_rng g_rng;
static vpn_sig_key *g_rekey, *g_k0, *g_k1;
static vpn_gdoi_ks *g_ks0, *g_ks1;
static vpn_addr g_a0, g_a1, g_evil;
static uint64_t g_now = 5 * NS;
static uint8_t g_q[16][DG];
static size_t g_ql[16];
static int g_qto[16];
static unsigned g_nq;
static bool g_live; /* deliver KS-KS traffic (setup only) */
static uint8_t g_ann[DG], g_ann_view[DG];
static size_t g_ann_len, g_ann_view_len;
static uint32_t g_seq = 1000, g_mid = 1;
static unsigned g_count;

static void on_send(void *user, const vpn_addr *src, const vpn_addr *dst, const uint8_t *dg,
                    size_t len, const uint8_t *view, size_t vlen)
{
    (void)user;
    if (dg[18] == VPN_GDOI_EXCH_COOP && vpn_addr_eq(src, &g_a0) && len <= DG && view &&
        vlen <= DG) {
        memcpy(g_ann, dg, len);
        g_ann_len = len;
        memcpy(g_ann_view, view, vlen);
        g_ann_view_len = vlen;
    }
    if (g_live && g_nq < 16 && len <= DG) {
        memcpy(g_q[g_nq], dg, len);
        g_ql[g_nq] = len;
        g_qto[g_nq++] = vpn_addr_eq(dst, &g_a0) ? 0 : 1;
    }
}

static void pump(void)
{
    static uint8_t b[16][DG];
    for (int r = 0; r < 32 && g_nq; r++) {
        size_t l[16];
        int to[16];
        unsigned n = g_nq;
        memcpy(b, g_q, n * DG);
        memcpy(l, g_ql, sizeof l);
        memcpy(to, g_qto, sizeof to);
        g_nq = 0;
        for (unsigned i = 0; i < n; i++) {
            if (to[i] == 0)
                vpn_gdoi_ks_input(g_ks0, &g_a1, b[i], l[i], g_now);
            else
                vpn_gdoi_ks_input(g_ks1, &g_a0, b[i], l[i], g_now);
        }
        g_now += 1000000;
    }
}

static vpn_sig_key *keygen(void)
{
    vpn_sig_key *k;
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    CHECK(pk && vpn_sig_key_from_evp(&k, pk) == 0);
    EVP_PKEY_free(pk);
    return k;
}

static void make_ks(vpn_gdoi_ks **out, const vpn_addr *me, const vpn_addr *peer,
                    vpn_sig_key *mine, vpn_sig_key *theirs, uint8_t prio)
{
    vpn_gdoi_ks_cfg kc;
    vpn_gdoi_coop_peer p;

    memset(&kc, 0, sizeof kc);
    kc.group_id = 7;
    kc.local = *me;
    kc.ike.psk = (const uint8_t *)"fuzz";
    kc.ike.psk_len = 4;
    kc.ike.local_id = *me;
    kc.tek.sel.family = VPN_AF_INET;
    vpn_prefix_parse(&kc.tek.sel.src, "10.0.0.0/8");
    vpn_prefix_parse(&kc.tek.sel.dst, "10.0.0.0/8");
    kc.tek.encr_id = 12;
    kc.tek.tbar_window_s = 10;
    kc.rekey_key = g_rekey;
    p.addr = *peer;
    p.pub = theirs;
    kc.coop.peers = &p;
    kc.coop.n_peers = 1;
    kc.coop.priority = prio;
    kc.coop.key = mine;
    CHECK(vpn_gdoi_ks_new(out, &kc, &g_rng, NULL, on_send, NULL, g_now) == 0);
}

static void run(uint64_t until)
{
    pump();
    while (g_now < until) {
        uint64_t d0 = vpn_gdoi_ks_next_deadline(g_ks0), d1 = vpn_gdoi_ks_next_deadline(g_ks1);
        uint64_t d = d0 < d1 ? d0 : d1;
        if (d > until)
            break;
        if (d > g_now)
            g_now = d;
        vpn_gdoi_ks_timeout(g_ks0, g_now);
        vpn_gdoi_ks_timeout(g_ks1, g_now);
        pump();
    }
    if (g_now < until)
        g_now = until;
}

static void setup(void)
{
    vpn_drbg_init(&g_drbg, "gdoi-fuzz-coop", 14);
    vpn_rng_init_drbg(&g_rng, &g_drbg);
    g_rekey = keygen();
    g_k0 = keygen();
    g_k1 = keygen();
    vpn_addr_parse(&g_a0, "192.0.2.1");
    vpn_addr_parse(&g_a1, "192.0.2.2");
    vpn_addr_parse(&g_evil, "192.0.2.99");
    make_ks(&g_ks0, &g_a0, &g_a1, g_k0, g_k1, 200);
    make_ks(&g_ks1, &g_a1, &g_a0, g_k1, g_k0, 100);
    g_live = true;
    run(g_now + 40 * NS);
    g_live = false;
    CHECK(vpn_gdoi_ks_coop_role(g_ks0) == VPN_GDOI_COOP_PRIMARY);
    CHECK(vpn_gdoi_ks_coop_role(g_ks1) == VPN_GDOI_COOP_SECONDARY);
    CHECK(vpn_gdoi_ks_tek_spi(g_ks0) == vpn_gdoi_ks_tek_spi(g_ks1));
    CHECK(vpn_gdoi_ks_coop_phase1(g_ks0, 0) != NULL && g_ann_len && g_ann_view_len);
}

/* HDR*, HASH, COOP(body), SIG as KS0 sends them to KS1. */
static size_t seal(const uint8_t *body, size_t blen, uint8_t *out, size_t cap)
{
    const vpn_ikev1_sa *sa = vpn_gdoi_ks_coop_phase1(g_ks0, 0);
    static uint8_t in[DG + 16];
    uint8_t *hslot, *sslot, h[VPN_PRF_MAX_LEN], iv[16], mb[4];
    vpn_isakmp_hdr hd;
    vpn_isakmp_bld b;
    vpn_isakmp_view after;
    vpn_sig_alg alg;
    vpn_iov d[2];
    size_t len, hl, sl;

    if (blen == 0 || blen > DG - 1024)
        return 0;
    memset(&hd, 0, sizeof hd);
    memcpy(hd.icookie, vpn_ikev1_sa_icookie(sa), 8);
    memcpy(hd.rcookie, vpn_ikev1_sa_rcookie(sa), 8);
    hd.version = VPN_ISAKMP_VERSION;
    hd.exchange = VPN_GDOI_EXCH_COOP;
    hd.msg_id = g_mid++;
    vpn_isakmp_bld_init(&b, out, cap, &hd);
    vpn_isakmp_bld_placeholder(&b, VPN_ISAKMP_PL_HASH, vpn_ikev1_sa_prf_len(sa), &hslot);
    vpn_isakmp_bld_raw(&b, VPN_GDOI_PL_COOP, body, blen);
    vpn_isakmp_bld_placeholder(&b, VPN_ISAKMP_PL_SIG, vpn_sig_max_len(g_k0), &sslot);
    if (vpn_isakmp_bld_pad(&b, 16, &len))
        return 0;
    memcpy(in, "gdoi-coop", 9);
    memcpy(in + 9, out + b.pl_off[1], blen + 4);
    vpn_sig_alg_init(&alg, VPN_SIG_RSA_PKCS1, VPN_IKE_HASH_SHA2_256);
    sl = vpn_sig_max_len(g_k0);
    CHECK(vpn_sig_sign(g_k0, &alg, NULL, in, 9 + blen + 4, sslot, &sl) == 0);
    CHECK(vpn_isakmp_bld_after(&b, 0, &after) == 0);
    vpn_store32(mb, hd.msg_id);
    d[0].p = mb;
    d[0].len = 4;
    d[1].p = after.p;
    d[1].len = after.len;
    CHECK(vpn_ikev1_sa_prf_a(sa, d, 2, h, sizeof h, &hl) == 0);
    memcpy(hslot, h, hl);
    CHECK(vpn_ikev1_sa_p2_iv(sa, hd.msg_id, iv) == 0);
    CHECK(vpn_ikev1_sa_encrypt(sa, iv, out + 28, len - 28) == 0);
    return len;
}

static const uint8_t *view_body(size_t *len)
{
    static vpn_isakmp_msg m;
    const vpn_isakmp_payload *p;
    CHECK(vpn_isakmp_msg_parse(g_ann_view, g_ann_view_len, &m) == 0);
    p = vpn_isakmp_msg_find(&m, VPN_GDOI_PL_COOP, 0);
    CHECK(p != NULL);
    *len = p->body_len;
    return p->body;
}

static void write_seed(const char *dir, const char *name, uint8_t mode, const uint8_t *p,
                       size_t n)
{
    char path[1024];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    CHECK(f != NULL);
    fputc(mode, f);
    fwrite(p, 1, n, f);
    fclose(f);
}

static void gen_seeds(const char *dir)
{
    size_t bl;
    const uint8_t *body = view_body(&bl);
    write_seed(dir, "raw-announcement.bin", 0, g_ann, g_ann_len);
    write_seed(dir, "sealed-body.bin", 1, body, bl);
    write_seed(dir, "decode-body.bin", 2, body, bl);
    write_seed(dir, "unknown-peer.bin", 3, g_ann, g_ann_len);
}

static void check_state(const vpn_gdoi_ks *ks)
{
    vpn_gdoi_coop_info ci;
    vpn_gdoi_ks_info ki;
    vpn_gdoi_ks_coop_info(ks, g_now, &ci);
    vpn_gdoi_ks_get_info(ks, g_now, &ki);
    CHECK(ci.enabled && ci.role <= VPN_GDOI_COOP_PRIMARY);
    CHECK(ki.tek.spi >= 256 && ki.tek.lifetime_s > 0 && ki.kek.lifetime_s > 0);
    CHECK(ki.members <= 8000);
    (void)vpn_gdoi_ks_next_deadline(ks);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    static uint8_t buf[DG], body[DG];
    size_t len;

    if (!ready) {
        const char *gen;
        setup();
        ready = true;
        gen = getenv("VPN_FUZZ_GEN_SEEDS");
        if (gen)
            gen_seeds(gen);
    }
    if (size < 1)
        return 0;
    g_now += 1000000;
    switch (data[0] & 3) {
    case 0: vpn_gdoi_ks_input(g_ks1, &g_a0, data + 1, size - 1, g_now); break;
    case 1:
        if (size - 1 > sizeof body)
            break;
        memcpy(body, data + 1, size - 1);
        if (size - 1 >= 16)
            vpn_store32(body + 12, ++g_seq); /* past the replay check */
        if (size - 1 >= 52 && !(data[0] & 4)) {
            /* this run's rekey key hash (keys are made afresh at setup) */
            size_t vl;
            memcpy(body + 20, view_body(&vl) + 20, 32);
        }
        len = seal(body, size - 1, buf, sizeof buf);
        if (len) {
            int rc = vpn_gdoi_ks_input(g_ks1, &g_a0, buf, len, g_now);
            if (getenv("VPN_FUZZ_DEBUG"))
                fprintf(stderr, "sealed announcement: %d\n", rc);
        }
        break;
    case 2: {
        vpn_gdoi_coop_ann a;
        if (vpn_gdoi_coop_ann_decode(data + 1, size - 1, &a) == 0) {
            vpn_wr w;
            vpn_wr_init(&w, buf, sizeof buf);
            CHECK(vpn_gdoi_coop_ann_encode(&a, &w) == 0);
            CHECK(vpn_wr_len(&w) == size - 1 && memcmp(buf, data + 1, size - 1) == 0);
        }
        break;
    }
    default: vpn_gdoi_ks_input(g_ks1, &g_evil, data + 1, size - 1, g_now); break;
    }
    check_state(g_ks1);
    if (++g_count % 64 == 0) {
        vpn_gdoi_ks_timeout(g_ks1, g_now);
        check_state(g_ks1);
    }
    return 0;
}
