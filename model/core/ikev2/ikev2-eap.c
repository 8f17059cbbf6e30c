/*
 * EAP methods for IKEv2 (RFC 7296 2.16): see ikev2-eap.h.
 *
 * Why the deprecated low-level MD4 and DES: MSCHAPv2 needs both, and in
 * OpenSSL 3 their EVP forms live only in the legacy provider, which would
 * have to be loaded into a library context for the process (measured on
 * 3.0.19: EVP_MD_fetch("MD4") fails in the default context). The low-level
 * functions do not go through providers and are still built on Debian.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "ikev2/ikev2-eap.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/des.h>
#include <openssl/evp.h>
#include <openssl/md4.h>

#include "common/vpn-err.h"
#include "common/wire.h"

/* RFC 3748 4: the codes. */
enum { EAP_REQUEST = 1, EAP_RESPONSE = 2, EAP_SUCCESS = 3, EAP_FAILURE = 4 };

/* draft-kamath-pppext-eap-mschapv2 2: MSCHAPv2 OpCodes. */
enum { MS_CHALLENGE = 1, MS_RESPONSE = 2, MS_SUCCESS = 3, MS_FAILURE = 4 };

#define MS_RESPONSE_VALUE 49 /* RFC 2759 4: 16 + 8 + 24 + 1 */

/* ---- hashing helpers -------------------------------------------------- */

typedef struct piece {
    const void *p;
    size_t n;
} piece;

static int digest(const EVP_MD *md, const piece *v, size_t n, uint8_t *out)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c != NULL && EVP_DigestInit_ex(c, md, NULL) == 1;
    for (size_t i = 0; ok && i < n; i++)
        ok = EVP_DigestUpdate(c, v[i].p, v[i].n) == 1;
    ok = ok && EVP_DigestFinal_ex(c, out, NULL) == 1;
    EVP_MD_CTX_free(c);
    return ok ? 0 : VPN_ERR_CRYPTO;
}

static int md4(const uint8_t *p, size_t n, uint8_t out[16])
{
    return MD4(p, n, out) != NULL ? 0 : VPN_ERR_CRYPTO;
}

/* ---- MSCHAPv2 (RFC 2759 8, RFC 3079 3) -------------------------------- */

int vpn_mschapv2_pw_hash(const char *pw, size_t pw_len, uint8_t out[16])
{
    if ((pw == NULL && pw_len) || out == NULL)
        return VPN_ERR_INVAL;
    /* UTF-8 to UTF-16LE; RFC 2759 8.3 allows 256 characters. */
    uint8_t u[512];
    size_t n = 0;
    const uint8_t *s = (const uint8_t *)pw;
    for (size_t i = 0; i < pw_len;) {
        uint32_t c;
        if (s[i] < 0x80) {
            c = s[i++];
        } else if ((s[i] & 0xE0) == 0xC0 && i + 1 < pw_len && (s[i + 1] & 0xC0) == 0x80) {
            c = (uint32_t)(s[i] & 0x1F) << 6 | (s[i + 1] & 0x3F);
            i += 2;
            if (c < 0x80)
                return VPN_ERR_MALFORMED; /* overlong */
        } else if ((s[i] & 0xF0) == 0xE0 && i + 2 < pw_len && (s[i + 1] & 0xC0) == 0x80 &&
                   (s[i + 2] & 0xC0) == 0x80) {
            c = (uint32_t)(s[i] & 0x0F) << 12 | (uint32_t)(s[i + 1] & 0x3F) << 6 | (s[i + 2] & 0x3F);
            i += 3;
            if (c < 0x800 || (c >= 0xD800 && c <= 0xDFFF))
                return VPN_ERR_MALFORMED;
        } else {
            return VPN_ERR_MALFORMED;
        }
        if (n + 2 > sizeof u)
            return VPN_ERR_MALFORMED;
        u[n++] = (uint8_t)c;
        u[n++] = (uint8_t)(c >> 8);
    }
    int rc = md4(u, n, out);
    OPENSSL_cleanse(u, sizeof u);
    return rc;
}

/* ChallengeHash (RFC 2759 8.2): the user name without a domain (RFC 2759 4). */
static int challenge_hash(const uint8_t peer_chal[16], const uint8_t auth_chal[16], const char *user,
                          size_t user_len, uint8_t out[8])
{
    const char *bs = user_len ? memchr(user, '\\', user_len) : NULL;
    if (bs != NULL) {
        user_len -= (size_t)(bs + 1 - user);
        user = bs + 1;
    }
    piece v[3] = {{peer_chal, 16}, {auth_chal, 16}, {user, user_len}};
    uint8_t d[20];
    int rc = digest(EVP_sha1(), v, 3, d);
    memcpy(out, d, 8);
    return rc;
}

/* DesEncrypt (RFC 2759 8.6): a 7-octet key spread over the 8 DES key octets
 * (parity bits left as they fall: DES ignores them). */
static void des7(const uint8_t clear[8], const uint8_t k7[7], uint8_t out[8])
{
    DES_cblock key, in, res;
    key[0] = k7[0];
    for (int i = 1; i < 7; i++)
        key[i] = (uint8_t)(k7[i - 1] << (8 - i) | k7[i] >> i);
    key[7] = (uint8_t)(k7[6] << 1);
    DES_key_schedule ks;
    DES_set_key_unchecked(&key, &ks);
    memcpy(in, clear, 8);
    DES_ecb_encrypt(&in, &res, &ks, DES_ENCRYPT);
    memcpy(out, res, 8);
    OPENSSL_cleanse(&ks, sizeof ks);
    OPENSSL_cleanse(key, sizeof key);
}

