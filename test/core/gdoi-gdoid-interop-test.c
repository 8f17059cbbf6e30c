/*
 * GDOI against the Cisco GDOI reference implementation (gdoid), from its
 * real traces (test/core/data/gdoid/, README there): one key server
 * (10.0.224.44), three members, Main Mode, GROUPKEY-PULL, then four
 * multicast GROUPKEY-PUSH (new KEK and TEKs, a TEK rekey, a KEK rollover,
 * a Delete), once with 3DES and once with AES.
 *
 * - Every message of both captures parses: phase 1 and the pulls
 *   decrypted with the key table (and equal to gdoid's own plaintext
 *   dump), the pushes decrypted with the KEK the pull delivered (each KEK
 *   rollover followed) and their SHA-1 RSA signatures verified with the
 *   key server key from the KD.
 * - Our group member registers from gdoid's SA and KD payloads, byte for
 *   byte, and applies the four real pushes; TEK policy and keys equal the
 *   dump. The PSK is not in the traces, so the pull's HASH payloads are
 *   recomputed under a phase 1 the test runs with our member (everything
 *   after the HASH is gdoid's); the pushes are gdoid's datagrams as
 *   captured. Without legacy algorithms enabled the member refuses,
 *   naming the attribute in the log and in `show crypto gdoi`.
 * - Our key server serves gdoid's member messages (its nonce, ID and, for
 *   AES, its GAP), in both SA layouts.
 * - Our phase 1 takes gdoid's proposals (DOI 2, 3DES or AES-128, SHA-1,
 *   MODP-1024, 60 s) with legacy algorithms enabled and names what it
 *   refuses otherwise; the member and key server tests run their phase 1
 *   with gdoid's suite, so the pulls travel under 3DES with 8-octet IVs
 *   as gdoid's did.
 */
#define _DEFAULT_SOURCE /* libpcap's u_int */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <pcap/pcap.h>

#include "gdoi-net.h"
#include "test-util.h"

#include "common/rng.h"
#include "common/vpn-err.h"
#include "common/vpn-log.h"
#include "crypto/cipher.h"
#include "crypto/kdf.h"
#include "crypto/prf.h"
#include "crypto/sig.h"
#include "gdoi/gdoi-priv.h"
#include "gdoi/gdoi.h"
#include "ikev1/ikev1.h"
#include "isakmp/gdoi-codec.h"
#include "isakmp/isakmp-build.h"
#include "isakmp/isakmp-const.h"
#include "show/show-gdoi.h"

#ifndef VPN_SOURCE_DIR
#error VPN_SOURCE_DIR must name the source tree (CMake and wscript define it)
#endif
#define DATA VPN_SOURCE_DIR "/test/core/data/gdoid/"

#define NMSG 34
#define MSG_MAX 2048
#define NS 1000000000ull

typedef struct msg {
    uint8_t b[MSG_MAX];
    size_t len;
    uint64_t ts_ns;
} msg;

/* One capture, decrypted. */
typedef struct capture {
    bool aes;
    msg raw[NMSG];   /* as captured */
    msg dump[NMSG];  /* gdoid's plaintext dump */
    uint8_t plain[NMSG][MSG_MAX]; /* decrypted bodies (after the header) */
    size_t plain_len[NMSG];
    size_t parsed;   /* messages whose every payload parsed */
} capture;

/* UDP payloads of a pcap (Ethernet, BSD loopback or raw IP link types). */
static size_t load_pcap(const char *file, msg *out, size_t cap)
{
    char err[PCAP_ERRBUF_SIZE];
    struct pcap_pkthdr *h;
    const u_char *d;
    size_t n = 0, skip;
    pcap_t *p = pcap_open_offline(file, err);

    if (!p)
        fail_msg("%s: %s (the test data must be in test/core/data/gdoid/)", file, err);
    switch (pcap_datalink(p)) {
    case DLT_EN10MB: skip = 14; break;
    case DLT_NULL: skip = 4; break;
    case DLT_RAW: skip = 0; break;
    default: fail_msg("%s: link type %d", file, pcap_datalink(p)); return 0;
    }
    while (pcap_next_ex(p, &h, &d) == 1) {
        size_t ihl, off;
        assert_true(n < cap);
        assert_true(h->caplen > skip + 20);
        ihl = (size_t)(d[skip] & 15) * 4;
        off = skip + ihl + 8;
        assert_true(h->caplen > off && h->caplen - off <= MSG_MAX);
        out[n].len = h->caplen - off;
        memcpy(out[n].b, d + off, out[n].len);
        out[n].ts_ns = (uint64_t)h->ts.tv_sec * NS + (uint64_t)h->ts.tv_usec * 1000u;
        n++;
    }
    pcap_close(p);
    return n;
}

/* The phase-1 key of an initiator cookie (Wireshark's ikev1_decryption_table). */
static size_t table_key(const uint8_t icookie[8], uint8_t *key)
{
    char line[256], want[17];
    size_t n = 0;
    FILE *f = fopen(DATA "ikev1_decryption_table", "r");

    assert_non_null(f);
    for (int i = 0; i < 8; i++)
        snprintf(want + 2 * i, 3, "%02x", icookie[i]);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, want, 16) || line[16] != ',')
            continue;
        for (const char *p = line + 17; p[0] && p[1] && p[0] != '\n'; p += 2) {
            unsigned v;
            assert_int_equal(sscanf(p, "%2x", &v), 1);
            key[n++] = (uint8_t)v;
        }
        break;
    }
    fclose(f);
    return n;
}

/*
 * A message of gdoid's dump: the plaintext of a phase-1-protected message
 * with the E flag cleared. Its payloads may be followed by the encryption
 * padding (the AES pulls: gdoid's header length counts it), so it is read
 * as a decrypted message would be. copy (MSG_MAX) holds what m views.
 */
static void parse_dump(const msg *d, uint8_t *copy, vpn_isakmp_msg *m)
{
    memcpy(copy, d->b, d->len);
    copy[19] |= VPN_ISAKMP_FLAG_E;
    assert_int_equal(vpn_isakmp_msg_parse(copy, d->len, m), 0);
    assert_int_equal(vpn_isakmp_msg_parse_plain(m, copy + VPN_ISAKMP_HDR_LEN,
                                                d->len - VPN_ISAKMP_HDR_LEN, NULL),
                     0);
}

static const vpn_isakmp_payload *only(const vpn_isakmp_msg *m, uint8_t type)
{
    const vpn_isakmp_payload *p = vpn_isakmp_msg_find(m, type, 0);
    assert_non_null(p);
    return p;
}

/* CBC decryption of a phase-1-protected body with the capture's cipher. */
static void p1_decrypt(const capture *c, const uint8_t *key, size_t klen, uint8_t *iv,
                       const uint8_t *in, size_t len, uint8_t *out)
{
    vpn_cipher *ci;
    size_t blk = c->aes ? 16 : 8;

    assert_int_equal(len % blk, 0);
    memcpy(out, in, len);
    assert_int_equal(vpn_cipher_new(&ci, c->aes ? VPN_ENCR_AES_CBC : VPN_ENCR_3DES,
                                    c->aes ? (uint16_t)(klen * 8) : 0, key, klen, false),
                     0);
    assert_int_equal(vpn_cipher_decrypt(ci, iv, out, len), 0);
    vpn_cipher_del(ci);
    memcpy(iv, in + len - blk, blk); /* the next message's IV (RFC 2409 appendix B) */
}

