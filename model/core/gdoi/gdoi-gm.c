/*
 * GDOI group member: registration (phase 1, then GROUPKEY-PULL, RFC 6407
 * 3), TEK and policy installation, GROUPKEY-PUSH rekeys (RFC 6407 4).
 * Everything a key server sends is parsed and checked into a staging area
 * first; the member's state changes only when all of it is acceptable.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/vpn-err.h"
#include "common/wire.h"
#include "crypto/cipher.h"
#include "crypto/crypto-ids.h"
#include "crypto/prf.h"
#include "gdoi/gdoi-priv.h"
#include "isakmp/isakmp-build.h"
#include "isakmp/isakmp-const.h"
#include "isakmp/isakmp-policy.h"

#define ENGINE "gdoi-gm"
#define NS 1000000000ull
#define GM_MAX_TEKS 8
#define GM_MAX_EXTRA 3 /* further SA TEKs of one SA (gdoid sends two) */
#define GM_RETRY_NS (10 * NS) /* registration retry after a failure */

typedef struct gm_tek {
    vpn_sa *sa;
    uint32_t spi;
    uint64_t expires;
} gm_tek;

/*
 * A further SA TEK of the same SA (RFC 6407 5.2 allows several; gdoid
 * sends one per sender, or a CBC and a GCM one). Installed for receiving
 * only: this member sends on the first TEK's policy.
 */
typedef struct gm_xtek {
    uint32_t spi;
    uint16_t encr_id, key_bits, integ_id;
    size_t alg_len, integ_len;
    uint8_t alg_key[64], integ_key[64];
    bool keys;
    uint64_t life_s;
    uint8_t addr_pres;
    vpn_spd_sel sel;
    vpn_sa *sa; /* while committing */
} gm_xtek;

typedef struct gm_stage {
    bool kek;
    uint8_t kek_spi[VPN_GDOI_KEK_SPI_LEN];
    vpn_addr kek_dst;           /* SA KEK DST ID: the rekey group address (RFC 6407 5.3) */
    vpn_gdoi_kek_attrs ka;
    uint16_t kek_bits;          /* KEK_KEY_LENGTH, 0 if absent (3DES) */
    size_t kek_key_len, kek_blk; /* octets of key and of IV (= block) */
    bool tek;
    uint32_t tek_spi;
    uint16_t encr_id, key_bits, integ_id;
    vpn_spd_sel sel;
    /* further permit lines of this TEK: SA TEKs with the same SPI and
     * transform (gdoi.h, VPN_GDOI_TEK_SELS_MAX), in order */
    vpn_spd_sel more[VPN_GDOI_TEK_SELS_MAX - 1];
    uint8_t n_more;
    bool bypass;        /* this SA TEK is a deny line (VPN_GDOI_TEK_ATTR_BYPASS) */
    uint32_t deny_mask; /* bit i: line i (0 = sel) is a deny */
    uint64_t life_s;
    uint32_t tbar_s;
    bool have_pt;
    uint64_t pt_ms;
    bool kd_tek;
    uint8_t alg_key[64], integ_key[64];
    size_t alg_len, integ_len;
    uint16_t gap_act, gap_deact;
    bool recv_only;
    uint8_t addr_pres;
    gm_xtek x[GM_MAX_EXTRA];
    size_t nx;
    bool kd_kek;
    uint8_t kek_key[GDOI_KEK_KEY_LEN], kek_iv[GDOI_KEK_IV_LEN];
    vpn_sig_key *pub;
} gm_stage;

struct vpn_gdoi_gm {
    vpn_gdoi_gm_cfg cfg; /* cfg.ks: the key server now in use, servers[ks_idx] */
    vpn_addr servers[VPN_GDOI_GM_MAX_SERVERS];
    size_t n_servers, ks_idx, p1_idx; /* p1_idx: the server gm->p1 is with */
    vpn_addr last_rekey_from;
    char name[64];
    uint8_t psk[VPN_IKEV1_PSK_MAX];
    vpn_ikev1_suite suites[VPN_IKEV1_SUITES_MAX]; /* cfg.ike.suites, copied */
    const vpn_rng *rng;
    vpn_log log;
    vpn_gdoi_send_fn send;
    void *user;
    vpn_gdoi_gm_state state;
    vpn_ikev1_sa *p1;

    /* the GROUPKEY-PULL in progress */
    uint32_t msg_id;
    uint8_t iv[VPN_IKEV1_BLOCK];
    uint8_t ni[GDOI_NONCE_LEN], nr[VPN_ISAKMP_NONCE_MAX];
    size_t nr_len;
    gm_stage pulled;
    /* our last PULL message and its decrypted view, for retransmission:
     * one heap block (out | view) of their size, NULL when none */
    uint8_t *last;
    size_t last_out_len, last_view_len;
    uint64_t retrans_at;
    unsigned retrans_n;
    uint64_t retry_at;

    /* what registration and rekeys gave us */
    bool have_kek;
    uint8_t kek_spi[VPN_GDOI_KEK_SPI_LEN], kek_key[GDOI_KEK_KEY_LEN], kek_iv[GDOI_KEK_IV_LEN];
    uint16_t kek_alg, kek_bits, sig_hash;
    size_t kek_key_len, kek_blk;
    char refused[128]; /* the last policy refused, for show crypto gdoi */
    uint64_t kek_expires;
    bool ack_requested;
    vpn_sig_key *ks_pub;
    uint32_t last_seq;
    gm_tek teks[GM_MAX_TEKS];
    size_t nteks;
    vpn_sa *cur;
    vpn_sa *pending;      /* RFC 6407 5.5: the new TEK before its activation delay */
    uint64_t activate_at;
    bool have_spd;
    bool cur_recv_only;
    vpn_gdoi_kek_info kek_info;
    vpn_gdoi_tek_info tek_info;
    /* bypass sport 848, bypass dport 848, then protect per permit line */
    uint32_t spd_ids[2 + VPN_GDOI_TEK_SELS_MAX];
    size_t n_spd_ids;
    vpn_spd_sel cur_sel[VPN_GDOI_TEK_SELS_MAX]; /* the lines installed */
    uint32_t cur_deny;                          /* and which are denies */
    uint64_t rereg_at;
    vpn_gdoi_gm_stats st;
};

const char *vpn_gdoi_gm_event_name(vpn_gdoi_gm_event_kind kind)
{
    switch (kind) {
    case VPN_GDOI_GM_EV_REKEY_REFUSED:
        return "rekey refused";
    case VPN_GDOI_GM_EV_BAD_SIGNATURE:
        return "bad signature";
    case VPN_GDOI_GM_EV_BAD_KEK:
        return "bad KEK";
    case VPN_GDOI_GM_EV_REPLAY:
        return "replay";
    case VPN_GDOI_GM_EV_MALFORMED:
        return "malformed";
    case VPN_GDOI_GM_EV_INTERNAL:
        return "internal error";
    default:
        return "?";
    }
}

/*
 * The one place a refusal or a local failure is counted (the stats
 * counter of its kind) and reported to cfg.event; internal errors are also
 * logged as errors here (the others were logged where they were found, or
 * by vpn_gdoi_gm_input_from at DEBUG).
 */
static void gm_report(vpn_gdoi_gm *gm, vpn_gdoi_gm_event_kind kind, int err, uint32_t seq,
                      const char *detail)
{
    vpn_gdoi_gm_event ev;

    switch (kind) {
    case VPN_GDOI_GM_EV_REKEY_REFUSED:
        gm->st.rekeys_rejected++;
        break;
    case VPN_GDOI_GM_EV_BAD_SIGNATURE:
        gm->st.bad_sig++;
        break;
    case VPN_GDOI_GM_EV_BAD_KEK:
        gm->st.bad_kek++;
        break;
    case VPN_GDOI_GM_EV_REPLAY:
        gm->st.replays++;
        break;
    case VPN_GDOI_GM_EV_MALFORMED:
        gm->st.malformed++;
        break;
    default:
        kind = VPN_GDOI_GM_EV_INTERNAL;
        gm->st.internal_errors++;
        break;
    }
    if (kind == VPN_GDOI_GM_EV_INTERNAL)
        vpn_log_emit(&gm->log, VPN_LOG_ERROR, ENGINE, "internal error %s: %s", detail,
                     vpn_strerror(err));
    if (gm->cfg.event) {
        ev.kind = kind;
        ev.err = err;
        ev.seq = seq;
        ev.detail = detail;
        gm->cfg.event(gm->cfg.event_user, &ev);
    }
}

static void stage_free(gm_stage *s)
{
    vpn_sig_key_del(s->pub);
    OPENSSL_cleanse(s, sizeof *s);
}

/* Refuses a key server's policy: names the attribute and value in the
 * log and in `show crypto gdoi` (vpn_gdoi_gm_info.refused). */
static int refuse(vpn_gdoi_gm *gm, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(gm->refused, sizeof gm->refused, fmt, ap);
    va_end(ap);
    vpn_log_emit(&gm->log, VPN_LOG_WARN, ENGINE, "policy refused: %s", gm->refused);
    return VPN_ERR_POLICY;
}

int vpn_gdoi_gm_new(vpn_gdoi_gm **out, const vpn_gdoi_gm_cfg *cfg, const vpn_rng *rng,
                    const vpn_log *log, vpn_gdoi_send_fn send, void *user)
{
    vpn_gdoi_gm *gm;

    if (!out || !cfg || !rng || !send || !cfg->sad || !cfg->spd ||
        cfg->local.family != VPN_AF_INET || cfg->n_servers > VPN_GDOI_GM_MAX_SERVERS ||
        (cfg->n_servers && !cfg->servers) || (!cfg->n_servers && cfg->ks.family != VPN_AF_INET))
        return VPN_ERR_INVAL;
    for (size_t i = 0; i < cfg->n_servers; i++)
        if (cfg->servers[i].family != VPN_AF_INET)
            return VPN_ERR_INVAL;
    gm = vpn_calloc(&cfg->alloc, 1, sizeof *gm);
    if (!gm)
        return VPN_ERR_NOMEM;
    gm->cfg = *cfg;
    /* IOS `server address ipv4`, in order; one server if none listed */
    gm->n_servers = cfg->n_servers ? cfg->n_servers : 1;
    for (size_t i = 0; i < gm->n_servers; i++)
        gm->servers[i] = cfg->n_servers ? cfg->servers[i] : cfg->ks;
    gm->cfg.servers = NULL;
    gm->cfg.n_servers = 0;
    gm->cfg.ks = gm->servers[0];
    snprintf(gm->name, sizeof gm->name, "%s", cfg->name ? cfg->name : "GDOI");
    gm->cfg.name = gm->name;
    if (cfg->ike.psk_len > sizeof gm->psk || cfg->ike.n_suites > VPN_IKEV1_SUITES_MAX) {
        free(gm);
        return VPN_ERR_INVAL;
    }
    if (cfg->ike.psk)
        memcpy(gm->psk, cfg->ike.psk, cfg->ike.psk_len);
    gm->cfg.ike.psk = gm->psk;
    /* each phase 1 copies the suites when it starts: keep our own copy */
    if (cfg->ike.n_suites)
        memcpy(gm->suites, cfg->ike.suites, cfg->ike.n_suites * sizeof *gm->suites);
    gm->cfg.ike.suites = cfg->ike.n_suites ? gm->suites : NULL;
    gm->cfg.ike.alloc = gm->cfg.alloc; /* phase 1 behind the same gate */
    if (gm->cfg.ike.local_id.family == VPN_AF_NONE)
        gm->cfg.ike.local_id = cfg->local;
    if (!gm->cfg.rereg_lead_s)
        gm->cfg.rereg_lead_s = 60;
    gm->rng = rng;
    if (log)
        gm->log = *log;
    gm->send = send;
    gm->user = user;
    gm->retrans_at = gm->retry_at = gm->rereg_at = gm->activate_at = UINT64_MAX;
    *out = gm;
    return 0;
}

