/*
 * Cooperative key servers (COOP) for GDOI: KS-KS phase-1 sessions,
 * signed announcements, election of the primary, key/policy/member sync,
 * failover and split-brain merge. The wire format and the behaviour are
 * described in gdoi.h (COOP); the format is project-defined (private-use
 * exchange 240 and payload 128, RFC 2408 3.1) because IOS's is not public.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/vpn-err.h"
#include "common/wire.h"
#include "crypto/crypto-ids.h"
#include "crypto/prf.h"
#include "gdoi/gdoi-priv.h"
#include "isakmp/isakmp-build.h"
#include "isakmp/isakmp-const.h"

#define ENGINE "gdoi-coop"
#define NS NS_PER_S
#define MS 1000000ull
/* The largest announcement: 8000 members (32000 octets), keys and policy,
 * a 4096-bit signature, the HASH, padding. */
#define COOP_MSG_MAX 40960
#define COOP_SIG_LABEL "gdoi-coop"
#define COOP_SIG_LABEL_LEN 9
#define COOP_RETRY_NS (10 * NS) /* phase 1 to a peer again after a failure */

typedef struct coop_peer {
    vpn_addr addr;
    const vpn_sig_key *pub;
    vpn_ikev1_sa *sa;   /* established: announcements go out on it */
    vpn_ikev1_sa *pend; /* negotiating (ours or the peer's); replaces sa when up */
    uint64_t retry_at;  /* start a phase 1 at this time if needed */
    bool alive;
    uint64_t heard_at;
    uint8_t priority;
    vpn_gdoi_coop_role role; /* as it last announced */
    uint32_t rx_seq;         /* last announcement sequence accepted on sa */
    uint32_t merged_tek;     /* the TEK of its last split-brain claim we merged */
    uint64_t ann_sent, ann_rcvd, drops_sent, drops_rcvd, bytes_sent, bytes_rcvd;
} coop_peer;

struct gdoi_coop {
    vpn_gdoi_coop_cfg cfg;
    coop_peer peer[VPN_GDOI_COOP_MAX_PEERS];
    size_t n;
    vpn_ikev1_cfg ike;
    uint8_t psk[VPN_IKEV1_PSK_MAX];
    const vpn_sig_key *key;
    size_t sig_len;
    uint8_t key_hash[32];
    vpn_gdoi_coop_role role;
    uint64_t election_end, ann_at, due_at;
    uint32_t tx_seq;
    bool synced; /* holds the group's keys: made them as primary, or took a primary's */
    bool have_merge;
    bool cfg_error_reported; /* start_phase1: a configuration error logged once */
    ks_kek merge;
    vpn_gdoi_coop_stats st;
    uint8_t *buf, *plain, *view, *scratch, *mbuf;
};

static const char *role_name(vpn_gdoi_coop_role r)
{
    return r == VPN_GDOI_COOP_PRIMARY ? "primary" : r == VPN_GDOI_COOP_SECONDARY ? "secondary"
                                                                                 : "election";
}

/* ---- the COOP payload body ------------------------------------------------ */

static void wr_addr4(vpn_wr *w, const vpn_addr *a) { vpn_wr_bytes(w, a->b, 4); }

static int rd_addr4(vpn_rd *r, vpn_addr *a)
{
    uint8_t b[4];
    if (vpn_rd_bytes(r, b, 4))
        return VPN_ERR_TRUNCATED;
    return vpn_addr_from_bytes(a, b, 4);
}

/* A further policy line: protocol, prefixes, port ranges. */
static void wr_line(vpn_wr *w, const vpn_spd_sel *s)
{
    vpn_wr_u8(w, s->proto);
    wr_addr4(w, &s->src.addr);
    vpn_wr_u8(w, s->src.len);
    wr_addr4(w, &s->dst.addr);
    vpn_wr_u8(w, s->dst.len);
    vpn_wr_u16(w, s->sport_lo);
    vpn_wr_u16(w, s->sport_hi);
    vpn_wr_u16(w, s->dport_lo);
    vpn_wr_u16(w, s->dport_hi);
}

static int rd_line(vpn_rd *r, vpn_spd_sel *s)
{
    memset(s, 0, sizeof *s);
    s->family = VPN_AF_INET;
    vpn_rd_u8(r, &s->proto);
    if (rd_addr4(r, &s->src.addr))
        return VPN_ERR_TRUNCATED;
    vpn_rd_u8(r, &s->src.len);
    if (rd_addr4(r, &s->dst.addr))
        return VPN_ERR_TRUNCATED;
    vpn_rd_u8(r, &s->dst.len);
    vpn_rd_u16(r, &s->sport_lo);
    vpn_rd_u16(r, &s->sport_hi);
    vpn_rd_u16(r, &s->dport_lo);
    vpn_rd_u16(r, &s->dport_hi);
    if (vpn_rd_err(r))
        return VPN_ERR_TRUNCATED;
    if (s->src.len > 32 || s->dst.len > 32 || s->sport_lo > s->sport_hi ||
        s->dport_lo > s->dport_hi)
        return VPN_ERR_MALFORMED;
    return 0;
}

int vpn_gdoi_coop_ann_encode(const vpn_gdoi_coop_ann *a, vpn_wr *w)
{
    bool lines = (a->flags & VPN_GDOI_COOP_F_KEYS) && (a->tek.n_more || a->tek.deny_mask);

    if (a->n_members > VPN_GDOI_COOP_MAX_MEMBERS || a->tek_alg_len > 64 || a->tek_integ_len > 64 ||
        a->tek.n_more >= VPN_GDOI_TEK_SELS_MAX)
        return VPN_ERR_INVAL;
    vpn_wr_u8(w, VPN_GDOI_COOP_VERSION);
    vpn_wr_u8(w, a->role);
    vpn_wr_u8(w, a->priority);
    vpn_wr_u8(w, (uint8_t)((a->flags & ~VPN_GDOI_COOP_F_LINES) | (lines ? VPN_GDOI_COOP_F_LINES : 0)));
    vpn_wr_u32(w, a->group_id);
    wr_addr4(w, &a->sender);
    vpn_wr_u32(w, a->ann_seq);
    vpn_wr_u32(w, a->rekey_seq);
    vpn_wr_bytes(w, a->key_hash, sizeof a->key_hash);
    vpn_wr_u16(w, (uint16_t)a->n_members);
    if (a->n_members)
        vpn_wr_bytes(w, a->members, a->n_members * 4);
    if (a->flags & VPN_GDOI_COOP_F_KEYS) {
        const vpn_spd_sel *s = &a->tek.sel;
        vpn_wr_u8(w, s->proto);
        wr_addr4(w, &s->src.addr);
        vpn_wr_u8(w, s->src.len);
        wr_addr4(w, &s->dst.addr);
        vpn_wr_u8(w, s->dst.len);
        vpn_wr_u16(w, s->sport_lo);
        vpn_wr_u16(w, s->dport_lo);
        vpn_wr_u16(w, a->tek.encr_id);
        vpn_wr_u16(w, a->tek.key_bits);
        vpn_wr_u16(w, a->tek.integ_id);
        vpn_wr_u32(w, a->tek.lifetime_s);
        vpn_wr_u32(w, a->tek.tbar_window_s);
        vpn_wr_u32(w, a->kek_lifetime_s);
        vpn_wr_u8(w, (uint8_t)((a->multicast ? 1 : 0) | (a->receive_only ? 2 : 0)));
        wr_addr4(w, &a->mcast);
        vpn_wr_u16(w, a->gap_act);
        vpn_wr_u16(w, a->gap_deact);
        vpn_wr_bytes(w, a->kek_spi, 16);
        vpn_wr_bytes(w, a->kek_iv, 16);
        vpn_wr_bytes(w, a->kek_key, 32);
        vpn_wr_u32(w, a->kek_remaining_ms);
        vpn_wr_u32(w, a->tek_spi);
        vpn_wr_u8(w, a->tek_alg_len);
        vpn_wr_bytes(w, a->tek_alg_key, a->tek_alg_len);
        vpn_wr_u8(w, a->tek_integ_len);
        vpn_wr_bytes(w, a->tek_integ_key, a->tek_integ_len);
        vpn_wr_u32(w, a->tek_remaining_ms);
        vpn_wr_u64(w, a->pseudotime_ms);
        vpn_wr_u32(w, a->rekey_in_ms);
    }
    if (lines) {
        /* the rest of the TEK policy: one SA TEK per ACL line, same SPI */
        vpn_wr_u8(w, a->tek.n_more);
        vpn_wr_u32(w, a->tek.deny_mask);
        for (size_t i = 0; i < a->tek.n_more; i++)
            wr_line(w, &a->tek.more[i]);
    }
    return vpn_wr_err(w);
}

