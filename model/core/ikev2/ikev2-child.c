/*
 * CHILD_SAs (RFC 7296 1.3, 2.8, 2.9, 2.17) and CREATE_CHILD_SA.
 *
 * CHILD_SA rekey (1.3.3), optional PFS:
 *   HDR, SK {N(REKEY_SA), SA, Ni, [KEi], TSi, TSr}  -->
 *                                  <--  HDR, SK {SA, Nr, [KEr], TSi, TSr}
 * IKE SA rekey (1.3.2, 2.18):
 *   HDR, SK {SA, Ni, KEi}  -->     <--  HDR, SK {SA, Nr, KEr}
 *
 * The initiator of a rekey deletes the old SA afterwards. Simultaneous
 * rekeys of the same SA (2.8.1, 2.8.2) both complete; the SA made by the
 * exchange holding the lowest of the four nonces is redundant and closed
 * by the node that initiated that exchange, and the winner's initiator
 * deletes the old SA.
 */
#include <stdint.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/vpn-err.h"
#include "ikev2/ikev2-eng.h"
#include "ikev2/ikev2-ts.h"

#define RETRY_LATER_NS (10 * NS_PER_S)  /* after TEMPORARY_FAILURE (2.25) */
#define OLD_IKE_SA_GRACE_NS (60 * NS_PER_S)
/* RFC 7296 2.8.2: the redundant SA of a simultaneous IKE rekey we won is
 * the peer's to delete, and it does so as soon as it has our answer (one
 * round trip, a few retransmissions at worst). A peer that never got the
 * answer (lost, and its exchange ended by our Delete of the old SA) never
 * knew the SA: no reason to keep it READY for the old SA's 60 s. */
#define REDUNDANT_IKE_SA_WAIT_NS (10 * NS_PER_S)

/* When to try a refused rekey again (RFC 7296 2.25: "retry later").  Two
 * peers that refuse each other's crossing exchanges (a CHILD_SA rekey
 * against an IKE SA rekey, 2.25.2) and both wait the same fixed time
 * cross again at every retry, for ever; so the wait is spread over half
 * to one and a half times the base, as strongSwan randomizes its retry.
 * The spread comes from the refused exchange's own nonce (random, drawn
 * when the request was built, different at each peer): no new draw, so
 * no new way to fail. */
static uint64_t retry_later(const ikev2_exch *x, uint64_t now, uint64_t base)
{
    uint32_t u = (uint32_t)x->nonce[0] << 8 | x->nonce[1];
    return now + base / 2 + base * u / 65536;
}

/* ---- shared by IKE_AUTH and CREATE_CHILD_SA ---------------------------------------- */

static void any_of(vpn_ikev2_selector *s, size_t *n, uint8_t family)
{
    vpn_ikev2_selector_any(&s[0], family);
    *n = 1;
}

static const vpn_conf_transform_set *first_tset(const vpn_ikev2_ctx *ctx, const ikev2_policy *pol)
{
    return pol->ipp->n_transform_set ? vpn_conf_find_transform_set(ctx->conf, pol->ipp->transform_set[0])
                                     : NULL;
}

int ikev2_child_offer(vpn_ikev2_ctx *ctx, const ikev2_sa *sa, size_t policy, uint16_t pfs_group,
                      const ikev2_child *like, ikev2_child_req *req)
{
    const ikev2_policy *pol;
    const vpn_conf_transform_set *t;
    int rc;

    if (policy >= ctx->n_policy)
        return VPN_ERR_NOTFOUND;
    pol = &ctx->policy[policy];
    memset(req, 0, sizeof *req);
    req->policy = policy;
    if ((rc = ikev2_new_child_spi(ctx, &req->spi)) != 0)
        return rc;
    req->n_props = ikev2_esp_proposals(ctx->conf, pol->ipp, pfs_group, req->spi, req->props, IKEV2_PROPS_MAX);
    if (req->n_props == 0) {
        ikev2_spi_release(ctx, sa, req->spi); /* no offer made with it */
        return VPN_ERR_POLICY;
    }
    if (like) {
        /* RFC 7296 2.8: a rekeyed CHILD_SA keeps its selectors */
        memcpy(req->tsi, like->ts_local, sizeof req->tsi);
        memcpy(req->tsr, like->ts_remote, sizeof req->tsr);
        req->n_tsi = like->n_ts_local;
        req->n_tsr = like->n_ts_remote;
        req->transport = like->mode == VPN_CONF_MODE_TRANSPORT;
        return 0;
    }
    if (pol->p.n_ts_local) {
        memcpy(req->tsi, pol->p.ts_local, sizeof req->tsi);
        req->n_tsi = pol->p.n_ts_local;
    } else {
        any_of(req->tsi, &req->n_tsi, sa->local.addr.family);
    }
    if (pol->p.n_ts_remote) {
        memcpy(req->tsr, pol->p.ts_remote, sizeof req->tsr);
        req->n_tsr = pol->p.n_ts_remote;
    } else {
        any_of(req->tsr, &req->n_tsr, sa->remote.addr.family);
    }
    /* RFC 7296 1.3.1: ask for transport mode only where the policy allows it */
    t = first_tset(ctx, pol);
    req->transport = !pol->p.tunnel_mode_only && t && t->mode == VPN_CONF_MODE_TRANSPORT;
    return 0;
}

static void write_ts(vpn_ikev2_bld *b, uint8_t type, const vpn_ikev2_selector *s, size_t n)
{
    vpn_ikev2_ts w[VPN_IKEV2_TS_MAX];
    for (size_t i = 0; i < n && i < VPN_IKEV2_TS_MAX; i++)
        ikev2_ts_to_wire(&s[i], &w[i]);
    vpn_ikev2_bld_ts(b, type, w, n);
}

int ikev2_child_offer_write(vpn_ikev2_bld *b, const ikev2_child_req *req)
{
    /* RFC 7296 1.3.1: asking for transport mode */
    if (req->transport)
        vpn_ikev2_bld_notify(b, 0, NULL, 0, VPN_IKEV2_N_USE_TRANSPORT_MODE, NULL, 0);
    vpn_ikev2_bld_sa(b, req->props, req->n_props);
    write_ts(b, VPN_IKEV2_PL_TSI, req->tsi, req->n_tsi);
    write_ts(b, VPN_IKEV2_PL_TSR, req->tsr, req->n_tsr);
    return b->err;
}

void ikev2_child_write_sa(vpn_ikev2_bld *b, const vpn_ikev2_proposal *chosen)
{
    vpn_ikev2_bld_sa(b, chosen, 1);
}

void ikev2_child_write_ts(vpn_ikev2_bld *b, const ikev2_child *c)
{
    /* TSi is the initiator's side: for a responder, the remote one. */
    if (c->initiator) {
        write_ts(b, VPN_IKEV2_PL_TSI, c->ts_local, c->n_ts_local);
        write_ts(b, VPN_IKEV2_PL_TSR, c->ts_remote, c->n_ts_remote);
    } else {
        write_ts(b, VPN_IKEV2_PL_TSI, c->ts_remote, c->n_ts_remote);
        write_ts(b, VPN_IKEV2_PL_TSR, c->ts_local, c->n_ts_local);
    }
    if (c->mode == VPN_CONF_MODE_TRANSPORT)
        vpn_ikev2_bld_notify(b, 0, NULL, 0, VPN_IKEV2_N_USE_TRANSPORT_MODE, NULL, 0);
}

static void set_algs(vpn_ikev2_ctx *ctx, ikev2_child *c, const vpn_ikev2_proposal *p, const ikev2_policy *pol)
{
    const vpn_conf_transform_set *t = NULL;

    c->encr = ikev2_prop_id(p, VPN_IKEV2_XF_ENCR, &c->encr_bits);
    c->integ = ikev2_prop_id(p, VPN_IKEV2_XF_INTEG, NULL);
    c->pfs_group = ikev2_prop_id(p, VPN_IKEV2_XF_DH, NULL);
    c->esn = ikev2_prop_id(p, VPN_IKEV2_XF_ESN, NULL) == VPN_IKEV2_ESN_YES;
    c->lifetime_s = pol->ipp->lifetime_s ? pol->ipp->lifetime_s : VPN_CONF_IPSEC_LIFETIME_S;
    c->lifetime_kb = pol->ipp->lifetime_kb ? pol->ipp->lifetime_kb : VPN_CONF_IPSEC_LIFETIME_KB;
    /* the IOS name of the transform set that matched */
    for (size_t i = 0; i < pol->ipp->n_transform_set; i++) {
        const vpn_conf_transform_set *x = vpn_conf_find_transform_set(ctx->conf, pol->ipp->transform_set[i]);
        if (x && x->encr.id == c->encr &&
            (x->encr.bits == c->encr_bits || x->encr.id == VPN_ENCR_CHACHA20_POLY1305) &&
            (vpn_ikev2_encr_is_aead(x->encr.id) || x->integ == c->integ)) {
            t = x;
            break;
        }
    }
    if (t)
        memcpy(c->tset_display, t->display, sizeof c->tset_display);
}

/* Does the peer's address fit the policy's remote prefix? */
static bool policy_for_peer(const ikev2_policy *pol, const vpn_addr *peer)
{
    return pol->p.remote.len == 0 || vpn_prefix_contains(&pol->p.remote, peer);
}

/* Registers (once) the implicit any/any policy of an ipsec profile that
 * names the SA's IKEv2 profile, for responders with no explicit policy. */
