/* SPDX-License-Identifier: MIT */
/* tests/unit/common/store/test_zdb_detach.c -- iterators that let go of their snapshot
 * between reads (zdb_iter_detach/attach): a zone read in many snapshots is the zone;
 * a version replaced meanwhile is kept by its pin and read whole; one changed in
 * place, or gone, ends the read; journal iterators too; only the writer detaches. */
#include "test_zdb_util.h"

#define NOW 1700000000

struct fx {
	char *dir;
	struct zdb *db;
};

static int setup(void **state)
{
	static struct fx f;
	f.dir = mk_store_dir();
	f.db = open_store(f.dir, 1000);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	zdb_close(f->db);
	rm_store(f->dir);
	return 0;
}

/* zone.test at @p serial: SOA, NS, and @p n names with two A records and a TXT each. */
static size_t make_zone(struct trr *rrs, uint32_t serial, int n)
{
	char name[64];
	size_t k = 0;
	rrs[k++] = trr_soa("zone.test", serial);
	rrs[k++] = trr_ns("zone.test", "ns1.zone.test");
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "h%d.zone.test", i);
		rrs[k++] = trr_a(name, 0xc0000200u + (uint32_t)i);
		rrs[k++] = trr_a(name, 0xc6336400u + serial);
		rrs[k++] = trr_txt(name, "some text to make the values longer");
	}
	return k;
}

static void copy_rr(struct trr *t, const struct zdb_rr *rr)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->owner, rr->owner, rr->owner_len);
	t->owner_len = rr->owner_len;
	t->type = rr->type;
	t->rclass = rr->rclass;
	t->ttl = rr->ttl;
	memcpy(t->rdata, rr->rdata, rr->rdlen);
	t->rdlen = rr->rdlen;
}

/* Read the whole zone, detaching after every @p every RRs (every other time with
 * again: that RR must come back first) and attaching in a fresh snapshot. */
static size_t read_detached(struct zdb *db, struct trr *out, size_t max, int every,
                            struct zdb_iter **keep)
{
	struct zdb_snap *s;
	struct zdb_iter *it;
	struct zdb_rr rr;
	size_t n = 0;
	int rc, round = 0;
	assert_int_equal(zdb_snap_begin(db, &s), 0);
	assert_int_equal(zdb_iter_zone(s, tname("zone.test"), &it), 0);
	while ((rc = zdb_iter_next(it, &rr)) == 1) {
		assert_true(n < max);
		copy_rr(&out[n++], &rr);
		if (n % (size_t)every == 0) {
			bool again = (round++ & 1) != 0;
			assert_int_equal(zdb_iter_detach(it, again), 0);
			zdb_snap_end(s);
			assert_int_equal(zdb_snap_begin(db, &s), 0);
			assert_int_equal(zdb_iter_attach(it, s), 0);
			if (again) { /* the same RR again */
				assert_int_equal(zdb_iter_next(it, &rr), 1);
				struct trr t;
				copy_rr(&t, &rr);
				assert_trr_equal(&t, &out[n - 1]);
			}
		}
	}
	assert_int_equal(rc, 0);
	assert_int_equal(zdb_iter_next(it, &rr), 0);
	if (keep != NULL) {
		assert_int_equal(zdb_iter_detach(it, false), 0);
		*keep = it;
	} else {
		zdb_iter_free(it);
	}
	zdb_snap_end(s);
	return n;
}

static void test_zdb_detach_reads_the_whole_zone_in_many_snapshots(void **state)
{
	struct fx *f = *state;
	static struct trr want[400], got[400];
	size_t n = make_zone(want, 1, 100);
	load_zone(f->db, "zone.test", want, n, NOW);
	qsort(want, n, sizeof(*want), trr_cmp);
	for (int every = 1; every <= 7; every += 3) {
		assert_int_equal(read_detached(f->db, got, 400, every, NULL), n);
		for (size_t i = 0; i < n; i++) {
			assert_trr_equal(&got[i], &want[i]);
		}
	}
}

/* Replaced by an AXFR while detached: the gc keeps the old version for the reader,
 * which reads it whole; freed, the gc deletes it. */
