/* tests/unit/xfrd/api/test_problem.c -- RFC 7807 documents as the API sends them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "xfrd/api/problem.h"

#include <stdlib.h>
#include <string.h>

static void test_problem_has_type_title_status_detail(void **state)
{
	(void)state;
	json_t *p = problem_new(412, PROBLEM_PRECONDITION, "If-Match: %s", "\"0:7\"");
	assert_non_null(p);
	assert_string_equal(json_string_value(json_object_get(p, "type")),
	                    "urn:zx:problem:precondition-failed");
	assert_string_equal(json_string_value(json_object_get(p, "title")), "Precondition Failed");
	assert_int_equal(json_integer_value(json_object_get(p, "status")), 412);
	assert_string_equal(json_string_value(json_object_get(p, "detail")), "If-Match: \"0:7\"");
	assert_null(json_object_get(p, "invalid-params"));
	json_decref(p);
	p = problem_new(404, PROBLEM_NOT_FOUND, NULL);
	assert_null(json_object_get(p, "detail"));
	json_decref(p);
}

static void test_problem_invalid_params_in_order(void **state)
{
	(void)state;
	json_t *p = problem_new(422, PROBLEM_INVALID, "2 problems");
	assert_int_equal(problem_add_param(p, "primaries[1]", "bad endpoint \"x\""), 0);
	assert_int_equal(problem_add_param(p, "", "wrong type for the zone"), 0);
	char *text = json_dumps(p, JSON_COMPACT);
	assert_string_equal(text,
	                    "{\"type\":\"urn:zx:problem:invalid-zone\",\"title\":\"Unprocessable "
	                    "Content\",\"status\":422,\"detail\":\"2 problems\",\"invalid-params\":"
	                    "[{\"name\":\"primaries[1]\",\"reason\":\"bad endpoint \\\"x\\\"\"},"
	                    "{\"name\":\"\",\"reason\":\"wrong type for the zone\"}]}");
	free(text);
	json_decref(p);
}

static void test_problem_from_a_jansson_error(void **state)
{
	(void)state;
	json_error_t e;
	assert_null(json_loads("{\"primaries\":\n [1,]}", 0, &e));
	json_t *p = problem_from_json_error(&e);
	assert_int_equal(json_integer_value(json_object_get(p, "status")), 400);
	assert_int_equal(json_integer_value(json_object_get(p, "line")), 2);
	assert_int_equal(json_integer_value(json_object_get(p, "column")), 5);
	assert_non_null(strstr(json_string_value(json_object_get(p, "detail")), "(line 2, column 5)"));
	json_decref(p);
}

static void test_problem_client_bytes_that_are_not_utf8(void **state)
{
	(void)state;
	json_t *p = problem_new(400, PROBLEM_MALFORMED, "\"%s\" is not a zone name", "a\xff\xfe.test");
	assert_non_null(p);
	assert_string_equal(json_string_value(json_object_get(p, "detail")),
	                    "\"a??.test\" is not a zone name");
	assert_int_equal(problem_add_param(p, "x\x80", "y"), 0);
	json_decref(p);
}

static void test_problem_reasons(void **state)
{
	(void)state;
	assert_string_equal(problem_reason(422), "Unprocessable Content");
	assert_string_equal(problem_reason(413), "Content Too Large");
	assert_string_equal(problem_reason(503), "Service Unavailable");
	assert_string_equal(problem_reason(599), "Internal Server Error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_problem_has_type_title_status_detail),
		cmocka_unit_test(test_problem_invalid_params_in_order),
		cmocka_unit_test(test_problem_from_a_jansson_error),
		cmocka_unit_test(test_problem_client_bytes_that_are_not_utf8),
		cmocka_unit_test(test_problem_reasons),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
