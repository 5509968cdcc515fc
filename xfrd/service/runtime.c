/* SPDX-License-Identifier: MIT */
/* xfrd/service/runtime.c -- zones, planner, scheduler and timers on the loop; the engine
 * hand-off (worker thread -> outcome queue -> eventfd -> loop). */
#include "xfrd/service/runtime.h"

#include "common/cfg/cfg.h"
#include "common/clock.h"
#include "common/dname.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/serial.h"
#include "common/store/zdb.h"
#include "proto/reqtopic.h"
#include "xfrd/xfr/engine.h"
#include "xfrd/notify/notifier.h"
#include "xfrd/service/primstats.h"
#include "xfrd/zone/plan.h"
#include "xfrd/zone/sched.h"
#include "xfrd/zone/timers.h"

_Static_assert(ZONE_FORCE_AXFR == XFR_FORCE_AXFR && ZONE_FORCE_OLDER == XFR_FORCE_OLDER,
               "a request's flags are the engine's");

#include <event2/event.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* One transfer's hand-off record: made when it starts (so nothing is allocated on
 * the worker thread), filled by the engine's callback, queued to the loop. */
struct outcome {
	struct outcome *next;          /* the queue to the loop */
	struct outcome *iprev, *inext; /* rt->inflight (loop thread only) */
	struct runtime *rt;
	struct zone *z; /* kept alive while it runs (a removed zone waits for it) */
	struct xfr_result xfr;
};

struct runtime {
	struct runtime_opts o;
	struct zonetab *zones;
	struct sched *s;
	struct timers *tm;
	int32_t partitions;
	bool *owned_parts; /* by partition: this process owns it (Kafka mode) */
	/* outcomes from the workers */
	pthread_mutex_t mu;
	struct outcome *oq_head, *oq_tail;
	struct outcome *inflight; /* every outcome record not handled yet (freed at the end:
	                             the engine drops queued transfers without a callback) */
	int efd;
	struct event *oev, *tev;
	int64_t tev_at; /* the timer event is armed for this second; INT64_MAX none */
	/* the requests the outcome being handled finishes (sched's done hook) */
	struct zone_req *done;
	size_t ndone, done_cap;
	struct runtime_stats st;
	int64_t purge_after_s; /* a REMOVED zone's data is deleted this long after */
	struct metrics_val *m_req[RUNTIME_ORIGIN_COUNT], *m_out[5], *m_expired, *m_refused_serial,
		*m_asked, *m_ask_failed;
	struct metrics_hist *m_dur[4];
	struct primstats *by_primary; /* xfrd_primary_outcomes_total */
};

/* ---- timers ------------------------------------------------------------- */

static void arm_event(struct runtime *rt)
{
	int64_t next = timers_next(rt->tm);
	if (next == rt->tev_at) {
		return;
	}
	rt->tev_at = next;
	if (next == INT64_MAX) {
		event_del(rt->tev);
		return;
	}
	int64_t now_ms = clock_wall_ms();
	int64_t wait = next * 1000 - now_ms;
	struct timeval tv = {.tv_sec = wait > 0 ? wait / 1000 : 0,
	                     .tv_usec = wait > 0 ? (wait % 1000) * 1000 : 0};
	event_add(rt->tev, &tv);
}

/* The zone's one timer: the earliest of what it waits for. */
static void arm(struct runtime *rt, struct zone *z)
{
	int64_t at = INT64_MAX;
	if (z->owned && !z->removed) {
		if (!z->plan_valid) {
			at = 0; /* read the plan at once */
		} else {
			if (z->run == ZONE_IDLE) {
				at = z->requested_at != 0 ? z->requested_at + RUNTIME_REQUEST_TIMEOUT
				                          : z->plan.due;
				if (z->recheck_at != 0 && z->recheck_at < at) {
					at = z->recheck_at;
				}
			}
			if (!z->plan.expired && z->plan.expire_at < at) {
				at = z->plan.expire_at;
			}
		}
	}
	if (at == INT64_MAX) {
		timers_clear(rt->tm, z);
	} else if (timers_set(rt->tm, z, at) != 0) {
		log_error("timer_lost", "zone=%s error=%s", zone_name_text(z), zx_strerror(ZX_ENOMEM));
	}
}

/* Read @p z's plan from the store (@p s: a snapshot, or NULL for one of its own). */
static void replan(struct runtime *rt, struct zdb_snap *s, struct zone *z,
                   struct zdb_zone_info *info, bool *have)
{
	struct zdb_snap *own = NULL;
	if (s == NULL && zdb_snap_begin(rt->o.db, &own) == 0) {
		s = own;
	}
	*have = s != NULL && zdb_zone_get(s, zone_name(z), info) == 0;
	if (s == NULL) {
		log_warn("plan_read_failed", "zone=%s error=\"%s\"", zone_name_text(z),
		         zdb_last_error());
	}
	zdb_snap_end(own);
	plan_compute(&z->set->z, *have ? info : NULL, rt->o.cfg->xfrd.jitter_pct, &z->plan);
	z->plan_valid = true;
}

