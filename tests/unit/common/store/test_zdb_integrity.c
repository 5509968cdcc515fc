/* tests/unit/common/store/test_zdb_integrity.c -- the zone store never lies (issue 11): a
 * zone read whole is checked against its record count and checksum (kept through
 * IXFRs, upgraded from format 1 stores), a corrupt version is marked and refetched
 * at the same serial, a truncated data file is an error and not a SIGBUS, a serial
 * that goes backwards is refused in the commit, a malformed RDATA never gets in,
 * and an IXFR of many changesets trims its journal in linear time. */
#include "test_zdb_util.h"

#include "common/store/zdb_internal.h"

#include <lmdb.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#define ZONE "example.com."

static void fill(struct trr *z, size_t n, uint32_t serial)
{
	z[0] = trr_soa(ZONE, serial);
	for (size_t i = 1; i < n; i++) {
		char name[64];
		snprintf(name, sizeof(name), "h%05zu.example.com.", i / 2);
		z[i] = trr_a(name, (uint32_t)i);
	}
}

/* Read the zone to its end; the iterator's final code (0 or the error). */
static int walk(struct zdb *db, size_t *count)
{
	struct zdb_snap *s;
	struct zdb_iter *it = NULL;
	struct zdb_rr rr;
	int rc;
	*count = 0;
	assert_int_equal(zdb_snap_begin(db, &s), 0);
	rc = zdb_iter_zone(s, tname(ZONE), &it);
	while (rc == 0 && (rc = zdb_iter_next(it, &rr)) == 1) {
		(*count)++;
		rc = 0;
	}
	if (rc < 0 && it != NULL) {
		assert_int_equal(zdb_iter_next(it, &rr), rc); /* sticky */
	}
	zdb_iter_free(it);
	zdb_snap_end(s);
	return rc;
}

/* Direct LMDB access to the store, as a broken disk or another program would. */
struct raw {
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
};

static void raw_open(struct raw *r, const char *dir, const char *db)
{
	assert_int_equal(mdb_env_create(&r->env), 0);
	assert_int_equal(mdb_env_set_maxdbs(r->env, 8), 0);
	assert_int_equal(mdb_env_set_mapsize(r->env, 64u << 20), 0);
	assert_int_equal(mdb_env_open(r->env, dir, 0, 0640), 0);
	assert_int_equal(mdb_txn_begin(r->env, NULL, 0, &r->txn), 0);
	assert_int_equal(mdb_dbi_open(r->txn, db, 0, &r->dbi), 0);
}

static void raw_close(struct raw *r)
{
	assert_int_equal(mdb_txn_commit(r->txn), 0);
	mdb_env_close(r->env);
}

/* Change one byte of the @p nth rr value (the RRset still decodes), or delete it. */
static void damage_rr(const char *dir, int nth, bool del)
{
	struct raw r;
	MDB_cursor *c;
	MDB_val k, v;
	raw_open(&r, dir, "rr");
	assert_int_equal(mdb_cursor_open(r.txn, r.dbi, &c), 0);
	for (int i = 0; i <= nth; i++) {
		assert_int_equal(mdb_cursor_get(c, &k, &v, MDB_NEXT), 0);
	}
	if (del) {
		assert_int_equal(mdb_cursor_del(c, 0), 0);
	} else {
		uint8_t buf[1024];
		assert_true(v.mv_size <= sizeof(buf) && v.mv_size > 6);
		memcpy(buf, v.mv_data, v.mv_size);
		buf[v.mv_size - 1] ^= 0x01; /* last RDATA byte: still an A record */
		MDB_val nv = {v.mv_size, buf};
		assert_int_equal(mdb_cursor_put(c, &k, &nv, MDB_CURRENT), 0);
	}
	mdb_cursor_close(c);
	raw_close(&r);
}

/* The state byte of version @p vid in the versions table; 0 when absent. */
static int version_state(const char *dir, uint32_t vid)
{
	struct raw r;
	uint8_t kb[4] = {(uint8_t)(vid >> 24), (uint8_t)(vid >> 16), (uint8_t)(vid >> 8),
	                 (uint8_t)vid};
	MDB_val k = {4, kb}, v;
	raw_open(&r, dir, "versions");
	int st = mdb_get(r.txn, r.dbi, &k, &v) == 0 ? ((const uint8_t *)v.mv_data)[0] : 0;
	raw_close(&r);
	return st;
}

