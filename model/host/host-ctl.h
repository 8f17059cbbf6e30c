/*
 * The control language of vpnd, as vpnctl sends it: one command per
 * connection, the words of the command line joined by single spaces and
 * ended by a newline. The answer is a status line ("0" or a non-zero exit
 * code, then a newline) followed by the text to print.
 *
 * Parsing is pure (no sockets, no GLib) so that tests check it alone; the
 * daemon executes what vpn_host_ctl_parse returns (vpnd-ctl.c).
 */
#ifndef VPN_HOST_CTL_H
#define VPN_HOST_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VPN_HOST_CTL_LINE_MAX 512

typedef enum vpn_host_cmd {
    VPN_HOST_CMD_SHOW_IKEV2_SA = 1, /* show crypto ikev2 sa [detail] */
    VPN_HOST_CMD_SHOW_IPSEC_SA,     /* show crypto ipsec sa [detail] */
    VPN_HOST_CMD_SHOW_SESSION,      /* show crypto session [detail] */
    VPN_HOST_CMD_SHOW_IKEV2_STATS,  /* show crypto ikev2 stats */
    VPN_HOST_CMD_SHOW_IKEV2_PROPOSAL, /* show crypto ikev2 proposal [NAME] */
    VPN_HOST_CMD_SHOW_IKEV2_POLICY, /* show crypto ikev2 policy [NAME] */
    VPN_HOST_CMD_SHOW_IKEV2_PROFILE, /* show crypto ikev2 profile [NAME] */
    VPN_HOST_CMD_SHOW_DROPS,        /* show drops */
    VPN_HOST_CMD_INITIATE,          /* initiate [TunnelN] */
    VPN_HOST_CMD_CLEAR_IKEV2_SA,    /* clear crypto ikev2 sa [ID] */
    VPN_HOST_CMD_CLEAR_IPSEC_SA,    /* clear crypto ipsec sa */
    VPN_HOST_CMD_REKEY_CHILD,       /* rekey child TunnelN */
    VPN_HOST_CMD_REKEY_IKE,         /* rekey ike TunnelN */
    VPN_HOST_CMD_DPD,               /* dpd TunnelN */
    VPN_HOST_CMD_STATUS,            /* status */
    VPN_HOST_CMD_HELP,              /* help */
    VPN_HOST_CMD_SHOW_ISAKMP_SA,    /* show crypto isakmp sa */
    VPN_HOST_CMD_SHOW_ISAKMP_POLICY, /* show crypto isakmp policy */
    VPN_HOST_CMD_CLEAR_ISAKMP,      /* clear crypto isakmp [CONN-ID] */
    VPN_HOST_CMD_INITIATE_ISAKMP,   /* initiate isakmp ADDRESS */
    VPN_HOST_CMD_SHOW_GDOI,         /* show crypto gdoi */
    VPN_HOST_CMD_SHOW_GDOI_KS_MEMBERS, /* show crypto gdoi ks members */
    VPN_HOST_CMD_SHOW_GDOI_KS_COOP, /* show crypto gdoi ks coop */
    VPN_HOST_CMD_SHOW_GDOI_GM,      /* show crypto gdoi gm */
    VPN_HOST_CMD_CLEAR_GDOI,        /* clear crypto gdoi */
    VPN_HOST_CMD_GDOI_KS_REKEY,     /* crypto gdoi ks rekey */
    VPN_HOST_CMD_SHOW_IP_LOCAL_POOL, /* show ip local pool */
    VPN_HOST_CMD_SHOW_SESSION_USER, /* show crypto session username USER [detail] */
    VPN_HOST_CMD_SHOW_AAA_SERVERS,  /* show aaa servers */
} vpn_host_cmd;

typedef struct vpn_host_ctl_req {
    vpn_host_cmd cmd;
    bool detail;
    char arg[64];   /* tunnel or object name, "" when none */
    bool has_id;
    uint32_t id;    /* clear crypto ikev2 sa ID, clear crypto isakmp CONN-ID */
} vpn_host_ctl_req;

/*
 * Parses one command (words separated by blanks; a trailing newline is
 * fine). On failure err says what is wrong (and what would be right).
 * Errors: VPN_ERR_INVAL (NULL), VPN_ERR_MALFORMED (unknown or incomplete
 * command, bad argument).
 */
int vpn_host_ctl_parse(const char *line, vpn_host_ctl_req *req, char *err, size_t errlen);

/* The command summary printed by `vpnctl help` and `vpnd -h`. */
const char *vpn_host_ctl_help(void);

#ifdef __cplusplus
}
#endif

#endif
