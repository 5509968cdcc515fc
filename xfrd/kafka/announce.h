/* SPDX-License-Identifier: MIT */
/* xfrd/kafka/announce.h -- the other replicas' announcements: every ZoneUpdated event on
 * kafka.updates-topic written from now on by a replica other than this one.
 *
 * A replica that does not own a zone learns of each new serial its owner stored
 * from the owner's event (the same one zone builders read), and copies the zone
 * from the owner at once (xfrd/service/runtime.h, runtime_announce()). It reads the
 * topic from its end, without a consumer group and without committing: what it
 * missed while down it finds by its own refresh timers, which compare its copy
 * with the owner's.
 *
 * Threading: the loop thread of the event_base it was made with.
 */
#ifndef ZX_XFRD_ANNOUNCE_H
#define ZX_XFRD_ANNOUNCE_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cfg_kafka;
struct event_base;
struct announce;

/**
 * An event of another replica: @p zone (canonical text) at @p serial, stored by
 * @p replica; @p expired: its copy passed the SOA expire.
 */
typedef void (*announce_cb)(void *ctx, const char *zone, uint32_t serial, bool expired,
                            const char *replica);

/**
 * Follow kafka.updates-topic from its end on @p base.
 * @param self  this replica's name (its own events are skipped); copied
 * @param[out] out  returned owned (announce_free()); untouched on error
 * @return 0; ZX_ECONFIG, ZX_EKAFKA (@p err); ZX_EIO; ZX_ENOMEM
 */
ZX_MUSTCHECK int announce_new(const struct cfg_kafka *kc, const char *self,
                              struct event_base *base, announce_cb cb, void *ctx,
                              struct announce **out, char *err, size_t errlen);

/** Stop and free. NULL ok. */
void announce_free(struct announce *a);

/** Events handed over, and events skipped (our own, undecodable, other kinds). */
void announce_stats(const struct announce *a, uint64_t *used, uint64_t *skipped);

#endif