static void drop_teks(vpn_gdoi_gm *gm)
{
    if (gm->have_spd) {
        for (size_t i = 0; i < gm->n_spd_ids; i++)
            vpn_spd_remove(gm->cfg.spd, gm->spd_ids[i]);
        gm->have_spd = false;
    }
    for (size_t i = 0; i < gm->nteks; i++)
        vpn_sad_remove(gm->cfg.sad, gm->teks[i].sa);
    gm->nteks = 0;
    gm->cur = NULL;
}

static void forget_pull(vpn_gdoi_gm *gm);

void vpn_gdoi_gm_del(vpn_gdoi_gm *gm)
{
    if (!gm)
        return;
    drop_teks(gm);
    vpn_ikev1_sa_del(gm->p1);
    vpn_sig_key_del(gm->ks_pub);
    stage_free(&gm->pulled);
    forget_pull(gm);
    OPENSSL_cleanse(gm, sizeof *gm);
    free(gm);
}

/* The getters take NULL (the engine contract): zero values, NULL pointers. */
vpn_gdoi_gm_state vpn_gdoi_gm_get_state(const vpn_gdoi_gm *gm)
{
    return gm ? gm->state : VPN_GDOI_GM_IDLE;
}
const vpn_gdoi_gm_stats *vpn_gdoi_gm_get_stats(const vpn_gdoi_gm *gm) { return gm ? &gm->st : NULL; }
void vpn_gdoi_gm_stats_get(const vpn_gdoi_gm *gm, vpn_gdoi_gm_stats *out)
{
    if (out == NULL)
        return;
    if (gm == NULL)
        memset(out, 0, sizeof *out);
    else
        *out = gm->st;
}
vpn_sa *vpn_gdoi_gm_tek(const vpn_gdoi_gm *gm) { return gm ? gm->cur : NULL; }

/* One ACL line against a packet's header fields (RFC 4301 4.4.1.1). */
static bool line_matches(const vpn_spd_sel *sel, const vpn_ip_info *ii)
{
    if (ii->version != 4 || (sel->proto && sel->proto != ii->proto))
        return false;
    if ((sel->src.len && !vpn_prefix_contains(&sel->src, &ii->src)) ||
        (sel->dst.len && !vpn_prefix_contains(&sel->dst, &ii->dst)))
        return false;
    if ((sel->sport_lo || sel->sport_hi) &&
        (!ii->has_ports || ii->sport < sel->sport_lo || ii->sport > sel->sport_hi))
        return false;
    if ((sel->dport_lo || sel->dport_hi) &&
        (!ii->has_ports || ii->dport < sel->dport_lo || ii->dport > sel->dport_hi))
        return false;
    return true;
}

bool vpn_gdoi_gm_policy_permits(const vpn_gdoi_gm *gm, const vpn_ip_info *ii)
{
    if (!gm || !ii || !gm->have_spd)
        return false;
    /* the KS's lines in ACL order, first match decides (RFC 6407 5.4) */
    for (size_t i = 0; i + 2 < gm->n_spd_ids; i++)
        if (line_matches(&gm->cur_sel[i], ii))
            return !(gm->cur_deny & (1u << i));
    return false;
}
uint32_t vpn_gdoi_gm_last_seq(const vpn_gdoi_gm *gm) { return gm ? gm->last_seq : 0; }
const uint8_t *vpn_gdoi_gm_kek_spi(const vpn_gdoi_gm *gm) { return gm ? gm->kek_spi : NULL; }
void vpn_gdoi_gm_kek(const vpn_gdoi_gm *gm, const uint8_t **key, const uint8_t **iv)
{
    bool have = gm != NULL && gm->have_kek;

    if (key)
        *key = have ? gm->kek_key : NULL;
    if (iv)
        *iv = have ? gm->kek_iv : NULL;
}

const vpn_ikev1_sa *vpn_gdoi_gm_phase1(const vpn_gdoi_gm *gm) { return gm ? gm->p1 : NULL; }

static void p1_send(void *user, vpn_ikev1_sa *sa, const uint8_t *dg, size_t len,
                    const uint8_t *view, size_t view_len)
{
    vpn_gdoi_gm *gm = user;
    (void)sa;
    gm->send(gm->user, &gm->cfg.local, &gm->cfg.ks, dg, len, view, view_len);
}

static int send_pull1(vpn_gdoi_gm *gm, uint64_t now);

int vpn_gdoi_gm_start(vpn_gdoi_gm *gm, uint64_t now)
{
    vpn_ikev1_ctx ctx;
    int rc;

    if (gm->state != VPN_GDOI_GM_IDLE && gm->state != VPN_GDOI_GM_REGISTERED)
        return VPN_ERR_STATE;
    gm->st.reg_attempts++;
    gm->retry_at = UINT64_MAX;
    /* a phase-1 SA that is still up with this server carries the new GROUPKEY-PULL */
    if (gm->p1 && gm->p1_idx == gm->ks_idx &&
        vpn_ikev1_sa_state(gm->p1) == VPN_IKEV1_ST_ESTABLISHED)
        return send_pull1(gm, now);
    vpn_ikev1_sa_del(gm->p1);
    gm->p1 = NULL;
    memset(&ctx, 0, sizeof ctx);
    ctx.rng = gm->rng;
    ctx.log = gm->log;
    ctx.send = p1_send;
    ctx.user = gm;
    if ((rc = vpn_ikev1_sa_new(&gm->p1, &ctx, &gm->cfg.ike, true)))
        return rc;
    gm->p1_idx = gm->ks_idx;
    if ((rc = vpn_ikev1_sa_start(gm->p1, now))) {
        /* nothing went out (no cookie, DH or nonce): no half-started
         * phase 1 is kept, so the caller's (or the timer's) next call
         * starts afresh instead of meeting VPN_ERR_STATE forever */
        vpn_ikev1_sa_del(gm->p1);
        gm->p1 = NULL;
        return rc;
    }
    gm->state = VPN_GDOI_GM_PHASE1;
    return 0;
}

/* Drops the kept PULL message (its view holds keying material). */
static void forget_pull(vpn_gdoi_gm *gm)
{
    if (gm->last) {
        OPENSSL_cleanse(gm->last, gm->last_out_len + gm->last_view_len);
        free(gm->last);
    }
    gm->last = NULL;
    gm->last_out_len = gm->last_view_len = 0;
}

/* Sends a PULL message and keeps it for retransmission (without memory
 * to keep it, only the retransmissions are lost). */
static void pull_send(vpn_gdoi_gm *gm, const uint8_t *dg, size_t len, const uint8_t *view,
                      size_t vlen, uint64_t now)
{
    forget_pull(gm);
    gm->last = vpn_malloc(&gm->cfg.alloc, len + vlen);
    if (!gm->last)
        gm_report(gm, VPN_GDOI_GM_EV_INTERNAL, VPN_ERR_NOMEM, 0, "keeping a PULL message");
    if (gm->last) {
        memcpy(gm->last, dg, len);
        if (vlen)
            memcpy(gm->last + len, view, vlen);
        gm->last_out_len = len;
        gm->last_view_len = vlen;
    }
    gm->retrans_n = 0;
    gm->retrans_at = now + VPN_IKEV1_DEFAULT_RETRANS_NS;
    gm->send(gm->user, &gm->cfg.local, &gm->cfg.ks, dg, len, vlen ? view : NULL, vlen);
}

static void hdr_of(const vpn_gdoi_gm *gm, vpn_isakmp_hdr *h)
{
    memset(h, 0, sizeof *h);
    memcpy(h->icookie, vpn_ikev1_sa_icookie(gm->p1), 8);
    memcpy(h->rcookie, vpn_ikev1_sa_rcookie(gm->p1), 8);
    h->version = VPN_ISAKMP_VERSION;
    h->exchange = VPN_GDOI_EXCH_PULL;
    h->msg_id = gm->msg_id;
}

/* GROUPKEY-PULL message 1: HDR*, HASH(1), Ni, ID (RFC 6407 3.2). */
static int send_pull1(vpn_gdoi_gm *gm, uint64_t now)
{
    static const vpn_isakmp_view none = {NULL, 0};
    uint8_t buf[GDOI_MSG_MAX], view[GDOI_MSG_MAX], *slot;
    vpn_isakmp_bld b;
    vpn_isakmp_hdr h;
    size_t len, vlen;
    int rc;

    gm->msg_id = 0;
    while (gm->msg_id == 0)
        if ((rc = vpn_rng_bytes(gm->rng, &gm->msg_id, 4)))
            return rc;
    if ((rc = vpn_rng_bytes(gm->rng, gm->ni, sizeof gm->ni)) ||
        (rc = vpn_ikev1_sa_p2_iv(gm->p1, gm->msg_id, gm->iv)))
        return rc;
    hdr_of(gm, &h);
    vpn_isakmp_bld_init(&b, buf, sizeof buf, &h);
    vpn_isakmp_bld_placeholder(&b, VPN_ISAKMP_PL_HASH, vpn_ikev1_sa_prf_len(gm->p1), &slot);
    vpn_isakmp_bld_raw(&b, VPN_ISAKMP_PL_NONCE, gm->ni, sizeof gm->ni);
    vpn_gdoi_bld_group_id(&b, gm->cfg.group_id);
    if ((rc = gdoi_pull_seal(gm->p1, &b, 1, none, none, slot, gm->iv, &len, view, &vlen)))
        return rc;
    gm->state = VPN_GDOI_GM_PULL1;
    pull_send(gm, buf, len, view, vlen, now);
    return 0;
}

