/*
 * RADIUS client for EAP passthrough: RFC 2865 (packets, authenticators,
 * retransmission), RFC 3579 (EAP-Message, Message-Authenticator), RFC 2548
 * (MS-MPPE keys). See radius.h for the contract.
 */
#include "radius/radius.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/vpn-err.h"
#include "common/wire.h"

#define DEFAULT_PORT 1812
#define DEFAULT_TIMEOUT_NS 5000000000ull
#define DEFAULT_RETRANSMIT 3
#define MD5_LEN 16
#define ATTR_MAX_VAL 253

/* ---- primitives ------------------------------------------------------------ */

typedef struct piece {
    const void *p;
    size_t n;
} piece;

static int md5(const piece *v, size_t n, uint8_t out[MD5_LEN])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c != NULL && EVP_DigestInit_ex(c, EVP_md5(), NULL) == 1;
    for (size_t i = 0; ok && i < n; i++)
        ok = EVP_DigestUpdate(c, v[i].p, v[i].n) == 1;
    ok = ok && EVP_DigestFinal_ex(c, out, NULL) == 1;
    EVP_MD_CTX_free(c);
    return ok ? 0 : VPN_ERR_CRYPTO;
}

static int hmac_md5(const uint8_t *key, size_t key_len, const uint8_t *p, size_t n, uint8_t out[MD5_LEN])
{
    unsigned int ol = 0;
    if (HMAC(EVP_md5(), key, (int)key_len, p, n, out, &ol) == NULL || ol != MD5_LEN)
        return VPN_ERR_CRYPTO;
    return 0;
}

/* ---- codec (RFC 2865 3, 5) ------------------------------------------------- */

int vpn_radius_parse(const uint8_t *p, size_t len, vpn_radius_pkt *out)
{
    vpn_rd r, attrs;
    uint16_t plen;

    if (p == NULL || out == NULL)
        return VPN_ERR_INVAL;
    memset(out, 0, sizeof *out);
    vpn_rd_init(&r, p, len);
    vpn_rd_u8(&r, &out->code);
    vpn_rd_u8(&r, &out->ident);
    vpn_rd_u16(&r, &plen);
    vpn_rd_view(&r, &out->auth, VPN_RADIUS_AUTH_LEN);
    if (vpn_rd_err(&r))
        return vpn_rd_err(&r);
    /* 3: a Length beyond the datagram is discarded, octets past it are
     * padding; 20..4096 */
    if (plen < VPN_RADIUS_HDR_LEN || plen > VPN_RADIUS_MAX_LEN)
        return VPN_ERR_MALFORMED;
    if (plen > len)
        return VPN_ERR_TRUNCATED;
    out->len = plen;
    out->attrs = p + VPN_RADIUS_HDR_LEN;
    out->attrs_len = plen - VPN_RADIUS_HDR_LEN;
    /* 5: Type, Length (>= 2, counting itself), Value */
    vpn_rd_init(&attrs, out->attrs, out->attrs_len);
    while (vpn_rd_left(&attrs) > 0) {
        uint8_t t, l;
        vpn_rd_u8(&attrs, &t);
        vpn_rd_u8(&attrs, &l);
        if (vpn_rd_err(&attrs))
            return VPN_ERR_TRUNCATED;
        if (l < 2)
            return VPN_ERR_MALFORMED;
        if (vpn_rd_skip(&attrs, (size_t)l - 2) != 0)
            return VPN_ERR_TRUNCATED;
    }
    return 0;
}

void vpn_radius_attr_first(vpn_radius_iter *it, const vpn_radius_pkt *pkt)
{
    vpn_rd_init(&it->r, pkt->attrs, pkt->attrs == NULL ? 0 : pkt->attrs_len);
}

int vpn_radius_attr_next(vpn_radius_iter *it, uint8_t *type, const uint8_t **val, size_t *len)
{
    uint8_t t, l;
    vpn_rd v;

    /* defined on every return, so no caller reads an unset value (gcc -O3
     * cannot tell that a reader's error code is never 1) */
    *type = 0;
    *val = NULL;
    *len = 0;
    if (vpn_rd_err(&it->r))
        return vpn_rd_err(&it->r);
    if (vpn_rd_left(&it->r) == 0)
        return 0;
    /* RFC 2865 5: Type, Length (counting both), Value */
    vpn_rd_u8(&it->r, &t);
    vpn_rd_u8(&it->r, &l);
    if (vpn_rd_err(&it->r))
        return vpn_rd_err(&it->r);
    if (l < 2)
        return vpn_rd_fail(&it->r, VPN_ERR_MALFORMED);
    if (vpn_rd_sub(&it->r, &v, (size_t)l - 2) != 0)
        return vpn_rd_err(&it->r);
    *type = t;
    *val = vpn_rd_cur(&v);
    *len = vpn_rd_left(&v);
    return 1;
}

/* Finds the one Message-Authenticator: its offset in the packet, 0 if none.
 * Errors: VPN_ERR_MALFORMED (wrong length or twice), the iterator's. */
