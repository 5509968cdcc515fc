/* SPDX-License-Identifier: MIT */
/* xfrd/api/api_zones.c -- the routes of /v1/zones/{name}: show, write, status, requests. */
#include "xfrd/api/api_internal.h"

#include "common/acl.h"
#include "common/arena.h"
#include "common/cfg/cfg.h"
#include "common/clock.h"
#include "common/store/zdb.h"
#include "common/tsig/tsig.h"
#include "proto/registry.h"
#include "proto/regmirror.h"
#include "xfrd/api/mergepatch.h"
#include "xfrd/api/problem.h"
#include "xfrd/zone/plan.h"
#include "xfrd/zone/zone.h"

#include <event2/buffer.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* The members the API adds to a zone's JSON form: shown, ignored in bodies. */
static const char *const shown_only[] = {"source", "problem", "updated-by", "updated-at",
                                         "config", NULL};

/* ---- small things ----------------------------------------------------------- */

json_t *api_time_json(int64_t t)
{
	char buf[32];
	struct tm tm;
	time_t tt = (time_t)t;
	if (t <= 0 || t == INT64_MAX || gmtime_r(&tt, &tm) == NULL) {
		return json_null();
	}
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

static json_t *text_or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? json_string(s) : json_null();
}

static void etag_of(int32_t partition, int64_t offset, char *buf, size_t size)
{
	snprintf(buf, size, "\"%d:%" PRId64 "\"", (int)partition, offset);
}

/* 503 unless the registry was read to its end: before, a zone may look missing. */
bool api_caught_up(struct api_call *c)
{
	if (regmirror_caught_up(c->a->o.be.reg)) {
		return true;
	}
	char why[300];
	regmirror_why_not(c->a->o.be.reg, why, sizeof(why));
	api_send_unavailable(c->a, c->req, c->method, "the registry is not read to its end yet: %s",
	                     why);
	return false;
}

void api_send_nomem(struct api_call *c)
{
	api_send_problem(c->a, c->req, c->method,
	                 problem_new(500, PROBLEM_INTERNAL, "out of memory"));
}

static const char *query_of(const struct api_call *c, const char *key)
{
	return evhttp_find_header(c->query, key);
}

/* ---- the store's view of a zone ------------------------------------------------ */

/* "fresh" ... "pending" (no data and no failure yet); the filter's words. */
const char *api_state_word(bool found, const struct zdb_zone_info *zi)
{
	if (!found) {
		return "pending";
	}
	switch (zi->state) {
	case ZDB_STATE_REMOVED:
		return "removed";
	case ZDB_STATE_FAILED:
		return "failed";
	case ZDB_STATE_EXPIRED:
		return "expired";
	case ZDB_STATE_FOLLOWING:
		return "following";
	case ZDB_STATE_BEHIND:
		return "behind";
	case ZDB_STATE_FRESH:
		break;
	}
	return zi->loaded ? "fresh" : "pending";
}

bool api_store_get(struct zdb_snap *s, const uint8_t *wire, struct zdb_zone_info *zi)
{
	return s != NULL && zdb_zone_get(s, wire, zi) == 0;
}

/* ---- a zone as JSON ----------------------------------------------------------- */

static bool put_endpoints(json_t *j, const char *key, const struct cfg_endpoints *e)
{
	json_t *a = json_array();
	if (a == NULL || json_object_set_new(j, key, a) != 0) {
		return false;
	}
	for (size_t i = 0; i < e->count; i++) {
		char buf[ACL_ADDRSTRLEN];
		acl_addr_str((const struct sockaddr *)&e->v[i].addr, true, buf, sizeof(buf));
		if (json_array_append_new(a, json_string(buf)) != 0) {
			return false;
		}
	}
	return true;
}

