/* SPDX-License-Identifier: MIT */
/* xfrd/kafka/consumer_internal.h -- state shared by consumer.c (the data path: messages,
 * outcomes, events, refresh requests) and consumer_group.c (the Kafka group:
 * commits, rebalance, liveness, metrics, setup). Not an API: see consumer.h.
 */
#ifndef ZX_XFRD_CONSUMER_INTERNAL_H
#define ZX_XFRD_CONSUMER_INTERNAL_H

#include "common/dname.h"
#include "common/kafka/kafka.h"
#include "common/store/zdb.h"
#include "proto/events.h"
#include "xfrd/kafka/consumer.h"
#include "xfrd/kafka/health.h"
#include "xfrd/kafka/updates.h"
#include "xfrd/xfr/xfr.h"
#include "xfrd/zone/zone.h"

#include <event2/util.h>
#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdint.h>

struct metrics_val;

#define CONSUMER_DRAIN_BATCH 500
/** After a failed commit, the next one waits this long (no log or request storm
 * while the coordinator is away; the positions stay and go in the next commit). */
#define CONSUMER_COMMIT_RETRY_MS 1000
/** Kafka's reachability (consumer_watch.c): a metadata probe this often, each
 * waiting at most CONSUMER_WATCH_TIMEOUT_MS for an answer; Kafka is unreachable once
 * none answered for CONSUMER_KAFKA_DOWN_MS (two or three probes: one lost answer is
 * no outage). */
#define CONSUMER_WATCH_INTERVAL_MS 1000
#define CONSUMER_WATCH_TIMEOUT_MS 2000
#define CONSUMER_KAFKA_DOWN_MS 5000

/* The offsets one outcome finishes, held until its event is delivered. */
struct batch {
	struct updates_ticket t;
	struct consumer *c;
	struct batch *prev, *next; /* c->batches */
	struct zone_req *refs;
	size_t n, cap;
	bool has_event;
	Zx__Events__ZoneUpdated ev;
	char zone[DNAME_TEXTLEN]; /* the event's: the zone may go before it is delivered */
	char primary[64];
	char error[ZDB_ERRTEXT_MAX + 64];
};

/** Why a REFRESH request failed: the label reason of xfrd_refresh_send_failures_total. */
enum consumer_ask_fail {
	CONSUMER_ASK_UNREACHABLE, /**< not sent: Kafka known unreachable */
	CONSUMER_ASK_QUEUE_FULL,  /**< the producer's queue was full */
	CONSUMER_ASK_TIMEOUT,     /**< not stored within message.timeout.ms */
	CONSUMER_ASK_KAFKA,       /**< another Kafka error */
	CONSUMER_ASK_NOMEM,
	CONSUMER_ASK_COUNT
};

struct pcount {
	int64_t pending; /* finished offsets waiting for their event's delivery */
};

/* A REFRESH request in flight (the zone may go meanwhile: kept by name). */
struct ask {
	struct updates_ticket t;
	struct consumer *c;
	char zone[];
};

struct consumer {
	struct consumer_opts o;
	struct lagstats *lag; /* xfrd_kafka_consumer_lag from librdkafka's statistics */
	struct kafka_errlog errlog; /* its errors, each logged once (common/kafka/kafka.h) */
	rd_kafka_t *rk;
	rd_kafka_queue_t *q;
	int kpipe[2];
	struct event *kev, *tick;
	struct offtrack *ot;
	struct health_map *hm;
	struct pcount *pc;
	int32_t npc;
	int32_t partitions;
	struct batch *batches;
	bool commit_inflight, closing;
	char topic_missing[256]; /* "requests topic T does not exist (...)"; "" when not */
	int64_t commit_after_ms; /* after a failed commit: next try not before (monotonic) */
	/* readiness: assigned/lost kept by the rebalance, the group by the watch */
	struct health_ready_in ready_in;
	/* Kafka's reachability (consumer_watch.c) */
	struct cwatch *w;
	bool kafka_down;
	int64_t down_since_ms;         /* monotonic: the last answer before the outage */
	uint64_t down_refresh_failed;  /* st.refresh_failed when it began */
	char kafka_why[320];           /* "brokers B: error" */
	struct consumer_stats st;
	struct metrics_val *m_invalid, *m_commits, *m_commit_fail, *m_events, *m_event_fail,
		*m_rebal[3], *m_ask_fail[CONSUMER_ASK_COUNT];
};

/** Counters of partition @p p (grown on demand; a scratch entry for p < 0 or OOM). */
struct pcount *consumer_pc(struct consumer *c, int32_t p);

/* consumer.c */
void consumer_batch_send(struct batch *b);
void consumer_on_kafka(evutil_socket_t fd, short what, void *arg);
void consumer_on_tick(evutil_socket_t fd, short what, void *arg);

/* consumer_group.c */
void consumer_commit_async(struct consumer *c);

/* consumer_watch.c */
struct cwatch;
/** Start the watch thread (after the client exists). @return 0; ZX_ENOMEM */
int consumer_watch_start(struct consumer *c);
/** Stop and join the thread (before the client is closed); again: nothing. */
void consumer_watch_stop(struct consumer *c);
/** Stop and free; NULL watch ok. */
void consumer_watch_free(struct consumer *c);
/** A rebalance happened: what the watch knew of the group is stale. */
void consumer_watch_rebalanced(struct consumer *c);
/** On the loop: read the watch, log Kafka going away or coming back, fill ready_in. */
void consumer_watch_tick(struct consumer *c);

#endif
