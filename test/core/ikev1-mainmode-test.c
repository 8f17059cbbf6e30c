/*
 * IKEv1 Main Mode (RFC 2409 5) between two in-memory engines with a
 * counter clock: PSK with several groups and hashes, DOI 1 and 2, a wrong
 * PSK, a refused proposal, retransmission of a lost message, the responder
 * answering a duplicate, informational delete, lifetime expiry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "test-util.h"
#include "crypto/sig.h"

#include "common/rng.h"
#include "common/vpn-err.h"
#include "crypto/crypto-ids.h"
#include "conf/conf.h"
#include "ikev1/ikev1-conf.h"
#include "ikev1/ikev1.h"
#include "isakmp/isakmp-const.h"
#include "show/show-isakmp.h"

#define QMAX 16

typedef struct q {
    uint8_t buf[QMAX][VPN_IKEV1_MAX_MSG];
    size_t len[QMAX];
    unsigned n, sent_encrypted_views;
    bool drop_next;
} q;

static void on_send(void *user, vpn_ikev1_sa *sa, const uint8_t *dg, size_t len,
                    const uint8_t *view, size_t view_len)
{
    q *qu = user;
    (void)sa;
    if (view) {
        assert_true(view_len > VPN_ISAKMP_HDR_LEN);
        assert_int_equal(view[19] & VPN_ISAKMP_FLAG_E, 0);
        qu->sent_encrypted_views++;
    }
    if (qu->drop_next) {
        qu->drop_next = false;
        return;
    }
    assert_true(qu->n < QMAX);
    memcpy(qu->buf[qu->n], dg, len);
    qu->len[qu->n++] = len;
}

typedef struct pair {
    vpn_drbg d1, d2;
    vpn_rng r1, r2;
    q qi, qr; /* what the initiator / responder sent */
    vpn_ikev1_sa *i, *r;
    uint64_t now;
} pair;

static void pair_init(pair *p, const vpn_ikev1_cfg *ci, const vpn_ikev1_cfg *cr)
{
    vpn_ikev1_ctx xi, xr;

    memset(p, 0, sizeof *p);
    vpn_drbg_init(&p->d1, "ikev1-i", 7);
    vpn_drbg_init(&p->d2, "ikev1-r", 7);
    vpn_rng_init_drbg(&p->r1, &p->d1);
    vpn_rng_init_drbg(&p->r2, &p->d2);
    memset(&xi, 0, sizeof xi);
    xr = xi;
    xi.rng = &p->r1;
    xi.send = on_send;
    xi.user = &p->qi;
    xr.rng = &p->r2;
    xr.send = on_send;
    xr.user = &p->qr;
    assert_int_equal(vpn_ikev1_sa_new(&p->i, &xi, ci, true), 0);
    assert_int_equal(vpn_ikev1_sa_new(&p->r, &xr, cr, false), 0);
    p->now = 1000;
}

static void pair_free(pair *p)
{
    vpn_ikev1_sa_del(p->i);
    vpn_ikev1_sa_del(p->r);
}

/* Delivers queued datagrams both ways until quiet; returns the last error. */
static int pump(pair *p)
{
    int last = 0;
    for (int round = 0; round < 20; round++) {
        bool any = false;
        for (unsigned k = 0; k < p->qi.n; k++) {
            int rc = vpn_ikev1_sa_input(p->r, p->qi.buf[k], p->qi.len[k], p->now);
            if (rc) {
                last = rc;
                if (getenv("DBG")) fprintf(stderr, "DBG rc %d at k %u round %d\n", rc, k, round);
            }
            any = true;
        }
        p->qi.n = 0;
        p->now += 1000;
        for (unsigned k = 0; k < p->qr.n; k++) {
            int rc = vpn_ikev1_sa_input(p->i, p->qr.buf[k], p->qr.len[k], p->now);
            if (rc) {
                last = rc;
                if (getenv("DBG")) fprintf(stderr, "DBG rc %d at k %u round %d\n", rc, k, round);
            }
            any = true;
        }
        p->qr.n = 0;
        p->now += 1000;
        if (!any)
            break;
    }
    return last;
}

static vpn_ikev1_cfg cfg(const char *psk, const char *id, uint16_t group, uint16_t hash)
{
    vpn_ikev1_cfg c;
    memset(&c, 0, sizeof c);
    c.psk = (const uint8_t *)psk;
    c.psk_len = strlen(psk);
    vpn_addr_parse(&c.local_id, id);
    c.group = group;
    c.hash = hash;
    return c;
}