static void expire(struct runtime *rt, struct zone *z, struct zdb_zone_info *info, int64_t now)
{
	struct zdb_transition t;
	int rc = zdb_zone_event(rt->o.db, zone_name(z), ZDB_EV_EXPIRED, now, NULL, &t);
	if (rc != 0) {
		log_error("expire_mark_failed", "zone=%s error=%s detail=\"%s\"", zone_name_text(z),
		          zx_strerror(rc), zdb_last_error());
		return;
	}
	z->plan.expired = true;
	if (t.before == ZDB_STATE_EXPIRED) {
		return; /* expired already: announced when it happened */
	}
	info->state = ZDB_STATE_EXPIRED;
	log_warn("zone_expired", "zone=%s serial=%u last_success=%lld", zone_name_text(z),
	         info->serial, (long long)info->last_success);
	rt->st.expired++;
	metrics_add(rt->m_expired, 1);
	if (rt->o.src.expired != NULL) {
		rt->o.src.expired(rt->o.src.ctx, z, info);
	}
}

static int request_zone(struct runtime *rt, struct zone *z, const struct zone_req *req,
                        unsigned flags, enum runtime_origin origin);

static void ask(struct runtime *rt, struct zone *z, int64_t now)
{
	z->recheck_at = 0;
	if (rt->o.src.refresh_due == NULL) {
		struct zone_req req = {.partition = z->partition, .offset = -1};
		rt->st.refresh_asked++;
		metrics_add(rt->m_asked, 1);
		int rc = request_zone(rt, z, &req, 0, RUNTIME_ORIGIN_REFRESH);
		if (rc != 0) {
			log_error("refresh_request_failed", "zone=%s error=%s", zone_name_text(z),
			          zx_strerror(rc));
		}
		return;
	}
	int rc = rt->o.src.refresh_due(rt->o.src.ctx, z);
	if (rc == 0) {
		z->requested_at = now;
		rt->st.refresh_asked++;
		metrics_add(rt->m_asked, 1);
	} else {
		/* asked again shortly: the plan stays due */
		z->requested_at = now - RUNTIME_REQUEST_TIMEOUT + RUNTIME_ASK_AGAIN_S;
		rt->st.refresh_failed++;
		metrics_add(rt->m_ask_failed, 1);
	}
}

static void due(struct runtime *rt, struct zone *z, int64_t now)
{
	struct zdb_zone_info info;
	bool have = false;
	if (!z->plan_valid || now >= z->plan.expire_at) {
		replan(rt, NULL, z, &info, &have);
		if (have && info.loaded && !z->plan.expired && now >= z->plan.expire_at) {
			expire(rt, z, &info, now);
			replan(rt, NULL, z, &info, &have); /* an expired zone retries on its retry timer */
		}
	}
	bool out = z->requested_at != 0 && now - z->requested_at < RUNTIME_REQUEST_TIMEOUT;
	bool recheck = z->recheck_at != 0 && now >= z->recheck_at;
	if (z->run == ZONE_IDLE && !out && (now >= z->plan.due || recheck)) {
		ask(rt, z, now);
	}
	arm(rt, z);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct runtime *rt = arg;
	rt->tev_at = INT64_MAX;
	int64_t now = clock_wall_s();
	struct zone *z;
	/* a zone re-armed at or before now is handled in the next round, not this one */
	size_t budget = timers_count(rt->tm);
	while (budget-- > 0 && (z = timers_pop_due(rt->tm, now)) != NULL) {
		due(rt, z, now);
	}
	arm_event(rt);
}

/* ---- engine hand-off ---------------------------------------------------- */

static void push_outcome(struct runtime *rt, struct outcome *o)
{
	pthread_mutex_lock(&rt->mu);
	if (rt->oq_tail != NULL) {
		rt->oq_tail->next = o;
	} else {
		rt->oq_head = o;
	}
	rt->oq_tail = o;
	pthread_mutex_unlock(&rt->mu);
	uint64_t one = 1;
	ssize_t w = write(rt->efd, &one, sizeof(one));
	(void)w;
}

/* Worker thread. */
static void on_engine_done(void *arg, const struct engine_result *res)
{
	struct outcome *o = arg;
	o->xfr = res->xfr;
	push_outcome(o->rt, o);
}

