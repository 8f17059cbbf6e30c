/*
 * Wireshark checks of IKEv2 captures from two engines in memory: writing
 * the pcap and the ikev2_decryption_table of a run into
 * build/test-out/ikev2-pcap/<run>/, running tshark on it (with and
 * without the keys), and the checks every run gets. Header-only; the
 * driver defines _DEFAULT_SOURCE (popen, and libpcap's BSD types) before
 * any include.
 */
#ifndef VPN_TEST_IKEV2_WIRESHARK_H
#define VPN_TEST_IKEV2_WIRESHARK_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ikev2-pair.h"
#include "tu-pcap.h"

#define MAX_KEYS 16

typedef struct run {
    char dir[512];
    char keys[MAX_KEYS][512];
    size_t n_keys;
} run;

static inline void mkdirs(const char *path)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0755);
            *p = '/';
        }
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        fail_msg("cannot create %s", tmp);
}

static inline void need_tshark(void)
{
    if (system("command -v tshark >/dev/null 2>&1") != 0)
        fail_msg("tshark is not installed: the Wireshark checks of IKEv2 captures need it "
                 "(apt-get install tshark)");
}

/* Remembers the key line of every IKE SA either node has now. */
static inline void grab_keys(run *r, tp_net *n)
{
    for (int i = 0; i < n->n_nodes; i++) {
        for (size_t k = 0; k < vpn_ikev2_sa_count(n->node[i].ctx); k++) {
            vpn_ikev2_sa_info info;
            char line[512];
            bool dup = false;
            if (vpn_ikev2_sa_get(n->node[i].ctx, k, &info) != 0 ||
                vpn_ikev2_sa_wireshark_line(n->node[i].ctx, info.id, line, sizeof line) != 0)
                continue;
            for (size_t j = 0; j < r->n_keys; j++)
                dup = dup || strcmp(r->keys[j], line) == 0;
            if (!dup && r->n_keys < MAX_KEYS)
                snprintf(r->keys[r->n_keys++], sizeof r->keys[0], "%s", line);
        }
    }
}

static inline void write_files(run *r, tp_net *n, const char *name)
{
    char path[700];
    tu_pcap pc;
    FILE *f;

    snprintf(r->dir, sizeof r->dir, "%s/test-out/ikev2-pcap/%s", VPN_BUILD_DIR, name);
    snprintf(path, sizeof path, "%s/wireshark", r->dir);
    mkdirs(path);
    snprintf(path, sizeof path, "%s/ikev2.pcap", r->dir);
    tu_pcap_open(&pc, path);
    for (size_t i = 0; i < n->n_log; i++) {
        const tp_dgram *d = n->log[i];
        tu_pcap_udp(&pc, d->when, &d->src.addr, d->src.port, &d->dst.addr, d->dst.port, d->data, d->len);
    }
    tu_pcap_close(&pc);
    snprintf(path, sizeof path, "%s/wireshark/ikev2_decryption_table", r->dir);
    f = fopen(path, "w");
    assert_non_null(f);
    for (size_t i = 0; i < r->n_keys; i++)
        fprintf(f, "%s\n", r->keys[i]);
    fclose(f);
}

/* Runs tshark on the run's capture; with_keys points XDG_CONFIG_HOME at the
 * run's folder (where wireshark/ikev2_decryption_table is). Output into a
 * malloc'd string. */
static inline char *tshark(const run *r, bool with_keys, const char *args)
{
    char cmd[2048], *out;
    size_t cap = 1 << 20, len = 0;
    FILE *p;

    snprintf(cmd, sizeof cmd, "XDG_CONFIG_HOME=%s tshark -n -r %s/ikev2.pcap %s 2>/dev/null",
             with_keys ? r->dir : "/nonexistent", r->dir, args);
    p = popen(cmd, "r");
    assert_non_null(p);
    out = malloc(cap);
    assert_non_null(out);
    while (len + 1 < cap) {
        size_t got = fread(out + len, 1, cap - 1 - len, p);
        if (got == 0)
            break;
        len += got;
    }
    out[len] = '\0';
    assert_int_equal(pclose(p), 0);
    return out;
}

static inline size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static inline size_t lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* The checks every run gets. */
static inline void check_run(const run *r, size_t n_msgs, size_t min_child_exchanges, size_t n_icv)
{
    char *plain, *keyed, *summary;

    /* every datagram is ISAKMP (IKEv2), nothing malformed, even without keys */
    summary = tshark(r, false, "-Y isakmp -T fields -e frame.number");
    assert_int_equal(lines(summary), n_msgs);
    free(summary);
    plain = tshark(r, false, "-V");
    if (strstr(plain, "Malformed") || strstr(plain, "malformed"))
        fail_msg("tshark finds a malformed packet in %s/ikev2.pcap:\n%s", r->dir, plain);
    assert_int_equal(count(plain, "Version: 2.0"), n_msgs);
    free(plain);

    keyed = tshark(r, true, "-V");
    if (strstr(keyed, "Malformed") || strstr(keyed, "malformed"))
        fail_msg("tshark with the key file finds a malformed packet in %s", r->dir);
    /* decrypted IKE_AUTH contents (RFC 7296 payload names as Wireshark
     * prints them) */
    if (count(keyed, "Payload: Identification - Initiator (35)") < 1 ||
        count(keyed, "Payload: Identification - Responder (36)") < 1 ||
        count(keyed, "Payload: Authentication (39)") < 2 ||
        count(keyed, "Payload: Traffic Selector - Initiator (44)") < 2 + 2 * min_child_exchanges ||
        count(keyed, "Payload: Traffic Selector - Responder (45)") < 2 + 2 * min_child_exchanges)
        fail_msg("decrypted payloads missing in %s (key file %s/wireshark/ikev2_decryption_table)", r->dir,
                 r->dir);
    /* SA payloads: 2 clear in IKE_SA_INIT, 2 decrypted in IKE_AUTH, more in rekeys */
    assert_true(count(keyed, "Payload: Security Association (33)") >= 4 + 2 * min_child_exchanges);
    /* Wireshark checks the ICV of every encrypted non-AEAD message */
    assert_int_equal(count(keyed, "]>[incorrect]"), 0);
    if (n_icv)
        assert_int_equal(count(keyed, "<HMAC_SHA2_256_128 [RFC4868]>[correct]"), n_icv);
    free(keyed);
}

#endif