/* RRset entries of version @p vid in the rr table. */
static int rr_entries(const char *dir, uint32_t vid)
{
	struct raw r;
	MDB_cursor *c;
	MDB_val k, v;
	int n = 0;
	raw_open(&r, dir, "rr");
	assert_int_equal(mdb_cursor_open(r.txn, r.dbi, &c), 0);
	while (mdb_cursor_get(c, &k, &v, MDB_NEXT) == 0) {
		const uint8_t *p = k.mv_data;
		n += ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]) == vid;
	}
	mdb_cursor_close(c);
	raw_close(&r);
	return n;
}

static void test_checksum_kept_through_axfr_and_ixfr(void **state)
{
	(void)state;
	char *dir = mk_store_dir();
	struct zdb *db = open_store(dir, 40); /* 101 RRs: the chunked path too */
	static struct trr z[101];
	size_t n;
	fill(z, 101, 1);
	load_zone(db, ZONE, z, 101, 1);
	assert_int_equal(walk(db, &n), 0);
	assert_int_equal(n, 101);
	fill(z, 30, 2); /* one chunk: the one-commit path */
	load_zone(db, ZONE, z, 30, 2);
	assert_int_equal(walk(db, &n), 0);
	assert_int_equal(n, 30);

	/* an IXFR: an RRset's one RR replaced by another, a new RRset */
	struct zdb_ixfr *x;
	struct trr s2 = trr_soa(ZONE, 2), s3 = trr_soa(ZONE, 3);
	struct trr d = z[1], a1 = trr_a("h00000.example.com.", 77), a2 = trr_txt("new.example.com.", "x");
	struct zdb_rr v;
	assert_int_equal(zdb_ixfr_begin(db, tname(ZONE), &x), 0);
	v = trr_view(&s2);
	assert_int_equal(zdb_ixfr_del(x, &v), 0);
	v = trr_view(&d);
	assert_int_equal(zdb_ixfr_del(x, &v), 0);
	v = trr_view(&s3);
	assert_int_equal(zdb_ixfr_add(x, &v), 0);
	v = trr_view(&a1);
	assert_int_equal(zdb_ixfr_add(x, &v), 0);
	v = trr_view(&a2);
	assert_int_equal(zdb_ixfr_add(x, &v), 0);
	assert_int_equal(zdb_ixfr_commit(x, 3, NULL, NULL), 0);
	assert_int_equal(walk(db, &n), 0);
	assert_int_equal(n, 31);
	zdb_close(db);
	rm_store(dir);
}

static void test_damage_is_corrupt_not_short(void **state)
{
	(void)state;
	char *dir = mk_store_dir();
	struct zdb *db = open_store(dir, 100);
	static struct trr z[50];
	size_t n;
	fill(z, 50, 1);
	load_zone(db, ZONE, z, 50, 1);
	zdb_close(db);

	damage_rr(dir, 10, false); /* a changed RDATA byte: same count, another sum */
	db = open_store(dir, 100);
	assert_int_equal(walk(db, &n), ZX_ECORRUPT);
	assert_int_equal(n, 50);
	assert_non_null(strstr(zdb_last_error(), "example.com. version 1 is corrupt"));
	assert_non_null(strstr(zdb_last_error(), "read 50 records"));
	zdb_close(db);

	damage_rr(dir, 20, true); /* an RRset gone: the walk ends early, and says so */
	db = open_store(dir, 100);
	assert_int_equal(walk(db, &n), ZX_ECORRUPT);
	assert_true(n < 50);
	zdb_close(db);
	rm_store(dir);
}

