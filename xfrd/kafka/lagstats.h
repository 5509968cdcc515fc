/* SPDX-License-Identifier: MIT */
/* xfrd/kafka/lagstats.h -- the consumer group's lag per partition, as the broker sees it.
 *
 * librdkafka's statistics (statistics.interval.ms, KAFKA_LAGSTATS_INTERVAL_MS unless
 * kafka.settings says otherwise) carry, for each partition of the requests topic this
 * consumer is assigned, consumer_lag: the partition's high watermark minus the group's
 * committed offset; where the group never committed, the high minus the low watermark
 * (what the group, starting at the earliest, has left to read); -1 while the watermarks
 * are unknown. The last statistics are kept and
 * rendered at each scrape as xfrd_kafka_consumer_lag{partition} (one series per
 * partition owned now; docker/prometheus/alerts.yaml ZxConsumerLagHigh).
 * (xfrd_consumer_lag is this process' own count of requests read and not finished.)
 *
 * Threading: lagstats_update() runs where librdkafka serves its statistics callback:
 * the consumer's poll, on the loop thread, as the scrape does.
 */
#ifndef ZX_XFRD_KAFKA_LAGSTATS_H
#define ZX_XFRD_KAFKA_LAGSTATS_H

#include "common/err.h"

#include <stddef.h>
#include <stdint.h>

struct lagstats;
struct metrics;

/** statistics.interval.ms the consumer sets by default. */
#define KAFKA_LAGSTATS_INTERVAL_MS "5000"
/** Most partitions followed (more are left out of the series). */
#define LAGSTATS_MAX_PARTITIONS 4096

/**
 * Register xfrd_kafka_consumer_lag in @p m.
 * @param topic  the requests topic; copied
 * @param[out] out returned owned (lagstats_free(), after @p m's last render)
 * @return 0; ZX_ENOMEM
 */
ZX_MUSTCHECK int lagstats_new(struct metrics *m, const char *topic, struct lagstats **out);

/**
 * Take one statistics document (librdkafka's JSON).
 * @param json  borrowed for the call; @p len bytes, not NUL-terminated
 * @return 0; ZX_EFORMAT not the JSON expected (the last good values stay)
 */
ZX_MUSTCHECK int lagstats_update(struct lagstats *ls, const char *json, size_t len);

/**
 * The lag of @p partition as last seen.
 * @return the lag; -1 unknown (the broker did not say); ZX_ENOTFOUND not assigned
 */
int64_t lagstats_get(const struct lagstats *ls, int32_t partition);

/** Free. NULL ok. */
void lagstats_free(struct lagstats *ls);

#endif
