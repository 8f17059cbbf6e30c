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

#include <stddef.h>
#include <stdint.h>

#include "ipsec/sa.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Writes the line for sa as traffic in direction dir (VPN_SA_IN or
 * VPN_SA_OUT) travels, without a newline, into out (cap bytes with the
 * NUL). family (4 or 6) names the protocol when the SA has no addresses.
 * Returns the length, or VPN_ERR_INVAL, VPN_ERR_NOSPACE, or
 * VPN_ERR_UNSUPPORTED when Wireshark has no label for the algorithm
 * (ChaCha20-Poly1305 in 4.0).
 */
int vpn_wskeys_esp_sa_line(const vpn_sa *sa, unsigned dir, uint8_t family, char *out, size_t cap);

#ifdef __cplusplus
}
#endif

#endif