static size_t implicit_policy(vpn_ikev2_ctx *ctx, ikev2_sa *sa)
{
    for (size_t i = 0; i < ctx->conf->n_ipsec_profile; i++) {
        const vpn_conf_ipsec_profile *ipp = &ctx->conf->ipsec_profile[i];
        vpn_ikev2_policy p;
        int rc;
        if (strcmp(ipp->ikev2_profile, sa->profile->name) != 0)
            continue;
        memset(&p, 0, sizeof p);
        p.ipsec_profile = ipp->name;
        if ((rc = vpn_ikev2_policy_add(ctx, &p)) == VPN_ERR_NOMEM) {
            /* ours, not the peer's selectors */
            ikev2_internal_error_keep(ctx, sa, rc, "registering an implicit child policy");
            return SIZE_MAX;
        }
        if (rc != 0)
            continue;
        for (size_t k = 0; k < ctx->n_policy; k++)
            if (ctx->policy[k].ipp == ipp && ctx->policy[k].p.n_ts_local == 0 &&
                ctx->policy[k].p.n_ts_remote == 0 && ctx->policy[k].p.remote.len == 0)
                return k;
    }
    return SIZE_MAX;
}

uint16_t ikev2_child_accept(vpn_ikev2_ctx *ctx, ikev2_sa *sa, const vpn_ikev2_msg *msg,
                            bool pfs, size_t only_policy, ikev2_child *c,
                            vpn_ikev2_proposal *chosen)
{
    const vpn_ikev2_payload *sa_pl = vpn_ikev2_msg_find(msg, VPN_IKEV2_PL_SA, NULL);
    const vpn_ikev2_payload *tsi_pl = vpn_ikev2_msg_find(msg, VPN_IKEV2_PL_TSI, NULL);
    const vpn_ikev2_payload *tsr_pl = vpn_ikev2_msg_find(msg, VPN_IKEV2_PL_TSR, NULL);
    vpn_ikev2_selector tsi[VPN_IKEV2_TS_MAX], tsr[VPN_IKEV2_TS_MAX];
    size_t n_tsi, n_tsr;
    uint16_t err = VPN_IKEV2_N_TS_UNACCEPTABLE;
    bool transport_wanted, any_policy = false;
    uint32_t spi;

    if (sa_pl == NULL || tsi_pl == NULL || tsr_pl == NULL)
        return VPN_IKEV2_N_INVALID_SYNTAX;
    n_tsi = ikev2_ts_parse(tsi_pl, tsi, VPN_IKEV2_TS_MAX, NULL);
    n_tsr = ikev2_ts_parse(tsr_pl, tsr, VPN_IKEV2_TS_MAX, NULL);
    transport_wanted = vpn_ikev2_msg_find_notify(msg, VPN_IKEV2_N_USE_TRANSPORT_MODE, NULL) != NULL;
    {
        int rc = ikev2_new_child_spi(ctx, &spi);
        if (rc != 0) {
            /* ours, not the peer's: counted and reported as such; the
             * peer hears NO_PROPOSAL_CHOSEN (the IKE SA stays) */
            ikev2_internal_error_keep(ctx, sa, rc, "choosing a CHILD_SA SPI");
            return VPN_IKEV2_N_NO_PROPOSAL_CHOSEN;
        }
    }

    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < ctx->n_policy; i++) {
            const ikev2_policy *pol = &ctx->policy[i];
            vpn_ikev2_proposal ours[IKEV2_PROPS_MAX];
            vpn_ikev2_selector nl[VPN_IKEV2_TS_MAX], nr[VPN_IKEV2_TS_MAX];
            size_t n_ours, n_nl, n_nr;
            const vpn_conf_transform_set *t;

            if (only_policy != SIZE_MAX && i != only_policy)
                continue;
            if (only_policy == SIZE_MAX &&
                (pol->ike_profile != sa->profile || !policy_for_peer(pol, &sa->remote.addr)))
                continue;
            any_policy = true;
            /* TSr is our side, TSi the peer's (RFC 7296 2.9) */
            n_nl = vpn_ikev2_ts_narrow(tsr, n_tsr, pol->p.ts_local, pol->p.n_ts_local, nl, VPN_IKEV2_TS_MAX);
            n_nr = vpn_ikev2_ts_narrow(tsi, n_tsi, pol->p.ts_remote, pol->p.n_ts_remote, nr, VPN_IKEV2_TS_MAX);
            if (n_nl == 0 || n_nr == 0)
                continue;
            n_ours = ikev2_esp_proposals(ctx->conf, pol->ipp, pfs ? pol->ipp->pfs_group : 0, spi, ours,
                                         IKEV2_PROPS_MAX);
            if (n_ours == 0 || vpn_ikev2_proposal_select(sa_pl, ours, n_ours, 0, chosen, NULL) != 0 ||
                chosen->spi_len != 4) {
                err = VPN_IKEV2_N_NO_PROPOSAL_CHOSEN;
                continue;
            }
            memset(c, 0, sizeof *c);
            c->policy = i;
            c->initiator = false;
            c->spi_in = spi;
            c->spi_out = vpn_load32(chosen->spi);
            vpn_store32(chosen->spi, spi);
            set_algs(ctx, c, chosen, pol);
            memcpy(c->ts_local, nl, sizeof nl);
            c->n_ts_local = n_nl;
            memcpy(c->ts_remote, nr, sizeof nr);
            c->n_ts_remote = n_nr;
            /* RFC 7296 1.3.1: transport only when asked and allowed */
            t = first_tset(ctx, pol);
            c->mode = transport_wanted && !pol->p.tunnel_mode_only && t && t->mode == VPN_CONF_MODE_TRANSPORT
                          ? VPN_CONF_MODE_TRANSPORT
                          : VPN_CONF_MODE_TUNNEL;
            return 0;
        }
        /* No explicit policy for this profile: the ipsec profiles that name
         * it accept any selectors (a VTI's protection). */
        if (pass == 0 && !any_policy && only_policy == SIZE_MAX) {
            if (implicit_policy(ctx, sa) == SIZE_MAX)
                break;
            continue;
        }
        break;
    }
    ikev2_spi_release(ctx, sa, spi); /* refused: no CHILD_SA will have it */
    return any_policy ? err : VPN_IKEV2_N_TS_UNACCEPTABLE;
}

uint16_t ikev2_child_check(vpn_ikev2_ctx *ctx, ikev2_sa *sa, const vpn_ikev2_msg *msg,
                           const ikev2_child_req *req, ikev2_child *c)
{
    const vpn_ikev2_payload *sa_pl = vpn_ikev2_msg_find(msg, VPN_IKEV2_PL_SA, NULL);
    const vpn_ikev2_payload *tsi_pl = vpn_ikev2_msg_find(msg, VPN_IKEV2_PL_TSI, NULL);
    const vpn_ikev2_payload *tsr_pl = vpn_ikev2_msg_find(msg, VPN_IKEV2_PL_TSR, NULL);
    vpn_ikev2_proposal acc;
    const ikev2_policy *pol;
    bool unsupported;

    (void)sa;
    for (size_t i = 0; i < msg->n; i++)
        if (msg->pl[i].type == VPN_IKEV2_PL_NOTIFY && vpn_ikev2_notify_is_error(msg->pl[i].u.notify.type))
            return msg->pl[i].u.notify.type;
    if (sa_pl == NULL || tsi_pl == NULL || tsr_pl == NULL || req->policy >= ctx->n_policy)
        return VPN_IKEV2_N_INVALID_SYNTAX;
    pol = &ctx->policy[req->policy];
    /* RFC 7296 3.3.6: the answer must be one of our offers, narrowed */
    if (vpn_ikev2_proposal_check_reply(sa_pl, req->props, req->n_props, &acc) != 0 || acc.spi_len != 4 ||
        vpn_load32(acc.spi) < 256)
        return VPN_IKEV2_N_NO_PROPOSAL_CHOSEN;
    memset(c, 0, sizeof *c);
    c->policy = req->policy;
    c->initiator = true;
    c->spi_in = req->spi;
    c->spi_out = vpn_load32(acc.spi);
    set_algs(ctx, c, &acc, pol);
    /* RFC 7296 2.9: the responder may only narrow */
    c->n_ts_local = ikev2_ts_parse(tsi_pl, c->ts_local, VPN_IKEV2_TS_MAX, &unsupported);
    c->n_ts_remote = ikev2_ts_parse(tsr_pl, c->ts_remote, VPN_IKEV2_TS_MAX, &unsupported);
    if (!vpn_ikev2_ts_subset(c->ts_local, c->n_ts_local, req->tsi, req->n_tsi) ||
        !vpn_ikev2_ts_subset(c->ts_remote, c->n_ts_remote, req->tsr, req->n_tsr))
        return VPN_IKEV2_N_TS_UNACCEPTABLE;
    c->mode = req->transport && vpn_ikev2_msg_find_notify(msg, VPN_IKEV2_N_USE_TRANSPORT_MODE, NULL)
                  ? VPN_CONF_MODE_TRANSPORT
                  : VPN_CONF_MODE_TUNNEL;
    return 0;
}

