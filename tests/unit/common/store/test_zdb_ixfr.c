/* tests/unit/common/store/test_zdb_ixfr.c -- the zone store: IXFR in one transaction, the journal. */
#include "test_zdb_util.h"

#define ZONE "example.com."

static struct zdb *g_db;
static char *g_dir;

static int setup(void **state)
{
	(void)state;
	g_dir = mk_store_dir();
	struct zdb_opts o;
	zdb_opts_init(&o);
	o.path = g_dir;
	o.map_size = 64u << 20;
	o.sync = ZDB_SYNC_NONE;
	o.journal_count = 3;
	o.journal_bytes = 100000;
	assert_int_equal(zdb_open(&o, &g_db), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	zdb_close(g_db);
	rm_store(g_dir);
	return 0;
}

/* The base zone: SOA 1, two NS, a.example.com A 1 and 2, b TXT. */
static size_t base_zone(struct trr *z)
{
	size_t n = 0;
	z[n++] = trr_soa(ZONE, 1);
	z[n++] = trr_ns(ZONE, "ns1.example.com.");
	z[n++] = trr_ns(ZONE, "ns2.example.com.");
	z[n++] = trr_a("a.example.com.", 1);
	z[n++] = trr_a("a.example.com.", 2);
	z[n++] = trr_txt("b.example.com.", "hello");
	return n;
}

static void del(struct zdb_ixfr *x, struct trr r, int want)
{
	struct zdb_rr v = trr_view(&r);
	assert_int_equal(zdb_ixfr_del(x, &v), want);
}

static void add(struct zdb_ixfr *x, struct trr r, int want)
{
	struct zdb_rr v = trr_view(&r);
	assert_int_equal(zdb_ixfr_add(x, &v), want);
}

static struct zdb_zone_info info(void)
{
	struct zdb_snap *s;
	struct zdb_zone_info zi;
	assert_int_equal(zdb_snap_begin(g_db, &s), 0);
	assert_int_equal(zdb_zone_get(s, tname(ZONE), &zi), 0);
	zdb_snap_end(s);
	return zi;
}

static void test_ixfr_add_delete(void **state)
{
	(void)state;
	struct trr z[16];
	size_t n = base_zone(z);
	load_zone(g_db, ZONE, z, n, 100);

	struct zdb_ixfr *x;
	struct zdb_commit res;
	assert_int_equal(zdb_ixfr_begin(g_db, tname("EXAMPLE.com."), &x), 0);
	del(x, trr_soa(ZONE, 1), 0);
	struct trr a1 = trr_a("A.example.com.", 1); /* case differs from the stored owner */
	a1.ttl = 5;                                  /* TTL ignored on delete */
	del(x, a1, 0);
	del(x, trr_txt("b.example.com.", "hello"), 0); /* the last RR of its RRset */
	add(x, trr_soa(ZONE, 2), 0);
	add(x, trr_a("a.example.com.", 3), 0);
	add(x, trr_a("c.example.com.", 9), 0);
	assert_int_equal(zdb_ixfr_commit(x, 200, "192.0.2.2@53", &res), 0);
	assert_true(res.had_serial);
	assert_int_equal(res.old_serial, 1);
	assert_int_equal(res.serial, 2);
	assert_int_equal(res.records, 6);
	assert_int_equal(res.changesets, 1);

	struct trr want[] = {trr_soa(ZONE, 2), z[1], z[2], z[4], trr_a("a.example.com.", 3),
	                     trr_a("c.example.com.", 9)};
	assert_zone(g_db, ZONE, want, 6);
	struct zdb_zone_info zi = info();
	assert_int_equal(zi.serial, 2);
	assert_int_equal(zi.records, 6);
	assert_int_equal(zi.last_success, 200);
	assert_string_equal(zi.primary, "192.0.2.2@53");
	assert_int_equal(zi.journal_count, 1);
	assert_int_equal(zi.journal_first, 1);
	assert_int_equal(zi.journal_last, 2);
}

static void test_ixfr_ediff_and_abort_keep_zone(void **state)
{
	(void)state;
	struct trr z[16];
	size_t n = base_zone(z);
	load_zone(g_db, ZONE, z, n, 100);
	struct zdb_ixfr *x;

	/* deleting an RR we do not hold */
	assert_int_equal(zdb_ixfr_begin(g_db, tname(ZONE), &x), 0);
	del(x, trr_soa(ZONE, 1), 0);
	del(x, trr_a("a.example.com.", 1), 0);
	del(x, trr_a("a.example.com.", 77), 0); /* buffered: found at commit */
	add(x, trr_soa(ZONE, 2), 0);
	assert_int_equal(zdb_ixfr_commit(x, 200, NULL, NULL), ZX_EDIFF);
	assert_non_null(strstr(zdb_last_error(), "absent"));
	assert_zone(g_db, ZONE, z, n);

	/* adding an RR we hold (NSD re-adds apex records) */
	assert_int_equal(zdb_ixfr_begin(g_db, tname(ZONE), &x), 0);
	del(x, trr_soa(ZONE, 1), 0);
	add(x, trr_soa(ZONE, 2), 0);
	add(x, trr_ns(ZONE, "ns1.example.com."), 0);
	assert_int_equal(zdb_ixfr_commit(x, 200, NULL, NULL), ZX_EDIFF);
	assert_zone(g_db, ZONE, z, n);

	/* a changeset from a serial we do not have: refused at once */
	assert_int_equal(zdb_ixfr_begin(g_db, tname(ZONE), &x), 0);
	del(x, trr_soa(ZONE, 5), ZX_EDIFF);
	zdb_ixfr_abort(x);

	/* abort after a full diff: nothing changes */
	assert_int_equal(zdb_ixfr_begin(g_db, tname(ZONE), &x), 0);
	del(x, trr_soa(ZONE, 1), 0);
	del(x, trr_a("a.example.com.", 1), 0);
	add(x, trr_soa(ZONE, 2), 0);
	add(x, trr_a("d.example.com.", 1), 0);
	zdb_ixfr_abort(x);
	zdb_ixfr_abort(NULL);
	assert_zone(g_db, ZONE, z, n);

	/* the zone changed between begin and commit */
	assert_int_equal(zdb_ixfr_begin(g_db, tname(ZONE), &x), 0);
	del(x, trr_soa(ZONE, 1), 0);
	add(x, trr_soa(ZONE, 2), 0);
	struct trr z3[] = {trr_soa(ZONE, 3), trr_a("q.example.com.", 1)};
	load_zone(g_db, ZONE, z3, 2, 300);
	assert_int_equal(zdb_ixfr_commit(x, 200, NULL, NULL), ZX_EDIFF);
	assert_zone(g_db, ZONE, z3, 2);
	assert_int_equal(info().serial, 3);
}

static void test_ixfr_sequence_errors(void **state)
{
	(void)state;
	struct trr z[16];
	size_t n = base_zone(z);
	load_zone(g_db, ZONE, z, n, 100);
	struct zdb_ixfr *x;

	assert_int_equal(zdb_ixfr_begin(g_db, tname("nothere.example."), &x), ZX_ENOTFOUND);
	assert_int_equal(zone_failed(g_db, tname("new.example."), 1, ZX_ETIMEDOUT, NULL, NULL), 0);
	assert_int_equal(zdb_ixfr_begin(g_db, tname("new.example."), &x), ZX_ENOTFOUND);
	assert_int_equal(zdb_ixfr_begin(g_db, (const uint8_t *)"\x40", &x), ZX_EINVAL);

	assert_int_equal(zdb_ixfr_begin(g_db, tname(ZONE), &x), 0);
	assert_int_equal(zdb_ixfr_commit(x, 1, NULL, NULL), ZX_EXFR); /* no changeset */

	assert_int_equal(zdb_ixfr_begin(g_db, tname(ZONE), &x), 0);
	add(x, trr_a("a.example.com.", 5), ZX_EXFR);    /* no changeset yet */
	del(x, trr_a("a.example.com.", 1), ZX_EXFR);    /* nor for deletions */
	add(x, trr_soa(ZONE, 2), ZX_EXFR);              /* a new SOA first */
	del(x, trr_soa(ZONE, 1), 0);
	del(x, trr_soa(ZONE, 1), ZX_EXFR);              /* two old SOAs */
	add(x, trr_a("a.example.com.", 5), ZX_EXFR);    /* an add before the new SOA */
	del(x, trr_a("example.org.", 5), ZX_EFORMAT);   /* outside the zone */
	struct trr ch = trr_a("a.example.com.", 1);
	ch.rclass = 3;
	del(x, ch, ZX_EFORMAT);                         /* another class */
	struct trr bad = trr_soa(ZONE, 2);
	bad.rdlen = 7;
	add(x, bad, ZX_EFORMAT);                        /* a malformed SOA */
	assert_int_equal(zdb_ixfr_commit(x, 1, NULL, NULL), ZX_EXFR); /* the new SOA missing */

	assert_int_equal(zdb_ixfr_begin(g_db, tname(ZONE), &x), 0);
	del(x, trr_soa(ZONE, 1), 0);
	add(x, trr_soa(ZONE, 2), 0);
	del(x, trr_a("a.example.com.", 1), ZX_EXFR); /* a delete among the adds */
	zdb_ixfr_abort(x);
	assert_zone(g_db, ZONE, z, n);
}

/* One changeset serial -> serial + 1 that replaces h<serial> A with h<serial+1> A. */
static void changeset(struct zdb_ixfr *x, uint32_t serial)
{
	char name[64];
	del(x, trr_soa(ZONE, serial), 0);
	snprintf(name, sizeof(name), "h%u.example.com.", serial);
	del(x, trr_a(name, serial), 0);
	add(x, trr_soa(ZONE, serial + 1), 0);
	snprintf(name, sizeof(name), "h%u.example.com.", serial + 1);
	add(x, trr_a(name, serial + 1), 0);
}

static void expect_journal(uint32_t since, uint32_t upto)
{
	struct zdb_snap *s;
	struct zdb_iter *it;
	struct zdb_rr rr;
	uint32_t from, to, serial = since;
	int rc, k = 0;
	assert_int_equal(zdb_snap_begin(g_db, &s), 0);
	assert_int_equal(zdb_iter_journal(s, tname(ZONE), since, &it), 0);
	while ((rc = zdb_iter_next(it, &rr)) == 1) {
		enum zdb_op op = zdb_iter_op(it, &from, &to);
		assert_int_equal(from, serial);
		assert_int_equal(to, serial + 1);
		/* per changeset: old SOA, A del, new SOA, A add */
		assert_int_equal(op, k < 2 ? ZDB_OP_DEL : ZDB_OP_ADD);
		assert_int_equal(rr.type, (k % 2 == 0) ? 6 : 1);
		if (rr.type == 1) {
			assert_int_equal(rr.rdata[3], (uint8_t)(k < 2 ? serial : serial + 1));
		}
		if (++k == 4) {
			k = 0;
			serial++;
		}
	}
	assert_int_equal(rc, 0);
	assert_int_equal(serial, upto);
	assert_int_equal(k, 0);
	zdb_iter_free(it);
	zdb_snap_end(s);
}

static void test_journal_since_and_bound(void **state)
{
	(void)state;
	struct trr z[] = {trr_soa(ZONE, 10), trr_a("h10.example.com.", 10)};
	load_zone(g_db, ZONE, z, 2, 100);
	struct zdb_ixfr *x;
	struct zdb_snap *s;
	struct zdb_iter *it;
	struct zdb_commit res;

	/* two IXFRs: one changeset, then three in one call sequence */
	assert_int_equal(zdb_ixfr_begin(g_db, tname(ZONE), &x), 0);
	changeset(x, 10);
	assert_int_equal(zdb_ixfr_commit(x, 200, NULL, &res), 0);
	assert_int_equal(zdb_ixfr_begin(g_db, tname(ZONE), &x), 0);
	changeset(x, 11);
	changeset(x, 12);
	changeset(x, 13);
	assert_int_equal(zdb_ixfr_commit(x, 201, NULL, &res), 0);
	assert_int_equal(res.changesets, 3);
	assert_int_equal(res.serial, 14);
	assert_int_equal(res.records, 2);
	struct trr want[] = {trr_soa(ZONE, 14), trr_a("h14.example.com.", 14)};
	assert_zone(g_db, ZONE, want, 2);

	/* bounded to 3 changesets: 10->11 dropped */
	struct zdb_zone_info zi = info();
	assert_int_equal(zi.journal_count, 3);
	assert_int_equal(zi.journal_first, 11);
	assert_int_equal(zi.journal_last, 14);
	expect_journal(11, 14);
	expect_journal(12, 14);
	expect_journal(13, 14);
	assert_int_equal(zdb_snap_begin(g_db, &s), 0);
	assert_int_equal(zdb_iter_journal(s, tname(ZONE), 10, &it), ZX_ENOTFOUND);
	assert_int_equal(zdb_iter_journal(s, tname(ZONE), 14, &it), ZX_EUPTODATE);
	assert_int_equal(zdb_iter_journal(s, tname(ZONE), 99, &it), ZX_ENOTFOUND);
	assert_int_equal(zdb_iter_journal(s, tname("org."), 1, &it), ZX_ENOTFOUND);
	assert_int_equal(zdb_iter_journal(s, (const uint8_t *)"\x40", 1, &it), ZX_EINVAL);
	zdb_snap_end(s);

	/* an AXFR empties the journal */
	struct trr z2[] = {trr_soa(ZONE, 20), trr_a("h20.example.com.", 20)};
	load_zone(g_db, ZONE, z2, 2, 300);
	zi = info();
	assert_int_equal(zi.journal_count, 0);
	assert_int_equal(zdb_snap_begin(g_db, &s), 0);
	assert_int_equal(zdb_iter_journal(s, tname(ZONE), 13, &it), ZX_ENOTFOUND);
	zdb_snap_end(s);
	assert_int_equal(zdb_ixfr_begin(g_db, tname(ZONE), &x), 0);
	changeset(x, 20);
	assert_int_equal(zdb_ixfr_commit(x, 400, NULL, NULL), 0);
	expect_journal(20, 21);
}

static void test_journal_byte_bound(void **state)
{
	(void)state;
	struct trr z[] = {trr_soa(ZONE, 1), trr_a("h1.example.com.", 1)};
	load_zone(g_db, ZONE, z, 2, 100);
	struct zdb_ixfr *x;
	/* one changeset of ~60 kB fits the 100 kB bound; two do not */
	for (uint32_t s = 1; s <= 2; s++) {
		assert_int_equal(zdb_ixfr_begin(g_db, tname(ZONE), &x), 0);
		del(x, trr_soa(ZONE, s), 0);
		add(x, trr_soa(ZONE, s + 1), 0);
		for (int i = 0; i < 1000; i++) {
			char name[64];
			snprintf(name, sizeof(name), "bulk%u-%d.example.com.", s, i);
			add(x, trr_txt(name, "twenty bytes of text"), 0);
		}
		assert_int_equal(zdb_ixfr_commit(x, 100 + s, NULL, NULL), 0);
	}
	struct zdb_zone_info zi = info();
	assert_int_equal(zi.records, 2002);
	assert_int_equal(zi.journal_count, 1);
	assert_true(zi.journal_bytes > 50000 && zi.journal_bytes <= 100000);
	assert_int_equal(zi.journal_first, 2);
	struct zdb_snap *s;
	struct zdb_iter *it;
	assert_int_equal(zdb_snap_begin(g_db, &s), 0);
	assert_int_equal(zdb_iter_journal(s, tname(ZONE), 1, &it), ZX_ENOTFOUND);
	assert_int_equal(zdb_iter_journal(s, tname(ZONE), 2, &it), 0);
	zdb_iter_free(it);
	zdb_snap_end(s);
}

/* A diff past the spill size: applied as it comes, errors at once, journal trimmed. */
static void test_ixfr_large_diff(void **state)
{
	(void)state;
	struct trr z[] = {trr_soa(ZONE, 1), trr_a("h1.example.com.", 1)};
	load_zone(g_db, ZONE, z, 2, 100);
	struct zdb_ixfr *x;
	const int n = 40000; /* ~1.4 MB in journal form: past the 1 MiB spill */
	assert_int_equal(zdb_ixfr_begin(g_db, tname(ZONE), &x), 0);
	del(x, trr_soa(ZONE, 1), 0);
	add(x, trr_soa(ZONE, 2), 0);
	assert_false(zdb_ixfr_holds_lock(x)); /* buffered: may be committed anywhere */
	for (int i = 0; i < n; i++) {
		char name[64];
		snprintf(name, sizeof(name), "big%d.example.com.", i);
		add(x, trr_a(name, (uint32_t)i), 0);
	}
	assert_true(zdb_ixfr_holds_lock(x)); /* spilled: this thread's write transaction */
	del(x, trr_soa(ZONE, 2), 0);
	del(x, trr_a("h2.example.com.", 2), ZX_EDIFF); /* not there: known at once */
	add(x, trr_soa(ZONE, 3), ZX_EDIFF);            /* sticky */
	zdb_ixfr_abort(x);

	assert_int_equal(zdb_ixfr_begin(g_db, tname(ZONE), &x), 0);
	del(x, trr_soa(ZONE, 1), 0);
	add(x, trr_soa(ZONE, 2), 0);
	for (int i = 0; i < n; i++) {
		char name[64];
		snprintf(name, sizeof(name), "big%d.example.com.", i);
		add(x, trr_a(name, (uint32_t)i), 0);
	}
	add(x, trr_a("big7.example.com.", 7), ZX_EDIFF); /* applied as it comes: at once */
	zdb_ixfr_abort(x);
	assert_zone(g_db, ZONE, z, 2);

	assert_int_equal(zdb_ixfr_begin(g_db, tname(ZONE), &x), 0);
	del(x, trr_soa(ZONE, 1), 0);
	add(x, trr_soa(ZONE, 2), 0);
	for (int i = 0; i < n; i++) {
		char name[64];
		snprintf(name, sizeof(name), "big%d.example.com.", i);
		add(x, trr_a(name, (uint32_t)i), 0);
	}
	del(x, trr_soa(ZONE, 2), 0);
	add(x, trr_soa(ZONE, 3), 0);
	add(x, trr_a("small.example.com.", 3), 0);
	assert_int_equal(zdb_ixfr_commit(x, 200, NULL, NULL), 0);
	struct zdb_zone_info zi = info();
	assert_int_equal(zi.serial, 3);
	assert_int_equal(zi.records, (uint64_t)n + 3);
	/* the big changeset did not fit the journal; the small one did */
	assert_int_equal(zi.journal_count, 1);
	assert_int_equal(zi.journal_first, 2);
	struct zdb_snap *s;
	struct zdb_iter *it;
	assert_int_equal(zdb_snap_begin(g_db, &s), 0);
	assert_int_equal(zdb_iter_journal(s, tname(ZONE), 1, &it), ZX_ENOTFOUND);
	assert_int_equal(zdb_iter_journal(s, tname(ZONE), 2, &it), 0);
	zdb_iter_free(it);
	zdb_snap_end(s);
}

/* A journal turned off in the configuration: the next IXFR empties the old one. */
static void test_journal_turned_off(void **state)
{
	(void)state;
	struct trr z[] = {trr_soa(ZONE, 10), trr_a("h10.example.com.", 10)};
	load_zone(g_db, ZONE, z, 2, 100);
	struct zdb_ixfr *x;
	assert_int_equal(zdb_ixfr_begin(g_db, tname(ZONE), &x), 0);
	changeset(x, 10);
	assert_int_equal(zdb_ixfr_commit(x, 200, NULL, NULL), 0);
	assert_int_equal(info().journal_count, 1);
	zdb_close(g_db);

	struct zdb_opts o;
	zdb_opts_init(&o);
	o.path = g_dir;
	o.sync = ZDB_SYNC_NONE;
	o.journal_count = 0;
	assert_int_equal(zdb_open(&o, &g_db), 0);
	assert_int_equal(zdb_ixfr_begin(g_db, tname(ZONE), &x), 0);
	changeset(x, 11);
	assert_int_equal(zdb_ixfr_commit(x, 300, NULL, NULL), 0);
	struct zdb_zone_info zi = info();
	assert_int_equal(zi.serial, 12);
	assert_int_equal(zi.journal_count, 0);
	struct zdb_snap *s;
	struct zdb_iter *it;
	assert_int_equal(zdb_snap_begin(g_db, &s), 0);
	assert_int_equal(zdb_iter_journal(s, tname(ZONE), 10, &it), ZX_ENOTFOUND);
	assert_int_equal(zdb_iter_journal(s, tname(ZONE), 11, &it), ZX_ENOTFOUND);
	zdb_snap_end(s);
}

/* Changesets touching the same RRsets: applied in IXFR order, however they are batched. */
static void test_ixfr_same_rrset_across_changesets(void **state)
{
	(void)state;
	struct trr z[16];
	size_t n = base_zone(z);
	load_zone(g_db, ZONE, z, n, 100);
	struct zdb_ixfr *x;
	assert_int_equal(zdb_ixfr_begin(g_db, tname(ZONE), &x), 0);
	del(x, trr_soa(ZONE, 1), 0);
	del(x, trr_a("a.example.com.", 1), 0);
	add(x, trr_soa(ZONE, 2), 0);
	add(x, trr_a("z.example.com.", 5), 0);
	add(x, trr_a("a.example.com.", 7), 0);
	del(x, trr_soa(ZONE, 2), 0);
	del(x, trr_a("a.example.com.", 7), 0);  /* added one changeset before */
	del(x, trr_a("z.example.com.", 5), 0);  /* the RRset goes away again */
	add(x, trr_soa(ZONE, 3), 0);
	add(x, trr_a("a.example.com.", 1), 0);  /* deleted one changeset before */
	add(x, trr_txt("b.example.com.", "second"), 0);
	assert_int_equal(zdb_ixfr_commit(x, 200, NULL, NULL), 0);
	struct trr want[] = {trr_soa(ZONE, 3), z[1], z[2], z[3], z[4], z[5],
	                     trr_txt("b.example.com.", "second")};
	assert_zone(g_db, ZONE, want, 7);
	assert_int_equal(info().records, 7);

	/* the same RR added in two changesets: the second add does not apply */
	assert_int_equal(zdb_ixfr_begin(g_db, tname(ZONE), &x), 0);
	del(x, trr_soa(ZONE, 3), 0);
	add(x, trr_soa(ZONE, 4), 0);
	add(x, trr_a("q.example.com.", 1), 0);
	del(x, trr_soa(ZONE, 4), 0);
	add(x, trr_soa(ZONE, 5), 0);
	add(x, trr_a("q.example.com.", 1), 0);
	assert_int_equal(zdb_ixfr_commit(x, 300, NULL, NULL), ZX_EDIFF);
	assert_zone(g_db, ZONE, want, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ixfr_add_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ixfr_ediff_and_abort_keep_zone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ixfr_sequence_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_since_and_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_byte_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ixfr_large_diff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_turned_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ixfr_same_rrset_across_changesets, setup,
		                                teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
