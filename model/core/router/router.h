/*
 * A node's VPN router: the one C layer between the protocol engines and a
 * driver's I/O (the ns-3 shim, vpnd, the in-memory tests). It owns the
 * node's IKEv2 engine, its SAD and its tunnel interfaces, and turns what
 * the engine decides into the data plane:
 *
 *   - CHILD_UP installs the inbound and outbound SA of a CHILD_SA
 *     (vpn_ikev2_child_sa_configs), with the ipsec profile's lifetime in
 *     kilobytes as the SAs' byte limits and its seconds as their time
 *     limit (RFC 4301 4.4.2.1);
 *   - a rekey hands the tunnel over to the new pair and keeps the old
 *     inbound SA for one grace period (below);
 *   - CHILD_DOWN removes the pair;
 *   - SA soft limits (bytes, packets, sequence numbers) ask the engine to
 *     rekey the CHILD_SA, hard limits to delete it (RFC 7296 2.8); the
 *     engine itself rekeys by time;
 *   - every packet that passes a CHILD_SA is reported to the engine
 *     (vpn_ikev2_child_activity), which is what on-demand and periodic DPD
 *     go by (RFC 7296 2.4);
 *   - traffic into a tunnel that has no SA brings IKE up (IOS `tunnel
 *     protection` on demand), at most once per hold-down; when its IKE SA
 *     is up but its CHILD_SA went (deleted while the IKE SA stayed), a new
 *     CHILD_SA is made under it (CREATE_CHILD_SA, RFC 7296 1.3.1).
 *
 * Rekey grace (one policy for every driver). RFC 7296 2.8: the initiator
 * of a CHILD_SA rekey installs the new pair when the CREATE_CHILD_SA
 * response arrives and then deletes the old one; the responder has the new
 * pair one round trip earlier, before the initiator can receive on it.
 * So:
 *   - the rekey initiator sends on the new SA from its CHILD_UP on;
 *   - the rekey responder keeps sending on the old SA until the initiator's
 *     Delete of it arrives (CHILD_DOWN with reason REKEYED), then switches
 *     (a packet on the new SA sent sooner can arrive before the initiator
 *     has the SA, and is lost: seen against strongSwan);
 *   - at CHILD_DOWN(REKEYED) the old pair stops sending at once, and its
 *     inbound SA stays for rekey_grace_ns (default 2 s) so that packets the
 *     peer sent on it just before the Delete, still queued or reordered in
 *     the network, are delivered; then it is removed.
 * Other CHILD_DOWN reasons (deleted, expired, DPD) remove the pair at once.
 *
 * Demultiplexing (RFC 7296 2.23, RFC 3948 2.2/2.3): UDP to port 500 is IKE,
 * IKEv2 or, by the version in its header (RFC 2408 3.1), IKEv1 phase 1
 * (the router's own phase-1 table, "IKEv1 phase 1" below); UDP to port 4500 is told apart with vpn_natt_classify: non-ESP
 * marker + IKE, ESP in UDP, or a NAT-keepalive; IP protocol 50 is ESP.
 *
 * Sans-IO: every verb takes `now` (ns, never going backwards); output goes
 * through the callbacks in vpn_router_params: UDP datagrams to send, whole
 * ESP packets to send, inner packets to deliver to a tunnel interface,
 * events. vpn_router_next_deadline says when vpn_router_timeout is due.
 * Callbacks are made from inside the verbs and must not call the router's
 * verbs (the getters and show functions are fine); data they are handed is
 * valid during the call only.
 *
 * Handles: tunnels are named by the id vpn_router_tunnel_add returns (its
 * index, also the child policy's tag); CHILD_SAs by the engine's child id;
 * single SAs by vpn_router_sa_ref (SPI and direction). No pointer into the
 * router or its SAD is handed out, except the read-only SA view of the
 * SA_INSTALLED event (for key export) during that call.
 *
 * Malformed or unexpected input is dropped: counted (vpn_router_stats),
 * logged at debug level, reported as a DROP event, and returned as a
 * vpn_router_drop reason; it is never a VPN_ERR_* a driver could take as
 * fatal, and it leaves every state as it was.
 *
 * GET VPN (GDOI, RFC 6407): vpn_router_getvpn_attach gives the router a
 * node's key-server and group-member groups (getvpn/getvpn.h). UDP to port
 * 848 goes to them; their datagrams leave through send_udp (port 848 both
 * ends); their timers are in vpn_router_next_deadline. The crypto map on
 * the WAN interface is vpn_router_cryptomap_output / _input; ESP that
 * vpn_router_ip_input receives with an SPI the SAD does not hold is tried
 * against the groups' TEKs, and what they decrypt is delivered with
 * tunnel VPN_ROUTER_CRYPTO_MAP.
 *
 * Extension points, for what comes next: further engines get their own
 * instance fields and demux branches in vpn_router_udp_input; further
 * attachments get their own vpn_router_tunnel_mode and an output verb of
 * the same shape as vpn_router_tunnel_output.
 */
#ifndef VPN_ROUTER_H
#define VPN_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/rng.h"
#include "common/vpn-log.h"
#include "conf/conf.h"
#include "getvpn/getvpn.h"
#include "ikev2/ikev2-engine.h"
#include "ipsec/esp.h"
#include "ipsec/pkt.h"
#include "ipsec/sa.h"
#include "nhrp/nhrp.h"
#include "show/show.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VPN_ROUTER_TUNNELS_MAX 64
#define VPN_ROUTER_REKEY_GRACE_NS 2000000000ull   /* 2 s, see above */
#define VPN_ROUTER_ON_DEMAND_HOLDDOWN_NS 1000000000ull /* IOS: once a second */
#define VPN_ROUTER_NO_TUNNEL UINT32_MAX
/* The `tunnel` of packets the crypto map (GET VPN) decrypted. */
#define VPN_ROUTER_CRYPTO_MAP (UINT32_MAX - 1)

