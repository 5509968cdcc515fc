/* tests/unit/common/store/test_zdb_view.c -- point lookups (zdb_view_*): what a name is
 * (data, empty non-terminal, none), its RRsets in type order, one RRset by type, the
 * RRs of an RRset, and every documented error code. */
#include "test_zdb_util.h"

#include <lmdb.h>

#define ZONE "example.com."

static struct trr trr_aaaa(const char *owner)
{
	struct trr t;
	memset(&t, 0, sizeof(t));
	trr_owner(&t, owner);
	t.type = 28;
	t.rdlen = 16;
	t.rdata[0] = 0x20;
	t.rdata[15] = 1;
	return t;
}

/* apex SOA NS TXT; www A A AAAA; a.b.c.example.com (b.c and c are empty
 * non-terminals); *.w; "www0" beside "www"; a CNAME; a name with a 0x00 byte. */
static void load(struct zdb *db)
{
	struct trr z[] = {
		trr_soa(ZONE, 7),          trr_ns(ZONE, "ns1.example.com."),
		trr_txt(ZONE, "apex"),     trr_a("www." ZONE, 0x0a000001),
		trr_a("WWW." ZONE, 0x0a000002), trr_aaaa("www." ZONE),
		trr_a("a.b.c." ZONE, 1),   trr_txt("*.w." ZONE, "wild"),
		trr_a("www0." ZONE, 3),    trr_ns("alias." ZONE, "www.example.com."),
	};
	z[9].type = 5; /* alias CNAME www (an NS-shaped RDATA: one name) */
	load_zone(db, ZONE, z, sizeof(z) / sizeof(z[0]), 1);
}

struct fixture {
	char *dir;
	struct zdb *db;
	struct zdb_snap *s;
	struct zdb_view *v;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->dir = mk_store_dir();
	f->db = open_store(f->dir, 100);
	load(f->db);
	assert_int_equal(zdb_snap_begin(f->db, &f->s), 0);
	assert_int_equal(zdb_view_open(f->s, tname(ZONE), &f->v), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	zdb_view_free(f->v);
	zdb_snap_end(f->s);
	zdb_close(f->db);
	rm_store(f->dir);
	free(f);
	return 0;
}

static enum zdb_name_kind kind_of(struct zdb_view *v, const char *name)
{
	uint8_t w[DNAME_MAXLEN];
	int n = dname_from_text(name, w);
	assert_true(n > 0);
	enum zdb_name_kind k = ZDB_NAME_DATA;
	assert_int_equal(zdb_view_name(v, w, (size_t)n, &k), 0);
	return k;
}

static void test_name_kinds(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(kind_of(f->v, ZONE), ZDB_NAME_DATA);
	assert_int_equal(kind_of(f->v, "www." ZONE), ZDB_NAME_DATA);
	assert_int_equal(kind_of(f->v, "WwW." ZONE), ZDB_NAME_DATA); /* any case */
	assert_int_equal(kind_of(f->v, "a.b.c." ZONE), ZDB_NAME_DATA);
	assert_int_equal(kind_of(f->v, "b.c." ZONE), ZDB_NAME_EMPTY);
	assert_int_equal(kind_of(f->v, "c." ZONE), ZDB_NAME_EMPTY);
	assert_int_equal(kind_of(f->v, "w." ZONE), ZDB_NAME_EMPTY);
	assert_int_equal(kind_of(f->v, "*.w." ZONE), ZDB_NAME_DATA);
	assert_int_equal(kind_of(f->v, "x.w." ZONE), ZDB_NAME_NONE); /* no wildcard here */
	assert_int_equal(kind_of(f->v, "ww." ZONE), ZDB_NAME_NONE);   /* a prefix of www */
	assert_int_equal(kind_of(f->v, "x.www." ZONE), ZDB_NAME_NONE);
	assert_int_equal(kind_of(f->v, "b." ZONE), ZDB_NAME_NONE);     /* b.c is not below b */
	assert_int_equal(kind_of(f->v, "zzz." ZONE), ZDB_NAME_NONE);   /* past the last key */
	assert_int_equal(kind_of(f->v, "www0." ZONE), ZDB_NAME_DATA);
	/* a label with 0x00 and 0x01 bytes (escaped in keys) */
	uint8_t odd[] = {2, 0, 1, 3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c',
	                 'o', 'm', 0};
	enum zdb_name_kind k;
	assert_int_equal(zdb_view_name(f->v, odd, sizeof(odd), &k), 0);
	assert_int_equal(k, ZDB_NAME_NONE);
}

static void test_next_walks_types(void **state)
{
	struct fixture *f = *state;
	struct zdb_rrset set;
	enum zdb_name_kind k;
	const uint8_t *apex = tname(ZONE);
	assert_int_equal(zdb_view_name(f->v, apex, dname_wire_len(apex, DNAME_MAXLEN), &k), 0);
	assert_int_equal(k, ZDB_NAME_DATA);
	uint16_t want[] = {6, 2, 16}; /* SOA first, then by number */
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(zdb_view_next(f->v, &set), 1);
		assert_int_equal(set.type, want[i]);
		assert_int_equal(set.rclass, 1);
		assert_ptr_equal(set.owner, apex);
	}
	assert_int_equal(zdb_view_next(f->v, &set), 0);
	assert_int_equal(zdb_view_next(f->v, &set), 0);
	/* an empty non-terminal has no RRsets to walk, nor has a missing name */
	const uint8_t *ent = tname("c." ZONE);
	assert_int_equal(zdb_view_name(f->v, ent, dname_wire_len(ent, DNAME_MAXLEN), &k), 0);
	assert_int_equal(zdb_view_next(f->v, &set), 0);
	/* www: A then AAAA, and the walk stops before www0 */
	const uint8_t *www = tname("www." ZONE);
	assert_int_equal(zdb_view_name(f->v, www, dname_wire_len(www, DNAME_MAXLEN), &k), 0);
	assert_int_equal(zdb_view_next(f->v, &set), 1);
	assert_int_equal(set.type, 1);
	assert_int_equal(zdb_view_next(f->v, &set), 1);
	assert_int_equal(set.type, 28);
	assert_int_equal(zdb_view_next(f->v, &set), 0);
}

