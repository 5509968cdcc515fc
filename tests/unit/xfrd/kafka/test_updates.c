/* tests/unit/xfrd/kafka/test_updates.c -- xfrd's producer: delivery through the loop
 * (librdkafka's in-process mock cluster), purge at free, errors. (The partitioner:
 * tests/unit/proto/test_reqtopic.c.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/cfg/cfg.h"
#include "xfrd/kafka/updates.h"

#include <event2/event.h>
#include <string.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_updates_delivers_through_the_loop),
		cmocka_unit_test(test_updates_errors_and_purge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
