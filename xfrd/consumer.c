/* SPDX-License-Identifier: MIT */
/* xfrd/consumer.c -- consumer group, outcome hand-back, events, batched in-order commits.
 *
 *   kafka pipe --> drain_kafka --> on_message --> sched_request --start--> engine_request
 *   engine worker --> on_engine_done --> outcome queue, eventfd
 *   eventfd --> drain_outcomes --> on_outcome --> sched_finished --done--> batch refs
 *                                            `--> ZoneUpdated --delivered--> offtrack_done
 *   tick --> commit_async (offtrack_committable) --commit cb--> offtrack_committed
 */
#include "xfrd/consumer.h"

#include "common/cfg.h"
#include "common/dname.h"
#include "common/kafka.h"
#include "common/log.h"
#include "common/metrics.h"
#include "proto/events.h"
#include "xfrd/engine.h"
#include "xfrd/health.h"
#include "xfrd/offtrack.h"
#include "xfrd/refresh.h"
#include "xfrd/sched.h"
#include "xfrd/updates.h"

#include <event2/event.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define DRAIN_BATCH 500

/* Per configured zone (indexed like cfg->zones). */
struct zslot {
	int32_t partition; /* of its latest request; -1 none yet */
	bool running;      /* an engine request is out */
	bool announced;    /* an event for its stored serial went out since assignment */
};

/* An outcome handed from a worker thread to the loop. */
struct outcome {
	struct outcome *next;
	const struct cfg_zone *zone;
	struct xfr_result xfr;
};

/* The offsets one outcome finishes, held until its event is delivered. */
struct batch {
	struct updates_ticket t;
	struct consumer *c;
	struct batch *prev, *next; /* c->batches */
	struct sched_ref *refs;
	size_t n, cap;
	bool has_event;
	Zx__Events__ZoneUpdated ev;
	char primary[64];
	char error[200];
};

struct pcount {
	int64_t running; /* zones of the partition with a transfer out */
	int64_t pending; /* finished offsets waiting for their event's delivery */
};

