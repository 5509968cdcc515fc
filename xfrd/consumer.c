/* SPDX-License-Identifier: MIT */
/* xfrd/consumer.c -- the consumer's data path: requests in, outcomes back, events out.
 * (The Kafka group side -- commits, rebalance, liveness, setup -- is consumer_group.c.)
 *
 *   kafka pipe --> drain_kafka --> on_message --> sched_request --start--> engine_request
 *   engine worker --> on_engine_done --> outcome queue, eventfd
 *   eventfd --> drain_outcomes --> on_outcome --> sched_finished --done--> batch refs
 *                                            `--> ZoneUpdated --delivered--> offtrack_done
 *   tick --> commit_async (offtrack_committable) --commit cb--> offtrack_committed
 */
#include "xfrd/consumer_internal.h"

#include "common/cfg.h"
#include "common/dname.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/serial.h"
#include "proto/events.h"
#include "xfrd/engine.h"
#include "xfrd/health.h"
#include "xfrd/notifier.h"
#include "xfrd/offtrack.h"
#include "xfrd/refresh.h"
#include "xfrd/sched.h"
#include "xfrd/updates.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

int64_t consumer_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t consumer_wall_us(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

struct pcount *consumer_pc(struct consumer *c, int32_t p)
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

struct zslot *consumer_slot(struct consumer *c, const struct cfg_zone *z)
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
			         b->refs[i].partition, (long long)b->refs[i].offset,
			         zx_strerror(rc));
		}
		consumer_pc(c, b->refs[i].partition)->pending--;
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
		consumer_batch_send(b);
		return;
	}
	metrics_add(b->c->m_events, 1);
	b->c->st.events++;
	batch_finish(b);
}

/* Produce the batch's event; on a local failure the tick tries again. */
void consumer_batch_send(struct batch *b)
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

void consumer_batch_add(void *ctx, const char *zone, struct sched_ref ref)
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
			log_error("offset_dropped", "partition=%d offset=%lld error=%s",
			          ref.partition, (long long)ref.offset, zx_strerror(ZX_ENOMEM));
			return; /* stays unfinished: read again after a restart */
		}
		b->refs = v;
		b->cap = cap;
	}
	b->refs[b->n++] = ref;
	consumer_pc(c, ref.partition)->pending++;
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

void consumer_sched_start(void *ctx, const char *zone, unsigned force)
{
	(void)zone;
	struct consumer *c = ctx;
	const struct cfg_zone *z = c->cur_zone;
	struct zslot *zs = consumer_slot(c, z);
	zs->running = true;
	consumer_pc(c, zs->partition)->running++;
	int rc = engine_request(c->o.eng, z, force, on_engine_done, c);
	if (rc != 0) {
		struct outcome *o = calloc(1, sizeof(*o));
		if (o == NULL) {
			log_error("outcome_lost", "zone=%s error=%s", z->name_text,
			          zx_strerror(rc));
			return;
		}
		o->zone = z;
		o->xfr.outcome = XFR_FAILED;
		o->xfr.error = rc;
		o->xfr.why = "engine request";
		push_outcome(c, o);
	}
}

void consumer_sched_cancel(void *ctx, const char *zone)
{
	(void)ctx;
	log_info("revoked_running", "zone=%s action=wait", zone);
}

/* ---- outcomes ------------------------------------------------------------- */

static void count_outcome(struct consumer *c, const struct xfr_result *r)
{
	int k = r->outcome >= XFR_UPTODATE && r->outcome <= XFR_FAILED ? (int)r->outcome : 0;
	metrics_add(c->m_out[k], 1);
	if (r->outcome == XFR_FAILED && r->error == ZX_ESERIAL) {
		metrics_add(c->m_refused_serial, 1);
	}
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
	struct zslot *zs = consumer_slot(c, z);
	Zx__Events__ZoneUpdated *ev = &b->ev;
	zx__events__zone_updated__init(ev);
	if (r->outcome == XFR_UPTODATE && (zs->announced || !r->had_zone)) {
		return false;
	}
	snprintf(b->primary, sizeof(b->primary), "%s", r->primary);
	ev->zone = (char *)z->name_text;
	ev->primary = b->primary;
	ev->replica = (char *)c->o.replica;
	ev->committed_us = consumer_wall_us();
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
		char text[sizeof(b->error) - 64];
		engine_error_text(r, text, sizeof(text));
		snprintf(b->error, sizeof(b->error), "%s (%s)", text, zx_strerror(r->error));
		ev->error = b->error;
	}
	zs->announced = r->outcome != XFR_FAILED || zs->announced;
	return true;
}

/* The primary answered an older serial than a NOTIFY announced: one more look
 * after the zone's shortest retry (the requests themselves are finished: "found
 * up to date"). */
static void recheck(struct consumer *c, const struct cfg_zone *z, const struct xfr_result *r)
{
	struct zslot *zs = consumer_slot(c, z);
	uint32_t held = r->outcome == XFR_AXFR || r->outcome == XFR_IXFR ? r->commit.serial
	                                                                 : r->old_serial;
	bool behind = r->outcome == XFR_UPTODATE && zs->has_hint && serial_newer(zs->hint, held);
	if (behind && c->o.rf != NULL) {
		int64_t delay = (int64_t)((z->retry.min_ms + 999) / 1000);
		log_info("notify_serial_ahead", "zone=%s notified=%u primary=%u recheck_in_s=%lld",
		         z->name_text, zs->hint, held, (long long)delay);
		refresh_recheck(c->o.rf, z, (int64_t)time(NULL) + delay);
	}
	/* kept while a transfer or a failure left it ahead: a scheduled run or the
	 * retry timer follows, and its outcome decides */
	if (behind || r->outcome == XFR_UPTODATE || !serial_newer(zs->hint, held)) {
		zs->has_hint = false;
	}
}

