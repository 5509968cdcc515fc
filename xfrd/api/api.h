/* SPDX-License-Identifier: MIT */
/* xfrd/api/api.h -- the REST API of the zone registry, on xfrd's HTTP port.
 *
 * Routes (all JSON; docs/openapi.yaml is the contract, checked against a running
 * xfrd by tests/integration/api/openapi_check.py):
 *
 *   GET    /v1/zones                  every zone (the file's and the registry's), sorted
 *                                     by name; ?limit= (100, 1..1000) ?after=NAME (the
 *                                     cursor; "next" in the body) ?state=fresh|failed|
 *                                     expired|removed|pending ?source=file|registry
 *   GET    /v1/zones/{name}           the zone's settings (+ source, problem), ETag
 *   PUT    /v1/zones/{name}           create (201 + Location) or replace (200)
 *   PATCH  /v1/zones/{name}           JSON merge patch (RFC 7396) of the record, then as PUT
 *   DELETE /v1/zones/{name}           a tombstone (204)
 *   GET    /v1/zones/{name}/status    serial, state, times, plan, journal, placement
 *   POST   /v1/zones/{name}/refresh   a transfer request (origin operator): 202
 *   POST   /v1/zones/{name}/retransfer   a full retransfer (?force=true: even to an
 *                                     older serial): 202
 *   POST   /v1/zones/{name}/expire    stop serving the held data now (EXPIRED): 200
 *   POST   /v1/zones/{name}/purge     ?confirm=true: delete its data and journal; it is
 *                                     transferred anew at once: 200 (400 without confirm)
 *   POST   /v1/zones/{name}/notify    send its downstream NOTIFYs again: 200
 *          (these three act on this replica: 409 when another one owns the zone, or a
 *          transfer runs (purge), or there is no data or no notify target)
 *   GET    /v1/status                 the daemon: version, uptime, partitions, zones by
 *                                     state, Kafka
 * Anything else under / that opshttp does not serve: 404 problem; a known path with
 * another method: 405 with Allow.
 *
 * Access (in this order): the source must be in xfrd.api.allow (else 403); an
 * "Authorization: Bearer TOKEN" from the xfrd.api.tokens file (xfrd/api/tokens.h; else
 * 401 with WWW-Authenticate: Bearer); scope write for anything but GET (else 403).
 * /metrics, /health and /ready (common/ops/opshttp.h) stay open as before.
 *
 * Writes (PUT, PATCH, DELETE) of the registry:
 *   - the zone's JSON form (proto/registry.h) is checked by registry_from_json(), then
 *     resolved by registry_zone() with the running config, as a zone of the file would
 *     be: any problem is a 422 problem naming every bad field (invalid-params);
 *   - a zone of the config file is the file's: 409; a zone the registry lacks: 404
 *     (PATCH, DELETE);
 *   - ETag is "partition:offset", where the record was stored: If-Match with another
 *     value (or on a zone that does not exist) is 412; If-None-Match: * on a zone
 *     that exists is 412. Writes of one zone are serialised in this process: a
 *     second write waits until the first one's answer, then is checked against the
 *     version the first one made, so two writers sending the same ETag get one 2xx
 *     and one 412. (Replicas do not lock each other: send one zone's conditional
 *     writes to one replica.)
 *   - the answer is sent only once this replica's registry mirror read the record
 *     back (proto/regmirror.h: read-your-writes); 503 with Retry-After while the
 *     registry is not caught up, or when Kafka refused or did not store the record.
 *   - each write is logged: api_write zone= method= token= status=.
 * Bodies: at most API_BODY_MAX bytes (else 413; evhttp itself cuts at
 * API_BODY_HARD_MAX), Content-Type application/json (or any +json; PATCH also
 * application/merge-patch+json; else 415). Members the API adds to what it shows
 * (source, problem, updated-by, updated-at, etag) are ignored in bodies, so what
 * a GET shows may be sent back.
 *
 * Metrics: xfrd_api_requests_total{method,status}.
 *
 * Threading: the loop thread of opts.base; every callback runs on it.
 */
#ifndef ZX_XFRD_API_API_H
#define ZX_XFRD_API_API_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct api;
struct cfg;
struct event_base;
struct evhttp;
struct metrics;
struct regmirror;
struct zdb;
struct zone;

/** Most bytes of a request body the API reads (a zone's JSON is far smaller). */
#define API_BODY_MAX (64 * 1024)
/** evhttp drops bodies past this without reading them (its own 413). */
#define API_BODY_HARD_MAX (1024 * 1024)
/** GET /v1/zones: default and most zones per page. */
#define API_LIST_DEFAULT 100
#define API_LIST_MAX 1000
/** Retry-After of a 503, seconds. */
#define API_RETRY_AFTER_S 1

