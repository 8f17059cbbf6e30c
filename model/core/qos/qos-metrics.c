/*
 * Receiver-side QoS figures: percentiles, RFC 3550 jitter, the G.107
 * E-model. See qos-metrics.h.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "qos/qos-metrics.h"

uint64_t vpn_qos_percentile(const uint64_t *sorted, size_t n, double p)
{
    size_t rank;

    if (sorted == NULL || n == 0 || !(p > 0.0))
        return 0;
    if (p >= 100.0)
        return sorted[n - 1];
    /* Nearest rank: ceil(p/100 * n), 1-based. */
    rank = (size_t)ceil(p / 100.0 * (double)n);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return sorted[rank - 1];
}

int vpn_qos_flow_new(vpn_qos_flow **out)
{
    vpn_qos_flow *f;

    if (out == NULL)
        return VPN_ERR_INVAL;
    *out = NULL;
    f = calloc(1, sizeof *f);
    if (f == NULL)
        return VPN_ERR_NOMEM;
    *out = f;
    return 0;
}

void vpn_qos_flow_del(vpn_qos_flow *f)
{
    if (f == NULL)
        return;
    free(f->delay_ns);
    free(f);
}

int vpn_qos_flow_add(vpn_qos_flow *f, uint64_t sent_ns, uint64_t rx_ns, uint32_t len)
{
    int64_t transit;

    if (f == NULL || rx_ns < sent_ns || rx_ns - sent_ns > (uint64_t)INT64_MAX)
        return VPN_ERR_INVAL;
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 256;
        uint64_t *d;
        if (cap > SIZE_MAX / sizeof *d)
            return VPN_ERR_NOMEM;
        d = realloc(f->delay_ns, cap * sizeof *d);
        if (d == NULL)
            return VPN_ERR_NOMEM;
        f->delay_ns = d;
        f->cap = cap;
    }
    transit = (int64_t)(rx_ns - sent_ns);
    /* RFC 3550 6.4.1: D(i-1,i) = (Rj - Sj) - (Ri - Si), J += (|D| - J)/16.
     * Sender and receiver share the simulator clock, so transit is the
     * one-way delay; an offset between clocks would cancel in D anyway. */
    if (f->have_last) {
        double d = fabs((double)(transit - f->last_transit_ns));
        f->jitter_ns += (d - f->jitter_ns) / 16.0;
    } else {
        f->first_rx_ns = rx_ns;
    }
    f->last_transit_ns = transit;
    f->have_last = 1;
    f->last_rx_ns = rx_ns;
    f->delay_ns[f->n++] = (uint64_t)transit;
    f->bytes += len;
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int vpn_qos_flow_summary(const vpn_qos_flow *f, uint64_t sent, vpn_qos_summary *out)
{
    uint64_t *s;
    double sum = 0;

    if (f == NULL || out == NULL)
        return VPN_ERR_INVAL;
    memset(out, 0, sizeof *out);
    out->received = f->n;
    out->sent = sent;
    out->lost = sent > f->n ? sent - f->n : 0;
    out->loss = sent ? (double)out->lost / (double)sent : 0.0;
    out->jitter_ns = f->jitter_ns;
    out->bytes = f->bytes;
    if (f->n == 0)
        return 0;
    s = malloc(f->n * sizeof *s);
    if (s == NULL)
        return VPN_ERR_NOMEM;
    memcpy(s, f->delay_ns, f->n * sizeof *s);
    qsort(s, f->n, sizeof *s, cmp_u64);
    for (size_t i = 0; i < f->n; i++)
        sum += (double)s[i];
    out->mean_ns = sum / (double)f->n;
    out->min_ns = s[0];
    out->max_ns = s[f->n - 1];
    out->p50_ns = vpn_qos_percentile(s, f->n, 50);
    out->p95_ns = vpn_qos_percentile(s, f->n, 95);
    out->p99_ns = vpn_qos_percentile(s, f->n, 99);
    free(s);
    return 0;
}

/* ---- ITU-T G.107 (06/2015) ---------------------------------------------- */

void vpn_qos_emodel_defaults(vpn_qos_emodel_params *p)
{
    if (p == NULL)
        return;
    /* G.107 Table 3. */
    memset(p, 0, sizeof *p);
    p->slr = 8;
    p->rlr = 2;
    p->stmr = 15;
    p->lstr = 18;
    p->ds = 3;
    p->dr = 3;
    p->telr = 65;
    p->wepl = 110;
    p->qdu = 1;
    p->bpl = 4.3;
    p->burst_r = 1;
    p->nc = -70;
    p->nfor = -64;
    p->ps = 35;
    p->pr = 35;
}

