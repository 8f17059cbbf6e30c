/*
 * INFORMATIONAL exchanges (RFC 7296 1.4): Delete of CHILD_SAs and of the
 * IKE SA (1.4.1), liveness checks (an empty request, 1.4 and 2.4), and
 * the AUTHENTICATION_FAILED report of an initiator (2.21.2).
 *
 *   HDR, SK {[N,] [D,] ...}  -->   <--  HDR, SK {[N,] [D,] ...}
 */
#include <string.h>

#include "common/vpn-err.h"
#include "ikev2/ikev2-eng.h"

int ikev2_info_start(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, ikev2_task task, uint32_t child_id)
{
    ikev2_exch *x = &sa->req;
    ikev2_child *c = NULL;
    ikev2_out o;
    size_t n = 0;
    int rc;

    if (task == IKEV2_T_CHILD_DELETE) {
        c = ikev2_child_by_id(sa, child_id);
        if (c == NULL)
            return VPN_ERR_NOTFOUND;
    }
    ikev2_req_clear(sa);
    ikev2_out_begin(ctx, sa, &o, VPN_IKEV2_INFORMATIONAL, sa->mid_send, false, true);
    switch (task) {
    case IKEV2_T_IKE_DELETE:
        /* RFC 7296 3.11: the IKE SA is named by the header; no SPI */
        vpn_ikev2_bld_delete(&o.b, VPN_IKEV2_PROTO_IKE, 0, NULL, 0);
        break;
    case IKEV2_T_CHILD_DELETE: {
        /* the SPI we receive on (3.11) */
        uint8_t spi[4];
        vpn_store32(spi, c->spi_in);
        vpn_ikev2_bld_delete(&o.b, VPN_IKEV2_PROTO_ESP, 4, spi, 1);
        if (c->state != IKEV2_C_REKEYED)
            c->state = IKEV2_C_DELETING;
        break;
    }
    case IKEV2_T_AUTH_FAILED:
        vpn_ikev2_bld_notify(&o.b, 0, NULL, 0, VPN_IKEV2_N_AUTHENTICATION_FAILED, NULL, 0);
        break;
    case IKEV2_T_DPD:
        break; /* an empty request asks "are you there?" */
    default:
        return VPN_ERR_INVAL;
    }
    if ((rc = ikev2_out_finish(ctx, sa, &o, x->msg, &n)) != 0)
        return rc;
    x->n_msg = n;
    x->task = task;
    x->type = VPN_IKEV2_INFORMATIONAL;
    x->child_id = child_id;
    x->mid = sa->mid_send++;
    if (task == IKEV2_T_DPD && sa->profile && sa->profile->dpd_retry_s) {
        /* IOS `dpd N M`: retry every M seconds */
        x->fixed_rto = true;
        x->rto = (uint64_t)sa->profile->dpd_retry_s * NS_PER_S;
    }
    ikev2_req_start(ctx, sa, now);
    return 0;
}

/* Removes a CHILD_SA, telling the driver if it ever knew of it. */
static void child_gone(vpn_ikev2_ctx *ctx, ikev2_sa *sa, ikev2_child *c, vpn_ikev2_reason r)
{
    if (c->announced)
        ikev2_emit(ctx, sa, VPN_IKEV2_EV_CHILD_DOWN, c->state == IKEV2_C_REKEYED ? VPN_IKEV2_R_REKEYED : r, 0,
                   c, 0, NULL);
    ikev2_child_remove(ctx, sa, c);
}