static int find_msg_auth(const vpn_radius_pkt *pkt, size_t *off)
{
    vpn_radius_iter it;
    uint8_t t;
    const uint8_t *v;
    size_t l;
    int rc;

    *off = 0;
    vpn_radius_attr_first(&it, pkt);
    while ((rc = vpn_radius_attr_next(&it, &t, &v, &l)) > 0) {
        if (t != VPN_RADIUS_A_MESSAGE_AUTHENTICATOR)
            continue;
        if (l != MD5_LEN || *off != 0)
            return VPN_ERR_MALFORMED; /* RFC 3579 3.2: 16 octets, at most once */
        *off = (size_t)(v - pkt->attrs) + VPN_RADIUS_HDR_LEN;
    }
    return rc;
}

static bool has_attr(const vpn_radius_pkt *pkt, uint8_t type)
{
    vpn_radius_iter it;
    uint8_t t;
    const uint8_t *v;
    size_t l;

    vpn_radius_attr_first(&it, pkt);
    while (vpn_radius_attr_next(&it, &t, &v, &l) > 0)
        if (t == type)
            return true;
    return false;
}

/* HMAC-MD5 of the packet with auth in the Authenticator field and the
 * Message-Authenticator value (at ma_off) zeroed (RFC 3579 3.2). */
static int msg_auth(const uint8_t *pkt, size_t len, size_t ma_off, const uint8_t auth[VPN_RADIUS_AUTH_LEN],
                    const uint8_t *secret, size_t secret_len, uint8_t out[MD5_LEN])
{
    uint8_t copy[VPN_RADIUS_MAX_LEN];
    int rc;

    if (len > sizeof copy || ma_off + MD5_LEN > len)
        return VPN_ERR_INVAL;
    memcpy(copy, pkt, len);
    memcpy(copy + 4, auth, VPN_RADIUS_AUTH_LEN);
    memset(copy + ma_off, 0, MD5_LEN);
    rc = hmac_md5(secret, secret_len, copy, len, out);
    OPENSSL_cleanse(copy, len);
    return rc;
}

int vpn_radius_verify(const vpn_radius_pkt *pkt, const uint8_t req_auth[VPN_RADIUS_AUTH_LEN],
                      const uint8_t *secret, size_t secret_len)
{
    const uint8_t *base;
    uint8_t want[MD5_LEN];
    size_t ma;
    int rc;

    if (pkt == NULL || pkt->auth == NULL || req_auth == NULL || secret == NULL || secret_len == 0)
        return VPN_ERR_INVAL;
    base = pkt->auth - 4;
    /* RFC 2865 3: Response Authenticator */
    piece v[4] = {{base, 4}, {req_auth, VPN_RADIUS_AUTH_LEN}, {pkt->attrs, pkt->attrs_len}, {secret, secret_len}};
    if ((rc = md5(v, 4, want)) != 0)
        return rc;
    if (CRYPTO_memcmp(want, pkt->auth, MD5_LEN) != 0)
        return VPN_ERR_AUTH;
    if ((rc = find_msg_auth(pkt, &ma)) != 0)
        return rc;
    if (ma == 0)
        /* RFC 3579 3.2: a packet with EAP-Message without one is discarded */
        return has_attr(pkt, VPN_RADIUS_A_EAP_MESSAGE) ? VPN_ERR_AUTH : 0;
    if ((rc = msg_auth(base, pkt->len, ma, req_auth, secret, secret_len, want)) != 0)
        return rc;
    return CRYPTO_memcmp(want, base + ma, MD5_LEN) == 0 ? 0 : VPN_ERR_AUTH;
}

int vpn_radius_sign(uint8_t *buf, size_t len, const uint8_t req_auth[VPN_RADIUS_AUTH_LEN], const uint8_t *secret,
                    size_t secret_len)
{
    vpn_radius_pkt pkt;
    uint8_t mac[MD5_LEN];
    size_t ma;
    int rc;

    if (buf == NULL || req_auth == NULL || secret == NULL || secret_len == 0)
        return VPN_ERR_INVAL;
    if ((rc = vpn_radius_parse(buf, len, &pkt)) != 0 || (rc = find_msg_auth(&pkt, &ma)) != 0)
        return rc;
    if (ma != 0) {
        if ((rc = msg_auth(buf, pkt.len, ma, req_auth, secret, secret_len, mac)) != 0)
            return rc;
        memcpy(buf + ma, mac, MD5_LEN);
    }
    if (pkt.code != VPN_RADIUS_ACCESS_REQUEST) {
        memcpy(buf + 4, req_auth, VPN_RADIUS_AUTH_LEN);
        piece v[2] = {{buf, pkt.len}, {secret, secret_len}};
        if ((rc = md5(v, 2, mac)) != 0)
            return rc;
        memcpy(buf + 4, mac, MD5_LEN);
    }
    return 0;
}

