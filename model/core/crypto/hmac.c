/*
 * HMAC with precomputed key states (RFC 2104).
 *
 * Why the deprecated low-level SHA API: in OpenSSL 3.0 the EVP ways to reuse
 * a keyed HMAC allocate on every call (measured on 3.0.19: EVP_MAC_init on a
 * keyed EVP_MAC_CTX twice per MAC, EVP_MD_CTX_copy_ex once per copy), and
 * the ESP data path must not allocate per packet. SHA1_Init/SHA256_Init/
 * SHA512_Init work on caller-owned structs that are copied by assignment.
 * This is the only file in the project that uses them, hence the
 * suppression here rather than project-wide.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "crypto/hmac.h"

#include <stdint.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/vpn-err.h"

#define HMAC_BLOCK_MAX 128
#define IPAD 0x36
#define OPAD 0x5c

size_t vpn_hash_len(enum vpn_hash hash)
{
    switch (hash) {
    case VPN_HASH_SHA1:
        return SHA_DIGEST_LENGTH;
    case VPN_HASH_SHA256:
        return SHA256_DIGEST_LENGTH;
    case VPN_HASH_SHA384:
        return SHA384_DIGEST_LENGTH;
    case VPN_HASH_SHA512:
        return SHA512_DIGEST_LENGTH;
    }
    return 0;
}

static size_t hash_block(enum vpn_hash hash)
{
    return hash == VPN_HASH_SHA384 || hash == VPN_HASH_SHA512 ? 128 : 64;
}

static int hash_start(enum vpn_hash hash, vpn_hash_state *s)
{
    switch (hash) {
    case VPN_HASH_SHA1:
        return SHA1_Init(&s->sha1);
    case VPN_HASH_SHA256:
        return SHA256_Init(&s->sha256);
    case VPN_HASH_SHA384:
        return SHA384_Init(&s->sha512);
    case VPN_HASH_SHA512:
        return SHA512_Init(&s->sha512);
    }
    return 0;
}

static int hash_update(enum vpn_hash hash, vpn_hash_state *s, const void *p, size_t len)
{
    switch (hash) {
    case VPN_HASH_SHA1:
        return SHA1_Update(&s->sha1, p, len);
    case VPN_HASH_SHA256:
        return SHA256_Update(&s->sha256, p, len);
    case VPN_HASH_SHA384:
        return SHA384_Update(&s->sha512, p, len);
    case VPN_HASH_SHA512:
        return SHA512_Update(&s->sha512, p, len);
    }
    return 0;
}

static int hash_finish(enum vpn_hash hash, vpn_hash_state *s, uint8_t *out)
{
    switch (hash) {
    case VPN_HASH_SHA1:
        return SHA1_Final(out, &s->sha1);
    case VPN_HASH_SHA256:
        return SHA256_Final(out, &s->sha256);
    case VPN_HASH_SHA384:
        return SHA384_Final(out, &s->sha512);
    case VPN_HASH_SHA512:
        return SHA512_Final(out, &s->sha512);
    }
    return 0;
}

int vpn_hmac_init_iov(vpn_hmac *h, enum vpn_hash hash, const vpn_iov *key, size_t n)
{
    uint8_t k0[HMAC_BLOCK_MAX];
    uint8_t pad[HMAC_BLOCK_MAX];
    vpn_hash_state s;
    size_t block, out_len, total = 0;
    int rc = VPN_ERR_CRYPTO;

    if (h == NULL || (key == NULL && n > 0))
        return VPN_ERR_INVAL;
    for (size_t i = 0; i < n; i++) {
        if (key[i].p == NULL && key[i].len > 0)
            return VPN_ERR_INVAL;
        if (key[i].len > SIZE_MAX - total)
            return VPN_ERR_INVAL;
        total += key[i].len;
    }
    out_len = vpn_hash_len(hash);
    if (out_len == 0)
        return VPN_ERR_INVAL;
    block = hash_block(hash);
    memset(h, 0, sizeof *h);
    memset(k0, 0, sizeof k0);
    memset(&s, 0, sizeof s);

    /* RFC 2104 2: a key longer than the block is replaced by its hash; a
     * shorter one is zero-padded to the block. */
    if (total > block) {
        if (!hash_start(hash, &s))
            goto out;
        for (size_t i = 0; i < n; i++)
            if (key[i].len > 0 && !hash_update(hash, &s, key[i].p, key[i].len))
                goto out;
        if (!hash_finish(hash, &s, k0))
            goto out;
    } else {
        size_t off = 0;
        for (size_t i = 0; i < n; i++) {
            if (key[i].len > 0)
                memcpy(k0 + off, key[i].p, key[i].len);
            off += key[i].len;
        }
    }

    for (size_t i = 0; i < block; i++)
        pad[i] = k0[i] ^ IPAD;
    if (!hash_start(hash, &h->inner) || !hash_update(hash, &h->inner, pad, block))
        goto out;
    for (size_t i = 0; i < block; i++)
        pad[i] = k0[i] ^ OPAD;
    if (!hash_start(hash, &h->outer) || !hash_update(hash, &h->outer, pad, block))
        goto out;
    h->hash = hash;
    h->out_len = out_len;
    rc = 0;
