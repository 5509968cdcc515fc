/* SPDX-License-Identifier: MIT */
/* xfrd/api/api_list.c -- GET /v1/zones: the file's zones and the registry's merged in name
 * order, filtered, a page at a time; or the store's removed zones. */
#include "xfrd/api/api_internal.h"

#include "common/cfg/cfg.h"
#include "common/store/zdb.h"
#include "proto/regmirror.h"
#include "xfrd/api/problem.h"
#include "xfrd/zone/zone.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- GET /v1/zones ----------------------------------------------------------------- */

struct lister {
	struct api_call *c;
	struct zdb_snap *snap;
	const char *state;  /* filter; NULL any */
	int source;         /* 0 any, 1 file, 2 registry */
	size_t limit;
	json_t *items;
	size_t n;
	char last[DNAME_TEXTLEN];
	bool more, nomem;
};

/* Offer one zone to the page. true: stop (the page is full and one more matched). */
static bool offer(struct lister *l, const char *name, bool file)
{
	if (l->source != 0 && l->source != (file ? 1 : 2)) {
		return false;
	}
	uint8_t wire[DNAME_MAXLEN];
	struct zdb_zone_info zi;
	bool found = dname_from_text(name, wire) > 0 && api_store_get(l->snap, wire, &zi);
	const char *state = api_state_word(found, &zi);
	if (l->state != NULL && strcmp(state, l->state) != 0) {
		return false;
	}
	if (l->n == l->limit) {
		l->more = true;
		return true;
	}
	json_t *it = json_pack("{s:s, s:s, s:s}", "name", name, "source", file ? "file" : "registry",
	                       "state", state);
	if (it != NULL && found && zi.loaded) {
		(void)json_object_set_new(it, "serial", json_integer(zi.serial));
	}
	if (it != NULL && found && zi.last_success > 0) {
		(void)json_object_set_new(it, "last-success", api_time_json(zi.last_success));
	}
	/* the timers of the zones this replica runs (knotc zone-status without a zone) */
	const struct zone *z = found || file ? l->c->a->o.be.zone(l->c->a->o.be.ctx, wire) : NULL;
	if (it != NULL && z != NULL && z->owned && z->plan_valid) {
		if (z->run == ZONE_IDLE) {
			(void)json_object_set_new(it, "next-refresh", api_time_json(z->plan.due));
		}
		(void)json_object_set_new(it, "expire-at", api_time_json(z->plan.expire_at));
	}
	struct regmirror_rec rr;
	if (it != NULL && !file && regmirror_get(l->c->a->o.be.reg, name, &rr) == 0 &&
	    rr.problem != NULL) {
		(void)json_object_set_new(it, "problem", json_string(rr.problem));
	}
	if (it == NULL || json_array_append_new(l->items, it) != 0) {
		l->nomem = true;
		return true;
	}
	l->n++;
	snprintf(l->last, sizeof(l->last), "%s", name);
	return false;
}

/* The file's zones and the registry's, merged in name order, after @p after. */
static void walk_configured(struct lister *l, const char *after)
{
	struct api *a = l->c->a;
	size_t i = 0, lo = 0, hi = a->nfiles;
	while (after != NULL && lo < hi) { /* the first file zone > after */
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(a->files[mid]->name_text, after) <= 0) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	i = after != NULL ? lo : 0;
	const char *names[256];
	char cursor[DNAME_TEXTLEN];
	snprintf(cursor, sizeof(cursor), "%s", after != NULL ? after : "");
	size_t nr = regmirror_list(a->o.be.reg, cursor, names, 256), j = 0;
	for (;;) {
		if (j == nr && nr == 256) {
			snprintf(cursor, sizeof(cursor), "%s", names[255]);
			nr = regmirror_list(a->o.be.reg, cursor, names, 256);
			j = 0;
		}
		const char *f = i < a->nfiles ? a->files[i]->name_text : NULL;
		const char *r = j < nr ? names[j] : NULL;
		if (f == NULL && r == NULL) {
			return;
		}
		int cmp = f == NULL ? 1 : r == NULL ? -1 : strcmp(f, r);
		bool stop = offer(l, cmp <= 0 ? f : r, cmp <= 0);
		i += cmp <= 0;
		j += cmp >= 0; /* equal: the file's zone, its record shadowed */
		if (stop) {
			return;
		}
	}
}

struct removed {
	char **v;
	size_t n, cap;
	bool nomem;
};

static int collect_removed(const struct zdb_zone_info *zi, void *arg)
{
	struct removed *r = arg;
	char name[DNAME_TEXTLEN];
	if (zi->state != ZDB_STATE_REMOVED || dname_to_text(zi->name, name, sizeof(name)) != 0) {
		return 0;
	}
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 64;
		char **v = realloc(r->v, cap * sizeof(*v));
		if (v == NULL) {
			r->nomem = true;
			return 1;
		}
		r->v = v;
		r->cap = cap;
	}
	r->v[r->n] = strdup(name);
	r->nomem |= r->v[r->n] == NULL;
	r->n += r->v[r->n] != NULL;
	return r->nomem ? 1 : 0;
}

