/* SPDX-License-Identifier: MIT */
/* xfrd/main.c -- xfrd's entry point: config, store, transfer engine, then one mode.
 *
 *   xfrd -c zx.yaml              the service (xfrd/pipeline.h): a member of the
 *                                consumer group on kafka.requests-topic; refresh
 *                                timers go through Kafka; "zone updated" events,
 *                                the DNS endpoint, /metrics, /health, /ready.
 *                                (--pipeline names this mode explicitly.)
 *   xfrd -c zx.yaml --standalone without Kafka: every zone is refreshed at start
 *                                (AXFR for zones the store lacks, SOA check + IXFR
 *                                for the others), then again by its SOA timers:
 *                                refresh after a success, retry after a failure
 *                                (both clamped by xfrd.refresh / xfrd.retry and
 *                                shortened by up to xfrd.jitter), and a zone whose
 *                                last success is older than its expire is marked
 *                                expired. The DNS endpoint and the downstream
 *                                NOTIFY sender (zone `notify:`) run on their own
 *                                threads.
 *                                SIGINT/SIGTERM stop it.
 *   xfrd -c zx.yaml --once       one refresh of every zone (or of the --zone ones),
 *                                then exit: 0 when all are current, 1 otherwise.
 *   --force-axfr                 full retransfer instead of SOA check + IXFR (the
 *                                serial already held may be stored again).
 *   --force                      as --force-axfr, and an older serial may be stored
 *                                (an operator's decision; logged at warn).
 *   --workers N                  transfer worker threads (default 2).
 */
#include "common/cfg.h"
#include "common/dnsmsg.h"
#include "common/log.h"
#include "common/zdb.h"
#include "xfrd/engine.h"
#include "xfrd/notifier.h"
#include "xfrd/pipeline.h"
#include "xfrd/serve.h"
#include "xfrd/store.h"

#include <event2/event.h>
#include <pthread.h>

#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static volatile sig_atomic_t stop_flag;
static volatile sig_atomic_t hup_flag; /* SIGHUP: no reload yet; said in the log */

/* Timer state of one zone; written by the engine callback, read by the main loop. */
struct ztimer {
	const struct cfg_zone *zone;
	atomic_int busy;     /* a refresh is in flight */
	atomic_int outcome;  /* enum xfr_outcome of the last refresh; 0 none yet */
	int64_t due;         /* main thread only: when to refresh next */
	struct notifier *nt; /* NOTIFY downstream after a new serial; thread-safe post */
};

struct ctx {
	const struct cfg *cfg;
	struct zdb *db;
	struct engine *eng;
	struct ztimer *t;
	size_t n;
	struct notifier *nt;
	atomic_int failures;
};

static void on_signal(int sig)
{
	if (sig == SIGHUP) {
		hup_flag = 1;
	} else {
		stop_flag = 1;
	}
}

static void on_done(void *arg, const struct engine_result *res)
{
	struct ztimer *t = arg;
	if (res->xfr.outcome == XFR_AXFR || res->xfr.outcome == XFR_IXFR) {
		notifier_post(t->nt, res->zone, res->xfr.commit.serial);
	}
	atomic_store(&t->outcome, (int)res->xfr.outcome);
	atomic_store(&t->busy, 0);
}

static void on_done_once(void *arg, const struct engine_result *res)
{
	struct ctx *c = arg;
	if (res->xfr.outcome == XFR_FAILED) {
		atomic_fetch_add(&c->failures, 1);
	}
}

static uint64_t clamp(uint64_t v, const struct cfg_clamp *c)
{
	return v < c->min_ms ? c->min_ms : v > c->max_ms ? c->max_ms : v;
}

static uint64_t jitter(uint64_t ms, uint32_t pct)
{
	uint32_t r = 0;
	if (pct == 0 || getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r)) {
		return ms;
	}
	return ms - ms * pct / 100 * (r % 1000) / 1000;
}

