/* SPDX-License-Identifier: MIT */
/* xfrd/kafka/consumer_group.c -- the Kafka side of the consumer: batched commits,
 * cooperative rebalance (revocation waits for running transfers, commits what is
 * safe), liveness from commit progress, metrics, setup and teardown.
 */
#include "xfrd/kafka/consumer_internal.h"

#include "common/cfg/cfg.h"
#include "common/clock.h"
#include "common/kafka/kafka.h"
#include "common/log.h"
#include "common/metrics.h"
#include "xfrd/kafka/health.h"
#include "xfrd/kafka/lagstats.h"
#include "xfrd/kafka/offtrack.h"

#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- commits -------------------------------------------------------------- */

static void note_committed(struct consumer *c, int32_t p, int64_t off)
{
	if (off > offtrack_last_committed(c->ot, p) && offtrack_committed(c->ot, p, off) == 0 &&
	    health_map_committed(c->hm, p, off, clock_mono_ms()) != 0) {
		log_debug("health_map_missing", "partition=%d", p);
	}
}

static void commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
	(void)rk;
	struct consumer *c = opaque;
	c->commit_inflight = false;
	if (err == RD_KAFKA_RESP_ERR__NO_OFFSET) {
		return;
	}
	for (int i = 0; offsets != NULL && i < offsets->cnt; i++) {
		const rd_kafka_topic_partition_t *tp = &offsets->elems[i];
		if (err == 0 && tp->err == 0) {
			note_committed(c, tp->partition, tp->offset);
			c->st.commits++;
			metrics_add(c->m_commits, 1);
		} else {
			c->st.commit_failures++;
			metrics_add(c->m_commit_fail, 1);
			log_warn("commit_failed", "partition=%d offset=%lld error=%s retry_ms=%d",
			         tp->partition, (long long)tp->offset,
			         rd_kafka_err2str(err != 0 ? err : tp->err),
			         CONSUMER_COMMIT_RETRY_MS);
			c->commit_after_ms = clock_mono_ms() + CONSUMER_COMMIT_RETRY_MS;
		}
	}
}

/* The committable positions of the partitions in @p only (all when NULL). */
static rd_kafka_topic_partition_list_t *
committable(struct consumer *c, const rd_kafka_topic_partition_list_t *only)
{
	const char *topic = c->o.cfg->kafka.requests_topic;
	int32_t parts[1024];
	size_t n = offtrack_partitions(c->ot, parts, 1024);
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)n + 1);
	for (size_t i = 0; l != NULL && i < n; i++) {
		if (only != NULL && rd_kafka_topic_partition_list_find(only, topic, parts[i]) == NULL) {
			continue;
		}
		int64_t pos = offtrack_committable(c->ot, parts[i]);
		if (pos >= 0 && pos > offtrack_last_committed(c->ot, parts[i])) {
			rd_kafka_topic_partition_list_add(l, topic, parts[i])->offset = pos;
		}
	}
	if (l != NULL && l->cnt == 0) {
		rd_kafka_topic_partition_list_destroy(l);
		l = NULL;
	}
	return l;
}

void consumer_commit_async(struct consumer *c)
{
	if (c->commit_inflight || clock_mono_ms() < c->commit_after_ms) {
		return;
	}
	rd_kafka_topic_partition_list_t *l = committable(c, NULL);
	if (l == NULL) {
		return;
	}
	rd_kafka_resp_err_t e = rd_kafka_commit(c->rk, l, 1);
	if (e != 0) {
		log_warn("commit_failed", "error=%s retry_ms=%d", rd_kafka_err2str(e),
		         CONSUMER_COMMIT_RETRY_MS);
		c->commit_after_ms = clock_mono_ms() + CONSUMER_COMMIT_RETRY_MS;
	} else {
		c->commit_inflight = true;
	}
	rd_kafka_topic_partition_list_destroy(l);
}

