/*
 * GET VPN engine parameters from IOS configuration (conf/conf.h): a key
 * server's `crypto gdoi group` with `server local` becomes a
 * vpn_gdoi_ks_cfg, a group member's `crypto map ... gdoi` on an interface
 * a vpn_gdoi_gm_cfg. What IOS keeps elsewhere comes from the same text:
 * the TEK policy from `sa ipsec` (the ACL's permit lines in order, deny
 * lines applied on the key server as gdoi-conf.c describes, the ipsec
 * profile's first transform set and lifetime, the replay window), phase 1
 * from `crypto isakmp policy` / `crypto isakmp key` (ikev1/ikev1-conf.h).
 * The rekey RSA key pair is the driver's: IOS keeps it outside the
 * configuration (`crypto key generate rsa label L modulus N`, listed in
 * vpn_conf.rsa_key when the text has it), so the caller generates or
 * loads it and hands it in.
 *
 * Errors fill a vpn_conf_error naming the configuration line at fault (or
 * line 0 when something is missing altogether) and what to add.
 */
#ifndef VPN_GDOI_CONF_H
#define VPN_GDOI_CONF_H

#include "conf/conf.h"
#include "gdoi/gdoi.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VPN_GDOI_CONF_RULES_MAX 64 /* lines of an authorization ACL */

/* A KS configuration and the storage its pointers use; keep it unchanged
 * until vpn_gdoi_ks_new returned (the engine copies everything). */
typedef struct vpn_gdoi_conf_ks {
    vpn_gdoi_ks_cfg cfg;
    vpn_ikev1_suite suites[VPN_IKEV1_SUITES_MAX];
    vpn_gdoi_auth_rule rules[VPN_GDOI_CONF_RULES_MAX];
    vpn_gdoi_coop_peer peers[VPN_CONF_GDOI_PEERS_MAX];
    const vpn_conf_gdoi_group *group; /* the group it came from (points into c) */
} vpn_gdoi_conf_ks;

/*
 * Translates group (NULL: the only group with `server local`) into a KS
 * configuration. rekey_key is the RSA key pair `rekey authentication
 * mypubkey rsa LABEL` names (borrowed: it must outlive the KS); with
 * `redundancy`, every KS shares it (as IOS requires), so it also signs our
 * COOP announcements and verifies the peers'. Phase 1 uses the ISAKMP
 * policies with the pre-shared key for any address (`crypto isakmp key K
 * address 0.0.0.0 0.0.0.0`). c must outlive out. Errors: VPN_ERR_INVAL
 * (NULL argument, no key given), VPN_ERR_NOTFOUND (no such group, or a
 * needed line is missing: identity, address ipv4, sa ipsec with profile
 * and match address, rekey authentication, an ISAKMP policy or key),
 * VPN_ERR_UNSUPPORTED (something the engines do not implement: a deny
 * line covering only part of a later permit line, port ranges in a
 * permit line, dscp, counter-based replay, a KEK
 * other than AES-256, a rekey signature hash other than SHA-256, a transform other than AES-CBC/HMAC or AES-GCM),
 * VPN_ERR_LIMIT (more than VPN_GDOI_TEK_SELS_MAX permit lines in the TEK
 * ACL), VPN_ERR_POLICY (inconsistent: a rekey ACL whose destination is not one
 * multicast host or whose source is not this KS, more than one group
 * with `server local` and no name given).
 */
int vpn_gdoi_ks_cfg_from_conf(const vpn_conf *c, const char *group, const vpn_sig_key *rekey_key,
                              vpn_gdoi_conf_ks *out, vpn_conf_error *err);

/* Local deny lines of one crypto map entry (getvpn.h VPN_GETVPN_MAX_DENY). */
#define VPN_GDOI_CONF_DENY_MAX 64

/* A GM configuration and its storage (as above). */
typedef struct vpn_gdoi_conf_gm {
    vpn_gdoi_gm_cfg cfg;
    vpn_ikev1_suite suites[VPN_IKEV1_SUITES_MAX];
    vpn_addr servers[VPN_CONF_GDOI_SERVERS_MAX];
    const vpn_conf_interface *iface;      /* the interface with the crypto map */
    const vpn_conf_crypto_map *map;       /* the entry translated */
    const vpn_conf_gdoi_group *group;
    /* the entry's `match address ACL` (IOS: a member-local ACL of deny
     * lines), in order, as selectors: that traffic bypasses the group */
    vpn_spd_sel deny[VPN_GDOI_CONF_DENY_MAX];
    size_t n_deny;
} vpn_gdoi_conf_gm;

/*
 * Translates the crypto map on interface (NULL: the only interface with
 * one) into a GM configuration: the map's first entry names the group
 * (vpn_gdoi_gm_cfg_from_conf_entry translates the others);
 * its servers are tried in order. local is the member's address (NULL:
 * the `client registration interface`'s address if configured, else the
 * crypto map interface's). sad and spd are borrowed as in vpn_gdoi_gm_cfg;
 * our SPD entries take the map entry's sequence number. Phase 1 uses the
 * `crypto isakmp key` covering the first server. Errors: VPN_ERR_INVAL,
 * VPN_ERR_NOTFOUND (no crypto map interface, a group with no `server
 * address ipv4`, no address, no ISAKMP policy or key for the server),
 * VPN_ERR_POLICY (the group is a key server's, several crypto map
 * interfaces and no name given).
 */
int vpn_gdoi_gm_cfg_from_conf(const vpn_conf *c, const char *interface, const vpn_addr *local,
                              vpn_sad *sad, vpn_spd *spd, vpn_gdoi_conf_gm *out,
                              vpn_conf_error *err);

/*
 * The number of entries (`crypto map NAME N gdoi`, one group each) of the
 * crypto map on interface (NULL: the only interface with one); 0 when
 * there is none or it cannot be told which.
 */
size_t vpn_gdoi_conf_gm_entries(const vpn_conf *c, const char *interface);

/*
 * As vpn_gdoi_gm_cfg_from_conf for entry `entry` (0: the lowest-numbered)
 * of the crypto map: a router that is a member of several groups (IOS:
 * several `crypto map NAME N gdoi` entries, each `set group` to its own
 * group) translates each entry into its own member configuration; each
 * registers with its own group's key servers under its own identity.
 * sad and spd may be NULL here (a vpn_getvpn_node makes its own); our
 * SPD entries take the entry's number. out->deny holds the entry's local
 * deny lines. Errors: those of vpn_gdoi_gm_cfg_from_conf, VPN_ERR_NOTFOUND
 * for an entry past the last, VPN_ERR_UNSUPPORTED (a local ACL line that
 * is not IPv4), VPN_ERR_LIMIT (more than VPN_GDOI_CONF_DENY_MAX lines),
 * each naming its line.
 */
int vpn_gdoi_gm_cfg_from_conf_entry(const vpn_conf *c, const char *interface, size_t entry,
                                    const vpn_addr *local, vpn_sad *sad, vpn_spd *spd,
                                    vpn_gdoi_conf_gm *out, vpn_conf_error *err);

#ifdef __cplusplus
}
#endif

#endif
