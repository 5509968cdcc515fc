/* SPDX-License-Identifier: MIT */
/* xfrd/kafka/health.h -- liveness from commit progress.
 *
 * Liveness follows Cloudflare's "intelligent health checks" for Kafka consumers
 * (reference/kafka-consumer-health.txt): a consumer connected to the broker may
 * still be stuck, so xfrd is alive when, for every partition it owns, either
 * there is no lag (nothing read-able is uncommitted) or its committed offset
 * moved within the last xfrd.health.commit-stall. The per-partition map holds
 * only the partitions owned now: it is rebuilt on every rebalance (assigned
 * partitions enter with a fresh clock, revoked ones leave), so a partition that
 * moved to another replica never makes this one look stuck, which is what made
 * Cloudflare's first version restart replicas in a cascade. A lag that cannot be
 * read counts as lag. A transfer of one of the partition's zones that ends also
 * counts as progress (health_map_progress()): a long transfer at the head of a
 * partition holds its commits back while the others behind it still finish.
 * A single transfer longer than the stall with nothing else to do on its
 * partition does fail liveness: keep commit-stall above the transfer timeout.
 *
 * The map is pure bookkeeping: no clock, no Kafka; the consumer feeds it, and
 * /health (common/ops/opshttp.h) asks it through consumer_live().
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
 * A transfer of a zone of @p partition ended at @p now_ms: the consumer works.
 * @return 0; ZX_ENOENT not in the map (revoked meanwhile: ignore)
 */
ZX_MUSTCHECK int health_map_progress(struct health_map *m, int32_t partition, int64_t now_ms);

/** Lag of @p partition: messages not committed; -1 when it cannot be read. */
typedef int64_t (*health_lag_fn)(void *arg, int32_t partition);

/**
 * Liveness at @p now_ms.
 * @param lag  called once per partition in the map
 * @param[out] why  on ZX_ETIMEDOUT: "partition P lag L no commit for S ms"; may be NULL
 * @return 0 alive; ZX_ETIMEDOUT a partition with lag has not committed for
 *         more than @p stall_ms
 */
ZX_MUSTCHECK int health_map_check(struct health_map *m, int64_t now_ms, uint64_t stall_ms,
                                  health_lag_fn lag, void *arg, char *why, size_t whylen);

/** Partitions in the map. */
size_t health_map_size(const struct health_map *m);

#endif
