/*
 * IKE_AUTH (RFC 7296 1.2, 2.15, 2.16): identities, authentication (PSK
 * with asymmetric keys from the keyring as FlexVPN allows, or signatures
 * with certificates, see ikev2-cert.c; each side may use either), and the
 * first CHILD_SA.
 *
 *   Initiator                         Responder
 *   HDR, SK {IDi, [CERT+], [N(INITIAL_CONTACT)], [CERTREQ], AUTH, SAi2,
 *            TSi, TSr, [N(USE_TRANSPORT_MODE)]}  -->
 *                                <--  HDR, SK {IDr, [CERT+], AUTH, SAr2, TSi, TSr}
 *
 * Failures: a bad AUTH at the responder is answered with
 * AUTHENTICATION_FAILED and no IKE SA remains (2.21.2); a bad AUTH at the
 * initiator is reported to the responder in an INFORMATIONAL exchange and
 * the SA deleted. A CHILD_SA that cannot be agreed (NO_PROPOSAL_CHOSEN,
 * TS_UNACCEPTABLE) leaves the IKE SA up (2.21.2); the initiator then
 * deletes it, since a FlexVPN tunnel without an IPsec SA carries nothing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/vpn-err.h"
#include "ikev2/ikev2-eng.h"

/* The ID payload body that AUTH covers: type, three reserved octets, data
 * (RestOfInitIDPayload, RFC 7296 2.15). */
static size_t id_body(const ikev2_id *id, uint8_t *out)
{
    out[0] = id->type;
    out[1] = out[2] = out[3] = 0;
    memcpy(out + 4, id->data, id->len);
    return 4 + id->len;
}

/*
 * The AUTH value one side sends with a PSK: real_msg is that side's
 * IKE_SA_INIT message, peer_nonce the other side's nonce, sk_p that side's
 * SK_p key.
 */
static int psk_auth(const ikev2_sa *sa, const char *psk, const ikev2_buf *real_msg,
                    const uint8_t *peer_nonce, size_t peer_nonce_len, const vpn_key *sk_p,
                    const ikev2_id *id, uint8_t *out, size_t *out_len)
{
    uint8_t body[4 + IKEV2_ID_MAX];
    vpn_iov k = {(const uint8_t *)psk, strlen(psk)}, m = {real_msg->p, real_msg->len},
            n = {peer_nonce, peer_nonce_len}, b;

    b.p = body;
    b.len = id_body(id, body);
    return vpn_ikev2_auth_psk(sa->suite.prf, k, m, n, sk_p, b, out, VPN_PRF_MAX_LEN, out_len);
}

static const vpn_key *sk_p_of(const ikev2_sa *sa, bool initiator_side)
{
    return initiator_side ? &sa->cr.keys.sk_pi : &sa->cr.keys.sk_pr;
}

/* The octets a signer signs (RFC 7296 2.15), in a fresh buffer. */
static uint8_t *signed_octets(const ikev2_sa *sa, bool initiator_side, const ikev2_id *id, size_t *len)
{
    const ikev2_buf *real = initiator_side ? &sa->init_req : &sa->init_resp;
    const uint8_t *nonce = initiator_side ? sa->nr : sa->ni;
    size_t nonce_len = initiator_side ? sa->nr_len : sa->ni_len;
    uint8_t body[4 + IKEV2_ID_MAX];
    size_t cap = real->len + nonce_len + VPN_PRF_MAX_LEN;
    uint8_t *out = malloc(cap);
    vpn_iov m = {real->p, real->len}, n = {nonce, nonce_len}, b = {body, id_body(id, body)};

    if (out == NULL)
        return NULL;
    if (vpn_ikev2_signed_octets(sa->suite.prf, m, n, sk_p_of(sa, initiator_side), b, out, cap, len) != 0) {
        free(out);
        return NULL;
    }
    return out;
}

#define AUTH_MAX 1100 /* RSA-8192 signature with its AlgorithmIdentifier */

/* Our AUTH data, by the profile's `authentication local`. peer_cid helps
 * find the keyring entry (NULL before we know the peer's identity). */
