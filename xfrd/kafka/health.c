/* SPDX-License-Identifier: MIT */
/* xfrd/kafka/health.c -- the per-partition commit-progress map. */
#include "xfrd/kafka/health.h"


#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hpart {
	int32_t partition;
	int64_t committed;   /* highest confirmed commit; -1 none yet */
	int64_t progress_ms; /* last progress: assignment, a commit moving, a transfer
	                        ending, or no lag seen */
};

struct health_map {
	struct hpart *v;
	size_t n, cap;
};

struct health_map *health_map_new(void)
{
	return calloc(1, sizeof(struct health_map));
}

void health_map_free(struct health_map *m)
{
	if (m != NULL) {
		free(m->v);
		free(m);
	}
}

static struct hpart *find(const struct health_map *m, int32_t partition)
{
	for (size_t i = 0; i < m->n; i++) {
		if (m->v[i].partition == partition) {
			return &m->v[i];
		}
	}
	return NULL;
}

int health_map_assign(struct health_map *m, int32_t partition, int64_t now_ms)
{
	if (find(m, partition) != NULL) {
		return ZX_EEXIST;
	}
	if (m->n == m->cap) {
		size_t cap = m->cap == 0 ? 16 : m->cap * 2;
		struct hpart *v = realloc(m->v, cap * sizeof(*v));
		if (v == NULL) {
			return ZX_ENOMEM;
		}
		m->v = v;
		m->cap = cap;
	}
	m->v[m->n++] = (struct hpart){.partition = partition, .committed = -1,
	                              .progress_ms = now_ms};
	return 0;
}

int health_map_revoke(struct health_map *m, int32_t partition)
{
	struct hpart *p = find(m, partition);
	if (p == NULL) {
		return ZX_ENOENT;
	}
	*p = m->v[--m->n];
	return 0;
}

int health_map_committed(struct health_map *m, int32_t partition, int64_t offset,
                         int64_t now_ms)
{
	struct hpart *p = find(m, partition);
	if (p == NULL) {
		return ZX_ENOENT;
	}
	if (offset > p->committed) {
		p->committed = offset;
		p->progress_ms = now_ms;
	}
	return 0;
}

int health_map_progress(struct health_map *m, int32_t partition, int64_t now_ms)
{
	struct hpart *p = find(m, partition);
	if (p == NULL) {
		return ZX_ENOENT;
	}
	p->progress_ms = now_ms > p->progress_ms ? now_ms : p->progress_ms;
	return 0;
}

int health_map_check(struct health_map *m, int64_t now_ms, uint64_t stall_ms, health_lag_fn lag,
                     void *arg, char *why, size_t whylen)
{
	int rc = 0;
	for (size_t i = 0; i < m->n; i++) {
		struct hpart *p = &m->v[i];
		int64_t l = lag(arg, p->partition);
		if (l == 0) {
			p->progress_ms = now_ms;
			continue;
		}
		int64_t idle = now_ms - p->progress_ms;
		if (idle > (int64_t)stall_ms && rc == 0) {
			rc = ZX_ETIMEDOUT;
			if (why != NULL && whylen > 0) {
				snprintf(why, whylen, "partition %" PRId32 " lag %" PRId64
				         " no commit for %" PRId64 " ms", p->partition, l, idle);
			}
		}
	}
	return rc;
}

size_t health_map_size(const struct health_map *m)
{
	return m->n;
}

/* ---- HTTP --------------------------------------------------------------- */
