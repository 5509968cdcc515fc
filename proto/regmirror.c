/* SPDX-License-Identifier: MIT */
/* proto/regmirror.c -- the registry held in memory: records by name, resolved zones. */
#include "proto/regmirror.h"

#include "common/arena.h"
#include "common/cfg/cfg.h"
#include "common/clock.h"
#include "common/dname.h"
#include "common/log.h"
#include "common/metrics.h"
#include "proto/ctopic.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ent {
	struct ent *hnext;
	uint8_t *rec;            /* packed Zone, malloc'd */
	size_t rec_len;
	int32_t partition;
	int64_t offset;
	struct cfg_zone *zone;   /* cfg_zone_copy() block; NULL: never resolved */
	size_t zone_bytes;
	char *problem;           /* malloc'd; NULL when the latest record resolved */
	bool shadowed;
	size_t wire_len;
	char *name;              /* points into this allocation, after the wire name */
	uint8_t wire[];          /* canonical wire name, then the text */
};

struct pending {
	struct pending *next;
	struct regmirror *m;
	regmirror_written_cb cb;
	void *arg;
	bool stored;
	int32_t partition;
	int64_t offset;
	int64_t deadline_ms;
};

struct regmirror {
	struct regmirror_opts o;
	const struct cfg *cfg;
	struct ctopic_follow *f;
	struct ctopic_writer *w;
	struct ent **b;
	size_t nb, count;
	size_t bytes;          /* records, settings, entries (not the buckets) */
	struct ent **sorted;   /* by name; rebuilt when dirty */
	size_t nsorted;
	bool dirty;
	struct pending *pend;  /* writes not read back yet */
	struct event *tick;
	uint64_t undecodable;  /* records that are not a Zone of their key */
	char topic[256];
	struct metrics_val *m_records, *m_tombstones, *m_invalid, *m_shadowed;
};

/* ---- the table ----------------------------------------------------------- */

static uint64_t wire_hash(const uint8_t *w, size_t len)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < len; i++) {
		h = (h ^ w[i]) * 1099511628211ull;
	}
	return h ^ (h >> 31);
}

static struct ent **slot(const struct regmirror *m, const uint8_t *wire, size_t len)
{
	struct ent **e = &m->b[wire_hash(wire, len) & (m->nb - 1)];
	while (*e != NULL && !((*e)->wire_len == len && memcmp((*e)->wire, wire, len) == 0)) {
		e = &(*e)->hnext;
	}
	return e;
}

static int grow(struct regmirror *m)
{
	size_t nb = m->nb ? 2 * m->nb : 1024;
	struct ent **b = calloc(nb, sizeof(*b));
	if (b == NULL) {
		return ZX_ENOMEM;
	}
	for (size_t i = 0; i < m->nb; i++) {
		for (struct ent *e = m->b[i], *n; e != NULL; e = n) {
			n = e->hnext;
			struct ent **s = &b[wire_hash(e->wire, e->wire_len) & (nb - 1)];
			e->hnext = *s;
			*s = e;
		}
	}
	free(m->b);
	m->b = b;
	m->nb = nb;
	return 0;
}

static size_t ent_size(size_t wire_len, size_t text_len)
{
	return sizeof(struct ent) + wire_len + text_len + 1;
}

static void ent_free(struct regmirror *m, struct ent *e)
{
	m->bytes -= ent_size(e->wire_len, strlen(e->name)) + e->rec_len + e->zone_bytes;
	free(e->rec);
	free(e->zone);
	free(e->problem);
	free(e);
}

/* Canonical wire and text of a key or a name ("Example.COM" -> "example.com."). */
static int canon(const char *name, uint8_t *wire, size_t *wlen, char *text, size_t tsize)
{
	if (name == NULL || dname_from_text(name, wire) <= 0) {
		return ZX_EINVAL;
	}
	dname_lower(wire);
	int len = dname_wire_len(wire, DNAME_MAXLEN);
	if (len <= 0 || dname_to_text(wire, text, tsize) != 0) {
		return ZX_EINVAL;
	}
	*wlen = (size_t)len;
	return 0;
}