/* Why a packet or datagram was dropped. Drivers trace these. */
typedef enum vpn_router_drop {
    VPN_ROUTER_DROP_NONE = 0,       /* not dropped */
    VPN_ROUTER_DROP_ARGS,           /* a NULL or unknown argument (tunnel id, ...) */
    VPN_ROUTER_DROP_NOT_IP,         /* tunnel input that is no IPv4/IPv6 packet */
    VPN_ROUTER_DROP_OVERSIZE,       /* larger than the buffer can protect */
    VPN_ROUTER_DROP_NO_SA,          /* the tunnel has no outbound SA (yet) */
    VPN_ROUTER_DROP_GRE,            /* GRE refused the packet (either way) */
    VPN_ROUTER_DROP_ENCAP,          /* ESP encapsulation refused it (expired SA, ...) */
    VPN_ROUTER_DROP_SEND,           /* the driver could not send it */
    VPN_ROUTER_DROP_UDP_SHORT,      /* UDP 4500 payload too short to classify */
    VPN_ROUTER_DROP_UDP_PORT,       /* UDP to a port no engine here serves */
    VPN_ROUTER_DROP_ESP_MALFORMED,  /* ESP: bad outer headers or trailer */
    VPN_ROUTER_DROP_ESP_NO_SA,      /* ESP: unknown SPI */
    VPN_ROUTER_DROP_ESP_REPLAY,     /* ESP: replayed or too old */
    VPN_ROUTER_DROP_ESP_AUTH,       /* ESP: ICV did not verify */
    VPN_ROUTER_DROP_ESP_POLICY,     /* ESP: inner packet outside the selectors, ECN */
    VPN_ROUTER_DROP_ESP_EXPIRED,    /* ESP: the SA's hard lifetime is over */
    VPN_ROUTER_DROP_ESP_OTHER,      /* ESP: another refusal (crypto library, ...) */
    VPN_ROUTER_DROP_NO_TUNNEL,      /* decrypted, but the SA belongs to no tunnel */
    VPN_ROUTER_DROP_DELIVER,        /* the driver could not deliver the inner packet */
    VPN_ROUTER_DROP_NO_NBMA,        /* mGRE: no NHRP entry for the destination or next hop */
    VPN_ROUTER_DROP_GDOI_UNCLAIMED, /* UDP 848 for no GDOI group here (short, unknown cookies) */
    VPN_ROUTER_DROP_GDOI_REFUSED,   /* UDP 848 a GDOI engine refused (its counters say why) */
    VPN_ROUTER_DROP_CRYPTO_MAP,     /* the crypto map refused a packet (vpn_getvpn_drop says why) */
    VPN_ROUTER_DROP_IKEV1,          /* UDP 500 IKEv1: no ISAKMP header, for no SA, or refused */
    VPN_ROUTER_DROP_COUNT
} vpn_router_drop;

/* A short name ("esp: unknown SPI"); "?" for values out of range. */
const char *vpn_router_drop_name(vpn_router_drop d);

/* One SA across the C/driver boundary: its SPI and direction. */
typedef struct vpn_router_sa_ref {
    uint32_t spi;
    unsigned dir; /* VPN_SA_IN or VPN_SA_OUT */
} vpn_router_sa_ref;

/* ---- what the router hands the driver -------------------------------------------- */

/* A whole ESP packet to send, outer IP header first (as vpn_esp_encap made
 * it). A driver whose socket writes the IP (and UDP) header itself sends
 * from data + l4_off (+ 8 with udp_encap), from src to dst. */
typedef struct vpn_router_esp_out {
    uint32_t tunnel;
    const uint8_t *data;
    size_t len;
    size_t l4_off;          /* length of the outer IP header */
    bool udp_encap;         /* ESP in UDP (RFC 3948): sport -> dport */
    vpn_addr src, dst;
    uint16_t sport, dport;
} vpn_router_esp_out;

typedef enum vpn_router_event_type {
    VPN_ROUTER_EV_IKEV2 = 1,   /* an IKEv2 engine event, after the router acted on it */
    VPN_ROUTER_EV_SA_INSTALLED, /* one SA added to the SAD (key export); tunnel
                                 * VPN_ROUTER_CRYPTO_MAP: a GET VPN TEK a group
                                 * installed (child_id 0), once per SPI */
    VPN_ROUTER_EV_SA_REMOVED,   /* one SA removed */
    VPN_ROUTER_EV_INITIATED,    /* the router started IKE for a tunnel (err: the result) */
    VPN_ROUTER_EV_DROP,         /* a packet was dropped (drop, tunnel, spi) */
    VPN_ROUTER_EV_NHRP,         /* an mGRE tunnel's NHRP engine event (nhrp), after the
                                 * router acted on it: SHORTCUT_INSTALLED / _REMOVED tell
                                 * the driver to add / remove the route "H" (nhrp->proto
                                 * via nhrp->next_hop into the tunnel) */
    VPN_ROUTER_EV_PEER_DOWN,    /* mGRE: a peer's SAs were torn down because no NHRP
                                 * entry refers to it any more (peer) */
    VPN_ROUTER_EV_VA_UP,        /* virtual template: Virtual-Access<va> cloned for peer */
    VPN_ROUTER_EV_VA_DOWN,      /* virtual template: Virtual-Access<va> of peer torn down
                                 * (its IKE SA went) */
    VPN_ROUTER_EV_KEY_LINE,     /* a Wireshark key line (key_table, key_line) for the
                                 * driver's key files: no driver formats keys itself */
} vpn_router_event_type;

/* Wireshark's key tables; vpn_router_key_table_name gives the file name
 * (in Wireshark's profile folder) of each. */
typedef enum vpn_router_key_table {
    VPN_ROUTER_KEYS_ESP_SA = 1,  /* esp_sa (ipsec/wskeys.h) */
    VPN_ROUTER_KEYS_IKEV1,       /* ikev1_decryption_table */
    VPN_ROUTER_KEYS_IKEV2,       /* ikev2_decryption_table */
} vpn_router_key_table;

