/*
 * MPLS data plane for a provider core (RFC 3031, RFC 3032) carrying BGP/MPLS
 * IP VPNs (RFC 4364): label stack codec, a per-router label forwarding table
 * (LFIB: incoming label -> NHLFE), per-VRF IPv4 tables on PEs, TTL (RFC 3443)
 * and traffic class (RFC 3270, RFC 5462) handling, and static multicast in a
 * VRF by ingress replication.
 *
 * A label stack entry (RFC 3032 2.1):
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                Label                  | TC  |S|      TTL      |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * One vpn_mpls_router per LSR. It is sans-IO: the driver hands it a frame's
 * payload with the EtherType it arrived under and the interface index; the
 * router writes each packet it forwards into its own work buffer and hands
 * it to the emit callback, which must copy the bytes before returning. It
 * keeps no clock and no globals; it allocates only while being configured.
 *
 * Labels are of local significance: every router allocates its own. Who
 * fills the tables (a control plane, or vpn_mpls_plan_install computing the
 * converged state from a topology) is outside this file.
 */
#ifndef VPN_MPLS_H
#define VPN_MPLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

/* EtherTypes: MPLS unicast (RFC 3032 5) and IPv4. */
#define VPN_MPLS_ETHERTYPE 0x8847
#define VPN_MPLS_ETHERTYPE_IPV4 0x0800

/* Reserved label values (RFC 3032 2.1; 0-15 are reserved). */
#define VPN_MPLS_LABEL_IPV4_EXPLICIT_NULL 0
#define VPN_MPLS_LABEL_ROUTER_ALERT 1
#define VPN_MPLS_LABEL_IPV6_EXPLICIT_NULL 2
#define VPN_MPLS_LABEL_IMPLICIT_NULL 3 /* advertised only, never on the wire */
#define VPN_MPLS_LABEL_FIRST 16         /* first label a router may allocate */
#define VPN_MPLS_LABEL_MAX 0xFFFFFu
/* No outgoing label: the NHLFE sends the bare payload (IOS "No Label"). */
#define VPN_MPLS_LABEL_NONE 0xFFFFFFFFu

#define VPN_MPLS_LSE_LEN 4
#define VPN_MPLS_STACK_MAX 8
/* Room the router keeps in front of a packet for the labels it pushes. */
#define VPN_MPLS_HEADROOM 64

typedef struct vpn_mpls_lse {
    uint32_t label; /* 20 bits */
    uint8_t tc;     /* traffic class, ex-EXP (RFC 5462), 3 bits */
    bool s;         /* bottom of stack */
    uint8_t ttl;
} vpn_mpls_lse;

/* Packs an entry into 32 bits. Errors: VPN_ERR_INVAL (label or tc too wide). */
int vpn_mpls_lse_pack(const vpn_mpls_lse *e, uint32_t *out);
void vpn_mpls_lse_unpack(uint32_t v, vpn_mpls_lse *e);
/* Errors: VPN_ERR_INVAL (as pack), VPN_ERR_NOSPACE (nothing written). */
int vpn_mpls_lse_write(vpn_wr *w, const vpn_mpls_lse *e);
/* Errors: VPN_ERR_TRUNCATED (the reader fails; *e zeroed). */
int vpn_mpls_lse_read(vpn_rd *r, vpn_mpls_lse *e);

typedef struct vpn_mpls_stack {
    size_t depth;
    vpn_mpls_lse e[VPN_MPLS_STACK_MAX]; /* e[0] is the top */
} vpn_mpls_stack;

/*
 * Parses the label stack at the start of p (len bytes) up to and including
 * the entry with the S bit; *hdr_len (may be NULL) gets its length in bytes.
 * Errors: VPN_ERR_TRUNCATED (the buffer ends before an S bit),
 * VPN_ERR_LIMIT (more than VPN_MPLS_STACK_MAX entries),
 * VPN_ERR_MALFORMED (implicit-null on the wire, RFC 3032 2.1; router alert
 * at the bottom of the stack, RFC 3032 2.1), VPN_ERR_UNSUPPORTED (another
 * reserved label, 4-15, that this model does not implement).
 * *st is zeroed on error.
 */
int vpn_mpls_stack_parse(const uint8_t *p, size_t len, vpn_mpls_stack *st, size_t *hdr_len);

