/* show crypto ikev2 sa / crypto session / crypto ipsec sa from engine state. */
#include "show/show-ikev2.h"

#include "ipsec/esp.h"

#include <stdio.h>
#include <string.h>

#include "common/vpn-err.h"
#include "crypto/crypto-ids.h"

#define NS_PER_S 1000000000ull

static uint64_t secs_since(uint64_t now, uint64_t then)
{
    return now > then ? (now - then) / NS_PER_S : 0;
}

static const char *encr_family(uint16_t id)
{
    switch (id) {
    case VPN_ENCR_AES_CBC: return "AES-CBC";
    case VPN_ENCR_AES_CTR: return "AES-CTR";
    case VPN_ENCR_AES_GCM_8:
    case VPN_ENCR_AES_GCM_12:
    case VPN_ENCR_AES_GCM_16: return "AES-GCM";
    case VPN_ENCR_CHACHA20_POLY1305: return "CHACHA20-POLY1305";
    }
    return "Unknown";
}

static bool encr_aead(uint16_t id)
{
    return id == VPN_ENCR_AES_GCM_8 || id == VPN_ENCR_AES_GCM_12 || id == VPN_ENCR_AES_GCM_16 ||
           id == VPN_ENCR_CHACHA20_POLY1305;
}

static const char *endpoint_str(const vpn_ikev2_endpoint *e, char *buf, size_t len)
{
    char a[VPN_ADDR_STRLEN];
    snprintf(buf, len, "%s/%u", vpn_addr_str(&e->addr, a, sizeof a), e->port);
    return buf;
}

static void spi_hex(const uint8_t spi[8], char out[17])
{
    static const char hx[] = "0123456789ABCDEF";
    for (int i = 0; i < 8; i++) {
        out[2 * i] = hx[spi[i] >> 4];
        out[2 * i + 1] = hx[spi[i] & 15];
    }
    out[16] = '\0';
}

static int range_prefix(const vpn_ikev2_selector *s);