int vpn_gdoi_coop_ann_decode(const uint8_t *body, size_t len, vpn_gdoi_coop_ann *out)
{
    vpn_gdoi_coop_ann a;
    vpn_rd r;
    uint8_t ver, pf;
    uint16_t nm;
    size_t al, il;
    int rc = VPN_ERR_MALFORMED;

    memset(&a, 0, sizeof a);
    vpn_rd_init(&r, body, len);
    vpn_rd_u8(&r, &ver);
    if (vpn_rd_err(&r))
        return VPN_ERR_TRUNCATED;
    if (ver != VPN_GDOI_COOP_VERSION)
        return VPN_ERR_UNSUPPORTED;
    vpn_rd_u8(&r, &a.role);
    vpn_rd_u8(&r, &a.priority);
    vpn_rd_u8(&r, &a.flags);
    vpn_rd_u32(&r, &a.group_id);
    if (rd_addr4(&r, &a.sender))
        goto out_trunc;
    vpn_rd_u32(&r, &a.ann_seq);
    vpn_rd_u32(&r, &a.rekey_seq);
    vpn_rd_bytes(&r, a.key_hash, sizeof a.key_hash);
    vpn_rd_u16(&r, &nm);
    if (vpn_rd_err(&r))
        goto out_trunc;
    if (a.role > VPN_GDOI_COOP_PRIMARY || a.priority == 0 ||
        (a.flags & ~(VPN_GDOI_COOP_F_KEYS | VPN_GDOI_COOP_F_REPLY | VPN_GDOI_COOP_F_LINES)) ||
        ((a.flags & VPN_GDOI_COOP_F_LINES) && !(a.flags & VPN_GDOI_COOP_F_KEYS)) || a.ann_seq == 0)
        goto out;
    if (nm > VPN_GDOI_COOP_MAX_MEMBERS) {
        rc = VPN_ERR_LIMIT;
        goto out;
    }
    a.n_members = nm;
    if (nm && vpn_rd_view(&r, &a.members, (size_t)nm * 4))
        goto out_trunc;
    if (a.flags & VPN_GDOI_COOP_F_KEYS) {
        vpn_spd_sel *s = &a.tek.sel;
        s->family = VPN_AF_INET;
        vpn_rd_u8(&r, &s->proto);
        if (rd_addr4(&r, &s->src.addr))
            goto out_trunc;
        vpn_rd_u8(&r, &s->src.len);
        if (rd_addr4(&r, &s->dst.addr))
            goto out_trunc;
        vpn_rd_u8(&r, &s->dst.len);
        vpn_rd_u16(&r, &s->sport_lo);
        vpn_rd_u16(&r, &s->dport_lo);
        s->sport_hi = s->sport_lo;
        s->dport_hi = s->dport_lo;
        vpn_rd_u16(&r, &a.tek.encr_id);
        vpn_rd_u16(&r, &a.tek.key_bits);
        vpn_rd_u16(&r, &a.tek.integ_id);
        vpn_rd_u32(&r, &a.tek.lifetime_s);
        vpn_rd_u32(&r, &a.tek.tbar_window_s);
        vpn_rd_u32(&r, &a.kek_lifetime_s);
        vpn_rd_u8(&r, &pf);
        if (rd_addr4(&r, &a.mcast))
            goto out_trunc;
        vpn_rd_u16(&r, &a.gap_act);
        vpn_rd_u16(&r, &a.gap_deact);
        vpn_rd_bytes(&r, a.kek_spi, 16);
        vpn_rd_bytes(&r, a.kek_iv, 16);
        vpn_rd_bytes(&r, a.kek_key, 32);
        vpn_rd_u32(&r, &a.kek_remaining_ms);
        vpn_rd_u32(&r, &a.tek_spi);
        vpn_rd_u8(&r, &a.tek_alg_len);
        if (vpn_rd_err(&r))
            goto out_trunc;
        if (a.tek_alg_len > sizeof a.tek_alg_key)
            goto out;
        vpn_rd_bytes(&r, a.tek_alg_key, a.tek_alg_len);
        vpn_rd_u8(&r, &a.tek_integ_len);
        if (vpn_rd_err(&r))
            goto out_trunc;
        if (a.tek_integ_len > sizeof a.tek_integ_key)
            goto out;
        vpn_rd_bytes(&r, a.tek_integ_key, a.tek_integ_len);
        vpn_rd_u32(&r, &a.tek_remaining_ms);
        vpn_rd_u64(&r, &a.pseudotime_ms);
        vpn_rd_u32(&r, &a.rekey_in_ms);
        if (vpn_rd_err(&r))
            goto out_trunc;
        a.multicast = pf & 1;
        a.receive_only = pf & 2;
        /* a policy this engine can run, with keys that fit it */
        if ((pf & ~3u) || s->src.len > 32 || s->dst.len > 32 ||
            (a.tek.encr_id != VPN_ENCR_AES_CBC && a.tek.encr_id != VPN_ENCR_AES_GCM_16) ||
            gdoi_tek_key_lens(a.tek.encr_id, a.tek.key_bits, a.tek.integ_id, &al, &il) ||
            al != a.tek_alg_len || il != a.tek_integ_len || a.tek.lifetime_s == 0 ||
            a.kek_lifetime_s == 0 || a.tek.tbar_window_s > 0xffff || a.tek_spi < 256 ||
            a.kek_remaining_ms == 0 || a.tek_remaining_ms == 0 ||
            a.pseudotime_ms > UINT64_MAX / MS ||
            (a.multicast && a.mcast.b[0] < 224)) /* IPv4 multicast */
            goto out;
    }
    if (a.flags & VPN_GDOI_COOP_F_LINES) {
        uint8_t nmore;
        vpn_rd_u8(&r, &nmore);
        vpn_rd_u32(&r, &a.tek.deny_mask);
        if (vpn_rd_err(&r))
            goto out_trunc;
        /* as members check a policy: lines that fit, at least one permit;
         * and only when there is something to say (one encoding per policy) */
        if (nmore == 0 || nmore >= VPN_GDOI_TEK_SELS_MAX || (a.tek.deny_mask >> (nmore + 1u)) != 0 ||
            a.tek.deny_mask == (1u << (nmore + 1u)) - 1u)
            goto out;
        a.tek.n_more = nmore;
        for (size_t i = 0; i < nmore; i++)
            if ((rc = rd_line(&r, &a.tek.more[i])) != 0) {
                if (rc == VPN_ERR_TRUNCATED)
                    goto out_trunc;
                rc = VPN_ERR_MALFORMED;
                goto out;
            }
    }
    if (vpn_rd_left(&r) != 0)
        goto out; /* nothing may follow */
    *out = a;
    OPENSSL_cleanse(&a, sizeof a);
    return 0;
out_trunc:
    rc = VPN_ERR_TRUNCATED;
out:
    OPENSSL_cleanse(&a, sizeof a);
    return rc;
}