static void test_corrupt_mark_and_refetch_same_serial(void **state)
{
	(void)state;
	char *dir = mk_store_dir();
	struct zdb *db = open_store(dir, 100);
	static struct trr z[20];
	struct zdb_snap *s;
	struct zdb_zone_info zi;
	struct zdb_iter *it;
	struct zdb_ixfr *x;
	size_t n;
	fill(z, 20, 7);
	load_zone(db, ZONE, z, 20, 1);
	struct zdb_usage u;
	assert_int_equal(zdb_usage(db, &u), 0);
	assert_int_equal(u.map_bytes, 64u << 20);
	assert_true(u.used_bytes >= 4 * 4096 && u.used_bytes < u.map_bytes);
	assert_int_equal(zone_corrupt(db, tname(ZONE), 99, 2, "x"), ZX_EAGAIN);
	assert_int_equal(zone_corrupt(db, tname("other.example."), 1, 2, "x"),
	                 ZX_ENOTFOUND);
	assert_int_equal(zone_corrupt(db, tname(ZONE), 1, 2, "found by a test"), 0);
	assert_int_equal(zdb_snap_begin(db, &s), 0);
	assert_int_equal(zdb_zone_get(s, tname(ZONE), &zi), 0);
	assert_true(zi.corrupt);
	assert_int_equal(zi.state, ZDB_STATE_FAILED);
	assert_int_equal(zi.last_error, ZX_ECORRUPT);
	assert_string_equal(zi.last_error_text, "found by a test");
	assert_int_equal(zdb_iter_zone(s, tname(ZONE), &it), ZX_ECORRUPT);
	zdb_snap_end(s);
	assert_int_equal(zdb_ixfr_begin(db, tname(ZONE), &x), ZX_ECORRUPT);
	/* an SOA check that finds nothing newer does not make it whole again */
	assert_int_equal(zdb_zone_event(db, tname(ZONE), ZDB_EV_UPTODATE, 3, NULL, NULL), 0);
	assert_int_equal(walk(db, &n), ZX_ECORRUPT);

	/* the default rule takes the same serial again for a corrupt zone */
	struct zdb_axfr *a;
	assert_int_equal(zdb_axfr_begin(db, tname(ZONE), &a), 0);
	for (size_t i = 0; i < 20; i++) {
		struct zdb_rr v = trr_view(&z[i]);
		assert_int_equal(zdb_axfr_add(a, &v), 0);
	}
	assert_int_equal(zdb_axfr_commit(a, 4, NULL, NULL), 0);
	assert_int_equal(walk(db, &n), 0);
	assert_int_equal(zdb_snap_begin(db, &s), 0);
	assert_int_equal(zdb_zone_get(s, tname(ZONE), &zi), 0);
	assert_false(zi.corrupt);
	assert_int_equal(zi.state, ZDB_STATE_FRESH);
	zdb_snap_end(s);
	/* the replaced corrupt version is never collected: its pages stay untouched */
	while (zdb_gc(db, 100) == 1) {
	}
	zdb_close(db);
	/* a reader cannot mark (one open of a store per process at a time: LMDB's rule) */
	struct zdb_opts ro;
	struct zdb *rdb;
	zdb_opts_init(&ro);
	ro.path = dir;
	ro.readonly = true;
	ro.map_size = 0;
	assert_int_equal(zdb_open(&ro, &rdb), 0);
	assert_int_equal(zone_corrupt(rdb, tname(ZONE), 2, 5, "x"), ZX_EINVAL);
	zdb_close(rdb);
	assert_int_equal(version_state(dir, 1), ZDB_V_CORRUPT);
	assert_int_equal(rr_entries(dir, 1), 11); /* the SOA and 10 A RRsets */
	rm_store(dir);
}

/* Open @p dir (read-only or not) in a child: its exit status, or 128 + signal. */
static int open_in_child(const char *dir, bool readonly, char *msg, size_t size)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct zdb_opts o;
		struct zdb *db;
		struct zdb_snap *s;
		struct zdb_zone_info zi;
		zdb_opts_init(&o);
		o.path = dir;
		o.readonly = readonly;
		o.map_size = readonly ? 0 : 64u << 20;
		o.gc_thread = false;
		int rc = zdb_open(&o, &db);
		if (rc == 0 && zdb_snap_begin(db, &s) == 0) {
			struct zdb_iter *it = NULL;
			struct zdb_rr rr;
			rc = zdb_zone_get(s, tname(ZONE), &zi);
			rc = rc == 0 ? zdb_iter_zone(s, tname(ZONE), &it) : rc;
			while (rc == 0 && (rc = zdb_iter_next(it, &rr)) == 1) { /* every page */
				rc = 0;
			}
			zdb_iter_free(it);
			zdb_snap_end(s);
		}
		dprintf(fds[1], "%d %s", rc, zdb_last_error());
		_exit(rc == 0 ? 0 : 1);
	}
	close(fds[1]);
	ssize_t got = read(fds[0], msg, size - 1);
	msg[got > 0 ? got : 0] = '\0';
	close(fds[0]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}

