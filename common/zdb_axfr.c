/* SPDX-License-Identifier: MIT */
/* common/zdb_axfr.c -- a full zone transfer written as a new version, in chunks.
 *
 * RRs are copied into a buffer of at most chunk_bytes / chunk_records; a full
 * buffer is written in one short write transaction (so the write lock is held
 * for one chunk's worth of B-tree work, never while waiting for the network),
 * and the switch to the new version is one more small commit.
 *
 * Writing a chunk: the entries are sorted by (key, RDATA) unless their keys came
 * in order (then only each RRset's RRs are sorted; the usual case: Knot, BIND and NSD send zones in canonical order),
 * grouped into RRsets, and each RRset is put with MDB_APPEND when its key is
 * past every key written so far (the new version has the highest version id,
 * so its keys go at the end of the B-tree: no page splits in the middle, full
 * pages). A key not past the last one written may exist already (an RRset split
 * across messages, or RRs out of order): it is read and merged.
 */
#include "common/zdb.h"
#include "common/zdb_internal.h"
#include "common/dnsmsg.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* An entry in the buffer: u16 key length, u16 RDLENGTH, u32 TTL (BE), key, RDATA. */
#define ENT_HDR 8

struct zdb_axfr {
	struct zdb *db;
	struct zdb_zname z;
	uint32_t vid;
	uint16_t rclass;
	bool have_class, have_soa;
	uint32_t soa_ttl;
	uint16_t soa_rdlen;
	uint8_t soa[ZDB_SOA_MAX];
	uint8_t *buf; /**< entries */
	size_t len, cap;
	uint32_t *idx; /**< entry offsets, in write order */
	size_t n;
	bool sorted;     /**< entries arrived in key order (RDATA in any order) */
	uint8_t *val;    /**< scratch for one RRset value */
	size_t val_cap;
	uint8_t last_key[ZDB_KEY_MAX]; /**< greatest key written to this version */
	size_t last_key_len;
	bool append; /**< MDB_APPEND still works (no higher key in the B-tree) */
	uint64_t records;
	int err; /**< sticky: a chunk failed */
};

static inline uint16_t ld16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static inline void st16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* Entry accessors. */
static inline const uint8_t *ent_key(const uint8_t *e)
{
	return e + ENT_HDR;
}

static inline const uint8_t *ent_rdata(const uint8_t *e)
{
	return e + ENT_HDR + ld16(e);
}

static int ent_cmp(const uint8_t *a, const uint8_t *b)
{
	size_t ak = ld16(a), bk = ld16(b);
	int c = zdb_rdata_cmp(ent_key(a), ak, ent_key(b), bk);
	if (c != 0) {
		return c;
	}
	return zdb_rdata_cmp(ent_rdata(a), ld16(a + 2), ent_rdata(b), ld16(b + 2));
}

static int key_cmp(const uint8_t *a, const uint8_t *b)
{
	return zdb_rdata_cmp(ent_key(a), ld16(a), ent_key(b), ld16(b));
}

static int idx_cmp(const void *x, const void *y, void *arg)
{
	const uint8_t *buf = arg;
	return ent_cmp(buf + *(const uint32_t *)x, buf + *(const uint32_t *)y);
}

int zdb_axfr_begin(struct zdb *db, const uint8_t *zone, struct zdb_axfr **out)
{
	assert(db != NULL && out != NULL);
	MDB_txn *txn;
	struct zdb_axfr *a = calloc(1, sizeof(*a));
	if (a == NULL) {
		return ZX_ENOMEM;
	}
	a->db = db;
	a->sorted = true;
	a->append = true;
	a->cap = db->chunk_bytes + ENT_HDR + ZDB_KEY_MAX + 65535;
	a->buf = malloc(a->cap);
	a->idx = malloc(sizeof(*a->idx) * db->chunk_records);
	int rc = (a->buf == NULL || a->idx == NULL) ? ZX_ENOMEM : zdb_zname_init(&a->z, zone);
	if (rc == 0) {
		rc = zdb_wtxn_begin(db, &txn);
		if (rc == 0) {
			rc = zdb_counter_next(db, txn, "next_vid", &a->vid);
			if (rc == 0) {
				rc = zdb_version_put(db, txn, a->vid, ZDB_V_WRITING, &a->z);
			}
			rc = rc == 0 ? zdb_wtxn_commit(txn) : (mdb_txn_abort(txn), rc);
		}
	}
	if (rc != 0) {
		free(a->buf);
		free(a->idx);
		free(a);
		return rc;
	}
	*out = a;
	return 0;
}

