/*
 * Building ISAKMP messages into a caller's buffer (no allocation).
 *
 * The builder writes the header, then payloads: begin(type) patches the
 * previous next-payload field (the header's, the previous sibling's, or a
 * container's first-payload field) with type and writes a generic header
 * whose length end() patches. Payloads nest (SA > proposal > transform,
 * SA > SA KEK/GAP/SA TEK, KD > key packets), each nesting level having its
 * own next-payload chain, so proposals get next 2 or 0, transforms 3 or 0,
 * GDOI sub-payloads 15/16/22 or 0, as RFC 2408 3.5/3.6 and RFC 6407 5.2
 * require. finish() (plaintext) or pad() (to be encrypted) closes the
 * message and patches the header length.
 *
 * Errors are sticky: the first failure (VPN_ERR_NOSPACE, VPN_ERR_OVERFLOW
 * for a length that does not fit its field, VPN_ERR_STATE for calls out of
 * order, VPN_ERR_LIMIT past VPN_ISAKMP_MAX_PAYLOADS top-level payloads or
 * the nesting depth) is returned by that call and every later one.
 */
#ifndef VPN_ISAKMP_BUILD_H
#define VPN_ISAKMP_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/wire.h"
#include "isakmp/isakmp-msg.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VPN_ISAKMP_BLD_DEPTH 4

typedef struct vpn_isakmp_bld_level {
    size_t start;     /* offset of the open payload whose body this level is */
    size_t np_pos;    /* where the next child's type goes */
    uint8_t np_width; /* 0 (nowhere), 1 or 2 octets */
    size_t cnt_pos;   /* a count field to patch with the number of children */
    uint8_t cnt_width;
    unsigned children;
} vpn_isakmp_bld_level;

typedef struct vpn_isakmp_bld {
    vpn_wr w;
    unsigned depth;
    vpn_isakmp_bld_level lvl[VPN_ISAKMP_BLD_DEPTH + 1];
    size_t n; /* top-level payloads begun */
    size_t pl_off[VPN_ISAKMP_MAX_PAYLOADS];
    uint8_t pl_type[VPN_ISAKMP_MAX_PAYLOADS];
    size_t chain_end; /* set by finish/pad: end of the chain, before padding */
    bool done;
    int err;
} vpn_isakmp_bld;

/*
 * Starts a message in buf[0..cap) with header hdr (its next_payload and
 * length are ignored: the builder fills them). buf must outlive b.
 */
int vpn_isakmp_bld_init(vpn_isakmp_bld *b, uint8_t *buf, size_t cap, const vpn_isakmp_hdr *hdr);

/* Opens a payload of the given type at the current level. */
int vpn_isakmp_bld_begin(vpn_isakmp_bld *b, uint8_t type);
/* The writer for the open payload's body (or for anything at top level). */
static inline vpn_wr *vpn_isakmp_bld_wr(vpn_isakmp_bld *b) { return &b->w; }
/* Closes the innermost open payload, patching its length and count field. */
int vpn_isakmp_bld_end(vpn_isakmp_bld *b);

/*
 * Inside an open payload's body: reserves a width-octet field (1 or 2)
 * that receives the type of the first nested payload (GDOI SA's "SA
 * Attribute Next Payload"). Without it the first nested payload's type is
 * implied (an SA's first proposal).
 */
int vpn_isakmp_bld_first_np(vpn_isakmp_bld *b, unsigned width);
/* Reserves a width-octet (1 or 2) count field patched at end() with the
 * number of nested payloads or key packets. */
int vpn_isakmp_bld_count(vpn_isakmp_bld *b, unsigned width);
/* Counts a nested element that is not a generic payload (a key packet). */
void vpn_isakmp_bld_child(vpn_isakmp_bld *b);
/* Records err as the builder's error (if it has none yet); returns the error. */
int vpn_isakmp_bld_fail(vpn_isakmp_bld *b, int err);
/* The builder's sticky error (0 if none), including its writer's. */
int vpn_isakmp_bld_error(vpn_isakmp_bld *b);

/* A payload whose body is the given bytes (HASH, SIG, Nonce, KE, VID, ...). */
int vpn_isakmp_bld_raw(vpn_isakmp_bld *b, uint8_t type, const void *body, size_t len);
/*
 * A payload with a zeroed body of len octets, whose address is returned in
 * *slot for the caller to fill later (a HASH or SIG computed over the
 * finished message). *slot stays valid as long as buf does.
 */
int vpn_isakmp_bld_placeholder(vpn_isakmp_bld *b, uint8_t type, size_t len, uint8_t **slot);

/* Closes the message (no encryption): patches the header length. */
int vpn_isakmp_bld_finish(vpn_isakmp_bld *b, size_t *len);
/*
 * Closes a message that will be CBC-encrypted: sets the E flag, appends
 * RFC 2409 appendix B padding (zeros, then a final octet counting the
 * other padding octets; always at least one octet, so an aligned chain
 * gets a whole block) up to a multiple of block (1..255), and patches the
 * header length to the padded size. The plaintext to encrypt in place is
 * buf[VPN_ISAKMP_HDR_LEN..*len). Receivers that ignore the count octet
 * and readers that use it both find the end of the chain.
 */
int vpn_isakmp_bld_pad(vpn_isakmp_bld *b, unsigned block, size_t *len);

/* The message so far (header included). */
static inline const uint8_t *vpn_isakmp_bld_buf(const vpn_isakmp_bld *b) { return b->w.buf; }
/*
 * After finish/pad: the chain bytes after top-level payload idx (to the
 * end of the chain, padding excluded), and before it (from the first
 * payload). Errors: VPN_ERR_STATE (not finished), VPN_ERR_INVAL.
 */
int vpn_isakmp_bld_after(const vpn_isakmp_bld *b, size_t idx, vpn_isakmp_view *out);
int vpn_isakmp_bld_before(const vpn_isakmp_bld *b, size_t idx, vpn_isakmp_view *out);

/* ---- typed payloads (RFC 2408 3.4-3.15, RFC 2407 4.6.2) ----------------- */

/* SA in the proposal form: begin (DOI, situation), proposals, end. */
int vpn_isakmp_bld_sa_begin(vpn_isakmp_bld *b, uint32_t doi, uint32_t situation);
/* A proposal; its transform count is patched by prop_end. */
int vpn_isakmp_bld_prop_begin(vpn_isakmp_bld *b, uint8_t num, uint8_t proto, const uint8_t *spi,
                              size_t spi_len);
int vpn_isakmp_bld_xform(vpn_isakmp_bld *b, uint8_t num, uint8_t id, const uint8_t *attrs,
                         size_t attrs_len);
int vpn_isakmp_bld_prop_end(vpn_isakmp_bld *b);
int vpn_isakmp_bld_sa_end(vpn_isakmp_bld *b);

int vpn_isakmp_bld_id(vpn_isakmp_bld *b, const vpn_isakmp_id *id);
/* type is VPN_ISAKMP_PL_CERT or VPN_ISAKMP_PL_CR. */
int vpn_isakmp_bld_cert(vpn_isakmp_bld *b, uint8_t type, uint8_t enc, const uint8_t *data,
                        size_t len);
int vpn_isakmp_bld_notify(vpn_isakmp_bld *b, const vpn_isakmp_notify *n);
/* d->spis must hold d->nspi * d->spi_size octets. */
int vpn_isakmp_bld_delete(vpn_isakmp_bld *b, const vpn_isakmp_delete *d);

#ifdef __cplusplus
}
#endif

#endif