int ikev2_child_keys(ikev2_sa *sa, ikev2_child *c, bool we_initiated, vpn_iov gir, vpn_iov ni, vpn_iov nr)
{
    vpn_ikev2_suite s;
    vpn_child_keys k;
    int rc;

    memset(&s, 0, sizeof s);
    s.encr = c->encr;
    s.encr_key_bits = c->encr_bits;
    s.integ = c->integ;
    /* RFC 7296 2.17: KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr), taken
     * initiator-to-responder first */
    rc = vpn_ikev2_child_keys_derive(sa->suite.prf, &sa->cr.keys.sk_d, &s, gir, ni, nr, &k);
    if (rc != 0)
        return rc;
    c->encr_out = we_initiated ? k.encr_i : k.encr_r;
    c->integ_out = we_initiated ? k.integ_i : k.integ_r;
    c->encr_in = we_initiated ? k.encr_r : k.encr_i;
    c->integ_in = we_initiated ? k.integ_r : k.integ_i;
    vpn_child_keys_wipe(&k);
    return 0;
}

void ikev2_child_fill_info(const ikev2_sa *sa, const ikev2_child *c, vpn_ikev2_child_info *ci,
                           const vpn_ikev2_ctx *ctx, bool with_keys)
{
    const ikev2_policy *pol = c->policy < ctx->n_policy ? &ctx->policy[c->policy] : NULL;

    memset(ci, 0, sizeof *ci);
    ci->id = c->id;
    ci->ike_sa_id = sa ? sa->id : 0;
    ci->policy_tag = pol ? pol->p.tag : 0;
    ci->protocol = VPN_IKEV2_PROTO_ESP;
    ci->spi_in = c->spi_in;
    ci->spi_out = c->spi_out;
    ci->encr = c->encr;
    ci->encr_key_bits = c->encr_bits;
    ci->integ = c->integ;
    ci->pfs_group = c->pfs_group;
    ci->esn = c->esn;
    ci->mode = c->mode;
    ci->initiator = c->initiator;
    if (with_keys) {
        ci->encr_in = &c->encr_in;
        ci->integ_in = &c->integ_in;
        ci->encr_out = &c->encr_out;
        ci->integ_out = &c->integ_out;
    }
    if (sa) {
        ci->local = sa->local;
        ci->remote = sa->remote;
        /* RFC 3948: ESP goes in UDP when a NAT was seen */
        ci->udp_encap = sa->nat_local || sa->nat_remote;
    }
    memcpy(ci->ts_local, c->ts_local, sizeof ci->ts_local);
    memcpy(ci->ts_remote, c->ts_remote, sizeof ci->ts_remote);
    ci->n_ts_local = c->n_ts_local;
    ci->n_ts_remote = c->n_ts_remote;
    ci->lifetime_s = c->lifetime_s;
    ci->lifetime_kb = c->lifetime_kb;
    ci->ipsec_profile = pol ? pol->ipsec_profile : "";
    ci->transform_set = c->tset_display;
}

void ikev2_child_install(vpn_ikev2_ctx *ctx, ikev2_sa *sa, ikev2_child *c, uint64_t now, uint32_t old_id)
{
    ikev2_child *n = ikev2_child_add(ctx, sa);
    uint64_t life;
    uint32_t id;

    if (n == NULL) {
        ikev2_internal_error(ctx, sa, now, VPN_ERR_NOMEM, "installing a CHILD_SA");
        return;
    }
    id = n->id;
    *n = *c;
    n->id = id;
    n->state = IKEV2_C_ACTIVE;
    n->installed = now;
    life = (uint64_t)n->lifetime_s * NS_PER_S;
    /* soft lifetime: the exchange's initiator rekeys at 90%, the other at
     * 95%, so collisions stay rare (RFC 4301 4.4.2.1 soft/hard limits) */
    n->rekey_at = now + (n->initiator ? life / 10 * 9 : life / 20 * 19);
    n->expire_at = now + life;
    n->announced = true;
    c->id = id;
    IKEV2_LOG(ctx, VPN_LOG_INFO, "IKE SA %u: CHILD_SA %u up, SPIs in 0x%08x out 0x%08x (%s)", sa->id, n->id,
              n->spi_in, n->spi_out, n->tset_display);
    ikev2_emit(ctx, sa, VPN_IKEV2_EV_CHILD_UP, VPN_IKEV2_R_NONE, 0, n, old_id, NULL);
    if (old_id) {
        n = ikev2_child_by_id(sa, id);
        if (n)
            ikev2_emit(ctx, sa, VPN_IKEV2_EV_CHILD_REKEYED, VPN_IKEV2_R_REKEYED, 0, n, old_id, NULL);
    }
}

/* ---- nonces (2.8.1) ---------------------------------------------------------------- */

static int nonce_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    size_t l = al < bl ? al : bl;
    int c = memcmp(a, b, l);
    if (c != 0)
        return c;
    return al < bl ? -1 : al > bl ? 1 : 0;
}

/*
 * 2.8.1, 2.8.2: the exchange with the lowest of the four nonces made the
 * redundant SA. Ours (nonces a, b) against the peer's crossing one
 * (record t): true if ours holds the lower minimum.
 */
static bool ours_lower(const uint8_t *a, size_t al, const uint8_t *b, size_t bl, const ikev2_rekey_task *t)
{
    if (nonce_cmp(a, al, b, bl) > 0) {
        a = b;
        al = bl;
    }
    return nonce_cmp(a, al, t->nonce_min, t->nonce_min_len) < 0;
}

/* Gives our rekey x a record for the peer's crossing one, made before we
 * answer the peer so that no step after the answer can fail. */
static int collide_record(vpn_ikev2_ctx *ctx, ikev2_exch *x)
{
    if (x->collide == NULL && (x->collide = vpn_calloc(&ctx->params.alloc, 1, sizeof *x->collide)) == NULL)
        return VPN_ERR_NOMEM;
    return 0;
}

/* The peer's crossing rekey answered: what our answer made, and the lower
 * of that exchange's nonces (its Ni, our Nr). */
static void collide_link(ikev2_rekey_task *t, uint32_t made, const uint8_t *ni, size_t ni_len, const uint8_t *nr,
                         size_t nr_len)
{
    if (nonce_cmp(ni, ni_len, nr, nr_len) > 0) {
        ni = nr;
        ni_len = nr_len;
    }
    t->made = made;
    memcpy(t->nonce_min, ni, ni_len);
    t->nonce_min_len = ni_len;
}

/* ---- CHILD_SA rekey ----------------------------------------------------------------- */

static uint16_t pfs_of(const vpn_ikev2_ctx *ctx, size_t policy)
{
    return policy < ctx->n_policy ? ctx->policy[policy].ipp->pfs_group : 0;
}

/*
 * Our CREATE_CHILD_SA request for a CHILD_SA of `policy` (RFC 7296 1.3.1):
 * [N(REKEY_SA) naming old by the SPI we receive on (1.3.3),]
 * [N(USE_TRANSPORT_MODE),] SA, Ni, [KEi], TSi, TSr; with old, old's
 * selectors are offered again (2.8). Built in sa->req, cleared on failure.
 */
static int child_request(vpn_ikev2_ctx *ctx, ikev2_sa *sa, size_t policy, const ikev2_child *old,
                         ikev2_task task)
{
    ikev2_exch *x = &sa->req;
    uint16_t pfs = pfs_of(ctx, policy);
    ikev2_out o;
    size_t n = 0;
    int rc;

    ikev2_req_clear(sa);
    if ((rc = ikev2_child_offer(ctx, sa, policy, pfs, old, &x->creq)) != 0 ||
        (rc = vpn_rng_bytes(&ctx->params.rng, x->nonce, IKEV2_NONCE_LEN)) != 0 ||
        (pfs && (rc = vpn_dh_new(&x->dh, pfs, &ctx->params.rng)) != 0)) {
        ikev2_req_clear(sa);
        return rc;
    }
    x->dh_group = pfs;
    ikev2_out_begin(ctx, sa, &o, VPN_IKEV2_CREATE_CHILD_SA, sa->mid_send, false, true);
    if (old) {
        uint8_t spi[4];
        vpn_store32(spi, old->spi_in);
        vpn_ikev2_bld_notify(&o.b, VPN_IKEV2_PROTO_ESP, spi, 4, VPN_IKEV2_N_REKEY_SA, NULL, 0);
    }
    if (x->creq.transport)
        vpn_ikev2_bld_notify(&o.b, 0, NULL, 0, VPN_IKEV2_N_USE_TRANSPORT_MODE, NULL, 0);
    vpn_ikev2_bld_sa(&o.b, x->creq.props, x->creq.n_props);
    vpn_ikev2_bld_nonce(&o.b, x->nonce, IKEV2_NONCE_LEN);
    if (x->dh) {
        size_t pl = 0;
        const uint8_t *pub = vpn_dh_public(x->dh, &pl);
        vpn_ikev2_bld_ke(&o.b, pfs, pub, pl);
    }
    write_ts(&o.b, VPN_IKEV2_PL_TSI, x->creq.tsi, x->creq.n_tsi);
    write_ts(&o.b, VPN_IKEV2_PL_TSR, x->creq.tsr, x->creq.n_tsr);
    if ((rc = ikev2_out_finish(ctx, sa, &o, x->msg, &n)) != 0) {
        ikev2_req_clear(sa);
        return rc;
    }
    x->n_msg = n;
    x->task = task;
    x->type = VPN_IKEV2_CREATE_CHILD_SA;
    x->child_id = old ? old->id : 0;
    x->new_spi = x->creq.spi;
    x->mid = sa->mid_send++;
    return 0;
}