/* Decrypted message i parses; its plaintext equals gdoid's dump. */
static void check_plain(capture *c, unsigned i)
{
    vpn_isakmp_msg m;
    uint8_t copy[MSG_MAX];
    size_t dl = c->dump[i].len - VPN_ISAKMP_HDR_LEN;

    /* the dump is the message as gdoid built it: same payloads, unpadded */
    assert_true(dl <= c->plain_len[i]);
    assert_memory_equal(c->plain[i], c->dump[i].b + VPN_ISAKMP_HDR_LEN, dl);
    assert_memory_equal(c->raw[i].b, c->dump[i].b, 19); /* all but flags and length */
    assert_int_equal(vpn_isakmp_msg_parse(c->raw[i].b, c->raw[i].len, &m), 0);
    assert_true(m.encrypted);
    {
        int rc = vpn_isakmp_msg_parse_plain(&m, c->plain[i], c->plain_len[i], NULL);
        if (rc)
            fprintf(stderr, "message %u (%zu octets, %zu in the dump): %s\n", i + 1,
                    c->plain_len[i], dl, vpn_strerror(rc));
        assert_int_equal(rc, 0);
    }
    /* the same from the dump, as a message in clear */
    parse_dump(&c->dump[i], copy, &m);
    for (unsigned k = 0; k < m.n; k++) {
        if (m.pl[k].type == VPN_ISAKMP_PL_SA && m.hdr.exchange == VPN_GDOI_EXCH_PULL) {
            vpn_isakmp_sa sa;
            assert_int_equal(vpn_isakmp_sa_decode(m.pl[k].body, m.pl[k].body_len,
                                                  m.hdr.exchange, &sa), 0);
            assert_int_equal(vpn_gdoi_sa_check(&sa), 0);
        }
        if (m.pl[k].type == VPN_GDOI_PL_KD) {
            vpn_gdoi_kd kd;
            assert_int_equal(vpn_gdoi_kd_decode(m.pl[k].body, m.pl[k].body_len, &kd), 0);
        }
    }
    c->parsed++;
}

/* The KEK of a pull's SA and KD, or of a push: SPI, algorithm, IV, key. */
typedef struct kek {
    uint8_t spi[16], iv[16], key[32];
    uint16_t alg, bits, sig_hash;
    vpn_sig_key *pub;
} kek;

/* From a decrypted chain: the SA KEK's policy and the KD's KEK key packet. */
static void kek_update(kek *k, const vpn_isakmp_msg *m)
{
    const vpn_isakmp_payload *sp = vpn_isakmp_msg_find(m, VPN_ISAKMP_PL_SA, 0);
    const vpn_isakmp_payload *kp = vpn_isakmp_msg_find(m, VPN_GDOI_PL_KD, 0);
    uint8_t new_spi[16] = {0};
    bool have_sak = false;

    if (sp) {
        vpn_isakmp_sa sa;
        vpn_isakmp_chain ch;
        vpn_isakmp_payload sub;
        assert_int_equal(vpn_isakmp_sa_decode(sp->body, sp->body_len, m->hdr.exchange, &sa), 0);
        assert_int_equal(vpn_gdoi_sa_check(&sa), 0);
        vpn_gdoi_sa_iter_init(&ch, &sa);
        while (vpn_gdoi_sa_next(&ch, &sub) == 1) {
            if (sub.type == VPN_GDOI_PL_SAK) {
                vpn_gdoi_sak s;
                vpn_gdoi_kek_attrs a;
                assert_int_equal(vpn_gdoi_sak_decode(sub.body, sub.body_len, &s), 0);
                /* the 6 octets after the SPI */
                assert_int_equal(s.layout, VPN_GDOI_LAYOUT_GDOID);
                assert_int_equal(vpn_gdoi_kek_attrs_decode(s.attrs.p, s.attrs.len, &a), 0);
                memcpy(new_spi, s.spi, 16);
                have_sak = true;
                k->alg = a.alg;
                k->bits = (a.present & (1u << VPN_GDOI_KEK_KEY_LEN)) ? a.key_len : 0;
                k->sig_hash = a.sig_hash;
            } else if (sub.type == VPN_GDOI_PL_SAT) {
                vpn_gdoi_sat t;
                assert_int_equal(vpn_gdoi_sat_decode(sub.body, sub.body_len, &t), 0);
                /* 1-octet ID Data Len fields */
                assert_int_equal(t.layout, VPN_GDOI_LAYOUT_GDOID);
            }
        }
    }
    if (kp) {
        vpn_gdoi_kd kd;
        vpn_gdoi_kp_iter it;
        vpn_gdoi_kp p;
        assert_int_equal(vpn_gdoi_kd_decode(kp->body, kp->body_len, &kd), 0);
        vpn_gdoi_kp_iter_init(&it, &kd);
        while (vpn_gdoi_kp_next(&it, &p) == 1) {
            vpn_gdoi_kek_keys kk;
            uint16_t id;
            size_t kl, blk;
            if (p.type != VPN_GDOI_KD_KEK)
                continue;
            assert_int_equal(vpn_gdoi_kek_keys_decode(p.attrs.p, p.attrs.len, &kk), 0);
            /* the packet names the KEK this message came under (a rollover's
             * SA KEK names the next one) or the SA KEK's own */
            assert_true(!memcmp(p.spi.p, k->spi, 16) ||
                        (have_sak && !memcmp(p.spi.p, new_spi, 16)));
            assert_int_equal(gdoi_kek_cipher(k->alg, k->bits, &id, &kl, &blk), 0);
            /* IV (one block) then key */
            assert_int_equal(kk.alg_key.len, blk + kl);
            memcpy(k->iv, kk.alg_key.p, blk);
            memcpy(k->key, kk.alg_key.p + blk, kl);
            if (kk.sig_key.len) {
                vpn_sig_key_del(k->pub);
                assert_int_equal(vpn_sig_key_load_public(&k->pub, kk.sig_key.p, kk.sig_key.len), 0);
            }
        }
    }
    if (have_sak)
        memcpy(k->spi, new_spi, 16);
}

