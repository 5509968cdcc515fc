/* SPDX-License-Identifier: MIT */
/* proto/reqtopic.h -- the requests topic's contract, for every producer of it.
 *
 * Three programs write TransferRequests to kafka.requests-topic: notifyd (one
 * per accepted NOTIFY), xfrd (its refresh timers) and xfrctl (refresh,
 * retransfer). They all write them the same way, through this module:
 *
 *   key        the zone's canonical name: lowercase presentation form with the
 *              trailing dot ("example.com."), so one zone's requests stay in
 *              order, in one partition;
 *   partition  murmur2_random, the Java client's partitioner: reqtopic_partition()
 *              tells any process a zone's partition, and so which xfrd replica
 *              owns the zone (its transfers and its refresh timers);
 *   delivery   idempotent, acks=all: a request is stored, or its producer is told;
 *   value      a TransferRequest (proto/events.proto), schema set, built by
 *              reqtopic_request_init() and reqtopic_pack().
 *
 * Threading: any; nothing here keeps state.
 */
#ifndef ZX_PROTO_REQTOPIC_H
#define ZX_PROTO_REQTOPIC_H

#include "common/err.h"
#include "proto/events.h"

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cfg_kafka;

/**
 * A producer configuration for the requests topic: the contract's settings
 * (enable.idempotence, acks=all, murmur2_random, no Nagle), then the producer's
 * own defaults @p own, then the config's kafka.settings (which override any).
 * @param[in] kc         borrowed
 * @param[in] client_id  borrowed; may be NULL
 * @param[in] own        NULL-terminated name, value pairs (latency settings: linger.ms,
 *                       message.timeout.ms, ...); borrowed; may be NULL
 * @param[out] out       returned owned (rd_kafka_conf_destroy() or rd_kafka_new());
 *                       untouched on error
 * @param[out] err       on ZX_ECONFIG the property and librdkafka's reason
 * @return 0; ZX_ECONFIG a property was rejected; ZX_ENOMEM
 */
ZX_MUSTCHECK int reqtopic_conf_new(const struct cfg_kafka *kc, const char *client_id,
                                   const char *const *own, rd_kafka_conf_t **out, char *err,
                                   size_t errlen);

/**
 * The partition of the requests topic that @p zone's requests reach among
 * @p partitions (murmur2 of the key, positive, modulo the count).
 * @param zone  the key: canonical name with the trailing dot; borrowed
 * @return the partition; -1 when @p partitions is not positive
 */
int32_t reqtopic_partition(const char *zone, int32_t partitions);

/**
 * Start a request: @p req zeroed and initialised, zone (borrowed: it must live
 * as long as @p req), origin, received_us = now, producer (borrowed; NULL: "").
 */
void reqtopic_request_init(Zx__Events__TransferRequest *req, const char *zone,
                           Zx__Events__Origin origin, const char *producer);

/**
 * Serialize @p req (schema set).
 * @param[out] out  malloc'd bytes, owned by the caller (free()); untouched on error
 * @return 0; ZX_EINVAL no zone, or a zone without its trailing dot; ZX_ENOMEM
 */
ZX_MUSTCHECK int reqtopic_pack(Zx__Events__TransferRequest *req, uint8_t **out, size_t *len);

/** Where one produced request was stored (reqtopic_send_once()). */
struct reqtopic_stored {
	int32_t partition;
	int64_t offset;
	char error[512]; /**< on error: what Kafka said, the client's last error, a missing
	                      topic; "" on 0 */
};

/**
 * One request produced and waited for, without a loop (xfrctl): a producer of its
 * own, the request keyed by its zone, its delivery report awaited up to
 * @p timeout_ms (then purged), the producer closed. When the request was not
 * stored and the client saw nothing wrong, the topic is looked up, so that a
 * missing topic is said as such.
 * @param kc        borrowed; the requests topic, brokers, settings
 * @param req       borrowed; from reqtopic_request_init()
 * @param[out] out  where it was stored, or why not
 * @return 0 stored; ZX_EINVAL as reqtopic_pack(); ZX_ECONFIG a kafka.settings property
 *         was rejected; ZX_ETIMEDOUT not stored within @p timeout_ms; ZX_EKAFKA
 *         refused; ZX_ENOMEM
 */
ZX_MUSTCHECK int reqtopic_send_once(const struct cfg_kafka *kc, Zx__Events__TransferRequest *req,
                                    int timeout_ms, struct reqtopic_stored *out);

#endif