/* ---- MS-MPPE keys (RFC 2548 2.4.2) ---------------------------------------- */

/* XORs the blocks of in into out with the RFC 2548 key stream; c(i-1) is
 * the ciphertext, which is out when encrypting and in when decrypting. */
static int mppe_xor(const uint8_t *in, uint8_t *out, size_t n, bool encrypt, const uint8_t salt[2],
                    const uint8_t req_auth[VPN_RADIUS_AUTH_LEN], const uint8_t *secret, size_t secret_len)
{
    uint8_t b[MD5_LEN];
    int rc = 0;

    for (size_t off = 0; off < n && rc == 0; off += MD5_LEN) {
        if (off == 0) {
            piece v[3] = {{secret, secret_len}, {req_auth, VPN_RADIUS_AUTH_LEN}, {salt, 2}};
            rc = md5(v, 3, b);
        } else {
            const uint8_t *prev = (encrypt ? out : in) + off - MD5_LEN;
            piece v[2] = {{secret, secret_len}, {prev, MD5_LEN}};
            rc = md5(v, 2, b);
        }
        for (size_t i = 0; rc == 0 && i < MD5_LEN; i++)
            out[off + i] = in[off + i] ^ b[i];
    }
    OPENSSL_cleanse(b, sizeof b);
    return rc;
}

int vpn_radius_mppe_decrypt(const uint8_t *val, size_t len, const uint8_t req_auth[VPN_RADIUS_AUTH_LEN],
                            const uint8_t *secret, size_t secret_len, uint8_t *out, size_t cap,
                            size_t *out_len)
{
    uint8_t plain[ATTR_MAX_VAL];
    size_t n;
    int rc;

    if (val == NULL || req_auth == NULL || secret == NULL || secret_len == 0 || out_len == NULL ||
        (out == NULL && cap > 0))
        return VPN_ERR_INVAL;
    *out_len = 0;
    /* Salt, then at least one 16-octet block */
    if (len < 2 + MD5_LEN || (len - 2) % MD5_LEN != 0 || len - 2 > sizeof plain)
        return VPN_ERR_MALFORMED;
    if (!(val[0] & 0x80))
        return VPN_ERR_MALFORMED; /* 2.4.2: the Salt's most significant bit is set */
    n = len - 2;
    if ((rc = mppe_xor(val + 2, plain, n, false, val, req_auth, secret, secret_len)) != 0)
        goto out;
    if ((size_t)plain[0] + 1 > n) {
        rc = VPN_ERR_MALFORMED; /* wrong secret or a forged key */
        goto out;
    }
    if (plain[0] > cap) {
        rc = VPN_ERR_NOSPACE;
        goto out;
    }
    memcpy(out, plain + 1, plain[0]);
    *out_len = plain[0];
out:
    OPENSSL_cleanse(plain, sizeof plain);
    return rc;
}

int vpn_radius_mppe_encrypt(const uint8_t *key, size_t key_len, const uint8_t salt[2],
                            const uint8_t req_auth[VPN_RADIUS_AUTH_LEN], const uint8_t *secret,
                            size_t secret_len, uint8_t *out, size_t cap, size_t *out_len)
{
    uint8_t plain[ATTR_MAX_VAL];
    size_t n;
    int rc;

    if ((key == NULL && key_len > 0) || key_len > 240 || salt == NULL || req_auth == NULL || secret == NULL ||
        secret_len == 0 || out == NULL || out_len == NULL)
        return VPN_ERR_INVAL;
    n = (1 + key_len + MD5_LEN - 1) / MD5_LEN * MD5_LEN;
    if (cap < 2 + n)
        return VPN_ERR_NOSPACE;
    memset(plain, 0, sizeof plain);
    plain[0] = (uint8_t)key_len;
    if (key_len)
        memcpy(plain + 1, key, key_len);
    out[0] = salt[0] | 0x80;
    out[1] = salt[1];
    rc = mppe_xor(plain, out + 2, n, true, out, req_auth, secret, secret_len);
    OPENSSL_cleanse(plain, sizeof plain);
    *out_len = rc == 0 ? 2 + n : 0;
    return rc;
}

/* ---- the client ------------------------------------------------------------ */

typedef struct conv {
    uint32_t handle;
    bool waiting;          /* a request is out */
    size_t server;
    uint8_t ident;
    uint8_t req_auth[VPN_RADIUS_AUTH_LEN];
    unsigned tries;        /* sends to this server for this request */
    size_t servers_tried;
    uint64_t due;
    uint8_t last_eap_ident; /* of the Response relayed, for a synthesized Success/Failure */
    char user[VPN_EAP_NAME_MAX + 1];
    uint8_t eap[VPN_EAP_MSG_MAX];
    size_t eap_len;
    uint8_t state[ATTR_MAX_VAL];
    size_t state_len;
    uint8_t dg[VPN_RADIUS_MAX_LEN]; /* the request as sent, for retransmission */
    size_t dg_len;
} conv;