static void load(capture *c, bool aes)
{
    const char *raw = aes ? DATA "gdoid-aes.pcap" : DATA "gdoid-3des.pcap";
    const char *dump = aes ? DATA "aes-ks-plain.pcap" : DATA "3des-ks-plain.pcap";
    kek k;

    memset(c, 0, sizeof *c);
    c->aes = aes;
    assert_int_equal(load_pcap(raw, c->raw, NMSG), NMSG);
    assert_int_equal(load_pcap(dump, c->dump, NMSG), NMSG);
    for (unsigned i = 0; i < NMSG; i++)
        assert_int_equal(vpn_load32(c->dump[i].b + 24), c->dump[i].len);

    for (unsigned g = 0; g < 3; g++) { /* member g: messages 10g .. 10g+9 */
        const msg *r = &c->raw[10 * g];
        uint8_t key[32], iv[16], last[16];
        size_t klen = table_key(r[0].b, key), blk = aes ? 16 : 8;
        vpn_isakmp_msg m3, m4;
        const vpn_isakmp_payload *ki, *kr;
        uint16_t prf;

        assert_int_equal(klen, aes ? 16 : 24);
        /* Main Mode 1-4 in clear */
        for (unsigned i = 0; i < 4; i++) {
            vpn_isakmp_msg m;
            assert_int_equal(vpn_isakmp_msg_parse(r[i].b, r[i].len, &m), 0);
            assert_false(m.encrypted);
            assert_int_equal(m.hdr.exchange, VPN_ISAKMP_EXCH_MAIN);
            assert_memory_equal(r[i].b, c->dump[10 * g + i].b, r[i].len);
            c->parsed++;
        }
        /* phase-1 IV: hash(g^xi | g^xr) (RFC 2409 appendix B), SHA-1 */
        assert_int_equal(vpn_isakmp_msg_parse(r[2].b, r[2].len, &m3), 0);
        assert_int_equal(vpn_isakmp_msg_parse(r[3].b, r[3].len, &m4), 0);
        ki = only(&m3, VPN_ISAKMP_PL_KE);
        kr = only(&m4, VPN_ISAKMP_PL_KE);
        assert_int_equal(vpn_prf_from_ikev1_hash(VPN_IKEV1_HASH_SHA1, &prf), 0);
        assert_int_equal(vpn_ikev1_phase1_iv(prf, (vpn_iov){ki->body, ki->body_len},
                                             (vpn_iov){kr->body, kr->body_len}, blk, iv),
                         0);
        for (unsigned i = 4; i < 6; i++) {
            unsigned n = 10 * g + i;
            c->plain_len[n] = r[i].len - VPN_ISAKMP_HDR_LEN;
            p1_decrypt(c, key, klen, iv, r[i].b + VPN_ISAKMP_HDR_LEN, c->plain_len[n],
                       c->plain[n]);
            check_plain(c, n);
        }
        memcpy(last, iv, blk);
        /* GROUPKEY-PULL: IV = hash(last phase-1 block | M-ID), then chained */
        assert_int_equal(vpn_ikev1_phase2_iv(prf, last, blk, vpn_load32(r[6].b + 20), iv), 0);
        for (unsigned i = 6; i < 10; i++) {
            unsigned n = 10 * g + i;
            assert_int_equal(r[i].b[18], VPN_GDOI_EXCH_PULL);
            c->plain_len[n] = r[i].len - VPN_ISAKMP_HDR_LEN;
            p1_decrypt(c, key, klen, iv, r[i].b + VPN_ISAKMP_HDR_LEN, c->plain_len[n],
                       c->plain[n]);
            check_plain(c, n);
        }
    }

    /* the pushes, under the KEK of the first member's pull */
    memset(&k, 0, sizeof k);
    for (unsigned i = 7; i < 10; i += 2) {
        vpn_isakmp_msg m;
        assert_int_equal(vpn_isakmp_msg_parse(c->raw[i].b, c->raw[i].len, &m), 0);
        assert_int_equal(vpn_isakmp_msg_parse_plain(&m, c->plain[i], c->plain_len[i], NULL), 0);
        kek_update(&k, &m);
    }
    assert_non_null(k.pub);
    assert_int_equal(k.alg, aes ? VPN_GDOI_KEK_ALG_AES : VPN_GDOI_KEK_ALG_3DES);
    assert_int_equal(k.sig_hash, VPN_GDOI_SIG_HASH_SHA1);
    for (unsigned i = 30; i < NMSG; i++) {
        vpn_isakmp_msg m;
        uint8_t in[MSG_MAX];
        vpn_wr w;
        vpn_sig_alg alg;
        const vpn_isakmp_payload *sig;

        /* the dump holds the push as sent, only the E flag cleared */
        assert_int_equal(c->raw[i].len, c->dump[i].len);
        assert_int_equal(c->raw[i].b[19] & VPN_ISAKMP_FLAG_E, VPN_ISAKMP_FLAG_E);
        assert_memory_equal(c->raw[i].b + 20, c->dump[i].b + 20, c->raw[i].len - 20);
        assert_int_equal(vpn_isakmp_msg_parse(c->raw[i].b, c->raw[i].len, &m), 0);
        assert_int_equal(m.hdr.exchange, VPN_GDOI_EXCH_PUSH);
        /* the header's cookie pair is the KEK SPI it is encrypted under */
        assert_memory_equal(c->raw[i].b, k.spi, 16);
        c->plain_len[i] = m.body_len;
        memcpy(c->plain[i], m.body, m.body_len);
        assert_int_equal(gdoi_kek_crypt_alg(NULL, k.alg, k.bits, k.key, k.iv, c->plain[i],
                                            c->plain_len[i], false),
                         0);
        assert_int_equal(vpn_isakmp_msg_parse_plain(&m, c->plain[i], c->plain_len[i], NULL), 0);
        sig = only(&m, VPN_ISAKMP_PL_SIG);
        assert_true(sig == &m.pl[m.n - 1]);
        /*
         * What gdoid signs, found from its traces: RFC 6407 4's input
         * ("rekey", the header with the E flag, the payloads before SIG)
         * but with the header length as before padding (up to the end of
         * SIG), and as IKEv1 signs (RFC 2409 5.1): PKCS#1 v1.5 type 1 over
         * the bare SHA-1 hash, no DigestInfo. Checked here with OpenSSL
         * directly, then through the member's verifier.
         */
        {
            uint8_t hdr[VPN_ISAKMP_HDR_LEN], md[20];
            size_t upto = (size_t)(sig->raw + sig->raw_len - m.chain);
            EVP_MD_CTX *x = EVP_MD_CTX_new();
            EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(vpn_sig_key_evp(k.pub), NULL);
            unsigned mdl = 0;
            bool gdoid_form;

            memcpy(hdr, c->raw[i].b, sizeof hdr);
            assert_true(VPN_ISAKMP_HDR_LEN + upto <= c->raw[i].len);
            vpn_store32(hdr + 24, (uint32_t)(VPN_ISAKMP_HDR_LEN + upto));
            assert_int_equal(EVP_DigestInit_ex(x, EVP_sha1(), NULL), 1);
            assert_int_equal(EVP_DigestUpdate(x, "rekey", 5), 1);
            assert_int_equal(EVP_DigestUpdate(x, hdr, sizeof hdr), 1);
            assert_int_equal(EVP_DigestUpdate(x, m.chain, (size_t)(sig->raw - m.chain)), 1);
            assert_int_equal(EVP_DigestFinal_ex(x, md, &mdl), 1);
            assert_int_equal(EVP_PKEY_verify_init(pc), 1);
            assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING), 1);
            assert_int_equal(EVP_PKEY_verify(pc, sig->body, sig->body_len, md, mdl), 1);
            EVP_PKEY_CTX_free(pc);
            EVP_MD_CTX_free(x);
            /* not RFC 6407's form with a DigestInfo */
            vpn_wr_init(&w, in, sizeof in);
            assert_int_equal(vpn_gdoi_push_sig_input_msg(&m, &w), 0);
            vpn_sig_alg_init(&alg, VPN_SIG_RSA_PKCS1, VPN_IKE_HASH_SHA1);
            assert_int_equal(vpn_sig_verify(k.pub, &alg, in, vpn_wr_len(&w), sig->body,
                                            sig->body_len),
                             VPN_ERR_AUTH);
            assert_int_equal(gdoi_push_sig_verify(k.pub, VPN_IKE_HASH_SHA1, &m, &gdoid_form), 0);
            assert_true(gdoid_form);
            /* one flipped bit in the signed part: refused */
            c->plain[i][10] ^= 1;
            assert_int_equal(gdoi_push_sig_verify(k.pub, VPN_IKE_HASH_SHA1, &m, &gdoid_form),
                             VPN_ERR_AUTH);
            c->plain[i][10] ^= 1;
        }
        kek_update(&k, &m);
        c->parsed++;
    }
    vpn_sig_key_del(k.pub);
}

