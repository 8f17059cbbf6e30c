/*
 * RADIUS client (model/core/radius): the RFC 2865 7.1 example exchange for
 * the Response Authenticator, RFC 3579 Message-Authenticator and RFC 2548
 * MPPE keys computed here independently with OpenSSL, and the client
 * against a fake server in this file: Challenge/State, Accept with the MSK
 * and authorization attributes, Reject, retransmission, failover to the
 * second server, expiry, and hostile replies (bad authenticators, wrong
 * lengths, truncated attributes, unknown Identifiers) that must change
 * nothing.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/rng.h"
#include "common/vpn-err.h"
#include "common/wire.h"
#include "radius/radius.h"
#include "test-util.h"

#define S_NS 1000000000ull

/* ---- RFC 2865 7.1 -------------------------------------------------------- */

/* "User Telnet to Specified Host": the request's authenticator and the
 * Access-Accept for it, shared secret "xyzzy5461". */
static const char *RFC2865_REQ_AUTH = "0f403f9473978057bd83d5cb98f4227a";
static const char *RFC2865_ACCEPT = "02 00 00 26 86 fe 22 0e 76 24 ba 2a 10 05 f6 bf"
                                    "9b 55 e0 b2 06 06 00 00 00 01 0f 06 00 00 00 00"
                                    "0e 06 c0 a8 01 03";

static void test_rfc2865_response_authenticator(void **state)
{
    (void)state;
    size_t n, ra_n;
    uint8_t *pkt = tu_hex(RFC2865_ACCEPT, &n), *ra = tu_hex(RFC2865_REQ_AUTH, &ra_n);
    vpn_radius_pkt p;
    const uint8_t *secret = (const uint8_t *)"xyzzy5461";

    assert_int_equal(vpn_radius_parse(pkt, n, &p), 0);
    assert_int_equal(p.code, VPN_RADIUS_ACCESS_ACCEPT);
    assert_int_equal(p.len, 38);
    assert_int_equal(vpn_radius_verify(&p, ra, secret, 9), 0);
    /* another secret, another request, a flipped attribute bit: refused */
    assert_int_equal(vpn_radius_verify(&p, ra, (const uint8_t *)"xyzzy5462", 9), VPN_ERR_AUTH);
    ra[0] ^= 1;
    assert_int_equal(vpn_radius_verify(&p, ra, secret, 9), VPN_ERR_AUTH);
    ra[0] ^= 1;
    pkt[37] ^= 1;
    assert_int_equal(vpn_radius_verify(&p, ra, secret, 9), VPN_ERR_AUTH);
    pkt[37] ^= 1;
    /* vpn_radius_sign rebuilds the same authenticator */
    uint8_t copy[38];
    memcpy(copy, pkt, 38);
    memset(copy + 4, 0, 16);
    assert_int_equal(vpn_radius_sign(copy, 38, ra, secret, 9), 0);
    assert_memory_equal(copy, pkt, 38);
    /* the attributes walk: Service-Type, Login-Service, Login-IP-Host */
    vpn_radius_iter it;
    uint8_t t;
    const uint8_t *v;
    size_t l;
    unsigned count = 0;
    vpn_radius_attr_first(&it, &p);
    while (vpn_radius_attr_next(&it, &t, &v, &l) > 0)
        count++;
    assert_int_equal(count, 3);
    free(pkt);
    free(ra);
}

static void test_parse_hostile(void **state)
{
    (void)state;
    uint8_t b[64];
    vpn_radius_pkt p;

    memset(b, 0, sizeof b);
    b[0] = 2;
    assert_int_equal(vpn_radius_parse(b, 19, &p), VPN_ERR_TRUNCATED);
    vpn_store16(b + 2, 19); /* Length below the header */
    assert_int_equal(vpn_radius_parse(b, 20, &p), VPN_ERR_MALFORMED);
    vpn_store16(b + 2, 4097);
    assert_int_equal(vpn_radius_parse(b, sizeof b, &p), VPN_ERR_MALFORMED);
    vpn_store16(b + 2, 30); /* Length beyond the datagram */
    assert_int_equal(vpn_radius_parse(b, 24, &p), VPN_ERR_TRUNCATED);
    /* an attribute of length 1 */
    vpn_store16(b + 2, 22);
    b[20] = 18;
    b[21] = 1;
    assert_int_equal(vpn_radius_parse(b, 22, &p), VPN_ERR_MALFORMED);
    /* an attribute running past Length */
    b[21] = 6;
    assert_int_equal(vpn_radius_parse(b, sizeof b, &p), VPN_ERR_TRUNCATED);
    /* a lone Type octet */
    vpn_store16(b + 2, 21);
    assert_int_equal(vpn_radius_parse(b, sizeof b, &p), VPN_ERR_TRUNCATED);
    /* octets past Length are padding (RFC 2865 3) */
    b[21] = 2;
    vpn_store16(b + 2, 22);
    assert_int_equal(vpn_radius_parse(b, sizeof b, &p), 0);
    assert_int_equal(p.len, 22);
    assert_int_equal(p.attrs_len, 2);
    assert_int_equal(vpn_radius_parse(NULL, 20, &p), VPN_ERR_INVAL);
}

/* The attribute walk on a packet that never went through vpn_radius_parse
 * (the iterator is public): every read is bounds-checked, a bad attribute
 * stops the walk with an error that stays, nothing is read past attrs_len. */
