/*
 * Inside the IKEv2 engine: the IKE SA and CHILD_SA records, the state of
 * an exchange in flight, and the functions the exchange modules
 * (ikev2-init.c, ikev2-auth.c, ikev2-child.c, ikev2-info.c) share with the
 * core (ikev2-engine.c). Not a public header.
 *
 * Shape (after strongSwan's task split, without its globals): each
 * exchange has a builder for its request, a handler run by the responder
 * that builds the response, and a handler for the response at the
 * initiator. The core owns message IDs, retransmission, the response
 * cache, timers and events.
 */
#ifndef VPN_IKEV2_ENG_H
#define VPN_IKEV2_ENG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/dheap.h"
#include "common/htab.h"
#include "common/vpn-log.h"
#include "conf/conf.h"
#include "crypto/dh.h"
#include "crypto/kdf.h"
#include "crypto/sig.h"
#include "crypto/x509.h"
#include "ikev2/ikev2-cidx.h"
#include "ikev2/ikev2-ridx.h"
#include "ikev2/ikev2-codec.h"
#include "ikev2/ikev2-cp.h"
#include "ikev2/ikev2-crypto.h"
#include "ikev2/ikev2-eap.h"
#include "ikev2/ikev2-proposal.h"
#include "ikev2/ikev2-engine.h"

#define IKEV2_NONCE_LEN 32         /* ours: at least half the PRF key (2.10) */
#define IKEV2_NONCE_MAX 256        /* RFC 7296 3.9 */
#define IKEV2_MSG_MAX 65535        /* one UDP datagram */
#define IKEV2_FRAG_MAX 16          /* RFC 7383 fragments of one message */
#define IKEV2_COOKIE_MAX 64        /* RFC 7296 2.6: 1 to 64 octets */
#define IKEV2_ID_MAX 512
#define IKEV2_PENDING_MAX 16
#define IKEV2_WINDOW_MAX 8          /* RFC 7296 2.3: the most requests we keep in flight or answer at once */
#define NS_PER_S 1000000000ull
#define IKEV2_PROPS_MAX 8
#define IKEV2_HALF_OPEN_LIFE_NS (30 * NS_PER_S) /* a responder waits this long for IKE_AUTH */

/* What an exchange we initiated is doing. */
typedef enum ikev2_task {
    IKEV2_T_NONE = 0,
    IKEV2_T_INIT,          /* IKE_SA_INIT */
    IKEV2_T_AUTH,          /* IKE_AUTH with the first CHILD_SA */
    IKEV2_T_CHILD_REKEY,   /* CREATE_CHILD_SA rekeying a CHILD_SA */
    IKEV2_T_CHILD_CREATE,  /* CREATE_CHILD_SA for another CHILD_SA (child_id: policy index) */
    IKEV2_T_IKE_REKEY,     /* CREATE_CHILD_SA rekeying the IKE SA */
    IKEV2_T_CHILD_DELETE,  /* INFORMATIONAL { D(ESP) } */
    IKEV2_T_IKE_DELETE,    /* INFORMATIONAL { D(IKE) } */
    IKEV2_T_DPD,           /* INFORMATIONAL { } */
    IKEV2_T_AUTH_FAILED,   /* INFORMATIONAL { N(AUTHENTICATION_FAILED) } (2.21.2) */
} ikev2_task;

/* Internal progress of an IKE SA (the public state is derived from it). */
typedef enum ikev2_sa_phase {
    IKEV2_P_INIT_SENT = 1,   /* initiator: IKE_SA_INIT request out */
    IKEV2_P_HALF_OPEN,       /* responder: IKE_SA_INIT answered */
    IKEV2_P_AUTH_SENT,       /* initiator: IKE_AUTH request out */
    IKEV2_P_ESTABLISHED,
    IKEV2_P_DELETING,        /* our Delete of the IKE SA is out */
    IKEV2_P_DEAD,            /* to be freed at the end of the entry point */
} ikev2_sa_phase;

typedef struct ikev2_buf {
    uint8_t *p;
    size_t len;
} ikev2_buf;

typedef enum ikev2_child_state {
    IKEV2_C_ACTIVE = 1,
    IKEV2_C_REKEYING,   /* our rekey of it is in flight */
    IKEV2_C_REKEYED,    /* replaced; its Delete is pending or in flight */
    IKEV2_C_DELETING,   /* our Delete of it is in flight */
} ikev2_child_state;

typedef struct ikev2_child {
    uint32_t id;
    size_t policy;            /* index into ctx->policy */
    ikev2_child_state state;
    uint32_t spi_in, spi_out;
    uint16_t encr, encr_bits, integ, pfs_group;
    bool esn;
    vpn_conf_mode mode;
    bool initiator;           /* we initiated the exchange that made it */
    vpn_key encr_in, integ_in, encr_out, integ_out;
    vpn_ikev2_selector ts_local[VPN_IKEV2_TS_MAX], ts_remote[VPN_IKEV2_TS_MAX];
    size_t n_ts_local, n_ts_remote;
    uint32_t lifetime_s, lifetime_kb;
    uint64_t installed, rekey_at, expire_at;
    uint32_t rekeyed_by;      /* REKEYED: the id of its successor */
    bool announced;           /* CHILD_UP was emitted (CHILD_DOWN is owed) */
    char tset_display[96];
} ikev2_child;

/* What an initiator offered for a CHILD_SA (to check the answer against). */
typedef struct ikev2_child_req {
    size_t policy;                /* index into ctx->policy */
    uint32_t spi;                 /* our inbound SPI */
    vpn_ikev2_proposal props[IKEV2_PROPS_MAX];
    size_t n_props;
    vpn_ikev2_selector tsi[VPN_IKEV2_TS_MAX], tsr[VPN_IKEV2_TS_MAX];
    size_t n_tsi, n_tsr;
    bool transport;
} ikev2_child_req;

