/*
 * The IOS configuration subset: a line-oriented parser with IOS's modes.
 * A line that is not a command of the current mode is retried in the
 * parent mode (as IOS does), so indentation is optional; a line that no
 * mode accepts is an error naming the line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/vpn-err.h"
#include "conf/conf-internal.h"
#include "conf/conf.h"
#include "crypto/crypto-ids.h"
#include "isakmp/isakmp-const.h"

#define MAX_TOKENS 32
#define MAX_LINE 1024

typedef enum mode {
    M_GLOBAL = 0,
    M_PROPOSAL,
    M_POLICY,
    M_KEYRING,
    M_PEER,
    M_PROFILE,
    M_TSET,
    M_IPSEC_PROFILE,
    M_ACL,
    M_INTERFACE,
    M_RIP,
    M_ISAKMP_POLICY,
    M_TRUSTPOINT,
    M_ACL_STD,
    M_GDOI_GROUP,
    M_GDOI_SERVER,
    M_GDOI_SA,
    M_GDOI_REDUNDANCY,
    M_CRYPTO_MAP,
    M_CLASS_MAP,  /* MQC (conf-qos.h) */
    M_POLICY_MAP,
    M_PM_CLASS,
    M_AUTHOR_POLICY,
    M_RADIUS_SERVER,
    M_AAA_GROUP,
} mode;

static const char *mode_name(mode m)
{
    switch (m) {
    case M_GLOBAL: return "global configuration";
    case M_PROPOSAL: return "ikev2 proposal";
    case M_POLICY: return "ikev2 policy";
    case M_KEYRING: return "ikev2 keyring";
    case M_PEER: return "ikev2 keyring peer";
    case M_PROFILE: return "ikev2 profile";
    case M_TSET: return "ipsec transform-set";
    case M_IPSEC_PROFILE: return "ipsec profile";
    case M_ACL: return "extended access-list";
    case M_INTERFACE: return "interface";
    case M_RIP: return "router rip";
    case M_ISAKMP_POLICY: return "isakmp policy";
    case M_TRUSTPOINT: return "pki trustpoint";
    case M_ACL_STD: return "standard access-list";
    case M_GDOI_GROUP: return "gdoi group";
    case M_GDOI_SERVER: return "gdoi server local";
    case M_GDOI_SA: return "gdoi sa ipsec";
    case M_GDOI_REDUNDANCY: return "gdoi redundancy";
    case M_CRYPTO_MAP: return "crypto map";
    case M_CLASS_MAP: return "class-map";
    case M_POLICY_MAP: return "policy-map";
    case M_PM_CLASS: return "policy-map class";
    case M_AUTHOR_POLICY: return "ikev2 authorization policy";
    case M_RADIUS_SERVER: return "radius server";
    case M_AAA_GROUP: return "aaa group server radius";
    }
    return "?";
}

static mode parent_of(mode m)
{
    switch (m) {
    case M_PEER: return M_KEYRING;
    case M_GDOI_SA:
    case M_GDOI_REDUNDANCY: return M_GDOI_SERVER;
    case M_GDOI_SERVER: return M_GDOI_GROUP;
    case M_PM_CLASS: return M_POLICY_MAP;
    default: return M_GLOBAL;
    }
}

typedef struct parser {
    vpn_conf *c;
    vpn_conf_error *err;
    int line;
    mode m;
    size_t obj;  /* index of the object the mode edits */
    size_t sub;  /* peer index inside a keyring */
    const char *tok[MAX_TOKENS];
    int n;
} parser;

/* Result of trying a line in one mode: handled, not a command of this mode
 * (try the parent), or a hard error already filled into p->err. */
enum { OK = 0, NOT_HERE = 1 };

static int bad(parser *p, const char *fmt, const char *arg)
{
    char msg[200];
    snprintf(msg, sizeof msg, fmt, arg ? arg : "");
    return vpn_conf_fail(p->err, p->line, VPN_ERR_MALFORMED, "%s", msg);
}

static bool is(const parser *p, int i, const char *word)
{
    return i < p->n && strcmp(p->tok[i], word) == 0;
}

static int need(parser *p, int count)
{
    if (p->n < count)
        return bad(p, "incomplete command", NULL);
    return 0;
}

static int parse_u32(parser *p, int i, uint32_t lo, uint32_t hi, uint32_t *out)
{
    const char *s;
    unsigned long long v = 0;

    if (i >= p->n)
        return bad(p, "missing number", NULL);
    s = p->tok[i];
    if (*s == '\0')
        return bad(p, "missing number", NULL);
    for (const char *q = s; *q; q++) {
        if (*q < '0' || *q > '9' || v > 0xffffffffull)
            return bad(p, "'%s' is not a number", s);
        v = v * 10 + (unsigned)(*q - '0');
    }
    if (v < lo || v > hi) {
        char msg[120];
        snprintf(msg, sizeof msg, "%s is out of range %u-%u", s, lo, hi);
        return vpn_conf_fail(p->err, p->line, VPN_ERR_MALFORMED, "%s", msg);
    }
    *out = (uint32_t)v;
    return 0;
}

static int parse_addr(parser *p, int i, vpn_addr *a)
{
    if (i >= p->n)
        return bad(p, "missing address", NULL);
    if (vpn_addr_parse(a, p->tok[i]) != 0)
        return bad(p, "'%s' is not an IP address", p->tok[i]);
    return 0;
}

/* "A.B.C.D M.M.M.M" (mask), "X::/N" or "A.B.C.D/N". Consumes 1 or 2 tokens. */
static int parse_addr_mask(parser *p, int i, vpn_prefix *pf, int *used, bool mask_optional)
{
    vpn_addr mask;

    if (i < p->n && strchr(p->tok[i], '/')) {
        if (vpn_prefix_parse(pf, p->tok[i]) != 0)
            return bad(p, "'%s' is not a prefix", p->tok[i]);
        *used = 1;
        return 0;
    }
    if (parse_addr(p, i, &pf->addr))
        return VPN_ERR_MALFORMED;
    pf->len = (uint8_t)(vpn_addr_len(&pf->addr) * 8);
    *used = 1;
    if (pf->addr.family == VPN_AF_INET && i + 1 < p->n && vpn_addr_parse(&mask, p->tok[i + 1]) == 0) {
        if (mask.family != VPN_AF_INET || vpn_mask_to_len(&mask, false, &pf->len) != 0)
            return bad(p, "'%s' is not a contiguous mask", p->tok[i + 1]);
        *used = 2;
    } else if (!mask_optional) {
        return bad(p, "missing mask after %s", p->tok[i]);
    }
    return 0;
}

static int parse_identity(parser *p, int i, vpn_conf_identity *id, bool allow_any, bool allow_domain,
                          bool allow_mask)
{
    memset(id, 0, sizeof *id);
    if (is(p, i, "any") && allow_any) {
        id->type = VPN_CONF_ID_ANY;
        return 0;
    }
    if (is(p, i, "dn")) {
        id->type = VPN_CONF_ID_DN;
        return 0;
    }
    if (i + 1 >= p->n)
        return bad(p, "identity needs a type and a value", NULL);
    if (is(p, i, "address")) {
        int used;
        id->type = VPN_CONF_ID_ADDRESS;
        if (parse_addr_mask(p, i + 1, &id->addr, &used, true))
            return VPN_ERR_MALFORMED;
        if (used == 2 && !allow_mask)
            return bad(p, "a mask is not allowed here", NULL);
        return 0;
    }
    int v = i + 1;
    if (is(p, i, "fqdn"))
        id->type = VPN_CONF_ID_FQDN;
    else if (is(p, i, "email"))
        id->type = VPN_CONF_ID_EMAIL;
    else if (is(p, i, "key-id"))
        id->type = VPN_CONF_ID_KEY_ID;
    else
        return bad(p, "unknown identity type '%s'", p->tok[i]);
    if (is(p, v, "domain") && id->type != VPN_CONF_ID_KEY_ID) {
        if (!allow_domain)
            return bad(p, "'domain' is not allowed here", NULL);
        id->domain = true;
        v++;
    }
    if (v >= p->n)
        return bad(p, "identity needs a value", NULL);
    if (strlen(p->tok[v]) >= sizeof id->value)
        return bad(p, "identity value too long", NULL);
    vpn_conf_copy_name(id->value, sizeof id->value, p->tok[v]);
    return 0;
}

static int copy_key(parser *p, char *dst, const char *key)
{
    if (strlen(key) >= VPN_CONF_KEY_MAX)
        return bad(p, "pre-shared key longer than 128 characters", NULL);
    vpn_conf_copy_name(dst, VPN_CONF_KEY_MAX, key);
    return 0;
}

static int copy_name(parser *p, char *dst, const char *name)
{
    if (strlen(name) >= VPN_CONF_NAME_MAX)
        return bad(p, "name '%s' is too long (63 characters at most)", name);
    vpn_conf_copy_name(dst, VPN_CONF_NAME_MAX, name);
    return 0;
}

/* ---- algorithm names --------------------------------------------------- */

typedef struct name_id {
    const char *name;
    uint16_t id, bits;
} name_id;

/* IOS IKEv2 proposal keywords (chacha20-poly1305 is our extension). */
static const name_id ike_encr[] = {
    {"aes-cbc-128", VPN_ENCR_AES_CBC, 128}, {"aes-cbc-192", VPN_ENCR_AES_CBC, 192},
    {"aes-cbc-256", VPN_ENCR_AES_CBC, 256}, {"aes-gcm-128", VPN_ENCR_AES_GCM_16, 128},
    {"aes-gcm-256", VPN_ENCR_AES_GCM_16, 256}, {"chacha20-poly1305", VPN_ENCR_CHACHA20_POLY1305, 256},
    {NULL, 0, 0},
};
static const name_id ike_integ[] = {
    {"sha1", VPN_AUTH_HMAC_SHA1_96, 0}, {"sha256", VPN_AUTH_HMAC_SHA2_256_128, 0},
    {"sha384", VPN_AUTH_HMAC_SHA2_384_192, 0}, {"sha512", VPN_AUTH_HMAC_SHA2_512_256, 0},
    {NULL, 0, 0},
};
static const name_id ike_prf[] = {
    {"sha1", VPN_PRF_HMAC_SHA1, 0}, {"sha256", VPN_PRF_HMAC_SHA2_256, 0},
    {"sha384", VPN_PRF_HMAC_SHA2_384, 0}, {"sha512", VPN_PRF_HMAC_SHA2_512, 0},
    {NULL, 0, 0},
};
static const uint16_t groups_ok[] = {VPN_DH_MODP_1024, VPN_DH_MODP_1536, VPN_DH_MODP_2048, VPN_DH_MODP_3072,
                                     VPN_DH_MODP_4096, VPN_DH_ECP_256, VPN_DH_ECP_384, VPN_DH_ECP_521,
                                     VPN_DH_CURVE25519};

static const name_id *lookup(const name_id *t, const char *name)
{
    for (; t->name; t++)
        if (strcmp(t->name, name) == 0)
            return t;
    return NULL;
}

static int unsupported(parser *p, const char *what)
{
    return vpn_conf_fail(p->err, p->line, VPN_ERR_MALFORMED, "'%s' is not supported (insecure or unknown)", what);
}

/* ---- modes --------------------------------------------------------------- */

static int m_proposal(parser *p)
{
    vpn_conf_proposal *pr = &p->c->proposal[p->obj];

    if (is(p, 0, "encryption")) {
        if (need(p, 2))
            return VPN_ERR_MALFORMED;
        for (int i = 1; i < p->n; i++) {
            const name_id *e = lookup(ike_encr, p->tok[i]);
            if (!e)
                return unsupported(p, p->tok[i]);
            if (pr->n_encr == VPN_CONF_ALG_MAX)
                return bad(p, "too many algorithms", NULL);
            pr->encr[pr->n_encr++] = (vpn_conf_encr){e->id, e->bits};
        }
        return OK;
    }
    if (is(p, 0, "integrity") || is(p, 0, "prf")) {
        bool integ = is(p, 0, "integrity");
        uint16_t *list = integ ? pr->integ : pr->prf;
        size_t *n = integ ? &pr->n_integ : &pr->n_prf;
        if (need(p, 2))
            return VPN_ERR_MALFORMED;
        for (int i = 1; i < p->n; i++) {
            const name_id *e = lookup(integ ? ike_integ : ike_prf, p->tok[i]);
            if (!e)
                return unsupported(p, p->tok[i]);
            if (*n == VPN_CONF_ALG_MAX)
                return bad(p, "too many algorithms", NULL);
            list[(*n)++] = e->id;
        }
        return OK;
    }
    if (is(p, 0, "group")) {
        if (need(p, 2))
            return VPN_ERR_MALFORMED;
        for (int i = 1; i < p->n; i++) {
            uint32_t g;
            bool ok = false;
            if (parse_u32(p, i, 1, 65535, &g))
                return VPN_ERR_MALFORMED;
            for (size_t k = 0; k < sizeof groups_ok / sizeof groups_ok[0]; k++)
                ok = ok || groups_ok[k] == g;
            if (!ok)
                return unsupported(p, p->tok[i]);
            if (pr->n_group == VPN_CONF_ALG_MAX)
                return bad(p, "too many groups", NULL);
            pr->group[pr->n_group++] = (uint16_t)g;
        }
        return OK;
    }
    return NOT_HERE;
}

static int m_policy(parser *p)
{
    vpn_conf_policy *po = &p->c->policy[p->obj];

    if (is(p, 0, "proposal")) {
        if (need(p, 2))
            return VPN_ERR_MALFORMED;
        if (po->n_proposal == VPN_CONF_REF_MAX)
            return bad(p, "too many proposals", NULL);
        return copy_name(p, po->proposal[po->n_proposal++], p->tok[1]);
    }
    if (is(p, 0, "match") && is(p, 1, "fvrf")) {
        if (need(p, 3))
            return VPN_ERR_MALFORMED;
        return copy_name(p, po->fvrf, p->tok[2]);
    }
    if (is(p, 0, "match") && is(p, 1, "address") && is(p, 2, "local")) {
        if (po->n_match_local == VPN_CONF_REF_MAX)
            return bad(p, "too many addresses", NULL);
        return parse_addr(p, 3, &po->match_local[po->n_match_local++]);
    }
    return NOT_HERE;
}