/* "esp_sa", "ikev1_decryption_table", ...; NULL for values out of range. */
const char *vpn_router_key_table_name(vpn_router_key_table t);

typedef struct vpn_router_event {
    vpn_router_event_type type;
    uint32_t tunnel;             /* VPN_ROUTER_NO_TUNNEL when none */
    const vpn_ikev2_event *ike;  /* IKEV2 */
    uint32_t child_id;           /* SA_*: the CHILD_SA (0 for manual SAs) */
    vpn_router_sa_ref sa;        /* SA_*, DROP (spi 0 if none) */
    const vpn_sa *sa_view;       /* SA_INSTALLED: read-only, during the call only */
    vpn_router_drop drop;        /* DROP */
    int err;                     /* INITIATED: 0 or the VPN_ERR_* of vpn_ikev2_initiate */
    const vpn_nhrp_event *nhrp;  /* NHRP */
    vpn_addr peer;               /* INITIATED (mGRE) and PEER_DOWN: the NBMA address */
    uint32_t va;                 /* VA_UP, VA_DOWN: the Virtual-Access number */
    vpn_router_key_table key_table; /* KEY_LINE */
    const char *key_line;        /* KEY_LINE: one line without newline, during the call only */
} vpn_router_event;

typedef struct vpn_router_params {
    const vpn_conf *conf;  /* borrowed, must outlive the router; NULL: no IKE (manual SAs only) */
    vpn_rng rng;           /* the IKEv2 engine's randomness */
    vpn_rng sad_rng;       /* the SAD's (IVs, salts); fill NULL: rng */
    vpn_log log;
    const char *name;      /* in logs; NULL: the hostname, else "router" */

    /* A UDP datagram for the network (IKE, NAT-keepalive), whole payload. */
    void (*send_udp)(void *user, const vpn_ikev2_dgram *d);
    /* An ESP packet; return false when it could not be sent (counted). */
    bool (*send_esp)(void *user, const vpn_router_esp_out *o);
    /* An inner packet out of tunnel `tunnel`; false when it could not be
     * delivered (counted). */
    bool (*deliver)(void *user, uint32_t tunnel, const uint8_t *data, size_t len);
    /* Events (optional). */
    void (*event)(void *user, const vpn_router_event *ev);
    /* UDP this router has no engine for (ports other than 500, 4500 and,
     * with GET VPN, 848; 500 when the router has no conf): optional;
     * without it such datagrams are dropped as UDP_PORT. */
    void (*udp_other)(void *user, const vpn_ikev2_endpoint *local, const vpn_ikev2_endpoint *remote,
                      const uint8_t *data, size_t len);
    /* mGRE tunnels: what the driver's routing table says about dst (the
     * NHRP engine's route callback, nhrp.h; TUNNEL means "out of this
     * tunnel, to next_hop"). Optional: without it the NHRP cache alone
     * decides and the hub sends no redirects. */
    int (*route)(void *user, uint32_t tunnel, const vpn_addr *dst, vpn_nhrp_route *out);
    /* GET VPN: every GDOI datagram a group sent (after send_udp), with
     * its decrypted view for traces (view NULL when it was sent in clear).
     * Optional. */
    void (*gdoi_sent)(void *user, const vpn_addr *src, const vpn_addr *dst, const uint8_t *dg, size_t len,
                      const uint8_t *view, size_t view_len);
    /* Traces (issue 18): the inner packet (IP, the tunnel's payload) of
     * every ESP packet a VTI, GRE/IPsec or access tunnel sends or delivers
     * under an SA whose algorithms Wireshark cannot decrypt
     * (vpn_wskeys_sa_decryptable false, ipsec/wskeys.h): the driver writes
     * it to the decrypted view, as it writes gdoi_sent's view. outbound:
     * sent (before encryption), else received (after decryption). data is
     * valid during the call only. Optional. */
    void (*esp_plain)(void *user, uint32_t tunnel, bool outbound, const uint8_t *data, size_t len);
    /* The same for IKEv2 messages: each encrypted message under an IKE SA
     * Wireshark cannot decrypt, unencrypted and framed as an IP/UDP
     * datagram (vpn_ikev2_params.ike_plain). Optional. */
    void (*ike_plain)(void *user, uint32_t ike_sa_id, bool outbound, const uint8_t *dgram, size_t len);
    void *user;

    uint64_t rekey_grace_ns;        /* 0: VPN_ROUTER_REKEY_GRACE_NS */
    uint64_t on_demand_holddown_ns; /* 0: VPN_ROUTER_ON_DEMAND_HOLDDOWN_NS */
    /* Passed to the IKEv2 engine (see vpn_ikev2_params). */
    uint64_t rto_initial_ns, rto_max_ns;
    unsigned retries;
    int64_t unix_time_offset_s;
    bool no_rfc7427;
    /* Remote access: the EAP backend (RADIUS passthrough), as
     * vpn_ikev2_params.eap; NULL: the local user database. Borrowed. */
    const struct vpn_ikev2_eap_backend *eap;
    /* Emit KEY_LINE events (Wireshark key export); off: none are made.
     * One line per SA and direction (esp_sa: the router's SAs at install,
     * GET VPN TEKs when a group installs them), per IKE SA
     * (ikev2_decryption_table: IKE_UP, IKE_REKEYED, or FAILED once keys
     * existed), per IKEv1 phase-1 SA (ikev1_decryption_table: crypto
     * isakmp and GDOI registrations and COOP, once its keys exist). */
    bool key_lines;
} vpn_router_params;

/* Zeroes p: every default, no callbacks. */
void vpn_router_params_init(vpn_router_params *p);

typedef struct vpn_router vpn_router;

/*
 * Creates a router: its SAD and, with a conf, its IKEv2 engine. params is
 * copied (conf and the RNGs' contexts are borrowed). On success *out is the
 * caller's (vpn_router_del).
 * Errors: VPN_ERR_INVAL (no out, no send_esp or deliver; a conf without
 * send_udp; no RNG), VPN_ERR_NOMEM, the engine's errors.
 */
