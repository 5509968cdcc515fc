/* SPDX-License-Identifier: MIT */
/* xfrd/zone/timers.c -- binary min-heap of zones by timer_at. */
#include "xfrd/zone/timers.h"

#include <stdlib.h>

struct timers {
	struct zone **h;
	size_t n, cap;
};

struct timers *timers_new(void)
{
	return calloc(1, sizeof(struct timers));
}

void timers_free(struct timers *t)
{
	if (t != NULL) {
		for (size_t i = 0; i < t->n; i++) {
			t->h[i]->timer_slot = 0;
		}
		free(t->h);
		free(t);
	}
}

static void put(struct timers *t, size_t i, struct zone *z)
{
	t->h[i] = z;
	z->timer_slot = i + 1;
}

static void up(struct timers *t, size_t i)
{
	struct zone *z = t->h[i];
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (t->h[parent]->timer_at <= z->timer_at) {
			break;
		}
		put(t, i, t->h[parent]);
		i = parent;
	}
	put(t, i, z);
}

static void down(struct timers *t, size_t i)
{
	struct zone *z = t->h[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= t->n) {
			break;
		}
		if (c + 1 < t->n && t->h[c + 1]->timer_at < t->h[c]->timer_at) {
			c++;
		}
		if (z->timer_at <= t->h[c]->timer_at) {
			break;
		}
		put(t, i, t->h[c]);
		i = c;
	}
	put(t, i, z);
}

int timers_set(struct timers *t, struct zone *z, int64_t at)
{
	if (z->timer_slot != 0) {
		size_t i = z->timer_slot - 1;
		int64_t old = z->timer_at;
		z->timer_at = at;
		if (at < old) {
			up(t, i);
		} else {
			down(t, i);
		}
		return 0;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap == 0 ? 64 : t->cap * 2;
		struct zone **h = realloc(t->h, cap * sizeof(*h));
		if (h == NULL) {
			return ZX_ENOMEM;
		}
		t->h = h;
		t->cap = cap;
	}
	z->timer_at = at;
	t->h[t->n++] = z;
	up(t, t->n - 1);
	return 0;
}

void timers_clear(struct timers *t, struct zone *z)
{
	if (z->timer_slot == 0) {
		return;
	}
	size_t i = z->timer_slot - 1;
	z->timer_slot = 0;
	struct zone *last = t->h[--t->n];
	if (i == t->n) {
		return;
	}
	t->h[i] = last;
	last->timer_slot = i + 1;
	if (i > 0 && t->h[(i - 1) / 2]->timer_at > last->timer_at) {
		up(t, i);
	} else {
		down(t, i);
	}
}

int64_t timers_next(const struct timers *t)
{
	return t->n > 0 ? t->h[0]->timer_at : INT64_MAX;
}

struct zone *timers_pop_due(struct timers *t, int64_t now)
{
	if (t->n == 0 || t->h[0]->timer_at > now) {
		return NULL;
	}
	struct zone *z = t->h[0];
	timers_clear(t, z);
	return z;
}

size_t timers_count(const struct timers *t)
{
	return t->n;
}
