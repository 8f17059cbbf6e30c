/*
 * A node's GET VPN roles and its crypto-map data plane (sans-IO glue over
 * gdoi/gdoi.h and ipsec/), one object per router, written once for every
 * driver (the ns-3 shim, a host daemon, the unit tests).
 *
 * A vpn_getvpn_node owns, per configured group (IOS `crypto gdoi group`):
 *   - a key server engine (vpn_gdoi_ks), or
 *   - a group member engine (vpn_gdoi_gm) with its own SAD and SPD: a
 *     router may be a member of several groups (departments kept apart),
 *     each with its own keys and policy, tried in the order of their
 *     crypto map entry numbers (IOS `crypto map NAME N gdoi`).
 *
 * Control plane: every UDP 848 datagram the node receives goes to
 * vpn_getvpn_node_dgram_input, which hands it to the one engine it is
 * for: a KS by the destination address (its `address ipv4`), a member by
 * the ISAKMP cookies (its phase-1 cookies; for a GROUPKEY-PUSH, RFC 6407
 * 4, its KEK SPI), so unicast and multicast rekeys of several groups on
 * one WAN address reach the right engine. Engines' datagrams leave
 * through the node's send callback, with the group's index.
 *
 * Data plane (the crypto map on the WAN interface):
 *   - outbound, vpn_getvpn_node_output: the IPv4 packet is looked up in
 *     each member group's SPD in crypto-map order (RFC 4301 5.1). The first
 *     group whose policy says protect encrypts it with its current TEK in
 *     tunnel mode with address preservation (RFC 6407 3.5.1, RFC 5374: the
 *     outer header carries the inner source and destination, so the
 *     provider routes it like the clear packet), DSCP copied (RFC 4301
 *     5.1.2.1), ECN per RFC 6040, the TBAR pseudotime block when the group
 *     uses time-based anti-replay. A `deny` line (local crypto-map ACL, or
 *     the bypass the member installs for GDOI itself) skips that group, as
 *     a deny skips a crypto map entry on IOS; what no group protects
 *     passes in clear (routing to the PE, GDOI, traffic outside the policy).
 *   - inbound, vpn_getvpn_node_input: ESP is found by SPI among every
 *     group's SAs (old and new TEKs coexist across a rekey until the old
 *     one's lifetime or GAP deactivation ends, so nothing in flight is
 *     lost), decapsulated, replay- and TBAR-checked, and the inner packet
 *     must match a permit line of that group's policy (RFC 4301 5.2 step
 *     4; a deny line's traffic goes clear, so never arrives encrypted). A clear
 *     packet that a registered group's policy says senders must protect
 *     is dropped (RFC 4301 5.2: it should have arrived encrypted), which
 *     is how traffic of an unregistered (unauthorized) member is refused.
 *     Other clear traffic passes.
 *   Every member applies the KS's selector as it is, in its direction
 *   (RFC 6407 5.4.1); the inner check also accepts the mirror, and a local
 *   deny line exempts inbound clear traffic in either direction (IOS
 *   mirrors crypto map ACLs for returning traffic). An asymmetric policy
 *   thus protects one direction only, which is why IOS guides ask for
 *   symmetric ones. Every refused packet is counted by reason and logged;
 *   none is
 *   fatal and the node's state does not change.
 *
 * Time: one deadline over everything (engines, SAD lifetimes, members'
 * registration start times); call vpn_getvpn_node_timeout when it comes.
 * Members register at their group's start_ns (the first timeout at or
 * after it), never inside _new, so a driver can create the node before
 * its sockets exist.
 *
 * Limits: one key-server group per KS address (phase 1 does not name the
 * group, so two KS engines on one address could not tell new Main Modes
 * apart); IPv4 only (GDOI TEK policies are IPv4 here). The KS's policy is
 * its ACL's lines (vpn_gdoi_tek_policy, a partial deny carried as a bypass
 * line); a decrypted packet must match one of its permit lines; the local
 * deny lines are the member's own (`match address` on its map entry).
 */
#ifndef VPN_GETVPN_H
#define VPN_GETVPN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/rng.h"
#include "common/vpn-log.h"
#include "gdoi/gdoi.h"
#include "ipsec/pkt.h"
#include "ipsec/sa.h"
#include "ipsec/spd.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VPN_GETVPN_MAX_GROUPS 16
#define VPN_GETVPN_MAX_DENY 64
/* SPD sequence numbers: local deny lines first, then the member's entries */
#define VPN_GETVPN_SPD_SEQ_DENY 1u
#define VPN_GETVPN_SPD_SEQ_GM 1000u

