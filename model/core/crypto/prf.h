/*
 * IKE pseudorandom functions, selected by IKEv2 PRF transform ID, and
 * prf+ (RFC 7296 2.13). Only the HMAC PRFs are implemented (HMAC-SHA1,
 * RFC 2104; HMAC-SHA2-256/384/512, RFC 4868 2.1.2): they take keys of any
 * length, so the fixed-key-size rules of RFC 7296 2.14 (for AES-XCBC and
 * AES-CMAC PRFs) never apply here.
 *
 * Byte strings are passed as vpn_iov lists (crypto/integ.h), so callers can
 * hand in Ni | Nr | SPIi | SPIr without copying them together.
 */
#ifndef VPN_PRF_H
#define VPN_PRF_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto-ids.h"
#include "crypto/integ.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VPN_PRF_MAX_LEN 64 /* largest PRF output (HMAC-SHA2-512) */

typedef struct vpn_prf_info {
    uint16_t id;     /* enum vpn_prf_id */
    size_t out_len;  /* output length in octets */
    size_t key_len;  /* preferred key length: the output length for HMAC
                        PRFs (RFC 4868 2.1.2); SK_d and SK_p have it */
    const char *name;
} vpn_prf_info;

/* Returns 0 or VPN_ERR_UNSUPPORTED (also VPN_ERR_INVAL for NULL out). */
int vpn_prf_lookup(uint16_t id, const vpn_prf_info **out);

/*
 * out = prf(key, data[0] | ... | data[n-1]); writes info->out_len octets.
 * The key is the concatenation of key[0..nk-1] (may be empty).
 * Errors: VPN_ERR_UNSUPPORTED (id), VPN_ERR_INVAL (NULL pointer with a
 * nonzero length), VPN_ERR_NOSPACE (out_cap < out_len), VPN_ERR_CRYPTO.
 */
int vpn_prf_compute(uint16_t id, const vpn_iov *key, size_t nk, const vpn_iov *data, size_t n,
                    uint8_t *out, size_t out_cap);

/*
 * prf+ (RFC 7296 2.13): out = T1 | T2 | ... truncated to out_len, where
 * T1 = prf(K, S | 0x01) and Tn = prf(K, Tn-1 | S | n), S being the
 * concatenation of seed[0..n-1]. The counter is one octet, so out_len may
 * be at most 255 * out_len(prf).
 * Errors: VPN_ERR_UNSUPPORTED, VPN_ERR_INVAL, VPN_ERR_OVERFLOW (out_len too
 * large), VPN_ERR_CRYPTO. On error out is wiped.
 */
int vpn_prf_plus(uint16_t id, const vpn_iov *key, size_t nk, const vpn_iov *seed, size_t n,
                 uint8_t *out, size_t out_len);

/*
 * Maps an IKEv1 Hash Algorithm attribute value (RFC 2409 appendix A:
 * 2 = SHA, 4/5/6 = SHA2-256/384/512 per RFC 4868) to the PRF ID of its HMAC
 * (IKEv1 uses the HMAC of the negotiated hash when no PRF is negotiated,
 * RFC 2409 4). Errors: VPN_ERR_UNSUPPORTED (MD5, Tiger, unknown),
 * VPN_ERR_INVAL.
 */
int vpn_prf_from_ikev1_hash(uint16_t ikev1_hash, uint16_t *prf_id);

/*
 * Plain hash with the PRF's underlying hash function (IKEv1 IVs, RFC 2409
 * appendix B, are hashes, not PRF outputs). Writes out_len(prf) octets.
 * Errors as vpn_prf_compute.
 */
int vpn_prf_hash(uint16_t id, const vpn_iov *data, size_t n, uint8_t *out, size_t out_cap);

#ifdef __cplusplus
}
#endif

#endif