static void test_every_message_parses(void **state)
{
    capture *c = malloc(sizeof *c);
    (void)state;
    assert_non_null(c);
    load(c, false);
    assert_int_equal(c->parsed, NMSG);
    load(c, true);
    assert_int_equal(c->parsed, NMSG);
    free(c);
}

/* ---- our group member against gdoid's key server ------------------------ */

#define QN 8
typedef struct wire {
    uint8_t b[QN][4096], v[QN][4096];
    size_t len[QN], vlen[QN];
    unsigned n;
} wire;

static void wire_put(wire *w, const uint8_t *dg, size_t len, const uint8_t *view, size_t vlen)
{
    assert_true(w->n < QN && len <= sizeof w->b[0]);
    memcpy(w->b[w->n], dg, len);
    w->len[w->n] = len;
    w->vlen[w->n] = view ? vlen : 0;
    if (view)
        memcpy(w->v[w->n], view, vlen);
    w->n++;
}

static void gm_send(void *user, const vpn_addr *src, const vpn_addr *dst, const uint8_t *dg,
                    size_t len, const uint8_t *view, size_t view_len)
{
    (void)src;
    (void)dst;
    wire_put(user, dg, len, view, view_len);
}

static void p1_send(void *user, vpn_ikev1_sa *sa, const uint8_t *dg, size_t len,
                    const uint8_t *view, size_t view_len)
{
    (void)sa;
    wire_put(user, dg, len, view, view_len);
}

typedef struct peer {
    vpn_drbg d;
    vpn_rng rng;
    wire to_engine, from_engine;
    vpn_ikev1_sa *p1;
    tu_log_sink log;
    vpn_log vlog;
} peer;

/*
 * A phase-1 configuration: with gdoid, gdoid's own suite (3DES or
 * AES-128, SHA-1, MODP-1024, pre-shared key, 60 s, DOI 2), which as a
 * configured suite is what enables those legacy algorithms; else ours.
 */
static vpn_ikev1_cfg p1_cfg(const char *id, int gdoid_aes)
{
    static vpn_ikev1_suite su[2];
    vpn_ikev1_cfg c;

    memset(&c, 0, sizeof c);
    c.psk = (const uint8_t *)"gdoid-interop";
    c.psk_len = 13;
    assert_int_equal(vpn_addr_parse(&c.local_id, id), 0);
    if (gdoid_aes >= 0) {
        vpn_ikev1_suite *u = &su[gdoid_aes];
        memset(u, 0, sizeof *u);
        u->encr = gdoid_aes ? VPN_IKEV1_ENCR_AES_CBC : VPN_IKEV1_ENCR_3DES;
        u->encr_key_bits = 128;
        u->hash = VPN_IKEV1_HASH_SHA1;
        u->group = VPN_DH_MODP_1024;
        u->auth = VPN_IKEV1_AUTH_PSK;
        u->lifetime_s = 60;
        c.suites = u;
        c.n_suites = 1;
        c.doi = VPN_ISAKMP_DOI_GDOI;
    }
    return c;
}

static void peer_init(peer *p, const char *id, bool initiator, bool aes)
{
    vpn_ikev1_ctx x;
    vpn_ikev1_cfg c = p1_cfg(id, aes);

    memset(p, 0, sizeof *p);
    vpn_drbg_init(&p->d, id, strlen(id));
    vpn_rng_init_drbg(&p->rng, &p->d);
    memset(&x, 0, sizeof x);
    x.rng = &p->rng;
    x.send = p1_send;
    x.user = &p->to_engine;
    assert_int_equal(vpn_ikev1_sa_new(&p->p1, &x, &c, initiator), 0);
}

/*
 * One GROUPKEY-PULL message of ours carrying gdoid's payloads after the
 * HASH verbatim (from its dump), with the HASH computed under our phase 1.
 */
static size_t pull_msg(vpn_ikev1_sa *p1, uint32_t msg_id, unsigned n, const msg *dump,
                       vpn_isakmp_view ni_b, vpn_isakmp_view nr_b, uint8_t iv[VPN_IKEV1_BLOCK],
                       uint8_t *out)
{
    uint8_t view[GDOI_MSG_MAX], *slot;
    vpn_isakmp_bld b;
    vpn_isakmp_hdr h;
    vpn_isakmp_msg m;
    uint8_t copy[MSG_MAX];
    size_t len, vlen;

    memset(&h, 0, sizeof h);
    memcpy(h.icookie, vpn_ikev1_sa_icookie(p1), 8);
    memcpy(h.rcookie, vpn_ikev1_sa_rcookie(p1), 8);
    h.version = VPN_ISAKMP_VERSION;
    h.exchange = VPN_GDOI_EXCH_PULL;
    h.msg_id = msg_id;
    vpn_isakmp_bld_init(&b, out, GDOI_MSG_MAX, &h);
    vpn_isakmp_bld_placeholder(&b, VPN_ISAKMP_PL_HASH, vpn_ikev1_sa_prf_len(p1), &slot);
    parse_dump(dump, copy, &m);
    assert_int_equal(m.pl[0].type, VPN_ISAKMP_PL_HASH);
    for (unsigned k = 1; k < m.n; k++)
        assert_int_equal(vpn_isakmp_bld_raw(&b, m.pl[k].type, m.pl[k].body, m.pl[k].body_len), 0);
    assert_int_equal(gdoi_pull_seal(p1, &b, n, ni_b, nr_b, slot, iv, &len, view, &vlen), 0);
    return len;
}

/* Runs Main Mode between an engine (send through its wire) and the peer. */
typedef int (*engine_in)(void *e, const uint8_t *dg, size_t len, uint64_t now);

static int gm_in(void *e, const uint8_t *dg, size_t len, uint64_t now)
{
    return vpn_gdoi_gm_input(e, dg, len, now);
}

static int ks_in(void *e, const uint8_t *dg, size_t len, uint64_t now)
{
    vpn_addr src;
    assert_int_equal(vpn_addr_parse(&src, "10.0.224.37"), 0);
    return vpn_gdoi_ks_input(e, &src, dg, len, now);
}

