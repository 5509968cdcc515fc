/* SPDX-License-Identifier: MIT */
/* xfrd/main.c -- xfrd's entry point: config, store, transfer engine, then one mode.
 *
 *   xfrd -c zx.yaml              the service (xfrd/service/pipeline.h): a member of the
 *                                consumer group on kafka.requests-topic; refresh
 *                                timers go through Kafka; "zone updated" events,
 *                                the DNS endpoint, /metrics, /health, /ready.
 *                                (--pipeline names this mode explicitly.)
 *   xfrd -c zx.yaml --standalone without Kafka (xfrd/service/standalone.h): the same zone
 *                                runtime, its timers asking for the refreshes
 *                                themselves; the DNS endpoint, downstream NOTIFY
 *                                and the ops endpoint on the same loop.
 *                                SIGINT/SIGTERM stop it.
 *   xfrd -c zx.yaml --once       one refresh of every zone (or of the --zone ones),
 *                                then exit: 0 when all are current, 1 otherwise.
 *   --force-axfr                 full retransfer instead of SOA check + IXFR (the
 *                                serial already held may be stored again).
 *   --force                      as --force-axfr, and an older serial may be stored
 *                                (an operator's decision; logged at warn).
 *   --workers N                  transfer worker threads (default 2).
 */
#include "common/acl.h"
#include "common/cfg/cfg.h"
#include "common/log.h"
#include "common/store/zdb.h"
#include "xfrd/xfr/engine.h"
#include "xfrd/service/pipeline.h"
#include "xfrd/service/standalone.h"
#include "xfrd/xfr/store.h"
#include "xfrd/zone/zone.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static int start_engine(const struct cfg *cfg, struct zdb *db, unsigned workers,
                        struct engine **eng)
{
	const struct cfg_xfrd *x = &cfg->xfrd;
	struct engine_opts o = {
		.workers = workers,
		.commit_threads = x->transfers_max < COMMIT_THREADS ? x->transfers_max
		                                                    : COMMIT_THREADS,
		.max_transfers = x->transfers_max,
		.per_primary = x->transfers_per_primary, .connect_ms = x->timeout_connect_ms,
		.read_ms = x->timeout_read_ms, .soa_ms = x->timeout_soa_ms / 2,
		.transfer_ms = x->timeout_transfer_ms, .ops = &store_ops, .store = db,
	};
	int rc = engine_new(&o, eng);
	if (rc != 0) {
		log_error("engine_start_failed", "error=%s", zx_strerror(rc));
	}
	return rc;
}

static void usage(FILE *to)
{
	fprintf(to, "usage: xfrd -c CONFIG [--pipeline | --standalone | --once [--zone NAME]...]\n"
	                "            [--force-axfr | --force] [--workers N] [--advertise ADDR@PORT]\n"
	                "       xfrd --version\n");
}

struct args {
	const char *path;
	bool once;
	bool standalone; /* refresh timers without Kafka */
	unsigned flags, workers;
	char *zones[64];
	int nz;
	const char *advertise; /* overrides xfrd.advertise (a pod's IP is known at start) */
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
		{"advertise", required_argument, NULL, 'A'},
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
			a->flags |= ZONE_FORCE_AXFR;
		} else if (ch == 'F') {
			a->flags |= ZONE_FORCE_AXFR | ZONE_FORCE_OLDER;
		} else if (ch == 'w') {
			a->workers = (unsigned)strtoul(optarg, NULL, 10);
		} else if (ch == 'P') {
			a->standalone = false; /* the default, named */
		} else if (ch == 'S') {
			a->standalone = true;
		} else if (ch == 'A') {
			a->advertise = optarg;
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

static int run(const struct cfg *cfg, const struct args *a)
{
	struct zdb *db = NULL;
	struct engine *eng = NULL;
	if (open_store(cfg, &db) != 0 || start_engine(cfg, db, a->workers, &eng) != 0) {
		zdb_close(db);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	log_info("xfrd_started", "config=%s zones=%zu store=%s mode=%s", a->path, cfg->zone_count,
	         cfg->xfrd.store, a->once ? "once" : a->standalone ? "standalone" : "pipeline");
	int status;
	if (a->once || a->standalone) {
		struct standalone_opts so = {.cfg = cfg, .db = db, .once = a->once, .flags = a->flags,
		                             .zones = a->zones, .nzones = a->nz};
		status = standalone_run(&so, &eng);
	} else {
		status = pipeline_run(cfg, db, &eng) == 0 ? 0 : 1;
	}
	engine_free(eng); /* NULL: the mode stopped it */
	zdb_close(db);
	return status;
}

int main(int argc, char **argv)
{
	struct args a = {.workers = 2};
	log_init("xfrd", 2);
	int status = parse_args(argc, argv, &a);
	if (status >= 0) {
		return status;
	}
	struct cfg *cfg = NULL;
	char err[4096];
	int rc = cfg_load(a.path, &cfg, err, sizeof(err));
	if (rc != 0) {
		size_t n = strlen(err);
		fprintf(stderr, "%s%s", err, n > 0 && err[n - 1] == '\n' ? "" : "\n");
		return 1;
	}
	if (a.advertise != NULL &&
	    acl_endpoint_parse(a.advertise, 53, &cfg->xfrd.advertise.addr,
	                       &cfg->xfrd.advertise.len) != 0) {
		fprintf(stderr, "xfrd: --advertise %s: expected ADDR or ADDR@PORT (an IP address)\n",
		        a.advertise);
		cfg_free(cfg);
		return 2;
	}
	log_set_level(cfg->log_level);
	status = run(cfg, &a);
	cfg_free(cfg);
	return status;
}
