/* IKE SA keys, Encrypted payload protection, AUTH octets, NAT-D and cookies. */
#include "ikev2/ikev2-crypto.h"

#include <stdbool.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/vpn-err.h"
#include "common/wire.h"

/* RFC 7296 3.1 and 3.2: the IKE header and the generic payload header. */
enum { IKE_HDR = 28, GEN_HDR = 4 };

void vpn_ikev2_crypto_free(vpn_ikev2_crypto *c)
{
    if (c == NULL)
        return;
    vpn_cipher_del(c->enc);
    vpn_cipher_del(c->dec);
    vpn_integ_del(c->mac_out);
    vpn_integ_del(c->mac_in);
    vpn_ikev2_keys_wipe(&c->keys);
    OPENSSL_cleanse(c, sizeof *c);
}

static int key_contexts(vpn_ikev2_crypto *c, const vpn_alloc *a)
{
    const vpn_key *e_out, *e_in, *a_out, *a_in;
    const vpn_ikev2_suite *suite = &c->suite;
    int rc;

    /* RFC 7296 2.14: SK_ei/SK_ai protect what the original initiator sends. */
    e_out = c->initiator ? &c->keys.sk_ei : &c->keys.sk_er;
    e_in = c->initiator ? &c->keys.sk_er : &c->keys.sk_ei;
    a_out = c->initiator ? &c->keys.sk_ai : &c->keys.sk_ar;
    a_in = c->initiator ? &c->keys.sk_ar : &c->keys.sk_ai;
    if ((rc = vpn_cipher_new_a(a, &c->enc, suite->encr, suite->encr_key_bits, e_out->b, e_out->len,
                               true)) != 0 ||
        (rc = vpn_cipher_new_a(a, &c->dec, suite->encr, suite->encr_key_bits, e_in->b, e_in->len,
                               false)) != 0)
        return rc;
    if (!c->cinfo->aead &&
        ((rc = vpn_integ_new_a(a, &c->mac_out, suite->integ, a_out->b, a_out->len)) != 0 ||
         (rc = vpn_integ_new_a(a, &c->mac_in, suite->integ, a_in->b, a_in->len)) != 0))
        return rc;
    return 0;
}

static int lookups(vpn_ikev2_crypto *c, const vpn_ikev2_suite *suite, bool initiator)
{
    int rc;

    memset(c, 0, sizeof *c);
    c->suite = *suite;
    c->initiator = initiator;
    if ((rc = vpn_cipher_lookup(suite->encr, suite->encr_key_bits, &c->cinfo)) != 0 ||
        (rc = vpn_prf_lookup(suite->prf, &c->pinfo)) != 0)
        return rc;
    if (!c->cinfo->aead && (rc = vpn_integ_lookup(suite->integ, &c->iinfo)) != 0)
        return rc;
    return 0;
}

int vpn_ikev2_crypto_init(vpn_ikev2_crypto *c, const vpn_ikev2_suite *suite,
                          const vpn_key *skeyseed, vpn_iov ni, vpn_iov nr,
                          const uint8_t spii[8], const uint8_t spir[8], bool initiator)
{
    return vpn_ikev2_crypto_init_a(NULL, c, suite, skeyseed, ni, nr, spii, spir, initiator);
}

int vpn_ikev2_crypto_init_a(const vpn_alloc *a, vpn_ikev2_crypto *c, const vpn_ikev2_suite *suite,
                            const vpn_key *skeyseed, vpn_iov ni, vpn_iov nr, const uint8_t spii[8],
                            const uint8_t spir[8], bool initiator)
{
    int rc;

    if (c == NULL || suite == NULL)
        return VPN_ERR_INVAL;
    if ((rc = lookups(c, suite, initiator)) != 0 ||
        (rc = vpn_ikev2_ike_keys_derive(suite, skeyseed, ni, nr, spii, spir, &c->keys)) != 0 ||
        (rc = key_contexts(c, a)) != 0) {
        vpn_ikev2_crypto_free(c);
        return rc;
    }
    return 0;
}

int vpn_ikev2_crypto_init_keys(vpn_ikev2_crypto *c, const vpn_ikev2_suite *suite,
                               const vpn_ikev2_keys *keys, bool initiator)
{
    return vpn_ikev2_crypto_init_keys_a(NULL, c, suite, keys, initiator);
}

int vpn_ikev2_crypto_init_keys_a(const vpn_alloc *a, vpn_ikev2_crypto *c,
                                 const vpn_ikev2_suite *suite, const vpn_ikev2_keys *keys,
                                 bool initiator)
{
    int rc;

    if (c == NULL || suite == NULL || keys == NULL)
        return VPN_ERR_INVAL;
    if ((rc = lookups(c, suite, initiator)) != 0) {
        vpn_ikev2_crypto_free(c);
        return rc;
    }
    c->keys = *keys;
    if ((rc = key_contexts(c, a)) != 0) {
        vpn_ikev2_crypto_free(c);
        return rc;
    }
    return 0;
}

