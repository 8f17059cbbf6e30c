/*
 * The IKEv2 protocol engine (RFC 7296), sans-IO.
 *
 * One vpn_ikev2_ctx per node (or per IKE instance on a node). It owns every
 * IKE SA and CHILD_SA it negotiates, takes its policy from a vpn_conf (the
 * FlexVPN objects: proposal, policy, keyring, profile, transform-set, ipsec
 * profile) plus the child policies the driver registers, and talks to the
 * world only through:
 *   - entry points that take `now` (nanoseconds, any epoch, never going
 *     backwards): vpn_ikev2_input, vpn_ikev2_initiate, vpn_ikev2_timeout and
 *     the management calls (delete, rekey, dpd);
 *   - vpn_ikev2_next_deadline: when to call vpn_ikev2_timeout next
 *     (UINT64_MAX = nothing pending);
 *   - a send callback, handed every datagram the engine wants on the wire;
 *   - an event callback: IKE_SA up/down/rekeyed, CHILD_SA installed,
 *     expiring, rekeyed, deleted, and failures with a reason.
 *
 * Ports and the non-ESP marker (RFC 3948 2.2, RFC 7296 2.23): datagrams in
 * both directions are whole UDP payloads. On port 4500 an IKE message is
 * preceded by the four zero octets of the non-ESP marker; the engine writes
 * it on what it sends and expects it on what it receives when either port
 * is 4500. The driver demultiplexes port 4500 itself: a datagram whose
 * first four octets are not zero is ESP-in-UDP and never reaches the
 * engine; a NAT-keepalive (one 0xFF octet, RFC 3948 2.3) may be passed in
 * and is ignored. The engine emits NAT keepalives itself when it is behind
 * a NAT and the profile (or `crypto ikev2 nat keepalive`) asks for them.
 *
 * Protocol choices: RFC 7296 2.3 windows: IKE_AUTH messages carry
 * SET_WINDOW_SIZE with `crypto ikev2 window N` (IOS default 5; the engine
 * keeps at most 8) and up to that many of the peer's requests are answered
 * in any order, each response kept for retransmissions; our own requests
 * stay within the peer's announced window (1 if it said nothing), CHILD_SA
 * work only overlapping (IKE SA rekey, delete and DPD wait for an idle SA),
 * each request matched by message ID with its own retransmission; retransmission
 * doubles from 1 s to at most 32 s and gives up after 5 retries (params, or
 * `crypto ikev2 retransmit count N timeout MS max-timeout S`);
 * encrypted messages that would make IP datagrams over 1280 octets go as
 * RFC 7383 fragments when the peer announced support; the side that
 * initiated an SA rekeys it at 90% of its lifetime (the IKEv2 profile's, or
 * the ipsec profile's for CHILD_SAs) and the other side at 95%, so that
 * simultaneous rekeys stay rare; when they happen they are resolved as
 * RFC 7296 2.8.1 and 2.8.2 say. When both ends initiate at once, the two
 * IKE SAs made for one policy are reduced to the one with the lower SPIi |
 * SPIr: the survivor's initiator deletes the other at once, its responder
 * 10 s later if the peer has not (a peer such as strongSwan keeps both);
 * stats.duplicate_sas counts them. A closing SA's Delete waits until it
 * fits the peer's window (2.3) behind requests still unanswered.
 *
 * Events, in order: IKE_UP then CHILD_UP for a new tunnel; for a CHILD_SA
 * rekey CHILD_UP (new, old_id set), CHILD_REKEYED, then CHILD_DOWN (old,
 * reason REKEYED) once the old pair is deleted; for an IKE SA rekey one
 * IKE_REKEYED (the children move, no DOWN/UP); on deletion or failure
 * CHILD_DOWN for each child, then IKE_DOWN (established SAs) or FAILED.
 *
 * Callbacks are made from inside the entry points; they must not call back
 * into the same ctx (the driver queues what it wants to do), except for the
 * read-only queries (vpn_ikev2_sa_get/_find/_count, vpn_ikev2_child_get,
 * vpn_ikev2_sa_keys_get, vpn_ikev2_sa_wireshark_line, vpn_ikev2_stats_get).
 * During IKE_DOWN and FAILED the SA can still be read: a driver exporting
 * keys writes those of an SA whose IKE_AUTH failed (a wrong PSK) there, so
 * that a capture of the failed exchange decrypts. Data handed to a callback
 * is valid only during the call.
 *
 * Threading: a ctx is used by one thread at a time; separate contexts are
 * independent (no globals).
 */
