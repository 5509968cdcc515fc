/* SPDX-License-Identifier: MIT */
/* xfrd/service/runtime.h -- the zone runtime on xfrd's loop: one record per zone, one planner,
 * one scheduler, the timers, the hand-off with the transfer engine, expiry.
 *
 * Both modes run this; they differ only in their request source:
 *
 *   Kafka mode                                 standalone / once
 *   consumer: message --> runtime_request()    (none: the timers and the start-up
 *   timer due --> source.refresh_due():         pass call runtime_request()
 *     a REFRESH request to Kafka, read back     themselves)
 *     like any other, so its offset is only
 *     committed once the refresh is done
 *
 *   runtime_request --> sched (one running, one scheduled per zone, folding)
 *     --start--> engine_request (worker threads) --outcome queue, eventfd--> loop
 *     --> sched_finished (the requests it finishes) --> source.outcome (event,
 *     offsets) --> downstream NOTIFY (notifier) --> replan --> timer
 *
 * Timers: a zone this process owns (Kafka mode: its partition is assigned here, or
 * was until Kafka became unreachable: runtime_lost(); standalone: every zone) has
 * one timer (xfrd/zone/timers.h): the planner's
 * refresh due time (xfrd/zone/plan.h) while nothing runs and no request is out,
 * the time a lost refresh request is asked again (RUNTIME_REQUEST_TIMEOUT), a
 * recheck (a NOTIFY announced a serial the primary did not serve yet), and its
 * expiry. The plan is derived from what the store recorded, so a crash or a
 * partition move loses no timer: the next owner computes the same plan. At
 * expiry the store's state machine marks the zone EXPIRED (one commit;
 * common/store/zdb.h) and source.expired announces it, once per expiry. A refresh
 * that could not be asked for (Kafka did not take the request) marks the zone
 * overdue in the store (zdb_zone_overdue(), once; the next attempt clears it), so
 * xfrctl and the API show it; xfrd_zones_refresh_overdue counts such zones.
 *
 * Announcements (source.outcome's @c announce): every new serial and every
 * failure; an up-to-date outcome only for the first outcome of a zone since this
 * process took it (so an event or a downstream NOTIFY lost with a crash after
 * the commit is made again by whoever redoes the request).
 *
 * Zones are added, changed and removed while the loop runs (runtime_zone_*):
 * a removed zone's running transfer ends normally and its record goes then.
 *
 * Replicas (Kafka mode): the owner of a zone's partition talks to the primaries;
 * every other replica follows it (runtime_follow_start(), runtime_announce()):
 * its timers and the owner's ZoneUpdated events make it copy the zone from the
 * owner's DNS endpoint (IXFR from its serial, AXFR when it holds nothing), so every
 * replica serves every zone. When a partition moves, the new owner starts from its
 * follower's copy: an SOA check and an IXFR from the primary, not an AXFR.
 *
 * Threading: everything on the loop thread of @c base, except the engine's
 * callbacks (worker threads), which only queue the outcome.
 */
#ifndef ZX_XFRD_RUNTIME_H
#define ZX_XFRD_RUNTIME_H

#include "common/err.h"
#include "xfrd/xfr/xfr.h"
#include "xfrd/zone/zone.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cfg;
struct engine;
struct event_base;
struct metrics;
struct notifier;
struct runtime;
struct zdb;
struct zdb_zone_info;

/** Seconds before a refresh request with no outcome is asked again (a lost request). */
#define RUNTIME_REQUEST_TIMEOUT 120
/** A refresh request that could not be queued is asked again this much later. */
#define RUNTIME_ASK_AGAIN_S 5
/** A follower tries at most this many replicas (the owner first) per refresh. */
#define RUNTIME_FOLLOW_SOURCES 8

/** Where a request came from (the TransferRequest origins; for logs and metrics). */
enum runtime_origin {
	RUNTIME_ORIGIN_UNSPECIFIED = 0,
	RUNTIME_ORIGIN_NOTIFY,
	RUNTIME_ORIGIN_REFRESH,
	RUNTIME_ORIGIN_OPERATOR,
	RUNTIME_ORIGIN_RETRANSFER,
	RUNTIME_ORIGIN_FOLLOW,      /**< a follower copying from the owner replica */
	RUNTIME_ORIGIN_COUNT
};

