/*
 * Policy objects in Cisco IOS's vocabulary, and a parser for the subset of
 * IOS configuration that defines them.
 *
 * FlexVPN (IKEv2) uses: ikev2 proposal -> ikev2 policy; keyring; ikev2
 * profile (identities, authentication, keyring, DPD, lifetime); ipsec
 * transform-set -> ipsec profile -> `tunnel protection ipsec profile` on a
 * tunnel interface. Extended access lists feed crypto policies (GRE's
 * "permit 47", GET VPN's TEK policy). Objects refer to each other by name;
 * vpn_conf_validate() resolves every reference.
 *
 * Defaults follow IOS smart defaults where they are still secure (README
 * lists them): the `default` proposal, policy, transform-set and ipsec
 * profile exist unless configured otherwise.
 *
 * Ownership: a vpn_conf owns all its objects; strings are copied in.
 */
#ifndef VPN_CONF_H
#define VPN_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "conf/conf-qos.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VPN_CONF_NAME_MAX 64   /* object names, incl. NUL */
#define VPN_CONF_ALG_MAX 8     /* algorithms per list */
#define VPN_CONF_REF_MAX 8     /* names referenced from one object */
#define VPN_CONF_KEY_MAX 129   /* pre-shared keys: 128 characters */
#define VPN_CONF_ID_MAX 256    /* identity values (FQDN, email, key-id, DN) */

/* IKEv2 defaults (RFC 7296 and IOS). */
#define VPN_CONF_IKE_LIFETIME_S 86400u
#define VPN_CONF_IPSEC_LIFETIME_S 3600u
#define VPN_CONF_IPSEC_LIFETIME_KB 4608000u
#define VPN_CONF_WINDOW 5u

typedef struct vpn_conf_encr {
    uint16_t id;   /* enum vpn_encr_id */
    uint16_t bits; /* key length */
} vpn_conf_encr;

/* crypto ikev2 proposal NAME */
typedef struct vpn_conf_proposal {
    char name[VPN_CONF_NAME_MAX];
    vpn_conf_encr encr[VPN_CONF_ALG_MAX];
    size_t n_encr;
    uint16_t integ[VPN_CONF_ALG_MAX]; /* enum vpn_integ_id */
    size_t n_integ;
    uint16_t prf[VPN_CONF_ALG_MAX];   /* enum vpn_prf_id */
    size_t n_prf;
    uint16_t group[VPN_CONF_ALG_MAX]; /* enum vpn_dh_id */
    size_t n_group;
    int line; /* where it was defined (0: built-in default) */
} vpn_conf_proposal;

/* crypto ikev2 policy NAME */
typedef struct vpn_conf_policy {
    char name[VPN_CONF_NAME_MAX];
    char fvrf[VPN_CONF_NAME_MAX];           /* "any" unless set */
    vpn_addr match_local[VPN_CONF_REF_MAX]; /* none = any */
    size_t n_match_local;
    char proposal[VPN_CONF_REF_MAX][VPN_CONF_NAME_MAX];
    size_t n_proposal;
    int line;
} vpn_conf_policy;

/* Identity types, numbered as IKEv2 ID types (RFC 7296 3.5) where they exist. */
typedef enum vpn_conf_id_type {
    VPN_CONF_ID_NONE = 0,
    VPN_CONF_ID_ADDRESS = 1, /* ID_IPV4_ADDR; IPv6 stored in addr */
    VPN_CONF_ID_FQDN = 2,
    VPN_CONF_ID_EMAIL = 3,   /* ID_RFC822_ADDR */
    VPN_CONF_ID_DN = 9,      /* ID_DER_ASN1_DN */
    VPN_CONF_ID_KEY_ID = 11,
    VPN_CONF_ID_ANY = 255,   /* match identity remote any */
} vpn_conf_id_type;

typedef struct vpn_conf_identity {
    vpn_conf_id_type type;
    vpn_prefix addr;              /* ADDRESS (len < full: a masked match) */
    char value[VPN_CONF_ID_MAX];  /* FQDN, EMAIL, KEY_ID, DN text */
    bool domain;                  /* "fqdn domain X" / "email domain X": suffix match */
} vpn_conf_identity;

/* crypto ikev2 keyring NAME / peer NAME */
typedef struct vpn_conf_peer {
    char name[VPN_CONF_NAME_MAX];
    bool has_address;
    vpn_prefix address;
    vpn_conf_identity identity;
    char psk_local[VPN_CONF_KEY_MAX];  /* key we prove ourselves with */
    char psk_remote[VPN_CONF_KEY_MAX]; /* key we expect the peer to use */
    int line;
} vpn_conf_peer;

