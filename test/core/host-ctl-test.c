/* vpnctl's command language: what parses to what, and clear refusals. */
#include <stdio.h>
#include <string.h>

#include "common/vpn-err.h"
#include "host-ctl.h"
#include "test-util.h"

static vpn_host_ctl_req ok(const char *line)
{
    vpn_host_ctl_req r;
    char err[256];
    if (vpn_host_ctl_parse(line, &r, err, sizeof err) != 0)
        fail_msg("'%s' refused: %s", line, err);
    return r;
}

static void refused(const char *line, const char *needle)
{
    vpn_host_ctl_req r;
    char err[256];
    int rc = vpn_host_ctl_parse(line, &r, err, sizeof err);
    if (rc != VPN_ERR_MALFORMED || strstr(err, needle) == NULL)
        fail_msg("'%s': want MALFORMED with '%s', got %d: %s", line, needle, rc, err);
}

static void test_commands(void **state)
{
    vpn_host_ctl_req r;
    (void)state;

    r = ok("show crypto ikev2 sa");
    assert_int_equal(r.cmd, VPN_HOST_CMD_SHOW_IKEV2_SA);
    assert_false(r.detail);
    r = ok("show crypto ikev2 sa detail\n");
    assert_int_equal(r.cmd, VPN_HOST_CMD_SHOW_IKEV2_SA);
    assert_true(r.detail);
    r = ok("  show   crypto ipsec sa  ");
    assert_int_equal(r.cmd, VPN_HOST_CMD_SHOW_IPSEC_SA);
    r = ok("show crypto session detail");
    assert_int_equal(r.cmd, VPN_HOST_CMD_SHOW_SESSION);
    assert_true(r.detail);
    assert_int_equal(ok("show crypto ikev2 stats").cmd, VPN_HOST_CMD_SHOW_IKEV2_STATS);
    assert_int_equal(ok("show crypto ikev2 proposal").cmd, VPN_HOST_CMD_SHOW_IKEV2_PROPOSAL);
    assert_int_equal(ok("show crypto ikev2 policy").cmd, VPN_HOST_CMD_SHOW_IKEV2_POLICY);
    r = ok("show crypto ikev2 profile P1");
    assert_int_equal(r.cmd, VPN_HOST_CMD_SHOW_IKEV2_PROFILE);
    assert_string_equal(r.arg, "P1");
    assert_int_equal(ok("show drops").cmd, VPN_HOST_CMD_SHOW_DROPS);
    assert_int_equal(ok("show ip local pool").cmd, VPN_HOST_CMD_SHOW_IP_LOCAL_POOL);
    assert_int_equal(ok("show aaa servers").cmd, VPN_HOST_CMD_SHOW_AAA_SERVERS);
    r = ok("show crypto session username alice");
    assert_int_equal(r.cmd, VPN_HOST_CMD_SHOW_SESSION_USER);
    assert_string_equal(r.arg, "alice");
    assert_false(r.detail);
    r = ok("show crypto session username bob detail");
    assert_int_equal(r.cmd, VPN_HOST_CMD_SHOW_SESSION_USER);
    assert_string_equal(r.arg, "bob");
    assert_true(r.detail);
    r = ok("initiate");
    assert_int_equal(r.cmd, VPN_HOST_CMD_INITIATE);
    assert_string_equal(r.arg, "");
    r = ok("initiate Tunnel0");
    assert_string_equal(r.arg, "Tunnel0");
    r = ok("clear crypto ikev2 sa");
    assert_int_equal(r.cmd, VPN_HOST_CMD_CLEAR_IKEV2_SA);
    assert_false(r.has_id);
    r = ok("clear crypto ikev2 sa 42");
    assert_true(r.has_id);
    assert_int_equal(r.id, 42);
    assert_int_equal(ok("clear crypto ipsec sa").cmd, VPN_HOST_CMD_CLEAR_IPSEC_SA);
    r = ok("rekey child Tunnel3");
    assert_int_equal(r.cmd, VPN_HOST_CMD_REKEY_CHILD);
    assert_string_equal(r.arg, "Tunnel3");
    r = ok("rekey ike tunnel0");
    assert_int_equal(r.cmd, VPN_HOST_CMD_REKEY_IKE);
    r = ok("dpd Tunnel0");
    assert_int_equal(r.cmd, VPN_HOST_CMD_DPD);
    assert_int_equal(ok("status").cmd, VPN_HOST_CMD_STATUS);
    assert_int_equal(ok("help").cmd, VPN_HOST_CMD_HELP);
    assert_int_equal(ok("show crypto isakmp sa").cmd, VPN_HOST_CMD_SHOW_ISAKMP_SA);
    assert_int_equal(ok("show crypto isakmp policy").cmd, VPN_HOST_CMD_SHOW_ISAKMP_POLICY);
    r = ok("initiate isakmp 192.0.2.1");
    assert_int_equal(r.cmd, VPN_HOST_CMD_INITIATE_ISAKMP);
    assert_string_equal(r.arg, "192.0.2.1");
    r = ok("clear crypto isakmp");
    assert_int_equal(r.cmd, VPN_HOST_CMD_CLEAR_ISAKMP);
    assert_false(r.has_id);
    r = ok("clear crypto isakmp 1001");
    assert_true(r.has_id);
    assert_int_equal(r.id, 1001);
    assert_int_equal(ok("show crypto gdoi").cmd, VPN_HOST_CMD_SHOW_GDOI);
    assert_int_equal(ok("show crypto gdoi ks members").cmd, VPN_HOST_CMD_SHOW_GDOI_KS_MEMBERS);
    assert_int_equal(ok("show crypto gdoi ks coop").cmd, VPN_HOST_CMD_SHOW_GDOI_KS_COOP);
    assert_int_equal(ok("show crypto gdoi gm").cmd, VPN_HOST_CMD_SHOW_GDOI_GM);
    assert_int_equal(ok("clear crypto gdoi").cmd, VPN_HOST_CMD_CLEAR_GDOI);
    assert_int_equal(ok("crypto gdoi ks rekey").cmd, VPN_HOST_CMD_GDOI_KS_REKEY);
    assert_non_null(strstr(vpn_host_ctl_help(), "rekey child TunnelN"));
    assert_non_null(strstr(vpn_host_ctl_help(), "crypto gdoi ks rekey"));
}

