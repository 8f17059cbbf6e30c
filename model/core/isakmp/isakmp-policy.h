/*
 * Typed views of the two attribute spaces of IKEv1: the phase 1 SA
 * attributes (RFC 2409 appendix A) and the IPsec DOI SA attributes (RFC
 * 2407 4.5, used by Quick Mode proposals and by GDOI SA TEKs with RFC
 * 6407's address preservation and SA direction).
 *
 * Decoders check the form of every attribute they know (basic ones MUST
 * NOT arrive variable, RFC 2409 appendix A; integer variable ones may
 * arrive basic), reject duplicates, require each life type to be followed
 * at once by its life duration (RFC 2407 4.5), and skip attribute types
 * they do not know (the engine decides whether to refuse them). present
 * has bit (1u << type) set for each known attribute seen. Errors:
 * VPN_ERR_MALFORMED, VPN_ERR_UNSUPPORTED (an unknown life type),
 * VPN_ERR_OVERFLOW (a duration above 2^63), VPN_ERR_LIMIT. The output is
 * untouched on failure. Encoders write present attributes in ascending
 * type order, life pairs first (seconds, then kilobytes); the variable
 * attributes only marked present (group parameters, compression
 * algorithm, signature encoding) are not written.
 */
#ifndef VPN_ISAKMP_POLICY_H
#define VPN_ISAKMP_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "common/wire.h"
#include "isakmp/isakmp-attr.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VPN_ISAKMP_LIFE_MAX ((uint64_t)1 << 63)

typedef struct vpn_ikev1_sa_attrs {
    uint32_t present;
    uint16_t encr, hash, auth, group_desc, group_type, prf, key_len, field_size;
    uint64_t life_secs, life_kb; /* each present with its life type bit */
    uint8_t life_types;          /* bit 1: seconds given, bit 2: kilobytes given */
} vpn_ikev1_sa_attrs;

int vpn_ikev1_sa_attrs_decode(const uint8_t *p, size_t len, vpn_ikev1_sa_attrs *a);
int vpn_ikev1_sa_attrs_encode(const vpn_ikev1_sa_attrs *a, vpn_wr *w);

typedef struct vpn_ipsec_doi_attrs {
    uint32_t present;
    uint16_t group_desc, encap, auth_alg, key_len, key_rounds, comp_dict_size, ecn_tunnel,
        ext_seq, auth_key_len, addr_pres, sa_dir;
    uint64_t life_secs, life_kb;
    uint8_t life_types;
} vpn_ipsec_doi_attrs;

int vpn_ipsec_doi_attrs_decode(const uint8_t *p, size_t len, vpn_ipsec_doi_attrs *a);
int vpn_ipsec_doi_attrs_encode(const vpn_ipsec_doi_attrs *a, vpn_wr *w);

#ifdef __cplusplus
}
#endif

#endif