size_t vpn_ikev2_sk_block_len(const vpn_ikev2_crypto *c)
{
    return c->cinfo->id == VPN_ENCR_AES_CBC ? c->cinfo->block_len : 1;
}

size_t vpn_ikev2_sk_iv_len(const vpn_ikev2_crypto *c)
{
    return c->cinfo->iv_len;
}

size_t vpn_ikev2_sk_icv_len(const vpn_ikev2_crypto *c)
{
    return c->cinfo->aead ? c->cinfo->icv_len : c->iinfo->icv_len;
}

static bool layout_ok(const vpn_ikev2_crypto *c, size_t iv_off, size_t ct_off, size_t ct_len,
                      size_t icv_off)
{
    return iv_off >= IKE_HDR + GEN_HDR && ct_off == iv_off + c->cinfo->iv_len &&
           icv_off == ct_off + ct_len && ct_len > 0;
}

int vpn_ikev2_sk_encrypt(vpn_ikev2_crypto *c, const vpn_rng *rng, uint8_t *msg, size_t iv_off,
                         size_t ct_off, size_t ct_len, size_t icv_off)
{
    uint8_t *iv;
    size_t iv_len;
    int rc;

    if (c == NULL || c->enc == NULL || msg == NULL || !layout_ok(c, iv_off, ct_off, ct_len, icv_off) ||
        ct_len % vpn_ikev2_sk_block_len(c) != 0)
        return VPN_ERR_INVAL;
    iv = msg + iv_off;
    iv_len = c->cinfo->iv_len;
    if (c->cinfo->aead) {
        /* RFC 5282 3.1: the 8-octet IV must never repeat under a key. */
        uint64_t n = ++c->iv_counter;
        for (size_t i = 0; i < iv_len; i++)
            iv[iv_len - 1 - i] = (uint8_t)(i < 8 ? n >> (8 * i) : 0);
        /* RFC 5282 5.1: the associated data run from the IKE header to the
         * end of the Encrypted payload's fixed fields. */
        return vpn_cipher_seal(c->enc, iv, msg, iv_off, msg + ct_off, ct_len, msg + icv_off);
    }
    /* RFC 7296 3.14: the IV is random and unpredictable. */
    if ((rc = vpn_rng_bytes(rng, iv, iv_len)) != 0)
        return rc;
    if ((rc = vpn_cipher_encrypt(c->enc, iv, msg + ct_off, ct_len)) != 0)
        return rc;
    /* RFC 7296 3.14: the ICV covers the message from the IKE header
     * through the encrypted data. */
    {
        vpn_iov iov = {msg, icv_off};
        return vpn_integ_compute(c->mac_out, &iov, 1, msg + icv_off);
    }
}

int vpn_ikev2_sk_decrypt(vpn_ikev2_crypto *c, const uint8_t *msg, size_t iv_off, size_t ct_off,
                         size_t ct_len, size_t icv_off, uint8_t *out)
{
    const uint8_t *iv;
    int rc;

    if (c == NULL || c->dec == NULL || msg == NULL || out == NULL ||
        !layout_ok(c, iv_off, ct_off, ct_len, icv_off))
        return VPN_ERR_INVAL;
    if (ct_len % vpn_ikev2_sk_block_len(c) != 0)
        return VPN_ERR_MALFORMED;
    iv = msg + iv_off;
    memcpy(out, msg + ct_off, ct_len);
    if (c->cinfo->aead) {
        rc = vpn_cipher_open(c->dec, iv, msg, iv_off, out, ct_len, msg + icv_off);
    } else {
        vpn_iov iov = {msg, icv_off};
        rc = vpn_integ_verify(c->mac_in, &iov, 1, msg + icv_off);
        if (rc == 0)
            rc = vpn_cipher_decrypt(c->dec, iv, out, ct_len);
    }
    if (rc != 0)
        OPENSSL_cleanse(out, ct_len);
    return rc;
}

int vpn_ikev2_signed_octets(uint16_t prf, vpn_iov real_msg, vpn_iov peer_nonce,
                            const vpn_key *sk_p, vpn_iov id_body, uint8_t *out, size_t out_cap,
                            size_t *out_len)
{
    const vpn_prf_info *pi;
    vpn_iov key;
    size_t need;
    int rc;

    if (sk_p == NULL || out == NULL || out_len == NULL || (real_msg.p == NULL && real_msg.len) ||
        (peer_nonce.p == NULL && peer_nonce.len) || (id_body.p == NULL && id_body.len))
        return VPN_ERR_INVAL;
    if ((rc = vpn_prf_lookup(prf, &pi)) != 0)
        return rc;
    need = real_msg.len + peer_nonce.len + pi->out_len;
    if (need > out_cap)
        return VPN_ERR_NOSPACE;
    memcpy(out, real_msg.p, real_msg.len);
    memcpy(out + real_msg.len, peer_nonce.p, peer_nonce.len);
    /* RFC 7296 2.15: MACedIDFor[IR] = prf(SK_p[ir], RestOf[IR]IDPayload). */
    key.p = sk_p->b;
    key.len = sk_p->len;
    rc = vpn_prf_compute(prf, &key, 1, &id_body, 1, out + real_msg.len + peer_nonce.len,
                         pi->out_len);
    if (rc != 0)
        return rc;
    *out_len = need;
    return 0;
}

