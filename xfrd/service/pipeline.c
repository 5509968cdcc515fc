/* SPDX-License-Identifier: MIT */
/* xfrd/service/pipeline.c -- wiring of consumer, producer, refresh timers, health and the DNS
 * endpoint on one loop. */
#include "xfrd/service/pipeline.h"

#include "common/cfg/cfg.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/ops/opshttp.h"
#include "common/tsig/tsig.h"
#include "proto/reqtopic.h"
#include "xfrd/api/api.h"
#include "xfrd/kafka/consumer.h"
#include "xfrd/xfr/engine.h"
#include "xfrd/notify/notifier.h"
#include "xfrd/service/peers.h"
#include "xfrd/service/reload.h"
#include "xfrd/service/runtime.h"
#include "xfrd/service/zonemetrics.h"
#include "xfrd/service/zoneset.h"
#include "xfrd/serve/serve.h"
#include "xfrd/xfr/store.h"
#include "xfrd/kafka/updates.h"

#include <event2/event.h>
#include <signal.h>
#include <stdlib.h>

struct pipe_ctx {
	const struct cfg *cfg;   /* in force: the start's, or the last reload's (a reference) */
	struct event_base *base;
	struct metrics *m;
	struct updates *up;
	struct runtime *rt;
	struct consumer *cons;
	struct opshttp *http;
	struct serve *srv; /* the DNS endpoint: SOA/AXFR/IXFR of what this replica holds */
	struct notifier *nt; /* NOTIFY to the zones' downstream secondaries */
	struct zoneset *zs;  /* the file's zones and the registry's */
	struct api *api;     /* the REST API on xfrd.http (when xfrd.api.tokens is set) */
	struct peers *peers; /* the other replicas: where this one copies the zones it does
	                      * not own from */
	struct zonemetrics *zm; /* xfrd_zone_* series */
	struct event *sigint, *sigterm, *sighup;
};

static void on_stop(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	struct pipe_ctx *p = arg;
	log_info("xfrd_stopping", "signal=%d", (int)sig);
	event_base_loopbreak(p->base);
}

/* SIGHUP: read the file again and apply what may change live (xfrd/service/reload.h):
 * all of it, or nothing when a field that needs a restart changed. */
static void reload_cfg(struct pipe_ctx *p)
{
	struct cfg *ncfg = NULL;
	char err[4096], q[1024], path[4096];
	snprintf(path, sizeof(path), "%s", p->cfg->path); /* the old cfg is freed below */
	int rc = cfg_load(path, &ncfg, err, sizeof(err));
	if (rc != 0) {
		log_error("reload_failed", "path=%s error=%s", path, log_quote(err, q, sizeof(q)));
		return;
	}
	char fields[512];
	if (reload_restart_fields(p->cfg, ncfg, fields, sizeof(fields)) > 0) {
		log_error("reload_refused", "path=%s fields=%s hint=\"these are read at start only: "
		          "restart xfrd to change them; nothing was applied\"", path, fields);
		cfg_free(ncfg);
		return;
	}
	log_set_level(ncfg->log_level);
	runtime_set_cfg(p->rt, ncfg);
	zonemetrics_set_limit(p->zm, ncfg->xfrd.metrics_per_zone_limit);
	size_t changed = zoneset_reload(p->zs, ncfg);
	if (p->srv != NULL) {
		serve_set_cfg(p->srv, ncfg);
	}
	if (p->api != NULL && api_set_cfg(p->api, ncfg, err, sizeof(err)) != 0) {
		log_warn("reload_partial", "path=%s what=api_tokens hint=\"the old tokens stay; "
		         "fix the file and send SIGHUP again\"", path);
	}
	const struct cfg *old = p->cfg;
	p->cfg = ncfg; /* our reference: the loader's */
	cfg_free(old);
	log_info("reloaded", "path=%s zones=%zu keys=%zu zones_changed=%zu", path,
	         ncfg->zone_count, tsig_keyring_count(ncfg->keys), changed);
}

static void on_hup(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	struct pipe_ctx *p = arg;
	reload_cfg(p);
	/* the XoT listener's certificate and key (a renewal), whatever became of the file;
	 * a failure is logged and counted there, and the ones in use stay */
	if (p->srv != NULL && serve_tls_reload(p->srv) != 0) {
		return; /* logged and counted by serve_tls_reload() */
	}
}

/* Liveness: answered on the loop, so a loop that does not turn does not answer; else
 * the consumer's progress check (xfrd/kafka/health.h). */
static void live(void *arg, struct opshttp_answer *a)
{
	struct pipe_ctx *p = arg;
	char why[256] = "";
	a->ok = consumer_live(p->cons, why, sizeof(why)) == 0;
	if (a->ok) {
		snprintf(a->text, sizeof(a->text), why[0] != '\0' ? "ok (%s)" : "ok", why);
	} else {
		snprintf(a->text, sizeof(a->text), "stalled: %s", why);
		a->reason = "Stalled";
	}
}

