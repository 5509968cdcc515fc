/* tests/unit/xfrd/test_sched.c -- one running, one scheduled, folding, revocation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "xfrd/sched.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct log {
	char starts[64][32];
	bool force[64];
	int nstarts;
	int64_t done[256];
	int ndone;
	char cancels[16][32];
	int ncancels;
};

static void on_start(void *ctx, const char *zone, unsigned force_axfr)
{
	struct log *l = ctx;
	snprintf(l->starts[l->nstarts], sizeof(l->starts[0]), "%s", zone);
	l->force[l->nstarts++] = force_axfr != 0;
}

static void on_done(void *ctx, const char *zone, struct sched_ref ref)
{
	(void)zone;
	struct log *l = ctx;
	l->done[l->ndone++] = ref.offset;
}

static void on_cancel(void *ctx, const char *zone)
{
	struct log *l = ctx;
	snprintf(l->cancels[l->ncancels++], sizeof(l->cancels[0]), "%s", zone);
}

static struct sched_ref at(int64_t off)
{
	return (struct sched_ref){.partition = 0, .offset = off};
}

static void test_sched_starts_at_once_and_folds_the_rest(void **state)
{
	(void)state;
	struct log l = {0};
	struct sched *s = sched_new(on_start, on_done, on_cancel, &l);
	assert_int_equal(sched_request(s, "a.", at(1), true, 10, false), 0);
	assert_int_equal(l.nstarts, 1);
	assert_true(sched_is_running(s, "a."));
	for (int64_t o = 2; o <= 5; o++) {
		assert_int_equal(sched_request(s, "a.", at(o), true, (uint32_t)(10 + o), false), 0);
	}
	assert_int_equal(l.nstarts, 1); /* folded */
	assert_int_equal(sched_running(s), 1);
	assert_int_equal(sched_scheduled(s), 1);
	/* the run reached 12: offsets 1, 2 (hint 12) done; 3..5 (hints 13..15) still need a run */
	assert_int_equal(sched_finished(s, "a.", true, 12), 0);
	assert_int_equal(l.ndone, 2);
	assert_int_equal(l.done[0], 1);
	assert_int_equal(l.done[1], 2);
	assert_int_equal(l.nstarts, 2);
	assert_int_equal(sched_scheduled(s), 0);
	assert_int_equal(sched_finished(s, "a.", true, 15), 0);
	assert_int_equal(l.ndone, 5);
	assert_false(sched_is_running(s, "a."));
	assert_int_equal(sched_running(s), 0);
	assert_int_equal(sched_finished(s, "a.", true, 15), ZX_ENOENT);
	sched_free(s);
}

static void test_sched_covered_waiters_need_no_second_run(void **state)
{
	(void)state;
	struct log l = {0};
	struct sched *s = sched_new(on_start, on_done, on_cancel, &l);
	assert_int_equal(sched_request(s, "b.", at(7), false, 0, false), 0);
	assert_int_equal(sched_request(s, "b.", at(8), true, 4294967295u, false), 0);
	/* the result holds serial 3, newer than 4294967295 by RFC 1982 */
	assert_int_equal(sched_finished(s, "b.", true, 3), 0);
	assert_int_equal(l.ndone, 2);
	assert_int_equal(l.nstarts, 1);
	/* a hintless waiter always needs a run of its own */
	assert_int_equal(sched_request(s, "b.", at(9), true, 3, false), 0);
	assert_int_equal(sched_request(s, "b.", at(10), false, 0, false), 0);
	assert_int_equal(sched_finished(s, "b.", true, 3), 0);
	assert_int_equal(l.nstarts, 3);
	assert_int_equal(l.ndone, 3);
	assert_int_equal(sched_finished(s, "b.", false, 0), 0); /* failed for good: recorded */
	assert_int_equal(l.ndone, 4);
	sched_free(s);
}

static void test_sched_force_axfr_runs_even_when_covered(void **state)
{
	(void)state;
	struct log l = {0};
	struct sched *s = sched_new(on_start, on_done, on_cancel, &l);
	assert_int_equal(sched_request(s, "c.", at(1), false, 0, false), 0);
	assert_false(l.force[0]);
	assert_int_equal(sched_request(s, "c.", (struct sched_ref){0, -1}, true, 1, true), 0);
	assert_int_equal(sched_finished(s, "c.", true, 5), 0);
	assert_int_equal(l.nstarts, 2);
	assert_true(l.force[1]);
	assert_int_equal(l.ndone, 1); /* offset -1 is never reported */
	assert_int_equal(sched_finished(s, "c.", true, 5), 0);
	assert_int_equal(l.ndone, 1);
	sched_free(s);
}

static void test_sched_revocation_cancels_and_forgets(void **state)
{
	(void)state;
	struct log l = {0};
	struct sched *s = sched_new(on_start, on_done, on_cancel, &l);
	assert_int_equal(sched_request(s, "d.", (struct sched_ref){3, 40}, false, 0, false), 0);
	assert_int_equal(sched_request(s, "d.", (struct sched_ref){3, 41}, false, 0, false), 0);
	assert_int_equal(sched_request(s, "e.", (struct sched_ref){4, 9}, false, 0, false), 0);
	sched_drop_partition(s, 3);
	assert_int_equal(l.ncancels, 1);
	assert_string_equal(l.cancels[0], "d.");
	assert_int_equal(sched_scheduled(s), 0);
	assert_int_equal(sched_finished(s, "d.", true, 1), 0); /* the cancelled run ends */
	assert_int_equal(l.ndone, 0);  /* nothing of partition 3 is reported */
	assert_int_equal(l.nstarts, 2); /* no scheduled rerun of d. */
	assert_int_equal(sched_finished(s, "e.", true, 1), 0);
	assert_int_equal(l.ndone, 1);
	assert_int_equal(l.done[0], 9);
	sched_free(s);
	sched_free(NULL);
}

static void test_sched_many_zones_grow_the_table(void **state)
{
	(void)state;
	struct log l = {0};
	struct sched *s = sched_new(on_start, on_done, on_cancel, &l);
	char zone[32];
	for (int i = 0; i < 5000; i++) {
		snprintf(zone, sizeof(zone), "z%d.test.", i);
		l.nstarts = 0;
		assert_int_equal(sched_request(s, zone, (struct sched_ref){-1, -1}, false, 0, false), 0);
	}
	assert_int_equal(sched_running(s), 5000);
	for (int i = 0; i < 5000; i++) {
		snprintf(zone, sizeof(zone), "z%d.test.", i);
		assert_true(sched_is_running(s, zone));
		assert_int_equal(sched_finished(s, zone, true, 1), 0);
	}
	assert_int_equal(sched_running(s), 0);
	sched_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sched_starts_at_once_and_folds_the_rest),
		cmocka_unit_test(test_sched_covered_waiters_need_no_second_run),
		cmocka_unit_test(test_sched_force_axfr_runs_even_when_covered),
		cmocka_unit_test(test_sched_revocation_cancels_and_forgets),
		cmocka_unit_test(test_sched_many_zones_grow_the_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
