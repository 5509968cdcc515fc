/* SPDX-License-Identifier: MIT */
/* xfrd/service/standalone.c -- the runtime without Kafka: timers, the DNS endpoint, downstream
 * NOTIFY and the ops endpoint on one loop; and the once mode. */
#include "xfrd/service/standalone.h"

#include "common/cfg/cfg.h"
#include "common/dname.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/ops/opshttp.h"
#include "xfrd/xfr/engine.h"
#include "xfrd/notify/notifier.h"
#include "xfrd/service/runtime.h"
#include "xfrd/serve/serve.h"
#include "xfrd/service/zonemetrics.h"
#include "xfrd/service/zoneset.h"

#include <event2/event.h>
#include <signal.h>
#include <stdlib.h>

struct solo {
	const struct standalone_opts *o;
	struct event_base *base;
	struct metrics *m;
	struct runtime *rt;
	struct notifier *nt;
	struct serve *srv;
	struct opshttp *http;
	struct zoneset *zs; /* the file's zones (and a registry's when configured) */
	struct zonemetrics *zm; /* xfrd_zone_* series */
	struct event *sig[3];
	unsigned failures;
	bool once_started;
};

static void on_stop(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	struct solo *s = arg;
	log_info("xfrd_stopping", "signal=%d", (int)sig);
	event_base_loopbreak(s->base);
}

static void on_hup(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	struct solo *c = arg;
	/* the XoT listener's certificate and key (a renewal); a failure is logged there and
	   the ones in use stay */
	if (c->srv != NULL && serve_tls_reload(c->srv) != 0) {
		return;
	}
	log_warn("reload_unsupported", "signal=HUP hint=\"restart xfrd to apply config changes "
	         "(xfrd.serve.tls certificate and key are reloaded)\"");
}

/* The once mode's source: count failures, stop when nothing runs any more. */
static void once_outcome(void *ctx, struct zone *z, const struct xfr_result *r, bool announce,
                         const struct zone_req *done, size_t ndone)
{
	(void)z;
	(void)announce;
	(void)done;
	(void)ndone;
	struct solo *s = ctx;
	s->failures += r->outcome == XFR_FAILED;
	if (s->once_started && runtime_busy(s->rt) == 0) {
		event_base_loopbreak(s->base);
	}
}

/* The loop answered: it turns. */
static void live(void *arg, struct opshttp_answer *a)
{
	(void)arg;
	a->ok = true;
	snprintf(a->text, sizeof(a->text), "ok");
}

static void ready(void *arg, struct opshttp_answer *a)
{
	struct solo *s = arg;
	char why[300] = "";
	a->ok = zoneset_ready(s->zs, why, sizeof(why));
	snprintf(a->text, sizeof(a->text), a->ok ? "ready" : "not ready: %s", why);
}

static bool wanted(const struct standalone_opts *o, const struct cfg_zone *z)
{
	if (o->zones == NULL || o->nzones == 0) {
		return true;
	}
	for (int k = 0; k < o->nzones; k++) {
		uint8_t w[DNAME_MAXLEN];
		if (dname_from_text(o->zones[k], w) > 0 && dname_equal(w, z->name)) {
			return true;
		}
	}
	return false;
}

/* Every wanted zone once, through the scheduler like any request. */
static void request_all(struct solo *s)
{
	const struct cfg *cfg = s->o->cfg;
	for (size_t i = 0; i < cfg->zone_count; i++) {
		const struct cfg_zone *z = &cfg->zones[i];
		if (!wanted(s->o, z)) {
			continue;
		}
		struct zone_req req = {.partition = -1, .offset = -1};
		if (runtime_request(s->rt, z->name_text, &req, s->o->flags,
		                    RUNTIME_ORIGIN_OPERATOR) != 0) {
			s->failures++;
		}
	}
	s->once_started = true;
}

