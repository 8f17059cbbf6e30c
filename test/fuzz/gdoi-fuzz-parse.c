/*
 * libFuzzer target for the ISAKMP/IKEv1/GDOI codec. A datagram either
 * fails to parse, or parses (an encrypted one is taken as its own
 * plaintext, which exercises the padding walk) and then: re-serialises
 * through the typed payload builders to exactly the input (or, for an
 * encrypted one, to its decrypted view), re-parses to the same payloads,
 * and survives every typed decoder, iterator and HASH/signature helper.
 * The raw input is also fed to the typed attribute decoders, whose
 * decode-encode-decode must be stable.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "isakmp/gdoi-codec.h"
#include "isakmp/isakmp-msg.h"
#include "isakmp/isakmp-policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                               \
    do {                                                                                          \
        if (!(cond))                                                                              \
            abort();                                                                              \
    } while (0)

/* Attributes a decoder only marks present, which encoders do not write. */
#define IKE_UNWRITTEN                                                                             \
    (1u << VPN_IKEV1_ATTR_GROUP_PRIME | 1u << VPN_IKEV1_ATTR_GROUP_GEN1 |                         \
     1u << VPN_IKEV1_ATTR_GROUP_GEN2 | 1u << VPN_IKEV1_ATTR_GROUP_CURVE_A |                       \
     1u << VPN_IKEV1_ATTR_GROUP_CURVE_B | 1u << VPN_IKEV1_ATTR_GROUP_ORDER)
#define IPSEC_UNWRITTEN                                                                           \
    (1u << VPN_IPSEC_DOI_ATTR_COMP_PRIV_ALG | 1u << VPN_IPSEC_DOI_ATTR_SIG_ENC_ALG)

static void fuzz_attrs(const uint8_t *p, size_t n)
{
    static uint8_t out[1 << 17];
    vpn_wr w;
    vpn_ikev1_sa_attrs ike, ike2;
    vpn_ipsec_doi_attrs ip, ip2;
    vpn_gdoi_kek_attrs kek, kek2;
    vpn_gdoi_gap_attrs gap, gap2;
    vpn_gdoi_tek_keys tk, tk2;
    vpn_gdoi_kek_keys kk, kk2;
    vpn_gdoi_sid_attrs sid, sid2;

    if (vpn_ikev1_sa_attrs_decode(p, n, &ike) == 0) {
        vpn_wr_init(&w, out, sizeof out);
        CHECK(vpn_ikev1_sa_attrs_encode(&ike, &w) == 0);
        CHECK(vpn_ikev1_sa_attrs_decode(out, vpn_wr_len(&w), &ike2) == 0);
        CHECK(ike2.present == (ike.present & ~IKE_UNWRITTEN));
        CHECK(ike2.encr == ike.encr && ike2.hash == ike.hash && ike2.auth == ike.auth);
        CHECK(ike2.group_desc == ike.group_desc && ike2.key_len == ike.key_len);
        CHECK(ike2.life_types == ike.life_types && ike2.life_secs == ike.life_secs &&
              ike2.life_kb == ike.life_kb);
    }
    if (vpn_ipsec_doi_attrs_decode(p, n, &ip) == 0) {
        vpn_wr_init(&w, out, sizeof out);
        CHECK(vpn_ipsec_doi_attrs_encode(&ip, &w) == 0);
        CHECK(vpn_ipsec_doi_attrs_decode(out, vpn_wr_len(&w), &ip2) == 0);
        CHECK(ip2.present == (ip.present & ~IPSEC_UNWRITTEN));
        CHECK(ip2.encap == ip.encap && ip2.auth_alg == ip.auth_alg && ip2.key_len == ip.key_len);
        CHECK(ip2.addr_pres == ip.addr_pres && ip2.sa_dir == ip.sa_dir);
        CHECK(ip2.life_types == ip.life_types && ip2.life_secs == ip.life_secs &&
              ip2.life_kb == ip.life_kb);
    }
    if (vpn_gdoi_kek_attrs_decode(p, n, &kek) == 0) {
        vpn_wr_init(&w, out, sizeof out);
        CHECK(vpn_gdoi_kek_attrs_encode(&kek, &w) == 0);
        CHECK(vpn_gdoi_kek_attrs_decode(out, vpn_wr_len(&w), &kek2) == 0);
        CHECK(kek2.present == kek.present && kek2.alg == kek.alg &&
              kek2.lifetime == kek.lifetime && kek2.sig_alg == kek.sig_alg &&
              kek2.ack_requested == kek.ack_requested);
    }
    if (vpn_gdoi_gap_attrs_decode(p, n, &gap) == 0) {
        vpn_wr_init(&w, out, sizeof out);
        CHECK(vpn_gdoi_gap_attrs_encode(&gap, &w) == 0);
        CHECK(vpn_gdoi_gap_attrs_decode(out, vpn_wr_len(&w), &gap2) == 0);
        CHECK(gap2.present == gap.present && gap2.activation_delay == gap.activation_delay);
    }
    if (vpn_gdoi_tek_keys_decode(p, n, &tk) == 0) {
        vpn_wr_init(&w, out, sizeof out);
        CHECK(vpn_gdoi_tek_keys_encode(&tk, &w) == 0);
        CHECK(vpn_gdoi_tek_keys_decode(out, vpn_wr_len(&w), &tk2) == 0);
        CHECK(tk2.present == tk.present && tk2.alg_key.len == tk.alg_key.len);
        if (tk.alg_key.len)
            CHECK(memcmp(tk2.alg_key.p, tk.alg_key.p, tk.alg_key.len) == 0);
    }
    if (vpn_gdoi_kek_keys_decode(p, n, &kk) == 0) {
        vpn_wr_init(&w, out, sizeof out);
        CHECK(vpn_gdoi_kek_keys_encode(&kk, &w) == 0);
        CHECK(vpn_gdoi_kek_keys_decode(out, vpn_wr_len(&w), &kk2) == 0);
        CHECK(kk2.present == kk.present && kk2.sig_key.len == kk.sig_key.len);
    }
    if (vpn_gdoi_sid_attrs_decode(p, n, &sid) == 0) {
        vpn_wr_init(&w, out, sizeof out);
        CHECK(vpn_gdoi_sid_attrs_encode(&sid, &w) == 0);
        CHECK(vpn_gdoi_sid_attrs_decode(out, vpn_wr_len(&w), &sid2) == 0);
        CHECK(sid2.present == sid.present && sid2.nbits == sid.nbits);
    }
}

