/* tests/unit/common/store/test_zdb_proc.c -- the zone store across processes: a reader in
 * another process during an AXFR switch, a writer that dies mid-AXFR, one writer only;
 * the one-commit AXFR of a zone that fits one chunk (seen whole by another process,
 * nothing left by a crash) and its fall-over to the chunked path. */
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

static size_t count_entries(const char *dir, const char *name)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_stat st;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
	assert_int_equal(mdb_env_open(env, dir, MDB_RDONLY, 0), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, name, 0, &dbi), 0);
	assert_int_equal(mdb_stat(txn, dbi, &st), 0);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return st.ms_entries;
}

static size_t count_rr_entries(const char *dir)
{
	return count_entries(dir, "rr");
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

/* The entries of a database, counted in a child process (LMDB: one open per process). */
static size_t count_db_in_child(const char *dir, const char *name)
{
	int fds[2];
	size_t n = 0;
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		size_t c = count_entries(dir, name);
		_exit(write(fds[1], &c, sizeof(c)) == sizeof(c) ? 0 : 1);
	}
	assert_int_equal(read(fds[0], &n, sizeof(n)), sizeof(n));
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	close(fds[0]);
	close(fds[1]);
	return n;
}

static size_t count_in_child(const char *dir)
{
	return count_db_in_child(dir, "rr");
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

/* ---------------------------------------------------------------- one-commit AXFR */

#define ONE_CHUNK 100000 /* chunk_records: every zone here fits one chunk */

/* 0 when snapshot @p s holds version @p serial of the zone whole: @p n RRs, all its own. */
static int check_version(struct zdb_snap *s, uint32_t serial, size_t n)
{
	struct zdb_zone_info zi;
	struct zdb_iter *it;
	struct zdb_rr rr;
	size_t got = 0;
	int bad = 0;
	if (zdb_zone_get(s, tname(ZONE), &zi) != 0 || zi.serial != serial || zi.records != n ||
	    zdb_iter_zone(s, tname(ZONE), &it) != 0) {
		return 1;
	}
	while (zdb_iter_next(it, &rr) == 1) {
		bad += rr.type == 1 && rr.rdata[3] != (uint8_t)serial;
		got++;
	}
	zdb_iter_free(it);
	return bad != 0 || got != n;
}

/* The child: snapshots before, during (records given, not committed) and after the commit. */
static int one_commit_reader(const char *dir, int to_parent, int from_parent)
{
	struct zdb_opts o;
	struct zdb *db;
	struct zdb_snap *before, *during, *after;
	zdb_opts_init(&o);
	o.path = dir;
	o.readonly = true;
	o.map_size = 0;
	if (zdb_open(&o, &db) != 0 || zdb_snap_begin(db, &before) != 0) {
		return 10;
	}
	wr(to_parent);
	rd(from_parent); /* every RR of version 2 given, no commit yet */
	if (zdb_snap_begin(db, &during) != 0 || check_version(during, 1, NREC) != 0) {
		return 11;
	}
	wr(to_parent);
	rd(from_parent); /* committed */
	if (check_version(before, 1, NREC) != 0 || check_version(during, 1, NREC) != 0) {
		return 12;
	}
	if (zdb_snap_begin(db, &after) != 0 || check_version(after, 2, NREC + 1) != 0) {
		return 13;
	}
	zdb_snap_end(after);
	zdb_snap_end(during);
	zdb_snap_end(before);
	zdb_close(db);
	return 0;
}

static void test_one_commit_reader_sees_before_or_after(void **state)
{
	(void)state;
	char *dir = mk_store_dir();
	struct zdb *db = open_store(dir, ONE_CHUNK);
	static struct trr v1[NREC], v2[NREC + 1];
	make_version(v1, 1, NREC);
	make_version(v2, 2, NREC + 1);
	load_zone(db, ZONE, v1, NREC, 1);
	assert_int_equal(count_db_in_child(dir, "versions"), 0); /* no WRITING step */

	int up[2], down[2];
	assert_int_equal(pipe(up), 0);
	assert_int_equal(pipe(down), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		_exit(one_commit_reader(dir, up[1], down[0]));
	}
	rd(up[0]);
	struct zdb_axfr *a;
	assert_int_equal(zdb_axfr_begin(db, tname(ZONE), &a), 0);
	for (size_t i = 0; i < NREC + 1; i++) {
		struct zdb_rr v = trr_view(&v2[i]);
		assert_int_equal(zdb_axfr_add(a, &v), 0);
	}
	/* nothing written yet: no version record, no records of version 2 */
	assert_int_equal(count_db_in_child(dir, "versions"), 0);
	assert_int_equal(count_in_child(dir), NREC);
	wr(down[1]);
	rd(up[0]);
	struct zdb_commit res;
	assert_int_equal(zdb_axfr_commit(a, 2, NULL, &res), 0);
	assert_true(res.had_serial);
	assert_int_equal(res.old_serial, 1);
	assert_int_equal(res.serial, 2);
	assert_int_equal(res.records, NREC + 1);
	wr(down[1]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	/* the old version was marked DEAD in the same commit */
	assert_int_equal(count_db_in_child(dir, "versions"), 1);
	while (zdb_gc(db, 500) == 1) {
	}
	assert_int_equal(count_db_in_child(dir, "versions"), 0);
	assert_int_equal(count_in_child(dir), NREC + 1);
	assert_zone(db, ZONE, v2, NREC + 1);
	close(up[0]);
	close(up[1]);
	close(down[0]);
	close(down[1]);
	zdb_close(db);
	rm_store(dir);
}

/* A writer process that gives all of @p v (n RRs), commits or not, and aborts. */
static void abort_after(const char *dir, const struct trr *v, size_t n, bool commit)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct zdb *w = open_store(dir, ONE_CHUNK);
		struct zdb_axfr *a;
		if (zdb_axfr_begin(w, tname(ZONE), &a) != 0) {
			_exit(1);
		}
		for (size_t i = 0; i < n; i++) {
			struct zdb_rr rr = trr_view(&v[i]);
			if (zdb_axfr_add(a, &rr) != 0) {
				_exit(2);
			}
		}
		if (commit && zdb_axfr_commit(a, 2, NULL, NULL) != 0) {
			_exit(3);
		}
		signal(SIGABRT, SIG_DFL); /* not the test runner's handler */
		abort();
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGABRT);
}

