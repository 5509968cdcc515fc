/* SPDX-License-Identifier: MIT */
/* tests/bench/store/bench_zdb.c -- what the zone store costs: AXFR write, IXFR commit, memory.
 *
 *   bench_zdb prep -n RECORDS -o FILE [--sorted] [-z ZONE]
 *       Generate a zone with the test bed's zonegen (big.test's record mix), parse it
 *       with ldns once, and write its RRs in wire form to FILE (generation order, or
 *       DNSSEC canonical order as Knot, BIND and NSD send an AXFR with --sorted).
 *   bench_zdb axfr -s STOREDIR -i FILE [--sync nometa|full|none] [--chunk N] [--pace RR/s]
 *       Store FILE as one AXFR into a fresh store (the input is mmap'd, so RssAnon is
 *       the store's own memory). While it runs, a second thread commits a state change
 *       of another zone every 2 ms and records how long each waited (write-lock stall).
 *       --pace feeds the RRs at that rate, as a primary would send them (kdig's AXFR
 *       floor for the 1M zone is ~1.3M RR/s): tail_s is then what the store adds after
 *       the last RR arrived (the rest overlaps the transfer).
 *   bench_zdb ixfr -s STOREDIR -n CHANGED [-r REPS] [--sync ...]
 *       On the stored zone: REPS IXFRs, each deleting CHANGED A records and adding
 *       CHANGED new ones (plus the SOA pair); times zdb_ixfr_begin() to the return of
 *       zdb_ixfr_commit(), i.e. everything the store does including the disk sync.
 *
 *   bench_zdb many -s STOREDIR [-n ZONES] [-t THREADS] [--sync ...]
 *       ZONES small zones (11 RRs each: SOA, NS, the NS's A, 8 A; as tests/bench/xfr's
 *       "many") stored as AXFRs into a fresh store by THREADS threads at once (zone i
 *       by thread i % THREADS): what a commit per zone costs, and what the group
 *       commit of overlapping one-chunk AXFRs saves.
 *
 *   bench_zdb layout -i FILE -s SCRATCHDIR
 *       The same RRs in three LMDB layouts (see cmd_layout): why one value per RRset.
 *
 *   bench_zdb lookup -s STOREDIR -i FILE [-n QUERIES]
 *       Point lookups (zdb_view_*) in the zone FILE that `axfr` stored in STOREDIR, at
 *       owners of FILE's RRs taken in a random order, one thread, warm page cache:
 *       zdb_view_rrset() of the RR's type (a hit), zdb_view_name() (one seek),
 *       zdb_view_rrset() of a type no RRset has (a miss), and a whole "query" as the DNS
 *       endpoint pays it besides the lookups: snapshot, view, one RRset read, view and
 *       snapshot ended. Lookups per second for each.
 *
 * Output: one "key=value" line per run, for run.sh's table.
 */
#include "common/dname.h"
#include "common/store/zdb.h"
#include "common/store/zdb_internal.h" /* the key encoding, for "layout" */
#include "tests/bed/zonegen.h"

#include <errno.h>
#include <fcntl.h>
#include <ldns/ldns.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A record in FILE: u16 owner length, owner, u16 type, u16 class, u32 TTL, u16 RDLENGTH,
 * RDATA (native byte order; a scratch format of this program only). */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long status_kb(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	size_t kl = strlen(key);
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
			v = strtol(line + kl + 1, NULL, 10);
		}
	}
	if (f != NULL) {
		fclose(f);
	}
	return v;
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "bench_zdb: %s: %s (%s)\n", what, zx_strerror(rc), zdb_last_error());
	exit(1);
}

/* ---------------------------------------------------------------- prep */

struct rec {
	uint8_t *p; /* into the records buffer */
	size_t len;
};

static const uint8_t *rec_owner(const struct rec *r)
{
	return r->p + 2;
}

static uint16_t rec_type(const struct rec *r)
{
	uint16_t ol, t;
	memcpy(&ol, r->p, 2);
	memcpy(&t, r->p + 2 + ol, 2);
	return t == LDNS_RR_TYPE_SOA ? 0 : t;
}

static int rec_cmp(const void *x, const void *y)
{
	const struct rec *a = x, *b = y;
	int c = dname_canonical_cmp(rec_owner(a), rec_owner(b));
	if (c != 0) {
		return c;
	}
	int ta = rec_type(a), tb = rec_type(b);
	return ta != tb ? ta - tb : 0;
}

