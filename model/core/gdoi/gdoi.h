/*
 * GDOI (RFC 6407) key server (KS) and group member (GM) engines, sans-IO.
 *
 * Registration: IKEv1 Main Mode (ikev1/ikev1.h, the GM initiates), then
 * GROUPKEY-PULL (exchange 32, RFC 6407 3) under the phase-1 SA:
 *
 *   GM -> KS  HDR*, HASH(1), Ni, ID          (ID = group number, ID_KEY_ID)
 *   KS -> GM  HDR*, HASH(2), Nr, SA          (SA KEK, SA TEK)
 *   GM -> KS  HDR*, HASH(3)
 *   KS -> GM  HDR*, HASH(4), SEQ, KD         (TEK keys, KEK keys, KS public key)
 *
 * Rekeys: GROUPKEY-PUSH (exchange 33, RFC 6407 4), HDR*, SEQ, SA, KD, SIG,
 * signed with the KS's RSA key (RSASSA-PKCS1-v1_5 with SHA-256 over the
 * RFC 6407 4 signature input, see gdoi-codec.h) and CBC-encrypted with
 * the KEK (AES-256; the IV is the one the KEK key packet carries, as both
 * public implementations do), sent by unicast to every registered member
 * or by multicast to the group address, and retransmitted retrans_n
 * times every retrans_s seconds (IOS defaults 10 s, 2). The KS schedules
 * a rekey lead = lifetime / 5 seconds before the TEK expires (IOS was
 * seen about 126 s ahead for a 600 s TEK); a rekey carries a new KEK too
 * when the current one would expire before the next rekey.
 *
 * The GM installs each TEK into a vpn_sad as a group SA (direction both,
 * tunnel mode with address preservation, time-based anti-replay when the
 * policy has a window) and the TEK policy into a vpn_spd (a bypass entry
 * for GDOI itself, UDP 848, then protect for the policy's selector). Old
 * TEKs stay in the SAD for inbound traffic until their lifetime ends.
 * A PUSH is applied only if its KEK SPI (the cookie pair) is the current
 * one, it decrypts, parses, its signature verifies with the KS key learnt
 * at registration, and its SEQ is above the last seen (RFC 6407 4.1);
 * otherwise the GM's state is unchanged. Members also take what the Cisco
 * GDOI reference implementation sends (other KEK ciphers, its layouts,
 * signature form and KEK rollover; 3DES and SHA-1 only with allow_legacy):
 * README, GET VPN notes.
 *
 * Time-based anti-replay parameters travel in the SA TEK as attributes of
 * the IPsec DOI's private-use range (RFC 2407 4.5: 32001-32767), because
 * Cisco's carrier is proprietary: VPN_GDOI_TEK_ATTR_TBAR_WINDOW (basic,
 * seconds) and VPN_GDOI_TEK_ATTR_PSEUDOTIME (variable, the KS pseudotime
 * in ms when the message was built). Receivers that do not know them skip
 * them (RFC 2408 3.3 attribute lists).
 *
 * Unicast rekeys request acknowledgements (RFC 8263 KEK_ACK_REQUESTED);
 * members answer each accepted unicast rekey with an ACK (exchange
 * VPN_GDOI_EXCH_PUSH_ACK; our form is described at ack_input in
 * gdoi-ks.c and is UNVERIFIED against RFC 8263's key derivation); the KS
 * retransmits only to members that did not acknowledge, and removes a
 * member after three consecutive unacknowledged rekeys, as IOS does.
 * A retransmitted rekey the member already applied is acknowledged again.
 *
 * Cooperative key servers (COOP, gdoi-coop.c): see the COOP section
 * below. Group members may list several key servers (IOS `server address
 * ipv4`, repeated): registration tries them in order, rekeys are accepted
 * from any of them (they share the rekey RSA key) and ACKs go to the
 * rekey's source.
 *
 * Not implemented here: SID download for AEAD counter IVs (GCM TEKs use
 * random IVs instead).
 */
#ifndef VPN_GDOI_H
#define VPN_GDOI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/alloc.h"
#include "common/rng.h"
#include "common/vpn-log.h"
#include "common/wire.h"
#include "crypto/sig.h"
#include "ikev1/ikev1.h"
#include "ipsec/sa.h"
#include "ipsec/spd.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VPN_GDOI_PORT 848
#define VPN_GDOI_TEK_ATTR_TBAR_WINDOW 32001
#define VPN_GDOI_TEK_ATTR_PSEUDOTIME 32002
#define VPN_GDOI_DEFAULT_TEK_LIFETIME 3600u  /* IOS */
#define VPN_GDOI_DEFAULT_KEK_LIFETIME 86400u /* IOS */
#define VPN_GDOI_DEFAULT_RETRANS_S 10u       /* IOS rekey retransmit */
#define VPN_GDOI_DEFAULT_RETRANS_N 2u