static void sched_start(void *ctx, struct zone *z, unsigned flags)
{
	struct runtime *rt = ctx;
	timers_clear(rt->tm, z);
	struct outcome *o = calloc(1, sizeof(*o));
	int rc = ZX_ENOMEM;
	if (o != NULL) {
		o->rt = rt;
		o->z = z;
		o->inext = rt->inflight;
		if (rt->inflight != NULL) {
			rt->inflight->iprev = o;
		}
		rt->inflight = o;
		rc = engine_request(rt->o.eng, z->set, flags, on_engine_done, o);
	}
	if (rc == 0) {
		return;
	}
	log_error("transfer_start_failed", "zone=%s error=%s", zone_name_text(z), zx_strerror(rc));
	if (o == NULL) {
		return; /* no memory: the zone stays running; its requests are read again */
	}
	o->xfr.outcome = XFR_FAILED;
	o->xfr.error = rc;
	o->xfr.why = "engine request";
	push_outcome(rt, o);
}

static void sched_done(void *ctx, struct zone *z, const struct zone_req *req)
{
	(void)z;
	struct runtime *rt = ctx;
	if (rt->ndone == rt->done_cap) {
		size_t cap = rt->done_cap == 0 ? 16 : rt->done_cap * 2;
		struct zone_req *v = realloc(rt->done, cap * sizeof(*v));
		if (v == NULL) {
			log_error("offset_dropped", "partition=%d offset=%lld error=%s", req->partition,
			          (long long)req->offset, zx_strerror(ZX_ENOMEM));
			return; /* stays unfinished: read again after a restart */
		}
		rt->done = v;
		rt->done_cap = cap;
	}
	rt->done[rt->ndone++] = *req;
}

static void sched_cancel(void *ctx, struct zone *z)
{
	(void)ctx;
	log_info("revoked_running", "zone=%s action=wait", zone_name_text(z));
}

/* ---- outcomes ----------------------------------------------------------- */

static void count_outcome(struct runtime *rt, const struct xfr_result *r)
{
	int k = r->outcome >= XFR_UPTODATE && r->outcome <= XFR_FAILED ? (int)r->outcome : 0;
	metrics_add(rt->m_out[k], 1);
	if (r->outcome == XFR_FAILED && r->error == ZX_ESERIAL) {
		metrics_add(rt->m_refused_serial, 1);
	}
	int d = r->outcome == XFR_AXFR ? 0 : r->outcome == XFR_IXFR ? 1
	        : r->outcome == XFR_UPTODATE ? 2 : 3;
	metrics_observe(rt->m_dur[d], (double)r->duration_us / 1e6);
	if (k > 0 && rt->by_primary != NULL) {
		primstats_count(rt->by_primary, r->primary, (enum primstats_outcome)(k - XFR_UPTODATE));
	}
	rt->st.outcomes++;
}

/* The primary answered an older serial than a NOTIFY announced: one more look
 * after the zone's shortest retry (the requests themselves are finished: "found
 * up to date"). */
static void recheck(struct zone *z, const struct xfr_result *r, uint32_t held, int64_t now)
{
	bool behind = r->outcome == XFR_UPTODATE && z->has_hint && serial_newer(z->hint, held);
	if (behind) {
		int64_t delay = (int64_t)((z->set->z.retry.min_ms + 999) / 1000);
		log_info("notify_serial_ahead", "zone=%s notified=%u primary=%u recheck_in_s=%lld",
		         zone_name_text(z), z->hint, held, (long long)delay);
		if (z->recheck_at == 0 || now + delay < z->recheck_at) {
			z->recheck_at = now + delay;
		}
	}
	/* kept while a transfer or a failure left it ahead: a scheduled run or the
	 * retry timer follows, and its outcome decides */
	if (behind || r->outcome == XFR_UPTODATE || !serial_newer(z->hint, held)) {
		z->has_hint = false;
	}
}

static void notify_downstream(struct runtime *rt, struct zone *z, const struct xfr_result *r,
                              bool announce)
{
	if (rt->o.nt == NULL) {
		return;
	}
	if (r->outcome == XFR_AXFR || r->outcome == XFR_IXFR) {
		notifier_zone_changed(rt->o.nt, z->set, r->commit.serial);
	} else if (r->outcome == XFR_UPTODATE && announce) {
		notifier_zone_changed(rt->o.nt, z->set, r->old_serial);
	}
}