/*
 * The peer's rekey exchange that crossed a rekey of ours of the same SA
 * (RFC 7296 2.8.1 CHILD_SA, 2.8.2 IKE SA): the SA our answer to it made and
 * the lower of its two nonces. Ours is the ikev2_exch in flight (its nonce,
 * and the peer's in the answer); the collision is the link from ours to
 * this record (ikev2_exch.collide), made when we answer the peer and read
 * when our answer arrives: the exchange with the lower nonce made the
 * redundant SA. Allocated only for a collision, freed with our exchange,
 * so no SA or CHILD_SA record carries rekey bookkeeping.
 */
typedef struct ikev2_rekey_task {
    uint32_t made;                    /* the CHILD_SA or IKE SA our answer made (0: none yet) */
    uint8_t nonce_min[IKEV2_NONCE_MAX];
    size_t nonce_min_len;
} ikev2_rekey_task;

/* An exchange we have in flight (RFC 7296 2.3: up to the peer's window). */
typedef struct ikev2_exch {
    ikev2_task task;
    uint32_t mid;
    uint8_t type;                     /* exchange type */
    ikev2_buf msg[IKEV2_FRAG_MAX];    /* datagram payloads as sent (one, or fragments) */
    size_t n_msg;
    unsigned tries;
    uint64_t rto, next_tx;
    bool fixed_rto;                   /* DPD: retry every dpd_retry_s */
    bool answered;                    /* its response is being handled */
    bool abandoned;                   /* the SA is closing: retransmitted, its answer only
                                       * makes room in the peer's window (ikev2_sa_close) */
    /* CREATE_CHILD_SA state */
    uint32_t child_id;                /* the CHILD_SA being rekeyed/deleted */
    uint32_t new_spi;                 /* our inbound SPI for the new CHILD_SA (read for
                                       * every exchange by the SPI uniqueness check) */
    uint8_t nonce[IKEV2_NONCE_LEN];
    vpn_dh *dh;
    uint16_t dh_group;
    /* what we offered, by the kind of exchange (task): only one is ever
     * live, and an exchange sits in every SA (and in each parked slot) */
    union {
        ikev2_child_req creq;         /* IKE_AUTH, CHILD_SA rekey and create */
        struct {                      /* IKE SA rekey */
            uint8_t new_ike_spi[8];   /* our SPI for the new IKE SA */
            vpn_ikev2_proposal ike_props[IKEV2_PROPS_MAX];
            size_t n_ike_props;
        };
    };
    /* CHILD or IKE rekey: the peer's rekey of the same SA that crossed
     * this one (2.8.1, 2.8.2; NULL: none); the link stays when the old
     * child goes (the peer, winning, deleted it) */
    ikev2_rekey_task *collide;
} ikev2_exch;

/* Work the SA will start when the current exchange is done. */
typedef struct ikev2_pending {
    ikev2_task task;
    uint32_t child_id;
} ikev2_pending;

/* A response kept for retransmissions of the request it answered (2.1, 2.3). */
typedef struct ikev2_rcache {
    bool have;
    uint32_t mid;
    ikev2_buf resp[IKEV2_FRAG_MAX];
    size_t n_resp;
    ikev2_buf req;
} ikev2_rcache;

typedef struct ikev2_id {
    uint8_t type;                     /* RFC 7296 3.5 */
    uint8_t data[IKEV2_ID_MAX];
    size_t len;
} ikev2_id;