static void ike_sa_block(const vpn_ikev2_ctx *ctx, const vpn_ikev2_sa_info *sa, uint64_t now,
                         bool detail, vpn_show_buf *b)
{
    char l[80], r[80];
    bool ready = sa->state != VPN_IKEV2_SA_CONNECTING;
    uint64_t active = sa->established_ns ? secs_since(now, sa->established_ns) : 0;

    vpn_show_printf(b, "Tunnel-id Local                 Remote                fvrf/ivrf            Status \n");
    vpn_show_printf(b, "%-10u%-22s%-22s%-21s%-7s\n", sa->id, endpoint_str(&sa->local, l, sizeof l),
                    endpoint_str(&sa->remote, r, sizeof r), "none/none", ready ? "READY" : "IN-NEG");
    if (ready) {
        vpn_show_printf(b, "      Encr: %s, keysize: %u, PRF: %s, Hash: %s, DH Grp:%u, Auth sign: %s, "
                           "Auth verify: %s\n",
                        encr_family(sa->encr), sa->encr_key_bits, vpn_show_prf_name(sa->prf),
                        encr_aead(sa->encr) ? "None" : vpn_show_integ_name(sa->integ), sa->dh_group,
                        vpn_conf_auth_name(sa->auth_sign), vpn_conf_auth_name(sa->auth_verify));
    } else {
        vpn_show_printf(b, "      Encr: Unknown - 0, PRF: Unknown - 0, Hash: None, DH Grp:0, "
                           "Auth sign: Unknown - 0, Auth verify: Unknown - 0\n");
    }
    vpn_show_printf(b, "      Life/Active Time: %u/%llu sec\n", sa->lifetime_s, (unsigned long long)active);
    if (!detail)
        return;
    {
        char ls[17], rs[17];
        spi_hex(sa->initiator ? sa->spi_i : sa->spi_r, ls);
        spi_hex(sa->initiator ? sa->spi_r : sa->spi_i, rs);
        vpn_show_printf(b, "      CE id: %u, Session-id: %u\n", sa->id, sa->id);
        vpn_show_printf(b, "      Local spi: %s       Remote spi: %s\n", ls, rs);
    }
    vpn_show_printf(b, "      Status Description: %s\n",
                    ready ? "Negotiation done" : "Negotiation in progress");
    vpn_show_printf(b, "      Local id: %s\n", sa->id_local.text[0] ? sa->id_local.text : "(none)");
    vpn_show_printf(b, "      Remote id: %s\n", sa->id_remote.text[0] ? sa->id_remote.text : "(none)");
    if (sa->eap_identity && sa->eap_identity[0] && !sa->initiator)
        vpn_show_printf(b, "      Remote EAP identity: %s\n", sa->eap_identity);
    else if (sa->eap_identity && sa->eap_identity[0])
        vpn_show_printf(b, "      Local EAP identity: %s\n", sa->eap_identity);
    /* IOS prints the last request ID in use; ours are "next" IDs, so the
     * request in flight (if any) is next - 1. */
    {
        unsigned lreq = sa->msgid_next_send ? sa->msgid_next_send - 1 : 0;
        unsigned rreq = sa->msgid_next_recv ? sa->msgid_next_recv - 1 : 0;
        char col[32];
        snprintf(col, sizeof col, "%u", lreq);
        vpn_show_printf(b, "      Local req msg id:  %-15sRemote req msg id:  %u\n", col, rreq);
        snprintf(col, sizeof col, "%u", sa->msgid_next_send);
        vpn_show_printf(b, "      Local next msg id: %-15sRemote next msg id: %u\n", col, sa->msgid_next_recv);
        snprintf(col, sizeof col, "%u", sa->msgid_next_send + sa->queued_requests);
        vpn_show_printf(b, "      Local req queued:  %-15sRemote req queued:  %u\n", col, sa->msgid_next_recv);
        snprintf(col, sizeof col, "%u", sa->window_local);
        vpn_show_printf(b, "      Local window:      %-15sRemote window:      %u\n", col, sa->window_remote);
    }
    vpn_show_printf(b, "      DPD configured for %u seconds, retry %u\n", sa->dpd_interval_s, sa->dpd_retry_s);
    vpn_show_printf(b, sa->fragmentation ? "      Fragmentation is configured.\n"
                                         : "      Fragmentation not  configured.\n");
    vpn_show_printf(b, "      Dynamic Route Update: enabled\n");
    vpn_show_printf(b, "      Extended Authentication not configured.\n");
    if (sa->nat_local)
        vpn_show_printf(b, "      NAT-T is detected inside \n");
    else if (sa->nat_remote)
        vpn_show_printf(b, "      NAT-T is detected  outside\n");
    else
        vpn_show_printf(b, "      NAT-T is not detected  \n");
    vpn_show_printf(b, "      Cisco Trust Security SGT is disabled\n");
    vpn_show_printf(b, "      Initiator of SA : %s\n", sa->initiator ? "Yes" : "No");
    if (sa->assigned.family != VPN_AF_NONE) {
        /* IOS: the hub pushed it, the client was assigned it (RFC 7296 3.15) */
        char a[VPN_ADDR_STRLEN];
        vpn_show_printf(b, sa->initiator ? "      Assigned host addr: %s\n" : "      Pushed IP address: %s\n",
                        vpn_addr_str(&sa->assigned, a, sizeof a));
    }
    if (sa->assigned6.family == VPN_AF_INET6) {
        /* INTERNAL_IP6_ADDRESS (3.15.1): the address and its prefix length */
        char a[VPN_ADDR_STRLEN];
        vpn_show_printf(b, sa->initiator ? "      Assigned host addr: %s/%u\n" : "      Pushed IP address: %s/%u\n",
                        vpn_addr_str(&sa->assigned6, a, sizeof a), sa->assigned6_len);
    }
    {
        /* The peer's protected subnets: the remote selectors of the children,
         * "address mask" as IOS prints its routes. */
        bool head = false;
        for (size_t i = 0; i < sa->n_children; i++) {
            vpn_ikev2_child_state cs;
            if (vpn_ikev2_child_get(ctx, sa->id, i, &cs) != 0)
                continue;
            for (size_t j = 0; j < cs.info.n_ts_remote; j++) {
                char a[VPN_ADDR_STRLEN], m[VPN_ADDR_STRLEN];
                const vpn_ikev2_selector *s = &cs.info.ts_remote[j];
                int plen = range_prefix(s);
                vpn_addr mask;
                if (!head) {
                    vpn_show_printf(b, "      Remote subnets:\n");
                    head = true;
                }
                vpn_addr_str(&s->addr_lo, a, sizeof a);
                if (s->family == VPN_AF_INET && plen >= 0) {
                    vpn_len_to_mask((uint8_t)plen, &mask);
                    vpn_show_printf(b, "      %s %s\n", a, vpn_addr_str(&mask, m, sizeof m));
                } else if (plen >= 0) {
                    vpn_show_printf(b, "      %s/%d\n", a, plen);
                } else {
                    vpn_show_printf(b, "      %s-%s\n", a, vpn_addr_str(&s->addr_hi, m, sizeof m));
                }
            }
        }
    }
}