static void on_outcome(struct runtime *rt, struct outcome *o)
{
	struct zone *z = o->z;
	const struct xfr_result *r = &o->xfr;
	int64_t now = clock_wall_s();
	count_outcome(rt, r);
	bool stored = r->outcome == XFR_AXFR || r->outcome == XFR_IXFR;
	bool has = stored || r->had_zone;
	uint32_t serial = stored ? r->commit.serial : r->old_serial;
	z->last = (struct zone_last){.outcome = (int)r->outcome, .error = r->error, .at = now,
	                             .has_serial = has, .serial = serial};
	rt->ndone = 0;
	if (sched_finished(rt->s, z, has, serial) != 0) {
		log_warn("outcome_unexpected", "zone=%s", zone_name_text(z));
	}
	recheck(z, r, serial, now);
	/* a removed zone's last transfer tells nobody: its REMOVED went out already */
	bool announce = !z->removed &&
	                (stored || r->outcome == XFR_FAILED ||
	                 (r->outcome == XFR_UPTODATE && r->had_zone && !z->announced));
	if (announce && r->outcome != XFR_FAILED) {
		z->announced = true;
	}
	if (rt->o.src.outcome != NULL) {
		rt->o.src.outcome(rt->o.src.ctx, z, r, announce, rt->done, rt->ndone);
	}
	if (!z->removed) {
		notify_downstream(rt, z, r, announce);
	}
	z->requested_at = 0;
	z->plan_valid = false;
	if (z->removed && z->run == ZONE_IDLE) {
		zone_free(z);
	} else if (z->run == ZONE_IDLE) {
		/* at once, so an expired zone is seen expired right after a failed retry */
		struct zdb_zone_info info;
		bool have;
		replan(rt, NULL, z, &info, &have);
		arm(rt, z);
		arm_event(rt);
	}
}

static void drain(struct runtime *rt)
{
	uint64_t v;
	ssize_t n = read(rt->efd, &v, sizeof(v));
	(void)n;
	pthread_mutex_lock(&rt->mu);
	struct outcome *o = rt->oq_head;
	rt->oq_head = rt->oq_tail = NULL;
	pthread_mutex_unlock(&rt->mu);
	while (o != NULL) {
		struct outcome *next = o->next;
		if (o->iprev != NULL) {
			o->iprev->inext = o->inext;
		} else {
			rt->inflight = o->inext;
		}
		if (o->inext != NULL) {
			o->inext->iprev = o->iprev;
		}
		on_outcome(rt, o);
		free(o);
		o = next;
	}
}

static void on_outcome_event(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	drain(arg);
}

void runtime_poll_outcomes(struct runtime *rt, int timeout_ms)
{
	struct pollfd pfd = {.fd = rt->efd, .events = POLLIN};
	if (timeout_ms > 0) {
		(void)poll(&pfd, 1, timeout_ms);
	}
	drain(rt);
}

/* ---- requests ----------------------------------------------------------- */

static int request_zone(struct runtime *rt, struct zone *z, const struct zone_req *req,
                        unsigned flags, enum runtime_origin origin)
{
	rt->st.requests++;
	metrics_add(rt->m_req[origin < RUNTIME_ORIGIN_COUNT ? origin : 0], 1);
	if (req->partition >= 0) {
		z->partition = req->partition;
	}
	return sched_request(rt->s, z, req, flags);
}

int runtime_request(struct runtime *rt, const char *name, const struct zone_req *req,
                    unsigned flags, enum runtime_origin origin)
{
	struct zone *z = zonetab_find_text(rt->zones, name);
	if (z == NULL || z->set->z.primaries.count == 0) {
		rt->st.unknown++;
		return ZX_ENOTFOUND;
	}
	return request_zone(rt, z, req, flags, origin);
}

struct zone *runtime_zone(const struct runtime *rt, const uint8_t *name)
{
	return zonetab_find(rt->zones, name);
}

void runtime_refresh_lost(struct runtime *rt, const char *name)
{
	struct zone *z = zonetab_find_text(rt->zones, name);
	if (z == NULL || z->requested_at == 0) {
		return;
	}
	rt->st.refresh_failed++;
	metrics_add(rt->m_ask_failed, 1);
	z->requested_at = clock_wall_s() - RUNTIME_REQUEST_TIMEOUT + RUNTIME_ASK_AGAIN_S;
	arm(rt, z);
	arm_event(rt);
}

/* An operator's purge: the store forgets the zone, the plan says "never tried". */
static int purge_now(struct runtime *rt, struct zone *z)
{
	if (z->run != ZONE_IDLE) {
		return ZX_EEXIST;
	}
	int rc = zdb_zone_delete(rt->o.db, zone_name(z));
	if (rc == 0 || rc == ZX_ENOTFOUND) {
		z->announced = false;
		z->has_hint = false;
		z->last = (struct zone_last){0};
		rc = 0;
	}
	return rc;
}