static int start(struct solo *s, struct engine *eng)
{
	const struct cfg *cfg = s->o->cfg;
	struct notifier_opts no = {.base = s->base, .m = s->m};
	int rc = notifier_new(&no, &s->nt);
	if (rc == 0) {
		struct runtime_opts ro = {.cfg = cfg, .base = s->base, .eng = eng, .db = s->o->db,
		                          .nt = s->nt, .m = s->m, .own_all = !s->o->once};
		if (s->o->once) {
			ro.src = (struct runtime_source){.outcome = once_outcome, .ctx = s};
		}
		rc = runtime_new(&ro, &s->rt);
	}
	if (rc == 0 && !s->o->once) {
		char err[512] = "";
		struct zoneset_opts zo = {.cfg = cfg, .base = s->base, .rt = s->rt, .m = s->m};
		rc = zoneset_new(&zo, &s->zs, err, sizeof(err));
		if (rc != 0) {
			log_error("registry_failed", "error=%s detail=\"%s\"", zx_strerror(rc), err);
		}
	}
	if (rc == 0 && !s->o->once && cfg->xfrd.listen.count > 0) {
		struct serve_opts so;
		serve_opts_from_cfg(&so, cfg, s->o->db);
		so.metrics = s->m;
		so.zone_lookup = zoneset_lookup;
		so.zone_ctx = s->zs;
		rc = serve_new(&so, &s->srv);
		if (rc == 0) {
			rc = serve_start(s->srv, s->base);
		}
	}
	if (rc == 0 && !s->o->once && cfg->xfrd.http.len > 0) {
		rc = zonemetrics_new(s->m, s->rt, s->o->db, cfg->xfrd.metrics_per_zone_limit, &s->zm);
	}
	if (rc == 0 && !s->o->once && cfg->xfrd.http.len > 0) {
		struct opshttp_opts ho = {.base = s->base, .addr = (const struct sockaddr *)&cfg->xfrd.http.addr,
		                          .addr_len = cfg->xfrd.http.len, .m = s->m, .live = live,
		                          .ready = ready, .arg = s, .build_info = "xfrd_build_info"};
		rc = opshttp_new(&ho, &s->http);
	}
	if (rc != 0) {
		log_error("standalone_start_failed", "error=%s", zx_strerror(rc));
	}
	return rc;
}

static int signals(struct solo *s)
{
	if (s->o->once) { /* SIGINT/SIGTERM keep their default, killing the pass */
		return 0;
	}
	s->sig[0] = evsignal_new(s->base, SIGINT, on_stop, s);
	s->sig[1] = evsignal_new(s->base, SIGTERM, on_stop, s);
	s->sig[2] = evsignal_new(s->base, SIGHUP, on_hup, s);
	for (int i = 0; i < 3; i++) {
		if (s->sig[i] == NULL || event_add(s->sig[i], NULL) != 0) {
			return ZX_ENOMEM;
		}
	}
	return 0;
}

int standalone_run(const struct standalone_opts *o, struct engine **engp)
{
	struct solo s = {.o = o};
	s.base = event_base_new();
	s.m = metrics_new();
	int rc = s.base == NULL || s.m == NULL ? ZX_ENOMEM : start(&s, *engp);
	if (rc == 0) {
		rc = signals(&s);
	}
	if (rc == 0) {
		if (o->once) {
			request_all(&s);
		}
		if (!o->once || runtime_busy(s.rt) > 0) {
			(void)event_base_dispatch(s.base);
		}
	}
	engine_free(*engp); /* no callback after this */
	*engp = NULL;
	opshttp_free(s.http);
	serve_free(s.srv);
	zoneset_free(s.zs);
	runtime_free(s.rt);
	notifier_free(s.nt);
	for (int i = 0; i < 3; i++) {
		if (s.sig[i] != NULL) {
			event_free(s.sig[i]);
		}
	}
	metrics_free(s.m);
	zonemetrics_free(s.zm);
	if (s.base != NULL) {
		event_base_free(s.base);
	}
	if (rc != 0) {
		return 1;
	}
	return o->once && s.failures > 0 ? 1 : 0;
}