/* ---- set-up ---------------------------------------------------------------- */

static int rank_cmp(uint8_t pa, const vpn_addr *a, uint8_t pb, const vpn_addr *b)
{
    /* highest priority, then highest address (the notes: as IOS does) */
    if (pa != pb)
        return pa > pb ? 1 : -1;
    return memcmp(a->b, b->b, 4);
}

static int peer_rank_vs_self(const vpn_gdoi_ks *ks, const coop_peer *p)
{
    return rank_cmp(p->priority, &p->addr, ks->coop->cfg.priority, &ks->cfg.local);
}

static void coop_p1_send(void *user, vpn_ikev1_sa *sa, const uint8_t *dg, size_t len,
                         const uint8_t *view, size_t view_len)
{
    vpn_gdoi_ks *ks = user;
    coop_peer *p = vpn_ikev1_sa_get_user(sa);
    p->bytes_sent += len;
    ks->send(ks->user, &ks->cfg.local, &p->addr, dg, len, view, view_len);
}

static int new_sa(vpn_gdoi_ks *ks, coop_peer *p, bool initiator, vpn_ikev1_sa **out)
{
    vpn_ikev1_ctx ctx;
    int rc;

    memset(&ctx, 0, sizeof ctx);
    ctx.rng = ks->rng;
    ctx.log = ks->log;
    ctx.send = coop_p1_send;
    ctx.user = ks;
    if ((rc = vpn_ikev1_sa_new(out, &ctx, &ks->coop->ike, initiator)))
        return rc;
    vpn_ikev1_sa_set_user(*out, p);
    return 0;
}

static void start_phase1(vpn_gdoi_ks *ks, coop_peer *p, uint64_t now)
{
    vpn_ikev1_sa *sa;

    int rc;

    p->retry_at = now + COOP_RETRY_NS;
    if ((rc = new_sa(ks, p, true, &sa)))
        goto fail;
    if ((rc = vpn_ikev1_sa_start(sa, now))) {
        vpn_ikev1_sa_del(sa);
        goto fail;
    }
    vpn_ikev1_sa_del(p->pend);
    p->pend = sa;
    return;
fail:
    if (rc == VPN_ERR_NOMEM || rc == VPN_ERR_CRYPTO) {
        /* ours (memory, RNG): tried again at retry_at; counted, not silent */
        gdoi_ks_internal_error(ks, rc, "starting a COOP phase 1");
        return;
    }
    /* the phase-1 configuration is refused (no key for the first policy's
     * authentication, ...): it does not change while the KS runs, so it is
     * reported once, not as an internal error at every retry */
    if (!ks->coop->cfg_error_reported) {
        char s[VPN_ADDR_STRLEN];
        ks->coop->cfg_error_reported = true;
        ks->coop->st.config_errors++;
        vpn_log_emit(&ks->log, VPN_LOG_ERROR, ENGINE,
                     "COOP phase 1 to %s not started: configuration refused (%s)",
                     vpn_addr_str(&p->addr, s, sizeof s), vpn_strerror(rc));
    }
}

int gdoi_coop_new(vpn_gdoi_ks *ks, uint64_t now)
{
    const vpn_gdoi_coop_cfg ccv = ks->cfg.coop, *cc = &ccv; /* ks->cfg.coop's pointers go */
    struct gdoi_coop *c;
    unsigned int hl = 0;

    if (cc->n_peers == 0) {
        memset(&ks->cfg.coop, 0, sizeof ks->cfg.coop);
        return 0;
    }
    if (cc->n_peers > VPN_GDOI_COOP_MAX_PEERS || !cc->peers)
        return VPN_ERR_INVAL;
    c = vpn_calloc(&ks->cfg.alloc, 1, sizeof *c);
    if (!c)
        return VPN_ERR_NOMEM;
    ks->coop = c;
    c->cfg = *cc;
    c->cfg.peers = NULL;
    ks->cfg.coop.peers = NULL; /* the caller's; copied below */
    if (!c->cfg.priority)
        c->cfg.priority = VPN_GDOI_COOP_DEFAULT_PRIORITY;
    if (!c->cfg.announce_s)
        c->cfg.announce_s = VPN_GDOI_COOP_DEFAULT_ANNOUNCE_S;
    if (!c->cfg.dead_s)
        c->cfg.dead_s = VPN_GDOI_COOP_DEFAULT_DEAD_S;
    if (!c->cfg.election_s)
        c->cfg.election_s = VPN_GDOI_COOP_DEFAULT_ELECTION_S;
    c->key = cc->key ? cc->key : ks->cfg.rekey_key;
    if (vpn_sig_key_type_of(c->key) != VPN_SIG_KEY_RSA || !vpn_sig_key_is_private(c->key))
        return VPN_ERR_INVAL;
    c->sig_len = vpn_sig_max_len(c->key);
    c->ike = cc->ike ? *cc->ike : ks->cfg.ike;
    c->ike.alloc = ks->cfg.alloc; /* KS-KS phase 1 behind the KS's gate too */
    c->cfg.ike = NULL;
    ks->cfg.coop.ike = NULL;
    if (c->ike.psk_len > sizeof c->psk)
        return VPN_ERR_INVAL;
    if (c->ike.psk)
        memcpy(c->psk, c->ike.psk, c->ike.psk_len);
    c->ike.psk = c->ike.psk ? c->psk : NULL;
    if (c->ike.local_id.family == VPN_AF_NONE)
        c->ike.local_id = ks->cfg.local;
    for (size_t i = 0; i < cc->n_peers; i++) {
        const vpn_gdoi_coop_peer *q = &cc->peers[i];
        if (q->addr.family != VPN_AF_INET || !q->pub ||
            vpn_sig_key_type_of(q->pub) != VPN_SIG_KEY_RSA ||
            vpn_addr_eq(&q->addr, &ks->cfg.local))
            return VPN_ERR_INVAL;
        c->peer[i].addr = q->addr;
        c->peer[i].pub = q->pub;
        c->peer[i].priority = 0;
        c->peer[i].role = VPN_GDOI_COOP_ELECTION;
    }
    c->n = cc->n_peers;
    /* the rekey key every KS of the group must share (IOS requires it) */
    if (!EVP_Digest(ks->pub_der, ks->pub_len, c->key_hash, &hl, EVP_sha256(), NULL) || hl != 32)
        return VPN_ERR_CRYPTO;
    c->buf = vpn_malloc(&ks->cfg.alloc, COOP_MSG_MAX);
    c->plain = vpn_malloc(&ks->cfg.alloc, COOP_MSG_MAX);
    c->view = vpn_malloc(&ks->cfg.alloc, COOP_MSG_MAX);
    c->scratch = vpn_malloc(&ks->cfg.alloc, COOP_MSG_MAX);
    c->mbuf = vpn_malloc(&ks->cfg.alloc, VPN_GDOI_COOP_MAX_MEMBERS * 4);
    if (!c->buf || !c->plain || !c->view || !c->scratch || !c->mbuf)
        return VPN_ERR_NOMEM;
    c->role = VPN_GDOI_COOP_ELECTION;
    c->election_end = now + (uint64_t)c->cfg.election_s * NS;
    c->ann_at = now + (uint64_t)c->cfg.announce_s * NS;
    c->due_at = UINT64_MAX;
    /* both ends start a phase 1 (a collision keeps the lower address's) */
    for (size_t i = 0; i < c->n; i++)
        start_phase1(ks, &c->peer[i], now);
    return 0;
}

