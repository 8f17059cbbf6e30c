/*
 * ISAKMP messages (RFC 2408): the header, the payload chain, and the
 * bodies of the payloads IKEv1 (RFC 2409, RFC 2407) and GDOI (RFC 6407)
 * use. GDOI's own bodies (SA KEK/TEK, GAP, KD, SEQ) are in gdoi-codec.h;
 * the message parser validates them too.
 *
 * Parsing is zero-copy: every view points into the caller's buffer, which
 * must outlive the parsed structures. Nothing is allocated. A parse that
 * fails leaves the caller's structure exactly as it was (each parser works
 * on a private copy and commits on success).
 *
 * Strictness, chosen and applied everywhere in this codec:
 *   - RESERVED fields (the generic header's octet, RFC 2408 3.2; the GDOI
 *     SA's RESERVED2, RFC 6407 5.2; the SA KEK's RESERVED2, 5.3; the KD
 *     and key-packet RESERVED fields, 5.6; the transform's RESERVED2, RFC
 *     2408 3.6) must be zero, as the RFCs require of senders. A message
 *     with a non-zero reserved octet is rejected (VPN_ERR_MALFORMED,
 *     notify PAYLOAD-MALFORMED). ISAKMP has no critical bit (that is
 *     IKEv2's reuse of the octet), so there is nothing a reserved bit
 *     could legitimately say to us; rejecting keeps every accepted message
 *     byte-for-byte re-serialisable, which the HASH and signature inputs
 *     (computed over payloads as received) and the fuzz round trip rely on.
 *   - Unknown flag bits (RFC 2408 3.1), a version other than 1.0 (RFC
 *     2408 5.1), a header length different from the datagram's, and
 *     payload types this codec does not know are rejected.
 */
#ifndef VPN_ISAKMP_MSG_H
#define VPN_ISAKMP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/wire.h"
#include "isakmp/isakmp-attr.h"
#include "isakmp/isakmp-const.h"