#ifndef VPN_IKEV2_ENGINE_H
#define VPN_IKEV2_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/alloc.h"
#include "common/rng.h"
#include "common/vpn-log.h"
#include "conf/conf.h"
#include "crypto/kdf.h"
#include "crypto/sig.h"
#include "crypto/x509.h"
#include "ikev2/ikev2-cp.h"
#include "ikev2/ikev2-eap.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VPN_IKEV2_PORT 500
#define VPN_IKEV2_NATT_PORT 4500

/* Traffic selectors per CHILD_SA side that the engine keeps. */
#define VPN_IKEV2_TS_MAX 4

typedef struct vpn_ikev2_endpoint {
    vpn_addr addr;
    uint16_t port;
} vpn_ikev2_endpoint;

/*
 * A traffic selector as RFC 7296 3.13.1 defines it: an address range, an
 * IP protocol (0 = any) and a port range (0-65535 = any). family is
 * VPN_AF_INET or VPN_AF_INET6 (TS_IPV4_ADDR_RANGE / TS_IPV6_ADDR_RANGE).
 */
typedef struct vpn_ikev2_selector {
    uint8_t family;
    uint8_t proto;
    uint16_t port_lo, port_hi;
    vpn_addr addr_lo, addr_hi;
} vpn_ikev2_selector;

/* A selector for a whole prefix, any protocol and port when proto is 0. */
void vpn_ikev2_selector_from_prefix(vpn_ikev2_selector *s, const vpn_prefix *p, uint8_t proto);

/* ---- what the engine tells the driver -------------------------------------- */

typedef struct vpn_ikev2_dgram {
    vpn_ikev2_endpoint local, remote;
    const uint8_t *data; /* the UDP payload, marker included on port 4500 */
    size_t len;
    uint32_t ike_sa_id;  /* the IKE SA it belongs to; 0 for stateless replies */
    bool keepalive;      /* a NAT-keepalive, not an IKE message */
} vpn_ikev2_dgram;

typedef enum vpn_ikev2_event_type {
    VPN_IKEV2_EV_IKE_UP = 1,     /* IKE SA established (authenticated) */
    VPN_IKEV2_EV_IKE_DOWN,       /* IKE SA gone (reason says why) */
    VPN_IKEV2_EV_IKE_REKEYED,    /* ike_sa_id replaced old_id; keeps its children */
    VPN_IKEV2_EV_CHILD_UP,       /* CHILD_SA pair to install in the SAD and SPD */
    VPN_IKEV2_EV_CHILD_EXPIRING, /* soft lifetime reached: rekey starts */
    VPN_IKEV2_EV_CHILD_REKEYED,  /* child.old_id replaced by child.id (already UP) */
    VPN_IKEV2_EV_CHILD_DOWN,     /* uninstall the pair */
    VPN_IKEV2_EV_FAILED,         /* a negotiation failed; no SA results from it */
    VPN_IKEV2_EV_CHILD_MOVED,    /* the peer moved (RFC 7296 2.23, a NAT's new
                                  * mapping): the pair's ESP goes to child.remote */
} vpn_ikev2_event_type;

typedef enum vpn_ikev2_reason {
    VPN_IKEV2_R_NONE = 0,
    VPN_IKEV2_R_LOCAL_DELETE,     /* vpn_ikev2_delete / a local decision */
    VPN_IKEV2_R_PEER_DELETE,      /* the peer sent a Delete */
    VPN_IKEV2_R_TIMEOUT,          /* retransmissions gave up */
    VPN_IKEV2_R_DPD,              /* liveness check gave up */
    VPN_IKEV2_R_AUTH_FAILED,      /* the peer's AUTH did not verify (or no credentials) */
    VPN_IKEV2_R_PEER_AUTH_FAILED, /* the peer sent AUTHENTICATION_FAILED */
    VPN_IKEV2_R_NO_PROPOSAL,      /* NO_PROPOSAL_CHOSEN (sent or received) */
    VPN_IKEV2_R_TS_UNACCEPTABLE,  /* TS_UNACCEPTABLE (sent or received) */
    VPN_IKEV2_R_INVALID_KE,       /* INVALID_KE_PAYLOAD that could not be resolved */
    VPN_IKEV2_R_NO_POLICY,        /* no profile or child policy fits the peer */
    VPN_IKEV2_R_PEER_ERROR,       /* another error notify from the peer */
    VPN_IKEV2_R_PROTOCOL,         /* the peer broke the protocol */
    VPN_IKEV2_R_REKEYED,          /* replaced by a rekey */
    VPN_IKEV2_R_EXPIRED,          /* hard lifetime reached */
    VPN_IKEV2_R_INTERNAL,         /* a local error (memory, crypto library) */
} vpn_ikev2_reason;