/*
 * Output of both engines: one UDP datagram (ports 848) from src to dst
 * (a member, the KS, or the multicast group), and for an encrypted one
 * its decrypted view (E flag clear, payloads in clear) for traces, else
 * NULL. Valid only during the call.
 */
typedef void (*vpn_gdoi_send_fn)(void *user, const vpn_addr *src, const vpn_addr *dst,
                                 const uint8_t *dg, size_t len, const uint8_t *view,
                                 size_t view_len);

/*
 * Permit lines of one TEK policy at most (the first in sel, the others in
 * more). RFC 6407 5.4 sends one SA TEK payload, with its own source and
 * destination IDs, per policy; an IOS `sa ipsec N` ACL of several permit
 * lines is one TEK ("TEK POLICY for the current KS-Policy ACEs
 * Downloaded": one SPI, one set of keys, one ident pair per ACE), so our
 * KS sends one SA TEK per line, all with the same SPI, and one KD key
 * packet for that SPI. (The Cisco GDOI reference implementation's traces
 * carry two SA TEKs with different SPIs and keys: two policies, which
 * members take as further receive TEKs; see gdoi-gdoid-interop.)
 * Members match the lines in order, after the GDOI bypass.
 *
 * An SA TEK has no action (RFC 6407 5.4.1), so an ACL's deny lines have
 * no standard carrier. The KS applies what it can itself (gdoi-conf.c:
 * denies no later permit's traffic meets are left out, permits an earlier
 * deny covers are left out); a deny covering part of a later permit is
 * sent as a line of its own whose SA TEK has the private-use attribute
 * VPN_GDOI_TEK_ATTR_BYPASS (basic, 1; RFC 2407 4.5, as the TBAR ones):
 * our members leave its traffic in clear. Members that do not know it
 * (IOS, gdoid) skip it and protect that traffic instead: stricter, never
 * a leak.
 */
#define VPN_GDOI_TEK_SELS_MAX 16
#define VPN_GDOI_TEK_ATTR_BYPASS 32003

/* What the KS tells members to protect, and how (RFC 6407 5.4.1). */
typedef struct vpn_gdoi_tek_policy {
    vpn_spd_sel sel;        /* IPv4; protocol, prefixes, one port each (lo) */
    /* further lines in ACL order (same SPI and keys); COOP announcements
     * carry them (VPN_GDOI_COOP_F_LINES) */
    vpn_spd_sel more[VPN_GDOI_TEK_SELS_MAX - 1];
    uint8_t n_more;
    /* bit i: line i (0 = sel, i = more[i - 1]) is a deny the members
     * bypass (VPN_GDOI_TEK_ATTR_BYPASS); at least one line is a permit */
    uint32_t deny_mask;
    uint16_t encr_id;       /* VPN_ENCR_AES_CBC or VPN_ENCR_AES_GCM_16 */
    uint16_t key_bits;      /* 128/192/256; 0 = 256 */
    uint16_t integ_id;      /* CBC: VPN_AUTH_HMAC_SHA2_*; 0 = SHA2-256-128 */
    uint32_t lifetime_s;    /* 0 = VPN_GDOI_DEFAULT_TEK_LIFETIME */
    uint32_t tbar_window_s; /* 0 = no time-based anti-replay */
} vpn_gdoi_tek_policy;

