/* tests/unit/notifyd/test_publish.c -- the producer against librdkafka's in-process mock
 * cluster: delivery reports come back through the event loop's pipe, exactly once per
 * send, with every documented code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "notifyd/publish.h"

#include "common/cfg/cfg.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_MAX 16

struct rec {
	int n;
	int rc[N_MAX];
	void *opaque[N_MAX];
};

static void done(void *opaque, int rc, void *arg)
{
	struct rec *r = arg;
	if (r->n < N_MAX) {
		r->rc[r->n] = rc;
		r->opaque[r->n] = opaque;
	}
	r->n++;
}

static uint8_t *payload(const char *s)
{
	uint8_t *p = malloc(strlen(s));
	memcpy(p, s, strlen(s));
	return p;
}

/* Run the loop until @p want reports came or @p secs passed. */
static void loop_until(struct event_base *base, struct rec *r, int want, int secs)
{
	time_t end = time(NULL) + secs;
	struct timeval tv = {.tv_sec = 0, .tv_usec = 50000};
	while (r->n < want && time(NULL) < end) {
		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
}

static struct cfg_kafka mock_kafka(struct cfg_kv *kv, size_t n, uint64_t timeout_ms)
{
	return (struct cfg_kafka){.brokers = NULL, .requests_topic = "nd.unit",
	                          .delivery_timeout_ms = timeout_ms, .settings = kv,
	                          .settings_count = n};
}

static void test_publish_delivers_through_the_loop(void **state)
{
	(void)state;
	struct event_base *base = event_base_new();
	struct cfg_kv kv[] = {{"test.mock.num.brokers", "1"}};
	struct cfg_kafka kc = mock_kafka(kv, 1, 10000);
	struct rec r = {0};
	struct publish *p = NULL;
	char err[512] = "";
	assert_int_equal(publish_new(&kc, "unit", base, done, NULL, &r, &p, err, sizeof(err)), 0);
	int tags[3];
	for (int i = 0; i < 3; i++) {
		assert_int_equal(publish_send(p, "z.test.", payload("event"), 5, &tags[i]), 0);
	}
	assert_true(publish_queued(p) >= 1);
	loop_until(base, &r, 3, 20);
	assert_int_equal(r.n, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(r.rc[i], 0);
	}
	/* In order, each opaque exactly once. */
	assert_ptr_equal(r.opaque[0], &tags[0]);
	assert_ptr_equal(r.opaque[2], &tags[2]);
	assert_int_equal(publish_queued(p), 0);
	assert_int_equal(publish_flush(p, 1000), 0);
	publish_free(p);
	event_base_free(base);
}

static void test_publish_unreachable_times_out(void **state)
{
	(void)state;
	struct event_base *base = event_base_new();
	struct cfg_kafka kc = mock_kafka(NULL, 0, 150);
	kc.brokers = "127.0.0.1:1";
	struct rec r = {0};
	struct publish *p = NULL;
	char err[512] = "";
	assert_int_equal(publish_new(&kc, "unit", base, done, NULL, &r, &p, err, sizeof(err)), 0);
	int tag;
	assert_int_equal(publish_send(p, "z.test.", payload("event"), 5, &tag), 0);
	assert_int_equal(publish_flush(p, 50), ZX_ETIMEDOUT);
	loop_until(base, &r, 1, 10);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.rc[0], ZX_ETIMEDOUT);
	publish_free(p);
	event_base_free(base);
}

static void test_publish_full_queue_is_eagain_and_free_purges(void **state)
{
	(void)state;
	struct event_base *base = event_base_new();
	struct cfg_kv kv[] = {{"queue.buffering.max.messages", "1"}};
	struct cfg_kafka kc = mock_kafka(kv, 1, 10000);
	kc.brokers = "127.0.0.1:1";
	struct rec r = {0};
	struct publish *p = NULL;
	char err[512] = "";
	assert_int_equal(publish_new(&kc, "unit", base, done, NULL, &r, &p, err, sizeof(err)), 0);
	int tag;
	assert_int_equal(publish_send(p, "z.test.", payload("one"), 3, &tag), 0);
	uint8_t *second = payload("two");
	assert_int_equal(publish_send(p, "z.test.", second, 3, &tag), ZX_EAGAIN);
	free(second); /* not taken on error */
	publish_free(p); /* the queued one comes back as shutdown */
	assert_int_equal(r.n, 1);
	assert_int_equal(r.rc[0], ZX_ESHUTDOWN);
	event_base_free(base);
}

static void test_publish_bad_settings(void **state)
{
	(void)state;
	struct event_base *base = event_base_new();
	struct rec r = {0};
	struct publish *p = NULL;
	char err[512] = "";
	struct cfg_kv bad[] = {{"no.such.property", "1"}};
	struct cfg_kafka kc = mock_kafka(bad, 1, 1000);
	assert_int_equal(publish_new(&kc, "unit", base, done, NULL, &r, &p, err, sizeof(err)),
	                 ZX_ECONFIG);
	/* Idempotence with acks=1 is refused by rd_kafka_new() itself. */
	struct cfg_kv conflict[] = {{"acks", "1"}};
	kc = mock_kafka(conflict, 1, 1000);
	assert_int_equal(publish_new(&kc, "unit", base, done, NULL, &r, &p, err, sizeof(err)),
	                 ZX_EKAFKA);
	assert_null(p);
	publish_free(NULL);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_publish_delivers_through_the_loop),
		cmocka_unit_test(test_publish_unreachable_times_out),
		cmocka_unit_test(test_publish_full_queue_is_eagain_and_free_purges),
		cmocka_unit_test(test_publish_bad_settings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
