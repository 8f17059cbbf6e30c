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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ikev2-pair.h"
#include "ikev2-wireshark.h"

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
