/*
 * `show crypto ikev2 sa [detail]`, `show crypto session [detail]` and
 * `show crypto ipsec sa` rendered from an IKEv2 engine's state, in IOS's
 * layout (see shared notes). What the engine does not know (interface
 * names, packet counters of the data plane) comes from the driver through
 * vpn_show_ikev2_env.
 */
#ifndef VPN_SHOW_IKEV2_H
#define VPN_SHOW_IKEV2_H

#include <stdbool.h>
#include <stdint.h>

#include "ikev2/ikev2-engine.h"
#include "ipsec/sa.h"
#include "show/show.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Data-plane counters of one CHILD_SA pair, as the SAD keeps them. */
typedef struct vpn_show_child_counters {
    uint64_t pkts_encaps, pkts_encrypt, pkts_digest;
    uint64_t pkts_decaps, pkts_decrypt, pkts_verify;
    uint64_t drop_in, drop_out;
    uint64_t send_errors, recv_errors;
    uint64_t bytes_in, bytes_out;
} vpn_show_child_counters;

/*
 * A CHILD_SA's row from the SAD counters of its inbound and outbound SA,
 * for a child_counters callback: IOS counts each packet sent as
 * encapsulated, encrypted and digested, each one received as decapsulated,
 * decrypted and verified. Errors: VPN_ERR_INVAL (a NULL argument; *row is
 * zeroed when it is not NULL).
 */
int vpn_show_child_counters_from_sas(const vpn_sa *in, const vpn_sa *out,
                                     vpn_show_child_counters *row);

typedef struct vpn_show_ikev2_env {
    void *user;
    /* The interface a child policy protects ("Tunnel0"); NULL or a NULL
     * result gives "Tunnel<tag>". */
    const char *(*interface_name)(void *user, uint32_t policy_tag);
    /* Counters of a CHILD_SA; NULL or false gives zeros. */
    bool (*child_counters)(void *user, uint32_t child_id, vpn_show_child_counters *out);
    uint32_t path_mtu;   /* 0: 1500 */
    /* Optional, asked first: the interface of a child policy towards one
     * peer (a FlexVPN template's sessions each live on their own
     * Virtual-Access clone), written into buf; NULL: interface_name. */
    const char *(*peer_interface_name)(void *user, uint32_t policy_tag, const vpn_addr *peer, char *buf,
                                       size_t len);
} vpn_show_ikev2_env;

/*
 * show crypto ikev2 sa [detail]: IPv4 SAs then IPv6 SAs. now is the
 * engine's clock (for the active time). env may be NULL.
 * Errors: VPN_ERR_NOSPACE (output truncated), VPN_ERR_INVAL.
 */
int vpn_show_ikev2_sa(const vpn_ikev2_ctx *ctx, uint64_t now, bool detail, vpn_show_buf *b);

/* show crypto session [detail]. Same errors. */
int vpn_show_crypto_session(const vpn_ikev2_ctx *ctx, uint64_t now, bool detail,
                            const vpn_show_ikev2_env *env, vpn_show_buf *b);

/* show crypto ipsec sa [detail], per interface. Same errors. */
int vpn_show_crypto_ipsec_sa(const vpn_ikev2_ctx *ctx, uint64_t now, bool detail,
                             const vpn_show_ikev2_env *env, vpn_show_buf *b);

/*
 * show crypto ikev2 stats: SA counts by direction and state (IOS's first
 * lines), then the engine's message counters. Same errors.
 */
int vpn_show_ikev2_stats(const vpn_ikev2_ctx *ctx, vpn_show_buf *b);

/* show ip local pool: the remote-access pools of the engine (Free, In use).
 * Errors: VPN_ERR_INVAL, VPN_ERR_NOSPACE (output cut). */
int vpn_show_ip_local_pool(const vpn_ikev2_ctx *ctx, vpn_show_buf *b);

/* show crypto session username USER [detail]: the sessions whose EAP
 * identity is user. Errors: VPN_ERR_INVAL, VPN_ERR_NOSPACE. */
int vpn_show_crypto_session_user(const vpn_ikev2_ctx *ctx, uint64_t now, const char *user, bool detail,
                                 const vpn_show_ikev2_env *env, vpn_show_buf *b);

/* IOS text of a selector in an IPSEC FLOW line: "host A", "A/MASK", or
 * "A-B" for a range that is no prefix; "ip" or the protocol number. */
const char *vpn_show_selector_addr(const vpn_ikev2_selector *s, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