/* ---- resolving -------------------------------------------------------------- */

static void set_problem(struct ent *e, const struct cfg_problem *p, size_t n)
{
	free(e->problem);
	e->problem = NULL;
	if (n == 0) {
		return;
	}
	size_t len = strlen(p->path) + strlen(p->text) + 3;
	e->problem = malloc(len);
	if (e->problem != NULL) {
		snprintf(e->problem, len, "%s%s%s", p->path, p->path[0] ? ": " : "", p->text);
	}
}

/* Resolve @p rec for @p e against the current config. true: e->zone replaced. */
static bool resolve(struct regmirror *m, struct ent *e, const Zx__Registry__Zone *rec)
{
	struct arena *mem = arena_new(0);
	struct cfg_problem probs[4];
	size_t n = 0;
	struct cfg_zone cz;
	int rc = mem == NULL ? ZX_ENOMEM : registry_zone(m->cfg, rec, mem, &cz, probs, 4, &n);
	void *block = NULL;
	size_t bytes = 0;
	if (rc == 0 && !dname_equal(cz.name, e->wire)) {
		snprintf(probs[0].path, sizeof(probs[0].path), "name");
		snprintf(probs[0].text, sizeof(probs[0].text), "the record's name %s is not its key %s",
		         cz.name_text, e->name);
		n = 1;
		rc = ZX_ECONFIG;
	}
	if (rc == 0) {
		rc = cfg_zone_copy(&cz, sizeof(struct cfg_zone), 0, &block, &bytes);
	}
	arena_destroy(mem);
	if (rc != 0) {
		if (rc != ZX_ECONFIG) {
			struct cfg_problem nomem = {.path = "", .text = "out of memory"};
			set_problem(e, &nomem, 1);
		} else {
			set_problem(e, probs, n);
		}
		return false;
	}
	set_problem(e, NULL, 0);
	m->bytes += bytes - e->zone_bytes;
	free(e->zone);
	e->zone = block;
	e->zone_bytes = bytes;
	return true;
}

static void tell(struct regmirror *m, const struct ent *e, const struct cfg_zone *z)
{
	if (m->o.hooks.changed != NULL) {
		m->o.hooks.changed(m->o.ctx, e->name, z);
	}
}

/* Apply the latest record of @p e (e->rec) as the config sees it. */
static void apply(struct regmirror *m, struct ent *e, const Zx__Registry__Zone *rec, bool log_it)
{
	bool was_shadowed = e->shadowed;
	e->shadowed = cfg_zone_find(m->cfg, e->wire) != NULL;
	if (e->shadowed) {
		if (log_it || !was_shadowed) {
			log_warn("registry_zone_shadowed", "zone=%s partition=%d offset=%lld "
			         "hint=\"the config file has this zone: its settings are used\"",
			         e->name, e->partition, (long long)e->offset);
			metrics_add(m->m_shadowed, 1);
		}
		free(e->zone); /* the file's zone is the one in force */
		m->bytes -= e->zone_bytes;
		e->zone = NULL;
		e->zone_bytes = 0;
		return;
	}
	const struct cfg_zone *before = e->zone;
	if (resolve(m, e, rec)) {
		tell(m, e, e->zone);
		return;
	}
	char q[600];
	log_error("registry_zone_invalid", "zone=%s partition=%d offset=%lld problem=%s kept=%s",
	          e->name, e->partition, (long long)e->offset,
	          log_quote(e->problem != NULL ? e->problem : "?", q, sizeof(q)),
	          before != NULL ? "previous" : "none");
	metrics_add(m->m_invalid, 1);
}

/* ---- writes read back ---------------------------------------------------------- */

