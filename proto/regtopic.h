/* SPDX-License-Identifier: MIT */
/* proto/regtopic.h -- the registry topic (proto/registry.proto): followed from the
 * beginning by every process, written by xfrd's REST API.
 *
 * The topic is compacted: for each zone (the key) the latest record stays, and a
 * tombstone (no value) says the zone was removed. A follower reads every partition
 * from its first offset, so it sees the whole registry, then goes on with what is
 * written later. It is "caught up" once every partition was read to the end it had
 * when the follower first looked (its high watermark then); a process is not ready
 * before. A partition added to the topic later is not followed.
 *
 * A record that does not decode is skipped (counted, logged once per partition and
 * offset): the registry's writers check what they write; a reader cannot fix it.
 *
 * The writer produces records idempotently (acks=all) and reports where each one was
 * stored: its partition and offset, which are also where every follower will read it,
 * so the REST API uses them as the record's version (its ETag).
 *
 * Threading: a follower and a writer belong to the libevent loop they were made with;
 * their callbacks run on it.
 */
#ifndef ZX_PROTO_REGTOPIC_H
#define ZX_PROTO_REGTOPIC_H

#include "common/err.h"
#include "proto/registry.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cfg_kafka;
struct event_base;
struct regtopic_follow;
struct regtopic_writer;

/** What a follower tells its owner. */
struct regtopic_hooks {
	/**
	 * The record of @p zone (the message key) at @p partition / @p offset: @p rec
	 * the zone's settings decoded from the @p len bytes at @p raw, or NULL (and @p raw
	 * NULL) for a tombstone (removed). Valid during the call only.
	 */
	void (*record)(void *ctx, const char *zone, const Zx__Registry__Zone *rec,
	               const uint8_t *raw, size_t len, int32_t partition, int64_t offset);
	/** Every partition was read to its end of the first look (once). May be NULL. */
	void (*caught_up)(void *ctx);
};

/** A follower's counters. */
struct regtopic_stats {
	uint64_t records, tombstones, bad;
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
 * @param[out] out  returned owned (regtopic_follow_free()); untouched on error
 * @return 0 (the topic may still be missing: see regtopic_follow_stats()); ZX_EINVAL
 *         no record hook; ZX_ECONFIG a kafka.settings property was rejected (@p err);
 *         ZX_EKAFKA the client could not be made; ZX_EIO no pipe; ZX_ENOMEM
 */
ZX_MUSTCHECK int regtopic_follow_new(const struct cfg_kafka *kc, const char *topic,
                                     const char *client_id, struct event_base *base,
                                     const struct regtopic_hooks *hooks, void *ctx,
                                     struct regtopic_follow **out, char *err, size_t errlen);

/** Stop following and free. NULL ok. */
void regtopic_follow_free(struct regtopic_follow *f);

/** True once caught up (see above). */
bool regtopic_caught_up(const struct regtopic_follow *f);

void regtopic_follow_stats(const struct regtopic_follow *f, struct regtopic_stats *out);

/**
 * The offset after the last record handled in @p partition (so a write stored at
 * offset O has been seen once this is > O); -1 none yet or no such partition.
 */
int64_t regtopic_consumed(const struct regtopic_follow *f, int32_t partition);

/** A write's outcome: @p rc 0 with where it was stored, or a ZX_E* code. */
typedef void (*regtopic_written_cb)(void *arg, int rc, int32_t partition, int64_t offset);

/**
 * A producer of registry records on @p base.
 * @return 0; ZX_ECONFIG (@p err); ZX_EKAFKA; ZX_EIO; ZX_ENOMEM
 */
ZX_MUSTCHECK int regtopic_writer_new(const struct cfg_kafka *kc, const char *topic,
                                     const char *client_id, struct event_base *base,
                                     struct regtopic_writer **out, char *err, size_t errlen);

/** Stop (writes not reported yet are reported with ZX_ESHUTDOWN) and free. NULL ok. */
void regtopic_writer_free(struct regtopic_writer *w);

/**
 * Write @p rec (packed here; its name is the key), or with @p rec NULL a tombstone for
 * @p zone. @p cb runs once, on the loop, with the outcome.
 * @param zone the key: the zone's canonical name with the trailing dot; borrowed
 * @return 0 (cb follows); ZX_EINVAL empty zone; ZX_EAGAIN the local queue is full;
 *         ZX_EKAFKA; ZX_ENOMEM (cb does not run)
 */
ZX_MUSTCHECK int regtopic_write(struct regtopic_writer *w, const char *zone,
                                Zx__Registry__Zone *rec, regtopic_written_cb cb, void *arg);

#endif
