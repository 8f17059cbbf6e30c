/*
 * GDOI key server: registration (GROUPKEY-PULL, RFC 6407 3) and rekeys
 * (GROUPKEY-PUSH, RFC 6407 4). See gdoi.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "common/vpn-err.h"
#include "common/wire.h"
#include "crypto/crypto-ids.h"
#include "crypto/prf.h"
#include "gdoi/gdoi-priv.h"
#include "isakmp/isakmp-build.h"
#include "isakmp/isakmp-const.h"
#include "isakmp/isakmp-policy.h"

#define ENGINE "gdoi-ks"
/* Phase-1 exchanges in progress beyond the member limit: bounds what a
 * flood of Main Mode starts can cost. */
#define KS_PENDING_MAX 256u
#define NS NS_PER_S

static int ack_input(vpn_gdoi_ks *ks, const vpn_addr *src, const uint8_t *dg, size_t len);

static uint64_t lead_s(const vpn_gdoi_ks *ks)
{
    uint64_t l = ks->cfg.rekey_lead_s ? ks->cfg.rekey_lead_s : ks->cfg.tek.lifetime_s / 5;
    return l ? l : 1;
}

int gdoi_ks_new_tek(vpn_gdoi_ks *ks, uint64_t now)
{
    ks_tek t;
    int rc;

    memset(&t, 0, sizeof t);
    if ((rc = gdoi_tek_key_lens(ks->cfg.tek.encr_id, ks->cfg.tek.key_bits, ks->cfg.tek.integ_id,
                                &t.alg_len, &t.integ_len)))
        return rc;
    do {
        if ((rc = vpn_rng_bytes(ks->rng, &t.spi, 4)))
            return rc;
    } while (t.spi < 256 || t.spi == ks->tek.spi); /* RFC 4303 2.1 */
    if ((rc = vpn_rng_bytes(ks->rng, t.alg_key, t.alg_len)) ||
        (t.integ_len && (rc = vpn_rng_bytes(ks->rng, t.integ_key, t.integ_len))))
        return rc;
    t.created = now;
    t.expires = now + (uint64_t)ks->cfg.tek.lifetime_s * NS;
    OPENSSL_cleanse(&ks->tek, sizeof ks->tek);
    ks->tek = t;
    OPENSSL_cleanse(&t, sizeof t);
    ks->rekey_at = ks->tek.expires - lead_s(ks) * NS;
    return 0;
}

static int new_kek(ks_kek *k, const vpn_rng *rng, uint32_t life_s, uint64_t now)
{
    int rc;

    if ((rc = vpn_rng_bytes(rng, k->spi, sizeof k->spi)) ||
        (rc = vpn_rng_bytes(rng, k->key, sizeof k->key)) ||
        (rc = vpn_rng_bytes(rng, k->iv, sizeof k->iv)))
        return rc;
    k->created = now;
    k->expires = now + (uint64_t)life_s * NS;
    return 0;
}

int vpn_gdoi_ks_new(vpn_gdoi_ks **out, const vpn_gdoi_ks_cfg *cfg, const vpn_rng *rng,
                    const vpn_log *log, vpn_gdoi_send_fn send, void *user, uint64_t now)
{
    vpn_gdoi_ks *ks;
    unsigned char *der = NULL;
    int dl, rc;
    size_t al, il;

    if (!out || !cfg || !rng || !send || !cfg->rekey_key ||
        vpn_sig_key_type_of(cfg->rekey_key) != VPN_SIG_KEY_RSA ||
        !vpn_sig_key_is_private(cfg->rekey_key) || cfg->local.family != VPN_AF_INET ||
        cfg->tek.sel.family != VPN_AF_INET || (cfg->multicast && cfg->mcast.family != VPN_AF_INET) ||
        cfg->tek.n_more >= VPN_GDOI_TEK_SELS_MAX ||
        (cfg->tek.deny_mask | ((2u << cfg->tek.n_more) - 1)) != ((2u << cfg->tek.n_more) - 1) ||
        cfg->tek.deny_mask == (2u << cfg->tek.n_more) - 1)
        return VPN_ERR_INVAL;
    for (size_t i = 0; i < cfg->tek.n_more; i++)
        if (cfg->tek.more[i].family != VPN_AF_INET)
            return VPN_ERR_INVAL;
    /* COOP announcements carry every line (VPN_GDOI_COOP_F_LINES) */
    ks = vpn_calloc(&cfg->alloc, 1, sizeof *ks);
    if (!ks)
        return VPN_ERR_NOMEM;
    ks->cfg = *cfg;
    snprintf(ks->name, sizeof ks->name, "%s", cfg->name ? cfg->name : "GDOI");
    ks->cfg.name = ks->name;
    if (cfg->ike.psk_len > sizeof ks->psk || cfg->ike.n_suites > VPN_IKEV1_SUITES_MAX) {
        free(ks);
        return VPN_ERR_INVAL;
    }
    if (cfg->ike.psk)
        memcpy(ks->psk, cfg->ike.psk, cfg->ike.psk_len);
    ks->cfg.ike.psk = ks->psk;
    /* every member's phase 1 copies the suites when it starts: keep ours */
    if (cfg->ike.n_suites)
        memcpy(ks->suites, cfg->ike.suites, cfg->ike.n_suites * sizeof *ks->suites);
    ks->cfg.ike.suites = cfg->ike.n_suites ? ks->suites : NULL;
    ks->cfg.ike.alloc = ks->cfg.alloc; /* members' phase 1 behind the same gate */
    if (!ks->cfg.tek.key_bits)
        ks->cfg.tek.key_bits = 256;
    if (!ks->cfg.tek.integ_id && ks->cfg.tek.encr_id == VPN_ENCR_AES_CBC)
        ks->cfg.tek.integ_id = VPN_AUTH_HMAC_SHA2_256_128;
    if (!ks->cfg.tek.lifetime_s)
        ks->cfg.tek.lifetime_s = VPN_GDOI_DEFAULT_TEK_LIFETIME;
    if (!ks->cfg.kek_lifetime_s)
        ks->cfg.kek_lifetime_s = VPN_GDOI_DEFAULT_KEK_LIFETIME;
    if (!ks->cfg.retrans_s)
        ks->cfg.retrans_s = VPN_GDOI_DEFAULT_RETRANS_S;
    if (!ks->cfg.retrans_n)
        ks->cfg.retrans_n = VPN_GDOI_DEFAULT_RETRANS_N;
    ks->rng = rng;
    if (log)
        ks->log = *log;
    ks->send = send;
    ks->user = user;
    rc = gdoi_tek_key_lens(ks->cfg.tek.encr_id, ks->cfg.tek.key_bits, ks->cfg.tek.integ_id, &al,
                           &il);
    if (!rc && cfg->n_authorized) {
        ks->auth = vpn_calloc(&ks->cfg.alloc, cfg->n_authorized, sizeof *ks->auth);
        if (!ks->auth)
            rc = VPN_ERR_NOMEM;
        else
            memcpy(ks->auth, cfg->authorized, cfg->n_authorized * sizeof *ks->auth);
        ks->cfg.authorized = ks->auth;
    }
    if (!rc && cfg->n_auth_rules) {
        ks->rules = vpn_calloc(&ks->cfg.alloc, cfg->n_auth_rules, sizeof *ks->rules);
        if (!ks->rules)
            rc = VPN_ERR_NOMEM;
        else
            memcpy(ks->rules, cfg->auth_rules, cfg->n_auth_rules * sizeof *ks->rules);
    }
    ks->cfg.auth_rules = ks->rules;
    if (!ks->cfg.max_members || ks->cfg.max_members > VPN_GDOI_KS_MAX_MEMBERS)
        ks->cfg.max_members = VPN_GDOI_KS_MAX_MEMBERS;
    if (!rc)
        rc = vpn_rng_bytes(rng, &ks->hash_seed, sizeof ks->hash_seed);
    /* RFC 6407 5.6.3: the KS public key, DER SubjectPublicKeyInfo. */
    if (!rc) {
        dl = i2d_PUBKEY(vpn_sig_key_evp(cfg->rekey_key), &der);
        if (dl <= 0 || (size_t)dl > sizeof ks->pub_der)
            rc = VPN_ERR_CRYPTO;
        else {
            memcpy(ks->pub_der, der, (size_t)dl);
            ks->pub_len = (size_t)dl;
        }
        OPENSSL_free(der);
        ks->sig_len = vpn_sig_max_len(cfg->rekey_key);
    }
    if (!rc)
        rc = gdoi_ks_new_tek(ks, now);
    if (!rc)
        rc = new_kek(&ks->kek, rng, ks->cfg.kek_lifetime_s, now);
    if (rc) {
        vpn_gdoi_ks_del(ks);
        return rc;
    }
    ks->pt_origin = now;
    ks->rk_at = ks->rk_eval_at = UINT64_MAX;
    if ((rc = gdoi_coop_new(ks, now))) {
        vpn_gdoi_ks_del(ks);
        return rc;
    }
    *out = ks;
    return 0;
}