/* ---- cooperative key servers (COOP) ----------------------------------------
 *
 * Two or more KSs serve one group (IOS `redundancy`, `local priority`,
 * `peer address ipv4`). Each pair of KSs runs an IKEv1 Main Mode SA
 * (ikev1/ikev1.h; both ends initiate at start, a collision keeps the SA the
 * lower address initiated). Over it every KS sends announcements every
 * announce_s seconds and at once after a change:
 *
 *   HDR* (exchange VPN_GDOI_EXCH_COOP = 240, the KS-KS phase-1 cookies,
 *         random non-zero message ID), HASH, COOP, SIG
 *
 * encrypted and IV'd as an IKEv1 phase-2 message of that message ID
 * (RFC 2409 appendix B), HASH = prf(SKEYID_a, M-ID | COOP | SIG) as an
 * IKEv1 informational HASH(1) (RFC 2409 5.7), and SIG the sender's RSA
 * signature (PKCS#1 v1.5, SHA-256) over the ASCII "gdoi-coop" (9 octets)
 * followed by the whole COOP payload (generic header included), verified
 * with the public key configured for that peer. Exchange 240 and payload
 * type 128 are RFC 2408 3.1's private-use values: IOS's COOP wire format
 * is not public (the notes give its behaviour, not its bytes), so this
 * one is ours and does not interoperate with IOS key servers.
 *
 * The COOP payload body (vpn_gdoi_coop_ann_encode / _decode), big-endian:
 *   version 1 (=1), role 1 (0 election, 1 secondary, 2 primary),
 *   priority 1 (1..255), flags 1 (0x01 keys follow, 0x02 reply requested),
 *   group ID 4, sender IPv4 address 4, announcement sequence number 4
 *   (anti-replay: strictly increasing per sender within one KS-KS SA),
 *   the group's GROUPKEY-PUSH SEQ 4, SHA-256 of the rekey public key
 *   (DER SubjectPublicKeyInfo) 32, member count 2 (<= 8000, Cisco's limit
 *   per announcement), that many IPv4 member addresses 4 each; then if
 *   flag 0x01: the policy (IP protocol 1, source address 4 and prefix
 *   length 1, destination address 4 and prefix length 1, source port 2,
 *   destination port 2, ESP transform 2, key bits 2, integrity transform
 *   2, TEK lifetime s 4, TBAR window s 4, KEK lifetime s 4, policy flags 1
 *   (0x01 multicast rekeys, 0x02 receive-only), rekey group address 4, GAP
 *   activation 2 and deactivation 2), the KEK (SPI 16, IV 16, key 32,
 *   remaining lifetime ms 4), the TEK (SPI 4, cipher key length 1 and key,
 *   integrity key length 1 and key, remaining lifetime ms 4), the
 *   pseudotime ms 8 (TBAR) and the time to the next scheduled rekey ms 4.
 *   Nothing may follow. Times are relative: KSs do not share a clock.
 *
 * A primary's announcement lists every member; a secondary's lists the
 * members that registered with it and that the primary has not listed
 * yet (so the primary unicasts rekeys to them too).
 *
 * Election (IOS behaviour from the notes): the primary is the KS with the
 * highest priority, ties broken by the highest address, among this KS
 * and the peers heard within dead_s that are not still electing. A KS
 * starts electing for election_s, syncing from any primary it hears. A
 * secondary takes the primary's policy, keys, SEQ, pseudotime, rekey time
 * and member list from each announcement; if the primary is silent for
 * dead_s, the election runs again without it and the best secondary
 * becomes primary and rekeys when the synced schedule says, with SEQ
 * continuing: the members' keys stay valid and nobody re-registers (all
 * KSs must share the rekey RSA key, as IOS requires: an announcement
 * whose key hash differs is refused). Split brain: partitioned KSs each
 * make themselves primary; when they hear each other again the lower
 * steps down and adopts the winner's keys; the winner takes the highest
 * SEQ either used, learns the loser's members, and rekeys at once, once
 * under its KEK and once under the loser's KEK if it differs, so every
 * member moves to the winner's TEK and KEK without re-registering.
 * UNVERIFIED against IOS: preemption (a higher-priority KS that comes up
 * later takes over, after syncing), the default dead interval and
 * election time, secondaries announcing periodically, and the immediate
 * rekey after a merge.
 */
#define VPN_GDOI_COOP_MAX_PEERS 8
#define VPN_GDOI_COOP_MAX_MEMBERS 8000u       /* Cisco's limit per announcement */
#define VPN_GDOI_COOP_DEFAULT_PRIORITY 1u     /* IOS */
#define VPN_GDOI_COOP_DEFAULT_ANNOUNCE_S 30u  /* IOS "Primary Periodic Time" */
#define VPN_GDOI_COOP_DEFAULT_DEAD_S 90u      /* UNVERIFIED: three announcements */
#define VPN_GDOI_COOP_DEFAULT_ELECTION_S 10u  /* UNVERIFIED */
#define VPN_GDOI_COOP_VERSION 1u

typedef struct vpn_gdoi_coop_peer {
    vpn_addr addr;           /* `peer address ipv4` */
    const vpn_sig_key *pub;  /* verifies its announcements; borrowed, must outlive the KS */
} vpn_gdoi_coop_peer;

typedef struct vpn_gdoi_coop_cfg {
    const vpn_gdoi_coop_peer *peers; /* copied; n_peers 0 = no COOP */
    size_t n_peers;
    uint8_t priority;        /* `local priority` 1..255; 0 = 1 */
    const vpn_sig_key *key;  /* signs our announcements; NULL = rekey_key */
    uint32_t announce_s, dead_s, election_s; /* 0 = the defaults above */
    const vpn_ikev1_cfg *ike; /* KS-KS phase 1; NULL = the KS's ike (copied; its
                               * alloc is replaced by the KS's gate) */
} vpn_gdoi_coop_cfg;

typedef enum vpn_gdoi_coop_role {
    VPN_GDOI_COOP_ELECTION = 0,
    VPN_GDOI_COOP_SECONDARY = 1,
    VPN_GDOI_COOP_PRIMARY = 2,
} vpn_gdoi_coop_role;

