/*
 * libFuzzer target for the IOS configuration parser: any text either parses
 * into a valid configuration (which the show views must render) or fails
 * with an error naming a line, without leaking or crashing.
 */
#include <stdint.h>
#include <stdlib.h>

#include "conf/conf.h"
#include "gdoi/gdoi-conf.h"
#include "qos/qos-mqc.h"
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
    for (size_t i = 0; i < c->n_policy_map; i++) {
        /* MQC: a valid policy-map either builds a scheduler that classifies
         * and shows, or names an error. */
        vpn_qos_policy *qp = NULL;
        vpn_qos_sched *qs = NULL;
        vpn_qos_pkt k = {46, 17, {0}, {0}, 1, 5060};
        uint32_t len;
        if (vpn_qos_policy_build(c, c->policy_map[i].name, 2000000, &qp, &err) != 0) {
            if (qp != NULL || err.msg[0] == '\0')
                abort();
            continue;
        }
        if (vpn_qos_sched_new(vpn_qos_policy_sched(qp), &qs) != 0)
            abort();
        size_t cls = vpn_qos_policy_classify(qp, &k);
        if (cls >= vpn_qos_policy_sched(qp)->n_class)
            abort();
        (void)vpn_qos_sched_enqueue(qs, cls, 200, 0);
        if (vpn_qos_sched_dequeue(qs, 0, &len, NULL) != (int)cls)
            abort();
        if (vpn_qos_show_policy_map(qp, qs, "Gi0/0", 0, out, sizeof out) < 0)
            abort();
        vpn_qos_sched_del(qs);
        vpn_qos_policy_del(qp);
    }
    vpn_conf_del(c);
    return 0;
}
