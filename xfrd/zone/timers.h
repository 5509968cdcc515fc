/* SPDX-License-Identifier: MIT */
/* xfrd/zone/timers.h -- the zones' next timers, earliest first (a binary min-heap).
 *
 * Each zone has at most one timer: the earliest of its refresh due time, its
 * expiry and a recheck (the runtime computes which). The heap keeps the position
 * of each zone in the zone itself (struct zone timer_slot), so moving or
 * clearing a zone's timer costs O(log n) and a zone can be destroyed after
 * timers_clear(). With 100,000 zones the loop wakes for the next timer only,
 * instead of scanning every zone every second.
 *
 * Pure: times are whatever the caller uses (xfrd: seconds since the epoch).
 * Threading: one thread.
 */
#ifndef ZX_XFRD_ZONE_TIMERS_H
#define ZX_XFRD_ZONE_TIMERS_H

#include "common/err.h"
#include "xfrd/zone/zone.h"

#include <stddef.h>
#include <stdint.h>

struct timers;

/** An empty heap. NULL when out of memory. */
struct timers *timers_new(void);

/** Free the heap (the zones in it are not touched). NULL ok. */
void timers_free(struct timers *t);

/**
 * Set @p z's timer to @p at (insert, or move it).
 * @return 0; ZX_ENOMEM (the zone keeps its old timer, if any)
 */
ZX_MUSTCHECK int timers_set(struct timers *t, struct zone *z, int64_t at);

/** Remove @p z's timer, if it has one. */
void timers_clear(struct timers *t, struct zone *z);

/** The earliest timer; INT64_MAX when none. */
int64_t timers_next(const struct timers *t);

/**
 * Take the earliest timer if it is due (at <= @p now): it leaves the heap.
 * @return the zone; NULL when no timer is due
 */
struct zone *timers_pop_due(struct timers *t, int64_t now);

/** Timers in the heap. */
size_t timers_count(const struct timers *t);

#endif