const char *vpn_ikev2_reason_name(vpn_ikev2_reason r);

/*
 * A CHILD_SA as the data plane needs it: one SA in each direction. Keys
 * are in the order the SAD wants them: encryption key with the salt
 * appended for AEAD (RFC 4106 8.1), integrity key.
 */
typedef struct vpn_ikev2_child_info {
    uint32_t id;            /* unique in the ctx; the driver's handle */
    uint32_t old_id;        /* REKEYED: the CHILD_SA this one replaced */
    uint32_t ike_sa_id;
    uint32_t policy_tag;    /* the child policy's tag (driver's own value) */
    uint8_t protocol;       /* 3 = ESP */
    uint32_t spi_in, spi_out; /* host order; spi_in is the one we chose */
    uint16_t encr, encr_key_bits, integ; /* transform IDs (crypto-ids.h) */
    uint16_t pfs_group;     /* the DH group of this exchange; 0: none */
    bool esn;
    vpn_conf_mode mode;
    bool initiator;         /* we initiated the exchange that made it */
    const vpn_key *encr_in, *integ_in, *encr_out, *integ_out; /* valid during the call */
    vpn_ikev2_endpoint local, remote; /* outer addresses and IKE ports */
    bool udp_encap;         /* ESP in UDP (RFC 3948) on the ports above */
    vpn_ikev2_selector ts_local[VPN_IKEV2_TS_MAX], ts_remote[VPN_IKEV2_TS_MAX];
    size_t n_ts_local, n_ts_remote;
    uint32_t lifetime_s, lifetime_kb; /* hard limits from the ipsec profile */
    const char *ipsec_profile;
    const char *transform_set; /* IOS display form, e.g. "esp-256-aes esp-sha256-hmac" */
} vpn_ikev2_child_info;

typedef struct vpn_ikev2_event {
    vpn_ikev2_event_type type;
    uint32_t ike_sa_id;
    uint32_t old_id;            /* IKE_REKEYED: the IKE SA replaced */
    vpn_ikev2_reason reason;
    uint16_t notify;            /* the error notify type involved, 0 if none */
    vpn_ikev2_endpoint local, remote;
    const vpn_ikev2_child_info *child; /* CHILD_* events */
    const char *detail;         /* human-readable, may be NULL */
} vpn_ikev2_event;

typedef void (*vpn_ikev2_send_fn)(void *user, const vpn_ikev2_dgram *d);
typedef void (*vpn_ikev2_event_fn)(void *user, const vpn_ikev2_event *ev);

/* ---- creation ------------------------------------------------------------ */

typedef struct vpn_ikev2_params {
    const vpn_conf *conf;       /* borrowed; must outlive the ctx */
    vpn_rng rng;                /* nonces, SPIs, DH private values, cookies */
    vpn_log log;
    const char *name;           /* engine name in logs, e.g. the hostname */
    vpn_ikev2_send_fn send;
    vpn_ikev2_event_fn event;
    void *user;
    /* Retransmission (RFC 7296 2.1): the first after rto_initial_ns, each
     * next doubled up to rto_max_ns; give up retries retransmissions later.
     * 0 takes the defaults (1 s, 32 s, 5). */
    uint64_t rto_initial_ns, rto_max_ns;
    unsigned retries;
    /* Half-open (IKE_SA_INIT answered, IKE_AUTH not yet done) limits as IOS's
     * in-negotiation limits; 0 = defaults 40 in / 400 out. */
    unsigned max_half_open_in, max_half_open_out;
    /* Certificates are checked at Unix time unix_time_offset_s + now / 1e9
     * (the engine's clock has the driver's epoch). */
    int64_t unix_time_offset_s;
    /* Leave RFC 7427 signature authentication out, as peers from before it
     * do (strongSwan's signature_authentication = no): no
     * SIGNATURE_HASH_ALGORITHMS sent and the peer's ignored, so an ECDSA
     * key signs with RFC 4754 methods 9-11 and an RSA key with RFC 7296
     * method 1 (SHA-1). For interoperability tests. */
    bool no_rfc7427;
    /* Remote access: the EAP authenticator (RFC 7296 2.16). NULL: the local
     * user database of the conf (`username`). Otherwise the engine hands
     * every step to eap (see vpn_ikev2_eap_fn) and eap_user is its first
     * argument: a RADIUS passthrough lives there. Borrowed: it must
     * outlive the ctx. */
    const struct vpn_ikev2_eap_backend *eap;
    /* Asked before each allocation the engine makes (zeroed: always
     * allowed); tests fail the k-th one. See common/alloc.h. */
    vpn_alloc alloc;
    /* Traces (issue 18): every encrypted message sent or received under an
     * IKE SA whose algorithms Wireshark cannot decrypt (no
     * ikev2_decryption_table line, vpn_ikev2_sa_wireshark_line), as the same
     * message unencrypted: its RFC 7296 3.1 header with the SK payload's
     * inner payloads in the SK's place (Next Payload and Length fixed), in an
     * IPv4 or IPv6 + UDP datagram with the SA's addresses and ports (the
     * non-ESP marker before it on port 4500, RFC 3948 2.2); RFC 7383
     * fragments as the one reassembled message. outbound: sent. dgram is
     * valid during the call only. A view, never sent. Optional. */
    void (*ike_plain)(void *user, uint32_t ike_sa_id, bool outbound, const uint8_t *dgram, size_t len);
    /* Once for every IKE SA as soon as its keys exist (IKE_SA_INIT done,
     * or the CREATE_CHILD_SA that rekeyed to it, RFC 7296 2.14, 2.18):
     * vpn_ikev2_sa_wireshark_line works from then on. Every such SA, also
     * ones no event ever names (the redundant SA of a simultaneous IKE
     * rekey, 2.8.2, which still carries a Delete), so that a capture
     * decrypts whole. It must not call back into the ctx but for reading.
     * Optional. */
    void (*ike_keyed)(void *user, uint32_t ike_sa_id);
} vpn_ikev2_params;