static void commit_sync(struct consumer *c, const rd_kafka_topic_partition_list_t *only)
{
	rd_kafka_topic_partition_list_t *l = committable(c, only);
	if (l == NULL) {
		return;
	}
	rd_kafka_resp_err_t e = rd_kafka_commit(c->rk, l, 0);
	for (int i = 0; i < l->cnt; i++) {
		const rd_kafka_topic_partition_t *tp = &l->elems[i];
		if (e == 0 && tp->err == 0) {
			note_committed(c, tp->partition, tp->offset);
			c->st.commits++;
			metrics_add(c->m_commits, 1);
			log_info("revoke_committed", "partition=%d offset=%lld", tp->partition,
			         (long long)tp->offset);
		} else {
			c->st.commit_failures++;
			metrics_add(c->m_commit_fail, 1);
			log_warn("commit_failed", "partition=%d offset=%lld error=%s",
			         tp->partition, (long long)tp->offset,
			         rd_kafka_err2str(e != 0 ? e : tp->err));
		}
	}
	rd_kafka_topic_partition_list_destroy(l);
}

/* ---- rebalance ------------------------------------------------------------ */

static int32_t topic_partitions(struct consumer *c)
{
	rd_kafka_topic_t *t = rd_kafka_topic_new(c->rk, c->o.cfg->kafka.requests_topic, NULL);
	const struct rd_kafka_metadata *md = NULL;
	int32_t n = 0;
	if (t != NULL && rd_kafka_metadata(c->rk, 0, t, &md, 5000) == 0) {
		if (md->topic_cnt == 1 && md->topics[0].err == 0) {
			n = md->topics[0].partition_cnt;
		}
		rd_kafka_metadata_destroy(md);
	}
	if (t != NULL) {
		rd_kafka_topic_destroy(t);
	}
	return n;
}

static void on_assign(struct consumer *c, const rd_kafka_topic_partition_list_t *l)
{
	if (c->partitions == 0) {
		c->partitions = topic_partitions(c);
		c->o.sink.set_partitions(c->o.sink.ctx, c->partitions);
	}
	int64_t now = clock_mono_ms();
	for (int i = 0; i < l->cnt; i++) {
		int32_t p = l->elems[i].partition;
		int rc = offtrack_assign(c->ot, p, -1);
		if (rc == 0) {
			rc = health_map_assign(c->hm, p, now);
		}
		if (rc != 0 && rc != ZX_EEXIST) {
			log_error("assign_failed", "partition=%d error=%s", p, zx_strerror(rc));
		}
		c->o.sink.own(c->o.sink.ctx, p, true);
		log_info("partition_assigned", "partition=%d", p);
	}
	if (c->o.sink.regrouped != NULL) {
		c->o.sink.regrouped(c->o.sink.ctx); /* the group works: lost zones are placed */
	}
	c->ready_in.assigned = true;
	c->ready_in.lost = false;
	consumer_watch_rebalanced(c);
	c->st.assigned += (uint64_t)l->cnt;
	metrics_add(c->m_rebal[0], 1);
}

static bool revoked_busy(struct consumer *c, const rd_kafka_topic_partition_list_t *l)
{
	for (int i = 0; i < l->cnt; i++) {
		int32_t p = l->elems[i].partition;
		if (consumer_pc(c, p)->pending > 0 || c->o.sink.running_in(c->o.sink.ctx, p) > 0) {
			return true;
		}
	}
	return false;
}

/* Run the outcome path until no zone of @p l transfers and their events are out. */
static void wait_revoked(struct consumer *c, const rd_kafka_topic_partition_list_t *l)
{
	int64_t deadline = clock_mono_ms() + (int64_t)c->o.revoke_wait_ms;
	while (revoked_busy(c, l)) {
		if (clock_mono_ms() >= deadline) {
			log_warn("revoke_wait_timeout", "waited_ms=%llu",
			         (unsigned long long)c->o.revoke_wait_ms);
			return;
		}
		c->o.sink.poll_outcomes(c->o.sink.ctx, 5);
		updates_poll(c->o.up, 0);
	}
}

