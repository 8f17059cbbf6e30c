/* Control command parsing (host-ctl.h). */
#include "host-ctl.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/vpn-err.h"

#define MAX_WORDS 8

static const char help_text[] =
    "show crypto ikev2 sa [detail]      IKE SAs (IOS layout)\n"
    "show crypto ipsec sa [detail]      CHILD_SAs with packet counters\n"
    "show crypto session [detail]       sessions per peer\n"
    "show crypto session username USER [detail]\n"
    "                                   a remote-access user's sessions\n"
    "show ip local pool                 remote-access address pools\n"
    "show aaa servers                   RADIUS servers of EAP passthrough, counters\n"
    "show crypto ikev2 stats            IKEv2 counters\n"
    "show crypto ikev2 proposal [NAME]  configured proposals\n"
    "show crypto ikev2 policy [NAME]    configured policies\n"
    "show crypto ikev2 profile [NAME]   configured profiles\n"
    "show crypto isakmp sa              IKEv1 phase-1 SAs (IOS layout)\n"
    "show crypto isakmp policy          configured ISAKMP policies\n"
    "show crypto gdoi                   GET VPN groups: key server or member state\n"
    "show crypto gdoi ks members        members registered with this key server\n"
    "show crypto gdoi ks coop           cooperative key servers\n"
    "show crypto gdoi gm                member groups\n"
    "show drops                         packets dropped, by reason\n"
    "initiate [TunnelN]                 bring a tunnel up now (all tunnels without a name)\n"
    "clear crypto ikev2 sa [ID]         delete IKE SAs (all, or the one with this id)\n"
    "clear crypto ipsec sa              delete every CHILD_SA (tunnels come back on traffic)\n"
    "initiate isakmp ADDRESS            IKEv1 Main Mode to ADDRESS now\n"
    "clear crypto isakmp [CONN-ID]      delete phase-1 SAs (all, or this conn-id)\n"
    "clear crypto gdoi                  members register again now\n"
    "crypto gdoi ks rekey               the key server rekeys its group now\n"
    "rekey child TunnelN                rekey the tunnel's CHILD_SA now\n"
    "rekey ike TunnelN                  rekey the tunnel's IKE SA now\n"
    "dpd TunnelN                        send a liveness check to the tunnel's peer now\n"
    "status                             one line for the daemon, one per tunnel\n"
    "help                               this text\n";

const char *vpn_host_ctl_help(void)
{
    return help_text;
}

static int bad(char *err, size_t errlen, const char *what, const char *line)
{
    if (err && errlen)
        snprintf(err, errlen, "%s: '%s' (try 'help')", what, line);
    return VPN_ERR_MALFORMED;
}

static bool eq(char **w, int n, int i, const char *s)
{
    return i < n && strcmp(w[i], s) == 0;
}

