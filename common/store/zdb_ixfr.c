/* SPDX-License-Identifier: MIT */
/* common/store/zdb_ixfr.c -- an incremental transfer applied in one write transaction, and
 * the per-zone journal of changesets.
 *
 * The diff is buffered in journal format (struct zdb_jhdr + records, see
 * zdb_internal.h) and applied at commit, so the write lock is not held while
 * the rest of the IXFR is still on the network. A diff larger than SPILL bytes
 * opens the write transaction early: what is buffered is applied, later RRs are
 * applied as they come, and the buffer then keeps only what the journal bound
 * lets the journal keep (oldest changesets dropped first), so memory stays
 * bounded by about twice max(SPILL, journal bytes).
 *
 * Dropping the oldest changesets moves a start offset (head), and the buffer is
 * compacted only once head passed half of it: each byte is moved O(1) times.
 * (It moved the whole buffer per dropped changeset: 700k empty changesets burnt
 * 21 s of CPU.) At commit at most journal_count changesets are appended.
 *
 * Applying one RR costs one RRset read and write: O(log zone + RRset); the
 * zone's checksum is adjusted by the RRsets read and written (zdb_internal.h).
 */
#include "common/store/zdb.h"
#include "common/store/zdb_internal.h"
#include "common/dnsmsg.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define SPILL ((size_t)1 << 20)
#define REC_MAX (2 + DNAME_MAXLEN + 10 + 65535)

enum phase { PH_NONE, PH_DEL, PH_ADD };

struct zdb_ixfr {
	struct zdb *db;
	struct zdb_zname z;
	uint32_t vid, serial0;
	uint16_t rclass;
	uint32_t serial;   /**< serial the zone has after the RRs given so far */
	enum phase phase;
	uint8_t *buf;      /**< changesets in journal format, from head to len */
	size_t head, len, cap;
	size_t cs_off;     /**< the current changeset's header in buf */
	uint32_t kept;     /**< changesets in buf[head, len) */
	bool cs_skip;      /**< the current changeset is too big for the journal */
	bool jr_lost;      /**< older changesets were dropped: the old journal must go */
	uint32_t changesets;
	struct zdb_jhdr cur; /**< the current changeset's header */
	uint32_t soa_ttl;
	uint16_t soa_rdlen;
	uint8_t soa[ZDB_SOA_MAX];
	MDB_txn *txn;      /**< open once the diff is applied (spill or commit) */
	int64_t drecords;
	uint8_t *val;      /**< the RRset being edited */
	size_t vlen, val_cap;
	struct zdb_hasher h;
	struct zdb_sum dsum; /**< what the diff changes in the zone's checksum */
	enum zdb_serial_rule rule;
	bool follow; /* a follower's copy: FOLLOWED instead of COMMITTED */
	int err;           /**< sticky */
};

/* ---------------------------------------------------------------- journal */

static void jkey(uint8_t *k, uint32_t zid, uint64_t seq)
{
	zdb_be32(k, zid);
	zdb_be64(k + 4, seq);
}

int zdb_journal_clear(struct zdb *db, MDB_txn *txn, struct zdb_zmeta *m)
{
	MDB_cursor *c;
	uint8_t kb[12];
	jkey(kb, m->r.zid, 0);
	int rc = zdb_mdb_err(mdb_cursor_open(txn, db->journal, &c), "mdb_cursor_open");
	if (rc != 0) {
		return rc;
	}
	MDB_val k = {sizeof(kb), kb}, v;
	int mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (mrc == 0 && k.mv_size == 12 && memcmp(k.mv_data, kb, 4) == 0) {
		mrc = mdb_cursor_del(c, 0);
		if (mrc == 0) {
			mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT); /* after a delete: the next one */
		}
	}
	mdb_cursor_close(c);
	if (mrc != 0 && mrc != MDB_NOTFOUND) {
		return zdb_mdb_err(mrc, "mdb_cursor_del journal");
	}
	m->r.journal_count = 0;
	m->r.journal_bytes = 0;
	m->r.journal_head = m->r.journal_next;
	return 0;
}