struct vpn_radius_client {
    vpn_radius_params p;
    char secret[VPN_RADIUS_SERVERS_MAX][VPN_RADIUS_SECRET_MAX + 1];
    char nas_id[64];
    size_t current;
    uint8_t next_ident[VPN_RADIUS_SERVERS_MAX];
    conv **conv;
    size_t n_conv, cap_conv;
    vpn_radius_stats st;
};

int vpn_radius_client_new(vpn_radius_client **out, const vpn_radius_params *p)
{
    vpn_radius_client *c;

    if (out == NULL || p == NULL || p->n_servers == 0 || p->n_servers > VPN_RADIUS_SERVERS_MAX ||
        p->send == NULL || p->answer == NULL || p->retransmit == (unsigned)-1)
        return VPN_ERR_INVAL;
    for (size_t i = 0; i < p->n_servers; i++) {
        const char *s = p->servers[i].secret;
        if (s == NULL || s[0] == '\0' || strlen(s) > VPN_RADIUS_SECRET_MAX ||
            (p->servers[i].addr.family != VPN_AF_INET && p->servers[i].addr.family != VPN_AF_INET6))
            return VPN_ERR_INVAL;
    }
    if ((c = calloc(1, sizeof *c)) == NULL)
        return VPN_ERR_NOMEM;
    c->p = *p;
    for (size_t i = 0; i < p->n_servers; i++) {
        snprintf(c->secret[i], sizeof c->secret[i], "%s", p->servers[i].secret);
        c->p.servers[i].secret = c->secret[i];
        if (c->p.servers[i].port == 0)
            c->p.servers[i].port = DEFAULT_PORT;
    }
    snprintf(c->nas_id, sizeof c->nas_id, "%s", p->nas_identifier ? p->nas_identifier : "vpn");
    c->p.nas_identifier = c->nas_id;
    if (c->p.timeout_ns == 0)
        c->p.timeout_ns = DEFAULT_TIMEOUT_NS;
    if (c->p.retransmit == 0)
        c->p.retransmit = DEFAULT_RETRANSMIT;
    /* start Identifiers somewhere unpredictable, as RFC 2865 3 suggests for
     * distinguishing restarts */
    if (vpn_rng_bytes(&c->p.rng, c->next_ident, sizeof c->next_ident) != 0)
        memset(c->next_ident, 0, sizeof c->next_ident);
    *out = c;
    return 0;
}

static void conv_free(conv *v)
{
    if (v == NULL)
        return;
    OPENSSL_cleanse(v, sizeof *v);
    free(v);
}

void vpn_radius_client_free(vpn_radius_client *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n_conv; i++)
        conv_free(c->conv[i]);
    free(c->conv);
    OPENSSL_cleanse(c, sizeof *c);
    free(c);
}

static conv *conv_find(vpn_radius_client *c, uint32_t handle, size_t *idx)
{
    for (size_t i = 0; i < c->n_conv; i++)
        if (c->conv[i]->handle == handle) {
            if (idx)
                *idx = i;
            return c->conv[i];
        }
    return NULL;
}

static void conv_remove(vpn_radius_client *c, size_t i)
{
    conv_free(c->conv[i]);
    c->conv[i] = c->conv[--c->n_conv];
}

void vpn_radius_end(vpn_radius_client *c, uint32_t handle)
{
    size_t i;
    if (c != NULL && conv_find(c, handle, &i))
        conv_remove(c, i);
}

/* A fresh Identifier for server s that no waiting request uses there. */
static int pick_ident(vpn_radius_client *c, size_t s, uint8_t *out)
{
    for (unsigned k = 0; k < 256; k++) {
        uint8_t id = c->next_ident[s]++;
        bool used = false;
        for (size_t i = 0; i < c->n_conv && !used; i++)
            used = c->conv[i]->waiting && c->conv[i]->server == s && c->conv[i]->ident == id;
        if (!used) {
            *out = id;
            return 0;
        }
    }
    return VPN_ERR_LIMIT;
}

static void wr_attr(vpn_wr *w, uint8_t type, const void *v, size_t n)
{
    vpn_wr_u8(w, type);
    vpn_wr_u8(w, (uint8_t)(n + 2));
    vpn_wr_bytes(w, v, n);
}

/* Builds and signs the Access-Request of v for its server (new Identifier
 * and Request Authenticator). */
