/* tests/unit/xfrd/kafka/test_consumer.c -- the consumer group against librdkafka's
 * in-process mock cluster: requests read and handed to the sink (a fake runtime
 * whose every transfer fails for good at once, folding what arrives while one
 * runs, as the scheduler does), a FAILED ZoneUpdated per outcome, offsets
 * committed to the end; and the errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/cfg/cfg.h"
#include "common/metrics.h"
#include "proto/events.h"
#include "xfrd/kafka/consumer.h"
#include "xfrd/kafka/updates.h"
#include "xfrd/xfr/xfr.h"
#include "xfrd/zone/zone.h"

#include <event2/event.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The fake runtime: per zone one "transfer" at a time, each failing 10 ms after it
 * started; requests arriving meanwhile wait for the next one. */
struct fzone {
	const char *name;
	struct zone z; /* what consumer_outcome() reads: name, partition */
	struct zone_settings *set;
	bool running;
	struct zone_req cur[16], next[16];
	size_t ncur, nnext;
};

struct bed {
	rd_kafka_t *mrk; /* holds the mock cluster */
	rd_kafka_mock_cluster_t *mc;
	struct cfg *cfg;
	struct event_base *base;
	struct metrics *m;
	struct updates *up;
	struct consumer *c;
	struct fzone fz[2];
	struct event *ev;
	int32_t partitions;
	int owned;
};

static void fake_finish(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct bed *b = arg;
	for (int i = 0; i < 2; i++) {
		struct fzone *f = &b->fz[i];
		if (!f->running) {
			continue;
		}
		struct xfr_result r = {.outcome = XFR_FAILED, .error = ZX_ECONNREFUSED,
		                       .why = "connect"};
		snprintf(r.primary, sizeof(r.primary), "127.0.0.1@1");
		struct zone_req done[16];
		size_t n = f->ncur;
		memcpy(done, f->cur, n * sizeof(done[0]));
		f->ncur = f->nnext;
		memcpy(f->cur, f->next, f->nnext * sizeof(f->next[0]));
		f->nnext = 0;
		f->running = f->ncur > 0;
		consumer_outcome(b->c, &f->z, &r, true, done, n);
	}
	struct timeval tv = {.tv_usec = 10000};
	event_add(b->ev, &tv);
}

static int sink_request(void *ctx, const char *zone, const struct zone_req *req, unsigned flags,
                        int origin)
{
	(void)flags;
	(void)origin;
	struct bed *b = ctx;
	for (int i = 0; i < 2; i++) {
		struct fzone *f = &b->fz[i];
		if (strcmp(zone, f->name) != 0) {
			continue;
		}
		f->z.partition = req->partition;
		if (!f->running) {
			f->running = true;
			f->cur[f->ncur++] = *req;
		} else {
			f->next[f->nnext++] = *req;
		}
		return 0;
	}
	return ZX_ENOTFOUND;
}

static void sink_set_partitions(void *ctx, int32_t count)
{
	((struct bed *)ctx)->partitions = count;
}

static void sink_own(void *ctx, int32_t partition, bool owned)
{
	(void)partition;
	((struct bed *)ctx)->owned += owned ? 1 : -1;
}

static size_t sink_running_in(void *ctx, int32_t partition)
{
	struct bed *b = ctx;
	size_t n = 0;
	for (int i = 0; i < 2; i++) {
		n += b->fz[i].running && b->fz[i].z.partition == partition;
	}
	return n;
}

static void sink_poll(void *ctx, int timeout_ms)
{
	(void)ctx;
	(void)timeout_ms;
}

static void sink_refresh_lost(void *ctx, const char *zone, int rc)
{
	(void)ctx;
	(void)zone;
	(void)rc;
}

