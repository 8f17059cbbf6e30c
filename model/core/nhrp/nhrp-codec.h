/*
 * NHRP (RFC 2332) packet codec: the fixed header (5.2.0.1), the mandatory
 * part (5.2.0.2 common header, 5.2.0.3 client information entries),
 * extensions (5.3), packet types 1-7 and the Traffic Indication (type 8)
 * that DMVPN phase 3 hubs send (`ip nhrp redirect`).
 *
 * Fixed header (20 octets):
 *   ar$afn 2 | ar$pro.type 2 | ar$pro.snap 5 | ar$hopcnt 1 | ar$pktsz 2 |
 *   ar$chksum 2 | ar$extoff 2 | ar$op.version 1 | ar$op.type 1 |
 *   ar$shtl 1 | ar$sstl 1
 * ar$shtl/ar$sstl: bit 0x40 type (0 NSAP, 1 E.164), low 6 bits length.
 * ar$chksum is the IP checksum over the whole packet (ar$pktsz octets).
 *
 * Mandatory part, requests/replies (types 1-6):
 *   src proto len 1 | dst proto len 1 | flags 2 | request ID 4 |
 *   src NBMA addr | src NBMA subaddr | src proto addr | dst proto addr |
 *   CIEs...
 * Error Indication (type 7, 5.2.7): the flags and request ID become
 *   unused 2 | error code 2 | error offset 2, and the CIEs become the
 *   packet in error (from its fixed header). No extensions (5.2.7).
 * Traffic Indication (type 8; Cisco, as Wireshark's dissector reads it):
 *   unused 2 | traffic code 2 (0 = redirect) | unused 2, the same address
 *   fields, then the start of the data packet that triggered it. The hub
 *   puts its own NBMA/protocol addresses in the source fields and the
 *   data packet's source address in the destination protocol address.
 *
 * CIE (5.2.0.3): code 1 | prefix length 1 | unused 2 | MTU 2 |
 *   holding time 2 | client addr T/L 1 | client subaddr T/L 1 |
 *   client proto len 1 | preference 1 | client NBMA | subaddr | client proto.
 *
 * Extensions (5.3): C bit (0x8000, compulsory) | u | type (14 bits) |
 *   length 2 | value. 0 End (required last), 3 Responder Address (one
 *   CIE), 4/5 Forward/Reverse Transit NHS Record (CIEs), 7 Authentication,
 *   8 Vendor-Private (OUI 3 | data). Unknown non-compulsory extensions are
 *   skipped; an unknown compulsory one makes the packet fail with
 *   VPN_NHRP_ERR_UNRECOGNIZED_EXT (5.3: answer with an Error Indication).
 *
 * Authentication (5.3.4) as IOS's `ip nhrp authentication` sends it:
 *   reserved 2 = 0 | SPI 2 = 1 (cleartext password) | the password. IOS
 *   leaves out RFC 2332's source address field; so do we, and the
 *   extension carries the C bit.
 *
 * Over GRE the protocol type is 0x2001 (VPN_GRE_PROTO_NHRP); Wireshark
 * hands that to this dissector with nothing else configured.
 *
 * Supported address families: NBMA IPv4 (afn 1) or IPv6 (afn 2);
 * protocol IPv4 (0x0800) or IPv6 (0x86dd); sub-addresses must be empty.
 */
#ifndef VPN_NHRP_CODEC_H
#define VPN_NHRP_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VPN_NHRP_VERSION 1
#define VPN_NHRP_FIXED_LEN 20
#define VPN_NHRP_AFN_IPV4 1 /* RFC 1700 address family numbers */
#define VPN_NHRP_AFN_IPV6 2
#define VPN_NHRP_PRO_IPV4 0x0800
#define VPN_NHRP_PRO_IPV6 0x86dd
#define VPN_NHRP_MAX_PKT 8192

/* ar$op.type */
enum {
    VPN_NHRP_RES_REQ = 1,
    VPN_NHRP_RES_REPLY = 2,
    VPN_NHRP_REG_REQ = 3,
    VPN_NHRP_REG_REPLY = 4,
    VPN_NHRP_PURGE_REQ = 5,
    VPN_NHRP_PURGE_REPLY = 6,
    VPN_NHRP_ERROR_IND = 7,
    VPN_NHRP_TRAFFIC_IND = 8,
    VPN_NHRP_TYPE_MAX = 8,
};

/* Flags (5.2.1, 5.2.3, 5.2.5): meaning depends on the packet type. */
#define VPN_NHRP_F_RES_Q 0x8000 /* requester is a router */
#define VPN_NHRP_F_RES_A 0x4000 /* authoritative */
#define VPN_NHRP_F_RES_D 0x2000 /* stable association */
#define VPN_NHRP_F_RES_U 0x1000 /* uniqueness */
#define VPN_NHRP_F_RES_S 0x0800 /* stable binding */
#define VPN_NHRP_F_REG_U 0x8000 /* unique registration */
#define VPN_NHRP_F_PURGE_N 0x8000 /* no reply expected */

/* CIE codes (5.2.2, 5.2.4). */
enum {
    VPN_NHRP_CIE_SUCCESS = 0,
    VPN_NHRP_CIE_ADMIN_PROHIBITED = 4,
    VPN_NHRP_CIE_INSUFFICIENT_RESOURCES = 5,
    VPN_NHRP_CIE_NO_BINDING = 12,
    VPN_NHRP_CIE_NOT_UNIQUE = 13,
    VPN_NHRP_CIE_ALREADY_REGISTERED = 14,
};

