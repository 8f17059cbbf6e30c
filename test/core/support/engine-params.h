/*
 * What the engine test harnesses set up alike: a router's vpn_router_params
 * (router-net.h, router-mnet.h) and the remote-access configuration blocks
 * (ikev2-eap-engine, ikev2-inject-fail, router-access). The blocks are string
 * literals, so each driver's text is the concatenation it spelled out before.
 */
#ifndef TEST_ENGINE_PARAMS_H
#define TEST_ENGINE_PARAMS_H

#include "common/rng.h"
#include "conf/conf.h"
#include "router/router.h"
#include "test-util.h"

/* Fills p for a router named name on conf, drawing from drbg (engine) and
 * sad_drbg (SAD), logging at debug into sink, callbacks' user pointer user;
 * the caller sets the callbacks. name, conf, the DRBGs and sink must outlive
 * the router. */
void tu_router_params(vpn_router_params *p, const vpn_conf *conf, vpn_drbg *drbg, vpn_drbg *sad_drbg,
                      tu_log_sink *sink, const char *name, void *user);

/* ---- remote access (RFC 7296 2.16 EAP, 3.15 configuration payload) ---------- */

/* The hub's AAA head: local authorization list RA-AUTHOR, user alice. */
#define TU_RA_HUB_AAA                                                                              \
    "hostname hub\n"                                                                               \
    "aaa new-model\n"                                                                              \
    "aaa authorization network RA-AUTHOR local\n"                                                  \
    "username alice password Secr3t!\n"

/* The hub's pool RA-POOL (two addresses) and authorization policy RA-POL:
 * an address, DNS 10.1.0.53, split tunnel 10.1.0.0/16 (access list SPLIT). */
#define TU_RA_HUB_POOL_SPLIT                                                                       \
    "ip local pool RA-POOL 10.99.0.10 10.99.0.11\n"                                                \
    "ip access-list standard SPLIT\n"                                                              \
    " permit 10.1.0.0 0.0.255.255\n"                                                               \
    "crypto ikev2 authorization policy RA-POL\n"                                                   \
    " pool RA-POOL\n"                                                                              \
    " dns 10.1.0.53\n"                                                                             \
    " route set access-list SPLIT\n"

/* Both sides' IKE proposal and policy. */
#define TU_RA_IKE_PROPOSAL                                                                         \
    "crypto ikev2 proposal P1\n"                                                                   \
    " encryption aes-cbc-256\n integrity sha256\n prf sha256\n group 19\n"                       \
    "crypto ikev2 policy POL1\n proposal P1\n"

/* The hub's profile RA: EAP from any client, its own PSK, authorization
 * RA-AUTHOR/RA-POL, clients on Virtual-Template1. */
#define TU_RA_HUB_PROFILE                                                                          \
    "crypto ikev2 profile RA\n"                                                                    \
    " match identity remote any\n"                                                                 \
    " authentication remote eap query-identity\n"                                                  \
    " authentication local pre-share key hubkey\n"                                                 \
    " aaa authorization group eap list RA-AUTHOR RA-POL\n"                                         \
    " virtual-template 1\n"

/* Both sides' transform set and IPsec profile IPP on profile RA. */
#define TU_RA_IPSEC_PROFILE                                                                        \
    "crypto ipsec transform-set TS esp-aes 256 esp-sha256-hmac\n"                                  \
    "crypto ipsec profile IPP\n set transform-set TS\n set ikev2-profile RA\n"

/* The client's head and profile up to its identity: hub 192.0.2.2 by PSK. */
#define TU_RA_CLIENT_HEAD                                                                          \
    "hostname client\n" TU_RA_IKE_PROPOSAL "crypto ikev2 profile RA\n"                             \
    " match identity remote address 192.0.2.2 255.255.255.255\n"

#endif
