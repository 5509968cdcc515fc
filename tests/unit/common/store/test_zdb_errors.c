/* tests/unit/common/store/test_zdb_errors.c -- the zone store's failure codes: out of memory
 * (allocations wrapped), a full map (also for one zone of a group commit), and records
 * that do not decode. */
#include "test_zdb_util.h"

#include <lmdb.h>
#include <pthread.h>

#define ZONE "example.com."

/* ---------------------------------------------------------------- allocation failures */

static int fail_in = -1; /* fail the allocation this many calls ahead; -1 never */

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);

static bool alloc_fails(void)
{
	return fail_in >= 0 && fail_in-- == 0;
}

void *__wrap_malloc(size_t size)
{
	return alloc_fails() ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return alloc_fails() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
	return alloc_fails() ? NULL : __real_realloc(p, size);
}

static void test_enomem(void **state)
{
	(void)state;
	struct zdb_opts o;
	struct zdb *db;
	struct zdb_snap *s;
	struct zdb_iter *it;
	struct zdb_axfr *a;
	struct zdb_ixfr *x;
	char *dir = mk_store_dir();
	zdb_opts_init(&o);
	o.path = dir;
	o.sync = ZDB_SYNC_NONE;
	o.gc_thread = false;
	fail_in = 0;
	assert_int_equal(zdb_open(&o, &db), ZX_ENOMEM);
	assert_int_equal(zdb_open(&o, &db), 0);
	struct trr z[] = {trr_soa(ZONE, 1), trr_a("a.example.com.", 1)};
	load_zone(db, ZONE, z, 2, 1);

	fail_in = 0;
	assert_int_equal(zdb_snap_begin(db, &s), ZX_ENOMEM);
	assert_int_equal(zdb_snap_begin(db, &s), 0);
	fail_in = 0;
	assert_int_equal(zdb_iter_zone(s, tname(ZONE), &it), ZX_ENOMEM);
	fail_in = 0;
	assert_int_equal(zdb_iter_journal(s, tname(ZONE), 0, &it), ZX_ENOMEM);
	struct zdb_view *view;
	fail_in = 0;
	assert_int_equal(zdb_view_open(s, tname(ZONE), &view), ZX_ENOMEM);
	zdb_snap_end(s);
	fail_in = 0;
	assert_int_equal(zdb_axfr_begin(db, tname(ZONE), &a), ZX_ENOMEM);
	fail_in = 0;
	assert_int_equal(zdb_ixfr_begin(db, tname(ZONE), &x), ZX_ENOMEM);

	/* an RRset value in the commit's last chunk */
	assert_int_equal(zdb_axfr_begin(db, tname(ZONE), &a), 0);
	struct zdb_rr v = trr_view(&z[0]);
	assert_int_equal(zdb_axfr_add(a, &v), 0);
	fail_in = 0;
	assert_int_equal(zdb_axfr_commit(a, 2, NULL, NULL), ZX_ENOMEM);

	/* the IXFR buffer, then the RRset value at commit */
	assert_int_equal(zdb_ixfr_begin(db, tname(ZONE), &x), 0);
	struct trr s1 = trr_soa(ZONE, 1), s2 = trr_soa(ZONE, 2), b = trr_a("b.example.com.", 2);
	v = trr_view(&s1);
	fail_in = 0;
	assert_int_equal(zdb_ixfr_del(x, &v), ZX_ENOMEM);
	zdb_ixfr_abort(x);
	assert_int_equal(zdb_ixfr_begin(db, tname(ZONE), &x), 0);
	assert_int_equal(zdb_ixfr_del(x, &v), 0);
	v = trr_view(&s2);
	assert_int_equal(zdb_ixfr_add(x, &v), 0);
	v = trr_view(&b);
	assert_int_equal(zdb_ixfr_add(x, &v), 0);
	fail_in = 0;
	assert_int_equal(zdb_ixfr_commit(x, 3, NULL, NULL), ZX_ENOMEM);
	fail_in = -1;
	assert_zone(db, ZONE, z, 2);
	zdb_close(db);
	rm_store(dir);
}

