/* From policy-map to scheduler (qos-mqc.h): rates from percent, kbps and
 * remaining percent under a shaper or a link, classification by DSCP and
 * access list, class-default, show policy-map interface, bad input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vpn-err.h"
#include "conf/conf.h"
#include "qos/qos-mqc.h"
#include "test-util.h"

static const char branch[] =
    "ip access-list extended SIP\n"
    " permit udp any any eq 5060\n"
    "class-map match-any VOICE\n"
    " match dscp ef\n"
    " match dscp cs5\n"
    "class-map VIDEO\n"
    " match dscp af41 af42\n"
    "class-map match-all SIGNAL\n"
    " match access-group name SIP\n"
    " match dscp cs3\n"
    "policy-map WAN\n"
    " class VOICE\n"
    "  priority percent 30\n"
    " class VIDEO\n"
    "  bandwidth percent 25\n"
    " class SIGNAL\n"
    "  bandwidth percent 5\n"
    " class class-default\n"
    "  fair-queue\n"
    "policy-map SHAPE-2M\n"
    " class class-default\n"
    "  shape average 2000000\n"
    "  service-policy WAN\n"
    "policy-map FLAT\n"
    " class VOICE\n"
    "  priority 128\n"
    "policy-map TOO-MUCH\n"
    " class VOICE\n"
    "  priority 3000\n";

static vpn_conf *parse(void)
{
    vpn_conf *c = NULL;
    vpn_conf_error err;
    int rc = vpn_conf_parse(branch, strlen(branch), &c, &err);
    if (rc)
        fail_msg("line %d: %s", err.line, err.msg);
    return c;
}

static vpn_qos_pkt pkt(uint8_t dscp, uint8_t proto, uint16_t dport)
{
    vpn_qos_pkt k;
    memset(&k, 0, sizeof k);
    k.dscp = dscp;
    k.proto = proto;
    vpn_addr_parse(&k.src, "10.1.0.1");
    vpn_addr_parse(&k.dst, "10.2.0.1");
    k.sport = 40000;
    k.dport = dport;
    return k;
}

static void test_hierarchical_rates_and_classes(void **state)
{
    (void)state;
    vpn_conf *c = parse();
    vpn_qos_policy *p;
    vpn_conf_error err;
    /* 100 Mbit/s Ethernet to the provider, shaped to the 2 Mbit/s contract. */
    assert_int_equal(vpn_qos_policy_build(c, "SHAPE-2M", 100000000, &p, &err), 0);
    vpn_conf_del(c); /* the policy keeps copies */
    const vpn_qos_sched_cfg *s = vpn_qos_policy_sched(p);
    assert_true(s->shape_bps == 2000000);
    assert_int_equal(s->n_class, 4);
    assert_int_equal(s->cls[0].kind, VPN_QOS_CLASS_PRIORITY);
    assert_true(s->cls[0].rate_bps == 600000);    /* 30 % of the shaper */
    assert_true(s->cls[1].rate_bps == 500000);    /* 25 % */
    assert_true(s->cls[2].rate_bps == 100000);    /* 5 % */
    assert_string_equal(s->cls[3].name, "class-default");
    assert_true(s->cls[3].rate_bps == 800000);    /* what is left */
    assert_int_equal(s->cls[3].fair_queues, VPN_QOS_FAIR_QUEUES_MAX); /* fair-queue */
    assert_int_equal(s->cls[1].fair_queues, 0);
    /* Classification. */
    vpn_qos_pkt k = pkt(46, 17, 16384);
    assert_int_equal(vpn_qos_policy_classify(p, &k), 0);
    k = pkt(40, 17, 16384);
    assert_int_equal(vpn_qos_policy_classify(p, &k), 0);
    k = pkt(34, 17, 5004);
    assert_int_equal(vpn_qos_policy_classify(p, &k), 1);
    k = pkt(36, 6, 443);
    assert_int_equal(vpn_qos_policy_classify(p, &k), 1);
    k = pkt(38, 6, 443); /* af43 is not in VIDEO */
    assert_int_equal(vpn_qos_policy_classify(p, &k), 3);
    k = pkt(24, 17, 5060); /* match-all: SIP and cs3 */
    assert_int_equal(vpn_qos_policy_classify(p, &k), 2);
    k = pkt(24, 6, 5060);  /* cs3 but TCP: not the ACL */
    assert_int_equal(vpn_qos_policy_classify(p, &k), 3);
    k = pkt(0, 17, 5060);  /* SIP but DSCP 0 */
    assert_int_equal(vpn_qos_policy_classify(p, &k), 3);
    k = pkt(0, 6, 80);
    assert_int_equal(vpn_qos_policy_classify(p, &k), 3);

    /* show policy-map interface after a few packets. */
    vpn_qos_sched *sch;
    char buf[4096];
    uint32_t len;
    assert_int_equal(vpn_qos_sched_new(s, &sch), 0);
    assert_int_equal(vpn_qos_sched_enqueue(sch, 0, 200, 0), 0);
    assert_int_equal(vpn_qos_sched_enqueue(sch, 3, 1500, 1000000), 0);
    assert_int_equal(vpn_qos_sched_enqueue(sch, 0, 200, 20000000), 0);
    assert_int_equal(vpn_qos_sched_dequeue(sch, 20000000, &len, NULL), 0);
    int n = vpn_qos_show_policy_map(p, sch, "GigabitEthernet0/0", 20000000, buf, sizeof buf);
    assert_true(n > 0 && (size_t)n < sizeof buf);
    assert_non_null(strstr(buf, " GigabitEthernet0/0\n\n  Service-policy output: SHAPE-2M\n"));
    assert_non_null(strstr(buf, "shape (average) cir 2000000"));
    assert_non_null(strstr(buf, "Service-policy : WAN"));
    assert_non_null(strstr(buf, "Class-map: VOICE (match-any)\n          2 packets, 400 bytes\n"));
    /* 400 bytes over 20 ms: 160000 bit/s offered */
    assert_non_null(strstr(buf, "offered rate 160000 bps"));
    assert_non_null(strstr(buf, "Match:  dscp ef (46)"));
    assert_non_null(strstr(buf, "Match:  dscp cs5 (40)"));
    assert_non_null(strstr(buf, "Match:  dscp af41 (34) af42 (36)"));
    assert_non_null(strstr(buf, "Priority: 600 kbps, burst bytes 15000, b/w exceed drops: 0"));
    assert_non_null(strstr(buf, "Match: access-group name SIP"));
    assert_non_null(strstr(buf, "bandwidth 25% (500 kbps)"));
    assert_non_null(strstr(buf, "Class-map: class-default (match-any)"));
    assert_non_null(strstr(buf, "(queue depth/total drops/no-buffer drops) 1/0/0"));
    assert_non_null(strstr(buf, "Fair-queue: per-flow queue limit 16 packets"));
    /* Truncation reports the length needed, like snprintf. */
    char small[16];
    assert_int_equal(vpn_qos_show_policy_map(p, sch, "GigabitEthernet0/0", 0, small, sizeof small), n);
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_int_equal(vpn_qos_show_policy_map(NULL, sch, "x", 0, buf, sizeof buf), VPN_ERR_INVAL);
    vpn_qos_sched_del(sch);
    vpn_qos_policy_del(p);
}

