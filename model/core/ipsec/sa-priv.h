/*
 * Inside an SA: shared by sa.c, esp.c and wskeys.c only. Not a public API.
 */
#ifndef VPN_IPSEC_SA_PRIV_H
#define VPN_IPSEC_SA_PRIV_H

#include "ipsec/replay.h"
#include "ipsec/sa.h"

#define VPN_SA_KEY_MAX 64

struct vpn_sa {
    /* the SPI chain first, in the line with cfg.spi: a lookup walking past
     * an SA of another SPI reads one line of it, not two (issue 14) */
    vpn_sa *hnext;            /* SPI hash chain (inbound SAs, VPN_SA_BOTH included) */
    vpn_sa_config cfg;       /* keys NULL, ts -> ts below */
    vpn_ts *ts;
    vpn_sad *sad;

    const vpn_cipher_info *ci;
    const vpn_integ_info *ii; /* NULL without separate integrity */
    vpn_cipher *enc;          /* outbound context, if dir & OUT */
    vpn_cipher *dec;          /* inbound context, if dir & IN */
    vpn_integ *integ;         /* shared by both directions */
    size_t blk;               /* padding boundary, at least 4 */
    size_t icv_len;
    size_t iv_len;
    uint64_t seq_max;         /* last usable outbound sequence number */
    uint64_t seq_soft;        /* where the SEQ soft event fires */
    uint8_t cbc_salt[8];      /* CBC counter IVs: E_K(salt || seq) */
    uint16_t ip_id;           /* outer IPv4 identification */

    uint8_t ekey[VPN_SA_KEY_MAX];
    size_t ekey_len;
    uint8_t ikey[VPN_SA_KEY_MAX];
    size_t ikey_len;

    vpn_replay replay;
    vpn_tbar tbar;
    vpn_sa_stats stats;

    uint64_t added_ns;
    uint64_t life_bytes, life_pkts; /* both directions */
    bool soft_fired, hard_fired;

    vpn_sa_handle handle;     /* never reused within the SAD */
    vpn_sa *onext;            /* SPI hash chain (outbound-only SAs) */
    vpn_sa *idnext;           /* handle hash chain (every SA) */
    vpn_sa *prev, *next;      /* every SA, in insertion order */
    bool hashed;
    size_t heap_idx;          /* place in the SAD's deadline heap; SA_NOT_IN_HEAP: none */
};

#define SA_NOT_IN_HEAP SIZE_MAX

/* A chained hash table of SAs; which chain pointer it uses is fixed per table. */
typedef struct vpn_sa_table {
    vpn_sa **b;               /* power-of-two size */
    size_t n;
    size_t used;
} vpn_sa_table;

struct vpn_sad {
    vpn_rng rng;
    vpn_log log;
    vpn_sa_event_fn ev_fn;
    void *ev_user;
    vpn_sad_drop_fn drop_fn;
    void *drop_user;
    vpn_alloc alloc; /* asked before each allocation (common/alloc.h) */

    vpn_sa_table in;          /* inbound SAs by SPI (destination checked in the chain) */
    vpn_sa_table out;         /* outbound-only SAs by SPI */
    vpn_sa_table ids;         /* every SA by handle */
    vpn_sa_handle next_handle;
    vpn_sa *head, *tail;
    size_t count;

    /* A binary min-heap of the SAs with a time limit still to come, by
     * that time (soft, then hard): the next deadline is its top, and a
     * timeout pops what is due, so neither walks every SA. */
    vpn_sa **heap;
    size_t n_heap, cap_heap;
    uint64_t next_deadline;   /* sa_deadline of heap[0]; UINT64_MAX: empty */
    vpn_sad_stats stats;
};

/* Refuses traffic on a hard-expired SA, or one about to exceed a hard limit
 * with n more bytes (firing the event). 0 or VPN_ERR_EXPIRED. */
int vpn_sa_life_check(vpn_sa *sa, size_t n, uint64_t now);
/* Counts one packet of n bytes toward the lifetimes, firing events. */
void vpn_sa_life_account(vpn_sa *sa, size_t n, uint64_t now);
/* Fires an event once per kind. */
void vpn_sa_fire(vpn_sa *sa, vpn_sa_event ev, vpn_sa_limit why, uint64_t now);
/* Counts a refused packet on sa (NULL: a SAD-level drop counted by the
 * caller), logs it and calls the drop callback; returns err. */
int vpn_sa_drop(vpn_sad *sad, vpn_sa *sa, uint32_t spi, vpn_sa_err kind, bool inbound, int err);
int vpn_sad_drop(vpn_sad *sad, uint32_t spi, const char *reason, int err);

#endif
