/*
 * GDOI payloads (RFC 6407 5) and the byte strings GDOI authenticates:
 *
 *   SA (DOI 2)  situation, SA Attribute Next Payload, RESERVED2, then the
 *               chain SA KEK (15) [, GAP (22)] [, SA TEK (16) ...]
 *   SA KEK      5.3: protocol, SRC/DST ID (1-octet data length), SPI (16),
 *               RESERVED2 (4), KEK attributes
 *   SA TEK      5.4: protocol ID; for ESP/AH (5.4.1): IP protocol,
 *               SRC/DST ID (2-octet data length), transform ID, SPI (4),
 *               RFC 2407 attributes (with 6407's 14 and 15)
 *
 * Two layouts (vpn_gdoi_layout). We send RFC 6407's (above) by default.
 * The Cisco GDOI reference implementation (gdoid) differs in two places:
 * its SA KEK has 6 zero octets between the SPI and the attributes, and
 * its SA TEK's SRC/DST ID Data Len fields are 1 octet (RFC 3547 5.4.1's
 * width). Decoders accept both, each decided from the payload's own
 * lengths (see vpn_gdoi_sak_decode, vpn_gdoi_sat_decode) and reported in
 * the layout field; builders write the layout the struct asks for.
 *   GAP         5.5: attributes
 *   KD          5.6: number of key packets (2), RESERVED2 (2), packets:
 *               type (1), RESERVED (1), length of the packet (2), SPI
 *               size (1), SPI, attributes
 *   SEQ         5.7: 4-octet sequence number
 *
 * Order inside the GDOI SA is enforced: at most one SA KEK, first; at most
 * one GAP, after it; then the SA TEKs; at least one sub-payload. This is
 * the order RFC 6407 5.2 lists them in and the one Wireshark dissects.
 *
 * All decoders are zero-copy (views into the caller's buffer), bounded and
 * leave the output untouched on failure; they return 0 or
 * VPN_ERR_MALFORMED, or VPN_ERR_LIMIT, VPN_ERR_OVERFLOW and
 * VPN_ERR_UNSUPPORTED where stated. A body decoder also validates the
 * attribute lists it holds (SA KEK: vpn_gdoi_kek_attrs; ESP/AH SA TEK:
 * vpn_ipsec_doi_attrs; GAP: vpn_gdoi_gap_attrs). Builders write through
 * vpn_isakmp_bld (isakmp-build.h).
 */
#ifndef VPN_GDOI_CODEC_H
#define VPN_GDOI_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/wire.h"
#include "isakmp/isakmp-attr.h"
#include "isakmp/isakmp-build.h"
#include "isakmp/isakmp-msg.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Limits (VPN_ERR_LIMIT beyond them). */
#define VPN_GDOI_MAX_TEKS 16
#define VPN_GDOI_MAX_KEY_PACKETS 32

/* Nonces of GROUPKEY-PULL: RFC 2409 5 bounds IKEv1 nonces to 8..256 octets. */
#define VPN_ISAKMP_NONCE_MIN 8
#define VPN_ISAKMP_NONCE_MAX 256

/* Wire layout of SA KEK and SA TEK (see the top of this file). */
typedef enum vpn_gdoi_layout {
    VPN_GDOI_LAYOUT_RFC6407 = 0, /* RFC 6407 5.3 and 5.4.1: what we send by default */
    VPN_GDOI_LAYOUT_GDOID = 1,   /* gdoid: SA KEK 6 octets after the SPI, SA TEK
                                    1-octet ID Data Len (RFC 3547 5.4.1) */
} vpn_gdoi_layout;

/* A SRC or DST identification inside SA KEK / SA TEK (RFC 6407 5.3, 5.4.1). */
typedef struct vpn_gdoi_idsel {
    uint8_t type; /* VPN_ISAKMP_ID_* */
    uint16_t port;
    vpn_isakmp_view data;
} vpn_gdoi_idsel;

typedef struct vpn_gdoi_sak {
    uint8_t protocol; /* IP protocol of the rekey datagrams (17) */
    vpn_gdoi_idsel src, dst;
    uint8_t spi[VPN_GDOI_KEK_SPI_LEN];
    vpn_isakmp_view attrs; /* KEK attributes (vpn_gdoi_kek_attrs) */
    uint8_t layout;        /* vpn_gdoi_layout: decoded / to build */
} vpn_gdoi_sak;