void gdoi_coop_del(vpn_gdoi_ks *ks)
{
    struct gdoi_coop *c = ks->coop;

    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        vpn_ikev1_sa_del(c->peer[i].sa);
        vpn_ikev1_sa_del(c->peer[i].pend);
    }
    if (c->plain)
        OPENSSL_cleanse(c->plain, COOP_MSG_MAX);
    if (c->view)
        OPENSSL_cleanse(c->view, COOP_MSG_MAX);
    if (c->scratch)
        OPENSSL_cleanse(c->scratch, COOP_MSG_MAX);
    free(c->buf);
    free(c->plain);
    free(c->view);
    free(c->scratch);
    free(c->mbuf);
    OPENSSL_cleanse(c, sizeof *c);
    free(c);
    ks->coop = NULL;
}

static coop_peer *peer_of(const vpn_gdoi_ks *ks, const vpn_addr *a)
{
    struct gdoi_coop *c = ks->coop;
    if (!c)
        return NULL;
    for (size_t i = 0; i < c->n; i++)
        if (vpn_addr_eq(&c->peer[i].addr, a))
            return &c->peer[i];
    return NULL;
}

bool gdoi_coop_is_peer(const vpn_gdoi_ks *ks, const vpn_addr *src) { return peer_of(ks, src); }

bool gdoi_coop_may_rekey(const vpn_gdoi_ks *ks)
{
    return !ks->coop || ks->coop->role == VPN_GDOI_COOP_PRIMARY;
}

bool gdoi_coop_may_register(const vpn_gdoi_ks *ks)
{
    return !ks->coop || ks->coop->role == VPN_GDOI_COOP_PRIMARY ||
           (ks->coop->role == VPN_GDOI_COOP_SECONDARY && ks->coop->synced);
}

const ks_kek *gdoi_coop_merge_kek(const vpn_gdoi_ks *ks)
{
    return ks->coop && ks->coop->have_merge && memcmp(ks->coop->merge.spi, ks->kek.spi, 16)
               ? &ks->coop->merge
               : NULL;
}

void gdoi_coop_merge_done(vpn_gdoi_ks *ks)
{
    if (!ks->coop)
        return;
    ks->coop->have_merge = false;
    OPENSSL_cleanse(&ks->coop->merge, sizeof ks->coop->merge);
}

/* ---- announcements out ------------------------------------------------------ */

static uint32_t ms_left(uint64_t at, uint64_t now)
{
    uint64_t ms;
    if (at <= now)
        return 1;
    ms = (at - now + MS - 1) / MS;
    return ms > 0xffffffffu ? 0xffffffffu : (uint32_t)ms;
}

static void fill_ann(vpn_gdoi_ks *ks, vpn_gdoi_coop_ann *a, bool reply, uint64_t now)
{
    struct gdoi_coop *c = ks->coop;
    size_t nm = 0;

    memset(a, 0, sizeof *a);
    a->role = (uint8_t)c->role;
    a->priority = c->cfg.priority;
    a->flags = reply ? VPN_GDOI_COOP_F_REPLY : 0;
    a->group_id = ks->cfg.group_id;
    a->sender = ks->cfg.local;
    a->ann_seq = ++c->tx_seq;
    a->rekey_seq = ks->seq;
    memcpy(a->key_hash, c->key_hash, 32);
    /* a primary lists every member; others the ones it registered that the
     * primary has not listed yet */
    for (size_t i = 0; i < ks->n && nm < VPN_GDOI_COOP_MAX_MEMBERS; i++) {
        const ks_member *m = ks->m[i];
        if (m->registered && (c->role == VPN_GDOI_COOP_PRIMARY || m->coop_new))
            memcpy(c->mbuf + 4 * nm++, m->addr.b, 4);
    }
    a->n_members = nm;
    a->members = c->mbuf;
    if (!c->synced && c->role != VPN_GDOI_COOP_PRIMARY)
        return; /* no group keys to speak of yet */
    a->flags |= VPN_GDOI_COOP_F_KEYS;
    a->tek = ks->cfg.tek;
    a->kek_lifetime_s = ks->cfg.kek_lifetime_s;
    a->multicast = ks->cfg.multicast;
    a->receive_only = ks->cfg.receive_only;
    a->mcast = ks->cfg.multicast ? ks->cfg.mcast : (vpn_addr){VPN_AF_INET, {0}};
    a->gap_act = ks->cfg.gap_activation_s;
    a->gap_deact = ks->cfg.gap_deactivation_s;
    memcpy(a->kek_spi, ks->kek.spi, 16);
    memcpy(a->kek_iv, ks->kek.iv, 16);
    memcpy(a->kek_key, ks->kek.key, 32);
    a->kek_remaining_ms = ms_left(ks->kek.expires, now);
    a->tek_spi = ks->tek.spi;
    a->tek_alg_len = (uint8_t)ks->tek.alg_len;
    memcpy(a->tek_alg_key, ks->tek.alg_key, ks->tek.alg_len);
    a->tek_integ_len = (uint8_t)ks->tek.integ_len;
    memcpy(a->tek_integ_key, ks->tek.integ_key, ks->tek.integ_len);
    a->tek_remaining_ms = ms_left(ks->tek.expires, now);
    a->pseudotime_ms = (now - ks->pt_origin) / MS;
    a->rekey_in_ms = ms_left(ks->rekey_at, now);
}

