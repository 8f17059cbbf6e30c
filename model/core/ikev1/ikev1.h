/*
 * IKEv1 phase 1: Main Mode (RFC 2409 5, identity protection exchange of
 * RFC 2408 4.5) with pre-shared keys, sans-IO. This is the protection GDOI
 * registration runs under (RFC 6407 3.1); the GDOI engines (gdoi/) own the
 * phase-1 SAs, feed them datagrams and use their keys for GROUPKEY-PULL.
 *
 *   I -> R  HDR, SA
 *   R -> I  HDR, SA
 *   I -> R  HDR, KE, Ni
 *   R -> I  HDR, KE, Nr
 *   I -> R  HDR*, IDii, HASH_I
 *   R -> I  HDR*, IDir, HASH_R
 *
 * Suites: AES-CBC (128/192/256) with SHA-1 or SHA-2 (the PRF is the HMAC
 * of the negotiated hash, RFC 2409 4), DH groups 14, 19 and 20, and, when
 * allowed, the legacy MODP groups 2 and 5 and 3DES-CBC (RFC 2409
 * appendix A: 5; 8-octet blocks and IVs) for older GDOI peers such as the
 * Cisco GDOI reference implementation.
 *
 * DOI of our SA payloads: configurable; the default is the IPsec DOI (1).
 * RFC 6407 allows either, and peers must accept both (we do). DOI 1 is
 * the default because it is what IKEv1 peers other than GDOI ones know
 * (strongSwan's IKEv1 refuses DOI 2) and because Wireshark decrypts an
 * IKEv1 phase 1 from its ikev1_decryption_table only when the SA carries
 * DOI 1, which makes the registration readable in traces.
 *
 * Time is `now` in ns; every datagram goes out through the send callback
 * (with, for an encrypted one, its decrypted view for traces). Randomness
 * (cookies, nonces, DH private values, message IDs) comes from the
 * injected rng. Retransmission (RFC 2408 does not fix a timer): the
 * initiator resends its last message every retrans_ns, up to retrans_max
 * times, then gives up; a responder resends its last reply when the
 * peer's last message arrives again. Informational exchanges (RFC 2409
 * 5.7): encrypted notifies and deletes with HASH(1) = prf(SKEYID_a, M-ID |
 * N/D); a received delete of the phase-1 SA ends it.
 *
 * Authentication: pre-shared keys (RFC 2409 5.4) or RSA signatures (5.1:
 * SKEYID = prf(Ni_b | Nr_b, g^xy), messages 5 and 6 carry SIG_I / SIG_R,
 * the PKCS#1 v1.5 signature of HASH_I / HASH_R without a DigestInfo, as
 * IKEv1 implementations sign). Peers are trusted by configured public
 * keys; CERT payloads are neither sent nor required. Aggressive Mode is
 * not implemented.
 */
#ifndef VPN_IKEV1_H
#define VPN_IKEV1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/alloc.h"
#include "common/rng.h"
#include "common/vpn-log.h"
#include "crypto/integ.h"
#include "isakmp/isakmp-msg.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VPN_IKEV1_DEFAULT_DOI 1u          /* see above */
#define VPN_IKEV1_DEFAULT_LIFETIME 86400u /* IOS default, seconds */
#define VPN_IKEV1_DEFAULT_RETRANS_NS 2000000000ull
#define VPN_IKEV1_DEFAULT_RETRANS_MAX 5u
#define VPN_IKEV1_MAX_MSG 4096
#define VPN_IKEV1_PSK_MAX 128
#define VPN_IKEV1_NONCE_LEN 32

#define VPN_IKEV1_SUITES_MAX 16

/* One phase-1 suite: an IOS `crypto isakmp policy` (RFC 2409 appendix A
 * values). */
typedef struct vpn_ikev1_suite {
    uint16_t encr_key_bits; /* AES-CBC: 128, 192, 256 (3DES: ignored) */
    uint16_t hash;          /* VPN_IKEV1_HASH_* */
    uint16_t group;         /* DH group */
    uint16_t auth;          /* VPN_IKEV1_AUTH_PSK or VPN_IKEV1_AUTH_RSA_SIG */
    uint32_t lifetime_s;    /* 0 = VPN_IKEV1_DEFAULT_LIFETIME */
    uint16_t encr;          /* 0 = VPN_IKEV1_ENCR_AES_CBC; VPN_IKEV1_ENCR_3DES for legacy
                               peers (a configured suite naming it enables it) */
} vpn_ikev1_suite;

