/* A CHILD_SA's pair of ESP SA configurations (see ikev2-esp.h). */
#include "ikev2/ikev2-esp.h"

#include <string.h>

#include "common/vpn-err.h"

/* IOS's default anti-replay window (crypto ipsec security-association replay window-size). */
#define CHILD_REPLAY_WINDOW 64

static void set_keys(vpn_sa_config *cfg, const vpn_key *encr, const vpn_key *integ)
{
    cfg->encr_key = encr->b;
    cfg->encr_key_len = encr->len;
    cfg->integ_key = integ ? integ->b : NULL;
    cfg->integ_key_len = integ ? integ->len : 0;
}

int vpn_ikev2_child_sa_configs(const vpn_ikev2_child_info *c, vpn_ts *ts, size_t ts_cap,
                               vpn_sa_config *in, vpn_sa_config *out)
{
    size_t n = 0;

    if (in != NULL)
        memset(in, 0, sizeof *in);
    if (out != NULL)
        memset(out, 0, sizeof *out);
    if (c == NULL || in == NULL || out == NULL || c->encr_in == NULL || c->encr_out == NULL ||
        (ts == NULL && ts_cap != 0) || c->n_ts_remote > VPN_IKEV2_TS_MAX ||
        c->n_ts_local > VPN_IKEV2_TS_MAX)
        return VPN_ERR_INVAL;
    if (c->n_ts_remote * c->n_ts_local > ts_cap)
        return VPN_ERR_NOSPACE;

    /* What both directions share. */
    in->mode = c->mode == VPN_CONF_MODE_TRANSPORT ? VPN_ESP_TRANSPORT : VPN_ESP_TUNNEL;
    in->encr_id = c->encr;
    in->encr_key_bits = c->encr_key_bits;
    in->integ_id = c->integ;
    in->esn = c->esn;
    in->replay_window = CHILD_REPLAY_WINDOW;
    in->dscp = VPN_SA_DSCP_COPY;
    in->udp_encap = c->udp_encap;
    in->local = c->local.addr;
    in->remote = c->remote.addr;
    *out = *in;

    /* Inbound: the peer sends with the SPI we chose, from its port to ours. */
    in->spi = c->spi_in;
    in->dir = VPN_SA_IN;
    set_keys(in, c->encr_in, c->integ_in);
    in->udp_sport = c->remote.port;
    in->udp_dport = c->local.port;
    for (size_t r = 0; r < c->n_ts_remote; r++)
        for (size_t l = 0; l < c->n_ts_local; l++) {
            const vpn_ikev2_selector *src = &c->ts_remote[r], *dst = &c->ts_local[l];
            vpn_ts *t = &ts[n++];
            memset(t, 0, sizeof *t);
            t->proto = src->proto ? src->proto : dst->proto;
            t->src_lo = src->addr_lo;
            t->src_hi = src->addr_hi;
            t->dst_lo = dst->addr_lo;
            t->dst_hi = dst->addr_hi;
            t->sport_lo = src->port_lo;
            t->sport_hi = src->port_hi;
            t->dport_lo = dst->port_lo;
            t->dport_hi = dst->port_hi;
        }
    in->ts = n ? ts : NULL;
    in->n_ts = n;

    /* Outbound: the peer's SPI, our sending keys, our port to the peer's. */
    out->spi = c->spi_out;
    out->dir = VPN_SA_OUT;
    set_keys(out, c->encr_out, c->integ_out);
    out->udp_sport = c->local.port;
    out->udp_dport = c->remote.port;
    return 0;
}