static int make_auth(vpn_ikev2_ctx *ctx, ikev2_sa *sa, const vpn_conf_identity *peer_cid,
                     bool initiator_side, uint8_t *method, uint8_t *out, size_t *len)
{
    const ikev2_buf *real = initiator_side ? &sa->init_req : &sa->init_resp;
    const uint8_t *nonce = initiator_side ? sa->nr : sa->ni;
    size_t nonce_len = initiator_side ? sa->nr_len : sa->ni_len;
    int rc;

    if (sa->profile->auth_local == VPN_CONF_AUTH_PSK) {
        const char *psk = ikev2_psk_local(ctx->conf, sa->profile, &sa->remote.addr, peer_cid);
        if (psk == NULL) {
            IKEV2_LOG(ctx, VPN_LOG_WARN, "IKE SA %u: no local pre-shared key for the peer", sa->id);
            return VPN_ERR_POLICY;
        }
        *method = VPN_AUTH_METHOD_PSK;
        sa->auth_local_kind = VPN_CONF_AUTH_PSK;
        return psk_auth(sa, psk, real, nonce, nonce_len, sk_p_of(sa, initiator_side), &sa->id_local, out, len);
    }
    if (ikev2_profile_signs(sa->profile)) {
        size_t ol = 0;
        uint8_t *oct = signed_octets(sa, initiator_side, &sa->id_local, &ol);
        if (oct == NULL)
            return VPN_ERR_NOMEM;
        rc = ikev2_cert_sign(ctx, sa, oct, ol, method, out, AUTH_MAX, len, &sa->auth_local_kind);
        free(oct);
        if (rc != 0)
            IKEV2_LOG(ctx, VPN_LOG_WARN, "IKE SA %u: cannot sign our AUTH (%s)", sa->id, vpn_strerror(rc));
        return rc;
    }
    return VPN_ERR_UNSUPPORTED;
}

/* The peer's AUTH (signer_initiator: the peer is the initiator). On
 * failure *why says why. */
static int check_auth(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, const vpn_ikev2_payload *auth,
                      const ikev2_peer_certs *pc, const vpn_conf_identity *cid, bool signer_initiator,
                      const char **why)
{
    uint8_t m = auth->u.auth.method;

    if (m == VPN_AUTH_METHOD_PSK) {
        const ikev2_buf *real = signer_initiator ? &sa->init_req : &sa->init_resp;
        const uint8_t *nonce = signer_initiator ? sa->nr : sa->ni;
        size_t nonce_len = signer_initiator ? sa->nr_len : sa->ni_len;
        uint8_t want[VPN_PRF_MAX_LEN];
        size_t want_len = 0;
        const char *psk;
        bool ok;

        *why = "pre-shared key authentication not allowed by the profile";
        if (!ikev2_profile_accepts_auth(sa->profile, VPN_CONF_AUTH_PSK))
            return VPN_ERR_AUTH;
        *why = "no remote pre-shared key for the peer";
        if ((psk = ikev2_psk_remote(ctx->conf, sa->profile, &sa->remote.addr, cid)) == NULL)
            return VPN_ERR_AUTH;
        ok = psk_auth(sa, psk, real, nonce, nonce_len, sk_p_of(sa, signer_initiator), &sa->id_remote, want,
                      &want_len) == 0 &&
             auth->u.auth.data.len == want_len && CRYPTO_memcmp(want, auth->u.auth.data.ptr, want_len) == 0;
        OPENSSL_cleanse(want, sizeof want);
        *why = "peer's AUTH does not verify";
        if (!ok)
            return VPN_ERR_AUTH;
        sa->auth_remote_kind = VPN_CONF_AUTH_PSK;
        sa->auth_remote = m;
        return 0;
    }
    if (m == VPN_AUTH_METHOD_DIGITAL_SIG || m == VPN_AUTH_METHOD_RSA_SIG || m == VPN_AUTH_METHOD_ECDSA_256 ||
        m == VPN_AUTH_METHOD_ECDSA_384 || m == VPN_AUTH_METHOD_ECDSA_521) {
        size_t ol = 0;
        uint8_t *oct = signed_octets(sa, signer_initiator, &sa->id_remote, &ol);
        int rc;
        *why = "out of memory";
        if (oct == NULL)
            return VPN_ERR_AUTH;
        rc = ikev2_cert_verify(ctx, sa, now, pc, &sa->id_remote, m, auth->u.auth.data.ptr, auth->u.auth.data.len,
                               oct, ol, why);
        free(oct);
        if (rc == 0)
            sa->auth_remote = m;
        return rc;
    }
    *why = "authentication method not supported";
    return VPN_ERR_AUTH;
}