/* Drops the kept PULL exchange (it holds keys in its decrypted view). */
static void member_forget(ks_member *m)
{
    if (m->last) {
        OPENSSL_cleanse(m->last, m->last_in_len + m->last_out_len + m->last_view_len);
        free(m->last);
    }
    m->last = NULL;
    m->last_in_len = m->last_out_len = m->last_view_len = 0;
}

static void member_free(ks_member *m)
{
    if (!m)
        return;
    member_forget(m);
    vpn_ikev1_sa_del(m->p1);
    OPENSSL_cleanse(m, sizeof *m);
    free(m);
}

void vpn_gdoi_ks_del(vpn_gdoi_ks *ks)
{
    if (!ks)
        return;
    gdoi_coop_del(ks);
    for (size_t i = 0; i < ks->n; i++)
        member_free(ks->m[i]);
    free(ks->m);
    free(ks->heap);
    free(ks->ck_tab);
    free(ks->ad_tab);
    free(ks->rules);
    free(ks->auth);
    OPENSSL_cleanse(ks, sizeof *ks);
    free(ks);
}

int vpn_gdoi_ks_set_multicast(vpn_gdoi_ks *ks, bool multicast, const vpn_addr *group)
{
    if (multicast && (!group || group->family != VPN_AF_INET))
        return VPN_ERR_INVAL;
    ks->cfg.multicast = multicast;
    if (multicast)
        ks->cfg.mcast = *group;
    return 0;
}

size_t vpn_gdoi_ks_members(const vpn_gdoi_ks *ks) { return ks ? ks->n_reg : 0; }

/* The getters take NULL (the engine contract): zero values, NULL pointers. */
const vpn_gdoi_ks_stats *vpn_gdoi_ks_get_stats(const vpn_gdoi_ks *ks) { return ks ? &ks->st : NULL; }
void vpn_gdoi_ks_stats_get(const vpn_gdoi_ks *ks, vpn_gdoi_ks_stats *out)
{
    if (out == NULL)
        return;
    if (ks == NULL)
        memset(out, 0, sizeof *out);
    else
        *out = ks->st;
}
uint32_t vpn_gdoi_ks_tek_spi(const vpn_gdoi_ks *ks) { return ks ? ks->tek.spi : 0; }
const uint8_t *vpn_gdoi_ks_kek_spi(const vpn_gdoi_ks *ks) { return ks ? ks->kek.spi : NULL; }
uint32_t vpn_gdoi_ks_seq(const vpn_gdoi_ks *ks) { return ks ? ks->seq : 0; }
void vpn_gdoi_ks_kek(const vpn_gdoi_ks *ks, const uint8_t **key, const uint8_t **iv)
{
    if (key)
        *key = ks ? ks->kek.key : NULL;
    if (iv)
        *iv = ks ? ks->kek.iv : NULL;
}

static void p1_send(void *user, vpn_ikev1_sa *sa, const uint8_t *dg, size_t len,
                    const uint8_t *view, size_t view_len)
{
    vpn_gdoi_ks *ks = user;
    ks_member *m = vpn_ikev1_sa_get_user(sa);
    ks->send(ks->user, &ks->cfg.local, &m->addr, dg, len, view, view_len);
}

/*
 * Member indexes. Every message names its member by initiator cookie
 * (registration) or address (ACKs, re-registration, COOP lists), so with
 * thousands of members these are hash lookups, not scans: chained tables
 * with as many buckets as entries (doubled as members come), hashed with
 * FNV-1a from a per-KS random seed.
 */
static size_t idx_hash(const vpn_gdoi_ks *ks, const uint8_t *b, size_t n)
{
    uint32_t h = 2166136261u ^ ks->hash_seed;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 16777619u;
    h ^= h >> 15;
    return h & (ks->tab_size - 1);
}

static size_t ck_bucket(const vpn_gdoi_ks *ks, const ks_member *m)
{
    return idx_hash(ks, vpn_ikev1_sa_icookie(m->p1), 8);
}

static size_t ad_bucket(const vpn_gdoi_ks *ks, const vpn_addr *a)
{
    return idx_hash(ks, a->b, vpn_addr_len(a));
}

static void idx_link(vpn_gdoi_ks *ks, ks_member *m)
{
    if (m->in_ck) {
        size_t b = ck_bucket(ks, m);
        m->ck_next = ks->ck_tab[b];
        ks->ck_tab[b] = m;
    }
    if (m->in_ad) {
        size_t b = ad_bucket(ks, &m->addr);
        m->ad_next = ks->ad_tab[b];
        ks->ad_tab[b] = m;
    }
}

/*
 * The deadline heap: a binary min-heap of the members with a phase-1 SA,
 * keyed by that SA's deadline as last read (m->due). Whoever calls into a
 * member's phase 1 re-reads it with heap_fix, so the root is always the
 * KS's earliest member deadline: O(1) to read, O(log n) to change.
 */
static void heap_put(vpn_gdoi_ks *ks, size_t i, ks_member *m)
{
    ks->heap[i] = m;
    m->hpos = i;
}

static void heap_up(vpn_gdoi_ks *ks, size_t i)
{
    ks_member *m = ks->heap[i];

    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (ks->heap[p]->due <= m->due)
            break;
        heap_put(ks, i, ks->heap[p]);
        i = p;
    }
    heap_put(ks, i, m);
}

static void heap_down(vpn_gdoi_ks *ks, size_t i)
{
    ks_member *m = ks->heap[i];

    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= ks->heap_n)
            break;
        if (c + 1 < ks->heap_n && ks->heap[c + 1]->due < ks->heap[c]->due)
            c++;
        if (m->due <= ks->heap[c]->due)
            break;
        heap_put(ks, i, ks->heap[c]);
        i = c;
    }
    heap_put(ks, i, m);
}

/* Re-reads m's phase-1 deadline and moves m to its place (m in the heap). */
static void heap_fix(vpn_gdoi_ks *ks, ks_member *m)
{
    uint64_t old = m->due;

    m->due = vpn_ikev1_sa_next_deadline(m->p1);
    if (m->due < old)
        heap_up(ks, m->hpos);
    else if (m->due > old)
        heap_down(ks, m->hpos);
}

/* Adds m (with p1; room reserved by member_slot). */
static void heap_add(vpn_gdoi_ks *ks, ks_member *m)
{
    m->due = vpn_ikev1_sa_next_deadline(m->p1);
    heap_put(ks, ks->heap_n++, m);
    heap_up(ks, m->hpos);
}

static void heap_del(vpn_gdoi_ks *ks, ks_member *m)
{
    size_t i = m->hpos;
    ks_member *last;

    if (i == SIZE_MAX)
        return;
    m->hpos = SIZE_MAX;
    last = ks->heap[--ks->heap_n];
    if (last == m)
        return;
    heap_put(ks, i, last);
    heap_up(ks, i);
    heap_down(ks, last->hpos);
}