static int grow_val(struct zdb_axfr *a, size_t need)
{
	if (need <= a->val_cap) {
		return 0;
	}
	size_t cap = a->val_cap ? a->val_cap : 4096;
	while (cap < need) {
		cap *= 2;
	}
	uint8_t *p = realloc(a->val, cap);
	if (p == NULL) {
		return ZX_ENOMEM;
	}
	a->val = p;
	a->val_cap = cap;
	return 0;
}

/* Append one RR of an RRset value: TTL, RDLENGTH, RDATA (wire order). */
static size_t put_rr(uint8_t *dst, const uint8_t *ttl_be, uint16_t rdlen, const uint8_t *rdata)
{
	memcpy(dst, ttl_be, 4);
	zdb_be16(dst + 4, rdlen);
	memcpy(dst + 6, rdata, rdlen);
	return 6 + (size_t)rdlen;
}

/*
 * Merge the sorted entries idx[i..j) (one key) into the sorted RRset @p old
 * (may be empty) in a->val; duplicates are kept once. Returns the value size;
 * *added is the count of RRs not in @p old.
 */
static size_t merge_set(struct zdb_axfr *a, size_t i, size_t j, const uint8_t *old,
                        size_t oldlen, uint64_t *added)
{
	size_t o = 0, op = 0;
	const uint8_t *prev = NULL;
	size_t prevlen = 0;
	*added = 0;
	while (i < j || op < oldlen) {
		const uint8_t *e = i < j ? a->buf + a->idx[i] : NULL;
		const uint8_t *od = op < oldlen ? old + op + 6 : NULL;
		size_t odl = od ? zdb_rd16(old + op + 4) : 0;
		int c = (e == NULL) ? 1 : (od == NULL) ? -1 :
		        zdb_rdata_cmp(ent_rdata(e), ld16(e + 2), od, odl);
		if (c < 0) {
			i++;
			if (prev && zdb_rdata_cmp(ent_rdata(e), ld16(e + 2), prev, prevlen) == 0) {
				continue; /* same RR twice in the input */
			}
			prev = ent_rdata(e);
			prevlen = ld16(e + 2);
			o += put_rr(a->val + o, e + 4, ld16(e + 2), ent_rdata(e));
			(*added)++;
		} else {
			if (c == 0) {
				i++; /* the input repeats an RR already stored */
			}
			memcpy(a->val + o, old + op, 6 + odl);
			prev = od;
			prevlen = odl;
			o += 6 + odl;
			op += 6 + odl;
		}
	}
	return o;
}

/* Write one RRset (entries idx[i..j), one key) through cursor @p c. */
static int write_set(struct zdb_axfr *a, MDB_cursor *c, size_t i, size_t j)
{
	const uint8_t *e = a->buf + a->idx[i];
	MDB_val k = {ld16(e), (void *)ent_key(e)}, v = {0, NULL};
	size_t need = 0;
	for (size_t x = i; x < j; x++) {
		need += 6 + ld16(a->buf + a->idx[x] + 2);
	}
	bool fresh = zdb_rdata_cmp(k.mv_data, k.mv_size, a->last_key, a->last_key_len) > 0;
	if (!fresh) {
		MDB_val found = k; /* MDB_SET_KEY points it into the page: not for the put */
		int mrc = mdb_cursor_get(c, &found, &v, MDB_SET_KEY);
		if (mrc != 0 && mrc != MDB_NOTFOUND) {
			return zdb_mdb_err(mrc, "mdb_cursor_get rr");
		}
		need += mrc == 0 ? v.mv_size : 0;
		v.mv_size = mrc == 0 ? v.mv_size : 0;
	}
	int rc = grow_val(a, need);
	if (rc != 0) {
		return rc;
	}
	uint64_t added;
	MDB_val nv = {merge_set(a, i, j, v.mv_data, v.mv_size, &added), a->val};
	int mrc = MDB_KEYEXIST;
	if (fresh && a->append) {
		mrc = mdb_cursor_put(c, &k, &nv, MDB_APPEND);
		a->append = mrc != MDB_KEYEXIST; /* a higher key exists: another version */
	}
	if (mrc == MDB_KEYEXIST) {
		mrc = mdb_cursor_put(c, &k, &nv, 0);
	}
	if (mrc != 0) {
		return zdb_mdb_err(mrc, "mdb_cursor_put rr");
	}
	if (fresh) {
		memcpy(a->last_key, k.mv_data, k.mv_size);
		a->last_key_len = k.mv_size;
	}
	a->records += added;
	return 0;
}

