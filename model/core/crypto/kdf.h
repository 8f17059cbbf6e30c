/*
 * IKE key derivation.
 *   IKEv2 (RFC 7296): SKEYSEED and the SK_* keys (2.14), CHILD_SA keying
 *   material (2.17), SKEYSEED when an IKE SA is rekeyed (2.18).
 *   IKEv1 (RFC 2409 5 and appendix B): SKEYID for pre-shared keys and for
 *   signatures, SKEYID_d/_a/_e, the encryption key expansion, and the CBC
 *   IVs of phase 1 and of phase 2 / informational exchanges (which GDOI's
 *   GROUPKEY-PULL also uses, RFC 6407 3.2).
 *
 * Every derived key lives in a vpn_key (explicit length, fixed storage, no
 * heap); the *_wipe functions cleanse them. Algorithms are named by IKEv2
 * transform IDs (crypto-ids.h); IKEv1 callers map their Hash attribute with
 * vpn_prf_from_ikev1_hash (prf.h). Byte strings are vpn_iov (integ.h).
 */
#ifndef VPN_KDF_H
#define VPN_KDF_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto-ids.h"
#include "crypto/integ.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VPN_KEY_MAX 64 /* SK_a for HMAC-SHA2-512; AES-256 + salt is 36 */

typedef struct vpn_key {
    size_t len;
    uint8_t b[VPN_KEY_MAX];
} vpn_key;

/* Cleanses the key bytes and sets len to 0. NULL is fine. */
void vpn_key_wipe(vpn_key *k);

/* ---- IKEv2 ------------------------------------------------------------- */

/* The transforms chosen for an IKE SA (or, without prf, a CHILD_SA). */
typedef struct vpn_ikev2_suite {
    uint16_t prf;           /* enum vpn_prf_id (IKE SA only) */
    uint16_t encr;          /* enum vpn_encr_id; 0 = none (AH) */
    uint16_t encr_key_bits; /* Key Length attribute, 0 if none */
    uint16_t integ;         /* enum vpn_integ_id; VPN_INTEG_NONE with AEAD */
} vpn_ikev2_suite;

/* RFC 7296 2.14. For AEAD ciphers sk_ai/sk_ar are empty and sk_ei/sk_er
 * include the salt (RFC 5282 7.1). */
typedef struct vpn_ikev2_keys {
    vpn_key sk_d, sk_ai, sk_ar, sk_ei, sk_er, sk_pi, sk_pr;
} vpn_ikev2_keys;

void vpn_ikev2_keys_wipe(vpn_ikev2_keys *k);

/*
 * SKEYSEED = prf(Ni | Nr, g^ir) (RFC 7296 2.14). ni/nr are the nonce
 * payload bodies; gir the shared secret as RFC 7296 / RFC 5903 encode it.
 * Errors: VPN_ERR_UNSUPPORTED (prf), VPN_ERR_INVAL, VPN_ERR_CRYPTO.
 */
int vpn_ikev2_skeyseed(uint16_t prf, vpn_iov ni, vpn_iov nr, vpn_iov gir, vpn_key *skeyseed);

/*
 * SKEYSEED for the new IKE SA of a rekey (RFC 7296 2.18):
 * prf(SK_d(old), g^ir(new) | Ni | Nr). The PRF is the OLD IKE SA's (2.18:
 * the rekeying exchange belongs to the old SA); the new SA's keys are then
 * derived with vpn_ikev2_ike_keys_derive and the NEW suite. Same errors.
 */
int vpn_ikev2_skeyseed_rekey(uint16_t old_prf, const vpn_key *sk_d_old, vpn_iov gir_new,
                             vpn_iov ni, vpn_iov nr, vpn_key *skeyseed);

/*
 * {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} =
 *     prf+(SKEYSEED, Ni | Nr | SPIi | SPIr)    (RFC 7296 2.14)
 * SK_d/SK_p take the PRF's preferred key length, SK_a the integrity key
 * length, SK_e the cipher's keying material length (with salt). spii/spir
 * are 8 octets each. The suite must name a PRF, a cipher other than NULL
 * (ENCR_NULL is ESP-only, RFC 7296 3.3.2), and an integrity algorithm iff
 * the cipher is not AEAD.
 * Errors: VPN_ERR_UNSUPPORTED, VPN_ERR_INVAL, VPN_ERR_CRYPTO; on error out
 * is wiped.
 */
int vpn_ikev2_ike_keys_derive(const vpn_ikev2_suite *suite, const vpn_key *skeyseed,
                              vpn_iov ni, vpn_iov nr, const uint8_t spii[8],
                              const uint8_t spir[8], vpn_ikev2_keys *out);

/* CHILD_SA keys, in the order RFC 7296 2.17 takes them from KEYMAT. */
typedef struct vpn_child_keys {
    vpn_key encr_i, integ_i; /* initiator -> responder */
    vpn_key encr_r, integ_r; /* responder -> initiator */
} vpn_child_keys;