static void iter_expect(const uint8_t *attrs, size_t n, unsigned want_ok, int want_end)
{
    vpn_radius_pkt p;
    vpn_radius_iter it;
    uint8_t t;
    const uint8_t *v;
    size_t l;
    unsigned ok = 0;
    int rc;
    /* a heap copy of exactly n octets: ASan catches a read past it */
    uint8_t *heap = malloc(n ? n : 1);
    assert_non_null(heap);
    if (n)
        memcpy(heap, attrs, n);
    memset(&p, 0, sizeof p);
    p.attrs = heap;
    p.attrs_len = n;
    vpn_radius_attr_first(&it, &p);
    while ((rc = vpn_radius_attr_next(&it, &t, &v, &l)) > 0) {
        assert_true(v >= heap + 2 && v + l <= heap + n);
        ok++;
    }
    assert_int_equal(ok, want_ok);
    assert_int_equal(rc, want_end);
    /* the error stays */
    assert_int_equal(vpn_radius_attr_next(&it, &t, &v, &l), want_end);
    free(heap);
}

static void test_iter_hostile(void **state)
{
    (void)state;
    /* fine: two attributes, one of them empty (Length 2) */
    iter_expect((const uint8_t[]){1, 4, 'a', 'b', 24, 2}, 6, 2, 0);
    iter_expect(NULL, 0, 0, 0);
    /* Length 0 and 1 (RFC 2865 5: at least 2) */
    iter_expect((const uint8_t[]){1, 0, 'a', 'b'}, 4, 0, VPN_ERR_MALFORMED);
    iter_expect((const uint8_t[]){1, 3, 'a', 18, 1}, 5, 1, VPN_ERR_MALFORMED);
    /* a lone Type octet: truncated */
    iter_expect((const uint8_t[]){1, 3, 'a', 18}, 4, 1, VPN_ERR_TRUNCATED);
    /* Length past the end */
    iter_expect((const uint8_t[]){18, 6, 'a', 'b'}, 4, 0, VPN_ERR_TRUNCATED);
    iter_expect((const uint8_t[]){1, 2, 18, 255, 'x'}, 5, 1, VPN_ERR_TRUNCATED);
}

/* ---- RFC 2548 2.4.2 ------------------------------------------------------- */

static void md5v(const void *a, size_t an, const void *b, size_t bn, const void *c, size_t cn, uint8_t out[16])
{
    EVP_MD_CTX *x = EVP_MD_CTX_new();
    assert_non_null(x);
    assert_int_equal(EVP_DigestInit_ex(x, EVP_md5(), NULL), 1);
    EVP_DigestUpdate(x, a, an);
    EVP_DigestUpdate(x, b, bn);
    if (cn)
        EVP_DigestUpdate(x, c, cn);
    assert_int_equal(EVP_DigestFinal_ex(x, out, NULL), 1);
    EVP_MD_CTX_free(x);
}

static void test_mppe_keys(void **state)
{
    (void)state;
    const uint8_t *secret = (const uint8_t *)"s3cr3t";
    uint8_t ra[16], key[16], salt[2] = {0x05, 0x77}, enc[64], dec[64], b[16];
    size_t n, dn;

    for (int i = 0; i < 16; i++) {
        ra[i] = (uint8_t)(0xa0 + i);
        key[i] = (uint8_t)(i * 7);
    }
    assert_int_equal(vpn_radius_mppe_encrypt(key, 16, salt, ra, secret, 6, enc, sizeof enc, &n), 0);
    /* 1 length octet + 16 key octets pad to two blocks */
    assert_int_equal(n, 2 + 32);
    assert_int_equal(enc[0], 0x85); /* the Salt's high bit is set */
    /* first block by hand: (len | key[0..14]) XOR MD5(secret | RA | salt) */
    md5v(secret, 6, ra, 16, enc, 2, b);
    assert_int_equal(enc[2] ^ b[0], 16);
    for (int i = 0; i < 15; i++)
        assert_int_equal(enc[3 + i] ^ b[1 + i], key[i]);
    /* second block: (key[15] | zeros) XOR MD5(secret | c(1)) */
    md5v(secret, 6, enc + 2, 16, NULL, 0, b);
    assert_int_equal(enc[18] ^ b[0], key[15]);
    for (int i = 1; i < 16; i++)
        assert_int_equal(enc[18 + i] ^ b[i], 0);

    assert_int_equal(vpn_radius_mppe_decrypt(enc, n, ra, secret, 6, dec, sizeof dec, &dn), 0);
    assert_int_equal(dn, 16);
    assert_memory_equal(dec, key, 16);
    /* hostile: lengths, salt bit, a too small buffer */
    assert_int_equal(vpn_radius_mppe_decrypt(enc, n - 1, ra, secret, 6, dec, sizeof dec, &dn), VPN_ERR_MALFORMED);
    assert_int_equal(vpn_radius_mppe_decrypt(enc, 2, ra, secret, 6, dec, sizeof dec, &dn), VPN_ERR_MALFORMED);
    assert_int_equal(vpn_radius_mppe_decrypt(enc, n, ra, secret, 6, dec, 15, &dn), VPN_ERR_NOSPACE);
    enc[0] &= 0x7f;
    assert_int_equal(vpn_radius_mppe_decrypt(enc, n, ra, secret, 6, dec, sizeof dec, &dn), VPN_ERR_MALFORMED);
    enc[0] |= 0x80;
    /* a wrong secret gives a length octet beyond the blocks most of the
     * time; whatever it gives, it is not the key */
    int rc = vpn_radius_mppe_decrypt(enc, n, ra, (const uint8_t *)"other", 5, dec, sizeof dec, &dn);
    assert_true(rc == VPN_ERR_MALFORMED || (rc == 0 && (dn != 16 || memcmp(dec, key, 16) != 0)));
}