int vpn_mschapv2_nt_response(const uint8_t auth_chal[16], const uint8_t peer_chal[16],
                             const char *user, size_t user_len, const uint8_t pw_hash[16],
                             uint8_t out[24])
{
    if (auth_chal == NULL || peer_chal == NULL || (user == NULL && user_len) || pw_hash == NULL ||
        out == NULL)
        return VPN_ERR_INVAL;
    uint8_t ch[8];
    int rc = challenge_hash(peer_chal, auth_chal, user, user_len, ch);
    if (rc)
        return rc;
    /* ChallengeResponse (RFC 2759 8.5): the hash zero-padded to 21 octets
     * keys three DES runs. */
    uint8_t z[21] = {0};
    memcpy(z, pw_hash, 16);
    for (int i = 0; i < 3; i++)
        des7(ch, z + 7 * i, out + 8 * i);
    OPENSSL_cleanse(z, sizeof z);
    return 0;
}

static const char magic_sign[] = "Magic server to client signing constant";
static const char magic_pad[] = "Pad to make it do more than one iteration";

int vpn_mschapv2_auth_response(const uint8_t pw_hash[16], const uint8_t nt_resp[24],
                               const uint8_t peer_chal[16], const uint8_t auth_chal[16],
                               const char *user, size_t user_len, char out[43])
{
    if (pw_hash == NULL || nt_resp == NULL || peer_chal == NULL || auth_chal == NULL ||
        (user == NULL && user_len) || out == NULL)
        return VPN_ERR_INVAL;
    uint8_t hh[16], d[20], ch[8];
    int rc = md4(pw_hash, 16, hh);
    piece v1[3] = {{hh, 16}, {nt_resp, 24}, {magic_sign, sizeof magic_sign - 1}};
    if (!rc)
        rc = digest(EVP_sha1(), v1, 3, d);
    if (!rc)
        rc = challenge_hash(peer_chal, auth_chal, user, user_len, ch);
    piece v2[3] = {{d, 20}, {ch, 8}, {magic_pad, sizeof magic_pad - 1}};
    if (!rc)
        rc = digest(EVP_sha1(), v2, 3, d);
    OPENSSL_cleanse(hh, sizeof hh);
    if (rc)
        return rc;
    static const char hex[] = "0123456789ABCDEF";
    out[0] = 'S';
    out[1] = '=';
    for (int i = 0; i < 20; i++) {
        out[2 + 2 * i] = hex[d[i] >> 4];
        out[3 + 2 * i] = hex[d[i] & 15];
    }
    out[42] = '\0';
    return 0;
}

static const char mppe_master[] = "This is the MPPE Master Key";
static const char mppe_magic2[] =
    "On the client side, this is the send key; on the server side, it is the receive key.";
static const char mppe_magic3[] =
    "On the client side, this is the receive key; on the server side, it is the send key.";

int vpn_mschapv2_master_key(const uint8_t pw_hash_hash[16], const uint8_t nt_resp[24],
                            uint8_t out[16])
{
    if (pw_hash_hash == NULL || nt_resp == NULL || out == NULL)
        return VPN_ERR_INVAL;
    uint8_t d[20];
    piece v[3] = {{pw_hash_hash, 16}, {nt_resp, 24}, {mppe_master, sizeof mppe_master - 1}};
    int rc = digest(EVP_sha1(), v, 3, d);
    memcpy(out, d, 16);
    OPENSSL_cleanse(d, sizeof d);
    return rc;
}

int vpn_mschapv2_start_key(const uint8_t master[16], bool is_send, bool is_server, uint8_t out[16])
{
    if (master == NULL || out == NULL)
        return VPN_ERR_INVAL;
    static const uint8_t pad1[40] = {0};
    uint8_t pad2[40];
    memset(pad2, 0xF2, sizeof pad2);
    /* RFC 3079 3.4: the client's send key is the server's receive key. */
    const char *m = (is_send == is_server) ? mppe_magic3 : mppe_magic2;
    uint8_t d[20];
    piece v[4] = {{master, 16}, {pad1, 40}, {m, sizeof mppe_magic2 - 1}, {pad2, 40}};
    int rc = digest(EVP_sha1(), v, 4, d);
    memcpy(out, d, 16);
    OPENSSL_cleanse(d, sizeof d);
    return rc;
}

int vpn_mschapv2_msk(const uint8_t pw_hash[16], const uint8_t nt_resp[24],
                     uint8_t msk[VPN_EAP_MSK_LEN])
{
    if (pw_hash == NULL || nt_resp == NULL || msk == NULL)
        return VPN_ERR_INVAL;
    uint8_t hh[16], mk[16];
    int rc = md4(pw_hash, 16, hh);
    if (!rc)
        rc = vpn_mschapv2_master_key(hh, nt_resp, mk);
    memset(msk, 0, VPN_EAP_MSK_LEN);
    if (!rc)
        rc = vpn_mschapv2_start_key(mk, false, true, msk); /* MasterReceiveKey */
    if (!rc)
        rc = vpn_mschapv2_start_key(mk, true, true, msk + 16); /* MasterSendKey */
    OPENSSL_cleanse(hh, sizeof hh);
    OPENSSL_cleanse(mk, sizeof mk);
    if (rc)
        OPENSSL_cleanse(msk, VPN_EAP_MSK_LEN);
    return rc;
}

