/* IKEv2 (RFC 7296 2.14, 2.17, 2.18) and IKEv1 (RFC 2409 5, appendix B)
 * key derivation on the HMAC PRFs. */
#include "crypto/kdf.h"

#include <string.h>

#include <openssl/crypto.h>

#include "common/vpn-err.h"
#include "crypto/cipher.h"
#include "crypto/prf.h"

void vpn_key_wipe(vpn_key *k)
{
    if (k != NULL)
        OPENSSL_cleanse(k, sizeof *k);
}

void vpn_ikev2_keys_wipe(vpn_ikev2_keys *k)
{
    if (k != NULL)
        OPENSSL_cleanse(k, sizeof *k);
}

void vpn_child_keys_wipe(vpn_child_keys *k)
{
    if (k != NULL)
        OPENSSL_cleanse(k, sizeof *k);
}

void vpn_ikev1_keys_wipe(vpn_ikev1_keys *k)
{
    if (k != NULL)
        OPENSSL_cleanse(k, sizeof *k);
}

static int valid_iov(vpn_iov v)
{
    return v.p != NULL || v.len == 0;
}

static int valid_key(const vpn_key *k)
{
    return k != NULL && k->len <= VPN_KEY_MAX;
}

/* out = prf(key..., data...), out->len = the PRF's output length. */
static int prf_to_key(uint16_t prf, const vpn_iov *key, size_t nk, const vpn_iov *data,
                      size_t n, vpn_key *out)
{
    const vpn_prf_info *info;
    int rc = vpn_prf_lookup(prf, &info);

    if (rc != 0)
        return rc;
    rc = vpn_prf_compute(prf, key, nk, data, n, out->b, sizeof out->b);
    out->len = rc == 0 ? info->out_len : 0;
    if (rc != 0)
        vpn_key_wipe(out);
    return rc;
}

/* ---- IKEv2 ------------------------------------------------------------- */

int vpn_ikev2_skeyseed(uint16_t prf, vpn_iov ni, vpn_iov nr, vpn_iov gir, vpn_key *skeyseed)
{
    vpn_iov key[2] = {ni, nr};

    if (skeyseed == NULL || !valid_iov(ni) || !valid_iov(nr) || !valid_iov(gir))
        return VPN_ERR_INVAL;
    /* RFC 7296 2.14: SKEYSEED = prf(Ni | Nr, g^ir). HMAC PRFs take the
     * whole Ni | Nr as key (the halving rule is for fixed-key PRFs). */
    return prf_to_key(prf, key, 2, &gir, 1, skeyseed);
}

int vpn_ikev2_skeyseed_rekey(uint16_t old_prf, const vpn_key *sk_d_old, vpn_iov gir_new,
                             vpn_iov ni, vpn_iov nr, vpn_key *skeyseed)
{
    vpn_iov key, data[3] = {gir_new, ni, nr};

    if (skeyseed == NULL || !valid_key(sk_d_old) || !valid_iov(gir_new) || !valid_iov(ni) ||
        !valid_iov(nr))
        return VPN_ERR_INVAL;
    /* RFC 7296 2.18: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr). */
    key.p = sk_d_old->b;
    key.len = sk_d_old->len;
    return prf_to_key(old_prf, &key, 1, data, 3, skeyseed);
}

/* Key lengths of a suite's cipher and integrity algorithm. */
static int suite_lengths(const vpn_ikev2_suite *s, size_t *encr_len, size_t *integ_len,
                         int *aead)
{
    const vpn_cipher_info *ci = NULL;
    const vpn_integ_info *ii = NULL;
    int rc;

    *encr_len = 0;
    *integ_len = 0;
    *aead = 0;
    if (s->encr != 0) {
        rc = vpn_cipher_lookup(s->encr, s->encr_key_bits, &ci);
        if (rc != 0)
            return rc;
        *encr_len = ci->key_len;
        *aead = ci->aead;
    }
    rc = vpn_integ_lookup(s->integ, &ii);
    if (rc != 0)
        return rc;
    *integ_len = ii->key_len;
    /* RFC 7296 3.3: combined-mode ciphers offer no integrity algorithm or
     * only NONE; anything else is a negotiation error. */
    if (*aead && s->integ != VPN_INTEG_NONE)
        return VPN_ERR_INVAL;
    if (*encr_len > VPN_KEY_MAX || *integ_len > VPN_KEY_MAX)
        return VPN_ERR_INVAL;
    return 0;
}

