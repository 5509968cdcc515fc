/* SPDX-License-Identifier: MIT */
/* common/store/zdb_state.c -- the zone state machine (every transition is made here: the
 * commits call zdb_meta_apply() too), zone removal, and the deletion of dropped
 * versions (garbage collection, crash recovery).
 */
#include "common/store/zdb.h"
#include "common/store/zdb_internal.h"

#include <assert.h>
#include <string.h>
#include <time.h>

/* Events that need data loaded. */
static bool needs_data(enum zdb_event ev)
{
	return ev == ZDB_EV_UPTODATE || ev == ZDB_EV_EXPIRED || ev == ZDB_EV_CORRUPT ||
	       ev == ZDB_EV_FOLLOWED;
}

int zdb_state_next(enum zdb_state before, bool exists, bool loaded, bool last_ok,
                   enum zdb_event ev, enum zdb_state *after)
{
	if ((unsigned)ev > ZDB_EV_ANNOUNCED) {
		return ZX_EINVAL;
	}
	bool expired = exists && before == ZDB_STATE_EXPIRED;
	bool removed = exists && before == ZDB_STATE_REMOVED;
	if (ev == ZDB_EV_REMOVED || ev == ZDB_EV_RESTORED) {
		if (!exists) {
			return ZX_ENOTFOUND;
		}
		if (ev == ZDB_EV_RESTORED && !removed) {
			return ZX_EINVAL;
		}
		*after = ev == ZDB_EV_REMOVED ? ZDB_STATE_REMOVED
		         : loaded && last_ok  ? ZDB_STATE_FRESH
		                              : ZDB_STATE_FAILED;
		return 0;
	}
	if (needs_data(ev) && !loaded) {
		return ZX_ENOTFOUND;
	}
	if (removed) {
		*after = ZDB_STATE_REMOVED; /* only RESTORED leaves it */
		return 0;
	}
	switch (ev) {
	case ZDB_EV_COMMITTED:
	case ZDB_EV_UPTODATE:
		*after = ZDB_STATE_FRESH;
		return 0;
	case ZDB_EV_FOLLOWED:
		*after = ZDB_STATE_FOLLOWING;
		return 0;
	case ZDB_EV_ANNOUNCED:
	case ZDB_EV_FAILED:
	case ZDB_EV_CORRUPT:
		*after = expired                 ? ZDB_STATE_EXPIRED
		         : ev == ZDB_EV_ANNOUNCED ? ZDB_STATE_BEHIND
		                                 : ZDB_STATE_FAILED;
		return 0;
	case ZDB_EV_EXPIRED:
		*after = ZDB_STATE_EXPIRED;
		return 0;
	case ZDB_EV_REMOVED:
	case ZDB_EV_RESTORED:
		break; /* above */
	}
	return ZX_EINVAL;
}

int zdb_meta_apply(struct zdb_zmeta *m, bool exists, enum zdb_event ev, int64_t now,
                   const struct zdb_event_info *info)
{
	enum zdb_state after;
	int rc = zdb_state_next((enum zdb_state)m->r.state, exists, exists && m->r.loaded,
	                        m->r.last_error == 0, ev, &after);
	if (rc != 0) {
		return rc;
	}
	bool was_removed = m->r.state == ZDB_STATE_REMOVED;
	m->r.state = (uint8_t)after;
	if (ev == ZDB_EV_ANNOUNCED) {
		/* not an attempt: what the source announced, for whoever looks */
		const char *text = info != NULL ? info->text : NULL;
		zdb_meta_set_text(m->errtext, sizeof(m->errtext), text != NULL ? text : "");
		return 0;
	}
	if (ev == ZDB_EV_REMOVED || ev == ZDB_EV_RESTORED) {
		/* not attempts: the zone's times stay as they were */
		m->r.removed_at = ev == ZDB_EV_RESTORED ? 0
		                  : was_removed         ? m->r.removed_at
		                                        : (uint32_t)(now > 0 ? now : 1);
		return 0;
	}
	if (ev != ZDB_EV_EXPIRED) { /* an expiry is not an attempt: the retry timer runs on */
		m->r.last_attempt = now;
		m->r.refresh_due = 0; /* refreshed (or tried): no longer overdue */
	}
	switch (ev) {
	case ZDB_EV_COMMITTED:
	case ZDB_EV_UPTODATE:
	case ZDB_EV_FOLLOWED:
		if (ev == ZDB_EV_COMMITTED || (info != NULL && info->new_version)) {
			m->r.corrupt_vid = 0; /* a new version */
		}
		m->r.last_success = now;
		m->r.last_error = 0;
		m->errtext[0] = '\0';
		break;
	case ZDB_EV_FAILED:
	case ZDB_EV_CORRUPT: {
		int err = ev == ZDB_EV_CORRUPT ? ZX_ECORRUPT : info != NULL ? info->err : 0;
		const char *text = info != NULL ? info->text : NULL;
		m->r.last_error = err;
		zdb_meta_set_text(m->errtext, sizeof(m->errtext),
		                  text != NULL ? text : err != 0 ? zx_strerror(err) : "");
		if (ev == ZDB_EV_CORRUPT) {
			m->r.corrupt_vid = m->r.vid;
		}
		break;
	}
	case ZDB_EV_EXPIRED:
	case ZDB_EV_REMOVED:
	case ZDB_EV_RESTORED:
	case ZDB_EV_ANNOUNCED:
		break;
	}
	const char *primary = info != NULL ? info->primary : NULL;
	if (primary != NULL && (ev == ZDB_EV_FAILED || ev == ZDB_EV_COMMITTED ||
	                        ev == ZDB_EV_FOLLOWED)) {
		zdb_meta_set_text(m->primary, sizeof(m->primary), primary);
	}
	return 0;
}

