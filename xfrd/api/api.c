/* SPDX-License-Identifier: MIT */
/* xfrd/api/api.c -- the REST API's HTTP side: access, routing, answers, ops, life. */
#include "xfrd/api/api_internal.h"

#include "common/acl.h"
#include "common/cfg/cfg.h"
#include "common/log.h"
#include "common/metrics.h"
#include "xfrd/api/problem.h"

#include <event2/buffer.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define ALL_METHODS                                                                          \
	(EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |                   \
	 EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |         \
	 EVHTTP_REQ_PATCH)

const char *api_method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET:
		return "GET";
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_HEAD:
		return "HEAD";
	case EVHTTP_REQ_PUT:
		return "PUT";
	case EVHTTP_REQ_DELETE:
		return "DELETE";
	case EVHTTP_REQ_OPTIONS:
		return "OPTIONS";
	case EVHTTP_REQ_TRACE:
		return "TRACE";
	case EVHTTP_REQ_CONNECT:
		return "CONNECT";
	case EVHTTP_REQ_PATCH:
		return "PATCH";
	}
	return "OTHER";
}

/* ---- metrics ---------------------------------------------------------------- */

static void count(struct api *a, enum evhttp_cmd_type method, int status)
{
	for (size_t i = 0; i < a->ncounts; i++) {
		if (a->counts[i].method == (int)method && a->counts[i].status == status) {
			metrics_add(a->counts[i].v, 1);
			return;
		}
	}
	if (a->o.m == NULL || a->ncounts == sizeof(a->counts) / sizeof(a->counts[0])) {
		return;
	}
	char labels[64];
	snprintf(labels, sizeof(labels), "method=\"%s\",status=\"%d\"", api_method_name(method),
	         status);
	struct metrics_val *v = metrics_counter(a->o.m, "xfrd_api_requests_total", labels,
	                                        "REST API requests answered, by method and status.");
	if (v != NULL) {
		a->counts[a->ncounts++] = (struct api_count){(int)method, status, v};
		metrics_add(v, 1);
	}
}

/* ---- answers ---------------------------------------------------------------- */

static void send_text(struct api *a, struct evhttp_request *req, enum evhttp_cmd_type method,
                      int status, const char *ctype, const char *text)
{
	count(a, method, status);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *b = evbuffer_new();
	if (b == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
		return;
	}
	if (text != NULL) {
		evhttp_add_header(h, "Content-Type", ctype);
		evbuffer_add(b, text, strlen(text));
		evbuffer_add(b, "\n", 1);
	}
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_send_reply(req, status, problem_reason(status), b);
	evbuffer_free(b);
}

void api_send(struct api *a, struct evhttp_request *req, enum evhttp_cmd_type method,
              int status, json_t *body, const char *etag, const char *location)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	if (etag != NULL) {
		evhttp_add_header(h, "ETag", etag);
	}
	if (location != NULL) {
		evhttp_add_header(h, "Location", location);
	}
	char *text = NULL;
	if (body != NULL) {
		text = json_dumps(body, JSON_INDENT(2) | JSON_ENSURE_ASCII);
		json_decref(body);
		if (text == NULL) {
			send_text(a, req, method, 500, "application/problem+json",
			          "{\"type\": \"" PROBLEM_TYPE_PREFIX PROBLEM_INTERNAL
			          "\", \"title\": \"Internal Server Error\", \"status\": 500}");
			return;
		}
	}
	const char *ctype = status >= 400 ? "application/problem+json" : "application/json";
	send_text(a, req, method, status, ctype, text);
	free(text);
}

void api_send_problem(struct api *a, struct evhttp_request *req, enum evhttp_cmd_type method,
                      json_t *problem)
{
	int status = (int)json_integer_value(json_object_get(problem, "status"));
	api_send(a, req, method, status >= 400 ? status : 500, problem, NULL, NULL);
}

