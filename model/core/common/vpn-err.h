/*
 * Library error codes shared by every engine in the core.
 *
 * Functions return 0 on success and a negative VPN_ERR_* code on failure.
 * Protocol-level error codes (IKEv2 notify types, GDOI errors) are a
 * separate space and never mixed with these.
 */
#ifndef VPN_ERR_H
#define VPN_ERR_H

#ifdef __cplusplus
extern "C" {
#endif

enum vpn_err {
    VPN_OK = 0,
    VPN_ERR_INVAL = -1,       /* an argument is out of range or NULL */
    VPN_ERR_NOMEM = -2,       /* allocation failed */
    VPN_ERR_TRUNCATED = -3,   /* input ended before a field did */
    VPN_ERR_NOSPACE = -4,     /* output buffer too small */
    VPN_ERR_MALFORMED = -5,   /* input is syntactically invalid */
    VPN_ERR_UNSUPPORTED = -6, /* algorithm or feature not implemented */
    VPN_ERR_CRYPTO = -7,      /* the crypto library failed */
    VPN_ERR_AUTH = -8,        /* integrity or signature check failed */
    VPN_ERR_REPLAY = -9,      /* packet is a replay or too old */
    VPN_ERR_NOTFOUND = -10,   /* no such object (SA, SPI, peer, ...) */
    VPN_ERR_STATE = -11,      /* operation not valid in the current state */
    VPN_ERR_POLICY = -12,     /* rejected by policy */
    VPN_ERR_EXISTS = -13,     /* object already exists */
    VPN_ERR_LIMIT = -14,      /* a configured limit was reached */
    VPN_ERR_EXPIRED = -15,    /* lifetime or validity elapsed */
    VPN_ERR_OVERFLOW = -16,   /* a counter or length would overflow */
};

#define VPN_ERR_MIN VPN_ERR_OVERFLOW

/* Human-readable text for a VPN_ERR_* code; never NULL. */
const char *vpn_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif
