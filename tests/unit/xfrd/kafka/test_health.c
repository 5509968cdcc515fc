/* tests/unit/xfrd/kafka/test_health.c -- the liveness map: lag, commit progress, rebalances. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "xfrd/kafka/health.h"

#include <string.h>

static int64_t lags[16];

static int64_t lag(void *arg, int32_t p)
{
	(void)arg;
	return lags[p];
}

static void test_health_codes(void **state)
{
	(void)state;
	struct health_map *m = health_map_new();
	assert_non_null(m);
	assert_int_equal(health_map_assign(m, 3, 0), 0);
	assert_int_equal(health_map_assign(m, 3, 0), ZX_EEXIST);
	assert_int_equal(health_map_committed(m, 4, 10, 0), ZX_ENOENT);
	assert_int_equal(health_map_committed(m, 3, 10, 0), 0);
	assert_int_equal(health_map_revoke(m, 4), ZX_ENOENT);
	assert_int_equal(health_map_size(m), 1);
	assert_int_equal(health_map_revoke(m, 3), 0);
	assert_int_equal(health_map_size(m), 0);
	health_map_free(m);
	health_map_free(NULL);
}

static void test_health_stall(void **state)
{
	(void)state;
	struct health_map *m = health_map_new();
	char why[128] = "";
	memset(lags, 0, sizeof(lags));
	assert_int_equal(health_map_assign(m, 0, 1000), 0);
	assert_int_equal(health_map_assign(m, 1, 1000), 0);
	/* lag but within the stall window: alive */
	lags[1] = 5;
	assert_int_equal(health_map_check(m, 1500, 1000, lag, NULL, why, sizeof(why)), 0);
	/* lag and no commit for longer than the window: stalled, says which */
	assert_int_equal(health_map_check(m, 2100, 1000, lag, NULL, why, sizeof(why)),
	                 ZX_ETIMEDOUT);
	assert_non_null(strstr(why, "partition 1 lag 5"));
	/* a commit that moves is progress */
	assert_int_equal(health_map_committed(m, 1, 7, 2200), 0);
	assert_int_equal(health_map_check(m, 2300, 1000, lag, NULL, why, sizeof(why)), 0);
	/* the same offset again is not */
	assert_int_equal(health_map_committed(m, 1, 7, 3000), 0);
	assert_int_equal(health_map_check(m, 3300, 1000, lag, NULL, NULL, 0), ZX_ETIMEDOUT);
	/* no lag: alive however long since the last commit, and the clock restarts */
	lags[1] = 0;
	assert_int_equal(health_map_check(m, 9000, 1000, lag, NULL, NULL, 0), 0);
	lags[1] = 2;
	assert_int_equal(health_map_check(m, 9500, 1000, lag, NULL, NULL, 0), 0);
	/* a transfer that ends is progress too (the head of the partition may be
	 * a long one); not for a partition we do not own */
	assert_int_equal(health_map_progress(m, 1, 9600), 0);
	assert_int_equal(health_map_check(m, 10500, 1000, lag, NULL, NULL, 0), 0);
	assert_int_equal(health_map_check(m, 10700, 1000, lag, NULL, NULL, 0), ZX_ETIMEDOUT);
	assert_int_equal(health_map_progress(m, 9, 9600), ZX_ENOENT);
	lags[1] = 0;
	/* unreadable lag counts as lag */
	lags[0] = -1;
	assert_int_equal(health_map_check(m, 12000, 1000, lag, NULL, why, sizeof(why)),
	                 ZX_ETIMEDOUT);
	health_map_free(m);
}

/* Cloudflare's cascade: a partition that moved away must not count, one that
 * arrives starts with a fresh clock. */
static void test_health_rebalance(void **state)
{
	(void)state;
	struct health_map *m = health_map_new();
	memset(lags, 0, sizeof(lags));
	assert_int_equal(health_map_assign(m, 2, 0), 0);
	lags[2] = 9;
	lags[5] = 9;
	assert_int_equal(health_map_check(m, 5000, 1000, lag, NULL, NULL, 0), ZX_ETIMEDOUT);
	assert_int_equal(health_map_revoke(m, 2), 0);
	assert_int_equal(health_map_check(m, 5000, 1000, lag, NULL, NULL, 0), 0);
	assert_int_equal(health_map_assign(m, 5, 5000), 0);
	assert_int_equal(health_map_check(m, 5500, 1000, lag, NULL, NULL, 0), 0);
	assert_int_equal(health_map_check(m, 6100, 1000, lag, NULL, NULL, 0), ZX_ETIMEDOUT);
	/* reassigned later: fresh clock again, old commit history gone */
	assert_int_equal(health_map_revoke(m, 5), 0);
	assert_int_equal(health_map_assign(m, 5, 7000), 0);
	assert_int_equal(health_map_committed(m, 5, 1, 7100), 0);
	assert_int_equal(health_map_check(m, 7500, 1000, lag, NULL, NULL, 0), 0);
	for (int32_t p = 6; p < 16; p++) {
		assert_int_equal(health_map_assign(m, p, 7500), 0); /* grows */
	}
	assert_int_equal(health_map_size(m), 11);
	health_map_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_health_codes),
		cmocka_unit_test(test_health_stall),
		cmocka_unit_test(test_health_rebalance),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