static int by_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* ?state=removed: the store's REMOVED zones (in their grace), which nobody configures. */
static void walk_removed(struct lister *l, const char *after)
{
	struct removed r = {0};
	if (l->snap != NULL && zdb_zone_list(l->snap, collect_removed, &r) < 0) {
		l->nomem = true;
	}
	l->nomem |= r.nomem;
	qsort(r.v, r.n, sizeof(*r.v), by_str);
	l->source = 0;
	for (size_t i = 0; i < r.n && !l->nomem; i++) {
		if (after != NULL && strcmp(r.v[i], after) <= 0) {
			continue;
		}
		if (l->n == l->limit) {
			l->more = true;
			break;
		}
		uint8_t wire[DNAME_MAXLEN];
		struct zdb_zone_info zi;
		if (dname_from_text(r.v[i], wire) <= 0 || !api_store_get(l->snap, wire, &zi)) {
			continue;
		}
		json_t *it = json_pack("{s:s, s:s, s:o}", "name", r.v[i], "state", "removed",
		                       "removed-at", api_time_json(zi.removed_at));
		if (it != NULL && zi.loaded) {
			(void)json_object_set_new(it, "serial", json_integer(zi.serial));
		}
		if (it == NULL || json_array_append_new(l->items, it) != 0) {
			l->nomem = true;
			break;
		}
		l->n++;
		snprintf(l->last, sizeof(l->last), "%s", r.v[i]);
	}
	for (size_t i = 0; i < r.n; i++) {
		free(r.v[i]);
	}
	free(r.v);
}

/* The query of GET /v1/zones; false: answered 400. */
static bool list_query(struct api_call *c, struct lister *l, char *after, size_t asize)
{
	const char *bad = NULL;
	for (const struct evkeyval *kv = TAILQ_FIRST(c->query); kv != NULL && bad == NULL;
	     kv = TAILQ_NEXT(kv, next)) {
		if (strcmp(kv->key, "limit") == 0) {
			char *end;
			long v = strtol(kv->value, &end, 10);
			bad = *kv->value == '\0' || *end != '\0' || v < 1 || v > API_LIST_MAX
			              ? "limit: expected a number from 1 to 1000"
			              : NULL;
			l->limit = (size_t)v;
		} else if (strcmp(kv->key, "after") == 0) {
			uint8_t w[DNAME_MAXLEN];
			bad = dname_from_text(kv->value, w) <= 0 || dname_to_text(w, after, asize) != 0
			              ? "after: expected a zone name (the \"next\" of the page before)"
			              : NULL;
		} else if (strcmp(kv->key, "state") == 0) {
			static const char *const ok[] = {"fresh",   "following", "behind",
			                                  "failed",  "expired",   "removed",
			                                  "pending", NULL};
			size_t i = 0;
			while (ok[i] != NULL && strcmp(ok[i], kv->value) != 0) {
				i++;
			}
			l->state = ok[i];
			bad = ok[i] == NULL ? "state: expected fresh, following, behind, failed, "
			                             "expired, removed or pending"
			                    : NULL;
		} else if (strcmp(kv->key, "source") == 0) {
			l->source = strcmp(kv->value, "file") == 0       ? 1
			            : strcmp(kv->value, "registry") == 0 ? 2
			                                                 : -1;
			bad = l->source < 0 ? "source: expected file or registry" : NULL;
		} else {
			bad = "unknown parameter; expected limit, after, state, source";
			api_send_problem(c->a, c->req, c->method,
			                 problem_new(400, PROBLEM_MALFORMED, "%.100s: %s", kv->key, bad));
			return false;
		}
	}
	if (bad != NULL) {
		api_send_problem(c->a, c->req, c->method, problem_new(400, PROBLEM_MALFORMED, "%s", bad));
		return false;
	}
	return true;
}

/* "next": the cursor and the link to the next page. */
static bool put_next(json_t *j, const struct lister *l, size_t limit)
{
	if (!l->more) {
		return json_object_set_new(j, "next", json_null()) == 0 &&
		       json_object_set_new(j, "next-href", json_null()) == 0;
	}
	char *enc = evhttp_uriencode(l->last, -1, 0);
	char href[DNAME_TEXTLEN * 3 + 128];
	snprintf(href, sizeof(href), "/v1/zones?after=%s&limit=%zu%s%s%s%s", enc != NULL ? enc : "",
	         limit, l->state != NULL ? "&state=" : "", l->state != NULL ? l->state : "",
	         l->source == 1 ? "&source=file" : "", l->source == 2 ? "&source=registry" : "");
	free(enc);
	return json_object_set_new(j, "next", json_string(l->last)) == 0 &&
	       json_object_set_new(j, "next-href", json_string(href)) == 0;
}

void api_zones_list(struct api_call *c)
{
	struct lister l = {.c = c, .limit = API_LIST_DEFAULT};
	char after[DNAME_TEXTLEN] = "";
	if (!list_query(c, &l, after, sizeof(after)) || !api_caught_up(c)) {
		return;
	}
	size_t limit = l.limit;
	l.items = json_array();
	if (zdb_snap_begin(c->a->o.be.db, &l.snap) != 0) {
		l.snap = NULL; /* states shown as pending; counted nowhere else */
	}
	if (l.items != NULL && l.state != NULL && strcmp(l.state, "removed") == 0) {
		walk_removed(&l, after[0] ? after : NULL);
	} else if (l.items != NULL) {
		walk_configured(&l, after[0] ? after : NULL);
	}
	zdb_snap_end(l.snap);
	json_t *j = l.items != NULL && !l.nomem ? json_pack("{s:O, s:I}", "zones", l.items, "count",
	                                                    (json_int_t)l.n)
	                                        : NULL;
	json_decref(l.items);
	if (j == NULL || !put_next(j, &l, limit)) {
		json_decref(j);
		api_send_nomem(c);
		return;
	}
	api_send(c->a, c->req, c->method, 200, j, NULL, NULL);
}

