/*
 * Integrity algorithms (truncated HMACs) for ESP and IKE, selected by IKEv2
 * integrity transform ID. A vpn_integ keeps the precomputed inner and outer
 * hash states of its key, so computing an ICV allocates nothing.
 */
#ifndef VPN_INTEG_H
#define VPN_INTEG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/alloc.h"
#include "crypto/crypto-ids.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vpn_integ_info {
    uint16_t id;      /* enum vpn_integ_id */
    size_t key_len;   /* RFC 4868 2.1.1: key length = hash output length */
    size_t icv_len;   /* truncated output */
    const char *name;
    const char *ws_esp;   /* Wireshark esp_sa authentication label */
    const char *ws_ikev2; /* Wireshark ikev2_decryption_table label */
} vpn_integ_info;

/* Returns 0 or VPN_ERR_UNSUPPORTED. */
int vpn_integ_lookup(uint16_t id, const vpn_integ_info **out);

/* A scatter list: the ESP ICV covers the packet plus the ESN high bits. */
typedef struct vpn_iov {
    const uint8_t *p;
    size_t len;
} vpn_iov;

typedef struct vpn_integ vpn_integ;

/* Errors: VPN_ERR_UNSUPPORTED, VPN_ERR_INVAL, VPN_ERR_NOMEM, VPN_ERR_CRYPTO. */
int vpn_integ_new(vpn_integ **out, uint16_t id, const uint8_t *key, size_t key_len);
/* The same behind an allocation gate (common/alloc.h; NULL allows all). */
int vpn_integ_new_a(const vpn_alloc *a, vpn_integ **out, uint16_t id, const uint8_t *key, size_t key_len);
void vpn_integ_del(vpn_integ *g);
const vpn_integ_info *vpn_integ_get_info(const vpn_integ *g);

/* Writes info->icv_len bytes. Errors: VPN_ERR_INVAL, VPN_ERR_CRYPTO. */
int vpn_integ_compute(vpn_integ *g, const vpn_iov *iov, size_t n, uint8_t *icv);
/* Constant-time compare. Errors: VPN_ERR_AUTH on mismatch, as above. */
int vpn_integ_verify(vpn_integ *g, const vpn_iov *iov, size_t n, const uint8_t *icv);

#ifdef __cplusplus
}
#endif

#endif