/* HDR*, HASH, COOP, SIG under the phase-1 SA with p (see gdoi.h). */
static int send_ann(vpn_gdoi_ks *ks, coop_peer *p, bool reply, uint64_t now)
{
    struct gdoi_coop *c = ks->coop;
    uint8_t *buf = c->buf, *hslot, *sslot, h[VPN_PRF_MAX_LEN], iv[VPN_IKEV1_BLOCK], mid_b[4];
    vpn_gdoi_coop_ann a;
    vpn_isakmp_view after;
    vpn_isakmp_hdr hd;
    vpn_isakmp_bld b;
    vpn_sig_alg alg;
    vpn_iov d[2];
    vpn_wr w;
    size_t len, sl, hl, coop_off, coop_len, plen;
    uint32_t mid = 0;
    int rc;

    if (!p->sa || vpn_ikev1_sa_state(p->sa) != VPN_IKEV1_ST_ESTABLISHED) {
        p->drops_sent++;
        return VPN_ERR_STATE;
    }
    while (mid == 0)
        if ((rc = vpn_rng_bytes(ks->rng, &mid, 4)))
            goto out;
    memset(&hd, 0, sizeof hd);
    memcpy(hd.icookie, vpn_ikev1_sa_icookie(p->sa), 8);
    memcpy(hd.rcookie, vpn_ikev1_sa_rcookie(p->sa), 8);
    hd.version = VPN_ISAKMP_VERSION;
    hd.exchange = VPN_GDOI_EXCH_COOP;
    hd.msg_id = mid;
    fill_ann(ks, &a, reply, now);
    vpn_isakmp_bld_init(&b, buf, COOP_MSG_MAX, &hd);
    vpn_isakmp_bld_placeholder(&b, VPN_ISAKMP_PL_HASH, vpn_ikev1_sa_prf_len(p->sa), &hslot);
    vpn_isakmp_bld_begin(&b, VPN_GDOI_PL_COOP);
    rc = vpn_gdoi_coop_ann_encode(&a, vpn_isakmp_bld_wr(&b));
    vpn_isakmp_bld_end(&b);
    OPENSSL_cleanse(&a, sizeof a);
    if (rc)
        goto out; /* an empty COOP payload must not go out signed */
    vpn_isakmp_bld_placeholder(&b, VPN_ISAKMP_PL_SIG, c->sig_len, &sslot);
    if ((rc = vpn_isakmp_bld_pad(&b, VPN_IKEV1_BLOCK, &len)))
        goto out;
    /* SIG over "gdoi-coop" | COOP payload (generic header included) */
    coop_off = b.pl_off[1];
    coop_len = b.pl_off[2] - coop_off;
    memcpy(c->scratch, COOP_SIG_LABEL, COOP_SIG_LABEL_LEN);
    memcpy(c->scratch + COOP_SIG_LABEL_LEN, buf + coop_off, coop_len);
    vpn_sig_alg_init(&alg, VPN_SIG_RSA_PKCS1, VPN_IKE_HASH_SHA2_256);
    sl = c->sig_len;
    if ((rc = vpn_sig_sign(c->key, &alg, ks->rng, c->scratch, COOP_SIG_LABEL_LEN + coop_len, sslot,
                           &sl)))
        goto out;
    if (sl != c->sig_len) {
        rc = VPN_ERR_CRYPTO;
        goto out;
    }
    /* HASH = prf(SKEYID_a, M-ID | COOP | SIG) (RFC 2409 5.7 form) */
    if ((rc = vpn_isakmp_bld_after(&b, 0, &after)))
        goto out;
    vpn_store32(mid_b, mid);
    d[0].p = mid_b;
    d[0].len = 4;
    d[1].p = after.p;
    d[1].len = after.len;
    if ((rc = vpn_ikev1_sa_prf_a(p->sa, d, 2, h, sizeof h, &hl)))
        goto out;
    memcpy(hslot, h, hl);
    plen = len - VPN_ISAKMP_HDR_LEN;
    memcpy(c->plain, buf + VPN_ISAKMP_HDR_LEN, plen);
    if ((rc = vpn_ikev1_sa_p2_iv(p->sa, mid, iv)) ||
        (rc = vpn_ikev1_sa_encrypt(p->sa, iv, buf + VPN_ISAKMP_HDR_LEN, plen)))
        goto out;
    vpn_wr_init(&w, c->view, COOP_MSG_MAX);
    if (vpn_isakmp_decrypted_view(buf, len, c->plain, plen, &w))
        w.off = 0;
    p->ann_sent++;
    p->bytes_sent += len;
    c->st.ann_sent++;
    ks->send(ks->user, &ks->cfg.local, &p->addr, buf, len, vpn_wr_len(&w) ? c->view : NULL,
             vpn_wr_len(&w));
out:
    OPENSSL_cleanse(c->plain, COOP_MSG_MAX);
    OPENSSL_cleanse(c->scratch, COOP_MSG_MAX);
    if (rc) {
        /* ours (RNG, memory, crypto library): the peer would miss keys or
         * members until the next period; counted, reported, and all peers
         * are told again shortly */
        p->drops_sent++;
        gdoi_ks_internal_error(ks, rc, "sending a COOP announcement");
        if (now + NS < c->due_at)
            c->due_at = now + NS;
    }
    return rc;
}

static void announce_all(vpn_gdoi_ks *ks, uint64_t now)
{
    struct gdoi_coop *c = ks->coop;
    c->ann_at = now + (uint64_t)c->cfg.announce_s * NS;
    c->due_at = UINT64_MAX; /* before: a failed announcement sets it again */
    for (size_t i = 0; i < c->n; i++)
        send_ann(ks, &c->peer[i], c->role == VPN_GDOI_COOP_ELECTION, now);
}

void gdoi_coop_after_rekey(vpn_gdoi_ks *ks, uint64_t now)
{
    if (ks->coop)
        announce_all(ks, now); /* before anything else can go wrong: the keys changed */
}

void gdoi_coop_member_added(vpn_gdoi_ks *ks, ks_member *m, uint64_t now)
{
    if (!ks->coop)
        return;
    m->coop_new = ks->coop->role != VPN_GDOI_COOP_PRIMARY;
    ks->coop->due_at = now; /* coalesces registrations of the same instant */
}

/* ---- election ---------------------------------------------------------------- */

static void set_role(vpn_gdoi_ks *ks, vpn_gdoi_coop_role r, uint64_t now)
{
    struct gdoi_coop *c = ks->coop;
    char a[VPN_ADDR_STRLEN];

    if (c->role == r)
        return;
    vpn_log_emit(&ks->log, VPN_LOG_INFO, ENGINE, "KS %s group %s: %s -> %s",
                 vpn_addr_str(&ks->cfg.local, a, sizeof a), ks->name, role_name(c->role),
                 role_name(r));
    if (r == VPN_GDOI_COOP_PRIMARY && c->role == VPN_GDOI_COOP_SECONDARY)
        c->st.takeovers++;
    c->role = r;
    c->st.role_changes++;
    if (r == VPN_GDOI_COOP_PRIMARY) {
        /* the first KS of the group uses the keys it made; one that synced
         * keeps serving the group with them, on the synced schedule */
        c->synced = true;
        for (size_t i = 0; i < ks->n; i++)
            ks->m[i]->coop_new = false;
    } else {
        /* only the primary rekeys and retransmits */
        ks->rk_at = ks->rk_eval_at = UINT64_MAX;
        gdoi_coop_merge_done(ks);
    }
    c->due_at = now;
}

/* The best candidate among us and the live peers that are not electing. */
static coop_peer *best_peer(vpn_gdoi_ks *ks)
{
    struct gdoi_coop *c = ks->coop;
    coop_peer *best = NULL;

    for (size_t i = 0; i < c->n; i++) {
        coop_peer *p = &c->peer[i];
        if (!p->alive || p->role == VPN_GDOI_COOP_ELECTION)
            continue;
        if (best ? rank_cmp(p->priority, &p->addr, best->priority, &best->addr) > 0
                 : peer_rank_vs_self(ks, p) > 0)
            best = p;
    }
    return best;
}

static void elect(vpn_gdoi_ks *ks, uint64_t now)
{
    struct gdoi_coop *c = ks->coop;

    if (c->role == VPN_GDOI_COOP_ELECTION && now < c->election_end)
        return;
    if (!best_peer(ks))
        set_role(ks, VPN_GDOI_COOP_PRIMARY, now);
    else
        set_role(ks, VPN_GDOI_COOP_SECONDARY, now);
}

