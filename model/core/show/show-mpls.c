/*
 * `show mpls forwarding-table` (IOS layout; see show-mpls.h).
 */
#include <stdio.h>

#include "common/vpn-err.h"
#include "show/show-mpls.h"

static void out_label_text(const vpn_mpls_lfib_entry *e, char *buf, size_t len)
{
    switch (e->op) {
    case VPN_MPLS_OP_SWAP:
        if (e->out_label == VPN_MPLS_LABEL_IPV4_EXPLICIT_NULL)
            snprintf(buf, len, "explicit-n");
        else
            snprintf(buf, len, "%u", (unsigned)e->out_label);
        break;
    case VPN_MPLS_OP_POP:
        snprintf(buf, len, "Pop Label");
        break;
    default:
        snprintf(buf, len, "No Label");
        break;
    }
}

int vpn_show_mpls_forwarding(const vpn_mpls_router *r, vpn_show_buf *b)
{
    size_t i, n;
    if (!r || !b)
        return VPN_ERR_INVAL;
    vpn_show_printf(b, "Local      Outgoing   Prefix           Bytes Label   Outgoing   Next Hop    \n");
    vpn_show_printf(b, "Label      Label      or Tunnel Id     Switched      interface              \n");
    n = vpn_mpls_lfib_count(r);
    for (i = 0; i < n; i++) {
        const vpn_mpls_lfib_entry *e = vpn_mpls_lfib_at(r, i);
        char out[16], pfx[VPN_ADDR_STRLEN + 8], a[VPN_ADDR_STRLEN], ifname[48], nh[VPN_ADDR_STRLEN];
        out_label_text(e, out, sizeof(out));
        if (e->op == VPN_MPLS_OP_POP_LOOKUP) {
            snprintf(pfx, sizeof(pfx), "IPv4 VRF[V]");
            snprintf(ifname, sizeof(ifname), "aggregate/%s", vpn_mpls_router_vrf_name(r, e->vrf));
            nh[0] = '\0';
        } else {
            const char *name = vpn_mpls_router_if_name(r, e->out_if);
            snprintf(pfx, sizeof(pfx), "%s/%u%s", vpn_addr_str(&e->fec.addr, a, sizeof(a)),
                     (unsigned)e->fec.len, e->op == VPN_MPLS_OP_POP_VRF ? "[V]" : "");
            snprintf(ifname, sizeof(ifname), "%s", name ? name : "?");
            vpn_addr_str(&e->next_hop, nh, sizeof(nh));
        }
        vpn_show_printf(b, "%-10u %-10s %-16s %-13llu %-10s %s\n", (unsigned)e->in_label, out, pfx,
                        (unsigned long long)e->bytes, ifname, nh);
    }
    return vpn_show_result(b);
}
