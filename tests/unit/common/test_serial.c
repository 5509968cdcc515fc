/* tests/unit/common/test_serial.c -- RFC 1982 comparison and addition. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/serial.h"

static void test_serial_equal(void **state)
{
	(void)state;
	assert_int_equal(serial_cmp(7, 7), SERIAL_EQ);
	assert_false(serial_newer(7, 7));
}

static void test_serial_plain_order(void **state)
{
	(void)state;
	assert_int_equal(serial_cmp(2, 1), SERIAL_GT);
	assert_int_equal(serial_cmp(1, 2), SERIAL_LT);
	assert_true(serial_newer(2026112601, 2026112600));
}

static void test_serial_wraps_past_2_32(void **state)
{
	(void)state;
	/* RFC 1982 4.3: 0 follows 4294967295, and 100 is newer than 4294967200. */
	assert_true(serial_newer(0, 0xffffffffu));
	assert_true(serial_newer(100, 4294967200u));
	assert_false(serial_newer(0xffffffffu, 0));
}

static void test_serial_largest_step_is_2_31_minus_1(void **state)
{
	(void)state;
	assert_true(serial_newer(0x7fffffffu, 0));
	assert_true(serial_newer(0x80000000u + 5, 6));
	assert_false(serial_newer(0x80000001u, 0)); /* more than 2^31 ahead means behind */
}

static void test_serial_2_31_apart_is_undefined(void **state)
{
	(void)state;
	assert_int_equal(serial_cmp(0x80000000u, 0), SERIAL_UNDEF);
	assert_int_equal(serial_cmp(0, 0x80000000u), SERIAL_UNDEF);
	assert_false(serial_newer(0x80000000u, 0));
	assert_false(serial_newer(0, 0x80000000u));
}

static void test_serial_add_wraps_and_clamps(void **state)
{
	(void)state;
	assert_int_equal(serial_add(0xffffffffu, 1), 0);
	assert_int_equal(serial_add(10, 5), 15);
	assert_int_equal(serial_add(0, 0xffffffffu), 0x7fffffffu);
	assert_true(serial_newer(serial_add(4000000000u, 0x7fffffffu), 4000000000u));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_serial_equal),
		cmocka_unit_test(test_serial_plain_order),
		cmocka_unit_test(test_serial_wraps_past_2_32),
		cmocka_unit_test(test_serial_largest_step_is_2_31_minus_1),
		cmocka_unit_test(test_serial_2_31_apart_is_undefined),
		cmocka_unit_test(test_serial_add_wraps_and_clamps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
