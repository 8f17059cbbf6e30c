/*
 * Symmetric ciphers for ESP and the IKE SK payload on OpenSSL 3 EVP.
 *
 * Each vpn_cipher owns one EVP_CIPHER_CTX keyed at creation. A packet only
 * sets a new IV (EVP_CipherInit_ex with NULL cipher and key), which keeps
 * the key schedule and allocates nothing.
 */
#include "crypto/cipher.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "common/vpn-err.h"

#define AES_BLOCK 16
#define SALT_LEN 4  /* RFC 4106 8.1, RFC 3686 5.1, RFC 7634 2 */
#define ESP_IV_LEN 8
#define AEAD_NONCE_LEN (SALT_LEN + ESP_IV_LEN)

/*
 * Wireshark 4.0 labels. ESP (packet-ipsec.c, esp_encryption_type_vals) names
 * the mode only; the IKEv2 table (packet-isakmp.c, vs_ikev2_encr_algs) names
 * mode and key size. Wireshark 4.0 knows no ChaCha20-Poly1305 in either.
 */
#define GCM_ENTRY(bits, icv)                                                   \
    {VPN_ENCR_AES_GCM_##icv, bits, (bits) / 8 + SALT_LEN, SALT_LEN, ESP_IV_LEN, \
     4, icv, true, "AES-GCM-" #bits " (" #icv "-octet ICV)",                   \
     "AES-GCM with " #icv " octet ICV [RFC4106]",                              \
     "AES-GCM-" #bits " with " #icv " octet ICV [RFC5282]"}

static const vpn_cipher_info cipher_table[] = {
    /* RFC 2410: no key, no IV; ESP pads to 4 octets. */
    {VPN_ENCR_NULL, 0, 0, 0, 0, 4, 0, false, "NULL", "NULL", "NULL [RFC2410]"},
    /* RFC 2451 2.3: 8-octet explicit IV and blocks, 24-octet key (three
     * DES keys). Only for legacy GDOI key servers that still send it. */
    {VPN_ENCR_3DES, 0, 24, 0, 8, 8, 0, false, "3DES-CBC", "TripleDES-CBC [RFC2451]",
     "3DES [RFC2451]"},
    /* RFC 3602 2.4: 16-octet explicit IV, 16-octet blocks. */
    {VPN_ENCR_AES_CBC, 128, 16, 0, AES_BLOCK, AES_BLOCK, 0, false, "AES-CBC-128",
     "AES-CBC [RFC3602]", "AES-CBC-128 [RFC3602]"},
    {VPN_ENCR_AES_CBC, 192, 24, 0, AES_BLOCK, AES_BLOCK, 0, false, "AES-CBC-192",
     "AES-CBC [RFC3602]", "AES-CBC-192 [RFC3602]"},
    {VPN_ENCR_AES_CBC, 256, 32, 0, AES_BLOCK, AES_BLOCK, 0, false, "AES-CBC-256",
     "AES-CBC [RFC3602]", "AES-CBC-256 [RFC3602]"},
    /* RFC 3686 5.1: key followed by a 4-octet nonce; 8-octet IV. */
    {VPN_ENCR_AES_CTR, 128, 16 + SALT_LEN, SALT_LEN, ESP_IV_LEN, 4, 0, false, "AES-CTR-128",
     "AES-CTR [RFC3686]", "AES-CTR-128 [RFC5930]"},
    {VPN_ENCR_AES_CTR, 192, 24 + SALT_LEN, SALT_LEN, ESP_IV_LEN, 4, 0, false, "AES-CTR-192",
     "AES-CTR [RFC3686]", "AES-CTR-192 [RFC5930]"},
    {VPN_ENCR_AES_CTR, 256, 32 + SALT_LEN, SALT_LEN, ESP_IV_LEN, 4, 0, false, "AES-CTR-256",
     "AES-CTR [RFC3686]", "AES-CTR-256 [RFC5930]"},
    /* RFC 4106 8.1 / RFC 5282 7.1: key followed by a 4-octet salt. */
    GCM_ENTRY(128, 8),
    GCM_ENTRY(192, 8),
    GCM_ENTRY(256, 8),
    GCM_ENTRY(128, 12),
    GCM_ENTRY(192, 12),
    GCM_ENTRY(256, 12),
    GCM_ENTRY(128, 16),
    GCM_ENTRY(192, 16),
    GCM_ENTRY(256, 16),
    /* RFC 7634 2: 256-bit key followed by a 4-octet salt, 16-octet tag. */
    {VPN_ENCR_CHACHA20_POLY1305, 0, 32 + SALT_LEN, SALT_LEN, ESP_IV_LEN, 4, 16, true,
     "ChaCha20-Poly1305", NULL, NULL},
};

struct vpn_cipher {
    const vpn_cipher_info *info;
    EVP_CIPHER *evp;      /* NULL for ENCR_NULL */
    EVP_CIPHER_CTX *ctx;  /* NULL for ENCR_NULL */
    uint8_t salt[SALT_LEN];
    bool encrypt;
};

int vpn_cipher_lookup(uint16_t id, uint16_t key_bits, const vpn_cipher_info **out)
{
    if (out == NULL)
        return VPN_ERR_INVAL;
    /* Fixed-size algorithms carry no Key Length attribute; accept 256 for
     * ChaCha20-Poly1305 as well, which is its only size. */
    if ((id == VPN_ENCR_CHACHA20_POLY1305 && key_bits == 256) ||
        (id == VPN_ENCR_3DES && key_bits == 192))
        key_bits = 0;
    for (size_t i = 0; i < sizeof cipher_table / sizeof cipher_table[0]; i++) {
        if (cipher_table[i].id == id && cipher_table[i].key_bits == key_bits) {
            *out = &cipher_table[i];
            return 0;
        }
    }
    return VPN_ERR_UNSUPPORTED;
}

static const char *evp_name(const vpn_cipher_info *info)
{
    switch (info->id) {
    case VPN_ENCR_AES_CBC:
        return info->key_bits == 128 ? "AES-128-CBC"
             : info->key_bits == 192 ? "AES-192-CBC" : "AES-256-CBC";
    case VPN_ENCR_AES_CTR:
        return info->key_bits == 128 ? "AES-128-CTR"
             : info->key_bits == 192 ? "AES-192-CTR" : "AES-256-CTR";
    case VPN_ENCR_AES_GCM_8:
    case VPN_ENCR_AES_GCM_12:
    case VPN_ENCR_AES_GCM_16:
        return info->key_bits == 128 ? "AES-128-GCM"
             : info->key_bits == 192 ? "AES-192-GCM" : "AES-256-GCM";
    case VPN_ENCR_CHACHA20_POLY1305:
        return "ChaCha20-Poly1305";
    case VPN_ENCR_3DES:
        return "DES-EDE3-CBC";
    default:
        return NULL;
    }
}

int vpn_cipher_new(vpn_cipher **out, uint16_t id, uint16_t key_bits,
                   const uint8_t *key, size_t key_len, bool encrypt)
{
    return vpn_cipher_new_a(NULL, out, id, key_bits, key, key_len, encrypt);
}

int vpn_cipher_new_a(const vpn_alloc *a, vpn_cipher **out, uint16_t id, uint16_t key_bits,
                     const uint8_t *key, size_t key_len, bool encrypt)
{
    const vpn_cipher_info *info;
    vpn_cipher *c;
    const char *name;
    int rc;

    if (out == NULL)
        return VPN_ERR_INVAL;
    *out = NULL;
    rc = vpn_cipher_lookup(id, key_bits, &info);
    if (rc != 0)
        return rc;
    if (key_len != info->key_len || (key_len > 0 && key == NULL))
        return VPN_ERR_INVAL;

    c = vpn_calloc(a, 1, sizeof *c);
    if (c == NULL)
        return VPN_ERR_NOMEM;
    c->info = info;
    c->encrypt = encrypt;
    name = evp_name(info);
    if (name == NULL) { /* ENCR_NULL: nothing to key */
        *out = c;
        return 0;
    }

    /* The salt (or CTR nonce) is the tail of the keying material. */
    memcpy(c->salt, key + key_len - info->salt_len, info->salt_len);

    rc = VPN_ERR_CRYPTO;
    c->evp = EVP_CIPHER_fetch(NULL, name, NULL);
    if (c->evp == NULL)
        goto fail;
    c->ctx = EVP_CIPHER_CTX_new();
    if (c->ctx == NULL) {
        rc = VPN_ERR_NOMEM;
        goto fail;
    }
    if (EVP_CipherInit_ex(c->ctx, c->evp, NULL, key, NULL, encrypt ? 1 : 0) != 1)
        goto fail;
    /* ESP does its own padding (RFC 4303 2.4); CBC input is whole blocks. */
    if ((info->id == VPN_ENCR_AES_CBC || info->id == VPN_ENCR_3DES) &&
        EVP_CIPHER_CTX_set_padding(c->ctx, 0) != 1)
        goto fail;
    /* 12-octet nonce for GCM and ChaCha20-Poly1305 is OpenSSL's default. */
    if (info->aead && (size_t)EVP_CIPHER_CTX_get_iv_length(c->ctx) != AEAD_NONCE_LEN)
        goto fail;
    *out = c;
    return 0;

fail:
    vpn_cipher_del(c);
    return rc;
}

void vpn_cipher_del(vpn_cipher *c)
{
    if (c == NULL)
        return;
    EVP_CIPHER_CTX_free(c->ctx); /* cleanses the key schedule */
    EVP_CIPHER_free(c->evp);
    OPENSSL_cleanse(c, sizeof *c);
    free(c);
}

const vpn_cipher_info *vpn_cipher_get_info(const vpn_cipher *c)
{
    return c == NULL ? NULL : c->info;
}

/* Sets one AEAD tag parameter without allocating (EVP_CIPHER_CTX_ctrl would
 * do the same through a stack OSSL_PARAM). */
static int aead_tag_param(EVP_CIPHER_CTX *ctx, uint8_t *tag, size_t len, bool get)
{
    OSSL_PARAM params[2];

    params[0] = OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, len);
    params[1] = OSSL_PARAM_construct_end();
    if (get)
        return EVP_CIPHER_CTX_get_params(ctx, params) == 1 ? 0 : VPN_ERR_CRYPTO;
    return EVP_CIPHER_CTX_set_params(ctx, params) == 1 ? 0 : VPN_ERR_CRYPTO;
}

