/* tests/unit/xfrd/api/test_mergepatch.c -- RFC 7396: the examples of its appendix A. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "xfrd/api/mergepatch.h"

#include <stdlib.h>
#include <string.h>

static void check(const char *target, const char *patch, const char *want)
{
	json_error_t e;
	json_t *t = json_loads(target, JSON_DECODE_ANY, &e);
	json_t *p = json_loads(patch, JSON_DECODE_ANY, &e);
	json_t *w = json_loads(want, JSON_DECODE_ANY, &e);
	assert_non_null(t);
	assert_non_null(p);
	assert_non_null(w);
	json_t *got = mergepatch_apply(t, p);
	assert_non_null(got);
	if (!json_equal(got, w)) {
		char *g = json_dumps(got, JSON_ENCODE_ANY | JSON_SORT_KEYS);
		fail_msg("%s + %s: got %s, want %s", target, patch, g, want);
	}
	json_decref(got);
	json_decref(p);
	json_decref(w);
}

static void test_mergepatch_rfc7396_appendix_a(void **state)
{
	(void)state;
	check("{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}");
	check("{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}");
	check("{\"a\":\"b\"}", "{\"a\":null}", "{}");
	check("{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}");
	check("{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}");
	check("{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}");
	check("{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}");
	check("{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}");
	check("[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]");
	check("{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]");
	check("{\"a\":\"foo\"}", "null", "null");
	check("{\"a\":\"foo\"}", "\"bar\"", "\"bar\"");
	check("{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}");
	check("[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}");
	check("{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}");
}

static void test_mergepatch_zone_settings(void **state)
{
	(void)state;
	/* what PATCH /v1/zones/{name} does with a zone's JSON form */
	check("{\"name\":\"a.test.\",\"primaries\":[\"192.0.2.1@53\"],\"refresh\":{\"min\":\"60s\","
	      "\"max\":\"1h\"}}",
	      "{\"refresh\":{\"max\":null},\"key\":\"k1\",\"primaries\":[\"192.0.2.2@53\"]}",
	      "{\"name\":\"a.test.\",\"primaries\":[\"192.0.2.2@53\"],\"refresh\":{\"min\":\"60s\"},"
	      "\"key\":\"k1\"}");
}

static void test_mergepatch_null_target(void **state)
{
	(void)state;
	json_t *p = json_pack("{s:i, s:n}", "a", 1, "b");
	json_t *got = mergepatch_apply(NULL, p);
	json_t *want = json_pack("{s:i}", "a", 1);
	assert_true(json_equal(got, want));
	json_decref(got);
	json_decref(want);
	json_decref(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mergepatch_rfc7396_appendix_a),
		cmocka_unit_test(test_mergepatch_zone_settings),
		cmocka_unit_test(test_mergepatch_null_target),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
