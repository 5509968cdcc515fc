/* SPDX-License-Identifier: MIT */
/* xfrd/consumer.h -- the Kafka consumer group that drives the transfer engine.
 *
 * xfrd replicas share the requests topic as one consumer group
 * (partition.assignment.strategy=cooperative-sticky, enable.auto.commit=false,
 * enable.auto.offset.store=false, auto.offset.reset=earliest). Per message:
 *
 *   read --> offtrack_read --> sched_request (one transfer running and one
 *   scheduled per zone; later requests fold into the scheduled one) -->
 *   engine_request --(worker thread)--> outcome queue + eventfd --(loop)-->
 *   sched_finished (the offsets the outcome finishes) --> ZoneUpdated event
 *   produced, its delivery report awaited --> offtrack_done --> batched
 *   asynchronous rd_kafka_commit of offtrack_committable() every commit interval.
 *
 * The invariant: an offset is committed only after its zone reached at least
 * the serial it asked for, was found up to date, or failed for good (recorded
 * by the engine and announced by a FAILED event); offtrack keeps the commit
 * below any unfinished offset. A SIGKILL at any point therefore makes the next
 * owner read again every request not known finished. An outcome that finishes
 * no new serial (up to date) re-announces the stored serial once per zone after
 * each assignment, so an event lost by a crash between the LMDB commit and its
 * delivery is produced by the replica that redoes the request.
 *
 * Rebalance (cooperative): assigned partitions start at the group's committed
 * offsets. On revocation the partition's requests are dropped from the
 * scheduler (nothing new starts for its zones), the transfers of its zones
 * still running are waited for (bounded by revoke_wait_ms, events delivered,
 * outcome queue drained meanwhile), what is finished is committed
 * synchronously, and the rest is left to the next owner, which only gets the
 * partition once this callback returned: no zone is transferred by two
 * replicas at once unless a transfer outlives revoke_wait_ms (logged as
 * revoke_wait_timeout). A lost assignment (session timeout) drops at once.
 *
 * Consumer defaults (kafka.settings override any): fetch.wait.max.ms=100 (the
 * broker answers a waiting fetch as soon as a request arrives, so this bounds
 * only idle polling, not latency), socket.nagle.disable=true,
 * session.timeout.ms=10000 and heartbeat.interval.ms=1000 (a dead replica's
 * partitions move after 10 s; set group.instance.id per replica for static
 * membership, which hands a restarted replica its partitions back at once).
 * Measured (tests/bench/pipeline): NOTIFY at notifyd to LMDB commit of a
 * one-record IXFR into a 1M-record zone, p50 5 ms, p99 40 ms.
 *
 * Threading: everything runs on the loop thread of @c base, except the
 * engine's callbacks (worker threads), which only queue the outcome.
 */
#ifndef ZX_XFRD_CONSUMER_H
#define ZX_XFRD_CONSUMER_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cfg;
struct consumer;
struct engine;
struct event_base;
struct metrics;
struct notifier;
struct refresh;
struct updates;

struct consumer_opts {
	const struct cfg *cfg;     /**< borrowed; zones, kafka section */
	struct event_base *base;   /**< borrowed; the loop everything runs on */
	struct engine *eng;        /**< borrowed; must outlive the consumer's last outcome */
	struct updates *up;        /**< borrowed; ZoneUpdated producer */
	struct refresh *rf;        /**< borrowed; told of ownership and outcomes; may be NULL */
	struct metrics *m;         /**< borrowed; series registered here */
	struct notifier *nt;       /**< borrowed; told of each new serial after its event is
	                              produced, and of the held serial when re-announced
	                              (NOTIFY downstream); may be NULL */
	const char *replica;       /**< borrowed; client.id and the events' replica */
	uint64_t commit_interval_ms; /**< commits are batched at most this often (>= 1) */
	uint64_t revoke_wait_ms;   /**< longest wait for running transfers at revocation */
};

/**
 * Create the consumer, subscribe to kafka.requests-topic and hook it to the loop.
 * @param[in]  o   copied
 * @param[out] out returned owned (consumer_free()); untouched on error
 * @param[out] err reason on error
 * @return 0; ZX_EINVAL bad options; ZX_ECONFIG a kafka.settings property was
 *         rejected; ZX_EKAFKA client or subscription failed; ZX_EIO no pipe or
 *         eventfd; ZX_ENOMEM
 */
ZX_MUSTCHECK int consumer_new(const struct consumer_opts *o, struct consumer **out, char *err,
                              size_t errlen);

/**
 * Leave the group: unsubscribe, revoke every partition as above (wait, commit
 * what is safe; messages still arriving are left to the next owner), then close
 * the Kafka consumer. The loop is not needed for this.
 * @return 0; ZX_EKAFKA the close reported an error (the group still expires us)
 */
ZX_MUSTCHECK int consumer_close(struct consumer *c);

/**
 * Free (after consumer_close(); the engine must be stopped first, since an
 * outcome arriving later would find nothing). NULL ok.
 */
void consumer_free(struct consumer *c);

/**
 * Liveness: health_map_check() over the owned partitions with the consumer's
 * lag (high watermark minus the committed offset, or minus the position when
 * nothing was committed since assignment).
 * @return 0 alive; ZX_ETIMEDOUT a partition with lag did not commit for
 *         xfrd.health.commit-stall (reason in @p why)
 */
ZX_MUSTCHECK int consumer_live(struct consumer *c, char *why, size_t whylen);

/**
 * True once the first assignment (possibly empty) arrived and the store is open.
 * When not, @p why says why: "requests topic T does not exist (...)" when the
 * broker said so for kafka.requests-topic (also logged once as kafka_topic_missing,
 * naming the topic), else "no partition assignment yet" or "closing".
 */
bool consumer_ready(const struct consumer *c, char *why, size_t whylen);

/** Counters for tests and logs. */
struct consumer_stats {
	uint64_t read, invalid, outcomes, events, commits, commit_failures;
	uint64_t assigned, revoked, lost;
	size_t partitions; /**< owned now */
};

void consumer_stats(const struct consumer *c, struct consumer_stats *out);

#endif
