/* SPDX-License-Identifier: MIT */
/* proto/replicas.h -- the replica directory (proto/replicas.proto): which xfrd replicas run,
 * their DNS endpoints, and who owns each partition of the requests topic.
 *
 * Every xfrd replica publishes its own record (name, advertised endpoint, the
 * partitions it owns; keyed "kafka.group/name", so that consumer groups sharing
 * the topic never see each other's replicas) at start and after every rebalance, reads everyone's from the
 * beginning of the compacted topic and follows it. A clean stop publishes a
 * tombstone. The directory answers "who owns partition P" (the newest claim wins:
 * during a rebalance two records may name the same partition for a moment; a
 * replica that died without a tombstone keeps its record until its partitions are
 * claimed by others) and "where are the others", which is how a replica that does
 * not own a zone finds where to copy it from (xfrd/service/runtime.h).
 *
 * Threading: the loop thread of the event_base it was made with.
 */
#ifndef ZX_PROTO_REPLICAS_H
#define ZX_PROTO_REPLICAS_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct cfg_kafka;
struct event_base;
struct replicas;

/** One replica as the directory knows it. Borrowed from the directory until it changes. */
struct replica_info {
	const char *name;
	const char *endpoint_text;         /**< "addr@port" */
	struct sockaddr_storage endpoint;  /**< parsed; len 0 when the text did not parse */
	socklen_t endpoint_len;
	uint64_t updated_us;
	bool self;
};

/** Hooks of replicas_new(). */
struct replicas_hooks {
	/** The directory changed (a record or a tombstone read). May be NULL. */
	void (*changed)(void *ctx);
	/** The topic was read to its end of the first look (once). May be NULL. */
	void (*caught_up)(void *ctx);
};

/**
 * Follow the directory on @p topic and publish this replica's record there.
 * @param kc        brokers, settings, the group; borrowed for the call
 * @param self      this replica's name; copied
 * @param endpoint  this replica's advertised DNS endpoint "addr@port", or "" when it has
 *                  none (others then cannot copy from it); copied
 * @param hooks     copied; may be NULL
 * @param[out] out  returned owned (replicas_free()); untouched on error
 * @return 0; ZX_EINVAL bad endpoint or empty name; ZX_ECONFIG, ZX_EKAFKA (@p err);
 *         ZX_EIO; ZX_ENOMEM
 */
ZX_MUSTCHECK int replicas_new(const struct cfg_kafka *kc, const char *topic, const char *self,
                              const char *endpoint, struct event_base *base,
                              const struct replicas_hooks *hooks, void *ctx,
                              struct replicas **out, char *err, size_t errlen);

/**
 * Stop: publish this replica's tombstone (waited for up to @p wait_ms) and free.
 * NULL ok.
 */
void replicas_free(struct replicas *r, int wait_ms);

/**
 * Publish this replica's record owning @p parts (@p n of them; copied): at start
 * with none, and after each rebalance. A failed write is logged and written again
 * with the next publish or within a second.
 */
void replicas_publish(struct replicas *r, const int32_t *parts, size_t n);

/** True once the directory was read to its end. */
bool replicas_caught_up(const struct replicas *r);

/** The replica that owns @p partition (the newest claim); NULL when nobody claims it. */
const struct replica_info *replicas_owner(const struct replicas *r, int32_t partition);

/** The replica named @p name; NULL when unknown. */
const struct replica_info *replicas_find(const struct replicas *r, const char *name);

/**
 * Every known replica but this one, newest record first, into @p out (at most @p max).
 * @return how many were written
 */
size_t replicas_others(const struct replicas *r, const struct replica_info **out, size_t max);

/** Replicas known, this one included. */
size_t replicas_count(const struct replicas *r);

#endif