typedef struct vpn_ikev1_cfg {
    uint16_t encr_key_bits; /* AES-CBC key length; 0 = 256 */
    uint16_t hash;          /* VPN_IKEV1_HASH_*; 0 = SHA2-256 */
    uint16_t group;         /* DH group to propose; 0 = 14 */
    bool allow_legacy_groups; /* accept MODP groups 2 and 5 from peers */
    bool allow_legacy_ciphers; /* accept 3DES-CBC from peers (without suites) */
    uint32_t doi;           /* DOI of our SA payloads; 0 = VPN_IKEV1_DEFAULT_DOI */
    uint32_t lifetime_s;    /* 0 = VPN_IKEV1_DEFAULT_LIFETIME */
    uint16_t auth;          /* what an initiator proposes: VPN_IKEV1_AUTH_PSK (0 = PSK)
                               or VPN_IKEV1_AUTH_RSA_SIG; a responder accepts either
                               method it has credentials for */
    const uint8_t *psk;     /* copied; 1..VPN_IKEV1_PSK_MAX octets (PSK) */
    size_t psk_len;
    /* RSA signatures (RFC 2409 5.1): our private key, and the peers' public
     * keys we trust (IOS `crypto key pubkey-chain rsa`); borrowed, must
     * outlive the SA. A signature is accepted from any of them. */
    const struct vpn_sig_key *key;
    const struct vpn_sig_key *const *peer_keys;
    size_t n_peer_keys;
    /* IOS ISAKMP policies, most preferred first (copied, at most
     * VPN_IKEV1_SUITES_MAX). When given, an initiator offers one transform
     * per suite instead of the single suite above, and a responder accepts
     * only a transform equal to one of them (encryption, hash, group and
     * authentication; the lifetime is the smaller of the two, RFC 2409
     * 4.5's leniency). None: the suite above, and a responder accepts any
     * AES-CBC transform with a group it allows. */
    const vpn_ikev1_suite *suites;
    size_t n_suites;
    vpn_addr local_id;      /* our ID payload (ID_IPV4_ADDR / ID_IPV6_ADDR) */
    uint64_t retrans_ns;    /* 0 = VPN_IKEV1_DEFAULT_RETRANS_NS */
    unsigned retrans_max;   /* 0 = VPN_IKEV1_DEFAULT_RETRANS_MAX */
    /* Asked before each allocation of the SA (zeroed: always allowed;
     * common/alloc.h): the GDOI engines pass their own gate. */
    vpn_alloc alloc;
} vpn_ikev1_cfg;

typedef struct vpn_ikev1_sa vpn_ikev1_sa;

/*
 * Output: one datagram for the SA's peer. view/view_len is the same
 * message with its payloads in clear (E flag cleared) when dg is
 * encrypted, else NULL/0. Both are valid only during the call.
 */
typedef void (*vpn_ikev1_send_fn)(void *user, vpn_ikev1_sa *sa, const uint8_t *dg, size_t len,
                                  const uint8_t *view, size_t view_len);

typedef struct vpn_ikev1_ctx {
    const vpn_rng *rng; /* must outlive the SA */
    vpn_log log;
    vpn_ikev1_send_fn send;
    void *user;
} vpn_ikev1_ctx;

typedef enum vpn_ikev1_state {
    VPN_IKEV1_ST_IDLE = 0,
    VPN_IKEV1_ST_I_MSG1, /* initiator waiting for message 2, 4, 6 */
    VPN_IKEV1_ST_I_MSG3,
    VPN_IKEV1_ST_I_MSG5,
    VPN_IKEV1_ST_R_MSG2, /* responder waiting for message 3, 5 */
    VPN_IKEV1_ST_R_MSG4,
    VPN_IKEV1_ST_ESTABLISHED,
    VPN_IKEV1_ST_DEAD,   /* failed, expired or deleted */
} vpn_ikev1_state;

/*
 * Creates a phase-1 SA. ctx and cfg are copied (the PSK too). An
 * initiator then calls vpn_ikev1_sa_start; a responder is fed the first
 * message with vpn_ikev1_sa_input. The caller owns *out (vpn_ikev1_sa_del).
 * Errors: VPN_ERR_INVAL (no PSK, PSK too long, no send callback or rng,
 * local_id without a family, more than VPN_IKEV1_SUITES_MAX suites, an
 * initiator with no credentials for its first suite's authentication),
 * VPN_ERR_UNSUPPORTED (hash, group or key length), VPN_ERR_NOMEM.
 */