/* After a refresh: when is the next one due, and has the zone expired? */
static void reschedule(struct ctx *c, struct ztimer *t, int64_t now)
{
	struct zdb_zone_info info;
	struct zdb_snap *s = NULL;
	struct dns_soa soa = {.refresh = 3600, .retry = 600, .expire = 604800};
	bool have = zdb_snap_begin(c->db, &s) == 0 && zdb_zone_get(s, t->zone->name, &info) == 0;
	zdb_snap_end(s);
	struct dns_soa stored;
	if (have && info.loaded && dnsmsg_soa_parse(info.soa_rdata, info.soa_rdlen, &stored) == 0) {
		soa = stored;
	}
	bool ok = atomic_load(&t->outcome) != XFR_FAILED;
	uint64_t ms = ok ? clamp((uint64_t)soa.refresh * 1000, &t->zone->refresh)
	                 : clamp((uint64_t)soa.retry * 1000, &t->zone->retry);
	t->due = now + (int64_t)(jitter(ms, c->cfg->xfrd.jitter_pct) / 1000);
	uint64_t expire = clamp((uint64_t)soa.expire * 1000, &t->zone->expire) / 1000;
	if (!ok && have && info.loaded && info.state != ZDB_STATE_EXPIRED &&
	    now - info.last_success > (int64_t)expire) {
		if (zdb_zone_set_state(c->db, t->zone->name, ZDB_STATE_EXPIRED, now) == 0) {
			log_warn("zone_expired", "zone=%s serial=%u last_success=%lld",
			         t->zone->name_text, info.serial, (long long)info.last_success);
		}
	}
}

static void refresh_loop(struct ctx *c)
{
	while (!stop_flag) {
		if (hup_flag) {
			hup_flag = 0;
			log_warn("reload_unsupported",
			         "signal=HUP hint=\"restart xfrd to apply config changes\"");
		}
		int64_t now = (int64_t)time(NULL);
		for (size_t i = 0; i < c->n; i++) {
			struct ztimer *t = &c->t[i];
			if (atomic_load(&t->busy)) {
				continue;
			}
			if (atomic_load(&t->outcome) != 0) {
				reschedule(c, t, now);
				atomic_store(&t->outcome, 0);
			}
			if (t->due > now) {
				continue;
			}
			atomic_store(&t->busy, 1);
			t->due = INT64_MAX;
			if (engine_request(c->eng, t->zone, 0, on_done, t) != 0) {
				atomic_store(&t->busy, 0);
				t->due = now + 10;
			}
		}
		struct timespec tick = {.tv_sec = 1};
		nanosleep(&tick, NULL);
	}
}

static int run_once(struct ctx *c, unsigned flags, char *const *zones, int nz)
{
	for (size_t i = 0; i < c->cfg->zone_count; i++) {
		const struct cfg_zone *z = &c->cfg->zones[i];
		bool wanted = nz == 0;
		for (int k = 0; k < nz && !wanted; k++) {
			uint8_t w[DNAME_MAXLEN];
			wanted = dname_from_text(zones[k], w) > 0 && dname_equal(w, z->name);
		}
		if (wanted && engine_request(c->eng, z, flags, on_done_once, c) != 0) {
			atomic_fetch_add(&c->failures, 1);
		}
	}
	engine_wait_idle(c->eng);
	return atomic_load(&c->failures) == 0 ? 0 : 1;
}

/* Commit threads: enough for the commits of many small zones to overlap into
 * group commits, never more than the transfers that may run at once. */
#define COMMIT_THREADS 8
/* Snapshots the daemon's own loops may hold at once besides the transfers (the
 * refresh timers, the consumer, health checks, the notifier, the main loop). */
#define READERS_OWN 16
/* Slots left for the other processes on this host: xfrctl, zx-follow --store,
 * zone builders reading the store. */
#define READERS_OTHERS 64

/* LMDB reader slots (one per snapshot open at once, in all processes), sized so
 * that no number of DNS clients can take the slots the transfers need: the
 * endpoint holds at most serve.transfers of them (+1 for the one-message
 * answers, which it makes one at a time), the engine one per running transfer
 * and per commit thread, plus READERS_OWN and READERS_OTHERS. */
static unsigned store_readers(const struct cfg *cfg)
{
	const struct cfg_xfrd *x = &cfg->xfrd;
	return x->serve_transfers + 1 + x->transfers_max + COMMIT_THREADS + READERS_OWN +
	       READERS_OTHERS;
}