static void pending_check(struct regmirror *m, bool all, int rc)
{
	int64_t now = clock_mono_ms();
	for (struct pending **pp = &m->pend; *pp != NULL;) {
		struct pending *p = *pp;
		bool seen = p->stored && ctopic_consumed(m->f, p->partition) > p->offset;
		if (all || seen || (p->stored && now >= p->deadline_ms)) {
			if (!seen && !all) {
				log_warn("registry_readback_slow", "partition=%d offset=%lld waited_ms=%d",
				         p->partition, (long long)p->offset, REGMIRROR_READBACK_MS);
			}
			*pp = p->next;
			p->cb(p->arg, all ? rc : 0, p->partition, p->offset);
			free(p);
			continue;
		}
		pp = &p->next;
	}
}

static void on_stored(void *arg, int rc, int32_t partition, int64_t offset)
{
	struct pending *p = arg;
	struct regmirror *m = p->m;
	if (rc != 0) {
		for (struct pending **pp = &m->pend; *pp != NULL; pp = &(*pp)->next) {
			if (*pp == p) {
				*pp = p->next;
				break;
			}
		}
		p->cb(p->arg, rc, -1, -1);
		free(p);
		return;
	}
	p->stored = true;
	p->partition = partition;
	p->offset = offset;
	p->deadline_ms = clock_mono_ms() + REGMIRROR_READBACK_MS;
	pending_check(m, false, 0);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pending_check(arg, false, 0);
}

int regmirror_write(struct regmirror *m, const char *name, Zx__Registry__Zone *rec,
                    regmirror_written_cb cb, void *arg)
{
	if (m->w == NULL || name == NULL || name[0] == '\0') {
		return ZX_EINVAL;
	}
	struct pending *p = calloc(1, sizeof(*p));
	if (p == NULL) {
		return ZX_ENOMEM;
	}
	*p = (struct pending){.next = m->pend, .m = m, .cb = cb, .arg = arg, .partition = -1};
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = rec != NULL ? registry_pack(rec, &buf, &len) : 0;
	if (rc == 0) {
		rc = ctopic_write(m->w, name, buf, len, on_stored, p);
	}
	free(buf);
	if (rc != 0) {
		free(p);
		return rc;
	}
	m->pend = p;
	return 0;
}

/* ---- following ------------------------------------------------------------------ */

static void on_zone(struct regmirror *m, const char *key, const Zx__Registry__Zone *rec,
                    const uint8_t *raw, size_t len, int32_t partition, int64_t offset);

static void on_record(void *ctx, const char *key, const uint8_t *value, size_t len,
                      int32_t partition, int64_t offset)
{
	struct regmirror *m = ctx;
	if (value == NULL) {
		on_zone(m, key, NULL, NULL, 0, partition, offset);
		return;
	}
	Zx__Registry__Zone *rec = NULL;
	if (registry_unpack(value, len, &rec) != 0) {
		m->undecodable++;
		log_warn("registry_record_bad", "zone=%s partition=%d offset=%lld why=decode", key,
		         partition, (long long)offset);
		return;
	}
	on_zone(m, key, rec, value, len, partition, offset);
	registry_free(rec);
}

