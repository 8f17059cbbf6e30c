/*
 * RADIUS client (RFC 2865) for EAP passthrough (RFC 3579), sans-IO.
 *
 * What a FlexVPN hub needs to let a RADIUS server (FreeRADIUS in the
 * interop tests) authenticate remote-access users: the IKEv2 responder
 * relays each EAP message of the client in an Access-Request and relays
 * the server's answer back; the Access-Accept carries the MSK (RFC 2548
 * MS-MPPE-Recv-Key / MS-MPPE-Send-Key) that IKEv2 signs its AUTH with
 * (RFC 7296 2.16) and the authorization attributes (Framed-IP-Address,
 * Framed-Route, Cisco AV-pairs).
 *
 * Two layers:
 *   - a codec: vpn_radius_parse checks the framing (RFC 2865 3, 5),
 *     vpn_radius_verify checks a reply's Response Authenticator and
 *     Message-Authenticator (RFC 3579 3.2) against the request it answers,
 *     vpn_radius_mppe_* hide and recover the MPPE keys (RFC 2548 2.4.2);
 *   - a client: one EAP conversation per caller handle (the IKE SA id),
 *     each waiting for at most one reply; retransmission to the same
 *     server with the same Identifier and Request Authenticator (RFC 2865
 *     2.5), then failover to the next server (a fresh request). The driver
 *     sends what the send callback hands it, feeds replies to
 *     vpn_radius_input and calls vpn_radius_timeout at vpn_radius_deadline.
 *
 * Every reply is hostile: one that does not parse, does not match a
 * request, or fails its authenticators is dropped (an error code, nothing
 * changes), as RFC 2865 3 and RFC 3579 3.2 require.
 */
#ifndef VPN_RADIUS_H
#define VPN_RADIUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/rng.h"
#include "common/wire.h"
#include "ikev2/ikev2-eap.h"