/* A zone of the config file: what identifies it; the file is the place to read the rest. */
static json_t *file_json(const struct cfg *cfg, const struct cfg_zone *z)
{
	char where[4200];
	snprintf(where, sizeof(where), "%s:%u", cfg->path != NULL ? cfg->path : "?", z->line);
	json_t *j = json_pack("{s:s, s:s, s:s}", "name", z->name_text, "source", "file", "config",
	                      where);
	bool ok = j != NULL && put_endpoints(j, "primaries", &z->primaries) &&
	          (z->key == NULL || json_object_set_new(j, "key", json_string(z->key->name_text)) == 0);
	if (ok && z->notify.count > 0) {
		ok = put_endpoints(j, "notify", &z->notify) &&
		     (z->notify_key == NULL ||
		      json_object_set_new(j, "notify-key", json_string(z->notify_key->name_text)) == 0);
	}
	if (!ok) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* The shown members of a record: source, who wrote it when. */
static bool decorate(json_t *j, const Zx__Registry__Zone *rec, const char *problem)
{
	return json_object_set_new(j, "source", json_string("registry")) == 0 &&
	       json_object_set_new(j, "updated-by", text_or_null(rec->updated_by)) == 0 &&
	       json_object_set_new(j, "updated-at", api_time_json((int64_t)(rec->updated_us / 1000000))) ==
	               0 &&
	       (problem == NULL || json_object_set_new(j, "problem", json_string(problem)) == 0);
}

/* A registry record as the API shows it; NULL out of memory or undecodable. */
static json_t *record_json(const struct regmirror_rec *rr, bool shown)
{
	Zx__Registry__Zone *rec = NULL;
	if (registry_unpack(rr->rec, rr->rec_len, &rec) != 0) {
		return NULL;
	}
	json_t *j = registry_to_json(rec);
	if (j != NULL && shown && !decorate(j, rec, rr->problem)) {
		json_decref(j);
		j = NULL;
	}
	registry_free(rec);
	return j;
}

/* ---- GET /v1/zones/{name} ------------------------------------------------------ */

void api_zone_get(struct api_call *c)
{
	struct api *a = c->a;
	if (!api_caught_up(c)) {
		return;
	}
	if (a->o.be.is_file_zone(a->o.be.ctx, c->wire)) {
		const struct cfg_zone *z = cfg_zone_find(a->cfg, c->wire);
		json_t *j = z != NULL ? file_json(a->cfg, z) : NULL;
		if (j == NULL) {
			api_send_nomem(c);
			return;
		}
		api_send(a, c->req, c->method, 200, j, NULL, NULL);
		return;
	}
	struct regmirror_rec rr;
	if (regmirror_get(a->o.be.reg, c->zone, &rr) != 0) {
		api_send_problem(a, c->req, c->method,
		                 problem_new(404, PROBLEM_NOT_FOUND, "no zone %s", c->zone));
		return;
	}
	json_t *j = record_json(&rr, true);
	if (j == NULL) {
		api_send_nomem(c);
		return;
	}
	char etag[48];
	etag_of(rr.partition, rr.offset, etag, sizeof(etag));
	api_send(a, c->req, c->method, 200, j, etag, NULL);
}

/* ---- writes ------------------------------------------------------------------- */

/* Does header value @p h (a list of entity tags, or "*") match @p etag (NULL: none)? */
static bool etag_matches(const char *h, const char *etag)
{
	for (const char *p = h; *p != '\0';) {
		while (*p == ' ' || *p == '\t' || *p == ',') {
			p++;
		}
		const char *end = p;
		while (*end != '\0' && *end != ',') {
			end++;
		}
		size_t n = (size_t)(end - p);
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t')) {
			n--;
		}
		if (n > 0 && etag != NULL &&
		    ((n == 1 && *p == '*') || (n == strlen(etag) && memcmp(p, etag, n) == 0))) {
			return true; /* a weak tag (W/"...") never matches: strong comparison */
		}
		p = end;
	}
	return false;
}

/* If-Match and If-None-Match against the current version (@p etag NULL: no record). */
static bool preconditions(struct api_call *c, const char *etag)
{
	struct evkeyvalq *h = evhttp_request_get_input_headers(c->req);
	const char *im = evhttp_find_header(h, "If-Match");
	const char *inm = evhttp_find_header(h, "If-None-Match");
	const char *why = NULL;
	if (im != NULL && !etag_matches(im, etag)) {
		why = etag == NULL ? "If-Match: the zone has no record" : "If-Match: the record changed";
	} else if (inm != NULL && etag != NULL && etag_matches(inm, etag)) {
		why = "If-None-Match: the zone exists";
	}
	if (why == NULL) {
		return true;
	}
	if (etag != NULL) {
		evhttp_add_header(evhttp_request_get_output_headers(c->req), "ETag", etag);
	}
	api_send_problem(c->a, c->req, c->method,
	                 problem_new(412, PROBLEM_PRECONDITION, "%s (now: %s)", why,
	                             etag != NULL ? etag : "none"));
	return false;
}

