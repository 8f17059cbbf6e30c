#include <stdio.h>

#include "common/vpn-err.h"
#include "crypto/crypto-ids.h"
#include "isakmp/isakmp-const.h"
#include "show/show-isakmp.h"

const char *vpn_show_isakmp_state(vpn_ikev1_state st)
{
    /* IOS: MM_NO_STATE until the proposal is agreed, MM_SA_SETUP until the
     * DH values are exchanged, MM_KEY_EXCH until authenticated, QM_IDLE
     * once phase 1 is up (ready for quick mode or GDOI). */
    switch (st) {
    case VPN_IKEV1_ST_IDLE:
    case VPN_IKEV1_ST_I_MSG1:
    case VPN_IKEV1_ST_DEAD: return "MM_NO_STATE";
    case VPN_IKEV1_ST_R_MSG2:
    case VPN_IKEV1_ST_I_MSG3: return "MM_SA_SETUP";
    case VPN_IKEV1_ST_R_MSG4:
    case VPN_IKEV1_ST_I_MSG5: return "MM_KEY_EXCH";
    case VPN_IKEV1_ST_ESTABLISHED: return "QM_IDLE";
    }
    return "MM_NO_STATE";
}

static void table(const vpn_show_isakmp_row *rows, size_t n, int fam, vpn_show_buf *b)
{
    vpn_show_printf(b, "IPv%d Crypto ISAKMP SA\n", fam == VPN_AF_INET ? 4 : 6);
    vpn_show_printf(b, "dst             src             state          conn-id status\n");
    for (size_t i = 0; i < n; i++) {
        const vpn_show_isakmp_row *r = &rows[i];
        char l[VPN_ADDR_STRLEN], rm[VPN_ADDR_STRLEN];
        vpn_ikev1_state st = r->sa ? vpn_ikev1_sa_state(r->sa) : VPN_IKEV1_ST_DEAD;
        bool init = r->sa ? vpn_ikev1_sa_is_initiator(r->sa) : r->initiator;

        if (r->local.family != fam)
            continue;
        vpn_addr_str(&r->local, l, sizeof l);
        vpn_addr_str(&r->remote, rm, sizeof rm);
        vpn_show_printf(b, "%-15s %-15s %-14s %7u %s\n", init ? rm : l, init ? l : rm,
                        vpn_show_isakmp_state(st), (unsigned)r->conn_id,
                        st == VPN_IKEV1_ST_DEAD ? "DELETED" : "ACTIVE");
    }
    vpn_show_printf(b, "\n");
}

int vpn_show_isakmp_sa(const vpn_show_isakmp_row *rows, size_t n, vpn_show_buf *b)
{
    table(rows, n, VPN_AF_INET, b);
    table(rows, n, VPN_AF_INET6, b);
    return vpn_show_result(b);
}

static const char *hash_name(uint16_t h)
{
    switch (h) {
    case VPN_IKEV1_HASH_SHA1: return "Secure Hash Standard";
    case VPN_IKEV1_HASH_SHA2_256: return "Secure Hash Standard 2 (256 bit)";
    case VPN_IKEV1_HASH_SHA2_384: return "Secure Hash Standard 2 (384 bit)";
    case VPN_IKEV1_HASH_SHA2_512: return "Secure Hash Standard 2 (512 bit)";
    }
    return "unknown";
}

static const char *group_name(uint16_t g)
{
    switch (g) {
    case VPN_DH_MODP_1024: return "#2 (1024 bit)";
    case VPN_DH_MODP_1536: return "#5 (1536 bit)";
    case VPN_DH_MODP_2048: return "#14 (2048 bit)";
    case VPN_DH_ECP_256: return "#19 (256 bit ecp)";
    case VPN_DH_ECP_384: return "#20 (384 bit ecp)";
    }
    return "unknown";
}

static void suite(vpn_show_buf *b, uint32_t prio, uint16_t bits, uint16_t hash, uint16_t auth,
                  uint16_t group, uint32_t life, bool is_default)
{
    if (is_default)
        vpn_show_printf(b, "Default protection suite\n");
    else
        vpn_show_printf(b, "Protection suite of priority %u\n", (unsigned)prio);
    vpn_show_printf(b, "\tencryption algorithm:\tAES - Advanced Encryption Standard (%u bit keys).\n",
                    (unsigned)bits);
    vpn_show_printf(b, "\thash algorithm:\t\t%s\n", hash_name(hash));
    vpn_show_printf(b, "\tauthentication method:\t%s\n",
                    auth == VPN_IKEV1_AUTH_PSK ? "Pre-Shared Key" : "Rivest-Shamir-Adleman Signature");
    vpn_show_printf(b, "\tDiffie-Hellman group:\t%s\n", group_name(group));
    vpn_show_printf(b, "\tlifetime:\t\t%u seconds, no volume limit\n", (unsigned)life);
}

int vpn_show_isakmp_policy(const vpn_conf *c, vpn_show_buf *b)
{
    vpn_show_printf(b, "\nGlobal IKE policy\n");
    for (size_t i = 0; c && i < c->n_isakmp_policy; i++) {
        const vpn_conf_isakmp_policy *p = &c->isakmp_policy[i];
        suite(b, p->priority, p->encr_bits, p->hash, p->auth, p->group, p->lifetime_s, false);
    }
    /* What an unconfigured policy holds (conf-parse.c's defaults). */
    suite(b, 0, 128, VPN_IKEV1_HASH_SHA1, VPN_IKEV1_AUTH_RSA_SIG, VPN_DH_MODP_2048,
          VPN_IKEV1_DEFAULT_LIFETIME, true);
    return vpn_show_result(b);
}