static void test_enomem_in_writer_thread(void **state)
{
	(void)state;
	char *dir = mk_store_dir();
	struct zdb *db = open_store(dir, 2); /* every second RR hands a chunk over */
	struct zdb_axfr *a;
	struct trr soa = trr_soa(ZONE, 1), r = trr_a("a.example.com.", 1);
	struct zdb_rr v = trr_view(&soa);
	assert_int_equal(zdb_axfr_begin(db, tname(ZONE), &a), 0);
	assert_int_equal(zdb_axfr_add(a, &v), 0);
	v = trr_view(&r);
	fail_in = 0; /* the writer's first RRset value */
	assert_int_equal(zdb_axfr_add(a, &v), 0);
	int rc = 0;
	for (int i = 0; i < 100 && rc == 0; i++) {
		rc = zdb_axfr_add(a, &v); /* the error surfaces at a later handoff */
	}
	fail_in = -1;
	assert_int_equal(rc, ZX_ENOMEM);
	assert_int_equal(zdb_axfr_commit(a, 1, NULL, NULL), ZX_ENOMEM);
	zdb_close(db);
	rm_store(dir);
}

/* ---------------------------------------------------------------- a full map */

static struct zdb *open_small(const char *dir)
{
	struct zdb_opts o;
	struct zdb *db;
	zdb_opts_init(&o);
	o.path = dir;
	o.map_size = 256u << 10;
	o.sync = ZDB_SYNC_NONE;
	o.chunk_records = 500;
	o.gc_thread = false;
	assert_int_equal(zdb_open(&o, &db), 0);
	return db;
}

static void test_map_full_ixfr(void **state)
{
	(void)state;
	char *dir = mk_store_dir();
	struct zdb *db = open_small(dir);
	struct trr z[] = {trr_soa(ZONE, 1), trr_a("a.example.com.", 1)};
	load_zone(db, ZONE, z, 2, 1);
	struct zdb_ixfr *x;
	struct trr s1 = trr_soa(ZONE, 1), s2 = trr_soa(ZONE, 2);
	struct zdb_rr v;

	/* buffered: the commit finds the map full */
	assert_int_equal(zdb_ixfr_begin(db, tname(ZONE), &x), 0);
	v = trr_view(&s1);
	assert_int_equal(zdb_ixfr_del(x, &v), 0);
	v = trr_view(&s2);
	assert_int_equal(zdb_ixfr_add(x, &v), 0);
	for (int i = 0; i < 5000; i++) {
		char name[64];
		snprintf(name, sizeof(name), "filler%05d.example.com.", i);
		struct trr r = trr_txt(name, "text that takes room in the map");
		v = trr_view(&r);
		assert_int_equal(zdb_ixfr_add(x, &v), 0);
	}
	assert_int_equal(zdb_ixfr_commit(x, 2, NULL, NULL), ZX_ESTOREFULL);
	assert_non_null(strstr(zdb_last_error(), "store-size"));
	assert_zone(db, ZONE, z, 2);

	/* past the spill size the diff is applied as it comes: the add itself fails */
	assert_int_equal(zdb_ixfr_begin(db, tname(ZONE), &x), 0);
	v = trr_view(&s1);
	assert_int_equal(zdb_ixfr_del(x, &v), 0);
	v = trr_view(&s2);
	assert_int_equal(zdb_ixfr_add(x, &v), 0);
	int rc = 0;
	for (int i = 0; i < 40000 && rc == 0; i++) {
		char name[64];
		snprintf(name, sizeof(name), "filler%05d.example.com.", i);
		struct trr r = trr_txt(name, "text that takes room in the map");
		v = trr_view(&r);
		rc = zdb_ixfr_add(x, &v);
	}
	assert_int_equal(rc, ZX_ESTOREFULL);
	zdb_ixfr_abort(x);
	assert_zone(db, ZONE, z, 2);
	zdb_close(db);
	rm_store(dir);
}