/* Readiness: the zone set complete, then the consumer's rules (health_ready()), then
 * the follower's (the replica directory read, the first copies made). */
static void ready(void *arg, struct opshttp_answer *a)
{
	struct pipe_ctx *p = arg;
	char why[400] = "";
	/* the consumer's reasons (topic missing, Kafka down, no assignment) come first:
	 * following waits for them */
	a->ok = zoneset_ready(p->zs, why, sizeof(why)) &&
	        consumer_ready(p->cons, why, sizeof(why)) && peers_ready(p->peers, why, sizeof(why));
	if (a->ok) {
		snprintf(a->text, sizeof(a->text), why[0] != '\0' ? "ready (%s)" : "ready", why);
	} else {
		snprintf(a->text, sizeof(a->text), why[0] != '\0' ? "not ready: %s" : "not ready",
		         why);
		a->reason = consumer_kafka_down(p->cons) ? "Kafka Unreachable" : NULL;
	}
}

/* ---- the runtime as the consumer's sink, the consumer as the runtime's source ---- */

static int sink_request(void *ctx, const char *zone, const struct zone_req *req, unsigned flags,
                        int origin)
{
	struct pipe_ctx *p = ctx;
	return runtime_request(p->rt, zone, req, flags, (enum runtime_origin)origin);
}

static void sink_set_partitions(void *ctx, int32_t count)
{
	runtime_set_partitions(((struct pipe_ctx *)ctx)->rt, count);
}

static void sink_own(void *ctx, int32_t partition, bool owned)
{
	struct pipe_ctx *p = ctx;
	runtime_own(p->rt, partition, owned);
	peers_owned_changed(p->peers);
}

static size_t sink_running_in(void *ctx, int32_t partition)
{
	return runtime_running_in(((struct pipe_ctx *)ctx)->rt, partition);
}

static void sink_poll(void *ctx, int timeout_ms)
{
	runtime_poll_outcomes(((struct pipe_ctx *)ctx)->rt, timeout_ms);
}

static void sink_lost(void *ctx, int32_t partition)
{
	struct pipe_ctx *p = ctx;
	runtime_lost(p->rt, partition);
	peers_owned_changed(p->peers);
}

static void sink_regrouped(void *ctx)
{
	runtime_regrouped(((struct pipe_ctx *)ctx)->rt);
}

static void sink_refresh_lost(void *ctx, const char *zone, int rc)
{
	runtime_refresh_lost(((struct pipe_ctx *)ctx)->rt, zone, rc);
}

static int src_refresh_due(void *ctx, struct zone *z)
{
	return consumer_refresh_due(((struct pipe_ctx *)ctx)->cons, z);
}

static void src_outcome(void *ctx, struct zone *z, const struct xfr_result *r, bool announce,
                        const struct zone_req *done, size_t ndone)
{
	consumer_outcome(((struct pipe_ctx *)ctx)->cons, z, r, announce, done, ndone);
}

static void src_expired(void *ctx, struct zone *z, const struct zdb_zone_info *info)
{
	consumer_expired(((struct pipe_ctx *)ctx)->cons, z, info);
}

/* The owner of a zone's partition tells the world it is gone; the others say
 * nothing (every replica marks it REMOVED in its own store). */
static void src_removed(void *ctx, const struct zone *z, const struct zdb_zone_info *info)
{
	struct pipe_ctx *p = ctx;
	if (!runtime_owns_name(p->rt, info->name)) {
		return;
	}
	(void)z;
	consumer_removed(p->cons, info);
}

static size_t src_follow_sources(void *ctx, const struct zone *z, struct cfg_endpoint *out,
                                 size_t max, char *owner, size_t owner_len)
{
	return peers_follow_sources(((struct pipe_ctx *)ctx)->peers, z, out, max, owner,
	                            owner_len);
}

/* ---- the REST API's backend ---- */

static bool be_is_file_zone(void *ctx, const uint8_t *name)
{
	return zoneset_is_file_zone(((struct pipe_ctx *)ctx)->zs, name);
}

static struct zone *be_zone(void *ctx, const uint8_t *name)
{
	return runtime_zone(((struct pipe_ctx *)ctx)->rt, name);
}

/* An operator's request from the API, produced to the requests topic as xfrctl does. */
struct api_ticket {
	struct updates_ticket t;
	api_request_done done;
	void *arg;
};

static void on_api_request(struct updates_ticket *t, int rc)
{
	struct api_ticket *k = (struct api_ticket *)t;
	k->done(k->arg, rc);
	free(k);
}