static void arm_ike_lifetime(ikev2_sa *sa, uint64_t now)
{
    uint64_t life = (uint64_t)(sa->profile && sa->profile->lifetime_s ? sa->profile->lifetime_s
                                                                        : VPN_CONF_IKE_LIFETIME_S) * NS_PER_S;
    /* The original initiator rekeys first (at 90%), the responder later
     * (95%), so that both rarely start at once (2.8.1 still handles it). */
    sa->rekey_at = now + (sa->initiator ? life / 10 * 9 : life / 20 * 19);
    sa->expire_at = now + life;
}

void ikev2_sa_established(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now)
{
    uint32_t ka;

    sa->phase = IKEV2_P_ESTABLISHED;
    sa->established = now;
    sa->half_open_until = 0;
    sa->last_recv = now;
    arm_ike_lifetime(sa, now);
    /* RFC 3948 4: a node behind a NAT keeps its mapping alive */
    ka = sa->profile && sa->profile->nat_keepalive_s ? sa->profile->nat_keepalive_s : ctx->conf->nat_keepalive_s;
    sa->keepalive_at = sa->nat_local && ka ? now + (uint64_t)ka * NS_PER_S : 0;
    {
        char l[VPN_CONF_ID_MAX], r[VPN_CONF_ID_MAX];
        ikev2_id_text(&sa->id_local, l, sizeof l);
        ikev2_id_text(&sa->id_remote, r, sizeof r);
        if (sa->dn_local[0])
            snprintf(l, sizeof l, "%s", sa->dn_local);
        if (sa->dn_remote[0])
            snprintf(r, sizeof r, "%s", sa->dn_remote);
        IKEV2_LOG(ctx, VPN_LOG_INFO, "IKE SA %u established between %s and %s (profile %s)", sa->id, l, r,
                  sa->profile ? sa->profile->name : "-");
    }
    ikev2_emit(ctx, sa, VPN_IKEV2_EV_IKE_UP, VPN_IKEV2_R_NONE, 0, NULL, 0, NULL);
}

static int read_id(const vpn_ikev2_payload *p, ikev2_id *out)
{
    if (p == NULL || p->u.id.data.len == 0 || p->u.id.data.len > IKEV2_ID_MAX)
        return VPN_ERR_MALFORMED;
    memset(out, 0, sizeof *out);
    out->type = p->u.id.type;
    out->len = p->u.id.data.len;
    memcpy(out->data, p->u.id.data.ptr, out->len);
    return 0;
}

/* RFC 7296 2.4: INITIAL_CONTACT: older IKE SAs with this peer identity
 * are stale; delete them without ceremony. */
static void initial_contact(vpn_ikev2_ctx *ctx, const ikev2_sa *sa)
{
    for (size_t i = 0; i < ctx->n_sa; i++) {
        ikev2_sa *o = ctx->sa[i];
        if (o == sa || o->phase != IKEV2_P_ESTABLISHED || o->id_remote.type != sa->id_remote.type ||
            o->id_remote.len != sa->id_remote.len ||
            memcmp(o->id_remote.data, sa->id_remote.data, o->id_remote.len) != 0 ||
            o->profile != sa->profile)
            continue;
        ikev2_sa_kill(ctx, o, VPN_IKEV2_R_PEER_DELETE, VPN_IKEV2_N_INITIAL_CONTACT,
                      "peer restarted (INITIAL_CONTACT)");
    }
}

/* ---- initiator -------------------------------------------------------------------- */

