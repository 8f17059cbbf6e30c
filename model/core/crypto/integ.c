/*
 * Truncated HMAC integrity algorithms: HMAC-SHA1-96 (RFC 2404) and
 * HMAC-SHA2-256-128, -384-192, -512-256 (RFC 4868).
 */
#include "crypto/integ.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/vpn-err.h"
#include "crypto/hmac.h"

/*
 * Wireshark 4.0 labels: esp_authentication_type_vals in packet-ipsec.c and
 * vs_ikev2_auth_algs in packet-isakmp.c.
 */
static const vpn_integ_info integ_table[] = {
    /* No integrity (AEAD ciphers); lookup only, there is nothing to key. */
    {VPN_INTEG_NONE, 0, 0, "NONE", "NULL", "NONE [RFC4306]"},
    /* RFC 2404 2: 160-bit key, output truncated to 96 bits. */
    {VPN_AUTH_HMAC_SHA1_96, 20, 12, "HMAC-SHA1-96", "HMAC-SHA-1-96 [RFC2404]",
     "HMAC_SHA1_96 [RFC2404]"},
    /* RFC 4868 2.1.1 / 2.1.2: key = digest length, ICV = half of it. */
    {VPN_AUTH_HMAC_SHA2_256_128, 32, 16, "HMAC-SHA2-256-128", "HMAC-SHA-256-128 [RFC4868]",
     "HMAC_SHA2_256_128 [RFC4868]"},
    {VPN_AUTH_HMAC_SHA2_384_192, 48, 24, "HMAC-SHA2-384-192", "HMAC-SHA-384-192 [RFC4868]",
     "HMAC_SHA2_384_192 [RFC4868]"},
    {VPN_AUTH_HMAC_SHA2_512_256, 64, 32, "HMAC-SHA2-512-256", "HMAC-SHA-512-256 [RFC4868]",
     "HMAC_SHA2_512_256 [RFC4868]"},
};

struct vpn_integ {
    const vpn_integ_info *info;
    vpn_hmac hmac;
};

int vpn_integ_lookup(uint16_t id, const vpn_integ_info **out)
{
    if (out == NULL)
        return VPN_ERR_INVAL;
    for (size_t i = 0; i < sizeof integ_table / sizeof integ_table[0]; i++) {
        if (integ_table[i].id == id) {
            *out = &integ_table[i];
            return 0;
        }
    }
    return VPN_ERR_UNSUPPORTED;
}

static enum vpn_hash integ_hash(uint16_t id)
{
    switch (id) {
    case VPN_AUTH_HMAC_SHA2_256_128:
        return VPN_HASH_SHA256;
    case VPN_AUTH_HMAC_SHA2_384_192:
        return VPN_HASH_SHA384;
    case VPN_AUTH_HMAC_SHA2_512_256:
        return VPN_HASH_SHA512;
    default:
        return VPN_HASH_SHA1;
    }
}

int vpn_integ_new(vpn_integ **out, uint16_t id, const uint8_t *key, size_t key_len)
{
    return vpn_integ_new_a(NULL, out, id, key, key_len);
}

int vpn_integ_new_a(const vpn_alloc *a, vpn_integ **out, uint16_t id, const uint8_t *key, size_t key_len)
{
    const vpn_integ_info *info;
    vpn_integ *g;
    int rc;

    if (out == NULL)
        return VPN_ERR_INVAL;
    *out = NULL;
    rc = vpn_integ_lookup(id, &info);
    if (rc != 0)
        return rc;
    /* NONE has no context; RFC 2404 / RFC 4868 fix the key length. */
    if (info->id == VPN_INTEG_NONE || key == NULL || key_len != info->key_len)
        return VPN_ERR_INVAL;
    g = vpn_calloc(a, 1, sizeof *g);
    if (g == NULL)
        return VPN_ERR_NOMEM;
    g->info = info;
    rc = vpn_hmac_init(&g->hmac, integ_hash(id), key, key_len);
    if (rc != 0) {
        vpn_integ_del(g);
        return rc;
    }
    *out = g;
    return 0;
}

void vpn_integ_del(vpn_integ *g)
{
    if (g == NULL)
        return;
    vpn_hmac_free(&g->hmac);
    OPENSSL_cleanse(g, sizeof *g);
    free(g);
}

const vpn_integ_info *vpn_integ_get_info(const vpn_integ *g)
{
    return g == NULL ? NULL : g->info;
}

int vpn_integ_compute(vpn_integ *g, const vpn_iov *iov, size_t n, uint8_t *icv)
{
    uint8_t full[VPN_HASH_MAX_LEN];
    int rc;

    if (g == NULL || icv == NULL)
        return VPN_ERR_INVAL;
    rc = vpn_hmac_compute(&g->hmac, iov, n, full);
    if (rc == 0)
        memcpy(icv, full, g->info->icv_len); /* leftmost bits, RFC 2104 5 */
    OPENSSL_cleanse(full, sizeof full);
    return rc;
}

int vpn_integ_verify(vpn_integ *g, const vpn_iov *iov, size_t n, const uint8_t *icv)
{
    uint8_t full[VPN_HASH_MAX_LEN];
    int rc;

    if (g == NULL || icv == NULL)
        return VPN_ERR_INVAL;
    rc = vpn_hmac_compute(&g->hmac, iov, n, full);
    if (rc == 0 && CRYPTO_memcmp(full, icv, g->info->icv_len) != 0)
        rc = VPN_ERR_AUTH;
    OPENSSL_cleanse(full, sizeof full);
    return rc;
}
