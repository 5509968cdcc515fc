/* SPDX-License-Identifier: MIT */
/* xfrd/sched.h -- per-zone scheduling: one transfer running, one scheduled.
 *
 * Every transfer request (a NOTIFY's event, a refresh timer, an operator's
 * request) names a zone and, when it came from Kafka, the partition and offset
 * that must be finished once the zone is known to be current. For each zone at
 * most one transfer runs and at most one more is scheduled; every further
 * request folds into the scheduled one. When the running transfer ends:
 *
 *   - its own requests are finished (reached the serial, up to date, or failed
 *     for good and recorded: the caller decides what "done" means);
 *   - scheduled requests whose serial hint the result already reached
 *     (RFC 1982) are finished too: no second transfer for them;
 *   - if requests remain scheduled, they become the running transfer.
 *
 * A request arriving while a transfer runs cannot join it: the running SOA
 * check may predate the change it announces.
 *
 * No I/O, no clock, no Kafka: the consumer drives it and acts on what it
 * returns (start callbacks, finished offsets). Not thread-safe: one thread.
 */
#ifndef ZX_XFRD_SCHED_H
#define ZX_XFRD_SCHED_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sched;

/**
 * A request's Kafka position. @c partition is the zone's partition (the same
 * partitioner as the producers) also for requests that did not come from Kafka
 * (refresh timers), which have @c offset -1; -1 for both when unpartitioned.
 */
struct sched_ref {
	int32_t partition;
	int64_t offset;
};

/**
 * Called when a zone's transfer must start now (the caller runs it and later
 * calls sched_finished()). @p force is the OR of the force flags of the requests
 * folded into this run (the caller's bits: a full retransfer, an older serial
 * allowed); 0 when none asked.
 */
typedef void (*sched_start_cb)(void *ctx, const char *zone, unsigned force);

/**
 * Called for each request that is finished (to mark the offset done).
 * Not called for requests without an offset.
 */
typedef void (*sched_done_cb)(void *ctx, const char *zone, struct sched_ref ref);

/**
 * Called by sched_drop_partition() for each running transfer of a zone in the
 * dropped partition: the caller cancels it (the new owner will transfer the
 * zone; two replicas must not transfer it at once) and still calls
 * sched_finished() when it has stopped.
 */
typedef void (*sched_cancel_cb)(void *ctx, const char *zone);

/**
 * @param start, done, cancel  callbacks, called synchronously from sched_request(),
 *                     sched_finished() and sched_drop_partition(); they may not
 *                     call back into the sched
 * @return the scheduler, owned by the caller (sched_free()); NULL on OOM
 */
struct sched *sched_new(sched_start_cb start, sched_done_cb done, sched_cancel_cb cancel,
                        void *ctx);

/** Free everything; no callbacks. sched_free(NULL) does nothing. */
void sched_free(struct sched *s);

/**
 * Add a request for @p zone (canonical name; copied).
 * @param ref        Kafka position, or {-1, -1}
 * @param has_serial whether @p serial is a hint (the NOTIFY's SOA serial)
 * @param force      the caller's force flags (0 none); a forced request is never
 *                   covered by a serial already reached, and flags of folded
 *                   requests are ORed
 * @return 0 (the start callback ran when nothing was running); ZX_ENOMEM
 */
ZX_MUSTCHECK int sched_request(struct sched *s, const char *zone, struct sched_ref ref,
                               bool has_serial, uint32_t serial, unsigned force);

/**
 * The running transfer of @p zone ended.
 * @param has_serial whether the zone now holds @p serial (false when it holds nothing)
 * @return 0; ZX_ENOENT when no transfer of @p zone was running
 */
ZX_MUSTCHECK int sched_finished(struct sched *s, const char *zone, bool has_serial,
                                uint32_t serial);

/**
 * The partition was revoked: forget its zones' requests (none will be reported
 * done; the new owner reads them again), unschedule their next runs, and ask
 * for their running transfers to be cancelled (cancel callback).
 */
void sched_drop_partition(struct sched *s, int32_t partition);

/** Zones with a transfer running. */
size_t sched_running(const struct sched *s);

/** Zones with a transfer scheduled after the running one. */
size_t sched_scheduled(const struct sched *s);

/** True when @p zone has a transfer running. */
bool sched_is_running(const struct sched *s, const char *zone);

#endif