/* Append @p rr in the scratch format to @p buf. */
static size_t rr_scratch(ldns_rr *rr, uint8_t *out)
{
	ldns_buffer *b = ldns_buffer_new(65536);
	size_t o = 0;
	if (ldns_rr2buffer_wire(b, rr, LDNS_SECTION_ANSWER) != LDNS_STATUS_OK) {
		fprintf(stderr, "bench_zdb: ldns_rr2buffer_wire failed\n");
		exit(1);
	}
	const uint8_t *w = ldns_buffer_begin(b);
	size_t wl = ldns_buffer_position(b);
	int ol = dname_wire_len(w, wl);
	uint16_t v16 = (uint16_t)ol;
	memcpy(out + o, &v16, 2);
	memcpy(out + o + 2, w, (size_t)ol);
	o += 2 + (size_t)ol;
	const uint8_t *f = w + ol;
	uint16_t type = (uint16_t)((f[0] << 8) | f[1]), cls = (uint16_t)((f[2] << 8) | f[3]);
	uint32_t ttl = ((uint32_t)f[4] << 24) | ((uint32_t)f[5] << 16) | ((uint32_t)f[6] << 8) | f[7];
	uint16_t rdlen = (uint16_t)((f[8] << 8) | f[9]);
	memcpy(out + o, &type, 2);
	memcpy(out + o + 2, &cls, 2);
	memcpy(out + o + 4, &ttl, 4);
	memcpy(out + o + 8, &rdlen, 2);
	memcpy(out + o + 10, f + 10, rdlen);
	o += 10 + rdlen;
	ldns_buffer_free(b);
	return o;
}

/*
 * zonegen writes AAAA addresses whose last group has more than 4 hex digits past
 * item 65535 ("...::10002"), which ldns rightly refuses: keep the last 4 digits.
 * Returns 1 when the line was changed.
 */
static int fix_aaaa(char *line)
{
	char *t = strstr(line, " AAAA ");
	char *colon = t != NULL ? strrchr(t, ':') : NULL;
	if (colon == NULL) {
		return 0;
	}
	size_t digits = strspn(colon + 1, "0123456789abcdefABCDEF");
	if (digits <= 4) {
		return 0;
	}
	memmove(colon + 1, colon + 1 + digits - 4, strlen(colon + 1 + digits - 4) + 1);
	return 1;
}

static int cmd_prep(int argc, char **argv)
{
	struct zonegen_opts zo = {.origin = "big.test.", .seed = 1, .serial = 1, .records = 1000};
	const char *out = NULL;
	bool sorted = false;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
			zo.records = strtoull(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
			out = argv[++i];
		} else if (strcmp(argv[i], "-z") == 0 && i + 1 < argc) {
			zo.origin = argv[++i];
		} else if (strcmp(argv[i], "--sorted") == 0) {
			sorted = true;
		} else {
			return 2;
		}
	}
	if (out == NULL) {
		return 2;
	}
	FILE *text = tmpfile();
	if (text == NULL || zonegen_write(&zo, text, NULL) != 0) {
		return 1;
	}
	rewind(text);
	size_t cap = (size_t)(zo.records + 16) * 160, len = 0, n = 0;
	uint8_t *buf = malloc(cap);
	struct rec *recs = malloc(sizeof(*recs) * (zo.records + 16));
	char *line = NULL;
	size_t linecap = 0;
	size_t fixed = 0;
	while (getline(&line, &linecap, text) > 0) {
		ldns_rr *rr = NULL;
		if (line[0] == '$' || line[0] == '\n') {
			continue;
		}
		fixed += fix_aaaa(line);
		ldns_status st = ldns_rr_new_frm_str(&rr, line, 3600, NULL, NULL);
		if (st != LDNS_STATUS_OK) {
			fprintf(stderr, "bench_zdb: %s: %s", ldns_get_errorstr_by_id(st), line);
			return 1;
		}
		if (len + 70000 > cap) {
			fprintf(stderr, "bench_zdb: record buffer too small\n");
			return 1;
		}
		recs[n].p = buf + len;
		recs[n].len = rr_scratch(rr, buf + len);
		len += recs[n++].len;
		ldns_rr_free(rr);
	}
	free(line);
	if (sorted) {
		qsort(recs, n, sizeof(*recs), rec_cmp);
	}
	FILE *o = fopen(out, "w");
	for (size_t i = 0; o != NULL && i < n; i++) {
		fwrite(recs[i].p, 1, recs[i].len, o);
	}
	if (o == NULL || fclose(o) != 0) {
		return 1;
	}
	printf("prep records=%zu bytes=%zu sorted=%d aaaa_fixed=%zu file=%s\n", n, len, sorted, fixed,
	       out);
	fclose(text);
	free(buf);
	free(recs);
	return 0;
}

/* ---------------------------------------------------------------- axfr */

static enum zdb_sync parse_sync(const char *s)
{
	if (strcmp(s, "full") == 0) {
		return ZDB_SYNC_FULL;
	}
	return strcmp(s, "none") == 0 ? ZDB_SYNC_NONE : ZDB_SYNC_NOMETA;
}

static const char *sync_name(enum zdb_sync s)
{
	return s == ZDB_SYNC_FULL ? "full" : s == ZDB_SYNC_NOMETA ? "nometa" : "none";
}