/* What an announcement says (vpn_gdoi_coop_ann_decode). */
typedef struct vpn_gdoi_coop_ann {
    uint8_t role, priority, flags;
    uint32_t group_id;
    vpn_addr sender;
    uint32_t ann_seq, rekey_seq;
    uint8_t key_hash[32];
    size_t n_members;
    const uint8_t *members; /* n_members * 4 octets, a view into the body */
    /* flags & VPN_GDOI_COOP_F_KEYS: */
    vpn_gdoi_tek_policy tek;
    uint32_t kek_lifetime_s;
    bool multicast, receive_only;
    vpn_addr mcast;
    uint16_t gap_act, gap_deact;
    uint8_t kek_spi[16], kek_iv[16], kek_key[32];
    uint32_t kek_remaining_ms;
    uint32_t tek_spi;
    uint8_t tek_alg_key[64], tek_integ_key[64];
    uint8_t tek_alg_len, tek_integ_len;
    uint32_t tek_remaining_ms;
    uint64_t pseudotime_ms;
    uint32_t rekey_in_ms;
} vpn_gdoi_coop_ann;

#define VPN_GDOI_COOP_F_KEYS 0x01
#define VPN_GDOI_COOP_F_REPLY 0x02
/* With F_KEYS: the TEK policy has further lines (tek.more, tek.n_more) or
 * deny lines (tek.deny_mask), which follow the keys block; set by encode
 * itself, so a multi-line policy (one SA TEK per ACL line, RFC 6407 5.4)
 * survives COOP sync and failover as it is. */
#define VPN_GDOI_COOP_F_LINES 0x04

/*
 * The COOP payload body. decode checks every field's range and that
 * nothing is left over; *out is written only on success (members points
 * into body). Errors: VPN_ERR_MALFORMED, VPN_ERR_TRUNCATED, VPN_ERR_LIMIT
 * (too many members), VPN_ERR_UNSUPPORTED (version). encode: the writer's.
 */
int vpn_gdoi_coop_ann_decode(const uint8_t *body, size_t len, vpn_gdoi_coop_ann *out);
int vpn_gdoi_coop_ann_encode(const vpn_gdoi_coop_ann *a, vpn_wr *w);

typedef struct vpn_gdoi_coop_stats {
    uint64_t ann_sent, ann_rcvd;
    /* announcements refused: */
    uint64_t bad_hash, bad_sig, replays, malformed, unknown_peer, wrong_group, key_mismatch,
        no_sa;
    uint64_t role_changes, takeovers, merges;
    /* a phase 1 to a peer refused by our configuration (logged once, counted
     * once; memory and RNG failures go to the KS's internal_errors) */
    uint64_t config_errors;
} vpn_gdoi_coop_stats;

/* ---- key server ------------------------------------------------------------ */

/* Members a KS serves at most unless configured lower (Cisco's figure). */
#define VPN_GDOI_KS_MAX_MEMBERS 8000u

/* One line of IOS `authorization address ipv4 ACL`: members whose phase-1
 * identity address lies in prefix are allowed (permit) or refused; the
 * first matching rule decides, and an address no rule matches is refused
 * (an ACL's implicit deny). */
typedef struct vpn_gdoi_auth_rule {
    bool permit;
    vpn_prefix prefix;
} vpn_gdoi_auth_rule;

typedef struct vpn_gdoi_ks_cfg {
    const char *name;        /* group name (show views); copied */
    uint32_t group_id;       /* `identity number` */
    vpn_addr local;          /* the KS address (`server local address`) */
    vpn_ikev1_cfg ike;       /* phase 1 (PSK, local_id); copied */
    const vpn_addr *authorized; /* members allowed to register; NULL = any */
    size_t n_authorized;
    const vpn_gdoi_auth_rule *auth_rules; /* copied; none = any (both lists apply) */
    size_t n_auth_rules;
    /* registered members at most; 0 = VPN_GDOI_KS_MAX_MEMBERS. Beyond it a
     * registration is refused (counted in refused_limit, logged); members
     * already registered may register again. */
    uint32_t max_members;
    vpn_gdoi_tek_policy tek;
    uint32_t kek_lifetime_s; /* 0 = VPN_GDOI_DEFAULT_KEK_LIFETIME */
    bool multicast;          /* rekey transport; IOS default is multicast */
    vpn_addr mcast;          /* the group address for multicast rekeys */
    uint32_t retrans_s, retrans_n; /* 0 = IOS defaults */
    uint32_t rekey_lead_s;   /* 0 = lifetime / 5 */
    /* RFC 6407 5.5 GAP: members start sending on a new TEK this long
     * after a rekey, and drop the previous TEKs this long after it
     * (sooner than their lifetime); 0 and 0 = no GAP payload. */
    uint16_t gap_activation_s, gap_deactivation_s;
    /* IOS `sa receive-only` (migration): TEKs go out with SA direction
     * receiver-only (RFC 6407 5.4.1); members accept traffic on them but
     * do not encrypt with them. */
    bool receive_only;
    const vpn_sig_key *rekey_key; /* RSA private key, borrowed; must outlive the KS */
    /* Wire layout of SA KEK / SA TEK (isakmp/gdoi-codec.h): 0 = RFC 6407
     * (default), VPN_GDOI_LAYOUT_GDOID for members running the Cisco GDOI
     * reference implementation, whose TEK IPv4 IDs are then written in
     * its byte order and whose rekeys are signed in its form too
     * (gdoi_push_sign_gdoid; README, GET VPN notes). */
    uint8_t layout;
    vpn_gdoi_coop_cfg coop;  /* cooperative key servers (see above); zero = none */
    /* Asked before each allocation the KS makes (zeroed: always allowed;
     * common/alloc.h); tests fail the k-th one. */
    vpn_alloc alloc;
    /* Told (with the send callback's user) of every local failure (memory,
     * RNG, signing; a rekey that could not be made): err and a description.
     * Each is also logged and counted (internal_errors; rekey_failures).
     * NULL: log and count only. */
    void (*error_event)(void *user, int err, const char *detail);
} vpn_gdoi_ks_cfg;

