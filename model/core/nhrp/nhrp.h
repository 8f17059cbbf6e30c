/*
 * The NHRP engine (RFC 2332 with the DMVPN phase 3 behaviour), sans-IO.
 *
 * One vpn_nhrp per NHRP interface (IOS `interface TunnelN` with
 * `ip nhrp network-id`). It owns the NHRP cache of that interface and talks
 * to the world only through:
 *   - entry points taking `now` (nanoseconds, never going backwards):
 *     vpn_nhrp_input (an NHRP packet received, i.e. the payload of a GRE
 *     packet of protocol type 0x2001, with its outer source address),
 *     vpn_nhrp_timeout, vpn_nhrp_forwarded (the data plane forwarded a
 *     packet in and out of this NBMA network: phase 3 redirect),
 *     vpn_nhrp_resolve (ask for a destination);
 *   - vpn_nhrp_next_deadline (UINT64_MAX = nothing pending; 0 = now);
 *   - a send callback with the NBMA destination (the driver wraps the
 *     packet in GRE 0x2001 with the tunnel key and the outer IP header);
 *   - an event callback for cache changes, so a driver installs routes and
 *     brings up IPsec per peer.
 * Callbacks must not call back into the engine, except the read-only
 * vpn_nhrp_lookup / _foreach / _stats_get / _nhs_get. Data handed to a
 * callback is valid during the call only.
 *
 * Roles (both may be on):
 *   NHC (spoke, `ip nhrp nhs`): registers its tunnel address with every NHS
 *   at start (Registration Request, unique flag unless reg_no_unique,
 *   holding time holdtime_s), refreshes every reg_interval_s (IOS: one
 *   third of the holding time, 2400 s for the default 7200 s: the
 *   flexvpn-ios-notes say "registrations every holdtime/3"; `ip nhrp
 *   registration timeout` overrides it). Unanswered requests are resent
 *   after 1, 2, 4, ... s (at most 64 s); after three unanswered sends the
 *   NHS is reported down and retries go on.
 *   NHS (hub, nhs_role): keeps one dynamic entry per registered client
 *   until its holding time runs out; a registration for an address
 *   registered (with the unique flag) from another NBMA address is
 *   refused with CIE code 14 and the old entry stays; a non-unique one
 *   replaces it, and the hub purges the clients that resolved through the
 *   old binding (Purge Request, 5.2.5) so they resolve again.
 * Phase 3 (`ip nhrp redirect` on the hub, `ip nhrp shortcut` on spokes):
 *   the hub calls vpn_nhrp_forwarded for a data packet that came in from
 *   NBMA address X and goes out on the same network-id; the engine sends
 *   X a Traffic Indication (at most one per (X, destination) per
 *   redirect_timeout_s, IOS `ip nhrp redirect timeout`, default 8 s). The
 *   spoke answers with a Resolution Request for the packet's destination,
 *   sent to its NHS; the hub forwards it (hop count decremented, its
 *   address appended to the Forward Transit NHS Record) to the spoke that
 *   owns the destination (the route callback names the next hop; the
 *   cache maps it to an NBMA address), which answers directly with a
 *   Resolution Reply (the prefix its route covers, its own NBMA address)
 *   and caches the requester. The requester installs the shortcut
 *   (SHORTCUT_INSTALLED: prefix via the responder's tunnel address).
 * Cache: static entries (`ip nhrp map`), dynamic (registrations), cached
 *   (peers learnt from resolution), shortcut (prefixes learnt from
 *   resolution replies). Lookups are longest-prefix matches by hashing
 *   once per prefix length in use (O(L) with L the number of distinct
 *   prefix lengths, independent of the number of entries); expiry uses a
 *   heap (O(log n)).
 * Security: packets received with another network-id are dropped and
 *   counted; with `ip nhrp authentication` every packet but the Error
 *   Indication (which may carry no extensions, 5.2.7) must carry the
 *   authentication extension with that string, else it is refused
 *   (counted, Error Indication code 11) and nothing changes. Error
 *   Indications received only count and log.
 * Malformed input is dropped, counted and logged, never fatal; decoding
 * failures for which RFC 2332 asks for it get an Error Indication
 * (unrecognized compulsory extension: code 1; hop count 0 on a packet
 * to forward: code 15; a loop in the transit record: code 3).
 *
 * Not implemented: NAT extension, preference values, the `used` refresh
 * of shortcuts before expiry, resolution through a chain of NHSs other
 * than hub -> spoke, purge retransmission.
 */
