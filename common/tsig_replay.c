/* SPDX-License-Identifier: MIT */
/* common/tsig_replay.c -- a fixed table of recently accepted signed requests.
 *
 * Every lookup scans the same TSIG_REPLAY_PROBE slots, so removing an entry is
 * clearing its slot (no probe chains to repair), and a dead entry (past its
 * window) is simply a free slot.
 */
#include "common/tsig_replay.h"

#include "common/tsig.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ENTRIES ((size_t)1 << 24)

enum { ST_EMPTY = 0, ST_PENDING = 1, ST_DONE = 2 };

struct slot {
	uint64_t hash;
	uint64_t word; /**< time signed << 2 | state */
};

struct tsig_replay {
	uint64_t seed;
	uint32_t window;
	size_t mask;
	struct slot *slots;
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
	r->slots = calloc(n, sizeof(*r->slots));
	if (r->slots == NULL) {
		free(r);
		return ZX_ENOMEM;
	}
	r->seed = seed;
	r->window = window_s;
	r->mask = n - 1;
	*out = r;
	return 0;
}

void tsig_replay_free(struct tsig_replay *r)
{
	if (r != NULL) {
		free(r->slots);
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

static uint64_t slot_time(const struct slot *s)
{
	return s->word >> 2;
}

static unsigned slot_state(const struct slot *s)
{
	return (unsigned)(s->word & 3u);
}

/* Live: in use and still within its window (a copy could still verify). */
static bool live(const struct tsig_replay *r, const struct slot *s, uint64_t now)
{
	return slot_state(s) != ST_EMPTY && slot_time(s) + r->window >= now;
}

static struct slot *find(const struct tsig_replay *r, const struct tsig_replay_id *id)
{
	for (size_t i = 0; i < TSIG_REPLAY_PROBE; i++) {
		struct slot *s = &r->slots[(id->hash + i) & r->mask];
		if (s->hash == id->hash && slot_state(s) != ST_EMPTY &&
		    slot_time(s) == id->time_signed) {
			return s;
		}
	}
	return NULL;
}

enum tsig_replay_seen tsig_replay_check(const struct tsig_replay *r,
                                        const struct tsig_replay_id *id, uint64_t now)
{
	const struct slot *s = find(r, id);
	if (s != NULL && live(r, s, now)) {
		return slot_state(s) == ST_PENDING ? TSIG_REPLAY_PENDING : TSIG_REPLAY_DONE;
	}
	if (r->st.horizon != 0 && id->time_signed <= r->st.horizon) {
		return TSIG_REPLAY_HORIZON;
	}
	return TSIG_REPLAY_NEW;
}

/* A slot for a new entry: a dead one, else the live one signed earliest (evicted). */
static struct slot *claim(struct tsig_replay *r, const struct tsig_replay_id *id, uint64_t now)
{
	struct slot *victim = NULL;
	for (size_t i = 0; i < TSIG_REPLAY_PROBE; i++) {
		struct slot *s = &r->slots[(id->hash + i) & r->mask];
		if (!live(r, s, now)) {
			return s;
		}
		if (victim == NULL || slot_time(s) < slot_time(victim)) {
			victim = s;
		}
	}
	r->st.evicted++;
	if (slot_time(victim) > r->st.horizon) {
		r->st.horizon = slot_time(victim);
	}
	return victim;
}

static void put(struct tsig_replay *r, const struct tsig_replay_id *id, unsigned state,
                uint64_t now)
{
	struct slot *s = find(r, id);
	if (s == NULL) {
		s = claim(r, id, now);
	}
	s->hash = id->hash;
	s->word = id->time_signed << 2 | state;
}

void tsig_replay_hold(struct tsig_replay *r, const struct tsig_replay_id *id, uint64_t now)
{
	r->st.held++;
	put(r, id, ST_PENDING, now);
}

void tsig_replay_confirm(struct tsig_replay *r, const struct tsig_replay_id *id, uint64_t now)
{
	r->st.confirmed++;
	put(r, id, ST_DONE, now);
}

void tsig_replay_forget(struct tsig_replay *r, const struct tsig_replay_id *id)
{
	struct slot *s = find(r, id);
	if (s != NULL) {
		r->st.forgotten++;
		s->hash = 0;
		s->word = 0;
	}
}

struct tsig_replay_stats tsig_replay_stats(const struct tsig_replay *r)
{
	return r->st;
}
