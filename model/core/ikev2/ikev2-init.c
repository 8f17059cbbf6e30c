/*
 * IKE_SA_INIT (RFC 7296 1.2): proposals, Diffie-Hellman, nonces, the
 * stateless COOKIE (2.6) and INVALID_KE_PAYLOAD (1.2) round trips, NAT
 * detection (2.23), the RFC 7383 fragmentation announcement, and SKEYSEED.
 *
 *   Initiator                         Responder
 *   HDR, SAi1, KEi, Ni,
 *     N(NAT_DETECTION_*), N(IKEV2_FRAGMENTATION_SUPPORTED)  -->
 *                                <--  HDR, SAr1, KEr, Nr, N(NAT_DETECTION_*),
 *                                         N(IKEV2_FRAGMENTATION_SUPPORTED)
 */
#include <string.h>

#include <openssl/crypto.h>

#include "common/vpn-err.h"
#include "ikev2/ikev2-eng.h"

#define MAX_COOKIE_TRIES 3
#define MAX_KE_TRIES 2

/* NAT_DETECTION_*_IP data for an endpoint (RFC 7296 2.23). */
static int natd(const uint8_t spi_i[8], const uint8_t spi_r[8], const vpn_ikev2_endpoint *e,
                uint8_t out[VPN_IKEV2_NATD_LEN])
{
    return vpn_ikev2_natd_hash(spi_i, spi_r, e->addr.b, vpn_addr_len(&e->addr), e->port, out);
}

static int write_natd(vpn_ikev2_bld *b, const uint8_t spi_i[8], const uint8_t spi_r[8],
                      const vpn_ikev2_endpoint *local, const vpn_ikev2_endpoint *remote)
{
    uint8_t h[VPN_IKEV2_NATD_LEN];
    int rc;

    if ((rc = natd(spi_i, spi_r, local, h)) != 0)
        return rc;
    vpn_ikev2_bld_notify(b, 0, NULL, 0, VPN_IKEV2_N_NAT_DETECTION_SOURCE_IP, h, sizeof h);
    if ((rc = natd(spi_i, spi_r, remote, h)) != 0)
        return rc;
    return vpn_ikev2_bld_notify(b, 0, NULL, 0, VPN_IKEV2_N_NAT_DETECTION_DESTINATION_IP, h, sizeof h);
}

/*
 * RFC 7296 2.23: the peer's SOURCE hashes name the address it sent from:
 * if none matches what we see, a NAT changed it (the peer is behind a
 * NAT). Its DESTINATION hash names the address it sent to: if it is not
 * ours, we are behind a NAT. No NAT-D payloads at all: no detection.
 */
static void nat_detect(ikev2_sa *sa, const vpn_ikev2_msg *msg, const uint8_t spi_i[8],
                       const uint8_t spi_r[8])
{
    const vpn_ikev2_payload *p;
    uint8_t want[VPN_IKEV2_NATD_LEN];
    bool any_src = false, src_ok = false;

    if (natd(spi_i, spi_r, &sa->remote, want) == 0) {
        for (p = NULL; (p = vpn_ikev2_msg_find_notify(msg, VPN_IKEV2_N_NAT_DETECTION_SOURCE_IP, p));) {
            any_src = true;
            if (p->u.notify.data.len == VPN_IKEV2_NATD_LEN &&
                CRYPTO_memcmp(p->u.notify.data.ptr, want, VPN_IKEV2_NATD_LEN) == 0)
                src_ok = true;
        }
    }
    if (any_src)
        sa->nat_remote = !src_ok;
    p = vpn_ikev2_msg_find_notify(msg, VPN_IKEV2_N_NAT_DETECTION_DESTINATION_IP, NULL);
    if (p && natd(spi_i, spi_r, &sa->local, want) == 0)
        sa->nat_local = !(p->u.notify.data.len == VPN_IKEV2_NATD_LEN &&
                          CRYPTO_memcmp(p->u.notify.data.ptr, want, VPN_IKEV2_NATD_LEN) == 0);
}