out:
    OPENSSL_cleanse(k0, sizeof k0);
    OPENSSL_cleanse(pad, sizeof pad);
    OPENSSL_cleanse(&s, sizeof s);
    if (rc != 0)
        OPENSSL_cleanse(h, sizeof *h);
    return rc;
}

int vpn_hmac_init(vpn_hmac *h, enum vpn_hash hash, const uint8_t *key, size_t key_len)
{
    vpn_iov k = {key, key_len};

    return vpn_hmac_init_iov(h, hash, &k, 1);
}

int vpn_hmac_start(const vpn_hmac *h, vpn_hash_state *s)
{
    if (h == NULL || s == NULL || h->out_len == 0)
        return VPN_ERR_INVAL;
    *s = h->inner;
    return 0;
}

int vpn_hmac_update(const vpn_hmac *h, vpn_hash_state *s, const void *p, size_t len)
{
    if (h == NULL || s == NULL || (p == NULL && len > 0))
        return VPN_ERR_INVAL;
    if (len > 0 && !hash_update(h->hash, s, p, len))
        return VPN_ERR_CRYPTO;
    return 0;
}

int vpn_hmac_finish(const vpn_hmac *h, vpn_hash_state *s, uint8_t *out)
{
    uint8_t inner[VPN_HASH_MAX_LEN];
    int rc = VPN_ERR_CRYPTO;

    if (h == NULL || s == NULL || out == NULL || h->out_len == 0) {
        if (s != NULL)
            OPENSSL_cleanse(s, sizeof *s);
        return VPN_ERR_INVAL;
    }
    /* H(K ^ opad || H(K ^ ipad || text)), both prefixes already absorbed. */
    if (!hash_finish(h->hash, s, inner))
        goto out;
    *s = h->outer;
    if (!hash_update(h->hash, s, inner, h->out_len) || !hash_finish(h->hash, s, out))
        goto out;
    rc = 0;
out:
    OPENSSL_cleanse(s, sizeof *s);
    OPENSSL_cleanse(inner, sizeof inner);
    return rc;
}

int vpn_hmac_compute(const vpn_hmac *h, const vpn_iov *iov, size_t n, uint8_t *out)
{
    vpn_hash_state s;
    int rc;

    if (h == NULL || out == NULL || h->out_len == 0 || (iov == NULL && n > 0))
        return VPN_ERR_INVAL;
    for (size_t i = 0; i < n; i++)
        if (iov[i].p == NULL && iov[i].len > 0)
            return VPN_ERR_INVAL;

    rc = vpn_hmac_start(h, &s);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = vpn_hmac_update(h, &s, iov[i].p, iov[i].len);
    if (rc == 0)
        return vpn_hmac_finish(h, &s, out);
    OPENSSL_cleanse(&s, sizeof s);
    return rc;
}

void vpn_hmac_free(vpn_hmac *h)
{
    if (h != NULL)
        OPENSSL_cleanse(h, sizeof *h);
}