/* ---- messages ------------------------------------------------------------ */

int vpn_eap_parse(const uint8_t *p, size_t len, vpn_eap_msg *out)
{
    if ((p == NULL && len) || out == NULL)
        return VPN_ERR_INVAL;
    vpn_rd r;
    vpn_rd_init(&r, p, len);
    uint8_t code, ident;
    uint16_t length;
    vpn_rd_u8(&r, &code);
    vpn_rd_u8(&r, &ident);
    vpn_rd_u16(&r, &length);
    if (vpn_rd_err(&r))
        return vpn_rd_err(&r);
    /* RFC 3748 4.1: octets beyond Length would be padding, but IKEv2 carries
     * exactly one message per payload (RFC 7296 3.16). */
    if (length < 4 || length > len)
        return length > len ? VPN_ERR_TRUNCATED : VPN_ERR_MALFORMED;
    if (length != len)
        return VPN_ERR_MALFORMED;
    memset(out, 0, sizeof *out);
    out->code = code;
    out->ident = ident;
    switch (code) {
    case EAP_SUCCESS:
    case EAP_FAILURE:
        return length == 4 ? 0 : VPN_ERR_MALFORMED; /* RFC 3748 4.2 */
    case EAP_REQUEST:
    case EAP_RESPONSE:
        if (vpn_rd_u8(&r, &out->type))
            return VPN_ERR_TRUNCATED;
        if (out->type == 0 || out->type == 254 || out->type == 255)
            return VPN_ERR_UNSUPPORTED; /* reserved, expanded types */
        out->data = vpn_rd_cur(&r);
        out->data_len = vpn_rd_left(&r);
        return 0;
    default:
        return VPN_ERR_UNSUPPORTED;
    }
}

void vpn_eap_answer_wipe(vpn_eap_answer *a)
{
    if (a != NULL) {
        OPENSSL_cleanse(a->msk, sizeof a->msk);
        a->msk_len = 0;
    }
}

/* Starts a message in a; returns the writer positioned after the Type. */
static void msg_begin(vpn_wr *w, vpn_eap_answer *a, uint8_t code, uint8_t ident, uint8_t type)
{
    vpn_wr_init(w, a->msg, sizeof a->msg);
    vpn_wr_u8(w, code);
    vpn_wr_u8(w, ident);
    vpn_wr_u16(w, 0); /* patched by msg_end */
    if (code == EAP_REQUEST || code == EAP_RESPONSE)
        vpn_wr_u8(w, type);
}

static int msg_end(vpn_wr *w, vpn_eap_answer *a)
{
    if (vpn_wr_err(w))
        return vpn_wr_err(w);
    a->len = vpn_wr_len(w);
    vpn_store16(a->msg + 2, (uint16_t)a->len);
    return 0;
}

static void answer_reset(vpn_eap_answer *a, vpn_eap_result r)
{
    a->result = r;
    a->len = 0;
    vpn_eap_answer_wipe(a);
}

/* MSCHAPv2 header in front of its data (draft-kamath 2): OpCode, MS-CHAPv2-ID,
 * MS-Length (from the OpCode to the end of the message). */
static void ms_begin(vpn_wr *w, uint8_t opcode, uint8_t ms_id, size_t *ms_len_pos)
{
    *ms_len_pos = vpn_wr_len(w) + 2;
    vpn_wr_u8(w, opcode);
    vpn_wr_u8(w, ms_id);
    vpn_wr_u16(w, 0);
}

static void ms_end(vpn_eap_answer *a, size_t ms_len_pos)
{
    vpn_store16(a->msg + ms_len_pos, (uint16_t)(a->len - (ms_len_pos - 2)));
}

/* Reads the MSCHAPv2 header; MS-Length must cover exactly the type-data. */
static int ms_parse(const vpn_eap_msg *m, uint8_t *opcode, uint8_t *ms_id, vpn_rd *body)
{
    vpn_rd_init(body, m->data, m->data_len);
    uint16_t ms_len = 0;
    *ms_id = 0;
    if (vpn_rd_u8(body, opcode))
        return VPN_ERR_MALFORMED;
    /* Success and Failure Responses are the OpCode alone (draft-kamath 2.3, 2.5). */
    if (m->data_len == 1)
        return 0;
    vpn_rd_u8(body, ms_id);
    vpn_rd_u16(body, &ms_len);
    if (vpn_rd_err(body) || ms_len != m->data_len)
        return VPN_ERR_MALFORMED;
    return 0;
}

static bool name_ok(const uint8_t *p, size_t n)
{
    return n <= VPN_EAP_NAME_MAX && (n == 0 || memchr(p, 0, n) == NULL);
}

/* ---- the authenticator -------------------------------------------------------- */

enum { S_INIT, S_IDENTITY, S_METHOD, S_MS_SUCCESS, S_DONE };

struct vpn_eap_server {
    unsigned methods;
    bool query_identity;
    char identity[VPN_EAP_NAME_MAX + 1];
    char name[64];
    vpn_rng rng;
    vpn_eap_password_fn password;
    void *user;
    int state;
    uint8_t ident;   /* Identifier of the outstanding Request */
    uint8_t method;  /* enum vpn_eap_type in use */
    bool nak_seen;
    uint8_t chal[16];
    uint8_t ms_id;
    uint8_t msk[VPN_EAP_MSK_LEN];
};