/* ---- the router ------------------------------------------------------------- */

/* RFC 3443 TTL models. */
typedef enum vpn_mpls_ttl_mode {
    VPN_MPLS_TTL_UNIFORM = 0, /* IP TTL copied into the labels and back at egress (3.1) */
    VPN_MPLS_TTL_PIPE = 1,    /* labels start at 255; the IP TTL sees only the PEs (3.2, short pipe 3.3) */
} vpn_mpls_ttl_mode;

typedef enum vpn_mpls_if_kind {
    VPN_MPLS_IF_CORE = 0, /* labelled packets to and from other LSRs */
    VPN_MPLS_IF_CE = 1,   /* plain IPv4 to and from a customer edge, in one VRF */
} vpn_mpls_if_kind;

/* What an LFIB entry does with the top label (RFC 3031 3.10). */
typedef enum vpn_mpls_op {
    VPN_MPLS_OP_SWAP = 0,    /* replace the top label, forward on a core interface */
    VPN_MPLS_OP_POP = 1,     /* penultimate hop (implicit-null advertised): pop, forward what is below */
    VPN_MPLS_OP_POP_VRF = 2, /* egress: pop, send the IPv4 packet to a CE (per-prefix VPN label) */
    VPN_MPLS_OP_POP_LOOKUP = 3, /* egress: pop, look the IPv4 packet up in a VRF (aggregate label) */
} vpn_mpls_op;

/* Why packets were dropped; counters in vpn_mpls_stats. */
typedef enum vpn_mpls_drop {
    VPN_MPLS_DROP_MALFORMED = 0, /* stack or IP header unparsable */
    VPN_MPLS_DROP_NO_LABEL,      /* top label not in the LFIB */
    VPN_MPLS_DROP_NO_ROUTE,      /* no VRF route, or no LSP to the remote PE */
    VPN_MPLS_DROP_TTL,           /* TTL expired (RFC 3443, RFC 3032 2.4.1) */
    VPN_MPLS_DROP_IFACE,         /* arrived on an interface unknown or of the wrong kind */
    VPN_MPLS_DROP_NOSPACE,       /* too large for the work buffer, or stack too deep */
    VPN_MPLS_DROP_COUNT
} vpn_mpls_drop;

typedef struct vpn_mpls_stats {
    uint64_t rx_labelled, rx_ip;
    uint64_t tx_labelled, tx_ip;
    uint64_t drops[VPN_MPLS_DROP_COUNT];
} vpn_mpls_stats;

/*
 * Called for each packet the router sends: out_if is the interface index,
 * next_hop the neighbour's address on it (the driver maps it to a link
 * address), ethertype VPN_MPLS_ETHERTYPE or VPN_MPLS_ETHERTYPE_IPV4.
 * data is valid only during the call.
 */
typedef void (*vpn_mpls_emit_fn)(void *ctx, int out_if, const vpn_addr *next_hop,
                                 uint16_t ethertype, const uint8_t *data, size_t len);

typedef struct vpn_mpls_router vpn_mpls_router;

typedef struct vpn_mpls_router_params {
    const char *name;          /* for show output; copied */
    vpn_addr loopback;         /* router id (IPv4) */
    vpn_mpls_ttl_mode ttl_mode;
    size_t mtu;                /* largest packet handled (default 9216 if 0) */
    vpn_mpls_emit_fn emit;
    void *emit_ctx;
} vpn_mpls_router_params;

/*
 * Creates a router with empty tables. *out is owned by the caller and freed
 * with vpn_mpls_router_del. Errors: VPN_ERR_INVAL, VPN_ERR_NOMEM.
 */
int vpn_mpls_router_new(vpn_mpls_router **out, const vpn_mpls_router_params *p);
void vpn_mpls_router_del(vpn_mpls_router *r);
const char *vpn_mpls_router_name(const vpn_mpls_router *r);
const vpn_addr *vpn_mpls_router_loopback(const vpn_mpls_router *r);

/*
 * Declares interface ifindex (any int the driver uses; name for show output,
 * copied). A CE interface belongs to the VRF named vrf, created on first use.
 * Errors: VPN_ERR_INVAL, VPN_ERR_EXISTS (index taken), VPN_ERR_NOMEM.
 */