void api_send_unavailable(struct api *a, struct evhttp_request *req,
                          enum evhttp_cmd_type method, const char *fmt, ...)
{
	char detail[700];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	char after[16];
	snprintf(after, sizeof(after), "%d", API_RETRY_AFTER_S);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", after);
	api_send_problem(a, req, method, problem_new(503, PROBLEM_UNAVAILABLE, "%s", detail));
}

void api_log_write(const char *zone, enum evhttp_cmd_type method, const char *what,
                   const char *token, int status)
{
	char q[1100];
	log_info("api_write", "zone=%s method=%s%s%s token=%s status=%d",
	         log_quote(zone, q, sizeof(q)), api_method_name(method), what != NULL ? " what=" : "",
	         what != NULL ? what : "", token, status);
}

/* ---- ops ---------------------------------------------------------------------- */

static void on_close(struct evhttp_connection *conn, void *arg)
{
	(void)conn;
	struct api_op *op = arg;
	op->req = NULL; /* evhttp frees it: answer nobody */
	op->conn = NULL;
}

struct api_op *api_op_new(struct api_call *c, enum api_op_state state)
{
	struct api_op *op = calloc(1, sizeof(*op));
	if (op == NULL) {
		return NULL;
	}
	op->a = c->a;
	op->state = state;
	op->req = c->req;
	op->conn = evhttp_request_get_connection(c->req);
	op->method = c->method;
	snprintf(op->zone, sizeof(op->zone), "%s", c->zone);
	snprintf(op->token, sizeof(op->token), "%s", c->token != NULL ? c->token : "");
	struct api *a = c->a;
	op->prev = a->ops_tail;
	if (a->ops_tail != NULL) {
		a->ops_tail->next = op;
	} else {
		a->ops = op;
	}
	a->ops_tail = op;
	if (op->conn != NULL) {
		evhttp_connection_set_closecb(op->conn, on_close, op);
	}
	return op;
}

bool api_zone_busy(const struct api *a, const char *zone)
{
	for (const struct api_op *op = a->ops; op != NULL; op = op->next) {
		if (op->state == OP_BUSY && strcmp(op->zone, zone) == 0) {
			return true;
		}
	}
	return false;
}

static void unlink_op(struct api_op *op)
{
	struct api *a = op->a;
	if (op->prev != NULL) {
		op->prev->next = op->next;
	} else {
		a->ops = op->next;
	}
	if (op->next != NULL) {
		op->next->prev = op->prev;
	} else {
		a->ops_tail = op->prev;
	}
	op->prev = op->next = NULL;
	if (op->conn != NULL) {
		evhttp_connection_set_closecb(op->conn, NULL, NULL);
	}
}

static void dispatch(struct api *a, struct evhttp_request *req);

void api_op_finish(struct api_op *op)
{
	struct api *a = op->a;
	bool busy = op->state == OP_BUSY;
	char zone[DNAME_TEXTLEN];
	snprintf(zone, sizeof(zone), "%s", op->zone);
	unlink_op(op);
	json_decref(op->body);
	free(op);
	if (!busy) {
		return;
	}
	/* the writes that waited for this one, in their order: handled again from the
	 * start, now against the version it made (the first takes the slot, the others
	 * wait again behind it) */
	struct api_op *waiting = NULL, **tail = &waiting;
	for (struct api_op *w = a->ops, *n; w != NULL; w = n) {
		n = w->next;
		if (w->state == OP_WAITING && strcmp(w->zone, zone) == 0) {
			unlink_op(w);
			*tail = w;
			tail = &w->next;
		}
	}
	for (struct api_op *w = waiting, *n; w != NULL; w = n) {
		n = w->next;
		if (w->req != NULL) {
			dispatch(a, w->req);
		}
		free(w);
	}
}

/* ---- access ------------------------------------------------------------------- */

/* The bearer token of the request's Authorization header; NULL when none. */
static const char *bearer(struct evhttp_request *req, size_t *len)
{
	const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0) {
		return NULL;
	}
	h += 7;
	while (*h == ' ') {
		h++;
	}
	size_t n = strlen(h);
	while (n > 0 && (h[n - 1] == ' ' || h[n - 1] == '\t')) {
		n--;
	}
	*len = n;
	return h;
}

