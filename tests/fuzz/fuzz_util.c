/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_util.c -- the fuzz targets' shared setup (see fuzz_util.h). */
#include "tests/fuzz/fuzz_util.h"

#include "common/cfg/cfg.h"
#include "common/dname.h"
#include "common/log.h"
#include "common/tsig/tsig.h"
#include "common/store/zdb.h"

#include <dirent.h>
#include <fcntl.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[256];

uint8_t fuzz_u8(struct fuzz_in *in)
{
	if (in->n == 0) {
		return 0;
	}
	in->n--;
	return *in->p++;
}

/* rm -r of a directory two levels deep at most (the stores' directories) */
static void remove_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
			continue;
		}
		char sub[512];
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		struct stat st;
		if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode)) {
			remove_tree(sub);
		} else {
			unlink(sub);
		}
	}
	if (d != NULL) {
		closedir(d);
	}
	rmdir(path);
}

static void remove_tmpdir(void)
{
	if (tmpdir[0] != '\0') {
		remove_tree(tmpdir);
	}
}

const char *fuzz_tmpdir(void)
{
	if (tmpdir[0] == '\0') {
		const char *base = getenv("TMPDIR");
		snprintf(tmpdir, sizeof(tmpdir), "%s/zx-fuzz.XXXXXX",
		         base != NULL && *base != '\0' ? base : "/tmp");
		if (mkdtemp(tmpdir) == NULL) {
			perror("fuzz: mkdtemp");
			abort();
		}
		atexit(remove_tmpdir);
	}
	return tmpdir;
}

/* Log lines are still formatted (hostile names go through log_quote()), then
 * dropped: a campaign writing to the terminal would crawl. */
static void quiet(void)
{
	static int done;
	if (!done) {
		int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			log_init("fuzz", fd);
		}
		done = 1;
	}
}

struct zdb *fuzz_store_open(const char *name)
{
	quiet();
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", fuzz_tmpdir(), name);
	struct zdb_opts o;
	zdb_opts_init(&o);
	o.path = path;
	o.map_size = (size_t)256 << 20;
	o.sync = ZDB_SYNC_NONE;
	o.gc_thread = false;
	struct zdb *db = NULL;
	if (zdb_open(&o, &db) != 0) {
		fprintf(stderr, "fuzz: cannot open a store at %s\n", path);
		abort();
	}
	return db;
}

/* One RR from text into a zdb_rr whose owner and RDATA point into *wire (free it). */
static struct zdb_rr rr_from_text(const char *text, uint8_t **wire)
{
	ldns_rr *rr = NULL;
	size_t wlen = 0;
	if (ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL) != LDNS_STATUS_OK ||
	    ldns_rr2wire(wire, rr, LDNS_SECTION_ANSWER, &wlen) != LDNS_STATUS_OK) {
		fprintf(stderr, "fuzz: bad RR text: %s\n", text);
		abort();
	}
	ldns_rr_free(rr);
	const uint8_t *w = *wire;
	int on = dname_wire_len(w, wlen);
	if (on <= 0 || wlen < (size_t)on + 10) {
		abort();
	}
	const uint8_t *p = w + on;
	return (struct zdb_rr){
		.owner = w, .owner_len = (size_t)on, .type = (uint16_t)(p[0] << 8 | p[1]),
		.rclass = (uint16_t)(p[2] << 8 | p[3]),
		.ttl = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7],
		.rdlen = (uint16_t)(p[8] << 8 | p[9]), .rdata = p + 10};
}

static void zone_wire(const char *zone, uint8_t *out)
{
	if (dname_from_text(zone, out) <= 0) {
		abort();
	}
}

void fuzz_zone_load(struct zdb *db, const char *zone, const char *const *rrs, size_t n)
{
	uint8_t z[DNAME_MAXLEN];
	zone_wire(zone, z);
	struct zdb_axfr *a = NULL;
	if (zdb_axfr_begin(db, z, &a) != 0) {
		abort();
	}
	zdb_axfr_set_rule(a, ZDB_SERIAL_ANY); /* a reset: whatever the serial held */
	for (size_t i = 0; i < n; i++) {
		uint8_t *wire = NULL;
		struct zdb_rr rr = rr_from_text(rrs[i], &wire);
		int rc = zdb_axfr_add(a, &rr);
		free(wire);
		if (rc != 0) {
			fprintf(stderr, "fuzz: zdb_axfr_add(%s): %s\n", rrs[i], zx_strerror(rc));
			abort();
		}
	}
	if (zdb_axfr_commit(a, FUZZ_NOW, "192.0.2.1@53", NULL) != 0) {
		abort();
	}
	int rc;
	while ((rc = zdb_gc(db, 100000)) == 1) {
	}
	if (rc != 0) {
		abort();
	}
}

void fuzz_zone_ixfr(struct zdb *db, const char *zone, const char *const *del, size_t nd,
                    const char *const *add, size_t na)
{
	uint8_t z[DNAME_MAXLEN];
	zone_wire(zone, z);
	struct zdb_ixfr *x = NULL;
	if (zdb_ixfr_begin(db, z, &x) != 0) {
		abort();
	}
	for (size_t i = 0; i < nd + na; i++) {
		uint8_t *wire = NULL;
		struct zdb_rr rr = rr_from_text(i < nd ? del[i] : add[i - nd], &wire);
		int rc = i < nd ? zdb_ixfr_del(x, &rr) : zdb_ixfr_add(x, &rr);
		free(wire);
		if (rc != 0) {
			abort();
		}
	}
	if (zdb_ixfr_commit(x, FUZZ_NOW, NULL, NULL) != 0) {
		abort();
	}
}

struct cfg *fuzz_cfg(const char *yaml)
{
	char err[4096];
	struct cfg *cfg = NULL;
	quiet();
	if (cfg_load_string("fuzz.yaml", yaml, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz: config does not load:\n%s\n", err);
		abort();
	}
	return cfg;
}

uint64_t fuzz_now(const uint8_t *msg, size_t len, uint8_t sel)
{
	struct tsig_rr t;
	if (tsig_rr_parse(msg, len, &t) != 0) {
		return FUZZ_NOW;
	}
	switch (sel % 8) {
	case 5:
		return t.time_signed + t.fudge + 1; /* BADTIME, late */
	case 6:
		return t.time_signed > t.fudge ? t.time_signed - t.fudge - 1 : 0; /* early */
	case 7:
		return t.time_signed + (uint64_t)(sel >> 3); /* within the fudge, mostly */
	default:
		return t.time_signed;
	}
}