typedef struct vpn_conf_keyring {
    char name[VPN_CONF_NAME_MAX];
    vpn_conf_peer *peer;
    size_t n_peer, cap_peer;
    int line;
} vpn_conf_keyring;

typedef enum vpn_conf_auth {
    VPN_CONF_AUTH_NONE = 0,
    VPN_CONF_AUTH_PSK,
    VPN_CONF_AUTH_RSA_SIG,
    VPN_CONF_AUTH_ECDSA_SIG,
    VPN_CONF_AUTH_EAP,
} vpn_conf_auth;

typedef enum vpn_conf_dpd_mode {
    VPN_CONF_DPD_OFF = 0,
    VPN_CONF_DPD_ON_DEMAND,
    VPN_CONF_DPD_PERIODIC,
} vpn_conf_dpd_mode;

/* crypto ikev2 profile NAME */
typedef struct vpn_conf_profile {
    char name[VPN_CONF_NAME_MAX];
    char fvrf[VPN_CONF_NAME_MAX];
    vpn_addr match_local[VPN_CONF_REF_MAX];
    size_t n_match_local;
    vpn_conf_identity match_remote[VPN_CONF_REF_MAX];
    size_t n_match_remote;
    vpn_conf_identity identity_local; /* NONE: the local address */
    vpn_conf_auth auth_local;
    char auth_local_key[VPN_CONF_KEY_MAX];  /* "authentication local pre-share key K" */
    vpn_conf_auth auth_remote[4];
    size_t n_auth_remote;
    char auth_remote_key[VPN_CONF_KEY_MAX];
    char keyring[VPN_CONF_NAME_MAX];        /* keyring local NAME */
    char trustpoint[VPN_CONF_REF_MAX][VPN_CONF_NAME_MAX];
    size_t n_trustpoint;
    vpn_conf_dpd_mode dpd_mode;
    uint32_t dpd_interval_s, dpd_retry_s;
    uint32_t lifetime_s;
    uint32_t nat_keepalive_s; /* 0: off */
    uint32_t virtual_template; /* 0: none */
    /* Remote access (RFC 7296 2.16, 3.15): `authentication remote eap
     * [query-identity] [mschapv2|md5|gtc]`, the client's `authentication
     * local eap mschapv2|md5|gtc username U password P`, and `aaa
     * authorization group psk|eap list LIST POLICY`. */
    bool eap_query_identity;
    unsigned eap_methods;        /* VPN_CONF_EAP_M_*; 0: any we do */
    char eap_username[VPN_CONF_NAME_MAX];
    char eap_password[VPN_CONF_KEY_MAX];
    char aaa_author_list[VPN_CONF_NAME_MAX];
    char aaa_author_policy[VPN_CONF_NAME_MAX];
    bool aaa_author_eap;         /* group eap (else psk) */
    char aaa_authen_eap_list[VPN_CONF_NAME_MAX]; /* aaa authentication eap LIST */
    bool aaa_author_user_cached; /* aaa authorization user eap cached */
    char aaa_author_psk_policy[VPN_CONF_NAME_MAX]; /* aaa authorization group psk list L POLICY */
    int line;
} vpn_conf_profile;

/* The EAP methods of a profile line (same bits as ikev2-eap.h's VPN_EAP_M_*). */
#define VPN_CONF_EAP_M_MD5 (1u << 0)
#define VPN_CONF_EAP_M_GTC (1u << 1)
#define VPN_CONF_EAP_M_MSCHAPV2 (1u << 2)

/* ip local pool NAME FIRST [LAST] (IPv4) */
typedef struct vpn_conf_ip_pool {
    char name[VPN_CONF_NAME_MAX];
    vpn_addr first, last;
    int line;
} vpn_conf_ip_pool;

/* ipv6 local pool NAME PREFIX/LEN ASSIGNED: prefixes of length ASSIGNED
 * handed out of PREFIX (IOS; the INTERNAL_IP6_ADDRESS of RFC 7296 3.15.1) */
typedef struct vpn_conf_ipv6_pool {
    char name[VPN_CONF_NAME_MAX];
    vpn_prefix prefix;
    uint8_t assigned_len;
    int line;
} vpn_conf_ipv6_pool;

/* username NAME password|secret [0] PASSWORD: the local AAA database */
typedef struct vpn_conf_user {
    char name[VPN_CONF_NAME_MAX];
    char password[VPN_CONF_KEY_MAX];
    int line;
} vpn_conf_user;

