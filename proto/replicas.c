/* SPDX-License-Identifier: MIT */
/* proto/replicas.c -- the replica directory on its compacted topic. */
#include "proto/replicas.h"

#include "common/acl.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/cfg/cfg.h"
#include "proto/ctopic.h"
#include "proto/replicas.pb-c.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLICAS_SCHEMA 1

struct ent {
	struct replica_info info;
	char *name;
	char *endpoint;
	int32_t *parts;
	size_t nparts;
};

struct replicas {
	struct ctopic_follow *f;
	struct ctopic_writer *w;
	struct replicas_hooks hooks;
	void *ctx;
	char *self, *endpoint;
	char *key;             /* our record's: "group/self" */
	size_t prefix_len;     /* of "group/": records of other groups are not ours */
	uint64_t started_us;
	int32_t *parts;        /* what we own: our record's */
	size_t nparts;
	bool dirty;            /* our record is to be written (again) */
	bool writing;
	int tomb_rc;           /* the tombstone's outcome at free; 1 while waiting */
	struct event *tick;
	struct ent *v;
	size_t n, cap;
};

static void ent_clear(struct ent *e)
{
	free(e->name);
	free(e->endpoint);
	free(e->parts);
	memset(e, 0, sizeof(*e));
}

static struct ent *find(const struct replicas *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++) {
		if (strcmp(r->v[i].name, name) == 0) {
			return &r->v[i];
		}
	}
	return NULL;
}

static void drop(struct replicas *r, const char *name)
{
	struct ent *e = find(r, name);
	if (e == NULL) {
		return;
	}
	ent_clear(e);
	*e = r->v[--r->n];
}

static void set(struct replicas *r, const Zx__Replicas__Replica *rec)
{
	struct ent *e = find(r, rec->name);
	if (e == NULL) {
		if (r->n == r->cap) {
			size_t cap = r->cap ? 2 * r->cap : 8;
			struct ent *v = realloc(r->v, cap * sizeof(*v));
			if (v == NULL) {
				log_error("replica_lost", "replica=%s error=%s", rec->name,
				          zx_strerror(ZX_ENOMEM));
				return;
			}
			r->v = v;
			r->cap = cap;
		}
		e = &r->v[r->n++];
		memset(e, 0, sizeof(*e));
	} else {
		ent_clear(e);
	}
	e->name = strdup(rec->name);
	e->endpoint = strdup(rec->endpoint);
	e->parts = malloc((rec->n_partitions ? rec->n_partitions : 1) * sizeof(*e->parts));
	if (e->name == NULL || e->endpoint == NULL || e->parts == NULL) {
		ent_clear(e);
		*e = r->v[--r->n];
		log_error("replica_lost", "replica=%s error=%s", rec->name, zx_strerror(ZX_ENOMEM));
		return;
	}
	if (rec->n_partitions > 0) {
		memcpy(e->parts, rec->partitions, rec->n_partitions * sizeof(*e->parts));
	}
	e->nparts = rec->n_partitions;
	e->info = (struct replica_info){.name = e->name, .endpoint_text = e->endpoint,
	                                .updated_us = rec->updated_us,
	                                .self = strcmp(rec->name, r->self) == 0};
	if (rec->endpoint[0] != '\0' &&
	    acl_endpoint_parse(rec->endpoint, 53, &e->info.endpoint, &e->info.endpoint_len) != 0) {
		e->info.endpoint_len = 0;
		log_warn("replica_endpoint_bad", "replica=%s endpoint=%s", rec->name, rec->endpoint);
	}
}

/* The entries point into r->v, which moves: fix the info pointers after changes. */
static void fix_pointers(struct replicas *r)
{
	for (size_t i = 0; i < r->n; i++) {
		r->v[i].info.name = r->v[i].name;
		r->v[i].info.endpoint_text = r->v[i].endpoint;
	}
}

