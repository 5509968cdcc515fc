/* tests/unit/xfrd/test_updates.c -- xfrd's producer: Java's partitioner, delivery
 * through the loop (librdkafka's in-process mock cluster), purge at free, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/cfg.h"
#include "xfrd/updates.h"

#include <event2/event.h>
#include <string.h>

/* Kafka's own vectors (clients UtilsTest.testMurmur2): the Java partitioner is
 * toPositive(murmur2(key)) % partitions, which notifyd and xfrd must agree on. */
static void test_updates_partition_is_javas(void **state)
{
	(void)state;
	static const struct {
		const char *key;
		int32_t murmur2;
	} v[] = {
		{"21", -973932308},
		{"foobar", -790332482},
		{"a-little-bit-long-string", -985981536},
		{"a-little-bit-longer-string", -1486304829},
		{"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
		{"abc", 479470107},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint32_t pos = (uint32_t)v[i].murmur2 & 0x7fffffffu;
		for (int32_t n = 1; n <= 64; n *= 2) {
			assert_int_equal(updates_partition(v[i].key, n),
			                 (int32_t)(pos % (uint32_t)n));
		}
		assert_int_equal(updates_partition(v[i].key, 12), (int32_t)(pos % 12u));
	}
	assert_int_equal(updates_partition("x", 0), -1);
	assert_int_equal(updates_partition("x", -3), -1);
}

struct seen {
	struct updates_ticket t;
	int calls;
	int rc;
	struct event_base *base;
};

static void done(struct updates_ticket *t, int rc)
{
	struct seen *s = (struct seen *)t;
	s->calls++;
	s->rc = rc;
	if (s->base != NULL) {
		event_base_loopbreak(s->base);
	}
}

static struct cfg_kafka kafka(const struct cfg_kv *kv, size_t n)
{
	return (struct cfg_kafka){.brokers = NULL, .requests_topic = "req", .updates_topic = "upd",
	                          .group = "g", .settings = kv, .settings_count = n};
}

static void test_updates_delivers_through_the_loop(void **state)
{
	(void)state;
	struct cfg_kv kv[] = {{"test.mock.num.brokers", "1"}};
	struct cfg_kafka kc = kafka(kv, 1);
	struct event_base *base = event_base_new();
	struct updates *u = NULL;
	char err[256];
	assert_int_equal(updates_new(&kc, "t", base, &u, err, sizeof(err)), 0);
	struct seen s = {.t.done = done, .base = base};
	Zx__Events__ZoneUpdated ev = ZX__EVENTS__ZONE_UPDATED__INIT;
	ev.zone = (char *)"example.com.";
	ev.new_serial = 7;
	assert_int_equal(updates_send_update(u, &ev, &s.t), 0);
	assert_int_equal(updates_queued(u), 1);
	struct timeval limit = {.tv_sec = 20};
	event_base_loopexit(base, &limit);
	event_base_dispatch(base);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.rc, 0);
	struct seen r = {.t.done = done, .base = base};
	Zx__Events__TransferRequest req = ZX__EVENTS__TRANSFER_REQUEST__INIT;
	req.zone = (char *)"example.com.";
	assert_int_equal(updates_send_request(u, &req, &r.t), 0);
	event_base_loopexit(base, &limit);
	event_base_dispatch(base);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.rc, 0);
	updates_free(u, 0);
	event_base_free(base);
}

static void test_updates_errors_and_purge(void **state)
{
	(void)state;
	struct cfg_kv bad[] = {{"no.such.property", "1"}};
	struct cfg_kafka kc = kafka(bad, 1);
	struct event_base *base = event_base_new();
	struct updates *u = NULL;
	char err[256] = "";
	assert_int_equal(updates_new(&kc, "t", base, &u, err, sizeof(err)), ZX_ECONFIG);
	assert_null(u);
	assert_non_null(strstr(err, "no.such.property"));
	kc = kafka(NULL, 0);
	kc.brokers = "127.0.0.1:1"; /* nobody there: the message stays queued */
	assert_int_equal(updates_new(&kc, "t", base, &u, err, sizeof(err)), 0);
	struct seen s = {.t.done = done};
	Zx__Events__ZoneUpdated ev = ZX__EVENTS__ZONE_UPDATED__INIT;
	ev.zone = (char *)"";
	assert_int_equal(updates_send_update(u, &ev, &s.t), ZX_EINVAL);
	Zx__Events__TransferRequest req = ZX__EVENTS__TRANSFER_REQUEST__INIT;
	req.zone = (char *)"";
	assert_int_equal(updates_send_request(u, &req, &s.t), ZX_EINVAL);
	assert_int_equal(s.calls, 0);
	ev.zone = (char *)"example.com.";
	assert_int_equal(updates_send_update(u, &ev, &s.t), 0);
	updates_poll(u, 0);
	assert_int_equal(s.calls, 0);
	updates_free(u, 0); /* purged: the ticket comes back once, as a shutdown */
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.rc, ZX_ESHUTDOWN);
	updates_free(NULL, 0);
	event_base_free(base);
}

static void test_updates_request_once(void **state)
{
	(void)state;
	char err[256] = "";
	struct cfg_kv kv[] = {{"test.mock.num.brokers", "1"}};
	struct cfg_kafka kc = kafka(kv, 1);
	int op = ZX__EVENTS__ORIGIN__ORIGIN_OPERATOR;
	assert_int_equal(updates_request_once(&kc, "example.com.", op, "xfrctl", 10000, err,
	                                      sizeof(err)), 0);
	assert_int_equal(updates_request_once(&kc, "", op, NULL, 1000, err, sizeof(err)),
	                 ZX_EINVAL);
	struct cfg_kv bad[] = {{"no.such.property", "1"}};
	kc = kafka(bad, 1);
	assert_int_equal(updates_request_once(&kc, "example.com.", 1, NULL, 1000, err,
	                                      sizeof(err)), ZX_ECONFIG);
	kc = kafka(NULL, 0);
	kc.brokers = "127.0.0.1:1";
	assert_int_equal(updates_request_once(&kc, "example.com.", 1, NULL, 300, err, sizeof(err)),
	                 ZX_ETIMEDOUT);
	assert_non_null(strstr(err, "not stored"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_updates_partition_is_javas),
		cmocka_unit_test(test_updates_delivers_through_the_loop),
		cmocka_unit_test(test_updates_errors_and_purge),
		cmocka_unit_test(test_updates_request_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