static void test_truncated_file_is_an_error(void **state)
{
	(void)state;
	char *dir = mk_store_dir();
	char path[256], msg[1024];
	struct zdb *db = open_store(dir, 1000);
	static struct trr z[3000];
	fill(z, 3000, 1);
	load_zone(db, ZONE, z, 3000, 1);
	zdb_close(db);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(truncate(path, st.st_size / 2), 0);
	assert_int_equal(open_in_child(dir, true, msg, sizeof(msg)), 1);
	assert_non_null(strstr(msg, "is truncated"));
	assert_int_equal(atoi(msg), ZX_ESTORE);
	assert_int_equal(open_in_child(dir, false, msg, sizeof(msg)), 1);
	assert_non_null(strstr(msg, "is truncated"));
	rm_store(dir);
}

/* Turn a format 2 store back into what format 1 wrote: shorter zone records. */
static void make_v1(const char *dir)
{
	struct raw r;
	MDB_cursor *c;
	MDB_val k, v;
	static uint8_t keys[8][512], vals[8][2048];
	size_t klen[8], vlen[8], n = 0;
	raw_open(&r, dir, "zones");
	assert_int_equal(mdb_cursor_open(r.txn, r.dbi, &c), 0);
	while (mdb_cursor_get(c, &k, &v, MDB_NEXT) == 0 && n < 8) {
		size_t tail = v.mv_size - sizeof(struct zdb_zrec);
		memcpy(keys[n], k.mv_data, k.mv_size);
		klen[n] = k.mv_size;
		memcpy(vals[n], v.mv_data, ZDB_ZREC_V1_SIZE);
		memcpy(vals[n] + ZDB_ZREC_V1_SIZE, (uint8_t *)v.mv_data + sizeof(struct zdb_zrec),
		       tail);
		vals[n][0] = 1; /* fmt */
		vlen[n++] = ZDB_ZREC_V1_SIZE + tail;
	}
	mdb_cursor_close(c);
	for (size_t i = 0; i < n; i++) {
		MDB_val nk = {klen[i], keys[i]}, nv = {vlen[i], vals[i]};
		assert_int_equal(mdb_put(r.txn, r.dbi, &nk, &nv, 0), 0);
	}
	MDB_dbi meta;
	uint32_t one = 1;
	MDB_val fk = {6, (void *)"format"}, fv = {4, &one};
	assert_int_equal(mdb_dbi_open(r.txn, "meta", 0, &meta), 0);
	assert_int_equal(mdb_put(r.txn, meta, &fk, &fv, 0), 0);
	raw_close(&r);
}

static void test_format1_store_upgraded(void **state)
{
	(void)state;
	char *dir = mk_store_dir();
	char msg[1024];
	size_t n;
	struct zdb *db = open_store(dir, 100);
	static struct trr z[60];
	fill(z, 60, 5);
	load_zone(db, ZONE, z, 60, 1);
	assert_int_equal(zone_failed(db, tname("empty.example."), 1, ZX_ETIMEDOUT, NULL, NULL), 0);
	zdb_close(db);
	make_v1(dir);
	assert_int_equal(open_in_child(dir, true, msg, sizeof(msg)), 1);
	assert_non_null(strstr(msg, "store format 1"));
	db = open_store(dir, 100); /* writable: upgrades */
	assert_int_equal(walk(db, &n), 0);
	assert_int_equal(n, 60);
	zdb_close(db);
	assert_int_equal(open_in_child(dir, true, msg, sizeof(msg)), 0); /* walks it whole */

	/* a format 1 store whose zone was already short: marked corrupt by the upgrade */
	make_v1(dir);
	damage_rr(dir, 5, true);
	db = open_store(dir, 100);
	struct zdb_snap *s;
	struct zdb_zone_info zi;
	assert_int_equal(zdb_snap_begin(db, &s), 0);
	assert_int_equal(zdb_zone_get(s, tname(ZONE), &zi), 0);
	assert_true(zi.corrupt);
	assert_int_equal(zi.last_error, ZX_ECORRUPT);
	zdb_snap_end(s);
	zdb_close(db);
	rm_store(dir);
}