typedef enum vpn_getvpn_role {
    VPN_GETVPN_ROLE_KS = 1,
    VPN_GETVPN_ROLE_GM = 2,
} vpn_getvpn_role;

typedef struct vpn_getvpn_group_params {
    vpn_getvpn_role role;
    /* ROLE_KS: passed to vpn_gdoi_ks_new (which copies it; the pointers it
     * says are borrowed stay borrowed: the RSA keys must outlive the node) */
    vpn_gdoi_ks_cfg ks;
    /* ROLE_GM: passed to vpn_gdoi_gm_new; sad, spd and spd_seq are ignored
     * (the node makes the group's SAD and SPD) */
    vpn_gdoi_gm_cfg gm;
    uint32_t map_seq;          /* ROLE_GM: `crypto map NAME map_seq gdoi`; lower first */
    const vpn_spd_sel *deny;   /* ROLE_GM: the crypto map's local deny lines; copied */
    size_t n_deny;             /* <= VPN_GETVPN_MAX_DENY */
    uint64_t start_ns;         /* ROLE_GM: when to start registering */
} vpn_getvpn_group_params;

/*
 * A datagram to send from src to dst (UDP 848 both ends), from the engine
 * of group `group`, with the decrypted view for traces (NULL when the
 * datagram is not encrypted). Valid only during the call. The callback
 * must not call back into the node.
 */
typedef void (*vpn_getvpn_send_fn)(void *user, size_t group, const vpn_addr *src,
                                   const vpn_addr *dst, const uint8_t *dg, size_t len,
                                   const uint8_t *view, size_t view_len);

typedef struct vpn_getvpn_params {
    const vpn_getvpn_group_params *groups; /* copied (deny lines too) */
    size_t n_groups;                       /* 1..VPN_GETVPN_MAX_GROUPS */
    const vpn_rng *rng;                    /* borrowed: must outlive the node */
    const vpn_log *log;                    /* copied; NULL = no logging */
    vpn_getvpn_send_fn send;
    void *user;
    uint64_t now;                          /* creation time (the KS's first keys) */
} vpn_getvpn_params;

/* What the data plane did with a packet. */
typedef enum vpn_getvpn_verdict {
    VPN_GETVPN_PASS = 1,      /* unchanged: send / deliver in clear */
    VPN_GETVPN_ENCRYPTED = 2, /* pkt now holds the ESP packet to send */
    VPN_GETVPN_DECRYPTED = 3, /* pkt now holds the inner packet to deliver */
    VPN_GETVPN_DROP = 4,      /* counted (vpn_getvpn_drop) and logged */
} vpn_getvpn_verdict;

typedef enum vpn_getvpn_drop {
    VPN_GETVPN_DROP_MALFORMED = 0, /* not an IP packet, or an unusable ESP header */
    VPN_GETVPN_DROP_NO_TEK,        /* the policy says protect, no TEK to send on */
    VPN_GETVPN_DROP_ENCRYPT,       /* ESP encapsulation failed (room, lifetime, crypto) */
    VPN_GETVPN_DROP_DISCARD,       /* an SPD discard entry */
    VPN_GETVPN_DROP_UNKNOWN_SPI,   /* ESP with an SPI of no group */
    VPN_GETVPN_DROP_AUTH,          /* ICV did not verify */
    VPN_GETVPN_DROP_REPLAY,        /* counter window (RFC 4303 3.4.3) */
    VPN_GETVPN_DROP_TBAR,          /* pseudotime missing or outside the TBAR window */
    VPN_GETVPN_DROP_DECAP,         /* other ESP failures: padding, inner packet, ECN, expiry */
    VPN_GETVPN_DROP_CLEAR,         /* clear packet that the policy says must be encrypted */
    VPN_GETVPN_DROP_INNER_POLICY,  /* decrypted packet outside the group's policy */
    VPN_GETVPN_DROP_COUNT
} vpn_getvpn_drop;

/* A short name for logs and reports ("unknown SPI", ...). */
const char *vpn_getvpn_drop_name(vpn_getvpn_drop d);

typedef struct vpn_getvpn_stats {
    uint64_t out_clear, out_encrypted; /* outbound packets passed / encrypted */
    uint64_t in_clear, in_decrypted;   /* inbound packets passed / decrypted */
    uint64_t drops[VPN_GETVPN_DROP_COUNT];
    uint64_t dgrams_in;        /* UDP 848 datagrams given to the node */
    uint64_t dgrams_unclaimed; /* ... that no engine of the node was for */
    uint64_t dgrams_refused;   /* ... that the engine refused (its counters say why) */
    uint64_t dgrams_out;
} vpn_getvpn_stats;

typedef struct vpn_getvpn_node vpn_getvpn_node;

