/* SPDX-License-Identifier: MIT */
/* xfrd/zone/sched.c -- the per-zone scheduler over zone records. */
#include "xfrd/zone/sched.h"

#include "common/serial.h"

#include <assert.h>
#include <stdlib.h>

struct sched {
	struct sched_hooks h;
	void *ctx;
	size_t running, scheduled;
};

struct sched *sched_new(const struct sched_hooks *hooks, void *ctx)
{
	assert(hooks != NULL && hooks->start != NULL && hooks->done != NULL);
	struct sched *s = calloc(1, sizeof(*s));
	if (s != NULL) {
		s->h = *hooks;
		s->ctx = ctx;
	}
	return s;
}

void sched_free(struct sched *s)
{
	free(s);
}

static int push(struct zone_reqs *r, const struct zone_req *q)
{
	if (r->n == r->cap) {
		size_t cap = r->cap == 0 ? 2 : r->cap * 2;
		struct zone_req *v = realloc(r->v, cap * sizeof(*v));
		if (v == NULL) {
			return ZX_ENOMEM;
		}
		r->v = v;
		r->cap = cap;
	}
	r->v[r->n++] = *q;
	return 0;
}

int sched_request(struct sched *s, struct zone *z, const struct zone_req *req, unsigned flags)
{
	if (req->has_serial && (!z->has_hint || serial_newer(req->serial, z->hint))) {
		z->has_hint = true;
		z->hint = req->serial;
	}
	if (z->run == ZONE_IDLE) {
		int rc = push(&z->cur, req);
		z->run = ZONE_RUNNING;
		s->running++;
		s->h.start(s->ctx, z, flags);
		return rc;
	}
	int rc = push(&z->next, req);
	if (rc != 0) {
		return rc;
	}
	if (z->run == ZONE_RUNNING) {
		z->run = ZONE_RUNNING_SCHEDULED;
		s->scheduled++;
	}
	z->next_flags |= flags;
	return 0;
}

static void finish_all(struct sched *s, struct zone *z, struct zone_reqs *r)
{
	for (size_t i = 0; i < r->n; i++) {
		if (r->v[i].offset >= 0) {
			s->h.done(s->ctx, z, &r->v[i]);
		}
	}
	r->n = 0;
}

int sched_finished(struct sched *s, struct zone *z, bool has_serial, uint32_t serial)
{
	if (z->run == ZONE_IDLE) {
		return ZX_ENOENT;
	}
	finish_all(s, z, &z->cur);
	bool forced = z->next_flags != 0; /* a forced run is never covered */
	size_t keep = 0;
	for (size_t i = 0; i < z->next.n; i++) {
		struct zone_req q = z->next.v[i];
		bool covered = has_serial && q.has_serial && !serial_newer(q.serial, serial) &&
		               !forced;
		if (covered && q.offset >= 0) {
			s->h.done(s->ctx, z, &q);
		} else if (!covered) {
			z->next.v[keep++] = q;
		}
	}
	z->next.n = keep;
	if (z->run == ZONE_RUNNING_SCHEDULED) {
		s->scheduled--;
	}
	if (z->run != ZONE_RUNNING_SCHEDULED || keep == 0) {
		z->run = ZONE_IDLE;
		z->next_flags = 0;
		s->running--;
		return 0;
	}
	/* the scheduled run starts now: its requests move over */
	struct zone_reqs tmp = z->cur;
	z->cur = z->next;
	z->next = tmp;
	unsigned flags = z->next_flags;
	z->next_flags = 0;
	z->run = ZONE_RUNNING;
	s->h.start(s->ctx, z, flags);
	return 0;
}

void sched_drop(struct sched *s, struct zone *z)
{
	z->cur.n = 0;
	z->next.n = 0;
	z->next_flags = 0;
	if (z->run == ZONE_RUNNING_SCHEDULED) {
		z->run = ZONE_RUNNING;
		s->scheduled--;
	}
	if (z->run == ZONE_RUNNING && s->h.cancel != NULL) {
		s->h.cancel(s->ctx, z);
	}
}

void sched_retire(struct sched *s, struct zone *z)
{
	if (z->run != ZONE_RUNNING_SCHEDULED) {
		return;
	}
	for (size_t i = 0; i < z->next.n; i++) {
		if (push(&z->cur, &z->next.v[i]) != 0) {
			break; /* no memory: those stay unfinished, read again after a restart */
		}
	}
	z->next.n = 0;
	z->next_flags = 0;
	z->run = ZONE_RUNNING;
	s->scheduled--;
}

size_t sched_running(const struct sched *s)
{
	return s->running;
}

size_t sched_scheduled(const struct sched *s)
{
	return s->scheduled;
}
