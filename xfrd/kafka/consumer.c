/* SPDX-License-Identifier: MIT */
/* xfrd/kafka/consumer.c -- the consumer's data path: requests in, outcomes back, events out.
 * (The Kafka group side -- commits, rebalance, liveness, setup -- is consumer_group.c.)
 *
 *   kafka pipe --> drain_kafka --> on_message --> sink.request (the zone runtime)
 *   runtime outcome --> consumer_outcome --> batch: refs + ZoneUpdated
 *                   --delivered--> offtrack_done
 *   tick --> commit_async (offtrack_committable) --commit cb--> offtrack_committed
 *   runtime timer --> consumer_refresh_due --> REFRESH request --> (read back)
 */
#include "xfrd/kafka/consumer_internal.h"

#include "common/cfg/cfg.h"
#include "common/clock.h"
#include "common/dname.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/store/zdb.h"
#include "proto/events.h"
#include "proto/reqtopic.h"
#include "xfrd/xfr/engine.h"
#include "xfrd/kafka/health.h"
#include "xfrd/kafka/offtrack.h"
#include "xfrd/kafka/updates.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* ---- batches: finishing offsets after the event is stored --------------- */

static struct batch *batch_new(struct consumer *c)
{
	struct batch *b = calloc(1, sizeof(*b));
	if (b == NULL) {
		return NULL;
	}
	b->c = c;
	b->next = c->batches;
	if (c->batches != NULL) {
		c->batches->prev = b;
	}
	c->batches = b;
	return b;
}

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

static int batch_refs(struct batch *b, const struct zone_req *done, size_t n)
{
	if (n == 0) {
		return 0;
	}
	b->refs = malloc(n * sizeof(*b->refs));
	if (b->refs == NULL) {
		return ZX_ENOMEM;
	}
	memcpy(b->refs, done, n * sizeof(*b->refs));
	b->n = b->cap = n;
	for (size_t i = 0; i < n; i++) {
		consumer_pc(b->c, done[i].partition)->pending++;
	}
	return 0;
}

/* ---- outcomes ------------------------------------------------------------- */

/* The event's common fields. */
static void event_init(struct consumer *c, struct batch *b, const char *zone)
{
	Zx__Events__ZoneUpdated *ev = &b->ev;
	zx__events__zone_updated__init(ev);
	snprintf(b->zone, sizeof(b->zone), "%s", zone);
	ev->zone = b->zone;
	ev->primary = b->primary;
	ev->replica = (char *)c->o.replica;
	ev->committed_us = clock_wall_us();
	ev->error = (char *)"";
}

/* The event's state: the store's state machine's, after the outcome. */
static Zx__Events__ZoneState event_state(enum zdb_state s)
{
	switch (s) {
	case ZDB_STATE_FRESH:
		return ZX__EVENTS__ZONE_STATE__ZONE_STATE_FRESH;
	case ZDB_STATE_FAILED:
		return ZX__EVENTS__ZONE_STATE__ZONE_STATE_FAILED;
	case ZDB_STATE_EXPIRED:
		return ZX__EVENTS__ZONE_STATE__ZONE_STATE_EXPIRED;
	case ZDB_STATE_REMOVED:
		return ZX__EVENTS__ZONE_STATE__ZONE_STATE_REMOVED;
	case ZDB_STATE_FOLLOWING:
	case ZDB_STATE_BEHIND:
		break; /* a follower's states: followers announce nothing */
	}
	return ZX__EVENTS__ZONE_STATE__ZONE_STATE_UNSPECIFIED;
}

static void make_event(struct consumer *c, struct batch *b, const struct zone *z,
                       const struct xfr_result *r)
{
	Zx__Events__ZoneUpdated *ev = &b->ev;
	event_init(c, b, zone_name_text(z));
	snprintf(b->primary, sizeof(b->primary), "%s", r->primary);
	ev->duration_ms = (uint32_t)(r->duration_us / 1000);
	ev->has_old_serial = r->had_zone;
	ev->old_serial = r->old_serial;
	ev->new_serial = r->old_serial;
	ev->kind = ZX__EVENTS__UPDATE_KIND__UPDATE_KIND_COMMITTED;
	ev->state = event_state(r->state);
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
		char text[sizeof(b->error) - 64];
		engine_error_text(r, text, sizeof(text));
		snprintf(b->error, sizeof(b->error), "%s (%s)", text, zx_strerror(r->error));
		ev->error = b->error;
	}
}

