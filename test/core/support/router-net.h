/*
 * Two vpn_routers in one process on an in-memory network with a counter
 * clock: UDP datagrams (IKE, ESP in UDP, NAT-keepalives) and IP packets
 * (ESP) are queued with a latency and delivered in time order; a hook may
 * drop, delay or inspect them; node 0 can sit behind a NAT. Each router
 * has one tunnel (Tunnel0) towards the other; traffic generators push
 * numbered inner UDP packets into the tunnels and the receivers note which
 * numbers arrived, so that tests can count losses exactly. Header-only
 * (static inline), for the router test drivers.
 */
#ifndef VPN_TEST_ROUTER_NET_H
#define VPN_TEST_ROUTER_NET_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rng.h"
#include "common/vpn-err.h"
#include "conf/conf.h"
#include "engine-params.h"
#include "ipsec/ip.h"
#include "ipsec/natt.h"
#include "pkt-build.h"
#include "router/router.h"
#include "test-util.h"

#define RN_NS 1000000000ull
#define RN_MS 1000000ull
#define RN_MAX_EV 512
#define RN_MAX_SEQ 200000
#define RN_BUF (VPN_PKT_HEADROOM + 2048 + VPN_PKT_TAILROOM)

typedef struct rn_ev {
    vpn_router_event_type type;
    vpn_ikev2_event_type ike_type;
    vpn_ikev2_reason reason;
    uint32_t child_id, old_id, tunnel;
    vpn_router_sa_ref sa;
    vpn_router_drop drop;
    int err;
    vpn_router_key_table key_table; /* KEY_LINE */
    uint64_t at;
    uint32_t out_child_after; /* the tunnel's out_child once the router acted */
} rn_ev;

typedef struct rn_msg {
    int from;
    bool udp;                 /* UDP payload (src/dst endpoints), else a whole IP packet */
    vpn_ikev2_endpoint src, dst;
    uint8_t data[2048];
    size_t len;
    uint64_t at;              /* delivery time */
    uint64_t sent;
    bool requeue;             /* a hook set a later `at`: deliver it then */
    struct rn_msg *next;
} rn_msg;

struct rn_net;

typedef struct rn_node {
    struct rn_net *net;
    int idx;
    vpn_conf *conf;
    vpn_router *r;
    vpn_drbg drbg, sad_drbg;
    tu_log_sink log;
    vpn_addr addr;
    uint32_t tunnel;
    rn_ev ev[RN_MAX_EV];
    size_t n_ev;
    uint64_t drops[VPN_ROUTER_DROP_COUNT];
    uint64_t ike_sent, esp_sent, keepalives_sent;
    /* traffic this node sends into its tunnel */
    uint64_t tx_interval_ns;  /* 0: silent */
    uint64_t tx_next;
    uint32_t tx_seq;          /* next number */
    uint32_t tx_ok;           /* accepted by the router */
    size_t tx_payload;        /* bytes of inner UDP payload (>= 4) */
    /* traffic it received */
    uint64_t *sent_at;        /* RN_MAX_SEQ send times */
    uint8_t *seen;            /* RN_MAX_SEQ flags */
    uint32_t rx;
    uint32_t rx_dup;
    char key_line[512];       /* the last KEY_LINE event's line */
    char key_lines[8][512];   /* the first KEY_LINE lines */
    vpn_router_key_table key_tables[8];
    size_t n_key_lines;       /* all of them, also past 8 */
    uint32_t plain_out, plain_in; /* esp_plain calls (SAs Wireshark cannot decrypt) */
    uint32_t ike_plain_out, ike_plain_in; /* ike_plain calls */
} rn_node;

typedef bool (*rn_hook_fn)(struct rn_net *n, rn_msg *m, void *user);

typedef struct rn_net {
    rn_node node[2];
    uint64_t now;
    uint64_t latency_ns;
    rn_msg *q;                /* sorted by at, FIFO among equals */
    rn_hook_fn hook;
    void *hook_user;
    bool silent[2];           /* a node that neither sends nor receives (gone) */
    bool nat;                 /* node 0 behind a NAT, seen as nat_addr */
    uint16_t nat_port4500;    /* its public port for 4500 (0: 44500); a new one is a rebinding */
    bool key_lines;           /* routers made by rn_add emit KEY_LINE events */
    vpn_addr nat_addr;
    uint64_t udp4500_esp, udp4500_ike, udp4500_keepalive, ip_esp;
} rn_net;