/* Drop the oldest changeset of the zone. */
static int journal_drop_oldest(struct zdb *db, MDB_txn *txn, struct zdb_zmeta *m)
{
	MDB_cursor *c;
	uint8_t kb[12];
	jkey(kb, m->r.zid, m->r.journal_head);
	int rc = zdb_mdb_err(mdb_cursor_open(txn, db->journal, &c), "mdb_cursor_open");
	if (rc != 0) {
		return rc;
	}
	MDB_val k = {sizeof(kb), kb}, v;
	int mrc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
	if (mrc == 0) {
		m->r.journal_bytes -= v.mv_size;
		m->r.journal_count--;
		mrc = mdb_cursor_del(c, 0);
	}
	if (mrc == 0 && m->r.journal_count > 0) {
		mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
		if (mrc == 0 && (k.mv_size != 12 || memcmp(k.mv_data, kb, 4) != 0 ||
		                 v.mv_size < sizeof(struct zdb_jhdr))) {
			mrc = MDB_CORRUPTED;
		}
		if (mrc == 0) {
			struct zdb_jhdr h;
			memcpy(&h, v.mv_data, sizeof(h));
			m->r.journal_first = h.from;
			m->r.journal_head = ((uint64_t)zdb_rd32((uint8_t *)k.mv_data + 4) << 32) |
			                    zdb_rd32((uint8_t *)k.mv_data + 8);
		}
	}
	mdb_cursor_close(c);
	return zdb_mdb_err(mrc, "journal trim");
}

/* Append one changeset and trim the journal to its bounds. */
static int journal_append(struct zdb *db, MDB_txn *txn, struct zdb_zmeta *m,
                          const uint8_t *cs, size_t len)
{
	struct zdb_jhdr h;
	uint8_t kb[12];
	memcpy(&h, cs, sizeof(h));
	jkey(kb, m->r.zid, m->r.journal_next);
	MDB_val k = {sizeof(kb), kb}, v = {len, (void *)cs};
	int rc = zdb_mdb_err(mdb_put(txn, db->journal, &k, &v, 0), "mdb_put journal");
	if (rc != 0) {
		return rc;
	}
	if (m->r.journal_count == 0) {
		m->r.journal_head = m->r.journal_next;
		m->r.journal_first = h.from;
	}
	m->r.journal_next++;
	m->r.journal_count++;
	m->r.journal_bytes += len;
	m->r.journal_last = h.to;
	while (rc == 0 && m->r.journal_count > 0 &&
	       (m->r.journal_count > db->journal_count || m->r.journal_bytes > db->journal_bytes)) {
		rc = journal_drop_oldest(db, txn, m);
	}
	return rc;
}

/* ---------------------------------------------------------------- applying */

static int grow(uint8_t **p, size_t *cap, size_t need)
{
	if (need <= *cap) {
		return 0;
	}
	size_t c = *cap ? *cap : 16384;
	while (c < need) {
		c *= 2;
	}
	uint8_t *n = realloc(*p, c);
	if (n == NULL) {
		return ZX_ENOMEM;
	}
	*p = n;
	*cap = c;
	return 0;
}

/* Size of a journal-format record. */
static size_t rec_size(const uint8_t *rec)
{
	const uint8_t *f = rec + 2 + rec[1];
	return 2 + (size_t)rec[1] + 10 + zdb_rd16(f + 8);
}

/* Size of the changeset at @p cs (header and records). */
static size_t cs_size(const uint8_t *cs)
{
	struct zdb_jhdr h;
	memcpy(&h, cs, sizeof(h));
	size_t off = sizeof(h);
	for (uint32_t i = 0; i < h.count; i++) {
		off += rec_size(cs + off);
	}
	return off;
}

static bool is_apex_soa(const struct zdb_ixfr *x, const uint8_t *rec)
{
	const uint8_t *f = rec + 2 + rec[1];
	return zdb_rd16(f) == DNS_T_SOA && rec[1] == x->z.len &&
	       memcmp(rec + 2, x->z.wire, x->z.len) == 0;
}

/* Position of @p rd in the RRset at @p p (@p len bytes): *at = the first RR not below it. */
static bool rrset_find(const uint8_t *p, size_t len, const uint8_t *rd, uint16_t rdlen,
                       size_t *at)
{
	size_t off = 0;
	while (off + 6 <= len) {
		uint16_t l = zdb_rd16(p + off + 4);
		int c = zdb_rdata_cmp(p + off + 6, l, rd, rdlen);
		if (c >= 0) {
			*at = off;
			return c == 0;
		}
		off += 6 + (size_t)l;
	}
	*at = off;
	return false;
}

