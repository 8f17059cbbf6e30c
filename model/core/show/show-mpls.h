/*
 * `show mpls forwarding-table` on a provider router, rendered from its LFIB
 * (mpls/mpls.h) in IOS's columns: Local Label, Outgoing Label, Prefix or
 * Tunnel Id, Bytes Label Switched, Outgoing interface, Next Hop. VPN
 * prefixes carry IOS's "[V]" mark; a per-VRF aggregate label shows as
 * "IPv4 VRF[V]" with outgoing interface "aggregate/NAME".
 */
#ifndef VPN_SHOW_MPLS_H
#define VPN_SHOW_MPLS_H

#include "mpls/mpls.h"
#include "show/show.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Errors: VPN_ERR_INVAL (NULL), VPN_ERR_NOSPACE (truncated). */
int vpn_show_mpls_forwarding(const vpn_mpls_router *r, vpn_show_buf *b);

#ifdef __cplusplus
}
#endif

#endif
