/* SPDX-License-Identifier: MIT */
/* common/ops/opshttp.h -- the operators' HTTP endpoint both daemons serve.
 *
 *   GET /metrics  the Prometheus registry (text format 0.0.4)
 *   GET /health   liveness: 200, or 503 when the live probe says the process is wedged
 *   GET /ready    readiness: 200, or 503 with the reason
 * With opts.build_info it also registers the process metrics every exporter has:
 * process_start_time_seconds and NAME{version="0.1.0"} 1 (xfrd_build_info,
 * notifyd_build_info).
 * Each probe writes the one line of its answer's body (the daemon's own words:
 * notifyd's Kafka state, xfrd's stalled partition) and, for a 503, the HTTP reason
 * phrase. Further routes (xfrd's REST API) hang on the same server through
 * opshttp_evhttp().
 *
 * Threading: one thread, the libevent loop of @c base.
 */
#ifndef ZX_COMMON_OPS_OPSHTTP_H
#define ZX_COMMON_OPS_OPSHTTP_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct event_base;
struct evhttp;
struct metrics;
struct opshttp;

/** A probe's answer. */
struct opshttp_answer {
	bool ok;            /**< 200 when true, else 503 */
	char text[512];     /**< the body's line, without the newline */
	const char *reason; /**< a 503's reason phrase; NULL: "Service Unavailable"; static */
};

/** A probe: fill @p a (it comes zeroed, ok false). */
typedef void (*opshttp_probe_fn)(void *arg, struct opshttp_answer *a);

struct opshttp_opts {
	struct event_base *base;     /**< borrowed; the loop; outlives the server */
	const struct sockaddr *addr; /**< where to listen; borrowed for the call */
	socklen_t addr_len;
	struct metrics *m;           /**< borrowed; rendered at each scrape; outlives the server */
	opshttp_probe_fn live;       /**< /health */
	opshttp_probe_fn ready;      /**< /ready */
	void *arg;                   /**< the probes' argument */
	/** the build-info metric's name ("xfrd_build_info"): registers it ({version}, 1) and
	 *  process_start_time_seconds in @c m; NULL: neither */
	const char *build_info;
};

/**
 * Listen and serve.
 * @param[in]  o   copied
 * @param[out] out returned owned (opshttp_free()); untouched on error
 * @return 0; ZX_EINVAL a probe, the registry or the address is missing; ZX_EIO cannot
 *         bind the address (logged as http_failed); ZX_ENOMEM
 */
ZX_MUSTCHECK int opshttp_new(const struct opshttp_opts *o, struct opshttp **out);

/**
 * When this process started, seconds since the epoch (/proc/self/stat's start time
 * and the boot time of /proc/stat, as Prometheus' clients read it).
 * @return the time; 0 when /proc cannot be read
 */
int64_t opshttp_process_start(void);

/** Stop serving and free. NULL ok. */
void opshttp_free(struct opshttp *h);

/** The server, for more routes (evhttp_set_cb()); borrowed, lives as long as @p h. */
struct evhttp *opshttp_evhttp(struct opshttp *h);

#endif