/* Makes room for one more member: the array, the heap and the tables. */
static int member_slot(vpn_gdoi_ks *ks)
{
    if (ks->heap_n + 1 > ks->heap_cap) {
        size_t nc = ks->heap_cap ? ks->heap_cap * 2 : 16;
        ks_member **nh = vpn_realloc(&ks->cfg.alloc, ks->heap, nc * sizeof *nh);
        if (!nh)
            return VPN_ERR_NOMEM;
        ks->heap = nh;
        ks->heap_cap = nc;
    }
    if (ks->n % 16 == 0) {
        ks_member **nmv = vpn_realloc(&ks->cfg.alloc, ks->m, (ks->n + 16) * sizeof *nmv);
        if (!nmv)
            return VPN_ERR_NOMEM;
        ks->m = nmv;
    }
    if (ks->n + 1 > ks->tab_size) {
        size_t ns = ks->tab_size ? ks->tab_size * 2 : 16;
        ks_member **ck = vpn_calloc(&ks->cfg.alloc, ns, sizeof *ck), **ad = vpn_calloc(&ks->cfg.alloc, ns, sizeof *ad);
        if (!ck || !ad) {
            free(ck);
            free(ad);
            return VPN_ERR_NOMEM;
        }
        free(ks->ck_tab);
        free(ks->ad_tab);
        ks->ck_tab = ck;
        ks->ad_tab = ad;
        ks->tab_size = ns;
        for (size_t i = 0; i < ks->n; i++)
            idx_link(ks, ks->m[i]);
    }
    return 0;
}

/* Appends m (after member_slot) and indexes it by cookie if it has a phase 1. */
static void member_append(vpn_gdoi_ks *ks, ks_member *m)
{
    m->idx = ks->n;
    ks->m[ks->n++] = m;
    m->in_ck = m->p1 != NULL;
    idx_link(ks, m);
    m->hpos = SIZE_MAX;
    if (m->p1)
        heap_add(ks, m);
}

static void chain_unlink(ks_member **head, ks_member *m, bool ck)
{
    for (ks_member **pp = head; *pp; pp = ck ? &(*pp)->ck_next : &(*pp)->ad_next)
        if (*pp == m) {
            *pp = ck ? m->ck_next : m->ad_next;
            return;
        }
}

/* Marks m registered and indexes it by address. */
static void member_mark_registered(vpn_gdoi_ks *ks, ks_member *m)
{
    m->registered = true;
    if (m->in_ad)
        return;
    m->in_ad = true;
    m->ad_next = NULL;
    {
        size_t b = ad_bucket(ks, &m->addr);
        m->ad_next = ks->ad_tab[b];
        ks->ad_tab[b] = m;
    }
    ks->n_reg++;
}

void gdoi_ks_member_remove(vpn_gdoi_ks *ks, size_t i)
{
    ks_member *m = ks->m[i];

    if (m->in_ck)
        chain_unlink(&ks->ck_tab[ck_bucket(ks, m)], m, true);
    if (m->in_ad) {
        chain_unlink(&ks->ad_tab[ad_bucket(ks, &m->addr)], m, false);
        ks->n_reg--;
    }
    heap_del(ks, m);
    member_free(m);
    ks->m[i] = ks->m[--ks->n];
    if (i < ks->n)
        ks->m[i]->idx = i;
}
#define member_remove gdoi_ks_member_remove

static ks_member *member_find(vpn_gdoi_ks *ks, const uint8_t *icookie)
{
    if (!ks->tab_size)
        return NULL;
    for (ks_member *m = ks->ck_tab[idx_hash(ks, icookie, 8)]; m; m = m->ck_next)
        if (memcmp(vpn_ikev1_sa_icookie(m->p1), icookie, 8) == 0)
            return m;
    return NULL;
}

ks_member *gdoi_ks_member_by_addr(vpn_gdoi_ks *ks, const vpn_addr *a)
{
    if (!ks->tab_size)
        return NULL;
    for (ks_member *m = ks->ad_tab[ad_bucket(ks, a)]; m; m = m->ad_next)
        if (vpn_addr_eq(&m->addr, a))
            return m;
    return NULL;
}

typedef enum refusal { REF_LIMIT, REF_UNAUTHORIZED, REF_GROUP, REF_MALFORMED } refusal;

/* Counts and logs a refused registration (or a synced member left out). */
static void refuse(vpn_gdoi_ks *ks, refusal why, const vpn_addr *who, uint32_t gid)
{
    char a[VPN_ADDR_STRLEN];

    ks->st.refused++;
    vpn_addr_str(who, a, sizeof a);
    switch (why) {
    case REF_LIMIT:
        ks->st.refused_limit++;
        vpn_log_emit(&ks->log, VPN_LOG_WARN, ENGINE,
                     "member %s refused: group %s has its limit of %u members", a, ks->name,
                     ks->cfg.max_members);
        break;
    case REF_UNAUTHORIZED:
        ks->st.refused_unauthorized++;
        vpn_log_emit(&ks->log, VPN_LOG_WARN, ENGINE, "member %s not authorized", a);
        break;
    case REF_GROUP:
        ks->st.refused_group++;
        vpn_log_emit(&ks->log, VPN_LOG_WARN, ENGINE, "registration from %s for unknown group %u",
                     a, gid);
        break;
    case REF_MALFORMED:
        ks->st.refused_malformed++;
        vpn_log_emit(&ks->log, VPN_LOG_WARN, ENGINE, "registration from %s malformed", a);
        break;
    }
}

/* Is there room for member a (already registered ones always have)? */
static bool has_room(vpn_gdoi_ks *ks, const vpn_addr *a)
{
    return ks->n_reg < ks->cfg.max_members || gdoi_ks_member_by_addr(ks, a) != NULL;
}

/* A member a cooperating KS registered: no phase-1 SA here, but it gets
 * our rekeys (and is counted for ACKs) like any other. */
int gdoi_ks_member_add_synced(vpn_gdoi_ks *ks, const vpn_addr *a)
{
    ks_member *nm;
    int rc;

    if (gdoi_ks_member_by_addr(ks, a))
        return 0;
    if (!has_room(ks, a)) {
        refuse(ks, REF_LIMIT, a, ks->cfg.group_id);
        return VPN_ERR_LIMIT;
    }
    if ((rc = member_slot(ks)))
        return rc;
    nm = vpn_calloc(&ks->cfg.alloc, 1, sizeof *nm);
    if (!nm)
        return VPN_ERR_NOMEM;
    nm->addr = *a;
    nm->acked_seq = ks->seq;
    member_append(ks, nm);
    member_mark_registered(ks, nm);
    return 0;
}

static uint32_t remaining_s(uint64_t expires, uint64_t now)
{
    return expires > now ? (uint32_t)((expires - now + NS - 1) / NS) : 1;
}

