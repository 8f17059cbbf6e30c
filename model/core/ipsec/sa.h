/*
 * Security Associations and the SA Database (RFC 4301 4.4.2).
 *
 * A vpn_sad owns its SAs. Inbound SAs are found by SPI and destination
 * (RFC 4301 4.1: unicast SAs by SPI alone in effect, since the receiver
 * picked the SPI; multicast and group SAs by SPI and destination, or by
 * SPI alone when the destination is a wildcard, as for GET VPN group SAs
 * whose packets keep the hosts' addresses). Outbound SAs are reached
 * through the SPD (spd.h), which points at them.
 *
 * A group SA (RFC 6407) is one SA that many members share: the same SPI
 * and keys on every group member, usually both directions at once
 * (VPN_SA_BOTH), with time-based anti-replay since many senders share it.
 *
 * Time enters as `now` (ns). Lifetimes in bytes, packets and time have a
 * soft and a hard limit; crossing one is reported once through the event
 * callback. A hard-expired SA refuses traffic until the owner removes it.
 */
#ifndef VPN_IPSEC_SA_H
#define VPN_IPSEC_SA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/alloc.h"
#include "common/rng.h"
#include "common/vpn-log.h"
#include "crypto/cipher.h"
#include "crypto/integ.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vpn_esp_mode {
    VPN_ESP_TUNNEL = 1,
    VPN_ESP_TRANSPORT = 2,
    /* Tunnel mode whose outer header copies the inner source and
     * destination (RFC 6407 3.5.1 / RFC 5374 "address preservation"). */
    VPN_ESP_TUNNEL_ADDR_PRESERVE = 3,
    /* Destination-only preservation (RFC 6407 5.4.1 Address Preservation
     * 3): the outer destination copies the inner one, the outer source
     * is local. Inbound, like 3, any destination. */
    VPN_ESP_TUNNEL_ADDR_PRESERVE_DST = 4,
} vpn_esp_mode;

enum vpn_sa_dir { VPN_SA_IN = 1, VPN_SA_OUT = 2, VPN_SA_BOTH = 3 };

/* How outbound IVs are made (see esp.h for the details). */
typedef enum vpn_sa_iv_mode {
    VPN_SA_IV_COUNTER = 0, /* AEAD: the sequence number; CBC: E_K(salt || seq) */
    VPN_SA_IV_RANDOM = 1,  /* drawn from the SAD's vpn_rng for every packet */
} vpn_sa_iv_mode;

/* RFC 4301 8.1: the outer DF bit in tunnel modes. */
typedef enum vpn_sa_df { VPN_SA_DF_COPY = 0, VPN_SA_DF_SET = 1, VPN_SA_DF_CLEAR = 2 } vpn_sa_df;

#define VPN_SA_DSCP_COPY (-1)

/* A traffic selector (RFC 7296 3.13.1): ranges, checked against inbound
 * inner packets as they travel (source, destination). proto 0 = any;
 * a range whose family is VPN_AF_NONE matches any address. */
typedef struct vpn_ts {
    uint8_t proto;
    vpn_addr src_lo, src_hi;
    vpn_addr dst_lo, dst_hi;
    uint16_t sport_lo, sport_hi;  /* 0, 0 = any (as is 0, 65535) */
    uint16_t dport_lo, dport_hi;
} vpn_ts;

/* Limits; 0 = none. */
typedef struct vpn_sa_lifetime {
    uint64_t bytes;
    uint64_t packets;
    uint64_t time_ns;
} vpn_sa_lifetime;