/* The rr key of a journal-format record: vid | owner key | type. */
static int rec_key(const struct zdb_ixfr *x, const uint8_t *rec, uint8_t *key)
{
	const uint8_t *f = rec + 2 + rec[1];
	zdb_be32(key, x->vid);
	int kl = zdb_owner_key(&x->z, rec + 2, rec[1], key + 4);
	if (kl < 0) {
		return ZX_ESTORE;
	}
	zdb_be16(key + 4 + kl, zdb_rd16(f));
	return kl + 6;
}

/* Read the RRset at @p k into x->val (empty when absent). */
static int set_load(struct zdb_ixfr *x, MDB_val *k)
{
	MDB_val v;
	int mrc = mdb_get(x->txn, x->db->rr, k, &v);
	x->vlen = 0;
	if (mrc == MDB_NOTFOUND) {
		return 0;
	}
	int rc = zdb_mdb_err(mrc, "mdb_get rr");
	if (rc == 0) {
		rc = grow(&x->val, &x->val_cap, v.mv_size);
	}
	if (rc == 0) {
		memcpy(x->val, v.mv_data, v.mv_size);
		x->vlen = v.mv_size;
		zdb_sum_set(&x->h, &x->dsum, -1, k->mv_data, k->mv_size, v.mv_data, v.mv_size);
	}
	return rc;
}

/* Delete or add the RR of @p rec in the RRset in x->val. */
static int set_edit(struct zdb_ixfr *x, const uint8_t *rec)
{
	const uint8_t *f = rec + 2 + rec[1];
	uint16_t rdlen = zdb_rd16(f + 8);
	size_t at, rl = 6 + (size_t)rdlen;
	bool del = rec[0] == 0;
	if (rrset_find(x->val, x->vlen, f + 10, rdlen, &at) != del) {
		zdb_set_error("IXFR %s of type %u: the RR is %s", del ? "delete" : "add",
		              zdb_rd16(f), del ? "absent" : "already present");
		return ZX_EDIFF;
	}
	if (del) {
		memmove(x->val + at, x->val + at + rl, x->vlen - at - rl);
		x->vlen -= rl;
		x->drecords--;
		return 0;
	}
	int rc = grow(&x->val, &x->val_cap, x->vlen + rl);
	if (rc != 0) {
		return rc;
	}
	memmove(x->val + at + rl, x->val + at, x->vlen - at);
	memcpy(x->val + at, f + 4, 4);                    /* TTL */
	memcpy(x->val + at + 4, f + 8, 2 + (size_t)rdlen); /* RDLENGTH, RDATA */
	x->vlen += rl;
	x->drecords++;
	return 0;
}

/* Write x->val back to @p k (an empty RRset is deleted). */
static int set_store(struct zdb_ixfr *x, MDB_val *k)
{
	if (x->vlen == 0) {
		int mrc = mdb_del(x->txn, x->db->rr, k, NULL);
		return mrc == MDB_NOTFOUND ? 0 : zdb_mdb_err(mrc, "mdb_del rr");
	}
	MDB_val v = {x->vlen, x->val};
	zdb_sum_set(&x->h, &x->dsum, 1, k->mv_data, k->mv_size, x->val, x->vlen);
	return zdb_mdb_err(mdb_put(x->txn, x->db->rr, k, &v, 0), "mdb_put rr");
}

/* Apply one record (RRs applied as they come, once the transaction is open). */
static int apply_one(struct zdb_ixfr *x, const uint8_t *rec)
{
	uint8_t key[ZDB_KEY_MAX];
	if (is_apex_soa(x, rec)) {
		return 0; /* the final SOA is written at commit */
	}
	int kl = rec_key(x, rec, key);
	MDB_val k = {(size_t)kl, key};
	int rc = kl < 0 ? kl : set_load(x, &k);
	if (rc == 0) {
		rc = set_edit(x, rec);
	}
	return rc == 0 ? set_store(x, &k) : rc;
}

