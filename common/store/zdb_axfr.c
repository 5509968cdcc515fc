/* SPDX-License-Identifier: MIT */
/* common/store/zdb_axfr.c -- a full zone transfer written as a new version, in chunks.
 *
 * RRs are copied into a buffer of at most chunk_bytes / chunk_records.
 *
 * A zone that fits in one chunk (most zones) is written at zdb_axfr_commit() in
 * ONE write transaction: a version id is allocated, the records are put, the
 * zone record switched to the new version and the old version marked DEAD, all
 * in the same commit (one disk sync). Nothing is written before: a crash or an
 * abort leaves nothing behind, and readers see the zone before or after. The
 * buffered entries carry version id 0 until then; the id is stamped into their
 * keys just before they are written (keys keep their order: one id for all).
 *
 * Commits of such zones from several threads that overlap are made in groups
 * (commit_one()): one transaction, one sync, for the oldest waiting zones up to one
 * chunk's worth; when a group fails, each of its zones is committed alone.
 *
 * A zone larger than one chunk falls over, when the first chunk is full, to the
 * chunked path: the new version is recorded WRITING in a small commit (so a crash
 * leaves it to zdb_open() to delete), the full buffer is stamped with its id, and
 * each full buffer is written in one short write transaction (so the write lock
 * is held for one chunk's worth of B-tree work, never while waiting for the
 * network); the last chunk and the switch are one more commit.
 *
 * Writing a chunk: the entries are sorted by (key, RDATA) unless their keys came
 * in order (then only each RRset's RRs are sorted; the usual case: Knot, BIND and
 * NSD send zones in canonical order),
 * grouped into RRsets, and each RRset is put with MDB_APPEND when its key is
 * past every key written so far (the new version has the highest version id,
 * so its keys go at the end of the B-tree: no page splits in the middle, full
 * pages). A key not past the last one written may exist already (an RRset split
 * across messages, or RRs out of order): it is read and merged.
 *
 * Pipelining: a zone larger than one chunk gets a writer thread of its own. Chunk
 * N is written there while chunk N+1 is filled from the network, so the B-tree
 * work and the disk sync overlap the transfer; the filler waits only when both
 * chunks are full. Chunks are written one at a time and in order, the write
 * transaction begins and commits in the writer thread (LMDB's rule), and a
 * chunk's error is returned by a later zdb_axfr_add() or by zdb_axfr_commit().
 */
#include "common/store/zdb.h"
#include "common/store/zdb_internal.h"
#include "common/dnsmsg.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An entry in the buffer: u16 key length, u16 RDLENGTH, u32 TTL (BE), key, RDATA. */
#define ENT_HDR 8

/* A buffer of entries, written as one chunk. */
struct chunk {
	uint8_t *buf; /**< entries */
	size_t len;
	uint32_t *idx; /**< entry offsets, in arrival order */
	size_t n;
	bool sorted; /**< entries arrived in key order (RDATA in any order) */
};

