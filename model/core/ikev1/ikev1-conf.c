#include <string.h>

#include "common/vpn-err.h"
#include "ikev1/ikev1-conf.h"
#include "isakmp/isakmp-const.h"

int vpn_ikev1_cfg_from_conf(const vpn_conf *c, const vpn_addr *local, const vpn_addr *peer,
                            vpn_ikev1_suite suites[VPN_IKEV1_SUITES_MAX], vpn_ikev1_cfg *cfg)
{
    const vpn_conf_isakmp_key *key;
    size_t n = 0;

    if (!c || !local || !peer || !suites || !cfg)
        return VPN_ERR_INVAL;
    if (c->n_isakmp_policy == 0)
        return VPN_ERR_NOTFOUND;
    key = vpn_conf_isakmp_key_match(c, peer);
    /* Policies are sorted by priority once parsed (conf-parse.c). */
    for (size_t i = 0; i < c->n_isakmp_policy && n < VPN_IKEV1_SUITES_MAX; i++) {
        const vpn_conf_isakmp_policy *pol = &c->isakmp_policy[i];
        if (pol->auth == VPN_IKEV1_AUTH_PSK && key == NULL)
            continue;
        if (pol->auth == VPN_IKEV1_AUTH_RSA_SIG && cfg->key == NULL)
            continue;
        suites[n].encr = VPN_IKEV1_ENCR_AES_CBC; /* the conf layer takes AES only */
        suites[n].encr_key_bits = pol->encr_bits;
        suites[n].hash = pol->hash;
        suites[n].group = pol->group;
        suites[n].auth = pol->auth;
        suites[n].lifetime_s = pol->lifetime_s;
        n++;
    }
    if (n == 0)
        return VPN_ERR_AUTH;
    cfg->suites = suites;
    cfg->n_suites = n;
    if (key) {
        cfg->psk = (const uint8_t *)key->key;
        cfg->psk_len = strlen(key->key);
    }
    cfg->local_id = *local;
    return 0;
}
