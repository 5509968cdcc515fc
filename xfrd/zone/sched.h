/* SPDX-License-Identifier: MIT */
/* xfrd/zone/sched.h -- the one scheduler: per zone, one transfer running, one scheduled.
 *
 * Every request for a transfer -- a NOTIFY's Kafka message, a refresh timer, an
 * operator's command, in either mode -- goes through sched_request() on the
 * zone's record. For each zone at most one transfer runs and at most one more
 * is scheduled; every further request folds into the scheduled one (its flags
 * OR'ed in). When the running transfer ends (sched_finished()):
 *
 *   - its own requests are finished (reached the serial, up to date, or failed
 *     for good and recorded: the caller decides what the outcome means);
 *   - scheduled requests whose serial hint the result already reached (RFC 1982)
 *     are finished too, without a second transfer (unless the scheduled run is
 *     a forced retransfer);
 *   - if requests remain scheduled, they become the running transfer.
 *
 * A request arriving while a transfer runs cannot join it: the running SOA check
 * may predate the change the request announces.
 *
 *   IDLE --request--> RUNNING --request--> RUNNING_SCHEDULED --request (fold)--+
 *    ^                   |  ^                  |                             |
 *    +----finished-------+  +---finished-------+<----------------------------+
 *                            (scheduled requests left: start them)
 *
 * The hooks act: start runs the transfer (the caller later calls
 * sched_finished() with its result), done finishes one request that carries a
 * position (offset >= 0; the caller marks it done once the result is announced),
 * cancel asks for a running transfer to stop (sched_drop(): the zone's partition
 * moved; sched_finished() still follows when it has stopped).
 *
 * Pure: no I/O, no clock. Threading: one thread (the zones' loop).
 */
#ifndef ZX_XFRD_ZONE_SCHED_H
#define ZX_XFRD_ZONE_SCHED_H

#include "common/err.h"
#include "xfrd/zone/zone.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sched;

/** What the scheduler asks its owner to do; called synchronously, never re-entering. */
struct sched_hooks {
	/** Start a transfer of @p z now with @p flags (ZONE_FORCE_AXFR, ...). */
	void (*start)(void *ctx, struct zone *z, unsigned flags);
	/** @p req (offset >= 0) is finished by the transfer that just ended. */
	void (*done)(void *ctx, struct zone *z, const struct zone_req *req);
	/** Stop @p z's running transfer if possible (sched_drop()). May be NULL. */
	void (*cancel)(void *ctx, struct zone *z);
};

/**
 * @param hooks copied; start and done must be set
 * @return the scheduler, owned by the caller (sched_free()); NULL on OOM
 */
struct sched *sched_new(const struct sched_hooks *hooks, void *ctx);

/** Free the scheduler (not the zones). NULL ok. */
void sched_free(struct sched *s);

/**
 * A request for @p z. Its serial hint (if any) also updates the zone's pending
 * hint (z->has_hint, z->hint: the newest by RFC 1982).
 * @param req    copied
 * @param flags  ZONE_FORCE_AXFR and friends; OR'ed into the run that serves it
 * @return 0 (the start hook ran when nothing was running); ZX_ENOMEM (the request
 *         is not recorded; a start that was due still happened)
 */
ZX_MUSTCHECK int sched_request(struct sched *s, struct zone *z, const struct zone_req *req,
                               unsigned flags);

/**
 * @p z's running transfer ended.
 * @param has_serial whether the zone now holds @p serial (false when it holds nothing)
 * @return 0; ZX_ENOENT nothing of @p z was running
 */
ZX_MUSTCHECK int sched_finished(struct sched *s, struct zone *z, bool has_serial,
                                uint32_t serial);

/**
 * Forget @p z's requests (none is reported done: the next owner reads them
 * again), unschedule its next run, and call cancel when a transfer runs.
 */
void sched_drop(struct sched *s, struct zone *z);

/**
 * @p z is going (removed): its scheduled requests join the running transfer's,
 * so that its outcome finishes them too, and nothing more starts for it.
 */
void sched_retire(struct sched *s, struct zone *z);

/** Zones with a transfer running. */
size_t sched_running(const struct sched *s);

/** Zones with a transfer scheduled after the running one. */
size_t sched_scheduled(const struct sched *s);

#endif
