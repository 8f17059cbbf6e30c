/* `show crypto gdoi` views (see show-gdoi.h). */
#include "show/show-gdoi.h"

#include <stdio.h>

#include "crypto/crypto-ids.h"

static const char *transform_text(const vpn_gdoi_tek_info *t, char *buf, size_t cap)
{
    const char *integ = t->integ_id == VPN_AUTH_HMAC_SHA1_96         ? " esp-sha-hmac"
                        : t->integ_id == VPN_AUTH_HMAC_SHA2_256_128 ? " esp-sha256-hmac"
                        : t->integ_id == VPN_AUTH_HMAC_SHA2_384_192 ? " esp-sha384-hmac"
                        : t->integ_id == VPN_AUTH_HMAC_SHA2_512_256 ? " esp-sha512-hmac"
                                                                    : "";
    snprintf(buf, cap, "esp-%s%u-aes%s", t->encr_id == VPN_ENCR_AES_GCM_16 ? "gcm " : "",
             t->key_bits, integ);
    return buf;
}

/* vpn_len_to_mask gives a netmask; IOS ACLs print wildcards: invert. */
static void wild(vpn_addr *m)
{
    for (int i = 0; i < 4; i++)
        m->b[i] = (uint8_t)~m->b[i];
}

static void acl_addr(const vpn_prefix *p, uint16_t port, vpn_show_buf *b)
{
    char a[VPN_ADDR_STRLEN], m[VPN_ADDR_STRLEN];
    vpn_addr mask;

    if (p->len == 0)
        vpn_show_printf(b, " any");
    else if (p->len == 32)
        vpn_show_printf(b, " host %s", vpn_addr_str(&p->addr, a, sizeof a));
    else {
        vpn_len_to_mask(p->len, &mask);
        wild(&mask);
        vpn_show_printf(b, " %s %s", vpn_addr_str(&p->addr, a, sizeof a),
                        vpn_addr_str(&mask, m, sizeof m));
    }
    if (port) /* IOS writes a downloaded ACE's port so */
        vpn_show_printf(b, " port = %u", port);
}

/* One ACE of the TEK policy, IOS style ("permit ip A W B W"). */
static void acl_line(const vpn_spd_sel *s, bool deny, vpn_show_buf *b)
{
    vpn_show_printf(b, "%s ", deny ? "deny" : "permit");
    if (s->proto == 0 || s->proto == 17 || s->proto == 6)
        vpn_show_printf(b, "%s", s->proto == 0 ? "ip" : s->proto == 17 ? "udp" : "tcp");
    else
        vpn_show_printf(b, "%u", s->proto);
    acl_addr(&s->src, s->sport_lo, b);
    acl_addr(&s->dst, s->dport_lo, b);
    vpn_show_printf(b, "\n");
}

/* Every line of a TEK policy, in order, each after prefix. */
static void acl_lines(const vpn_gdoi_tek_info *t, const char *prefix, vpn_show_buf *b)
{
    for (size_t i = 0; i <= t->n_acl_more; i++) {
        vpn_show_printf(b, "%s", prefix);
        acl_line(i ? &t->acl_more[i - 1] : &t->acl, (t->acl_deny >> i) & 1u, b);
    }
}

static void kek_policy(const vpn_gdoi_kek_info *k, vpn_show_buf *b)
{
    vpn_show_printf(b, "    KEK POLICY:\n");
    vpn_show_printf(b, "        Rekey Transport Type     : %s\n",
                    k->multicast ? "Multicast" : "Unicast");
    vpn_show_printf(b, "        Lifetime (secs)          : %u\n", k->remaining_s);
    vpn_show_printf(b, "        Encrypt Algorithm        : AES\n");
    vpn_show_printf(b, "        Key Size                 : %u\n", k->key_bits);
    vpn_show_printf(b, "        Sig Hash Algorithm       : HMAC_AUTH_SHA256\n");
    vpn_show_printf(b, "        Sig Key Length (bits)    : %u\n", k->sig_key_bits);
}

