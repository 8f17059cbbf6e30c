/*
 * Key export for Wireshark: one line of its `esp_sa` UAT file per SA and
 * direction, so that a trace opened with XDG_CONFIG_HOME pointing at the
 * folder holding wireshark/esp_sa decrypts (with
 * esp.enable_encryption_decode set). Format (Wireshark 4.0, every field
 * quoted):
 *
 *   "IPv4","192.0.2.1","192.0.2.2","0x0000c001","AES-GCM with 16 octet ICV [RFC4106]","0x<key||salt>","NULL",""
 *
 * Group SAs without fixed endpoints (address preservation, wildcard
 * destination) use "*" for both addresses, which Wireshark takes as any.
 */
#ifndef VPN_IPSEC_WSKEYS_H
#define VPN_IPSEC_WSKEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipsec/sa.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Whether the installed Wireshark (4.0) can decrypt traffic protected with
 * these algorithms (IKEv2 transform IDs: encryption with its Key Length
 * attribute, integrity, VPN_INTEG_NONE with AEAD), in ESP (esp_sa) and in
 * IKEv2's SK payload (ikev2_decryption_table). The one place that decides:
 * key lines are written only when it says yes, and drivers write the
 * decrypted view of an SA (the `*.plain.pcap` traces) when it says no.
 * Wireshark 4.0 has no ChaCha20-Poly1305 (RFC 7634) in either dissector.
 */
bool vpn_wskeys_decryptable(uint16_t encr_id, uint16_t encr_key_bits, uint16_t integ_id);

/* vpn_wskeys_decryptable for an SA's algorithms; false for NULL. */
bool vpn_wskeys_sa_decryptable(const vpn_sa *sa);

/*
 * Writes the line for sa as traffic in direction dir (VPN_SA_IN or
 * VPN_SA_OUT) travels, without a newline, into out (cap bytes with the
 * NUL). family (4 or 6) names the protocol when the SA has no addresses.
 * Returns the length, or VPN_ERR_INVAL, VPN_ERR_NOSPACE, or
 * VPN_ERR_UNSUPPORTED when vpn_wskeys_sa_decryptable says no
 * (ChaCha20-Poly1305 in 4.0).
 */
int vpn_wskeys_esp_sa_line(const vpn_sa *sa, unsigned dir, uint8_t family, char *out, size_t cap);

#ifdef __cplusplus
}
#endif

#endif