/* Four octets of an IPv4 ID, reversed if the sender wrote them from a
 * little-endian host integer (see idsel_prefix). */
static void ip4_of(const uint8_t *p, bool swapped, vpn_addr *a)
{
    uint8_t b[4] = {p[0], p[1], p[2], p[3]};

    if (swapped) {
        b[0] = p[3];
        b[1] = p[2];
        b[2] = p[1];
        b[3] = p[0];
    }
    vpn_addr_from_bytes(a, b, 4);
}

/*
 * An SA TEK selector (RFC 6407 5.4.1): an IPv4 address or subnet.
 * swapped: the TEK came in gdoid's layout, whose IPv4 ID data is the
 * address in little-endian (host) order while its SA KEK IDs in the same
 * message are in network order (README, GET VPN notes: its TEKs read
 * 10.0.224.37 -> 239.1.1.1 only this way, its members' and group's real
 * addresses). A subnet's mask must then be contiguous in that order too,
 * which checks the reading; a non-contiguous mask is refused.
 */
static int idsel_prefix(const vpn_gdoi_idsel *id, bool swapped, vpn_prefix *p)
{
    vpn_addr mask;

    memset(p, 0, sizeof *p);
    if (id->type == VPN_ISAKMP_ID_IPV4_ADDR && id->data.len == 4) {
        ip4_of(id->data.p, swapped, &p->addr);
        p->len = 32;
        return 0;
    }
    if (id->type == VPN_ISAKMP_ID_IPV4_ADDR_SUBNET && id->data.len == 8) {
        ip4_of(id->data.p, swapped, &p->addr);
        ip4_of(id->data.p + 4, swapped, &mask);
        return vpn_mask_to_len(&mask, false, &p->len) ? VPN_ERR_POLICY : 0;
    }
    return VPN_ERR_POLICY;
}

static int stage_sat(vpn_gdoi_gm *gm, gm_stage *s, const vpn_isakmp_payload *sub)
{
    vpn_gdoi_sat t;
    vpn_ipsec_doi_attrs a;
    vpn_isakmp_attr at;
    uint64_t v;
    uint16_t b;
    int rc;

    if (vpn_gdoi_sat_decode(sub->body, sub->body_len, &t))
        return VPN_ERR_MALFORMED;
    if (t.protocol_id != VPN_GDOI_TEK_PROTO_ESP)
        return refuse(gm, "SA TEK protocol %u: only ESP", t.protocol_id);
    if (vpn_ipsec_doi_attrs_decode(t.attrs.p, t.attrs.len, &a))
        return VPN_ERR_MALFORMED;
    if (t.transform_id == VPN_IPSEC_DOI_ESP_3DES && !gm->cfg.allow_legacy)
        return refuse(gm, "SA TEK transform %u (ESP_3DES): legacy algorithms not enabled",
                      t.transform_id);
    if (t.transform_id != VPN_IPSEC_DOI_ESP_AES_CBC &&
        t.transform_id != VPN_IPSEC_DOI_ESP_AES_GCM_16 && t.transform_id != VPN_IPSEC_DOI_ESP_3DES)
        return refuse(gm, "SA TEK transform %u: not supported", t.transform_id);
    if ((a.present & (1u << VPN_IPSEC_DOI_ATTR_ENCAP_MODE)) && a.encap != VPN_IPSEC_DOI_ENCAP_TUNNEL)
        return refuse(gm, "SA TEK encapsulation mode %u: tunnel only", a.encap);
    /* RFC 6407 5.4.1 Address Preservation: both addresses (ours), or the
     * destination only (gdoid): the outer source is then this member */
    s->addr_pres = VPN_GDOI_ADDR_PRES_BOTH;
    if (a.present & (1u << VPN_IPSEC_DOI_ATTR_ADDR_PRESERVATION)) {
        if (a.addr_pres != VPN_GDOI_ADDR_PRES_BOTH && a.addr_pres != VPN_GDOI_ADDR_PRES_DST)
            return refuse(gm, "SA TEK address preservation %u: only 3 and 4", a.addr_pres);
        s->addr_pres = (uint8_t)a.addr_pres;
    }
    s->recv_only = false;
    if (a.present & (1u << VPN_IPSEC_DOI_ATTR_SA_DIRECTION)) {
        if (a.sa_dir == VPN_GDOI_SA_DIR_RECEIVER)
            s->recv_only = true;
        else if (a.sa_dir != VPN_GDOI_SA_DIR_SYMMETRIC) /* sender-only: not for a member */
            return refuse(gm, "SA TEK SA direction %u: not for a member", a.sa_dir);
    }
    memset(&s->sel, 0, sizeof s->sel);
    s->sel.family = VPN_AF_INET;
    s->sel.proto = t.ip_protocol;
    if (idsel_prefix(&t.src, t.layout == VPN_GDOI_LAYOUT_GDOID, &s->sel.src) ||
        idsel_prefix(&t.dst, t.layout == VPN_GDOI_LAYOUT_GDOID, &s->sel.dst))
        return refuse(gm, "SA TEK ID types %u/%u: IPv4 address or subnet only", t.src.type,
                      t.dst.type);
    s->sel.sport_lo = s->sel.sport_hi = t.src.port;
    s->sel.dport_lo = s->sel.dport_hi = t.dst.port;
    s->encr_id = t.transform_id; /* ESP IDs 3, 12 and 20 equal IKEv2's */
    s->key_bits = (a.present & (1u << VPN_IPSEC_DOI_ATTR_KEY_LENGTH)) ? a.key_len
                  : t.transform_id == VPN_IPSEC_DOI_ESP_3DES                ? 0
                                                                           : 128;
    /* gdoid counts GCM's 32-bit salt in the Key Length (160 for AES-128,
     * RFC 4106 8.4 says 128): no AES key has these sizes, so unambiguous */
    if (s->encr_id == VPN_ENCR_AES_GCM_16 &&
        (s->key_bits == 160 || s->key_bits == 224 || s->key_bits == 288))
        s->key_bits -= 32;
    s->integ_id = (a.present & (1u << VPN_IPSEC_DOI_ATTR_AUTH_ALG)) ? gdoi_integ_of(a.auth_alg)
                                                                  : VPN_INTEG_NONE;
    if ((a.present & (1u << VPN_IPSEC_DOI_ATTR_AUTH_ALG)) && s->integ_id == VPN_INTEG_NONE)
        return refuse(gm, "SA TEK authentication algorithm %u: not supported", a.auth_alg);
    if (gdoi_tek_key_lens(s->encr_id, s->key_bits, s->integ_id, &s->alg_len, &s->integ_len))
        return refuse(gm, "SA TEK transform %u, key length %u: not supported", t.transform_id,
                      s->key_bits);
    s->life_s = (a.life_types & (1u << VPN_IPSEC_DOI_LIFE_SECONDS)) ? a.life_secs
                                                                   : VPN_GDOI_DEFAULT_TEK_LIFETIME;
    if (s->life_s == 0 || s->life_s > 0xffffffffu)
        return refuse(gm, "SA TEK lifetime %llu s", (unsigned long long)s->life_s);
    /* our private-use TBAR attributes (gdoi.h) */
    s->tbar_s = 0;
    s->have_pt = false;
    rc = vpn_isakmp_attr_find(t.attrs.p, t.attrs.len, VPN_GDOI_TEK_ATTR_TBAR_WINDOW, &at);
    if (rc == 1) {
        if (vpn_isakmp_attr_basic(&at, &b) || b == 0)
            return VPN_ERR_MALFORMED;
        s->tbar_s = b;
    }
    rc = vpn_isakmp_attr_find(t.attrs.p, t.attrs.len, VPN_GDOI_TEK_ATTR_PSEUDOTIME, &at);
    if (rc == 1) {
        if (vpn_isakmp_attr_uint(&at, UINT64_MAX / 2, &v))
            return VPN_ERR_MALFORMED;
        s->have_pt = true;
        s->pt_ms = v;
    }
    rc = vpn_isakmp_attr_find(t.attrs.p, t.attrs.len, VPN_GDOI_TEK_ATTR_BYPASS, &at);
    s->bypass = false;
    if (rc == 1) {
        if (vpn_isakmp_attr_basic(&at, &b) || b != 1)
            return VPN_ERR_MALFORMED;
        s->bypass = true;
    }
    s->deny_mask = s->bypass ? 1u : 0u;
    s->tek_spi = t.spi;
    if (t.spi < 256)
        return refuse(gm, "SA TEK SPI 0x%08x: reserved (RFC 4303 2.1)", t.spi);
    s->tek = true;
    return 0;
}

static const char *kek_alg_name(uint16_t a)
{
    return a == VPN_GDOI_KEK_ALG_DES ? "DES" : a == VPN_GDOI_KEK_ALG_3DES ? "3DES"
         : a == VPN_GDOI_KEK_ALG_AES ? "AES" : "unknown";
}

static const char *sig_hash_name(uint16_t h)
{
    return h == VPN_GDOI_SIG_HASH_MD5      ? "MD5"
           : h == VPN_GDOI_SIG_HASH_SHA1   ? "SHA-1"
           : h == VPN_GDOI_SIG_HASH_SHA256 ? "SHA-256"
           : h == VPN_GDOI_SIG_HASH_SHA384 ? "SHA-384"
           : h == VPN_GDOI_SIG_HASH_SHA512 ? "SHA-512"
                                           : "unknown";
}

/* The RFC 6407 5.3.6 signature hash as a vpn_sig hash (0: none). */
static uint8_t sig_hash_of(uint16_t h)
{
    return h == VPN_GDOI_SIG_HASH_SHA1     ? VPN_IKE_HASH_SHA1
           : h == VPN_GDOI_SIG_HASH_SHA256 ? VPN_IKE_HASH_SHA2_256
           : h == VPN_GDOI_SIG_HASH_SHA384 ? VPN_IKE_HASH_SHA2_384
           : h == VPN_GDOI_SIG_HASH_SHA512 ? VPN_IKE_HASH_SHA2_512
                                           : VPN_IKE_HASH_NONE;
}