/* SA (DOI 2): SA KEK for kek, SA TEK for the current TEK (RFC 6407 5.2-5.4). */
static int build_sa(vpn_gdoi_ks *ks, vpn_isakmp_bld *b, const ks_kek *kek, uint64_t now)
{
    uint8_t kattrs[64], tattrs[128], dattrs[136], ksrc[4], kdst[4];
    size_t tl;
    uint8_t tsrc[VPN_GDOI_TEK_SELS_MAX][8], tdst[VPN_GDOI_TEK_SELS_MAX][8];
    vpn_gdoi_kek_attrs ka;
    vpn_ipsec_doi_attrs ta;
    vpn_gdoi_sak k;
    vpn_gdoi_sat t[VPN_GDOI_TEK_SELS_MAX];
    vpn_addr mask;
    vpn_wr w;
    size_t nt = 1u + ks->cfg.tek.n_more;

    memset(&ka, 0, sizeof ka);
    ka.present = 1u << VPN_GDOI_KEK_ALG | 1u << VPN_GDOI_KEK_KEY_LEN |
                 1u << VPN_GDOI_KEK_LIFETIME | 1u << VPN_GDOI_KEK_SIG_HASH |
                 1u << VPN_GDOI_KEK_SIG_ALG | 1u << VPN_GDOI_KEK_SIG_KEY_LEN;
    ka.alg = VPN_GDOI_KEK_ALG_AES;
    ka.key_len = GDOI_KEK_KEY_LEN * 8;
    ka.lifetime = remaining_s(kek->expires, now);
    ka.sig_hash = VPN_GDOI_SIG_HASH_SHA256;
    ka.sig_alg = VPN_GDOI_SIG_RSA;
    ka.sig_key_len = (uint16_t)vpn_sig_key_bits(ks->cfg.rekey_key);
    if (!ks->cfg.multicast) {
        /* RFC 8263: unicast rekeys ask for acknowledgements */
        ka.present |= 1u << VPN_GDOI_KEK_ACK_REQUESTED;
        ka.ack_requested = 1;
    }
    vpn_wr_init(&w, kattrs, sizeof kattrs);
    vpn_gdoi_kek_attrs_encode(&ka, &w);
    memset(&k, 0, sizeof k);
    k.protocol = 17; /* rekeys travel in UDP */
    memcpy(ksrc, ks->cfg.local.b, 4);
    if (ks->cfg.multicast)
        memcpy(kdst, ks->cfg.mcast.b, 4);
    else
        memset(kdst, 0, 4);
    k.src.type = k.dst.type = VPN_ISAKMP_ID_IPV4_ADDR;
    k.src.port = k.dst.port = VPN_GDOI_PORT;
    k.src.data.p = ksrc;
    k.dst.data.p = kdst;
    k.src.data.len = k.dst.data.len = 4;
    memcpy(k.spi, kek->spi, sizeof k.spi);
    k.layout = ks->cfg.layout;
    k.attrs.p = kattrs;
    k.attrs.len = vpn_wr_len(&w);

    memset(&ta, 0, sizeof ta);
    ta.present = 1u << VPN_IPSEC_DOI_ATTR_ENCAP_MODE | 1u << VPN_IPSEC_DOI_ATTR_KEY_LENGTH |
                 1u << VPN_IPSEC_DOI_ATTR_ADDR_PRESERVATION |
                 1u << VPN_IPSEC_DOI_ATTR_SA_DIRECTION;
    ta.life_types = 1u << VPN_IPSEC_DOI_LIFE_SECONDS;
    ta.life_secs = remaining_s(ks->tek.expires, now);
    ta.encap = VPN_IPSEC_DOI_ENCAP_TUNNEL;
    ta.key_len = ks->cfg.tek.key_bits;
    ta.addr_pres = VPN_GDOI_ADDR_PRES_BOTH;
    ta.sa_dir = ks->cfg.receive_only ? VPN_GDOI_SA_DIR_RECEIVER : VPN_GDOI_SA_DIR_SYMMETRIC;
    if (ks->cfg.tek.integ_id) {
        ta.present |= 1u << VPN_IPSEC_DOI_ATTR_AUTH_ALG;
        ta.auth_alg = gdoi_auth_alg_of(ks->cfg.tek.integ_id);
    }
    vpn_wr_init(&w, tattrs, sizeof tattrs);
    vpn_ipsec_doi_attrs_encode(&ta, &w);
    if (ks->cfg.tek.tbar_window_s) {
        vpn_isakmp_attr_put_tv(&w, VPN_GDOI_TEK_ATTR_TBAR_WINDOW,
                               (uint16_t)ks->cfg.tek.tbar_window_s);
        vpn_isakmp_attr_put_uint(&w, VPN_GDOI_TEK_ATTR_PSEUDOTIME,
                                 (now - ks->pt_origin) / 1000000u);
    }
    /* RFC 6407 5.4: one SA TEK per permit line, each with its own
     * source and destination IDs; they share the SPI, transform and keys
     * (one IOS TEK, see VPN_GDOI_TEK_SELS_MAX in gdoi.h) */
    tl = vpn_wr_len(&w);
    /* a deny line: the same attributes and our bypass mark (gdoi.h) */
    memcpy(dattrs, tattrs, tl);
    vpn_wr_init(&w, dattrs + tl, sizeof dattrs - tl);
    vpn_isakmp_attr_put_tv(&w, VPN_GDOI_TEK_ATTR_BYPASS, 1);
    for (size_t n = 0; n < nt; n++) {
        const vpn_spd_sel *s = n ? &ks->cfg.tek.more[n - 1] : &ks->cfg.tek.sel;
        vpn_gdoi_sat *tn = &t[n];
        uint8_t *ts = tsrc[n], *td = tdst[n];
        memset(tn, 0, sizeof *tn);
        tn->protocol_id = VPN_GDOI_TEK_PROTO_ESP;
        tn->ip_protocol = s->proto;
        tn->src.type = tn->dst.type = VPN_ISAKMP_ID_IPV4_ADDR_SUBNET;
        memcpy(ts, s->src.addr.b, 4);
        vpn_len_to_mask(s->src.len, &mask);
        memcpy(ts + 4, mask.b, 4);
        memcpy(td, s->dst.addr.b, 4);
        vpn_len_to_mask(s->dst.len, &mask);
        memcpy(td + 4, mask.b, 4);
        tn->src.data.p = ts;
        tn->dst.data.p = td;
        tn->src.data.len = tn->dst.data.len = 8;
        if (ks->cfg.layout == VPN_GDOI_LAYOUT_GDOID) {
            /* gdoid members read TEK IPv4 IDs in its host (little-endian)
             * order (README, GET VPN notes) */
            for (int i = 0; i < 16; i += 4) {
                uint8_t *a = i < 8 ? ts + i : td + i - 8, b0 = a[0], b1 = a[1];
                a[0] = a[3];
                a[1] = a[2];
                a[2] = b1;
                a[3] = b0;
            }
            tn->layout = VPN_GDOI_LAYOUT_GDOID;
        }
        tn->src.port = s->sport_lo;
        tn->dst.port = s->dport_lo;
        tn->transform_id = (uint8_t)ks->cfg.tek.encr_id; /* ESP IDs 12 and 20 equal IKEv2's */
        tn->spi = ks->tek.spi;
        if (ks->cfg.tek.deny_mask & (1u << n)) {
            tn->attrs.p = dattrs;
            tn->attrs.len = tl + vpn_wr_len(&w);
        } else {
            tn->attrs.p = tattrs;
            tn->attrs.len = tl;
        }
    }
    if (ks->cfg.gap_activation_s || ks->cfg.gap_deactivation_s) {
        uint8_t gattrs[16];
        vpn_gdoi_gap_attrs ga;
        vpn_isakmp_view gv;
        memset(&ga, 0, sizeof ga);
        ga.present = 1u << VPN_GDOI_GAP_ACTIVATION_DELAY | 1u << VPN_GDOI_GAP_DEACTIVATION_DELAY;
        ga.activation_delay = ks->cfg.gap_activation_s;
        ga.deactivation_delay = ks->cfg.gap_deactivation_s;
        vpn_wr_init(&w, gattrs, sizeof gattrs);
        vpn_gdoi_gap_attrs_encode(&ga, &w);
        gv.p = gattrs;
        gv.len = vpn_wr_len(&w);
        return vpn_gdoi_bld_sa(b, &k, &gv, t, nt);
    }
    return vpn_gdoi_bld_sa(b, &k, NULL, t, nt);
}

/* KD (RFC 6407 5.6): the TEK, and the KEK (with the KS public key if pub). */
static int build_kd(vpn_gdoi_ks *ks, vpn_isakmp_bld *b, const ks_kek *kek, bool pub)
{
    uint8_t tattrs[160], kattrs[2200], spi[4], ivkey[GDOI_KEK_IV_LEN + GDOI_KEK_KEY_LEN];
    vpn_gdoi_tek_keys tk;
    vpn_gdoi_kek_keys kk;
    vpn_wr w;
    size_t tl;
    int rc;

    memset(&tk, 0, sizeof tk);
    tk.present = 1u << VPN_GDOI_TEK_ALGORITHM_KEY;
    tk.alg_key.p = ks->tek.alg_key;
    tk.alg_key.len = ks->tek.alg_len;
    if (ks->tek.integ_len) {
        tk.present |= 1u << VPN_GDOI_TEK_INTEGRITY_KEY;
        tk.integ_key.p = ks->tek.integ_key;
        tk.integ_key.len = ks->tek.integ_len;
    }
    vpn_wr_init(&w, tattrs, sizeof tattrs);
    vpn_gdoi_tek_keys_encode(&tk, &w);
    tl = vpn_wr_len(&w);
    vpn_store32(spi, ks->tek.spi);
    vpn_gdoi_bld_kd_begin(b);
    vpn_gdoi_bld_kp(b, VPN_GDOI_KD_TEK, spi, 4, tattrs, tl);
    if (kek) {
        memset(&kk, 0, sizeof kk);
        memcpy(ivkey, kek->iv, GDOI_KEK_IV_LEN);
        memcpy(ivkey + GDOI_KEK_IV_LEN, kek->key, GDOI_KEK_KEY_LEN);
        kk.present = 1u << VPN_GDOI_KEK_ALGORITHM_KEY;
        kk.alg_key.p = ivkey;
        kk.alg_key.len = sizeof ivkey;
        if (pub) {
            kk.present |= 1u << VPN_GDOI_SIG_ALGORITHM_KEY;
            kk.sig_key.p = ks->pub_der;
            kk.sig_key.len = ks->pub_len;
        }
        vpn_wr_init(&w, kattrs, sizeof kattrs);
        vpn_gdoi_kek_keys_encode(&kk, &w);
        vpn_gdoi_bld_kp(b, VPN_GDOI_KD_KEK, kek->spi, VPN_GDOI_KEK_SPI_LEN, kattrs,
                        vpn_wr_len(&w));
        OPENSSL_cleanse(ivkey, sizeof ivkey);
        OPENSSL_cleanse(kattrs, sizeof kattrs);
    }
    rc = vpn_gdoi_bld_kd_end(b);
    OPENSSL_cleanse(tattrs, sizeof tattrs);
    return rc;
}

