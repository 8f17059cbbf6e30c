/* Pieces the GDOI key server and group member share (not public API). */
#ifndef VPN_GDOI_PRIV_H
#define VPN_GDOI_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gdoi/gdoi.h"
#include "isakmp/gdoi-codec.h"

#define GDOI_MSG_MAX 4096
#define GDOI_KEK_KEY_LEN 32 /* AES-256 */
#define GDOI_KEK_IV_LEN 16
#define GDOI_NONCE_LEN 32

/*
 * Finishes a GROUPKEY-PULL message whose first payload is a HASH
 * placeholder (slot): pads, fills HASH(n) = prf(SKEYID_a, input) (RFC
 * 6407 3.2), encrypts in place under the phase-1 key with iv (updated),
 * and writes the decrypted view into view (cap GDOI_MSG_MAX).
 */
int gdoi_pull_seal(vpn_ikev1_sa *p1, vpn_isakmp_bld *b, unsigned n, vpn_isakmp_view ni_b,
                   vpn_isakmp_view nr_b, uint8_t *slot, uint8_t iv[VPN_IKEV1_BLOCK],
                   size_t *len, uint8_t *view, size_t *view_len);
/*
 * Opens a GROUPKEY-PULL message: decrypts with a copy of iv into plain
 * (GDOI_MSG_MAX), parses it, checks HASH(n) first. iv is updated only on
 * success. Errors: parse errors, VPN_ERR_AUTH.
 */
int gdoi_pull_open(vpn_ikev1_sa *p1, const uint8_t *dg, size_t len, unsigned n,
                   vpn_isakmp_view ni_b, vpn_isakmp_view nr_b, uint8_t iv[VPN_IKEV1_BLOCK],
                   vpn_isakmp_msg *m, uint8_t *plain);
/* AES-256-CBC in place with the KEK (RFC 6407 4: the PUSH is KEK-encrypted).
 * The cipher context is allocated behind a (the engine's gate; NULL allows
 * all): VPN_ERR_NOMEM when it refuses, buf unchanged. */
int gdoi_kek_crypt(const vpn_alloc *a, const uint8_t key[GDOI_KEK_KEY_LEN],
                   const uint8_t iv[GDOI_KEK_IV_LEN], uint8_t *buf, size_t len, bool enc);
/*
 * The KEK cipher of RFC 6407 5.3.3/5.3.4 (AES-128/192/256-CBC, 3DES-CBC):
 * its ESP cipher ID, key length and block (= IV) length in octets.
 * Errors: VPN_ERR_UNSUPPORTED.
 */
int gdoi_kek_cipher(uint16_t alg, uint16_t key_bits, uint16_t *encr_id, size_t *key_len,
                    size_t *blk);
/* CBC in place with a KEK of that algorithm (key and IV of its lengths),
 * the context behind a as above. */
int gdoi_kek_crypt_alg(const vpn_alloc *a, uint16_t alg, uint16_t key_bits, const uint8_t *key,
                       const uint8_t *iv, uint8_t *buf, size_t len, bool enc);
/*
 * Verifies the RSA signature of a decrypted GROUPKEY-PUSH m (SIG last,
 * RFC 6407 4) with hash (VPN_IKE_HASH_*), in either of two forms: ours
 * (vpn_gdoi_push_sig_input_msg: "rekey", the header as received, the
 * payloads before SIG; PKCS#1 v1.5 with the hash's DigestInfo), or the
 * Cisco GDOI reference implementation's, seen in its traces: the same
 * input but with the header's length as before encryption padding (28 +
 * the payloads up to the end of SIG), signed as IKEv1 signs (RFC 2409
 * 5.1: PKCS#1 v1.5 type 1 over the bare hash, no DigestInfo). The hash
 * is fixed by the SA KEK either way, so the missing DigestInfo cannot
 * substitute another. *gdoid_form says which verified.
 * Errors: VPN_ERR_AUTH, VPN_ERR_MALFORMED (no SIG last), the writer's.
 */
int gdoi_push_sig_verify(const vpn_sig_key *pub, uint8_t hash, const vpn_isakmp_msg *m,
                         bool *gdoid_form);
