/*
 * IKEv2 messages and payloads on the wire (RFC 7296 section 3, RFC 7383
 * 2.5 for SKF, RFC 7427 3 for signature AUTH): a parser and a builder that
 * round-trip.
 *
 * Parsing is zero-copy and allocation-free. vpn_ikev2_msg_parse() fills a
 * caller-owned vpn_ikev2_msg: the header, and a fixed-capacity array of
 * parsed payloads whose fields are views (pointer + length) into the input
 * buffer. The caller keeps that buffer alive and unchanged for as long as it
 * uses the message. Every byte is read through the wire.h cursors; each
 * payload body is a sub-reader, so no length can reach into a neighbour.
 *
 * Structured payloads whose element count varies (SA proposals and
 * transforms, traffic selectors, configuration attributes) are validated
 * completely at parse time and then walked with iterators over the view,
 * which therefore cannot fail on parsed input.
 *
 * The SK payload is not decrypted here (that is the engine's job): the
 * parser records its body, vpn_ikev2_sk_split() cuts it into IV,
 * ciphertext and ICV once the cipher is known, and after decryption
 * vpn_ikev2_msg_parse_inner() parses the plaintext chain, starting from
 * the type in the SK's Next Payload field.
 *
 * Building goes the other way: a vpn_ikev2_bld appends payloads to a
 * vpn_wr, fills each previous payload's Next Payload field, and patches the
 * header's Length when finished. An SK payload can be opened, filled with
 * inner payloads in place and closed with padding, leaving the plaintext
 * where the engine encrypts it in place.
 */
#ifndef VPN_IKEV2_CODEC_H
#define VPN_IKEV2_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/wire.h"
#include "ikev2/ikev2-const.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Most payloads one message may carry. An IKE_AUTH with certificates,
 * several CERTREQ/VID/notifies and a CP stays well under this; more is
 * refused with VPN_ERR_LIMIT.
 */
#define VPN_IKEV2_MSG_MAX_PAYLOADS 48u

/* Bytes a view refers to; ptr is NULL only when len is 0. */
typedef struct vpn_ikev2_view {
    const uint8_t *ptr;
    size_t len;
} vpn_ikev2_view;

/* RFC 7296 3.1. SPIs are the 8 octets read as one big-endian number. */
typedef struct vpn_ikev2_hdr {
    uint64_t spi_i;
    uint64_t spi_r;
    uint8_t next;     /* type of the first payload */
    uint8_t version;  /* major << 4 | minor (VPN_IKEV2_VERSION) */
    uint8_t exchange; /* enum vpn_ikev2_exchange */
    uint8_t flags;    /* VPN_IKEV2_FLAG_* (all 8 bits as received) */
    uint32_t msg_id;
    uint32_t length;  /* whole message, header included */
} vpn_ikev2_hdr;

/* ---- payload bodies (all views point into the parsed buffer) ---------- */

/* 3.3: proposals, walked with vpn_ikev2_prop_iter_*. */
typedef struct vpn_ikev2_pl_sa {
    vpn_ikev2_view props;
    unsigned n_prop;
} vpn_ikev2_pl_sa;

/* 3.4 */
typedef struct vpn_ikev2_pl_ke {
    uint16_t group; /* enum vpn_dh_id */
    vpn_ikev2_view data;
} vpn_ikev2_pl_ke;

/* 3.5. The AUTH computation signs the whole body (RestOfInitIDPayload):
 * use the payload's `body` view for that. */
typedef struct vpn_ikev2_pl_id {
    uint8_t type; /* enum vpn_ikev2_id_type */
    vpn_ikev2_view data;
} vpn_ikev2_pl_id;

/* 3.6 CERT and 3.7 CERTREQ (data: certificate, or CA key hashes). */
typedef struct vpn_ikev2_pl_cert {
    uint8_t encoding; /* enum vpn_ikev2_cert_encoding */
    vpn_ikev2_view data;
} vpn_ikev2_pl_cert;

/* 3.8; for DIGITAL_SIGNATURE (RFC 7427 3) data is split further into the
 * DER AlgorithmIdentifier and the signature value. */
