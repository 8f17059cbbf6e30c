#include "gdoi-net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "crypto/crypto-ids.h"
#include "crypto/sig.h"
#include "ipsec/esp.h"
#include "ipsec/ip.h"
#include "isakmp/isakmp-const.h"
#include "pkt-build.h"
#include "test-util.h"

void tu_gdoi_wire_init(tu_gdoi_wire *w, unsigned cap, size_t dg_max, uint64_t *now, void *user)
{
    memset(w, 0, sizeof *w);
    w->q = calloc(cap, sizeof *w->q);
    assert_non_null(w->q);
    w->cap = cap;
    w->dg_max = dg_max;
    w->now = now;
    w->user = user;
}

void tu_gdoi_wire_free(tu_gdoi_wire *w)
{
    free(w->q);
    w->q = NULL;
}

tu_gdoi_dgram *tu_gdoi_wire_send(tu_gdoi_wire *w, const vpn_addr *src, const vpn_addr *dst,
                                 const uint8_t *dg, size_t len, const uint8_t *view,
                                 size_t view_len)
{
    tu_gdoi_dgram *d;

    assert_true(w->nq < w->cap);
    assert_true(len <= w->dg_max);
    d = &w->q[w->nq++];
    d->src = *src;
    d->dst = *dst;
    memcpy(d->b, dg, len);
    d->len = len;
    d->vlen = 0;
    if (view) {
        assert_true(view_len <= w->dg_max);
        assert_int_equal(view[19] & VPN_ISAKMP_FLAG_E, 0);
        memcpy(d->v, view, view_len);
        d->vlen = view_len;
    }
    if (w->pcap) {
        static uint8_t pkt[TU_GDOI_DG_MAX + 64];
        size_t pl = tu_build_udp(pkt, sizeof pkt, src, dst, 848, 848, 0, dg, len);
        tu_pcap_write(w->pcap, w->ts, pkt, pl);
        pl = tu_build_udp(pkt, sizeof pkt, src, dst, 848, 848, 0, view ? view : dg,
                          view ? view_len : len);
        tu_pcap_write(w->plain, w->ts, pkt, pl);
        w->ts += 1000000;
    }
    return d;
}

void tu_gdoi_trace_open(tu_gdoi_wire *w, const char *path, const char *plain_path)
{
    w->ts = 1700000000ull * 1000000000ull;
    w->pcap = tu_pcap_open(path);
    w->plain = tu_pcap_open(plain_path);
    assert_non_null(w->pcap);
    assert_non_null(w->plain);
}

void tu_gdoi_trace_close(tu_gdoi_wire *w)
{
    tu_pcap_close(w->pcap);
    tu_pcap_close(w->plain);
    w->pcap = w->plain = NULL;
}

void tu_gdoi_pump(tu_gdoi_wire *w)
{
    for (int round = 0; round < 64 && w->nq; round++) {
        tu_gdoi_dgram *batch = malloc(w->nq * sizeof *batch);
        unsigned nb = w->nq;
        assert_non_null(batch);
        memcpy(batch, w->q, nb * sizeof *batch);
        w->nq = 0;
        for (unsigned k = 0; k < nb; k++)
            w->deliver(w->user, &batch[k]);
        free(batch);
        *w->now += 1000000; /* 1 ms per hop */
    }
    assert_int_equal(w->nq, 0);
}

void tu_gdoi_run_until(tu_gdoi_wire *w, uint64_t until, int guard)
{
    tu_gdoi_pump(w);
    for (int round = 0;; round++) {
        uint64_t d = w->deadline(w->user);
        if (guard > 0)
            assert_true(round < guard);
        if (d > until)
            break;
        if (d > *w->now)
            *w->now = d;
        w->tick(w->user, *w->now);
        tu_gdoi_pump(w);
    }
    if (*w->now < until)
        *w->now = until;
}

vpn_sig_key *tu_gdoi_rsa_key(void)
{
    vpn_sig_key *k;
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    assert_non_null(pk);
    assert_int_equal(vpn_sig_key_from_evp(&k, pk), 0);
    EVP_PKEY_free(pk);
    return k;
}

void tu_gdoi_member(unsigned i, const vpn_addr *ks, const vpn_addr *servers, size_t n_servers,
                    vpn_rng *rng, vpn_gdoi_send_fn send, void *user, vpn_addr *addr,
                    vpn_gdoi_gm **gm, vpn_sad **sad, vpn_spd **spd)
{
    tu_gdoi_member_ev(i, ks, servers, n_servers, rng, send, user, addr, gm, sad, spd, NULL, NULL);
}

void tu_gdoi_member_ev(unsigned i, const vpn_addr *ks, const vpn_addr *servers, size_t n_servers,
                       vpn_rng *rng, vpn_gdoi_send_fn send, void *user, vpn_addr *addr,
                       vpn_gdoi_gm **gm, vpn_sad **sad, vpn_spd **spd,
                       void (*event)(void *, const vpn_gdoi_gm_event *), void *event_user)
{
    vpn_gdoi_gm_cfg gc;
    char a[32];

    snprintf(a, sizeof a, "198.51.100.%u", 11 + i);
    *addr = tu_addr(a);
    assert_int_equal(vpn_sad_new(sad, rng), 0);
    assert_int_equal(vpn_spd_new(spd, VPN_SPD_BYPASS), 0);
    memset(&gc, 0, sizeof gc);
    gc.name = "GETVPN";
    gc.group_id = 1234;
    gc.local = *addr;
    if (ks)
        gc.ks = *ks;
    gc.servers = servers;
    gc.n_servers = n_servers;
    gc.ike.psk = (const uint8_t *)"gdoi-psk";
    gc.ike.psk_len = 8;
    gc.sad = *sad;
    gc.spd = *spd;
    gc.spd_seq = 10;
    gc.event = event;
    gc.event_user = event_user;
    assert_int_equal(vpn_gdoi_gm_new(gm, &gc, rng, NULL, send, user), 0);
}