int ikev2_derive_ike_keys(vpn_ikev2_ctx *ctx, ikev2_sa *sa, const uint8_t *peer_ke, size_t len)
{
    uint8_t gir[VPN_DH_MAX_LEN];
    size_t gir_len = sizeof gir;
    vpn_key seed;
    vpn_iov ni = {sa->ni, sa->ni_len}, nr = {sa->nr, sa->nr_len}, g;
    int rc;

    (void)ctx;
    if ((rc = vpn_dh_compute(sa->dh, peer_ke, len, gir, &gir_len)) != 0)
        return rc;
    g.p = gir;
    g.len = gir_len;
    /* RFC 7296 2.14: SKEYSEED = prf(Ni | Nr, g^ir), then prf+ for SK_*. */
    rc = vpn_ikev2_skeyseed(sa->suite.prf, ni, nr, g, &seed);
    if (rc == 0)
        rc = vpn_ikev2_crypto_init_a(&ctx->params.alloc, &sa->cr, &sa->suite, &seed, ni, nr, sa->spi_i,
                                     sa->spi_r, sa->initiator);
    OPENSSL_cleanse(gir, sizeof gir);
    vpn_key_wipe(&seed);
    if (rc == 0) {
        sa->keyed = true;
        /* g^ir is computed: the private value is of no further use (2.12). */
        vpn_dh_del(sa->dh);
        sa->dh = NULL;
        if (ctx->params.ike_keyed)
            ctx->params.ike_keyed(ctx->params.user, sa->id);
    }
    return rc;
}

/* RFC 7427 4: the hashes we verify signatures with (no SHA-1). */
static const uint8_t our_hashes[6] = {0, VPN_IKE_HASH_SHA2_256, 0, VPN_IKE_HASH_SHA2_384, 0,
                                      VPN_IKE_HASH_SHA2_512};

static void read_hashes(const vpn_ikev2_ctx *ctx, ikev2_sa *sa, const vpn_ikev2_msg *m)
{
    const vpn_ikev2_payload *p = vpn_ikev2_msg_find_notify(m, VPN_IKEV2_N_SIGNATURE_HASH_ALGORITHMS, NULL);
    sa->peer_hashes = 0;
    if (ctx->params.no_rfc7427)
        return;
    for (size_t i = 0; p && i + 1 < p->u.notify.data.len; i += 2) {
        uint16_t h = vpn_load16(p->u.notify.data.ptr + i);
        if (h < 32)
            sa->peer_hashes |= 1u << h;
    }
}

static int suite_from(const vpn_ikev2_proposal *p, vpn_ikev2_suite *s, uint16_t *group)
{
    memset(s, 0, sizeof *s);
    s->encr = ikev2_prop_id(p, VPN_IKEV2_XF_ENCR, &s->encr_key_bits);
    s->prf = ikev2_prop_id(p, VPN_IKEV2_XF_PRF, NULL);
    s->integ = ikev2_prop_id(p, VPN_IKEV2_XF_INTEG, NULL);
    *group = ikev2_prop_id(p, VPN_IKEV2_XF_DH, NULL);
    /* ChaCha20-Poly1305 carries no Key Length; the cipher table knows it as 0. */
    return s->encr && s->prf && *group ? 0 : VPN_ERR_POLICY;
}

/* ---- initiator -------------------------------------------------------------------- */

