/* tests/unit/xfrd/zone/test_sched.c -- one running, one scheduled, folding, revocation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/dname.h"
#include "xfrd/zone/sched.h"
#include "xfrd/zone/zone.h"

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

static void on_start(void *ctx, struct zone *z, unsigned flags)
{
	struct log *l = ctx;
	snprintf(l->starts[l->nstarts], sizeof(l->starts[0]), "%s", zone_name_text(z));
	l->force[l->nstarts++] = (flags & ZONE_FORCE_AXFR) != 0;
}

static void on_done(void *ctx, struct zone *z, const struct zone_req *req)
{
	(void)z;
	struct log *l = ctx;
	l->done[l->ndone++] = req->offset;
}

static void on_cancel(void *ctx, struct zone *z)
{
	struct log *l = ctx;
	snprintf(l->cancels[l->ncancels++], sizeof(l->cancels[0]), "%s", zone_name_text(z));
}

static const struct sched_hooks hooks = {.start = on_start, .done = on_done, .cancel = on_cancel};

/* A table with the zones named, and lookups by text. */
static struct zonetab *tab;

static struct zone *Z(const char *name)
{
	struct zone *z = zonetab_find_text(tab, name);
	if (z != NULL) {
		return z;
	}
	struct cfg_zone cz = {0};
	uint8_t wire[DNAME_MAXLEN];
	assert_true(dname_from_text(name, wire) > 0);
	cz.name = wire;
	cz.name_text = name;
	struct zone_settings *set = NULL;
	assert_int_equal(zone_settings_from_cfg(&cz, &set), 0);
	assert_int_equal(zonetab_add(tab, set, &z), 0);
	return z;
}

static int setup(void **state)
{
	(void)state;
	tab = zonetab_new();
	return tab == NULL;
}

static int teardown(void **state)
{
	(void)state;
	zonetab_free(tab);
	return 0;
}

static int req(struct sched *s, const char *zone, int32_t p, int64_t off, bool has, uint32_t serial,
               bool force)
{
	struct zone_req q = {.partition = p, .offset = off, .has_serial = has, .serial = serial};
	return sched_request(s, Z(zone), &q, force ? ZONE_FORCE_AXFR : 0);
}

static int fin(struct sched *s, const char *zone, bool has, uint32_t serial)
{
	return sched_finished(s, Z(zone), has, serial);
}

static bool running(const char *zone)
{
	return Z(zone)->run != ZONE_IDLE;
}

/* sched_drop() over the zones of a partition, as the runtime does on revocation */
static void drop_partition(struct sched *s, int32_t p)
{
	for (struct zone *z = zonetab_next(tab, NULL); z != NULL; z = zonetab_next(tab, z)) {
		if (z->partition == p) {
			sched_drop(s, z);
		}
	}
}

static void test_sched_starts_at_once_and_folds_the_rest(void **state)
{
	(void)state;
	struct log l = {0};
	struct sched *s = sched_new(&hooks, &l);
	assert_int_equal(req(s, "a.", 0, 1, true, 10, false), 0);
	assert_int_equal(l.nstarts, 1);
	assert_true(running("a."));
	for (int64_t o = 2; o <= 5; o++) {
		assert_int_equal(req(s, "a.", 0, o, true, (uint32_t)(10 + o), false), 0);
	}
	assert_int_equal(l.nstarts, 1); /* folded */
	assert_int_equal(sched_running(s), 1);
	assert_int_equal(sched_scheduled(s), 1);
	/* the run reached 12: offsets 1, 2 (hint 12) done; 3..5 (hints 13..15) still need a run */
	assert_int_equal(fin(s, "a.", true, 12), 0);
	assert_int_equal(l.ndone, 2);
	assert_int_equal(l.done[0], 1);
	assert_int_equal(l.done[1], 2);
	assert_int_equal(l.nstarts, 2);
	assert_int_equal(sched_scheduled(s), 0);
	assert_int_equal(fin(s, "a.", true, 15), 0);
	assert_int_equal(l.ndone, 5);
	assert_false(running("a."));
	assert_int_equal(sched_running(s), 0);
	assert_int_equal(fin(s, "a.", true, 15), ZX_ENOENT);
	sched_free(s);
}