int vpn_router_new(vpn_router **out, const vpn_router_params *params);

/* Frees everything, wiping keys; no callbacks are made. NULL is fine. */
void vpn_router_del(vpn_router *r);

/* ---- tunnel interfaces ------------------------------------------------------------- */

typedef enum vpn_router_tunnel_mode {
    /* `tunnel mode gre ip` + tunnel protection: GRE (RFC 2784) between the
     * tunnel ends, protected by an SA whose selectors are "permit 47" from
     * source to destination (IOS's IPSEC FLOW), in the transform set's mode. */
    VPN_ROUTER_TUNNEL_GRE_IPSEC = 1,
    /* `tunnel mode ipsec ipv4`: ESP tunnel mode, any/any selectors. */
    VPN_ROUTER_TUNNEL_VTI = 2,
    /* `tunnel mode gre multipoint` (DMVPN): one interface, many peers, each
     * known by its NBMA address from the interface's NHRP engine (RFC 2332);
     * with tunnel protection one IKE SA and one transport-mode CHILD_SA per
     * peer (permit 47 host src host peer), brought up on demand and torn
     * down when no NHRP entry refers to the peer any more. See the mGRE
     * section below. */
    VPN_ROUTER_TUNNEL_MGRE = 3,
    /* `interface Virtual-Template N type tunnel` + `virtual-template N` in
     * the IKEv2 profile (FlexVPN hub, remote access): one interface, any
     * number of peers, none known in advance (dst is ignored). Each peer's
     * CHILD_SA is tunnel mode, IPv4 any/any as a VTI's, which the engine
     * narrows to the address it assigned from a pool (RFC 7296 2.9, 3.15);
     * IOS clones a Virtual-Access interface per session, here the sessions
     * share the one interface. Outbound, the CHILD_SA whose remote selectors
     * hold the inner destination carries the packet (the narrowest range
     * wins, so a client's /32 beats a full-tunnel peer); no CHILD_SA: dropped
     * as NO_SA (a hub never initiates towards a client). Inbound, the SA's
     * selectors already refuse a source the client was not given. */
    VPN_ROUTER_TUNNEL_ACCESS = 4,
} vpn_router_tunnel_mode;

typedef struct vpn_router_tunnel_config {
    const char *name;          /* "Tunnel0" (copied; NULL: "Tunnel<id>") */
    vpn_router_tunnel_mode mode;
    vpn_addr src, dst;         /* outer endpoints, same family (ACCESS: dst ignored) */
    bool has_key;              /* GRE key (RFC 2890) */
    uint32_t key;
    const char *ipsec_profile; /* tunnel protection ipsec profile (copied) */
    bool initiate;             /* this end brings IKE up (at start and on demand) */
    bool initiate_at_start;    /* ... already at vpn_router_start */
    /* MGRE: the NHRP engine's parameters (nhrp-conf.h builds them from the
     * IOS lines); copied. The router sets send, event, route and user (and
     * log, rng, ifname when NULL). dst: VPN_AF_NONE or the unspecified
     * address for a multipoint tunnel; an address (a FlexVPN spoke's
     * point-to-point Tunnel0 with NHRP) is where its multicast goes,
     * beside the NHRP multicast list (vpn_router_mgre_output). */
    const vpn_nhrp_params *nhrp;
    /* MGRE: FlexVPN's `interface Virtual-Template N type tunnel` (N here;
     * 0: none). Every peer whose IKE SA brings up a CHILD_SA on this
     * tunnel, NHSs excepted, gets a Virtual-Access clone (dVTI; see the
     * virtual template section below). A tunnel without NHSs (the hub)
     * then never initiates IKE: spokes come to it. */
    uint32_t virtual_template;
    /* VTI: `tunnel mode ipsec dual-overlay`: the child policy offers ::/0
     * beside 0.0.0.0/0, IPv6 inner packets ride the same CHILD_SA (a
     * remote-access client then asks for an IPv6 address too). ACCESS
     * tunnels always carry both families. */
    bool dual_overlay;
} vpn_router_tunnel_config;

/*
 * Adds a tunnel interface and registers its child policy with the engine
 * (GRE: permit 47 host src host dst, vpn_router_gre_policy; VTI:
 * vpn_ikev2_policy_vti), so the node answers its peer from now on. *id
 * receives the tunnel's handle.
 * Errors: VPN_ERR_INVAL (mode, addresses), VPN_ERR_LIMIT, VPN_ERR_NOMEM,
 * and for a router with IKE VPN_ERR_NOTFOUND / VPN_ERR_POLICY (the ipsec
 * profile is missing or unusable): configuration errors, reported once.
 */
int vpn_router_tunnel_add(vpn_router *r, const vpn_router_tunnel_config *cfg, uint32_t *id);

/*
 * The child policy of a GRE/IPsec tunnel (IOS's "permit 47 host SRC host
 * DST"): selectors for protocol 47 between the two tunnel ends, peers =
 * dst alone, the transform set's mode. Strings are borrowed.
 */
void vpn_router_gre_policy(vpn_ikev2_policy *pol, const char *ipsec_profile, const vpn_addr *src,
                           const vpn_addr *dst, uint32_t tag);

/* Starts the tunnels that initiate at start. Errors: VPN_ERR_INVAL. */
int vpn_router_start(vpn_router *r, uint64_t now);

/* Initiates IKE for a tunnel now (a management command). Errors: those of
 * vpn_ikev2_initiate, VPN_ERR_INVAL (no IKE, unknown tunnel). */
int vpn_router_tunnel_initiate(vpn_router *r, uint64_t now, uint32_t tunnel);

/*
 * One inner IP packet routed into a tunnel: GRE (GRE/IPsec), ESP with the
 * tunnel's outbound SA, then send_esp. pkt (headroom and tailroom as
 * vpn_pkt.h says) is used in place. No SA: dropped, and IKE is brought up
 * (on the next vpn_router_timeout) for tunnels that initiate.
 * Returns VPN_ROUTER_DROP_NONE when sent, else why it was dropped.
 */
