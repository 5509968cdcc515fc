/* SPDX-License-Identifier: MIT */
/* xfrd/tools/xfrctl_wait.h -- `xfrctl refresh|retransfer --wait[=TIMEOUT]`: the outcome of
 * one request, as xfrd publishes it (like `knotc -b`).
 *
 * How it knows, from Kafka alone (any replica may own the zone):
 *   1. before the request is sent: the end of the zone's partition of
 *      kafka.updates-topic (where its ZoneUpdated events go, keyed by the zone,
 *      murmur2_random as the requests) is noted, and read from there on;
 *   2. the request is stored at (partition, offset) of kafka.requests-topic;
 *   3. xfrd commits a request's offset (consumer group kafka.group) only after its
 *      transfer ended and its event, if any, was stored (xfrd/kafka/consumer.h):
 *      once the group's committed offset of that partition is past the request's,
 *      the updates partition is read to its end, and the zone's last event says the
 *      outcome: COMMITTED (a new serial), FAILED or EXPIRED (the error); no event: the
 *      primary had nothing newer (the zone is at its current serial).
 * A request an earlier one of the same partition waits behind waits with it (offsets
 * are committed in order).
 *
 * Threading: a program's main thread.
 */
#ifndef ZX_XFRD_TOOLS_XFRCTL_WAIT_H
#define ZX_XFRD_TOOLS_XFRCTL_WAIT_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cfg;
struct xfrctl_wait;

/** What the wait found. */
struct xfrctl_outcome {
	enum { XFRCTL_WAIT_UPTODATE, XFRCTL_WAIT_COMMITTED, XFRCTL_WAIT_FAILED } kind;
	bool has_serial;
	uint32_t serial;        /**< COMMITTED: the new serial; FAILED: the one kept */
	char method[8];         /**< COMMITTED: AXFR or IXFR */
	char primary[128];      /**< the primary used or tried ("" unknown) */
	char error[256];        /**< FAILED: the event's error text */
	char replica[64];       /**< the replica that ran it ("" unknown) */
};

/**
 * Step 1: start reading the zone's updates partition at its end.
 * @param cfg   borrowed; must outlive the wait (kafka.*)
 * @param zone  canonical text with the trailing dot; copied
 * @param[out] out   returned owned (xfrctl_wait_free()); untouched on error
 * @param[out] err   on error: what failed
 * @return 0; ZX_ECONFIG a kafka.settings property was rejected; ZX_EKAFKA the
 *         updates topic cannot be read (missing, broker down); ZX_ETIMEDOUT no
 *         answer within @p timeout_ms; ZX_ENOMEM
 */
ZX_MUSTCHECK int xfrctl_wait_new(const struct cfg *cfg, const char *zone, int timeout_ms,
                                 struct xfrctl_wait **out, char *err, size_t errlen);

/**
 * Step 3: wait until the request stored at @p partition / @p offset of the requests
 * topic is finished, at most until @p deadline_ms (clock_mono_ms()).
 * @param[out] out  the outcome (on 0)
 * @param[out] err  on error: what failed
 * @return 0; ZX_ETIMEDOUT not finished by the deadline; ZX_EKAFKA the committed
 *         offsets or the updates topic could not be read
 */
ZX_MUSTCHECK int xfrctl_wait_for(struct xfrctl_wait *w, int32_t partition, int64_t offset,
                                 int64_t deadline_ms, struct xfrctl_outcome *out, char *err,
                                 size_t errlen);

/** Free. NULL ok. */
void xfrctl_wait_free(struct xfrctl_wait *w);

#endif
