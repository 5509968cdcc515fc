/* tests/unit/common/store/test_zdb.c -- the zone store: open, AXFR versions, reading, state,
 * one-chunk AXFRs of many threads committed in groups. */
#include "test_zdb_util.h"

#include <fcntl.h>
#include <lmdb.h>
#include <pthread.h>
#include <sys/stat.h>

#define ZONE "example.com."

static void test_open_errors(void **state)
{
	(void)state;
	struct zdb_opts o;
	struct zdb *db = NULL, *db2 = NULL;
	char *dir = mk_store_dir();
	zdb_opts_init(&o);
	assert_int_equal(zdb_open(&o, &db), ZX_EINVAL); /* no path */
	o.path = dir;
	o.chunk_records = 0;
	assert_int_equal(zdb_open(&o, &db), ZX_EINVAL);
	zdb_opts_init(&o);
	o.path = dir;
	o.chunk_bytes = 100;
	assert_int_equal(zdb_open(&o, &db), ZX_EINVAL);
	assert_null(db);

	/* readonly, nothing there */
	zdb_opts_init(&o);
	o.path = "/tmp/test_zdb-does-not-exist";
	o.readonly = true;
	assert_int_equal(zdb_open(&o, &db), ZX_ENOENT);

	/* path is a file: the directory cannot be made */
	char file[300];
	snprintf(file, sizeof(file), "%s/plain", dir);
	int fd = open(file, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	zdb_opts_init(&o);
	o.path = file;
	assert_int_equal(zdb_open(&o, &db), ZX_EIO);

	/* one writer only */
	db = open_store(dir, 100);
	zdb_opts_init(&o);
	o.path = dir;
	assert_int_equal(zdb_open(&o, &db2), ZX_EAGAIN);
	assert_non_null(strstr(zdb_last_error(), "another process"));
	assert_null(db2);
	zdb_close(db);
	zdb_close(NULL);
	rm_store(dir);
}

static void test_open_not_a_store(void **state)
{
	(void)state;
	struct zdb_opts o;
	struct zdb *db = NULL;
	char *dir = mk_store_dir();
	char file[300];
	snprintf(file, sizeof(file), "%s/data.mdb", dir);
	FILE *f = fopen(file, "w");
	assert_non_null(f);
	for (int i = 0; i < 4096; i++) {
		fputs("garbage!", f);
	}
	fclose(f);
	zdb_opts_init(&o);
	o.path = dir;
	assert_int_equal(zdb_open(&o, &db), ZX_ESTORE);
	rm_store(dir);

	/* an LMDB store of another format version */
	dir = mk_store_dir();
	db = open_store(dir, 100);
	zdb_close(db);
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	uint32_t fmt = 99;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0640), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	MDB_val k = {6, (void *)"format"}, v = {sizeof(fmt), &fmt};
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	zdb_opts_init(&o);
	o.path = dir;
	db = NULL;
	assert_int_equal(zdb_open(&o, &db), ZX_ESTORE);
	assert_non_null(strstr(zdb_last_error(), "format 99"));
	o.readonly = true;
	assert_int_equal(zdb_open(&o, &db), ZX_ESTORE);
	assert_null(db);
	rm_store(dir);
}