static void test_sched_covered_waiters_need_no_second_run(void **state)
{
	(void)state;
	struct log l = {0};
	struct sched *s = sched_new(&hooks, &l);
	assert_int_equal(req(s, "b.", 0, 7, false, 0, false), 0);
	assert_int_equal(req(s, "b.", 0, 8, true, 4294967295u, false), 0);
	/* the result holds serial 3, newer than 4294967295 by RFC 1982 */
	assert_int_equal(fin(s, "b.", true, 3), 0);
	assert_int_equal(l.ndone, 2);
	assert_int_equal(l.nstarts, 1);
	/* a hintless waiter always needs a run of its own */
	assert_int_equal(req(s, "b.", 0, 9, true, 3, false), 0);
	assert_int_equal(req(s, "b.", 0, 10, false, 0, false), 0);
	assert_int_equal(fin(s, "b.", true, 3), 0);
	assert_int_equal(l.nstarts, 3);
	assert_int_equal(l.ndone, 3);
	assert_int_equal(fin(s, "b.", false, 0), 0); /* failed for good: recorded */
	assert_int_equal(l.ndone, 4);
	sched_free(s);
}

static void test_sched_force_axfr_runs_even_when_covered(void **state)
{
	(void)state;
	struct log l = {0};
	struct sched *s = sched_new(&hooks, &l);
	assert_int_equal(req(s, "c.", 0, 1, false, 0, false), 0);
	assert_false(l.force[0]);
	assert_int_equal(req(s, "c.", 0, -1, true, 1, true), 0);
	assert_int_equal(fin(s, "c.", true, 5), 0);
	assert_int_equal(l.nstarts, 2);
	assert_true(l.force[1]);
	assert_int_equal(l.ndone, 1); /* offset -1 is never reported */
	assert_int_equal(fin(s, "c.", true, 5), 0);
	assert_int_equal(l.ndone, 1);
	sched_free(s);
}

static void test_sched_revocation_cancels_and_forgets(void **state)
{
	(void)state;
	struct log l = {0};
	struct sched *s = sched_new(&hooks, &l);
	assert_int_equal(req(s, "d.", 3, 40, false, 0, false), 0);
	assert_int_equal(req(s, "d.", 3, 41, false, 0, false), 0);
	assert_int_equal(req(s, "e.", 4, 9, false, 0, false), 0);
	Z("d.")->partition = 3;
	Z("e.")->partition = 4;
	drop_partition(s, 3);
	assert_int_equal(l.ncancels, 1);
	assert_string_equal(l.cancels[0], "d.");
	assert_int_equal(sched_scheduled(s), 0);
	assert_int_equal(fin(s, "d.", true, 1), 0); /* the cancelled run ends */
	assert_int_equal(l.ndone, 0);  /* nothing of partition 3 is reported */
	assert_int_equal(l.nstarts, 2); /* no scheduled rerun of d. */
	assert_int_equal(fin(s, "e.", true, 1), 0);
	assert_int_equal(l.ndone, 1);
	assert_int_equal(l.done[0], 9);
	sched_free(s);
	sched_free(NULL);
}

static void test_sched_many_zones_grow_the_table(void **state)
{
	(void)state;
	struct log l = {0};
	struct sched *s = sched_new(&hooks, &l);
	char zone[32];
	for (int i = 0; i < 5000; i++) {
		snprintf(zone, sizeof(zone), "z%d.test.", i);
		l.nstarts = 0;
		assert_int_equal(req(s, zone, -1, -1, false, 0, false), 0);
	}
	assert_int_equal(sched_running(s), 5000);
	for (int i = 0; i < 5000; i++) {
		snprintf(zone, sizeof(zone), "z%d.test.", i);
		assert_true(running(zone));
		assert_int_equal(fin(s, zone, true, 1), 0);
	}
	assert_int_equal(sched_running(s), 0);
	sched_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sched_starts_at_once_and_folds_the_rest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sched_covered_waiters_need_no_second_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sched_force_axfr_runs_even_when_covered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sched_revocation_cancels_and_forgets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sched_many_zones_grow_the_table, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