/* The second writer: a small commit on another zone every 2 ms, timed. */
struct stall {
	struct zdb *db;
	atomic_bool stop;
	double max_wait;
	atomic_long commits;
	long max_anon_kb;
};

static void *stall_thread(void *arg)
{
	struct stall *s = arg;
	uint8_t other[DNAME_MAXLEN];
	if (dname_from_text("other.test.", other) < 0) {
		return NULL;
	}
	while (!atomic_load(&s->stop)) {
		double t0 = now_s();
		struct zdb_event_info fail = {.err = ZX_ETIMEDOUT};
		if (zdb_zone_event(s->db, other, ZDB_EV_FAILED, (int64_t)t0, &fail, NULL) != 0) {
			break;
		}
		double w = now_s() - t0;
		s->max_wait = w > s->max_wait ? w : s->max_wait;
		s->commits++;
		long anon = status_kb("RssAnon");
		s->max_anon_kb = anon > s->max_anon_kb ? anon : s->max_anon_kb;
		usleep(2000);
	}
	return NULL;
}

struct input {
	const uint8_t *p;
	size_t len;
};

static struct input map_input(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) != 0) {
		fprintf(stderr, "bench_zdb: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		exit(1);
	}
	madvise(p, (size_t)st.st_size, MADV_SEQUENTIAL);
	return (struct input){p, (size_t)st.st_size};
}

/* The next RR of the input at *off; false at the end. */
static bool next_rr(const struct input *in, size_t *off, struct zdb_rr *rr)
{
	if (*off >= in->len) {
		return false;
	}
	const uint8_t *p = in->p + *off;
	uint16_t ol;
	memcpy(&ol, p, 2);
	rr->owner = p + 2;
	rr->owner_len = ol;
	const uint8_t *f = p + 2 + ol;
	memcpy(&rr->type, f, 2);
	memcpy(&rr->rclass, f + 2, 2);
	memcpy(&rr->ttl, f + 4, 4);
	memcpy(&rr->rdlen, f + 8, 2);
	rr->rdata = f + 10;
	*off += 2 + ol + 10 + rr->rdlen;
	return true;
}

static struct zdb *open_db(const char *dir, enum zdb_sync sync, uint32_t chunk)
{
	struct zdb_opts o;
	struct zdb *db;
	zdb_opts_init(&o);
	o.path = dir;
	o.map_size = (size_t)8 << 30;
	o.sync = sync;
	if (chunk > 0) {
		o.chunk_records = chunk;
	}
	int rc = zdb_open(&o, &db);
	if (rc != 0) {
		die("zdb_open", rc);
	}
	return db;
}

static int cmd_axfr(int argc, char **argv)
{
	const char *dir = NULL, *file = NULL;
	enum zdb_sync sync = ZDB_SYNC_NOMETA;
	uint32_t chunk = 0;
	double pace = 0;
	for (int i = 2; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "-s") == 0) {
			dir = argv[i + 1];
		} else if (strcmp(argv[i], "-i") == 0) {
			file = argv[i + 1];
		} else if (strcmp(argv[i], "--sync") == 0) {
			sync = parse_sync(argv[i + 1]);
		} else if (strcmp(argv[i], "--chunk") == 0) {
			chunk = (uint32_t)strtoul(argv[i + 1], NULL, 10);
		} else if (strcmp(argv[i], "--pace") == 0) {
			pace = strtod(argv[i + 1], NULL);
		} else {
			return 2;
		}
	}
	if (dir == NULL || file == NULL) {
		return 2;
	}
	struct input in = map_input(file);
	struct zdb *db = open_db(dir, sync, chunk);
	struct stall st = {.db = db};
	pthread_t th;
	pthread_create(&th, NULL, stall_thread, &st);
	/* The other zone's first commit before the AXFR starts (at most 5 s): a fixed 10 ms
	 * was not always enough on a loaded machine, and then the AXFR ran alone and
	 * other.test was missing (store_xfrctl lists it). */
	for (int i = 0; i < 5000 && atomic_load(&st.commits) == 0; i++) {
		usleep(1000);
	}

	struct zdb_rr rr;
	struct zdb_axfr *a;
	struct zdb_commit res;
	size_t off = 0;
	double max_add = 0;
	double t0 = now_s();
	if (!next_rr(&in, &off, &rr)) {
		return 1;
	}
	int rc = zdb_axfr_begin(db, rr.owner, &a); /* the first RR is the SOA */
	if (rc != 0) {
		die("zdb_axfr_begin", rc);
	}
	zdb_axfr_set_rule(a, ZDB_SERIAL_ANY); /* rounds store the same zone again */
	uint64_t sent = 0;
	do {
		if (pace > 0 && ++sent % 1000 == 0) {
			while (now_s() - t0 < (double)sent / pace) {
				/* a primary's pace: wait for the "network" */
			}
		}
		double ta = now_s();
		rc = zdb_axfr_add(a, &rr);
		double d = now_s() - ta;
		max_add = d > max_add ? d : max_add;
		if (rc != 0) {
			die("zdb_axfr_add", rc);
		}
	} while (next_rr(&in, &off, &rr));
	double t1 = now_s();
	rc = zdb_axfr_commit(a, (int64_t)time(NULL), "127.0.0.1@53", &res);
	double t2 = now_s();
	if (rc != 0) {
		die("zdb_axfr_commit", rc);
	}
	atomic_store(&st.stop, true);
	pthread_join(th, NULL);
	struct stat sb;
	char data[4096];
	snprintf(data, sizeof(data), "%s/data.mdb", dir);
	stat(data, &sb);
	printf("axfr records=%llu sync=%s chunk=%u pace=%.0f seconds=%.3f tail_s=%.3f max_add_ms=%.1f "
	       "rr_per_s=%.0f other_zone_commits=%ld other_zone_max_wait_ms=%.1f "
	       "VmHWM_kB=%ld RssAnon_kB=%ld peak_RssAnon_kB=%ld file_MB=%.1f\n",
	       (unsigned long long)res.records, sync_name(sync), chunk, pace, t2 - t0, t2 - t1,
	       max_add * 1e3, (double)res.records / (t2 - t0), atomic_load(&st.commits), st.max_wait * 1e3,
	       status_kb("VmHWM"), status_kb("RssAnon"), st.max_anon_kb,
	       (double)sb.st_blocks * 512 / 1048576);
	zdb_close(db);
	return 0;
}