static void on_revoke(struct consumer *c, const rd_kafka_topic_partition_list_t *l, bool lost)
{
	for (int i = 0; i < l->cnt; i++) {
		if (lost && c->o.sink.lost != NULL) {
			c->o.sink.lost(c->o.sink.ctx, l->elems[i].partition);
		} else {
			c->o.sink.own(c->o.sink.ctx, l->elems[i].partition, false);
		}
	}
	if (lost) {
		c->ready_in.lost = true; /* not ready until the group assigns again */
	}
	consumer_watch_rebalanced(c);
	if (!lost) {
		wait_revoked(c, l);
		commit_sync(c, l);
	}
	for (int i = 0; i < l->cnt; i++) {
		int32_t p = l->elems[i].partition;
		if (offtrack_revoke(c->ot, p, NULL) != 0 || health_map_revoke(c->hm, p) != 0) {
			log_warn("revoke_unknown", "partition=%d", p);
		}
		log_info(lost ? "partition_lost" : "partition_revoked", "partition=%d", p);
	}
	c->st.revoked += (uint64_t)l->cnt;
	c->st.lost += lost ? (uint64_t)l->cnt : 0;
	metrics_add(c->m_rebal[lost ? 2 : 1], 1);
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	struct consumer *c = opaque;
	bool coop = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
	rd_kafka_error_t *e = NULL;
	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		on_assign(c, parts);
		c->topic_missing[0] = '\0'; /* an assignment: the topic is there */
		if (coop) {
			e = rd_kafka_incremental_assign(rk, parts);
		} else {
			(void)rd_kafka_assign(rk, parts);
		}
	} else {
		on_revoke(c, parts, err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS ||
		                            rd_kafka_assignment_lost(rk));
		if (coop) {
			e = rd_kafka_incremental_unassign(rk, parts);
		} else {
			(void)rd_kafka_assign(rk, NULL);
		}
	}
	if (e != NULL) {
		log_error("rebalance_failed", "error=%s", rd_kafka_error_string(e));
		rd_kafka_error_destroy(e);
	}
}

/* ---- health --------------------------------------------------------------- */

static int64_t lag_of(void *arg, int32_t p)
{
	struct consumer *c = arg;
	const char *topic = c->o.cfg->kafka.requests_topic;
	int64_t lo = 0, hi = -1;
	if (rd_kafka_get_watermark_offsets(c->rk, topic, p, &lo, &hi) != 0 || hi < 0) {
		return -1;
	}
	int64_t committed = offtrack_last_committed(c->ot, p);
	if (committed >= 0) {
		return hi > committed ? hi - committed : 0;
	}
	size_t inflight = offtrack_in_flight(c->ot, p);
	if (inflight > 0) {
		return (int64_t)inflight;
	}
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
	if (l == NULL) {
		return -1;
	}
	rd_kafka_topic_partition_list_add(l, topic, p);
	int64_t pos = -1;
	if (rd_kafka_position(c->rk, l) == 0) {
		pos = l->elems[0].offset;
	}
	rd_kafka_topic_partition_list_destroy(l);
	if (pos < 0) {
		return -1;
	}
	return hi > pos ? hi - pos : 0;
}

static size_t held_of(void *arg, int32_t p)
{
	return offtrack_in_flight(((struct consumer *)arg)->ot, p);
}

int consumer_live(struct consumer *c, char *why, size_t whylen)
{
	int64_t now = clock_mono_ms();
	if (c->kafka_down) {
		health_map_hold(c->hm, now); /* what waits for Kafka is not stuck here */
		if (why != NULL && whylen > 0) {
			snprintf(why, whylen, "Kafka unreachable: not a liveness failure");
		}
		return 0;
	}
	return health_map_check(c->hm, now, c->o.cfg->xfrd.health_commit_stall_ms, held_of, c,
	                        why, whylen);
}

bool consumer_kafka_down(const struct consumer *c)
{
	return c->kafka_down;
}

