/* tests/unit/notifyd/test_ratelimit.c -- token buckets: rate, burst, refill, bounded table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "notifyd/ratelimit.h"

static int take_n(struct ratelimit *rl, const char *key, int n, uint64_t now)
{
	int ok = 0;
	for (int i = 0; i < n; i++) {
		ok += ratelimit_take(rl, key, 4, now) == 0;
	}
	return ok;
}

static void test_ratelimit_burst_then_refill(void **state)
{
	(void)state;
	struct ratelimit *rl = NULL;
	assert_int_equal(ratelimit_new(10, 2, 64, 1, &rl), 0);
	assert_int_equal(take_n(rl, "src1", 25, 1000), 20); /* burst = 10 * 2 */
	assert_int_equal(ratelimit_take(rl, "src1", 4, 1000), ZX_ELIMIT);
	/* 100 ms at 10/s is one token. */
	assert_int_equal(take_n(rl, "src1", 5, 1100), 1);
	/* 50 ms is half a token: nothing yet; another 50 ms completes it. */
	assert_int_equal(take_n(rl, "src1", 1, 1150), 0);
	assert_int_equal(take_n(rl, "src1", 1, 1200), 1);
	/* A long pause refills to the cap, not beyond. */
	assert_int_equal(take_n(rl, "src1", 30, 100000), 20);
	struct ratelimit_stats st = ratelimit_stats(rl);
	assert_int_equal(st.allowed, 42);
	assert_int_equal(st.limited, 21);
	ratelimit_free(rl);
}

static void test_ratelimit_keys_are_independent(void **state)
{
	(void)state;
	struct ratelimit *rl = NULL;
	assert_int_equal(ratelimit_new(5, 1, 64, 7, &rl), 0);
	assert_int_equal(take_n(rl, "aaaa", 10, 0), 5);
	assert_int_equal(take_n(rl, "bbbb", 10, 0), 5);
	ratelimit_free(rl);
}

static void test_ratelimit_time_going_back_adds_nothing(void **state)
{
	(void)state;
	struct ratelimit *rl = NULL;
	assert_int_equal(ratelimit_new(1, 1, 64, 7, &rl), 0);
	assert_int_equal(take_n(rl, "aaaa", 2, 5000), 1);
	assert_int_equal(take_n(rl, "aaaa", 2, 1000), 0);
	assert_int_equal(take_n(rl, "aaaa", 1, 6000), 1);
	ratelimit_free(rl);
}

static void test_ratelimit_zero_rate_is_unlimited(void **state)
{
	(void)state;
	struct ratelimit *rl = NULL;
	assert_int_equal(ratelimit_new(0, 1, 0, 7, &rl), 0);
	assert_int_equal(take_n(rl, "aaaa", 1000, 0), 1000);
	ratelimit_free(rl);
}

static void test_ratelimit_full_table_fails_open_and_reuses_idle(void **state)
{
	(void)state;
	struct ratelimit *rl = NULL;
	assert_int_equal(ratelimit_new(1, 1, 1, 3, &rl), 0); /* 64 slots */
	char key[4];
	for (int i = 0; i < 2000; i++) {
		key[0] = (char)i;
		key[1] = (char)(i >> 8);
		key[2] = key[3] = 0;
		assert_int_equal(ratelimit_take(rl, key, 4, 0), 0);
	}
	struct ratelimit_stats st = ratelimit_stats(rl);
	assert_true(st.untracked > 0);
	assert_int_equal(st.in_use, 64);
	/* A second later every bucket is full again and its slot reusable. */
	assert_int_equal(take_n(rl, "zzzz", 2, 1000), 1);
	ratelimit_free(rl);
}

static void test_ratelimit_bad_arguments(void **state)
{
	(void)state;
	struct ratelimit *rl = NULL;
	assert_int_equal(ratelimit_new(1, 0, 64, 0, &rl), ZX_EINVAL);
	assert_int_equal(ratelimit_new(1, 1, (size_t)1 << 29, 0, &rl), ZX_EINVAL);
	assert_null(rl);
	ratelimit_free(NULL);
}

static void test_ratelimit_hash_depends_on_seed_and_bytes(void **state)
{
	(void)state;
	assert_true(ratelimit_hash(1, "abc", 3) != ratelimit_hash(2, "abc", 3));
	assert_true(ratelimit_hash(1, "abc", 3) != ratelimit_hash(1, "abd", 3));
	assert_true(ratelimit_hash(1, "abcdefghij", 10) != ratelimit_hash(1, "abcdefghik", 10));
	assert_int_equal(ratelimit_hash(9, "abc", 3), ratelimit_hash(9, "abc", 3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ratelimit_burst_then_refill),
		cmocka_unit_test(test_ratelimit_keys_are_independent),
		cmocka_unit_test(test_ratelimit_time_going_back_adds_nothing),
		cmocka_unit_test(test_ratelimit_zero_rate_is_unlimited),
		cmocka_unit_test(test_ratelimit_full_table_fails_open_and_reuses_idle),
		cmocka_unit_test(test_ratelimit_bad_arguments),
		cmocka_unit_test(test_ratelimit_hash_depends_on_seed_and_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