void tu_gdoi_members_free(vpn_gdoi_gm **gm, vpn_sad **sad, vpn_spd **spd, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        vpn_gdoi_gm_del(gm[i]);
        vpn_spd_del(spd[i]);
        vpn_sad_del(sad[i]);
    }
}

void tu_gdoi_ks_cfg_std(vpn_gdoi_ks_cfg *kc, const vpn_addr *ks, vpn_sig_key *rekey_key)
{
    memset(kc, 0, sizeof *kc);
    kc->name = "GETVPN";
    kc->group_id = 1234;
    kc->local = *ks;
    kc->ike.psk = (const uint8_t *)"gdoi-psk";
    kc->ike.psk_len = 8;
    kc->ike.local_id = *ks;
    kc->tek.sel.family = VPN_AF_INET;
    vpn_prefix_parse(&kc->tek.sel.src, "10.0.0.0/8");
    vpn_prefix_parse(&kc->tek.sel.dst, "10.0.0.0/8");
    kc->tek.encr_id = VPN_ENCR_AES_CBC;
    kc->tek.lifetime_s = 600;
    kc->kek_lifetime_s = 3000;
    kc->multicast = false;
    kc->rekey_key = rekey_key;
}

uint64_t tu_gdoi_deadline(const vpn_gdoi_ks *ks, vpn_gdoi_gm *const *gm, unsigned n)
{
    uint64_t d = vpn_gdoi_ks_next_deadline(ks);

    for (unsigned i = 0; i < n; i++) {
        uint64_t x = vpn_gdoi_gm_next_deadline(gm[i]);
        if (x < d)
            d = x;
    }
    return d;
}

void tu_gdoi_tick(vpn_gdoi_ks *ks, vpn_gdoi_gm **gm, unsigned n, uint64_t now)
{
    vpn_gdoi_ks_timeout(ks, now);
    for (unsigned i = 0; i < n; i++)
        vpn_gdoi_gm_timeout(gm[i], now);
}

void tu_gdoi_assert_member(vpn_gdoi_gm *gm, const vpn_gdoi_ks *ks)
{
    assert_int_equal(vpn_gdoi_gm_get_state(gm), VPN_GDOI_GM_REGISTERED);
    assert_non_null(vpn_gdoi_gm_tek(gm));
    assert_int_equal(vpn_sa_get_config(vpn_gdoi_gm_tek(gm))->spi, vpn_gdoi_ks_tek_spi(ks));
    assert_memory_equal(vpn_gdoi_gm_kek_spi(gm), vpn_gdoi_ks_kek_spi(ks), 16);
    assert_int_equal(vpn_gdoi_gm_last_seq(gm), vpn_gdoi_ks_seq(ks));
}

int tu_gdoi_send_between(vpn_spd *spd_a, vpn_sad *sad_b, uint64_t now, uint8_t tos,
                         uint32_t seed, const vpn_sa *want_sa)
{
    uint8_t buf[2048], pay[100], orig[256];
    vpn_addr s = tu_addr("10.1.0.5"), d = tu_addr("10.2.0.7");
    vpn_pkt p;
    vpn_ip_info ii;
    vpn_esp_rx rx;
    const vpn_spd_entry *e;
    size_t ol;
    int rc;

    tu_fill(pay, sizeof pay, seed);
    vpn_pkt_init(&p, buf, sizeof buf, VPN_PKT_HEADROOM);
    p.len = tu_build_udp(vpn_pkt_data(&p), 1024, &s, &d, 4000, 5000, tos, pay, sizeof pay);
    ol = p.len;
    memcpy(orig, vpn_pkt_data(&p), ol);
    assert_int_equal(vpn_ip_parse(vpn_pkt_data(&p), p.len, &ii), 0);
    vpn_ip_parse_ports(&ii, vpn_pkt_data(&p) + 20, p.len - 20);
    assert_int_equal(vpn_spd_lookup(spd_a, &ii, &e), VPN_SPD_PROTECT);
    if (want_sa) {
        assert_non_null(e);
        assert_ptr_equal(e->sa, want_sa);
    }
    if ((rc = vpn_esp_encap(e->sa, &p, now)))
        return rc;
    if (want_sa) {
        /* address preservation: the outer header keeps the hosts' addresses */
        assert_memory_equal(vpn_pkt_data(&p) + 12, orig + 12, 8);
        assert_int_equal(vpn_pkt_data(&p)[9], 50);
    }
    if ((rc = vpn_esp_decap(sad_b, &p, now, &rx)))
        return rc;
    assert_int_equal(p.len, ol);
    assert_memory_equal(vpn_pkt_data(&p), orig, ol);
    return 0;
}