/* A buffered record and its key, for applying the buffer in key order. */
struct ref {
	const uint8_t *rec;
	uint32_t seq;  /**< arrival order: kept among the records of one RRset */
	uint32_t koff; /**< key in the key buffer */
	uint16_t klen;
};

static int ref_cmp(const void *pa, const void *pb, void *arg)
{
	const struct ref *a = pa, *b = pb;
	const uint8_t *keys = arg;
	int c = zdb_rdata_cmp(keys + a->koff, a->klen, keys + b->koff, b->klen);
	return c != 0 ? c : (a->seq > b->seq) - (a->seq < b->seq);
}

/* Index the buffer's non-SOA records with their keys, sorted by (key, arrival). */
static int index_buffer(struct zdb_ixfr *x, struct ref **out, size_t *n, uint8_t **keys)
{
	size_t cap = 0, kcap = 0, klen = 0;
	struct ref *refs = NULL;
	int rc = 0;
	*n = 0;
	*keys = NULL;
	for (size_t off = x->head; rc == 0 && off < x->len;) {
		struct zdb_jhdr h;
		memcpy(&h, x->buf + off, sizeof(h));
		off += sizeof(h);
		for (uint32_t i = 0; rc == 0 && i < h.count; off += rec_size(x->buf + off), i++) {
			if (is_apex_soa(x, x->buf + off)) {
				continue;
			}
			rc = grow((uint8_t **)&refs, &cap, (*n + 1) * sizeof(*refs));
			if (rc == 0) {
				rc = grow(keys, &kcap, klen + ZDB_KEY_MAX);
			}
			int kl = rc == 0 ? rec_key(x, x->buf + off, *keys + klen) : rc;
			if (kl < 0) {
				rc = kl;
				break;
			}
			refs[*n] = (struct ref){x->buf + off, (uint32_t)*n, (uint32_t)klen, (uint16_t)kl};
			klen += (size_t)kl;
			(*n)++;
		}
	}
	if (rc == 0 && *n > 1) {
		qsort_r(refs, *n, sizeof(*refs), ref_cmp, *keys);
	}
	*out = refs;
	return rc;
}

/*
 * Apply the buffered diff RRset by RRset: the records of one RRset (in their
 * order) cost one read and one write, and the keys are visited in B-tree order.
 * Records of different RRsets commute, so the result is that of applying them
 * one by one in IXFR order, errors included.
 */
static int apply_buffer(struct zdb_ixfr *x)
{
	struct ref *refs;
	uint8_t *keys;
	size_t n;
	int rc = index_buffer(x, &refs, &n, &keys);
	for (size_t i = 0; rc == 0 && i < n;) {
		MDB_val k = {refs[i].klen, keys + refs[i].koff};
		size_t j = i;
		rc = set_load(x, &k);
		while (rc == 0 && j < n && refs[j].klen == k.mv_size &&
		       memcmp(keys + refs[j].koff, k.mv_data, k.mv_size) == 0) {
			rc = set_edit(x, refs[j++].rec);
		}
		if (rc == 0) {
			rc = set_store(x, &k);
		}
		i = j;
	}
	free(refs);
	free(keys);
	return rc;
}

bool zdb_ixfr_holds_lock(const struct zdb_ixfr *x)
{
	return x->txn != NULL;
}

/* Open the write transaction, check the zone did not change, apply the buffer. */
static int open_txn(struct zdb_ixfr *x)
{
	struct zdb_zmeta m;
	int rc = zdb_wtxn_begin(x->db, &x->txn);
	if (rc != 0) {
		return rc;
	}
	rc = zdb_meta_get(x->db, x->txn, &x->z, &m);
	if (rc == 0 && (!m.r.loaded || m.r.vid != x->vid || m.r.serial != x->serial0)) {
		zdb_set_error("the zone changed since the IXFR began");
		rc = ZX_EDIFF;
	}
	if (rc == 0) {
		rc = apply_buffer(x);
	}
	return rc == ZX_ENOTFOUND ? ZX_EDIFF : rc;
}