static void on_zone(struct regmirror *m, const char *key, const Zx__Registry__Zone *rec,
                    const uint8_t *raw, size_t len, int32_t partition, int64_t offset)
{
	uint8_t wire[DNAME_MAXLEN];
	char text[DNAME_TEXTLEN];
	size_t wlen;
	if (canon(key, wire, &wlen, text, sizeof(text)) != 0) {
		log_warn("registry_record_bad", "partition=%d offset=%lld why=key_not_a_name",
		         partition, (long long)offset);
		return;
	}
	struct ent **s = slot(m, wire, wlen);
	struct ent *e = *s;
	if (rec == NULL) {
		metrics_add(m->m_tombstones, 1);
		if (e != NULL) {
			*s = e->hnext;
			m->count--;
			m->dirty = true;
			if (!e->shadowed && e->zone != NULL) {
				tell(m, e, NULL);
			}
			log_info("registry_zone_removed", "zone=%s partition=%d offset=%lld", e->name,
			         partition, (long long)offset);
			ent_free(m, e);
		}
		pending_check(m, false, 0);
		return;
	}
	metrics_add(m->m_records, 1);
	uint8_t rwire[DNAME_MAXLEN];
	if (dname_from_text(rec->name, rwire) <= 0 || !dname_equal(rwire, wire)) {
		m->undecodable++;
		log_warn("registry_record_bad", "zone=%s partition=%d offset=%lld "
		         "why=name_differs_from_key", text, partition, (long long)offset);
		return;
	}
	uint8_t *copy = malloc(len ? len : 1);
	if (copy == NULL) {
		log_error("registry_record_lost", "zone=%s error=%s", text, zx_strerror(ZX_ENOMEM));
		return;
	}
	memcpy(copy, raw, len);
	if (e == NULL) {
		if (m->count + 1 > m->nb && grow(m) == 0) {
			s = slot(m, wire, wlen);
		}
		size_t tlen = strlen(text);
		e = calloc(1, ent_size(wlen, tlen));
		if (e == NULL) {
			free(copy);
			log_error("registry_record_lost", "zone=%s error=%s", text, zx_strerror(ZX_ENOMEM));
			return;
		}
		memcpy(e->wire, wire, wlen);
		e->wire_len = wlen;
		e->name = (char *)e->wire + wlen;
		memcpy(e->name, text, tlen + 1);
		*s = e;
		m->count++;
		m->dirty = true;
		m->bytes += ent_size(wlen, tlen);
	}
	m->bytes += len - e->rec_len;
	free(e->rec);
	e->rec = copy;
	e->rec_len = len;
	e->partition = partition;
	e->offset = offset;
	apply(m, e, rec, true);
	pending_check(m, false, 0);
}

static void on_caught_up(void *ctx)
{
	struct regmirror *m = ctx;
	log_info("registry_loaded", "topic=%s zones=%zu bytes=%zu bytes_per_zone=%zu", m->topic,
	         m->count, m->bytes, m->count ? m->bytes / m->count : 0);
	if (m->o.hooks.caught_up != NULL) {
		m->o.hooks.caught_up(m->o.ctx);
	}
}

void regmirror_set_cfg(struct regmirror *m, const struct cfg *cfg)
{
	m->cfg = cfg;
	for (size_t i = 0; i < m->nb; i++) {
		for (struct ent *e = m->b[i]; e != NULL; e = e->hnext) {
			Zx__Registry__Zone *rec = NULL;
			if (registry_unpack(e->rec, e->rec_len, &rec) != 0) {
				continue; /* it decoded when it was read */
			}
			bool had = e->zone != NULL && !e->shadowed;
			apply(m, e, rec, false);
			if (had && e->problem != NULL) {
				/* its settings pointed into the old config's keys: they go */
				free(e->zone);
				m->bytes -= e->zone_bytes;
				e->zone = NULL;
				e->zone_bytes = 0;
				tell(m, e, NULL);
			}
			registry_free(rec);
		}
	}
}

/* ---- metrics ------------------------------------------------------------------- */

static double g_zones(void *arg)
{
	return (double)((struct regmirror *)arg)->count;
}

static double g_bytes(void *arg)
{
	struct regmirror *m = arg;
	return (double)(m->bytes + m->nb * sizeof(*m->b));
}

static double g_caught_up(void *arg)
{
	return regmirror_caught_up(arg) ? 1 : 0;
}

static double g_bad(void *arg)
{
	struct regmirror *m = arg;
	struct ctopic_stats st;
	ctopic_follow_stats(m->f, &st);
	return (double)(st.bad + m->undecodable);
}

/* The series' names, written out so that each can be found in the sources. */
struct series_names {
	const char *zones, *bytes, *caught_up, *undecodable, *records, *invalid;
};

static const struct series_names xfrd_series = {
	"xfrd_registry_zones", "xfrd_registry_bytes", "xfrd_registry_caught_up",
	"xfrd_registry_undecodable_total", "xfrd_registry_records_total",
	"xfrd_registry_invalid_total",
};