static bool media_ok(const char *ctype, bool patch)
{
	if (ctype == NULL) {
		return true; /* lenient: a body without a type is taken as JSON */
	}
	size_t n = strcspn(ctype, ";");
	while (n > 0 && ctype[n - 1] == ' ') {
		n--;
	}
	if ((n == 16 && strncasecmp(ctype, "application/json", n) == 0) ||
	    (patch && n == 28 && strncasecmp(ctype, "application/merge-patch+json", n) == 0)) {
		return true;
	}
	return n > 5 && strncasecmp(ctype + n - 5, "+json", 5) == 0 && !patch;
}

/* The request's body as JSON; NULL: answered (413, 415, 400). */
static json_t *body_json(struct api_call *c)
{
	const char *ctype =
		evhttp_find_header(evhttp_request_get_input_headers(c->req), "Content-Type");
	bool patch = c->method == EVHTTP_REQ_PATCH;
	if (!media_ok(ctype, patch)) {
		api_send_problem(c->a, c->req, c->method,
		                 problem_new(415, PROBLEM_MEDIA_TYPE, "Content-Type %s: expected "
		                             "application/json%s", ctype,
		                             patch ? " or application/merge-patch+json" : ""));
		return NULL;
	}
	struct evbuffer *in = evhttp_request_get_input_buffer(c->req);
	size_t len = evbuffer_get_length(in);
	if (len > API_BODY_MAX) {
		api_send_problem(c->a, c->req, c->method,
		                 problem_new(413, PROBLEM_TOO_LARGE, "the body has %zu bytes; at most "
		                             "%d are read", len, API_BODY_MAX));
		return NULL;
	}
	const char *data = len > 0 ? (const char *)evbuffer_pullup(in, -1) : "";
	json_error_t err;
	json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &err);
	if (j == NULL) {
		api_send_problem(c->a, c->req, c->method, problem_from_json_error(&err));
	}
	return j;
}

static json_t *invalid(size_t n, const struct cfg_problem *probs, size_t shown)
{
	json_t *p = problem_new(422, PROBLEM_INVALID, "the zone's settings have %zu problem%s%s", n,
	                        n == 1 ? "" : "s", n > shown ? " (the first ones listed)" : "");
	for (size_t i = 0; p != NULL && i < n && i < shown; i++) {
		if (problem_add_param(p, probs[i].path, probs[i].text) != 0) {
			json_decref(p);
			return NULL;
		}
	}
	return p;
}

/*
 * The zone's JSON form @p j (borrowed; shown-only members dropped here) as a record
 * in @p mem, checked as the config checks a zone. NULL: valid (@p rec filled), else
 * the problem to answer with.
 */
static json_t *validate(struct api_call *c, json_t *j, struct arena *mem,
                        Zx__Registry__Zone *rec)
{
	struct cfg_problem probs[CFG_MAX_ERRORS];
	size_t n = 0;
	if (json_is_object(j)) {
		for (size_t i = 0; shown_only[i] != NULL; i++) {
			(void)json_object_del(j, shown_only[i]);
		}
		const json_t *name = json_object_get(j, "name");
		uint8_t w[DNAME_MAXLEN];
		if (json_is_string(name) && (dname_from_text(json_string_value(name), w) <= 0 ||
		                             !dname_equal(w, c->wire))) {
			snprintf(probs[0].path, sizeof(probs[0].path), "name");
			snprintf(probs[0].text, sizeof(probs[0].text),
			         "the body names the zone \"%.150s\", the path %.250s",
			         json_string_value(name), c->zone);
			return invalid(1, probs, 1);
		}
	}
	int rc = registry_from_json(j, mem, rec, probs, CFG_MAX_ERRORS, &n);
	if (rc == 0) {
		rec->name = arena_strdup(mem, c->zone);
		struct cfg_zone cz;
		rc = rec->name == NULL ? ZX_ENOMEM
		                       : registry_zone(c->a->cfg, rec, mem, &cz, probs, CFG_MAX_ERRORS, &n);
	}
	if (rc == ZX_ECONFIG) {
		return invalid(n, probs, CFG_MAX_ERRORS);
	}
	if (rc != 0) {
		return problem_new(500, PROBLEM_INTERNAL, "%s", zx_strerror(rc));
	}
	return NULL;
}