/* Once the transaction is open: keep only what the journal bounds let it keep. */
static void trim_buffer(struct zdb_ixfr *x)
{
	while ((x->len - x->head > x->db->journal_bytes || x->kept > x->db->journal_count) &&
	       !x->cs_skip) {
		x->jr_lost = true;
		if (x->cs_off == x->head) {
			x->head = x->len = 0; /* the current changeset alone is too big */
			x->kept = 0;
			x->cs_skip = true;
			return;
		}
		x->head += cs_size(x->buf + x->head);
		x->kept--;
	}
	if (x->head > 0 && x->head >= x->len - x->head) {
		/* compact once the dropped part is the larger: amortised O(1) per byte */
		memmove(x->buf, x->buf + x->head, x->len - x->head);
		x->len -= x->head;
		x->cs_off -= x->head;
		x->head = 0;
	}
}

/* The record just encoded at buf + len: apply it if the transaction is open, keep it. */
static int take_rec(struct zdb_ixfr *x, struct zdb_jhdr *h, bool newset)
{
	size_t rl = rec_size(x->buf + x->len);
	int rc = x->txn != NULL ? apply_one(x, x->buf + x->len) : 0;
	if (rc != 0) {
		return rc;
	}
	if (x->cs_skip) {
		return 0; /* applied, not kept */
	}
	if (newset) {
		/* the header goes before the record */
		memmove(x->buf + x->len + sizeof(*h), x->buf + x->len, rl);
		x->cs_off = x->len;
		x->len += sizeof(*h);
		x->kept++;
	}
	memcpy(x->buf + x->cs_off, h, sizeof(*h));
	x->len += rl;
	if (x->txn == NULL && x->len > SPILL) {
		rc = open_txn(x);
	}
	if (rc == 0 && x->txn != NULL) {
		trim_buffer(x);
	}
	return rc;
}

/* ---------------------------------------------------------------- the API */

int zdb_ixfr_begin(struct zdb *db, const uint8_t *zone, struct zdb_ixfr **out)
{
	assert(db != NULL && out != NULL);
	struct zdb_snap *s;
	struct zdb_zmeta m;
	if (db->readonly) {
		zdb_set_error("the store is open read-only");
		return ZX_EINVAL;
	}
	struct zdb_ixfr *x = calloc(1, sizeof(*x));
	if (x == NULL) {
		return ZX_ENOMEM;
	}
	x->db = db;
	int rc = zdb_zname_init(&x->z, zone);
	if (rc == 0) {
		rc = zdb_snap_begin(db, &s);
	}
	if (rc == 0) {
		rc = zdb_meta_get(db, zdb_snap_txn(s), &x->z, &m);
		zdb_snap_end(s);
	}
	if (rc == 0 && !m.r.loaded) {
		zdb_set_error("zone not loaded");
		rc = ZX_ENOTFOUND;
	}
	if (rc == 0 && m.r.corrupt_vid != 0 && m.r.corrupt_vid == m.r.vid) {
		zdb_set_error("the zone's version %u was found corrupt: an AXFR replaces it",
		              m.r.vid);
		rc = ZX_ECORRUPT;
	}
	if (rc == 0) {
		rc = zdb_hasher_init(&x->h);
	}
	if (rc != 0) {
		free(x);
		return rc;
	}
	x->vid = m.r.vid;
	x->serial0 = x->serial = m.r.serial;
	x->rclass = m.r.rclass;
	*out = x;
	return 0;
}

/* Encode @p rr at buf + len (room for a header too), checking name and class. */
static int encode(struct zdb_ixfr *x, enum zdb_op op, const struct zdb_rr *rr)
{
	uint8_t key[ZDB_KEY_MAX];
	int rc = zdb_owner_key(&x->z, rr->owner, rr->owner_len, key);
	if (rc < 0) {
		return rc;
	}
	if (rr->rclass != x->rclass) {
		zdb_set_error("class %u differs from the zone's %u", rr->rclass, x->rclass);
		return ZX_EFORMAT;
	}
	rc = zdb_rr_check(rr);
	if (rc != 0) {
		return rc;
	}
	rc = grow(&x->buf, &x->cap, x->len + sizeof(struct zdb_jhdr) + REC_MAX);
	if (rc != 0) {
		return rc;
	}
	uint8_t *p = x->buf + x->len;
	p[0] = (uint8_t)op;
	p[1] = (uint8_t)rr->owner_len;
	memcpy(p + 2, rr->owner, rr->owner_len);
	dname_lower(p + 2);
	uint8_t *f = p + 2 + rr->owner_len;
	zdb_be16(f, rr->type);
	zdb_be16(f + 2, rr->rclass);
	zdb_be32(f + 4, rr->ttl);
	zdb_be16(f + 8, rr->rdlen);
	memcpy(f + 10, rr->rdata, rr->rdlen);
	return 0;
}