/* A zone in a scrambled order, RRsets split, duplicates, mixed case. */
static size_t make_zone(struct trr *rrs, uint32_t serial)
{
	size_t n = 0;
	rrs[n++] = trr_a("b.Example.COM.", 0x0a000002);
	rrs[n++] = trr_txt("example.com.", "v=spf1 -all");
	rrs[n++] = trr_a("a.example.com.", 0x0a000001);
	rrs[n++] = trr_ns("example.com.", "ns2.example.com.");
	rrs[n++] = trr_soa("example.com.", serial);
	rrs[n++] = trr_a("z.a.example.com.", 0x0a000003);
	rrs[n++] = trr_a("a.example.com.", 0x09000001); /* RRset split, lower RDATA later */
	rrs[n++] = trr_ns("example.com.", "ns1.example.com.");
	rrs[n++] = trr_a("\\000.example.com.", 0x0a000004);
	rrs[n++] = trr_a("*.example.com.", 0x0a000005);
	rrs[n++] = trr_a("yljkjljk.a.example.com.", 0x0a000006);
	rrs[n++] = trr_a("Z.a.example.com.", 0x0a000007);
	rrs[n++] = trr_a("zABC.a.EXAMPLE.com.", 0x0a000008);
	rrs[n++] = trr_a("\\001.z.example.com.", 0x0a000009);
	rrs[n++] = trr_a("z.example.com.", 0x0a00000a);
	rrs[n++] = trr_a("\\200.z.example.com.", 0x0a00000b);
	rrs[n++] = trr_a("a.\\000.example.com.", 0x0a00000c);
	rrs[n++] = trr_a("\\000\\000.example.com.", 0x0a00000d);
	return n;
}

static void load_scrambled(struct zdb *db, const struct trr *rrs, size_t n, int64_t now)
{
	struct zdb_axfr *a;
	assert_int_equal(zdb_axfr_begin(db, tname("EXAMPLE.com."), &a), 0);
	for (size_t i = 0; i < n; i++) {
		struct zdb_rr v = trr_view(&rrs[i]);
		assert_int_equal(zdb_axfr_add(a, &v), 0);
		if (i % 3 == 0) {
			assert_int_equal(zdb_axfr_add(a, &v), 0); /* the same RR twice */
		}
	}
	struct zdb_rr soa = trr_view(&rrs[4]);
	assert_int_equal(zdb_axfr_add(a, &soa), 0); /* closing SOA */
	struct zdb_commit res;
	assert_int_equal(zdb_axfr_commit(a, now, "192.0.2.1@53", &res), 0);
	assert_int_equal(res.records, n);
}

static void test_axfr_canonical_order(void **state)
{
	(void)state;
	/* chunks of 1, 3 and 1000 records: merges across chunks, sorts within */
	uint32_t chunks[] = {1, 3, 1000};
	for (size_t c = 0; c < 3; c++) {
		char *dir = mk_store_dir();
		struct zdb *db = open_store(dir, chunks[c]);
		struct trr rrs[32];
		size_t n = make_zone(rrs, 7);
		load_scrambled(db, rrs, n, 1000);
		assert_zone(db, ZONE, rrs, n);

		/* the key order is canonical order: compare neighbours with dname_canonical_cmp */
		struct zdb_snap *s;
		struct trr got[32];
		assert_int_equal(zdb_snap_begin(db, &s), 0);
		assert_int_equal(read_zone(s, ZONE, got, 32), n);
		assert_int_equal(got[0].type, 6); /* SOA first */
		for (size_t i = 1; i < n; i++) {
			assert_true(dname_canonical_cmp(got[i - 1].owner, got[i].owner) <= 0);
		}
		zdb_snap_end(s);
		zdb_close(db);
		rm_store(dir);
	}
}

