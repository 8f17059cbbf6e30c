/*
 * Symmetric encryption for ESP and for IKE's SK payload, on OpenSSL 3 EVP,
 * selected by IKEv2 encryption transform ID and key length.
 *
 * A vpn_cipher is created once per SA and direction with its key; per
 * packet it only takes an IV, so the data path allocates nothing.
 * Operations work in place.
 */
#ifndef VPN_CIPHER_H
#define VPN_CIPHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/alloc.h"
#include "crypto/crypto-ids.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vpn_cipher_info {
    uint16_t id;          /* enum vpn_encr_id */
    uint16_t key_bits;    /* the Key Length attribute (0 for fixed-size) */
    size_t key_len;       /* bytes of keying material incl. salt */
    size_t salt_len;      /* 4 for GCM/ChaCha20 (RFC 4106 8.1), 4 nonce for CTR */
    size_t iv_len;        /* explicit IV on the wire */
    size_t block_len;     /* padding boundary: 16 for CBC, else 4 (RFC 4303 2.4) */
    size_t icv_len;       /* AEAD tag length, 0 otherwise */
    bool aead;
    const char *name;            /* "AES-GCM-128 (16-octet ICV)" */
    const char *ws_esp;          /* Wireshark esp_sa encryption label */
    const char *ws_ikev2;        /* Wireshark ikev2_decryption_table label */
} vpn_cipher_info;

/*
 * Looks up an algorithm. key_bits is the Key Length attribute: 128/192/256
 * for AES, 0 (or 256) for ChaCha20-Poly1305 and NULL.
 * Returns 0 or VPN_ERR_UNSUPPORTED.
 */
int vpn_cipher_lookup(uint16_t id, uint16_t key_bits, const vpn_cipher_info **out);

typedef struct vpn_cipher vpn_cipher;

/*
 * Creates a keyed context. key is info->key_len bytes: the cipher key
 * followed by the salt for AEAD and CTR. encrypt selects the direction.
 * On success *out is owned by the caller (free with vpn_cipher_del).
 * Errors: VPN_ERR_UNSUPPORTED, VPN_ERR_INVAL (key length), VPN_ERR_NOMEM,
 * VPN_ERR_CRYPTO.
 */
int vpn_cipher_new(vpn_cipher **out, uint16_t id, uint16_t key_bits,
                   const uint8_t *key, size_t key_len, bool encrypt);
/* The same with the context's allocation gate (common/alloc.h; NULL allows
 * all) asked before the context's own allocation; OpenSSL's allocations
 * inside EVP are not gated (they fail as VPN_ERR_CRYPTO or NOMEM). */
int vpn_cipher_new_a(const vpn_alloc *a, vpn_cipher **out, uint16_t id, uint16_t key_bits,
                     const uint8_t *key, size_t key_len, bool encrypt);
/* Wipes key material and frees. NULL is fine. */
void vpn_cipher_del(vpn_cipher *c);
const vpn_cipher_info *vpn_cipher_get_info(const vpn_cipher *c);

/*
 * AEAD (GCM, ChaCha20-Poly1305): the nonce is salt || iv (iv is
 * info->iv_len bytes, RFC 4106 4, RFC 7634 2). seal encrypts buf in place
 * and writes info->icv_len bytes of tag to icv; open verifies the tag
 * first-class and decrypts in place.
 * Errors: VPN_ERR_INVAL (wrong direction or not AEAD), VPN_ERR_AUTH (open:
 * tag mismatch; buf contents are then unspecified), VPN_ERR_CRYPTO.
 */
int vpn_cipher_seal(vpn_cipher *c, const uint8_t *iv, const uint8_t *aad, size_t aad_len,
                    uint8_t *buf, size_t len, uint8_t *icv);
int vpn_cipher_open(vpn_cipher *c, const uint8_t *iv, const uint8_t *aad, size_t aad_len,
                    uint8_t *buf, size_t len, const uint8_t *icv);

/*
 * Non-AEAD (CBC, CTR, NULL): encrypts or decrypts len bytes in place with
 * the explicit iv. For CBC len must be a multiple of 16.
 * Errors: VPN_ERR_INVAL, VPN_ERR_CRYPTO.
 */
int vpn_cipher_encrypt(vpn_cipher *c, const uint8_t *iv, uint8_t *buf, size_t len);
int vpn_cipher_decrypt(vpn_cipher *c, const uint8_t *iv, uint8_t *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