int ikev2_auth_start(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now)
{
    uint8_t auth[AUTH_MAX], method = 0;
    size_t auth_len = 0, n = 0;
    ikev2_child_req *creq = &sa->req.creq;
    ikev2_out o;
    int rc;

    if (sa->profile == NULL)
        return VPN_ERR_POLICY;
    if ((rc = ikev2_cert_id_local(ctx, sa->profile, &sa->local.addr, &sa->id_local)) != 0)
        return rc;
    if (sa->id_local.type == VPN_IKEV2_ID_DER_ASN1_DN)
        snprintf(sa->dn_local, sizeof sa->dn_local, "%s", ikev2_cert_local_dn(ctx, sa->profile));
    /* AUTH of the initiator: RealMessage1 | Nr | prf(SK_pi, IDi') */
    if ((rc = make_auth(ctx, sa, NULL, true, &method, auth, &auth_len)) != 0)
        return rc;
    sa->auth_local = method;
    memset(creq, 0, sizeof *creq);
    if ((rc = ikev2_child_offer(ctx, sa, sa->policy, 0, NULL, creq)) != 0)
        return rc;
    ikev2_out_begin(ctx, sa, &o, VPN_IKEV2_IKE_AUTH, sa->mid_send, false, true);
    vpn_ikev2_bld_id(&o.b, VPN_IKEV2_PL_IDI, sa->id_local.type, sa->id_local.data, sa->id_local.len);
    if (method != VPN_AUTH_METHOD_PSK)
        ikev2_cert_write(ctx, sa->profile, &o.b);
    vpn_ikev2_bld_notify(&o.b, 0, NULL, 0, VPN_IKEV2_N_INITIAL_CONTACT, NULL, 0);
    if (ikev2_profile_verifies_sigs(sa->profile)) {
        /* RFC 7296 3.7: the CAs we trust, so the responder picks its certificate */
        uint8_t cr[20 * 32];
        size_t cl = 0;
        if (ikev2_certreq_data(ctx, sa->profile, cr, sizeof cr, &cl) == 0)
            vpn_ikev2_bld_cert(&o.b, VPN_IKEV2_PL_CERTREQ, VPN_IKEV2_CERT_X509_SIG, cr, cl);
    }
    vpn_ikev2_bld_auth(&o.b, method, auth, auth_len);
    OPENSSL_cleanse(auth, sizeof auth);
    ikev2_child_offer_write(&o.b, creq);
    sa->req.new_spi = creq->spi;
    rc = ikev2_out_finish(ctx, sa, &o, sa->req.msg, &n);
    if (rc != 0)
        return rc;
    sa->req.n_msg = n;
    sa->req.task = IKEV2_T_AUTH;
    sa->req.type = VPN_IKEV2_IKE_AUTH;
    sa->req.mid = sa->mid_send++;
    sa->phase = IKEV2_P_AUTH_SENT;
    ikev2_req_start(ctx, sa, now);
    return 0;
}

/* RFC 7296 2.21.2: tell the responder its AUTH failed, then forget the SA. */
static void initiator_auth_failed(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, const char *why)
{
    ikev2_req_clear(sa);
    sa->phase = IKEV2_P_ESTABLISHED; /* for the INFORMATIONAL to go out under it */
    ikev2_sa_close(ctx, sa, now, VPN_IKEV2_R_AUTH_FAILED, VPN_IKEV2_N_AUTHENTICATION_FAILED, why,
                   IKEV2_T_AUTH_FAILED);
}

