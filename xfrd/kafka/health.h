/* SPDX-License-Identifier: MIT */
/* xfrd/kafka/health.h -- liveness from progress, readiness from what the group gives us.
 *
 * Liveness (/health) fails only when xfrd is wedged: its loop does not turn (then
 * /health, served on that loop, does not answer at all), or it holds work it does
 * not progress. Held work is a partition's requests read but not finished (offsets
 * in flight, reference/kafka-consumer-health.txt's "lag" narrowed to what this
 * process took on); progress is a commit of the partition's offset that moved, or a
 * transfer of one of its zones that ended (health_map_progress()): a long transfer
 * at the head of a partition holds its commits back while the others behind it
 * still finish. The partition's clock restarts whenever it holds nothing, and when
 * work arrives on it after that. So an idle partition, an empty topic, a partition
 * whose lag cannot be read: never a failure; a partition whose requests wait behind
 * a transfer that runs longer than xfrd.health.commit-stall: a failure (keep the
 * stall above the transfer timeouts, cfg_xfrd_transfer_bound_ms()). Work that waits
 * for an unreachable Kafka (events not delivered, commits refused) is no wedge: a
 * restart would not help; the consumer holds every clock (health_map_hold()) while
 * Kafka is unreachable, and readiness says so instead.
 *
 * The per-partition map holds only the partitions owned now: it is rebuilt on every
 * rebalance (assigned partitions enter with a fresh clock, revoked ones leave), so
 * a partition that moved to another replica never makes this one look stuck, which
 * is what made Cloudflare's first version restart replicas in a cascade.
 *
 * Readiness (/ready, health_ready()) is decided from what the consumer knows: see
 * struct health_ready_in for the rules.
 *
 * Pure bookkeeping: no clock, no Kafka; the consumer feeds it, and /health and
 * /ready (common/ops/opshttp.h) ask it through consumer_live() and consumer_ready().
 *
 * Threading: one thread (the consumer's event loop).
 */
#ifndef ZX_XFRD_HEALTH_H
#define ZX_XFRD_HEALTH_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct health_map;

/** An empty map. NULL when out of memory. */
struct health_map *health_map_new(void);

/** Free; NULL ok. */
void health_map_free(struct health_map *m);

/**
 * @p partition was assigned at @p now_ms: its clock starts now.
 * @return 0; ZX_EEXIST already in the map; ZX_ENOMEM
 */
ZX_MUSTCHECK int health_map_assign(struct health_map *m, int32_t partition, int64_t now_ms);

/**
 * @p partition was revoked or lost: it leaves the map.
 * @return 0; ZX_ENOENT not in the map
 */
ZX_MUSTCHECK int health_map_revoke(struct health_map *m, int32_t partition);

/**
 * A commit of @p offset for @p partition was confirmed at @p now_ms; progress
 * when it is above the last one seen.
 * @return 0; ZX_ENOENT not in the map (revoked meanwhile: ignore)
 */
ZX_MUSTCHECK int health_map_committed(struct health_map *m, int32_t partition, int64_t offset,
                                      int64_t now_ms);

/**
 * Progress of @p partition at @p now_ms: a transfer of one of its zones ended, or
 * work arrived on it while it held none (its clock starts then, not at the last
 * check that saw it idle).
 * @return 0; ZX_ENOENT not in the map (revoked meanwhile: ignore)
 */
ZX_MUSTCHECK int health_map_progress(struct health_map *m, int32_t partition, int64_t now_ms);

/** Every partition's clock restarts at @p now_ms (Kafka unreachable: no one is stuck). */
void health_map_hold(struct health_map *m, int64_t now_ms);

/** Requests of @p partition read and not finished yet (the work it holds). */
typedef size_t (*health_held_fn)(void *arg, int32_t partition);

/**
 * Liveness at @p now_ms.
 * @param held  called once per partition in the map
 * @param[out] why  on ZX_ETIMEDOUT: "partition P holds N requests, none finished for
 *                  S s (xfrd.health.commit-stall T s)"; may be NULL
 * @return 0 alive; ZX_ETIMEDOUT a partition held requests and made no progress for
 *         more than @p stall_ms
 */
ZX_MUSTCHECK int health_map_check(struct health_map *m, int64_t now_ms, uint64_t stall_ms,
                                  health_held_fn held, void *arg, char *why, size_t whylen);

/** Partitions in the map. */
size_t health_map_size(const struct health_map *m);

/**
 * What readiness is decided from. The rules (health_ready()), in order:
 *   - closing, the requests topic missing, Kafka unreachable: not ready (the reason);
 *   - no assignment yet, or the last one lost (Kafka's session timed out: the group
 *     takes the partitions back): not ready until the group assigns again;
 *   - partitions owned: ready;
 *   - none owned: ready only when the group, as Kafka describes it, is stable and its
 *     other members hold every partition of the topic (more replicas than
 *     partitions: this one still serves the DNS endpoint); otherwise it is waiting
 *     for its share (a rebalance under way), and not ready.
 */
struct health_ready_in {
	bool closing;
	const char *topic_missing; /**< "requests topic T does not exist (...)"; NULL: it does */
	bool kafka_down;           /**< Kafka unreachable (consumer_watch) */
	const char *kafka_why;     /**< then: its words, e.g. "brokers B: Local: Timed out" */
	int64_t kafka_down_s;      /**< then: for this long */
	bool assigned;             /**< an assignment (possibly empty) arrived... */
	bool lost;                 /**< ...and was lost since (no new one yet) */
	size_t owned;              /**< partitions owned now */
	int32_t topic_partitions;  /**< of the requests topic; 0 unknown */
	bool group_known;          /**< the group was described since the assignment: */
	bool group_stable;         /**<   no rebalance under way */
	int32_t members;           /**<   members, this one included */
	int32_t held_by_others;    /**<   partitions of the topic the other members hold */
};

/**
 * Readiness from @p in (the rules above).
 * @param[out] why  not ready: the reason ("Kafka unreachable for 12 s: ..."); ready with
 *                  no partition: why that is fine; else ""
 * @return true ready
 */
bool health_ready(const struct health_ready_in *in, char *why, size_t whylen);

#endif
