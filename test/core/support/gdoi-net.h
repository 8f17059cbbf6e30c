/*
 * The in-memory network of the GDOI drivers (gdoi-engine-test,
 * gdoi-coop-test, gdoi-inject-fail-test): a datagram queue that the engines' send callbacks fill
 * (optionally traced to a pcap pair: as sent, and with the decrypted
 * view), a pump that hands each queued datagram to the driver's router a
 * 1 ms hop at a time, a timer loop, and the member, traffic and
 * registration helpers both drivers use.
 */
#ifndef VPN_TEST_GDOI_NET_H
#define VPN_TEST_GDOI_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/rng.h"
#include "gdoi/gdoi.h"
#include "ipsec/sa.h"
#include "ipsec/spd.h"
#include "pcap-writer.h"

#define TU_GDOI_DG_MAX 16384

typedef struct tu_gdoi_dgram {
    vpn_addr src, dst;
    uint8_t b[TU_GDOI_DG_MAX], v[TU_GDOI_DG_MAX]; /* as sent; decrypted view */
    size_t len, vlen;
} tu_gdoi_dgram;

typedef struct tu_gdoi_wire {
    tu_gdoi_dgram *q;
    unsigned nq, cap;      /* queued; queue size (a test fails beyond it) */
    size_t dg_max;         /* largest datagram a test accepts (<= TU_GDOI_DG_MAX) */
    tu_pcap *pcap, *plain; /* the trace test's files */
    uint64_t ts;
    uint64_t *now;         /* the driver's clock */
    void *user;            /* the driver's net, for the callbacks below */
    void (*deliver)(void *user, const tu_gdoi_dgram *d);
    uint64_t (*deadline)(void *user);
    void (*tick)(void *user, uint64_t now);
} tu_gdoi_wire;

/* Allocates the queue (cap datagrams of at most dg_max bytes). */
void tu_gdoi_wire_init(tu_gdoi_wire *w, unsigned cap, size_t dg_max, uint64_t *now, void *user);
void tu_gdoi_wire_free(tu_gdoi_wire *w);

/*
 * Queues a datagram (and writes it to the trace if one is open); the view,
 * when given, must be unencrypted. Returns the queued copy.
 */
tu_gdoi_dgram *tu_gdoi_wire_send(tu_gdoi_wire *w, const vpn_addr *src, const vpn_addr *dst,
                                 const uint8_t *dg, size_t len, const uint8_t *view,
                                 size_t view_len);

/* Opens the trace pair (timestamps from 1700000000 s) / closes it. */
void tu_gdoi_trace_open(tu_gdoi_wire *w, const char *path, const char *plain_path);
void tu_gdoi_trace_close(tu_gdoi_wire *w);

/* Delivers everything queued (and what that provokes), 1 ms per hop. */
void tu_gdoi_pump(tu_gdoi_wire *w);

/*
 * Runs timers and traffic until time until; guard > 0 fails the test after
 * that many timer rounds.
 */
void tu_gdoi_run_until(tu_gdoi_wire *w, uint64_t until, int guard);

/* A fresh 2048-bit RSA key. */
vpn_sig_key *tu_gdoi_rsa_key(void);

/*
 * Member i of group 1234 ("GETVPN", PSK "gdoi-psk") at 198.51.100.(11+i),
 * with its own SAD and SPD; ks (one server) or servers/n_servers name its
 * key servers.
 */
void tu_gdoi_member(unsigned i, const vpn_addr *ks, const vpn_addr *servers, size_t n_servers,
                    vpn_rng *rng, vpn_gdoi_send_fn send, void *user, vpn_addr *addr,
                    vpn_gdoi_gm **gm, vpn_sad **sad, vpn_spd **spd);

/* The same, the member reporting to event (vpn_gdoi_gm_cfg.event). */
void tu_gdoi_member_ev(unsigned i, const vpn_addr *ks, const vpn_addr *servers, size_t n_servers,
                       vpn_rng *rng, vpn_gdoi_send_fn send, void *user, vpn_addr *addr,
                       vpn_gdoi_gm **gm, vpn_sad **sad, vpn_spd **spd,
                       void (*event)(void *, const vpn_gdoi_gm_event *), void *event_user);

/* Frees members 0..n-1 (engine, SPD and SAD), as made by tu_gdoi_member. */
void tu_gdoi_members_free(vpn_gdoi_gm **gm, vpn_sad **sad, vpn_spd **spd, unsigned n);

/*
 * The key server every GDOI driver starts from (the caller adds to it):
 * group 1234 ("GETVPN", PSK "gdoi-psk") at ks, TEK for 10/8 <-> 10/8 with
 * AES-CBC for 600 s, KEK for 3000 s, unicast rekeys signed with rekey_key.
 */
void tu_gdoi_ks_cfg_std(vpn_gdoi_ks_cfg *kc, const vpn_addr *ks, vpn_sig_key *rekey_key);

/* The earliest deadline of the key server and the n members. */
uint64_t tu_gdoi_deadline(const vpn_gdoi_ks *ks, vpn_gdoi_gm *const *gm, unsigned n);

/* The timers of the key server and the n members, at now. */
void tu_gdoi_tick(vpn_gdoi_ks *ks, vpn_gdoi_gm **gm, unsigned n, uint64_t now);

/* Member gm is registered and holds key server ks's current TEK, KEK and SEQ. */
void tu_gdoi_assert_member(vpn_gdoi_gm *gm, const vpn_gdoi_ks *ks);

/*
 * A UDP packet (TOS tos, payload from seed) from 10.1.0.5 to 10.2.0.7,
 * protected by the SPD spd_a, decrypted through sad_b and compared with the
 * original. With want_sa, also checks that the SPD picked that SA and that
 * the outer header keeps the hosts' addresses. Returns the ESP error, or 0.
 */
int tu_gdoi_send_between(vpn_spd *spd_a, vpn_sad *sad_b, uint64_t now, uint8_t tos,
                         uint32_t seed, const vpn_sa *want_sa);

#endif
