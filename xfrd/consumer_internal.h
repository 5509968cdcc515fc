/* SPDX-License-Identifier: MIT */
/* xfrd/consumer_internal.h -- state shared by consumer.c (the data path: messages,
 * engine hand-off, outcomes, events) and consumer_group.c (the Kafka group:
 * commits, rebalance, liveness, metrics, setup). Not an API: see consumer.h.
 */
#ifndef ZX_XFRD_CONSUMER_INTERNAL_H
#define ZX_XFRD_CONSUMER_INTERNAL_H

#include "proto/events.h"
#include "xfrd/consumer.h"
#include "xfrd/sched.h"
#include "xfrd/updates.h"
#include "xfrd/xfr.h"

#include <event2/util.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct cfg_zone;
struct metrics_hist;
struct metrics_val;

#define CONSUMER_DRAIN_BATCH 500
/** After a failed commit, the next one waits this long (no log or request storm
 * while the coordinator is away; the positions stay and go in the next commit). */
#define CONSUMER_COMMIT_RETRY_MS 1000

/* Per configured zone (indexed like cfg->zones). */
struct zslot {
	int32_t partition; /* of its latest request; -1 none yet */
	bool running;      /* an engine request is out */
	bool announced;    /* an event for its stored serial went out since assignment */
	bool has_hint;     /* a NOTIFY serial read since the zone's last outcome */
	uint32_t hint;     /* the newest such serial (RFC 1982) */
};

/* An outcome handed from a worker thread to the loop. */
struct outcome {
	struct outcome *next;
	const struct cfg_zone *zone;
	struct xfr_result xfr;
};

/* The offsets one outcome finishes, held until its event is delivered. */
struct batch {
	struct updates_ticket t;
	struct consumer *c;
	struct batch *prev, *next; /* c->batches */
	struct sched_ref *refs;
	size_t n, cap;
	bool has_event;
	Zx__Events__ZoneUpdated ev;
	char primary[64];
	char error[ZDB_ERRTEXT_MAX + 64];
};

struct pcount {
	int64_t running; /* zones of the partition with a transfer out */
	int64_t pending; /* finished offsets waiting for their event's delivery */
};

struct consumer {
	struct consumer_opts o;
	rd_kafka_t *rk;
	rd_kafka_queue_t *q;
	int kpipe[2];
	int efd;
	struct event *kev, *oev, *tick;
	pthread_mutex_t mu;
	struct outcome *oq_head, *oq_tail;
	struct offtrack *ot;
	struct sched *s;
	struct health_map *hm;
	struct zslot *zs;
	struct pcount *pc;
	int32_t npc;
	int32_t partitions;
	const struct cfg_zone *cur_zone; /* sched callbacks: the zone being handled */
	struct batch *cur_batch;
	struct batch *batches;
	bool commit_inflight, ready, closing;
	char topic_missing[256]; /* "requests topic T does not exist (...)"; "" when not */
	int64_t commit_after_ms; /* after a failed commit: next try not before (monotonic) */
	int64_t last_scan;
	struct consumer_stats st;
	struct metrics_val *m_req[5], *m_invalid, *m_out[5], *m_commits, *m_commit_fail,
		*m_events, *m_event_fail, *m_rebal[3], *m_refused_serial;
	struct metrics_hist *m_dur[4];
};

int64_t consumer_mono_ms(void);
uint64_t consumer_wall_us(void);
/** Counters of partition @p p (grown on demand; a scratch entry for p < 0 or OOM). */
struct pcount *consumer_pc(struct consumer *c, int32_t p);
struct zslot *consumer_slot(struct consumer *c, const struct cfg_zone *z);

/* consumer.c */
void consumer_drain_outcomes(struct consumer *c);
void consumer_batch_send(struct batch *b);
void consumer_sched_start(void *ctx, const char *zone, unsigned force);
void consumer_batch_add(void *ctx, const char *zone, struct sched_ref ref);
void consumer_sched_cancel(void *ctx, const char *zone);
void consumer_on_kafka(evutil_socket_t fd, short what, void *arg);
void consumer_on_outcome(evutil_socket_t fd, short what, void *arg);
void consumer_on_tick(evutil_socket_t fd, short what, void *arg);

/* consumer_group.c */
void consumer_commit_async(struct consumer *c);

#endif
