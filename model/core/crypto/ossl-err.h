/*
 * Telling OpenSSL's own failures from a verdict about the data. Some
 * OpenSSL calls answer "no" both for bad input (a signature that does not
 * verify, a point not on the curve) and for a failure of their own (an
 * allocation): the wrappers clear the error queue before such a call and,
 * when it says no, ask here whether the queue holds a local failure, so
 * that an out-of-memory is reported as VPN_ERR_NOMEM and not blamed on the
 * peer. Internal to model/core/crypto.
 */
#ifndef VPN_CRYPTO_OSSL_ERR_H
#define VPN_CRYPTO_OSSL_ERR_H

#include <stdbool.h>

#include <openssl/err.h>

/* Empties the error queue; true when it held an allocation failure.
 * *queued (may be NULL) says whether it held anything at all. */
static inline bool vpn_ossl_nomem_pending(bool *queued)
{
    unsigned long e;
    bool nomem = false;

    if (queued)
        *queued = false;
    while ((e = ERR_get_error()) != 0) {
        if (queued)
            *queued = true;
        if (ERR_GET_REASON(e) == ERR_GET_REASON(ERR_R_MALLOC_FAILURE))
            nomem = true;
    }
    return nomem;
}

#endif
