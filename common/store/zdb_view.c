/* SPDX-License-Identifier: MIT */
/* common/store/zdb_view.c -- point lookups in one zone version (zdb.h, "point lookups").
 *
 * A name's RRsets are the keys vid | owner key | type, and the owner key ends
 * with one 0x00 more than the labels it encodes (zdb_internal.h), so:
 *   - the name's own RRsets are the keys that are vid | owner key plus two bytes;
 *   - its descendants are the keys that start with vid | owner key less its last
 *     0x00, followed by a non-zero byte (a label byte: escaped, never 0x00).
 * One MDB_SET_RANGE on vid | owner key lands on the first of either when there
 * is one, which is what zdb_view_name() reads.
 */
#include "common/store/zdb.h"
#include "common/store/zdb_internal.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

struct zdb_view {
	struct zdb *db;
	MDB_txn *txn;
	MDB_cursor *c;
	struct zdb_zname z;
	uint32_t vid;
	uint16_t rclass;
	/* the name zdb_view_name() looked up last, for zdb_view_next() */
	uint8_t key[ZDB_KEY_MAX]; /**< vid | owner key */
	size_t key_len;
	const uint8_t *name;      /**< the caller's; borrowed */
	size_t name_len;
	int walk;                 /**< 0 nothing to walk, 1 cursor on the first RRset, 2 walking */
};

int zdb_view_open(struct zdb_snap *s, const uint8_t *zone, struct zdb_view **out)
{
	assert(s != NULL && out != NULL);
	struct zdb_zmeta m;
	struct zdb_view *v = calloc(1, sizeof(*v));
	if (v == NULL) {
		return ZX_ENOMEM;
	}
	v->db = zdb_snap_db(s);
	v->txn = zdb_snap_txn(s);
	int rc = zdb_zname_init(&v->z, zone);
	if (rc == 0) {
		rc = zdb_meta_get(v->db, v->txn, &v->z, &m);
	}
	if (rc == 0 && !m.r.loaded) {
		zdb_set_error("zone not loaded");
		rc = ZX_ENOTFOUND;
	}
	if (rc == 0 && m.r.corrupt_vid != 0 && m.r.corrupt_vid == m.r.vid) {
		zdb_set_error("version %u of the zone was found corrupt (%s); a retransfer "
		              "fetches it again", m.r.vid, m.errtext);
		rc = ZX_ECORRUPT;
	}
	if (rc == 0) {
		rc = zdb_mdb_err(mdb_cursor_open(v->txn, v->db->rr, &v->c), "mdb_cursor_open");
	}
	if (rc != 0) {
		free(v);
		return rc;
	}
	v->vid = m.r.vid;
	v->rclass = m.r.rclass;
	*out = v;
	return 0;
}

void zdb_view_free(struct zdb_view *v)
{
	if (v == NULL) {
		return;
	}
	mdb_cursor_close(v->c);
	free(v);
}

/* vid | owner key of @p name into @p key; its length or ZX_EFORMAT. */
static int name_key(const struct zdb_view *v, const uint8_t *name, size_t name_len, uint8_t *key)
{
	if (name == NULL || name_len == 0 || name_len > DNAME_MAXLEN) {
		zdb_set_error("owner: not a valid name of the given length");
		return ZX_EFORMAT;
	}
	zdb_be32(key, v->vid);
	int n = zdb_owner_key(&v->z, name, name_len, key + 4);
	return n < 0 ? n : 4 + n;
}

static int bad_key(void)
{
	zdb_set_error("a record key that does not decode (the store's file is damaged)");
	return ZX_ECORRUPT;
}