static int build_request(vpn_radius_client *c, conv *v)
{
    const vpn_radius_server *srv = &c->p.servers[v->server];
    uint8_t u32[4];
    size_t len_pos;
    vpn_wr w;
    int rc;

    if ((rc = pick_ident(c, v->server, &v->ident)) != 0)
        return rc;
    if ((rc = vpn_rng_bytes(&c->p.rng, v->req_auth, sizeof v->req_auth)) != 0)
        return rc;
    vpn_wr_init(&w, v->dg, sizeof v->dg);
    vpn_wr_u8(&w, VPN_RADIUS_ACCESS_REQUEST);
    vpn_wr_u8(&w, v->ident);
    vpn_wr_len_reserve(&w, 2, &len_pos);
    vpn_wr_bytes(&w, v->req_auth, sizeof v->req_auth);
    wr_attr(&w, VPN_RADIUS_A_USER_NAME, v->user, strlen(v->user));
    wr_attr(&w, VPN_RADIUS_A_NAS_IDENTIFIER, c->nas_id, strlen(c->nas_id));
    vpn_store32(u32, 2); /* Service-Type Framed (5.6) */
    wr_attr(&w, VPN_RADIUS_A_SERVICE_TYPE, u32, 4);
    vpn_store32(u32, 5); /* NAS-Port-Type Virtual (5.41), as IOS sends for IKEv2 */
    wr_attr(&w, VPN_RADIUS_A_NAS_PORT_TYPE, u32, 4);
    /* RFC 3579 2.4: the server fragments EAP to fit the Framed-MTU; keep
     * its messages inside one IKE payload well below the path MTU */
    vpn_store32(u32, 1002);
    wr_attr(&w, VPN_RADIUS_A_FRAMED_MTU, u32, 4);
    if (v->state_len)
        wr_attr(&w, VPN_RADIUS_A_STATE, v->state, v->state_len);
    /* RFC 3579 3.1: the EAP message split into attributes of 253 octets */
    for (size_t off = 0; off < v->eap_len; off += ATTR_MAX_VAL) {
        size_t n = v->eap_len - off < ATTR_MAX_VAL ? v->eap_len - off : ATTR_MAX_VAL;
        wr_attr(&w, VPN_RADIUS_A_EAP_MESSAGE, v->eap + off, n);
    }
    wr_attr(&w, VPN_RADIUS_A_MESSAGE_AUTHENTICATOR, (const uint8_t[MD5_LEN]){0}, MD5_LEN);
    vpn_wr_len_patch(&w, len_pos, 2, 0);
    if ((rc = vpn_wr_err(&w)) != 0)
        return rc;
    v->dg_len = vpn_wr_len(&w);
    return vpn_radius_sign(v->dg, v->dg_len, v->req_auth, (const uint8_t *)srv->secret, strlen(srv->secret));
}

static void transmit(vpn_radius_client *c, conv *v, uint64_t now)
{
    v->tries++;
    v->due = now + c->p.timeout_ns;
    v->waiting = true;
    c->p.send(c->p.user, v->server, v->dg, v->dg_len);
}

int vpn_radius_eap_send(vpn_radius_client *c, uint64_t now, uint32_t handle, const char *user,
                        const uint8_t *msg, size_t len)
{
    conv *v;
    bool fresh = false;
    int rc;

    if (c == NULL || user == NULL || user[0] == '\0' || strlen(user) > VPN_EAP_NAME_MAX || msg == NULL ||
        len == 0 || len > VPN_EAP_MSG_MAX)
        return VPN_ERR_INVAL;
    if ((v = conv_find(c, handle, NULL)) != NULL && v->waiting)
        return VPN_ERR_STATE;
    if (v == NULL) {
        if (c->n_conv == c->cap_conv) {
            size_t cap = c->cap_conv ? 2 * c->cap_conv : 8;
            conv **n = realloc(c->conv, cap * sizeof *n);
            if (n == NULL)
                return VPN_ERR_NOMEM;
            c->conv = n;
            c->cap_conv = cap;
        }
        if ((v = calloc(1, sizeof *v)) == NULL)
            return VPN_ERR_NOMEM;
        v->handle = handle;
        v->server = c->current;
        fresh = true;
    }
    /* RFC 3579 2.1: User-Name is the identity of the EAP-Response/Identity;
     * later requests of the conversation keep it */
    {
        vpn_eap_msg m;
        if (vpn_eap_parse(msg, len, &m) == 0 && m.code == 2 && m.type == VPN_EAP_T_IDENTITY && m.data_len > 0 &&
            m.data_len <= VPN_EAP_NAME_MAX)
            snprintf(v->user, sizeof v->user, "%.*s", (int)m.data_len, (const char *)m.data);
        else if (fresh)
            snprintf(v->user, sizeof v->user, "%s", user);
    }
    memcpy(v->eap, msg, len);
    v->eap_len = len;
    v->last_eap_ident = len >= 2 ? msg[1] : 0;
    v->tries = 0;
    v->servers_tried = 0;
    if ((rc = build_request(c, v)) != 0) {
        if (fresh)
            conv_free(v);
        return rc;
    }
    if (fresh)
        c->conv[c->n_conv++] = v;
    c->st.requests++;
    transmit(c, v, now);
    return 0;
}

/* "A [B]": IOS's ipsec:dns-servers AV-pair; addresses that do not parse
 * are skipped. */
