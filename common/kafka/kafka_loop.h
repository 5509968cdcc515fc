/* SPDX-License-Identifier: MIT */
/* common/kafka/kafka_loop.h -- a librdkafka client's main queue served on a libevent loop.
 *
 * Delivery reports, errors and logs of a producer reach the event loop through
 * rd_kafka_queue_io_event_enable(): librdkafka writes a byte to a pipe when its
 * main queue becomes non-empty, the loop sees the pipe readable and calls
 * rd_kafka_poll(rk, 0), which runs the client's callbacks on the loop thread.
 * A 100 ms timer polls too, as a safety net. So only the loop thread touches
 * the owner's state; librdkafka's own threads only do network I/O.
 *
 * Threading: the loop's thread.
 */
#ifndef ZX_COMMON_KAFKA_LOOP_H
#define ZX_COMMON_KAFKA_LOOP_H

#include "common/err.h"

#include <librdkafka/rdkafka.h>

struct event_base;
struct kafka_loop;

/**
 * Serve @p rk's main queue on @p base.
 * @param rk, base borrowed; both must outlive the kafka_loop
 * @param[out] out owned by the caller (kafka_loop_free()); untouched on error
 * @return 0; ZX_EIO no pipe; ZX_ENOMEM
 */
ZX_MUSTCHECK int kafka_loop_new(rd_kafka_t *rk, struct event_base *base, struct kafka_loop **out);

/**
 * Stop serving (before rd_kafka_destroy(): the queue is released here). Callbacks
 * still queued run at the client's next rd_kafka_poll()/flush. NULL ok.
 */
void kafka_loop_free(struct kafka_loop *l);

#endif
