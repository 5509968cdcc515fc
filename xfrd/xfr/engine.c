/* SPDX-License-Identifier: MIT */
/* xfrd/xfr/engine.c -- worker pool, limits overall and per primary, primaries in order.
 *
 * One mutex guards the bookkeeping (primary queues, worker inboxes, the live
 * jobs, counters); transfers themselves run on the workers' event bases
 * without it. A refresh ("job") moves:
 *
 *   request --> primary queue --dispatch (slot free overall and at that primary)-->
 *   worker inbox --wake--> xfr running --done--> next primary's queue (failed, more left)
 *                                           `--> finished: store note, callbacks
 */
#include "xfrd/xfr/engine.h"

#include "common/clock.h"
#include "common/acl.h"
#include "common/log.h"
#include "common/serial.h"
#include "xfrd/xfr/commitq.h"
#include "xfrd/xfr/connpool.h"
#include "xfrd/xfr/proxies.h"
#include "xfrd/xfr/xot.h"
#include "xfrd/zone/zone.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How long a worker keeps a connection to a primary after a transfer: long
 * enough to carry a burst of refreshes, well under the primaries' own idle
 * timeouts (Knot 10 s by default, BIND 30 s, NSD 120 s). */
#define IDLE_CONN_MS 2000

struct prim;
struct worker;

struct job {
	struct job *next;          /* in a primary queue or a worker inbox */
	struct job *lprev, *lnext; /* e->jobs: every live job */
	struct zone_settings *set; /* a reference */
	const struct cfg_zone *z;  /* &set->z */
	unsigned flags;
	engine_cb cb;
	void *arg;
	size_t pi; /* index of the primary being tried */
	/* the primary's proxies (its egress), in the order proxies_order() gave when the
	   primary's first attempt started; xi: the one being tried */
	uint8_t order[PROXIES_PER_EGRESS];
	size_t norder, xi;
	const struct cfg_proxy *proxy; /* the one being tried; NULL: direct */
	struct prim *prim;
	struct worker *w;
	struct xfr *x;
	unsigned attempts;
	bool released; /* this attempt gave its primary's slot back before its end */
	struct xfr_result last;
};

struct prim {
	struct sockaddr_storage addr;
	socklen_t len;
	uint32_t running;
	struct job *head, *tail;
};

struct worker {
	struct engine *e;
	pthread_t th;
	bool started;
	struct event_base *base;
	struct event *wake;
	struct connpool *pool; /* idle connections to primaries, this worker's */
	struct job *inbox;
};

struct engine {
	struct engine_opts o;
	pthread_mutex_t mu;
	pthread_cond_t idle_cv;
	bool stopping;
	uint64_t outstanding; /* jobs not finished (running or queued) */
	struct job *jobs;     /* every live job, for engine_free() */
	struct prim **prims;
	size_t nprims, prim_rr;
	struct worker *workers;
	size_t next_worker;
	struct commitq *commitq; /* NULL: commits run on the workers */
	struct proxies *proxies; /* SOCKS5 proxies' health and counters */
	struct xot *xot;         /* TLS contexts, sessions and counters (XFR over TLS) */
	struct engine_stats st;
};

static pthread_once_t evthread_once = PTHREAD_ONCE_INIT;
static int evthread_rc;

static void evthread_setup(void)
{
	evthread_rc = evthread_use_pthreads();
}

/* ---- bookkeeping (engine lock held) ------------------------------------- */

static struct prim *prim_for(struct engine *e, const struct cfg_endpoint *ep)
{
	for (size_t i = 0; i < e->nprims; i++) {
		if (acl_endpoint_equal((const struct sockaddr *)&e->prims[i]->addr,
		                       (const struct sockaddr *)&ep->addr)) {
			return e->prims[i];
		}
	}
	struct prim **v = realloc(e->prims, (e->nprims + 1) * sizeof(*v));
	if (v == NULL) {
		return NULL;
	}
	e->prims = v;
	struct prim *p = calloc(1, sizeof(*p));
	if (p == NULL) {
		return NULL;
	}
	memcpy(&p->addr, &ep->addr, ep->len);
	p->len = ep->len;
	e->prims[e->nprims++] = p;
	return p;
}