static void on_record(void *ctx, const char *key, const uint8_t *value, size_t len,
                      int32_t partition, int64_t offset)
{
	struct replicas *r = ctx;
	if (strncmp(key, r->key, r->prefix_len) != 0) {
		return; /* another consumer group's replica */
	}
	const char *name = key + r->prefix_len;
	if (value == NULL) {
		drop(r, name);
	} else {
		Zx__Replicas__Replica *rec = zx__replicas__replica__unpack(NULL, len, value);
		if (rec == NULL || rec->name == NULL || strcmp(rec->name, name) != 0) {
			log_warn("replica_record_bad", "key=%s partition=%d offset=%lld", key, partition,
			         (long long)offset);
		} else {
			bool known = find(r, name) != NULL;
			set(r, rec);
			if (!known) {
				log_info("replica_seen", "replica=%s endpoint=%s partitions=%zu", rec->name,
				         rec->endpoint, rec->n_partitions);
			}
		}
		if (rec != NULL) {
			zx__replicas__replica__free_unpacked(rec, NULL);
		}
	}
	fix_pointers(r);
	if (r->hooks.changed != NULL) {
		r->hooks.changed(r->ctx);
	}
}

static void on_caught_up(void *ctx)
{
	struct replicas *r = ctx;
	log_info("replicas_loaded", "replicas=%zu", r->n);
	if (r->hooks.caught_up != NULL) {
		r->hooks.caught_up(r->ctx);
	}
}

/* ---- our own record ----------------------------------------------------------- */

static void write_own(struct replicas *r);

static void on_written(void *arg, int rc, int32_t partition, int64_t offset)
{
	(void)partition;
	(void)offset;
	struct replicas *r = arg;
	r->writing = false;
	if (rc != 0) {
		r->dirty = true; /* the tick writes it again */
		log_warn("replica_publish_failed", "replica=%s error=%s", r->self, zx_strerror(rc));
	} else if (r->dirty) {
		write_own(r);
	}
}

static void write_own(struct replicas *r)
{
	if (r->writing || r->w == NULL) {
		return;
	}
	Zx__Replicas__Replica rec = ZX__REPLICAS__REPLICA__INIT;
	rec.schema = REPLICAS_SCHEMA;
	rec.name = r->self;
	rec.endpoint = r->endpoint;
	rec.partitions = r->parts;
	rec.n_partitions = r->nparts;
	rec.started_us = r->started_us;
	rec.updated_us = clock_wall_us();
	rec.version = (char *)"0.1.0";
	char group[256];
	snprintf(group, sizeof(group), "%.*s", (int)(r->prefix_len - 1), r->key);
	rec.group = group;
	size_t len = zx__replicas__replica__get_packed_size(&rec);
	uint8_t *buf = malloc(len ? len : 1);
	if (buf == NULL) {
		return;
	}
	zx__replicas__replica__pack(&rec, buf);
	r->dirty = false;
	if (ctopic_write(r->w, r->key, buf, len, on_written, r) == 0) {
		r->writing = true;
	} else {
		r->dirty = true;
	}
	free(buf);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct replicas *r = arg;
	if (r->dirty) {
		write_own(r);
	}
}

void replicas_publish(struct replicas *r, const int32_t *parts, size_t n)
{
	int32_t *v = malloc((n ? n : 1) * sizeof(*v));
	if (v == NULL) {
		r->dirty = true;
		return;
	}
	if (n > 0) {
		memcpy(v, parts, n * sizeof(*v));
	}
	free(r->parts);
	r->parts = v;
	r->nparts = n;
	r->dirty = true;
	write_own(r);
}

/* ---- life ----------------------------------------------------------------------- */