static void test_map_full_small_commits(void **state)
{
	(void)state;
	char *dir = mk_store_dir();
	struct zdb *db = open_small(dir);
	struct trr z[] = {trr_soa(ZONE, 1), trr_a("a.example.com.", 1)};
	load_zone(db, ZONE, z, 2, 1);
	/* fill the map with chunks of an AXFR that is then dropped (not yet collected) */
	struct zdb_axfr *a;
	int rc = 0;
	assert_int_equal(zdb_axfr_begin(db, tname(ZONE), &a), 0);
	for (int i = 0; rc == 0; i++) {
		char name[64];
		snprintf(name, sizeof(name), "filler%05d.example.com.", i);
		struct trr r = trr_txt(name, "text that takes room in the map");
		struct zdb_rr v = trr_view(&r);
		rc = zdb_axfr_add(a, &v);
	}
	assert_int_equal(rc, ZX_ESTOREFULL);
	zdb_axfr_abort(a);
	/* the small commits use what pages are free, then fail too; the zone stays. An
	 * AXFR of one chunk is one commit: another zone replaced until the map is full */
	struct trr osoa = trr_soa("other.example.", 1);
	rc = 0;
	for (int i = 0; i < 10000 && rc == 0; i++) {
		struct zdb_axfr *a2;
		struct zdb_rr v = trr_view(&osoa);
		assert_int_equal(zdb_axfr_begin(db, tname("other.example."), &a2), 0);
		zdb_axfr_set_rule(a2, ZDB_SERIAL_SAME);
		assert_int_equal(zdb_axfr_add(a2, &v), 0);
		rc = zdb_axfr_commit(a2, 4, NULL, NULL);
	}
	assert_int_equal(rc, ZX_ESTOREFULL);
	for (int i = 0; i < 10000 && rc != 0; i++) {
		char name[64];
		snprintf(name, sizeof(name), "z%d.example.", i);
		rc = zone_failed(db, tname(name), 5, ZX_ETIMEDOUT, NULL, NULL);
	}
	for (int i = 0; i < 10000 && rc == 0; i++) {
		char name[64];
		snprintf(name, sizeof(name), "z%d.example.", i);
		rc = zone_failed(db, tname(name), 5, ZX_ETIMEDOUT, NULL, NULL);
	}
	assert_int_equal(rc, ZX_ESTOREFULL);
	rc = 0; /* a record elsewhere in the tree may fit a leaf still: fill until full */
	for (int i = 0; i < 10000 && rc == 0; i++) {
		char name[64];
		snprintf(name, sizeof(name), "y%d.example.", i);
		rc = zone_failed(db, tname(name), 5, ZX_EIO, "a long error text to fill pages", NULL);
	}
	assert_int_equal(rc, ZX_ESTOREFULL);
	/* collecting the dropped version frees the map again */
	while ((rc = zdb_gc(db, 100)) == 1) {
	}
	assert_int_equal(rc, 0);
	assert_int_equal(zone_failed(db, tname("again.example."), 6, ZX_ETIMEDOUT, NULL, NULL), 0);
	assert_zone(db, ZONE, z, 2);
	zdb_close(db);
	rm_store(dir);
}

/* A group commit in which one zone does not fit: the others commit, it fails alone. */
#define GF_SMALL 4  /* threads storing small zones */
#define GF_BIG 2    /* threads storing a zone larger than the map, in one chunk */
#define GF_ROUNDS 20
#define GF_BIG_RRS 6000

struct gf_arg {
	struct zdb *db;
	int t;
	int bad;
};

static void *gf_main(void *varg)
{
	struct gf_arg *g = varg;
	bool big = g->t >= GF_SMALL;
	for (int i = 0; i < GF_ROUNDS; i++) {
		char zone[64], name[96];
		struct zdb_axfr *a;
		snprintf(zone, sizeof(zone), big ? "big%d.example." : "t%d-z%d.example.", g->t, i);
		if (zdb_axfr_begin(g->db, tname(zone), &a) != 0) {
			g->bad++;
			continue;
		}
		struct trr r = trr_soa(zone, 1);
		struct zdb_rr v = trr_view(&r);
		g->bad += zdb_axfr_add(a, &v) != 0;
		for (int k = 0; k < (big ? GF_BIG_RRS : 10); k++) {
			snprintf(name, sizeof(name), "h%d.%s", k, zone);
			r = trr_txt(name, "text that takes room in the map, and more of it");
			v = trr_view(&r);
			g->bad += zdb_axfr_add(a, &v) != 0;
		}
		int rc = zdb_axfr_commit(a, 1, NULL, NULL);
		if (big) {
			g->bad += rc != ZX_ESTOREFULL || strstr(zdb_last_error(), "store-size") == NULL;
		} else {
			g->bad += rc != 0;
		}
	}
	return NULL;
}

static void test_map_full_one_of_a_group(void **state)
{
	(void)state;
	char *dir = mk_store_dir();
	struct zdb_opts o;
	struct zdb *db;
	zdb_opts_init(&o);
	o.path = dir;
	o.map_size = 512u << 10;
	o.sync = ZDB_SYNC_NOMETA; /* commits that take a while: groups form */
	o.chunk_records = 2 * GF_BIG_RRS;
	o.gc_thread = false;
	assert_int_equal(zdb_open(&o, &db), 0);
	pthread_t th[GF_SMALL + GF_BIG];
	struct gf_arg args[GF_SMALL + GF_BIG];
	for (int t = 0; t < GF_SMALL + GF_BIG; t++) {
		args[t] = (struct gf_arg){.db = db, .t = t};
		assert_int_equal(pthread_create(&th[t], NULL, gf_main, &args[t]), 0);
	}
	for (int t = 0; t < GF_SMALL + GF_BIG; t++) {
		assert_int_equal(pthread_join(th[t], NULL), 0);
		assert_int_equal(args[t].bad, 0);
	}
	struct zdb_snap *s;
	struct zdb_zone_info zi;
	assert_int_equal(zdb_snap_begin(db, &s), 0);
	assert_int_equal(zdb_zone_get(s, tname("t0-z7.example."), &zi), 0);
	assert_int_equal(zi.records, 11);
	assert_int_equal(zdb_zone_get(s, tname("big4.example."), &zi), ZX_ENOTFOUND);
	zdb_snap_end(s);
	zdb_close(db);
	rm_store(dir);
}

