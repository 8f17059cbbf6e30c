/*
 * Key export for Wireshark's IKEv2 decryption table (the UAT file
 * `ikev2_decryption_table`, Wireshark 4.0): one line per IKE SA,
 *
 *   SPIi,SPIr,SK_ei,SK_er,"<encryption label>",SK_ai,SK_ar,"<integrity label>"
 *
 * SPIs and keys as bare hex. For AEAD ciphers SK_e carries the salt and the
 * integrity column is "NONE [RFC4306]" with empty keys.
 */
#ifndef VPN_IKEV2_WSKEYS_H
#define VPN_IKEV2_WSKEYS_H

#include <stddef.h>
#include <stdint.h>

#include "ikev2/ikev2-engine.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Writes the line (no newline) for IKE SA ike_sa_id into out (cap bytes).
 * Returns its length, or VPN_ERR_NOTFOUND (no such SA), VPN_ERR_STATE
 * (not keyed yet), VPN_ERR_UNSUPPORTED (Wireshark has no label for the
 * algorithm), VPN_ERR_NOSPACE.
 */
int vpn_ikev2_wskeys_line(const vpn_ikev2_ctx *ctx, uint32_t ike_sa_id, char *out, size_t cap);

#ifdef __cplusplus
}
#endif

#endif