/* ---- announcements in -------------------------------------------------------- */

/*
 * Adds the members of an announcement we do not know and marks every
 * listed one (coop_listed), by the address hash: linear in the list, so
 * an 8000-member announcement costs 8000 lookups, not 8000 squared.
 */
static bool learn_members(vpn_gdoi_ks *ks, const vpn_gdoi_coop_ann *a)
{
    bool added = false;
    for (size_t i = 0; i < ks->n; i++)
        ks->m[i]->coop_listed = false;
    for (size_t i = 0; i < a->n_members; i++) {
        vpn_addr x;
        ks_member *m;
        int rc;
        vpn_addr_from_bytes(&x, a->members + 4 * i, 4);
        if (!(m = gdoi_ks_member_by_addr(ks, &x))) {
            rc = gdoi_ks_member_add_synced(ks, &x);
            if (rc == 0) {
                added = true;
                m = gdoi_ks_member_by_addr(ks, &x);
            } else if (rc != VPN_ERR_LIMIT) {
                /* ours (memory); a full group was logged by refuse(). The
                 * next announcement lists it again */
                gdoi_ks_internal_error(ks, rc, "learning a member from a peer KS");
            }
        }
        if (m)
            m->coop_listed = true;
    }
    return added;
}

/* A secondary takes the primary's policy, keys, SEQ, clocks and members. */
static void adopt(vpn_gdoi_ks *ks, const vpn_gdoi_coop_ann *a, uint64_t now)
{
    struct gdoi_coop *c = ks->coop;

    learn_members(ks, a);
    /* members the primary dropped go, except ours it has not seen yet */
    for (size_t i = 0; i < ks->n;) {
        ks_member *m = ks->m[i];
        if (m->registered && m->coop_listed)
            m->coop_new = false;
        if (m->registered && !m->coop_new && !m->coop_listed) {
            gdoi_ks_member_remove(ks, i);
            continue;
        }
        i++;
    }
    if (!(a->flags & VPN_GDOI_COOP_F_KEYS))
        return;
    ks->cfg.tek = a->tek;
    ks->cfg.kek_lifetime_s = a->kek_lifetime_s;
    ks->cfg.multicast = a->multicast;
    if (a->multicast)
        ks->cfg.mcast = a->mcast;
    ks->cfg.receive_only = a->receive_only;
    ks->cfg.gap_activation_s = a->gap_act;
    ks->cfg.gap_deactivation_s = a->gap_deact;
    OPENSSL_cleanse(&ks->tek, sizeof ks->tek);
    ks->tek.spi = a->tek_spi;
    ks->tek.alg_len = a->tek_alg_len;
    ks->tek.integ_len = a->tek_integ_len;
    memcpy(ks->tek.alg_key, a->tek_alg_key, a->tek_alg_len);
    memcpy(ks->tek.integ_key, a->tek_integ_key, a->tek_integ_len);
    ks->tek.expires = now + (uint64_t)a->tek_remaining_ms * MS;
    ks->tek.created = ks->tek.expires - (uint64_t)a->tek.lifetime_s * NS; /* wraps harmlessly */
    memcpy(ks->kek.spi, a->kek_spi, 16);
    memcpy(ks->kek.iv, a->kek_iv, 16);
    memcpy(ks->kek.key, a->kek_key, 32);
    ks->kek.expires = now + (uint64_t)a->kek_remaining_ms * MS;
    ks->kek.created = ks->kek.expires - (uint64_t)a->kek_lifetime_s * NS;
    if (a->rekey_seq > ks->seq)
        ks->seq = a->rekey_seq;
    ks->pt_origin = now - a->pseudotime_ms * MS; /* unsigned: now - pt_origin is right */
    ks->rekey_at = now + (uint64_t)a->rekey_in_ms * MS;
    c->synced = true;
}

/* We are primary and outrank a peer that also claims to be: split brain over. */
static void merge_win(vpn_gdoi_ks *ks, coop_peer *p, const vpn_gdoi_coop_ann *a, uint64_t now)
{
    struct gdoi_coop *c = ks->coop;
    char s[VPN_ADDR_STRLEN];
    bool rekey = false;

    if (learn_members(ks, a))
        c->due_at = now;
    if (a->rekey_seq > ks->seq) {
        ks->seq = a->rekey_seq; /* our next rekey must beat what its members saw */
        rekey = true;
    }
    if ((a->flags & VPN_GDOI_COOP_F_KEYS) && p->merged_tek != a->tek_spi) {
        p->merged_tek = a->tek_spi;
        if (a->tek_spi != ks->tek.spi)
            rekey = true;
        if (memcmp(a->kek_spi, ks->kek.spi, 16)) {
            /* its members hold only its KEK: the merge rekey goes under both */
            memcpy(c->merge.spi, a->kek_spi, 16);
            memcpy(c->merge.iv, a->kek_iv, 16);
            memcpy(c->merge.key, a->kek_key, 32);
            c->have_merge = true;
            rekey = true;
        }
    }
    c->st.merges++;
    vpn_log_emit(&ks->log, VPN_LOG_WARN, ENGINE,
                 "split brain with %s resolved: we stay primary (SEQ %u)%s",
                 vpn_addr_str(&p->addr, s, sizeof s), ks->seq, rekey ? ", rekeying now" : "");
    if (rekey)
        ks->rekey_at = now;
}