/* ---------------------------------------------------------------- records that do not decode */

/* Overwrite every value of database @p name with @p len bytes of @p val. */
static void corrupt(const char *dir, const char *name, const void *val, size_t len)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *c;
	MDB_val k, v;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0640), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, name, 0, &dbi), 0);
	assert_int_equal(mdb_cursor_open(txn, dbi, &c), 0);
	while (mdb_cursor_get(c, &k, &v, MDB_NEXT) == 0) {
		MDB_val nv = {len, (void *)val};
		assert_int_equal(mdb_cursor_put(c, &k, &nv, MDB_CURRENT), 0);
	}
	mdb_cursor_close(c);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static int count_zone(const struct zdb_zone_info *zi, void *arg)
{
	(void)zi;
	(*(int *)arg)++;
	return 0;
}

static void test_corrupt_records(void **state)
{
	(void)state;
	char *dir = mk_store_dir();
	struct zdb *db = open_store(dir, 100);
	struct trr z[] = {trr_soa(ZONE, 1), trr_a("a.example.com.", 1)};
	load_zone(db, ZONE, z, 2, 1);
	struct zdb_ixfr *x;
	assert_int_equal(zdb_ixfr_begin(db, tname(ZONE), &x), 0);
	struct trr s1 = trr_soa(ZONE, 1), s2 = trr_soa(ZONE, 2);
	struct zdb_rr v = trr_view(&s1);
	assert_int_equal(zdb_ixfr_del(x, &v), 0);
	v = trr_view(&s2);
	assert_int_equal(zdb_ixfr_add(x, &v), 0);
	assert_int_equal(zdb_ixfr_commit(x, 2, NULL, NULL), 0);
	zdb_close(db);

	struct zdb_snap *s;
	struct zdb_iter *it;
	struct zdb_rr rr;
	corrupt(dir, "rr", "\x00\x01\x02", 3);    /* shorter than TTL + RDLENGTH */
	corrupt(dir, "journal", "\x00\x01", 2);   /* shorter than a changeset header */
	db = open_store(dir, 100);
	assert_int_equal(zdb_snap_begin(db, &s), 0);
	assert_int_equal(zdb_iter_zone(s, tname(ZONE), &it), 0);
	assert_int_equal(zdb_iter_next(it, &rr), ZX_ECORRUPT);
	zdb_iter_free(it);
	assert_int_equal(zdb_iter_journal(s, tname(ZONE), 1, &it), ZX_ESTORE);
	/* a point lookup finds the RRset, whose value does not decode (the apex SOA: the
	   first key; corrupt() rewrites later keys too, as LMDB moves them) */
	struct zdb_view *view;
	struct zdb_rrset set;
	size_t off = 0;
	assert_int_equal(zdb_view_open(s, tname(ZONE), &view), 0);
	assert_int_equal(zdb_view_rrset(view, tname(ZONE), 13, 6, &set), 0);
	assert_int_equal(zdb_rrset_next(&set, &off, &rr), ZX_ECORRUPT);
	zdb_view_free(view);
	zdb_snap_end(s);
	zdb_close(db);

	corrupt(dir, "zones", "\x01\x02\x03\x04", 4); /* not a zone record */
	db = open_store(dir, 100);
	struct zdb_zone_info zi;
	int n = 0;
	assert_int_equal(zdb_snap_begin(db, &s), 0);
	assert_int_equal(zdb_zone_get(s, tname(ZONE), &zi), ZX_ESTORE);
	assert_int_equal(zdb_zone_list(s, count_zone, &n), ZX_ESTORE);
	assert_int_equal(n, 0);
	zdb_snap_end(s);
	zdb_close(db);
	rm_store(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enomem),
		cmocka_unit_test(test_enomem_in_writer_thread),
		cmocka_unit_test(test_map_full_ixfr),
		cmocka_unit_test(test_map_full_small_commits),
		cmocka_unit_test(test_map_full_one_of_a_group),
		cmocka_unit_test(test_corrupt_records),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
