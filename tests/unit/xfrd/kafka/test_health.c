/* tests/unit/xfrd/kafka/test_health.c -- the liveness map (held work, progress, rebalances)
 * and the readiness rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "xfrd/kafka/health.h"

#include <string.h>

static size_t held[16];

static size_t held_of(void *arg, int32_t p)
{
	(void)arg;
	return held[p];
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
	assert_int_equal(health_map_progress(m, 4, 0), ZX_ENOENT);
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
	char why[160] = "";
	memset(held, 0, sizeof(held));
	assert_int_equal(health_map_assign(m, 0, 1000), 0);
	assert_int_equal(health_map_assign(m, 1, 1000), 0);
	/* work but within the stall window: alive */
	held[1] = 5;
	assert_int_equal(health_map_check(m, 1500, 1000, held_of, NULL, why, sizeof(why)), 0);
	/* work and no progress for longer than the window: stalled, says which */
	assert_int_equal(health_map_check(m, 3100, 1000, held_of, NULL, why, sizeof(why)),
	                 ZX_ETIMEDOUT);
	assert_string_equal(why, "partition 1 holds 5 requests, none finished for 2 s "
	                         "(xfrd.health.commit-stall 1 s)");
	/* a commit that moves is progress */
	assert_int_equal(health_map_committed(m, 1, 7, 3200), 0);
	assert_int_equal(health_map_check(m, 3300, 1000, held_of, NULL, why, sizeof(why)), 0);
	/* the same offset again is not */
	assert_int_equal(health_map_committed(m, 1, 7, 4000), 0);
	held[1] = 1;
	assert_int_equal(health_map_check(m, 4300, 1000, held_of, NULL, why, sizeof(why)),
	                 ZX_ETIMEDOUT);
	assert_non_null(strstr(why, "holds 1 request, none"));
	/* nothing held: alive however long since the last commit, and the clock restarts */
	held[1] = 0;
	assert_int_equal(health_map_check(m, 9000, 1000, held_of, NULL, NULL, 0), 0);
	held[1] = 2;
	assert_int_equal(health_map_check(m, 9500, 1000, held_of, NULL, NULL, 0), 0);
	/* a transfer that ends is progress too (the head of the partition may be a long
	 * one) */
	assert_int_equal(health_map_progress(m, 1, 9600), 0);
	assert_int_equal(health_map_check(m, 10500, 1000, held_of, NULL, NULL, 0), 0);
	assert_int_equal(health_map_check(m, 10700, 1000, held_of, NULL, NULL, 0), ZX_ETIMEDOUT);
	/* Kafka unreachable: every clock held */
	health_map_hold(m, 10700);
	assert_int_equal(health_map_check(m, 11000, 1000, held_of, NULL, NULL, 0), 0);
	health_map_free(m);
}

/* The bug of issue 14: a partition that never carried a message (its lag unknown,
 * -1) failed liveness a minute after the start, and Kubernetes restarted the pod in a
 * loop. Nothing held is never a failure, however long; and work that arrives on a
 * partition idle since long starts its clock when it arrives. */
static void test_health_idle_never_fails(void **state)
{
	(void)state;
	struct health_map *m = health_map_new();
	memset(held, 0, sizeof(held));
	for (int32_t p = 0; p < 4; p++) {
		assert_int_equal(health_map_assign(m, p, 0), 0);
	}
	for (int64_t t = 0; t <= 3600 * 1000; t += 60 * 1000) {
		assert_int_equal(health_map_check(m, t, 1000, held_of, NULL, NULL, 0), 0);
	}
	/* no check for an hour, then a request arrives: its clock starts now */
	assert_int_equal(health_map_progress(m, 2, 7200 * 1000), 0);
	held[2] = 1;
	assert_int_equal(health_map_check(m, 7200 * 1000 + 500, 1000, held_of, NULL, NULL, 0), 0);
	assert_int_equal(health_map_check(m, 7200 * 1000 + 1500, 1000, held_of, NULL, NULL, 0),
	                 ZX_ETIMEDOUT);
	health_map_free(m);
}

/* Cloudflare's cascade: a partition that moved away must not count, one that
 * arrives starts with a fresh clock. */