int vpn_show_ikev2_sa(const vpn_ikev2_ctx *ctx, uint64_t now, bool detail, vpn_show_buf *b)
{
    static const uint8_t fams[2] = {VPN_AF_INET, VPN_AF_INET6};

    if (ctx == NULL || b == NULL)
        return VPN_ERR_INVAL;
    for (int f = 0; f < 2; f++) {
        vpn_show_printf(b, " IPv%d Crypto IKEv2  SA \n\n", fams[f] == VPN_AF_INET ? 4 : 6);
        for (size_t i = 0; i < vpn_ikev2_sa_count(ctx); i++) {
            vpn_ikev2_sa_info sa;
            if (vpn_ikev2_sa_get(ctx, i, &sa) != 0 || sa.remote.addr.family != fams[f])
                continue;
            ike_sa_block(ctx, &sa, now, detail, b);
            vpn_show_printf(b, "\n");
        }
    }
    return vpn_show_result(b);
}

int vpn_show_ikev2_stats(const vpn_ikev2_ctx *ctx, vpn_show_buf *b)
{
    static const char rule[] =
        "--------------------------------------------------------------------------------\n";
    unsigned total[2] = {0, 0}, active[2] = {0, 0}, neg[2] = {0, 0};
    vpn_ikev2_stats st;

    if (ctx == NULL || b == NULL)
        return VPN_ERR_INVAL;
    for (size_t i = 0; i < vpn_ikev2_sa_count(ctx); i++) {
        vpn_ikev2_sa_info sa;
        if (vpn_ikev2_sa_get(ctx, i, &sa) != 0)
            continue;
        int d = sa.initiator ? 1 : 0;
        total[d]++;
        if (sa.state == VPN_IKEV2_SA_CONNECTING)
            neg[d]++;
        else
            active[d]++;
    }
    vpn_ikev2_stats_get(ctx, &st);
    vpn_show_printf(b, "%s                       Crypto IKEv2 SA Statistics\n%s", rule, rule);
    vpn_show_printf(b, "Total incoming IKEv2 SA Count:    %-8u active: %-8u negotiating: %u\n", total[0],
                    active[0], neg[0]);
    vpn_show_printf(b, "Total outgoing IKEv2 SA Count:    %-8u active: %-8u negotiating: %u\n", total[1],
                    active[1], neg[1]);
    vpn_show_printf(b, "In-negotiation (in/out): %u/%u\n", st.half_open_in, st.half_open_out);
    vpn_show_printf(b, "Incoming IKEv2 Requests: %-8llu responses: %llu\n", (unsigned long long)st.in_requests,
                    (unsigned long long)st.in_responses);
    vpn_show_printf(b, "Outgoing IKEv2 Requests: %-8llu responses: %llu\n", (unsigned long long)st.out_requests,
                    (unsigned long long)st.out_responses);
    vpn_show_printf(b, "Retransmissions: %-8llu duplicate requests answered: %llu\n",
                    (unsigned long long)st.retransmits, (unsigned long long)st.duplicates_answered);
    vpn_show_printf(b, "Rejected IKEv2 Requests (half-open limit): %llu\n",
                    (unsigned long long)st.half_open_rejected);
    vpn_show_printf(b, "IKEv2 packets dropped at dispatch: %llu\n", (unsigned long long)st.dropped);
    vpn_show_printf(b, "Incoming IKEV2 Cookie Challenged Requests: %llu\n", (unsigned long long)st.cookies_sent);
    vpn_show_printf(b, "SAs established: %-8llu negotiations failed: %llu\n", (unsigned long long)st.sa_up,
                    (unsigned long long)st.sa_failed);
    vpn_show_printf(b, "Internal errors (memory, RNG, crypto library): %llu\n",
                    (unsigned long long)st.internal_errors);
    return vpn_show_result(b);
}

/* ---- selectors in IOS words --------------------------------------------------- */

