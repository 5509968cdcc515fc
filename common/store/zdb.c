/* SPDX-License-Identifier: MIT */
/* common/store/zdb.c -- the zone store: opening, error mapping, keys, zone records, counters.
 *
 * The layout is in zdb_internal.h; reading is in zdb_read.c, AXFR in
 * zdb_axfr.c, IXFR and the journal in zdb_ixfr.c, state and garbage
 * collection in zdb_state.c.
 */
#include "common/store/zdb.h"
#include "common/store/zdb_internal.h"
#include "common/rdata.h"
#include "common/serial.h"

#include <assert.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

static _Thread_local char errbuf[512];

const char *zdb_last_error(void)
{
	return errbuf;
}

void zdb_set_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
}

/* The one place MDB_* and errno values from LMDB become ZX_* codes. */
int zdb_mdb_err(int rc, const char *what)
{
	if (rc == 0) {
		return 0;
	}
	zdb_set_error("%s: %s", what, mdb_strerror(rc));
	switch (rc) {
	case MDB_NOTFOUND:
		return ZX_ENOTFOUND;
	case MDB_KEYEXIST:
		return ZX_EEXIST;
	case MDB_MAP_FULL:
		zdb_set_error("%s: %s (the store is full: raise xfrd store-size)", what,
		              mdb_strerror(rc));
		return ZX_ESTOREFULL;
	case ENOSPC:
	case EDQUOT:
		zdb_set_error("%s: %s (the filesystem holding the store is full)", what,
		              mdb_strerror(rc));
		return ZX_ENOSPC;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
		zdb_set_error("%s: %s (the store's file is damaged)", what, mdb_strerror(rc));
		return ZX_ECORRUPT;
	case MDB_TXN_FULL:
	case MDB_READERS_FULL:
	case MDB_DBS_FULL:
	case MDB_CURSOR_FULL:
	case MDB_PAGE_FULL:
		return ZX_ELIMIT;
	case ENOMEM:
		return ZX_ENOMEM;
	case ENOENT:
		return ZX_ENOENT;
	case EAGAIN:
		return ZX_EAGAIN;
	default:
		break;
	}
	if (rc > 0 && rc < MDB_KEYEXIST) {
		return ZX_EIO; /* errno from the filesystem */
	}
	return ZX_ESTORE; /* panic, version mismatch, invalid, bad txn/dbi */
}

void zdb_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void zdb_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void zdb_be64(uint8_t *p, uint64_t v)
{
	zdb_be32(p, (uint32_t)(v >> 32));
	zdb_be32(p + 4, (uint32_t)v);
}

uint16_t zdb_rd16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

uint32_t zdb_rd32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* RDATA as unsigned octet strings, the shorter first when one is a prefix (RFC 4034 6.3). */
int zdb_rdata_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);
	if (c != 0) {
		return c;
	}
	return (alen > blen) - (alen < blen);
}

/* ---------------------------------------------------------------- checks */

int zdb_rr_check(const struct zdb_rr *rr)
{
	const char *why = NULL;
	if (rdata_check(rr->type, rr->rdata, rr->rdlen, &why) == 0) {
		return 0;
	}
	char owner[DNAME_TEXTLEN], type[RDATA_TYPE_NAMELEN];
	if (dname_to_text(rr->owner, owner, sizeof(owner)) != 0) {
		snprintf(owner, sizeof(owner), "?");
	}
	zdb_set_error("%s %s: RDATA malformed (%s; RDLENGTH %u)", owner,
	              rdata_type_name(rr->type, type), why, rr->rdlen);
	return ZX_EFORMAT;
}