static void test_zone_info_and_list(void **state)
{
	(void)state;
	char *dir = mk_store_dir();
	struct zdb *db = open_store(dir, 100);
	struct trr rrs[32];
	size_t n = make_zone(rrs, 42);
	load_scrambled(db, rrs, n, 1234);
	struct trr soa = trr_soa("a.example.com.", 5);
	struct trr ns = trr_ns("a.example.com.", "ns.a.example.com.");
	struct trr sub[] = {soa, ns};
	load_zone(db, "a.example.com.", sub, 2, 1300);
	assert_int_equal(zone_failed(db, tname("com."), 1400, ZX_ETIMEDOUT, NULL, "192.0.2.9@53"),
	                 0);

	struct zdb_snap *s;
	struct zdb_zone_info zi;
	assert_int_equal(zdb_snap_begin(db, &s), 0);
	assert_int_equal(zdb_zone_get(s, tname("Example.Com."), &zi), 0);
	assert_true(zi.loaded);
	assert_int_equal(zi.serial, 42);
	assert_int_equal(zi.records, n);
	assert_int_equal(zi.rclass, 1);
	assert_int_equal(zi.state, ZDB_STATE_FRESH);
	assert_int_equal(zi.last_success, 1234);
	assert_int_equal(zi.last_attempt, 1234);
	assert_string_equal(zi.primary, "192.0.2.1@53");
	assert_string_equal(zi.last_error_text, "");
	assert_int_equal(zi.soa_rdlen, rrs[4].rdlen);
	assert_memory_equal(zi.soa_rdata, rrs[4].rdata, rrs[4].rdlen);
	assert_int_equal(zi.soa_ttl, 3600);
	assert_true(zi.version > 0);
	assert_int_equal(zi.journal_count, 0);
	assert_memory_equal(zi.name, tname("example.com."), zi.name_len);

	assert_int_equal(zdb_zone_get(s, tname("com."), &zi), 0);
	assert_false(zi.loaded);
	assert_int_equal(zi.state, ZDB_STATE_FAILED);
	assert_int_equal(zi.last_error, ZX_ETIMEDOUT);
	assert_string_equal(zi.last_error_text, zx_strerror(ZX_ETIMEDOUT));
	assert_string_equal(zi.primary, "192.0.2.9@53");
	assert_int_equal(zdb_zone_get(s, tname("nope.example."), &zi), ZX_ENOTFOUND);
	assert_int_equal(zdb_zone_get(s, (const uint8_t *)"\x40", &zi), ZX_EINVAL);
	struct zdb_iter *it;
	assert_int_equal(zdb_iter_zone(s, tname("com."), &it), ZX_ENOTFOUND); /* not loaded */
	assert_int_equal(zdb_iter_zone(s, tname("org."), &it), ZX_ENOTFOUND);
	assert_int_equal(zdb_iter_zone(s, (const uint8_t *)"\x40", &it), ZX_EINVAL);
	zdb_snap_end(s);
	zdb_close(db);
	rm_store(dir);
}

struct list_acc {
	char names[8][64];
	int n, stop_at;
};

static int list_cb(const struct zdb_zone_info *zi, void *arg)
{
	struct list_acc *acc = arg;
	assert_int_equal(dname_to_text(zi->name, acc->names[acc->n], 64), 0);
	acc->n++;
	return acc->n == acc->stop_at ? 77 : 0;
}

static void test_zone_list_order(void **state)
{
	(void)state;
	char *dir = mk_store_dir();
	struct zdb *db = open_store(dir, 100);
	const char *zones[] = {"b.example.", "example.", "a.b.example.", "org.", "z.a.example."};
	for (int i = 0; i < 5; i++) {
		assert_int_equal(zone_failed(db, tname(zones[i]), i, ZX_ETIMEDOUT, NULL, NULL), 0);
	}
	struct zdb_snap *s;
	struct list_acc acc = {.stop_at = -1};
	assert_int_equal(zdb_snap_begin(db, &s), 0);
	assert_int_equal(zdb_zone_list(s, list_cb, &acc), 0);
	assert_int_equal(acc.n, 5);
	assert_string_equal(acc.names[0], "example.");
	assert_string_equal(acc.names[1], "z.a.example.");
	assert_string_equal(acc.names[2], "b.example.");
	assert_string_equal(acc.names[3], "a.b.example.");
	assert_string_equal(acc.names[4], "org.");
	struct list_acc stop = {.stop_at = 2};
	assert_int_equal(zdb_zone_list(s, list_cb, &stop), 77);
	assert_int_equal(stop.n, 2);
	zdb_snap_end(s);
	zdb_close(db);
	rm_store(dir);
}