vpn_router_drop vpn_router_tunnel_output(vpn_router *r, uint64_t now, uint32_t tunnel, vpn_pkt *pkt);

/*
 * Management commands (vpnctl, tests), run through the router so that what
 * the engine decides reaches the data plane at the same `now`: delete an
 * IKE SA or a CHILD_SA, rekey either, send a liveness check. Errors: those
 * of vpn_ikev2_delete, _child_delete, _child_rekey, _ike_rekey and _dpd;
 * VPN_ERR_INVAL without IKE.
 */
int vpn_router_ike_delete(vpn_router *r, uint64_t now, uint32_t ike_sa_id);
int vpn_router_child_delete(vpn_router *r, uint64_t now, uint32_t child_id);
int vpn_router_child_rekey(vpn_router *r, uint64_t now, uint32_t child_id);
int vpn_router_ike_rekey(vpn_router *r, uint64_t now, uint32_t ike_sa_id);
int vpn_router_dpd(vpn_router *r, uint64_t now, uint32_t ike_sa_id);

/* ---- multipoint GRE (DMVPN) -------------------------------------------------------------
 *
 * Outbound (vpn_router_mgre_output): the NBMA destination of an inner packet
 * is, in this order, that of the NHRP entry covering its destination (a
 * shortcut, RFC 2332 5.2.2, or a peer's own tunnel address), else that of
 * the entry of next_hop (the routing table's next hop in the tunnel: the
 * hub's address on a spoke in phase 3, a spoke's on the hub). A multicast
 * or broadcast destination is replicated to the NHRP multicast map (the
 * hub: every registered spoke), to the tunnel's destination if it has one,
 * and on a virtual template to every Virtual-Access clone of it, as IOS
 * sends multicast on each point-to-point Virtual-Access (one walk over the
 * clones per multicast packet, the copies it makes). A peer without an SA yet: IKE is brought
 * up (at most once per hold-down), and data goes via next_hop's peer
 * meanwhile when that one has an SA (no loss while a shortcut comes up);
 * NHRP packets wait for the SA (a few per peer).
 * Inbound: GRE with the tunnel key, protocol 0x2001 to the NHRP engine,
 * IPv4/IPv6 delivered; on a hub with `ip nhrp redirect` a packet whose
 * route leads back into the same tunnel is reported to the engine
 * (vpn_nhrp_forwarded: the phase 3 Traffic Indication).
 * Every per-packet step is a hash lookup (peers by NBMA address, NHRP
 * entries per prefix length, CHILD_SAs by id): no walk over the peers.
 */

/* One inner IP packet routed into mGRE tunnel `tunnel` towards next_hop
 * (NULL: the route callback names it, if there is one; vpn_router_tunnel_output
 * on an mGRE tunnel is this with NULL). Returns as vpn_router_tunnel_output;
 * VPN_ROUTER_DROP_NO_NBMA when NHRP knows no NBMA address for it. */
vpn_router_drop vpn_router_mgre_output(vpn_router *r, uint64_t now, uint32_t tunnel, const vpn_addr *next_hop,
                                       vpn_pkt *pkt);

/* The NHRP engine of an mGRE tunnel (show ip nhrp, show dmvpn, lookups);
 * NULL for other tunnels. */
const vpn_nhrp *vpn_router_nhrp(const vpn_router *r, uint32_t tunnel);

/* Asks NHRP to resolve dst on an mGRE tunnel now (a test or a management
 * command). Errors: those of vpn_nhrp_resolve, VPN_ERR_INVAL. */
int vpn_router_nhrp_resolve(vpn_router *r, uint64_t now, uint32_t tunnel, const vpn_addr *dst);

typedef struct vpn_router_peer_info {
    vpn_addr nbma;
    uint32_t out_child;        /* the CHILD_SA carrying traffic to it; 0: none */
    vpn_router_sa_ref out_sa;
    uint32_t ike_sa_id;        /* of out_child */
    uint64_t encrypted, decrypted;
    bool initiating;           /* we started IKE towards it and wait */
    uint32_t va;               /* its Virtual-Access number; 0: none */
} vpn_router_peer_info;

/* The peers an mGRE tunnel holds state for (SAs, queued packets). */
size_t vpn_router_mgre_peer_count(const vpn_router *r, uint32_t tunnel);
/* One peer by NBMA address. Errors: VPN_ERR_INVAL, VPN_ERR_NOTFOUND. */
int vpn_router_mgre_peer_get(const vpn_router *r, uint32_t tunnel, const vpn_addr *nbma,
                             vpn_router_peer_info *out);
/* Calls fn for every peer of the tunnel (show crypto session). */
void vpn_router_mgre_peer_foreach(const vpn_router *r, uint32_t tunnel,
                                  void (*fn)(void *user, const vpn_router_peer_info *p), void *user);

/* show dmvpn [detail] / show ip nhrp of an mGRE tunnel (show-nhrp.h), the
 * detail adding one line per peer with its crypto state. Errors:
 * VPN_ERR_INVAL, VPN_ERR_NOSPACE. */
int vpn_router_show_dmvpn(const vpn_router *r, uint64_t now, uint32_t tunnel, bool detail, vpn_show_buf *b);
int vpn_router_show_ip_nhrp(const vpn_router *r, uint64_t now, uint32_t tunnel, vpn_show_buf *b);
/* show ip nhrp traffic of an mGRE tunnel (vpn_show_nhrp_traffic, with the
 * tunnel's name). Errors: VPN_ERR_INVAL (no such mGRE tunnel),
 * VPN_ERR_NOSPACE. */
int vpn_router_show_ip_nhrp_traffic(const vpn_router *r, uint32_t tunnel, vpn_show_buf *b);

/* ---- GET VPN: GDOI groups and the crypto map ------------------------------------------ */

