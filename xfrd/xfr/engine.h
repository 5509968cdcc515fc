/* SPDX-License-Identifier: MIT */
/* xfrd/xfr/engine.h -- the transfer engine: concurrent zone refreshes with limits.
 *
 * engine_request(zone) refreshes a zone: SOA check, IXFR or AXFR, commit (one
 * struct xfr per primary, xfrd/xfr/xfr.h), trying the zone's primaries in order
 * until one works, then reports one outcome to the request's callback. A
 * failure after every primary was tried is recorded in the store (the zone's
 * data stays as it was; the last error is the step, the code's text and what
 * the store or stream said: "store write: store full (store-size reached):
 * mdb_put: MDB_MAP_FULL: ..."); an SOA check that finds nothing newer is
 * recorded as fresh; a transfer records itself with its commit (primary used
 * included). A transfer refused because its serial is not newer is logged
 * (xfr_serial_refused) and counted (refused_serial); a forced one that stored
 * an older serial is logged at warn (xfr_serial_back).
 *
 * Concurrency: a pool of worker threads, each running its own libevent base
 * (Knot's worker/pool lifecycle: engine_new() creates and starts them,
 * engine_free() stops and joins them), and a commitq whose threads run the
 * store commits. Each worker keeps the connections of transfers that ended
 * cleanly for two seconds, for the next transfer from the same primary
 * (xfrd/xfr/connpool.h). Limits: transfers running at once
 * overall, and per primary (a refresh waiting for a busy primary waits in that
 * primary's queue; the overall limit is shared fairly between primaries).
 * Timeouts: connect, each read, the UDP SOA try, and the whole exchange with
 * one primary.
 *
 * Egress: each primary is reached as its settings say (struct cfg_zone
 * primary_egress: a source address, SOCKS5 proxies). A primary's proxies are tried
 * in the order of their health (xfrd/xfr/proxies.h: up ones first, in configured
 * order); an attempt whose path failed (the proxy itself, the primary unreachable
 * behind it, the connection through it lost: struct xfr_result egress_fail) is
 * retried on the same primary through the next proxy (logged xfr_proxy_failed),
 * and only when every proxy failed does the refresh move to the next primary; a
 * failure of the DNS exchange itself (TSIG, rcode, a bad answer) moves to the next
 * primary at once. A zone whose every path failed fails like any other refresh:
 * its data stays, the store records the failure, the SOA retry timer runs.
 *
 * One request is one refresh: the engine neither folds nor orders requests of
 * one zone. The zone runtime's scheduler (xfrd/zone/sched.h) sends at most one
 * request per zone at a time; that is where folding happens, once.
 *
 * Not here: where requests come from and what an outcome means for them (the
 * zone runtime, xfrd/service/runtime.h), publishing "zone updated" events.
 *
 * Threading: engine_request(), engine_wait_idle() and engine_stats() may be
 * called from any thread. Callbacks run on a worker thread, without engine
 * locks held; they may call engine_request().
 */
#ifndef ZX_XFRD_ENGINE_H
#define ZX_XFRD_ENGINE_H

#include "common/err.h"
#include "xfrd/xfr/xfr.h"

#include <stdint.h>

struct cfg_proxy;
struct engine;
struct metrics;
struct proxies_state;
struct zone_settings;

struct engine_opts {
	unsigned workers;          /**< worker threads (each an event base); >= 1 */
	unsigned commit_threads;   /**< store commits run on this many threads of their own
	                                (xfrd/xfr/commitq.h), so the workers' loops never wait
	                                for a disk sync and commits overlap into group
	                                commits; 0: commit on the workers' loops */
	uint32_t max_transfers;    /**< refreshes running at once; >= 1 */
	uint32_t per_primary;      /**< transfers talking to one primary at once; >= 1 (an AXFR
	                                whose data is in and that waits for its commit no
	                                longer counts: the max_transfers slot it keeps) */
	uint64_t connect_ms;       /**< TCP connect timeout */
	uint64_t read_ms;          /**< each read */
	uint64_t soa_ms;           /**< the UDP SOA try before TCP */
	uint64_t transfer_ms;      /**< the whole exchange with one primary */
	const struct xfr_store_ops *ops; /**< borrowed; store_ops for zdb */
	void *store;               /**< borrowed; must outlive the engine */
	struct metrics *metrics;   /**< per-proxy series (xfrd/xfr/proxies.h) registered
	                                here; borrowed; NULL: a registry of the engine's own
	                                until engine_set_metrics() */
};

