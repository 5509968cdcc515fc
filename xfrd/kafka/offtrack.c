/* SPDX-License-Identifier: MIT */
/* xfrd/kafka/offtrack.c -- per-partition queues of in-flight offsets.
 *
 * Each partition keeps a ring of (offset, finished) in read order. Finishing
 * marks the entry (binary search: the ring is sorted), then finished entries
 * are popped from the front and the committable position moves past them.
 */
#include "xfrd/kafka/offtrack.h"

#include <stdbool.h>
#include <stdlib.h>

struct entry {
	int64_t offset;
	bool finished;
};

struct part {
	int32_t partition;
	int64_t position;  /* one past the finished prefix; -1 until known */
	int64_t committed; /* last position confirmed committed; -1 unknown */
	int64_t last_read; /* -1 before the first read */
	struct entry *ring;
	size_t cap, head, len; /* ring of in-flight entries, oldest at head */
};

struct offtrack {
	struct part *parts; /* sorted by partition */
	size_t count;
};

struct offtrack *offtrack_new(void)
{
	return calloc(1, sizeof(struct offtrack));
}

void offtrack_free(struct offtrack *t)
{
	if (t == NULL) {
		return;
	}
	for (size_t i = 0; i < t->count; i++) {
		free(t->parts[i].ring);
	}
	free(t->parts);
	free(t);
}

/* Index of @p partition, or of where it would be inserted (*found false). */
static size_t part_index(const struct offtrack *t, int32_t partition, bool *found)
{
	size_t lo = 0, hi = t->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->parts[mid].partition < partition) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	*found = lo < t->count && t->parts[lo].partition == partition;
	return lo;
}

static struct part *part_find(const struct offtrack *t, int32_t partition)
{
	bool found;
	size_t i = part_index(t, partition, &found);
	return found ? &t->parts[i] : NULL;
}

int offtrack_assign(struct offtrack *t, int32_t partition, int64_t start)
{
	bool found;
	size_t i = part_index(t, partition, &found);
	if (found) {
		return ZX_EEXIST;
	}
	struct part *parts = realloc(t->parts, (t->count + 1) * sizeof(*parts));
	if (parts == NULL) {
		return ZX_ENOMEM;
	}
	t->parts = parts;
	for (size_t j = t->count; j > i; j--) {
		parts[j] = parts[j - 1];
	}
	parts[i] = (struct part){.partition = partition, .position = start, .committed = start,
	                         .last_read = -1};
	t->count++;
	return 0;
}

int offtrack_revoke(struct offtrack *t, int32_t partition, int64_t *safe)
{
	bool found;
	size_t i = part_index(t, partition, &found);
	if (!found) {
		return ZX_ENOENT;
	}
	if (safe != NULL) {
		*safe = offtrack_committable(t, partition);
	}
	free(t->parts[i].ring);
	for (size_t j = i + 1; j < t->count; j++) {
		t->parts[j - 1] = t->parts[j];
	}
	t->count--;
	return 0;
}

static struct entry *at(const struct part *p, size_t k)
{
	return &p->ring[(p->head + k) % p->cap];
}

static int grow(struct part *p)
{
	size_t cap = p->cap == 0 ? 64 : p->cap * 2;
	struct entry *ring = malloc(cap * sizeof(*ring));
	if (ring == NULL) {
		return ZX_ENOMEM;
	}
	for (size_t k = 0; k < p->len; k++) {
		ring[k] = *at(p, k);
	}
	free(p->ring);
	p->ring = ring;
	p->cap = cap;
	p->head = 0;
	return 0;
}

int offtrack_read(struct offtrack *t, int32_t partition, int64_t offset)
{
	struct part *p = part_find(t, partition);
	if (p == NULL) {
		return ZX_ENOENT;
	}
	if (offset < 0 || offset <= p->last_read || (p->position >= 0 && offset < p->position)) {
		return ZX_EINVAL;
	}
	if (p->len == p->cap) {
		int rc = grow(p);
		if (rc != 0) {
			return rc;
		}
	}
	if (p->len == 0) {
		/* nothing in flight: the gap before this offset holds nothing to redo */
		p->position = offset;
	}
	*at(p, p->len) = (struct entry){.offset = offset, .finished = false};
	p->len++;
	p->last_read = offset;
	return 0;
}

int offtrack_done(struct offtrack *t, int32_t partition, int64_t offset)
{
	struct part *p = part_find(t, partition);
	if (p == NULL) {
		return ZX_ENOENT;
	}
	size_t lo = 0, hi = p->len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (at(p, mid)->offset < offset) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	if (lo == p->len || at(p, lo)->offset != offset || at(p, lo)->finished) {
		return ZX_ENOTFOUND;
	}
	at(p, lo)->finished = true;
	while (p->len > 0 && at(p, 0)->finished) {
		p->position = at(p, 0)->offset + 1;
		p->head = (p->head + 1) % p->cap;
		p->len--;
	}
	if (p->len > 0) {
		p->position = at(p, 0)->offset; /* the oldest unfinished one is read again */
	}
	return 0;
}

int64_t offtrack_committable(const struct offtrack *t, int32_t partition)
{
	const struct part *p = part_find(t, partition);
	if (p == NULL || p->position < 0 || p->position == p->committed) {
		return -1;
	}
	return p->position;
}

int offtrack_committed(struct offtrack *t, int32_t partition, int64_t position)
{
	struct part *p = part_find(t, partition);
	if (p == NULL) {
		return ZX_ENOENT;
	}
	p->committed = position;
	return 0;
}

size_t offtrack_in_flight(const struct offtrack *t, int32_t partition)
{
	const struct part *p = part_find(t, partition);
	size_t n = 0;
	for (size_t k = 0; p != NULL && k < p->len; k++) {
		n += !at(p, k)->finished;
	}
	return n;
}

size_t offtrack_partitions(const struct offtrack *t, int32_t *out, size_t max)
{
	size_t n = t->count < max ? t->count : max;
	for (size_t i = 0; i < n; i++) {
		out[i] = t->parts[i].partition;
	}
	return n;
}

int64_t offtrack_last_committed(const struct offtrack *t, int32_t partition)
{
	const struct part *p = part_find(t, partition);
	return p == NULL ? -1 : p->committed;
}
