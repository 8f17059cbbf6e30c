/*
 * The cryptography of one IKE SA, as the engine uses it:
 *   - the SK_* keys and keyed cipher/integrity contexts of both directions
 *     (RFC 7296 2.14), and the protection of the Encrypted payload
 *     (RFC 7296 3.14; AEAD ciphers as RFC 5282 5 defines them);
 *   - the AUTH payload's signed octets and the PSK MAC (RFC 7296 2.15);
 *   - NAT detection hashes (RFC 7296 2.23) and stateless cookies (2.6).
 *
 * Internal to the IKEv2 engine (and its tests); no wire parsing here: the
 * codec lays the Encrypted payload out and these functions fill it.
 */
#ifndef VPN_IKEV2_CRYPTO_H
#define VPN_IKEV2_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/rng.h"
#include "crypto/cipher.h"
#include "crypto/integ.h"
#include "crypto/kdf.h"
#include "crypto/prf.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Keys and contexts of one IKE SA. Embed and vpn_ikev2_crypto_init it. */
typedef struct vpn_ikev2_crypto {
    vpn_ikev2_suite suite;
    const vpn_cipher_info *cinfo;
    const vpn_integ_info *iinfo; /* NULL for AEAD */
    const vpn_prf_info *pinfo;
    vpn_ikev2_keys keys;
    bool initiator;              /* we are the original initiator of this SA */
    vpn_cipher *enc, *dec;       /* outbound (our SK_e) and inbound */
    vpn_integ *mac_out, *mac_in; /* non-AEAD only */
    uint64_t iv_counter;         /* AEAD: explicit IVs never repeat (RFC 5282 3) */
} vpn_ikev2_crypto;

/*
 * Derives SK_* from SKEYSEED (vpn_ikev2_ike_keys_derive) and keys the
 * contexts for our role: the original initiator sends with SK_ei/SK_ai,
 * the responder with SK_er/SK_ar (RFC 7296 2.14). On failure c is left
 * zeroed. Errors: VPN_ERR_UNSUPPORTED, VPN_ERR_INVAL, VPN_ERR_NOMEM,
 * VPN_ERR_CRYPTO.
 */
int vpn_ikev2_crypto_init(vpn_ikev2_crypto *c, const vpn_ikev2_suite *suite,
                          const vpn_key *skeyseed, vpn_iov ni, vpn_iov nr,
                          const uint8_t spii[8], const uint8_t spir[8], bool initiator);

/* The same with an allocation gate (common/alloc.h; NULL allows all) asked
 * for the cipher and integrity contexts (the engine passes its own). */
int vpn_ikev2_crypto_init_a(const vpn_alloc *a, vpn_ikev2_crypto *c, const vpn_ikev2_suite *suite,
                            const vpn_key *skeyseed, vpn_iov ni, vpn_iov nr, const uint8_t spii[8],
                            const uint8_t spir[8], bool initiator);

/* The same from SK_* keys already derived (tests, tools); copied into c and
 * wiped with it. */
int vpn_ikev2_crypto_init_keys(vpn_ikev2_crypto *c, const vpn_ikev2_suite *suite,
                               const vpn_ikev2_keys *keys, bool initiator);
/* ... behind an allocation gate, as vpn_ikev2_crypto_init_a: a refused
 * context is VPN_ERR_NOMEM with c left zeroed (the keys wiped). */
int vpn_ikev2_crypto_init_keys_a(const vpn_alloc *a, vpn_ikev2_crypto *c,
                                 const vpn_ikev2_suite *suite, const vpn_ikev2_keys *keys,
                                 bool initiator);

/* Wipes keys and frees the contexts; c may be zeroed or NULL. */
void vpn_ikev2_crypto_free(vpn_ikev2_crypto *c);

/* The lengths the Encrypted payload takes for this SA's cipher: explicit
 * IV, ICV, and the padding boundary (the block for CBC; 1 for AEAD and
 * counter modes, RFC 5282 3). */
size_t vpn_ikev2_sk_iv_len(const vpn_ikev2_crypto *c);
size_t vpn_ikev2_sk_icv_len(const vpn_ikev2_crypto *c);
size_t vpn_ikev2_sk_block_len(const vpn_ikev2_crypto *c);