/* crypto ikev2 authorization policy NAME */
#define VPN_CONF_AUTHOR_DNS_MAX 2
typedef struct vpn_conf_author_policy {
    char name[VPN_CONF_NAME_MAX];
    char pool[VPN_CONF_NAME_MAX];                 /* pool NAME */
    vpn_addr dns[VPN_CONF_AUTHOR_DNS_MAX];        /* dns A [B] */
    size_t n_dns;
    char route_acl[VPN_CONF_NAME_MAX];            /* route set access-list NAME */
    char route_iface[VPN_CONF_REF_MAX][VPN_CONF_NAME_MAX]; /* route set interface IF */
    size_t n_route_iface;
    bool route_accept;                            /* route accept any */
    char pool6[VPN_CONF_NAME_MAX];                /* ipv6 pool NAME */
    vpn_addr dns6[VPN_CONF_AUTHOR_DNS_MAX];       /* ipv6 dns A [B] */
    size_t n_dns6;
    int line;
} vpn_conf_author_policy;

/* aaa authorization network LIST local | aaa authentication {login|eap} LIST local */
typedef enum vpn_conf_aaa_kind {
    VPN_CONF_AAA_AUTHOR_NETWORK = 1,
    VPN_CONF_AAA_AUTHEN_LOGIN,
    VPN_CONF_AAA_AUTHEN_EAP,
} vpn_conf_aaa_kind;

typedef struct vpn_conf_aaa_list {
    char name[VPN_CONF_NAME_MAX];
    vpn_conf_aaa_kind kind;
    bool local;                                    /* method "local" (else group RADIUS) */
    char group[VPN_CONF_NAME_MAX];                 /* group NAME, for RADIUS later */
    int line;
} vpn_conf_aaa_list;

/* radius server NAME (IOS 15.x syntax): address ipv4 A [auth-port P]
 * [acct-port Q]; key [0] SECRET; timeout S; retransmit N */
typedef struct vpn_conf_radius_server {
    char name[VPN_CONF_NAME_MAX];
    vpn_addr addr;               /* family 0 until `address` */
    uint16_t auth_port;          /* 1812 unless given */
    char key[VPN_CONF_KEY_MAX];  /* the shared secret (RFC 2865 3) */
    uint32_t timeout_s;          /* 0: 5 (IOS) */
    uint32_t retransmit;         /* 0: 3 (IOS) */
    int line;
} vpn_conf_radius_server;

/* aaa group server radius NAME: server name S (tried in this order) */
#define VPN_CONF_AAA_GROUP_SERVERS 8
typedef struct vpn_conf_aaa_group {
    char name[VPN_CONF_NAME_MAX];
    char server[VPN_CONF_AAA_GROUP_SERVERS][VPN_CONF_NAME_MAX];
    size_t n_server;
    int line;
} vpn_conf_aaa_group;

typedef enum vpn_conf_mode {
    VPN_CONF_MODE_TUNNEL = 0,
    VPN_CONF_MODE_TRANSPORT,
} vpn_conf_mode;

/* crypto ipsec transform-set NAME ... */
typedef struct vpn_conf_transform_set {
    char name[VPN_CONF_NAME_MAX];
    vpn_conf_encr encr;   /* ESP encryption (AEAD or not) */
    uint16_t integ;       /* 0 with AEAD */
    vpn_conf_mode mode;
    char display[96];     /* IOS display form, e.g. "esp-256-aes esp-sha256-hmac" */
    int line;
} vpn_conf_transform_set;

/* crypto ipsec profile NAME */
typedef struct vpn_conf_ipsec_profile {
    char name[VPN_CONF_NAME_MAX];
    char transform_set[6][VPN_CONF_NAME_MAX];
    size_t n_transform_set;
    char ikev2_profile[VPN_CONF_NAME_MAX]; /* "" until set ikev2-profile */
    uint16_t pfs_group;                    /* 0: no PFS */
    uint32_t lifetime_s;
    uint32_t lifetime_kb;
    int line;
} vpn_conf_ipsec_profile;

/* ip access-list extended NAME: one ACE. */
typedef enum vpn_conf_port_op { VPN_PORT_ANY = 0, VPN_PORT_EQ, VPN_PORT_RANGE } vpn_conf_port_op;

typedef struct vpn_conf_ace {
    bool permit;
    uint8_t proto;         /* 0 = ip (any) */
    vpn_prefix src, dst;   /* len 0 = any */
    vpn_conf_port_op src_op, dst_op;
    uint16_t src_port[2], dst_port[2];
    int dscp;              /* -1 = any */
    int line;
} vpn_conf_ace;