static void on_written(void *arg, int rc, int32_t partition, int64_t offset)
{
	struct api_op *op = arg;
	struct api *a = op->a;
	int status = rc != 0 ? 503
	             : op->method == EVHTTP_REQ_DELETE ? 204
	             : op->created ? 201
	                           : 200;
	api_log_write(op->zone, op->method, NULL, op->token, status);
	if (op->req != NULL && rc != 0) {
		api_send_unavailable(a, op->req, op->method, "the registry did not store the %s: %s",
		                     op->method == EVHTTP_REQ_DELETE ? "removal" : "record",
		                     zx_strerror(rc));
	} else if (op->req != NULL) {
		char etag[48], loc[DNAME_TEXTLEN * 3 + 16] = "";
		etag_of(partition, offset, etag, sizeof(etag));
		if (op->created) {
			char *enc = evhttp_uriencode(op->zone, -1, 0);
			snprintf(loc, sizeof(loc), "/v1/zones/%s", enc != NULL ? enc : op->zone);
			free(enc);
		}
		json_t *body = op->body;
		op->body = NULL;
		api_send(a, op->req, op->method, status, body, status == 204 ? NULL : etag,
		         op->created ? loc : NULL);
	}
	api_op_finish(op);
}

/* Produce @p rec (NULL: a tombstone); the answer follows in on_written(). */
static void write_record(struct api_call *c, bool created, Zx__Registry__Zone *rec)
{
	struct api_op *op = api_op_new(c, OP_BUSY);
	if (op == NULL) {
		api_send_nomem(c);
		return;
	}
	op->created = created;
	if (rec != NULL) {
		rec->updated_us = clock_wall_us();
		rec->updated_by = (char *)c->token;
		op->body = registry_to_json(rec);
		if (op->body == NULL || !decorate(op->body, rec, NULL)) {
			api_op_finish(op);
			api_send_nomem(c);
			return;
		}
	}
	int rc = regmirror_write(c->a->o.be.reg, c->zone, rec, on_written, op);
	if (rc != 0) {
		api_log_write(c->zone, c->method, NULL, c->token, 503);
		api_op_finish(op);
		api_send_unavailable(c->a, c->req, c->method, "the registry cannot take the write: %s",
		                     zx_strerror(rc));
	}
}

/* PUT: the body; PATCH: the body merged into the record @p rr. The record to write. */
static void put_or_patch(struct api_call *c, const struct regmirror_rec *rr)
{
	json_t *body = body_json(c);
	if (body == NULL) {
		return;
	}
	if (c->method == EVHTTP_REQ_PATCH) {
		json_t *patch = body, *cur = record_json(rr, false);
		body = cur != NULL ? mergepatch_apply(cur, patch) : NULL;
		json_decref(patch);
	}
	struct arena *mem = arena_new(0);
	Zx__Registry__Zone rec;
	json_t *p = body == NULL || mem == NULL ? problem_new(500, PROBLEM_INTERNAL, "out of memory")
	                                        : validate(c, body, mem, &rec);
	if (p != NULL) {
		api_log_write(c->zone, c->method, NULL, c->token,
		              (int)json_integer_value(json_object_get(p, "status")));
		api_send_problem(c->a, c->req, c->method, p);
	} else {
		write_record(c, rr == NULL, &rec);
	}
	arena_destroy(mem);
	json_decref(body);
}

void api_zone_write(struct api_call *c)
{
	struct api *a = c->a;
	if (!api_caught_up(c)) {
		return;
	}
	if (a->o.be.is_file_zone(a->o.be.ctx, c->wire)) {
		api_log_write(c->zone, c->method, NULL, c->token, 409);
		api_send_problem(a, c->req, c->method,
		                 problem_new(409, PROBLEM_FILE_ZONE, "%s is a zone of the config file "
		                             "%s: change it there (and reload)", c->zone, a->cfg->path));
		return;
	}
	if (api_zone_busy(a, c->zone)) {
		if (api_op_new(c, OP_WAITING) == NULL) {
			api_send_nomem(c);
		}
		return; /* handled again once the write before it is answered */
	}
	struct regmirror_rec rr;
	bool found = regmirror_get(a->o.be.reg, c->zone, &rr) == 0;
	char etag[48];
	if (found) {
		etag_of(rr.partition, rr.offset, etag, sizeof(etag));
	}
	if (!preconditions(c, found ? etag : NULL)) {
		api_log_write(c->zone, c->method, NULL, c->token, 412);
		return;
	}
	if (!found && c->method != EVHTTP_REQ_PUT) {
		api_log_write(c->zone, c->method, NULL, c->token, 404);
		api_send_problem(a, c->req, c->method,
		                 problem_new(404, PROBLEM_NOT_FOUND, "no zone %s in the registry",
		                             c->zone));
		return;
	}
	if (c->method == EVHTTP_REQ_DELETE) {
		write_record(c, false, NULL);
		return;
	}
	put_or_patch(c, found ? &rr : NULL);
}

