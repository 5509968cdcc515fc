/* SPDX-License-Identifier: MIT */
/* xfrd/kafka/offtrack.h -- in-order soft commit of Kafka offsets.
 *
 * Per partition it keeps the offsets read but not yet finished, in read order
 * (Kafka delivers a partition's messages in offset order, with gaps where
 * compaction or transaction markers removed some). A transfer may finish in any
 * order; the committable position only moves past an offset once it and every
 * offset read before it are finished. Committing that position after a crash
 * or a rebalance therefore never skips an unfinished request: everything at or
 * after it is read again by whoever owns the partition next.
 *
 *     read:      10  11  13  14  15        (12 was never delivered: a gap)
 *     finished:   x       x   x
 *     commit:    12 would skip 11 -> position stays 11 until 11 finishes,
 *                then jumps to 16 once 15 does.
 *
 * It is a pure bookkeeping module: no Kafka calls, no clock. The consumer calls
 * it from one thread (the consumer loop); it is not thread-safe.
 */
#ifndef ZX_XFRD_OFFTRACK_H
#define ZX_XFRD_OFFTRACK_H

#include "common/err.h"

#include <stddef.h>
#include <stdint.h>

struct offtrack;

/** Create an empty tracker (no partitions assigned). NULL when out of memory. */
struct offtrack *offtrack_new(void);

/** Free the tracker and every partition. offtrack_free(NULL) does nothing. */
void offtrack_free(struct offtrack *t);

/**
 * Start tracking @p partition from @p start (the committed offset the consumer
 * resumes from; -1 when unknown, then the first offset read sets it).
 * @return 0; ZX_EEXIST when already assigned; ZX_ENOMEM
 */
ZX_MUSTCHECK int offtrack_assign(struct offtrack *t, int32_t partition, int64_t start);

/**
 * Stop tracking @p partition (revoked or lost). Unfinished offsets are dropped:
 * the next owner reads them again.
 * @param[out] safe the position that is safe to commit (as offtrack_committable()),
 *                  or -1 when nothing new is committable; may be NULL
 * @return 0; ZX_ENOENT when not assigned
 */
ZX_MUSTCHECK int offtrack_revoke(struct offtrack *t, int32_t partition, int64_t *safe);

/**
 * Record that @p offset was read from @p partition and is now in flight.
 * @return 0; ZX_ENOENT partition not assigned; ZX_EINVAL offset not above the
 *         last one read (the consumer must deliver in order); ZX_ENOMEM
 */
ZX_MUSTCHECK int offtrack_read(struct offtrack *t, int32_t partition, int64_t offset);

/**
 * Record that the request at @p offset is finished (its zone reached the serial,
 * was up to date, or failed for good and was recorded).
 * @return 0; ZX_ENOENT partition not assigned (revoked meanwhile: ignore);
 *         ZX_ENOTFOUND offset not in flight (never read, or already finished)
 */
ZX_MUSTCHECK int offtrack_done(struct offtrack *t, int32_t partition, int64_t offset);

/**
 * The position to commit for @p partition (the next offset to read: one past
 * the longest finished prefix), when it moved since offtrack_committed().
 * @return the position; -1 when nothing new is committable or the partition is
 *         not assigned
 */
int64_t offtrack_committable(const struct offtrack *t, int32_t partition);

/**
 * Record that @p position was committed (after Kafka confirmed the commit).
 * @return 0; ZX_ENOENT partition not assigned
 */
ZX_MUSTCHECK int offtrack_committed(struct offtrack *t, int32_t partition, int64_t position);

/** Offsets in flight (read, not finished) for @p partition; 0 when not assigned. */
size_t offtrack_in_flight(const struct offtrack *t, int32_t partition);

/** Assigned partitions, in ascending order, into @p out (at most @p max). */
size_t offtrack_partitions(const struct offtrack *t, int32_t *out, size_t max);

/** Last committed position of @p partition (-1 unknown or not assigned). */
int64_t offtrack_last_committed(const struct offtrack *t, int32_t partition);

#endif