/*
 * Creates the node: every group's engine (KSs with their first keys at
 * p->now), SAD and SPD. Nothing is sent. On success the caller owns *out
 * (vpn_getvpn_node_del). Errors: VPN_ERR_INVAL (no groups, too many, a
 * missing callback or rng, a bad role, a bad deny selector, two KS groups
 * on one address), VPN_ERR_NOMEM, and the engines' errors
 * (vpn_gdoi_ks_new, vpn_gdoi_gm_new, vpn_sad_new, vpn_spd_new); on error
 * nothing is left allocated.
 */
int vpn_getvpn_node_new(vpn_getvpn_node **out, const vpn_getvpn_params *p);
/* Frees the engines, SADs (keys wiped) and SPDs. NULL is fine. */
void vpn_getvpn_node_del(vpn_getvpn_node *n);

/*
 * One UDP 848 datagram received from src to dst (a local or multicast
 * address). Returns 0 when an engine took it, VPN_ERR_NOTFOUND when no
 * engine of the node was for it (counted as unclaimed), VPN_ERR_MALFORMED
 * when it is shorter than an ISAKMP header (also unclaimed), the engine's
 * error when it refused it (counted; the engine's state is unchanged), or
 * VPN_ERR_INVAL (NULL arguments).
 */
int vpn_getvpn_node_dgram_input(vpn_getvpn_node *n, const vpn_addr *src, const vpn_addr *dst,
                                const uint8_t *dg, size_t len, uint64_t now);

/*
 * Outbound: an IP packet about to leave through the crypto-map interface.
 * The buffer should have VPN_PKT_HEADROOM / VPN_PKT_TAILROOM around it.
 * Returns a vpn_getvpn_verdict (PASS, ENCRYPTED or DROP); *why (optional)
 * receives the reason of a DROP. Returns VPN_ERR_INVAL for NULL arguments.
 */
int vpn_getvpn_node_output(vpn_getvpn_node *n, vpn_pkt *pkt, uint64_t now, vpn_getvpn_drop *why);
/*
 * Inbound: an IP packet received on the crypto-map interface. Returns a
 * vpn_getvpn_verdict (PASS, DECRYPTED or DROP), *why as above, or
 * VPN_ERR_INVAL.
 */
int vpn_getvpn_node_input(vpn_getvpn_node *n, vpn_pkt *pkt, uint64_t now, vpn_getvpn_drop *why);

/* The next time (ns) the node needs vpn_getvpn_node_timeout; UINT64_MAX = none. */
uint64_t vpn_getvpn_node_next_deadline(vpn_getvpn_node *n);
/* Runs what is due at now: registrations, retransmissions, rekeys, lifetimes. */
void vpn_getvpn_node_timeout(vpn_getvpn_node *n, uint64_t now);

/* A borrowed pointer to the counters (NULL for a NULL node). */
const vpn_getvpn_stats *vpn_getvpn_node_get_stats(const vpn_getvpn_node *n);
/* The engine contract's getter: copies the counters; zeros for a NULL node. */
void vpn_getvpn_node_stats_get(const vpn_getvpn_node *n, vpn_getvpn_stats *out);

/*
 * The node's groups, for views and key exports. Pointers stay valid until
 * vpn_getvpn_node_del; callers must not free them or feed them input
 * (that goes through the node). Each getter returns NULL when the group
 * index is out of range or the group has another role.
 */
size_t vpn_getvpn_node_n_groups(const vpn_getvpn_node *n);
vpn_getvpn_role vpn_getvpn_node_role(const vpn_getvpn_node *n, size_t group);
const vpn_gdoi_ks *vpn_getvpn_node_ks(const vpn_getvpn_node *n, size_t group);
const vpn_gdoi_gm *vpn_getvpn_node_gm(const vpn_getvpn_node *n, size_t group);
/* The member's SAD (its TEKs: vpn_sad_next iterates them). */
const vpn_sad *vpn_getvpn_node_sad(const vpn_getvpn_node *n, size_t group);
/*
 * IOS `clear crypto gdoi` on a member: member group `group` registers again
 * now (its TEKs stay until the new registration replaces them). Errors:
 * VPN_ERR_INVAL (no such member group), VPN_ERR_STATE (a registration is
 * running), the engine's.
 */
int vpn_getvpn_node_gm_restart(vpn_getvpn_node *n, size_t group, uint64_t now);
/* For tests and rekeys on demand (`crypto gdoi ks rekey`). */
vpn_gdoi_ks *vpn_getvpn_node_ks_mut(vpn_getvpn_node *n, size_t group);

#ifdef __cplusplus
}
#endif

#endif