static void check_established(pair *p)
{
    size_t l1, l2;
    const uint8_t *k1 = vpn_ikev1_sa_enc_key(p->i, &l1), *k2 = vpn_ikev1_sa_enc_key(p->r, &l2);
    char a[VPN_ADDR_STRLEN];
    uint8_t iv1[16], iv2[16];

    assert_int_equal(vpn_ikev1_sa_state(p->i), VPN_IKEV1_ST_ESTABLISHED);
    assert_int_equal(vpn_ikev1_sa_state(p->r), VPN_IKEV1_ST_ESTABLISHED);
    assert_true(l1 > 0);
    assert_int_equal(l1, l2);
    assert_memory_equal(k1, k2, l1);
    assert_memory_equal(vpn_ikev1_sa_rcookie(p->i), vpn_ikev1_sa_rcookie(p->r), 8);
    assert_string_equal(vpn_addr_str(vpn_ikev1_sa_peer_id(p->r), a, sizeof a), "10.0.0.2");
    assert_string_equal(vpn_addr_str(vpn_ikev1_sa_peer_id(p->i), a, sizeof a), "10.0.0.1");
    /* both ends agree on the phase-2 IV, i.e. on the last phase-1 block */
    assert_int_equal(vpn_ikev1_sa_p2_iv(p->i, 0x01020304, iv1), 0);
    assert_int_equal(vpn_ikev1_sa_p2_iv(p->r, 0x01020304, iv2), 0);
    assert_memory_equal(iv1, iv2, 16);
}

static void run_suite(uint16_t group, uint16_t hash, uint32_t doi, uint16_t bits)
{
    pair p;
    vpn_ikev1_cfg ci = cfg("s3cret", "10.0.0.2", group, hash), cr = cfg("s3cret", "10.0.0.1", 0, 0);

    ci.doi = doi;
    ci.encr_key_bits = bits;
    cr.allow_legacy_groups = true;
    pair_init(&p, &ci, &cr);
    assert_int_equal(vpn_ikev1_sa_start(p.i, p.now), 0);
    assert_int_equal(pump(&p), 0);
    check_established(&p);
    assert_int_equal(vpn_ikev1_sa_group(p.r), group);
    assert_int_equal(vpn_ikev1_sa_hash(p.r), hash);
    assert_int_equal(vpn_ikev1_sa_peer_doi(p.r), doi ? doi : VPN_IKEV1_DEFAULT_DOI);
    assert_int_equal(vpn_ikev1_sa_enc_key(p.i, &(size_t){0}) != NULL, 1);
    {
        size_t l;
        vpn_ikev1_sa_enc_key(p.i, &l);
        assert_int_equal(l, (bits ? bits : 256) / 8);
    }
    /* messages 5 and 6 went out encrypted, each with a decrypted view */
    assert_int_equal(p.qi.sent_encrypted_views, 1);
    assert_int_equal(p.qr.sent_encrypted_views, 1);
    pair_free(&p);
}

static void test_suites(void **state)
{
    (void)state;
    run_suite(VPN_DH_MODP_2048, VPN_IKEV1_HASH_SHA2_256, 0, 0);
    run_suite(VPN_DH_ECP_256, VPN_IKEV1_HASH_SHA1, 2, 128);
    run_suite(VPN_DH_ECP_384, VPN_IKEV1_HASH_SHA2_384, 1, 256);
    run_suite(VPN_DH_MODP_1024, VPN_IKEV1_HASH_SHA2_512, 2, 192);
    run_suite(VPN_DH_MODP_1536, VPN_IKEV1_HASH_SHA1, 1, 256);
}

static void test_wrong_psk(void **state)
{
    pair p;
    vpn_ikev1_cfg ci = cfg("s3cret", "10.0.0.2", 0, 0), cr = cfg("other", "10.0.0.1", 0, 0);
    (void)state;
    pair_init(&p, &ci, &cr);
    assert_int_equal(vpn_ikev1_sa_start(p.i, p.now), 0);
    /* message 5 decrypts to garbage under the responder's key */
    assert_int_equal(pump(&p), VPN_ERR_MALFORMED);
    assert_int_equal(vpn_ikev1_sa_state(p.r), VPN_IKEV1_ST_R_MSG4);
    assert_int_equal(vpn_ikev1_sa_state(p.i), VPN_IKEV1_ST_I_MSG5);
    /* both give up after the retransmissions */
    for (int k = 0; k < 10; k++) {
        p.now += VPN_IKEV1_DEFAULT_RETRANS_NS;
        vpn_ikev1_sa_timeout(p.i, p.now);
        vpn_ikev1_sa_timeout(p.r, p.now);
    }
    assert_int_equal(vpn_ikev1_sa_state(p.r), VPN_IKEV1_ST_DEAD);
    assert_int_equal(vpn_ikev1_sa_state(p.i), VPN_IKEV1_ST_DEAD);
    pair_free(&p);
}