/** An operator's action on one zone (POST /v1/zones/{name}/expire|purge|notify). */
enum api_action { API_EXPIRE = 0, API_PURGE, API_NOTIFY };

/** What GET /v1/status shows of the daemon besides the store's zones. */
struct api_daemon {
	int64_t started;      /**< process start, seconds since the epoch */
	int32_t partitions;   /**< of the requests topic; 0 unknown yet */
	size_t owned;         /**< partitions owned now */
	size_t zones;         /**< zones xfrd runs (the file's and the registry's) */
	size_t running;       /**< transfers running now */
	bool kafka_ready;     /**< the consumer has its assignment and the topic exists */
	bool live;            /**< the liveness probe's verdict */
	char kafka_why[256];  /**< when not ready: why (the readiness probe's words) */
	char live_why[256];   /**< when not live: why */
};

/** A transfer request's outcome: 0 stored (the owner will run it), or ZX_E*. */
typedef void (*api_request_done)(void *arg, int rc);

/** What the API needs from the service that hosts it (xfrd/service/pipeline.c). */
struct api_backend {
	struct regmirror *reg; /**< the registry, read and written; borrowed, outlives the API */
	struct zdb *db;        /**< the store, read (state, serial, times); borrowed */
	const char *replica;   /**< this replica's name; borrowed */
	/** True when @p name (wire) is a zone of the config file. */
	bool (*is_file_zone)(void *ctx, const uint8_t *name);
	/** The runtime's record of @p name (wire); NULL when not served. Borrowed, for the call. */
	struct zone *(*zone)(void *ctx, const uint8_t *name);
	/**
	 * Ask for a transfer of @p zone (canonical text): a refresh, or with @p full a
	 * retransfer (@p force: an older serial may be stored). @p by names the asker
	 * (for the request's producer field). @p done runs once, later, on the loop.
	 * @return 0 (done follows); ZX_E* (done does not run)
	 */
	int (*request)(void *ctx, const char *zone, bool full, bool force, const char *by,
	               api_request_done done, void *arg);
	/**
	 * Run @p what on @p name (wire) now (xfrd/service/runtime.h runtime_act()).
	 * @return 0; ZX_ENOTFOUND not run here; ZX_EAGAIN another replica owns it;
	 *         ZX_EEXIST a transfer runs (purge); ZX_ENOENT no data; ZX_EINVAL no
	 *         notify targets; another ZX_E* of the store
	 */
	int (*act)(void *ctx, const uint8_t *name, enum api_action what);
	/** Fill @p out (it comes zeroed). */
	void (*daemon)(void *ctx, struct api_daemon *out);
	void *ctx;
};

struct api_opts {
	const struct cfg *cfg;   /**< xfrd.api, the file's zones, the keys and zone-defaults
	                            for validation; borrowed until api_set_cfg() replaces it */
	struct event_base *base; /**< borrowed */
	struct evhttp *http;     /**< the server to hang the routes on (opshttp_evhttp());
	                            borrowed; its generic callback becomes the API's */
	struct metrics *m;       /**< borrowed; outlives the API */
	struct api_backend be;   /**< copied */
};

/**
 * Read the tokens file (cfg->xfrd.api.tokens; relative to the config file's
 * directory) and serve the routes on opts.http.
 * @param[out] out  returned owned (api_free()); untouched on error
 * @param[out] err  on ZX_EFORMAT / ZX_ENOENT / ZX_ELIMIT: "file:line: what is wrong"
 * @return 0; ZX_EINVAL the API is off in opts.cfg (no tokens) or an option is missing;
 *         ZX_ENOENT the tokens file cannot be read; ZX_EFORMAT a bad line in it;
 *         ZX_ELIMIT too many tokens; ZX_ENOMEM
 */
ZX_MUSTCHECK int api_new(const struct api_opts *o, struct api **out, char *err, size_t errlen);

/**
 * A reloaded config (SIGHUP): @p cfg is borrowed from now on (the ACL, the zones, the
 * keys). The tokens file is read again; when it is bad the old tokens stay (logged
 * api_tokens_reload_failed with the file:line) and its code is returned.
 * @return 0; ZX_ENOENT, ZX_EFORMAT, ZX_ELIMIT (@p err; old tokens kept); ZX_ENOMEM
 */
ZX_MUSTCHECK int api_set_cfg(struct api *a, const struct cfg *cfg, char *err, size_t errlen);

/**
 * Free. Call it after the evhttp is freed (answers still owed go nowhere), and after
 * the registry mirror and the request hook have reported every write and request
 * they hold (regmirror_free(), the producer's free): their callbacks point here.
 * NULL ok.
 */
void api_free(struct api *a);

#endif
