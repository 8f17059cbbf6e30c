/*
 * EAP (RFC 3748) as IKEv2 carries it (RFC 7296 2.16), sans-IO.
 *
 * Two conversation objects, each fed one whole EAP message at a time (the
 * body of an IKEv2 EAP payload) and answering with the next one:
 *   - vpn_eap_server: the authenticator with a local user database (the
 *     `username U password P` lines). It asks the driver for a user's
 *     password through a callback, so a RADIUS passthrough backend fits
 *     the same answer shape (vpn_eap_answer) without this object;
 *   - vpn_eap_peer: the client side with one username and password.
 * Methods: Identity (1), MD5-Challenge (4, RFC 3748 5.4), GTC (6, RFC 3748
 * 5.6) and MSCHAPv2 (26; RFC 2759 for the challenge and responses, the EAP
 * framing of draft-kamath-pppext-eap-mschapv2, RFC 3079 for the keys). Only
 * MSCHAPv2 generates an MSK; IKEv2 then signs its AUTH with it (RFC 7296
 * 2.16), with the others the shared key is SK_pi / SK_pr.
 *
 * Bad input (truncated, wrong lengths, wrong Identifier, unexpected codes
 * or opcodes) is refused with a negative code and leaves the conversation
 * exactly as it was, as RFC 3748 4.1 wants for silently discarded packets.
 * No object keeps a password longer than one call; keys are wiped on free.
 */
#ifndef VPN_IKEV2_EAP_H
#define VPN_IKEV2_EAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/alloc.h"
#include "common/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

/* RFC 3748 5 and the IANA EAP method registry. */
enum vpn_eap_type {
    VPN_EAP_T_IDENTITY = 1,
    VPN_EAP_T_NOTIFICATION = 2,
    VPN_EAP_T_NAK = 3,
    VPN_EAP_T_MD5 = 4,
    VPN_EAP_T_GTC = 6,
    VPN_EAP_T_MSCHAPV2 = 26,
};

/* Methods a side accepts, as a mask. */
#define VPN_EAP_M_MD5 (1u << 0)
#define VPN_EAP_M_GTC (1u << 1)
#define VPN_EAP_M_MSCHAPV2 (1u << 2)

#define VPN_EAP_MSK_LEN 64
/* Longest EAP message either side builds or accepts; IKE payloads are far
 * below the 65535 the Length field allows. */
#define VPN_EAP_MSG_MAX 1024
#define VPN_EAP_NAME_MAX 253 /* identities and passwords */

/* ---- MSCHAPv2 primitives (RFC 2759 8, RFC 3079 3) ------------------------- */

/*
 * NtPasswordHash (RFC 2759 8.3 with erratum 1924): MD4 over the password in
 * UTF-16LE. The password is UTF-8 (BMP characters only, at most 256).
 * Errors: VPN_ERR_INVAL, VPN_ERR_MALFORMED (bad UTF-8 or too long),
 * VPN_ERR_CRYPTO.
 */
int vpn_mschapv2_pw_hash(const char *pw, size_t pw_len, uint8_t out[16]);

/* GenerateNTResponse (RFC 2759 8.1); user may carry a DOMAIN\ prefix, which
 * ChallengeHash leaves out (RFC 2759 4). Errors: VPN_ERR_INVAL, VPN_ERR_CRYPTO. */
int vpn_mschapv2_nt_response(const uint8_t auth_chal[16], const uint8_t peer_chal[16],
                             const char *user, size_t user_len, const uint8_t pw_hash[16],
                             uint8_t out[24]);

/* GenerateAuthenticatorResponse (RFC 2759 8.7): writes "S=" and 40
 * upper-case hex digits plus a NUL (43 octets). Errors: as above. */
int vpn_mschapv2_auth_response(const uint8_t pw_hash[16], const uint8_t nt_resp[24],
                               const uint8_t peer_chal[16], const uint8_t auth_chal[16],
                               const char *user, size_t user_len, char out[43]);

/* GetMasterKey (RFC 3079 3.4) from PasswordHashHash. Errors: as above. */
int vpn_mschapv2_master_key(const uint8_t pw_hash_hash[16], const uint8_t nt_resp[24],
                            uint8_t out[16]);

/* GetAsymmetricStartKey (RFC 3079 3.4), 16 octets. Errors: as above. */
int vpn_mschapv2_start_key(const uint8_t master[16], bool is_send, bool is_server,
                           uint8_t out[16]);

/*
 * The MSK of EAP-MSCHAPv2: MasterReceiveKey | MasterSendKey, both as the
 * authenticator names them (RFC 3079 3.4 magic 2 then magic 3), padded
 * with 32 zeros to the 64 octets RFC 3748 7.10 asks for; the same on both
 * sides (what strongSwan and hostapd derive). Errors: as above.
 */
int vpn_mschapv2_msk(const uint8_t pw_hash[16], const uint8_t nt_resp[24],
                     uint8_t msk[VPN_EAP_MSK_LEN]);

/* ---- one parsed EAP message -------------------------------------------- */

/* RFC 3748 4: Code, Identifier, Length, and Type for Request/Response. */
typedef struct vpn_eap_msg {
    uint8_t code;  /* 1 Request, 2 Response, 3 Success, 4 Failure */
    uint8_t ident;
    uint8_t type;  /* 0 for Success/Failure */
    const uint8_t *data; /* type-data (borrowed) */
    size_t data_len;
} vpn_eap_msg;