static int m_peer(parser *p)
{
    vpn_conf_peer *pe = &p->c->keyring[p->obj].peer[p->sub];

    if (is(p, 0, "address")) {
        int used;
        if (parse_addr_mask(p, 1, &pe->address, &used, true))
            return VPN_ERR_MALFORMED;
        pe->has_address = true;
        return OK;
    }
    if (is(p, 0, "identity"))
        return parse_identity(p, 1, &pe->identity, false, false, false);
    if (is(p, 0, "pre-shared-key")) {
        /* pre-shared-key [local|remote] [0|6] KEY: one key for both
         * directions, or separate keys (asymmetric PSK). Type 6 (encrypted)
         * keys cannot be decrypted here. */
        int i = 1;
        bool local = is(p, 1, "local"), remote = is(p, 1, "remote");
        if (local || remote)
            i++;
        if (is(p, i, "6"))
            return bad(p, "encrypted (type 6) keys are not supported", NULL);
        if (is(p, i, "0"))
            i++;
        if (i != p->n - 1)
            return bad(p, "pre-shared-key needs exactly one key", NULL);
        if (!remote && copy_key(p, pe->psk_local, p->tok[i]))
            return VPN_ERR_MALFORMED;
        if (!local && copy_key(p, pe->psk_remote, p->tok[i]))
            return VPN_ERR_MALFORMED;
        return OK;
    }
    if (is(p, 0, "description"))
        return OK;
    return NOT_HERE;
}

static int m_keyring(parser *p)
{
    vpn_conf_keyring *k = &p->c->keyring[p->obj];

    if (is(p, 0, "peer")) {
        vpn_conf_peer *pe = NULL;
        if (need(p, 2))
            return VPN_ERR_MALFORMED;
        for (size_t i = 0; i < k->n_peer; i++)
            if (strcmp(k->peer[i].name, p->tok[1]) == 0)
                pe = &k->peer[i];
        if (pe == NULL) {
            pe = vpn_conf_grow((void **)&k->peer, &k->n_peer, &k->cap_peer, sizeof *k->peer);
            if (pe == NULL)
                return VPN_ERR_NOMEM;
            if (copy_name(p, pe->name, p->tok[1]))
                return VPN_ERR_MALFORMED;
            pe->line = p->line;
        }
        p->sub = (size_t)(pe - k->peer);
        p->m = M_PEER;
        return OK;
    }
    return NOT_HERE;
}

static int parse_auth(parser *p, int i, vpn_conf_auth *a, char *key)
{
    if (is(p, i, "pre-share")) {
        *a = VPN_CONF_AUTH_PSK;
        if (is(p, i + 1, "key")) {
            int k = i + 2;
            if (is(p, k, "0"))
                k++;
            if (k != p->n - 1)
                return bad(p, "pre-share key needs exactly one key", NULL);
            return copy_key(p, key, p->tok[k]);
        }
        return p->n == i + 1 ? OK : bad(p, "unexpected '%s'", p->tok[i + 1]);
    }
    if (is(p, i, "rsa-sig"))
        *a = VPN_CONF_AUTH_RSA_SIG;
    else if (is(p, i, "ecdsa-sig"))
        *a = VPN_CONF_AUTH_ECDSA_SIG;
    else if (is(p, i, "eap"))
        *a = VPN_CONF_AUTH_EAP;
    else
        return bad(p, "unknown authentication method '%s'", i < p->n ? p->tok[i] : "");
    /* EAP options (gtc, md5, query-identity, timeout) are accepted and kept
     * for the EAP engine; nothing else may follow the signature methods. */
    if (*a != VPN_CONF_AUTH_EAP && p->n != i + 1)
        return bad(p, "unexpected '%s'", p->tok[i + 1]);
    return OK;
}

/* ---- remote access (RFC 7296 2.16, 3.15) ------------------------------------ */

static int ra_eap_method(parser *p, int i, unsigned *m)
{
    if (is(p, i, "mschapv2"))
        *m |= VPN_CONF_EAP_M_MSCHAPV2;
    else if (is(p, i, "md5"))
        *m |= VPN_CONF_EAP_M_MD5;
    else if (is(p, i, "gtc"))
        *m |= VPN_CONF_EAP_M_GTC;
    else
        return NOT_HERE;
    return OK;
}

/* authentication remote eap [query-identity] [mschapv2|md5|gtc] [timeout N]
 * authentication local eap {mschapv2|md5|gtc} username U password P */
static int ra_profile_eap(parser *p, vpn_conf_profile *pr)
{
    if (is(p, 1, "remote")) {
        if (pr->n_auth_remote == 4)
            return bad(p, "too many remote authentication methods", NULL);
        for (int i = 3; i < p->n; i++) {
            uint32_t t;
            if (is(p, i, "query-identity"))
                pr->eap_query_identity = true;
            else if (is(p, i, "timeout")) {
                if (parse_u32(p, ++i, 45, 180, &t))
                    return VPN_ERR_MALFORMED;
            } else if (ra_eap_method(p, i, &pr->eap_methods) != OK)
                return bad(p, "unknown EAP option '%s'", p->tok[i]);
        }
        pr->auth_remote[pr->n_auth_remote++] = VPN_CONF_AUTH_EAP;
        return OK;
    }
    if (!is(p, 1, "local"))
        return bad(p, "authentication must be local or remote", NULL);
    if (p->n != 8 || ra_eap_method(p, 3, &pr->eap_methods) != OK || !is(p, 4, "username") ||
        !is(p, 6, "password"))
        return bad(p, "usage: authentication local eap mschapv2|md5|gtc username USER password PASSWORD",
                   NULL);
    if (copy_name(p, pr->eap_username, p->tok[5]) || copy_key(p, pr->eap_password, p->tok[7]))
        return VPN_ERR_MALFORMED;
    pr->auth_local = VPN_CONF_AUTH_EAP;
    return OK;
}

/* aaa authorization group {psk|eap} list LIST [POLICY]
 * aaa authorization user eap cached
 * aaa authentication eap LIST */
static int ra_profile_aaa(parser *p, vpn_conf_profile *pr)
{
    if (is(p, 1, "authorization") && is(p, 2, "group") && (is(p, 3, "psk") || is(p, 3, "eap")) &&
        is(p, 4, "list") && (p->n == 6 || p->n == 7)) {
        bool eap = is(p, 3, "eap");
        if (copy_name(p, pr->aaa_author_list, p->tok[5]))
            return VPN_ERR_MALFORMED;
        /* one policy per kind of peer: EAP users and PSK sites of the
         * same profile (the hub's one block) each get theirs */
        if (!eap)
            return copy_name(p, pr->aaa_author_psk_policy, p->n == 7 ? p->tok[6] : "default");
        pr->aaa_author_eap = true;
        return copy_name(p, pr->aaa_author_policy, p->n == 7 ? p->tok[6] : "default");
    }
    if (is(p, 1, "authentication") && is(p, 2, "eap") && p->n == 4)
        return copy_name(p, pr->aaa_authen_eap_list, p->tok[3]);
    /* IOS: user attributes from the EAP exchange's Access-Accept */
    if (is(p, 1, "authorization") && is(p, 2, "user") && is(p, 3, "eap") && is(p, 4, "cached") && p->n == 5) {
        pr->aaa_author_user_cached = true;
        return OK;
    }
    return bad(p,
               "usage: aaa authorization group psk|eap list LIST [POLICY], aaa authorization user eap cached "
               "or aaa authentication eap LIST",
               NULL);
}

/* crypto ikev2 authorization policy NAME */
static int m_author_policy(parser *p)
{
    vpn_conf_author_policy *a = &p->c->author_policy[p->obj];

    if (is(p, 0, "pool")) {
        if (p->n != 2)
            return bad(p, "usage: pool NAME", NULL);
        return copy_name(p, a->pool, p->tok[1]);
    }
    if (is(p, 0, "ipv6") && is(p, 1, "pool")) {
        if (p->n != 3)
            return bad(p, "usage: ipv6 pool NAME", NULL);
        return copy_name(p, a->pool6, p->tok[2]);
    }
    if (is(p, 0, "ipv6") && is(p, 1, "dns")) {
        vpn_addr d[VPN_CONF_AUTHOR_DNS_MAX];
        if (p->n < 3 || p->n > 2 + VPN_CONF_AUTHOR_DNS_MAX)
            return bad(p, "usage: ipv6 dns ADDRESS [ADDRESS]", NULL);
        for (int i = 2; i < p->n; i++) {
            if (parse_addr(p, i, &d[i - 2]))
                return VPN_ERR_MALFORMED;
            if (d[i - 2].family != VPN_AF_INET6)
                return bad(p, "ipv6 dns: %s is not an IPv6 address", p->tok[i]);
        }
        memcpy(a->dns6, d, sizeof d);
        a->n_dns6 = (size_t)p->n - 2;
        return OK;
    }
    if (is(p, 0, "dns")) {
        if (p->n < 2 || p->n > 1 + VPN_CONF_AUTHOR_DNS_MAX)
            return bad(p, "usage: dns ADDRESS [ADDRESS]", NULL);
        a->n_dns = 0;
        for (int i = 1; i < p->n; i++)
            if (parse_addr(p, i, &a->dns[a->n_dns++]))
                return VPN_ERR_MALFORMED;
        return OK;
    }
    if (is(p, 0, "route") && is(p, 1, "set") && is(p, 2, "access-list")) {
        /* `route set access-list [ipv6] NAME` (IPv4 only here) */
        if (p->n != 4)
            return bad(p, "usage: route set access-list NAME", NULL);
        return copy_name(p, a->route_acl, p->tok[3]);
    }
    if (is(p, 0, "route") && is(p, 1, "accept")) {
        /* IOS: install what peers announce in their CFG_REQUEST */
        if (p->n != 3 || !is(p, 2, "any"))
            return bad(p, "usage: route accept any", NULL);
        a->route_accept = true;
        return OK;
    }
    if (is(p, 0, "route") && is(p, 1, "set") && is(p, 2, "interface")) {
        if (p->n != 4)
            return bad(p, "usage: route set interface INTERFACE", NULL);
        if (a->n_route_iface == VPN_CONF_REF_MAX)
            return bad(p, "too many route set interface lines", NULL);
        return copy_name(p, a->route_iface[a->n_route_iface++], p->tok[3]);
    }
    return NOT_HERE;
}

static int m_profile(parser *p)
{
    vpn_conf_profile *pr = &p->c->profile[p->obj];

    if (is(p, 0, "match") && is(p, 1, "fvrf")) {
        if (need(p, 3))
            return VPN_ERR_MALFORMED;
        return copy_name(p, pr->fvrf, p->tok[2]);
    }
    if (is(p, 0, "match") && is(p, 1, "address") && is(p, 2, "local")) {
        if (pr->n_match_local == VPN_CONF_REF_MAX)
            return bad(p, "too many addresses", NULL);
        if (is(p, 3, "interface"))
            return bad(p, "'match address local interface' is not supported; give the address", NULL);
        return parse_addr(p, 3, &pr->match_local[pr->n_match_local++]);
    }
    if (is(p, 0, "match") && is(p, 1, "identity") && is(p, 2, "remote")) {
        if (pr->n_match_remote == VPN_CONF_REF_MAX)
            return bad(p, "too many identities", NULL);
        return parse_identity(p, 3, &pr->match_remote[pr->n_match_remote++], true, true, true);
    }
    if (is(p, 0, "identity") && is(p, 1, "local"))
        return parse_identity(p, 2, &pr->identity_local, false, false, false);
    if (is(p, 0, "authentication") && is(p, 2, "eap"))
        return ra_profile_eap(p, pr);
    if (is(p, 0, "aaa"))
        return ra_profile_aaa(p, pr);
    if (is(p, 0, "authentication") && is(p, 1, "local"))
        return parse_auth(p, 2, &pr->auth_local, pr->auth_local_key);
    if (is(p, 0, "authentication") && is(p, 1, "remote")) {
        vpn_conf_auth a;
        int rc;
        if (pr->n_auth_remote == 4)
            return bad(p, "too many remote authentication methods", NULL);
        if ((rc = parse_auth(p, 2, &a, pr->auth_remote_key)) != OK)
            return rc;
        pr->auth_remote[pr->n_auth_remote++] = a;
        return OK;
    }
    if (is(p, 0, "keyring")) {
        int i = is(p, 1, "local") ? 2 : 1;
        if (need(p, i + 1))
            return VPN_ERR_MALFORMED;
        return copy_name(p, pr->keyring, p->tok[i]);
    }
    if (is(p, 0, "pki") && is(p, 1, "trustpoint")) {
        if (need(p, 3))
            return VPN_ERR_MALFORMED;
        if (pr->n_trustpoint == VPN_CONF_REF_MAX)
            return bad(p, "too many trustpoints", NULL);
        return copy_name(p, pr->trustpoint[pr->n_trustpoint++], p->tok[2]);
    }
    if (is(p, 0, "dpd")) {
        /* dpd INTERVAL RETRY {on-demand|periodic} (IOS: 10-3600, 2-60) */
        if (need(p, 4) || parse_u32(p, 1, 10, 3600, &pr->dpd_interval_s) ||
            parse_u32(p, 2, 2, 60, &pr->dpd_retry_s))
            return VPN_ERR_MALFORMED;
        if (is(p, 3, "on-demand"))
            pr->dpd_mode = VPN_CONF_DPD_ON_DEMAND;
        else if (is(p, 3, "periodic"))
            pr->dpd_mode = VPN_CONF_DPD_PERIODIC;
        else
            return bad(p, "dpd mode must be on-demand or periodic, not '%s'", p->tok[3]);
        return OK;
    }
    if (is(p, 0, "lifetime"))
        return parse_u32(p, 1, 120, 86400, &pr->lifetime_s);
    if (is(p, 0, "nat") && is(p, 1, "keepalive"))
        return parse_u32(p, 2, 5, 3600, &pr->nat_keepalive_s);
    if (is(p, 0, "virtual-template"))
        return parse_u32(p, 1, 1, 65535, &pr->virtual_template);
    if (is(p, 0, "description"))
        return OK;
    return NOT_HERE;
}

/* ESP transforms of `crypto ipsec transform-set` (esp-chacha20-poly1305 is
 * our extension). */