static void test_one_commit_crash_leaves_nothing(void **state)
{
	(void)state;
	char *dir = mk_store_dir();
	struct zdb *db = open_store(dir, ONE_CHUNK);
	static struct trr v1[NREC], v2[NREC + 1];
	make_version(v1, 1, NREC);
	make_version(v2, 2, NREC + 1);
	load_zone(db, ZONE, v1, NREC, 1);
	zdb_close(db);

	/* dies before the commit: nothing of version 2 on disk, not even a version record */
	abort_after(dir, v2, NREC + 1, false);
	assert_int_equal(count_entries(dir, "versions"), 0);
	assert_int_equal(count_rr_entries(dir), NREC);
	db = open_store(dir, ONE_CHUNK);
	assert_zone(db, ZONE, v1, NREC);
	zdb_close(db);

	/* dies right after the commit: version 2 whole, version 1 DEAD and deleted at open */
	abort_after(dir, v2, NREC + 1, true);
	assert_int_equal(count_entries(dir, "versions"), 1);
	assert_int_equal(count_rr_entries(dir), NREC + NREC + 1);
	db = open_store(dir, ONE_CHUNK);
	zdb_close(db);
	assert_int_equal(count_entries(dir, "versions"), 0);
	assert_int_equal(count_rr_entries(dir), NREC + 1);
	db = open_store(dir, ONE_CHUNK);
	assert_zone(db, ZONE, v2, NREC + 1);
	zdb_close(db);
	rm_store(dir);
}

/* A zone that grows past one chunk mid-transfer is written through the chunked path. */
static void test_one_commit_falls_over_to_chunks(void **state)
{
	(void)state;
	char *dir = mk_store_dir();
	struct zdb *db = open_store(dir, 100);
	static struct trr v1[99], v2[250];
	make_version(v1, 1, 99);
	make_version(v2, 2, 250);
	load_zone(db, ZONE, v1, 99, 1); /* 99 < 100: one commit */

	/* an aborted one-chunk AXFR leaves nothing, not even a DEAD version */
	struct zdb_axfr *a;
	assert_int_equal(zdb_axfr_begin(db, tname(ZONE), &a), 0);
	struct zdb_rr rr = trr_view(&v2[0]);
	assert_int_equal(zdb_axfr_add(a, &rr), 0);
	zdb_axfr_abort(a);
	assert_int_equal(count_db_in_child(dir, "versions"), 0);

	assert_int_equal(zdb_axfr_begin(db, tname(ZONE), &a), 0);
	for (size_t i = 0; i < 99; i++) {
		rr = trr_view(&v2[i]);
		assert_int_equal(zdb_axfr_add(a, &rr), 0);
	}
	assert_int_equal(count_db_in_child(dir, "versions"), 0); /* still buffered */
	assert_int_equal(count_in_child(dir), 99);
	rr = trr_view(&v2[99]);
	assert_int_equal(zdb_axfr_add(a, &rr), 0); /* the chunk is full: fall over */
	assert_int_equal(count_db_in_child(dir, "versions"), 1); /* WRITING, committed */
	for (size_t i = 100; i < 250; i++) {
		rr = trr_view(&v2[i]);
		assert_int_equal(zdb_axfr_add(a, &rr), 0);
	}
	struct zdb_commit res;
	assert_int_equal(zdb_axfr_commit(a, 2, NULL, &res), 0);
	assert_int_equal(res.serial, 2);
	assert_int_equal(res.records, 250);
	assert_zone(db, ZONE, v2, 250);
	assert_int_equal(count_db_in_child(dir, "versions"), 1); /* version 1, DEAD */
	while (zdb_gc(db, 50) == 1) {
	}
	assert_int_equal(count_db_in_child(dir, "versions"), 0);
	assert_int_equal(count_in_child(dir), 250);

	/* and back: a one-chunk zone after a chunked one */
	load_zone(db, ZONE, v1, 99, 3);
	assert_zone(db, ZONE, v1, 99);
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
		cmocka_unit_test(test_one_commit_reader_sees_before_or_after),
		cmocka_unit_test(test_one_commit_crash_leaves_nothing),
		cmocka_unit_test(test_one_commit_falls_over_to_chunks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