static void tek_policy(const vpn_gdoi_tek_info *t, vpn_show_buf *b)
{
    char tr[64];

    vpn_show_printf(b, "        IPsec SA:\n");
    vpn_show_printf(b, "            spi: 0x%08X(%u)\n", t->spi, t->spi);
    vpn_show_printf(b, "            transform: %s\n", transform_text(t, tr, sizeof tr));
    vpn_show_printf(b, "            sa timing:remaining key lifetime (sec): (%u)\n",
                    t->remaining_s);
    if (t->tbar_window_s)
        vpn_show_printf(b, "            Anti-Replay(Time Based) : %u sec interval\n",
                        t->tbar_window_s);
    else
        vpn_show_printf(b, "            Anti-Replay : Disabled\n");
    vpn_show_printf(b, "            tag method : disabled\n");
    vpn_show_printf(b, "            alg key size: %u (bytes)\n", t->key_bits / 8u);
    vpn_show_printf(b, "            sig key size: %u (bytes)\n",
                    t->integ_id == VPN_AUTH_HMAC_SHA1_96         ? 20u
                    : t->integ_id == VPN_AUTH_HMAC_SHA2_256_128 ? 32u
                    : t->integ_id == VPN_AUTH_HMAC_SHA2_384_192 ? 48u
                    : t->integ_id == VPN_AUTH_HMAC_SHA2_512_256 ? 64u
                                                                : 0u);
    vpn_show_printf(b, "            encaps: ENCAPS_TUNNEL\n");
}

static const char *coop_role(vpn_gdoi_coop_role r)
{
    return r == VPN_GDOI_COOP_PRIMARY ? "Primary" : r == VPN_GDOI_COOP_SECONDARY ? "Secondary"
                                                                                 : "Election";
}

int vpn_show_gdoi_ks(const vpn_gdoi_ks *ks, uint64_t now, vpn_show_buf *b)
{
    vpn_gdoi_ks_info i;
    char a[VPN_ADDR_STRLEN];

    vpn_gdoi_ks_get_info(ks, now, &i);
    vpn_show_printf(b, "GROUP INFORMATION\n\n");
    vpn_show_printf(b, "    Group Name               : %s\n", i.name);
    vpn_show_printf(b, "    Group Identity           : %u\n", i.group_id);
    vpn_show_printf(b, "    Group Type               : GDOI (ISAKMP)\n");
    vpn_show_printf(b, "    Group Members            : %zu\n", i.members);
    vpn_show_printf(b, "    IPSec SA Direction       : Both\n");
    {
        vpn_gdoi_coop_info c;
        vpn_gdoi_ks_coop_info(ks, now, &c);
        if (c.enabled) {
            vpn_show_printf(b, "    Redundancy               : Configured\n");
            vpn_show_printf(b, "        Local Address        : %s\n",
                            vpn_addr_str(&c.local, a, sizeof a));
            vpn_show_printf(b, "        Local Priority       : %u\n", c.priority);
            vpn_show_printf(b, "        Local KS Status      : Alive\n");
            vpn_show_printf(b, "        Local KS Role        : %s\n", coop_role(c.role));
            /* not in IOS's view, and only when something went wrong: a
             * COOP phase 1 our own configuration refused (gdoi-coop.c) */
            if (c.st.config_errors)
                vpn_show_printf(b, "        Config errors        : %llu\n",
                                (unsigned long long)c.st.config_errors);
        }
    }
    vpn_show_printf(b, "    Group Rekey Lifetime     : %u secs\n", i.kek.lifetime_s);
    vpn_show_printf(b, "    Group Rekey\n");
    vpn_show_printf(b, "        Remaining Lifetime   : %u secs\n", i.kek.remaining_s);
    vpn_show_printf(b, "    Rekey Retransmit Period  : %u secs\n", i.retrans_s);
    vpn_show_printf(b, "    Rekey Retransmit Attempts: %u\n", i.retrans_n);
    if (i.kek.multicast)
        vpn_show_printf(b, "    Group Retransmit Address : %s\n",
                        vpn_addr_str(&i.mcast, a, sizeof a));
    vpn_show_printf(b, "\n    IPSec SA Number          : 1\n");
    vpn_show_printf(b, "    IPSec SA Rekey Lifetime  : %u secs\n", i.tek.lifetime_s);
    vpn_show_printf(b, "    Replay method            : %s\n",
                    i.tek.tbar_window_s ? "Time Based" : "Disabled");
    if (i.tek.tbar_window_s)
        vpn_show_printf(b, "    Replay Window Size       : %u\n", i.tek.tbar_window_s);
    vpn_show_printf(b, "    SA Rekey\n");
    vpn_show_printf(b, "       Remaining Lifetime    : %u secs\n", i.tek.remaining_s);
    vpn_show_printf(b, "    ACL Configured           :\n");
    acl_lines(&i.tek, "       access-list ", b);
    vpn_show_printf(b, "\n    Group Server list        : Local\n");
    vpn_show_printf(b, "    Server address           : %s\n", vpn_addr_str(&i.local, a, sizeof a));
    vpn_show_printf(b, "    Rekeys sent              : %llu\n", (unsigned long long)i.rekeys);
    {
        /* not in IOS's view, and only when something went wrong here */
        const vpn_gdoi_ks_stats *st = vpn_gdoi_ks_get_stats(ks);
        if (st && (st->rekey_failures || st->internal_errors))
            vpn_show_printf(b, "    Rekeys failed            : %llu (internal errors %llu)\n",
                            (unsigned long long)st->rekey_failures,
                            (unsigned long long)st->internal_errors);
    }
    vpn_show_printf(b, "    Last rekey seq num       : %u\n\n", i.seq);
    kek_policy(&i.kek, b);
    vpn_show_printf(b, "\n    TEK POLICY:\n");
    tek_policy(&i.tek, b);
    return vpn_show_result(b);
}