struct consumer {
	struct consumer_opts o;
	rd_kafka_t *rk;
	rd_kafka_queue_t *q;
	int kpipe[2];
	int efd;
	struct event *kev, *oev, *tick;
	pthread_mutex_t mu;
	struct outcome *oq_head, *oq_tail;
	struct offtrack *ot;
	struct sched *s;
	struct health_map *hm;
	struct zslot *zs;
	struct pcount *pc;
	int32_t npc;
	int32_t partitions;
	const struct cfg_zone *cur_zone; /* sched callbacks: the zone being handled */
	struct batch *cur_batch;
	struct batch *batches;
	bool commit_inflight, ready, closing;
	int64_t last_scan;
	struct consumer_stats st;
	struct metrics_val *m_req[5], *m_invalid, *m_out[5], *m_commits, *m_commit_fail,
		*m_events, *m_event_fail, *m_rebal[3];
	struct metrics_hist *m_dur[4];
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t wall_us(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

static struct pcount *pc(struct consumer *c, int32_t p)
{
	static struct pcount none;
	if (p < 0) {
		none = (struct pcount){0};
		return &none;
	}
	if (p >= c->npc) {
		int32_t n = p + 16;
		struct pcount *v = realloc(c->pc, (size_t)n * sizeof(*v));
		if (v == NULL) {
			none = (struct pcount){0};
			return &none;
		}
		memset(v + c->npc, 0, (size_t)(n - c->npc) * sizeof(*v));
		c->pc = v;
		c->npc = n;
	}
	return &c->pc[p];
}

static struct zslot *slot_of(struct consumer *c, const struct cfg_zone *z)
{
	return &c->zs[z - c->o.cfg->zones];
}

/* ---- batches: finishing offsets after the event is stored --------------- */

static void batch_finish(struct batch *b)
{
	struct consumer *c = b->c;
	for (size_t i = 0; i < b->n; i++) {
		int rc = offtrack_done(c->ot, b->refs[i].partition, b->refs[i].offset);
		if (rc != 0 && rc != ZX_ENOENT) {
			log_warn("offset_done_failed", "partition=%d offset=%lld error=%s",
			         b->refs[i].partition, (long long)b->refs[i].offset, zx_strerror(rc));
		}
		pc(c, b->refs[i].partition)->pending--;
	}
	if (b->prev != NULL) {
		b->prev->next = b->next;
	} else {
		c->batches = b->next;
	}
	if (b->next != NULL) {
		b->next->prev = b->prev;
	}
	free(b->refs);
	free(b);
}

static void batch_send(struct batch *b);

static void batch_delivered(struct updates_ticket *t, int rc)
{
	struct batch *b = (struct batch *)t;
	if (rc == ZX_ESHUTDOWN) {
		return; /* purged at shutdown: the offsets stay unfinished (read again) */
	}
	if (rc != 0) {
		metrics_add(b->c->m_event_fail, 1);
		log_warn("zone_event_failed", "zone=%s error=%s action=resend", b->ev.zone,
		         zx_strerror(rc));
		batch_send(b);
		return;
	}
	metrics_add(b->c->m_events, 1);
	b->c->st.events++;
	batch_finish(b);
}

/* Produce the batch's event; on a local failure the tick tries again. */
static void batch_send(struct batch *b)
{
	b->has_event = true;
	int rc = updates_send_update(b->c->o.up, &b->ev, &b->t);
	if (rc != 0) {
		log_warn("zone_event_failed", "zone=%s error=%s action=retry", b->ev.zone,
		         zx_strerror(rc));
		b->t.done = NULL; /* marks "to resend" for the tick */
		return;
	}
	b->t.done = batch_delivered;
}

static void batch_add(void *ctx, const char *zone, struct sched_ref ref)
{
	(void)zone;
	struct consumer *c = ctx;
	struct batch *b = c->cur_batch;
	if (b == NULL) {
		return; /* not from on_outcome: cannot happen (sched calls done from finished) */
	}
	if (b->n == b->cap) {
		size_t cap = b->cap == 0 ? 4 : b->cap * 2;
		struct sched_ref *v = realloc(b->refs, cap * sizeof(*v));
		if (v == NULL) {
			log_error("offset_dropped", "partition=%d offset=%lld error=%s", ref.partition,
			          (long long)ref.offset, zx_strerror(ZX_ENOMEM));
			return; /* stays unfinished: read again after a restart */
		}
		b->refs = v;
		b->cap = cap;
	}
	b->refs[b->n++] = ref;
	pc(c, ref.partition)->pending++;
}

/* ---- engine hand-off ------------------------------------------------------ */

static void push_outcome(struct consumer *c, struct outcome *o)
{
	pthread_mutex_lock(&c->mu);
	if (c->oq_tail != NULL) {
		c->oq_tail->next = o;
	} else {
		c->oq_head = o;
	}
	c->oq_tail = o;
	pthread_mutex_unlock(&c->mu);
	uint64_t one = 1;
	ssize_t w = write(c->efd, &one, sizeof(one));
	(void)w;
}

/* Worker thread: copy the outcome and wake the loop. */
static void on_engine_done(void *arg, const struct engine_result *res)
{
	struct consumer *c = arg;
	struct outcome *o = calloc(1, sizeof(*o));
	if (o == NULL) {
		log_error("outcome_lost", "zone=%s error=%s", res->zone->name_text,
		          zx_strerror(ZX_ENOMEM));
		return;
	}
	o->zone = res->zone;
	o->xfr = res->xfr;
	push_outcome(c, o);
}

static void sched_start(void *ctx, const char *zone, bool force_axfr)
{
	(void)zone;
	struct consumer *c = ctx;
	const struct cfg_zone *z = c->cur_zone;
	struct zslot *zs = slot_of(c, z);
	zs->running = true;
	pc(c, zs->partition)->running++;
	int rc = engine_request(c->o.eng, z, force_axfr ? ENGINE_FORCE_AXFR : 0, on_engine_done, c);
	if (rc != 0) {
		struct outcome *o = calloc(1, sizeof(*o));
		if (o == NULL) {
			log_error("outcome_lost", "zone=%s error=%s", z->name_text, zx_strerror(rc));
			return;
		}
		o->zone = z;
		o->xfr.outcome = XFR_FAILED;
		o->xfr.error = rc;
		o->xfr.why = "engine request";
		push_outcome(c, o);
	}
}

static void sched_cancel(void *ctx, const char *zone)
{
	(void)ctx;
	log_info("revoked_running", "zone=%s action=wait", zone);
}

/* ---- outcomes ------------------------------------------------------------- */

static void count_outcome(struct consumer *c, const struct xfr_result *r)
{
	int k = r->outcome >= XFR_UPTODATE && r->outcome <= XFR_FAILED ? (int)r->outcome : 0;
	metrics_add(c->m_out[k], 1);
	double s = (double)r->duration_us / 1e6;
	int d = r->outcome == XFR_AXFR ? 0 : r->outcome == XFR_IXFR ? 1
	        : r->outcome == XFR_UPTODATE ? 2 : 3;
	metrics_observe(c->m_dur[d], s);
	c->st.outcomes++;
}

/* Fill the batch's event; false when the outcome needs none. */
static bool make_event(struct consumer *c, struct batch *b, const struct cfg_zone *z,
                       const struct xfr_result *r)
{
	struct zslot *zs = slot_of(c, z);
	Zx__Events__ZoneUpdated *ev = &b->ev;
	zx__events__zone_updated__init(ev);
	if (r->outcome == XFR_UPTODATE && (zs->announced || !r->had_zone)) {
		return false;
	}
	snprintf(b->primary, sizeof(b->primary), "%s", r->primary);
	ev->zone = (char *)z->name_text;
	ev->primary = b->primary;
	ev->replica = (char *)c->o.replica;
	ev->committed_us = wall_us();
	ev->duration_ms = (uint32_t)(r->duration_us / 1000);
	ev->error = (char *)"";
	ev->has_old_serial = r->had_zone;
	ev->old_serial = r->old_serial;
	ev->new_serial = r->old_serial;
	ev->kind = ZX__EVENTS__UPDATE_KIND__UPDATE_KIND_COMMITTED;
	ev->state = ZX__EVENTS__ZONE_STATE__ZONE_STATE_FRESH;
	ev->method = ZX__EVENTS__METHOD__METHOD_NONE;
	if (r->outcome == XFR_AXFR || r->outcome == XFR_IXFR) {
		ev->has_old_serial = r->commit.had_serial;
		ev->old_serial = r->commit.old_serial;
		ev->new_serial = r->commit.serial;
		ev->records = r->commit.records;
		ev->changes = r->outcome == XFR_AXFR ? r->commit.records : r->added + r->deleted;
		ev->method = r->outcome == XFR_AXFR ? ZX__EVENTS__METHOD__METHOD_AXFR
		                                    : ZX__EVENTS__METHOD__METHOD_IXFR;
	} else if (r->outcome == XFR_FAILED) {
		ev->kind = ZX__EVENTS__UPDATE_KIND__UPDATE_KIND_FAILED;
		ev->state = ZX__EVENTS__ZONE_STATE__ZONE_STATE_FAILED;
		snprintf(b->error, sizeof(b->error), "%s: %s", r->why != NULL ? r->why : "transfer",
		         zx_strerror(r->error));
		ev->error = b->error;
	}
	zs->announced = r->outcome != XFR_FAILED || zs->announced;
	return true;
}

static void on_outcome(struct consumer *c, struct outcome *o)
{
	const struct cfg_zone *z = o->zone;
	const struct xfr_result *r = &o->xfr;
	struct zslot *zs = slot_of(c, z);
	zs->running = false;
	pc(c, zs->partition)->running--;
	count_outcome(c, r);
	if (c->o.rf != NULL) {
		refresh_outcome(c->o.rf, z);
	}
	struct batch *b = calloc(1, sizeof(*b));
	if (b == NULL) {
		log_error("outcome_lost", "zone=%s error=%s", z->name_text, zx_strerror(ZX_ENOMEM));
		return; /* its offsets stay unfinished; the sched entry stays running */
	}
	b->c = c;
	b->next = c->batches;
	if (c->batches != NULL) {
		c->batches->prev = b;
	}
	c->batches = b;
	bool has = r->outcome == XFR_AXFR || r->outcome == XFR_IXFR || r->had_zone;
	uint32_t serial = r->outcome == XFR_AXFR || r->outcome == XFR_IXFR ? r->commit.serial
	                                                                   : r->old_serial;
	c->cur_zone = z;
	c->cur_batch = b;
	if (sched_finished(c->s, z->name_text, has, serial) != 0) {
		log_warn("outcome_unexpected", "zone=%s", z->name_text);
	}
	c->cur_batch = NULL;
	if (make_event(c, b, z, r)) {
		batch_send(b);
	} else {
		batch_finish(b);
	}
}

static void drain_outcomes(struct consumer *c)
{
	uint64_t v;
	ssize_t n = read(c->efd, &v, sizeof(v));
	(void)n;
	pthread_mutex_lock(&c->mu);
	struct outcome *o = c->oq_head;
	c->oq_head = c->oq_tail = NULL;
	pthread_mutex_unlock(&c->mu);
	while (o != NULL) {
		struct outcome *next = o->next;
		on_outcome(c, o);
		free(o);
		o = next;
	}
}

static void on_outcome_ev(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	drain_outcomes(arg);
}

/* ---- messages ------------------------------------------------------------- */

static const struct cfg_zone *zone_of(struct consumer *c, const char *text)
{
	uint8_t w[DNAME_MAXLEN];
	if (text == NULL || dname_from_text(text, w) <= 0) {
		return NULL;
	}
	return cfg_zone_find(c->o.cfg, w);
}

/* A request that needs no transfer (unreadable, unknown zone): finished at once. */
static void skip(struct consumer *c, int32_t p, int64_t off, const char *why)
{
	log_warn("request_skipped", "partition=%d offset=%lld why=%s", p, (long long)off, why);
	c->st.invalid++;
	metrics_add(c->m_invalid, 1);
	int rc = offtrack_done(c->ot, p, off);
	if (rc != 0) {
		log_warn("offset_done_failed", "partition=%d offset=%lld error=%s", p, (long long)off,
		         zx_strerror(rc));
	}
}

static void on_message(struct consumer *c, const rd_kafka_message_t *m)
{
	int32_t p = m->partition;
	int64_t off = m->offset;
	int rc = offtrack_read(c->ot, p, off);
	if (rc != 0) {
		log_warn("offset_read_refused", "partition=%d offset=%lld error=%s", p,
		         (long long)off, zx_strerror(rc));
		return;
	}
	c->st.read++;
	Zx__Events__TransferRequest *req = NULL;
	if (events_request_unpack(m->payload, m->len, &req) != 0) {
		skip(c, p, off, "unreadable");
		return;
	}
	const struct cfg_zone *z = zone_of(c, req->zone);
	if (z == NULL || z->primaries.count == 0) {
		skip(c, p, off, "unknown_zone");
		events_request_free(req);
		return;
	}
	int origin = req->origin >= 0 && req->origin <= 4 ? (int)req->origin : 0;
	metrics_add(c->m_req[origin], 1);
	struct zslot *zs = slot_of(c, z);
	zs->partition = p;
	c->cur_zone = z;
	rc = sched_request(c->s, z->name_text, (struct sched_ref){p, off}, req->has_serial,
	                   req->serial, req->origin == ZX__EVENTS__ORIGIN__ORIGIN_RETRANSFER);
	if (rc != 0) {
		log_error("request_dropped", "zone=%s partition=%d offset=%lld error=%s",
		          z->name_text, p, (long long)off, zx_strerror(rc));
	}
	log_info("request_read", "zone=%s partition=%d offset=%lld origin=%d serial=%u",
	         z->name_text, p, (long long)off, origin, req->has_serial ? req->serial : 0);
	events_request_free(req);
}

static void drain_kafka(struct consumer *c)
{
	char buf[64];
	while (read(c->kpipe[0], buf, sizeof(buf)) > 0) {
	}
	for (int n = 0; n < DRAIN_BATCH; n++) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, 0);
		if (m == NULL) {
			return;
		}
		if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
			on_message(c, m);
		} else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			log_warn("kafka_consume_error", "error=%s", rd_kafka_message_errstr(m));
		}
		rd_kafka_message_destroy(m);
	}
	event_active(c->kev, EV_READ, 0); /* more queued: continue after other events */
}

