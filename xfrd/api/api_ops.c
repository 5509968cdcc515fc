/* SPDX-License-Identifier: MIT */
/* xfrd/api/api_ops.c -- the operator's actions on one zone (expire, purge, notify) and
 * the daemon's status (GET /v1/status): what xfrctl expire|purge|notify|status call. */
#include "xfrd/api/api_internal.h"

#include "common/clock.h"
#include "common/store/zdb.h"
#include "xfrd/api/problem.h"

#include <stdio.h>
#include <string.h>

#ifndef ZX_VERSION
#define ZX_VERSION "unknown"
#endif

static const char *const action_names[] = {"expire", "purge", "notify"};

/* The problem of an action the runtime refused (runtime_act()'s codes). */
static json_t *refused(const struct api_call *c, enum api_action what, int rc)
{
	const char *act = action_names[what];
	switch (rc) {
	case ZX_ENOTFOUND:
		return problem_new(404, PROBLEM_NOT_FOUND, "xfrd does not serve a zone %s", c->zone);
	case ZX_EAGAIN:
		return problem_new(409, PROBLEM_CONFLICT, "replica %s does not run %s (another "
		                   "replica owns its partition: ask that one; xfrctl status %s shows "
		                   "the owner)", c->a->o.be.replica, c->zone, c->zone);
	case ZX_EEXIST:
		return problem_new(409, PROBLEM_CONFLICT, "a transfer of %s runs: %s it when it ended",
		                   c->zone, act);
	case ZX_ENOENT:
		return problem_new(409, PROBLEM_CONFLICT, "%s holds no data yet: nothing to %s",
		                   c->zone, act);
	case ZX_EINVAL:
		return problem_new(409, PROBLEM_CONFLICT, "%s has no downstream notify targets "
		                   "(the zone's notify setting)", c->zone);
	default:
		return problem_new(500, PROBLEM_INTERNAL, "%s %s: %s (%s)", act, c->zone,
		                   zx_strerror(rc), zdb_last_error());
	}
}

void api_zone_action(struct api_call *c, enum api_action what)
{
	struct api *a = c->a;
	const char *act = action_names[what];
	const char *confirm = evhttp_find_header(c->query, "confirm");
	size_t nq = 0;
	for (const struct evkeyval *kv = TAILQ_FIRST(c->query); kv != NULL; kv = TAILQ_NEXT(kv, next)) {
		nq++;
	}
	const char *bad = NULL;
	if (what == API_PURGE && (confirm == NULL || strcmp(confirm, "true") != 0)) {
		bad = "purge deletes the zone's data and journal: add ?confirm=true";
	} else if (nq > (what == API_PURGE ? 1u : 0u)) {
		bad = what == API_PURGE ? "unknown parameter; expected confirm" : "no parameters";
	}
	if (bad != NULL) {
		api_log_write(c->zone, c->method, act, c->token, 400);
		api_send_problem(a, c->req, c->method, problem_new(400, PROBLEM_MALFORMED, "%s", bad));
		return;
	}
	int rc = a->o.be.act(a->o.be.ctx, c->wire, what);
	if (rc != 0) {
		json_t *p = refused(c, what, rc);
		api_log_write(c->zone, c->method, act, c->token,
		              (int)json_integer_value(json_object_get(p, "status")));
		api_send_problem(a, c->req, c->method, p);
		return;
	}
	api_log_write(c->zone, c->method, act, c->token, 200);
	api_send(a, c->req, c->method, 200,
	         json_pack("{s:s, s:s, s:s}", "name", c->zone, "action", act, "replica",
	                   a->o.be.replica),
	         NULL, NULL);
}

/* ---- GET /v1/status ---------------------------------------------------------------- */

struct by_state {
	json_int_t fresh, following, behind, failed, expired, removed, corrupt;
};

static int count_state(const struct zdb_zone_info *zi, void *arg)
{
	struct by_state *b = arg;
	if (zi->corrupt) {
		b->corrupt++;
	}
	switch (zi->state) {
	case ZDB_STATE_FRESH:
		b->fresh++;
		break;
	case ZDB_STATE_FOLLOWING:
		b->following++;
		break;
	case ZDB_STATE_BEHIND:
		b->behind++;
		break;
	case ZDB_STATE_FAILED:
		b->failed++;
		break;
	case ZDB_STATE_EXPIRED:
		b->expired++;
		break;
	case ZDB_STATE_REMOVED:
		b->removed++;
		break;
	}
	return 0;
}

void api_daemon_status(struct api_call *c)
{
	struct api *a = c->a;
	struct api_daemon d = {0};
	a->o.be.daemon(a->o.be.ctx, &d);
	struct by_state b = {0};
	struct zdb_snap *s = NULL;
	int rc = zdb_snap_begin(a->o.be.db, &s);
	if (rc == 0) {
		rc = zdb_zone_list(s, count_state, &b);
	}
	zdb_snap_end(s);
	if (rc != 0) {
		api_send_problem(a, c->req, c->method,
		                 problem_new(500, PROBLEM_INTERNAL, "reading the store: %s (%s)",
		                             zx_strerror(rc), zdb_last_error()));
		return;
	}
	json_int_t stored = b.fresh + b.following + b.behind + b.failed + b.expired + b.removed;
	json_int_t run = (json_int_t)d.zones;
	int64_t now = clock_wall_s();
	json_t *j = json_pack(
		"{s:s, s:s, s:s, s:o, s:I, s:{s:I, s:I}, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
		"s:I}, "
		"s:{s:b, s:o, s:b, s:o}}",
		"program", "xfrd", "version", ZX_VERSION, "replica", a->o.be.replica, "started",
		api_time_json(d.started), "uptime", (json_int_t)(d.started > 0 ? now - d.started : 0),
		"partitions", "count", (json_int_t)d.partitions, "owned", (json_int_t)d.owned,
		"zones", "configured", run, "stored", stored, "fresh", b.fresh, "following",
		b.following, "behind", b.behind, "failed", b.failed,
		"expired", b.expired, "removed", b.removed, "corrupt", b.corrupt, "running",
		(json_int_t)d.running, "kafka", "ready", d.kafka_ready, "not-ready",
		d.kafka_ready ? json_null() : json_string(d.kafka_why), "live", d.live, "not-live",
		d.live ? json_null() : json_string(d.live_why));
	if (j == NULL) {
		api_send_nomem(c);
		return;
	}
	api_send(a, c->req, c->method, 200, j, NULL, NULL);
}