/** Flags of engine_request() (ORed when requests fold). */
#define ENGINE_FORCE_AXFR XFR_FORCE_AXFR   /**< skip SOA check and IXFR; the same serial
                                                may be stored again */
#define ENGINE_FORCE_OLDER XFR_FORCE_OLDER /**< with ENGINE_FORCE_AXFR: an older serial
                                                may be stored (an operator's --force;
                                                logged at warn with both serials) */
#define ENGINE_FOLLOW XFR_FOLLOW             /**< the settings' primaries are the replicas
                                                to copy from: a follower's refresh */

/** One request's outcome. */
struct engine_result {
	const struct zone_settings *set; /**< as requested; borrowed */
	unsigned attempts;           /**< primaries tried */
	struct xfr_result xfr;       /**< of the primary that worked, or of the last tried */
};

/** Called once per request with its outcome; @p res valid only during the call. */
typedef void (*engine_cb)(void *arg, const struct engine_result *res);

/**
 * Create the engine and start its workers.
 * @param[in]  o   copied
 * @param[out] out owned by the caller (engine_free()); untouched on error
 * @return 0; ZX_EINVAL a limit or the worker count is 0, or ops/store is NULL;
 *         ZX_ENOMEM (also when an event base or a thread cannot be made)
 */
ZX_MUSTCHECK int engine_new(const struct engine_opts *o, struct engine **out);

/**
 * Stop the workers (refreshes still running are aborted: nothing half-written
 * stays; queued ones are dropped; their callbacks are NOT called), join them and
 * free everything. NULL ok.
 */
void engine_free(struct engine *e);

/**
 * Ask for a refresh of the zone @p set describes (its primaries, key, limits).
 * @param[in] set   a reference is taken until the callback has run
 * @param[in] flags 0, ENGINE_FORCE_AXFR, or ENGINE_FORCE_AXFR | ENGINE_FORCE_OLDER;
 *                  ENGINE_FOLLOW with any of them
 * @param[in] cb    may be NULL
 * @return 0 (queued or running); ZX_EINVAL the zone has no primaries;
 *         ZX_ESHUTDOWN the engine is stopping; ZX_ENOMEM
 */
ZX_MUSTCHECK int engine_request(struct engine *e, struct zone_settings *set, unsigned flags,
                                engine_cb cb, void *arg);

/**
 * Register the per-proxy series (xfrd/xfr/proxies.h) in @p m from now on: proxies
 * known so far are registered again there, and their health starts afresh. Call it
 * on the thread that renders @p m, before the requests (the runtime does, when it
 * registers its own series).
 * @param[in] m  borrowed; must outlive the engine
 * @return 0; ZX_ENOMEM
 */
ZX_MUSTCHECK int engine_set_metrics(struct engine *e, struct metrics *m);

/** One proxy's health and counters (xfrd/xfr/proxies.h), for tests and tools. */
void engine_proxy_state(struct engine *e, const struct cfg_proxy *px,
                        struct proxies_state *out);

/** Block until no refresh is running or queued. */
void engine_wait_idle(struct engine *e);

/** Counters since engine_new(). */
struct engine_stats {
	uint64_t requests;
	uint64_t uptodate, axfr, ixfr, failed, fallbacks;
	uint64_t refused_serial;  /**< failed because the serial was not newer (ZX_ESERIAL) */
	uint64_t proxy_failovers; /**< attempts moved on to a primary's next proxy */
	uint32_t running, queued; /**< now */
	uint32_t max_running;     /**< the highest "running" seen (max_transfers bounds it) */
	uint32_t max_at_primary;  /**< the most transfers seen talking to one primary at once
	                               (per_primary bounds it; an AXFR waiting for its commit
	                               does not count) */
};

void engine_stats(struct engine *e, struct engine_stats *out);

/**
 * A failed outcome as one line of text: the step, the rcode when there was one,
 * and the detail ("store write: mdb_put: MDB_MAP_FULL: ..."). What the store keeps
 * as last error and the FAILED event carries (beside the code's text).
 * @param buf  filled, cut to @p size
 */
void engine_error_text(const struct xfr_result *r, char *buf, size_t size);

#endif