/** The request source's side (Kafka mode: the consumer; NULL members: standalone). */
struct runtime_source {
	/**
	 * @p z's refresh is due: ask for it (its request comes back through
	 * runtime_request()). 0 asked (the zone waits RUNTIME_REQUEST_TIMEOUT for its
	 * outcome), else a ZX_E* code (the source counts it; asked again
	 * RUNTIME_ASK_AGAIN_S later, and the zone marked overdue in the store until its
	 * next attempt: zdb_zone_overdue()). NULL: the runtime requests it itself.
	 */
	int (*refresh_due)(void *ctx, struct zone *z);
	/**
	 * @p z's transfer ended with @p r. @p done lists the @p ndone requests with a
	 * position that this outcome finishes (copied by the callee if kept). When
	 * @p announce, tell the world (a ZoneUpdated event). May be NULL.
	 */
	void (*outcome)(void *ctx, struct zone *z, const struct xfr_result *r, bool announce,
	                const struct zone_req *done, size_t ndone);
	/** @p z just became EXPIRED in the store (@p info: what it holds). May be NULL. */
	void (*expired)(void *ctx, struct zone *z, const struct zdb_zone_info *info);
	/**
	 * A zone just became REMOVED in the store (@p info: what it holds; its name is
	 * @p info->name): runtime_zone_remove() (@p z the record, still whole) or
	 * runtime_sweep() of a zone no longer configured (@p z NULL). May be NULL.
	 */
	void (*removed)(void *ctx, const struct zone *z, const struct zdb_zone_info *info);
	/**
	 * Following (runtime_follow_start()): the replicas @p z is copied from, the owner
	 * of its partition first, into @p out (at most @p max; their DNS endpoints); @p owner
	 * gets the first one's name. @return how many (0: nobody to copy from yet). NULL:
	 * no following.
	 */
	size_t (*follow_sources)(void *ctx, const struct zone *z, struct cfg_endpoint *out,
	                         size_t max, char *owner, size_t owner_len);
	void *ctx;
};

struct runtime_opts {
	const struct cfg *cfg;        /**< borrowed; jitter, zone seed; outlives the runtime */
	struct event_base *base;      /**< borrowed; the loop */
	struct engine *eng;           /**< borrowed; outlives every outcome */
	struct zdb *db;               /**< borrowed; plans are read from it, expiry written */
	struct notifier *nt;          /**< borrowed; downstream NOTIFY; may be NULL */
	struct metrics *m;            /**< borrowed; series registered here */
	struct runtime_source src;    /**< copied */
	bool own_all;                 /**< standalone: every zone is owned (timers run) */
	const struct tsig_key *peer_key; /**< signs a follower's queries to the owner replica;
	                                    borrowed (from opts.cfg); NULL: unsigned */
};

/**
 * Create the runtime with a record for every zone of opts.cfg (the seed).
 * @param[in]  o   copied
 * @param[out] out returned owned (runtime_free()); untouched on error
 * @return 0; ZX_EINVAL missing option; ZX_EIO no eventfd; ZX_ENOMEM
 */
ZX_MUSTCHECK int runtime_new(const struct runtime_opts *o, struct runtime **out);

/**
 * Free (the engine must be stopped first: an outcome arriving later would find
 * nothing). NULL ok.
 */
void runtime_free(struct runtime *rt);

/**
 * A request for the zone @p name (canonical text or any case).
 * @param req    its position and serial hint; copied
 * @param flags  ZONE_FORCE_AXFR, ...
 * @return 0 scheduled (or folded); ZX_ENOTFOUND no such zone (the caller finishes
 *         the request at once); ZX_ENOMEM
 */
ZX_MUSTCHECK int runtime_request(struct runtime *rt, const char *name, const struct zone_req *req,
                                 unsigned flags, enum runtime_origin origin);

/** The requests topic has @p count partitions: place every zone (Kafka mode). */
void runtime_set_partitions(struct runtime *rt, int32_t count);

/**
 * This process took (@p owned) or lost @p partition. Losing it drops its zones'
 * requests (sched_drop()) and stops their timers; taking it plans them again.
 */
void runtime_own(struct runtime *rt, int32_t partition, bool owned);

/**
 * The partitions this process owns, ascending, into @p out (at most @p max).
 * @return how many were written
 */
size_t runtime_owned_partitions(const struct runtime *rt, int32_t *out, size_t max);

/** True when this process owns the zone @p name (wire): its partition is assigned here. */
bool runtime_owns_name(const struct runtime *rt, const uint8_t *name);

/**
 * This process lost @p partition with Kafka (the consumer's session timed out; no
 * one was handed the partition): as runtime_own(false) (its zones' requests are
 * dropped), but the zones' timers go on (struct zone's orphan), so a refresh due
 * during the outage is asked for, fails, is counted, and the zone shown overdue,
 * instead of nobody noticing. They stop at runtime_own() of the partition or at
 * runtime_regrouped().
 */
void runtime_lost(struct runtime *rt, int32_t partition);

/** The consumer group assigned partitions again: the timers of lost ones not owned stop. */
void runtime_regrouped(struct runtime *rt);

/** Set the request source (after runtime_new(): the consumer needs the runtime first). */
void runtime_set_source(struct runtime *rt, const struct runtime_source *src);

/**
 * Start following (Kafka mode, once the replica directory is read): the zones this
 * replica does not own get timers too, and their refreshes copy from the owner
 * replica (source.follow_sources), recorded as the follower's (FOLLOWING in the
 * store; no event, no downstream NOTIFY: the owner does those). Their plan is the
 * zone's own (refresh after a success, retry after a failure, expiry), so a copy
 * whose owner is unreachable longer than the SOA expire stops being served.
 */
void runtime_follow_start(struct runtime *rt);