/*
 * One step of an EAP conversation for IKE SA ike_sa_id under profile:
 * msg NULL starts it (identity: the initiator's IKE identity as text),
 * else msg is the peer's EAP Response. Return 0 with *a filled (the
 * Request to send, or SUCCESS with the MSK, or FAILURE), or
 * VPN_IKEV2_EAP_PENDING to answer later with vpn_ikev2_eap_answer (the
 * IKE_AUTH response waits; the peer retransmits meanwhile). Any negative
 * code ends the IKE SA with AUTHENTICATION_FAILED. On the first step only,
 * VPN_IKEV2_EAP_LOCAL hands this conversation to the local database (a
 * profile without a RADIUS method list). Called from inside the engine:
 * it must not call back into the ctx.
 */
#define VPN_IKEV2_EAP_PENDING 1
#define VPN_IKEV2_EAP_LOCAL 2
typedef int (*vpn_ikev2_eap_fn)(void *user, uint32_t ike_sa_id, const char *profile, const char *identity,
                                const uint8_t *msg, size_t len, vpn_eap_answer *a);
typedef struct vpn_ikev2_eap_backend {
    vpn_ikev2_eap_fn step;
    void *user;
} vpn_ikev2_eap_backend;

typedef struct vpn_ikev2_ctx vpn_ikev2_ctx;

/*
 * Creates an engine. params is copied; conf is borrowed. On success *out is
 * the caller's (vpn_ikev2_ctx_del). Errors: VPN_ERR_INVAL (no conf, no send
 * callback, no RNG), VPN_ERR_NOMEM, or the RNG's error (the cookie secret
 * is drawn here).
 */
int vpn_ikev2_ctx_new(vpn_ikev2_ctx **out, const vpn_ikev2_params *params);

/* Wipes every key and frees; no events are emitted. NULL is fine. */
void vpn_ikev2_ctx_del(vpn_ikev2_ctx *ctx);

/*
 * A child policy: what CHILD_SAs this node negotiates with which peers.
 * The initiator proposes ts_local/ts_remote; a responder picks the first
 * policy whose ipsec profile names the IKEv2 profile the peer matched,
 * whose remote prefix holds the peer's address, and whose selectors
 * intersect the proposed ones (RFC 7296 2.9 narrowing). An empty selector
 * list means "any" (0.0.0.0-255.255.255.255, all protocols and ports).
 * This is how a tunnel interface's protection (GRE: permit 47 between the
 * tunnel endpoints; VTI: any/any) reaches the engine.
 */
typedef struct vpn_ikev2_policy {
    const char *ipsec_profile;  /* copied; "default" when NULL */
    vpn_prefix remote;          /* peers it applies to (len 0: any) */
    vpn_ikev2_selector ts_local[VPN_IKEV2_TS_MAX], ts_remote[VPN_IKEV2_TS_MAX];
    size_t n_ts_local, n_ts_remote;
    uint32_t tag;               /* the driver's own value, reported in events */
    /* CHILD_SAs in tunnel mode whatever the transform set's `mode` says:
     * neither asked for nor granted USE_TRANSPORT_MODE (RFC 7296 1.3.1).
     * IOS ignores `mode transport` on a VTI, whose SA carries whole IP
     * packets. */
    bool tunnel_mode_only;
} vpn_ikev2_policy;