/* The prefix length if [lo, hi] is exactly one prefix, else -1. */
static int range_prefix(const vpn_ikev2_selector *s)
{
    size_t n = vpn_addr_len(&s->addr_lo);
    int len = 0;
    size_t i = 0;

    for (; i < n && s->addr_lo.b[i] == s->addr_hi.b[i]; i++)
        len += 8;
    if (i < n) {
        uint8_t x = (uint8_t)(s->addr_lo.b[i] ^ s->addr_hi.b[i]);
        int bits = 0;
        while (bits < 8 && (x & (0x80 >> bits)) == 0)
            bits++;
        /* the differing tail must be lo = 0..0, hi = 1..1 */
        uint8_t mask = (uint8_t)(0xff >> bits);
        if ((s->addr_lo.b[i] & mask) != 0 || (s->addr_hi.b[i] & mask) != mask)
            return -1;
        len += bits;
        for (size_t j = i + 1; j < n; j++)
            if (s->addr_lo.b[j] != 0 || s->addr_hi.b[j] != 0xff)
                return -1;
    }
    return len;
}

const char *vpn_show_selector_addr(const vpn_ikev2_selector *s, char *buf, size_t len)
{
    char lo[VPN_ADDR_STRLEN], hi[VPN_ADDR_STRLEN];
    int plen = range_prefix(s);
    size_t full = vpn_addr_len(&s->addr_lo) * 8;

    vpn_addr_str(&s->addr_lo, lo, sizeof lo);
    if (plen == (int)full) {
        snprintf(buf, len, "host %s", lo);
    } else if (plen >= 0 && s->family == VPN_AF_INET) {
        vpn_addr m;
        vpn_len_to_mask((uint8_t)plen, &m);
        snprintf(buf, len, "%s/%s", lo, vpn_addr_str(&m, hi, sizeof hi));
    } else if (plen >= 0) {
        snprintf(buf, len, "%s/%d", lo, plen);
    } else {
        snprintf(buf, len, "%s-%s", lo, vpn_addr_str(&s->addr_hi, hi, sizeof hi));
    }
    return buf;
}

static void proto_str(uint8_t proto, char *buf, size_t len)
{
    if (proto == 0)
        snprintf(buf, len, "ip");
    else
        snprintf(buf, len, "%u", proto);
}

static const char *iface_name(const vpn_show_ikev2_env *env, uint32_t tag, const vpn_addr *peer, char *buf,
                              size_t len)
{
    const char *n = env && env->peer_interface_name ? env->peer_interface_name(env->user, tag, peer, buf, len)
                                                   : NULL;
    if (n)
        return n;
    n = env && env->interface_name ? env->interface_name(env->user, tag) : NULL;
    if (n)
        return n;
    snprintf(buf, len, "Tunnel%u", tag);
    return buf;
}

int vpn_show_child_counters_from_sas(const vpn_sa *in, const vpn_sa *out,
                                     vpn_show_child_counters *row)
{
    const vpn_sa_stats *si, *so;

    if (row == NULL)
        return VPN_ERR_INVAL;
    memset(row, 0, sizeof *row);
    if (in == NULL || out == NULL)
        return VPN_ERR_INVAL;
    si = vpn_sa_get_stats(in);
    so = vpn_sa_get_stats(out);
    row->pkts_encaps = row->pkts_encrypt = row->pkts_digest = so->pkts_out;
    row->pkts_decaps = row->pkts_decrypt = row->pkts_verify = si->pkts_in;
    row->send_errors = so->send_errors;
    row->recv_errors = si->recv_errors;
    row->bytes_in = si->bytes_in;
    row->bytes_out = so->bytes_out;
    return 0;
}

static void counters(const vpn_show_ikev2_env *env, uint32_t child, vpn_show_child_counters *c)
{
    memset(c, 0, sizeof *c);
    if (env && env->child_counters && !env->child_counters(env->user, child, c))
        memset(c, 0, sizeof *c);
}

static uint64_t kb_left(const vpn_ikev2_child_info *ci, uint64_t bytes)
{
    uint64_t used = bytes / 1024;
    return ci->lifetime_kb > used ? ci->lifetime_kb - used : 0;
}

static uint64_t sec_left(const vpn_ikev2_child_state *cs, uint64_t now)
{
    return cs->expires_ns > now ? (cs->expires_ns - now) / NS_PER_S : 0;
}

static void hms(uint64_t s, char *buf, size_t len)
{
    snprintf(buf, len, "%02llu:%02llu:%02llu", (unsigned long long)(s / 3600),
             (unsigned long long)(s / 60 % 60), (unsigned long long)(s % 60));
}

