/* Policy objects: defaults, lookups, reference checks and matching rules. */
#include "conf/conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/vpn-err.h"
#include "conf/conf-internal.h"
#include "crypto/crypto-ids.h"

void *vpn_conf_grow(void **arr, size_t *n, size_t *cap, size_t elem)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4;
        void *p = realloc(*arr, ncap * elem);
        if (p == NULL)
            return NULL;
        *arr = p;
        *cap = ncap;
    }
    void *slot = (char *)*arr + *n * elem;
    memset(slot, 0, elem);
    (*n)++;
    return slot;
}

void vpn_conf_copy_name(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src);
}

/*
 * Built-in defaults, after IOS smart defaults (see the README):
 * - proposal "default": AES-CBC-256; SHA-512, SHA-384 integrity and PRF;
 *   groups 19, 14, 21 (IOS XE 16/17 minus the 1536-bit MODP group 5);
 * - policy "default": any local address, proposal default;
 * - transform-set "default": esp-aes esp-sha-hmac, transport mode (IOS
 *   offers transport and accepts tunnel);
 * - ipsec profile "default": transform-set default, 3600 s / 4608000 KB,
 *   no PFS, no ikev2 profile (set ikev2-profile is needed).
 */
static int add_defaults(vpn_conf *c)
{
    vpn_conf_proposal *p = VPN_CONF_ADD(c, proposal);
    vpn_conf_policy *pol;
    vpn_conf_transform_set *t;
    vpn_conf_ipsec_profile *ip;

    if (p == NULL)
        return VPN_ERR_NOMEM;
    vpn_conf_copy_name(p->name, sizeof p->name, "default");
    p->encr[p->n_encr++] = (vpn_conf_encr){VPN_ENCR_AES_CBC, 256};
    p->integ[p->n_integ++] = VPN_AUTH_HMAC_SHA2_512_256;
    p->integ[p->n_integ++] = VPN_AUTH_HMAC_SHA2_384_192;
    p->prf[p->n_prf++] = VPN_PRF_HMAC_SHA2_512;
    p->prf[p->n_prf++] = VPN_PRF_HMAC_SHA2_384;
    p->group[p->n_group++] = VPN_DH_ECP_256;
    p->group[p->n_group++] = VPN_DH_MODP_2048;
    p->group[p->n_group++] = VPN_DH_ECP_521;

    if ((pol = VPN_CONF_ADD(c, policy)) == NULL)
        return VPN_ERR_NOMEM;
    vpn_conf_copy_name(pol->name, sizeof pol->name, "default");
    vpn_conf_copy_name(pol->fvrf, sizeof pol->fvrf, "any");
    vpn_conf_copy_name(pol->proposal[pol->n_proposal++], VPN_CONF_NAME_MAX, "default");

    if ((t = VPN_CONF_ADD(c, tset)) == NULL)
        return VPN_ERR_NOMEM;
    vpn_conf_copy_name(t->name, sizeof t->name, "default");
    t->encr = (vpn_conf_encr){VPN_ENCR_AES_CBC, 128};
    t->integ = VPN_AUTH_HMAC_SHA1_96;
    t->mode = VPN_CONF_MODE_TRANSPORT;
    vpn_conf_copy_name(t->display, sizeof t->display, "esp-aes esp-sha-hmac");

    if ((ip = VPN_CONF_ADD(c, ipsec_profile)) == NULL)
        return VPN_ERR_NOMEM;
    vpn_conf_copy_name(ip->name, sizeof ip->name, "default");
    vpn_conf_copy_name(ip->transform_set[ip->n_transform_set++], VPN_CONF_NAME_MAX, "default");
    ip->lifetime_s = VPN_CONF_IPSEC_LIFETIME_S;
    ip->lifetime_kb = VPN_CONF_IPSEC_LIFETIME_KB;
    return 0;
}

int vpn_conf_new(vpn_conf **out)
{
    vpn_conf *c = calloc(1, sizeof *c);
    int rc;

    *out = NULL;
    if (c == NULL)
        return VPN_ERR_NOMEM;
    c->ikev2_window = VPN_CONF_WINDOW;
    if ((rc = add_defaults(c)) != 0) {
        vpn_conf_del(c);
        return rc;
    }
    *out = c;
    return 0;
}