typedef struct vpn_conf_acl {
    char name[VPN_CONF_NAME_MAX];
    bool standard; /* access-list 1-99 / ip access-list standard: src only */
    vpn_conf_ace *ace;
    size_t n_ace, cap_ace;
    int line;
} vpn_conf_acl;

typedef enum vpn_conf_tunnel_mode {
    VPN_CONF_TUNNEL_GRE_IP = 0,      /* default: GRE (protected by "permit 47") */
    VPN_CONF_TUNNEL_GRE_MULTIPOINT,  /* mGRE, DMVPN */
    VPN_CONF_TUNNEL_IPSEC_IPV4,      /* VTI */
    VPN_CONF_TUNNEL_IPSEC_IPV6,
    VPN_CONF_TUNNEL_IPSEC_DUAL,      /* ipsec dual-overlay: a VTI carrying IPv4 and IPv6 (IOS-XE) */
} vpn_conf_tunnel_mode;

/* ---- NHRP (DMVPN) under interface TunnelN: `ip nhrp ...` lines ---------------- */
#define VPN_CONF_NHRP_NHS_MAX 8
#define VPN_CONF_NHRP_MAP_MAX 16
#define VPN_CONF_NHRP_AUTH_MAX 8 /* IOS: up to 8 characters */

/* ip nhrp nhs A [nbma B] [multicast] */
typedef struct vpn_conf_nhrp_nhs {
    vpn_addr proto;
    bool has_nbma;
    vpn_addr nbma;
    bool multicast;
    int line;
} vpn_conf_nhrp_nhs;

/* ip nhrp map A B */
typedef struct vpn_conf_nhrp_map {
    vpn_addr proto;
    vpn_addr nbma;
    int line;
} vpn_conf_nhrp_map;

typedef struct vpn_conf_nhrp {
    bool enabled;                 /* any `ip nhrp` line */
    int line;                     /* the first one */
    bool has_network_id;
    uint32_t network_id;          /* ip nhrp network-id N */
    char auth[VPN_CONF_NHRP_AUTH_MAX + 1]; /* ip nhrp authentication S; "" = none */
    uint32_t holdtime;            /* ip nhrp holdtime S; 0 = default 7200 */
    uint32_t reg_timeout;         /* ip nhrp registration timeout S; 0 = holdtime/3 */
    bool reg_no_unique;           /* ip nhrp registration no-unique */
    bool redirect;                /* ip nhrp redirect [timeout S] */
    uint32_t redirect_timeout;
    bool shortcut;                /* ip nhrp shortcut [virtual-template N] */
    uint32_t shortcut_vt;         /* ... N (FlexVPN spoke-to-spoke); 0: none */
    int shortcut_line;
    vpn_conf_nhrp_nhs nhs[VPN_CONF_NHRP_NHS_MAX];
    size_t n_nhs;
    vpn_conf_nhrp_map map[VPN_CONF_NHRP_MAP_MAX];
    size_t n_map;
    vpn_addr mcast[VPN_CONF_NHRP_MAP_MAX]; /* ip nhrp map multicast A */
    size_t n_mcast;
    bool mcast_dynamic;           /* ip nhrp map multicast dynamic */
} vpn_conf_nhrp;

/* interface NAME (tunnels and the addresses of others, for "tunnel source IF") */
typedef struct vpn_conf_interface {
    char name[VPN_CONF_NAME_MAX];
    bool is_tunnel;
    bool has_address;
    vpn_prefix address;      /* ip address A M (an interface with only `ipv6 address`: that one) */
    bool has_address6;
    vpn_prefix address6;     /* ipv6 address A/LEN: an IOS interface is dual-stack, beside `ip address` */
    bool address_negotiated; /* ip address negotiated */
    bool unnumbered;
    char unnumbered_if[VPN_CONF_NAME_MAX];
    char tunnel_source_if[VPN_CONF_NAME_MAX]; /* tunnel source IF */
    bool has_tunnel_source;
    vpn_addr tunnel_source;                   /* tunnel source A */
    bool has_tunnel_destination;
    vpn_addr tunnel_destination;
    bool has_tunnel_key;
    uint32_t tunnel_key;
    vpn_conf_tunnel_mode tunnel_mode;
    char protection[VPN_CONF_NAME_MAX];       /* tunnel protection ipsec profile X */
    uint32_t ip_mtu;                          /* 0: derived */
    char crypto_map[VPN_CONF_NAME_MAX];       /* crypto map NAME (GET VPN) */
    int crypto_map_line;
    vpn_conf_nhrp nhrp;                       /* ip nhrp ... (DMVPN) */
    char service_policy_out[VPN_CONF_NAME_MAX]; /* service-policy output NAME (MQC) */
    int service_policy_line;
    bool qos_pre_classify;                    /* qos pre-classify: classify on the inner header */
    /* interface Virtual-Template N type tunnel (FlexVPN): is_tunnel is
     * true; it has no tunnel destination. A GRE template is cloned into one
     * Virtual-Access interface per authenticated peer (dVTI, hub and
     * spoke-to-spoke); an `ipsec ipv4` template is the remote-access hub's
     * one interface for every client (router ACCESS tunnel). */
    bool is_virtual_template;
    uint32_t vt_number;                       /* N */
    int line;
    /* RIP on this interface (DMVPN hub): `no ip split-horizon` (phase 2:
     * routes learnt from one spoke go back out to the others) and `ip
     * summary-address rip A M` (phase 3: spokes learn the summary only). */
    bool rip_no_split_horizon;
    bool has_rip_summary;
    vpn_prefix rip_summary;
} vpn_conf_interface;