/*
 * Gives the router a node's GDOI groups (once): key servers and members as
 * vpn_getvpn_node_new takes them, with the router's rng and log; their
 * datagrams go out through send_udp (required), members register at their
 * start_ns. groups is copied (the pointers it holds are borrowed as getvpn.h
 * says). Errors: VPN_ERR_INVAL (no send_udp, already attached), VPN_ERR_STATE,
 * those of vpn_getvpn_node_new.
 */
int vpn_router_getvpn_attach(vpn_router *r, uint64_t now, const vpn_getvpn_group_params *groups, size_t n);

/* The node (views, key exports); NULL when none is attached. */
const vpn_getvpn_node *vpn_router_getvpn(const vpn_router *r);

/*
 * The crypto map, outbound: an IPv4 packet about to leave through the
 * crypto-map interface. VPN_ROUTER_DROP_NONE: send pkt as it is now, ESP
 * (*encrypted true: tunnel mode with the inner addresses preserved,
 * RFC 6407 3.5.1) or clear (outside every group's policy); else it is
 * dropped (counted here and by reason in vpn_getvpn_stats). Without GET
 * VPN everything passes clear.
 */
vpn_router_drop vpn_router_cryptomap_output(vpn_router *r, uint64_t now, vpn_pkt *pkt, bool *encrypted);

/*
 * The crypto map, inbound, for drivers that see every packet arriving on
 * the interface: ESP of a group is decrypted in place (*decrypted true),
 * clear traffic outside the policies passes; a clear packet a registered
 * policy protects is dropped (RFC 4301 5.2). VPN_ROUTER_DROP_NONE: deliver
 * pkt. Drivers that see only ESP use vpn_router_ip_input.
 */
vpn_router_drop vpn_router_cryptomap_input(vpn_router *r, uint64_t now, vpn_pkt *pkt, bool *decrypted);

/* IOS `crypto gdoi ks rekey`: every key-server group rekeys now (a new KEK
 * too with new_kek). Returns how many groups rekeyed, or VPN_ERR_NOTFOUND
 * (no key server here) or the first engine error. */
int vpn_router_gdoi_ks_rekey(vpn_router *r, uint64_t now, bool new_kek);

/* Why the crypto map dropped its last packet (the vpn_getvpn_drop behind
 * VPN_ROUTER_DROP_CRYPTO_MAP; counted by reason in vpn_getvpn_stats). */
vpn_getvpn_drop vpn_router_cryptomap_last_drop(const vpn_router *r);

/* `crypto gdoi ks rekey` for key-server group `group` alone (a new KEK too
 * with new_kek). Errors: VPN_ERR_INVAL, VPN_ERR_NOTFOUND (no such key-server
 * group), those of vpn_gdoi_ks_rekey. */
int vpn_router_gdoi_ks_rekey_group(vpn_router *r, uint64_t now, size_t group, bool new_kek);

/* The rekey transport of key-server group `group` from its next rekey
 * (RFC 6407 4: multicast to group_addr, or unicast to each member).
 * Errors: VPN_ERR_INVAL, VPN_ERR_NOTFOUND, those of vpn_gdoi_ks_set_multicast. */
int vpn_router_gdoi_ks_set_multicast(vpn_router *r, size_t group, bool multicast, const vpn_addr *group_addr);

/* The multicast rekey groups registered member groups must join (RFC 6407
 * 5.3: the SA KEK's DST ID), each once: up to max in out; returns how many
 * there are (more than max: out is partial). */
size_t vpn_router_gdoi_rekey_groups(const vpn_router *r, uint64_t now, vpn_addr *out, size_t max);

/* IOS `clear crypto gdoi` on a member: every member group registers again
 * now (its old TEKs stay until the new ones arrive). Returns how many
 * started, or VPN_ERR_NOTFOUND (no member group here). */
int vpn_router_gdoi_reregister(vpn_router *r, uint64_t now);

typedef enum vpn_router_gdoi_view {
    VPN_ROUTER_GDOI_ALL = 0,     /* show crypto gdoi */
    VPN_ROUTER_GDOI_KS_MEMBERS,  /* show crypto gdoi ks members */
    VPN_ROUTER_GDOI_KS_COOP,     /* show crypto gdoi ks coop */
    VPN_ROUTER_GDOI_GM,          /* show crypto gdoi gm */
    VPN_ROUTER_GDOI_IPSEC_SA,    /* the crypto map's part of show crypto ipsec sa */
} vpn_router_gdoi_view;

/* One of the GDOI views above; iface names the crypto-map interface in the
 * ipsec view. Nothing is written without GET VPN. Errors: VPN_ERR_INVAL,
 * VPN_ERR_NOSPACE. */
int vpn_router_show_gdoi(const vpn_router *r, uint64_t now, vpn_router_gdoi_view view, const char *iface,
                         vpn_show_buf *b);
/* ---- FlexVPN virtual templates (dVTI) ----------------------------------------------------
 *
 * IOS clones `interface Virtual-Template N type tunnel` into one
 * Virtual-Access interface per authenticated peer: one block of
 * configuration serves any number of spokes. Here the template is an mGRE
 * tunnel with virtual_template = N (tunnel_config); the clone is a number
 * and a record on the peer, made when the first CHILD_SA of the peer's IKE
 * SA comes up (after IKE_AUTH, as IOS does once the profile with
 * `virtual-template N` matched) and torn down when that IKE SA goes
 * (deleted, expired, DPD, or replaced by a new IKE SA of a rebooted peer),
 * which emits VA_DOWN. An IKE SA rekey moves the clone to the new SA.
 * Numbers start at 1; a freed number is given out again before new ones
 * (IOS reuses them too). Lookups are by array index (number) or peer
 * hash: nothing walks the clones except the show views.
 * What is not modelled: per-clone ns-3 devices (the template's one
 * multipoint device carries every clone's packets), the clone's own NHRP
 * cache (its entries stay in the template's NHRP engine and expire with
 * their holding time), IKEv2 route exchange.
 */