static void test_legacy_group_refused(void **state)
{
    pair p;
    vpn_ikev1_cfg ci = cfg("s3cret", "10.0.0.2", VPN_DH_MODP_1024, 0),
                  cr = cfg("s3cret", "10.0.0.1", 0, 0);
    (void)state;
    pair_init(&p, &ci, &cr);
    assert_int_equal(vpn_ikev1_sa_start(p.i, p.now), 0);
    assert_int_equal(pump(&p), VPN_ERR_POLICY);
    assert_int_equal(vpn_ikev1_sa_state(p.r), VPN_IKEV1_ST_DEAD);
    assert_int_equal(vpn_ikev1_sa_state(p.i), VPN_IKEV1_ST_I_MSG1);
    pair_free(&p);
}

/*
 * 3DES-CBC (RFC 2409 appendix A: 5), the Cisco GDOI reference
 * implementation's phase 1 (3DES, SHA-1, MODP-1024, PSK, 60 s, DOI 2):
 * refused unless configured, naming the attribute; with it, Main Mode
 * completes on 8-octet blocks and IVs and a 24-octet key.
 */
static void test_legacy_3des(void **state)
{
    vpn_ikev1_suite su;
    vpn_ikev1_cfg ci = cfg("s3cret", "10.0.0.2", 0, 0), cr = cfg("s3cret", "10.0.0.1", 0, 0);
    tu_log_sink sink;
    pair p;
    (void)state;

    memset(&su, 0, sizeof su);
    su.encr = VPN_IKEV1_ENCR_3DES;
    su.hash = VPN_IKEV1_HASH_SHA1;
    su.group = VPN_DH_MODP_1024;
    su.auth = VPN_IKEV1_AUTH_PSK;
    su.lifetime_s = 60;
    ci.suites = &su;
    ci.n_suites = 1;
    ci.doi = VPN_ISAKMP_DOI_GDOI;
    cr.allow_legacy_groups = true;
    for (int legacy = 0; legacy < 2; legacy++) {
        vpn_ikev1_ctx x;
        cr.allow_legacy_ciphers = legacy;
        pair_init(&p, &ci, &cr);
        /* the responder again, with a log */
        vpn_ikev1_sa_del(p.r);
        memset(&x, 0, sizeof x);
        memset(&sink, 0, sizeof sink);
        x.rng = &p.r2;
        x.send = on_send;
        x.user = &p.qr;
        tu_log_attach(&x.log, &sink);
        assert_int_equal(vpn_ikev1_sa_new(&p.r, &x, &cr, false), 0);
        assert_int_equal(vpn_ikev1_sa_start(p.i, p.now), 0);
        if (!legacy) {
            assert_int_equal(pump(&p), VPN_ERR_POLICY);
            assert_int_equal(vpn_ikev1_sa_state(p.r), VPN_IKEV1_ST_DEAD);
            assert_non_null(strstr(sink.last, "encryption algorithm 5 (3DES-CBC): legacy "
                                              "ciphers not enabled"));
        } else {
            uint8_t iv1[16], iv2[16], buf[24] = "twenty-four octets here", c[24];
            size_t l1, l2;
            const uint8_t *k1 = vpn_ikev1_sa_enc_key(p.i, &l1), *k2;
            (void)k1;
            assert_int_equal(pump(&p), 0);
            assert_int_equal(vpn_ikev1_sa_state(p.i), VPN_IKEV1_ST_ESTABLISHED);
            assert_int_equal(vpn_ikev1_sa_state(p.r), VPN_IKEV1_ST_ESTABLISHED);
            assert_int_equal(vpn_ikev1_sa_encr(p.r), VPN_IKEV1_ENCR_3DES);
            assert_int_equal(vpn_ikev1_sa_block(p.i), 8);
            assert_int_equal(vpn_ikev1_sa_block(p.r), 8);
            k1 = vpn_ikev1_sa_enc_key(p.i, &l1);
            k2 = vpn_ikev1_sa_enc_key(p.r, &l2);
            assert_int_equal(l1, 24); /* RFC 2409 appendix B key expansion */
            assert_int_equal(l2, 24);
            assert_memory_equal(k1, k2, 24);
            assert_non_null(strstr(sink.last, "3DES-192"));
            /* phase 2: the same 8-octet IV, and CBC across the two ends */
            assert_int_equal(vpn_ikev1_sa_p2_iv(p.i, 0x01020304, iv1), 0);
            assert_int_equal(vpn_ikev1_sa_p2_iv(p.r, 0x01020304, iv2), 0);
            assert_memory_equal(iv1, iv2, 8);
            memcpy(c, buf, sizeof c);
            assert_int_equal(vpn_ikev1_sa_encrypt(p.i, iv1, c, sizeof c), 0);
            assert_memory_equal(iv1, c + 16, 8); /* the next IV: the last block */
            assert_int_equal(vpn_ikev1_sa_decrypt(p.r, iv2, c, sizeof c), 0);
            assert_memory_equal(c, buf, sizeof c);
            assert_int_equal(vpn_ikev1_sa_encrypt(p.i, iv1, c, 12), VPN_ERR_INVAL);
        }
        pair_free(&p);
    }
}