void vpn_conf_del(vpn_conf *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n_keyring; i++) {
        if (c->keyring[i].peer)
            OPENSSL_cleanse(c->keyring[i].peer, c->keyring[i].n_peer * sizeof(vpn_conf_peer));
        free(c->keyring[i].peer);
    }
    for (size_t i = 0; i < c->n_acl; i++)
        free(c->acl[i].ace);
    if (c->profile)
        OPENSSL_cleanse(c->profile, c->n_profile * sizeof(vpn_conf_profile));
    free(c->proposal);
    free(c->policy);
    free(c->keyring);
    free(c->profile);
    free(c->tset);
    free(c->ipsec_profile);
    free(c->acl);
    free(c->iface);
    free(c->route);
    if (c->isakmp_key)
        OPENSSL_cleanse(c->isakmp_key, c->n_isakmp_key * sizeof(vpn_conf_isakmp_key));
    free(c->isakmp_key);
    free(c->isakmp_policy);
    free(c->trustpoint);
    free(c->gdoi_group);
    free(c->crypto_map);
    free(c->rsa_key);
    free(c->class_map);
    free(c->policy_map);
    /* remote access */
    if (c->user)
        OPENSSL_cleanse(c->user, c->n_user * sizeof(vpn_conf_user));
    free(c->user);
    free(c->ip_pool);
    free(c->ipv6_pool);
    free(c->author_policy);
    free(c->aaa_list);
    if (c->radius_server)
        OPENSSL_cleanse(c->radius_server, c->n_radius_server * sizeof(vpn_conf_radius_server));
    free(c->radius_server);
    free(c->aaa_group);
    free(c);
}

