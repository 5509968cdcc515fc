/* SPDX-License-Identifier: MIT */
/* notifyd/ratelimit.h -- token buckets keyed by arbitrary bytes, in bounded memory.
 *
 * notifyd keeps two of these: one keyed by the real source address (after
 * PROXY decoding), one keyed by the zone's canonical wire name. Each key has a
 * bucket holding at most rate * burst tokens, refilled at rate tokens per
 * second; a request takes one token or is refused.
 *
 * Memory is a fixed table of slots chosen at creation. A key's slot is found
 * by a seeded 64-bit hash (the seed is random per process, so a sender cannot
 * aim collisions at someone else's bucket); only the hash is stored. A slot
 * whose bucket has refilled completely carries no information and is reused
 * for a new key. When every candidate slot of a new key holds a bucket that is
 * still refilling, the request is allowed without a bucket (fail open: a flood
 * of fresh sources must not lock out the known ones) and counted in
 * ratelimit_stats.untracked.
 *
 * No clock is read here: the caller passes the time, so tests pin it.
 *
 * Threading: one ratelimit belongs to one thread (notifyd's event loop).
 */
#ifndef ZX_NOTIFYD_RATELIMIT_H
#define ZX_NOTIFYD_RATELIMIT_H

#include "common/err.h"

#include <stddef.h>
#include <stdint.h>

struct ratelimit;

/** How many candidate slots a key may use (linear probing distance). */
#define RATELIMIT_PROBE 8

struct ratelimit_stats {
	uint64_t allowed;   /**< requests that took a token (or were untracked) */
	uint64_t limited;   /**< requests refused: the bucket was empty */
	uint64_t untracked; /**< requests allowed because no slot was free */
	uint64_t in_use;    /**< slots holding a bucket (refilled or not) */
};

/**
 * Create a limiter.
 * @param rate   tokens per second per key; 0 means unlimited (every request is
 *               allowed and nothing is stored)
 * @param burst  bucket size as a multiple of @p rate (>= 1)
 * @param slots  table size; rounded up to a power of two, at least 64
 * @param seed   hash seed (random per process; fixed in tests)
 * @param[out] out  the limiter, returned owned (ratelimit_free()); untouched on error
 * @return 0; ZX_EINVAL @p burst is 0 or @p slots exceeds 2^28; ZX_ENOMEM
 */
ZX_MUSTCHECK int ratelimit_new(uint32_t rate, uint32_t burst, size_t slots, uint64_t seed,
                               struct ratelimit **out);

/** Free @p rl. ratelimit_free(NULL) does nothing. */
void ratelimit_free(struct ratelimit *rl);

/**
 * Take one token from @p key's bucket.
 * @param key     bytes naming the bucket (an address, a wire name); borrowed
 * @param now_ms  a monotonic time in milliseconds; going backwards is treated
 *                as no time passing
 * @return 0 allowed; ZX_ELIMIT the bucket is empty (the request should be dropped)
 */
ZX_MUSTCHECK int ratelimit_take(struct ratelimit *rl, const void *key, size_t len,
                                uint64_t now_ms);

/** Counters since creation. */
struct ratelimit_stats ratelimit_stats(const struct ratelimit *rl);

/**
 * A seeded 64-bit hash of @p len bytes (also used by notifyd for its pending
 * table). Not cryptographic; keyed so outsiders cannot predict collisions.
 */
uint64_t ratelimit_hash(uint64_t seed, const void *key, size_t len);

#endif