static vpn_conf *conf_of(const char *text)
{
    vpn_conf *c = NULL;
    vpn_conf_error e;
    int rc = vpn_conf_parse(text, strlen(text), &c, &e);
    if (rc)
        fprintf(stderr, "line %d: %s\n", e.line, e.msg);
    assert_int_equal(rc, 0);
    return c;
}

/* IOS `crypto isakmp policy` lists end to end: the initiator offers every
 * policy it has a key for, in priority order; the responder takes the
 * first transform equal to one of its own policies. */
static void test_isakmp_policies(void **state)
{
    vpn_conf *ci_conf = conf_of("crypto isakmp policy 20\n"
                                " encryption aes 256\n hash sha256\n authentication pre-share\n"
                                " group 19\n lifetime 3600\n"
                                "crypto isakmp policy 10\n" /* preferred, but rsa-sig: no key */
                                " encryption aes 128\n hash sha\n group 14\n"
                                "crypto isakmp policy 30\n"
                                " encryption aes 192\n hash sha384\n authentication pre-share\n"
                                " group 20\n"
                                "crypto isakmp key k3y address 10.0.0.0 255.255.255.0\n");
    vpn_conf *cr_conf = conf_of("crypto isakmp policy 5\n" /* only the initiator's second offer */
                                " encryption aes 192\n hash sha384\n authentication pre-share\n"
                                " group 20\n lifetime 7200\n"
                                "crypto isakmp key 0 k3y address 10.0.0.2\n");
    vpn_ikev1_suite si[VPN_IKEV1_SUITES_MAX], sr[VPN_IKEV1_SUITES_MAX];
    vpn_ikev1_cfg ci, cr;
    vpn_addr a1, a2;
    pair p;
    (void)state;

    vpn_addr_parse(&a1, "10.0.0.1");
    vpn_addr_parse(&a2, "10.0.0.2");
    memset(&ci, 0, sizeof ci);
    memset(&cr, 0, sizeof cr);
    assert_int_equal(vpn_ikev1_cfg_from_conf(ci_conf, &a2, &a1, si, &ci), 0);
    assert_int_equal(vpn_ikev1_cfg_from_conf(cr_conf, &a1, &a2, sr, &cr), 0);
    assert_int_equal(ci.n_suites, 2); /* policy 10 left out: no RSA key */
    assert_int_equal(ci.suites[0].group, 19);
    assert_int_equal(ci.suites[1].group, 20);
    assert_int_equal(ci.psk_len, 3);
    pair_init(&p, &ci, &cr);
    {
        /* show crypto isakmp sa on both ends, mid-exchange and once up:
         * dst is the responder on both. */
        vpn_show_isakmp_row rows[2] = {{p.i, a2, a1, 1001, false}, {p.r, a1, a2, 1002, false}};
        char out[4096];
        vpn_show_buf b;
        assert_int_equal(vpn_ikev1_sa_start(p.i, p.now), 0);
        vpn_show_init(&b, out, sizeof out);
        assert_int_equal(vpn_show_isakmp_sa(rows, 1, &b), 0);
        assert_non_null(strstr(out, "10.0.0.1        10.0.0.2        MM_NO_STATE       1001 ACTIVE\n"));
        assert_int_equal(vpn_ikev1_sa_wireshark_line(p.i, out, sizeof out), VPN_ERR_STATE);
        assert_int_equal(pump(&p), 0);
        check_established(&p);
        {
            /* Wireshark's ikev1_decryption_table: icookie,key (AES-192 here) */
            char l2[128];
            assert_int_equal(vpn_ikev1_sa_wireshark_line(p.i, out, sizeof out), 16 + 1 + 48);
            assert_int_equal(vpn_ikev1_sa_wireshark_line(p.r, l2, sizeof l2), 16 + 1 + 48);
            assert_string_equal(out, l2);
            assert_int_equal(out[16], ',');
            assert_int_equal(vpn_ikev1_sa_wireshark_line(p.r, l2, 60), VPN_ERR_NOSPACE);
        }
        vpn_show_init(&b, out, sizeof out);
        assert_int_equal(vpn_show_isakmp_sa(rows, 2, &b), 0);
        assert_string_equal(out, "IPv4 Crypto ISAKMP SA\n"
                                 "dst             src             state          conn-id status\n"
                                 "10.0.0.1        10.0.0.2        QM_IDLE           1001 ACTIVE\n"
                                 "10.0.0.1        10.0.0.2        QM_IDLE           1002 ACTIVE\n"
                                 "\nIPv6 Crypto ISAKMP SA\n"
                                 "dst             src             state          conn-id status\n\n");
        vpn_show_init(&b, out, sizeof out);
        assert_int_equal(vpn_show_isakmp_policy(ci_conf, &b), 0);
        assert_non_null(strstr(out, "Protection suite of priority 20\n"
                                    "\tencryption algorithm:\tAES - Advanced Encryption Standard (256 bit keys).\n"
                                    "\thash algorithm:\t\tSecure Hash Standard 2 (256 bit)\n"
                                    "\tauthentication method:\tPre-Shared Key\n"
                                    "\tDiffie-Hellman group:\t#19 (256 bit ecp)\n"
                                    "\tlifetime:\t\t3600 seconds, no volume limit\n"));
        /* priority order: 10 before 20 before 30 */
        assert_true(strstr(out, "priority 10") < strstr(out, "priority 20"));
        assert_true(strstr(out, "priority 20") < strstr(out, "priority 30"));
    }
    assert_int_equal(vpn_ikev1_sa_group(p.i), 20);
    assert_int_equal(vpn_ikev1_sa_hash(p.i), VPN_IKEV1_HASH_SHA2_384);
    pair_free(&p);

    /* A responder whose policies match none of the offers refuses. */
    vpn_conf *cr2_conf = conf_of("crypto isakmp policy 1\n"
                                 " encryption aes 256\n hash sha512\n authentication pre-share\n"
                                 " group 14\n"
                                 "crypto isakmp key k3y address 0.0.0.0 0.0.0.0\n");
    memset(&cr, 0, sizeof cr);
    assert_int_equal(vpn_ikev1_cfg_from_conf(cr2_conf, &a1, &a2, sr, &cr), 0);
    pair_init(&p, &ci, &cr);
    assert_int_equal(vpn_ikev1_sa_start(p.i, p.now), 0);
    assert_int_equal(pump(&p), VPN_ERR_POLICY);
    assert_int_equal(vpn_ikev1_sa_state(p.r), VPN_IKEV1_ST_DEAD);
    pair_free(&p);

    /* No key for this peer and no RSA key: nothing usable. */
    vpn_addr_parse(&a2, "192.0.2.9");
    memset(&cr, 0, sizeof cr);
    assert_int_equal(vpn_ikev1_cfg_from_conf(ci_conf, &a1, &a2, sr, &cr), VPN_ERR_AUTH);
    vpn_conf_del(ci_conf);
    vpn_conf_del(cr_conf);
    vpn_conf_del(cr2_conf);
}

