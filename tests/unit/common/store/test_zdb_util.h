/* tests/unit/common/store/test_zdb_util.h -- helpers shared by the zone store tests:
 * temporary stores, RRs built in C, and a canonical-order reference to compare with. */
#ifndef ZX_TEST_ZDB_UTIL_H
#define ZX_TEST_ZDB_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/dname.h"
#include "common/store/zdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/** zdb_zone_event() FAILED with an error: a failed attempt (creates a record). */
static inline int zone_failed(struct zdb *db, const uint8_t *zone, int64_t now, int err,
                              const char *text, const char *primary)
{
	struct zdb_event_info info = {.err = err, .text = text, .primary = primary};
	return zdb_zone_event(db, zone, ZDB_EV_FAILED, now, &info, NULL);
}

/** zdb_zone_event() CORRUPT of @p version. */
static inline int zone_corrupt(struct zdb *db, const uint8_t *zone, uint32_t version,
                               int64_t now, const char *text)
{
	struct zdb_event_info info = {.text = text, .version = version};
	return zdb_zone_event(db, zone, ZDB_EV_CORRUPT, now, &info, NULL);
}

/** An RR with its own storage. */
struct trr {
	uint8_t owner[DNAME_MAXLEN];
	size_t owner_len;
	uint16_t type, rclass;
	uint32_t ttl;
	uint8_t rdata[600];
	uint16_t rdlen;
};

static inline struct zdb_rr trr_view(const struct trr *t)
{
	return (struct zdb_rr){.owner = t->owner, .owner_len = t->owner_len, .type = t->type,
	                       .rclass = t->rclass, .ttl = t->ttl, .rdlen = t->rdlen,
	                       .rdata = t->rdata};
}

static inline void trr_owner(struct trr *t, const char *owner)
{
	int n = dname_from_text(owner, t->owner);
	assert_true(n > 0);
	t->owner_len = (size_t)n;
	t->rclass = 1;
	t->ttl = 3600;
}

static inline struct trr trr_a(const char *owner, uint32_t ip)
{
	struct trr t;
	memset(&t, 0, sizeof(t));
	trr_owner(&t, owner);
	t.type = 1;
	t.rdlen = 4;
	t.rdata[0] = (uint8_t)(ip >> 24);
	t.rdata[1] = (uint8_t)(ip >> 16);
	t.rdata[2] = (uint8_t)(ip >> 8);
	t.rdata[3] = (uint8_t)ip;
	return t;
}

static inline struct trr trr_txt(const char *owner, const char *text)
{
	struct trr t;
	memset(&t, 0, sizeof(t));
	trr_owner(&t, owner);
	t.type = 16;
	size_t n = strlen(text);
	assert_true(n < 256);
	t.rdata[0] = (uint8_t)n;
	memcpy(t.rdata + 1, text, n);
	t.rdlen = (uint16_t)(n + 1);
	return t;
}

static inline struct trr trr_ns(const char *owner, const char *target)
{
	struct trr t;
	memset(&t, 0, sizeof(t));
	trr_owner(&t, owner);
	t.type = 2;
	int n = dname_from_text(target, t.rdata);
	assert_true(n > 0);
	t.rdlen = (uint16_t)n;
	return t;
}

static inline struct trr trr_soa(const char *zone, uint32_t serial)
{
	struct trr t;
	memset(&t, 0, sizeof(t));
	trr_owner(&t, zone);
	t.type = 6;
	int a = dname_from_text("ns1.example.", t.rdata);
	int b = dname_from_text("hostmaster.example.", t.rdata + a);
	uint8_t *p = t.rdata + a + b;
	uint32_t f[5] = {serial, 3600, 600, 86400, 300};
	for (int i = 0; i < 5; i++) {
		p[i * 4] = (uint8_t)(f[i] >> 24);
		p[i * 4 + 1] = (uint8_t)(f[i] >> 16);
		p[i * 4 + 2] = (uint8_t)(f[i] >> 8);
		p[i * 4 + 3] = (uint8_t)f[i];
	}
	t.rdlen = (uint16_t)(a + b + 20);
	return t;
}

static inline const uint8_t *tname(const char *text)
{
	static _Thread_local uint8_t buf[4][DNAME_MAXLEN];
	static _Thread_local int next;
	uint8_t *w = buf[next++ & 3];
	assert_true(dname_from_text(text, w) > 0);
	return w;
}

