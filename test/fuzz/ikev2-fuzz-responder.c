/*
 * libFuzzer target: message sequences against an IKEv2 responder.
 *
 * Two engines, R1 (initiator) and R2 (responder), share an in-memory
 * network. The input is a script of one-byte operations (with arguments)
 * that decide what happens to each datagram in flight: deliver it, flip a
 * byte of it, truncate it, drop it, deliver it twice, or let time pass,
 * make R1 start an exchange, or inject raw input bytes at R2 as if from
 * R1 (ports 500 or 4500). Because R1 is a real peer, the responder is
 * driven through every state with authentic encrypted messages, and the
 * mutations reach the code behind the decryption.
 *
 * Checked after every step (a failed CHECK is a finding):
 *  - every entry point returns 0 for valid arguments;
 *  - after vpn_ikev2_timeout(now), no deadline is in the past;
 *  - events are consistent per node: a CHILD_SA or IKE SA goes down at
 *    most once and only after it came up; ids never repeat;
 *  - the SA views are sane (established SAs have SPIs, children SPIs).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rng.h"
#include "common/vpn-err.h"
#include "conf/conf.h"
#include "ikev2/ikev2-engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                  \
    do {                                                                          \
        if (!(c)) {                                                               \
            fprintf(stderr, "CHECK failed: %s (%s:%d)\n", #c, __FILE__, __LINE__); \
            abort();                                                              \
        }                                                                         \
    } while (0)

#define NS 1000000000ull
#define QMAX 32
#define IDS 64

static const char conf_r1[] =
    "crypto ikev2 proposal G\n encryption aes-gcm-128\n prf sha256\n group 19\n"
    "crypto ikev2 proposal P\n encryption aes-cbc-128\n integrity sha256\n prf sha256\n group 19\n"
    "crypto ikev2 policy POL\n proposal G\n proposal P\n"
    "crypto ikev2 keyring KR\n peer R2\n  address 192.0.2.2\n  pre-shared-key local k1\n  pre-shared-key remote k2\n"
    "crypto ikev2 profile PROF\n match identity remote address 192.0.2.2 255.255.255.255\n"
    " authentication local pre-share\n authentication remote pre-share\n keyring local KR\n dpd 10 2 periodic\n"
    "crypto ipsec transform-set TS esp-aes 128 esp-sha256-hmac\n"
    "crypto ipsec profile IPP\n set transform-set TS\n set ikev2-profile PROF\n set pfs group19\n";

static const char conf_r2[] =
    "crypto ikev2 proposal P\n encryption aes-cbc-128\n integrity sha256\n prf sha256\n group 19\n"
    "crypto ikev2 policy POL\n proposal P\n"
    "crypto ikev2 keyring KR\n peer R1\n  address 0.0.0.0 0.0.0.0\n  pre-shared-key local k2\n  pre-shared-key remote k1\n"
    "crypto ikev2 profile PROF\n match identity remote any\n"
    " authentication local pre-share\n authentication remote pre-share\n keyring local KR\n"
    "crypto ipsec transform-set TS esp-aes 128 esp-sha256-hmac\n"
    "crypto ipsec profile IPP\n set transform-set TS\n set ikev2-profile PROF\n set pfs group19\n"
    "crypto ikev2 cookie-challenge 2\n";

typedef struct dgram {
    int to;
    vpn_ikev2_endpoint src, dst;
    uint8_t *p;
    size_t len;
} dgram;

typedef struct node {
    vpn_ikev2_ctx *ctx;
    vpn_drbg drbg;
    vpn_ikev2_endpoint ep;
    uint32_t ike_up[IDS], child_up[IDS];
    uint8_t ike_state[IDS], child_state[IDS]; /* 1 up, 2 down */
    size_t n_ike, n_child;
} node;

typedef struct world {
    node n[2];
    dgram q[QMAX];
    size_t nq;
    uint64_t now;
} world;

static world *g_cur;

static void on_send(void *user, const vpn_ikev2_dgram *d)
{
    node *self = user;
    world *w = g_cur;
    int to = self == &w->n[0] ? 1 : 0;
    dgram *g;

    CHECK(d->len > 0 && d->len <= 65536);
    if (w->nq == QMAX)
        return; /* the network is full: lost */
    g = &w->q[w->nq];
    g->p = malloc(d->len);
    CHECK(g->p != NULL);
    memcpy(g->p, d->data, d->len);
    g->len = d->len;
    g->to = to;
    g->src = d->local;
    g->dst = d->remote;
    w->nq++;
}

static int find(const uint32_t *ids, size_t n, uint32_t id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return (int)i;
    return -1;
}

/* Up once, down at most once and only after up; rekeyed IKE SAs go away
 * without a DOWN, so they are only tracked for repeats. */