typedef struct vpn_gdoi_ks_stats {
    uint64_t registrations, refused, rekeys, rekey_msgs_sent, retransmits, bad_msgs, acks,
        removed;
    /* refused (the total) by reason: the member limit (and members a
     * cooperating KS listed beyond it), not authorized, another group, a
     * registration message that does not parse */
    uint64_t refused_limit, refused_unauthorized, refused_group, refused_malformed;
    uint64_t dropped; /* every datagram vpn_gdoi_ks_input refused, whatever the reason */
    /* local failures (memory, RNG, signing), each logged and reported to
     * cfg.error_event; rekeys that could not be made (retried 1 s later
     * from the timer), `show crypto gdoi` shows both when not zero */
    uint64_t internal_errors, rekey_failures;
} vpn_gdoi_ks_stats;

typedef struct vpn_gdoi_ks vpn_gdoi_ks;

/*
 * Creates a KS at time now with fresh TEK and KEK (keys from rng). rng must
 * outlive the KS; cfg is copied. Errors: VPN_ERR_INVAL (no RSA key, no
 * send callback, bad policy), VPN_ERR_UNSUPPORTED, VPN_ERR_NOMEM, the
 * rng's. The caller owns *out (vpn_gdoi_ks_del).
 */
int vpn_gdoi_ks_new(vpn_gdoi_ks **out, const vpn_gdoi_ks_cfg *cfg, const vpn_rng *rng,
                    const vpn_log *log, vpn_gdoi_send_fn send, void *user, uint64_t now);
void vpn_gdoi_ks_del(vpn_gdoi_ks *ks);

/* The engine contract's constructor argument: vpn_gdoi_ks_new's, by name. */
typedef struct vpn_gdoi_ks_params {
    const vpn_gdoi_ks_cfg *cfg;
    const vpn_rng *rng;      /* must outlive the KS */
    const vpn_log *log;      /* NULL: none (copied) */
    vpn_gdoi_send_fn send;
    void *user;
    uint64_t now;
} vpn_gdoi_ks_params;
/* As vpn_gdoi_ks_new; errors the same, VPN_ERR_INVAL for a NULL p. */
int vpn_gdoi_ks_new_with(vpn_gdoi_ks **out, const vpn_gdoi_ks_params *p);
/*
 * One UDP 848 datagram from src. Errors: the parse errors, VPN_ERR_AUTH,
 * VPN_ERR_POLICY (unauthorized member, wrong group), VPN_ERR_LIMIT (the
 * group has max_members), VPN_ERR_NOTFOUND (unknown cookies),
 * VPN_ERR_STATE. Nothing changes on error but the refusal counters.
 */
int vpn_gdoi_ks_input(vpn_gdoi_ks *ks, const vpn_addr *src, const uint8_t *dg, size_t len,
                      uint64_t now);
uint64_t vpn_gdoi_ks_next_deadline(const vpn_gdoi_ks *ks);
void vpn_gdoi_ks_timeout(vpn_gdoi_ks *ks, uint64_t now);
/* Rekeys now (a policy change, or a test). Errors: VPN_ERR_CRYPTO, the rng's. */
int vpn_gdoi_ks_rekey(vpn_gdoi_ks *ks, bool new_kek, uint64_t now);
/*
 * Switches the rekey transport (`rekey transport unicast` / `rekey address
 * ipv4`); takes effect with the next rekey. Errors: VPN_ERR_INVAL.
 */
int vpn_gdoi_ks_set_multicast(vpn_gdoi_ks *ks, bool multicast, const vpn_addr *group);
size_t vpn_gdoi_ks_members(const vpn_gdoi_ks *ks);
/* A borrowed pointer to the counters (NULL for a NULL ks). */
const vpn_gdoi_ks_stats *vpn_gdoi_ks_get_stats(const vpn_gdoi_ks *ks);
/* The engine contract's getter: copies the counters; zeros for a NULL ks. */
void vpn_gdoi_ks_stats_get(const vpn_gdoi_ks *ks, vpn_gdoi_ks_stats *out);
uint32_t vpn_gdoi_ks_tek_spi(const vpn_gdoi_ks *ks);
const uint8_t *vpn_gdoi_ks_kek_spi(const vpn_gdoi_ks *ks);
uint32_t vpn_gdoi_ks_seq(const vpn_gdoi_ks *ks);
/* The current KEK (AES-256 key and IV), for trace exports. */
void vpn_gdoi_ks_kek(const vpn_gdoi_ks *ks, const uint8_t **key, const uint8_t **iv);

