/* tests/unit/xfrd/xfr/test_commitq.c -- store commits on the commitq's threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "xfrd/xfr/commitq.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdbool.h>
#include <time.h>

/* A fake store: the txn is an int (the rc to return); commits take 2 ms so that
 * they overlap when there are threads for it. */
static atomic_int running, most_running, committed;

static int fake_commit(void *txn, int64_t now, const char *primary, struct zdb_commit *res)
{
	int n = atomic_fetch_add(&running, 1) + 1;
	int m = atomic_load(&most_running);
	while (n > m && !atomic_compare_exchange_weak(&most_running, &m, n)) {
	}
	nanosleep(&(struct timespec){.tv_nsec = 2000000}, NULL);
	atomic_fetch_sub(&running, 1);
	atomic_fetch_add(&committed, 1);
	int rc = *(int *)txn;
	if (rc == 0) {
		*res = (struct zdb_commit){.serial = (uint32_t)now, .records = primary[0] == 'p'};
	}
	return rc;
}

static const struct xfr_store_ops fake_ops = {.commit = fake_commit};

struct job {
	struct commitq_job j; /* first: done() gets it back */
	int want_rc;
	struct zdb_commit res;
	int got_rc;
	int calls;
	bool txn_gone;
	pthread_t thread;
};

static void on_done(struct commitq_job *cj, int rc)
{
	struct job *j = (struct job *)cj;
	j->got_rc = rc;
	j->calls++;
	j->thread = pthread_self();
	j->txn_gone = cj->txn == NULL; /* checked on the test's thread: cmocka's are not safe here */
}

static void submit_with(struct commitq *q, struct job *j, int rc, int64_t now,
                        commitq_done_cb done)
{
	j->want_rc = rc;
	j->j = (struct commitq_job){.ops = &fake_ops, .txn = &j->want_rc, .now = now,
	                            .primary = "p@53", .res = &j->res, .done = done};
	commitq_submit(q, &j->j);
}

static void submit(struct commitq *q, struct job *j, int rc, int64_t now)
{
	submit_with(q, j, rc, now, on_done);
}

static void reset(void)
{
	atomic_store(&running, 0);
	atomic_store(&most_running, 0);
	atomic_store(&committed, 0);
}

static void test_commitq_rejects_no_threads(void **state)
{
	(void)state;
	struct commitq *q = (struct commitq *)0x1;
	assert_int_equal(commitq_new(0, &q), ZX_EINVAL);
	assert_ptr_equal(q, (struct commitq *)0x1);
	commitq_free(NULL);
}

static void test_commitq_result_reaches_done(void **state)
{
	(void)state;
	reset();
	struct commitq *q = NULL;
	assert_int_equal(commitq_new(2, &q), 0);
	struct job ok = {0}, bad = {0};
	submit(q, &ok, 0, 42);
	submit(q, &bad, ZX_EDIFF, 43);
	commitq_wait(q, &ok.j);
	commitq_wait(q, &bad.j);
	assert_int_equal(ok.calls, 1);
	assert_int_equal(ok.got_rc, 0);
	assert_int_equal(ok.res.serial, 42);
	assert_int_equal(ok.res.records, 1);
	assert_true(ok.txn_gone);
	assert_int_equal(bad.calls, 1);
	assert_int_equal(bad.got_rc, ZX_EDIFF);
	assert_int_equal(bad.res.serial, 0); /* untouched on failure */
	assert_false(pthread_equal(ok.thread, pthread_self()));
	commitq_free(q);
}

static void test_commitq_commits_overlap(void **state)
{
	(void)state;
	reset();
	struct commitq *q = NULL;
	assert_int_equal(commitq_new(4, &q), 0);
	struct job jobs[16] = {0};
	for (int i = 0; i < 16; i++) {
		submit(q, &jobs[i], 0, i);
	}
	for (int i = 0; i < 16; i++) {
		commitq_wait(q, &jobs[i].j);
		assert_int_equal(jobs[i].calls, 1);
		assert_int_equal(jobs[i].res.serial, (uint32_t)i);
	}
	/* what zdb's group commit needs: commits in progress at the same time */
	assert_true(atomic_load(&most_running) > 1);
	assert_true(atomic_load(&most_running) <= 4);
	commitq_free(q);
}

static void test_commitq_free_runs_what_is_queued(void **state)
{
	(void)state;
	reset();
	struct commitq *q = NULL;
	assert_int_equal(commitq_new(1, &q), 0);
	struct job jobs[20] = {0};
	for (int i = 0; i < 20; i++) {
		submit(q, &jobs[i], 0, i);
	}
	commitq_free(q); /* no transaction may be dropped: each holds a transfer */
	assert_int_equal(atomic_load(&committed), 20);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(jobs[i].calls, 1);
	}
	assert_int_equal(atomic_load(&most_running), 1);
}

static atomic_bool freed_done;

static void on_done_flag(struct commitq_job *cj, int rc)
{
	(void)cj;
	(void)rc;
	atomic_store(&freed_done, true);
}

/* As xfr does it: the owner frees the job as soon as done() told it, without
 * commitq_wait(). The queue must not touch the job after done() (ASan). */
static void test_commitq_job_freed_right_after_done(void **state)
{
	(void)state;
	reset();
	struct commitq *q = NULL;
	assert_int_equal(commitq_new(1, &q), 0);
	for (int i = 0; i < 50; i++) {
		atomic_store(&freed_done, false);
		struct job *j = calloc(1, sizeof(*j));
		assert_non_null(j);
		submit_with(q, j, 0, i, on_done_flag);
		while (!atomic_load(&freed_done)) {
			sched_yield();
		}
		free(j);
	}
	commitq_free(q);
	assert_int_equal(atomic_load(&committed), 50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commitq_rejects_no_threads),
		cmocka_unit_test(test_commitq_result_reaches_done),
		cmocka_unit_test(test_commitq_commits_overlap),
		cmocka_unit_test(test_commitq_free_runs_what_is_queued),
		cmocka_unit_test(test_commitq_job_freed_right_after_done),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