static int tset_transform(parser *p, vpn_conf_transform_set *t, int *i, bool *have_encr, bool *have_integ)
{
    const char *w = p->tok[*i];
    char extra[16] = "";

    if (strcmp(w, "esp-aes") == 0 || strcmp(w, "esp-gcm") == 0) {
        bool gcm = w[4] == 'g';
        uint32_t bits = 128;
        if (*have_encr)
            return bad(p, "only one encryption transform per set", NULL);
        if (*i + 1 < p->n && p->tok[*i + 1][0] >= '0' && p->tok[*i + 1][0] <= '9') {
            if (parse_u32(p, *i + 1, 128, 256, &bits) ||
                (bits != 128 && bits != 256 && (gcm || bits != 192)))
                return bad(p, "bad key size '%s'", p->tok[*i + 1]);
            (*i)++;
            snprintf(extra, sizeof extra, "%u", bits);
        }
        t->encr = (vpn_conf_encr){gcm ? VPN_ENCR_AES_GCM_16 : VPN_ENCR_AES_CBC, (uint16_t)bits};
        *have_encr = true;
        /* IOS display: esp-aes 256 -> esp-256-aes; esp-gcm 256 stays. */
        char part[32];
        if (!extra[0])
            snprintf(part, sizeof part, "%s", w);
        else if (gcm)
            snprintf(part, sizeof part, "esp-gcm %s", extra);
        else
            snprintf(part, sizeof part, "esp-%s-aes", extra);
        strncat(t->display, part, sizeof t->display - strlen(t->display) - 2);
        strncat(t->display, " ", sizeof t->display - strlen(t->display) - 1);
        return OK;
    }
    if (strcmp(w, "esp-chacha20-poly1305") == 0 || strcmp(w, "esp-null") == 0) {
        if (*have_encr)
            return bad(p, "only one encryption transform per set", NULL);
        t->encr = (vpn_conf_encr){w[4] == 'c' ? VPN_ENCR_CHACHA20_POLY1305 : VPN_ENCR_NULL,
                                  (uint16_t)(w[4] == 'c' ? 256 : 0)};
        *have_encr = true;
    } else {
        static const name_id integ[] = {
            {"esp-sha-hmac", VPN_AUTH_HMAC_SHA1_96, 0}, {"esp-sha256-hmac", VPN_AUTH_HMAC_SHA2_256_128, 0},
            {"esp-sha384-hmac", VPN_AUTH_HMAC_SHA2_384_192, 0}, {"esp-sha512-hmac", VPN_AUTH_HMAC_SHA2_512_256, 0},
            {NULL, 0, 0},
        };
        const name_id *e = lookup(integ, w);
        if (!e)
            return unsupported(p, w);
        if (*have_integ)
            return bad(p, "only one integrity transform per set", NULL);
        t->integ = e->id;
        *have_integ = true;
    }
    strncat(t->display, w, sizeof t->display - strlen(t->display) - 2);
    strncat(t->display, " ", sizeof t->display - strlen(t->display) - 1);
    return OK;
}

static int m_tset(parser *p)
{
    vpn_conf_transform_set *t = &p->c->tset[p->obj];

    if (is(p, 0, "mode")) {
        if (is(p, 1, "tunnel"))
            t->mode = VPN_CONF_MODE_TUNNEL;
        else if (is(p, 1, "transport"))
            t->mode = VPN_CONF_MODE_TRANSPORT;
        else
            return bad(p, "mode must be tunnel or transport", NULL);
        return p->n == 2 ? OK : bad(p, "unexpected '%s'", p->tok[p->n - 1]);
    }
    return NOT_HERE;
}

static int m_ipsec_profile(parser *p)
{
    vpn_conf_ipsec_profile *ip = &p->c->ipsec_profile[p->obj];

    if (!is(p, 0, "set"))
        return is(p, 0, "description") ? OK : NOT_HERE;
    if (is(p, 1, "transform-set")) {
        if (need(p, 3))
            return VPN_ERR_MALFORMED;
        if (p->n - 2 > 6)
            return bad(p, "at most 6 transform sets", NULL);
        ip->n_transform_set = 0;
        for (int i = 2; i < p->n; i++)
            if (copy_name(p, ip->transform_set[ip->n_transform_set++], p->tok[i]))
                return VPN_ERR_MALFORMED;
        return OK;
    }
    if (is(p, 1, "ikev2-profile")) {
        if (need(p, 3))
            return VPN_ERR_MALFORMED;
        return copy_name(p, ip->ikev2_profile, p->tok[2]);
    }
    if (is(p, 1, "pfs")) {
        /* set pfs [groupN]: IOS's bare "set pfs" means group 1; we refuse
         * MODP 768 and ask for a group. */
        uint32_t g;
        bool ok = false;
        if (p->n != 3 || strncmp(p->tok[2], "group", 5) != 0)
            return bad(p, "set pfs needs a group (e.g. group19)", NULL);
        p->tok[2] += 5;
        if (parse_u32(p, 2, 1, 65535, &g))
            return VPN_ERR_MALFORMED;
        for (size_t k = 0; k < sizeof groups_ok / sizeof groups_ok[0]; k++)
            ok = ok || groups_ok[k] == g;
        if (!ok)
            return unsupported(p, p->tok[2] - 5);
        ip->pfs_group = (uint16_t)g;
        return OK;
    }
    if (is(p, 1, "security-association") && is(p, 2, "lifetime")) {
        if (is(p, 3, "seconds"))
            return parse_u32(p, 4, 120, 86400, &ip->lifetime_s);
        if (is(p, 3, "kilobytes"))
            return parse_u32(p, 4, 2560, 4294967295u, &ip->lifetime_kb);
        return bad(p, "lifetime must be 'seconds N' or 'kilobytes N'", NULL);
    }
    return NOT_HERE;
}

static const name_id protos[] = {
    {"ip", 0, 0}, {"icmp", 1, 0}, {"igmp", 2, 0}, {"tcp", 6, 0}, {"udp", 17, 0},
    {"gre", 47, 0}, {"esp", 50, 0}, {"ahp", 51, 0}, {"ipv6", 41, 0}, {"ospf", 89, 0},
    {"eigrp", 88, 0}, {"pim", 103, 0}, {NULL, 0, 0},
};

/* any | host A | A WILDCARD */
static int ace_addr(parser *p, int *i, vpn_prefix *pf)
{
    memset(pf, 0, sizeof *pf);
    if (is(p, *i, "any")) {
        pf->addr.family = VPN_AF_INET;
        (*i)++;
        return 0;
    }
    if (is(p, *i, "host")) {
        if (parse_addr(p, *i + 1, &pf->addr))
            return VPN_ERR_MALFORMED;
        pf->len = (uint8_t)(vpn_addr_len(&pf->addr) * 8);
        *i += 2;
        return 0;
    }
    if (*i < p->n && strchr(p->tok[*i], '/')) {
        if (vpn_prefix_parse(pf, p->tok[*i]) != 0)
            return bad(p, "'%s' is not a prefix", p->tok[*i]);
        (*i)++;
        return 0;
    }
    vpn_addr wild;
    if (parse_addr(p, *i, &pf->addr) || parse_addr(p, *i + 1, &wild))
        return VPN_ERR_MALFORMED;
    if (vpn_mask_to_len(&wild, true, &pf->len) != 0)
        return bad(p, "'%s' is not a contiguous wildcard", p->tok[*i + 1]);
    *i += 2;
    return 0;
}

static int ace_port(parser *p, int *i, vpn_conf_port_op *op, uint16_t port[2])
{
    uint32_t a, b;
    if (is(p, *i, "eq")) {
        if (parse_u32(p, *i + 1, 0, 65535, &a))
            return VPN_ERR_MALFORMED;
        *op = VPN_PORT_EQ;
        port[0] = port[1] = (uint16_t)a;
        *i += 2;
    } else if (is(p, *i, "range")) {
        if (parse_u32(p, *i + 1, 0, 65535, &a) || parse_u32(p, *i + 2, 0, 65535, &b))
            return VPN_ERR_MALFORMED;
        if (a > b)
            return bad(p, "port range is reversed", NULL);
        *op = VPN_PORT_RANGE;
        port[0] = (uint16_t)a;
        port[1] = (uint16_t)b;
        *i += 3;
    }
    return 0;
}

/*
 * The start every ACE shares: a fresh entry (no dscp match) stamped with
 * the line, then permit|deny. Advances *i past it. Returns OK, NOT_HERE
 * when the line is not an ACE, or the error of bad() when nothing follows.
 */
static int ace_begin(parser *p, int *i, vpn_conf_ace *ace)
{
    memset(ace, 0, sizeof *ace);
    ace->dscp = -1;
    ace->line = p->line;
    if (is(p, *i, "permit"))
        ace->permit = true;
    else if (!is(p, *i, "deny"))
        return NOT_HERE;
    (*i)++;
    if (*i >= p->n)
        return bad(p, "incomplete access-list entry", NULL);
    return OK;
}

/* permit|deny PROTO SRC [ports] DST [ports] [dscp N] */
static int parse_ace(parser *p, int i, vpn_conf_acl *acl)
{
    vpn_conf_ace ace;
    uint32_t v;

    int rc = ace_begin(p, &i, &ace);
    if (rc != OK)
        return rc;
    const name_id *pr = lookup(protos, p->tok[i]);
    if (pr)
        ace.proto = (uint8_t)pr->id;
    else if (parse_u32(p, i, 0, 255, &v))
        return VPN_ERR_MALFORMED;
    else
        ace.proto = (uint8_t)v;
    i++;
    if (ace_addr(p, &i, &ace.src))
        return VPN_ERR_MALFORMED;
    if ((ace.proto == 6 || ace.proto == 17) && ace_port(p, &i, &ace.src_op, ace.src_port))
        return VPN_ERR_MALFORMED;
    if (ace_addr(p, &i, &ace.dst))
        return VPN_ERR_MALFORMED;
    if ((ace.proto == 6 || ace.proto == 17) && ace_port(p, &i, &ace.dst_op, ace.dst_port))
        return VPN_ERR_MALFORMED;
    if (is(p, i, "dscp")) {
        static const name_id dscp_names[] = {{"ef", 46, 0}, {"af41", 34, 0}, {"af31", 26, 0},
                                             {"af21", 18, 0}, {"af11", 10, 0}, {"cs3", 24, 0},
                                             {"cs5", 40, 0}, {"default", 0, 0}, {NULL, 0, 0}};
        const name_id *d = i + 1 < p->n ? lookup(dscp_names, p->tok[i + 1]) : NULL;
        if (d)
            v = d->id;
        else if (parse_u32(p, i + 1, 0, 63, &v))
            return VPN_ERR_MALFORMED;
        ace.dscp = (int)v;
        i += 2;
    }
    if (i != p->n)
        return bad(p, "unexpected '%s' in access-list entry", p->tok[i]);
    vpn_conf_ace *slot = vpn_conf_grow((void **)&acl->ace, &acl->n_ace, &acl->cap_ace, sizeof *acl->ace);
    if (slot == NULL)
        return VPN_ERR_NOMEM;
    *slot = ace;
    return OK;
}

static int m_acl(parser *p)
{
    if (is(p, 0, "remark"))
        return OK;
    return parse_ace(p, 0, &p->c->acl[p->obj]);
}

/* ---- ip nhrp ... (DMVPN), under interface TunnelN ---------------------------- */

static int nhrp_line(parser *p, vpn_conf_interface *f)
{
    vpn_conf_nhrp *h = &f->nhrp;
    if (!f->is_tunnel)
        return bad(p, "ip nhrp commands need a Tunnel interface", NULL);
    if (need(p, 3))
        return VPN_ERR_MALFORMED;
    if (!h->enabled) {
        h->enabled = true;
        h->line = p->line;
    }
    if (is(p, 2, "network-id")) {
        h->has_network_id = true;
        return parse_u32(p, 3, 1, 4294967295u, &h->network_id);
    }
    if (is(p, 2, "authentication")) {
        if (need(p, 4))
            return VPN_ERR_MALFORMED;
        if (p->n > 4 || strlen(p->tok[3]) > VPN_CONF_NHRP_AUTH_MAX)
            return bad(p, "the NHRP authentication string is at most 8 characters, without spaces",
                       NULL);
        snprintf(h->auth, sizeof h->auth, "%s", p->tok[3]);
        return OK;
    }
    if (is(p, 2, "holdtime"))
        return parse_u32(p, 3, 1, 65535, &h->holdtime);
    if (is(p, 2, "registration")) {
        if (is(p, 3, "timeout"))
            return parse_u32(p, 4, 1, 65535, &h->reg_timeout);
        if (is(p, 3, "no-unique") && p->n == 4) {
            h->reg_no_unique = true;
            return OK;
        }
        return bad(p, "expected 'ip nhrp registration timeout S' or 'no-unique'", NULL);
    }
    if (is(p, 2, "redirect")) {
        h->redirect = true;
        if (p->n == 3)
            return OK;
        if (is(p, 3, "timeout"))
            return parse_u32(p, 4, 2, 30, &h->redirect_timeout);
        return bad(p, "expected 'ip nhrp redirect [timeout S]'", NULL);
    }
    if (is(p, 2, "shortcut")) {
        /* `virtual-template N` (FlexVPN spoke-to-spoke) is accepted; the
         * template itself is not NHRP's business. */
        if (p->n != 3 && !(p->n == 5 && is(p, 3, "virtual-template")))
            return bad(p, "expected 'ip nhrp shortcut [virtual-template N]'", NULL);
        h->shortcut = true;
        h->shortcut_line = p->line;
        /* the template spoke-to-spoke sessions are cloned from (checked by
         * vpn_conf_validate) */
        return p->n == 5 ? parse_u32(p, 4, 1, 65535, &h->shortcut_vt) : OK;
    }
    if (is(p, 2, "nhs")) {
        vpn_conf_nhrp_nhs *s;
        if (h->n_nhs == VPN_CONF_NHRP_NHS_MAX)
            return bad(p, "too many NHRP servers", NULL);
        if (is(p, 3, "dynamic"))
            return bad(p, "'ip nhrp nhs dynamic' is not supported; give the NHS address", NULL);
        s = &h->nhs[h->n_nhs];
        memset(s, 0, sizeof *s);
        s->line = p->line;
        if (need(p, 4) || parse_addr(p, 3, &s->proto))
            return VPN_ERR_MALFORMED;
        for (int i = 4; i < p->n; i++) {
            if (is(p, i, "nbma") && i + 1 < p->n) {
                if (parse_addr(p, i + 1, &s->nbma))
                    return VPN_ERR_MALFORMED;
                s->has_nbma = true;
                i++;
            } else if (is(p, i, "multicast")) {
                s->multicast = true;
            } else {
                return bad(p, "unexpected '%s' in ip nhrp nhs", p->tok[i]);
            }
        }
        h->n_nhs++;
        return OK;
    }
    if (is(p, 2, "map") && is(p, 3, "multicast")) {
        if (need(p, 5) || p->n != 5)
            return bad(p, "expected 'ip nhrp map multicast A|dynamic'", NULL);
        if (is(p, 4, "dynamic")) {
            h->mcast_dynamic = true;
            return OK;
        }
        if (h->n_mcast == VPN_CONF_NHRP_MAP_MAX)
            return bad(p, "too many NHRP multicast maps", NULL);
        if (parse_addr(p, 4, &h->mcast[h->n_mcast]))
            return VPN_ERR_MALFORMED;
        h->n_mcast++;
        return OK;
    }
    if (is(p, 2, "map")) {
        vpn_conf_nhrp_map *m;
        if (p->n != 5)
            return bad(p, "expected 'ip nhrp map A B' (tunnel address, NBMA address)", NULL);
        if (h->n_map == VPN_CONF_NHRP_MAP_MAX)
            return bad(p, "too many NHRP maps", NULL);
        m = &h->map[h->n_map];
        m->line = p->line;
        if (parse_addr(p, 3, &m->proto) || parse_addr(p, 4, &m->nbma))
            return VPN_ERR_MALFORMED;
        h->n_map++;
        return OK;
    }
    return bad(p, "unknown NHRP command 'ip nhrp %s'", p->tok[2]);
}