static int ann_input(vpn_gdoi_ks *ks, coop_peer *p, const uint8_t *dg, size_t len, uint64_t now)
{
    struct gdoi_coop *c = ks->coop;
    uint8_t h[VPN_PRF_MAX_LEN], iv[VPN_IKEV1_BLOCK], mid_b[4];
    vpn_isakmp_view after;
    vpn_isakmp_msg m;
    vpn_gdoi_coop_ann a;
    vpn_ikev1_sa *sa = NULL;
    vpn_sig_alg alg;
    vpn_iov d[2];
    size_t hl;
    int rc;

    if ((rc = vpn_isakmp_msg_parse(dg, len, &m)) || !m.encrypted) {
        c->st.malformed++;
        return rc ? rc : VPN_ERR_MALFORMED;
    }
    for (int k = 0; k < 2; k++) {
        vpn_ikev1_sa *x = k ? p->pend : p->sa;
        if (x && vpn_ikev1_sa_state(x) == VPN_IKEV1_ST_ESTABLISHED &&
            !memcmp(m.hdr.icookie, vpn_ikev1_sa_icookie(x), 8) &&
            !memcmp(m.hdr.rcookie, vpn_ikev1_sa_rcookie(x), 8))
            sa = x;
    }
    if (!sa) {
        c->st.no_sa++;
        return VPN_ERR_NOTFOUND;
    }
    if (m.body_len % VPN_IKEV1_BLOCK || m.body_len > COOP_MSG_MAX || m.hdr.msg_id == 0) {
        c->st.malformed++;
        return VPN_ERR_MALFORMED;
    }
    memcpy(c->plain, m.body, m.body_len);
    if ((rc = vpn_ikev1_sa_p2_iv(sa, m.hdr.msg_id, iv)) ||
        (rc = vpn_ikev1_sa_decrypt(sa, iv, c->plain, m.body_len)))
        goto out;
    /* HDR*, HASH, COOP, SIG and nothing else */
    if ((rc = vpn_isakmp_msg_parse_plain(&m, c->plain, m.body_len, NULL)) || m.n != 3 ||
        m.pl[0].type != VPN_ISAKMP_PL_HASH || m.pl[1].type != VPN_GDOI_PL_COOP ||
        m.pl[2].type != VPN_ISAKMP_PL_SIG) {
        c->st.malformed++;
        rc = rc ? rc : VPN_ERR_MALFORMED;
        goto out;
    }
    if ((rc = vpn_isakmp_msg_after(&m, 0, &after)))
        goto out;
    vpn_store32(mid_b, m.hdr.msg_id);
    d[0].p = mid_b;
    d[0].len = 4;
    d[1].p = after.p;
    d[1].len = after.len;
    if ((rc = vpn_ikev1_sa_prf_a(sa, d, 2, h, sizeof h, &hl)))
        goto out;
    if (m.pl[0].body_len != hl || vpn_ikev1_memcmp_ct(h, m.pl[0].body, hl)) {
        c->st.bad_hash++;
        rc = VPN_ERR_AUTH;
        goto out;
    }
    if (m.pl[1].raw_len + COOP_SIG_LABEL_LEN > COOP_MSG_MAX) {
        c->st.malformed++;
        rc = VPN_ERR_MALFORMED;
        goto out;
    }
    memcpy(c->scratch, COOP_SIG_LABEL, COOP_SIG_LABEL_LEN);
    memcpy(c->scratch + COOP_SIG_LABEL_LEN, m.pl[1].raw, m.pl[1].raw_len);
    vpn_sig_alg_init(&alg, VPN_SIG_RSA_PKCS1, VPN_IKE_HASH_SHA2_256);
    if (vpn_sig_verify(p->pub, &alg, c->scratch, COOP_SIG_LABEL_LEN + m.pl[1].raw_len,
                       m.pl[2].body, m.pl[2].body_len)) {
        c->st.bad_sig++;
        rc = VPN_ERR_AUTH;
        goto out;
    }
    if ((rc = vpn_gdoi_coop_ann_decode(m.pl[1].body, m.pl[1].body_len, &a))) {
        c->st.malformed++;
        goto out;
    }
    if (!vpn_addr_eq(&a.sender, &p->addr)) {
        c->st.unknown_peer++;
        rc = VPN_ERR_POLICY;
        goto out_a;
    }
    if (a.group_id != ks->cfg.group_id) {
        c->st.wrong_group++;
        rc = VPN_ERR_POLICY;
        goto out_a;
    }
    /* per SA: a peer that restarts starts a new SA and a new count */
    if (sa != p->sa || a.ann_seq <= p->rx_seq) {
        c->st.replays++;
        rc = VPN_ERR_REPLAY;
        goto out_a;
    }
    if (memcmp(a.key_hash, c->key_hash, 32)) {
        /* its rekeys would not verify at our members: not of our group */
        c->st.key_mismatch++;
        vpn_log_emit(&ks->log, VPN_LOG_ERROR, ENGINE,
                     "peer KS announces a different rekey key: ignored (all KSs of a group "
                     "must share it)");
        rc = VPN_ERR_POLICY;
        goto out_a;
    }
    /* accepted */
    p->rx_seq = a.ann_seq;
    p->heard_at = now;
    p->alive = true;
    p->priority = a.priority;
    p->role = a.role;
    p->ann_rcvd++;
    p->bytes_rcvd += len;
    c->st.ann_rcvd++;
    if (a.role == VPN_GDOI_COOP_PRIMARY) {
        if (c->role == VPN_GDOI_COOP_PRIMARY && peer_rank_vs_self(ks, p) < 0) {
            merge_win(ks, p, &a, now);
            send_ann(ks, p, false, now); /* so it steps down now */
        } else if (c->role == VPN_GDOI_COOP_PRIMARY) {
            /* it outranks us: our last word as primary (our SEQ, KEK and
             * members, for its merge), then we follow it */
            char s[VPN_ADDR_STRLEN];
            vpn_log_emit(&ks->log, VPN_LOG_WARN, ENGINE,
                         "split brain: %s outranks us; stepping down",
                         vpn_addr_str(&p->addr, s, sizeof s));
            send_ann(ks, p, false, now);
            set_role(ks, VPN_GDOI_COOP_SECONDARY, now);
            adopt(ks, &a, now);
        } else {
            /* follow the best of the primaries that speak */
            bool follow = true;
            for (size_t i = 0; i < c->n; i++) {
                coop_peer *q = &c->peer[i];
                if (q != p && q->alive && q->role == VPN_GDOI_COOP_PRIMARY &&
                    rank_cmp(q->priority, &q->addr, p->priority, &p->addr) > 0)
                    follow = false;
            }
            if (follow)
                adopt(ks, &a, now);
        }
    } else if (c->role == VPN_GDOI_COOP_PRIMARY && learn_members(ks, &a)) {
        c->due_at = now; /* members it registered: list them back */
    }
    if (a.flags & VPN_GDOI_COOP_F_REPLY)
        send_ann(ks, p, false, now); /* a reply never asks for one */
    elect(ks, now);
    rc = 0;
out_a:
    OPENSSL_cleanse(&a, sizeof a);
out:
    OPENSSL_cleanse(c->plain, COOP_MSG_MAX);
    return rc;
}

/* ---- datagrams from peers ------------------------------------------------------ */

static void sa_up(vpn_gdoi_ks *ks, coop_peer *p, uint64_t now)
{
    char s[VPN_ADDR_STRLEN];

    /* the phase-1 identity must be the peer's address */
    if (!vpn_addr_eq(vpn_ikev1_sa_peer_id(p->pend), &p->addr)) {
        vpn_log_emit(&ks->log, VPN_LOG_WARN, ENGINE, "COOP phase 1 from %s with a foreign ID",
                     vpn_addr_str(&p->addr, s, sizeof s));
        vpn_ikev1_sa_del(p->pend);
        p->pend = NULL;
        return;
    }
    vpn_ikev1_sa_del(p->sa);
    p->sa = p->pend;
    p->pend = NULL;
    p->rx_seq = 0;
    vpn_log_emit(&ks->log, VPN_LOG_INFO, ENGINE, "COOP session with %s established",
                 vpn_addr_str(&p->addr, s, sizeof s));
    send_ann(ks, p, ks->coop->role == VPN_GDOI_COOP_ELECTION, now);
}

