/* SPDX-License-Identifier: MIT */
/* xfrd/service/zonemetrics.h -- the per-zone series on /metrics, made at each scrape.
 *
 *   xfrd_zone_serial{zone}               the serial in the store
 *   xfrd_zone_state{zone,state}          1 for the zone's state, 0 for the others:
 *                                        fresh, refreshing (a transfer runs), failed,
 *                                        expired
 *   xfrd_zone_last_success_seconds{zone} seconds since the last success (a transfer or
 *                                        an SOA check that found it current)
 *   xfrd_zone_expire_seconds{zone}       seconds until it expires (the clamped SOA
 *                                        expire from the last success; <= 0 expired)
 * for each zone this replica runs (owned, with data; the state also for a zone that
 * failed before it got any), read from the store and the zone runtime in one pass of
 * the store per family. One zone costs 7 series, so they are made only while the
 * replica runs at most xfrd.metrics.per-zone-limit zones (docker/prometheus/alerts.yaml
 * stays silent on its zone alerts otherwise; xfrd_transfer_outcomes_total still counts).
 *
 * Threading: the loop thread (the scrape runs there, as the runtime does).
 */
#ifndef ZX_XFRD_SERVICE_ZONEMETRICS_H
#define ZX_XFRD_SERVICE_ZONEMETRICS_H

#include "common/err.h"

#include <stdint.h>

struct metrics;
struct runtime;
struct zdb;
struct zonemetrics;

/**
 * Register the four families in @p m.
 * @param rt, db  borrowed; outlive @p m's last render
 * @param limit   xfrd.metrics.per-zone-limit
 * @param[out] out returned owned (zonemetrics_free(), after @p m's last render);
 *                 untouched on error
 * @return 0; ZX_ENOMEM
 */
ZX_MUSTCHECK int zonemetrics_new(struct metrics *m, struct runtime *rt, struct zdb *db,
                                 uint32_t limit, struct zonemetrics **out);

/** A reloaded limit. */
void zonemetrics_set_limit(struct zonemetrics *zm, uint32_t limit);

/** Free. NULL ok. */
void zonemetrics_free(struct zonemetrics *zm);

#endif