static int soa_serial(const struct zdb_rr *rr, uint32_t *serial)
{
	struct dns_soa soa;
	if (rr->rdlen > ZDB_SOA_MAX || dnsmsg_soa_parse(rr->rdata, rr->rdlen, &soa) != 0) {
		zdb_set_error("SOA RDATA malformed");
		return ZX_EFORMAT;
	}
	*serial = soa.serial;
	return 0;
}

static int sequence_error(const char *what)
{
	zdb_set_error("IXFR out of order: %s", what);
	return ZX_EXFR;
}

/* The RR at buf + len is an apex SOA: start a changeset (del) or its adds (add). */
static int take_soa(struct zdb_ixfr *x, enum zdb_op op, const struct zdb_rr *rr)
{
	uint32_t serial;
	int rc = soa_serial(rr, &serial);
	if (rc != 0) {
		return rc;
	}
	if (op == ZDB_OP_DEL) {
		if (x->phase == PH_DEL) {
			return sequence_error("two SOAs in a row in the deletions");
		}
		if (serial != x->serial) {
			zdb_set_error("IXFR changeset from serial %u, the zone has %u", serial,
			              x->serial);
			return ZX_EDIFF;
		}
		x->phase = PH_DEL;
		x->changesets++;
		x->cur = (struct zdb_jhdr){.from = serial, .to = serial};
		x->cs_skip = false;
		return 0;
	}
	if (x->phase != PH_DEL) {
		return sequence_error("a new SOA without a changeset's old SOA");
	}
	x->phase = PH_ADD;
	x->serial = x->cur.to = serial;
	x->soa_ttl = rr->ttl;
	x->soa_rdlen = rr->rdlen;
	memcpy(x->soa, rr->rdata, rr->rdlen);
	return 0;
}

static int take(struct zdb_ixfr *x, enum zdb_op op, const struct zdb_rr *rr)
{
	if (x->err != 0) {
		return x->err;
	}
	int rc = encode(x, op, rr);
	bool newset = false;
	if (rc == 0 && is_apex_soa(x, x->buf + x->len)) {
		rc = take_soa(x, op, rr);
		newset = op == ZDB_OP_DEL;
	} else if (rc == 0 && x->phase != (op == ZDB_OP_DEL ? PH_DEL : PH_ADD)) {
		rc = sequence_error(op == ZDB_OP_DEL ? "a deletion outside a changeset's deletions"
		                                     : "an addition before the changeset's new SOA");
	}
	if (rc != 0) {
		return rc; /* nothing changed: the caller may still abort or commit */
	}
	x->cur.count++;
	x->cur.ndel += op == ZDB_OP_DEL;
	rc = take_rec(x, &x->cur, newset);
	x->err = rc;
	return rc;
}

int zdb_ixfr_del(struct zdb_ixfr *x, const struct zdb_rr *rr)
{
	assert(x != NULL && rr != NULL);
	return take(x, ZDB_OP_DEL, rr);
}

int zdb_ixfr_add(struct zdb_ixfr *x, const struct zdb_rr *rr)
{
	assert(x != NULL && rr != NULL);
	return take(x, ZDB_OP_ADD, rr);
}