/* The KEK policy of an SA KEK (RFC 6407 5.3). */
static int stage_kek_policy(vpn_gdoi_gm *gm, gm_stage *s)
{
    uint16_t id;

    if (!(s->ka.present & (1u << VPN_GDOI_KEK_ALG)))
        return refuse(gm, "SA KEK without KEK_ALGORITHM");
    s->kek_bits = (s->ka.present & (1u << VPN_GDOI_KEK_KEY_LEN)) ? s->ka.key_len : 0;
    if (s->ka.alg == VPN_GDOI_KEK_ALG_3DES && !gm->cfg.allow_legacy)
        return refuse(gm, "KEK_ALGORITHM %u (3DES): legacy algorithms not enabled", s->ka.alg);
    if (gdoi_kek_cipher(s->ka.alg, s->kek_bits, &id, &s->kek_key_len, &s->kek_blk))
        return refuse(gm, "KEK_ALGORITHM %u (%s), KEK_KEY_LENGTH %u: not supported", s->ka.alg,
                      kek_alg_name(s->ka.alg), s->kek_bits);
    if (s->ka.sig_alg != VPN_GDOI_SIG_RSA)
        return refuse(gm, "SIG_ALGORITHM %u: only RSA (1)", s->ka.sig_alg);
    if (s->ka.sig_hash == VPN_GDOI_SIG_HASH_SHA1 && !gm->cfg.allow_legacy)
        return refuse(gm, "SIG_HASH_ALGORITHM %u (SHA-1): legacy algorithms not enabled",
                      s->ka.sig_hash);
    if (sig_hash_of(s->ka.sig_hash) == VPN_IKE_HASH_NONE)
        return refuse(gm, "SIG_HASH_ALGORITHM %u (%s): not supported", s->ka.sig_hash,
                      sig_hash_name(s->ka.sig_hash));
    if (!(s->ka.present & (1u << VPN_GDOI_KEK_LIFETIME)) || s->ka.lifetime == 0)
        return refuse(gm, "SA KEK without KEK_KEY_LIFETIME");
    return 0;
}

/* The SA payload of message 2 or of a PUSH (RFC 6407 5.2). */
static int stage_sa(vpn_gdoi_gm *gm, gm_stage *s, const vpn_isakmp_payload *p, uint8_t exch)
{
    vpn_isakmp_sa sa;
    vpn_isakmp_chain c;
    vpn_isakmp_payload sub;
    int rc;

    if (vpn_isakmp_sa_decode(p->body, p->body_len, exch, &sa) || !sa.gdoi ||
        sa.doi != VPN_ISAKMP_DOI_GDOI)
        return VPN_ERR_MALFORMED;
    vpn_gdoi_sa_iter_init(&c, &sa);
    while ((rc = vpn_gdoi_sa_next(&c, &sub)) == 1) {
        if (sub.type == VPN_GDOI_PL_SAK) {
            vpn_gdoi_sak k;
            if (vpn_gdoi_sak_decode(sub.body, sub.body_len, &k) ||
                vpn_gdoi_kek_attrs_decode(k.attrs.p, k.attrs.len, &s->ka))
                return VPN_ERR_MALFORMED;
            if ((rc = stage_kek_policy(gm, s)))
                return rc;
            memcpy(s->kek_spi, k.spi, sizeof s->kek_spi);
            if (k.dst.type == VPN_ISAKMP_ID_IPV4_ADDR && k.dst.data.len == 4)
                vpn_addr_from_bytes(&s->kek_dst, k.dst.data.p, 4);
            s->kek = true;
        } else if (sub.type == VPN_GDOI_PL_SAT && !s->tek) {
            if ((rc = stage_sat(gm, s, &sub)))
                return rc;
        } else if (sub.type == VPN_GDOI_PL_SAT) {
            /* every TEK of the SA must be acceptable; up to GM_MAX_EXTRA kept */
            gm_stage *t = vpn_calloc(&gm->cfg.alloc, 1, sizeof *t);
            gm_xtek *x = &s->x[s->nx];
            if (!t)
                return VPN_ERR_NOMEM;
            rc = stage_sat(gm, t, &sub);
            if (!rc && t->tek_spi == s->tek_spi) {
                /* another permit line of the same TEK (gdoi.h); it must
                 * say the same of the SA as the first */
                if (t->encr_id != s->encr_id || t->key_bits != s->key_bits ||
                    t->integ_id != s->integ_id || t->life_s != s->life_s ||
                    t->recv_only != s->recv_only || t->addr_pres != s->addr_pres ||
                    t->tbar_s != s->tbar_s)
                    rc = refuse(gm, "SA TEK SPI 0x%08x twice with different attributes",
                                t->tek_spi);
                else if (s->n_more == VPN_GDOI_TEK_SELS_MAX - 1)
                    rc = refuse(gm, "SA TEK SPI 0x%08x: more than %d permit lines", t->tek_spi,
                                VPN_GDOI_TEK_SELS_MAX);
                else {
                    if (t->bypass)
                        s->deny_mask |= 1u << (s->n_more + 1);
                    s->more[s->n_more++] = t->sel;
                }
                stage_free(t);
                free(t);
                if (rc)
                    return rc;
                continue;
            }
            for (size_t i = 0; !rc && i < s->nx; i++)
                if (s->x[i].spi == t->tek_spi)
                    rc = refuse(gm, "SA TEK SPI 0x%08x twice", t->tek_spi);
            if (!rc && s->nx < GM_MAX_EXTRA) {
                memset(x, 0, sizeof *x);
                x->spi = t->tek_spi;
                x->encr_id = t->encr_id;
                x->key_bits = t->key_bits;
                x->integ_id = t->integ_id;
                x->alg_len = t->alg_len;
                x->integ_len = t->integ_len;
                x->life_s = t->life_s;
                x->addr_pres = t->addr_pres;
                x->sel = t->sel;
                s->nx++;
            } else if (!rc) {
                vpn_log_emit(&gm->log, VPN_LOG_WARN, ENGINE,
                             "SA TEK SPI 0x%08x ignored: more than %d TEKs", t->tek_spi,
                             1 + GM_MAX_EXTRA);
            }
            stage_free(t);
            free(t);
            if (rc)
                return rc;
        }
        if (sub.type == VPN_GDOI_PL_GAP) {
            vpn_isakmp_view ga;
            vpn_gdoi_gap_attrs g;
            if (vpn_gdoi_gap_decode(sub.body, sub.body_len, &ga) ||
                vpn_gdoi_gap_attrs_decode(ga.p, ga.len, &g))
                return VPN_ERR_MALFORMED;
            s->gap_act = (g.present & (1u << VPN_GDOI_GAP_ACTIVATION_DELAY)) ? g.activation_delay : 0;
            s->gap_deact =
                (g.present & (1u << VPN_GDOI_GAP_DEACTIVATION_DELAY)) ? g.deactivation_delay : 0;
        }
    }
    if (rc < 0)
        return VPN_ERR_MALFORMED;
    if (s->tek && s->deny_mask == (2u << s->n_more) - 1)
        return refuse(gm, "SA TEK SPI 0x%08x: deny lines only", s->tek_spi);
    /* a PUSH may carry only a new KEK (gdoid's KEK rollover) */
    if (s->tek || (s->kek && exch == VPN_GDOI_EXCH_PUSH))
        return 0;
    return refuse(gm, "SA without SA TEK");
}

/*
 * KD (RFC 6407 5.6): keys for the staged TEK and KEK, nothing else.
 * cur_kek: the KEK SPI we hold (a PUSH), else NULL. A KEK key packet is
 * for the SA KEK's SPI; gdoid's KEK rollover instead labels the new
 * KEK's key with the SPI of the KEK it replaces (the one this PUSH was
 * encrypted with) while its SA KEK announces the new SPI: that is
 * accepted as the new KEK's key, as it can mean nothing else.
 */
static int stage_kd(vpn_gdoi_gm *gm, gm_stage *s, const vpn_isakmp_payload *p,
                    const uint8_t *cur_kek)
{
    vpn_gdoi_kd kd;
    vpn_gdoi_kp_iter it;
    vpn_gdoi_kp kp;
    int rc;

    if (vpn_gdoi_kd_decode(p->body, p->body_len, &kd))
        return VPN_ERR_MALFORMED;
    vpn_gdoi_kp_iter_init(&it, &kd);
    while ((rc = vpn_gdoi_kp_next(&it, &kp)) == 1) {
        if (kp.type == VPN_GDOI_KD_TEK) {
            vpn_gdoi_tek_keys k;
            if (kp.spi.len != 4 || vpn_gdoi_tek_keys_decode(kp.attrs.p, kp.attrs.len, &k))
                return VPN_ERR_MALFORMED;
            for (size_t i = 0; i < s->nx; i++) {
                gm_xtek *x = &s->x[i];
                if (vpn_load32(kp.spi.p) != x->spi || x->keys)
                    continue;
                if (k.alg_key.len != x->alg_len || k.integ_key.len != x->integ_len)
                    return refuse(gm, "KD TEK keys of %zu+%zu octets for a policy of %zu+%zu",
                                  k.alg_key.len, k.integ_key.len, x->alg_len, x->integ_len);
                memcpy(x->alg_key, k.alg_key.p, k.alg_key.len);
                if (k.integ_key.len)
                    memcpy(x->integ_key, k.integ_key.p, k.integ_key.len);
                x->keys = true;
            }
            if (!s->tek || vpn_load32(kp.spi.p) != s->tek_spi || s->kd_tek)
                continue; /* keys for a TEK we were not told about */
            if (k.alg_key.len != s->alg_len || k.integ_key.len != s->integ_len)
                return refuse(gm, "KD TEK keys of %zu+%zu octets for a policy of %zu+%zu",
                              k.alg_key.len, k.integ_key.len, s->alg_len, s->integ_len);
            memcpy(s->alg_key, k.alg_key.p, k.alg_key.len);
            if (k.integ_key.len)
                memcpy(s->integ_key, k.integ_key.p, k.integ_key.len);
            s->kd_tek = true;
        } else if (kp.type == VPN_GDOI_KD_KEK) {
            vpn_gdoi_kek_keys k;
            bool rollover;
            if (vpn_gdoi_kek_keys_decode(kp.attrs.p, kp.attrs.len, &k))
                return VPN_ERR_MALFORMED;
            if (!s->kek || kp.spi.len != VPN_GDOI_KEK_SPI_LEN || s->kd_kek)
                return refuse(gm, "KD KEK key packet without its SA KEK");
            rollover = cur_kek && memcmp(s->kek_spi, cur_kek, VPN_GDOI_KEK_SPI_LEN) &&
                       !memcmp(kp.spi.p, cur_kek, VPN_GDOI_KEK_SPI_LEN);
            if (memcmp(kp.spi.p, s->kek_spi, VPN_GDOI_KEK_SPI_LEN) && !rollover)
                return refuse(gm, "KD KEK SPI %02x%02x..: neither the SA KEK's nor ours",
                              kp.spi.p[0], kp.spi.p[1]);
            /* KEK_ALGORITHM_KEY: the IV (one block) then the key */
            if (k.alg_key.len != s->kek_blk + s->kek_key_len)
                return refuse(gm, "KEK_ALGORITHM_KEY of %zu octets: %s-%u wants %zu (IV and key)",
                              k.alg_key.len, kek_alg_name(s->ka.alg),
                              s->kek_bits ? s->kek_bits : 192, s->kek_blk + s->kek_key_len);
            memcpy(s->kek_iv, k.alg_key.p, s->kek_blk);
            memcpy(s->kek_key, k.alg_key.p + s->kek_blk, s->kek_key_len);
            if (k.sig_key.len) {
                vpn_sig_key *pub;
                if (vpn_sig_key_load_public(&pub, k.sig_key.p, k.sig_key.len))
                    return VPN_ERR_MALFORMED;
                if (vpn_sig_key_type_of(pub) != VPN_SIG_KEY_RSA) {
                    vpn_sig_key_del(pub);
                    return refuse(gm, "SIG_ALGORITHM_KEY: not an RSA key");
                }
                vpn_sig_key_del(s->pub);
                s->pub = pub;
            }
            s->kd_kek = true;
        }
    }
    if (rc < 0)
        return VPN_ERR_MALFORMED;
    for (size_t i = 0; i < s->nx; i++)
        if (!s->x[i].keys)
            return refuse(gm, "KD without the keys of SA TEK 0x%08x", s->x[i].spi);
    if (s->tek ? s->kd_tek : s->kd_kek)
        return 0;
    return refuse(gm, s->tek ? "KD without the keys of SA TEK 0x%08x" : "KD without the KEK keys",
                  s->tek_spi);
}