static int setup(void **state)
{
	struct bed *b = calloc(1, sizeof(*b));
	char err[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	b->mrk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	b->mc = rd_kafka_mock_cluster_new(b->mrk, 1);
	assert_non_null(b->mc);
	assert_int_equal(rd_kafka_mock_topic_create(b->mc, "req", 2, 1), 0);
	assert_int_equal(rd_kafka_mock_topic_create(b->mc, "upd", 1, 1), 0);
	char yaml[2048];
	snprintf(yaml, sizeof(yaml),
	         "kafka: { brokers: \"%s\", requests-topic: req, updates-topic: upd, group: g1 }\n"
	         "xfrd: { replica: t0,\n"
	         "        timeouts: { connect: 1s, read: 1s, transfer: 2s, soa: 1s } }\n"
	         "zones:\n"
	         "  - { name: a.test, primaries: [ \"127.0.0.1@1\" ] }\n"
	         "  - { name: b.test, primaries: [ \"127.0.0.1@1\" ] }\n",
	         rd_kafka_mock_cluster_bootstraps(b->mc));
	assert_int_equal(cfg_load_string("t.yaml", yaml, &b->cfg, err, sizeof(err)), 0);
	b->base = event_base_new();
	b->m = metrics_new();
	for (int i = 0; i < 2; i++) {
		b->fz[i].name = b->cfg->zones[i].name_text;
		assert_int_equal(zone_settings_from_cfg(&b->cfg->zones[i], &b->fz[i].set), 0);
		b->fz[i].z.set = b->fz[i].set;
		b->fz[i].z.partition = -1;
	}
	b->ev = evtimer_new(b->base, fake_finish, b);
	struct timeval tv = {.tv_usec = 10000};
	event_add(b->ev, &tv);
	assert_int_equal(updates_new(&b->cfg->kafka, "t0", b->base, &b->up, err, sizeof(err)), 0);
	*state = b;
	return 0;
}

static int teardown(void **state)
{
	struct bed *b = *state;
	if (b->c != NULL) {
		assert_int_equal(consumer_close(b->c), 0);
	}
	event_free(b->ev);
	updates_free(b->up, 0);
	consumer_free(b->c);
	for (int i = 0; i < 2; i++) {
		zone_settings_unref(b->fz[i].set);
	}
	metrics_free(b->m);
	event_base_free(b->base);
	cfg_free(b->cfg);
	rd_kafka_mock_cluster_destroy(b->mc);
	rd_kafka_destroy(b->mrk);
	free(b);
	return 0;
}

static void produce(struct bed *b, const char *zone, int n)
{
	char err[256];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers",
	                                   rd_kafka_mock_cluster_bootstraps(b->mc), err,
	                                   sizeof(err)), RD_KAFKA_CONF_OK);
	assert_int_equal(rd_kafka_conf_set(conf, "partitioner", "murmur2_random", err,
	                                   sizeof(err)), RD_KAFKA_CONF_OK);
	rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	for (int i = 0; i < n; i++) {
		Zx__Events__TransferRequest req = ZX__EVENTS__TRANSFER_REQUEST__INIT;
		req.zone = (char *)zone;
		req.origin = ZX__EVENTS__ORIGIN__ORIGIN_NOTIFY;
		uint8_t *buf = NULL;
		size_t len = 0;
		assert_int_equal(events_request_pack(&req, &buf, &len), 0);
		assert_int_equal(rd_kafka_producev(p, RD_KAFKA_V_TOPIC("req"),
		                                   RD_KAFKA_V_KEY(zone, strlen(zone)),
		                                   RD_KAFKA_V_VALUE(buf, len),
		                                   RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
		                                   RD_KAFKA_V_END), 0);
	}
	/* and one nobody can read: finished at once, not a reason to stall */
	assert_int_equal(rd_kafka_producev(p, RD_KAFKA_V_TOPIC("req"),
	                                   RD_KAFKA_V_KEY(zone, strlen(zone)),
	                                   RD_KAFKA_V_VALUE((void *)"\xff\xff", 2),
	                                   RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
	                                   RD_KAFKA_V_END), 0);
	assert_int_equal(rd_kafka_flush(p, 10000), 0);
	rd_kafka_destroy(p);
}

/* Committed offsets of group g1 on req, summed; -1 while one is unknown. */
static int64_t committed_sum(struct bed *b)
{
	char err[256];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	(void)rd_kafka_conf_set(conf, "bootstrap.servers", rd_kafka_mock_cluster_bootstraps(b->mc),
	                        err, sizeof(err));
	(void)rd_kafka_conf_set(conf, "group.id", "g1", err, sizeof(err));
	rd_kafka_t *q = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(2);
	rd_kafka_topic_partition_list_add(l, "req", 0);
	rd_kafka_topic_partition_list_add(l, "req", 1);
	int64_t sum = 0;
	if (rd_kafka_committed(q, l, 5000) != 0) {
		sum = -1;
	}
	for (int i = 0; sum >= 0 && i < l->cnt; i++) {
		int64_t off = l->elems[i].offset;
		sum = off >= 0 ? sum + off : off == RD_KAFKA_OFFSET_INVALID ? sum : -1;
	}
	rd_kafka_topic_partition_list_destroy(l);
	rd_kafka_destroy(q);
	return sum;
}

