/* SPDX-License-Identifier: MIT */
/* xfrd/service/pipeline.c -- wiring of consumer, producer, refresh timers, health and the DNS
 * endpoint on one loop. */
#include "xfrd/service/pipeline.h"

#include "common/cfg/cfg.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/ops/opshttp.h"
#include "common/tsig/tsig.h"
#include "xfrd/kafka/consumer.h"
#include "xfrd/xfr/engine.h"
#include "xfrd/notify/notifier.h"
#include "xfrd/service/reload.h"
#include "xfrd/service/runtime.h"
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
static void on_hup(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	struct pipe_ctx *p = arg;
	struct cfg *ncfg = NULL;
	char err[4096], q[1024];
	const char *path = p->cfg->path;
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
	size_t changed = zoneset_reload(p->zs, ncfg);
	if (p->srv != NULL) {
		serve_set_cfg(p->srv, ncfg);
	}
	const struct cfg *old = p->cfg;
	p->cfg = ncfg; /* our reference: the loader's */
	cfg_free(old);
	log_info("reloaded", "path=%s zones=%zu keys=%zu zones_changed=%zu", path,
	         ncfg->zone_count, tsig_keyring_count(ncfg->keys), changed);
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

/* Readiness: the zone set complete, then the consumer's rules (health_ready()). */
static void ready(void *arg, struct opshttp_answer *a)
{
	struct pipe_ctx *p = arg;
	char why[400] = "";
	a->ok = zoneset_ready(p->zs, why, sizeof(why)) && consumer_ready(p->cons, why, sizeof(why));
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
	return runtime_request(ctx, zone, req, flags, (enum runtime_origin)origin);
}

static void sink_set_partitions(void *ctx, int32_t count)
{
	runtime_set_partitions(ctx, count);
}

static void sink_own(void *ctx, int32_t partition, bool owned)
{
	runtime_own(ctx, partition, owned);
}

static size_t sink_running_in(void *ctx, int32_t partition)
{
	return runtime_running_in(ctx, partition);
}

static void sink_poll(void *ctx, int timeout_ms)
{
	runtime_poll_outcomes(ctx, timeout_ms);
}

static void sink_lost(void *ctx, int32_t partition)
{
	runtime_lost(ctx, partition);
}

static void sink_regrouped(void *ctx)
{
	runtime_regrouped(ctx);
}

static void sink_refresh_lost(void *ctx, const char *zone, int rc)
{
	runtime_refresh_lost(ctx, zone, rc);
}

static int src_refresh_due(void *ctx, struct zone *z)
{
	return consumer_refresh_due(ctx, z);
}

static void src_outcome(void *ctx, struct zone *z, const struct xfr_result *r, bool announce,
                        const struct zone_req *done, size_t ndone)
{
	consumer_outcome(ctx, z, r, announce, done, ndone);
}

static void src_expired(void *ctx, struct zone *z, const struct zdb_zone_info *info)
{
	consumer_expired(ctx, z, info);
}

static void src_removed(void *ctx, const struct zone *z, const struct zdb_zone_info *info)
{
	(void)z;
	consumer_removed(ctx, info);
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
		struct consumer_opts o = {
			.cfg = cfg, .base = p->base, .up = p->up, .m = p->m, .replica = replica,
			.sink = {.request = sink_request, .set_partitions = sink_set_partitions,
			         .own = sink_own, .lost = sink_lost, .regrouped = sink_regrouped,
			         .running_in = sink_running_in,
			         .poll_outcomes = sink_poll, .refresh_lost = sink_refresh_lost,
			         .ctx = p->rt},
			.commit_interval_ms = PIPELINE_COMMIT_INTERVAL_MS,
			.revoke_wait_ms = revoke_wait(cfg),
		};
		rc = consumer_new(&o, &p->cons, err, sizeof(err));
	}
	if (rc == 0) {
		struct runtime_source src = {.refresh_due = src_refresh_due, .outcome = src_outcome,
		                             .expired = src_expired, .removed = src_removed,
		                             .ctx = p->cons};
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
		                          .ready = ready, .arg = p};
		rc = opshttp_new(&ho, &p->http);
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
	if (p.base != NULL) {
		event_base_free(p.base);
	}
	cfg_free(p.cfg);
	return rc;
}