int zdb_serial_allowed(const struct zdb_zmeta *m, uint32_t next, enum zdb_serial_rule rule)
{
	if (!m->r.loaded) {
		return 0;
	}
	enum serial_order o = serial_cmp(next, m->r.serial);
	bool corrupt = m->r.corrupt_vid != 0 && m->r.corrupt_vid == m->r.vid;
	if (o == SERIAL_GT || rule == ZDB_SERIAL_ANY ||
	    (o == SERIAL_EQ && (rule == ZDB_SERIAL_SAME || corrupt))) {
		return 0;
	}
	zdb_set_error("serial %u is %s the stored serial %u (RFC 1982); refused", next,
	              o == SERIAL_EQ ? "the same as" : o == SERIAL_LT ? "older than"
	                                                              : "not comparable with",
	              m->r.serial);
	return ZX_ESERIAL;
}

/* ---------------------------------------------------------------- keys */

static inline uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/* Offsets of the labels of a valid name; returns the number of labels (root not counted). */
static int label_offsets(const uint8_t *name, uint8_t off[DNAME_MAXLEN / 2 + 1])
{
	int n = 0;
	size_t p = 0;
	while (name[p] != 0) {
		off[n++] = (uint8_t)p;
		p += (size_t)name[p] + 1;
	}
	return n;
}

/* Encode labels [0, n) of @p name right to left (see zdb_internal.h); returns the length. */
static int encode_labels(const uint8_t *name, const uint8_t *off, int n, uint8_t *key)
{
	int k = 0;
	for (int i = n - 1; i >= 0; i--) {
		const uint8_t *l = name + off[i];
		for (int j = 1; j <= l[0]; j++) {
			uint8_t c = lower(l[j]);
			if (c <= 1) {
				key[k++] = 1;
				key[k++] = (uint8_t)(c + 1);
			} else {
				key[k++] = c;
			}
		}
		key[k++] = 0;
	}
	key[k++] = 0;
	return k;
}

int zdb_zone_key(const uint8_t *name, size_t len, uint8_t *key)
{
	uint8_t off[DNAME_MAXLEN / 2 + 1];
	(void)len;
	int n = label_offsets(name, off);
	return encode_labels(name, off, n, key);
}

int zdb_zname_init(struct zdb_zname *z, const uint8_t *zone)
{
	if (zone == NULL) {
		return ZX_EINVAL;
	}
	int len = dname_wire_len(zone, DNAME_MAXLEN);
	if (len < 0) {
		zdb_set_error("zone name: %s", zx_strerror(len));
		return ZX_EINVAL;
	}
	memcpy(z->wire, zone, (size_t)len);
	dname_lower(z->wire);
	z->len = (size_t)len;
	z->labels = dname_labels(z->wire);
	return 0;
}

/*
 * The owner key of @p owner in zone @p z; checks the name, its length and
 * that it lies in the zone. Returns the key length or ZX_EFORMAT.
 */
int zdb_owner_key(const struct zdb_zname *z, const uint8_t *owner, size_t owner_len,
                  uint8_t *key)
{
	if (owner == NULL || owner_len < z->len ||
	    dname_wire_len(owner, owner_len) != (int)owner_len) {
		zdb_set_error("owner: not a valid name of the given length");
		return ZX_EFORMAT;
	}
	uint8_t off[DNAME_MAXLEN / 2 + 1];
	int n = label_offsets(owner, off);
	int rel = n - z->labels;
	size_t suffix = rel < 0 ? 0 : (rel == n ? owner_len - 1 : off[rel]);
	if (rel < 0 || owner_len - suffix != z->len) {
		goto outside;
	}
	for (size_t i = 0; i < z->len; i++) {
		if (lower(owner[suffix + i]) != z->wire[i]) {
			goto outside;
		}
	}
	return encode_labels(owner, off, rel, key);

outside:
	zdb_set_error("owner: outside the zone");
	return ZX_EFORMAT;
}