/* ip route PREFIX MASK {NEXTHOP | IF} [distance] */
typedef struct vpn_conf_route {
    vpn_prefix prefix;
    bool via_interface;
    char interface[VPN_CONF_NAME_MAX];
    vpn_addr next_hop;
    uint8_t distance;
    int line;
} vpn_conf_route;

/* router rip: the dynamic routing protocol the simulator offers (ns-3's
 * RIP stands in for the EIGRP of the seed article). */
#define VPN_CONF_RIP_NET_MAX 16
typedef struct vpn_conf_rip {
    bool enabled;
    uint8_t version;                              /* 2 (the only one supported) */
    vpn_prefix network[VPN_CONF_RIP_NET_MAX];     /* `network A.B.C.D`, classful */
    size_t n_network;
    char passive[VPN_CONF_REF_MAX][VPN_CONF_NAME_MAX]; /* passive-interface NAME */
    size_t n_passive;
    /* timers basic UPDATE INVALID HOLDDOWN FLUSH (seconds; IOS 30 180 180 240) */
    uint32_t update_s, invalid_s, holddown_s, flush_s;
    int line;
} vpn_conf_rip;

/* crypto isakmp policy N: an IKEv1 phase-1 suite (RFC 2409), for GET VPN's
 * GDOI registration and IKEv1 peers. Values are IKEv1 attribute numbers
 * (RFC 2409 appendix A). IOS defaults are DES, SHA-1, rsa-sig, group 1;
 * DES and group 1 are refused as insecure, so an unset encryption is
 * AES-128 and an unset group is 14 (the README lists it). */
typedef struct vpn_conf_isakmp_policy {
    char name[VPN_CONF_NAME_MAX]; /* the priority, as text */
    uint32_t priority;            /* 1..10000; a lower number is preferred */
    uint16_t encr_bits;           /* AES-CBC key length: 128, 192, 256 */
    uint16_t hash;                /* 2 SHA-1, 4 SHA2-256, 5 SHA2-384, 6 SHA2-512 */
    uint16_t auth;                /* 1 pre-share, 3 rsa-sig */
    uint16_t group;               /* 2, 5, 14, 19, 20 */
    uint32_t lifetime_s;
    int line;
} vpn_conf_isakmp_policy;

/* crypto isakmp key KEY address A [MASK] */
typedef struct vpn_conf_isakmp_key {
    vpn_prefix address;
    char key[VPN_CONF_KEY_MAX];
    int line;
} vpn_conf_isakmp_key;
/*
 * crypto pki trustpoint NAME: where a daemon reading files finds the
 * certificates a profile's `pki trustpoint NAME` refers to (the host
 * daemon; ns-3 scenarios hand certificates over in memory instead). IOS
 * enrolls a trustpoint or pastes certificates in; file names stand in here:
 *   ca-certificate file PATH   (repeatable: root and intermediates)
 *   certificate file PATH      (this router's certificate, PEM or DER)
 *   private-key file PATH      (its private key)
 *   revocation-check none      (accepted; no CRL or OCSP is checked)
 */
#define VPN_CONF_PATH_MAX 256
#define VPN_CONF_TP_CA_MAX 4
typedef struct vpn_conf_trustpoint {
    char name[VPN_CONF_NAME_MAX];
    char ca_file[VPN_CONF_TP_CA_MAX][VPN_CONF_PATH_MAX];
    size_t n_ca_file;
    char cert_file[VPN_CONF_PATH_MAX]; /* "" if none */
    char key_file[VPN_CONF_PATH_MAX];  /* "" if none */
    int line;
} vpn_conf_trustpoint;


