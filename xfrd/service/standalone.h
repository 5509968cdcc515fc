/* SPDX-License-Identifier: MIT */
/* xfrd/service/standalone.h -- xfrd without Kafka: the same zone runtime, on one loop.
 *
 * The runtime (xfrd/service/runtime.h) with no request source: the zones' own timers
 * ask for their refreshes (the planner's refresh, retry and expire, from the
 * last attempt as the store recorded it: a zone never tried starts at once), and
 * expiry marks the store. The DNS endpoint (xfrd.listen), the downstream
 * NOTIFYs and /metrics, /health, /ready (xfrd.http) run on the same loop.
 * SIGINT/SIGTERM stop it.
 *
 * The once mode: a refresh of every zone (or of the named ones) with the given
 * flags, through the same scheduler, then a return when none runs.
 *
 * Threading: runs on the calling thread; the engine's workers hand outcomes back.
 */
#ifndef ZX_XFRD_STANDALONE_H
#define ZX_XFRD_STANDALONE_H

#include "common/err.h"

#include <stdbool.h>

struct cfg;
struct engine;
struct zdb;

struct standalone_opts {
	const struct cfg *cfg;   /**< borrowed */
	struct zdb *db;          /**< borrowed */
	bool once;               /**< one pass, then return */
	unsigned flags;          /**< once: ZONE_FORCE_AXFR or 0 */
	char *const *zones;      /**< once: the zones to refresh (text); NULL: every zone */
	int nzones;
};

/**
 * Run until SIGINT/SIGTERM (once: until every requested refresh ended).
 * @param engp  the running engine; TAKEN: stopped and freed here, *engp set to NULL
 * @return 0 a clean stop (once: every zone current); 1 a part could not start
 *         (logged), or (once) a refresh failed
 */
int standalone_run(const struct standalone_opts *o, struct engine **engp);

#endif
