/* SPDX-License-Identifier: MIT */
/* xfrd/api/api_internal.h -- what api.c (HTTP, access, routing, answers) and
 * api_zones.c (the routes' handlers) share. Not an API of its own.
 *
 * A request is handled at once (reads, errors), or becomes an api_op that answers
 * later: a write waiting for the registry to read it back (OP_BUSY: it holds its
 * zone's write slot), a write waiting for that slot (OP_WAITING: handled again from
 * the start once the slot is free), or a transfer request waiting for Kafka
 * (OP_REQUEST). An op whose client went away (the connection's close callback) has
 * req NULL: it still finishes, answering nobody.
 *
 * Threading: the loop thread.
 */
#ifndef ZX_XFRD_API_INTERNAL_H
#define ZX_XFRD_API_INTERNAL_H

#include "common/dname.h"
#include "xfrd/api/api.h"
#include "xfrd/api/tokens.h"

#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

struct cfg_zone;

enum api_op_state {
	OP_BUSY,    /**< a registry write out: the zone's write slot is taken */
	OP_WAITING, /**< a write waiting for the zone's slot */
	OP_REQUEST, /**< a transfer request out */
};

struct api_op {
	struct api *a;
	struct api_op *prev, *next; /**< a->ops */
	enum api_op_state state;
	struct evhttp_request *req; /**< NULL once the client is gone */
	struct evhttp_connection *conn;
	enum evhttp_cmd_type method;
	char zone[DNAME_TEXTLEN];
	char token[TOKENS_NAME_MAX + 1];
	bool created;               /**< PUT of a zone the registry lacked: 201 */
	json_t *body;               /**< the record to answer with (PUT, PATCH); owned */
	char what[16];              /**< OP_REQUEST: "refresh" or "retransfer" */
	bool force;
};

struct api {
	struct api_opts o;
	const struct cfg *cfg;
	struct tokens *tok;
	char tokens_path[4096];
	const struct cfg_zone **files; /**< the file's zones sorted by name_text */
	size_t nfiles;
	struct api_op *ops;            /**< every op alive, oldest first */
	struct api_op *ops_tail;
	struct api_count {
		int method, status;
		struct metrics_val *v;
	} counts[64];
	size_t ncounts;
};

/** One request being handled (what the routing found out). */
struct api_call {
	struct api *a;
	struct evhttp_request *req;
	enum evhttp_cmd_type method;
	const char *token;           /**< the token's name; borrowed from a->tok */
	enum tokens_scope scope;
	char zone[DNAME_TEXTLEN];    /**< canonical text, when the path names a zone */
	uint8_t wire[DNAME_MAXLEN];
	struct evkeyvalq *query;     /**< the query string's parameters */
};

/* ---- api.c: answers ---- */

/** Answer @p status with @p body (TAKEN; NULL: no body) and the headers given (NULL: none). */
void api_send(struct api *a, struct evhttp_request *req, enum evhttp_cmd_type method,
              int status, json_t *body, const char *etag, const char *location);

/** Answer with a problem (TAKEN; its "status" is the HTTP status; NULL: a bare 500). */
void api_send_problem(struct api *a, struct evhttp_request *req, enum evhttp_cmd_type method,
                      json_t *problem);

/** As api_send_problem() for a 503 with Retry-After. */
void api_send_unavailable(struct api *a, struct evhttp_request *req,
                          enum evhttp_cmd_type method, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/** The method's name ("PATCH"). */
const char *api_method_name(enum evhttp_cmd_type m);

/* ---- api.c: ops ---- */

/** A new op for @p c in @p state, linked, its close callback set. NULL out of memory. */
struct api_op *api_op_new(struct api_call *c, enum api_op_state state);

/** True when a write of @p zone is out (OP_BUSY). */
bool api_zone_busy(const struct api *a, const char *zone);

/**
 * An op is over: unlink, free; when it held its zone's slot, the writes waiting
 * for it are handled again, in order.
 */
void api_op_finish(struct api_op *op);

/** The access log line of a write (every method but GET). */
void api_log_write(const char *zone, enum evhttp_cmd_type method, const char *what,
                   const char *token, int status);

/* ---- api_zones.c: shared by the handlers ---- */

struct zdb_snap;
struct zdb_zone_info;

/** 503 unless the registry was read to its end (before, a zone may look missing). */
bool api_caught_up(struct api_call *c);

/** A 500 problem: out of memory. */
void api_send_nomem(struct api_call *c);

/** A time as UTC ISO 8601 text; null for 0 (never) and INT64_MAX. New reference. */
json_t *api_time_json(int64_t t);

/** The state words of the API: fresh, failed, expired, removed, pending (no data yet). */
const char *api_state_word(bool found, const struct zdb_zone_info *zi);

/** zdb_zone_get() through @p s (NULL: false). */
bool api_store_get(struct zdb_snap *s, const uint8_t *wire, struct zdb_zone_info *zi);

/* ---- the handlers (api_list.c, api_zones.c) ---- */

void api_zones_list(struct api_call *c);
void api_zone_get(struct api_call *c);
void api_zone_write(struct api_call *c); /**< PUT, PATCH, DELETE */
void api_zone_status(struct api_call *c);
void api_zone_request(struct api_call *c, bool full);
void api_zone_action(struct api_call *c, enum api_action what); /**< api_ops.c */
void api_daemon_status(struct api_call *c);                      /**< api_ops.c */

#endif
