/* tests/unit/xfrd/kafka/test_offtrack.c -- in-order soft commit, against a model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "xfrd/kafka/offtrack.h"

#include <stdbool.h>
#include <stdlib.h>

static void test_offtrack_seed_figure(void **state)
{
	(void)state;
	/* The header's picture: 10 11 13 14 15 read (12 a gap). */
	struct offtrack *t = offtrack_new();
	assert_int_equal(offtrack_assign(t, 0, 10), 0);
	assert_int_equal(offtrack_committable(t, 0), -1); /* nothing moved yet */
	for (int64_t o = 10; o <= 15; o++) {
		if (o != 12) {
			assert_int_equal(offtrack_read(t, 0, o), 0);
		}
	}
	assert_int_equal(offtrack_done(t, 0, 10), 0);
	assert_int_equal(offtrack_committable(t, 0), 11);
	assert_int_equal(offtrack_done(t, 0, 13), 0);
	assert_int_equal(offtrack_done(t, 0, 14), 0);
	assert_int_equal(offtrack_committable(t, 0), 11); /* 11 still runs */
	assert_int_equal(offtrack_committed(t, 0, 11), 0);
	assert_int_equal(offtrack_committable(t, 0), -1);
	assert_int_equal(offtrack_in_flight(t, 0), 2);
	assert_int_equal(offtrack_done(t, 0, 11), 0);
	assert_int_equal(offtrack_committable(t, 0), 15);
	assert_int_equal(offtrack_done(t, 0, 15), 0);
	assert_int_equal(offtrack_committable(t, 0), 16);
	assert_int_equal(offtrack_in_flight(t, 0), 0);
	offtrack_free(t);
}

static void test_offtrack_error_codes(void **state)
{
	(void)state;
	struct offtrack *t = offtrack_new();
	int64_t safe = 0;
	assert_int_equal(offtrack_read(t, 3, 1), ZX_ENOENT);
	assert_int_equal(offtrack_done(t, 3, 1), ZX_ENOENT);
	assert_int_equal(offtrack_committed(t, 3, 1), ZX_ENOENT);
	assert_int_equal(offtrack_revoke(t, 3, &safe), ZX_ENOENT);
	assert_int_equal(offtrack_committable(t, 3), -1);
	assert_int_equal(offtrack_assign(t, 3, -1), 0);
	assert_int_equal(offtrack_assign(t, 3, 0), ZX_EEXIST);
	assert_int_equal(offtrack_committable(t, 3), -1); /* position unknown */
	assert_int_equal(offtrack_read(t, 3, 5), 0);
	assert_int_equal(offtrack_read(t, 3, 5), ZX_EINVAL); /* not above the last */
	assert_int_equal(offtrack_read(t, 3, -2), ZX_EINVAL);
	assert_int_equal(offtrack_done(t, 3, 4), ZX_ENOTFOUND);
	assert_int_equal(offtrack_done(t, 3, 5), 0);
	assert_int_equal(offtrack_done(t, 3, 5), ZX_ENOTFOUND); /* twice */
	assert_int_equal(offtrack_revoke(t, 3, &safe), 0);
	assert_int_equal(safe, 6);
	assert_int_equal(offtrack_done(t, 3, 6), ZX_ENOENT); /* late finish after revoke */
	offtrack_free(t);
	offtrack_free(NULL);
}

static void test_offtrack_revoke_keeps_unfinished_for_next_owner(void **state)
{
	(void)state;
	struct offtrack *t = offtrack_new();
	assert_int_equal(offtrack_assign(t, 1, 100), 0);
	assert_int_equal(offtrack_assign(t, 0, 7), 0);
	int32_t parts[4];
	assert_int_equal(offtrack_partitions(t, parts, 4), 2);
	assert_int_equal(parts[0], 0);
	assert_int_equal(parts[1], 1);
	assert_int_equal(offtrack_read(t, 1, 100), 0);
	assert_int_equal(offtrack_read(t, 1, 101), 0);
	assert_int_equal(offtrack_done(t, 1, 101), 0);
	int64_t safe = 0;
	assert_int_equal(offtrack_revoke(t, 1, &safe), 0);
	assert_int_equal(safe, -1); /* 100 unfinished: nothing may be committed */
	assert_int_equal(offtrack_partitions(t, parts, 4), 1);
	assert_int_equal(offtrack_last_committed(t, 0), 7);
	offtrack_free(t);
}

/* Model: every offset read with a finished flag; position = first unfinished, else last + 1. */
struct model {
	int64_t off[4096];
	bool fin[4096];
	size_t n;
	int64_t start;
};

static int64_t model_position(const struct model *m)
{
	for (size_t i = 0; i < m->n; i++) {
		if (!m->fin[i]) {
			return m->off[i];
		}
	}
	return m->n > 0 ? m->off[m->n - 1] + 1 : m->start;
}

static void test_offtrack_random_interleavings_match_model(void **state)
{
	(void)state;
	srand(20261126);
	for (int round = 0; round < 200; round++) {
		struct offtrack *t = offtrack_new();
		struct model m = {.start = rand() % 1000};
		assert_int_equal(offtrack_assign(t, 0, m.start), 0);
		int64_t next = m.start;
		int64_t committed = m.start;
		for (int step = 0; step < 2000 && m.n < 4096; step++) {
			int op = rand() % 3;
			if (op == 0 || m.n == 0) {
				next += 1 + (rand() % 4 == 0 ? rand() % 3 : 0); /* gaps sometimes */
				assert_int_equal(offtrack_read(t, 0, next), 0);
				m.off[m.n] = next;
				m.fin[m.n++] = false;
			} else if (op == 1) {
				size_t i = (size_t)rand() % m.n;
				int rc = offtrack_done(t, 0, m.off[i]);
				assert_int_equal(rc, m.fin[i] ? ZX_ENOTFOUND : 0);
				m.fin[i] = true;
			} else {
				int64_t c = offtrack_committable(t, 0);
				int64_t want = model_position(&m);
				assert_int_equal(c, want == committed ? -1 : want);
				if (c >= 0) {
					/* never commit past an unfinished offset */
					for (size_t i = 0; i < m.n; i++) {
						assert_true(m.off[i] >= c || m.fin[i]);
					}
					assert_true(c >= committed);
					assert_int_equal(offtrack_committed(t, 0, c), 0);
					committed = c;
				}
			}
			size_t unfinished = 0;
			for (size_t i = 0; i < m.n; i++) {
				unfinished += !m.fin[i];
			}
			assert_int_equal(offtrack_in_flight(t, 0), unfinished);
		}
		offtrack_free(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offtrack_seed_figure),
		cmocka_unit_test(test_offtrack_error_codes),
		cmocka_unit_test(test_offtrack_revoke_keeps_unfinished_for_next_owner),
		cmocka_unit_test(test_offtrack_random_interleavings_match_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