/* ---- the client against a fake server ------------------------------------ */

typedef struct fake {
    /* what the client sent */
    uint8_t dg[8][VPN_RADIUS_MAX_LEN];
    size_t dg_len[8], dg_server[8];
    size_t n_sent;
    /* answers */
    vpn_radius_result res[4];
    uint32_t res_handle[4];
    size_t n_res;
    vpn_drbg drbg;
} fake;

static void on_send(void *user, size_t server, const uint8_t *dg, size_t len)
{
    fake *f = user;
    size_t k = f->n_sent++ % 8;
    assert_true(len <= VPN_RADIUS_MAX_LEN);
    memcpy(f->dg[k], dg, len);
    f->dg_len[k] = len;
    f->dg_server[k] = server;
}

static void on_answer(void *user, uint32_t handle, const vpn_radius_result *res)
{
    fake *f = user;
    assert_true(f->n_res < 4);
    f->res[f->n_res] = *res;
    f->res_handle[f->n_res++] = handle;
}

static const char *SECRETS[2] = {"testing123", "second-secret"};

static vpn_radius_client *mk_client(fake *f, size_t n_servers)
{
    vpn_radius_params p;
    vpn_radius_client *c = NULL;

    memset(f, 0, sizeof *f);
    assert_int_equal(vpn_drbg_init(&f->drbg, "radius-test", 11), 0);
    memset(&p, 0, sizeof p);
    for (size_t i = 0; i < n_servers; i++) {
        assert_int_equal(vpn_addr_parse(&p.servers[i].addr, i ? "10.9.0.2" : "10.9.0.1"), 0);
        p.servers[i].secret = SECRETS[i];
    }
    p.n_servers = n_servers;
    p.timeout_ns = 2 * S_NS;
    p.retransmit = 1;
    p.nas_identifier = "hub";
    vpn_rng_init_drbg(&p.rng, &f->drbg);
    p.send = on_send;
    p.answer = on_answer;
    p.user = f;
    assert_int_equal(vpn_radius_client_new(&c, &p), 0);
    return c;
}

static const uint8_t *last(fake *f, size_t *len, size_t *server)
{
    size_t k = (f->n_sent - 1) % 8;
    *len = f->dg_len[k];
    if (server)
        *server = f->dg_server[k];
    return f->dg[k];
}

/* Checks a request as a server would: framing, Message-Authenticator
 * (RFC 3579 3.2, computed here with OpenSSL's HMAC), and returns the
 * State and EAP-Message it carries. */
static void check_request(const uint8_t *dg, size_t len, const char *secret, const char *user, uint8_t *eap,
                          size_t *eap_len, uint8_t *st, size_t *st_len)
{
    vpn_radius_pkt p;
    vpn_radius_iter it;
    uint8_t t, copy[VPN_RADIUS_MAX_LEN], mac[16];
    const uint8_t *v, *ma = NULL;
    size_t l;
    unsigned int ml = 0;
    bool user_ok = false;

    assert_int_equal(vpn_radius_parse(dg, len, &p), 0);
    assert_int_equal(p.code, VPN_RADIUS_ACCESS_REQUEST);
    *eap_len = 0;
    *st_len = 0;
    vpn_radius_attr_first(&it, &p);
    while (vpn_radius_attr_next(&it, &t, &v, &l) > 0) {
        if (t == VPN_RADIUS_A_USER_NAME)
            user_ok = l == strlen(user) && memcmp(v, user, l) == 0;
        if (t == VPN_RADIUS_A_EAP_MESSAGE) {
            assert_true(l <= 253);
            memcpy(eap + *eap_len, v, l);
            *eap_len += l;
        }
        if (t == VPN_RADIUS_A_STATE) {
            memcpy(st, v, l);
            *st_len = l;
        }
        if (t == VPN_RADIUS_A_MESSAGE_AUTHENTICATOR) {
            assert_int_equal(l, 16);
            ma = v;
        }
    }
    assert_true(user_ok);
    assert_non_null(ma);
    memcpy(copy, dg, len);
    memset(copy + (ma - dg), 0, 16);
    assert_non_null(HMAC(EVP_md5(), secret, (int)strlen(secret), copy, len, mac, &ml));
    assert_memory_equal(mac, ma, 16);
}

/* A reply to the request dg: code, the attributes in attrs (already
 * encoded), a Message-Authenticator if with_ma, signed with secret. */
static size_t reply(uint8_t *out, const uint8_t *req, uint8_t code, const uint8_t *attrs, size_t attrs_len,
                    bool with_ma, const char *secret)
{
    size_t n = 20;
    out[0] = code;
    out[1] = req[1];
    if (attrs_len)
        memcpy(out + n, attrs, attrs_len);
    n += attrs_len;
    if (with_ma) {
        out[n] = VPN_RADIUS_A_MESSAGE_AUTHENTICATOR;
        out[n + 1] = 18;
        memset(out + n + 2, 0, 16);
        n += 18;
    }
    vpn_store16(out + 2, (uint16_t)n);
    assert_int_equal(vpn_radius_sign(out, n, req + 4, (const uint8_t *)secret, strlen(secret)), 0);
    return n;
}