static inline vpn_conf *rn_conf(const char *text)
{
    vpn_conf *c = NULL;
    vpn_conf_error err;
    int rc = vpn_conf_parse(text, strlen(text), &c, &err);
    if (rc != 0)
        fail_msg("config does not parse (%d) at line %d: %s", rc, err.line, err.msg);
    return c;
}

/* ---- the network ------------------------------------------------------------ */

static inline void rn_enqueue(rn_net *n, rn_msg *m)
{
    rn_msg **pp = &n->q;
    while (*pp && (*pp)->at <= m->at)
        pp = &(*pp)->next;
    m->next = *pp;
    *pp = m;
}

static inline rn_msg *rn_new_msg(rn_net *n, int from, const uint8_t *data, size_t len)
{
    rn_msg *m = calloc(1, sizeof *m);
    assert_non_null(m);
    assert_true(len <= sizeof m->data);
    m->from = from;
    memcpy(m->data, data, len);
    m->len = len;
    m->sent = n->now;
    m->at = n->now + n->latency_ns;
    return m;
}

static inline void rn_cb_send_udp(void *user, const vpn_ikev2_dgram *d)
{
    rn_node *self = user;
    rn_net *n = self->net;
    rn_msg *m;

    if (n->silent[self->idx])
        return;
    m = rn_new_msg(n, self->idx, d->data, d->len);
    m->udp = true;
    m->src = d->local;
    m->dst = d->remote;
    if (d->keepalive)
        self->keepalives_sent++;
    else
        self->ike_sent++;
    rn_enqueue(n, m);
}

static inline bool rn_cb_send_esp(void *user, const vpn_router_esp_out *o)
{
    rn_node *self = user;
    rn_net *n = self->net;
    rn_msg *m;

    assert_true(o->len > o->l4_off);
    if (n->silent[self->idx])
        return true;
    self->esp_sent++;
    if (o->udp_encap) {
        /* what a UDP socket sends: the payload after IP and UDP headers */
        m = rn_new_msg(n, self->idx, o->data + o->l4_off + VPN_UDP_HDR_LEN, o->len - o->l4_off - VPN_UDP_HDR_LEN);
        m->udp = true;
        m->src.addr = o->src;
        m->src.port = o->sport;
        m->dst.addr = o->dst;
        m->dst.port = o->dport;
    } else {
        m = rn_new_msg(n, self->idx, o->data, o->len);
        m->src.addr = o->src;
        m->dst.addr = o->dst;
    }
    rn_enqueue(n, m);
    return true;
}

/* Counts the IKE views; each must be an IPv4/UDP datagram carrying an
 * unencrypted IKE header (no SK payload first). */
static inline void rn_cb_ike_plain(void *user, uint32_t ike_sa_id, bool outbound, const uint8_t *d, size_t len)
{
    rn_node *self = user;
    (void)ike_sa_id;
    assert_true(len >= 20 + 8 + 28);
    assert_int_equal(d[0] >> 4, 4);
    assert_int_equal(d[9], 17);
    assert_int_not_equal(d[20 + 8 + 16], 46); /* Next Payload is not SK */
    if (outbound)
        self->ike_plain_out++;
    else
        self->ike_plain_in++;
}

static inline void rn_cb_esp_plain(void *user, uint32_t tunnel, bool outbound, const uint8_t *data, size_t len)
{
    rn_node *self = user;
    (void)tunnel;
    /* the inner packet: an IPv4 header at least, or an IPv6 one */
    assert_true((len >= 20 && data[0] >> 4 == 4) || (len >= 40 && data[0] >> 4 == 6));
    if (outbound)
        self->plain_out++;
    else
        self->plain_in++;
}