static int build_request(vpn_ikev2_ctx *ctx, ikev2_sa *sa)
{
    vpn_ikev2_proposal props[IKEV2_PROPS_MAX];
    size_t n_props = ikev2_ike_offer(ctx->conf, &sa->local.addr, sa->dh_group, props, IKEV2_PROPS_MAX);
    ikev2_out o;
    ikev2_buf out[1];
    size_t n = 0, pub_len = 0;
    const uint8_t *pub;
    uint8_t zero[8] = {0};
    int rc;

    if (n_props == 0)
        return VPN_ERR_POLICY;
    pub = vpn_dh_public(sa->dh, &pub_len);
    memset(out, 0, sizeof out);
    ikev2_out_begin(ctx, sa, &o, VPN_IKEV2_IKE_SA_INIT, 0, false, false);
    /* RFC 7296 2.6: the cookie goes first. */
    if (sa->cookie_len)
        vpn_ikev2_bld_notify(&o.b, 0, NULL, 0, VPN_IKEV2_N_COOKIE, sa->cookie, sa->cookie_len);
    vpn_ikev2_bld_sa(&o.b, props, n_props);
    vpn_ikev2_bld_ke(&o.b, sa->dh_group, pub, pub_len);
    vpn_ikev2_bld_nonce(&o.b, sa->ni, sa->ni_len);
    write_natd(&o.b, sa->spi_i, zero, &sa->local, &sa->remote);
    /* RFC 7383 2.3 */
    vpn_ikev2_bld_notify(&o.b, 0, NULL, 0, VPN_IKEV2_N_IKEV2_FRAGMENTATION_SUPPORTED, NULL, 0);
    if (!ctx->params.no_rfc7427)
        vpn_ikev2_bld_notify(&o.b, 0, NULL, 0, VPN_IKEV2_N_SIGNATURE_HASH_ALGORITHMS, our_hashes,
                             sizeof our_hashes);
    if ((rc = ikev2_out_finish(ctx, sa, &o, out, &n)) != 0)
        return rc;
    /* RealMessage1 for the AUTH payload (2.15) is this exact message. */
    rc = ikev2_buf_set(ctx, &sa->init_req, out[0].p, out[0].len);
    if (rc != 0) {
        ikev2_buf_free(&out[0]);
        return rc;
    }
    ikev2_req_clear(sa);
    sa->req.task = IKEV2_T_INIT;
    sa->req.type = VPN_IKEV2_IKE_SA_INIT;
    sa->req.mid = 0;
    sa->req.msg[0] = out[0];
    sa->req.n_msg = 1;
    return 0;
}

static int new_dh(vpn_ikev2_ctx *ctx, ikev2_sa *sa)
{
    vpn_dh_del(sa->dh);
    sa->dh = NULL;
    return vpn_dh_new(&sa->dh, sa->dh_group, &ctx->params.rng);
}

/* build_i: a new SA's IKE_SA_INIT request (task INIT, no argument). */
static int init_build_i(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, ikev2_task task, uint32_t arg)
{
    int rc;

    (void)task;
    (void)arg;
    sa->phase = IKEV2_P_INIT_SENT;
    do {
        if ((rc = vpn_rng_bytes(&ctx->params.rng, sa->spi_i, 8)) != 0)
            return rc;
    } while (ikev2_spi64(sa->spi_i) == 0); /* RFC 7296 3.1: SPIs are never zero */
    ikev2_sa_index_spi(ctx, sa);
    memset(sa->spi_r, 0, 8);
    sa->ni_len = IKEV2_NONCE_LEN;
    if ((rc = vpn_rng_bytes(&ctx->params.rng, sa->ni, sa->ni_len)) != 0)
        return rc;
    sa->dh_group = ikev2_first_group(ctx->conf, &sa->local.addr);
    if (sa->dh_group == 0)
        return VPN_ERR_POLICY;
    if ((rc = new_dh(ctx, sa)) != 0)
        return rc;
    if ((rc = build_request(ctx, sa)) != 0)
        return rc;
    sa->mid_send = 1;
    ikev2_req_start(ctx, sa, now);
    return 0;
}

/* Sends IKE_SA_INIT again after COOKIE or INVALID_KE_PAYLOAD: a new
 * request with message ID 0, same SPIi and nonce. */
static void restart(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now)
{
    int rc = build_request(ctx, sa);
    if (rc != 0) {
        ikev2_internal_error(ctx, sa, now, rc, "rebuilding IKE_SA_INIT");
        return;
    }
    ikev2_req_start(ctx, sa, now);
}

static const vpn_ikev2_payload *first_error(const vpn_ikev2_msg *msg)
{
    for (size_t i = 0; i < msg->n; i++)
        if (msg->pl[i].type == VPN_IKEV2_PL_NOTIFY && vpn_ikev2_notify_is_error(msg->pl[i].u.notify.type))
            return &msg->pl[i];
    return NULL;
}