int zdb_zone_event(struct zdb *db, const uint8_t *zone, enum zdb_event ev, int64_t now,
                   const struct zdb_event_info *info, struct zdb_transition *out)
{
	assert(db != NULL);
	if (ev == ZDB_EV_COMMITTED || (unsigned)ev > ZDB_EV_ANNOUNCED) {
		zdb_set_error("zdb_zone_event: event %d is not for this call", (int)ev);
		return ZX_EINVAL;
	}
	struct zdb_zname z;
	struct zdb_zmeta m;
	MDB_txn *txn;
	int rc = zdb_zname_init(&z, zone);
	if (rc == 0) {
		rc = zdb_wtxn_begin(db, &txn);
	}
	if (rc != 0) {
		return rc;
	}
	rc = zdb_meta_get(db, txn, &z, &m);
	bool exists = rc == 0;
	struct zdb_transition t = {.existed = exists, .before = exists ? (enum zdb_state)m.r.state
	                                                               : ZDB_STATE_FAILED};
	if (rc == ZX_ENOTFOUND && (ev == ZDB_EV_FAILED || ev == ZDB_EV_ANNOUNCED)) {
		zdb_meta_new(&m, &z);
		rc = zdb_meta_alloc_zid(db, txn, &m);
	}
	if (rc == 0 && ev == ZDB_EV_CORRUPT && info == NULL) {
		rc = ZX_EINVAL; /* which version? */
	}
	if (rc == 0 && ev == ZDB_EV_CORRUPT && m.r.loaded && m.r.vid != info->version) {
		zdb_set_error("version %u is no longer the zone's (now %u)", info->version, m.r.vid);
		rc = ZX_EAGAIN;
	}
	if (rc == 0) {
		rc = zdb_meta_apply(&m, exists, ev, now, info);
		if (rc == ZX_ENOTFOUND) {
			zdb_set_error("zdb_zone_event: nothing loaded for this event");
		}
	}
	if (rc == 0) {
		rc = zdb_meta_put(db, txn, &m);
	}
	if (rc != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	rc = zdb_wtxn_commit(txn);
	if (rc == 0 && out != NULL) {
		t.after = (enum zdb_state)m.r.state;
		*out = t;
	}
	return rc;
}

int zdb_zone_overdue(struct zdb *db, const uint8_t *zone, int64_t due)
{
	assert(db != NULL);
	if (due <= 0 || due > (int64_t)UINT32_MAX) {
		zdb_set_error("zdb_zone_overdue: due time %lld out of range", (long long)due);
		return ZX_EINVAL;
	}
	struct zdb_zname z;
	struct zdb_zmeta m;
	MDB_txn *txn;
	int rc = zdb_zname_init(&z, zone);
	if (rc == 0) {
		rc = zdb_wtxn_begin(db, &txn);
	}
	if (rc != 0) {
		return rc;
	}
	rc = zdb_meta_get(db, txn, &z, &m);
	if (rc != 0 || (m.r.refresh_due != 0 && m.r.refresh_due <= (uint32_t)due)) {
		mdb_txn_abort(txn); /* no record, or marked since earlier: nothing to write */
		return rc;
	}
	m.r.refresh_due = (uint32_t)due;
	rc = zdb_meta_put(db, txn, &m);
	if (rc != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	return zdb_wtxn_commit(txn);
}

int zdb_zone_delete(struct zdb *db, const uint8_t *zone)
{
	assert(db != NULL);
	struct zdb_zname z;
	struct zdb_zmeta m;
	MDB_txn *txn;
	int rc = zdb_zname_init(&z, zone);
	if (rc != 0) {
		return rc;
	}
	rc = zdb_wtxn_begin(db, &txn);
	if (rc != 0) {
		return rc;
	}
	rc = zdb_meta_get(db, txn, &z, &m);
	if (rc == 0) {
		rc = zdb_journal_clear(db, txn, &m);
	}
	if (rc == 0 && m.r.vid != 0) {
		rc = zdb_version_put(db, txn, m.r.vid,
		                     m.r.corrupt_vid == m.r.vid ? ZDB_V_CORRUPT : ZDB_V_DEAD, &z);
	}
	if (rc == 0) {
		MDB_val k = {m.key_len, m.key};
		rc = zdb_mdb_err(mdb_del(txn, db->zones, &k, NULL), "mdb_del zone");
	}
	if (rc != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	rc = zdb_wtxn_commit(txn);
	if (rc == 0 && m.r.vid != 0) {
		zdb_gc_kick(db);
	}
	return rc;
}

/*
 * Delete up to *budget records of version @p vid; *budget is decreased.
 * Returns 1 when the version has no records left, 0 when the budget ran out.
 */
static int drop_records(struct zdb *db, MDB_txn *txn, uint32_t vid, size_t *budget)
{
	MDB_cursor *c;
	uint8_t prefix[4];
	zdb_be32(prefix, vid);
	int rc = zdb_mdb_err(mdb_cursor_open(txn, db->rr, &c), "mdb_cursor_open");
	if (rc != 0) {
		return rc;
	}
	MDB_val k = {sizeof(prefix), prefix}, v;
	int mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (mrc == 0 && k.mv_size >= 4 && memcmp(k.mv_data, prefix, 4) == 0) {
		if (*budget == 0) {
			break;
		}
		mrc = mdb_cursor_del(c, 0);
		if (mrc != 0) {
			break;
		}
		(*budget)--;
		mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	if (mrc == 0 && *budget == 0 && k.mv_size >= 4 && memcmp(k.mv_data, prefix, 4) == 0) {
		rc = 0; /* more left */
	} else if (mrc == 0 || mrc == MDB_NOTFOUND) {
		rc = 1;
	} else {
		rc = zdb_mdb_err(mrc, "mdb_cursor_del");
	}
	mdb_cursor_close(c);
	return rc;
}

/* One pass over the DEAD versions within @p budget; returns 1 when work is left. */
static int gc_txn(struct zdb *db, MDB_txn *txn, size_t budget)
{
	MDB_cursor *c;
	MDB_val k, v;
	int more = 0;
	int rc = zdb_mdb_err(mdb_cursor_open(txn, db->versions, &c), "mdb_cursor_open");
	if (rc != 0) {
		return rc;
	}
	int mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	for (; mrc == 0; mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		const uint8_t *val = v.mv_data;
		if (k.mv_size != 4 || v.mv_size < 1 || val[0] != ZDB_V_DEAD ||
		    zdb_pinned(db, zdb_rd32(k.mv_data))) {
			continue; /* a pinned one: zdb_pin_drop() kicks the gc again */
		}
		if (budget == 0) {
			more = 1;
			break;
		}
		rc = drop_records(db, txn, zdb_rd32(k.mv_data), &budget);
		if (rc < 0) {
			break;
		}
		if (rc == 0) {
			more = 1;
			break;
		}
		rc = zdb_mdb_err(mdb_cursor_del(c, 0), "mdb_cursor_del version");
		if (rc != 0) {
			break;
		}
	}
	mdb_cursor_close(c);
	if (rc < 0) {
		return rc;
	}
	if (mrc != 0 && mrc != MDB_NOTFOUND) {
		return zdb_mdb_err(mrc, "mdb_cursor_get version");
	}
	return more;
}

int zdb_gc(struct zdb *db, size_t budget)
{
	assert(db != NULL);
	MDB_txn *txn;
	if (budget == 0) {
		zdb_set_error("zdb_gc: budget 0");
		return ZX_EINVAL;
	}
	int rc = zdb_wtxn_begin(db, &txn);
	if (rc != 0) {
		return rc;
	}
	int more = gc_txn(db, txn, budget);
	if (more < 0) {
		mdb_txn_abort(txn);
		return more;
	}
	rc = zdb_wtxn_commit(txn);
	return rc != 0 ? rc : more;
}

/* Mark every WRITING version DEAD: we hold the writer lock, so their writer is gone. */
static int mark_leftovers(struct zdb *db)
{
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, v;
	int rc = zdb_wtxn_begin(db, &txn);
	if (rc != 0) {
		return rc;
	}
	rc = zdb_mdb_err(mdb_cursor_open(txn, db->versions, &c), "mdb_cursor_open");
	int mrc = rc == 0 ? mdb_cursor_get(c, &k, &v, MDB_FIRST) : MDB_NOTFOUND;
	for (; mrc == 0; mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		const uint8_t *val = v.mv_data;
		if (v.mv_size >= 1 && val[0] == ZDB_V_WRITING) {
			uint8_t nv[1 + DNAME_MAXLEN];
			size_t n = v.mv_size > sizeof(nv) ? sizeof(nv) : v.mv_size;
			memcpy(nv, val, n);
			nv[0] = ZDB_V_DEAD;
			MDB_val dv = {n, nv};
			mrc = mdb_cursor_put(c, &k, &dv, MDB_CURRENT);
			if (mrc != 0) {
				break;
			}
		}
	}
	if (rc == 0) {
		mdb_cursor_close(c);
		rc = mrc == MDB_NOTFOUND ? 0 : zdb_mdb_err(mrc, "mdb_cursor_put version");
	}
	if (rc != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	return zdb_wtxn_commit(txn);
}

int zdb_recover(struct zdb *db)
{
	int dead = 0;
	int rc = zdb_mdb_err(mdb_reader_check(db->env, &dead), "mdb_reader_check");
	if (rc == 0) {
		rc = mark_leftovers(db);
	}
	while (rc == 0) {
		rc = zdb_gc(db, db->chunk_records);
		if (rc == 1) {
			rc = 0;
		} else {
			break;
		}
	}
	return rc;
}

/* ---------------------------------------------------------------- the gc thread */

static void *gc_main(void *arg)
{
	struct zdb *db = arg;
	pthread_mutex_lock(&db->gc_mu);
	while (!db->gc_stop) {
		if (!db->gc_work) {
			pthread_cond_wait(&db->gc_cv, &db->gc_mu);
			continue;
		}
		db->gc_work = false;
		int rc = 1;
		while (rc == 1 && !db->gc_stop) {
			pthread_mutex_unlock(&db->gc_mu);
			rc = zdb_gc(db, db->chunk_records);
			/* a breath between chunks, so other zones' commits get the lock */
			nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
			pthread_mutex_lock(&db->gc_mu);
		}
		/* an error (map full, ...) is retried at the next kick */
	}
	pthread_mutex_unlock(&db->gc_mu);
	return NULL;
}

int zdb_gc_start(struct zdb *db)
{
	if (pthread_create(&db->gc, NULL, gc_main, db) != 0) {
		zdb_set_error("pthread_create gc");
		return ZX_ENOMEM;
	}
	db->gc_started = true;
	return 0;
}

void zdb_gc_stop(struct zdb *db)
{
	if (!db->gc_started) {
		return;
	}
	pthread_mutex_lock(&db->gc_mu);
	db->gc_stop = true;
	pthread_cond_signal(&db->gc_cv);
	pthread_mutex_unlock(&db->gc_mu);
	pthread_join(db->gc, NULL);
	db->gc_started = false;
}

/* There are versions to delete: wake the gc thread (if there is one). */
void zdb_gc_kick(struct zdb *db)
{
	if (!db->gc_started) {
		return;
	}
	pthread_mutex_lock(&db->gc_mu);
	db->gc_work = true;
	pthread_cond_signal(&db->gc_cv);
	pthread_mutex_unlock(&db->gc_mu);
}