/*
 * The child policy of an IOS VTI (`tunnel mode ipsec ipv4`) protected by
 * ipsec_profile (borrowed) towards peer: any IPv4 traffic both ways
 * (0.0.0.0/0, as IOS proposes; RFC 7296 2.9 lets the peer narrow) over an
 * IPv4 or IPv6 underlay, peers = peer alone, tunnel mode only, tag as
 * given. Every driver builds its VTI policies here.
 */
void vpn_ikev2_policy_vti(vpn_ikev2_policy *pol, const char *ipsec_profile, const vpn_addr *peer,
                          uint32_t tag);

/*
 * Registers a child policy (copied). The ipsec profile must exist, name an
 * IKEv2 profile (`set ikev2-profile`) and have a transform set.
 * Errors: VPN_ERR_INVAL, VPN_ERR_NOTFOUND (profile), VPN_ERR_POLICY,
 * VPN_ERR_NOMEM.
 */
int vpn_ikev2_policy_add(vpn_ikev2_ctx *ctx, const vpn_ikev2_policy *p);

/*
 * Certificates, as IOS keeps them in trustpoints (`pki trustpoint NAME` in
 * a profile names the ones it uses; a profile naming none uses all).
 * add_ca trusts ca (root or intermediate) under the trustpoint; set_cert
 * gives this node's certificate, its private key and the intermediates to
 * send with it. All are borrowed and must outlive the ctx; the trustpoint
 * is created on first use.
 * Errors: VPN_ERR_INVAL, VPN_ERR_POLICY (key not private or not the
 * certificate's), VPN_ERR_NOMEM.
 */
int vpn_ikev2_trustpoint_add_ca(vpn_ikev2_ctx *ctx, const char *trustpoint, const vpn_x509 *ca);
int vpn_ikev2_trustpoint_set_cert(vpn_ikev2_ctx *ctx, const char *trustpoint, const vpn_x509 *cert,
                                  const vpn_sig_key *key, const vpn_x509 *const *chain, size_t n_chain);

/* ---- driving it ------------------------------------------------------------ */

/*
 * One received UDP datagram (see the note on ports above). Malformed,
 * unauthenticated or unexpected input is dropped (or answered with the
 * notify RFC 7296 asks for) and leaves every SA as it was; that is not an
 * error of this call.
 * Returns 0 when the datagram was handled or dropped as the RFC says,
 * VPN_ERR_INVAL for bad arguments, VPN_ERR_NOMEM when the message could not
 * even be parsed for want of memory. A local failure while handling it
 * (memory, RNG, crypto library) is not returned: it takes the IKE SA down
 * with reason VPN_IKEV2_R_INTERNAL (IKE_DOWN or FAILED), is logged and
 * counted (stats.internal_errors).
 */
int vpn_ikev2_input(vpn_ikev2_ctx *ctx, uint64_t now, const vpn_ikev2_endpoint *local,
                   const vpn_ikev2_endpoint *remote, const uint8_t *data, size_t len);

/*
 * Starts IKE_SA_INIT + IKE_AUTH towards remote, creating the first CHILD_SA
 * from policy (copied; registered as if by vpn_ikev2_policy_add, so the
 * same node can answer rekeys and a peer's own initiation). local.port and
 * remote.port are normally 500. *ike_sa_id (may be NULL) receives the new
 * SA's handle.
 * Errors: VPN_ERR_INVAL, VPN_ERR_NOTFOUND / VPN_ERR_POLICY (profiles),
 * VPN_ERR_LIMIT (too many half-open outgoing SAs), VPN_ERR_NOMEM,
 * VPN_ERR_CRYPTO, the RNG's errors.
 */
int vpn_ikev2_initiate(vpn_ikev2_ctx *ctx, uint64_t now, const vpn_ikev2_endpoint *local,
                       const vpn_ikev2_endpoint *remote, const vpn_ikev2_policy *policy,
                       uint32_t *ike_sa_id);

/* Runs every timer due at now (retransmissions, DPD, lifetimes, rekeys). Returns 0. */
int vpn_ikev2_timeout(vpn_ikev2_ctx *ctx, uint64_t now);

/* The earliest time vpn_ikev2_timeout has work, UINT64_MAX if none. */
uint64_t vpn_ikev2_next_deadline(const vpn_ikev2_ctx *ctx);

/* ---- management -------------------------------------------------------------- */

