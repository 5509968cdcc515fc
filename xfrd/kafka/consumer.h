/* SPDX-License-Identifier: MIT */
/* xfrd/kafka/consumer.h -- the Kafka mode's request source: the consumer group on the
 * requests topic, in-order offset commits, and the events of each outcome.
 *
 * xfrd replicas share the requests topic as one consumer group
 * (partition.assignment.strategy=cooperative-sticky, enable.auto.commit=false,
 * enable.auto.offset.store=false, auto.offset.reset=earliest). Per message:
 *
 *   read --> offtrack_read --> sink.request (the zone runtime, xfrd/service/runtime.h: one
 *   transfer running and one scheduled per zone, folding) ... the runtime's
 *   outcome --> consumer_outcome(): the requests it finished, a ZoneUpdated event
 *   produced, its delivery report awaited --> offtrack_done --> batched
 *   asynchronous rd_kafka_commit of offtrack_committable() every commit interval.
 *
 * The consumer is also the runtime's way out to Kafka: consumer_refresh_due()
 * produces the REFRESH request of a zone whose timer is due (it comes back
 * through the topic like a NOTIFY's, so a crash after it was produced loses
 * nothing), consumer_expired() the EXPIRED event of a zone past its expire.
 *
 * The invariant: an offset is committed only after its zone reached at least
 * the serial it asked for, was found up to date, or failed for good (recorded
 * by the engine and announced by a FAILED event); offtrack keeps the commit
 * below any unfinished offset. A SIGKILL at any point therefore makes the next
 * owner read again every request not known finished. The runtime re-announces
 * the stored serial of a zone once after each assignment (an up-to-date outcome
 * with announce set), so an event lost by a crash between the LMDB commit and
 * its delivery is produced by the replica that redoes the request.
 *
 * Rebalance (cooperative): assigned partitions start at the group's committed
 * offsets and are handed to the runtime (sink.own: its zones' timers start). On
 * revocation the runtime drops the partition's requests and timers (nothing new
 * starts for its zones), the transfers of its zones still running are waited
 * for (bounded by revoke_wait_ms, events delivered, outcomes handled
 * meanwhile), what is finished is committed synchronously, and the rest is left
 * to the next owner, which only gets the partition once this callback returned:
 * no zone is transferred by two replicas at once unless a transfer outlives
 * revoke_wait_ms (logged as revoke_wait_timeout). A lost assignment (session
 * timeout: Kafka unreachable, or this process too slow to heartbeat) drops the
 * requests at once (sink.lost): nothing can be committed any more, and the next
 * owner reads them again; the zones' refresh timers go on until the group assigns
 * partitions again (sink.regrouped), so refreshes falling due during a Kafka outage
 * are asked for, fail, and are counted and shown overdue rather than silently
 * skipped.
 *
 * Kafka's reachability (consumer_watch.c): a thread asks a broker for metadata
 * every CONSUMER_WATCH_INTERVAL_MS; no answer for CONSUMER_KAFKA_DOWN_MS is an
 * outage, logged once as kafka_unreachable (brokers, error) and once more as
 * kafka_reachable (outage_s, refresh_requests_failed) when a broker answers again;
 * xfrd_kafka_reachable says it too, readiness fails meanwhile, liveness does not.
 *
 * Consumer defaults (kafka.settings override any): fetch.wait.max.ms=100 (the
 * broker answers a waiting fetch as soon as a request arrives, so this bounds
 * only idle polling, not latency), socket.nagle.disable=true,
 * session.timeout.ms=10000 and heartbeat.interval.ms=1000 (a dead replica's
 * partitions move after 10 s; set group.instance.id per replica for static
 * membership, which hands a restarted replica its partitions back at once).
 *
 * Threading: everything runs on the loop thread of @c base.
 */
#ifndef ZX_XFRD_CONSUMER_H
#define ZX_XFRD_CONSUMER_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cfg;
struct consumer;
struct event_base;
struct metrics;
struct updates;
struct xfr_result;
struct zdb_zone_info;
struct zone;
struct zone_req;

/** The zone runtime as the consumer drives it (xfrd/service/runtime.h; tests put fakes in). */
struct consumer_sink {
	/** A request read: 0 scheduled; ZX_ENOTFOUND no such zone (finished at once). */
	int (*request)(void *ctx, const char *zone, const struct zone_req *req, unsigned flags,
	               int origin);
	/** The requests topic has @p count partitions. */
	void (*set_partitions)(void *ctx, int32_t count);
	/** This replica took (@p owned) or lost @p partition. */
	void (*own)(void *ctx, int32_t partition, bool owned);
	/**
	 * @p partition was lost with Kafka (the session timed out: not handed over to
	 * anyone yet): as own(false), but its zones' refresh timers run on, so a refresh
	 * due while Kafka is away is asked for (and fails, counted, and the zone shown
	 * overdue) until own() takes it back or regrouped() says another replica has it.
	 * NULL: own(false).
	 */
	void (*lost)(void *ctx, int32_t partition);
	/** An assignment arrived: zones of lost partitions not assigned here stop. NULL ok. */
	void (*regrouped)(void *ctx);
	/** Zones of @p partition with a transfer running. */
	size_t (*running_in)(void *ctx, int32_t partition);
	/** Handle queued outcomes, waiting up to @p timeout_ms for one. */
	void (*poll_outcomes)(void *ctx, int timeout_ms);
	/** A REFRESH request for @p zone was not stored by Kafka (@p rc: ZX_ETIMEDOUT,
	 *  ZX_EKAFKA): ask again later. */
	void (*refresh_lost)(void *ctx, const char *zone, int rc);
	void *ctx;
};