struct zdb_axfr {
	struct zdb *db;
	struct zdb_zname z;
	uint32_t vid;
	uint16_t rclass;
	bool have_class, have_soa;
	uint32_t soa_ttl;
	uint16_t soa_rdlen;
	uint8_t soa[ZDB_SOA_MAX];
	struct chunk chunks[2];
	struct chunk *fill;  /**< being filled by zdb_axfr_add() */
	struct chunk *spare; /**< free, or being written by the writer thread */
	/* touched by whoever writes a chunk (one at a time) */
	uint8_t *val; /**< scratch for one RRset value */
	size_t val_cap;
	uint8_t last_key[ZDB_KEY_MAX]; /**< greatest key written to this version */
	size_t last_key_len;
	bool append; /**< MDB_APPEND still works (no higher key in the B-tree) */
	uint64_t records;
	struct zdb_hasher h; /**< the version's checksum, RRset by RRset as written */
	struct zdb_sum sum;
	enum zdb_serial_rule rule;
	bool follow; /* a follower's copy: FOLLOWED instead of COMMITTED */
	atomic_int err; /**< sticky: a chunk failed */
	char errmsg[512]; /**< the writer thread's zdb_last_error() for err */
	/* the writer thread, started at the first full chunk */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t writer;
	bool started, busy, stop;
	/* the group commit (one-chunk AXFRs; under db->grp_mu) */
	pthread_cond_t grp_cv; /* signalled when done, or when first in line to lead */
	struct zdb_axfr *grp_next;
	int64_t grp_now;
	const char *grp_primary;
	struct zdb_commit grp_res;
	int grp_rc;
	bool grp_done;
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

static int chunk_init(struct chunk *c, const struct zdb *db)
{
	c->buf = malloc(db->chunk_bytes + ENT_HDR + ZDB_KEY_MAX + 65535);
	c->idx = malloc(sizeof(*c->idx) * db->chunk_records);
	c->sorted = true;
	return c->buf == NULL || c->idx == NULL ? ZX_ENOMEM : 0;
}

/* Write version id @p vid into the key of every entry of @p ch (buffered with id 0). */
static void stamp_vid(struct chunk *ch, uint32_t vid)
{
	for (size_t i = 0; i < ch->n; i++) {
		zdb_be32(ch->buf + ch->idx[i] + ENT_HDR, vid);
	}
}

static void free_axfr(struct zdb_axfr *a)
{
	for (int i = 0; i < 2; i++) {
		free(a->chunks[i].buf);
		free(a->chunks[i].idx);
	}
	free(a->val);
	zdb_hasher_deinit(&a->h);
	pthread_mutex_destroy(&a->mu);
	pthread_cond_destroy(&a->cv);
	pthread_cond_destroy(&a->grp_cv);
	free(a);
}

/* The version record, WRITING, in its own small commit. */
static int new_version(struct zdb_axfr *a)
{
	MDB_txn *txn;
	int rc = zdb_wtxn_begin(a->db, &txn);
	if (rc != 0) {
		return rc;
	}
	rc = zdb_counter_next(a->db, txn, "next_vid", &a->vid);
	if (rc == 0) {
		rc = zdb_version_put(a->db, txn, a->vid, ZDB_V_WRITING, &a->z);
	}
	if (rc != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	return zdb_wtxn_commit(txn);
}

int zdb_axfr_begin(struct zdb *db, const uint8_t *zone, struct zdb_axfr **out)
{
	assert(db != NULL && out != NULL);
	struct zdb_axfr *a = calloc(1, sizeof(*a));
	if (a == NULL) {
		return ZX_ENOMEM;
	}
	a->db = db;
	a->append = true;
	a->fill = &a->chunks[0];
	a->spare = &a->chunks[1];
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	pthread_cond_init(&a->grp_cv, NULL);
	int rc = 0;
	if (db->readonly) {
		zdb_set_error("the store is open read-only");
		rc = ZX_EINVAL;
	}
	if (rc == 0) {
		rc = zdb_zname_init(&a->z, zone);
	}
	if (rc == 0) {
		rc = chunk_init(&a->chunks[0], db);
	}
	if (rc == 0) {
		rc = chunk_init(&a->chunks[1], db);
	}
	if (rc == 0) {
		rc = zdb_hasher_init(&a->h);
	}
	if (rc != 0) {
		free_axfr(a);
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
static size_t merge_set(struct zdb_axfr *a, const struct chunk *ch, size_t i, size_t j,
                        const uint8_t *old, size_t oldlen, uint64_t *added)
{
	size_t o = 0, op = 0;
	const uint8_t *prev = NULL;
	size_t prevlen = 0;
	*added = 0;
	while (i < j || op < oldlen) {
		const uint8_t *e = i < j ? ch->buf + ch->idx[i] : NULL;
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

/*
 * Write one RRset (entries idx[i..j) of @p ch, one key) through cursor @p c.
 * A key past the last one written is new: appended. One before it may exist (an
 * RRset split across chunks): tried as new with MDB_NOOVERWRITE, one B-tree
 * search for the usual case; when it exists, LMDB hands back its value to merge.
 */
static int write_set(struct zdb_axfr *a, const struct chunk *ch, MDB_cursor *c, size_t i,
                     size_t j)
{
	const uint8_t *e = ch->buf + ch->idx[i];
	MDB_val k = {ld16(e), (void *)ent_key(e)};
	size_t need = 0;
	for (size_t x = i; x < j; x++) {
		need += 6 + ld16(ch->buf + ch->idx[x] + 2);
	}
	bool fresh = zdb_rdata_cmp(k.mv_data, k.mv_size, a->last_key, a->last_key_len) > 0;
	int rc = grow_val(a, need);
	if (rc != 0) {
		return rc;
	}
	uint64_t added;
	MDB_val nv = {merge_set(a, ch, i, j, NULL, 0, &added), a->val};
	int mrc = MDB_KEYEXIST;
	if (fresh && a->append) {
		mrc = mdb_cursor_put(c, &k, &nv, MDB_APPEND);
		a->append = mrc != MDB_KEYEXIST; /* a higher key exists: another version */
	}
	if (mrc == MDB_KEYEXIST) {
		mrc = mdb_cursor_put(c, &k, &nv, fresh ? 0 : MDB_NOOVERWRITE);
	}
	if (mrc == MDB_KEYEXIST) {
		/* nv is the stored RRset now (in the page): merge into a->val, write back */
		rc = grow_val(a, need + nv.mv_size);
		if (rc != 0) {
			return rc;
		}
		zdb_sum_set(&a->h, &a->sum, -1, k.mv_data, k.mv_size, nv.mv_data, nv.mv_size);
		nv = (MDB_val){merge_set(a, ch, i, j, nv.mv_data, nv.mv_size, &added), a->val};
		mrc = mdb_cursor_put(c, &k, &nv, 0);
	}
	if (mrc != 0) {
		return zdb_mdb_err(mrc, "mdb_cursor_put rr");
	}
	zdb_sum_set(&a->h, &a->sum, 1, k.mv_data, k.mv_size, nv.mv_data, nv.mv_size);
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

/* Sort the entries of @p ch unless their keys came in order (before the write lock). */
static void chunk_sort(struct chunk *ch)
{
	if (!ch->sorted) {
		qsort_r(ch->idx, ch->n, sizeof(*ch->idx), idx_cmp, ch->buf);
	}
}

/* Write the entries of @p ch (chunk_sort() done) into the open write transaction @p txn. */
static int write_chunk(struct zdb_axfr *a, struct chunk *ch, MDB_txn *txn)
{
	MDB_cursor *c;
	int rc = zdb_mdb_err(mdb_cursor_open(txn, a->db->rr, &c), "mdb_cursor_open");
	for (size_t i = 0; rc == 0 && i < ch->n;) {
		size_t j = i + 1;
		while (j < ch->n && same_key(ch->buf + ch->idx[i], ch->buf + ch->idx[j])) {
			j++;
		}
		if (ch->sorted && j - i > 1) {
			/* keys came in order; the RRs of one RRset need not */
			qsort_r(ch->idx + i, j - i, sizeof(*ch->idx), idx_cmp, ch->buf);
		}
		rc = write_set(a, ch, c, i, j);
		i = j;
	}
	if (rc == 0) {
		mdb_cursor_close(c); /* on error mdb_txn_abort() closes it */
	}
	return rc;
}

/* Write @p ch in a transaction of its own (the chunked path). */
static int flush(struct zdb_axfr *a, struct chunk *ch)
{
	MDB_txn *txn;
	if (ch->n == 0) {
		return 0;
	}
	chunk_sort(ch);
	int rc = zdb_wtxn_begin(a->db, &txn);
	if (rc != 0) {
		return rc;
	}
	rc = write_chunk(a, ch, txn);
	if (rc != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	rc = zdb_wtxn_commit(txn);
	ch->n = 0;
	ch->len = 0;
	ch->sorted = true;
	return rc;
}

/* ---------------------------------------------------------------- the writer thread */

static void *writer_main(void *arg)
{
	struct zdb_axfr *a = arg;
	pthread_mutex_lock(&a->mu);
	for (;;) {
		while (!a->busy && !a->stop) {
			pthread_cond_wait(&a->cv, &a->mu);
		}
		if (!a->busy) {
			break;
		}
		pthread_mutex_unlock(&a->mu);
		int rc = atomic_load(&a->err) != 0 ? 0 : flush(a, a->spare);
		pthread_mutex_lock(&a->mu);
		if (rc != 0) {
			snprintf(a->errmsg, sizeof(a->errmsg), "%s", zdb_last_error());
			atomic_store(&a->err, rc);
		}
		a->busy = false;
		pthread_cond_broadcast(&a->cv);
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

/* The writer's error, with its text made this thread's zdb_last_error(). */
static int writer_err(struct zdb_axfr *a)
{
	int rc = atomic_load(&a->err);
	if (rc != 0 && a->errmsg[0] != '\0') {
		zdb_set_error("%s", a->errmsg);
	}
	return rc;
}

/*
 * The first chunk is full: fall over to the chunked path. The version is recorded
 * WRITING (its own commit) and the buffered entries get its id.
 */
static int fall_over(struct zdb_axfr *a)
{
	int rc = new_version(a);
	if (rc != 0) {
		a->vid = 0; /* the counter's increment was not committed */
		return rc;
	}
	stamp_vid(a->fill, a->vid);
	return 0;
}

/* Hand the full chunk to the writer (started on first use) and fill the other one. */
static int handoff(struct zdb_axfr *a)
{
	int rc = a->vid == 0 ? fall_over(a) : 0;
	if (rc != 0) {
		atomic_store(&a->err, rc); /* a is usable only for zdb_axfr_abort() now */
		return rc;
	}
	pthread_mutex_lock(&a->mu);
	while (a->busy) {
		pthread_cond_wait(&a->cv, &a->mu);
	}
	if (!a->started) {
		rc = pthread_create(&a->writer, NULL, writer_main, a) == 0 ? 0 : ZX_ENOMEM;
		a->started = rc == 0;
	}
	if (rc == 0) {
		struct chunk *full = a->fill;
		a->fill = a->spare;
		a->spare = full;
		a->busy = true;
		pthread_cond_broadcast(&a->cv);
	}
	pthread_mutex_unlock(&a->mu);
	return rc != 0 ? rc : writer_err(a);
}

/* Let the writer finish the chunk in hand and end it; the caller writes from now on. */
static void writer_stop(struct zdb_axfr *a)
{
	if (!a->started) {
		return;
	}
	pthread_mutex_lock(&a->mu);
	a->stop = true;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
	pthread_join(a->writer, NULL);
	a->started = false;
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
	int rc = writer_err(a);
	if (rc != 0) {
		return rc;
	}
	struct chunk *ch = a->fill;
	uint8_t *e = ch->buf + ch->len;
	int klen = zdb_owner_key(&a->z, rr->owner, rr->owner_len, e + ENT_HDR + 4);
	if (klen < 0) {
		return klen;
	}
	rc = zdb_rr_check(rr);
	if (rc == 0) {
		rc = check_rr(a, rr, (size_t)klen);
	}
	if (rc != 0) {
		return rc;
	}
	zdb_be32(e + ENT_HDR, a->vid);
	zdb_be16(e + ENT_HDR + 4 + klen, rr->type == DNS_T_SOA ? 0 : rr->type);
	st16(e, (uint16_t)(klen + 6));
	st16(e + 2, rr->rdlen);
	zdb_be32(e + 4, rr->ttl);
	memcpy(e + ENT_HDR + klen + 6, rr->rdata, rr->rdlen);
	if (ch->sorted && ch->n > 0 && key_cmp(ch->buf + ch->idx[ch->n - 1], e) > 0) {
		ch->sorted = false;
	}
	ch->idx[ch->n++] = (uint32_t)ch->len;
	ch->len += ENT_HDR + (size_t)klen + 6 + rr->rdlen;
	if (ch->n >= a->db->chunk_records || ch->len >= a->db->chunk_bytes) {
		rc = handoff(a);
	}
	return rc;
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
		rc = zdb_version_put(a->db, txn, m.r.vid,
		                     m.r.corrupt_vid == m.r.vid ? ZDB_V_CORRUPT : ZDB_V_DEAD, &a->z);
	}
	if (rc == 0) {
		rc = zdb_version_del(a->db, txn, a->vid);
	}
	if (rc != 0 || dnsmsg_soa_parse(a->soa, a->soa_rdlen, &soa) != 0) {
		return rc != 0 ? rc : ZX_EFORMAT;
	}
	rc = zdb_serial_allowed(&m, soa.serial, a->rule); /* in the switch's transaction */
	if (rc != 0) {
		return rc;
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
	m.r.sum = a->sum;
	struct zdb_event_info info = {.primary = primary, .new_version = true};
	rc = zdb_meta_apply(&m, true, a->follow ? ZDB_EV_FOLLOWED : ZDB_EV_COMMITTED, now, &info);
	return rc != 0 ? rc : zdb_meta_put(a->db, txn, &m);
}

/*
 * The one-commit path (the zone fit in one chunk), into the open @p txn: a version
 * id, the records, the switch. Can run again in another transaction (what writing
 * accumulates is reset).
 */
static int one_in_txn(struct zdb_axfr *a, MDB_txn *txn)
{
	a->records = 0;
	a->sum = (struct zdb_sum){{0, 0}};
	a->last_key_len = 0;
	a->append = true;
	int rc = zdb_counter_next(a->db, txn, "next_vid", &a->vid);
	if (rc == 0) {
		stamp_vid(a->fill, a->vid);
		rc = write_chunk(a, a->fill, txn);
	}
	if (rc == 0) {
		rc = do_switch(a, txn, a->grp_now, a->grp_primary, &a->grp_res);
	}
	return rc;
}

/* One AXFR in a transaction of its own. On failure nothing was written. */
static int commit_alone(struct zdb_axfr *a)
{
	MDB_txn *txn;
	int rc = zdb_wtxn_begin(a->db, &txn);
	if (rc == 0) {
		rc = one_in_txn(a, txn);
		rc = rc == 0 ? zdb_wtxn_commit(txn) : (mdb_txn_abort(txn), rc);
	}
	if (rc != 0) {
		a->vid = 0; /* not allocated after all: zdb_axfr_abort() has nothing to drop */
		snprintf(a->errmsg, sizeof(a->errmsg), "%s", zdb_last_error());
	}
	return rc;
}

/*
 * Commit the group @p g (linked by grp_next) in one transaction: one disk sync for
 * all. When any part fails, each is committed alone, so an error is its zone's own.
 */
static void commit_group(struct zdb_axfr *g)
{
	MDB_txn *txn;
	bool together = false;
	if (g->grp_next != NULL && zdb_wtxn_begin(g->db, &txn) == 0) {
		int rc = 0;
		for (struct zdb_axfr *b = g; rc == 0 && b != NULL; b = b->grp_next) {
			rc = one_in_txn(b, txn);
		}
		rc = rc == 0 ? zdb_wtxn_commit(txn) : (mdb_txn_abort(txn), rc);
		together = rc == 0;
	}
	for (struct zdb_axfr *b = g; b != NULL; b = b->grp_next) {
		b->grp_rc = together ? 0 : commit_alone(b);
	}
}

/*
 * Under db->grp_mu: the next group, the oldest waiting AXFRs up to one chunk's
 * worth together (so the write lock is held no longer than for a chunk).
 */
static struct zdb_axfr *grp_take(struct zdb *db)
{
	struct zdb_axfr *g = db->grp_head, *last = g;
	size_t bytes = g->fill->len, n = g->fill->n;
	while (last->grp_next != NULL && bytes + last->grp_next->fill->len <= db->chunk_bytes &&
	       n + last->grp_next->fill->n <= db->chunk_records) {
		last = last->grp_next;
		bytes += last->fill->len;
		n += last->fill->n;
	}
	db->grp_head = last->grp_next;
	if (db->grp_head == NULL) {
		db->grp_tail = NULL;
	}
	last->grp_next = NULL;
	return g;
}

/*
 * The one-commit path. An AXFR joins the queue; whoever finds no group being
 * committed takes the oldest waiting (grp_take()) and commits them as one group
 * (a leader; the others wait): with several threads committing, one disk sync
 * serves several zones. Each caller returns only once its own zone is committed.
 * Each waiter sleeps on its own condition variable, woken when its group is done
 * or when it is first in line to lead: a shared one woke every waiter at every
 * group, and the futex calls and context switches cost more than the syncs saved.
 */
static int commit_one(struct zdb_axfr *a, int64_t now, const char *primary,
                      struct zdb_commit *r)
{
	struct zdb *db = a->db;
	a->grp_now = now;
	a->grp_primary = primary;
	a->grp_done = false;
	a->grp_next = NULL;
	a->errmsg[0] = '\0';
	chunk_sort(a->fill); /* here, in parallel, not under the write lock */
	pthread_mutex_lock(&db->grp_mu);
	*(db->grp_tail != NULL ? &db->grp_tail->grp_next : &db->grp_head) = a;
	db->grp_tail = a;
	while (!a->grp_done) {
		if (db->grp_busy) {
			pthread_cond_wait(&a->grp_cv, &db->grp_mu);
			continue;
		}
		struct zdb_axfr *g = grp_take(db);
		db->grp_busy = true;
		pthread_mutex_unlock(&db->grp_mu);
		commit_group(g);
		pthread_mutex_lock(&db->grp_mu);
		for (struct zdb_axfr *b = g, *next; b != NULL; b = next) {
			next = b->grp_next;
			b->grp_done = true; /* b's caller may free it once the lock is released */
			if (b != a) {
				pthread_cond_signal(&b->grp_cv);
			}
		}
		db->grp_busy = false;
		if (db->grp_head != NULL) { /* the next leader */
			pthread_cond_signal(&db->grp_head->grp_cv);
		}
	}
	pthread_mutex_unlock(&db->grp_mu);
	if (a->grp_rc != 0) {
		zdb_set_error("%s", a->errmsg);
		return a->grp_rc;
	}
	*r = a->grp_res;
	return 0;
}

/* The chunked path: the last chunk in its own commit, then the switch. */
static int commit_chunked(struct zdb_axfr *a, int64_t now, const char *primary,
                          struct zdb_commit *r)
{
	MDB_txn *txn;
	int rc = flush(a, a->fill);
	if (rc == 0) {
		rc = zdb_wtxn_begin(a->db, &txn);
	}
	if (rc == 0) {
		rc = do_switch(a, txn, now, primary, r);
		rc = rc == 0 ? zdb_wtxn_commit(txn) : (mdb_txn_abort(txn), rc);
	}
	return rc;
}

int zdb_axfr_commit(struct zdb_axfr *a, int64_t now, const char *primary, struct zdb_commit *res)
{
	assert(a != NULL);
	struct zdb_commit r;
	writer_stop(a);
	int rc = writer_err(a);
	if (rc == 0 && !a->have_soa) {
		zdb_set_error("no SOA at the zone apex");
		rc = ZX_EFORMAT;
	}
	if (rc == 0) {
		rc = a->vid == 0 ? commit_one(a, now, primary, &r)
		                 : commit_chunked(a, now, primary, &r);
	}
	if (rc != 0) {
		zdb_axfr_abort(a);
		return rc;
	}
	if (res != NULL) {
		*res = r;
	}
	if (r.had_serial) {
		zdb_gc_kick(a->db); /* the old version is DEAD now */
	}
	free_axfr(a);
	return 0;
}

void zdb_axfr_set_rule(struct zdb_axfr *a, enum zdb_serial_rule rule)
{
	assert(a != NULL);
	a->rule = rule;
}

void zdb_axfr_abort(struct zdb_axfr *a)
{
	MDB_txn *txn;
	if (a == NULL) {
		return;
	}
	writer_stop(a);
	/* On failure the version stays WRITING and the next zdb_open() drops it. */
	if (a->vid != 0 && zdb_wtxn_begin(a->db, &txn) == 0) {
		if (zdb_version_put(a->db, txn, a->vid, ZDB_V_DEAD, &a->z) == 0) {
			if (zdb_wtxn_commit(txn) == 0) {
				zdb_gc_kick(a->db);
			}
		} else {
			mdb_txn_abort(txn);
		}
	}
	free_axfr(a);
}

void zdb_axfr_set_follow(struct zdb_axfr *a)
{
	a->follow = true;
}