static int axfr_serial(struct zdb *db, uint32_t serial, enum zdb_serial_rule rule, int set)
{
	struct zdb_axfr *a;
	struct trr z[3];
	fill(z, 3, serial);
	assert_int_equal(zdb_axfr_begin(db, tname(ZONE), &a), 0);
	if (set) {
		zdb_axfr_set_rule(a, rule);
	}
	for (size_t i = 0; i < 3; i++) {
		struct zdb_rr v = trr_view(&z[i]);
		assert_int_equal(zdb_axfr_add(a, &v), 0);
	}
	return zdb_axfr_commit(a, 1, NULL, NULL);
}

static uint32_t serial_of(struct zdb *db, uint32_t *journal)
{
	struct zdb_snap *s;
	struct zdb_zone_info zi;
	assert_int_equal(zdb_snap_begin(db, &s), 0);
	assert_int_equal(zdb_zone_get(s, tname(ZONE), &zi), 0);
	zdb_snap_end(s);
	*journal = zi.journal_count;
	return zi.serial;
}

static void test_serial_rule(void **state)
{
	(void)state;
	char *dir = mk_store_dir();
	struct zdb *db = open_store(dir, 100);
	uint32_t j;
	assert_int_equal(axfr_serial(db, 50, 0, 0), 0); /* not loaded: anything */
	assert_int_equal(axfr_serial(db, 60, 0, 0), 0);
	/* a journal entry 60 -> 61, so "journal kept" means something */
	struct zdb_ixfr *x;
	struct trr s60 = trr_soa(ZONE, 60), s61 = trr_soa(ZONE, 61), s50 = trr_soa(ZONE, 50);
	struct zdb_rr v;
	assert_int_equal(zdb_ixfr_begin(db, tname(ZONE), &x), 0);
	v = trr_view(&s60);
	assert_int_equal(zdb_ixfr_del(x, &v), 0);
	v = trr_view(&s61);
	assert_int_equal(zdb_ixfr_add(x, &v), 0);
	assert_int_equal(zdb_ixfr_commit(x, 2, NULL, NULL), 0);

	assert_int_equal(axfr_serial(db, 50, 0, 0), ZX_ESERIAL); /* the case */
	assert_non_null(strstr(zdb_last_error(), "serial 50 is older than the stored serial 61"));
	assert_int_equal(serial_of(db, &j), 61);
	assert_int_equal(j, 1);
	assert_int_equal(axfr_serial(db, 61, 0, 0), ZX_ESERIAL);
	assert_int_equal(axfr_serial(db, 61 + (1u << 31), 0, 0), ZX_ESERIAL); /* undefined */
	assert_int_equal(axfr_serial(db, 61, ZDB_SERIAL_SAME, 1), 0);
	assert_int_equal(axfr_serial(db, 50, ZDB_SERIAL_SAME, 1), ZX_ESERIAL);
	assert_int_equal(axfr_serial(db, 50, ZDB_SERIAL_ANY, 1), 0);
	assert_int_equal(serial_of(db, &j), 50);

	/* an IXFR whose changesets end older than where they began */
	assert_int_equal(zdb_ixfr_begin(db, tname(ZONE), &x), 0);
	v = trr_view(&s50);
	assert_int_equal(zdb_ixfr_del(x, &v), 0);
	struct trr s40 = trr_soa(ZONE, 40);
	v = trr_view(&s40);
	assert_int_equal(zdb_ixfr_add(x, &v), 0);
	assert_int_equal(zdb_ixfr_commit(x, 3, NULL, NULL), ZX_ESERIAL);
	assert_int_equal(serial_of(db, &j), 50);
	/* the chunked path checks in its switch too */
	zdb_close(db);
	db = open_store(dir, 2);
	assert_int_equal(axfr_serial(db, 49, 0, 0), ZX_ESERIAL);
	assert_int_equal(serial_of(db, &j), 50);
	assert_int_equal(axfr_serial(db, 51, 0, 0), 0);
	zdb_close(db);
	rm_store(dir);
}

