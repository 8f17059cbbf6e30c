/*
 * libFuzzer target for the IOS configuration parser: any text either parses
 * into a valid configuration (which the show views must render) or fails
 * with an error naming a line, without leaking or crashing.
 */
#include <stdint.h>
#include <stdlib.h>

#include "conf/conf.h"
#include "gdoi/gdoi-conf.h"
#include "show/show.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vpn_conf *c = NULL;
    vpn_conf_error err;
    static char out[16384];
    vpn_show_buf b;

    if (vpn_conf_parse((const char *)data, size, &c, &err) != 0) {
        if (c != NULL || err.msg[0] == '\0')
            abort();
        return 0;
    }
    vpn_show_init(&b, out, sizeof out);
    vpn_show_ikev2_proposal(c, NULL, &b);
    vpn_show_ikev2_policy(c, NULL, &b);
    vpn_show_ikev2_profile(c, NULL, &b);
    {
        /* GET VPN: the translation either fills params or names an error */
        static vpn_drbg drbg;
        static vpn_rng rng;
        static vpn_sad *sad;
        static vpn_spd *spd;
        vpn_gdoi_conf_ks ks;
        vpn_gdoi_conf_gm gm;
        if (!sad) {
            vpn_drbg_init(&drbg, "conf-fuzz", 9);
            vpn_rng_init_drbg(&rng, &drbg);
            if (vpn_sad_new(&sad, &rng) || vpn_spd_new(&spd, VPN_SPD_BYPASS))
                abort();
        }
        if (vpn_gdoi_ks_cfg_from_conf(c, NULL, NULL, &ks, &err) != 0 && err.msg[0] == '\0')
            abort();
        if (vpn_gdoi_gm_cfg_from_conf(c, NULL, NULL, sad, spd, &gm, &err) != 0 && err.msg[0] == '\0')
            abort();
    }
    vpn_conf_del(c);
    return 0;
}