/* ---- show crypto session ---------------------------------------------------- */

static const char *session_status(const vpn_ikev2_sa_info *sa)
{
    if (sa->state == VPN_IKEV2_SA_CONNECTING)
        return "DOWN-NEGOTIATING";
    return sa->n_children ? "UP-ACTIVE" : "UP-IDLE";
}

/* user: only the sessions of this EAP identity (NULL: all). */
static int crypto_session(const vpn_ikev2_ctx *ctx, uint64_t now, bool detail, const char *user,
                          const vpn_show_ikev2_env *env, vpn_show_buf *b)
{
    if (ctx == NULL || b == NULL)
        return VPN_ERR_INVAL;
    vpn_show_printf(b, "Crypto session current status\n\n");
    if (detail) {
        vpn_show_printf(b, "Code: C - IKE Configuration mode, D - Dead Peer Detection     \n"
                           "K - Keepalives, N - NAT-traversal, T - cTCP encapsulation     \n"
                           "X - IKE Extended Authentication, F - IKE Fragmentation\n"
                           "R - IKE Auto Reconnect, U - IKE Dynamic Route Update\n"
                           "S - SIP VPN\n\n");
    }
    for (size_t i = 0; i < vpn_ikev2_sa_count(ctx); i++) {
        vpn_ikev2_sa_info sa;
        char ibuf[32], a[VPN_ADDR_STRLEN], l[80], r[80];

        if (vpn_ikev2_sa_get(ctx, i, &sa) != 0)
            continue;
        if (user != NULL && strcmp(sa.eap_identity ? sa.eap_identity : "", user) != 0)
            continue;
        vpn_show_printf(b, "Interface: %s\n", iface_name(env, sa.policy_tag, &sa.remote.addr, ibuf, sizeof ibuf));
        if (sa.eap_identity && sa.eap_identity[0])
            vpn_show_printf(b, "Username: %s\n", sa.eap_identity);
        if (sa.profile && sa.profile[0])
            vpn_show_printf(b, "Profile: %s\n", sa.profile);
        if (detail) {
            char up[32];
            hms(sa.established_ns ? secs_since(now, sa.established_ns) : 0, up, sizeof up);
            vpn_show_printf(b, "Uptime: %s\n", up);
        }
        vpn_show_printf(b, "Session status: %s\n", session_status(&sa));
        vpn_show_printf(b, "Peer: %s port %u%s\n", vpn_addr_str(&sa.remote.addr, a, sizeof a),
                        sa.remote.port, detail ? " fvrf: (none) ivrf: (none)" : "");
        if (detail) {
            vpn_show_printf(b, "      Phase1_id: %s\n", sa.id_remote.text[0] ? sa.id_remote.text : "(none)");
            vpn_show_printf(b, "      Desc: (none)\n");
        }
        /* a remote-access user: the addresses it was given (RFC 7296 3.15) */
        if (sa.assigned.family == VPN_AF_INET)
            vpn_show_printf(b, "  Assigned address: %s\n", vpn_addr_str(&sa.assigned, a, sizeof a));
        if (sa.assigned6.family == VPN_AF_INET6)
            vpn_show_printf(b, "  Assigned IPv6 address: %s/%u\n", vpn_addr_str(&sa.assigned6, a, sizeof a),
                            sa.assigned6_len);
        vpn_show_printf(b, "  Session ID: %u \n", sa.id);
        vpn_show_printf(b, "  IKEv2 SA: local %s remote %s %s\n", endpoint_str(&sa.local, l, sizeof l),
                        endpoint_str(&sa.remote, r, sizeof r),
                        sa.state == VPN_IKEV2_SA_CONNECTING ? "Inactive" : "Active");
        if (detail) {
            char caps[8], life[32];
            size_t n = 0;
            uint64_t left = 0;
            if (sa.dpd_interval_s)
                caps[n++] = 'D';
            if (sa.nat_local || sa.nat_remote)
                caps[n++] = 'N';
            if (sa.fragmentation)
                caps[n++] = 'F';
            caps[n++] = 'U';
            caps[n] = '\0';
            if (sa.established_ns && (uint64_t)sa.lifetime_s > secs_since(now, sa.established_ns))
                left = sa.lifetime_s - secs_since(now, sa.established_ns);
            hms(left, life, sizeof life);
            vpn_show_printf(b, "          Capabilities:%s connid:%u lifetime:%s\n", caps, sa.id, life);
        }
        for (size_t c = 0; c < sa.n_children; c++) {
            vpn_ikev2_child_state cs;
            vpn_show_child_counters k;
            char p[8], sl[96], sr[96];
            if (vpn_ikev2_child_get(ctx, sa.id, c, &cs) != 0 || cs.info.n_ts_local == 0 ||
                cs.info.n_ts_remote == 0)
                continue;
            /* One flow line per negotiated selector pair: a CHILD_SA whose
             * TSi/TSr carry several selectors (RFC 7296 2.9) protects all
             * of them, and IOS lists each. */
            for (size_t tl = 0; tl < cs.info.n_ts_local; tl++) {
                for (size_t tr = 0; tr < cs.info.n_ts_remote; tr++) {
                    proto_str(cs.info.ts_local[tl].proto, p, sizeof p);
                    vpn_show_printf(b, "  IPSEC FLOW: permit %s %s %s\n", p,
                                    vpn_show_selector_addr(&cs.info.ts_local[tl], sl, sizeof sl),
                                    vpn_show_selector_addr(&cs.info.ts_remote[tr], sr, sizeof sr));
                }
            }
            vpn_show_printf(b, "        Active SAs: 2, origin: crypto map\n");
            if (detail) {
                counters(env, cs.info.id, &k);
                vpn_show_printf(b, "        Inbound:  #pkts dec'ed %llu drop %llu life (KB/Sec) %llu/%llu\n",
                                (unsigned long long)k.pkts_decrypt, (unsigned long long)k.drop_in,
                                (unsigned long long)kb_left(&cs.info, k.bytes_in),
                                (unsigned long long)sec_left(&cs, now));
                vpn_show_printf(b, "        Outbound: #pkts enc'ed %llu drop %llu life (KB/Sec) %llu/%llu\n",
                                (unsigned long long)k.pkts_encrypt, (unsigned long long)k.drop_out,
                                (unsigned long long)kb_left(&cs.info, k.bytes_out),
                                (unsigned long long)sec_left(&cs, now));
            }
        }
        vpn_show_printf(b, "\n");
    }
    return vpn_show_result(b);
}