/** The order the store promises: owner canonical, SOA first, type, RDATA. */
static inline int trr_cmp(const void *x, const void *y)
{
	const struct trr *a = x, *b = y;
	int c = dname_canonical_cmp(a->owner, b->owner);
	if (c != 0) {
		return c;
	}
	int ta = a->type == 6 ? 0 : a->type, tb = b->type == 6 ? 0 : b->type;
	if (ta != tb) {
		return ta - tb;
	}
	size_t n = a->rdlen < b->rdlen ? a->rdlen : b->rdlen;
	c = memcmp(a->rdata, b->rdata, n);
	return c != 0 ? c : (int)a->rdlen - (int)b->rdlen;
}

/** A fresh empty directory under /tmp; the caller removes it with rm_store(). */
static inline char *mk_store_dir(void)
{
	char *d = strdup("/tmp/test_zdb.XXXXXX");
	assert_non_null(mkdtemp(d));
	return d;
}

static inline void rm_store(char *dir)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(dir);
}

static inline struct zdb *open_store(const char *dir, uint32_t chunk_records)
{
	struct zdb_opts o;
	struct zdb *db = NULL;
	zdb_opts_init(&o);
	o.path = dir;
	o.map_size = 64u << 20;
	o.sync = ZDB_SYNC_NONE;
	o.chunk_records = chunk_records;
	o.gc_thread = false; /* the tests call zdb_gc() themselves */
	int rc = zdb_open(&o, &db);
	if (rc != 0) {
		fprintf(stderr, "zdb_open: %d %s\n", rc, zdb_last_error());
	}
	assert_int_equal(rc, 0);
	return db;
}

/** Store @p n RRs as one AXFR of @p zone, whatever the serial held (the serial rule
 *  has a test of its own: test_zdb.c test_serial_rule). */
static inline void load_zone(struct zdb *db, const char *zone, const struct trr *rrs, size_t n,
                             int64_t now)
{
	struct zdb_axfr *a;
	assert_int_equal(zdb_axfr_begin(db, tname(zone), &a), 0);
	zdb_axfr_set_rule(a, ZDB_SERIAL_ANY);
	for (size_t i = 0; i < n; i++) {
		struct zdb_rr v = trr_view(&rrs[i]);
		assert_int_equal(zdb_axfr_add(a, &v), 0);
	}
	assert_int_equal(zdb_axfr_commit(a, now, "192.0.2.1@53", NULL), 0);
}

/** Read the zone back; returns the count, fills @p out (up to @p max). */
static inline size_t read_zone(struct zdb_snap *s, const char *zone, struct trr *out, size_t max)
{
	struct zdb_iter *it;
	struct zdb_rr rr;
	size_t n = 0;
	int rc;
	assert_int_equal(zdb_iter_zone(s, tname(zone), &it), 0);
	while ((rc = zdb_iter_next(it, &rr)) == 1) {
		if (n < max) {
			struct trr *t = &out[n];
			memset(t, 0, sizeof(*t));
			memcpy(t->owner, rr.owner, rr.owner_len);
			t->owner_len = rr.owner_len;
			t->type = rr.type;
			t->rclass = rr.rclass;
			t->ttl = rr.ttl;
			assert_true(rr.rdlen <= sizeof(t->rdata));
			memcpy(t->rdata, rr.rdata, rr.rdlen);
			t->rdlen = rr.rdlen;
		}
		n++;
	}
	assert_int_equal(rc, 0);
	zdb_iter_free(it);
	return n;
}

static inline void assert_trr_equal(const struct trr *a, const struct trr *b)
{
	assert_int_equal(a->owner_len, b->owner_len);
	assert_true(dname_equal(a->owner, b->owner));
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->rclass, b->rclass);
	assert_int_equal(a->ttl, b->ttl);
	assert_int_equal(a->rdlen, b->rdlen);
	assert_memory_equal(a->rdata, b->rdata, a->rdlen);
}

/** The zone as the store holds it equals @p want (any order; lowercased owners). */
static inline void assert_zone(struct zdb *db, const char *zone, struct trr *want, size_t n)
{
	struct zdb_snap *s;
	struct trr *got = calloc(n + 1, sizeof(*got));
	assert_non_null(got);
	for (size_t i = 0; i < n; i++) {
		dname_lower(want[i].owner);
	}
	qsort(want, n, sizeof(*want), trr_cmp);
	assert_int_equal(zdb_snap_begin(db, &s), 0);
	assert_int_equal(read_zone(s, zone, got, n + 1), n);
	zdb_snap_end(s);
	for (size_t i = 0; i < n; i++) {
		assert_trr_equal(&got[i], &want[i]);
	}
	free(got);
}

#endif