static void on_kafka_ev(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	drain_kafka(arg);
}

/* ---- commits -------------------------------------------------------------- */

static void note_committed(struct consumer *c, int32_t p, int64_t off)
{
	if (off > offtrack_last_committed(c->ot, p) && offtrack_committed(c->ot, p, off) == 0 &&
	    health_map_committed(c->hm, p, off, mono_ms()) != 0) {
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
			log_warn("commit_failed", "partition=%d offset=%lld error=%s", tp->partition,
			         (long long)tp->offset, rd_kafka_err2str(err != 0 ? err : tp->err));
		}
	}
}

/* The committable positions of the partitions in @p only (all when NULL). */
static rd_kafka_topic_partition_list_t *
committable(struct consumer *c, const rd_kafka_topic_partition_list_t *only)
{
	int32_t parts[1024];
	size_t n = offtrack_partitions(c->ot, parts, 1024);
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)n + 1);
	for (size_t i = 0; l != NULL && i < n; i++) {
		if (only != NULL && rd_kafka_topic_partition_list_find(
		                            only, c->o.cfg->kafka.requests_topic, parts[i]) == NULL) {
			continue;
		}
		int64_t pos = offtrack_committable(c->ot, parts[i]);
		if (pos >= 0 && pos > offtrack_last_committed(c->ot, parts[i])) {
			rd_kafka_topic_partition_list_add(l, c->o.cfg->kafka.requests_topic, parts[i])
				->offset = pos;
		}
	}
	if (l != NULL && l->cnt == 0) {
		rd_kafka_topic_partition_list_destroy(l);
		l = NULL;
	}
	return l;
}