#define FIND(fn, type, arr)                                              \
    const type *fn(const vpn_conf *c, const char *name)                  \
    {                                                                    \
        for (size_t i = 0; c && name && i < c->n_##arr; i++)             \
            if (strcmp(c->arr[i].name, name) == 0)                       \
                return &c->arr[i];                                       \
        return NULL;                                                     \
    }

FIND(vpn_conf_find_proposal, vpn_conf_proposal, proposal)
FIND(vpn_conf_find_policy, vpn_conf_policy, policy)
FIND(vpn_conf_find_keyring, vpn_conf_keyring, keyring)
FIND(vpn_conf_find_profile, vpn_conf_profile, profile)
FIND(vpn_conf_find_transform_set, vpn_conf_transform_set, tset)
FIND(vpn_conf_find_ipsec_profile, vpn_conf_ipsec_profile, ipsec_profile)
FIND(vpn_conf_find_trustpoint, vpn_conf_trustpoint, trustpoint)
FIND(vpn_conf_find_acl, vpn_conf_acl, acl)
FIND(vpn_conf_find_interface, vpn_conf_interface, iface)
FIND(vpn_conf_find_gdoi_group, vpn_conf_gdoi_group, gdoi_group)
FIND(vpn_conf_find_rsa_key, vpn_conf_rsa_key, rsa_key)
FIND(vpn_conf_find_crypto_map, vpn_conf_crypto_map, crypto_map)
FIND(vpn_conf_find_class_map, vpn_conf_class_map, class_map)
FIND(vpn_conf_find_policy_map, vpn_conf_policy_map, policy_map)
FIND(vpn_conf_find_ip_pool, vpn_conf_ip_pool, ip_pool)
FIND(vpn_conf_find_ipv6_pool, vpn_conf_ipv6_pool, ipv6_pool)
FIND(vpn_conf_find_user, vpn_conf_user, user)
FIND(vpn_conf_find_author_policy, vpn_conf_author_policy, author_policy)
FIND(vpn_conf_find_aaa_list, vpn_conf_aaa_list, aaa_list)
FIND(vpn_conf_find_radius_server, vpn_conf_radius_server, radius_server)
FIND(vpn_conf_find_aaa_group, vpn_conf_aaa_group, aaa_group)

size_t vpn_conf_eap_radius_servers(const vpn_conf *c, const vpn_conf_profile *pr,
                                   const vpn_conf_radius_server **out, size_t max)
{
    const vpn_conf_aaa_list *l;
    const vpn_conf_aaa_group *g;
    size_t n = 0;

    if (c == NULL || pr == NULL || !pr->aaa_authen_eap_list[0] ||
        (l = vpn_conf_find_aaa_list(c, pr->aaa_authen_eap_list)) == NULL || l->local || !l->group[0])
        return 0;
    if (strcmp(l->group, "radius") == 0 && vpn_conf_find_aaa_group(c, "radius") == NULL) {
        for (size_t i = 0; i < c->n_radius_server && n < max; i++)
            out[n++] = &c->radius_server[i];
        return n;
    }
    if ((g = vpn_conf_find_aaa_group(c, l->group)) == NULL)
        return 0;
    for (size_t i = 0; i < g->n_server && n < max; i++) {
        const vpn_conf_radius_server *s = vpn_conf_find_radius_server(c, g->server[i]);
        if (s != NULL)
            out[n++] = s;
    }
    return n;
}

int vpn_conf_fail(vpn_conf_error *err, int line, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->line = line;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

bool vpn_conf_encr_is_aead(uint16_t id)
{
    return id == VPN_ENCR_AES_GCM_8 || id == VPN_ENCR_AES_GCM_12 || id == VPN_ENCR_AES_GCM_16 ||
           id == VPN_ENCR_CHACHA20_POLY1305;
}

static int check_proposal(const vpn_conf_proposal *p, vpn_conf_error *err)
{
    size_t aead = 0;

    for (size_t i = 0; i < p->n_encr; i++)
        aead += vpn_conf_encr_is_aead(p->encr[i].id);
    if (p->n_encr == 0)
        return vpn_conf_fail(err, p->line, VPN_ERR_POLICY, "ikev2 proposal %s has no encryption", p->name);
    if (p->n_group == 0)
        return vpn_conf_fail(err, p->line, VPN_ERR_POLICY, "ikev2 proposal %s has no group", p->name);
    /* RFC 7296 3.3: AEAD and non-AEAD ciphers cannot share a proposal, and an
     * AEAD proposal carries no integrity transform (IOS rejects it too). */
    if (aead && aead != p->n_encr)
        return vpn_conf_fail(err, p->line, VPN_ERR_POLICY,
                             "ikev2 proposal %s mixes AEAD and non-AEAD encryption", p->name);
    if (aead && p->n_integ)
        return vpn_conf_fail(err, p->line, VPN_ERR_POLICY,
                             "ikev2 proposal %s: AEAD encryption takes no integrity", p->name);
    if (aead && p->n_prf == 0)
        return vpn_conf_fail(err, p->line, VPN_ERR_POLICY,
                             "ikev2 proposal %s: AEAD encryption needs a prf", p->name);
    if (!aead && p->n_integ == 0)
        return vpn_conf_fail(err, p->line, VPN_ERR_POLICY, "ikev2 proposal %s has no integrity",
                             p->name);
    return 0;
}

static bool auth_uses_psk(vpn_conf_auth a) { return a == VPN_CONF_AUTH_PSK; }

/* GET VPN references: ACLs, profiles, groups and maps must exist; a group
 * is a key server or a member, not both. Errors name the referring line. */
static int check_gdoi(const vpn_conf *c, vpn_conf_error *err)
{
    for (size_t i = 0; i < c->n_gdoi_group; i++) {
        const vpn_conf_gdoi_group *g = &c->gdoi_group[i];
        if (!g->has_identity)
            return vpn_conf_fail(err, g->line, VPN_ERR_POLICY,
                                 "crypto gdoi group %s has no 'identity number'", g->name);
        if (g->server_local && g->n_server)
            return vpn_conf_fail(err, g->server_line, VPN_ERR_POLICY,
                                 "crypto gdoi group %s: 'server address ipv4' and 'server local' "
                                 "cannot both be configured",
                                 g->name);
        if (g->rekey_acl[0] && !vpn_conf_find_acl(c, g->rekey_acl))
            return vpn_conf_fail(err, g->rekey_acl_line, VPN_ERR_NOTFOUND,
                                 "crypto gdoi group %s: rekey address ACL %s is not defined", g->name,
                                 g->rekey_acl);
        if (g->auth_acl[0] && !vpn_conf_find_acl(c, g->auth_acl))
            return vpn_conf_fail(err, g->auth_acl_line, VPN_ERR_NOTFOUND,
                                 "crypto gdoi group %s: authorization ACL %s is not defined", g->name,
                                 g->auth_acl);
        if (g->sa_acl[0] && !vpn_conf_find_acl(c, g->sa_acl))
            return vpn_conf_fail(err, g->sa_acl_line, VPN_ERR_NOTFOUND,
                                 "crypto gdoi group %s: sa ipsec %u match address ACL %s is not defined",
                                 g->name, g->sa_num, g->sa_acl);
        if (g->sa_profile[0] && !vpn_conf_find_ipsec_profile(c, g->sa_profile))
            return vpn_conf_fail(err, g->sa_profile_line, VPN_ERR_NOTFOUND,
                                 "crypto gdoi group %s: sa ipsec %u profile %s is not defined", g->name,
                                 g->sa_num, g->sa_profile);
        if (g->reg_iface[0] && !vpn_conf_find_interface(c, g->reg_iface))
            return vpn_conf_fail(err, g->reg_iface_line, VPN_ERR_NOTFOUND,
                                 "crypto gdoi group %s: client registration interface %s is not configured",
                                 g->name, g->reg_iface);
        for (size_t j = 0; j < i; j++)
            if (c->gdoi_group[j].identity == g->identity)
                return vpn_conf_fail(err, g->line, VPN_ERR_POLICY,
                                     "crypto gdoi group %s: identity number %u is already group %s's",
                                     g->name, g->identity, c->gdoi_group[j].name);
    }
    for (size_t i = 0; i < c->n_crypto_map; i++) {
        const vpn_conf_crypto_map *m = &c->crypto_map[i];
        if (!m->group[0])
            return vpn_conf_fail(err, m->line, VPN_ERR_POLICY, "crypto map %s %u gdoi has no 'set group'",
                                 m->name, m->seq);
        if (!vpn_conf_find_gdoi_group(c, m->group))
            return vpn_conf_fail(err, m->group_line, VPN_ERR_NOTFOUND,
                                 "crypto map %s %u: gdoi group %s is not defined", m->name, m->seq, m->group);
        if (m->acl[0]) {
            const vpn_conf_acl *a = vpn_conf_find_acl(c, m->acl);
            if (!a)
                return vpn_conf_fail(err, m->acl_line, VPN_ERR_NOTFOUND,
                                     "crypto map %s %u: match address ACL %s is not defined", m->name,
                                     m->seq, m->acl);
            /* IOS: a member's local ACL only takes traffic out of the
             * group's policy; what to encrypt is the key server's */
            for (size_t k = 0; k < a->n_ace; k++)
                if (a->ace[k].permit)
                    return vpn_conf_fail(err, a->ace[k].line, VPN_ERR_POLICY,
                                         "ACL %s: crypto map %s %u (gdoi) takes deny entries only; "
                                         "the key server's policy says what to encrypt",
                                         a->name, m->name, m->seq);
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(c->crypto_map[j].name, m->name) == 0 &&
                strcmp(c->crypto_map[j].group, m->group) == 0)
                return vpn_conf_fail(err, m->group_line, VPN_ERR_POLICY,
                                     "crypto map %s %u: group %s is already entry %u's", m->name,
                                     m->seq, m->group, c->crypto_map[j].seq);
    }
    for (size_t i = 0; i < c->n_iface; i++) {
        const vpn_conf_interface *f = &c->iface[i];
        if (f->crypto_map[0] && !vpn_conf_find_crypto_map(c, f->crypto_map))
            return vpn_conf_fail(err, f->crypto_map_line, VPN_ERR_NOTFOUND,
                                 "interface %s: crypto map %s is not defined", f->name, f->crypto_map);
    }
    return 0;
}

/* Remote access: authorization policies name pools and ACLs that exist;
 * pools do not overlap (an address would be handed out twice). */
static int check_remote_access(const vpn_conf *c, vpn_conf_error *err)
{
    for (size_t i = 0; i < c->n_author_policy; i++) {
        const vpn_conf_author_policy *a = &c->author_policy[i];
        if (a->pool[0] && !vpn_conf_find_ip_pool(c, a->pool))
            return vpn_conf_fail(err, a->line, VPN_ERR_NOTFOUND,
                                 "authorization policy %s: ip local pool %s is not defined", a->name, a->pool);
        if (a->pool6[0] && !vpn_conf_find_ipv6_pool(c, a->pool6))
            return vpn_conf_fail(err, a->line, VPN_ERR_NOTFOUND,
                                 "authorization policy %s: ipv6 local pool %s is not defined", a->name, a->pool6);
        if (a->route_acl[0] && !vpn_conf_find_acl(c, a->route_acl))
            return vpn_conf_fail(err, a->line, VPN_ERR_NOTFOUND,
                                 "authorization policy %s: access-list %s is not defined", a->name, a->route_acl);
        for (size_t j = 0; j < a->n_route_iface; j++)
            if (!vpn_conf_find_interface(c, a->route_iface[j]))
                return vpn_conf_fail(err, a->line, VPN_ERR_NOTFOUND,
                                     "authorization policy %s: interface %s is not configured", a->name,
                                     a->route_iface[j]);
    }
    /* RADIUS: servers complete, groups and method lists name what exists */
    for (size_t i = 0; i < c->n_radius_server; i++) {
        const vpn_conf_radius_server *r = &c->radius_server[i];
        if (r->addr.family == VPN_AF_NONE)
            return vpn_conf_fail(err, r->line, VPN_ERR_POLICY, "radius server %s has no address", r->name);
        if (!r->key[0])
            return vpn_conf_fail(err, r->line, VPN_ERR_POLICY, "radius server %s has no key", r->name);
    }
    for (size_t i = 0; i < c->n_aaa_group; i++) {
        const vpn_conf_aaa_group *g = &c->aaa_group[i];
        if (g->n_server == 0)
            return vpn_conf_fail(err, g->line, VPN_ERR_POLICY, "aaa group server radius %s has no server", g->name);
        for (size_t j = 0; j < g->n_server; j++)
            if (!vpn_conf_find_radius_server(c, g->server[j]))
                return vpn_conf_fail(err, g->line, VPN_ERR_NOTFOUND,
                                     "aaa group server radius %s: radius server %s is not defined", g->name,
                                     g->server[j]);
    }
    for (size_t i = 0; i < c->n_aaa_list; i++) {
        const vpn_conf_aaa_list *l = &c->aaa_list[i];
        if (l->local || !l->group[0] || vpn_conf_find_aaa_group(c, l->group))
            continue;
        if (strcmp(l->group, "radius") != 0)
            return vpn_conf_fail(err, l->line, VPN_ERR_NOTFOUND, "aaa list %s: group %s is not defined", l->name,
                                 l->group);
        if (l->kind == VPN_CONF_AAA_AUTHEN_EAP && c->n_radius_server == 0)
            return vpn_conf_fail(err, l->line, VPN_ERR_NOTFOUND, "aaa list %s: group radius but no radius server",
                                 l->name);
    }
    for (size_t i = 0; i < c->n_profile; i++) {
        const vpn_conf_profile *pr = &c->profile[i];
        const vpn_conf_aaa_list *l;
        if (!pr->aaa_authen_eap_list[0])
            continue;
        if ((l = vpn_conf_find_aaa_list(c, pr->aaa_authen_eap_list)) == NULL ||
            l->kind != VPN_CONF_AAA_AUTHEN_EAP)
            return vpn_conf_fail(err, pr->line, VPN_ERR_NOTFOUND,
                                 "ikev2 profile %s: aaa authentication eap %s is not defined", pr->name,
                                 pr->aaa_authen_eap_list);
    }
    for (size_t i = 0; i < c->n_ip_pool; i++)
        for (size_t j = i + 1; j < c->n_ip_pool; j++) {
            const vpn_conf_ip_pool *x = &c->ip_pool[i], *y = &c->ip_pool[j];
            if (vpn_addr_v4_u32(&x->first) <= vpn_addr_v4_u32(&y->last) &&
                vpn_addr_v4_u32(&y->first) <= vpn_addr_v4_u32(&x->last))
                return vpn_conf_fail(err, y->line, VPN_ERR_POLICY, "ip local pool %s overlaps pool %s", y->name,
                                     x->name);
        }
    for (size_t i = 0; i < c->n_ipv6_pool; i++)
        for (size_t j = i + 1; j < c->n_ipv6_pool; j++) {
            const vpn_conf_ipv6_pool *x = &c->ipv6_pool[i], *y = &c->ipv6_pool[j];
            /* two prefixes overlap exactly when one holds the other */
            if (vpn_prefix_contains(&x->prefix, &y->prefix.addr) || vpn_prefix_contains(&y->prefix, &x->prefix.addr))
                return vpn_conf_fail(err, y->line, VPN_ERR_POLICY, "ipv6 local pool %s overlaps pool %s", y->name,
                                     x->name);
        }
    return 0;
}

/* interface Virtual-Template n, if configured. */
static const vpn_conf_interface *find_virtual_template(const vpn_conf *c, uint32_t n)
{
    for (size_t i = 0; i < c->n_iface; i++)
        if (c->iface[i].is_virtual_template && c->iface[i].vt_number == n)
            return &c->iface[i];
    return NULL;
}

int vpn_conf_validate(const vpn_conf *c, vpn_conf_error *err)
{
    int rc;

    for (size_t i = 0; i < c->n_proposal; i++)
        if ((rc = check_proposal(&c->proposal[i], err)) != 0)
            return rc;
    for (size_t i = 0; i < c->n_policy; i++) {
        const vpn_conf_policy *p = &c->policy[i];
        if (p->n_proposal == 0)
            return vpn_conf_fail(err, p->line, VPN_ERR_POLICY, "ikev2 policy %s has no proposal", p->name);
        for (size_t j = 0; j < p->n_proposal; j++)
            if (!vpn_conf_find_proposal(c, p->proposal[j]))
                return vpn_conf_fail(err, p->line, VPN_ERR_NOTFOUND,
                                     "ikev2 policy %s: proposal %s is not defined", p->name, p->proposal[j]);
    }
    for (size_t i = 0; i < c->n_keyring; i++) {
        const vpn_conf_keyring *k = &c->keyring[i];
        for (size_t j = 0; j < k->n_peer; j++) {
            const vpn_conf_peer *pe = &k->peer[j];
            if (!pe->has_address && pe->identity.type == VPN_CONF_ID_NONE)
                return vpn_conf_fail(err, pe->line, VPN_ERR_POLICY,
                                     "keyring %s peer %s has neither address nor identity", k->name, pe->name);
        }
    }
    for (size_t i = 0; i < c->n_profile; i++) {
        const vpn_conf_profile *p = &c->profile[i];
        bool psk = auth_uses_psk(p->auth_local);
        for (size_t j = 0; j < p->n_auth_remote; j++)
            psk = psk || auth_uses_psk(p->auth_remote[j]);
        if (p->n_match_remote == 0)
            return vpn_conf_fail(err, p->line, VPN_ERR_POLICY,
                                 "ikev2 profile %s has no 'match identity remote'", p->name);
        if (p->auth_local == VPN_CONF_AUTH_NONE || p->n_auth_remote == 0)
            return vpn_conf_fail(err, p->line, VPN_ERR_POLICY,
                                 "ikev2 profile %s needs both 'authentication local' and 'authentication remote'",
                                 p->name);
        /* A remote-access client authenticates itself with EAP (RFC 7296
         * 2.16) and needs the credentials to do it. */
        if (p->auth_local == VPN_CONF_AUTH_EAP && !p->eap_username[0])
            return vpn_conf_fail(err, p->line, VPN_ERR_POLICY,
                                 "ikev2 profile %s: 'authentication local eap' needs a username and password",
                                 p->name);
        if (p->aaa_author_policy[0] && strcmp(p->aaa_author_policy, "default") != 0 &&
            !vpn_conf_find_author_policy(c, p->aaa_author_policy))
            return vpn_conf_fail(err, p->line, VPN_ERR_NOTFOUND,
                                 "ikev2 profile %s: authorization policy %s is not defined", p->name,
                                 p->aaa_author_policy);
        if (p->aaa_author_psk_policy[0] && strcmp(p->aaa_author_psk_policy, "default") != 0 &&
            !vpn_conf_find_author_policy(c, p->aaa_author_psk_policy))
            return vpn_conf_fail(err, p->line, VPN_ERR_NOTFOUND,
                                 "ikev2 profile %s: authorization policy %s is not defined", p->name,
                                 p->aaa_author_psk_policy);
        if (p->keyring[0] && !vpn_conf_find_keyring(c, p->keyring))
            return vpn_conf_fail(err, p->line, VPN_ERR_NOTFOUND,
                                 "ikev2 profile %s: keyring %s is not defined", p->name, p->keyring);
        /* Without a keyring each side that uses a PSK needs its own key
         * (a remote-access hub: local pre-share, remote EAP). */
        bool remote_psk = false;
        for (size_t j = 0; j < p->n_auth_remote; j++)
            remote_psk = remote_psk || auth_uses_psk(p->auth_remote[j]);
        if (psk && !p->keyring[0] &&
            ((auth_uses_psk(p->auth_local) && !p->auth_local_key[0]) || (remote_psk && !p->auth_remote_key[0])))
            return vpn_conf_fail(err, p->line, VPN_ERR_POLICY,
                                 "ikev2 profile %s uses pre-share but has no keyring or keys", p->name);
        if ((p->auth_local == VPN_CONF_AUTH_RSA_SIG || p->auth_local == VPN_CONF_AUTH_ECDSA_SIG) &&
            p->n_trustpoint == 0)
            return vpn_conf_fail(err, p->line, VPN_ERR_POLICY,
                                 "ikev2 profile %s signs but has no 'pki trustpoint'", p->name);
    }
    for (size_t i = 0; i < c->n_trustpoint; i++) {
        const vpn_conf_trustpoint *t = &c->trustpoint[i];
        if (!t->cert_file[0] != !t->key_file[0])
            return vpn_conf_fail(err, t->line, VPN_ERR_POLICY,
                                 "trustpoint %s needs both 'certificate file' and 'private-key file' (or neither)",
                                 t->name);
    }
    for (size_t i = 0; i < c->n_ipsec_profile; i++) {
        const vpn_conf_ipsec_profile *p = &c->ipsec_profile[i];
        for (size_t j = 0; j < p->n_transform_set; j++)
            if (!vpn_conf_find_transform_set(c, p->transform_set[j]))
                return vpn_conf_fail(err, p->line, VPN_ERR_NOTFOUND,
                                     "ipsec profile %s: transform-set %s is not defined", p->name,
                                     p->transform_set[j]);
        if (p->ikev2_profile[0] && !vpn_conf_find_profile(c, p->ikev2_profile))
            return vpn_conf_fail(err, p->line, VPN_ERR_NOTFOUND,
                                 "ipsec profile %s: ikev2 profile %s is not defined", p->name, p->ikev2_profile);
    }
    for (size_t i = 0; i < c->n_iface; i++) {
        const vpn_conf_interface *f = &c->iface[i];
        if (f->protection[0]) {
            const vpn_conf_ipsec_profile *ip = vpn_conf_find_ipsec_profile(c, f->protection);
            if (ip == NULL)
                return vpn_conf_fail(err, f->line, VPN_ERR_NOTFOUND,
                                     "interface %s: ipsec profile %s is not defined", f->name, f->protection);
            if (!ip->ikev2_profile[0])
                return vpn_conf_fail(err, f->line, VPN_ERR_POLICY,
                                     "interface %s: ipsec profile %s has no ikev2 profile (set ikev2-profile)",
                                     f->name, f->protection);
        }
        if (f->tunnel_source_if[0] && !vpn_conf_find_interface(c, f->tunnel_source_if))
            return vpn_conf_fail(err, f->line, VPN_ERR_NOTFOUND,
                                 "interface %s: tunnel source %s is not a configured interface", f->name,
                                 f->tunnel_source_if);
        if (f->unnumbered && !vpn_conf_find_interface(c, f->unnumbered_if))
            return vpn_conf_fail(err, f->line, VPN_ERR_NOTFOUND,
                                 "interface %s: ip unnumbered %s is not a configured interface", f->name,
                                 f->unnumbered_if);
        if (f->nhrp.shortcut_vt && !find_virtual_template(c, f->nhrp.shortcut_vt))
            return vpn_conf_fail(err, f->nhrp.shortcut_line, VPN_ERR_NOTFOUND,
                                 "interface %s: ip nhrp shortcut virtual-template %u: no interface "
                                 "Virtual-Template%u",
                                 f->name, (unsigned)f->nhrp.shortcut_vt, (unsigned)f->nhrp.shortcut_vt);
        if (f->is_tunnel && !f->is_virtual_template && f->tunnel_mode != VPN_CONF_TUNNEL_GRE_MULTIPOINT &&
            f->protection[0] && !f->has_tunnel_destination)
            return vpn_conf_fail(err, f->line, VPN_ERR_POLICY,
                                 "interface %s is protected but has no tunnel destination", f->name);
    }
    if ((rc = check_gdoi(c, err)) != 0)
        return rc;
    for (size_t i = 0; i < c->rip.n_passive; i++)
        if (!vpn_conf_find_interface(c, c->rip.passive[i]))
            return vpn_conf_fail(err, c->rip.line, VPN_ERR_NOTFOUND,
                                 "router rip: passive-interface %s is not configured", c->rip.passive[i]);
    for (size_t i = 0; i < c->n_route; i++) {
        const vpn_conf_route *r = &c->route[i];
        if (r->via_interface && !vpn_conf_find_interface(c, r->interface))
            return vpn_conf_fail(err, r->line, VPN_ERR_NOTFOUND,
                                 "ip route: interface %s is not configured", r->interface);
    }
    if ((rc = vpn_conf_validate_qos(c, err)) != 0)
        return rc;
    if ((rc = check_remote_access(c, err)) != 0)
        return rc;
    return 0;
}

/* Case-insensitive suffix match on a label boundary: "example.com" matches
 * "hub.example.com" and "example.com" but not "badexample.com". */
static bool domain_match(const char *value, const char *domain)
{
    size_t lv = strlen(value), ld = strlen(domain);
    if (ld > lv)
        return false;
    for (size_t i = 0; i < ld; i++) {
        char a = value[lv - ld + i], b = domain[i];
        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z')
            b = (char)(b - 'A' + 'a');
        if (a != b)
            return false;
    }
    if (lv == ld)
        return true;
    char sep = value[lv - ld - 1];
    return sep == '.' || sep == '@' || domain[0] == '.';
}

static bool str_ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        char y = *b >= 'A' && *b <= 'Z' ? (char)(*b - 'A' + 'a') : *b;
        if (x != y)
            return false;
    }
    return *a == *b;
}

