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
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static int trickle_delivered, trickle_failed;

static void trickle_done(struct updates_ticket *t, int rc)
{
	(void)t;
	trickle_delivered++;
	trickle_failed += rc != 0;
}

struct trickle {
	struct updates *u;
	struct event *ev;
	int sent;
	struct updates_ticket t[20000];
};

static void trickle_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct trickle *tr = arg;
	for (int i = 0; i < 10; i++) {
		Zx__Events__ZoneUpdated ev = ZX__EVENTS__ZONE_UPDATED__INIT;
		char zone[32];
		snprintf(zone, sizeof(zone), "z%d.example.", tr->sent);
		ev.zone = zone;
		ev.new_serial = 1;
		tr->t[tr->sent].done = trickle_done;
		assert_int_equal(updates_send_update(tr->u, &ev, &tr->t[tr->sent]), 0);
		tr->sent++;
		if (tr->sent == (int)(sizeof(tr->t) / sizeof(tr->t[0]))) {
			event_del(tr->ev);
			return;
		}
	}
}

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A steady flow of events, about 2,000 a second (a replica loading many small
 * zones), to a broker that answers after 10 ms (one under load). With a linger of
 * 1 ms, librdkafka 2.0.2's broker thread woke to poll its socket again and again
 * while a batch waited behind the one in flight (the idempotent producer has one
 * request in flight per partition): 0.48-0.51 s of CPU in 1.5 s here, a third of
 * xfrd's samples with 10,000 zones loading. With the default linger a batch waits
 * as long as a round trip anyway: 0.10-0.14 s. */
static void test_updates_trickle_does_not_spin(void **state)
{
	(void)state;
	/* a mock cluster of our own, whose broker answers after 10 ms (as a broker
	   under load does): the producer has a batch waiting while one is in flight */
	char err[256];
	rd_kafka_t *host = rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), err, sizeof(err));
	assert_non_null(host);
	rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(host, 1);
	assert_non_null(mc);
	assert_int_equal(rd_kafka_mock_broker_set_rtt(mc, 1, 10), RD_KAFKA_RESP_ERR_NO_ERROR);
	struct cfg_kafka kc = kafka(NULL, 0);
	kc.brokers = rd_kafka_mock_cluster_bootstraps(mc);
	struct event_base *base = event_base_new();
	struct trickle *tr = calloc(1, sizeof(*tr));
	assert_int_equal(updates_new(&kc, "t", base, &tr->u, err, sizeof(err)), 0);
	/* warm up: the mock's topic made, the producer's ID acquired */
	struct seen s = {.t.done = done, .base = base};
	Zx__Events__ZoneUpdated ev = ZX__EVENTS__ZONE_UPDATED__INIT;
	ev.zone = (char *)"example.com.";
	assert_int_equal(updates_send_update(tr->u, &ev, &s.t), 0);
	struct timeval limit = {.tv_sec = 20};
	event_base_loopexit(base, &limit);
	event_base_dispatch(base);
	assert_int_equal(s.rc, 0);
	tr->ev = event_new(base, -1, EV_PERSIST, trickle_tick, tr);
	struct timeval ms = {.tv_usec = 1000};
	assert_int_equal(event_add(tr->ev, &ms), 0);
	double c0 = cpu_s(), w0 = wall_s();
	struct timeval run = {.tv_sec = 1, .tv_usec = 500000};
	event_base_loopexit(base, &run);
	event_base_dispatch(base);
	double cpu = cpu_s() - c0, wall = wall_s() - w0;
	print_message("trickle: %d sent, %d delivered, CPU %.3f s in %.3f s\n", tr->sent,
	              trickle_delivered, cpu, wall);
	assert_true(tr->sent > 200);
	assert_int_equal(trickle_failed, 0);
	assert_true(cpu < 0.2 * wall);
	event_free(tr->ev);
	updates_free(tr->u, 0);
	free(tr);
	event_base_free(base);
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(host);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_updates_delivers_through_the_loop),
		cmocka_unit_test(test_updates_errors_and_purge),
		cmocka_unit_test(test_updates_trickle_does_not_spin),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