int vpn_show_crypto_session(const vpn_ikev2_ctx *ctx, uint64_t now, bool detail,
                            const vpn_show_ikev2_env *env, vpn_show_buf *b)
{
    return crypto_session(ctx, now, detail, NULL, env, b);
}

int vpn_show_crypto_session_user(const vpn_ikev2_ctx *ctx, uint64_t now, const char *user, bool detail,
                                 const vpn_show_ikev2_env *env, vpn_show_buf *b)
{
    if (user == NULL)
        return VPN_ERR_INVAL;
    return crypto_session(ctx, now, detail, user, env, b);
}

/* ---- show crypto ipsec sa --------------------------------------------------- */

static void ident(const vpn_ikev2_selector *s, char *buf, size_t len)
{
    char a[VPN_ADDR_STRLEN], m[VPN_ADDR_STRLEN];
    int plen = range_prefix(s);
    vpn_addr mask;

    if (s->family == VPN_AF_INET) {
        vpn_len_to_mask((uint8_t)(plen < 0 ? 32 : plen), &mask);
        snprintf(buf, len, "%s/%s/%u/%u", vpn_addr_str(&s->addr_lo, a, sizeof a),
                 vpn_addr_str(&mask, m, sizeof m), s->proto, s->port_lo == s->port_hi ? s->port_lo : 0);
    } else {
        snprintf(buf, len, "%s/%d/%u/%u", vpn_addr_str(&s->addr_lo, a, sizeof a), plen < 0 ? 128 : plen,
                 s->proto, s->port_lo == s->port_hi ? s->port_lo : 0);
    }
}

static size_t iv_size(uint16_t encr)
{
    return encr == VPN_ENCR_AES_CBC ? 16 : 8;
}

/* The largest inner packet that fits the path MTU after ESP (RFC 4303 2)
 * and, in tunnel mode, an outer IPv4 header; UDP encapsulation adds 8. */
