/* SPDX-License-Identifier: MIT */
/* common/tsig/tsig_replay.h -- a bounded memory of accepted TSIG-signed requests, so that a
 * captured request sent again within its time window is recognised and refused.
 *
 * TSIG (RFC 8945) proves who signed a message and when, not that it is new: a
 * copy of a signed NOTIFY verifies again, from any source, for as long as its
 * time signed is within the fudge of our clock. This module remembers the
 * requests a server accepted, by (key name, time signed, MAC), for the window in
 * which they could verify again: window = the keyring's max fudge
 * (tsig_keyring_set_max_fudge()), since no request verifies outside
 * |now - time signed| <= max fudge. After that an entry is dead and its slot
 * reused.
 *
 * Life of an entry, driven by the server:
 *   tsig_replay_admit()    NEW: the request is now held, PENDING (notifyd: its
 *                          event goes to Kafka), so copies arriving meanwhile
 *                          are recognised; or a repeat of one PENDING / DONE,
 *                          or HORIZON (nothing held)
 *   tsig_replay_confirm()  it was accepted (Kafka stored the event): DONE
 *   tsig_replay_forget()   it was not (Kafka failed, timed out): the entry goes,
 *                          and the sender's retransmission of the same bytes is
 *                          NEW again, since it never got an answer.
 *
 * Memory: a ring of 2^k entries (at least the entries asked for) in the order
 * they were first held, and an index from a seeded 64-bit hash of key name,
 * time signed and MAC to the ring (the seed is random per process, so nobody can
 * aim collisions; a false match needs two MACs whose hashes collide): 24 bytes
 * an entry, allocated at creation and never grown (262144 entries: 6 MiB).
 * An accepted request costs a hash, one index probe and a ring write to admit,
 * and one ring read (through the id's position hint) to confirm.
 *
 * When the ring is full, a new entry takes the place of the oldest one. If that
 * one is still live, its time signed raises the horizon: from then on every
 * request signed at or before the horizon is answered HORIZON (refuse it: it may
 * be a replay of the dropped entry). So a full memory never lets a replay
 * through; it narrows the window instead, to about the time the ring takes to
 * turn over (262144 entries: 26 s at 10,000 accepted signed requests per
 * second). A primary's fresh request is refused only when that is shorter than
 * its clock skew. Counted in tsig_replay_stats.evicted.
 *
 * No clock is read here: times are arguments (seconds since the epoch).
 *
 * Threading: one struct tsig_replay belongs to one thread (notifyd's loop).
 */
#ifndef ZX_COMMON_TSIG_REPLAY_H
#define ZX_COMMON_TSIG_REPLAY_H

#include "common/err.h"

#include <stddef.h>
#include <stdint.h>

struct tsig_request;
struct tsig_replay;

/** What tsig_replay_check() found. */
enum tsig_replay_seen {
	TSIG_REPLAY_NEW = 0, /**< not seen in the window: act on it */
	TSIG_REPLAY_PENDING, /**< a copy is being acted on (held, not yet confirmed) */
	TSIG_REPLAY_DONE,    /**< a copy was accepted: this is a replay */
	TSIG_REPLAY_HORIZON, /**< signed at or before the horizon of a full table: maybe a replay */
};

/** A request as the memory knows it: plain data, kept by the caller between calls. */
struct tsig_replay_id {
	uint64_t hash;        /**< seeded hash of key name, time signed and MAC; never 0 */
	uint64_t time_signed; /**< the request's, seconds */
	uint32_t slot;        /**< where it was held + 1, a hint (0: unknown) */
};

struct tsig_replay_stats {
	uint64_t held;      /**< requests held (tsig_replay_admit() said NEW) */
	uint64_t confirmed; /**< tsig_replay_confirm() calls */
	uint64_t forgotten; /**< tsig_replay_forget() calls that found their entry */
	uint64_t evicted;   /**< live entries dropped because the table was full */
	uint64_t horizon;   /**< the horizon: highest time signed of an evicted entry; 0 none */
};

/**
 * Make an empty memory.
 * @param entries  at least this many requests are kept (rounded up to a power of two,
 *                 at least 64); 1 << 24 at most
 * @param window_s seconds an entry lives past its time signed (the keyring's max fudge)
 * @param seed     hash seed (random per process; fixed in tests)
 * @param[out] out returned owned (tsig_replay_free()); untouched on error
 * @return 0; ZX_EINVAL @p entries 0 or above 1 << 24; ZX_ENOMEM
 */
ZX_MUSTCHECK int tsig_replay_new(size_t entries, uint32_t window_s, uint64_t seed,
                                 struct tsig_replay **out);

/** Free @p r. NULL ok. */
void tsig_replay_free(struct tsig_replay *r);

/** Change the window (the keyring's max fudge after a reload); entries are kept. */
void tsig_replay_set_window(struct tsig_replay *r, uint32_t window_s);

/**
 * The identity of a request that tsig_verify() accepted (0 returned).
 * @param req borrowed for the call: key name, time signed, MAC
 */
struct tsig_replay_id tsig_replay_id(const struct tsig_replay *r, const struct tsig_request *req);

/**
 * Has this request been seen within the window? (Looks only.)
 * @param now seconds since the epoch
 * @return enum tsig_replay_seen (see there); HORIZON wins over NEW only
 */
enum tsig_replay_seen tsig_replay_check(const struct tsig_replay *r,
                                        const struct tsig_replay_id *id, uint64_t now);

/**
 * As tsig_replay_check(), and a NEW request is held (PENDING) at once; when the
 * ring is full the oldest entry goes (see above).
 * @param[in,out] id its slot hint is set
 * @return NEW (now held: confirm or forget it later); PENDING; DONE; HORIZON
 */
enum tsig_replay_seen tsig_replay_admit(struct tsig_replay *r, struct tsig_replay_id *id,
                                        uint64_t now);

/**
 * The request was accepted: DONE. Dropped from a full ring meanwhile, it is not
 * needed any more (the horizon covers it).
 */
void tsig_replay_confirm(struct tsig_replay *r, struct tsig_replay_id *id, uint64_t now);

/** The request was not accepted after all: forget it (a later copy is NEW). */
void tsig_replay_forget(struct tsig_replay *r, const struct tsig_replay_id *id);

/** Counters since creation. */
struct tsig_replay_stats tsig_replay_stats(const struct tsig_replay *r);

#endif