typedef struct ikev2_sa {
    /* What every ESP packet's vpn_ikev2_child_activity reads and writes,
     * together at the top (one or two cache lines of a 9.5 KB SA): the
     * handle chain walk (id, phase, id_next), the children, the traffic
     * times DPD reads (issue 14) */
    uint32_t id;
    ikev2_sa_phase phase;
    struct ikev2_sa *id_next;         /* chain by handle (ikev2-engine.c) */
    ikev2_child *child;
    size_t n_child;
    uint64_t last_recv, last_send_traffic;
    bool initiator;                   /* original initiator (I flag, 2.14 key roles) */
    uint8_t spi_i[8], spi_r[8];
    vpn_ikev2_endpoint local, remote;
    bool natt;                        /* moved to port 4500 */
    bool nat_local, nat_remote;       /* 2.23 results */
    bool peer_frag;                   /* the peer announced RFC 7383 support */
    const vpn_conf_profile *profile;  /* matched or configured IKEv2 profile */
    size_t policy;                    /* child policy (index into ctx->policy) */
    /* IKE_SA_INIT material */
    vpn_ikev2_suite suite;
    uint16_t dh_group;
    uint8_t ni[IKEV2_NONCE_MAX], nr[IKEV2_NONCE_MAX];
    size_t ni_len, nr_len;
    vpn_dh *dh;
    ikev2_buf init_req, init_resp;    /* RealMessage1/2 for AUTH (2.15) */
    uint8_t cookie[IKEV2_COOKIE_MAX];
    size_t cookie_len;
    unsigned cookie_tries, ke_tries;
    vpn_ikev2_crypto cr;
    bool keyed;
    /* IKE_AUTH */
    ikev2_id id_local, id_remote;
    char dn_local[VPN_CONF_ID_MAX], dn_remote[VPN_CONF_ID_MAX]; /* DN IDs as text */
    uint8_t auth_local, auth_remote;  /* methods used */
    vpn_conf_auth auth_local_kind, auth_remote_kind; /* PSK, RSA, ECDSA */
    uint32_t peer_hashes;             /* RFC 7427 4: bit n = hash n announced */
    /* message IDs (2.2) */
    uint32_t mid_send;                /* next request we send */
    uint32_t mid_recv;                /* next request we expect */
    ikev2_exch req;                   /* our request in flight (task NONE: none) */
    ikev2_pending pending[IKEV2_PENDING_MAX];
    size_t n_pending;
    /* the last response we sent, for retransmitted requests (2.1) */
    bool have_resp;
    uint32_t resp_mid;
    ikev2_buf resp[IKEV2_FRAG_MAX];
    size_t n_resp;
    ikev2_buf last_req;               /* the request it answered, as received */
    /* RFC 7296 2.3 windows. Our requests in flight beyond sa->req are parked
     * here (allocated on first use, IKEV2_WINDOW_MAX - 1 slots); responses to
     * the window's older requests stay in old_resp for their retransmissions. */
    unsigned window_remote;           /* the peer's SET_WINDOW_SIZE; 1 until it says */
    ikev2_exch *park;
    size_t n_park;
    uint32_t recv_seen;               /* bit k: request mid_recv + k already answered */
    uint64_t resp_recv_next;          /* highest response message ID received + 1 (0: none); 2.23 */
    struct ikev2_rcache *old_resp;
    size_t old_next;
    /* children (the array and its count: at the top) */
    size_t cap_child;
    /* timers (ns; 0 = not armed) */
    uint64_t created, established;
    uint64_t half_open_until;
    uint64_t rekey_at, expire_at;
    uint64_t dpd_at;
    uint64_t keepalive_at;
    uint64_t pending_retry_at;        /* queued work put back after a local failure runs again */
    /* IKE rekey (2.18): the new IKE SA that replaced this one (0: none).
     * State of the SA, not of an exchange (unlike a collision's
     * bookkeeping, ikev2_exch.collide): set when a rekey is done (adopt)
     * and read until the SA is gone, mostly with no exchange of ours
     * left: the rekey's responder waits for the peer's Delete of the old
     * SA (2.18), and nothing may start on a replaced SA meanwhile (queued
     * work, the peer's CHILD_SA requests 2.25.2, the duplicate check).
     * libcharon also keeps it as the IKE_SA's state (IKE_REKEYED). */
    uint32_t rekeyed_to;
    /* Both ends initiated at once (ikev2_duplicate_check): this SA is the
     * redundant one of the pair, deleted at expire_at for dup_of. */
    uint32_t dup_of;
    /* RFC 7296 2.3: the INFORMATIONAL (IKE_DELETE, AUTH_FAILED) a closing SA
     * sends once its abandoned requests leave room in the peer's window */
    ikev2_task close_task;
    /* RFC 7383 2.6 reassembly of the message being received in fragments */
    bool rf_active, rf_response;
    uint32_t rf_mid;
    uint16_t rf_total;
    uint32_t rf_have;                 /* bit n-1: fragment n arrived */
    uint8_t rf_first;                 /* first inner payload type (fragment 1) */
    ikev2_buf *rf_chunk;              /* IKEV2_FRAG_MAX of them while rf_active (NULL
                                       * otherwise: most SAs never see a fragment) */
    ikev2_buf rf_raw1;                /* fragment 1 as received (duplicate check) */
    /* The driver was told this SA is down (IKE_DOWN, FAILED, or
     * IKE_REKEYED naming it as the SA replaced), or is never to hear of
     * it (a new SA of a rekey collision, made by our answer, while
     * undecided or once redundant, 2.8.2): no more down events
     * (sa_down_emit). State of the SA, not of an exchange: every path
     * that ends an SA reads it (ikev2_sa_kill from a timeout, the peer's
     * Delete, a closing SA's last exchange) and most run when no exchange
     * of ours is left to carry it. */
    bool down_emitted;
    vpn_ikev2_reason down_reason;     /* DEAD: why */
    uint16_t down_notify;
    /* Remote access (RFC 7296 2.16 EAP, 3.15 CP; ikev2-auth.c) */
    uint8_t eap_phase;                /* 0 no EAP, 1 EAP running, 2 method done: AUTH next */
    bool ra_peer_authed;              /* initiator: the responder's first AUTH verified */
    vpn_eap_server *eap_srv;
    vpn_eap_peer *eap_peer;
    uint8_t msk[VPN_EAP_MSK_LEN];
    size_t msk_len;
    ikev2_buf ra_first;               /* responder: the first IKE_AUTH request (plaintext chain) */
    uint8_t ra_first_type;
    /* initiator: the CHILD_SA offer across the EAP rounds, allocated by
     * ikev2_auth_start for them only and freed once the final response is
     * read (4.5 KB that every SA carried inline before; issue 14) */
    ikev2_child_req *ra_creq;
    char eap_identity[VPN_EAP_NAME_MAX + 1];
    vpn_addr ra_addr;                 /* the address assigned (responder) or received (initiator) */
    size_t ra_pool;                   /* responder: index into ctx->pool holding ra_addr */
    vpn_addr ra_addr6;                /* responder: the IPv6 address assigned (RFC 7296 3.15.1) */
    size_t ra_pool6;                  /* ... the index into ctx->pool holding it */
    vpn_cp_authz *ra_authz;           /* responder: the AAA server's attributes (owned) */
    vpn_cp_grant ra_cfg;              /* the CFG_REPLY sent (responder) or received (initiator) */
    bool ra_has_cfg;
    bool ra_cfg_received;             /* ra_cfg came from the peer (we asked: the initiator's role, kept over rekeys) */
    bool eap_wait;                    /* responder: an EAP backend answers later */
    bool eap_wait_first;              /* ... to the first IKE_AUTH request */
    vpn_ikev2_hdr eap_wait_hdr;       /* the request waiting for it */
    ikev2_buf eap_wait_raw;
    /* the engine's lookup indexes (ikev2-engine.c): chain by SPIi (by handle: at the top) */
    struct ikev2_sa *spi_next;
    bool spi_hashed;                  /* spi_i is set and the SA is on its SPIi chain */
    uint64_t hashed_spi_i;            /* ... the SPIi that chain was chosen by */
    /* the deadline heap (ikev2-engine.c): where the SA sits in ctx->dl, its
     * place on the list of SAs whose key is to be recomputed, and its
     * creation order (vpn_ikev2_timeout visits due SAs in it, as the walk
     * over sa[] did) */
    size_t dl_pos;
    struct ikev2_sa *dl_next;
    bool dl_dirty;
    bool tm_queued;                   /* on the due list of the running vpn_ikev2_timeout */
    uint64_t seq;
} ikev2_sa;

/* An IOS trustpoint: trusted CAs, and this node's certificate and key. */
#define IKEV2_TP_CHAIN_MAX 4
typedef struct ikev2_tp {
    char name[VPN_CONF_NAME_MAX];
    vpn_x509_store *store;
    const vpn_x509 *cert;             /* borrowed */
    const vpn_sig_key *key;           /* borrowed */
    const vpn_x509 *chain[IKEV2_TP_CHAIN_MAX];
    size_t n_chain;
} ikev2_tp;