static uint8_t best_method(unsigned m)
{
    if (m & VPN_EAP_M_MSCHAPV2)
        return VPN_EAP_T_MSCHAPV2;
    if (m & VPN_EAP_M_GTC)
        return VPN_EAP_T_GTC;
    if (m & VPN_EAP_M_MD5)
        return VPN_EAP_T_MD5;
    return 0;
}

static unsigned method_bit(uint8_t t)
{
    switch (t) {
    case VPN_EAP_T_MD5: return VPN_EAP_M_MD5;
    case VPN_EAP_T_GTC: return VPN_EAP_M_GTC;
    case VPN_EAP_T_MSCHAPV2: return VPN_EAP_M_MSCHAPV2;
    default: return 0;
    }
}

int vpn_eap_server_new(vpn_eap_server **out, const vpn_eap_server_params *p)
{
    if (out == NULL || p == NULL || p->password == NULL ||
        best_method(p->methods & (VPN_EAP_M_MD5 | VPN_EAP_M_GTC | VPN_EAP_M_MSCHAPV2)) == 0)
        return VPN_ERR_INVAL;
    if (!p->query_identity && (p->identity == NULL || p->identity[0] == '\0'))
        return VPN_ERR_INVAL;
    if (p->identity != NULL && strlen(p->identity) > VPN_EAP_NAME_MAX)
        return VPN_ERR_INVAL;
    if (p->server_name != NULL && strlen(p->server_name) >= sizeof((vpn_eap_server *)0)->name)
        return VPN_ERR_INVAL;
    vpn_eap_server *s = vpn_calloc(&p->alloc, 1, sizeof *s);
    if (s == NULL)
        return VPN_ERR_NOMEM;
    s->methods = p->methods;
    s->query_identity = p->query_identity;
    if (!p->query_identity)
        strcpy(s->identity, p->identity);
    strcpy(s->name, p->server_name != NULL ? p->server_name : "vpn");
    s->rng = p->rng;
    s->password = p->password;
    s->user = p->user;
    *out = s;
    return 0;
}

void vpn_eap_server_free(vpn_eap_server *s)
{
    if (s == NULL)
        return;
    OPENSSL_cleanse(s, sizeof *s);
    free(s);
}

const char *vpn_eap_server_identity(const vpn_eap_server *s)
{
    return s != NULL ? s->identity : "";
}

uint8_t vpn_eap_server_method(const vpn_eap_server *s)
{
    return s != NULL ? s->method : 0;
}

/* The method's first Request with a fresh challenge, Identifier id. */
static int method_request(vpn_eap_server *s, uint8_t method, uint8_t id, uint8_t chal[16],
                          uint8_t *ms_id, vpn_eap_answer *a)
{
    vpn_wr w;
    int rc;
    answer_reset(a, VPN_EAP_CONTINUE);
    if (method != VPN_EAP_T_GTC && (rc = vpn_rng_bytes(&s->rng, chal, 16)) != 0)
        return rc;
    msg_begin(&w, a, EAP_REQUEST, id, method);
    if (method == VPN_EAP_T_MD5) {
        /* RFC 3748 5.4 / RFC 1994 4.1: Value-Size, Value, Name. */
        vpn_wr_u8(&w, 16);
        vpn_wr_bytes(&w, chal, 16);
        vpn_wr_bytes(&w, s->name, strlen(s->name));
        return msg_end(&w, a);
    }
    if (method == VPN_EAP_T_GTC) {
        /* RFC 3748 5.6: a displayable prompt. */
        static const char prompt[] = "Password:";
        vpn_wr_bytes(&w, prompt, sizeof prompt - 1);
        return msg_end(&w, a);
    }
    /* RFC 2759 3 in draft-kamath 2.1: Value-Size 16, Challenge, Name. */
    size_t pos;
    uint8_t mid;
    if ((rc = vpn_rng_bytes(&s->rng, &mid, 1)) != 0)
        return rc;
    ms_begin(&w, MS_CHALLENGE, mid, &pos);
    vpn_wr_u8(&w, 16);
    vpn_wr_bytes(&w, chal, 16);
    vpn_wr_bytes(&w, s->name, strlen(s->name));
    if ((rc = msg_end(&w, a)) != 0)
        return rc;
    ms_end(a, pos);
    *ms_id = mid;
    return 0;
}

static int simple(vpn_eap_answer *a, uint8_t code, uint8_t id, vpn_eap_result r)
{
    vpn_wr w;
    answer_reset(a, r);
    msg_begin(&w, a, code, id, 0);
    return msg_end(&w, a);
}

int vpn_eap_server_start(vpn_eap_server *s, vpn_eap_answer *a)
{
    if (s == NULL || a == NULL)
        return VPN_ERR_INVAL;
    if (s->state != S_INIT)
        return VPN_ERR_STATE;
    uint8_t id;
    int rc = vpn_rng_bytes(&s->rng, &id, 1);
    if (rc)
        return rc;
    if (s->query_identity) {
        vpn_wr w;
        answer_reset(a, VPN_EAP_CONTINUE);
        msg_begin(&w, a, EAP_REQUEST, id, VPN_EAP_T_IDENTITY); /* RFC 3748 5.1 */
        if ((rc = msg_end(&w, a)) != 0)
            return rc;
        s->state = S_IDENTITY;
        s->ident = id;
        return 0;
    }
    uint8_t m = best_method(s->methods), chal[16], mid = 0;
    if ((rc = method_request(s, m, id, chal, &mid, a)) != 0)
        return rc;
    s->method = m;
    memcpy(s->chal, chal, 16);
    s->ms_id = mid;
    s->ident = id;
    s->state = S_METHOD;
    return 0;
}