bool consumer_ready(const struct consumer *c, char *why, size_t whylen)
{
	struct health_ready_in in = c->ready_in;
	in.closing = c->closing;
	in.topic_missing = c->topic_missing[0] != '\0' ? c->topic_missing : NULL;
	in.kafka_down = c->kafka_down;
	in.kafka_why = c->kafka_why;
	in.kafka_down_s = c->kafka_down ? (clock_mono_ms() - c->down_since_ms) / 1000 : 0;
	in.owned = health_map_size(c->hm);
	return health_ready(&in, why, whylen);
}

void consumer_stats(const struct consumer *c, struct consumer_stats *out)
{
	*out = c->st;
	out->partitions = health_map_size(c->hm);
}

static double g_lag(void *arg)
{
	struct consumer *c = arg;
	int32_t parts[1024];
	size_t n = offtrack_partitions(c->ot, parts, 1024);
	int64_t sum = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t l = lag_of(c, parts[i]);
		sum += l > 0 ? l : 0;
	}
	return (double)sum;
}

static double g_kafka_up(void *arg)
{
	return ((struct consumer *)arg)->kafka_down ? 0 : 1;
}

static double g_partitions(void *arg)
{
	return (double)health_map_size(((struct consumer *)arg)->hm);
}

static double g_inflight(void *arg)
{
	struct consumer *c = arg;
	int32_t parts[1024];
	size_t n = offtrack_partitions(c->ot, parts, 1024);
	size_t sum = 0;
	for (size_t i = 0; i < n; i++) {
		sum += offtrack_in_flight(c->ot, parts[i]);
	}
	return (double)sum;
}

/* ---- setup ---------------------------------------------------------------- */

static const char *const defaults[] = {
	"partition.assignment.strategy", "cooperative-sticky",
	"enable.auto.commit", "false",
	"enable.auto.offset.store", "false",
	"auto.offset.reset", "earliest",
	"fetch.wait.max.ms", "100",
	"socket.nagle.disable", "true",
	"session.timeout.ms", "10000",
	"heartbeat.interval.ms", "1000",
	"statistics.interval.ms", KAFKA_LAGSTATS_INTERVAL_MS, /* xfrd/kafka/lagstats.h */
	NULL,
};

static void kerror_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	(void)rk;
	struct consumer *c = opaque;
	/* during a known outage the client's reconnect errors say nothing new; else each
	 * distinct error once (kafka_errlog_once) */
	if (c->kafka_down) {
		char q[512];
		log_debug("kafka_error", "error=%s reason=%s",
		          rd_kafka_err2name((rd_kafka_resp_err_t)err), log_quote(reason, q, sizeof(q)));
		return;
	}
	(void)kafka_errlog_once(&c->errlog, "kafka_error", "consumer",
	                        rd_kafka_err2name((rd_kafka_resp_err_t)err), reason, clock_mono_ms());
}

static int stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
	(void)rk;
	struct consumer *c = opaque;
	if (lagstats_update(c->lag, json, len) != 0) {
		log_debug("kafka_stats_unreadable", "bytes=%zu", len);
	}
	return 0; /* librdkafka frees the document */
}

static int make_client(struct consumer *c, char *err, size_t errlen)
{
	const struct cfg_kafka *kc = &c->o.cfg->kafka;
	rd_kafka_conf_t *conf = NULL;
	int rc = kafka_conf_new(kc, c->o.replica, defaults, &conf, err, errlen);
	if (rc == 0 && kc->group != NULL) {
		rc = kafka_conf_set(conf, "group.id", kc->group, err, errlen);
	}
	if (rc != 0) {
		if (conf != NULL) {
			rd_kafka_conf_destroy(conf);
		}
		return rc;
	}
	rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
	rd_kafka_conf_set_offset_commit_cb(conf, commit_cb);
	rd_kafka_conf_set_log_cb(conf, kafka_log_cb_errors_elsewhere);
	rd_kafka_conf_set_error_cb(conf, kerror_cb);
	rd_kafka_conf_set_stats_cb(conf, stats_cb);
	rd_kafka_conf_set_opaque(conf, c);
	c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, errlen);
	if (c->rk == NULL) {
		rd_kafka_conf_destroy(conf);
		return ZX_EKAFKA;
	}
	rd_kafka_poll_set_consumer(c->rk);
	c->q = rd_kafka_queue_get_consumer(c->rk);
	rd_kafka_queue_io_event_enable(c->q, c->kpipe[1], "1", 1);
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(l, kc->requests_topic, RD_KAFKA_PARTITION_UA);
	rd_kafka_resp_err_t e = rd_kafka_subscribe(c->rk, l);
	rd_kafka_topic_partition_list_destroy(l);
	if (e != 0) {
		snprintf(err, errlen, "subscribe %s: %s", kc->requests_topic, rd_kafka_err2str(e));
		return ZX_EKAFKA;
	}
	return 0;
}