int replicas_new(const struct cfg_kafka *kc, const char *topic, const char *self,
                 const char *endpoint, struct event_base *base,
                 const struct replicas_hooks *hooks, void *ctx, struct replicas **out,
                 char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	if (self == NULL || self[0] == '\0' || endpoint == NULL ||
	    (endpoint[0] != '\0' && acl_endpoint_parse(endpoint, 53, &ss, &sl) != 0)) {
		snprintf(err, errlen, "replica %s: bad advertised endpoint \"%s\"",
		         self != NULL ? self : "", endpoint != NULL ? endpoint : "");
		return ZX_EINVAL;
	}
	struct replicas *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		return ZX_ENOMEM;
	}
	if (hooks != NULL) {
		r->hooks = *hooks;
	}
	r->ctx = ctx;
	r->self = strdup(self);
	r->endpoint = strdup(endpoint);
	const char *group = kc->group != NULL ? kc->group : "";
	r->prefix_len = strlen(group) + 1;
	r->key = malloc(r->prefix_len + strlen(self) + 1);
	if (r->key != NULL) {
		sprintf(r->key, "%s/%s", group, self);
	}
	r->started_us = clock_wall_us();
	r->tick = event_new(base, -1, EV_PERSIST, on_tick, r);
	struct timeval tv = {.tv_sec = 1};
	int rc = r->self == NULL || r->endpoint == NULL || r->key == NULL || r->tick == NULL ||
	                 event_add(r->tick, &tv) != 0
	                 ? ZX_ENOMEM
	                 : 0;
	if (rc == 0) {
		rc = ctopic_writer_new(kc, topic, self, base, &r->w, err, errlen);
	}
	if (rc == 0) {
		struct ctopic_hooks h = {.record = on_record, .caught_up = on_caught_up,
		                         .create = true};
		rc = ctopic_follow_new(kc, topic, self, base, &h, r, &r->f, err, errlen);
	}
	if (rc != 0) {
		replicas_free(r, 0);
		return rc;
	}
	replicas_publish(r, NULL, 0);
	*out = r;
	return 0;
}

static void on_tombstone(void *arg, int rc, int32_t partition, int64_t offset)
{
	(void)partition;
	(void)offset;
	((struct replicas *)arg)->tomb_rc = rc;
}

void replicas_free(struct replicas *r, int wait_ms)
{
	if (r == NULL) {
		return;
	}
	if (r->w != NULL && wait_ms > 0) {
		/* our last word: gone, so nobody copies from us any more */
		r->tomb_rc = 1;
		if (ctopic_write(r->w, r->key, NULL, 0, on_tombstone, r) == 0) {
			ctopic_writer_flush(r->w, wait_ms);
		}
		if (r->tomb_rc != 0) {
			log_warn("replica_tombstone_failed", "replica=%s error=%s", r->self,
			         r->tomb_rc == 1 ? "timeout" : zx_strerror(r->tomb_rc));
		}
	}
	ctopic_follow_free(r->f);
	ctopic_writer_free(r->w);
	if (r->tick != NULL) {
		event_free(r->tick);
	}
	for (size_t i = 0; i < r->n; i++) {
		ent_clear(&r->v[i]);
	}
	free(r->v);
	free(r->parts);
	free(r->self);
	free(r->endpoint);
	free(r->key);
	free(r);
}

/* ---- reading -------------------------------------------------------------------- */

bool replicas_caught_up(const struct replicas *r)
{
	return ctopic_caught_up(r->f);
}

const struct replica_info *replicas_owner(const struct replicas *r, int32_t partition)
{
	const struct ent *best = NULL;
	for (size_t i = 0; i < r->n; i++) {
		const struct ent *e = &r->v[i];
		for (size_t k = 0; k < e->nparts; k++) {
			if (e->parts[k] == partition &&
			    (best == NULL || e->info.updated_us > best->info.updated_us)) {
				best = e;
			}
		}
	}
	return best != NULL ? &best->info : NULL;
}

const struct replica_info *replicas_find(const struct replicas *r, const char *name)
{
	const struct ent *e = find(r, name);
	return e != NULL ? &e->info : NULL;
}

size_t replicas_others(const struct replicas *r, const struct replica_info **out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n && n < max; i++) {
		if (!r->v[i].info.self && r->v[i].info.endpoint_len > 0) {
			out[n++] = &r->v[i].info;
		}
	}
	for (size_t i = 1; i < n; i++) { /* newest first: insertion sort, a handful */
		const struct replica_info *x = out[i];
		size_t k = i;
		while (k > 0 && out[k - 1]->updated_us < x->updated_us) {
			out[k] = out[k - 1];
			k--;
		}
		out[k] = x;
	}
	return n;
}

size_t replicas_count(const struct replicas *r)
{
	return r->n;
}