/* The CERT payloads of a message, loaded (end entity first). */
#define IKEV2_PEER_CERTS_MAX 8
typedef struct ikev2_peer_certs {
    vpn_x509 *c[IKEV2_PEER_CERTS_MAX];
    size_t n;
} ikev2_peer_certs;

/* A registered child policy (vpn_ikev2_policy with owned strings and
 * resolved profiles). */
typedef struct ikev2_policy {
    vpn_ikev2_policy p;
    char ipsec_profile[VPN_CONF_NAME_MAX];
    const vpn_conf_ipsec_profile *ipp;
    const vpn_conf_profile *ike_profile;
} ikev2_policy;

/* RFC 7296 2.4 / 1.4.1: an IKE SA the peer deleted is gone, but our
 * answer to its Delete may be lost, and the peer then retransmits the
 * Delete. A record of the request (as received) and of our response (as
 * sent) answers that retransmission for a while. */
#define IKEV2_TOMB_MAX 8
#define IKEV2_TOMB_LIFE_NS (180ull * 1000000000ull) /* past a peer's retransmissions */
typedef struct ikev2_tomb {
    uint64_t spi_i, spi_r, until;
    uint32_t sa_id;
    vpn_ikev2_endpoint local, remote;
    ikev2_buf req, resp;
} ikev2_tomb;

struct vpn_ikev2_ctx {
    vpn_ikev2_params params;
    char name[VPN_CONF_NAME_MAX];
    const vpn_conf *conf;
    ikev2_sa **sa;
    size_t n_sa, cap_sa;
    /* hash chains over sa[] (n_hash buckets, a power of two, 2 * cap_sa) so an
     * IKE message finds its SA without walking them all (hub scale, issue 14) */
    ikev2_sa **id_hash, **spi_hash;
    size_t n_hash;
    ikev2_policy *policy;
    size_t n_policy, cap_policy;
    uint32_t next_id;                 /* IKE SA and CHILD_SA handles share it */
    /* cookies (2.6): the current secret and the one before it */
    uint8_t cookie_secret[2][VPN_IKEV2_COOKIE_SECRET_LEN];
    uint8_t cookie_version;
    uint64_t cookie_rotate_at;
    vpn_ikev2_stats stats;
    ikev2_tp *tp;
    size_t n_tp, cap_tp;
    uint8_t *scratch;                 /* IKEV2_MSG_MAX octets: messages being built */
    uint8_t *scratch2;                /* datagrams with the non-ESP marker (IKEV2_MSG_MAX
                                       * octets, allocated by the first one) */
    uint8_t *plain;                   /* decrypted (and reassembled) payloads */
    size_t plain_len;                 /* after unprotect: the inner chain's length */
    uint8_t plain_first;              /* and its first payload type */
    /* `ip local pool`s of the conf, built on first use (remote access) */
    vpn_ippool *pool;
    size_t n_pool;
    bool pools_built;
    /* Every SA's earliest deadline in a min-heap (issue 14: a driver asks
     * for the next deadline after every packet, and a hub holds thousands
     * of SAs). A key is exact or early, never late: each SA the engine may
     * change (found by a lookup, created, marked dead, or its queue run)
     * goes on dl_dirty (ikev2_sa_deadline_changed) and its key is
     * recomputed before the next deadline is read (dl_flush);
     * vpn_ikev2_child_activity only lowers a key. Room for every SA is
     * reserved with sa[] (sa_grow), so pushing never fails. */
    vpn_dheap dl;
    struct ikev2_sa *dl_dirty;
    uint64_t sa_seq;                  /* the next ikev2_sa.seq */
    /* vpn_ikev2_timeout's list of due SAs (room for cap_sa, grown in
     * sa_grow), ordered by seq, and where it is in it */
    void **tm;                        /* ikev2_sa pointers, as vpn_dheap_due hands them */
    size_t n_tm, tm_i;
    bool tm_run;
    uint64_t tm_now, tm_cur, tm_limit;
    /* the `now` of the entry point running (for paths that are not handed
     * it, such as ikev2_internal_error from inside a response builder) */
    uint64_t now;
    /* CHILD_SA id -> handle of the IKE SA holding it (ikev2-cidx.h), kept
     * where children are added, moved (IKE rekey) and removed. The data
     * path reports traffic per CHILD_SA id; without it each packet walked
     * every IKE SA. Every hit is checked (sa_of_child), so an entry can
     * never mislead; cidx.complete false (growing it failed): a miss walks. */
    ikev2_cidx cidx;
    /* peer identity -> IKE SAs (ikev2-ridx.h): INITIAL_CONTACT and the
     * both-ends-initiated check look up a peer's SAs instead of walking
     * every SA per IKE_AUTH (issue 14: quadratic bring-up on a hub) */
    ikev2_ridx ridx;
    /* our inbound CHILD_SA SPIs (RFC 4303 2.1: each names one SA here;
     * key the SPI, value 1): every SPI ikev2_new_child_spi hands out goes
     * in, a child's leaves when the child is removed or its SA freed, so
     * the table holds every SPI in use and the uniqueness check is one
     * probe, not a walk over every SA's children (issue 14: quadratic
     * bring-up on a hub). SPIs dropped on paths that do not say so (an
     * abandoned request's) only take room until the table, full, is
     * refilled from the SPIs in use (spis_rebuild). spis_partial: that
     * refill was refused (allocator), so a handed-out SPI may be missing:
     * the walk decides until a refill succeeds. */
    vpn_htab spis;
    bool spis_partial;
    /* an SA was marked IKEV2_P_DEAD since the last sweep (ikev2_sa_mark_dead):
     * without one, sweep skips its walk over sa[] */
    bool sweep_due;
    /* an SA may hold queued work (ikev2_queue, an IKE rekey's adopt): without
     * one, input skips its pass over every SA's queue */
    bool pending_due;
    /* handles of responder SAs that were HALF_OPEN when last looked at: the
     * half-open count (IKE_SA_INIT admission) checks these instead of every SA.
     * An SA leaves HALF_OPEN for good, so the list is pruned as it is counted.
     * ho_complete is false once appending failed (the count then walks). */
    uint32_t *ho_in;
    size_t n_ho_in, cap_ho_in;
    bool ho_complete;
    ikev2_tomb tomb[IKEV2_TOMB_MAX];  /* IKE SAs deleted by the peer (2.4) */
    size_t tomb_next;
};