static int same_key(const uint8_t *x, const uint8_t *y)
{
	return ld16(x) == ld16(y) && memcmp(ent_key(x), ent_key(y), ld16(x)) == 0;
}

/* Write the buffered entries in one write transaction. */
static int flush(struct zdb_axfr *a)
{
	MDB_txn *txn;
	MDB_cursor *c;
	if (a->n == 0) {
		return 0;
	}
	if (!a->sorted) {
		qsort_r(a->idx, a->n, sizeof(*a->idx), idx_cmp, a->buf);
	}
	int rc = zdb_wtxn_begin(a->db, &txn);
	if (rc != 0) {
		return rc;
	}
	rc = zdb_mdb_err(mdb_cursor_open(txn, a->db->rr, &c), "mdb_cursor_open");
	for (size_t i = 0; rc == 0 && i < a->n;) {
		size_t j = i + 1;
		while (j < a->n && same_key(a->buf + a->idx[i], a->buf + a->idx[j])) {
			j++;
		}
		if (a->sorted && j - i > 1) {
			/* keys came in order; the RRs of one RRset need not */
			qsort_r(a->idx + i, j - i, sizeof(*a->idx), idx_cmp, a->buf);
		}
		rc = write_set(a, c, i, j);
		i = j;
	}
	if (rc != 0) {
		mdb_txn_abort(txn); /* closes the cursor of a write transaction */
		return rc;
	}
	mdb_cursor_close(c);
	rc = zdb_wtxn_commit(txn);
	a->n = 0;
	a->len = 0;
	a->sorted = true;
	return rc;
}

/* Check the class, and keep the apex SOA (one RDATA only). */
static int check_rr(struct zdb_axfr *a, const struct zdb_rr *rr, size_t keylen)
{
	if (!a->have_class) {
		a->rclass = rr->rclass;
		a->have_class = true;
	} else if (rr->rclass != a->rclass) {
		zdb_set_error("class %u differs from the zone's %u", rr->rclass, a->rclass);
		return ZX_EFORMAT;
	}
	if (rr->type != DNS_T_SOA || keylen != 1) {
		return 0;
	}
	struct dns_soa soa;
	if (rr->rdlen > ZDB_SOA_MAX || dnsmsg_soa_parse(rr->rdata, rr->rdlen, &soa) != 0) {
		zdb_set_error("SOA RDATA malformed");
		return ZX_EFORMAT;
	}
	if (a->have_soa) {
		if (zdb_rdata_cmp(a->soa, a->soa_rdlen, rr->rdata, rr->rdlen) != 0) {
			zdb_set_error("a second, different SOA at the apex");
			return ZX_EFORMAT;
		}
		return 0;
	}
	a->have_soa = true;
	a->soa_ttl = rr->ttl;
	a->soa_rdlen = rr->rdlen;
	memcpy(a->soa, rr->rdata, rr->rdlen);
	return 0;
}

int zdb_axfr_add(struct zdb_axfr *a, const struct zdb_rr *rr)
{
	assert(a != NULL && rr != NULL);
	if (a->err != 0) {
		return a->err;
	}
	uint8_t *e = a->buf + a->len;
	int klen = zdb_owner_key(&a->z, rr->owner, rr->owner_len, e + ENT_HDR + 4);
	if (klen < 0) {
		return klen;
	}
	int rc = check_rr(a, rr, (size_t)klen);
	if (rc != 0) {
		return rc;
	}
	zdb_be32(e + ENT_HDR, a->vid);
	zdb_be16(e + ENT_HDR + 4 + klen, rr->type == DNS_T_SOA ? 0 : rr->type);
	st16(e, (uint16_t)(klen + 6));
	st16(e + 2, rr->rdlen);
	zdb_be32(e + 4, rr->ttl);
	memcpy(e + ENT_HDR + klen + 6, rr->rdata, rr->rdlen);
	if (a->sorted && a->n > 0 && key_cmp(a->buf + a->idx[a->n - 1], e) > 0) {
		a->sorted = false;
	}
	a->idx[a->n++] = (uint32_t)a->len;
	a->len += ENT_HDR + (size_t)klen + 6 + rr->rdlen;
	if (a->n >= a->db->chunk_records || a->len >= a->db->chunk_bytes) {
		a->err = flush(a);
	}
	return a->err;
}