/* Rewrites the Response Authenticator of rep by hand (RFC 2865 3). */
static void resign(uint8_t *rep, size_t n, const uint8_t *req, const char *secret)
{
    EVP_MD_CTX *x = EVP_MD_CTX_new();
    uint8_t ra[16];
    assert_non_null(x);
    memcpy(rep + 4, req + 4, 16);
    EVP_DigestInit_ex(x, EVP_md5(), NULL);
    EVP_DigestUpdate(x, rep, n);
    EVP_DigestUpdate(x, secret, strlen(secret));
    EVP_DigestFinal_ex(x, ra, NULL);
    EVP_MD_CTX_free(x);
    memcpy(rep + 4, ra, 16);
}

static size_t put(uint8_t *b, uint8_t type, const void *v, size_t n)
{
    b[0] = type;
    b[1] = (uint8_t)(n + 2);
    memcpy(b + 2, v, n);
    return n + 2;
}

/* Vendor-Specific (RFC 2865 5.26) with one vendor attribute. */
static size_t put_vsa(uint8_t *b, uint32_t vendor, uint8_t vt, const void *v, size_t n)
{
    uint8_t inner[260];
    vpn_store32(inner, vendor);
    inner[4] = vt;
    inner[5] = (uint8_t)(n + 2);
    memcpy(inner + 6, v, n);
    return put(b, VPN_RADIUS_A_VENDOR_SPECIFIC, inner, n + 6);
}

static const uint8_t EAP_ID_RESP[] = {2, 7, 0, 10, 1, 'a', 'l', 'i', 'c', 'e'};
static const uint8_t EAP_REQ_MD5[] = {1, 8, 0, 6, 4, 0}; /* a Request (content is not our business) */
static const uint8_t EAP_RESP2[] = {2, 8, 0, 6, 3, 26};
static const uint8_t EAP_SUCCESS[] = {3, 9, 0, 4};
static const uint8_t EAP_FAILURE[] = {4, 9, 0, 4};

/* The authorization attributes an Access-Accept may carry: Framed-Pool
 * (RFC 2869 5.18) and ipsec:dns-servers; values that do not parse are
 * skipped, not fatal. */
static void test_accept_authz(void **state)
{
    (void)state;
    fake f;
    vpn_radius_client *c = mk_client(&f, 1);
    uint8_t rep[1024], attrs[600];
    size_t n, an, dl;
    const uint8_t *dg;
    char s[VPN_ADDR_STRLEN];

    assert_int_equal(vpn_radius_eap_send(c, 0, 5, "bob", EAP_ID_RESP, sizeof EAP_ID_RESP), 0);
    dg = last(&f, &dl, NULL);
    an = put(attrs, VPN_RADIUS_A_EAP_MESSAGE, EAP_SUCCESS, sizeof EAP_SUCCESS);
    an += put(attrs + an, VPN_RADIUS_A_FRAMED_POOL, "POOL-B", 6);
    an += put(attrs + an, VPN_RADIUS_A_FRAMED_IP_ADDRESS, (const uint8_t[]){10, 20, 0}, 3); /* short: skipped */
    an += put(attrs + an, VPN_RADIUS_A_FRAMED_ROUTE, "not-a-prefix", 12);
    an += put_vsa(attrs + an, VPN_RADIUS_VENDOR_CISCO, VPN_RADIUS_CISCO_AVPAIR,
                  "ipsec:dns-servers=10.1.0.53 banana 2001:db8::1 10.1.0.54 10.1.0.55", 66);
    an += put_vsa(attrs + an, VPN_RADIUS_VENDOR_CISCO, VPN_RADIUS_CISCO_AVPAIR, "ipsec:dns-servers=", 18);
    n = reply(rep, dg, VPN_RADIUS_ACCESS_ACCEPT, attrs, an, true, SECRETS[0]);
    assert_int_equal(vpn_radius_input(c, S_NS, 0, rep, n), 0);
    assert_int_equal(f.n_res, 1);
    vpn_radius_result *r = &f.res[0];
    assert_int_equal(r->code, VPN_RADIUS_ACCESS_ACCEPT);
    assert_string_equal(r->addr_pool, "POOL-B");
    assert_int_equal(r->framed_ip.family, 0);
    assert_int_equal(r->n_routes, 0);
    assert_int_equal(r->n_dns, 2);
    assert_string_equal(vpn_addr_str(&r->dns[0], s, sizeof s), "10.1.0.53");
    assert_string_equal(vpn_addr_str(&r->dns[1], s, sizeof s), "10.1.0.54");
    vpn_radius_client_free(c);
    vpn_drbg_free(&f.drbg);
}