static int enqueue(struct engine *e, struct job *j)
{
	struct prim *p = prim_for(e, &j->z->primaries.v[j->pi]);
	if (p == NULL) {
		return ZX_ENOMEM;
	}
	j->prim = p;
	j->next = NULL;
	if (p->tail != NULL) {
		p->tail->next = j;
	} else {
		p->head = j;
	}
	p->tail = j;
	e->st.queued++;
	return 0;
}

/* A primary with a waiting job and a free slot, round robin; NULL when none. */
static struct prim *ready_prim(struct engine *e)
{
	for (size_t k = 0; k < e->nprims; k++) {
		struct prim *p = e->prims[(e->prim_rr + k) % e->nprims];
		if (p->head != NULL && p->running < e->o.per_primary) {
			e->prim_rr = (e->prim_rr + k + 1) % e->nprims;
			return p;
		}
	}
	return NULL;
}

static void dispatch(struct engine *e)
{
	struct prim *p;
	while (!e->stopping && e->st.running < e->o.max_transfers && (p = ready_prim(e)) != NULL) {
		struct job *j = p->head;
		p->head = j->next;
		if (p->head == NULL) {
			p->tail = NULL;
		}
		p->running++;
		if (p->running > e->st.max_at_primary) {
			e->st.max_at_primary = p->running;
		}
		e->st.queued--;
		e->st.running++;
		if (e->st.running > e->st.max_running) {
			e->st.max_running = e->st.running;
		}
		struct worker *w = &e->workers[e->next_worker++ % e->o.workers];
		j->w = w;
		bool was_empty = w->inbox == NULL;
		j->next = w->inbox;
		w->inbox = j;
		if (was_empty) {
			event_active(w->wake, EV_TIMEOUT, 0);
		}
	}
}

/* Engine lock held. */
static void unlink_job(struct engine *e, struct job *j)
{
	if (j->lprev != NULL) {
		j->lprev->lnext = j->lnext;
	} else {
		e->jobs = j->lnext;
	}
	if (j->lnext != NULL) {
		j->lnext->lprev = j->lprev;
	}
}

static void free_job(struct job *j)
{
	if (j != NULL) {
		xfr_free(j->x);
		zone_settings_unref(j->set);
		free(j);
	}
}

/* ---- finishing a job ---------------------------------------------------- */

/* A transfer refused for its serial, or forced back to an older one: said at warn. */
static void log_serial(const struct job *j)
{
	const struct xfr_result *r = &j->last;
	const char *zone = j->z->name_text;
	if (r->outcome == XFR_FAILED && r->error == ZX_ESERIAL) {
		char q[XFR_DETAIL_MAX + 8];
		log_warn("xfr_serial_refused", "zone=%s serial=%u primary_serial=%u primary=%s "
		         "detail=%s", zone, r->old_serial, r->primary_serial, r->primary,
		         log_quote(r->detail, q, sizeof(q)));
	} else if ((r->outcome == XFR_AXFR || r->outcome == XFR_IXFR) && r->commit.had_serial &&
	           !serial_newer(r->commit.serial, r->commit.old_serial) &&
	           r->commit.serial != r->commit.old_serial) {
		log_warn("xfr_serial_back", "zone=%s old_serial=%u serial=%u primary=%s forced=yes",
		         zone, r->commit.old_serial, r->commit.serial, r->primary);
	}
}

/* " tls=full|resumed|kept" (how the last exchange got its session: a full handshake,
 * a resumed one, a kept connection), " tls=failed tls_reason=..."; "" without TLS. */