/* ---------------------------------------------------------------- ixfr */

struct zone_pick {
	uint8_t zone[DNAME_MAXLEN];
	uint32_t serial;
	uint64_t records;
	struct zdb_rr *a; /* A records to change, copied */
	uint8_t *mem;
	size_t n;
};

static void copy_rr(struct zone_pick *zp, const struct zdb_rr *rr, size_t *used)
{
	uint8_t *p = zp->mem + *used;
	memcpy(p, rr->owner, rr->owner_len);
	memcpy(p + rr->owner_len, rr->rdata, rr->rdlen);
	zp->a[zp->n] = *rr;
	zp->a[zp->n].owner = p;
	zp->a[zp->n].rdata = p + rr->owner_len;
	zp->n++;
	*used += rr->owner_len + rr->rdlen;
}

/* Pick @p want A records spread over the zone (the store's only zone but other.test). */
static int pick_a(struct zdb *db, size_t want, struct zone_pick *zp)
{
	struct zdb_snap *s;
	struct zdb_iter *it;
	struct zdb_zone_info zi;
	struct zdb_rr rr;
	int rc = zdb_snap_begin(db, &s);
	if (rc == 0 && dname_from_text("big.test.", zp->zone) < 0) {
		rc = ZX_EINVAL;
	}
	if (rc == 0) {
		rc = zdb_zone_get(s, zp->zone, &zi);
	}
	if (rc == 0) {
		rc = zdb_iter_zone(s, zp->zone, &it);
	}
	if (rc != 0) {
		return rc;
	}
	zp->serial = zi.serial;
	zp->records = zi.records;
	zp->a = calloc(want, sizeof(*zp->a));
	zp->mem = malloc(want * (DNAME_MAXLEN + 4));
	size_t step = zi.records / (want * 3) + 1, k = 0, used = 0;
	while (zp->n < want && (rc = zdb_iter_next(it, &rr)) == 1) {
		if (rr.type == 1 && rr.rdlen == 4 && k++ % step == 0) {
			copy_rr(zp, &rr, &used);
		}
	}
	zdb_iter_free(it);
	zdb_snap_end(s);
	return zp->n == want ? 0 : ZX_ENOTFOUND;
}

static struct zdb_rr soa_rr(const uint8_t *zone, uint32_t serial, uint8_t *rd)
{
	int a = dname_from_text("ns1.big.test.", rd);
	int b = dname_from_text("hostmaster.big.test.", rd + a);
	uint8_t *p = rd + a + b;
	uint32_t f[5] = {serial, 3600, 600, 86400, 300};
	for (int i = 0; i < 5; i++) {
		p[i * 4] = (uint8_t)(f[i] >> 24);
		p[i * 4 + 1] = (uint8_t)(f[i] >> 16);
		p[i * 4 + 2] = (uint8_t)(f[i] >> 8);
		p[i * 4 + 3] = (uint8_t)f[i];
	}
	return (struct zdb_rr){.owner = zone, .owner_len = (size_t)dname_wire_len(zone, 255),
	                       .type = 6, .rclass = 1, .ttl = 3600, .rdlen = (uint16_t)(a + b + 20),
	                       .rdata = rd};
}