static void test_rrset(void **state)
{
	struct fixture *f = *state;
	struct zdb_rrset set;
	struct zdb_rr rr;
	size_t off = 0;
	const uint8_t *www = tname("Www." ZONE);
	size_t wl = (size_t)dname_wire_len(www, DNAME_MAXLEN);
	assert_int_equal(zdb_view_rrset(f->v, www, wl, 1, &set), 0);
	assert_ptr_equal(set.owner, www);
	assert_int_equal(zdb_rrset_next(&set, &off, &rr), 1);
	assert_int_equal(rr.type, 1);
	assert_int_equal(rr.ttl, 3600);
	assert_int_equal(rr.rdlen, 4);
	assert_int_equal(rr.rdata[3], 1); /* canonical RDATA order */
	assert_ptr_equal(rr.owner, www);
	assert_int_equal(zdb_rrset_next(&set, &off, &rr), 1);
	assert_int_equal(rr.rdata[3], 2);
	assert_int_equal(zdb_rrset_next(&set, &off, &rr), 0);
	/* the SOA by its own number, at the apex only */
	const uint8_t *apex = tname(ZONE);
	size_t al = (size_t)dname_wire_len(apex, DNAME_MAXLEN);
	assert_int_equal(zdb_view_rrset(f->v, apex, al, 6, &set), 0);
	assert_int_equal(set.type, 6);
	assert_int_equal(zdb_view_rrset(f->v, www, wl, 6, &set), ZX_ENOTFOUND);
	/* absent types and names; type 0 is not the SOA */
	assert_int_equal(zdb_view_rrset(f->v, www, wl, 16, &set), ZX_ENOTFOUND);
	assert_int_equal(zdb_view_rrset(f->v, apex, al, 0, &set), ZX_ENOTFOUND);
	const uint8_t *ent = tname("b.c." ZONE);
	assert_int_equal(zdb_view_rrset(f->v, ent, dname_wire_len(ent, DNAME_MAXLEN), 1, &set),
	                 ZX_ENOTFOUND);
	const uint8_t *cn = tname("alias." ZONE);
	assert_int_equal(zdb_view_rrset(f->v, cn, dname_wire_len(cn, DNAME_MAXLEN), 5, &set), 0);
	/* a value that does not decode */
	uint8_t bad[] = {0, 0, 0, 60, 0, 9, 1};
	struct zdb_rrset b = {.owner = www, .owner_len = wl, .type = 1, .rclass = 1,
	                      .data = bad, .len = sizeof(bad)};
	off = 0;
	assert_int_equal(zdb_rrset_next(&b, &off, &rr), ZX_ECORRUPT);
	b.len = 3;
	assert_int_equal(zdb_rrset_next(&b, &off, &rr), ZX_ECORRUPT);
}