static const char *tls_text(const struct xfr_result *r, char *buf, size_t size)
{
	if (!r->tls) {
		buf[0] = '\0';
	} else if (r->tls_info.reason != XOT_OK) {
		snprintf(buf, size, " tls=failed tls_reason=%s", xot_reason_str(r->tls_info.reason));
	} else {
		snprintf(buf, size, " tls=%s", r->tls_handshakes == 0 ? "kept"
		                                : r->tls_info.resumed ? "resumed" : "full");
	}
	return buf;
}

static void log_outcome(const struct job *j)
{
	const struct xfr_result *r = &j->last;
	const char *zone = j->z->name_text;
	double ms = (double)r->duration_us / 1000.0;
	char t[64];
	tls_text(r, t, sizeof(t));
	log_serial(j);
	if (r->outcome == XFR_FAILED) {
		char q[256], d[XFR_DETAIL_MAX + 8];
		log_warn("xfr_failed", "zone=%s error=%s why=%s detail=%s rcode=%u primary=%s "
		         "attempts=%u duration_ms=%.1f%s%s%s", zone, zx_strerror(r->error),
		         log_quote(r->why != NULL ? r->why : "", q, sizeof(q)),
		         log_quote(r->detail, d, sizeof(d)), r->rcode, r->primary, j->attempts, ms,
		         r->proxy[0] != '\0' ? " proxy=" : "", r->proxy, t);
	} else if (r->outcome == XFR_UPTODATE) {
		log_info("xfr_uptodate", "zone=%s serial=%u primary_serial=%u primary=%s "
		         "duration_ms=%.1f%s%s%s%s", zone, r->old_serial, r->primary_serial,
		         r->primary, ms, r->proxy[0] != '\0' ? " proxy=" : "", r->proxy,
		         r->soa_udp_proxy ? " soa=udp-relay" : "", t);
	} else {
		char q[128];
		const char *fb = r->fell_back ? zx_strerror(r->fallback_error) : "no";
		log_info("xfr_done", "zone=%s kind=%s old_serial=%u serial=%u records=%llu added=%llu "
		         "deleted=%llu changesets=%llu messages=%llu bytes=%llu fallback=%s "
		         "primary=%s duration_ms=%.1f soa_ms=%.1f commit_ms=%.1f conn=%s%s%s%s%s", zone,
		         xfr_outcome_str(r->outcome),
		         r->commit.had_serial ? r->commit.old_serial : 0, r->commit.serial,
		         (unsigned long long)r->commit.records, (unsigned long long)r->added,
		         (unsigned long long)r->deleted, (unsigned long long)r->changesets,
		         (unsigned long long)r->messages, (unsigned long long)r->bytes,
		         log_quote(fb, q, sizeof(q)), r->primary, ms, (double)r->soa_us / 1000.0,
		         (double)r->commit_us / 1000.0, r->conn_reused ? "reused" : "new",
		         r->proxy[0] != '\0' ? " proxy=" : "", r->proxy,
		         r->soa_udp_proxy ? " soa=udp-relay" : "", t);
	}
}

/* Record the final outcome in the store (transfers recorded themselves). */
static void note_store(struct engine *e, struct job *j)
{
	const struct xfr_result *r = &j->last;
	const uint8_t *zone = j->z->name;
	int64_t now = clock_wall_s();
	bool follow = (j->flags & XFR_FOLLOW) != 0;
	int rc = 0;
	if (r->outcome == XFR_FAILED) {
		char text[ZDB_ERRTEXT_MAX]; /* xfrctl prints the code's text beside it */
		engine_error_text(r, text, sizeof(text));
		rc = e->o.ops->fail(e->o.store, zone, now, r->error, text, r->primary, &j->last.state);
	} else if (r->outcome == XFR_UPTODATE && follow && e->o.ops->followed != NULL) {
		rc = e->o.ops->followed(e->o.store, zone, now, r->primary, &j->last.state);
	} else if (r->outcome == XFR_UPTODATE) {
		rc = e->o.ops->fresh(e->o.store, zone, now, &j->last.state);
	} else {
		/* the commit's COMMITTED, or a follower's FOLLOWED */
		j->last.state = follow && e->o.ops->set_follow != NULL ? ZDB_STATE_FOLLOWING
		                                                       : ZDB_STATE_FRESH;
	}
	if (rc != 0) {
		log_error("store_note_failed", "zone=%s error=%s", j->z->name_text,
		          zx_strerror(rc));
	}
}