static bool sel_eq(const vpn_spd_sel *a, const vpn_spd_sel *b)
{
    return a->proto == b->proto && a->src.len == b->src.len && a->dst.len == b->dst.len &&
           vpn_addr_eq(&a->src.addr, &b->src.addr) && vpn_addr_eq(&a->dst.addr, &b->dst.addr) &&
           a->sport_lo == b->sport_lo && a->dport_lo == b->dport_lo;
}

/* The protect entries' SA (NULL: clear); the first error, entries set up to it. */
static int set_protect_sa(vpn_gdoi_gm *gm, vpn_sa *sa)
{
    int rc = 0;
    for (size_t i = 2; i < gm->n_spd_ids && !rc; i++)
        if (!(gm->cur_deny & (1u << (i - 2))))
            rc = vpn_spd_set_sa(gm->cfg.spd, gm->spd_ids[i], sa);
    return rc;
}

/* Are the stage's permit lines the ones installed? */
static bool sels_eq(const vpn_gdoi_gm *gm, const gm_stage *s)
{
    if (!gm->have_spd || gm->n_spd_ids != 3u + s->n_more || gm->cur_deny != s->deny_mask ||
        !sel_eq(&s->sel, &gm->cur_sel[0]))
        return false;
    for (size_t i = 0; i < s->n_more; i++)
        if (!sel_eq(&s->more[i], &gm->cur_sel[1 + i]))
            return false;
    return true;
}

/*
 * The SPD entries of a policy: the GDOI bypass, then one protect entry per
 * permit line in the KS's ACL order (same seq: the SPD keeps insertion
 * order), so the crypto map evaluates them as IOS does its ACL.
 */
static int install_spd(vpn_gdoi_gm *gm, const gm_stage *s, vpn_sa *sa, bool recv_only)
{
    vpn_spd_entry e;
    uint32_t ids[2 + VPN_GDOI_TEK_SELS_MAX];
    size_t n = 0, nsel = 1u + s->n_more;
    int rc;

    if (sels_eq(gm, s) && recv_only == gm->cur_recv_only)
        return set_protect_sa(gm, recv_only ? NULL : sa);
    /* GDOI itself is never encrypted with the TEK */
    memset(&e, 0, sizeof e);
    e.seq = gm->cfg.spd_seq;
    e.sel.family = VPN_AF_INET;
    e.sel.proto = 17;
    e.sel.sport_lo = e.sel.sport_hi = VPN_GDOI_PORT;
    e.action = VPN_SPD_BYPASS;
    if ((rc = vpn_spd_add(gm->cfg.spd, &e, &ids[n])))
        goto fail;
    n++;
    e.sel.sport_lo = e.sel.sport_hi = 0;
    e.sel.dport_lo = e.sel.dport_hi = VPN_GDOI_PORT;
    if ((rc = vpn_spd_add(gm->cfg.spd, &e, &ids[n])))
        goto fail;
    n++;
    for (size_t i = 0; i < nsel; i++) {
        memset(&e, 0, sizeof e);
        /* the bypass's seq: SPD insertion order puts the lines after it,
         * and no seq above spd_seq is taken, so a later crypto map entry
         * (spd_seq + 1 or more) sharing the SPD always comes after us */
        e.seq = gm->cfg.spd_seq;
        e.sel = i ? s->more[i - 1] : s->sel;
        /* receive-only: the policy's traffic leaves in clear; a deny
         * line's always does */
        if (recv_only || (s->deny_mask & (1u << i))) {
            e.action = VPN_SPD_BYPASS;
            e.sa = NULL;
        } else {
            e.action = VPN_SPD_PROTECT;
            e.sa = sa;
        }
        if ((rc = vpn_spd_add(gm->cfg.spd, &e, &ids[n])))
            goto fail;
        n++;
    }
    if (gm->have_spd)
        for (size_t i = 0; i < gm->n_spd_ids; i++)
            vpn_spd_remove(gm->cfg.spd, gm->spd_ids[i]);
    memcpy(gm->spd_ids, ids, n * sizeof ids[0]);
    gm->n_spd_ids = n;
    gm->cur_sel[0] = s->sel;
    memcpy(gm->cur_sel + 1, s->more, s->n_more * sizeof s->more[0]);
    gm->cur_deny = s->deny_mask;
    gm->cur_recv_only = recv_only;
    gm->have_spd = true;
    return 0;
fail:
    while (n)
        vpn_spd_remove(gm->cfg.spd, ids[--n]);
    return rc;
}

static void update_rereg(vpn_gdoi_gm *gm)
{
    /* keys lapse when the KEK or the newest TEK does */
    uint64_t newest = 0, end, lead = (uint64_t)gm->cfg.rereg_lead_s * NS;
    for (size_t i = 0; i < gm->nteks; i++)
        if (gm->teks[i].expires > newest)
            newest = gm->teks[i].expires;
    end = newest < gm->kek_expires ? newest : gm->kek_expires;
    gm->rereg_at = end > lead ? end - lead : 0;
}

static bool tek_known(const vpn_gdoi_gm *gm, uint32_t spi)
{
    for (size_t i = 0; i < gm->nteks; i++)
        if (gm->teks[i].spi == spi)
            return true;
    return false;
}

/* A further TEK into the SAD, for receiving only (see gm_xtek). */
static int add_xtek(vpn_gdoi_gm *gm, gm_xtek *x, uint64_t now)
{
    vpn_sa_config c;

    memset(&c, 0, sizeof c);
    c.spi = x->spi;
    c.dir = VPN_SA_IN;
    c.mode = x->addr_pres == VPN_GDOI_ADDR_PRES_DST ? VPN_ESP_TUNNEL_ADDR_PRESERVE_DST
                                                    : VPN_ESP_TUNNEL_ADDR_PRESERVE;
    c.group = true;
    c.encr_id = x->encr_id;
    c.encr_key_bits = x->key_bits;
    c.encr_key = x->alg_key;
    c.encr_key_len = x->alg_len;
    c.integ_id = x->integ_id;
    c.integ_key = x->integ_len ? x->integ_key : NULL;
    c.integ_key_len = x->integ_len;
    c.iv_mode = VPN_SA_IV_RANDOM;
    c.dscp = VPN_SA_DSCP_COPY;
    c.hard.time_ns = x->life_s * NS;
    return vpn_sad_add(gm->cfg.sad, &c, now, &x->sa);
}

static void drop_xteks(vpn_gdoi_gm *gm, gm_stage *s)
{
    for (size_t i = 0; i < s->nx; i++)
        if (s->x[i].sa) {
            vpn_sad_remove(gm->cfg.sad, s->x[i].sa);
            s->x[i].sa = NULL;
        }
}

/*
 * Applies a fully checked stage: TEKs into the SAD and SPD, KEK and KS
 * key, SEQ. Only the SAD and SPD calls can fail, and they come first.
 */
