/* Shared GDOI helpers: GROUPKEY-PULL protection (RFC 6407 3.2), KEK crypto. */
#include "gdoi/gdoi-priv.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "common/vpn-err.h"
#include "crypto/cipher.h"
#include "crypto/crypto-ids.h"
#include "crypto/prf.h"
#include "isakmp/isakmp-const.h"

static int pull_hash(vpn_ikev1_sa *p1, const uint8_t *in, size_t in_len, uint8_t *out,
                     size_t *out_len)
{
    vpn_iov d = {in, in_len};
    return vpn_ikev1_sa_prf_a(p1, &d, 1, out, VPN_PRF_MAX_LEN, out_len);
}

int gdoi_pull_seal(vpn_ikev1_sa *p1, vpn_isakmp_bld *b, unsigned n, vpn_isakmp_view ni_b,
                   vpn_isakmp_view nr_b, uint8_t *slot, uint8_t iv[VPN_IKEV1_BLOCK],
                   size_t *len, uint8_t *view, size_t *view_len)
{
    uint8_t in[GDOI_MSG_MAX], plain[GDOI_MSG_MAX], h[VPN_PRF_MAX_LEN];
    uint8_t *buf = b->w.buf;
    size_t hl, plen;
    vpn_wr w;
    int rc;

    if ((rc = vpn_isakmp_bld_pad(b, vpn_ikev1_sa_block(p1), len)))
        return rc;
    vpn_wr_init(&w, in, sizeof in);
    if ((rc = vpn_gdoi_pull_hash_input_bld(n, b, ni_b, nr_b, &w)))
        return rc;
    if ((rc = pull_hash(p1, in, vpn_wr_len(&w), h, &hl)))
        return rc;
    memcpy(slot, h, hl);
    plen = *len - VPN_ISAKMP_HDR_LEN;
    memcpy(plain, buf + VPN_ISAKMP_HDR_LEN, plen);
    if ((rc = vpn_ikev1_sa_encrypt(p1, iv, buf + VPN_ISAKMP_HDR_LEN, plen)))
        return rc;
    vpn_wr_init(&w, view, GDOI_MSG_MAX);
    rc = vpn_isakmp_decrypted_view(buf, *len, plain, plen, &w);
    *view_len = rc ? 0 : vpn_wr_len(&w);
    OPENSSL_cleanse(plain, sizeof plain);
    return 0;
}

int gdoi_pull_open(vpn_ikev1_sa *p1, const uint8_t *dg, size_t len, unsigned n,
                   vpn_isakmp_view ni_b, vpn_isakmp_view nr_b, uint8_t iv[VPN_IKEV1_BLOCK],
                   vpn_isakmp_msg *m, uint8_t *plain)
{
    uint8_t tiv[VPN_IKEV1_BLOCK], in[GDOI_MSG_MAX], h[VPN_PRF_MAX_LEN];
    vpn_wr w;
    size_t hl;
    int rc;

    if ((rc = vpn_isakmp_msg_parse(dg, len, m)))
        return rc;
    if (!m->encrypted || m->hdr.exchange != VPN_GDOI_EXCH_PULL || m->body_len == 0 ||
        m->body_len % vpn_ikev1_sa_block(p1) || m->body_len > GDOI_MSG_MAX)
        return VPN_ERR_MALFORMED;
    memcpy(plain, m->body, m->body_len);
    memcpy(tiv, iv, sizeof tiv);
    if ((rc = vpn_ikev1_sa_decrypt(p1, tiv, plain, m->body_len)))
        return rc;
    if ((rc = vpn_isakmp_msg_parse_plain(m, plain, m->body_len, NULL)))
        return rc;
    vpn_wr_init(&w, in, sizeof in);
    if ((rc = vpn_gdoi_pull_hash_input_msg(n, m, ni_b, nr_b, &w)))
        return rc == VPN_ERR_INVAL ? VPN_ERR_MALFORMED : rc;
    if ((rc = pull_hash(p1, in, vpn_wr_len(&w), h, &hl)))
        return rc;
    if (m->pl[0].body_len != hl || vpn_ikev1_memcmp_ct(h, m->pl[0].body, hl))
        return VPN_ERR_AUTH;
    memcpy(iv, tiv, sizeof tiv);
    return 0;
}

