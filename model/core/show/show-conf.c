/* show crypto ikev2 proposal / policy / profile, from the policy objects. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/vpn-err.h"
#include "crypto/crypto-ids.h"
#include "show/show.h"

void vpn_show_init(vpn_show_buf *b, char *p, size_t cap)
{
    b->p = p;
    b->cap = p ? cap : 0;
    b->len = 0;
    b->truncated = false;
    if (b->cap)
        p[0] = '\0';
}

void vpn_show_printf(vpn_show_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->truncated || b->cap == 0) {
        b->truncated = true;
        return;
    }
    va_start(ap, fmt);
    n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= b->cap - b->len) {
        b->truncated = true;
        b->len = b->cap - 1;
        b->p[b->len] = '\0';
        return;
    }
    b->len += (size_t)n;
}

int vpn_show_result(const vpn_show_buf *b)
{
    return b->truncated ? VPN_ERR_NOSPACE : 0;
}

const char *vpn_show_ike_encr_name(uint16_t id, uint16_t bits)
{
    switch (id) {
    case VPN_ENCR_AES_CBC: return bits == 128 ? "AES-CBC-128" : bits == 192 ? "AES-CBC-192" : "AES-CBC-256";
    case VPN_ENCR_AES_CTR: return bits == 128 ? "AES-CTR-128" : bits == 192 ? "AES-CTR-192" : "AES-CTR-256";
    case VPN_ENCR_AES_GCM_8:
    case VPN_ENCR_AES_GCM_12:
    case VPN_ENCR_AES_GCM_16: return bits == 128 ? "AES-GCM-128" : bits == 192 ? "AES-GCM-192" : "AES-GCM-256";
    case VPN_ENCR_CHACHA20_POLY1305: return "CHACHA20-POLY1305";
    case VPN_ENCR_NULL: return "NULL";
    }
    return "Unknown";
}

const char *vpn_show_integ_name(uint16_t id)
{
    switch (id) {
    case VPN_AUTH_HMAC_SHA1_96: return "SHA96";
    case VPN_AUTH_HMAC_SHA2_256_128: return "SHA256";
    case VPN_AUTH_HMAC_SHA2_384_192: return "SHA384";
    case VPN_AUTH_HMAC_SHA2_512_256: return "SHA512";
    case VPN_INTEG_NONE: return "None";
    }
    return "Unknown";
}

const char *vpn_show_prf_name(uint16_t id)
{
    switch (id) {
    case VPN_PRF_HMAC_SHA1: return "SHA1";
    case VPN_PRF_HMAC_SHA2_256: return "SHA256";
    case VPN_PRF_HMAC_SHA2_384: return "SHA384";
    case VPN_PRF_HMAC_SHA2_512: return "SHA512";
    }
    return "Unknown";
}

const char *vpn_show_group_name(uint16_t id)
{
    switch (id) {
    case VPN_DH_MODP_1024: return "DH_GROUP_1024_MODP/Group 2";
    case VPN_DH_MODP_1536: return "DH_GROUP_1536_MODP/Group 5";
    case VPN_DH_MODP_2048: return "DH_GROUP_2048_MODP/Group 14";
    case VPN_DH_MODP_3072: return "DH_GROUP_3072_MODP/Group 15";
    case VPN_DH_MODP_4096: return "DH_GROUP_4096_MODP/Group 16";
    case VPN_DH_ECP_256: return "DH_GROUP_256_ECP/Group 19";
    case VPN_DH_ECP_384: return "DH_GROUP_384_ECP/Group 20";
    case VPN_DH_ECP_521: return "DH_GROUP_521_ECP/Group 21";
    case VPN_DH_CURVE25519: return "DH_GROUP_CURVE25519/Group 31";
    }
    return "Unknown";
}

static void proposal_block(const vpn_conf_proposal *p, vpn_show_buf *b)
{
    vpn_show_printf(b, " IKEv2 proposal: %s \n", p->name);
    vpn_show_printf(b, "     Encryption :");
    for (size_t i = 0; i < p->n_encr; i++)
        vpn_show_printf(b, " %s", vpn_show_ike_encr_name(p->encr[i].id, p->encr[i].bits));
    vpn_show_printf(b, "\n     Integrity  :");
    for (size_t i = 0; i < p->n_integ; i++)
        vpn_show_printf(b, " %s", vpn_show_integ_name(p->integ[i]));
    vpn_show_printf(b, "\n     PRF        :");
    for (size_t i = 0; i < p->n_prf; i++)
        vpn_show_printf(b, " %s", vpn_show_prf_name(p->prf[i]));
    vpn_show_printf(b, "\n     DH Group   :");
    for (size_t i = 0; i < p->n_group; i++)
        vpn_show_printf(b, " %s", vpn_show_group_name(p->group[i]));
    vpn_show_printf(b, "\n");
}

int vpn_show_ikev2_proposal(const vpn_conf *c, const char *name, vpn_show_buf *b)
{
    bool any = false;
    for (size_t i = 0; i < c->n_proposal; i++) {
        if (name && strcmp(name, c->proposal[i].name) != 0)
            continue;
        proposal_block(&c->proposal[i], b);
        vpn_show_printf(b, "\n");
        any = true;
    }
    if (!any && name)
        return VPN_ERR_NOTFOUND;
    return vpn_show_result(b);
}

int vpn_show_ikev2_policy(const vpn_conf *c, const char *name, vpn_show_buf *b)
{
    char addr[VPN_ADDR_STRLEN];
    bool any = false;

    for (size_t i = 0; i < c->n_policy; i++) {
        const vpn_conf_policy *p = &c->policy[i];
        if (name && strcmp(name, p->name) != 0)
            continue;
        any = true;
        vpn_show_printf(b, " IKEv2 policy : %s\n", p->name);
        vpn_show_printf(b, "      Match fvrf : %s\n", strcmp(p->fvrf, "any") == 0 ? "any" : p->fvrf);
        vpn_show_printf(b, "      Match address local :");
        if (p->n_match_local == 0)
            vpn_show_printf(b, " any");
        for (size_t j = 0; j < p->n_match_local; j++)
            vpn_show_printf(b, " %s", vpn_addr_str(&p->match_local[j], addr, sizeof addr));
        vpn_show_printf(b, "\n      Proposal    :");
        for (size_t j = 0; j < p->n_proposal; j++)
            vpn_show_printf(b, " %s", p->proposal[j]);
        vpn_show_printf(b, "\n\n");
    }
    if (!any && name)
        return VPN_ERR_NOTFOUND;
    return vpn_show_result(b);
}

static void identity_text(const vpn_conf_identity *id, vpn_show_buf *b)
{
    char addr[VPN_ADDR_STRLEN], mask[VPN_ADDR_STRLEN];
    vpn_addr m;

    switch (id->type) {
    case VPN_CONF_ID_ADDRESS:
        vpn_addr_str(&id->addr.addr, addr, sizeof addr);
        if (id->addr.addr.family == VPN_AF_INET) {
            vpn_len_to_mask(id->addr.len, &m);
            vpn_show_printf(b, "address %s %s", addr, vpn_addr_str(&m, mask, sizeof mask));
        } else {
            vpn_show_printf(b, "address %s/%u", addr, id->addr.len);
        }
        break;
    case VPN_CONF_ID_FQDN:
        vpn_show_printf(b, "fqdn %s%s", id->domain ? "domain " : "", id->value);
        break;
    case VPN_CONF_ID_EMAIL:
        vpn_show_printf(b, "email %s%s", id->domain ? "domain " : "", id->value);
        break;
    case VPN_CONF_ID_KEY_ID:
        vpn_show_printf(b, "key-id %s", id->value);
        break;
    case VPN_CONF_ID_DN:
        vpn_show_printf(b, "dn");
        break;
    case VPN_CONF_ID_ANY:
        vpn_show_printf(b, "any");
        break;
    case VPN_CONF_ID_NONE:
        vpn_show_printf(b, "none");
        break;
    }
}

static const char *auth_text(vpn_conf_auth a)
{
    switch (a) {
    case VPN_CONF_AUTH_PSK: return "pre-share";
    case VPN_CONF_AUTH_RSA_SIG: return "rsa-sig";
    case VPN_CONF_AUTH_ECDSA_SIG: return "ecdsa-sig";
    case VPN_CONF_AUTH_EAP: return "eap";
    case VPN_CONF_AUTH_NONE: break;
    }
    return "none";
}

static unsigned profile_refs(const vpn_conf *c, const char *name)
{
    unsigned n = 0;
    for (size_t i = 0; i < c->n_ipsec_profile; i++)
        n += strcmp(c->ipsec_profile[i].ikev2_profile, name) == 0;
    return n;
}

int vpn_show_ikev2_profile(const vpn_conf *c, const char *name, vpn_show_buf *b)
{
    char addr[VPN_ADDR_STRLEN];
    bool any = false;

    for (size_t i = 0; i < c->n_profile; i++) {
        const vpn_conf_profile *p = &c->profile[i];
        if (name && strcmp(name, p->name) != 0)
            continue;
        any = true;
        vpn_show_printf(b, "IKEv2 profile: %s\n", p->name);
        vpn_show_printf(b, " Ref Count: %u\n", profile_refs(c, p->name));
        vpn_show_printf(b, " Match criteria: \n");
        vpn_show_printf(b, "  Fvrf: %s\n", strcmp(p->fvrf, "any") == 0 ? "any" : p->fvrf);
        vpn_show_printf(b, "  Local address/interface:");
        if (p->n_match_local == 0)
            vpn_show_printf(b, " none");
        for (size_t j = 0; j < p->n_match_local; j++)
            vpn_show_printf(b, " %s", vpn_addr_str(&p->match_local[j], addr, sizeof addr));
        vpn_show_printf(b, "\n  Identities:\n");
        for (size_t j = 0; j < p->n_match_remote; j++) {
            vpn_show_printf(b, "   ");
            identity_text(&p->match_remote[j], b);
            vpn_show_printf(b, "\n");
        }
        vpn_show_printf(b, "  Certificate maps: none\n");
        vpn_show_printf(b, " Local identity: ");
        if (p->identity_local.type == VPN_CONF_ID_NONE)
            vpn_show_printf(b, "none");
        else
            identity_text(&p->identity_local, b);
        vpn_show_printf(b, "\n Remote identity: none\n");
        vpn_show_printf(b, " Local authentication method: %s\n", auth_text(p->auth_local));
        vpn_show_printf(b, " Remote authentication method(s):");
        for (size_t j = 0; j < p->n_auth_remote; j++)
            vpn_show_printf(b, " %s", auth_text(p->auth_remote[j]));
        vpn_show_printf(b, "\n EAP options: none\n");
        vpn_show_printf(b, " Keyring: %s\n", p->keyring[0] ? p->keyring : "none");
        vpn_show_printf(b, " Trustpoint(s):");
        if (p->n_trustpoint == 0)
            vpn_show_printf(b, " none");
        for (size_t j = 0; j < p->n_trustpoint; j++)
            vpn_show_printf(b, " %s", p->trustpoint[j]);
        vpn_show_printf(b, "\n Lifetime: %u seconds\n", p->lifetime_s);
        if (p->dpd_mode == VPN_CONF_DPD_OFF)
            vpn_show_printf(b, " DPD: disabled\n");
        else
            vpn_show_printf(b, " DPD: interval %u, retry-interval %u, %s\n", p->dpd_interval_s, p->dpd_retry_s,
                            p->dpd_mode == VPN_CONF_DPD_PERIODIC ? "periodic" : "on-demand");
        if (p->nat_keepalive_s)
            vpn_show_printf(b, " NAT-keepalive: Interval %u sec\n", p->nat_keepalive_s);
        else
            vpn_show_printf(b, " NAT-keepalive: disabled\n");
        vpn_show_printf(b, " Ivrf: none\n");
        if (p->virtual_template)
            vpn_show_printf(b, " Virtual-template: %u\n", p->virtual_template);
        else
            vpn_show_printf(b, " Virtual-template: none\n");
        vpn_show_printf(b, "\n");
    }
    if (!any && name)
        return VPN_ERR_NOTFOUND;
    return vpn_show_result(b);
}
