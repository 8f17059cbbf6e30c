/*
 * MQC lines of the IOS configuration subset (conf-qos.h): a branch router's
 * LLQ policy under a shaper for its sub-rate access link, and every parse
 * and validation error naming its line with nothing configured.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "conf/conf.h"
#include "test-util.h"

static const char branch[] =
    "hostname BR1\n"
    "ip access-list extended SIP\n"
    " permit udp any any eq 5060\n"
    "class-map match-any VOICE\n"
    " match dscp ef\n"
    " match ip dscp cs5 40\n"
    "class-map VIDEO\n"
    " description interactive video\n"
    " match dscp af41 af42\n"
    "class-map match-all SIGNAL\n"
    " match access-group name SIP\n"
    " match dscp cs3\n"
    "policy-map WAN\n"
    " class class-default\n"
    "  fair-queue\n"
    " class VOICE\n"
    "  priority percent 30\n"
    " class VIDEO\n"
    "  bandwidth percent 25\n"
    "  queue-limit 40 packets\n"
    " class SIGNAL\n"
    "  bandwidth percent 5\n"
    "policy-map SHAPE-2M\n"
    " class class-default\n"
    "  shape average 2000000\n"
    "  service-policy WAN\n"
    "interface GigabitEthernet0/0\n"
    " ip address 192.0.2.2 255.255.255.252\n"
    " service-policy output SHAPE-2M\n"
    " qos pre-classify\n";

static void test_branch_policy(void **state)
{
    (void)state;
    vpn_conf *c = NULL;
    vpn_conf_error err;
    int rc = vpn_conf_parse(branch, strlen(branch), &c, &err);
    if (rc)
        fail_msg("line %d: %s", err.line, err.msg);
    const vpn_conf_class_map *v = vpn_conf_find_class_map(c, "VOICE");
    assert_non_null(v);
    assert_true(v->match_any);
    assert_int_equal(v->n_match, 2);
    assert_true(v->match[0].dscp == (1ull << 46));
    assert_true(v->match[1].dscp == ((1ull << 40)));
    const vpn_conf_class_map *vid = vpn_conf_find_class_map(c, "VIDEO");
    assert_false(vid->match_any); /* IOS default: match-all */
    assert_true(vid->match[0].dscp == ((1ull << 34) | (1ull << 36)));
    const vpn_conf_class_map *sig = vpn_conf_find_class_map(c, "SIGNAL");
    assert_int_equal(sig->match[0].type, VPN_CONF_QOS_MATCH_ACL);
    assert_string_equal(sig->match[0].acl, "SIP");
    assert_int_equal(sig->match[1].line, 12);
    const vpn_conf_policy_map *wan = vpn_conf_find_policy_map(c, "WAN");
    assert_int_equal(wan->n_class, 4);
    /* class-default entered first, kept last as IOS shows it */
    assert_string_equal(wan->cls[0].name, "VOICE");
    assert_int_equal(wan->cls[0].action, VPN_CONF_QOS_ACT_PRIORITY);
    assert_int_equal(wan->cls[0].unit, VPN_CONF_QOS_PERCENT);
    assert_int_equal(wan->cls[0].value, 30);
    assert_string_equal(wan->cls[1].name, "VIDEO");
    assert_int_equal(wan->cls[1].queue_limit, 40);
    assert_string_equal(wan->cls[3].name, "class-default");
    assert_true(wan->cls[3].fair_queue);
    assert_int_equal(wan->cls[3].line, 14);
    const vpn_conf_policy_map *sh = vpn_conf_find_policy_map(c, "SHAPE-2M");
    assert_int_equal(sh->n_class, 1);
    assert_true(sh->cls[0].shape_bps == 2000000);
    assert_string_equal(sh->cls[0].child, "WAN");
    const vpn_conf_interface *f = vpn_conf_find_interface(c, "GigabitEthernet0/0");
    assert_string_equal(f->service_policy_out, "SHAPE-2M");
    assert_true(f->qos_pre_classify);
    assert_int_equal(f->service_policy_line, 29);
    vpn_conf_del(c);
}