int runtime_act(struct runtime *rt, const uint8_t *name, enum runtime_action act)
{
	static const char *const names[] = {"expire", "purge", "notify"};
	struct zone *z = zonetab_find(rt->zones, name);
	if (z == NULL) {
		return ZX_ENOTFOUND;
	}
	if (!z->owned) {
		return ZX_EAGAIN;
	}
	struct zdb_zone_info info;
	bool have = false;
	int rc = 0;
	if (act == RUNTIME_PURGE) {
		rc = purge_now(rt, z);
	} else {
		replan(rt, NULL, z, &info, &have);
		rc = !have || !info.loaded                                  ? ZX_ENOENT
		     : act == RUNTIME_NOTIFY && z->set->z.notify.count == 0 ? ZX_EINVAL
		     : act == RUNTIME_NOTIFY && rt->o.nt == NULL            ? ZX_EINVAL
		                                                            : 0;
	}
	if (rc == 0 && act == RUNTIME_EXPIRE) {
		z->plan.expired = false; /* expire() marks it and tells the source */
		expire(rt, z, &info, clock_wall_s());
	} else if (rc == 0 && act == RUNTIME_NOTIFY) {
		notifier_zone_changed(rt->o.nt, z->set, info.serial);
	}
	if (rc == 0) {
		log_write(act == RUNTIME_NOTIFY ? LOG_LVL_INFO : LOG_LVL_WARN, "operator_action",
		          "zone=%s action=%s", zone_name_text(z), names[act]);
		z->plan_valid = false;
		arm(rt, z);
		arm_event(rt);
	}
	return rc;
}

void runtime_set_source(struct runtime *rt, const struct runtime_source *src)
{
	rt->o.src = *src;
}

/* ---- ownership ---------------------------------------------------------- */

void runtime_set_partitions(struct runtime *rt, int32_t count)
{
	if (count <= 0 || count == rt->partitions) {
		return;
	}
	bool *o = calloc((size_t)count, sizeof(*o));
	if (o == NULL) {
		log_error("partitions_lost", "count=%d error=%s", count, zx_strerror(ZX_ENOMEM));
		return;
	}
	free(rt->owned_parts);
	rt->owned_parts = o;
	rt->partitions = count;
	for (struct zone *z = zonetab_next(rt->zones, NULL); z != NULL;
	     z = zonetab_next(rt->zones, z)) {
		z->partition = reqtopic_partition(zone_name_text(z), count);
	}
}

void runtime_own(struct runtime *rt, int32_t partition, bool owned)
{
	if (partition >= 0 && partition < rt->partitions) {
		rt->owned_parts[partition] = owned;
	}
	for (struct zone *z = zonetab_next(rt->zones, NULL); z != NULL;
	     z = zonetab_next(rt->zones, z)) {
		if (z->partition != partition) {
			continue;
		}
		if (!owned) {
			sched_drop(rt->s, z);
		}
		z->owned = owned;
		z->plan_valid = false;
		z->requested_at = 0;
		z->recheck_at = 0;
		z->announced = false;
		arm(rt, z);
	}
	arm_event(rt);
}

size_t runtime_running_in(const struct runtime *rt, int32_t partition)
{
	size_t n = 0;
	for (struct zone *z = zonetab_next(rt->zones, NULL); z != NULL;
	     z = zonetab_next(rt->zones, z)) {
		n += z->partition == partition && z->run != ZONE_IDLE;
	}
	return n;
}

size_t runtime_busy(const struct runtime *rt)
{
	return sched_running(rt->s);
}

void runtime_stats(const struct runtime *rt, struct runtime_stats *out)
{
	*out = rt->st;
	out->zones = zonetab_count(rt->zones);
	out->running = sched_running(rt->s);
	out->scheduled = sched_scheduled(rt->s);
	out->timers = timers_count(rt->tm);
	out->partitions = rt->partitions;
	out->owned_parts = 0;
	for (int32_t i = 0; rt->owned_parts != NULL && i < rt->partitions; i++) {
		out->owned_parts += rt->owned_parts[i];
	}
}

/* ---- setup -------------------------------------------------------------- */

static double g_running(void *arg)
{
	return (double)sched_running(((struct runtime *)arg)->s);
}

static double g_scheduled(void *arg)
{
	return (double)sched_scheduled(((struct runtime *)arg)->s);
}

static double g_zones(void *arg)
{
	return (double)zonetab_count(((struct runtime *)arg)->zones);
}