/* COOP state: the role (PRIMARY without COOP), counters (NULL without COOP). */
vpn_gdoi_coop_role vpn_gdoi_ks_coop_role(const vpn_gdoi_ks *ks);
const vpn_gdoi_coop_stats *vpn_gdoi_ks_coop_stats(const vpn_gdoi_ks *ks);
/* The phase-1 SA with peer i (NULL if none), for key exports. */
const vpn_ikev1_sa *vpn_gdoi_ks_coop_phase1(const vpn_gdoi_ks *ks, size_t i);

/* ---- group member ---------------------------------------------------------- */

/* What vpn_gdoi_gm_cfg.event reports; each kind is one counter of
 * vpn_gdoi_gm_stats. */
typedef enum vpn_gdoi_gm_event_kind {
    VPN_GDOI_GM_EV_REKEY_REFUSED = 0, /* rekeys_rejected: verified, but not installable */
    VPN_GDOI_GM_EV_BAD_SIGNATURE,     /* bad_sig: RFC 6407 4 SIG does not verify */
    VPN_GDOI_GM_EV_BAD_KEK,           /* bad_kek: not our KEK SPI, or does not decrypt */
    VPN_GDOI_GM_EV_REPLAY,            /* replays: RFC 6407 4.1 SEQ not above the last */
    VPN_GDOI_GM_EV_MALFORMED,         /* malformed: a datagram that does not parse */
    VPN_GDOI_GM_EV_INTERNAL,          /* internal_errors: memory, RNG, crypto library */
    VPN_GDOI_GM_EV_COUNT
} vpn_gdoi_gm_event_kind;

typedef struct vpn_gdoi_gm_event {
    vpn_gdoi_gm_event_kind kind;
    int err;            /* the VPN_ERR_* behind it */
    uint32_t seq;       /* the rekey's SEQ when it was read, else 0 */
    const char *detail; /* what happened, for a log line */
} vpn_gdoi_gm_event;

/* "rekey refused", "bad signature", ...; "?" for an unknown kind. */
const char *vpn_gdoi_gm_event_name(vpn_gdoi_gm_event_kind kind);

typedef struct vpn_gdoi_gm_cfg {
    const char *name;
    uint32_t group_id;
    vpn_addr local, ks;    /* ks: the key server, if servers is empty */
    /* IOS `server address ipv4`, repeated (COOP): registration tries them
     * in this order; copied, at most VPN_GDOI_GM_MAX_SERVERS */
    const vpn_addr *servers;
    size_t n_servers;
    vpn_ikev1_cfg ike;     /* copied */
    vpn_sad *sad;          /* borrowed: TEKs go here */
    vpn_spd *spd;          /* borrowed: the policy goes here */
    uint32_t spd_seq;      /* SPD sequence number of all our entries (bypass first, then the
                            * lines in order): a later crypto map entry needs a higher one */
    uint32_t rereg_lead_s; /* re-register this long before keys lapse; 0 = 60 */
    /* Legacy algorithms from older key servers (the Cisco GDOI reference
     * implementation, gdoid): 3DES KEKs and TEKs and SHA-1 rekey
     * signatures. Off by default, as ikev1's allow_legacy_groups is. A
     * refused policy names the attribute and value in the log and in
     * vpn_gdoi_gm_info.refused. */
    bool allow_legacy;
    /* receive-only TEKs install inbound only, with a bypass entry for the
     * policy's traffic, so the member sends it in clear */
    /* Asked before each allocation the GM and its phase 1 make (zeroed:
     * always allowed; common/alloc.h); tests fail the k-th one. */
    vpn_alloc alloc;
    /* Told of every refused or failed thing the member counts (one call
     * per count in vpn_gdoi_gm_stats: rekeys_rejected, bad_sig, bad_kek,
     * replays, malformed, internal_errors), with event_user; the event
     * and its detail are borrowed for the call. The callback must not
     * call into this GM. NULL: count and log only. */
    void (*event)(void *event_user, const vpn_gdoi_gm_event *ev);
    void *event_user;
} vpn_gdoi_gm_cfg;

#define VPN_GDOI_GM_MAX_SERVERS 8

typedef enum vpn_gdoi_gm_state {
    VPN_GDOI_GM_IDLE = 0,
    VPN_GDOI_GM_PHASE1,
    VPN_GDOI_GM_PULL1, /* HASH(1) sent, waiting for HASH(2) */
    VPN_GDOI_GM_PULL3, /* HASH(3) sent, waiting for HASH(4) */
    VPN_GDOI_GM_REGISTERED,
} vpn_gdoi_gm_state;