void consumer_outcome(struct consumer *c, struct zone *z, const struct xfr_result *r,
                      bool announce, const struct zone_req *done, size_t ndone)
{
	c->st.outcomes++;
	if (z->partition >= 0 &&
	    health_map_progress(c->hm, z->partition, clock_mono_ms()) != 0) {
		log_debug("outcome_after_revoke", "zone=%s", zone_name_text(z));
	}
	struct batch *b = batch_new(c);
	if (b == NULL || batch_refs(b, done, ndone) != 0) {
		log_error("outcome_lost", "zone=%s error=%s", zone_name_text(z),
		          zx_strerror(ZX_ENOMEM));
		if (b != NULL) {
			batch_finish(b);
		}
		return; /* its offsets stay unfinished: read again after a restart */
	}
	if (!announce) {
		batch_finish(b);
		return;
	}
	make_event(c, b, z, r);
	consumer_batch_send(b);
}

void consumer_expired(struct consumer *c, struct zone *z, const struct zdb_zone_info *info)
{
	struct batch *b = batch_new(c);
	if (b == NULL) {
		log_warn("expired_event_failed", "zone=%s error=%s", zone_name_text(z),
		         zx_strerror(ZX_ENOMEM));
		return;
	}
	Zx__Events__ZoneUpdated *ev = &b->ev;
	event_init(c, b, zone_name_text(z));
	snprintf(b->primary, sizeof(b->primary), "%s", info->primary);
	ev->kind = ZX__EVENTS__UPDATE_KIND__UPDATE_KIND_EXPIRED;
	ev->has_old_serial = true;
	ev->old_serial = info->serial;
	ev->new_serial = info->serial;
	ev->method = ZX__EVENTS__METHOD__METHOD_NONE;
	ev->records = info->records;
	ev->error = (char *)"expired: no successful refresh within the SOA expire";
	ev->state = event_state(info->state);
	consumer_batch_send(b);
}

void consumer_removed(struct consumer *c, const struct zdb_zone_info *info)
{
	char zone[DNAME_TEXTLEN];
	if (dname_to_text(info->name, zone, sizeof(zone)) != 0) {
		return;
	}
	struct batch *b = batch_new(c);
	if (b == NULL) {
		log_warn("removed_event_failed", "zone=%s error=%s", zone, zx_strerror(ZX_ENOMEM));
		return;
	}
	Zx__Events__ZoneUpdated *ev = &b->ev;
	event_init(c, b, zone);
	snprintf(b->primary, sizeof(b->primary), "%s", info->primary);
	ev->kind = ZX__EVENTS__UPDATE_KIND__UPDATE_KIND_REMOVED;
	ev->has_old_serial = info->loaded;
	ev->old_serial = info->serial;
	ev->new_serial = info->serial;
	ev->method = ZX__EVENTS__METHOD__METHOD_NONE;
	ev->records = info->records;
	ev->state = ZX__EVENTS__ZONE_STATE__ZONE_STATE_REMOVED;
	consumer_batch_send(b);
}

/* ---- refresh requests ----------------------------------------------------- */

/* A REFRESH request Kafka did not take: counted by reason, logged (at debug during an
 * outage that kafka_unreachable named already, so 10,000 zones do not make 10,000
 * lines). */
static void ask_failed(struct consumer *c, const char *zone, int rc, const char *stage)
{
	enum consumer_ask_fail r = CONSUMER_ASK_KAFKA;
	if (strcmp(stage, "unreachable") == 0) {
		r = CONSUMER_ASK_UNREACHABLE;
	} else if (rc == ZX_EAGAIN) {
		r = CONSUMER_ASK_QUEUE_FULL;
	} else if (rc == ZX_ETIMEDOUT) {
		r = CONSUMER_ASK_TIMEOUT;
	} else if (rc == ZX_ENOMEM) {
		r = CONSUMER_ASK_NOMEM;
	}
	c->st.refresh_failed++;
	metrics_add(c->m_ask_fail[r], 1);
	log_write(c->kafka_down ? LOG_LVL_DEBUG : LOG_LVL_WARN, "refresh_request_failed",
	          "zone=%s error=%s stage=%s topic=%s brokers=%s", zone, zx_strerror(rc), stage,
	          c->o.cfg->kafka.requests_topic, c->o.cfg->kafka.brokers);
}

static void ask_done(struct updates_ticket *t, int rc)
{
	struct ask *a = (struct ask *)t;
	if (rc != 0 && rc != ZX_ESHUTDOWN) {
		ask_failed(a->c, a->zone, rc, "delivery");
		a->c->o.sink.refresh_lost(a->c->o.sink.ctx, a->zone, rc);
	}
	free(a);
}