void ikev2_auth_response(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, const ikev2_in *in)
{
    const vpn_ikev2_msg *m = in->msg;
    const vpn_ikev2_payload *idr, *auth, *err = NULL;
    vpn_conf_identity cid;
    ikev2_peer_certs pc;
    const char *why = NULL;
    ikev2_child c;
    uint16_t child_err;

    if (vpn_ikev2_msg_find_notify(m, VPN_IKEV2_N_AUTHENTICATION_FAILED, NULL)) {
        /* RFC 7296 2.21.2: the responder kept nothing; neither do we */
        ikev2_req_clear(sa);
        ikev2_sa_kill(ctx, sa, VPN_IKEV2_R_PEER_AUTH_FAILED, VPN_IKEV2_N_AUTHENTICATION_FAILED,
                      "responder rejected our authentication");
        return;
    }
    idr = vpn_ikev2_msg_find(m, VPN_IKEV2_PL_IDR, NULL);
    auth = vpn_ikev2_msg_find(m, VPN_IKEV2_PL_AUTH, NULL);
    for (size_t i = 0; i < m->n && err == NULL; i++)
        if (m->pl[i].type == VPN_IKEV2_PL_NOTIFY && vpn_ikev2_notify_is_error(m->pl[i].u.notify.type))
            err = &m->pl[i];
    if (idr == NULL || auth == NULL) {
        uint16_t t = err ? err->u.notify.type : 0;
        ikev2_req_clear(sa);
        ikev2_sa_kill(ctx, sa, err ? VPN_IKEV2_R_PEER_ERROR : VPN_IKEV2_R_PROTOCOL, t,
                      err ? vpn_ikev2_notify_name(t) : "IKE_AUTH response without IDr and AUTH");
        return;
    }
    ikev2_peer_certs_load(m, &pc);
    if (read_id(idr, &sa->id_remote) != 0 || ikev2_cert_id_to_conf(&sa->id_remote, &pc, &cid) != 0 ||
        !vpn_conf_profile_matches(sa->profile, &cid)) {
        ikev2_peer_certs_free(&pc);
        initiator_auth_failed(ctx, sa, now, "responder identity does not match the profile");
        return;
    }
    /* AUTH of the responder: RealMessage2 | Ni | prf(SK_pr, IDr') */
    if (check_auth(ctx, sa, now, auth, &pc, &cid, false, &why) != 0) {
        ikev2_peer_certs_free(&pc);
        initiator_auth_failed(ctx, sa, now, why);
        return;
    }
    ikev2_peer_certs_free(&pc);
    if (cid.type == VPN_CONF_ID_DN)
        snprintf(sa->dn_remote, sizeof sa->dn_remote, "%s", cid.value);
    ikev2_sa_established(ctx, sa, now);
    /* the first CHILD_SA */
    memset(&c, 0, sizeof c);
    child_err = ikev2_child_check(ctx, sa, m, &sa->req.creq, &c);
    if (child_err == 0) {
        vpn_iov ni = {sa->ni, sa->ni_len}, nr = {sa->nr, sa->nr_len}, none = {NULL, 0};
        if (ikev2_child_keys(sa, &c, true, none, ni, nr) != 0)
            child_err = VPN_IKEV2_N_INVALID_SYNTAX;
    }
    ikev2_req_clear(sa);
    if (child_err == 0) {
        ikev2_child_install(ctx, sa, &c, now, 0);
    } else {
        vpn_ikev2_reason r = child_err == VPN_IKEV2_N_TS_UNACCEPTABLE ? VPN_IKEV2_R_TS_UNACCEPTABLE
                           : child_err == VPN_IKEV2_N_NO_PROPOSAL_CHOSEN ? VPN_IKEV2_R_NO_PROPOSAL
                                                                         : VPN_IKEV2_R_PEER_ERROR;
        ikev2_emit(ctx, sa, VPN_IKEV2_EV_FAILED, r, child_err, NULL, 0, "first CHILD_SA not created");
        IKEV2_LOG(ctx, VPN_LOG_WARN, "IKE SA %u: CHILD_SA failed (%s); deleting the IKE SA", sa->id,
                  vpn_ikev2_notify_name(child_err));
        ikev2_sa_close(ctx, sa, now, r, child_err, "no CHILD_SA", IKEV2_T_IKE_DELETE);
    }
    OPENSSL_cleanse(&c, sizeof c);
}

/* ---- responder ------------------------------------------------------------------- */

static void responder_fail(vpn_ikev2_ctx *ctx, ikev2_sa *sa, const ikev2_in *in, vpn_ikev2_reason r,
                           const char *why)
{
    /* RFC 7296 2.21.2: AUTHENTICATION_FAILED in the response, no SA kept */
    ikev2_respond_notify(ctx, sa, in, VPN_IKEV2_N_AUTHENTICATION_FAILED, 0, NULL, 0, NULL, 0);
    ikev2_sa_kill(ctx, sa, r, VPN_IKEV2_N_AUTHENTICATION_FAILED, why);
}