#ifndef VPN_NHRP_H
#define VPN_NHRP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/alloc.h"
#include "common/rng.h"
#include "common/vpn-log.h"
#include "nhrp/nhrp-codec.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VPN_NHRP_DEFAULT_HOLDTIME 7200u   /* IOS `ip nhrp holdtime` */
#define VPN_NHRP_DEFAULT_REDIRECT_S 8u    /* IOS `ip nhrp redirect timeout` */
#define VPN_NHRP_DEFAULT_MTU 1400u        /* CIE MTU: the usual DMVPN `ip mtu` */
#define VPN_NHRP_DEFAULT_MAX_ENTRIES 65536u
#define VPN_NHRP_AUTH_IOS_MAX 8u          /* IOS keeps 8 characters */
#define VPN_NHRP_MAX_NHS 8
#define VPN_NHRP_MAX_PENDING 64

typedef struct vpn_nhrp vpn_nhrp;

/* `ip nhrp nhs A [nbma B] [multicast]` (or `ip nhrp map A B` + `nhs A`). */
typedef struct vpn_nhrp_nhs_cfg {
    vpn_addr proto;
    vpn_addr nbma;
    bool multicast;
} vpn_nhrp_nhs_cfg;

/* `ip nhrp map A B`: a static entry (A a host; prefixes allowed here). */
typedef struct vpn_nhrp_map_cfg {
    vpn_prefix proto;
    vpn_addr nbma;
} vpn_nhrp_map_cfg;

/* What the routing table says about a destination (route callback). */
typedef enum vpn_nhrp_route_kind {
    VPN_NHRP_ROUTE_NONE = 0, /* no route */
    VPN_NHRP_ROUTE_LOCAL,    /* we are the egress (a route not via this network) */
    VPN_NHRP_ROUTE_TUNNEL,   /* next hop on this NBMA network */
} vpn_nhrp_route_kind;

typedef struct vpn_nhrp_route {
    vpn_nhrp_route_kind kind;
    vpn_addr next_hop;  /* TUNNEL: the next hop's tunnel (protocol) address */
    uint8_t prefix_len; /* the matching route's prefix length */
} vpn_nhrp_route;

typedef int (*vpn_nhrp_route_fn)(void *user, const vpn_addr *dst, vpn_nhrp_route *out);
typedef void (*vpn_nhrp_send_fn)(void *user, const vpn_addr *nbma_dst, const uint8_t *pkt,
                                 size_t len);

typedef enum vpn_nhrp_entry_type {
    VPN_NHRP_ENTRY_STATIC = 1, /* ip nhrp map */
    VPN_NHRP_ENTRY_DYNAMIC,    /* registered with us (we are its NHS) */
    VPN_NHRP_ENTRY_CACHED,     /* a peer learnt from a resolution */
    VPN_NHRP_ENTRY_SHORTCUT,   /* a prefix learnt from a resolution reply */
} vpn_nhrp_entry_type;

typedef enum vpn_nhrp_event_type {
    VPN_NHRP_EV_ENTRY_ADDED = 1,
    VPN_NHRP_EV_ENTRY_UPDATED,   /* NBMA address changed */
    VPN_NHRP_EV_ENTRY_REMOVED,   /* purged or replaced */
    VPN_NHRP_EV_ENTRY_EXPIRED,
    VPN_NHRP_EV_SHORTCUT_INSTALLED,
    VPN_NHRP_EV_SHORTCUT_REMOVED, /* purged or expired */
    VPN_NHRP_EV_REDIRECT_SENT,    /* proto: data packet's destination; nbma: where sent */
    VPN_NHRP_EV_REDIRECT_RECEIVED,/* proto: destination to resolve; nbma: the hub */
    VPN_NHRP_EV_NHS_UP,
    VPN_NHRP_EV_NHS_DOWN,
    VPN_NHRP_EV_REGISTRATION_REFUSED, /* code: the CIE code (ours refused, or we refused) */
    VPN_NHRP_EV_RESOLUTION_FAILED,    /* code: CIE code, 0 = no answer */
} vpn_nhrp_event_type;