int zdb_view_name(struct zdb_view *v, const uint8_t *name, size_t name_len,
                  enum zdb_name_kind *kind)
{
	assert(v != NULL && kind != NULL);
	v->walk = 0;
	int klen = name_key(v, name, name_len, v->key);
	if (klen < 0) {
		return klen;
	}
	v->key_len = (size_t)klen;
	MDB_val k = {v->key_len, v->key}, d;
	int mrc = mdb_cursor_get(v->c, &k, &d, MDB_SET_RANGE);
	if (mrc == MDB_NOTFOUND) {
		*kind = ZDB_NAME_NONE;
		return 0;
	}
	int rc = zdb_mdb_err(mrc, "mdb_cursor_get rr");
	if (rc != 0) {
		return rc;
	}
	const uint8_t *kp = k.mv_data;
	size_t own = v->key_len - 1; /* vid | owner key without its closing 0x00 */
	if (k.mv_size >= v->key_len && memcmp(kp, v->key, v->key_len) == 0) {
		if (k.mv_size != v->key_len + 2) {
			return bad_key(); /* a key of this name, but not name | type */
		}
		*kind = ZDB_NAME_DATA;
		v->name = name;
		v->name_len = name_len;
		v->walk = 1;
	} else if (k.mv_size > own && memcmp(kp, v->key, own) == 0 && kp[own] != 0) {
		*kind = ZDB_NAME_EMPTY;
	} else {
		*kind = ZDB_NAME_NONE;
	}
	return 0;
}

static void rrset_of(const struct zdb_view *v, const uint8_t *name, size_t name_len,
                     uint16_t stored_type, const MDB_val *d, struct zdb_rrset *out)
{
	*out = (struct zdb_rrset){.owner = name, .owner_len = name_len,
	                          .type = stored_type == 0 ? 6 : stored_type, .rclass = v->rclass,
	                          .data = d->mv_data, .len = d->mv_size};
}

int zdb_view_next(struct zdb_view *v, struct zdb_rrset *out)
{
	assert(v != NULL && out != NULL);
	if (v->walk == 0) {
		return 0;
	}
	MDB_val k, d;
	int mrc = mdb_cursor_get(v->c, &k, &d, v->walk == 1 ? MDB_GET_CURRENT : MDB_NEXT);
	v->walk = 2;
	if (mrc == MDB_NOTFOUND) {
		v->walk = 0;
		return 0;
	}
	int rc = zdb_mdb_err(mrc, "mdb_cursor_get rr");
	if (rc != 0) {
		return rc;
	}
	if (k.mv_size < v->key_len || memcmp(k.mv_data, v->key, v->key_len) != 0) {
		v->walk = 0;
		return 0; /* past the name's RRsets */
	}
	if (k.mv_size != v->key_len + 2) {
		return bad_key();
	}
	rrset_of(v, v->name, v->name_len, zdb_rd16((const uint8_t *)k.mv_data + v->key_len), &d,
	         out);
	return 1;
}

int zdb_view_rrset(struct zdb_view *v, const uint8_t *name, size_t name_len, uint16_t type,
                   struct zdb_rrset *out)
{
	assert(v != NULL && out != NULL);
	uint8_t key[ZDB_KEY_MAX + 2];
	int klen = name_key(v, name, name_len, key);
	if (klen < 0) {
		return klen;
	}
	if (type == 0) {
		return ZX_ENOTFOUND; /* the SOA's key: no RRset has type 0 */
	}
	uint16_t stored = type == 6 ? 0 : type;
	zdb_be16(key + klen, stored);
	MDB_val k = {(size_t)klen + 2, key}, d;
	int mrc = mdb_get(v->txn, v->db->rr, &k, &d);
	if (mrc == MDB_NOTFOUND) {
		return ZX_ENOTFOUND;
	}
	int rc = zdb_mdb_err(mrc, "mdb_get rr");
	if (rc == 0) {
		rrset_of(v, name, name_len, stored, &d, out);
	}
	return rc;
}

int zdb_rrset_next(const struct zdb_rrset *set, size_t *off, struct zdb_rr *rr)
{
	assert(set != NULL && off != NULL && rr != NULL);
	if (*off >= set->len) {
		return 0;
	}
	const uint8_t *p = set->data + *off;
	size_t left = set->len - *off;
	if (left < 6 || left - 6 < zdb_rd16(p + 4)) {
		zdb_set_error("an RRset value that does not decode (the store's file is damaged)");
		return ZX_ECORRUPT;
	}
	uint16_t rdlen = zdb_rd16(p + 4);
	*rr = (struct zdb_rr){.owner = set->owner, .owner_len = set->owner_len, .type = set->type,
	                      .rclass = set->rclass, .ttl = zdb_rd32(p), .rdlen = rdlen,
	                      .rdata = p + 6};
	*off += 6 + (size_t)rdlen;
	return 1;
}