typedef struct vpn_gdoi_sat {
    uint8_t protocol_id; /* VPN_GDOI_TEK_PROTO_*; others keep only opaque */
    uint8_t ip_protocol;
    vpn_gdoi_idsel src, dst;
    uint8_t transform_id; /* RFC 2407 ESP/AH transform ID */
    uint32_t spi;
    vpn_isakmp_view attrs; /* RFC 2407 attributes (vpn_ipsec_doi_attrs) */
    vpn_isakmp_view opaque; /* the protocol-specific part, for other IDs */
    uint8_t layout;         /* vpn_gdoi_layout (ESP/AH): decoded / to build */
} vpn_gdoi_sat;

int vpn_gdoi_sak_decode(const uint8_t *body, size_t len, vpn_gdoi_sak *k);
int vpn_gdoi_sat_decode(const uint8_t *body, size_t len, vpn_gdoi_sat *t);
/* GAP: the body is an attribute list (vpn_gdoi_gap_attrs). */
int vpn_gdoi_gap_decode(const uint8_t *body, size_t len, vpn_isakmp_view *attrs);

/*
 * Sub-payloads of a GDOI-form SA (sa->gdoi): next gives 1 and one of the
 * SA KEK / GAP / SA TEK payloads, 0 at the end, or an error.
 */
void vpn_gdoi_sa_iter_init(vpn_isakmp_chain *c, const vpn_isakmp_sa *sa);
int vpn_gdoi_sa_next(vpn_isakmp_chain *c, vpn_isakmp_payload *sub);
/* Validates the sub-payload chain of a GDOI SA (order, counts, bodies). */
int vpn_gdoi_sa_check(const vpn_isakmp_sa *sa);

/* KD (RFC 6407 5.6). */
typedef struct vpn_gdoi_kd {
    uint16_t n;
    vpn_isakmp_view packets;
} vpn_gdoi_kd;

typedef struct vpn_gdoi_kp {
    uint8_t type; /* VPN_GDOI_KD_* */
    vpn_isakmp_view spi;
    vpn_isakmp_view attrs;
} vpn_gdoi_kp;

/*
 * Decodes and validates a KD body: exactly n key packets filling it, each
 * length inside the payload, SPI sizes matching the type (TEK 4; KEK and
 * LKH 16; SID any, the RFC's SID SPI size was not confirmed), attribute
 * lists well formed and, for TEK, KEK and SID packets, valid as
 * vpn_gdoi_tek_keys / kek_keys / sid_attrs. Errors: VPN_ERR_MALFORMED,
 * VPN_ERR_LIMIT (n above VPN_GDOI_MAX_KEY_PACKETS).
 */
int vpn_gdoi_kd_decode(const uint8_t *body, size_t len, vpn_gdoi_kd *kd);

typedef struct vpn_gdoi_kp_iter {
    vpn_rd rd;
    unsigned left;
} vpn_gdoi_kp_iter;

void vpn_gdoi_kp_iter_init(vpn_gdoi_kp_iter *it, const vpn_gdoi_kd *kd);
/* 1 (one read), 0 (all n read) or VPN_ERR_MALFORMED. */
int vpn_gdoi_kp_next(vpn_gdoi_kp_iter *it, vpn_gdoi_kp *kp);

/* SEQ (5.7): exactly 4 octets. */
int vpn_gdoi_seq_decode(const uint8_t *body, size_t len, uint32_t *seq);

/*
 * The group identity of GROUPKEY-PULL message 1 (RFC 6407 5.1): an ID
 * payload of type ID_KEY_ID holding a 4-octet group number (IOS's
 * `identity number`). Protocol and port must be zero. Errors:
 * VPN_ERR_MALFORMED, VPN_ERR_UNSUPPORTED (another ID type or length).
 */
int vpn_gdoi_group_id_decode(const uint8_t *body, size_t len, uint32_t *gid);