/* Common AEAD run: nonce = salt || iv (RFC 4106 4, RFC 7634 2). Exactly one
 * of icv_out (seal) and icv_in (open) is set, matching the context's
 * direction (the callers check): the tag steps test the pointer they use, so
 * no path copies from or to the other, NULL one. */
static int aead_run(vpn_cipher *c, const uint8_t *iv, const uint8_t *aad, size_t aad_len,
                    uint8_t *buf, size_t len, uint8_t *icv_out, const uint8_t *icv_in)
{
    uint8_t nonce[AEAD_NONCE_LEN];
    uint8_t tag[16];
    uint8_t fin[AES_BLOCK];
    int outl;
    int rc = VPN_ERR_CRYPTO;

    if (iv == NULL || (aad_len > 0 && aad == NULL) || (len > 0 && buf == NULL))
        return VPN_ERR_INVAL;
    if (aad_len > INT_MAX || len > INT_MAX)
        return VPN_ERR_INVAL;

    memcpy(nonce, c->salt, SALT_LEN);
    memcpy(nonce + SALT_LEN, iv, ESP_IV_LEN);
    if (EVP_CipherInit_ex(c->ctx, NULL, NULL, NULL, nonce, -1) != 1)
        goto out;
    if (icv_in != NULL) {
        memcpy(tag, icv_in, c->info->icv_len);
        rc = aead_tag_param(c->ctx, tag, c->info->icv_len, false);
        if (rc != 0)
            goto out;
        rc = VPN_ERR_CRYPTO;
    }
    if (aad_len > 0 && EVP_CipherUpdate(c->ctx, NULL, &outl, aad, (int)aad_len) != 1)
        goto out;
    if (len > 0 && (EVP_CipherUpdate(c->ctx, buf, &outl, buf, (int)len) != 1 ||
                    (size_t)outl != len))
        goto out;
    if (EVP_CipherFinal_ex(c->ctx, fin, &outl) != 1) {
        if (!c->encrypt) {
            /* Do not leave unauthenticated plaintext behind. */
            if (len > 0)
                OPENSSL_cleanse(buf, len);
            rc = VPN_ERR_AUTH;
        }
        goto out;
    }
    if (icv_out != NULL) {
        rc = aead_tag_param(c->ctx, tag, c->info->icv_len, true);
        if (rc != 0)
            goto out;
        memcpy(icv_out, tag, c->info->icv_len);
    }
    rc = 0;
out:
    OPENSSL_cleanse(nonce, sizeof nonce);
    return rc;
}