static void test_conversation_accept(void **state)
{
    (void)state;
    fake f;
    vpn_radius_client *c = mk_client(&f, 1);
    uint8_t eap[VPN_EAP_MSG_MAX], st[253], rep[1024], attrs[600], big[600];
    size_t el, sl, n, an, dl;
    const uint8_t *dg;

    /* Access-Request 1: the Identity Response, no State */
    assert_int_equal(vpn_radius_eap_send(c, 0, 42, "alice", EAP_ID_RESP, sizeof EAP_ID_RESP), 0);
    assert_int_equal(f.n_sent, 1);
    assert_int_equal(vpn_radius_deadline(c), 2 * S_NS);
    dg = last(&f, &dl, NULL);
    check_request(dg, dl, SECRETS[0], "alice", eap, &el, st, &sl);
    assert_int_equal(el, sizeof EAP_ID_RESP);
    assert_memory_equal(eap, EAP_ID_RESP, el);
    assert_int_equal(sl, 0);
    /* a second send while it waits is refused */
    assert_int_equal(vpn_radius_eap_send(c, 0, 42, "alice", EAP_RESP2, sizeof EAP_RESP2), VPN_ERR_STATE);

    /* Access-Challenge with State and an EAP Request */
    an = put(attrs, VPN_RADIUS_A_EAP_MESSAGE, EAP_REQ_MD5, sizeof EAP_REQ_MD5);
    an += put(attrs + an, VPN_RADIUS_A_STATE, "state-one", 9);
    n = reply(rep, dg, VPN_RADIUS_ACCESS_CHALLENGE, attrs, an, true, SECRETS[0]);
    assert_int_equal(vpn_radius_input(c, S_NS, 0, rep, n), 0);
    assert_int_equal(f.n_res, 1);
    assert_int_equal(f.res_handle[0], 42);
    assert_int_equal(f.res[0].eap.result, VPN_EAP_CONTINUE);
    assert_int_equal(f.res[0].eap.len, sizeof EAP_REQ_MD5);
    assert_memory_equal(f.res[0].eap.msg, EAP_REQ_MD5, sizeof EAP_REQ_MD5);
    assert_int_equal(vpn_radius_deadline(c), UINT64_MAX);
    /* the same reply again: nothing waits for it any more */
    assert_int_equal(vpn_radius_input(c, S_NS, 0, rep, n), VPN_ERR_NOTFOUND);

    /* Access-Request 2 echoes the State; a long EAP message is split */
    memset(big, 0, sizeof big);
    big[0] = 2;
    big[1] = 8;
    vpn_store16(big + 2, 300);
    big[4] = 26;
    assert_int_equal(vpn_radius_eap_send(c, S_NS, 42, "alice", big, 300), 0);
    dg = last(&f, &dl, NULL);
    check_request(dg, dl, SECRETS[0], "alice", eap, &el, st, &sl);
    assert_int_equal(sl, 9);
    assert_memory_equal(st, "state-one", 9);
    assert_int_equal(el, 300);
    assert_memory_equal(eap, big, 300);

    /* Access-Accept: EAP-Success, MPPE keys, authorization */
    uint8_t recv[16], send[16], enc[64], salt[2] = {0x81, 0x02};
    size_t encn;
    for (int i = 0; i < 16; i++) {
        recv[i] = (uint8_t)(0x10 + i);
        send[i] = (uint8_t)(0x40 + i);
    }
    an = put(attrs, VPN_RADIUS_A_EAP_MESSAGE, EAP_SUCCESS, sizeof EAP_SUCCESS);
    assert_int_equal(vpn_radius_mppe_encrypt(recv, 16, salt, dg + 4, (const uint8_t *)SECRETS[0], 10, enc,
                                             sizeof enc, &encn), 0);
    an += put_vsa(attrs + an, VPN_RADIUS_VENDOR_MICROSOFT, VPN_RADIUS_MS_MPPE_RECV_KEY, enc, encn);
    salt[1] = 3;
    assert_int_equal(vpn_radius_mppe_encrypt(send, 16, salt, dg + 4, (const uint8_t *)SECRETS[0], 10, enc,
                                             sizeof enc, &encn), 0);
    an += put_vsa(attrs + an, VPN_RADIUS_VENDOR_MICROSOFT, VPN_RADIUS_MS_MPPE_SEND_KEY, enc, encn);
    an += put(attrs + an, VPN_RADIUS_A_FRAMED_IP_ADDRESS, (const uint8_t[]){10, 20, 0, 7}, 4);
    an += put(attrs + an, VPN_RADIUS_A_FRAMED_ROUTE, "192.168.50.0/24 0.0.0.0 1", 25);
    an += put_vsa(attrs + an, VPN_RADIUS_VENDOR_CISCO, VPN_RADIUS_CISCO_AVPAIR, "ipsec:route-set=prefix 10.50.0.0/16",
                  35);
    an += put_vsa(attrs + an, VPN_RADIUS_VENDOR_CISCO, VPN_RADIUS_CISCO_AVPAIR, "ipsec:addr-pool=RA", 18);
    n = reply(rep, dg, VPN_RADIUS_ACCESS_ACCEPT, attrs, an, true, SECRETS[0]);
    assert_int_equal(vpn_radius_input(c, 2 * S_NS, 0, rep, n), 0);
    assert_int_equal(f.n_res, 2);
    vpn_radius_result *r = &f.res[1];
    assert_int_equal(r->status, 0);
    assert_int_equal(r->code, VPN_RADIUS_ACCESS_ACCEPT);
    assert_int_equal(r->eap.result, VPN_EAP_SUCCESS);
    assert_memory_equal(r->eap.msg, EAP_SUCCESS, 4);
    assert_int_equal(r->eap.msk_len, 64);
    assert_memory_equal(r->eap.msk, recv, 16);
    assert_memory_equal(r->eap.msk + 16, send, 16);
    for (int i = 32; i < 64; i++)
        assert_int_equal(r->eap.msk[i], 0);
    char s[VPN_ADDR_STRLEN];
    assert_string_equal(vpn_addr_str(&r->framed_ip, s, sizeof s), "10.20.0.7");
    assert_int_equal(r->n_routes, 2);
    assert_string_equal(vpn_addr_str(&r->routes[0].addr, s, sizeof s), "192.168.50.0");
    assert_int_equal(r->routes[0].len, 24);
    assert_string_equal(vpn_addr_str(&r->routes[1].addr, s, sizeof s), "10.50.0.0");
    assert_int_equal(r->routes[1].len, 16);
    assert_string_equal(r->addr_pool, "RA");
    /* the conversation is over: a late duplicate is dropped */
    assert_int_equal(vpn_radius_input(c, 2 * S_NS, 0, rep, n), VPN_ERR_NOTFOUND);
    vpn_radius_stats stt;
    vpn_radius_get_stats(c, &stt);
    assert_int_equal(stt.requests, 2);
    assert_int_equal(stt.challenges, 1);
    assert_int_equal(stt.accepts, 1);
    assert_int_equal(stt.dropped, 2);
    vpn_radius_client_free(c);
    vpn_drbg_free(&f.drbg);
}

