#include "common/vpn-err.h"

const char *vpn_strerror(int err)
{
    switch (err) {
    case VPN_OK: return "success";
    case VPN_ERR_INVAL: return "invalid argument";
    case VPN_ERR_NOMEM: return "out of memory";
    case VPN_ERR_TRUNCATED: return "input truncated";
    case VPN_ERR_NOSPACE: return "output buffer too small";
    case VPN_ERR_MALFORMED: return "malformed input";
    case VPN_ERR_UNSUPPORTED: return "unsupported algorithm or feature";
    case VPN_ERR_CRYPTO: return "cryptographic library failure";
    case VPN_ERR_AUTH: return "authentication failed";
    case VPN_ERR_REPLAY: return "replayed or too old";
    case VPN_ERR_NOTFOUND: return "not found";
    case VPN_ERR_STATE: return "invalid state";
    case VPN_ERR_POLICY: return "rejected by policy";
    case VPN_ERR_EXISTS: return "already exists";
    case VPN_ERR_LIMIT: return "limit reached";
    case VPN_ERR_EXPIRED: return "expired";
    case VPN_ERR_OVERFLOW: return "counter or length overflow";
    }
    return "unknown error";
}