/* Memory of the zone records and their settings (a scrape walks them: O(zones)). */
static double g_zones_bytes(void *arg)
{
	const struct zonetab *t = ((struct runtime *)arg)->zones;
	size_t bytes = 0;
	for (const struct zone *z = zonetab_next(t, NULL); z != NULL; z = zonetab_next(t, z)) {
		bytes += sizeof(*z) + z->set->bytes + (z->cur.cap + z->next.cap) * sizeof(struct zone_req);
	}
	return (double)bytes;
}

static int register_metrics(struct runtime *rt, struct metrics *m)
{
	static const char *const origins[RUNTIME_ORIGIN_COUNT] = {"unspecified", "notify",
	                                                          "refresh", "operator",
	                                                          "retransfer"};
	static const char *const outs[5] = {"unknown", "uptodate", "axfr", "ixfr", "failed"};
	/* the outcome, as in xfrd_transfer_outcomes_total (it was a "method" label once) */
	static const char *const durs[4] = {"axfr", "ixfr", "uptodate", "failed"};
	static const double bounds[] = {0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5,
	                                1, 2, 5, 10, 30, 60};
	char l[64];
	bool ok = true;
	for (int i = 0; i < RUNTIME_ORIGIN_COUNT; i++) {
		snprintf(l, sizeof(l), "origin=\"%s\"", origins[i]);
		ok &= (rt->m_req[i] = metrics_counter(m, "xfrd_requests_total", l,
		                                      "transfer requests by origin")) != NULL;
	}
	for (int i = 0; i < 5; i++) {
		snprintf(l, sizeof(l), "outcome=\"%s\"", outs[i]);
		ok &= (rt->m_out[i] = metrics_counter(m, "xfrd_transfer_outcomes_total", l,
		                                      "refresh outcomes")) != NULL;
	}
	for (int i = 0; i < 4; i++) {
		snprintf(l, sizeof(l), "outcome=\"%s\"", durs[i]);
		ok &= (rt->m_dur[i] = metrics_histogram(m, "xfrd_transfer_duration_seconds", l,
		                                        "refresh duration by outcome", bounds,
		                                        sizeof(bounds) / sizeof(bounds[0]))) != NULL;
	}
	ok &= (rt->by_primary = primstats_new(m)) != NULL;
	ok &= (rt->m_expired = metrics_counter(m, "xfrd_zones_expired_total", NULL,
	                                       "zones marked expired")) != NULL;
	ok &= (rt->m_asked = metrics_counter(m, "xfrd_refresh_requests_total", NULL,
	                                     "refreshes asked for by the SOA timers")) != NULL;
	ok &= (rt->m_ask_failed = metrics_counter(m, "xfrd_refresh_send_failures_total", NULL,
	                                          "refresh requests that could not be queued"))
	      != NULL;
	ok &= (rt->m_refused_serial = metrics_counter(m, "xfrd_transfers_refused_serial_total",
	                                              NULL, "transfers refused: their serial was "
	                                              "not newer than the stored one")) != NULL;
	ok &= metrics_gauge_cb(m, "xfrd_transfers_running", NULL, "zones with a refresh running",
	                       g_running, rt) == 0;
	ok &= metrics_gauge_cb(m, "xfrd_transfers_scheduled", NULL,
	                       "zones with a refresh scheduled after the running one",
	                       g_scheduled, rt) == 0;
	ok &= metrics_gauge_cb(m, "xfrd_zones_bytes", NULL,
	                       "memory of the zone records and their settings, bytes",
	                       g_zones_bytes, rt) == 0;
	ok &= metrics_gauge_cb(m, "xfrd_zones", NULL, "zones known to this process", g_zones,
	                       rt) == 0;
	return ok ? 0 : ZX_ENOMEM;
}

/* ---- zones added, changed, removed ------------------------------------------ */

/* A zone configured again: its data and journal are kept if the store still has
 * them (REMOVED within the grace). */
static void restore(struct runtime *rt, struct zone *z)
{
	struct zdb_snap *s = NULL;
	struct zdb_zone_info info;
	bool removed = zdb_snap_begin(rt->o.db, &s) == 0 &&
	               zdb_zone_get(s, zone_name(z), &info) == 0 &&
	               info.state == ZDB_STATE_REMOVED;
	zdb_snap_end(s);
	if (!removed) {
		return;
	}
	struct zdb_transition t;
	int rc = zdb_zone_event(rt->o.db, zone_name(z), ZDB_EV_RESTORED, clock_wall_s(), NULL, &t);
	if (rc != 0) {
		log_error("zone_restore_failed", "zone=%s error=%s detail=\"%s\"", zone_name_text(z),
		          zx_strerror(rc), zdb_last_error());
		return;
	}
	log_info("zone_restored", "zone=%s serial=%u state=%s removed_at=%lld", zone_name_text(z),
	         info.serial, t.after == ZDB_STATE_FRESH ? "fresh" : "failed",
	         (long long)info.removed_at);
}