static inline bool rn_cb_deliver(void *user, uint32_t tunnel, const uint8_t *data, size_t len)
{
    rn_node *self = user;
    vpn_ip_info ip;
    uint32_t seq;

    assert_int_equal(tunnel, self->tunnel);
    assert_int_equal(vpn_ip_parse(data, len, &ip), 0);
    assert_int_equal(ip.proto, VPN_IPPROTO_UDP);
    assert_true(len >= ip.hdr_len + 8 + 4);
    seq = (uint32_t)data[ip.hdr_len + 8] << 24 | (uint32_t)data[ip.hdr_len + 9] << 16 |
          (uint32_t)data[ip.hdr_len + 10] << 8 | data[ip.hdr_len + 11];
    assert_true(seq < RN_MAX_SEQ);
    if (self->seen[seq])
        self->rx_dup++;
    self->seen[seq] = 1;
    self->rx++;
    return true;
}

static inline void rn_cb_event(void *user, const vpn_router_event *ev)
{
    rn_node *self = user;
    rn_ev *e;
    vpn_router_tunnel_info ti;

    if (ev->type == VPN_ROUTER_EV_DROP) {
        self->drops[ev->drop]++;
        return;
    }
    assert_true(self->n_ev < RN_MAX_EV);
    e = &self->ev[self->n_ev++];
    memset(e, 0, sizeof *e);
    e->type = ev->type;
    e->tunnel = ev->tunnel;
    e->child_id = ev->child_id;
    e->sa = ev->sa;
    e->err = ev->err;
    e->key_table = ev->key_table;
    if (ev->type == VPN_ROUTER_EV_KEY_LINE) {
        snprintf(self->key_line, sizeof self->key_line, "%s", ev->key_line);
        if (self->n_key_lines < 8) {
            snprintf(self->key_lines[self->n_key_lines], sizeof self->key_lines[0], "%s", ev->key_line);
            self->key_tables[self->n_key_lines] = ev->key_table;
        }
        self->n_key_lines++;
    }
    e->at = self->net->now;
    if (ev->ike) {
        e->ike_type = ev->ike->type;
        e->reason = ev->ike->reason;
        if (ev->ike->child)
            e->old_id = ev->ike->child->old_id;
    }
    /* getters are allowed from inside callbacks */
    if (vpn_router_tunnel_get(self->r, self->tunnel, &ti) == 0)
        e->out_child_after = ti.out_child;
    if (getenv("VPN_TEST_LOG"))
        fprintf(stderr, "  %.3f node %d ev %d ike %d reason %s child %u old %u spi 0x%x out %u\n",
                (double)self->net->now / RN_NS, self->idx, ev->type, e->ike_type,
                vpn_ikev2_reason_name(e->reason), e->child_id, e->old_id, e->sa.spi, e->out_child_after);
}

static inline bool rn_nat_apply(rn_net *n, rn_msg *m)
{
    if (!n->nat)
        return true;
    if (m->from == 0) {
        m->src.addr = n->nat_addr;
        if (m->udp)
            m->src.port = m->src.port == VPN_NATT_PORT ? (n->nat_port4500 ? n->nat_port4500 : 44500) : 40500;
        else
            return false; /* plain ESP does not cross this NAT (no ports) */
        return true;
    }
    if (vpn_addr_eq(&m->dst.addr, &n->nat_addr)) {
        if (!m->udp)
            return false;
        m->dst.addr = n->node[0].addr;
        if (m->dst.port == (n->nat_port4500 ? n->nat_port4500 : 44500))
            m->dst.port = VPN_NATT_PORT;
        else if (m->dst.port == 40500)
            m->dst.port = VPN_IKE_PORT;
        else
            return false;
    }
    return true;
}

static inline rn_node *rn_node_at(rn_net *n, const vpn_addr *a)
{
    for (int i = 0; i < 2; i++)
        if (vpn_addr_eq(&n->node[i].addr, a))
            return &n->node[i];
    return NULL;
}

/* Hands one message to its receiver. */
static inline void rn_deliver(rn_net *n, rn_msg *m)
{
    static uint8_t buf[RN_BUF];
    rn_node *to;
    vpn_pkt pkt;

    if (!rn_nat_apply(n, m) || (to = rn_node_at(n, &m->dst.addr)) == NULL || n->silent[to->idx])
        return;
    vpn_pkt_init(&pkt, buf, sizeof buf, VPN_PKT_HEADROOM);
    memcpy(vpn_pkt_put(&pkt, m->len), m->data, m->len);
    if (m->udp) {
        if (m->dst.port == VPN_NATT_PORT) {
            vpn_natt_kind k = vpn_natt_classify(m->data, m->len);
            n->udp4500_esp += k == VPN_NATT_ESP;
            n->udp4500_ike += k == VPN_NATT_IKE;
            n->udp4500_keepalive += k == VPN_NATT_KEEPALIVE;
        }
        vpn_router_udp_input(to->r, n->now, &m->dst, &m->src, &pkt);
    } else {
        n->ip_esp++;
        vpn_router_ip_input(to->r, n->now, &pkt);
    }
}