void ikev2_auth_respond(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, const ikev2_in *in)
{
    const vpn_ikev2_msg *m = in->msg;
    const vpn_ikev2_payload *idi, *auth;
    vpn_conf_identity cid;
    ikev2_peer_certs pc;
    const char *why = NULL;
    uint8_t mine[AUTH_MAX], method = 0;
    size_t mine_len = 0;
    ikev2_child c;
    uint16_t child_err = 0;
    bool want_child;
    ikev2_out o;

    idi = vpn_ikev2_msg_find(m, VPN_IKEV2_PL_IDI, NULL);
    auth = vpn_ikev2_msg_find(m, VPN_IKEV2_PL_AUTH, NULL);
    if (idi == NULL || auth == NULL || read_id(idi, &sa->id_remote) != 0) {
        /* RFC 7296 2.21.2: mandatory payloads missing */
        ikev2_respond_notify(ctx, sa, in, VPN_IKEV2_N_INVALID_SYNTAX, 0, NULL, 0, NULL, 0);
        ikev2_sa_kill(ctx, sa, VPN_IKEV2_R_PROTOCOL, VPN_IKEV2_N_INVALID_SYNTAX,
                      "IKE_AUTH request without IDi or AUTH");
        return;
    }
    ikev2_peer_certs_load(m, &pc);
    if (ikev2_cert_id_to_conf(&sa->id_remote, &pc, &cid) != 0 ||
        (sa->profile = ikev2_profile_for_peer(ctx->conf, &sa->local.addr, &cid)) == NULL) {
        ikev2_peer_certs_free(&pc);
        responder_fail(ctx, sa, in, VPN_IKEV2_R_NO_POLICY, "no ikev2 profile matches the peer identity");
        return;
    }
    /* AUTH of the initiator: RealMessage1 | Nr | prf(SK_pi, IDi') */
    if (check_auth(ctx, sa, now, auth, &pc, &cid, true, &why) != 0) {
        ikev2_peer_certs_free(&pc);
        responder_fail(ctx, sa, in, VPN_IKEV2_R_AUTH_FAILED, why);
        return;
    }
    ikev2_peer_certs_free(&pc);
    if (cid.type == VPN_CONF_ID_DN)
        snprintf(sa->dn_remote, sizeof sa->dn_remote, "%s", cid.value);
    /* our own identity and AUTH: RealMessage2 | Ni | prf(SK_pr, IDr') */
    if (ikev2_cert_id_local(ctx, sa->profile, &sa->local.addr, &sa->id_local) != 0 ||
        make_auth(ctx, sa, &cid, false, &method, mine, &mine_len) != 0) {
        responder_fail(ctx, sa, in, VPN_IKEV2_R_NO_POLICY, "no local credentials for this peer");
        return;
    }
    if (sa->id_local.type == VPN_IKEV2_ID_DER_ASN1_DN)
        snprintf(sa->dn_local, sizeof sa->dn_local, "%s", ikev2_cert_local_dn(ctx, sa->profile));
    sa->auth_local = method;
    if (vpn_ikev2_msg_find_notify(m, VPN_IKEV2_N_INITIAL_CONTACT, NULL))
        initial_contact(ctx, sa);

    ikev2_out_begin(ctx, sa, &o, VPN_IKEV2_IKE_AUTH, in->hdr.msg_id, true, true);
    vpn_ikev2_bld_id(&o.b, VPN_IKEV2_PL_IDR, sa->id_local.type, sa->id_local.data, sa->id_local.len);
    if (method != VPN_AUTH_METHOD_PSK)
        ikev2_cert_write(ctx, sa->profile, &o.b);
    vpn_ikev2_bld_auth(&o.b, method, mine, mine_len);
    OPENSSL_cleanse(mine, sizeof mine);
    memset(&c, 0, sizeof c);
    want_child = vpn_ikev2_msg_find(m, VPN_IKEV2_PL_SA, NULL) != NULL;
    if (want_child) {
        vpn_ikev2_proposal chosen;
        child_err = ikev2_child_accept(ctx, sa, m, false, SIZE_MAX, &c, &chosen);
        if (child_err == 0) {
            vpn_iov ni = {sa->ni, sa->ni_len}, nr = {sa->nr, sa->nr_len}, none = {NULL, 0};
            if (ikev2_child_keys(sa, &c, false, none, ni, nr) != 0)
                child_err = VPN_IKEV2_N_NO_PROPOSAL_CHOSEN;
        }
        if (child_err == 0) {
            ikev2_child_write_sa(&o.b, &chosen);
            ikev2_child_write_ts(&o.b, &c);
        } else {
            /* RFC 7296 1.2 / 2.21.2: the IKE SA is still made; say why
             * the CHILD_SA is not */
            vpn_ikev2_bld_notify(&o.b, 0, NULL, 0, child_err, NULL, 0);
        }
    }
    ikev2_respond(ctx, sa, in, &o);
    ikev2_sa_established(ctx, sa, now);
    if (want_child && child_err == 0) {
        ikev2_child_install(ctx, sa, &c, now, 0);
    } else if (want_child) {
        vpn_ikev2_reason r = child_err == VPN_IKEV2_N_TS_UNACCEPTABLE ? VPN_IKEV2_R_TS_UNACCEPTABLE
                                                                      : VPN_IKEV2_R_NO_PROPOSAL;
        ikev2_emit(ctx, sa, VPN_IKEV2_EV_FAILED, r, child_err, NULL, 0, "first CHILD_SA refused");
    }
    OPENSSL_cleanse(&c, sizeof c);
}