/* Mark @p name REMOVED in the store; true when it was not already (then @p info says
 * what it holds, state REMOVED). */
static bool mark_removed(struct runtime *rt, const uint8_t *name, const char *text,
                         const char *why, struct zdb_zone_info *info)
{
	struct zdb_transition t;
	int64_t now = clock_wall_s();
	int rc = zdb_zone_event(rt->o.db, name, ZDB_EV_REMOVED, now, NULL, &t);
	if (rc == ZX_ENOTFOUND) {
		log_debug("zone_removed", "zone=%s stored=no why=%s", text, why);
		return false;
	}
	if (rc != 0) {
		log_error("zone_remove_mark_failed", "zone=%s error=%s detail=\"%s\"", text,
		          zx_strerror(rc), zdb_last_error());
		return false;
	}
	if (t.before == ZDB_STATE_REMOVED) {
		return false;
	}
	struct zdb_snap *s = NULL;
	bool have = zdb_snap_begin(rt->o.db, &s) == 0 && zdb_zone_get(s, name, info) == 0;
	zdb_snap_end(s);
	if (!have) {
		memset(info, 0, sizeof(*info));
		info->state = ZDB_STATE_REMOVED;
		info->removed_at = now;
	}
	log_info("zone_removed", "zone=%s stored=yes serial=%u why=%s purge_after_s=%lld", text,
	         info->serial, why, (long long)rt->purge_after_s);
	return true;
}

struct sweep {
	struct runtime *rt;
	int64_t now;
	uint8_t (*names)[DNAME_MAXLEN];
	bool *purge; /* true: purge; false: mark REMOVED */
	size_t n, cap;
	bool nomem;
};

static int sweep_zone(const struct zdb_zone_info *zi, void *arg)
{
	struct sweep *w = arg;
	bool removed = zi->state == ZDB_STATE_REMOVED;
	bool purge = removed && zi->removed_at + w->rt->purge_after_s <= w->now;
	bool orphan = !removed && zonetab_find(w->rt->zones, zi->name) == NULL;
	if (removed && zonetab_find(w->rt->zones, zi->name) != NULL) {
		purge = false; /* re-added: runtime_zone_put() restores it */
	}
	if (!purge && !orphan) {
		return 0;
	}
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 64;
		void *nn = realloc(w->names, cap * sizeof(*w->names));
		void *np = nn != NULL ? realloc(w->purge, cap * sizeof(*w->purge)) : NULL;
		if (nn != NULL) {
			w->names = nn;
		}
		if (np == NULL) {
			w->nomem = true;
			return 1;
		}
		w->purge = np;
		w->cap = cap;
	}
	memcpy(w->names[w->n], zi->name, zi->name_len);
	w->purge[w->n++] = purge;
	return 0;
}

size_t runtime_sweep(struct runtime *rt, bool orphans)
{
	struct sweep w = {.rt = rt, .now = clock_wall_s()};
	struct zdb_snap *s = NULL;
	int rc = zdb_snap_begin(rt->o.db, &s);
	if (rc == 0) {
		rc = zdb_zone_list(s, sweep_zone, &w);
	}
	zdb_snap_end(s);
	if (rc != 0 || w.nomem) {
		log_warn("zone_sweep_failed", "error=%s", zx_strerror(w.nomem ? ZX_ENOMEM : rc));
	}
	size_t done = 0;
	for (size_t i = 0; i < w.n; i++) {
		char text[DNAME_TEXTLEN];
		if (dname_to_text(w.names[i], text, sizeof(text)) != 0) {
			snprintf(text, sizeof(text), "?");
		}
		if (!w.purge[i]) {
			struct zdb_zone_info info;
			if (orphans && mark_removed(rt, w.names[i], text, "not_configured", &info)) {
				if (rt->o.src.removed != NULL) {
					rt->o.src.removed(rt->o.src.ctx, NULL, &info);
				}
				done++;
			}
			continue;
		}
		rc = zdb_zone_delete(rt->o.db, w.names[i]);
		if (rc == 0) {
			log_info("zone_purged", "zone=%s", text);
			rt->st.purged++;
			done++;
		} else if (rc != ZX_ENOTFOUND) {
			log_error("zone_purge_failed", "zone=%s error=%s detail=\"%s\"", text,
			          zx_strerror(rc), zdb_last_error());
		}
	}
	free(w.names);
	free(w.purge);
	return done;
}

void runtime_set_cfg(struct runtime *rt, const struct cfg *cfg)
{
	rt->o.cfg = cfg;
}

void runtime_set_purge_after(struct runtime *rt, int64_t seconds)
{
	rt->purge_after_s = seconds;
}