int gdoi_kek_crypt(const vpn_alloc *a, const uint8_t key[GDOI_KEK_KEY_LEN],
                   const uint8_t iv[GDOI_KEK_IV_LEN], uint8_t *buf, size_t len, bool enc)
{
    vpn_cipher *c;
    int rc;

    if (len == 0 || len % 16)
        return VPN_ERR_MALFORMED;
    if ((rc = vpn_cipher_new_a(a, &c, VPN_ENCR_AES_CBC, 256, key, GDOI_KEK_KEY_LEN, enc)))
        return rc;
    rc = enc ? vpn_cipher_encrypt(c, iv, buf, len) : vpn_cipher_decrypt(c, iv, buf, len);
    vpn_cipher_del(c);
    return rc;
}

int gdoi_kek_cipher(uint16_t alg, uint16_t key_bits, uint16_t *encr_id, size_t *key_len,
                    size_t *blk)
{
    /* RFC 6407 5.3.3 KEK_ALGORITHM, 5.3.4 KEK_KEY_LENGTH (bits) */
    if (alg == VPN_GDOI_KEK_ALG_AES &&
        (key_bits == 128 || key_bits == 192 || key_bits == 256)) {
        *encr_id = VPN_ENCR_AES_CBC;
        *key_len = key_bits / 8;
        *blk = 16;
        return 0;
    }
    if (alg == VPN_GDOI_KEK_ALG_3DES && (key_bits == 0 || key_bits == 192)) {
        *encr_id = VPN_ENCR_3DES;
        *key_len = 24;
        *blk = 8;
        return 0;
    }
    return VPN_ERR_UNSUPPORTED;
}

int gdoi_kek_crypt_alg(const vpn_alloc *a, uint16_t alg, uint16_t key_bits, const uint8_t *key,
                       const uint8_t *iv, uint8_t *buf, size_t len, bool enc)
{
    uint16_t id;
    size_t kl, blk;
    vpn_cipher *c;
    int rc;

    if ((rc = gdoi_kek_cipher(alg, key_bits, &id, &kl, &blk)))
        return rc;
    if (len == 0 || len % blk)
        return VPN_ERR_MALFORMED;
    if ((rc = vpn_cipher_new_a(a, &c, id, id == VPN_ENCR_3DES ? 0 : key_bits, key, kl, enc)))
        return rc;
    rc = enc ? vpn_cipher_encrypt(c, iv, buf, len) : vpn_cipher_decrypt(c, iv, buf, len);
    vpn_cipher_del(c);
    return rc;
}

static const char *md_name(uint8_t hash)
{
    switch (hash) {
    case VPN_IKE_HASH_SHA1: return "SHA1";
    case VPN_IKE_HASH_SHA2_256: return "SHA256";
    case VPN_IKE_HASH_SHA2_384: return "SHA384";
    case VPN_IKE_HASH_SHA2_512: return "SHA512";
    default: return NULL;
    }
}

