/*
 * Receiver-side QoS measurements: one-way delay percentiles, RFC 3550
 * interarrival jitter, loss, and the ITU-T G.107 E-model (R-factor, MOS)
 * for voice. Pure computations on numbers the caller measured: no clock,
 * no I/O.
 *
 * Ownership: a vpn_qos_flow owns its sample array; free with
 * vpn_qos_flow_del.
 */
#ifndef VPN_QOS_METRICS_H
#define VPN_QOS_METRICS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Nearest-rank percentile (the smallest sample with at least p percent of
 * the samples at or below it) of n samples sorted ascending. p in (0, 100].
 * Returns 0 when n == 0.
 */
uint64_t vpn_qos_percentile(const uint64_t *sorted, size_t n, double p);

/* One flow as its receiver sees it. */
typedef struct vpn_qos_flow {
    uint64_t *delay_ns; /* one-way delay of each received packet, arrival order */
    size_t n, cap;
    uint64_t bytes;     /* payload bytes received */
    /* RFC 3550 6.4.1: J += (|D(i-1,i)| - J) / 16, D from transit times. */
    double jitter_ns;
    int64_t last_transit_ns;
    int have_last;
    uint64_t first_rx_ns, last_rx_ns;
} vpn_qos_flow;

/* What a flow's samples add up to. Delays in ns; loss as a fraction. */
typedef struct vpn_qos_summary {
    uint64_t received, sent, lost;
    double loss;          /* lost / sent; 0 when sent == 0 */
    uint64_t p50_ns, p95_ns, p99_ns, max_ns, min_ns;
    double mean_ns;
    double jitter_ns;     /* RFC 3550 interarrival jitter at the last packet */
    uint64_t bytes;
} vpn_qos_summary;

/* Errors: VPN_ERR_INVAL, VPN_ERR_NOMEM. *out is the caller's. */
int vpn_qos_flow_new(vpn_qos_flow **out);
void vpn_qos_flow_del(vpn_qos_flow *f);

/*
 * Records one packet sent at sent_ns (the sender's timestamp, same clock as
 * the simulator's) and received at rx_ns with len payload bytes. Arrival
 * order matters for the jitter (RFC 3550 6.4.1 uses arrival order).
 * Errors: VPN_ERR_INVAL (NULL, or rx_ns < sent_ns), VPN_ERR_NOMEM (the
 * sample is not recorded; the flow is unchanged).
 */
int vpn_qos_flow_add(vpn_qos_flow *f, uint64_t sent_ns, uint64_t rx_ns, uint32_t len);

/*
 * Summarises f given how many packets the sender sent (loss = sent -
 * received, never negative: duplicates do not count as negative loss).
 * Errors: VPN_ERR_INVAL, VPN_ERR_NOMEM (sorting needs a copy).
 */
int vpn_qos_flow_summary(const vpn_qos_flow *f, uint64_t sent, vpn_qos_summary *out);

/* ---- ITU-T G.107 (06/2015) E-model ------------------------------------- */

/* The transmission parameters of G.107 Table 3, with its defaults from
 * vpn_qos_emodel_defaults. Delays in ms, levels in dB / dBm(0) / dB(A). */
typedef struct vpn_qos_emodel_params {
    double slr, rlr, stmr, lstr, ds, dr, telr, wepl;
    double t_ms, tr_ms, ta_ms; /* mean one-way echo path, round trip, absolute */
    double qdu, ie, bpl, ppl, burst_r;
    double nc, nfor, ps, pr, a;
} vpn_qos_emodel_params;

/* G.107 Table 3 defaults: R = 93.2 with no delay and no loss. */
void vpn_qos_emodel_defaults(vpn_qos_emodel_params *p);

/* Codecs with their equipment impairment (G.113 Appendix I). */
typedef enum vpn_qos_codec {
    VPN_QOS_G711 = 0,     /* Ie 0, Bpl 4.3: no packet loss concealment */
    VPN_QOS_G711_PLC,     /* Ie 0, Bpl 25.1: with PLC (G.711 Appendix I) */
    VPN_QOS_G729A,        /* Ie 11, Bpl 19 (G.729A + VAD) */
} vpn_qos_codec;

/* Sets ie and bpl of p for codec. Errors: VPN_ERR_INVAL. */
int vpn_qos_emodel_codec(vpn_qos_emodel_params *p, vpn_qos_codec codec);

/*
 * The full G.107 R = Ro - Is - Id - Ie,eff + A (section 7), each term
 * from p. Returns R (may be below 0 or above 100 for odd inputs).
 */
double vpn_qos_emodel_r(const vpn_qos_emodel_params *p);

/*
 * Convenience for a measured voice flow: G.107 defaults, the codec's Ie and
 * Bpl, T = Ta = one_way_ms, Tr = 2 * one_way_ms (a 4-wire loop back through
 * the same path), Ppl = loss_pct (random loss, BurstR 1).
 */
double vpn_qos_emodel_voice(vpn_qos_codec codec, double one_way_ms, double loss_pct);

/* G.107 Annex B: MOS (conversational quality, estimated) from R. */
double vpn_qos_mos(double r);

#ifdef __cplusplus
}
#endif

#endif