/* One IXFR: every picked A gets its first address byte flipped (and back next time). */
static double one_ixfr(struct zdb *db, struct zone_pick *zp)
{
	uint8_t r1[600], r2[600];
	struct zdb_ixfr *x;
	struct zdb_commit res;
	double t0 = now_s();
	int rc = zdb_ixfr_begin(db, zp->zone, &x);
	struct zdb_rr s1 = soa_rr(zp->zone, zp->serial, r1), s2 = soa_rr(zp->zone, zp->serial + 1, r2);
	if (rc == 0) {
		rc = zdb_ixfr_del(x, &s1);
	}
	for (size_t i = 0; rc == 0 && i < zp->n; i++) {
		rc = zdb_ixfr_del(x, &zp->a[i]);
	}
	if (rc == 0) {
		rc = zdb_ixfr_add(x, &s2);
	}
	for (size_t i = 0; rc == 0 && i < zp->n; i++) {
		uint8_t *rd = (uint8_t *)zp->a[i].rdata; /* our own copy; the store copied the del */
		rd[0] ^= 0x80;
		rc = zdb_ixfr_add(x, &zp->a[i]);
	}
	if (rc == 0) {
		rc = zdb_ixfr_commit(x, (int64_t)time(NULL), NULL, &res);
	} else {
		zdb_ixfr_abort(x);
	}
	if (rc != 0) {
		die("ixfr", rc);
	}
	zp->serial++;
	return now_s() - t0;
}

static int dbl_cmp(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return (a > b) - (a < b);
}

static int cmd_ixfr(int argc, char **argv)
{
	const char *dir = NULL;
	size_t n = 1, reps = 21;
	enum zdb_sync sync = ZDB_SYNC_NOMETA;
	for (int i = 2; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "-s") == 0) {
			dir = argv[i + 1];
		} else if (strcmp(argv[i], "-n") == 0) {
			n = strtoul(argv[i + 1], NULL, 10);
		} else if (strcmp(argv[i], "-r") == 0) {
			reps = strtoul(argv[i + 1], NULL, 10);
		} else if (strcmp(argv[i], "--sync") == 0) {
			sync = parse_sync(argv[i + 1]);
		} else {
			return 2;
		}
	}
	if (dir == NULL || n == 0 || reps == 0 || reps > 1000) {
		return 2;
	}
	struct zdb *db = open_db(dir, sync, 0);
	struct zone_pick zp = {0};
	int rc = pick_a(db, n, &zp);
	if (rc != 0) {
		die("pick", rc);
	}
	double t[1000];
	for (size_t r = 0; r < reps; r++) {
		t[r] = one_ixfr(db, &zp);
	}
	qsort(t, reps, sizeof(t[0]), dbl_cmp);
	printf("ixfr zone_records=%llu changed=%zu sync=%s reps=%zu median_ms=%.2f min_ms=%.2f "
	       "max_ms=%.2f RssAnon_kB=%ld\n",
	       (unsigned long long)zp.records, n, sync_name(sync), reps, t[reps / 2] * 1e3,
	       t[0] * 1e3, t[reps - 1] * 1e3, status_kb("RssAnon"));
	free(zp.a);
	free(zp.mem);
	zdb_close(db);
	return 0;
}

/* ---------------------------------------------------------------- many small zones */

struct many {
	struct zdb *db;
	int zones, threads, t;
	int failed;
};

static int many_rr(struct zdb_axfr *a, const char *owner, uint16_t type, const uint8_t *rd,
                   uint16_t rdlen)
{
	uint8_t o[DNAME_MAXLEN];
	int n = dname_from_text(owner, o);
	if (n < 0) {
		return n;
	}
	struct zdb_rr rr = {.owner = o, .owner_len = (size_t)n, .type = type, .rclass = 1,
	                    .ttl = 3600, .rdlen = rdlen, .rdata = rd};
	return zdb_axfr_add(a, &rr);
}

/* One zone zNNNNN.test. as one AXFR. */
static int many_zone(struct zdb *db, int i)
{
	char zone[32], name[64];
	uint8_t z[DNAME_MAXLEN], soa[ZDB_SOA_MAX], ns[DNAME_MAXLEN];
	uint8_t a4[4] = {198, 51, 100, 0};
	struct zdb_axfr *a;
	snprintf(zone, sizeof(zone), "z%05d.test.", i);
	snprintf(name, sizeof(name), "ns1.%s", zone);
	int nl = dname_from_text(name, ns);
	if (dname_from_text(zone, z) < 0 || nl < 0) {
		return ZX_EINVAL;
	}
	struct zdb_rr s = soa_rr(z, 1, soa);
	int rc = zdb_axfr_begin(db, z, &a);
	if (rc != 0) {
		return rc;
	}
	zdb_axfr_set_rule(a, ZDB_SERIAL_ANY); /* rounds store the same zone again */
	rc = zdb_axfr_add(a, &s);
	if (rc == 0) {
		rc = many_rr(a, zone, 2, ns, (uint16_t)nl);
	}
	if (rc == 0) {
		rc = many_rr(a, name, 1, (const uint8_t *)"\xc0\x00\x02\x01", 4);
	}
	for (int k = 1; rc == 0 && k <= 8; k++) {
		snprintf(name, sizeof(name), "h%d.%s", k, zone);
		a4[3] = (uint8_t)k;
		rc = many_rr(a, name, 1, a4, 4);
	}
	if (rc != 0) {
		zdb_axfr_abort(a);
		return rc;
	}
	return zdb_axfr_commit(a, 1, "127.0.0.1@53", NULL);
}