static int m_interface(parser *p)
{
    vpn_conf_interface *f = &p->c->iface[p->obj];

    if (is(p, 0, "ip") && is(p, 1, "nhrp"))
        return nhrp_line(p, f);

    if (is(p, 0, "ip") && is(p, 1, "address")) {
        int used;
        if (is(p, 2, "negotiated")) {
            f->address_negotiated = true;
            return OK;
        }
        if (parse_addr_mask(p, 2, &f->address, &used, false))
            return VPN_ERR_MALFORMED;
        f->has_address = true;
        return OK;
    }
    if (is(p, 0, "ipv6") && is(p, 1, "address")) {
        int used;
        vpn_prefix a6;
        if (parse_addr_mask(p, 2, &a6, &used, false))
            return VPN_ERR_MALFORMED;
        if (a6.addr.family != VPN_AF_INET6)
            return bad(p, "ipv6 address needs an IPv6 prefix", NULL);
        f->address6 = a6;
        f->has_address6 = true;
        /* an IPv6-only interface (a tunnel source of IPv6 transport)
         * keeps it as its address too; `ip address` takes that slot */
        if (!f->has_address || f->address.addr.family == VPN_AF_INET6) {
            f->address = a6;
            f->has_address = true;
        }
        return OK;
    }
    if (is(p, 0, "ip") && is(p, 1, "unnumbered")) {
        if (need(p, 3))
            return VPN_ERR_MALFORMED;
        f->unnumbered = true;
        return copy_name(p, f->unnumbered_if, p->tok[2]);
    }
    if (is(p, 0, "ip") && is(p, 1, "mtu"))
        return parse_u32(p, 2, 68, 9216, &f->ip_mtu);
    if (is(p, 0, "tunnel")) {
        if (!f->is_tunnel)
            return bad(p, "tunnel commands need a Tunnel interface (or a Virtual-Template)", NULL);
        if (!f->is_tunnel)
            return bad(p, "tunnel commands need a Tunnel interface", NULL);
        if (f->is_virtual_template && is(p, 1, "destination"))
            return bad(p, "a Virtual-Template has no tunnel destination (each clone takes its peer's)",
                       NULL);
        if (f->is_virtual_template && is(p, 1, "mode") && is(p, 2, "gre") && is(p, 3, "multipoint"))
            return bad(p, "a Virtual-Template is point-to-point: tunnel mode gre ip or ipsec ipv4", NULL);
        if (is(p, 1, "source")) {
            if (need(p, 3))
                return VPN_ERR_MALFORMED;
            if (vpn_addr_parse(&f->tunnel_source, p->tok[2]) == 0) {
                f->has_tunnel_source = true;
                return OK;
            }
            return copy_name(p, f->tunnel_source_if, p->tok[2]);
        }
        if (is(p, 1, "destination")) {
            f->has_tunnel_destination = true;
            return parse_addr(p, 2, &f->tunnel_destination);
        }
        if (is(p, 1, "key")) {
            f->has_tunnel_key = true;
            return parse_u32(p, 2, 0, 4294967295u, &f->tunnel_key);
        }
        if (is(p, 1, "mode")) {
            if (is(p, 2, "gre") && is(p, 3, "ip") && p->n == 4)
                f->tunnel_mode = VPN_CONF_TUNNEL_GRE_IP;
            else if (is(p, 2, "gre") && is(p, 3, "multipoint") && p->n == 4)
                f->tunnel_mode = VPN_CONF_TUNNEL_GRE_MULTIPOINT;
            else if (is(p, 2, "ipsec") && is(p, 3, "ipv4") && p->n == 4)
                f->tunnel_mode = VPN_CONF_TUNNEL_IPSEC_IPV4;
            else if (is(p, 2, "ipsec") && is(p, 3, "ipv6") && p->n == 4)
                f->tunnel_mode = VPN_CONF_TUNNEL_IPSEC_IPV6;
            else if (is(p, 2, "ipsec") && is(p, 3, "dual-overlay") && p->n == 4)
                f->tunnel_mode = VPN_CONF_TUNNEL_IPSEC_DUAL;
            else
                return bad(p, "unsupported tunnel mode", NULL);
            return OK;
        }
        if (is(p, 1, "protection") && is(p, 2, "ipsec") && is(p, 3, "profile")) {
            if (need(p, 5))
                return VPN_ERR_MALFORMED;
            return copy_name(p, f->protection, p->tok[4]);
        }
        return bad(p, "unknown tunnel command '%s'", p->n > 1 ? p->tok[1] : "");
    }
    if (is(p, 0, "crypto") && is(p, 1, "map")) {
        if (p->n != 3)
            return NOT_HERE; /* "crypto map NAME N gdoi" is global */
        f->crypto_map_line = p->line;
        return copy_name(p, f->crypto_map, p->tok[2]);
    }
    if (is(p, 0, "service-policy")) {
        if (!is(p, 1, "output"))
            return bad(p, "only 'service-policy output NAME' is supported on an interface", NULL);
        if (p->n != 3)
            return bad(p, "usage: service-policy output POLICY-MAP", NULL);
        f->service_policy_line = p->line;
        return copy_name(p, f->service_policy_out, p->tok[2]);
    }
    if (is(p, 0, "qos") && is(p, 1, "pre-classify") && p->n == 2) {
        f->qos_pre_classify = true;
        return OK;
    }
    /* RFC 2453 section 3.4.3 (split horizon); IOS interface commands. */
    if (is(p, 0, "no") && is(p, 1, "ip") && is(p, 2, "split-horizon")) {
        if (p->n != 3)
            return bad(p, "expected 'no ip split-horizon'", NULL);
        f->rip_no_split_horizon = true;
        return OK;
    }
    if (is(p, 0, "ip") && is(p, 1, "split-horizon") && p->n == 2) {
        f->rip_no_split_horizon = false;
        return OK;
    }
    if (is(p, 0, "ip") && is(p, 1, "summary-address")) {
        int used;
        if (!is(p, 2, "rip"))
            return bad(p, "only 'ip summary-address rip A M' is supported", NULL);
        if (parse_addr_mask(p, 3, &f->rip_summary, &used, false))
            return VPN_ERR_MALFORMED;
        if (f->rip_summary.addr.family != VPN_AF_INET || 3 + used != p->n)
            return bad(p, "expected 'ip summary-address rip A M' (IPv4)", NULL);
        f->has_rip_summary = true;
        return OK;
    }
    if (is(p, 0, "description") || is(p, 0, "shutdown") || (is(p, 0, "no") && is(p, 1, "shutdown")))
        return OK;
    return NOT_HERE;
}

/* router rip (RFC 2453): version 2, classful network statements as IOS
 * takes them, passive interfaces. */
static int m_rip(parser *p)
{
    vpn_conf_rip *r = &p->c->rip;

    if (is(p, 0, "version")) {
        uint32_t v;
        if (parse_u32(p, 1, 1, 2, &v))
            return VPN_ERR_MALFORMED;
        if (v != 2)
            return bad(p, "only RIP version 2 is supported", NULL);
        r->version = 2;
        return OK;
    }
    if (is(p, 0, "network")) {
        vpn_prefix pf;
        uint8_t first;
        if (parse_addr(p, 1, &pf.addr) || pf.addr.family != VPN_AF_INET)
            return VPN_ERR_MALFORMED;
        if (r->n_network == VPN_CONF_RIP_NET_MAX)
            return bad(p, "too many network statements", NULL);
        /* RFC 2453 / IOS: the statement names a classful network. */
        first = pf.addr.b[0];
        pf.len = first < 128 ? 8 : first < 192 ? 16 : 24;
        r->network[r->n_network++] = pf;
        return OK;
    }
    if (is(p, 0, "passive-interface")) {
        if (need(p, 2))
            return VPN_ERR_MALFORMED;
        if (r->n_passive == VPN_CONF_REF_MAX)
            return bad(p, "too many passive interfaces", NULL);
        return copy_name(p, r->passive[r->n_passive++], p->tok[1]);
    }
    if (is(p, 0, "timers") && is(p, 1, "basic")) {
        if (p->n != 6 || parse_u32(p, 2, 1, 4294967, &r->update_s) ||
            parse_u32(p, 3, 1, 4294967, &r->invalid_s) || parse_u32(p, 4, 0, 4294967, &r->holddown_s) ||
            parse_u32(p, 5, 1, 4294967, &r->flush_s))
            return p->n != 6 ? bad(p, "timers basic needs update, invalid, holddown and flush", NULL)
                             : VPN_ERR_MALFORMED;
        if (r->invalid_s < r->update_s || r->flush_s < r->invalid_s)
            return bad(p, "timers basic: invalid must be >= update and flush >= invalid", NULL);
        return OK;
    }
    if ((is(p, 0, "no") && is(p, 1, "auto-summary")) || is(p, 0, "auto-summary"))
        return OK; /* classless behaviour is what RIPv2 here does */
    return NOT_HERE;
}

/* crypto isakmp policy N (IOS ISAKMP policy mode; RFC 2409 appendix A
 * attribute values). */
static int m_isakmp_policy(parser *p)
{
    vpn_conf_isakmp_policy *pol = &p->c->isakmp_policy[p->obj];
    uint32_t v;

    if (is(p, 0, "encryption")) {
        if (need(p, 2))
            return VPN_ERR_MALFORMED;
        if (!is(p, 1, "aes"))
            return unsupported(p, p->tok[1]);
        v = 128; /* IOS: "encryption aes" alone is AES-128 */
        if (p->n > 2) {
            if (parse_u32(p, 2, 128, 256, &v))
                return VPN_ERR_MALFORMED;
            if (v != 128 && v != 192 && v != 256)
                return bad(p, "AES key length %s must be 128, 192 or 256", p->tok[2]);
        }
        if (p->n > 3)
            return bad(p, "unexpected '%s'", p->tok[3]);
        pol->encr_bits = (uint16_t)v;
        return OK;
    }
    if (is(p, 0, "hash") && p->n == 2) {
        static const name_id hashes[] = {
            {"sha", VPN_IKEV1_HASH_SHA1, 0}, {"sha256", VPN_IKEV1_HASH_SHA2_256, 0},
            {"sha384", VPN_IKEV1_HASH_SHA2_384, 0}, {"sha512", VPN_IKEV1_HASH_SHA2_512, 0},
            {NULL, 0, 0},
        };
        const name_id *h = lookup(hashes, p->tok[1]);
        if (h == NULL)
            return unsupported(p, p->tok[1]);
        pol->hash = h->id;
        return OK;
    }
    if (is(p, 0, "authentication") && p->n == 2) {
        if (is(p, 1, "pre-share"))
            pol->auth = VPN_IKEV1_AUTH_PSK;
        else if (is(p, 1, "rsa-sig"))
            pol->auth = VPN_IKEV1_AUTH_RSA_SIG;
        else
            return unsupported(p, p->tok[1]);
        return OK;
    }
    if (is(p, 0, "group") && p->n == 2) {
        /* What the IKEv1 engine implements: the legacy MODP groups 2 and 5
         * (older GDOI peers), 14, and ECP 19 and 20. */
        if (parse_u32(p, 1, 1, 32, &v))
            return VPN_ERR_MALFORMED;
        if (v != 2 && v != 5 && v != 14 && v != 19 && v != 20)
            return unsupported(p, p->tok[1]);
        pol->group = (uint16_t)v;
        return OK;
    }
    if (is(p, 0, "lifetime") && p->n == 2)
        return parse_u32(p, 1, 60, 86400, &pol->lifetime_s);
    return NOT_HERE;
}

/* crypto isakmp key [0] KEY address A [MASK] [no-xauth] */
static int isakmp_key(parser *p)
{
    vpn_conf_isakmp_key k, *slot;
    int i = 3, used;

    memset(&k, 0, sizeof k);
    k.line = p->line;
    if (i + 1 < p->n && (is(p, i, "0") || is(p, i, "6")) && !is(p, i + 1, "address")) {
        if (is(p, i, "6"))
            return bad(p, "encrypted (type 6) keys are not supported; give the key in clear", NULL);
        i++;
    }
    if (i >= p->n || !is(p, i + 1, "address"))
        return bad(p, "usage: crypto isakmp key KEY address A [MASK]", NULL);
    if (copy_key(p, k.key, p->tok[i]))
        return VPN_ERR_MALFORMED;
    i += 2;
    if (parse_addr_mask(p, i, &k.address, &used, true))
        return VPN_ERR_MALFORMED;
    i += used;
    if (i < p->n && is(p, i, "no-xauth"))
        i++;
    if (i != p->n)
        return bad(p, "unexpected '%s'", p->tok[i]);
    for (size_t j = 0; j < p->c->n_isakmp_key; j++) {
        vpn_conf_isakmp_key *old = &p->c->isakmp_key[j];
        if (old->address.len == k.address.len && vpn_addr_eq(&old->address.addr, &k.address.addr)) {
            *old = k; /* IOS: a second key for the same address replaces it */
            return OK;
        }
    }
    if ((slot = VPN_CONF_ADD(p->c, isakmp_key)) == NULL)
        return VPN_ERR_NOMEM;
    *slot = k;
    return OK;
}

/* ---- GET VPN (conf.h: crypto gdoi group, crypto map ... gdoi) ------------ */

/* permit|deny {any | host A | A [WILDCARD]}: a standard ACE, kept as an
 * extended one matching any protocol to any destination. */