int vpn_cipher_seal(vpn_cipher *c, const uint8_t *iv, const uint8_t *aad, size_t aad_len,
                    uint8_t *buf, size_t len, uint8_t *icv)
{
    if (c == NULL || !c->info->aead || !c->encrypt || icv == NULL)
        return VPN_ERR_INVAL;
    return aead_run(c, iv, aad, aad_len, buf, len, icv, NULL);
}

int vpn_cipher_open(vpn_cipher *c, const uint8_t *iv, const uint8_t *aad, size_t aad_len,
                    uint8_t *buf, size_t len, const uint8_t *icv)
{
    if (c == NULL || !c->info->aead || c->encrypt || icv == NULL)
        return VPN_ERR_INVAL;
    return aead_run(c, iv, aad, aad_len, buf, len, NULL, icv);
}

static int plain_run(vpn_cipher *c, const uint8_t *iv, uint8_t *buf, size_t len)
{
    uint8_t block[AES_BLOCK];
    const uint8_t *ivp = iv;
    int outl;
    int rc = VPN_ERR_CRYPTO;

    if (c->info->id == VPN_ENCR_NULL)
        return 0; /* RFC 2410: the identity */
    if (iv == NULL || (len > 0 && buf == NULL) || len > INT_MAX)
        return VPN_ERR_INVAL;
    if ((c->info->id == VPN_ENCR_AES_CBC || c->info->id == VPN_ENCR_3DES) &&
        len % c->info->block_len != 0)
        return VPN_ERR_INVAL;
    if (c->info->id == VPN_ENCR_AES_CTR) {
        /* RFC 3686 4: counter block = nonce || IV || counter, the counter
         * starting at 1. OpenSSL increments the whole block big-endian,
         * which is the same as long as the 32-bit counter does not wrap
         * (2^32 blocks, far beyond any packet). */
        memcpy(block, c->salt, SALT_LEN);
        memcpy(block + SALT_LEN, iv, ESP_IV_LEN);
        block[12] = 0;
        block[13] = 0;
        block[14] = 0;
        block[15] = 1;
        ivp = block;
    }
    if (EVP_CipherInit_ex(c->ctx, NULL, NULL, NULL, ivp, -1) != 1)
        goto out;
    if (len > 0 && (EVP_CipherUpdate(c->ctx, buf, &outl, buf, (int)len) != 1 ||
                    (size_t)outl != len))
        goto out;
    rc = 0;
out:
    if (ivp == block)
        OPENSSL_cleanse(block, sizeof block);
    return rc;
}

int vpn_cipher_encrypt(vpn_cipher *c, const uint8_t *iv, uint8_t *buf, size_t len)
{
    if (c == NULL || c->info->aead || !c->encrypt)
        return VPN_ERR_INVAL;
    return plain_run(c, iv, buf, len);
}

int vpn_cipher_decrypt(vpn_cipher *c, const uint8_t *iv, uint8_t *buf, size_t len)
{
    if (c == NULL || c->info->aead || c->encrypt)
        return VPN_ERR_INVAL;
    return plain_run(c, iv, buf, len);
}