static void *many_thread(void *arg)
{
	struct many *m = arg;
	for (int i = m->t; i < m->zones; i += m->threads) {
		m->failed += many_zone(m->db, i) != 0;
	}
	return NULL;
}

static int cmd_many(int argc, char **argv)
{
	const char *store = NULL;
	int zones = 10000, threads = 1;
	enum zdb_sync sync = ZDB_SYNC_NOMETA;
	for (int i = 2; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "-s") == 0) {
			store = argv[i + 1];
		} else if (strcmp(argv[i], "-n") == 0) {
			zones = atoi(argv[i + 1]);
		} else if (strcmp(argv[i], "-t") == 0) {
			threads = atoi(argv[i + 1]);
		} else if (strcmp(argv[i], "--sync") == 0) {
			sync = parse_sync(argv[i + 1]);
		} else {
			return 2;
		}
	}
	if (store == NULL || zones < 1 || threads < 1 || threads > 64) {
		return 2;
	}
	struct zdb *db = open_db(store, sync, 0);
	pthread_t th[64];
	struct many m[64];
	double t0 = now_s();
	for (int t = 0; t < threads; t++) {
		m[t] = (struct many){.db = db, .zones = zones, .threads = threads, .t = t};
		if (pthread_create(&th[t], NULL, many_thread, &m[t]) != 0) {
			die("pthread_create", ZX_ENOMEM);
		}
	}
	int failed = 0;
	for (int t = 0; t < threads; t++) {
		pthread_join(th[t], NULL);
		failed += m[t].failed;
	}
	double t1 = now_s();
	zdb_close(db);
	printf("many zones=%d rrs_per_zone=11 threads=%d sync=%s seconds=%.3f zones_per_s=%.0f "
	       "failed=%d\n",
	       zones, threads, sync_name(sync), t1 - t0, zones / (t1 - t0), failed);
	return failed == 0 ? 0 : 1;
}

/* ---------------------------------------------------------------- layout */

/*
 * The store keeps one value per RRset. The alternatives, measured on the same
 * input with raw LMDB (all sorted, all with MDB_APPEND / MDB_APPENDDUP, one
 * transaction, no sync; only the inserts are timed):
 *   rrset   key owner|type, value = all RRs (the store's layout)
 *   dupsort key owner|type, MDB_DUPSORT, one duplicate (TTL|RDATA) per RR; a
 *           duplicate is at most 511 bytes, so big TXT/DNSKEY/RRSIG do not fit
 *   rrkey   key owner|type|RDATA prefix (up to the 511-byte key limit), value TTL|RDATA
 */
struct kv {
	uint8_t *k, *v;
	uint16_t kl;
	uint32_t vl;
};

static int kv_cmp(const void *x, const void *y)
{
	const struct kv *a = x, *b = y;
	int c = memcmp(a->k, b->k, a->kl < b->kl ? a->kl : b->kl);
	if (c == 0 && a->kl != b->kl) {
		return a->kl < b->kl ? -1 : 1;
	}
	if (c == 0) {
		c = memcmp(a->v, b->v, a->vl < b->vl ? a->vl : b->vl);
		c = c != 0 ? c : (a->vl > b->vl) - (a->vl < b->vl);
	}
	return c;
}

static double layout_run(const char *dir, struct kv *kv, size_t n, int mode, double *mb,
                         size_t *entries)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_stat st;
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", dir, dir);
	if (system(cmd) != 0 || mdb_env_create(&env) != 0) {
		exit(1);
	}
	mdb_env_set_mapsize(env, (size_t)8 << 30);
	mdb_env_set_maxdbs(env, 2);
	if (mdb_env_open(env, dir, MDB_NOSYNC, 0640) != 0) {
		exit(1);
	}
	double t0 = now_s();
	mdb_txn_begin(env, NULL, 0, &txn);
	mdb_dbi_open(txn, "x", MDB_CREATE | (mode == 1 ? MDB_DUPSORT : 0), &dbi);
	size_t skipped = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		MDB_val k = {kv[i].kl, kv[i].k}, v = {kv[i].vl, kv[i].v};
		if (mode == 0) { /* one value per key: concatenate the group */
			size_t tot = 0;
			while (j < n && kv_cmp(&(struct kv){kv[i].k, kv[j].v, kv[i].kl, kv[j].vl},
			                       &kv[j]) == 0) {
				j++;
			}
			static uint8_t big[1 << 20];
			for (size_t x = i; x < j; x++) {
				memcpy(big + tot, kv[x].v, kv[x].vl);
				tot += kv[x].vl;
			}
			v = (MDB_val){tot, big};
		}
		int rc = mdb_put(txn, dbi, &k, &v, mode == 1 ? MDB_APPENDDUP : MDB_APPEND);
		skipped += rc != 0;
		i = mode == 0 ? j : i + 1;
	}
	mdb_stat(txn, dbi, &st);
	mdb_txn_commit(txn);
	double t = now_s() - t0;
	struct stat sb;
	snprintf(cmd, sizeof(cmd), "%s/data.mdb", dir);
	stat(cmd, &sb);
	*mb = (double)sb.st_size / 1048576;
	*entries = st.ms_entries - skipped;
	mdb_env_close(env);
	if (skipped > 0) {
		fprintf(stderr, "bench_zdb: layout %d: %zu puts refused\n", mode, skipped);
	}
	return t;
}

