#include "ipsec/spd.h"

#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"

typedef struct spd_cell spd_cell;

typedef struct spd_rule {
    vpn_spd_entry e;
    uint32_t id;
    uint64_t order;     /* seq << 32 | insertion count: the first-match order */
    uint64_t hits;
    spd_cell *cell;
} spd_rule;

/* All entries with one (family, source length, destination length). */
typedef struct spd_tuple {
    uint8_t family, slen, dlen;
    uint64_t min_order; /* a lower bound of its entries' orders */
    size_t nrules;
} spd_tuple;

/* The entries of one tuple that share masked source and destination. */
struct spd_cell {
    spd_cell *next;
    size_t tuple;
    uint64_t key[4];
    spd_rule **rules;   /* sorted by order */
    size_t n, cap;
};

struct vpn_spd {
    vpn_spd_action def;
    spd_tuple *tuples;
    size_t ntuples, cap_tuples;
    size_t *torder;     /* tuple indices by min_order */
    spd_cell **buckets;
    size_t nbuckets, ncells;
    spd_rule **rules;   /* every entry, by id order */
    size_t nrules, cap_rules;
    uint32_t next_id;
    uint32_t ctr;
    vpn_alloc alloc; /* asked before each allocation vpn_spd_add makes (common/alloc.h) */
};

int vpn_spd_new(vpn_spd **out, vpn_spd_action def)
{
    return vpn_spd_new_a(NULL, out, def);
}

int vpn_spd_new_a(const vpn_alloc *a, vpn_spd **out, vpn_spd_action def)
{
    vpn_spd *s;

    if (!out || def > VPN_SPD_PROTECT)
        return VPN_ERR_INVAL;
    s = vpn_calloc(a, 1, sizeof *s);
    if (!s)
        return VPN_ERR_NOMEM;
    s->def = def;
    s->next_id = 1;
    if (a)
        s->alloc = *a; /* and every allocation vpn_spd_add makes */
    *out = s;
    return 0;
}

void vpn_spd_set_alloc(vpn_spd *s, const vpn_alloc *a)
{
    if (!s)
        return;
    if (a)
        s->alloc = *a;
    else
        memset(&s->alloc, 0, sizeof s->alloc);
}

void vpn_spd_del(vpn_spd *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nbuckets; i++) {
        for (spd_cell *c = s->buckets[i]; c;) {
            spd_cell *nx = c->next;
            free(c->rules);
            free(c);
            c = nx;
        }
    }
    for (size_t i = 0; i < s->nrules; i++)
        free(s->rules[i]);
    free(s->rules);
    free(s->buckets);
    free(s->tuples);
    free(s->torder);
    free(s);
}

/* ---- keys ------------------------------------------------------------------------ */

static void addr_words(const vpn_addr *a, unsigned len, uint64_t w[2])
{
    uint64_t hi = 0, lo = 0;

    for (int i = 0; i < 8; i++)
        hi = hi << 8 | a->b[i];
    for (int i = 8; i < 16; i++)
        lo = lo << 8 | a->b[i];
    w[0] = len == 0 ? 0 : len >= 64 ? hi : hi & (~0ull << (64 - len));
    w[1] = len <= 64 ? 0 : len >= 128 ? lo : lo & (~0ull << (128 - len));
}

static size_t cell_hash(size_t tuple, const uint64_t key[4], size_t nbuckets)
{
    uint64_t h = (uint64_t)tuple * 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 4; i++) {
        h ^= key[i];
        h *= 0xbf58476d1ce4e5b9ull;
        h ^= h >> 31;
    }
    return (size_t)h & (nbuckets - 1);
}

static spd_cell *cell_find(const vpn_spd *s, size_t tuple, const uint64_t key[4])
{
    if (!s->nbuckets)
        return NULL;
    for (spd_cell *c = s->buckets[cell_hash(tuple, key, s->nbuckets)]; c; c = c->next)
        if (c->tuple == tuple && c->key[0] == key[0] && c->key[1] == key[1] &&
            c->key[2] == key[2] && c->key[3] == key[3])
            return c;
    return NULL;
}

static int buckets_grow(vpn_spd *s)
{
    size_t n = s->nbuckets ? s->nbuckets * 2 : 16;
    spd_cell **b = vpn_calloc(&s->alloc, n, sizeof *b);

    if (!b)
        return VPN_ERR_NOMEM;
    for (size_t i = 0; i < s->nbuckets; i++) {
        for (spd_cell *c = s->buckets[i]; c;) {
            spd_cell *nx = c->next;
            size_t h = cell_hash(c->tuple, c->key, n);
            c->next = b[h];
            b[h] = c;
            c = nx;
        }
    }
    free(s->buckets);
    s->buckets = b;
    s->nbuckets = n;
    return 0;
}

