/*
 * Diffie-Hellman key exchange for IKEv2 and GDOI, selected by the IKEv2
 * Key Exchange Method transform ID (enum vpn_dh_id): MODP groups 2, 5,
 * 14, 15, 16 (RFC 2409 6.2, RFC 3526), ECP groups 19, 20, 21 (RFC 5903)
 * and Curve25519, group 31 (RFC 8031).
 *
 * The private value is drawn from the injected vpn_rng, never from
 * OpenSSL's own generator, so a simulation seeded the same way sends
 * byte-identical KE payloads. Public values and shared secrets use the
 * IKE encodings:
 *   MODP        public g^x and secret g^xy, each left-padded to len(p)
 *               (RFC 7296 3.4, RFC 2409 / RFC 3526);
 *   ECP         public x || y, each left-padded to the field size, with
 *               no 0x04 prefix; secret the x coordinate (RFC 5903 7);
 *   Curve25519  32-byte u-coordinates and output (RFC 8031 2, RFC 7748).
 *
 * The peer's public value is checked as RFC 6989 (and RFC 8031 2 for
 * Curve25519) require. A rejected peer value leaves the context as it
 * was, so it can still be used (say, with a retransmitted message).
 */
#ifndef VPN_DH_H
#define VPN_DH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/rng.h"
#include "crypto/crypto-ids.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The largest public value or shared secret of any group (MODP 4096). */
#define VPN_DH_MAX_LEN 512

typedef enum vpn_dh_kind {
    VPN_DH_KIND_MODP = 1,
    VPN_DH_KIND_ECP = 2,
    VPN_DH_KIND_X25519 = 3,
} vpn_dh_kind;

typedef struct vpn_dh_info {
    uint16_t id;          /* enum vpn_dh_id */
    vpn_dh_kind kind;
    size_t pub_len;       /* bytes of the KE payload's key exchange data */
    size_t secret_len;    /* bytes of the shared secret g^ir */
    size_t priv_len;      /* bytes of private value drawn from the RNG per try */
    unsigned strength;    /* estimated security strength, bits (SP 800-57) */
    const char *name;     /* "MODP-2048 (group 14)" */
} vpn_dh_info;

/* Looks up a group. Returns 0 or VPN_ERR_UNSUPPORTED (NONE is unsupported). */
int vpn_dh_lookup(uint16_t group, const vpn_dh_info **out);

typedef struct vpn_dh vpn_dh;

/*
 * Creates a context with a fresh private value drawn from rng, and
 * computes its public value:
 *   MODP: x of 2 * strength bits (NIST SP 800-56A rev3 5.6.1.1.4: an
 *         exponent of at least twice the security strength; below q for
 *         these safe primes), x >= 2, y = g^x mod p;
 *   ECP:  d uniform in [1, n-1] by rejection sampling (FIPS 186-4 B.4.2),
 *         Q = d * G;
 *   X25519: 32 random bytes as the scalar (clamped by X25519, RFC 7748 5).
 * The number of bytes drawn depends only on the group and the RNG output,
 * so equal seeds give equal contexts. rng is only used during the call.
 * On success *out is owned by the caller (free with vpn_dh_del).
 * Errors: VPN_ERR_INVAL, VPN_ERR_UNSUPPORTED, VPN_ERR_NOMEM,
 * VPN_ERR_CRYPTO (also if the RNG keeps producing out-of-range values),
 * or the RNG's own error.
 */
int vpn_dh_new(vpn_dh **out, uint16_t group, const vpn_rng *rng);

/*
 * Creates a context from a known private value (test vectors, or a key
 * reused on purpose): MODP x and ECP d as big-endian integers of at most
 * len(p) / the order's byte length, X25519 the 32-byte scalar. priv is
 * copied. Errors: VPN_ERR_INVAL (NULL, wrong length, or a value outside
 * [2, p-2] for MODP or [1, n-1] for ECP), VPN_ERR_UNSUPPORTED,
 * VPN_ERR_NOMEM, VPN_ERR_CRYPTO.
 */
int vpn_dh_new_private(vpn_dh **out, uint16_t group, const uint8_t *priv, size_t priv_len);

/* Wipes the private value and frees. NULL is fine. */
void vpn_dh_del(vpn_dh *dh);

const vpn_dh_info *vpn_dh_get_info(const vpn_dh *dh);

/*
 * The public value in IKE encoding; *len receives info->pub_len. The
 * bytes belong to dh and live as long as it does.
 */
const uint8_t *vpn_dh_public(const vpn_dh *dh, size_t *len);

/*
 * MODP only: also require peer^q == 1 mod p, q = (p-1)/2 (RFC 6989 2.2
 * calls this optional for safe-prime groups, where 1 < y < p-1 already
 * rules out the order-2 subgroup; it costs one full-size exponentiation).
 * Off by default. No effect on other groups.
 */
void vpn_dh_set_full_check(vpn_dh *dh, bool on);

/*
 * Computes the shared secret from the peer's public value (KE payload
 * data, peer_len bytes). On input *out_len is the capacity of out, on
 * success the secret's length (info->secret_len).
 * Checks, in order:
 *   - peer_len must equal info->pub_len                  -> VPN_ERR_MALFORMED
 *   - MODP: 1 < y < p-1 (RFC 6989 2.2), and y^q == 1 when the full check
 *     is on; ECP: each coordinate < p, the point on the curve and not the
 *     point at infinity (RFC 6989 2.3; the NIST curves have cofactor 1);
 *     X25519: the output is not all zero (RFC 8031 2, RFC 7748 6.1)
 *                                                        -> VPN_ERR_POLICY
 * Errors also: VPN_ERR_INVAL (NULL), VPN_ERR_NOSPACE, VPN_ERR_NOMEM,
 * VPN_ERR_CRYPTO. On any error out is zeroed and dh is unchanged.
 */
int vpn_dh_compute(const vpn_dh *dh, const uint8_t *peer, size_t peer_len, uint8_t *out,
                   size_t *out_len);

#ifdef __cplusplus
}
#endif

#endif