/* ---- typed attribute lists ----------------------------------------------
 * Each decoder walks a list, checks the basic/variable form of every
 * attribute it knows (RFC 2409 appendix A: basic ones MUST NOT be
 * variable; integer variable ones may be basic; byte-string ones must be
 * variable), rejects duplicates, and skips attribute types it does not
 * know. present has bit (1u << type) set for each known attribute seen.
 * Errors: VPN_ERR_MALFORMED, VPN_ERR_OVERFLOW, VPN_ERR_LIMIT. Encoders
 * write the present attributes in ascending type order.
 */

/* RFC 6407 5.3 KEK policy, RFC 8263 ACK request. */
typedef struct vpn_gdoi_kek_attrs {
    uint32_t present;
    uint16_t mgmt_alg, alg, key_len, sig_hash, sig_alg, sig_key_len, ack_requested;
    uint32_t lifetime; /* seconds */
} vpn_gdoi_kek_attrs;

int vpn_gdoi_kek_attrs_decode(const uint8_t *p, size_t len, vpn_gdoi_kek_attrs *a);
int vpn_gdoi_kek_attrs_encode(const vpn_gdoi_kek_attrs *a, vpn_wr *w);

/* RFC 6407 5.5. */
typedef struct vpn_gdoi_gap_attrs {
    uint32_t present;
    uint16_t activation_delay, deactivation_delay, sender_id_request;
} vpn_gdoi_gap_attrs;

int vpn_gdoi_gap_attrs_decode(const uint8_t *p, size_t len, vpn_gdoi_gap_attrs *a);
int vpn_gdoi_gap_attrs_encode(const vpn_gdoi_gap_attrs *a, vpn_wr *w);

/* RFC 6407 5.6.1 TEK key packet attributes (all variable). */
typedef struct vpn_gdoi_tek_keys {
    uint32_t present;
    vpn_isakmp_view alg_key, integ_key, src_auth_key;
} vpn_gdoi_tek_keys;

int vpn_gdoi_tek_keys_decode(const uint8_t *p, size_t len, vpn_gdoi_tek_keys *k);
int vpn_gdoi_tek_keys_encode(const vpn_gdoi_tek_keys *k, vpn_wr *w);

/*
 * RFC 6407 5.6.2 KEK key packet attributes. KEK_ALGORITHM_KEY holds the
 * CBC IV followed by the key, as both public GDOI implementations lay it
 * out (the rekey's IV is not carried in the message); SIG_ALGORITHM_KEY
 * the key server's public key (DER SubjectPublicKeyInfo).
 */
typedef struct vpn_gdoi_kek_keys {
    uint32_t present;
    vpn_isakmp_view alg_key, sig_key;
} vpn_gdoi_kek_keys;

int vpn_gdoi_kek_keys_decode(const uint8_t *p, size_t len, vpn_gdoi_kek_keys *k);
int vpn_gdoi_kek_keys_encode(const vpn_gdoi_kek_keys *k, vpn_wr *w);

/* RFC 6407 5.6.4 SID key packet attributes. */
typedef struct vpn_gdoi_sid_attrs {
    uint32_t present;
    uint16_t nbits;
    vpn_isakmp_view value;
} vpn_gdoi_sid_attrs;

int vpn_gdoi_sid_attrs_decode(const uint8_t *p, size_t len, vpn_gdoi_sid_attrs *a);
int vpn_gdoi_sid_attrs_encode(const vpn_gdoi_sid_attrs *a, vpn_wr *w);

/* ---- builders --------------------------------------------------------------
 * All return 0 or the builder's sticky error (see isakmp-build.h).
 */

/* Opens a DOI 2 SA in the GDOI form; add sub-payloads, then sa_end. */
int vpn_gdoi_bld_sa_begin(vpn_isakmp_bld *b, uint32_t situation);
int vpn_gdoi_bld_sak(vpn_isakmp_bld *b, const vpn_gdoi_sak *k);
int vpn_gdoi_bld_gap(vpn_isakmp_bld *b, const uint8_t *attrs, size_t len);
/* ESP/AH TEKs are built from the fields, other protocol IDs from opaque. */
int vpn_gdoi_bld_sat(vpn_isakmp_bld *b, const vpn_gdoi_sat *t);
int vpn_gdoi_bld_sa_end(vpn_isakmp_bld *b);
/* The whole SA at once: kek and gap may be NULL; at least one sub-payload. */
int vpn_gdoi_bld_sa(vpn_isakmp_bld *b, const vpn_gdoi_sak *kek, const vpn_isakmp_view *gap,
                    const vpn_gdoi_sat *teks, size_t nteks);