#ifdef __cplusplus
extern "C" {
#endif

/* RFC 2865 3 and 4 */
enum vpn_radius_code {
    VPN_RADIUS_ACCESS_REQUEST = 1,
    VPN_RADIUS_ACCESS_ACCEPT = 2,
    VPN_RADIUS_ACCESS_REJECT = 3,
    VPN_RADIUS_ACCESS_CHALLENGE = 11,
};

/* RFC 2865 5, RFC 3579 3 */
enum vpn_radius_attr {
    VPN_RADIUS_A_USER_NAME = 1,
    VPN_RADIUS_A_SERVICE_TYPE = 6,
    VPN_RADIUS_A_FRAMED_IP_ADDRESS = 8,
    VPN_RADIUS_A_FRAMED_MTU = 12,
    VPN_RADIUS_A_REPLY_MESSAGE = 18,
    VPN_RADIUS_A_FRAMED_ROUTE = 22,
    VPN_RADIUS_A_STATE = 24,
    VPN_RADIUS_A_VENDOR_SPECIFIC = 26,
    VPN_RADIUS_A_NAS_IDENTIFIER = 32,
    VPN_RADIUS_A_NAS_PORT_TYPE = 61,
    VPN_RADIUS_A_EAP_MESSAGE = 79,
    VPN_RADIUS_A_FRAMED_POOL = 88, /* RFC 2869 5.18 */
    VPN_RADIUS_A_MESSAGE_AUTHENTICATOR = 80,
};

#define VPN_RADIUS_VENDOR_CISCO 9
#define VPN_RADIUS_CISCO_AVPAIR 1
#define VPN_RADIUS_VENDOR_MICROSOFT 311
#define VPN_RADIUS_MS_MPPE_SEND_KEY 16 /* RFC 2548 2.4.2 */
#define VPN_RADIUS_MS_MPPE_RECV_KEY 17 /* RFC 2548 2.4.3 */

#define VPN_RADIUS_HDR_LEN 20
#define VPN_RADIUS_MAX_LEN 4096 /* RFC 2865 3 */
#define VPN_RADIUS_AUTH_LEN 16
#define VPN_RADIUS_SECRET_MAX 128

/* ---- codec ------------------------------------------------------------- */

typedef struct vpn_radius_pkt {
    uint8_t code, ident;
    const uint8_t *auth;  /* 16 octets, borrowed */
    const uint8_t *attrs; /* borrowed */
    size_t attrs_len;
    size_t len;           /* the Length field: octets after it are padding (RFC 2865 3) */
} vpn_radius_pkt;

/*
 * Checks the framing of one datagram: at least 20 octets, a Length field
 * between 20 and 4096 and not beyond the datagram, attributes each at
 * least 2 octets long and filling the packet exactly.
 * Errors: VPN_ERR_INVAL, VPN_ERR_TRUNCATED, VPN_ERR_MALFORMED.
 */
int vpn_radius_parse(const uint8_t *p, size_t len, vpn_radius_pkt *out);

/* Walks the attributes of a packet: vpn_radius_attr_first, then
 * vpn_radius_attr_next while it returns 1 (type and value, borrowed).
 * Returns 0 at the end. Every attribute is read through the bounds-checked
 * readers of common/wire.h, so a pkt not from vpn_radius_parse is safe too:
 * an attribute whose Length is below 2 (RFC 2865 5) gives
 * VPN_ERR_MALFORMED, one cut off or running past the attributes
 * VPN_ERR_TRUNCATED; the walk then stays at its error. */
typedef struct vpn_radius_iter {
    vpn_rd r;
} vpn_radius_iter;
void vpn_radius_attr_first(vpn_radius_iter *it, const vpn_radius_pkt *pkt);
int vpn_radius_attr_next(vpn_radius_iter *it, uint8_t *type, const uint8_t **val, size_t *len);

/*
 * Checks a reply (the whole datagram, parsed as pkt) against the request
 * it answers: the Response Authenticator MD5(Code | Identifier | Length |
 * Request Authenticator | Attributes | Secret) (RFC 2865 3), and the
 * Message-Authenticator HMAC-MD5 over the packet with the Request
 * Authenticator in place and its own value zeroed (RFC 3579 3.2), which
 * must be there when the reply carries an EAP-Message and appear at most
 * once. Comparisons take constant time.
 * Errors: VPN_ERR_INVAL, VPN_ERR_AUTH, VPN_ERR_MALFORMED (a
 * Message-Authenticator of the wrong length, or twice), VPN_ERR_CRYPTO.
 */
int vpn_radius_verify(const vpn_radius_pkt *pkt, const uint8_t req_auth[VPN_RADIUS_AUTH_LEN],
                      const uint8_t *secret, size_t secret_len);

/*
 * RFC 2548 2.4.2: the String of an MS-MPPE-Send/Recv-Key attribute is a
 * 2-octet Salt (high bit set) and the key's length octet, key and zero
 * padding to 16-octet blocks, each block XORed with b(1) = MD5(secret |
 * Request Authenticator | Salt), b(i) = MD5(secret | c(i-1)).
 * decrypt: val/len is the String; writes the key (cap octets at most) and
 * its length. Errors: VPN_ERR_INVAL, VPN_ERR_MALFORMED (length not 2 +
 * 16k, key length beyond the blocks, salt without its high bit),
 * VPN_ERR_NOSPACE, VPN_ERR_CRYPTO.
 * encrypt (what a server does; for tests and tools): key_len <= 240,
 * out must hold 2 + 16 * ceil((1 + key_len) / 16) octets, *out_len set.
 * Errors: VPN_ERR_INVAL, VPN_ERR_NOSPACE, VPN_ERR_CRYPTO.
 */
int vpn_radius_mppe_decrypt(const uint8_t *val, size_t len, const uint8_t req_auth[VPN_RADIUS_AUTH_LEN],
                            const uint8_t *secret, size_t secret_len, uint8_t *out, size_t cap,
                            size_t *out_len);
int vpn_radius_mppe_encrypt(const uint8_t *key, size_t key_len, const uint8_t salt[2],
                            const uint8_t req_auth[VPN_RADIUS_AUTH_LEN], const uint8_t *secret,
                            size_t secret_len, uint8_t *out, size_t cap, size_t *out_len);

/*
 * Signs a packet in buf (len octets, Length field already right) as a
 * server or NAS would: if it has a Message-Authenticator attribute, fills
 * it (HMAC-MD5 with req_auth in the Authenticator field, RFC 3579 3.2);
 * then for a reply (code != Access-Request) writes the Response
 * Authenticator. For an Access-Request the Authenticator field must
 * already hold its random Request Authenticator (= req_auth).
 * Errors: VPN_ERR_INVAL, the vpn_radius_parse errors, VPN_ERR_CRYPTO.
 */
int vpn_radius_sign(uint8_t *buf, size_t len, const uint8_t req_auth[VPN_RADIUS_AUTH_LEN], const uint8_t *secret,
                    size_t secret_len);

/* ---- the client ----------------------------------------------------------- */

typedef struct vpn_radius_server {
    vpn_addr addr;
    uint16_t port;      /* 0: 1812 */
    const char *secret; /* copied; wiped on free */
} vpn_radius_server;

#define VPN_RADIUS_SERVERS_MAX 8
#define VPN_RADIUS_ROUTES_MAX 8
#define VPN_RADIUS_DNS_MAX 2

/* What the server said, handed to the answer callback. */
typedef struct vpn_radius_result {
    /* 0, or VPN_ERR_EXPIRED when no server answered (eap is then a
     * FAILURE with an EAP-Failure to send). */
    int status;
    uint8_t code;        /* the reply's code, 0 on expiry */
    size_t server;       /* the server that answered */
    /* CONTINUE: the EAP Request (Access-Challenge); SUCCESS: EAP-Success
     * and the MSK, Recv-Key | Send-Key padded to 64 octets as RFC 3748
     * 7.10 and the EAP-MSCHAPv2 peers do (Access-Accept); FAILURE:
     * EAP-Failure (Access-Reject). */
    vpn_eap_answer eap;
    /* Authorization (Access-Accept only): Framed-IP-Address (RFC 2865
     * 5.8), Framed-Route prefixes (5.22), Framed-Pool (RFC 2869 5.18) and
     * Cisco AV-pairs "ipsec:route-set=prefix A/L", "ipsec:addr-pool=NAME",
     * "ipsec:dns-servers=A [B]". Unparsable values are skipped. */
    vpn_addr framed_ip;  /* family 0: none */
    vpn_prefix routes[VPN_RADIUS_ROUTES_MAX];
    size_t n_routes;
    char addr_pool[64];  /* "": none */
    vpn_addr dns[VPN_RADIUS_DNS_MAX];
    size_t n_dns;
} vpn_radius_result;

typedef struct vpn_radius_params {
    vpn_radius_server servers[VPN_RADIUS_SERVERS_MAX]; /* in order of preference */
    size_t n_servers;
    uint64_t timeout_ns; /* wait per try; 0: 5 s (IOS radius-server timeout) */
    unsigned retransmit; /* retries per server; 0: 3 (IOS); UINT_MAX is not allowed */
    const char *nas_identifier; /* NAS-Identifier (RFC 2865 5.32); NULL: "vpn" */
    vpn_rng rng;                /* Request Authenticators and Identifiers */
    /* A datagram for server number `server` (index into servers). */
    void (*send)(void *user, size_t server, const uint8_t *dg, size_t len);
    /* A conversation's answer; the conversation is over unless
     * res->eap.result is CONTINUE. res is wiped after the call. May call
     * vpn_radius_eap_send / vpn_radius_end for any handle. */
    void (*answer)(void *user, uint32_t handle, const vpn_radius_result *res);
    void *user;
} vpn_radius_params;

typedef struct vpn_radius_client vpn_radius_client;

/* Copies the params (secrets wiped on free). Errors: VPN_ERR_INVAL (no
 * server, more than VPN_RADIUS_SERVERS_MAX, an empty or overlong secret,
 * no callbacks), VPN_ERR_NOMEM. */
int vpn_radius_client_new(vpn_radius_client **out, const vpn_radius_params *p);
void vpn_radius_client_free(vpn_radius_client *c);

/*
 * Relays an EAP Response (msg, len; a whole EAP message) of the
 * conversation handle for user name user in an Access-Request, with the
 * State the last Access-Challenge of this conversation gave (RFC 2865
 * 5.24), to the server in use. A new handle starts a conversation.
 * User-Name is the identity of an EAP-Response/Identity when msg is one
 * (RFC 3579 2.1), else the conversation's, else user. The
 * answer comes later through the answer callback. Errors: VPN_ERR_INVAL
 * (NULL, empty or overlong user or message), VPN_ERR_STATE (a request of
 * this handle is still waiting), VPN_ERR_LIMIT (256 requests outstanding
 * at this server), VPN_ERR_NOMEM, rng and crypto errors.
 */
int vpn_radius_eap_send(vpn_radius_client *c, uint64_t now, uint32_t handle, const char *user,
                        const uint8_t *msg, size_t len);

/*
 * The first step of a conversation for an IKEv2 responder: with
 * query_identity (IOS `authentication remote eap query-identity`) or no
 * identity, fills a with an EAP-Request/Identity to send and returns 0;
 * otherwise relays identity (the IKE IDi) to the server as an
 * EAP-Response/Identity and returns 1 (the answer comes through the
 * callback). A conversation already under handle is forgotten first.
 * Errors: as vpn_radius_eap_send.
 */
int vpn_radius_eap_start(vpn_radius_client *c, uint64_t now, uint32_t handle, const char *identity,
                         bool query_identity, vpn_eap_answer *a);

/* Forgets a conversation (its IKE SA went); a late reply is dropped. */
void vpn_radius_end(vpn_radius_client *c, uint32_t handle);

/*
 * A datagram from a server (the driver matched the source to server
 * index `server`). Exactly one answer callback on success.
 * Errors (the datagram is dropped, nothing changes): VPN_ERR_INVAL,
 * the vpn_radius_parse errors, VPN_ERR_NOTFOUND (no request waits for
 * this Identifier from this server), VPN_ERR_AUTH (an authenticator does
 * not verify), VPN_ERR_UNSUPPORTED (a code other than Accept, Reject or
 * Challenge), VPN_ERR_MALFORMED (an Accept or Challenge whose EAP-Message
 * is missing or not one EAP message, or an MPPE key that does not
 * decrypt), VPN_ERR_CRYPTO.
 */
int vpn_radius_input(vpn_radius_client *c, uint64_t now, size_t server, const uint8_t *dg, size_t len);

/* When vpn_radius_timeout wants to run; UINT64_MAX: nothing waits. */
uint64_t vpn_radius_deadline(const vpn_radius_client *c);

/*
 * Retransmits what timed out; after retransmit retries moves the request
 * to the next server (a new Identifier and Request Authenticator, RFC
 * 2865 2.5) and makes it the server in use; when every server was tried
 * the conversation ends with an answer whose status is VPN_ERR_EXPIRED.
 * Returns 0.
 */
int vpn_radius_timeout(vpn_radius_client *c, uint64_t now);

/* The server new conversations go to (moves on failover). */
size_t vpn_radius_current_server(const vpn_radius_client *c);

/* Counters for show commands and tests. */
typedef struct vpn_radius_stats {
    uint64_t requests, retransmits, failovers, accepts, rejects, challenges, timeouts, dropped;
} vpn_radius_stats;
void vpn_radius_get_stats(const vpn_radius_client *c, vpn_radius_stats *out);

#ifdef __cplusplus
}
#endif

#endif