typedef struct vpn_ikev2_pl_auth {
    uint8_t method; /* enum vpn_ikev2_auth_method */
    vpn_ikev2_view data;
    vpn_ikev2_view alg_id; /* RFC 7427 only, else empty */
    vpn_ikev2_view sig;    /* RFC 7427 only, else empty */
} vpn_ikev2_pl_auth;

/* 3.9 Nonce and 3.12 Vendor ID: opaque data. */
typedef struct vpn_ikev2_pl_data {
    vpn_ikev2_view data;
} vpn_ikev2_pl_data;

/* 3.10 */
typedef struct vpn_ikev2_pl_notify {
    uint8_t proto;  /* enum vpn_ikev2_proto, 0 when no SPI */
    uint16_t type;  /* enum vpn_ikev2_notify */
    vpn_ikev2_view spi;
    vpn_ikev2_view data;
} vpn_ikev2_pl_notify;

/* 3.11: n_spi SPIs of spi_size bytes each, back to back in spis. */
typedef struct vpn_ikev2_pl_delete {
    uint8_t proto;
    uint8_t spi_size;
    uint16_t n_spi;
    vpn_ikev2_view spis;
} vpn_ikev2_pl_delete;

/* 3.13: selectors, walked with vpn_ikev2_ts_iter_*. */
typedef struct vpn_ikev2_pl_ts {
    uint8_t n_ts;
    vpn_ikev2_view ts;
} vpn_ikev2_pl_ts;

/* 3.14: IV || ciphertext || ICV, cut by vpn_ikev2_sk_split(). */
typedef struct vpn_ikev2_pl_sk {
    uint8_t first; /* type of the first inner payload */
    vpn_ikev2_view data;
} vpn_ikev2_pl_sk;

/* 3.15: attributes, walked with vpn_ikev2_cp_iter_*. */
typedef struct vpn_ikev2_pl_cp {
    uint8_t type; /* enum vpn_ikev2_cfg_type */
    unsigned n_attr;
    vpn_ikev2_view attrs;
} vpn_ikev2_pl_cp;

/* 3.16: one EAP message (RFC 3748 4), kept whole for the EAP method. */
typedef struct vpn_ikev2_pl_eap {
    uint8_t code;   /* enum vpn_ikev2_eap_code */
    uint8_t ident;
    uint16_t length;
    uint8_t type;   /* EAP method type; 0 for Success/Failure */
    vpn_ikev2_view msg;  /* the whole EAP message (== payload body) */
    vpn_ikev2_view data; /* type-data after the Type octet */
} vpn_ikev2_pl_eap;

/* RFC 7383 2.5: one fragment of an SK payload's content. */
typedef struct vpn_ikev2_pl_skf {
    uint8_t first;     /* first inner payload type (fragment 1 only, else 0) */
    uint16_t frag_num; /* 1..total */
    uint16_t total;
    vpn_ikev2_view data; /* IV || ciphertext || ICV */
} vpn_ikev2_pl_skf;

typedef struct vpn_ikev2_payload {
    uint8_t type;      /* enum vpn_ikev2_payload_type (or unknown) */
    uint8_t next;      /* Next Payload field as read */
    bool critical;     /* C bit as read (ignored for known types, 3.2) */
    bool known;        /* false: unknown non-critical type kept as raw body */
    vpn_ikev2_view raw;  /* generic header + body */
    vpn_ikev2_view body; /* after the generic header */
    union {
        vpn_ikev2_pl_sa sa;
        vpn_ikev2_pl_ke ke;
        vpn_ikev2_pl_id id;
        vpn_ikev2_pl_cert cert;
        vpn_ikev2_pl_auth auth;
        vpn_ikev2_pl_data nonce;
        vpn_ikev2_pl_notify notify;
        vpn_ikev2_pl_delete del;
        vpn_ikev2_pl_data vendor;
        vpn_ikev2_pl_ts ts;
        vpn_ikev2_pl_sk sk;
        vpn_ikev2_pl_cp cp;
        vpn_ikev2_pl_eap eap;
        vpn_ikev2_pl_skf skf;
    } u;
} vpn_ikev2_payload;

