/*
 * The router's IKEv1 phase-1 table (internal to model/core/router): the
 * Main Mode SAs (RFC 2409 5) a node runs on UDP 500 under `crypto isakmp
 * policy` / `crypto isakmp key`, found by peer and initiator cookie. The
 * router owns one (router.h, "IKEv1 phase 1") and gives it the datagrams
 * whose ISAKMP header says version 1.0; its deadline is part of the
 * router's one deadline.
 *
 * Phase 2 is not served: in this project phase-2 keys come from GDOI (GET
 * VPN), so a Quick Mode request under an established SA is answered with
 * an encrypted NO_PROPOSAL_CHOSEN notify (RFC 2408 3.14), which lets the
 * peer fail it at once instead of retrying. SAs that are gone stay listed
 * as MM_NO_STATE / DELETED for RT_IKEV1_LINGER_NS, as IOS lists them.
 */
#ifndef VPN_ROUTER_IKEV1_H
#define VPN_ROUTER_IKEV1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/rng.h"
#include "common/vpn-log.h"
#include "conf/conf.h"
#include "ikev2/ikev2-engine.h"
#include "show/show.h"

#define RT_IKEV1_MAX 64                       /* phase-1 SAs alive at once (half-open included) */
#define RT_IKEV1_LINGER_NS 30000000000ull     /* a dead SA stays in the view this long */
#define RT_IKEV1_FIRST_CONN_ID 1001u          /* IOS numbers connections from 1001 */

typedef struct rt_ikev1 rt_ikev1;

typedef struct rt_ikev1_params {
    const vpn_conf *conf;  /* borrowed */
    const vpn_rng *rng;    /* borrowed */
    vpn_log log;
    const char *name;      /* in logs */
    /* A datagram for the network (UDP 500 both ends). */
    void (*send)(void *user, const vpn_ikev2_dgram *d);
    /* A Wireshark ikev1_decryption_table line of a new phase-1 SA, once
     * per SA, as soon as its keys exist (so that a failed authentication
     * still decrypts); valid during the call. Optional. */
    void (*key_line)(void *user, const char *line);
    void *user;
} rt_ikev1_params;

/* Errors: VPN_ERR_INVAL (no conf, rng or send), VPN_ERR_NOMEM. */
int rt_ikev1_new(rt_ikev1 **out, const rt_ikev1_params *p);
/* Frees every SA (keys wiped). NULL is fine. */
void rt_ikev1_del(rt_ikev1 *t);

/*
 * An ISAKMP datagram with version 1.0 from remote to local (port 500).
 * Returns 0 when an SA took it (whatever the SA made of it: the engine
 * drops and counts its own malformed input), VPN_ERR_MALFORMED (no ISAKMP
 * header), VPN_ERR_NOTFOUND (for no SA here and no new Main Mode),
 * the engine's errors for a first message it refused without an answer,
 * VPN_ERR_LIMIT (RT_IKEV1_MAX SAs alive), VPN_ERR_AUTH / VPN_ERR_NOTFOUND
 * from the configuration (no key, no policy), VPN_ERR_NOMEM. Every error
 * leaves the table as it was.
 */
int rt_ikev1_input(rt_ikev1 *t, uint64_t now, const vpn_ikev2_endpoint *local, const vpn_ikev2_endpoint *remote,
                   const uint8_t *dg, size_t len);

uint64_t rt_ikev1_next_deadline(const rt_ikev1 *t);
void rt_ikev1_timeout(rt_ikev1 *t, uint64_t now);

/* Starts Main Mode from local to peer (port 500). *conn_id: its number.
 * Errors: VPN_ERR_INVAL, VPN_ERR_LIMIT, VPN_ERR_NOTFOUND (no policy),
 * VPN_ERR_AUTH (no key for peer), those of vpn_ikev1_sa_new / _start. */
int rt_ikev1_initiate(rt_ikev1 *t, uint64_t now, const vpn_addr *local, const vpn_addr *peer, uint32_t *conn_id);

/* Deletes every live SA (all) or the one with conn_id; an established one
 * tells its peer (RFC 2408 3.15). Returns how many, or VPN_ERR_NOTFOUND
 * when conn_id names none. */
int rt_ikev1_clear(rt_ikev1 *t, uint64_t now, bool all, uint32_t conn_id);

/* Rows in the view (live and lingering). */
size_t rt_ikev1_count(const rt_ikev1 *t);
/* show crypto isakmp sa. Errors: VPN_ERR_NOMEM, VPN_ERR_NOSPACE. */
int rt_ikev1_show_sa(const rt_ikev1 *t, vpn_show_buf *b);

#endif