void vpn_child_keys_wipe(vpn_child_keys *k);

/*
 * KEYMAT = prf+(SK_d, Ni | Nr), or prf+(SK_d, g^ir(new) | Ni | Nr) with PFS
 * (gir_new.len > 0), split as encr_i | integ_i | encr_r | integ_r
 * (RFC 7296 2.17). prf is the IKE SA's PRF; suite->prf is ignored.
 * encr = 0 means no cipher (AH); integ = VPN_INTEG_NONE no integrity key
 * (AEAD, or encryption-only ESP, which RFC 4303 3.2 still permits). AEAD
 * with an integrity algorithm, and a suite with neither key, are refused.
 * ni/nr are the nonces of this CREATE_CHILD_SA (or of IKE_SA_INIT for the
 * first CHILD_SA). Errors as vpn_ikev2_ike_keys_derive.
 */
int vpn_ikev2_child_keys_derive(uint16_t prf, const vpn_key *sk_d,
                                const vpn_ikev2_suite *suite, vpn_iov gir_new, vpn_iov ni,
                                vpn_iov nr, vpn_child_keys *out);

/* ---- IKEv1 ------------------------------------------------------------- */

typedef struct vpn_ikev1_keys {
    vpn_key skeyid, skeyid_d, skeyid_a, skeyid_e;
    vpn_key enc_key; /* the phase-1 cipher key, RFC 2409 appendix B */
} vpn_ikev1_keys;

void vpn_ikev1_keys_wipe(vpn_ikev1_keys *k);

/*
 * SKEYID for pre-shared keys: prf(pre-shared-key, Ni_b | Nr_b) (RFC 2409 5).
 * ni_b/nr_b are the nonce payload bodies. Errors as vpn_ikev2_skeyseed.
 */
int vpn_ikev1_skeyid_psk(uint16_t prf, vpn_iov psk, vpn_iov ni_b, vpn_iov nr_b, vpn_key *skeyid);

/* SKEYID for signatures: prf(Ni_b | Nr_b, g^xy) (RFC 2409 5). */
int vpn_ikev1_skeyid_sig(uint16_t prf, vpn_iov ni_b, vpn_iov nr_b, vpn_iov gxy, vpn_key *skeyid);

/*
 * From SKEYID (RFC 2409 5):
 *   SKEYID_d = prf(SKEYID, g^xy | CKY-I | CKY-R | 0)
 *   SKEYID_a = prf(SKEYID, SKEYID_d | g^xy | CKY-I | CKY-R | 1)
 *   SKEYID_e = prf(SKEYID, SKEYID_a | g^xy | CKY-I | CKY-R | 2)
 * and the enc_key_len-octet cipher key from SKEYID_e (appendix B, see
 * vpn_ikev1_enc_key). cky_i/cky_r are the 8-octet cookies. out->skeyid is
 * a copy of skeyid. Errors: VPN_ERR_UNSUPPORTED, VPN_ERR_INVAL (including
 * enc_key_len > VPN_KEY_MAX), VPN_ERR_CRYPTO; on error out is wiped.
 */
int vpn_ikev1_keys_derive(uint16_t prf, const vpn_key *skeyid, vpn_iov gxy,
                          const uint8_t cky_i[8], const uint8_t cky_r[8], size_t enc_key_len,
                          vpn_ikev1_keys *out);

/*
 * RFC 2409 appendix B: the first len octets of SKEYID_e when it is long
 * enough; otherwise of Ka = K1 | K2 | ..., K1 = prf(SKEYID_e, 0) (one zero
 * octet), Kn = prf(SKEYID_e, Kn-1). Errors as vpn_ikev1_keys_derive.
 */
int vpn_ikev1_enc_key(uint16_t prf, const vpn_key *skeyid_e, size_t len, vpn_key *out);

/*
 * Phase-1 IV = hash(g^xi | g^xr) truncated to block_len (RFC 2409
 * appendix B), hash being the PRF's hash. gxi/gxr are the KE payload
 * bodies of initiator and responder. Errors: VPN_ERR_UNSUPPORTED,
 * VPN_ERR_INVAL (block_len 0 or above the hash length), VPN_ERR_CRYPTO.
 */
int vpn_ikev1_phase1_iv(uint16_t prf, vpn_iov gxi, vpn_iov gxr, size_t block_len, uint8_t *iv);

/*
 * IV of the first message of a phase-2 (quick mode, GDOI GROUPKEY-PULL) or
 * informational exchange: hash(last phase-1 CBC output block | M-ID)
 * truncated to block_len (RFC 2409 appendix B), M-ID in network order.
 * last_block is block_len octets. Later messages of the exchange chain on
 * the last CBC block of the previous one (the caller's job). Same errors.
 */
int vpn_ikev1_phase2_iv(uint16_t prf, const uint8_t *last_block, size_t block_len,
                        uint32_t msg_id, uint8_t *iv);

#ifdef __cplusplus
}
#endif

#endif