static void on_event(void *user, const vpn_ikev2_event *ev)
{
    node *nd = user;
    int k;

    switch (ev->type) {
    case VPN_IKEV2_EV_IKE_UP:
    case VPN_IKEV2_EV_IKE_REKEYED:
        CHECK(find(nd->ike_up, nd->n_ike, ev->ike_sa_id) < 0);
        if (nd->n_ike < IDS) {
            nd->ike_up[nd->n_ike] = ev->ike_sa_id;
            nd->ike_state[nd->n_ike++] = 1;
        }
        break;
    case VPN_IKEV2_EV_IKE_DOWN:
        k = find(nd->ike_up, nd->n_ike, ev->ike_sa_id);
        if (k >= 0) {
            CHECK(nd->ike_state[k] == 1);
            nd->ike_state[k] = 2;
        }
        break;
    case VPN_IKEV2_EV_CHILD_UP:
        CHECK(ev->child != NULL && ev->child->spi_in != 0 && ev->child->spi_out != 0);
        CHECK(ev->child->encr_in != NULL && ev->child->encr_in->len > 0);
        CHECK(find(nd->child_up, nd->n_child, ev->child->id) < 0);
        if (nd->n_child < IDS) {
            nd->child_up[nd->n_child] = ev->child->id;
            nd->child_state[nd->n_child++] = 1;
        }
        break;
    case VPN_IKEV2_EV_CHILD_DOWN:
        CHECK(ev->child != NULL);
        k = find(nd->child_up, nd->n_child, ev->child->id);
        if (k >= 0) {
            CHECK(nd->child_state[k] == 1);
            nd->child_state[k] = 2;
        } else {
            CHECK(nd->n_child == IDS); /* only ids we could not record */
        }
        break;
    default:
        break;
    }
}

static vpn_conf *conf_of(const char *text)
{
    vpn_conf *c = NULL;
    vpn_conf_error err;
    if (vpn_conf_parse(text, strlen(text), &c, &err) != 0)
        fprintf(stderr, "config line %d: %s\n", err.line, err.msg);
    CHECK(c != NULL);
    return c;
}

static void node_init(world *w, int i, const vpn_conf *conf, const char *addr)
{
    node *nd = &w->n[i];
    vpn_ikev2_params p;

    memset(nd, 0, sizeof *nd);
    CHECK(vpn_drbg_init(&nd->drbg, addr, strlen(addr)) == 0);
    CHECK(vpn_addr_parse(&nd->ep.addr, addr) == 0);
    nd->ep.port = 500;
    memset(&p, 0, sizeof p);
    p.conf = conf;
    vpn_rng_init_drbg(&p.rng, &nd->drbg);
    p.name = addr;
    p.send = on_send;
    p.event = on_event;
    p.user = nd;
    p.max_half_open_in = 4;
    p.max_half_open_out = 4;
    CHECK(vpn_ikev2_ctx_new(&nd->ctx, &p) == 0);
}

static void sanity(world *w)
{
    for (int i = 0; i < 2; i++) {
        vpn_ikev2_ctx *c = w->n[i].ctx;
        uint64_t d = vpn_ikev2_next_deadline(c);
        CHECK(vpn_ikev2_sa_count(c) <= 64);
        for (size_t k = 0; k < vpn_ikev2_sa_count(c); k++) {
            vpn_ikev2_sa_info s;
            CHECK(vpn_ikev2_sa_get(c, k, &s) == 0);
            if (s.state == VPN_IKEV2_SA_ESTABLISHED) {
                uint64_t zero = 0;
                CHECK(memcmp(s.spi_i, &zero, 8) != 0 && memcmp(s.spi_r, &zero, 8) != 0);
            }
            for (size_t j = 0; j < s.n_children; j++) {
                vpn_ikev2_child_state cs;
                CHECK(vpn_ikev2_child_get(c, s.id, j, &cs) == 0);
                CHECK(cs.info.spi_in >= 256);
            }
        }
        (void)d;
    }
}

static void deliver(world *w, dgram *g)
{
    node *to = &w->n[g->to];
    /* the receiver sees it arrive at its own address */
    CHECK(vpn_ikev2_input(to->ctx, w->now, &g->dst, &g->src, g->p, g->len) == 0);
}

static dgram pop(world *w)
{
    dgram g = w->q[0];
    memmove(&w->q[0], &w->q[1], (w->nq - 1) * sizeof w->q[0]);
    w->nq--;
    return g;
}

static void tick(world *w, uint64_t secs)
{
    w->now += secs * NS;
    for (int i = 0; i < 2; i++) {
        CHECK(vpn_ikev2_timeout(w->n[i].ctx, w->now) == 0);
        CHECK(vpn_ikev2_next_deadline(w->n[i].ctx) > w->now);
    }
}

