/* SPDX-License-Identifier: MIT */
/* notifyd/publish.h -- the Kafka producer whose delivery reports release NOTIFY answers.
 *
 * One idempotent producer (enable.idempotence=true, acks=all) writing to the
 * requests topic, keyed by the zone's canonical name. Each publish_send()
 * carries an opaque pointer; exactly once per accepted send, the done
 * callback gets it back with the outcome: 0 when Kafka acknowledged the
 * message (then notifyd answers NOERROR), or an error (then the NOTIFY gets
 * no answer and the primary retries). message.timeout.ms is the config's
 * kafka.delivery-timeout, so a message Kafka has not stored by then comes back
 * as ZX_ETIMEDOUT: that bounds both the wait and the memory held for it.
 *
 * Delivery reports reach the event loop through common/kafka_loop, so the done
 * callbacks run on the loop thread and only it touches notifyd's state;
 * librdkafka's own threads only do network I/O.
 *
 * Threading: one event loop thread.
 */
#ifndef ZX_NOTIFYD_PUBLISH_H
#define ZX_NOTIFYD_PUBLISH_H

#include "common/err.h"

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct cfg_kafka;
struct publish;

/**
 * Outcome of one send, on the loop thread.
 * @param opaque  as given to publish_send()
 * @param rc      0 stored; ZX_ETIMEDOUT not stored within the delivery timeout;
 *                ZX_ESHUTDOWN purged at shutdown; ZX_EKAFKA other failure
 */
typedef void (*publish_done_cb)(void *opaque, int rc, void *arg);

/** Kafka client errors (all brokers down, authentication...), for logs and health;
 *  ZX_ENOENT when a delivery failed because the requests topic does not exist (the
 *  reason names it). */
typedef void (*publish_error_cb)(int rc, const char *reason, void *arg);

/**
 * Create the producer.
 * @param kc        brokers, topic, delivery timeout, extra settings; borrowed
 *                  (copied into librdkafka's conf)
 * @param client_id client.id (the notifyd instance); borrowed
 * @param base      the loop the pipe and timer go on
 * @param[out] out  returned owned (publish_free()); untouched on error
 * @param[out] err  on ZX_ECONFIG / ZX_EKAFKA, why
 * @return 0; ZX_ECONFIG a librdkafka property was rejected; ZX_EKAFKA the client
 *         or topic could not be created; ZX_EIO no pipe; ZX_ENOMEM
 */
ZX_MUSTCHECK int publish_new(const struct cfg_kafka *kc, const char *client_id,
                             struct event_base *base, publish_done_cb done,
                             publish_error_cb on_error, void *arg, struct publish **out,
                             char *err, size_t errlen);

/**
 * Queue one message.
 * @param key     the zone's canonical name; copied
 * @param payload malloc'd bytes; TAKEN (freed by librdkafka) on 0, left to the
 *                caller on error
 * @param opaque  handed back to the done callback; on error the callback is
 *                not called for it
 * @return 0 queued (done will be called exactly once); ZX_EAGAIN librdkafka's
 *         local queue is full; ZX_ENOENT the requests topic does not exist (the
 *         error callback was told, naming it); ZX_EKAFKA any other refusal
 */
ZX_MUSTCHECK int publish_send(struct publish *p, const char *key, uint8_t *payload, size_t len,
                              void *opaque);

/** Messages queued or in flight (librdkafka's outq length). */
size_t publish_queued(const struct publish *p);

/**
 * Wait up to @p timeout_ms for every queued message to be delivered (done
 * callbacks run from here).
 * @return 0 all delivered; ZX_ETIMEDOUT some are still queued
 */
ZX_MUSTCHECK int publish_flush(struct publish *p, int timeout_ms);

/**
 * Purge what is still queued (done callbacks get ZX_ESHUTDOWN) and destroy the
 * producer. NULL is ok.
 */
void publish_free(struct publish *p);

#endif