/* process_i: the answer to our IKE_SA_INIT (the core matched it by SPIi). */
static void init_process_i(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, const ikev2_in *in)
{
    const vpn_ikev2_msg *m = in->msg;
    const vpn_ikev2_payload *p, *sa_pl, *ke, *nr;
    vpn_ikev2_proposal offered[IKEV2_PROPS_MAX], chosen;
    size_t n_off;
    uint16_t group;
    int rc;

    /* RFC 7296 2.6: COOKIE: send the request again with it, first. */
    if ((p = vpn_ikev2_msg_find_notify(m, VPN_IKEV2_N_COOKIE, NULL)) != NULL) {
        size_t l = p->u.notify.data.len;
        if (l == 0 || l > IKEV2_COOKIE_MAX || sa->cookie_tries >= MAX_COOKIE_TRIES) {
            ctx->stats.dropped++;
            return; /* keep waiting (and retransmitting) for a real answer */
        }
        memcpy(sa->cookie, p->u.notify.data.ptr, l);
        sa->cookie_len = l;
        sa->cookie_tries++;
        IKEV2_LOG(ctx, VPN_LOG_INFO, "IKE SA %u: responder asks for a cookie", sa->id);
        restart(ctx, sa, now);
        return;
    }
    /* RFC 7296 1.2: INVALID_KE_PAYLOAD names the group the responder wants. */
    if ((p = vpn_ikev2_msg_find_notify(m, VPN_IKEV2_N_INVALID_KE_PAYLOAD, NULL)) != NULL) {
        uint16_t want = ikev2_invalid_ke_group(p);
        if (want == 0 || want == sa->dh_group || sa->ke_tries >= MAX_KE_TRIES ||
            !ikev2_group_offered(ctx->conf, &sa->local.addr, want)) {
            ikev2_sa_kill(ctx, sa, VPN_IKEV2_R_INVALID_KE, VPN_IKEV2_N_INVALID_KE_PAYLOAD,
                          "responder wants a group we do not offer");
            return;
        }
        IKEV2_LOG(ctx, VPN_LOG_INFO, "IKE SA %u: responder wants DH group %u, not %u", sa->id, want,
                  sa->dh_group);
        sa->ke_tries++;
        sa->dh_group = want;
        if ((rc = new_dh(ctx, sa)) != 0) {
            ikev2_internal_error(ctx, sa, now, rc, "IKE_SA_INIT retry (DH)");
            return;
        }
        restart(ctx, sa, now);
        return;
    }
    if ((p = first_error(m)) != NULL) {
        ikev2_sa_kill(ctx, sa, ikev2_reason_for(p->u.notify.type, IKEV2_NF_INIT), p->u.notify.type,
                      vpn_ikev2_notify_name(p->u.notify.type));
        return;
    }
    sa_pl = vpn_ikev2_msg_find(m, VPN_IKEV2_PL_SA, NULL);
    ke = vpn_ikev2_msg_find(m, VPN_IKEV2_PL_KE, NULL);
    nr = vpn_ikev2_msg_find(m, VPN_IKEV2_PL_NONCE, NULL);
    if (sa_pl == NULL || ke == NULL || nr == NULL || in->hdr.spi_r == 0) {
        /* Unauthenticated garbage: ignore it and wait for the real answer
         * (an attacker must not be able to kill our attempt this way). */
        ctx->stats.dropped++;
        return;
    }
    n_off = ikev2_ike_offer(ctx->conf, &sa->local.addr, sa->dh_group, offered, IKEV2_PROPS_MAX);
    if (vpn_ikev2_proposal_check_reply(sa_pl, offered, n_off, &chosen) != 0 ||
        suite_from(&chosen, &sa->suite, &group) != 0 || group != sa->dh_group ||
        ke->u.ke.group != group || vpn_ikev2_ke_check(ke) != 0 ||
        nr->u.nonce.data.len < VPN_IKEV2_NONCE_MIN || nr->u.nonce.data.len > VPN_IKEV2_NONCE_MAX) {
        ctx->stats.dropped++;
        IKEV2_LOG(ctx, VPN_LOG_WARN, "IKE SA %u: unacceptable IKE_SA_INIT response ignored", sa->id);
        return;
    }
    ikev2_spi_store(sa->spi_r, in->hdr.spi_r);
    memcpy(sa->nr, nr->u.nonce.data.ptr, nr->u.nonce.data.len);
    sa->nr_len = nr->u.nonce.data.len;
    if ((rc = ikev2_derive_ike_keys(ctx, sa, ke->u.ke.data.ptr, ke->u.ke.data.len)) == VPN_ERR_NOMEM) {
        /* ours, not the peer's: the cipher and MAC contexts were not made */
        ikev2_internal_error(ctx, sa, now, rc, "deriving the IKE SA keys");
        return;
    }
    if (rc != 0) {
        /* RFC 6989: an invalid public value; treat as a forged answer */
        memset(sa->spi_r, 0, 8);
        ctx->stats.dropped++;
        IKEV2_LOG(ctx, VPN_LOG_WARN, "IKE SA %u: responder's KE refused (%s)", sa->id, vpn_strerror(rc));
        return;
    }
    if ((rc = ikev2_buf_set(ctx, &sa->init_resp, in->raw, in->raw_len)) != 0) {
        ikev2_internal_error(ctx, sa, now, rc, "keeping the IKE_SA_INIT response");
        return;
    }
    nat_detect(sa, m, sa->spi_i, sa->spi_r);
    sa->peer_frag = vpn_ikev2_msg_find_notify(m, VPN_IKEV2_N_IKEV2_FRAGMENTATION_SUPPORTED, NULL) != NULL;
    read_hashes(ctx, sa, m);
    if (sa->nat_local || sa->nat_remote) {
        /* RFC 7296 2.23: after a NAT is detected, IKE moves to port 4500 */
        sa->natt = true;
        sa->local.port = VPN_IKEV2_NATT_PORT;
        sa->remote.port = VPN_IKEV2_NATT_PORT;
        IKEV2_LOG(ctx, VPN_LOG_INFO, "IKE SA %u: NAT detected (%s), moving to port 4500", sa->id,
                  sa->nat_local ? "in front of us" : "in front of the peer");
    }
    ikev2_req_clear(sa);
    if ((rc = ikev2_auth_start(ctx, sa, now)) != 0 && sa->phase != IKEV2_P_DEAD) {
        if (rc == VPN_ERR_POLICY)
            ikev2_sa_kill(ctx, sa, VPN_IKEV2_R_NO_POLICY, 0, vpn_strerror(rc));
        else
            ikev2_internal_error(ctx, sa, now, rc, "starting IKE_AUTH");
    }
}