static int cmd_layout(int argc, char **argv)
{
	if (argc != 6 || strcmp(argv[2], "-i") != 0 || strcmp(argv[4], "-s") != 0) {
		return 2;
	}
	struct input in = map_input(argv[3]);
	struct zdb_zname z;
	struct zdb_rr rr;
	size_t off = 0, n = 0, cap = 1 << 20;
	struct kv *kv = malloc(sizeof(*kv) * cap);
	static const char *names[] = {"rrset", "dupsort", "rrkey"};
	if (!next_rr(&in, &off, &rr) || zdb_zname_init(&z, rr.owner) != 0) {
		return 1;
	}
	for (int mode = 0; mode < 3; mode++) {
		off = 0;
		n = 0;
		while (next_rr(&in, &off, &rr)) {
			if (n == cap) {
				kv = realloc(kv, sizeof(*kv) * (cap *= 2));
			}
			uint8_t key[ZDB_KEY_MAX + 8];
			int kl = zdb_owner_key(&z, rr.owner, rr.owner_len, key);
			zdb_be16(key + kl, rr.type == 6 ? 0 : rr.type);
			kl += 2;
			size_t vl = 6 + rr.rdlen;
			if (mode == 2) { /* the RDATA joins the key, as far as it fits */
				size_t more = rr.rdlen < ZDB_KEY_MAX - (size_t)kl ? rr.rdlen
				                                                   : ZDB_KEY_MAX - (size_t)kl;
				memcpy(key + kl, rr.rdata, more);
				kl += (int)more;
			}
			kv[n].k = malloc((size_t)kl + vl);
			memcpy(kv[n].k, key, (size_t)kl);
			kv[n].v = kv[n].k + kl;
			zdb_be32(kv[n].v, rr.ttl);
			zdb_be16(kv[n].v + 4, rr.rdlen);
			memcpy(kv[n].v + 6, rr.rdata, rr.rdlen);
			kv[n].kl = (uint16_t)kl;
			kv[n].vl = (uint32_t)vl;
			n++;
		}
		qsort(kv, n, sizeof(*kv), kv_cmp);
		double mb;
		size_t entries;
		double t = layout_run(argv[5], kv, n, mode, &mb, &entries);
		printf("layout=%s records=%zu btree_entries=%zu insert_s=%.3f file_MB=%.1f\n",
		       names[mode], n, entries, t, mb);
		for (size_t i = 0; i < n; i++) {
			free(kv[i].k);
		}
	}
	free(kv);
	return 0;
}

/* ---------------------------------------------------------------- point lookups */

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

enum lk_mode { LK_RRSET, LK_NAME, LK_MISS, LK_QUERY };

/* @p n lookups of @p mode at the owners @p rrs[pick[i]]; the rate per second. */
static double lookup_run(struct zdb *db, const uint8_t *zone, const struct zdb_rr *rrs,
                         const uint32_t *pick, size_t n, enum lk_mode mode)
{
	struct zdb_snap *s = NULL;
	struct zdb_view *v = NULL;
	struct zdb_rrset set;
	enum zdb_name_kind k;
	size_t found = 0;
	int rc = 0;
	double t0 = now_s();
	for (size_t i = 0; i < n && rc >= 0; i++) {
		const struct zdb_rr *rr = &rrs[pick[i]];
		if (s == NULL || mode == LK_QUERY) {
			rc = zdb_snap_begin(db, &s);
			rc = rc == 0 ? zdb_view_open(s, zone, &v) : rc;
			if (rc != 0) {
				die("zdb_view_open", rc);
			}
		}
		switch (mode) {
		case LK_RRSET:
		case LK_QUERY:
			rc = zdb_view_rrset(v, rr->owner, rr->owner_len, rr->type, &set);
			found += rc == 0;
			break;
		case LK_NAME:
			rc = zdb_view_name(v, rr->owner, rr->owner_len, &k);
			found += rc == 0 && k == ZDB_NAME_DATA;
			break;
		case LK_MISS:
			rc = zdb_view_rrset(v, rr->owner, rr->owner_len, 65280, &set);
			found += rc == 0;
			rc = rc == ZX_ENOTFOUND ? 0 : rc;
			break;
		}
		if (mode == LK_QUERY) {
			zdb_view_free(v);
			zdb_snap_end(s);
			s = NULL;
		}
	}
	double t = now_s() - t0;
	zdb_view_free(mode == LK_QUERY ? NULL : v);
	zdb_snap_end(s);
	if (rc < 0 && rc != ZX_ENOTFOUND) {
		die("lookup", rc);
	}
	if (found != (mode == LK_MISS ? 0 : n)) {
		fprintf(stderr, "bench_zdb: lookup mode %d found %zu of %zu\n", mode, found, n);
		exit(1);
	}
	return (double)n / t;
}