static int child_rekey_build_i(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, ikev2_task task,
                               uint32_t child_id)
{
    ikev2_child *old = ikev2_child_by_id(sa, child_id);
    int rc;

    if (old == NULL || old->state != IKEV2_C_ACTIVE || sa->rekeyed_to)
        return VPN_ERR_STATE;
    if ((rc = child_request(ctx, sa, old->policy, old, task)) != 0)
        return rc;
    old->state = IKEV2_C_REKEYING;
    IKEV2_LOG(ctx, VPN_LOG_INFO, "IKE SA %u: rekeying CHILD_SA %u%s", sa->id, child_id,
              sa->req.dh_group ? " with PFS" : "");
    ikev2_req_start(ctx, sa, now);
    return 0;
}

static int child_create_build_i(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, ikev2_task task,
                                uint32_t arg)
{
    size_t policy = arg;
    int rc;

    if (sa->rekeyed_to || policy >= ctx->n_policy)
        return VPN_ERR_STATE;
    if ((rc = child_request(ctx, sa, policy, NULL, task)) != 0)
        return rc;
    IKEV2_LOG(ctx, VPN_LOG_INFO, "IKE SA %u: creating a CHILD_SA (ipsec profile %s)", sa->id,
              ctx->policy[policy].ipsec_profile);
    ikev2_req_start(ctx, sa, now);
    return 0;
}

/* PFS: the DH of a CREATE_CHILD_SA; out receives g^ir. Returns 0, or the
 * notify to answer with. */
static uint16_t responder_dh(vpn_ikev2_ctx *ctx, const vpn_ikev2_msg *m, uint16_t group, vpn_dh **dh,
                             uint8_t *gir, size_t *gir_len)
{
    const vpn_ikev2_payload *ke = vpn_ikev2_msg_find(m, VPN_IKEV2_PL_KE, NULL);

    if (group == 0)
        return 0;
    if (ke == NULL || ke->u.ke.group != group) {
        /* RFC 7296 1.3: the group we picked is not the KE we got */
        return VPN_IKEV2_N_INVALID_KE_PAYLOAD;
    }
    if (vpn_ikev2_ke_check(ke) != 0 || vpn_dh_new(dh, group, &ctx->params.rng) != 0 ||
        vpn_dh_compute(*dh, ke->u.ke.data.ptr, ke->u.ke.data.len, gir, gir_len) != 0)
        return VPN_IKEV2_N_INVALID_SYNTAX;
    return 0;
}

static void child_rekey_respond(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, const ikev2_in *in,
                                const vpn_ikev2_payload *rekey, const vpn_ikev2_payload *ni)
{
    const vpn_ikev2_msg *m = in->msg;
    ikev2_child *old = NULL, c;
    vpn_ikev2_proposal chosen;
    uint8_t nr[IKEV2_NONCE_LEN], gir[VPN_DH_MAX_LEN];
    size_t gir_len = sizeof gir;
    vpn_dh *dh = NULL;
    uint16_t err, group;
    uint32_t old_id = 0;
    ikev2_exch *mine = NULL;
    ikev2_out o;

    if (rekey) {
        if (rekey->u.notify.proto != VPN_IKEV2_PROTO_ESP || rekey->u.notify.spi.len != 4 ||
            (old = ikev2_child_by_spi_out(sa, vpn_load32(rekey->u.notify.spi.ptr))) == NULL ||
            old->state == IKEV2_C_REKEYED) {
            /* RFC 7296 2.25: we do not have it (any more) */
            ikev2_respond_notify(ctx, sa, in, VPN_IKEV2_N_CHILD_SA_NOT_FOUND, rekey->u.notify.proto,
                                 rekey->u.notify.spi.ptr, rekey->u.notify.spi.len, NULL, 0);
            return;
        }
        if (old->state == IKEV2_C_DELETING) {
            /* RFC 7296 2.25.1: rekeying what we are closing */
            ikev2_respond_notify(ctx, sa, in, VPN_IKEV2_N_TEMPORARY_FAILURE, 0, NULL, 0, NULL, 0);
            return;
        }
        /* 2.8.1: our own rekey of it is in flight: a collision */
        mine = ikev2_req_find(sa, IKEV2_T_CHILD_REKEY, old->id);
        if (mine != NULL) {
            int rc = collide_record(ctx, mine);
            if (rc != 0) {
                ikev2_internal_error(ctx, sa, now, rc, "CHILD_SA rekey collision");
                return;
            }
        }
    }
    err = ikev2_child_accept(ctx, sa, m, true, old ? old->policy : SIZE_MAX, &c, &chosen);
    if (err != 0) {
        ikev2_respond_notify(ctx, sa, in, err, 0, NULL, 0, NULL, 0);
        ikev2_emit(ctx, sa, VPN_IKEV2_EV_FAILED, ikev2_reason_for(err, IKEV2_NF_REFUSED), err, NULL, 0,
                   "CHILD_SA request refused");
        return;
    }
    group = ikev2_prop_id(&chosen, VPN_IKEV2_XF_DH, NULL);
    err = responder_dh(ctx, m, group, &dh, gir, &gir_len);
    if (err != 0) {
        uint8_t g[2];
        vpn_store16(g, group);
        vpn_dh_del(dh);
        if (err == VPN_IKEV2_N_INVALID_KE_PAYLOAD)
            ikev2_respond_notify(ctx, sa, in, err, 0, NULL, 0, g, 2);
        else
            ikev2_respond_notify(ctx, sa, in, err, 0, NULL, 0, NULL, 0);
        return;
    }
    {
        int rc = vpn_rng_bytes(&ctx->params.rng, nr, sizeof nr);
        if (rc != 0) {
            vpn_dh_del(dh);
            OPENSSL_cleanse(gir, sizeof gir);
            ikev2_internal_error(ctx, sa, now, rc, "CHILD_SA rekey response");
            return;
        }
    }
    {
        vpn_iov vni = {ni->u.nonce.data.ptr, ni->u.nonce.data.len}, vnr = {nr, sizeof nr};
        vpn_iov g = {gir, group ? gir_len : 0};
        if (ikev2_child_keys(sa, &c, false, g, vni, vnr) != 0) {
            vpn_dh_del(dh);
            OPENSSL_cleanse(gir, sizeof gir);
            ikev2_respond_notify(ctx, sa, in, VPN_IKEV2_N_NO_PROPOSAL_CHOSEN, 0, NULL, 0, NULL, 0);
            return;
        }
    }
    OPENSSL_cleanse(gir, sizeof gir);
    ikev2_out_begin(ctx, sa, &o, VPN_IKEV2_CREATE_CHILD_SA, in->hdr.msg_id, true, true);
    ikev2_child_write_sa(&o.b, &chosen);
    vpn_ikev2_bld_nonce(&o.b, nr, sizeof nr);
    if (dh) {
        size_t pl = 0;
        const uint8_t *pub = vpn_dh_public(dh, &pl);
        vpn_ikev2_bld_ke(&o.b, group, pub, pl);
    }
    ikev2_child_write_ts(&o.b, &c);
    ikev2_respond(ctx, sa, in, &o);
    vpn_dh_del(dh);
    if (ikev2_sa_gone(sa)) { /* the response could not be made */
        OPENSSL_cleanse(&c, sizeof c);
        return;
    }
    if (old) {
        old_id = old->id;
        if (old->state == IKEV2_C_ACTIVE)
            old->state = IKEV2_C_REKEYED; /* the peer deletes it */
    }
    ikev2_child_install(ctx, sa, &c, now, old_id);
    old = old_id ? ikev2_child_by_id(sa, old_id) : NULL; /* the array may have moved */
    if (old)
        old->rekeyed_by = c.id;
    if (old_id && (mine = ikev2_req_find(sa, IKEV2_T_CHILD_REKEY, old_id)) != NULL && mine->collide)
        /* a collision: link the two exchanges */
        collide_link(mine->collide, c.id, ni->u.nonce.data.ptr, ni->u.nonce.data.len, nr, sizeof nr);
    OPENSSL_cleanse(&c, sizeof c);
}