int vpn_show_gdoi_ks_members(const vpn_gdoi_ks *ks, vpn_show_buf *b)
{
    vpn_gdoi_ks_info i;
    vpn_gdoi_member_info m;
    const vpn_gdoi_ks_stats *st;
    char a[VPN_ADDR_STRLEN];

    vpn_gdoi_ks_get_info(ks, 0, &i);
    st = vpn_gdoi_ks_get_stats(ks);
    vpn_show_printf(b, "Group Member Information :\n\n");
    vpn_show_printf(b, "Number of rekeys sent for group %s : %llu\n", i.name,
                    (unsigned long long)i.rekeys);
    vpn_show_printf(b, "Group members registered : %zu (limit %u)\n", i.members, i.max_members);
    /* not in IOS's view: where refused registrations went */
    vpn_show_printf(b, "Registrations refused    : %llu (member limit %llu, not authorized %llu, "
                       "other group %llu, malformed %llu)\n\n",
                    (unsigned long long)st->refused, (unsigned long long)st->refused_limit,
                    (unsigned long long)st->refused_unauthorized,
                    (unsigned long long)st->refused_group, (unsigned long long)st->refused_malformed);
    /* one pass over the table: 8000 members print in linear time */
    for (size_t cur = 0; vpn_gdoi_ks_next_member(ks, &cur, &m) == 0;) {
        vpn_show_printf(b, "Group Member ID    : %s\n", vpn_addr_str(&m.addr, a, sizeof a));
        vpn_show_printf(b, " Group ID          : %u\n", i.group_id);
        vpn_show_printf(b, " Group Name        : %s\n", i.name);
        vpn_show_printf(b, " Group Type        : GDOI (ISAKMP)\n");
        vpn_show_printf(b, " GM State          : Registered\n");
        vpn_show_printf(b, " Rekeys sent       : %llu\n", (unsigned long long)i.rekeys);
        vpn_show_printf(b, " Rekey Acks missed : %u\n", m.missed);
        vpn_show_printf(b, " Sent seq num      : %u\n", i.seq);
        vpn_show_printf(b, " Rcvd seq num      : %u\n\n", m.acked_seq);
    }
    return vpn_show_result(b);
}

static const char *gm_status(vpn_gdoi_gm_state s)
{
    switch (s) {
    case VPN_GDOI_GM_REGISTERED: return "Registered";
    case VPN_GDOI_GM_PHASE1:
    case VPN_GDOI_GM_PULL1:
    case VPN_GDOI_GM_PULL3: return "Registering";
    default: return "Not registered";
    }
}

