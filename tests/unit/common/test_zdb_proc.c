/* tests/unit/common/test_zdb_proc.c -- the zone store across processes: a reader in
 * another process during an AXFR switch, a writer that dies mid-AXFR, one writer only. */
#include "test_zdb_util.h"

#include <lmdb.h>
#include <signal.h>
#include <sys/wait.h>

#define ZONE "example.com."
#define NREC 3000

static void make_version(struct trr *z, uint32_t serial, size_t n)
{
	z[0] = trr_soa(ZONE, serial);
	for (size_t i = 1; i < n; i++) {
		char name[64];
		snprintf(name, sizeof(name), "v%u-h%zu.example.com.", serial, i);
		z[i] = trr_a(name, serial);
	}
}

static void wr(int fd)
{
	assert_int_equal(write(fd, "x", 1), 1);
}

static void rd(int fd)
{
	char c;
	assert_int_equal(read(fd, &c, 1), 1);
}

/* The child: a snapshot taken before the switch reads the old zone whole, a new one the new. */
static int reader_child(const char *dir, int to_parent, int from_parent)
{
	struct zdb_opts o;
	struct zdb *db;
	struct zdb_snap *old, *cur;
	struct zdb_zone_info zi;
	struct zdb_iter *it;
	struct zdb_rr rr;
	zdb_opts_init(&o);
	o.path = dir;
	o.readonly = true;
	o.map_size = 0;
	if (zdb_open(&o, &db) != 0 || zdb_snap_begin(db, &old) != 0) {
		return 10;
	}
	wr(to_parent);   /* snapshot taken */
	rd(from_parent); /* the parent switched versions and collected the old one */
	int bad = 0;
	size_t n = 0;
	if (zdb_zone_get(old, tname(ZONE), &zi) != 0 || zi.serial != 1 ||
	    zdb_iter_zone(old, tname(ZONE), &it) != 0) {
		return 11;
	}
	while (zdb_iter_next(it, &rr) == 1) {
		bad += rr.type == 1 && rr.rdata[3] != 1; /* every A of version 1 says 1 */
		n++;
	}
	zdb_iter_free(it);
	zdb_snap_end(old);
	if (bad != 0 || n != NREC) {
		return 12;
	}
	if (zdb_snap_begin(db, &cur) != 0 || zdb_zone_get(cur, tname(ZONE), &zi) != 0 ||
	    zi.serial != 2 || zi.records != NREC + 1) {
		return 13;
	}
	zdb_snap_end(cur);
	zdb_close(db);
	return 0;
}

static void test_reader_process_sees_whole_versions(void **state)
{
	(void)state;
	char *dir = mk_store_dir();
	struct zdb *db = open_store(dir, 100);
	static struct trr v1[NREC], v2[NREC + 1];
	make_version(v1, 1, NREC);
	make_version(v2, 2, NREC + 1);
	load_zone(db, ZONE, v1, NREC, 1);

	int up[2], down[2];
	assert_int_equal(pipe(up), 0);
	assert_int_equal(pipe(down), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		_exit(reader_child(dir, up[1], down[0]));
	}
	rd(up[0]);
	load_zone(db, ZONE, v2, NREC + 1, 2); /* 31 chunks, then the switch */
	while (zdb_gc(db, 500) == 1) {
	}
	wr(down[1]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	close(up[0]);
	close(up[1]);
	close(down[0]);
	close(down[1]);
	zdb_close(db);
	rm_store(dir);
}

static size_t count_rr_entries(const char *dir)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_stat st;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
	assert_int_equal(mdb_env_open(env, dir, MDB_RDONLY, 0), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "rr", 0, &dbi), 0);
	assert_int_equal(mdb_stat(txn, dbi, &st), 0);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return st.ms_entries;
}