/*
 * A parsed message. On success every field below `err_*` is valid. On
 * failure hdr is valid if hdr_ok, and err_* say what went wrong so the
 * engine can log it and choose its answer (RFC 7296 2.5 and 2.21).
 */
typedef struct vpn_ikev2_msg {
    vpn_ikev2_hdr hdr; /* zeroed, except hdr.next, for an inner chain */
    bool hdr_ok;
    bool inner;        /* parsed by vpn_ikev2_msg_parse_inner */
    const uint8_t *buf; /* the parsed bytes (message or plaintext) */
    size_t len;
    size_t n;          /* payloads in pl[], in wire order */
    vpn_ikev2_payload pl[VPN_IKEV2_MSG_MAX_PAYLOADS];

    /* Set on failure (else 0). err_notify is the notify type a responder
     * would send: INVALID_MAJOR_VERSION, UNSUPPORTED_CRITICAL_PAYLOAD (with
     * err_payload, the unknown type, as its one octet of data) or
     * INVALID_SYNTAX. err_payload is otherwise the type being parsed. */
    uint16_t err_notify;
    uint8_t err_payload;
    size_t err_offset; /* byte offset into buf where the problem is */
} vpn_ikev2_msg;

/*
 * Reads only the 28-byte header (RFC 7296 3.1), enough to find the IKE SA
 * before parsing the rest. len is the datagram length (without the
 * four-zero non-ESP marker of port 4500). The header's Length must equal
 * len and be at least 28; the major version must be 2.
 * Returns 0, VPN_ERR_INVAL (NULL), VPN_ERR_TRUNCATED (len < 28, or header
 * length > len), VPN_ERR_MALFORMED (header length < 28 or < len),
 * VPN_ERR_UNSUPPORTED (major version != 2). *hdr is filled whenever 28
 * bytes were there, also on the last three errors.
 */
int vpn_ikev2_hdr_parse(const uint8_t *buf, size_t len, vpn_ikev2_hdr *hdr);

/*
 * Parses a whole message: header, then the payload chain. An SK or SKF
 * payload must be the last one (RFC 7296 3.14, RFC 7383 2.5); its Next
 * Payload field is kept as the inner chain's first type. Unknown payload
 * types are kept with known == false when their critical bit is clear, and
 * refused when it is set (RFC 7296 2.5). Known payloads that RFC 7296 lets
 * appear once per message (all but CERT, CERTREQ, N, D, V) are refused
 * when repeated.
 * msg is owned by the caller and refers into buf (see the file comment).
 * Returns 0, or VPN_ERR_INVAL (NULL), VPN_ERR_TRUNCATED (the message, a
 * payload or a chain ends early), VPN_ERR_MALFORMED (bad lengths, values
 * or trailing bytes), VPN_ERR_UNSUPPORTED (major version, or an unknown
 * critical payload: see err_notify/err_payload), VPN_ERR_LIMIT (more than
 * VPN_IKEV2_MSG_MAX_PAYLOADS payloads).
 */
int vpn_ikev2_msg_parse(const uint8_t *buf, size_t len, vpn_ikev2_msg *msg);

/*
 * Parses a decrypted SK (or reassembled SKF) plaintext: the payload chain
 * only, starting with type `first`, with padding and Pad Length already
 * removed (vpn_ikev2_sk_unpad). SK and SKF may not appear inside. msg->hdr
 * is zeroed except hdr.next = first; copy the outer header in if wanted.
 * Same ownership and return codes as vpn_ikev2_msg_parse (no version).
 */
int vpn_ikev2_msg_parse_inner(const uint8_t *buf, size_t len, uint8_t first,
                              vpn_ikev2_msg *msg);

/*
 * First payload of `type` after `after` (NULL: from the start), or NULL.
 * Unknown payloads are never returned for a known type.
 */
const vpn_ikev2_payload *vpn_ikev2_msg_find(const vpn_ikev2_msg *msg, uint8_t type,
                                            const vpn_ikev2_payload *after);