int gdoi_coop_input(vpn_gdoi_ks *ks, const vpn_addr *src, const uint8_t *dg, size_t len,
                    uint64_t now)
{
    static const uint8_t zero[8];
    coop_peer *p = peer_of(ks, src);
    vpn_isakmp_hdr h;
    vpn_ikev1_sa *sa;
    int rc;

    if (!p)
        return VPN_ERR_NOTFOUND;
    if ((rc = vpn_isakmp_hdr_parse(dg, len, &h))) {
        ks->coop->st.malformed++;
        p->drops_rcvd++;
        return rc;
    }
    if (h.exchange == VPN_GDOI_EXCH_COOP) {
        rc = ann_input(ks, p, dg, len, now);
        if (rc)
            p->drops_rcvd++;
        return rc;
    }
    /* phase 1 and informational exchanges of the KS-KS SA */
    for (int k = 0; k < 2; k++) {
        sa = k ? p->pend : p->sa;
        if (sa && !memcmp(h.icookie, vpn_ikev1_sa_icookie(sa), 8)) {
            p->bytes_rcvd += len;
            rc = vpn_ikev1_sa_input(sa, dg, len, now);
            if (sa == p->pend && vpn_ikev1_sa_state(sa) == VPN_IKEV1_ST_ESTABLISHED)
                sa_up(ks, p, now);
            return rc;
        }
    }
    if (h.exchange != VPN_ISAKMP_EXCH_MAIN || memcmp(h.rcookie, zero, 8)) {
        p->drops_rcvd++;
        return VPN_ERR_NOTFOUND;
    }
    /* a new phase 1 from the peer (it restarted, or both of us started) */
    if (p->pend && vpn_ikev1_sa_is_initiator(p->pend) &&
        vpn_ikev1_sa_state(p->pend) != VPN_IKEV1_ST_DEAD &&
        memcmp(ks->cfg.local.b, p->addr.b, 4) < 0)
        return VPN_ERR_STATE; /* collision: the lower address's initiation stands */
    if ((rc = new_sa(ks, p, false, &sa)))
        return rc;
    if ((rc = vpn_ikev1_sa_input(sa, dg, len, now))) {
        vpn_ikev1_sa_del(sa);
        p->drops_rcvd++;
        return rc;
    }
    p->bytes_rcvd += len;
    vpn_ikev1_sa_del(p->pend);
    p->pend = sa;
    return 0;
}

int gdoi_coop_unknown(vpn_gdoi_ks *ks, const vpn_addr *src)
{
    char s[VPN_ADDR_STRLEN];

    if (!ks->coop)
        return VPN_ERR_NOTFOUND;
    ks->coop->st.unknown_peer++;
    vpn_log_emit(&ks->log, VPN_LOG_WARN, ENGINE, "COOP announcement from unknown %s dropped",
                 vpn_addr_str(src, s, sizeof s));
    return VPN_ERR_NOTFOUND;
}

/* ---- time ------------------------------------------------------------------------ */

static bool wants_phase1(const coop_peer *p)
{
    return !p->pend && (!p->sa || vpn_ikev1_sa_state(p->sa) != VPN_IKEV1_ST_ESTABLISHED ||
                        !p->alive);
}

uint64_t gdoi_coop_deadline(const vpn_gdoi_ks *ks)
{
    const struct gdoi_coop *c = ks->coop;
    uint64_t d = c->ann_at < c->due_at ? c->ann_at : c->due_at;

    if (c->role == VPN_GDOI_COOP_ELECTION && c->election_end < d)
        d = c->election_end;
    for (size_t i = 0; i < c->n; i++) {
        const coop_peer *p = &c->peer[i];
        uint64_t x;
        if (p->alive && p->heard_at + (uint64_t)c->cfg.dead_s * NS < d)
            d = p->heard_at + (uint64_t)c->cfg.dead_s * NS;
        if (p->sa && (x = vpn_ikev1_sa_next_deadline(p->sa)) < d)
            d = x;
        if (p->pend && (x = vpn_ikev1_sa_next_deadline(p->pend)) < d)
            d = x;
        if (wants_phase1(p) && p->retry_at < d)
            d = p->retry_at;
    }
    return d;
}

void gdoi_coop_tick(vpn_gdoi_ks *ks, uint64_t now)
{
    struct gdoi_coop *c = ks->coop;
    char s[VPN_ADDR_STRLEN];

    for (size_t i = 0; i < c->n; i++) {
        coop_peer *p = &c->peer[i];
        if (p->alive && now >= p->heard_at + (uint64_t)c->cfg.dead_s * NS) {
            p->alive = false;
            vpn_log_emit(&ks->log, VPN_LOG_WARN, ENGINE, "COOP peer %s (%s) silent for %u s",
                         vpn_addr_str(&p->addr, s, sizeof s), role_name(p->role),
                         c->cfg.dead_s);
        }
        if (p->sa) {
            vpn_ikev1_sa_timeout(p->sa, now);
            if (vpn_ikev1_sa_state(p->sa) == VPN_IKEV1_ST_DEAD) {
                vpn_ikev1_sa_del(p->sa);
                p->sa = NULL;
            }
        }
        if (p->pend) {
            vpn_ikev1_sa_timeout(p->pend, now);
            if (vpn_ikev1_sa_state(p->pend) == VPN_IKEV1_ST_DEAD) {
                vpn_ikev1_sa_del(p->pend);
                p->pend = NULL;
            }
        }
        if (wants_phase1(p) && now >= p->retry_at)
            start_phase1(ks, p, now);
    }
    elect(ks, now);
    if (now >= c->ann_at || now >= c->due_at)
        announce_all(ks, now);
}

/* ---- state for show ------------------------------------------------------------------ */

vpn_gdoi_coop_role vpn_gdoi_ks_coop_role(const vpn_gdoi_ks *ks)
{
    return ks && ks->coop ? ks->coop->role : VPN_GDOI_COOP_PRIMARY;
}

const vpn_gdoi_coop_stats *vpn_gdoi_ks_coop_stats(const vpn_gdoi_ks *ks)
{
    return ks && ks->coop ? &ks->coop->st : NULL;
}

const vpn_ikev1_sa *vpn_gdoi_ks_coop_phase1(const vpn_gdoi_ks *ks, size_t i)
{
    return ks && ks->coop && i < ks->coop->n ? ks->coop->peer[i].sa : NULL;
}

void vpn_gdoi_ks_coop_info(const vpn_gdoi_ks *ks, uint64_t now, vpn_gdoi_coop_info *o)
{
    const struct gdoi_coop *c = ks->coop;

    memset(o, 0, sizeof *o);
    o->local = ks->cfg.local;
    if (!c)
        return;
    o->enabled = true;
    o->priority = c->cfg.priority;
    o->role = c->role;
    o->announce_s = c->cfg.announce_s;
    o->dead_s = c->cfg.dead_s;
    if (c->role == VPN_GDOI_COOP_SECONDARY) {
        /* time left before the primary would be declared dead */
        uint64_t until = UINT64_MAX;
        for (size_t i = 0; i < c->n; i++)
            if (c->peer[i].alive && c->peer[i].role == VPN_GDOI_COOP_PRIMARY)
                until = c->peer[i].heard_at + (uint64_t)c->cfg.dead_s * NS;
        o->remaining_s = until == UINT64_MAX ? 0 : ms_left(until, now) / 1000u;
    } else {
        o->remaining_s = ms_left(c->ann_at, now) / 1000u;
    }
    o->ann_seq = c->tx_seq;
    o->n_peers = c->n;
    o->st = c->st;
}

int vpn_gdoi_ks_coop_peer(const vpn_gdoi_ks *ks, size_t i, vpn_gdoi_coop_peer_info *o)
{
    const coop_peer *p;

    if (!ks->coop || i >= ks->coop->n)
        return VPN_ERR_NOTFOUND;
    p = &ks->coop->peer[i];
    memset(o, 0, sizeof *o);
    o->addr = p->addr;
    o->priority = p->priority;
    o->role = p->role;
    o->alive = p->alive;
    o->ike_up = p->sa && vpn_ikev1_sa_state(p->sa) == VPN_IKEV1_ST_ESTABLISHED;
    o->ann_seq = p->rx_seq;
    o->ann_sent = p->ann_sent;
    o->ann_rcvd = p->ann_rcvd;
    o->drops_sent = p->drops_sent;
    o->drops_rcvd = p->drops_rcvd;
    o->bytes_sent = p->bytes_sent;
    o->bytes_rcvd = p->bytes_rcvd;
    return 0;
}