/*
 * Parses a whole EAP message: Length must equal len, Success/Failure are
 * exactly 4 octets, Request/Response carry a Type, other codes are refused.
 * Errors: VPN_ERR_INVAL, VPN_ERR_TRUNCATED, VPN_ERR_MALFORMED,
 * VPN_ERR_UNSUPPORTED (code 5/6 of RFC 6696 or unknown).
 */
int vpn_eap_parse(const uint8_t *p, size_t len, vpn_eap_msg *out);

/* ---- what either side answers ------------------------------------------- */

typedef enum vpn_eap_result {
    VPN_EAP_CONTINUE = 0, /* msg is the next message to send */
    VPN_EAP_SUCCESS,      /* server: msg is EAP-Success; peer: done (nothing to send) */
    VPN_EAP_FAILURE,      /* server: msg is EAP-Failure; peer: the server refused us */
} vpn_eap_result;

typedef struct vpn_eap_answer {
    vpn_eap_result result;
    uint8_t msg[VPN_EAP_MSG_MAX];
    size_t len;                    /* 0: nothing to send */
    uint8_t msk[VPN_EAP_MSK_LEN];
    size_t msk_len;                /* SUCCESS with a key-generating method, else 0 */
} vpn_eap_answer;

/* Wipes the MSK in an answer. */
void vpn_eap_answer_wipe(vpn_eap_answer *a);

/* ---- the authenticator ----------------------------------------------------- */

/*
 * The local user database: writes the user's cleartext password (needed by
 * every method here) to out (cap octets) and returns its length, or
 * VPN_ERR_NOTFOUND for an unknown user. Called only during
 * vpn_eap_server_process.
 */
typedef int (*vpn_eap_password_fn)(void *user, const char *name, char *out, size_t cap);

typedef struct vpn_eap_server_params {
    unsigned methods;   /* VPN_EAP_M_* accepted; the first request offers the
                           strongest (MSCHAPv2 > GTC > MD5) */
    bool query_identity; /* start with Request/Identity (IOS
                            `authentication remote eap query-identity`) */
    const char *identity; /* otherwise the identity to authenticate (the IKE
                             IDi); copied */
    const char *server_name; /* the MSCHAPv2 Name field; NULL: "vpn" */
    vpn_rng rng;
    vpn_eap_password_fn password;
    void *user;
    vpn_alloc alloc; /* asked before the allocation (zeroed: allowed; common/alloc.h) */
} vpn_eap_server_params;

typedef struct vpn_eap_server vpn_eap_server;

/* Errors: VPN_ERR_INVAL (no method, no callback, no identity without
 * query_identity, overlong identity), VPN_ERR_NOMEM. *out owns the object. */
int vpn_eap_server_new(vpn_eap_server **out, const vpn_eap_server_params *p);
void vpn_eap_server_free(vpn_eap_server *s);

/* The first Request. Errors: VPN_ERR_STATE (already started), rng errors. */
int vpn_eap_server_start(vpn_eap_server *s, vpn_eap_answer *a);

/*
 * Takes the peer's Response. A wrong credential or an unknown user is not an
 * error: the answer is FAILURE with an EAP-Failure to send. Errors (the
 * conversation is unchanged, drop the message): VPN_ERR_INVAL, the
 * vpn_eap_parse errors, VPN_ERR_STATE (not a Response, wrong Identifier,
 * or the conversation is over), VPN_ERR_MALFORMED (method data that does not
 * parse), rng and crypto errors.
 */
int vpn_eap_server_process(vpn_eap_server *s, const uint8_t *msg, size_t len, vpn_eap_answer *a);

/* The identity being authenticated ("" until known). */
const char *vpn_eap_server_identity(const vpn_eap_server *s);
/* The method in use (enum vpn_eap_type), 0 before one is chosen. */
uint8_t vpn_eap_server_method(const vpn_eap_server *s);

/* ---- the peer ------------------------------------------------------------ */

typedef struct vpn_eap_peer_params {
    unsigned methods; /* VPN_EAP_M_* we agree to; others are Nak'ed */
    const char *identity;
    const char *password;
    vpn_rng rng;
    vpn_alloc alloc; /* asked before the allocation (zeroed: allowed; common/alloc.h) */
} vpn_eap_peer_params;

typedef struct vpn_eap_peer vpn_eap_peer;

/* Copies identity and password (wiped on free). Errors: VPN_ERR_INVAL,
 * VPN_ERR_NOMEM. */
int vpn_eap_peer_new(vpn_eap_peer **out, const vpn_eap_peer_params *p);
void vpn_eap_peer_free(vpn_eap_peer *p);

/*
 * Takes the server's Request, Success or Failure. CONTINUE: send msg.
 * SUCCESS: the method finished (for MSCHAPv2 the authenticator response
 * verified) and msk holds its key if any. FAILURE: the server refused.
 * Errors (state unchanged): the vpn_eap_parse errors, VPN_ERR_STATE (a
 * Response, a Success before the method finished, anything after the end),
 * VPN_ERR_MALFORMED, VPN_ERR_AUTH (the MSCHAPv2 authenticator response is
 * wrong: the server does not know our password; the caller ends the IKE SA),
 * rng and crypto errors.
 */
int vpn_eap_peer_process(vpn_eap_peer *p, const uint8_t *msg, size_t len, vpn_eap_answer *a);

#ifdef __cplusplus
}
#endif

#endif