/* The same for Notify payloads of one notify type. */
const vpn_ikev2_payload *vpn_ikev2_msg_find_notify(const vpn_ikev2_msg *msg, uint16_t type,
                                                   const vpn_ikev2_payload *after);
/* How many payloads of `type` the message holds. */
size_t vpn_ikev2_msg_count(const vpn_ikev2_msg *msg, uint8_t type);

/*
 * Writes a one-line summary for logs, in the order on the wire:
 * "IKE_SA_INIT request 0 [ SA KE Ni/Nr N(NAT_DETECTION_SOURCE_IP) ]".
 * Truncates to fit cap (always NUL-terminated when cap > 0); returns the
 * length it wanted, as snprintf does.
 */
size_t vpn_ikev2_msg_describe(const vpn_ikev2_msg *msg, char *out, size_t cap);

/* ---- SK / SKF regions ----------------------------------------------------- */

/*
 * Where the parts of an encrypted payload sit, as byte offsets from the
 * start of the message (outer IKE header), so the same struct serves the
 * parser (const input) and the builder (output buffer).
 *  - AEAD additional data is [0, iv_off): IKE header through the SK (or SKF,
 *    incl. fragment numbers) fixed fields (RFC 5282 5.1, RFC 7383 2.5).
 *  - a separate integrity check covers [0, icv_off) (RFC 7296 3.14).
 */
typedef struct vpn_ikev2_sk_region {
    size_t iv_off, iv_len;
    size_t ct_off, ct_len; /* ciphertext incl. padding and Pad Length */
    size_t icv_off, icv_len;
} vpn_ikev2_sk_region;

/*
 * Cuts a parsed SK or SKF payload of msg into IV, ciphertext and ICV for a
 * cipher with these lengths. block_len is the cipher's padding boundary (1
 * when none); the ciphertext must be a non-zero multiple of it.
 * Returns 0, VPN_ERR_INVAL (not an SK/SKF payload of msg, block_len 0),
 * VPN_ERR_MALFORMED (too short for iv + icv + 1, or misaligned).
 */
int vpn_ikev2_sk_split(const vpn_ikev2_msg *msg, const vpn_ikev2_payload *sk, size_t iv_len,
                       size_t icv_len, size_t block_len, vpn_ikev2_sk_region *out);

/*
 * Strips padding from a decrypted SK plaintext (RFC 7296 3.14: the last
 * octet is the Pad Length, padding precedes it). *inner_len receives the
 * length of the payload chain. Returns 0, VPN_ERR_INVAL (NULL),
 * VPN_ERR_MALFORMED (empty, or Pad Length longer than the plaintext).
 */
int vpn_ikev2_sk_unpad(const uint8_t *plain, size_t len, size_t *inner_len);

/* ---- iterators over parsed structured payloads --------------------------- */

typedef struct vpn_ikev2_iter {
    vpn_rd r;
    unsigned left; /* elements still to return */
} vpn_ikev2_iter;

/* 3.3.1 Proposal Substructure. */
typedef struct vpn_ikev2_prop_view {
    uint8_t num;
    uint8_t proto;   /* enum vpn_ikev2_proto */
    uint8_t n_xform;
    vpn_ikev2_view spi;
    vpn_ikev2_view xforms; /* walked with vpn_ikev2_xform_iter_* */
} vpn_ikev2_prop_view;

/* 3.3.2 Transform Substructure. */
typedef struct vpn_ikev2_xform_view {
    uint8_t type;      /* enum vpn_ikev2_xform_type */
    uint16_t id;
    uint16_t key_len;  /* Key Length attribute in bits, 0 if absent */
    bool bad_attr;     /* an attribute we do not understand, or a repeat:
                          the transform is unacceptable (3.3.6) */
    vpn_ikev2_view attrs;
} vpn_ikev2_xform_view;

/* 3.13.1 Traffic Selector. Addresses are in network order, addr_len 4 or
 * 16; for unknown TS types addr_len is 0 and raw holds the selector. */