/* sa's timers may have changed: its heap key is recomputed before the
 * next deadline is read. Cheap (a flag and a list link); the lookups call it. */
static inline void ikev2_sa_deadline_changed(vpn_ikev2_ctx *ctx, ikev2_sa *sa)
{
    if (sa && !sa->dl_dirty) {
        sa->dl_dirty = true;
        sa->dl_next = ctx->dl_dirty;
        ctx->dl_dirty = sa;
    }
}

/* Going or gone for the driver (closed by a Delete, or dead): no more
 * work is done on it (checked after a step that may have failed). */
#define ikev2_sa_gone(sa) ((sa)->phase == IKEV2_P_DEAD || (sa)->phase == IKEV2_P_DELETING)

/* Every entry point that takes `now` starts here. */
static inline void ikev2_enter(vpn_ikev2_ctx *ctx, uint64_t now)
{
    if (ctx)
        ctx->now = now;
}

/* ---- core services (ikev2-engine.c) --------------------------------------- */

#define IKEV2_LOG(ctx, lvl, ...) vpn_log_emit(&(ctx)->params.log, (lvl), (ctx)->name, __VA_ARGS__)

uint32_t ikev2_new_id(vpn_ikev2_ctx *ctx);
ikev2_sa *ikev2_sa_new(vpn_ikev2_ctx *ctx, uint64_t now, bool initiator,
                       const vpn_ikev2_endpoint *local, const vpn_ikev2_endpoint *remote);
ikev2_sa *ikev2_sa_by_id(const vpn_ikev2_ctx *ctx, uint32_t id);
/* Call once sa->spi_i is set (or changed): puts the SA on the SPIi index the input path
 * looks SAs up by. Cannot fail. */
void ikev2_sa_index_spi(vpn_ikev2_ctx *ctx, ikev2_sa *sa);
ikev2_child *ikev2_child_by_id(ikev2_sa *sa, uint32_t id);
ikev2_child *ikev2_child_by_spi_out(ikev2_sa *sa, uint32_t spi);
ikev2_child *ikev2_child_add(vpn_ikev2_ctx *ctx, ikev2_sa *sa);
void ikev2_child_remove(vpn_ikev2_ctx *ctx, ikev2_sa *sa, ikev2_child *c);
/* After an IKE rekey moved every child of an SA to sa (the CHILD_SA index). */
void ikev2_children_moved(vpn_ikev2_ctx *ctx, const ikev2_sa *sa);
/* The responder SAs in IKEV2_P_HALF_OPEN; ikev2_half_open_add records one. */
unsigned ikev2_half_open_in(vpn_ikev2_ctx *ctx);
void ikev2_half_open_add(vpn_ikev2_ctx *ctx, const ikev2_sa *sa);
/* Marks sa IKEV2_P_DEAD (freed by the next sweep). */
void ikev2_sa_mark_dead(vpn_ikev2_ctx *ctx, ikev2_sa *sa);

/* Marks the SA dead: emits CHILD_DOWN for each child and IKE_DOWN (if it
 * was up) or FAILED (if not); freed by the core later. */
void ikev2_sa_kill(vpn_ikev2_ctx *ctx, ikev2_sa *sa, vpn_ikev2_reason reason, uint16_t notify,
                   const char *detail);

/*
 * Takes the SA down now for the driver (events as ikev2_sa_kill), but
 * keeps it to carry one last INFORMATIONAL (task IKE_DELETE, or
 * AUTH_FAILED, 2.21.2) with retransmissions; freed on its answer or
 * timeout.
 */
void ikev2_sa_close(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, vpn_ikev2_reason reason,
                    uint16_t notify, const char *detail, ikev2_task task);
/*
 * Every local failure (memory, RNG, crypto library) ends here: logged,
 * counted (stats.internal_errors, `show crypto ikev2 stats`) and reported
 * as events: the SA it hit goes down with reason INTERNAL and the detail
 * naming where (FAILED before it was up; CHILD_DOWN then IKE_DOWN after,
 * with a best-effort Delete to the peer), so no SA is left half made. With
 * sa NULL (no SA yet) a FAILED event with ike_sa_id 0.
 */
void ikev2_internal_error(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, int rc, const char *where);
/* The same for a failure that leaves the SA as it was (an exchange that
 * could not start, nothing sent): counted, logged, FAILED event with the
 * SA's id and reason INTERNAL; the SA stays up. */
void ikev2_internal_error_keep(vpn_ikev2_ctx *ctx, ikev2_sa *sa, int rc, const char *where);
/* After the first CHILD_SA of a new IKE SA: when both ends initiated at
 * once, marks the redundant one of the two IKE SAs for deletion
 * (ikev2-auth.c). */
void ikev2_duplicate_check(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now);
/* IKE SA authenticated: lifetimes, keepalives, IKE_UP. */
void ikev2_sa_established(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now);

/* Where an error notify came from, for ikev2_reason_for. */
typedef enum ikev2_notify_from {
    IKEV2_NF_INIT = 0,   /* the peer's answer to our IKE_SA_INIT */
    IKEV2_NF_CHILD,      /* the peer's answer to a CHILD_SA request of ours (IKE_AUTH, CREATE_CHILD_SA) */
    IKEV2_NF_REFUSED,    /* our refusal of the peer's CHILD_SA request */
} ikev2_notify_from;
/* The reason an event reports for an exchange an error notify ended. */
vpn_ikev2_reason ikev2_reason_for(uint16_t notify, ikev2_notify_from from);

/* Events. */
void ikev2_emit(vpn_ikev2_ctx *ctx, ikev2_sa *sa, vpn_ikev2_event_type type,
                vpn_ikev2_reason reason, uint16_t notify, const ikev2_child *child,
                uint32_t old_id, const char *detail);