/*
 * Signs a GROUPKEY-PUSH in gdoid's form (above) from a builder after
 * vpn_isakmp_bld_pad with SIG last (its sig_len-octet value not yet
 * written): what a member running gdoid verifies, as its own key server
 * signs. Errors: VPN_ERR_INVAL (no SIG last, not RSA), VPN_ERR_CRYPTO.
 */
int gdoi_push_sign_gdoid(const vpn_sig_key *key, uint8_t hash, const vpn_isakmp_bld *b,
                         uint8_t *sig, size_t sig_len);
/* ESP key lengths for a TEK transform: cipher keying material and integrity key. */
int gdoi_tek_key_lens(uint16_t encr_id, uint16_t key_bits, uint16_t integ_id, size_t *alg_len,
                      size_t *integ_len);
/* IPsec DOI auth algorithm attribute <-> integrity transform. */
uint16_t gdoi_auth_alg_of(uint16_t integ_id);
uint16_t gdoi_integ_of(uint16_t auth_alg);

#define NS_PER_S 1000000000ull

/* ---- key server internals shared by gdoi-ks.c and gdoi-coop.c ----------- */

typedef struct ks_kek {
    uint8_t spi[VPN_GDOI_KEK_SPI_LEN];
    uint8_t key[GDOI_KEK_KEY_LEN];
    uint8_t iv[GDOI_KEK_IV_LEN];
    uint64_t created, expires;
} ks_kek;

typedef struct ks_tek {
    uint32_t spi;
    uint8_t alg_key[64], integ_key[64];
    size_t alg_len, integ_len;
    uint64_t created, expires;
} ks_tek;

/*
 * A member the KS knows: registered here (p1 is its phase-1 SA), or
 * learnt from a cooperating KS's announcement (p1 NULL: it registered
 * elsewhere, but rekeys and ACKs work the same).
 */
typedef struct ks_member {
    vpn_ikev1_sa *p1;
    vpn_addr addr;
    bool registered;
    uint32_t msg_id;
    int pull; /* 0 nothing yet, 2 message 2 sent, 4 message 4 sent */
    uint8_t iv[VPN_IKEV1_BLOCK];
    uint8_t ni[VPN_ISAKMP_NONCE_MAX], nr[GDOI_NONCE_LEN];
    size_t ni_len;
    /* the last PULL message in and our answer (and its decrypted view),
     * to answer a retransmission: one heap block of exactly their sizes,
     * in | out | view (NULL before the first answer), so an entry costs
     * what its exchange needed rather than three maximum-sized buffers */
    uint8_t *last;
    size_t last_in_len, last_out_len, last_view_len;
    uint64_t registered_at;
    uint32_t acked_seq; /* last rekey this member acknowledged */
    unsigned missed;    /* consecutive unicast rekeys not acknowledged */
    bool coop_listed;   /* scratch of a COOP announcement merge: in its member list */
    bool coop_new;      /* registered at this secondary KS; the primary has not
                           listed it yet, so our announcements carry it */
    /* the KS's indexes (gdoi-ks.c): position in ks->m, hash chains by
     * initiator cookie (entries with p1) and by address (registered ones) */
    size_t idx;
    struct ks_member *ck_next, *ad_next;
    bool in_ck, in_ad;
    /* the KS's deadline heap (gdoi-ks.c): entries with a phase 1, keyed
     * by its deadline (due); hpos is the position, SIZE_MAX when out */
    uint64_t due;
    size_t hpos;
} ks_member;

