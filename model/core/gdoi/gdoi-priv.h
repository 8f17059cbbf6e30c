/* Pieces the GDOI key server and group member share (not public API). */
#ifndef VPN_GDOI_PRIV_H
#define VPN_GDOI_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "gdoi/gdoi.h"
#include "isakmp/gdoi-codec.h"

#define GDOI_MSG_MAX 4096
#define GDOI_KEK_KEY_LEN 32 /* AES-256 */
#define GDOI_KEK_IV_LEN 16
#define GDOI_NONCE_LEN 32

/*
 * Finishes a GROUPKEY-PULL message whose first payload is a HASH
 * placeholder (slot): pads, fills HASH(n) = prf(SKEYID_a, input) (RFC
 * 6407 3.2), encrypts in place under the phase-1 key with iv (updated),
 * and writes the decrypted view into view (cap GDOI_MSG_MAX).
 */
int gdoi_pull_seal(vpn_ikev1_sa *p1, vpn_isakmp_bld *b, unsigned n, vpn_isakmp_view ni_b,
                   vpn_isakmp_view nr_b, uint8_t *slot, uint8_t iv[VPN_IKEV1_BLOCK],
                   size_t *len, uint8_t *view, size_t *view_len);
/*
 * Opens a GROUPKEY-PULL message: decrypts with a copy of iv into plain
 * (GDOI_MSG_MAX), parses it, checks HASH(n) first. iv is updated only on
 * success. Errors: parse errors, VPN_ERR_AUTH.
 */
int gdoi_pull_open(vpn_ikev1_sa *p1, const uint8_t *dg, size_t len, unsigned n,
                   vpn_isakmp_view ni_b, vpn_isakmp_view nr_b, uint8_t iv[VPN_IKEV1_BLOCK],
                   vpn_isakmp_msg *m, uint8_t *plain);
/* AES-256-CBC in place with the KEK (RFC 6407 4: the PUSH is KEK-encrypted). */
int gdoi_kek_crypt(const uint8_t key[GDOI_KEK_KEY_LEN], const uint8_t iv[GDOI_KEK_IV_LEN],
                   uint8_t *buf, size_t len, bool enc);
/* ESP key lengths for a TEK transform: cipher keying material and integrity key. */
int gdoi_tek_key_lens(uint16_t encr_id, uint16_t key_bits, uint16_t integ_id, size_t *alg_len,
                      size_t *integ_len);
/* IPsec DOI auth algorithm attribute <-> integrity transform. */
uint16_t gdoi_auth_alg_of(uint16_t integ_id);
uint16_t gdoi_integ_of(uint16_t auth_alg);

#endif
