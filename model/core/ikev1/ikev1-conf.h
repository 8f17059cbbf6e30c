/*
 * IKEv1 phase-1 settings from IOS configuration: `crypto isakmp policy`
 * becomes the engine's suite list, `crypto isakmp key ... address` the
 * pre-shared key for a peer.
 */
#ifndef VPN_IKEV1_CONF_H
#define VPN_IKEV1_CONF_H

#include "conf/conf.h"
#include "ikev1/ikev1.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Fills cfg (suites, PSK, local_id) for a phase 1 between local and peer.
 * Policies are taken in priority order; one whose authentication has no
 * credential is left out, as IOS skips it: pre-share needs a `crypto
 * isakmp key` covering peer, rsa-sig needs cfg->key set by the caller
 * beforehand (with cfg->peer_keys). The other fields of cfg are kept.
 * suites is storage for the list (cfg->suites points to it) and the PSK
 * points into c: both must outlive vpn_ikev1_sa_new, which copies them.
 * Errors: VPN_ERR_INVAL (NULL argument), VPN_ERR_NOTFOUND (no ISAKMP
 * policy is configured), VPN_ERR_AUTH (no policy has a credential for
 * this peer).
 */
int vpn_ikev1_cfg_from_conf(const vpn_conf *c, const vpn_addr *local, const vpn_addr *peer,
                            vpn_ikev1_suite suites[VPN_IKEV1_SUITES_MAX], vpn_ikev1_cfg *cfg);

#ifdef __cplusplus
}
#endif

#endif