static void child_rekey_response(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, const ikev2_in *in)
{
    const vpn_ikev2_msg *m = in->msg;
    ikev2_exch *x = &sa->req;
    ikev2_child *old = ikev2_child_by_id(sa, x->child_id), c;
    const vpn_ikev2_payload *nr = vpn_ikev2_msg_find(m, VPN_IKEV2_PL_NONCE, NULL), *ke, *n;
    uint8_t gir[VPN_DH_MAX_LEN];
    size_t gir_len = sizeof gir;
    uint16_t err;
    uint32_t old_id = x->child_id;

    if ((n = vpn_ikev2_msg_find_notify(m, VPN_IKEV2_N_TEMPORARY_FAILURE, NULL)) != NULL) {
        /* RFC 7296 2.25: try again later, not at once; unless the peer's
         * crossing rekey replaced it already (2.8.1: the peer deletes it) */
        if (old && x->collide && x->collide->made)
            old->state = IKEV2_C_REKEYED;
        else if (old) {
            old->state = IKEV2_C_ACTIVE;
            old->rekey_at = retry_later(x, now, RETRY_LATER_NS);
        }
        ikev2_req_clear(sa);
        return;
    }
    if (vpn_ikev2_msg_find_notify(m, VPN_IKEV2_N_CHILD_SA_NOT_FOUND, NULL)) {
        /* RFC 7296 2.25: the peer has no such SA; drop ours */
        ikev2_req_clear(sa);
        if (old) {
            if (old->announced)
                ikev2_emit(ctx, sa, VPN_IKEV2_EV_CHILD_DOWN, VPN_IKEV2_R_PEER_DELETE,
                           VPN_IKEV2_N_CHILD_SA_NOT_FOUND, old, 0, NULL);
            ikev2_child_remove(ctx, sa, old);
        }
        return;
    }
    err = ikev2_child_check(ctx, sa, m, &x->creq, &c);
    if (err == 0 && (nr == NULL || nr->u.nonce.data.len < VPN_IKEV2_NONCE_MIN))
        err = VPN_IKEV2_N_INVALID_SYNTAX;
    if (err == 0 && c.pfs_group != x->dh_group)
        err = VPN_IKEV2_N_NO_PROPOSAL_CHOSEN;
    if (err == 0 && x->dh) {
        ke = vpn_ikev2_msg_find(m, VPN_IKEV2_PL_KE, NULL);
        if (ke == NULL || ke->u.ke.group != x->dh_group || vpn_ikev2_ke_check(ke) != 0 ||
            vpn_dh_compute(x->dh, ke->u.ke.data.ptr, ke->u.ke.data.len, gir, &gir_len) != 0)
            err = VPN_IKEV2_N_INVALID_SYNTAX;
    }
    if (err == 0) {
        vpn_iov vni = {x->nonce, IKEV2_NONCE_LEN}, vnr = {nr->u.nonce.data.ptr, nr->u.nonce.data.len};
        vpn_iov g = {gir, x->dh ? gir_len : 0};
        if (ikev2_child_keys(sa, &c, true, g, vni, vnr) != 0)
            err = VPN_IKEV2_N_NO_PROPOSAL_CHOSEN;
    }
    OPENSSL_cleanse(gir, sizeof gir);
    /* 2.8.1: the peer's crossing rekey, and whose exchange holds the lower
     * nonce, read before our exchange's record goes */
    uint32_t peer_rekey = x->collide ? x->collide->made : 0;
    bool lower = err == 0 && peer_rekey &&
                 ours_lower(x->nonce, IKEV2_NONCE_LEN, nr->u.nonce.data.ptr, nr->u.nonce.data.len, x->collide);
    ikev2_req_clear(sa);
    if (err != 0) {
        /* it lives on until its hard lifetime; unless the peer's crossing
         * rekey replaced it (2.8.1: the peer, its initiator, deletes it) */
        if (old && old->state == IKEV2_C_REKEYING)
            old->state = peer_rekey ? IKEV2_C_REKEYED : IKEV2_C_ACTIVE;
        ikev2_emit(ctx, sa, VPN_IKEV2_EV_FAILED, ikev2_reason_for(err, IKEV2_NF_CHILD), err, NULL, 0,
                   "CHILD_SA rekey failed");
        OPENSSL_cleanse(&c, sizeof c);
        return;
    }
    if (peer_rekey) {
        /* RFC 7296 2.8.1: both of us rekeyed it. The exchange with the
         * lowest nonce made the redundant SA; its initiator closes it.
         * The old child may be gone already: when our answer came late
         * (lost and retransmitted), the peer, winner, deleted it. */
        bool ours_redundant = lower && ikev2_child_by_id(sa, peer_rekey) != NULL;
        if (ours_redundant) {
            ikev2_child *r = ikev2_child_add(ctx, sa);
            uint32_t id;
            if (r == NULL) {
                /* without a record our redundant SA could never be
                 * deleted (the peer would keep its half for good) */
                OPENSSL_cleanse(&c, sizeof c);
                ikev2_internal_error(ctx, sa, now, VPN_ERR_NOMEM, "CHILD_SA rekey collision (redundant SA)");
                return;
            }
            {
                id = r->id;
                *r = c;
                r->id = id;
                r->state = IKEV2_C_DELETING;
                r->announced = false; /* never installed: nothing to tell */
                r->installed = now;
                IKEV2_LOG(ctx, VPN_LOG_INFO, "IKE SA %u: simultaneous rekey of CHILD_SA %u, ours lost", sa->id,
                          old_id);
                ikev2_queue(ctx, sa, now, IKEV2_T_CHILD_DELETE, id);
            }
            old = ikev2_child_by_id(sa, old_id);
            if (old)
                old->state = IKEV2_C_REKEYED; /* the peer, winner, deletes it */
            OPENSSL_cleanse(&c, sizeof c);
            return;
        }
        IKEV2_LOG(ctx, VPN_LOG_INFO, "IKE SA %u: simultaneous rekey of CHILD_SA %u, ours won", sa->id, old_id);
    }
    if (old)
        old->state = IKEV2_C_REKEYED;
    ikev2_child_install(ctx, sa, &c, now, old ? old_id : 0);
    old = ikev2_child_by_id(sa, old_id);
    if (old) {
        old->rekeyed_by = c.id;
        ikev2_queue(ctx, sa, now, IKEV2_T_CHILD_DELETE, old_id);
    }
    OPENSSL_cleanse(&c, sizeof c);
}

/* ---- IKE SA rekey (2.18) -------------------------------------------------------------- */

static int ike_rekey_build_i(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, ikev2_task task, uint32_t arg)
{
    ikev2_exch *x = &sa->req;
    ikev2_out o;
    size_t n = 0, pl = 0;
    const uint8_t *pub;
    int rc;

    if (sa->rekeyed_to || sa->phase != IKEV2_P_ESTABLISHED)
        return VPN_ERR_STATE;
    /* RFC 7296 2.25.2: not while a CHILD_SA exchange of ours is open (we
     * have one request at a time, so there is none) */
    ikev2_req_clear(sa);
    do {
        if ((rc = vpn_rng_bytes(&ctx->params.rng, x->new_ike_spi, 8)) != 0)
            return rc;
    } while (ikev2_spi64(x->new_ike_spi) == 0);
    if ((rc = vpn_rng_bytes(&ctx->params.rng, x->nonce, IKEV2_NONCE_LEN)) != 0)
        return rc;
    /* arg: the group to send a KE for, 0 for the SA's own; another one is
     * the peer's answer to that (INVALID_KE_PAYLOAD, RFC 7296 1.3, 2.18) */
    x->dh_group = arg ? (uint16_t)arg : sa->dh_group;
    if ((rc = vpn_dh_new(&x->dh, x->dh_group, &ctx->params.rng)) != 0)
        return rc;
    x->n_ike_props = ikev2_ike_offer(ctx->conf, &sa->local.addr, x->dh_group, x->ike_props, IKEV2_PROPS_MAX);
    if (x->n_ike_props == 0) {
        ikev2_req_clear(sa);
        return VPN_ERR_POLICY;
    }
    for (size_t i = 0; i < x->n_ike_props; i++) {
        /* RFC 7296 3.3.1: the new IKE SA's SPI goes in the proposal */
        x->ike_props[i].spi_len = 8;
        memcpy(x->ike_props[i].spi, x->new_ike_spi, 8);
    }
    pub = vpn_dh_public(x->dh, &pl);
    ikev2_out_begin(ctx, sa, &o, VPN_IKEV2_CREATE_CHILD_SA, sa->mid_send, false, true);
    vpn_ikev2_bld_sa(&o.b, x->ike_props, x->n_ike_props);
    vpn_ikev2_bld_nonce(&o.b, x->nonce, IKEV2_NONCE_LEN);
    vpn_ikev2_bld_ke(&o.b, x->dh_group, pub, pl);
    if ((rc = ikev2_out_finish(ctx, sa, &o, x->msg, &n)) != 0) {
        ikev2_req_clear(sa);
        return rc;
    }
    x->n_msg = n;
    x->task = task;
    x->type = VPN_IKEV2_CREATE_CHILD_SA;
    x->mid = sa->mid_send++;
    IKEV2_LOG(ctx, VPN_LOG_INFO, "IKE SA %u: rekeying the IKE SA", sa->id);
    ikev2_req_start(ctx, sa, now);
    return 0;
}

/*
 * A new IKE SA from a rekey of old: SKEYSEED = prf(SK_d (old), g^ir (new)
 * | Ni | Nr) with the old PRF, then the SK_* of the new suite (2.18).
 */
static ikev2_sa *rekeyed_sa(vpn_ikev2_ctx *ctx, ikev2_sa *old, uint64_t now, bool we_initiated,
                            const vpn_ikev2_proposal *chosen, const uint8_t spi_i[8], const uint8_t spi_r[8],
                            const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
                            const uint8_t *gir, size_t gir_len)
{
    ikev2_sa *n = ikev2_sa_new(ctx, now, we_initiated, &old->local, &old->remote);
    vpn_ikev2_suite s;
    vpn_key seed;
    vpn_iov g = {gir, gir_len}, vni = {ni, ni_len}, vnr = {nr, nr_len};
    int rc;

    if (n == NULL)
        return NULL;
    memset(&s, 0, sizeof s);
    s.encr = ikev2_prop_id(chosen, VPN_IKEV2_XF_ENCR, &s.encr_key_bits);
    s.prf = ikev2_prop_id(chosen, VPN_IKEV2_XF_PRF, NULL);
    s.integ = ikev2_prop_id(chosen, VPN_IKEV2_XF_INTEG, NULL);
    n->suite = s;
    n->dh_group = ikev2_prop_id(chosen, VPN_IKEV2_XF_DH, NULL);
    memcpy(n->spi_i, spi_i, 8);
    ikev2_sa_index_spi(ctx, n);
    memcpy(n->spi_r, spi_r, 8);
    memcpy(n->ni, ni, ni_len);
    n->ni_len = ni_len;
    memcpy(n->nr, nr, nr_len);
    n->nr_len = nr_len;
    rc = vpn_ikev2_skeyseed_rekey(old->suite.prf, &old->cr.keys.sk_d, g, vni, vnr, &seed);
    if (rc == 0)
        rc = vpn_ikev2_crypto_init_a(&ctx->params.alloc, &n->cr, &s, &seed, vni, vnr, spi_i, spi_r,
                                     we_initiated);
    vpn_key_wipe(&seed);
    if (rc != 0) {
        ikev2_sa_mark_dead(ctx, n);
        n->down_emitted = true;
        return NULL;
    }
    n->keyed = true;
    if (ctx->params.ike_keyed) /* the redundant SA of a collision too */
        ctx->params.ike_keyed(ctx->params.user, n->id);
    n->natt = old->natt;
    n->nat_local = old->nat_local;
    n->nat_remote = old->nat_remote;
    n->peer_frag = old->peer_frag;
    n->window_remote = old->window_remote; /* RFC 7296 2.3: the peer said it once, in IKE_AUTH */
    n->profile = old->profile;
    n->policy = old->policy;
    n->id_local = old->id_local;
    n->id_remote = old->id_remote;
    memcpy(n->dn_local, old->dn_local, sizeof n->dn_local);
    memcpy(n->dn_remote, old->dn_remote, sizeof n->dn_remote);
    n->auth_local = old->auth_local;
    n->auth_remote = old->auth_remote;
    n->auth_local_kind = old->auth_local_kind;
    n->auth_remote_kind = old->auth_remote_kind;
    n->peer_hashes = old->peer_hashes;
    return n;
}