int vpn_mpls_router_add_if(vpn_mpls_router *r, int ifindex, const char *name,
                           vpn_mpls_if_kind kind, const char *vrf);
/* Creates VRF name if missing; *id (may be NULL) gets its index. Errors: VPN_ERR_INVAL, VPN_ERR_NOMEM. */
int vpn_mpls_router_add_vrf(vpn_mpls_router *r, const char *name, int *id);
/* Index of VRF name or VPN_ERR_NOTFOUND. */
int vpn_mpls_router_vrf_id(const vpn_mpls_router *r, const char *name);

/* An NHLFE (RFC 3031 3.11) with its incoming label. */
typedef struct vpn_mpls_lfib_entry {
    uint32_t in_label;         /* >= 16: reserved labels are the router's own business */
    vpn_mpls_op op;
    uint32_t out_label;        /* SWAP: the new label (0, explicit-null, allowed) */
    int out_if;                /* SWAP, POP, POP_VRF */
    vpn_addr next_hop;
    int vrf;                   /* POP_VRF, POP_LOOKUP: VRF index; else -1 */
    vpn_prefix fec;            /* what the label stands for (show: Prefix or Tunnel Id) */
    uint64_t packets, bytes;   /* label switched (bytes of the packet as received) */
} vpn_mpls_lfib_entry;

/*
 * Adds an LFIB entry (counters start at zero). Errors: VPN_ERR_INVAL
 * (reserved label other than explicit-null, label too wide, bad op/VRF/
 * interface), VPN_ERR_EXISTS (label taken), VPN_ERR_NOMEM.
 */
int vpn_mpls_lfib_add(vpn_mpls_router *r, const vpn_mpls_lfib_entry *e);
/* Entry for label, or NULL. */
const vpn_mpls_lfib_entry *vpn_mpls_lfib_find(const vpn_mpls_router *r, uint32_t label);
/* Entries in label order: i from 0 to vpn_mpls_lfib_count - 1. */
size_t vpn_mpls_lfib_count(const vpn_mpls_router *r);
const vpn_mpls_lfib_entry *vpn_mpls_lfib_at(const vpn_mpls_router *r, size_t i);

/*
 * FEC-to-NHLFE map for remote PE loopbacks (RFC 3031 3.12): how to reach
 * loopback by LSP: push out_label (VPN_MPLS_LABEL_IMPLICIT_NULL: push
 * nothing, the neighbour is the egress and asked for PHP) on out_if to
 * next_hop. Replaces an earlier entry for the same loopback.
 * Errors: VPN_ERR_INVAL, VPN_ERR_NOMEM.
 */
int vpn_mpls_ftn_set(vpn_mpls_router *r, const vpn_addr *loopback, uint32_t out_label,
                     int out_if, const vpn_addr *next_hop);

/*
 * VRF routes (RFC 4364 4, 5): prefix reached over a local CE interface
 * (out_if, next_hop), or at a remote PE (remote_pe loopback, reached by its
 * LSP) under vpn_label. Longest prefix wins; an equal prefix replaces.
 * Errors: VPN_ERR_INVAL, VPN_ERR_NOTFOUND (no such VRF), VPN_ERR_NOMEM.
 */
int vpn_mpls_vrf_route_local(vpn_mpls_router *r, int vrf, const vpn_prefix *prefix, int out_if,
                             const vpn_addr *next_hop);
int vpn_mpls_vrf_route_remote(vpn_mpls_router *r, int vrf, const vpn_prefix *prefix,
                              const vpn_addr *remote_pe, uint32_t vpn_label);

/*
 * A static multicast route in a VRF: packets to group (prefix, e.g.
 * 239.0.0.0/8) from source (0/0 for any) that arrive from a CE are copied to
 * every listed remote PE under that PE's VRF label (ingress replication over
 * the unicast LSPs) and to every listed local CE interface but the one they
 * came in on; copies that arrive from the core go to the local CE
 * interfaces only (no re-replication). Every call adds one target to the
 * route (created on first use): remote_pe non-NULL adds a PE with its
 * label, else ce_if adds a local interface. Duplicates are ignored.
 * Errors: VPN_ERR_INVAL, VPN_ERR_NOTFOUND (VRF), VPN_ERR_NOMEM.
 */