int consumer_refresh_due(struct consumer *c, struct zone *z)
{
	const char *name = zone_name_text(z);
	if (c->kafka_down) {
		/* not even queued: it would only wait in the producer's queue for
		 * message.timeout.ms; the runtime asks again shortly */
		ask_failed(c, name, ZX_EKAFKA, "unreachable");
		return ZX_EKAFKA;
	}
	size_t len = strlen(name);
	struct ask *a = malloc(sizeof(*a) + len + 1);
	if (a == NULL) {
		return ZX_ENOMEM;
	}
	a->t.done = ask_done;
	a->c = c;
	memcpy(a->zone, name, len + 1);
	Zx__Events__TransferRequest req;
	reqtopic_request_init(&req, a->zone, ZX__EVENTS__ORIGIN__ORIGIN_REFRESH, c->o.replica);
	int rc = updates_send_request(c->o.up, &req, &a->t);
	if (rc != 0) {
		ask_failed(c, name, rc, "queue");
		free(a);
		return rc;
	}
	log_info("refresh_due", "zone=%s partition=%d%s", name, z->partition,
	         z->owned ? "" : " owner=none"); /* an orphan: see runtime_lost() */
	return 0;
}

/* ---- messages ------------------------------------------------------------- */

/* A request that needs no transfer (unreadable, unknown zone): finished at once. */
static void skip(struct consumer *c, int32_t p, int64_t off, const char *zone, const char *why)
{
	char q[DNAME_TEXTLEN + 8];
	log_warn("request_skipped", "zone=%s partition=%d offset=%lld why=%s",
	         log_quote(zone != NULL ? zone : "", q, sizeof(q)), p, (long long)off, why);
	c->st.invalid++;
	metrics_add(c->m_invalid, 1);
	int rc = offtrack_done(c->ot, p, off);
	if (rc != 0) {
		log_warn("offset_done_failed", "partition=%d offset=%lld error=%s", p,
		         (long long)off, zx_strerror(rc));
	}
}

static const char *origin_name(int origin)
{
	static const char *const names[] = {"unspecified", "notify", "refresh", "operator",
	                                    "retransfer"};
	return origin >= 0 && origin < 5 ? names[origin] : "unspecified";
}

static void on_message(struct consumer *c, const rd_kafka_message_t *m)
{
	int32_t p = m->partition;
	int64_t off = m->offset;
	bool idle = offtrack_in_flight(c->ot, p) == 0;
	int rc = offtrack_read(c->ot, p, off);
	if (rc != 0) {
		log_warn("offset_read_refused", "partition=%d offset=%lld error=%s", p,
		         (long long)off, zx_strerror(rc));
		return;
	}
	if (idle && health_map_progress(c->hm, p, clock_mono_ms()) != 0) {
		log_debug("health_map_missing", "partition=%d", p); /* work arrives: clock starts */
	}
	c->st.read++;
	Zx__Events__TransferRequest *req = NULL;
	if (events_request_unpack(m->payload, m->len, &req) != 0) {
		skip(c, p, off, NULL, "unreadable");
		return;
	}
	int origin = req->origin >= 0 && req->origin <= 4 ? (int)req->origin : 0;
	struct zone_req zr = {.partition = p, .offset = off, .has_serial = req->has_serial,
	                      .serial = req->serial};
	unsigned flags = 0;
	if (req->origin == ZX__EVENTS__ORIGIN__ORIGIN_RETRANSFER) {
		flags = ZONE_FORCE_AXFR | (req->force ? ZONE_FORCE_OLDER : 0);
	}
	rc = c->o.sink.request(c->o.sink.ctx, req->zone != NULL ? req->zone : "", &zr, flags,
	                       origin);
	if (rc == ZX_ENOTFOUND) {
		skip(c, p, off, req->zone, "unknown_zone");
	} else if (rc != 0) {
		log_error("request_dropped", "zone=%s partition=%d offset=%lld error=%s", req->zone, p,
		          (long long)off, zx_strerror(rc));
	} else {
		log_info("request_read", "zone=%s partition=%d offset=%lld origin=%s serial=%u%s",
		         req->zone, p, (long long)off, origin_name(origin),
		         req->has_serial ? req->serial : 0,
		         (flags & ZONE_FORCE_OLDER) != 0 ? " force=yes" : "");
	}
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
	/* librdkafka counts max.poll.interval.ms from the last poll, not the last message:
	 * an idle consumer that only polls when its queue wakes the loop leaves the group
	 * after 5 minutes (MAXPOLL, every partition lost; seen in registry_scale) */
	drain_kafka(c);
	consumer_watch_tick(c);
	for (struct batch *b = c->batches; b != NULL; b = b->next) {
		if (b->has_event && b->t.done == NULL) {
			consumer_batch_send(b);
		}
	}
	consumer_commit_async(c);
}
