/* SPDX-License-Identifier: MIT */
/* xfrd/refresh.h -- SOA refresh, retry and expire timers of the zones this replica owns.
 *
 * Every zone is polled by exactly one replica: the one that owns the zone's
 * partition of the requests topic (updates_partition() of the zone's canonical
 * name: the producers' partitioner). When a zone's timer is due, refresh does
 * not transfer it itself: it produces a TransferRequest (origin REFRESH) to the
 * requests topic, so the refresh goes through the same per-zone queue as the
 * NOTIFYs (one transfer running and one scheduled), its offset is committed only
 * once done, and a crash after the request was produced loses nothing: it is
 * read again by whoever owns the partition then. The cost is one Kafka round trip
 * per refresh, which an SOA timer does not notice.
 *
 * Timers (RFC 1035 SOA semantics, from the stored zone's SOA):
 *   - a zone not in the store, never tried: due at once (zones from config start);
 *   - after a success (FRESH: transfer or SOA check): last attempt + refresh;
 *   - after a failure: last attempt + retry;
 *   - expired when the last success is older than expire: the store marks it
 *     EXPIRED and a ZoneUpdated EXPIRED event announces it (once per last
 *     success, in this process).
 * Each interval is clamped by the zone's config (refresh/retry/expire min, max),
 * then refresh and retry are shortened by up to xfrd.jitter percent; the jitter
 * is a hash of the zone and its last attempt, so the plan of a zone is stable
 * between scans and differs between zones.
 *
 * A zone with a request out is not asked for again until refresh_outcome() says
 * its refresh ended (or REFRESH_REQUEST_TIMEOUT passed: a lost request).
 *
 * Threading: one thread (the consumer's loop). refresh_plan() is pure.
 */
#ifndef ZX_XFRD_REFRESH_H
#define ZX_XFRD_REFRESH_H

#include "common/cfg.h"
#include "common/err.h"
#include "common/zdb.h"

#include <stdbool.h>
#include <stdint.h>

struct refresh;
struct updates;
struct metrics;

/** Seconds before a produced request with no outcome is produced again. */
#define REFRESH_REQUEST_TIMEOUT 120

/** SOA timers used when the store holds no SOA for the zone (RFC 1912 values). */
#define REFRESH_DEFAULT_REFRESH 3600
#define REFRESH_DEFAULT_RETRY 600
#define REFRESH_DEFAULT_EXPIRE 604800

/** A zone's next events, seconds since the epoch. */
struct refresh_plan {
	int64_t due;       /**< when to ask for a refresh */
	int64_t expire_at; /**< when the data expires; INT64_MAX when nothing is stored */
	bool expired;      /**< the store already says EXPIRED */
};

/**
 * Compute a zone's plan (pure).
 * @param[in] z     the zone (clamps); borrowed
 * @param[in] info  what the store holds; NULL when the zone is not in the store
 * @param jitter_pct shorten refresh/retry by up to this percentage (0..50)
 * @param[out] out  filled
 */
void refresh_plan(const struct cfg_zone *z, const struct zdb_zone_info *info,
                  uint32_t jitter_pct, struct refresh_plan *out);

/** @p ms clamped into [c->min_ms, c->max_ms]. */
uint64_t refresh_clamp(uint64_t ms, const struct cfg_clamp *c);

/**
 * @p ms shortened by (@p rnd % 1000) / 1000 of @p pct percent.
 * @return a value in [ms - ms * pct / 100, ms]
 */
uint64_t refresh_jitter(uint64_t ms, uint32_t pct, uint64_t rnd);

/**
 * Create the timers for every zone of @p cfg; no partition is owned yet.
 * @param cfg, db, up  borrowed; must outlive the refresh
 * @param m        metrics registry (counters registered here); borrowed; may be NULL
 * @param replica  borrowed; name in the requests and events
 * @param[out] out returned owned (refresh_free()); untouched on error
 * @return 0; ZX_ENOMEM
 */
ZX_MUSTCHECK int refresh_new(const struct cfg *cfg, struct zdb *db, struct updates *up,
                             struct metrics *m, const char *replica, struct refresh **out);

/** Free (sends still in flight must be purged first: updates_free()). NULL ok. */
void refresh_free(struct refresh *r);

/** The requests topic has @p count partitions (from metadata); recomputes ownership. */
void refresh_set_partition_count(struct refresh *r, int32_t count);

/** This replica was assigned (@p owned) or lost @p partition. */
void refresh_own(struct refresh *r, int32_t partition, bool owned);

/** A refresh of @p zone ended (any origin): its plan is read again from the store. */
void refresh_outcome(struct refresh *r, const struct cfg_zone *zone);

/**
 * Ask for one more refresh of @p zone at @p at (seconds since the epoch) unless
 * one is due sooner: a NOTIFY announced a serial the primary did not serve yet
 * (a lagging primary among several, or a NOTIFY sent before the reload ended).
 * The consumer calls it once per such NOTIFY, so a forged serial costs one SOA
 * query, not a loop.
 */
void refresh_recheck(struct refresh *r, const struct cfg_zone *zone, int64_t at);

/**
 * Produce the requests that are due and mark the zones that expired.
 * @param now seconds since the epoch
 * @return requests produced by this call (0 or more)
 */
unsigned refresh_scan(struct refresh *r, int64_t now);

/** Zones this replica owns now. */
size_t refresh_owned(const struct refresh *r);

#endif
