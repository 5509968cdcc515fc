/* SPDX-License-Identifier: MIT */
/* tests/integration/serve/serve_tool.c -- a tests-only driver of xfrd's DNS
 * endpoint (xfrd/serve/serve.h) on a store of our own, so the endpoint is tested
 * against kdig, dig and knotd without the rest of xfrd.
 *
 *   serve_tool load STORE ZONEFILE         write the zone file into STORE as an AXFR
 *   serve_tool diff STORE OLDFILE NEWFILE  apply old -> new to STORE as one IXFR
 *   serve_tool serve CONFIG [STORE] [--idle-ms N] [--tcp-max N] [--queue BYTES]
 *                         [--msg BYTES]   serve xfrd.listen from STORE (default
 *                                          xfrd.store) until SIGTERM/SIGINT, then
 *                                          print the metrics on stdout (options:
 *                                          struct serve_opts, defaults as there)
 * Exit: 0 ok, 1 failure (a line on stderr), 2 usage.
 */
#include "common/cfg/cfg.h"
#include "common/dname.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/store/zdb.h"
#include "xfrd/serve/serve.h"

#include <event2/event.h>
#include <ldns/ldns.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int fail(const char *what, int rc)
{
	fprintf(stderr, "serve_tool: %s: %s %s\n", what, zx_strerror(rc), zdb_last_error());
	return 1;
}

/* A zone file, sorted canonically, as RRs and their canonical text. */
struct zfile {
	ldns_zone *z;
	size_t n;
	ldns_rr **rr; /* the SOA excluded */
	char **text;
};

static int cmp_text(const void *a, const void *b, void *arg)
{
	char **t = arg;
	return strcmp(t[*(const size_t *)a], t[*(const size_t *)b]);
}

static int zfile_read(const char *path, struct zfile *f)
{
	FILE *fp = fopen(path, "r");
	int line = 0;
	memset(f, 0, sizeof(*f));
	if (fp == NULL || ldns_zone_new_frm_fp_l(&f->z, fp, NULL, 3600, LDNS_RR_CLASS_IN, &line) !=
	                          LDNS_STATUS_OK || ldns_zone_soa(f->z) == NULL) {
		fprintf(stderr, "serve_tool: %s:%d: cannot read the zone\n", path, line);
		if (fp != NULL) {
			fclose(fp);
		}
		return 1;
	}
	fclose(fp);
	ldns_rr_list *l = ldns_zone_rrs(f->z);
	size_t n = ldns_rr_list_rr_count(l);
	size_t *ix = calloc(n + 1, sizeof(*ix));
	char **text = calloc(n + 1, sizeof(*text));
	f->rr = calloc(n + 1, sizeof(*f->rr));
	f->text = calloc(n + 1, sizeof(*f->text));
	for (size_t i = 0; i < n; i++) {
		ldns_rr2canonical(ldns_rr_list_rr(l, i));
		text[i] = ldns_rr2str(ldns_rr_list_rr(l, i));
		ix[i] = i;
	}
	qsort_r(ix, n, sizeof(*ix), cmp_text, text);
	for (size_t i = 0; i < n; i++) {
		f->rr[i] = ldns_rr_list_rr(l, ix[i]);
		f->text[i] = text[ix[i]];
	}
	f->n = n;
	free(ix);
	free(text);
	return 0;
}

static void zfile_free(struct zfile *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->text[i]);
	}
	free(f->text);
	free(f->rr);
	ldns_zone_deep_free(f->z);
}

/* Call @p put with @p rr as a struct zdb_rr. */
static int put(ldns_rr *rr, int (*fn)(void *, const struct zdb_rr *), void *arg)
{
	uint8_t *wire = NULL;
	size_t len = 0;
	if (ldns_rr2wire(&wire, rr, LDNS_SECTION_ANSWER, &len) != LDNS_STATUS_OK) {
		return ZX_EFORMAT;
	}
	int on = dname_wire_len(wire, len);
	int rc = ZX_EFORMAT;
	if (on > 0 && len >= (size_t)on + 10) {
		const uint8_t *p = wire + on;
		struct zdb_rr z = {.owner = wire, .owner_len = (size_t)on,
		                   .type = (uint16_t)(p[0] << 8 | p[1]),
		                   .rclass = (uint16_t)(p[2] << 8 | p[3]),
		                   .ttl = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 |
		                          (uint32_t)p[6] << 8 | p[7],
		                   .rdlen = (uint16_t)(p[8] << 8 | p[9]), .rdata = p + 10};
		rc = fn(arg, &z);
	}
	free(wire);
	return rc;
}