static void test_flat_and_errors(void **state)
{
    (void)state;
    vpn_conf *c = parse();
    vpn_qos_policy *p = (vpn_qos_policy *)&p;
    vpn_conf_error err;
    /* A flat policy on a 2 Mbit/s link gets an implicit class-default. */
    assert_int_equal(vpn_qos_policy_build(c, "FLAT", 2000000, &p, &err), 0);
    const vpn_qos_sched_cfg *s = vpn_qos_policy_sched(p);
    assert_true(s->shape_bps == 0);
    assert_int_equal(s->n_class, 2);
    assert_true(s->cls[0].rate_bps == 128000);
    assert_string_equal(s->cls[1].name, "class-default");
    assert_true(s->cls[1].rate_bps == 1872000);
    vpn_qos_pkt k = pkt(0, 6, 80);
    assert_int_equal(vpn_qos_policy_classify(p, &k), 1);
    vpn_qos_policy_del(p);
    /* The child alone on the link: percentages of the link. */
    assert_int_equal(vpn_qos_policy_build(c, "WAN", 10000000, &p, &err), 0);
    assert_true(vpn_qos_policy_sched(p)->cls[0].rate_bps == 3000000);
    vpn_qos_policy_del(p);
    /* 3 Mbit/s of priority on a 2 Mbit/s link. */
    assert_int_equal(vpn_qos_policy_build(c, "TOO-MUCH", 2000000, &p, &err), VPN_ERR_POLICY);
    assert_null(p);
    assert_int_equal(err.line, 27);
    assert_non_null(strstr(err.msg, "reserves 3000000"));
    assert_int_equal(vpn_qos_policy_build(c, "NOPE", 2000000, &p, &err), VPN_ERR_NOTFOUND);
    assert_int_equal(vpn_qos_policy_build(c, "WAN", 0, &p, &err), VPN_ERR_INVAL);
    assert_int_equal(vpn_qos_policy_build(NULL, "WAN", 1, &p, &err), VPN_ERR_INVAL);
    assert_int_equal(vpn_qos_policy_build(c, "WAN", 1, NULL, &err), VPN_ERR_INVAL);
    assert_int_equal(vpn_qos_policy_classify(NULL, &k), 0);
    vpn_conf_del(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hierarchical_rates_and_classes),
        cmocka_unit_test(test_flat_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