static void test_zdb_detach_pin_keeps_a_replaced_version(void **state)
{
	struct fx *f = *state;
	static struct trr v1[400], v2[400], got[400];
	size_t n1 = make_zone(v1, 1, 100), n2 = make_zone(v2, 2, 50);
	load_zone(f->db, "zone.test", v1, n1, NOW);
	qsort(v1, n1, sizeof(*v1), trr_cmp);
	struct zdb_snap *s;
	struct zdb_iter *it;
	struct zdb_rr rr;
	assert_int_equal(zdb_snap_begin(f->db, &s), 0);
	assert_int_equal(zdb_iter_zone(s, tname("zone.test"), &it), 0);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(zdb_iter_next(it, &rr), 1);
		copy_rr(&got[i], &rr);
	}
	assert_int_equal(zdb_iter_detach(it, false), 0);
	zdb_snap_end(s);
	/* two AXFRs replace it; the gc runs until it has nothing more to do */
	load_zone(f->db, "zone.test", v2, n2, NOW + 1);
	load_zone(f->db, "zone.test", v2, n2, NOW + 2);
	while (zdb_gc(f->db, 7) == 1) {
	}
	assert_int_equal(zdb_snap_begin(f->db, &s), 0);
	assert_int_equal(zdb_iter_attach(it, s), 0);
	size_t n = 10;
	int rc;
	while ((rc = zdb_iter_next(it, &rr)) == 1) {
		copy_rr(&got[n++], &rr);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(n, n1);
	for (size_t i = 0; i < n1; i++) {
		assert_trr_equal(&got[i], &v1[i]); /* serial 1, whole */
	}
	zdb_iter_free(it);
	zdb_snap_end(s);
	/* no pin: the old version goes; the zone is the new one */
	while (zdb_gc(f->db, 7) == 1) {
	}
	assert_zone(f->db, "zone.test", v2, n2);
}

static void test_zdb_detach_ixfr_or_removal_ends_the_read(void **state)
{
	struct fx *f = *state;
	static struct trr v1[400];
	size_t n1 = make_zone(v1, 1, 20);
	load_zone(f->db, "zone.test", v1, n1, NOW);
	struct zdb_snap *s;
	struct zdb_iter *it;
	struct zdb_rr rr;
	assert_int_equal(zdb_snap_begin(f->db, &s), 0);
	assert_int_equal(zdb_iter_zone(s, tname("zone.test"), &it), 0);
	assert_int_equal(zdb_iter_next(it, &rr), 1);
	assert_int_equal(zdb_iter_detach(it, false), 0);
	zdb_snap_end(s);
	/* an IXFR 1 -> 2 changes the version in place */
	struct zdb_ixfr *x;
	struct trr o = trr_soa("zone.test", 1), n = trr_soa("zone.test", 2);
	struct trr add = trr_a("new.zone.test", 0x01020304);
	struct zdb_rr ov = trr_view(&o), nv = trr_view(&n), av = trr_view(&add);
	assert_int_equal(zdb_ixfr_begin(f->db, tname("zone.test"), &x), 0);
	assert_int_equal(zdb_ixfr_del(x, &ov), 0);
	assert_int_equal(zdb_ixfr_add(x, &nv), 0);
	assert_int_equal(zdb_ixfr_add(x, &av), 0);
	assert_int_equal(zdb_ixfr_commit(x, NOW, NULL, NULL), 0);
	assert_int_equal(zdb_snap_begin(f->db, &s), 0);
	assert_int_equal(zdb_iter_attach(it, s), ZX_ENOTFOUND);
	zdb_iter_free(it); /* detached, pinned: freed all the same */
	/* changed in place by an IXFR and then replaced by an AXFR: the serial cannot
	 * tell (the version is dead), the pin can */
	assert_int_equal(zdb_iter_zone(s, tname("zone.test"), &it), 0);
	assert_int_equal(zdb_iter_next(it, &rr), 1);
	assert_int_equal(zdb_iter_detach(it, false), 0);
	zdb_snap_end(s);
	struct trr n3 = trr_soa("zone.test", 3);
	struct zdb_rr n3v = trr_view(&n3);
	assert_int_equal(zdb_ixfr_begin(f->db, tname("zone.test"), &x), 0);
	assert_int_equal(zdb_ixfr_del(x, &nv), 0);
	assert_int_equal(zdb_ixfr_add(x, &n3v), 0);
	assert_int_equal(zdb_ixfr_commit(x, NOW, NULL, NULL), 0);
	static struct trr v4[100];
	size_t n4 = make_zone(v4, 4, 5);
	load_zone(f->db, "zone.test", v4, n4, NOW + 1);
	assert_int_equal(zdb_snap_begin(f->db, &s), 0);
	assert_int_equal(zdb_iter_attach(it, s), ZX_ENOTFOUND);
	zdb_iter_free(it);
	/* removed while detached */
	assert_int_equal(zdb_iter_zone(s, tname("zone.test"), &it), 0);
	assert_int_equal(zdb_iter_detach(it, false), 0);
	zdb_snap_end(s);
	assert_int_equal(zdb_zone_delete(f->db, tname("zone.test")), 0);
	assert_int_equal(zdb_snap_begin(f->db, &s), 0);
	assert_int_equal(zdb_iter_attach(it, s), ZX_ENOTFOUND);
	assert_int_equal(zdb_iter_attach(it, s), ZX_ENOTFOUND); /* still detached */
	zdb_iter_free(it);
	zdb_snap_end(s);
	while (zdb_gc(f->db, 100) == 1) {
	}
}