static int commit(vpn_gdoi_gm *gm, gm_stage *s, uint32_t seq, bool pull, uint64_t now)
{
    vpn_sa_config c;
    vpn_sa *sa = NULL;
    bool fresh = false, delay;
    int rc;

    if (s->tek ? !s->kd_tek : (pull || !s->kek))
        return VPN_ERR_POLICY;
    if (pull && (!s->kek || !s->kd_kek || !s->pub))
        return VPN_ERR_POLICY;
    if (!pull && s->kek && memcmp(s->kek_spi, gm->kek_spi, sizeof gm->kek_spi) && !s->kd_kek)
        return VPN_ERR_POLICY; /* a new KEK SPI without its key */
    if (!pull && s->kek && !s->kd_kek &&
        (s->ka.alg != gm->kek_alg || s->kek_bits != gm->kek_bits))
        return refuse(gm, "SA KEK changes the algorithm without new keys");
    if (!s->tek)
        goto kek; /* a KEK-only rekey */
    for (size_t i = 0; i < s->nx; i++) {
        s->x[i].sa = NULL;
        if (!tek_known(gm, s->x[i].spi) && (rc = add_xtek(gm, &s->x[i], now))) {
            drop_xteks(gm, s);
            return rc;
        }
    }
    for (size_t i = 0; i < gm->nteks; i++)
        if (gm->teks[i].spi == s->tek_spi)
            sa = gm->teks[i].sa;
    if (!sa) {
        memset(&c, 0, sizeof c);
        c.spi = s->tek_spi;
        c.dir = s->recv_only ? VPN_SA_IN : VPN_SA_BOTH;
        c.mode = s->addr_pres == VPN_GDOI_ADDR_PRES_DST ? VPN_ESP_TUNNEL_ADDR_PRESERVE_DST
                                                        : VPN_ESP_TUNNEL_ADDR_PRESERVE;
        if (c.mode == VPN_ESP_TUNNEL_ADDR_PRESERVE_DST)
            c.local = gm->cfg.local; /* the outer source */
        c.group = true;
        c.encr_id = s->encr_id;
        c.encr_key_bits = s->key_bits;
        c.encr_key = s->alg_key;
        c.encr_key_len = s->alg_len;
        c.integ_id = s->integ_id;
        c.integ_key = s->integ_len ? s->integ_key : NULL;
        c.integ_key_len = s->integ_len;
        c.tbar_window_ms = s->tbar_s * 1000u;
        /* many senders share the key: random IVs for GCM rather than
         * counters without RFC 6054 sender IDs */
        c.iv_mode = s->encr_id == VPN_ENCR_AES_GCM_16 || s->encr_id == VPN_ENCR_3DES
                        ? VPN_SA_IV_RANDOM /* 3DES: the counter IV is AES-only */
                        : VPN_SA_IV_COUNTER;
        c.dscp = VPN_SA_DSCP_COPY;
        c.hard.time_ns = s->life_s * NS;
        if ((rc = vpn_sad_add(gm->cfg.sad, &c, now, &sa))) {
            drop_xteks(gm, s);
            return rc;
        }
        fresh = true;
    }
    /* RFC 6407 5.5: a rekey with an activation delay keeps sending on the
     * current TEK for that long (registration uses the TEK at once) */
    delay = !pull && gm->cur && gm->cur != sa && s->gap_act && gm->have_spd &&
            sels_eq(gm, s) && !s->recv_only && !gm->cur_recv_only;
    if (!delay && (rc = install_spd(gm, s, sa, s->recv_only))) {
        if (fresh)
            vpn_sad_remove(gm->cfg.sad, sa);
        drop_xteks(gm, s);
        return rc;
    }
    if (s->have_pt)
        vpn_sa_tbar_sync(sa, now, s->pt_ms);
    if (fresh) {
        if (gm->nteks == GM_MAX_TEKS) {
            if (gm->teks[0].sa == gm->pending) {
                gm->pending = NULL;
                gm->activate_at = UINT64_MAX;
            }
            if (gm->teks[0].sa == gm->cur) {
                /* the oldest is still the one we send on: use the newest */
                gm->cur = sa;
                set_protect_sa(gm, s->recv_only ? NULL : sa);
            }
            vpn_sad_remove(gm->cfg.sad, gm->teks[0].sa);
            memmove(gm->teks, gm->teks + 1, (GM_MAX_TEKS - 1) * sizeof gm->teks[0]);
            gm->nteks--;
        }
        gm->teks[gm->nteks].sa = sa;
        gm->teks[gm->nteks].spi = s->tek_spi;
        gm->teks[gm->nteks].expires = now + s->life_s * NS;
        gm->nteks++;
    }
    if (!pull && s->gap_deact)
        for (size_t i = 0; i < gm->nteks; i++)
            if (gm->teks[i].sa != sa && gm->teks[i].expires > now + (uint64_t)s->gap_deact * NS)
                gm->teks[i].expires = now + (uint64_t)s->gap_deact * NS;
    for (size_t i = 0; i < s->nx; i++) {
        gm_xtek *x = &s->x[i];
        if (!x->sa)
            continue;
        if (gm->nteks == GM_MAX_TEKS) {
            vpn_log_emit(&gm->log, VPN_LOG_WARN, ENGINE,
                         "SA TEK SPI 0x%08x not kept: %d TEKs held", x->spi, GM_MAX_TEKS);
            vpn_sad_remove(gm->cfg.sad, x->sa);
        } else {
            gm->teks[gm->nteks].sa = x->sa;
            gm->teks[gm->nteks].spi = x->spi;
            gm->teks[gm->nteks].expires = now + x->life_s * NS;
            gm->nteks++;
        }
        x->sa = NULL;
    }
    if (delay) {
        gm->pending = sa;
        gm->activate_at = now + (uint64_t)s->gap_act * NS;
    } else {
        gm->cur = sa;
        gm->pending = NULL;
        gm->activate_at = UINT64_MAX;
    }
kek:
    if (s->kek) {
        memcpy(gm->kek_spi, s->kek_spi, sizeof gm->kek_spi);
        gm->ack_requested = (s->ka.present & (1u << VPN_GDOI_KEK_ACK_REQUESTED)) &&
                            s->ka.ack_requested;
        gm->kek_expires = now + (uint64_t)s->ka.lifetime * NS;
        if (s->kd_kek) {
            memcpy(gm->kek_key, s->kek_key, sizeof gm->kek_key);
            memcpy(gm->kek_iv, s->kek_iv, sizeof gm->kek_iv);
            gm->kek_alg = s->ka.alg;
            gm->kek_bits = s->kek_bits;
            gm->kek_key_len = s->kek_key_len;
            gm->kek_blk = s->kek_blk;
        }
        gm->sig_hash = s->ka.sig_hash;
        gm->have_kek = true;
    }
    if (s->pub) {
        vpn_sig_key_del(gm->ks_pub);
        gm->ks_pub = s->pub;
        s->pub = NULL;
    }
    gm->last_seq = seq;
    update_rereg(gm);
    gm->refused[0] = 0;
    /* what `show crypto gdoi` reports */
    if (s->tek) {
        gm->tek_info.spi = s->tek_spi;
        gm->tek_info.encr_id = s->encr_id;
        gm->tek_info.key_bits = s->key_bits;
        gm->tek_info.integ_id = s->integ_id;
        gm->tek_info.lifetime_s = (uint32_t)s->life_s;
        gm->tek_info.tbar_window_s = s->tbar_s;
        gm->tek_info.acl = s->sel;
        gm->tek_info.n_acl_more = s->n_more;
        gm->tek_info.acl_deny = s->deny_mask;
        memcpy(gm->tek_info.acl_more, s->more, sizeof gm->tek_info.acl_more);
    }
    if (s->kek) {
        memcpy(gm->kek_info.spi, s->kek_spi, sizeof gm->kek_info.spi);
        gm->kek_info.multicast = !gm->ack_requested;
        gm->kek_info.mcast = s->kek_dst;
        gm->kek_info.lifetime_s = s->ka.lifetime;
        gm->kek_info.key_bits = (uint16_t)(gm->kek_key_len * 8);
        gm->kek_info.sig_key_bits = s->ka.sig_key_len;
        gm->kek_info.alg = gm->kek_alg;
        gm->kek_info.sig_hash = gm->sig_hash;
    }
    return 0;
}

/* hdr: dg's header, parsed by the caller (vpn_isakmp_hdr_parse). */
static int pull_input(vpn_gdoi_gm *gm, const vpn_isakmp_hdr *hdr, const uint8_t *dg, size_t len,
                      uint64_t now)
{
    uint8_t plain[GDOI_MSG_MAX], buf[GDOI_MSG_MAX], view[GDOI_MSG_MAX], iv[VPN_IKEV1_BLOCK],
        *slot;
    vpn_isakmp_view ni_b = {gm->ni, sizeof gm->ni}, nr_b, none = {NULL, 0};
    vpn_isakmp_msg m;
    vpn_isakmp_hdr h;
    vpn_isakmp_bld b;
    size_t olen, vlen;
    int rc;

    if (hdr->msg_id != gm->msg_id)
        return VPN_ERR_NOTFOUND;
    memcpy(iv, gm->iv, sizeof iv);
    if (gm->state == VPN_GDOI_GM_PULL1) {
        const vpn_isakmp_payload *np, *sp;
        gm_stage s;

        if ((rc = gdoi_pull_open(gm->p1, dg, len, 2, ni_b, none, iv, &m, plain)))
            return rc;
        np = vpn_isakmp_msg_find(&m, VPN_ISAKMP_PL_NONCE, 0);
        sp = vpn_isakmp_msg_find(&m, VPN_ISAKMP_PL_SA, 0);
        if (!np || !sp || np->body_len < VPN_ISAKMP_NONCE_MIN ||
            np->body_len > VPN_ISAKMP_NONCE_MAX)
            return VPN_ERR_MALFORMED;
        memset(&s, 0, sizeof s);
        if ((rc = stage_sa(gm, &s, sp, VPN_GDOI_EXCH_PULL))) {
            stage_free(&s);
            return rc;
        }
        stage_free(&gm->pulled);
        gm->pulled = s;
        memcpy(gm->nr, np->body, np->body_len);
        gm->nr_len = np->body_len;
        memcpy(gm->iv, iv, sizeof iv);
        nr_b.p = gm->nr;
        nr_b.len = gm->nr_len;
        /* message 3: HDR*, HASH(3) */
        hdr_of(gm, &h);
        vpn_isakmp_bld_init(&b, buf, sizeof buf, &h);
        vpn_isakmp_bld_placeholder(&b, VPN_ISAKMP_PL_HASH, vpn_ikev1_sa_prf_len(gm->p1), &slot);
        if ((rc = gdoi_pull_seal(gm->p1, &b, 3, ni_b, nr_b, slot, gm->iv, &olen, view, &vlen)))
            return rc;
        gm->state = VPN_GDOI_GM_PULL3;
        pull_send(gm, buf, olen, view, vlen, now);
        return 0;
    }
    if (gm->state == VPN_GDOI_GM_PULL3) {
        const vpn_isakmp_payload *qp, *kp;
        uint32_t seq = 0;
        gm_stage s;

        nr_b.p = gm->nr;
        nr_b.len = gm->nr_len;
        if ((rc = gdoi_pull_open(gm->p1, dg, len, 4, ni_b, nr_b, iv, &m, plain)))
            return rc;
        qp = vpn_isakmp_msg_find(&m, VPN_GDOI_PL_SEQ, 0);
        kp = vpn_isakmp_msg_find(&m, VPN_GDOI_PL_KD, 0);
        if (!kp || (qp && vpn_gdoi_seq_decode(qp->body, qp->body_len, &seq)))
            return VPN_ERR_MALFORMED;
        s = gm->pulled;
        if (s.pub)
            return VPN_ERR_STATE;
        rc = stage_kd(gm, &s, kp, NULL);
        if (!rc)
            rc = commit(gm, &s, seq, true, now);
        if (rc) {
            vpn_sig_key_del(s.pub);
            OPENSSL_cleanse(&s, sizeof s);
            return rc;
        }
        OPENSSL_cleanse(&s, sizeof s);
        stage_free(&gm->pulled);
        OPENSSL_cleanse(plain, sizeof plain);
        gm->state = VPN_GDOI_GM_REGISTERED;
        gm->retrans_at = UINT64_MAX;
        gm->st.registrations++;
        vpn_log_emit(&gm->log, VPN_LOG_INFO, ENGINE,
                     "registered in group %s: TEK SPI 0x%08x, SEQ %u", gm->name,
                     vpn_sa_get_config(gm->cur)->spi, seq);
        return 0;
    }
    return VPN_ERR_STATE;
}

/*
 * The rekey acknowledgement (RFC 8263; our form: see ack_input in
 * gdoi-ks.c), to the KS that sent the rekey (with COOP, any KS of the group
 * may: they share the signing key), or to our key server.
 */