/* Source ACL, then the token. false: answered. */
static bool admit(struct api_call *c)
{
	struct api *a = c->a;
	struct evhttp_connection *conn = evhttp_request_get_connection(c->req);
	const struct sockaddr *sa = conn != NULL ? evhttp_connection_get_addr(conn) : NULL;
	if (sa == NULL || !acl_match(&a->cfg->xfrd.api.allow, sa)) {
		char addr[ACL_ADDRSTRLEN] = "?";
		if (sa != NULL) {
			acl_addr_str(sa, false, addr, sizeof(addr));
		}
		log_warn("api_refused", "source=%s why=acl", addr);
		api_send_problem(a, c->req, c->method,
		                 problem_new(403, PROBLEM_FORBIDDEN,
		                             "source %s is not in xfrd.api.allow", addr));
		return false;
	}
	size_t len = 0;
	const char *tok = bearer(c->req, &len);
	if (tok == NULL || tokens_check(a->tok, tok, len, &c->token, &c->scope) != 0) {
		evhttp_add_header(evhttp_request_get_output_headers(c->req), "WWW-Authenticate",
		                  tok == NULL ? "Bearer realm=\"zx\""
		                              : "Bearer realm=\"zx\", error=\"invalid_token\"");
		api_send_problem(a, c->req, c->method,
		                 problem_new(401, PROBLEM_UNAUTHORIZED,
		                             tok == NULL ? "an Authorization: Bearer token is needed"
		                                         : "the bearer token is not known"));
		return false;
	}
	return true;
}

/* ---- routing ------------------------------------------------------------------ */

enum route { R_NONE, R_LIST, R_ZONE, R_STATUS, R_REFRESH, R_RETRANSFER, R_EXPIRE, R_PURGE,
	     R_NOTIFY, R_DAEMON };

static const char *allow_of(enum route r)
{
	switch (r) {
	case R_LIST:
	case R_STATUS:
	case R_DAEMON:
		return "GET";
	case R_ZONE:
		return "GET, PUT, PATCH, DELETE";
	case R_REFRESH:
	case R_RETRANSFER:
	case R_EXPIRE:
	case R_PURGE:
	case R_NOTIFY:
		return "POST";
	default:
		return "";
	}
}

static bool method_ok(enum route r, enum evhttp_cmd_type m)
{
	switch (r) {
	case R_LIST:
	case R_STATUS:
	case R_DAEMON:
		return m == EVHTTP_REQ_GET;
	case R_ZONE:
		return m == EVHTTP_REQ_GET || m == EVHTTP_REQ_PUT || m == EVHTTP_REQ_PATCH ||
		       m == EVHTTP_REQ_DELETE;
	case R_REFRESH:
	case R_RETRANSFER:
	case R_EXPIRE:
	case R_PURGE:
	case R_NOTIFY:
		return m == EVHTTP_REQ_POST;
	default:
		return false;
	}
}

/* "/v1/zones/NAME/what" -> the route and the name's raw (still %-encoded) segment. */
static enum route route_of(const char *path, char *seg, size_t size)
{
	static const char base[] = "/v1/zones";
	if (strcmp(path, "/v1/status") == 0) {
		return R_DAEMON;
	}
	if (strncmp(path, base, sizeof(base) - 1) != 0) {
		return R_NONE;
	}
	path += sizeof(base) - 1;
	if (*path == '\0') {
		return R_LIST;
	}
	if (*path != '/' || path[1] == '\0') {
		return R_NONE;
	}
	path++;
	const char *slash = strchr(path, '/');
	size_t n = slash != NULL ? (size_t)(slash - path) : strlen(path);
	if (n == 0 || n >= size) {
		return R_NONE;
	}
	memcpy(seg, path, n);
	seg[n] = '\0';
	if (slash == NULL) {
		return R_ZONE;
	}
	if (strcmp(slash, "/status") == 0) {
		return R_STATUS;
	}
	if (strcmp(slash, "/refresh") == 0) {
		return R_REFRESH;
	}
	if (strcmp(slash, "/retransfer") == 0) {
		return R_RETRANSFER;
	}
	static const char *const acts[] = {"/expire", "/purge", "/notify"};
	for (size_t i = 0; i < 3; i++) {
		if (strcmp(slash, acts[i]) == 0) {
			return (enum route)(R_EXPIRE + i);
		}
	}
	return R_NONE;
}

