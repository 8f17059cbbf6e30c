/*
 * EAP-MSCHAPv2 primitives against the published vectors: RFC 2759 9.2
 * (user "User", password "clientPass") and RFC 3079 3.5.3 (the 128-bit
 * MPPE keys from the same exchange), the MSK layout IKEv2 uses, and MD4 of
 * the empty string (RFC 1320 A.5), which is NtPasswordHash("").
 */
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "ikev2/ikev2-eap.h"
#include "test-util.h"

static const char *AUTH_CHAL = "5B5D7C7D7B3F2F3E3C2C602132262628";
static const char *PEER_CHAL = "21402324255E262A28295F2B3A337C7E";
static const char *PW_HASH = "44EBBA8D5312B8D611474411F56989AE";
static const char *NT_RESP = "82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF";
static const char *PW_HASH_HASH = "41C00C584BD2D91C4017A2A12FA59F3F";
static const char *MASTER_KEY = "FDECE3717A8C838CB388E527AE3CDD31";
/* RFC 3079 3.5.3: the 128-bit SendStartKey the sample derives for the server
 * (magic 3); the client's send key (magic 2) follows from the same master key. */
static const char *SERVER_SEND_KEY = "8B7CDC149B993A1BA118CB153F56DCCB";
static const char *CLIENT_SEND_KEY = "D5F0E9521E3EA9589645E86051C82226";

static uint8_t *hx(const char *h, size_t want)
{
    size_t n;
    uint8_t *p = tu_hex(h, &n);
    assert_int_equal(n, want);
    return p;
}

static void test_rfc2759_vectors(void **state)
{
    (void)state;
    uint8_t ph[16], nt[24];
    char ar[43];
    assert_int_equal(vpn_mschapv2_pw_hash("clientPass", 10, ph), 0);
    tu_assert_hex(ph, 16, PW_HASH);
    uint8_t *ac = hx(AUTH_CHAL, 16), *pc = hx(PEER_CHAL, 16);
    assert_int_equal(vpn_mschapv2_nt_response(ac, pc, "User", 4, ph, nt), 0);
    tu_assert_hex(nt, 24, NT_RESP);
    assert_int_equal(vpn_mschapv2_auth_response(ph, nt, pc, ac, "User", 4, ar), 0);
    assert_string_equal(ar, "S=407A5589115FD0D6209F510FE9C04566932CDA56");
    /* RFC 2759 4: a domain prefix is left out of ChallengeHash. */
    uint8_t nt2[24];
    assert_int_equal(vpn_mschapv2_nt_response(ac, pc, "CORP\\User", 9, ph, nt2), 0);
    assert_memory_equal(nt, nt2, 24);
    /* Another user name gives another response. */
    assert_int_equal(vpn_mschapv2_nt_response(ac, pc, "user", 4, ph, nt2), 0);
    assert_memory_not_equal(nt, nt2, 24);
    free(ac);
    free(pc);
}

static void test_rfc3079_keys_and_msk(void **state)
{
    (void)state;
    uint8_t *hh = hx(PW_HASH_HASH, 16), *nt = hx(NT_RESP, 24), *ph = hx(PW_HASH, 16);
    uint8_t mk[16], k[16], msk[VPN_EAP_MSK_LEN];
    assert_int_equal(vpn_mschapv2_master_key(hh, nt, mk), 0);
    tu_assert_hex(mk, 16, MASTER_KEY);
    assert_int_equal(vpn_mschapv2_start_key(mk, true, false, k), 0);
    tu_assert_hex(k, 16, CLIENT_SEND_KEY);
    /* The client's send key is the server's receive key, and the other way. */
    uint8_t k2[16];
    assert_int_equal(vpn_mschapv2_start_key(mk, false, true, k2), 0);
    assert_memory_equal(k, k2, 16);
    assert_int_equal(vpn_mschapv2_start_key(mk, true, true, k2), 0);
    tu_assert_hex(k2, 16, SERVER_SEND_KEY);
    uint8_t k3[16];
    assert_int_equal(vpn_mschapv2_start_key(mk, false, false, k3), 0);
    assert_memory_equal(k2, k3, 16);
    /* MSK = MasterReceiveKey | MasterSendKey | 32 zeros. */
    assert_int_equal(vpn_mschapv2_msk(ph, nt, msk), 0);
    assert_memory_equal(msk, k, 16);
    assert_memory_equal(msk + 16, k2, 16);
    static const uint8_t zero[32];
    assert_memory_equal(msk + 32, zero, 32);
    free(hh);
    free(nt);
    free(ph);
}

static void test_md4_and_utf8(void **state)
{
    (void)state;
    uint8_t h[16], h2[16];
    assert_int_equal(vpn_mschapv2_pw_hash("", 0, h), 0);
    tu_assert_hex(h, 16, "31d6cfe0d16ae931b73c59d7e0c089c0"); /* RFC 1320 A.5 MD4("") */
    /* U+00E9 as UTF-8 gives the UTF-16LE octets E9 00, like Latin-1 would. */
    assert_int_equal(vpn_mschapv2_pw_hash("caf\xc3\xa9", 5, h), 0);
    assert_int_equal(vpn_mschapv2_pw_hash("cafe", 4, h2), 0);
    assert_memory_not_equal(h, h2, 16);
    /* Broken UTF-8, overlong forms, surrogates and > 256 characters are refused. */
    assert_int_equal(vpn_mschapv2_pw_hash("\xc3", 1, h), VPN_ERR_MALFORMED);
    assert_int_equal(vpn_mschapv2_pw_hash("\xc0\xaf", 2, h), VPN_ERR_MALFORMED);
    assert_int_equal(vpn_mschapv2_pw_hash("\xed\xa0\x80", 3, h), VPN_ERR_MALFORMED);
    assert_int_equal(vpn_mschapv2_pw_hash("\xff", 1, h), VPN_ERR_MALFORMED);
    char big[300];
    memset(big, 'a', sizeof big);
    assert_int_equal(vpn_mschapv2_pw_hash(big, 256, h), 0);
    assert_int_equal(vpn_mschapv2_pw_hash(big, 257, h), VPN_ERR_MALFORMED);
    assert_int_equal(vpn_mschapv2_pw_hash(NULL, 1, h), VPN_ERR_INVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc2759_vectors),
        cmocka_unit_test(test_rfc3079_keys_and_msk),
        cmocka_unit_test(test_md4_and_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