static void info_process_r(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, const ikev2_in *in)
{
    const vpn_ikev2_msg *m = in->msg;
    uint8_t spis[4 * 64];
    size_t n_spis = 0;
    bool delete_ike = false, auth_failed = false;
    ikev2_out o;

    for (size_t i = 0; i < m->n; i++) {
        const vpn_ikev2_payload *p = &m->pl[i];
        if (p->type == VPN_IKEV2_PL_DELETE) {
            const vpn_ikev2_pl_delete *d = &p->u.del;
            if (d->proto == VPN_IKEV2_PROTO_IKE) {
                delete_ike = true;
                continue;
            }
            if (d->proto != VPN_IKEV2_PROTO_ESP || d->spi_size != 4)
                continue; /* AH or bad sizes: nothing of ours */
            for (uint16_t k = 0; k < d->n_spi; k++) {
                uint32_t spi = vpn_load32(d->spis.ptr + 4u * k);
                ikev2_child *c = ikev2_child_by_spi_out(sa, spi);
                bool ours_too;
                if (c == NULL)
                    continue; /* RFC 7296 1.4.1: unknown SPIs are ignored */
                /* 1.4.1: if we are deleting it too, our response does not
                 * name it; otherwise we answer with our SPI */
                ours_too = ikev2_req_find(sa, IKEV2_T_CHILD_DELETE, c->id) != NULL;
                if (!ours_too && n_spis < sizeof spis / 4)
                    vpn_store32(spis + 4 * n_spis++, c->spi_in);
                child_gone(ctx, sa, c, VPN_IKEV2_R_PEER_DELETE);
            }
        } else if (p->type == VPN_IKEV2_PL_NOTIFY && p->u.notify.type == VPN_IKEV2_N_AUTHENTICATION_FAILED) {
            auth_failed = true;
        } else if (p->type == VPN_IKEV2_PL_NOTIFY) {
            IKEV2_LOG(ctx, VPN_LOG_INFO, "IKE SA %u: peer says %s", sa->id,
                      vpn_ikev2_notify_name(p->u.notify.type));
        }
    }
    ikev2_out_begin(ctx, sa, &o, VPN_IKEV2_INFORMATIONAL, in->hdr.msg_id, true, true);
    if (!delete_ike && n_spis)
        vpn_ikev2_bld_delete(&o.b, VPN_IKEV2_PROTO_ESP, 4, spis, n_spis);
    ikev2_respond(ctx, sa, in, &o);
    if (delete_ike) {
        /* RFC 7296 2.4: our answer may be lost; keep it for the retransmission */
        ikev2_tomb_keep(ctx, sa, now);
        /* RFC 7296 1.4.1: the IKE SA and all its children are gone, unless
         * they moved to the peer's new SA of a colliding rekey (2.8.2) */
        ikev2_ike_rekey_peer_won(ctx, sa, now);
        ikev2_sa_kill(ctx, sa, sa->rekeyed_to ? VPN_IKEV2_R_REKEYED : VPN_IKEV2_R_PEER_DELETE, 0, NULL);
    } else if (auth_failed) {
        /* 2.21.2: the initiator did not accept our AUTH */
        ikev2_sa_kill(ctx, sa, VPN_IKEV2_R_PEER_AUTH_FAILED, VPN_IKEV2_N_AUTHENTICATION_FAILED,
                      "initiator rejected our authentication");
    }
}

static void info_response(vpn_ikev2_ctx *ctx, ikev2_sa *sa, uint64_t now, const ikev2_in *in)
{
    ikev2_task t = sa->req.task;
    uint32_t child_id = sa->req.child_id;
    ikev2_child *c;

    (void)now;
    (void)in;
    ikev2_req_clear(sa);
    switch (t) {
    case IKEV2_T_IKE_DELETE:
    case IKEV2_T_AUTH_FAILED:
        /* the driver heard about it when we decided */
        sa->down_emitted = true;
        ikev2_sa_kill(ctx, sa, VPN_IKEV2_R_LOCAL_DELETE, 0, NULL);
        break;
    case IKEV2_T_CHILD_DELETE:
        if ((c = ikev2_child_by_id(sa, child_id)) != NULL)
            child_gone(ctx, sa, c, VPN_IKEV2_R_LOCAL_DELETE);
        break;
    default:
        break; /* DPD: the answer itself was the point */
    }
}

const ikev2_exch_ops ikev2_info_ops = {
    "INFORMATIONAL", ikev2_info_start, info_response, info_process_r, NULL,
};
