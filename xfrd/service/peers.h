/* SPDX-License-Identifier: MIT */
/* xfrd/service/peers.h -- this replica among the others (Kafka mode): every replica
 * serves every zone.
 *
 * The owner of a zone's partition talks to the primaries; every other replica
 * copies the zone from it (xfrd/service/runtime.h, "Replicas"). This module gives
 * the runtime what it needs for that:
 *
 *   - the replica directory (proto/replicas.h on kafka.replicas-topic): this
 *     replica's record says which partitions it owns (published again after each
 *     change of ownership, coalesced) and where the others reach its DNS endpoint
 *     (xfrd.advertise; else the first xfrd.listen address that is not a wildcard);
 *   - where to copy a zone from (peers_follow_sources(), the runtime's
 *     source.follow_sources): the owner of its partition first, then the others;
 *   - the others' announcements (xfrd/kafka/announce.h): each new serial an owner
 *     stores reaches runtime_announce() at once;
 *   - when to start following: once the directory was read to its end and the
 *     consumer group gave this replica its first assignment (or, when it never
 *     does -- more replicas than partitions --, PEERS_FOLLOW_WAIT_S after that),
 *     so that a cold start does not copy zones it is about to own.
 *
 * Not ready (peers_ready()) until the directory was read to its end and every zone
 * this replica does not own was copied or tried once (runtime_follow_caught_up()).
 *
 * Threading: the loop thread of opts.base.
 */
#ifndef ZX_XFRD_PEERS_H
#define ZX_XFRD_PEERS_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>

struct cfg;
struct cfg_endpoint;
struct event_base;
struct metrics;
struct runtime;
struct peers;
struct zone;

/** Seconds after the directory is read to wait for a first assignment before following. */
#define PEERS_FOLLOW_WAIT_S 10

struct peers_opts {
	const struct cfg *cfg;   /**< borrowed for the call (kafka, xfrd.replica/advertise/listen) */
	struct event_base *base; /**< borrowed */
	struct runtime *rt;      /**< borrowed; must outlive the peers */
	struct metrics *m;       /**< borrowed; may be NULL */
};

/**
 * Join: publish this replica's record, follow the directory and the announcements.
 * @param[out] out  returned owned (peers_free()); untouched on error
 * @return 0; ZX_EINVAL (a bad xfrd.advertise); ZX_ECONFIG, ZX_EKAFKA (@p err); ZX_EIO;
 *         ZX_ENOMEM
 */
ZX_MUSTCHECK int peers_new(const struct peers_opts *o, struct peers **out, char *err,
                           size_t errlen);

/** Leave: a tombstone for this replica's record (waited for up to @p wait_ms), free. NULL ok. */
void peers_free(struct peers *p, int wait_ms);

/** The runtime's ownership changed (after runtime_own()): publish it (soon, coalesced). */
void peers_owned_changed(struct peers *p);

/** True once the directory was read and the first copies made (above); else false, why. */
bool peers_ready(const struct peers *p, char *why, size_t whylen);

/**
 * struct runtime_source's follow_sources (@p ctx is the struct peers): the DNS
 * endpoints of the replicas to copy @p z from, the owner of its partition first,
 * then the others (newest record first), never this replica, at most @p max.
 * @p owner gets the first one's name.
 * @return how many were written (0: nobody to copy from yet)
 */
size_t peers_follow_sources(void *ctx, const struct zone *z, struct cfg_endpoint *out,
                            size_t max, char *owner, size_t owner_len);

#endif