/* Downstream secondaries (zone's notify:) hear of a new serial once it is stored
 * and its ZoneUpdated event is on its way (xfrd/notifier.h); and of the stored
 * serial when it is re-announced (@p announced: an up-to-date outcome's event after
 * an assignment), so a NOTIFY lost with a crash after the commit is sent again. */
static void notify_downstream(struct consumer *c, const struct cfg_zone *z,
                              const struct xfr_result *r, bool announced)
{
	if (c->o.nt == NULL) {
		return;
	}
	if (r->outcome == XFR_AXFR || r->outcome == XFR_IXFR) {
		notifier_zone_changed(c->o.nt, z, r->commit.serial);
	} else if (r->outcome == XFR_UPTODATE && announced) {
		notifier_zone_changed(c->o.nt, z, r->old_serial);
	}
}

static void on_outcome(struct consumer *c, struct outcome *o)
{
	const struct cfg_zone *z = o->zone;
	const struct xfr_result *r = &o->xfr;
	struct zslot *zs = consumer_slot(c, z);
	zs->running = false;
	consumer_pc(c, zs->partition)->running--;
	count_outcome(c, r);
	if (zs->partition >= 0 &&
	    health_map_progress(c->hm, zs->partition, consumer_mono_ms()) != 0) {
		log_debug("outcome_after_revoke", "zone=%s", z->name_text);
	}
	if (c->o.rf != NULL) {
		refresh_outcome(c->o.rf, z);
	}
	recheck(c, z, r);
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
	bool announced = make_event(c, b, z, r);
	if (announced) {
		consumer_batch_send(b);
	} else {
		batch_finish(b);
	}
	notify_downstream(c, z, r, announced);
}

void consumer_drain_outcomes(struct consumer *c)
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

void consumer_on_outcome(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	consumer_drain_outcomes(arg);
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
		log_warn("offset_done_failed", "partition=%d offset=%lld error=%s", p,
		         (long long)off, zx_strerror(rc));
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
	struct zslot *zs = consumer_slot(c, z);
	zs->partition = p;
	if (req->has_serial && (!zs->has_hint || serial_newer(req->serial, zs->hint))) {
		zs->has_hint = true;
		zs->hint = req->serial;
	}
	unsigned force = 0;
	if (req->origin == ZX__EVENTS__ORIGIN__ORIGIN_RETRANSFER) {
		force = ENGINE_FORCE_AXFR | (req->force ? ENGINE_FORCE_OLDER : 0);
	}
	c->cur_zone = z;
	rc = sched_request(c->s, z->name_text, (struct sched_ref){p, off}, req->has_serial,
	                   req->serial, force);
	if (rc != 0) {
		log_error("request_dropped", "zone=%s partition=%d offset=%lld error=%s",
		          z->name_text, p, (long long)off, zx_strerror(rc));
	}
	log_info("request_read", "zone=%s partition=%d offset=%lld origin=%d serial=%u%s",
	         z->name_text, p, (long long)off, origin, req->has_serial ? req->serial : 0,
	         (force & ENGINE_FORCE_OLDER) != 0 ? " force=yes" : "");
	events_request_free(req);
}

/* The broker says kafka.requests-topic does not exist: not "Kafka down". Said once
 * (the client repeats it at each metadata refresh) and kept for /ready until an
 * assignment shows the topic is there. */
static void topic_missing(struct consumer *c, const rd_kafka_message_t *m)
{
	const char *topic = c->o.cfg->kafka.requests_topic;
	bool first = c->topic_missing[0] == '\0';
	snprintf(c->topic_missing, sizeof(c->topic_missing), "requests topic %s does not exist (%s)",
	         topic, rd_kafka_err2str(m->err));
	if (first) {
		char q[300];
		log_error("kafka_topic_missing", "topic=%s brokers=%s error=%s", topic,
		          c->o.cfg->kafka.brokers, log_quote(rd_kafka_message_errstr(m), q, sizeof(q)));
	}
}

static void drain_kafka(struct consumer *c)
{
	char buf[64];
	while (read(c->kpipe[0], buf, sizeof(buf)) > 0) {
	}
	for (int n = 0; n < CONSUMER_DRAIN_BATCH; n++) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, 0);
		if (m == NULL) {
			return;
		}
		if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
			on_message(c, m);
		} else if (m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
		           m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
			topic_missing(c, m);
		} else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			log_warn("kafka_consume_error", "error=%s", rd_kafka_message_errstr(m));
		}
		rd_kafka_message_destroy(m);
	}
	event_active(c->kev, EV_READ, 0); /* more queued: continue after other events */
}

void consumer_on_kafka(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	drain_kafka(arg);
}

/* ---- tick ----------------------------------------------------------------- */

void consumer_on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct consumer *c = arg;
	consumer_drain_outcomes(c);
	for (struct batch *b = c->batches; b != NULL; b = b->next) {
		if (b->has_event && b->t.done == NULL) {
			consumer_batch_send(b);
		}
	}
	consumer_commit_async(c);
	int64_t now = (int64_t)time(NULL);
	if (c->o.rf != NULL && now != c->last_scan && c->ready) {
		c->last_scan = now;
		(void)refresh_scan(c->o.rf, now);
	}
}