/* Ends the conversation with an EAP-Failure. */
static int server_fail(vpn_eap_server *s, vpn_eap_answer *a)
{
    int rc = simple(a, EAP_FAILURE, (uint8_t)(s->ident + 1), VPN_EAP_FAILURE);
    if (!rc) {
        s->state = S_DONE;
        OPENSSL_cleanse(s->msk, sizeof s->msk);
    }
    return rc;
}

static int server_succeed(vpn_eap_server *s, vpn_eap_answer *a, bool with_msk)
{
    int rc = simple(a, EAP_SUCCESS, (uint8_t)(s->ident + 1), VPN_EAP_SUCCESS);
    if (rc)
        return rc;
    if (with_msk) {
        memcpy(a->msk, s->msk, VPN_EAP_MSK_LEN);
        a->msk_len = VPN_EAP_MSK_LEN;
    }
    s->state = S_DONE;
    OPENSSL_cleanse(s->msk, sizeof s->msk);
    return 0;
}

/* The user's password into pw; returns its length or a negative code
 * (VPN_ERR_NOTFOUND for an unknown user). */
static int lookup(vpn_eap_server *s, char pw[VPN_EAP_NAME_MAX + 1])
{
    int n = s->password(s->user, s->identity, pw, VPN_EAP_NAME_MAX + 1);
    if (n >= 0 && n > VPN_EAP_NAME_MAX)
        return VPN_ERR_OVERFLOW;
    return n;
}

static int verify_md5(vpn_eap_server *s, const vpn_eap_msg *m, vpn_eap_answer *a)
{
    /* RFC 1994 4.1: Value-Size, Value = MD5(Identifier | secret | challenge). */
    if (m->data_len < 17 || m->data[0] != 16)
        return VPN_ERR_MALFORMED;
    char pw[VPN_EAP_NAME_MAX + 1];
    int n = lookup(s, pw);
    if (n < 0) {
        OPENSSL_cleanse(pw, sizeof pw);
        return n == VPN_ERR_NOTFOUND ? server_fail(s, a) : n;
    }
    uint8_t want[16];
    piece v[3] = {{&m->ident, 1}, {pw, (size_t)n}, {s->chal, 16}};
    int rc = digest(EVP_md5(), v, 3, want);
    OPENSSL_cleanse(pw, sizeof pw);
    if (rc)
        return rc;
    return CRYPTO_memcmp(want, m->data + 1, 16) == 0 ? server_succeed(s, a, false)
                                                      : server_fail(s, a);
}

static int verify_gtc(vpn_eap_server *s, const vpn_eap_msg *m, vpn_eap_answer *a)
{
    /* RFC 3748 5.6: the Response is the user's answer to the prompt, here
     * the password; Cisco clients send "RESPONSE=user\0password". */
    const uint8_t *p = m->data;
    size_t plen = m->data_len;
    static const char tag[] = "RESPONSE=";
    if (plen >= sizeof tag - 1 && memcmp(p, tag, sizeof tag - 1) == 0) {
        const uint8_t *z = memchr(p, 0, plen);
        if (z == NULL)
            return VPN_ERR_MALFORMED;
        plen -= (size_t)(z + 1 - p);
        p = z + 1;
    }
    char pw[VPN_EAP_NAME_MAX + 1];
    int n = lookup(s, pw);
    if (n < 0) {
        OPENSSL_cleanse(pw, sizeof pw);
        return n == VPN_ERR_NOTFOUND ? server_fail(s, a) : n;
    }
    bool ok = (size_t)n == plen && CRYPTO_memcmp(pw, p, plen) == 0;
    OPENSSL_cleanse(pw, sizeof pw);
    return ok ? server_succeed(s, a, false) : server_fail(s, a);
}