static int axfr_add(void *a, const struct zdb_rr *rr)
{
	return zdb_axfr_add(a, rr);
}

static int ixfr_add(void *x, const struct zdb_rr *rr)
{
	return zdb_ixfr_add(x, rr);
}

static int ixfr_del(void *x, const struct zdb_rr *rr)
{
	return zdb_ixfr_del(x, rr);
}

static int open_store(const char *path, bool readonly, struct zdb **db)
{
	struct zdb_opts o;
	zdb_opts_init(&o);
	o.path = path;
	o.readonly = readonly;
	o.map_size = readonly ? 0 : (size_t)256 << 20;
	o.sync = ZDB_SYNC_NOMETA;
	int rc = zdb_open(&o, db);
	return rc != 0 ? fail("open the store", rc) : 0;
}

static int cmd_load(const char *store, const char *file)
{
	struct zfile f;
	struct zdb *db = NULL;
	struct zdb_axfr *a = NULL;
	if (zfile_read(file, &f) != 0) {
		return 1;
	}
	ldns_rr *soa = ldns_zone_soa(f.z);
	int rc = open_store(store, false, &db);
	if (rc == 0) {
		rc = zdb_axfr_begin(db, ldns_rdf_data(ldns_rr_owner(soa)), &a);
		if (rc == 0) {
			zdb_axfr_set_rule(a, ZDB_SERIAL_ANY); /* a tool: loads what it is given */
		}
		rc = rc != 0 ? fail("axfr begin", rc) : put(soa, axfr_add, a);
		for (size_t i = 0; rc == 0 && i < f.n; i++) {
			rc = put(f.rr[i], axfr_add, a);
		}
		if (rc == 0 && (rc = zdb_axfr_commit(a, (int64_t)time(NULL), "file", NULL)) != 0) {
			rc = fail("axfr commit", rc);
		} else if (rc != 0 && a != NULL) {
			zdb_axfr_abort(a);
			rc = fail("axfr add", rc);
		}
	}
	zdb_close(db);
	zfile_free(&f);
	return rc != 0;
}

/* Deletions (in @p o, not in @p n) or additions (in @p n, not in @p o). */
static int apply(struct zdb_ixfr *x, const struct zfile *o, const struct zfile *n, bool del)
{
	size_t i = 0, j = 0;
	int rc = 0;
	while (rc == 0 && (i < o->n || j < n->n)) {
		int c = i >= o->n ? 1 : j >= n->n ? -1 : strcmp(o->text[i], n->text[j]);
		if (c == 0) {
			i++;
			j++;
		} else if (c < 0) {
			rc = del ? put(o->rr[i], ixfr_del, x) : 0;
			i++;
		} else {
			rc = del ? 0 : put(n->rr[j], ixfr_add, x);
			j++;
		}
	}
	return rc;
}

static int cmd_diff(const char *store, const char *oldf, const char *newf)
{
	struct zfile o, n;
	struct zdb *db = NULL;
	struct zdb_ixfr *x = NULL;
	if (zfile_read(oldf, &o) != 0) {
		return 1;
	}
	if (zfile_read(newf, &n) != 0) {
		zfile_free(&o);
		return 1;
	}
	int rc = open_store(store, false, &db);
	if (rc == 0 && (rc = zdb_ixfr_begin(db, ldns_rdf_data(ldns_rr_owner(ldns_zone_soa(o.z))),
	                                    &x)) != 0) {
		rc = fail("ixfr begin", rc);
	} else if (rc == 0) {
		rc = put(ldns_zone_soa(o.z), ixfr_del, x);
		rc = rc != 0 ? rc : apply(x, &o, &n, true);
		rc = rc != 0 ? rc : put(ldns_zone_soa(n.z), ixfr_add, x);
		rc = rc != 0 ? rc : apply(x, &o, &n, false);
		if (rc != 0) {
			zdb_ixfr_abort(x);
			rc = fail("ixfr", rc);
		} else if ((rc = zdb_ixfr_commit(x, (int64_t)time(NULL), "file", NULL)) != 0) {
			rc = fail("ixfr commit", rc);
		}
	}
	zdb_close(db);
	zfile_free(&o);
	zfile_free(&n);
	return rc != 0;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopbreak(arg);
}