int runtime_zone_put(struct runtime *rt, struct zone_settings *set)
{
	struct zone *z = zonetab_find(rt->zones, set->z.name);
	if (z != NULL) {
		zone_set_settings(z, set);
		z->plan_valid = false; /* new clamps */
		arm(rt, z);
		arm_event(rt);
		return 0;
	}
	int rc = zonetab_add(rt->zones, set, &z);
	if (rc != 0) {
		zone_settings_unref(set);
		return rc;
	}
	restore(rt, z);
	if (rt->partitions > 0) {
		z->partition = reqtopic_partition(zone_name_text(z), rt->partitions);
	}
	z->owned = rt->o.own_all || (z->partition >= 0 && z->partition < rt->partitions &&
	                             rt->owned_parts[z->partition]);
	arm(rt, z);
	arm_event(rt);
	return 0;
}

int runtime_zone_remove(struct runtime *rt, const uint8_t *name)
{
	struct zone *z = zonetab_find(rt->zones, name);
	if (z == NULL) {
		return ZX_ENOTFOUND;
	}
	struct zdb_zone_info info;
	if (mark_removed(rt, zone_name(z), zone_name_text(z), "removed", &info) &&
	    rt->o.src.removed != NULL) {
		rt->o.src.removed(rt->o.src.ctx, z, &info);
	}
	rt->st.removed++;
	zonetab_unlink(rt->zones, z);
	timers_clear(rt->tm, z);
	z->removed = true;
	if (z->run == ZONE_IDLE) {
		zone_free(z);
	} else {
		sched_retire(rt->s, z); /* freed by its outcome */
	}
	return 0;
}

static int seed(struct runtime *rt)
{
	const struct cfg *cfg = rt->o.cfg;
	for (size_t i = 0; i < cfg->zone_count; i++) {
		struct zone_settings *set = NULL;
		int rc = zone_settings_from_cfg(&cfg->zones[i], &set);
		if (rc == 0) {
			rc = runtime_zone_put(rt, set);
		}
		if (rc != 0) {
			return rc;
		}
	}
	return 0;
}

int runtime_new(const struct runtime_opts *o, struct runtime **out)
{
	if (o->cfg == NULL || o->base == NULL || o->eng == NULL || o->db == NULL || o->m == NULL) {
		return ZX_EINVAL;
	}
	struct runtime *rt = calloc(1, sizeof(*rt));
	if (rt == NULL) {
		return ZX_ENOMEM;
	}
	rt->o = *o;
	rt->efd = -1;
	rt->tev_at = INT64_MAX;
	pthread_mutex_init(&rt->mu, NULL);
	static const struct sched_hooks hooks = {.start = sched_start, .done = sched_done,
	                                         .cancel = sched_cancel};
	rt->zones = zonetab_new();
	rt->s = sched_new(&hooks, rt);
	rt->tm = timers_new();
	rt->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	int rc = rt->zones == NULL || rt->s == NULL || rt->tm == NULL ? ZX_ENOMEM
	         : rt->efd < 0                                         ? ZX_EIO
	                                                               : 0;
	if (rc == 0) {
		rt->oev = event_new(o->base, rt->efd, EV_READ | EV_PERSIST, on_outcome_event, rt);
		rt->tev = event_new(o->base, -1, 0, on_timer, rt);
		rc = rt->oev == NULL || rt->tev == NULL || event_add(rt->oev, NULL) != 0 ? ZX_ENOMEM
		                                                                          : 0;
	}
	if (rc == 0) {
		rc = register_metrics(rt, o->m);
	}
	if (rc == 0) {
		rc = seed(rt);
	}
	if (rc != 0) {
		runtime_free(rt);
		return rc;
	}
	arm_event(rt);
	*out = rt;
	return 0;
}

void runtime_free(struct runtime *rt)
{
	if (rt == NULL) {
		return;
	}
	if (rt->oev != NULL) {
		event_free(rt->oev);
	}
	if (rt->tev != NULL) {
		event_free(rt->tev);
	}
	for (struct outcome *o = rt->inflight, *n; o != NULL; o = n) {
		n = o->inext; /* queued ones are in this list too */
		if (o->z->removed) {
			zone_free(o->z); /* out of the table: its transfer was its last holder */
		}
		free(o);
	}
	if (rt->efd >= 0) {
		close(rt->efd);
	}
	timers_free(rt->tm);
	sched_free(rt->s);
	zonetab_free(rt->zones);
	free(rt->owned_parts);
	free(rt->done);
	primstats_free(rt->by_primary);
	pthread_mutex_destroy(&rt->mu);
	free(rt);
}