static int verify_mschapv2(vpn_eap_server *s, const vpn_eap_msg *m, vpn_eap_answer *a)
{
    uint8_t op, mid;
    vpn_rd r;
    if (ms_parse(m, &op, &mid, &r))
        return VPN_ERR_MALFORMED;
    if (s->state == S_MS_SUCCESS) {
        /* draft-kamath 2.3: the peer acknowledges our Success Request. */
        if (m->data_len != 1 || (op != MS_SUCCESS && op != MS_FAILURE))
            return VPN_ERR_MALFORMED;
        return op == MS_SUCCESS ? server_succeed(s, a, true) : server_fail(s, a);
    }
    /* RFC 2759 4: Value-Size 49, Peer-Challenge, Reserved, NT-Response,
     * Flags, Name. */
    uint8_t vs = 0, peer_chal[16], reserved[8], nt[24], flags = 0;
    if (op != MS_RESPONSE || m->data_len == 1 || mid != s->ms_id)
        return VPN_ERR_MALFORMED;
    vpn_rd_u8(&r, &vs);
    vpn_rd_bytes(&r, peer_chal, 16);
    vpn_rd_bytes(&r, reserved, 8);
    vpn_rd_bytes(&r, nt, 24);
    vpn_rd_u8(&r, &flags);
    if (vpn_rd_err(&r) || vs != MS_RESPONSE_VALUE)
        return VPN_ERR_MALFORMED;
    const uint8_t *name = vpn_rd_cur(&r);
    size_t name_len = vpn_rd_left(&r);
    if (!name_ok(name, name_len))
        return VPN_ERR_MALFORMED;

    char pw[VPN_EAP_NAME_MAX + 1];
    int n = lookup(s, pw);
    if (n < 0) {
        OPENSSL_cleanse(pw, sizeof pw);
        return n == VPN_ERR_NOTFOUND ? server_fail(s, a) : n;
    }
    uint8_t ph[16], want[24];
    int rc = vpn_mschapv2_pw_hash(pw, (size_t)n, ph);
    OPENSSL_cleanse(pw, sizeof pw);
    if (rc == VPN_ERR_MALFORMED) {
        OPENSSL_cleanse(ph, sizeof ph);
        return server_fail(s, a); /* a password MSCHAPv2 cannot carry */
    }
    if (!rc)
        rc = vpn_mschapv2_nt_response(s->chal, peer_chal, (const char *)name, name_len, ph, want);
    if (rc) {
        OPENSSL_cleanse(ph, sizeof ph);
        return rc;
    }
    if (CRYPTO_memcmp(want, nt, 24) != 0) {
        OPENSSL_cleanse(ph, sizeof ph);
        return server_fail(s, a);
    }
    /* draft-kamath 2.3: Success Request with the authenticator response. */
    char ar[43];
    uint8_t msk[VPN_EAP_MSK_LEN];
    rc = vpn_mschapv2_auth_response(ph, nt, peer_chal, s->chal, (const char *)name, name_len, ar);
    if (!rc)
        rc = vpn_mschapv2_msk(ph, nt, msk);
    OPENSSL_cleanse(ph, sizeof ph);
    if (rc)
        return rc;
    vpn_wr w;
    size_t pos;
    uint8_t id = (uint8_t)(s->ident + 1);
    answer_reset(a, VPN_EAP_CONTINUE);
    msg_begin(&w, a, EAP_REQUEST, id, VPN_EAP_T_MSCHAPV2);
    ms_begin(&w, MS_SUCCESS, mid, &pos);
    vpn_wr_bytes(&w, ar, 42);
    static const char welcome[] = " M=Welcome";
    vpn_wr_bytes(&w, welcome, sizeof welcome - 1);
    if ((rc = msg_end(&w, a)) != 0) {
        OPENSSL_cleanse(msk, sizeof msk);
        return rc;
    }
    ms_end(a, pos);
    memcpy(s->msk, msk, sizeof msk);
    OPENSSL_cleanse(msk, sizeof msk);
    s->ident = id;
    s->state = S_MS_SUCCESS;
    return 0;
}

/* RFC 3748 5.3.1: the peer proposes other types; take the first we allow,
 * once, else give up. */
static int server_nak(vpn_eap_server *s, const vpn_eap_msg *m, vpn_eap_answer *a)
{
    if (s->state != S_METHOD || m->data_len == 0)
        return VPN_ERR_MALFORMED;
    uint8_t pick = 0;
    for (size_t i = 0; i < m->data_len && pick == 0; i++)
        if (m->data[i] != s->method && (method_bit(m->data[i]) & s->methods))
            pick = m->data[i];
    if (pick == 0 || s->nak_seen)
        return server_fail(s, a);
    uint8_t chal[16], mid = 0, id = (uint8_t)(s->ident + 1);
    int rc = method_request(s, pick, id, chal, &mid, a);
    if (rc)
        return rc;
    s->nak_seen = true;
    s->method = pick;
    memcpy(s->chal, chal, 16);
    s->ms_id = mid;
    s->ident = id;
    return 0;
}

int vpn_eap_server_process(vpn_eap_server *s, const uint8_t *msg, size_t len, vpn_eap_answer *a)
{
    if (s == NULL || a == NULL)
        return VPN_ERR_INVAL;
    vpn_eap_msg m;
    int rc = vpn_eap_parse(msg, len, &m);
    if (rc)
        return rc;
    /* RFC 3748 4.1: a Response must match the outstanding Request. */
    if (s->state == S_INIT || s->state == S_DONE || m.code != EAP_RESPONSE || m.ident != s->ident)
        return VPN_ERR_STATE;
    if (s->state == S_IDENTITY) {
        if (m.type != VPN_EAP_T_IDENTITY || !name_ok(m.data, m.data_len) || m.data_len == 0)
            return VPN_ERR_MALFORMED;
        uint8_t meth = best_method(s->methods), chal[16], mid = 0, id = (uint8_t)(s->ident + 1);
        if ((rc = method_request(s, meth, id, chal, &mid, a)) != 0)
            return rc;
        memcpy(s->identity, m.data, m.data_len);
        s->identity[m.data_len] = '\0';
        s->method = meth;
        memcpy(s->chal, chal, 16);
        s->ms_id = mid;
        s->ident = id;
        s->state = S_METHOD;
        return 0;
    }
    if (m.type == VPN_EAP_T_NAK)
        return server_nak(s, &m, a);
    if (m.type != s->method)
        return VPN_ERR_MALFORMED;
    switch (s->method) {
    case VPN_EAP_T_MD5: return verify_md5(s, &m, a);
    case VPN_EAP_T_GTC: return verify_gtc(s, &m, a);
    default: return verify_mschapv2(s, &m, a);
    }
}