static void test_reject_and_hostile_replies(void **state)
{
    (void)state;
    fake f;
    vpn_radius_client *c = mk_client(&f, 1);
    uint8_t rep[1024], attrs[128];
    size_t n, an, dl;
    const uint8_t *dg;

    assert_int_equal(vpn_radius_eap_send(c, 0, 7, "bob", EAP_ID_RESP, sizeof EAP_ID_RESP), 0);
    dg = last(&f, &dl, NULL);
    an = put(attrs, VPN_RADIUS_A_EAP_MESSAGE, EAP_FAILURE, sizeof EAP_FAILURE);
    an += put(attrs + an, VPN_RADIUS_A_FRAMED_IP_ADDRESS, (const uint8_t[]){10, 20, 0, 9}, 4);

    /* signed with another secret: the Response Authenticator is wrong */
    n = reply(rep, dg, VPN_RADIUS_ACCESS_REJECT, attrs, an, true, "not-the-secret");
    assert_int_equal(vpn_radius_input(c, 0, 0, rep, n), VPN_ERR_AUTH);
    /* right Response Authenticator, wrong Message-Authenticator: sign,
     * flip a bit of the MA, re-sign the Response Authenticator by hand */
    n = reply(rep, dg, VPN_RADIUS_ACCESS_REJECT, attrs, an, true, SECRETS[0]);
    rep[n - 1] ^= 1;
    resign(rep, n, dg, SECRETS[0]);
    assert_int_equal(vpn_radius_input(c, 0, 0, rep, n), VPN_ERR_AUTH);
    /* an EAP-Message without a Message-Authenticator (RFC 3579 3.2) */
    n = reply(rep, dg, VPN_RADIUS_ACCESS_REJECT, attrs, an, false, SECRETS[0]);
    assert_int_equal(vpn_radius_input(c, 0, 0, rep, n), VPN_ERR_AUTH);
    /* two Message-Authenticators (the Response Authenticator right) */
    n = reply(rep, dg, VPN_RADIUS_ACCESS_REJECT, attrs, an, true, SECRETS[0]);
    memcpy(rep + n, rep + n - 18, 18);
    n += 18;
    vpn_store16(rep + 2, (uint16_t)n);
    resign(rep, n, dg, SECRETS[0]);
    assert_int_equal(vpn_radius_input(c, 0, 0, rep, n), VPN_ERR_MALFORMED);
    /* an unknown Identifier, from the wrong server index */
    n = reply(rep, dg, VPN_RADIUS_ACCESS_REJECT, attrs, an, true, SECRETS[0]);
    rep[1] ^= 0x55;
    assert_int_equal(vpn_radius_input(c, 0, 0, rep, n), VPN_ERR_NOTFOUND);
    rep[1] ^= 0x55;
    assert_int_equal(vpn_radius_input(c, 0, 1, rep, n), VPN_ERR_INVAL);
    /* truncated: the datagram shorter than its Length */
    assert_int_equal(vpn_radius_input(c, 0, 0, rep, n - 1), VPN_ERR_TRUNCATED);
    /* an Accounting-Response (code 5), correctly signed */
    n = reply(rep, dg, 5, attrs, an, true, SECRETS[0]);
    assert_int_equal(vpn_radius_input(c, 0, 0, rep, n), VPN_ERR_UNSUPPORTED);
    /* an Accept whose EAP-Message is a Failure */
    n = reply(rep, dg, VPN_RADIUS_ACCESS_ACCEPT, attrs, an, true, SECRETS[0]);
    assert_int_equal(vpn_radius_input(c, 0, 0, rep, n), VPN_ERR_MALFORMED);
    /* a Challenge without an EAP Request */
    n = reply(rep, dg, VPN_RADIUS_ACCESS_CHALLENGE, (const uint8_t[]){24, 3, 'x'}, 3, true, SECRETS[0]);
    assert_int_equal(vpn_radius_input(c, 0, 0, rep, n), VPN_ERR_MALFORMED);
    assert_int_equal(f.n_res, 0);
    /* still waiting, with the same deadline */
    assert_int_equal(vpn_radius_deadline(c), 2 * S_NS);

    /* the genuine Reject: FAILURE, no authorization leaks through */
    n = reply(rep, dg, VPN_RADIUS_ACCESS_REJECT, attrs, an, true, SECRETS[0]);
    assert_int_equal(vpn_radius_input(c, 0, 0, rep, n), 0);
    assert_int_equal(f.n_res, 1);
    assert_int_equal(f.res[0].eap.result, VPN_EAP_FAILURE);
    assert_int_equal(f.res[0].code, VPN_RADIUS_ACCESS_REJECT);
    assert_memory_equal(f.res[0].eap.msg, EAP_FAILURE, 4);
    assert_int_equal(f.res[0].framed_ip.family, 0);
    assert_int_equal(f.res[0].eap.msk_len, 0);
    /* a Reject without EAP gets a synthesized Failure with the last Identifier */
    assert_int_equal(vpn_radius_eap_send(c, 0, 8, "bob", EAP_RESP2, sizeof EAP_RESP2), 0);
    dg = last(&f, &dl, NULL);
    n = reply(rep, dg, VPN_RADIUS_ACCESS_REJECT, NULL, 0, false, SECRETS[0]);
    assert_int_equal(vpn_radius_input(c, 0, 0, rep, n), 0);
    assert_int_equal(f.res[1].eap.result, VPN_EAP_FAILURE);
    assert_memory_equal(f.res[1].eap.msg, ((const uint8_t[]){4, 8, 0, 4}), 4);
    vpn_radius_client_free(c);
    vpn_drbg_free(&f.drbg);
}