/* The zone name of the path into c->zone / c->wire. false: answered 400. */
static bool zone_of(struct api_call *c, const char *seg)
{
	char *text = evhttp_uridecode(seg, 0, NULL);
	bool ok = text != NULL && strlen(text) < 1024 && dname_from_text(text, c->wire) > 0 &&
	          dname_to_text(c->wire, c->zone, sizeof(c->zone)) == 0;
	if (!ok) {
		api_send_problem(c->a, c->req, c->method,
		                 problem_new(400, PROBLEM_MALFORMED, "\"%.200s\" is not a zone name",
		                             text != NULL ? text : seg));
	}
	free(text);
	return ok;
}

static void handle(struct api_call *c, enum route r)
{
	switch (r) {
	case R_LIST:
		api_zones_list(c);
		break;
	case R_ZONE:
		if (c->method == EVHTTP_REQ_GET) {
			api_zone_get(c);
		} else {
			api_zone_write(c);
		}
		break;
	case R_STATUS:
		api_zone_status(c);
		break;
	case R_REFRESH:
	case R_RETRANSFER:
		api_zone_request(c, r == R_RETRANSFER);
		break;
	case R_EXPIRE:
	case R_PURGE:
	case R_NOTIFY:
		api_zone_action(c, (enum api_action)(r - R_EXPIRE));
		break;
	case R_DAEMON:
		api_daemon_status(c);
		break;
	default:
		break;
	}
}

static void dispatch(struct api *a, struct evhttp_request *req)
{
	struct evkeyvalq query;
	TAILQ_INIT(&query);
	struct api_call c = {.a = a, .req = req, .method = evhttp_request_get_command(req),
	                     .query = &query};
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	char seg[1100];
	enum route r = path != NULL ? route_of(path, seg, sizeof(seg)) : R_NONE;
	if (path == NULL || strncmp(path, "/v1/", 4) != 0) {
		api_send_problem(a, req, c.method,
		                 problem_new(404, PROBLEM_NOT_FOUND, "no such path; the API is "
		                             "under /v1/zones, probes at /metrics, /health, /ready"));
		return;
	}
	if (!admit(&c)) {
		return;
	}
	if (r == R_NONE) {
		api_send_problem(a, req, c.method,
		                 problem_new(404, PROBLEM_NOT_FOUND, "no such path: %.200s", path));
		return;
	}
	if (!method_ok(r, c.method)) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow_of(r));
		api_send_problem(a, req, c.method,
		                 problem_new(405, PROBLEM_METHOD, "%s is not allowed here; allowed: %s",
		                             api_method_name(c.method), allow_of(r)));
		return;
	}
	if (c.method != EVHTTP_REQ_GET && c.scope != TOKENS_WRITE) {
		api_send_problem(a, req, c.method,
		                 problem_new(403, PROBLEM_FORBIDDEN,
		                             "the token \"%s\" may read only (scope read)", c.token));
		return;
	}
	const char *q = evhttp_uri_get_query(uri);
	if (q != NULL && evhttp_parse_query_str(q, &query) != 0) {
		api_send_problem(a, req, c.method,
		                 problem_new(400, PROBLEM_MALFORMED, "the query string is malformed"));
		return;
	}
	if (r == R_LIST || r == R_DAEMON || zone_of(&c, seg)) {
		handle(&c, r);
	}
	evhttp_clear_headers(&query);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	dispatch(arg, req);
}

/* ---- life --------------------------------------------------------------------- */

static int by_text(const void *x, const void *y)
{
	return strcmp((*(const struct cfg_zone *const *)x)->name_text,
	              (*(const struct cfg_zone *const *)y)->name_text);
}

