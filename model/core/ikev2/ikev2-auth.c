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

/* Remote access (EAP, CP): at the end of this file. */
static bool profile_takes_eap(const vpn_conf_profile *p);
static unsigned profile_eap_methods(const vpn_conf_profile *p);
static size_t ikev2_policy_routes(const vpn_ikev2_ctx *ctx, const vpn_conf_author_policy *ap, vpn_prefix *out,
                                  size_t cap);
static void ra_respond_begin(vpn_ikev2_ctx *ctx, ikev2_sa *sa, const ikev2_in *in, const vpn_conf_identity *cid);
static void ra_respond(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, const ikev2_in *in);
static void ra_response(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, const ikev2_in *in);

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
static uint8_t *signed_octets(vpn_ikev2_ctx *ctx, const ikev2_sa *sa, bool initiator_side, const ikev2_id *id, size_t *len)
{
    const ikev2_buf *real = initiator_side ? &sa->init_req : &sa->init_resp;
    const uint8_t *nonce = initiator_side ? sa->nr : sa->ni;
    size_t nonce_len = initiator_side ? sa->nr_len : sa->ni_len;
    uint8_t body[4 + IKEV2_ID_MAX];
    size_t cap = real->len + nonce_len + VPN_PRF_MAX_LEN;
    uint8_t *out = vpn_malloc(&ctx->params.alloc, cap);
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
        uint8_t *oct = signed_octets(ctx, sa, initiator_side, &sa->id_local, &ol);
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
        uint8_t *oct = signed_octets(ctx, sa, signer_initiator, &sa->id_remote, &ol);
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

/* ---- the IKE SAs of a peer identity (ikev2-ridx.h) ------------------------------------ */

/*
 * INITIAL_CONTACT and the both-ends-initiated check below look for the
 * other IKE SAs with the identity of an SA coming up: on a hub with N
 * spokes a walk over every SA per IKE_AUTH made bring-up quadratic (issue
 * 14). The index holds every SA whose peer identity is known: put when
 * IKE_AUTH reads the identity (remote_id_read), and for SAs an IKE rekey
 * made with their predecessor's identity (ikev2-child.c), when first
 * asked, from the SAs created since the last ask (sa[] is in creation
 * order, ikev2_sa.seq). Every handle is checked against its SA.
 */
#define PEER_SAS_MAX 16 /* more SAs of one identity: the walk */

static uint32_t id_key(const ikev2_id *id)
{
    return ikev2_ridx_key(id->type, id->data, id->len);
}

static bool same_remote_id(const ikev2_sa *a, const ikev2_sa *b)
{
    return a->id_remote.type == b->id_remote.type && a->id_remote.len == b->id_remote.len &&
           memcmp(a->id_remote.data, b->id_remote.data, a->id_remote.len) == 0;
}

/* A table with room for every SA again, refilled from sa[]. */
static void peer_index_rebuild(vpn_ikev2_ctx *ctx)
{
    ikev2_ridx *x = &ctx->ridx;

    if (ikev2_ridx_reset(x, &ctx->params.alloc, ctx->n_sa) != 0) {
        x->incomplete = true; /* the walk, until a later lookup's rebuild gets its table */
        return;
    }
    x->incomplete = false;
    for (size_t i = 0; i < ctx->n_sa; i++) {
        const ikev2_sa *o = ctx->sa[i];
        if (o->phase != IKEV2_P_DEAD && o->id_remote.len)
            (void)ikev2_ridx_put(x, id_key(&o->id_remote), o->id); /* room: reset made it */
    }
    x->seen = ctx->sa_seq;
}

static void peer_index_put(vpn_ikev2_ctx *ctx, const ikev2_sa *sa)
{
    ikev2_ridx *x = &ctx->ridx;

    if (x->incomplete || sa->id_remote.len == 0)
        return;
    if (ikev2_ridx_put(x, id_key(&sa->id_remote), sa->id) != 0)
        peer_index_rebuild(ctx); /* full: sa is in sa[], so in the new table */
}

/* RFC 7296 3.5: the peer's identity, as the IKE_AUTH payload p says, kept on sa and indexed. */
static int remote_id_read(vpn_ikev2_ctx *ctx, ikev2_sa *sa, const vpn_ikev2_payload *p)
{
    int rc = read_id(p, &sa->id_remote);
    if (rc == 0)
        peer_index_put(ctx, sa);
    return rc;
}

typedef struct peer_live_arg {
    vpn_ikev2_ctx *ctx;
    uint32_t key;
} peer_live_arg;

/* An index entry still naming a live SA with that identity key. */
static bool peer_live(void *user, uint32_t sa_id)
{
    const peer_live_arg *a = user;
    const ikev2_sa *o = ikev2_sa_by_id(a->ctx, sa_id);
    return o != NULL && o->phase != IKEV2_P_DEAD && id_key(&o->id_remote) == a->key;
}

/*
 * The other SAs (not sa, not dead) whose peer identity is sa's, in
 * creation order (the order of sa[], as a walk would meet them), in out
 * (PEER_SAS_MAX); SIZE_MAX when the index cannot tell (incomplete, or more
 * than PEER_SAS_MAX): then the caller walks sa[].
 */
static size_t peer_sas(vpn_ikev2_ctx *ctx, const ikev2_sa *sa, ikev2_sa **out)
{
    ikev2_ridx *x = &ctx->ridx;
    uint32_t key = id_key(&sa->id_remote), ids[PEER_SAS_MAX];
    size_t n, k = 0, i = ctx->n_sa;

    /* SAs made since the last call (IKE rekeys copy the identity at creation) */
    while (i > 0 && ctx->sa[i - 1]->seq >= x->seen)
        i--;
    for (; i < ctx->n_sa; i++)
        peer_index_put(ctx, ctx->sa[i]);
    x->seen = ctx->sa_seq;
    if (x->incomplete) /* a table was refused before: try again (sa[] holds every SA) */
        peer_index_rebuild(ctx);
    if (x->incomplete)
        return SIZE_MAX;
    if ((n = ikev2_ridx_get(x, key, ids, PEER_SAS_MAX)) > PEER_SAS_MAX) {
        /* too many to look at one by one: the dead go all the same, or
         * they would keep every later lookup on the walk */
        peer_live_arg a = {ctx, key};
        if ((n = ikev2_ridx_prune(x, key, peer_live, &a)) > PEER_SAS_MAX)
            return SIZE_MAX;
        n = ikev2_ridx_get(x, key, ids, PEER_SAS_MAX);
    }
    for (i = 0; i < n; i++) {
        ikev2_sa *o = ikev2_sa_by_id(ctx, ids[i]);
        size_t j;
        if (o == NULL || o->phase == IKEV2_P_DEAD || id_key(&o->id_remote) != key) {
            ikev2_ridx_del(x, key, ids[i]); /* gone, or going: never back */
            continue;
        }
        if (o == sa || !same_remote_id(o, sa))
            continue;
        for (j = k; j > 0 && out[j - 1]->seq > o->seq; j--)
            out[j] = out[j - 1];
        out[j] = o;
        k++;
    }
    return k;
}

/* RFC 7296 2.4: INITIAL_CONTACT says the sender has no other IKE SA with
 * us, so IKE SAs with this peer identity that were up before this
 * exchange began are stale: delete them without ceremony. One that came
 * up while this exchange ran was made concurrently (both ends initiating
 * at once) and is alive at the peer: it stays, whatever the notify says
 * (ikev2_duplicate_check below settles the duplicate, on both ends alike). */
static void initial_contact_one(vpn_ikev2_ctx *ctx, const ikev2_sa *sa, ikev2_sa *o)
{
    if (o == sa || o->phase != IKEV2_P_ESTABLISHED || !same_remote_id(o, sa) || o->profile != sa->profile)
        return;
    if (o->established >= sa->created) {
        IKEV2_LOG(ctx, VPN_LOG_INFO, "IKE SA %u: INITIAL_CONTACT leaves IKE SA %u, made concurrently", sa->id,
                  o->id);
        return;
    }
    ikev2_sa_kill(ctx, o, VPN_IKEV2_R_PEER_DELETE, VPN_IKEV2_N_INITIAL_CONTACT, "peer restarted (INITIAL_CONTACT)");
}

static void initial_contact(vpn_ikev2_ctx *ctx, const ikev2_sa *sa)
{
    ikev2_sa *peer[PEER_SAS_MAX];
    size_t n = peer_sas(ctx, sa, peer);

    if (n == SIZE_MAX) {
        for (size_t i = 0; i < ctx->n_sa; i++)
            initial_contact_one(ctx, sa, ctx->sa[i]);
        return;
    }
    for (size_t i = 0; i < n; i++)
        initial_contact_one(ctx, sa, peer[i]);
}

/* RFC 7296 2.4: INITIAL_CONTACT only if this is the one IKE SA we have
 * with the peer: not while another is up or being negotiated with the
 * same address (the peer initiating to us at the same time), or the peer
 * would delete the one it holds with us. */
static bool may_send_initial_contact(const vpn_ikev2_ctx *ctx, const ikev2_sa *sa)
{
    for (size_t i = 0; i < ctx->n_sa; i++) {
        const ikev2_sa *o = ctx->sa[i];
        if (o != sa && o->phase != IKEV2_P_DELETING && o->phase != IKEV2_P_DEAD &&
            vpn_addr_eq(&o->remote.addr, &sa->remote.addr))
            return false;
    }
    return true;
}

/*
 * Both ends initiated at once (each sent IKE_SA_INIT before the other's
 * arrived): two IKE SAs with one CHILD_SA each for the same policy, one
 * made by each end. Nothing in RFC 7296 settles this (2.8.1 covers
 * simultaneous rekeys), so both ends apply the same rule to what both see
 * alike, as 2.8.1 does with the nonces: the IKE SA whose SPIi | SPIr pair
 * is the higher one is redundant. It is the rule the router's mGRE layer
 * uses for the same case (router.c, ike_sa_first), so the two never pick
 * different survivors. The SPIs serve as well as the nonces: both are
 * random, chosen by the two ends, and both ends know both pairs.
 *
 * Who deletes it: the end that initiated the surviving SA, at once: its
 * IKE_AUTH response arrived, so the other end has the survivor up and
 * traffic moves to it without a gap. The other end (the survivor's
 * responder) waits IKEV2_DUP_WAIT_NS for that Delete and then deletes the
 * redundant SA itself: a peer that does not apply this rule (strongSwan
 * keeps both IKE SAs when the IKE_AUTH exchanges cross: its uniqueness
 * check on the responder side only sees established duplicates) is not
 * left with two. If both Deletes cross, each end answers the other's
 * (2.25) and the SA goes on both.
 *
 * Only SAs made concurrently count (the other SA came up after this one's
 * exchange began, as for INITIAL_CONTACT above): a later reauthentication
 * or a second tunnel to the same peer with another policy is left alone.
 */
#define IKEV2_DUP_WAIT_NS (10 * NS_PER_S)

static bool sa_pair_lower(const ikev2_sa *a, const ikev2_sa *b)
{
    int d = memcmp(a->spi_i, b->spi_i, sizeof a->spi_i);
    if (d == 0)
        d = memcmp(a->spi_r, b->spi_r, sizeof a->spi_r);
    return d < 0;
}

static bool same_child_policy(const ikev2_sa *a, const ikev2_sa *b)
{
    for (size_t i = 0; i < a->n_child; i++)
        for (size_t k = 0; k < b->n_child; k++)
            if (a->child[i].policy == b->child[k].policy)
                return true;
    return false;
}

/* o and sa: the two IKE SAs both ends made at once for one policy? */
static bool made_at_once(const ikev2_sa *sa, const ikev2_sa *o)
{
    return o != sa && o->phase == IKEV2_P_ESTABLISHED && !o->rekeyed_to && !o->dup_of &&
           o->initiator != sa->initiator && o->established >= sa->created && o->profile == sa->profile &&
           vpn_addr_eq(&o->remote.addr, &sa->remote.addr) && same_remote_id(o, sa) && same_child_policy(o, sa);
}

void ikev2_duplicate_check(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now)
{
    ikev2_sa *peer[PEER_SAS_MAX], *o = NULL, *keep, *drop;
    size_t n;

    if (sa->phase != IKEV2_P_ESTABLISHED || sa->rekeyed_to || sa->dup_of)
        return;
    /* the first in creation order, as a walk over sa[] finds it */
    if ((n = peer_sas(ctx, sa, peer)) == SIZE_MAX) {
        for (size_t i = 0; i < ctx->n_sa && o == NULL; i++)
            if (made_at_once(sa, ctx->sa[i]))
                o = ctx->sa[i];
    } else {
        for (size_t i = 0; i < n && o == NULL; i++)
            if (made_at_once(sa, peer[i]))
                o = peer[i];
    }
    if (o == NULL)
        return;
    keep = sa_pair_lower(sa, o) ? sa : o;
    drop = keep == sa ? o : sa;
    drop->dup_of = keep->id;
    drop->expire_at = keep->initiator ? now : now + IKEV2_DUP_WAIT_NS;
    /* drop may be the other SA, reached by this search and not by a lookup:
     * its key in the deadline heap must follow the new expire_at */
    ikev2_sa_deadline_changed(ctx, drop);
    ctx->stats.duplicate_sas++;
    IKEV2_LOG(ctx, VPN_LOG_INFO,
              "IKE SA %u and %u: both ends initiated at once; %u stays (lower SPIs), %u is deleted %s", sa->id, o->id,
              keep->id, drop->id, keep->initiator ? "now" : "by the peer (or by us if it does not within 10 s)");
}

/* ---- initiator -------------------------------------------------------------------- */

/*
 * FlexVPN routing over IKEv2 for site-to-site peers (the hub's one block
 * serves them beside EAP users): a spoke whose profile has `aaa
 * authorization group psk list L POLICY` announces the networks of that
 * policy's `route set` lines as INTERNAL_IP4_SUBNET values of a
 * CFG_REQUEST (RFC 7296 3.15.1); a hub whose psk policy has `route accept
 * any` narrows the spoke's CHILD_SA selectors to them (2.9), so that one
 * Virtual-Template tells its peers apart by their networks as it tells
 * users apart by their addresses, and answers with its own networks in
 * the CFG_REPLY.
 */
static const vpn_conf_author_policy *psk_policy(const vpn_ikev2_ctx *ctx, const ikev2_sa *sa)
{
    const vpn_conf_profile *pr = sa->profile;
    if (pr == NULL || !pr->aaa_author_psk_policy[0] || strcmp(pr->aaa_author_psk_policy, "default") == 0)
        return NULL;
    return vpn_conf_find_author_policy(ctx->conf, pr->aaa_author_psk_policy);
}

static void ikev2_site_announce(vpn_ikev2_ctx *ctx, ikev2_sa *sa, vpn_ikev2_bld *b)
{
    const vpn_conf_author_policy *ap = psk_policy(ctx, sa);
    vpn_prefix nets[VPN_CP_MAX_SUBNETS];
    size_t n;
    if (ap == NULL || (n = ikev2_policy_routes(ctx, ap, nets, VPN_CP_MAX_SUBNETS)) == 0)
        return;
    vpn_cp_build_request_subnets(b, nets, n);
}

/*
 * The initiator's side of the same exchange: the hub's CFG_REPLY (RFC 7296
 * 3.15.1) names the networks it protects as INTERNAL_IP4_SUBNET (and an
 * address if it gave one); they are kept on the SA so that the driver
 * installs them as routes into the tunnel (vpn_ikev2_sa_routes), as an IOS
 * spoke installs the routes it learns over IKEv2. A reply that does not
 * parse is ignored whole: 3.15 makes the CP advisory, the SA stands.
 */
static void ikev2_site_reply(ikev2_sa *sa, const vpn_ikev2_msg *m)
{
    const vpn_ikev2_payload *cp = vpn_ikev2_msg_find(m, VPN_IKEV2_PL_CP, NULL);
    vpn_cp_grant g;
    if (cp == NULL || vpn_cp_parse_reply(cp, &g) != 0)
        return;
    sa->ra_addr = g.address;
    sa->ra_cfg = g;
    sa->ra_has_cfg = true;
    sa->ra_cfg_received = true;
}

/* Does selector s hold the whole of prefix p (IPv4)? */
static bool sel_covers(const vpn_ikev2_selector *s, const vpn_prefix *p)
{
    vpn_addr m, hi;
    if (p->addr.family != VPN_AF_INET || s->addr_lo.family != VPN_AF_INET || s->addr_hi.family != VPN_AF_INET)
        return false;
    vpn_len_to_mask(p->len, &m);
    hi = p->addr;
    for (int k = 0; k < 4; k++)
        hi.b[k] |= (uint8_t)~m.b[k];
    return memcmp(s->addr_lo.b, p->addr.b, 4) <= 0 && memcmp(hi.b, s->addr_hi.b, 4) <= 0;
}

static void ikev2_site_accept(vpn_ikev2_ctx *ctx, ikev2_sa *sa, const vpn_ikev2_msg *m, ikev2_child *c,
                              vpn_ikev2_bld *b)
{
    const vpn_ikev2_payload *cp = vpn_ikev2_msg_find(m, VPN_IKEV2_PL_CP, NULL);
    const vpn_conf_author_policy *ap = psk_policy(ctx, sa);
    vpn_ikev2_selector narrowed[VPN_IKEV2_TS_MAX];
    vpn_cp_request req;
    vpn_cp_grant g;
    size_t n = 0;

    if (cp == NULL || vpn_cp_parse_request(cp, &req) != 0)
        return; /* 3.15.1: nothing we can read, nothing configured */
    memset(&g, 0, sizeof g);
    if (ap != NULL)
        g.n_subnets = ikev2_policy_routes(ctx, ap, g.subnets, VPN_CP_MAX_SUBNETS);
    if (vpn_cp_build_reply(b, &req, &g) == 0) {
        sa->ra_cfg = g;
        sa->ra_has_cfg = true;
    }
    if (ap == NULL || !ap->route_accept || req.n_subnets == 0)
        return;
    /* 2.9: only networks inside what the peer proposed */
    for (size_t i = 0; i < req.n_subnets && n < VPN_IKEV2_TS_MAX; i++)
        for (size_t k = 0; k < c->n_ts_remote; k++)
            if (sel_covers(&c->ts_remote[k], &req.subnets[i])) {
                vpn_ikev2_selector_from_prefix(&narrowed[n], &req.subnets[i], c->ts_remote[k].proto);
                narrowed[n].port_lo = c->ts_remote[k].port_lo;
                narrowed[n].port_hi = c->ts_remote[k].port_hi;
                n++;
                break;
            }
    if (n == 0)
        return;
    memcpy(c->ts_remote, narrowed, n * sizeof narrowed[0]);
    c->n_ts_remote = n;
    IKEV2_LOG(ctx, VPN_LOG_INFO, "IKE SA %u: peer's selectors narrowed to the %zu network%s it announced", sa->id,
              n, n == 1 ? "" : "s");
}

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
    if (sa->profile->auth_local == VPN_CONF_AUTH_EAP) {
        /* RFC 7296 2.16: no AUTH now; EAP follows the responder's answer */
        vpn_eap_peer_params pp;
        memset(&pp, 0, sizeof pp);
        pp.methods = profile_eap_methods(sa->profile);
        pp.identity = sa->profile->eap_username;
        pp.password = sa->profile->eap_password;
        pp.rng = ctx->params.rng;
        pp.alloc = ctx->params.alloc;
        /* the offer below is checked against the final response, after the
         * EAP rounds (ra_response): kept off the SA unless EAP runs;
         * zeroed, since the SPI index reads its SPI before the offer is
         * written (the offer below draws an SPI and may refill the index) */
        if (sa->ra_creq == NULL && (sa->ra_creq = vpn_calloc(&ctx->params.alloc, 1, sizeof *sa->ra_creq)) == NULL)
            return VPN_ERR_NOMEM;
        vpn_eap_peer_free(sa->eap_peer);
        sa->eap_peer = NULL;
        if ((rc = vpn_eap_peer_new(&sa->eap_peer, &pp)) != 0)
            return rc;
        sa->eap_phase = 1;
        sa->ra_peer_authed = false;
        snprintf(sa->eap_identity, sizeof sa->eap_identity, "%s", sa->profile->eap_username);
    } else {
        /* AUTH of the initiator: RealMessage1 | Nr | prf(SK_pi, IDi') */
        if ((rc = make_auth(ctx, sa, NULL, true, &method, auth, &auth_len)) != 0)
            return rc;
        sa->auth_local = method;
    }
    memset(creq, 0, sizeof *creq);
    if ((rc = ikev2_child_offer(ctx, sa, sa->policy, 0, NULL, creq)) != 0)
        return rc;
    ikev2_out_begin(ctx, sa, &o, VPN_IKEV2_IKE_AUTH, sa->mid_send, false, true);
    vpn_ikev2_bld_id(&o.b, VPN_IKEV2_PL_IDI, sa->id_local.type, sa->id_local.data, sa->id_local.len);
    if (method != VPN_AUTH_METHOD_PSK && !sa->eap_phase)
        ikev2_cert_write(ctx, sa->profile, &o.b);
    if (may_send_initial_contact(ctx, sa))
        vpn_ikev2_bld_notify(&o.b, 0, NULL, 0, VPN_IKEV2_N_INITIAL_CONTACT, NULL, 0);
    ikev2_window_announce(ctx, &o.b);
    if (ikev2_profile_verifies_sigs(sa->profile)) {
        /* RFC 7296 3.7: the CAs we trust, so the responder picks its certificate */
        uint8_t cr[20 * 32];
        size_t cl = 0;
        if (ikev2_certreq_data(ctx, sa->profile, cr, sizeof cr, &cl) == 0)
            vpn_ikev2_bld_cert(&o.b, VPN_IKEV2_PL_CERTREQ, VPN_IKEV2_CERT_X509_SIG, cr, cl);
    }
    if (sa->eap_phase) {
        /* 3.15: an address and DNS, please, of each family our selectors
         * carry (IPv6 ones ask for INTERNAL_IP6_ADDRESS as well) */
        bool v4 = creq->n_tsi == 0, v6 = false;
        for (size_t i = 0; i < creq->n_tsi; i++) {
            v4 = v4 || creq->tsi[i].addr_lo.family == VPN_AF_INET;
            v6 = v6 || creq->tsi[i].addr_lo.family == VPN_AF_INET6;
        }
        vpn_cp_build_request_af(&o.b, v4, v6);
        *sa->ra_creq = *creq;
    } else {
        vpn_ikev2_bld_auth(&o.b, method, auth, auth_len);
        ikev2_site_announce(ctx, sa, &o.b);
    }
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

    if (sa->eap_phase) {
        ra_response(ctx, sa, now, in);
        return;
    }
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
    if (remote_id_read(ctx, sa, idr) != 0 || ikev2_cert_id_to_conf(&sa->id_remote, &pc, &cid) != 0 ||
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
    ikev2_site_reply(sa, m);
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
        ikev2_duplicate_check(ctx, sa, now);
    } else {
        vpn_ikev2_reason r = ikev2_reason_for(child_err, IKEV2_NF_CHILD);
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
    if (r == VPN_IKEV2_R_INTERNAL) {
        ikev2_internal_error(ctx, sa, ctx->now, strstr(why, "memory") ? VPN_ERR_NOMEM : VPN_ERR_CRYPTO, why);
        return;
    }
    ikev2_sa_kill(ctx, sa, r, VPN_IKEV2_N_AUTHENTICATION_FAILED, why);
}

/* A local failure (memory, RNG, crypto library), not the peer's doing. */
static bool local_failure(int rc)
{
    return rc == VPN_ERR_NOMEM || rc == VPN_ERR_CRYPTO;
}

/* responder_fail for a local failure rc: the peer is told as in 2.21.2, the
 * failure is counted and reported as ours (ikev2_internal_error). */
static void responder_internal(vpn_ikev2_ctx *ctx, ikev2_sa *sa, const ikev2_in *in, int rc, const char *where)
{
    ikev2_respond_notify(ctx, sa, in, VPN_IKEV2_N_AUTHENTICATION_FAILED, 0, NULL, 0, NULL, 0);
    ikev2_internal_error(ctx, sa, ctx->now, rc, where);
}

static void auth_respond(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, const ikev2_in *in)
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

    if (sa->eap_phase) {
        ra_respond(ctx, sa, now, in);
        return;
    }
    idi = vpn_ikev2_msg_find(m, VPN_IKEV2_PL_IDI, NULL);
    auth = vpn_ikev2_msg_find(m, VPN_IKEV2_PL_AUTH, NULL);
    if (idi != NULL && auth == NULL && remote_id_read(ctx, sa, idi) == 0) {
        /* RFC 7296 2.16: no AUTH means the initiator wants EAP, if the
         * profile it matches does */
        ikev2_peer_certs_load(m, &pc);
        if (ikev2_cert_id_to_conf(&sa->id_remote, &pc, &cid) == 0 &&
            (sa->profile = ikev2_profile_for_peer(ctx->conf, &sa->local.addr, &cid)) != NULL &&
            profile_takes_eap(sa->profile)) {
            ikev2_peer_certs_free(&pc);
            if (vpn_ikev2_msg_find_notify(m, VPN_IKEV2_N_INITIAL_CONTACT, NULL))
                initial_contact(ctx, sa);
            ra_respond_begin(ctx, sa, in, &cid);
            return;
        }
        ikev2_peer_certs_free(&pc);
        sa->profile = NULL;
    }
    if (idi == NULL || auth == NULL || remote_id_read(ctx, sa, idi) != 0) {
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
        if (child_err == 0)
            ikev2_site_accept(ctx, sa, m, &c, &o.b);
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
    ikev2_window_announce(ctx, &o.b); /* RFC 7296 2.3 */
    ikev2_respond(ctx, sa, in, &o);
    if (ikev2_sa_gone(sa)) { /* the response could not be made */
        OPENSSL_cleanse(&c, sizeof c);
        return;
    }
    ikev2_sa_established(ctx, sa, now);
    if (want_child && child_err == 0) {
        ikev2_child_install(ctx, sa, &c, now, 0);
        ikev2_duplicate_check(ctx, sa, now);
    } else if (want_child) {
        vpn_ikev2_reason r = ikev2_reason_for(child_err, IKEV2_NF_REFUSED);
        ikev2_emit(ctx, sa, VPN_IKEV2_EV_FAILED, r, child_err, NULL, 0, "first CHILD_SA refused");
    }
    OPENSSL_cleanse(&c, sizeof c);
}

/* ---- remote access: EAP (RFC 7296 2.16) and the configuration payload (3.15) ----
 *
 *   Initiator                         Responder
 *   HDR, SK {IDi, [CERTREQ,] CP(CFG_REQUEST), SAi2, TSi, TSr}  -->
 *                                <--  HDR, SK {IDr, [CERT,] AUTH, EAP(Request)}
 *   HDR, SK {EAP(Response)}  -->
 *                                <--  HDR, SK {EAP(Request)}          (as often as the method needs)
 *   HDR, SK {EAP(Response)}  -->
 *                                <--  HDR, SK {EAP(Success)}
 *   HDR, SK {AUTH}  -->
 *                                <--  HDR, SK {AUTH, CP(CFG_REPLY), SAr2, TSi, TSr}
 *
 * The last two AUTHs use the MSK as the shared key of 2.15 when the method
 * makes one (MSCHAPv2), else SK_pi / SK_pr; their signed octets are those
 * of the first IKE_AUTH (RealMessage, nonce, IDi / IDr). The responder keeps
 * the first request's plaintext to create the CHILD_SA at the end. The
 * authenticator is the local user database (`username`); a wrong password
 * or an unknown user ends with EAP-Failure and AUTHENTICATION_FAILED, and
 * no address is taken from a pool before the final AUTH verifies.
 */

static bool profile_takes_eap(const vpn_conf_profile *p)
{
    for (size_t i = 0; p != NULL && i < p->n_auth_remote; i++)
        if (p->auth_remote[i] == VPN_CONF_AUTH_EAP)
            return true;
    return false;
}

static unsigned profile_eap_methods(const vpn_conf_profile *p)
{
    /* VPN_CONF_EAP_M_* and VPN_EAP_M_* share their bits */
    return p->eap_methods ? p->eap_methods : VPN_EAP_M_MSCHAPV2 | VPN_EAP_M_MD5 | VPN_EAP_M_GTC;
}

static int ra_password(void *user, const char *name, char *out, size_t cap)
{
    const vpn_conf_user *u = vpn_conf_find_user(user, name);
    size_t n;
    if (u == NULL)
        return VPN_ERR_NOTFOUND;
    n = strlen(u->password);
    if (n >= cap)
        return VPN_ERR_NOSPACE;
    memcpy(out, u->password, n);
    return (int)n;
}

/* The 2.15 shared-key AUTH with the MSK, or SK_p when the method made none
 * (2.16). signer_initiator picks RealMessage, nonce, SK_p and ID. */
static int eap_auth_value(const ikev2_sa *sa, bool signer_initiator, uint8_t *out, size_t *len)
{
    const ikev2_buf *real = signer_initiator ? &sa->init_req : &sa->init_resp;
    const uint8_t *nonce = signer_initiator ? sa->nr : sa->ni;
    size_t nonce_len = signer_initiator ? sa->nr_len : sa->ni_len;
    const vpn_key *skp = sk_p_of(sa, signer_initiator);
    const ikev2_id *id = signer_initiator == sa->initiator ? &sa->id_local : &sa->id_remote;
    uint8_t body[4 + IKEV2_ID_MAX];
    vpn_iov k, m = {real->p, real->len}, n = {nonce, nonce_len}, b = {body, id_body(id, body)};

    if (sa->msk_len) {
        k.p = sa->msk;
        k.len = sa->msk_len;
    } else {
        k.p = skp->b;
        k.len = skp->len;
    }
    return vpn_ikev2_auth_psk(sa->suite.prf, k, m, n, skp, b, out, VPN_PRF_MAX_LEN, len);
}

static bool eap_auth_ok(const ikev2_sa *sa, bool signer_initiator, const vpn_ikev2_payload *auth)
{
    uint8_t want[VPN_PRF_MAX_LEN];
    size_t wl = 0;
    bool ok = auth != NULL && auth->u.auth.method == VPN_AUTH_METHOD_PSK &&
              eap_auth_value(sa, signer_initiator, want, &wl) == 0 && auth->u.auth.data.len == wl &&
              CRYPTO_memcmp(want, auth->u.auth.data.ptr, wl) == 0;
    OPENSSL_cleanse(want, sizeof want);
    return ok;
}

/* Errors: VPN_ERR_NOMEM (nothing built; the next user tries again). */
static int ra_build_pools(vpn_ikev2_ctx *ctx)
{
    if (ctx->pools_built)
        return 0;
    size_t n = ctx->conf->n_ip_pool + ctx->conf->n_ipv6_pool;
    if (n != 0 && (ctx->pool = vpn_calloc(&ctx->params.alloc, n, sizeof *ctx->pool)) == NULL)
        return VPN_ERR_NOMEM;
    for (size_t i = 0; i < ctx->conf->n_ip_pool + ctx->conf->n_ipv6_pool; i++) {
        int rc;
        const char *name;
        if (i < ctx->conf->n_ip_pool) {
            const vpn_conf_ip_pool *cp = &ctx->conf->ip_pool[i];
            name = cp->name;
            rc = vpn_ippool_init_a(&ctx->params.alloc, &ctx->pool[ctx->n_pool], cp->name, &cp->first, &cp->last);
        } else {
            const vpn_conf_ipv6_pool *cp = &ctx->conf->ipv6_pool[i - ctx->conf->n_ip_pool];
            name = cp->name;
            rc = vpn_ippool_init6_a(&ctx->params.alloc, &ctx->pool[ctx->n_pool], cp->name, &cp->prefix,
                                    cp->assigned_len);
        }
        if (rc == VPN_ERR_NOMEM) {
            /* not the pool's fault: undo, so the next user builds them all */
            for (size_t k = 0; k < ctx->n_pool; k++)
                vpn_ippool_free(&ctx->pool[k]);
            free(ctx->pool);
            ctx->pool = NULL;
            ctx->n_pool = 0;
            return rc;
        }
        if (rc == 0)
            ctx->n_pool++;
        else
            IKEV2_LOG(ctx, VPN_LOG_WARN, "%s local pool %s cannot be used", i < ctx->conf->n_ip_pool ? "ip" : "ipv6",
                      name);
    }
    ctx->pools_built = true;
    return 0;
}

/* The pool of that name and family (IOS keeps IPv4 and IPv6 pool names
 * apart); SIZE_MAX if none. */
static size_t ra_pool_find(const vpn_ikev2_ctx *ctx, const char *name, uint8_t family)
{
    for (size_t i = 0; i < ctx->n_pool; i++)
        if (ctx->pool[i].family == family && strcmp(ctx->pool[i].name, name) == 0)
            return i;
    return SIZE_MAX;
}

static void ra_release_one(vpn_ikev2_ctx *ctx, ikev2_sa *sa, vpn_addr *a, size_t pool)
{
    if (a->family == VPN_AF_NONE || sa->initiator || pool >= ctx->n_pool)
        return;
    if (vpn_ippool_release(&ctx->pool[pool], a, sa->id) == 0) {
        char t[VPN_ADDR_STRLEN];
        IKEV2_LOG(ctx, VPN_LOG_INFO, "IKE SA %u: %s back to pool %s", sa->id, vpn_addr_str(a, t, sizeof t),
                  ctx->pool[pool].name);
    }
    memset(a, 0, sizeof *a);
}

void ikev2_ra_release(vpn_ikev2_ctx *ctx, ikev2_sa *sa)
{
    ra_release_one(ctx, sa, &sa->ra_addr6, sa->ra_pool6);
    ra_release_one(ctx, sa, &sa->ra_addr, sa->ra_pool);
}

void ikev2_ra_move(vpn_ikev2_ctx *ctx, ikev2_sa *old, ikev2_sa *n)
{
    snprintf(n->eap_identity, sizeof n->eap_identity, "%s", old->eap_identity);
    n->ra_cfg = old->ra_cfg;
    n->ra_has_cfg = old->ra_has_cfg;
    n->ra_cfg_received = old->ra_cfg_received;
    if (old->ra_addr6.family != VPN_AF_NONE) {
        /* 2.18: the rekeyed SA keeps the user's IPv6 address too */
        n->ra_addr6 = old->ra_addr6;
        n->ra_pool6 = old->ra_pool6;
        if (!old->initiator && old->ra_pool6 < ctx->n_pool &&
            vpn_ippool_transfer(&ctx->pool[old->ra_pool6], &old->ra_addr6, old->id, n->id) != 0)
            memset(&n->ra_addr6, 0, sizeof n->ra_addr6);
        memset(&old->ra_addr6, 0, sizeof old->ra_addr6);
    }
    if (old->ra_addr.family == VPN_AF_NONE)
        return;
    n->ra_addr = old->ra_addr;
    n->ra_pool = old->ra_pool;
    if (!old->initiator && old->ra_pool < ctx->n_pool &&
        vpn_ippool_transfer(&ctx->pool[old->ra_pool], &old->ra_addr, old->id, n->id) != 0)
        memset(&n->ra_addr, 0, sizeof n->ra_addr);
    memset(&old->ra_addr, 0, sizeof old->ra_addr);
}

/* The networks an authorization policy names (IPv4): the permit lines of
 * `route set access-list`, the networks of `route set interface`. */
static size_t ikev2_policy_routes(const vpn_ikev2_ctx *ctx, const vpn_conf_author_policy *ap, vpn_prefix *out,
                                  size_t cap)
{
    size_t n = 0;
    if (ap->route_acl[0]) {
        const vpn_conf_acl *acl = vpn_conf_find_acl(ctx->conf, ap->route_acl);
        for (size_t i = 0; acl != NULL && i < acl->n_ace && n < cap; i++)
            if (acl->ace[i].permit && acl->ace[i].src.addr.family == VPN_AF_INET)
                out[n++] = acl->ace[i].src;
    }
    for (size_t i = 0; i < ap->n_route_iface && n < cap; i++) {
        const vpn_conf_interface *f = vpn_conf_find_interface(ctx->conf, ap->route_iface[i]);
        if (f != NULL && f->has_address && f->address.addr.family == VPN_AF_INET) {
            vpn_prefix net = f->address;
            vpn_addr m;
            vpn_len_to_mask(net.len, &m);
            for (int k = 0; k < 4; k++)
                net.addr.b[k] &= m.b[k];
            out[n++] = net;
        }
        if (f != NULL && f->has_address6 && f->address6.len <= 128 && n < cap) {
            /* its `ipv6 address`: the network as an INTERNAL_IP6_SUBNET
             * (3.15.1), the host bits cleared */
            vpn_prefix net = f->address6;
            for (unsigned k = 0; k < 16; k++) {
                unsigned bits = net.len > 8 * k ? net.len - 8 * k : 0;
                net.addr.b[k] &= bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
            }
            out[n++] = net;
        }
    }
    return n;
}

/* Takes address a for the SA: inside a pool it is claimed there (no one
 * else gets it); outside every pool it is the SA's alone to hold, as an AAA
 * server's Framed-IP-Address is (ra_pool then names no pool).
 * Errors: those of vpn_ippool_claim but VPN_ERR_NOTFOUND; VPN_ERR_NOMEM. */
static int ra_take(vpn_ikev2_ctx *ctx, ikev2_sa *sa, const vpn_addr *a)
{
    int brc = ra_build_pools(ctx);

    if (brc != 0)
        return brc;
    sa->ra_pool = SIZE_MAX;
    for (size_t i = 0; i < ctx->n_pool; i++) {
        int rc = vpn_ippool_claim(&ctx->pool[i], sa->id, a);
        if (rc == VPN_ERR_NOTFOUND)
            continue;
        if (rc != 0)
            return rc;
        sa->ra_pool = i;
        break;
    }
    sa->ra_addr = *a;
    return 0;
}

/* What the profile's authorization policy grants: an address from its pool
 * (taken for this SA), DNS servers, split-tunnel subnets (the permit lines
 * of `route set access-list`, the networks of `route set interface`).
 * With `aaa authorization user eap cached` what the AAA server sent
 * (sa->ra_authz) replaces the policy's, attribute by attribute, as IOS
 * lets user attributes from AAA override the local policy.
 * Errors: VPN_ERR_LIMIT (pool exhausted), VPN_ERR_NOTFOUND (no such pool),
 * VPN_ERR_EXISTS (the AAA address is another user's), VPN_ERR_NOMEM. */
static int ra_grant(vpn_ikev2_ctx *ctx, ikev2_sa *sa, const vpn_cp_request *req, vpn_cp_grant *g)
{
    const vpn_conf_profile *pr = sa->profile;
    const vpn_conf_author_policy *ap = NULL;
    const vpn_cp_authz *z = pr->aaa_author_user_cached ? sa->ra_authz : NULL;
    const char *pool;

    memset(g, 0, sizeof *g);
    if (pr->aaa_author_policy[0])
        ap = vpn_conf_find_author_policy(ctx->conf, pr->aaa_author_policy);
    if (ap == NULL && z == NULL)
        return 0;
    if (z != NULL && z->n_dns > 0) {
        for (size_t i = 0; i < z->n_dns && g->n_dns < VPN_CP_MAX_DNS; i++)
            g->dns[g->n_dns++] = z->dns[i];
    } else {
        for (size_t i = 0; ap != NULL && i < ap->n_dns && g->n_dns < VPN_CP_MAX_DNS; i++)
            g->dns[g->n_dns++] = ap->dns[i];
    }
    /* `ipv6 dns`: INTERNAL_IP6_DNS (3.15.1), sent when asked for */
    for (size_t i = 0; ap != NULL && i < ap->n_dns6 && g->n_dns < VPN_CP_MAX_DNS; i++)
        g->dns[g->n_dns++] = ap->dns6[i];
    if (req->ip6_address && ap != NULL && ap->pool6[0]) {
        /* `ipv6 pool`: an INTERNAL_IP6_ADDRESS with the pool's assigned
         * prefix length; given back with the SA as the IPv4 one */
        int brc = ra_build_pools(ctx);
        size_t k;
        if (brc != 0)
            return brc;
        if ((k = ra_pool_find(ctx, ap->pool6, VPN_AF_INET6)) == SIZE_MAX)
            return VPN_ERR_NOTFOUND;
        int rc = vpn_ippool_alloc(&ctx->pool[k], sa->id, &g->address6);
        if (rc != 0)
            return rc;
        g->prefix6 = ctx->pool[k].assigned_len;
        sa->ra_addr6 = g->address6;
        sa->ra_pool6 = k;
    }
    if (z != NULL && z->n_subnets > 0) {
        for (size_t i = 0; i < z->n_subnets && g->n_subnets < VPN_CP_MAX_SUBNETS; i++)
            if (z->subnets[i].addr.family == VPN_AF_INET)
                g->subnets[g->n_subnets++] = z->subnets[i];
    } else if (ap != NULL) {
        g->n_subnets = ikev2_policy_routes(ctx, ap, g->subnets, VPN_CP_MAX_SUBNETS);
    }
    if (!req->ip4_address)
        return 0;
    if (z != NULL && z->address.family == VPN_AF_INET) {
        /* RFC 2865 5.8: the server names the user's address */
        int rc = ra_take(ctx, sa, &z->address);
        if (rc != 0)
            return rc;
        g->address = z->address;
        g->netmask = 0xffffffffu;
        return 0;
    }
    pool = z != NULL && z->pool[0] ? z->pool : ap != NULL ? ap->pool : "";
    if (pool[0]) {
        int brc = ra_build_pools(ctx);
        if (brc != 0)
            return brc;
        for (size_t i = 0; i < ctx->n_pool; i++)
            if (ctx->pool[i].family == VPN_AF_INET && strcmp(ctx->pool[i].name, pool) == 0) {
                int rc = vpn_ippool_alloc(&ctx->pool[i], sa->id, &g->address);
                if (rc != 0)
                    return rc;
                g->netmask = 0xffffffffu;
                sa->ra_addr = g->address;
                sa->ra_pool = i;
                return 0;
            }
        return VPN_ERR_NOTFOUND;
    }
    return 0;
}

/* One step of the conversation: the driver's backend if there is one, else
 * the local database. msg NULL: the first Request. */
static int eap_step(vpn_ikev2_ctx *ctx, ikev2_sa *sa, const uint8_t *msg, size_t len, vpn_eap_answer *a)
{
    if (sa->eap_srv == NULL && ctx->params.eap != NULL && ctx->params.eap->step != NULL) {
        char idt[VPN_CONF_ID_MAX];
        ikev2_id_text(&sa->id_remote, idt, sizeof idt);
        return ctx->params.eap->step(ctx->params.eap->user, sa->id, sa->profile->name, idt, msg, len, a);
    }
    if (msg == NULL)
        return vpn_eap_server_start(sa->eap_srv, a);
    return vpn_eap_server_process(sa->eap_srv, msg, len, a);
}

/* Holds the request back until vpn_ikev2_eap_answer. */
static int eap_hold(ikev2_sa *sa, const ikev2_in *in, bool first)
{
    if (ikev2_buf_set(NULL, &sa->eap_wait_raw, in->raw, in->raw_len) != 0)
        return VPN_ERR_NOMEM;
    sa->eap_wait_hdr = in->hdr;
    sa->eap_wait_first = first;
    sa->eap_wait = true;
    return 0;
}

/* The IKE_AUTH response carrying the EAP answer a: on the first request
 * with our IDr, CERT and AUTH (the responder proves itself first, 2.16). */
static void eap_reply(vpn_ikev2_ctx *ctx, ikev2_sa *sa, const ikev2_in *in, const vpn_eap_answer *a, bool first,
                      const vpn_conf_identity *cid)
{
    uint8_t mine[AUTH_MAX], method = 0;
    size_t mine_len = 0;
    ikev2_out o;
    int rc = 0;

    ikev2_out_begin(ctx, sa, &o, VPN_IKEV2_IKE_AUTH, in->hdr.msg_id, true, true);
    if (first) {
        if (make_auth(ctx, sa, cid, false, &method, mine, &mine_len) != 0) {
            responder_fail(ctx, sa, in, VPN_IKEV2_R_NO_POLICY, "no local credentials for this peer");
            return;
        }
        sa->auth_local = method;
        rc = vpn_ikev2_bld_id(&o.b, VPN_IKEV2_PL_IDR, sa->id_local.type, sa->id_local.data, sa->id_local.len);
        if (rc == 0 && method != VPN_AUTH_METHOD_PSK)
            rc = ikev2_cert_write(ctx, sa->profile, &o.b);
        if (rc == 0)
            rc = vpn_ikev2_bld_auth(&o.b, method, mine, mine_len);
        OPENSSL_cleanse(mine, sizeof mine);
    }
    if (rc == 0 && a->len)
        rc = vpn_ikev2_bld_eap(&o.b, a->msg, a->len);
    if (rc == 0 && a->result == VPN_EAP_FAILURE)
        rc = vpn_ikev2_bld_notify(&o.b, 0, NULL, 0, VPN_IKEV2_N_AUTHENTICATION_FAILED, NULL, 0);
    if (rc != 0) {
        /* nothing half-built goes out: the SA goes down (INTERNAL), the
         * peer's retransmissions time out */
        ikev2_internal_error(ctx, sa, ctx->now, rc, "building an EAP response");
        return;
    }
    if (a->result == VPN_EAP_FAILURE) {
        /* 2.21.2: the EAP-Failure and AUTHENTICATION_FAILED together; no SA stays */
        ikev2_respond(ctx, sa, in, &o);
        ikev2_sa_kill(ctx, sa, VPN_IKEV2_R_AUTH_FAILED, VPN_IKEV2_N_AUTHENTICATION_FAILED,
                      "EAP authentication failed");
        return;
    }
    if (a->result == VPN_EAP_SUCCESS) {
        memcpy(sa->msk, a->msk, a->msk_len < sizeof sa->msk ? a->msk_len : sizeof sa->msk);
        sa->msk_len = a->msk_len < sizeof sa->msk ? a->msk_len : sizeof sa->msk;
        sa->eap_phase = 2;
        IKEV2_LOG(ctx, VPN_LOG_INFO, "IKE SA %u: EAP authentication of %s succeeded", sa->id, sa->eap_identity);
    }
    ikev2_respond(ctx, sa, in, &o);
}

/* Responder, first IKE_AUTH without AUTH: authenticate ourselves and ask. */
static void ra_respond_begin(vpn_ikev2_ctx *ctx, ikev2_sa *sa, const ikev2_in *in, const vpn_conf_identity *cid)
{
    char idt[VPN_CONF_ID_MAX];
    vpn_eap_server_params sp;
    vpn_eap_answer *a;
    int rc;

    if (ikev2_cert_id_local(ctx, sa->profile, &sa->local.addr, &sa->id_local) != 0) {
        responder_fail(ctx, sa, in, VPN_IKEV2_R_NO_POLICY, "no local credentials for this peer");
        return;
    }
    if ((a = vpn_calloc(&ctx->params.alloc, 1, sizeof *a)) == NULL ||
        (sa->ra_first.p = vpn_malloc(&ctx->params.alloc, in->msg->len ? in->msg->len : 1)) == NULL) {
        free(a);
        responder_fail(ctx, sa, in, VPN_IKEV2_R_INTERNAL, "out of memory");
        return;
    }
    memcpy(sa->ra_first.p, in->msg->buf, in->msg->len);
    sa->ra_first.len = in->msg->len;
    sa->ra_first_type = in->msg->hdr.next;
    ikev2_id_text(&sa->id_remote, idt, sizeof idt);
    snprintf(sa->eap_identity, sizeof sa->eap_identity, "%.*s", (int)sizeof sa->eap_identity - 1, idt);
    if (sa->id_local.type == VPN_IKEV2_ID_DER_ASN1_DN)
        snprintf(sa->dn_local, sizeof sa->dn_local, "%s", ikev2_cert_local_dn(ctx, sa->profile));
    sa->eap_phase = 1;
    IKEV2_LOG(ctx, VPN_LOG_INFO, "IKE SA %u: EAP authentication of %s started", sa->id, idt);
    /* the driver's backend (RADIUS passthrough) first: it may leave this
     * profile to the local database */
    rc = ctx->params.eap != NULL ? eap_step(ctx, sa, NULL, 0, a) : VPN_IKEV2_EAP_LOCAL;
    if (rc == VPN_IKEV2_EAP_LOCAL) {
        memset(&sp, 0, sizeof sp);
        sp.methods = profile_eap_methods(sa->profile);
        sp.query_identity = sa->profile->eap_query_identity;
        sp.identity = idt;
        sp.server_name = ctx->name[0] ? ctx->name : NULL;
        sp.rng = ctx->params.rng;
        sp.password = ra_password;
        sp.user = (void *)ctx->conf;
        sp.alloc = ctx->params.alloc;
        if (vpn_eap_server_new(&sa->eap_srv, &sp) != 0) {
            free(a);
            responder_fail(ctx, sa, in, VPN_IKEV2_R_INTERNAL, "cannot start EAP");
            return;
        }
        rc = eap_step(ctx, sa, NULL, 0, a);
    }
    if (rc == VPN_IKEV2_EAP_PENDING && eap_hold(sa, in, true) == 0) {
        free(a);
        return;
    }
    if (rc == VPN_IKEV2_EAP_PENDING || local_failure(rc)) {
        free(a);
        responder_internal(ctx, sa, in, rc == VPN_IKEV2_EAP_PENDING ? VPN_ERR_NOMEM : rc, "starting EAP");
        return;
    }
    if (rc != 0) {
        free(a);
        responder_fail(ctx, sa, in, VPN_IKEV2_R_AUTH_FAILED, "EAP backend refused");
        return;
    }
    eap_reply(ctx, sa, in, a, true, cid);
    vpn_eap_answer_wipe(a);
    free(a);
}

/* Responder: the final IKE_AUTH with the initiator's AUTH. */
static void ra_respond_final(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, const ikev2_in *in)
{
    const vpn_ikev2_payload *auth = vpn_ikev2_msg_find(in->msg, VPN_IKEV2_PL_AUTH, NULL), *cp;
    vpn_ikev2_msg *first;
    vpn_cp_request req;
    vpn_cp_grant g;
    uint8_t mine[VPN_PRF_MAX_LEN];
    size_t mine_len = 0;
    ikev2_child c;
    uint16_t child_err = 0;
    bool want_child;
    ikev2_out o;
    int rc;

    if (!eap_auth_ok(sa, true, auth)) {
        responder_fail(ctx, sa, in, VPN_IKEV2_R_AUTH_FAILED, "AUTH after EAP does not verify");
        return;
    }
    if ((first = vpn_calloc(&ctx->params.alloc, 1, sizeof *first)) == NULL ||
        vpn_ikev2_msg_parse_inner(sa->ra_first.p, sa->ra_first.len, sa->ra_first_type, first) != 0) {
        free(first);
        responder_fail(ctx, sa, in, VPN_IKEV2_R_INTERNAL, "first IKE_AUTH request lost");
        return;
    }
    memset(&req, 0, sizeof req);
    memset(&g, 0, sizeof g);
    cp = vpn_ikev2_msg_find(first, VPN_IKEV2_PL_CP, NULL);
    if (cp != NULL && vpn_cp_parse_request(cp, &req) != 0)
        memset(&req, 0, sizeof req); /* a CP we cannot read: no configuration (3.15.1) */
    rc = ra_grant(ctx, sa, &req, &g);
    if (local_failure(rc)) {
        /* 3.15.4: the peer is told no address; the failure is ours */
        free(first);
        ikev2_respond_notify(ctx, sa, in, VPN_IKEV2_N_INTERNAL_ADDRESS_FAILURE, 0, NULL, 0, NULL, 0);
        ikev2_internal_error(ctx, sa, now, rc, "assigning an address");
        return;
    }
    if (rc != 0) {
        /* 3.15.4: no address for this user: refuse cleanly, nothing held */
        IKEV2_LOG(ctx, VPN_LOG_WARN, "IKE SA %u: no address for %s (%s)", sa->id, sa->eap_identity,
                  rc == VPN_ERR_LIMIT ? "pool exhausted" : vpn_strerror(rc));
        free(first);
        ikev2_respond_notify(ctx, sa, in, VPN_IKEV2_N_INTERNAL_ADDRESS_FAILURE, 0, NULL, 0, NULL, 0);
        ikev2_sa_kill(ctx, sa, VPN_IKEV2_R_NO_POLICY, VPN_IKEV2_N_INTERNAL_ADDRESS_FAILURE,
                      "address pool exhausted");
        return;
    }
    if (eap_auth_value(sa, false, mine, &mine_len) != 0) {
        free(first);
        ikev2_ra_release(ctx, sa);
        responder_fail(ctx, sa, in, VPN_IKEV2_R_INTERNAL, "cannot compute AUTH");
        return;
    }
    ikev2_out_begin(ctx, sa, &o, VPN_IKEV2_IKE_AUTH, in->hdr.msg_id, true, true);
    rc = vpn_ikev2_bld_auth(&o.b, VPN_AUTH_METHOD_PSK, mine, mine_len);
    OPENSSL_cleanse(mine, sizeof mine);
    if (rc == 0 && cp != NULL)
        rc = vpn_cp_build_reply(&o.b, &req, &g);
    if (rc != 0) {
        /* nothing half-built goes out; the address goes back with the SA */
        free(first);
        ikev2_internal_error(ctx, sa, now, rc, "building the final IKE_AUTH response");
        return;
    }
    if (cp != NULL) {
        sa->ra_cfg = g;
        sa->ra_has_cfg = true;
    }
    memset(&c, 0, sizeof c);
    want_child = vpn_ikev2_msg_find(first, VPN_IKEV2_PL_SA, NULL) != NULL;
    if (want_child) {
        vpn_ikev2_proposal chosen;
        child_err = ikev2_child_accept(ctx, sa, first, false, SIZE_MAX, &c, &chosen);
        if (child_err == 0 && (g.address.family == VPN_AF_INET || g.address6.family == VPN_AF_INET6)) {
            /* 2.9, 3.15: the user's side is narrowed to the address it was
             * given (IPv6: the prefix of the assigned length, 3.15.1), each
             * family only if the selectors left after the policy carry it
             * (a responder's TS is a subset of the initiator's). Once an
             * address was granted, nothing else of the proposal is kept:
             * an IPv6-only grant on IPv4-only selectors must not leave the
             * template's 0.0.0.0/0 (any IPv4 source through the hub), so
             * with no family in common the CHILD_SA is refused. */
            bool had4 = false, had6 = false;
            size_t k = 0;
            for (size_t i = 0; i < c.n_ts_remote; i++) {
                had4 = had4 || c.ts_remote[i].addr_lo.family == VPN_AF_INET;
                had6 = had6 || c.ts_remote[i].addr_lo.family == VPN_AF_INET6;
            }
            if (g.address.family == VPN_AF_INET && had4) {
                vpn_prefix one = {g.address, 32};
                vpn_ikev2_selector_from_prefix(&c.ts_remote[k++], &one, 0);
            }
            if (g.address6.family == VPN_AF_INET6 && had6) {
                vpn_prefix one = {g.address6, g.prefix6};
                vpn_ikev2_selector_from_prefix(&c.ts_remote[k++], &one, 0);
            }
            c.n_ts_remote = k;
            if (k == 0)
                child_err = VPN_IKEV2_N_TS_UNACCEPTABLE;
        }
        if (child_err == 0 && req.ip6_address && g.address6.family != VPN_AF_INET6) {
            /* 3.15.4: asked for an IPv6 address and given none: no IPv6
             * selector either (the template's ::/0 is nobody's to keep) */
            size_t k = 0;
            for (size_t i = 0; i < c.n_ts_remote; i++)
                if (c.ts_remote[i].addr_lo.family != VPN_AF_INET6)
                    c.ts_remote[k++] = c.ts_remote[i];
            c.n_ts_remote = k;
            if (k == 0)
                child_err = VPN_IKEV2_N_TS_UNACCEPTABLE;
        }
        if (child_err == 0) {
            vpn_iov ni = {sa->ni, sa->ni_len}, nr = {sa->nr, sa->nr_len}, none = {NULL, 0};
            if (ikev2_child_keys(sa, &c, false, none, ni, nr) != 0)
                child_err = VPN_IKEV2_N_NO_PROPOSAL_CHOSEN;
        }
        if (child_err == 0) {
            ikev2_child_write_sa(&o.b, &chosen);
            ikev2_child_write_ts(&o.b, &c);
        } else {
            vpn_ikev2_bld_notify(&o.b, 0, NULL, 0, child_err, NULL, 0);
        }
    }
    free(first);
    ikev2_respond(ctx, sa, in, &o);
    if (ikev2_sa_gone(sa)) { /* the response could not be made: reported there */
        OPENSSL_cleanse(&c, sizeof c);
        return;
    }
    sa->auth_remote = VPN_AUTH_METHOD_PSK;
    sa->auth_remote_kind = VPN_CONF_AUTH_EAP;
    sa->eap_phase = 0;
    vpn_eap_server_free(sa->eap_srv);
    sa->eap_srv = NULL;
    OPENSSL_cleanse(sa->msk, sizeof sa->msk);
    ikev2_buf_free(&sa->ra_first);
    free(sa->ra_authz);
    sa->ra_authz = NULL;
    ikev2_sa_established(ctx, sa, now);
    if (want_child && child_err == 0)
        ikev2_child_install(ctx, sa, &c, now, 0);
    else if (want_child)
        ikev2_emit(ctx, sa, VPN_IKEV2_EV_FAILED, ikev2_reason_for(child_err, IKEV2_NF_REFUSED), child_err, NULL,
                   0, "first CHILD_SA refused");
    OPENSSL_cleanse(&c, sizeof c);
}

/* Responder: the IKE_AUTH requests after the first one. */
static void ra_respond(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, const ikev2_in *in)
{
    const vpn_ikev2_payload *eap;
    vpn_eap_answer *a;
    int rc;

    if (sa->eap_wait) {
        /* a new request while the backend still thinks: the peer broke the
         * window of one (2.3); retransmissions never get here */
        responder_fail(ctx, sa, in, VPN_IKEV2_R_PROTOCOL, "IKE_AUTH request while EAP is pending");
        return;
    }
    if (sa->eap_phase == 2) {
        ra_respond_final(ctx, sa, now, in);
        return;
    }
    eap = vpn_ikev2_msg_find(in->msg, VPN_IKEV2_PL_EAP, NULL);
    if (eap == NULL) {
        responder_fail(ctx, sa, in, VPN_IKEV2_R_PROTOCOL, "IKE_AUTH without EAP during EAP");
        return;
    }
    if ((a = vpn_calloc(&ctx->params.alloc, 1, sizeof *a)) == NULL) {
        responder_fail(ctx, sa, in, VPN_IKEV2_R_INTERNAL, "out of memory");
        return;
    }
    if (sa->eap_srv == NULL) {
        /* relayed to the backend: the identity shows in `show` (RFC 3748 5.1) */
        vpn_eap_msg m;
        if (vpn_eap_parse(eap->u.eap.msg.ptr, eap->u.eap.msg.len, &m) == 0 && m.code == 2 &&
            m.type == VPN_EAP_T_IDENTITY && m.data_len > 0 && m.data_len < sizeof sa->eap_identity)
            snprintf(sa->eap_identity, sizeof sa->eap_identity, "%.*s", (int)m.data_len, (const char *)m.data);
    }
    rc = eap_step(ctx, sa, eap->u.eap.msg.ptr, eap->u.eap.msg.len, a);
    if (rc == VPN_IKEV2_EAP_PENDING && eap_hold(sa, in, false) == 0) {
        free(a);
        return;
    }
    if (rc == VPN_IKEV2_EAP_PENDING || local_failure(rc)) {
        free(a);
        responder_internal(ctx, sa, in, rc == VPN_IKEV2_EAP_PENDING ? VPN_ERR_NOMEM : rc, "an EAP step");
        return;
    }
    if (rc != 0) {
        IKEV2_LOG(ctx, VPN_LOG_WARN, "IKE SA %u: EAP message refused (%s)", sa->id,
                  rc > 0 ? "no memory to wait" : vpn_strerror(rc));
        free(a);
        responder_fail(ctx, sa, in, VPN_IKEV2_R_PROTOCOL, "malformed or unexpected EAP message");
        return;
    }
    if (sa->eap_srv != NULL)
        snprintf(sa->eap_identity, sizeof sa->eap_identity, "%s", vpn_eap_server_identity(sa->eap_srv));
    eap_reply(ctx, sa, in, a, false, NULL);
    vpn_eap_answer_wipe(a);
    free(a);
}

int vpn_ikev2_eap_answer(vpn_ikev2_ctx *ctx, uint64_t now, uint32_t ike_sa_id, const vpn_eap_answer *a)
{
    ikev2_enter(ctx, now);
    ikev2_sa *sa;
    ikev2_in in;
    vpn_conf_identity cid;
    ikev2_peer_certs pc;

    (void)now;
    if (ctx == NULL || a == NULL || a->len > sizeof a->msg)
        return VPN_ERR_INVAL;
    if ((sa = ikev2_sa_by_id(ctx, ike_sa_id)) == NULL || !sa->eap_wait || sa->phase == IKEV2_P_DEAD)
        return VPN_ERR_NOTFOUND;
    memset(&in, 0, sizeof in);
    in.raw = sa->eap_wait_raw.p;
    in.raw_len = sa->eap_wait_raw.len;
    in.hdr = sa->eap_wait_hdr;
    sa->eap_wait = false;
    memset(&pc, 0, sizeof pc);
    if (sa->eap_wait_first && ikev2_cert_id_to_conf(&sa->id_remote, &pc, &cid) != 0)
        memset(&cid, 0, sizeof cid);
    eap_reply(ctx, sa, &in, a, sa->eap_wait_first, sa->eap_wait_first ? &cid : NULL);
    ikev2_buf_free(&sa->eap_wait_raw);
    return 0;
}

int vpn_ikev2_eap_authorize(vpn_ikev2_ctx *ctx, uint32_t ike_sa_id, const vpn_cp_authz *z)
{
    ikev2_sa *sa;

    if (ctx == NULL || z == NULL)
        return VPN_ERR_INVAL;
    if ((sa = ikev2_sa_by_id(ctx, ike_sa_id)) == NULL || !sa->eap_wait || sa->initiator ||
        sa->phase == IKEV2_P_DEAD)
        return VPN_ERR_NOTFOUND;
    if (sa->ra_authz == NULL && (sa->ra_authz = vpn_malloc(&ctx->params.alloc, sizeof *sa->ra_authz)) == NULL)
        return VPN_ERR_NOMEM;
    *sa->ra_authz = *z;
    sa->ra_authz->pool[sizeof sa->ra_authz->pool - 1] = '\0';
    if (sa->ra_authz->n_dns > VPN_CP_MAX_DNS)
        sa->ra_authz->n_dns = VPN_CP_MAX_DNS;
    if (sa->ra_authz->n_subnets > VPN_CP_MAX_SUBNETS)
        sa->ra_authz->n_subnets = VPN_CP_MAX_SUBNETS;
    return 0;
}

/* Initiator: sends the next IKE_AUTH request with an EAP message or the
 * final AUTH. */
static int ra_send(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, const uint8_t *eap, size_t eap_len)
{
    ikev2_out o;
    size_t n = 0;
    int rc;

    ikev2_req_clear(sa);
    ikev2_out_begin(ctx, sa, &o, VPN_IKEV2_IKE_AUTH, sa->mid_send, false, true);
    if (eap != NULL) {
        vpn_ikev2_bld_eap(&o.b, eap, eap_len);
    } else {
        uint8_t mine[VPN_PRF_MAX_LEN];
        size_t ml = 0;
        if ((rc = eap_auth_value(sa, true, mine, &ml)) != 0)
            return rc;
        vpn_ikev2_bld_auth(&o.b, VPN_AUTH_METHOD_PSK, mine, ml);
        OPENSSL_cleanse(mine, sizeof mine);
    }
    if ((rc = ikev2_out_finish(ctx, sa, &o, sa->req.msg, &n)) != 0)
        return rc;
    sa->req.n_msg = n;
    sa->req.task = IKEV2_T_AUTH;
    sa->req.type = VPN_IKEV2_IKE_AUTH;
    sa->req.mid = sa->mid_send++;
    ikev2_req_start(ctx, sa, now);
    return 0;
}

/* Initiator: every IKE_AUTH response of an EAP exchange. */
static void ra_response(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, const ikev2_in *in)
{
    const vpn_ikev2_msg *m = in->msg;
    const vpn_ikev2_payload *eap, *auth, *cp;
    const char *why = NULL;
    vpn_eap_answer *a;
    int rc;

    if (vpn_ikev2_msg_find_notify(m, VPN_IKEV2_N_AUTHENTICATION_FAILED, NULL)) {
        ikev2_req_clear(sa);
        ikev2_sa_kill(ctx, sa, VPN_IKEV2_R_PEER_AUTH_FAILED, VPN_IKEV2_N_AUTHENTICATION_FAILED,
                      "responder rejected our EAP authentication");
        return;
    }
    if (!sa->ra_peer_authed) {
        const vpn_ikev2_payload *idr = vpn_ikev2_msg_find(m, VPN_IKEV2_PL_IDR, NULL);
        vpn_conf_identity cid;
        ikev2_peer_certs pc;
        auth = vpn_ikev2_msg_find(m, VPN_IKEV2_PL_AUTH, NULL);
        if (idr == NULL || auth == NULL) {
            const vpn_ikev2_payload *err = NULL;
            for (size_t i = 0; i < m->n && err == NULL; i++)
                if (m->pl[i].type == VPN_IKEV2_PL_NOTIFY && vpn_ikev2_notify_is_error(m->pl[i].u.notify.type))
                    err = &m->pl[i];
            ikev2_req_clear(sa);
            ikev2_sa_kill(ctx, sa, err ? VPN_IKEV2_R_PEER_ERROR : VPN_IKEV2_R_PROTOCOL,
                          err ? err->u.notify.type : 0,
                          err ? vpn_ikev2_notify_name(err->u.notify.type) : "IKE_AUTH response without IDr and AUTH");
            return;
        }
        ikev2_peer_certs_load(m, &pc);
        if (remote_id_read(ctx, sa, idr) != 0 || ikev2_cert_id_to_conf(&sa->id_remote, &pc, &cid) != 0 ||
            !vpn_conf_profile_matches(sa->profile, &cid)) {
            ikev2_peer_certs_free(&pc);
            initiator_auth_failed(ctx, sa, now, "responder identity does not match the profile");
            return;
        }
        /* RFC 7296 2.16: the responder proves itself first, with a certificate or PSK */
        if (check_auth(ctx, sa, now, auth, &pc, &cid, false, &why) != 0) {
            ikev2_peer_certs_free(&pc);
            initiator_auth_failed(ctx, sa, now, why);
            return;
        }
        ikev2_peer_certs_free(&pc);
        if (cid.type == VPN_CONF_ID_DN)
            snprintf(sa->dn_remote, sizeof sa->dn_remote, "%s", cid.value);
        sa->ra_peer_authed = true;
    } else if (sa->eap_phase == 2) {
        ikev2_child c;
        uint16_t child_err;
        /* the final response: the responder's AUTH with the MSK, CP, the CHILD_SA */
        auth = vpn_ikev2_msg_find(m, VPN_IKEV2_PL_AUTH, NULL);
        for (size_t i = 0; auth == NULL && i < m->n; i++)
            if (m->pl[i].type == VPN_IKEV2_PL_NOTIFY && vpn_ikev2_notify_is_error(m->pl[i].u.notify.type)) {
                /* e.g. INTERNAL_ADDRESS_FAILURE (3.15.4): the hub kept nothing */
                uint16_t t = m->pl[i].u.notify.type;
                ikev2_req_clear(sa);
                ikev2_sa_kill(ctx, sa, VPN_IKEV2_R_PEER_ERROR, t, vpn_ikev2_notify_name(t));
                return;
            }
        if (!eap_auth_ok(sa, false, auth)) {
            initiator_auth_failed(ctx, sa, now, "responder's AUTH after EAP does not verify");
            return;
        }
        cp = vpn_ikev2_msg_find(m, VPN_IKEV2_PL_CP, NULL);
        if (cp != NULL) {
            vpn_cp_grant g;
            if (vpn_cp_parse_reply(cp, &g) == 0) {
                sa->ra_addr = g.address;
                sa->ra_cfg = g;
                sa->ra_has_cfg = true;
                sa->ra_cfg_received = true;
            }
        }
        sa->eap_phase = 0;
        OPENSSL_cleanse(sa->msk, sizeof sa->msk);
        sa->auth_local_kind = VPN_CONF_AUTH_EAP;
        ikev2_sa_established(ctx, sa, now);
        memset(&c, 0, sizeof c);
        /* ra_creq: set with eap_phase by ikev2_auth_start, needed no more */
        child_err = ikev2_child_check(ctx, sa, m, sa->ra_creq, &c);
        free(sa->ra_creq);
        sa->ra_creq = NULL;
        if (child_err == 0) {
            vpn_iov ni = {sa->ni, sa->ni_len}, nr = {sa->nr, sa->nr_len}, none = {NULL, 0};
            if (ikev2_child_keys(sa, &c, true, none, ni, nr) != 0)
                child_err = VPN_IKEV2_N_INVALID_SYNTAX;
        }
        ikev2_req_clear(sa);
        if (child_err == 0) {
            ikev2_child_install(ctx, sa, &c, now, 0);
        } else {
            vpn_ikev2_reason r = ikev2_reason_for(child_err, IKEV2_NF_CHILD);
            ikev2_emit(ctx, sa, VPN_IKEV2_EV_FAILED, r, child_err, NULL, 0, "first CHILD_SA not created");
            ikev2_sa_close(ctx, sa, now, r, child_err, "no CHILD_SA", IKEV2_T_IKE_DELETE);
        }
        OPENSSL_cleanse(&c, sizeof c);
        return;
    }
    eap = vpn_ikev2_msg_find(m, VPN_IKEV2_PL_EAP, NULL);
    if (eap == NULL) {
        initiator_auth_failed(ctx, sa, now, "IKE_AUTH response without EAP");
        return;
    }
    if ((a = vpn_calloc(&ctx->params.alloc, 1, sizeof *a)) == NULL) {
        ikev2_req_clear(sa);
        ikev2_internal_error(ctx, sa, now, VPN_ERR_NOMEM, "an EAP answer");
        return;
    }
    rc = vpn_eap_peer_process(sa->eap_peer, eap->u.eap.msg.ptr, eap->u.eap.msg.len, a);
    if (local_failure(rc)) {
        free(a);
        ikev2_req_clear(sa);
        ikev2_internal_error(ctx, sa, now, rc, "an EAP step");
        return;
    }
    if (rc != 0 || a->result == VPN_EAP_FAILURE) {
        bool failure = rc == 0;
        free(a);
        if (failure) {
            ikev2_req_clear(sa);
            ikev2_sa_kill(ctx, sa, VPN_IKEV2_R_PEER_AUTH_FAILED, VPN_IKEV2_N_AUTHENTICATION_FAILED,
                          "EAP-Failure from the responder");
        } else {
            initiator_auth_failed(ctx, sa, now,
                                  rc == VPN_ERR_AUTH ? "EAP server does not know our password"
                                                     : "malformed or unexpected EAP message");
        }
        return;
    }
    if (a->result == VPN_EAP_SUCCESS) {
        memcpy(sa->msk, a->msk, a->msk_len);
        sa->msk_len = a->msk_len;
        sa->eap_phase = 2;
        rc = ra_send(ctx, sa, now, NULL, 0);
    } else {
        rc = ra_send(ctx, sa, now, a->msg, a->len);
    }
    vpn_eap_answer_wipe(a);
    free(a);
    if (rc != 0) /* local: the AUTH value, building, encrypting */
        ikev2_internal_error(ctx, sa, now, rc, "building the next IKE_AUTH request");
}

int vpn_ikev2_pool_get(const vpn_ikev2_ctx *ctx, size_t index, vpn_ikev2_pool_info *out)
{
    if (ctx == NULL || out == NULL)
        return VPN_ERR_INVAL;
    uint8_t family = VPN_AF_INET;
    if (index >= ctx->conf->n_ip_pool + ctx->conf->n_ipv6_pool)
        return VPN_ERR_NOTFOUND;
    memset(out, 0, sizeof *out);
    if (index < ctx->conf->n_ip_pool) {
        out->name = ctx->conf->ip_pool[index].name;
        out->first = ctx->conf->ip_pool[index].first;
        out->last = ctx->conf->ip_pool[index].last;
        out->size = vpn_addr_v4_u32(&out->last) - vpn_addr_v4_u32(&out->first) + 1;
    } else {
        /* the `ipv6 local pool`s after the IPv4 ones: the first addresses
         * of the first and last prefixes handed out, how many there are */
        const vpn_conf_ipv6_pool *cp = &ctx->conf->ipv6_pool[index - ctx->conf->n_ip_pool];
        family = VPN_AF_INET6;
        out->name = cp->name;
        /* arithmetic, nothing allocated: the conf checked the prefix, so
         * this cannot fail; if it did, *out keeps no bounds and size 0 */
        (void)vpn_ippool_bounds6(&cp->prefix, cp->assigned_len, &out->first, &out->last, &out->size);
    }
    for (size_t i = 0; i < ctx->n_pool; i++)
        if (ctx->pool[i].family == family && strcmp(ctx->pool[i].name, out->name) == 0)
            out->in_use = ctx->pool[i].used;
    return 0;
}

/* process_r: IKE_AUTH follows IKE_SA_INIT, on a half-open SA only (RFC
 * 7296 1.2); on an SA past it the request is of no exchange it runs. */
static void auth_process_r(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, const ikev2_in *in)
{
    if (sa->phase == IKEV2_P_HALF_OPEN)
        auth_respond(ctx, sa, now, in);
    else
        ikev2_respond_notify(ctx, sa, in, VPN_IKEV2_N_INVALID_SYNTAX, 0, NULL, 0, NULL, 0);
}

/* IKE_AUTH: started by the answer to IKE_SA_INIT (ikev2_auth_start), not
 * from the queue. */
const ikev2_exch_ops ikev2_auth_ops = {
    "IKE_AUTH", NULL, ikev2_auth_response, auth_process_r, NULL,
};