static void read_dns(vpn_radius_result *res, const char *txt)
{
    while (*txt && res->n_dns < VPN_RADIUS_DNS_MAX) {
        char one[VPN_ADDR_STRLEN];
        size_t k = 0;
        while (*txt == ' ')
            txt++;
        while (*txt && *txt != ' ' && k < sizeof one - 1)
            one[k++] = *txt++;
        one[k] = '\0';
        while (*txt && *txt != ' ')
            txt++; /* an overlong word */
        if (k > 0 && vpn_addr_parse(&res->dns[res->n_dns], one) == 0 && res->dns[res->n_dns].family == VPN_AF_INET)
            res->n_dns++;
    }
}

/* The attributes of a reply into res. Errors: VPN_ERR_MALFORMED. */
static int read_reply(vpn_radius_client *c, conv *v, const vpn_radius_pkt *pkt, vpn_radius_result *res,
                      uint8_t *state, size_t *state_len)
{
    const char *secret = c->p.servers[v->server].secret;
    vpn_radius_iter it;
    uint8_t t, recv[64], send[64];
    const uint8_t *val;
    size_t l, eap_len = 0, recv_len = 0, send_len = 0;
    bool have_recv = false, have_send = false;
    int rc = 0;

    *state_len = 0;
    vpn_radius_attr_first(&it, pkt);
    while (rc == 0 && (rc = vpn_radius_attr_next(&it, &t, &val, &l)) > 0) {
        rc = 0;
        switch (t) {
        case VPN_RADIUS_A_EAP_MESSAGE: /* RFC 3579 3.1: concatenated in order */
            if (eap_len + l > sizeof res->eap.msg)
                rc = VPN_ERR_MALFORMED;
            else if (l) {
                memcpy(res->eap.msg + eap_len, val, l);
                eap_len += l;
            }
            break;
        case VPN_RADIUS_A_STATE:
            memcpy(state, val, l);
            *state_len = l;
            break;
        case VPN_RADIUS_A_FRAMED_IP_ADDRESS:
            if (l == 4)
                vpn_addr_from_bytes(&res->framed_ip, val, 4);
            break;
        case VPN_RADIUS_A_FRAMED_POOL: /* RFC 2869 5.18: the pool's name */
            if (l > 0 && l < sizeof res->addr_pool) {
                memcpy(res->addr_pool, val, l);
                res->addr_pool[l] = '\0';
            }
            break;
        case VPN_RADIUS_A_FRAMED_ROUTE: { /* 5.22: "prefix [gateway [metric]]" */
            char txt[ATTR_MAX_VAL + 1];
            size_t k = 0;
            while (k < l && val[k] != ' ' && k < sizeof txt - 1) {
                txt[k] = (char)val[k];
                k++;
            }
            txt[k] = '\0';
            if (res->n_routes < VPN_RADIUS_ROUTES_MAX && vpn_prefix_parse(&res->routes[res->n_routes], txt) == 0)
                res->n_routes++;
            break;
        }
        case VPN_RADIUS_A_VENDOR_SPECIFIC: { /* 5.26: Vendor-Id, then vendor attributes */
            vpn_rd r, sub;
            uint32_t vendor;
            uint8_t vt, vl;
            vpn_rd_init(&r, val, l);
            vpn_rd_u32(&r, &vendor);
            while (rc == 0 && vpn_rd_err(&r) == 0 && vpn_rd_left(&r) > 0) {
                const uint8_t *vv;
                vpn_rd_u8(&r, &vt);
                vpn_rd_u8(&r, &vl);
                if (vpn_rd_err(&r) || vl < 2 || vpn_rd_sub(&r, &sub, (size_t)vl - 2) != 0)
                    break; /* a vendor attribute we cannot frame: ignore the rest */
                vv = vpn_rd_cur(&sub);
                if (vendor == VPN_RADIUS_VENDOR_MICROSOFT &&
                    (vt == VPN_RADIUS_MS_MPPE_RECV_KEY || vt == VPN_RADIUS_MS_MPPE_SEND_KEY)) {
                    bool is_recv = vt == VPN_RADIUS_MS_MPPE_RECV_KEY;
                    if (pkt->code != VPN_RADIUS_ACCESS_ACCEPT)
                        continue;
                    rc = vpn_radius_mppe_decrypt(vv, (size_t)vl - 2, v->req_auth, (const uint8_t *)secret,
                                                 strlen(secret), is_recv ? recv : send, 32,
                                                 is_recv ? &recv_len : &send_len);
                    if (rc != 0)
                        rc = VPN_ERR_MALFORMED;
                    *(is_recv ? &have_recv : &have_send) = true;
                } else if (vendor == VPN_RADIUS_VENDOR_CISCO && vt == VPN_RADIUS_CISCO_AVPAIR) {
                    char txt[ATTR_MAX_VAL + 1];
                    static const char route[] = "ipsec:route-set=prefix ", pool[] = "ipsec:addr-pool=",
                                      dns[] = "ipsec:dns-servers=";
                    memcpy(txt, vv, (size_t)vl - 2);
                    txt[vl - 2] = '\0';
                    if (strncmp(txt, route, sizeof route - 1) == 0 && res->n_routes < VPN_RADIUS_ROUTES_MAX &&
                        vpn_prefix_parse(&res->routes[res->n_routes], txt + sizeof route - 1) == 0)
                        res->n_routes++;
                    else if (strncmp(txt, pool, sizeof pool - 1) == 0)
                        snprintf(res->addr_pool, sizeof res->addr_pool, "%.63s", txt + sizeof pool - 1);
                    else if (strncmp(txt, dns, sizeof dns - 1) == 0)
                        read_dns(res, txt + sizeof dns - 1);
                }
            }
            break;
        }
        default:
            break;
        }
    }
    if (rc != 0)
        rc = VPN_ERR_MALFORMED; /* includes an iterator framing error */
    res->eap.len = eap_len;
    if (rc == 0 && pkt->code == VPN_RADIUS_ACCESS_ACCEPT && have_recv && have_send) {
        /* RFC 3748 7.10 wants 64 octets; the MSCHAPv2 peers pad the 32
         * key octets with zeros (ikev2-eap.h vpn_mschapv2_msk) */
        if (recv_len + send_len > VPN_EAP_MSK_LEN) {
            rc = VPN_ERR_MALFORMED;
        } else {
            memset(res->eap.msk, 0, sizeof res->eap.msk);
            memcpy(res->eap.msk, recv, recv_len);
            memcpy(res->eap.msk + recv_len, send, send_len);
            res->eap.msk_len = VPN_EAP_MSK_LEN;
        }
    }
    OPENSSL_cleanse(recv, sizeof recv);
    OPENSSL_cleanse(send, sizeof send);
    return rc;
}