static int index_files(struct api *a, const struct cfg *cfg)
{
	const struct cfg_zone **v = calloc(cfg->zone_count ? cfg->zone_count : 1, sizeof(*v));
	if (v == NULL) {
		return ZX_ENOMEM;
	}
	for (size_t i = 0; i < cfg->zone_count; i++) {
		v[i] = &cfg->zones[i];
	}
	qsort(v, cfg->zone_count, sizeof(*v), by_text);
	free(a->files);
	a->files = v;
	a->nfiles = cfg->zone_count;
	return 0;
}

/* The tokens file's path: relative ones from the config file's directory. */
static void tokens_path(const struct cfg *cfg, char *buf, size_t size)
{
	const char *t = cfg->xfrd.api.tokens;
	const char *slash = cfg->path != NULL ? strrchr(cfg->path, '/') : NULL;
	if (t[0] == '/' || slash == NULL) {
		snprintf(buf, size, "%s", t);
	} else {
		snprintf(buf, size, "%.*s/%s", (int)(slash - cfg->path), cfg->path, t);
	}
}

static int load_tokens(const struct cfg *cfg, char *path, size_t psize, struct tokens **out,
                       char *err, size_t errlen)
{
	tokens_path(cfg, path, psize);
	int rc = tokens_load(path, out, err, errlen);
	struct stat st;
	if (rc == 0 && stat(path, &st) == 0 && (st.st_mode & S_IROTH) != 0) {
		log_warn("api_tokens_readable", "file=%s hint=\"anyone on this host can read the "
		         "tokens: chmod o-r\"", path);
	}
	return rc;
}

int api_new(const struct api_opts *o, struct api **out, char *err, size_t errlen)
{
	if (o->cfg == NULL || o->cfg->xfrd.api.tokens == NULL || o->base == NULL ||
	    o->http == NULL || o->be.reg == NULL || o->be.db == NULL || o->be.zone == NULL ||
	    o->be.request == NULL || o->be.is_file_zone == NULL) {
		return ZX_EINVAL;
	}
	struct api *a = calloc(1, sizeof(*a));
	if (a == NULL) {
		return ZX_ENOMEM;
	}
	a->o = *o;
	a->cfg = o->cfg;
	int rc = load_tokens(o->cfg, a->tokens_path, sizeof(a->tokens_path), &a->tok, err, errlen);
	if (rc == 0) {
		rc = index_files(a, o->cfg);
	}
	if (rc != 0) {
		api_free(a);
		return rc;
	}
	evhttp_set_allowed_methods(o->http, ALL_METHODS);
	evhttp_set_max_body_size(o->http, API_BODY_HARD_MAX);
	evhttp_set_gencb(o->http, on_request, a);
	log_info("api_started", "tokens=%zu file=%s", tokens_count(a->tok), a->tokens_path);
	*out = a;
	return 0;
}

int api_set_cfg(struct api *a, const struct cfg *cfg, char *err, size_t errlen)
{
	a->cfg = cfg;
	int rc = index_files(a, cfg);
	if (rc != 0) {
		a->nfiles = 0; /* the old index points into the old config */
		return rc;
	}
	struct tokens *t = NULL;
	char path[sizeof(a->tokens_path)];
	rc = load_tokens(cfg, path, sizeof(path), &t, err, errlen);
	if (rc != 0) {
		char q[1200];
		log_error("api_tokens_reload_failed", "file=%s error=%s kept=%zu", path,
		          log_quote(err, q, sizeof(q)), tokens_count(a->tok));
		return rc;
	}
	tokens_free(a->tok);
	a->tok = t;
	snprintf(a->tokens_path, sizeof(a->tokens_path), "%s", path);
	log_info("api_tokens_reloaded", "tokens=%zu file=%s", tokens_count(t), path);
	return 0;
}

void api_free(struct api *a)
{
	if (a == NULL) {
		return;
	}
	while (a->ops != NULL) { /* only when the caller broke the order api.h asks for */
		struct api_op *op = a->ops;
		a->ops = op->next;
		json_decref(op->body);
		free(op);
	}
	tokens_free(a->tok);
	free(a->files);
	free(a);
}
