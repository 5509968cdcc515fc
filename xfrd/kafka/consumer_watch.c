/* SPDX-License-Identifier: MIT */
/* xfrd/kafka/consumer_watch.c -- is Kafka reachable, and who in the group holds what.
 *
 * The consumer's clients say little about the broker: with every broker down they
 * retry quietly, an idle consumer sends nothing we see, and a delivery failure comes
 * back only after message.timeout.ms. So a thread of its own asks a broker for the
 * requests topic's metadata every CONSUMER_WATCH_INTERVAL_MS (one small request;
 * rd_kafka_metadata() blocks, hence the thread) and, while the loop wants it (this
 * replica was assigned no partition), describes the consumer group
 * (DescribeConsumerGroups: its state and each member's partitions). The loop reads
 * the results (consumer_watch_tick(), under the watch's mutex) and decides: Kafka is
 * unreachable once no probe succeeded for CONSUMER_KAFKA_DOWN_MS and the last one
 * failed; that is logged once (kafka_unreachable, naming the brokers), and once more
 * when a probe succeeds again (kafka_reachable, with the outage's length).
 *
 *   watch thread: metadata probe --+-- describe group (when wanted) --> w (mutex)
 *   loop (tick):  w --> c->kafka_down (log on each change), readiness, liveness hold
 *
 * Threading: the thread touches only struct cwatch (under its mutex), the rdkafka
 * handle (thread-safe) and the config (read-only); everything else is the loop's.
 */
#include "xfrd/kafka/consumer_internal.h"

#include "common/cfg/cfg.h"
#include "common/clock.h"
#include "common/log.h"
#include "xfrd/kafka/health.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/** What the thread found, as the loop reads it. */
struct cwatch_state {
	bool probed;             /* a probe finished since the start */
	bool ok;                 /* the last probe got an answer */
	int64_t last_ok_ms;      /* monotonic time of the last answer; 0 never */
	char err[200];           /* the last failure's words */
	int32_t topic_partitions; /* from the last answer; 0 unknown */
	/* the group, described for generation gen (see consumer_watch_rebalanced()) */
	uint64_t group_gen;
	bool group_known, group_stable;
	int32_t members, held_by_others;
};

struct cwatch {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool started, stop;
	bool want_group; /* the loop asks for the group's description */
	uint64_t gen;    /* rebalances seen by the loop: older descriptions are stale */
	int64_t start_ms;
	struct cwatch_state s;
	/* the thread's own */
	rd_kafka_t *rk;
	rd_kafka_topic_t *rkt;
	const char *topic, *group;
};

/* ---- the thread ------------------------------------------------------------ */

static void probe(struct cwatch *w, struct cwatch_state *out)
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_resp_err_t e = rd_kafka_metadata(w->rk, 0, w->rkt, &md, CONSUMER_WATCH_TIMEOUT_MS);
	out->ok = e == RD_KAFKA_RESP_ERR_NO_ERROR;
	out->topic_partitions = 0;
	if (out->ok) {
		if (md->topic_cnt == 1 && md->topics[0].err == 0) {
			out->topic_partitions = md->topics[0].partition_cnt;
		}
		rd_kafka_metadata_destroy(md);
	} else {
		snprintf(out->err, sizeof(out->err), "%s", rd_kafka_err2str(e));
	}
}

/* The partitions of our topic held by members other than @p me; -1 on a bad list. */
static int32_t held_by(const rd_kafka_ConsumerGroupDescription_t *g, const char *me,
                       const char *topic, int32_t parts)
{
	if (parts <= 0 || parts > 65536) {
		return -1;
	}
	bool *seen = calloc((size_t)parts, sizeof(*seen));
	if (seen == NULL) {
		return -1;
	}
	int32_t n = 0;
	size_t members = rd_kafka_ConsumerGroupDescription_member_count(g);
	for (size_t i = 0; i < members; i++) {
		const rd_kafka_MemberDescription_t *m = rd_kafka_ConsumerGroupDescription_member(g, i);
		const char *id = rd_kafka_MemberDescription_consumer_id(m);
		if (me != NULL && id != NULL && strcmp(id, me) == 0) {
			continue;
		}
		const rd_kafka_topic_partition_list_t *l =
			rd_kafka_MemberAssignment_partitions(rd_kafka_MemberDescription_assignment(m));
		for (int j = 0; l != NULL && j < l->cnt; j++) {
			int32_t p = l->elems[j].partition;
			if (strcmp(l->elems[j].topic, topic) == 0 && p >= 0 && p < parts && !seen[p]) {
				seen[p] = true;
				n++;
			}
		}
	}
	free(seen);
	return n;
}