/* Exchanges datagrams until the engine sends a GROUPKEY-PULL message. */
static void main_mode(peer *p, wire *engine_out, void *e, engine_in in, uint64_t *now)
{
    for (int round = 0; round < 10; round++) {
        for (unsigned k = 0; k < engine_out->n; k++) {
            if (engine_out->b[k][18] == VPN_GDOI_EXCH_PULL)
                return; /* the engine's first pull message stays queued */
            assert_int_equal(vpn_ikev1_sa_input(p->p1, engine_out->b[k], engine_out->len[k], *now),
                             0);
        }
        engine_out->n = 0;
        *now += NS / 1000;
        for (unsigned k = 0; k < p->to_engine.n; k++)
            assert_int_equal(in(e, p->to_engine.b[k], p->to_engine.len[k], *now), 0);
        p->to_engine.n = 0;
        *now += NS / 1000;
        if (engine_out->n && engine_out->b[0][18] == VPN_GDOI_EXCH_PULL)
            return;
    }
    fail_msg("Main Mode did not finish");
}

static void ip4(const char *s, vpn_addr *a)
{
    assert_int_equal(vpn_addr_parse(a, s), 0);
}

/* An SA TEK of gdoid's and its keys. */
typedef struct tek_seen {
    uint32_t spi;
    uint8_t transform;
    vpn_gdoi_tek_keys keys;
} tek_seen;

/*
 * Every SA TEK of decrypted message sa_i with its keys from the KD of
 * message kd_i (views into c). Returns how many.
 */
static size_t teks_of(const capture *c, unsigned sa_i, unsigned kd_i, tek_seen *t, size_t cap)
{
    vpn_isakmp_msg m;
    const vpn_isakmp_payload *sp, *kp;
    vpn_gdoi_kd kd;
    vpn_gdoi_kp_iter it;
    vpn_gdoi_kp p;
    size_t n = 0;

    assert_int_equal(vpn_isakmp_msg_parse(c->raw[sa_i].b, c->raw[sa_i].len, &m), 0);
    assert_int_equal(vpn_isakmp_msg_parse_plain(&m, c->plain[sa_i], c->plain_len[sa_i], NULL), 0);
    sp = vpn_isakmp_msg_find(&m, VPN_ISAKMP_PL_SA, 0);
    if (sp) {
        vpn_isakmp_sa sa;
        vpn_isakmp_chain ch;
        vpn_isakmp_payload sub;
        assert_int_equal(vpn_isakmp_sa_decode(sp->body, sp->body_len, m.hdr.exchange, &sa), 0);
        vpn_gdoi_sa_iter_init(&ch, &sa);
        while (vpn_gdoi_sa_next(&ch, &sub) == 1) {
            vpn_gdoi_sat st;
            if (sub.type != VPN_GDOI_PL_SAT)
                continue;
            assert_int_equal(vpn_gdoi_sat_decode(sub.body, sub.body_len, &st), 0);
            assert_true(n < cap);
            memset(&t[n], 0, sizeof t[n]);
            t[n].spi = st.spi;
            t[n].transform = st.transform_id;
            n++;
        }
    }
    assert_int_equal(vpn_isakmp_msg_parse(c->raw[kd_i].b, c->raw[kd_i].len, &m), 0);
    assert_int_equal(vpn_isakmp_msg_parse_plain(&m, c->plain[kd_i], c->plain_len[kd_i], NULL), 0);
    kp = vpn_isakmp_msg_find(&m, VPN_GDOI_PL_KD, 0);
    if (!kp)
        return n;
    assert_int_equal(vpn_gdoi_kd_decode(kp->body, kp->body_len, &kd), 0);
    vpn_gdoi_kp_iter_init(&it, &kd);
    while (vpn_gdoi_kp_next(&it, &p) == 1)
        for (size_t j = 0; j < n; j++)
            if (p.type == VPN_GDOI_KD_TEK && vpn_load32(p.spi.p) == t[j].spi)
                assert_int_equal(vpn_gdoi_tek_keys_decode(p.attrs.p, p.attrs.len, &t[j].keys),
                                 0);
    return n;
}

static void assert_tek_keys(vpn_sad *sad, uint32_t spi, const vpn_gdoi_tek_keys *k)
{
    const uint8_t *e, *i;
    size_t el, il;
    vpn_sa *sa = vpn_sad_lookup(sad, spi, NULL);

    assert_non_null(sa);
    vpn_sa_get_keys(sa, &e, &el, &i, &il);
    assert_int_equal(el, k->alg_key.len);
    assert_memory_equal(e, k->alg_key.p, el);
    assert_int_equal(il, k->integ_key.len);
    if (il)
        assert_memory_equal(i, k->integ_key.p, il);
}

typedef struct gm_run {
    vpn_drbg d;
    vpn_rng rng;
    wire out;
    vpn_sad *sad;
    vpn_spd *spd;
    vpn_gdoi_gm *gm;
    tu_log_sink log;
    vpn_log vlog;
    peer ks;
    uint64_t now;
} gm_run;

/* Registers our member with gdoid's pull messages 2 and 4 (member 1). */
static int gm_register(gm_run *r, const capture *c, bool legacy)
{
    vpn_gdoi_gm_cfg gc;
    vpn_isakmp_msg m;
    uint8_t plain[GDOI_MSG_MAX], iv[VPN_IKEV1_BLOCK], dg[GDOI_MSG_MAX];
    vpn_isakmp_view none = {NULL, 0}, ni_b, nr_b;
    const vpn_isakmp_payload *np;
    uint8_t ni[256], nr[256];
    uint32_t mid;
    size_t len;
    int rc;

    memset(r, 0, sizeof *r);
    vpn_drbg_init(&r->d, "gm", 2);
    vpn_rng_init_drbg(&r->rng, &r->d);
    assert_int_equal(vpn_sad_new(&r->sad, &r->rng), 0);
    assert_int_equal(vpn_spd_new(&r->spd, VPN_SPD_BYPASS), 0);
    memset(&gc, 0, sizeof gc);
    gc.name = "gdoid";
    gc.group_id = 1234; /* gdoid's ID payload: ID_KEY_ID 0x000004d2 */
    ip4("10.0.224.37", &gc.local);
    ip4("10.0.224.44", &gc.ks);
    gc.ike = p1_cfg("10.0.224.37", c->aes); /* our member proposes what gdoid's did */
    gc.sad = r->sad;
    gc.spd = r->spd;
    gc.spd_seq = 10;
    gc.allow_legacy = legacy;
    tu_log_attach(&r->vlog, &r->log);
    assert_int_equal(vpn_gdoi_gm_new(&r->gm, &gc, &r->rng, &r->vlog, gm_send, &r->out), 0);
    peer_init(&r->ks, "10.0.224.44", false, c->aes);
    r->now = c->raw[0].ts_ns;
    assert_int_equal(vpn_gdoi_gm_start(r->gm, r->now), 0);
    main_mode(&r->ks, &r->out, r->gm, gm_in, &r->now);
    assert_int_equal(vpn_ikev1_sa_state(r->ks.p1), VPN_IKEV1_ST_ESTABLISHED);
    assert_int_equal(vpn_ikev1_sa_encr(vpn_gdoi_gm_phase1(r->gm)),
                     c->aes ? VPN_IKEV1_ENCR_AES_CBC : VPN_IKEV1_ENCR_3DES);
    assert_int_equal(vpn_ikev1_sa_block(r->ks.p1), c->aes ? 16 : 8);

    /* HDR*, HASH(1), Ni, ID from our member */
    assert_int_equal(r->out.n, 1);
    mid = vpn_load32(r->out.b[0] + 20);
    assert_int_equal(vpn_ikev1_sa_p2_iv(r->ks.p1, mid, iv), 0);
    assert_int_equal(gdoi_pull_open(r->ks.p1, r->out.b[0], r->out.len[0], 1, none, none, iv, &m,
                                    plain),
                     0);
    np = only(&m, VPN_ISAKMP_PL_NONCE);
    memcpy(ni, np->body, np->body_len);
    ni_b = (vpn_isakmp_view){ni, np->body_len};
    r->out.n = 0;
    /* HDR*, HASH(2), Nr, SA: gdoid's Nr and SA */
    len = pull_msg(r->ks.p1, mid, 2, &c->dump[7], ni_b, none, iv, dg);
    {
        vpn_isakmp_msg g;
        uint8_t copy[MSG_MAX];
        parse_dump(&c->dump[7], copy, &g);
        np = only(&g, VPN_ISAKMP_PL_NONCE);
        memcpy(nr, np->body, np->body_len);
        nr_b = (vpn_isakmp_view){nr, np->body_len};
    }
    r->now = c->raw[7].ts_ns;
    if ((rc = vpn_gdoi_gm_input(r->gm, dg, len, r->now)))
        return rc;
    /* HDR*, HASH(3) from our member */
    assert_int_equal(r->out.n, 1);
    assert_int_equal(gdoi_pull_open(r->ks.p1, r->out.b[0], r->out.len[0], 3, ni_b, nr_b, iv, &m,
                                    plain),
                     0);
    r->out.n = 0;
    /* HDR*, HASH(4), SEQ, KD: gdoid's SEQ and KD */
    len = pull_msg(r->ks.p1, mid, 4, &c->dump[9], ni_b, nr_b, iv, dg);
    r->now = c->raw[9].ts_ns;
    return vpn_gdoi_gm_input(r->gm, dg, len, r->now);
}