typedef struct vpn_sa_config {
    uint32_t spi;             /* >= 256 (RFC 4303 2.1) */
    unsigned dir;             /* VPN_SA_IN, VPN_SA_OUT or VPN_SA_BOTH */
    vpn_esp_mode mode;
    bool group;               /* a group SA (shown and keyed as such) */

    uint16_t encr_id;         /* enum vpn_encr_id */
    uint16_t encr_key_bits;   /* Key Length attribute (0 for fixed sizes) */
    const uint8_t *encr_key;  /* key || salt, copied */
    size_t encr_key_len;
    uint16_t integ_id;        /* enum vpn_integ_id; VPN_INTEG_NONE with AEAD */
    const uint8_t *integ_key; /* copied */
    size_t integ_key_len;

    bool esn;                 /* extended sequence numbers (RFC 4304) */
    uint32_t replay_window;   /* packets, <= VPN_REPLAY_WINDOW_MAX; 0 = off */
    uint32_t tbar_window_ms;  /* time-based anti-replay window; 0 = off (tunnel modes only) */
    vpn_sa_iv_mode iv_mode;
    /* RFC 6054: for AEAD senders sharing a group key, the top
     * sender_id_bits of the 64-bit IV hold the sender ID. */
    uint32_t sender_id;
    uint8_t sender_id_bits;

    /* Tunnel endpoints: local is the outer source of outbound packets and
     * the destination inbound packets are looked up by (VPN_AF_NONE: any
     * destination); remote is the outer destination. Transport SAs name
     * the two hosts. Address-preserving SAs need neither. */
    vpn_addr local, remote;

    bool udp_encap;           /* RFC 3948 ESP in UDP */
    uint16_t udp_sport, udp_dport; /* 0 = 4500 */

    int dscp;                 /* VPN_SA_DSCP_COPY or a fixed 0..63 for the outer header */
    bool ecn_compat;          /* RFC 6040 compatibility mode (outer Not-ECT) */
    vpn_sa_df df;
    uint8_t ttl;              /* outer TTL / hop limit; 0 = 64 */

    const vpn_ts *ts;         /* inbound selectors (copied); none = accept any */
    size_t n_ts;

    vpn_sa_lifetime soft, hard;
    void *user;               /* the owner's cookie, returned by vpn_sa_get_user */
} vpn_sa_config;

/* Why a packet was refused; counted per SA for `show crypto ipsec sa`. */
typedef enum vpn_sa_err {
    VPN_SA_ERR_AUTH = 0,     /* ICV did not verify */
    VPN_SA_ERR_REPLAY,       /* counter window: seen or too old */
    VPN_SA_ERR_TBAR,         /* pseudotime missing or outside the window */
    VPN_SA_ERR_PAD,          /* padding or pad length wrong */
    VPN_SA_ERR_TRUNC,        /* too short or not whole cipher blocks */
    VPN_SA_ERR_PROTO,        /* next header or inner packet not what the mode expects */
    VPN_SA_ERR_SELECTOR,     /* inner packet outside the SA's selectors */
    VPN_SA_ERR_ECN,          /* RFC 6040 drop (CE over Not-ECT) */
    VPN_SA_ERR_EXPIRED,      /* hard lifetime reached */
    VPN_SA_ERR_SEQ_OVERFLOW, /* outbound sequence numbers exhausted */
    VPN_SA_ERR_NOSPACE,      /* outbound: not enough head- or tailroom */
    VPN_SA_ERR_INTERNAL,     /* the crypto library or the RNG failed */
    VPN_SA_ERR_COUNT
} vpn_sa_err;

/* A short name for show output and logs ("bad ICV", ...). */
const char *vpn_sa_err_name(vpn_sa_err e);

typedef struct vpn_sa_stats {
    uint64_t pkts_out, bytes_out;  /* encapsulated; bytes of inner packets */
    uint64_t pkts_in, bytes_in;    /* decapsulated and delivered */
    uint64_t send_errors, recv_errors;
    uint64_t err[VPN_SA_ERR_COUNT];
    uint64_t seq_out;              /* last sequence number sent */
    uint64_t seq_in;               /* highest verified sequence number received */
} vpn_sa_stats;

typedef enum vpn_sa_event { VPN_SA_EV_SOFT = 1, VPN_SA_EV_HARD = 2 } vpn_sa_event;
typedef enum vpn_sa_limit {
    VPN_SA_LIMIT_BYTES = 1,
    VPN_SA_LIMIT_PACKETS = 2,
    VPN_SA_LIMIT_TIME = 3,
    VPN_SA_LIMIT_SEQ = 4,  /* sequence numbers nearly / fully used */
} vpn_sa_limit;

typedef struct vpn_sa vpn_sa;
typedef struct vpn_sad vpn_sad;

/*
 * A stable name for an SA of one SAD: handed out by vpn_sad_add, never
 * reused by that SAD, so a handle kept past the SA's removal finds nothing
 * instead of freed memory. VPN_SA_HANDLE_NONE is never an SA's.
 */
typedef uint64_t vpn_sa_handle;
#define VPN_SA_HANDLE_NONE ((vpn_sa_handle)0)

