/* tests/unit/common/test_err.c -- error text and the errno mapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/err.h"

#include <string.h>

static void test_err_errno_mapping(void **state)
{
	(void)state;
	assert_int_equal(zx_err_from_errno(ECONNREFUSED), ZX_ECONNREFUSED);
	assert_int_equal(zx_err_from_errno(ECONNRESET), ZX_ECONNRESET);
	assert_int_equal(zx_err_from_errno(EPIPE), ZX_ECONNRESET);
	assert_int_equal(zx_err_from_errno(ETIMEDOUT), ZX_ETIMEDOUT);
	assert_int_equal(zx_err_from_errno(ENOMEM), ZX_ENOMEM);
	assert_int_equal(zx_err_from_errno(EHOSTUNREACH), ZX_EIO);
}

static void test_err_text_for_every_code(void **state)
{
	(void)state;
	assert_string_equal(zx_strerror(0), "ok");
	int n = 0;
	for (int rc = ZX_EFORMAT; rc < ZX_ELAST; rc++, n++) { /* our range counts up from -1000 */
		assert_string_not_equal(zx_strerror(rc), "unknown error");
		assert_null(strstr(zx_strerror(rc), "Unknown error")); /* not strerror's fallback */
	}
	assert_true(n >= 18);
	assert_string_equal(zx_strerror(ZX_ENOENT), strerror(ENOENT));
	assert_string_equal(zx_strerror(-1500), "unknown error");
	assert_string_equal(zx_strerror(7), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_err_errno_mapping),
		cmocka_unit_test(test_err_text_for_every_code),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
