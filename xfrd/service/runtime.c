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
	bool follower;  /* a copy from another replica (ENGINE_FOLLOW), not from a primary */
	bool seed;      /* such a copy standing in for an owner's first transfer */
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
	bool following;        /* zones not owned here follow their owner (Kafka mode) */
	bool follow_caught_up; /* every followed zone was held or tried once (sticky) */
	struct metrics_val *m_req[RUNTIME_ORIGIN_COUNT], *m_out[5], *m_expired, *m_refused_serial,
		*m_asked;
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
	if ((z->owned || z->orphan || rt->following) && !z->removed) {
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
	if (*have && z->owned &&
	    (info->state == ZDB_STATE_FOLLOWING || info->state == ZDB_STATE_BEHIND)) {
		z->plan.due = 0; /* a new owner checks its follower's copy with the primary now */
	}
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
	if (rt->o.src.expired != NULL && z->owned) {
		rt->o.src.expired(rt->o.src.ctx, z, info);
	}
}

static int request_zone(struct runtime *rt, struct zone *z, const struct zone_req *req,
                        unsigned flags, enum runtime_origin origin);

/* A refresh due (at the plan's time, or a recheck now) could not be asked for: the
 * store shows the zone overdue since then (zdb_zone_overdue(): once; the next
 * attempt's record clears it, and z->overdue with it). */
static void overdue(struct runtime *rt, struct zone *z, int64_t now)
{
	if (z->overdue) {
		return;
	}
	int64_t due = z->plan_valid && z->plan.due > 0 && z->plan.due <= now ? z->plan.due : now;
	int rc = zdb_zone_overdue(rt->o.db, zone_name(z), due);
	if (rc != 0 && rc != ZX_ENOTFOUND) { /* ENOTFOUND: nothing stored to show it on */
		log_warn("overdue_mark_failed", "zone=%s error=%s detail=\"%s\"", zone_name_text(z),
		         zx_strerror(rc), zdb_last_error());
		return;
	}
	z->overdue = true;
	log_debug("refresh_overdue", "zone=%s due=%lld", zone_name_text(z), (long long)due);
}