/*
 * Deletes an IKE SA and its children with an INFORMATIONAL Delete (RFC 7296
 * 1.4.1); CHILD_DOWN and IKE_DOWN events follow at once (the SA is not used
 * after this call, the Delete is sent best-effort).
 * Errors: VPN_ERR_NOTFOUND.
 */
int vpn_ikev2_delete(vpn_ikev2_ctx *ctx, uint64_t now, uint32_t ike_sa_id);

/*
 * The answer to a step an EAP backend left pending (VPN_IKEV2_EAP_PENDING):
 * the engine sends the IKE_AUTH response it held back. Errors:
 * VPN_ERR_INVAL, VPN_ERR_NOTFOUND (no such SA, or it is not waiting: it
 * timed out or was deleted meanwhile).
 */
int vpn_ikev2_eap_answer(vpn_ikev2_ctx *ctx, uint64_t now, uint32_t ike_sa_id, const vpn_eap_answer *a);

/*
 * What the AAA server authorized for the user of a pending EAP step (the
 * attributes of a RADIUS Access-Accept), given before vpn_ikev2_eap_answer
 * hands its SUCCESS over. z is copied; a second call replaces the first. A
 * profile with `aaa authorization user eap cached` lets it override its
 * authorization policy when the CFG_REPLY is built (vpn_cp_authz); others
 * ignore it. Errors: VPN_ERR_INVAL, VPN_ERR_NOTFOUND (no such SA, or no
 * EAP step of it waits), VPN_ERR_NOMEM.
 */
int vpn_ikev2_eap_authorize(vpn_ikev2_ctx *ctx, uint32_t ike_sa_id, const vpn_cp_authz *z);

/*
 * Negotiates another CHILD_SA under an established IKE SA (CREATE_CHILD_SA,
 * RFC 7296 1.3.1), for policy (copied and registered as by
 * vpn_ikev2_policy_add; its ipsec profile's PFS group applies). The result
 * is a CHILD_UP event, or FAILED with the reason.
 * Errors: VPN_ERR_NOTFOUND, VPN_ERR_STATE, VPN_ERR_INVAL, VPN_ERR_POLICY,
 * VPN_ERR_LIMIT (too much queued), VPN_ERR_NOMEM.
 */
int vpn_ikev2_child_create(vpn_ikev2_ctx *ctx, uint64_t now, uint32_t ike_sa_id,
                           const vpn_ikev2_policy *policy);

/* Deletes one CHILD_SA pair (INFORMATIONAL with Delete for its SPI).
 * Errors: VPN_ERR_NOTFOUND, VPN_ERR_STATE, VPN_ERR_NOMEM. */
int vpn_ikev2_child_delete(vpn_ikev2_ctx *ctx, uint64_t now, uint32_t child_id);

/* Starts a CHILD_SA rekey now (RFC 7296 2.8) / an IKE SA rekey (2.18).
 * Errors: VPN_ERR_NOTFOUND, VPN_ERR_STATE (not established, or an exchange
 * of the same kind is already running), VPN_ERR_NOMEM, VPN_ERR_CRYPTO. */
int vpn_ikev2_child_rekey(vpn_ikev2_ctx *ctx, uint64_t now, uint32_t child_id);
int vpn_ikev2_ike_rekey(vpn_ikev2_ctx *ctx, uint64_t now, uint32_t ike_sa_id);

/* Sends a liveness check (empty INFORMATIONAL, RFC 7296 1.4) now.
 * Errors: VPN_ERR_NOTFOUND, VPN_ERR_STATE. */
int vpn_ikev2_dpd(vpn_ikev2_ctx *ctx, uint64_t now, uint32_t ike_sa_id);

/*
 * Tells the engine that traffic went through a CHILD_SA. Inbound traffic
 * proves the peer alive (no liveness check is due while it flows);
 * on-demand DPD (IOS `dpd N M on-demand`) checks a peer only when we sent
 * traffic and heard nothing for N seconds. Unknown ids are ignored.
 */
void vpn_ikev2_child_activity(vpn_ikev2_ctx *ctx, uint64_t now, uint32_t child_id, bool inbound,
                              bool outbound);

/*
 * The same, for a data path that remembers where the CHILD_SA was last
 * found: ike_sa_id (0: unknown) is tried first, which spares the CHILD_SA
 * index a probe on every packet (issue 14). A stale hint (the IKE SA was
 * rekeyed, the children moved, or it is gone) costs that probe only: the
 * CHILD_SA is looked up as vpn_ikev2_child_activity does. Returns the
 * handle of the IKE SA that holds child_id now (0: none), the hint for
 * the next packet.
 */
