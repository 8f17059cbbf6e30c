/*
 * ISAKMP data attributes (RFC 2408 3.3): the one encoding shared by IKEv1
 * transforms, IPsec DOI SA attributes, and the GDOI KEK, TEK, GAP and
 * key-packet attributes.
 *
 *   AF=1 (TV, "basic"):    type|0x8000 (2)  value (2)
 *   AF=0 (TLV, "variable"): type (2)  length (2)  value (length)
 *
 * The iterator reads through the wire.h cursors and hands out zero-copy
 * views into the list; nothing is allocated.
 */
#ifndef VPN_ISAKMP_ATTR_H
#define VPN_ISAKMP_ATTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A borrowed byte range (inside a message the caller keeps alive). */
typedef struct vpn_isakmp_view {
    const uint8_t *p;
    size_t len;
} vpn_isakmp_view;

/* At most this many attributes in one list; more is VPN_ERR_LIMIT. */
#define VPN_ISAKMP_MAX_ATTRS 64

/* One attribute. For TV, val points at the 2 value bytes (len 2). */
typedef struct vpn_isakmp_attr {
    uint16_t type; /* without the AF bit */
    bool tv;
    const uint8_t *val;
    size_t len;
} vpn_isakmp_attr;

typedef struct vpn_isakmp_attr_iter {
    vpn_rd rd;
    unsigned count;
} vpn_isakmp_attr_iter;

/* Starts iterating over the attribute list p[0..len). */
void vpn_isakmp_attr_iter_init(vpn_isakmp_attr_iter *it, const uint8_t *p, size_t len);

/*
 * Reads the next attribute into *a. Returns 1 when one was read, 0 at the
 * clean end of the list, or VPN_ERR_MALFORMED (a header or TLV value runs
 * past the list), VPN_ERR_LIMIT (more than VPN_ISAKMP_MAX_ATTRS). After an
 * error the iterator stays failed. *a is untouched unless 1 is returned.
 */
int vpn_isakmp_attr_next(vpn_isakmp_attr_iter *it, vpn_isakmp_attr *a);

/* Walks a whole list: 0 if it is well formed, else the iterator's error. */
int vpn_isakmp_attrs_check(const uint8_t *p, size_t len);

/*
 * Finds the first attribute of type t. Returns 1 (found, *a set), 0 (absent)
 * or the iterator's error.
 */
int vpn_isakmp_attr_find(const uint8_t *p, size_t len, uint16_t t, vpn_isakmp_attr *a);

/*
 * The value of a basic (TV) attribute. RFC 2409 appendix A: attributes
 * described as basic MUST NOT be encoded as variable, so a TLV form is
 * VPN_ERR_MALFORMED.
 */
int vpn_isakmp_attr_basic(const vpn_isakmp_attr *a, uint16_t *v);

/*
 * The value of a variable attribute read as an unsigned integer. RFC 2409
 * appendix A lets a variable attribute travel in basic form when it fits
 * in two octets, so both forms are accepted. A TLV value longer than 8
 * octets, or empty, is VPN_ERR_MALFORMED; one above max is VPN_ERR_OVERFLOW.
 */
int vpn_isakmp_attr_uint(const vpn_isakmp_attr *a, uint64_t max, uint64_t *v);

/*
 * The value of a variable attribute that carries bytes (keys, primes). A
 * basic form is VPN_ERR_MALFORMED: two value octets are not key material.
 * *out views into the list.
 */
int vpn_isakmp_attr_bytes(const vpn_isakmp_attr *a, vpn_isakmp_view *out);

/* Writers. Each returns 0 or the writer's sticky error (VPN_ERR_NOSPACE). */
/* TV form; type must be < 0x8000 (else VPN_ERR_INVAL). */
int vpn_isakmp_attr_put_tv(vpn_wr *w, uint16_t type, uint16_t val);
/* TLV form; len must fit 16 bits (else VPN_ERR_OVERFLOW). */
int vpn_isakmp_attr_put_tlv(vpn_wr *w, uint16_t type, const void *val, size_t len);
/*
 * A variable integer attribute (a life duration, the KEK lifetime): always
 * TLV with the shortest of 4 or 8 octets that holds v, which every
 * receiver reads.
 */
int vpn_isakmp_attr_put_uint(vpn_wr *w, uint16_t type, uint64_t v);

#ifdef __cplusplus
}
#endif

#endif