/* ---- GET /v1/zones/{name}/status ----------------------------------------------------- */

static json_t *journal_json(const struct zdb_zone_info *zi)
{
	json_t *j = json_pack("{s:I, s:I}", "changesets", (json_int_t)zi->journal_count, "bytes",
	                      (json_int_t)zi->journal_bytes);
	if (j != NULL && zi->journal_count > 0) {
		(void)json_object_set_new(j, "from-serial", json_integer(zi->journal_first));
		(void)json_object_set_new(j, "to-serial", json_integer(zi->journal_last));
	}
	return j;
}

/* knotc zone-status' timers: the intervals in force (the held SOA's, clamped), whether
 * the next refresh is a retry (the last attempt failed), and seconds to each. */
static void timers_json(json_t *j, const struct zdb_zone_info *zi, const struct zone *z,
                        bool planned)
{
	int64_t refresh = 0, retry = 0, now = clock_wall_s();
	plan_intervals(&z->set->z, zi, &refresh, &retry);
	const char *kind = zi == NULL || zi->last_attempt == 0 ? "first"
	                   : zi->state == ZDB_STATE_FRESH       ? "refresh"
	                                                        : "retry";
	(void)json_object_set_new(j, "refresh-interval", json_integer(refresh));
	(void)json_object_set_new(j, "retry-interval", json_integer(retry));
	(void)json_object_set_new(j, "expire-interval",
	                          json_integer(plan_expire_s(&z->set->z, zi)));
	(void)json_object_set_new(j, "next-refresh-kind", json_string(kind));
	bool idle = planned && z->run == ZONE_IDLE;
	(void)json_object_set_new(j, "next-refresh-in",
	                          idle ? json_integer(z->plan.due > now ? z->plan.due - now : 0)
	                               : json_null());
	bool expires = planned && z->plan.expire_at != INT64_MAX;
	(void)json_object_set_new(j, "expire-in", expires ? json_integer(z->plan.expire_at - now)
	                                                  : json_null());
}

static json_t *status_json(struct api_call *c, const char *source, const char *problem,
                           bool found, const struct zdb_zone_info *zi, const struct zone *z)
{
	bool loaded = found && zi->loaded;
	bool planned = z != NULL && z->owned && z->plan_valid;
	json_t *j = json_pack(
		"{s:s, s:o, s:s, s:b, s:o, s:o, s:o, s:o, s:o, s:i, s:o, s:o, s:o, s:o, s:o, s:b, "
		"s:s, s:b, s:o}",
		"name", c->zone, "source", text_or_null(source), "state", api_state_word(found, zi),
		"corrupt", found && zi->corrupt, "serial", loaded ? json_integer(zi->serial) : json_null(),
		"records", loaded ? json_integer((json_int_t)zi->records) : json_null(),
		"last-success", api_time_json(found ? zi->last_success : 0), "last-attempt",
		api_time_json(found ? zi->last_attempt : 0), "last-error",
		text_or_null(found ? zi->last_error_text : NULL), "last-error-code",
		found ? zi->last_error : 0, "primary", text_or_null(found ? zi->primary : NULL),
		"next-refresh", api_time_json(planned && z->run == ZONE_IDLE ? z->plan.due : 0),
		"expire-at", api_time_json(planned ? z->plan.expire_at : 0), "journal",
		found ? journal_json(zi) : json_null(), "partition",
		z != NULL && z->partition >= 0 ? json_integer(z->partition) : json_null(), "owned",
		z != NULL && z->owned, "replica", c->a->o.be.replica, "running",
		z != NULL && z->run != ZONE_IDLE, "removed-at",
		api_time_json(found && zi->state == ZDB_STATE_REMOVED ? zi->removed_at : 0));
	if (j != NULL && problem != NULL) {
		(void)json_object_set_new(j, "problem", json_string(problem));
	}
	if (j != NULL && z != NULL) {
		timers_json(j, found ? zi : NULL, z, planned);
	}
	return j;
}