uint32_t vpn_ikev2_child_activity_at(vpn_ikev2_ctx *ctx, uint64_t now, uint32_t ike_sa_id, uint32_t child_id,
                                     bool inbound, bool outbound);

/*
 * RFC 7296 2.23: the driver verified a packet of CHILD_SA child_id (ESP
 * in UDP whose ICV checked and whose sequence number is above every one
 * verified on that SA before it: "only in response to a new packet", as
 * an authentic packet held back or replayed from the old address passes
 * the replay window too and must not move the SA back) that came from
 * remote, not from where the IKE SA has its peer: a NAT in front of the
 * peer gave it a new mapping. When the IKE SA saw a NAT in
 * front of the peer and none in front of us, it follows the peer there:
 * IKE messages and, through CHILD_MOVED events for each of its CHILD_SAs,
 * ESP go to remote from now on. A host behind a NAT does not follow
 * (2.23: one forged packet must not move it). Returns 1 if the SA moved,
 * 0 if not; VPN_ERR_INVAL, VPN_ERR_NOTFOUND (unknown child).
 */
int vpn_ikev2_child_peer_moved(vpn_ikev2_ctx *ctx, uint64_t now, uint32_t child_id,
                               const vpn_ikev2_endpoint *remote);

/* ---- state, for show views and tests ----------------------------------------- */

typedef enum vpn_ikev2_sa_state {
    VPN_IKEV2_SA_CONNECTING = 1, /* IKE_SA_INIT / IKE_AUTH running (IOS: IN-NEG) */
    VPN_IKEV2_SA_ESTABLISHED,    /* READY */
    VPN_IKEV2_SA_REKEYING,       /* an IKE SA rekey is running */
    VPN_IKEV2_SA_DELETING,       /* Delete sent, waiting for the answer */
} vpn_ikev2_sa_state;

typedef struct vpn_ikev2_id_info {
    uint8_t type;          /* ID type (RFC 7296 3.5), 0 if unknown yet */
    char text[VPN_CONF_ID_MAX]; /* printable form */
} vpn_ikev2_id_info;

typedef struct vpn_ikev2_sa_info {
    uint32_t id;
    vpn_ikev2_sa_state state;
    bool initiator;        /* we were the original initiator */
    vpn_ikev2_endpoint local, remote;
    uint8_t spi_i[8], spi_r[8];
    uint16_t encr, encr_key_bits, integ, prf, dh_group;
    uint8_t auth_local, auth_remote; /* auth methods (crypto-ids.h), 0 if not yet */
    vpn_conf_auth auth_sign, auth_verify; /* what they are in IOS words (PSK, RSA, ECDSA) */
    vpn_ikev2_id_info id_local, id_remote;
    uint32_t lifetime_s;
    uint64_t established_ns; /* 0 while negotiating */
    uint64_t created_ns;
    uint32_t msgid_next_send, msgid_next_recv; /* next request IDs out / in */
    unsigned window_local, window_remote; /* RFC 7296 2.3: ours, the peer's SET_WINDOW_SIZE */
    unsigned requests_in_flight;
    unsigned queued_requests;
    uint32_t dpd_interval_s, dpd_retry_s;
    bool nat_local, nat_remote; /* a NAT in front of us / the peer (RFC 7296 2.23) */
    bool fragmentation;    /* RFC 7383 negotiated */
    const char *profile;   /* ikev2 profile name, "" if none matched yet */
    uint32_t policy_tag;   /* tag of the child policy it was set up for */
    size_t n_children;
    /* Remote access (RFC 7296 2.16, 3.15): the EAP identity ("" without
     * EAP) and the address assigned by the responder (family 0: none). */
    const char *eap_identity;
    vpn_addr assigned;
    /* ... and the IPv6 one (INTERNAL_IP6_ADDRESS, 3.15.1) with its prefix
     * length; family 0: none (an IPv4-only user, or no `ipv6 pool`) */
    vpn_addr assigned6;
    uint8_t assigned6_len;
    /* The whole CFG_REPLY sent (responder) or received (initiator):
     * address, DNS servers, split-tunnel subnets; NULL: none. */
    const vpn_cp_grant *cfg;
} vpn_ikev2_sa_info;

/* An `ip local pool` as the engine uses it (remote access). */
typedef struct vpn_ikev2_pool_info {
    const char *name;
    vpn_addr first, last;
    uint32_t size, in_use;
} vpn_ikev2_pool_info;

/* The index-th pool of the conf (all of them, used or not; the `ipv6
 * local pool`s after the IPv4 ones). Errors:
 * VPN_ERR_INVAL, VPN_ERR_NOTFOUND (past the end). */
