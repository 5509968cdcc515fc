/* SPDX-License-Identifier: MIT */
/* proto/ctopic.h -- a compacted topic followed from the beginning, and written: the zone
 * registry (proto/regmirror.h) and the replica directory (proto/replicas.h) are two.
 *
 * For each key the latest record stays, and a tombstone (no value) says the key is
 * gone. A follower reads every partition from its first offset, so it sees the whole
 * topic, then goes on with what is written later. It is "caught up" once every
 * partition was read to the end it had when the follower first looked; a process is
 * not ready before. A partition added to the topic later is not followed. Keys are
 * text (at most 255 bytes); a record without one is skipped and counted.
 *
 * The writer produces records idempotently (acks=all) and reports where each one was
 * stored: its partition and offset, which are also where every follower will read it
 * (the REST API uses them as a registry record's version, its ETag).
 *
 * Threading: a follower and a writer belong to the libevent loop they were made with;
 * their callbacks run on it.
 */
#ifndef ZX_PROTO_CTOPIC_H
#define ZX_PROTO_CTOPIC_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cfg_kafka;
struct event_base;
struct ctopic_follow;
struct ctopic_writer;

/** What a follower tells its owner. */
struct ctopic_hooks {
	/**
	 * The record of @p key at @p partition / @p offset: the @p len bytes at @p value,
	 * or @p value NULL for a tombstone. Valid during the call only.
	 */
	void (*record)(void *ctx, const char *key, const uint8_t *value, size_t len,
	               int32_t partition, int64_t offset);
	/** Every partition was read to its end of the first look (once). May be NULL. */
	void (*caught_up)(void *ctx);
	/** Start at each partition's end instead of its beginning: only what is written
	    from now on (a stream of events rather than a table; caught_up then comes at
	    once). */
	bool from_end;
	/** When the broker says the topic does not exist, create it (one partition,
	    cleanup.policy=compact, the broker's replication factor): for a topic only
	    this service uses, as Kafka Connect creates its internal topics. A refused
	    creation (ACLs) is logged (topic_create_failed) and tried again later. */
	bool create;
};

/** A follower's counters. */
struct ctopic_stats {
	uint64_t records, tombstones, bad; /**< bad: records without a usable key */
	int32_t partitions;  /**< followed; 0 while the topic was not found */
	bool caught_up;
	bool topic_missing;  /**< the topic does not exist (yet): looked for again each second */
};

/**
 * Follow @p topic from its beginning on @p base.
 * @param kc        borrowed for the call (brokers, settings)
 * @param topic     borrowed for the call
 * @param client_id borrowed for the call; may be NULL
 * @param hooks     copied; record must be set
 * @param[out] out  returned owned (ctopic_follow_free()); untouched on error
 * @return 0 (the topic may still be missing: see ctopic_follow_stats()); ZX_EINVAL
 *         no record hook; ZX_ECONFIG a kafka.settings property was rejected (@p err);
 *         ZX_EKAFKA the client could not be made; ZX_EIO no pipe; ZX_ENOMEM
 */
ZX_MUSTCHECK int ctopic_follow_new(const struct cfg_kafka *kc, const char *topic,
                                     const char *client_id, struct event_base *base,
                                     const struct ctopic_hooks *hooks, void *ctx,
                                     struct ctopic_follow **out, char *err, size_t errlen);

/** Stop following and free. NULL ok. */
void ctopic_follow_free(struct ctopic_follow *f);

/** True once caught up (see above). */
bool ctopic_caught_up(const struct ctopic_follow *f);

void ctopic_follow_stats(const struct ctopic_follow *f, struct ctopic_stats *out);

/**
 * The offset after the last record handled in @p partition (so a write stored at
 * offset O has been seen once this is > O); -1 none yet or no such partition.
 */
int64_t ctopic_consumed(const struct ctopic_follow *f, int32_t partition);

/** A write's outcome: @p rc 0 with where it was stored, or a ZX_E* code. */
typedef void (*ctopic_written_cb)(void *arg, int rc, int32_t partition, int64_t offset);

/**
 * A producer of the topic's records on @p base.
 * @return 0; ZX_ECONFIG (@p err); ZX_EKAFKA; ZX_EIO; ZX_ENOMEM
 */
ZX_MUSTCHECK int ctopic_writer_new(const struct cfg_kafka *kc, const char *topic,
                                     const char *client_id, struct event_base *base,
                                     struct ctopic_writer **out, char *err, size_t errlen);

/**
 * Wait up to @p timeout_ms for every write to be stored; their callbacks run from
 * within this call (not from the loop). For a last word before ctopic_writer_free().
 */
void ctopic_writer_flush(struct ctopic_writer *w, int timeout_ms);

/** Stop (writes not reported yet are reported with ZX_ESHUTDOWN) and free. NULL ok. */
void ctopic_writer_free(struct ctopic_writer *w);

/**
 * Write the @p len bytes at @p value (copied) under @p key, or with @p value NULL a
 * tombstone. @p cb runs once, on the loop, with the outcome.
 * @param key borrowed
 * @return 0 (cb follows); ZX_EINVAL empty key; ZX_EAGAIN the local queue is full;
 *         ZX_EKAFKA; ZX_ENOMEM (cb does not run)
 */
ZX_MUSTCHECK int ctopic_write(struct ctopic_writer *w, const char *key, const uint8_t *value,
                              size_t len, ctopic_written_cb cb, void *arg);

#endif