struct consumer_opts {
	const struct cfg *cfg;     /**< borrowed; the kafka section */
	struct event_base *base;   /**< borrowed; the loop everything runs on */
	struct consumer_sink sink; /**< copied; every member set */
	struct updates *up;        /**< borrowed; ZoneUpdated events and REFRESH requests */
	struct metrics *m;         /**< borrowed; series registered here */
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
 *         rejected; ZX_EKAFKA client or subscription failed; ZX_EIO no pipe;
 *         ZX_ENOMEM
 */
ZX_MUSTCHECK int consumer_new(const struct consumer_opts *o, struct consumer **out, char *err,
                              size_t errlen);

/**
 * The runtime's outcome of @p z's transfer (struct runtime_source's outcome):
 * finish @p done (offsets, after the event when @p announce), announce @p r.
 */
void consumer_outcome(struct consumer *c, struct zone *z, const struct xfr_result *r,
                      bool announce, const struct zone_req *done, size_t ndone);

/**
 * Produce a REFRESH request for @p z (struct runtime_source's refresh_due). A request
 * that fails is logged (refresh_request_failed with the topic and the brokers: at
 * warn, at debug while Kafka is known unreachable, whose outage is logged once).
 * @return 0 queued (a failed delivery calls sink.refresh_lost); ZX_EAGAIN, ZX_EKAFKA,
 *         ZX_ENOMEM not queued
 */
ZX_MUSTCHECK int consumer_refresh_due(struct consumer *c, struct zone *z);

/** Announce that @p z expired (struct runtime_source's expired): an EXPIRED event. */
void consumer_expired(struct consumer *c, struct zone *z, const struct zdb_zone_info *info);

/**
 * Announce that the zone @p info names was removed (struct runtime_source's removed):
 * a REMOVED event from this replica, whose store now holds it as REMOVED.
 */
void consumer_removed(struct consumer *c, const struct zdb_zone_info *info);

/**
 * Leave the group: unsubscribe, revoke every partition as above (wait, commit
 * what is safe; messages still arriving are left to the next owner), then close
 * the Kafka consumer. The loop is not needed for this.
 * @return 0; ZX_EKAFKA the close reported an error (the group still expires us)
 */
ZX_MUSTCHECK int consumer_close(struct consumer *c);

/**
 * Free (after consumer_close() and after the runtime's last outcome). NULL ok.
 */
void consumer_free(struct consumer *c);

/**
 * Liveness: health_map_check() over the owned partitions with the requests each
 * holds (read, not finished: offtrack_in_flight()); xfrd/kafka/health.h has the
 * rules. While Kafka is unreachable nothing counts as stuck (every clock held):
 * 0, and @p why says "Kafka unreachable: not a liveness failure".
 * @return 0 alive; ZX_ETIMEDOUT a partition held requests and finished none for
 *         xfrd.health.commit-stall (reason in @p why)
 */
ZX_MUSTCHECK int consumer_live(struct consumer *c, char *why, size_t whylen);

/**
 * Readiness, by health_ready()'s rules (xfrd/kafka/health.h) from what the consumer
 * knows: closing; the requests topic missing ("requests topic T does not exist
 * (...)", logged once as kafka_topic_missing); Kafka unreachable ("Kafka unreachable
 * for S s (brokers B: error)": no metadata answer for CONSUMER_KAFKA_DOWN_MS);
 * no assignment yet or the last one lost; with no partition, whether the group's
 * other members hold them all. @p why says why not (or, ready with no partition,
 * why that is fine); "" when ready with partitions.
 */
bool consumer_ready(const struct consumer *c, char *why, size_t whylen);

/** Kafka is known unreachable now (the watch's verdict; logged kafka_unreachable). */
bool consumer_kafka_down(const struct consumer *c);

/** Counters for tests and logs. */
struct consumer_stats {
	uint64_t read, invalid, outcomes, events, commits, commit_failures;
	uint64_t assigned, revoked, lost;
	uint64_t refresh_failed; /**< REFRESH requests Kafka did not take */
	size_t partitions; /**< owned now */
};

void consumer_stats(const struct consumer *c, struct consumer_stats *out);

#endif