/**
 * True once following started and every zone this replica does not own was held or
 * tried once since (a copy, or a failed try: an owner without the zone is not
 * waited for); sticky, so a later partition move does not flip readiness. Else
 * false and why. Scans the zones until true.
 */
bool runtime_follow_caught_up(struct runtime *rt, char *why, size_t whylen);

/**
 * The owner replica @p replica announced serial @p serial of the zone @p name (its
 * ZoneUpdated event). A zone this replica does not own and holds older (or not at
 * all) is marked BEHIND in the store and copied at once; @p expired: the owner's copy
 * expired, so does ours. Ignored for zones owned here, unknown ones, and while not
 * following.
 */
void runtime_announce(struct runtime *rt, const char *name, uint32_t serial, bool expired,
                      const char *replica);

/**
 * The REFRESH request of the zone @p name was not stored (@p rc why; counted by the
 * source): it is asked again RUNTIME_ASK_AGAIN_S later, and the zone marked overdue.
 */
void runtime_refresh_lost(struct runtime *rt, const char *name, int rc);

/**
 * Add a zone, or give a known one new settings (its next transfer, timers and
 * NOTIFYs use them; a transfer running keeps the settings it started with).
 * A zone the store holds as REMOVED is restored (data and journal kept).
 * @param set  TAKEN (the record holds the reference), whatever the result
 * @return 0; ZX_ENOMEM
 */
ZX_MUSTCHECK int runtime_zone_put(struct runtime *rt, struct zone_settings *set);

/**
 * Remove the zone @p name (wire, any case): from now on its requests are refused
 * (ZX_ENOTFOUND) and its timers stop; a transfer running ends normally and finishes
 * every request of the zone still waiting (announcing nothing); the record goes
 * then. The store marks the zone REMOVED (common/store/zdb.h: data kept until
 * runtime_sweep() purges it after the grace; runtime_zone_put() of the same zone
 * restores it) and source.removed is told.
 * @return 0; ZX_ENOTFOUND no such zone
 */
ZX_MUSTCHECK int runtime_zone_remove(struct runtime *rt, const uint8_t *name);

/** A reloaded config (its jitter; borrowed from now on). Zones change by runtime_zone_put(). */
void runtime_set_cfg(struct runtime *rt, const struct cfg *cfg);

/** How long a REMOVED zone's data stays in the store (registry.purge-after). Default 0. */
void runtime_set_purge_after(struct runtime *rt, int64_t seconds);

/**
 * Walk the store once: delete REMOVED zones whose grace has passed (purged), and,
 * with @p orphans, mark REMOVED the zones the store holds that the runtime does
 * not know (removed from the config or the registry while xfrd was down; only
 * once the zone set is complete: the file's and the registry's, caught up).
 * @return zones purged or marked
 */
size_t runtime_sweep(struct runtime *rt, bool orphans);

/** Zones of @p partition with a transfer running. */
size_t runtime_running_in(const struct runtime *rt, int32_t partition);

/**
 * Handle the outcomes the engine queued, waiting up to @p timeout_ms for one
 * (0: only what is there). For waits outside the loop (partition revocation).
 */
void runtime_poll_outcomes(struct runtime *rt, int timeout_ms);

/** Zones with a transfer running or scheduled. */
size_t runtime_busy(const struct runtime *rt);

/** The zone record of @p name (wire, any case); borrowed; NULL when unknown. */
struct zone *runtime_zone(const struct runtime *rt, const uint8_t *name);

/** An operator's action on one zone (xfrctl expire|purge|notify, through the REST API). */
enum runtime_action {
	RUNTIME_EXPIRE, /**< mark the held data EXPIRED now: no longer served (SERVFAIL), an
	                     EXPIRED event goes out; the zone retries on its retry timer */
	RUNTIME_PURGE,  /**< delete the zone's data and journal from the store; the zone
	                     stays configured and is transferred anew (AXFR) at once */
	RUNTIME_NOTIFY, /**< send the zone's downstream NOTIFYs again for the held serial */
};

/**
 * Run @p act on the zone @p name (wire), now, on the loop thread. Logged as
 * operator_action zone= action= (purge and expire at warn).
 * @return 0; ZX_ENOTFOUND the zone is unknown here; ZX_EAGAIN this replica does not
 *         run the zone (another owns its partition); ZX_EEXIST purge while a transfer
 *         runs (try again when it ended); ZX_ENOENT expire or notify of a zone with
 *         no data; ZX_EINVAL notify for a zone without notify targets; ZX_E* of the
 *         store (zdb_zone_event(), zdb_zone_delete())
 */
ZX_MUSTCHECK int runtime_act(struct runtime *rt, const uint8_t *name, enum runtime_action act);

/** Counters. */
struct runtime_stats {
	uint64_t requests, unknown, outcomes, expired, refresh_asked, refresh_failed, removed,
		purged, announced, follow_asked;
	size_t zones, running, scheduled, timers;
	int32_t partitions;   /**< of the requests topic; 0 unknown yet */
	size_t owned_parts;   /**< partitions this replica owns now */
};

void runtime_stats(const struct runtime *rt, struct runtime_stats *out);

#endif