int vpn_show_gdoi_gm(const vpn_gdoi_gm *gm, uint64_t now, vpn_show_buf *b)
{
    vpn_gdoi_gm_info i;
    char a[VPN_ADDR_STRLEN], k[VPN_ADDR_STRLEN];

    vpn_gdoi_gm_get_info(gm, now, &i);
    vpn_addr_str(&i.local, a, sizeof a);
    vpn_addr_str(&i.ks, k, sizeof k);
    vpn_show_printf(b, "GROUP INFORMATION\n\n");
    vpn_show_printf(b, "    Group Name               : %s\n", i.name);
    vpn_show_printf(b, "    Group Identity           : %u\n", i.group_id);
    vpn_show_printf(b, "    Group Type               : GDOI (ISAKMP)\n");
    vpn_show_printf(b, "    Crypto Path              : ipv4\n");
    vpn_show_printf(b, "    Key Management Path      : ipv4\n");
    vpn_show_printf(b, "    Rekeys received          : %llu\n", (unsigned long long)i.rekeys);
    vpn_show_printf(b, "    IPSec SA Direction       : Both\n\n");
    vpn_show_printf(b, "     Group Server list       : ");
    for (size_t n = 0; n < i.n_servers; n++) {
        char sv[VPN_ADDR_STRLEN];
        vpn_show_printf(b, "%s%s", n ? "\n                               " : "",
                        vpn_addr_str(&i.servers[n], sv, sizeof sv));
    }
    vpn_show_printf(b, "\n\n");
    vpn_show_printf(b, "    Group Member Information For Group %s:\n", i.name);
    vpn_show_printf(b, "    IPSec SA Direction       : Both\n");
    vpn_show_printf(b, "    ACL Received From KS     : gdoi_group_%s_temp_acl\n\n", i.name);
    vpn_show_printf(b, "    Group member             : %s         vrf: None\n", a);
    vpn_show_printf(b, "       Local addr/port       : %s/848\n", a);
    vpn_show_printf(b, "       Remote addr/port      : %s/848\n", k);
    vpn_show_printf(b, "       fvrf/ivrf             : None/None\n");
    vpn_show_printf(b, "       Version               : 1.0.26\n");
    vpn_show_printf(b, "       Registration status   : %s\n", gm_status(i.state));
    vpn_show_printf(b, "       Registered with       : %s\n",
                    i.registrations ? k : "none");
    if (i.rereg_in_s != UINT64_MAX)
        vpn_show_printf(b, "       Re-registers in       : %llu sec\n",
                        (unsigned long long)i.rereg_in_s);
    vpn_show_printf(b, "       Succeeded registration: %llu\n",
                    (unsigned long long)i.registrations);
    vpn_show_printf(b, "       Attempted registration: %llu\n", (unsigned long long)i.attempts);
    {
        char lr[VPN_ADDR_STRLEN];
        vpn_show_printf(b, "       Last rekey from       : %s\n",
                        i.last_rekey_from.family ? vpn_addr_str(&i.last_rekey_from, lr, sizeof lr)
                        : i.rekeys                ? k
                                                  : "0.0.0.0");
    }
    vpn_show_printf(b, "       Last rekey seq num    : %u\n", i.last_seq);
    vpn_show_printf(b, "       %s rekey received: %llu\n",
                    i.kek.multicast ? "Multicast" : "Unicast",
                    (unsigned long long)i.rekeys);
    vpn_show_printf(b, "       Rekey ACKs sent       : %llu\n", (unsigned long long)i.acks_sent);
    vpn_show_printf(b, "       Active TEK Number     : %u\n", i.have_policy ? 1u : 0u);
    vpn_show_printf(b, "       Fail-Close Revert     : Disabled\n");
    /* ours: the last key server policy refused, naming attribute and value */
    if (i.refused && i.refused[0])
        vpn_show_printf(b, "       Last policy refused   : %s\n", i.refused);
    /* ours too: local failures (memory, RNG), shown once there were any */
    if (i.internal_errors)
        vpn_show_printf(b, "       Internal errors       : %llu\n", (unsigned long long)i.internal_errors);
    vpn_show_printf(b, "\n");
    vpn_show_printf(b, "    Rekeys cumulative\n");
    vpn_show_printf(b, "       Total received        : %llu\n\n", (unsigned long long)i.rekeys);
    if (!i.have_policy)
        return vpn_show_result(b);
    vpn_show_printf(b, " ACL Downloaded From KS %s:\n", k);
    /* GDOI's own bypass first, as IOS lists it */
    vpn_show_printf(b, "   access-list   deny udp any port = 848 any port = 848\n");
    acl_lines(&i.tek, "   access-list   ", b);
    vpn_show_printf(b, "\n");
    kek_policy(&i.kek, b);
    vpn_show_printf(b, "\n    TEK POLICY for the current KS-Policy ACEs Downloaded:\n");
    tek_policy(&i.tek, b);
    return vpn_show_result(b);
}