static void gm_free(gm_run *r)
{
    vpn_gdoi_gm_del(r->gm);
    vpn_sad_del(r->sad);
    vpn_spd_del(r->spd);
    vpn_ikev1_sa_del(r->ks.p1);
}

/* Every TEK of gdoid's message is in our SAD, for receiving, with its keys. */
static void assert_teks(vpn_sad *sad, const tek_seen *t, size_t n, bool aes)
{
    for (size_t i = 0; i < n; i++) {
        const vpn_sa_config *sc;
        assert_tek_keys(sad, t[i].spi, &t[i].keys);
        sc = vpn_sa_get_config(vpn_sad_lookup(sad, t[i].spi, NULL));
        /* SA Direction 2 (receiver-only), Address Preservation 3 */
        assert_int_equal(sc->dir, VPN_SA_IN);
        assert_int_equal(sc->mode, VPN_ESP_TUNNEL_ADDR_PRESERVE_DST);
        assert_int_equal(sc->group, true);
        if (t[i].transform == VPN_IPSEC_DOI_ESP_AES_GCM_16) {
            /* gdoid's Key Length 160 counts the salt: AES-128-GCM */
            assert_true(aes);
            assert_int_equal(sc->encr_id, VPN_ENCR_AES_GCM_16);
            assert_int_equal(sc->encr_key_bits, 128);
            assert_int_equal(sc->integ_id, VPN_INTEG_NONE);
        } else if (aes) {
            assert_int_equal(sc->encr_id, VPN_ENCR_AES_CBC);
            assert_int_equal(sc->encr_key_bits, 128);
            assert_int_equal(sc->integ_id, VPN_AUTH_HMAC_SHA2_256_128);
        } else {
            assert_int_equal(sc->encr_id, VPN_ENCR_3DES);
            assert_int_equal(sc->integ_id, VPN_AUTH_HMAC_SHA1_96);
        }
    }
}

static void member_takes_gdoid(bool aes)
{
    capture *c = malloc(sizeof *c);
    gm_run *r = malloc(sizeof *r);
    vpn_gdoi_gm_info info;
    tek_seen t[4], all[8];
    size_t n, nall = 0;
    vpn_addr ks;
    char s[VPN_ADDR_STRLEN];

    assert_non_null(c);
    assert_non_null(r);
    load(c, aes);
    ip4("10.0.224.44", &ks);
    assert_int_equal(gm_register(r, c, true), 0);
    assert_int_equal(vpn_gdoi_gm_get_state(r->gm), VPN_GDOI_GM_REGISTERED);
    assert_int_equal(vpn_gdoi_gm_last_seq(r->gm), 0); /* gdoid's SEQ in message 4 */

    /* the TEK policy: what the dump says, IDs read as gdoid meant them */
    n = teks_of(c, 7, 9, t, 4);
    assert_int_equal(n, 2); /* two TEKs in each SA of these traces */
    assert_teks(r->sad, t, n, aes);
    memcpy(all, t, n * sizeof t[0]);
    nall = n;
    vpn_gdoi_gm_get_info(r->gm, r->now, &info);
    assert_int_equal(info.tek.spi, t[0].spi);
    assert_int_equal(info.tek.spi, aes ? 0xfe5c51f1u : 0x5aface21u);
    assert_string_equal(vpn_addr_str(&info.tek.acl.src.addr, s, sizeof s), "10.0.224.37");
    assert_int_equal(info.tek.acl.src.len, 32);
    assert_string_equal(vpn_addr_str(&info.tek.acl.dst.addr, s, sizeof s), "239.1.1.1");
    assert_int_equal(info.tek.acl.dst.len, 32);
    assert_int_equal(info.tek.acl.proto, 0);
    assert_int_equal(info.tek.encr_id, aes ? VPN_ENCR_AES_CBC : VPN_ENCR_3DES);
    assert_int_equal(info.tek.key_bits, aes ? 128 : 0);
    assert_int_equal(info.tek.integ_id, aes ? VPN_AUTH_HMAC_SHA2_256_128 : VPN_AUTH_HMAC_SHA1_96);
    assert_int_equal(info.tek.lifetime_s, 60);
    assert_int_equal(info.kek.alg, aes ? VPN_GDOI_KEK_ALG_AES : VPN_GDOI_KEK_ALG_3DES);
    assert_int_equal(info.kek.key_bits, aes ? 128 : 192);
    assert_int_equal(info.kek.sig_hash, VPN_GDOI_SIG_HASH_SHA1);
    assert_int_equal(info.kek.lifetime_s, 25);
    assert_string_equal(info.refused, "");
    assert_memory_equal(vpn_gdoi_gm_kek_spi(r->gm), c->raw[30].b, 16);

    /* the four pushes, as captured */
    for (unsigned i = 30; i < NMSG; i++) {
        r->now = c->raw[i].ts_ns;
        assert_int_equal(vpn_gdoi_gm_input_from(r->gm, &ks, c->raw[i].b, c->raw[i].len, r->now),
                         0);
        assert_int_equal(vpn_gdoi_gm_last_seq(r->gm), i - 29);
        n = teks_of(c, i, i, t, 4);
        if (n) {
            assert_teks(r->sad, t, n, aes);
            vpn_gdoi_gm_get_info(r->gm, r->now, &info);
            assert_int_equal(info.tek.spi, t[0].spi);
            assert_string_equal(vpn_addr_str(&info.tek.acl.src.addr, s, sizeof s), "10.0.224.37");
            assert_string_equal(vpn_addr_str(&info.tek.acl.dst.addr, s, sizeof s), "239.1.1.1");
            memcpy(all + nall, t, n * sizeof t[0]);
            nall += n;
        }
        /* the next push comes under the KEK this one announced */
        if (i + 1 < NMSG)
            assert_memory_equal(vpn_gdoi_gm_kek_spi(r->gm), c->raw[i + 1].b, 16);
    }
    /* registration, push 1 (the same two TEKs, new lifetime), push 2 (two new) */
    assert_int_equal(nall, 6);
    /* the last push deleted every TEK */
    for (size_t i = 0; i < nall; i++)
        assert_null(vpn_sad_lookup(r->sad, all[i].spi, NULL));
    assert_null(vpn_gdoi_gm_tek(r->gm));
    assert_int_equal(vpn_gdoi_gm_get_stats(r->gm)->rekeys, 4);
    assert_int_equal(vpn_gdoi_gm_get_stats(r->gm)->bad_sig, 0);
    /* the member's view of the last rekey source */
    vpn_gdoi_gm_get_info(r->gm, r->now, &info);
    assert_true(vpn_addr_eq(&info.last_rekey_from, &ks));
    gm_free(r);
    free(r);
    free(c);
}

