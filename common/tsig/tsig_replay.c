/* SPDX-License-Identifier: MIT */
/* common/tsig/tsig_replay.c -- the requests accepted lately, in order of arrival.
 *
 * A ring of entries in the order they were first held, and an open-addressing
 * index (linear probing, at most half full, backward-shift deletion) from a
 * request's hash to its ring position, with 32 bits of the hash beside the
 * position so that a probe reads the ring only for a likely match. A new entry
 * takes the ring's oldest slot; if that one is still live, its time signed
 * raises the horizon. Since requests arrive roughly in the order they were
 * signed, the horizon then trails "now" by about the time the ring takes to turn
 * over; a table that dropped entries in any other order (the oldest of a few
 * probed slots, say) pushes it up to "now" after a few thousand evictions and
 * refuses everything fresh.
 *
 * Cost per accepted request (what notifyd pays per signed NOTIFY): a hash of
 * about 50 bytes; tsig_replay_admit() one index probe (to an empty slot, for a
 * new request) and one sequential ring write, plus one index deletion when the
 * ring is full; tsig_replay_confirm() one ring read through the position hint.
 */
#include "common/tsig/tsig_replay.h"

#include "common/tsig/tsig.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ENTRIES ((size_t)1 << 24)

enum { ST_EMPTY = 0, ST_PENDING = 1, ST_DONE = 2 };

struct entry {
	uint64_t hash; /**< 0: not in the index */
	uint64_t word; /**< time signed << 2 | state */
};

struct islot {
	uint32_t pos1; /**< ring position + 1; 0 empty */
	uint32_t tag;  /**< the hash's high half */
};

struct tsig_replay {
	uint64_t seed;
	uint32_t window;
	size_t mask;         /**< ring size - 1 */
	size_t imask;        /**< index size - 1 (twice the ring) */
	uint64_t head;       /**< ring position the next entry takes (counts up) */
	struct entry *ring;
	struct islot *index;
	struct tsig_replay_stats st;
};

static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static uint64_t absorb(uint64_t h, const uint8_t *p, size_t len)
{
	while (len >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		h = mix(h ^ w) + 0x9e3779b97f4a7c15ull;
		p += 8;
		len -= 8;
	}
	uint64_t w = 0;
	memcpy(&w, p, len);
	return mix(h ^ w ^ ((uint64_t)len << 56));
}

int tsig_replay_new(size_t entries, uint32_t window_s, uint64_t seed, struct tsig_replay **out)
{
	if (entries == 0 || entries > MAX_ENTRIES) {
		return ZX_EINVAL;
	}
	size_t n = 64;
	while (n < entries) {
		n <<= 1;
	}
	struct tsig_replay *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		return ZX_ENOMEM;
	}
	r->ring = calloc(n, sizeof(*r->ring));
	r->index = calloc(2 * n, sizeof(*r->index));
	if (r->ring == NULL || r->index == NULL) {
		tsig_replay_free(r);
		return ZX_ENOMEM;
	}
	r->seed = seed;
	r->window = window_s;
	r->mask = n - 1;
	r->imask = 2 * n - 1;
	*out = r;
	return 0;
}

void tsig_replay_free(struct tsig_replay *r)
{
	if (r != NULL) {
		free(r->ring);
		free(r->index);
		free(r);
	}
}

void tsig_replay_set_window(struct tsig_replay *r, uint32_t window_s)
{
	r->window = window_s;
}

struct tsig_replay_id tsig_replay_id(const struct tsig_replay *r, const struct tsig_request *req)
{
	uint64_t h = mix(r->seed ^ req->time_signed);
	h = absorb(h, req->key_name, req->key_name_len);
	h = absorb(h, req->mac, req->mac_len);
	return (struct tsig_replay_id){.hash = h != 0 ? h : 1, .time_signed = req->time_signed};
}

static uint64_t e_time(const struct entry *e)
{
	return e->word >> 2;
}

static unsigned e_state(const struct entry *e)
{
	return (unsigned)(e->word & 3u);
}

/* Live: in use and still within its window (a copy could still verify). */
static bool live(const struct tsig_replay *r, const struct entry *e, uint64_t now)
{
	return e_state(e) != ST_EMPTY && e_time(e) + r->window >= now;
}

/* The index slot of @p hash (*found), or the empty slot that ends its probe. */
static size_t islot_find(const struct tsig_replay *r, uint64_t hash, bool *found)
{
	uint32_t tag = (uint32_t)(hash >> 32);
	size_t i = hash & r->imask;
	for (; r->index[i].pos1 != 0; i = (i + 1) & r->imask) {
		if (r->index[i].tag == tag && r->ring[r->index[i].pos1 - 1].hash == hash) {
			*found = true;
			return i;
		}
	}
	*found = false;
	return i;
}

