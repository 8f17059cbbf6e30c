/*
 * Wireshark key files (KEYDIR/ikev2_decryption_table, esp_sa,
 * ikev1_decryption_table): the router's KEY_LINE events appended to them
 * (the lines are made in the core, router.h), and the certificates
 * of `crypto pki trustpoint` objects, loaded from their files at start.
 */
#include "vpnd.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <string.h>

#include "common/vpn-err.h"

/* The CA files of a trustpoint and up to 8 more
 * certificates in its certificate file; the core takes 4 intermediates. */
#define IKEV2_CA_FILES_MAX VPN_CONF_TP_CA_MAX
#define IKEV2_CAND_MAX (IKEV2_CA_FILES_MAX + 8)
#define IKEV2_CHAIN_SEND_MAX 4

static FILE *open_key_file(const char *dir, const char *name, char *err, size_t errlen)
{
    gchar *path = g_build_filename(dir, name, NULL);
    FILE *f = fopen(path, "a");

    if (f == NULL)
        snprintf(err, errlen, "key file %s: %s", path, strerror(errno));
    g_free(path);
    return f;
}

int vpnd_keys_open(vpnd *d, char *err, size_t errlen)
{
    if (d->key_dir == NULL)
        return 0;
    if (g_mkdir_with_parents(d->key_dir, 0700) != 0) {
        snprintf(err, errlen, "key folder %s: %s", d->key_dir, strerror(errno));
        return -1;
    }
    if ((d->ike_keys = open_key_file(d->key_dir, "ikev2_decryption_table", err, errlen)) == NULL)
        return -1;
    if ((d->esp_keys = open_key_file(d->key_dir, "esp_sa", err, errlen)) == NULL)
        return -1;
    return 0;
}

void vpnd_keys_close(vpnd *d)
{
    if (d->ike_keys)
        fclose(d->ike_keys);
    if (d->esp_keys)
        fclose(d->esp_keys);
    if (d->ikev1_keys)
        fclose(d->ikev1_keys);
    if (d->esp_plain)
        fclose(d->esp_plain);
    if (d->ike_plain)
        fclose(d->ike_plain);
    d->ike_keys = d->esp_keys = d->ikev1_keys = NULL;
    d->esp_plain = d->ike_plain = NULL;
}

void vpnd_keys_line(vpnd *d, vpn_router_key_table table, const char *line)
{
    FILE **f = table == VPN_ROUTER_KEYS_ESP_SA  ? &d->esp_keys
               : table == VPN_ROUTER_KEYS_IKEV2 ? &d->ike_keys
               : table == VPN_ROUTER_KEYS_IKEV1 ? &d->ikev1_keys
                                                : NULL;
    char err[256];

    if (f == NULL || d->key_dir == NULL || line == NULL)
        return;
    /* IKEv1 lines are rare (GET VPN, crypto isakmp): their file is made on
     * first use */
    if (*f == NULL && (*f = open_key_file(d->key_dir, vpn_router_key_table_name(table), err, sizeof err)) == NULL) {
        vpnd_log(d, VPN_LOG_WARN, "%s", err);
        return;
    }
    fprintf(*f, "%s\n", line);
    fflush(*f);
}

/* One record of a decrypted-view pcap in KEYDIR (pcap, microsecond
 * timestamps, LINKTYPE_RAW 101, host byte order), made on the first
 * record so a run without such SAs leaves no file. */
static void plain_record(vpnd *d, FILE **f, const char *name, const char *what, const uint8_t *data, size_t len)
{
    gint64 us = g_get_real_time();
    uint32_t rec[4];

    if (d->key_dir == NULL || data == NULL || len == 0 || len > 65535)
        return;
    if (*f == NULL) {
        const uint32_t hdr[6] = {0xa1b2c3d4u, 2u | 4u << 16, 0, 0, 65535, 101};
        gchar *path = g_build_filename(d->key_dir, name, NULL);
        if ((*f = fopen(path, "w")) == NULL || fwrite(hdr, sizeof hdr, 1, *f) != 1) {
            vpnd_log(d, VPN_LOG_WARN, "%s: %s", path, strerror(errno));
            if (*f)
                fclose(*f);
            *f = NULL;
            g_free(path);
            return;
        }
        vpnd_log(d, VPN_LOG_INFO, "SAs Wireshark cannot decrypt: %s go to %s", what, path);
        g_free(path);
    }
    rec[0] = (uint32_t)(us / 1000000);
    rec[1] = (uint32_t)(us % 1000000);
    rec[2] = rec[3] = (uint32_t)len;
    if (fwrite(rec, sizeof rec, 1, *f) != 1 || fwrite(data, 1, len, *f) != len)
        vpnd_log(d, VPN_LOG_WARN, "%s: %s", name, strerror(errno));
    fflush(*f);
}