/* ---- the peer ----------------------------------------------------------- */

enum { P_RUN, P_MS_WAIT, P_METHOD_OK, P_DONE };

struct vpn_eap_peer {
    unsigned methods;
    char identity[VPN_EAP_NAME_MAX + 1];
    char password[VPN_EAP_NAME_MAX + 1];
    vpn_rng rng;
    int state;
    uint8_t method;
    char auth_resp[43]; /* the MSCHAPv2 Success we expect */
    uint8_t msk[VPN_EAP_MSK_LEN];
    size_t msk_len;
};

int vpn_eap_peer_new(vpn_eap_peer **out, const vpn_eap_peer_params *p)
{
    if (out == NULL || p == NULL || p->identity == NULL || p->password == NULL ||
        strlen(p->identity) > VPN_EAP_NAME_MAX || strlen(p->password) > VPN_EAP_NAME_MAX ||
        (p->methods & (VPN_EAP_M_MD5 | VPN_EAP_M_GTC | VPN_EAP_M_MSCHAPV2)) == 0)
        return VPN_ERR_INVAL;
    vpn_eap_peer *e = vpn_calloc(&p->alloc, 1, sizeof *e);
    if (e == NULL)
        return VPN_ERR_NOMEM;
    e->methods = p->methods;
    strcpy(e->identity, p->identity);
    strcpy(e->password, p->password);
    e->rng = p->rng;
    *out = e;
    return 0;
}

void vpn_eap_peer_free(vpn_eap_peer *p)
{
    if (p == NULL)
        return;
    OPENSSL_cleanse(p, sizeof *p);
    free(p);
}

/* RFC 3748 5.3.1: Legacy Nak listing the methods we accept. */
static int peer_nak(vpn_eap_peer *p, const vpn_eap_msg *m, vpn_eap_answer *a)
{
    vpn_wr w;
    answer_reset(a, VPN_EAP_CONTINUE);
    msg_begin(&w, a, EAP_RESPONSE, m->ident, VPN_EAP_T_NAK);
    if (p->methods & VPN_EAP_M_MSCHAPV2)
        vpn_wr_u8(&w, VPN_EAP_T_MSCHAPV2);
    if (p->methods & VPN_EAP_M_GTC)
        vpn_wr_u8(&w, VPN_EAP_T_GTC);
    if (p->methods & VPN_EAP_M_MD5)
        vpn_wr_u8(&w, VPN_EAP_T_MD5);
    return msg_end(&w, a);
}

static int peer_mschapv2(vpn_eap_peer *p, const vpn_eap_msg *m, vpn_eap_answer *a)
{
    uint8_t op, mid;
    vpn_rd r;
    if (ms_parse(m, &op, &mid, &r) || m->data_len == 1)
        return VPN_ERR_MALFORMED;
    vpn_wr w;
    size_t pos;
    int rc;
    if (op == MS_CHALLENGE) {
        uint8_t vs = 0, chal[16];
        vpn_rd_u8(&r, &vs);
        vpn_rd_bytes(&r, chal, 16);
        if (vpn_rd_err(&r) || vs != 16 || p->state == P_MS_WAIT || p->state == P_METHOD_OK)
            return vpn_rd_err(&r) || vs != 16 ? VPN_ERR_MALFORMED : VPN_ERR_STATE;
        uint8_t peer_chal[16], ph[16], nt[24];
        char ar[43];
        size_t ulen = strlen(p->identity);
        if ((rc = vpn_rng_bytes(&p->rng, peer_chal, 16)) != 0)
            return rc;
        rc = vpn_mschapv2_pw_hash(p->password, strlen(p->password), ph);
        if (!rc)
            rc = vpn_mschapv2_nt_response(chal, peer_chal, p->identity, ulen, ph, nt);
        if (!rc)
            rc = vpn_mschapv2_auth_response(ph, nt, peer_chal, chal, p->identity, ulen, ar);
        uint8_t msk[VPN_EAP_MSK_LEN];
        if (!rc)
            rc = vpn_mschapv2_msk(ph, nt, msk);
        OPENSSL_cleanse(ph, sizeof ph);
        if (rc)
            return rc;
        answer_reset(a, VPN_EAP_CONTINUE);
        msg_begin(&w, a, EAP_RESPONSE, m->ident, VPN_EAP_T_MSCHAPV2);
        ms_begin(&w, MS_RESPONSE, mid, &pos);
        vpn_wr_u8(&w, MS_RESPONSE_VALUE);
        vpn_wr_bytes(&w, peer_chal, 16);
        vpn_wr_zero(&w, 8);
        vpn_wr_bytes(&w, nt, 24);
        vpn_wr_u8(&w, 0);
        vpn_wr_bytes(&w, p->identity, ulen);
        if ((rc = msg_end(&w, a)) != 0) {
            OPENSSL_cleanse(msk, sizeof msk);
            return rc;
        }
        ms_end(a, pos);
        memcpy(p->auth_resp, ar, sizeof ar);
        memcpy(p->msk, msk, sizeof msk);
        OPENSSL_cleanse(msk, sizeof msk);
        p->method = VPN_EAP_T_MSCHAPV2;
        p->state = P_MS_WAIT;
        return 0;
    }
    if (op == MS_SUCCESS) {
        /* RFC 2759 5 / 8.8: "S=<40 hex>" first; the peer MUST check it. */
        if (p->state != P_MS_WAIT)
            return VPN_ERR_STATE;
        const uint8_t *t = vpn_rd_cur(&r);
        size_t tl = vpn_rd_left(&r);
        if (tl < 42)
            return VPN_ERR_MALFORMED;
        for (int i = 0; i < 42; i++) {
            uint8_t c = t[i];
            if (c >= 'a' && c <= 'f')
                c = (uint8_t)(c - 'a' + 'A');
            if (c != (uint8_t)p->auth_resp[i])
                return VPN_ERR_AUTH;
        }
        answer_reset(a, VPN_EAP_CONTINUE);
        msg_begin(&w, a, EAP_RESPONSE, m->ident, VPN_EAP_T_MSCHAPV2);
        vpn_wr_u8(&w, MS_SUCCESS);
        if ((rc = msg_end(&w, a)) != 0)
            return rc;
        p->msk_len = VPN_EAP_MSK_LEN;
        p->state = P_METHOD_OK;
        return 0;
    }
    if (op == MS_FAILURE) {
        /* draft-kamath 2.5: acknowledge; the EAP-Failure follows. */
        if (p->state != P_MS_WAIT)
            return VPN_ERR_STATE;
        answer_reset(a, VPN_EAP_CONTINUE);
        msg_begin(&w, a, EAP_RESPONSE, m->ident, VPN_EAP_T_MSCHAPV2);
        vpn_wr_u8(&w, MS_FAILURE);
        if ((rc = msg_end(&w, a)) != 0)
            return rc;
        OPENSSL_cleanse(p->msk, sizeof p->msk);
        p->state = P_RUN;
        return 0;
    }
    return VPN_ERR_MALFORMED;
}