/* Describe the group (blocking, on the thread): state, members, what the others hold. */
static void describe(struct cwatch *w, struct cwatch_state *out)
{
	char errstr[256];
	rd_kafka_queue_t *q = rd_kafka_queue_new(w->rk);
	rd_kafka_AdminOptions_t *ao =
		rd_kafka_AdminOptions_new(w->rk, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
	out->group_known = false;
	if (q == NULL || ao == NULL ||
	    rd_kafka_AdminOptions_set_request_timeout(ao, CONSUMER_WATCH_TIMEOUT_MS, errstr,
	                                              sizeof(errstr)) != 0) {
		goto done;
	}
	const char *groups[1] = {w->group};
	rd_kafka_DescribeConsumerGroups(w->rk, groups, 1, ao, q);
	rd_kafka_event_t *ev = rd_kafka_queue_poll(q, CONSUMER_WATCH_TIMEOUT_MS + 1000);
	const rd_kafka_DescribeConsumerGroups_result_t *res =
		ev != NULL && rd_kafka_event_error(ev) == 0
			? rd_kafka_event_DescribeConsumerGroups_result(ev)
			: NULL;
	size_t n = 0;
	const rd_kafka_ConsumerGroupDescription_t **gs =
		res != NULL ? rd_kafka_DescribeConsumerGroups_result_groups(res, &n) : NULL;
	if (gs != NULL && n == 1 && rd_kafka_ConsumerGroupDescription_error(gs[0]) == NULL) {
		char *me = rd_kafka_memberid(w->rk);
		int32_t held = held_by(gs[0], me, w->topic, out->topic_partitions);
		if (me != NULL) {
			rd_kafka_mem_free(w->rk, me);
		}
		out->group_stable = rd_kafka_ConsumerGroupDescription_state(gs[0]) ==
		                    RD_KAFKA_CONSUMER_GROUP_STATE_STABLE;
		out->members = (int32_t)rd_kafka_ConsumerGroupDescription_member_count(gs[0]);
		out->held_by_others = held;
		out->group_known = held >= 0;
	}
	if (ev != NULL) {
		rd_kafka_event_destroy(ev);
	}
done:
	if (ao != NULL) {
		rd_kafka_AdminOptions_destroy(ao);
	}
	if (q != NULL) {
		rd_kafka_queue_destroy(q);
	}
}

static void *watch_main(void *arg)
{
	struct cwatch *w = arg;
	pthread_mutex_lock(&w->mu);
	while (!w->stop) {
		struct cwatch_state s = w->s;
		bool want = w->want_group;
		uint64_t gen = w->gen;
		pthread_mutex_unlock(&w->mu);

		probe(w, &s);
		if (s.ok && want) {
			describe(w, &s);
		}
		int64_t now = clock_mono_ms();

		pthread_mutex_lock(&w->mu);
		w->s.probed = true;
		w->s.ok = s.ok;
		if (s.ok) {
			w->s.last_ok_ms = now;
			w->s.topic_partitions = s.topic_partitions;
		} else {
			memcpy(w->s.err, s.err, sizeof(s.err));
		}
		if (s.ok && want && gen == w->gen) { /* not stale: no rebalance meanwhile */
			w->s.group_gen = gen;
			w->s.group_known = s.group_known;
			w->s.group_stable = s.group_stable;
			w->s.members = s.members;
			w->s.held_by_others = s.held_by_others;
		}
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += CONSUMER_WATCH_INTERVAL_MS / 1000;
		ts.tv_nsec += (long)(CONSUMER_WATCH_INTERVAL_MS % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		while (!w->stop && pthread_cond_timedwait(&w->cv, &w->mu, &ts) != ETIMEDOUT) {
		}
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* ---- the loop's side ------------------------------------------------------- */

int consumer_watch_start(struct consumer *c)
{
	struct cwatch *w = calloc(1, sizeof(*w));
	if (w == NULL) {
		return ZX_ENOMEM;
	}
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	w->rk = c->rk;
	w->topic = c->o.cfg->kafka.requests_topic;
	w->group = c->o.cfg->kafka.group;
	w->start_ms = clock_mono_ms();
	w->rkt = rd_kafka_topic_new(c->rk, w->topic, NULL);
	c->w = w;
	if (w->rkt == NULL || pthread_create(&w->th, NULL, watch_main, w) != 0) {
		return ZX_ENOMEM;
	}
	w->started = true;
	return 0;
}

void consumer_watch_stop(struct consumer *c)
{
	struct cwatch *w = c->w;
	if (w == NULL) {
		return;
	}
	if (w->started) {
		pthread_mutex_lock(&w->mu);
		w->stop = true;
		pthread_cond_signal(&w->cv);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->th, NULL); /* at most one probe's timeout */
		w->started = false;
	}
	if (w->rkt != NULL) {
		rd_kafka_topic_destroy(w->rkt);
		w->rkt = NULL;
	}
}

void consumer_watch_free(struct consumer *c)
{
	if (c->w == NULL) {
		return;
	}
	consumer_watch_stop(c);
	pthread_mutex_destroy(&c->w->mu);
	pthread_cond_destroy(&c->w->cv);
	free(c->w);
	c->w = NULL;
}

void consumer_watch_rebalanced(struct consumer *c)
{
	if (c->w == NULL) {
		return;
	}
	pthread_mutex_lock(&c->w->mu);
	c->w->gen++;
	c->w->s.group_known = false;
	pthread_mutex_unlock(&c->w->mu);
}

static void went_down(struct consumer *c, const struct cwatch_state *s, int64_t since)
{
	char q[256];
	c->kafka_down = true;
	c->down_since_ms = since;
	c->down_refresh_failed = c->st.refresh_failed;
	snprintf(c->kafka_why, sizeof(c->kafka_why), "brokers %s: %s", c->o.cfg->kafka.brokers,
	         s->err);
	log_error("kafka_unreachable", "brokers=%s error=%s for_s=%lld requests_topic=%s "
	          "group=%s hint=\"refreshes due meanwhile are counted, logged at debug and "
	          "shown overdue until Kafka is back\"", c->o.cfg->kafka.brokers,
	          log_quote(s->err, q, sizeof(q)), (long long)((clock_mono_ms() - since) / 1000),
	          c->o.cfg->kafka.requests_topic, c->o.cfg->kafka.group);
}

static void came_back(struct consumer *c, int64_t now)
{
	c->kafka_down = false;
	log_warn("kafka_reachable", "brokers=%s outage_s=%.1f refresh_requests_failed=%llu",
	         c->o.cfg->kafka.brokers, (double)(now - c->down_since_ms) / 1000.0,
	         (unsigned long long)(c->st.refresh_failed - c->down_refresh_failed));
}

void consumer_watch_tick(struct consumer *c)
{
	struct cwatch *w = c->w;
	if (w == NULL) {
		return;
	}
	struct cwatch_state s;
	bool want = c->ready_in.assigned && !c->ready_in.lost && health_map_size(c->hm) == 0 && !c->closing;
	pthread_mutex_lock(&w->mu);
	w->want_group = want;
	s = w->s;
	uint64_t gen = w->gen;
	pthread_mutex_unlock(&w->mu);
	int64_t now = clock_mono_ms();
	if (s.probed) {
		int64_t since = s.last_ok_ms != 0 ? s.last_ok_ms : w->start_ms;
		if (!c->kafka_down && !s.ok && now - since >= CONSUMER_KAFKA_DOWN_MS) {
			went_down(c, &s, since);
		} else if (c->kafka_down && s.ok) {
			came_back(c, now);
		}
	}
	c->ready_in.topic_partitions = s.topic_partitions > 0 ? s.topic_partitions : c->partitions;
	c->ready_in.group_known = s.group_known && s.group_gen == gen;
	c->ready_in.group_stable = s.group_stable;
	c->ready_in.members = s.members;
	c->ready_in.held_by_others = s.held_by_others;
}