static void test_retransmit_and_failover(void **state)
{
    (void)state;
    fake f;
    vpn_radius_client *c = mk_client(&f, 2);
    uint8_t rep[256], attrs[64], first[VPN_RADIUS_MAX_LEN];
    size_t n, an, dl, srv, first_len;
    const uint8_t *dg;

    assert_int_equal(vpn_radius_eap_send(c, 0, 1, "alice", EAP_ID_RESP, sizeof EAP_ID_RESP), 0);
    dg = last(&f, &first_len, &srv);
    assert_int_equal(srv, 0);
    memcpy(first, dg, first_len);
    /* before the deadline nothing happens */
    assert_int_equal(vpn_radius_timeout(c, 2 * S_NS - 1), 0);
    assert_int_equal(f.n_sent, 1);
    /* the retry: the same bytes (Identifier, authenticator) to the same server */
    assert_int_equal(vpn_radius_timeout(c, 2 * S_NS), 0);
    assert_int_equal(f.n_sent, 2);
    dg = last(&f, &dl, &srv);
    assert_int_equal(srv, 0);
    assert_int_equal(dl, first_len);
    assert_memory_equal(dg, first, dl);
    assert_int_equal(vpn_radius_deadline(c), 4 * S_NS);
    /* retries used up: a fresh request to the second server, under its secret */
    assert_int_equal(vpn_radius_timeout(c, 4 * S_NS), 0);
    assert_int_equal(f.n_sent, 3);
    dg = last(&f, &dl, &srv);
    assert_int_equal(srv, 1);
    assert_memory_not_equal(dg + 4, first + 4, 16);
    {
        uint8_t eap[VPN_EAP_MSG_MAX], st[253];
        size_t el, sl;
        check_request(dg, dl, SECRETS[1], "alice", eap, &el, st, &sl);
        assert_int_equal(el, sizeof EAP_ID_RESP);
    }
    assert_int_equal(vpn_radius_current_server(c), 1);
    /* the first server wakes up late: its answer to the old request is dropped */
    an = put(attrs, VPN_RADIUS_A_EAP_MESSAGE, EAP_REQ_MD5, sizeof EAP_REQ_MD5);
    n = reply(rep, first, VPN_RADIUS_ACCESS_CHALLENGE, attrs, an, true, SECRETS[0]);
    assert_int_equal(vpn_radius_input(c, 4 * S_NS, 0, rep, n), VPN_ERR_NOTFOUND);
    /* the second answers */
    n = reply(rep, dg, VPN_RADIUS_ACCESS_CHALLENGE, attrs, an, true, SECRETS[1]);
    assert_int_equal(vpn_radius_input(c, 4 * S_NS, 1, rep, n), 0);
    assert_int_equal(f.n_res, 1);
    assert_int_equal(f.res[0].server, 1);
    assert_int_equal(f.res[0].eap.result, VPN_EAP_CONTINUE);
    /* a new conversation starts at the server in use */
    assert_int_equal(vpn_radius_eap_send(c, 5 * S_NS, 2, "carol", EAP_ID_RESP, sizeof EAP_ID_RESP), 0);
    last(&f, &dl, &srv);
    assert_int_equal(srv, 1);
    vpn_radius_stats st;
    vpn_radius_get_stats(c, &st);
    assert_int_equal(st.retransmits, 1);
    assert_int_equal(st.failovers, 1);
    vpn_radius_client_free(c);
    vpn_drbg_free(&f.drbg);
}

static void test_all_silent_expires(void **state)
{
    (void)state;
    fake f;
    vpn_radius_client *c = mk_client(&f, 2);
    uint64_t now = 0;

    assert_int_equal(vpn_radius_eap_send(c, 0, 9, "alice", EAP_ID_RESP, sizeof EAP_ID_RESP), 0);
    for (int i = 0; i < 10 && vpn_radius_deadline(c) != UINT64_MAX; i++) {
        now = vpn_radius_deadline(c);
        vpn_radius_timeout(c, now);
    }
    /* 2 servers x (1 + 1 retry) sends, then the end */
    assert_int_equal(f.n_sent, 4);
    assert_int_equal(now, 8 * S_NS);
    assert_int_equal(f.n_res, 1);
    assert_int_equal(f.res_handle[0], 9);
    assert_int_equal(f.res[0].status, VPN_ERR_EXPIRED);
    assert_int_equal(f.res[0].eap.result, VPN_EAP_FAILURE);
    assert_memory_equal(f.res[0].eap.msg, ((const uint8_t[]){4, 7, 0, 4}), 4);
    /* ending a conversation drops its late reply */
    assert_int_equal(vpn_radius_eap_send(c, now, 10, "alice", EAP_ID_RESP, sizeof EAP_ID_RESP), 0);
    vpn_radius_end(c, 10);
    assert_int_equal(vpn_radius_deadline(c), UINT64_MAX);
    vpn_radius_client_free(c);
    vpn_drbg_free(&f.drbg);
}

