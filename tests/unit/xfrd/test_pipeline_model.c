/* SPDX-License-Identifier: MIT */
/* tests/unit/xfrd/test_pipeline_model.c -- a model test of the scheduler (xfrd/zone/sched.c)
 * and the offset tracker (xfrd/kafka/offtrack.c) driven together, as xfrd/kafka/consumer.c drives
 * them.
 *
 * A small world: zones with a primary whose serial moves, a Kafka log per partition
 * (messages with serial hints, forced retransfers, gaps), a consumer that reads,
 * commits, and has partitions revoked, lost and assigned again; transfers end in any
 * order with a result (the primary's serial at their start, "up to date", or a
 * failure). Random steps, seeded; after every step the invariants are checked:
 *
 *   I1  commit safety: neither the committable position of a partition nor what was
 *       committed passes a request that is not finished in the world. Finished in the
 *       world (the oracle, independent of sched and offtrack): after the request was
 *       produced, a transfer of its zone that started after it (a forced one for a
 *       forced request) ended, or the zone held at least its serial hint (RFC 1982)
 *       when a transfer ended.
 *   I2  one transfer per zone: sched never starts a zone that runs, and its counts
 *       agree with the transfers the world sees running.
 *   I3  nothing lost: once quiet (every transfer ended, every event delivered,
 *       committed), every request read is finished and committed.
 *   I4  every finished request is reported from sched_finished() (into the batch of
 *       the outcome being handled) and at most once per reading.
 *
 * The driver is thin on purpose (the scheduler is redesigned in issue 12): the
 * drv_* functions are the only ones that call sched_* and offtrack_*; they mirror
 * on_message(), on_outcome(), batch_finish(), commit_cb() and on_revoke() of the
 * consumer. Everything else is the world and the invariants.
 *
 * Reproduce: ZX_MODEL_SEED=N (one run of that seed), ZX_MODEL_RUNS, ZX_MODEL_STEPS.
 * A failure prints the seed, the step and the last steps taken.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/cfg/cfg.h"
#include "common/dname.h"
#include "common/serial.h"
#include "xfrd/kafka/offtrack.h"
#include "xfrd/zone/sched.h"
#include "xfrd/zone/zone.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NZONES 9
#define NPARTS 3
#define TRAIL 24 /* steps remembered for a failure report */

/* ---- the world ------------------------------------------------------------ */

struct msg {
	int zone;
	bool has_hint, force;
	uint32_t hint;
	uint64_t produced; /* world clock */
	bool gap;          /* an offset with no message (compaction, transaction marker) */
	bool sat;          /* oracle: finished in the world */
	int stale_done;    /* epoch in which a ref of an older epoch finished it; 0 none */
};

struct part {
	struct msg *log; /* index = offset */
	int64_t len, cap;
	bool assigned;
	int epoch;         /* assignments so far: refs of an older one may be stale */
	int64_t readpos;   /* next offset the consumer reads */
	int64_t read_end;  /* one past the last offset read (the committed one at assignment) */
	int64_t committed; /* Kafka's committed position (survives revocation) */
	int64_t unsat;     /* oracle: every message below this one is finished */
};

struct transfer {
	bool running;
	bool force;
	uint64_t started; /* world clock */
	uint32_t soa;     /* the primary's serial at the start (the SOA check) */
};

struct ref {
	int32_t p;
	int64_t off;
	int epoch;
};

struct batch {
	struct ref *refs;
	size_t n, cap;
};

struct world {
	uint64_t rng, seed;
	uint64_t clock;
	long step;
	char trail[TRAIL][96];
	uint32_t primary[NZONES];
	bool has[NZONES];
	uint32_t held[NZONES];
	struct transfer tr[NZONES];
	struct part parts[NPARTS];
	struct batch *pending; /* outcomes whose event is not yet delivered */
	size_t npending, cappending;
	struct batch *cur;     /* the batch of the outcome being handled */
	struct sched *s;
	struct zonetab *zt;         /* the zone records the scheduler works on */
	struct zone *zr[NZONES];
	struct offtrack *ot;
	int starts, cancels;
};