/* The children of old move to n, which becomes the SA the driver knows. */
static void adopt(vpn_ikev2_ctx *ctx, ikev2_sa *old, ikev2_sa *n, uint64_t now)
{
    uint32_t ka;

    while (n->n_child) /* none expected: n is new */
        ikev2_child_remove(ctx, n, &n->child[n->n_child - 1]);
    free(n->child);
    /* queued CHILD_SA work follows the children (2.18) */
    for (size_t i = 0; i < old->n_pending; i++)
        if (old->pending[i].task == IKEV2_T_CHILD_REKEY || old->pending[i].task == IKEV2_T_CHILD_DELETE)
            if (n->n_pending < IKEV2_PENDING_MAX)
                n->pending[n->n_pending++] = old->pending[i];
    old->n_pending = 0;
    if (n->n_pending)
        ctx->pending_due = true;
    n->child = old->child;
    n->n_child = old->n_child;
    n->cap_child = old->cap_child;
    old->child = NULL;
    old->n_child = old->cap_child = 0;
    ikev2_children_moved(ctx, n);
    ikev2_ra_move(ctx, old, n); /* the remote user keeps its address and identity */
    n->phase = IKEV2_P_ESTABLISHED;
    n->established = now;
    n->last_recv = now;
    {
        uint64_t life = (uint64_t)(n->profile && n->profile->lifetime_s ? n->profile->lifetime_s
                                                                        : VPN_CONF_IKE_LIFETIME_S) * NS_PER_S;
        n->rekey_at = now + (n->initiator ? life / 10 * 9 : life / 20 * 19);
        n->expire_at = now + life;
    }
    ka = n->profile && n->profile->nat_keepalive_s ? n->profile->nat_keepalive_s : ctx->conf->nat_keepalive_s;
    n->keepalive_at = n->nat_local && ka ? now + (uint64_t)ka * NS_PER_S : 0;
    old->rekeyed_to = n->id;
    old->down_emitted = true; /* IKE_REKEYED tells the driver */
    old->rekey_at = 0;
    old->keepalive_at = 0;
    old->expire_at = now + OLD_IKE_SA_GRACE_NS;
    IKEV2_LOG(ctx, VPN_LOG_INFO, "IKE SA %u rekeyed to IKE SA %u", old->id, n->id);
    ikev2_emit(ctx, n, VPN_IKEV2_EV_IKE_REKEYED, VPN_IKEV2_R_REKEYED, 0, NULL, old->id, NULL);
}

static void successor_delete(vpn_ikev2_ctx *ctx, ikev2_sa *n, uint64_t now, bool counted);

static void ike_rekey_respond(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, const ikev2_in *in,
                              const vpn_ikev2_payload *sa_pl, const vpn_ikev2_payload *ni)
{
    const vpn_ikev2_msg *m = in->msg;
    const vpn_ikev2_payload *ke = vpn_ikev2_msg_find(m, VPN_IKEV2_PL_KE, NULL);
    vpn_ikev2_proposal ours[IKEV2_PROPS_MAX], chosen;
    size_t n_ours;
    uint8_t spi_r[8], nr[IKEV2_NONCE_LEN], gir[VPN_DH_MAX_LEN];
    size_t gir_len = sizeof gir, pl = 0;
    vpn_dh *dh = NULL;
    ikev2_sa *n;
    ikev2_out o;
    const uint8_t *pub;

    if (ikev2_req_child_busy(sa) || sa->rekeyed_to) {
        /* RFC 7296 2.25.2 */
        ikev2_respond_notify(ctx, sa, in, VPN_IKEV2_N_TEMPORARY_FAILURE, 0, NULL, 0, NULL, 0);
        return;
    }
    if (sa->req.task == IKEV2_T_IKE_REKEY) {
        /* 2.8.2: our own rekey is in flight: a collision */
        int rc = collide_record(ctx, &sa->req);
        if (rc != 0) {
            ikev2_internal_error(ctx, sa, now, rc, "IKE SA rekey collision");
            return;
        }
    }
    if (ke == NULL) {
        ikev2_respond_notify(ctx, sa, in, VPN_IKEV2_N_INVALID_SYNTAX, 0, NULL, 0, NULL, 0);
        return;
    }
    n_ours = ikev2_ike_proposals(ctx->conf, &sa->local.addr, ke->u.ke.group, ours, IKEV2_PROPS_MAX);
    if (n_ours == 0 || vpn_ikev2_proposal_select(sa_pl, ours, n_ours, 0, &chosen, NULL) != 0 ||
        chosen.spi_len != 8 || ikev2_spi64(chosen.spi) == 0) {
        vpn_ikev2_proposal all[IKEV2_PROPS_MAX];
        size_t n_all = ikev2_ike_offer(ctx->conf, &sa->local.addr, 0, all, IKEV2_PROPS_MAX);
        uint16_t g;
        if (n_all && vpn_ikev2_proposal_select(sa_pl, all, n_all, 0, &chosen, NULL) == 0 &&
            (g = ikev2_prop_id(&chosen, VPN_IKEV2_XF_DH, NULL)) != 0 && g != ke->u.ke.group) {
            uint8_t gb[2];
            vpn_store16(gb, g);
            ikev2_respond_notify(ctx, sa, in, VPN_IKEV2_N_INVALID_KE_PAYLOAD, 0, NULL, 0, gb, 2);
        } else {
            ikev2_respond_notify(ctx, sa, in, VPN_IKEV2_N_NO_PROPOSAL_CHOSEN, 0, NULL, 0, NULL, 0);
        }
        return;
    }
    if (vpn_ikev2_ke_check(ke) != 0) {
        ikev2_respond_notify(ctx, sa, in, VPN_IKEV2_N_INVALID_SYNTAX, 0, NULL, 0, NULL, 0);
        return;
    }
    {
        /* our DH value and nonce failing is ours; the peer's value
         * failing the RFC 6989 checks is the peer's */
        int rc = vpn_dh_new(&dh, ke->u.ke.group, &ctx->params.rng);
        if (rc == 0 && vpn_dh_compute(dh, ke->u.ke.data.ptr, ke->u.ke.data.len, gir, &gir_len) != 0) {
            vpn_dh_del(dh);
            ikev2_respond_notify(ctx, sa, in, VPN_IKEV2_N_INVALID_SYNTAX, 0, NULL, 0, NULL, 0);
            return;
        }
        if (rc != 0 || (rc = vpn_rng_bytes(&ctx->params.rng, nr, sizeof nr)) != 0) {
            vpn_dh_del(dh);
            OPENSSL_cleanse(gir, sizeof gir);
            ikev2_internal_error(ctx, sa, now, rc, "IKE SA rekey response");
            return;
        }
    }
    do {
        int rc = vpn_rng_bytes(&ctx->params.rng, spi_r, 8);
        if (rc != 0) {
            /* as the initiator side does (ike_rekey_build_i): no
             * garbage SPI, no endless loop */
            vpn_dh_del(dh);
            OPENSSL_cleanse(gir, sizeof gir);
            ikev2_internal_error(ctx, sa, now, rc, "IKE SA rekey response (SPI)");
            return;
        }
    } while (ikev2_spi64(spi_r) == 0);
    n = rekeyed_sa(ctx, sa, now, false, &chosen, chosen.spi, spi_r, ni->u.nonce.data.ptr, ni->u.nonce.data.len,
                   nr, sizeof nr, gir, gir_len);
    OPENSSL_cleanse(gir, sizeof gir);
    if (n == NULL) {
        vpn_dh_del(dh);
        ikev2_internal_error(ctx, sa, now, VPN_ERR_NOMEM, "IKE SA rekey response (new SA)");
        return;
    }
    memcpy(chosen.spi, spi_r, 8);
    pub = vpn_dh_public(dh, &pl);
    ikev2_out_begin(ctx, sa, &o, VPN_IKEV2_CREATE_CHILD_SA, in->hdr.msg_id, true, true);
    vpn_ikev2_bld_sa(&o.b, &chosen, 1);
    vpn_ikev2_bld_nonce(&o.b, nr, sizeof nr);
    vpn_ikev2_bld_ke(&o.b, ke->u.ke.group, pub, pl);
    ikev2_respond(ctx, sa, in, &o);
    vpn_dh_del(dh);
    if (ikev2_sa_gone(sa)) {
        /* the response could not be made or kept: ikev2_respond reported
         * that, once, for the SA the driver knows. The new SA, which the
         * driver never heard of, gets no event of its own: if our answer
         * went out (only keeping the request failed) the peer holds it and
         * is told to delete it (2.18, the failure counted once), else it
         * just goes */
        n->down_emitted = true;
        if (sa->n_resp && sa->resp_mid == in->hdr.msg_id)
            successor_delete(ctx, n, now, true);
        else
            ikev2_sa_kill(ctx, n, VPN_IKEV2_R_INTERNAL, 0, NULL);
        return;
    }
    if (sa->req.task == IKEV2_T_IKE_REKEY && sa->req.collide) {
        /* 2.8.2: our own rekey is in flight; decide when it returns */
        n->phase = IKEV2_P_ESTABLISHED;
        n->down_emitted = true;
        collide_link(sa->req.collide, n->id, ni->u.nonce.data.ptr, ni->u.nonce.data.len, nr, sizeof nr);
        return;
    }
    adopt(ctx, sa, n, now);
}

