/* SPDX-License-Identifier: MIT */
/* xfrd/sched.c -- per-zone job table (open hashing by zone name). */
#include "xfrd/sched.h"
#include "common/serial.h"

#include <stdlib.h>
#include <string.h>

struct req {
	struct sched_ref ref;
	bool has_serial;
	uint32_t serial;
};

struct reqs {
	struct req *v;
	size_t n, cap;
};

struct zone_job {
	struct zone_job *next; /* hash chain */
	char *zone;
	int32_t partition; /* from the latest request; -1 unknown */
	bool running;
	bool scheduled;
	unsigned force; /* of the scheduled run: its requests' flags, ORed */
	struct reqs run;  /* requests the running transfer will finish */
	struct reqs wait; /* requests folded into the scheduled run */
};

struct sched {
	sched_start_cb start;
	sched_done_cb done;
	sched_cancel_cb cancel;
	void *ctx;
	struct zone_job **buckets;
	size_t nbuckets, count;
	size_t running, scheduled;
};

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s != '\0'; s++) {
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	}
	return h;
}

struct sched *sched_new(sched_start_cb start, sched_done_cb done, sched_cancel_cb cancel,
                        void *ctx)
{
	struct sched *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		return NULL;
	}
	s->nbuckets = 1024;
	s->buckets = calloc(s->nbuckets, sizeof(*s->buckets));
	if (s->buckets == NULL) {
		free(s);
		return NULL;
	}
	s->start = start;
	s->done = done;
	s->cancel = cancel;
	s->ctx = ctx;
	return s;
}

static void job_free(struct zone_job *j)
{
	free(j->run.v);
	free(j->wait.v);
	free(j->zone);
	free(j);
}

void sched_free(struct sched *s)
{
	if (s == NULL) {
		return;
	}
	for (size_t i = 0; i < s->nbuckets; i++) {
		for (struct zone_job *j = s->buckets[i], *next; j != NULL; j = next) {
			next = j->next;
			job_free(j);
		}
	}
	free(s->buckets);
	free(s);
}

static struct zone_job **slot(const struct sched *s, const char *zone)
{
	struct zone_job **p = &s->buckets[hash(zone) & (s->nbuckets - 1)];
	while (*p != NULL && strcmp((*p)->zone, zone) != 0) {
		p = &(*p)->next;
	}
	return p;
}

static int grow_table(struct sched *s)
{
	size_t n = s->nbuckets * 2;
	struct zone_job **b = calloc(n, sizeof(*b));
	if (b == NULL) {
		return ZX_ENOMEM;
	}
	for (size_t i = 0; i < s->nbuckets; i++) {
		for (struct zone_job *j = s->buckets[i], *next; j != NULL; j = next) {
			next = j->next;
			size_t k = hash(j->zone) & (n - 1);
			j->next = b[k];
			b[k] = j;
		}
	}
	free(s->buckets);
	s->buckets = b;
	s->nbuckets = n;
	return 0;
}

static int reqs_push(struct reqs *r, struct req q)
{
	if (r->n == r->cap) {
		size_t cap = r->cap == 0 ? 4 : r->cap * 2;
		struct req *v = realloc(r->v, cap * sizeof(*v));
		if (v == NULL) {
			return ZX_ENOMEM;
		}
		r->v = v;
		r->cap = cap;
	}
	r->v[r->n++] = q;
	return 0;
}

/* Jobs stay in the table while idle: a zone seen once is likely seen again. */
static int job_get(struct sched *s, const char *zone, struct zone_job **out)
{
	struct zone_job **p = slot(s, zone);
	if (*p != NULL) {
		*out = *p;
		return 0;
	}
	if (s->count + 1 > s->nbuckets && grow_table(s) == 0) {
		p = slot(s, zone);
	}
	struct zone_job *j = calloc(1, sizeof(*j));
	if (j == NULL) {
		return ZX_ENOMEM;
	}
	j->partition = -1;
	j->zone = strdup(zone);
	if (j->zone == NULL) {
		free(j);
		return ZX_ENOMEM;
	}
	*p = j;
	s->count++;
	*out = j;
	return 0;
}

int sched_request(struct sched *s, const char *zone, struct sched_ref ref, bool has_serial,
                  uint32_t serial, unsigned force)
{
	struct zone_job *j = NULL;
	int rc = job_get(s, zone, &j);
	if (rc != 0) {
		return rc;
	}
	struct req q = {.ref = ref, .has_serial = has_serial, .serial = serial};
	j->partition = ref.partition;
	if (!j->running) {
		rc = reqs_push(&j->run, q);
		if (rc != 0) {
			return rc;
		}
		j->running = true;
		s->running++;
		s->start(s->ctx, j->zone, force);
		return 0;
	}
	rc = reqs_push(&j->wait, q);
	if (rc != 0) {
		return rc;
	}
	if (!j->scheduled) {
		j->scheduled = true;
		s->scheduled++;
	}
	j->force |= force;
	return 0;
}

static void finish_all(struct sched *s, struct zone_job *j, struct reqs *r)
{
	for (size_t i = 0; i < r->n; i++) {
		if (r->v[i].ref.offset >= 0) {
			s->done(s->ctx, j->zone, r->v[i].ref);
		}
	}
	r->n = 0;
}

int sched_finished(struct sched *s, const char *zone, bool has_serial, uint32_t serial)
{
	struct zone_job *j = *slot(s, zone);
	if (j == NULL || !j->running) {
		return ZX_ENOENT;
	}
	finish_all(s, j, &j->run);
	/* scheduled requests the result already covers are done without a transfer */
	size_t keep = 0;
	for (size_t i = 0; i < j->wait.n; i++) {
		struct req q = j->wait.v[i];
		bool covered = has_serial && q.has_serial && !serial_newer(q.serial, serial) &&
		               j->force == 0;
		if (covered && q.ref.offset >= 0) {
			s->done(s->ctx, j->zone, q.ref);
		} else if (!covered) {
			j->wait.v[keep++] = q;
		}
	}
	j->wait.n = keep;
	if (j->scheduled && keep == 0) {
		j->scheduled = false;
		j->force = 0;
		s->scheduled--;
	}
	if (!j->scheduled) {
		j->running = false;
		s->running--;
		return 0;
	}
	/* the scheduled run starts now: its requests move over */
	struct reqs tmp = j->run;
	j->run = j->wait;
	j->wait = tmp;
	unsigned force = j->force;
	j->scheduled = false;
	j->force = 0;
	s->scheduled--;
	s->start(s->ctx, j->zone, force);
	return 0;
}

void sched_drop_partition(struct sched *s, int32_t partition)
{
	for (size_t i = 0; i < s->nbuckets; i++) {
		for (struct zone_job *j = s->buckets[i]; j != NULL; j = j->next) {
			if (j->partition != partition) {
				continue;
			}
			j->run.n = 0;
			j->wait.n = 0;
			if (j->scheduled) {
				j->scheduled = false;
				j->force = 0;
				s->scheduled--;
			}
			if (j->running) {
				s->cancel(s->ctx, j->zone);
			}
		}
	}
}

size_t sched_running(const struct sched *s)
{
	return s->running;
}

size_t sched_scheduled(const struct sched *s)
{
	return s->scheduled;
}

bool sched_is_running(const struct sched *s, const char *zone)
{
	const struct zone_job *j = *slot(s, zone);
	return j != NULL && j->running;
}