static void test_axfr_errors_keep_zone(void **state)
{
	(void)state;
	char *dir = mk_store_dir();
	struct zdb *db = open_store(dir, 2);
	struct trr rrs[32];
	size_t n = make_zone(rrs, 1);
	load_scrambled(db, rrs, n, 10);

	struct zdb_axfr *a;
	assert_int_equal(zdb_axfr_begin(db, tname(ZONE), &a), 0);
	struct trr out = trr_a("example.org.", 1);
	struct zdb_rr v = trr_view(&out);
	assert_int_equal(zdb_axfr_add(a, &v), ZX_EFORMAT);
	struct trr good = trr_a("x.example.com.", 1);
	v = trr_view(&good);
	v.owner_len--;
	assert_int_equal(zdb_axfr_add(a, &v), ZX_EFORMAT);
	v = trr_view(&good);
	assert_int_equal(zdb_axfr_add(a, &v), 0);
	v.rclass = 3;
	assert_int_equal(zdb_axfr_add(a, &v), ZX_EFORMAT);
	struct trr soa1 = trr_soa(ZONE, 2), soa2 = trr_soa(ZONE, 3);
	v = trr_view(&soa1);
	assert_int_equal(zdb_axfr_add(a, &v), 0);
	v = trr_view(&soa2);
	assert_int_equal(zdb_axfr_add(a, &v), ZX_EFORMAT);
	v = trr_view(&soa1);
	v.rdlen = 10;
	assert_int_equal(zdb_axfr_add(a, &v), ZX_EFORMAT); /* a malformed SOA */
	zdb_axfr_abort(a);
	zdb_axfr_abort(NULL);

	/* no SOA: the commit fails, the zone stays */
	assert_int_equal(zdb_axfr_begin(db, tname(ZONE), &a), 0);
	for (int i = 0; i < 5; i++) {
		struct trr r = trr_a("x.example.com.", (uint32_t)i);
		v = trr_view(&r);
		assert_int_equal(zdb_axfr_add(a, &v), 0);
	}
	assert_int_equal(zdb_axfr_commit(a, 20, NULL, NULL), ZX_EFORMAT);
	assert_int_equal(zdb_axfr_begin(db, (const uint8_t *)"\x40", &a), ZX_EINVAL);
	assert_zone(db, ZONE, rrs, n);
	assert_int_equal(zdb_gc(db, 1000), 0);
	assert_int_equal(zdb_gc(db, 0), ZX_EINVAL);
	zdb_close(db);
	rm_store(dir);
}

static void test_axfr_replaces_and_gc(void **state)
{
	(void)state;
	char *dir = mk_store_dir();
	struct zdb *db = open_store(dir, 4);
	struct trr rrs[32];
	size_t n = make_zone(rrs, 1);
	load_scrambled(db, rrs, n, 10);

	struct zdb_snap *old;
	assert_int_equal(zdb_snap_begin(db, &old), 0);
	struct trr next[50];
	next[0] = trr_soa(ZONE, 2);
	for (int i = 1; i < 50; i++) {
		char name[64];
		snprintf(name, sizeof(name), "h%d.example.com.", i);
		next[i] = trr_a(name, (uint32_t)i);
	}
	load_zone(db, ZONE, next, 50, 20);
	/* the old version goes away in chunks; the old snapshot still reads it whole */
	assert_int_equal(zdb_gc(db, 5), 1);
	assert_int_equal(zdb_gc(db, 5), 1);
	int rc;
	while ((rc = zdb_gc(db, 5)) == 1) {
	}
	assert_int_equal(rc, 0);
	struct trr got[32];
	assert_int_equal(read_zone(old, ZONE, got, 32), n);
	zdb_snap_end(old);
	assert_zone(db, ZONE, next, 50);

	/* an aborted AXFR leaves nothing behind once collected */
	struct zdb_axfr *a;
	assert_int_equal(zdb_axfr_begin(db, tname(ZONE), &a), 0);
	for (int i = 1; i < 50; i++) {
		struct zdb_rr v = trr_view(&rrs[i % n]);
		assert_int_equal(zdb_axfr_add(a, &v), 0);
	}
	zdb_axfr_abort(a);
	assert_int_equal(zdb_gc(db, 1000), 0);
	assert_zone(db, ZONE, next, 50);
	zdb_close(db);
	rm_store(dir);
}