/* Replaced between the iterator's start and its first detach: the pin would come
 * too late, so the detach fails and the iterator goes on in its snapshot. */
static void test_zdb_detach_too_late_stays_attached(void **state)
{
	struct fx *f = *state;
	static struct trr v1[100], v2[100];
	size_t n1 = make_zone(v1, 1, 10), n2 = make_zone(v2, 2, 10);
	load_zone(f->db, "zone.test", v1, n1, NOW);
	struct zdb_snap *s;
	struct zdb_iter *it;
	struct zdb_rr rr;
	assert_int_equal(zdb_snap_begin(f->db, &s), 0);
	assert_int_equal(zdb_iter_zone(s, tname("zone.test"), &it), 0);
	load_zone(f->db, "zone.test", v2, n2, NOW + 1);
	assert_int_equal(zdb_iter_detach(it, false), ZX_ENOTFOUND);
	size_t n = 0;
	while (zdb_iter_next(it, &rr) == 1) {
		n++;
	}
	assert_int_equal(n, n1);
	zdb_iter_free(it);
	zdb_snap_end(s);
}

/* Journal: read in several snapshots; a changeset committed meanwhile is not part
 * of the answer; a journal emptied by an AXFR ends the read. */
static void test_zdb_detach_journal(void **state)
{
	struct fx *f = *state;
	static struct trr v1[100];
	size_t n1 = make_zone(v1, 1, 10);
	load_zone(f->db, "zone.test", v1, n1, NOW);
	for (uint32_t serial = 1; serial <= 3; serial++) {
		struct zdb_ixfr *x;
		struct trr o = trr_soa("zone.test", serial), n = trr_soa("zone.test", serial + 1);
		char name[32];
		snprintf(name, sizeof(name), "j%u.zone.test", serial);
		struct trr add = trr_a(name, serial);
		struct zdb_rr ov = trr_view(&o), nv = trr_view(&n), av = trr_view(&add);
		assert_int_equal(zdb_ixfr_begin(f->db, tname("zone.test"), &x), 0);
		assert_int_equal(zdb_ixfr_del(x, &ov), 0);
		assert_int_equal(zdb_ixfr_add(x, &nv), 0);
		assert_int_equal(zdb_ixfr_add(x, &av), 0);
		assert_int_equal(zdb_ixfr_commit(x, NOW, NULL, NULL), 0);
	}
	struct zdb_snap *s;
	struct zdb_iter *it;
	struct zdb_rr rr;
	assert_int_equal(zdb_snap_begin(f->db, &s), 0);
	assert_int_equal(zdb_iter_journal(s, tname("zone.test"), 1, &it), 0);
	assert_int_equal(zdb_iter_detach(it, false), 0); /* before the first RR */
	zdb_snap_end(s);
	/* serial 4 -> 5 lands meanwhile: not in this answer (from 1 to 4) */
	struct zdb_ixfr *x;
	struct trr o = trr_soa("zone.test", 4), nn = trr_soa("zone.test", 5);
	struct zdb_rr ov = trr_view(&o), nv = trr_view(&nn);
	assert_int_equal(zdb_ixfr_begin(f->db, tname("zone.test"), &x), 0);
	assert_int_equal(zdb_ixfr_del(x, &ov), 0);
	assert_int_equal(zdb_ixfr_add(x, &nv), 0);
	assert_int_equal(zdb_ixfr_commit(x, NOW, NULL, NULL), 0);
	int count = 0, rc;
	uint32_t to = 0;
	assert_int_equal(zdb_snap_begin(f->db, &s), 0);
	assert_int_equal(zdb_iter_attach(it, s), 0);
	while ((rc = zdb_iter_next(it, &rr)) == 1) {
		count++;
		zdb_iter_op(it, NULL, &to);
		if (count % 2 == 0) {
			assert_int_equal(zdb_iter_detach(it, true), 0);
			zdb_snap_end(s);
			assert_int_equal(zdb_snap_begin(f->db, &s), 0);
			assert_int_equal(zdb_iter_attach(it, s), 0);
			assert_int_equal(zdb_iter_next(it, &rr), 1); /* again */
		}
	}
	assert_int_equal(rc, 0);
	assert_int_equal(count, 9); /* 3 changesets: old SOA, new SOA, an A */
	assert_int_equal(to, 4);
	zdb_iter_free(it);
	/* emptied by an AXFR while detached */
	assert_int_equal(zdb_iter_journal(s, tname("zone.test"), 2, &it), 0);
	assert_int_equal(zdb_iter_next(it, &rr), 1);
	assert_int_equal(zdb_iter_detach(it, false), 0);
	zdb_snap_end(s);
	static struct trr v9[100];
	size_t n9 = make_zone(v9, 9, 5);
	load_zone(f->db, "zone.test", v9, n9, NOW + 5);
	assert_int_equal(zdb_snap_begin(f->db, &s), 0);
	assert_int_equal(zdb_iter_attach(it, s), ZX_ENOTFOUND);
	zdb_iter_free(it);
	zdb_snap_end(s);
}