/* Every decoder and iterator on a validated payload must succeed. */
static void walk_payload(const vpn_isakmp_payload *pl, uint8_t exchange)
{
    vpn_isakmp_chain c, xc;

    switch (pl->type) {
    case VPN_ISAKMP_PL_SA: {
        vpn_isakmp_sa sa;
        vpn_isakmp_payload sub;
        vpn_isakmp_prop p;
        vpn_isakmp_xform x;
        int rc;

        CHECK(vpn_isakmp_sa_decode(pl->body, pl->body_len, exchange, &sa) == 0);
        if (sa.gdoi) {
            vpn_gdoi_sa_iter_init(&c, &sa);
            while ((rc = vpn_gdoi_sa_next(&c, &sub)) == 1) {
                if (sub.type == VPN_GDOI_PL_SAK) {
                    vpn_gdoi_sak k;
                    vpn_gdoi_kek_attrs a;
                    CHECK(vpn_gdoi_sak_decode(sub.body, sub.body_len, &k) == 0);
                    CHECK(vpn_gdoi_kek_attrs_decode(k.attrs.p, k.attrs.len, &a) == 0);
                } else if (sub.type == VPN_GDOI_PL_SAT) {
                    vpn_gdoi_sat t;
                    vpn_ipsec_doi_attrs a;
                    CHECK(vpn_gdoi_sat_decode(sub.body, sub.body_len, &t) == 0);
                    if (t.protocol_id == VPN_GDOI_TEK_PROTO_ESP ||
                        t.protocol_id == VPN_GDOI_TEK_PROTO_AH)
                        CHECK(vpn_ipsec_doi_attrs_decode(t.attrs.p, t.attrs.len, &a) == 0);
                } else {
                    vpn_isakmp_view v;
                    CHECK(vpn_gdoi_gap_decode(sub.body, sub.body_len, &v) == 0);
                }
            }
            CHECK(rc == 0);
        } else {
            vpn_isakmp_prop_iter_init(&c, &sa);
            while ((rc = vpn_isakmp_prop_next(&c, &p)) == 1) {
                vpn_isakmp_xform_iter_init(&xc, &p);
                while ((rc = vpn_isakmp_xform_next(&xc, &x)) == 1)
                    CHECK(vpn_isakmp_attrs_check(x.attrs.p, x.attrs.len) == 0);
                CHECK(rc == 0);
            }
            CHECK(rc == 0);
        }
        break;
    }
    case VPN_GDOI_PL_KD: {
        vpn_gdoi_kd kd;
        vpn_gdoi_kp_iter it;
        vpn_gdoi_kp kp;
        unsigned n = 0;
        int rc;

        CHECK(vpn_gdoi_kd_decode(pl->body, pl->body_len, &kd) == 0);
        vpn_gdoi_kp_iter_init(&it, &kd);
        while ((rc = vpn_gdoi_kp_next(&it, &kp)) == 1)
            n++;
        CHECK(rc == 0 && n == kd.n);
        break;
    }
    case VPN_ISAKMP_PL_ID: {
        vpn_isakmp_id id;
        uint32_t gid;
        CHECK(vpn_isakmp_id_decode(pl->body, pl->body_len, &id) == 0);
        (void)vpn_gdoi_group_id_decode(pl->body, pl->body_len, &gid);
        break;
    }
    case VPN_ISAKMP_PL_D: {
        vpn_isakmp_delete d;
        CHECK(vpn_isakmp_delete_decode(pl->body, pl->body_len, &d) == 0);
        CHECK(vpn_isakmp_delete_spi(&d, d.nspi - 1u) != NULL);
        break;
    }
    default:
        CHECK(vpn_isakmp_payload_check(pl->type, pl->body, pl->body_len, exchange) == 0);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t out[1 << 17], in[1 << 17];
    vpn_isakmp_msg m, m2;
    vpn_isakmp_view ni = {(const uint8_t *)"01234567", 8};
    vpn_wr w;
    size_t len;

    fuzz_attrs(data, size);
    if (vpn_isakmp_msg_parse(data, size, &m) != 0)
        return 0;
    if (m.encrypted && vpn_isakmp_msg_parse_plain(&m, m.body, m.body_len, NULL) != 0)
        return 0;

    vpn_wr_init(&w, out, sizeof out);
    CHECK(vpn_isakmp_msg_write(&m, &w) == 0);
    len = vpn_wr_len(&w);
    if (!m.encrypted)
        CHECK(len == size && memcmp(out, data, size) == 0);
    else
        CHECK(len == VPN_ISAKMP_HDR_LEN + m.chain_len && (out[19] & VPN_ISAKMP_FLAG_E) == 0);
    CHECK(vpn_isakmp_msg_parse(out, len, &m2) == 0);
    CHECK(!m2.encrypted && m2.n == m.n && m2.chain_len == m.chain_len);
    CHECK(memcmp(m2.hdr.icookie, m.hdr.icookie, 8) == 0 && m2.hdr.msg_id == m.hdr.msg_id);
    CHECK(m2.hdr.exchange == m.hdr.exchange && m2.hdr.next_payload == m.hdr.next_payload);
    for (size_t i = 0; i < m.n; i++) {
        CHECK(m2.pl[i].type == m.pl[i].type && m2.pl[i].raw_len == m.pl[i].raw_len);
        CHECK(memcmp(m2.pl[i].raw, m.pl[i].raw, m.pl[i].raw_len) == 0);
        walk_payload(&m.pl[i], m.hdr.exchange);
    }

    /* The authenticated byte strings never fail on a parsed message. */
    if (m.n > 0) {
        vpn_isakmp_view after, before;
        CHECK(vpn_isakmp_msg_after(&m, 0, &after) == 0);
        CHECK(vpn_isakmp_msg_before(&m, m.n - 1, &before) == 0);
        CHECK(before.len + m.pl[m.n - 1].raw_len <= m.chain_len);
        vpn_wr_init(&w, in, sizeof in);
        if (m.pl[0].type == VPN_ISAKMP_PL_HASH)
            CHECK(vpn_gdoi_pull_hash_input_msg(4, &m, ni, ni, &w) == 0);
        vpn_wr_init(&w, in, sizeof in);
        if (m.pl[m.n - 1].type == VPN_ISAKMP_PL_SIG)
            CHECK(vpn_gdoi_push_sig_input_msg(&m, &w) == 0);
    }
    return 0;
}
