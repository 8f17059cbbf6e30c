#include "engine-params.h"

void tu_router_params(vpn_router_params *p, const vpn_conf *conf, vpn_drbg *drbg, vpn_drbg *sad_drbg,
                      tu_log_sink *sink, const char *name, void *user)
{
    vpn_router_params_init(p);
    p->conf = conf;
    vpn_rng_init_drbg(&p->rng, drbg);
    vpn_rng_init_drbg(&p->sad_rng, sad_drbg);
    tu_log_attach(&p->log, sink);
    p->log.max = VPN_LOG_DEBUG;
    p->name = name;
    p->user = user;
}