/* ---- nodes ------------------------------------------------------------------ */

static inline void rn_init(rn_net *n)
{
    memset(n, 0, sizeof *n);
    n->now = 1000 * RN_NS;
    n->latency_ns = 5 * RN_MS;
}

/* Creates nd->r (named R<idx+1>) on nd's config and DRBGs with the rn_cb_*
 * callbacks; key_lines asks for KEY_LINE events. No tunnel. */
static inline void rn_router_new(rn_node *nd, bool key_lines)
{
    vpn_router_params p;
    char name[16];

    snprintf(name, sizeof name, "R%d", nd->idx + 1);
    tu_router_params(&p, nd->conf, &nd->drbg, &nd->sad_drbg, &nd->log, name, nd);
    p.send_udp = rn_cb_send_udp;
    p.send_esp = rn_cb_send_esp;
    p.deliver = rn_cb_deliver;
    p.event = rn_cb_event;
    p.key_lines = key_lines;
    p.esp_plain = rn_cb_esp_plain;
    p.ike_plain = rn_cb_ike_plain;
    assert_int_equal(vpn_router_new(&nd->r, &p), 0);
}

/* Node idx (0: 192.0.2.1, 1: 192.0.2.2) with config text (NULL: no IKE)
 * and one tunnel towards dst (NULL: the other node's address). */
static inline rn_node *rn_add_ex(rn_net *n, int idx, const char *conf_text, vpn_router_tunnel_mode mode,
                                 bool initiate, const char *dst, bool has_key, uint32_t key, bool dual_overlay);

static inline rn_node *rn_add(rn_net *n, int idx, const char *conf_text, vpn_router_tunnel_mode mode,
                              bool initiate, const char *dst)
{
    return rn_add_ex(n, idx, conf_text, mode, initiate, dst, false, 0, false);
}

/* As rn_add, the tunnel with GRE key `key` (RFC 2890) when has_key. */
static inline rn_node *rn_add_keyed(rn_net *n, int idx, const char *conf_text, vpn_router_tunnel_mode mode,
                                    bool initiate, const char *dst, bool has_key, uint32_t key)
{
    return rn_add_ex(n, idx, conf_text, mode, initiate, dst, has_key, key, false);
}

/* rn_add with `tunnel mode ipsec dual-overlay` (a VTI carrying IPv6 too). */
static inline rn_node *rn_add_dual(rn_net *n, int idx, const char *conf_text, vpn_router_tunnel_mode mode,
                                   bool initiate, const char *dst, bool dual_overlay)
{
    return rn_add_ex(n, idx, conf_text, mode, initiate, dst, false, 0, dual_overlay);
}

/* The general form: GRE key (has_key, key) and dual overlay. */
static inline rn_node *rn_add_ex(rn_net *n, int idx, const char *conf_text, vpn_router_tunnel_mode mode,
                                 bool initiate, const char *dst, bool has_key, uint32_t key, bool dual_overlay)
{
    rn_node *nd = &n->node[idx];
    vpn_router_tunnel_config tc;
    char name[16];

    memset(nd, 0, sizeof *nd);
    nd->net = n;
    nd->idx = idx;
    nd->seen = calloc(RN_MAX_SEQ, 1);
    nd->sent_at = calloc(RN_MAX_SEQ, sizeof *nd->sent_at);
    assert_non_null(nd->seen);
    assert_non_null(nd->sent_at);
    nd->tx_payload = 64;
    nd->addr = tu_addr(idx == 0 ? "192.0.2.1" : "192.0.2.2");
    nd->conf = conf_text ? rn_conf(conf_text) : NULL;
    snprintf(name, sizeof name, "R%d", idx + 1);
    assert_int_equal(vpn_drbg_init(&nd->drbg, name, strlen(name)), 0);
    assert_int_equal(vpn_drbg_init(&nd->sad_drbg, "sad", 3), 0);
    rn_router_new(nd, n->key_lines);
    memset(&tc, 0, sizeof tc);
    tc.name = "Tunnel0";
    tc.mode = mode;
    tc.src = nd->addr;
    tc.dst = tu_addr(dst ? dst : idx == 0 ? "192.0.2.2" : "192.0.2.1");
    tc.ipsec_profile = "IPP";
    tc.initiate = initiate;
    tc.initiate_at_start = initiate;
    tc.has_key = has_key;
    tc.key = key;
    tc.dual_overlay = dual_overlay;
    assert_int_equal(vpn_router_tunnel_add(nd->r, &tc, &nd->tunnel), 0);
    return nd;
}