static void hdr_of(const ks_member *m, vpn_isakmp_hdr *h)
{
    memset(h, 0, sizeof *h);
    memcpy(h->icookie, vpn_ikev1_sa_icookie(m->p1), 8);
    memcpy(h->rcookie, vpn_ikev1_sa_rcookie(m->p1), 8);
    h->version = VPN_ISAKMP_VERSION;
    h->exchange = VPN_GDOI_EXCH_PULL;
    h->msg_id = m->msg_id;
}

/*
 * Sends our answer dg (view: its decrypted form) to the member's PULL
 * message in, keeping both to answer a retransmission of in. Without
 * memory to keep them the answer still goes; a retransmission is then
 * taken as a new message (and fails its HASH or state check).
 */
static void member_send(vpn_gdoi_ks *ks, ks_member *m, const uint8_t *in, size_t in_len,
                        const uint8_t *dg, size_t len, const uint8_t *view, size_t view_len)
{
    member_forget(m);
    m->last = vpn_malloc(&ks->cfg.alloc, in_len + len + view_len);
    if (m->last == NULL)
        /* sent all the same; a retransmitted request is then taken anew */
        gdoi_ks_internal_error(ks, VPN_ERR_NOMEM, "keeping a reply for retransmission");
    if (m->last) {
        memcpy(m->last, in, in_len);
        memcpy(m->last + in_len, dg, len);
        if (view_len)
            memcpy(m->last + in_len + len, view, view_len);
        m->last_in_len = in_len;
        m->last_out_len = len;
        m->last_view_len = view_len;
    }
    ks->send(ks->user, &ks->cfg.local, &m->addr, dg, len, view_len ? view : NULL, view_len);
}

static bool authorized(const vpn_gdoi_ks *ks, const vpn_addr *id)
{
    bool ok = !ks->cfg.n_authorized;

    for (size_t i = 0; i < ks->cfg.n_authorized && !ok; i++)
        ok = vpn_addr_eq(&ks->cfg.authorized[i], id);
    if (!ok || !ks->cfg.n_auth_rules)
        return ok;
    /* IOS authorization ACL: the first matching line decides; none: deny */
    for (size_t i = 0; i < ks->cfg.n_auth_rules; i++)
        if (vpn_prefix_contains(&ks->cfg.auth_rules[i].prefix, id))
            return ks->cfg.auth_rules[i].permit;
    return false;
}

/* GROUPKEY-PULL messages 1 and 3 from a member (RFC 6407 3.2). */
/* hdr: dg's header, parsed by the caller (vpn_isakmp_hdr_parse). */
static int pull_input(vpn_gdoi_ks *ks, ks_member *m, const vpn_isakmp_hdr *hdr, const uint8_t *dg,
                      size_t len, uint64_t now)
{
    static const vpn_isakmp_view none = {NULL, 0};
    uint8_t plain[GDOI_MSG_MAX], buf[GDOI_MSG_MAX], view[GDOI_MSG_MAX], iv[VPN_IKEV1_BLOCK],
        *slot;
    vpn_isakmp_view ni_b, nr_b;
    vpn_isakmp_msg msg;
    vpn_isakmp_hdr h;
    vpn_isakmp_bld b;
    size_t olen, vlen;
    uint32_t mid = hdr->msg_id;
    int rc;

    if (vpn_ikev1_sa_state(m->p1) != VPN_IKEV1_ST_ESTABLISHED || mid == 0)
        return VPN_ERR_STATE;
    /* a COOP KS still electing, or a secondary not yet synced, has no
     * group keys to give: the member tries its next key server */
    if (!gdoi_coop_may_register(ks) && m->pull != 2)
        return VPN_ERR_STATE;
    if (m->last && m->last_in_len == len && memcmp(m->last, dg, len) == 0 && m->last_out_len) {
        /* a retransmission: repeat our answer */
        const uint8_t *out = m->last + m->last_in_len;
        ks->send(ks->user, &ks->cfg.local, &m->addr, out, m->last_out_len,
                 m->last_view_len ? out + m->last_out_len : NULL, m->last_view_len);
        ks->st.retransmits++;
        return 0;
    }
    if (mid != m->msg_id || m->pull == 0) {
        /* message 1 of a new exchange */
        const vpn_isakmp_payload *np, *idp;
        uint32_t gid;

        if ((rc = vpn_ikev1_sa_p2_iv(m->p1, mid, iv)))
            return rc;
        if ((rc = gdoi_pull_open(m->p1, dg, len, 1, none, none, iv, &msg, plain))) {
            if (rc == VPN_ERR_MALFORMED || rc == VPN_ERR_TRUNCATED)
                refuse(ks, REF_MALFORMED, &m->addr, 0);
            return rc;
        }
        np = vpn_isakmp_msg_find(&msg, VPN_ISAKMP_PL_NONCE, 0);
        idp = vpn_isakmp_msg_find(&msg, VPN_ISAKMP_PL_ID, 0);
        if (!np || !idp || np->body_len < VPN_ISAKMP_NONCE_MIN ||
            np->body_len > VPN_ISAKMP_NONCE_MAX || vpn_gdoi_group_id_decode(idp->body,
                                                                        idp->body_len, &gid)) {
            refuse(ks, REF_MALFORMED, &m->addr, 0);
            return VPN_ERR_MALFORMED;
        }
        if (gid != ks->cfg.group_id) {
            refuse(ks, REF_GROUP, &m->addr, gid);
            return VPN_ERR_POLICY;
        }
        if (!authorized(ks, vpn_ikev1_sa_peer_id(m->p1))) {
            refuse(ks, REF_UNAUTHORIZED, vpn_ikev1_sa_peer_id(m->p1), gid);
            return VPN_ERR_POLICY;
        }
        if (!has_room(ks, &m->addr)) {
            refuse(ks, REF_LIMIT, &m->addr, gid);
            return VPN_ERR_LIMIT;
        }
        m->msg_id = mid;
        memcpy(m->ni, np->body, np->body_len);
        m->ni_len = np->body_len;
        if ((rc = vpn_rng_bytes(ks->rng, m->nr, sizeof m->nr)))
            return rc;
        memcpy(m->iv, iv, sizeof iv);
        /* message 2: HDR*, HASH(2), Nr, SA */
        hdr_of(m, &h);
        vpn_isakmp_bld_init(&b, buf, sizeof buf, &h);
        vpn_isakmp_bld_placeholder(&b, VPN_ISAKMP_PL_HASH, vpn_ikev1_sa_prf_len(m->p1), &slot);
        vpn_isakmp_bld_raw(&b, VPN_ISAKMP_PL_NONCE, m->nr, sizeof m->nr);
        build_sa(ks, &b, &ks->kek, now);
        ni_b.p = m->ni;
        ni_b.len = m->ni_len;
        if ((rc = gdoi_pull_seal(m->p1, &b, 2, ni_b, none, slot, m->iv, &olen, view, &vlen)))
            return rc;
        m->pull = 2;
        member_send(ks, m, dg, len, buf, olen, view, vlen);
    } else if (m->pull == 2) {
        /* message 3: HDR*, HASH(3) [, GAP] */
        if (!has_room(ks, &m->addr)) {
            /* others registered since message 1 and filled the group */
            refuse(ks, REF_LIMIT, &m->addr, ks->cfg.group_id);
            return VPN_ERR_LIMIT;
        }
        memcpy(iv, m->iv, sizeof iv);
        ni_b.p = m->ni;
        ni_b.len = m->ni_len;
        nr_b.p = m->nr;
        nr_b.len = sizeof m->nr;
        if ((rc = gdoi_pull_open(m->p1, dg, len, 3, ni_b, nr_b, iv, &msg, plain)))
            return rc;
        memcpy(m->iv, iv, sizeof iv);
        /* message 4: HDR*, HASH(4), SEQ, KD */
        hdr_of(m, &h);
        vpn_isakmp_bld_init(&b, buf, sizeof buf, &h);
        vpn_isakmp_bld_placeholder(&b, VPN_ISAKMP_PL_HASH, vpn_ikev1_sa_prf_len(m->p1), &slot);
        vpn_gdoi_bld_seq(&b, ks->seq);
        build_kd(ks, &b, &ks->kek, true);
        rc = gdoi_pull_seal(m->p1, &b, 4, ni_b, nr_b, slot, m->iv, &olen, view, &vlen);
        OPENSSL_cleanse(plain, sizeof plain);
        if (rc)
            return rc;
        m->pull = 4;
        /* a member registering again replaces its old entry */
        {
            ks_member *old = gdoi_ks_member_by_addr(ks, &m->addr);
            if (old && old != m)
                member_remove(ks, old->idx);
        }
        member_mark_registered(ks, m);
        m->registered_at = now;
        m->acked_seq = ks->seq;
        m->missed = 0;
        ks->st.registrations++;
        gdoi_coop_member_added(ks, m, now);
        {
            char a[VPN_ADDR_STRLEN];
            vpn_log_emit(&ks->log, VPN_LOG_INFO, ENGINE, "%s registered in group %s",
                         vpn_addr_str(&m->addr, a, sizeof a), ks->name);
        }
        member_send(ks, m, dg, len, buf, olen, view, vlen);
    } else {
        return VPN_ERR_STATE;
    }
    OPENSSL_cleanse(buf, sizeof buf);
    OPENSSL_cleanse(view, sizeof view);
    return 0;
}

