/* tests/unit/xfrd/zone/test_timers.c -- the timer heap against a brute-force model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "xfrd/zone/timers.h"

#include <stdlib.h>

#define N 500

static void test_timers_order_moves_and_clears(void **state)
{
	(void)state;
	struct zone *z = calloc(N, sizeof(*z));
	int64_t model[N]; /* INT64_MAX: no timer */
	struct timers *t = timers_new();
	assert_non_null(t);
	assert_true(timers_next(t) == INT64_MAX);
	assert_null(timers_pop_due(t, INT64_MAX - 1));
	uint64_t seed = 42;
	for (int i = 0; i < N; i++) {
		model[i] = INT64_MAX;
	}
	for (int step = 0; step < 20000; step++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		int i = (int)((seed >> 33) % N);
		int op = (int)((seed >> 20) % 4);
		if (op < 2) {
			int64_t at = (int64_t)((seed >> 40) % 1000);
			assert_int_equal(timers_set(t, &z[i], at), 0);
			model[i] = at;
		} else if (op == 2) {
			timers_clear(t, &z[i]);
			model[i] = INT64_MAX;
		} else {
			int64_t now = (int64_t)((seed >> 40) % 1000);
			struct zone *d = timers_pop_due(t, now);
			int64_t min = INT64_MAX;
			for (int k = 0; k < N; k++) {
				min = model[k] < min ? model[k] : min;
			}
			if (min > now) {
				assert_null(d);
			} else {
				assert_non_null(d);
				int k = (int)(d - z);
				assert_true(model[k] == min); /* the earliest, whichever of equals */
				model[k] = INT64_MAX;
				assert_int_equal(d->timer_slot, 0);
			}
		}
		int64_t min = INT64_MAX;
		size_t count = 0;
		for (int k = 0; k < N; k++) {
			min = model[k] < min ? model[k] : min;
			count += model[k] != INT64_MAX;
		}
		assert_true(timers_next(t) == min);
		assert_int_equal(timers_count(t), count);
	}
	timers_free(t);
	for (int k = 0; k < N; k++) {
		assert_int_equal(z[k].timer_slot, 0); /* freeing the heap detaches every zone */
	}
	timers_free(NULL);
	free(z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timers_order_moves_and_clears),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