static void test_bad_names(void **state)
{
	struct fixture *f = *state;
	enum zdb_name_kind k = ZDB_NAME_EMPTY;
	struct zdb_rrset set;
	const uint8_t *out = tname("www.example.net.");
	size_t ol = (size_t)dname_wire_len(out, DNAME_MAXLEN);
	assert_int_equal(zdb_view_name(f->v, out, ol, &k), ZX_EFORMAT);
	assert_int_equal(k, ZDB_NAME_EMPTY); /* untouched */
	assert_int_equal(zdb_view_rrset(f->v, out, ol, 1, &set), ZX_EFORMAT);
	const uint8_t *parent = tname("com.");
	assert_int_equal(zdb_view_name(f->v, parent, 5, &k), ZX_EFORMAT);
	const uint8_t *www = tname("www." ZONE);
	assert_int_equal(zdb_view_name(f->v, www, 5, &k), ZX_EFORMAT); /* wrong length */
	assert_int_equal(zdb_view_name(f->v, www, 0, &k), ZX_EFORMAT);
	assert_int_equal(zdb_view_rrset(f->v, NULL, 3, 1, &set), ZX_EFORMAT);
	/* after a failed lookup there is nothing to walk */
	assert_int_equal(zdb_view_next(f->v, &set), 0);
}

static void test_open_errors(void **state)
{
	(void)state;
	char *dir = mk_store_dir();
	struct zdb *db = open_store(dir, 100);
	struct zdb_snap *s;
	struct zdb_view *v = NULL;
	load(db);
	assert_int_equal(zone_failed(db, tname("never.test."), 1, ZX_ETIMEDOUT, NULL, NULL), 0);
	assert_int_equal(zdb_snap_begin(db, &s), 0);
	assert_int_equal(zdb_view_open(s, tname("other.test."), &v), ZX_ENOTFOUND);
	assert_int_equal(zdb_view_open(s, tname("never.test."), &v), ZX_ENOTFOUND); /* not loaded */
	uint8_t bad[] = {70, 'x', 0};
	assert_int_equal(zdb_view_open(s, bad, &v), ZX_EINVAL);
	assert_null(v);
	struct zdb_zone_info zi;
	assert_int_equal(zdb_zone_get(s, tname(ZONE), &zi), 0);
	zdb_snap_end(s);
	assert_int_equal(zone_corrupt(db, tname(ZONE), zi.version, 2, "test"), 0);
	assert_int_equal(zdb_snap_begin(db, &s), 0);
	assert_int_equal(zdb_view_open(s, tname(ZONE), &v), ZX_ECORRUPT);
	zdb_snap_end(s);
	zdb_view_free(NULL);
	zdb_close(db);
	rm_store(dir);
}

/* A key of the name that is not name | type (a damaged page): ZX_ECORRUPT. */
static void test_bad_key(void **state)
{
	(void)state;
	char *dir = mk_store_dir();
	struct zdb *db = open_store(dir, 100);
	struct zdb_snap *s;
	struct zdb_view *v;
	struct zdb_zone_info zi;
	load(db);
	assert_int_equal(zdb_snap_begin(db, &s), 0);
	assert_int_equal(zdb_zone_get(s, tname(ZONE), &zi), 0);
	zdb_snap_end(s);
	zdb_close(db);
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	uint8_t key[] = {(uint8_t)(zi.version >> 24), (uint8_t)(zi.version >> 16),
	                 (uint8_t)(zi.version >> 8), (uint8_t)zi.version, 'q', 0, 0, 0, 1, 9};
	uint8_t val[] = {0, 0, 0, 1, 0, 0};
	MDB_val k = {sizeof(key), key}, d = {sizeof(val), val};
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0640), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "rr", 0, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, &d, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	db = open_store(dir, 100);
	assert_int_equal(zdb_snap_begin(db, &s), 0);
	assert_int_equal(zdb_view_open(s, tname(ZONE), &v), 0);
	const uint8_t *q = tname("q." ZONE);
	enum zdb_name_kind kind;
	assert_int_equal(zdb_view_name(v, q, dname_wire_len(q, DNAME_MAXLEN), &kind), ZX_ECORRUPT);
	zdb_view_free(v);
	zdb_snap_end(s);
	zdb_close(db);
	rm_store(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_name_kinds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_next_walks_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rrset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_names, setup, teardown),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_bad_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