/* Keeps torder sorted by min_order (few tuples: insertion sort). */
static void sort_tuples(vpn_spd *s)
{
    for (size_t i = 0; i < s->ntuples; i++)
        s->torder[i] = i;
    for (size_t i = 1; i < s->ntuples; i++) {
        size_t t = s->torder[i], j = i;
        while (j > 0 && s->tuples[s->torder[j - 1]].min_order > s->tuples[t].min_order) {
            s->torder[j] = s->torder[j - 1];
            j--;
        }
        s->torder[j] = t;
    }
}

static int tuple_get(vpn_spd *s, uint8_t fam, uint8_t slen, uint8_t dlen, size_t *out)
{
    for (size_t i = 0; i < s->ntuples; i++) {
        const spd_tuple *t = &s->tuples[i];
        if (t->family == fam && t->slen == slen && t->dlen == dlen) {
            *out = i;
            return 0;
        }
    }
    if (s->ntuples == s->cap_tuples) {
        size_t n = s->cap_tuples ? s->cap_tuples * 2 : 8;
        spd_tuple *t = vpn_realloc(&s->alloc, s->tuples, n * sizeof *t);
        size_t *o;
        if (!t)
            return VPN_ERR_NOMEM;
        s->tuples = t;
        o = vpn_realloc(&s->alloc, s->torder, n * sizeof *o);
        if (!o)
            return VPN_ERR_NOMEM;
        s->torder = o;
        s->cap_tuples = n;
    }
    s->tuples[s->ntuples] = (spd_tuple){fam, slen, dlen, UINT64_MAX, 0};
    *out = s->ntuples++;
    sort_tuples(s);
    return 0;
}

/* ---- changes ------------------------------------------------------------------------ */

static bool range_ok(uint16_t lo, uint16_t hi)
{
    return (lo == 0 && hi == 0) || lo <= hi;
}

static int check_sel(const vpn_spd_sel *sel)
{
    unsigned max = sel->family == VPN_AF_INET ? 32 : 128;

    if (sel->family != VPN_AF_INET && sel->family != VPN_AF_INET6)
        return VPN_ERR_INVAL;
    if (sel->src.len > max || sel->dst.len > max)
        return VPN_ERR_INVAL;
    if ((sel->src.len && sel->src.addr.family != sel->family) ||
        (sel->dst.len && sel->dst.addr.family != sel->family))
        return VPN_ERR_INVAL;
    if (!range_ok(sel->sport_lo, sel->sport_hi) || !range_ok(sel->dport_lo, sel->dport_hi))
        return VPN_ERR_INVAL;
    return 0;
}

int vpn_spd_add(vpn_spd *s, const vpn_spd_entry *e, uint32_t *id)
{
    spd_rule *r;
    spd_cell *c;
    size_t ti, pos;
    uint64_t key[4];
    int rc;

    if (!s || !e || e->action > VPN_SPD_PROTECT)
        return VPN_ERR_INVAL;
    rc = check_sel(&e->sel);
    if (rc)
        return rc;
    if (s->nrules == s->cap_rules) {
        size_t n = s->cap_rules ? s->cap_rules * 2 : 16;
        spd_rule **v = vpn_realloc(&s->alloc, s->rules, n * sizeof *v);
        if (!v)
            return VPN_ERR_NOMEM;
        s->rules = v;
        s->cap_rules = n;
    }
    rc = tuple_get(s, e->sel.family, e->sel.src.len, e->sel.dst.len, &ti);
    if (rc)
        return rc;
    addr_words(&e->sel.src.addr, e->sel.src.len, key);
    addr_words(&e->sel.dst.addr, e->sel.dst.len, key + 2);
    r = vpn_calloc(&s->alloc, 1, sizeof *r);
    if (!r)
        return VPN_ERR_NOMEM;
    r->e = *e;
    r->id = s->next_id;
    r->order = (uint64_t)e->seq << 32 | s->ctr;

    c = cell_find(s, ti, key);
    if (!c) {
        if (s->ncells + 1 > s->nbuckets && buckets_grow(s) != 0) {
            free(r);
            return VPN_ERR_NOMEM;
        }
        c = vpn_calloc(&s->alloc, 1, sizeof *c);
        if (!c) {
            free(r);
            return VPN_ERR_NOMEM;
        }
        c->tuple = ti;
        memcpy(c->key, key, sizeof key);
        {
            size_t h = cell_hash(ti, key, s->nbuckets);
            c->next = s->buckets[h];
            s->buckets[h] = c;
        }
        s->ncells++;
    }
    if (c->n == c->cap) {
        size_t n = c->cap ? c->cap * 2 : 2;
        spd_rule **v = vpn_realloc(&s->alloc, c->rules, n * sizeof *v);
        if (!v) {
            free(r); /* an empty new cell stays: harmless */
            return VPN_ERR_NOMEM;
        }
        c->rules = v;
        c->cap = n;
    }
    for (pos = c->n; pos > 0 && c->rules[pos - 1]->order > r->order; pos--)
        c->rules[pos] = c->rules[pos - 1];
    c->rules[pos] = r;
    c->n++;
    r->cell = c;

    s->rules[s->nrules++] = r;
    s->next_id++;
    s->ctr++;
    s->tuples[ti].nrules++;
    if (r->order < s->tuples[ti].min_order) {
        s->tuples[ti].min_order = r->order;
        sort_tuples(s);
    }
    if (id)
        *id = r->id;
    return 0;
}