typedef struct vpn_ikev2_ts {
    uint8_t type;  /* enum vpn_ikev2_ts_type */
    uint8_t proto; /* IP protocol, 0 = any */
    uint16_t start_port, end_port;
    uint8_t addr_len;
    uint8_t start[16], end[16];
    vpn_ikev2_view raw; /* parser only: the whole selector */
} vpn_ikev2_ts;

/* 3.15.1 Configuration Attribute. */
typedef struct vpn_ikev2_cp_attr {
    uint16_t type; /* enum vpn_ikev2_cfg_attr (15 bits) */
    vpn_ikev2_view value;
} vpn_ikev2_cp_attr;

/* Each _init takes a parsed payload of the right type (or a view from the
 * level above); each _next returns true and fills *out while elements
 * remain, then false. On a payload of another type they return nothing. */
void vpn_ikev2_prop_iter_init(vpn_ikev2_iter *it, const vpn_ikev2_payload *sa);
bool vpn_ikev2_prop_iter_next(vpn_ikev2_iter *it, vpn_ikev2_prop_view *out);
void vpn_ikev2_xform_iter_init(vpn_ikev2_iter *it, const vpn_ikev2_prop_view *prop);
bool vpn_ikev2_xform_iter_next(vpn_ikev2_iter *it, vpn_ikev2_xform_view *out);
void vpn_ikev2_ts_iter_init(vpn_ikev2_iter *it, const vpn_ikev2_payload *ts);
bool vpn_ikev2_ts_iter_next(vpn_ikev2_iter *it, vpn_ikev2_ts *out);
void vpn_ikev2_cp_iter_init(vpn_ikev2_iter *it, const vpn_ikev2_payload *cp);
bool vpn_ikev2_cp_iter_next(vpn_ikev2_iter *it, vpn_ikev2_cp_attr *out);

/*
 * Checks a KE payload's data length against the group (RFC 7296 3.4: the
 * length is fixed by the group). Returns 0, VPN_ERR_INVAL (not KE),
 * VPN_ERR_UNSUPPORTED (group not in vpn_ikev2_dh_ke_len's table),
 * VPN_ERR_MALFORMED (wrong length).
 */
int vpn_ikev2_ke_check(const vpn_ikev2_payload *ke);

/* ---- proposals as values (building, selection) ---------------------------- */

#define VPN_IKEV2_PROP_MAX_XFORMS 64u

typedef struct vpn_ikev2_xform {
    uint8_t type;     /* enum vpn_ikev2_xform_type */
    uint16_t id;
    uint16_t key_len; /* bits; 0 = no Key Length attribute */
    bool bad;         /* parsed with an attribute we do not understand */
} vpn_ikev2_xform;

typedef struct vpn_ikev2_proposal {
    uint8_t num;   /* Proposal Num, from 1 */
    uint8_t proto; /* enum vpn_ikev2_proto */
    uint8_t spi_len;
    uint8_t spi[8];
    uint8_t n_xform;
    vpn_ikev2_xform xform[VPN_IKEV2_PROP_MAX_XFORMS];
} vpn_ikev2_proposal;

/*
 * Copies a parsed proposal into a value. Returns 0, VPN_ERR_LIMIT (more
 * than VPN_IKEV2_PROP_MAX_XFORMS transforms, or an SPI over 8 bytes: the
 * proposal cannot be represented and is unusable).
 */
int vpn_ikev2_proposal_from_view(const vpn_ikev2_prop_view *v, vpn_ikev2_proposal *out);

/* ---- payload descriptors ------------------------------------------------ */

/*
 * One row per known payload type: how to parse and serialise its body.
 * parse() reads the whole body (the caller checks the end) and fills p->u;
 * write() appends the body for p->u. Both return 0 or a VPN_ERR_* code.
 */
typedef struct vpn_ikev2_pl_desc {
    uint8_t type;
    const char *name;     /* RFC 7296 notation: "SA", "Ni/Nr", ... */
    const char *rfc;      /* where the format is defined */
    size_t min_body;      /* fixed part of the body */
    bool multi;           /* may appear more than once in a message */
    int (*parse)(vpn_rd *body, vpn_ikev2_payload *p);
    int (*write)(vpn_wr *w, const vpn_ikev2_payload *p);
} vpn_ikev2_pl_desc;

