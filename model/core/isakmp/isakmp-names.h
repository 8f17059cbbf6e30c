/*
 * Text names of ISAKMP, IPsec DOI and GDOI numbers, for logs and the
 * `show crypto gdoi` / `show crypto isakmp` views. Every function returns
 * a static string, never NULL; numbers without a name give "UNKNOWN".
 * Names follow the RFCs' spelling (RFC 2408, 2407, 2409, 6407, 8263).
 */
#ifndef VPN_ISAKMP_NAMES_H
#define VPN_ISAKMP_NAMES_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Exchange names depend on the DOI: 32 and 33 are Quick Mode and New
 * Group Mode in the IPsec DOI, GROUPKEY-PULL and GROUPKEY-PUSH in the GDOI
 * (doi = VPN_ISAKMP_DOI_GDOI).
 */
const char *vpn_isakmp_exch_name(uint8_t exch, uint32_t doi);
const char *vpn_isakmp_pl_name(uint8_t type);
const char *vpn_isakmp_notify_name(uint16_t type);
const char *vpn_isakmp_doi_name(uint32_t doi);
const char *vpn_isakmp_proto_name(uint8_t proto);
const char *vpn_isakmp_id_type_name(uint8_t type);

/* Attribute spaces. */
typedef enum vpn_isakmp_attr_space {
    VPN_ATTRS_IKEV1,         /* RFC 2409 appendix A */
    VPN_ATTRS_IPSEC_DOI,       /* RFC 2407 4.5 (+ RFC 6407 14, 15) */
    VPN_ATTRS_GDOI_KEK,    /* RFC 6407 5.3, RFC 8263 */
    VPN_ATTRS_GDOI_GAP,    /* RFC 6407 5.5 */
    VPN_ATTRS_GDOI_KD_TEK, /* RFC 6407 5.6.1 */
    VPN_ATTRS_GDOI_KD_KEK, /* RFC 6407 5.6.2 */
    VPN_ATTRS_GDOI_KD_SID, /* RFC 6407 5.6.4 */
} vpn_isakmp_attr_space;

const char *vpn_isakmp_attr_name(vpn_isakmp_attr_space space, uint16_t type);

/* Values. */
const char *vpn_gdoi_kd_type_name(uint8_t type);
const char *vpn_gdoi_kek_alg_name(uint16_t alg);
const char *vpn_gdoi_sig_hash_name(uint16_t hash);
const char *vpn_gdoi_sig_alg_name(uint16_t alg);
const char *vpn_gdoi_tek_proto_name(uint8_t proto);
const char *vpn_gdoi_sa_dir_name(uint16_t dir);
const char *vpn_gdoi_addr_pres_name(uint16_t v);
const char *vpn_ipsec_doi_encap_name(uint16_t mode);
const char *vpn_ipsec_doi_auth_name(uint16_t alg);
const char *vpn_ipsec_doi_esp_name(uint8_t transform_id);
const char *vpn_ikev1_encr_name(uint16_t alg);
const char *vpn_ikev1_hash_name(uint16_t alg);
const char *vpn_ikev1_auth_name(uint16_t method);

#ifdef __cplusplus
}
#endif

#endif