static void free_axfr(struct zdb_axfr *a)
{
	free(a->buf);
	free(a->idx);
	free(a->val);
	free(a);
}

/* The switch: zone record to the new version, old version DEAD, journal emptied. */
static int do_switch(struct zdb_axfr *a, MDB_txn *txn, int64_t now, const char *primary,
                     struct zdb_commit *res)
{
	struct zdb_zmeta m;
	struct dns_soa soa;
	int rc = zdb_meta_get(a->db, txn, &a->z, &m);
	if (rc == ZX_ENOTFOUND) {
		zdb_meta_new(&m, &a->z);
		rc = zdb_meta_alloc_zid(a->db, txn, &m);
	}
	if (rc == 0) {
		rc = zdb_journal_clear(a->db, txn, &m);
	}
	if (rc == 0 && m.r.vid != 0) {
		rc = zdb_version_put(a->db, txn, m.r.vid, ZDB_V_DEAD, &a->z);
	}
	if (rc == 0) {
		rc = zdb_version_del(a->db, txn, a->vid);
	}
	if (rc != 0 || dnsmsg_soa_parse(a->soa, a->soa_rdlen, &soa) != 0) {
		return rc != 0 ? rc : ZX_EFORMAT;
	}
	*res = (struct zdb_commit){.had_serial = m.r.loaded != 0, .old_serial = m.r.serial,
	                           .serial = soa.serial, .records = a->records};
	m.r.loaded = 1;
	m.r.vid = a->vid;
	m.r.rclass = a->rclass;
	m.r.serial = soa.serial;
	m.r.soa_ttl = a->soa_ttl;
	m.r.soa_rdlen = a->soa_rdlen;
	memcpy(m.soa, a->soa, a->soa_rdlen);
	m.r.records = a->records;
	m.r.state = ZDB_STATE_FRESH;
	m.r.last_success = m.r.last_attempt = now;
	m.r.last_error = 0;
	m.errtext[0] = '\0';
	if (primary != NULL) {
		zdb_meta_set_text(m.primary, sizeof(m.primary), primary);
	}
	return zdb_meta_put(a->db, txn, &m);
}

int zdb_axfr_commit(struct zdb_axfr *a, int64_t now, const char *primary, struct zdb_commit *res)
{
	assert(a != NULL);
	MDB_txn *txn;
	struct zdb_commit r;
	int rc = a->err != 0 ? a->err : flush(a);
	if (rc == 0 && !a->have_soa) {
		zdb_set_error("no SOA at the zone apex");
		rc = ZX_EFORMAT;
	}
	if (rc == 0) {
		rc = zdb_wtxn_begin(a->db, &txn);
		if (rc == 0) {
			rc = do_switch(a, txn, now, primary, &r);
			rc = rc == 0 ? zdb_wtxn_commit(txn) : (mdb_txn_abort(txn), rc);
		}
	}
	if (rc != 0) {
		a->err = rc;
		zdb_axfr_abort(a);
		return rc;
	}
	if (res != NULL) {
		*res = r;
	}
	free_axfr(a);
	return 0;
}

void zdb_axfr_abort(struct zdb_axfr *a)
{
	MDB_txn *txn;
	if (a == NULL) {
		return;
	}
	/* On failure the version stays WRITING and the next zdb_open() drops it. */
	if (zdb_wtxn_begin(a->db, &txn) == 0) {
		if (zdb_version_put(a->db, txn, a->vid, ZDB_V_DEAD, &a->z) == 0) {
			(void)zdb_wtxn_commit(txn);
		} else {
			mdb_txn_abort(txn);
		}
	}
	free_axfr(a);
}