static void test_map_full(void **state)
{
	(void)state;
	char *dir = mk_store_dir();
	struct zdb_opts o;
	struct zdb *db;
	zdb_opts_init(&o);
	o.path = dir;
	o.map_size = 256u << 10;
	o.sync = ZDB_SYNC_NONE;
	o.chunk_records = 500;
	assert_int_equal(zdb_open(&o, &db), 0);
	struct trr small[] = {trr_soa(ZONE, 1), trr_a("a.example.com.", 1)};
	load_zone(db, ZONE, small, 2, 1);

	struct zdb_axfr *a;
	int rc = 0;
	assert_int_equal(zdb_axfr_begin(db, tname(ZONE), &a), 0);
	for (int i = 0; rc == 0 && i < 100000; i++) {
		char name[64];
		snprintf(name, sizeof(name), "host%06d.example.com.", i);
		struct trr r = trr_txt(name, "some text to fill the map with quickly enough");
		struct zdb_rr v = trr_view(&r);
		rc = zdb_axfr_add(a, &v);
	}
	assert_int_equal(rc, ZX_ESTOREFULL);
	assert_non_null(strstr(zdb_last_error(), "store-size"));
	assert_int_equal(zdb_axfr_commit(a, 2, NULL, NULL), ZX_ESTOREFULL);
	assert_zone(db, ZONE, small, 2);
	zdb_close(db);
	rm_store(dir);
}

static void test_snapshot_isolation(void **state)
{
	(void)state;
	char *dir = mk_store_dir();
	struct zdb *db = open_store(dir, 3);
	struct trr v1[] = {trr_soa(ZONE, 1), trr_a("a.example.com.", 1)};
	struct trr v2[] = {trr_soa(ZONE, 2), trr_a("b.example.com.", 2), trr_a("c.example.com.", 3)};
	load_zone(db, ZONE, v1, 2, 1);
	struct zdb_snap *s;
	struct zdb_zone_info zi;
	struct trr got[4];
	assert_int_equal(zdb_snap_begin(db, &s), 0);
	load_zone(db, ZONE, v2, 3, 2);
	while (zdb_gc(db, 1) == 1) {
	}
	assert_int_equal(zdb_zone_get(s, tname(ZONE), &zi), 0);
	assert_int_equal(zi.serial, 1);
	assert_int_equal(read_zone(s, ZONE, got, 4), 2);
	assert_trr_equal(&got[1], &v1[1]);
	zdb_snap_end(s);
	assert_zone(db, ZONE, v2, 3);
	zdb_close(db);
	rm_store(dir);
}

