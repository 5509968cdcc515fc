/* SPDX-License-Identifier: MIT */
/* common/zdb_read.c -- snapshots: zone metadata, zone listing, RR and journal iterators.
 *
 * Everything read through one snapshot comes from one LMDB read transaction,
 * so a zone's record, its active version and its RRs always agree. A zone
 * iterator hashes each RRset as it moves to it and counts the RRs it returns;
 * at the end both must match the zone record (zdb_internal.h, Checksum): a
 * damaged page that ends the walk early, or garbage that still decodes, shows
 * as ZX_ECORRUPT rather than as a shorter zone.
 */
#include "common/zdb.h"
#include "common/zdb_internal.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct zdb_snap {
	struct zdb *db;
	MDB_txn *txn;
};

enum iter_kind { ITER_ZONE, ITER_JOURNAL };

struct zdb_iter {
	struct zdb_snap *s;
	MDB_cursor *c;
	enum iter_kind kind;
	struct zdb_zname z;
	uint8_t prefix[4]; /**< vid (zone) or zid (journal) */
	bool started;
	uint16_t rclass;
	/* zone: the current RRset */
	uint16_t type;
	const uint8_t *vp, *vend;
	/* zone: what was read against what the zone record says */
	struct zdb_hasher h;
	struct zdb_sum sum, want_sum;
	uint64_t n, want_n;
	uint32_t vid;
	int err; /**< sticky: the walk found the zone corrupt */
	/* journal: the current changeset */
	uint32_t left, from, to;
	enum zdb_op op;
	uint8_t owner[DNAME_MAXLEN];
	size_t owner_len;
};