#ifdef __cplusplus
extern "C" {
#endif

/* At most this many top-level payloads in one message (VPN_ERR_LIMIT). */
#define VPN_ISAKMP_MAX_PAYLOADS 32
/* Proposals per SA and transforms per proposal (VPN_ERR_LIMIT). */
#define VPN_ISAKMP_MAX_PROPOSALS 16
#define VPN_ISAKMP_MAX_TRANSFORMS 32
/*
 * RFC 2409 appendix B padding ends in an octet counting the padding octets
 * before it, so it is at most 256 octets long; more trailing bytes than
 * this after a decrypted payload chain are not padding but garbage.
 */
#define VPN_ISAKMP_MAX_PAD 256

/* RFC 2408 3.1: the decoded header. */
typedef struct vpn_isakmp_hdr {
    uint8_t icookie[VPN_ISAKMP_COOKIE_LEN];
    uint8_t rcookie[VPN_ISAKMP_COOKIE_LEN];
    uint8_t next_payload;
    uint8_t version;
    uint8_t exchange;
    uint8_t flags;
    uint32_t msg_id;
    uint32_t length;
} vpn_isakmp_hdr;

/*
 * One payload of a chain (RFC 2408 3.2). raw covers the whole payload
 * from its generic header, as HASH computations need it; body follows the
 * 4-octet generic header.
 */
typedef struct vpn_isakmp_payload {
    uint8_t type; /* named by the previous next-payload field */
    uint8_t next; /* this payload's next-payload field */
    const uint8_t *raw;
    size_t raw_len;
    const uint8_t *body;
    size_t body_len;
} vpn_isakmp_payload;

/*
 * A parsed message. For a message with the E flag, vpn_isakmp_msg_parse
 * stops at the header: encrypted is set, body/body_len is the ciphertext
 * and n is 0; after decryption vpn_isakmp_msg_parse_plain fills the chain
 * (views into the plaintext) and sets decrypted.
 */
typedef struct vpn_isakmp_msg {
    vpn_isakmp_hdr hdr;
    const uint8_t *raw; /* the whole datagram (hdr.length octets) */
    size_t raw_len;
    const uint8_t *body; /* what follows the header */
    size_t body_len;
    bool encrypted;
    bool decrypted;
    const uint8_t *chain; /* the payload chain (body, or the plaintext) */
    size_t chain_len;     /* without padding */
    size_t n;
    vpn_isakmp_payload pl[VPN_ISAKMP_MAX_PAYLOADS];
} vpn_isakmp_msg;

/*
 * What a failed parse suggests telling the peer (RFC 2408 5): the notify
 * type (VPN_ISAKMP_N_*), the payload type involved (0 if none) and the
 * offset of the offending payload or field in the chain or datagram.
 */
typedef struct vpn_isakmp_perr {
    uint16_t notify;
    uint8_t payload;
    size_t offset;
} vpn_isakmp_perr;

/*
 * Decodes the 28-octet header at buf (len >= 28). Checks the version
 * (1.0) and the flags (no unknown bits); not the length. Errors:
 * VPN_ERR_TRUNCATED (len < 28), VPN_ERR_UNSUPPORTED (version),
 * VPN_ERR_MALFORMED (flags). *hdr is untouched on failure.
 */
int vpn_isakmp_hdr_parse(const uint8_t *buf, size_t len, vpn_isakmp_hdr *hdr);
/* Writes a header (28 octets). Returns the writer's error. */
int vpn_isakmp_hdr_write(const vpn_isakmp_hdr *hdr, vpn_wr *w);

/*
 * Parses a datagram: header, then (E clear) the whole payload chain,
 * validating every payload body, nested structures and attribute lists
 * included. The header length must equal len. A DOI 2 SA payload is read
 * in the GDOI form (RFC 6407 5.2) in exchanges 32 and 33 and in the
 * proposal form (RFC 2408 3.4) otherwise (phase 1 may carry DOI 2).
 * Errors: VPN_ERR_TRUNCATED (datagram shorter than the header or its
 * length), VPN_ERR_MALFORMED, VPN_ERR_UNSUPPORTED (version, unknown
 * payload type, DOI or situation), VPN_ERR_LIMIT (too many payloads,
 * proposals, transforms, attributes, TEKs or key packets). On failure
 * *msg is untouched and perr (may be NULL) says why.
 */
int vpn_isakmp_msg_parse(const uint8_t *buf, size_t len, vpn_isakmp_msg *msg);
int vpn_isakmp_msg_parse_ex(const uint8_t *buf, size_t len, vpn_isakmp_msg *msg,
                            vpn_isakmp_perr *perr);

/*
 * The walk that finds where a decrypted chain ends. IKEv1 CBC padding is
 * not self-describing in practice: RFC 2409 appendix B asks for zeros and
 * a final count octet, but implementations differ and RFC 2409 5.5 keeps
 * padding out of the HASH. So the chain's own length fields are the only
 * authority: starting with type first, follow the generic headers until a
 * next payload of 0; *chain_len is where the chain ends. What follows is
 * padding: its content is ignored and it may be at most VPN_ISAKMP_MAX_PAD
 * octets. Errors: VPN_ERR_MALFORMED (a length runs past len, or too much
 * trailing data), VPN_ERR_LIMIT.
 */
int vpn_isakmp_plain_chain_len(const uint8_t *plain, size_t len, uint8_t first,
                               size_t *chain_len);

/*
 * Second step for an encrypted message: parses the decrypted chain plain
 * (which must outlive msg) starting with msg->hdr.next_payload, stripping
 * the padding as vpn_isakmp_plain_chain_len does, and validating as
 * vpn_isakmp_msg_parse. msg must come from vpn_isakmp_msg_parse with the
 * E flag set. Errors: VPN_ERR_STATE (msg not encrypted, or already
 * decrypted), and those of vpn_isakmp_msg_parse. *msg changes only on
 * success.
 */
int vpn_isakmp_msg_parse_plain(vpn_isakmp_msg *msg, const uint8_t *plain, size_t len,
                               vpn_isakmp_perr *perr);

/* The nth (from 0) payload of the given type, or NULL. */
const vpn_isakmp_payload *vpn_isakmp_msg_find(const vpn_isakmp_msg *m, uint8_t type,
                                              unsigned nth);
/* Index of p in m->pl (p must be one of m's payloads). */
size_t vpn_isakmp_msg_index(const vpn_isakmp_msg *m, const vpn_isakmp_payload *p);

/*
 * The chain bytes after payload idx up to the end of the chain (padding
 * excluded), as sent: what an IKEv1 or GDOI HASH covers after the HASH
 * payload. And the bytes from the start of the chain up to payload idx:
 * what the GROUPKEY-PUSH signature covers before SIG. Errors: VPN_ERR_INVAL
 * (idx out of range, or the message's chain was not parsed).
 */
int vpn_isakmp_msg_after(const vpn_isakmp_msg *m, size_t idx, vpn_isakmp_view *out);
int vpn_isakmp_msg_before(const vpn_isakmp_msg *m, size_t idx, vpn_isakmp_view *out);

/*
 * Re-serialises a parsed message through the typed payload builders
 * (isakmp-build.h): SA, proposals and transforms, GDOI SA KEK/GAP/TEK,
 * KD and key packets, ID, CERT, CERTREQ, Notify, Delete and SEQ are
 * decoded and rebuilt field by field; attribute lists and opaque bodies
 * are copied. With the strictness above, the output equals the input
 * octet for octet. An encrypted message that was not decrypted is copied
 * as it is; a decrypted one is written in its decrypted view (E clear,
 * plaintext chain without padding, length fixed). Errors: the writer's,
 * VPN_ERR_INVAL.
 */
int vpn_isakmp_msg_write(const vpn_isakmp_msg *m, vpn_wr *w);

/*
 * The "decrypted view" for traces: given an encrypted datagram msg and the
 * plaintext of its body (padding included or not), writes the same message
 * with the E flag cleared, the payload chain in place of the ciphertext
 * (padding removed) and the header length fixed, which Wireshark dissects
 * without keys. Errors: VPN_ERR_STATE (E flag not set), the parse errors,
 * the writer's.
 */
int vpn_isakmp_decrypted_view(const uint8_t *msg, size_t len, const uint8_t *plain,
                              size_t plain_len, vpn_wr *out);

/* ---- payload bodies (RFC 2408 3.4-3.16, RFC 2407 4.6) ----------------
 * Each decoder takes a payload body (after the generic header), returns 0
 * or VPN_ERR_MALFORMED (VPN_ERR_UNSUPPORTED, VPN_ERR_LIMIT or
 * VPN_ERR_OVERFLOW where a DOI, a limit or a nested attribute list says
 * so), writes its output only on success, and leaves views into body.
 */

/*
 * SA payload (RFC 2408 3.4). Proposal form (DOI 0/1, or DOI 2 outside
 * GROUPKEY exchanges): situation (4 octets; for DOI 1 only
 * SIT_IDENTITY_ONLY is supported, the secrecy and integrity labels are
 * not) then proposals. GDOI form (RFC 6407 5.2): situation, SA Attribute
 * Next Payload (2 octets), RESERVED2 (2), then the SA KEK/GAP/SA TEK chain.
 */
typedef struct vpn_isakmp_sa {
    uint32_t doi;
    uint32_t situation;
    bool gdoi;
    uint8_t first;        /* GDOI form: type of the first sub-payload */
    vpn_isakmp_view chain; /* proposals, or the GDOI sub-payload chain */
} vpn_isakmp_sa;

/* Decodes an SA body (structure and everything nested). Errors as msg_parse. */
int vpn_isakmp_sa_decode(const uint8_t *body, size_t len, uint8_t exchange,
                         vpn_isakmp_sa *sa);

/* RFC 2408 3.5 proposal. */
typedef struct vpn_isakmp_prop {
    uint8_t num;
    uint8_t proto;  /* VPN_ISAKMP_PROTO_* */
    uint8_t ntrans; /* as the proposal says; equals the transforms present */
    vpn_isakmp_view spi;
    vpn_isakmp_view xforms; /* the transform chain */
} vpn_isakmp_prop;

/* RFC 2408 3.6 transform. */
typedef struct vpn_isakmp_xform {
    uint8_t num;
    uint8_t id;
    vpn_isakmp_view attrs;
} vpn_isakmp_xform;

/*
 * A chain of generic-header payloads inside a body (proposals, transforms,
 * GDOI SA sub-payloads) or at top level: next returns 1 (one read), 0
 * (the last payload said next 0) or an error (VPN_ERR_MALFORMED: length
 * below 4 or past the end, non-zero RESERVED; VPN_ERR_LIMIT: more than
 * max). Bytes after the last payload are the caller's to judge (used()).
 */
typedef struct vpn_isakmp_chain {
    vpn_rd rd;
    uint8_t next;
    unsigned count;
    unsigned max;
} vpn_isakmp_chain;

void vpn_isakmp_chain_init(vpn_isakmp_chain *c, const uint8_t *p, size_t len, uint8_t first,
                           unsigned max);
int vpn_isakmp_chain_next(vpn_isakmp_chain *c, vpn_isakmp_payload *out);
static inline size_t vpn_isakmp_chain_used(const vpn_isakmp_chain *c) { return c->rd.off; }

/* Iterate an SA's proposals: init over sa->chain, then prop_next. */
void vpn_isakmp_prop_iter_init(vpn_isakmp_chain *c, const vpn_isakmp_sa *sa);
/* 1, 0 (end) or an error; decodes the proposal header. */
int vpn_isakmp_prop_next(vpn_isakmp_chain *c, vpn_isakmp_prop *p);
void vpn_isakmp_xform_iter_init(vpn_isakmp_chain *c, const vpn_isakmp_prop *p);
int vpn_isakmp_xform_next(vpn_isakmp_chain *c, vpn_isakmp_xform *x);

/*
 * Identification (RFC 2408 3.8 with RFC 2407 4.6.2's protocol and port).
 * Address types have fixed data lengths (4, 8, 16 or 32 octets); other
 * types need at least one octet of data.
 */
typedef struct vpn_isakmp_id {
    uint8_t type;
    uint8_t proto;
    uint16_t port;
    vpn_isakmp_view data;
} vpn_isakmp_id;

int vpn_isakmp_id_decode(const uint8_t *body, size_t len, vpn_isakmp_id *id);
/* 0 if len suits identification type t (see above), else VPN_ERR_MALFORMED. */
int vpn_isakmp_id_data_check(uint8_t t, size_t len);

/* CERT (3.9) and CERTREQ (3.10): encoding/type octet, then data. */
typedef struct vpn_isakmp_cert {
    uint8_t enc;
    vpn_isakmp_view data;
} vpn_isakmp_cert;

/* type is VPN_ISAKMP_PL_CERT (data required) or VPN_ISAKMP_PL_CR. */
int vpn_isakmp_cert_decode(uint8_t type, const uint8_t *body, size_t len, vpn_isakmp_cert *c);

/* Notification (RFC 2408 3.14). */
typedef struct vpn_isakmp_notify {
    uint32_t doi;
    uint8_t proto;
    uint16_t type;
    vpn_isakmp_view spi;
    vpn_isakmp_view data;
} vpn_isakmp_notify;

int vpn_isakmp_notify_decode(const uint8_t *body, size_t len, vpn_isakmp_notify *n);

/* Delete (RFC 2408 3.15): nspi SPIs of spi_size octets, back to back. */
typedef struct vpn_isakmp_delete {
    uint32_t doi;
    uint8_t proto;
    uint8_t spi_size;
    uint16_t nspi;
    vpn_isakmp_view spis;
} vpn_isakmp_delete;

/* Needs spi_size >= 1, nspi >= 1 and exactly nspi*spi_size octets of SPIs. */
int vpn_isakmp_delete_decode(const uint8_t *body, size_t len, vpn_isakmp_delete *d);
/* The i-th SPI (i < nspi), or NULL. */
const uint8_t *vpn_isakmp_delete_spi(const vpn_isakmp_delete *d, unsigned i);

/*
 * Checks the body of one payload of the given type against its format:
 * the dispatcher the message parser uses for every payload. exchange
 * selects the SA form. Errors: VPN_ERR_UNSUPPORTED for a type that is not
 * valid at top level (unknown, or proposal/transform/SA KEK/SA TEK outside
 * their containers), otherwise as the body decoders.
 */
int vpn_isakmp_payload_check(uint8_t type, const uint8_t *body, size_t len, uint8_t exchange);

#ifdef __cplusplus
}
#endif

#endif