/* The descriptor for a type, or NULL if the type is not known. */
const vpn_ikev2_pl_desc *vpn_ikev2_pl_desc_find(uint8_t type);

/* ---- building ------------------------------------------------------------- */

/*
 * A builder appends to a caller-owned vpn_wr (which must outlive it). The
 * message starts at the writer's offset when the builder is initialised.
 * Errors are sticky: after the first failure every call returns it and the
 * output is garbage.
 */
typedef struct vpn_ikev2_bld {
    vpn_wr *w;
    size_t start;    /* offset of the message in w */
    size_t next_pos; /* offset of the Next Payload octet to fill, or SIZE_MAX */
    uint8_t first;   /* type of the first payload written */
    bool inner;      /* no header: a plaintext chain */
    bool in_sk;      /* between sk_open and sk_close */
    bool sealed;     /* an SK/SKF was written: nothing may follow */
    size_t sk_hdr;   /* offset of the open SK's generic header */
    size_t sk_iv;    /* offset of its IV */
    size_t sk_ct;    /* offset of its plaintext (to be ciphertext) */
    size_t n;        /* payloads written in the outer (or only) chain */
    size_t n_inner;  /* payloads written inside the SK */
    uint64_t seen, seen_inner; /* once-only types written, by type bit */
    int err;
} vpn_ikev2_bld;

/*
 * Starts a message with header *hdr (its next and length fields are ignored
 * and filled in later). Returns 0, VPN_ERR_INVAL, VPN_ERR_NOSPACE.
 */
int vpn_ikev2_bld_init(vpn_ikev2_bld *b, vpn_wr *w, const vpn_ikev2_hdr *hdr);
/* Starts a header-less payload chain (SK plaintext to be fragmented);
 * b->first gives its first type when done. Returns 0 or VPN_ERR_INVAL. */
int vpn_ikev2_bld_init_inner(vpn_ikev2_bld *b, vpn_wr *w);

/*
 * Patches the header Length (outer messages) and returns the message
 * length in *len. Returns 0, VPN_ERR_STATE (an SK is still open),
 * VPN_ERR_OVERFLOW, or the builder's sticky error.
 */
int vpn_ikev2_bld_finish(vpn_ikev2_bld *b, size_t *len);

/*
 * Appends any payload described by p (typically one parsed from another
 * message): known types through their descriptor, unknown ones as p->body
 * with p->critical. SK/SKF bodies are copied as they are and seal the
 * message. Returns 0, VPN_ERR_INVAL, VPN_ERR_STATE (after SK),
 * VPN_ERR_NOSPACE, VPN_ERR_OVERFLOW (payload > 65535 bytes), VPN_ERR_LIMIT.
 */
int vpn_ikev2_bld_payload(vpn_ikev2_bld *b, const vpn_ikev2_payload *p);

/* Appends a payload from a pre-encoded body. Same codes. */
int vpn_ikev2_bld_raw(vpn_ikev2_bld *b, uint8_t type, bool critical, const uint8_t *body,
                      size_t len);

/*
 * Typed appenders, one per payload. They share the codes of
 * vpn_ikev2_bld_payload and return VPN_ERR_INVAL for values the wire
 * cannot carry or RFC 7296 forbids (nonce outside 16..256, more than 255
 * proposals, transforms or selectors, proposal numbers not counting up by
 * one, TS start > end, ...).
 */
int vpn_ikev2_bld_sa(vpn_ikev2_bld *b, const vpn_ikev2_proposal *props, size_t n);
int vpn_ikev2_bld_ke(vpn_ikev2_bld *b, uint16_t group, const uint8_t *data, size_t len);
/* pl_type: VPN_IKEV2_PL_IDI or VPN_IKEV2_PL_IDR. */
int vpn_ikev2_bld_id(vpn_ikev2_bld *b, uint8_t pl_type, uint8_t id_type, const uint8_t *data,
                     size_t len);