/* Rebuild the full owner name from an owner key; returns its wire length or ZX_ESTORE. */
int zdb_owner_decode(const struct zdb_zname *z, const uint8_t *key, size_t len, uint8_t *owner)
{
	size_t start[DNAME_MAXLEN / 2 + 1], n = 0, p = 0;
	size_t total = z->len;
	while (p < len && key[p] != 0) {
		start[n++] = p;
		size_t ll = 0;
		while (p < len && key[p] != 0) {
			p += key[p] == 1 ? 2 : 1;
			ll++;
		}
		if (p >= len || ll > 63 || n > DNAME_MAXLEN / 2) {
			return ZX_ESTORE;
		}
		total += ll + 1;
		p++;
	}
	if (p >= len || total > DNAME_MAXLEN) {
		return ZX_ESTORE;
	}
	size_t o = 0;
	for (size_t i = n; i-- > 0;) {
		size_t q = start[i], lenpos = o++;
		while (key[q] != 0) {
			owner[o++] = key[q] == 1 ? (uint8_t)(key[q + 1] - 1) : key[q];
			q += key[q] == 1 ? 2 : 1;
		}
		owner[lenpos] = (uint8_t)(o - lenpos - 1);
	}
	memcpy(owner + o, z->wire, z->len);
	return (int)(o + z->len);
}

/* ---------------------------------------------------------------- transactions */

int zdb_wtxn_begin(struct zdb *db, MDB_txn **txn)
{
	if (db->readonly) {
		zdb_set_error("the store is open read-only");
		return ZX_EINVAL;
	}
	return zdb_mdb_err(mdb_txn_begin(db->env, NULL, 0, txn), "mdb_txn_begin");
}

/*
 * LMDB reports a short write as EIO (mdb_page_flush(): "TODO: Use which error
 * code?"), which is how a full filesystem shows (tmpfs, ext4 near full: pwrite
 * writes what fits). EIO with the store's filesystem out of space is ENOSPC.
 */
static bool disk_full(MDB_env *env)
{
	const char *path = NULL;
	struct statvfs sv;
	if (mdb_env_get_path(env, &path) != 0 || path == NULL || statvfs(path, &sv) != 0) {
		return false;
	}
	return (uint64_t)sv.f_bavail * sv.f_frsize < 16u * 4096u; /* under four pages left */
}

int zdb_wtxn_commit(MDB_txn *txn)
{
	MDB_env *env = mdb_txn_env(txn);
	int rc = mdb_txn_commit(txn);
	if (rc == EIO && disk_full(env)) {
		rc = ENOSPC;
	}
	return zdb_mdb_err(rc, "mdb_txn_commit");
}

int zdb_counter_next(struct zdb *db, MDB_txn *txn, const char *name, uint32_t *out)
{
	MDB_val k = {strlen(name), (void *)name}, v;
	uint32_t cur = 1;
	int rc = mdb_get(txn, db->meta, &k, &v);
	if (rc == 0 && v.mv_size == sizeof(cur)) {
		memcpy(&cur, v.mv_data, sizeof(cur));
	} else if (rc != MDB_NOTFOUND) {
		return rc == 0 ? ZX_ESTORE : zdb_mdb_err(rc, "mdb_get counter");
	}
	uint32_t next = cur + 1;
	v = (MDB_val){sizeof(next), &next};
	rc = zdb_mdb_err(mdb_put(txn, db->meta, &k, &v, 0), "mdb_put counter");
	if (rc == 0) {
		*out = cur;
	}
	return rc;
}

int zdb_version_put(struct zdb *db, MDB_txn *txn, uint32_t vid, enum zdb_vstate st,
                    const struct zdb_zname *z)
{
	uint8_t kb[4], vb[1 + DNAME_MAXLEN];
	zdb_be32(kb, vid);
	vb[0] = (uint8_t)st;
	memcpy(vb + 1, z->wire, z->len);
	MDB_val k = {sizeof(kb), kb}, v = {1 + z->len, vb};
	return zdb_mdb_err(mdb_put(txn, db->versions, &k, &v, 0), "mdb_put version");
}