/* serve options after CONFIG [STORE]: --idle-ms N, --tcp-max N, --queue BYTES, --msg BYTES */
static int parse_opts(int argc, char **argv, struct serve_opts *o)
{
	for (int i = 0; i < argc; i += 2) {
		char *end = NULL;
		unsigned long long v = i + 1 < argc ? strtoull(argv[i + 1], &end, 10) : 0;
		if (end == NULL || *end != '\0' || v == 0) {
			return 2;
		}
		if (strcmp(argv[i], "--idle-ms") == 0) {
			o->tcp_idle_ms = v;
		} else if (strcmp(argv[i], "--tcp-max") == 0) {
			o->tcp_max = (uint32_t)v;
		} else if (strcmp(argv[i], "--queue") == 0) {
			o->tcp_queue = (size_t)v;
		} else if (strcmp(argv[i], "--msg") == 0) {
			o->msg_target = (size_t)v;
		} else {
			return 2;
		}
	}
	return 0;
}

static int serve_loop(struct cfg *cfg, struct zdb *db, struct serve_opts o)
{
	struct metrics *mx = metrics_new();
	struct event_base *base = event_base_new();
	struct serve *sv = NULL;
	o.cfg = cfg;
	o.db = db;
	o.metrics = mx;
	int rc = mx == NULL || base == NULL ? ZX_ENOMEM : serve_new(&o, &sv);
	rc = rc != 0 ? rc : serve_start(sv, base);
	struct event *st = base ? evsignal_new(base, SIGTERM, on_signal, base) : NULL;
	struct event *si = base ? evsignal_new(base, SIGINT, on_signal, base) : NULL;
	if (rc == 0 && (st == NULL || si == NULL || event_add(st, NULL) || event_add(si, NULL))) {
		rc = ZX_ENOMEM;
	}
	if (rc == 0) {
		log_info("serve_tool_ready", "port=%u", serve_bound_port(sv, 0));
		event_base_dispatch(base);
		serve_stop(sv);
		char *text = NULL;
		size_t len = 0;
		if (metrics_render(mx, &text, &len) == 0) {
			fwrite(text, 1, len, stdout);
			free(text);
		}
	} else {
		fail("serve", rc);
	}
	if (st != NULL) {
		event_free(st);
	}
	if (si != NULL) {
		event_free(si);
	}
	serve_free(sv);
	if (base != NULL) {
		event_base_free(base);
	}
	metrics_free(mx);
	return rc != 0;
}

static int cmd_serve(const char *conf, const char *store, int argc, char **argv)
{
	struct cfg *cfg = NULL;
	struct zdb *db = NULL;
	struct serve_opts o;
	char err[4096];
	serve_opts_init(&o);
	if (parse_opts(argc, argv, &o) != 0) {
		fprintf(stderr, "serve_tool: bad serve options\n");
		return 2;
	}
	int rc = cfg_load(conf, &cfg, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	log_set_level(cfg->log_level);
	rc = open_store(store != NULL ? store : cfg->xfrd.store, true, &db);
	if (rc == 0) {
		rc = serve_loop(cfg, db, o);
	}
	zdb_close(db);
	cfg_free(cfg);
	return rc != 0;
}

int main(int argc, char **argv)
{
	log_init("serve_tool", 2);
	signal(SIGPIPE, SIG_IGN);
	if (argc == 4 && strcmp(argv[1], "load") == 0) {
		return cmd_load(argv[2], argv[3]);
	}
	if (argc == 5 && strcmp(argv[1], "diff") == 0) {
		return cmd_diff(argv[2], argv[3], argv[4]);
	}
	if (argc >= 3 && strcmp(argv[1], "serve") == 0) {
		bool store = argc >= 4 && strncmp(argv[3], "--", 2) != 0;
		return cmd_serve(argv[2], store ? argv[3] : NULL, argc - 3 - store, argv + 3 + store);
	}
	fprintf(stderr, "usage: serve_tool load STORE ZONEFILE | diff STORE OLD NEW |\n"
	                "       serve CONFIG [STORE] [--idle-ms N] [--tcp-max N] [--queue BYTES] "
	                "[--msg BYTES]\n");
	return 2;
}