static void count_outcome(struct engine *e, const struct xfr_result *r)
{
	switch (r->outcome) {
	case XFR_UPTODATE:
		e->st.uptodate++;
		break;
	case XFR_AXFR:
		e->st.axfr++;
		break;
	case XFR_IXFR:
		e->st.ixfr++;
		break;
	case XFR_FAILED:
		e->st.failed++;
		break;
	}
	if (r->fell_back) {
		e->st.fallbacks++;
	}
	if (r->outcome == XFR_FAILED && r->error == ZX_ESERIAL) {
		e->st.refused_serial++;
	}
}

void engine_error_text(const struct xfr_result *r, char *buf, size_t size)
{
	const char *why = r->why != NULL ? r->why : "transfer";
	char rcode[24] = "";
	if (r->rcode != 0) {
		snprintf(rcode, sizeof(rcode), ": rcode %u", r->rcode);
	}
	int n = snprintf(buf, size, "%s%s", why, rcode);
	if (n > 0 && (size_t)n + 2 < size && r->detail[0] != '\0') {
		snprintf(buf + n, size - (size_t)n, ": %.*s", (int)(size - (size_t)n - 3), r->detail);
	}
}

static void finish_job(struct engine *e, struct job *j)
{
	note_store(e, j);
	log_outcome(j);
	pthread_mutex_lock(&e->mu);
	count_outcome(e, &j->last);
	unlink_job(e, j);
	dispatch(e);
	pthread_mutex_unlock(&e->mu);

	struct engine_result res = {.set = j->set, .attempts = j->attempts, .xfr = j->last};
	if (j->cb != NULL) {
		j->cb(j->arg, &res);
	}
	free_job(j);
	pthread_mutex_lock(&e->mu);
	if (--e->outstanding == 0) {
		pthread_cond_broadcast(&e->idle_cv);
	}
	pthread_mutex_unlock(&e->mu);
}

/* One primary's attempt ended (worker thread). */
static void attempt_done(struct engine *e, struct job *j)
{
	j->attempts++;
	pthread_mutex_lock(&e->mu);
	if (!j->released) {
		j->prim->running--;
	}
	j->released = false;
	e->st.running--;
	bool failed = j->last.outcome == XFR_FAILED && !e->stopping;
	if (j->proxy != NULL) {
		proxies_note(e->proxies, j->proxy, clock_mono_ms(), &j->last);
	}
	if (j->last.tls && (j->last.tls_handshakes > 0 || j->last.tls_info.reason != XOT_OK)) {
		xot_note(e->xot, j->last.primary, &j->last.tls_info);
	}
	if (failed && j->proxy != NULL && j->last.egress_fail != XFR_EGRESS_OK &&
	    j->xi + 1 < j->norder) {
		/* the path failed, not the primary: the same primary through the next proxy */
		char q[XFR_DETAIL_MAX + 8];
		log_warn("xfr_proxy_failed", "zone=%s primary=%s proxy=%s error=%s detail=%s "
		         "next_proxy=%zu", j->z->name_text, j->last.primary, j->last.proxy,
		         zx_strerror(j->last.error), log_quote(j->last.detail, q, sizeof(q)),
		         j->xi + 1);
		j->xi++;
		e->st.proxy_failovers++;
		bool queued = enqueue(e, j) == 0;
		dispatch(e);
		pthread_mutex_unlock(&e->mu);
		if (!queued) {
			finish_job(e, j);
		}
		return;
	}
	bool retry = failed && j->pi + 1 < j->z->primaries.count;
	if (retry) {
		j->xi = 0;
		j->norder = 0;
		log_info("xfr_primary_failed", "zone=%s primary=%s error=%s next=%zu",
		         j->z->name_text, j->last.primary, zx_strerror(j->last.error),
		         j->pi + 1);
		j->pi++;
		retry = enqueue(e, j) == 0;
	}
	dispatch(e);
	pthread_mutex_unlock(&e->mu);
	if (!retry) {
		finish_job(e, j);
	}
}