/* Copies len octets from *p into k and advances *p. */
static void take(vpn_key *k, const uint8_t **p, size_t len)
{
    k->len = len;
    if (len > 0)
        memcpy(k->b, *p, len);
    *p += len;
}

int vpn_ikev2_ike_keys_derive(const vpn_ikev2_suite *suite, const vpn_key *skeyseed,
                              vpn_iov ni, vpn_iov nr, const uint8_t spii[8],
                              const uint8_t spir[8], vpn_ikev2_keys *out)
{
    const vpn_prf_info *pi;
    uint8_t km[7 * VPN_KEY_MAX];
    const uint8_t *p = km;
    size_t e_len, a_len, total;
    int aead, rc;
    vpn_iov key, seed[4];

    if (out == NULL)
        return VPN_ERR_INVAL;
    memset(out, 0, sizeof *out);
    if (suite == NULL || !valid_key(skeyseed) || spii == NULL || spir == NULL ||
        !valid_iov(ni) || !valid_iov(nr))
        return VPN_ERR_INVAL;
    rc = vpn_prf_lookup(suite->prf, &pi);
    if (rc != 0)
        return rc;
    /* IKE needs a real cipher, and integrity unless the cipher is AEAD. */
    if (suite->encr == 0 || suite->encr == VPN_ENCR_NULL)
        return VPN_ERR_INVAL;
    rc = suite_lengths(suite, &e_len, &a_len, &aead);
    if (rc != 0)
        return rc;
    if (!aead && suite->integ == VPN_INTEG_NONE)
        return VPN_ERR_INVAL;

    total = pi->key_len + 2 * a_len + 2 * e_len + 2 * pi->key_len;
    key.p = skeyseed->b;
    key.len = skeyseed->len;
    seed[0] = ni;
    seed[1] = nr;
    seed[2].p = spii;
    seed[2].len = 8;
    seed[3].p = spir;
    seed[3].len = 8;
    /* RFC 7296 2.14: {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr}
     *                = prf+ (SKEYSEED, Ni | Nr | SPIi | SPIr) */
    rc = vpn_prf_plus(suite->prf, &key, 1, seed, 4, km, total);
    if (rc == 0) {
        take(&out->sk_d, &p, pi->key_len);
        take(&out->sk_ai, &p, a_len);
        take(&out->sk_ar, &p, a_len);
        take(&out->sk_ei, &p, e_len);
        take(&out->sk_er, &p, e_len);
        take(&out->sk_pi, &p, pi->key_len);
        take(&out->sk_pr, &p, pi->key_len);
    }
    OPENSSL_cleanse(km, sizeof km);
    if (rc != 0)
        vpn_ikev2_keys_wipe(out);
    return rc;
}

int vpn_ikev2_child_keys_derive(uint16_t prf, const vpn_key *sk_d,
                                const vpn_ikev2_suite *suite, vpn_iov gir_new, vpn_iov ni,
                                vpn_iov nr, vpn_child_keys *out)
{
    uint8_t km[4 * VPN_KEY_MAX];
    const uint8_t *p = km;
    size_t e_len, a_len;
    int aead, rc;
    vpn_iov key, seed[3];
    size_t ns = 0;

    if (out == NULL)
        return VPN_ERR_INVAL;
    memset(out, 0, sizeof *out);
    if (suite == NULL || !valid_key(sk_d) || !valid_iov(gir_new) || !valid_iov(ni) ||
        !valid_iov(nr))
        return VPN_ERR_INVAL;
    rc = suite_lengths(suite, &e_len, &a_len, &aead);
    if (rc != 0)
        return rc;
    if (e_len == 0 && a_len == 0)
        return VPN_ERR_INVAL; /* neither confidentiality nor integrity */

    key.p = sk_d->b;
    key.len = sk_d->len;
    /* RFC 7296 2.17: KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr) */
    if (gir_new.len > 0)
        seed[ns++] = gir_new;
    seed[ns++] = ni;
    seed[ns++] = nr;
    rc = vpn_prf_plus(prf, &key, 1, seed, ns, km, 2 * (e_len + a_len));
    if (rc == 0) {
        /* Encryption key first, then integrity, initiator-to-responder SA
         * first (RFC 7296 2.17). */
        take(&out->encr_i, &p, e_len);
        take(&out->integ_i, &p, a_len);
        take(&out->encr_r, &p, e_len);
        take(&out->integ_r, &p, a_len);
    }
    OPENSSL_cleanse(km, sizeof km);
    if (rc != 0)
        vpn_child_keys_wipe(out);
    return rc;
}