static int ks_input(vpn_gdoi_ks *ks, const vpn_addr *src, const uint8_t *dg, size_t len,
                    uint64_t now);

void gdoi_ks_internal_error(vpn_gdoi_ks *ks, int rc, const char *where)
{
    char detail[128];

    ks->st.internal_errors++;
    snprintf(detail, sizeof detail, "internal error in %s: %s", where, vpn_strerror(rc));
    vpn_log_emit(&ks->log, VPN_LOG_ERROR, ENGINE, "%s", detail);
    if (ks->cfg.error_event)
        ks->cfg.error_event(ks->user, rc, detail);
}

/* The engine contract for input: every refusal counted in `dropped` and logged, here, once. */
int vpn_gdoi_ks_input(vpn_gdoi_ks *ks, const vpn_addr *src, const uint8_t *dg, size_t len,
                      uint64_t now)
{
    char a[VPN_ADDR_STRLEN];
    int rc;

    if (ks == NULL || src == NULL || (dg == NULL && len))
        return VPN_ERR_INVAL;
    if ((rc = ks_input(ks, src, dg, len, now)) != 0) {
        ks->st.dropped++;
        /* ours, not the datagram's: the member retransmits */
        if (rc == VPN_ERR_NOMEM || rc == VPN_ERR_CRYPTO)
            gdoi_ks_internal_error(ks, rc, "answering a member");
        /* refused registrations (POLICY, LIMIT) were logged with the reason by refuse() */
        if (rc != VPN_ERR_POLICY && rc != VPN_ERR_LIMIT)
            vpn_log_emit(&ks->log, VPN_LOG_DEBUG, ENGINE,
                         "datagram of %zu bytes from %s dropped: %s", len,
                         vpn_addr_str(src, a, sizeof a), vpn_strerror(rc));
    }
    return rc;
}

static int ks_input(vpn_gdoi_ks *ks, const vpn_addr *src, const uint8_t *dg, size_t len,
                    uint64_t now)
{
    vpn_isakmp_hdr h;
    ks_member *m;
    int rc;

    /* cooperating key servers (gdoi-coop.c) count their own garbage */
    if (ks->coop && gdoi_coop_is_peer(ks, src))
        return gdoi_coop_input(ks, src, dg, len, now);
    if ((rc = vpn_isakmp_hdr_parse(dg, len, &h))) {
        ks->st.bad_msgs++;
        return rc;
    }
    if (h.exchange == VPN_GDOI_EXCH_COOP) {
        ks->st.bad_msgs++;
        return gdoi_coop_unknown(ks, src);
    }
    if (h.exchange == VPN_GDOI_EXCH_PUSH_ACK) {
        rc = ack_input(ks, src, dg, len);
        if (rc)
            ks->st.bad_msgs++;
        return rc;
    }
    m = member_find(ks, h.icookie);
    if (m) {
        static const uint8_t z[8];
        /* message 1 repeated still has a zero responder cookie */
        if (memcmp(h.rcookie, vpn_ikev1_sa_rcookie(m->p1), 8) &&
            !(h.exchange == VPN_ISAKMP_EXCH_MAIN && memcmp(h.rcookie, z, 8) == 0)) {
            ks->st.bad_msgs++;
            return VPN_ERR_NOTFOUND;
        }
    }
    if (!m) {
        static const uint8_t zero[8];
        vpn_ikev1_ctx ctx;
        ks_member *nm;

        if (h.exchange != VPN_ISAKMP_EXCH_MAIN || memcmp(h.rcookie, zero, 8)) {
            ks->st.bad_msgs++;
            return VPN_ERR_NOTFOUND;
        }
        /* the member limit counts registered members; phase-1 exchanges
         * in progress are bounded too */
        if (!has_room(ks, src) || ks->n >= (size_t)ks->cfg.max_members + KS_PENDING_MAX) {
            refuse(ks, REF_LIMIT, src, ks->cfg.group_id);
            return VPN_ERR_LIMIT;
        }
        if ((rc = member_slot(ks)))
            return rc;
        nm = vpn_calloc(&ks->cfg.alloc, 1, sizeof *nm);
        if (!nm)
            return VPN_ERR_NOMEM;
        memset(&ctx, 0, sizeof ctx);
        ctx.rng = ks->rng;
        ctx.log = ks->log;
        ctx.send = p1_send;
        ctx.user = ks;
        if ((rc = vpn_ikev1_sa_new(&nm->p1, &ctx, &ks->cfg.ike, false))) {
            free(nm);
            return rc;
        }
        vpn_ikev1_sa_set_user(nm->p1, nm);
        nm->addr = *src;
        rc = vpn_ikev1_sa_input(nm->p1, dg, len, now);
        if (rc) {
            member_free(nm);
            ks->st.bad_msgs++;
            return rc;
        }
        member_append(ks, nm);
        return 0;
    }
    if (h.exchange == VPN_GDOI_EXCH_PULL)
        rc = pull_input(ks, m, &h, dg, len, now);
    else
        rc = vpn_ikev1_sa_input(m->p1, dg, len, now);
    if (rc)
        ks->st.bad_msgs++;
    /* its phase 1 may have new timers, or have ended (a Delete) */
    if (vpn_ikev1_sa_state(m->p1) == VPN_IKEV1_ST_DEAD && !m->registered)
        member_remove(ks, m->idx);
    else
        heap_fix(ks, m);
    return rc;
}

static void rekey_send(vpn_gdoi_ks *ks, const vpn_addr *dst)
{
    ks->send(ks->user, &ks->cfg.local, dst, ks->rk_dg, ks->rk_len,
             ks->rk_view_len ? ks->rk_view : NULL, ks->rk_view_len);
    ks->st.rekey_msgs_sent++;
    if (ks->rk2_len) {
        /* after a COOP merge: the copy for the losing KS's members */
        ks->send(ks->user, &ks->cfg.local, dst, ks->rk2_dg, ks->rk2_len,
                 ks->rk2_view_len ? ks->rk2_view : NULL, ks->rk2_view_len);
        ks->st.rekey_msgs_sent++;
    }
}

