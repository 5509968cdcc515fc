/* SPDX-License-Identifier: MIT */
/* common/metrics.h -- Prometheus text exposition: counters, gauges, histograms.
 *
 * A registry holds series. Each series is one metric name plus a fixed label
 * set given at registration ("transport=\"udp\",outcome=\"accepted\""); series
 * of the same name are rendered together under one HELP/TYPE header, in
 * registration order. Registration returns a handle whose value the hot path
 * updates with a relaxed atomic add: no lookup, no lock, no allocation.
 * Gauges may instead be read at scrape time through a callback (queue depths).
 *
 * This is the text format only (version 0.0.4); serving it over HTTP is the
 * daemon's business.
 *
 * Threading: register series from one thread before others use them (or under
 * the caller's lock). Updating a handle is safe from any thread. Rendering
 * reads values with relaxed atomics (a scrape may see a histogram mid-update,
 * as with any Prometheus client) and calls gauge callbacks on the rendering
 * thread.
 */
#ifndef ZX_COMMON_METRICS_H
#define ZX_COMMON_METRICS_H

#include "common/err.h"

#include <stddef.h>
#include <stdint.h>

struct metrics;

/** A counter or gauge value, updated in place. */
struct metrics_val {
	uint64_t v; /**< counters: count; gauges: the value as int64_t bits */
};

/** Gauge callback, called while rendering: returns the current value. */
typedef double (*metrics_gauge_fn)(void *arg);

/** Most buckets a histogram may have (+Inf not counted). */
#define METRICS_HIST_MAX 24

struct metrics_hist {
	size_t nb;
	double bounds[METRICS_HIST_MAX]; /**< upper bounds, increasing */
	uint64_t buckets[METRICS_HIST_MAX + 1]; /**< non-cumulative; last is +Inf */
	uint64_t count;
	uint64_t sum_micro; /**< sum of observations * 1e6, so it stays an atomic integer */
};

/**
 * An empty registry.
 * @return returned owned (metrics_free()); NULL only when out of memory
 */
struct metrics *metrics_new(void);

/** Free @p m and every handle it gave out. NULL is ok. */
void metrics_free(struct metrics *m);

/**
 * Register a counter series.
 * @param name    metric name ("notifyd_requests_total"); copied
 * @param labels  label pairs without braces, or NULL/"" for none; copied
 * @param help    HELP text (used from the first series of the name); copied
 * @return the handle, borrowed from @p m (lives until metrics_free());
 *         NULL only when out of memory
 */
struct metrics_val *metrics_counter(struct metrics *m, const char *name, const char *labels,
                                    const char *help);

/** As metrics_counter() for a gauge set with metrics_set(). */
struct metrics_val *metrics_gauge(struct metrics *m, const char *name, const char *labels,
                                  const char *help);

/**
 * Register a gauge read at scrape time.
 * @param fn, arg  called on the rendering thread; @p arg borrowed (must outlive @p m)
 * @return 0; ZX_ENOMEM
 */
ZX_MUSTCHECK int metrics_gauge_cb(struct metrics *m, const char *name, const char *labels,
                                  const char *help, metrics_gauge_fn fn, void *arg);

/** Where a family's callback writes its samples (metrics_sample()), during a render. */
struct metrics_out;

/** A family's callback: write every sample of the family now (any number, even none). */
typedef void (*metrics_family_fn)(void *arg, struct metrics_out *o);

/**
 * Register a gauge family whose series are made at scrape time: @p fn writes each
 * sample with metrics_sample(). For series that come and go (one per zone, one per
 * partition owned), which fixed handles cannot follow.
 * @param fn, arg  called on the rendering thread; @p arg borrowed (must outlive @p m)
 * @return 0; ZX_ENOMEM
 */
ZX_MUSTCHECK int metrics_family(struct metrics *m, const char *name, const char *help,
                                metrics_family_fn fn, void *arg);

/**
 * One sample of the family being rendered.
 * @param labels  label pairs without braces ("zone=\"example.com.\""), values escaped
 *                with metrics_label_value(); NULL or "" for none; borrowed for the call
 */
void metrics_sample(struct metrics_out *o, const char *labels, double v);

/**
 * @p in escaped for a label value (backslash, double quote, line feed), cut to fit.
 * @param[out] buf  NUL-terminated when @p size > 0
 * @return the length written
 */
size_t metrics_label_value(const char *in, char *buf, size_t size);

/**
 * Register a histogram series.
 * @param bounds  @p nb increasing upper bounds (+Inf is implicit); copied
 * @return the handle, borrowed from @p m; NULL when out of memory or when
 *         @p nb is 0 or above METRICS_HIST_MAX
 */
struct metrics_hist *metrics_histogram(struct metrics *m, const char *name, const char *labels,
                                       const char *help, const double *bounds, size_t nb);

/** Add @p n to a counter. */
static inline void metrics_add(struct metrics_val *c, uint64_t n)
{
	__atomic_fetch_add(&c->v, n, __ATOMIC_RELAXED);
}

/** Set a gauge. */
static inline void metrics_set(struct metrics_val *g, int64_t v)
{
	__atomic_store_n(&g->v, (uint64_t)v, __ATOMIC_RELAXED);
}

/** Record one observation (e.g. seconds). */
void metrics_observe(struct metrics_hist *h, double v);

/** Current value of a counter (for tests and health checks). */
static inline uint64_t metrics_get(const struct metrics_val *c)
{
	return __atomic_load_n(&c->v, __ATOMIC_RELAXED);
}

/**
 * Render every series in the text format.
 * @param[out] out  malloc'd NUL-terminated text, owned by the caller (free());
 *                  untouched on error
 * @param[out] len  its length without the NUL
 * @return 0; ZX_ENOMEM
 */
ZX_MUSTCHECK int metrics_render(struct metrics *m, char **out, size_t *len);

#endif