/* Hands a datagram (an IKE message, marker added on port 4500) to the driver. */
void ikev2_send_raw(vpn_ikev2_ctx *ctx, const vpn_ikev2_endpoint *local,
                    const vpn_ikev2_endpoint *remote, uint32_t sa_id, const uint8_t *msg,
                    size_t len);

/* Sends the request in sa->req for the first time and arms retransmission. */
void ikev2_req_start(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now);
/* Clears sa->req (frees its buffers and DH) after its response arrived. */
void ikev2_req_clear(ikev2_sa *sa);
/* The exchange in flight (sa->req or parked) doing `task` for child_id, or NULL. */
ikev2_exch *ikev2_req_find(ikev2_sa *sa, ikev2_task task, uint32_t child_id);
/* True while a CHILD_SA exchange of ours is in flight. */
bool ikev2_req_child_busy(const ikev2_sa *sa);
/* Requests of ours in flight. */
size_t ikev2_req_outstanding(const ikev2_sa *sa);
/* RFC 7296 2.3: the window we announce (`crypto ikev2 window`, at most IKEV2_WINDOW_MAX). */
unsigned ikev2_window_local(const vpn_ikev2_ctx *ctx);
/* Adds N(SET_WINDOW_SIZE) to an IKE_AUTH message when our window is above 1 (2.3, 3.10.1). */
void ikev2_window_announce(const vpn_ikev2_ctx *ctx, vpn_ikev2_bld *b);
/* Remote access: gives the SA's assigned address back to its pool (ikev2-auth.c). */
void ikev2_ra_release(vpn_ikev2_ctx *ctx, ikev2_sa *sa);
/* Remote access: an IKE SA rekey (2.8) hands the address and EAP identity on. */
void ikev2_ra_move(vpn_ikev2_ctx *ctx, ikev2_sa *old, ikev2_sa *n);
/* Stores a response for retransmitted requests and sends it. */
void ikev2_resp_send(vpn_ikev2_ctx *ctx, ikev2_sa *sa, const uint8_t *req, size_t req_len,
                     uint32_t mid, const uint8_t *msg, size_t len);

/* Queues work after the exchange in flight; runs it now if idle. */
int ikev2_queue(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, ikev2_task task,
                uint32_t child_id);
/* Starts the next queued task if nothing is in flight. */
void ikev2_run_pending(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now);

int ikev2_buf_set(vpn_ikev2_ctx *ctx, ikev2_buf *b, const uint8_t *p, size_t len);
void ikev2_buf_free(ikev2_buf *b);

/* Our next CHILD_SA SPI (random, at least 256, unused in this ctx), kept
 * in ctx->spis. The RNG's error, or VPN_ERR_CRYPTO after 64 draws that
 * were all reserved or in use. */
int ikev2_new_child_spi(vpn_ikev2_ctx *ctx, uint32_t *spi);
/* An SPI from ikev2_new_child_spi that sa will not use after all (no
 * CHILD_SA was made with it): free again, unless sa holds it elsewhere. */
void ikev2_spi_release(vpn_ikev2_ctx *ctx, const ikev2_sa *sa, uint32_t spi);

/* ---- policy (ikev2-policy.c) ------------------------------------------------ */

const vpn_conf_policy *ikev2_conf_policy(const vpn_conf *c, const vpn_addr *local);
/* Our IKE proposals for a local address without DH transforms, or, with
 * only_group, only those listing that group and with it as their only DH
 * transform (a responder's look for the KE's group, RFC 7296 1.2). */
size_t ikev2_ike_proposals(const vpn_conf *c, const vpn_addr *local, uint16_t only_group,
                           vpn_ikev2_proposal *out, size_t cap);
/* What an initiator offers: every group, first_group first. */
size_t ikev2_ike_offer(const vpn_conf *c, const vpn_addr *local, uint16_t first_group,
                       vpn_ikev2_proposal *out, size_t cap);
uint16_t ikev2_first_group(const vpn_conf *c, const vpn_addr *local);
bool ikev2_group_offered(const vpn_conf *c, const vpn_addr *local, uint16_t group);
/* The group an INVALID_KE_PAYLOAD notify p asks for (RFC 7296 1.2, 3.10.1:
 * two octets of data), 0 if its data is not that. */
uint16_t ikev2_invalid_ke_group(const vpn_ikev2_payload *p);
/* Our ESP proposals from an ipsec profile's transform sets. */
size_t ikev2_esp_proposals(const vpn_conf *c, const vpn_conf_ipsec_profile *ipp, uint16_t pfs_group,
                           uint32_t spi, vpn_ikev2_proposal *out, size_t cap);
/* The ID of the (first) transform of a type, 0 if absent. */
uint16_t ikev2_prop_id(const vpn_ikev2_proposal *p, uint8_t type, uint16_t *key_len);

int ikev2_id_local(const vpn_conf_profile *prof, const vpn_addr *local, ikev2_id *out);
int ikev2_id_to_conf(const ikev2_id *id, vpn_conf_identity *out);
void ikev2_id_text(const ikev2_id *id, char *buf, size_t len);
const vpn_conf_profile *ikev2_profile_for_peer(const vpn_conf *c, const vpn_addr *local,
                                               const vpn_conf_identity *remote_id);
const char *ikev2_psk_local(const vpn_conf *c, const vpn_conf_profile *prof, const vpn_addr *remote,
                            const vpn_conf_identity *remote_id);
const char *ikev2_psk_remote(const vpn_conf *c, const vpn_conf_profile *prof, const vpn_addr *remote,
                             const vpn_conf_identity *remote_id);
bool ikev2_profile_accepts_auth(const vpn_conf_profile *prof, vpn_conf_auth a);

int ikev2_ts_from_wire(const vpn_ikev2_ts *w, vpn_ikev2_selector *s);
void ikev2_ts_to_wire(const vpn_ikev2_selector *s, vpn_ikev2_ts *w);
/* Selectors of a TSi/TSr payload we understand (others skipped). */
size_t ikev2_ts_parse(const vpn_ikev2_payload *pl, vpn_ikev2_selector *out, size_t cap,
                      bool *unsupported);