/* Inside the open transaction: final SOA, journal, zone record. */
static int finish(struct zdb_ixfr *x, int64_t now, const char *primary, struct zdb_commit *res)
{
	struct zdb_zmeta m;
	uint8_t key[4 + 1 + 2], val[6 + ZDB_SOA_MAX];
	zdb_be32(key, x->vid);
	key[4] = 0;
	zdb_be16(key + 5, 0);
	zdb_be32(val, x->soa_ttl);
	zdb_be16(val + 4, x->soa_rdlen);
	memcpy(val + 6, x->soa, x->soa_rdlen);
	MDB_val k = {sizeof(key), key}, v = {6 + (size_t)x->soa_rdlen, val}, old;
	int rc = zdb_meta_get(x->db, x->txn, &x->z, &m);
	if (rc == 0) {
		rc = zdb_serial_allowed(&m, x->serial, x->rule);
	}
	int mrc = rc == 0 ? mdb_get(x->txn, x->db->rr, &k, &old) : 0;
	if (rc == 0 && mrc == 0) {
		zdb_sum_set(&x->h, &x->dsum, -1, k.mv_data, k.mv_size, old.mv_data, old.mv_size);
	} else if (rc == 0 && mrc != MDB_NOTFOUND) {
		rc = zdb_mdb_err(mrc, "mdb_get soa");
	}
	if (rc == 0) {
		zdb_sum_set(&x->h, &x->dsum, 1, k.mv_data, k.mv_size, v.mv_data, v.mv_size);
		rc = zdb_mdb_err(mdb_put(x->txn, x->db->rr, &k, &v, 0), "mdb_put soa");
	}
	/* the journal keeps at most journal_count changesets: skip the older ones */
	size_t off = x->head;
	for (uint32_t n = x->kept; rc == 0 && n > x->db->journal_count; n--) {
		off += cs_size(x->buf + off);
		x->jr_lost = true;
	}
	if (rc == 0 && (x->jr_lost || x->db->journal_count == 0) && m.r.journal_count > 0) {
		/* the chain broke (a changeset too big), or the journal was turned off */
		rc = zdb_journal_clear(x->db, x->txn, &m);
	}
	while (rc == 0 && off < x->len && x->db->journal_count > 0) {
		size_t n = cs_size(x->buf + off);
		rc = journal_append(x->db, x->txn, &m, x->buf + off, n);
		off += n;
	}
	if (rc != 0) {
		return rc;
	}
	*res = (struct zdb_commit){.had_serial = true, .old_serial = x->serial0,
	                           .serial = x->serial, .changesets = x->changesets};
	m.r.serial = x->serial;
	m.r.soa_ttl = x->soa_ttl;
	m.r.soa_rdlen = x->soa_rdlen;
	memcpy(m.soa, x->soa, x->soa_rdlen);
	m.r.records = (uint64_t)((int64_t)m.r.records + x->drecords);
	zdb_sum_merge(&m.r.sum, &x->dsum, 1);
	res->records = m.r.records;
	struct zdb_event_info info = {.primary = primary, .new_version = true};
	rc = zdb_meta_apply(&m, true, x->follow ? ZDB_EV_FOLLOWED : ZDB_EV_COMMITTED, now, &info);
	return rc != 0 ? rc : zdb_meta_put(x->db, x->txn, &m);
}

int zdb_ixfr_commit(struct zdb_ixfr *x, int64_t now, const char *primary, struct zdb_commit *res)
{
	assert(x != NULL);
	struct zdb_commit r;
	int rc = x->err;
	if (rc == 0 && x->phase != PH_ADD) {
		rc = sequence_error(x->phase == PH_NONE ? "no changeset" : "the new SOA is missing");
	}
	if (rc == 0 && x->txn == NULL) {
		rc = open_txn(x);
	}
	if (rc == 0) {
		rc = finish(x, now, primary, &r);
	}
	if (rc == 0) {
		rc = zdb_wtxn_commit(x->txn);
		x->txn = NULL;
	}
	if (rc == 0) {
		zdb_pin_touch(x->db, x->vid); /* changed in place: detached readers must not go on */
	}
	if (rc == 0 && res != NULL) {
		*res = r;
	}
	zdb_ixfr_abort(x);
	return rc;
}

void zdb_ixfr_abort(struct zdb_ixfr *x)
{
	if (x == NULL) {
		return;
	}
	if (x->txn != NULL) {
		mdb_txn_abort(x->txn);
	}
	free(x->buf);
	free(x->val);
	zdb_hasher_deinit(&x->h);
	free(x);
}

void zdb_ixfr_set_rule(struct zdb_ixfr *x, enum zdb_serial_rule rule)
{
	assert(x != NULL);
	x->rule = rule;
}

void zdb_ixfr_set_follow(struct zdb_ixfr *x)
{
	x->follow = true;
}