static int be_request(void *ctx, const char *zone, bool full, bool force, const char *by,
                      api_request_done done, void *arg)
{
	struct pipe_ctx *p = ctx;
	struct api_ticket *k = calloc(1, sizeof(*k));
	if (k == NULL) {
		return ZX_ENOMEM;
	}
	*k = (struct api_ticket){.t = {.done = on_api_request}, .done = done, .arg = arg};
	char producer[256];
	snprintf(producer, sizeof(producer), "api:%s@%s", by, p->cfg->xfrd.replica);
	Zx__Events__TransferRequest req;
	reqtopic_request_init(&req, zone, full ? ZX__EVENTS__ORIGIN__ORIGIN_RETRANSFER
	                                       : ZX__EVENTS__ORIGIN__ORIGIN_OPERATOR, producer);
	req.force = full && force;
	int rc = updates_send_request(p->up, &req, &k->t);
	if (rc != 0) {
		free(k);
	}
	return rc;
}

static int be_act(void *ctx, const uint8_t *name, enum api_action what)
{
	static const enum runtime_action acts[] = {RUNTIME_EXPIRE, RUNTIME_PURGE, RUNTIME_NOTIFY};
	return runtime_act(((struct pipe_ctx *)ctx)->rt, name, acts[what]);
}

static void be_daemon(void *ctx, struct api_daemon *out)
{
	struct pipe_ctx *p = ctx;
	struct runtime_stats st;
	runtime_stats(p->rt, &st);
	out->started = opshttp_process_start();
	out->partitions = st.partitions;
	out->owned = st.owned_parts;
	out->zones = st.zones;
	out->running = st.running;
	out->kafka_ready = consumer_ready(p->cons, out->kafka_why, sizeof(out->kafka_why));
	out->live = consumer_live(p->cons, out->live_why, sizeof(out->live_why)) == 0;
}

static int start_api(struct pipe_ctx *p, const struct cfg *cfg, struct zdb *db, char *err,
                     size_t errlen)
{
	if (p->http == NULL) {
		snprintf(err, errlen, "xfrd.api needs xfrd.http (the API is served there)");
		return ZX_ECONFIG;
	}
	struct api_opts ao = {
		.cfg = cfg, .base = p->base, .http = opshttp_evhttp(p->http), .m = p->m,
		.be = {.reg = zoneset_registry(p->zs), .db = db, .replica = cfg->xfrd.replica,
		       .is_file_zone = be_is_file_zone, .zone = be_zone, .request = be_request,
		       .act = be_act, .daemon = be_daemon, .ctx = p},
	};
	return api_new(&ao, &p->api, err, errlen);
}

static uint64_t revoke_wait(const struct cfg *cfg)
{
	const struct cfg_xfrd *x = &cfg->xfrd;
	uint64_t ms = 2 * (x->timeout_connect_ms + x->timeout_soa_ms + x->timeout_transfer_ms);
	return ms < PIPELINE_REVOKE_WAIT_MAX_MS ? ms : PIPELINE_REVOKE_WAIT_MAX_MS;
}