/* An IKE SA rekey answer (RFC 7296 2.18) that names the new SA: one of
 * our proposals with its SPI, the group we sent, a nonce, and a KE value
 * that gives g^ir. */
static bool rekey_answer_ok(const ikev2_exch *x, const vpn_ikev2_payload *sa_pl, const vpn_ikev2_payload *nr,
                            const vpn_ikev2_payload *ke, vpn_ikev2_proposal *acc, uint8_t *gir, size_t *gir_len)
{
    return sa_pl != NULL && nr != NULL && ke != NULL &&
           vpn_ikev2_proposal_check_reply(sa_pl, x->ike_props, x->n_ike_props, acc) == 0 && acc->spi_len == 8 &&
           ikev2_spi64(acc->spi) != 0 && ke->u.ke.group == x->dh_group &&
           ikev2_prop_id(acc, VPN_IKEV2_XF_DH, NULL) == x->dh_group && vpn_ikev2_ke_check(ke) == 0 &&
           nr->u.nonce.data.len >= VPN_IKEV2_NONCE_MIN &&
           vpn_dh_compute(x->dh, ke->u.ke.data.ptr, ke->u.ke.data.len, gir, gir_len) == 0;
}

/* A new IKE SA the peer holds but the driver never heard of (and no
 * CHILD_SA of ours is on it) is told to go: INFORMATIONAL { D(IKE) } on
 * it, and with it go the CHILD_SAs the peer moved to it (1.4.1). If the
 * Delete cannot be made, n goes without it: counted as an internal error
 * unless `counted` says the caller counts the one failure behind both. */
static void successor_delete(vpn_ikev2_ctx *ctx, ikev2_sa *n, uint64_t now, bool counted)
{
    int rc;

    if (n == NULL || n->phase == IKEV2_P_DEAD || n->phase == IKEV2_P_DELETING)
        return;
    n->phase = IKEV2_P_ESTABLISHED; /* INFORMATIONAL runs under an established SA */
    n->down_emitted = true;
    n->n_pending = 0;
    n->rekey_at = n->keepalive_at = 0;
    if ((rc = ikev2_info_start(ctx, n, now, IKEV2_T_IKE_DELETE, 0)) == 0)
        n->phase = IKEV2_P_DELETING;
    else if (!counted) /* counted and logged; n, never reported, goes quietly */
        ikev2_internal_error(ctx, n, now, rc, "Delete of a redundant IKE SA");
    else {
        IKEV2_LOG(ctx, VPN_LOG_WARN, "IKE SA %u: no Delete (%s); it goes without one", n->id, vpn_strerror(rc));
        ikev2_sa_kill(ctx, n, VPN_IKEV2_R_INTERNAL, 0, NULL);
    }
}

/* abort: the answer to the IKE SA rekey of an SA being closed (RFC 7296
 * 2.18; ikev2_sa_close keeps the Delete back for it): the new SA the peer
 * made (and one our answer to its own rekey made) is deleted, the driver
 * not told. */
static void ike_rekey_abort(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, const ikev2_in *in)
{
    const vpn_ikev2_msg *m = in->msg;
    const vpn_ikev2_payload *sa_pl = vpn_ikev2_msg_find(m, VPN_IKEV2_PL_SA, NULL);
    const vpn_ikev2_payload *nr = vpn_ikev2_msg_find(m, VPN_IKEV2_PL_NONCE, NULL);
    const vpn_ikev2_payload *ke = vpn_ikev2_msg_find(m, VPN_IKEV2_PL_KE, NULL);
    vpn_ikev2_proposal acc;
    uint8_t gir[VPN_DH_MAX_LEN];
    size_t gir_len = sizeof gir;
    ikev2_sa *n = NULL;
    uint32_t peer_id = sa->req.task == IKEV2_T_IKE_REKEY && sa->req.collide ? sa->req.collide->made : 0;

    if (sa->req.task == IKEV2_T_IKE_REKEY && rekey_answer_ok(&sa->req, sa_pl, nr, ke, &acc, gir, &gir_len)) {
        /* 2.18: the peer made the new SA and moved the children to it */
        n = rekeyed_sa(ctx, sa, now, true, &acc, sa->req.new_ike_spi, acc.spi, sa->req.nonce, IKEV2_NONCE_LEN,
                       nr->u.nonce.data.ptr, nr->u.nonce.data.len, gir, gir_len);
        if (n == NULL)
            IKEV2_LOG(ctx, VPN_LOG_WARN, "IKE SA %u: no memory to delete the peer's new IKE SA (its DPD will)",
                      sa->id);
    }
    OPENSSL_cleanse(gir, sizeof gir);
    if (n != NULL) {
        IKEV2_LOG(ctx, VPN_LOG_INFO, "IKE SA %u closing: deleting IKE SA %u its rekey made", sa->id, n->id);
        successor_delete(ctx, n, now, false);
    }
    /* 2.8.2: a new SA our answer to the peer's own rekey made is the
     * peer's once it has our answer: it goes too */
    if (peer_id)
        successor_delete(ctx, ikev2_sa_by_id(ctx, peer_id), now, false);
}

/*
 * Our IKE SA rekey refused (an error answer) after we answered the peer's
 * crossing one: the peer's is the only rekey that completed, so its new SA
 * (the one our answer made) survives and the peer, its initiator, deletes
 * the old SA (RFC 7296 2.8.2). Left alone it would never be used nor
 * deleted, and the peer's Delete of the old SA would take the CHILD_SAs
 * down with it. True if that is what happened (the children moved).
 */
static bool refused_peer_survives(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now)
{
    ikev2_sa *peer_n;

    if (sa->req.collide == NULL || sa->req.collide->made == 0 ||
        (peer_n = ikev2_sa_by_id(ctx, sa->req.collide->made)) == NULL || peer_n->phase == IKEV2_P_DEAD)
        return false;
    IKEV2_LOG(ctx, VPN_LOG_INFO, "IKE SA %u: simultaneous IKE rekey, ours refused, the peer's kept", sa->id);
    ikev2_req_clear(sa);
    peer_n->down_emitted = false;
    adopt(ctx, sa, peer_n, now);
    return true;
}

/*
 * RFC 7296 1.3, 2.18: the peer refused our IKE SA rekey with
 * INVALID_KE_PAYLOAD naming the group it wants (one we offer, say after
 * its proposal changed): the rekey is asked again at once with a KE for
 * that group, as IKE_SA_INIT does. Once per rekey (only a request that
 * used the SA's own group is retried), so two peers cannot ping-pong.
 * True if the request went again (or its failure was reported).
 */
static bool rekey_other_group(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, const vpn_ikev2_msg *m)
{
    const vpn_ikev2_payload *p = vpn_ikev2_msg_find_notify(m, VPN_IKEV2_N_INVALID_KE_PAYLOAD, NULL);
    uint16_t want = p ? ikev2_invalid_ke_group(p) : 0;
    uint16_t sent = sa->req.dh_group;
    int rc;

    if (want == 0 || want == sent || sent != sa->dh_group || !ikev2_group_offered(ctx->conf, &sa->local.addr, want))
        return false;
    IKEV2_LOG(ctx, VPN_LOG_INFO, "IKE SA %u: the peer wants DH group %u for the rekey, not %u", sa->id, want, sent);
    ikev2_req_clear(sa);
    if ((rc = ike_rekey_build_i(ctx, sa, now, IKEV2_T_IKE_REKEY, want)) != 0) {
        /* ours (RNG, memory): counted and reported; the SA stays, and
         * its rekey is tried again later */
        ikev2_req_clear(sa);
        ikev2_internal_error_keep(ctx, sa, rc, "IKE SA rekey (another group)");
        sa->rekey_at = now + RETRY_LATER_NS;
    }
    return true;
}