static int parse_std_ace(parser *p, int i, vpn_conf_acl *acl)
{
    vpn_conf_ace ace;

    int rc = ace_begin(p, &i, &ace);
    if (rc != OK)
        return rc;
    if (i + 1 == p->n && !is(p, i, "any") && !is(p, i, "host")) {
        /* "permit A": a host, as IOS reads it */
        if (parse_addr(p, i, &ace.src.addr))
            return VPN_ERR_MALFORMED;
        ace.src.len = (uint8_t)(vpn_addr_len(&ace.src.addr) * 8);
        i++;
    } else if (ace_addr(p, &i, &ace.src)) {
        return VPN_ERR_MALFORMED;
    }
    if (i != p->n)
        return bad(p, "unexpected '%s' in standard access-list entry", p->tok[i]);
    ace.dst.addr.family = VPN_AF_INET;
    vpn_conf_ace *slot = vpn_conf_grow((void **)&acl->ace, &acl->n_ace, &acl->cap_ace, sizeof *acl->ace);
    if (slot == NULL)
        return VPN_ERR_NOMEM;
    *slot = ace;
    return OK;
}

static int m_acl_std(parser *p)
{
    if (is(p, 0, "remark"))
        return OK;
    return parse_std_ace(p, 0, &p->c->acl[p->obj]);
}

/* "ipv4 X" after a keyword at token i: returns the index of X. */
static int ipv4_arg(parser *p, int i, const char *what)
{
    if (!is(p, i, "ipv4"))
        return bad(p, "%s: only 'ipv4' is supported", what);
    if (i + 2 != p->n)
        return bad(p, "%s takes 'ipv4' and one value", what);
    return 0;
}

static int parse_ipv4(parser *p, int i, vpn_addr *a)
{
    if (parse_addr(p, i, a))
        return VPN_ERR_MALFORMED;
    if (a->family != VPN_AF_INET)
        return bad(p, "'%s' is not an IPv4 address", p->tok[i]);
    return OK;
}

static int m_gdoi_group(parser *p)
{
    vpn_conf_gdoi_group *g = &p->c->gdoi_group[p->obj];

    if (is(p, 0, "identity") && is(p, 1, "number")) {
        if (p->n != 3)
            return bad(p, "usage: identity number N", NULL);
        if (parse_u32(p, 2, 1, 4294967295u, &g->identity))
            return VPN_ERR_MALFORMED;
        g->has_identity = true;
        return OK;
    }
    if (is(p, 0, "identity"))
        return bad(p, "only 'identity number N' is supported", NULL);
    if (is(p, 0, "server") && is(p, 1, "local") && p->n == 2) {
        if (!g->server_local)
            g->server_local_line = p->line;
        g->server_local = true;
        p->m = M_GDOI_SERVER;
        return OK;
    }
    if (is(p, 0, "server") && is(p, 1, "address")) {
        vpn_addr a;
        if (ipv4_arg(p, 2, "server address") || parse_ipv4(p, 3, &a))
            return VPN_ERR_MALFORMED;
        for (size_t i = 0; i < g->n_server; i++)
            if (vpn_addr_eq(&g->server[i], &a))
                return bad(p, "server %s is already listed", p->tok[3]);
        if (g->n_server == VPN_CONF_GDOI_SERVERS_MAX)
            return bad(p, "too many key servers (8 at most)", NULL);
        if (g->n_server == 0)
            g->server_line = p->line;
        g->server[g->n_server++] = a;
        return OK;
    }
    if (is(p, 0, "client") && is(p, 1, "registration") && is(p, 2, "interface")) {
        if (p->n != 4)
            return bad(p, "usage: client registration interface NAME", NULL);
        g->reg_iface_line = p->line;
        return copy_name(p, g->reg_iface, p->tok[3]);
    }
    if (is(p, 0, "description"))
        return OK;
    return NOT_HERE;
}

static int m_gdoi_server(parser *p)
{
    vpn_conf_gdoi_group *g = &p->c->gdoi_group[p->obj];

    if (is(p, 0, "rekey")) {
        if (is(p, 1, "algorithm")) {
            uint32_t bits;
            if (!is(p, 2, "aes"))
                return p->n > 2 ? unsupported(p, p->tok[2]) : bad(p, "usage: rekey algorithm aes 128|192|256", NULL);
            if (p->n != 4)
                return bad(p, "usage: rekey algorithm aes 128|192|256", NULL);
            if (parse_u32(p, 3, 128, 256, &bits))
                return VPN_ERR_MALFORMED;
            if (bits != 128 && bits != 192 && bits != 256)
                return bad(p, "AES key length %s must be 128, 192 or 256", p->tok[3]);
            g->rekey_aes_bits = (uint16_t)bits;
            g->rekey_alg_line = p->line;
            return OK;
        }
        if (is(p, 1, "sig-hash")) {
            static const name_id sh[] = {{"sha", 1, 0}, {"sha256", 256, 0}, {"sha384", 384, 0},
                                         {"sha512", 512, 0}, {NULL, 0, 0}};
            const name_id *h = p->n == 4 && is(p, 2, "algorithm") ? lookup(sh, p->tok[3]) : NULL;
            if (!h)
                return bad(p, "usage: rekey sig-hash algorithm sha|sha256|sha384|sha512", NULL);
            g->rekey_sig_hash = h->id;
            g->rekey_sig_hash_line = p->line;
            return OK;
        }
        if (is(p, 1, "lifetime")) {
            if (!is(p, 2, "seconds") || p->n != 4)
                return bad(p, "usage: rekey lifetime seconds N", NULL);
            /* IOS: 300-86400 */
            return parse_u32(p, 3, 300, 86400, &g->rekey_lifetime_s);
        }
        if (is(p, 1, "retransmit")) {
            if (p->n != 5 || !is(p, 3, "number"))
                return bad(p, "usage: rekey retransmit SECONDS number N", NULL);
            /* IOS: 10-60 s, 1-10 times */
            if (parse_u32(p, 2, 10, 60, &g->retrans_s) || parse_u32(p, 4, 1, 10, &g->retrans_n))
                return VPN_ERR_MALFORMED;
            return OK;
        }
        if (is(p, 1, "authentication")) {
            if (p->n != 5 || !is(p, 2, "mypubkey") || !is(p, 3, "rsa"))
                return bad(p, "usage: rekey authentication mypubkey rsa LABEL", NULL);
            g->rekey_key_line = p->line;
            return copy_name(p, g->rekey_key, p->tok[4]);
        }
        if (is(p, 1, "address")) {
            if (ipv4_arg(p, 2, "rekey address"))
                return VPN_ERR_MALFORMED;
            g->rekey_acl_line = p->line;
            return copy_name(p, g->rekey_acl, p->tok[3]);
        }
        if (is(p, 1, "transport")) {
            if (p->n != 3 || !(is(p, 2, "unicast") || is(p, 2, "multicast")))
                return bad(p, "usage: rekey transport unicast", NULL);
            g->rekey_unicast = is(p, 2, "unicast");
            return OK;
        }
        return bad(p, "unknown or unsupported 'rekey' command", NULL);
    }
    if (is(p, 0, "authorization") && is(p, 1, "address")) {
        if (ipv4_arg(p, 2, "authorization address"))
            return VPN_ERR_MALFORMED;
        g->auth_acl_line = p->line;
        return copy_name(p, g->auth_acl, p->tok[3]);
    }
    if (is(p, 0, "authorization"))
        return bad(p, "only 'authorization address ipv4 ACL' is supported", NULL);
    if (is(p, 0, "limit") && is(p, 1, "members")) {
        if (p->n != 3)
            return bad(p, "usage: limit members N", NULL);
        return parse_u32(p, 2, 1, VPN_CONF_GDOI_MAX_MEMBERS, &g->max_members);
    }
    if (is(p, 0, "sa") && is(p, 1, "receive-only") && p->n == 2) {
        g->receive_only = true;
        return OK;
    }
    if (is(p, 0, "sa") && is(p, 1, "ipsec")) {
        uint32_t num;
        if (p->n != 3)
            return bad(p, "usage: sa ipsec N", NULL);
        if (parse_u32(p, 2, 1, 65535, &num))
            return VPN_ERR_MALFORMED;
        if (g->has_sa && g->sa_num != num)
            return bad(p, "only one 'sa ipsec' policy per group is supported", NULL);
        if (!g->has_sa)
            g->sa_line = p->line;
        g->has_sa = true;
        g->sa_num = num;
        p->m = M_GDOI_SA;
        return OK;
    }
    if (is(p, 0, "address")) {
        if (ipv4_arg(p, 1, "address") || parse_ipv4(p, 2, &g->ks_address))
            return VPN_ERR_MALFORMED;
        g->has_ks_address = true;
        g->ks_address_line = p->line;
        return OK;
    }
    if (is(p, 0, "redundancy") && p->n == 1) {
        if (!g->redundancy)
            g->redundancy_line = p->line;
        g->redundancy = true;
        p->m = M_GDOI_REDUNDANCY;
        return OK;
    }
    return NOT_HERE;
}

static int m_gdoi_sa(parser *p)
{
    vpn_conf_gdoi_group *g = &p->c->gdoi_group[p->obj];

    if (is(p, 0, "profile")) {
        if (p->n != 2)
            return bad(p, "usage: profile IPSEC_PROFILE", NULL);
        g->sa_profile_line = p->line;
        return copy_name(p, g->sa_profile, p->tok[1]);
    }
    if (is(p, 0, "match") && is(p, 1, "address")) {
        if (ipv4_arg(p, 2, "match address"))
            return VPN_ERR_MALFORMED;
        g->sa_acl_line = p->line;
        return copy_name(p, g->sa_acl, p->tok[3]);
    }
    if (is(p, 0, "replay")) {
        /* IOS: time-based window 1-100 s; counter-based 64-1024 packets */
        if (is(p, 1, "time") && is(p, 2, "window-size") && p->n == 4) {
            if (parse_u32(p, 3, 1, 100, &g->replay_window))
                return VPN_ERR_MALFORMED;
            g->replay = VPN_CONF_GDOI_REPLAY_TIME;
        } else if (is(p, 1, "counter") && is(p, 2, "window-size") && p->n == 4) {
            if (parse_u32(p, 3, 64, 1024, &g->replay_window))
                return VPN_ERR_MALFORMED;
            if (g->replay_window & (g->replay_window - 1))
                return bad(p, "counter window-size %s must be 64, 128, 256, 512 or 1024", p->tok[3]);
            g->replay = VPN_CONF_GDOI_REPLAY_COUNTER;
        } else {
            return bad(p, "usage: replay time window-size SECONDS | replay counter window-size N", NULL);
        }
        g->replay_line = p->line;
        return OK;
    }
    if (is(p, 0, "no") && is(p, 1, "replay") && p->n == 2) {
        g->replay = VPN_CONF_GDOI_REPLAY_NONE;
        g->replay_window = 0;
        g->replay_line = p->line;
        return OK;
    }
    return NOT_HERE;
}

static int m_gdoi_redundancy(parser *p)
{
    vpn_conf_gdoi_group *g = &p->c->gdoi_group[p->obj];

    if (is(p, 0, "local") && is(p, 1, "priority")) {
        if (p->n != 3)
            return bad(p, "usage: local priority N", NULL);
        return parse_u32(p, 2, 1, 255, &g->coop_priority);
    }
    if (is(p, 0, "peer") && is(p, 1, "address")) {
        vpn_addr a;
        if (ipv4_arg(p, 2, "peer address") || parse_ipv4(p, 3, &a))
            return VPN_ERR_MALFORMED;
        for (size_t i = 0; i < g->n_coop_peer; i++)
            if (vpn_addr_eq(&g->coop_peer[i], &a))
                return bad(p, "peer %s is already listed", p->tok[3]);
        if (g->n_coop_peer == VPN_CONF_GDOI_PEERS_MAX)
            return bad(p, "too many redundancy peers (8 at most)", NULL);
        g->coop_peer[g->n_coop_peer++] = a;
        return OK;
    }
    return NOT_HERE;
}

static int m_crypto_map(parser *p)
{
    vpn_conf_crypto_map *m = &p->c->crypto_map[p->obj];

    if (is(p, 0, "set") && is(p, 1, "group")) {
        if (p->n != 3)
            return bad(p, "usage: set group NAME", NULL);
        m->group_line = p->line;
        return copy_name(p, m->group, p->tok[2]);
    }
    if (is(p, 0, "match") && is(p, 1, "address")) {
        /* a GM-local ACL (deny lines only: vpn_conf_validate checks it
         * once every ACL is known) */
        if (p->n != 3)
            return bad(p, "usage: match address ACL", NULL);
        m->acl_line = p->line;
        return copy_name(p, m->acl, p->tok[2]);
    }
    if (is(p, 0, "description"))
        return OK;
    return NOT_HERE;
}

/* crypto map NAME SEQ gdoi: finds or adds the entry; enters its mode. */
static int crypto_map_entry(parser *p)
{
    vpn_conf_crypto_map *m;
    uint32_t seq;
    size_t i;

    if (p->n != 5 || !is(p, 4, "gdoi"))
        return p->n == 5 ? bad(p, "only 'crypto map NAME N gdoi' (GET VPN) maps are supported; "
                                  "'%s' is not", p->tok[4])
                         : bad(p, "usage: crypto map NAME N gdoi", NULL);
    if (parse_u32(p, 3, 1, 65535, &seq))
        return VPN_ERR_MALFORMED;
    if (strlen(p->tok[2]) >= VPN_CONF_NAME_MAX)
        return bad(p, "name '%s' is too long (63 characters at most)", p->tok[2]);
    for (i = 0; i < p->c->n_crypto_map; i++)
        if (strcmp(p->c->crypto_map[i].name, p->tok[2]) == 0 && p->c->crypto_map[i].seq == seq)
            break;
    if (i == p->c->n_crypto_map) {
        if ((m = VPN_CONF_ADD(p->c, crypto_map)) == NULL)
            return VPN_ERR_NOMEM;
        vpn_conf_copy_name(m->name, VPN_CONF_NAME_MAX, p->tok[2]);
        m->seq = seq;
        m->line = p->line;
    }
    p->obj = i;
    p->m = M_CRYPTO_MAP;
    return OK;
}