/* gdoid's form (see gdoi-priv.h): PKCS#1 v1.5 type 1 over the bare hash. */
static int push_sig_gdoid(const vpn_sig_key *pub, uint8_t hash, const vpn_isakmp_msg *m,
                          const vpn_isakmp_payload *sig)
{
    uint8_t hdr[VPN_ISAKMP_HDR_LEN], md[EVP_MAX_MD_SIZE];
    unsigned mdl = 0;
    size_t upto = (size_t)(sig->raw + sig->raw_len - m->chain);
    const char *name = md_name(hash);
    EVP_MD *evp = name ? EVP_MD_fetch(NULL, name, NULL) : NULL;
    EVP_MD_CTX *x = EVP_MD_CTX_new();
    EVP_PKEY_CTX *c = NULL;
    int rc = VPN_ERR_AUTH;

    if (!evp || !x || vpn_sig_key_type_of(pub) != VPN_SIG_KEY_RSA)
        goto out;
    /* the header as before encryption padding: length up to the SIG's end */
    memcpy(hdr, m->raw, sizeof hdr);
    vpn_store32(hdr + 24, (uint32_t)(VPN_ISAKMP_HDR_LEN + upto));
    if (EVP_DigestInit_ex(x, evp, NULL) != 1 ||
        EVP_DigestUpdate(x, VPN_GDOI_PUSH_SIG_LABEL, sizeof VPN_GDOI_PUSH_SIG_LABEL - 1) != 1 ||
        EVP_DigestUpdate(x, hdr, sizeof hdr) != 1 ||
        EVP_DigestUpdate(x, m->chain, (size_t)(sig->raw - m->chain)) != 1 ||
        EVP_DigestFinal_ex(x, md, &mdl) != 1)
        goto out;
    c = EVP_PKEY_CTX_new(vpn_sig_key_evp(pub), NULL);
    if (c && EVP_PKEY_verify_init(c) == 1 &&
        EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) == 1 &&
        EVP_PKEY_verify(c, sig->body, sig->body_len, md, mdl) == 1)
        rc = 0;
out:
    EVP_PKEY_CTX_free(c);
    EVP_MD_CTX_free(x);
    EVP_MD_free(evp);
    return rc;
}

int gdoi_push_sign_gdoid(const vpn_sig_key *key, uint8_t hash, const vpn_isakmp_bld *b,
                         uint8_t *sig, size_t sig_len)
{
    uint8_t hdr[VPN_ISAKMP_HDR_LEN], md[EVP_MAX_MD_SIZE];
    unsigned mdl = 0;
    size_t sl = sig_len;
    vpn_isakmp_view before;
    const char *name = md_name(hash);
    EVP_MD *evp = name ? EVP_MD_fetch(NULL, name, NULL) : NULL;
    EVP_MD_CTX *x = EVP_MD_CTX_new();
    int rc = VPN_ERR_CRYPTO;

    if (!b->done || b->n == 0 || b->pl_type[b->n - 1] != VPN_ISAKMP_PL_SIG ||
        vpn_isakmp_bld_before(b, b->n - 1, &before) ||
        vpn_sig_key_type_of(key) != VPN_SIG_KEY_RSA) {
        rc = VPN_ERR_INVAL;
        goto out;
    }
    if (!evp || !x)
        goto out;
    /* the header with the E flag, its length up to the end of SIG */
    memcpy(hdr, b->w.buf, sizeof hdr);
    hdr[19] |= VPN_ISAKMP_FLAG_E;
    vpn_store32(hdr + 24, (uint32_t)(VPN_ISAKMP_HDR_LEN + before.len + VPN_ISAKMP_GEN_HDR_LEN +
                                     sig_len));
    if (EVP_DigestInit_ex(x, evp, NULL) != 1 ||
        EVP_DigestUpdate(x, VPN_GDOI_PUSH_SIG_LABEL, sizeof VPN_GDOI_PUSH_SIG_LABEL - 1) != 1 ||
        EVP_DigestUpdate(x, hdr, sizeof hdr) != 1 ||
        EVP_DigestUpdate(x, before.p, before.len) != 1 || EVP_DigestFinal_ex(x, md, &mdl) != 1)
        goto out;
    /* checked before it leaves, as vpn_sig_sign's (crypto/sig.h) */
    if ((rc = vpn_sig_rsa_raw_sign(key, md, mdl, sig, &sl)) == 0 && sl != sig_len)
        rc = VPN_ERR_CRYPTO;
out:
    EVP_MD_CTX_free(x);
    EVP_MD_free(evp);
    return rc;
}