static inline void rn_free(rn_net *n)
{
    while (n->q) {
        rn_msg *m = n->q;
        n->q = m->next;
        free(m);
    }
    for (int i = 0; i < 2; i++) {
        vpn_router_del(n->node[i].r);
        vpn_conf_del(n->node[i].conf);
        vpn_drbg_free(&n->node[i].drbg);
        vpn_drbg_free(&n->node[i].sad_drbg);
        free(n->node[i].seen);
        free(n->node[i].sent_at);
    }
    memset(n, 0, sizeof *n);
}

/* *pkt over buf (RN_BUF bytes, the usual headroom) holding the len bytes at d. */
static inline void rn_pkt_of(vpn_pkt *pkt, uint8_t *buf, const uint8_t *d, size_t len)
{
    vpn_pkt_init(pkt, buf, RN_BUF, VPN_PKT_HEADROOM);
    if (len)
        memcpy(vpn_pkt_put(pkt, len), d, len);
}

/* One numbered inner packet from nd into its tunnel (10.0.<idx+1>.1 to the
 * other side's 10.0.<2-idx>.1). Returns the router's verdict. */
static inline vpn_router_drop rn_send(rn_node *nd)
{
    static uint8_t buf[RN_BUF];
    uint8_t payload[1500];
    vpn_addr s, d;
    vpn_pkt pkt;
    size_t len;
    vpn_router_drop res;
    uint32_t seq = nd->tx_seq++;

    assert_true(nd->tx_payload >= 4 && nd->tx_payload <= sizeof payload && seq < RN_MAX_SEQ);
    tu_fill(payload, nd->tx_payload, seq);
    payload[0] = (uint8_t)(seq >> 24);
    payload[1] = (uint8_t)(seq >> 16);
    payload[2] = (uint8_t)(seq >> 8);
    payload[3] = (uint8_t)seq;
    s = tu_addr(nd->idx == 0 ? "10.0.1.1" : "10.0.2.1");
    d = tu_addr(nd->idx == 0 ? "10.0.2.1" : "10.0.1.1");
    vpn_pkt_init(&pkt, buf, sizeof buf, VPN_PKT_HEADROOM);
    len = tu_build_udp(vpn_pkt_data(&pkt), 2048, &s, &d, 4000, 5000, 0, payload, nd->tx_payload);
    pkt.len = len;
    nd->sent_at[seq] = nd->net->now;
    res = vpn_router_tunnel_output(nd->r, nd->net->now, nd->tunnel, &pkt);
    if (res == VPN_ROUTER_DROP_NONE)
        nd->tx_ok++;
    return res;
}