static unsigned plaintext_mtu(const vpn_ikev2_child_info *ci, unsigned mtu)
{
    /* As tunnels size themselves (ipsec/esp.h): exact padding, the real
     * IV and ICV of the transform, NAT-T. */
    vpn_esp_shape sh;
    size_t v;

    memset(&sh, 0, sizeof sh);
    sh.encr_id = ci->encr;
    sh.encr_key_bits = ci->encr_key_bits;
    sh.integ_id = ci->integ;
    sh.mode = ci->mode == VPN_CONF_MODE_TUNNEL ? VPN_ESP_TUNNEL : VPN_ESP_TRANSPORT;
    sh.outer_family = ci->local.addr.family == VPN_AF_INET6 ? VPN_AF_INET6 : VPN_AF_INET;
    sh.udp_encap = ci->udp_encap;
    return vpn_esp_max_input(&sh, mtu, &v) == 0 ? (unsigned)v : 0;
}

static void esp_block(const vpn_ikev2_child_state *cs, uint32_t spi, uint64_t now, bool detail,
                      uint64_t bytes, const char *iface, vpn_show_buf *b)
{
    const vpn_ikev2_child_info *ci = &cs->info;
    vpn_show_printf(b, "      spi: 0x%X(%u)\n", spi, spi);
    vpn_show_printf(b, "        transform: %s ,\n", ci->transform_set ? ci->transform_set : "");
    vpn_show_printf(b, "        in use settings ={%s%s, }\n",
                    ci->mode == VPN_CONF_MODE_TUNNEL ? "Tunnel" : "Transport",
                    ci->udp_encap ? " UDP-Encaps" : "");
    vpn_show_printf(b, "        conn id: %u, flow_id: SW:%u, sibling_flags 80000000, crypto map: %s-head-0\n",
                    ci->id, ci->id, iface);
    vpn_show_printf(b, "        sa timing: remaining key lifetime (k/sec): (%llu/%llu)\n",
                    (unsigned long long)kb_left(ci, bytes), (unsigned long long)sec_left(cs, now));
    vpn_show_printf(b, "        IV size: %zu bytes\n", iv_size(ci->encr));
    if (detail)
        vpn_show_printf(b, "        replay detection support: Y  replay window size: 1024\n");
    else
        vpn_show_printf(b, "        replay detection support: Y\n");
    vpn_show_printf(b, "        Status: ACTIVE(ACTIVE)\n\n");
}

