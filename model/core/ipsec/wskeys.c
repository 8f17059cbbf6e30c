#include "ipsec/wskeys.h"

#include <stdio.h>
#include <string.h>

#include "common/vpn-err.h"
#include "crypto/cipher.h"
#include "crypto/integ.h"
#include "ipsec/sa-priv.h"

bool vpn_wskeys_decryptable(uint16_t encr_id, uint16_t encr_key_bits, uint16_t integ_id)
{
    const vpn_cipher_info *ci;
    const vpn_integ_info *ii;

    /* Wireshark 4.0's esp_sa and ikev2_decryption_table have no
     * ChaCha20-Poly1305 (RFC 7634) entry; every other algorithm the core
     * implements has a label in both (cipher.c, integ.c). */
    if (encr_id == VPN_ENCR_CHACHA20_POLY1305)
        return false;
    if (vpn_cipher_lookup(encr_id, encr_key_bits, &ci) != 0 || ci->ws_esp == NULL)
        return false;
    if (integ_id == VPN_INTEG_NONE)
        return true; /* AEAD, or ESP without integrity: Wireshark's "NULL" */
    return vpn_integ_lookup(integ_id, &ii) == 0 && ii->ws_esp != NULL;
}

bool vpn_wskeys_sa_decryptable(const vpn_sa *sa)
{
    return sa != NULL && vpn_wskeys_decryptable(sa->cfg.encr_id, sa->cfg.encr_key_bits, sa->cfg.integ_id);
}

/* "0x" and hex, or "" for no key. */
static void hex_key(char *dst, const uint8_t *k, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    if (n == 0) {
        dst[0] = '\0';
        return;
    }
    *dst++ = '0';
    *dst++ = 'x';
    for (size_t i = 0; i < n; i++) {
        *dst++ = digits[k[i] >> 4];
        *dst++ = digits[k[i] & 15];
    }
    *dst = '\0';
}

int vpn_wskeys_esp_sa_line(const vpn_sa *sa, unsigned dir, uint8_t family, char *out, size_t cap)
{
    char src[VPN_ADDR_STRLEN], dst[VPN_ADDR_STRLEN];
    char ek[2 + 2 * VPN_SA_KEY_MAX + 1], ik[2 + 2 * VPN_SA_KEY_MAX + 1];
    const vpn_addr *s, *d;
    const char *auth;
    int n;

    if (!sa || !out || (dir != VPN_SA_IN && dir != VPN_SA_OUT))
        return VPN_ERR_INVAL;
    if (!vpn_wskeys_sa_decryptable(sa))
        return VPN_ERR_UNSUPPORTED;
    s = dir == VPN_SA_OUT ? &sa->cfg.local : &sa->cfg.remote;
    d = dir == VPN_SA_OUT ? &sa->cfg.remote : &sa->cfg.local;
    if (sa->cfg.mode == VPN_ESP_TUNNEL_ADDR_PRESERVE ||
        sa->cfg.mode == VPN_ESP_TUNNEL_ADDR_PRESERVE_DST || s->family == VPN_AF_NONE ||
        d->family == VPN_AF_NONE) {
        /* The packets carry the hosts' own addresses: any will do. */
        if (family != VPN_AF_INET && family != VPN_AF_INET6)
            return VPN_ERR_INVAL;
        strcpy(src, "*");
        strcpy(dst, "*");
    } else {
        family = s->family;
        vpn_addr_str(s, src, sizeof src);
        vpn_addr_str(d, dst, sizeof dst);
    }
    hex_key(ek, sa->ekey, sa->ekey_len);
    hex_key(ik, sa->ikey, sa->ii ? sa->ikey_len : 0);
    auth = sa->ii ? sa->ii->ws_esp : "NULL";
    n = snprintf(out, cap, "\"%s\",\"%s\",\"%s\",\"0x%08x\",\"%s\",\"%s\",\"%s\",\"%s\"",
                 family == VPN_AF_INET ? "IPv4" : "IPv6", src, dst, sa->cfg.spi, sa->ci->ws_esp,
                 ek, auth, ik);
    if (n < 0)
        return VPN_ERR_INVAL;
    if ((size_t)n >= cap)
        return VPN_ERR_NOSPACE;
    return n;
}