static int start(struct pipe_ctx *p, const struct cfg *cfg, struct zdb *db, struct engine *eng)
{
	char err[512] = "";
	const char *replica = cfg->xfrd.replica;
	int rc = updates_new(&cfg->kafka, replica, p->base, &p->up, err, sizeof(err));
	if (rc == 0) {
		rc = store_metrics(p->m, db); /* map use, read at each scrape */
	}
	if (rc == 0) {
		struct notifier_opts no = {.base = p->base, .m = p->m};
		rc = notifier_new(&no, &p->nt);
	}
	if (rc == 0) {
		struct runtime_opts ro = {.cfg = cfg, .base = p->base, .eng = eng, .db = db,
		                          .nt = p->nt, .m = p->m};
		rc = runtime_new(&ro, &p->rt);
	}
	if (rc == 0) {
		rc = zonemetrics_new(p->m, p->rt, db, cfg->xfrd.metrics_per_zone_limit, &p->zm);
	}
	if (rc == 0) {
		struct consumer_opts o = {
			.cfg = cfg, .base = p->base, .up = p->up, .m = p->m, .replica = replica,
			.sink = {.request = sink_request, .set_partitions = sink_set_partitions,
			         .own = sink_own, .lost = sink_lost, .regrouped = sink_regrouped,
			         .running_in = sink_running_in,
			         .poll_outcomes = sink_poll, .refresh_lost = sink_refresh_lost,
			         .ctx = p},
			.commit_interval_ms = PIPELINE_COMMIT_INTERVAL_MS,
			.revoke_wait_ms = revoke_wait(cfg),
		};
		rc = consumer_new(&o, &p->cons, err, sizeof(err));
	}
	if (rc == 0) {
		struct peers_opts po = {.cfg = cfg, .base = p->base, .rt = p->rt, .m = p->m};
		rc = peers_new(&po, &p->peers, err, sizeof(err));
	}
	if (rc == 0) {
		struct runtime_source src = {.refresh_due = src_refresh_due, .outcome = src_outcome,
		                             .expired = src_expired, .removed = src_removed,
		                             .follow_sources = src_follow_sources, .ctx = p};
		runtime_set_source(p->rt, &src);
	}
	if (rc == 0) {
		struct zoneset_opts zo = {.cfg = cfg, .base = p->base, .rt = p->rt, .m = p->m,
		                          .writer = cfg->xfrd.api.tokens != NULL};
		rc = zoneset_new(&zo, &p->zs, err, sizeof(err));
	}
	if (rc == 0 && cfg->xfrd.listen.count > 0) {
		struct serve_opts so;
		serve_opts_from_cfg(&so, cfg, db);
		so.metrics = p->m;
		so.zone_lookup = zoneset_lookup;
		so.zone_ctx = p->zs;
		rc = serve_new(&so, &p->srv);
		if (rc == 0) {
			rc = serve_start(p->srv, p->base);
		}
	}
	if (rc == 0 && cfg->xfrd.http.len > 0) {
		struct opshttp_opts ho = {.base = p->base, .addr = (const struct sockaddr *)&cfg->xfrd.http.addr,
		                          .addr_len = cfg->xfrd.http.len, .m = p->m, .live = live,
		                          .ready = ready, .arg = p, .build_info = "xfrd_build_info"};
		rc = opshttp_new(&ho, &p->http);
	}
	if (rc == 0 && cfg->xfrd.api.tokens != NULL) {
		rc = start_api(p, cfg, db, err, sizeof(err));
	}
	if (rc != 0) {
		log_error("pipeline_start_failed", "error=%s detail=\"%s\"", zx_strerror(rc), err);
	}
	return rc;
}

int pipeline_run(const struct cfg *cfg, struct zdb *db, struct engine **engp)
{
	struct pipe_ctx p = {.cfg = cfg_ref(cfg)};
	p.base = event_base_new();
	p.m = metrics_new();
	int rc = ZX_ENOMEM;
	if (p.base != NULL && p.m != NULL) {
		rc = start(&p, cfg, db, *engp);
	}
	if (rc == 0) {
		p.sigint = evsignal_new(p.base, SIGINT, on_stop, &p);
		p.sigterm = evsignal_new(p.base, SIGTERM, on_stop, &p);
		p.sighup = evsignal_new(p.base, SIGHUP, on_hup, &p);
		if (p.sigint == NULL || p.sigterm == NULL || p.sighup == NULL ||
		    event_add(p.sigint, NULL) != 0 || event_add(p.sigterm, NULL) != 0 ||
		    event_add(p.sighup, NULL) != 0) {
			rc = ZX_ENOMEM;
		}
	}
	if (rc == 0 && cfg_warnings(cfg, NULL, 0) > 0) {
		log_warn("health_stall_short", "commit_stall_ms=%llu transfer_bound_ms=%llu "
		         "hint=\"a transfer running past xfrd.health.commit-stall fails liveness: "
		         "keep it above timeouts soa + connect + transfer\"",
		         (unsigned long long)cfg->xfrd.health_commit_stall_ms,
		         (unsigned long long)cfg_xfrd_transfer_bound_ms(&cfg->xfrd));
	}
	if (rc == 0) {
		log_info("pipeline_started", "replica=%s topic=%s group=%s updates=%s",
		         cfg->xfrd.replica, cfg->kafka.requests_topic, cfg->kafka.group,
		         cfg->kafka.updates_topic);
		(void)event_base_dispatch(p.base);
	}
	if (p.cons != NULL && consumer_close(p.cons) != 0) {
		log_warn("consumer_close_incomplete", NULL);
	}
	engine_free(*engp); /* no callback after this: the runtime and the consumer may go */
	*engp = NULL;
	opshttp_free(p.http);
	serve_free(p.srv);
	zoneset_free(p.zs);
	updates_free(p.up, 2000);
	api_free(p.api); /* after the registry and the producer reported what it waits for */
	peers_free(p.peers, 2000); /* after the consumer left: its partitions are others' now */
	consumer_free(p.cons);
	runtime_free(p.rt);
	notifier_free(p.nt);
	if (p.sigint != NULL) {
		event_free(p.sigint);
	}
	if (p.sigterm != NULL) {
		event_free(p.sigterm);
	}
	if (p.sighup != NULL) {
		event_free(p.sighup);
	}
	metrics_free(p.m);
	zonemetrics_free(p.zm);
	if (p.base != NULL) {
		event_base_free(p.base);
	}
	cfg_free(p.cfg);
	return rc;
}