int vpn_ikev1_sa_new(vpn_ikev1_sa **out, const vpn_ikev1_ctx *ctx, const vpn_ikev1_cfg *cfg,
                     bool initiator);

/* The engine contract's constructor argument: everything vpn_ikev1_sa_new takes, by name. */
typedef struct vpn_ikev1_sa_params {
    vpn_ikev1_ctx ctx;
    vpn_ikev1_cfg cfg;
    bool initiator;
} vpn_ikev1_sa_params;
/* Zeroes *p (no callbacks, responder, defaults). */
void vpn_ikev1_sa_params_init(vpn_ikev1_sa_params *p);
/* As vpn_ikev1_sa_new; errors the same, VPN_ERR_INVAL for a NULL p. */
int vpn_ikev1_sa_new_with(vpn_ikev1_sa **out, const vpn_ikev1_sa_params *p);
/* Wipes keys and frees. NULL is fine. */
void vpn_ikev1_sa_del(vpn_ikev1_sa *sa);

/* Initiator: sends message 1. Errors: VPN_ERR_STATE, VPN_ERR_NOSPACE, the rng's. */
int vpn_ikev1_sa_start(vpn_ikev1_sa *sa, uint64_t now);

/*
 * Processes one datagram of this SA (Main Mode or Informational; the
 * owner routes exchanges 32/33 elsewhere). Errors: VPN_ERR_MALFORMED,
 * VPN_ERR_TRUNCATED, VPN_ERR_UNSUPPORTED (parse), VPN_ERR_STATE (not
 * expected now; ignored), VPN_ERR_NOTFOUND (cookies not ours),
 * VPN_ERR_POLICY (no acceptable proposal), VPN_ERR_AUTH (HASH_I/HASH_R
 * or an informational HASH does not verify), VPN_ERR_CRYPTO. A message
 * refused leaves the SA as it was, except that a proposal refused by a
 * responder or a failed authentication ends the SA (state DEAD) after
 * notifying the peer in clear (RFC 2408 5.4).
 */
int vpn_ikev1_sa_input(vpn_ikev1_sa *sa, const uint8_t *dg, size_t len, uint64_t now);

/* Datagrams through vpn_ikev1_sa_input: every refusal is counted (and logged). */
typedef struct vpn_ikev1_sa_stats {
    uint64_t in;        /* taken (0 returned) */
    uint64_t dropped;   /* refused, whatever the reason */
    uint64_t malformed; /* of those, the ones that did not parse (MALFORMED / TRUNCATED) */
} vpn_ikev1_sa_stats;
/* The engine contract's getter: copies the counters; zeros for a NULL sa. */
void vpn_ikev1_sa_stats_get(const vpn_ikev1_sa *sa, vpn_ikev1_sa_stats *out);

/* The next retransmission or expiry (ns), UINT64_MAX if none. */
uint64_t vpn_ikev1_sa_next_deadline(const vpn_ikev1_sa *sa);
/* Retransmits, gives up, or expires the SA at now. */
void vpn_ikev1_sa_timeout(vpn_ikev1_sa *sa, uint64_t now);

/*
 * Sends an Informational exchange with a Delete of this SA (RFC 2408
 * 3.15, protocol ISAKMP, the two cookies as SPI) and ends it.
 * Errors: VPN_ERR_STATE (not established), VPN_ERR_CRYPTO, the rng's.
 */
int vpn_ikev1_sa_delete(vpn_ikev1_sa *sa, uint64_t now);

/*
 * Sends an encrypted Informational exchange with one Notify of type
 * (RFC 2408 3.14, protocol ISAKMP, no SPI), e.g. NO_PROPOSAL_CHOSEN for
 * a Quick Mode we do not serve. The SA stays as it is.
 * Errors: VPN_ERR_STATE (not established), VPN_ERR_CRYPTO, the rng's.
 */
int vpn_ikev1_sa_notify(vpn_ikev1_sa *sa, uint16_t type, uint64_t now);

