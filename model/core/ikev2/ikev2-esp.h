/*
 * From a CHILD_SA the IKEv2 engine reports (VPN_IKEV2_EV_CHILD_UP) to the
 * pair of ESP SA configurations the SAD installs (ipsec/sa.h). Every
 * driver (the ns-3 daemon, vpnd) installs the same pair this way, so what
 * an IKEv2 CHILD_SA means on the data plane is said once, here.
 */
#ifndef VPN_IKEV2_ESP_H
#define VPN_IKEV2_ESP_H

#include <stddef.h>

#include "ikev2/ikev2-engine.h"
#include "ipsec/sa.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Room for every inbound selector a CHILD_SA can yield (each remote range
 * paired with each local one). */
#define VPN_IKEV2_CHILD_TS_MAX (VPN_IKEV2_TS_MAX * VPN_IKEV2_TS_MAX)

/*
 * The inbound and outbound SA configurations of CHILD_SA c:
 * - in: the SPI we chose (spi_in), the keys the peer encrypts with, UDP
 *   ports from the peer to us, and the inbound selectors (RFC 4301 5.2:
 *   a decrypted packet must match the SA's selectors) written into ts,
 *   each pair of a remote (source) and a local (destination) range;
 * - out: the peer's SPI (spi_out), our sending keys, ports from us to the
 *   peer, no selectors (the SPD or the tunnel picks the SA).
 * Both: the negotiated transforms and mode, ESN, NAT-T encapsulation, a
 * 64-packet replay window (IOS's default) and DSCP copied to the outer
 * header (RFC 4301 5.1.2). Everything else is zero; user is NULL.
 *
 * The configs borrow c's keys and ts: use them while both are valid (the
 * keys only during the event callback). ts_cap of VPN_IKEV2_CHILD_TS_MAX
 * always suffices.
 * Errors: VPN_ERR_INVAL (a NULL argument, a missing encryption key),
 * VPN_ERR_NOSPACE (ts_cap below n_ts_remote * n_ts_local); in and out are
 * then zeroed.
 */
int vpn_ikev2_child_sa_configs(const vpn_ikev2_child_info *c, vpn_ts *ts, size_t ts_cap,
                               vpn_sa_config *in, vpn_sa_config *out);

#ifdef __cplusplus
}
#endif

#endif