typedef struct vpn_nhrp_event {
    vpn_nhrp_event_type type;
    vpn_nhrp_entry_type entry_type; /* entry events */
    vpn_prefix proto;
    vpn_addr nbma;
    vpn_addr next_hop; /* the tunnel address to send to (shortcuts: the responder) */
    uint8_t code;
} vpn_nhrp_event;
typedef void (*vpn_nhrp_event_fn)(void *user, const vpn_nhrp_event *ev);

typedef struct vpn_nhrp_params {
    const char *ifname;        /* "Tunnel0" for show; NULL = "Tunnel0" */
    vpn_addr nbma;             /* our NBMA address (tunnel source) */
    vpn_addr proto;            /* our tunnel address */
    uint8_t proto_prefix_len;  /* tunnel subnet (show) */
    uint32_t network_id;       /* ip nhrp network-id */
    const char *auth;          /* ip nhrp authentication; NULL = none; <= 64 octets */
    uint32_t holdtime_s;       /* 0 = VPN_NHRP_DEFAULT_HOLDTIME */
    uint32_t reg_interval_s;   /* 0 = holdtime / 3 */
    bool reg_no_unique;        /* ip nhrp registration no-unique */
    uint16_t mtu;              /* 0 = VPN_NHRP_DEFAULT_MTU */
    bool nhs_role;             /* accept registrations (a hub) */
    bool redirect;             /* ip nhrp redirect */
    uint32_t redirect_timeout_s; /* 0 = VPN_NHRP_DEFAULT_REDIRECT_S */
    bool shortcut;             /* ip nhrp shortcut */
    const vpn_nhrp_nhs_cfg *nhs; /* copied */
    size_t n_nhs;
    const vpn_nhrp_map_cfg *maps; /* copied */
    size_t n_maps;
    const vpn_addr *mcast;     /* ip nhrp map multicast A; copied */
    size_t n_mcast;
    bool mcast_dynamic;        /* ip nhrp map multicast dynamic */
    size_t max_entries;        /* 0 = VPN_NHRP_DEFAULT_MAX_ENTRIES */
    const vpn_rng *rng;        /* request IDs start at a random value; NULL = 1 */
    vpn_nhrp_send_fn send;
    vpn_nhrp_event_fn event;   /* may be NULL */
    vpn_nhrp_route_fn route;   /* may be NULL: the cache alone decides */
    void *user;
    vpn_log log;
    /* Gates the redirect rate-limit table (24 KB, allocated by
     * vpn_nhrp_new only with `redirect`) and each packet's send buffer
     * (VPN_NHRP_MAX_PKT, freed once sent); zero: always allowed. */
    vpn_alloc alloc;
} vpn_nhrp_params;

typedef struct vpn_nhrp_stats {
    uint64_t rx[VPN_NHRP_TYPE_MAX + 1], tx[VPN_NHRP_TYPE_MAX + 1];
    uint64_t malformed;       /* could not be decoded (bad checksum included) */
    uint64_t bad_checksum;
    uint64_t auth_failed;
    uint64_t netid_mismatch;
    uint64_t unknown_ext;
    uint64_t hop_exceeded, loops;
    uint64_t ignored;         /* well-formed but not for us / unexpected */
    uint64_t reg_accepted, reg_refused;  /* as NHS */
    uint64_t redirects_sent, redirects_limited;
    uint64_t resolutions_forwarded, resolutions_answered, resolutions_failed;
    uint64_t expired;
    uint64_t lookups, lookup_probes; /* entries examined by lookups */
    uint64_t send_failed;
} vpn_nhrp_stats;

/*
 * Creates an engine (params copied; strings too). The caller owns *out.
 * Registrations to the NHSs are due at once (next deadline 0).
 * Errors: VPN_ERR_INVAL (no send callback, our addresses missing or of
 * mixed families, authentication string too long, a map or NHS of
 * another family), VPN_ERR_NOMEM.
 */
int vpn_nhrp_new(vpn_nhrp **out, const vpn_nhrp_params *params);
void vpn_nhrp_del(vpn_nhrp *n);