/* Issue 18: an SA whose algorithms Wireshark cannot decrypt gets no esp_sa
 * line (the core decides, ipsec/wskeys.h); its inner packets go to
 * KEYDIR/esp.plain.pcap instead, both directions, so a capture of the WAN
 * and this file read side by side. */
void vpnd_esp_plain(void *user, uint32_t tunnel, bool outbound, const uint8_t *data, size_t len)
{
    vpnd *d = user;

    (void)tunnel;
    (void)outbound;
    plain_record(d, &d->esp_plain, "esp.plain.pcap", "their inner packets", data, len);
}

/* The same for IKE SAs (no ikev2_decryption_table line): each encrypted
 * IKE message, unencrypted in an IP/UDP datagram as the core frames it
 * (vpn_ikev2_params.ike_plain), to KEYDIR/ike.plain.pcap. */
void vpnd_ike_plain(void *user, uint32_t ike_sa_id, bool outbound, const uint8_t *dgram, size_t len)
{
    vpnd *d = user;

    (void)ike_sa_id;
    (void)outbound;
    plain_record(d, &d->ike_plain, "ike.plain.pcap", "their IKE messages", dgram, len);
}

static int read_file(const char *path, gchar **buf, gsize *len, char *err, size_t errlen, const char *tp)
{
    GError *ge = NULL;
    if (!g_file_get_contents(path, buf, len, &ge)) {
        snprintf(err, errlen, "trustpoint %s: %s", tp, ge->message);
        g_error_free(ge);
        return -1;
    }
    return 0;
}

static bool name_eq(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    return a && b && al == bl && memcmp(a, b, al) == 0;
}

/* The certificates that lead from cert towards a root, taken from cand (the
 * certificate file's other certificates and the trustpoint's CA files), end
 * entity's issuer first, self-signed roots left out (the peer holds its
 * trust anchors; RFC 7296 3.6: CERT payloads carry the chain, the end entity
 * first). Returns how many were put into chain. */
static size_t chain_of(const vpn_x509 *cert, vpn_x509 *const *cand, size_t n_cand, const vpn_x509 **chain,
                       size_t cap)
{
    const vpn_x509 *cur = cert;
    size_t n = 0;

    while (n < cap) {
        size_t il, sl;
        const uint8_t *iss = vpn_x509_issuer_der(cur, &il), *sub = vpn_x509_subject_der(cur, &sl);
        const vpn_x509 *next = NULL;
        if (name_eq(iss, il, sub, sl))
            break; /* cur is self-signed */
        for (size_t i = 0; i < n_cand && next == NULL; i++) {
            size_t cl, ci;
            const uint8_t *cs = vpn_x509_subject_der(cand[i], &cl), *cis = vpn_x509_issuer_der(cand[i], &ci);
            bool used = cand[i] == cert;
            for (size_t k = 0; k < n; k++)
                used = used || chain[k] == cand[i];
            if (!used && name_eq(cs, cl, iss, il) && !name_eq(cs, cl, cis, ci))
                next = cand[i];
        }
        if (next == NULL)
            break;
        chain[n++] = next;
        cur = next;
    }
    return n;
}