typedef struct vpn_gdoi_gm_stats {
    uint64_t registrations, reg_attempts, rekeys, rekeys_rejected, replays, bad_sig, bad_kek,
        malformed, acks_sent;
    uint64_t dropped; /* every datagram vpn_gdoi_gm_input(_from) refused, whatever the reason */
    uint64_t internal_errors; /* local failures (memory, RNG), each logged as an error */
} vpn_gdoi_gm_stats;

typedef struct vpn_gdoi_gm vpn_gdoi_gm;

/* Errors: VPN_ERR_INVAL, VPN_ERR_UNSUPPORTED, VPN_ERR_NOMEM. */
int vpn_gdoi_gm_new(vpn_gdoi_gm **out, const vpn_gdoi_gm_cfg *cfg, const vpn_rng *rng,
                    const vpn_log *log, vpn_gdoi_send_fn send, void *user);
/* Removes its SAs and SPD entries, wipes keys, frees. NULL is fine. */
void vpn_gdoi_gm_del(vpn_gdoi_gm *gm);

/* The engine contract's constructor argument: vpn_gdoi_gm_new's, by name. */
typedef struct vpn_gdoi_gm_params {
    const vpn_gdoi_gm_cfg *cfg;
    const vpn_rng *rng;      /* must outlive the GM */
    const vpn_log *log;      /* NULL: none (copied) */
    vpn_gdoi_send_fn send;
    void *user;
} vpn_gdoi_gm_params;
/* As vpn_gdoi_gm_new; errors the same, VPN_ERR_INVAL for a NULL p. */
int vpn_gdoi_gm_new_with(vpn_gdoi_gm **out, const vpn_gdoi_gm_params *p);
/*
 * Starts registration: phase 1, then GROUPKEY-PULL; a phase-1 SA still
 * established from the last registration is reused (as IOS re-registers).
 * Errors: VPN_ERR_STATE, the rng's.
 */
int vpn_gdoi_gm_start(vpn_gdoi_gm *gm, uint64_t now);
/*
 * One UDP 848 datagram (from the KS, unicast or multicast). Errors: the
 * parse errors, VPN_ERR_AUTH (HASH or signature), VPN_ERR_REPLAY (SEQ),
 * VPN_ERR_NOTFOUND (not our cookies / KEK SPI), VPN_ERR_STATE,
 * VPN_ERR_POLICY (a policy we cannot install). Nothing changes on error.
 */
int vpn_gdoi_gm_input(vpn_gdoi_gm *gm, const uint8_t *dg, size_t len, uint64_t now);
/* The same with the datagram's source: ACKs go back to the KS that sent
 * the rekey (NULL = the current key server). */
int vpn_gdoi_gm_input_from(vpn_gdoi_gm *gm, const vpn_addr *src, const uint8_t *dg, size_t len,
                           uint64_t now);
uint64_t vpn_gdoi_gm_next_deadline(const vpn_gdoi_gm *gm);
void vpn_gdoi_gm_timeout(vpn_gdoi_gm *gm, uint64_t now);

vpn_gdoi_gm_state vpn_gdoi_gm_get_state(const vpn_gdoi_gm *gm);
/* A borrowed pointer to the counters (NULL for a NULL gm). */
const vpn_gdoi_gm_stats *vpn_gdoi_gm_get_stats(const vpn_gdoi_gm *gm);
/* The engine contract's getter: copies the counters; zeros for a NULL gm. */
void vpn_gdoi_gm_stats_get(const vpn_gdoi_gm *gm, vpn_gdoi_gm_stats *out);
/* The current outbound TEK SA (NULL before registration). */
vpn_sa *vpn_gdoi_gm_tek(const vpn_gdoi_gm *gm);
/*
 * RFC 4301 5.2 step 4 for a packet decrypted with one of this member's
 * TEKs: does the key server's policy installed here (its ACL lines in
 * order, first match) permit it? False for a deny (bypass) line, for a
 * packet no line matches, before registration and for NULL arguments.
 * Local deny lines and the GDOI bypass are the caller's (they say what
 * goes out in clear, not what may come in encrypted).
 */
bool vpn_gdoi_gm_policy_permits(const vpn_gdoi_gm *gm, const vpn_ip_info *ii);
uint32_t vpn_gdoi_gm_last_seq(const vpn_gdoi_gm *gm);
const uint8_t *vpn_gdoi_gm_kek_spi(const vpn_gdoi_gm *gm);
/* The current KEK key (32 octets) and IV (16), for trace exports; NULL before registration. */
void vpn_gdoi_gm_kek(const vpn_gdoi_gm *gm, const uint8_t **key, const uint8_t **iv);
/* The phase-1 SA of the current registration (NULL if none), for key exports. */
const vpn_ikev1_sa *vpn_gdoi_gm_phase1(const vpn_gdoi_gm *gm);

/* ---- state for `show crypto gdoi` (show/show-gdoi.h) ------------------------- */