/*
 * An NHRP packet received on network network_id from NBMA address src
 * (the outer source). Never fails on bad input: 0 when processed, or the
 * negative code of why it was dropped (VPN_ERR_MALFORMED / _TRUNCATED /
 * _UNSUPPORTED / _AUTH (checksum or authentication) / _POLICY (another
 * network-id, refused registration) / _NOTFOUND (a reply we did not ask
 * for) / _STATE), already counted and logged.
 */
int vpn_nhrp_input(vpn_nhrp *n, uint64_t now, uint32_t network_id, const vpn_addr *src,
                   const uint8_t *pkt, size_t len);

/* Runs timers due at now: registrations, retransmissions, expiry. */
void vpn_nhrp_timeout(vpn_nhrp *n, uint64_t now);
uint64_t vpn_nhrp_next_deadline(const vpn_nhrp *n);

/*
 * The data plane forwarded the IP packet ip (len octets, the start is
 * enough) that came in from NBMA address in_nbma on network in_netid and
 * leaves on out_netid. With `ip nhrp redirect`, sends the Traffic
 * Indication. Returns 0 if one was sent; VPN_ERR_STATE (redirect off,
 * different networks), VPN_ERR_LIMIT (rate-limited), VPN_ERR_MALFORMED
 * (not an IP header).
 */
int vpn_nhrp_forwarded(vpn_nhrp *n, uint64_t now, const vpn_addr *in_nbma, uint32_t in_netid,
                       uint32_t out_netid, const uint8_t *ip, size_t len);

/*
 * Sends a Resolution Request for dst to the NHS (unless one is pending
 * or a shortcut/cached entry covers dst already: VPN_ERR_EXISTS).
 * Errors: VPN_ERR_EXISTS, VPN_ERR_STATE (no NHS), VPN_ERR_LIMIT (too many
 * pending), VPN_ERR_INVAL.
 */
int vpn_nhrp_resolve(vpn_nhrp *n, uint64_t now, const vpn_addr *dst);

typedef struct vpn_nhrp_entry_info {
    vpn_nhrp_entry_type type;
    vpn_prefix proto;
    vpn_addr nbma;
    vpn_addr next_hop;
    uint64_t created;
    uint64_t expires;   /* UINT64_MAX: never */
    bool unique;
    bool nhs;           /* an NHS's entry */
} vpn_nhrp_entry_info;

/*
 * Longest-prefix match of dst over the cache. Errors: VPN_ERR_NOTFOUND.
 * (Counts lookups and entries examined in the stats.)
 */
int vpn_nhrp_lookup(vpn_nhrp *n, const vpn_addr *dst, vpn_nhrp_entry_info *out);
/* Calls fn for every entry, oldest first. */
void vpn_nhrp_foreach(const vpn_nhrp *n, void (*fn)(void *user, const vpn_nhrp_entry_info *e),
                      void *user);
size_t vpn_nhrp_entry_count(const vpn_nhrp *n);

/*
 * Where a multicast goes (`ip nhrp map multicast A` entries, NHSs with
 * `multicast`, and with `dynamic` every registered client): writes up to
 * cap distinct NBMA addresses into out and returns how many there are.
 */
size_t vpn_nhrp_multicast_nbma(const vpn_nhrp *n, vpn_addr *out, size_t cap);

typedef struct vpn_nhrp_nhs_info {
    vpn_addr proto, nbma;
    bool up;
    uint64_t up_since;   /* time of the state change */
    unsigned unanswered;
} vpn_nhrp_nhs_info;
size_t vpn_nhrp_nhs_count(const vpn_nhrp *n);
/* Errors: VPN_ERR_NOTFOUND. */
int vpn_nhrp_nhs_get(const vpn_nhrp *n, size_t i, vpn_nhrp_nhs_info *out);

/* The engine contract's getter: copies the counters; zeros for a NULL n. */
void vpn_nhrp_stats_get(const vpn_nhrp *n, vpn_nhrp_stats *out);
const vpn_nhrp_params *vpn_nhrp_params_get(const vpn_nhrp *n);

const char *vpn_nhrp_entry_type_name(vpn_nhrp_entry_type t); /* "static", "dynamic", ... */

#ifdef __cplusplus
}
#endif

#endif