static void test_member_3des(void **state)
{
    (void)state;
    member_takes_gdoid(false);
}

static void test_member_aes(void **state)
{
    (void)state;
    member_takes_gdoid(true);
}

/* Without legacy algorithms: refused, and said so. */
static void test_member_refuses_legacy(void **state)
{
    capture *c = malloc(sizeof *c);
    gm_run *r = malloc(sizeof *r);
    char out[8192];
    vpn_show_buf b;
    vpn_gdoi_gm_info info;
    (void)state;

    assert_non_null(c);
    assert_non_null(r);
    for (int aes = 0; aes < 2; aes++) {
        const char *want = aes ? "SIG_HASH_ALGORITHM 2 (SHA-1): legacy algorithms not enabled"
                               : "KEK_ALGORITHM 2 (3DES): legacy algorithms not enabled";
        load(c, aes);
        assert_int_equal(gm_register(r, c, false), VPN_ERR_POLICY);
        assert_int_not_equal(vpn_gdoi_gm_get_state(r->gm), VPN_GDOI_GM_REGISTERED);
        vpn_gdoi_gm_get_info(r->gm, r->now, &info);
        assert_string_equal(info.refused, want);
        assert_non_null(strstr(r->log.last, want));
        vpn_show_init(&b, out, sizeof out);
        assert_int_equal(vpn_show_gdoi_gm(r->gm, r->now, &b), 0);
        assert_non_null(strstr(out, "Last policy refused   : "));
        assert_non_null(strstr(out, want));
        /* and a push under a KEK it never accepted is not for it */
        assert_int_equal(vpn_gdoi_gm_input(r->gm, c->raw[30].b, c->raw[30].len, r->now),
                         VPN_ERR_NOTFOUND);
        gm_free(r);
    }
    free(r);
    free(c);
}

/* ---- our key server with gdoid's member messages ----------------------- */

static void ks_serves_gdoid(bool aes, uint8_t layout)
{
    capture *c = malloc(sizeof *c);
    peer *gm = malloc(sizeof *gm);
    vpn_gdoi_ks_cfg kc;
    vpn_gdoi_ks *ks;
    vpn_drbg d;
    vpn_rng rng;
    vpn_sig_key *key = tu_gdoi_rsa_key();
    wire out;
    uint8_t plain[GDOI_MSG_MAX], iv[VPN_IKEV1_BLOCK], dg[GDOI_MSG_MAX], ni[256], nr[256];
    uint8_t copy[MSG_MAX];
    vpn_isakmp_view none = {NULL, 0}, ni_b, nr_b;
    vpn_isakmp_msg m, g;
    const vpn_isakmp_payload *p;
    vpn_isakmp_sa sa;
    vpn_isakmp_chain ch;
    vpn_isakmp_payload sub;
    uint64_t now = 1000;
    uint32_t mid;
    size_t len;
    unsigned subs = 0;

    assert_non_null(c);
    assert_non_null(gm);
    load(c, aes);
    vpn_drbg_init(&d, "ks", 2);
    vpn_rng_init_drbg(&rng, &d);
    memset(&kc, 0, sizeof kc);
    kc.name = "gdoid";
    kc.group_id = 1234;
    ip4("10.0.224.44", &kc.local);
    kc.ike = p1_cfg("10.0.224.44", aes);
    kc.tek.sel.family = VPN_AF_INET;
    ip4("10.0.224.37", &kc.tek.sel.src.addr);
    kc.tek.sel.src.len = 32;
    ip4("239.1.1.1", &kc.tek.sel.dst.addr);
    kc.tek.sel.dst.len = 32;
    kc.tek.encr_id = VPN_ENCR_AES_CBC;
    kc.tek.key_bits = 128;
    kc.multicast = true;
    ip4("239.10.1.1", &kc.mcast);
    kc.rekey_key = key;
    kc.layout = layout;
    memset(&out, 0, sizeof out);
    assert_int_equal(vpn_gdoi_ks_new(&ks, &kc, &rng, NULL, gm_send, &out, now), 0);
    peer_init(gm, "10.0.224.37", true, aes); /* proposes what gdoid's member did */
    assert_int_equal(vpn_ikev1_sa_start(gm->p1, now), 0);
    /* our KS answers Main Mode; move the initiator's first message over */
    for (int round = 0; round < 10 && vpn_ikev1_sa_state(gm->p1) != VPN_IKEV1_ST_ESTABLISHED;
         round++) {
        for (unsigned k = 0; k < gm->to_engine.n; k++)
            assert_int_equal(ks_in(ks, gm->to_engine.b[k], gm->to_engine.len[k], now), 0);
        gm->to_engine.n = 0;
        for (unsigned k = 0; k < out.n; k++)
            assert_int_equal(vpn_ikev1_sa_input(gm->p1, out.b[k], out.len[k], now), 0);
        out.n = 0;
        now += NS / 1000;
    }
    assert_int_equal(vpn_ikev1_sa_state(gm->p1), VPN_IKEV1_ST_ESTABLISHED);
    assert_int_equal(vpn_ikev1_sa_block(gm->p1), aes ? 16 : 8);
    for (unsigned k = 0; k < gm->to_engine.n; k++) /* message 6 went the other way */
        assert_int_equal(ks_in(ks, gm->to_engine.b[k], gm->to_engine.len[k], now), 0);
    gm->to_engine.n = 0;
    out.n = 0;

    /* HDR*, HASH(1), Ni, ID: gdoid's Ni and ID, its message ID */
    mid = vpn_load32(c->raw[6].b + 20);
    assert_int_equal(vpn_ikev1_sa_p2_iv(gm->p1, mid, iv), 0);
    parse_dump(&c->dump[6], copy, &g);
    p = only(&g, VPN_ISAKMP_PL_NONCE);
    memcpy(ni, p->body, p->body_len);
    ni_b = (vpn_isakmp_view){ni, p->body_len};
    len = pull_msg(gm->p1, mid, 1, &c->dump[6], none, none, iv, dg);
    assert_int_equal(ks_in(ks, dg, len, now), 0);
    /* HDR*, HASH(2), Nr, SA from our KS */
    assert_int_equal(out.n, 1);
    assert_int_equal(gdoi_pull_open(gm->p1, out.b[0], out.len[0], 2, ni_b, none, iv, &m, plain), 0);
    p = only(&m, VPN_ISAKMP_PL_NONCE);
    memcpy(nr, p->body, p->body_len);
    nr_b = (vpn_isakmp_view){nr, p->body_len};
    p = only(&m, VPN_ISAKMP_PL_SA);
    assert_int_equal(vpn_isakmp_sa_decode(p->body, p->body_len, VPN_GDOI_EXCH_PULL, &sa), 0);
    vpn_gdoi_sa_iter_init(&ch, &sa);
    while (vpn_gdoi_sa_next(&ch, &sub) == 1) {
        if (sub.type == VPN_GDOI_PL_SAK) {
            vpn_gdoi_sak k;
            assert_int_equal(vpn_gdoi_sak_decode(sub.body, sub.body_len, &k), 0);
            assert_int_equal(k.layout, layout);
            subs++;
        } else if (sub.type == VPN_GDOI_PL_SAT) {
            vpn_gdoi_sat t;
            /* gdoid's order for its members: 10.0.224.37/32 as 25 e0 00 0a */
            static const uint8_t swapped[8] = {0x25, 0xe0, 0x00, 0x0a, 0xff, 0xff, 0xff, 0xff};
            static const uint8_t net[8] = {0x0a, 0x00, 0xe0, 0x25, 0xff, 0xff, 0xff, 0xff};
            assert_int_equal(vpn_gdoi_sat_decode(sub.body, sub.body_len, &t), 0);
            assert_int_equal(t.layout, layout);
            assert_int_equal(t.src.data.len, 8);
            assert_memory_equal(t.src.data.p, layout == VPN_GDOI_LAYOUT_GDOID ? swapped : net, 8);
            subs++;
        }
    }
    assert_int_equal(subs, 2);
    out.n = 0;
    /* HDR*, HASH(3) [, GAP]: gdoid's (AES: a GAP asking for sender IDs) */
    len = pull_msg(gm->p1, mid, 3, &c->dump[8], ni_b, nr_b, iv, dg);
    assert_int_equal(ks_in(ks, dg, len, now), 0);
    /* HDR*, HASH(4), SEQ, KD */
    assert_int_equal(out.n, 1);
    assert_int_equal(gdoi_pull_open(gm->p1, out.b[0], out.len[0], 4, ni_b, nr_b, iv, &m, plain), 0);
    p = only(&m, VPN_GDOI_PL_KD);
    {
        vpn_gdoi_kd kd;
        assert_int_equal(vpn_gdoi_kd_decode(p->body, p->body_len, &kd), 0);
    }
    assert_int_equal(vpn_gdoi_ks_get_stats(ks)->registrations, 1);
    assert_int_equal(vpn_gdoi_ks_members(ks), 1);
    vpn_gdoi_ks_del(ks);
    vpn_ikev1_sa_del(gm->p1);
    vpn_sig_key_del(key);
    free(gm);
    free(c);
}