typedef struct vpn_gdoi_tek_info {
    uint32_t spi;
    uint16_t encr_id, key_bits, integ_id;
    uint32_t lifetime_s, remaining_s;
    uint32_t tbar_window_s; /* 0: counter-based / none */
    vpn_spd_sel acl;        /* the first line */
    vpn_spd_sel acl_more[VPN_GDOI_TEK_SELS_MAX - 1]; /* the others, in order */
    uint8_t n_acl_more;
    uint32_t acl_deny;      /* bit i: line i is a deny (as deny_mask) */
} vpn_gdoi_tek_info;

typedef struct vpn_gdoi_kek_info {
    uint8_t spi[VPN_GDOI_KEK_SPI_LEN];
    bool multicast;
    uint32_t lifetime_s, remaining_s;
    uint16_t key_bits, sig_key_bits;
    uint16_t alg, sig_hash; /* VPN_GDOI_KEK_ALG_*, VPN_GDOI_SIG_HASH_* (0: ours) */
    /* member: the SA KEK's DST ID (RFC 6407 5.3), the group address a
     * multicast rekey comes to, which the driver joins; family NONE when
     * the KS sent none */
    vpn_addr mcast;
} vpn_gdoi_kek_info;

typedef struct vpn_gdoi_ks_info {
    const char *name;
    uint32_t group_id;
    vpn_addr local, mcast;
    size_t members;
    uint32_t max_members;
    uint32_t retrans_s, retrans_n;
    uint32_t seq;
    uint64_t rekeys;
    vpn_gdoi_kek_info kek;
    vpn_gdoi_tek_info tek;
} vpn_gdoi_ks_info;

typedef struct vpn_gdoi_member_info {
    vpn_addr addr;
    uint32_t acked_seq;
    unsigned missed;
} vpn_gdoi_member_info;

typedef struct vpn_gdoi_gm_info {
    const char *name;
    uint32_t group_id;
    vpn_addr local, ks;    /* ks: the server registered with (or being tried) */
    vpn_addr servers[VPN_GDOI_GM_MAX_SERVERS];
    size_t n_servers;
    vpn_addr last_rekey_from; /* family NONE before the first rekey */
    vpn_gdoi_gm_state state;
    uint64_t registrations, attempts, rekeys, acks_sent;
    uint64_t internal_errors; /* vpn_gdoi_gm_stats.internal_errors */
    uint32_t last_seq;
    uint64_t rereg_in_s;   /* UINT64_MAX: not scheduled */
    bool have_policy;
    vpn_gdoi_kek_info kek;
    vpn_gdoi_tek_info tek; /* the current outbound TEK */
    const char *refused;   /* the last policy refused and why ("" if none; cleared by
                              the next accepted one); valid while the member lives */
} vpn_gdoi_gm_info;

typedef struct vpn_gdoi_coop_peer_info {
    vpn_addr addr;
    uint8_t priority;
    vpn_gdoi_coop_role role;
    bool alive, ike_up;
    uint32_t ann_seq; /* last accepted from it */
    uint64_t ann_sent, ann_rcvd, drops_sent, drops_rcvd, bytes_sent, bytes_rcvd;
} vpn_gdoi_coop_peer_info;

typedef struct vpn_gdoi_coop_info {
    bool enabled;
    vpn_addr local;
    uint8_t priority;
    vpn_gdoi_coop_role role;
    uint32_t announce_s, dead_s;
    uint32_t remaining_s;  /* primary: to the next announcement; secondary: to declaring
                              the primary dead */
    uint32_t ann_seq;      /* our announcement counter */
    size_t n_peers;
    vpn_gdoi_coop_stats st;
} vpn_gdoi_coop_info;

void vpn_gdoi_ks_get_info(const vpn_gdoi_ks *ks, uint64_t now, vpn_gdoi_ks_info *out);
void vpn_gdoi_ks_coop_info(const vpn_gdoi_ks *ks, uint64_t now, vpn_gdoi_coop_info *out);
/* Peer i (i < n_peers); 0 or VPN_ERR_NOTFOUND. */
int vpn_gdoi_ks_coop_peer(const vpn_gdoi_ks *ks, size_t i, vpn_gdoi_coop_peer_info *out);
/*
 * The i-th registered member (i < members); 0, or VPN_ERR_NOTFOUND. It
 * walks the member table (O(members)): to list them all, use
 * vpn_gdoi_ks_next_member.
 */
int vpn_gdoi_ks_get_member(const vpn_gdoi_ks *ks, size_t i, vpn_gdoi_member_info *out);
/*
 * Iterates the registered members in table order, O(1) per member: start
 * with *cursor = 0; each call fills *out and moves *cursor past it.
 * Returns 0, or VPN_ERR_NOTFOUND after the last (or for NULL arguments).
 * The cursor is valid until the member table changes (input, timeout).
 */
int vpn_gdoi_ks_next_member(const vpn_gdoi_ks *ks, size_t *cursor, vpn_gdoi_member_info *out);
void vpn_gdoi_gm_get_info(const vpn_gdoi_gm *gm, uint64_t now, vpn_gdoi_gm_info *out);

#ifdef __cplusplus
}
#endif

#endif