static int register_metrics(struct consumer *c, struct metrics *m)
{
	char l[64];
	bool ok = true;
	static const char *const kinds[3] = {"assign", "revoke", "lost"};
	for (int i = 0; i < 3; i++) {
		snprintf(l, sizeof(l), "kind=\"%s\"", kinds[i]);
		ok &= (c->m_rebal[i] = metrics_counter(m, "xfrd_rebalances_total", l,
		                                       "rebalance callbacks")) != NULL;
	}
	static const char *const reasons[CONSUMER_ASK_COUNT] = {"unreachable", "queue_full",
	                                                        "timeout", "kafka", "nomem"};
	for (int i = 0; i < CONSUMER_ASK_COUNT; i++) {
		snprintf(l, sizeof(l), "reason=\"%s\"", reasons[i]);
		ok &= (c->m_ask_fail[i] = metrics_counter(m, "xfrd_refresh_send_failures_total", l,
		                                          "refresh requests Kafka did not take, "
		                                          "by reason")) != NULL;
	}
	ok &= (c->m_invalid = metrics_counter(m, "xfrd_requests_skipped_total", NULL,
	                                      "requests unreadable or for unknown zones")) != NULL;
	ok &= (c->m_commits = metrics_counter(m, "xfrd_commits_total", NULL,
	                                      "partition offsets committed")) != NULL;
	ok &= (c->m_commit_fail = metrics_counter(m, "xfrd_commit_failures_total", NULL,
	                                          "partition offset commits failed")) != NULL;
	ok &= (c->m_events = metrics_counter(m, "xfrd_zone_events_total", NULL,
	                                     "ZoneUpdated events delivered")) != NULL;
	ok &= (c->m_event_fail = metrics_counter(m, "xfrd_zone_event_failures_total", NULL,
	                                         "ZoneUpdated deliveries failed")) != NULL;
	ok &= metrics_gauge_cb(m, "xfrd_consumer_lag", NULL, "requests not yet committed",
	                       g_lag, c) == 0;
	ok &= lagstats_new(m, c->o.cfg->kafka.requests_topic, &c->lag) == 0;
	ok &= metrics_gauge_cb(m, "xfrd_partitions_assigned", NULL, "partitions owned",
	                       g_partitions, c) == 0;
	ok &= metrics_gauge_cb(m, "xfrd_offsets_in_flight", NULL, "requests read, not finished",
	                       g_inflight, c) == 0;
	ok &= metrics_gauge_cb(m, "xfrd_kafka_reachable", NULL,
	                       "1 while a broker answers, 0 during an outage (kafka_unreachable)",
	                       g_kafka_up, c) == 0;
	return ok ? 0 : ZX_ENOMEM;
}

static int make_loop(struct consumer *c)
{
	struct event_base *base = c->o.base;
	c->kev = event_new(base, c->kpipe[0], EV_READ | EV_PERSIST, consumer_on_kafka, c);
	c->tick = event_new(base, -1, EV_PERSIST, consumer_on_tick, c);
	struct timeval tv = {.tv_sec = (time_t)(c->o.commit_interval_ms / 1000),
	                     .tv_usec = (suseconds_t)(c->o.commit_interval_ms % 1000) * 1000};
	if (c->kev == NULL || c->tick == NULL || event_add(c->kev, NULL) != 0 ||
	    event_add(c->tick, &tv) != 0) {
		return ZX_ENOMEM;
	}
	event_active(c->kev, EV_READ, 0);
	return 0;
}