static void send_ack(vpn_gdoi_gm *gm, uint32_t seq, const vpn_addr *to)
{
    uint8_t buf[512], plain[512], view[512], *slot;
    vpn_isakmp_view after;
    vpn_isakmp_bld b;
    vpn_isakmp_hdr h;
    vpn_isakmp_id id;
    vpn_iov k = {gm->kek_key, gm->kek_key_len}, d;
    vpn_wr w;
    size_t len, plen;
    int rc;

    memset(&h, 0, sizeof h);
    memcpy(h.icookie, gm->kek_spi, 8);
    memcpy(h.rcookie, gm->kek_spi + 8, 8);
    h.version = VPN_ISAKMP_VERSION;
    h.exchange = VPN_GDOI_EXCH_PUSH_ACK;
    memset(&id, 0, sizeof id);
    id.type = VPN_ISAKMP_ID_IPV4_ADDR;
    id.data.p = gm->cfg.local.b;
    id.data.len = 4;
    vpn_isakmp_bld_init(&b, buf, sizeof buf, &h);
    vpn_isakmp_bld_placeholder(&b, VPN_ISAKMP_PL_HASH, 32, &slot);
    vpn_gdoi_bld_seq(&b, seq);
    vpn_isakmp_bld_id(&b, &id);
    if ((rc = vpn_isakmp_bld_pad(&b, gm->kek_blk, &len)) ||
        (rc = vpn_isakmp_bld_after(&b, 0, &after)))
        goto fail;
    d.p = after.p;
    d.len = after.len;
    if ((rc = vpn_prf_compute(VPN_PRF_HMAC_SHA2_256, &k, 1, &d, 1, slot, 32)))
        goto fail;
    plen = len - VPN_ISAKMP_HDR_LEN;
    memcpy(plain, buf + VPN_ISAKMP_HDR_LEN, plen);
    if ((rc = gdoi_kek_crypt_alg(&gm->cfg.alloc, gm->kek_alg, gm->kek_bits, gm->kek_key,
                                 gm->kek_iv, buf + VPN_ISAKMP_HDR_LEN, plen, true)))
        goto fail;
    vpn_wr_init(&w, view, sizeof view);
    if (vpn_isakmp_decrypted_view(buf, len, plain, plen, &w))
        w.off = 0;
    gm->st.acks_sent++;
    gm->send(gm->user, &gm->cfg.local, to ? to : &gm->cfg.ks, buf, len,
             vpn_wr_len(&w) ? view : NULL, vpn_wr_len(&w));
    OPENSSL_cleanse(plain, sizeof plain);
    return;
fail:
    /* ours (memory, crypto library): the rekey was taken; unacknowledged,
     * the KS retransmits it (our answer to that is this ack again) and
     * counts the miss; not silent */
    OPENSSL_cleanse(plain, sizeof plain);
    gm_report(gm, VPN_GDOI_GM_EV_INTERNAL, rc, seq, "acknowledging a rekey");
}

/*
 * A Delete in a GROUPKEY-PUSH (RFC 6407 4, 5.8; RFC 2408 3.15): DOI 2,
 * TEK SPIs of 4 octets with the SA TEK protocol ID (1, ESP), as gdoid
 * sends to end TEKs early. Other forms are refused, naming the field.
 */
static int check_delete(vpn_gdoi_gm *gm, const vpn_isakmp_payload *dp)
{
    vpn_isakmp_delete d;

    if (vpn_isakmp_delete_decode(dp->body, dp->body_len, &d))
        return VPN_ERR_MALFORMED;
    if (d.doi != VPN_ISAKMP_DOI_GDOI || d.proto != VPN_GDOI_TEK_PROTO_ESP ||
        d.spi_size != VPN_GDOI_TEK_SPI_LEN)
        return refuse(gm, "Delete DOI %u protocol %u SPI size %u: only TEK SPIs", d.doi, d.proto,
                      d.spi_size);
    return 0;
}

/*
 * Takes TEK i out: a pending rollover to it is cancelled, traffic stops
 * using it if it is current, and it leaves the SAD and the table (the
 * entries after it move down, so the caller must not advance i).
 */
static void drop_tek(vpn_gdoi_gm *gm, size_t i)
{
    if (gm->teks[i].sa == gm->pending) {
        gm->pending = NULL;
        gm->activate_at = UINT64_MAX;
    }
    if (gm->teks[i].sa == gm->cur) {
        if (gm->have_spd)
            set_protect_sa(gm, NULL);
        gm->cur = NULL;
    }
    vpn_sad_remove(gm->cfg.sad, gm->teks[i].sa);
    memmove(gm->teks + i, gm->teks + i + 1, (gm->nteks - i - 1) * sizeof gm->teks[0]);
    gm->nteks--;
}

static void apply_delete(vpn_gdoi_gm *gm, const vpn_isakmp_payload *dp)
{
    vpn_isakmp_delete d;

    if (vpn_isakmp_delete_decode(dp->body, dp->body_len, &d))
        return;
    for (unsigned j = 0; j < d.nspi; j++) {
        uint32_t spi = vpn_load32(vpn_isakmp_delete_spi(&d, j));
        for (size_t i = 0; i < gm->nteks; i++) {
            if (gm->teks[i].spi != spi)
                continue;
            drop_tek(gm, i);
            vpn_log_emit(&gm->log, VPN_LOG_INFO, ENGINE, "TEK SPI 0x%08x deleted by the key server",
                         spi);
            break;
        }
    }
}

/* GROUPKEY-PUSH (RFC 6407 4). */
static int push_input(vpn_gdoi_gm *gm, const vpn_addr *src, const uint8_t *dg, size_t len,
                      uint64_t now)
{
    uint8_t plain[GDOI_MSG_MAX];
    const vpn_isakmp_payload *sp, *kp, *dp;
    vpn_isakmp_msg m;
    gm_stage s;
    uint32_t seq;
    bool gdoid_sig;
    int rc;

    if ((rc = vpn_isakmp_msg_parse(dg, len, &m))) {
        gm_report(gm, VPN_GDOI_GM_EV_MALFORMED, rc, 0, "rekey does not parse");
        return rc;
    }
    if (!gm->have_kek || !gm->ks_pub || !m.encrypted ||
        memcmp(m.hdr.icookie, gm->kek_spi, 8) || memcmp(m.hdr.rcookie, gm->kek_spi + 8, 8)) {
        gm_report(gm, VPN_GDOI_GM_EV_BAD_KEK, VPN_ERR_NOTFOUND, 0, "rekey not under our KEK");
        return VPN_ERR_NOTFOUND;
    }
    if (m.body_len == 0 || m.body_len % gm->kek_blk || m.body_len > sizeof plain) {
        gm_report(gm, VPN_GDOI_GM_EV_MALFORMED, VPN_ERR_MALFORMED, 0,
                  "rekey body not whole KEK blocks");
        return VPN_ERR_MALFORMED;
    }
    memcpy(plain, m.body, m.body_len);
    if ((rc = gdoi_kek_crypt_alg(&gm->cfg.alloc, gm->kek_alg, gm->kek_bits, gm->kek_key,
                                 gm->kek_iv, plain, m.body_len, false))) {
        /* ours, not the rekey's (memory: reported by vpn_gdoi_gm_input_from;
         * the crypto library: here); the KS retransmits or we re-register */
        if (rc != VPN_ERR_NOMEM)
            gm_report(gm, VPN_GDOI_GM_EV_INTERNAL, rc, 0, "decrypting a rekey");
        OPENSSL_cleanse(plain, sizeof plain);
        return rc;
    }
    if ((rc = vpn_isakmp_msg_parse_plain(&m, plain, m.body_len, NULL))) {
        /* garbage: a wrong KEK, or damage */
        gm_report(gm, VPN_GDOI_GM_EV_BAD_KEK, rc, 0, "rekey does not decrypt with our KEK");
        return rc;
    }
    /* HDR*, SEQ, SA, KD [, D], SIG or HDR*, SEQ, D, SIG: SEQ first, SIG last */
    if (m.n < 3 || m.pl[0].type != VPN_GDOI_PL_SEQ || m.pl[m.n - 1].type != VPN_ISAKMP_PL_SIG ||
        vpn_gdoi_seq_decode(m.pl[0].body, m.pl[0].body_len, &seq)) {
        gm_report(gm, VPN_GDOI_GM_EV_MALFORMED, VPN_ERR_MALFORMED, 0,
                  "rekey without SEQ first and SIG last");
        return VPN_ERR_MALFORMED;
    }
    /* the SA KEK's SIG_HASH_ALGORITHM (SHA-1 only if legacy is allowed);
     * ours or gdoid's signature form (gdoi_push_sig_verify) */
    if ((rc = gdoi_push_sig_verify(gm->ks_pub, sig_hash_of(gm->sig_hash), &m, &gdoid_sig)) ==
        VPN_ERR_MALFORMED) {
        gm_report(gm, VPN_GDOI_GM_EV_MALFORMED, rc, seq, "rekey signature malformed");
        return rc;
    }
    if (rc) {
        gm_report(gm, VPN_GDOI_GM_EV_BAD_SIGNATURE, VPN_ERR_AUTH, seq,
                  "rekey signature does not verify");
        vpn_log_emit(&gm->log, VPN_LOG_WARN, ENGINE, "rekey with a bad signature dropped");
        return VPN_ERR_AUTH;
    }
    /* RFC 6407 4.1: a SEQ not above the last one is a replay */
    if (seq <= gm->last_seq) {
        gm_report(gm, VPN_GDOI_GM_EV_REPLAY, VPN_ERR_REPLAY, seq, "rekey SEQ not above the last");
        if (seq == gm->last_seq && gm->ack_requested)
            send_ack(gm, seq, src); /* our first ACK may have been lost */
        return VPN_ERR_REPLAY;
    }
    sp = vpn_isakmp_msg_find(&m, VPN_ISAKMP_PL_SA, 0);
    kp = vpn_isakmp_msg_find(&m, VPN_GDOI_PL_KD, 0);
    dp = vpn_isakmp_msg_find(&m, VPN_ISAKMP_PL_D, 0);
    if ((!sp || !kp) && (sp || kp || !dp)) {
        gm_report(gm, VPN_GDOI_GM_EV_MALFORMED, VPN_ERR_MALFORMED, seq,
                  "rekey without SA and KD, or a delete");
        return VPN_ERR_MALFORMED;
    }
    if (dp && (rc = check_delete(gm, dp))) {
        gm_report(gm, VPN_GDOI_GM_EV_REKEY_REFUSED, rc, seq, "rekey's delete refused");
        return rc;
    }
    memset(&s, 0, sizeof s);
    rc = 0;
    if (sp) {
        rc = stage_sa(gm, &s, sp, VPN_GDOI_EXCH_PUSH);
        if (!rc)
            rc = stage_kd(gm, &s, kp, gm->kek_spi);
        if (!rc)
            rc = commit(gm, &s, seq, false, now);
    } else {
        gm->last_seq = seq;
    }
    stage_free(&s);
    if (!rc && dp)
        apply_delete(gm, dp);
    OPENSSL_cleanse(plain, sizeof plain);
    if (rc) {
        gm_report(gm, VPN_GDOI_GM_EV_REKEY_REFUSED, rc, seq, "rekey not installed");
        return rc;
    }
    gm->st.rekeys++;
    if (src)
        gm->last_rekey_from = *src;
    if (gm->ack_requested)
        send_ack(gm, seq, src);
    vpn_log_emit(&gm->log, VPN_LOG_INFO, ENGINE, "rekey SEQ %u: TEK SPI 0x%08x", seq,
                 gm->cur ? vpn_sa_get_config(gm->cur)->spi : 0);
    return 0;
}