/* An AXFR's data is in and its commit starts (worker thread): the primary's slot
 * goes to the next transfer, the overall one stays taken until the end. Commits
 * queued meanwhile are synced together (the store's group commit), so the disk
 * sync no longer paces the transfers from one primary. */
static void on_xfr_released(void *arg)
{
	struct job *j = arg;
	struct engine *e = j->w->e;
	pthread_mutex_lock(&e->mu);
	j->prim->running--;
	j->released = true;
	dispatch(e);
	pthread_mutex_unlock(&e->mu);
}

static void on_xfr_done(void *arg, struct xfr *x, const struct xfr_result *res)
{
	struct job *j = arg;
	j->last = *res;
	j->x = NULL;
	xfr_free(x);
	attempt_done(j->w->e, j);
}

/* The egress in force for the primary being tried. */
static const struct cfg_egress *job_egress(const struct job *j)
{
	return j->z->primary_egress != NULL ? &j->z->primary_egress[j->pi] : &j->z->egress;
}

/* Pick the proxy for this attempt: the first attempt at a primary orders its proxies
 * by health (xfrd/xfr/proxies.h); later ones take the next in that order. */
static void pick_proxy(struct engine *e, struct job *j, const struct cfg_egress *eg)
{
	j->proxy = NULL;
	if (eg->proxy_count == 0) {
		return;
	}
	if (j->xi == 0) {
		pthread_mutex_lock(&e->mu);
		j->norder = proxies_order(e->proxies, eg, clock_mono_ms(), j->order);
		pthread_mutex_unlock(&e->mu);
	}
	j->proxy = &eg->proxies[j->order[j->xi]];
}

