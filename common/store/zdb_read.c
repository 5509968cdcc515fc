/* SPDX-License-Identifier: MIT */
/* common/store/zdb_read.c -- snapshots: zone metadata, zone listing, RR and journal iterators.
 *
 * Everything read through one snapshot comes from one LMDB read transaction,
 * so a zone's record, its active version and its RRs always agree. A zone
 * iterator hashes each RRset as it moves to it and counts the RRs it returns;
 * at the end both must match the zone record (zdb_internal.h, Checksum): a
 * damaged page that ends the walk early, or garbage that still decodes, shows
 * as ZX_ECORRUPT rather than as a shorter zone.
 */
#include "common/store/zdb.h"
#include "common/store/zdb_internal.h"

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
	struct zdb *db;
	struct zdb_snap *s;   /**< NULL while detached */
	MDB_cursor *c;        /**< NULL while detached */
	enum iter_kind kind;
	struct zdb_zname z;
	uint8_t prefix[4]; /**< vid (zone) or zid (journal) */
	bool started;
	uint16_t rclass;
	/* zone: the current RRset */
	uint16_t type;
	const uint8_t *vstart, *vp, *vend; /**< the current value; vp: the next RR in it */
	const uint8_t *last;  /**< where the RR last returned starts (in the value) */
	/* zone: what was read against what the zone record says (RRsets are hashed as
	   they are loaded, so a re-attach that goes on in a value hashes nothing twice) */
	struct zdb_hasher h;
	struct zdb_sum sum, want_sum;
	uint64_t n, want_n;
	int err; /**< sticky: the walk found the zone corrupt */
	/* journal: the current changeset */
	uint32_t left, from, to;
	uint32_t last_left;   /**< left before the RR last returned */
	uint64_t end_seq;     /**< the last changeset of the answer (newer ones come later) */
	enum zdb_op op;
	uint8_t owner[DNAME_MAXLEN];
	size_t owner_len;
	/* what zdb_iter_detach() keeps to go on in another snapshot */
	uint32_t vid, serial; /**< the zone's version and serial when the iterator began */
	struct zdb_pin *pin;  /**< zone: taken at the first detach */
	bool done;            /**< zdb_iter_next() returned 0 */
	bool loaded;          /**< saved: a value was current */
	uint8_t key[ZDB_KEY_MAX]; /**< saved: its key */
	size_t key_len, off, vlen; /**< saved: its length, and where the next RR starts */
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

struct zdb *zdb_snap_db(struct zdb_snap *s)
{
	return s->db;
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
	it->db = s->db;
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
	it->vid = m->r.vid;
	it->serial = m->r.serial;
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
	it->end_seq = m.r.journal_next - 1;
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
	it->vstart = it->vp = v.mv_data;
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
	it->last = it->vp;
	it->vp += 6 + rdlen;
	it->n++;
	return 1;
}

/* The sequence of a journal key (zid | u64 sequence, big-endian). */
static uint64_t jseq(const uint8_t *k)
{
	return (uint64_t)zdb_rd32(k + 4) << 32 | zdb_rd32(k + 8);
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
	if (k.mv_size != 12 || memcmp(k.mv_data, it->prefix, 4) != 0 ||
	    jseq(k.mv_data) > it->end_seq) {
		return 0; /* past the zone, or newer than the answer (a resumed iterator) */
	}
	if (v.mv_size < sizeof(h)) {
		return ZX_ESTORE;
	}
	memcpy(&h, v.mv_data, sizeof(h));
	it->from = h.from;
	it->to = h.to;
	it->left = h.count;
	it->vstart = v.mv_data;
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
	it->last = p;
	it->last_left = it->left;
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
	assert(it != NULL && rr != NULL && it->c != NULL); /* attached */
	if (it->done) {
		return 0;
	}
	int rc = it->kind == ITER_ZONE ? zone_next(it, rr) : journal_next(it, rr);
	it->done = rc == 0;
	return rc;
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
	if (it->pin != NULL) {
		zdb_pin_drop(it->db, it->pin);
	}
	free(it);
}

/* ---------------------------------------------------------------- detach / attach */

/* Pin the version a zone iterator reads, then check it is still the zone's active
 * one with the serial it began on: checked in a read transaction begun after the
 * pin, so any later death of the version comes after the pin (the gc sees it). */
static int pin_version(struct zdb_iter *it)
{
	MDB_txn *txn = NULL;
	struct zdb_zmeta m;
	int rc = zdb_pin_take(it->db, it->vid, &it->pin);
	if (rc == 0) {
		rc = zdb_mdb_err(mdb_txn_begin(it->db->env, NULL, MDB_RDONLY, &txn),
		                 "mdb_txn_begin read");
	}
	if (rc == 0) {
		rc = zdb_meta_get(it->db, txn, &it->z, &m);
		mdb_txn_abort(txn);
	}
	if (rc == 0 && (!m.r.loaded || m.r.vid != it->vid || m.r.serial != it->serial)) {
		zdb_set_error("the zone changed before its version could be pinned");
		rc = ZX_ENOTFOUND;
	}
	if (rc != 0 && it->pin != NULL) {
		zdb_pin_drop(it->db, it->pin);
		it->pin = NULL;
	}
	return rc == ZX_ENOTFOUND || rc == ZX_ENOMEM ? rc : rc != 0 ? ZX_ESTORE : 0;
}