static const struct series_names notifyd_series = {
	"notifyd_registry_zones", "notifyd_registry_bytes", "notifyd_registry_caught_up",
	"notifyd_registry_undecodable_total", "notifyd_registry_records_total",
	"notifyd_registry_invalid_total",
};

static int metrics_setup(struct regmirror *m)
{
	struct metrics *r = m->o.m;
	if (r == NULL) {
		return 0;
	}
	const struct series_names *n = m->o.prefix != NULL && strcmp(m->o.prefix, "notifyd") == 0
	                                       ? &notifyd_series
	                                       : &xfrd_series;
	m->m_records = metrics_counter(r, n->records, "kind=\"zone\"", "Registry records read.");
	m->m_tombstones = metrics_counter(r, n->records, "kind=\"tombstone\"",
	                                  "Registry records read.");
	m->m_invalid = metrics_counter(r, n->invalid, "why=\"settings\"",
	                               "Registry records not applied (problem logged).");
	m->m_shadowed = metrics_counter(r, n->invalid, "why=\"file_zone\"",
	                                "Registry records not applied (problem logged).");
	bool ok = m->m_records != NULL && m->m_tombstones != NULL && m->m_invalid != NULL &&
	          m->m_shadowed != NULL &&
	          metrics_gauge_cb(r, n->zones, NULL, "Zones in the registry.", g_zones, m) == 0 &&
	          metrics_gauge_cb(r, n->bytes, NULL, "Memory the registry takes, bytes.", g_bytes,
	                           m) == 0 &&
	          metrics_gauge_cb(r, n->caught_up, NULL, "1 once the registry was read to its end.",
	                           g_caught_up, m) == 0 &&
	          metrics_gauge_cb(r, n->undecodable, NULL, "Registry records that did not decode.",
	                           g_bad, m) == 0;
	return ok ? 0 : ZX_ENOMEM;
}

/* ---- life ------------------------------------------------------------------------- */