int vpn_ikev2_auth_psk(uint16_t prf, vpn_iov psk, vpn_iov real_msg, vpn_iov peer_nonce,
                       const vpn_key *sk_p, vpn_iov id_body, uint8_t *out, size_t out_cap,
                       size_t *out_len)
{
    static const char pad[] = "Key Pad for IKEv2"; /* RFC 7296 2.15, 17 octets */
    const vpn_prf_info *pi;
    uint8_t inner[VPN_PRF_MAX_LEN];
    vpn_iov key, data[3];
    int rc;

    if (out == NULL || out_len == NULL || sk_p == NULL || (psk.p == NULL && psk.len) ||
        (real_msg.p == NULL && real_msg.len) || (peer_nonce.p == NULL && peer_nonce.len) ||
        (id_body.p == NULL && id_body.len))
        return VPN_ERR_INVAL;
    if ((rc = vpn_prf_lookup(prf, &pi)) != 0)
        return rc;
    if (out_cap < pi->out_len)
        return VPN_ERR_NOSPACE;
    data[0].p = (const uint8_t *)pad;
    data[0].len = sizeof pad - 1;
    if ((rc = vpn_prf_compute(prf, &psk, 1, data, 1, inner, sizeof inner)) != 0)
        goto out;
    /* The MACed ID goes into out first; out then becomes the AUTH value. */
    key.p = sk_p->b;
    key.len = sk_p->len;
    if ((rc = vpn_prf_compute(prf, &key, 1, &id_body, 1, out, out_cap)) != 0)
        goto out;
    data[0] = real_msg;
    data[1] = peer_nonce;
    data[2].p = out;
    data[2].len = pi->out_len;
    key.p = inner;
    key.len = pi->out_len;
    {
        uint8_t tmp[VPN_PRF_MAX_LEN];
        rc = vpn_prf_compute(prf, &key, 1, data, 3, tmp, sizeof tmp);
        if (rc == 0)
            memcpy(out, tmp, pi->out_len);
        OPENSSL_cleanse(tmp, sizeof tmp);
    }
    if (rc == 0)
        *out_len = pi->out_len;
out:
    OPENSSL_cleanse(inner, sizeof inner);
    return rc;
}

int vpn_ikev2_natd_hash(const uint8_t spii[8], const uint8_t spir[8], const uint8_t *addr,
                        size_t addr_len, uint16_t port, uint8_t out[VPN_IKEV2_NATD_LEN])
{
    uint8_t p[2];
    vpn_iov d[4];

    if (spii == NULL || spir == NULL || addr == NULL || out == NULL ||
        (addr_len != 4 && addr_len != 16))
        return VPN_ERR_INVAL;
    vpn_store16(p, port);
    d[0].p = spii;
    d[0].len = 8;
    d[1].p = spir;
    d[1].len = 8;
    d[2].p = addr;
    d[2].len = addr_len;
    d[3].p = p;
    d[3].len = 2;
    /* RFC 7296 2.23: SHA-1 (the hash, not the HMAC). */
    return vpn_prf_hash(VPN_PRF_HMAC_SHA1, d, 4, out, VPN_IKEV2_NATD_LEN);
}

int vpn_ikev2_cookie_make(uint8_t version, const uint8_t secret[VPN_IKEV2_COOKIE_SECRET_LEN],
                          vpn_iov ni, const uint8_t *addr, size_t addr_len,
                          const uint8_t spii[8], uint8_t out[VPN_IKEV2_COOKIE_LEN])
{
    vpn_iov d[4];

    if (secret == NULL || addr == NULL || spii == NULL || out == NULL ||
        (ni.p == NULL && ni.len) || (addr_len != 4 && addr_len != 16))
        return VPN_ERR_INVAL;
    d[0] = ni;
    d[1].p = addr;
    d[1].len = addr_len;
    d[2].p = spii;
    d[2].len = 8;
    d[3].p = secret;
    d[3].len = VPN_IKEV2_COOKIE_SECRET_LEN;
    out[0] = version;
    /* RFC 7296 2.6: Hash(Ni | IPi | SPIi | <secret>); SHA-256 here. */
    return vpn_prf_hash(VPN_PRF_HMAC_SHA2_256, d, 4, out + 1, VPN_IKEV2_COOKIE_LEN - 1);
}