/* ---- IKEv1 ------------------------------------------------------------- */

int vpn_ikev1_skeyid_psk(uint16_t prf, vpn_iov psk, vpn_iov ni_b, vpn_iov nr_b, vpn_key *skeyid)
{
    vpn_iov data[2] = {ni_b, nr_b};

    if (skeyid == NULL || !valid_iov(psk) || !valid_iov(ni_b) || !valid_iov(nr_b))
        return VPN_ERR_INVAL;
    /* RFC 2409 5: SKEYID = prf(pre-shared-key, Ni_b | Nr_b) */
    return prf_to_key(prf, &psk, 1, data, 2, skeyid);
}

int vpn_ikev1_skeyid_sig(uint16_t prf, vpn_iov ni_b, vpn_iov nr_b, vpn_iov gxy, vpn_key *skeyid)
{
    vpn_iov key[2] = {ni_b, nr_b};

    if (skeyid == NULL || !valid_iov(ni_b) || !valid_iov(nr_b) || !valid_iov(gxy))
        return VPN_ERR_INVAL;
    /* RFC 2409 5: SKEYID = prf(Ni_b | Nr_b, g^xy) */
    return prf_to_key(prf, key, 2, &gxy, 1, skeyid);
}

int vpn_ikev1_enc_key(uint16_t prf, const vpn_key *skeyid_e, size_t len, vpn_key *out)
{
    const vpn_prf_info *pi;
    uint8_t k[VPN_PRF_MAX_LEN];
    uint8_t zero = 0;
    size_t done = 0;
    vpn_iov key, data;
    int rc;

    if (out == NULL)
        return VPN_ERR_INVAL;
    memset(out, 0, sizeof *out);
    if (!valid_key(skeyid_e) || len > VPN_KEY_MAX)
        return VPN_ERR_INVAL;
    rc = vpn_prf_lookup(prf, &pi);
    if (rc != 0)
        return rc;
    if (skeyid_e->len >= len) {
        /* Long enough: the key is its first octets (RFC 2409 5.3). */
        memcpy(out->b, skeyid_e->b, len);
        out->len = len;
        return 0;
    }
    /* RFC 2409 appendix B: Ka = K1 | K2 | K3 ..., K1 = prf(SKEYID_e, 0),
     * Kn = prf(SKEYID_e, Kn-1). */
    key.p = skeyid_e->b;
    key.len = skeyid_e->len;
    data.p = &zero;
    data.len = 1;
    while (rc == 0 && done < len) {
        size_t n = len - done < pi->out_len ? len - done : pi->out_len;

        rc = vpn_prf_compute(prf, &key, 1, &data, 1, k, sizeof k);
        if (rc == 0) {
            memcpy(out->b + done, k, n);
            done += n;
            data.p = out->b + done - n; /* Kn-1, whole when another follows */
            data.len = pi->out_len;
        }
    }
    OPENSSL_cleanse(k, sizeof k);
    if (rc != 0)
        vpn_key_wipe(out);
    else
        out->len = len;
    return rc;
}