static void test_kbps_and_remaining(void **state)
{
    (void)state;
    static const char t[] = "class-map V\n match dscp 46\n"
                            "class-map D\n match dscp af21\n"
                            "policy-map P\n class V\n  priority 256 8000\n"
                            " class D\n  bandwidth remaining percent 60\n"
                            " class class-default\n  bandwidth remaining percent 40\n  queue-limit 100\n";
    vpn_conf *c = NULL;
    vpn_conf_error err;
    assert_int_equal(vpn_conf_parse(t, strlen(t), &c, &err), 0);
    const vpn_conf_policy_map *p = vpn_conf_find_policy_map(c, "P");
    assert_int_equal(p->cls[0].unit, VPN_CONF_QOS_KBPS);
    assert_int_equal(p->cls[0].value, 256);
    assert_int_equal(p->cls[0].burst_bytes, 8000);
    assert_int_equal(p->cls[1].unit, VPN_CONF_QOS_REMAINING_PERCENT);
    assert_int_equal(p->cls[2].queue_limit, 100);
    vpn_conf_del(c);
}

/* Each bad configuration: the line named, the code, words of the message. */
static const struct {
    const char *text;
    int line;
    int code;
    const char *msg;
} bad[] = {
    /* parse errors */
    { "class-map type inspect X\n", 1, VPN_ERR_MALFORMED, "type inspect" },
    { "class-map\n", 1, VPN_ERR_MALFORMED, "usage" },
    { "class-map match-any A B\n", 1, VPN_ERR_MALFORMED, "usage" },
    { "class-map class-default\n", 1, VPN_ERR_MALFORMED, "predefined" },
    { "class-map match-any A\n match dscp ef\nclass-map match-all A\n", 3, VPN_ERR_MALFORMED, "match type" },
    { "policy-map type inspect P\n", 1, VPN_ERR_MALFORMED, "not supported" },
    { "policy-map\n", 1, VPN_ERR_MALFORMED, "usage" },
    { "class-map A\n match not dscp ef\n", 2, VPN_ERR_MALFORMED, "match not" },
    { "class-map A\n match dscp\n", 2, VPN_ERR_MALFORMED, "at least one" },
    { "class-map A\n match dscp 1 2 3 4 5 6 7 8 9\n", 2, VPN_ERR_MALFORMED, "8 values" },
    { "class-map A\n match dscp bogus\n", 2, VPN_ERR_MALFORMED, "not a DSCP" },
    { "class-map A\n match dscp 64\n", 2, VPN_ERR_MALFORMED, "out of range" },
    { "class-map A\n match dscp 4x\n", 2, VPN_ERR_MALFORMED, "not a number" },
    { "class-map A\n match access-group\n", 2, VPN_ERR_MALFORMED, "usage" },
    { "class-map A\n match access-group name\n", 2, VPN_ERR_MALFORMED, "usage" },
    { "class-map A\n match protocol http\n", 2, VPN_ERR_MALFORMED, "unsupported match" },
    { "class-map A\n match\n", 2, VPN_ERR_MALFORMED, "unsupported match" },
    { "class-map A\n match dscp 1\n match dscp 1\n match dscp 1\n match dscp 1\n match dscp 1\n"
      " match dscp 1\n match dscp 1\n match dscp 1\n match dscp 1\n match dscp 1\n match dscp 1\n"
      " match dscp 1\n match dscp 1\n match dscp 1\n match dscp 1\n match dscp 1\n match dscp 1\n",
      18, VPN_ERR_MALFORMED, "too many match" },
    { "policy-map P\n class\n", 2, VPN_ERR_MALFORMED, "usage" },
    { "policy-map P\n class "
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", 2, VPN_ERR_MALFORMED, "too long" },
    { "policy-map P\n class c1\n class c2\n class c3\n class c4\n class c5\n class c6\n class c7\n"
      " class c8\n class c9\n class c10\n class c11\n class c12\n class c13\n class c14\n class c15\n"
      " class c16\n class c17\n", 18, VPN_ERR_MALFORMED, "too many classes" },
    { "policy-map P\n class class-default\n  bandwidth 100\n  bandwidth 200\n", 4, VPN_ERR_MALFORMED,
      "already has" },
    { "policy-map P\n class X\n  priority percent 0\n", 3, VPN_ERR_MALFORMED, "out of range" },
    { "policy-map P\n class X\n  priority percent 101\n", 3, VPN_ERR_MALFORMED, "out of range" },
    { "policy-map P\n class X\n  priority percent\n", 3, VPN_ERR_MALFORMED, "usage" },
    { "policy-map P\n class X\n  priority remaining percent 5\n", 3, VPN_ERR_MALFORMED, "usage" },
    { "policy-map P\n class X\n  bandwidth remaining 30\n", 3, VPN_ERR_MALFORMED, "usage" },
    { "policy-map P\n class X\n  priority 4\n", 3, VPN_ERR_MALFORMED, "out of range" },
    { "policy-map P\n class X\n  priority 100 20\n", 3, VPN_ERR_MALFORMED, "out of range" },
    { "policy-map P\n class X\n  bandwidth 100 20\n", 3, VPN_ERR_MALFORMED, "usage" },
    { "policy-map P\n class X\n  bandwidth\n", 3, VPN_ERR_MALFORMED, "usage" },
    { "policy-map P\n class X\n  queue-limit 0\n", 3, VPN_ERR_MALFORMED, "out of range" },
    { "policy-map P\n class X\n  queue-limit 10 bytes\n", 3, VPN_ERR_MALFORMED, "usage" },
    { "policy-map P\n class X\n  shape peak 100000\n", 3, VPN_ERR_MALFORMED, "usage" },
    { "policy-map P\n class X\n  shape average 100\n", 3, VPN_ERR_MALFORMED, "out of range" },
    { "policy-map P\n class X\n  shape average 99999999999\n", 3, VPN_ERR_MALFORMED, "not a number" },
    { "policy-map P\n class X\n  service-policy\n", 3, VPN_ERR_MALFORMED, "usage" },
    { "policy-map P\n class X\n  police 8000\n", 3, VPN_ERR_MALFORMED, "not supported" },
    { "interface Gi0/0\n service-policy input P\n", 2, VPN_ERR_MALFORMED, "output" },
    { "interface Gi0/0\n service-policy output\n", 2, VPN_ERR_MALFORMED, "usage" },
    /* validation errors */
    { "class-map A\n", 1, VPN_ERR_POLICY, "no match" },
    { "class-map A\n match access-group name NOPE\n", 2, VPN_ERR_NOTFOUND, "NOPE" },
    { "policy-map P\n class NOPE\n  bandwidth 100\n", 2, VPN_ERR_NOTFOUND, "class-map NOPE" },
    { "policy-map P\n class class-default\n  priority 100\n", 2, VPN_ERR_POLICY, "class-default" },
    { "class-map A\n match dscp ef\nclass-map B\n match dscp af41\n"
      "policy-map P\n class A\n  priority 100\n class B\n  bandwidth percent 10\n", 8, VPN_ERR_POLICY, "mixes" },
    { "policy-map P\n class class-default\n  shape average 1000000\n  service-policy NOPE\n", 4,
      VPN_ERR_NOTFOUND, "NOPE" },
    { "policy-map C\n class class-default\n  fair-queue\n"
      "policy-map P\n class class-default\n  service-policy C\n", 6, VPN_ERR_POLICY, "shape average" },
    { "policy-map C\n class class-default\n  fair-queue\n"
      "policy-map B\n class class-default\n  shape average 1000000\n  service-policy C\n"
      "policy-map A\n class class-default\n  shape average 2000000\n  service-policy B\n",
      11, VPN_ERR_POLICY, "two levels" },
    { "policy-map P\n class class-default\n  shape average 1000000\n  service-policy P\n", 4, VPN_ERR_POLICY,
      "two levels" },
    { "class-map A\n match dscp ef\nclass-map B\n match dscp af41\n"
      "policy-map P\n class A\n  priority percent 60\n class B\n  bandwidth percent 50\n", 5, VPN_ERR_POLICY,
      "add up to 110" },
    { "class-map B\n match dscp af41\n"
      "policy-map P\n class B\n  bandwidth remaining percent 60\n class class-default\n"
      "  bandwidth remaining percent 50\n", 3, VPN_ERR_POLICY, "remaining percent adds up to 110" },
    { "interface Gi0/0\n service-policy output NOPE\n", 2, VPN_ERR_NOTFOUND, "policy-map NOPE" },
};

static void test_errors_name_their_line(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        vpn_conf *c = (vpn_conf *)&c;
        vpn_conf_error err;
        int rc = vpn_conf_parse(bad[i].text, strlen(bad[i].text), &c, &err);
        if (rc != bad[i].code || err.line != bad[i].line || strstr(err.msg, bad[i].msg) == NULL)
            fail_msg("case %zu: rc %d line %d '%s'; expected %d line %d '%s'", i, rc, err.line, err.msg,
                     bad[i].code, bad[i].line, bad[i].msg);
        assert_null(c); /* nothing half-configured */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_branch_policy),
        cmocka_unit_test(test_kbps_and_remaining),
        cmocka_unit_test(test_errors_name_their_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