static void test_key_server(void **state)
{
    (void)state;
    ks_serves_gdoid(false, VPN_GDOI_LAYOUT_GDOID);
    ks_serves_gdoid(true, VPN_GDOI_LAYOUT_GDOID);
    ks_serves_gdoid(true, VPN_GDOI_LAYOUT_RFC6407);
}

/* ---- phase 1 ------------------------------------------------------------- */

static int p1_offer(const capture *c, bool legacy, tu_log_sink *sink, vpn_ikev1_sa **sa)
{
    peer p;
    vpn_ikev1_ctx x;
    vpn_ikev1_cfg cfg = p1_cfg("10.0.224.44", -1);
    int rc;

    memset(&p, 0, sizeof p);
    vpn_drbg_init(&p.d, "r", 1);
    vpn_rng_init_drbg(&p.rng, &p.d);
    memset(&x, 0, sizeof x);
    x.rng = &p.rng;
    x.send = p1_send;
    x.user = &p.to_engine;
    tu_log_attach(&x.log, sink);
    cfg.allow_legacy_groups = legacy;
    cfg.allow_legacy_ciphers = legacy;
    assert_int_equal(vpn_ikev1_sa_new(sa, &x, &cfg, false), 0);
    rc = vpn_ikev1_sa_input(*sa, c->raw[0].b, c->raw[0].len, 1000);
    return rc;
}

static void test_phase1_proposal(void **state)
{
    capture *c = malloc(sizeof *c);
    tu_log_sink sink;
    vpn_ikev1_sa *sa;
    (void)state;

    assert_non_null(c);
    load(c, true);
    memset(&sink, 0, sizeof sink);
    assert_int_equal(p1_offer(c, true, &sink, &sa), 0);
    assert_int_equal(vpn_ikev1_sa_state(sa), VPN_IKEV1_ST_R_MSG2);
    assert_int_equal(vpn_ikev1_sa_group(sa), VPN_DH_MODP_1024);
    assert_int_equal(vpn_ikev1_sa_hash(sa), VPN_IKEV1_HASH_SHA1);
    assert_int_equal(vpn_ikev1_sa_peer_doi(sa), VPN_ISAKMP_DOI_GDOI);
    vpn_ikev1_sa_del(sa);
    memset(&sink, 0, sizeof sink);
    assert_int_equal(p1_offer(c, false, &sink, &sa), VPN_ERR_POLICY);
    assert_non_null(strstr(sink.last, "group description 2: legacy groups not enabled"));
    vpn_ikev1_sa_del(sa);
    load(c, false);
    memset(&sink, 0, sizeof sink);
    assert_int_equal(p1_offer(c, true, &sink, &sa), 0);
    assert_int_equal(vpn_ikev1_sa_state(sa), VPN_IKEV1_ST_R_MSG2);
    assert_int_equal(vpn_ikev1_sa_encr(sa), VPN_IKEV1_ENCR_3DES);
    assert_int_equal(vpn_ikev1_sa_block(sa), 8);
    vpn_ikev1_sa_del(sa);
    memset(&sink, 0, sizeof sink);
    assert_int_equal(p1_offer(c, false, &sink, &sa), VPN_ERR_POLICY);
    assert_non_null(strstr(sink.last, "encryption algorithm 5 (3DES-CBC): legacy ciphers not "
                                      "enabled"));
    vpn_ikev1_sa_del(sa);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_message_parses),
        cmocka_unit_test(test_member_3des),
        cmocka_unit_test(test_member_aes),
        cmocka_unit_test(test_member_refuses_legacy),
        cmocka_unit_test(test_key_server),
        cmocka_unit_test(test_phase1_proposal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