static void test_refusals(void **state)
{
    vpn_host_ctl_req r;
    char big[1024];
    (void)state;

    refused("", "empty command");
    refused("frobnicate", "unknown command: 'frobnicate' (try 'help')");
    refused("show crypto ikev2 sa verbose", "unknown show crypto ikev2 command");
    refused("show crypto isakmp sa detail", "unknown show crypto command");
    refused("show crypto isakmp", "unknown show crypto command");
    refused("initiate isakmp", "usage: initiate isakmp ADDRESS");
    refused("clear crypto isakmp x", "conn-id");
    refused("show version", "unknown show command");
    refused("show ip local pool P1", "unknown show command");
    refused("show aaa servers now", "unknown show command");
    refused("show ip local", "unknown show command");
    refused("show crypto session username", "unknown show crypto command");
    refused("show crypto session username a b", "unknown show crypto command");
    refused("initiate eth0", "TunnelN");
    refused("initiate Tunnel0 now", "unknown command");
    refused("clear crypto ikev2 sa zero", "IKE SA id");
    refused("clear crypto ikev2 sa 0", "IKE SA id");
    refused("clear crypto ikev2 sa 99999999999", "IKE SA id");
    refused("clear crypto gdoi now", "unknown clear command");
    refused("show crypto gdoi ks", "unknown show crypto gdoi command");
    refused("show crypto gdoi ks policy", "unknown show crypto gdoi command");
    refused("show crypto gdoi gm detail", "unknown show crypto gdoi command");
    refused("crypto gdoi ks", "usage: crypto gdoi ks rekey");
    refused("crypto gdoi ks rekey now", "usage: crypto gdoi ks rekey");
    refused("crypto ikev2 rekey", "unknown command");
    refused("rekey child", "usage: rekey child|ike TunnelN");
    refused("rekey tunnel Tunnel0", "usage: rekey");
    refused("dpd", "usage: dpd TunnelN");
    refused("dpd Tunnel", "usage: dpd TunnelN");
    refused("status now", "unknown command");
    refused("show\x01 drops", "unprintable");
    refused("a b c d e f g h i", "too many words");
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    refused(big, "command too long");
    assert_int_equal(vpn_host_ctl_parse(NULL, &r, NULL, 0), VPN_ERR_INVAL);
    assert_int_equal(vpn_host_ctl_parse("help", NULL, NULL, 0), VPN_ERR_INVAL);
    /* no error buffer is fine */
    assert_int_equal(vpn_host_ctl_parse("nope", &r, NULL, 0), VPN_ERR_MALFORMED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commands),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