static void test_state_changes(void **state)
{
	(void)state;
	char *dir = mk_store_dir();
	struct zdb *db = open_store(dir, 100);
	struct trr v1[] = {trr_soa(ZONE, 9), trr_a("a.example.com.", 1)};
	load_zone(db, ZONE, v1, 2, 100);
	struct zdb_snap *s;
	struct zdb_zone_info zi;

	char longtext[400];
	memset(longtext, 'x', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	assert_int_equal(zone_failed(db, tname(ZONE), 210, ZX_EXFR, longtext, "198.51.100.1@53"),
	                 0);
	assert_int_equal(zdb_snap_begin(db, &s), 0);
	assert_int_equal(zdb_zone_get(s, tname(ZONE), &zi), 0);
	assert_int_equal(zi.state, ZDB_STATE_FAILED);
	assert_int_equal(zi.last_attempt, 210);
	assert_int_equal(zi.last_success, 100);
	assert_int_equal(zi.last_error, ZX_EXFR);
	assert_int_equal(strlen(zi.last_error_text), ZDB_ERRTEXT_MAX - 1);
	assert_string_equal(zi.primary, "198.51.100.1@53");
	assert_true(zi.loaded);
	assert_int_equal(zi.serial, 9);
	zdb_snap_end(s);
	assert_zone(db, ZONE, v1, 2); /* data untouched */

	assert_int_equal(zdb_zone_event(db, tname(ZONE), ZDB_EV_UPTODATE, 300, NULL, NULL), 0);
	assert_int_equal(zdb_zone_event(db, tname(ZONE), ZDB_EV_EXPIRED, 400, NULL, NULL), 0);
	assert_int_equal(zdb_snap_begin(db, &s), 0);
	assert_int_equal(zdb_zone_get(s, tname(ZONE), &zi), 0);
	assert_int_equal(zi.state, ZDB_STATE_EXPIRED);
	assert_int_equal(zi.last_success, 300);
	assert_int_equal(zi.last_error, 0);
	assert_string_equal(zi.last_error_text, "");
	zdb_snap_end(s);
	assert_int_equal(zdb_zone_event(db, tname(ZONE), (enum zdb_event)9, 1, NULL, NULL),
	                 ZX_EINVAL);
	assert_int_equal(zdb_zone_event(db, tname(ZONE), ZDB_EV_COMMITTED, 1, NULL, NULL),
	                 ZX_EINVAL); /* the commits' own */
	assert_int_equal(zdb_zone_event(db, (const uint8_t *)"\x40", ZDB_EV_UPTODATE, 1, NULL,
	                                NULL), ZX_EINVAL);
	assert_int_equal(zone_failed(db, (const uint8_t *)"\x40", 1, ZX_EIO, NULL, NULL),
	                 ZX_EINVAL);

	assert_int_equal(zdb_zone_delete(db, tname(ZONE)), 0);
	assert_int_equal(zdb_zone_delete(db, tname(ZONE)), ZX_ENOTFOUND);
	assert_int_equal(zdb_zone_delete(db, (const uint8_t *)"\x40"), ZX_EINVAL);
	assert_int_equal(zdb_gc(db, 100), 0);
	assert_int_equal(zdb_snap_begin(db, &s), 0);
	assert_int_equal(zdb_zone_get(s, tname(ZONE), &zi), ZX_ENOTFOUND);
	zdb_snap_end(s);
	zdb_close(db);
	rm_store(dir);
}

static void test_readonly_refuses_writes(void **state)
{
	(void)state;
	char *dir = mk_store_dir();
	struct zdb *db = open_store(dir, 100);
	struct trr v1[] = {trr_soa(ZONE, 9), trr_a("a.example.com.", 1)};
	load_zone(db, ZONE, v1, 2, 100);
	zdb_close(db);

	struct zdb_opts o;
	zdb_opts_init(&o);
	o.path = dir;
	o.readonly = true;
	o.map_size = 0;
	assert_int_equal(zdb_open(&o, &db), 0);
	struct zdb_axfr *a;
	struct zdb_ixfr *x;
	assert_int_equal(zdb_axfr_begin(db, tname(ZONE), &a), ZX_EINVAL);
	assert_int_equal(zdb_ixfr_begin(db, tname(ZONE), &x), ZX_EINVAL);
	assert_int_equal(zdb_zone_event(db, tname(ZONE), ZDB_EV_UPTODATE, 1, NULL, NULL),
	                 ZX_EINVAL);
	assert_int_equal(zone_failed(db, tname(ZONE), 1, ZX_EIO, NULL, NULL), ZX_EINVAL);
	assert_int_equal(zdb_zone_delete(db, tname(ZONE)), ZX_EINVAL);
	assert_int_equal(zdb_gc(db, 1), ZX_EINVAL);
	assert_zone(db, ZONE, v1, 2);
	zdb_close(db);
	rm_store(dir);
}

static void test_too_many_readers(void **state)
{
	(void)state;
	char *dir = mk_store_dir();
	struct zdb_opts o;
	struct zdb *db;
	zdb_opts_init(&o);
	o.path = dir;
	o.max_readers = 2;
	o.sync = ZDB_SYNC_NONE;
	assert_int_equal(zdb_open(&o, &db), 0);
	struct zdb_snap *s[3];
	assert_int_equal(zdb_snap_begin(db, &s[0]), 0);
	assert_int_equal(zdb_snap_begin(db, &s[1]), 0);
	assert_int_equal(zdb_snap_begin(db, &s[2]), ZX_ELIMIT);
	zdb_snap_end(s[0]);
	zdb_snap_end(s[1]);
	zdb_snap_end(NULL);
	zdb_close(db);
	rm_store(dir);
}

/* ---------------------------------------------------------------- group commit */

#define GRP_THREADS 8
#define GRP_ZONES 40
#define GRP_RRS 11

struct grp_arg {
	struct zdb *db;
	int t;
	int bad; /**< commits that failed or reported wrongly */
};

static void grp_zone(struct trr *z, char *zone, size_t size, int t, int i, uint32_t serial)
{
	char name[96];
	snprintf(zone, size, "t%d-z%d.example.", t, i);
	z[0] = trr_soa(zone, serial);
	for (int k = 1; k < GRP_RRS; k++) {
		snprintf(name, sizeof(name), "h%d.%s", k, zone);
		z[k] = trr_a(name, serial);
	}
}

/* One thread: each of its zones loaded, then replaced (no cmocka asserts off the main thread). */
static void *grp_main(void *varg)
{
	struct grp_arg *g = varg;
	for (uint32_t serial = 1; serial <= 2; serial++) {
		for (int i = 0; i < GRP_ZONES; i++) {
			struct trr z[GRP_RRS];
			char zone[64];
			struct zdb_axfr *a;
			struct zdb_commit res;
			grp_zone(z, zone, sizeof(zone), g->t, i, serial);
			if (zdb_axfr_begin(g->db, tname(zone), &a) != 0) {
				g->bad++;
				continue;
			}
			for (int k = 0; k < GRP_RRS; k++) {
				struct zdb_rr v = trr_view(&z[k]);
				g->bad += zdb_axfr_add(a, &v) != 0;
			}
			int rc = zdb_axfr_commit(a, serial, NULL, &res);
			g->bad += rc != 0 || res.serial != serial || res.records != GRP_RRS ||
			          res.had_serial != (serial == 2);
		}
	}
	return NULL;
}

static void test_group_commit_many_threads(void **state)
{
	(void)state;
	char *dir = mk_store_dir();
	struct zdb *db = open_store(dir, 1000); /* every zone fits one chunk */
	pthread_t th[GRP_THREADS];
	struct grp_arg args[GRP_THREADS];
	for (int t = 0; t < GRP_THREADS; t++) {
		args[t] = (struct grp_arg){.db = db, .t = t};
		assert_int_equal(pthread_create(&th[t], NULL, grp_main, &args[t]), 0);
	}
	for (int t = 0; t < GRP_THREADS; t++) {
		assert_int_equal(pthread_join(th[t], NULL), 0);
		assert_int_equal(args[t].bad, 0);
	}
	int rc;
	while ((rc = zdb_gc(db, 100)) == 1) {
	}
	assert_int_equal(rc, 0);
	for (int t = 0; t < GRP_THREADS; t++) {
		for (int i = 0; i < GRP_ZONES; i++) {
			struct trr z[GRP_RRS];
			char zone[64];
			grp_zone(z, zone, sizeof(zone), t, i, 2);
			assert_zone(db, zone, z, GRP_RRS);
		}
	}
	zdb_close(db);
	rm_store(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_open_not_a_store),
		cmocka_unit_test(test_axfr_canonical_order),
		cmocka_unit_test(test_zone_info_and_list),
		cmocka_unit_test(test_zone_list_order),
		cmocka_unit_test(test_axfr_errors_keep_zone),
		cmocka_unit_test(test_axfr_replaces_and_gc),
		cmocka_unit_test(test_map_full),
		cmocka_unit_test(test_snapshot_isolation),
		cmocka_unit_test(test_state_changes),
		cmocka_unit_test(test_readonly_refuses_writes),
		cmocka_unit_test(test_too_many_readers),
		cmocka_unit_test(test_group_commit_many_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