/*
 * Protects an Encrypted (SK, RFC 7296 3.14) or Encrypted Fragment (SKF,
 * RFC 7383 2.5) payload in place. msg holds the whole message with every
 * length field final; the payload's parts sit at these offsets from the
 * start of the IKE header: IV (iv_len octets), plaintext already padded
 * (ct_len octets, Pad Length last), ICV (icv_len octets). This writes the
 * IV (random for CBC, a per-SA counter for AEAD, RFC 5282 3.1), encrypts,
 * and writes the ICV: for AEAD the tag over the associated data
 * [0, iv_off) (RFC 5282 5.1, RFC 7383 2.5), otherwise the MAC over
 * [0, icv_off) (RFC 7296 3.14).
 * Errors: VPN_ERR_INVAL (offsets that do not fit the cipher), VPN_ERR_CRYPTO,
 * the RNG's errors.
 */
int vpn_ikev2_sk_encrypt(vpn_ikev2_crypto *c, const vpn_rng *rng, uint8_t *msg, size_t iv_off,
                         size_t ct_off, size_t ct_len, size_t icv_off);

/*
 * Verifies, then decrypts the payload laid out as above into out (ct_len
 * octets; msg is not modified). Nothing is decrypted unless the ICV
 * verifies (RFC 7296 2.21.2: unauthenticated input is dropped). The caller
 * strips the padding.
 * Errors: VPN_ERR_INVAL, VPN_ERR_MALFORMED (ct_len not a multiple of the
 * block), VPN_ERR_AUTH, VPN_ERR_CRYPTO.
 */
int vpn_ikev2_sk_decrypt(vpn_ikev2_crypto *c, const uint8_t *msg, size_t iv_off, size_t ct_off,
                         size_t ct_len, size_t icv_off, uint8_t *out);

/*
 * The AUTH payload data for the shared-key method (RFC 7296 2.15):
 *   prf(prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets>)
 * with SignedOctets = RealMessage | Nonce(peer) | prf(SK_p, RestOfIDPayload).
 * real_msg is the IKE_SA_INIT message the signer sent, peer_nonce the
 * other side's nonce data, id_body the signer's ID payload body (ID type,
 * reserved octets and data), sk_p the signer's SK_pi or SK_pr.
 * out receives prf's output length (*out_len).
 * Errors: VPN_ERR_UNSUPPORTED, VPN_ERR_INVAL, VPN_ERR_NOSPACE, VPN_ERR_CRYPTO.
 */
int vpn_ikev2_auth_psk(uint16_t prf, vpn_iov psk, vpn_iov real_msg, vpn_iov peer_nonce,
                       const vpn_key *sk_p, vpn_iov id_body, uint8_t *out, size_t out_cap,
                       size_t *out_len);

/*
 * The signed octets themselves (for signature methods): RealMessage |
 * Nonce(peer) | prf(SK_p, RestOfIDPayload), written to out.
 * Errors as vpn_ikev2_auth_psk.
 */
int vpn_ikev2_signed_octets(uint16_t prf, vpn_iov real_msg, vpn_iov peer_nonce,
                            const vpn_key *sk_p, vpn_iov id_body, uint8_t *out, size_t out_cap,
                            size_t *out_len);

/*
 * NAT detection hash (RFC 7296 2.23): SHA-1(SPIi | SPIr | IP | Port); addr
 * is the raw address (4 or 16 octets), port in host order. Writes 20 octets.
 * Errors: VPN_ERR_INVAL, VPN_ERR_CRYPTO.
 */
#define VPN_IKEV2_NATD_LEN 20
int vpn_ikev2_natd_hash(const uint8_t spii[8], const uint8_t spir[8], const uint8_t *addr,
                        size_t addr_len, uint16_t port, uint8_t out[VPN_IKEV2_NATD_LEN]);

/*
 * Stateless cookie (RFC 7296 2.6):
 *   <version of secret (1 octet)> | SHA-256(Ni | IPi | SPIi | secret)
 * 33 octets. Errors: VPN_ERR_INVAL, VPN_ERR_CRYPTO.
 */
#define VPN_IKEV2_COOKIE_LEN 33
#define VPN_IKEV2_COOKIE_SECRET_LEN 32
int vpn_ikev2_cookie_make(uint8_t version, const uint8_t secret[VPN_IKEV2_COOKIE_SECRET_LEN],
                          vpn_iov ni, const uint8_t *addr, size_t addr_len,
                          const uint8_t spii[8], uint8_t out[VPN_IKEV2_COOKIE_LEN]);

#ifdef __cplusplus
}
#endif

#endif