/* pl_type: VPN_IKEV2_PL_CERT or VPN_IKEV2_PL_CERTREQ. */
int vpn_ikev2_bld_cert(vpn_ikev2_bld *b, uint8_t pl_type, uint8_t encoding,
                       const uint8_t *data, size_t len);
int vpn_ikev2_bld_auth(vpn_ikev2_bld *b, uint8_t method, const uint8_t *data, size_t len);
/* RFC 7427 3: method 14 with the length-prefixed AlgorithmIdentifier. */
int vpn_ikev2_bld_auth_ds(vpn_ikev2_bld *b, const uint8_t *alg_id, size_t alg_len,
                          const uint8_t *sig, size_t sig_len);
int vpn_ikev2_bld_nonce(vpn_ikev2_bld *b, const uint8_t *data, size_t len);
int vpn_ikev2_bld_notify(vpn_ikev2_bld *b, uint8_t proto, const uint8_t *spi, size_t spi_len,
                         uint16_t type, const uint8_t *data, size_t len);
/* spis: n SPIs of spi_size bytes each, back to back. */
int vpn_ikev2_bld_delete(vpn_ikev2_bld *b, uint8_t proto, uint8_t spi_size,
                         const uint8_t *spis, size_t n);
int vpn_ikev2_bld_vendor(vpn_ikev2_bld *b, const uint8_t *data, size_t len);
/* pl_type: VPN_IKEV2_PL_TSI or VPN_IKEV2_PL_TSR; each ts has type IPv4 or
 * IPv6 range (raw is ignored). */
int vpn_ikev2_bld_ts(vpn_ikev2_bld *b, uint8_t pl_type, const vpn_ikev2_ts *ts, size_t n);
int vpn_ikev2_bld_cp(vpn_ikev2_bld *b, uint8_t cfg_type, const vpn_ikev2_cp_attr *attrs,
                     size_t n);
/* msg: a whole EAP message whose Length field equals len. */
int vpn_ikev2_bld_eap(vpn_ikev2_bld *b, const uint8_t *msg, size_t len);

/*
 * Opens an SK payload: writes its generic header and reserves iv_len bytes
 * of IV. Payloads appended until vpn_ikev2_bld_sk_close() are the inner
 * (plaintext) chain; the first one's type goes into the SK's Next Payload.
 * Returns 0, VPN_ERR_STATE (an SK already written, or inner builder), or a
 * write error.
 */
int vpn_ikev2_bld_sk_open(vpn_ikev2_bld *b, size_t iv_len);
/*
 * Closes the SK: appends zero padding up to block_len alignment (RFC 7296
 * 3.14: the padding content is free), the Pad Length octet and icv_len
 * zero bytes for the ICV, and sets the SK's length. *out says where IV,
 * plaintext-to-encrypt-in-place and ICV are, relative to the message
 * start; they become final after vpn_ikev2_bld_finish(), which must come
 * next. Returns 0, VPN_ERR_STATE (no SK open), VPN_ERR_INVAL (block_len 0
 * or > 256), or a write error.
 */
int vpn_ikev2_bld_sk_close(vpn_ikev2_bld *b, size_t block_len, size_t icv_len,
                           vpn_ikev2_sk_region *out);
/*
 * Appends an SKF payload (RFC 7383 2.5) carrying `chunk` (a slice of an
 * inner chain built with vpn_ikev2_bld_init_inner) as plaintext, padded
 * like sk_close. first is the inner chain's first type in fragment 1 and 0
 * in the others. Like SK it must be the last payload; unprotected payloads
 * of the original message, if any, go before it in fragment 1.
 * Returns 0, VPN_ERR_INVAL (frag_num 0 or > total, block_len 0 or > 256),
 * VPN_ERR_STATE (after SK/SKF, or inner builder), or a write error.
 */
int vpn_ikev2_bld_skf(vpn_ikev2_bld *b, uint16_t frag_num, uint16_t total, uint8_t first,
                      size_t iv_len, const uint8_t *chunk, size_t chunk_len, size_t block_len,
                      size_t icv_len, vpn_ikev2_sk_region *out);

#ifdef __cplusplus
}
#endif

#endif