static spd_rule *rule_find(const vpn_spd *s, uint32_t id, size_t *idx)
{
    /* Ids grow with position, so the array is sorted by id. */
    size_t lo = 0, hi = s ? s->nrules : 0;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->rules[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!s || lo >= s->nrules || s->rules[lo]->id != id)
        return NULL;
    if (idx)
        *idx = lo;
    return s->rules[lo];
}

int vpn_spd_remove(vpn_spd *s, uint32_t id)
{
    size_t idx, i;
    spd_rule *r = rule_find(s, id, &idx);
    spd_cell *c;

    if (!r)
        return VPN_ERR_NOTFOUND;
    c = r->cell;
    for (i = 0; c->rules[i] != r; i++)
        ;
    memmove(c->rules + i, c->rules + i + 1, (c->n - i - 1) * sizeof *c->rules);
    c->n--;
    s->tuples[c->tuple].nrules--;
    if (c->n == 0) {
        spd_cell **pp = &s->buckets[cell_hash(c->tuple, c->key, s->nbuckets)];
        while (*pp != c)
            pp = &(*pp)->next;
        *pp = c->next;
        free(c->rules);
        free(c);
        s->ncells--;
    }
    /* The tuple's min_order may now be too low: that only costs an
     * earlier look, never a wrong answer. */
    memmove(s->rules + idx, s->rules + idx + 1, (s->nrules - idx - 1) * sizeof *s->rules);
    s->nrules--;
    free(r);
    return 0;
}

int vpn_spd_set_sa(vpn_spd *s, uint32_t id, struct vpn_sa *sa)
{
    spd_rule *r = rule_find(s, id, NULL);

    if (!r)
        return VPN_ERR_NOTFOUND;
    r->e.sa = sa;
    return 0;
}

void vpn_spd_replace_sa(vpn_spd *s, const struct vpn_sa *old_sa, struct vpn_sa *new_sa)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nrules; i++)
        if (s->rules[i]->e.sa == old_sa)
            s->rules[i]->e.sa = new_sa;
}

/* ---- lookup -------------------------------------------------------------------------- */

static bool ports_match(bool has, uint16_t p, uint16_t lo, uint16_t hi)
{
    if ((lo == 0 && hi == 0) || (lo == 0 && hi == 65535))
        return true;
    return has && p >= lo && p <= hi;
}

/* The fields the cell key does not cover. */
static bool rest_match(const vpn_spd_sel *sel, const vpn_ip_info *p)
{
    if (sel->proto && sel->proto != p->proto)
        return false;
    if (sel->dscp_mask && !(sel->dscp_mask >> (p->tos >> 2) & 1))
        return false;
    return ports_match(p->has_ports, p->sport, sel->sport_lo, sel->sport_hi) &&
           ports_match(p->has_ports, p->dport, sel->dport_lo, sel->dport_hi);
}

vpn_spd_action vpn_spd_lookup(vpn_spd *s, const vpn_ip_info *p, const vpn_spd_entry **entry)
{
    spd_rule *best = NULL;
    uint64_t best_order = UINT64_MAX;

    if (entry)
        *entry = NULL;
    if (!s || !p)
        return VPN_SPD_DISCARD;
    for (size_t k = 0; k < s->ntuples; k++) {
        size_t ti = s->torder[k];
        const spd_tuple *t = &s->tuples[ti];
        uint64_t key[4];
        spd_cell *c;

        if (t->min_order >= best_order)
            break; /* sorted: nothing later can come first */
        if (t->nrules == 0 || t->family != p->version)
            continue;
        addr_words(&p->src, t->slen, key);
        addr_words(&p->dst, t->dlen, key + 2);
        c = cell_find(s, ti, key);
        if (!c)
            continue;
        for (size_t i = 0; i < c->n && c->rules[i]->order < best_order; i++) {
            if (rest_match(&c->rules[i]->e.sel, p)) {
                best = c->rules[i];
                best_order = best->order;
                break;
            }
        }
    }
    if (!best)
        return s->def;
    best->hits++;
    if (entry)
        *entry = &best->e;
    return best->e.action;
}

size_t vpn_spd_count(const vpn_spd *s)
{
    return s ? s->nrules : 0;
}

int vpn_spd_get_hits(const vpn_spd *s, uint32_t id, uint64_t *hits)
{
    spd_rule *r = rule_find(s, id, NULL);

    if (!r)
        return VPN_ERR_NOTFOUND;
    if (hits)
        *hits = r->hits;
    return 0;
}