int vpn_ikev2_pool_get(const vpn_ikev2_ctx *ctx, size_t index, vpn_ikev2_pool_info *out);

typedef struct vpn_ikev2_child_state {
    vpn_ikev2_child_info info; /* key pointers are NULL here */
    uint64_t installed_ns;
    uint64_t expires_ns;       /* hard expiry */
} vpn_ikev2_child_state;

/* Number of IKE SAs (including half-open ones). */
size_t vpn_ikev2_sa_count(const vpn_ikev2_ctx *ctx);
/* The index-th IKE SA in creation order. Errors: VPN_ERR_NOTFOUND. */
int vpn_ikev2_sa_get(const vpn_ikev2_ctx *ctx, size_t index, vpn_ikev2_sa_info *out);
/* By handle. Errors: VPN_ERR_NOTFOUND. */
int vpn_ikev2_sa_find(const vpn_ikev2_ctx *ctx, uint32_t ike_sa_id, vpn_ikev2_sa_info *out);
/*
 * The routes an initiator installs from the CFG_REPLY it received (RFC
 * 7296 3.15.1 INTERNAL_IP4_SUBNET / INTERNAL_IP6_SUBNET: the networks the
 * responder protects; IOS's FlexVPN spoke and client install them towards
 * the tunnel). Leaves out duplicates and any prefix holding the peer's
 * outer address (its own IKE and ESP packets would be routed into the
 * tunnel). Writes at most cap prefixes to out; returns how many there are
 * (may exceed cap: the rest were not written), 0 when there is no reply.
 * Errors: VPN_ERR_INVAL (NULL ctx, out NULL with cap > 0), VPN_ERR_NOTFOUND
 * (no such SA), VPN_ERR_STATE (this side sent the reply: the responder).
 */
int vpn_ikev2_sa_routes(const vpn_ikev2_ctx *ctx, uint32_t ike_sa_id, vpn_prefix *out, size_t cap);
/* The index-th CHILD_SA of an IKE SA. Errors: VPN_ERR_NOTFOUND. */
int vpn_ikev2_child_get(const vpn_ikev2_ctx *ctx, uint32_t ike_sa_id, size_t index,
                        vpn_ikev2_child_state *out);

/*
 * The keys of an IKE SA (RFC 7296 2.14), for Wireshark key files and
 * tests. The caller wipes *out (vpn_ikev2_keys_wipe on out->keys) after
 * use. Errors: VPN_ERR_NOTFOUND, VPN_ERR_STATE (no keys yet).
 */
typedef struct vpn_ikev2_sa_keys {
    uint8_t spi_i[8], spi_r[8];
    vpn_ikev2_suite suite;
    vpn_ikev2_keys keys;
} vpn_ikev2_sa_keys;

int vpn_ikev2_sa_keys_get(const vpn_ikev2_ctx *ctx, uint32_t ike_sa_id, vpn_ikev2_sa_keys *out);

/*
 * One line of Wireshark's `ikev2_decryption_table` UAT for an IKE SA:
 * SPIi,SPIr,SK_ei,SK_er,"<cipher>",SK_ai,SK_ar,"<integrity>" with bare hex
 * (AEAD ciphers have empty SK_a fields and integrity "NONE [RFC4306]").
 * Errors: VPN_ERR_NOTFOUND, VPN_ERR_STATE, VPN_ERR_UNSUPPORTED (a cipher
 * Wireshark has no name for), VPN_ERR_NOSPACE.
 */
int vpn_ikev2_sa_wireshark_line(const vpn_ikev2_ctx *ctx, uint32_t ike_sa_id, char *buf, size_t len);

/* Counters for `show crypto ikev2 stats` and tests. */
typedef struct vpn_ikev2_stats {
    uint64_t in_requests, in_responses, out_requests, out_responses;
    uint64_t retransmits, duplicates_answered, dropped;
    uint64_t window_violations; /* requests past our window (RFC 7296 2.3), dropped */
    uint64_t cookies_sent, half_open_rejected;
    uint64_t sa_up, sa_failed;
    unsigned half_open_in, half_open_out;
    /* IKE SAs found redundant because both ends initiated at once (one
     * per pair, at each end that saw both up; ikev2-auth.c) */
    uint64_t duplicate_sas;
    /* Local failures (allocation, RNG, crypto library), each logged and
     * reported as an event with reason INTERNAL (ikev2_internal_error). */
    uint64_t internal_errors;
} vpn_ikev2_stats;

void vpn_ikev2_stats_get(const vpn_ikev2_ctx *ctx, vpn_ikev2_stats *out);

#ifdef __cplusplus
}
#endif

#endif