static int make_state(struct consumer *c)
{
	if (pipe2(c->kpipe, O_NONBLOCK | O_CLOEXEC) != 0) {
		return ZX_EIO;
	}
	c->ot = offtrack_new();
	c->hm = health_map_new();
	return c->ot == NULL || c->hm == NULL ? ZX_ENOMEM : 0;
}

int consumer_new(const struct consumer_opts *o, struct consumer **out, char *err, size_t errlen)
{
	const struct consumer_sink *k = &o->sink;
	if (o->cfg == NULL || o->base == NULL || o->up == NULL || o->m == NULL ||
	    o->commit_interval_ms == 0 || k->request == NULL || k->set_partitions == NULL ||
	    k->own == NULL || k->running_in == NULL || k->poll_outcomes == NULL ||
	    k->refresh_lost == NULL) {
		return ZX_EINVAL;
	}
	struct consumer *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		return ZX_ENOMEM;
	}
	c->o = *o;
	c->kpipe[0] = c->kpipe[1] = -1;
	int rc = make_state(c);
	if (rc == 0) {
		rc = register_metrics(c, o->m);
	}
	if (rc == 0) {
		rc = make_client(c, err, errlen);
	}
	if (rc == 0) {
		rc = make_loop(c);
	}
	if (rc == 0) {
		rc = consumer_watch_start(c);
	}
	if (rc != 0) {
		if (rc == ZX_ENOMEM || rc == ZX_EIO) {
			snprintf(err, errlen, "consumer setup: %s", zx_strerror(rc));
		}
		consumer_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

int consumer_close(struct consumer *c)
{
	if (c->closing || c->rk == NULL) {
		return 0;
	}
	c->closing = true;
	consumer_watch_stop(c); /* its probes use the client */
	/* Unsubscribe and let the revocation run to an empty assignment first: a
	 * close that meets an incremental assignment in flight can hang in
	 * librdkafka < 2.4 (confluentinc/librdkafka#4527, the workaround given there). */
	rd_kafka_resp_err_t e = rd_kafka_unsubscribe(c->rk);
	int64_t deadline = clock_mono_ms() + (int64_t)c->o.revoke_wait_ms + 10000;
	while (e == 0 && clock_mono_ms() < deadline) {
		rd_kafka_topic_partition_list_t *a = NULL;
		bool empty = rd_kafka_assignment(c->rk, &a) == 0 && a->cnt == 0;
		if (a != NULL) {
			rd_kafka_topic_partition_list_destroy(a);
		}
		if (empty) {
			break;
		}
		rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, 100);
		if (m != NULL) {
			rd_kafka_message_destroy(m); /* not ours to start now: the next owner reads it */
		}
	}
	e = rd_kafka_consumer_close(c->rk);
	if (e != 0) {
		log_warn("consumer_close_failed", "error=%s", rd_kafka_err2str(e));
		return ZX_EKAFKA;
	}
	return 0;
}

void consumer_free(struct consumer *c)
{
	if (c == NULL) {
		return;
	}
	if (c->kev != NULL) {
		event_free(c->kev);
	}
	if (c->tick != NULL) {
		event_free(c->tick);
	}
	consumer_watch_free(c); /* before the client it uses */
	if (c->q != NULL) {
		rd_kafka_queue_destroy(c->q);
	}
	if (c->rk != NULL) {
		rd_kafka_destroy(c->rk);
	}
	for (struct batch *b = c->batches, *n; b != NULL; b = n) {
		n = b->next;
		free(b->refs);
		free(b);
	}
	offtrack_free(c->ot);
	health_map_free(c->hm);
	free(c->pc);
	for (int i = 0; i < 2; i++) {
		if (c->kpipe[i] >= 0) {
			close(c->kpipe[i]);
		}
	}
	lagstats_free(c->lag); /* the scrape is over: opshttp went first */
	free(c);
}