static void commit_async(struct consumer *c)
{
	if (c->commit_inflight) {
		return;
	}
	rd_kafka_topic_partition_list_t *l = committable(c, NULL);
	if (l == NULL) {
		return;
	}
	rd_kafka_resp_err_t e = rd_kafka_commit(c->rk, l, 1);
	if (e != 0) {
		log_warn("commit_failed", "error=%s", rd_kafka_err2str(e));
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
			log_warn("commit_failed", "partition=%d offset=%lld error=%s", tp->partition,
			         (long long)tp->offset, rd_kafka_err2str(e != 0 ? e : tp->err));
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
		if (c->o.rf != NULL) {
			refresh_set_partition_count(c->o.rf, c->partitions);
		}
	}
	int64_t now = mono_ms();
	for (int i = 0; i < l->cnt; i++) {
		int32_t p = l->elems[i].partition;
		int rc = offtrack_assign(c->ot, p, -1);
		if (rc == 0) {
			rc = health_map_assign(c->hm, p, now);
		}
		if (rc != 0 && rc != ZX_EEXIST) {
			log_error("assign_failed", "partition=%d error=%s", p, zx_strerror(rc));
		}
		if (c->o.rf != NULL) {
			refresh_own(c->o.rf, p, true);
		}
		log_info("partition_assigned", "partition=%d", p);
	}
	c->st.assigned += (uint64_t)l->cnt;
	metrics_add(c->m_rebal[0], 1);
}

