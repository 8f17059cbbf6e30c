/* show ip nhrp / show dmvpn; layouts in show-nhrp.h. */
#include "show/show-nhrp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"

#define NS_PER_S 1000000000ull

void vpn_show_nhrp_duration(uint64_t s, char *buf, size_t len)
{
    if (s < 86400)
        snprintf(buf, len, "%02llu:%02llu:%02llu", (unsigned long long)(s / 3600),
                 (unsigned long long)(s / 60 % 60), (unsigned long long)(s % 60));
    else if (s < 7 * 86400)
        snprintf(buf, len, "%llud%02lluh", (unsigned long long)(s / 86400),
                 (unsigned long long)(s / 3600 % 24));
    else
        snprintf(buf, len, "%lluw%llud", (unsigned long long)(s / (7 * 86400)),
                 (unsigned long long)(s / 86400 % 7));
}

typedef struct collect {
    vpn_nhrp_entry_info *v;
    size_t n, cap;
    int err;
} collect;

static void add_one(void *user, const vpn_nhrp_entry_info *e)
{
    collect *c = user;
    if (c->err)
        return;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        vpn_nhrp_entry_info *v = realloc(c->v, cap * sizeof(*v));
        if (!v) {
            c->err = VPN_ERR_NOMEM;
            return;
        }
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n++] = *e;
}

static int addr_cmp(const vpn_addr *a, const vpn_addr *b)
{
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    return memcmp(a->b, b->b, 16);
}

static int by_proto(const void *x, const void *y)
{
    const vpn_nhrp_entry_info *a = x, *b = y;
    int c = addr_cmp(&a->proto.addr, &b->proto.addr);
    return c ? c : (a->proto.len < b->proto.len ? -1 : a->proto.len > b->proto.len);
}

static int by_nbma(const void *x, const void *y)
{
    const vpn_nhrp_entry_info *a = x, *b = y;
    int c = addr_cmp(&a->nbma, &b->nbma);
    return c ? c : by_proto(x, y);
}

static int gather(const vpn_nhrp *n, collect *c, int (*cmp)(const void *, const void *))
{
    memset(c, 0, sizeof *c);
    vpn_nhrp_foreach(n, add_one, c);
    if (c->err) {
        free(c->v);
        return c->err;
    }
    if (c->n)
        qsort(c->v, c->n, sizeof(*c->v), cmp);
    return 0;
}

static uint64_t since_s(uint64_t now, uint64_t t) { return now > t ? (now - t) / NS_PER_S : 0; }

static const char *flags_of(const vpn_nhrp_entry_info *e)
{
    switch (e->type) {
    case VPN_NHRP_ENTRY_STATIC: return e->nhs ? "used nhs" : "used";
    case VPN_NHRP_ENTRY_DYNAMIC: return e->unique ? "unique registered" : "registered";
    case VPN_NHRP_ENTRY_CACHED: return "router nhop";
    case VPN_NHRP_ENTRY_SHORTCUT: return "router rib";
    }
    return "";
}

int vpn_show_ip_nhrp(const vpn_nhrp *n, uint64_t now, vpn_show_buf *b)
{
    collect c;
    if (!n || !b)
        return VPN_ERR_INVAL;
    int err = gather(n, &c, by_proto);
    if (err)
        return err;
    const char *ifname = vpn_nhrp_params_get(n)->ifname;
    for (size_t i = 0; i < c.n; i++) {
        const vpn_nhrp_entry_info *e = &c.v[i];
        char p[VPN_ADDR_STRLEN], nh[VPN_ADDR_STRLEN], nb[VPN_ADDR_STRLEN], cr[16], ex[16];
        vpn_addr_str(&e->proto.addr, p, sizeof p);
        vpn_addr_str(&e->next_hop, nh, sizeof nh);
        vpn_addr_str(&e->nbma, nb, sizeof nb);
        vpn_show_nhrp_duration(since_s(now, e->created), cr, sizeof cr);
        vpn_show_printf(b, "%s/%u via %s\n", p, e->proto.len, nh);
        if (e->expires == UINT64_MAX) {
            vpn_show_printf(b, "   %s created %s, never expire \n", ifname, cr);
        } else {
            vpn_show_nhrp_duration(e->expires > now ? (e->expires - now) / NS_PER_S : 0, ex,
                                   sizeof ex);
            vpn_show_printf(b, "   %s created %s, expire %s\n", ifname, cr, ex);
        }
        /* IOS's Type is static (ip nhrp map), dynamic (anything NHRP taught it:
         * registered, resolved or a shortcut) or incomplete; registered and
         * learnt entries differ only in Flags ("registered" vs "router nhop"/
         * "router rib"), as in IOS's own show ip nhrp (Cisco IOS IP Addressing
         * Command Reference, show ip nhrp). */
        vpn_show_printf(b, "   Type: %s, Flags: %s\n",
                        e->type == VPN_NHRP_ENTRY_STATIC ? "static" : "dynamic", flags_of(e));
        vpn_show_printf(b, "   NBMA address: %s \n", nb);
    }
    free(c.v);
    return vpn_show_result(b);
}

static const char *attrb(const vpn_nhrp_entry_info *e)
{
    switch (e->type) {
    case VPN_NHRP_ENTRY_STATIC: return "S";
    case VPN_NHRP_ENTRY_SHORTCUT: return "DT1";
    default: return "D";
    }
}