/* Sends the rekey in rk_dg (and rk2_dg) to the group or to every registered member. */
static size_t rekey_emit(vpn_gdoi_ks *ks, bool retrans)
{
    size_t sent = 0;

    if (ks->cfg.multicast) {
        rekey_send(ks, &ks->cfg.mcast);
        return 1;
    }
    for (size_t i = 0; i < ks->n; i++)
        if (ks->m[i]->registered && !(retrans && ks->m[i]->acked_seq == ks->seq)) {
            rekey_send(ks, &ks->m[i]->addr);
            sent++;
        }
    return sent;
}

/*
 * One GROUPKEY-PUSH (RFC 6407 4): HDR*, SEQ, SA, KD, SIG, signed, then
 * encrypted under enc (whose SPI the cookies carry). The SA KEK names
 * kek; the KD carries kek's keys when kd_kek (a new KEK, or a COOP merge
 * copy that moves members to our KEK).
 */
static int build_push(vpn_gdoi_ks *ks, const ks_kek *enc, const ks_kek *kek, bool kd_kek,
                      uint64_t now, uint8_t *buf, size_t *out_len, uint8_t *view,
                      size_t *view_len)
{
    uint8_t plain[GDOI_MSG_MAX], in[GDOI_MSG_MAX], *slot;
    vpn_isakmp_hdr h;
    vpn_isakmp_bld b;
    vpn_sig_alg alg;
    vpn_wr w;
    size_t len, sl, plen;
    int rc;

    memset(&h, 0, sizeof h);
    memcpy(h.icookie, enc->spi, 8); /* RFC 6407 4: the cookies are the KEK SPI */
    memcpy(h.rcookie, enc->spi + 8, 8);
    h.version = VPN_ISAKMP_VERSION;
    h.exchange = VPN_GDOI_EXCH_PUSH;
    h.msg_id = 0;
    vpn_isakmp_bld_init(&b, buf, GDOI_MSG_MAX, &h);
    vpn_gdoi_bld_seq(&b, ks->seq);
    build_sa(ks, &b, kek, now);
    build_kd(ks, &b, kd_kek ? kek : NULL, false);
    vpn_isakmp_bld_placeholder(&b, VPN_ISAKMP_PL_SIG, ks->sig_len, &slot);
    if ((rc = vpn_isakmp_bld_pad(&b, 16, &len)))
        goto out;
    vpn_wr_init(&w, in, sizeof in);
    if ((rc = vpn_gdoi_push_sig_input_bld(&b, &w)))
        goto out;
    vpn_sig_alg_init(&alg, VPN_SIG_RSA_PKCS1, VPN_IKE_HASH_SHA2_256);
    sl = ks->sig_len;
    /* gdoid's members verify the form its key server signs in */
    if (ks->cfg.layout == VPN_GDOI_LAYOUT_GDOID)
        rc = gdoi_push_sign_gdoid(ks->cfg.rekey_key, VPN_IKE_HASH_SHA2_256, &b, slot, sl);
    else
        rc = vpn_sig_sign(ks->cfg.rekey_key, &alg, ks->rng, in, vpn_wr_len(&w), slot, &sl);
    if (rc)
        goto out;
    if (sl != ks->sig_len) {
        rc = VPN_ERR_CRYPTO;
        goto out;
    }
    plen = len - VPN_ISAKMP_HDR_LEN;
    memcpy(plain, buf + VPN_ISAKMP_HDR_LEN, plen);
    if ((rc = gdoi_kek_crypt(&ks->cfg.alloc, enc->key, enc->iv, buf + VPN_ISAKMP_HDR_LEN, plen,
                             true)))
        goto out;
    *out_len = len;
    vpn_wr_init(&w, view, GDOI_MSG_MAX);
    *view_len = vpn_isakmp_decrypted_view(buf, len, plain, plen, &w) ? 0 : vpn_wr_len(&w);
out:
    OPENSSL_cleanse(plain, sizeof plain);
    return rc;
}

/*
 * GROUPKEY-PUSH (RFC 6407 4): HDR*, SEQ, SA, KD, SIG, signed, then
 * encrypted under the current KEK; a new KEK, if any, rides inside.
 * With COOP, only the primary rekeys (VPN_ERR_STATE otherwise).
 */
int vpn_gdoi_ks_rekey(vpn_gdoi_ks *ks, bool roll_kek, uint64_t now)
{
    const ks_kek *merge = gdoi_coop_merge_kek(ks);
    ks_kek nk, *kek = &ks->kek;
    ks_tek old_tek = ks->tek;
    uint64_t old_rekey_at = ks->rekey_at;
    int rc;

    if (!gdoi_coop_may_rekey(ks))
        return VPN_ERR_STATE;
    if ((rc = gdoi_ks_new_tek(ks, now)))
        goto fail; /* the timer only retried this one: count and report it too */
    if (roll_kek) {
        if ((rc = new_kek(&nk, ks->rng, ks->cfg.kek_lifetime_s, now)))
            goto fail;
        kek = &nk;
    }
    ks->seq++;
    rc = build_push(ks, &ks->kek, kek, roll_kek, now, ks->rk_dg, &ks->rk_len, ks->rk_view,
                    &ks->rk_view_len);
    ks->rk2_len = ks->rk2_view_len = 0;
    if (!rc && merge)
        rc = build_push(ks, merge, kek, true, now, ks->rk2_dg, &ks->rk2_len, ks->rk2_view,
                        &ks->rk2_view_len);
    if (rc) {
        ks->seq--;
        ks->rk_len = ks->rk2_len = 0;
        goto fail;
    }
    if (roll_kek)
        ks->kek = nk;
    if (merge)
        gdoi_coop_merge_done(ks);
    ks->st.rekeys++;
    vpn_log_emit(&ks->log, VPN_LOG_INFO, ENGINE, "rekey seq %u TEK SPI 0x%08x%s%s (%s)", ks->seq,
                 ks->tek.spi, roll_kek ? " with a new KEK" : "",
                 ks->rk2_len ? " (and under the merged KS's KEK)" : "",
                 ks->cfg.multicast ? "multicast" : "unicast");
    rekey_emit(ks, false);
    ks->rk_left = ks->cfg.retrans_n;
    ks->rk_at = ks->rk_left ? now + (uint64_t)ks->cfg.retrans_s * NS : UINT64_MAX;
    ks->rk_eval_at = ks->cfg.multicast ? UINT64_MAX
                                       : now + (uint64_t)ks->cfg.retrans_s * NS *
                                                   (ks->cfg.retrans_n + 1u);
    OPENSSL_cleanse(&nk, sizeof nk);
    OPENSSL_cleanse(&old_tek, sizeof old_tek);
    gdoi_coop_after_rekey(ks, now);
    return 0;
fail:
    /* nothing went out: keep the TEK members have */
    ks->tek = old_tek;
    ks->rekey_at = old_rekey_at;
    ks->st.rekey_failures++;
    gdoi_ks_internal_error(ks, rc, "rekey");
    OPENSSL_cleanse(&nk, sizeof nk);
    OPENSSL_cleanse(&old_tek, sizeof old_tek);
    return rc;
}

uint64_t vpn_gdoi_ks_next_deadline(const vpn_gdoi_ks *ks)
{
    uint64_t d = ks->rk_at;
    if (gdoi_coop_may_rekey(ks) && ks->rekey_at < d)
        d = ks->rekey_at;
    if (ks->rk_eval_at < d)
        d = ks->rk_eval_at;
    if (ks->coop && gdoi_coop_deadline(ks) < d)
        d = gdoi_coop_deadline(ks);
    /* the earliest member phase 1: the heap's root */
    if (ks->heap_n && ks->heap[0]->due < d)
        d = ks->heap[0]->due;
    return d;
}