typedef struct vpn_router_va_info {
    uint32_t va;               /* Virtual-Access number */
    uint32_t tunnel;           /* the template's tunnel */
    uint32_t virtual_template; /* N of Virtual-TemplateN */
    vpn_addr peer;             /* its tunnel destination (the peer's NBMA address) */
    uint32_t ike_sa_id;        /* the IKE SA it lives with */
    uint64_t since_ns;         /* cloned at */
} vpn_router_va_info;

/* Virtual-Access interfaces alive now. */
size_t vpn_router_va_count(const vpn_router *r);
/* One by number. Errors: VPN_ERR_INVAL, VPN_ERR_NOTFOUND. */
int vpn_router_va_get(const vpn_router *r, uint32_t va, vpn_router_va_info *out);

/*
 * show derived-config interface Virtual-Access<va>: the template's lines
 * (from the router's conf) with the peer as tunnel destination and `no
 * tunnel protection ipsec initiate`, as IOS shows a clone. Errors:
 * VPN_ERR_INVAL, VPN_ERR_NOTFOUND (no such clone), VPN_ERR_NOSPACE.
 */
int vpn_router_show_derived_config(const vpn_router *r, uint32_t va, vpn_show_buf *b);

/* show interfaces virtual-access: one block per clone, by number.
 * Errors: VPN_ERR_INVAL, VPN_ERR_NOSPACE. */
int vpn_router_show_virtual_access(const vpn_router *r, uint64_t now, vpn_show_buf *b);

/* ---- IKEv1 phase 1 (crypto isakmp) ------------------------------------------------------
 *
 * With a conf the router runs IKEv1 Main Mode (RFC 2409 5) on UDP 500 under
 * `crypto isakmp policy` / `crypto isakmp key`, found by version in the
 * ISAKMP header (RFC 2408 3.1): datagrams go out through send_udp, the
 * SAs' timers are in vpn_router_next_deadline, each SA's Wireshark key
 * line is a KEY_LINE event (VPN_ROUTER_KEYS_IKEV1) as soon as its keys
 * exist. Phase 2 is not served (keys come from GDOI): Quick Mode is
 * answered NO_PROPOSAL_CHOSEN (RFC 2408 3.14). Datagrams no SA takes are
 * dropped as VPN_ROUTER_DROP_IKEV1. SAs are named by conn-id (from 1001,
 * as IOS); dead ones stay in the view as MM_NO_STATE for 30 s.
 */

/* Starts Main Mode from local (the driver's route source) to peer; *conn_id
 * (optional) gets its number. Errors: VPN_ERR_INVAL, VPN_ERR_STATE (no
 * conf), VPN_ERR_LIMIT (64 SAs alive), VPN_ERR_NOTFOUND (no crypto isakmp
 * policy), VPN_ERR_AUTH (no crypto isakmp key covers peer), those of
 * vpn_ikev1_sa_new / vpn_ikev1_sa_start. */
int vpn_router_isakmp_initiate(vpn_router *r, uint64_t now, const vpn_addr *local, const vpn_addr *peer,
                               uint32_t *conn_id);
/* clear crypto isakmp [conn-id]: deletes every live phase-1 SA (all) or
 * the one numbered conn_id, telling the peer of established ones
 * (RFC 2408 3.15). Returns how many, VPN_ERR_NOTFOUND (no such conn-id),
 * VPN_ERR_INVAL. */
int vpn_router_isakmp_clear(vpn_router *r, uint64_t now, bool all, uint32_t conn_id);
/* Rows of show crypto isakmp sa (live and lingering SAs). */
size_t vpn_router_isakmp_count(const vpn_router *r);
/* show crypto isakmp sa; VPN_SHOW_ISAKMP_SA_CAP(vpn_router_isakmp_count)
 * bytes suffice. Errors: VPN_ERR_INVAL, VPN_ERR_NOMEM, VPN_ERR_NOSPACE. */
int vpn_router_show_isakmp_sa(const vpn_router *r, vpn_show_buf *b);

/* ---- input from the network ------------------------------------------------------ */

/*
 * A UDP datagram to local (port 500, 4500, others) from remote; pkt holds
 * the UDP payload and is used in place (ESP in UDP is decrypted there).
 */
vpn_router_drop vpn_router_udp_input(vpn_router *r, uint64_t now, const vpn_ikev2_endpoint *local,
                                     const vpn_ikev2_endpoint *remote, vpn_pkt *pkt);

/* An ESP packet, pkt starting at the ESP header, outer telling the rest. */
vpn_router_drop vpn_router_esp_input(vpn_router *r, uint64_t now, vpn_pkt *pkt,
                                     const vpn_esp_outer *outer);

/* A whole IP packet carrying ESP (or UDP to 4500), outer header first.
 * ESP whose SPI the SAD does not hold goes to the crypto map's groups. */
vpn_router_drop vpn_router_ip_input(vpn_router *r, uint64_t now, vpn_pkt *pkt);

/* ---- time ------------------------------------------------------------------------ */

/* Runs what is due at now: the engine's timers, SA lifetimes, grace
 * removals, on-demand initiations. Returns 0 (VPN_ERR_INVAL for NULL). */
int vpn_router_timeout(vpn_router *r, uint64_t now);

/* The earliest time vpn_router_timeout has work; UINT64_MAX: none. */
uint64_t vpn_router_next_deadline(const vpn_router *r);

/* ---- manual keying ---------------------------------------------------------------- */

/*
 * Adds one SA by hand (no IKE) for a tunnel: an outbound SA becomes the
 * tunnel's, an inbound one delivers into it. Errors: those of vpn_sad_add,
 * VPN_ERR_INVAL, VPN_ERR_NOMEM.
 */
int vpn_router_sa_add(vpn_router *r, uint64_t now, uint32_t tunnel, const vpn_sa_config *cfg,
                      vpn_router_sa_ref *ref);
/* Removes one SA (a manual one or one of a CHILD_SA). Errors: VPN_ERR_NOTFOUND. */
int vpn_router_sa_remove(vpn_router *r, const vpn_router_sa_ref *ref);

/* ---- state ------------------------------------------------------------------------- */