static uint32_t first_sa(world *w, int i, uint32_t *child)
{
    vpn_ikev2_sa_info s;
    vpn_ikev2_child_state cs;
    *child = 0;
    if (vpn_ikev2_sa_get(w->n[i].ctx, 0, &s) != 0)
        return 0;
    if (s.n_children && vpn_ikev2_child_get(w->n[i].ctx, s.id, 0, &cs) == 0)
        *child = cs.info.id;
    return s.id;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static vpn_conf *c1, *c2;
    static world w;
    vpn_ikev2_policy pol;
    size_t i = 0;

    if (c1 == NULL) {
        c1 = conf_of(conf_r1);
        c2 = conf_of(conf_r2);
    }
    memset(&w, 0, sizeof w);
    g_cur = &w;
    w.now = 1000 * NS;
    node_init(&w, 0, c1, "192.0.2.1");
    node_init(&w, 1, c2, "192.0.2.2");
    memset(&pol, 0, sizeof pol);
    pol.ipsec_profile = "IPP";
    CHECK(vpn_ikev2_initiate(w.n[0].ctx, w.now, &w.n[0].ep, &w.n[1].ep, &pol, NULL) == 0);

    while (i < size) {
        uint8_t op = data[i++], arg = i < size ? data[i] : 0;
        uint32_t sa, ch;
        dgram g;

        switch (op & 7) {
        case 0: /* deliver */
            if (w.nq) {
                g = pop(&w);
                deliver(&w, &g);
                free(g.p);
            }
            break;
        case 1: /* deliver with a byte changed */
            i++;
            if (w.nq) {
                g = pop(&w);
                g.p[(size_t)arg * 7 % g.len] ^= (uint8_t)(arg | 1);
                deliver(&w, &g);
                free(g.p);
            }
            break;
        case 2: /* deliver truncated */
            i++;
            if (w.nq) {
                g = pop(&w);
                g.len = g.len * arg / 256;
                deliver(&w, &g);
                free(g.p);
            }
            break;
        case 3: /* drop */
            if (w.nq) {
                g = pop(&w);
                free(g.p);
            }
            break;
        case 4: { /* inject raw bytes at R2, from R1 */
            size_t len = arg;
            vpn_ikev2_endpoint src = w.n[0].ep, dst = w.n[1].ep;
            i++;
            if (len > size - i)
                len = size - i;
            if (op & 0x80)
                src.port = dst.port = 4500;
            CHECK(vpn_ikev2_input(w.n[1].ctx, w.now, &dst, &src, data + i, len) == 0);
            i += len;
            break;
        }
        case 5: /* time passes */
            i++;
            tick(&w, arg % 64);
            break;
        case 6: /* R1 (or R2) does something */
            i++;
            sa = first_sa(&w, (arg >> 4) & 1, &ch);
            switch (arg & 7) {
            case 0:
                vpn_ikev2_initiate(w.n[0].ctx, w.now, &w.n[0].ep, &w.n[1].ep, &pol, NULL);
                break;
            case 1:
                vpn_ikev2_child_rekey(w.n[(arg >> 4) & 1].ctx, w.now, ch);
                break;
            case 2:
                vpn_ikev2_ike_rekey(w.n[(arg >> 4) & 1].ctx, w.now, sa);
                break;
            case 3:
                vpn_ikev2_dpd(w.n[(arg >> 4) & 1].ctx, w.now, sa);
                break;
            case 4:
                vpn_ikev2_child_delete(w.n[(arg >> 4) & 1].ctx, w.now, ch);
                break;
            case 5:
                vpn_ikev2_delete(w.n[(arg >> 4) & 1].ctx, w.now, sa);
                break;
            case 6:
                vpn_ikev2_child_create(w.n[(arg >> 4) & 1].ctx, w.now, sa, &pol);
                break;
            default:
                vpn_ikev2_child_activity(w.n[(arg >> 4) & 1].ctx, w.now, ch, arg & 8, true);
            }
            break;
        case 7: /* deliver twice */
            if (w.nq) {
                g = pop(&w);
                deliver(&w, &g);
                deliver(&w, &g);
                free(g.p);
            }
            break;
        }
        sanity(&w);
    }
    /* let everything settle: the engines must converge without crashing */
    for (int k = 0; k < 12 && (w.nq || vpn_ikev2_next_deadline(w.n[0].ctx) != UINT64_MAX); k++) {
        while (w.nq) {
            dgram g = pop(&w);
            deliver(&w, &g);
            free(g.p);
        }
        tick(&w, 30);
        sanity(&w);
    }
    for (size_t k = 0; k < w.nq; k++)
        free(w.q[k].p);
    for (int k = 0; k < 2; k++) {
        vpn_ikev2_ctx_del(w.n[k].ctx);
        vpn_drbg_free(&w.n[k].drbg);
    }
    return 0;
}