static void ask(struct runtime *rt, struct zone *z, int64_t now)
{
	z->recheck_at = 0;
	if (!z->owned && !z->orphan && !rt->o.own_all) {
		/* a follower asks nobody: it copies from the owner replica itself (a zone of
		 * a partition lost with Kafka asks as its owner did: see runtime_lost()) */
		struct zone_req req = {.partition = -1, .offset = -1};
		rt->st.follow_asked++;
		int rc = request_zone(rt, z, &req, ENGINE_FOLLOW, RUNTIME_ORIGIN_FOLLOW);
		if (rc != 0) {
			log_error("follow_request_failed", "zone=%s error=%s", zone_name_text(z),
			          zx_strerror(rc));
		}
		return;
	}
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
		/* asked again shortly: the plan stays due (counted by the source) */
		z->requested_at = now - RUNTIME_REQUEST_TIMEOUT + RUNTIME_ASK_AGAIN_S;
		rt->st.refresh_failed++;
		overdue(rt, z, now);
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

/* A follower's refresh: the zone's settings with the owner replica (then the others)
 * as its primaries and the peer key as its key. */
static int follow_request(struct runtime *rt, struct zone *z, unsigned flags, struct outcome *o)
{
	struct cfg_endpoint src[RUNTIME_FOLLOW_SOURCES];
	char owner[128] = "";
	size_t n = rt->o.src.follow_sources == NULL
	                   ? 0
	                   : rt->o.src.follow_sources(rt->o.src.ctx, z, src, RUNTIME_FOLLOW_SOURCES,
	                                              owner, sizeof(owner));
	if (n == 0) {
		return ZX_ENOTFOUND; /* nobody to copy from (yet) */
	}
	struct cfg_zone cz = z->set->z;
	cz.primaries = (struct cfg_endpoints){.v = src, .count = n};
	cz.key = rt->o.peer_key;
	cz.notify = (struct cfg_endpoints){0};
	/* the replicas are reached directly: the primaries' sources, proxies and TLS
	 * settings are theirs (and primary_egress is indexed by the primaries) */
	cz.egress = (struct cfg_egress){0};
	cz.primary_egress = NULL;
	struct zone_settings *set = NULL;
	int rc = zone_settings_from_cfg(&cz, &set);
	if (rc == 0) {
		rc = engine_request(rt->o.eng, set, flags, on_engine_done, o);
		zone_settings_unref(set); /* the engine holds its own */
	}
	return rc;
}

/* An owner that holds nothing of a zone (it just took the partition, or joined with
 * an empty store) copies it from another replica first, once: the primary then
 * answers an SOA check or an IXFR instead of an AXFR. Not for an operator's
 * retransfer, which means the primary's full zone. */
static bool wants_seed(struct runtime *rt, struct zone *z, unsigned flags)
{
	if (!rt->following || !z->owned || z->seed_tried || z->last.has_serial ||
	    (flags & ENGINE_FORCE_AXFR) != 0) {
		return false;
	}
	struct zdb_snap *s = NULL;
	struct zdb_zone_info info;
	bool have = zdb_snap_begin(rt->o.db, &s) == 0 && zdb_zone_get(s, zone_name(z), &info) == 0 &&
	            info.loaded;
	zdb_snap_end(s);
	return !have;
}

/* Hand @p z to the engine: a follower's copy, a seed from another replica (once, for an
 * owner that holds nothing), or a transfer from the primaries. */
static int start_transfer(struct runtime *rt, struct zone *z, unsigned flags, struct outcome *o)
{
	if ((flags & ENGINE_FOLLOW) != 0) {
		return follow_request(rt, z, flags, o);
	}
	if (wants_seed(rt, z, flags)) {
		z->seed_tried = true;
		if (follow_request(rt, z, flags | ENGINE_FOLLOW, o) == 0) {
			o->follower = o->seed = true;
			log_debug("zone_seeding", "zone=%s hint=\"an owner without a copy copies from "
			          "another replica first, then asks the primary for what is newer\"",
			          zone_name_text(z));
			return 0;
		}
	}
	return engine_request(rt->o.eng, z->set, flags, on_engine_done, o);
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
		o->follower = (flags & ENGINE_FOLLOW) != 0;
		o->inext = rt->inflight;
		if (rt->inflight != NULL) {
			rt->inflight->iprev = o;
		}
		rt->inflight = o;
		rc = start_transfer(rt, z, flags, o);
	}
	if (rc == 0) {
		return;
	}
	if (rc == ZX_ENOTFOUND && (flags & ENGINE_FOLLOW) != 0) {
		/* at start, before the others' records are read: the owner's event or the
		 * retry timer brings the copy */
		log_info("follow_no_source", "zone=%s partition=%d", zone_name_text(z), z->partition);
	} else {
		log_error("transfer_start_failed", "zone=%s error=%s", zone_name_text(z),
		          zx_strerror(rc));
	}
	if (o == NULL) {
		return; /* no memory: the zone stays running; its requests are read again */
	}
	o->xfr.outcome = XFR_FAILED;
	o->xfr.error = rc;
	o->xfr.why = rc == ZX_ENOTFOUND && (flags & ENGINE_FOLLOW) != 0 ? "no replica to copy from"
	                                                                : "engine request";
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
	z->overdue = false; /* an attempt: its record in the store cleared the mark */
	rt->ndone = 0;
	if (sched_finished(rt->s, z, has, serial) != 0) {
		log_warn("outcome_unexpected", "zone=%s", zone_name_text(z));
	}
	recheck(z, r, serial, now);
	/* a removed zone's last transfer tells nobody: its REMOVED went out already; a
	 * follower's copy tells nobody either: its owner announces the zone */
	bool announce = !z->removed && !o->follower &&
	                (stored || r->outcome == XFR_FAILED ||
	                 (r->outcome == XFR_UPTODATE && r->had_zone && !z->announced));
	if (announce && r->outcome != XFR_FAILED) {
		z->announced = true;
	}
	if (rt->o.src.outcome != NULL) {
		rt->o.src.outcome(rt->o.src.ctx, z, r, announce, rt->done, rt->ndone);
	}
	if (!z->removed && !o->follower) {
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
		if (o->seed) {
			z->plan.due = 0; /* the primary now: what is newer than the copy, or all */
			z->requested_at = 0;
		}
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

void runtime_refresh_lost(struct runtime *rt, const char *name, int rc)
{
	(void)rc; /* counted by the source, with its reason */
	rt->st.refresh_failed++;
	struct zone *z = zonetab_find_text(rt->zones, name);
	if (z == NULL || z->requested_at == 0) {
		return; /* gone, or no longer ours to ask for (its outcome came, or it moved) */
	}
	int64_t now = clock_wall_s();
	z->requested_at = now - RUNTIME_REQUEST_TIMEOUT + RUNTIME_ASK_AGAIN_S;
	overdue(rt, z, now);
	arm(rt, z);
	arm_event(rt);
}

void runtime_follow_start(struct runtime *rt)
{
	if (rt->following) {
		return;
	}
	rt->following = true;
	size_t n = 0;
	for (struct zone *z = zonetab_next(rt->zones, NULL); z != NULL;
	     z = zonetab_next(rt->zones, z)) {
		if (!z->owned) {
			z->plan_valid = false;
			arm(rt, z);
			n++;
		}
	}
	arm_event(rt);
	log_info("follow_started", "zones_followed=%zu zones_owned=%zu", n,
	         zonetab_count(rt->zones) - n);
}

bool runtime_follow_caught_up(struct runtime *rt, char *why, size_t whylen)
{
	if (rt->follow_caught_up) {
		return true;
	}
	if (!rt->following) {
		snprintf(why, whylen, "not following the other replicas yet");
		return false;
	}
	struct zdb_snap *s = NULL;
	if (zdb_snap_begin(rt->o.db, &s) != 0) {
		snprintf(why, whylen, "store: %s", zdb_last_error());
		return false;
	}
	size_t waiting = 0;
	const char *first = NULL;
	for (struct zone *z = zonetab_next(rt->zones, NULL); z != NULL;
	     z = zonetab_next(rt->zones, z)) {
		struct zdb_zone_info info;
		if (z->owned || z->last.outcome != 0 ||
		    (zdb_zone_get(s, zone_name(z), &info) == 0 && info.loaded)) {
			continue;
		}
		if (waiting++ == 0) {
			first = zone_name_text(z);
		}
	}
	zdb_snap_end(s);
	if (waiting > 0) {
		snprintf(why, whylen, "%zu zones not copied from the other replicas yet (%s)", waiting,
		         first);
		return false;
	}
	rt->follow_caught_up = true;
	log_info("follow_caught_up", "zones=%zu", zonetab_count(rt->zones));
	return true;
}

void runtime_announce(struct runtime *rt, const char *name, uint32_t serial, bool expired,
                      const char *replica)
{
	struct zone *z = zonetab_find_text(rt->zones, name);
	if (!rt->following || z == NULL || z->owned || z->removed) {
		return;
	}
	rt->st.announced++;
	struct zdb_zone_info info;
	bool have = false;
	struct zdb_snap *s = NULL;
	if (zdb_snap_begin(rt->o.db, &s) == 0) {
		have = zdb_zone_get(s, zone_name(z), &info) == 0;
	}
	zdb_snap_end(s);
	int64_t now = clock_wall_s();
	if (expired) {
		if (have && info.loaded && info.state != ZDB_STATE_EXPIRED &&
		    serial_cmp(info.serial, serial) != SERIAL_GT) {
			expire(rt, z, &info, now); /* the owner's copy passed its expire: ours too */
			z->plan_valid = false;
			arm(rt, z);
			arm_event(rt);
		}
		return;
	}
	if (have && info.loaded && serial_cmp(serial, info.serial) != SERIAL_GT) {
		return; /* we hold it already */
	}
	char text[160];
	snprintf(text, sizeof(text), "replica %s announced serial %u", replica, serial);
	struct zdb_event_info ev = {.text = text};
	int rc = zdb_zone_event(rt->o.db, zone_name(z), ZDB_EV_ANNOUNCED, now, &ev, NULL);
	if (rc != 0) {
		log_warn("announce_mark_failed", "zone=%s error=%s", zone_name_text(z),
		         zx_strerror(rc));
	}
	struct zone_req req = {.partition = -1, .offset = -1, .has_serial = true, .serial = serial};
	rc = request_zone(rt, z, &req, ENGINE_FOLLOW, RUNTIME_ORIGIN_FOLLOW);
	if (rc != 0) {
		log_error("follow_request_failed", "zone=%s error=%s", zone_name_text(z),
		          zx_strerror(rc));
	}
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
		if (owned != z->owned) {
			/* losing it: its requests are the new owner's; taking it: a follower's
			 * copy requests are moot, the owner's own check comes next */
			sched_drop(rt->s, z);
			/* no longer this replica's to refresh: out of xfrd_zones_refresh_overdue
			 * (the store's mark stays with its copy, which is not refreshed here) */
			z->overdue = false;
		}
		z->owned = owned;
		z->seed_tried = false;
		z->orphan = false;
		z->plan_valid = false;
		z->requested_at = 0;
		z->recheck_at = 0;
		z->announced = false;
		arm(rt, z);
	}
	arm_event(rt);
}

bool runtime_owns_name(const struct runtime *rt, const uint8_t *name)
{
	char text[DNAME_TEXTLEN];
	if (rt->o.own_all) {
		return true;
	}
	if (rt->partitions <= 0 || dname_to_text(name, text, sizeof(text)) != 0) {
		return false;
	}
	int32_t part = reqtopic_partition(text, rt->partitions);
	return part >= 0 && part < rt->partitions && rt->owned_parts[part];
}

size_t runtime_owned_partitions(const struct runtime *rt, int32_t *out, size_t max)
{
	size_t n = 0;
	for (int32_t i = 0; i < rt->partitions && n < max; i++) {
		if (rt->owned_parts[i]) {
			out[n++] = i;
		}
	}
	return n;
}

void runtime_lost(struct runtime *rt, int32_t partition)
{
	runtime_own(rt, partition, false);
	for (struct zone *z = zonetab_next(rt->zones, NULL); z != NULL;
	     z = zonetab_next(rt->zones, z)) {
		if (z->partition == partition) {
			z->orphan = true; /* its timers go on: see runtime.h */
			arm(rt, z);
		}
	}
	arm_event(rt);
}

void runtime_regrouped(struct runtime *rt)
{
	for (struct zone *z = zonetab_next(rt->zones, NULL); z != NULL;
	     z = zonetab_next(rt->zones, z)) {
		if (z->orphan) {
			z->orphan = false; /* placed again: its owner keeps its timers */
			z->overdue = false; /* and shows it overdue, if it is */
			z->requested_at = 0;
			arm(rt, z);
		}
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

/* Zones marked overdue (a scrape walks them: O(zones)). */
static double g_overdue(void *arg)
{
	const struct zonetab *t = ((struct runtime *)arg)->zones;
	size_t n = 0;
	for (const struct zone *z = zonetab_next(t, NULL); z != NULL; z = zonetab_next(t, z)) {
		n += z->overdue;
	}
	return (double)n;
}

static double g_zones(void *arg)
{
	return (double)zonetab_count(((struct runtime *)arg)->zones);
}

/* Zones whose partition this process owns (a scrape walks them: O(zones)); the others
 * it follows (Kafka mode). */
static double g_zones_owned(void *arg)
{
	const struct runtime *rt = arg;
	size_t n = 0;
	for (struct zone *z = zonetab_next(rt->zones, NULL); z != NULL;
	     z = zonetab_next(rt->zones, z)) {
		n += z->owned;
	}
	return (double)n;
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
	                                                          "retransfer", "follow"};
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
	ok &= metrics_gauge_cb(m, "xfrd_zones_refresh_overdue", NULL,
	                       "zones whose refresh was due and could not be asked for "
	                       "(shown overdue by xfrctl)", g_overdue, rt) == 0;
	ok &= (rt->m_refused_serial = metrics_counter(m, "xfrd_transfers_refused_serial_total",
	                                              NULL, "transfers refused: their serial was "
	                                              "not newer than the stored one")) != NULL;
	ok &= engine_set_metrics(rt->o.eng, m) == 0; /* per-proxy series (xfrd/xfr/proxies.h) */
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
	ok &= metrics_gauge_cb(m, "xfrd_zones_owned", NULL,
	                       "zones whose partition this process owns (it talks to their "
	                       "primaries; it copies the others from their owners)",
	                       g_zones_owned, rt) == 0;
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
	if (o->peer_key == NULL && o->cfg != NULL) {
		rt->o.peer_key = o->cfg->xfrd.peer_key;
	}
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
