/* SPDX-License-Identifier: MIT */
/* xfrd/kafka/updates.h -- xfrd's Kafka producer: "zone updated" events and refresh requests.
 *
 * One idempotent producer (enable.idempotence=true, acks=all) with two topics:
 * kafka.updates-topic for ZoneUpdated events (after each LMDB commit, failure or
 * expiry) and kafka.requests-topic for the TransferRequests the refresh timers
 * produce (xfrd/service/runtime.h). Every message is keyed by the zone's canonical name
 * and placed with the murmur2_random partitioner (Java's, the one notifyd uses):
 * the requests topic's contract (proto/reqtopic.h), whose settings it shares.
 *
 * Each send carries a ticket (struct updates_ticket, usually embedded in the
 * caller's own record) whose done function runs exactly once with the outcome:
 * the consumer finishes a transfer's offsets only after its event was stored.
 * Delivery reports reach the caller's event loop as in notifyd/publish.h:
 * librdkafka writes to a pipe when its queue becomes non-empty, the loop calls
 * rd_kafka_poll(rk, 0), which runs the done function on the loop thread; a
 * 100 ms timer polls too.
 *
 * Defaults (kafka.settings override any): linger.ms=20, socket.nagle.disable=true,
 * message.timeout.ms=30000 (a failed delivery comes back and the consumer sends
 * again). Nothing a client waits for rides on this producer's latency (a zone is
 * served once committed; the event only finishes offsets and tells followers), and
 * with a shorter linger librdkafka 2.0.2's broker thread polled in a loop while a
 * batch waited behind the one in flight: linger.ms=1 cost xfrd 1.5-2x the CPU
 * with 10,000 zones loading (tests/unit/xfrd/kafka/test_updates.c).
 *
 * Threading: one event loop thread (the consumer's).
 */
#ifndef ZX_XFRD_UPDATES_H
#define ZX_XFRD_UPDATES_H

#include "common/err.h"
#include "proto/events.h"

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct cfg_kafka;
struct updates;

/**
 * One send's completion, on the loop thread. @c done gets the ticket back with
 * rc 0 stored; ZX_ETIMEDOUT not stored within message.timeout.ms; ZX_ESHUTDOWN
 * purged at shutdown; ZX_EKAFKA other failure. It may free the ticket.
 */
struct updates_ticket {
	void (*done)(struct updates_ticket *t, int rc);
};

/**
 * Create the producer and hook it to @p base.
 * @param[in]  kc        borrowed; must outlive the producer (topic names)
 * @param[in]  client_id borrowed for the call; may be NULL
 * @param[in]  base      borrowed; must outlive the producer
 * @param[out] out       returned owned (updates_free()); untouched on error
 * @param[out] err       reason on error
 * @return 0; ZX_ECONFIG a kafka.settings property was rejected; ZX_EKAFKA the
 *         client or a topic handle could not be made; ZX_EIO no pipe; ZX_ENOMEM
 */
ZX_MUSTCHECK int updates_new(const struct cfg_kafka *kc, const char *client_id,
                             struct event_base *base, struct updates **out, char *err,
                             size_t errlen);

/**
 * Stop: after a flush of up to @p flush_ms, every message still queued or in
 * flight is purged and its ticket's done runs with ZX_ESHUTDOWN; then free. NULL ok.
 */
void updates_free(struct updates *u, int flush_ms);

/**
 * Produce a ZoneUpdated to the updates topic (key = ev->zone).
 * @param[in] ev  borrowed for the call (packed here; schema set)
 * @param[in] t   borrowed until its done runs
 * @return 0 (t->done follows); on error t->done is not called; ZX_EINVAL empty zone; ZX_EAGAIN the
 *         local queue is full; ZX_EKAFKA; ZX_ENOMEM
 */
ZX_MUSTCHECK int updates_send_update(struct updates *u, Zx__Events__ZoneUpdated *ev,
                                     struct updates_ticket *t);

/** As updates_send_update() for a TransferRequest to the requests topic. */
ZX_MUSTCHECK int updates_send_request(struct updates *u, Zx__Events__TransferRequest *req,
                                      struct updates_ticket *t);

/** Messages queued or in flight (not yet reported). */
size_t updates_queued(const struct updates *u);

/** Serve pending delivery reports now (the loop does it by itself; for waits). */
void updates_poll(struct updates *u, int timeout_ms);

#endif