/* ---- responder ------------------------------------------------------------------- */

static bool cookie_valid(vpn_ikev2_ctx *ctx, const vpn_ikev2_payload *c, vpn_iov ni,
                         const vpn_ikev2_endpoint *remote, const uint8_t spi_i[8])
{
    uint8_t want[VPN_IKEV2_COOKIE_LEN];

    if (c == NULL || c->u.notify.data.len != VPN_IKEV2_COOKIE_LEN)
        return false;
    /* the first octet says which of our two secrets made it */
    for (int k = 0; k < 2; k++) {
        uint8_t ver = (uint8_t)(ctx->cookie_version - k);
        if (c->u.notify.data.ptr[0] != ver)
            continue;
        if (vpn_ikev2_cookie_make(ver, ctx->cookie_secret[k], ni, remote->addr.b,
                                  vpn_addr_len(&remote->addr), spi_i, want) == 0 &&
            CRYPTO_memcmp(want, c->u.notify.data.ptr, sizeof want) == 0)
            return true;
    }
    return false;
}

/* process_r: an IKE_SA_INIT request, which no SA has yet (sa NULL): the
 * SA is made here, once the request is acceptable. */
static void init_process_r(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, const ikev2_in *in)
{
    const vpn_ikev2_endpoint *local = in->local, *remote = in->remote;
    const vpn_ikev2_msg *m = in->msg;
    const vpn_ikev2_payload *sa_pl, *ke, *ni;
    vpn_ikev2_proposal ours[IKEV2_PROPS_MAX], chosen;
    size_t n_ours;
    uint8_t spi_i[8], zero[8] = {0};
    unsigned half_open = 0;
    vpn_iov vni;
    ikev2_out o;
    ikev2_buf out[1];
    size_t n = 0, pub_len = 0;
    const uint8_t *pub;
    uint16_t group;
    int rc;

    if (sa != NULL || local == NULL || remote == NULL) {
        /* an IKE_SA_INIT inside an SA (never routed here: the core reads
         * IKE_SA_INIT before looking SAs up) is a request of no exchange
         * the SA runs (RFC 7296 3.1) */
        if (sa != NULL)
            ikev2_respond_notify(ctx, sa, in, VPN_IKEV2_N_INVALID_SYNTAX, 0, NULL, 0, NULL, 0);
        return;
    }
    ikev2_spi_store(spi_i, in->hdr.spi_i);
    sa_pl = vpn_ikev2_msg_find(m, VPN_IKEV2_PL_SA, NULL);
    ke = vpn_ikev2_msg_find(m, VPN_IKEV2_PL_KE, NULL);
    ni = vpn_ikev2_msg_find(m, VPN_IKEV2_PL_NONCE, NULL);
    if (sa_pl == NULL || ke == NULL || ni == NULL || ni->u.nonce.data.len < VPN_IKEV2_NONCE_MIN ||
        ni->u.nonce.data.len > VPN_IKEV2_NONCE_MAX) {
        /* RFC 7296 2.21.1: a request missing mandatory payloads */
        ikev2_send_notify_plain(ctx, local, remote, &in->hdr, VPN_IKEV2_N_INVALID_SYNTAX, NULL, 0);
        return;
    }
    vni.p = ni->u.nonce.data.ptr;
    vni.len = ni->u.nonce.data.len;
    half_open = ikev2_half_open_in(ctx);
    if (half_open >= ctx->params.max_half_open_in) {
        /* IOS's in-negotiation limit: refuse without state */
        ctx->stats.half_open_rejected++;
        ctx->stats.dropped++;
        return;
    }
    /* RFC 7296 2.6: under load, ask for a cookie before keeping state. */
    if (ctx->conf->cookie_challenge && half_open >= ctx->conf->cookie_challenge &&
        !cookie_valid(ctx, vpn_ikev2_msg_find_notify(m, VPN_IKEV2_N_COOKIE, NULL), vni, remote, spi_i)) {
        uint8_t c[VPN_IKEV2_COOKIE_LEN];
        if (vpn_ikev2_cookie_make(ctx->cookie_version, ctx->cookie_secret[0], vni, remote->addr.b,
                                  vpn_addr_len(&remote->addr), spi_i, c) == 0) {
            ctx->stats.cookies_sent++;
            ikev2_send_notify_plain(ctx, local, remote, &in->hdr, VPN_IKEV2_N_COOKIE, c, sizeof c);
        }
        return;
    }
    /* RFC 7296 1.2: prefer a proposal with the group of the KE we got;
     * else tell the initiator which group to use. */
    n_ours = ikev2_ike_proposals(ctx->conf, &local->addr, ke->u.ke.group, ours, IKEV2_PROPS_MAX);
    rc = n_ours ? vpn_ikev2_proposal_select(sa_pl, ours, n_ours, 0, &chosen, NULL) : VPN_ERR_NOTFOUND;
    if (rc != 0) {
        vpn_ikev2_proposal all[IKEV2_PROPS_MAX];
        size_t n_all = ikev2_ike_offer(ctx->conf, &local->addr, 0, all, IKEV2_PROPS_MAX);
        if (n_all && vpn_ikev2_proposal_select(sa_pl, all, n_all, 0, &chosen, NULL) == 0 &&
            (group = ikev2_prop_id(&chosen, VPN_IKEV2_XF_DH, NULL)) != 0) {
            uint8_t g[2];
            vpn_store16(g, group);
            ikev2_send_notify_plain(ctx, local, remote, &in->hdr, VPN_IKEV2_N_INVALID_KE_PAYLOAD, g, 2);
        } else {
            ikev2_send_notify_plain(ctx, local, remote, &in->hdr, VPN_IKEV2_N_NO_PROPOSAL_CHOSEN, NULL, 0);
            ikev2_emit(ctx, NULL, VPN_IKEV2_EV_FAILED, VPN_IKEV2_R_NO_PROPOSAL,
                       VPN_IKEV2_N_NO_PROPOSAL_CHOSEN, NULL, 0, "no acceptable IKE proposal");
        }
        return;
    }
    if (vpn_ikev2_ke_check(ke) != 0) {
        /* RFC 7296 3.4: the KE length is fixed by its group */
        ikev2_send_notify_plain(ctx, local, remote, &in->hdr, VPN_IKEV2_N_INVALID_SYNTAX, NULL, 0);
        return;
    }
    if ((sa = ikev2_sa_new(ctx, now, false, local, remote)) == NULL) {
        ikev2_internal_error(ctx, NULL, now, VPN_ERR_NOMEM, "IKE_SA_INIT responder state");
        return;
    }
    memcpy(sa->spi_i, spi_i, 8);
    ikev2_sa_index_spi(ctx, sa);
    do {
        if ((rc = vpn_rng_bytes(&ctx->params.rng, sa->spi_r, 8)) != 0)
            goto internal;
    } while (ikev2_spi64(sa->spi_r) == 0);
    memcpy(sa->ni, vni.p, vni.len);
    sa->ni_len = vni.len;
    sa->nr_len = IKEV2_NONCE_LEN;
    if ((rc = suite_from(&chosen, &sa->suite, &sa->dh_group)) != 0 ||
        (rc = vpn_rng_bytes(&ctx->params.rng, sa->nr, sa->nr_len)) != 0 ||
        (rc = vpn_dh_new(&sa->dh, sa->dh_group, &ctx->params.rng)) != 0)
        goto internal;
    pub = vpn_dh_public(sa->dh, &pub_len);
    if ((rc = ikev2_buf_set(ctx, &sa->init_req, in->raw, in->raw_len)) != 0)
        goto internal;
    /* the public value goes into the response before the DH context is
     * dropped by the key derivation: build the response first */
    memset(out, 0, sizeof out);
    ikev2_out_begin(ctx, sa, &o, VPN_IKEV2_IKE_SA_INIT, 0, true, false);
    {
        vpn_ikev2_proposal reply = chosen;
        vpn_ikev2_bld_sa(&o.b, &reply, 1);
    }
    vpn_ikev2_bld_ke(&o.b, sa->dh_group, pub, pub_len);
    vpn_ikev2_bld_nonce(&o.b, sa->nr, sa->nr_len);
    write_natd(&o.b, sa->spi_i, sa->spi_r, local, remote);
    vpn_ikev2_bld_notify(&o.b, 0, NULL, 0, VPN_IKEV2_N_IKEV2_FRAGMENTATION_SUPPORTED, NULL, 0);
    if (!ctx->params.no_rfc7427)
        vpn_ikev2_bld_notify(&o.b, 0, NULL, 0, VPN_IKEV2_N_SIGNATURE_HASH_ALGORITHMS, our_hashes,
                             sizeof our_hashes);
    {
        /* RFC 7296 3.7: the CAs we trust (the profile is not known yet:
         * all trustpoints) */
        uint8_t cr[20 * 32];
        size_t cl = 0;
        if (ikev2_certreq_data(ctx, NULL, cr, sizeof cr, &cl) == 0)
            vpn_ikev2_bld_cert(&o.b, VPN_IKEV2_PL_CERTREQ, VPN_IKEV2_CERT_X509_SIG, cr, cl);
    }
    if ((rc = ikev2_out_finish(ctx, sa, &o, out, &n)) != 0)
        goto internal;
    sa->init_resp = out[0];
    if ((rc = ikev2_derive_ike_keys(ctx, sa, ke->u.ke.data.ptr, ke->u.ke.data.len)) == VPN_ERR_NOMEM)
        goto internal; /* ours, not the peer's KE */
    if (rc != 0) {
        /* RFC 6989: the peer's public value failed the checks */
        IKEV2_LOG(ctx, VPN_LOG_WARN, "IKE_SA_INIT from peer: KE refused (%s)", vpn_strerror(rc));
        ikev2_send_notify_plain(ctx, local, remote, &in->hdr, VPN_IKEV2_N_INVALID_SYNTAX, NULL, 0);
        ikev2_sa_mark_dead(ctx, sa);
        return;
    }
    /* the request carried SPIr = 0 in its NAT-D hashes */
    nat_detect(sa, m, sa->spi_i, zero);
    sa->peer_frag = vpn_ikev2_msg_find_notify(m, VPN_IKEV2_N_IKEV2_FRAGMENTATION_SUPPORTED, NULL) != NULL;
    read_hashes(ctx, sa, m);
    sa->phase = IKEV2_P_HALF_OPEN;
    ikev2_half_open_add(ctx, sa);
    sa->half_open_until = now + IKEV2_HALF_OPEN_LIFE_NS;
    sa->mid_recv = 1;
    ikev2_send_raw(ctx, local, remote, sa->id, sa->init_resp.p, sa->init_resp.len);
    ctx->stats.out_responses++;
    return;
internal:
    /* the peer retransmits and gets a fresh try */
    ikev2_internal_error(ctx, sa, now, rc, "IKE_SA_INIT response");
}

const ikev2_exch_ops ikev2_init_ops = {
    "IKE_SA_INIT", init_build_i, init_process_i, init_process_r, NULL,
};