/* ---- messages (ikev2-engine.c) ---------------------------------------------- */

/* A message being built in ctx->scratch. */
typedef struct ikev2_out {
    vpn_wr w;
    vpn_ikev2_bld b;
    bool encrypted;
} ikev2_out;

/*
 * Starts a message of sa: header with sa's SPIs, the I flag if we are the
 * original initiator, R for responses; encrypted messages open an SK
 * payload so that the caller's payloads go inside it.
 */
void ikev2_out_begin(vpn_ikev2_ctx *ctx, const ikev2_sa *sa, ikev2_out *o, uint8_t exchange,
                     uint32_t mid, bool response, bool encrypted);
/*
 * Finishes (pads, encrypts, fragments if the peer supports RFC 7383 and the
 * message is too big for one datagram) into freshly allocated buffers.
 * Errors: the builder's, VPN_ERR_NOMEM, VPN_ERR_CRYPTO, VPN_ERR_LIMIT.
 */
int ikev2_out_finish(vpn_ikev2_ctx *ctx, ikev2_sa *sa, ikev2_out *o, ikev2_buf *frags, size_t *n);

/* A received message after decryption: the outer header and the inner
 * payloads (for IKE_SA_INIT, the outer payloads). */
typedef struct ikev2_in {
    const uint8_t *raw;      /* the datagram (marker stripped) */
    size_t raw_len;
    vpn_ikev2_hdr hdr;
    vpn_ikev2_msg *msg;      /* payloads */
    /* where it came in (our end) and from (the peer's): an IKE_SA_INIT
     * request has no SA yet to say (NULL for a request replayed from an
     * SA's own state, vpn_ikev2_eap_answer) */
    const vpn_ikev2_endpoint *local, *remote;
} ikev2_in;

/* Sends an unprotected answer built from a request's header (IKE_SA_INIT
 * errors and COOKIE, INVALID_MAJOR_VERSION): HDR(SPIi, 0), N(type, data). */
void ikev2_send_notify_plain(vpn_ikev2_ctx *ctx, const vpn_ikev2_endpoint *local,
                             const vpn_ikev2_endpoint *remote, const vpn_ikev2_hdr *req,
                             uint16_t type, const uint8_t *data, size_t len);
/* Sends (and caches) an encrypted response holding one error notify. */
void ikev2_respond_notify(vpn_ikev2_ctx *ctx, ikev2_sa *sa, const ikev2_in *in, uint16_t type,
                          uint8_t proto, const uint8_t *spi, size_t spi_len, const uint8_t *data,
                          size_t len);
/* Sends and caches a finished response. */
void ikev2_respond(vpn_ikev2_ctx *ctx, ikev2_sa *sa, const ikev2_in *in, ikev2_out *o);

/* Keeps sa's request and cached response (one datagram) so that the peer's
 * retransmission of the Delete just answered is answered again once sa is
 * gone (RFC 7296 2.4, 1.4.1). Best effort: without memory nothing is kept. */
void ikev2_tomb_keep(vpn_ikev2_ctx *ctx, const ikev2_sa *sa, uint64_t now);

/* ---- exchanges --------------------------------------------------------------- */

/*
 * One kind of exchange, as libcharon's tasks split them (without their
 * objects and globals): build_i builds and sends our request (arg: the
 * CHILD_SA it is about, or for CHILD_CREATE the policy index) into
 * sa->req, the exchange's state while it is in flight (its collision
 * with the peer's: ikev2_exch.collide); process_i handles the answer;
 * process_r handles the peer's request and builds our answer; abort
 * handles the answer to a request abandoned because its SA is closing
 * (ikev2_sa_close; NULL: nothing to undo). The core starts queued work,
 * hands answers on and abandons requests through these
 * (ikev2_exch_ops_of), and hands each request of the peer to the
 * process_r of its exchange (ikev2_exch_ops_r); NULL members: that role
 * does not exist for it.
 */
typedef struct ikev2_exch_ops {
    const char *name;
    int (*build_i)(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, ikev2_task task, uint32_t arg);
    void (*process_i)(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, const ikev2_in *in);
    void (*process_r)(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, const ikev2_in *in);
    void (*abort)(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, const ikev2_in *in);
} ikev2_exch_ops;

/* The operations of the exchange doing `task` (NULL for NONE). */
const ikev2_exch_ops *ikev2_exch_ops_of(ikev2_task task);
/* The exchange a request of the peer runs, whose process_r answers it: by
 * its exchange type (RFC 7296 1.2-1.4), a CREATE_CHILD_SA by its payloads
 * (1.3: IKE SA rekey, CHILD_SA rekey or create). NULL: an exchange type
 * we do not know (3.1). */
const ikev2_exch_ops *ikev2_exch_ops_r(const ikev2_in *in);

/* ikev2-init.c */
/* IKE_SA_INIT (1.2): build_i starts a new SA's first exchange; process_r
 * answers a request that has no SA yet (called with sa NULL; it makes
 * the SA, from in->local and in->remote). */
extern const ikev2_exch_ops ikev2_init_ops;
/* SKEYSEED and SK_* once both nonces and g^ir are known. */
int ikev2_derive_ike_keys(vpn_ikev2_ctx *ctx, ikev2_sa *sa, const uint8_t *peer_ke, size_t len);

/* ikev2-cert.c */
void ikev2_tp_free_all(vpn_ikev2_ctx *ctx);
bool ikev2_profile_signs(const vpn_conf_profile *p);
bool ikev2_profile_verifies_sigs(const vpn_conf_profile *p);
/* CERTREQ data: SPKI hashes of the CAs of the profile's trustpoints
 * (all of them with p NULL). Errors: VPN_ERR_NOTFOUND (none), NOSPACE. */
int ikev2_certreq_data(const vpn_ikev2_ctx *ctx, const vpn_conf_profile *p, uint8_t *out, size_t cap,
                       size_t *len);