static void test_health_rebalance(void **state)
{
	(void)state;
	struct health_map *m = health_map_new();
	memset(held, 0, sizeof(held));
	assert_int_equal(health_map_assign(m, 2, 0), 0);
	held[2] = 9;
	held[5] = 9;
	assert_int_equal(health_map_check(m, 5000, 1000, held_of, NULL, NULL, 0), ZX_ETIMEDOUT);
	assert_int_equal(health_map_revoke(m, 2), 0);
	assert_int_equal(health_map_check(m, 5000, 1000, held_of, NULL, NULL, 0), 0);
	assert_int_equal(health_map_assign(m, 5, 5000), 0);
	assert_int_equal(health_map_check(m, 5500, 1000, held_of, NULL, NULL, 0), 0);
	assert_int_equal(health_map_check(m, 6100, 1000, held_of, NULL, NULL, 0), ZX_ETIMEDOUT);
	/* reassigned later: fresh clock again, old commit history gone */
	assert_int_equal(health_map_revoke(m, 5), 0);
	assert_int_equal(health_map_assign(m, 5, 7000), 0);
	assert_int_equal(health_map_committed(m, 5, 1, 7100), 0);
	assert_int_equal(health_map_check(m, 7500, 1000, held_of, NULL, NULL, 0), 0);
	for (int32_t p = 6; p < 16; p++) {
		assert_int_equal(health_map_assign(m, p, 7500), 0); /* grows */
	}
	assert_int_equal(health_map_size(m), 11);
	health_map_free(m);
}

static bool ready(const struct health_ready_in *in, const char *want)
{
	char why[400] = "x";
	bool ok = health_ready(in, why, sizeof(why));
	if (strcmp(why, want) != 0) {
		print_error("why: \"%s\"\nwant \"%s\"\n", why, want);
		fail();
	}
	return ok;
}

/* Every rule of readiness, in its order. */
static void test_health_ready_rules(void **state)
{
	(void)state;
	/* the only member, with every partition: ready */
	struct health_ready_in in = {.assigned = true, .owned = 4, .topic_partitions = 4};
	assert_true(ready(&in, ""));
	/* before the first assignment; after a lost one */
	struct health_ready_in a = in;
	a.assigned = false;
	assert_false(ready(&a, "no partition assignment yet"));
	a = in;
	a.lost = true;
	assert_false(ready(&a, "partitions lost (Kafka session timed out), rejoining the "
	                       "consumer group"));
	/* Kafka unreachable wins over the assignment; the topic missing over that; closing
	 * over everything */
	a = in;
	a.kafka_down = true;
	a.kafka_why = "brokers 127.0.0.1:9: Local: Timed out";
	a.kafka_down_s = 12;
	assert_false(ready(&a, "Kafka unreachable for 12 s (brokers 127.0.0.1:9: Local: Timed out)"));
	a.topic_missing = "requests topic t does not exist (x)";
	assert_false(ready(&a, "requests topic t does not exist (x)"));
	a.closing = true;
	assert_false(ready(&a, "closing"));
	/* no partitions: more replicas than partitions is fine once the group is stable
	 * and the others hold every partition */
	struct health_ready_in z = {.assigned = true, .owned = 0, .topic_partitions = 1};
	assert_false(ready(&z, "no partitions, and the consumer group not described yet"));
	z.group_known = true;
	z.members = 2;
	assert_false(ready(&z, "no partitions: the consumer group is rebalancing"));
	z.group_stable = true;
	assert_false(ready(&z, "no partitions while 1 of the topic's 1 are not held by the "
	                       "group's 1 other member: waiting for a share"));
	z.held_by_others = 1;
	assert_true(ready(&z, "no partitions: the group's 1 other member holds all 1"));
	z.members = 3;
	assert_true(ready(&z, "no partitions: the group's 2 other members hold all 1"));
	z.topic_partitions = 0;
	assert_false(ready(&z, "no partitions, and the requests topic's partition count unknown"));
	/* NULL why is fine */
	assert_true(health_ready(&in, NULL, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_health_codes),
		cmocka_unit_test(test_health_stall),
		cmocka_unit_test(test_health_idle_never_fails),
		cmocka_unit_test(test_health_rebalance),
		cmocka_unit_test(test_health_ready_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