static void test_crash_leftovers_cleaned_at_open(void **state)
{
	(void)state;
	char *dir = mk_store_dir();
	struct zdb *db = open_store(dir, 100);
	static struct trr v1[NREC], v2[NREC];
	make_version(v1, 1, NREC);
	make_version(v2, 2, NREC);
	load_zone(db, ZONE, v1, NREC, 1);
	zdb_close(db);

	/* a writer that dies in the middle of an AXFR, with chunks committed */
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct zdb *w = open_store(dir, 100);
		struct zdb_axfr *a;
		if (zdb_axfr_begin(w, tname(ZONE), &a) != 0) {
			_exit(1);
		}
		for (size_t i = 0; i < NREC; i++) {
			struct zdb_rr v = trr_view(&v2[i]);
			if (zdb_axfr_add(a, &v) != 0) {
				_exit(2);
			}
		}
		kill(getpid(), SIGKILL);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	assert_true(count_rr_entries(dir) >= 2 * NREC - 100); /* the leftover is there */

	db = open_store(dir, 100); /* recovery */
	zdb_close(db);
	assert_int_equal(count_rr_entries(dir), NREC);
	db = open_store(dir, 100);
	assert_zone(db, ZONE, v1, NREC);
	zdb_close(db);
	rm_store(dir);
}

static void test_one_writer_across_processes(void **state)
{
	(void)state;
	char *dir = mk_store_dir();
	int up[2], down[2];
	assert_int_equal(pipe(up), 0);
	assert_int_equal(pipe(down), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct zdb *w = open_store(dir, 100);
		wr(up[1]);
		rd(down[0]);
		zdb_close(w);
		_exit(0);
	}
	rd(up[0]);
	struct zdb_opts o;
	struct zdb *db = NULL;
	zdb_opts_init(&o);
	o.path = dir;
	assert_int_equal(zdb_open(&o, &db), ZX_EAGAIN);
	o.readonly = true; /* readers are always welcome */
	assert_int_equal(zdb_open(&o, &db), 0);
	zdb_close(db);
	wr(down[1]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(WEXITSTATUS(st), 0);
	o.readonly = false;
	assert_int_equal(zdb_open(&o, &db), 0); /* the lock went with the writer */
	zdb_close(db);
	close(up[0]);
	close(up[1]);
	close(down[0]);
	close(down[1]);
	rm_store(dir);
}

/* The rr entries, counted in a child process (LMDB: one open of a store per process). */
static size_t count_in_child(const char *dir)
{
	int fds[2];
	size_t n = 0;
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		size_t c = count_rr_entries(dir);
		_exit(write(fds[1], &c, sizeof(c)) == sizeof(c) ? 0 : 1);
	}
	assert_int_equal(read(fds[0], &n, sizeof(n)), sizeof(n));
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	close(fds[0]);
	close(fds[1]);
	return n;
}

static void test_gc_thread_deletes_replaced_versions(void **state)
{
	(void)state;
	char *dir = mk_store_dir();
	struct zdb_opts o;
	struct zdb *db;
	zdb_opts_init(&o);
	o.path = dir;
	o.sync = ZDB_SYNC_NONE;
	o.chunk_records = 500; /* several gc rounds */
	assert_true(o.gc_thread);
	assert_int_equal(zdb_open(&o, &db), 0);
	static struct trr v1[NREC], v2[NREC];
	make_version(v1, 1, NREC);
	make_version(v2, 2, NREC);
	load_zone(db, ZONE, v1, NREC, 1);
	load_zone(db, ZONE, v2, NREC, 2); /* v1 is DEAD now: the thread deletes it */
	size_t n = 0;
	for (int i = 0; i < 200 && (n = count_in_child(dir)) != NREC; i++) {
		usleep(20000);
	}
	assert_int_equal(n, NREC);
	assert_zone(db, ZONE, v2, NREC);
	zdb_close(db);
	rm_store(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reader_process_sees_whole_versions),
		cmocka_unit_test(test_crash_leftovers_cleaned_at_open),
		cmocka_unit_test(test_one_writer_across_processes),
		cmocka_unit_test(test_gc_thread_deletes_replaced_versions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