static int open_store(const struct cfg *cfg, struct zdb **db)
{
	struct zdb_opts o;
	zdb_opts_init(&o);
	o.path = cfg->xfrd.store;
	o.max_readers = store_readers(cfg);
	o.map_size = cfg->xfrd.store_size;
	o.journal_count = cfg->xfrd.journal_changes;
	o.journal_bytes = cfg->xfrd.journal_bytes;
	/* none|nometa|full: "none" is for tests and benchmarks only */
	const char *sync = getenv("ZX_STORE_SYNC");
	if (sync != NULL && strcmp(sync, "none") == 0) {
		o.sync = ZDB_SYNC_NONE;
	} else if (sync != NULL && strcmp(sync, "nometa") == 0) {
		o.sync = ZDB_SYNC_NOMETA;
	} else if (sync != NULL && strcmp(sync, "full") == 0) {
		o.sync = ZDB_SYNC_FULL;
	} else if (sync != NULL) {
		log_warn("store_sync_unknown", "ZX_STORE_SYNC=%s kept=default", sync);
	}
	int rc = zdb_open(&o, db);
	if (rc != 0) {
		log_error("store_open_failed", "path=%s error=%s detail=\"%s\"", o.path,
		          zx_strerror(rc), zdb_last_error());
	} else if (zdb_max_readers(*db) < o.max_readers) {
		/* LMDB keeps the size of whoever opened the environment first */
		log_warn("store_readers_short", "path=%s readers=%u want=%u hint=\"a reader "
		         "(zx-follow --store, a zone builder) kept the store open across the "
		         "restart; restart it after xfrd\"", o.path, zdb_max_readers(*db),
		         o.max_readers);
	}
	return rc;
}

static int start_engine(struct ctx *c, unsigned workers)
{
	const struct cfg_xfrd *x = &c->cfg->xfrd;
	struct engine_opts o = {
		.workers = workers,
		.commit_threads = x->transfers_max < COMMIT_THREADS ? x->transfers_max
		                                                    : COMMIT_THREADS,
		.max_transfers = x->transfers_max,
		.per_primary = x->transfers_per_primary, .connect_ms = x->timeout_connect_ms,
		.read_ms = x->timeout_read_ms, .soa_ms = x->timeout_soa_ms / 2,
		.transfer_ms = x->timeout_transfer_ms, .ops = &store_ops, .store = c->db,
	};
	int rc = engine_new(&o, &c->eng);
	if (rc != 0) {
		log_error("engine_start_failed", "error=%s", zx_strerror(rc));
	}
	return rc;
}

/* The standalone mode's DNS endpoint: its own loop on its own thread, so the
 * refresh loop's one-second ticks never delay an answer. */
struct serve_thread {
	struct event_base *base;
	struct serve *srv;
	pthread_t th;
	bool running;
};

static void *serve_main(void *arg)
{
	struct serve_thread *st = arg;
	(void)event_base_dispatch(st->base);
	return NULL;
}

static int serve_thread_start(struct serve_thread *st, const struct cfg *cfg, struct zdb *db)
{
	if (cfg->xfrd.listen.count == 0) {
		return 0;
	}
	/* the engine called evthread_use_pthreads(): this base may be stopped from main */
	st->base = event_base_new();
	if (st->base == NULL) {
		return ZX_ENOMEM;
	}
	struct serve_opts so;
	serve_opts_from_cfg(&so, cfg, db);
	int rc = serve_new(&so, &st->srv);
	if (rc == 0) {
		rc = serve_start(st->srv, st->base);
	}
	if (rc == 0 && pthread_create(&st->th, NULL, serve_main, st) != 0) {
		rc = ZX_ENOMEM;
	}
	st->running = rc == 0;
	if (rc != 0) {
		log_error("serve_start_failed", "error=%s", zx_strerror(rc));
	}
	return rc;
}

static void serve_thread_stop(struct serve_thread *st)
{
	if (st->running) {
		event_base_loopbreak(st->base);
		pthread_join(st->th, NULL);
		st->running = false;
	}
	serve_free(st->srv);
	st->srv = NULL;
	if (st->base != NULL) {
		event_base_free(st->base);
		st->base = NULL;
	}
}

static void usage(FILE *to)
{
	fprintf(to, "usage: xfrd -c CONFIG [--pipeline | --standalone | --once [--zone NAME]...]\n"
	                "            [--force-axfr | --force] [--workers N]\n       xfrd --version\n");
}

