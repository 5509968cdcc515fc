/* SPDX-License-Identifier: MIT */
/* notifyd/ratelimit.c -- fixed-size table of token buckets.
 *
 * Tokens are kept in thousandths so that refilling by elapsed milliseconds is
 * exact integer arithmetic: rate r tokens/s is r milli-tokens per ms.
 */
#include "notifyd/ratelimit.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MILLI 1000u
#define MAX_SLOTS ((size_t)1 << 28)

struct slot {
	uint64_t hash; /**< 0: empty */
	uint64_t last_ms;
	uint64_t tokens; /**< milli-tokens at last_ms */
};

struct ratelimit {
	uint64_t rate;     /**< milli-tokens per ms (= tokens per second) */
	uint64_t capacity; /**< milli-tokens */
	uint64_t seed;
	size_t mask;
	struct slot *slots;
	struct ratelimit_stats st;
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

uint64_t ratelimit_hash(uint64_t seed, const void *key, size_t len)
{
	const uint8_t *p = key;
	uint64_t h = mix(seed ^ (len * 0x9e3779b97f4a7c15ull));
	while (len >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		h = mix(h ^ w) + 0x9e3779b97f4a7c15ull;
		p += 8;
		len -= 8;
	}
	uint64_t w = 0;
	memcpy(&w, p, len);
	h = mix(h ^ w ^ ((uint64_t)len << 56));
	return h != 0 ? h : 1; /* 0 marks an empty slot */
}

int ratelimit_new(uint32_t rate, uint32_t burst, size_t slots, uint64_t seed,
                  struct ratelimit **out)
{
	if (burst == 0 || slots > MAX_SLOTS) {
		return ZX_EINVAL;
	}
	size_t n = 64;
	while (n < slots) {
		n <<= 1;
	}
	struct ratelimit *rl = calloc(1, sizeof(*rl));
	if (rl == NULL) {
		return ZX_ENOMEM;
	}
	rl->rate = rate;
	rl->capacity = (uint64_t)rate * burst * MILLI;
	rl->seed = seed;
	rl->mask = n - 1;
	if (rate != 0) {
		rl->slots = calloc(n, sizeof(*rl->slots));
		if (rl->slots == NULL) {
			free(rl);
			return ZX_ENOMEM;
		}
	}
	*out = rl;
	return 0;
}

void ratelimit_free(struct ratelimit *rl)
{
	if (rl != NULL) {
		free(rl->slots);
		free(rl);
	}
}

/* Milli-tokens in @p s at @p now_ms, capped. */
static uint64_t level(const struct ratelimit *rl, const struct slot *s, uint64_t now_ms)
{
	uint64_t dt = now_ms > s->last_ms ? now_ms - s->last_ms : 0;
	uint64_t room = rl->capacity - s->tokens;
	if (dt >= room / rl->rate + 1) {
		return rl->capacity;
	}
	return s->tokens + dt * rl->rate;
}

/* The slot of @p h, or a reusable one (empty or refilled); NULL when none. */
static struct slot *find(struct ratelimit *rl, uint64_t h, uint64_t now_ms)
{
	struct slot *free_slot = NULL;
	for (size_t i = 0; i < RATELIMIT_PROBE; i++) {
		struct slot *s = &rl->slots[(h + i) & rl->mask];
		if (s->hash == h) {
			return s;
		}
		if (free_slot == NULL && (s->hash == 0 || level(rl, s, now_ms) == rl->capacity)) {
			free_slot = s;
		}
	}
	if (free_slot != NULL) {
		if (free_slot->hash == 0) {
			rl->st.in_use++;
		}
		free_slot->hash = h;
		free_slot->last_ms = now_ms;
		free_slot->tokens = rl->capacity;
	}
	return free_slot;
}

int ratelimit_take(struct ratelimit *rl, const void *key, size_t len, uint64_t now_ms)
{
	if (rl->rate == 0) {
		rl->st.allowed++;
		return 0;
	}
	struct slot *s = find(rl, ratelimit_hash(rl->seed, key, len), now_ms);
	if (s == NULL) {
		rl->st.untracked++;
		rl->st.allowed++;
		return 0;
	}
	uint64_t t = level(rl, s, now_ms);
	if (now_ms > s->last_ms) {
		s->last_ms = now_ms;
	}
	if (t < MILLI) {
		s->tokens = t;
		rl->st.limited++;
		return ZX_ELIMIT;
	}
	s->tokens = t - MILLI;
	rl->st.allowed++;
	return 0;
}

struct ratelimit_stats ratelimit_stats(const struct ratelimit *rl)
{
	return rl->st;
}
