/* `show crypto ipsec sa` on a GET VPN member (see show-getvpn.h). */
#include "show/show-getvpn.h"

#include "common/vpn-err.h"
#include "crypto/crypto-ids.h"
#include "ipsec/sa.h"

#include <stdio.h>

static const char *transform(const vpn_sa_config *c, char *buf, size_t cap)
{
    const char *integ = c->integ_id == VPN_AUTH_HMAC_SHA1_96         ? " esp-sha-hmac"
                        : c->integ_id == VPN_AUTH_HMAC_SHA2_256_128 ? " esp-sha256-hmac"
                        : c->integ_id == VPN_AUTH_HMAC_SHA2_384_192 ? " esp-sha384-hmac"
                        : c->integ_id == VPN_AUTH_HMAC_SHA2_512_256 ? " esp-sha512-hmac"
                                                                    : "";
    snprintf(buf, cap, "esp-%s %u%s", c->encr_id == VPN_ENCR_AES_GCM_16 ? "gcm" : "aes",
             c->encr_key_bits ? c->encr_key_bits : 256u, integ);
    return buf;
}

static void ident(vpn_show_buf *b, const char *which, const vpn_prefix *p, uint8_t proto)
{
    char a[VPN_ADDR_STRLEN], m[VPN_ADDR_STRLEN];
    vpn_addr mask;

    vpn_len_to_mask(p->len, &mask);
    vpn_show_printf(b, "   %s ident (addr/mask/prot/port): (%s/%s/%u/0)\n", which,
                    vpn_addr_str(&p->addr, a, sizeof a), vpn_addr_str(&mask, m, sizeof m), proto);
}

static void one_sa(vpn_show_buf *b, const vpn_sa *sa, uint64_t now, const char *map)
{
    const vpn_sa_config *c = vpn_sa_get_config(sa);
    uint64_t t = UINT64_MAX;
    char tr[64];

    vpn_sa_get_remaining(sa, now, NULL, NULL, &t);
    vpn_show_printf(b, "      spi: 0x%X(%u)\n", c->spi, c->spi);
    vpn_show_printf(b, "        transform: %s ,\n", transform(c, tr, sizeof tr));
    vpn_show_printf(b, "        in use settings ={Tunnel, }\n");
    vpn_show_printf(b, "        crypto map: %s\n", map);
    if (t == UINT64_MAX)
        vpn_show_printf(b, "        sa timing: remaining key lifetime (sec): (none)\n");
    else
        vpn_show_printf(b, "        sa timing: remaining key lifetime (sec): (%llu)\n",
                        (unsigned long long)(t / 1000000000ull));
    vpn_show_printf(b, "        Kilobyte Volume Rekey has been disabled\n");
    if (c->tbar_window_ms)
        vpn_show_printf(b, "        replay detection support: Y  replay window size (time based): "
                           "%u sec\n", c->tbar_window_ms / 1000u);
    else
        vpn_show_printf(b, "        replay detection support: %s\n",
                        c->replay_window ? "Y" : "N");
    vpn_show_printf(b, "        Status: %s\n",
                    vpn_sa_is_expired(sa) ? "EXPIRED" : "ACTIVE(ACTIVE)");
}