static void test_zdb_detach_needs_the_writer(void **state)
{
	struct fx *f = *state;
	static struct trr v1[100];
	size_t n1 = make_zone(v1, 1, 10);
	load_zone(f->db, "zone.test", v1, n1, NOW);
	struct zdb_opts o;
	struct zdb *ro = NULL;
	zdb_opts_init(&o);
	o.path = f->dir;
	o.readonly = true;
	o.map_size = 0;
	assert_int_equal(zdb_open(&o, &ro), 0);
	struct zdb_snap *s;
	struct zdb_iter *it;
	assert_int_equal(zdb_snap_begin(ro, &s), 0);
	assert_int_equal(zdb_iter_zone(s, tname("zone.test"), &it), 0);
	assert_int_equal(zdb_iter_detach(it, false), ZX_EINVAL);
	zdb_iter_free(it);
	zdb_snap_end(s);
	zdb_close(ro);
}

/* The reader slots: as asked by the first opener; a later one sees that size. */
static void test_zdb_max_readers(void **state)
{
	(void)state;
	char *dir = mk_store_dir();
	struct zdb_opts o;
	struct zdb *db = NULL, *ro = NULL;
	zdb_opts_init(&o);
	o.path = dir;
	o.map_size = 16u << 20;
	o.gc_thread = false;
	o.max_readers = 300;
	assert_int_equal(zdb_open(&o, &db), 0);
	assert_int_equal(zdb_max_readers(db), 300);
	o.readonly = true;
	o.map_size = 0;
	o.max_readers = 0;
	assert_int_equal(zdb_open(&o, &ro), 0);
	assert_int_equal(zdb_max_readers(ro), 300);
	zdb_close(ro);
	zdb_close(db);
	rm_store(dir);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_zdb_detach_reads_the_whole_zone_in_many_snapshots),
		T(test_zdb_detach_pin_keeps_a_replaced_version),
		T(test_zdb_detach_ixfr_or_removal_ends_the_read),
		T(test_zdb_detach_too_late_stays_attached),
		T(test_zdb_detach_journal),
		T(test_zdb_detach_needs_the_writer),
		cmocka_unit_test(test_zdb_max_readers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
