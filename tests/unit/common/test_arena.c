/* tests/unit/common/test_arena.c -- region allocator: alignment, cap, reset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/arena.h"

#include <stdalign.h>
#include <string.h>

static void test_arena_aligned_and_distinct(void **state)
{
	(void)state;
	struct arena *a = arena_new(0);
	assert_non_null(a);
	char *p = arena_alloc(a, 3);
	char *q = arena_alloc(a, 5);
	assert_non_null(p);
	assert_non_null(q);
	assert_true(p != q);
	assert_int_equal((uintptr_t)q % alignof(max_align_t), 0);
	memset(p, 'x', 3);
	memset(q, 'y', 5);
	assert_int_equal(p[2], 'x');
	arena_destroy(a);
	arena_destroy(NULL);
}

static void test_arena_cap_limits(void **state)
{
	(void)state;
	struct arena *a = arena_new(1024);
	assert_non_null(arena_alloc(a, 512));
	assert_null(arena_alloc(a, 1024));
	arena_reset(a);
	assert_int_equal(arena_used(a), 0);
	assert_non_null(arena_alloc(a, 1000));
	arena_destroy(a);
}

static void test_arena_large_and_many(void **state)
{
	(void)state;
	struct arena *a = arena_new(0);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 10000; i++) {
			int *v = arena_alloc_array(a, 4, sizeof(int));
			assert_non_null(v);
			v[3] = i;
		}
		char *big = arena_alloc_zero(a, 1 << 20);
		assert_non_null(big);
		assert_int_equal(big[(1 << 20) - 1], 0);
		arena_reset(a);
	}
	assert_null(arena_alloc_array(a, SIZE_MAX / 2, 4));
	assert_string_equal(arena_strdup(a, "zone"), "zone");
	arena_destroy(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arena_aligned_and_distinct),
		cmocka_unit_test(test_arena_cap_limits),
		cmocka_unit_test(test_arena_large_and_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