int vpn_show_gdoi_ks_coop(const vpn_gdoi_ks *ks, uint64_t now, vpn_show_buf *b)
{
    vpn_gdoi_ks_info i;
    vpn_gdoi_coop_info c;
    vpn_gdoi_coop_peer_info p;
    char a[VPN_ADDR_STRLEN];

    vpn_gdoi_ks_get_info(ks, now, &i);
    vpn_gdoi_ks_coop_info(ks, now, &c);
    vpn_show_printf(b, "Crypto Key Server Cooperative Key Server Info\n");
    vpn_show_printf(b, "  Group Name     : %s\n", i.name);
    if (!c.enabled) {
        vpn_show_printf(b, "  Redundancy is not configured for this group\n");
        return vpn_show_result(b);
    }
    vpn_show_printf(b, "  Local Address: %s\n", vpn_addr_str(&c.local, a, sizeof a));
    vpn_show_printf(b, "  Local Priority: %u\n", c.priority);
    vpn_show_printf(b, "  Local KS Role: %-9s , Local KS Status: Alive\n", coop_role(c.role));
    if (c.role == VPN_GDOI_COOP_PRIMARY) {
        vpn_show_printf(b, "  Primary Timers:\n");
        vpn_show_printf(b, "    Primary Refresh Policy Time: %u\n", c.announce_s);
        vpn_show_printf(b, "    Remaining Time: %u\n", c.remaining_s);
    } else {
        vpn_show_printf(b, "  Secondary Timers:\n");
        vpn_show_printf(b, "    Sec Primary Periodic Time: %u\n", c.announce_s);
        vpn_show_printf(b, "    Remaining Time: %u, Retries: 0\n", c.remaining_s);
    }
    vpn_show_printf(b, "    Antireplay Sequence Number: %u\n", c.ann_seq);
    vpn_show_printf(b, "\n  Peer Sessions:\n");
    for (size_t k = 0; vpn_gdoi_ks_coop_peer(ks, k, &p) == 0; k++) {
        vpn_show_printf(b, "  Session %zu:\n", k + 1);
        vpn_show_printf(b, "    Peer Address: %s\n", vpn_addr_str(&p.addr, a, sizeof a));
        vpn_show_printf(b, "    Peer Priority: %u\n", p.priority);
        vpn_show_printf(b, "    Peer KS Role: %-9s , Peer KS Status: %s\n",
                        p.alive ? coop_role(p.role) : "Unknown", p.alive ? "Alive" : "Dead");
        vpn_show_printf(b, "    Antireplay Sequence Number: %u\n\n", p.ann_seq);
        vpn_show_printf(b, "    IKE status: %s\n", p.ike_up ? "Established" : "Not established");
        vpn_show_printf(b, "    Counters:\n");
        vpn_show_printf(b, "        Ann msgs sent: %llu\n", (unsigned long long)p.ann_sent);
        vpn_show_printf(b, "        Ann msgs recv: %llu\n", (unsigned long long)p.ann_rcvd);
        vpn_show_printf(b, "        Packet sent drops: %llu\n", (unsigned long long)p.drops_sent);
        vpn_show_printf(b, "        Packet Recv drops: %llu\n", (unsigned long long)p.drops_rcvd);
        vpn_show_printf(b, "        Total bytes sent: %llu\n", (unsigned long long)p.bytes_sent);
        vpn_show_printf(b, "        Total bytes recv: %llu\n\n", (unsigned long long)p.bytes_rcvd);
    }
    vpn_show_printf(b, "  Announcements refused: bad hash %llu, bad signature %llu, replayed %llu, "
                       "malformed %llu, unknown peer %llu, other group %llu, rekey key mismatch "
                       "%llu, no session %llu\n",
                    (unsigned long long)c.st.bad_hash, (unsigned long long)c.st.bad_sig,
                    (unsigned long long)c.st.replays, (unsigned long long)c.st.malformed,
                    (unsigned long long)c.st.unknown_peer, (unsigned long long)c.st.wrong_group,
                    (unsigned long long)c.st.key_mismatch, (unsigned long long)c.st.no_sa);
    if (c.st.config_errors)
        vpn_show_printf(b, "  Phase 1 refused by our configuration: %llu\n",
                        (unsigned long long)c.st.config_errors);
    return vpn_show_result(b);
}
