/* SPDX-License-Identifier: MIT */
/* xfrd/zone/plan.h -- the refresh planner: when a zone is refreshed next, when it expires.
 *
 * One planner for every mode (RFC 1035 SOA semantics, from what the store holds):
 *   - a zone never tried: due at once;
 *   - after a success (the store says FRESH: a transfer or an SOA check; or
 *     FOLLOWING: a follower's copy or check from the owner replica): the last
 *     attempt + refresh;
 *   - BEHIND (the owner replica announced a newer serial): at once;
 *   - after a failure (FAILED or EXPIRED): the last attempt + retry;
 *   - the data expires at the last success + expire (nothing held: never).
 * Each interval is the SOA's (RFC 1912 defaults when nothing is held), clamped
 * by the zone's settings (refresh/retry/expire min and max); refresh and retry
 * are then shortened by up to jitter_pct percent. The jitter is a hash of the
 * zone and its last attempt: stable between two computations of the same plan,
 * different between zones, so zones loaded together spread out.
 *
 * Pure: no clock, no I/O. Threading: any.
 */
#ifndef ZX_XFRD_ZONE_PLAN_H
#define ZX_XFRD_ZONE_PLAN_H

#include "common/cfg/cfg.h"
#include "common/store/zdb.h"
#include "xfrd/zone/zone.h"

#include <stdint.h>

/** SOA timers used when the store holds no SOA for the zone (RFC 1912 values). */
#define PLAN_DEFAULT_REFRESH 3600
#define PLAN_DEFAULT_RETRY 600
#define PLAN_DEFAULT_EXPIRE 604800

/**
 * Compute a zone's plan.
 * @param[in] z     the zone's settings (clamps); borrowed
 * @param[in] info  what the store holds; NULL when the zone is not in the store
 * @param jitter_pct shorten refresh/retry by up to this percentage (0..50)
 * @param[out] out  filled
 */
void plan_compute(const struct cfg_zone *z, const struct zdb_zone_info *info, uint32_t jitter_pct,
                  struct zone_plan *out);

/** @p ms clamped into [c->min_ms, c->max_ms]. */
uint64_t plan_clamp(uint64_t ms, const struct cfg_clamp *c);

/**
 * @p ms shortened by (@p rnd % 1000) / 1000 of @p pct percent, without overflow.
 * @return a value in [ms - ms * pct / 100, ms]
 */
uint64_t plan_jitter(uint64_t ms, uint32_t pct, uint64_t rnd);

/** The zone's expire interval in seconds: the held SOA's (or the default), clamped. */
int64_t plan_expire_s(const struct cfg_zone *z, const struct zdb_zone_info *info);

/**
 * The zone's refresh and retry intervals in seconds, before jitter: the held SOA's (or
 * the defaults), clamped by @p z (what an operator compares with the plan's due time).
 * @param info  NULL: nothing in the store
 */
void plan_intervals(const struct cfg_zone *z, const struct zdb_zone_info *info,
                    int64_t *refresh_s, int64_t *retry_s);

#endif
