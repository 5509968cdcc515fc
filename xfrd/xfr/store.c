/* SPDX-License-Identifier: MIT */
/* xfrd/xfr/store.c -- struct xfr_store_ops over common/zdb. */
#include "xfrd/xfr/store.h"

#include "common/metrics.h"
#include "common/store/zdb.h"

#include <stdlib.h>
#include <string.h>

struct txn {
	bool axfr;
	struct zdb_axfr *a;
	struct zdb_ixfr *x;
};

static int zone_get(void *store, const uint8_t *zone, struct xfr_held *out)
{
	struct zdb_snap *s = NULL;
	struct zdb_zone_info *info = malloc(sizeof(*info));
	if (info == NULL) {
		return ZX_ENOMEM;
	}
	int rc = zdb_snap_begin(store, &s);
	if (rc == 0) {
		rc = zdb_zone_get(s, zone, info);
		zdb_snap_end(s);
	}
	if (rc == ZX_ENOTFOUND) {
		memset(out, 0, sizeof(*out));
		rc = 0;
	} else if (rc == 0) {
		out->loaded = info->loaded;
		out->corrupt = info->loaded && info->corrupt;
		out->serial = info->loaded ? info->serial : 0;
		out->soa_rdlen = info->loaded ? info->soa_rdlen : 0;
		memcpy(out->soa_rdata, info->soa_rdata, out->soa_rdlen);
	}
	free(info);
	return rc;
}

static int begin(void *store, const uint8_t *zone, bool axfr, enum zdb_serial_rule rule,
                 void **txn)
{
	struct txn *t = calloc(1, sizeof(*t));
	if (t == NULL) {
		return ZX_ENOMEM;
	}
	t->axfr = axfr;
	int rc = axfr ? zdb_axfr_begin(store, zone, &t->a) : zdb_ixfr_begin(store, zone, &t->x);
	if (rc != 0) {
		free(t);
		return rc;
	}
	if (axfr) {
		zdb_axfr_set_rule(t->a, rule);
	} else {
		zdb_ixfr_set_rule(t->x, rule);
	}
	*txn = t;
	return 0;
}

static int put(void *txn, enum xfrstream_ev ev, const struct xfrstream_rr *in)
{
	struct txn *t = txn;
	struct zdb_rr rr = {
		.owner = in->owner, .owner_len = in->owner_len, .type = in->type,
		.rclass = in->rclass, .ttl = in->ttl, .rdlen = (uint16_t)in->rdlen,
		.rdata = in->rdata,
	};
	switch (ev) {
	case XFRSTREAM_BEGIN_AXFR:
	case XFRSTREAM_ADD:
		if (t->axfr) {
			return zdb_axfr_add(t->a, &rr);
		}
		return zdb_ixfr_add(t->x, &rr);
	case XFRSTREAM_ADD_SOA:
		return zdb_ixfr_add(t->x, &rr);
	case XFRSTREAM_DEL_SOA:
	case XFRSTREAM_DEL:
		return zdb_ixfr_del(t->x, &rr);
	case XFRSTREAM_BEGIN_IXFR:
	case XFRSTREAM_UPTODATE:
	case XFRSTREAM_END:
		return 0;
	}
	return ZX_EINVAL;
}

static int commit(void *txn, int64_t now, const char *primary, struct zdb_commit *res)
{
	struct txn *t = txn;
	int rc = t->axfr ? zdb_axfr_commit(t->a, now, primary, res)
	                 : zdb_ixfr_commit(t->x, now, primary, res);
	free(t);
	return rc;
}

static bool movable(const void *txn)
{
	const struct txn *t = txn;
	return t->axfr || !zdb_ixfr_holds_lock(t->x);
}

static void txn_abort(void *txn)
{
	struct txn *t = txn;
	if (t->axfr) {
		zdb_axfr_abort(t->a);
	} else {
		zdb_ixfr_abort(t->x);
	}
	free(t);
}

/* The store's state machine decides: an expired zone stays expired (common/store/zdb.h). */
static int zone_fail(void *store, const uint8_t *zone, int64_t now, int err, const char *text,
                     const char *primary, enum zdb_state *after)
{
	struct zdb_event_info info = {.err = err, .text = text, .primary = primary};
	struct zdb_transition t;
	int rc = zdb_zone_event(store, zone, ZDB_EV_FAILED, now, &info, &t);
	*after = rc == 0 ? t.after : ZDB_STATE_FAILED;
	return rc;
}

static int zone_fresh(void *store, const uint8_t *zone, int64_t now, enum zdb_state *after)
{
	struct zdb_transition t;
	int rc = zdb_zone_event(store, zone, ZDB_EV_UPTODATE, now, NULL, &t);
	*after = rc == 0 ? t.after : ZDB_STATE_FAILED;
	return rc;
}

static void set_follow(void *txn)
{
	struct txn *t = txn;
	if (t->axfr) {
		zdb_axfr_set_follow(t->a);
	} else {
		zdb_ixfr_set_follow(t->x);
	}
}

static int zone_followed(void *store, const uint8_t *zone, int64_t now, const char *source,
                         enum zdb_state *after)
{
	struct zdb_transition t;
	struct zdb_event_info info = {.primary = source};
	int rc = zdb_zone_event(store, zone, ZDB_EV_FOLLOWED, now, &info, &t);
	*after = rc == 0 ? t.after : ZDB_STATE_FAILED;
	return rc;
}

const struct xfr_store_ops store_ops = {
	.zone_get = zone_get,
	.begin = begin,
	.set_follow = set_follow,
	.followed = zone_followed,
	.put = put,
	.commit = commit,
	.movable = movable,
	.abort = txn_abort,
	.fail = zone_fail,
	.fresh = zone_fresh,
	.error = zdb_last_error,
};

/* ---------------------------------------------------------------- metrics */

static double used_bytes(void *arg)
{
	struct zdb_usage u;
	return zdb_usage(arg, &u) == 0 ? (double)u.used_bytes : 0.0;
}

static double map_bytes(void *arg)
{
	struct zdb_usage u;
	return zdb_usage(arg, &u) == 0 ? (double)u.map_bytes : 0.0;
}

int store_metrics(struct metrics *m, struct zdb *db)
{
	int rc = metrics_gauge_cb(m, "xfrd_store_used_bytes", NULL,
	                          "Bytes of the store's map in use, up to its last page.",
	                          used_bytes, db);
	if (rc == 0) {
		rc = metrics_gauge_cb(m, "xfrd_store_size_bytes", NULL,
		                      "The store's map size (store-size): the most it may use.",
		                      map_bytes, db);
	}
	return rc;
}