int zdb_snap_begin(struct zdb *db, struct zdb_snap **out)
{
	assert(db != NULL && out != NULL);
	struct zdb_snap *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		return ZX_ENOMEM;
	}
	s->db = db;
	int rc = mdb_txn_begin(db->env, NULL, MDB_RDONLY, &s->txn);
	if (rc == MDB_MAP_RESIZED) {
		/* the writer grew the map (a larger store-size): adopt it and retry */
		rc = mdb_env_set_mapsize(db->env, 0);
		if (rc == 0) {
			rc = mdb_txn_begin(db->env, NULL, MDB_RDONLY, &s->txn);
		}
	}
	rc = zdb_mdb_err(rc, "mdb_txn_begin read");
	if (rc != 0) {
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

MDB_txn *zdb_snap_txn(struct zdb_snap *s)
{
	return s->txn;
}

void zdb_snap_end(struct zdb_snap *s)
{
	if (s == NULL) {
		return;
	}
	mdb_txn_abort(s->txn);
	free(s);
}

int zdb_zone_get(struct zdb_snap *s, const uint8_t *zone, struct zdb_zone_info *out)
{
	assert(s != NULL && out != NULL);
	struct zdb_zname z;
	struct zdb_zmeta m;
	int rc = zdb_zname_init(&z, zone);
	if (rc == 0) {
		rc = zdb_meta_get(s->db, s->txn, &z, &m);
	}
	if (rc == 0) {
		zdb_meta_info(&m, out);
	}
	return rc;
}

int zdb_zone_list(struct zdb_snap *s, zdb_zone_cb cb, void *arg)
{
	assert(s != NULL && cb != NULL);
	MDB_cursor *c;
	MDB_val k, v;
	struct zdb_zmeta m;
	struct zdb_zone_info info;
	int rc = zdb_mdb_err(mdb_cursor_open(s->txn, s->db->zones, &c), "mdb_cursor_open");
	if (rc != 0) {
		return rc;
	}
	int mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	for (; mrc == 0; mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		rc = zdb_meta_decode(&v, &m);
		if (rc != 0) {
			break;
		}
		zdb_meta_info(&m, &info);
		rc = cb(&info, arg);
		if (rc != 0) {
			break;
		}
	}
	mdb_cursor_close(c);
	if (rc == 0 && mrc != MDB_NOTFOUND) {
		rc = zdb_mdb_err(mrc, "mdb_cursor_get zone");
	}
	return rc;
}

/* A new iterator over @p zone with a cursor on @p dbi; *m receives the zone record. */
static int iter_new(struct zdb_snap *s, const uint8_t *zone, MDB_dbi dbi, enum iter_kind kind,
                    struct zdb_zmeta *m, struct zdb_iter **out)
{
	struct zdb_iter *it = calloc(1, sizeof(*it));
	if (it == NULL) {
		return ZX_ENOMEM;
	}
	it->s = s;
	it->kind = kind;
	it->op = ZDB_OP_ADD;
	int rc = zdb_zname_init(&it->z, zone);
	if (rc == 0) {
		rc = zdb_meta_get(s->db, s->txn, &it->z, m);
	}
	if (rc == 0 && !m->r.loaded) {
		zdb_set_error("zone not loaded");
		rc = ZX_ENOTFOUND;
	}
	if (rc == 0) {
		rc = zdb_mdb_err(mdb_cursor_open(s->txn, dbi, &it->c), "mdb_cursor_open");
	}
	if (rc != 0) {
		free(it);
		return rc;
	}
	it->rclass = m->r.rclass;
	*out = it;
	return 0;
}

int zdb_iter_zone(struct zdb_snap *s, const uint8_t *zone, struct zdb_iter **out)
{
	assert(s != NULL && out != NULL);
	struct zdb_zmeta m;
	struct zdb_iter *it;
	int rc = iter_new(s, zone, s->db->rr, ITER_ZONE, &m, &it);
	if (rc != 0) {
		return rc;
	}
	if (m.r.corrupt_vid != 0 && m.r.corrupt_vid == m.r.vid) {
		zdb_set_error("version %u of the zone was found corrupt (%s); a retransfer "
		              "fetches it again", m.r.vid, m.errtext);
		rc = ZX_ECORRUPT;
	}
	if (rc == 0) {
		rc = zdb_hasher_init(&it->h);
	}
	if (rc != 0) {
		zdb_iter_free(it);
		return rc;
	}
	zdb_be32(it->prefix, m.r.vid);
	it->vid = m.r.vid;
	it->want_n = m.r.records;
	it->want_sum = m.r.sum;
	*out = it;
	return 0;
}

/* Position @p it on the changeset of its zone that starts at @p since. */
static int journal_seek(struct zdb_iter *it, uint32_t since)
{
	MDB_val k = {sizeof(it->prefix), it->prefix}, v;
	int mrc = mdb_cursor_get(it->c, &k, &v, MDB_SET_RANGE);
	for (; mrc == 0; mrc = mdb_cursor_get(it->c, &k, &v, MDB_NEXT)) {
		struct zdb_jhdr h;
		if (k.mv_size != 12 || memcmp(k.mv_data, it->prefix, 4) != 0) {
			break;
		}
		if (v.mv_size < sizeof(h)) {
			return ZX_ESTORE;
		}
		memcpy(&h, v.mv_data, sizeof(h));
		if (h.from == since) {
			return 0;
		}
	}
	if (mrc != 0 && mrc != MDB_NOTFOUND) {
		return zdb_mdb_err(mrc, "mdb_cursor_get journal");
	}
	zdb_set_error("the journal does not reach back to serial %u", since);
	return ZX_ENOTFOUND;
}

int zdb_iter_journal(struct zdb_snap *s, const uint8_t *zone, uint32_t since,
                     struct zdb_iter **out)
{
	assert(s != NULL && out != NULL);
	struct zdb_zmeta m;
	struct zdb_iter *it;
	int rc = iter_new(s, zone, s->db->journal, ITER_JOURNAL, &m, &it);
	if (rc != 0) {
		return rc;
	}
	zdb_be32(it->prefix, m.r.zid);
	if (since == m.r.serial) {
		rc = ZX_EUPTODATE;
	} else if (m.r.journal_count == 0 || m.r.journal_last != m.r.serial) {
		zdb_set_error("the journal is empty or does not end at the zone's serial");
		rc = ZX_ENOTFOUND;
	} else {
		rc = journal_seek(it, since);
	}
	if (rc != 0) {
		zdb_iter_free(it);
		return rc;
	}
	it->started = true; /* the cursor is on the first changeset, not yet read */
	*out = it;
	return 0;
}

/* A zone record's name as text, for error texts. */
static const char *zone_text(const struct zdb_iter *it, char *buf, size_t size)
{
	if (dname_to_text(it->z.wire, buf, size) != 0) {
		snprintf(buf, size, "?");
	}
	return buf;
}

/* The walk reached the end: does what was read match the zone record? */
static int zone_end(struct zdb_iter *it)
{
	if (it->n == it->want_n && memcmp(&it->sum, &it->want_sum, sizeof(it->sum)) == 0) {
		return 0;
	}
	char name[DNAME_TEXTLEN];
	zdb_set_error("zone %s version %u is corrupt: read %" PRIu64 " records, checksum "
	              "%016" PRIx64 "%016" PRIx64 "; the zone record says %" PRIu64 ", %016"
	              PRIx64 "%016" PRIx64, zone_text(it, name, sizeof(name)), it->vid, it->n,
	              it->sum.v[0], it->sum.v[1], it->want_n, it->want_sum.v[0],
	              it->want_sum.v[1]);
	return ZX_ECORRUPT;
}

/* A record of the zone that does not decode. */
static int zone_bad(struct zdb_iter *it, const char *what)
{
	char name[DNAME_TEXTLEN];
	zdb_set_error("zone %s version %u is corrupt: %s after %" PRIu64 " records",
	              zone_text(it, name, sizeof(name)), it->vid, what, it->n);
	return ZX_ECORRUPT;
}

/* Move to the next RRset of the zone; 1 found, 0 end. */
static int zone_next_set(struct zdb_iter *it)
{
	MDB_val k = {sizeof(it->prefix), it->prefix}, v;
	int mrc = mdb_cursor_get(it->c, &k, &v, it->started ? MDB_NEXT : MDB_SET_RANGE);
	it->started = true;
	if (mrc == MDB_NOTFOUND) {
		return zone_end(it);
	}
	if (mrc != 0) {
		int rc = zdb_mdb_err(mrc, "mdb_cursor_get rr");
		return rc == ZX_ECORRUPT ? zone_bad(it, zdb_last_error()) : rc;
	}
	const uint8_t *kp = k.mv_data;
	if (k.mv_size < 4 || memcmp(kp, it->prefix, 4) != 0) {
		return zone_end(it);
	}
	if (k.mv_size < 4 + 1 + 2) {
		return zone_bad(it, "a key too short");
	}
	int n = zdb_owner_decode(&it->z, kp + 4, k.mv_size - 6, it->owner);
	if (n < 0) {
		return zone_bad(it, "an owner that does not decode");
	}
	zdb_sum_set(&it->h, &it->sum, 1, kp, k.mv_size, v.mv_data, v.mv_size);
	it->owner_len = (size_t)n;
	it->type = zdb_rd16(kp + k.mv_size - 2);
	if (it->type == 0) {
		it->type = 6; /* SOA, stored as 0 to come first */
	}
	it->vp = v.mv_data;
	it->vend = it->vp + v.mv_size;
	return 1;
}

static int zone_next(struct zdb_iter *it, struct zdb_rr *rr)
{
	if (it->err != 0) {
		return it->err;
	}
	while (it->vp == it->vend) {
		int rc = zone_next_set(it);
		if (rc <= 0) {
			it->err = rc == ZX_ECORRUPT ? rc : 0;
			return rc;
		}
	}
	if (it->vend - it->vp < 6 || it->vend - it->vp - 6 < zdb_rd16(it->vp + 4)) {
		it->err = zone_bad(it, "an RRset value that does not decode");
		return it->err;
	}
	uint16_t rdlen = zdb_rd16(it->vp + 4);
	*rr = (struct zdb_rr){.owner = it->owner, .owner_len = it->owner_len, .type = it->type,
	                      .rclass = it->rclass, .ttl = zdb_rd32(it->vp), .rdlen = rdlen,
	                      .rdata = it->vp + 6};
	it->vp += 6 + rdlen;
	it->n++;
	return 1;
}

/* Load the changeset under the cursor (first) or the next one of the zone. */
static int journal_next_set(struct zdb_iter *it)
{
	MDB_val k, v;
	struct zdb_jhdr h;
	int mrc = mdb_cursor_get(it->c, &k, &v, it->vp == NULL ? MDB_GET_CURRENT : MDB_NEXT);
	if (mrc == MDB_NOTFOUND) {
		return 0;
	}
	if (mrc != 0) {
		return zdb_mdb_err(mrc, "mdb_cursor_get journal");
	}
	if (k.mv_size != 12 || memcmp(k.mv_data, it->prefix, 4) != 0) {
		return 0;
	}
	if (v.mv_size < sizeof(h)) {
		return ZX_ESTORE;
	}
	memcpy(&h, v.mv_data, sizeof(h));
	it->from = h.from;
	it->to = h.to;
	it->left = h.count;
	it->vp = (const uint8_t *)v.mv_data + sizeof(h);
	it->vend = (const uint8_t *)v.mv_data + v.mv_size;
	return 1;
}

static int journal_next(struct zdb_iter *it, struct zdb_rr *rr)
{
	while (it->vp == NULL || it->left == 0) {
		int rc = journal_next_set(it);
		if (rc <= 0) {
			return rc;
		}
	}
	const uint8_t *p = it->vp;
	if (it->vend - p < 2 || it->vend - p < 2 + p[1] + 10) {
		return ZX_ESTORE;
	}
	size_t olen = p[1];
	const uint8_t *f = p + 2 + olen;
	uint16_t rdlen = zdb_rd16(f + 8);
	if (it->vend - f - 10 < rdlen || dname_wire_len(p + 2, olen) != (int)olen) {
		return ZX_ESTORE;
	}
	it->op = p[0] == 0 ? ZDB_OP_DEL : ZDB_OP_ADD;
	*rr = (struct zdb_rr){.owner = p + 2, .owner_len = olen, .type = zdb_rd16(f),
	                      .rclass = zdb_rd16(f + 2), .ttl = zdb_rd32(f + 4), .rdlen = rdlen,
	                      .rdata = f + 10};
	it->vp = f + 10 + rdlen;
	it->left--;
	return 1;
}

int zdb_iter_next(struct zdb_iter *it, struct zdb_rr *rr)
{
	assert(it != NULL && rr != NULL);
	return it->kind == ITER_ZONE ? zone_next(it, rr) : journal_next(it, rr);
}

enum zdb_op zdb_iter_op(const struct zdb_iter *it, uint32_t *from, uint32_t *to)
{
	if (from != NULL) {
		*from = it->from;
	}
	if (to != NULL) {
		*to = it->to;
	}
	return it->op;
}

void zdb_iter_free(struct zdb_iter *it)
{
	if (it == NULL) {
		return;
	}
	if (it->c != NULL) {
		mdb_cursor_close(it->c);
	}
	zdb_hasher_deinit(&it->h);
	free(it);
}