/* Our ID when we sign (DN from the certificate with `identity local dn`). */
int ikev2_cert_id_local(const vpn_ikev2_ctx *ctx, const vpn_conf_profile *prof, const vpn_addr *local,
                        ikev2_id *out);
/* Our certificate's subject as text ("" without one). */
const char *ikev2_cert_local_dn(const vpn_ikev2_ctx *ctx, const vpn_conf_profile *prof);
/* Our CERT payloads. */
int ikev2_cert_write(const vpn_ikev2_ctx *ctx, const vpn_conf_profile *prof, vpn_ikev2_bld *b);
/* AUTH data over the signed octets; *method and *kind say what it is. */
int ikev2_cert_sign(const vpn_ikev2_ctx *ctx, const ikev2_sa *sa, const uint8_t *octets, size_t len,
                    uint8_t *method, uint8_t *out, size_t cap, size_t *out_len, vpn_conf_auth *kind);
int ikev2_peer_certs_load(const vpn_ikev2_msg *m, ikev2_peer_certs *pc);
void ikev2_peer_certs_free(ikev2_peer_certs *pc);
/* The conf view of a peer ID; a DN ID takes the certificate subject's text. */
int ikev2_cert_id_to_conf(const ikev2_id *id, const ikev2_peer_certs *pc, vpn_conf_identity *out);
/* Chain, identity and signature checks. 0 or VPN_ERR_AUTH with *why. */
int ikev2_cert_verify(const vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, const ikev2_peer_certs *pc,
                      const ikev2_id *id, uint8_t method, const uint8_t *auth, size_t auth_len,
                      const uint8_t *octets, size_t len, const char **why);

/* ikev2-auth.c */
int ikev2_auth_start(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now);
void ikev2_auth_response(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, const ikev2_in *in);
extern const ikev2_exch_ops ikev2_auth_ops;

/* What an initiator proposes for a policy (ESP proposals, TSi = local,
 * TSr = remote, USE_TRANSPORT_MODE); like: the CHILD_SA being rekeyed,
 * whose selectors are kept (RFC 7296 2.8). */
int ikev2_child_offer(vpn_ikev2_ctx *ctx, const ikev2_sa *sa, size_t policy, uint16_t pfs_group,
                      const ikev2_child *like, ikev2_child_req *req);
int ikev2_child_offer_write(vpn_ikev2_bld *b, const ikev2_child_req *req);
/*
 * Responder side: picks a child policy (only_policy, or any whose IKEv2
 * profile is the SA's and whose remote prefix holds the peer), one of its
 * proposals (pfs: with the ipsec profile's PFS group; in IKE_AUTH never)
 * and narrowed selectors (2.9) for the SA/TSi/TSr of msg. On success fills
 * *c (our new SPI, algorithms, selectors, mode; keys not derived) and
 * *chosen (with our SPI). Returns 0 or the notify to answer with
 * (NO_PROPOSAL_CHOSEN, TS_UNACCEPTABLE, INVALID_SYNTAX).
 */
uint16_t ikev2_child_accept(vpn_ikev2_ctx *ctx, ikev2_sa *sa, const vpn_ikev2_msg *msg,
                            bool pfs, size_t only_policy, ikev2_child *c,
                            vpn_ikev2_proposal *chosen);
/* The answer's SA payload, and its TSi, TSr (and USE_TRANSPORT_MODE). */
void ikev2_child_write_sa(vpn_ikev2_bld *b, const vpn_ikev2_proposal *chosen);
void ikev2_child_write_ts(vpn_ikev2_bld *b, const ikev2_child *c);
/* Initiator side: checks the answer against req and fills *c.
 * Returns 0 or a reason (NO_PROPOSAL_CHOSEN / TS_UNACCEPTABLE / INVALID_SYNTAX). */
uint16_t ikev2_child_check(vpn_ikev2_ctx *ctx, ikev2_sa *sa, const vpn_ikev2_msg *msg,
                           const ikev2_child_req *req, ikev2_child *c);
/* KEYMAT (2.17) into c's in/out keys; gir empty without PFS. */
int ikev2_child_keys(ikev2_sa *sa, ikev2_child *c, bool we_initiated, vpn_iov gir, vpn_iov ni,
                     vpn_iov nr);
/* Arms lifetimes, adds the child to sa and emits CHILD_UP. */
void ikev2_child_install(vpn_ikev2_ctx *ctx, ikev2_sa *sa, ikev2_child *c, uint64_t now,
                         uint32_t old_id);
void ikev2_child_fill_info(const ikev2_sa *sa, const ikev2_child *c, vpn_ikev2_child_info *ci,
                           const vpn_ikev2_ctx *ctx, bool with_keys);

/* Registers a child policy; *index receives its place. */
int ikev2_policy_add(vpn_ikev2_ctx *ctx, const vpn_ikev2_policy *p, size_t *index);
/* The peer deleted sa while both of us were rekeying it: if we answered
 * its rekey, its new SA takes the children (IKE_REKEYED). True if so. */
bool ikev2_ike_rekey_peer_won(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now);
/* Which exchange a CREATE_CHILD_SA request of the peer runs (RFC 7296
 * 1.3), by its payloads; never NULL (for ikev2_exch_ops_r). */
const ikev2_exch_ops *ikev2_create_child_ops_r(const vpn_ikev2_msg *m);
extern const ikev2_exch_ops ikev2_child_rekey_ops;  /* 1.3.3 */
extern const ikev2_exch_ops ikev2_child_create_ops; /* 1.3.1 */
extern const ikev2_exch_ops ikev2_ike_rekey_ops;    /* 1.3.2, 2.18 */

/* ikev2-info.c */
int ikev2_info_start(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, ikev2_task task,
                     uint32_t child_id);
/* Delete of CHILD_SAs or the IKE SA, liveness check, AUTHENTICATION_FAILED */
extern const ikev2_exch_ops ikev2_info_ops;

static inline uint64_t ikev2_spi64(const uint8_t spi[8])
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | spi[i];
    return v;
}

static inline void ikev2_spi_store(uint8_t spi[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        spi[i] = (uint8_t)v;
        v >>= 8;
    }
}

#endif
