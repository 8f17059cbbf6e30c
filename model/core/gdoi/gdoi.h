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
 * otherwise the GM's state is unchanged.
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
 * Not implemented here: cooperative key servers (COOP: announcements,
 * election, policy sync; see the issue 7 notes), RSA-signature phase 1,
 * SID download for AEAD
 * counter IVs (GCM TEKs use random IVs instead).
 */
#ifndef VPN_GDOI_H
#define VPN_GDOI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/rng.h"
#include "common/vpn-log.h"
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

/* What the KS tells members to protect, and how (RFC 6407 5.4.1). */
typedef struct vpn_gdoi_tek_policy {
    vpn_spd_sel sel;        /* IPv4; protocol, prefixes, one port each (lo) */
    uint16_t encr_id;       /* VPN_ENCR_AES_CBC or VPN_ENCR_AES_GCM_16 */
    uint16_t key_bits;      /* 128/192/256; 0 = 256 */
    uint16_t integ_id;      /* CBC: VPN_AUTH_HMAC_SHA2_*; 0 = SHA2-256-128 */
    uint32_t lifetime_s;    /* 0 = VPN_GDOI_DEFAULT_TEK_LIFETIME */
    uint32_t tbar_window_s; /* 0 = no time-based anti-replay */
} vpn_gdoi_tek_policy;

/* ---- key server ------------------------------------------------------------ */

typedef struct vpn_gdoi_ks_cfg {
    const char *name;        /* group name (show views); copied */
    uint32_t group_id;       /* `identity number` */
    vpn_addr local;          /* the KS address (`server local address`) */
    vpn_ikev1_cfg ike;       /* phase 1 (PSK, local_id); copied */
    const vpn_addr *authorized; /* members allowed to register; NULL = any */
    size_t n_authorized;
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
} vpn_gdoi_ks_cfg;

typedef struct vpn_gdoi_ks_stats {
    uint64_t registrations, refused, rekeys, rekey_msgs_sent, retransmits, bad_msgs, acks,
        removed;
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
/*
 * One UDP 848 datagram from src. Errors: the parse errors, VPN_ERR_AUTH,
 * VPN_ERR_POLICY (unauthorized member, wrong group), VPN_ERR_NOTFOUND
 * (unknown cookies), VPN_ERR_STATE. Nothing changes on error.
 */
int vpn_gdoi_ks_input(vpn_gdoi_ks *ks, const vpn_addr *src, const uint8_t *dg, size_t len,
                      uint64_t now);
uint64_t vpn_gdoi_ks_deadline(const vpn_gdoi_ks *ks);
void vpn_gdoi_ks_tick(vpn_gdoi_ks *ks, uint64_t now);
/* Rekeys now (a policy change, or a test). Errors: VPN_ERR_CRYPTO, the rng's. */
int vpn_gdoi_ks_rekey(vpn_gdoi_ks *ks, bool new_kek, uint64_t now);
/*
 * Switches the rekey transport (`rekey transport unicast` / `rekey address
 * ipv4`); takes effect with the next rekey. Errors: VPN_ERR_INVAL.
 */
int vpn_gdoi_ks_set_multicast(vpn_gdoi_ks *ks, bool multicast, const vpn_addr *group);
size_t vpn_gdoi_ks_members(const vpn_gdoi_ks *ks);
const vpn_gdoi_ks_stats *vpn_gdoi_ks_get_stats(const vpn_gdoi_ks *ks);
uint32_t vpn_gdoi_ks_tek_spi(const vpn_gdoi_ks *ks);
const uint8_t *vpn_gdoi_ks_kek_spi(const vpn_gdoi_ks *ks);
uint32_t vpn_gdoi_ks_seq(const vpn_gdoi_ks *ks);
/* The current KEK (AES-256 key and IV), for trace exports. */
void vpn_gdoi_ks_kek(const vpn_gdoi_ks *ks, const uint8_t **key, const uint8_t **iv);

/* ---- group member ---------------------------------------------------------- */

typedef struct vpn_gdoi_gm_cfg {
    const char *name;
    uint32_t group_id;
    vpn_addr local, ks;
    vpn_ikev1_cfg ike;     /* copied */
    vpn_sad *sad;          /* borrowed: TEKs go here */
    vpn_spd *spd;          /* borrowed: the policy goes here */
    uint32_t spd_seq;      /* SPD sequence number of our entries (bypass at spd_seq) */
    uint32_t rereg_lead_s; /* re-register this long before keys lapse; 0 = 60 */
    /* receive-only TEKs install inbound only, with a bypass entry for the
     * policy's traffic, so the member sends it in clear */
} vpn_gdoi_gm_cfg;

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
} vpn_gdoi_gm_stats;

typedef struct vpn_gdoi_gm vpn_gdoi_gm;

/* Errors: VPN_ERR_INVAL, VPN_ERR_UNSUPPORTED, VPN_ERR_NOMEM. */
int vpn_gdoi_gm_new(vpn_gdoi_gm **out, const vpn_gdoi_gm_cfg *cfg, const vpn_rng *rng,
                    const vpn_log *log, vpn_gdoi_send_fn send, void *user);
/* Removes its SAs and SPD entries, wipes keys, frees. NULL is fine. */
void vpn_gdoi_gm_del(vpn_gdoi_gm *gm);
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
uint64_t vpn_gdoi_gm_deadline(const vpn_gdoi_gm *gm);
void vpn_gdoi_gm_tick(vpn_gdoi_gm *gm, uint64_t now);

vpn_gdoi_gm_state vpn_gdoi_gm_get_state(const vpn_gdoi_gm *gm);
const vpn_gdoi_gm_stats *vpn_gdoi_gm_get_stats(const vpn_gdoi_gm *gm);
/* The current outbound TEK SA (NULL before registration). */
vpn_sa *vpn_gdoi_gm_tek(const vpn_gdoi_gm *gm);
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
    vpn_spd_sel acl;
} vpn_gdoi_tek_info;

typedef struct vpn_gdoi_kek_info {
    uint8_t spi[VPN_GDOI_KEK_SPI_LEN];
    bool multicast;
    uint32_t lifetime_s, remaining_s;
    uint16_t key_bits, sig_key_bits;
} vpn_gdoi_kek_info;

typedef struct vpn_gdoi_ks_info {
    const char *name;
    uint32_t group_id;
    vpn_addr local, mcast;
    size_t members;
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
    vpn_addr local, ks;
    vpn_gdoi_gm_state state;
    uint64_t registrations, attempts, rekeys, acks_sent;
    uint32_t last_seq;
    uint64_t rereg_in_s;   /* UINT64_MAX: not scheduled */
    bool have_policy;
    vpn_gdoi_kek_info kek;
    vpn_gdoi_tek_info tek; /* the current outbound TEK */
} vpn_gdoi_gm_info;

void vpn_gdoi_ks_get_info(const vpn_gdoi_ks *ks, uint64_t now, vpn_gdoi_ks_info *out);
/* The i-th registered member (i < members); 0, or VPN_ERR_NOTFOUND. */
int vpn_gdoi_ks_get_member(const vpn_gdoi_ks *ks, size_t i, vpn_gdoi_member_info *out);
void vpn_gdoi_gm_get_info(const vpn_gdoi_gm *gm, uint64_t now, vpn_gdoi_gm_info *out);

#ifdef __cplusplus
}
#endif

#endif