static bool revoked_busy(struct consumer *c, const rd_kafka_topic_partition_list_t *l)
{
	for (int i = 0; i < l->cnt; i++) {
		const struct pcount *n = pc(c, l->elems[i].partition);
		if (n->running > 0 || n->pending > 0) {
			return true;
		}
	}
	return false;
}

/* Run the outcome path until no zone of @p l transfers and their events are out. */
static void wait_revoked(struct consumer *c, const rd_kafka_topic_partition_list_t *l)
{
	int64_t deadline = mono_ms() + (int64_t)c->o.revoke_wait_ms;
	while (revoked_busy(c, l)) {
		if (mono_ms() >= deadline) {
			log_warn("revoke_wait_timeout", "waited_ms=%llu",
			         (unsigned long long)c->o.revoke_wait_ms);
			return;
		}
		struct pollfd pfd = {.fd = c->efd, .events = POLLIN};
		(void)poll(&pfd, 1, 5);
		drain_outcomes(c);
		updates_poll(c->o.up, 0);
	}
}

static void on_revoke(struct consumer *c, const rd_kafka_topic_partition_list_t *l, bool lost)
{
	for (int i = 0; i < l->cnt; i++) {
		sched_drop_partition(c->s, l->elems[i].partition);
		if (c->o.rf != NULL) {
			refresh_own(c->o.rf, l->elems[i].partition, false);
		}
	}
	if (!lost) {
		wait_revoked(c, l);
		commit_sync(c, l);
	}
	for (int i = 0; i < l->cnt; i++) {
		int32_t p = l->elems[i].partition;
		if (offtrack_revoke(c->ot, p, NULL) != 0 || health_map_revoke(c->hm, p) != 0) {
			log_warn("revoke_unknown", "partition=%d", p);
		}
		for (size_t k = 0; k < c->o.cfg->zone_count; k++) {
			if (c->zs[k].partition == p) {
				c->zs[k].announced = false;
			}
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
		if (coop) {
			e = rd_kafka_incremental_assign(rk, parts);
		} else {
			(void)rd_kafka_assign(rk, parts);
		}
		c->ready = true;
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
	int64_t lo = 0, hi = -1;
	if (rd_kafka_get_watermark_offsets(c->rk, c->o.cfg->kafka.requests_topic, p, &lo, &hi) != 0 ||
	    hi < 0) {
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
	rd_kafka_topic_partition_list_add(l, c->o.cfg->kafka.requests_topic, p);
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

int consumer_live(struct consumer *c, char *why, size_t whylen)
{
	return health_map_check(c->hm, mono_ms(), c->o.cfg->xfrd.health_commit_stall_ms, lag_of, c,
	                        why, whylen);
}

bool consumer_ready(const struct consumer *c)
{
	return c->ready && !c->closing;
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

static double g_running(void *arg)
{
	return (double)sched_running(((struct consumer *)arg)->s);
}

static double g_scheduled(void *arg)
{
	return (double)sched_scheduled(((struct consumer *)arg)->s);
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

/* ---- tick ----------------------------------------------------------------- */

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct consumer *c = arg;
	drain_outcomes(c);
	for (struct batch *b = c->batches; b != NULL; b = b->next) {
		if (b->has_event && b->t.done == NULL) {
			batch_send(b);
		}
	}
	commit_async(c);
	int64_t now = (int64_t)time(NULL);
	if (c->o.rf != NULL && now != c->last_scan && c->ready) {
		c->last_scan = now;
		(void)refresh_scan(c->o.rf, now);
	}
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
	NULL,
};

static void klog_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	char q[1024];
	enum log_level lvl = level <= 3 ? LOG_LVL_ERROR : level <= 4 ? LOG_LVL_WARN
	                     : level <= 6 ? LOG_LVL_INFO : LOG_LVL_DEBUG;
	log_write(lvl, "rdkafka", "client=consumer facility=%s msg=%s", fac,
	          log_quote(buf, q, sizeof(q)));
}

static void kerror_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	(void)rk;
	(void)opaque;
	char q[512];
	log_warn("kafka_error", "error=%s reason=%s", rd_kafka_err2name((rd_kafka_resp_err_t)err),
	         log_quote(reason, q, sizeof(q)));
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
	rd_kafka_conf_set_log_cb(conf, klog_cb);
	rd_kafka_conf_set_error_cb(conf, kerror_cb);
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
	static const char *const origins[5] = {"unspecified", "notify", "refresh", "operator",
	                                       "retransfer"};
	static const char *const outs[5] = {"unknown", "uptodate", "axfr", "ixfr", "failed"};
	static const char *const methods[4] = {"axfr", "ixfr", "soa", "failed"};
	static const double bounds[] = {0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5,
	                                1, 2, 5, 10, 30, 60};
	char l[64];
	bool ok = true;
	for (int i = 0; i < 5; i++) {
		snprintf(l, sizeof(l), "origin=\"%s\"", origins[i]);
		ok &= (c->m_req[i] = metrics_counter(m, "xfrd_requests_total", l,
		                                     "transfer requests read from Kafka")) != NULL;
		snprintf(l, sizeof(l), "outcome=\"%s\"", outs[i]);
		ok &= (c->m_out[i] = metrics_counter(m, "xfrd_transfer_outcomes_total", l,
		                                     "refresh outcomes")) != NULL;
	}
	for (int i = 0; i < 4; i++) {
		snprintf(l, sizeof(l), "method=\"%s\"", methods[i]);
		ok &= (c->m_dur[i] = metrics_histogram(m, "xfrd_transfer_duration_seconds", l,
		                                       "refresh duration by method", bounds,
		                                       sizeof(bounds) / sizeof(bounds[0]))) != NULL;
	}
	static const char *const kinds[3] = {"assign", "revoke", "lost"};
	for (int i = 0; i < 3; i++) {
		snprintf(l, sizeof(l), "kind=\"%s\"", kinds[i]);
		ok &= (c->m_rebal[i] = metrics_counter(m, "xfrd_rebalances_total", l,
		                                       "rebalance callbacks")) != NULL;
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
	ok &= metrics_gauge_cb(m, "xfrd_transfers_running", NULL, "zones with a refresh running",
	                       g_running, c) == 0;
	ok &= metrics_gauge_cb(m, "xfrd_transfers_scheduled", NULL,
	                       "zones with a refresh scheduled after the running one",
	                       g_scheduled, c) == 0;
	ok &= metrics_gauge_cb(m, "xfrd_partitions_assigned", NULL, "partitions owned",
	                       g_partitions, c) == 0;
	ok &= metrics_gauge_cb(m, "xfrd_offsets_in_flight", NULL, "requests read, not finished",
	                       g_inflight, c) == 0;
	return ok ? 0 : ZX_ENOMEM;
}

static int make_loop(struct consumer *c)
{
	struct event_base *base = c->o.base;
	c->kev = event_new(base, c->kpipe[0], EV_READ | EV_PERSIST, on_kafka_ev, c);
	c->oev = event_new(base, c->efd, EV_READ | EV_PERSIST, on_outcome_ev, c);
	c->tick = event_new(base, -1, EV_PERSIST, on_tick, c);
	struct timeval tv = {.tv_sec = (time_t)(c->o.commit_interval_ms / 1000),
	                     .tv_usec = (suseconds_t)(c->o.commit_interval_ms % 1000) * 1000};
	if (c->kev == NULL || c->oev == NULL || c->tick == NULL || event_add(c->kev, NULL) != 0 ||
	    event_add(c->oev, NULL) != 0 || event_add(c->tick, &tv) != 0) {
		return ZX_ENOMEM;
	}
	event_active(c->kev, EV_READ, 0);
	return 0;
}

static int make_state(struct consumer *c)
{
	const struct cfg *cfg = c->o.cfg;
	if (pipe2(c->kpipe, O_NONBLOCK | O_CLOEXEC) != 0) {
		return ZX_EIO;
	}
	c->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (c->efd < 0) {
		return ZX_EIO;
	}
	c->ot = offtrack_new();
	c->s = sched_new(sched_start, batch_add, sched_cancel, c);
	c->hm = health_map_new();
	c->zs = calloc(cfg->zone_count > 0 ? cfg->zone_count : 1, sizeof(*c->zs));
	if (c->ot == NULL || c->s == NULL || c->hm == NULL || c->zs == NULL) {
		return ZX_ENOMEM;
	}
	for (size_t i = 0; i < cfg->zone_count; i++) {
		c->zs[i].partition = -1;
	}
	return 0;
}

int consumer_new(const struct consumer_opts *o, struct consumer **out, char *err, size_t errlen)
{
	if (o->cfg == NULL || o->base == NULL || o->eng == NULL || o->up == NULL || o->m == NULL ||
	    o->commit_interval_ms == 0) {
		return ZX_EINVAL;
	}
	struct consumer *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		return ZX_ENOMEM;
	}
	c->o = *o;
	c->kpipe[0] = c->kpipe[1] = c->efd = -1;
	pthread_mutex_init(&c->mu, NULL);
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
	rd_kafka_resp_err_t e = rd_kafka_consumer_close(c->rk);
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
	if (c->oev != NULL) {
		event_free(c->oev);
	}
	if (c->tick != NULL) {
		event_free(c->tick);
	}
	if (c->q != NULL) {
		rd_kafka_queue_destroy(c->q);
	}
	if (c->rk != NULL) {
		rd_kafka_destroy(c->rk);
	}
	for (struct outcome *o = c->oq_head, *n; o != NULL; o = n) {
		n = o->next;
		free(o);
	}
	for (struct batch *b = c->batches, *n; b != NULL; b = n) {
		n = b->next;
		free(b->refs);
		free(b);
	}
	offtrack_free(c->ot);
	sched_free(c->s);
	health_map_free(c->hm);
	free(c->zs);
	free(c->pc);
	for (int i = 0; i < 2; i++) {
		if (c->kpipe[i] >= 0) {
			close(c->kpipe[i]);
		}
	}
	if (c->efd >= 0) {
		close(c->efd);
	}
	pthread_mutex_destroy(&c->mu);
	free(c);
}