/*
 * GET VPN (GDOI, RFC 6407) in IOS's words. A key server:
 *   crypto gdoi group NAME
 *    identity number N
 *    server local
 *     rekey algorithm aes 128|192|256          (IOS default 3des: refused; 256 here)
 *     rekey sig-hash algorithm sha|sha256|sha384|sha512 (IOS default sha; sha256 here)
 *     rekey lifetime seconds N                 (86400)
 *     rekey retransmit SECS number N           (10 s, 2)
 *     rekey authentication mypubkey rsa LABEL
 *     rekey address ipv4 ACL                   (multicast rekeys: KS -> group address)
 *     rekey transport unicast                  (default: multicast)
 *     authorization address ipv4 ACL           (members allowed to register)
 *     limit members N                          (our spelling; 8000, 1-8000)
 *     sa receive-only
 *     sa ipsec N
 *      profile IPSEC_PROFILE
 *      match address ipv4 ACL
 *      replay time window-size N | replay counter window-size N | no replay
 *     address ipv4 A
 *     redundancy
 *      local priority N                        (1)
 *      peer address ipv4 A                     (repeatable)
 * A group member:
 *   crypto gdoi group NAME
 *    identity number N
 *    server address ipv4 A                     (repeatable, tried in order)
 *    client registration interface IF
 *   crypto map MAP N gdoi                     (several entries: one group each, the
 *    set group NAME                            router a member of every one of them)
 *    match address ACL                         (member-local: deny lines only; the
 *                                              traffic they match bypasses the group)
 *   interface IF
 *    crypto map MAP
 * and `crypto key generate rsa [general-keys] label LABEL modulus N`, which
 * on IOS is an exec command; here it asks the driver to generate the key
 * pair from its RNG.
 */
#define VPN_CONF_GDOI_SERVERS_MAX 8
#define VPN_CONF_GDOI_PEERS_MAX 8
#define VPN_CONF_GDOI_MAX_MEMBERS 8000u  /* Cisco's figure; the KS default */
#define VPN_CONF_GDOI_KEK_LIFETIME_S 86400u
#define VPN_CONF_GDOI_RETRANS_S 10u
#define VPN_CONF_GDOI_RETRANS_N 2u

typedef enum vpn_conf_gdoi_replay {
    VPN_CONF_GDOI_REPLAY_DEFAULT = 0, /* nothing configured */
    VPN_CONF_GDOI_REPLAY_NONE,        /* no replay */
    VPN_CONF_GDOI_REPLAY_TIME,        /* replay time window-size N */
    VPN_CONF_GDOI_REPLAY_COUNTER,     /* replay counter window-size N */
} vpn_conf_gdoi_replay;

typedef struct vpn_conf_gdoi_group {
    char name[VPN_CONF_NAME_MAX];
    bool has_identity;
    uint32_t identity;                          /* identity number */
    /* group member */
    vpn_addr server[VPN_CONF_GDOI_SERVERS_MAX]; /* server address ipv4, in order */
    size_t n_server;
    int server_line;                            /* the first one */
    char reg_iface[VPN_CONF_NAME_MAX];          /* client registration interface */
    int reg_iface_line;
    /* key server: server local */
    bool server_local;
    int server_local_line;
    uint16_t rekey_aes_bits; int rekey_alg_line; /* 256 unless set */
    uint16_t rekey_sig_hash; int rekey_sig_hash_line; /* 1 sha, 256, 384, 512; 256 unless set */
    uint32_t rekey_lifetime_s;
    uint32_t retrans_s, retrans_n;
    char rekey_key[VPN_CONF_NAME_MAX]; int rekey_key_line;
    char rekey_acl[VPN_CONF_NAME_MAX]; int rekey_acl_line;
    bool rekey_unicast;
    char auth_acl[VPN_CONF_NAME_MAX]; int auth_acl_line;
    uint32_t max_members;
    bool receive_only;
    bool has_sa;
    uint32_t sa_num; int sa_line;
    char sa_profile[VPN_CONF_NAME_MAX]; int sa_profile_line;
    char sa_acl[VPN_CONF_NAME_MAX]; int sa_acl_line;
    vpn_conf_gdoi_replay replay; int replay_line;
    uint32_t replay_window;                     /* seconds (time) or packets (counter) */
    bool has_ks_address;
    vpn_addr ks_address; int ks_address_line;   /* address ipv4 */
    bool redundancy; int redundancy_line;
    uint32_t coop_priority;                     /* local priority (1) */
    vpn_addr coop_peer[VPN_CONF_GDOI_PEERS_MAX];
    size_t n_coop_peer;
    int line;
} vpn_conf_gdoi_group;