/* crypto key generate rsa [general-keys] [label NAME] [modulus N] [exportable] */
static int rsa_keygen(parser *p)
{
    vpn_conf_rsa_key k, *slot;
    uint32_t mod = 2048;
    const char *label = NULL;

    memset(&k, 0, sizeof k);
    for (int i = 4; i < p->n; i++) {
        if (is(p, i, "general-keys") || is(p, i, "exportable"))
            continue;
        if (is(p, i, "label") && i + 1 < p->n) {
            label = p->tok[++i];
        } else if (is(p, i, "modulus") && i + 1 < p->n) {
            if (parse_u32(p, ++i, 2048, 4096, &mod))
                return VPN_ERR_MALFORMED;
        } else {
            return bad(p, "unexpected '%s' (usage: crypto key generate rsa [general-keys] label NAME "
                          "modulus N)", p->tok[i]);
        }
    }
    if (!label)
        return bad(p, "crypto key generate rsa needs 'label NAME'", NULL);
    if (copy_name(p, k.name, label))
        return VPN_ERR_MALFORMED;
    k.modulus = mod;
    k.line = p->line;
    for (size_t j = 0; j < p->c->n_rsa_key; j++)
        if (strcmp(p->c->rsa_key[j].name, k.name) == 0) {
            p->c->rsa_key[j] = k; /* generated again: replaced */
            return OK;
        }
    if ((slot = VPN_CONF_ADD(p->c, rsa_key)) == NULL)
        return VPN_ERR_NOMEM;
    *slot = k;
    return OK;
}

static int copy_path(parser *p, char *dst, const char *src)
{
    if (strlen(src) >= VPN_CONF_PATH_MAX)
        return vpn_conf_fail(p->err, p->line, VPN_ERR_MALFORMED, "file name '%.40s...' is too long (%d characters at most)",
                             src, VPN_CONF_PATH_MAX - 1);
    vpn_conf_copy_name(dst, VPN_CONF_PATH_MAX, src);
    return OK;
}

/* crypto pki trustpoint NAME: certificate and key files (conf.h). */
static int m_trustpoint(parser *p)
{
    vpn_conf_trustpoint *t = &p->c->trustpoint[p->obj];

    if (is(p, 0, "ca-certificate") || is(p, 0, "certificate") || is(p, 0, "private-key")) {
        if (!is(p, 1, "file") || p->n != 3)
            return bad(p, "%s takes `file PATH`", p->tok[0]);
        if (is(p, 0, "certificate"))
            return copy_path(p, t->cert_file, p->tok[2]);
        if (is(p, 0, "private-key"))
            return copy_path(p, t->key_file, p->tok[2]);
        if (t->n_ca_file == VPN_CONF_TP_CA_MAX)
            return bad(p, "too many ca-certificate files (4 at most)", NULL);
        return copy_path(p, t->ca_file[t->n_ca_file++], p->tok[2]);
    }
    if (is(p, 0, "revocation-check")) {
        if (!is(p, 1, "none") || p->n != 2)
            return bad(p, "only `revocation-check none` is supported", NULL);
        return OK;
    }
    return NOT_HERE;
}

/* Finds or creates a named object in one of the arrays; enters its mode. */
/* ---- MQC: class-map, policy-map (conf-qos.h) ------------------------------ */

/* DSCP keywords of IOS (RFC 2474 class selectors, RFC 2597 AF, RFC 3246 EF)
 * or a number 0-63. */
static int parse_dscp(parser *p, const char *s, uint32_t *out)
{
    static const struct {
        const char *name;
        uint8_t v;
    } names[] = {
        {"default", 0}, {"ef", 46}, {"cs0", 0}, {"cs1", 8}, {"cs2", 16}, {"cs3", 24}, {"cs4", 32},
        {"cs5", 40}, {"cs6", 48}, {"cs7", 56}, {"af11", 10}, {"af12", 12}, {"af13", 14}, {"af21", 18},
        {"af22", 20}, {"af23", 22}, {"af31", 26}, {"af32", 28}, {"af33", 30}, {"af41", 34}, {"af42", 36},
        {"af43", 38},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].v;
            return 0;
        }
    if (s[0] < '0' || s[0] > '9')
        return bad(p, "'%s' is not a DSCP value (ef, afXY, csN, default or 0-63)", s);
    for (int i = 0; i < p->n; i++)
        if (p->tok[i] == s)
            return parse_u32(p, i, 0, 63, out);
    return bad(p, "'%s' is not a DSCP value", s);
}

static int m_class_map(parser *p)
{
    vpn_conf_class_map *m = &p->c->class_map[p->obj];
    vpn_conf_qos_match mt;
    int i = 1;

    if (is(p, 0, "description"))
        return OK;
    if (!is(p, 0, "match"))
        return NOT_HERE;
    memset(&mt, 0, sizeof mt);
    mt.line = p->line;
    if (is(p, 1, "not"))
        return bad(p, "'match not' is not supported", NULL);
    if (is(p, 1, "ip"))
        i = 2;
    if (is(p, i, "dscp")) {
        mt.type = VPN_CONF_QOS_MATCH_DSCP;
        if (p->n < i + 2)
            return bad(p, "match dscp needs at least one value", NULL);
        if (p->n > i + 9)
            return bad(p, "match dscp takes 8 values at most", NULL);
        for (int k = i + 1; k < p->n; k++) {
            uint32_t d;
            if (parse_dscp(p, p->tok[k], &d))
                return VPN_ERR_MALFORMED;
            mt.dscp |= 1ull << d;
        }
    } else if (i == 1 && is(p, 1, "access-group")) {
        int k = is(p, 2, "name") ? 3 : 2;
        if (p->n != k + 1)
            return bad(p, "usage: match access-group [name] ACL", NULL);
        mt.type = VPN_CONF_QOS_MATCH_ACL;
        if (copy_name(p, mt.acl, p->tok[k]))
            return VPN_ERR_MALFORMED;
    } else if (i == 1 && is(p, 1, "any") && p->n == 2) {
        mt.type = VPN_CONF_QOS_MATCH_ANY;
    } else {
        return bad(p, "unsupported match criterion '%s' (dscp, ip dscp, access-group, any)",
                   p->n > i ? p->tok[i] : "");
    }
    if (m->n_match == VPN_CONF_QOS_MATCH_MAX)
        return bad(p, "too many match statements in one class-map", NULL);
    m->match[m->n_match++] = mt;
    return OK;
}

static int m_policy_map(parser *p)
{
    vpn_conf_policy_map *pm = &p->c->policy_map[p->obj];

    if (is(p, 0, "description"))
        return OK;
    if (!is(p, 0, "class"))
        return NOT_HERE;
    if (p->n != 2)
        return bad(p, "usage: class NAME", NULL);
    if (strlen(p->tok[1]) >= VPN_CONF_NAME_MAX)
        return bad(p, "name '%s' is too long (63 characters at most)", p->tok[1]);
    for (size_t i = 0; i < pm->n_class; i++)
        if (strcmp(pm->cls[i].name, p->tok[1]) == 0) {
            p->sub = i;
            p->m = M_PM_CLASS;
            return OK;
        }
    if (pm->n_class == VPN_CONF_QOS_CLASS_MAX)
        return bad(p, "too many classes in one policy-map", NULL);
    /* IOS keeps class-default last whatever the order of entry. */
    size_t at = pm->n_class;
    if (at > 0 && strcmp(pm->cls[at - 1].name, "class-default") == 0) {
        pm->cls[at] = pm->cls[at - 1];
        at--;
    }
    memset(&pm->cls[at], 0, sizeof pm->cls[at]);
    vpn_conf_copy_name(pm->cls[at].name, VPN_CONF_NAME_MAX, p->tok[1]);
    pm->cls[at].line = p->line;
    pm->n_class++;
    p->sub = at;
    p->m = M_PM_CLASS;
    return OK;
}

static int m_pm_class(parser *p)
{
    vpn_conf_qos_class *k = &p->c->policy_map[p->obj].cls[p->sub];

    if (is(p, 0, "priority") || is(p, 0, "bandwidth")) {
        bool prio = is(p, 0, "priority");
        vpn_conf_qos_class n = *k;
        if (k->action != VPN_CONF_QOS_ACT_NONE)
            return bad(p, "class %s already has priority or bandwidth", k->name);
        n.action = prio ? VPN_CONF_QOS_ACT_PRIORITY : VPN_CONF_QOS_ACT_BANDWIDTH;
        if (is(p, 1, "percent")) {
            if (p->n != 3)
                return bad(p, "usage: %s percent N", p->tok[0]);
            n.unit = VPN_CONF_QOS_PERCENT;
            if (parse_u32(p, 2, 1, 100, &n.value))
                return VPN_ERR_MALFORMED;
        } else if (!prio && is(p, 1, "remaining")) {
            if (!is(p, 2, "percent") || p->n != 4)
                return bad(p, "usage: bandwidth remaining percent N", NULL);
            n.unit = VPN_CONF_QOS_REMAINING_PERCENT;
            if (parse_u32(p, 3, 1, 100, &n.value))
                return VPN_ERR_MALFORMED;
        } else {
            if (p->n != 2 && !(prio && p->n == 3))
                return bad(p, prio ? "usage: priority {KBPS [BURST] | percent N}"
                                   : "usage: bandwidth {KBPS | percent N | remaining percent N}", NULL);
            n.unit = VPN_CONF_QOS_KBPS;
            if (parse_u32(p, 1, 8, prio ? 2000000 : 10000000, &n.value))
                return VPN_ERR_MALFORMED;
            if (p->n == 3 && parse_u32(p, 2, 32, 2000000, &n.burst_bytes))
                return VPN_ERR_MALFORMED;
        }
        *k = n;
        return OK;
    }
    if (is(p, 0, "fair-queue") && p->n == 1) {
        k->fair_queue = true;
        return OK;
    }
    if (is(p, 0, "queue-limit")) {
        if (p->n != 2 && !(p->n == 3 && is(p, 2, "packets")))
            return bad(p, "usage: queue-limit N [packets]", NULL);
        return parse_u32(p, 1, 1, 32768, &k->queue_limit);
    }
    if (is(p, 0, "shape")) {
        uint32_t bps;
        if (!is(p, 1, "average") || p->n != 3)
            return bad(p, "usage: shape average BPS", NULL);
        if (parse_u32(p, 2, 8000, 4294967295u, &bps))
            return VPN_ERR_MALFORMED;
        k->shape_bps = bps;
        return OK;
    }
    if (is(p, 0, "service-policy")) {
        if (p->n != 2)
            return bad(p, "usage: service-policy CHILD-POLICY-MAP", NULL);
        k->child_line = p->line;
        return copy_name(p, k->child, p->tok[1]);
    }
    if (is(p, 0, "police") || is(p, 0, "set") || is(p, 0, "random-detect"))
        return bad(p, "'%s' in a policy-map class is not supported", p->tok[0]);
    return NOT_HERE;
}