/* Error Indication codes (5.2.7). Protocol codes, not VPN_ERR_*. */
enum {
    VPN_NHRP_ERR_UNRECOGNIZED_EXT = 1,
    VPN_NHRP_ERR_LOOP = 3,
    VPN_NHRP_ERR_UNREACHABLE = 6,
    VPN_NHRP_ERR_PROTOCOL = 7,
    VPN_NHRP_ERR_SDU_SIZE = 8,
    VPN_NHRP_ERR_INVALID_EXT = 9,
    VPN_NHRP_ERR_INVALID_REPLY = 10,
    VPN_NHRP_ERR_AUTH = 11,
    VPN_NHRP_ERR_HOP_COUNT = 15,
};

/* Extension types (5.3). */
enum {
    VPN_NHRP_EXT_END = 0,
    VPN_NHRP_EXT_RESPONDER = 3,
    VPN_NHRP_EXT_FWD_RECORD = 4,
    VPN_NHRP_EXT_REV_RECORD = 5,
    VPN_NHRP_EXT_AUTH = 7,
    VPN_NHRP_EXT_VENDOR = 8,
};
#define VPN_NHRP_EXT_COMPULSORY 0x8000
#define VPN_NHRP_AUTH_CLEARTEXT 1 /* SPI value IOS uses for the password */
#define VPN_NHRP_AUTH_MAX 64

#define VPN_NHRP_MAX_CIES 8
#define VPN_NHRP_MAX_RECORDS 8

/* A client information entry; an absent address has family VPN_AF_NONE. */
typedef struct vpn_nhrp_cie {
    uint8_t code;
    uint8_t prefix_len;
    uint16_t mtu;
    uint16_t holding_time;
    uint8_t pref;
    vpn_addr nbma;
    vpn_addr proto;
} vpn_nhrp_cie;

/*
 * A decoded (or to-be-encoded) packet. Pointers (payload, auth, vendor)
 * point into the decoded buffer and live as long as it.
 */
typedef struct vpn_nhrp_msg {
    uint8_t type;
    uint8_t hopcnt;
    uint16_t afn;      /* 0 on encode: from src_nbma's family */
    uint16_t pro_type; /* 0 on encode: from src_proto's family */
    uint16_t flags;
    uint32_t req_id;
    uint16_t err_code, err_offset; /* Error Indication */
    uint16_t traffic_code;         /* Traffic Indication */
    vpn_addr src_nbma, src_proto, dst_proto;
    size_t n_cie;
    vpn_nhrp_cie cie[VPN_NHRP_MAX_CIES];
    /* Error Indication: the packet in error; Traffic Indication: data. */
    const uint8_t *payload;
    size_t payload_len;
    /* Extensions; has_ext false = ar$extoff 0 and nothing below. */
    bool has_ext;
    bool has_responder;
    bool responder_set;
    vpn_nhrp_cie responder;
    bool has_fwd, has_rev;
    size_t n_fwd, n_rev;
    vpn_nhrp_cie fwd[VPN_NHRP_MAX_RECORDS];
    vpn_nhrp_cie rev[VPN_NHRP_MAX_RECORDS];
    bool has_auth;
    uint16_t auth_spi;
    const uint8_t *auth;
    size_t auth_len;
    bool has_vendor;
    uint32_t vendor_oui;
    const uint8_t *vendor;
    size_t vendor_len;
} vpn_nhrp_msg;

/* Why a decode failed, in protocol terms (for an Error Indication). */
typedef struct vpn_nhrp_perr {
    uint16_t code;   /* VPN_NHRP_ERR_*, or 0: drop silently */
    uint16_t offset; /* octet offset in the packet where it was found */
} vpn_nhrp_perr;

/*
 * Decodes one NHRP packet of len octets (octets past ar$pktsz are
 * ignored, as link padding). The checksum is verified. perr (may be NULL)
 * says what Error Indication, if any, RFC 2332 asks for.
 * Errors: VPN_ERR_TRUNCATED (ar$pktsz beyond len or a field past its
 * part), VPN_ERR_MALFORMED (lengths inconsistent, extoff out of range,
 * End extension missing or not last, trailing octets in the mandatory
 * part, extensions in an Error Indication, unknown compulsory
 * extension), VPN_ERR_AUTH (checksum), VPN_ERR_UNSUPPORTED (version,
 * address family, address length, more CIEs than VPN_NHRP_MAX_CIES).
 * *m is fully written either way (zeroed on error).
 */
int vpn_nhrp_decode(const uint8_t *buf, size_t len, vpn_nhrp_msg *m, vpn_nhrp_perr *perr);

/*
 * Encodes m into buf (cap octets), filling ar$pktsz, ar$extoff and the
 * checksum; *out_len is the packet length. Extensions are written in the
 * order responder, forward record, reverse record, vendor, authentication,
 * End. Errors: VPN_ERR_INVAL (type, families inconsistent, counts over
 * the maxima, extensions on an Error Indication), VPN_ERR_NOSPACE.
 */
int vpn_nhrp_encode(const vpn_nhrp_msg *m, uint8_t *buf, size_t cap, size_t *out_len);

/* RFC 1071 checksum over len octets (the value to store, complemented). */
uint16_t vpn_nhrp_checksum(const uint8_t *p, size_t len);

/* "Resolution Request", ... ; "Unknown" for others. */
const char *vpn_nhrp_type_name(uint8_t type);

#ifdef __cplusplus
}
#endif

#endif