struct vpn_gdoi_ks {
    vpn_gdoi_ks_cfg cfg;
    char name[64];
    uint8_t psk[VPN_IKEV1_PSK_MAX];
    vpn_ikev1_suite suites[VPN_IKEV1_SUITES_MAX]; /* cfg.ike.suites, copied */
    vpn_addr *auth;
    const vpn_rng *rng;
    vpn_log log;
    vpn_gdoi_send_fn send;
    void *user;
    ks_member **m;
    size_t n;
    /* hash indexes over m (keyed with a random seed, so a peer cannot aim
     * its cookies or addresses at one chain): tab_size buckets each */
    ks_member **ck_tab, **ad_tab;
    size_t tab_size;
    uint32_t hash_seed;
    size_t n_reg;           /* registered members (in ad_tab) */
    /* binary min-heap over the members' phase-1 deadlines, so that the
     * deadline is read at the root and a tick visits only the members
     * that are due, not every member */
    ks_member **heap;
    size_t heap_n, heap_cap;
    vpn_gdoi_auth_rule *rules;
    ks_tek tek;
    ks_kek kek;
    uint32_t seq;
    uint64_t pt_origin, rekey_at;
    uint8_t pub_der[2048];
    size_t pub_len, sig_len;
    /* the last rekey, for retransmission */
    uint8_t rk_dg[GDOI_MSG_MAX], rk_view[GDOI_MSG_MAX];
    size_t rk_len, rk_view_len;
    /* COOP split-brain merge: the same rekey encrypted under the losing
     * KS's KEK, for the members that only have that one (gdoi-coop.c) */
    uint8_t rk2_dg[GDOI_MSG_MAX], rk2_view[GDOI_MSG_MAX];
    size_t rk2_len, rk2_view_len;
    unsigned rk_left;
    uint64_t rk_at, rk_eval_at;
    vpn_gdoi_ks_stats st;
    struct gdoi_coop *coop; /* NULL without cooperative key servers */
};

/* Every local failure of the KS ends here: logged, counted
 * (internal_errors) and reported to cfg.error_event. */
void gdoi_ks_internal_error(vpn_gdoi_ks *ks, int rc, const char *where);


/* New TEK keys for the current policy (gdoi-ks.c); sets rekey_at. */
int gdoi_ks_new_tek(vpn_gdoi_ks *ks, uint64_t now);
/* Member table (gdoi-ks.c). */
ks_member *gdoi_ks_member_by_addr(vpn_gdoi_ks *ks, const vpn_addr *a);
int gdoi_ks_member_add_synced(vpn_gdoi_ks *ks, const vpn_addr *a);
void gdoi_ks_member_remove(vpn_gdoi_ks *ks, size_t i);

/* ---- cooperative key servers (gdoi-coop.c) -------------------------------
 * The KS calls these; all are no-ops or "yes" when ks->coop is NULL. */

/* Sets up COOP from cfg.coop (called at the end of vpn_gdoi_ks_new).
 * Errors: VPN_ERR_INVAL, VPN_ERR_NOMEM, VPN_ERR_CRYPTO. */
int gdoi_coop_new(vpn_gdoi_ks *ks, uint64_t now);
void gdoi_coop_del(vpn_gdoi_ks *ks);
/* Is src a configured peer KS? */
bool gdoi_coop_is_peer(const vpn_gdoi_ks *ks, const vpn_addr *src);
/* A datagram from a peer KS (phase 1, informational or announcement). */
int gdoi_coop_input(vpn_gdoi_ks *ks, const vpn_addr *src, const uint8_t *dg, size_t len,
                    uint64_t now);
/* An announcement from an address that is no configured peer: counted, refused. */
int gdoi_coop_unknown(vpn_gdoi_ks *ks, const vpn_addr *src);
uint64_t gdoi_coop_deadline(const vpn_gdoi_ks *ks);
void gdoi_coop_tick(vpn_gdoi_ks *ks, uint64_t now);
/* May this KS rekey (primary, or no COOP)? */
bool gdoi_coop_may_rekey(const vpn_gdoi_ks *ks);
/* May it serve registrations (it holds the group's keys)? */
bool gdoi_coop_may_register(const vpn_gdoi_ks *ks);
/* After a rekey: tell the peers at once. */
void gdoi_coop_after_rekey(vpn_gdoi_ks *ks, uint64_t now);
/* After a registration here: tell the peers soon. */
void gdoi_coop_member_added(vpn_gdoi_ks *ks, ks_member *m, uint64_t now);
/* The KEK a split-brain loser's members hold, if a merge rekey is due (else NULL). */
const ks_kek *gdoi_coop_merge_kek(const vpn_gdoi_ks *ks);
void gdoi_coop_merge_done(vpn_gdoi_ks *ks);

#endif