/* crypto map NAME SEQ gdoi (entries of one map kept in sequence order) */
typedef struct vpn_conf_crypto_map {
    char name[VPN_CONF_NAME_MAX];
    uint32_t seq;
    char group[VPN_CONF_NAME_MAX]; /* set group NAME */
    int group_line;
    char acl[VPN_CONF_NAME_MAX];   /* match address ACL ("" if none): deny lines only */
    int acl_line;
    int line;
} vpn_conf_crypto_map;

/* crypto key generate rsa ... label NAME modulus N */
typedef struct vpn_conf_rsa_key {
    char name[VPN_CONF_NAME_MAX];
    uint32_t modulus; /* bits; 2048 unless given */
    int line;
} vpn_conf_rsa_key;

typedef struct vpn_conf {
    char hostname[VPN_CONF_NAME_MAX];
    vpn_conf_rip rip;
    vpn_conf_proposal *proposal;
    size_t n_proposal, cap_proposal;
    vpn_conf_policy *policy;
    size_t n_policy, cap_policy;
    vpn_conf_keyring *keyring;
    size_t n_keyring, cap_keyring;
    vpn_conf_profile *profile;
    size_t n_profile, cap_profile;
    vpn_conf_transform_set *tset;
    size_t n_tset, cap_tset;
    vpn_conf_ipsec_profile *ipsec_profile;
    size_t n_ipsec_profile, cap_ipsec_profile;
    vpn_conf_acl *acl;
    size_t n_acl, cap_acl;
    vpn_conf_interface *iface;
    size_t n_iface, cap_iface;
    vpn_conf_route *route;
    size_t n_route, cap_route;
    vpn_conf_isakmp_policy *isakmp_policy; /* sorted by priority after parsing */
    size_t n_isakmp_policy, cap_isakmp_policy;
    vpn_conf_isakmp_key *isakmp_key;
    size_t n_isakmp_key, cap_isakmp_key;
    vpn_conf_trustpoint *trustpoint;
    size_t n_trustpoint, cap_trustpoint;
    vpn_conf_gdoi_group *gdoi_group;
    size_t n_gdoi_group, cap_gdoi_group;
    vpn_conf_crypto_map *crypto_map;
    size_t n_crypto_map, cap_crypto_map;
    vpn_conf_rsa_key *rsa_key;
    size_t n_rsa_key, cap_rsa_key;
    vpn_conf_class_map *class_map;   /* MQC, conf-qos.h */
    size_t n_class_map, cap_class_map;
    vpn_conf_policy_map *policy_map;
    size_t n_policy_map, cap_policy_map;
    /* remote access: ip local pool, username, authorization policy, aaa */
    vpn_conf_ip_pool *ip_pool;
    size_t n_ip_pool, cap_ip_pool;
    vpn_conf_ipv6_pool *ipv6_pool;
    size_t n_ipv6_pool, cap_ipv6_pool;
    vpn_conf_user *user;
    size_t n_user, cap_user;
    vpn_conf_author_policy *author_policy;
    size_t n_author_policy, cap_author_policy;
    vpn_conf_aaa_list *aaa_list;
    size_t n_aaa_list, cap_aaa_list;
    vpn_conf_radius_server *radius_server; /* RADIUS for EAP passthrough */
    size_t n_radius_server, cap_radius_server;
    vpn_conf_aaa_group *aaa_group;
    size_t n_aaa_group, cap_aaa_group;
    bool aaa_new_model;
    /* crypto ikev2 ... globals */
    uint32_t ikev2_window;
    uint32_t cookie_challenge; /* half-open SAs before cookies; 0: off */
    uint32_t nat_keepalive_s;
    /* crypto ikev2 retransmit [count N] [timeout MS] [max-timeout S]
     * (RFC 7296 2.1; 0: the engine's IOS-like defaults 5, 1000 ms, 32 s) */
    uint32_t ikev2_retx_count, ikev2_retx_timeout_ms, ikev2_retx_max_s;
} vpn_conf;

/* A parse or validation error: the line (1-based, 0 if not tied to one). */
typedef struct vpn_conf_error {
    int line;
    char msg[256];
} vpn_conf_error;

/*
 * Creates a configuration holding only the built-in defaults. Errors:
 * VPN_ERR_NOMEM. Free with vpn_conf_del.
 */
int vpn_conf_new(vpn_conf **out);
void vpn_conf_del(vpn_conf *c);