int vpn_show_dmvpn(const vpn_nhrp *n, uint64_t now, vpn_show_buf *b)
{
    collect c;
    if (!n || !b)
        return VPN_ERR_INVAL;
    int err = gather(n, &c, by_nbma);
    if (err)
        return err;
    const vpn_nhrp_params *p = vpn_nhrp_params_get(n);
    size_t peers = 0;
    for (size_t i = 0; i < c.n; i++)
        if (i == 0 || !vpn_addr_eq(&c.v[i].nbma, &c.v[i - 1].nbma))
            peers++;
    vpn_show_printf(b, "Legend: Attrb --> S - Static, D - Dynamic, I - Incomplete\n"
                       "\tN - NATed, L - Local, X - No Socket\n"
                       "\tT1 - Route Installed, T2 - Nexthop-override\n"
                       "\tC - CTS Capable, I2 - Temporary\n"
                       "\t# Ent --> Number of NHRP entries with same NBMA peer\n"
                       "\tNHS Status: E --> Expecting Replies, R --> Responding, W --> Waiting\n"
                       "\tUpDn Time --> Up or Down Time for a Tunnel\n"
                       "==========================================================================\n\n");
    vpn_show_printf(b, "Interface: %s, %s NHRP Details \n", p->ifname,
                    p->proto.family == VPN_AF_INET6 ? "IPv6" : "IPv4");
    vpn_show_printf(b, "Type:%s, NHRP Peers:%zu, \n\n", p->nhs_role ? "Hub" : "Spoke", peers);
    vpn_show_printf(b, " # Ent  Peer NBMA Addr Peer Tunnel Add State  UpDn Tm Attrb\n");
    vpn_show_printf(b, " ----- --------------- --------------- ----- -------- -----\n");
    for (size_t i = 0; i < c.n;) {
        size_t k = i;
        while (k < c.n && vpn_addr_eq(&c.v[k].nbma, &c.v[i].nbma))
            k++;
        for (size_t j = i; j < k; j++) {
            const vpn_nhrp_entry_info *e = &c.v[j];
            char nb[VPN_ADDR_STRLEN], pr[VPN_ADDR_STRLEN], ud[16], cnt[24];
            const char *state = "UP";
            uint64_t t = e->created;
            if (e->nhs) {
                /* An NHS is UP once it answers our registrations. */
                for (size_t h = 0; h < vpn_nhrp_nhs_count(n); h++) {
                    vpn_nhrp_nhs_info ni;
                    if (vpn_nhrp_nhs_get(n, h, &ni) == 0 && vpn_addr_eq(&ni.proto, &e->proto.addr)) {
                        state = ni.up ? "UP" : "NHRP";
                        t = ni.up_since;
                    }
                }
            }
            vpn_addr_str(&e->nbma, nb, sizeof nb);
            vpn_addr_str(&e->next_hop, pr, sizeof pr);
            vpn_show_nhrp_duration(since_s(now, t), ud, sizeof ud);
            snprintf(cnt, sizeof cnt, "%zu", k - i);
            vpn_show_printf(b, " %5s %-15s %15s %5s %8s %5s\n", j == i ? cnt : "", j == i ? nb : "",
                            pr, state, ud, attrb(e));
        }
        i = k;
    }
    vpn_show_printf(b, "\n");
    free(c.v);
    return vpn_show_result(b);
}

static void traffic_block(vpn_show_buf *b, const char *what, const uint64_t *c)
{
    uint64_t total = 0;
    for (int t = 1; t <= VPN_NHRP_TYPE_MAX; t++)
        total += c[t];
    vpn_show_printf(b,
                    "   %s: Total %llu\n"
                    "         %llu Resolution Request  %llu Resolution Reply  %llu Registration Request\n"
                    "         %llu Registration Reply  %llu Purge Request  %llu Purge Reply\n"
                    "         %llu Error Indication  %llu Traffic Indication  0 Redirect Suppress\n",
                    what, (unsigned long long)total, (unsigned long long)c[VPN_NHRP_RES_REQ],
                    (unsigned long long)c[VPN_NHRP_RES_REPLY], (unsigned long long)c[VPN_NHRP_REG_REQ],
                    (unsigned long long)c[VPN_NHRP_REG_REPLY], (unsigned long long)c[VPN_NHRP_PURGE_REQ],
                    (unsigned long long)c[VPN_NHRP_PURGE_REPLY], (unsigned long long)c[VPN_NHRP_ERROR_IND],
                    (unsigned long long)c[VPN_NHRP_TRAFFIC_IND]);
}

int vpn_show_nhrp_traffic(const char *ifname, const vpn_nhrp_stats *st, vpn_show_buf *b)
{
    if (!ifname || !st || !b)
        return VPN_ERR_INVAL;
    vpn_show_printf(b, "%s:\n", ifname);
    traffic_block(b, "Sent", st->tx);
    traffic_block(b, "Rcvd", st->rx);
    vpn_show_printf(b,
                    "   Dropped: %llu malformed (%llu bad checksum), %llu authentication failed, "
                    "%llu network-id mismatch, %llu hop limit, %llu loops, %llu ignored\n",
                    (unsigned long long)st->malformed, (unsigned long long)st->bad_checksum,
                    (unsigned long long)st->auth_failed, (unsigned long long)st->netid_mismatch,
                    (unsigned long long)st->hop_exceeded, (unsigned long long)st->loops,
                    (unsigned long long)st->ignored);
    return vpn_show_result(b);
}