static void test_params_refused(void **state)
{
    (void)state;
    vpn_radius_params p;
    vpn_radius_client *c = NULL;
    fake f;
    memset(&f, 0, sizeof f);
    memset(&p, 0, sizeof p);
    p.send = on_send;
    p.answer = on_answer;
    assert_int_equal(vpn_radius_client_new(&c, &p), VPN_ERR_INVAL); /* no server */
    p.n_servers = 1;
    assert_int_equal(vpn_addr_parse(&p.servers[0].addr, "10.0.0.1"), 0);
    assert_int_equal(vpn_radius_client_new(&c, &p), VPN_ERR_INVAL); /* no secret */
    p.servers[0].secret = "";
    assert_int_equal(vpn_radius_client_new(&c, &p), VPN_ERR_INVAL);
    p.servers[0].secret = "k";
    p.answer = NULL;
    assert_int_equal(vpn_radius_client_new(&c, &p), VPN_ERR_INVAL);
    p.answer = on_answer;
    p.n_servers = VPN_RADIUS_SERVERS_MAX + 1;
    assert_int_equal(vpn_radius_client_new(&c, &p), VPN_ERR_INVAL);
    assert_null(c);
    /* bad sends */
    c = mk_client(&f, 1);
    assert_int_equal(vpn_radius_eap_send(c, 0, 1, "", EAP_ID_RESP, sizeof EAP_ID_RESP), VPN_ERR_INVAL);
    assert_int_equal(vpn_radius_eap_send(c, 0, 1, "a", EAP_ID_RESP, 0), VPN_ERR_INVAL);
    assert_int_equal(vpn_radius_eap_send(c, 0, 1, "a", EAP_ID_RESP, VPN_EAP_MSG_MAX + 1), VPN_ERR_INVAL);
    assert_int_equal(f.n_sent, 0);
    vpn_radius_client_free(c);
    vpn_drbg_free(&f.drbg);
}

static void test_eap_start(void **state)
{
    (void)state;
    fake f;
    vpn_radius_client *c = mk_client(&f, 1);
    vpn_eap_answer a;
    uint8_t eap[VPN_EAP_MSG_MAX], st[253];
    size_t el, sl, dl;
    const uint8_t *dg;

    /* query-identity: the NAS asks itself, nothing goes to the server */
    assert_int_equal(vpn_radius_eap_start(c, 0, 3, "ike-id", true, &a), 0);
    assert_int_equal(a.result, VPN_EAP_CONTINUE);
    assert_int_equal(a.len, 5);
    assert_int_equal(a.msg[0], 1);
    assert_int_equal(a.msg[4], VPN_EAP_T_IDENTITY);
    assert_int_equal(f.n_sent, 0);
    /* the client's Identity Response names the RADIUS User-Name */
    assert_int_equal(vpn_radius_eap_send(c, 0, 3, "ike-id", EAP_ID_RESP, sizeof EAP_ID_RESP), 0);
    dg = last(&f, &dl, NULL);
    check_request(dg, dl, SECRETS[0], "alice", eap, &el, st, &sl);
    vpn_radius_end(c, 3);
    /* without query-identity the IKE identity is relayed as the Identity */
    assert_int_equal(vpn_radius_eap_start(c, 0, 4, "laptop@example", false, &a), 1);
    assert_int_equal(a.len, 0);
    dg = last(&f, &dl, NULL);
    check_request(dg, dl, SECRETS[0], "laptop@example", eap, &el, st, &sl);
    assert_int_equal(el, 5 + 14);
    assert_int_equal(eap[0], 2);
    assert_int_equal(eap[4], VPN_EAP_T_IDENTITY);
    assert_memory_equal(eap + 5, "laptop@example", 14);
    /* a later Response keeps the conversation's User-Name */
    {
        uint8_t rep[128], attrs[16];
        size_t an = put(attrs, VPN_RADIUS_A_EAP_MESSAGE, EAP_REQ_MD5, sizeof EAP_REQ_MD5);
        size_t n = reply(rep, dg, VPN_RADIUS_ACCESS_CHALLENGE, attrs, an, true, SECRETS[0]);
        assert_int_equal(vpn_radius_input(c, 0, 0, rep, n), 0);
    }
    assert_int_equal(vpn_radius_eap_send(c, 0, 4, "other", EAP_RESP2, sizeof EAP_RESP2), 0);
    dg = last(&f, &dl, NULL);
    check_request(dg, dl, SECRETS[0], "laptop@example", eap, &el, st, &sl);
    vpn_radius_client_free(c);
    vpn_drbg_free(&f.drbg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc2865_response_authenticator),
        cmocka_unit_test(test_parse_hostile),
        cmocka_unit_test(test_iter_hostile),
        cmocka_unit_test(test_accept_authz),
        cmocka_unit_test(test_mppe_keys),
        cmocka_unit_test(test_conversation_accept),
        cmocka_unit_test(test_reject_and_hostile_replies),
        cmocka_unit_test(test_retransmit_and_failover),
        cmocka_unit_test(test_all_silent_expires),
        cmocka_unit_test(test_params_refused),
        cmocka_unit_test(test_eap_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
