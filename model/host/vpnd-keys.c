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
    d->ike_keys = d->esp_keys = d->ikev1_keys = NULL;
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
            rc = vpn_x509_load(&cert, (const uint8_t *)buf, len);
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
            if ((rc = vpn_ikev2_trustpoint_set_cert(vpn_router_ikev2_setup(d->router), tp->name, cert, key, NULL, 0)) != 0) {
                snprintf(err, errlen, "line %d: trustpoint %s: certificate and key: %s", tp->line, tp->name,
                         vpn_strerror(rc));
                return -1;
            }
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
