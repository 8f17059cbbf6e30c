/* show crypto ikev2 proposal / policy / profile from parsed configuration. */
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "conf/conf.h"
#include "show/show.h"
#include "test-util.h"

static vpn_conf *parse(const char *text)
{
    vpn_conf *c = NULL;
    vpn_conf_error err;
    if (vpn_conf_parse(text, strlen(text), &c, &err) != 0)
        fail_msg("line %d: %s", err.line, err.msg);
    return c;
}

static void test_default_proposal_view(void **state)
{
    (void)state;
    vpn_conf *c = parse("");
    char out[2048];
    vpn_show_buf b;

    vpn_show_init(&b, out, sizeof out);
    assert_int_equal(vpn_show_ikev2_proposal(c, "default", &b), 0);
    assert_string_equal(out,
                        " IKEv2 proposal: default \n"
                        "     Encryption : AES-CBC-256\n"
                        "     Integrity  : SHA512 SHA384\n"
                        "     PRF        : SHA512 SHA384\n"
                        "     DH Group   : DH_GROUP_256_ECP/Group 19 DH_GROUP_2048_MODP/Group 14 "
                        "DH_GROUP_521_ECP/Group 21\n\n");
    vpn_show_init(&b, out, sizeof out);
    assert_int_equal(vpn_show_ikev2_policy(c, NULL, &b), 0);
    assert_string_equal(out,
                        " IKEv2 policy : default\n"
                        "      Match fvrf : any\n"
                        "      Match address local : any\n"
                        "      Proposal    : default\n\n");
    vpn_show_init(&b, out, sizeof out);
    assert_int_equal(vpn_show_ikev2_proposal(c, "nope", &b), VPN_ERR_NOTFOUND);
    vpn_conf_del(c);
}

static void test_profile_view(void **state)
{
    (void)state;
    vpn_conf *c = parse("crypto ikev2 keyring KR1\n peer S\n  address 203.0.113.20\n  pre-shared-key k\n"
                        "crypto ikev2 profile IKEV2-PROFILE1\n"
                        " match identity remote address 203.0.113.20 255.255.255.255\n"
                        " match identity remote fqdn domain example.com\n"
                        " identity local address 198.51.100.1\n"
                        " authentication remote pre-share\n authentication local pre-share\n"
                        " keyring local KR1\n dpd 10 2 on-demand\n"
                        "crypto ipsec profile IPP\n set ikev2-profile IKEV2-PROFILE1\n");
    char out[4096];
    vpn_show_buf b;

    vpn_show_init(&b, out, sizeof out);
    assert_int_equal(vpn_show_ikev2_profile(c, "IKEV2-PROFILE1", &b), 0);
    assert_string_equal(out,
                        "IKEv2 profile: IKEV2-PROFILE1\n"
                        " Ref Count: 1\n"
                        " Match criteria: \n"
                        "  Fvrf: any\n"
                        "  Local address/interface: none\n"
                        "  Identities:\n"
                        "   address 203.0.113.20 255.255.255.255\n"
                        "   fqdn domain example.com\n"
                        "  Certificate maps: none\n"
                        " Local identity: address 198.51.100.1 255.255.255.255\n"
                        " Remote identity: none\n"
                        " Local authentication method: pre-share\n"
                        " Remote authentication method(s): pre-share\n"
                        " EAP options: none\n"
                        " Keyring: KR1\n"
                        " Trustpoint(s): none\n"
                        " Lifetime: 86400 seconds\n"
                        " DPD: interval 10, retry-interval 2, on-demand\n"
                        " NAT-keepalive: disabled\n"
                        " Ivrf: none\n"
                        " Virtual-template: none\n\n");
    vpn_conf_del(c);
}

static void test_truncation_is_reported(void **state)
{
    (void)state;
    vpn_conf *c = parse("");
    char out[40];
    vpn_show_buf b;

    memset(out, 'x', sizeof out);
    vpn_show_init(&b, out, sizeof out);
    assert_int_equal(vpn_show_ikev2_proposal(c, NULL, &b), VPN_ERR_NOSPACE);
    assert_true(b.truncated);
    assert_int_equal(strlen(out), sizeof out - 1);
    vpn_show_init(&b, NULL, 0);
    assert_int_equal(vpn_show_ikev2_policy(c, NULL, &b), VPN_ERR_NOSPACE);
    vpn_conf_del(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_proposal_view),
        cmocka_unit_test(test_profile_view),
        cmocka_unit_test(test_truncation_is_reported),
    };
    return cmocka_run_group_tests_name("show-conf", tests, NULL, NULL);
}