int vpn_show_crypto_ipsec_sa(const vpn_ikev2_ctx *ctx, uint64_t now, bool detail,
                             const vpn_show_ikev2_env *env, vpn_show_buf *b)
{
    unsigned mtu = env && env->path_mtu ? env->path_mtu : 1500;

    if (ctx == NULL || b == NULL)
        return VPN_ERR_INVAL;
    for (size_t i = 0; i < vpn_ikev2_sa_count(ctx); i++) {
        vpn_ikev2_sa_info sa;
        if (vpn_ikev2_sa_get(ctx, i, &sa) != 0)
            continue;
        for (size_t c = 0; c < sa.n_children; c++) {
            vpn_ikev2_child_state cs;
            vpn_show_child_counters k;
            char ibuf[32], la[VPN_ADDR_STRLEN], ra[VPN_ADDR_STRLEN], li[96], ri[96];
            const char *ifn;
            const vpn_ikev2_child_info *ci;

            if (vpn_ikev2_child_get(ctx, sa.id, c, &cs) != 0)
                continue;
            ci = &cs.info;
            ifn = iface_name(env, ci->policy_tag, &ci->remote.addr, ibuf, sizeof ibuf);
            counters(env, ci->id, &k);
            vpn_addr_str(&ci->local.addr, la, sizeof la);
            vpn_addr_str(&ci->remote.addr, ra, sizeof ra);
            vpn_show_printf(b, "\ninterface: %s\n", ifn);
            vpn_show_printf(b, "    Crypto map tag: %s-head-0, local addr %s\n\n", ifn, la);
            vpn_show_printf(b, "   protected vrf: (none)\n");
            if (ci->n_ts_local)
                ident(&ci->ts_local[0], li, sizeof li);
            else
                snprintf(li, sizeof li, "0.0.0.0/0.0.0.0/0/0");
            if (ci->n_ts_remote)
                ident(&ci->ts_remote[0], ri, sizeof ri);
            else
                snprintf(ri, sizeof ri, "0.0.0.0/0.0.0.0/0/0");
            vpn_show_printf(b, "   local  ident (addr/mask/prot/port): (%s)\n", li);
            vpn_show_printf(b, "   remote ident (addr/mask/prot/port): (%s)\n", ri);
            vpn_show_printf(b, "   current_peer %s port %u\n", ra, ci->remote.port);
            vpn_show_printf(b, "     PERMIT, flags={origin_is_acl,}\n");
            vpn_show_printf(b, "    #pkts encaps: %llu, #pkts encrypt: %llu, #pkts digest: %llu\n",
                            (unsigned long long)k.pkts_encaps, (unsigned long long)k.pkts_encrypt,
                            (unsigned long long)k.pkts_digest);
            vpn_show_printf(b, "    #pkts decaps: %llu, #pkts decrypt: %llu, #pkts verify: %llu\n",
                            (unsigned long long)k.pkts_decaps, (unsigned long long)k.pkts_decrypt,
                            (unsigned long long)k.pkts_verify);
            vpn_show_printf(b, "    #pkts compressed: 0, #pkts decompressed: 0\n"
                               "    #pkts not compressed: 0, #pkts compr. failed: 0\n"
                               "    #pkts not decompressed: 0, #pkts decompress failed: 0\n");
            if (detail) {
                vpn_show_printf(b, "    #pkts no sa (send) 0, #pkts invalid sa (rcv) 0\n"
                                   "    #pkts encaps failed (send) %llu, #pkts decaps failed (rcv) %llu\n"
                                   "    #pkts invalid prot (recv) 0, #pkts verify failed: 0\n"
                                   "    #pkts invalid identity (recv) 0, #pkts invalid len (rcv) 0\n"
                                   "    #pkts replay rollover (send): 0, #pkts replay rollover (rcv) 0\n"
                                   "    ##pkts replay failed (rcv): 0\n"
                                   "    #pkts tagged (send): 0, #pkts untagged (rcv): 0\n"
                                   "    #pkts not tagged (send): 0, #pkts not untagged (rcv): 0\n"
                                   "    #pkts internal err (send): 0, #pkts internal err (recv) 0\n",
                                (unsigned long long)k.send_errors, (unsigned long long)k.recv_errors);
            } else {
                vpn_show_printf(b, "    #send errors %llu, #recv errors %llu\n\n",
                                (unsigned long long)k.send_errors, (unsigned long long)k.recv_errors);
            }
            vpn_show_printf(b, "     local crypto endpt.: %s, remote crypto endpt.: %s\n", la, ra);
            vpn_show_printf(b, "     plaintext mtu %u, path mtu %u, ip mtu %u, ip mtu idb %s\n",
                            plaintext_mtu(ci, mtu), mtu, mtu, ifn);
            vpn_show_printf(b, "     current outbound spi: 0x%X(%u)\n", ci->spi_out, ci->spi_out);
            if (ci->pfs_group)
                vpn_show_printf(b, "     PFS (Y/N): Y, DH group: group%u\n\n", ci->pfs_group);
            else
                vpn_show_printf(b, "     PFS (Y/N): N, DH group: none\n\n");
            vpn_show_printf(b, "     inbound esp sas:\n");
            esp_block(&cs, ci->spi_in, now, detail, k.bytes_in, ifn, b);
            vpn_show_printf(b, "     inbound ah sas:\n\n     inbound pcp sas:\n\n");
            vpn_show_printf(b, "     outbound esp sas:\n");
            esp_block(&cs, ci->spi_out, now, detail, k.bytes_out, ifn, b);
            vpn_show_printf(b, "     outbound ah sas:\n\n     outbound pcp sas:\n");
        }
    }
    return vpn_show_result(b);
}

/* show ip local pool: IOS's columns (Pool, Begin, End, Free, In use). */
int vpn_show_ip_local_pool(const vpn_ikev2_ctx *ctx, vpn_show_buf *b)
{
    vpn_ikev2_pool_info pi;
    if (ctx == NULL || b == NULL)
        return VPN_ERR_INVAL;
    vpn_show_printf(b, " Pool                     Begin           End             Free  In use\n");
    for (size_t i = 0; vpn_ikev2_pool_get(ctx, i, &pi) == 0; i++) {
        char lo[VPN_ADDR_STRLEN], hi[VPN_ADDR_STRLEN];
        vpn_show_printf(b, " %-24s %-15s %-15s %5u %7u\n", pi.name, vpn_addr_str(&pi.first, lo, sizeof lo),
                        vpn_addr_str(&pi.last, hi, sizeof hi), pi.size - pi.in_use, pi.in_use);
    }
    return vpn_show_result(b);
}
