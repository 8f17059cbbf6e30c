/*
 * Anti-replay for ESP receivers.
 *
 * Counter based (RFC 4303 3.4.3 and appendix A): a sliding window over
 * sequence numbers kept as a ring of 64-bit blocks (the RFC 6479 layout:
 * moving the window clears whole blocks, never shifts bits), with the
 * extended sequence number inference of RFC 4303 appendix A2.2. The window
 * moves only when the caller says the packet verified (vpn_replay_update).
 *
 * Time based (TBAR, as GET VPN does for group SAs, where many senders share
 * one SA and counters cannot work): each packet carries the sender's
 * pseudotime; a receiver accepts it when it lies within +-window of its own
 * pseudotime. How the pseudotime rides in the packet is ours to define (the
 * Cisco carrier is proprietary); see VPN_TBAR_BLOCK_LEN and esp.h.
 */
#ifndef VPN_IPSEC_REPLAY_H
#define VPN_IPSEC_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VPN_REPLAY_WINDOW_MAX 65536u

typedef struct vpn_replay {
    uint64_t top;      /* highest sequence number verified so far (0: none) */
    uint32_t window;   /* packets; 0 = no replay check (ESN inference still runs) */
    uint32_t mask;     /* nblocks - 1; nblocks is a power of two */
    bool esn;
    uint64_t *bits;    /* ring of nblocks blocks; bit s%64 of block (s/64)&mask */
} vpn_replay;

/*
 * Sets up a window of `window` packets (0 disables the check) for 32-bit
 * or extended (esn) sequence numbers. Allocates the bitmap; free with
 * vpn_replay_free. Errors: VPN_ERR_INVAL (window > VPN_REPLAY_WINDOW_MAX),
 * VPN_ERR_NOMEM.
 */
int vpn_replay_init(vpn_replay *r, uint32_t window, bool esn);
void vpn_replay_free(vpn_replay *r);

/*
 * Checks the received low 32 bits without changing state, and gives the
 * full 64-bit number to authenticate with (RFC 4303 A2.2: the high half is
 * inferred from where the window stands). Returns 0, or VPN_ERR_REPLAY if
 * the number was seen or lies left of the window (sequence number 0 is
 * never valid: senders start at 1).
 */
int vpn_replay_check(const vpn_replay *r, uint32_t seql, uint64_t *seq);

/* Marks seq as received (after its ICV verified), moving the window right
 * if seq is new. Re-checks, so a duplicate is refused with VPN_ERR_REPLAY. */
int vpn_replay_update(vpn_replay *r, uint64_t seq);

/* ---- time-based anti-replay ---------------------------------------------- */

typedef struct vpn_tbar {
    uint64_t window_ms;   /* accept |sender - own| <= window_ms */
    int64_t offset_ns;    /* own pseudotime = now + offset_ns */
} vpn_tbar;

/* Window in milliseconds; pseudotime starts as now (unsynchronised). */
void vpn_tbar_init(vpn_tbar *t, uint64_t window_ms);
/* Adopts a pseudotime learned from the key server at local time now. */
void vpn_tbar_sync(vpn_tbar *t, uint64_t now, uint64_t pseudotime_ms);
/* Own pseudotime in ms at local time now (0 if it would be negative). */
uint64_t vpn_tbar_now_ms(const vpn_tbar *t, uint64_t now);
/* 0 if the sender's pseudotime is inside the window, else VPN_ERR_REPLAY. */
int vpn_tbar_check(const vpn_tbar *t, uint64_t now, uint64_t sender_ms);

/*
 * The pseudotime block, 12 bytes, placed as RFC 4303 2.7 TFC padding right
 * after the inner IP packet inside the encrypted ESP payload (tunnel modes
 * only: the inner header's length tells a receiver where it starts):
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |      'T' (0x54)   |    'B' (0x42)   |  Length = 12  | Ver = 1 |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                 Pseudotime (milliseconds, 64 bits)            |
 *  |                                                               |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * It is encrypted and covered by the ICV. Receivers that do not know it
 * (Wireshark included) see ordinary TFC padding and ignore it.
 */
#define VPN_TBAR_BLOCK_LEN 12
void vpn_tbar_block_write(uint8_t *p, uint64_t pseudotime_ms);
/* Reads a block from len bytes. Errors: VPN_ERR_TRUNCATED, VPN_ERR_MALFORMED. */
int vpn_tbar_block_read(const uint8_t *p, size_t len, uint64_t *pseudotime_ms);

#ifdef __cplusplus
}
#endif

#endif