/* KD: begin, key packets (the count is patched at the end), end. */
int vpn_gdoi_bld_kd_begin(vpn_isakmp_bld *b);
int vpn_gdoi_bld_kp(vpn_isakmp_bld *b, uint8_t type, const uint8_t *spi, size_t spi_len,
                    const uint8_t *attrs, size_t attrs_len);
int vpn_gdoi_bld_kd_end(vpn_isakmp_bld *b);
int vpn_gdoi_bld_kd(vpn_isakmp_bld *b, const vpn_gdoi_kp *kps, size_t n);

int vpn_gdoi_bld_seq(vpn_isakmp_bld *b, uint32_t seq);
/* ID payload: ID_KEY_ID, protocol 0, port 0, 4-octet group number. */
int vpn_gdoi_bld_group_id(vpn_isakmp_bld *b, uint32_t gid);

/* ---- authenticated byte strings ------------------------------------------ */

/*
 * GROUPKEY-PULL HASH inputs (RFC 6407 3.2), to be fed to
 * prf(SKEYID_a, ...) by the engine:
 *   HASH(1) = M-ID | Ni | ID
 *   HASH(2) = M-ID | Ni_b | Nr | SA
 *   HASH(3) = M-ID | Ni_b | Nr_b [| GAP]
 *   HASH(4) = M-ID | Ni_b | Nr_b [| SEQ] | KD
 * M-ID is the header's message ID (4 octets, network order); Ni_b and
 * Nr_b are nonce bodies; after is every payload following the HASH
 * payload as sent, generic headers included and padding excluded (RFC
 * 2409 5.5), which is exactly "Ni | ID", "Nr | SA", "[GAP]" and
 * "[SEQ |] KD". n selects which nonce bodies are inserted: none for 1,
 * ni_b for 2, both for 3 and 4. Errors: VPN_ERR_INVAL (n not 1..4, a
 * needed nonce missing), the writer's.
 */
int vpn_gdoi_pull_hash_input(unsigned n, uint32_t msg_id, vpn_isakmp_view ni_b,
                             vpn_isakmp_view nr_b, vpn_isakmp_view after, vpn_wr *out);
/*
 * The same from a parsed (decrypted) message whose first payload is the
 * HASH: M-ID from its header, after = the rest of its chain.
 * Errors: VPN_ERR_MALFORMED (no HASH first), as above.
 */
int vpn_gdoi_pull_hash_input_msg(unsigned n, const vpn_isakmp_msg *m, vpn_isakmp_view ni_b,
                                 vpn_isakmp_view nr_b, vpn_wr *out);
/* The same from a builder whose first payload is the HASH (after finish/pad). */
int vpn_gdoi_pull_hash_input_bld(unsigned n, const vpn_isakmp_bld *b, vpn_isakmp_view ni_b,
                                 vpn_isakmp_view nr_b, vpn_wr *out);

/*
 * GROUPKEY-PUSH signature input (RFC 6407 4): the ASCII "rekey" (5
 * octets, no terminator), the 28-octet header as sent (final length, E
 * flag set) and the plaintext payloads before SIG, generic headers
 * included. Errors: the writer's.
 */
#define VPN_GDOI_PUSH_SIG_LABEL "rekey"
int vpn_gdoi_push_sig_input(const uint8_t hdr[VPN_ISAKMP_HDR_LEN], vpn_isakmp_view before_sig,
                            vpn_wr *out);
/*
 * From a received PUSH after vpn_isakmp_msg_parse_plain: the header as
 * received and the chain before its SIG, which must be the last payload.
 * Errors: VPN_ERR_MALFORMED (no SIG last), VPN_ERR_STATE (not decrypted).
 */
int vpn_gdoi_push_sig_input_msg(const vpn_isakmp_msg *m, vpn_wr *out);
/* From a builder after vpn_isakmp_bld_pad, SIG last (its value not yet written). */
int vpn_gdoi_push_sig_input_bld(const vpn_isakmp_bld *b, vpn_wr *out);

#ifdef __cplusplus
}
#endif

#endif
