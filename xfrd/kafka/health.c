/* SPDX-License-Identifier: MIT */
/* xfrd/kafka/health.c -- the per-partition progress map (liveness) and the readiness rules. */
#include "xfrd/kafka/health.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hpart {
	int32_t partition;
	int64_t committed;   /* highest confirmed commit; -1 none yet */
	int64_t progress_ms; /* last progress: assignment, a commit moving, a transfer
	                        ending, work arriving, or nothing held when checked */
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

void health_map_hold(struct health_map *m, int64_t now_ms)
{
	for (size_t i = 0; i < m->n; i++) {
		m->v[i].progress_ms = now_ms > m->v[i].progress_ms ? now_ms : m->v[i].progress_ms;
	}
}

int health_map_check(struct health_map *m, int64_t now_ms, uint64_t stall_ms, health_held_fn held,
                     void *arg, char *why, size_t whylen)
{
	int rc = 0;
	for (size_t i = 0; i < m->n; i++) {
		struct hpart *p = &m->v[i];
		size_t n = held(arg, p->partition);
		if (n == 0) {
			p->progress_ms = now_ms; /* holds nothing: nothing can be stuck */
			continue;
		}
		int64_t idle = now_ms - p->progress_ms;
		if (idle > (int64_t)stall_ms && rc == 0) {
			rc = ZX_ETIMEDOUT;
			if (why != NULL && whylen > 0) {
				snprintf(why, whylen, "partition %" PRId32 " holds %zu request%s, none "
				         "finished for %" PRId64 " s (xfrd.health.commit-stall %" PRIu64
				         " s)", p->partition, n, n == 1 ? "" : "s", idle / 1000,
				         stall_ms / 1000);
			}
		}
	}
	return rc;
}

size_t health_map_size(const struct health_map *m)
{
	return m->n;
}


/* ---- readiness ------------------------------------------------------------ */

bool health_ready(const struct health_ready_in *in, char *why, size_t whylen)
{
	char buf[400];
	bool ok = false;
	if (in->closing) {
		snprintf(buf, sizeof(buf), "closing");
	} else if (in->topic_missing != NULL) {
		snprintf(buf, sizeof(buf), "%s", in->topic_missing);
	} else if (in->kafka_down) {
		snprintf(buf, sizeof(buf), "Kafka unreachable for %" PRId64 " s (%s)",
		         in->kafka_down_s, in->kafka_why != NULL ? in->kafka_why : "?");
	} else if (!in->assigned) {
		snprintf(buf, sizeof(buf), "no partition assignment yet");
	} else if (in->lost) {
		snprintf(buf, sizeof(buf), "partitions lost (Kafka session timed out), rejoining "
		         "the consumer group");
	} else if (in->owned > 0) {
		ok = true;
		buf[0] = '\0';
	} else if (!in->group_known) {
		snprintf(buf, sizeof(buf), "no partitions, and the consumer group not described yet");
	} else if (!in->group_stable) {
		snprintf(buf, sizeof(buf), "no partitions: the consumer group is rebalancing");
	} else if (in->topic_partitions <= 0) {
		snprintf(buf, sizeof(buf), "no partitions, and the requests topic's partition "
		         "count unknown");
	} else if (in->held_by_others < in->topic_partitions) {
		snprintf(buf, sizeof(buf), "no partitions while %" PRId32 " of the topic's %" PRId32
		         " are not held by the group's %" PRId32 " other member%s: waiting for a share",
		         in->topic_partitions - in->held_by_others, in->topic_partitions,
		         in->members - 1, in->members == 2 ? "" : "s");
	} else {
		ok = true;
		snprintf(buf, sizeof(buf), "no partitions: the group's %" PRId32 " other %s all %"
		         PRId32, in->members - 1, in->members == 2 ? "member holds" : "members hold",
		         in->topic_partitions);
	}
	if (why != NULL && whylen > 0) {
		snprintf(why, whylen, "%s", buf);
	}
	return ok;
}