int vpn_qos_emodel_codec(vpn_qos_emodel_params *p, vpn_qos_codec codec)
{
    if (p == NULL)
        return VPN_ERR_INVAL;
    /* G.113 Appendix I, Tables I.1 and I.3. */
    switch (codec) {
    case VPN_QOS_G711: p->ie = 0; p->bpl = 4.3; return 0;
    case VPN_QOS_G711_PLC: p->ie = 0; p->bpl = 25.1; return 0;
    case VPN_QOS_G729A: p->ie = 11; p->bpl = 19; return 0;
    }
    return VPN_ERR_INVAL;
}

double vpn_qos_emodel_r(const vpn_qos_emodel_params *p)
{
    double olr, nos, pre, nor, nfo, no, ro;
    double xolr, iolr, stmro, ist, q, g, y, z, iq, is;
    double terv, re, roe, idte, rle, idle, idd = 0, id, ie_eff;
    double t = p->t_ms;

    /* 7.2 basic signal-to-noise ratio Ro. */
    olr = p->slr + p->rlr;
    nos = p->ps - p->slr - p->ds - 100 + 0.004 * pow(p->ps - olr - p->ds - 14, 2);
    pre = p->pr + 10 * log10(1 + pow(10, (10 - p->lstr) / 10));
    nor = p->rlr - 121 + pre + 0.008 * pow(pre - 35, 2);
    nfo = p->nfor + p->rlr;
    no = 10 * log10(pow(10, p->nc / 10) + pow(10, nos / 10) + pow(10, nor / 10) + pow(10, nfo / 10));
    ro = 15 - 1.5 * (p->slr + no);

    /* 7.3 simultaneous impairment factor Is = Iolr + Ist + Iq. */
    xolr = olr + 0.2 * (64 + no - p->rlr);
    iolr = 20 * (pow(1 + pow(xolr / 8, 8), 1.0 / 8) - xolr / 8);
    stmro = -10 * log10(pow(10, -p->stmr / 10) + exp(-t / 4) * pow(10, -p->telr / 10));
    ist = 12 * pow(1 + pow((stmro - 13) / 6, 8), 1.0 / 8) - 28 * pow(1 + pow((stmro + 1) / 19.4, 35), 1.0 / 35) -
          13 * pow(1 + pow((stmro - 3) / 33, 13), 1.0 / 13) + 29;
    q = 37 - 15 * log10(p->qdu);
    g = 1.07 + 0.258 * q + 0.0602 * q * q;
    y = (ro - 100) / 15 + 46 / 8.4 - g / 9;
    z = 46.0 / 30 - g / 40;
    iq = 15 * log10(1 + pow(10, y) + pow(10, z));
    is = iolr + ist + iq;

    /* 7.4 delay impairment Id = Idte + Idle + Idd. */
    terv = p->telr - 40 * log10((1 + t / 10) / (1 + t / 150)) + 6 * exp(-0.3 * t * t);
    if (p->stmr < 9)
        terv += ist / 2; /* TERVs for low sidetone masking */
    re = 80 + 2.5 * (terv - 14);
    roe = -1.5 * (no - p->rlr);
    idte = ((roe - re) / 2 + sqrt(pow(roe - re, 2) / 4 + 100) - 1) * (1 - exp(-t));
    rle = 10.5 * (p->wepl + 7) * pow(p->tr_ms + 1, -0.25);
    idle = (ro - rle) / 2 + sqrt(pow(ro - rle, 2) / 4 + 169);
    if (p->ta_ms > 100) {
        double x = log10(p->ta_ms / 100) / log10(2);
        idd = 25 * (pow(1 + pow(x, 6), 1.0 / 6) - 3 * pow(1 + pow(x / 3, 6), 1.0 / 6) + 2);
    }
    id = idte + idle + idd;

    /* 7.5 effective equipment impairment. */
    ie_eff = p->ie + (95 - p->ie) * p->ppl / (p->ppl / p->burst_r + p->bpl);

    return ro - is - id - ie_eff + p->a;
}

double vpn_qos_emodel_voice(vpn_qos_codec codec, double one_way_ms, double loss_pct)
{
    vpn_qos_emodel_params p;

    vpn_qos_emodel_defaults(&p);
    if (vpn_qos_emodel_codec(&p, codec) != 0)
        return 0;
    if (one_way_ms < 0)
        one_way_ms = 0;
    if (loss_pct < 0)
        loss_pct = 0;
    if (loss_pct > 100)
        loss_pct = 100;
    p.t_ms = p.ta_ms = one_way_ms;
    p.tr_ms = 2 * one_way_ms;
    p.ppl = loss_pct;
    return vpn_qos_emodel_r(&p);
}

double vpn_qos_mos(double r)
{
    /* G.107 Annex B, eq. B-4. */
    if (r < 0)
        return 1.0;
    if (r > 100)
        return 4.5;
    return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6;
}