int vpn_mpls_vrf_mroute_add(vpn_mpls_router *r, int vrf, const vpn_prefix *group,
                            const vpn_prefix *source, const vpn_addr *remote_pe,
                            uint32_t vpn_label, int ce_if);

/*
 * Forwards one packet that arrived on in_if under ethertype (payload after
 * the link header, len bytes). Calls emit once per packet sent.
 * Returns the number of packets sent (0 or more; a multicast may send
 * several) or a negative error for a drop, which is also counted:
 * VPN_ERR_MALFORMED, VPN_ERR_TRUNCATED, VPN_ERR_LIMIT, VPN_ERR_UNSUPPORTED
 * (bad stack or header: DROP_MALFORMED), VPN_ERR_NOTFOUND (DROP_NO_LABEL,
 * DROP_NO_ROUTE, DROP_IFACE), VPN_ERR_EXPIRED (DROP_TTL), VPN_ERR_NOSPACE.
 * Tables are not changed except counters.
 */
int vpn_mpls_router_input(vpn_mpls_router *r, int in_if, uint16_t ethertype, const uint8_t *data,
                          size_t len);

const vpn_mpls_stats *vpn_mpls_router_stats(const vpn_mpls_router *r);
const char *vpn_mpls_drop_name(vpn_mpls_drop d);

/* Interface name for show output, or NULL. */
const char *vpn_mpls_router_if_name(const vpn_mpls_router *r, int ifindex);
const char *vpn_mpls_router_vrf_name(const vpn_mpls_router *r, int vrf);

/* ---- computed control plane ----------------------------------------------------- */

/*
 * Instead of LDP and MP-BGP: the converged state those protocols would
 * reach, computed from the whole topology at once.
 *  - Transport LSPs: every router gets a local label for every other
 *    router's loopback; next hops are shortest paths by hop count (ties go
 *    to the lower neighbour index, then lower link index). The egress
 *    advertises implicit-null (PHP) or explicit-null (php false), as LDP
 *    would (RFC 5036 3.5.7, "mpls ldp explicit-null").
 *  - VPN routes: per-prefix VPN labels at the egress PE (IOS's default
 *    allocation), imported by every other PE with a VRF of the same name
 *    (here a VRF name stands for its route targets), and one aggregate
 *    label per VRF and PE for multicast copies.
 */
typedef struct vpn_mpls_plan_link {
    size_t a, b;               /* router indexes */
    int a_if, b_if;            /* interface indexes on each side */
    vpn_addr a_addr, b_addr;   /* link addresses (next hops) */
} vpn_mpls_plan_link;

typedef struct vpn_mpls_plan_site {
    size_t pe;                 /* router index */
    const char *vrf;
    int ce_if;                 /* PE interface towards the CE */
    vpn_addr ce_addr;          /* the CE's address on that link */
    const vpn_prefix *prefixes;
    size_t n_prefixes;
} vpn_mpls_plan_site;

typedef struct vpn_mpls_plan_mroute {
    const char *vrf;
    vpn_prefix group, source;  /* source 0/0: any */
    const size_t *sites;       /* indexes into sites: the subscribers */
    size_t n_sites;
} vpn_mpls_plan_mroute;

typedef struct vpn_mpls_plan {
    vpn_mpls_router **routers; /* interfaces (core and CE) already declared */
    size_t n_routers;
    const vpn_mpls_plan_link *links;
    size_t n_links;
    const vpn_mpls_plan_site *sites;
    size_t n_sites;
    const vpn_mpls_plan_mroute *mroutes;
    size_t n_mroutes;
    bool php;                  /* penultimate-hop popping */
} vpn_mpls_plan;

/*
 * Fills the routers' LFIBs, FTNs and VRF tables. Routers must have empty
 * tables. Errors: VPN_ERR_INVAL (index out of range, site on an interface
 * that is not a CE interface of that VRF), VPN_ERR_NOTFOUND (a PE that
 * cannot reach another PE holding the same VRF), VPN_ERR_LIMIT (labels run
 * out), VPN_ERR_NOMEM. On error the tables may be partly filled.
 */
int vpn_mpls_plan_install(const vpn_mpls_plan *plan);

#ifdef __cplusplus
}
#endif

#endif