static void ike_rekey_response(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, const ikev2_in *in)
{
    const vpn_ikev2_msg *m = in->msg;
    ikev2_exch *x = &sa->req;
    const vpn_ikev2_payload *sa_pl = vpn_ikev2_msg_find(m, VPN_IKEV2_PL_SA, NULL);
    const vpn_ikev2_payload *nr = vpn_ikev2_msg_find(m, VPN_IKEV2_PL_NONCE, NULL);
    const vpn_ikev2_payload *ke = vpn_ikev2_msg_find(m, VPN_IKEV2_PL_KE, NULL);
    vpn_ikev2_proposal acc;
    uint8_t gir[VPN_DH_MAX_LEN];
    size_t gir_len = sizeof gir;
    ikev2_sa *n, *peer_n;
    uint32_t peer_id;
    bool lower;

    if (vpn_ikev2_msg_find_notify(m, VPN_IKEV2_N_TEMPORARY_FAILURE, NULL)) {
        if (refused_peer_survives(ctx, sa, now))
            return;
        sa->rekey_at = retry_later(x, now, RETRY_LATER_NS);
        ikev2_req_clear(sa);
        return;
    }
    if (!rekey_answer_ok(x, sa_pl, nr, ke, &acc, gir, &gir_len)) {
        const vpn_ikev2_payload *e = NULL;
        OPENSSL_cleanse(gir, sizeof gir);
        if (refused_peer_survives(ctx, sa, now) || rekey_other_group(ctx, sa, now, m))
            return;
        for (size_t i = 0; i < m->n && e == NULL; i++)
            if (m->pl[i].type == VPN_IKEV2_PL_NOTIFY && vpn_ikev2_notify_is_error(m->pl[i].u.notify.type))
                e = &m->pl[i];
        IKEV2_LOG(ctx, VPN_LOG_WARN, "IKE SA %u: IKE rekey refused (%s); retrying later", sa->id,
                  e ? vpn_ikev2_notify_name(e->u.notify.type) : "bad answer");
        ikev2_req_clear(sa);
        sa->rekey_at = now + RETRY_LATER_NS * 6;
        return;
    }
    n = rekeyed_sa(ctx, sa, now, true, &acc, x->new_ike_spi, acc.spi, x->nonce, IKEV2_NONCE_LEN,
                   nr->u.nonce.data.ptr, nr->u.nonce.data.len, gir, gir_len);
    OPENSSL_cleanse(gir, sizeof gir);
    /* 2.8.2: the peer's crossing rekey, and whose exchange holds the lower
     * nonce, read before our exchange's record goes */
    peer_id = x->collide ? x->collide->made : 0;
    lower = peer_id && ours_lower(x->nonce, IKEV2_NONCE_LEN, nr->u.nonce.data.ptr, nr->u.nonce.data.len,
                                  x->collide);
    ikev2_req_clear(sa);
    peer_n = peer_id ? ikev2_sa_by_id(ctx, peer_id) : NULL;
    if (n == NULL) {
        /* the SA closes; a new SA our answer to the peer's crossing
         * rekey made, never reported, goes with it (one failure, counted
         * once: for sa) */
        successor_delete(ctx, peer_n, now, true);
        ikev2_internal_error(ctx, sa, now, VPN_ERR_NOMEM, "IKE SA rekey (new SA)");
        return;
    }
    if (peer_n && lower) {
        /* RFC 7296 2.8.2: ours holds the lowest nonce: it is redundant and
         * ours to delete; the peer's new SA survives and the peer, its
         * initiator, deletes the old one */
        IKEV2_LOG(ctx, VPN_LOG_INFO, "IKE SA %u: simultaneous IKE rekey, ours lost", sa->id);
        n->down_emitted = true;
        peer_n->down_emitted = false;
        adopt(ctx, sa, peer_n, now);
        /* a Delete that cannot be sent is counted and n goes (the peer's
         * copy of it then lives until its DPD), never left DELETING with
         * nothing in flight */
        successor_delete(ctx, n, now, false);
        return;
    }
    if (peer_n) {
        /* ours won: the peer deletes its redundant SA */
        IKEV2_LOG(ctx, VPN_LOG_INFO, "IKE SA %u: simultaneous IKE rekey, ours won", sa->id);
        peer_n->expire_at = now + REDUNDANT_IKE_SA_WAIT_NS;
    }
    adopt(ctx, sa, n, now);
    /* the initiator of the surviving rekey deletes the old IKE SA */
    sa->n_pending = 0;
    {
        int rc = ikev2_info_start(ctx, sa, now, IKEV2_T_IKE_DELETE, 0);
        if (rc == 0)
            sa->phase = IKEV2_P_DELETING;
        else /* counted and logged; the old SA, reported rekeyed, goes (the peer's DPD finds out) */
            ikev2_internal_error(ctx, sa, now, rc, "Delete of the rekeyed IKE SA");
    }
}

bool ikev2_ike_rekey_peer_won(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now)
{
    ikev2_sa *peer_n;

    if (sa->req.task != IKEV2_T_IKE_REKEY || sa->req.collide == NULL || sa->req.collide->made == 0 ||
        (peer_n = ikev2_sa_by_id(ctx, sa->req.collide->made)) == NULL || peer_n->phase == IKEV2_P_DEAD)
        return false;
    if (sa->down_emitted) {
        /* we are closing sa (its CHILD_SAs reported down): they do not
         * move to the peer's new SA, which goes too (1.4.1) */
        successor_delete(ctx, peer_n, now, false);
        return false;
    }
    /* RFC 7296 2.8.2: only the initiator of the surviving rekey deletes
     * the old IKE SA, so the peer's new SA won, whatever became of our
     * own request (lost, or its answer still on the way: the SA it would
     * make is redundant and never made) */
    IKEV2_LOG(ctx, VPN_LOG_INFO, "IKE SA %u: simultaneous IKE rekey, the peer's won (old SA deleted)",
              sa->id);
    ikev2_req_clear(sa);
    peer_n->down_emitted = false;
    adopt(ctx, sa, peer_n, now);
    return true;
}

/* ---- dispatch ------------------------------------------------------------------------ */

const ikev2_exch_ops *ikev2_create_child_ops_r(const vpn_ikev2_msg *m)
{
    const vpn_ikev2_payload *sa_pl = vpn_ikev2_msg_find(m, VPN_IKEV2_PL_SA, NULL);
    vpn_ikev2_iter it;
    vpn_ikev2_prop_view pv;
    uint8_t proto = 0;

    if (vpn_ikev2_msg_find_notify(m, VPN_IKEV2_N_REKEY_SA, NULL))
        return &ikev2_child_rekey_ops; /* 1.3.3 */
    if (sa_pl) {
        vpn_ikev2_prop_iter_init(&it, sa_pl);
        if (vpn_ikev2_prop_iter_next(&it, &pv))
            proto = pv.proto;
    }
    /* 1.3.2: an SA payload of protocol IKE without REKEY_SA; 1.3.1 else */
    return proto == VPN_IKEV2_PROTO_IKE ? &ikev2_ike_rekey_ops : &ikev2_child_create_ops;
}

/*
 * What every CREATE_CHILD_SA request must pass before its exchange looks
 * at it: an SA payload and a nonce (3.3, 3.9), and an IKE SA that is
 * neither being deleted nor (for a CHILD_SA, 2.25.2) being rekeyed by us.
 * False: answered with the error notify.
 */
static bool create_child_admit(vpn_ikev2_ctx *ctx, ikev2_sa *sa, const ikev2_in *in, bool child)
{
    const vpn_ikev2_payload *ni = vpn_ikev2_msg_find(in->msg, VPN_IKEV2_PL_NONCE, NULL);

    if (vpn_ikev2_msg_find(in->msg, VPN_IKEV2_PL_SA, NULL) == NULL || ni == NULL ||
        ni->u.nonce.data.len < VPN_IKEV2_NONCE_MIN) {
        ikev2_respond_notify(ctx, sa, in, VPN_IKEV2_N_INVALID_SYNTAX, 0, NULL, 0, NULL, 0);
        return false;
    }
    if (sa->phase != IKEV2_P_ESTABLISHED ||
        /* RFC 7296 2.25.2: we are rekeying the IKE SA */
        (child && (sa->req.task == IKEV2_T_IKE_REKEY || sa->rekeyed_to))) {
        /* (not ESTABLISHED: we are deleting this IKE SA) */
        ikev2_respond_notify(ctx, sa, in, VPN_IKEV2_N_TEMPORARY_FAILURE, 0, NULL, 0, NULL, 0);
        return false;
    }
    return true;
}

/* The peer's requests (process_r), once admitted. */
static void child_process_r(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, const ikev2_in *in)
{
    if (create_child_admit(ctx, sa, in, true))
        child_rekey_respond(ctx, sa, now, in, vpn_ikev2_msg_find_notify(in->msg, VPN_IKEV2_N_REKEY_SA, NULL),
                            vpn_ikev2_msg_find(in->msg, VPN_IKEV2_PL_NONCE, NULL));
}

static void ike_rekey_process_r(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, const ikev2_in *in)
{
    if (create_child_admit(ctx, sa, in, false))
        ike_rekey_respond(ctx, sa, now, in, vpn_ikev2_msg_find(in->msg, VPN_IKEV2_PL_SA, NULL),
                          vpn_ikev2_msg_find(in->msg, VPN_IKEV2_PL_NONCE, NULL));
}

/* A CHILD_SA rekey or create answered (process_i): an IKE SA rekey in the
 * same request slot is never one of these (may_start keeps it alone). */
const ikev2_exch_ops ikev2_child_rekey_ops = {
    "CHILD_SA rekey", child_rekey_build_i, child_rekey_response, child_process_r, NULL,
};
const ikev2_exch_ops ikev2_child_create_ops = {
    "CHILD_SA create", child_create_build_i, child_rekey_response, child_process_r, NULL,
};
const ikev2_exch_ops ikev2_ike_rekey_ops = {
    "IKE SA rekey", ike_rekey_build_i, ike_rekey_response, ike_rekey_process_r, ike_rekey_abort,
};