typedef struct vpn_router_tunnel_info {
    char name[VPN_CONF_NAME_MAX];
    vpn_router_tunnel_mode mode;
    vpn_addr src, dst;
    uint32_t out_child;        /* CHILD_SA carrying the traffic now; 0: none */
    vpn_router_sa_ref out_sa;  /* its outbound SA (spi 0: none) */
    uint64_t encrypted, decrypted, dropped;
} vpn_router_tunnel_info;

typedef struct vpn_router_stats {
    uint64_t drops[VPN_ROUTER_DROP_COUNT];
    uint64_t ike_in, keepalives_in, esp_in, esp_out;
    uint64_t children_installed, children_removed, rekeys;
    uint64_t lifetime_rekeys, lifetime_deletes; /* asked of the engine by SA limits */
    uint64_t on_demand_initiations;
    uint64_t on_demand_children; /* CHILD_SAs made on traffic under an IKE SA that stayed */
    uint64_t gdoi_in;          /* UDP 848 datagrams given to the GDOI groups */
    uint64_t cmap_encrypted, cmap_decrypted, cmap_clear_out, cmap_clear_in;
    uint64_t ikev1_in;         /* UDP 500 datagrams with version 1.0 */
} vpn_router_stats;

size_t vpn_router_tunnel_count(const vpn_router *r);
/* Errors: VPN_ERR_INVAL, VPN_ERR_NOTFOUND. */
int vpn_router_tunnel_get(const vpn_router *r, uint32_t tunnel, vpn_router_tunnel_info *out);
/* Zeroes *out for a NULL router. */
void vpn_router_stats_get(const vpn_router *r, vpn_router_stats *out);

/* The SA's state (config without keys, counters); false if no such SA. */
bool vpn_router_sa_get(const vpn_router *r, const vpn_router_sa_ref *ref, vpn_sa_config *cfg,
                       vpn_sa_stats *stats);
/* The SAs of a CHILD_SA; false if it is not installed. */
bool vpn_router_child_sas(const vpn_router *r, uint32_t child_id, vpn_router_sa_ref *in,
                          vpn_router_sa_ref *out);

/*
 * The IP MTU of a tunnel over a WAN of wan_mtu bytes: the WAN less the GRE
 * and ESP overhead (vpn_esp_tunnel_mtu) of its outbound SA as negotiated
 * (NAT-T included), else the worst of the transform sets its ipsec profile
 * allows, else of a conservative guess (AES-CBC-256, HMAC-SHA-512, tunnel
 * mode, NAT-T); never below 68 (RFC 791). Errors: VPN_ERR_INVAL,
 * VPN_ERR_NOTFOUND.
 */
int vpn_router_tunnel_mtu(const vpn_router *r, uint32_t tunnel, size_t wan_mtu, uint16_t *mtu);

/* The refs of every SA the router holds (at most cap written); returns
 * how many there are. For counters over all SAs (vpn_router_sa_get). */
size_t vpn_router_sa_list(const vpn_router *r, vpn_router_sa_ref *out, size_t cap);

/* The MTU of a tunnel of this mode before anything is known of its SAs:
 * the conservative guess of vpn_router_tunnel_mtu (AES-CBC-256,
 * HMAC-SHA-512, tunnel mode, NAT-T) over a WAN of wan_mtu bytes with an
 * outer header of the given family. Errors: VPN_ERR_INVAL. */
int vpn_router_mtu_guess(vpn_router_tunnel_mode mode, bool gre_key, uint8_t family, size_t wan_mtu,
                         uint16_t *mtu);

/* The engine for configuration before vpn_router_start (trustpoints:
 * vpn_ikev2_trustpoint_add_ca / _set_cert); NULL without IKE. */
vpn_ikev2_ctx *vpn_router_ikev2_setup(vpn_router *r);

/* Remote access: the answer of an EAP backend step left pending (RADIUS
 * passthrough), passed to vpn_ikev2_eap_answer. Errors: VPN_ERR_INVAL (no
 * IKE), those of vpn_ikev2_eap_answer. */
int vpn_router_eap_answer(vpn_router *r, uint64_t now, uint32_t ike_sa_id, const vpn_eap_answer *a);

/* Remote access: what the AAA server authorized for that user, before its
 * SUCCESS answer (vpn_ikev2_eap_authorize). Errors: VPN_ERR_INVAL (no IKE),
 * those of vpn_ikev2_eap_authorize. */
int vpn_router_eap_authorize(vpn_router *r, uint32_t ike_sa_id, const vpn_cp_authz *z);

/* The engine, for read-only queries (vpn_ikev2_sa_get, key lines); NULL
 * without IKE. The SAD's counters are in vpn_router_sad_stats. */
const vpn_ikev2_ctx *vpn_router_ikev2(const vpn_router *r);
/* Fills *out; zeroes it for a NULL router. */
void vpn_router_sad_stats(const vpn_router *r, vpn_sad_stats *out);

/* ---- show -------------------------------------------------------------------------- */

/* show crypto ikev2 sa [detail], show crypto session [detail], show crypto
 * ipsec sa [detail] (model/core/show renderers, with this router's tunnel
 * names and SA counters). Errors: VPN_ERR_INVAL, VPN_ERR_NOSPACE. */
int vpn_router_show_ikev2_sa(const vpn_router *r, uint64_t now, bool detail, vpn_show_buf *b);
int vpn_router_show_crypto_session(const vpn_router *r, uint64_t now, bool detail, vpn_show_buf *b);
int vpn_router_show_ipsec_sa(const vpn_router *r, uint64_t now, bool detail, vpn_show_buf *b);
/* show crypto session username USER [detail]: the sessions whose EAP
 * identity is user (remote access). Same errors. */
int vpn_router_show_crypto_session_user(const vpn_router *r, uint64_t now, const char *user, bool detail,
                                        vpn_show_buf *b);
/* The router's drop counters, one "reason: count" line each (non-zero). */
int vpn_router_show_drops(const vpn_router *r, vpn_show_buf *b);

#ifdef __cplusplus
}
#endif

#endif