int zdb_iter_detach(struct zdb_iter *it, bool again)
{
	assert(it != NULL);
	if (it->c == NULL) {
		return 0; /* detached already */
	}
	if (it->db->readonly) {
		zdb_set_error("zdb_iter_detach: only the writing process can pin a version");
		return ZX_EINVAL;
	}
	int rc = it->kind == ITER_ZONE && it->pin == NULL ? pin_version(it) : 0;
	if (rc != 0) {
		return rc;
	}
	it->loaded = it->vp != NULL && !it->done;
	if (it->loaded || (it->kind == ITER_JOURNAL && !it->done)) {
		MDB_val k, v;
		rc = zdb_mdb_err(mdb_cursor_get(it->c, &k, &v, MDB_GET_CURRENT), "mdb_cursor_get");
		if (rc != 0) {
			return rc == ZX_ENOMEM ? rc : ZX_ESTORE;
		}
		memcpy(it->key, k.mv_data, k.mv_size);
		it->key_len = k.mv_size;
		it->vlen = v.mv_size;
	}
	if (it->loaded) {
		bool back = again && it->last != NULL;
		it->off = (size_t)((back ? it->last : it->vp) - it->vstart);
		if (back && it->kind == ITER_JOURNAL) {
			it->left = it->last_left;
		}
		if (back && it->kind == ITER_ZONE) {
			it->n--; /* handed back: counted again when read again */
		}
	}
	mdb_cursor_close(it->c);
	it->c = NULL;
	it->s = NULL;
	it->vstart = it->vp = it->vend = it->last = NULL;
	return 0;
}

/* Is the pinned version still the one the iterator began on, in @p s? */
static int version_intact(struct zdb_iter *it, struct zdb_snap *s)
{
	struct zdb_zmeta m;
	if (it->pin != NULL && zdb_pin_changed(it->db, it->pin)) {
		zdb_set_error("an IXFR changed the version being read");
		return ZX_ENOTFOUND;
	}
	int rc = zdb_meta_get(it->db, s->txn, &it->z, &m);
	if (rc != 0) {
		zdb_set_error("the zone is gone");
		return rc == ZX_ENOTFOUND ? rc : ZX_ESTORE;
	}
	if (m.r.loaded && m.r.vid == it->vid) {
		if (m.r.serial != it->serial) {
			zdb_set_error("an IXFR changed the version being read");
			return ZX_ENOTFOUND;
		}
		return 0;
	}
	/* replaced after the pin was taken: dead, but kept for us */
	uint8_t kb[4];
	zdb_be32(kb, it->vid);
	MDB_val k = {sizeof(kb), kb}, v;
	rc = mdb_get(s->txn, it->db->versions, &k, &v);
	if (rc != 0 || v.mv_size < 1 || ((const uint8_t *)v.mv_data)[0] != ZDB_V_DEAD) {
		zdb_set_error("the version being read is gone");
		return ZX_ENOTFOUND;
	}
	return 0;
}

/* Put the cursor back on the saved value, and the value pointers on the saved RR. */
static int reposition(struct zdb_iter *it)
{
	MDB_val k = {it->key_len, it->key}, v;
	int mrc = mdb_cursor_get(it->c, &k, &v, MDB_SET_KEY);
	if (mrc == MDB_NOTFOUND) {
		zdb_set_error("the changeset being read is gone");
		return ZX_ENOTFOUND;
	}
	if (mrc != 0) {
		return zdb_mdb_err(mrc, "mdb_cursor_get");
	}
	if (v.mv_size != it->vlen) {
		zdb_set_error("the record being read changed");
		return ZX_ENOTFOUND;
	}
	if (it->kind == ITER_JOURNAL && it->loaded) {
		struct zdb_jhdr h;
		memcpy(&h, v.mv_data, sizeof(h)); /* vlen was at least a header */
		if (h.from != it->from || h.to != it->to) {
			zdb_set_error("the changeset being read changed");
			return ZX_ENOTFOUND;
		}
	}
	if (it->loaded) {
		it->vstart = v.mv_data;
		it->vp = it->vstart + it->off;
		it->vend = it->vstart + v.mv_size;
	}
	return 0;
}

int zdb_iter_attach(struct zdb_iter *it, struct zdb_snap *s)
{
	assert(it != NULL && s != NULL && s->db == it->db);
	if (it->c != NULL) {
		zdb_set_error("zdb_iter_attach: the iterator is attached");
		return ZX_EINVAL;
	}
	int rc = it->kind == ITER_ZONE ? version_intact(it, s) : 0;
	MDB_dbi dbi = it->kind == ITER_ZONE ? it->db->rr : it->db->journal;
	if (rc == 0) {
		rc = zdb_mdb_err(mdb_cursor_open(s->txn, dbi, &it->c), "mdb_cursor_open");
	}
	if (rc == 0 && it->key_len > 0 && !it->done) {
		rc = reposition(it);
	}
	if (rc != 0) {
		if (it->c != NULL) {
			mdb_cursor_close(it->c);
			it->c = NULL;
		}
		return rc == ZX_ENOTFOUND || rc == ZX_ENOMEM ? rc : ZX_ESTORE;
	}
	it->s = s;
	it->last = NULL;
	return 0;
}