/*
 * Parses IOS-style text into a new configuration (defaults included) and
 * validates it. On success *out is the caller's. On failure nothing is
 * returned (*out = NULL: nothing half-configured) and err says which line
 * and why. Errors: VPN_ERR_MALFORMED (syntax, unknown command or value),
 * VPN_ERR_NOTFOUND (a reference to an undefined object), VPN_ERR_POLICY
 * (an inconsistent object, e.g. AEAD with integrity), VPN_ERR_NOMEM.
 */
int vpn_conf_parse(const char *text, size_t len, vpn_conf **out, vpn_conf_error *err);

/* Resolves references and checks consistency; same errors as parse. */
int vpn_conf_validate(const vpn_conf *c, vpn_conf_error *err);

const vpn_conf_proposal *vpn_conf_find_proposal(const vpn_conf *c, const char *name);
const vpn_conf_policy *vpn_conf_find_policy(const vpn_conf *c, const char *name);
const vpn_conf_keyring *vpn_conf_find_keyring(const vpn_conf *c, const char *name);
const vpn_conf_profile *vpn_conf_find_profile(const vpn_conf *c, const char *name);
const vpn_conf_ip_pool *vpn_conf_find_ip_pool(const vpn_conf *c, const char *name);
const vpn_conf_ipv6_pool *vpn_conf_find_ipv6_pool(const vpn_conf *c, const char *name);
const vpn_conf_user *vpn_conf_find_user(const vpn_conf *c, const char *name);
const vpn_conf_author_policy *vpn_conf_find_author_policy(const vpn_conf *c, const char *name);
const vpn_conf_aaa_list *vpn_conf_find_aaa_list(const vpn_conf *c, const char *name);
const vpn_conf_radius_server *vpn_conf_find_radius_server(const vpn_conf *c, const char *name);
const vpn_conf_aaa_group *vpn_conf_find_aaa_group(const vpn_conf *c, const char *name);

/*
 * The RADIUS servers that authenticate EAP for profile pr, in order: those
 * of the group its `aaa authentication eap LIST` names (`group radius`:
 * every `radius server`). Writes up to max pointers into out and returns
 * how many; 0 when the profile authenticates locally (no list, or a
 * `local` list).
 */
size_t vpn_conf_eap_radius_servers(const vpn_conf *c, const vpn_conf_profile *pr,
                                   const vpn_conf_radius_server **out, size_t max);
const vpn_conf_transform_set *vpn_conf_find_transform_set(const vpn_conf *c, const char *name);
const vpn_conf_ipsec_profile *vpn_conf_find_ipsec_profile(const vpn_conf *c, const char *name);
const vpn_conf_acl *vpn_conf_find_acl(const vpn_conf *c, const char *name);
const vpn_conf_interface *vpn_conf_find_interface(const vpn_conf *c, const char *name);
const vpn_conf_trustpoint *vpn_conf_find_trustpoint(const vpn_conf *c, const char *name);
const vpn_conf_gdoi_group *vpn_conf_find_gdoi_group(const vpn_conf *c, const char *name);
const vpn_conf_rsa_key *vpn_conf_find_rsa_key(const vpn_conf *c, const char *name);
const vpn_conf_class_map *vpn_conf_find_class_map(const vpn_conf *c, const char *name);
const vpn_conf_policy_map *vpn_conf_find_policy_map(const vpn_conf *c, const char *name);
/* MQC references and shares (conf-qos.c); same errors as vpn_conf_validate. */
int vpn_conf_validate_qos(const vpn_conf *c, vpn_conf_error *err);
/* The first entry (lowest sequence number) of crypto map name; NULL if none. */
const vpn_conf_crypto_map *vpn_conf_find_crypto_map(const vpn_conf *c, const char *name);

/* The `crypto isakmp key` whose address covers addr, longest prefix
 * first; NULL if none. */
const vpn_conf_isakmp_key *vpn_conf_isakmp_key_match(const vpn_conf *c, const vpn_addr *addr);

/*
 * Keyring lookup as IOS does it: a peer whose identity matches id, else one
 * whose address (prefix) holds addr, longest prefix first. NULL if none.
 */
const vpn_conf_peer *vpn_conf_keyring_match(const vpn_conf_keyring *k, const vpn_addr *addr,
                                            const vpn_conf_identity *id);

/* True if the remote identity id satisfies one of profile's match rules. */
bool vpn_conf_profile_matches(const vpn_conf_profile *p, const vpn_conf_identity *id);

/* Names for views: "AES-CBC-256", "SHA256", "DH_GROUP_256_ECP/Group 19", ... */
const char *vpn_conf_auth_name(vpn_conf_auth a);

#ifdef __cplusplus
}
#endif

#endif