int vpn_eap_peer_process(vpn_eap_peer *p, const uint8_t *msg, size_t len, vpn_eap_answer *a)
{
    if (p == NULL || a == NULL)
        return VPN_ERR_INVAL;
    vpn_eap_msg m;
    int rc = vpn_eap_parse(msg, len, &m);
    if (rc)
        return rc;
    if (p->state == P_DONE || m.code == EAP_RESPONSE)
        return VPN_ERR_STATE;
    if (m.code == EAP_SUCCESS) {
        /* RFC 3748 4.2: a Success before the method has finished (and, for
         * MSCHAPv2, before the server proved it knows the password) is not
         * believed. */
        if (p->state != P_METHOD_OK)
            return VPN_ERR_STATE;
        answer_reset(a, VPN_EAP_SUCCESS);
        memcpy(a->msk, p->msk, p->msk_len);
        a->msk_len = p->msk_len;
        OPENSSL_cleanse(p->msk, sizeof p->msk);
        p->state = P_DONE;
        return 0;
    }
    if (m.code == EAP_FAILURE) {
        answer_reset(a, VPN_EAP_FAILURE);
        OPENSSL_cleanse(p->msk, sizeof p->msk);
        p->state = P_DONE;
        return 0;
    }
    vpn_wr w;
    if (m.type == VPN_EAP_T_IDENTITY || m.type == VPN_EAP_T_NOTIFICATION) {
        /* RFC 3748 5.1, 5.2: answer an identity; acknowledge a notification. */
        if (p->state != P_RUN && m.type == VPN_EAP_T_IDENTITY)
            return VPN_ERR_STATE;
        answer_reset(a, VPN_EAP_CONTINUE);
        msg_begin(&w, a, EAP_RESPONSE, m.ident, m.type);
        if (m.type == VPN_EAP_T_IDENTITY)
            vpn_wr_bytes(&w, p->identity, strlen(p->identity));
        return msg_end(&w, a);
    }
    if (m.type == VPN_EAP_T_NAK)
        return VPN_ERR_MALFORMED; /* only ever a Response */
    if ((method_bit(m.type) & p->methods) == 0)
        return peer_nak(p, &m, a);
    if (m.type == VPN_EAP_T_MSCHAPV2)
        return peer_mschapv2(p, &m, a);
    if (p->state != P_RUN)
        return VPN_ERR_STATE;
    answer_reset(a, VPN_EAP_CONTINUE);
    msg_begin(&w, a, EAP_RESPONSE, m.ident, m.type);
    if (m.type == VPN_EAP_T_MD5) {
        if (m.data_len < 1 || m.data[0] == 0 || m.data[0] > m.data_len - 1)
            return VPN_ERR_MALFORMED;
        uint8_t h[16];
        piece v[3] = {{&m.ident, 1}, {p->password, strlen(p->password)}, {m.data + 1, m.data[0]}};
        if ((rc = digest(EVP_md5(), v, 3, h)) != 0)
            return rc;
        vpn_wr_u8(&w, 16);
        vpn_wr_bytes(&w, h, 16);
        vpn_wr_bytes(&w, p->identity, strlen(p->identity));
    } else {
        vpn_wr_bytes(&w, p->password, strlen(p->password)); /* GTC */
    }
    if ((rc = msg_end(&w, a)) != 0)
        return rc;
    p->method = m.type;
    p->msk_len = 0;
    p->state = P_METHOD_OK;
    return 0;
}