int zdb_version_del(struct zdb *db, MDB_txn *txn, uint32_t vid)
{
	uint8_t kb[4];
	zdb_be32(kb, vid);
	MDB_val k = {sizeof(kb), kb};
	int rc = mdb_del(txn, db->versions, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : zdb_mdb_err(rc, "mdb_del version");
}

/* ---------------------------------------------------------------- zone records */

void zdb_meta_set_text(char *dst, size_t size, const char *src)
{
	size_t n = src == NULL ? 0 : strnlen(src, size - 1);
	if (n > 0) {
		memcpy(dst, src, n);
	}
	dst[n] = '\0';
}

void zdb_meta_new(struct zdb_zmeta *m, const struct zdb_zname *z)
{
	memset(&m->r, 0, sizeof(m->r));
	m->r.fmt = ZDB_FORMAT;
	m->r.state = ZDB_STATE_FAILED; /* a new record is given its state by zdb_meta_apply() */
	m->r.name_len = (uint8_t)z->len;
	memcpy(m->name, z->wire, z->len);
	m->primary[0] = '\0';
	m->errtext[0] = '\0';
	m->key_len = (size_t)zdb_zone_key(z->wire, z->len, m->key);
}

int zdb_meta_alloc_zid(struct zdb *db, MDB_txn *txn, struct zdb_zmeta *m)
{
	return zdb_counter_next(db, txn, "next_zid", &m->r.zid);
}

int zdb_meta_decode(const MDB_val *v, struct zdb_zmeta *m)
{
	const uint8_t *p = v->mv_data;
	if (v->mv_size < sizeof(m->r)) {
		return ZX_ESTORE;
	}
	memcpy(&m->r, p, sizeof(m->r));
	const struct zdb_zrec *r = &m->r;
	if (r->fmt != ZDB_FORMAT || r->primary_len >= ZDB_PRIMARY_MAX ||
	    r->errtext_len >= ZDB_ERRTEXT_MAX || r->soa_rdlen > ZDB_SOA_MAX ||
	    v->mv_size != sizeof(*r) + r->name_len + r->primary_len + r->errtext_len +
	                          r->soa_rdlen) {
		zdb_set_error("zone record: bad format");
		return ZX_ESTORE;
	}
	p += sizeof(*r);
	memcpy(m->name, p, r->name_len);
	p += r->name_len;
	memcpy(m->primary, p, r->primary_len);
	m->primary[r->primary_len] = '\0';
	p += r->primary_len;
	memcpy(m->errtext, p, r->errtext_len);
	m->errtext[r->errtext_len] = '\0';
	p += r->errtext_len;
	memcpy(m->soa, p, r->soa_rdlen);
	return 0;
}

int zdb_meta_get(struct zdb *db, MDB_txn *txn, const struct zdb_zname *z, struct zdb_zmeta *m)
{
	uint8_t key[ZDB_KEY_MAX];
	int klen = zdb_zone_key(z->wire, z->len, key);
	MDB_val k = {(size_t)klen, key}, v;
	int rc = mdb_get(txn, db->zones, &k, &v);
	if (rc == MDB_NOTFOUND) {
		return ZX_ENOTFOUND;
	}
	rc = zdb_mdb_err(rc, "mdb_get zone");
	if (rc == 0) {
		rc = zdb_meta_decode(&v, m);
	}
	if (rc == 0) {
		memcpy(m->key, key, (size_t)klen);
		m->key_len = (size_t)klen;
	}
	return rc;
}

int zdb_meta_put(struct zdb *db, MDB_txn *txn, const struct zdb_zmeta *m)
{
	struct zdb_zrec r = m->r;
	r.primary_len = (uint16_t)strlen(m->primary);
	r.errtext_len = (uint16_t)strlen(m->errtext);
	MDB_val k = {m->key_len, (void *)m->key};
	MDB_val v = {sizeof(r) + r.name_len + r.primary_len + r.errtext_len + r.soa_rdlen, NULL};
	int rc = zdb_mdb_err(mdb_put(txn, db->zones, &k, &v, MDB_RESERVE), "mdb_put zone");
	if (rc != 0) {
		return rc;
	}
	uint8_t *p = v.mv_data;
	memcpy(p, &r, sizeof(r));
	p += sizeof(r);
	memcpy(p, m->name, r.name_len);
	p += r.name_len;
	memcpy(p, m->primary, r.primary_len);
	p += r.primary_len;
	memcpy(p, m->errtext, r.errtext_len);
	p += r.errtext_len;
	memcpy(p, m->soa, r.soa_rdlen);
	return 0;
}

void zdb_meta_info(const struct zdb_zmeta *m, struct zdb_zone_info *out)
{
	const struct zdb_zrec *r = &m->r;
	memset(out, 0, sizeof(*out));
	memcpy(out->name, m->name, r->name_len);
	out->name_len = r->name_len;
	out->loaded = r->loaded != 0;
	out->rclass = r->rclass;
	out->serial = r->serial;
	out->soa_ttl = r->soa_ttl;
	out->soa_rdlen = r->soa_rdlen;
	memcpy(out->soa_rdata, m->soa, r->soa_rdlen);
	out->records = r->records;
	out->version = r->vid;
	out->state = (enum zdb_state)r->state;
	out->last_success = r->last_success;
	out->last_attempt = r->last_attempt;
	out->refresh_due = r->refresh_due;
	out->last_error = r->last_error;
	memcpy(out->last_error_text, m->errtext, strlen(m->errtext) + 1);
	memcpy(out->primary, m->primary, strlen(m->primary) + 1);
	out->journal_count = r->journal_count;
	out->journal_bytes = r->journal_bytes;
	out->journal_first = r->journal_first;
	out->journal_last = r->journal_last;
	out->corrupt = r->loaded != 0 && r->corrupt_vid != 0 && r->corrupt_vid == r->vid;
	out->removed_at = r->state == ZDB_STATE_REMOVED ? (int64_t)r->removed_at : 0;
}

/* ---------------------------------------------------------------- open / close */

void zdb_opts_init(struct zdb_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->map_size = ZDB_DEFAULT_MAP_SIZE;
	o->sync = ZDB_SYNC_NOMETA;
	o->journal_count = ZDB_DEFAULT_JOURNAL_COUNT;
	o->journal_bytes = ZDB_DEFAULT_JOURNAL_BYTES;
	o->chunk_records = ZDB_DEFAULT_CHUNK_RECORDS;
	o->chunk_bytes = ZDB_DEFAULT_CHUNK_BYTES;
	o->max_readers = 126;
	o->gc_thread = true;
}

static int take_writer_lock(struct zdb *db, const char *path)
{
	char lp[4096];
	if (mkdir(path, 0750) != 0 && errno != EEXIST) {
		zdb_set_error("mkdir %s: %s", path, strerror(errno));
		return ZX_EIO;
	}
	if ((size_t)snprintf(lp, sizeof(lp), "%s/writer.lock", path) >= sizeof(lp)) {
		zdb_set_error("store path too long");
		return ZX_EINVAL;
	}
	db->lock_fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (db->lock_fd < 0) {
		zdb_set_error("open %s: %s", lp, strerror(errno));
		return ZX_EIO;
	}
	if (flock(db->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		zdb_set_error("%s: %s", lp,
		              e == EWOULDBLOCK ? "another process writes this store" : strerror(e));
		return e == EWOULDBLOCK ? ZX_EAGAIN : ZX_EIO;
	}
	return 0;
}

/*
 * The data file must reach the last page its meta page names: LMDB maps the file
 * and a page past its end is a SIGBUS at the first read, in every process.
 */
static int check_size(struct zdb *db, const char *path)
{
	MDB_envinfo ei;
	MDB_stat st;
	struct stat sb;
	int fd = -1;
	int rc = mdb_env_info(db->env, &ei);
	if (rc == 0) {
		rc = mdb_env_stat(db->env, &st);
	}
	if (rc == 0) {
		rc = mdb_env_get_fd(db->env, &fd);
	}
	if (rc != 0) {
		return zdb_mdb_err(rc, "mdb_env_info");
	}
	if (fstat(fd, &sb) != 0) {
		zdb_set_error("%s/data.mdb: fstat: %s", path, strerror(errno));
		return ZX_EIO;
	}
	uint64_t need = ((uint64_t)ei.me_last_pgno + 1) * st.ms_psize;
	if ((uint64_t)sb.st_size < need) {
		zdb_set_error("%s/data.mdb is truncated: %lld bytes, its meta page names %llu "
		              "(%zu pages of %u bytes); restore the file, or remove the store "
		              "and let xfrd transfer the zones again", path, (long long)sb.st_size,
		              (unsigned long long)need, ei.me_last_pgno + 1, st.ms_psize);
		return ZX_ESTORE;
	}
	return 0;
}

int zdb_usage(struct zdb *db, struct zdb_usage *out)
{
	assert(db != NULL && out != NULL);
	MDB_envinfo ei;
	MDB_stat st;
	int rc = mdb_env_info(db->env, &ei);
	if (rc == 0) {
		rc = mdb_env_stat(db->env, &st);
	}
	if (rc != 0) {
		return zdb_mdb_err(rc, "mdb_env_info");
	}
	out->map_bytes = ei.me_mapsize;
	out->used_bytes = ((uint64_t)ei.me_last_pgno + 1) * st.ms_psize;
	return 0;
}

static int env_create(struct zdb *db, const struct zdb_opts *o)
{
	int rc = zdb_mdb_err(mdb_env_create(&db->env), "mdb_env_create");
	if (rc != 0) {
		return rc;
	}
	rc = zdb_mdb_err(mdb_env_set_maxdbs(db->env, 8), "mdb_env_set_maxdbs");
	if (rc == 0 && o->map_size > 0) {
		rc = zdb_mdb_err(mdb_env_set_mapsize(db->env, o->map_size), "mdb_env_set_mapsize");
	}
	if (rc == 0 && o->max_readers > 0) {
		rc = zdb_mdb_err(mdb_env_set_maxreaders(db->env, o->max_readers),
		                 "mdb_env_set_maxreaders");
	}
	if (rc != 0) {
		return rc;
	}
	unsigned flags = MDB_NOTLS;
	if (o->readonly) {
		flags |= MDB_RDONLY;
	} else if (o->sync == ZDB_SYNC_NOMETA) {
		flags |= MDB_NOMETASYNC;
	} else if (o->sync == ZDB_SYNC_NONE) {
		flags |= MDB_NOSYNC;
	}
	rc = mdb_env_open(db->env, o->path, flags, 0640);
	if (rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH) {
		zdb_set_error("%s: not an LMDB store of this version (%s)", o->path,
		              mdb_strerror(rc));
		return ZX_ESTORE;
	}
	rc = zdb_mdb_err(rc, "mdb_env_open");
	return rc != 0 ? rc : check_size(db, o->path);
}

static int check_format(struct zdb *db, MDB_txn *txn)
{
	MDB_val k = {6, (void *)"format"}, v;
	uint32_t fmt = ZDB_FORMAT;
	int rc = mdb_get(txn, db->meta, &k, &v);
	if (rc == MDB_NOTFOUND && !db->readonly) {
		v = (MDB_val){sizeof(fmt), &fmt};
		return zdb_mdb_err(mdb_put(txn, db->meta, &k, &v, 0), "mdb_put format");
	}
	if (rc != 0) {
		return rc == MDB_NOTFOUND ? ZX_ESTORE : zdb_mdb_err(rc, "mdb_get format");
	}
	if (v.mv_size == sizeof(fmt)) {
		memcpy(&fmt, v.mv_data, sizeof(fmt));
	}
	if (v.mv_size == sizeof(fmt) && fmt == ZDB_FORMAT_V1 && !db->readonly) {
		return zdb_upgrade_v1(db, txn); /* in this transaction: all or nothing */
	}
	if (v.mv_size == sizeof(fmt) && fmt == ZDB_FORMAT_V1) {
		zdb_set_error("store format 1 (no checksums yet): start xfrd once on it, which "
		              "upgrades it to format %u", ZDB_FORMAT);
		return ZX_ESTORE;
	}
	if (v.mv_size != sizeof(fmt) || fmt != ZDB_FORMAT) {
		zdb_set_error("store format %u, this program reads %u", fmt, ZDB_FORMAT);
		return ZX_ESTORE;
	}
	return 0;
}

static int open_dbis(struct zdb *db)
{
	MDB_txn *txn;
	unsigned flags = db->readonly ? 0 : MDB_CREATE;
	int rc = zdb_mdb_err(mdb_txn_begin(db->env, NULL, db->readonly ? MDB_RDONLY : 0, &txn),
	                     "mdb_txn_begin");
	if (rc != 0) {
		return rc;
	}
	const char *names[] = {"meta", "zones", "versions", "rr", "journal"};
	MDB_dbi *dbis[] = {&db->meta, &db->zones, &db->versions, &db->rr, &db->journal};
	for (size_t i = 0; i < 5 && rc == 0; i++) {
		rc = mdb_dbi_open(txn, names[i], flags, dbis[i]);
		if (rc == MDB_NOTFOUND) {
			zdb_set_error("no zone store here (database %s missing)", names[i]);
			rc = ZX_ENOENT;
		} else {
			rc = zdb_mdb_err(rc, "mdb_dbi_open");
		}
	}
	if (rc == 0) {
		rc = check_format(db, txn);
	}
	if (rc != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	return zdb_mdb_err(mdb_txn_commit(txn), "mdb_txn_commit");
}

int zdb_open(const struct zdb_opts *o, struct zdb **out)
{
	errbuf[0] = '\0';
	if (o == NULL || o->path == NULL || out == NULL || o->chunk_records == 0 ||
	    o->chunk_bytes < 4096) {
		zdb_set_error("zdb_open: bad options");
		return ZX_EINVAL;
	}
	struct zdb *db = calloc(1, sizeof(*db));
	if (db == NULL) {
		return ZX_ENOMEM;
	}
	db->lock_fd = -1;
	db->readonly = o->readonly;
	pthread_mutex_init(&db->gc_mu, NULL);
	pthread_cond_init(&db->gc_cv, NULL);
	pthread_mutex_init(&db->grp_mu, NULL);
	pthread_mutex_init(&db->pin_mu, NULL);
	db->map_size = o->map_size;
	db->journal_count = o->journal_bytes == 0 ? 0 : o->journal_count;
	db->journal_bytes = o->journal_count == 0 ? 0 : o->journal_bytes;
	db->chunk_records = o->chunk_records;
	db->chunk_bytes = o->chunk_bytes;
	int rc = o->readonly ? 0 : take_writer_lock(db, o->path);
	if (rc == 0) {
		rc = env_create(db, o);
	}
	if (rc == 0) {
		rc = open_dbis(db);
	}
	if (rc == 0 && !o->readonly) {
		rc = zdb_recover(db);
	}
	if (rc == 0 && !o->readonly && o->gc_thread) {
		rc = zdb_gc_start(db);
	}
	if (rc != 0) {
		zdb_close(db);
		return rc;
	}
	*out = db;
	return 0;
}

unsigned zdb_max_readers(const struct zdb *db)
{
	unsigned n = 0;
	return mdb_env_get_maxreaders(db->env, &n) == 0 ? n : 0;
}

void zdb_close(struct zdb *db)
{
	if (db == NULL) {
		return;
	}
	zdb_gc_stop(db);
	pthread_mutex_destroy(&db->gc_mu);
	pthread_cond_destroy(&db->gc_cv);
	pthread_mutex_destroy(&db->grp_mu);
	pthread_mutex_destroy(&db->pin_mu);
	if (db->env != NULL) {
		mdb_env_close(db->env);
	}
	if (db->lock_fd >= 0) {
		close(db->lock_fd); /* releases the flock */
	}
	free(db);
}