static void test_malformed_rdata_refused(void **state)
{
	(void)state;
	char *dir = mk_store_dir();
	struct zdb *db = open_store(dir, 100);
	struct trr z[2];
	fill(z, 2, 1);
	load_zone(db, ZONE, z, 2, 1);
	struct trr bad = trr_a("www.example.com.", 1);
	bad.rdlen = 3;
	struct zdb_rr v = trr_view(&bad);
	struct zdb_axfr *a;
	assert_int_equal(zdb_axfr_begin(db, tname(ZONE), &a), 0);
	struct trr soa = trr_soa(ZONE, 2);
	struct zdb_rr sv = trr_view(&soa);
	assert_int_equal(zdb_axfr_add(a, &sv), 0);
	assert_int_equal(zdb_axfr_add(a, &v), ZX_EFORMAT);
	assert_non_null(strstr(zdb_last_error(), "www.example.com. A: RDATA malformed"));
	assert_non_null(strstr(zdb_last_error(), "RDLENGTH 3"));
	zdb_axfr_abort(a);
	struct zdb_ixfr *x;
	struct trr s1 = trr_soa(ZONE, 1);
	assert_int_equal(zdb_ixfr_begin(db, tname(ZONE), &x), 0);
	struct zdb_rr d = trr_view(&s1);
	assert_int_equal(zdb_ixfr_del(x, &d), 0);
	assert_int_equal(zdb_ixfr_add(x, &sv), 0);
	assert_int_equal(zdb_ixfr_add(x, &v), ZX_EFORMAT);
	zdb_ixfr_abort(x);
	assert_zone(db, ZONE, z, 2);
	zdb_close(db);
	rm_store(dir);
}

/* 50,000 changesets of nothing (the IXFR had 700,000): the journal is
 * trimmed as they come, in linear time. Trimming by moving the buffer took minutes. */
static void test_many_changesets_linear(void **state)
{
	(void)state;
	char *dir = mk_store_dir();
	struct zdb_opts o;
	struct zdb *db;
	zdb_opts_init(&o);
	o.path = dir;
	o.map_size = 256u << 20;
	o.sync = ZDB_SYNC_NONE;
	o.gc_thread = false;
	o.journal_count = 100;
	o.journal_bytes = 4u << 20;
	assert_int_equal(zdb_open(&o, &db), 0);
	struct trr z[2];
	fill(z, 2, 1);
	load_zone(db, ZONE, z, 2, 1);
	struct zdb_ixfr *x;
	clock_t t0 = clock();
	assert_int_equal(zdb_ixfr_begin(db, tname(ZONE), &x), 0);
	for (uint32_t s = 1; s <= 50000; s++) {
		struct trr from = trr_soa(ZONE, s), to = trr_soa(ZONE, s + 1);
		struct zdb_rr v = trr_view(&from);
		assert_int_equal(zdb_ixfr_del(x, &v), 0);
		v = trr_view(&to);
		assert_int_equal(zdb_ixfr_add(x, &v), 0);
	}
	assert_true(zdb_ixfr_holds_lock(x)); /* past the spill size: applied as it came */
	assert_int_equal(zdb_ixfr_commit(x, 2, NULL, NULL), 0);
	double cpu = (double)(clock() - t0) / CLOCKS_PER_SEC;
	uint32_t j;
	assert_int_equal(serial_of(db, &j), 50001);
	assert_int_equal(j, 100);
	size_t n;
	assert_int_equal(walk(db, &n), 0);
	fprintf(stderr, "50000 empty changesets: %.2f s CPU\n", cpu);
	assert_true(cpu < 5.0);
	zdb_close(db);
	rm_store(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checksum_kept_through_axfr_and_ixfr),
		cmocka_unit_test(test_damage_is_corrupt_not_short),
		cmocka_unit_test(test_corrupt_mark_and_refetch_same_serial),
		cmocka_unit_test(test_truncated_file_is_an_error),
		cmocka_unit_test(test_format1_store_upgraded),
		cmocka_unit_test(test_serial_rule),
		cmocka_unit_test(test_malformed_rdata_refused),
		cmocka_unit_test(test_many_changesets_linear),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