struct waitfor {
	struct bed *b;
	uint64_t outcomes, commits;
};

static void check(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct waitfor *w = arg;
	struct consumer_stats st;
	consumer_stats(w->b->c, &st);
	if (st.outcomes >= w->outcomes && st.events >= w->outcomes && st.commits >= w->commits) {
		event_base_loopbreak(w->b->base);
	}
}

static void run_until(struct bed *b, uint64_t outcomes, uint64_t commits)
{
	struct waitfor w = {.b = b, .outcomes = outcomes, .commits = commits};
	struct event *t = event_new(b->base, -1, EV_PERSIST, check, &w);
	struct timeval tv = {.tv_sec = 0, .tv_usec = 50000}, limit = {.tv_sec = 30};
	event_add(t, &tv);
	event_base_loopexit(b->base, &limit);
	event_base_dispatch(b->base);
	event_free(t);
}

static struct consumer_sink sink(struct bed *b)
{
	return (struct consumer_sink){.request = sink_request, .set_partitions = sink_set_partitions,
	                              .own = sink_own, .running_in = sink_running_in,
	                              .poll_outcomes = sink_poll,
	                              .refresh_lost = sink_refresh_lost, .ctx = b};
}

static void test_consumer_reads_refreshes_commits(void **state)
{
	struct bed *b = *state;
	char err[512] = "";
	struct consumer_opts o = {.cfg = b->cfg, .base = b->base, .sink = sink(b), .up = b->up,
	                          .m = b->m, .replica = "t0", .commit_interval_ms = 20,
	                          .revoke_wait_ms = 5000};
	assert_int_equal(consumer_new(&o, &b->c, err, sizeof(err)), 0);
	produce(b, "a.test.", 3);
	produce(b, "b.test.", 2);
	/* 7 requests: at least one failed refresh per zone, each announced, and the
	 * offsets of both partitions committed to the end (7 messages) */
	run_until(b, 2, 1);
	for (int i = 0; i < 100 && committed_sum(b) != 7; i++) {
		run_until(b, 0, 0);
		struct timeval tv = {.tv_usec = 100000};
		event_base_loopexit(b->base, &tv);
		event_base_dispatch(b->base);
	}
	assert_int_equal(committed_sum(b), 7);
	struct consumer_stats st;
	consumer_stats(b->c, &st);
	assert_int_equal(st.read, 7);
	assert_int_equal(st.invalid, 2);
	assert_true(st.outcomes >= 2 && st.outcomes <= 5);
	assert_int_equal(st.events, st.outcomes); /* every failure announced */
	assert_int_equal(st.partitions, 2);
	assert_int_equal(b->partitions, 2); /* the sink was told, and given both */
	assert_int_equal(b->owned, 2);
	assert_true(consumer_ready(b->c, NULL, 0));
	assert_int_equal(consumer_live(b->c, err, sizeof(err)), 0);
}

static void test_consumer_errors(void **state)
{
	struct bed *b = *state;
	char err[512] = "";
	struct consumer *c = NULL;
	struct consumer_opts o = {.cfg = b->cfg, .base = b->base, .sink = sink(b), .up = b->up,
	                          .m = b->m, .replica = "t0", .commit_interval_ms = 20};
	o.sink.own = NULL;
	assert_int_equal(consumer_new(&o, &c, err, sizeof(err)), ZX_EINVAL);
	o.sink = sink(b);
	o.commit_interval_ms = 0;
	assert_int_equal(consumer_new(&o, &c, err, sizeof(err)), ZX_EINVAL);
	o.commit_interval_ms = 20;
	struct cfg_kv bad[] = {{"no.such.property", "1"}};
	struct cfg_kafka kc = b->cfg->kafka;
	b->cfg->kafka.settings = bad;
	b->cfg->kafka.settings_count = 1;
	assert_int_equal(consumer_new(&o, &c, err, sizeof(err)), ZX_ECONFIG);
	b->cfg->kafka = kc;
	assert_null(c);
	assert_non_null(strstr(err, "no.such.property"));
	consumer_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_consumer_reads_refreshes_commits, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_consumer_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