int gdoi_push_sig_verify(const vpn_sig_key *pub, uint8_t hash, const vpn_isakmp_msg *m,
                         bool *gdoid_form)
{
    uint8_t in[GDOI_MSG_MAX + 64];
    const vpn_isakmp_payload *sig;
    vpn_sig_alg alg;
    vpn_wr w;
    int rc;

    *gdoid_form = false;
    if (m->n == 0 || m->pl[m->n - 1].type != VPN_ISAKMP_PL_SIG)
        return VPN_ERR_MALFORMED;
    sig = &m->pl[m->n - 1];
    vpn_wr_init(&w, in, sizeof in);
    if ((rc = vpn_gdoi_push_sig_input_msg(m, &w)))
        return rc;
    if (vpn_sig_alg_init(&alg, VPN_SIG_RSA_PKCS1, hash) == 0 &&
        vpn_sig_verify(pub, &alg, in, vpn_wr_len(&w), sig->body, sig->body_len) == 0)
        return 0;
    if (push_sig_gdoid(pub, hash, m, sig))
        return VPN_ERR_AUTH;
    *gdoid_form = true;
    return 0;
}

uint16_t gdoi_auth_alg_of(uint16_t integ_id)
{
    switch (integ_id) {
    case VPN_AUTH_HMAC_SHA1_96: return VPN_IPSEC_DOI_AUTH_HMAC_SHA1;
    case VPN_AUTH_HMAC_SHA2_256_128: return VPN_IPSEC_DOI_AUTH_HMAC_SHA2_256;
    case VPN_AUTH_HMAC_SHA2_384_192: return VPN_IPSEC_DOI_AUTH_HMAC_SHA2_384;
    case VPN_AUTH_HMAC_SHA2_512_256: return VPN_IPSEC_DOI_AUTH_HMAC_SHA2_512;
    default: return 0;
    }
}

uint16_t gdoi_integ_of(uint16_t auth_alg)
{
    switch (auth_alg) {
    case VPN_IPSEC_DOI_AUTH_HMAC_SHA1: return VPN_AUTH_HMAC_SHA1_96;
    case VPN_IPSEC_DOI_AUTH_HMAC_SHA2_256: return VPN_AUTH_HMAC_SHA2_256_128;
    case VPN_IPSEC_DOI_AUTH_HMAC_SHA2_384: return VPN_AUTH_HMAC_SHA2_384_192;
    case VPN_IPSEC_DOI_AUTH_HMAC_SHA2_512: return VPN_AUTH_HMAC_SHA2_512_256;
    default: return VPN_INTEG_NONE;
    }
}

int gdoi_tek_key_lens(uint16_t encr_id, uint16_t key_bits, uint16_t integ_id, size_t *alg_len,
                      size_t *integ_len)
{
    const vpn_cipher_info *ci;
    const vpn_integ_info *ii;

    if (encr_id != VPN_ENCR_AES_CBC && encr_id != VPN_ENCR_AES_GCM_16 && encr_id != VPN_ENCR_3DES)
        return VPN_ERR_UNSUPPORTED;
    if (vpn_cipher_lookup(encr_id, key_bits, &ci))
        return VPN_ERR_UNSUPPORTED;
    *alg_len = ci->key_len; /* GCM: key and 4-octet salt (RFC 4106 8.1) */
    *integ_len = 0;
    if (ci->aead)
        return integ_id == VPN_INTEG_NONE ? 0 : VPN_ERR_UNSUPPORTED;
    if (integ_id == VPN_INTEG_NONE || vpn_integ_lookup(integ_id, &ii))
        return VPN_ERR_UNSUPPORTED;
    *integ_len = ii->key_len;
    return 0;
}

/* ---- params constructors (the engine contract; the positional ones stay) ---------- */

int vpn_gdoi_ks_new_with(vpn_gdoi_ks **out, const vpn_gdoi_ks_params *p)
{
    if (p == NULL) {
        if (out)
            *out = NULL;
        return VPN_ERR_INVAL;
    }
    return vpn_gdoi_ks_new(out, p->cfg, p->rng, p->log, p->send, p->user, p->now);
}

int vpn_gdoi_gm_new_with(vpn_gdoi_gm **out, const vpn_gdoi_gm_params *p)
{
    if (p == NULL) {
        if (out)
            *out = NULL;
        return VPN_ERR_INVAL;
    }
    return vpn_gdoi_gm_new(out, p->cfg, p->rng, p->log, p->send, p->user);
}