struct args {
	const char *path;
	bool once;
	bool standalone; /* refresh timers without Kafka */
	unsigned flags, workers;
	char *zones[64];
	int nz;
};

/* Returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'}, {"once", no_argument, NULL, 'o'},
		{"zone", required_argument, NULL, 'z'},   {"force-axfr", no_argument, NULL, 'f'},
		{"workers", required_argument, NULL, 'w'}, {"version", no_argument, NULL, 'V'},
		{"pipeline", no_argument, NULL, 'P'},   {"standalone", no_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},       {"force", no_argument, NULL, 'F'},
		{NULL, 0, NULL, 0},
	};
	int ch;
	while ((ch = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		if (ch == 'c') {
			a->path = optarg;
		} else if (ch == 'o') {
			a->once = true;
		} else if (ch == 'z' && a->nz < 64) {
			a->zones[a->nz++] = optarg;
		} else if (ch == 'f') {
			a->flags |= ENGINE_FORCE_AXFR;
		} else if (ch == 'F') {
			a->flags |= ENGINE_FORCE_AXFR | ENGINE_FORCE_OLDER;
		} else if (ch == 'w') {
			a->workers = (unsigned)strtoul(optarg, NULL, 10);
		} else if (ch == 'P') {
			a->standalone = false; /* the default, named */
		} else if (ch == 'S') {
			a->standalone = true;
		} else if (ch == 'V') {
			printf("xfrd 0.1.0\n");
			return 0;
		} else if (ch == 'h') {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (a->path == NULL || a->workers == 0) {
		usage(stderr);
		return 2;
	}
	return -1;
}

static int run(struct ctx *c, const struct args *a)
{
	if (open_store(c->cfg, &c->db) != 0 || start_engine(c, a->workers) != 0) {
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	if (!a->once) { /* --once: SIGINT/SIGTERM keep their default, killing the pass */
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		signal(SIGHUP, on_signal); /* no reload yet: logged, not fatal */
	}
	log_info("xfrd_started", "config=%s zones=%zu store=%s mode=%s", a->path,
	         c->cfg->zone_count, c->cfg->xfrd.store,
	         a->once ? "once" : a->standalone ? "standalone" : "pipeline");
	if (a->once) {
		return run_once(c, a->flags, a->zones, a->nz);
	}
	if (!a->standalone) {
		return pipeline_run(c->cfg, c->db, &c->eng) == 0 ? 0 : 1; /* frees the engine */
	}
	c->n = c->cfg->zone_count;
	c->t = calloc(c->n, sizeof(*c->t));
	if (c->t == NULL) {
		return 1;
	}
	for (size_t i = 0; i < c->n; i++) {
		c->t[i].zone = &c->cfg->zones[i];
	}
	struct notifier_opts no = {.cfg = c->cfg}; /* its own base and thread */
	if (notifier_new(&no, &c->nt) != 0 || notifier_start(c->nt) != 0) {
		log_error("notifier_start_failed", NULL);
		return 1;
	}
	for (size_t i = 0; i < c->n; i++) {
		c->t[i].nt = c->nt;
	}
	struct serve_thread st = {0};
	if (serve_thread_start(&st, c->cfg, c->db) != 0) {
		serve_thread_stop(&st);
		return 1;
	}
	refresh_loop(c); /* in-flight refreshes are aborted by engine_free() */
	serve_thread_stop(&st);
	return 0;
}

int main(int argc, char **argv)
{
	struct args a = {.workers = 2};
	log_init("xfrd", 2);
	int status = parse_args(argc, argv, &a);
	if (status >= 0) {
		return status;
	}
	struct ctx c = {0};
	struct cfg *cfg = NULL;
	char err[4096];
	int rc = cfg_load(a.path, &cfg, err, sizeof(err));
	if (rc != 0) {
		size_t n = strlen(err);
		fprintf(stderr, "%s%s", err, n > 0 && err[n - 1] == '\n' ? "" : "\n");
		return 1;
	}
	log_set_level(cfg->log_level);
	c.cfg = cfg;
	status = run(&c, &a);
	engine_free(c.eng);
	notifier_free(c.nt); /* after the engine: its callbacks post until engine_free() */
	free(c.t);
	zdb_close(c.db);
	cfg_free(cfg);
	return status;
}
