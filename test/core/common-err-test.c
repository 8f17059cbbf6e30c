/* Error strings and the log callback. */
#include <string.h>

#include "common/vpn-err.h"
#include "common/vpn-log.h"
#include "test-util.h"

static void test_every_code_has_text(void **state)
{
    (void)state;
    for (int e = 0; e >= VPN_ERR_MIN; e--) {
        const char *s = vpn_strerror(e);
        assert_non_null(s);
        assert_string_not_equal(s, "unknown error");
    }
    assert_string_equal(vpn_strerror(1), "unknown error");
    assert_string_equal(vpn_strerror(VPN_ERR_MIN - 1), "unknown error");
}

static void test_log_levels_filter(void **state)
{
    (void)state;
    vpn_log log = {0};
    tu_log_sink sink;

    vpn_log_emit(&log, VPN_LOG_ERROR, "x", "dropped: no callback");
    vpn_log_emit(NULL, VPN_LOG_ERROR, "x", "dropped: no log");
    tu_log_attach(&log, &sink);
    log.max = VPN_LOG_INFO;
    vpn_log_emit(&log, VPN_LOG_DEBUG, "ikev2", "not delivered %d", 1);
    assert_int_equal(sink.events, 0);
    vpn_log_emit(&log, VPN_LOG_ERROR, "ikev2", "peer %s failed: %d", "10.0.0.1", -8);
    assert_int_equal(sink.events, 1);
    assert_int_equal(sink.errors, 1);
    assert_string_equal(sink.last, "peer 10.0.0.1 failed: -8");
}

static void test_log_long_message_is_cut(void **state)
{
    (void)state;
    vpn_log log;
    tu_log_sink sink;
    char big[2000];

    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    tu_log_attach(&log, &sink);
    vpn_log_emit(&log, VPN_LOG_WARN, NULL, "%s", big);
    assert_int_equal(sink.events, 1);
    assert_int_equal(strlen(sink.last), 511);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_code_has_text),
        cmocka_unit_test(test_log_levels_filter),
        cmocka_unit_test(test_log_long_message_is_cut),
    };
    return cmocka_run_group_tests_name("common-err", tests, NULL, NULL);
}