static void answer(vpn_radius_client *c, uint32_t handle, vpn_radius_result *res)
{
    c->p.answer(c->p.user, handle, res);
    OPENSSL_cleanse(res, sizeof *res);
}

/* RFC 3748 4.2: a Success or Failure the server left out */
static void synth(vpn_eap_answer *a, uint8_t code, uint8_t ident)
{
    a->msg[0] = code;
    a->msg[1] = ident;
    vpn_store16(a->msg + 2, 4);
    a->len = 4;
}

int vpn_radius_input(vpn_radius_client *c, uint64_t now, size_t server, const uint8_t *dg, size_t len)
{
    vpn_radius_pkt pkt;
    vpn_radius_result *res;
    vpn_eap_msg em;
    uint8_t state[ATTR_MAX_VAL];
    size_t state_len = 0, idx = 0;
    conv *v = NULL;
    uint32_t handle;
    int rc;

    (void)now;
    if (c == NULL || dg == NULL || server >= c->p.n_servers)
        return VPN_ERR_INVAL;
    if ((rc = vpn_radius_parse(dg, len, &pkt)) != 0)
        goto drop;
    for (size_t i = 0; i < c->n_conv && v == NULL; i++)
        if (c->conv[i]->waiting && c->conv[i]->server == server && c->conv[i]->ident == pkt.ident) {
            v = c->conv[i];
            idx = i;
        }
    if (v == NULL) {
        rc = VPN_ERR_NOTFOUND;
        goto drop;
    }
    if ((rc = vpn_radius_verify(&pkt, v->req_auth, (const uint8_t *)c->p.servers[server].secret,
                                strlen(c->p.servers[server].secret))) != 0)
        goto drop;
    if (pkt.code != VPN_RADIUS_ACCESS_ACCEPT && pkt.code != VPN_RADIUS_ACCESS_REJECT &&
        pkt.code != VPN_RADIUS_ACCESS_CHALLENGE) {
        rc = VPN_ERR_UNSUPPORTED;
        goto drop;
    }
    if ((res = calloc(1, sizeof *res)) == NULL)
        return VPN_ERR_NOMEM;
    res->code = pkt.code;
    res->server = server;
    if ((rc = read_reply(c, v, &pkt, res, state, &state_len)) != 0)
        goto drop_res;
    /* the relayed EAP must be one whole message of the right kind */
    if (res->eap.len && vpn_eap_parse(res->eap.msg, res->eap.len, &em) != 0) {
        rc = VPN_ERR_MALFORMED;
        goto drop_res;
    }
    switch (pkt.code) {
    case VPN_RADIUS_ACCESS_CHALLENGE: /* RFC 3579 2.6.3: carries an EAP Request */
        if (res->eap.len == 0 || em.code != 1) {
            rc = VPN_ERR_MALFORMED;
            goto drop_res;
        }
        res->eap.result = VPN_EAP_CONTINUE;
        break;
    case VPN_RADIUS_ACCESS_ACCEPT:
        if (res->eap.len && em.code != 3) {
            rc = VPN_ERR_MALFORMED;
            goto drop_res;
        }
        if (res->eap.len == 0)
            synth(&res->eap, 3, v->last_eap_ident);
        res->eap.result = VPN_EAP_SUCCESS;
        break;
    default: /* Reject: whatever EAP it carries, the answer is Failure */
        if (res->eap.len == 0 || em.code != 4)
            synth(&res->eap, 4, v->last_eap_ident);
        memset(&res->framed_ip, 0, sizeof res->framed_ip);
        res->n_routes = 0;
        res->addr_pool[0] = '\0';
        res->eap.result = VPN_EAP_FAILURE;
        break;
    }
    v->waiting = false;
    handle = v->handle;
    if (pkt.code == VPN_RADIUS_ACCESS_CHALLENGE) {
        memcpy(v->state, state, state_len);
        v->state_len = state_len;
        c->st.challenges++;
    } else {
        *(pkt.code == VPN_RADIUS_ACCESS_ACCEPT ? &c->st.accepts : &c->st.rejects) += 1;
        conv_remove(c, idx);
    }
    OPENSSL_cleanse(state, sizeof state);
    answer(c, handle, res);
    free(res);
    return 0;
drop_res:
    OPENSSL_cleanse(res, sizeof *res);
    free(res);
drop:
    OPENSSL_cleanse(state, sizeof state);
    c->st.dropped++;
    return rc;
}