static int cmd_lookup(int argc, char **argv)
{
	const char *dir = NULL, *file = NULL;
	size_t n = 1000000;
	for (int i = 2; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "-s") == 0) {
			dir = argv[i + 1];
		} else if (strcmp(argv[i], "-i") == 0) {
			file = argv[i + 1];
		} else if (strcmp(argv[i], "-n") == 0) {
			n = strtoul(argv[i + 1], NULL, 10);
		} else {
			return 2;
		}
	}
	if (dir == NULL || file == NULL || n == 0) {
		return 2;
	}
	struct input in = map_input(file);
	size_t cap = 1u << 16, count = 0, off = 0;
	struct zdb_rr *rrs = malloc(cap * sizeof(*rrs));
	while (rrs != NULL && next_rr(&in, &off, &rrs[count])) {
		if (++count == cap) {
			cap *= 2;
			rrs = realloc(rrs, cap * sizeof(*rrs));
		}
	}
	uint32_t *pick = malloc(n * sizeof(*pick));
	if (rrs == NULL || pick == NULL || count == 0) {
		fprintf(stderr, "bench_zdb: %s: no records\n", file);
		return 1;
	}
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	for (size_t i = 0; i < n; i++) {
		pick[i] = (uint32_t)(xorshift(&seed) % count);
	}
	uint8_t zone[DNAME_MAXLEN];
	for (size_t i = 0; i < count; i++) {
		if (rrs[i].type == 6) {
			memcpy(zone, rrs[i].owner, rrs[i].owner_len);
			break;
		}
	}
	struct zdb *db = open_db(dir, ZDB_SYNC_NOMETA, 0);
	lookup_run(db, zone, rrs, pick, n < 100000 ? n : 100000, LK_RRSET); /* warm the cache */
	double hit = lookup_run(db, zone, rrs, pick, n, LK_RRSET);
	double name = lookup_run(db, zone, rrs, pick, n, LK_NAME);
	double miss = lookup_run(db, zone, rrs, pick, n, LK_MISS);
	double query = lookup_run(db, zone, rrs, pick, n, LK_QUERY);
	printf("lookup zone_records=%zu lookups=%zu rrset_per_s=%.0f name_per_s=%.0f "
	       "miss_per_s=%.0f snapshot_view_rrset_per_s=%.0f\n", count, n, hit, name, miss,
	       query);
	zdb_close(db);
	free(pick);
	free(rrs);
	munmap((void *)in.p, in.len);
	return 0;
}

int main(int argc, char **argv)
{
	int rc = 2;
	if (argc >= 2 && strcmp(argv[1], "prep") == 0) {
		rc = cmd_prep(argc, argv);
	} else if (argc >= 2 && strcmp(argv[1], "axfr") == 0) {
		rc = cmd_axfr(argc, argv);
	} else if (argc >= 2 && strcmp(argv[1], "ixfr") == 0) {
		rc = cmd_ixfr(argc, argv);
	} else if (argc >= 2 && strcmp(argv[1], "layout") == 0) {
		rc = cmd_layout(argc, argv);
	} else if (argc >= 2 && strcmp(argv[1], "many") == 0) {
		rc = cmd_many(argc, argv);
	} else if (argc >= 2 && strcmp(argv[1], "lookup") == 0) {
		rc = cmd_lookup(argc, argv);
	}
	if (rc == 2) {
		fprintf(stderr, "usage: bench_zdb prep -n RECORDS -o FILE [--sorted] [-z ZONE]\n"
		                "       bench_zdb axfr -s STOREDIR -i FILE [--sync nometa|full|none]"
		                " [--chunk N] [--pace RR/s]\n"
		                "       bench_zdb ixfr -s STOREDIR -n CHANGED [-r REPS] [--sync ...]\n"
		                "       bench_zdb many -s STOREDIR [-n ZONES] [-t THREADS]"
		                " [--sync ...]\n"
		                "       bench_zdb layout -i FILE -s SCRATCHDIR\n"
		                "       bench_zdb lookup -s STOREDIR -i FILE [-n QUERIES]\n");
	}
	return rc;
}