int regmirror_new(const struct regmirror_opts *o, struct regmirror **out, char *err,
                  size_t errlen)
{
	if (o->cfg == NULL || !o->cfg->registry.enabled || o->base == NULL) {
		return ZX_EINVAL;
	}
	struct regmirror *m = calloc(1, sizeof(*m));
	if (m == NULL) {
		return ZX_ENOMEM;
	}
	m->o = *o;
	m->cfg = o->cfg;
	snprintf(m->topic, sizeof(m->topic), "%s", o->cfg->registry.topic);
	int rc = grow(m);
	if (rc == 0) {
		rc = metrics_setup(m);
	}
	if (rc == 0) {
		m->tick = event_new(o->base, -1, EV_PERSIST, on_tick, m);
		struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};
		rc = m->tick == NULL || event_add(m->tick, &tv) != 0 ? ZX_ENOMEM : 0;
	}
	if (rc == 0 && o->writer) {
		rc = ctopic_writer_new(&o->cfg->kafka, m->topic, o->client_id, o->base, &m->w, err,
		                         errlen);
	}
	if (rc == 0) {
		struct ctopic_hooks h = {.record = on_record, .caught_up = on_caught_up};
		rc = ctopic_follow_new(&o->cfg->kafka, m->topic, o->client_id, o->base, &h, m, &m->f,
		                         err, errlen);
	}
	if (rc != 0) {
		regmirror_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

void regmirror_free(struct regmirror *m)
{
	if (m == NULL) {
		return;
	}
	ctopic_writer_free(m->w); /* writes still queued: on_stored(ZX_ESHUTDOWN) */
	pending_check(m, true, ZX_ESHUTDOWN);
	ctopic_follow_free(m->f);
	if (m->tick != NULL) {
		event_free(m->tick);
	}
	for (size_t i = 0; i < m->nb; i++) {
		for (struct ent *e = m->b[i], *n; e != NULL; e = n) {
			n = e->hnext;
			ent_free(m, e);
		}
	}
	free(m->b);
	free(m->sorted);
	free(m);
}

/* ---- reading ----------------------------------------------------------------------- */

bool regmirror_caught_up(const struct regmirror *m)
{
	return ctopic_caught_up(m->f);
}

void regmirror_why_not(const struct regmirror *m, char *buf, size_t size)
{
	struct ctopic_stats st;
	ctopic_follow_stats(m->f, &st);
	if (st.caught_up) {
		snprintf(buf, size, "%s", "");
	} else if (st.topic_missing) {
		snprintf(buf, size, "registry topic %s missing", m->topic);
	} else if (st.partitions == 0) {
		snprintf(buf, size, "registry topic %s: waiting for its metadata", m->topic);
	} else {
		snprintf(buf, size, "registry topic %s: reading (%zu zones so far)", m->topic, m->count);
	}
}

int regmirror_get(const struct regmirror *m, const char *name, struct regmirror_rec *out)
{
	uint8_t wire[DNAME_MAXLEN];
	char text[DNAME_TEXTLEN];
	size_t wlen;
	if (canon(name, wire, &wlen, text, sizeof(text)) != 0) {
		return ZX_EINVAL;
	}
	const struct ent *e = *slot(m, wire, wlen);
	if (e == NULL) {
		return ZX_ENOTFOUND;
	}
	*out = (struct regmirror_rec){.name = e->name, .rec = e->rec, .rec_len = e->rec_len,
	                              .partition = e->partition, .offset = e->offset,
	                              .shadowed = e->shadowed, .zone = e->zone,
	                              .problem = e->problem};
	return 0;
}

const struct cfg_zone *regmirror_zone(const struct regmirror *m, const uint8_t *name)
{
	int len = dname_wire_len(name, DNAME_MAXLEN);
	if (len <= 0) {
		return NULL;
	}
	const struct ent *e = *slot(m, name, (size_t)len);
	return e != NULL && !e->shadowed ? e->zone : NULL;
}

size_t regmirror_each(const struct regmirror *m,
                      void (*fn)(void *ctx, const char *name, const struct cfg_zone *z),
                      void *ctx)
{
	size_t n = 0;
	for (size_t i = 0; i < m->nb; i++) {
		for (const struct ent *e = m->b[i]; e != NULL; e = e->hnext) {
			if (!e->shadowed && e->zone != NULL) {
				fn(ctx, e->name, e->zone);
				n++;
			}
		}
	}
	return n;
}

size_t regmirror_count(const struct regmirror *m)
{
	return m->count;
}

size_t regmirror_bytes(const struct regmirror *m)
{
	return m->bytes + m->nb * sizeof(*m->b);
}

static int by_name(const void *a, const void *b)
{
	return strcmp((*(struct ent *const *)a)->name, (*(struct ent *const *)b)->name);
}

size_t regmirror_list(struct regmirror *m, const char *after, const char **names, size_t max)
{
	if (m->dirty || m->sorted == NULL) {
		struct ent **v = realloc(m->sorted, (m->count ? m->count : 1) * sizeof(*v));
		if (v == NULL) {
			return 0;
		}
		size_t n = 0;
		for (size_t i = 0; i < m->nb; i++) {
			for (struct ent *e = m->b[i]; e != NULL; e = e->hnext) {
				v[n++] = e;
			}
		}
		qsort(v, n, sizeof(*v), by_name);
		m->sorted = v;
		m->nsorted = n;
		m->dirty = false;
	}
	size_t lo = 0, hi = m->nsorted;
	if (after != NULL && after[0] != '\0') {
		while (lo < hi) { /* the first name > after */
			size_t mid = lo + (hi - lo) / 2;
			if (strcmp(m->sorted[mid]->name, after) <= 0) {
				lo = mid + 1;
			} else {
				hi = mid;
			}
		}
	}
	size_t n = 0;
	for (size_t i = lo; i < m->nsorted && n < max; i++) {
		names[n++] = m->sorted[i]->name;
	}
	return n;
}