uint64_t vpn_radius_deadline(const vpn_radius_client *c)
{
    uint64_t d = UINT64_MAX;
    if (c == NULL)
        return d;
    for (size_t i = 0; i < c->n_conv; i++)
        if (c->conv[i]->waiting && c->conv[i]->due < d)
            d = c->conv[i]->due;
    return d;
}

int vpn_radius_timeout(vpn_radius_client *c, uint64_t now)
{
    if (c == NULL)
        return 0;
    for (size_t i = 0; i < c->n_conv;) {
        conv *v = c->conv[i];
        if (!v->waiting || v->due > now) {
            i++;
            continue;
        }
        if (v->tries <= c->p.retransmit) {
            /* RFC 2865 2.5: the same Identifier and Request Authenticator */
            c->st.retransmits++;
            transmit(c, v, now);
            i++;
            continue;
        }
        /* this server is silent: the next one, with a fresh request; the
         * State of the silent one means nothing to it */
        v->servers_tried++;
        if (v->servers_tried < c->p.n_servers) {
            size_t next = (v->server + 1) % c->p.n_servers;
            v->waiting = false;
            v->server = next;
            v->state_len = 0;
            v->tries = 0;
            if (c->current != next && c->p.n_servers > 1) {
                c->current = next;
                c->st.failovers++;
            }
            if (build_request(c, v) == 0) {
                transmit(c, v, now);
                i++;
                continue;
            }
        }
        /* every server tried (or the request cannot be rebuilt): give up */
        {
            vpn_radius_result *res = calloc(1, sizeof *res);
            uint32_t handle = v->handle;
            uint8_t ident = v->last_eap_ident;
            c->st.timeouts++;
            conv_remove(c, i);
            if (res != NULL) {
                res->status = VPN_ERR_EXPIRED;
                res->eap.result = VPN_EAP_FAILURE;
                synth(&res->eap, 4, ident);
                answer(c, handle, res);
                free(res);
            }
            i = 0; /* the callback may have changed the list */
        }
    }
    return 0;
}

size_t vpn_radius_current_server(const vpn_radius_client *c) { return c ? c->current : 0; }

void vpn_radius_get_stats(const vpn_radius_client *c, vpn_radius_stats *out)
{
    if (c == NULL || out == NULL)
        return;
    *out = c->st;
}

int vpn_radius_eap_start(vpn_radius_client *c, uint64_t now, uint32_t handle, const char *identity,
                         bool query_identity, vpn_eap_answer *a)
{
    uint8_t msg[4 + 1 + VPN_EAP_NAME_MAX];
    size_t n;
    int rc;

    if (c == NULL || identity == NULL || a == NULL || strlen(identity) > VPN_EAP_NAME_MAX)
        return VPN_ERR_INVAL;
    memset(a, 0, sizeof *a);
    vpn_radius_end(c, handle);
    if ((rc = vpn_rng_bytes(&c->p.rng, msg + 1, 1)) != 0)
        return rc;
    if (query_identity || identity[0] == '\0') {
        /* RFC 3748 5.1: the NAS asks for the Identity itself */
        a->msg[0] = 1;
        a->msg[1] = msg[1];
        vpn_store16(a->msg + 2, 5);
        a->msg[4] = VPN_EAP_T_IDENTITY;
        a->len = 5;
        a->result = VPN_EAP_CONTINUE;
        return 0;
    }
    /* RFC 3579 2.1: the NAS may start with the identity it knows (here the
     * IKE IDi) as an EAP-Response/Identity */
    n = strlen(identity);
    msg[0] = 2;
    vpn_store16(msg + 2, (uint16_t)(5 + n));
    msg[4] = VPN_EAP_T_IDENTITY;
    memcpy(msg + 5, identity, n);
    if ((rc = vpn_radius_eap_send(c, now, handle, identity, msg, 5 + n)) != 0)
        return rc;
    return 1;
}