/* Remove index slot @p i, moving later entries of the probe back (no tombstones). */
static void index_del(struct tsig_replay *r, size_t i)
{
	size_t j = i;
	for (;;) {
		j = (j + 1) & r->imask;
		if (r->index[j].pos1 == 0) {
			break;
		}
		size_t home = r->ring[r->index[j].pos1 - 1].hash & r->imask;
		/* j moves into the hole at i unless its home lies cyclically in (i, j] */
		bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (!stays) {
			r->index[i] = r->index[j];
			i = j;
		}
	}
	r->index[i].pos1 = 0;
}

/* Drop @p e from the index (it keeps its ring place until the ring comes round). */
static void unindex(struct tsig_replay *r, struct entry *e)
{
	bool found;
	size_t i = islot_find(r, e->hash, &found);
	if (found) {
		index_del(r, i);
	}
	e->hash = 0;
}

/* The entry of @p id: through its position hint, else the index. */
static struct entry *lookup(const struct tsig_replay *r, const struct tsig_replay_id *id)
{
	struct entry *e = NULL;
	if (id->slot != 0 && id->slot - 1 <= r->mask && r->ring[id->slot - 1].hash == id->hash) {
		e = &r->ring[id->slot - 1];
	} else {
		bool found;
		size_t i = islot_find(r, id->hash, &found);
		e = found ? &r->ring[r->index[i].pos1 - 1] : NULL;
	}
	return e != NULL && e_time(e) == id->time_signed ? e : NULL;
}

enum tsig_replay_seen tsig_replay_check(const struct tsig_replay *r,
                                        const struct tsig_replay_id *id, uint64_t now)
{
	const struct entry *e = lookup(r, id);
	if (e != NULL && live(r, e, now)) {
		return e_state(e) == ST_PENDING ? TSIG_REPLAY_PENDING : TSIG_REPLAY_DONE;
	}
	if (r->st.horizon != 0 && id->time_signed <= r->st.horizon) {
		return TSIG_REPLAY_HORIZON;
	}
	return TSIG_REPLAY_NEW;
}

/* A new entry in the ring's oldest place (a live one there moves the horizon:
 * whatever was signed before it can no longer be told from a replay). */
static void push(struct tsig_replay *r, struct tsig_replay_id *id, unsigned state, uint64_t now)
{
	struct entry *e = &r->ring[r->head & r->mask];
	if (e->hash != 0) {
		if (live(r, e, now)) {
			r->st.evicted++;
			if (e_time(e) > r->st.horizon) {
				r->st.horizon = e_time(e);
			}
		}
		unindex(r, e);
	}
	bool found;
	size_t i = islot_find(r, id->hash, &found); /* after the deletion: it may move slots */
	e->hash = id->hash;
	e->word = id->time_signed << 2 | state;
	id->slot = (uint32_t)(r->head & r->mask) + 1;
	r->index[i] = (struct islot){.pos1 = id->slot, .tag = (uint32_t)(id->hash >> 32)};
	r->head++;
}

enum tsig_replay_seen tsig_replay_admit(struct tsig_replay *r, struct tsig_replay_id *id,
                                        uint64_t now)
{
	struct entry *e = lookup(r, id);
	if (e != NULL && live(r, e, now)) {
		id->slot = (uint32_t)(e - r->ring) + 1;
		return e_state(e) == ST_PENDING ? TSIG_REPLAY_PENDING : TSIG_REPLAY_DONE;
	}
	if (r->st.horizon != 0 && id->time_signed <= r->st.horizon) {
		return TSIG_REPLAY_HORIZON;
	}
	bool found;
	size_t i = islot_find(r, id->hash, &found);
	if (found) { /* dead, forgotten, or another time signed with this hash */
		r->ring[r->index[i].pos1 - 1].hash = 0;
		index_del(r, i);
	}
	r->st.held++;
	push(r, id, ST_PENDING, now);
	return TSIG_REPLAY_NEW;
}

void tsig_replay_confirm(struct tsig_replay *r, struct tsig_replay_id *id, uint64_t now)
{
	r->st.confirmed++;
	struct entry *e = lookup(r, id);
	if (e != NULL) {
		e->word = id->time_signed << 2 | ST_DONE;
		return;
	}
	/* dropped from a full ring meanwhile: at or before the horizon it is refused
	 * anyway; after it, it must be remembered again */
	if (id->time_signed > r->st.horizon) {
		bool found;
		size_t i = islot_find(r, id->hash, &found);
		if (found) {
			r->ring[r->index[i].pos1 - 1].hash = 0;
			index_del(r, i);
		}
		push(r, id, ST_DONE, now);
	}
}

void tsig_replay_forget(struct tsig_replay *r, const struct tsig_replay_id *id)
{
	struct entry *e = lookup(r, id);
	if (e != NULL && e_state(e) != ST_EMPTY) {
		r->st.forgotten++;
		e->word = e->word >> 2 << 2; /* stays in the ring and the index until reused */
	}
}

struct tsig_replay_stats tsig_replay_stats(const struct tsig_replay *r)
{
	return r->st;
}