int vpn_gdoi_gm_input(vpn_gdoi_gm *gm, const uint8_t *dg, size_t len, uint64_t now)
{
    return vpn_gdoi_gm_input_from(gm, NULL, dg, len, now);
}

static int gm_input(vpn_gdoi_gm *gm, const vpn_addr *src, const uint8_t *dg, size_t len,
                    uint64_t now);

/* The engine contract for input: every refusal counted in `dropped` and logged, here, once. */
int vpn_gdoi_gm_input_from(vpn_gdoi_gm *gm, const vpn_addr *src, const uint8_t *dg, size_t len,
                           uint64_t now)
{
    int rc;

    if (gm == NULL || (dg == NULL && len))
        return VPN_ERR_INVAL;
    if ((rc = gm_input(gm, src, dg, len, now)) != 0) {
        gm->st.dropped++;
        if (rc == VPN_ERR_NOMEM) /* ours, not the sender's: the KS retransmits */
            gm_report(gm, VPN_GDOI_GM_EV_INTERNAL, rc, 0, "taking a datagram");
        /* a policy refusal was logged with its reason (WARN) already: that stays the last word */
        if (rc != VPN_ERR_POLICY)
            vpn_log_emit(&gm->log, VPN_LOG_DEBUG, ENGINE, "datagram of %zu bytes dropped: %s", len,
                         vpn_strerror(rc));
    }
    return rc;
}

static int gm_input(vpn_gdoi_gm *gm, const vpn_addr *src, const uint8_t *dg, size_t len,
                    uint64_t now)
{
    vpn_isakmp_hdr h;
    int rc;

    if ((rc = vpn_isakmp_hdr_parse(dg, len, &h))) {
        gm_report(gm, VPN_GDOI_GM_EV_MALFORMED, rc, 0, "ISAKMP header does not parse");
        return rc;
    }
    /* rekeys from any KS of the group (COOP: they share the signing key) */
    if (h.exchange == VPN_GDOI_EXCH_PUSH)
        return push_input(gm, src, dg, len, now);
    if (!gm->p1 || memcmp(h.icookie, vpn_ikev1_sa_icookie(gm->p1), 8))
        return VPN_ERR_NOTFOUND;
    if (h.exchange == VPN_GDOI_EXCH_PULL) {
        if (gm->state != VPN_GDOI_GM_PULL1 && gm->state != VPN_GDOI_GM_PULL3)
            return VPN_ERR_STATE;
        rc = pull_input(gm, &h, dg, len, now);
        /* VPN_ERR_CRYPTO is the crypto library's or the RNG's failure
         * (common/vpn-err.h), ours, not the KS's */
        if (rc == VPN_ERR_CRYPTO)
            gm_report(gm, VPN_GDOI_GM_EV_INTERNAL, rc, 0, "in GROUPKEY-PULL");
        else if (rc && rc != VPN_ERR_NOTFOUND && rc != VPN_ERR_NOMEM)
            gm_report(gm, VPN_GDOI_GM_EV_MALFORMED, rc, 0, "GROUPKEY-PULL answer refused");
        return rc;
    }
    rc = vpn_ikev1_sa_input(gm->p1, dg, len, now);
    if (rc == VPN_ERR_CRYPTO) /* ours (above); phase 1 retransmits or fails over */
        gm_report(gm, VPN_GDOI_GM_EV_INTERNAL, rc, 0, "in phase 1");
    if (!rc && gm->state == VPN_GDOI_GM_PHASE1 &&
        vpn_ikev1_sa_state(gm->p1) == VPN_IKEV1_ST_ESTABLISHED &&
        (rc = send_pull1(gm, now))) {
        /* our failure (RNG, memory) after the KS's good answer: phase 1
         * stays up and the timer retries the PULL on it (vpn_gdoi_gm_start
         * reuses it); left in PHASE1 the member would wait for nothing */
        gm_report(gm, VPN_GDOI_GM_EV_INTERNAL, rc, 0, "starting GROUPKEY-PULL");
        gm->state = gm->cur ? VPN_GDOI_GM_REGISTERED : VPN_GDOI_GM_IDLE;
        gm->retry_at = now + GM_RETRY_NS;
        return 0; /* the datagram itself was good */
    }
    return rc;
}

uint64_t vpn_gdoi_gm_next_deadline(const vpn_gdoi_gm *gm)
{
    uint64_t d = gm->retrans_at;

    if (gm->retry_at < d)
        d = gm->retry_at;
    if (gm->rereg_at < d)
        d = gm->rereg_at;
    if (gm->activate_at < d)
        d = gm->activate_at;
    if (gm->p1 && vpn_ikev1_sa_next_deadline(gm->p1) < d)
        d = vpn_ikev1_sa_next_deadline(gm->p1);
    for (size_t i = 0; i < gm->nteks; i++)
        if (gm->teks[i].expires < d)
            d = gm->teks[i].expires;
    return d;
}

static void registration_failed(vpn_gdoi_gm *gm, uint64_t now, const char *why)
{
    vpn_log_emit(&gm->log, VPN_LOG_WARN, ENGINE, "registration failed: %s", why);
    /* the KS may have lost this phase-1 SA (a restart, or it removed us):
     * the next attempt starts from a fresh phase 1 */
    vpn_ikev1_sa_del(gm->p1);
    gm->p1 = NULL;
    gm->state = gm->cur ? VPN_GDOI_GM_REGISTERED : VPN_GDOI_GM_IDLE;
    gm->retrans_at = UINT64_MAX;
    /* the next key server in the configured order, at once; after the
     * last one, back to the first after the retry delay */
    gm->ks_idx = (gm->ks_idx + 1) % gm->n_servers;
    gm->cfg.ks = gm->servers[gm->ks_idx];
    gm->retry_at = gm->ks_idx ? now : now + GM_RETRY_NS;
    if (gm->n_servers > 1) {
        char a[VPN_ADDR_STRLEN];
        vpn_log_emit(&gm->log, VPN_LOG_INFO, ENGINE, "trying key server %s",
                     vpn_addr_str(&gm->cfg.ks, a, sizeof a));
    }
}

void vpn_gdoi_gm_timeout(vpn_gdoi_gm *gm, uint64_t now)
{
    if (now >= gm->activate_at) {
        gm->activate_at = UINT64_MAX;
        if (gm->pending && gm->have_spd &&
            set_protect_sa(gm, gm->pending) == 0) {
            gm->cur = gm->pending;
            update_rereg(gm);
        }
        gm->pending = NULL;
    }
    /* TEKs whose lifetime ended leave the SAD */
    for (size_t i = 0; i < gm->nteks;) {
        if (now >= gm->teks[i].expires) {
            drop_tek(gm, i);
        } else {
            i++;
        }
    }
    if (gm->state == VPN_GDOI_GM_REGISTERED && !gm->cur) {
        gm->state = VPN_GDOI_GM_IDLE; /* keys lapsed */
        gm->retry_at = now;
    }
    if (gm->p1 && gm->state == VPN_GDOI_GM_PHASE1) {
        vpn_ikev1_sa_timeout(gm->p1, now);
        if (vpn_ikev1_sa_state(gm->p1) == VPN_IKEV1_ST_DEAD)
            registration_failed(gm, now, "phase 1");
    } else if (gm->p1) {
        vpn_ikev1_sa_timeout(gm->p1, now); /* retransmissions, lifetime */
    }
    if ((gm->state == VPN_GDOI_GM_PULL1 || gm->state == VPN_GDOI_GM_PULL3) &&
        now >= gm->retrans_at) {
        if (gm->retrans_n >= VPN_IKEV1_DEFAULT_RETRANS_MAX) {
            registration_failed(gm, now, "key server does not answer");
        } else {
            gm->retrans_n++;
            gm->retrans_at = now + VPN_IKEV1_DEFAULT_RETRANS_NS;
            if (gm->last)
                gm->send(gm->user, &gm->cfg.local, &gm->cfg.ks, gm->last, gm->last_out_len,
                         gm->last_view_len ? gm->last + gm->last_out_len : NULL,
                         gm->last_view_len);
        }
    }
    if ((gm->state == VPN_GDOI_GM_IDLE || gm->state == VPN_GDOI_GM_REGISTERED) &&
        (now >= gm->retry_at || now >= gm->rereg_at)) {
        gm->retry_at = gm->rereg_at = UINT64_MAX;
        vpn_log_emit(&gm->log, VPN_LOG_INFO, ENGINE, "registering with the key server");
        int rc = vpn_gdoi_gm_start(gm, now);
        if (rc == VPN_ERR_NOMEM || rc == VPN_ERR_CRYPTO)
            gm_report(gm, VPN_GDOI_GM_EV_INTERNAL, rc, 0, "starting a registration");
        if (rc)
            gm->retry_at = now + GM_RETRY_NS;
    }
}

void vpn_gdoi_gm_get_info(const vpn_gdoi_gm *gm, uint64_t now, vpn_gdoi_gm_info *o)
{
    memset(o, 0, sizeof *o);
    o->name = gm->name;
    o->group_id = gm->cfg.group_id;
    o->local = gm->cfg.local;
    o->ks = gm->cfg.ks;
    memcpy(o->servers, gm->servers, sizeof o->servers);
    o->n_servers = gm->n_servers;
    o->last_rekey_from = gm->last_rekey_from;
    o->state = gm->state;
    o->registrations = gm->st.registrations;
    o->attempts = gm->st.reg_attempts;
    o->rekeys = gm->st.rekeys;
    o->acks_sent = gm->st.acks_sent;
    o->internal_errors = gm->st.internal_errors;
    o->last_seq = gm->last_seq;
    o->rereg_in_s = gm->rereg_at == UINT64_MAX ? UINT64_MAX
                    : gm->rereg_at > now       ? (gm->rereg_at - now) / NS
                                               : 0;
    o->have_policy = gm->cur != NULL;
    o->refused = gm->refused;
    o->kek = gm->kek_info;
    o->kek.remaining_s = gm->kek_expires > now ? (uint32_t)((gm->kek_expires - now) / NS) : 0;
    o->tek = gm->tek_info;
    for (size_t i = 0; i < gm->nteks; i++)
        if (gm->teks[i].sa == gm->cur)
            o->tek.remaining_s =
                gm->teks[i].expires > now ? (uint32_t)((gm->teks[i].expires - now) / NS) : 0;
}