static inline uint64_t rn_min(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* Runs network, timers and traffic up to `until` (ns). */
static inline void rn_run_until(rn_net *n, uint64_t until)
{
    for (long guard = 0;; guard++) {
        uint64_t t = n->q ? n->q->at : UINT64_MAX;
        assert_true(guard < 50000000);
        for (int i = 0; i < 2; i++) {
            rn_node *nd = &n->node[i];
            if (nd->r == NULL)
                continue;
            t = rn_min(t, vpn_router_next_deadline(nd->r));
            if (nd->tx_interval_ns && !n->silent[i])
                t = rn_min(t, nd->tx_next);
        }
        if (t > until)
            break;
        if (t > n->now)
            n->now = t;
        while (n->q && n->q->at <= n->now) {
            rn_msg *m = n->q;
            n->q = m->next;
            if (!n->hook || n->hook(n, m, n->hook_user)) {
                rn_deliver(n, m);
            } else if (m->requeue) {
                /* the hook delays it */
                m->requeue = false;
                rn_enqueue(n, m);
                continue;
            }
            free(m);
        }
        for (int i = 0; i < 2; i++) {
            rn_node *nd = &n->node[i];
            if (nd->r && vpn_router_next_deadline(nd->r) <= n->now)
                vpn_router_timeout(nd->r, n->now);
            if (nd->r && nd->tx_interval_ns && !n->silent[i] && nd->tx_next <= n->now) {
                rn_send(nd);
                nd->tx_next = n->now + nd->tx_interval_ns;
            }
        }
    }
    if (until > n->now)
        n->now = until;
}

static inline void rn_run_for(rn_net *n, double secs)
{
    rn_run_until(n, n->now + (uint64_t)(secs * (double)RN_NS));
}

/* Starts traffic from nd at pps packets per second (0 stops it). */
static inline void rn_traffic(rn_node *nd, unsigned pps)
{
    nd->tx_interval_ns = pps ? RN_NS / pps : 0;
    nd->tx_next = nd->net->now;
}

static inline size_t rn_count(const rn_node *nd, vpn_router_event_type t, int ike_type)
{
    size_t c = 0;
    for (size_t i = 0; i < nd->n_ev; i++)
        c += nd->ev[i].type == t && (ike_type == 0 || (int)nd->ev[i].ike_type == ike_type);
    return c;
}

/* The k-th event of a kind, NULL if none. */
static inline const rn_ev *rn_find(const rn_node *nd, vpn_router_event_type t, int ike_type, int k)
{
    for (size_t i = 0; i < nd->n_ev; i++)
        if (nd->ev[i].type == t && (ike_type == 0 || (int)nd->ev[i].ike_type == ike_type) && k-- == 0)
            return &nd->ev[i];
    return NULL;
}

/* Numbers sent by `from` that `to` never received, of those sent long
 * enough ago to have arrived (4 latencies; packets still in flight are
 * not lost). */
static inline uint32_t rn_lost(const rn_node *from, const rn_node *to)
{
    uint32_t lost = 0;
    const rn_net *n = from->net;
    for (uint32_t s = 0; s < from->tx_seq; s++)
        lost += !to->seen[s] && from->sent_at[s] + 4 * n->latency_ns <= n->now;
    return lost;
}

/* The FlexVPN configuration of R1 (peer R2) or R2 (peer R1): the keyring
 * finds the peer at keyring_addr (NULL: its own address; the address a NAT
 * shows otherwise), extra lines go into the IKEv2 profile, the ipsec
 * profile and the global configuration; mode is the transform set's. */
static inline char *rn_flex_conf(int idx, const char *keyring_addr, const char *profile_extra,
                                 const char *ipsec_extra, const char *mode, const char *global_extra)
{
    char *buf = malloc(4096);
    assert_non_null(buf);
    snprintf(buf, 4096,
             "hostname R%d\n"
             "crypto ikev2 proposal P1\n"
             " encryption aes-cbc-256\n"
             " integrity sha256\n"
             " group 19\n"
             "crypto ikev2 policy POL1\n"
             " proposal P1\n"
             "crypto ikev2 keyring KR\n"
             " peer PEER\n"
             "  address %s\n"
             "  pre-shared-key conformance-key\n"
             "crypto ikev2 profile PROF\n"
             " match identity remote address %s 255.255.255.255\n"
             " authentication local pre-share\n"
             " authentication remote pre-share\n"
             " keyring local KR\n"
             "%s"
             "crypto ipsec transform-set TS esp-aes 256 esp-sha256-hmac\n"
             " mode %s\n"
             "crypto ipsec profile IPP\n"
             " set transform-set TS\n"
             " set ikev2-profile PROF\n"
             "%s"
             "%s",
             idx + 1, keyring_addr ? keyring_addr : idx == 0 ? "192.0.2.2" : "192.0.2.1",
             idx == 0 ? "192.0.2.2" : "192.0.2.1",
             profile_extra ? profile_extra : "", mode ? mode : "transport", ipsec_extra ? ipsec_extra : "",
             global_extra ? global_extra : "");
    return buf;
}

#endif