void api_zone_status(struct api_call *c)
{
	struct api *a = c->a;
	const char *source = NULL, *problem = NULL;
	struct regmirror_rec rr;
	if (a->o.be.is_file_zone(a->o.be.ctx, c->wire)) {
		source = "file";
	} else if (regmirror_get(a->o.be.reg, c->zone, &rr) == 0) {
		source = "registry";
		problem = rr.problem;
	}
	struct zdb_snap *s = NULL;
	struct zdb_zone_info zi;
	bool found = zdb_snap_begin(a->o.be.db, &s) == 0 && api_store_get(s, c->wire, &zi);
	zdb_snap_end(s);
	if (source == NULL && !found) {
		api_send_problem(a, c->req, c->method,
		                 problem_new(404, PROBLEM_NOT_FOUND, "no zone %s (neither configured "
		                             "nor in the store)", c->zone));
		return;
	}
	json_t *j = status_json(c, source, problem, found, &zi, a->o.be.zone(a->o.be.ctx, c->wire));
	if (j == NULL) {
		api_send_nomem(c);
		return;
	}
	api_send(a, c->req, c->method, 200, j, NULL, NULL);
}

/* ---- POST /v1/zones/{name}/refresh|retransfer ------------------------------------------ */

static void on_requested(void *arg, int rc)
{
	struct api_op *op = arg;
	int status = rc == 0 ? 202 : 503;
	api_log_write(op->zone, op->method, op->what, op->token, status);
	if (op->req != NULL && rc != 0) {
		api_send_unavailable(op->a, op->req, op->method, "Kafka did not store the request: %s",
		                     zx_strerror(rc));
	} else if (op->req != NULL) {
		json_t *j = json_pack("{s:s, s:s, s:b}", "name", op->zone, "request", op->what, "force",
		                      op->force);
		api_send(op->a, op->req, op->method, status, j, NULL, NULL);
	}
	api_op_finish(op);
}

void api_zone_request(struct api_call *c, bool full)
{
	struct api *a = c->a;
	const char *what = full ? "retransfer" : "refresh";
	const char *f = query_of(c, "force");
	bool force = f != NULL && (strcmp(f, "true") == 0 || strcmp(f, "1") == 0);
	const char *bad = NULL;
	if (f != NULL && !force && strcmp(f, "false") != 0 && strcmp(f, "0") != 0) {
		bad = "force: expected true or false";
	} else if (force && !full) {
		bad = "force goes with retransfer only";
	} else if (TAILQ_FIRST(c->query) != NULL &&
	           (f == NULL || TAILQ_NEXT(TAILQ_FIRST(c->query), next) != NULL)) {
		bad = "unknown parameter; expected force (retransfer)";
	}
	if (bad != NULL) {
		api_log_write(c->zone, c->method, what, c->token, 400);
		api_send_problem(a, c->req, c->method, problem_new(400, PROBLEM_MALFORMED, "%s", bad));
		return;
	}
	if (a->o.be.zone(a->o.be.ctx, c->wire) == NULL) {
		api_log_write(c->zone, c->method, what, c->token, 404);
		api_send_problem(a, c->req, c->method,
		                 problem_new(404, PROBLEM_NOT_FOUND, "xfrd does not serve a zone %s",
		                             c->zone));
		return;
	}
	struct api_op *op = api_op_new(c, OP_REQUEST);
	if (op == NULL) {
		api_send_nomem(c);
		return;
	}
	snprintf(op->what, sizeof(op->what), "%s", what);
	op->force = force;
	int rc = a->o.be.request(a->o.be.ctx, c->zone, full, force, c->token, on_requested, op);
	if (rc != 0) {
		api_log_write(c->zone, c->method, what, c->token, 503);
		api_op_finish(op);
		api_send_unavailable(a, c->req, c->method, "the request cannot be sent: %s",
		                     zx_strerror(rc));
	}
}
