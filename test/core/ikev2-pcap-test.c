/*
 * Captures of in-memory IKEv2 runs, checked by Wireshark (tshark) as an
 * independent implementation: every message decodes without a malformed
 * packet, and with the `ikev2_decryption_table` the engine exports, the
 * encrypted payloads (IDi, IDr, AUTH, SA, TSi, TSr, Delete) appear
 * decrypted. Runs: AES-CBC + HMAC-SHA-256 with a CHILD_SA rekey (PFS), an
 * IKE SA rekey, DPD and a Delete; AES-GCM-256 with MODP 2048; a NAT in
 * front of the initiator (port 4500, non-ESP marker).
 *
 * The pcaps and key files stay in the build tree
 * (build/test-out/ikev2-pcap/<run>/) for people to open in Wireshark.
 * tshark is required: the test fails, clearly, without it.
 */
#define _DEFAULT_SOURCE /* popen, and the BSD types libpcap's headers use */

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

static void mkdirs(const char *path)
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

static void need_tshark(void)
{
    if (system("command -v tshark >/dev/null 2>&1") != 0)
        fail_msg("tshark is not installed: the Wireshark checks of IKEv2 captures need it "
                 "(apt-get install tshark)");
}

/* Remembers the key line of every IKE SA either node has now. */
static void grab_keys(run *r, tp_net *n)
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

static void write_files(run *r, tp_net *n, const char *name)
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
static char *tshark(const run *r, bool with_keys, const char *args)
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

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static size_t lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* The checks every run gets. */
static void check_run(const run *r, size_t n_msgs, size_t min_child_exchanges, size_t n_icv)
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

static void test_pcap_cbc_rekeys_delete(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    vpn_ikev2_policy p = gre_policy("192.0.2.1", "192.0.2.2", 1);
    tp_net n;
    run r;
    vpn_ikev2_sa_info i;
    vpn_ikev2_child_state c;
    char *keyed;
    (void)state;

    need_tshark();
    memset(&r, 0, sizeof r);
    a.pfs = b.pfs = "group19";
    a.profile_extra = " dpd 10 2 periodic\n";
    setup(&n, &a, &b);
    initiate(&n, &p);
    tp_run_for(&n, 1);
    grab_keys(&r, &n);
    assert_int_equal(vpn_ikev2_sa_get(n.node[0].ctx, 0, &i), 0);
    assert_int_equal(vpn_ikev2_child_get(n.node[0].ctx, i.id, 0, &c), 0);
    assert_int_equal(vpn_ikev2_child_rekey(n.node[0].ctx, n.now, c.info.id), 0);
    tp_run_for(&n, 1);
    assert_int_equal(vpn_ikev2_sa_get(n.node[1].ctx, 0, &i), 0);
    assert_int_equal(vpn_ikev2_ike_rekey(n.node[1].ctx, n.now, i.id), 0);
    tp_run_for(&n, 1);
    grab_keys(&r, &n);
    tp_run_for(&n, 12); /* one DPD exchange */
    assert_int_equal(vpn_ikev2_sa_get(n.node[0].ctx, 0, &i), 0);
    assert_int_equal(vpn_ikev2_delete(n.node[0].ctx, n.now, i.id), 0);
    tp_run_for(&n, 1);
    assert_int_equal(vpn_ikev2_sa_count(n.node[1].ctx), 0);
    write_files(&r, &n, "cbc-rekeys-delete");
    /* 4 (initial) + 4 (CHILD rekey and Delete of the old) + 4 (IKE rekey,
     * Delete of the old IKE SA) + 2 (DPD) + 2 (Delete) */
    assert_int_equal(n.n_log, 16);
    check_run(&r, n.n_log, 1, n.n_log - 2);
    keyed = tshark(&r, true, "-V");
    assert_true(count(keyed, "Payload: Delete (42)") >= 4);
    assert_true(count(keyed, "Payload: Key Exchange (34)") >= 6); /* INIT, PFS, IKE rekey */
    assert_true(strstr(keyed, "Notify Message Type: REKEY_SA (16393)") != NULL);
    free(keyed);
    tp_free(&n);
}

static void test_pcap_gcm_modp(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    vpn_ikev2_policy p = gre_policy("192.0.2.1", "192.0.2.2", 1);
    tp_net n;
    run r;
    (void)state;

    need_tshark();
    memset(&r, 0, sizeof r);
    a.encr = b.encr = "aes-gcm-256";
    a.integ = b.integ = NULL;
    a.groups = b.groups = "14";
    a.tset = b.tset = "esp-gcm 256";
    setup(&n, &a, &b);
    initiate(&n, &p);
    tp_run_for(&n, 1);
    grab_keys(&r, &n);
    assert_true(strstr(r.keys[0], "\"AES-GCM-256 with 16 octet ICV [RFC5282]\"") != NULL);
    write_files(&r, &n, "gcm-modp2048");
    assert_int_equal(n.n_log, 4);
    check_run(&r, 4, 0, 0);
    tp_free(&n);
}

static void test_pcap_nat(void **state)
{
    peer_conf a = conf_a(), b = conf_b();
    vpn_ikev2_policy p = gre_policy("192.0.2.1", "192.0.2.2", 1);
    tp_net n;
    run r;
    char *out;
    (void)state;

    need_tshark();
    memset(&r, 0, sizeof r);
    b.keyring_addr = "203.0.113.77";
    setup(&n, &a, &b);
    tp_nat(&n, "203.0.113.77");
    initiate(&n, &p);
    tp_run_for(&n, 1);
    grab_keys(&r, &n);
    write_files(&r, &n, "nat");
    check_run(&r, 4, 0, 2);
    out = tshark(&r, false, "-V");
    assert_int_equal(count(out, "Non-ESP Marker"), 2);
    assert_int_equal(count(out, "Notify Message Type: NAT_DETECTION_SOURCE_IP (16388)"), 2);
    free(out);
    tp_free(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pcap_cbc_rekeys_delete),
        cmocka_unit_test(test_pcap_gcm_modp),
        cmocka_unit_test(test_pcap_nat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