/* Loads every trustpoint's files into the engine (before any SA exists). */
int vpnd_pki_load(vpnd *d, char *err, size_t errlen)
{
    d->certs = g_ptr_array_new();
    d->keys = g_ptr_array_new();
    for (size_t i = 0; i < d->conf->n_trustpoint; i++) {
        const vpn_conf_trustpoint *tp = &d->conf->trustpoint[i];
        gchar *buf;
        gsize len;
        int rc;
        /* chain candidates: the certificate file's others, then the CA files */
        vpn_x509 *cand[IKEV2_CAND_MAX];
        size_t n_cand = 0;

        for (size_t k = 0; k < tp->n_ca_file; k++) {
            vpn_x509 *ca = NULL;
            if (read_file(tp->ca_file[k], &buf, &len, err, errlen, tp->name))
                return -1;
            rc = vpn_x509_load(&ca, (const uint8_t *)buf, len);
            g_free(buf);
            if (rc != 0) {
                snprintf(err, errlen, "line %d: trustpoint %s: %s: %s", tp->line, tp->name, tp->ca_file[k],
                         vpn_strerror(rc));
                return -1;
            }
            g_ptr_array_add(d->certs, ca);
            if (n_cand < IKEV2_CAND_MAX)
                cand[n_cand++] = ca;
            if ((rc = vpn_ikev2_trustpoint_add_ca(vpn_router_ikev2_setup(d->router), tp->name, ca)) != 0) {
                snprintf(err, errlen, "trustpoint %s: %s", tp->name, vpn_strerror(rc));
                return -1;
            }
        }
        if (tp->cert_file[0]) {
            vpn_x509 *cert = NULL;
            vpn_sig_key *key = NULL;
            if (read_file(tp->cert_file, &buf, &len, err, errlen, tp->name))
                return -1;
            const vpn_x509 *chain[IKEV2_CHAIN_SEND_MAX];
            size_t n_chain;
            rc = vpn_x509_load(&cert, (const uint8_t *)buf, len);
            if (rc == 0) {
                /* a PEM file may hold the intermediates after the end
                 * entity: each further CERTIFICATE block is one */
                const char *mark = "-----BEGIN CERTIFICATE-----", *p = g_strstr_len(buf, (gssize)len, mark);
                size_t n_more = 0;
                while (rc == 0 && p && (p = g_strstr_len(p + 1, (gssize)(len - (gsize)(p + 1 - buf)), mark))) {
                    vpn_x509 *more = NULL;
                    if (n_more == IKEV2_CAND_MAX - IKEV2_CA_FILES_MAX) {
                        rc = VPN_ERR_LIMIT;
                        break;
                    }
                    if ((rc = vpn_x509_load(&more, (const uint8_t *)p, len - (gsize)(p - buf))) == 0) {
                        g_ptr_array_add(d->certs, more);
                        /* before the CA files: the file says what goes with it */
                        memmove(cand + 1, cand, n_cand * sizeof cand[0]);
                        cand[0] = more;
                        n_cand++;
                        n_more++;
                    }
                }
                if (rc != 0)
                    vpn_x509_del(cert);
            }
            g_free(buf);
            if (rc != 0) {
                snprintf(err, errlen, "line %d: trustpoint %s: %s: %s", tp->line, tp->name, tp->cert_file,
                         vpn_strerror(rc));
                return -1;
            }
            g_ptr_array_add(d->certs, cert);
            if (read_file(tp->key_file, &buf, &len, err, errlen, tp->name))
                return -1;
            rc = vpn_x509_key_load(&key, (const uint8_t *)buf, len);
            OPENSSL_cleanse(buf, len);
            g_free(buf);
            if (rc != 0) {
                snprintf(err, errlen, "line %d: trustpoint %s: %s: %s", tp->line, tp->name, tp->key_file,
                         vpn_strerror(rc));
                return -1;
            }
            g_ptr_array_add(d->keys, key);
            /* Issue 18: the peer may not hold our intermediate CAs; send them
             * as CERT payloads after the end entity (RFC 7296 3.6, RFC 4945 3.2). */
            n_chain = chain_of(cert, cand, n_cand, chain, IKEV2_CHAIN_SEND_MAX);
            if ((rc = vpn_ikev2_trustpoint_set_cert(vpn_router_ikev2_setup(d->router), tp->name, cert, key,
                                                    n_chain ? chain : NULL, n_chain)) != 0) {
                snprintf(err, errlen, "line %d: trustpoint %s: certificate and key: %s", tp->line, tp->name,
                         vpn_strerror(rc));
                return -1;
            }
            vpnd_log(d, VPN_LOG_INFO, "trustpoint %s: sending certificate %s with %zu intermediate(s)%s", tp->name,
                     vpn_x509_subject_text(cert), n_chain, n_chain ? ":" : "");
            for (size_t k = 0; k < n_chain; k++)
                vpnd_log(d, VPN_LOG_INFO, "trustpoint %s:   intermediate %zu: %s (issuer %s)", tp->name, k + 1,
                         vpn_x509_subject_text(chain[k]), vpn_x509_issuer_text(chain[k]));
        }
    }
    /* A profile naming a trustpoint that is not configured would fail every
     * negotiation; say so now. */
    for (size_t i = 0; i < d->conf->n_profile; i++) {
        const vpn_conf_profile *p = &d->conf->profile[i];
        for (size_t k = 0; k < p->n_trustpoint; k++)
            if (vpn_conf_find_trustpoint(d->conf, p->trustpoint[k]) == NULL) {
                snprintf(err, errlen,
                         "line %d: ikev2 profile %s: pki trustpoint %s is not defined (crypto pki trustpoint)",
                         p->line, p->name, p->trustpoint[k]);
                return -1;
            }
    }
    return 0;
}

void vpnd_pki_free(vpnd *d)
{
    if (d->certs) {
        for (guint i = 0; i < d->certs->len; i++)
            vpn_x509_del(g_ptr_array_index(d->certs, i));
        g_ptr_array_free(d->certs, TRUE);
    }
    if (d->keys) {
        for (guint i = 0; i < d->keys->len; i++)
            vpn_sig_key_del(g_ptr_array_index(d->keys, i));
        g_ptr_array_free(d->keys, TRUE);
    }
    d->certs = d->keys = NULL;
}