vpn_ikev1_state vpn_ikev1_sa_state(const vpn_ikev1_sa *sa);
bool vpn_ikev1_sa_is_initiator(const vpn_ikev1_sa *sa);
const uint8_t *vpn_ikev1_sa_icookie(const vpn_ikev1_sa *sa);
const uint8_t *vpn_ikev1_sa_rcookie(const vpn_ikev1_sa *sa);
/* The peer's identity from message 5 or 6 (family NONE before). */
const vpn_addr *vpn_ikev1_sa_peer_id(const vpn_ikev1_sa *sa);
/* The negotiated cipher (VPN_IKEV1_ENCR_*) and its block (= IV) length:
 * 16 before negotiation and for AES, 8 for 3DES. */
uint16_t vpn_ikev1_sa_encr(const vpn_ikev1_sa *sa);
size_t vpn_ikev1_sa_block(const vpn_ikev1_sa *sa);
/* The negotiated DH group, hash and SA DOI the peer proposed. */
uint16_t vpn_ikev1_sa_group(const vpn_ikev1_sa *sa);
uint16_t vpn_ikev1_sa_hash(const vpn_ikev1_sa *sa);
uint32_t vpn_ikev1_sa_peer_doi(const vpn_ikev1_sa *sa);
void *vpn_ikev1_sa_get_user(const vpn_ikev1_sa *sa);
void vpn_ikev1_sa_set_user(vpn_ikev1_sa *sa, void *user);

/*
 * The phase-1 cipher key (for Wireshark's ikev1_decryption_table). Valid
 * while the SA lives; *len is 0 before keys exist.
 */
const uint8_t *vpn_ikev1_sa_enc_key(const vpn_ikev1_sa *sa, size_t *len);

/*
 * The SA's line of Wireshark's ikev1_decryption_table (initiator cookie
 * and cipher key in hex, comma-separated, no newline) into out (cap bytes
 * with the NUL). Returns the length, VPN_ERR_STATE before keys exist, or
 * VPN_ERR_NOSPACE.
 */
int vpn_ikev1_sa_wireshark_line(const vpn_ikev1_sa *sa, char *out, size_t cap);

/* ---- for exchanges under the phase-1 SA (GDOI GROUPKEY-PULL) ------------ */

#define VPN_IKEV1_BLOCK 16 /* the largest block (AES): size of IV buffers */

/* prf(SKEYID_a, data...) (RFC 2409 5.5). *out_len receives the length.
 * Errors: VPN_ERR_STATE (not established), VPN_ERR_NOSPACE, VPN_ERR_CRYPTO. */
int vpn_ikev1_sa_prf_a(const vpn_ikev1_sa *sa, const vpn_iov *data, size_t n, uint8_t *out,
                       size_t cap, size_t *out_len);
/* Length of that PRF's output (0 before negotiation). */
size_t vpn_ikev1_sa_prf_len(const vpn_ikev1_sa *sa);
/* IV of the first message of a phase-2 exchange with msg_id (RFC 2409
 * appendix B); vpn_ikev1_sa_block octets of iv are written. */
int vpn_ikev1_sa_p2_iv(const vpn_ikev1_sa *sa, uint32_t msg_id, uint8_t iv[VPN_IKEV1_BLOCK]);
/*
 * CBC in place with the phase-1 key; iv is updated to the last ciphertext
 * block, the IV of the exchange's next message. len a multiple of
 * vpn_ikev1_sa_block. The cipher context is allocated behind the SA's gate
 * (vpn_ikev1_cfg.alloc); when it refuses, buf and iv are unchanged.
 * Errors: VPN_ERR_STATE, VPN_ERR_INVAL, VPN_ERR_NOMEM, VPN_ERR_CRYPTO.
 */
int vpn_ikev1_sa_encrypt(const vpn_ikev1_sa *sa, uint8_t iv[VPN_IKEV1_BLOCK], uint8_t *buf,
                         size_t len);
int vpn_ikev1_sa_decrypt(const vpn_ikev1_sa *sa, uint8_t iv[VPN_IKEV1_BLOCK], uint8_t *buf,
                         size_t len);
/* Hands a datagram to the SA's send callback (used by the GDOI engines). */
void vpn_ikev1_sa_emit(vpn_ikev1_sa *sa, const uint8_t *dg, size_t len, const uint8_t *view,
                       size_t view_len);

/* Constant-time comparison: 0 if equal. */
int vpn_ikev1_memcmp_ct(const uint8_t *a, const uint8_t *b, size_t n);

#ifdef __cplusplus
}
#endif

#endif