void vpn_gdoi_ks_timeout(vpn_gdoi_ks *ks, uint64_t now)
{
    /* only the members whose phase 1 is due. A phase-1 tick always moves
     * its deadline on (or ends the SA), so this ends; the bound on the
     * count is a second guard. */
    for (size_t left = 4 * ks->heap_n + 4; left && ks->heap_n && ks->heap[0]->due <= now;
         left--) {
        ks_member *m = ks->heap[0];
        vpn_ikev1_sa_timeout(m->p1, now);
        if (vpn_ikev1_sa_state(m->p1) == VPN_IKEV1_ST_DEAD && !m->registered)
            member_remove(ks, m->idx);
        else
            heap_fix(ks, m);
    }
    if (ks->coop)
        gdoi_coop_tick(ks, now);
    if (now >= ks->rekey_at && gdoi_coop_may_rekey(ks)) {
        /* a new KEK when the current one would not outlive the next rekey */
        bool roll = ks->kek.expires <= now + (uint64_t)ks->cfg.tek.lifetime_s * NS;
        if (vpn_gdoi_ks_rekey(ks, roll, now))
            ks->rekey_at = now + NS; /* try again shortly */
    } else if (now >= ks->rk_at) {
        if (rekey_emit(ks, true)) {
            ks->st.retransmits++;
            ks->rk_left--;
        } else {
            ks->rk_left = 0; /* everyone acknowledged */
        }
        ks->rk_at = ks->rk_left ? now + (uint64_t)ks->cfg.retrans_s * NS : UINT64_MAX;
    }
    if (now >= ks->rk_eval_at) {
        /* IOS removes a member after three unicast rekeys in a row went
         * unacknowledged; multicast rekeys never remove anyone */
        ks->rk_eval_at = UINT64_MAX;
        for (size_t i = 0; i < ks->n;) {
            ks_member *m = ks->m[i];
            if (m->registered && m->acked_seq != ks->seq && ++m->missed >= 3) {
                char a[VPN_ADDR_STRLEN];
                vpn_log_emit(&ks->log, VPN_LOG_WARN, ENGINE,
                             "%s removed: three rekeys unacknowledged",
                             vpn_addr_str(&m->addr, a, sizeof a));
                ks->st.removed++;
                member_remove(ks, i);
                continue;
            }
            i++;
        }
    }
}

/*
 * Rekey acknowledgement (RFC 8263), in the form this model uses:
 *   HDR* (exchange VPN_GDOI_EXCH_PUSH_ACK, cookies = the KEK SPI,
 *   message ID 0, encrypted with the KEK), HASH, SEQ, ID
 * with HASH = HMAC-SHA-256 keyed with the KEK key over the payloads
 * after HASH, ID the member's address (ID_IPV4_ADDR). UNVERIFIED against
 * RFC 8263's exact key derivation, which could not be read here.
 */
static int ack_input(vpn_gdoi_ks *ks, const vpn_addr *src, const uint8_t *dg, size_t len)
{
    uint8_t plain[GDOI_MSG_MAX], h[VPN_PRF_MAX_LEN];
    const vpn_isakmp_payload *qp, *ip;
    vpn_isakmp_view after;
    vpn_isakmp_msg m;
    vpn_isakmp_id id;
    vpn_addr who;
    vpn_iov k = {ks->kek.key, sizeof ks->kek.key}, d;
    uint32_t seq;
    int rc;

    if ((rc = vpn_isakmp_msg_parse(dg, len, &m)))
        return rc;
    if (!m.encrypted || memcmp(m.hdr.icookie, ks->kek.spi, 8) ||
        memcmp(m.hdr.rcookie, ks->kek.spi + 8, 8))
        return VPN_ERR_NOTFOUND;
    if (m.body_len == 0 || m.body_len % 16 || m.body_len > sizeof plain)
        return VPN_ERR_MALFORMED;
    memcpy(plain, m.body, m.body_len);
    if ((rc = gdoi_kek_crypt(&ks->cfg.alloc, ks->kek.key, ks->kek.iv, plain, m.body_len,
                             false)) ||
        (rc = vpn_isakmp_msg_parse_plain(&m, plain, m.body_len, NULL)))
        return rc;
    if (m.n < 3 || m.pl[0].type != VPN_ISAKMP_PL_HASH || vpn_isakmp_msg_after(&m, 0, &after))
        return VPN_ERR_MALFORMED;
    d.p = after.p;
    d.len = after.len;
    if ((rc = vpn_prf_compute(VPN_PRF_HMAC_SHA2_256, &k, 1, &d, 1, h, sizeof h)))
        return rc;
    if (m.pl[0].body_len != 32 || vpn_ikev1_memcmp_ct(h, m.pl[0].body, 32))
        return VPN_ERR_AUTH;
    qp = vpn_isakmp_msg_find(&m, VPN_GDOI_PL_SEQ, 0);
    ip = vpn_isakmp_msg_find(&m, VPN_ISAKMP_PL_ID, 0);
    if (!qp || !ip || vpn_gdoi_seq_decode(qp->body, qp->body_len, &seq) ||
        vpn_isakmp_id_decode(ip->body, ip->body_len, &id) ||
        id.type != VPN_ISAKMP_ID_IPV4_ADDR || vpn_addr_from_bytes(&who, id.data.p, 4))
        return VPN_ERR_MALFORMED;
    (void)src;
    {
        ks_member *mb = gdoi_ks_member_by_addr(ks, &who);
        if (!mb)
            return VPN_ERR_NOTFOUND;
        if (seq == ks->seq && mb->acked_seq != seq) {
            mb->acked_seq = seq;
            mb->missed = 0;
            ks->st.acks++;
        }
    }
    return 0;
}

void vpn_gdoi_ks_get_info(const vpn_gdoi_ks *ks, uint64_t now, vpn_gdoi_ks_info *o)
{
    memset(o, 0, sizeof *o);
    o->name = ks->name;
    o->group_id = ks->cfg.group_id;
    o->local = ks->cfg.local;
    o->mcast = ks->cfg.mcast;
    o->members = vpn_gdoi_ks_members(ks);
    o->max_members = ks->cfg.max_members;
    o->retrans_s = ks->cfg.retrans_s;
    o->retrans_n = ks->cfg.retrans_n;
    o->seq = ks->seq;
    o->rekeys = ks->st.rekeys;
    memcpy(o->kek.spi, ks->kek.spi, sizeof o->kek.spi);
    o->kek.multicast = ks->cfg.multicast;
    o->kek.lifetime_s = ks->cfg.kek_lifetime_s;
    o->kek.remaining_s = remaining_s(ks->kek.expires, now);
    o->kek.key_bits = GDOI_KEK_KEY_LEN * 8;
    o->kek.sig_key_bits = (uint16_t)vpn_sig_key_bits(ks->cfg.rekey_key);
    o->tek.spi = ks->tek.spi;
    o->tek.encr_id = ks->cfg.tek.encr_id;
    o->tek.key_bits = ks->cfg.tek.key_bits;
    o->tek.integ_id = ks->cfg.tek.integ_id;
    o->tek.lifetime_s = ks->cfg.tek.lifetime_s;
    o->tek.remaining_s = remaining_s(ks->tek.expires, now);
    o->tek.tbar_window_s = ks->cfg.tek.tbar_window_s;
    o->tek.acl = ks->cfg.tek.sel;
    o->tek.n_acl_more = ks->cfg.tek.n_more;
    o->tek.acl_deny = ks->cfg.tek.deny_mask;
    memcpy(o->tek.acl_more, ks->cfg.tek.more, sizeof o->tek.acl_more);
}

int vpn_gdoi_ks_next_member(const vpn_gdoi_ks *ks, size_t *cursor, vpn_gdoi_member_info *out)
{
    if (!ks || !cursor || !out)
        return VPN_ERR_NOTFOUND;
    for (size_t k = *cursor; k < ks->n; k++) {
        if (!ks->m[k]->registered)
            continue;
        out->addr = ks->m[k]->addr;
        out->acked_seq = ks->m[k]->acked_seq;
        out->missed = ks->m[k]->missed;
        *cursor = k + 1;
        return 0;
    }
    *cursor = ks->n;
    return VPN_ERR_NOTFOUND;
}

int vpn_gdoi_ks_get_member(const vpn_gdoi_ks *ks, size_t i, vpn_gdoi_member_info *out)
{
    for (size_t k = 0; k < ks->n; k++) {
        if (!ks->m[k]->registered)
            continue;
        if (i-- == 0) {
            out->addr = ks->m[k]->addr;
            out->acked_seq = ks->m[k]->acked_seq;
            out->missed = ks->m[k]->missed;
            return 0;
        }
    }
    return VPN_ERR_NOTFOUND;
}