static bool tunnel_name(const char *s)
{
    /* TunnelN, as IOS spells it (case-insensitive like IOS's parser). */
    if (strncasecmp(s, "tunnel", 6) != 0 || s[6] == '\0')
        return false;
    for (const char *p = s + 6; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return strlen(s) < 16;
}

static int set_arg(vpn_host_ctl_req *req, const char *s, char *err, size_t errlen, const char *line)
{
    if (strlen(s) >= sizeof req->arg)
        return bad(err, errlen, "argument too long", line);
    snprintf(req->arg, sizeof req->arg, "%s", s);
    return 0;
}

/* show crypto ... */
static int parse_show(char **w, int n, vpn_host_ctl_req *req, char *err, size_t errlen, const char *line)
{
    if (eq(w, n, 1, "drops") && n == 2) {
        req->cmd = VPN_HOST_CMD_SHOW_DROPS;
        return 0;
    }
    if (eq(w, n, 1, "aaa") && eq(w, n, 2, "servers") && n == 3) {
        req->cmd = VPN_HOST_CMD_SHOW_AAA_SERVERS;
        return 0;
    }
    if (eq(w, n, 1, "ip") && eq(w, n, 2, "local") && eq(w, n, 3, "pool") && n == 4) {
        req->cmd = VPN_HOST_CMD_SHOW_IP_LOCAL_POOL;
        return 0;
    }
    if (!eq(w, n, 1, "crypto"))
        return bad(err, errlen, "unknown show command", line);
    if (eq(w, n, 2, "session") && eq(w, n, 3, "username") && (n == 5 || (n == 6 && eq(w, n, 5, "detail")))) {
        req->cmd = VPN_HOST_CMD_SHOW_SESSION_USER;
        req->detail = n == 6;
        return set_arg(req, w[4], err, errlen, line);
    }
    if (eq(w, n, 2, "ikev2")) {
        if (eq(w, n, 3, "sa") && (n == 4 || (n == 5 && eq(w, n, 4, "detail")))) {
            req->cmd = VPN_HOST_CMD_SHOW_IKEV2_SA;
            req->detail = n == 5;
            return 0;
        }
        if (eq(w, n, 3, "stats") && n == 4) {
            req->cmd = VPN_HOST_CMD_SHOW_IKEV2_STATS;
            return 0;
        }
        if ((eq(w, n, 3, "proposal") || eq(w, n, 3, "policy") || eq(w, n, 3, "profile")) && n <= 5) {
            req->cmd = eq(w, n, 3, "proposal") ? VPN_HOST_CMD_SHOW_IKEV2_PROPOSAL
                       : eq(w, n, 3, "policy") ? VPN_HOST_CMD_SHOW_IKEV2_POLICY
                                               : VPN_HOST_CMD_SHOW_IKEV2_PROFILE;
            return n == 5 ? set_arg(req, w[4], err, errlen, line) : 0;
        }
        return bad(err, errlen, "unknown show crypto ikev2 command", line);
    }
    if (eq(w, n, 2, "ipsec") && eq(w, n, 3, "sa") && (n == 4 || (n == 5 && eq(w, n, 4, "detail")))) {
        req->cmd = VPN_HOST_CMD_SHOW_IPSEC_SA;
        req->detail = n == 5;
        return 0;
    }
    if (eq(w, n, 2, "session") && (n == 3 || (n == 4 && eq(w, n, 3, "detail")))) {
        req->cmd = VPN_HOST_CMD_SHOW_SESSION;
        req->detail = n == 4;
        return 0;
    }
    if (eq(w, n, 2, "gdoi")) {
        if (n == 3) {
            req->cmd = VPN_HOST_CMD_SHOW_GDOI;
            return 0;
        }
        if (n == 4 && eq(w, n, 3, "gm")) {
            req->cmd = VPN_HOST_CMD_SHOW_GDOI_GM;
            return 0;
        }
        if (n == 5 && eq(w, n, 3, "ks") && (eq(w, n, 4, "members") || eq(w, n, 4, "coop"))) {
            req->cmd = eq(w, n, 4, "members") ? VPN_HOST_CMD_SHOW_GDOI_KS_MEMBERS : VPN_HOST_CMD_SHOW_GDOI_KS_COOP;
            return 0;
        }
        return bad(err, errlen, "unknown show crypto gdoi command", line);
    }
    if (eq(w, n, 2, "isakmp") && n == 4 && (eq(w, n, 3, "sa") || eq(w, n, 3, "policy"))) {
        req->cmd = eq(w, n, 3, "sa") ? VPN_HOST_CMD_SHOW_ISAKMP_SA : VPN_HOST_CMD_SHOW_ISAKMP_POLICY;
        return 0;
    }
    return bad(err, errlen, "unknown show crypto command", line);
}

static int parse_id(const char *s, uint32_t *out)
{
    unsigned long long v = 0;
    if (*s == '\0')
        return -1;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9' || v > 0xffffffffull)
            return -1;
        v = v * 10 + (unsigned)(*p - '0');
    }
    if (v == 0 || v > 0xffffffffull)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

int vpn_host_ctl_parse(const char *line, vpn_host_ctl_req *req, char *err, size_t errlen)
{
    char buf[VPN_HOST_CTL_LINE_MAX];
    char *w[MAX_WORDS];
    int n = 0;
    char *s;

    if (line == NULL || req == NULL)
        return VPN_ERR_INVAL;
    memset(req, 0, sizeof *req);
    if (err && errlen)
        err[0] = '\0';
    if (strlen(line) >= sizeof buf)
        return bad(err, errlen, "command too long", "...");
    snprintf(buf, sizeof buf, "%s", line);
    for (s = buf; *s;) {
        while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
            *s++ = '\0';
        if (*s == '\0')
            break;
        if (n == MAX_WORDS)
            return bad(err, errlen, "too many words", line);
        w[n++] = s;
        while (*s && *s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
            s++;
    }
    for (int i = 0; i < n; i++)
        for (char *p = w[i]; *p; p++)
            if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
                return bad(err, errlen, "unprintable character in command", "");
    if (n == 0)
        return bad(err, errlen, "empty command", "");
    if (eq(w, n, 0, "show"))
        return parse_show(w, n, req, err, errlen, line);
    if (eq(w, n, 0, "help") && n == 1) {
        req->cmd = VPN_HOST_CMD_HELP;
        return 0;
    }
    if (eq(w, n, 0, "status") && n == 1) {
        req->cmd = VPN_HOST_CMD_STATUS;
        return 0;
    }
    if (eq(w, n, 0, "initiate") && eq(w, n, 1, "isakmp")) {
        if (n != 3)
            return bad(err, errlen, "usage: initiate isakmp ADDRESS", line);
        req->cmd = VPN_HOST_CMD_INITIATE_ISAKMP;
        return set_arg(req, w[2], err, errlen, line);
    }
    if (eq(w, n, 0, "initiate") && n <= 2) {
        req->cmd = VPN_HOST_CMD_INITIATE;
        if (n == 2 && !tunnel_name(w[1]))
            return bad(err, errlen, "initiate takes a tunnel interface name (TunnelN)", line);
        return n == 2 ? set_arg(req, w[1], err, errlen, line) : 0;
    }
    if (eq(w, n, 0, "clear") && eq(w, n, 1, "crypto")) {
        if (eq(w, n, 2, "ikev2") && eq(w, n, 3, "sa") && n <= 5) {
            req->cmd = VPN_HOST_CMD_CLEAR_IKEV2_SA;
            if (n == 5) {
                if (parse_id(w[4], &req->id) != 0)
                    return bad(err, errlen, "clear crypto ikev2 sa takes an IKE SA id (a number > 0)", line);
                req->has_id = true;
            }
            return 0;
        }
        if (eq(w, n, 2, "isakmp") && n <= 4) {
            req->cmd = VPN_HOST_CMD_CLEAR_ISAKMP;
            if (n == 4) {
                if (parse_id(w[3], &req->id) != 0)
                    return bad(err, errlen, "clear crypto isakmp takes a conn-id (a number > 0)", line);
                req->has_id = true;
            }
            return 0;
        }
        if (eq(w, n, 2, "ipsec") && eq(w, n, 3, "sa") && n == 4) {
            req->cmd = VPN_HOST_CMD_CLEAR_IPSEC_SA;
            return 0;
        }
        if (eq(w, n, 2, "gdoi") && n == 3) {
            req->cmd = VPN_HOST_CMD_CLEAR_GDOI;
            return 0;
        }
        return bad(err, errlen, "unknown clear command", line);
    }
    if (eq(w, n, 0, "rekey")) {
        if (n != 3 || !(eq(w, n, 1, "child") || eq(w, n, 1, "ike")) || !tunnel_name(w[2]))
            return bad(err, errlen, "usage: rekey child|ike TunnelN", line);
        req->cmd = eq(w, n, 1, "child") ? VPN_HOST_CMD_REKEY_CHILD : VPN_HOST_CMD_REKEY_IKE;
        return set_arg(req, w[2], err, errlen, line);
    }
    if (eq(w, n, 0, "crypto") && eq(w, n, 1, "gdoi")) {
        if (n != 4 || !eq(w, n, 2, "ks") || !eq(w, n, 3, "rekey"))
            return bad(err, errlen, "usage: crypto gdoi ks rekey", line);
        req->cmd = VPN_HOST_CMD_GDOI_KS_REKEY;
        return 0;
    }
    if (eq(w, n, 0, "dpd")) {
        if (n != 2 || !tunnel_name(w[1]))
            return bad(err, errlen, "usage: dpd TunnelN", line);
        req->cmd = VPN_HOST_CMD_DPD;
        return set_arg(req, w[1], err, errlen, line);
    }
    return bad(err, errlen, "unknown command", line);
}