static void start_job(struct engine *e, struct worker *w, struct job *j)
{
	const struct cfg_zone *z = j->z;
	const struct cfg_endpoint *ep = &z->primaries.v[j->pi];
	const struct cfg_egress *eg = job_egress(j);
	pick_proxy(e, j, eg);
	struct xot_client *tls = NULL;
	char detail[XOT_DETAIL_MAX];
	int rc = eg->tls != NULL ? xot_client_get(e->xot, eg->tls, &tls, detail) : 0;
	if (rc != 0) {
		memset(&j->last, 0, sizeof(j->last));
		j->last.outcome = XFR_FAILED;
		j->last.error = rc;
		j->last.why = "TLS setup";
		j->last.tls = true;
		j->last.tls_info.reason = XOT_LOCAL;
		acl_addr_str((const struct sockaddr *)&ep->addr, true, j->last.primary,
		             sizeof(j->last.primary));
		snprintf(j->last.detail, sizeof(j->last.detail), "%s", detail);
		attempt_done(e, j);
		return;
	}
	struct xfr_params p = {
		.zone = z->name, .primary = (const struct sockaddr *)&ep->addr,
		.primary_len = ep->len, .key = z->key, .connect_ms = e->o.connect_ms,
		.read_ms = e->o.read_ms, .soa_ms = e->o.soa_ms, .transfer_ms = e->o.transfer_ms,
		.max_records = z->limits.records, .max_bytes = z->limits.bytes, .flags = j->flags,
		.ops = e->o.ops, .store = e->o.store, .commitq = e->commitq, .pool = w->pool,
		.source = eg->source.len != 0 ? &eg->source : NULL, .proxy = j->proxy,
		.tls = tls,
		.released = on_xfr_released,
	};
	rc = xfr_start(w->base, &p, on_xfr_done, j, &j->x);
	if (rc != 0) {
		memset(&j->last, 0, sizeof(j->last));
		j->last.outcome = XFR_FAILED;
		j->last.error = rc;
		j->last.why = "transfer start";
		attempt_done(e, j);
	}
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct worker *w = arg;
	pthread_mutex_lock(&w->e->mu);
	struct job *j = w->inbox;
	w->inbox = NULL;
	bool stop = w->e->stopping;
	pthread_mutex_unlock(&w->e->mu);
	if (stop) {
		/* from inside the loop: a loopbreak from another thread before the
		   loop started would be forgotten when it starts */
		event_base_loopbreak(w->base);
		return;
	}
	while (j != NULL) {
		struct job *next = j->next;
		j->next = NULL;
		start_job(w->e, w, j);
		j = next;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	(void)event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

/* ---- API ---------------------------------------------------------------- */

static int workers_start(struct engine *e)
{
	e->workers = calloc(e->o.workers, sizeof(*e->workers));
	if (e->workers == NULL) {
		return ZX_ENOMEM;
	}
	for (unsigned i = 0; i < e->o.workers; i++) {
		struct worker *w = &e->workers[i];
		w->e = e;
		w->base = event_base_new();
		w->wake = w->base != NULL ? event_new(w->base, -1, 0, on_wake, w) : NULL;
		if (w->wake == NULL ||
		    connpool_new(w->base, e->o.per_primary, IDLE_CONN_MS, &w->pool) != 0) {
			return ZX_ENOMEM;
		}
		if (pthread_create(&w->th, NULL, worker_main, w) != 0) {
			return ZX_ENOMEM;
		}
		w->started = true;
	}
	return 0;
}

int engine_new(const struct engine_opts *o, struct engine **out)
{
	if (o->workers == 0 || o->max_transfers == 0 || o->per_primary == 0 || o->ops == NULL ||
	    o->store == NULL) {
		return ZX_EINVAL;
	}
	pthread_once(&evthread_once, evthread_setup);
	if (evthread_rc != 0) {
		return ZX_ENOMEM;
	}
	struct engine *e = calloc(1, sizeof(*e));
	if (e == NULL) {
		return ZX_ENOMEM;
	}
	e->o = *o;
	pthread_mutex_init(&e->mu, NULL);
	pthread_cond_init(&e->idle_cv, NULL);
	int rc = o->commit_threads > 0 ? commitq_new(o->commit_threads, &e->commitq) : 0;
	if (rc == 0) {
		rc = proxies_new(o->metrics, &e->proxies);
	}
	if (rc == 0) {
		rc = xot_new(o->metrics, &e->xot);
	}
	if (rc != 0) {
		engine_free(e);
		return rc;
	}
	rc = workers_start(e);
	if (rc != 0) {
		engine_free(e);
		return rc;
	}
	*out = e;
	return 0;
}

/* Every live job (the workers are joined): running xfrs are aborted, nothing
 * half-written stays; commits already made stand; no callback runs. */
static void free_jobs(struct engine *e)
{
	for (struct job *j = e->jobs, *n; j != NULL; j = n) {
		n = j->lnext;
		free_job(j);
	}
	e->jobs = NULL;
}

void engine_free(struct engine *e)
{
	if (e == NULL) {
		return;
	}
	pthread_mutex_lock(&e->mu);
	e->stopping = true;
	pthread_mutex_unlock(&e->mu);
	for (unsigned i = 0; e->workers != NULL && i < e->o.workers; i++) {
		struct worker *w = &e->workers[i];
		if (w->started) {
			event_active(w->wake, EV_TIMEOUT, 0);
			pthread_join(w->th, NULL);
		}
	}
	free_jobs(e); /* aborts running xfrs (their bases no longer run); commits stand */
	commitq_free(e->commitq);
	for (unsigned i = 0; e->workers != NULL && i < e->o.workers; i++) {
		connpool_free(e->workers[i].pool);
		if (e->workers[i].wake != NULL) {
			event_free(e->workers[i].wake);
		}
		if (e->workers[i].base != NULL) {
			event_base_free(e->workers[i].base);
		}
	}
	for (size_t i = 0; i < e->nprims; i++) {
		free(e->prims[i]);
	}
	free(e->prims);
	free(e->workers);
	proxies_free(e->proxies);
	xot_free(e->xot); /* after the pools: their TLS sessions point into it */
	pthread_cond_destroy(&e->idle_cv);
	pthread_mutex_destroy(&e->mu);
	free(e);
}

/* Every proxy the zone may use is in the table (its series registered) before any
 * attempt: on the requesting thread, under the engine lock. */
static int know_proxies(struct engine *e, const struct cfg_zone *z)
{
	int rc = proxies_add(e->proxies, &z->egress);
	for (size_t i = 0; rc == 0 && z->primary_egress != NULL && i < z->primaries.count; i++) {
		rc = proxies_add(e->proxies, &z->primary_egress[i]);
		if (rc == 0 && z->primary_egress[i].tls != NULL) { /* its TLS series too */
			char name[ACL_ADDRSTRLEN];
			acl_addr_str((const struct sockaddr *)&z->primaries.v[i].addr, true, name,
			             sizeof(name));
			rc = xot_know(e->xot, name);
		}
	}
	return rc;
}

int engine_set_metrics(struct engine *e, struct metrics *m)
{
	struct proxies *t = NULL;
	int rc = proxies_new(m, &t);
	if (rc != 0) {
		return rc;
	}
	pthread_mutex_lock(&e->mu);
	struct proxies *old = e->proxies;
	e->proxies = t;
	rc = xot_set_metrics(e->xot, m);
	for (struct job *j = e->jobs; j != NULL && rc == 0; j = j->lnext) {
		rc = know_proxies(e, j->z); /* requests made before: their proxies again */
	}
	pthread_mutex_unlock(&e->mu);
	proxies_free(old);
	return rc;
}

void engine_proxy_state(struct engine *e, const struct cfg_proxy *px, struct proxies_state *out)
{
	pthread_mutex_lock(&e->mu);
	proxies_get(e->proxies, px, out);
	pthread_mutex_unlock(&e->mu);
}

int engine_request(struct engine *e, struct zone_settings *set, unsigned flags, engine_cb cb,
                   void *arg)
{
	if (set->z.primaries.count == 0) {
		return ZX_EINVAL;
	}
	struct job *j = calloc(1, sizeof(*j));
	if (j == NULL) {
		return ZX_ENOMEM;
	}
	j->set = zone_settings_ref(set);
	j->z = &set->z;
	j->flags = flags;
	j->cb = cb;
	j->arg = arg;
	pthread_mutex_lock(&e->mu);
	int rc = e->stopping ? ZX_ESHUTDOWN : know_proxies(e, &set->z);
	if (rc == 0) {
		rc = enqueue(e, j);
	}
	if (rc == 0) {
		e->st.requests++;
		e->outstanding++;
		j->lnext = e->jobs;
		if (e->jobs != NULL) {
			e->jobs->lprev = j;
		}
		e->jobs = j;
		dispatch(e);
	}
	pthread_mutex_unlock(&e->mu);
	if (rc != 0) {
		free_job(j);
	}
	return rc;
}

void engine_wait_idle(struct engine *e)
{
	pthread_mutex_lock(&e->mu);
	while (e->outstanding > 0) {
		pthread_cond_wait(&e->idle_cv, &e->mu);
	}
	pthread_mutex_unlock(&e->mu);
}

void engine_stats(struct engine *e, struct engine_stats *out)
{
	pthread_mutex_lock(&e->mu);
	*out = e->st;
	pthread_mutex_unlock(&e->mu);
}