int vpn_show_getvpn_ipsec_sa(const vpn_getvpn_node *n, const char *iface, uint64_t now,
                             vpn_show_buf *b)
{
    const vpn_getvpn_stats *st;
    bool first = true;

    if (!n || !b)
        return VPN_ERR_INVAL;
    for (size_t g = 0; g < vpn_getvpn_node_n_groups(n); g++) {
        const vpn_gdoi_gm *gm = vpn_getvpn_node_gm(n, g);
        const vpn_sad *sad = vpn_getvpn_node_sad(n, g);
        vpn_gdoi_gm_info gi;
        char a[VPN_ADDR_STRLEN], map[80];
        uint64_t po = 0, pi = 0, se = 0, re = 0;
        const vpn_sa *cur;

        if (!gm)
            continue;
        vpn_gdoi_gm_get_info(gm, now, &gi);
        snprintf(map, sizeof map, "%s", gi.name);
        if (first)
            vpn_show_printf(b, "\ninterface: %s\n", iface ? iface : "GigabitEthernet0/0");
        first = false;
        vpn_show_printf(b, "    Crypto map tag: %s, local addr %s\n\n", map,
                        vpn_addr_str(&gi.local, a, sizeof a));
        vpn_show_printf(b, "   protected vrf: (none)\n");
        if (gi.have_policy) {
            /* one ident pair per permit line of the TEK policy, in order */
            for (size_t i = 0; i <= gi.tek.n_acl_more; i++) {
                const vpn_spd_sel *sel = i ? &gi.tek.acl_more[i - 1] : &gi.tek.acl;
                if ((gi.tek.acl_deny >> i) & 1u)
                    continue;
                ident(b, "local ", &sel->src, sel->proto);
                ident(b, "remote", &sel->dst, sel->proto);
            }
        } else {
            vpn_show_printf(b, "   (no policy downloaded from the key server)\n");
        }
        vpn_show_printf(b, "   Group: %s\n", gi.name);
        vpn_show_printf(b, "   current_peer 0.0.0.0 port 848\n");
        vpn_show_printf(b, "     PERMIT, flags={}\n");
        for (const vpn_sa *sa = vpn_sad_next(sad, NULL); sa; sa = vpn_sad_next(sad, sa)) {
            const vpn_sa_stats *s = vpn_sa_get_stats(sa);
            po += s->pkts_out;
            pi += s->pkts_in;
            se += s->send_errors;
            re += s->recv_errors;
        }
        vpn_show_printf(b, "    #pkts encaps: %llu, #pkts encrypt: %llu, #pkts digest: %llu\n",
                        (unsigned long long)po, (unsigned long long)po, (unsigned long long)po);
        vpn_show_printf(b, "    #pkts decaps: %llu, #pkts decrypt: %llu, #pkts verify: %llu\n",
                        (unsigned long long)pi, (unsigned long long)pi, (unsigned long long)pi);
        vpn_show_printf(b, "    #send errors %llu, #recv errors %llu\n\n",
                        (unsigned long long)se, (unsigned long long)re);
        vpn_show_printf(b, "     local crypto endpt.: %s, remote crypto endpt.: 0.0.0.0\n",
                        vpn_addr_str(&gi.local, a, sizeof a));
        cur = vpn_gdoi_gm_tek(gm);
        if (cur)
            vpn_show_printf(b, "     current outbound spi: 0x%X(%u)\n",
                            vpn_sa_get_config(cur)->spi, vpn_sa_get_config(cur)->spi);
        else
            vpn_show_printf(b, "     current outbound spi: 0x0(0)\n");
        vpn_show_printf(b, "     PFS (Y/N): N, DH group: none\n\n");
        /* a group SA serves both directions: IOS lists it on both sides */
        vpn_show_printf(b, "     inbound esp sas:\n");
        for (const vpn_sa *sa = vpn_sad_next(sad, NULL); sa; sa = vpn_sad_next(sad, sa))
            one_sa(b, sa, now, map);
        vpn_show_printf(b, "\n     outbound esp sas:\n");
        for (const vpn_sa *sa = vpn_sad_next(sad, NULL); sa; sa = vpn_sad_next(sad, sa))
            if (vpn_sa_get_config(sa)->dir & VPN_SA_OUT)
                one_sa(b, sa, now, map);
    }
    st = vpn_getvpn_node_get_stats(n);
    if (!first) {
        vpn_show_printf(b, "\n   data plane: %llu encrypted, %llu decrypted, %llu clear out, "
                           "%llu clear in\n",
                        (unsigned long long)st->out_encrypted,
                        (unsigned long long)st->in_decrypted, (unsigned long long)st->out_clear,
                        (unsigned long long)st->in_clear);
        for (int d = 0; d < VPN_GETVPN_DROP_COUNT; d++)
            if (st->drops[d])
                vpn_show_printf(b, "   dropped (%s): %llu\n",
                                vpn_getvpn_drop_name((vpn_getvpn_drop)d),
                                (unsigned long long)st->drops[d]);
    }
    return vpn_show_result(b);
}
