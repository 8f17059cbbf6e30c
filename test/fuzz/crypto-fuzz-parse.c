/*
 * libFuzzer target for the crypto unit's parsers of untrusted bytes: RFC 7427
 * AlgorithmIdentifiers, ECDSA DER <-> r||s, AUTH payload data, X.509
 * certificates and public keys. The first byte selects the parser.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/wire.h"
#include "crypto/crypto-ids.h"
#include "crypto/sig.h"
#include "crypto/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A fixed P-256 public key: AUTH data is verified against it. */
static const char pub_pem[] = "-----BEGIN PUBLIC KEY-----\n"
                              "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEuzpfJrotcygVzE8BO6gBhEkCFVJW\n"
                              "Cm8tvG31HPzxxz6MYuXD3zNJg0KI6kZkzkrb4cfa2Fq1yh+B38Nnc3lWrg==\n"
                              "-----END PUBLIC KEY-----\n";

static void algid(const uint8_t *p, size_t n)
{
    vpn_rd r;
    vpn_sig_alg alg, again;
    uint8_t buf[128];
    vpn_wr w;

    vpn_rd_init(&r, p, n);
    if (vpn_sig_algid_read(&r, &alg) != 0)
        return;
    /* What we accept we must be able to write back and read the same. */
    vpn_wr_init(&w, buf, sizeof buf);
    if (vpn_sig_algid_write(&w, &alg) != 0)
        abort();
    vpn_rd_init(&r, buf, vpn_wr_len(&w));
    if (vpn_sig_algid_read(&r, &again) != 0 || memcmp(&alg, &again, sizeof alg) != 0)
        abort();
}

static void ecdsa(const uint8_t *p, size_t n)
{
    static const size_t fields[] = {32, 48, 66};
    uint8_t rs[132], der[160];
    size_t rs_len, der_len;

    for (size_t i = 0; i < 3; i++) {
        if (vpn_sig_ecdsa_der_to_rs(p, n, fields[i], rs, sizeof rs, &rs_len) != 0)
            continue;
        if (rs_len != 2 * fields[i])
            abort();
        if (vpn_sig_ecdsa_rs_to_der(rs, rs_len, der, sizeof der, &der_len) != 0)
            abort();
    }
}

static void auth(const uint8_t *p, size_t n)
{
    static vpn_sig_key *key;
    static const uint8_t msg[] = "signed octets";
    vpn_sig_alg used;

    if (key == NULL && vpn_sig_key_load_public(&key, (const uint8_t *)pub_pem, sizeof pub_pem - 1) != 0)
        abort();
    if (n < 1)
        return;
    /* Forged data must never verify. */
    if (vpn_sig_auth_verify(key, p[0], p + 1, n - 1, msg, sizeof msg - 1, &used) == 0)
        abort();
}

static void cert(const uint8_t *p, size_t n)
{
    vpn_x509 *c = NULL;
    vpn_sig_key *k = NULL;
    size_t len;

    if (vpn_x509_load(&c, p, n) == 0) {
        (void)vpn_x509_subject_der(c, &len);
        (void)vpn_x509_subject_text(c);
        (void)vpn_x509_serial_text(c);
        for (size_t i = 0; i < vpn_x509_san_count(c); i++) {
            vpn_x509_san san;
            (void)vpn_x509_san_get(c, i, &san);
        }
        if (vpn_x509_pubkey(c, &k) == 0)
            vpn_sig_key_del(k);
        vpn_x509_del(c);
    }
    k = NULL;
    if (vpn_sig_key_load_public(&k, p, n) == 0)
        vpn_sig_key_del(k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    switch (data[0] % 4) {
    case 0: algid(data + 1, size - 1); break;
    case 1: ecdsa(data + 1, size - 1); break;
    case 2: auth(data + 1, size - 1); break;
    case 3: cert(data + 1, size - 1); break;
    }
    return 0;
}