/*
 * Lifetime events, each reported once per SA and kind. The callback may
 * not remove or add SAs (it runs inside packet processing); it should note
 * the SA and act after the call returns.
 */
typedef void (*vpn_sa_event_fn)(void *user, vpn_sa *sa, vpn_sa_event ev, vpn_sa_limit why,
                                uint64_t now);
/*
 * Every refused inbound or outbound packet: sa is NULL when none was found
 * (spi then says what was asked for), reason a static string, err the
 * VPN_ERR_* code returned.
 */
typedef void (*vpn_sad_drop_fn)(void *user, const vpn_sa *sa, uint32_t spi, const char *reason,
                                int err);

/* Drops counted by the SAD itself, before an SA is known. */
typedef struct vpn_sad_stats {
    uint64_t no_sa;      /* unknown SPI (or one not valid for inbound) */
    uint64_t malformed;  /* outer IP/UDP/ESP header unusable */
    uint64_t not_esp;    /* neither ESP nor UDP to the NAT-T port */
} vpn_sad_stats;

/*
 * Creates an empty SAD. rng (copied; its ctx must outlive the SAD) serves
 * random IVs and the per-SA CBC IV salt. On success *out is the caller's
 * (free with vpn_sad_del). Errors: VPN_ERR_INVAL, VPN_ERR_NOMEM.
 */
int vpn_sad_new(vpn_sad **out, const vpn_rng *rng);

/* The engine contract's constructor argument: the rng and what the setters below set. */
typedef struct vpn_sad_params {
    vpn_rng rng;              /* copied; its ctx must outlive the SAD */
    vpn_log log;              /* fn NULL: no log */
    vpn_sa_event_fn event;    /* NULL: none */
    void *event_user;
    vpn_sad_drop_fn drop;     /* NULL: none */
    void *drop_user;
    /* asked before each allocation the SAD makes for its SAs and tables
     * (zeroed: always allowed; common/alloc.h); tests fail the k-th one */
    vpn_alloc alloc;
} vpn_sad_params;
/* Zeroes *p (an rng must still be given). */
void vpn_sad_params_init(vpn_sad_params *p);
/* As vpn_sad_new, then the log and callbacks of p. Errors as vpn_sad_new. */
int vpn_sad_new_with(vpn_sad **out, const vpn_sad_params *p);
/* Frees every SA (wiping keys) and the SAD. NULL is fine. */
void vpn_sad_del(vpn_sad *sad);
/* Log events go to *log (copied). */
void vpn_sad_set_log(vpn_sad *sad, const vpn_log *log);
void vpn_sad_set_event_cb(vpn_sad *sad, vpn_sa_event_fn fn, void *user);
void vpn_sad_set_drop_cb(vpn_sad *sad, vpn_sad_drop_fn fn, void *user);
/* The allocation gate (copied; NULL: none), as vpn_sad_params.alloc. */
void vpn_sad_set_alloc(vpn_sad *sad, const vpn_alloc *a);

/*
 * Creates an SA from cfg at time now and adds it. Keys and selectors are
 * copied. The SAD owns the SA; *out (optional) stays valid until
 * vpn_sad_remove or vpn_sad_del.
 * Errors: VPN_ERR_INVAL (inconsistent configuration, see the field
 * comments; e.g. an AEAD group SA sending with counter IVs needs a sender
 * ID, RFC 6054), VPN_ERR_UNSUPPORTED (algorithm), VPN_ERR_EXISTS (an inbound
 * SA with the same SPI and destination), VPN_ERR_NOMEM, VPN_ERR_CRYPTO, or
 * the RNG's error.
 */
int vpn_sad_add(vpn_sad *sad, const vpn_sa_config *cfg, uint64_t now, vpn_sa **out);
/*
 * Removes and frees sa (keys wiped), without a walk of the SAD. sa must be
 * live: a pointer to an SA already removed is undefined behaviour (keep a
 * vpn_sa_handle and use vpn_sad_remove_handle when the SA may be gone).
 * Errors: VPN_ERR_INVAL (NULL), VPN_ERR_NOTFOUND (sa belongs to another SAD).
 */