int vpn_ikev1_keys_derive(uint16_t prf, const vpn_key *skeyid, vpn_iov gxy,
                          const uint8_t cky_i[8], const uint8_t cky_r[8], size_t enc_key_len,
                          vpn_ikev1_keys *out)
{
    uint8_t n0 = 0, n1 = 1, n2 = 2;
    vpn_iov key, data[5];
    int rc;

    if (out == NULL)
        return VPN_ERR_INVAL;
    memset(out, 0, sizeof *out);
    if (!valid_key(skeyid) || !valid_iov(gxy) || cky_i == NULL || cky_r == NULL ||
        enc_key_len > VPN_KEY_MAX)
        return VPN_ERR_INVAL;
    out->skeyid = *skeyid;
    key.p = skeyid->b;
    key.len = skeyid->len;

    /* RFC 2409 5: SKEYID_d = prf(SKEYID, g^xy | CKY-I | CKY-R | 0) */
    data[0] = gxy;
    data[1].p = cky_i;
    data[1].len = 8;
    data[2].p = cky_r;
    data[2].len = 8;
    data[3].p = &n0;
    data[3].len = 1;
    rc = prf_to_key(prf, &key, 1, data, 4, &out->skeyid_d);
    /* SKEYID_a = prf(SKEYID, SKEYID_d | g^xy | CKY-I | CKY-R | 1) */
    if (rc == 0) {
        data[0].p = out->skeyid_d.b;
        data[0].len = out->skeyid_d.len;
        data[1] = gxy;
        data[2].p = cky_i;
        data[2].len = 8;
        data[3].p = cky_r;
        data[3].len = 8;
        data[4].p = &n1;
        data[4].len = 1;
        rc = prf_to_key(prf, &key, 1, data, 5, &out->skeyid_a);
    }
    /* SKEYID_e = prf(SKEYID, SKEYID_a | g^xy | CKY-I | CKY-R | 2) */
    if (rc == 0) {
        data[0].p = out->skeyid_a.b;
        data[0].len = out->skeyid_a.len;
        data[4].p = &n2;
        rc = prf_to_key(prf, &key, 1, data, 5, &out->skeyid_e);
    }
    if (rc == 0)
        rc = vpn_ikev1_enc_key(prf, &out->skeyid_e, enc_key_len, &out->enc_key);
    if (rc != 0)
        vpn_ikev1_keys_wipe(out);
    return rc;
}

/* hash(a | b) truncated to block_len. */
static int hash_iv(uint16_t prf, vpn_iov a, vpn_iov b, size_t block_len, uint8_t *iv)
{
    const vpn_prf_info *pi;
    uint8_t h[VPN_PRF_MAX_LEN];
    vpn_iov data[2] = {a, b};
    int rc;

    rc = vpn_prf_lookup(prf, &pi);
    if (rc != 0)
        return rc;
    if (iv == NULL || block_len == 0 || block_len > pi->out_len)
        return VPN_ERR_INVAL;
    rc = vpn_prf_hash(prf, data, 2, h, sizeof h);
    if (rc == 0)
        memcpy(iv, h, block_len);
    OPENSSL_cleanse(h, sizeof h);
    return rc;
}

int vpn_ikev1_phase1_iv(uint16_t prf, vpn_iov gxi, vpn_iov gxr, size_t block_len, uint8_t *iv)
{
    if (!valid_iov(gxi) || !valid_iov(gxr))
        return VPN_ERR_INVAL;
    /* RFC 2409 appendix B: IV = hash(g^xi | g^xr), truncated. */
    return hash_iv(prf, gxi, gxr, block_len, iv);
}

int vpn_ikev1_phase2_iv(uint16_t prf, const uint8_t *last_block, size_t block_len,
                        uint32_t msg_id, uint8_t *iv)
{
    uint8_t mid[4] = {(uint8_t)(msg_id >> 24), (uint8_t)(msg_id >> 16), (uint8_t)(msg_id >> 8),
                      (uint8_t)msg_id};
    vpn_iov a = {last_block, block_len}, b = {mid, 4};

    if (last_block == NULL)
        return VPN_ERR_INVAL;
    /* RFC 2409 appendix B: hash(last phase-1 CBC output block | M-ID). */
    return hash_iv(prf, a, b, block_len, iv);
}