#define ENTER(arr, md, nametok)                                                      \
    do {                                                                             \
        size_t i_;                                                                   \
        for (i_ = 0; i_ < p->c->n_##arr; i_++)                                       \
            if (strcmp(p->c->arr[i_].name, nametok) == 0)                            \
                break;                                                               \
        if (i_ == p->c->n_##arr) {                                                   \
            if (strlen(nametok) >= VPN_CONF_NAME_MAX)                                \
                return bad(p, "name '%s' is too long (63 characters at most)", nametok); \
            if (VPN_CONF_ADD(p->c, arr) == NULL)                                     \
                return VPN_ERR_NOMEM;                                                \
            vpn_conf_copy_name(p->c->arr[i_].name, VPN_CONF_NAME_MAX, nametok);      \
            p->c->arr[i_].line = p->line;                                            \
            fresh = true;                                                            \
        }                                                                            \
        p->obj = i_;                                                                 \
        p->m = md;                                                                   \
    } while (0)

/*
 * interface Virtual-Template N type tunnel (IOS FlexVPN): "Virtual-TemplateN"
 * or "Virtual-Template N", then `type tunnel` (the only type cloned into
 * tunnels here). Stored as interface "Virtual-TemplateN".
 */
static int virtual_template_line(parser *p)
{
    const char *num = p->tok[1] + 16;
    int i = 2;
    uint32_t n = 0;
    char name[VPN_CONF_NAME_MAX];
    bool fresh = false;

    if (*num == '\0') {
        if (p->n < 3)
            return bad(p, "expected 'interface Virtual-Template N type tunnel'", NULL);
        num = p->tok[2];
        i = 3;
    }
    if (*num == '\0')
        return bad(p, "expected 'interface Virtual-Template N type tunnel'", NULL);
    for (const char *q = num; *q; q++)
        if (*q < '0' || *q > '9' || q - num > 5)
            return bad(p, "bad Virtual-Template number '%s' (1-65535)", num);
    n = (uint32_t)strtoul(num, NULL, 10);
    if (n < 1 || n > 65535)
        return bad(p, "bad Virtual-Template number '%s' (1-65535)", num);
    if (!(p->n == i + 2 && is(p, i, "type") && is(p, i + 1, "tunnel")) && !(p->n == i))
        return bad(p, "expected 'interface Virtual-Template N type tunnel'", NULL);
    snprintf(name, sizeof name, "Virtual-Template%u", (unsigned)n);
    if (p->n == i && vpn_conf_find_interface(p->c, name) == NULL)
        return bad(p, "a new Virtual-Template needs 'type tunnel'", NULL);
    ENTER(iface, M_INTERFACE, name);
    p->c->iface[p->obj].is_tunnel = true;
    p->c->iface[p->obj].is_virtual_template = true;
    p->c->iface[p->obj].vt_number = n;
    (void)fresh;
    return OK;
}


/* ip local pool NAME FIRST [LAST] */
static int ra_ip_pool(parser *p)
{
    bool fresh = false;
    vpn_addr lo, hi;
    if (p->n != 5 && p->n != 6)
        return bad(p, "usage: ip local pool NAME FIRST [LAST]", NULL);
    if (parse_addr(p, 4, &lo) || (p->n == 6 ? parse_addr(p, 5, &hi) : (hi = lo, 0)))
        return VPN_ERR_MALFORMED;
    if (lo.family != VPN_AF_INET || hi.family != VPN_AF_INET)
        return bad(p, "ip local pool %s: only IPv4 pools are supported", p->tok[3]);
    if (vpn_addr_v4_u32(&lo) > vpn_addr_v4_u32(&hi))
        return bad(p, "ip local pool %s: the last address is below the first", p->tok[3]);
    if ((uint64_t)vpn_addr_v4_u32(&hi) - vpn_addr_v4_u32(&lo) >= 65536)
        return bad(p, "ip local pool %s: more than 65536 addresses", p->tok[3]);
    ENTER(ip_pool, M_GLOBAL, p->tok[3]);
    (void)fresh;
    p->c->ip_pool[p->obj].first = lo;
    p->c->ip_pool[p->obj].last = hi;
    p->c->ip_pool[p->obj].line = p->line;
    return OK;
}

/* ipv6 local pool NAME PREFIX/LEN ASSIGNED (IOS): ASSIGNED from LEN to 128 */
static int ra_ipv6_pool(parser *p)
{
    bool fresh = false;
    vpn_prefix pf;
    uint32_t assigned;
    if (p->n != 6)
        return bad(p, "usage: ipv6 local pool NAME PREFIX/LENGTH ASSIGNED-LENGTH", NULL);
    if (vpn_prefix_parse(&pf, p->tok[4]) != 0 || pf.addr.family != VPN_AF_INET6 || !strchr(p->tok[4], '/'))
        return bad(p, "ipv6 local pool: '%s' is not an IPv6 PREFIX/LENGTH", p->tok[4]);
    for (unsigned bit = pf.len; bit < 128; bit++)
        if (pf.addr.b[bit / 8] & (0x80u >> (bit % 8)))
            return bad(p, "ipv6 local pool: %s has host bits set", p->tok[4]);
    if (parse_u32(p, 5, pf.len, 128, &assigned))
        return VPN_ERR_MALFORMED;
    if (pf.len == 128)
        return bad(p, "ipv6 local pool %s: a /128 holds no address to hand out", p->tok[3]);
    ENTER(ipv6_pool, M_GLOBAL, p->tok[3]);
    (void)fresh;
    p->c->ipv6_pool[p->obj].prefix = pf;
    p->c->ipv6_pool[p->obj].assigned_len = (uint8_t)assigned;
    p->c->ipv6_pool[p->obj].line = p->line;
    return OK;
}

/* username NAME [privilege N] {password|secret} [0] PASSWORD: EAP needs the
 * cleartext (MSCHAPv2 hashes it itself), so hashed secrets (5, 8, 9) are
 * refused. */
static int ra_username(parser *p)
{
    bool fresh = false;
    int i = 2;
    uint32_t priv;
    if (p->n < 4)
        return bad(p, "usage: username NAME password PASSWORD", NULL);
    if (is(p, i, "privilege")) {
        if (parse_u32(p, i + 1, 0, 15, &priv))
            return VPN_ERR_MALFORMED;
        i += 2;
    }
    if (!is(p, i, "password") && !is(p, i, "secret"))
        return bad(p, "username %s: expected password or secret", p->tok[1]);
    i++;
    if (i + 2 == p->n) {
        if (!is(p, i, "0"))
            return bad(p, "username %s: only cleartext (type 0) passwords can serve EAP", p->tok[1]);
        i++;
    }
    if (i + 1 != p->n)
        return bad(p, "username %s: expected one password", p->tok[1]);
    ENTER(user, M_GLOBAL, p->tok[1]);
    (void)fresh;
    p->c->user[p->obj].line = p->line;
    return copy_key(p, p->c->user[p->obj].password, p->tok[i]);
}

/* aaa new-model; aaa authorization network LIST local|group G;
 * aaa authentication {login|eap} LIST local|group G */
static int ra_aaa(parser *p)
{
    bool fresh = false;
    vpn_conf_aaa_kind k;
    if (is(p, 1, "new-model") && p->n == 2) {
        p->c->aaa_new_model = true;
        return OK;
    }
    if (is(p, 1, "group") && is(p, 2, "server")) {
        if (p->n != 5 || !is(p, 3, "radius"))
            return bad(p, "usage: aaa group server radius NAME", NULL);
        if (!p->c->aaa_new_model)
            return bad(p, "aaa group server needs 'aaa new-model' first", NULL);
        ENTER(aaa_group, M_AAA_GROUP, p->tok[4]);
        (void)fresh;
        return OK;
    }
    if (is(p, 1, "authorization") && is(p, 2, "network"))
        k = VPN_CONF_AAA_AUTHOR_NETWORK;
    else if (is(p, 1, "authentication") && is(p, 2, "login"))
        k = VPN_CONF_AAA_AUTHEN_LOGIN;
    else if (is(p, 1, "authentication") && is(p, 2, "eap"))
        k = VPN_CONF_AAA_AUTHEN_EAP;
    else
        return bad(p, "unsupported aaa command", NULL);
    if (!p->c->aaa_new_model)
        return bad(p, "aaa method lists need 'aaa new-model' first", NULL);
    bool local = p->n == 5 && is(p, 4, "local");
    bool group = p->n == 6 && is(p, 4, "group");
    if (!local && !group)
        return bad(p, "usage: aaa ... LIST local | group NAME", NULL);
    ENTER(aaa_list, M_GLOBAL, p->tok[3]);
    (void)fresh;
    vpn_conf_aaa_list *l = &p->c->aaa_list[p->obj];
    l->kind = k;
    l->local = local;
    l->group[0] = '\0';
    l->line = p->line;
    return group ? copy_name(p, l->group, p->tok[5]) : OK;
}

/* radius server NAME: enters its mode. */
static int ra_radius_server(parser *p)
{
    bool fresh = false;
    if (p->n != 3)
        return bad(p, "usage: radius server NAME", NULL);
    ENTER(radius_server, M_RADIUS_SERVER, p->tok[2]);
    if (fresh)
        p->c->radius_server[p->obj].auth_port = 1812; /* RFC 2865 3 */
    return OK;
}

/* Inside `radius server NAME`: address ipv4 A [auth-port P] [acct-port Q],
 * key [0] SECRET, timeout S, retransmit N. */
static int m_radius_server(parser *p)
{
    vpn_conf_radius_server *r = &p->c->radius_server[p->obj];
    uint32_t v;

    if (is(p, 0, "address")) {
        if (p->n < 3 || !is(p, 1, "ipv4"))
            return bad(p, "usage: address ipv4 A [auth-port P] [acct-port Q]", NULL);
        if (parse_ipv4(p, 2, &r->addr))
            return VPN_ERR_MALFORMED;
        for (int i = 3; i < p->n; i += 2) {
            if ((!is(p, i, "auth-port") && !is(p, i, "acct-port")) || i + 1 >= p->n)
                return bad(p, "radius server %s: expected auth-port P or acct-port Q", r->name);
            if (parse_u32(p, i + 1, 1, 65535, &v))
                return VPN_ERR_MALFORMED;
            if (is(p, i, "auth-port"))
                r->auth_port = (uint16_t)v;
        }
        return OK;
    }
    if (is(p, 0, "key")) {
        /* IOS: key [0|7] SECRET; type 7 is obfuscated, not supported */
        if (p->n == 3 && !is(p, 1, "0"))
            return bad(p, "radius server %s: only cleartext (type 0) keys are supported", r->name);
        if (p->n != 2 && p->n != 3)
            return bad(p, "usage: key [0] SECRET", NULL);
        return copy_key(p, r->key, p->tok[p->n - 1]);
    }
    if (is(p, 0, "timeout")) {
        if (p->n != 2 || parse_u32(p, 1, 1, 1000, &r->timeout_s))
            return p->n != 2 ? bad(p, "usage: timeout SECONDS", NULL) : VPN_ERR_MALFORMED;
        return OK;
    }
    if (is(p, 0, "retransmit")) {
        if (p->n != 2 || parse_u32(p, 1, 1, 100, &r->retransmit))
            return p->n != 2 ? bad(p, "usage: retransmit N", NULL) : VPN_ERR_MALFORMED;
        return OK;
    }
    return NOT_HERE;
}

/* Inside `aaa group server radius NAME`: server name S. */
static int m_aaa_group(parser *p)
{
    vpn_conf_aaa_group *g = &p->c->aaa_group[p->obj];

    if (!is(p, 0, "server"))
        return NOT_HERE;
    if (p->n != 3 || !is(p, 1, "name"))
        return bad(p, "usage: server name NAME", NULL);
    for (size_t i = 0; i < g->n_server; i++)
        if (strcmp(g->server[i], p->tok[2]) == 0)
            return OK;
    if (g->n_server == VPN_CONF_AAA_GROUP_SERVERS)
        return bad(p, "aaa group server radius %s: more than 8 servers", g->name);
    if (copy_name(p, g->server[g->n_server], p->tok[2]))
        return VPN_ERR_MALFORMED;
    g->n_server++;
    return OK;
}

static int m_global(parser *p)
{
    bool fresh = false;

    if (is(p, 0, "hostname")) {
        if (need(p, 2))
            return VPN_ERR_MALFORMED;
        return copy_name(p, p->c->hostname, p->tok[1]);
    }
    if (is(p, 0, "crypto") && is(p, 1, "ikev2")) {
        if (is(p, 2, "proposal") && p->n == 4) {
            ENTER(proposal, M_PROPOSAL, p->tok[3]);
            if (!fresh && strcmp(p->tok[3], "default") == 0) {
                /* Redefining the default proposal replaces it. */
                vpn_conf_proposal *pr = &p->c->proposal[p->obj];
                pr->n_encr = pr->n_integ = pr->n_prf = pr->n_group = 0;
                pr->line = p->line;
            }
            return OK;
        }
        if (is(p, 2, "policy") && p->n == 4) {
            ENTER(policy, M_POLICY, p->tok[3]);
            if (fresh)
                vpn_conf_copy_name(p->c->policy[p->obj].fvrf, VPN_CONF_NAME_MAX, "any");
            return OK;
        }
        if (is(p, 2, "keyring") && p->n == 4) {
            ENTER(keyring, M_KEYRING, p->tok[3]);
            return OK;
        }
        if (is(p, 2, "profile") && p->n == 4) {
            ENTER(profile, M_PROFILE, p->tok[3]);
            if (fresh) {
                vpn_conf_profile *pr = &p->c->profile[p->obj];
                vpn_conf_copy_name(pr->fvrf, VPN_CONF_NAME_MAX, "any");
                pr->lifetime_s = VPN_CONF_IKE_LIFETIME_S;
            }
            return OK;
        }
        if (is(p, 2, "authorization") && is(p, 3, "policy") && p->n == 5) {
            ENTER(author_policy, M_AUTHOR_POLICY, p->tok[4]);
            return OK;
        }
        if (is(p, 2, "window"))
            return parse_u32(p, 3, 1, 200, &p->c->ikev2_window);
        if (is(p, 2, "cookie-challenge"))
            return parse_u32(p, 3, 1, 1000, &p->c->cookie_challenge);
        if (is(p, 2, "nat") && is(p, 3, "keepalive"))
            return parse_u32(p, 4, 5, 3600, &p->c->nat_keepalive_s);
        if (is(p, 2, "retransmit")) {
            /* RFC 7296 2.1 retransmission of our requests: how often, the
             * first wait, and the cap of the doubling waits */
            uint32_t count = p->c->ikev2_retx_count, tmo = p->c->ikev2_retx_timeout_ms;
            uint32_t max = p->c->ikev2_retx_max_s;
            if (p->n < 5 || (p->n - 3) % 2 != 0)
                return bad(p, "usage: crypto ikev2 retransmit [count N] [timeout MS] [max-timeout S]", NULL);
            for (int i = 3; i + 1 < p->n; i += 2) {
                if (is(p, i, "count")) {
                    if (parse_u32(p, i + 1, 1, 20, &count))
                        return VPN_ERR_MALFORMED;
                } else if (is(p, i, "timeout")) {
                    if (parse_u32(p, i + 1, 100, 10000, &tmo))
                        return VPN_ERR_MALFORMED;
                } else if (is(p, i, "max-timeout")) {
                    if (parse_u32(p, i + 1, 1, 300, &max))
                        return VPN_ERR_MALFORMED;
                } else {
                    return bad(p, "unexpected '%s' (count, timeout or max-timeout)", p->tok[i]);
                }
            }
            if (tmo && max && (uint64_t)max * 1000 < tmo)
                return bad(p, "max-timeout is shorter than timeout", NULL);
            p->c->ikev2_retx_count = count;
            p->c->ikev2_retx_timeout_ms = tmo;
            p->c->ikev2_retx_max_s = max;
            return OK;
        }
        return bad(p, "unknown 'crypto ikev2' command", NULL);
    }
    if (is(p, 0, "crypto") && is(p, 1, "isakmp")) {
        if (is(p, 2, "policy") && p->n == 4) {
            uint32_t prio;
            char name[16];
            if (parse_u32(p, 3, 1, 10000, &prio))
                return VPN_ERR_MALFORMED;
            snprintf(name, sizeof name, "%u", prio);
            ENTER(isakmp_policy, M_ISAKMP_POLICY, name);
            if (fresh) {
                vpn_conf_isakmp_policy *pol = &p->c->isakmp_policy[p->obj];
                pol->priority = prio;
                pol->encr_bits = 128;
                pol->hash = VPN_IKEV1_HASH_SHA1;
                pol->auth = VPN_IKEV1_AUTH_RSA_SIG;
                pol->group = 14;
                pol->lifetime_s = 86400;
            }
            return OK;
        }
        if (is(p, 2, "key"))
            return isakmp_key(p);
        if (is(p, 2, "identity") && is(p, 3, "address") && p->n == 4)
            return OK; /* the IOS default, and the only identity we send */
        return bad(p, "unknown or unsupported 'crypto isakmp' command", NULL);
    }
    if (is(p, 0, "crypto") && is(p, 1, "ipsec")) {
        if (is(p, 2, "transform-set")) {
            vpn_conf_transform_set *t;
            bool have_encr = false, have_integ = false;
            if (need(p, 5))
                return VPN_ERR_MALFORMED;
            ENTER(tset, M_TSET, p->tok[3]);
            t = &p->c->tset[p->obj];
            t->display[0] = 0;
            t->integ = 0;
            t->mode = VPN_CONF_MODE_TUNNEL; /* IOS: tunnel unless "mode transport" */
            for (int i = 4; i < p->n; i++) {
                int rc = tset_transform(p, t, &i, &have_encr, &have_integ);
                if (rc != OK)
                    return rc;
            }
            if (!have_encr)
                return bad(p, "transform-set needs an encryption transform", NULL);
            if (vpn_conf_encr_is_aead(t->encr.id) && have_integ)
                return vpn_conf_fail(p->err, p->line, VPN_ERR_POLICY,
                                     "transform-set %s: %s takes no integrity transform", t->name,
                                     t->encr.id == VPN_ENCR_CHACHA20_POLY1305 ? "esp-chacha20-poly1305" : "esp-gcm");
            if (!vpn_conf_encr_is_aead(t->encr.id) && !have_integ)
                return vpn_conf_fail(p->err, p->line, VPN_ERR_POLICY,
                                     "transform-set %s needs an integrity transform", t->name);
            size_t l = strlen(t->display);
            if (l && t->display[l - 1] == ' ')
                t->display[l - 1] = 0;
            t->line = p->line;
            return OK;
        }
        if (is(p, 2, "profile") && p->n == 4) {
            ENTER(ipsec_profile, M_IPSEC_PROFILE, p->tok[3]);
            if (fresh) {
                vpn_conf_ipsec_profile *ip = &p->c->ipsec_profile[p->obj];
                vpn_conf_copy_name(ip->transform_set[0], VPN_CONF_NAME_MAX, "default");
                ip->n_transform_set = 1;
                ip->lifetime_s = VPN_CONF_IPSEC_LIFETIME_S;
                ip->lifetime_kb = VPN_CONF_IPSEC_LIFETIME_KB;
            }
            return OK;
        }
        return bad(p, "unknown 'crypto ipsec' command", NULL);
    }
    if (is(p, 0, "crypto") && is(p, 1, "gdoi")) {
        if (is(p, 2, "group") && p->n == 4) {
            ENTER(gdoi_group, M_GDOI_GROUP, p->tok[3]);
            if (fresh) {
                vpn_conf_gdoi_group *g = &p->c->gdoi_group[p->obj];
                g->rekey_aes_bits = 256;
                g->rekey_sig_hash = 256;
                g->rekey_lifetime_s = VPN_CONF_GDOI_KEK_LIFETIME_S;
                g->retrans_s = VPN_CONF_GDOI_RETRANS_S;
                g->retrans_n = VPN_CONF_GDOI_RETRANS_N;
                g->max_members = VPN_CONF_GDOI_MAX_MEMBERS;
                g->coop_priority = 1;
            }
            return OK;
        }
        if (is(p, 2, "group") && is(p, 3, "ipv6"))
            return bad(p, "GDOI groups for IPv6 are not supported", NULL);
        return bad(p, "only 'crypto gdoi group NAME' is supported", NULL);
    }
    if (is(p, 0, "crypto") && is(p, 1, "map"))
        return crypto_map_entry(p);
    if (is(p, 0, "crypto") && is(p, 1, "key") && is(p, 2, "generate")) {
        if (!is(p, 3, "rsa"))
            return bad(p, "only 'crypto key generate rsa' is supported", NULL);
        return rsa_keygen(p);
    }
    if (is(p, 0, "crypto") && is(p, 1, "pki")) {
        if (is(p, 2, "trustpoint") && p->n == 4) {
            ENTER(trustpoint, M_TRUSTPOINT, p->tok[3]);
            return OK;
        }
        return bad(p, "only `crypto pki trustpoint NAME` is supported", NULL);
    }
    if (is(p, 0, "ip") && is(p, 1, "local") && is(p, 2, "pool"))
        return ra_ip_pool(p);
    if (is(p, 0, "ipv6") && is(p, 1, "local") && is(p, 2, "pool"))
        return ra_ipv6_pool(p);
    if (is(p, 0, "radius") && is(p, 1, "server"))
        return ra_radius_server(p);
    if (is(p, 0, "username"))
        return ra_username(p);
    if (is(p, 0, "aaa"))
        return ra_aaa(p);
    if (is(p, 0, "ip") && is(p, 1, "access-list") && is(p, 2, "extended") && p->n == 4) {
        ENTER(acl, M_ACL, p->tok[3]);
        if (!fresh && p->c->acl[p->obj].standard)
            return bad(p, "access-list %s is a standard access-list", p->tok[3]);
        return OK;
    }
    if (is(p, 0, "ip") && is(p, 1, "access-list") && is(p, 2, "standard") && p->n == 4) {
        ENTER(acl, M_ACL_STD, p->tok[3]);
        if (!fresh && !p->c->acl[p->obj].standard)
            return bad(p, "access-list %s is an extended access-list", p->tok[3]);
        p->c->acl[p->obj].standard = true;
        return OK;
    }
    if (is(p, 0, "access-list") && p->n >= 3) {
        /* Numbered extended ACL: access-list 100-199 permit ... */
        uint32_t num;
        if (parse_u32(p, 1, 1, 199, &num))
            return VPN_ERR_MALFORMED;
        ENTER(acl, M_GLOBAL, p->tok[1]);
        if (num < 100) {
            /* Numbered standard ACL: access-list 1-99 permit ... */
            p->c->acl[p->obj].standard = true;
            int rs = parse_std_ace(p, 2, &p->c->acl[p->obj]);
            return rs == NOT_HERE ? bad(p, "access-list entry must start with permit or deny", NULL) : rs;
        }
        int rc = parse_ace(p, 2, &p->c->acl[p->obj]);
        return rc == NOT_HERE ? bad(p, "access-list entry must start with permit or deny", NULL) : rc;
    }
    if (is(p, 0, "interface") && p->n >= 2 && strncmp(p->tok[1], "Virtual-Access", 14) == 0)
        return bad(p, "Virtual-Access interfaces are cloned from a Virtual-Template, not configured",
                   NULL);
    if (is(p, 0, "interface") && p->n >= 2 && strncmp(p->tok[1], "Virtual-Template", 16) == 0)
        return virtual_template_line(p);
    if (is(p, 0, "interface") && p->n == 2) {
        ENTER(iface, M_INTERFACE, p->tok[1]);
        if (fresh)
            p->c->iface[p->obj].is_tunnel = strncmp(p->tok[1], "Tunnel", 6) == 0;
        return OK;
    }
    if (is(p, 0, "ip") && is(p, 1, "route")) {
        vpn_conf_route r;
        int used, i = 2;
        uint32_t dist = 1;
        memset(&r, 0, sizeof r);
        r.line = p->line;
        if (parse_addr_mask(p, i, &r.prefix, &used, false))
            return VPN_ERR_MALFORMED;
        i += used;
        if (i >= p->n)
            return bad(p, "ip route needs a next hop or an interface", NULL);
        if (vpn_addr_parse(&r.next_hop, p->tok[i]) != 0) {
            r.via_interface = true;
            if (copy_name(p, r.interface, p->tok[i]))
                return VPN_ERR_MALFORMED;
        }
        i++;
        if (i < p->n && parse_u32(p, i++, 1, 255, &dist))
            return VPN_ERR_MALFORMED;
        if (i != p->n)
            return bad(p, "unexpected '%s'", p->tok[i]);
        r.distance = (uint8_t)dist;
        vpn_conf_route *slot = VPN_CONF_ADD(p->c, route);
        if (slot == NULL)
            return VPN_ERR_NOMEM;
        *slot = r;
        return OK;
    }
    if (is(p, 0, "router")) {
        if (is(p, 1, "rip") && p->n == 2) {
            p->c->rip.enabled = true;
            p->c->rip.version = 2;
            if (p->c->rip.update_s == 0) {
                p->c->rip.update_s = 30;
                p->c->rip.invalid_s = 180;
                p->c->rip.holddown_s = 180;
                p->c->rip.flush_s = 240;
            }
            p->c->rip.line = p->line;
            p->m = M_RIP;
            return OK;
        }
        return bad(p, "only `router rip` is supported (it stands in for EIGRP and OSPF)", NULL);
    }
    if (is(p, 0, "class-map")) {
        int i = 1;
        bool any = false;
        if (is(p, 1, "type"))
            return bad(p, "class-map type %s is not supported (QoS class-maps only)", p->n > 2 ? p->tok[2] : "");
        if (is(p, 1, "match-any") || is(p, 1, "match-all")) {
            any = is(p, 1, "match-any");
            i = 2;
        }
        if (p->n != i + 1)
            return bad(p, "usage: class-map [match-any|match-all] NAME", NULL);
        if (strcmp(p->tok[i], "class-default") == 0)
            return bad(p, "class-default is predefined", NULL);
        ENTER(class_map, M_CLASS_MAP, p->tok[i]);
        if (fresh)
            p->c->class_map[p->obj].match_any = any;
        else if (p->c->class_map[p->obj].match_any != any)
            return bad(p, "class-map %s exists with another match type", p->tok[i]);
        return OK;
    }
    if (is(p, 0, "policy-map")) {
        if (is(p, 1, "type"))
            return bad(p, "policy-map type %s is not supported (QoS policy-maps only)", p->n > 2 ? p->tok[2] : "");
        if (p->n != 2)
            return bad(p, "usage: policy-map NAME", NULL);
        ENTER(policy_map, M_POLICY_MAP, p->tok[1]);
        (void)fresh;
        return OK;
    }
    if (is(p, 0, "end") || is(p, 0, "exit"))
        return OK;
    return NOT_HERE;
}

static int dispatch(parser *p, mode m)
{
    switch (m) {
    case M_GLOBAL: return m_global(p);
    case M_PROPOSAL: return m_proposal(p);
    case M_POLICY: return m_policy(p);
    case M_KEYRING: return m_keyring(p);
    case M_PEER: return m_peer(p);
    case M_PROFILE: return m_profile(p);
    case M_TSET: return m_tset(p);
    case M_IPSEC_PROFILE: return m_ipsec_profile(p);
    case M_ACL: return m_acl(p);
    case M_INTERFACE: return m_interface(p);
    case M_RIP: return m_rip(p);
    case M_ISAKMP_POLICY: return m_isakmp_policy(p);
    case M_TRUSTPOINT: return m_trustpoint(p);
    case M_ACL_STD: return m_acl_std(p);
    case M_GDOI_GROUP: return m_gdoi_group(p);
    case M_GDOI_SERVER: return m_gdoi_server(p);
    case M_GDOI_SA: return m_gdoi_sa(p);
    case M_GDOI_REDUNDANCY: return m_gdoi_redundancy(p);
    case M_CRYPTO_MAP: return m_crypto_map(p);
    case M_CLASS_MAP: return m_class_map(p);
    case M_POLICY_MAP: return m_policy_map(p);
    case M_PM_CLASS: return m_pm_class(p);
    case M_AUTHOR_POLICY: return m_author_policy(p);
    case M_RADIUS_SERVER: return m_radius_server(p);
    case M_AAA_GROUP: return m_aaa_group(p);
    }
    return NOT_HERE;
}

static int do_line(parser *p, char *line)
{
    char *s = line;
    mode first = p->m;
    int rc;

    p->n = 0;
    while (*s) {
        while (*s == ' ' || *s == '\t' || *s == '\r')
            *s++ = '\0';
        if (*s == '\0')
            break;
        if (p->n == MAX_TOKENS)
            return bad(p, "too many words on one line", NULL);
        p->tok[p->n++] = s;
        while (*s && *s != ' ' && *s != '\t' && *s != '\r')
            s++;
    }
    if (p->n == 0 || p->tok[0][0] == '!' || p->tok[0][0] == '#')
        return 0;
    if (is(p, 0, "exit") && p->n == 1) {
        p->m = parent_of(p->m);
        return 0;
    }
    /* Try the current mode, then its ancestors, as IOS does: a command found
     * in a parent mode leaves the child mode. */
    for (mode m = p->m;; m = parent_of(m)) {
        mode saved = p->m;
        p->m = m;
        rc = dispatch(p, m);
        if (rc != NOT_HERE)
            return rc;
        p->m = saved;
        if (m == M_GLOBAL)
            break;
    }
    if (first == M_GLOBAL)
        return vpn_conf_fail(p->err, p->line, VPN_ERR_MALFORMED, "unknown command '%s'", p->tok[0]);
    return vpn_conf_fail(p->err, p->line, VPN_ERR_MALFORMED,
                         "'%s' is not a command of %s mode or of global configuration", p->tok[0],
                         mode_name(first));
}

static int crypto_map_cmp(const void *a, const void *b)
{
    const vpn_conf_crypto_map *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int isakmp_prio_cmp(const void *a, const void *b)
{
    const vpn_conf_isakmp_policy *x = a, *y = b;
    return x->priority < y->priority ? -1 : x->priority > y->priority;
}

/* IOS: a non-AEAD proposal without "prf" uses its integrity algorithms.
 * ISAKMP policies are kept in priority order (IOS offers them so). */
static void finish(vpn_conf *c)
{
    if (c->n_isakmp_policy > 1)
        qsort(c->isakmp_policy, c->n_isakmp_policy, sizeof *c->isakmp_policy, isakmp_prio_cmp);
    if (c->n_crypto_map > 1)
        qsort(c->crypto_map, c->n_crypto_map, sizeof *c->crypto_map, crypto_map_cmp);
    for (size_t i = 0; i < c->n_proposal; i++) {
        vpn_conf_proposal *pr = &c->proposal[i];
        if (pr->n_prf == 0 && pr->n_integ > 0) {
            for (size_t j = 0; j < pr->n_integ; j++) {
                uint16_t prf = pr->integ[j] == VPN_AUTH_HMAC_SHA1_96          ? VPN_PRF_HMAC_SHA1
                               : pr->integ[j] == VPN_AUTH_HMAC_SHA2_256_128   ? VPN_PRF_HMAC_SHA2_256
                               : pr->integ[j] == VPN_AUTH_HMAC_SHA2_384_192   ? VPN_PRF_HMAC_SHA2_384
                                                                              : VPN_PRF_HMAC_SHA2_512;
                pr->prf[pr->n_prf++] = prf;
            }
        }
    }
}

int vpn_conf_parse(const char *text, size_t len, vpn_conf **out, vpn_conf_error *err)
{
    parser p;
    char buf[MAX_LINE + 1];
    size_t pos = 0;
    int rc;

    if (out == NULL || (text == NULL && len))
        return VPN_ERR_INVAL;
    *out = NULL;
    if (err) {
        err->line = 0;
        err->msg[0] = 0;
    }
    memset(&p, 0, sizeof p);
    p.err = err;
    if ((rc = vpn_conf_new(&p.c)) != 0)
        return rc;
    while (pos < len) {
        size_t end = pos;
        while (end < len && text[end] != '\n')
            end++;
        p.line++;
        if (end - pos > MAX_LINE) {
            rc = vpn_conf_fail(err, p.line, VPN_ERR_MALFORMED, "line longer than %d characters", MAX_LINE);
            goto fail;
        }
        memcpy(buf, text + pos, end - pos);
        buf[end - pos] = '\0';
        if (memchr(buf, '\0', end - pos)) {
            rc = vpn_conf_fail(err, p.line, VPN_ERR_MALFORMED, "NUL byte in configuration");
            goto fail;
        }
        if ((rc = do_line(&p, buf)) != 0)
            goto fail;
        pos = end + 1;
    }
    finish(p.c);
    if ((rc = vpn_conf_validate(p.c, err)) != 0)
        goto fail;
    *out = p.c;
    return 0;
fail:
    vpn_conf_del(p.c);
    return rc;
}