int vpn_sad_remove(vpn_sad *sad, vpn_sa *sa);
/* Removes the SA named h, if it is still there. Errors: VPN_ERR_INVAL, VPN_ERR_NOTFOUND. */
int vpn_sad_remove_handle(vpn_sad *sad, vpn_sa_handle h);
/* The SA named h; NULL once it was removed (or for VPN_SA_HANDLE_NONE, or a NULL sad). */
vpn_sa *vpn_sad_get(const vpn_sad *sad, vpn_sa_handle h);
/*
 * An SA by (SPI, direction), dir VPN_SA_IN or VPN_SA_OUT: a VPN_SA_BOTH SA
 * answers either. Where several inbound SAs share the SPI (different
 * destinations) the oldest is returned. NULL if none, for another dir, or
 * a NULL sad. Expected O(1).
 */
vpn_sa *vpn_sad_find(const vpn_sad *sad, uint32_t spi, unsigned dir);

/*
 * The inbound SA for (spi, dst): an SA keyed by that destination first,
 * else one with a wildcard destination. dst may be NULL (wildcards only).
 * NULL if none.
 */
vpn_sa *vpn_sad_lookup(const vpn_sad *sad, uint32_t spi, const vpn_addr *dst);

size_t vpn_sad_count(const vpn_sad *sad);
/* Iteration in insertion order: first with prev NULL; NULL at the end. */
vpn_sa *vpn_sad_next(const vpn_sad *sad, const vpn_sa *prev);

/* The next time-based lifetime event (ns), or UINT64_MAX if none. */
uint64_t vpn_sad_next_deadline(vpn_sad *sad);
/* Fires the time-based events due at now. */
void vpn_sad_timeout(vpn_sad *sad, uint64_t now);

/* A borrowed pointer to the counters (NULL for a NULL sad). */
const vpn_sad_stats *vpn_sad_get_stats(const vpn_sad *sad);
/* The engine contract's getter: copies the counters; zeros for a NULL sad. */
void vpn_sad_stats_get(const vpn_sad *sad, vpn_sad_stats *out);

/* ---- one SA ------------------------------------------------------------------ */

/* The SA's handle in its SAD; VPN_SA_HANDLE_NONE for NULL. */
vpn_sa_handle vpn_sa_get_handle(const vpn_sa *sa);
/* The configuration as given, with the key pointers NULL (keys are private). */
const vpn_sa_config *vpn_sa_get_config(const vpn_sa *sa);
const vpn_sa_stats *vpn_sa_get_stats(const vpn_sa *sa);
/* Copies the SA's counters; zeros for a NULL sa. */
void vpn_sa_stats_get(const vpn_sa *sa, vpn_sa_stats *out);
const vpn_cipher_info *vpn_sa_get_cipher_info(const vpn_sa *sa);
/* NULL for AEAD or no integrity. */
const vpn_integ_info *vpn_sa_get_integ_info(const vpn_sa *sa);
void *vpn_sa_get_user(const vpn_sa *sa);
/* True once a hard limit was reached. */
bool vpn_sa_is_expired(const vpn_sa *sa);
/*
 * What is left before the hard limits, each UINT64_MAX when unlimited
 * (for `show crypto ipsec sa`: "remaining key lifetime (k/sec)"). Any
 * output pointer may be NULL; a NULL sa gives 0 for each.
 */
void vpn_sa_get_remaining(const vpn_sa *sa, uint64_t now, uint64_t *bytes, uint64_t *packets,
                          uint64_t *time_ns);
/*
 * The peer moved (RFC 7296 2.23: a NAT in front of it changed its mapping):
 * an outbound SA sends to remote and, with udp_encap, to UDP port port
 * from now on; an inbound SA records that the peer sends from there
 * (remote, udp_sport). Keys, counters and the replay window stay.
 * Errors: VPN_ERR_INVAL (NULL, port 0, or an address of another family).
 */
int vpn_sa_set_peer(vpn_sa *sa, const vpn_addr *remote, uint16_t port);
/* TBAR: adopt the key server's pseudotime, and read our own. */
void vpn_sa_tbar_sync(vpn_sa *sa, uint64_t now, uint64_t pseudotime_ms);
uint64_t vpn_sa_tbar_now_ms(const vpn_sa *sa, uint64_t now);
/*
 * The SA's keys, for key exports (Wireshark, GDOI key servers). Pointers
 * into the SA, valid while it lives. Either pair may be NULL.
 */
void vpn_sa_get_keys(const vpn_sa *sa, const uint8_t **encr, size_t *encr_len,
                     const uint8_t **integ, size_t *integ_len);

#ifdef __cplusplus
}
#endif

#endif