/* The capacity a caller sizes its buffer with holds the widest rows: IPv6
 * addresses of full length, the largest conn-id, a dead SA. */
static void test_show_sa_capacity(void **state)
{
    enum { N = 8 };
    vpn_show_isakmp_row rows[N];
    size_t cap = VPN_SHOW_ISAKMP_SA_CAP(N);
    char *out = malloc(cap);
    vpn_show_buf b;
    (void)state;

    assert_non_null(out);
    memset(rows, 0, sizeof rows);
    for (int i = 0; i < N; i++) {
        vpn_addr_parse(&rows[i].local, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff1");
        vpn_addr_parse(&rows[i].remote, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff2");
        rows[i].conn_id = 4294967295u;
    }
    vpn_show_init(&b, out, cap);
    assert_int_equal(vpn_show_isakmp_sa(rows, N, &b), 0);
    assert_false(b.truncated);
    assert_non_null(strstr(out, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff1 ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff2 "
                                "MM_NO_STATE    4294967295 DELETED\n"));
    free(out);
}


/* Fails ask number `fail` (0-based) of the SA's allocation gate; counts asks. */
typedef struct gate1 {
    long fail, asked;
} gate1;

static bool gate1_allow(void *user, size_t size)
{
    gate1 *g = user;
    (void)size;
    return g->asked++ != g->fail;
}

/*
 * The SA's allocation gate (vpn_ikev1_cfg.alloc) covers the CBC context of
 * every encrypted message. Each allocation of either end, in turn, is
 * refused once: Main Mode still completes through retransmission, both
 * ends on the same keys and IVs (a responder whose message 6 could not be
 * encrypted must open the retransmitted message 5 under the IV it was
 * sent with). And a refused context leaves vpn_ikev1_sa_encrypt's buffer
 * and IV as they were.
 */
static void test_alloc_refused(void **state)
{
    (void)state;
    for (int side = 0; side < 2; side++) {
        long k, asks = -1;
        for (k = 0; k < 64; k++) {
            vpn_ikev1_cfg ci = cfg("s3cret", "10.0.0.2", 0, 0), cr = cfg("s3cret", "10.0.0.1", 0, 0);
            gate1 g = {-1, 0};
            pair p;
            (side ? &cr : &ci)->alloc = (vpn_alloc){gate1_allow, &g};
            pair_init(&p, &ci, &cr);
            g.asked = 0; /* creation is not what this aims at */
            g.fail = k;
            assert_int_equal(vpn_ikev1_sa_start(p.i, p.now), 0);
            pump(&p);
            for (int t = 0; t < 4 && (vpn_ikev1_sa_state(p.i) != VPN_IKEV1_ST_ESTABLISHED ||
                                      vpn_ikev1_sa_state(p.r) != VPN_IKEV1_ST_ESTABLISHED);
                 t++) {
                p.now += VPN_IKEV1_DEFAULT_RETRANS_NS;
                vpn_ikev1_sa_timeout(p.i, p.now);
                vpn_ikev1_sa_timeout(p.r, p.now);
                pump(&p);
            }
            check_established(&p);
            if (g.asked <= k) { /* ran without a refusal: every ask was swept */
                asks = g.asked;
                {
                    uint8_t iv[16], iv0[16], buf[32], ref[32];
                    assert_int_equal(vpn_ikev1_sa_p2_iv(side ? p.r : p.i, 7, iv), 0);
                    memcpy(iv0, iv, sizeof iv);
                    memset(ref, 0x3c, sizeof ref);
                    memcpy(buf, ref, sizeof buf);
                    g.fail = g.asked;
                    assert_int_equal(vpn_ikev1_sa_encrypt(side ? p.r : p.i, iv, buf, sizeof buf),
                                     VPN_ERR_NOMEM);
                    assert_memory_equal(iv, iv0, sizeof iv);
                    assert_memory_equal(buf, ref, sizeof buf);
                    assert_int_equal(vpn_ikev1_sa_encrypt(side ? p.r : p.i, iv, buf, sizeof buf),
                                     0);
                    assert_memory_not_equal(buf, ref, sizeof buf);
                }
                pair_free(&p);
                break;
            }
            pair_free(&p);
        }
        assert_int_equal(k, asks);
        /* at least the two CBC contexts of messages 5 and 6 at this end */
        assert_true(asks >= 2);
    }
}

static void test_retransmit(void **state)
{
    pair p;
    vpn_ikev1_cfg ci = cfg("s3cret", "10.0.0.2", 0, 0), cr = cfg("s3cret", "10.0.0.1", 0, 0);
    uint64_t dl;
    (void)state;
    pair_init(&p, &ci, &cr);
    assert_int_equal(vpn_ikev1_sa_start(p.i, p.now), 0);
    pump(&p); /* messages 1-4 */
    /* loses message 6 once: the initiator resends 5, the responder repeats 6 */
    p.now += 10;
    assert_int_equal(vpn_ikev1_sa_state(p.i), VPN_IKEV1_ST_ESTABLISHED);
    pair_free(&p);

    pair_init(&p, &ci, &cr);
    p.qi.drop_next = true; /* message 1 lost */
    assert_int_equal(vpn_ikev1_sa_start(p.i, p.now), 0);
    assert_int_equal(pump(&p), 0);
    assert_int_equal(vpn_ikev1_sa_state(p.i), VPN_IKEV1_ST_I_MSG1);
    dl = vpn_ikev1_sa_next_deadline(p.i);
    assert_true(dl > p.now && dl < UINT64_MAX);
    p.now = dl;
    vpn_ikev1_sa_timeout(p.i, p.now);
    assert_int_equal(p.qi.n, 1);
    /* drop the responder's message 6 once */
    for (int k = 0; k < 2; k++) {
        vpn_ikev1_sa_input(p.r, p.qi.buf[0], p.qi.len[0], p.now);
        p.qi.n = 0;
        vpn_ikev1_sa_input(p.i, p.qr.buf[0], p.qr.len[0], p.now);
        p.qr.n = 0;
    }
    assert_int_equal(vpn_ikev1_sa_state(p.i), VPN_IKEV1_ST_I_MSG5);
    vpn_ikev1_sa_input(p.r, p.qi.buf[0], p.qi.len[0], p.now); /* message 5 */
    p.qi.n = 0;
    assert_int_equal(vpn_ikev1_sa_state(p.r), VPN_IKEV1_ST_ESTABLISHED);
    p.qr.n = 0; /* message 6 lost */
    p.now = vpn_ikev1_sa_next_deadline(p.i);
    vpn_ikev1_sa_timeout(p.i, p.now); /* message 5 again */
    assert_int_equal(p.qi.n, 1);
    assert_int_equal(vpn_ikev1_sa_input(p.r, p.qi.buf[0], p.qi.len[0], p.now), 0);
    p.qi.n = 0;
    assert_int_equal(p.qr.n, 1); /* message 6 again */
    assert_int_equal(vpn_ikev1_sa_input(p.i, p.qr.buf[0], p.qr.len[0], p.now), 0);
    p.qr.n = 0;
    check_established(&p);
    pair_free(&p);

    /* a peer that never answers: the initiator gives up */
    pair_init(&p, &ci, &cr);
    assert_int_equal(vpn_ikev1_sa_start(p.i, p.now), 0);
    for (int k = 0; k < 10 && vpn_ikev1_sa_next_deadline(p.i) != UINT64_MAX; k++) {
        p.now = vpn_ikev1_sa_next_deadline(p.i);
        vpn_ikev1_sa_timeout(p.i, p.now);
    }
    assert_int_equal(vpn_ikev1_sa_state(p.i), VPN_IKEV1_ST_DEAD);
    assert_int_equal(p.qi.n, 1 + VPN_IKEV1_DEFAULT_RETRANS_MAX);
    pair_free(&p);
}

static void test_delete_and_lifetime(void **state)
{
    pair p;
    vpn_ikev1_cfg ci = cfg("s3cret", "10.0.0.2", 0, 0), cr = cfg("s3cret", "10.0.0.1", 0, 0);
    uint8_t bad[VPN_IKEV1_MAX_MSG];
    (void)state;
    ci.lifetime_s = 600;
    pair_init(&p, &ci, &cr);
    assert_int_equal(vpn_ikev1_sa_start(p.i, p.now), 0);
    assert_int_equal(pump(&p), 0);
    check_established(&p);
    /* an encrypted notify (what vpnd answers a Quick Mode with) verifies at
     * the peer and leaves both SAs up; a tampered one is refused */
    assert_int_equal(vpn_ikev1_sa_notify(p.r, VPN_ISAKMP_N_NO_PROPOSAL_CHOSEN, p.now), 0);
    assert_int_equal(p.qr.n, 1);
    assert_true(p.qr.len[0] > VPN_ISAKMP_HDR_LEN && (p.qr.buf[0][19] & VPN_ISAKMP_FLAG_E));
    memcpy(bad, p.qr.buf[0], p.qr.len[0]);
    bad[p.qr.len[0] - 20] ^= 1;
    assert_int_not_equal(vpn_ikev1_sa_input(p.i, bad, p.qr.len[0], p.now), 0);
    assert_int_equal(vpn_ikev1_sa_input(p.i, p.qr.buf[0], p.qr.len[0], p.now), 0);
    assert_int_equal(vpn_ikev1_sa_state(p.i), VPN_IKEV1_ST_ESTABLISHED);
    assert_int_equal(vpn_ikev1_sa_state(p.r), VPN_IKEV1_ST_ESTABLISHED);
    p.qr.n = 0;
    assert_int_equal(vpn_ikev1_sa_delete(p.i, p.now), 0);
    assert_int_equal(vpn_ikev1_sa_state(p.i), VPN_IKEV1_ST_DEAD);
    assert_int_equal(p.qi.n, 1);
    /* a tampered delete is refused, the SA lives on */
    memcpy(bad, p.qi.buf[0], p.qi.len[0]);
    bad[p.qi.len[0] - 20] ^= 1;
    assert_int_not_equal(vpn_ikev1_sa_input(p.r, bad, p.qi.len[0], p.now), 0);
    assert_int_equal(vpn_ikev1_sa_state(p.r), VPN_IKEV1_ST_ESTABLISHED);
    assert_int_equal(vpn_ikev1_sa_input(p.r, p.qi.buf[0], p.qi.len[0], p.now), 0);
    assert_int_equal(vpn_ikev1_sa_state(p.r), VPN_IKEV1_ST_DEAD);
    pair_free(&p);

    /* the responder takes the shorter lifetime the initiator proposed */
    pair_init(&p, &ci, &cr);
    assert_int_equal(vpn_ikev1_sa_start(p.i, p.now), 0);
    assert_int_equal(pump(&p), 0);
    assert_true(vpn_ikev1_sa_next_deadline(p.r) <= p.now + 600000000000ull);
    p.now = vpn_ikev1_sa_next_deadline(p.r);
    vpn_ikev1_sa_timeout(p.r, p.now);
    assert_int_equal(vpn_ikev1_sa_state(p.r), VPN_IKEV1_ST_DEAD);
    assert_int_equal(p.qr.n, 1); /* its delete */
    assert_int_equal(vpn_ikev1_sa_input(p.i, p.qr.buf[0], p.qr.len[0], p.now), 0);
    assert_int_equal(vpn_ikev1_sa_state(p.i), VPN_IKEV1_ST_DEAD);
    pair_free(&p);
}

static void test_garbage(void **state)
{
    pair p;
    vpn_ikev1_cfg ci = cfg("s3cret", "10.0.0.2", 0, 0), cr = cfg("s3cret", "10.0.0.1", 0, 0);
    uint8_t m[VPN_IKEV1_MAX_MSG];
    size_t n;
    (void)state;
    pair_init(&p, &ci, &cr);
    assert_int_equal(vpn_ikev1_sa_start(p.i, p.now), 0);
    n = p.qi.len[0];
    memcpy(m, p.qi.buf[0], n);
    /* every truncation of message 1 is refused without changing the responder */
    for (size_t k = 0; k < n; k++) {
        assert_int_not_equal(vpn_ikev1_sa_input(p.r, m, k, p.now), 0);
        assert_int_equal(vpn_ikev1_sa_state(p.r), VPN_IKEV1_ST_IDLE);
    }
    assert_int_equal(pump(&p), 0);
    check_established(&p);
    pair_free(&p);
}

static vpn_sig_key *rsa_new(void)
{
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    vpn_sig_key *k;
    assert_non_null(pk);
    assert_int_equal(vpn_sig_key_from_evp(&k, pk), 0);
    EVP_PKEY_free(pk);
    return k;
}

static void test_rsa_signatures(void **state)
{
    pair p;
    vpn_sig_key *ki = rsa_new(), *kr = rsa_new(), *other = rsa_new();
    const vpn_sig_key *trust_i[1] = {kr}, *trust_r[2] = {other, ki}, *wrong[1] = {other};
    vpn_ikev1_cfg ci = cfg("unused", "10.0.0.2", VPN_DH_ECP_256, 0),
                  cr = cfg("s3cret", "10.0.0.1", 0, 0);
    (void)state;
    ci.psk = NULL;
    ci.psk_len = 0;
    ci.auth = VPN_IKEV1_AUTH_RSA_SIG;
    ci.key = ki;
    ci.peer_keys = trust_i;
    ci.n_peer_keys = 1;
    /* the responder has a PSK and an RSA key: it takes what is proposed */
    cr.key = kr;
    cr.peer_keys = trust_r;
    cr.n_peer_keys = 2;
    pair_init(&p, &ci, &cr);
    assert_int_equal(vpn_ikev1_sa_start(p.i, p.now), 0);
    assert_int_equal(pump(&p), 0);
    check_established(&p);
    pair_free(&p);

    /* the same responder still serves PSK initiators */
    {
        vpn_ikev1_cfg cp = cfg("s3cret", "10.0.0.2", 0, 0);
        pair_init(&p, &cp, &cr);
        assert_int_equal(vpn_ikev1_sa_start(p.i, p.now), 0);
        assert_int_equal(pump(&p), 0);
        check_established(&p);
        pair_free(&p);
    }

    /* an initiator whose key the responder does not trust */
    cr.peer_keys = wrong;
    cr.n_peer_keys = 1;
    pair_init(&p, &ci, &cr);
    assert_int_equal(vpn_ikev1_sa_start(p.i, p.now), 0);
    assert_int_equal(pump(&p), VPN_ERR_AUTH);
    assert_int_equal(vpn_ikev1_sa_state(p.r), VPN_IKEV1_ST_DEAD);
    assert_int_not_equal(vpn_ikev1_sa_state(p.i), VPN_IKEV1_ST_ESTABLISHED);
    pair_free(&p);

    /* a responder without RSA credentials refuses the proposal */
    cr.key = NULL;
    cr.n_peer_keys = 0;
    pair_init(&p, &ci, &cr);
    assert_int_equal(vpn_ikev1_sa_start(p.i, p.now), 0);
    assert_int_equal(pump(&p), VPN_ERR_POLICY);
    pair_free(&p);
    vpn_sig_key_del(ki);
    vpn_sig_key_del(kr);
    vpn_sig_key_del(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suites),
        cmocka_unit_test(test_wrong_psk),
        cmocka_unit_test(test_isakmp_policies),
        cmocka_unit_test(test_legacy_group_refused),
        cmocka_unit_test(test_legacy_3des),
        cmocka_unit_test(test_show_sa_capacity),
        cmocka_unit_test(test_retransmit),
        cmocka_unit_test(test_alloc_refused),
        cmocka_unit_test(test_delete_and_lifetime),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_rsa_signatures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