static const char *const zone_names[NZONES] = {"a.", "b.", "c.", "d.", "e.", "f.", "g.", "h.", "i."};

static uint64_t rnd(struct world *w)
{
	uint64_t z = (w->rng += 0x9e3779b97f4a7c15ull); /* splitmix64 */
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned pick(struct world *w, unsigned n)
{
	return (unsigned)(rnd(w) % n);
}

static int zone_of(const char *name)
{
	for (int z = 0; z < NZONES; z++) {
		if (strcmp(zone_names[z], name) == 0) {
			return z;
		}
	}
	return -1;
}

static int32_t part_of(int z)
{
	return z % NPARTS; /* Kafka's key = zone: a zone always lands in one partition */
}

static void note(struct world *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct world *w, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->trail[w->step % TRAIL], sizeof(w->trail[0]), fmt, ap);
	va_end(ap);
}

static void violated(struct world *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void violated(struct world *w, const char *fmt, ...)
{
	char why[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	fprintf(stderr, "model: seed=%llu step=%ld: %s\nmodel: last steps:\n",
	        (unsigned long long)w->seed, w->step, why);
	for (long i = w->step - TRAIL + 1; i <= w->step; i++) {
		if (i >= 0) {
			fprintf(stderr, "  %6ld %s\n", i, w->trail[i % TRAIL]);
		}
	}
	fail_msg("invariant violated (seed %llu, reproduce with ZX_MODEL_SEED=%llu)",
	         (unsigned long long)w->seed, (unsigned long long)w->seed);
}

/* ---- the driver: the consumer's calls into sched and offtrack -------------- */

static void on_start(void *ctx, struct zone *zr, unsigned flags)
{
	struct world *w = ctx;
	const char *zone = zone_name_text(zr);
	bool force = flags != 0;
	int z = zone_of(zone);
	if (z < 0 || w->tr[z].running) {
		violated(w, "I2: sched started %s while a transfer of it runs", zone);
	}
	w->tr[z] = (struct transfer){.running = true, .force = force, .started = ++w->clock,
	                             .soa = w->primary[z]};
	w->starts++;
}

static void on_done(void *ctx, struct zone *zr, const struct zone_req *req)
{
	struct world *w = ctx;
	struct zone_req ref = *req;
	if (w->cur == NULL) {
		violated(w, "I4: %s offset %lld reported done outside sched_finished()",
		         zone_name_text(zr), (long long)ref.offset);
	}
	struct batch *b = w->cur;
	if (b->n == b->cap) {
		b->cap = b->cap == 0 ? 8 : b->cap * 2;
		b->refs = realloc(b->refs, b->cap * sizeof(*b->refs));
		assert_non_null(b->refs);
	}
	b->refs[b->n++] = (struct ref){ref.partition, ref.offset, w->parts[ref.partition].epoch};
}

static void on_cancel(void *ctx, struct zone *zr)
{
	struct world *w = ctx;
	const char *zone = zone_name_text(zr);
	int z = zone_of(zone);
	if (z < 0 || !w->tr[z].running) {
		violated(w, "sched cancelled %s, which does not run", zone);
	}
	w->cancels++; /* the consumer lets it run to its end (consumer_sched_cancel) */
}

/* on_message(): offtrack_read(), then sched_request() */
static void drv_read(struct world *w, int32_t p, int64_t off, const struct msg *m)
{
	assert_int_equal(offtrack_read(w->ot, p, off), 0);
	struct zone_req q = {.partition = p, .offset = off, .has_serial = m->has_hint,
	                     .serial = m->hint};
	assert_int_equal(sched_request(w->s, w->zr[m->zone], &q, m->force ? ZONE_FORCE_AXFR : 0), 0);
}

/* a refresh timer's request: no offset */
static void drv_timer(struct world *w, int z)
{
	struct zone_req q = {.partition = part_of(z), .offset = -1};
	assert_int_equal(sched_request(w->s, w->zr[z], &q, 0), 0);
}

/* on_outcome(): sched_finished() with what the zone holds now, into a new batch */
static struct batch drv_finished(struct world *w, int z)
{
	struct batch b = {0};
	w->cur = &b;
	assert_int_equal(sched_finished(w->s, w->zr[z], w->has[z], w->held[z]), 0);
	w->cur = NULL;
	return b;
}

/* batch_finish(): the event is stored, its offsets are finished */
static void drv_deliver(struct world *w, struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		const struct ref *r = &b->refs[i];
		struct part *pp = &w->parts[r->p];
		int rc = offtrack_done(w->ot, r->p, r->off);
		bool stale = r->epoch != pp->epoch;
		if (rc == 0 && stale) {
			pp->log[r->off].stale_done = pp->epoch;
		}
		/* refused, and rightly: revoked; or a ref read before a loss (the consumer does
		 * not wait for those), or the same offset read again and finished by such a ref */
		if (rc != 0 && !(rc == ZX_ENOENT && !pp->assigned) &&
		    !(rc == ZX_ENOTFOUND && (stale || pp->log[r->off].stale_done == pp->epoch))) {
			violated(w, "I4: offtrack_done(%d, %lld) = %s", r->p, (long long)r->off,
			         zx_strerror(rc));
		}
	}
	free(b->refs);
	*b = (struct batch){0};
}

/* commit_async() + commit_cb(): commit what is committable (the commit may fail) */
static void drv_commit(struct world *w, int32_t p, bool fails)
{
	int64_t pos = offtrack_committable(w->ot, p);
	if (pos < 0 || fails) {
		return;
	}
	assert_int_equal(offtrack_committed(w->ot, p, pos), 0);
	w->parts[p].committed = pos;
}

/* on_revoke(): the runtime drops the partition's zones first (runtime_own(): sched_drop()
 * of each zone placed there); offtrack_revoke() last */
static void drv_drop(struct world *w, int32_t p)
{
	for (int z = 0; z < NZONES; z++) {
		if (w->zr[z]->partition == p) {
			sched_drop(w->s, w->zr[z]);
		}
	}
}

static void drv_revoke(struct world *w, int32_t p)
{
	assert_int_equal(offtrack_revoke(w->ot, p, NULL), 0);
}

/* on_assign(): the committed offset is unknown to offtrack (-1); Kafka resumes there */
static void drv_assign(struct world *w, int32_t p)
{
	assert_int_equal(offtrack_assign(w->ot, p, -1), 0);
}

/* ---- the oracle and the invariants ------------------------------------------ */

/* A transfer of @p z ended: which requests did the world see finished? */
static void oracle_transfer_ended(struct world *w, int z, const struct transfer *t)
{
	struct part *pp = &w->parts[part_of(z)];
	for (int64_t o = pp->unsat; o < pp->len; o++) {
		struct msg *m = &pp->log[o];
		if (m->gap || m->sat || m->zone != z) {
			continue;
		}
		bool after = m->produced < t->started && (!m->force || t->force);
		bool reached = m->has_hint && !m->force && w->has[z] && !serial_newer(m->hint, w->held[z]);
		m->sat = after || reached;
	}
}

static int64_t first_unfinished(struct world *w, int32_t p)
{
	struct part *pp = &w->parts[p];
	while (pp->unsat < pp->len && (pp->log[pp->unsat].gap || pp->log[pp->unsat].sat)) {
		pp->unsat++;
	}
	return pp->unsat;
}

/* I1 */
static void inv_commit_safe(struct world *w)
{
	for (int32_t p = 0; p < NPARTS; p++) {
		int64_t limit = first_unfinished(w, p);
		int64_t pos = offtrack_committable(w->ot, p);
		if (pos > limit || w->parts[p].committed > limit) {
			limit = limit < w->parts[p].len ? limit : w->parts[p].len - 1;
			violated(w, "I1: partition %d: committable %lld, committed %lld, but offset "
			         "%lld (zone %s) is not finished", p, (long long)pos,
			         (long long)w->parts[p].committed, (long long)limit,
			         zone_names[w->parts[p].log[limit].zone]);
		}
	}
}

/* I2 (the start callback checks the rest) */
static void inv_one_transfer_per_zone(struct world *w)
{
	size_t running = 0;
	for (int z = 0; z < NZONES; z++) {
		running += w->tr[z].running;
		if ((w->zr[z]->run != ZONE_IDLE) != w->tr[z].running) {
			violated(w, "I2: sched says %s %s", zone_names[z],
			         w->tr[z].running ? "is idle, but it runs" : "runs, but it is idle");
		}
	}
	if (sched_running(w->s) != running) {
		violated(w, "I2: sched counts %zu running, the world %zu", sched_running(w->s),
		         running);
	}
}

/* I3: after quiesce() */
static void inv_nothing_lost(struct world *w)
{
	for (int32_t p = 0; p < NPARTS; p++) {
		const struct part *pp = &w->parts[p];
		if (!pp->assigned) {
			continue;
		}
		if (offtrack_in_flight(w->ot, p) != 0 || sched_scheduled(w->s) != 0 ||
		    pp->committed != pp->read_end) {
			violated(w, "I3: quiet, but partition %d has %zu in flight, committed %lld of "
			         "%lld read", p, offtrack_in_flight(w->ot, p), (long long)pp->committed,
			         (long long)pp->read_end);
		}
	}
}

/* ---- steps ---------------------------------------------------------------- */

static void push_pending(struct world *w, struct batch b)
{
	if (w->npending == w->cappending) {
		w->cappending = w->cappending == 0 ? 16 : w->cappending * 2;
		w->pending = realloc(w->pending, w->cappending * sizeof(*w->pending));
		assert_non_null(w->pending);
	}
	w->pending[w->npending++] = b;
}

static void deliver_at(struct world *w, size_t i)
{
	struct batch b = w->pending[i];
	w->pending[i] = w->pending[--w->npending];
	drv_deliver(w, &b);
}

static struct msg *append(struct part *pp)
{
	if (pp->len == pp->cap) {
		pp->cap = pp->cap == 0 ? 256 : pp->cap * 2;
		pp->log = realloc(pp->log, (size_t)pp->cap * sizeof(*pp->log));
		assert_non_null(pp->log);
	}
	struct msg *m = &pp->log[pp->len++];
	memset(m, 0, sizeof(*m));
	return m;
}

/* A primary changes (or not) and a request for its zone lands in Kafka. */
static void step_produce(struct world *w)
{
	int z = (int)pick(w, NZONES);
	struct part *pp = &w->parts[part_of(z)];
	if (pick(w, 10) == 0) {
		append(pp)->gap = true;
	}
	struct msg *m = append(pp);
	unsigned kind = pick(w, 20);
	if (kind < 12) { /* a change and its NOTIFY */
		w->primary[z] = serial_add(w->primary[z], 1 + pick(w, 3));
		*m = (struct msg){.zone = z, .has_hint = true, .hint = w->primary[z]};
	} else if (kind < 15) { /* a NOTIFY repeated, or one of an older serial */
		*m = (struct msg){.zone = z, .has_hint = true, .hint = w->primary[z] - pick(w, 3)};
	} else if (kind < 16) { /* forged: a serial the primary never had */
		*m = (struct msg){.zone = z, .has_hint = true, .hint = w->primary[z] + 1000};
	} else if (kind < 19) { /* an operator's refresh: no hint */
		*m = (struct msg){.zone = z};
	} else { /* an operator's retransfer */
		*m = (struct msg){.zone = z, .force = true};
	}
	m->produced = ++w->clock;
	note(w, "produce p%d@%lld %s hint=%s%u%s", part_of(z), (long long)(pp->len - 1),
	     zone_names[z], m->has_hint ? "" : "none/", m->hint, m->force ? " force" : "");
}

static void step_read(struct world *w, int32_t p)
{
	struct part *pp = &w->parts[p];
	while (pp->readpos < pp->len && pp->log[pp->readpos].gap) {
		pp->readpos++;
	}
	if (!pp->assigned || pp->readpos >= pp->len) {
		note(w, "read p%d: nothing", p);
		return;
	}
	int64_t off = pp->readpos++;
	pp->read_end = off + 1;
	note(w, "read p%d@%lld %s", p, (long long)off, zone_names[pp->log[off].zone]);
	drv_read(w, p, off, &pp->log[off]);
}

/* A running transfer ends: a new serial, up to date, or failed. */
static void end_transfer(struct world *w, int z)
{
	struct transfer t = w->tr[z];
	unsigned how = pick(w, 10);
	const char *what = "failed";
	if (how < 7 && (!w->has[z] || serial_newer(t.soa, w->held[z]) || t.force)) {
		w->has[z] = true;
		w->held[z] = t.soa;
		what = "transferred";
	} else if (how < 7) {
		what = "uptodate";
	}
	w->tr[z].running = false;
	oracle_transfer_ended(w, z, &t);
	note(w, "end %s %s serial=%u%s", zone_names[z], what, w->held[z], t.force ? " forced" : "");
	struct batch b = drv_finished(w, z);
	if (b.n > 0 && pick(w, 3) != 0) {
		push_pending(w, b); /* a ZoneUpdated event on its way */
	} else {
		drv_deliver(w, &b); /* no event needed, or delivered at once */
	}
}

static void step_end(struct world *w)
{
	int z = (int)pick(w, NZONES);
	for (int i = 0; i < NZONES && !w->tr[z].running; i++) {
		z = (z + 1) % NZONES;
	}
	if (!w->tr[z].running) {
		note(w, "end: nothing runs");
		return;
	}
	end_transfer(w, z);
}

static void step_deliver(struct world *w)
{
	if (w->npending == 0) {
		note(w, "deliver: nothing pending");
		return;
	}
	size_t i = pick(w, (unsigned)w->npending);
	note(w, "deliver %zu refs", w->pending[i].n);
	deliver_at(w, i);
}

static void step_commit(struct world *w)
{
	bool fails = pick(w, 8) == 0;
	note(w, "commit%s", fails ? " (fails)" : "");
	for (int32_t p = 0; p < NPARTS; p++) {
		if (w->parts[p].assigned) {
			drv_commit(w, p, fails);
		}
	}
}

/* Revocation: cooperative (wait for the zone's transfers and events, commit) or lost. */
static void step_revoke(struct world *w, int32_t p, bool lost)
{
	if (!w->parts[p].assigned) {
		w->parts[p].assigned = true;
		w->parts[p].epoch++;
		w->parts[p].readpos = w->parts[p].read_end = w->parts[p].committed;
		note(w, "assign p%d from %lld", p, (long long)w->parts[p].committed);
		drv_assign(w, p);
		return;
	}
	note(w, "%s p%d", lost ? "lose" : "revoke", p);
	drv_drop(w, p);
	if (!lost) {
		for (int z = 0; z < NZONES; z++) {
			if (w->tr[z].running && part_of(z) == p) {
				end_transfer(w, z);
			}
		}
		while (w->npending > 0) {
			deliver_at(w, 0);
		}
		drv_commit(w, p, false);
	}
	drv_revoke(w, p);
	w->parts[p].assigned = false;
}

/* Let everything settle: all transfers end (more may start), events go out, commit. */
static void quiesce(struct world *w)
{
	for (int round = 0; round < 100; round++) {
		bool busy = false;
		for (int z = 0; z < NZONES; z++) {
			if (w->tr[z].running) {
				busy = true;
				end_transfer(w, z);
			}
		}
		while (w->npending > 0) {
			deliver_at(w, 0);
		}
		if (!busy) {
			break;
		}
	}
	for (int32_t p = 0; p < NPARTS; p++) {
		if (w->parts[p].assigned) {
			drv_commit(w, p, false);
		}
	}
	note(w, "quiesce");
	inv_nothing_lost(w);
}

static void one_step(struct world *w)
{
	unsigned r = pick(w, 100);
	if (r < 30) {
		step_produce(w);
	} else if (r < 55) {
		step_read(w, (int32_t)pick(w, NPARTS));
	} else if (r < 58) {
		int z = (int)pick(w, NZONES);
		note(w, "timer %s", zone_names[z]);
		if (w->parts[part_of(z)].assigned) {
			drv_timer(w, z);
		}
	} else if (r < 80) {
		step_end(w);
	} else if (r < 88) {
		step_deliver(w);
	} else if (r < 96) {
		step_commit(w);
	} else if (r < 99) {
		step_revoke(w, (int32_t)pick(w, NPARTS), pick(w, 2) == 0);
	} else {
		quiesce(w);
	}
	inv_commit_safe(w);
	inv_one_transfer_per_zone(w);
}

static void run_model(uint64_t seed, long steps, int *starts, int *cancels)
{
	struct world *w = calloc(1, sizeof(*w));
	assert_non_null(w);
	w->seed = w->rng = seed;
	static const struct sched_hooks hooks = {.start = on_start, .done = on_done,
	                                         .cancel = on_cancel};
	w->s = sched_new(&hooks, w);
	w->ot = offtrack_new();
	w->zt = zonetab_new();
	assert_non_null(w->s);
	assert_non_null(w->zt);
	for (int z = 0; z < NZONES; z++) {
		uint8_t wire[DNAME_MAXLEN];
		assert_true(dname_from_text(zone_names[z], wire) > 0);
		struct cfg_zone cz = {.name = wire, .name_text = zone_names[z]};
		struct zone_settings *set = NULL;
		assert_int_equal(zone_settings_from_cfg(&cz, &set), 0);
		assert_int_equal(zonetab_add(w->zt, set, &w->zr[z]), 0);
		w->zr[z]->partition = part_of(z); /* the runtime places it (reqtopic_partition) */
	}
	assert_non_null(w->ot);
	uint32_t base = pick(w, 2) ? (uint32_t)rnd(w) : 0xffffff00u; /* sometimes near the wrap */
	for (int z = 0; z < NZONES; z++) {
		w->primary[z] = base + (uint32_t)z;
	}
	for (int32_t p = 0; p < NPARTS; p++) {
		w->parts[p].assigned = true;
		drv_assign(w, p);
	}
	for (w->step = 0; w->step < steps; w->step++) {
		one_step(w);
	}
	quiesce(w);
	*starts += w->starts;
	*cancels += w->cancels;
	sched_free(w->s);
	zonetab_free(w->zt);
	offtrack_free(w->ot);
	for (size_t i = 0; i < w->npending; i++) {
		free(w->pending[i].refs);
	}
	free(w->pending);
	for (int32_t p = 0; p < NPARTS; p++) {
		free(w->parts[p].log);
	}
	free(w);
}

static long env_long(const char *name, long dflt)
{
	const char *v = getenv(name);
	return v != NULL && *v != '\0' ? strtol(v, NULL, 0) : dflt;
}

static void test_model_sched_and_offtrack_never_commit_unfinished(void **state)
{
	(void)state;
	long runs = env_long("ZX_MODEL_RUNS", 100);
	long steps = env_long("ZX_MODEL_STEPS", 10000);
	const char *one = getenv("ZX_MODEL_SEED");
	int starts = 0, cancels = 0;
	if (one != NULL && *one != '\0') {
		runs = 1;
	}
	for (long i = 0; i < runs; i++) {
		uint64_t seed = one != NULL && *one != '\0' ? strtoull(one, NULL, 0) : (uint64_t)i + 1;
		run_model(seed, steps, &starts, &cancels);
	}
	printf("model: %ld runs x %ld steps, %d transfers started, %d cancelled\n", runs, steps,
	       starts, cancels);
	/* the model must reach the interesting places, or it proves nothing */
	assert_true(starts > runs * steps / 20);
	assert_true(cancels > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model_sched_and_offtrack_never_commit_unfinished),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
