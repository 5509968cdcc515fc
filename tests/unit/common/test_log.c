/* tests/unit/common/test_log.c -- key=value lines, levels, quoting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/log.h"
#include "common/err.h"

#include <string.h>
#include <unistd.h>

static void test_log_line_has_event_and_pairs(void **state)
{
	(void)state;
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	log_init("test", fds[1]);
	log_set_level(LOG_LVL_INFO);
	log_debug("hidden", "x=1");
	log_info("xfr_done", "zone=%s serial=%u", "example.com.", 7u);
	char buf[512] = {0};
	ssize_t n = read(fds[0], buf, sizeof(buf) - 1);
	assert_true(n > 0);
	assert_non_null(strstr(buf, "level=info prog=test event=xfr_done zone=example.com. serial=7\n"));
	assert_null(strstr(buf, "hidden"));
	assert_int_equal(strncmp(buf, "ts=", 3), 0);
	close(fds[0]);
	close(fds[1]);
	log_init("zx", 2);
}

static void test_log_quote_only_when_needed(void **state)
{
	(void)state;
	char buf[64];
	assert_string_equal(log_quote("plain", buf, sizeof(buf)), "plain");
	assert_string_equal(log_quote("two words", buf, sizeof(buf)), "\"two words\"");
	assert_string_equal(log_quote("a\"b", buf, sizeof(buf)), "\"a\\\"b\"");
	assert_string_equal(log_quote("x\ny", buf, sizeof(buf)), "\"x\\x0ay\"");
	assert_string_equal(log_quote("", buf, sizeof(buf)), "\"\"");
}

static void test_log_level_parse(void **state)
{
	(void)state;
	enum log_level l;
	assert_int_equal(log_level_parse("WARN", &l), 0);
	assert_int_equal(l, LOG_LVL_WARN);
	assert_int_equal(log_level_parse("verbose", &l), ZX_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log_line_has_event_and_pairs),
		cmocka_unit_test(test_log_quote_only_when_needed),
		cmocka_unit_test(test_log_level_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