static bool identity_matches(const vpn_conf_identity *rule, const vpn_conf_identity *id)
{
    if (rule->type == VPN_CONF_ID_ANY)
        return true;
    if (id == NULL || rule->type != id->type)
        return false;
    switch (rule->type) {
    case VPN_CONF_ID_ADDRESS:
        return vpn_prefix_contains(&rule->addr, &id->addr.addr);
    case VPN_CONF_ID_FQDN:
    case VPN_CONF_ID_EMAIL:
        return rule->domain ? domain_match(id->value, rule->value) : str_ieq(rule->value, id->value);
    case VPN_CONF_ID_KEY_ID:
    case VPN_CONF_ID_DN:
        return strcmp(rule->value, id->value) == 0;
    default:
        return false;
    }
}

bool vpn_conf_profile_matches(const vpn_conf_profile *p, const vpn_conf_identity *id)
{
    for (size_t i = 0; i < p->n_match_remote; i++)
        if (identity_matches(&p->match_remote[i], id))
            return true;
    return false;
}

const vpn_conf_peer *vpn_conf_keyring_match(const vpn_conf_keyring *k, const vpn_addr *addr,
                                            const vpn_conf_identity *id)
{
    const vpn_conf_peer *best = NULL;

    if (k == NULL)
        return NULL;
    if (id) {
        for (size_t i = 0; i < k->n_peer; i++)
            if (k->peer[i].identity.type != VPN_CONF_ID_NONE && identity_matches(&k->peer[i].identity, id))
                return &k->peer[i];
    }
    for (size_t i = 0; addr && i < k->n_peer; i++) {
        const vpn_conf_peer *p = &k->peer[i];
        if (p->has_address && vpn_prefix_contains(&p->address, addr) &&
            (best == NULL || p->address.len > best->address.len))
            best = p;
    }
    return best;
}

const char *vpn_conf_auth_name(vpn_conf_auth a)
{
    switch (a) {
    case VPN_CONF_AUTH_PSK: return "PSK";
    case VPN_CONF_AUTH_RSA_SIG: return "RSA";
    case VPN_CONF_AUTH_ECDSA_SIG: return "ECDSA";
    case VPN_CONF_AUTH_EAP: return "EAP";
    case VPN_CONF_AUTH_NONE: break;
    }
    return "none";
}

const vpn_conf_isakmp_key *vpn_conf_isakmp_key_match(const vpn_conf *c, const vpn_addr *addr)
{
    const vpn_conf_isakmp_key *best = NULL;

    for (size_t i = 0; c && addr && i < c->n_isakmp_key; i++) {
        const vpn_conf_isakmp_key *k = &c->isakmp_key[i];
        if (vpn_prefix_contains(&k->address, addr) &&
            (best == NULL || k->address.len > best->address.len))
            best = k;
    }
    return best;
}
